#!/usr/bin/env python3
"""A busy office catching up (make bench, via bench/bench_busy.sh): real
release processes on loopback, every figure against a reference measured
in the same run.

  1. A hub and two office nodes A and B of one office, syncing by
     themselves every second (sync_interval 1).
  2. Reference: node A stops, bench_sync gen gives it ENTRIES check-ins of
     a week offline (visits finished, so the desks' waiting lists stay a
     day's size), and it starts again; the time until B holds all of
     them, with nobody at either desk.
  3. The same with the desks busy: CLIENTS threads at each node check
     visitors in and read the waiting list at an office's pace (a request
     every 0 to 100 ms each) from before A stops until B holds the second
     backlog.  The catch-up's ratio to the reference says what the desk
     costs the sync; B's desk latency during the catch-up, against the
     same desk before any backlog, what the sync costs the desk (at B,
     which pulls; at A, which pushes its backlog).
  4. Nothing lost: every check-in a desk was answered 201 for is at the
     hub once the desks stop.

Until b276ab1 a pull page was applied only while the outbox was empty, and
a busy desk wrote between nearly every page's fetch and its apply: B took
the backlog one page a cycle (66 s for 50,000 check-ins, 3.8 s after).
Prints the figures; never fails on timing.
usage: bench_busy.py TMPDIR [ENTRIES] [CLIENTS]
"""
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("OUTPOST_BIN", os.path.join(TOP, "bin"))
HELPER = os.path.join(TOP, "build", "rel", "bench", "bench_sync")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0.0


class Desk:
    """CLIENTS threads at one node: check-ins and waiting-list reads."""

    def __init__(self, node, label, clients, reasons):
        self.node, self.label, self.reasons = node, label, reasons
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.lat = []         # (start, seconds, status)
        self.acked = []       # check-in ids answered 201
        self.errors = 0
        self.threads = [threading.Thread(target=self.run, args=(k,), daemon=True)
                        for k in range(clients)]

    def run(self, k):
        rng = random.Random(k)
        n = 0
        while not self.stop.is_set():
            n += 1
            t0 = time.time()
            try:
                if rng.random() < 0.5:
                    r = self.node.request("POST", "/api/v1/checkins", body={
                        "visitor_name": "Desk %s %d %d" % (self.label, k, n), "language": "en",
                        "reason_ids": [rng.choice(self.reasons)]}, timeout=60)
                    if r.status == 201:
                        with self.lock:
                            self.acked.append(r.json()["id"])
                else:
                    r = self.node.request("GET", "/api/v1/checkins?status=waiting,called,serving",
                                          timeout=60)
            except OSError:  # the node is down (A, while it is filled)
                with self.lock:
                    self.errors += 1
                self.stop.wait(0.1)
                continue
            with self.lock:
                self.lat.append((t0, time.time() - t0, r.status))
            self.stop.wait(rng.uniform(0.0, 0.1))

    def start(self):
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def window(self, t0, t1):
        with self.lock:
            return [x for x in self.lat if t0 <= x[0] < t1]


def backlog_at(node):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(node.data, "node.db"), uri=True,
                         timeout=30)
    try:
        return db.execute("SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                          "'Backlog Visitor %'").fetchone()[0]
    finally:
        db.close()


def catch_up(harness, a, b, entries):
    """A offline for a week with `entries` check-ins: stopped, filled,
    started.  Seconds from its start until B holds them all."""
    want = backlog_at(b) + entries
    a.stop()
    subprocess.run([HELPER, "gen", os.path.join(a.data, "node.db"), str(entries), "7", "done"],
                   capture_output=True, check=True)
    a.start()
    harness.login(a)
    t0 = time.time()
    while backlog_at(b) < want:
        if time.time() - t0 > 600:
            raise RuntimeError("B holds %d of %d backlog check-ins after 600 s" % (
                backlog_at(b), want))
        time.sleep(0.05)
    return t0, time.time() - t0


def lat_text(xs):
    secs = [x[1] for x in xs]
    return "p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d requests" % (
        pct(secs, 0.5) * 1000, pct(secs, 0.99) * 1000, (max(secs) if secs else 0) * 1000,
        len(secs))


def main():
    tmp = sys.argv[1]
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    os.environ.setdefault("OUTPOST_TEST_OUT", os.path.join(tmp, "busy-bench"))
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    import harness
    from harness import Daemon

    env = {"OUTPOST_NODE_SYNC_INTERVAL": "1"}
    hub = Daemon("hub", name="busy-hub", env=env).start()
    nodes = [Daemon("node", name="busy-" + k, env=env) for k in ("A", "B")]
    desks = []
    try:
        for n in nodes:
            n.start()
            harness.enroll(hub, n, log="busy", plant=False)
            harness.login(n)
        a, b = nodes
        reasons = [r["id"] for r in a.get("/api/v1/greeter/reasons").json()]
        print("== busy office (%d check-ins a week offline at A, pulled by B; %d desk clients"
              " at each node)" % (entries, clients), flush=True)
        _, quiet = catch_up(harness, a, b, entries)
        time.sleep(2)  # the quiet catch-up's tail (checkpoints) out of the way

        desks = [Desk(n, label, clients, reasons) for n, label in ((a, "A"), (b, "B"))]
        for d in desks:
            d.start()
        time.sleep(3)
        base0 = time.time()
        time.sleep(5)
        base1 = time.time()
        # A stops (its desk's requests fail meanwhile, as an office's would)
        t0, busy = catch_up(harness, a, b, entries)
        for d in desks:
            d.finish()
        during = desks[1].window(t0, t0 + busy)
        alone = desks[1].window(base0, base1)
        a_during = desks[0].window(t0, t0 + busy)
        a_alone = desks[0].window(base0, base1)
        bad = sum(1 for d in desks for x in d.lat if x[2] >= 500)

        acked = [i for d in desks for i in d.acked]
        deadline = time.time() + 120
        missing = len(acked)
        while time.time() < deadline:
            db = hub.db()
            try:
                have = set()
                for k in range(0, len(acked), 500):
                    chunk = acked[k:k + 500]
                    have.update(r[0] for r in db.execute(
                        "SELECT id FROM checkins WHERE id IN (%s)" % ",".join("?" * len(chunk)),
                        chunk))
            finally:
                db.close()
            missing = len(acked) - len(have)
            if missing == 0:
                break
            time.sleep(0.5)

        print("  catch-up, nobody at the desks:      %.2f s (B holds every row, from A's start)" %
              quiet)
        print("  catch-up, both desks busy:          %.2f s; ratio %.2f of the quiet one "
              "(1.00: the desks cost the sync nothing)" % (busy, busy / quiet if quiet else 0))
        print("  B's desk during the catch-up:       %s" % lat_text(during))
        print("  B's desk before it (the reference): %s" % lat_text(alone))
        print("  A's desk during the catch-up:       %s" % lat_text(a_during))
        print("  A's desk before it (the reference): %s" % lat_text(a_alone))
        print("  desk check-ins answered 201: %d, at the hub: %d; 5xx: %d; verify: %s" % (
            len(acked), len(acked) - missing, bad, "match" if missing == 0 else "MISMATCH"),
            flush=True)
        return 0 if missing == 0 else 1
    finally:
        for d in desks:
            d.stop.set()
        for n in nodes + [hub]:
            try:
                n.cleanup()
            except Exception as e:  # noqa: BLE001 - clean-up only
                print("clean-up: %s" % e)


if __name__ == "__main__":
    sys.exit(main())
