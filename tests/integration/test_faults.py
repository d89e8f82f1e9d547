"""Faults: real outpost-hub and outpost-node processes killed with SIGKILL at
random points of capture, push, pull and apply, and a TLS-unaware TCP proxy
between the nodes and the hub that drops, truncates, replays and delays
connections.  After every fault the nodes' background sync must resume on its
own (no test ever runs `outpost-sync push` or `pull`), and then:

  * every acknowledged write (the node's API answered 2xx) is at the hub and
    on both nodes exactly once, with its last acknowledged state;
  * a write that was never acknowledged is present at most once;
  * nothing was quarantined and no conflict was recorded (the writers never
    edit the same row from two offices, so either would be a double apply);
  * `PRAGMA integrity_check` is ok on hub.db and on both node.db files;
  * `outpost-sync verify --json` finds every table equal to the hub's.

Random choices come from one seed, printed on every run line so a failure
can be replayed: OUTPOST_FAULT_SEED=N.  OUTPOST_LONG=1 runs many more rounds.

Kill points: "delay" rounds send SIGKILL from outside after a random delay
while writes arrive in bursts; "point" rounds use the named crash points of
lib/fault.h (OUTPOST_FAULT=NAME:N, compiled into the sanitizer test build
only; without them these rounds become delay rounds).
"""
import functools
import http.client
import json
import os
import random
import socket
import subprocess
import sqlite3
import threading
import time
import unittest
import uuid

import harness
from harness import BIN, Daemon, Listener, plant_secret, run_tool

LONG = bool(os.environ.get("OUTPOST_LONG"))
SEED = int(os.environ.get("OUTPOST_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))
ROUNDS = int(os.environ.get("OUTPOST_FAULT_ROUNDS") or (120 if LONG else 20))
SYNC_MS = 250          # the node's sync interval in the hooks build
# The hub's snapshot page bound in the hooks build: every enrollment here
# bootstraps over many pages (the demo hub holds some 770 rows for a node).
SNAPSHOT_ROWS = 50
# (the release build, under make test-long, uses its sync_interval setting: 1 s)
CONVERGE_S = 60        # longest wait for the offices to settle after a fault
# Without the hooks build (make test-long uses the release build) the node's
# real interval and backoff apply: up to minutes after many failures.
CONVERGE_NO_HOOKS_S = 420

NODE_POINTS = [("node.commit.before", 1, 8), ("node.commit.after", 1, 8),
               ("node.flush.before", 1, 8),
               ("push.before_send", 1, 3), ("push.after_reply", 1, 3),
               ("pull.after_reply", 1, 4), ("pull.apply", 1, 4)]
HUB_POINTS = [("hub.apply.entry", 1, 12), ("hub.apply.commit", 1, 3),
              ("hub.pull.serve", 1, 6)]


@functools.lru_cache(maxsize=None)
def have_hooks():
    with open(os.path.join(BIN, "outpost-node"), "rb") as f:
        return b"OUTPOST_FAULT" in f.read()


def hub_tool(hub, *args):
    return run_tool([os.path.join(BIN, "outpost-hub")] + list(args) + ["--data", hub.data],
                    name="hub")


def log(msg):
    with open(os.path.join(harness.OUT, "faults-runs.txt"), "a") as f:
        f.write(msg + "\n")


# ---- writers: bursts of check-ins and visit actions, tracking acks ---------------
NEXT_ACTION = {"waiting": ("call", "called"), "called": ("serve", "serving"),
               "serving": ("done", "done")}


class Ledger:
    """What each node acknowledged, and what it may or may not have kept."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}      # name -> (node label, checkin id)
        self.maybe = set()   # names whose insert was never answered
        self.state = {}      # checkin id -> set of allowed final statuses
        self.live = {}       # node label -> [ids it may still act on]
        self.writes = 0
        self.failed = 0


class Writer(threading.Thread):
    """Writes to one node in bursts until stopped; never retries a write."""

    def __init__(self, node, label, ledger, rng, reason_id, tag):
        super().__init__(daemon=True)
        self.node, self.label, self.ledger = node, label, ledger
        self.rng, self.reason_id, self.tag = rng, reason_id, tag
        self.stop = threading.Event()
        self.k = 0
        self.actions = True

    def one(self):
        t = getattr(self.node, "login_thread", None)
        if t is not None and t.is_alive():
            t.join(120)
        led = self.ledger
        live = led.live.setdefault(self.label, [])
        if live and self.actions and self.rng.random() < 0.35:
            cid = self.rng.choice(live)
            with led.lock:
                allowed = led.state[cid]
            cur = next(iter(allowed))
            action, to = NEXT_ACTION[cur]
            try:
                r = self.node.post("/api/v1/checkins/%s/action" % cid, {"action": action},
                                   timeout=8)
                ok = 200 <= r.status < 300
            except OSError:
                ok = False
            with led.lock:
                led.writes += 1
                if ok:
                    led.state[cid] = {to}
                    if to == "done":
                        live.remove(cid)
                else:
                    # Unanswered: either state may be the final one; leave it be.
                    led.failed += 1
                    led.state[cid] = {cur, to}
                    live.remove(cid)
            return
        self.k += 1
        name = "Fault %s %s %d %s" % (self.tag, self.label, self.k, uuid.uuid4().hex[:6])
        try:
            r = self.node.post("/api/v1/checkins", {"visitor_name": name,
                                                    "reason_ids": [self.reason_id],
                                                    "language": "en"}, timeout=8)
            cid = r.json()["id"] if r.status == 201 else None
        except (OSError, ValueError):
            cid = None
        with led.lock:
            led.writes += 1
            if cid:
                led.acked[name] = (self.label, cid)
                led.state[cid] = {"waiting"}
                live.append(cid)
            else:
                led.failed += 1
                led.maybe.add(name)

    def run(self):
        while not self.stop.is_set():
            for _ in range(self.rng.randint(3, 12)):
                if self.stop.is_set():
                    break
                self.one()
            self.stop.wait(self.rng.uniform(0.05, 0.4))


# ---- a TLS-unaware TCP proxy -------------------------------------------------------
class Proxy(Listener):
    """Forwards TCP bytes to the hub and, while faults are on, misbehaves at
    random (seeded).  libcurl keeps one connection open for many requests,
    so faults are drawn per connection and per chunk of bytes:

      drop       a new connection is closed at once, nothing forwarded
      cut        a connection is closed both ways before a request chunk
      truncate   a request chunk is forwarded only in part, then both ways
                 are closed (the hub sees EOF mid-request)
      short      a reply chunk is forwarded only in part, then closed (the
                 node sees EOF mid-reply)
      delay      a chunk waits 0.1-0.8 s
      replay     after the connection ends, every byte the node sent on it is
                 sent again on a new connection to the hub (a replay at the
                 TLS level: the hub must refuse it without harm)
    """

    def __init__(self, hub_port, rng):
        super().__init__(backlog=64)
        self.hub_port = hub_port
        self.rng = rng
        self.faults = True
        self.drop_all = False
        self.counts = {}
        self.lock = threading.Lock()
        # The first connections while faults are on get each fault once,
        # so every kind happens in every run; the rest are drawn at random.
        self.forced = ["drop", "cut", "truncate", "short", "delay", "replay"]

    def roll(self, p):
        with self.lock:
            return self.faults and self.rng.random() < p

    def uniform(self, a, b):
        with self.lock:
            return self.rng.uniform(a, b)

    def count(self, mode):
        with self.lock:
            self.counts[mode] = self.counts.get(mode, 0) + 1

    def serve(self, c):
        with self.lock:
            force = (self.forced.pop(0) if self.faults and not self.drop_all and self.forced
                     else None)
        if self.drop_all or force == "drop" or (force is None and self.roll(0.15)):
            self.count("drop")
            c.close()
            return
        try:
            u = socket.create_connection(("127.0.0.1", self.hub_port), timeout=30)
        except OSError:
            c.close()
            return
        replay = force == "replay" or (force is None and self.roll(0.35))
        sent = []
        first = {"up": force in ("cut", "truncate", "delay"), "down": force == "short"}

        def close_both():
            for s in (c, u):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def pump(src, dst, upstream):
            side = "up" if upstream else "down"
            try:
                while True:
                    b = src.recv(16384)
                    if not b:
                        break
                    if upstream:
                        sent.append(b)
                    forced = force if first[side] else None
                    first[side] = False
                    if forced == "delay" or (forced is None and self.roll(0.08)):
                        self.count("delay")
                        time.sleep(self.uniform(0.1, 0.8))
                    if forced == "cut" or (upstream and forced is None and self.roll(0.05)):
                        self.count("cut")
                        break
                    if forced in ("truncate", "short") or (forced is None and self.roll(0.06)):
                        self.count("truncate" if upstream else "short")
                        dst.sendall(b[:int(len(b) * self.uniform(0.1, 0.9))])
                        break
                    dst.sendall(b)
            except OSError:
                pass
            close_both()

        t1 = threading.Thread(target=pump, args=(c, u, True), daemon=True)
        t2 = threading.Thread(target=pump, args=(u, c, False), daemon=True)
        t1.start()
        t2.start()
        t1.join(120)
        t2.join(120)
        c.close()
        u.close()
        if replay and sent:
            self.count("replay")
            try:
                with socket.create_connection(("127.0.0.1", self.hub_port), timeout=5) as r:
                    for b in sent:
                        r.sendall(b)
                    r.settimeout(3)
                    while r.recv(16384):
                        pass
            except OSError:
                pass


# ---- the test --------------------------------------------------------------------
def start_offices(cls):
    """cls.hub and cls.nodes A and B (not enrolled yet), with cls.env (fast
    sync, small snapshot pages), and cls.reason_id of a greeter reason.
    Staff sign in once each node is enrolled (ensure_enrolled, and
    test_proxy_faults): a row written under a node's provisional identity
    names another node than the enrolled one, and the hub quarantines it
    (the trust boundary)."""
    cls.env = {"OUTPOST_TEST_HOOKS_SYNC_MS": str(SYNC_MS), "OUTPOST_NODE_SYNC_INTERVAL": "1",
               "OUTPOST_TEST_HOOKS_SNAPSHOT_ROWS": str(SNAPSHOT_ROWS)}
    cls.hub = Daemon("hub", env=cls.env).start()
    cls.nodes = {"A": Daemon("node", env=cls.env).start(), "B": Daemon("node", env=cls.env).start()}
    harness.admin_token(cls.hub)
    cls.reason_id = cls.nodes["A"].get("/api/v1/greeter/reasons").json()[0]["id"]


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hooks = have_hooks()
        start_offices(cls)

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes.values():
            n.cleanup()
        cls.hub.cleanup()

    # ---- helpers -----------------------------------------------------------------
    def enroll(self, node, url=None):
        p = hub_tool(self.hub, "enroll-code", "--office", "demo-office")
        self.assertEqual(p.returncode, 0, p.stderr)
        code = p.stdout.decode().strip()
        plant_secret(code)
        p = run_tool(["enroll", "--hub", self.hub.url, "--code", code, "--data", node.data],
                     name="faults")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        path = os.path.join(node.data, "sync.json")
        with open(path) as f:
            ident = json.load(f)
        plant_secret(ident["node_secret"])
        if url:
            # Only the URL changes: the pinned key is the hub's, end to end.
            ident["hub_url"] = url
            tmp = path + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(ident, f)
            os.replace(tmp, path)
        return ident

    def restart(self, d, fault=None):
        d.kill()
        if d.log:
            d.log.close()
            d.log = None
        d.env = dict(os.environ)
        d.env.update(self.env)
        if fault:
            d.env["OUTPOST_FAULT"] = fault
        d.start(wait=False)
        try:
            d.wait_ready()
        except RuntimeError:
            # The crash point may come before the first /healthz answer.
            if not fault or d.proc.poll() is None:
                raise
            return
        if d.kind == "node":
            # Sessions live in the node's memory: sign in again, in the
            # background (a login costs seconds of PBKDF2 under the
            # sanitizers); the node's writer waits for it (Writer.run).
            d.login_error = None

            def sign_in():
                try:
                    harness.login(d)
                except (OSError, http.client.HTTPException, AssertionError) as e:
                    # A login is a write too: it may reach the crash point.
                    try:
                        d.proc.wait(timeout=3)
                    except subprocess.TimeoutExpired:
                        pass
                    if not fault or d.proc.poll() is None:
                        d.login_error = e
            d.login_thread = threading.Thread(target=sign_in, daemon=True)
            d.login_thread.start()

    def signed_in(self, n):
        t = getattr(n, "login_thread", None)
        if t is not None:
            t.join(120)
            self.assertIsNone(getattr(n, "login_error", None), n.name)

    def ensure_up(self):
        for d in [self.hub] + list(self.nodes.values()):
            if d.proc.poll() is not None:
                self.restart(d)

    def q(self, d, sql, *args):
        c = d.db()
        try:
            return c.execute(sql, args).fetchall()
        finally:
            c.close()

    def settled(self):
        head = self.q(self.hub, "SELECT coalesce(max(seq), 0) FROM change_log")[0][0]
        for n in self.nodes.values():
            if self.q(n, "SELECT count(*) FROM outbox")[0][0] != 0:
                return False
            cur = self.q(n, "SELECT value FROM node_meta WHERE key='sync_cursor'")
            if not cur or int(cur[0][0]) < head:
                return False
        return True

    def verify(self, n):
        p = run_tool(["verify", "--json", "--data", n.data], name="faults")
        try:
            return json.loads(p.stdout)
        except ValueError:
            return {"ok": False, "out": p.stdout[-300:], "err": p.stderr[-300:]}

    def converge(self, what):
        """Wait for the background cycles (never a manual push or pull)."""
        t0 = time.time()
        last = None
        limit = CONVERGE_S if have_hooks() else CONVERGE_NO_HOOKS_S
        while time.time() - t0 < limit:
            for d in [self.hub] + list(self.nodes.values()):
                self.assertIsNone(d.proc.poll(), "%s died after %s; log %s" % (
                    d.name, what, d.logpath))
            if self.settled():
                # Both nodes at once: each verify is a process start.
                nodes = list(self.nodes.values())
                last = [None] * len(nodes)

                def run_verify(i):
                    last[i] = self.verify(nodes[i])
                ts = [threading.Thread(target=run_verify, args=(i,)) for i in range(len(nodes))]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join(120)
                if all(v and v.get("match") for v in last):
                    took = time.time() - t0
                    for n in self.nodes.values():
                        self.signed_in(n)
                    return took
            time.sleep(0.2)
        st = {k: n.get("/api/v1/sync/status").json() for k, n in self.nodes.items()}
        self.fail("no convergence %ds after %s (seed %d): verify %s, status %s" % (
            limit, what, SEED, json.dumps(last)[:1500], json.dumps(st)[:1500]))

    def check(self, ledger, what):
        ctx = "%s (seed %d)" % (what, SEED)
        for d in [self.hub] + list(self.nodes.values()):
            self.assertEqual(self.q(d, "PRAGMA integrity_check")[0][0], "ok", (d.name, ctx))
        self.assertEqual(self.q(self.hub, "SELECT count(*) FROM quarantine")[0][0], 0,
                         "%s: %s" % (ctx, [tuple(r) for r in self.q(self.hub, "SELECT tbl, reason FROM quarantine LIMIT 5")]))
        self.assertEqual(self.q(self.hub, "SELECT count(*) FROM conflicts")[0][0], 0, ctx)
        with ledger.lock:
            acked = dict(ledger.acked)
            maybe = set(ledger.maybe)
            state = {k: set(v) for k, v in ledger.state.items()}
        for d in [self.hub] + list(self.nodes.values()):
            rows = self.q(d, "SELECT visitor_name, id, status FROM checkins "
                             "WHERE visitor_name LIKE 'Fault %'")
            seen = {}
            for name, cid, status in rows:
                seen.setdefault(name, []).append((cid, status))
            for name, (label, cid) in acked.items():
                got = seen.get(name, [])
                self.assertEqual([c for c, _ in got], [cid],
                                 "acknowledged check-in %r from %s on %s: %r, %s" % (
                                     name, label, d.name, got, ctx))
                self.assertIn(got[0][1], state[cid], "state of %r on %s, %s" % (
                    name, d.name, ctx))
            for name, got in seen.items():
                self.assertEqual(len(got), 1, "%r %d times on %s, %s" % (
                    name, len(got), d.name, ctx))
                self.assertTrue(name in acked or name in maybe,
                                "%r on %s was never written, %s" % (name, d.name, ctx))
            # Rows a check-in brings along come once too.
            dup = self.q(d, "SELECT count(*) FROM (SELECT checkin_id FROM checkin_reasons "
                            "GROUP BY checkin_id, reason_id HAVING count(*) > 1)")[0][0]
            self.assertEqual(dup, 0, (d.name, ctx))

    # ---- SIGKILL at random points ------------------------------------------------------
    def ensure_enrolled(self):
        cls = type(self)
        if getattr(cls, "ledger", None) is None:
            for n in self.nodes.values():
                self.enroll(n)
            for n in self.nodes.values():
                harness.login(n)
            self.converge("enrollment")
            cls.ledger = Ledger()
        return cls.ledger

    def hub_acked(self, node):
        nid = self.q(node, "SELECT value FROM node_meta WHERE key='node_id'")[0][0]
        return self.q(self.hub, "SELECT acked_seq FROM nodes WHERE id=?", nid)[0][0]

    def test_hub_killed_mid_backlog(self):
        # A backlog larger than one bounded hub transaction (500 entries):
        # the hub dies after the first COMMIT, inside the second.
        ledger = self.ensure_enrolled()
        rng = random.Random(SEED + 7)
        a = self.nodes["A"]
        self.hub.kill()
        before = self.hub_acked(a)
        w = Writer(a, "A", ledger, rng, self.reason_id, "backlog")
        w.actions = False
        pending = 0
        for _ in range(20):
            for _ in range(560 - pending):
                w.one()
            pending = self.q(a, "SELECT count(*) FROM outbox")[0][0]
            if pending >= 560:
                break
        self.assertGreaterEqual(pending, 560)
        if self.hooks:
            point = rng.randint(505, 555)
            self.restart(self.hub, "hub.apply.entry:%d" % point)
            t0 = time.time()
            while time.time() - t0 < 60 and self.hub.proc.poll() is None:
                time.sleep(0.05)
            self.assertIsNotNone(self.hub.proc.poll(), "crash point not reached")
            # The first bounded transaction survived the crash, the second not.
            self.assertEqual(self.hub_acked(a) - before, 500)
            desc = "hub killed at entry %d of a %d-entry backlog" % (point, pending)
        else:
            self.restart(self.hub)
            delay = rng.uniform(0.1, 2.0)
            time.sleep(delay)
            self.hub.kill()
            desc = "hub killed %.2fs into a %d-entry backlog" % (delay, pending)
        self.restart(self.hub)
        took = self.converge(desc)
        self.check(ledger, desc)
        log("seed %d %s; converged in %.1fs" % (SEED, desc, took))

    def test_new_pc_killed_between_snapshot_pages(self):
        """A third PC of the office, enrolled while the office writes: its
        bootstrap (many snapshot pages, SNAPSHOT_ROWS) is killed between two
        pages by the crash point snapshot.next, never claims a pull cursor
        half-way, and once restarted resumes and ends with every
        acknowledged check-in exactly once, like the other two."""
        if not self.hooks:
            self.skipTest("needs the crash points of the sanitizer test build")
        ledger = self.ensure_enrolled()
        rng = random.Random(SEED + 11)
        c = Daemon("node", env=self.env)
        w = Writer(self.nodes["A"], "A", ledger, random.Random(rng.random()), self.reason_id,
                   "snap")
        k = rng.randint(2, 6)
        desc = "new PC killed after snapshot page %d" % k
        try:
            self.enroll(c)  # before its first start: it begins with the snapshot
            c.env["OUTPOST_FAULT"] = "snapshot.next:%d" % k
            w.start()
            c.start(wait=False)
            try:
                c.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.fail("crash point snapshot.next:%d not reached (seed %d)" % (k, SEED))
            self.assertEqual(self.q(c, "SELECT count(*) FROM node_meta WHERE key='sync_cursor'")
                             [0][0], 0, desc)
            self.assertEqual(self.q(c, "SELECT count(*) FROM node_meta WHERE key='snapshot_seq'")
                             [0][0], 1, desc)
            c.log.close()
            c.log = None
            del c.env["OUTPOST_FAULT"]
            c.start()
            time.sleep(rng.uniform(0.3, 1.5))  # writes keep coming while it resumes
            w.stop.set()
            w.join(30)
            self.nodes["C"] = c
            took = self.converge(desc)
            self.check(ledger, desc)
            self.assertIn("snapshot: resuming after", c.read_log())
            log("seed %d %s; converged in %.1fs" % (SEED, desc, took))
        finally:
            w.stop.set()
            self.nodes.pop("C", None)
            c.cleanup()

    def test_sigkill_rounds(self):
        rng = random.Random(SEED)
        ledger = self.ensure_enrolled()
        reached = {}
        kills = 0
        t_start = time.time()
        for i in range(ROUNDS):
            # Every node restart costs a staff login (PBKDF2, seconds under
            # the sanitizers), so the hub is picked a little more often.
            target = rng.choices(["A", "B", "hub"], weights=[3, 3, 4])[0]
            d = self.hub if target == "hub" else self.nodes[target]
            use_point = self.hooks and rng.random() < 0.6
            writers = [Writer(n, label, ledger, random.Random(rng.random()), self.reason_id,
                              "r%d" % i) for label, n in self.nodes.items()]
            if use_point:
                name, lo, hi = rng.choice(HUB_POINTS if target == "hub" else NODE_POINTS)
                fault = "%s:%d" % (name, rng.randint(lo, hi))
                self.restart(d, fault)     # itself a SIGKILL at an arbitrary moment
                kills += 1
                for w in writers:
                    w.start()
                t0 = time.time()
                while time.time() - t0 < 8 and d.proc.poll() is None:
                    time.sleep(0.02)
                hit = d.proc.poll() is not None
                kills += hit
                reached[name] = reached.get(name, 0) + hit
                desc = "round %d: %s at point %s (%s)" % (
                    i, target, fault, "reached" if hit else "not reached, killed")
            else:
                delay = rng.uniform(0.0, 1.5)
                for w in writers:
                    w.start()
                time.sleep(delay)
                desc = "round %d: %s SIGKILL after %.3fs" % (i, target, delay)
            if d.proc.poll() is None:
                d.kill()
                kills += 1
            time.sleep(rng.uniform(0.0, 0.4))
            self.restart(d)
            time.sleep(rng.uniform(0.1, 0.6))  # writes keep coming after the restart
            for w in writers:
                w.stop.set()
            for w in writers:
                w.join(30)
            self.ensure_up()
            took = self.converge(desc)
            self.check(ledger, desc)
            log("seed %d %s; converged in %.1fs; %d writes, %d acked so far" % (
                SEED, desc, took, ledger.writes, len(ledger.acked)))
        log("seed %d: %d rounds, %d kills, points reached %s, %.0fs" % (
            SEED, ROUNDS, kills, json.dumps(reached), time.time() - t_start))
        self.assertGreaterEqual(kills, min(ROUNDS, 20))
        self.assertGreater(len(ledger.acked), ROUNDS)
        if self.hooks and ROUNDS >= 20:
            self.assertGreaterEqual(sum(reached.values()), 3, reached)


class ProxyTest(unittest.TestCase):
    """Two offices syncing through a proxy that misbehaves at random."""

    @classmethod
    def setUpClass(cls):
        start_offices(cls)
        cls.rng = random.Random(SEED + 1)
        cls.proxy = Proxy(cls.hub.port, cls.rng)
        cls.proxy.start()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.close()
        for n in cls.nodes.values():
            n.cleanup()
        cls.hub.cleanup()

    enroll = FaultTest.enroll
    q = FaultTest.q
    settled = FaultTest.settled
    verify = FaultTest.verify
    converge = FaultTest.converge
    signed_in = FaultTest.signed_in
    check = FaultTest.check

    def push_again(self, ident, entries, base):
        """Send a captured push (the node's own outbox entries) once more,
        signed as the node, straight to the hub."""
        import test_hub as th
        schema = self.hub.get("/healthz").json()["schema_version"]
        frame = th.build_frame([(seq - base, hlc, actor, cs) for seq, hlc, actor, cs in entries],
                               schema)
        n = th.Enrolled(self.hub, {"node_id": ident["node_id"],
                                   "node_secret": ident["node_secret"],
                                   "schema_version": schema})
        return n.push(frame)

    def test_proxy_faults(self):
        ledger = Ledger()
        url = "https://127.0.0.1:%d" % self.proxy.port
        idents = {k: self.enroll(n, url) for k, n in self.nodes.items()}
        for n in self.nodes.values():
            harness.login(n)
        # Capture a real push: with every connection dropped, A's writes
        # wait in its outbox; read them there, then let them through.
        self.proxy.drop_all = True
        w = Writer(self.nodes["A"], "A", ledger, random.Random(SEED + 2), self.reason_id, "cap")
        for _ in range(6):
            w.one()
        a = self.nodes["A"]
        captured = [(r[0], r[1], r[2], bytes(r[3])) for r in self.q(
            a, "SELECT seq, hlc, coalesce(actor, ''), changeset FROM outbox ORDER BY seq")]
        base = int((self.q(a, "SELECT value FROM sync_state WHERE key='seq_base'") or
                    [("0",)])[0][0] or 0)
        self.assertGreaterEqual(len(captured), 1)
        self.proxy.drop_all = False
        # Bursts on both offices through the faulty proxy.
        t0 = time.time()
        dur = 30 if LONG else 12
        writers = [Writer(n, label, ledger, random.Random(SEED + 3 + k), self.reason_id, "px")
                   for k, (label, n) in enumerate(self.nodes.items())]
        for w in writers:
            w.start()
        time.sleep(dur)
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(30)
        # Keep the faults on while the offices catch up for a while, then
        # let everything through and require full convergence.
        time.sleep(3)
        through = self.q(self.hub, "SELECT count(*) FROM checkins "
                                   "WHERE visitor_name LIKE 'Fault px %'")[0][0]
        with self.proxy.lock:
            self.proxy.faults = False
        took = self.converge("proxy faults")
        counts = dict(self.proxy.counts)
        log("seed %d proxy: %s; %d writes, %d check-ins acked, %d at the hub while faults "
            "were on; converged %.1fs after faults off (%.0fs in all)" % (
                SEED, json.dumps(counts), ledger.writes, len(ledger.acked), through, took,
                time.time() - t0))
        self.assertGreater(through, 0, "nothing got through the faulty proxy")
        if have_hooks():
            for mode in ("drop", "cut", "truncate", "short", "delay", "replay"):
                self.assertGreater(counts.get(mode, 0), 0, counts)
        else:
            # The release build backs off for minutes after a few failures.
            self.assertGreaterEqual(len(counts), 2, counts)
        self.check(ledger, "proxy faults")
        self.assertEqual(ledger.failed, 0, "the node's own API failed")
        # The captured push sent once more (fresh signature and nonce): the
        # hub skips every entry, and nothing changes.
        head = self.q(self.hub, "SELECT max(seq) FROM change_log")[0][0]
        r = self.push_again(idents["A"], captured, base)
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual((j["applied"], j["skipped"], j["quarantined"]),
                         (0, len(captured), []), j)
        self.assertEqual(self.q(self.hub, "SELECT max(seq) FROM change_log")[0][0], head)
        self.check(ledger, "captured push replayed")
        for n in self.nodes.values():
            self.assertTrue(self.verify(n).get("match"))


if __name__ == "__main__":
    unittest.main()
