"""A running office node syncing with a running hub, and outpost-sync as IT
staff use it: the node pushes and pulls by itself, pull waits for an empty
outbox, the node keeps working with the hub down (backing off, not spinning)
and catches up when it returns, revocation, the one-line messages and exit
codes of outpost-sync (unreachable hub, wrong pinned key, revoked node,
unknown schema version, pending changes), conflicts between two nodes of one
office, offline bundles (export at the node, import at the hub, twice), the
--json output of every subcommand and the progress bar.

Real processes on loopback; the hub's view is read both from hub.db and
through signed requests built here from sync/sync.h.
"""
import contextlib
import json
import os
import re
import pty
import select
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import test_hub
import harness
from harness import BIN, Daemon, login, plant_secret, run_tool, without_ids

# outpost-sync exit codes (sync/tool.h, `outpost-sync --help`, README).
EXIT_OK, EXIT_USAGE, EXIT_CONFIG, EXIT_UNREACHABLE, EXIT_AUTH = 0, 1, 2, 3, 4
EXIT_PIN, EXIT_SCHEMA, EXIT_MISMATCH, EXIT_OTHER, EXIT_PENDING = 5, 6, 7, 8, 9


def wait_for(fn, timeout=30, step=0.2, what="condition"):
    return harness.wait_until(fn, timeout, step, what)


def hub_tool(hub, *args, **kw):
    return run_tool([os.path.join(BIN, "outpost-hub")] + list(args) + ["--data", hub.data],
                    name="hub", **kw)


def sync(node, *args, **kw):
    return run_tool(list(args) + ["--data", node.data], **kw)


def hooks_built():
    """The sanitizer test build: crash points and the hooks' bounds."""
    with open(os.path.join(BIN, "outpost-sync"), "rb") as f:
        return b"OUTPOST_FAULT" in f.read()


TEST_HOOKS = hooks_built()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Office:
    """Start and enroll nodes with a hub; keep every daemon for clean-up."""

    def __init__(self, test):
        self.test = test
        self.daemons = []

    def hub(self):
        h = Daemon("hub").start()
        self.daemons.append(h)
        return h

    def code(self, hub, office="demo-office"):
        p = hub_tool(hub, "enroll-code", "--office", office)
        self.test.assertEqual(p.returncode, 0, p.stderr)
        code = p.stdout.decode().strip()
        plant_secret(code)
        return code

    def node(self, hub, office="demo-office", start=True):
        """Enroll first (as README says), then start the node."""
        n = Daemon("node")
        self.daemons.append(n)
        p = sync(n, "enroll", "--hub", hub.url, "--code", self.code(hub, office), "--json")
        self.test.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(n.data, "sync.json")) as f:
            ident = json.load(f)
        plant_secret(ident["node_secret"])
        n.node_id = ident["node_id"]
        n.ident = ident
        if start:
            n.start()
            login(n)
            # Signing in is itself a change for the hub (a login audit
            # event): let it go out, so each test counts its own writes from
            # an empty outbox.
            deadline = time.time() + 30
            while n.get("/api/v1/sync/status").json().get("pending") != 0:
                if time.time() > deadline:
                    self.test.fail("the sign-in's audit event never reached the hub")
                time.sleep(0.25)
        return n

    def synced_node(self, hub, office="demo-office"):
        """node(), then wait until it has taken its snapshot from the hub."""
        n = self.node(hub, office)
        wait_for(lambda: status(n)["cursor"] is not None, what="the node's snapshot")
        return n

    def close(self):
        for d in reversed(self.daemons):
            d.cleanup()


def checkin(node, name):
    reasons = node.get("/api/v1/greeter/reasons").json()
    r = node.post("/api/v1/checkins", {"visitor_name": name, "reason_ids": [reasons[0]["id"]],
                                       "language": "en"})
    assert r.status == 201, r
    return r.json()["id"]


def count(daemon, sql, *args):
    db = daemon.db()
    try:
        return db.execute(sql, args).fetchone()[0]
    finally:
        db.close()


def rogue_last(node, office_id):
    """An entry the hub holds in quarantine (a row of offices, a table the
    hub alone writes) put last in node's outbox (node stopped)."""
    rogue = test_hub.changeset_insert(
        "offices", [1, 0, 0, 0, 0, 0, 0, 0],
        [office_id, "demo-la", "Rogue office", None, "America/Los_Angeles", 1, 1,
         "0190a0000000.0000.x"])
    harness.db_write(node, "INSERT INTO outbox(hlc, actor, created_at, schema_version, nbytes,"
                           " changeset) SELECT hlc, actor, created_at, schema_version, ?, ?"
                           " FROM outbox ORDER BY seq DESC LIMIT 1", len(rogue), rogue)


def pending_by_cli(node):
    """What `outpost-sync status --json` says waits for the hub (the figure
    the push then reports: check-ins and the sign-in audit events)."""
    p = sync(node, "status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["pending"]


def offline_backlog(hub, node, name, k):
    """k check-ins written at node while the hub is down; then the node stops
    (so only the test pushes) and the hub comes back.  Their ids, and what
    the outbox holds (the check-ins and any sign-in audit events)."""
    hub.stop()
    ids = [checkin(node, "%s %d" % (name, i)) for i in range(k)]
    node.stop()
    hub.start()
    return ids, pending_by_cli(node)


@contextlib.contextmanager
def busy_desk(step, pause):
    """step() in a thread of its own, again every `pause` seconds, for as
    long as the with-block runs: a front desk at work."""
    stop = threading.Event()

    def run():
        while not stop.is_set():
            step()
            stop.wait(pause)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(30)


def cycles_done(node):
    """The node's background sync cycles since it started (/metrics)."""
    r = node.get("/metrics")
    assert r.status == 200, r
    m = re.search(rb"^outpost_node_sync_cycles_total (\S+)$", r.body, re.M)
    assert m, r.body[:200]
    return float(m.group(1))


def status(node):
    r = node.get("/api/v1/sync/status")
    assert r.status == 200, r
    return r.json()


def hub_view(hub, node):
    """The hub's GET /api/v1/sync/status for node, signed with its secret."""
    e = test_hub.Enrolled(hub, {"node_id": node.node_id,
                                "node_secret": node.ident["node_secret"],
                                "schema_version": hub.get("/healthz").json()["schema_version"]})
    r = e.request("GET", "/api/v1/sync/status")
    assert r.status == 200, r
    return r.json()


class OfficeTest(unittest.TestCase):
    """Each test gets self.o, an Office, closed after it."""

    def setUp(self):
        self.o = Office(self)

    def tearDown(self):
        self.o.close()


class SyncNodeTest(OfficeTest):

    def one_line_failure(self, p, code, *words):
        """p failed with exit code `code` and said so in one line on stderr."""
        err = p.stderr.decode().strip()
        self.assertEqual(p.returncode, code, (p.stdout, err))
        lines = [x for x in err.splitlines() if not x.startswith("20")]  # log lines
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("outpost-sync: "), err)
        for w in words:
            self.assertIn(w, lines[0].lower())
        return lines[0]

    def json_failure(self, p, code, error):
        self.assertEqual(p.returncode, code, p.stderr)
        j = json.loads(p.stdout)
        self.assertEqual((j["ok"], j["error"], j["exit_code"]), (False, error, code))
        self.assertTrue(j["message"])

    # ---- the node syncs by itself ---------------------------------------------
    def test_background_push_pull_and_truthful_status(self):
        hub = self.o.hub()
        a = self.o.node(hub)
        b = self.o.node(hub)
        # Both take a snapshot by themselves.
        for n in (a, b):
            wait_for(lambda: status(n)["cursor"] is not None, what="first pull of %s" % n.name)
        # Nobody runs outpost-sync here: the node pushes within seconds by itself.
        cid = checkin(a, "Background Push")
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", cid) == 1,
                 timeout=20, what="the check-in at the hub")
        # The other node of the office pulls it by itself.
        wait_for(lambda: count(b, "SELECT count(*) FROM checkins WHERE id=?", cid) == 1,
                 timeout=20, what="the check-in at the other node")
        self.assertEqual(count(b, "SELECT visitor_name FROM checkins WHERE id=?", cid),
                         "Background Push")
        # And a write at b reaches a the same way.
        cid2 = checkin(b, "Back Again")
        wait_for(lambda: count(a, "SELECT count(*) FROM checkins WHERE id=?", cid2) == 1,
                 timeout=30, what="b's check-in at a")

        # Status tells the truth, on the node's API, outpost-sync and the hub.
        head = count(hub, "SELECT max(seq) FROM change_log")
        acked_hub = count(hub, "SELECT acked_seq FROM nodes WHERE id=?", a.node_id)
        self.assertGreaterEqual(acked_hub, 1)
        s = wait_for(lambda: (lambda s: s if s["cursor"] == count(
            hub, "SELECT max(seq) FROM change_log") and s["pending"] == 0 else None)(status(a)),
            timeout=20, what="a caught up")
        now = time.time() * 1000
        self.assertTrue(s["enrolled"])
        self.assertEqual(s["pending"], 0)
        self.assertIsNone(s["oldest_pending_age_ms"])
        self.assertEqual(s["acked_seq"] - s["seq_base"], acked_hub)
        self.assertGreaterEqual(s["head_seq"], head)
        for k in ("last_contact_ms", "last_pull_ms", "last_success_ms"):
            self.assertLess(abs(now - s[k]), 30000, (k, s[k]))
        self.assertLess(s["last_contact_age_ms"], 30000)
        self.assertEqual(s["quarantined_count"], 0)
        self.assertIsNone(s["last_error"])
        p = sync(a, "status")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        self.assertIn("pending       none", out)
        self.assertNotIn("1970", without_ids(out))
        self.assertNotIn("days ago", out)
        self.assertIn("acked         %d" % s["acked_seq"], out)
        self.assertRegex(out, r"pulled to     (\d+) of hub head (\d+)")
        j = json.loads(sync(a, "status", "--json").stdout)
        self.assertEqual(j["acked_seq"], s["acked_seq"])
        self.assertLess(abs(now - j["last_contact_ms"]), 30000)
        self.assertEqual(j["node_id"], a.node_id)
        # The hub's view of the same node.
        hv = hub_view(hub, a)
        self.assertEqual(hv["acked_seq"], acked_hub)
        self.assertGreaterEqual(hv["head_seq"], head)
        self.assertLess(abs(now - hv["last_seen_ms"]), 30000)
        self.assertEqual(hv["quarantined"], [])
        self.assertIn("pull_lag", hv)
        self.assertGreaterEqual(hv["pull_lag"], 0)


    def test_office_time_zone_set_at_the_hub(self):
        """The office's time zone is its row's at the hub: a node with the
        default setting (America/Los_Angeles) takes the zone operations set
        (PATCH /api/v1/admin/offices/ID) with its pull, and again when it
        changes while the node runs: "today" (/healthz), a check-in's
        visit_date and the zone /healthz shows follow it.  A zone whose date
        differs from Los Angeles's now is chosen (one always does), so the
        setting's zone cannot pass for the office's.  Every day is the
        daemons' (the date of the clock a /healthz gives, in a zone), not
        the machine's: a node (or a test clock) a day or a minute off the
        machine's near midnight still agrees with itself."""
        import datetime
        import zoneinfo

        def date_at(ms, tz):
            """The date in tz at a daemon's clock reading (/healthz time_ms)."""
            return datetime.datetime.fromtimestamp(ms / 1000.0, zoneinfo.ZoneInfo(tz)).date() \
                .isoformat()

        def clock(daemon):
            return daemon.get("/healthz").json()["time_ms"]

        def other_zone():
            # By the hub's clock (the nodes keep it too), at least ten
            # minutes before the next midnight of Los Angeles (office_day
            # waits when it is nearer) and of the zone: either would change
            # whether their dates differ during the test's steps.
            la = harness.office_day(hub, span=600)
            now = clock(hub)
            for tz in ("America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
                t = datetime.datetime.fromtimestamp(now / 1000.0, zoneinfo.ZoneInfo(tz))
                if date_at(now, tz) != la and 10 <= t.hour * 60 + t.minute <= 24 * 60 - 10:
                    return tz
            self.fail("no zone whose date differs from Los Angeles's now")

        def follows(node, tz):
            h = wait_for(lambda: node.get("/healthz").json()["timezone"] == tz and
                         node.get("/healthz").json(), what="the node in " + tz)
            self.assertEqual(h["today"], date_at(h["time_ms"], tz), h)
            self.assertNotEqual(h["today"], date_at(h["time_ms"], harness.OFFICE_TZ), h)
            before = clock(node)
            cid = checkin(node, "Zona Horaria")
            self.assertIn(count(node, "SELECT visit_date FROM checkins WHERE id=?", cid),
                          (date_at(before, tz), date_at(clock(node), tz)))

        hub = self.o.hub()
        token = harness.admin_token(hub)
        path = "/api/v1/admin/offices/demo-office"

        def set_zone(tz):
            r = hub.request("PATCH", path, body={"timezone": tz},
                            headers={"Authorization": "Bearer " + token})
            self.assertEqual((r.status, r.json()["timezone"]), (200, tz), r.body)

        zone = other_zone()
        set_zone(zone)
        node = self.o.node(hub)  # default settings: America/Los_Angeles
        follows(node, zone)
        self.assertIn("time zone %s, set at the hub for office 'demo-office'" % zone,
                      node.read_log())
        # Changed at the hub while the node runs: taken with the next pull,
        # back to Los Angeles and then away again.
        set_zone(harness.OFFICE_TZ)
        wait_for(lambda: node.get("/healthz").json()["timezone"] == harness.OFFICE_TZ,
                 what="the node back in " + harness.OFFICE_TZ)
        h = node.get("/healthz").json()
        self.assertEqual(h["today"], date_at(h["time_ms"], harness.OFFICE_TZ), h)
        set_zone(zone)
        follows(node, zone)
        # A node whose settings name another zone: the hub's wins, and the
        # log says so once.
        other = Daemon("node", env={"OUTPOST_NODE_TIMEZONE": "America/Denver"})
        self.o.daemons.append(other)
        harness.enroll(hub, other)
        other.start()
        wait_for(lambda: other.get("/healthz").json()["timezone"] == zone,
                 what="the second node in " + zone)
        h = other.get("/healthz").json()
        self.assertEqual(h["today"], date_at(h["time_ms"], zone), h)
        time.sleep(1)  # (more sync cycles)
        said = "the setting timezone = America/Denver is not the time zone %s set at the hub" % zone
        self.assertEqual(other.read_log().count(said), 1, other.read_log()[-2000:])

    def test_enrolled_while_running_syncs_at_once(self):
        """outpost-sync enroll beside a running stand-alone node: its first
        sync starts at once (not a sync interval later) and "Sync now"
        works before it has (it said "not connected to a hub")."""
        hub = self.o.hub()
        n = Daemon("node", args=["--sync-interval", "300"])
        self.o.daemons.append(n)
        n.start()
        login(n)
        time.sleep(1.0)  # its first cycle (after 0.5 s) finds no enrollment
        self.assertIsNone(status(n)["cursor"])
        p = sync(n, "enroll", "--hub", hub.url, "--code", self.o.code(hub), "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(n.data, "sync.json")) as f:
            plant_secret(json.load(f)["node_secret"])
        r = n.post("/api/v1/sync/now", {})
        self.assertEqual(r.status, 202, r)
        # (the snapshot replaces the stand-alone node's staff, and with them
        # the session: read its database)
        wait_for(lambda: count(n, "SELECT count(*) FROM node_meta WHERE key='sync_cursor'") == 1,
                 what="the node's snapshot", timeout=30)

    def enroll(self, n, hub, office="demo-office", *more):
        """outpost-sync enroll at node n (more: --force), its secret planted."""
        p = sync(n, "enroll", "--hub", hub.url, "--code", self.o.code(hub, office), "--json", *more)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(n.data, "sync.json")) as f:
            plant_secret(json.load(f)["node_secret"])

    def test_enrolled_again_for_another_office_moves_nothing(self):
        """A node enrolled for one office and enrolled again (--force) for
        another with a check-in still waiting: the check-in stays the first
        office's (the hub holds it for review), never filed under the second;
        the new office's own writes go through."""
        hub = self.o.hub()
        n = Daemon("node", args=["--sync-interval", "0"])
        self.o.daemons.append(n)
        self.enroll(n, hub)
        n.start()
        self.assertEqual(sync(n, "pull").returncode, 0)
        login(n)
        self.assertEqual(sync(n, "push").returncode, 0)
        waiting = checkin(n, "Written At Office One")
        self.enroll(n, hub, "demo-office-2", "--force")
        p = sync(n, "push")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=? AND office_id='demo-office-2'",
                               waiting), 0)
        self.assertGreaterEqual(count(hub, "SELECT count(*) FROM quarantine WHERE node_id=?",
                                      json.load(open(os.path.join(n.data, "sync.json")))["node_id"]), 1)

    def small_page_node(self, hub):
        """An enrolled node that syncs only when asked ("Sync now"; 300 s
        between cycles) and pulls pages of four rows: a small backlog takes
        many pages.  Started, snapshot taken, signed in."""
        b = Daemon("node", args=["--sync-interval", "300"],
                   env={"OUTPOST_TEST_HOOKS_PULL_ROWS": "4"})
        self.o.daemons.append(b)
        self.enroll(b, hub)
        b.start()
        wait_for(lambda: count(b, "SELECT count(*) FROM node_meta WHERE key='sync_cursor'") == 1,
                 what="b's snapshot")
        login(b)
        return b

    def one_cycle(self, node):
        """Ask for a cycle and wait until it has run."""
        n = cycles_done(node)
        r = node.post("/api/v1/sync/now", {})
        self.assertEqual(r.status, 202, r)
        wait_for(lambda: cycles_done(node) > n, timeout=120, what="a sync cycle")

    def test_busy_desk_pulls_whole_backlog_in_one_cycle(self):
        """A pull of many pages while the desk keeps checking visitors in.
        Office writes still in the outbox hold back only a page that names
        one of their rows, and what lands meanwhile is pushed by the pull
        itself, so one cycle brings the whole backlog.  (A check-in landed
        between nearly every page's fetch and its apply, and the pull was
        refused: a busy office took a backlog in one page a cycle.)"""
        if not TEST_HOOKS:
            self.skipTest("needs the test build (pages of a few rows)")
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        b = self.small_page_node(hub)

        backlog = [checkin(a, "Backlog Visitor %d" % i) for i in range(40)]
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                                    "'Backlog Visitor %'") == len(backlog),
                 what="a's check-ins at the hub", timeout=60)
        head = count(hub, "SELECT max(seq) FROM change_log")
        cursor = int(count(b, "SELECT value FROM node_meta WHERE key='sync_cursor'"))
        self.assertGreater(head - cursor, 40)  # more than ten pages of four

        desk = []
        with busy_desk(lambda: desk.append(checkin(b, "Walk-in %d" % len(desk))), 0.01):
            wait_for(lambda: len(desk) >= 5, what="the desk's first check-ins")
            self.one_cycle(b)
        st = status(b)
        self.assertFalse(st.get("last_error"), st)
        got = count(b, "SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                       "'Backlog Visitor %'")
        self.assertEqual(got, len(backlog), "one cycle brought %d of %d" % (got, len(backlog)))
        self.assertGreaterEqual(int(count(b, "SELECT value FROM node_meta WHERE "
                                             "key='sync_cursor'")), head)
        # nothing the desk wrote was lost: all at b, and each reaches the hub
        self.assertEqual(count(b, "SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                                  "'Walk-in %'"), len(desk))
        b.post("/api/v1/sync/now", {})
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                                    "'Walk-in %'") == len(desk),
                 what="the desk's check-ins at the hub", timeout=60)

    def test_row_edited_at_the_desk_during_its_pull_converges(self):
        """The desk keeps changing a visit while a pull brings the hub's
        edits of that same visit: a page naming it waits for the desk's
        write to be pushed and is applied after it, and the pull goes on
        until it has a page asked for after that push.  Once the desk stops,
        the node holds the row as the hub merged it, both sides' edits in."""
        if not TEST_HOOKS:
            self.skipTest("needs the test build (pages of a few rows)")
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        b = self.small_page_node(hub)
        visit = checkin(a, "Shared Visit")
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", visit) == 1,
                 what="the visit at the hub", timeout=60)
        self.one_cycle(b)
        self.assertEqual(count(b, "SELECT count(*) FROM checkins WHERE id=?", visit), 1)

        # at a: a note on the visit, among many other check-ins
        r = a.post("/api/v1/checkins/%s/action" % visit, {"action": "call", "note": "from a"})
        self.assertEqual(r.status, 200, r)
        for i in range(12):
            checkin(a, "Around %d" % i)
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE note='from a'") == 1 and
                 count(hub, "SELECT count(*) FROM checkins WHERE visitor_name LIKE 'Around %'")
                 == 12, what="a's writes at the hub", timeout=60)

        # at b: the desk calls the visit back and forth throughout the pull
        moves = []

        def move():
            for m in ("call", "requeue"):
                if b.post("/api/v1/checkins/%s/action" % visit, {"action": m}).status == 200:
                    moves.append(m)
                    return

        with busy_desk(move, 0.05):
            wait_for(lambda: len(moves) >= 4, what="the desk's first moves")
            self.one_cycle(b)
            self.one_cycle(b)
        self.assertGreater(len(moves), 4)
        self.one_cycle(b)  # the desk's last move out, the merge back
        self.one_cycle(b)
        want = "called" if moves[-1] == "call" else "waiting"
        q = "SELECT status, coalesce(note, ''), updated_hlc FROM checkins WHERE id=?"
        hub_row = hub.db().execute(q, (visit,)).fetchone()
        b_row = b.db().execute(q, (visit,)).fetchone()
        self.assertEqual(hub_row[0], want, hub_row)
        self.assertEqual(hub_row[1], "from a", hub_row)
        self.assertEqual(b_row, hub_row)
        self.assertEqual(count(b, "SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                                  "'Around %'"), 12)

    def test_pull_only_with_empty_outbox(self):
        hub = self.o.hub()
        a = self.o.node(hub)
        b = self.o.node(hub)
        wait_for(lambda: status(a)["cursor"] is not None, what="a's snapshot")
        # a stops with a change that never reached the hub.
        a_hub_pushes = count(hub, "SELECT acked_seq FROM nodes WHERE id=?", a.node_id)
        hub.stop()
        local = checkin(a, "Local Only")
        a.stop()
        hub.start()
        remote = checkin(b, "From The Other Node")
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", remote),
                 timeout=60, what="b's check-in at the hub")
        cursor = count(a, "SELECT value FROM node_meta WHERE key='sync_cursor'")
        p = sync(a, "pull")
        self.one_line_failure(p, EXIT_PENDING, "push first")
        self.assertEqual(count(a, "SELECT count(*) FROM checkins WHERE id=?", remote), 0)
        self.assertEqual(count(a, "SELECT value FROM node_meta WHERE key='sync_cursor'"), cursor)
        self.assertEqual(count(hub, "SELECT acked_seq FROM nodes WHERE id=?", a.node_id),
                         a_hub_pushes)
        self.json_failure(sync(a, "pull", "--json"), EXIT_PENDING, "local_changes_pending")
        # Push, then the pull goes through and brings b's change.  (The
        # outbox holds the check-in and any sign-in audit events.)
        p = sync(a, "push")
        self.assertEqual(p.returncode, 0, p.stderr)
        # The counts add up even when the node's own background sync got some
        # of the entries to the hub first (they are "already at the hub").
        m = re.search(rb"pushed (\d+) changes? in \d+ batch(?:es)?: (\d+) applied, (\d+) already "
                      rb"at the hub, (\d+) quarantined", p.stdout)
        self.assertIsNotNone(m, p.stdout)
        pushed, applied, skipped, quarantined = (int(x) for x in m.groups())
        self.assertGreaterEqual(pushed, 1)
        self.assertEqual(pushed, applied + skipped + quarantined, p.stdout)
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", local), 1)
        p = sync(a, "pull")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(count(a, "SELECT count(*) FROM checkins WHERE id=?", remote), 1)
        p = sync(a, "verify")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(b"in sync", p.stdout)

    def test_push_in_many_frames(self):
        """A backlog goes out in several frames, the next cut while the hub
        applies one (sync/client_push.c): every entry reaches the hub once
        and in order, and the counts add up, also when two pushes of the
        node race each other frame by frame.  The test build's
        OUTPOST_TEST_HOOKS_PUSH_ENTRIES makes frames of 2 (and 1) entries."""
        hub = self.o.hub()
        a = self.o.node(hub)
        wait_for(lambda: status(a)["cursor"] is not None, what="a's snapshot")
        first, n = offline_backlog(hub, a, "Frame Visitor", 9)
        self.assertGreaterEqual(n, 9)
        state = "SELECT CAST(value AS INTEGER) FROM sync_state WHERE key=?"

        def held_at_hub():
            """Entries of the outbox the hub already holds: the node's own
            sync may have pushed one as the hub went down, its answer lost."""
            return (count(hub, "SELECT acked_seq FROM nodes WHERE id=?", a.node_id) -
                    (count(a, state, "acked_seq") - count(a, state, "seq_base")))
        held = held_at_hub()
        self.assertIn(held, (0, 1))
        p = sync(a, "push", "--json", env={"OUTPOST_TEST_HOOKS_PUSH_ENTRIES": "2"})
        self.assertEqual(p.returncode, 0, p.stderr)
        j = json.loads(p.stdout)
        self.assertEqual((j["sent"], j["acked"], j["applied"], j["skipped"], j["pending"]),
                         (n, n, n - held, held, 0), j)
        self.assertEqual(j["batches"], (n + 1) // 2 if TEST_HOOKS else 1, j)
        # The hub took the node's entries in their order: its change log
        # names the check-ins as the node wrote them.
        db = hub.db()
        try:
            got = [r[0] for r in db.execute(
                "SELECT row_id FROM change_log WHERE tbl='checkins' AND row_id IN (%s) "
                "ORDER BY seq" % ",".join("?" * len(first)), first)]
        finally:
            db.close()
        self.assertEqual(got, first)
        self.assertEqual(count(hub, "SELECT acked_seq FROM nodes WHERE id=?", a.node_id),
                         count(a, state, "acked_seq") - count(a, state, "seq_base"))

        # Two pushes of one node at once, one entry a frame: each answer of
        # the hub is a 200 for one of them and a 409 for the other (or
        # acknowledges what the other sent), so frames cut ahead are cut
        # again; no entry is lost or applied twice.
        a.start()
        login(a)
        _, n = offline_backlog(hub, a, "Race Visitor", 12)
        # (e.g. the sign-in's audit event: skipped by both pushes below)
        held = held_at_hub()
        self.assertIn(held, (0, 1))
        env = dict(os.environ, OUTPOST_TEST_HOOKS_PUSH_ENTRIES="1")
        args = [os.path.join(BIN, "outpost-sync"), "push", "--json", "--data", a.data]
        procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                 for _ in range(2)]
        outs = [(q.communicate(timeout=120), q.returncode) for q in procs]
        applied = skipped = 0
        for (out, err), rc in outs:
            self.assertEqual(rc, 0, err)
            j = json.loads(out)
            self.assertEqual(j["quarantined"], 0, j)
            self.assertEqual(j["applied"] + j["skipped"], j["acked"], j)
            applied += j["applied"]
            skipped += j["skipped"]
        self.assertEqual(applied, n - held, outs)
        self.assertEqual(pending_by_cli(a), 0)
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                                    "'Race Visitor %'"), 12)

        # Killed at its second reply, with the third frame already on its
        # way: the hub may hold entries the outbox still has.  The next push
        # finds that out (a 409 naming what the hub holds) and ends the same.
        if TEST_HOOKS:
            a.start()
            login(a)
            third, n = offline_backlog(hub, a, "Crash Visitor", 10)
            p = sync(a, "push", env={"OUTPOST_TEST_HOOKS_PUSH_ENTRIES": "2",
                                     "OUTPOST_FAULT": "push.after_reply:2"})
            self.assertEqual(p.returncode, -9, p.stderr)
            self.assertEqual(pending_by_cli(a), n - 2)  # the first frame's ack only
            p = sync(a, "push", "--json", env={"OUTPOST_TEST_HOOKS_PUSH_ENTRIES": "2"})
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["acked"], j["pending"], j["quarantined"]), (n - 2, 0, 0), j)
            self.assertEqual(j["applied"] + j["skipped"], n - 2, j)
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id IN (%s)"
                                   % ",".join("?" * len(third)), *third), len(third))
            self.assertEqual(count(hub, "SELECT acked_seq FROM nodes WHERE id=?", a.node_id),
                             count(a, state, "acked_seq") - count(a, state, "seq_base"))
        p = sync(a, "pull")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = sync(a, "verify")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(b"in sync", p.stdout)

    def test_hub_down_node_serves_backs_off_and_catches_up(self):
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        hub.stop()
        ids = [checkin(a, "Offline %d" % i) for i in range(3)]
        # The UI and the API keep working.
        for path in ("/", "/kiosk.html", "/desk.html", "/visits.html",
                     "/api/v1/checkins?status=waiting"):
            self.assertEqual(a.get(path).status, 200, path)
        # Watch the attempts: when each failure is recorded.
        failed_at = {}
        cpu0 = cpu_seconds(a.proc.pid)
        t0 = time.time()
        s1 = None
        extra = False
        while len(failed_at) < 3 and time.time() - t0 < 60:
            s = status(a)
            k = s["consecutive_failures"]
            if k and k not in failed_at:
                failed_at[k] = time.time()
                if k == 1:
                    s1 = s
            if s1 and not extra and time.time() - failed_at[1] > 2:
                extra = True
                ids.append(checkin(a, "Offline 3"))
            time.sleep(0.1)
        cpu = cpu_seconds(a.proc.pid) - cpu0
        elapsed = time.time() - t0
        self.assertEqual(sorted(failed_at), [1, 2, 3], failed_at)
        self.assertEqual(s1["pending"], 3)
        self.assertIn("cannot reach the hub", s1["last_error"])
        s2 = status(a)
        # Pending entries grow and so does the age of the oldest.
        self.assertEqual(s2["pending"], 4)
        self.assertGreater(s2["oldest_pending_age_ms"], s1["oldest_pending_age_ms"] + 5000)
        # Backoff: the second wait is longer than the first (5 s, then 10 s,
        # each +-25 %), and a node that waits does not spin.
        first, second = failed_at[2] - failed_at[1], failed_at[3] - failed_at[2]
        self.assertGreater(first, 3)
        self.assertGreater(second, first, failed_at)
        self.assertLess(cpu, 0.25 * elapsed, "node used %.2fs of CPU in %.1fs" % (cpu, elapsed))
        # Its own API says when the next attempt comes.
        self.assertGreater(s2["next_attempt_in_ms"], 0)
        p = sync(a, "status")
        self.assertIn("pending       4 changes", p.stdout.decode())
        self.assertIn("cannot reach the hub", p.stdout.decode())
        # The hub returns (same key, same port): the node catches up by itself.
        hub.start()
        wait_for(lambda: status(a)["pending"] == 0, timeout=120, step=1,
                 what="a to push its backlog after the hub returned")
        for cid in ids:
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", cid), 1)
        # The outbox empties when the push commits; the cycle it belongs to
        # still pulls before it counts as a success (a CI run read the status
        # in between).
        wait_for(lambda: status(a)["consecutive_failures"] == 0, timeout=60, step=0.2,
                 what="a's sync cycle to end well once the hub returned")
        s = status(a)
        self.assertIsNone(s["last_error"])
        self.assertIsNone(s["oldest_pending_age_ms"])

    # ---- outpost-sync: messages and exit codes -----------------------------------
    def test_exit_codes_and_messages(self):
        hub = self.o.hub()
        a = self.o.node(hub, start=False)
        # Not enrolled.
        with tempfile.TemporaryDirectory() as d:
            p = run_tool(["push", "--data", d])
            self.one_line_failure(p, EXIT_CONFIG, "not enrolled")
            self.json_failure(run_tool(["push", "--data", d, "--json"]), EXIT_CONFIG,
                              "config")
        p = run_tool(["frobnicate"])
        self.assertEqual(p.returncode, EXIT_USAGE)
        a.start()
        login(a)
        wait_for(lambda: status(a)["cursor"] is not None, what="a's snapshot")
        checkin(a, "Exit Codes")
        # Unreachable hub.
        hub.stop()
        p = sync(a, "push")
        self.one_line_failure(p, EXIT_UNREACHABLE, "cannot reach the hub")
        self.json_failure(sync(a, "push", "--json"), EXIT_UNREACHABLE, "unreachable")
        # Another hub (another key) on the same address: the pin refuses it.
        other = Daemon("hub")
        other.port = hub.port
        self.o.daemons.append(other)
        other.start()
        p = sync(a, "push")
        self.one_line_failure(p, EXIT_PIN, "not the one pinned")
        self.json_failure(sync(a, "verify", "--json"), EXIT_PIN, "pin_mismatch")
        self.assertEqual(count(other, "SELECT count(*) FROM nodes"), 0)
        other.stop()
        hub.start()
        # Unknown schema version: entries written by a newer node.
        a.stop()
        harness.db_write(a, "UPDATE outbox SET schema_version=schema_version+100")
        p = sync(a, "push")
        line = self.one_line_failure(p, EXIT_SCHEMA, "schema version")
        self.assertIn("upgrade", line)
        self.json_failure(sync(a, "push", "--json"), EXIT_SCHEMA, "schema_refused")
        harness.db_write(a, "UPDATE outbox SET schema_version=schema_version-100")
        p = sync(a, "push")
        self.assertEqual(p.returncode, EXIT_OK, p.stderr)
        # An office database of another schema than outpost-sync's: not
        # migrated yet (a pull into its tables would lose the columns they
        # lack), or newer.
        harness.db_write(a, "UPDATE schema_version SET version=version-1 WHERE component='crm'")
        self.one_line_failure(sync(a, "pull"), EXIT_CONFIG, "older", "start outpost-node once")
        self.json_failure(sync(a, "push", "--json"), EXIT_CONFIG, "config")
        harness.db_write(a, "UPDATE schema_version SET version=version+2 WHERE component='crm'")
        self.one_line_failure(sync(a, "pull"), EXIT_CONFIG, "newer", "upgrade outpost-sync")
        harness.db_write(a, "UPDATE schema_version SET version=version-1 WHERE component='crm'")
        # Revoked with the command line ...
        p = hub_tool(hub, "revoke", a.node_id)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = sync(a, "pull")
        self.one_line_failure(p, EXIT_AUTH, "revoked")
        self.json_failure(sync(a, "verify", "--json"), EXIT_AUTH, "refused")
        # ... and with the admin API: the running node is shut out too.
        b = self.o.node(hub)
        wait_for(lambda: status(b)["cursor"] is not None, what="b's snapshot")
        with open(os.path.join(hub.data, "admin.token")) as f:
            token = f.read().strip()
        plant_secret(token)
        r = hub.request("POST", "/api/v1/nodes/%s/revoke" % b.node_id, body={},
                        headers={"Authorization": "Bearer " + token})
        self.assertEqual(r.status, 200, r.body)
        cid = checkin(b, "After Revocation")
        s = wait_for(lambda: (lambda s: s if s["last_error"] and "revoked" in s["last_error"]
                              else None)(status(b)), timeout=30, what="b to notice")
        self.assertEqual(s["pending"], 1)
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", cid), 0)
        self.assertEqual(b.get("/kiosk.html").status, 200)
        self.one_line_failure(sync(b, "push"), EXIT_AUTH, "revoked")

    # ---- conflicts ----------------------------------------------------------------
    def test_conflicts_between_two_nodes_of_one_office(self):
        hub = self.o.hub()
        a = self.o.node(hub)
        b = self.o.node(hub)
        cid = checkin(a, "Conflict Visitor")
        wait_for(lambda: count(b, "SELECT count(*) FROM checkins WHERE id=?", cid) == 1,
                 timeout=30, what="the check-in at b")
        p = sync(a, "conflicts")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"no conflicts", p.stdout)
        r = a.post("/api/v1/case/participants", {"first_name": "Conflicta", "last_name": "Privada",
                                                  "birth_date": "1975-03-04", "address": "1 Base St"})
        self.assertEqual(r.status, 201, r.body)
        pid = r.json()["id"]
        wait_for(lambda: count(b, "SELECT count(*) FROM participants WHERE id=?", pid) == 1,
                 timeout=30, what="the participant at b")
        # Offline, each desk does something else with the same visitor, and
        # each office writes its own address for the same participant.
        hub.stop()
        self.assertEqual(a.post("/api/v1/checkins/%s/action" % cid, {"action": "call"}).status,
                         200)
        time.sleep(0.05)
        self.assertEqual(b.post("/api/v1/checkins/%s/action" % cid, {"action": "left"}).status,
                         200)
        for n, addr in ((a, "111 Shelter Rd Apt 4"), (b, "222 Other Home Ln")):
            r = n.request("PATCH", "/api/v1/case/participants/" + pid, body={"address": addr})
            self.assertEqual(r.status, 200, r.body)
        hub.start()
        for n in (a, b):
            p = sync(n, "push")
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreaterEqual(count(hub, "SELECT count(*) FROM conflicts WHERE row_id=?", cid),
                                1)
        p = sync(a, "conflicts")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        self.assertRegex(out, r"\d+ conflicts? \(\d+ open\)")
        self.assertIn(cid, out)
        self.assertIn("checkins", out)
        # Both values are shown, and which one was kept.
        self.assertIn('"called"', out)
        self.assertIn('"left"', out)
        self.assertRegex(out, r'kept "(called|left)"')
        j = json.loads(sync(b, "conflicts", "--json").stdout)
        self.assertTrue(j["ok"])
        mine = [c for c in j["conflicts"] if c["row_id"] == cid]
        self.assertGreaterEqual(len(mine), 1)
        self.assertEqual(mine[0]["tbl"], "checkins")
        self.assertGreaterEqual(j["open"], 1)
        # The conflict reaches both nodes of the office by pull: their own
        # API lists it (and their Sync page shows it) even with the hub away.
        for n in (a, b):
            got = wait_for(lambda: [c for c in n.get("/api/v1/sync/conflicts").json()
                                    if c["row_id"] == cid], timeout=30,
                           what="the conflict at %s" % n.name)
            self.assertEqual(got[0]["column_name"], mine[0]["column_name"])
            self.assertEqual(got[0]["remote_value"], mine[0]["remote_value"])
            self.assertFalse(got[0]["values_hidden"])
        # Values are listed only to who may read the record without a read
        # of it audited: a participant's to no one (each read of the record
        # is audited, and the Sync page reads this list every 5 s), a
        # visit's to the front desk (a viewer sees that it happened).
        part = wait_for(lambda: [c for c in a.get("/api/v1/sync/conflicts").json()
                                 if c["tbl"] == "participants" and c["row_id"] == pid],
                        timeout=30, what="the participant's conflict at a")
        self.assertEqual([(c["column_name"], c["values_hidden"], c["base_value"], c["local_value"],
                           c["remote_value"]) for c in part], [("address", True, None, None, None)])
        viewer = harness.client(a)
        login(viewer, "t-view")
        seen = {c["row_id"]: c for c in viewer.get("/api/v1/sync/conflicts").json()}
        self.assertTrue(seen[cid]["values_hidden"])
        self.assertEqual((seen[cid]["local_value"], seen[cid]["remote_value"]), (None, None))
        self.assertTrue(seen[pid]["values_hidden"])
        # Another office's node does not see them.
        other = self.o.node(hub, office=self.other_office(hub), start=False)
        other.start()
        login(other)
        wait_for(lambda: status(other)["cursor"] is not None, what="other office's snapshot")
        j = json.loads(sync(other, "conflicts", "--json").stdout)
        self.assertEqual([c for c in j["conflicts"] if c["row_id"] == cid], [])

        # The hub's lag figures count only what a node may receive: another
        # office's writes do not make a stopped node of this office lag.
        with open(os.path.join(hub.data, "admin.token")) as f:
            token = f.read().strip()
        plant_secret(token)

        def lag_of(node):
            r = hub.request("GET", "/api/v1/nodes",
                            headers={"Authorization": "Bearer " + token})
            self.assertEqual(r.status, 200, r.body)
            return [x for x in r.json() if x["id"] == node.node_id][0]
        a.stop()
        before = lag_of(a)
        elsewhere = checkin(other, "Other Office")
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", elsewhere),
                 timeout=30, what="the other office's check-in at the hub")
        after = lag_of(a)
        self.assertGreater(after["head_seq"], before["head_seq"])
        self.assertEqual(after["pull_cursor"], before["pull_cursor"])
        self.assertEqual(after["pull_lag"], before["pull_lag"])
        here = checkin(b, "Same Office")
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", here),
                 timeout=30, what="b's check-in at the hub")
        lag = lag_of(a)["pull_lag"]
        self.assertGreater(lag, before["pull_lag"])
        # The node's own signed view says the same.
        hv = hub_view(hub, a)
        self.assertEqual(hv["pull_lag"], lag)
        self.assertIsNotNone(hv["oldest_unpulled_ms"])

    def other_office(self, hub):
        rows = harness.rows(hub, "SELECT id, local_area_id FROM offices WHERE id != 'demo-office' "
                                 "ORDER BY id")
        if not rows:
            self.skipTest("the demo hub has a single office")
        return rows[0][0]

    # ---- bundles --------------------------------------------------------------------
    def test_export_import_bundle(self):
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        hub.stop()
        ids = [checkin(a, "Bundle %d" % i) for i in range(5)]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "office.bundle")
            p = sync(a, "export", "--out", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"exported 5 changes", p.stdout)
            self.assertEqual(os.stat(path).st_mode & 0o077, 0)
            # Written under a name no one can plant first, then renamed:
            # nothing else is left; and never over a link or a device.
            self.assertEqual(sorted(os.listdir(d)), ["office.bundle"])
            link = os.path.join(d, "link.bundle")
            os.symlink(os.path.join(d, "elsewhere"), link)
            p = sync(a, "export", "--out", link)
            self.assertNotEqual(p.returncode, 0, p.stdout)
            self.assertIn(b"not a regular file", p.stderr)
            self.assertTrue(os.path.islink(link))
            self.assertEqual(sorted(os.listdir(d)), ["link.bundle", "office.bundle"])
            os.unlink(link)
            # A copy cut short (a USB stick pulled too soon) is said to be
            # one, not taken for a forgery, and nothing of it is applied.
            with open(path, "rb") as f:
                data = f.read()
            # Sealed for the node and the hub: a stick lost on the way gives
            # no visitor's name away.
            self.assertTrue(data.startswith(b"OPX3"), data[:8])
            self.assertNotIn(b"Bundle 0", data)
            self.assertNotIn(b"checkins", data)
            cut = os.path.join(d, "cut.bundle")
            for n in (20, 60, len(data) // 2, len(data) - 1):
                with open(cut, "wb") as f:
                    f.write(data[:n])
                p = hub_tool(hub, "import", cut)
                self.assertEqual(p.returncode, 1, (n, p.stdout))
                self.assertIn(b"truncated or damaged (copy the file again)", p.stderr, n)
                self.assertNotIn(b"signature", p.stderr, n)
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", ids[0]), 0)
            # Two files: F, then F.2 (frames of 3 entries in the test build);
            # an F.3 an earlier, longer export left is gone
            # (test_export_leaves_only_its_parts).
            with open(os.path.join(d, "two.bundle.3"), "wb") as f:
                f.write(data)
            p = sync(a, "export", "--out", os.path.join(d, "two.bundle"),
                     env={"OUTPOST_TEST_HOOKS_PUSH_ENTRIES": "3"})
            self.assertEqual(p.returncode, 0, p.stderr)
            if harness.has_test_hooks(os.path.join(harness.BIN, "outpost-sync")):
                self.assertTrue(os.path.exists(os.path.join(d, "two.bundle.2")))
                self.assertFalse(os.path.exists(os.path.join(d, "two.bundle.3")))
                self.assertIn(b"two.bundle, then %s.2, in that order" %
                              os.path.join(d, "two.bundle").encode(), p.stdout)
            # At the hub machine (the hub may be running or not).
            p = hub_tool(hub, "import", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            for cid in ids:
                self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", cid), 1)
            head = count(hub, "SELECT max(seq) FROM change_log")
            rows = count(hub, "SELECT count(*) FROM checkins")
            # The same bundle again changes nothing.
            p = hub_tool(hub, "import", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["applied"], j["skipped"]), (0, 5))
            self.assertEqual(count(hub, "SELECT max(seq) FROM change_log"), head)
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins"), rows)
        # When the network returns the node's push is a replay, and its outbox empties.
        hub.start()
        wait_for(lambda: status(a)["pending"] == 0, timeout=120, step=1,
                 what="a's outbox to drain")
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins"), rows)
        self.assertEqual(count(hub, "SELECT count(*) FROM change_log WHERE seq > ? AND "
                                    "tbl='checkins' AND origin=?", head, a.node_id), 0)

    def test_export_leaves_only_its_parts(self):
        """An export to FILE leaves beside it only its own parts: FILE.N an
        earlier, longer export wrote are removed, so no stale part is
        carried to the hub.  Only files that start with an Outpost bundle's
        header are removed, up to the first that does not (left, and said);
        with an empty outbox, another office PC's bundle or a file of the
        operator's under FILE is left too, nothing written."""
        if not harness.has_test_hooks(os.path.join(BIN, "outpost-sync")):
            self.skipTest("needs the test build (frames of 3 entries)")
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        hub.stop()
        for i in range(5):
            checkin(a, "Parts %d" % i)
        three = {"OUTPOST_TEST_HOOKS_PUSH_ENTRIES": "3"}
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "office.bundle")

            def names():
                return sorted(os.listdir(d))
            # An earlier export of four parts (frames of 2: five entries in 3).
            p = sync(a, "export", "--out", out, env={"OUTPOST_TEST_HOOKS_PUSH_ENTRIES": "2"})
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out + ".3", "rb") as f:
                earlier = f.read()
            with open(out + ".4", "wb") as f:
                f.write(earlier)  # an even longer one's fourth part
            with open(out + ".5", "wb") as f:
                f.write(b"OPX notes of the operator, not a bundle\n")
            with open(out + ".6", "wb") as f:
                f.write(earlier)  # past the first file that is not a bundle
            p = sync(a, "export", "--out", out, env=three)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(names(), ["office.bundle", "office.bundle.2", "office.bundle.5",
                                       "office.bundle.6"])
            self.assertIn(b"removed %s.3 and %s.4, left by an earlier export\n" %
                          (out.encode(), out.encode()), p.stdout)
            self.assertIn(b"left %s.5 as it is: not an Outpost bundle of this office PC" %
                          out.encode(), p.stdout)
            with open(out + ".5", "rb") as f:
                self.assertEqual(f.read(), b"OPX notes of the operator, not a bundle\n")
            os.unlink(out + ".5")
            os.rename(out + ".6", out + ".3")
            p = sync(a, "export", "--out", out, "--json", env=three)
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["files"], j["removed"]), ([out, out + ".2"], [out + ".3"]))
            self.assertNotIn("left_not_a_bundle", j)
            # A link under a part's name is no bundle: left (and what
            # follows it).
            os.symlink(out + ".2", out + ".3")
            p = sync(a, "export", "--out", out, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["files"], j["removed"], j["left_not_a_bundle"]),
                             ([out], [out + ".2"], out + ".3"))
            self.assertEqual(names(), ["office.bundle", "office.bundle.3"])
            self.assertTrue(os.path.islink(out + ".3"))
            os.unlink(out + ".3")
            # The network returns: every change is at the hub, and an export
            # now removes the bundle of before instead of leaving it to be
            # carried.
            hub.start()
            wait_for(lambda: status(a)["pending"] == 0, timeout=120, step=1,
                     what="a's outbox to drain")
            # (an empty outbox: FILE is then a bundle of the office's pull
            # cursor alone, test_export_with_an_empty_outbox)
            p = sync(a, "export", "--out", out, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["entries"], j["files"], j["removed"]), (0, [out], []))
            self.assertEqual(names(), ["office.bundle"])
            # Another office PC's bundle under that name (a stick carried
            # between offices) is not this one's to remove.
            other = bytearray(earlier)
            idx = other.find(a.node_id.encode())
            self.assertGreater(idx, 0, "the bundle's header names its node")
            other[idx:idx + len(a.node_id)] = b"f" * len(a.node_id)
            with open(out, "wb") as f:
                f.write(bytes(other))
            p = sync(a, "export", "--out", out, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["files"], j["removed"], j["left_not_a_bundle"]), ([], [], out))
            self.assertEqual(names(), ["office.bundle"])
            with open(out, "rb") as f:
                self.assertEqual(f.read(), bytes(other))
            p = sync(a, "export", "--out", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"nothing to export: no pending changes (no file written)\n"
                          b"left %s as it is: not an Outpost bundle of this office PC\n"
                          b"to tell the hub this office's pull cursor, export to another"
                          b" file name\n" % out.encode(), p.stdout)
            # A file of the operator's under that name is never removed.
            with open(out, "w") as f:
                f.write("my notes\n")
            p = sync(a, "export", "--out", out, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["entries"], j["files"], j["removed"], j["left_not_a_bundle"]),
                             (0, [], [], out))
            self.assertEqual(names(), ["office.bundle"])

    def checkins_reach(self, hub, ids):
        """Wait until the hub holds every check-in of ids."""
        wait_for(lambda: all(harness.rows(hub, "SELECT 1 FROM checkins WHERE id=?", i)
                             for i in ids), timeout=60, what="the check-ins at the hub")

    def export_office(self, hub, a, path):
        """`outpost-hub export-office` for node a into path: its JSON."""
        p = hub_tool(hub, "export-office", a.node_id, "--out", path, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def cut_off(self, a):
        """a's network goes down: its hub is a port no one listens on (a
        restarted and signed in again).  What its sync.json held, to put
        back when the network returns."""
        ident = os.path.join(a.data, "sync.json")
        with open(ident) as f:
            saved = f.read()
        a.stop()
        down = json.loads(saved)
        down["hub_url"] = "https://127.0.0.1:%d" % harness.free_port()
        with open(ident, "w") as f:
            json.dump(down, f)
        a.start()
        login(a)
        return saved

    def network_back(self, a, saved):
        with open(os.path.join(a.data, "sync.json"), "w") as f:
            f.write(saved)

    def test_bundle_to_office(self):
        """The return trip of the stick: `outpost-hub export-office` writes
        what an office cut off would pull, `outpost-sync import` applies it
        there as a pull page (daemon running or stopped), once; a bundle
        damaged, of another node or of the other direction is refused with
        exit code 10 and changes nothing; the network back, the pull goes on
        from where the bundle left the cursor."""
        from test_node_login import Admin
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        b = self.o.synced_node(hub)
        admin = Admin(hub)
        saved = self.cut_off(a)
        checkin(a, "Waits for the network")
        # An account made at the hub; its user signs in at b (online) and
        # sets a password of their own.
        sid, temp = admin.create("dee.bundle")
        wait_for(lambda: harness.rows(b, "SELECT 1 FROM staff_credentials WHERE id=?", sid),
                 timeout=60, what="the account at b")
        c = harness.client(b)
        login(c, "dee.bundle", temp)
        pw = "Dee." + os.urandom(4).hex() + "x9"
        plant_secret(pw)
        r = c.post("/api/v1/session/password", {"current_password": temp, "new_password": pw},
                   timeout=60)
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: harness.db_value(hub, "SELECT password_temp FROM staff_credentials "
                                               "WHERE id=?", sid) == 0,
                 timeout=60, what="the new password at the hub")
        self.assertEqual(harness.rows(a, "SELECT 1 FROM staff_credentials WHERE id=?", sid), [])
        login(harness.client(a), "dee.bundle", pw, expect=401)

        def state(n):
            return (harness.db_value(n, "SELECT value FROM node_meta WHERE key='sync_cursor'"),
                    harness.rows(n, "SELECT * FROM staff_credentials ORDER BY id"),
                    harness.db_value(n, "SELECT count(*) FROM conflicts"))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "to-office.bundle")
            p = hub_tool(hub, "export-office", a.node_id, "--out", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            made = json.loads(p.stdout)
            made_by = int(time.time() * 1000)
            self.assertEqual(os.stat(path).st_mode & 0o077, 0)
            with open(path, "rb") as f:
                data = f.read()
            self.assertTrue(data.startswith(b"OPH1"), data[:8])
            self.assertNotIn(b"dee.bundle", data)
            self.assertNotIn(b"staff_credentials", data)
            p = hub_tool(hub, "export-office", b.node_id, "--out", os.path.join(d, "b.bundle"))
            self.assertEqual(p.returncode, 0, p.stderr)
            p = sync(a, "export", "--out", os.path.join(d, "office.bundle"))
            self.assertEqual(p.returncode, 0, p.stderr)
            # Never over another file: another node's bundle from the hub,
            # an office's bundle not yet imported, a file of the operator's
            # are left as they are; the hub's earlier bundle for the same
            # node is superseded.
            kept = {n: open(os.path.join(d, n), "rb").read() for n in ("b.bundle", "office.bundle")}
            with open(os.path.join(d, "notes.txt"), "wb") as f:
                f.write(b"the operator's own notes\n")
            kept["notes.txt"] = b"the operator's own notes\n"
            for name in kept:
                p = hub_tool(hub, "export-office", a.node_id, "--out", os.path.join(d, name))
                self.assertEqual(p.returncode, 1, (name, p.stdout))
                self.assertIn(b"is there and is not a bundle of the hub for node %s"
                              % a.node_id.encode(), p.stderr)
                with open(os.path.join(d, name), "rb") as f:
                    self.assertEqual(f.read(), kept[name], name)
            p = hub_tool(hub, "export-office", a.node_id, "--out", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            made = json.loads(p.stdout)
            made_by = int(time.time() * 1000)
            with open(path, "rb") as f:
                data = f.read()
            before = state(a)
            # Refused, and nothing changes: cut short, altered, another
            # node's (as it is, and with a's id put in its header), the
            # office's own bundle, not a bundle at all.
            with open(os.path.join(d, "b.bundle"), "rb") as f:
                bdata = f.read()
            n = len(b.node_id)
            forged = bdata[:6] + a.node_id.encode() + bdata[6 + n:] if n == len(a.node_id) else None
            flipped = bytearray(data)
            flipped[len(data) // 2] ^= 1
            bad = [("cut", data[:len(data) // 2], b"truncated or damaged (copy the file again)"),
                   ("flipped", bytes(flipped), b"truncated or damaged (copy the file again)"),
                   ("b", bdata, b"is the hub's bundle for node %s, not for this office PC"
                    % b.node_id.encode()),
                   ("office", None, b"this is an office's bundle for the hub (OPX3): import it"
                    b" at the hub with 'outpost-hub import FILE'"),
                   ("text", b"hello\n", b"not an Outpost bundle")]
            if forged:
                bad.append(("forged", forged, b"bad signature for this office PC"))
            for name, content, why in bad:
                f = os.path.join(d, "office.bundle") if content is None else os.path.join(d, name)
                if content is not None:
                    with open(f, "wb") as out:
                        out.write(content)
                p = sync(a, "import", f)
                self.one_line_failure(p, 10, why.decode().lower())
                self.assertEqual(state(a), before, name)
            p = sync(a, "import", os.path.join(d, "b"), "--json")
            self.assertEqual(p.returncode, 10)
            self.assertEqual(json.loads(p.stdout)["error"], "bad_bundle")
            # ... and at the hub, the hub's own bundle is not an office's.
            p = hub_tool(hub, "import", path)
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn(b"this is a bundle from the hub for an office (OPH1): import it at that"
                          b" office with 'outpost-sync import FILE'", p.stderr)
            # A revoked node, an unknown one: nothing written.
            p = hub_tool(hub, "export-office", "no-such-node", "--out", os.path.join(d, "x"))
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"unknown node 'no-such-node'", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "x")))

            # The office applies it with its node running, and the account
            # signs in there, offline.
            p = sync(a, "import", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertGreaterEqual(j["applied"], 1)
            self.assertEqual(j["cursor"], made["next"])
            r = login(harness.client(a), "dee.bundle", pw)
            self.assertTrue(r.json()["signed_in_offline"])
            # Its last pull, which bounds offline sign-ins, is when the hub
            # made the bundle, not when it was carried in.
            self.assertLessEqual(int(harness.db_value(
                a, "SELECT value FROM node_meta WHERE key='last_pull_ms'")), made_by)
            # Again, with the node stopped: nothing changes.
            after = state(a)
            self.assertEqual(after[0], str(made["next"]))
            a.stop()
            p = sync(a, "import", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"nothing new in %s" % path.encode(), p.stdout)
            self.assertEqual(state(a), after)
        # The network returns: a later change comes by the first pull, from
        # the cursor the bundle left (the hub records where it pulled from).
        sid2, _ = admin.create("eve.later")
        with tempfile.TemporaryDirectory() as d:
            # A bundle that starts past the office's cursor would leave a
            # gap: refused, the cursor where it was.
            head = harness.db_value(hub, "SELECT max(seq) FROM change_log")
            path = os.path.join(d, "late.bundle")
            p = hub_tool(hub, "export-office", a.node_id, "--out", path, "--after", str(head))
            self.assertEqual(p.returncode, 0, p.stderr)
            p = sync(a, "import", path)
            self.one_line_failure(p, EXIT_OTHER, "the bundle starts at the hub's change %d and "
                                  "this office has them up to %d only" % (head, made["next"]))
            self.assertEqual(state(a), after)
            # The hub's cursor checks: past its head, a revoked node.
            p = hub_tool(hub, "export-office", a.node_id, "--out", path, "--after",
                         str(head + 1000))
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"past the head of the hub's change log", p.stderr)
            self.assertEqual(hub_tool(hub, "revoke", b.node_id).returncode, 0)
            p = hub_tool(hub, "export-office", b.node_id, "--out", os.path.join(d, "rev"))
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"revoked node '%s'" % b.node_id.encode(), p.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "rev")))
        # Every export is in the hub's audit trail, a refused one too: what
        # became of it, the cursor it started from and why; no secret.
        got = [(s, json.loads(x)) for s, x in harness.rows(
            hub, "SELECT subject, detail FROM hub_audit_events WHERE action='bundle.export'"
                 " AND actor='cli' ORDER BY rowid")]
        self.assertEqual([(s, x["result"], x.get("cursor_from")) for s, x in got],
                         [(a.node_id, "exported", "pull"), (b.node_id, "exported", "pull")] +
                         [(a.node_id, "file in the way", "pull")] * 3 +
                         [(a.node_id, "exported", "pull"),
                          ("no-such-node", "unknown node", None),
                          (a.node_id, "exported", "after"),
                          (a.node_id, "cursor past head", "after"),
                          (b.node_id, "revoked node", None)], got)
        self.assertEqual((got[5][1]["after"], got[5][1]["next"], got[5][1]["files"]),
                         (made["after"], made["next"], 1))
        self.assertTrue(got[5][1]["file"].endswith("/to-office.bundle"), got[5])
        self.assertTrue(got[4][1]["file"].endswith("/notes.txt"), got[4])
        self.assertEqual(got[8][1]["after"], head + 1000)
        self.assertNotIn("files", got[8][1])
        for _, x in got:
            self.assertLessEqual(set(x), {"file", "result", "after", "cursor_from", "next",
                                          "pages", "files", "acked_seq"}, x)
        self.network_back(a, saved)
        p = sync(a, "push")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = sync(a, "pull", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["pages"], 1)
        wait_for(lambda: harness.db_value(hub, "SELECT pull_cursor FROM nodes WHERE id=?",
                                          a.node_id) == made["next"],
                 what="the hub to record a's pull from the bundle's cursor")
        self.assertEqual(len(harness.rows(a, "SELECT 1 FROM staff_credentials WHERE id IN (?, ?)",
                                          sid, sid2)), 2)
        self.assertEqual(harness.db_value(a, "SELECT count(*) FROM conflicts"), after[2])

    def test_bundle_round_trip_acks_outbox(self):
        """The whole round trip of the stick for an office cut off with a
        backlog: `outpost-sync export`, `outpost-hub import`, `outpost-hub
        export-office`, `outpost-sync import`.  The hub's bundle carries its
        acknowledgement of what it took from the office's outbox, which the
        import applies first as a push's reply is: those entries go to the
        sent log, and the pages over the rows they touched (the office's own
        check-ins, one of them called at b since) apply instead of waiting
        for a push (exit 9).  An acknowledgement whose entry carries another
        HLC at the office (not this outbox) is said and ignored, nothing
        deleted.  A bundle made before the office's own was imported acks
        nothing new and brings the rows the office did not touch.  The
        network back, a push sends nothing again and the pull goes on."""
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        b = self.o.synced_node(hub)
        saved = self.cut_off(a)
        vids = [checkin(a, "Backlog %d" % i) for i in range(4)]
        a.stop()
        # ... and an entry the hub will hold in quarantine, last.
        rogue_last(a, "office-by-stick")
        waiting = pending_by_cli(a)
        self.assertGreaterEqual(waiting, 5)
        early_b = checkin(b, "Before the stick")
        wait_for(lambda: harness.rows(hub, "SELECT 1 FROM checkins WHERE id=?", early_b),
                 timeout=60, what="b's check-in at the hub")
        with tempfile.TemporaryDirectory() as d:
            early = os.path.join(d, "early.bundle")
            p = hub_tool(hub, "export-office", a.node_id, "--out", early, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            acked_then = json.loads(p.stdout)["acked_seq"]
            # The office's bundle, taken by the hub.
            p = sync(a, "export", "--out", os.path.join(d, "office.bundle"))
            self.assertEqual(p.returncode, 0, p.stderr)
            p = hub_tool(hub, "import", os.path.join(d, "office.bundle"))
            self.assertEqual(p.returncode, 0, p.stderr)
            for vid in vids:
                self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", vid), 1)
            # b calls one of a's visitors, and checks in another: the hub
            # changes a row a changed too.
            wait_for(lambda: harness.rows(b, "SELECT 1 FROM checkins WHERE id=?", vids[0]),
                     timeout=60, what="a's check-ins at b")
            r = b.post("/api/v1/checkins/%s/action" % vids[0], {"action": "call"})
            self.assertEqual(r.status, 200, r)
            later_b = checkin(b, "After the stick")
            wait_for(lambda: harness.db_value(hub, "SELECT status FROM checkins WHERE id=?",
                                              vids[0]) == "called" and
                     harness.rows(hub, "SELECT 1 FROM checkins WHERE id=?", later_b),
                     timeout=60, what="b's changes at the hub")
            back = os.path.join(d, "back.bundle")
            p = hub_tool(hub, "export-office", a.node_id, "--out", back, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            made = json.loads(p.stdout)
            base = int(harness.db_value(a, "SELECT value FROM sync_state WHERE key='seq_base'"))
            top = harness.db_value(a, "SELECT max(seq) FROM outbox")
            self.assertEqual(made["acked_seq"], top - base)
            self.assertLess(acked_then, made["acked_seq"])

            # The bundle made before the hub took a's: nothing acknowledged
            # that a does not have already, its outbox as it was, and b's
            # earlier check-in (a row a never touched) is there.
            p = sync(a, "import", early, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["acked"], 0)
            self.assertEqual(pending_by_cli(a), waiting)
            self.assertEqual(len(harness.rows(a, "SELECT 1 FROM checkins WHERE id=?", early_b)), 1)

            # Another entry under the acknowledged seq at a (a PC put back
            # from a backup, another PC): said, ignored, nothing deleted;
            # the pages over a's rows then wait for its push.
            stamp = harness.db_value(a, "SELECT hlc FROM outbox WHERE seq=?", top)
            harness.db_write(a, "UPDATE outbox SET hlc=? WHERE seq=?", "f" + stamp[1:], top)
            p = sync(a, "import", back)
            self.assertEqual(p.returncode, EXIT_PENDING, p.stderr)
            self.assertIn(b"the hub's bundle acknowledges this node's change %d, but this "
                          b"office database holds another change under that number"
                          % made["acked_seq"], p.stderr)
            self.assertIn(b"the acknowledgement is ignored", p.stderr)
            self.assertEqual(pending_by_cli(a), waiting)
            self.assertEqual(harness.db_value(a, "SELECT count(*) FROM outbox_sent WHERE "
                                                 "seq > ?", top - waiting), 0)
            harness.db_write(a, "UPDATE outbox SET hlc=? WHERE seq=?", stamp, top)

            # The bundle as the hub made it: the outbox empties into the
            # sent log, then every page applies.
            p = sync(a, "import", back, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["acked"], j["cursor"]), (waiting, made["next"]))
            self.assertNotIn("ack_ignored", j)
            self.assertEqual(pending_by_cli(a), 0)
            self.assertEqual(harness.db_value(a, "SELECT count(*) FROM outbox_sent WHERE "
                                                 "seq > ?", top - waiting), waiting)
            self.assertEqual(harness.db_value(a, "SELECT value FROM sync_state WHERE "
                                                 "key='acked_seq'"), str(top))
            # The hub's quarantine notice came with it, as a push's reply
            # brings it: no push will ever replay that entry.
            held = harness.rows(hub, "SELECT seq, reason FROM quarantine WHERE node_id=?",
                                a.node_id)
            self.assertEqual([s for s, _ in held], [top - base])
            self.assertEqual(harness.rows(a, "SELECT seq, reason FROM sync_quarantine"),
                             [(top, held[0][1])])
            for vid in (vids[0], later_b):
                self.assertEqual(harness.rows(a, "SELECT * FROM checkins WHERE id=?", vid),
                                 harness.rows(hub, "SELECT * FROM checkins WHERE id=?", vid))
            self.assertEqual(harness.db_value(a, "SELECT status FROM checkins WHERE id=?",
                                              vids[0]), "called")
            # Again: nothing more to drop, nothing new.
            p = sync(a, "import", back)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"nothing new", p.stdout)
            self.assertNotIn(b"acknowledges", p.stdout + p.stderr)
        # The network back: nothing is sent again, the pull goes on from
        # the bundle's cursor, and a holds what the hub holds.
        self.network_back(a, saved)
        p = sync(a, "push", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual((json.loads(p.stdout)["sent"], json.loads(p.stdout)["acked"]), (0, 0))
        p = sync(a, "pull", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(json.loads(p.stdout)["snapshot"])
        wait_for(lambda: harness.db_value(hub, "SELECT pull_cursor FROM nodes WHERE id=?",
                                          a.node_id) == made["next"],
                 what="the hub to record a's pull from the bundle's cursor")
        p = sync(a, "verify", "--json")
        self.assertEqual(p.returncode, 0, p.stdout)
        for vid in vids + [early_b, later_b]:
            self.assertEqual(count(a, "SELECT count(*) FROM checkins WHERE id=?", vid), 1)
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", vid), 1)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine WHERE node_id=?",
                               a.node_id), 1)
        self.assertEqual(count(a, "SELECT count(*) FROM offices WHERE id='office-by-stick'"), 0)

    def test_export_office_starts_where_the_office_is(self):
        """An office that moves only bundles: `outpost-sync export` carries
        its pull cursor (sealed with the rest), `outpost-hub import` records
        it, and `export-office` without --after starts there while that
        bundle is newer than the office's last pull, not at the cursor of
        that pull, weeks behind: the stick carries only what the office
        lacks.  A pull newer than the bundle is the start again.  The bundle
        of an office PC put back from a backup (its cursor behind the one it
        last pulled from) is the start too: from the pull, its import would
        be refused as a gap (exit 8)."""
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        b = self.o.synced_node(hub)
        saved = self.cut_off(a)

        def carried(path):
            """a's outbox to the hub on the stick; what it said a had."""
            p = sync(a, "export", "--out", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = hub_tool(hub, "import", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            return json.loads(p.stdout)["pull_cursor"]

        with tempfile.TemporaryDirectory() as d:
            self.checkins_reach(hub, [checkin(b, "First trip %d" % i) for i in range(2)])
            made1 = self.export_office(hub, a, os.path.join(d, "one.bundle"))
            self.assertEqual(made1["cursor_from"], "pull")
            p = sync(a, "import", os.path.join(d, "one.bundle"), "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["cursor"], made1["next"])
            # The office's own bundle tells the hub where it is now.
            self.checkins_reach(hub, [checkin(b, "Second trip %d" % i) for i in range(2)])
            checkin(a, "By the stick")
            self.assertEqual(carried(os.path.join(d, "office.bundle")), made1["next"])
            made2 = self.export_office(hub, a, os.path.join(d, "two.bundle"))
            self.assertEqual(made2["after"], made1["next"])
            self.assertGreater(made2["after"], made1["after"])
            self.assertEqual(made2["cursor_from"], "bundle")
            p = hub_tool(hub, "export-office", a.node_id, "--out", os.path.join(d, "text.bundle"))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"from the cursor the office's latest bundle reported", p.stdout)
            p = sync(a, "import", os.path.join(d, "two.bundle"), "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["skipped"], j["cursor"]), (0, made2["next"]))
            self.assertGreaterEqual(j["applied"], 1)
        # The network back: a pull newer than the bundle, the start again.
        self.network_back(a, saved)
        p = sync(a, "pull", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        wait_for(lambda: harness.db_value(
            hub, "SELECT n.last_pull_ms > b.imported_ms FROM nodes n JOIN bundle_cursors b"
                 " ON b.node_id=n.id WHERE n.id=?", a.node_id) == 1,
                 what="the hub to record a's pull")
        pulled = harness.db_value(hub, "SELECT pull_cursor FROM nodes WHERE id=?", a.node_id)
        self.assertGreaterEqual(pulled, made2["next"])
        with tempfile.TemporaryDirectory() as d:
            made3 = self.export_office(hub, a, os.path.join(d, "three.bundle"))
            self.assertEqual((made3["cursor_from"], made3["after"]), ("pull", pulled))
            # Cut off again, and the PC put back from a backup: its cursor
            # is behind the one it last pulled from.  Its bundle says so,
            # and the hub's starts there: imported, no gap.
            self.cut_off(a)
            checkin(a, "After the restore")
            a.stop()
            harness.db_write(a, "UPDATE node_meta SET value=? WHERE key='sync_cursor'",
                             str(made1["next"]))
            self.assertEqual(carried(os.path.join(d, "office.bundle")), made1["next"])
            made4 = self.export_office(hub, a, os.path.join(d, "four.bundle"))
            self.assertEqual((made4["cursor_from"], made4["after"]), ("bundle", made1["next"]))
            self.assertLess(made4["after"], pulled)
            p = sync(a, "import", os.path.join(d, "four.bundle"), "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["cursor"], made4["next"])

    def test_export_with_an_empty_outbox(self):
        """An office whose outbox is empty still tells the hub where it is:
        `outpost-sync export` writes a bundle of its pull cursor alone (an
        empty frame), `outpost-hub import` applies nothing ("applied 0") and
        records the cursor, and the next `export-office` starts there
        instead of at the office's last pull, behind what it imported."""
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        b = self.o.synced_node(hub)
        self.cut_off(a)

        with tempfile.TemporaryDirectory() as d:
            # A round trip: what a wrote (its sign-in at least) to the
            # hub, the hub's changes and acknowledgement back.
            path = os.path.join(d, "office.bundle")
            p = sync(a, "export", "--out", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(hub_tool(hub, "import", path).returncode, 0)
            self.checkins_reach(hub, [checkin(b, "Empty outbox %d" % i) for i in range(2)])
            made1 = self.export_office(hub, a, os.path.join(d, "one.bundle"))
            p = sync(a, "import", os.path.join(d, "one.bundle"), "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["cursor"], made1["next"])
            self.assertGreater(made1["next"], made1["after"])
            self.assertEqual(status(a)["pending"], 0)
            acked = harness.db_value(hub, "SELECT acked_seq FROM nodes WHERE id=?", a.node_id)
            # Nothing pending: the bundle carries the cursor alone.
            p = sync(a, "export", "--out", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"no pending changes: wrote %s with this office's pull cursor (%d)"
                          b" alone" % (path.encode(), made1["next"]), p.stdout)
            p = sync(a, "export", "--out", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["entries"], j["files"], j["pull_cursor"]),
                             (0, [path], made1["next"]))
            with open(path, "rb") as f:
                self.assertTrue(f.read().startswith(b"OPX3"))
            p = hub_tool(hub, "import", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["applied"], j["skipped"], j["quarantined"], j["acked_seq"],
                              j["pull_cursor"]), (0, 0, [], acked, made1["next"]))
            p = hub_tool(hub, "import", path)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"no changes in it (the office's outbox was empty), applied 0",
                          p.stdout)
            self.assertIn(b"its pull cursor %d recorded" % made1["next"], p.stdout)
            self.assertEqual(harness.db_value(hub, "SELECT cursor FROM bundle_cursors"
                                                   " WHERE node_id=?", a.node_id),
                             made1["next"])
            # The return trip starts where the office is.
            self.checkins_reach(hub, [checkin(b, "After the empty one %d" % i) for i in range(2)])
            made2 = self.export_office(hub, a, os.path.join(d, "two.bundle"))
            self.assertEqual((made2["cursor_from"], made2["after"]), ("bundle", made1["next"]))
            p = sync(a, "import", os.path.join(d, "two.bundle"), "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["skipped"], j["cursor"]), (0, made2["next"]))
            self.assertGreaterEqual(j["applied"], 1)

    def test_import_tells_held_before_apart(self):
        """`outpost-hub import` reports what it did: an entry it quarantines
        is "quarantined"; one the hub already held from an earlier import
        (reported again, as a push's reply reports it) is said apart, "N
        entries ... still in quarantine" (--json "still_quarantined", the
        audit's detail too), never counted as quarantined by this import -
        by an office's bundle of its cursor alone either."""
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        self.cut_off(a)
        checkin(a, "Held apart")
        a.stop()
        rogue_last(a, "office-held-apart")
        waiting = pending_by_cli(a)
        with tempfile.TemporaryDirectory() as d:
            first = os.path.join(d, "office.bundle")
            p = sync(a, "export", "--out", first)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = hub_tool(hub, "import", first, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            held = harness.rows(hub, "SELECT seq, reason FROM quarantine WHERE node_id=?",
                                a.node_id)
            self.assertEqual(len(held), 1)
            self.assertEqual(([(q["seq"], q["reason"]) for q in j["quarantined"]],
                              j["still_quarantined"], j["applied"] + j["skipped"]),
                             (held, [], waiting - 1), j)
            # The same bundle again: nothing quarantined by it, the entry
            # still held said apart.
            p = hub_tool(hub, "import", first, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["applied"], j["skipped"], j["quarantined"],
                              [(q["seq"], q["reason"]) for q in j["still_quarantined"]]),
                             (0, waiting - 1, [], held), j)
            p = hub_tool(hub, "import", first)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"applied 0, skipped %d, quarantined 0," % (waiting - 1), p.stdout)
            self.assertIn(b"\n1 entry from earlier imports or pushes of node %s is still in "
                          b"quarantine at the hub (not held by this import)\n" %
                          a.node_id.encode(), p.stdout)
            # The return trip empties a's outbox; its bundle of the cursor
            # alone quarantines nothing.
            back = os.path.join(d, "back.bundle")
            self.export_office(hub, a, back)
            p = sync(a, "import", back)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(pending_by_cli(a), 0)
            empty = os.path.join(d, "empty.bundle")
            p = sync(a, "export", "--out", empty, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["entries"], 0)
            p = hub_tool(hub, "import", empty, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["applied"], j["skipped"], j["quarantined"],
                              [(q["seq"], q["reason"]) for q in j["still_quarantined"]]),
                             (0, 0, [], held), j)
            p = hub_tool(hub, "import", empty)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"no changes in it (the office's outbox was empty), applied 0",
                          p.stdout)
            self.assertNotIn(b"quarantined 1", p.stdout)
            self.assertIn(b"\n1 entry from earlier imports or pushes of node %s is still in "
                          b"quarantine" % a.node_id.encode(), p.stdout)
        detail = json.loads(harness.db_value(
            hub, "SELECT detail FROM hub_audit_events WHERE action='bundle.import'"
                 " ORDER BY rowid DESC LIMIT 1"))
        self.assertEqual((detail["applied"], detail["quarantined"],
                          detail["still_quarantined"]), (0, 0, 1), detail)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine WHERE node_id=?",
                               a.node_id), 1)

    def test_push_log_counts_held_before_apart(self):
        """The hub's log line of a push batch counts what the batch did,
        each entry once: applied, skipped as a replay, quarantined by it;
        and apart, the entries the hub held in quarantine before it (a
        replay of one an import took, which the reply reports again), never
        counted as quarantined by this batch."""
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        saved = self.cut_off(a)
        checkin(a, "Logged apart")
        a.stop()
        rogue_last(a, "office-logged-apart")
        waiting = pending_by_cli(a)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "office.bundle")
            p = sync(a, "export", "--out", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = hub_tool(hub, "import", out)
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine WHERE node_id=?",
                               a.node_id), 1)
        # One more the hub quarantines, after the one it holds: the push
        # replays the bundle's entries and brings this one.
        rogue_last(a, "office-logged-later")
        self.network_back(a, saved)
        p = sync(a, "push")
        self.assertEqual(p.returncode, 0, p.stderr)
        line = "batch from node %s: %d entries, applied 0, skipped %d, quarantined 1, " \
               "still quarantined from before 1, conflicts 0, acked" % (
                   a.node_id, waiting + 1, waiting - 1)
        self.assertIn(line, hub.read_log(), hub.read_log()[-1500:])  # (said before the reply)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine WHERE node_id=?",
                               a.node_id), 2)

    def test_export_with_changes_never_over_another_file(self):
        """An export with pending changes writes by the rule the empty
        outbox's follows (test_export_with_an_empty_outbox): only where
        nothing is or over this office PC's own earlier bundle.  A file of
        the operator's or another office PC's bundle not yet imported at
        FILE (or at a FILE.N the export needs) is left as it is, byte for
        byte, and the export fails naming it (exit 8), nothing else left
        in the folder; this PC's own earlier bundle is replaced."""
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        hub.stop()
        for i in range(5):
            checkin(a, "Not over %d" % i)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "office.bundle")
            own = os.path.join(d, "own.bundle")
            p = sync(a, "export", "--out", own)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(own, "rb") as f:
                earlier = f.read()
            other = bytearray(earlier)
            idx = other.find(a.node_id.encode())
            self.assertGreater(idx, 0, "the bundle's header names its node")
            other[idx:idx + len(a.node_id)] = b"f" * len(a.node_id)
            for what, data in (("a file of the operator's", b"my notes\n"),
                               ("another office PC's bundle", bytes(other))):
                with open(out, "wb") as f:
                    f.write(data)
                p = sync(a, "export", "--out", out)
                line = self.one_line_failure(p, EXIT_OTHER)
                self.assertIn("'%s' is there and is not an Outpost bundle of this office PC"
                              % out, line, what)
                self.assertIn("left as it is, nothing written to it; export to another file"
                              " name", line, what)
                with open(out, "rb") as f:
                    self.assertEqual(f.read(), data, what)
                self.assertEqual(sorted(os.listdir(d)), ["office.bundle", "own.bundle"], what)
                p = sync(a, "export", "--out", out, "--json")
                self.assertEqual(p.returncode, EXIT_OTHER, what)
                self.assertFalse(json.loads(p.stdout)["ok"], what)
                with open(out, "rb") as f:
                    self.assertEqual(f.read(), data, what)
            # This office PC's own earlier bundle: replaced.
            os.unlink(out)
            p = sync(a, "export", "--out", own, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["files"], [own])
            self.assertEqual(json.loads(p.stdout)["entries"], pending_by_cli(a))
            self.assertEqual(sorted(os.listdir(d)), ["own.bundle"])
            # A part past FILE: the same rule, the parts before it written.
            if harness.has_test_hooks(os.path.join(BIN, "outpost-sync")):
                with open(own + ".2", "wb") as f:
                    f.write(b"my notes\n")
                p = sync(a, "export", "--out", own,
                         env={"OUTPOST_TEST_HOOKS_PUSH_ENTRIES": "3"})
                line = self.one_line_failure(p, EXIT_OTHER)
                self.assertIn("'%s.2' is there and is not an Outpost bundle" % own, line)
                with open(own + ".2", "rb") as f:
                    self.assertEqual(f.read(), b"my notes\n")
                self.assertEqual(sorted(os.listdir(d)), ["own.bundle", "own.bundle.2"])

    def test_plain_export_never_over_a_resend_export(self):
        """A `--resend` export holds what the hub acknowledged (the sent
        log) for a hub restored from a backup, which a plain export does
        not carry: a plain export to the same FILE with changes pending
        fails (exit 8) and leaves it byte for byte, and one that would
        remove it as an earlier export's part leaves it and says so; an
        export with --resend again replaces it, and the new one is kept
        the same way."""
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        checkin(a, "Acknowledged before")
        wait_for(lambda: status(a)["pending"] == 0, timeout=120, step=1,
                 what="a's outbox to drain")
        hub.stop()
        checkin(a, "Waiting 1")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "office.bundle")

            def resend():
                p = sync(a, "export", "--resend", "--out", out, "--json")
                self.assertEqual(p.returncode, 0, p.stderr)
                j = json.loads(p.stdout)
                self.assertGreater(j["entries"], pending_by_cli(a), "the sent log in it")
                with open(out, "rb") as f:
                    return f.read()
            resent = resend()
            checkin(a, "Waiting 2")
            p = sync(a, "export", "--out", out)
            line = self.one_line_failure(p, EXIT_OTHER)
            self.assertIn("'%s' is this office PC's --resend export: it holds changes the hub"
                          " acknowledged before (for a hub restored from a backup), which a"
                          " plain export does not carry: left as it is, nothing written to it"
                          % out, line)
            p = sync(a, "export", "--out", out, "--json")
            self.assertEqual(p.returncode, EXIT_OTHER, p.stderr)
            self.assertFalse(json.loads(p.stdout)["ok"])
            with open(out, "rb") as f:
                self.assertEqual(f.read(), resent)
            self.assertEqual(sorted(os.listdir(d)), ["office.bundle"])
            # As an earlier export's part past this one's: left, not removed.
            os.rename(out, out + ".2")
            p = sync(a, "export", "--out", out, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["files"], j["removed"], j["left_resend_bundle"]),
                             ([out], [], out + ".2"))
            with open(out + ".2", "rb") as f:
                self.assertEqual(f.read(), resent)
            p = sync(a, "export", "--out", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"left %s.2 as it is: this office PC's --resend export, not one a"
                          b" plain export replaces" % out.encode(), p.stdout)
            os.unlink(out + ".2")
            # --resend again writes over it; a plain export still does not.
            again = resend()
            self.assertNotEqual(again, resent)
            p = sync(a, "export", "--out", out)
            self.one_line_failure(p, EXIT_OTHER)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), again)

    def test_bundle_to_office_in_parts(self):
        """More than one file holds (a small bound in the test build) is
        written as FILE, FILE.2, ...: imported in that order every part
        applies and the office has it all; a part missed or taken out of its
        order is refused (exit 8), saying to import the files in their
        order, and changes nothing, not even the outbox the bundle's
        acknowledgement empties."""
        if not TEST_HOOKS:
            self.skipTest("needs the test build (a small bound on a bundle file)")
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        b = self.o.synced_node(hub)
        self.cut_off(a)
        checkin(a, "Waits on the stick")
        small = {"OUTPOST_TEST_HOOKS_PULL_ROWS": "2", "OUTPOST_TEST_HOOKS_BUNDLE_BYTES": "1"}

        def state():
            return (harness.db_value(a, "SELECT value FROM node_meta WHERE key='sync_cursor'"),
                    pending_by_cli(a), harness.db_value(a, "SELECT count(*) FROM checkins"))
        with tempfile.TemporaryDirectory() as d:
            office = os.path.join(d, "office.bundle")
            p = sync(a, "export", "--out", office)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = hub_tool(hub, "import", office)
            self.assertEqual(p.returncode, 0, p.stderr)
            ids = [checkin(b, "In parts %d" % i) for i in range(6)]
            wait_for(lambda: all(harness.rows(hub, "SELECT 1 FROM checkins WHERE id=?", i)
                                 for i in ids), timeout=60, what="b's check-ins at the hub")
            path = os.path.join(d, "hub.bundle")
            p = hub_tool(hub, "export-office", a.node_id, "--out", path, "--json", env=small)
            self.assertEqual(p.returncode, 0, p.stderr)
            made = json.loads(p.stdout)
            self.assertGreaterEqual(made["files"], 3)
            self.assertEqual(made["pages"], made["files"])
            self.assertGreater(made["acked_seq"], 0)
            parts = [path] + ["%s.%d" % (path, k) for k in range(2, made["files"] + 1)]
            self.assertEqual(sorted(os.listdir(d)),
                             sorted(os.path.basename(x) for x in parts + [office]))
            before = state()
            self.assertGreater(before[1], 0)
            # Taken out of its order: refused, nothing changes.
            p = sync(a, "import", parts[1])
            self.one_line_failure(p, EXIT_OTHER, "the bundle starts at the hub's change",
                                  "import the files in their order")
            self.assertEqual(state(), before)
            p = sync(a, "import", parts[0], "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual(j["applied"], 1)
            self.assertGreater(j["acked"], 0)
            mid = state()
            self.assertLess(mid[1], before[1])
            # One missed: refused, nothing changes.
            p = sync(a, "import", parts[2])
            self.one_line_failure(p, EXIT_OTHER, "the bundle starts at the hub's change",
                                  "this office has them up to %s only" % mid[0])
            self.assertEqual(state(), mid)
            # The rest in their order: the office has it all.
            for part in parts[1:]:
                p = sync(a, "import", part, "--json")
                self.assertEqual(p.returncode, 0, (part, p.stderr))
                self.assertEqual(json.loads(p.stdout)["applied"], 1, part)
            self.assertEqual(state()[0], str(made["next"]))
            for i in ids:
                self.assertEqual(count(a, "SELECT count(*) FROM checkins WHERE id=?", i), 1)

    def test_outbox_of_before_an_upgrade_sent(self):
        """Entries an office wrote before its upgrade (stamped with the schema
        version of then) go to the upgraded hub in today's shape: push and
        export take them; before, the hub refused them for ever and the
        office could pull no more."""
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        hub.stop()
        ids = [checkin(a, "Upgrade %d" % i) for i in range(2)]
        a.stop()
        harness.db_write(a, "UPDATE outbox SET schema_version = schema_version - 1")
        self.assertGreaterEqual(count(a, "SELECT count(*) FROM outbox"), 2)
        hub.start()
        p = sync(a, "push")
        self.assertEqual(p.returncode, 0, p.stderr)
        for cid in ids:
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", cid), 1)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine WHERE node_id=?", a.node_id), 0)
        p = sync(a, "pull")
        self.assertEqual(p.returncode, 0, p.stderr)

    # ---- --json everywhere, and the progress bar ---------------------------------
    def standalone_with_checkins(self, hub, names):
        """A node that worked stand-alone (check-ins in its outbox), then was
        enrolled while stopped: nothing has synced yet."""
        n = Daemon("node")
        self.o.daemons.append(n)
        n.start()
        login(n)
        ids = [checkin(n, name) for name in names]
        n.stop()
        p = sync(n, "enroll", "--hub", hub.url, "--code", self.o.code(hub), "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(n.data, "sync.json")) as f:
            ident = json.load(f)
        plant_secret(ident["node_secret"])
        self.assertNotIn(ident["node_secret"], p.stdout.decode())
        n.node_id = ident["node_id"]
        n.ident = ident
        return n, ids, json.loads(p.stdout)

    def test_json_of_every_subcommand(self):
        hub = self.o.hub()
        n, ids, j = self.standalone_with_checkins(hub, ["Json Person"])
        self.assertTrue(j["ok"])
        self.assertEqual(j["node_id"], n.node_id)
        self.assertTrue(j["hub_pin"].startswith("sha256//"))
        # Enrolling twice is refused without --force.
        self.json_failure(sync(n, "enroll", "--hub", hub.url, "--code", self.o.code(hub),
                               "--json"), EXIT_CONFIG, "config")
        waiting = pending_by_cli(n)  # check-in + sign-in audit
        self.assertGreaterEqual(waiting, 1)
        with tempfile.TemporaryDirectory() as d:
            outs = {}
            for args in (["status"], ["export", "--out", os.path.join(d, "b")], ["push"],
                         ["pull"], ["verify"], ["conflicts"], ["status"]):
                p = sync(n, *(args + ["--json"]))
                self.assertEqual(p.returncode, 0, (args, p.stderr))
                j = json.loads(p.stdout)
                self.assertTrue(j["ok"], (args, j))
                outs[args[0]] = j
                self.assertNotIn(b"\r", p.stdout)
        self.assertEqual(outs["export"]["entries"], waiting)
        self.assertEqual(outs["push"]["acked"], waiting)
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", ids[0]), 1)
        self.assertTrue(outs["pull"]["snapshot"])
        self.assertTrue(outs["verify"]["match"])
        self.assertEqual(outs["conflicts"]["count"], 0)
        self.assertEqual(outs["status"]["pending"], 0)
        self.assertEqual(outs["status"]["acked_seq"] - outs["status"]["seq_base"], waiting)
        # A row lost behind the node's back: verify says which table, exit code 7.
        harness.db_write(n, "DELETE FROM greeter_reasons WHERE rowid=(SELECT min(rowid) "
                            "FROM greeter_reasons)")
        p = sync(n, "verify")
        self.assertEqual(p.returncode, EXIT_MISMATCH, p.stdout)
        self.assertRegex(p.stdout.decode(), r"greeter_reasons +\d+ +\d+  MISMATCH")
        self.assertIn(b"differ from the hub", p.stdout)
        p = sync(n, "verify", "--json")
        self.assertEqual(p.returncode, EXIT_MISMATCH)
        j = json.loads(p.stdout)
        self.assertEqual((j["ok"], j["match"], j["mismatched_tables"]), (False, False, 1))
        # a failure as every command's (README, exit codes)
        self.assertEqual((j["error"], j["exit_code"]), ("mismatch", EXIT_MISMATCH))
        self.assertIn("1 table differs", j["message"])
        bad = [t for t in j["tables"] if not t["match"]]
        self.assertEqual([t["table"] for t in bad], ["greeter_reasons"])
        self.assertEqual(bad[0]["local_count"] + 1, bad[0]["hub_count"])

    def run_pty(self, args, env):
        """Run outpost-sync with stdout on a terminal; return what it wrote."""
        master, slave = pty.openpty()
        e = dict(os.environ)
        e.update(env)
        p = subprocess.Popen([os.path.join(BIN, "outpost-sync")] + args, stdout=slave,
                             stderr=subprocess.PIPE, env=e)
        os.close(slave)
        out = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait(timeout=60)
        os.close(master)
        return p.returncode, out

    def test_progress_bar_only_on_a_terminal(self):
        hub = self.o.hub()
        a, ids, _ = self.standalone_with_checkins(hub, ["Progress %d" % i for i in range(3)])
        env = {"OUTPOST_SYNC_PROGRESS_DELAY_MS": "0"}
        waiting = pending_by_cli(a)  # 3 check-ins + sign-in audit
        self.assertGreaterEqual(waiting, 3)
        rc, out = self.run_pty(["push", "--data", a.data], env)
        self.assertEqual(rc, 0, out)
        self.assertIn(b"\r", out)
        self.assertRegex(out, rb"push +\[#* *\] +\d+% \d+/" + str(waiting).encode())
        self.assertIn(b"pushed %d changes" % waiting, out)
        for cid in ids:
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", cid), 1)
        # Piped (a snapshot, the longest transfer): no bar.
        p = sync(a, "pull", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"a snapshot", p.stdout)
        self.assertNotIn(b"\r", p.stdout + p.stderr)
        self.assertNotIn(b"[#", p.stdout + p.stderr)
        # --json on a terminal: no bar either, and the JSON parses.
        rc, out = self.run_pty(["pull", "--json", "--data", a.data], env)
        self.assertEqual(rc, 0, out)
        self.assertNotIn(b"\x1b", out)
        self.assertTrue(json.loads(out.decode().replace("\r\n", "\n"))["ok"])


def node_db_files(src, dst):
    """Copy node.db and its WAL files from directory src over dst's (a
    stopped node's): a PC's data folder put back from a backup."""
    for f in os.listdir(dst):
        if f.startswith("node.db"):
            os.remove(os.path.join(dst, f))
    for f in os.listdir(src):
        if f.startswith("node.db"):
            shutil.copy2(os.path.join(src, f), os.path.join(dst, f))


class WentBackTest(OfficeTest):
    """An office database that went back in time (node.db restored from an
    older backup) or was copied to a second PC hands out outbox seqs the
    hub already acknowledged for other changes.  Those are not replays: the
    hub refuses them (409) or the node sees it is acknowledged past every
    seq it wrote; either way the node keeps them, says why (status
    last_error), and once enrolled again with a new code (README, "An
    office PC restored from a backup, or copied") sends them."""

    ERR = "copied from another PC"

    def enroll_again(self, n, hub):
        p = sync(n, "enroll", "--hub", hub.url, "--code", self.o.code(hub), "--json", "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(n.data, "sync.json")) as f:
            plant_secret(json.load(f)["node_secret"])

    def copy_of(self, node):
        """node's data folder copied while it is stopped (to a second PC)."""
        node.stop()
        copy = tempfile.mkdtemp(prefix="outpost-node-copy-")
        self.addCleanup(shutil.rmtree, copy, True)
        shutil.rmtree(copy)
        shutil.copytree(node.data, copy)
        return copy

    def at_hub(self, hub, ids):
        return count(hub, "SELECT count(*) FROM checkins WHERE id IN (%s)"
                     % ",".join("?" * len(ids)), *ids)

    def test_restored_from_an_older_copy(self):
        hub = self.o.hub()
        n = self.o.synced_node(hub)
        checkin(n, "Before The Backup")
        wait_for(lambda: status(n)["pending"] == 0, what="the first check-in pushed")
        n.stop()
        backup = tempfile.mkdtemp(prefix="outpost-node-backup-")
        self.addCleanup(shutil.rmtree, backup, True)
        node_db_files(n.data, backup)
        n.start()
        login(n)
        for i in range(2):
            checkin(n, "After The Backup %d" % i)
        wait_for(lambda: status(n)["pending"] == 0, what="the later check-ins pushed")
        n.stop()
        node_db_files(backup, n.data)
        # Written with the hub away, then pushed by hand.  The sign-in and
        # one check-in stay below the hub's last seq, but are stamped later
        # than the last entry the hub took: not replays, refused (409).
        hub.stop()
        n.start()
        login(n)
        lost = [checkin(n, "After The Restore 0")]
        hub.start()
        p = sync(n, "push")
        self.assertEqual(p.returncode, EXIT_OTHER, p.stderr)
        self.assertIn(self.ERR, p.stderr.decode())
        self.assertIn("409", p.stderr.decode())
        self.assertEqual(status(n)["pending"], 2)
        # Two more reach the seq of the hub's last entry (the hub's own
        # check): the push is refused whole.
        hub.stop()
        lost += [checkin(n, "After The Restore %d" % i) for i in (1, 2)]
        hub.start()
        p = sync(n, "push")
        self.assertEqual(p.returncode, EXIT_OTHER, p.stderr)
        self.assertIn(self.ERR, p.stderr.decode())
        self.assertIn("409", p.stderr.decode())
        self.assertIn(self.ERR, count(hub, "SELECT last_error FROM nodes WHERE id=?", n.node_id))
        # kept, said, not at the hub (and again after the node's own cycles)
        wait_for(lambda: self.ERR in (status(n)["last_error"] or ""), what="the node's error")
        self.assertGreaterEqual(status(n)["pending"], 4)
        self.assertEqual(self.at_hub(hub, lost), 0)
        # the way out: enrolled again, the node sends them
        self.enroll_again(n, hub)
        wait_for(lambda: self.at_hub(hub, lost) == 3, what="the kept check-ins at the hub")
        wait_for(lambda: status(n)["pending"] == 0 and status(n)["last_error"] is None,
                 what="the node caught up")

    def test_copied_to_a_second_pc(self):
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        copy = self.copy_of(a)
        b = Daemon("node", data=copy)
        self.o.daemons.append(b)
        a.start()
        login(a)
        at_a = checkin(a, "Written At PC A")
        wait_for(lambda: self.at_hub(hub, [at_a]) == 1 and status(a)["pending"] == 0,
                 what="PC A's check-in at the hub")
        # PC B's sign-in and check-in take the seqs PC A's just had
        b.start()
        login(b)
        at_b = checkin(b, "Written At PC B")
        wait_for(lambda: self.ERR in (status(b)["last_error"] or ""), what="PC B's error")
        self.assertGreaterEqual(status(b)["pending"], 2)
        self.assertEqual(self.at_hub(hub, [at_b]), 0)
        self.enroll_again(b, hub)
        wait_for(lambda: self.at_hub(hub, [at_b]) == 1, what="PC B's check-in at the hub")
        wait_for(lambda: status(b)["pending"] == 0 and status(b)["last_error"] is None,
                 what="PC B caught up")
        # PC A goes on under the identity it had
        again = checkin(a, "Written At PC A Again")
        wait_for(lambda: self.at_hub(hub, [again]) == 1, what="PC A's next check-in")
        self.assertIsNone(status(a)["last_error"])


    def test_copy_that_wrote_more_than_the_original(self):
        """A copy that wrote more than the original since the copy, whose
        push stops below the hub's last entry (frames of one entry here; a
        4 MiB frame in life): its entries are stamped later than the hub's
        last one, so not replays.  Before, the hub skipped them, answered
        with its last seq, which the copy had written past, and the copy
        dropped them as acknowledged."""
        if not harness.has_test_hooks(os.path.join(BIN, "outpost-node")):
            self.skipTest("needs the test build (frames of one entry)")
        hub = self.o.hub()
        a = self.o.synced_node(hub)
        copy = self.copy_of(a)
        a.start()
        login(a)
        at_a = checkin(a, "Written At PC A")
        wait_for(lambda: self.at_hub(hub, [at_a]) == 1 and status(a)["pending"] == 0,
                 what="PC A's check-in at the hub")
        a.stop()
        # PC B writes more than PC A did, away from the hub, then sends
        # them one entry a frame
        hub.stop()
        b = Daemon("node", data=copy, env={"OUTPOST_TEST_HOOKS_PUSH_ENTRIES": "1"})
        self.o.daemons.append(b)
        b.start()
        login(b)
        at_b = [checkin(b, "Written At PC B %d" % i) for i in range(4)]
        hub.start()
        wait_for(lambda: self.ERR in (status(b)["last_error"] or ""), what="PC B's error")
        self.assertEqual(self.at_hub(hub, at_b), 0)
        self.assertGreaterEqual(status(b)["pending"], 5)
        self.enroll_again(b, hub)
        wait_for(lambda: self.at_hub(hub, at_b) == 4, what="PC B's check-ins at the hub")


class PullSetAsideTest(harness.TwoOffices):
    """However many rows of a pull page the node cannot take (text an older
    hub stored that is not UTF-8), they are set aside and the rest of the
    page arrives: a bound on them refused the page whole, every cycle, and
    stopped the office's pull for good."""
    prefix = "aside"

    def test_many_rows_set_aside_never_stall_the_pull(self):
        db = self.hub.db()
        try:
            for i in range(150):
                db.execute("INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
                           " arrived_at, visit_date, status, updated_hlc) SELECT ?, id, local_area_id,"
                           " CAST(X'426164FF' AS TEXT), 1, '2026-01-05', 'done',"
                           " '000000000001.0000.hub' FROM offices WHERE id='demo-office'",
                           ("aside-%04d" % i,))
            db.execute("INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
                       " visit_date, status, updated_hlc) SELECT 'aside-good', id, local_area_id,"
                       " 'Good Row', 1, '2026-01-05', 'done', '000000000001.0000.hub'"
                       " FROM offices WHERE id='demo-office'")
            db.commit()
        finally:
            db.close()
        self.sync(self.a, "push")
        # (the node's own cycle may pull the page first: the same code)
        p = harness.run_tool(["pull", "--data", self.a.data, "--json"])
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        log = p.stderr + self.a.read_log().encode()
        self.assertEqual(count(self.a, "SELECT count(*) FROM checkins WHERE id='aside-good'"), 1)
        self.assertEqual(count(self.a, "SELECT count(*) FROM checkins WHERE id LIKE 'aside-0%'"), 0)
        self.assertEqual(count(self.a, "SELECT count(*) FROM pull_set_aside WHERE tbl='checkins'"), 150)
        # the log says so in a few lines, not a line a row
        self.assertIn(b"140 more changes of the page set aside", log)
        self.assertLess(log.count(b"set aside: a text value"), 20)



class PullBesidePushTest(unittest.TestCase):
    """A pull page asked for before another process's push reached the hub
    is not applied after that push committed: `outpost-sync pull` waits
    (a test hook) between the page's reply and its apply while the desk
    calls a visitor and `outpost-sync push` carries the call to the hub and
    empties the outbox.  The page holds the visit as the hub had it before
    (waiting): applied, it put the visit back in the queue until the next
    pull.  It is asked for again, and the node shows the hub's merge."""

    def call_while_pull_paused(self, node, vid, **env):
        """outpost-sync pull paused between its page's reply and the apply
        (OUTPOST_TEST_HOOKS_PAUSE), while the desk calls visit vid and
        outpost-sync push carries it to the hub; then the pull goes on.
        Its exit code and stderr."""
        with tempfile.TemporaryDirectory() as tmp:
            pause = os.path.join(tmp, "pause")
            open(pause, "w").close()
            env = dict(os.environ, OUTPOST_TEST_HOOKS_PAUSE="pull.after_reply:" + pause, **env)
            puller = subprocess.Popen(
                [os.path.join(BIN, "outpost-sync"), "pull", "--data", node.data, "--json"],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                wait_for(lambda: os.path.exists(pause + ".at"), what="the pull's page")
                r = node.post("/api/v1/checkins/%s/action" % vid, {"action": "call"})
                self.assertEqual(r.status, 200, r)
                harness.sync_json(node, "push")
                self.assertEqual(count(node, "SELECT count(*) FROM outbox"), 0)
                os.unlink(pause)
                _, err = puller.communicate(timeout=60)
            finally:
                if puller.poll() is None:
                    puller.kill()
                    puller.wait()
        return puller.returncode, err.decode(errors="replace")

    def enrolled_with_pushed_visit(self, name):
        """A hub and a node enrolled to it (no sync timer), with one visit
        checked in, pushed and pulled back.  (hub, node, the visit's id);
        the caller cleans both up."""
        if not TEST_HOOKS:
            raise unittest.SkipTest("release build: no test hooks (OUTPOST_TEST_HOOKS_PAUSE)")
        hub = Daemon("hub").start()
        node = Daemon("node", name="%s-%d" % (name, os.getpid()), args=["--sync-interval", "0"])
        try:
            harness.enroll(hub, node, "demo-office")
            node.start()
            harness.sync_json(node, "push")
            harness.sync_json(node, "pull")
            login(node)
            vid, _ = harness.checkin_change(node, "Visitor %s" % name)
            harness.sync_json(node, "push")
            harness.sync_json(node, "pull")
        except BaseException:
            node.cleanup()
            hub.cleanup()
            raise
        return hub, node, vid

    def test_page_asked_before_a_push_is_asked_again(self):
        hub, node, vid = self.enrolled_with_pushed_visit("beside-push")
        try:
            # the hub's own edit of the visit: the next page names it
            harness.db_write(hub, "UPDATE checkins SET note='hub', updated_hlc=? WHERE id=?",
                             "%012x.0000.hub" % int(time.time() * 1000), vid)
            rc, err = self.call_while_pull_paused(node, vid)
            self.assertEqual(rc, 0, err[-2000:])
            self.assertEqual(count(node, "SELECT status FROM checkins WHERE id=?", vid), "called")
            self.assertEqual(count(node, "SELECT note FROM checkins WHERE id=?", vid), "hub")
            self.assertEqual(count(hub, "SELECT status FROM checkins WHERE id=?", vid), "called")
        finally:
            node.cleanup()
            hub.cleanup()

    def test_snapshot_page_asked_before_a_push_is_asked_again(self):
        """The same for a snapshot page, which waits for an empty outbox:
        the push empties it after the page was built.  The run is killed at
        the commit of the first pull page after the snapshot (the pull from
        the snapshot's seq would make the visit right again), so the node
        shows what the snapshot page left: the visit called, not back in the
        queue."""
        hub, node, vid = self.enrolled_with_pushed_visit("snap-beside-push")
        try:
            # no cursor: the next pull takes a snapshot (one page here)
            harness.db_write(node, "DELETE FROM node_meta WHERE key='sync_cursor'")
            # page_end's commits: 1 the snapshot page, 2 the pull page after it
            rc, err = self.call_while_pull_paused(node, vid, OUTPOST_FAULT="pull.apply:2")
            self.assertIn(rc, (0, -9), err[-2000:])
            self.assertIsNotNone(count(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"))
            self.assertEqual(count(node, "SELECT status FROM checkins WHERE id=?", vid), "called")
            self.assertEqual(count(hub, "SELECT status FROM checkins WHERE id=?", vid), "called")
        finally:
            node.cleanup()
            hub.cleanup()

if __name__ == "__main__":
    unittest.main()
