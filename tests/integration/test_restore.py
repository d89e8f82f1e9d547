"""Issue #18, disaster recovery: `outpost-hub backup` taken while two
offices push, the offices keep writing, the hub is stopped and restored
from that older backup, the offices keep writing, and in the end every
write an office acknowledged (201) is at the hub and at its office again,
with `outpost-sync verify` agreeing at both.  What the backup lacked comes
back from the offices' sent logs (sync/sent.c); a node that pulled entries
the restored hub lost takes a new snapshot (the restore's change-log gap).

Also: the backup is mode 0600 and carries the key files; restore refuses a
running hub and an existing database without --force.
"""
import fcntl
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BIN, Daemon, admin_token, login, plant_secret, run_tool
from test_sync_node import Office, checkin, count, hub_tool, sync, wait_for


class Writer(threading.Thread):
    """Kiosk check-ins at one node, one after another, until stopped; keeps
    the id of every check-in the node acknowledged with 201."""

    def __init__(self, node, tag):
        super().__init__(daemon=True)
        self.node, self.tag = node, tag
        self.acked = []
        self.stop = threading.Event()
        self.reason = node.get("/api/v1/greeter/reasons").json()[0]["id"]

    def run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            try:
                r = self.node.post("/api/v1/checkins", {
                    "visitor_name": "%s visitor %d" % (self.tag, i),
                    "reason_ids": [self.reason], "language": "en"}, timeout=30)
                if r.status == 201:
                    self.acked.append(r.json()["id"])
            except OSError:
                pass
            time.sleep(0.02)

    def wait_more(self, n, timeout=60):
        goal = len(self.acked) + n
        wait_for(lambda: len(self.acked) >= goal, timeout=timeout,
                 what="%d more check-ins at %s" % (n, self.tag))


def ids_at(daemon, ids):
    db = daemon.db()
    try:
        have = set(r[0] for r in db.execute("SELECT id FROM checkins"))
    finally:
        db.close()
    return [i for i in ids if i not in have]


class RestoreDrillTest(unittest.TestCase):
    def setUp(self):
        self.o = Office(self)
        self.writers = []

    def tearDown(self):
        for w in self.writers:
            w.stop.set()
        for w in self.writers:
            w.join(timeout=30)
        self.o.close()

    def backup_dir(self):
        """A folder for backups, removed after the test."""
        bdir = tempfile.mkdtemp(prefix="outpost-bk-")
        self.addCleanup(shutil.rmtree, bdir, True)
        return bdir

    def backed_up(self, hub):
        """A backup of hub (its key file beside it) in a folder of its own,
        removed after the test: its path."""
        backup = os.path.join(self.backup_dir(), "hub.backup")
        self.assertEqual(hub_tool(hub, "backup", "--out", backup).returncode, 0)
        return backup

    def test_restore_from_older_backup_loses_nothing(self):
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office", start=False)
        b = self.o.node(hub, "demo-office-2", start=False)
        for n in (a, b):
            n.args += ["--sync_interval", "1"]
            n.start()
        # Each has taken its identity and first snapshot, and serves its
        # office, before the office writes (a write before that belongs to
        # the stand-alone demo office).
        for n, office in ((a, "demo-office"), (b, "demo-office-2")):
            login(n)
            wait_for(lambda: (lambda s: s.get("office_id") == office and s.get("cursor") is not None)(
                n.get("/api/v1/sync/status").json()), timeout=60, what="first snapshot of %s" % office)
        wa, wb = Writer(a, "office-a"), Writer(b, "office-b")
        self.writers = [wa, wb]
        wa.start()
        wb.start()
        wa.wait_more(20)
        wb.wait_more(20)
        # Some of it at the hub, the push load going on: back up.
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins") >= 10, timeout=60,
                 what="check-ins at the hub")
        backup = os.path.join(hub.data, "..", os.path.basename(hub.data) + ".backup")
        p = hub_tool(hub, "backup", "--out", backup)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(backup).st_mode), 0o600)
        bk = sqlite3.connect(backup)
        names = set(r[0] for r in bk.execute("SELECT name FROM outpost_backup_files"))
        in_backup = bk.execute("SELECT count(*) FROM checkins").fetchone()[0]
        self.assertEqual(bk.execute("PRAGMA quick_check").fetchone()[0], "ok")
        bk.close()
        self.assertEqual(names, {"hub.crt", "ca.crt"})   # every secret is in the key file
        kb = sqlite3.connect(backup + ".key")
        self.assertEqual(set(r[0] for r in kb.execute("SELECT name FROM outpost_backup_files")),
                         {"hub.key", "admin.token", "master.key", "ca.key"})
        kb.close()
        # A second backup to the same file is refused (never overwritten).
        self.assertNotEqual(hub_tool(hub, "backup", "--out", backup).returncode, 0)
        # Restore refuses a running hub.
        p = hub_tool(hub, "restore", backup, "--force")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"running", p.stderr)

        # The offices go on; the hub acknowledges and they pull well past the
        # backup.
        wa.wait_more(20)
        wb.wait_more(20)
        want = len(wa.acked) + len(wb.acked)
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins") >= in_backup + 20,
                 timeout=60, what="check-ins at the hub after the backup")
        lost = count(hub, "SELECT count(*) FROM checkins") - in_backup
        self.assertGreater(lost, 0)
        head_before = count(hub, "SELECT max(seq) FROM change_log")

        # Disaster: the hub goes; the offices keep writing.
        hub.stop()
        wa.wait_more(5)
        wb.wait_more(5)
        p = hub_tool(hub, "restore", backup)
        self.assertNotEqual(p.returncode, 0)  # hub.db is there: --force
        self.assertIn(b"--force", p.stderr)
        p = hub_tool(hub, "restore", backup, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(any(f.startswith("hub.db.before-restore.") for f in os.listdir(hub.data)))
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins"), in_backup)
        hub.start()
        wa.wait_more(10)
        wb.wait_more(10)
        for w in self.writers:
            w.stop.set()
        for w in self.writers:
            w.join(timeout=60)
        self.assertGreater(len(wa.acked) + len(wb.acked), want)

        # Every acknowledged write, at the hub and at its office.
        for node, w in ((a, wa), (b, wb)):
            try:
                wait_for(lambda: not ids_at(hub, w.acked), timeout=120,
                         what="every check-in of %s at the restored hub" % w.tag)
            except AssertionError:
                miss = ids_at(hub, w.acked)
                db = node.db()
                info = [(i, db.execute("SELECT count(*) FROM checkins WHERE id=?", (i,)).fetchone()[0],
                         w.acked.index(i)) for i in miss[:5]]
                st = node.get("/api/v1/sync/status").json()
                raise AssertionError("%d of %d missing at the hub: %r; node status %r; outbox %r sent %r" % (
                    len(miss), len(w.acked), info, st,
                    tuple(db.execute("SELECT count(*), min(seq), max(seq) FROM outbox").fetchone()),
                    tuple(db.execute("SELECT count(*), min(seq), max(seq) FROM outbox_sent").fetchone()))
                    + repr([tuple(r) for r in hub.db().execute(
                        "SELECT seq, op, origin FROM change_log WHERE row_id=?", (miss[0],))])
                    + repr([tuple(r) for r in hub.db().execute("SELECT * FROM sync_ctx")])
                    + repr([tuple(r) for r in hub.db().execute("SELECT id, acked_seq, pull_cursor FROM nodes")])
                    + repr([tuple(r) for r in db.execute("SELECT * FROM sync_state")])
                    + repr([tuple(r) for r in db.execute("SELECT * FROM node_meta")])
                    + " dirs %s %s %s" % (hub.data, a.data, b.data))
            wait_for(lambda: not ids_at(node, w.acked), timeout=60,
                     what="every check-in of %s at its office" % w.tag)
        total = len(wa.acked) + len(wb.acked)
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE visitor_name LIKE 'office-%'"),
                         total)
        # The offices sent again what the backup lacked, and the nodes that
        # had pulled past the backup took a new snapshot.
        self.assertTrue(any("sending them again" in n.read_log() for n in (a, b)))
        self.assertGreater(count(hub, "SELECT max(seq) FROM change_log"), head_before)

        # verify agrees at both offices once they are caught up.
        def verified(n):
            p = sync(n, "verify", "--json")
            return p.returncode == 0
        for n in (a, b):
            wait_for(lambda: verified(n), timeout=90, step=2, what="verify at %s" % n.name)

    def test_restores_never_hand_a_seq_out_twice(self):
        """Pulls work at once after a restore, before anything new is written
        (the restored head is no cursor to refuse), and a second restore of
        the same backup goes on past every seq the first restored hub handed
        out: a node that pulled past them would otherwise skip the entries
        written after the second restore, and say it was caught up."""
        hub = self.o.hub()
        nodes = []
        for _ in range(2):
            n = self.o.node(hub, start=False)
            n.args += ["--sync_interval", "0"]  # each sync below, by hand
            n.start()
            nodes.append(n)
        a, b = nodes

        def ok(n, *args):
            p = sync(n, *args)
            self.assertEqual(p.returncode, 0, (args, p.stdout, p.stderr))

        for n in nodes:
            ok(n, "pull")  # the accounts, to sign in
            login(n)
            ok(n, "push")
            ok(n, "pull")
        spare = self.o.code(hub)  # unused in the backup
        backup = os.path.join(hub.data, "..", os.path.basename(hub.data) + ".twice")
        p = hub_tool(hub, "backup", "--out", backup)
        self.assertEqual(p.returncode, 0, p.stderr)

        def restore():
            hub.stop()
            p = hub_tool(hub, "restore", backup, "--force")
            self.assertEqual(p.returncode, 0, p.stderr)
            hub.start()

        restore()
        # A code may have been used after the backup: none comes back.
        late = Daemon("node")
        self.o.daemons.append(late)
        p = sync(late, "enroll", "--hub", hub.url, "--code", spare, "--json")
        self.assertEqual(p.returncode, 4, (p.stdout, p.stderr))
        for n in nodes:  # nothing written since the restore
            ok(n, "pull")
            ok(n, "pull")
        for i in range(3):
            checkin(b, "first restore %d" % i)
        ok(b, "push")
        ok(a, "pull")
        cursor = int(count(a, "SELECT value FROM node_meta WHERE key='sync_cursor'"))
        restore()
        zs = []
        while count(hub, "SELECT coalesce(max(seq), 0) FROM change_log") <= cursor and len(zs) < 30:
            zs.append(checkin(b, "second restore %d" % len(zs)))
            ok(b, "push")
        self.assertGreater(count(hub, "SELECT max(seq) FROM change_log"), cursor)
        ok(a, "pull")
        ok(a, "pull")
        self.assertEqual(ids_at(a, zs), [], "written after the second restore, not at office A")
        ok(a, "verify")

    def test_many_restores_keep_the_latest_gaps(self):
        """The gaps of earlier restores (sync_ctx log_gaps) make room for a
        new one by dropping the oldest: the latest stay, since a node may
        still pull from before the last restore."""
        hub = self.o.hub()
        backup = os.path.join(hub.data, "..", os.path.basename(hub.data) + ".gaps")
        p = hub_tool(hub, "backup", "--out", backup)
        self.assertEqual(p.returncode, 0, p.stderr)
        gaps = ["%d-%d" % (10 ** 12 * i, 10 ** 12 * i + 10 ** 9) for i in range(1, 35)]  # 1001 bytes: as full as it gets
        bk = sqlite3.connect(backup)
        bk.execute("INSERT OR REPLACE INTO sync_ctx(k, v) VALUES('log_gaps', ?)", (",".join(gaps),))
        bk.commit()
        bk.close()
        hub.stop()
        p = hub_tool(hub, "restore", backup, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        now = count(hub, "SELECT v FROM sync_ctx WHERE k='log_gaps'").split(",")
        self.assertEqual(now[-2], gaps[-1])   # the latest kept, the new one after it
        self.assertNotIn(gaps[0], now)
        self.assertLess(len(",".join(now)), 1024)
        hub.start()

    def test_same_backup_restored_on_two_fresh_machines(self):
        """The first restored hub's machine is lost too, and the same backup
        is restored on a fresh one: nothing tells that restore which seqs
        the first restored hub handed out.  A node that pulled from the
        first must still not take the second's new entries as pulled (its
        cursor lies in the second's gap or past its head: a snapshot)."""
        hub = self.o.hub()
        a, run_a = self.manual_node(hub)
        b, run_b = self.manual_node(hub)
        c, run_c = self.manual_node(hub)
        for run in (run_a, run_b, run_c):
            run("push")
            run("pull")
        backup = os.path.join(hub.data, "..", os.path.basename(hub.data) + ".fresh")
        p = hub_tool(hub, "backup", "--out", backup)
        self.assertEqual(p.returncode, 0, p.stderr)

        def restore_on_a_fresh_machine():
            hub.stop()
            for suffix in ("", "-wal", "-shm"):
                path = os.path.join(hub.data, "hub.db" + suffix)
                if os.path.exists(path):
                    os.unlink(path)
            p = hub_tool(hub, "restore", backup)
            self.assertEqual(p.returncode, 0, p.stderr)
            hub.start()

        restore_on_a_fresh_machine()
        # Office C writes to the first machine and is then offline for long:
        # the second machine's first seqs go to office B's new check-ins.
        for i in range(3):
            checkin(c, "first machine %d" % i)
        run_c("push")
        run_a("pull")
        cursor = int(count(a, "SELECT value FROM node_meta WHERE key='sync_cursor'"))
        first_head = count(hub, "SELECT max(seq) FROM change_log")
        restore_on_a_fresh_machine()
        zs = [checkin(b, "second machine %d" % i) for i in range(3)]
        run_b("push")
        run_a("pull")
        run_a("pull")
        self.assertEqual(ids_at(a, zs), [], "written after the second restore, not at office A")
        run_a("verify")
        self.assertNotEqual(count(hub, "SELECT max(seq) FROM change_log"), first_head,
                            "the second restore goes on where the first did")
        self.assertNotEqual(int(count(a, "SELECT value FROM node_meta WHERE key='sync_cursor'")),
                            cursor)

    def manual_node(self, hub):
        """An enrolled node that syncs only when told, its accounts pulled
        and signed in: (the node, run(*args, rc=0) of outpost-sync at it)."""
        n = self.o.node(hub, start=False)
        n.args += ["--sync_interval", "0"]
        n.start()

        def run(*args, rc=0):
            p = sync(n, *args)
            self.assertEqual(p.returncode, rc, (args, p.stdout, p.stderr))

        run("pull")
        login(n)
        return n, run

    def test_enrolled_again_after_a_restore_loses_nothing(self):
        """A node enrolled after the backup is unknown to the restored hub;
        enrolled again (as README says), it sends again what the hub had
        acknowledged under its old identity, so those check-ins are at the
        hub and stay at the office after the snapshot."""
        hub = self.o.hub()
        backup = os.path.join(hub.data, "..", os.path.basename(hub.data) + ".early")
        p = hub_tool(hub, "backup", "--out", backup)
        self.assertEqual(p.returncode, 0, p.stderr)
        n, run = self.manual_node(hub)
        acked = [checkin(n, "acked before the restore %d" % i) for i in range(3)]
        run("push")
        hub.stop()
        p = hub_tool(hub, "restore", backup, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        hub.start()
        waiting = checkin(n, "waiting at the restore")
        run("push", rc=4)  # unknown to the restored hub
        run("enroll", "--force", "--hub", hub.url, "--code", self.o.code(hub), "--json")
        with open(os.path.join(n.data, "sync.json")) as f:
            plant_secret(json.load(f)["node_secret"])
        run("push")
        run("pull")
        run("pull")
        self.assertEqual(ids_at(hub, acked + [waiting]), [], "missing at the hub")
        self.assertEqual(ids_at(n, acked + [waiting]), [], "missing at the office")
        run("verify")

    def test_bundles_to_a_restored_hub(self):
        """An office that reaches the hub only by bundles: after the hub is
        restored from an older backup its plain export starts past the gap
        and is refused with what to do; `export --resend` adds what the hub
        had acknowledged, and the import takes everything."""
        hub = self.o.hub()
        n, run = self.manual_node(hub)
        run("push")
        backup = os.path.join(hub.data, "..", os.path.basename(hub.data) + ".bundles")
        p = hub_tool(hub, "backup", "--out", backup)
        self.assertEqual(p.returncode, 0, p.stderr)
        lost = checkin(n, "acknowledged after the backup")
        run("push")
        hub.stop()
        p = hub_tool(hub, "restore", backup, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        waiting = checkin(n, "written while cut off")
        out = os.path.join(n.data, "..", os.path.basename(n.data) + ".bundle")
        run("export", "--out", out)
        p = hub_tool(hub, "import", out)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"export --resend", p.stderr)
        run("export", "--resend", "--out", out + "r")
        p = hub_tool(hub, "import", out + "r")
        self.assertEqual(p.returncode, 0, p.stderr)
        hub.start()
        self.assertEqual(ids_at(hub, [lost, waiting]), [])

    def test_backup_keys_apart_round_trip(self):
        """backup writes the database and its secrets (master.key, hub.key,
        admin.token) to two files; restore takes both, refuses the database
        without the key that belongs to it, and the restored hub serves the
        same office: its node secret unwraps (the node's push is taken)."""
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office")
        before = checkin(a, "before the backup")
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", before) == 1,
                 timeout=60, what="the check-in at the hub")
        # A form uploaded to an access request (DIR/files/ID: hub.db names
        # it) and the hub's settings file are in the backup too.
        auth = {"Authorization": "Bearer " + admin_token(hub)}
        today = time.strftime("%Y-%m-%d")
        r = hub.request("POST", "/api/v1/admin/access-requests", headers=auth, body={
            "kind": "new", "username": "bkform" + os.urandom(2).hex(), "display_name": "Form Keeper",
            "local_area_id": "demo-la", "privilege_group": "LWIA/CBO Staff",
            "requestor_name": "Pat Manager", "requestor_email": "pat@example.org",
            "ispa_date": today, "confidentiality_type": "E-1", "confidentiality_date": today,
            "business_need": "case management"})
        self.assertEqual(r.status, 201, r.body)
        form = b"%PDF-1.4\n1 0 obj <<>> endobj\n% the signed request " + os.urandom(8).hex().encode() + b"\n%%EOF\n"
        r = hub.request("POST", "/api/v1/admin/access-requests/%s/files?kind=request_form&filename=req.pdf"
                        % r.json()["id"], headers=dict(auth, **{"Content-Type": "application/pdf"}), body=form)
        self.assertEqual(r.status, 201, r.body)
        fid = r.json()["id"]
        with open(os.path.join(hub.data, "hub.conf"), "w") as f:
            f.write("# this hub's settings\nverbose = 1\n")
        # A form gone from the disk is said, and the backup is made without it.
        lost = "0190a000-0000-7000-8000-00000000dead"
        db = hub.db()
        db.execute("INSERT INTO request_files(id, request_id, kind, filename, content_type, size, sha256,"
                   " uploaded_at, uploaded_by) SELECT ?, request_id, kind, 'lost.pdf', content_type, 1,"
                   " sha256, uploaded_at, uploaded_by FROM request_files WHERE id=?", (lost, fid))
        db.commit()
        db.close()
        bdir = tempfile.mkdtemp(prefix="outpost-bk-")
        try:
            backup, keys = os.path.join(bdir, "hub.backup"), os.path.join(bdir, "elsewhere.key")
            p = hub_tool(hub, "backup", "--out", backup, "--key-file", keys)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"and 1 uploaded form written", p.stdout)
            self.assertIn(("files/%s' is missing" % lost).encode(), p.stderr)
            for f in (backup, keys):
                self.assertEqual(stat.S_IMODE(os.stat(f).st_mode), 0o600, f)
            with open(os.path.join(hub.data, "master.key"), "rb") as f:
                master = f.read()
            with open(backup, "rb") as f:
                self.assertNotIn(master.strip(), f.read())
            bk = sqlite3.connect(backup)
            self.assertEqual(set(r[0] for r in bk.execute("SELECT name FROM outpost_backup_files")),
                             {"hub.crt", "ca.crt", "hub.conf"})
            self.assertEqual(bk.execute("SELECT id, content FROM outpost_backup_uploads").fetchall(),
                             [(fid, form)])
            bk.close()
            kb = sqlite3.connect(keys)
            self.assertEqual(kb.execute("SELECT content FROM outpost_backup_files"
                                        " WHERE name='master.key'").fetchone()[0], master)
            self.assertEqual(kb.execute("SELECT count(*) FROM sqlite_master WHERE name='checkins'")
                             .fetchone()[0], 0)
            kb.close()
            # the machine is lost: a new data directory gets the backup
            hub.stop()
            old_dir = hub.data
            hub.data = os.path.join(bdir, "restored")   # hub.tmp, the old one, goes at clean-up
            os.mkdir(hub.data, 0o700)
            p = hub_tool(hub, "restore", backup)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"--key-file", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(hub.data, "hub.db")))
            # a key file of another hub is refused
            other = os.path.join(bdir, "other.key")
            okb = sqlite3.connect(other)
            okb.executescript("CREATE TABLE outpost_backup_info(k TEXT PRIMARY KEY, v TEXT);"
                              "INSERT INTO outpost_backup_info VALUES('kind','keys');"
                              "CREATE TABLE outpost_backup_files(name TEXT PRIMARY KEY,"
                              " mode INTEGER, content BLOB);"
                              "INSERT INTO outpost_backup_files VALUES('master.key', 384,"
                              " X'00112233');")
            okb.close()
            p = hub_tool(hub, "restore", backup, "--key-file", other)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(b"does not hold the master key", p.stderr)
            # A file that cannot be written (here: files/ is not a folder)
            # leaves the directory as it was: no database beside no keys.
            with open(os.path.join(hub.data, "files"), "w") as f:
                f.write("in the way")
            p = hub_tool(hub, "restore", backup, "--key-file", keys)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(b"is as it was", p.stderr)
            self.assertEqual(sorted(os.listdir(hub.data)), ["files", "hub.lock"])
            os.unlink(os.path.join(hub.data, "files"))
            p = hub_tool(hub, "restore", backup, "--key-file", keys)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"and 1 uploaded form from", p.stdout)
            with open(os.path.join(hub.data, "master.key"), "rb") as f:
                self.assertEqual(f.read(), master)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(hub.data, "files")).st_mode), 0o700)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(hub.data, "files", fid)).st_mode), 0o600)
            with open(os.path.join(hub.data, "hub.conf")) as f:
                self.assertEqual(f.read(), "# this hub's settings\nverbose = 1\n")
            self.assertEqual([f for f in os.listdir(hub.data) if f.endswith(".restoring")], [])
            for f in ("ca.key", "ca.crt", "hub.key"):   # the office CA and the hub's key too
                with open(os.path.join(bdir, "restored", f), "rb") as a_, \
                        open(os.path.join(old_dir, f), "rb") as b_:
                    self.assertEqual(a_.read(), b_.read(), f)
            hub.start()
            r = hub.request("GET", "/api/v1/admin/files/" + fid,
                            headers={"Authorization": "Bearer " + admin_token(hub)})
            self.assertEqual((r.status, r.body), (200, form))
            after = checkin(a, "after the restore")
            wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", after) == 1,
                     timeout=90, what="the node's push taken by the restored hub")
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", before), 1)
        finally:
            shutil.rmtree(bdir, ignore_errors=True)

    def test_restore_waits_for_other_commands(self):
        """A restore moves the database aside: it refuses while another
        command works on the hub (an import beside the serving hub), and
        such a command refuses while a restore is under way, rather than
        write to the file set aside (held here as the two would hold it)."""
        hub = self.o.hub()
        backup = self.backed_up(hub)
        hub.stop()
        held = os.open(hub.data, os.O_RDONLY)      # the lock is the directory's
        try:
            fcntl.flock(held, fcntl.LOCK_SH)         # an import at work
            p = hub_tool(hub, "restore", backup, "--force")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(b"is working on", p.stderr)
            self.assertFalse([f for f in os.listdir(hub.data) if "before-restore" in f or
                              f.endswith(".restore")], os.listdir(hub.data))
            fcntl.flock(held, fcntl.LOCK_UN)
            fcntl.flock(held, fcntl.LOCK_EX)         # a restore at work
            for args in (["enroll-code", "--office", "demo-office"],
                         ["import", backup], ["backup", "--out", backup + ".2"]):
                p = hub_tool(hub, *args)
                self.assertEqual(p.returncode, 1, (args, p.stderr))
                self.assertIn(b"a restore is under way", p.stderr, args)
            self.assertFalse(os.path.exists(backup + ".2"))
            fcntl.flock(held, fcntl.LOCK_UN)
        finally:
            os.close(held)
        self.assertFalse(os.path.exists(os.path.join(hub.data, "hub.use")))
        p = hub_tool(hub, "restore", backup, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        # a FIFO named as a bundle is refused, not waited on
        fifo = os.path.join(os.path.dirname(backup), "fifo")
        os.mkfifo(fifo)
        p = hub_tool(hub, "import", fifo)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"not a regular file", p.stderr)

    def test_failed_or_foreign_restore_keeps_the_hub(self):
        """A restore that fails (the disk fills while the copy is written),
        or of a backup made by a newer release, leaves the hub as it was -
        never without a database, which the next start took for a new,
        empty hub; and one of another hub's backup keeps the key files it
        replaced beside the database it kept, so that database can be
        opened again."""
        hub, other = self.o.hub(), self.o.hub()
        bdir = tempfile.mkdtemp(prefix="outpost-bk-")
        try:
            theirs = os.path.join(bdir, "theirs.backup")
            self.assertEqual(hub_tool(other, "backup", "--out", theirs).returncode, 0)
            other.stop()
            hub.stop()
            offices = count(hub, "SELECT count(*) FROM offices")
            with open(os.path.join(hub.data, "master.key"), "rb") as f:
                mine = f.read()

            def untouched(what):
                self.assertEqual([f for f in os.listdir(hub.data) if "restore" in f], [], what)
                self.assertEqual(count(hub, "SELECT count(*) FROM offices"), offices, what)
                with open(os.path.join(hub.data, "master.key"), "rb") as f:
                    self.assertEqual(f.read(), mine, what)
            # made by a newer release: refused before anything is touched
            newer = os.path.join(bdir, "newer.backup")
            shutil.copy(theirs, newer)
            shutil.copy(theirs + ".key", newer + ".key")
            db = sqlite3.connect(newer)
            db.execute("UPDATE schema_version SET version = version + 1 WHERE component='hub'")
            db.commit()
            db.close()
            p = hub_tool(hub, "restore", newer, "--force")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(b"newer outpost-hub", p.stderr)
            untouched("a newer backup")
            # the disk fills while the copy is written (a file size limit)
            p = run_tool(["/bin/bash", "-c", "trap '' XFSZ; ulimit -f 64; exec \"$@\"", "restore",
                          os.path.join(BIN, "outpost-hub"), "restore", theirs, "--force",
                          "--data", hub.data], name="hub")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(b"is as it was", p.stderr)
            untouched("a full disk")
            # another hub's backup: taken, the replaced keys kept beside
            p = hub_tool(hub, "restore", theirs, "--force")
            self.assertEqual(p.returncode, 0, p.stderr)
            kept = [f for f in os.listdir(hub.data) if f.startswith("master.key.before-restore.")]
            self.assertEqual(len(kept), 1, os.listdir(hub.data))
            with open(os.path.join(hub.data, kept[0]), "rb") as f:
                self.assertEqual(f.read(), mine)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(hub.data, kept[0])).st_mode), 0o600)
            stamp = kept[0].rsplit(".", 1)[1]
            self.assertTrue(os.path.exists(os.path.join(hub.data, "hub.db.before-restore." + stamp)))
        finally:
            shutil.rmtree(bdir, ignore_errors=True)

    def test_interrupted_backup_leaves_no_backup(self):
        """A backup killed half way (here by a file size limit, as a crash
        or a full disk in a cron job would cut it) leaves nothing at the
        names it was given - no half a database that looks like a backup,
        no key file without its database - only its staged .partial- files;
        the next backup to the same name is taken whole."""
        hub = self.o.hub()
        bdir = self.backup_dir()
        out = os.path.join(bdir, "nightly.backup")
        p = run_tool(["/bin/bash", "-c", "trap - XFSZ; ulimit -f 64; exec \"$@\"", "backup",
                      os.path.join(BIN, "outpost-hub"), "backup", "--out", out,
                      "--data", hub.data], name="hub")
        self.assertNotEqual(p.returncode, 0, p.stderr)
        left = sorted(os.listdir(bdir))
        self.assertTrue(left, "the backup was cut short while it wrote")
        self.assertEqual([f for f in left if ".partial-" not in f], [], left)
        for f in left:
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(bdir, f)).st_mode), 0o600, f)
        p = hub_tool(hub, "backup", "--out", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(set(os.listdir(bdir)) - set(left)),
                         ["nightly.backup", "nightly.backup.key"])
        bk = sqlite3.connect(out)
        self.assertEqual(bk.execute("PRAGMA quick_check").fetchone()[0], "ok")
        self.assertEqual(bk.execute("SELECT count(*) FROM offices").fetchone()[0],
                         count(hub, "SELECT count(*) FROM offices"))
        bk.close()
        # and it is never written over, as before
        p = hub_tool(hub, "backup", "--out", out)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"never replaces", p.stderr)

    def test_restore_refuses_a_tls_key_not_its_certificates(self):
        """A key file whose hub.key is not the key of the backup's hub.crt
        (another hub's, or not a key at all) is refused before anything is
        touched: restored, the hub would not start."""
        hub, other = self.o.hub(), self.o.hub()
        mine = self.backed_up(hub)
        other.stop()
        hub.stop()
        with open(os.path.join(other.data, "hub.key"), "rb") as f:
            theirs = f.read()
        before = sorted(os.listdir(hub.data))
        for what, key in (("another hub's key", theirs), ("not a key", b"-----BEGIN nothing")):
            wrong = os.path.join(os.path.dirname(mine), "wrong.key")
            shutil.copy(mine + ".key", wrong)
            kb = sqlite3.connect(wrong)
            self.assertEqual(kb.execute("UPDATE outpost_backup_files SET content=? WHERE name='hub.key'",
                                        (key,)).rowcount, 1)
            kb.commit()
            kb.close()
            p = hub_tool(hub, "restore", mine, "--key-file", wrong, "--force")
            self.assertEqual(p.returncode, 1, (what, p.stderr))
            self.assertIn(b"is not the key of the hub.crt", p.stderr, what)
            self.assertEqual(sorted(os.listdir(hub.data)), before, what)
            os.unlink(wrong)
        # its own key file: taken, and the hub starts on it
        p = hub_tool(hub, "restore", mine, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        hub.start()

    def test_restore_refuses_a_ca_key_not_its_certificates(self):
        """The office CA's ca.key a backup puts back must unwrap under the
        master.key the restored hub will have and be the key of its ca.crt
        (what the hub checks at start, hub_ca_load): another hub's ca.key
        (wrapped under another master key), another CA's ca.crt, a plain
        key of another pair or no key at all in its place are refused
        before anything is touched - restored, the hub would not start."""
        hub, other = self.o.hub(), self.o.hub()
        mine = self.backed_up(hub)
        other.stop()
        hub.stop()

        def read(d, name):
            with open(os.path.join(d, name), "rb") as f:
                return f.read()
        kept = ("master.key", "ca.key", "ca.crt", "hub.key")
        before = sorted(os.listdir(hub.data)), [read(hub.data, n) for n in kept]
        offices = count(hub, "SELECT count(*) FROM offices")
        wrong = os.path.join(os.path.dirname(mine), "wrong.backup")
        for what, part, name, content, said in (
                ("another hub's ca.key", ".key", "ca.key", read(other.data, "ca.key"),
                 b"does not unwrap under the master.key"),
                ("another CA's ca.crt", "", "ca.crt", read(other.data, "ca.crt"),
                 b"is not the key of the ca.crt"),
                ("a plain key of another pair", ".key", "ca.key", read(other.data, "hub.key"),
                 b"is not the key of the ca.crt"),
                ("not a key", ".key", "ca.key", b"-----BEGIN nothing", b"cannot be read")):
            shutil.copy(mine, wrong)
            shutil.copy(mine + ".key", wrong + ".key")
            bk = sqlite3.connect(wrong + part)
            self.assertEqual(bk.execute("UPDATE outpost_backup_files SET content=? WHERE name=?",
                                        (content, name)).rowcount, 1, what)
            bk.commit()
            bk.close()
            p = hub_tool(hub, "restore", wrong, "--force")
            self.assertEqual(p.returncode, 1, (what, p.stderr))
            self.assertIn(b"office CA's ca.key", p.stderr, what)
            self.assertIn(said, p.stderr, what)
            self.assertIn(b"nothing restored", p.stderr, what)
            self.assertEqual((sorted(os.listdir(hub.data)), [read(hub.data, n) for n in kept]),
                             before, what)
            self.assertEqual(count(hub, "SELECT count(*) FROM offices"), offices, what)
        # its own backup: taken, and the hub starts on it (its CA loaded)
        p = hub_tool(hub, "restore", mine, "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        hub.start()

    def test_backup_holds_no_plain_ssn_key(self):
        """A Local Area made a moment ago has its SSN key plain in hub.db
        until the serving hub wraps it; a backup taken then has it wrapped
        under the master key all the same (a copied database alone reveals
        no SSN), and the restored hub reads it."""
        hub = self.o.hub()
        la = "la-bk-" + os.urandom(3).hex()
        r = hub.request("POST", "/api/v1/admin/local-areas", body={"id": la, "name": "Backup Area"},
                        headers={"Authorization": "Bearer " + admin_token(hub)})
        self.assertEqual(r.status, 201, r.body)
        # wrapped in the transaction that made the Local Area
        self.assertEqual(count(hub, "SELECT count(*) FROM case_keys WHERE key_hex NOT LIKE 'gcm1:%'"), 0)
        # (one a path without that wrap left plain, for the backup to wrap)
        db = hub.db()
        db.execute("INSERT INTO local_areas(id, name, updated_hlc) VALUES(?, 'Plain Area', 'h')",
                   (la + "-plain",))
        db.commit()
        db.close()
        self.assertEqual(count(hub, "SELECT count(*) FROM case_keys WHERE key_hex NOT LIKE 'gcm1:%'"), 1)
        bdir = tempfile.mkdtemp(prefix="outpost-bk-")
        try:
            backup = os.path.join(bdir, "hub.backup")
            self.assertEqual(hub_tool(hub, "backup", "--out", backup).returncode, 0)
            bk = sqlite3.connect(backup)
            keys = dict(bk.execute("SELECT local_area_id, key_hex FROM case_keys").fetchall())
            bk.close()
            self.assertIn(la + "-plain", keys)
            self.assertEqual([k for k, v in keys.items() if not v.startswith("gcm1:")], [], keys)
            hub.stop()
            p = hub_tool(hub, "restore", backup, "--force")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(hub_tool(hub, "check").returncode, 0)
        finally:
            shutil.rmtree(bdir, ignore_errors=True)

    def restored_past_the_sent_log(self, bdir, gone):
        """A hub and an office node; three check-ins after a backup of the
        hub, pushed; the node's sent log then loses the entries WHERE gone
        (past resend_days) and the hub is restored from that backup.
        (hub, node, the check-ins), both running again."""
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office")
        backup = os.path.join(bdir, "hub.backup")
        self.assertEqual(hub_tool(hub, "backup", "--out", backup).returncode, 0)
        sent = [checkin(a, "after the backup %d" % i) for i in range(3)]
        wait_for(lambda: all(count(hub, "SELECT count(*) FROM checkins WHERE id=?", c) == 1
                             for c in sent), timeout=90, what="the check-ins at the hub")
        wait_for(lambda: count(a, "SELECT count(*) FROM outbox") == 0, timeout=60,
                 what="a's outbox to drain")
        a.stop()
        db = a.db()
        db.execute("DELETE FROM outbox_sent WHERE " + gone)
        db.commit()
        db.close()
        hub.stop()
        self.assertEqual(hub_tool(hub, "restore", backup, "--force").returncode, 0)
        hub.start()
        a.start()
        return hub, a, sent

    def loss_number(self, a, cmd):
        """`outpost-sync CMD` on a node that meets a loss: it fails and says
        which number operations gives; (that number, its stderr)."""
        p = sync(a, cmd)
        self.assertNotEqual(p.returncode, 0)
        m = re.search(rb'accept-loss \{"through_seq": (\d+)\}', p.stderr)
        self.assertTrue(m, p.stderr)
        return int(m.group(1)), p.stderr

    @staticmethod
    def accept_loss(hub, a, through):
        """Operations' POST /api/v1/nodes/NODE/accept-loss."""
        return hub.request("POST", "/api/v1/nodes/%s/accept-loss" % a.node_id,
                           body={"through_seq": through},
                           headers={"Authorization": "Bearer " + admin_token(hub)})

    def test_loss_past_the_sent_log_accepted_then_the_rest_sent(self):
        """A hub restored from a backup older than an office's sent log
        (resend_days): the office says which of its entries are lost and
        how to go on, operations accepts the loss at the hub (audited), and
        what the sent log and the outbox still hold - written before and
        after the restore - then reaches the hub."""
        bdir = tempfile.mkdtemp(prefix="outpost-bk-")
        try:
            # the sent log keeps only its newest entry (the rest past resend_days)
            hub, a, sent = self.restored_past_the_sent_log(bdir, "seq < (SELECT max(seq)"
                                                                 " FROM outbox_sent)")
            login(a)
            after = [checkin(a, "after the restore %d" % i) for i in range(2)]
            # (the push offers the outbox, past the entry the sent log still
            # holds, puts that entry back in the outbox and offers it too:
            # the hub learns where the office's entries begin)
            n, err = self.loss_number(a, "push")
            self.assertIn(b"lost at the hub", err)
            # Not beyond what the node offered past the gap: a number typed
            # too large would acknowledge entries it still holds (or has not
            # written yet), and its pushes of them would be skipped.
            for wrong in (n + 1, n + 1000):
                r = self.accept_loss(hub, a, wrong)
                self.assertEqual((r.status, r.json().get("field")), (409, "through_seq"), r.body)
                self.assertIn("at most the entries up to %d" % n, r.json()["error"])
            r = self.accept_loss(hub, a, n)
            self.assertEqual(r.status, 200, r.body)
            r = self.accept_loss(hub, a, n)
            self.assertEqual(r.status, 409, r.body)   # only forward
            p = sync(a, "push")
            self.assertEqual(p.returncode, 0, p.stderr)
            # once the node pushes again past no gap, nothing more is given up
            r = self.accept_loss(hub, a, n + 100)
            self.assertEqual(r.status, 409, r.body)
            self.assertIn("not offered entries past a gap", r.json()["error"])
            for c in [sent[-1]] + after:   # the sent log's entry and the new ones
                self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", c), 1, c)
            self.assertEqual(count(hub, "SELECT count(*) FROM hub_audit_events WHERE"
                                        " action='node.accept_loss' AND subject=?", a.node_id), 1)
        finally:
            shutil.rmtree(bdir, ignore_errors=True)

    def test_loss_with_nothing_held_accepted_after_the_next_change(self):
        """The same with an empty sent log and an empty outbox: the office
        holds nothing past the loss, so the hub learns where its entries
        begin from the next change it offers; operations then accepts the
        loss with the number the office gave, and the office syncs again."""
        bdir = tempfile.mkdtemp(prefix="outpost-bk-")
        try:
            hub, a, _ = self.restored_past_the_sent_log(bdir, "1")   # all past resend_days
            n, err = self.loss_number(a, "pull")
            self.assertIn(b"once this node has tried to push its next change", err)
            r = self.accept_loss(hub, a, n)
            self.assertEqual(r.status, 409, r.body)
            self.assertIn("let it push first", r.json()["error"])
            login(a)
            after = checkin(a, "after the loss")
            p = sync(a, "push")
            self.assertNotEqual(p.returncode, 0)
            r = self.accept_loss(hub, a, n + 1)
            self.assertEqual(r.status, 409, r.body)      # the office holds that one
            r = self.accept_loss(hub, a, n)
            self.assertEqual(r.status, 200, r.body)
            for cmd in ("push", "pull"):
                p = sync(a, cmd)
                self.assertEqual(p.returncode, 0, (cmd, p.stderr))
            self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE id=?", after), 1)
        finally:
            shutil.rmtree(bdir, ignore_errors=True)

    @unittest.skipUnless(os.geteuid() == 0, "root restores into the service user's directory")
    def test_restore_as_root_leaves_the_files_to_the_directory_owner(self):
        """Run as root (sudo) into the data directory of the service user,
        a restore gives what it writes to that user: root's files would
        stop the hub, started as the service user, opening its database."""
        hub = self.o.hub()
        backup = self.backed_up(hub)
        hub.stop()
        target = os.path.join(os.path.dirname(backup), "svc")
        os.mkdir(target, 0o700)
        os.chown(target, 65534, 65534)
        p = run_tool([os.path.join(BIN, "outpost-hub"), "restore", backup, "--data", target],
                     name="hub")
        self.assertEqual(p.returncode, 0, p.stderr)
        wrong = [(f, os.stat(os.path.join(target, f)).st_uid) for f in os.listdir(target)
                 if os.stat(os.path.join(target, f)).st_uid != 65534]
        self.assertEqual(wrong, [])
        self.assertIn("hub.db", os.listdir(target))
        self.assertIn("master.key", os.listdir(target))

    def test_restore_needs_a_backup_file(self):
        hub = self.o.hub()
        hub.stop()
        junk = os.path.join(hub.data, "junk.backup")
        with open(junk, "wb") as f:
            f.write(b"not a backup")
        p = hub_tool(hub, "restore", junk, "--force")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"not a whole backup", p.stderr)
        # The hub's database is untouched.
        self.assertEqual(count(hub, "SELECT count(*) FROM offices") > 0, True)


if __name__ == "__main__":
    unittest.main()
