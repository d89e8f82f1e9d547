"""The command lines of the daemons and of outpost-sync, as an operator meets
them: settings refused before anything is created (a listening address,
a value from the environment), usage errors with the exit status the manual
pages give, and outpost-sync's one JSON object under --json even for a usage
error.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest

import harness
from harness import BIN, Daemon


def run(args, **kw):
    env = dict(os.environ)
    env.update(kw.pop("env", {}))
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, **kw)


class DaemonSettingsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="outpost-cli-")
        self.addCleanup(self.tmp.cleanup)

    def data(self, name):
        return os.path.join(self.tmp.name, name)

    def test_listen_addresses_checked(self):
        node, hub = os.path.join(BIN, "outpost-node"), os.path.join(BIN, "outpost-hub")
        for bad in ("notanaddr", "127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:80x", "host.lan:80",
                    "127.0.0.1:"):
            for prog, flag, setting in ((node, "--listen", "listen"), (node, "--https-listen", "https_listen"),
                                        (hub, "--listen", "listen")):
                for n in (["-n"], []):
                    p = run([prog] + n + ["--data", self.data("d"), flag, bad])
                    self.assertEqual(p.returncode, 1, (prog, flag, bad, p.stderr))
                    self.assertNotIn("configuration ok", p.stdout)
                    self.assertIn("%s: '%s' is not a listening address" % (setting, bad), p.stderr)
                    # refused before any database or folder is made
                    self.assertFalse(os.path.exists(self.data("d")), (prog, flag, bad))
        for good in ("127.0.0.1:8080", "0.0.0.0:1", "*:8443", ":8080", "[::1]:65535"):
            for prog, flag in ((node, "--listen"), (node, "--https-listen"), (hub, "--listen")):
                p = run([prog, "-n", "--data", self.data("d"), flag, good])
                self.assertEqual(p.returncode, 0, (prog, good, p.stderr))
                self.assertIn("configuration ok", p.stdout)
        # the same check for a value from the settings file
        os.makedirs(self.data("f"))
        with open(self.data("f/node.conf"), "w") as f:
            f.write("listen = 127.0.0.1:70000\n")
        p = run([node, "-n", "--data", self.data("f")])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("listen: '127.0.0.1:70000'", p.stderr)

    def test_usage_errors_exit_2(self):
        for prog in ("outpost-node", "outpost-hub"):
            p = run([os.path.join(BIN, prog), "--data", self.data("d"), "--listen"])
            self.assertEqual(p.returncode, 2, (prog, p.stderr))
            self.assertIn("--listen needs a value", p.stderr)
            p = run([os.path.join(BIN, prog), "--data", self.data("d"), "--bogus"])
            self.assertEqual(p.returncode, 2, (prog, p.stderr))
            self.assertIn("unknown option '--bogus'", p.stderr)
            self.assertFalse(os.path.exists(self.data("d")), prog)

    def test_environment_value_names_its_variable(self):
        p = run([os.path.join(BIN, "outpost-node"), "-n", "--data", self.data("d")],
                env={"OUTPOST_NODE_SYNC_INTERVAL": "x"})
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("OUTPOST_NODE_SYNC_INTERVAL: 'x' is not a whole number", p.stderr)
        p = run([os.path.join(BIN, "outpost-hub"), "-n", "--data", self.data("d")],
                env={"OUTPOST_HUB_VERBOSE": "7"})
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("OUTPOST_HUB_VERBOSE: 7 is outside 0..2", p.stderr)


SYNC = os.path.join(BIN, "outpost-sync")


class SyncUsageTest(unittest.TestCase):
    def one_json_object(self, p):
        """p's stdout is exactly one JSON object (README: every command
        with --json prints one); parsed."""
        dec = json.JSONDecoder()
        text = p.stdout.strip()
        obj, end = dec.raw_decode(text)
        self.assertEqual(text[end:].strip(), "", p.stdout)
        self.assertIsInstance(obj, dict)
        return obj

    def test_usage_errors_under_json(self):
        with tempfile.TemporaryDirectory(prefix="outpost-cli-") as d:
            for args, words in ((["bogus", "--json"], "unknown command 'bogus'"),
                                (["--json", "bogus"], "unknown command 'bogus'"),
                                (["status", "--bogus", "--json"], "unknown option '--bogus'"),
                                (["status", "--json", "--bogus=1"], "unknown option '--bogus'"),
                                (["status", "--json", "extra"], "unexpected argument 'extra'"),
                                (["--json"], "no command"),
                                (["export", "--json", "--data", d], "export needs --out"),
                                (["enroll", "--json", "--data", d], "enroll needs --hub"),
                                (["enroll", "--json", "--data", d, "--hub", "https://127.0.0.1:1"],
                                 "enroll needs --code"),
                                (["status", "--json", "--data"], "missing value for '--data'"),
                                (["export", "--data", d, "--out", "--json"],
                                 "missing value for '--out'"),
                                (["export", "--json", "--data", d, "--out="],
                                 "missing value for '--out'"),
                                (["status", "--json", "--data="], "missing value for '--data'")):
                p = run([SYNC] + args, env={"OUTPOST_ENROLL_CODE": ""})
                self.assertEqual(p.returncode, 1, (args, p.stderr))
                j = self.one_json_object(p)
                self.assertEqual((j["ok"], j["error"], j["exit_code"]), (False, "usage", 1), args)
                self.assertIn(words, j["message"], args)
                self.assertIn(words, p.stderr, args)
            self.assertEqual(os.listdir(d), [])

    def test_unknown_option_named_as_such(self):
        p = run([SYNC, "status", "--bogus"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("unknown option '--bogus'", p.stderr)
        self.assertNotIn("missing value", p.stderr)
        self.assertEqual(p.stdout, "")


class SyncEnrollTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Daemon("hub").start()

    @classmethod
    def tearDownClass(cls):
        cls.hub.cleanup()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="outpost-cli-")
        self.addCleanup(self.tmp.cleanup)
        self.data = os.path.join(self.tmp.name, "node")

    def enrolled(self):
        with open(os.path.join(self.data, "sync.json")) as f:
            return json.load(f)["node_id"]

    def test_failed_enroll_leaves_no_directory(self):
        # a hub that refuses the code (or cannot be reached): the data
        # directory the command made for the identity goes with it
        for hub in (self.hub.url, "https://127.0.0.1:1"):
            p = run([SYNC, "enroll", "--hub", hub, "--code", "AAAA-AAAA-AAAA-AAAA", "--data", self.data])
            self.assertNotEqual(p.returncode, 0, p.stderr)
            self.assertFalse(os.path.exists(self.data), (hub, p.stderr))

    def test_code_from_standard_input(self):
        code = harness.hub_code(self.hub)
        p = subprocess.run([SYNC, "enroll", "--hub", self.hub.url, "--code", "-", "--data", self.data],
                           input=code + "\n", capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(self.enrolled())
        self.assertNotIn(code, p.stdout + p.stderr)

    def test_code_from_environment(self):
        code = harness.hub_code(self.hub)
        p = run([SYNC, "enroll", "--hub", self.hub.url, "--data", self.data, "--json"],
                env={"OUTPOST_ENROLL_CODE": code})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["node_id"], self.enrolled())

    def test_status_says_why_sync_json_is_refused(self):
        harness.enroll(self.hub, harness.Daemon("node", data=self.data), plant=True)
        node = Daemon("node", data=self.data).start()
        node.stop()
        path = os.path.join(self.data, "sync.json")
        os.chmod(path, 0o644)
        p = run([SYNC, "status", "--data", self.data])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertNotIn("not enrolled", p.stdout)
        self.assertIn("readable by other users", p.stdout)
        self.assertIn("chmod 600", p.stdout)
        p = run([SYNC, "status", "--data", self.data, "--json"])
        self.assertEqual(p.returncode, 2, p.stderr)
        j = json.loads(p.stdout)
        self.assertEqual((j["ok"], j["enrolled"], j["exit_code"]), (False, False, 2))
        self.assertIn("chmod 600", j["message"])
        # The node, when it starts, makes it 0600 again (README, "Secrets
        # apart from data"); then status reads it.
        node.start()
        node.stop()
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        p = run([SYNC, "status", "--data", self.data])
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_idle_node_log_stays_quiet(self):
        """A caught-up node with nothing to do writes no line per sync cycle
        at verbose 0 (it wrote one every 5 s: 17,000 a day)."""
        harness.enroll(self.hub, harness.Daemon("node", data=self.data), plant=True)
        node = Daemon("node", data=self.data, args=["--sync-interval", "1", "--verbose", "0"])
        node.start()
        try:
            harness.login(node)
            harness.wait_until(lambda: node.get("/api/v1/sync/status").json().get("cursor"),
                               what="the node's first pull")
            time.sleep(1)
            before = len(node.read_log().splitlines())
            time.sleep(6)
            after = node.read_log().splitlines()[before:]
            self.assertEqual([l for l in after if "already applied" in l], [], "\n".join(after))
            self.assertLess(len(after), 3, "\n".join(after))
        finally:
            node.cleanup()


if __name__ == "__main__":
    unittest.main()
