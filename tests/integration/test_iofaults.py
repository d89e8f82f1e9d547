"""Failing writes, fsyncs and allocations inside a running office node
(the test build's fault VFS, lib/faultvfs.h): node B starts with
OUTPOST_TEST_HOOKS_IOFAULT_FILE, and the test arms "every N-th write / sync /
allocation fails" by writing that file and disarms it by removing it.  The
syncs include the group commit's fdatasync of the WAL (node_commit.c).

While B takes check-ins over HTTP and pulls office A's check-ins from the
hub, every round of faults must hold:

  * never a false 2xx: every check-in B answered 201 for is in B's database
    and reaches the hub; every other answer is a 5xx with a JSON error;
  * never a partial batch: once the faults stop, B and the hub hold the same
    check-ins (a pulled page applied in part, its cursor moved past the rest,
    or a captured write saved without its outbox entry would leave one side
    short for good), and B's database passes integrity_check;
  * recovery within one sync interval: the first sync cycle to succeed after
    the faults stop brings both sides level (B's sync interval is 250 ms in
    the test build; the time it took goes to tests/out/iofault-figures.txt).
"""
import json
import os
import threading
import time
import unittest
import uuid

import harness
from harness import Daemon, run_tool, plant_secret

SYNC_MS = 250
B_WRITES = 30  # check-ins at the faulty node a round
# Periods that let some writes through and fail others (a check-in writes
# about ten pages and makes a few hundred allocations).
ROUNDS = ["write=97", "sync=3", "malloc=307", "write=151 sync=5 malloc=499"]
if os.environ.get("OUTPOST_LONG"):
    ROUNDS += ["write=%d" % n for n in (7, 13, 53)] + \
              ["sync=%d" % n for n in (2, 7)] + ["malloc=%d" % n for n in (41, 151, 997)]


def enroll(hub, node):
    harness.enroll(hub, node, log="iofault")


def ids(d, tag):
    db = d.db()
    try:
        return {r[0] for r in db.execute(
            "SELECT id FROM checkins WHERE visitor_name LIKE ?", ("IO %s %%" % tag,))}
    finally:
        db.close()


def wait_for(cond, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


class IoFaultTest(unittest.TestCase):
    def checkin(self, node, tag, k):
        try:
            return node.post("/api/v1/checkins", {
                "visitor_name": "IO %s %d %s" % (tag, k, uuid.uuid4().hex[:6]),
                "reason_ids": [node.reason_id], "language": "en"}, timeout=30)
        except OSError as e:
            self.fail("node %s: a check-in got no answer (%r); log:\n%s" % (
                node.name, e, node.read_log()[-3000:]))

    def test_faults_in_writes_pulls_and_group_commit(self):
        env = {"OUTPOST_TEST_HOOKS_SYNC_MS": str(SYNC_MS), "OUTPOST_NODE_SYNC_INTERVAL": "1"}
        fault_file = os.path.join(harness.OUT, "iofault-%d.spec" % os.getpid())
        if os.path.exists(fault_file):
            os.unlink(fault_file)
        hub = Daemon("hub", env=env).start()
        a = Daemon("node", env=env)
        b = Daemon("node", env=dict(env, OUTPOST_TEST_HOOKS_IOFAULT_FILE=fault_file))
        figures = []
        try:
            for n in (a, b):
                n.start()
                enroll(hub, n)
                harness.login(n)
                n.reason_id = n.get("/api/v1/greeter/reasons").json()[0]["id"]
            acked_a, acked_b = set(), set()
            total_refused = 0
            for r, spec in enumerate(ROUNDS):
                refused = {}
                before = len(acked_b)
                with open(fault_file, "w") as f:
                    f.write(spec)
                time.sleep(0.1)  # the VFS looks at the file every 20 ms

                def office_a():
                    for k in range(10):
                        x = self.checkin(a, "A", k)
                        self.assertEqual(x.status, 201, x)
                        acked_a.add(x.json()["id"])

                t = threading.Thread(target=office_a)
                t.start()
                # B's own writes, while its sync pulls A's under the same faults.
                for k in range(B_WRITES):
                    x = self.checkin(b, "B", r * 100 + k)
                    if x.status == 201:
                        acked_b.add(x.json()["id"])
                        continue
                    self.assertIn(x.status, (500, 507), "%s: %r" % (spec, x))
                    self.assertIn("error", x.json(), x)
                    refused[x.status] = refused.get(x.status, 0) + 1
                t.join(120)
                # Then B only pulls, under the same faults: A writes again and B's
                # cycles (outbox empty once pushed) apply the pages.
                t = threading.Thread(target=office_a)
                t.start()
                t.join(120)
                self.assertTrue(wait_for(lambda: acked_a <= ids(hub, "A"), 120),
                                "office A's check-ins did not reach the hub")
                time.sleep(1.5)  # a few of B's cycles, pulling under faults
                self.assertTrue(b.proc.poll() is None, "node B ended under '%s'; log:\n%s" % (
                    spec, b.read_log()[-3000:]))
                # Never a false 2xx: what B acknowledged is in its database now.
                self.assertEqual(acked_b - ids(b, "B"), set(), "acknowledged, not saved")
                # The faults stop; the first successful cycle after that levels B.
                os.unlink(fault_file)
                time.sleep(0.1)
                t0 = time.time()
                t0_ms = t0 * 1000
                self.assertTrue(wait_for(
                    lambda: (b.get("/api/v1/sync/status").json().get("last_success_ms") or 0)
                    > t0_ms, 120), "node B did not sync again after '%s'" % spec)
                took = time.time() - t0
                hub_b, b_b = ids(hub, "B"), ids(b, "B")
                b_a = ids(b, "A")
                self.assertEqual(acked_b - hub_b, set(), "%s: acknowledged check-ins of B "
                                 "not at the hub after its first good cycle" % spec)
                self.assertEqual(b_b - hub_b, set(), "%s: check-ins saved at B (answered "
                                 "5xx) never pushed: a write without its outbox entry" % spec)
                self.assertEqual(hub_b - b_b, set(), spec)
                self.assertEqual(ids(hub, "A") - b_a, set(), "%s: B did not get every check-"
                                 "in of A in its first good cycle (a partial pull?)" % spec)
                total_refused += sum(refused.values())
                figures.append("%s: %d of %d acknowledged, refused %s, first good sync %.2f s "
                               "after the faults stopped" % (spec, len(acked_b) - before,
                                                             B_WRITES, json.dumps(refused),
                                                             took))
            # The rounds failed some writes and let others through.
            self.assertGreater(total_refused, 0, figures)
            self.assertGreater(len(acked_b), 0, figures)
            b.stop()
            db = b.db()
            try:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            finally:
                db.close()
            self.assertEqual(ids(b, "A"), ids(hub, "A"))
            self.assertEqual(ids(b, "B"), ids(hub, "B"))
        finally:
            with open(os.path.join(harness.OUT, "iofault-figures.txt"), "a") as f:
                for line in figures:
                    f.write(line + "\n")
            if os.path.exists(fault_file):
                os.unlink(fault_file)
            for n in (a, b, hub):
                n.cleanup()


if __name__ == "__main__":
    unittest.main()
