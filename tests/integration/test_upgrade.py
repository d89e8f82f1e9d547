"""Issue #18, health and upgrades.

UpgradeTest: the databases of release 0.1.0 (tests/fixtures/release-0.1.0,
made from this tree before issue #18 changed anything) are loaded into
fresh data directories; the current hub and node migrate them to exactly
the schema a new installation has, keep their data, pass their `check`,
and sync with each other (the node's enrollment and the hub's key come
from the fixture, so the pin still matches), ending with `outpost-sync
verify` agreeing.

CheckTest: `outpost-node check` / `outpost-hub check` exit codes: 0 ok, 1
warning, 2 a failed check (a damaged database, a secret others can read),
3 nothing readable; --json says the same.
"""
import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from harness import BIN, TOP, Daemon, run_tool
from test_sync_node import OfficeTest, checkin, count, sync, wait_for

FIX = os.path.join(TOP, "tests", "fixtures", "release-0.1.0")


def load_dump(name, path):
    with gzip.open(os.path.join(FIX, name), "rt") as f:
        sql = f.read()
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    os.chmod(path, 0o600)


def versions(path):
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT component, version FROM schema_version"))
    finally:
        db.close()


def check(kind, data, *extra):
    p = run_tool([os.path.join(BIN, "outpost-" + kind), "check", "--data", data] + list(extra),
                 name="check")
    return p.returncode, p.stdout.decode()


class UpgradeTest(OfficeTest):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="outpost-upgrade-")
        os.chmod(self.tmp, 0o700)

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_release_0_1_0_databases_migrate_and_sync(self):
        # What a new installation of this tree has.
        fresh_hub = self.o.hub()
        fresh_node = Daemon("node", args=["--demo", "no"]).start()
        self.o.daemons.append(fresh_node)
        fresh_hub.stop()
        fresh_node.stop()
        want_hub = versions(os.path.join(fresh_hub.data, "hub.db"))
        want_node = versions(os.path.join(fresh_node.data, "node.db"))

        hubdir = os.path.join(self.tmp, "hub")
        nodedir = os.path.join(self.tmp, "node")
        os.mkdir(hubdir, 0o700)
        os.mkdir(nodedir, 0o700)
        load_dump("hub.sql.gz", os.path.join(hubdir, "hub.db"))
        load_dump("node.sql.gz", os.path.join(nodedir, "node.db"))
        for f in ("hub.crt", "hub.key"):
            shutil.copy(os.path.join(FIX, f), os.path.join(hubdir, f))
        os.chmod(os.path.join(hubdir, "hub.key"), 0o600)
        old_hub = versions(os.path.join(hubdir, "hub.db"))

        # Before the upgrade, check says whether the schema is behind.
        rc, out = check("hub", hubdir, "--json")
        j = json.loads(out)
        schema = [c for c in j["checks"] if c["check"] == "schema"][0]
        behind = any(old_hub.get(k, 0) < v for k, v in want_hub.items()
                     if k in ("core", "accounts", "crm", "casework", "sync"))
        self.assertEqual(schema["status"], "warn" if behind else "ok", schema)

        hub = Daemon("hub", data=hubdir)
        self.o.daemons.append(hub)
        hub.start()
        self.assertEqual(versions(os.path.join(hubdir, "hub.db")), want_hub)
        self.assertEqual(count(hub, "SELECT count(*) FROM checkins WHERE visitor_name LIKE 'Fixture Visitor %'"), 3)
        rc, out = check("hub", hubdir)
        self.assertLessEqual(rc, 1, out)
        self.assertRegex(out, r"(?m)^ok\s+schema\s")
        self.assertRegex(out, r"(?m)^ok\s+database\s")

        # The node, enrolled with that hub in 0.1.0, now at its new address.
        with open(os.path.join(FIX, "node-sync.json")) as f:
            ident = json.load(f)
        ident["hub_url"] = hub.url
        path = os.path.join(nodedir, "sync.json")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            json.dump(ident, f)
        node = Daemon("node", data=nodedir, args=["--demo", "no", "--sync_interval", "1"])
        self.o.daemons.append(node)
        node.start()
        self.assertEqual(versions(os.path.join(nodedir, "node.db")), want_node)
        self.assertEqual(count(node, "SELECT count(*) FROM checkins WHERE visitor_name LIKE 'Fixture Visitor %'"), 3)
        cid = checkin(node, "After The Upgrade")
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", cid) == 1,
                 timeout=60, what="a check-in from the upgraded node at the upgraded hub")
        # The node records its contact with the hub when the cycle ends,
        # after the pull that follows the push the hub has just answered.
        last = {}

        def node_check_ok():
            last["rc"], last["out"] = check("node", nodedir)
            return last["rc"] == 0
        try:
            wait_for(node_check_ok, timeout=30, step=0.5, what="node check ok after the upgrade")
        except AssertionError:
            self.fail(last.get("out"))
        wait_for(lambda: sync(node, "verify").returncode == 0, timeout=60, step=1,
                 what="verify after the upgrade")


class CheckTest(OfficeTest):

    def test_exit_codes(self):
        hub = self.o.hub()
        node = self.o.node(hub)
        for d in (hub, node):
            os.chmod(os.path.join(d.data, d.kind + ".db"), 0o600)
        wait_for(lambda: check("node", node.data)[0] == 0, timeout=30, what="node check ok")
        rc, out = check("hub", hub.data)
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"(?m)^ok\s+tls_cert\s.*valid for \d+ more days")
        rc, out = check("hub", hub.data, "--json")
        j = json.loads(out)
        self.assertEqual((j["ok"], j["exit_code"], j["status"]), (True, 0, "ok"))
        # A database others may read: a warning.
        os.chmod(os.path.join(node.data, "node.db"), 0o644)
        self.assertEqual(check("node", node.data)[0], 1)
        os.chmod(os.path.join(node.data, "node.db"), 0o600)
        # A secret others may read: a failure.
        os.chmod(os.path.join(hub.data, "hub.key"), 0o644)
        rc, out = check("hub", hub.data)
        self.assertEqual(rc, 2, out)
        self.assertRegex(out, r"(?m)^fail\s+tls_key\s")
        os.chmod(os.path.join(hub.data, "hub.key"), 0o600)
        os.chmod(os.path.join(node.data, "sync.json"), 0o640)
        self.assertEqual(check("node", node.data)[0], 2)
        os.chmod(os.path.join(node.data, "sync.json"), 0o600)
        # The other secrets: the node's HTTPS key, the office CA's key and
        # the operations account's first password.
        for d, name, label in ((node, "node.key", "tls_key"), (hub, "ca.key", "ca_key"),
                               (hub, "operations.password", "operations_password")):
            path = os.path.join(d.data, name)
            made = not os.path.exists(path)
            if made:
                with open(path, "w") as f:
                    f.write("not a real secret\n")
            try:
                os.chmod(path, 0o600)
                rc, out = check(d.kind, d.data)
                self.assertEqual(rc, 0, out)
                self.assertRegex(out, r"(?m)^ok\s+%s\s" % label)
                os.chmod(path, 0o644)
                rc, out = check(d.kind, d.data)
                self.assertEqual(rc, 2, out)
                self.assertRegex(out, r"(?m)^fail\s+%s\s.*%s" % (label, re.escape(name)))
            finally:
                if made:
                    os.unlink(path)
                else:
                    os.chmod(path, 0o600)
        # A damaged database: a failure.
        node.stop()
        bad = tempfile.mkdtemp(prefix="outpost-check-")
        try:
            os.chmod(bad, 0o700)
            db = sqlite3.connect(os.path.join(node.data, "node.db"))
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.close()
            shutil.copy(os.path.join(node.data, "node.db"), os.path.join(bad, "node.db"))
            os.chmod(os.path.join(bad, "node.db"), 0o600)
            size = os.path.getsize(os.path.join(bad, "node.db"))
            with open(os.path.join(bad, "node.db"), "r+b") as f:
                for off in range(8192, size - 4096, 16384):
                    f.seek(off)
                    f.write(os.urandom(2048))
            rc, out = check("node", bad, "--json")
            j = json.loads(out)
            self.assertEqual(j["exit_code"], rc)
            self.assertIn(rc, (2, 3), out)
            self.assertNotEqual([c for c in j["checks"] if c["check"] == "database"][0]["status"], "ok")
        finally:
            shutil.rmtree(bad, ignore_errors=True)
        # Nothing there at all.
        rc, out = check("node", os.path.join(node.data, "missing"))
        self.assertEqual(rc, 3, out)
        self.assertFalse(os.path.exists(os.path.join(node.data, "missing")))

    def test_schema_of_every_component(self):
        """`check` compares each component of the schema (the hub's and the
        node's own, not only the replicated ones) with the program's, and
        a daemon refuses to start on a component it does not know."""
        hub = self.o.hub()
        node = Daemon("node", args=["--demo", "no"]).start()
        self.o.daemons.append(node)
        hub.stop()
        node.stop()
        for d, own in ((hub, "hub"), (node, "node")):
            path = os.path.join(d.data, d.kind + ".db")
            os.chmod(path, 0o600)
            top = versions(path)[own]

            def set_version(sql, *args):
                db = sqlite3.connect(path)
                db.execute(sql, args)
                db.commit()
                db.close()

            def schema_check():
                rc, out = check(d.kind, d.data, "--json")
                return rc, [c for c in json.loads(out)["checks"] if c["check"] == "schema"][0]
            rc, schema = schema_check()
            self.assertEqual((rc, schema["status"]), (0, "ok"), schema)
            self.assertIn("%s %d/%d" % (own, top, top), schema["detail"])
            # behind (as a migration another process undid left it): a warning
            set_version("UPDATE schema_version SET version=? WHERE component=?", top - 1, own)
            rc, schema = schema_check()
            self.assertEqual((rc, schema["status"]), (1, "warn"), schema)
            self.assertIn("%s %d/%d" % (own, top - 1, top), schema["detail"])
            # ahead: a newer release's
            set_version("UPDATE schema_version SET version=? WHERE component=?", top + 5, own)
            rc, schema = schema_check()
            self.assertEqual((rc, schema["status"]), (2, "fail"), schema)
            self.assertIn("%s %d/%d" % (own, top + 5, top), schema["detail"])
            # a component this release does not have
            set_version("UPDATE schema_version SET version=? WHERE component=?", top, own)
            set_version("INSERT INTO schema_version VALUES('from_a_later_release', 3)")
            rc, schema = schema_check()
            self.assertEqual((rc, schema["status"]), (2, "fail"), schema)
            self.assertIn("from_a_later_release 3/unknown", schema["detail"])
            d.start(wait=False)
            self.assertNotEqual(d.proc.wait(timeout=60), 0)
            self.assertIn("schema component 'from_a_later_release' (version 3), which this "
                          "outpost-%s does not know" % d.kind, d.read_log())
            self.assertIn("upgrade outpost-%s" % d.kind, d.read_log())
            d.stop()
            if d is hub:   # and its subcommands
                p = run_tool([os.path.join(BIN, "outpost-hub"), "enroll-code", "--office",
                              "demo-office", "--data", hub.data], name="hub")
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(b"from_a_later_release", p.stderr)
            set_version("DELETE FROM schema_version WHERE component='from_a_later_release'")
            d.start()


if __name__ == "__main__":
    unittest.main()
