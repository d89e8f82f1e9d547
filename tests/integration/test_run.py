"""`make run` (scripts/run.sh) as a new user meets it: a hub and an office
node enrolled to it, both URLs printed, a check-in at the node reaching the
hub, Ctrl-C stopping both, and a second run reusing ./data without enrolling
again.  OUTPOST_DATA and the listen addresses point it at a temporary
directory and free ports; OUTPOST_RUN_BIN at the binaries under test.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import harness
from harness import BIN, OUT, Daemon, free_port, login

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def wait_for(fn, timeout=30, step=0.2, what="condition"):
    return harness.wait_until(fn, timeout, step, what)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class RunScript:
    def __init__(self, data, hub_port, node_port):
        self.out_path = os.path.join(OUT, "run-sh-%d-%d.out" % (os.getpid(), node_port))
        env = dict(os.environ, OUTPOST_DATA=data, OUTPOST_RUN_BIN=BIN,
                   OUTPOST_HUB_LISTEN="127.0.0.1:%d" % hub_port,
                   OUTPOST_NODE_LISTEN="127.0.0.1:%d" % node_port)
        self.out = open(self.out_path, "wb")
        # Its own process group, so that a Ctrl-C can be sent to it as a terminal would.
        # A terminal's shell starts it with SIGINT at its default; a test runner started
        # in the background by a non-interactive shell has SIGINT ignored, and a shell
        # cannot trap a signal that was ignored when it started (POSIX, "trap"), so
        # restore the default as the terminal would.
        self.proc = subprocess.Popen(["sh", os.path.join(TOP, "scripts", "run.sh")], env=env,
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                      signal.SIG_DFL))

    def text(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("run.sh exited %s:\n%s" % (self.proc.returncode,
                                                                self.text()))
            return "Press Ctrl-C" in self.text()
        wait_for(ready, timeout=60, what="run.sh to print its URLs")
        return self.text()

    def ctrl_c(self):
        os.killpg(self.proc.pid, signal.SIGINT)
        rc = self.proc.wait(timeout=60)
        self.out.close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=60)
        if not self.out.closed:
            self.out.close()


class RunTest(unittest.TestCase):
    def readme_sample_matches(self, text, data, hub_url, node_url):
        """Every line of the README's sample of `make run` is in what it
        printed (its paths, ports and one-time password in their places),
        and no line it printed is missing from the sample."""
        with open(os.path.join(TOP, "README.md")) as f:
            readme = f.read()
        sample = readme.split("`make run` starts two daemons", 1)[1].split("```\n", 1)[1]
        sample = sample.split("```", 1)[0]
        wanted = [l.strip() for l in sample.splitlines() if l.strip()]
        printed = [l.strip() for l in text.splitlines() if l.strip()]
        self.assertGreater(len(wanted), 10)
        for line in wanted:
            pat = re.escape(line.replace("https://127.0.0.1:8443", hub_url)
                            .replace("http://127.0.0.1:8080", node_url)
                            .replace("./data", data)).replace("PASSWORD", r"\S+")
            self.assertTrue(any(re.fullmatch(pat, l) for l in printed),
                            "README's line %r is not in make run's output:\n%s" % (line, text))
        self.assertEqual(len(printed), len(wanted), "make run printed:\n%s" % text)

    def test_make_run_hub_and_enrolled_node(self):
        data = tempfile.mkdtemp(prefix="outpost-run-")
        hub_port, node_port = free_port(), free_port()
        run = RunScript(data, hub_port, node_port)
        try:
            text = run.wait_ready()
            node_url = "http://127.0.0.1:%d" % node_port
            hub_url = "https://127.0.0.1:%d" % hub_port
            for url in (hub_url + "/", node_url + "/", node_url + "/kiosk.html",
                        node_url + "/desk.html", node_url + "/visits.html",
                        node_url + "/sync.html"):
                self.assertIn(url, text)
            self.assertIn("enrolled the office node", text)
            self.readme_sample_matches(text, data, hub_url, node_url)
            # Talk to both with the harness's clients (not started by it).
            node = Daemon("node", data=os.path.join(data, "node"))
            node.port = node_port
            hub = Daemon("hub", data=os.path.join(data, "hub"))
            hub.port = hub_port
            login(node)
            for path in ("/healthz", "/", "/kiosk.html", "/desk.html", "/visits.html",
                         "/sync.html"):
                self.assertEqual(node.get(path).status, 200, path)
            self.assertEqual(hub.get("/healthz").status, 200)
            self.assertTrue(hub.get("/").header("X-Outpost-Time"))
            # Enrolled, and syncing: its snapshot, then a check-in reaches hub.db.
            with open(os.path.join(data, "node", "sync.json")) as f:
                node_id = json.load(f)["node_id"]
            s = wait_for(lambda: (lambda s: s if s["enrolled"] and s["cursor"] else None)(
                node.get("/api/v1/sync/status").json()), what="the node's first pull")
            self.assertEqual(s["node_id"], node_id)
            reasons = node.get("/api/v1/greeter/reasons").json()
            self.assertTrue(reasons)
            r = node.post("/api/v1/checkins", {"visitor_name": "Make Run",
                                               "reason_ids": [reasons[0]["id"]],
                                               "language": "en"})
            self.assertEqual(r.status, 201, r.body)
            cid = r.json()["id"]

            wait_for(lambda: harness.db_value(hub, "SELECT count(*) FROM checkins WHERE id=?",
                                              cid) == 1, timeout=30, what="the check-in in hub.db")
            # A second make run beside the first refuses to start.
            twin_data = os.path.join(data, "twin")
            twin = RunScript(twin_data, hub_port, node_port)
            self.assertEqual(twin.proc.wait(timeout=60), 1)
            twin.out.close()
            self.assertIn("already answers", twin.text())
            self.assertFalse(os.path.exists(twin_data))
            # Ctrl-C stops both.
            self.assertEqual(run.ctrl_c(), 0)
            self.assertIn("stopped", run.text())
            self.assertFalse(port_open(node_port))
            self.assertFalse(port_open(hub_port))

            # Second run: same data, no second enrollment, the check-in is still there.
            run = RunScript(data, hub_port, node_port)
            text = run.wait_ready()
            self.assertNotIn("enrolled the office node", text)
            with open(os.path.join(data, "node", "sync.json")) as f:
                self.assertEqual(json.load(f)["node_id"], node_id)
            login(node)  # sessions end when the node restarts
            self.assertEqual(node.get("/api/v1/checkins/%s" % cid).status, 200)
            db = hub.db()
            try:
                self.assertEqual(db.execute("SELECT count(*) FROM nodes").fetchone()[0], 1)
            finally:
                db.close()
            self.assertEqual(run.ctrl_c(), 0)

            # Third run after ./data/hub alone was deleted: a new hub, and the
            # node enrolled with it again (the old hub's identity is useless).
            shutil.rmtree(os.path.join(data, "hub"))
            run = RunScript(data, hub_port, node_port)
            text = run.wait_ready()
            self.assertIn("enrolled the office node", text)
            with open(os.path.join(data, "node", "sync.json")) as f:
                new_id = json.load(f)["node_id"]
            self.assertNotEqual(new_id, node_id)
            login(node)  # a restart again, and staff from the new hub
            wait_for(lambda: (lambda s: s if s["node_id"] == new_id and s["cursor"]
                              and s["last_error"] is None else None)(
                node.get("/api/v1/sync/status").json()), what="the node syncing again")
            self.assertEqual(run.ctrl_c(), 0)
        finally:
            run.kill()
            if not os.environ.get("OUTPOST_KEEP"):
                shutil.rmtree(data, ignore_errors=True)

    def test_make_run_enrolls_a_node_that_ran_alone(self):
        # ./data/node from an older `make run` (a stand-alone node with a
        # check-in waiting in its outbox): enrolled as it is, the check-in pushed.
        data = tempfile.mkdtemp(prefix="outpost-run-")
        node = Daemon("node", data=os.path.join(data, "node")).start()
        try:
            login(node)
            reasons = node.get("/api/v1/greeter/reasons").json()
            r = node.post("/api/v1/checkins", {"visitor_name": "Before The Hub",
                                               "reason_ids": [reasons[0]["id"]],
                                               "language": "en"})
            self.assertEqual(r.status, 201, r.body)
            cid = r.json()["id"]
        finally:
            node.stop()
        hub_port = free_port()
        run = RunScript(data, hub_port, node.port)
        try:
            self.assertIn("enrolled the office node", run.wait_ready())
            hub = Daemon("hub", data=os.path.join(data, "hub"))
            hub.port = hub_port

            wait_for(lambda: harness.db_value(hub, "SELECT count(*) FROM checkins WHERE id=?",
                                              cid) == 1, timeout=30, what="the old check-in in hub.db")
            login(node)  # restarted by make run, and now enrolled: staff from the hub
            wait_for(lambda: node.get("/api/v1/sync/status").json()["pending"] == 0,
                     what="the outbox to drain")
            self.assertEqual(run.ctrl_c(), 0)
        finally:
            run.kill()
            if not os.environ.get("OUTPOST_KEEP"):
                shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
