"""Paged snapshots (sync/sync.h, "snapshot"; README "Bootstrap of a new
office"): a new office node bootstraps from a hub whose data takes many
snapshot pages - the test build's OUTPOST_TEST_HOOKS_SNAPSHOT_ROWS and
_BYTES shrink the hub's page bounds (lib/fault.h) - and ends equal to the
hub (`outpost-sync verify`), with:

  * the hub's rows edited between two pages (a hub-owned row and CRM rows
    the node already has and has not got yet, changed, deleted, inserted):
    the pull from the snapshot's seq makes the fuzzy pages exact;
  * rows the node held that the hub does not have (a stand-alone node's
    seeds, strays, another office's check-ins) gone after the snapshot;
  * the node killed between pages and inside a page's transaction by its own
    background sync, restarted, resuming from its recorded position and never
    claiming a cursor before the last page;
  * an attachment larger than a page going alone;
  * the wire: pages with X-Outpost-More / -After-Table / -After-Id, the seq
    echoed, deflate, 400 with a JSON error for every bad position, and the
    query covered by the signature.

Real processes on loopback; the hub is seeded and edited through hub.db,
whose change-log triggers record every write as the hub's own would be.
"""
import json
import os
import re
import sqlite3
import time
import unittest
import zlib

import harness
import test_hub
import test_sync_node
from harness import BIN, Daemon, plant_secret, run_tool
from test_sync_node import count, hub_tool, sync, wait_for

ROWS, BYTES = 40, 64 * 1024          # the hub's page bounds in these tests
HUB_ENV = {"OUTPOST_TEST_HOOKS_SNAPSHOT_ROWS": str(ROWS),
           "OUTPOST_TEST_HOOKS_SNAPSHOT_BYTES": str(BYTES)}
NODE_ENV = {"OUTPOST_TEST_HOOKS_SYNC_MS": "250"}
ATTACH = 100 * 1024                  # larger than a page's byte bound
N_EMPLOYERS = 90


def have_hooks():
    return harness.has_test_hooks(os.path.join(BIN, "outpost-hub"))


def emp_id(i):
    return "01a0f000-0000-7000-8000-%012d" % i


def hub_exec(hub, sql, *args):
    db = sqlite3.connect(os.path.join(hub.data, "hub.db"), timeout=30)
    try:
        db.execute(sql, args)
        db.commit()
    finally:
        db.close()


def meta(node, key):
    db = sqlite3.connect(os.path.join(node.data, "node.db"), timeout=30)
    try:
        r = db.execute("SELECT value FROM node_meta WHERE key=?", (key,)).fetchone()
        return r[0] if r else None
    finally:
        db.close()


def verify(node):
    p = sync(node, "verify", "--json")
    try:
        return json.loads(p.stdout)
    except ValueError:
        return {"ok": False, "out": p.stdout[-400:], "err": p.stderr[-400:]}


@unittest.skipUnless(have_hooks(), "needs the sanitizer test build (snapshot page hooks)")
class SnapshotTest(unittest.TestCase):
    def setUp(self):
        self.daemons = []
        self.hub = self.start(Daemon("hub", env=HUB_ENV))
        self.seed_hub()

    def tearDown(self):
        for d in reversed(self.daemons):
            d.cleanup()

    def start(self, d):
        self.daemons.append(d)
        return d.start()

    # ---- the hub's data: more than many pages --------------------------------------
    def seed_hub(self):
        db = sqlite3.connect(os.path.join(self.hub.data, "hub.db"), timeout=30)
        try:
            hlc = "000000000001.0000.hub"
            for i in range(N_EMPLOYERS):
                db.execute("INSERT INTO employers(id, company_name, normalized_name, username, zip,"
                           " zip5, created_at, updated_hlc) VALUES(?, ?, ?, 'u', '95814', '95814',"
                           " 1, ?)", (emp_id(i), "Acme %d" % i, "acme %d" % i, hlc))
            for i in range(3):
                data = os.urandom(ATTACH)  # deflate leaves it as large
                db.execute("INSERT INTO employer_attachments(id, employer_id, filename, content_type,"
                           " size, sha256, uploaded_at, data) VALUES(?, ?, 'f.pdf',"
                           " 'application/pdf', ?, 'x', 1, ?)",
                           ("01a0f100-0000-7000-8000-%012d" % i, emp_id(i), ATTACH, data))
            # Rows the node must never get: another office's check-ins and
            # another Local Area's reasons.
            db.execute("INSERT INTO local_areas(id, name, updated_hlc) VALUES('far-la', 'Far', ?)",
                       (hlc,))
            for i in range(12):
                office = "demo-office" if i % 2 else "demo-office-2"
                db.execute("INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
                           " arrived_at, visit_date, updated_hlc) VALUES(?, ?, 'demo-la', ?, 1,"
                           " '2026-01-05', ?)",
                           ("01a0f200-0000-7000-8000-%012d" % i, office, "Visitor %d" % i, hlc))
            db.execute("INSERT INTO greeter_reasons(id, local_area_id, label, label_es, updated_hlc)"
                       " VALUES('far-reason', 'far-la', 'Far', 'Lejos', ?)", (hlc,))
            db.commit()
        finally:
            db.close()

    def node(self, start=True, env=None, enroll_first=True):
        n = Daemon("node", env=dict(NODE_ENV, **(env or {})))
        self.daemons.append(n)
        if enroll_first:
            self.enroll(n)
        if start:
            n.start()
        return n

    def enroll(self, n):
        p = hub_tool(self.hub, "enroll-code", "--office", "demo-office")
        self.assertEqual(p.returncode, 0, p.stderr)
        code = p.stdout.decode().strip()
        plant_secret(code)
        p = sync(n, "enroll", "--hub", self.hub.url, "--code", code, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(n.data, "sync.json")) as f:
            ident = json.load(f)
        plant_secret(ident["node_secret"])
        n.node_id = ident["node_id"]

    def pages_served(self, n):
        return len(re.findall(r"snapshot page for node %s" % re.escape(n.node_id),
                              self.hub.read_log()))

    def assert_equal_to_hub(self, n):
        v = verify(n)
        self.assertTrue(v.get("match"), json.dumps(v)[:2000])
        self.assertEqual(count(n, "SELECT count(*) FROM checkins WHERE office_id <> 'demo-office'"), 0)
        self.assertEqual(count(n, "SELECT count(*) FROM local_areas WHERE id='far-la'"), 1)
        self.assertEqual(count(n, "SELECT count(*) FROM greeter_reasons WHERE id='far-reason'"), 0)
        self.assertEqual(count(n, "SELECT count(*) FROM employer_attachments WHERE length(data)=?",
                               ATTACH), 3)
        self.assertEqual(count(n, "SELECT count(*) FROM outbox"), 0)
        self.assertIsNone(meta(n, "snapshot_seq"))

    # ---- the node bootstraps by itself ---------------------------------------------
    def test_new_node_bootstraps_over_many_pages(self):
        n = self.node()
        wait_for(lambda: meta(n, "sync_cursor") is not None, timeout=120, what="the snapshot")
        self.assert_equal_to_hub(n)
        # Many pages, each one row bound or the byte bound; the attachments
        # (larger than the byte bound) each in a page of its own.
        self.assertGreater(self.pages_served(n), 700 // ROWS)
        sizes = [int(x) for x in re.findall(r"snapshot page for node %s: (\d+) bytes"
                                            % re.escape(n.node_id), self.hub.read_log())]
        self.assertEqual(len([s for s in sizes if s > BYTES]), 3, sizes)
        self.assertLessEqual(max(s for s in sizes if s < ATTACH), BYTES)
        # The staff it got sign in, and its status tells it is caught up.
        harness.login(n)
        st = n.get("/api/v1/sync/status").json()
        self.assertIsNotNone(st["cursor"])
        self.assertIsNone(st["snapshot_table"])

    def test_killed_mid_snapshot_resumes(self):
        # Killed by its own crash points: after the 3rd page's commit, then
        # inside a page's transaction (applied, not committed).
        n = self.node(env={"OUTPOST_FAULT": "snapshot.next:3"})
        n.proc.wait(timeout=120)
        self.assertIsNotNone(n.proc.poll(), "the crash point was not reached")
        n.log.close()
        n.log = None
        seq, table, after = (meta(n, k) for k in ("snapshot_seq", "snapshot_table", "snapshot_after"))
        self.assertIsNotNone(seq)
        self.assertIsNone(meta(n, "sync_cursor"), "half a snapshot must not claim a cursor")
        p = sync(n, "status")
        self.assertIn(b"a snapshot is under way, at table '%s'" % table.encode(), p.stdout)
        j = json.loads(sync(n, "status", "--json").stdout)
        self.assertIsNone(j["cursor"])
        self.assertEqual(j["snapshot_table"], table)
        held = count(n, "SELECT count(*) FROM staff")
        n.env["OUTPOST_FAULT"] = "pull.apply:2"
        n.start(wait=False)
        n.proc.wait(timeout=120)
        n.log.close()
        n.log = None
        # The page whose transaction was cut left nothing: the position is
        # the one after the page before it, one page on from where it was.
        self.assertEqual(meta(n, "snapshot_seq"), seq)
        self.assertIsNone(meta(n, "sync_cursor"))
        self.assertNotEqual((meta(n, "snapshot_table"), meta(n, "snapshot_after")), (table, after))
        self.assertGreaterEqual(count(n, "SELECT count(*) FROM staff"), held)
        del n.env["OUTPOST_FAULT"]
        served = self.pages_served(n)
        n.start()
        wait_for(lambda: meta(n, "sync_cursor") is not None, timeout=120, what="the snapshot")
        self.assertGreaterEqual(int(meta(n, "sync_cursor")), int(seq))
        self.assertIn("snapshot: resuming after", n.read_log())
        # Resumed, not started again: fewer pages than a whole snapshot.
        total = self.pages_served(n) - served
        whole = self.pages_served(self.node_whole())
        self.assertLess(total, whole)
        self.assert_equal_to_hub(n)

    def node_whole(self):
        """A second node's whole snapshot, for the page count."""
        m = self.node()
        wait_for(lambda: meta(m, "sync_cursor") is not None, timeout=120, what="the snapshot")
        return m

    # ---- outpost-sync page by page, the hub edited between pages ----------------------
    def test_edits_between_pages_and_stale_rows(self):
        # A node that first ran stand-alone (its demo seeds are hub-owned rows
        # written without capture), then enrolled while stopped.
        n = self.node(start=False, enroll_first=False, env={"OUTPOST_NODE_SYNC_INTERVAL": "0"})
        n.start()
        n.stop()
        self.enroll(n)
        db = sqlite3.connect(os.path.join(n.data, "node.db"), timeout=30)
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM outbox").fetchone()[0], 0)
            db.execute("INSERT INTO offices(id, local_area_id, name) VALUES('zz-stray', 'demo-la',"
                       " 'Stray')")
            db.execute("INSERT INTO employers(id, company_name, normalized_name, username, zip,"
                       " zip5, created_at) VALUES(?, 'Stray', 'stray', 'u', '1', '1', 1)",
                       (emp_id(0) + "-stray",))
            db.execute("INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
                       " arrived_at, visit_date) VALUES('00-other', 'demo-office-2', 'demo-la',"
                       " 'Other', 1, '2026-01-05')")
            db.commit()
        finally:
            db.close()
        # One page per run: the run kills itself once a page is committed.
        seq = None
        positions = []
        for _ in range(60):
            p = sync(n, "pull", env={"OUTPOST_FAULT": "snapshot.next:1"})
            self.assertEqual(p.returncode, -9, p.stderr)
            self.assertIsNone(meta(n, "sync_cursor"))
            s = meta(n, "snapshot_seq")
            if seq is None:
                seq = s
            self.assertEqual(s, seq, "the snapshot's seq is fixed by its first page")
            pos = (meta(n, "snapshot_table"), meta(n, "snapshot_after"))
            self.assertNotIn(pos, positions)
            positions.append(pos)
            if pos[0] == "employers" and pos[1] > emp_id(5) and pos[1] < emp_id(N_EMPLOYERS - 5):
                break
        else:
            self.fail("never half-way through employers: %r" % positions[-5:])
        after = pos[1]
        have = count(n, "SELECT count(*) FROM employers WHERE id <= ?", after)
        self.assertGreater(have, 5)
        self.assertEqual(count(n, "SELECT count(*) FROM employers WHERE id > ?", after), 0)
        # Stray rows in the ranges already covered are gone already.
        self.assertEqual(count(n, "SELECT count(*) FROM offices WHERE id='zz-stray'"), 0)
        self.assertEqual(count(n, "SELECT count(*) FROM checkins WHERE id='00-other'"), 0)
        # The hub changes, behind and ahead of the node's position.
        done = [i for i in range(N_EMPLOYERS) if emp_id(i) <= after]
        todo = [i for i in range(N_EMPLOYERS) if emp_id(i) > after]
        hub_exec(self.hub, "UPDATE offices SET name='Renamed Office',"
                           " updated_hlc='000000000002.0000.hub' WHERE id='demo-office'")
        hub_exec(self.hub, "UPDATE participant_activity_codes SET title='Renamed Code',"
                           " updated_hlc='000000000002.0000.hub' WHERE id=(SELECT max(id) FROM"
                           " participant_activity_codes)")
        hub_exec(self.hub, "DELETE FROM employers WHERE id=?", emp_id(done[-1]))
        hub_exec(self.hub, "DELETE FROM employers WHERE id=?", emp_id(todo[1]))
        hub_exec(self.hub, "UPDATE employers SET company_name='Renamed Early' WHERE id=?",
                 emp_id(done[0]))
        for new in (emp_id(done[0]) + "-new", emp_id(todo[2]) + "-new"):
            hub_exec(self.hub, "INSERT INTO employers(id, company_name, normalized_name, username,"
                               " zip, zip5, created_at) VALUES(?, 'New', 'new', 'u', '1', '1', 1)",
                     new)
        self.assertEqual(count(n, "SELECT count(*) FROM employers WHERE id=?", emp_id(done[-1])), 1)
        # The rest of the snapshot, then the pull from its seq.
        p = sync(n, "pull", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        j = json.loads(p.stdout)
        self.assertTrue(j["snapshot"])
        self.assertGreaterEqual(j["snapshot_pages"], 2)
        self.assertGreaterEqual(j["pages"], 1)
        self.assertGreater(j["cursor"], int(seq))
        self.assert_equal_to_hub(n)
        self.assertEqual(count(n, "SELECT name FROM offices WHERE id='demo-office'"), "Renamed Office")
        self.assertEqual(count(n, "SELECT count(*) FROM participant_activity_codes"
                                  " WHERE title='Renamed Code'"), 1)
        self.assertEqual(count(n, "SELECT count(*) FROM employers WHERE id IN (?, ?)",
                               emp_id(done[-1]), emp_id(todo[1])), 0)
        self.assertEqual(count(n, "SELECT company_name FROM employers WHERE id=?", emp_id(done[0])),
                         "Renamed Early")
        self.assertEqual(count(n, "SELECT count(*) FROM employers WHERE id LIKE '%-new'"), 2)
        self.assertEqual(count(n, "SELECT count(*) FROM employers WHERE id LIKE '%-stray'"), 0)
        self.assertEqual(count(n, "SELECT count(*) FROM employers"), N_EMPLOYERS)
        # Pulled rows never enter the outbox.
        self.assertEqual(count(n, "SELECT count(*) FROM outbox"), 0)

    def test_progress_counts_up_over_the_pages(self):
        n = self.node(start=False, env={"OUTPOST_NODE_SYNC_INTERVAL": "0"})
        n.start()
        n.stop()
        rc, out = test_sync_node.SyncNodeTest.run_pty(
            self, ["pull", "--data", n.data], {"OUTPOST_SYNC_PROGRESS_DELAY_MS": "0"})
        self.assertEqual(rc, 0, out)
        done = [int(x) for x in re.findall(rb"\rsnapshot +(\d+) bytes", out)]
        self.assertTrue(done, out[-500:])
        self.assertEqual(done, sorted(done), "one count over every page, never back to 0")
        m = re.search(rb"pulled a snapshot \((\d+) pages\) and \d+ pages? \((\d+) bytes\)", out)
        self.assertIsNotNone(m, out[-500:])
        self.assertGreater(int(m.group(1)), 700 // ROWS)
        self.assertGreater(max(done), int(m.group(2)) // 2)
        self.assert_equal_to_hub(n)

    # ---- the wire --------------------------------------------------------------------
    def test_wire_pages_and_bad_positions(self):
        code = hub_tool(self.hub, "enroll-code", "--office", "demo-office").stdout.decode().strip()
        plant_secret(code)
        r = self.hub.request("POST", "/api/v1/sync/enroll", body={"code": code})
        self.assertEqual(r.status, 200, r.body)
        e = test_hub.Enrolled(self.hub, r.json())
        head = count(self.hub, "SELECT max(seq) FROM change_log")
        r = e.request("GET", "/api/v1/sync/snapshot")
        self.assertEqual(r.status, 200, r.body)
        seq = r.header("X-Outpost-Next")
        self.assertEqual(int(seq), head)
        self.assertEqual(r.header("X-Outpost-More"), "1")
        table, after = r.header("X-Outpost-After-Table"), r.header("X-Outpost-After-Id")
        pages, last = 1, None
        while r.header("X-Outpost-More") == "1":
            table, after = r.header("X-Outpost-After-Table"), r.header("X-Outpost-After-Id")
            self.assertRegex(after, r"^[A-Za-z0-9._~%-]+$")
            path = "/api/v1/sync/snapshot?seq=%s&after_table=%s&after_id=%s" % (seq, table, after)
            r = e.request("GET", path)
            self.assertEqual(r.status, 200, (path, r.body))
            self.assertEqual(r.header("X-Outpost-Next"), seq, "the seq is echoed")
            self.assertNotEqual((table, after), last)
            last = (table, after)
            pages += 1
            self.assertLess(pages, 200)
            if pages == 3:
                # A page comes deflated to who asks for it.
                h = e.headers("GET", path)
                h["Accept-Encoding"] = "deflate"
                z = self.hub.request("GET", path, headers=h)
                self.assertEqual(z.header("Content-Encoding"), "deflate")
                self.assertEqual(zlib.decompress(z.body), r.body)
        self.assertIsNone(r.header("X-Outpost-After-Table"))
        self.assertGreater(pages, 700 // ROWS)
        # Bad positions: 400 with a JSON error, and nothing served.
        bad = ["?seq=%s" % seq,
               "?after_table=offices&after_id=demo-office",
               "?seq=%s&after_table=offices" % seq,
               "?seq=x&after_table=offices&after_id=demo-office",
               "?seq=-1&after_table=offices&after_id=demo-office",
               "?seq=%d&after_table=offices&after_id=demo-office" % (head + 1000),
               "?seq=%s&after_table=nodes&after_id=x" % seq,
               "?seq=%s&after_table=outbox&after_id=x" % seq,
               "?seq=%s&after_table=offices%%3B&after_id=x" % seq,
               "?seq=%s&after_table=offices&after_id=" % seq,
               "?seq=%s&after_table=offices&after_id=%s" % (seq, "x" * 257),
               "?seq=%s&after_table=offices&after_id=%%zz" % seq]
        for q in bad:
            r = e.request("GET", "/api/v1/sync/snapshot" + q)
            self.assertEqual(r.status, 400, (q, r.body))
            self.assertIn("error", r.json(), q)
        r = e.request("GET", "/api/v1/sync/snapshot?seq=%s&after_table=offices&after_id=%s"
                      % (seq, "x" * 256))
        self.assertEqual(r.status, 200, r.body)
        # The signature covers the query: a position changed after signing is refused.
        signed = "/api/v1/sync/snapshot?seq=%s&after_table=offices&after_id=a" % seq
        h = e.headers("GET", signed)
        r = self.hub.request("GET", signed.replace("after_id=a", "after_id=b"), headers=h)
        self.assertEqual(r.status, 401, r.body)
        self.assertIn("signature", r.json()["error"])


if __name__ == "__main__":
    unittest.main()
