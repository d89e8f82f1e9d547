#!/usr/bin/env python3
"""A peer side by side (make bench-peers, via bench/peers.sh): the same
backlog of check-ins replicated by Outpost and by pouchdb-server + PouchDB
(CouchDB's protocol), in one run on this machine.

  1. Outpost: bench/bench_sync.py as `make bench` runs it (node A a week
     offline with ENTRIES check-ins, push A -> hub, pull hub -> B through a
     byte-counting proxy, verify); its output is printed as it is.
  2. The same visits, read from node A's database (a checkins row and its
     checkin_reasons rows each), as one PouchDB document per visit with
     every column, loaded into a local PouchDB A (LevelDB on disk; untimed,
     as bench_sync's gen is).
  3. pouchdb-server (LevelDB on disk) behind the same kind of proxy: PouchDB
     A replicates to it, then a fresh PouchDB B replicates from it; every
     visit of B is compared field for field with the source (verify).
  4. Side by side: visits (documents) per second end to end, bytes on the
     wire per visit for the push and the pull, the server's CPU for the push
     and its peak RSS (VmHWM).

Outpost's wire bytes include TLS (the hub speaks only HTTPS); pouchdb-server's
are plain HTTP.  Never fails on timing.
usage: peers.py TMPDIR [ENTRIES]
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_sync  # noqa: E402  (its proxy, port and /proc helpers)

TOP = bench_sync.TOP
PEERS = os.environ.get("PEERS_DIR", os.path.join(TOP, "build", "peers"))
CLIENT = os.path.join(TOP, "bench", "peers.mjs")


def outpost(tmp, entries):
    """Run Outpost's sync bench; its figures as a dict (None where its output
    did not say)."""
    out = subprocess.run([sys.executable, os.path.join(TOP, "bench", "bench_sync.py"), tmp,
                          str(entries)], capture_output=True, text=True)
    sys.stdout.write(out.stdout)
    if out.returncode != 0:
        sys.stdout.write(out.stderr)
        raise RuntimeError("bench_sync.py failed")

    def num(pattern):
        m = re.search(pattern, out.stdout)
        return float(m.group(1)) if m else None
    m = re.search(r"verify: (\w+)", out.stdout)
    return {"rows": num(r"check-ins = (\d+) rows"),
            "push_s": num(r"push A -> hub\): ([\d.]+) s"),
            "pull_s": num(r"pull at B: ([\d.]+) s"),
            "push_cpu": num(r"hub CPU ([\d.]+) s"),
            "push_b": num(r"push on the wire:\s+([\d.]+) bytes/row"),
            "pull_b": num(r"pull on the wire:\s+([\d.]+) bytes/row"),
            "rss_mb": num(r"hub peak RSS:\s+([\d.]+) MB"),
            "verify": m.group(1) if m else "not reported"}


def export_visits(src_db, path):
    """The bench's backlog visits as documents, one JSON line each."""
    db = sqlite3.connect(src_db)
    db.row_factory = sqlite3.Row
    reasons = {}
    for r in db.execute("SELECT * FROM checkin_reasons WHERE checkin_id IN (SELECT id FROM"
                        " checkins WHERE visitor_name LIKE 'Backlog Visitor %') ORDER BY id"):
        reasons.setdefault(r["checkin_id"], []).append(
            {k: r[k] for k in r.keys() if k != "checkin_id"})
    n = 0
    with open(path, "w") as f:
        for r in db.execute("SELECT * FROM checkins WHERE visitor_name LIKE 'Backlog Visitor %'"
                            " ORDER BY id"):
            doc = {k: r[k] for k in r.keys() if k != "id"}
            doc["_id"] = r["id"]
            doc["reasons"] = reasons.get(r["id"], [])
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")
            n += 1
    db.close()
    return n


def client(*args):
    p = subprocess.run(["node", CLIENT] + list(args), capture_output=True, text=True,
                       env=dict(os.environ, PEERS_DIR=PEERS))
    if p.returncode != 0:
        raise RuntimeError("peers.mjs %s: %s %s" % (args[0], p.stdout, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def start_server(base):
    d = os.path.join(base, "server")
    os.makedirs(d)
    port = bench_sync.free_port()
    log = open(os.path.join(base, "pouchdb-server.log"), "wb")
    p = subprocess.Popen(["node", os.path.join(PEERS, "node_modules", "pouchdb-server", "bin",
                                               "pouchdb-server"),
                          "-p", str(port), "-d", d + "/", "-c", os.path.join(d, "config.json"),
                          "-n"], cwd=d, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2) as r:
                if r.status == 200:
                    return p, port
        except OSError:
            pass
        time.sleep(0.1)
    p.kill()
    raise RuntimeError("pouchdb-server did not start; see %s" % log.name)


def peer(base, entries):
    """The PouchDB run; its figures as a dict."""
    n = export_visits(os.path.join(base, "..", "sync-bench", "raw-src.db"),
                      os.path.join(base, "visits.ndjson"))
    if n != entries:
        raise RuntimeError("the backlog holds %d visits, not %d" % (n, entries))
    docs = os.path.join(base, "visits.ndjson")
    client("load", os.path.join(base, "A"), docs)
    server, port = start_server(base)
    try:
        proxy = bench_sync.CountingProxy(port)
        proxy.start()
        url = "http://127.0.0.1:%d/visits" % proxy.listen_port
        proxy.phase = "push"
        cpu0 = bench_sync.cpu_s(server.pid)
        t0 = time.monotonic()
        push = client("push", os.path.join(base, "A"), url)
        push_wall = time.monotonic() - t0
        push_cpu = bench_sync.cpu_s(server.pid) - cpu0
        proxy.phase = "pull"
        t0 = time.monotonic()
        pull = client("pull", url, os.path.join(base, "B"))
        pull_wall = time.monotonic() - t0
        proxy.phase = "after"
        rss_kb = bench_sync.peak_rss_kb(server.pid)
    finally:
        server.terminate()
        server.wait(20)
    v = client("verify", os.path.join(base, "B"), docs)
    return {"docs": n, "push_s": push_wall, "pull_s": pull_wall, "push_in": push["seconds"],
            "pull_in": pull["seconds"], "push_cpu": push_cpu, "push_docs": push["docs"],
            "pull_docs": pull["docs"], "push_b": proxy.total("push") / n,
            "pull_b": proxy.total("pull") / n, "rss_mb": rss_kb / 1024.0,
            "verify": "match" if v["match"] and v["count"] == n else
            "MISMATCH (%d of %d)" % (v["count"], n)}


def fmt(v, spec):
    return "n/a" if v is None else spec % v


def report(entries, o, p):
    rows_per = (o["rows"] / entries) if o["rows"] else None
    o_rate = entries / (o["push_s"] + o["pull_s"]) if o["push_s"] and o["pull_s"] else None
    o_push = o["push_b"] * rows_per if o["push_b"] and rows_per else None
    o_pull = o["pull_b"] * rows_per if o["pull_b"] and rows_per else None
    p_rate = entries / (p["push_s"] + p["pull_s"])
    print("== peers: the same %d visits, A -> server -> B, Outpost beside pouchdb-server %s +"
          " PouchDB %s (LevelDB)" % (entries, version("pouchdb-server"), version("pouchdb")))
    print("  %-44s %16s %16s" % ("", "Outpost", "pouchdb-server"))
    print("  %-44s %16s %16s" % ("visits (docs) per second, push + pull", fmt(o_rate, "%.0f"),
                                 "%.0f" % p_rate))
    print("  %-44s %16s %16s" % ("push A -> server, s (wall)", fmt(o["push_s"], "%.2f"),
                                 "%.2f" % p["push_s"]))
    print("  %-44s %16s %16s" % ("pull server -> B, s (wall)", fmt(o["pull_s"], "%.2f"),
                                 "%.2f" % p["pull_s"]))
    print("  %-44s %16s %16s" % ("server CPU for the push, s", fmt(o["push_cpu"], "%.2f"),
                                 "%.2f" % p["push_cpu"]))
    print("  %-44s %16s %16s" % ("push on the wire, bytes/visit", fmt(o_push, "%.0f"),
                                 "%.0f" % p["push_b"]))
    print("  %-44s %16s %16s" % ("pull on the wire, bytes/visit", fmt(o_pull, "%.0f"),
                                 "%.0f" % p["pull_b"]))
    print("  %-44s %16s %16s" % ("server peak RSS, MB", fmt(o["rss_mb"], "%.1f"),
                                 "%.1f" % p["rss_mb"]))
    print("  %-44s %16s %16s" % ("verify", o["verify"], p["verify"]))
    print("  (PouchDB's replicate() alone took %.2f s + %.2f s of those walls; %d and %d"
          " documents written; Outpost's bytes include TLS, PouchDB's are plain HTTP)"
          % (p["push_in"], p["pull_in"], p["push_docs"], p["pull_docs"]))
    if o_rate:
        print("  Outpost moves the backlog %.1f times as fast as the peer, with %.2f of its"
              " push bytes and %.2f of its pull bytes"
              % (o_rate / p_rate, o_push / p["push_b"] if o_push else 0,
                 o_pull / p["pull_b"] if o_pull else 0))


def version(package):
    """The npm package's version as installed in PEERS_DIR."""
    try:
        with open(os.path.join(PEERS, "node_modules", package, "package.json")) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def main():
    tmp = sys.argv[1]
    entries = int(sys.argv[2]) if len(sys.argv) > 2 else 50000
    o = outpost(tmp, entries)
    base = os.path.join(tmp, "peers")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    p = peer(base, entries)
    report(entries, o, p)


if __name__ == "__main__":
    main()
