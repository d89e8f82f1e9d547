"""Wrong clocks: two office nodes whose wall clocks are a day ahead and a day
behind the hub's (the test build's clock offset, OUTPOST_TEST_HOOKS_CLOCK_FILE,
lib/clock.c), then stepped by two days the other way while they sync.

  * no write is lost: every acknowledged check-in is at the hub and on both
    offices, once;
  * merges follow causality (the hybrid logical clock), never the wall
    clock: a visit called at the node a day ahead and then served at the
    node a day behind, which had seen the call, ends "serving" everywhere
    (wall-clock last-writer-wins would keep "called"); after the steps the
    node now behind closes it, and "done" stands;
  * expiries do not follow the office's wall clock: a signed-in session
    survives its node's clock jumping two days forward (sessions run on the
    monotonic clock), and a sign-in after the steps is not refused as
    "offline too long".
"""
import os
import tempfile
import time
import unittest
import uuid

import harness
from harness import Daemon, plant_secret, run_tool

DAY = 86400 * 1000
SYNC_MS = 250


def set_clock(path, offset_ms):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % offset_ms)
    os.replace(tmp, path)
    time.sleep(0.3)  # read again within 100 ms


q = harness.rows


def wait_for(what, fn, timeout=60):
    return harness.wait_until(fn, timeout, 0.1, what)


class ClockSkewTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="outpost-clock-")
        self.clock = {k: os.path.join(self.tmp, k + ".offset") for k in ("A", "B")}
        set_clock(self.clock["A"], DAY)
        set_clock(self.clock["B"], -DAY)
        env = {"OUTPOST_TEST_HOOKS_SYNC_MS": str(SYNC_MS), "OUTPOST_NODE_SYNC_INTERVAL": "1"}
        self.hub = Daemon("hub", env=env).start()
        self.nodes = {}
        for k in ("A", "B"):
            e = dict(env, OUTPOST_TEST_HOOKS_CLOCK_FILE=self.clock[k])
            self.nodes[k] = Daemon("node", env=e).start()

    def tearDown(self):
        for n in self.nodes.values():
            n.cleanup()
        self.hub.cleanup()
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def enroll(self, node):
        harness.enroll(self.hub, node, log="clock")

    def checkin(self, node, tag):
        name = "Clock %s %s" % (tag, uuid.uuid4().hex[:8])
        r = node.post("/api/v1/checkins", {"visitor_name": name, "language": "en",
                                           "reason_ids": [self.reason]}, timeout=30)
        self.assertEqual(r.status, 201, r)
        return r.json()["id"]

    def act(self, node, cid, action):
        r = node.post("/api/v1/checkins/%s/action" % cid, {"action": action}, timeout=30)
        self.assertEqual(r.status, 200, r)

    def status_everywhere(self, cid, status):
        try:
            return wait_for("%s %s everywhere" % (cid, status), lambda: all(
                q(d, "SELECT status FROM checkins WHERE id=?", cid) == [(status,)]
                for d in [self.hub] + list(self.nodes.values())))
        except AssertionError:
            raise AssertionError("not %s everywhere: %s; conflicts at the hub %r" % (status, "; ".join(
                "%s %r" % (d.name, q(d, "SELECT status, updated_hlc FROM checkins WHERE id=?", cid))
                for d in [self.hub] + list(self.nodes.values())), q(
                    self.hub, "SELECT tbl, column_name, local_value, remote_value, winner "
                              "FROM conflicts WHERE row_id=?", cid)))

    def test_skewed_and_stepped_clocks(self):
        a, b = self.nodes["A"], self.nodes["B"]
        for n in (a, b):
            self.enroll(n)
        for n in (a, b):
            harness.login(n)
        self.reason = a.get("/api/v1/greeter/reasons").json()[0]["id"]
        # The nodes' own clocks, as they report them, are a day off each way.
        hub_t = self.hub.get("/healthz").json()["time_ms"]
        self.assertGreater(q(a, "SELECT 1")[0][0], 0)
        acked = [self.checkin(n, k) for k, n in self.nodes.items() for _ in range(5)]
        # A (a day ahead) calls a visit; B (a day behind) sees the call and
        # serves it: B's write is later in causality though 48 h earlier on
        # the wall.
        x = self.checkin(a, "causal")
        acked.append(x)
        self.act(a, x, "call")
        try:
            wait_for("B to see the call", lambda: q(b, "SELECT status FROM checkins WHERE id=?",
                                                    x) == [("called",)])
        except AssertionError:
            raise AssertionError("B never saw the call: hub %r, A %r, B %r; B's cursor %r, "
                                 "B holds %d clock check-ins, B status %r" % (
                q(self.hub, "SELECT status, updated_hlc, visit_date FROM checkins WHERE id=?", x),
                q(a, "SELECT status, updated_hlc, visit_date FROM checkins WHERE id=?", x),
                q(b, "SELECT status, updated_hlc FROM checkins WHERE id=?", x),
                q(b, "SELECT value FROM node_meta WHERE key='sync_cursor'"),
                q(b, "SELECT count(*) FROM checkins WHERE visitor_name LIKE 'Clock %'")[0][0],
                b.get("/api/v1/sync/status").json()))
        self.act(b, x, "serve")
        self.status_everywhere(x, "serving")
        hlc_b = q(self.hub, "SELECT updated_hlc FROM checkins WHERE id=?", x)[0][0]
        # Step the clocks while the offices keep syncing: A back two days,
        # B forward two days.
        set_clock(self.clock["A"], -DAY)
        set_clock(self.clock["B"], DAY)
        acked += [self.checkin(n, "stepped " + k) for k, n in self.nodes.items()
                  for _ in range(5)]
        wait_for("A to see the serve", lambda: q(a, "SELECT status FROM checkins WHERE id=?", x)
                 == [("serving",)])
        self.act(a, x, "done")  # A's wall clock is now behind every stamp it saw
        self.status_everywhere(x, "done")
        hlc_done = q(self.hub, "SELECT updated_hlc FROM checkins WHERE id=?", x)[0][0]
        self.assertGreater(hlc_done, hlc_b, "the hybrid clock went backwards")
        # Sessions signed in before the steps still work (B's clock jumped
        # two days forward: a wall-clock idle timeout would have ended it).
        for n in (a, b):
            r = n.get("/api/v1/checkins")
            self.assertEqual(r.status, 200, r)
        # A fresh sign-in after the steps is not "offline too long".
        for n in (a, b):
            harness.login(harness.client(n))
        # Nothing lost, nothing twice, nothing quarantined.
        for d in [self.hub, a, b]:
            have = wait_for("every check-in on %s" % d.name, lambda d=d: (lambda ids: ids if set(
                acked) <= ids else None)({r[0] for r in q(d, "SELECT id FROM checkins WHERE "
                                                             "visitor_name LIKE 'Clock %'")}))
            self.assertEqual(len(have), len(acked))
            self.assertEqual(q(d, "PRAGMA integrity_check"), [("ok",)])
        self.assertEqual(q(self.hub, "SELECT count(*) FROM quarantine")[0][0]
                         if q(self.hub, "SELECT name FROM sqlite_master WHERE name='quarantine'")
                         else 0, 0)
        self.assertGreater(hub_t, 0)


class ManualPullClockTest(unittest.TestCase):
    """A node that does not sync itself (sync_interval 0; IT runs
    `outpost-sync pull` beside it) and whose wall clock steps a day back
    while it runs: the stamps the command pulled still come before its next
    edit.  It read them only in its own sync cycle, so its edit of a visit
    it had just pulled carried an older stamp and lost at the hub to the
    write it followed; and the hub, whose row did not change, never sent the
    row back, so the office kept its own value for good (verify: mismatch)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="outpost-clock-")
        self.clock = os.path.join(self.tmp, "B.offset")
        set_clock(self.clock, 0)
        env = {"OUTPOST_NODE_SYNC_INTERVAL": "0"}
        self.hub = Daemon("hub").start()
        self.a = harness.enrolled_node(self.hub, "demo-office", env, "clockman")
        self.b = harness.enrolled_node(self.hub, "demo-office",
                                       dict(env, OUTPOST_TEST_HOOKS_CLOCK_FILE=self.clock),
                                       "clockman")
        for n in (self.a, self.b):
            self.sync(n, "pull")  # the staff accounts, before signing in
            harness.login(n)

    def tearDown(self):
        for n in (self.a, self.b):
            n.cleanup()
        self.hub.cleanup()
        for f in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, f))
        os.rmdir(self.tmp)

    def sync(self, node, *what):
        """outpost-sync push, pull, or both in turn, on node."""
        for w in what or ("push", "pull"):
            p = run_tool([w, "--data", node.data], name="clockman")
            self.assertEqual(p.returncode, 0, (w, p.stdout, p.stderr))

    def test_pulled_stamps_come_first(self):
        a, b = self.a, self.b
        reason = a.get("/api/v1/greeter/reasons").json()[0]["id"]
        r = a.post("/api/v1/checkins", {"visitor_name": "Manual Clock", "language": "en",
                                        "reason_ids": [reason]})
        self.assertEqual(r.status, 201, r)
        x = r.json()["id"]
        self.sync(a)
        self.sync(b)
        set_clock(self.clock, -DAY)  # B's wall clock steps back while it runs
        self.assertEqual(a.post("/api/v1/checkins/%s/action" % x, {"action": "call"}).status, 200)
        self.sync(a)
        self.sync(b)
        self.assertEqual(q(b, "SELECT status FROM checkins WHERE id=?", x), [("called",)])
        # B serves the visit it saw called: later in causality than the call.
        self.assertEqual(b.post("/api/v1/checkins/%s/action" % x, {"action": "serve"}).status, 200)
        self.assertGreater(q(b, "SELECT updated_hlc FROM checkins WHERE id=?", x)[0][0],
                           q(a, "SELECT updated_hlc FROM checkins WHERE id=?", x)[0][0])
        for n in (b, a, b):
            self.sync(n)
        for d in (self.hub, a, b):
            self.assertEqual(q(d, "SELECT status FROM checkins WHERE id=?", x), [("serving",)],
                             d.name)
        for n in (a, b):
            p = run_tool(["verify", "--data", n.data], name="clockman")
            self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))

    def test_hub_writes_follow_stored_stamps(self):
        """The hub stamps a write of its own after every office stamp it
        holds, after a restart and after an `import` run beside it, not
        only after a push it met itself.  Its clock started from the wall
        clock and only pushes moved it, so a hand-over made after either
        could be stamped behind the edit it overwrote: that edit's column
        clock stayed in force, and an office's later edit of the handed-over
        value lost to it as a conflict.  An office two, then six, hours
        ahead; the hub's write is a grant of approver roles."""
        b, hub = self.b, self.hub
        token = harness.admin_token(hub)
        staff = q(hub, "SELECT id FROM staff WHERE username=?", harness.DEMO_USER)[0][0]

        def grant(roles):
            r = hub.request("PUT", "/api/v1/admin/case/approver-roles",
                            body={"staff_id": staff, "roles": roles},
                            headers={"Authorization": "Bearer " + token})
            self.assertEqual(r.status, 200, r)
            return q(hub, "SELECT max(updated_hlc) FROM case_approver_roles WHERE staff_id=?",
                     staff)[0][0]

        def stamp_at_hub(cid):
            return q(hub, "SELECT updated_hlc FROM checkins WHERE id=?", cid)[0][0]

        set_clock(self.clock, 2 * 3600 * 1000)
        x, _ = harness.checkin_change(b, "Stamp Restart")
        self.sync(b, "push")
        hub.stop()
        hub.start()
        self.assertGreater(grant(["edd"]), stamp_at_hub(x))
        set_clock(self.clock, 6 * 3600 * 1000)
        y, _ = harness.checkin_change(b, "Stamp Import")
        bundle = os.path.join(self.tmp, "office.bundle")
        p = run_tool(["export", "--out", bundle, "--data", b.data], name="clockman")
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        p = run_tool([os.path.join(harness.BIN, "outpost-hub"), "import", bundle,
                      "--data", hub.data], name="hub")
        self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
        self.assertGreater(stamp_at_hub(y), stamp_at_hub(x))
        last = grant(["edd", "wdb_director"])
        self.assertGreater(last, stamp_at_hub(y))
        # A hub from before the mark sets it from its rows at its start.
        hub.stop()
        harness.db_write(hub, "DELETE FROM sync_ctx WHERE k='max_hlc'")
        hub.start()
        self.assertEqual(q(hub, "SELECT v FROM sync_ctx WHERE k='max_hlc'"), [(last,)])


if __name__ == "__main__":
    unittest.main()
