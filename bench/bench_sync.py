#!/usr/bin/env python3
"""Replication benchmark (make bench, via bench/bench_sync.sh): one run with
real release processes on loopback, every figure against a reference measured
in the same run.

  1. A hub and two office nodes A and B of the same office, both enrolled
     with `outpost-sync enroll` through a byte-counting TCP proxy (TLS passes
     through untouched; the pin holds end to end), both pulled up to date.
  2. Node A is offline for a week: bench_sync gen fills its outbox with
     ENTRIES check-ins (a checkins and a checkin_reasons row each, captured
     exactly as the node's API does) spread over 7 days.
  3. Reference: bench_sync raw applies the same changesets with plain
     sqlite3changeset_apply() to a fresh database (same disk, WAL,
     synchronous=FULL, the hub's transaction size).
  4. `outpost-sync push` on A drains the backlog into the hub (validation,
     merge, change log, acknowledgements), then `outpost-sync pull` on B
     brings every row down.  End-to-end rows/s = rows / (push + pull time);
     the CLI runs the same client code as the node's background cycle, minus
     the cycle's timer waits.
  5. Bytes the proxy carried for the push (both directions, TLS and HTTP
     included) and for the pull, per row, against the raw changeset bytes
     per row; the hub's peak RSS (VmHWM).

  6. The pull's CPU (hub and node B) and, on copies of the hub and of B
     as the pull found them, the same pull in process (bench_sync pull):
     the hub's page building and the node's apply apart, and the node's
     cost per row at the start and at the end of the backlog (flat when
     the cost is linear in the backlog).
  7. Pipelined: a second backlog of the same size at A, pushed while B
     pulls back to back, as nodes on cycles of their own overlap; the
     time until B holds every row.  Steps 4 and 7 are both reported: 4
     is push-all-then-pull-all, 7 what an office sees when the two
     overlap.  The headline ratio stays step 4 against step 3's grouped
     apply.

Prints the figures and whether each target is met; never fails on timing.
usage: bench_sync.py TMPDIR [ENTRIES]
TMPDIR/sync-bench/pristine-hub.db stays behind: the hub as the push found
it, for A/B runs of the hub's work in process on fresh copies of it
(`bench_sync ingest COPY TMPDIR/sync-bench/raw-src.db`).
For profiling, BENCH_SYNC_HUB_WRAP / BENCH_SYNC_PUSH_WRAP / BENCH_SYNC_PULL_WRAP
put a command in front of the hub, the timed push and the timed pull (e.g. "perf record -g -o FILE --").
"""
import json
import resource
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import ssl

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.join(TOP, "bin")
HELPER = os.path.join(TOP, "build", "rel", "bench", "bench_sync")
# The CRM backlog: leads made offline, with notes on each (BENCH_CRM=LEADSxNOTES).
CRM_LEADS, CRM_NOTES = (int(x) for x in os.environ.get("BENCH_CRM", "500x10").split("x"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class CountingProxy(threading.Thread):
    """TCP forwarder counting bytes per direction; phase labels the counts."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.listen_port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.phase = "setup"
        self.bytes = {}

    def add(self, direction, n):
        with self.lock:
            k = (self.phase, direction)
            self.bytes[k] = self.bytes.get(k, 0) + n

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.port))
            for src, dst, d in ((c, u, "up"), (u, c, "down")):
                threading.Thread(target=self.pump, args=(src, dst, d), daemon=True).start()

    def pump(self, src, dst, direction):
        try:
            while True:
                b = src.recv(262144)
                if not b:
                    break
                self.add(direction, len(b))
                dst.sendall(b)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def total(self, phase):
        with self.lock:
            return self.bytes.get((phase, "up"), 0) + self.bytes.get((phase, "down"), 0)


def wait_http(url, tls):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2,
                                        context=ctx if tls else None) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("%s not ready" % url)


def tool(*args, check=True):
    p = subprocess.run([os.path.join(BIN, "outpost-sync")] + list(args),
                       capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("outpost-sync %s: %s %s" % (" ".join(args), p.stdout, p.stderr))
    return p


def cpu_s(pid):
    """User + system CPU seconds the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def timed_sync(hub_pid, what, data):
    """`outpost-sync WHAT` on node directory data (behind BENCH_SYNC_PUSH_WRAP
    or BENCH_SYNC_PULL_WRAP): its wall time, the hub's CPU meanwhile and
    the command's own CPU, in seconds."""
    cpu0 = cpu_s(hub_pid)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(os.environ.get("BENCH_SYNC_%s_WRAP" % what.upper(), "").split() +
                   [os.path.join(BIN, "outpost-sync"), what, "--data", data],
                   capture_output=True, check=True)
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (wall, cpu_s(hub_pid) - cpu0,
            (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime))


def db_copy(src_path, dst_path):
    """A consistent copy of a database in WAL mode (SQLite's backup)."""
    src = sqlite3.connect(src_path)
    dst = sqlite3.connect(dst_path)
    src.backup(dst)
    src.close()
    dst.close()


def pull_in_process(base):
    """bench_sync pull on the copies: the hub's page building and the node's
    apply of the same pages, in process (no TLS, HTTP, deflate)."""
    shutil.copy(os.path.join(base, "pull-node.db"), os.path.join(base, "pull-node-run.db"))
    out = subprocess.run([HELPER, "pull", os.path.join(base, "pull-hub.db"),
                          os.path.join(base, "pull-node-run.db")],
                         capture_output=True, text=True, check=True).stdout.split()
    return {out[i]: float(out[i + 1]) for i in range(0, len(out), 2)}


def pipelined(a, b, entries):
    """A second backlog of the same size at A, pushed while B pulls back to
    back (as two nodes on cycles of their own do when B's cycle comes round
    during A's drain): seconds from the push's start until B holds every
    row, the pulls B ran, and the seconds the push took."""
    subprocess.run([HELPER, "gen", os.path.join(a, "node.db"), str(entries), "7"],
                   capture_output=True, text=True, check=True)
    sync = os.path.join(BIN, "outpost-sync")
    t0 = time.monotonic()
    push = subprocess.Popen([sync, "push", "--data", a], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    pulls, push_s = 0, None
    while True:
        done = push.poll() is not None
        if done and push_s is None:
            push_s = time.monotonic() - t0
        subprocess.run([sync, "pull", "--data", b], capture_output=True, check=True)
        pulls += 1
        if done:
            break
    if push.returncode != 0:
        raise RuntimeError("push (pipelined) failed: %d" % push.returncode)
    return time.monotonic() - t0, pulls, push_s


def main():
    tmp = sys.argv[1]
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    base = os.path.join(tmp, "sync-bench")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    procs = []
    try:
        hub_dir = os.path.join(base, "hub")
        hub_port = free_port()
        hub_log = open(os.path.join(base, "hub.log"), "wb")
        hub = subprocess.Popen(os.environ.get("BENCH_SYNC_HUB_WRAP", "").split() + [os.path.join(BIN, "outpost-hub"), "--data", hub_dir,
                                "--listen", "127.0.0.1:%d" % hub_port, "--demo", "yes"],
                               stdout=hub_log, stderr=subprocess.STDOUT)
        procs.append(hub)
        wait_http("https://127.0.0.1:%d" % hub_port, True)
        proxy = CountingProxy(hub_port)
        proxy.start()
        url = "https://127.0.0.1:%d" % proxy.listen_port
        nodes = {}
        for name in ("A", "B"):
            d = os.path.join(base, "node-" + name)
            port = free_port()
            # Started once to create node.db, then stopped: the CLI does the syncing.
            p = subprocess.Popen([os.path.join(BIN, "outpost-node"), "--data", d, "--listen",
                                  "127.0.0.1:%d" % port, "--demo", "yes"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            procs.append(p)
            wait_http("http://127.0.0.1:%d" % port, False)
            p.terminate()
            p.wait()
            code = subprocess.run([os.path.join(BIN, "outpost-hub"), "enroll-code", "--office",
                                   "demo-office", "--data", hub_dir], capture_output=True,
                                  text=True, check=True).stdout.strip()
            tool("enroll", "--hub", url, "--code", code, "--data", d)
            tool("push", "--data", d)
            tool("pull", "--data", d)
            nodes[name] = d
        a, b = nodes["A"], nodes["B"]

        # Node A before its backlog: the CRM backlog below starts from it.
        db_copy(os.path.join(a, "node.db"), os.path.join(base, "crm-src.db"))
        out = subprocess.run([HELPER, "gen", os.path.join(a, "node.db"), str(entries), "7"],
                             capture_output=True, text=True, check=True).stdout.split()
        rows, cs_bytes = int(out[1]), int(out[3])
        shutil.copy(os.path.join(a, "node.db"), os.path.join(base, "raw-src.db"))
        raws = {}
        for mode in ("each", "cat"):
            out = subprocess.run([HELPER, "raw", os.path.join(base, "raw-src.db"),
                                  os.path.join(base, "raw-%s.db" % mode), mode],
                                 capture_output=True, text=True, check=True).stdout.split()
            raws[mode] = (int(out[1]), float(out[3]), float(out[9]))
            if raws[mode][0] != rows:
                raise RuntimeError("raw apply (%s) made %d rows of %d" % (mode, raws[mode][0],
                                                                         rows))
        rate_each = rows / raws["each"][1]
        rate_cat = rows / raws["cat"][1]

        # The hub as the push finds it, for the in-process run below.
        src = sqlite3.connect(os.path.join(hub_dir, "hub.db"))
        dst = sqlite3.connect(os.path.join(base, "ingest-hub.db"))
        src.backup(dst)
        src.close()
        dst.close()

        proxy.phase = "push"
        push_s, push_cpu, push_cli_cpu = timed_sync(hub.pid, "push", a)
        # The hub and node B as the pull finds them, for the in-process pull below.
        db_copy(os.path.join(hub_dir, "hub.db"), os.path.join(base, "pull-hub.db"))
        db_copy(os.path.join(b, "node.db"), os.path.join(base, "pull-node.db"))
        proxy.phase = "pull"
        pull_s, pull_hub_cpu, pull_cli_cpu = timed_sync(hub.pid, "pull", b)
        proxy.phase = "after"

        v = json.loads(tool("verify", "--json", "--data", b, check=False).stdout or "{}")
        c = sqlite3.connect(os.path.join(b, "node.db"))
        got = c.execute("SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                        "'Backlog Visitor %'").fetchone()[0]
        c.close()
        hub_kb = peak_rss_kb(hub.pid)
        shutil.copy(os.path.join(base, "ingest-hub.db"), os.path.join(base, "merge-hub.db"))
        shutil.copy(os.path.join(base, "ingest-hub.db"), os.path.join(base, "pristine-hub.db"))  # A/B runs
        out = subprocess.run([HELPER, "ingest", os.path.join(base, "ingest-hub.db"),
                              os.path.join(base, "raw-src.db")],
                             capture_output=True, text=True, check=True).stdout.split()
        ing_n, ing_applied, ing_cpu = int(out[1]), int(out[3]), float(out[7])
        out = subprocess.run([HELPER, "merge", os.path.join(base, "merge-hub.db"),
                              os.path.join(base, "raw-src.db")],
                             capture_output=True, text=True, check=True).stdout.split()
        mrg_applied, mrg_cpu = int(out[3]), float(out[7])
        # A CRM backlog: leads made offline with notes on each, through
        # the same two paths from the same hub.
        crm_src = os.path.join(base, "crm-src.db")
        out = subprocess.run([HELPER, "gen-crm", crm_src, str(CRM_LEADS), str(CRM_NOTES)],
                             capture_output=True, text=True, check=True).stdout.split()
        crm_n, crm = int(out[1]), {}
        for mode in ("ingest", "merge"):
            dst = os.path.join(base, "crm-%s.db" % mode)
            shutil.copy(os.path.join(base, "pristine-hub.db"), dst)
            out = subprocess.run([HELPER, mode, dst, crm_src],
                                 capture_output=True, text=True, check=True).stdout.split()
            crm[mode] = (int(out[3]), float(out[7]))

        inproc = pull_in_process(base)
        pipe_s, pipe_pulls, pipe_push_s = pipelined(a, b, entries)
        c = sqlite3.connect(os.path.join(b, "node.db"))
        pipe_got = c.execute("SELECT count(*) FROM checkins WHERE visitor_name LIKE "
                             "'Backlog Visitor %'").fetchone()[0] - got
        c.close()
        v2 = json.loads(tool("verify", "--json", "--data", b, check=False).stdout or "{}")

        e2e = rows / (push_s + pull_s)
        ratio = e2e / rate_cat
        push_b = proxy.total("push") / rows
        pull_b = proxy.total("pull") / rows
        raw_b = cs_bytes / rows
        print("== sync (%d check-ins = %d rows, a week offline at node A, A -> hub -> B)"
              % (entries, rows))
        print("  raw sqlite3changeset_apply, one call per changeset:        %9.0f rows/s"
              % rate_each)
        print("  raw sqlite3changeset_apply, 500 grouped per call:          %9.0f rows/s"
              % rate_cat)
        print("  end to end A -> hub -> B:                                  %9.0f rows/s"
              % e2e)
        print("    ratio %.2f of the grouped apply, SQLite's ceiling (target >= 0.50: %s)"
              % (ratio, "met" if ratio >= 0.5 else "NOT met"))
        print("    ratio %.2f of one apply call per changeset (no target)" % (e2e / rate_each))
        print("    drain of the %d-change backlog (push A -> hub): %.2f s, %.0f changes/s,"
              " hub CPU %.2f s (target < 1 s at 50,000%s: %s); pull at B: %.2f s, %.0f changes/s"
              % (entries, push_s, entries / push_s, push_cpu,
                 "" if entries == 50000 else
                 ", here %.2f s per 50,000" % (push_cpu * 50000.0 / entries),
                 "met" if push_cpu * 50000.0 / entries < 1.0 else "NOT met", pull_s,
                 entries / pull_s))
        print("    push CPU: hub %.2f s, node A (outpost-sync push) %.2f s;"
              " pull CPU: hub %.2f s, node B (outpost-sync pull) %.2f s"
              % (push_cpu, push_cli_cpu, pull_hub_cpu, pull_cli_cpu))
        print("    pull in process (no TLS): %d pages, hub pages %.2f s CPU, node apply %.2f s"
              " CPU = %.0f changes/s; node ns/row first quarter %.0f, last quarter %.0f"
              % (inproc["pages"], inproc["hub_cpu"], inproc["node_cpu"],
                 entries / inproc["node_cpu"], inproc["node_first"], inproc["node_last"]))
        print("  pipelined, as nodes on their own cycles run (a second %d-check-in backlog at"
              " A, B pulling back to back while A pushes): %9.0f rows/s, ratio %.2f of the"
              " grouped apply; B held every row %.2f s after the push began (push %.2f s,"
              " %d pulls at B); B holds %d of %d; verify: %s"
              % (entries, rows / pipe_s, rows / pipe_s / rate_cat, pipe_s, pipe_push_s,
                 pipe_pulls, pipe_got, entries, "match" if v2.get("match") else "MISMATCH"))
        print("  hub work in process (hub_ingest, no TLS): %.2f s CPU for %d entries, %.0f"
              " rows/s; ratio %.2f of the grouped apply's CPU (%.2f s); applied %d of %d"
              % (ing_cpu, ing_n, rows / ing_cpu, raws["cat"][2] / ing_cpu, raws["cat"][2],
                 ing_applied, entries))
        print("    the merge alone, entry by entry (as before the grouped apply): %.2f s CPU,"
              " %.0f rows/s; the grouped path does the work in %.2f of its CPU; applied %d"
              % (mrg_cpu, rows / mrg_cpu, ing_cpu / mrg_cpu, mrg_applied))
        print("  a CRM backlog (%d leads made offline, %d notes on each: %d entries), hub work in"
              " process: %.2f s CPU, the merge entry by entry %.2f s (%.2f of its CPU); applied"
              " %d and %d of %d"
              % (CRM_LEADS, CRM_NOTES, crm_n, crm["ingest"][1], crm["merge"][1],
                 crm["ingest"][1] / crm["merge"][1], crm["ingest"][0], crm["merge"][0], crm_n))
        print("  raw changeset:                %9.1f bytes/row (reference)" % raw_b)
        print("  push on the wire:             %9.1f bytes/row  ratio %.2f (target <= 1.20: %s)"
              % (push_b, push_b / raw_b, "met" if push_b / raw_b <= 1.2 else "NOT met"))
        print("  pull on the wire:             %9.1f bytes/row  ratio %.2f (target <= 1.20: %s)"
              % (pull_b, pull_b / raw_b, "met" if pull_b / raw_b <= 1.2 else "NOT met"))
        print("  hub peak RSS:                 %9.1f MB" % (hub_kb / 1024.0))
        print("  node B holds %d of %d backlog check-ins; verify: %s"
              % (got, entries, "match" if v.get("match") else "MISMATCH"))
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    main()
