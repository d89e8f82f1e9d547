"""Convergence: a hub and three office nodes (real processes on loopback) make
random concurrent OFFLINE writes through the nodes' JSON APIs, sync partly,
then fully, and a checker proves that nothing was lost and everyone agrees.

Set-up: nodes A and B are enrolled to demo-office (they share its check-ins),
node C to demo-office-2; CRM rows are statewide, so all three share them.
Every node runs with `--sync-interval 0` (no background sync): it is offline
except when the test runs `outpost-sync push/pull --data DIR` for it.

The random run is reproducible: the seed is printed, and OUTPOST_SEED=N
replays it.  `make test` runs a few seeds; OUTPOST_LONG=1 (make test-long)
runs many more, with more operations.

The checker (Cluster.check) knows every acknowledged write exactly: after
each API call it decodes the node's new outbox entries (the SQLite
changesets that will travel), so a write is (node, local seq, HLC, table,
row, the columns it set).  It also tracks what each node had seen when it
wrote (a vector of seqs per origin node, advanced by pushes and pulls), so
"B overwrote A's value having seen it" is told apart from "A and B wrote
concurrently".  After the full sync it requires:
  * `outpost-sync verify` passes on every node (per-table digests = hub's);
  * every column value each write set is present at the hub, or superseded
    (by a write that had seen it, or a later one by HLC), or recorded in
    `conflicts` with its value;
  * the hub's rows and conflicts are exactly what the merge rules of
    DESIGN.md "Conflicts" give when the writes are replayed, column by
    column, in the order the hub received them (Cluster.model);
  * every inserted row exists at the hub; nothing is quarantined;
  * each conflict's winner is the side with the later HLC;
  * the `conflicts` rows are identical on every node and the hub (its scope);
  * PRAGMA integrity_check is ok everywhere.
The checker is proven by bugs planted in the sanitizer build
(lib/testhook.h, OUTPOST_PLANT): a dropped changeset, wall-clock
last-writer-wins, a skipped conflict record and a double apply must each make
it fail on a small fixed scenario that passes without them.

Faults: the hub SIGKILLed during pushes, the node and its puller SIGKILLed
during pulls, the node SIGKILLed while API writes are in flight, and a
man-in-the-middle that drops, duplicates, truncates and delays requests and
loses replies; each run then heals and must pass the same checker.

Adding a table (case work, accounts): write an op function
`op_x(run, node) -> bool` that picks a target from what the node holds
(run.pick(node, sql)) and calls the node's API through run.write(...), which
records whatever the API wrote; then add a line to OPS below with a weight.
The checker needs nothing more: it reads every write from the outbox, whatever
its table.  A table with a "final" value (table_def td_final_col, like
work_items.status = Closed) also gets a line in Cluster.FINAL, so that the
model merges it as the hub does; a new per-table merge rule at the hub needs
the same rule in Cluster.model.
"""
import json
import os
import random
import functools
import http.client
import signal
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

from harness import BIN, Daemon, Listener, login, plant_secret, read_head, rows, run_tool

LONG = os.environ.get("OUTPOST_LONG") == "1"
API = "/api/v1/crm"
OFFICE1, OFFICE2 = "demo-office", "demo-office-2"


# ---- SQLite changesets (the session extension's format) ----------------------

UNDEF = object()  # a column an UPDATE does not name


def _varint(b, i):
    v = 0
    for k in range(9):
        c = b[i]
        i += 1
        if k == 8:
            return (v << 8) | c, i
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            return v, i
    return v, i


def _value(b, i):
    t = b[i]
    i += 1
    if t == 0:
        return UNDEF, i
    if t == 5:
        return None, i
    if t == 1:
        return struct.unpack(">q", b[i:i + 8])[0], i + 8
    if t == 2:
        return struct.unpack(">d", b[i:i + 8])[0], i + 8
    n, i = _varint(b, i)
    raw = bytes(b[i:i + n])
    return (raw.decode("utf-8") if t == 3 else raw), i + n


def decode_changeset(b):
    """[(table, op, old[], new[])] with op 'INSERT' | 'UPDATE' | 'DELETE'."""
    out = []
    i = 0
    table = None
    ncol = 0
    while i < len(b):
        if b[i] in (ord("T"), ord("P")):
            ncol, i = _varint(b, i + 1)
            i += ncol
            j = b.index(0, i)
            table = b[i:j].decode()
            i = j + 1
            continue
        op = {18: "INSERT", 23: "UPDATE", 9: "DELETE"}[b[i]]
        i += 2
        old = new = None
        if op in ("UPDATE", "DELETE"):
            old = []
            for _ in range(ncol):
                v, i = _value(b, i)
                old.append(v)
        if op in ("UPDATE", "INSERT"):
            new = []
            for _ in range(ncol):
                v, i = _value(b, i)
                new.append(v)
        out.append((table, op, old, new))
    return out


def hlc_text(ms, node="hub"):
    return "%012x.%04x.%s" % (ms, 0, node)


# ---- the cluster ----------------------------------------------------------------

class Write:
    __slots__ = ("wid", "node", "seq", "hlc", "table", "op", "row", "cols", "ctx", "what",
                 "old", "new")

    def __repr__(self):
        return "<%s %s seq %d %s %s %s %s>" % (self.what, self.node, self.seq, self.op,
                                               self.table, self.row[:13], self.hlc)


class Node:
    def __init__(self, name, office, daemon):
        self.name = name
        self.office = office
        self.d = daemon
        self.data = daemon.data
        self.node_id = None
        self.background = False
        self.last_seq = 0       # outbox seqs already recorded
        self.seen = {}          # origin node -> highest local seq this node has seen
        self.today = None


class Cluster:
    """A hub and its nodes, with the bookkeeping the checker needs."""

    def __init__(self, tag, plant=None):
        self.tag = tag
        env = {"OUTPOST_PLANT": plant} if plant else None
        self.plant = plant
        self.hub = Daemon("hub", name="conv-%s-hub" % tag, env=env).start()
        with open(os.path.join(self.hub.data, "admin.token")) as f:
            plant_secret(f.read().strip())
        self.nodes = {}
        self.writes = []
        self.hub_seen = {}      # origin node -> highest local seq applied at the hub
        self.cols = {}
        self.hub_edits = []     # (table, id, col, value)
        self.events = []        # ("write", wid) / ("push", node, acked) / ("pull", node, seen)
        self.tool_log = "conv-%s" % tag

    def hooks_active(self):
        return "planted bug" in self.hub.read_log()

    # -- processes
    def tool(self, *args, timeout=120):
        return run_tool(list(args), timeout=timeout, name=self.tool_log)

    def hub_tool(self, *args):
        return run_tool([os.path.join(BIN, "outpost-hub")] + list(args) + ["--data", self.hub.data],
                        name=self.tool_log + "-hub", env={"OUTPOST_PLANT": self.plant or ""})

    def add_node(self, name, office, interval=0):
        """Enroll a node of office; interval > 0 leaves its background sync on
        (such a node must not write: the checker only tracks what the test
        syncs itself), 0 keeps it offline between outpost-sync runs."""
        p = self.hub_tool("enroll-code", "--office", office)
        assert p.returncode == 0, p.stderr
        code = p.stdout.decode().strip()
        plant_secret(code)
        d = Daemon("node", name="conv-%s-%s" % (self.tag, name),
                   args=["--demo", "no", "--sync-interval", str(interval)])
        p = self.tool("enroll", "--hub", self.hub.url, "--code", code, "--data", d.data, "--json")
        assert p.returncode == 0, p.stderr
        d.start()
        try:
            return self._add_started(name, office, d, interval)
        except BaseException:
            d.cleanup()
            raise

    def _add_started(self, name, office, d, interval):
        n = Node(name, office, d)
        with open(os.path.join(d.data, "sync.json")) as f:
            ident = json.load(f)
        n.node_id = ident["node_id"]
        n.background = interval > 0
        plant_secret(ident["node_secret"])
        self.nodes[name] = n
        # The staff accounts arrive with the first pull; then sign in.
        if n.background:
            self.wait_caught_up(n)
        else:
            self.pull(n, check=True)
        login(d)
        n.today = d.get(API + "/meta").json()["today"]
        if not self.cols:
            db = d.db()
            try:
                for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                    self.cols[t] = [r[1] for r in db.execute("PRAGMA table_info(%s)" % t)]
            finally:
                db.close()
        return n

    def stop(self):
        for n in self.nodes.values():
            n.d.cleanup()
        self.hub.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- writes through the nodes' APIs
    def write(self, node, method, path, body=None, what="", headers=None):
        """Call the node's API; record what it wrote (its new outbox entries)."""
        r = node.d.request(method, path, body=body, headers=headers)
        if 200 <= r.status < 300:
            self.collect(node, what or "%s %s" % (method, path.split("/")[3]))
        return r

    def collect(self, node, what=""):
        db = node.d.db()
        try:
            rows = db.execute("SELECT seq, hlc, changeset FROM outbox WHERE seq > ? ORDER BY seq",
                              (node.last_seq,)).fetchall()
        finally:
            db.close()
        for seq, hlc, cs in rows:
            node.last_seq = seq
            node.seen[node.name] = seq
            ctx = dict(node.seen)
            for table, op, old, new in decode_changeset(bytes(cs)):
                cols = self.cols[table]
                w = Write()
                w.wid = len(self.writes)
                w.node, w.seq, w.hlc, w.table, w.op = node.name, seq, hlc, table, op
                w.what = what
                vals = new if op != "DELETE" else old
                idx = cols.index("id")
                w.row = (new if op == "INSERT" else old)[idx]
                w.cols = {} if op == "DELETE" else {
                    cols[i]: v for i, v in enumerate(vals)
                    if v is not UNDEF and cols[i] not in ("id", "updated_hlc")}
                w.ctx = ctx
                w.old = {cols[i]: v for i, v in enumerate(old or []) if v is not UNDEF}
                w.new = {cols[i]: v for i, v in enumerate(new or []) if v is not UNDEF}
                self.writes.append(w)
                self.events.append(("write", w.wid))

    def pick(self, node, sql, args=()):
        db = node.d.db()
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def hub_edit(self, table, row_id, col, value):
        """A hub-owned row edited at the hub, as the console does (no API yet)."""
        db = self.hub.db()
        now = int(time.time() * 1000)
        try:
            with db:
                if table == "greeter_reasons" and col in ("label", "label_es"):
                    # A rename keeps the labels it replaces, as the hub's
                    # route does: an office that checks a visitor in before
                    # it pulls the rename sends the old pair with the visit.
                    db.execute("INSERT INTO greeter_reason_labels(id, reason_id, local_area_id,"
                               " label, label_es, ended_at, updated_hlc) SELECT ?, id,"
                               " local_area_id, label, label_es, ?, ? FROM greeter_reasons"
                               " WHERE id=?", (str(uuid.uuid4()), now, hlc_text(now), row_id))
                db.execute("UPDATE %s SET %s=?, updated_hlc=? WHERE id=?" % (table, col),
                           (value, hlc_text(now), row_id))
        finally:
            db.close()
        self.hub_edits.append((table, row_id, col, value))

    # -- sync
    def pending(self, node):
        return self.pick(node, "SELECT count(*), coalesce(max(seq), 0) FROM outbox")[0]

    def push(self, node, check=False):
        p = self.tool("push", "--data", node.data, "--json")
        self.note_acked(node)
        if p.returncode != 0 and check:
            raise AssertionError("push %s: %s %s" % (node.name, p.stdout, p.stderr))
        return p

    def note_acked(self, node):
        """What the hub holds of node's writes: its acked seq (wire seqs equal
        local ones here: every node enrolled before its first write)."""
        db = self.hub.db()
        try:
            acked = db.execute("SELECT acked_seq FROM nodes WHERE id=?",
                               (node.node_id,)).fetchone()[0]
        finally:
            db.close()
        self.hub_seen[node.name] = max(self.hub_seen.get(node.name, 0), acked)
        self.events.append(("push", node.name, acked))

    def pull(self, node, check=False):
        seen = dict(self.hub_seen)
        p = self.tool("pull", "--data", node.data, "--json")
        if p.returncode == 0:
            for k, v in seen.items():
                node.seen[k] = max(node.seen.get(k, 0), v)
            self.events.append(("pull", node.name, seen))
        elif check:
            raise AssertionError("pull %s: %s %s" % (node.name, p.stdout, p.stderr))
        return p

    def export_import(self, node, path):
        """The outbox carried by hand: export at the node, import at the hub."""
        p = self.tool("export", "--data", node.data, "--out", path)
        assert p.returncode == 0, p.stderr
        p = self.hub_tool("import", path, "--json")
        assert p.returncode == 0, (p.stdout, p.stderr)
        self.note_acked(node)

    def head(self):
        return rows(self.hub, "SELECT coalesce(max(seq), 0) FROM change_log")[0][0]

    def sync_all(self, rounds=6):
        """Push and pull everyone until a whole round changes nothing."""
        manual = [n for n in self.nodes.values() if not n.background]
        for _ in range(rounds):
            before = self.head()
            for n in manual:
                self.push(n, check=True)
            for n in manual:
                self.pull(n, check=True)
            if self.head() == before and all(self.pending(n)[0] == 0 for n in manual):
                break
        else:
            raise AssertionError("no quiescence after %d rounds" % rounds)
        for n in self.nodes.values():
            if n.background:
                self.wait_caught_up(n)

    def wait_caught_up(self, node, timeout=90):
        """A node syncing by itself: wait until its cursor (node_meta, written
        with each page it applies) reaches the hub's head."""
        t0 = time.time()
        st = None
        while time.time() - t0 < timeout:
            head = self.head()
            try:
                cur = self.pick(node, "SELECT value FROM node_meta WHERE key='sync_cursor'")
                st = (int(cur[0][0]) if cur else None, self.pending(node)[0], head)
            except Exception:  # the node creates its tables at start
                st = None
            if st and st[0] is not None and st[0] >= head and st[1] == 0:
                return
            time.sleep(0.2)
        raise AssertionError("node %s did not catch up by itself: (cursor, pending, head) %s"
                             % (node.name, st))

    def restart(self, node):
        """Start a stopped or killed node again and sign in (sessions do not
        survive a restart)."""
        node.d.start()
        login(node.d)

    def history(self, table, row):
        """The story of one row, for a failure message."""
        out = []
        for ev in self.events:
            if ev[0] == "write":
                w = self.writes[ev[1]]
                if (w.table, w.row) == (table, row):
                    out.append("  %r %s ctx=%s" % (w, w.cols, w.ctx))
            else:
                out.append("  %s %s %s" % ev)
        db = self.hub.db()
        try:
            for r in db.execute("SELECT column_name, base_value, local_value, remote_value, "
                                "winner, local_hlc, remote_hlc FROM conflicts WHERE row_id=?",
                                (row,)):
                out.append("  conflict %s" % (tuple(r),))
        finally:
            db.close()
        return "\n".join(out)

    # -- the merge, column by column, as DESIGN.md "Conflicts" says
    # td_final_col / td_final_value of the tables that have one (model/schema_*.c):
    # the column and its final values.
    FINAL = {"work_items": ("status", {"Closed"}), "participants": ("exit_state", {"exited"}),
             "checkins": ("status", {"done", "left"})}
    # ... whose final column moves with the others (td_final_holds): a change
    # the final value refuses is held whole, every column it sets.
    HOLDS = {"checkins"}
    # ... whose row is a record once final (TD_FINAL_RECORD, a closed work
    # item): an edit that crossed the final state (its base is not the hub's
    # row) is held whole too, whatever it sets, but a soft delete alone.
    RECORDS = {"work_items"}
    # Soft deletes (table_def td_soft_delete_col): merged as a DELETE is.
    SOFT_DELETE = {"work_items": "deleted"}

    def arrivals(self):
        """Writes in the order the hub applied them: a push applies the
        node's entries after what the hub held, in seq order."""
        by_entry = {}
        for w in self.writes:
            by_entry.setdefault((w.node, w.seq), []).append(w)
        held = {}
        order = []
        for ev in self.events:
            if ev[0] != "push":
                continue
            node, acked = ev[1], ev[2]
            for seq in range(held.get(node, 0) + 1, acked + 1):
                order += by_entry.get((node, seq), [])
            held[node] = max(held.get(node, 0), acked)
        return order

    def model(self):
        """Expected hub rows (the columns the writes touched) and conflicts."""
        rows, clocks, rhlc, conflicts = {}, {}, {}, []
        # the edits held whole because they crossed a record's final state:
        # (table, row, the edit's stamp), for the winners' check
        self.held_records = set()
        for w in self.arrivals():
            key = (w.table, w.row)
            if w.op == "INSERT":
                if key not in rows:
                    rows[key] = dict(w.cols)
                    rhlc[key] = w.new.get("updated_hlc") or ""
                continue
            if w.op == "DELETE":
                rows.pop(key, None)
                continue
            cur = rows.setdefault(key, {})
            lh = rhlc.get(key, "")
            rh = w.new.get("updated_hlc") or w.hlc
            final = self.FINAL.get(w.table)
            # A soft delete meets an edit (sync/apply.c soft_delete_meets):
            # a delete of a row written since the node's base is not taken;
            # an edit of a row deleted after the node's base revives it.
            soft, sd = None, self.SOFT_DELETE.get(w.table)
            based = w.old.get("updated_hlc")
            if sd and based is not None:
                if sd in w.cols:
                    if w.cols[sd] == 1 and w.old.get(sd) == 0 and cur.get(sd, 0) == 0:
                        seen = w.cols.get(sd + "_seen")
                        if seen is not None:
                            # the row as the office saw it, against the hub's
                            names = [c for c in self.cols[w.table]
                                     if c not in ("id", "updated_hlc", sd, sd + "_seen")]
                            if any(c in cur and cur[c] != v
                                   for c, v in zip(names, json.loads(seen))):
                                soft = "keep"
                        elif lh != based:
                            soft = "keep"
                elif cur.get(sd, 0) == 1 and clocks.get((w.table, w.row, sd), "") > based:
                    soft = "revive"
            hold = False
            if final and w.table in self.HOLDS and final[0] in w.cols:
                now = cur.get(final[0], w.old.get(final[0]))
                hold = now in final[1] and w.cols[final[0]] != now
            if (final and w.table in self.RECORDS and based is not None and based != lh
                    and cur.get(final[0], w.old.get(final[0])) in final[1]
                    and any(c not in ("updated_hlc", sd, sd and sd + "_seen") for c in w.cols)):
                hold, soft = True, None
                self.held_records.add((w.table, w.row, rh))
            for col, remote in w.cols.items():
                if soft == "keep" and col in (sd, sd + "_seen"):
                    continue
                base = w.old.get(col)
                local = cur.get(col, base)  # a row the run did not create: the node's base
                ck = (w.table, w.row, col)
                if local == remote:
                    if not hold:  # a change held whole stamps nothing
                        clocks[ck] = max(clocks.get(ck) or "", rh)
                    continue
                block = hold or (final and final[0] == col and local in final[1])  # never left
                if local == base and not block:
                    if not clocks.get(ck) or clocks[ck] < rh:
                        cur[col] = remote
                        clocks[ck] = rh
                    else:
                        conflicts.append((w.table, w.row, col, "local", base, local, remote))
                    continue
                # the later write of the column: its clock, else the row's
                won = not block and rh > (clocks.get(ck) or lh)
                if won:
                    cur[col] = remote
                    clocks[ck] = max(clocks.get(ck) or "", rh)
                conflicts.append((w.table, w.row, col, "remote" if won else "local", base, local,
                                  remote))
            if soft == "revive":
                cur[sd] = 0
            if not hold and w.new.get("updated_hlc") and w.new["updated_hlc"] > lh:
                rhlc[key] = w.new["updated_hlc"]
        return rows, conflicts

    def check_model(self, hub_rows, hub_conflicts):
        probs = []
        rows, want = self.model()
        for key, cols in rows.items():
            have = hub_rows.get(key)
            if have is None:
                probs.append("model: %s %s expected at the hub, missing" % key)
                continue
            for col, v in cols.items():
                if have[col] != v:
                    probs.append("model: %s.%s of %s: hub has %r, the merge rules give %r"
                                 % (key[0], col, key[1], have[col], v))
        dec = lambda x: json.loads(x) if x is not None else None
        got = sorted(repr((c["tbl"], c["row_id"], c["column_name"], c["winner"],
                           dec(c["base_value"]), dec(c["local_value"]), dec(c["remote_value"])))
                     for c in hub_conflicts if c["column_name"] != "*deleted*")
        want = sorted(repr(c) for c in want)
        for x in sorted(set(want) - set(got)):
            probs.append("model: conflict expected, not recorded: %s" % x)
        for x in sorted(set(got) - set(want)):
            probs.append("model: conflict recorded, not expected: %s" % x)
        if not probs and got != want:
            probs.append("model: conflicts recorded a different number of times")
        return probs

    # -- the checker
    def check(self):
        """Everything the module docstring promises; returns a list of problems."""
        probs = []
        # Digests.
        for n in self.nodes.values():
            p = self.tool("verify", "--data", n.data, "--json")
            if p.returncode != 0:
                try:
                    bad = [t["table"] for t in json.loads(p.stdout)["tables"] if not t["match"]]
                except (ValueError, KeyError):
                    bad = p.stderr.decode()[-200:]
                probs.append("digest: node %s differs from the hub in %s" % (n.name, bad))
        hub = self.hub.db()
        try:
            conflicts = [dict(r) for r in hub.execute("SELECT * FROM conflicts")]
            quarantined = [dict(r) for r in hub.execute(
                "SELECT node_id, seq, tbl, reason FROM quarantine")]
            rows = {}
            for t in {w.table for w in self.writes} | {e[0] for e in self.hub_edits}:
                for r in hub.execute("SELECT * FROM %s" % t):
                    rows[(t, r["id"])] = dict(r)
            ok = hub.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                probs.append("integrity: hub.db: %s" % ok)
        finally:
            hub.close()
        for q in quarantined:
            probs.append("quarantined: %s" % q)
        by_col = {}
        for c in conflicts:
            by_col.setdefault((c["tbl"], c["row_id"], c["column_name"]), []).append(c)
        by_row = {}
        for w in self.writes:
            by_row.setdefault((w.table, w.row), []).append(w)
        # Every acknowledged write.
        for w in self.writes:
            cur = rows.get((w.table, w.row))
            if w.op == "DELETE":
                if cur is not None and (w.table, w.row, "*deleted*") not in by_col:
                    probs.append("lost: %r: row still there, no conflict" % w)
                continue
            if cur is None:
                probs.append("lost: %r: row missing at the hub" % w)
                continue
            for col, v in w.cols.items():
                if cur[col] == v:
                    continue
                if any(o.wid != w.wid and col in o.cols and (o.ctx.get(w.node, 0) >= w.seq or
                                                             o.hlc > w.hlc)
                       for o in by_row[(w.table, w.row)]):
                    continue  # superseded by a write that had seen it, or a later one
                recorded = False
                sd = self.SOFT_DELETE.get(w.table)
                if sd and col in (sd, sd + "_seen") and (w.table, w.row, "*deleted*") in by_col:
                    recorded = True  # a soft delete lost to an edit, as a delete does
                for c in by_col.get((w.table, w.row, col), []):
                    vals = [json.loads(c[k]) if c[k] is not None else None
                            for k in ("local_value", "remote_value")]
                    if v in vals:
                        recorded = True
                if not recorded:
                    probs.append("lost: %r: %s=%r, hub has %r, no conflict records it"
                                 % (w, col, v, cur[col]))
        for i, (t, rid, col, v) in enumerate(self.hub_edits):
            later = any(e[:3] == (t, rid, col) for e in self.hub_edits[i + 1:])
            if rows.get((t, rid), {}).get(col) != v and not later:
                probs.append("lost: hub edit %s.%s of %s" % (t, col, rid))
        probs += self.check_model(rows, conflicts)
        # Winners.
        def final_kept(c):
            final = self.FINAL.get(c["tbl"])
            return final and final[0] == c["column_name"] and c["local_value"] is not None and \
                json.loads(c["local_value"]) in final[1]
        held = {(c["tbl"], c["row_id"], c["remote_hlc"]) for c in conflicts
                if c["tbl"] in self.HOLDS and final_kept(c)}
        for c in conflicts:
            if c["column_name"] == "*deleted*":
                continue
            want = "remote" if (c["remote_hlc"] or "") > (c["local_hlc"] or "") else "local"
            if final_kept(c) or (c["tbl"], c["row_id"], c["remote_hlc"]) in held:
                want = "local"  # a final value is never left, nor what moves with it
            if (c["tbl"], c["row_id"], c["remote_hlc"]) in self.held_records:
                want = "local"  # nor a record once final, by an edit that crossed it
            if c["winner"] != want:
                probs.append("winner: conflict on %s.%s of %s: %s won with hlc local %s remote %s"
                             % (c["tbl"], c["column_name"], c["row_id"], c["winner"],
                                c["local_hlc"], c["remote_hlc"]))
        # Conflicts identical everywhere.
        canon = lambda rs: sorted(json.dumps(r, sort_keys=True) for r in rs)
        for n in self.nodes.values():
            db = n.d.db()
            try:
                mine = [dict(r) for r in db.execute("SELECT * FROM conflicts")]
                ok = db.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                db.close()
            if ok != "ok":
                probs.append("integrity: node %s: %s" % (n.name, ok))
            la = "demo-la"
            scoped = [c for c in conflicts if c["scope_office"] in (None, n.office)
                      and c["scope_la"] in (None, la)]
            if canon(mine) != canon(scoped):
                probs.append("conflicts: node %s holds %d conflict rows, the hub %d in its scope"
                             " (or they differ)" % (n.name, len(mine), len(scoped)))
        self.n_conflicts = len(conflicts)
        return probs


# ---- operations, table by table ----------------------------------------------------

CITIES = ["Fresno", "Visalia", "Merced", "Modesto"]
PHONES = ["(559) 555-0101", "(559) 555-0102", "(209) 555-0103"]
TITLES = ["HR Manager", "Owner", "Recruiter"]
MOVES = {"waiting": ["call", "serve", "left"], "called": ["serve", "done", "left", "requeue"],
         "serving": ["done", "requeue"]}


class Run:
    """One random run: the cluster, the random source, a counter for names."""

    def __init__(self, cluster, rng):
        self.c = cluster
        self.rng = rng
        self.k = 0

    def name(self, what):
        self.k += 1
        return "%s %s-%d" % (what, self.c.tag, self.k)

    def pick(self, node, sql, args=()):
        rows = self.c.pick(node, sql, args)
        if not rows:
            return None
        # Prefer a few hot rows so that nodes collide on the same rows.
        if self.rng.random() < 0.5:
            rows = rows[:3]
        return self.rng.choice(rows)

    def write(self, node, method, path, body=None, what="", headers=None):
        r = self.c.write(node, method, path, body, what, headers)
        return 200 <= r.status < 300


def op_checkin(run, node):
    reasons = node.d.get("/api/v1/greeter/reasons").json()
    name = run.name("Visitor")
    plant_secret(name)  # a participant's name never reaches a log line
    return run.write(node, "POST", "/api/v1/checkins",
                     {"visitor_name": name, "language": "en",
                      "reason_ids": [run.rng.choice(reasons)["id"]]}, "checkin")


EMPLOYER = "SELECT id FROM employers WHERE company_name LIKE 'Converge%' ORDER BY id"
OPEN_ITEM = "SELECT id FROM work_items WHERE status != 'Closed' AND deleted = 0 ORDER BY id"
PARTICIPANT = "SELECT id FROM participants WHERE last_name LIKE 'Converge%' ORDER BY id"


def on_row(sql):
    """An op on one row the node holds, picked by sql: fn(run, node, row,
    ...), or False when there is none yet."""
    def wrap(fn):
        @functools.wraps(fn)
        def op(run, node, *args):
            r = run.pick(node, sql)
            return False if r is None else fn(run, node, r, *args)
        return op
    return wrap


@on_row("SELECT id, status FROM checkins WHERE status IN "
        "('waiting','called','serving') ORDER BY id")
def op_checkin_action(run, node, r):
    body = {"action": run.rng.choice(MOVES[r[1]])}
    if run.rng.random() < 0.3:
        body["note"] = run.rng.choice(["at desk 2", "needs Spanish", "back later"])
    return run.write(node, "POST", "/api/v1/checkins/%s/action" % r[0], body, "checkin action")


def op_lead(run, node):
    return run.write(node, "POST", API + "/employers",
                     {"company_name": run.name("Converge Widgets"), "zip": "93721",
                      "street": "1 Test St", "city": run.rng.choice(CITIES),
                      "confirm_not_duplicate": True}, "lead")


@on_row(EMPLOYER)
def op_lead_edit(run, node, r):
    field = run.rng.choice(["city", "phone", "website", "street"])
    v = {"city": CITIES, "phone": PHONES, "street": ["2 Oak Ave", "3 Elm St"],
         "website": ["www.a.example.com", "www.b.example.com"]}[field]
    return run.write(node, "PATCH", API + "/employers/" + r[0], {field: run.rng.choice(v)},
                     "lead edit")


@on_row(EMPLOYER)
def op_contact(run, node, r):
    return run.write(node, "POST", API + "/employers/%s/contacts" % r[0],
                     {"name": run.name("Contact"), "kind": "secondary"}, "contact")


@on_row("SELECT c.id FROM employer_contacts c JOIN employers e ON "
        "e.id=c.employer_id WHERE e.company_name LIKE 'Converge%' ORDER BY c.id")
def op_contact_edit(run, node, r):
    field = run.rng.choice(["title", "phone"])
    v = run.rng.choice(TITLES if field == "title" else PHONES)
    return run.write(node, "PATCH", API + "/contacts/" + r[0], {field: v}, "contact edit")


def op_work_item(run, node):
    e = run.pick(node, EMPLOYER)
    body = {"category_id": "crm-cat-follow-up", "description": run.name("Call back")}
    if e is not None:
        body["employer_id"] = e[0]
    return run.write(node, "POST", API + "/work-items", body, "work item")


@on_row(OPEN_ITEM)
def op_work_edit(run, node, r):
    body = run.rng.choice([{"status": "In Progress"}, {"description": run.name("Update")},
                           {"due_date": node.today}, {"priority_id": "crm-pri-high"}])
    return run.write(node, "PATCH", API + "/work-items/" + r[0], body, "work item edit")


@on_row(OPEN_ITEM)
def op_work_close(run, node, r):
    return run.write(node, "PATCH", API + "/work-items/" + r[0], {"status": "Closed"},
                     "work item close")


@on_row(OPEN_ITEM)
def op_work_delete(run, node, r):
    return run.write(node, "DELETE", API + "/work-items/" + r[0], None, "work item delete")


@on_row("SELECT id FROM work_items WHERE deleted = 0 ORDER BY id")
def op_work_note(run, node, r):
    return run.write(node, "POST", API + "/work-items/%s/notes" % r[0],
                     {"body": run.name("Note")}, "work item note")


@on_row("SELECT id, account_type FROM employers WHERE company_name LIKE "
        "'Converge%' ORDER BY id")
def op_service(run, node, r):
    return run.write(node, "POST", API + "/employers/%s/services" % r[0],
                     {"services": [{"code": run.rng.choice(["E20", "E21", "E26"]),
                                    "start_date": node.today}]}, "service")


@on_row(EMPLOYER)
def op_employer_note(run, node, r):
    text = run.name("Employer note")
    plant_secret(text)  # note text never reaches a log line
    return run.write(node, "POST", API + "/employers/%s/notes" % r[0],
                     {"subject": "Call", "body": text}, "employer note")


@on_row(EMPLOYER)
def op_attachment(run, node, r):
    name = run.name("Scan").replace(" ", "-")
    data = b"%PDF-1.4\n% " + name.encode() + b"\n" + bytes(run.rng.randrange(256) for _ in range(64))
    return run.write(node, "POST", API + "/employers/%s/attachments?filename=%s.pdf" % (r[0], name),
                     data, "attachment", headers={"Content-Type": "application/pdf"})


@on_row("SELECT a.id FROM employer_attachments a WHERE NOT EXISTS (SELECT 1 FROM"
        " employer_attachment_withdrawals w WHERE w.attachment_id = a.id) ORDER BY a.id")
def op_attachment_withdraw(run, node, r):
    return run.write(node, "POST", API + "/attachments/%s/withdraw" % r[0],
                     {"reason": run.rng.choice(["wrong lead", "old version"])}, "attachment withdrawal")


CASE = "/api/v1/case"


def op_participant(run, node):
    last = run.name("Converge").replace(" ", "")
    plant_secret(last)
    return run.write(node, "POST", CASE + "/participants",
                     {"first_name": "Pat", "last_name": last, "birth_date": "1980-02-03"},
                     "participant")


@on_row(PARTICIPANT)
def op_participant_edit(run, node, r):
    field = run.rng.choice(["phone", "address"])
    v = run.rng.choice(PHONES if field == "phone" else ["1 A St, Fresno", "2 B St, Merced"])
    return run.write(node, "PATCH", CASE + "/participants/" + r[0], {field: v},
                     "participant edit")


@on_row(PARTICIPANT)
def _participant_text(run, node, r, sub, label, body_of, what):
    """POST a new text (run.name(label), planted) to one of the node's
    participants' SUB list; False when there is no participant yet."""
    text = run.name(label)
    plant_secret(text)
    return run.write(node, "POST", CASE + "/participants/%s/%s" % (r[0], sub), body_of(text), what)


def op_case_note(run, node):
    return _participant_text(run, node, "notes", "Case note", lambda text: {
        "subject": "Contact", "contact_date": node.today, "body": text}, "case note")


def op_activity(run, node):
    return _participant_text(run, node, "activities", "Activity note", lambda text: {
        "code": "102", "start_date": node.today, "note": {"body": text}}, "activity")


# (table, what, weight, function): the generator draws from this list.
OPS = [
    ("checkins", "insert", 3, op_checkin),
    ("checkins", "update", 6, op_checkin_action),     # + checkin_events (append-only)
    ("employers", "insert", 2, op_lead),
    ("employers", "update", 5, op_lead_edit),
    ("employer_contacts", "insert", 2, op_contact),
    ("employer_contacts", "update", 3, op_contact_edit),
    ("work_items", "insert", 2, op_work_item),
    ("work_items", "update", 4, op_work_edit),
    ("work_items", "close", 2, op_work_close),
    ("work_items", "delete", 1, op_work_delete),
    ("work_item_notes", "insert", 2, op_work_note),
    ("employer_services", "insert", 1, op_service),
    ("employer_notes", "insert", 1, op_employer_note),
    ("employer_attachments", "insert", 1, op_attachment),
    ("employer_attachment_withdrawals", "insert", 1, op_attachment_withdraw),
    # Case work: Local Area scope, so A, B and C (all of demo-la) share it.
    ("participants", "insert", 2, op_participant),
    ("participants", "update", 3, op_participant_edit),
    ("case_notes", "insert", 1, op_case_note),
    ("participant_activities", "insert", 1, op_activity),
]


def random_op(run, node):
    for _ in range(5):
        _, _, _, fn = run.rng.choices(OPS, weights=[o[2] for o in OPS])[0]
        if fn(run, node):
            return True
    return False


def same_row_edits(run):
    """Deliberate collisions: a lead that every node holds edited on all three
    (the same field on A and B, another field on C), and a visit that A and B
    both hold acted on at both.  Rows are created and shared first when no
    such row exists yet (a partial sync of A, B and C)."""
    c = run.c
    a, b, cc = c.nodes["A"], c.nodes["B"], c.nodes["C"]

    def shared(sql, nodes):
        ids = None
        for n in nodes:
            got = {r[0] for r in c.pick(n, sql)}
            ids = got if ids is None else ids & got
        return sorted(ids)

    lead_sql = "SELECT id FROM employers WHERE company_name LIKE 'Converge%'"
    visit_sql = "SELECT id FROM checkins WHERE status='waiting'"
    leads = shared(lead_sql, (a, b, cc))
    visits = shared(visit_sql, (a, b))
    if not leads or not visits:
        op_lead(run, a)
        op_checkin(run, a)
        c.push(a, check=True)
        for n in (a, b, cc):
            c.push(n, check=True)
            c.pull(n, check=True)
        leads = shared(lead_sql, (a, b, cc))
        visits = shared(visit_sql, (a, b))
    eid = run.rng.choice(leads)
    run.write(a, "PATCH", API + "/employers/" + eid, {"city": "Alturas"}, "same field A")
    run.write(b, "PATCH", API + "/employers/" + eid, {"city": "Bishop"}, "same field B")
    run.write(cc, "PATCH", API + "/employers/" + eid, {"phone": "(530) 555-0199"},
              "other field C")
    cid = run.rng.choice(visits)
    run.write(a, "POST", "/api/v1/checkins/%s/action" % cid, {"action": "call"}, "same visit A")
    run.write(b, "POST", "/api/v1/checkins/%s/action" % cid, {"action": "left"}, "same visit B")


def hub_side_edit(run):
    """Hub-owned rows changed at the hub while the offices are offline."""
    c = run.c
    db = c.hub.db()
    try:
        reasons = [r[0] for r in db.execute("SELECT id FROM greeter_reasons ORDER BY id")]
    finally:
        db.close()
    c.hub_edit("greeter_reasons", run.rng.choice(reasons), "label_es",
               run.name("Motivo"))
    c.hub_edit("offices", run.rng.choice([OFFICE1, OFFICE2]), "address", run.name("Calle"))


def offices(n):
    """A and B in demo-office, C in demo-office-2, then N4, N5, ... in turn."""
    out = [("A", OFFICE1), ("B", OFFICE1), ("C", OFFICE2)]
    return out + [("N%d" % i, OFFICE2 if i % 2 == 0 else OFFICE1) for i in range(4, n + 1)]


def interrupted_push(c, node, rng):
    """A push killed after a random moment: the hub keeps what it committed."""
    log = open(os.path.join(os.environ.get("OUTPOST_TEST_OUT", "/tmp"),
                            c.tool_log + "-bg-tool.log"), "ab")
    p = subprocess.Popen([os.path.join(BIN, "outpost-sync"), "push", "--data", node.data],
                         stdout=subprocess.DEVNULL, stderr=log)
    time.sleep(rng.uniform(0.0, 0.3))
    p.kill()
    p.wait(timeout=60)
    log.close()
    c.note_acked(node)


def converge_run(tag, seed, rounds, ops_per_round, n_nodes=3, faults=False):
    """faults: now and then a push is killed part-way and a node is
    SIGKILLed between writes (and restarted)."""
    rng = random.Random(seed)
    c = Cluster(tag)
    try:
        for name, office in offices(n_nodes):
            c.add_node(name, office)
        run = Run(c, rng)
        nodes = list(c.nodes.values())
        # One of every kind first, on one node in the list's order (each
        # kind's row to act on exists there by then), so that every run
        # covers every table whatever its seed draws after.
        first = rng.choice(nodes)
        for _, _, _, fn in OPS:
            fn(run, first)
        for rnd in range(rounds):
            for _ in range(ops_per_round):
                random_op(run, rng.choice(nodes))
            if rnd == rounds // 2:
                same_row_edits(run)
                hub_side_edit(run)
            # Partial sync: some nodes push, some push and pull, some stay
            # offline; now and then an outbox goes to the hub as a bundle
            # first (its later push is then a replay the hub must skip).
            for n in rng.sample(nodes, rng.randint(0, len(nodes))):
                if rng.random() < 0.15 and c.pending(n)[0]:
                    c.export_import(n, os.path.join(n.data, "outbox-%d.bundle" % rnd))
                if faults and rng.random() < 0.2 and c.pending(n)[0]:
                    interrupted_push(c, n, rng)
                c.push(n, check=True)
                if rng.random() < 0.6:
                    c.pull(n, check=True)
            if faults and rng.random() < 0.4:
                victim = rng.choice(nodes)
                victim.d.kill(signal.SIGKILL)
                c.restart(victim)
        c.sync_all()
        probs = c.check()
        return c, probs
    except Exception:
        c.stop()
        raise


def seeds():
    if os.environ.get("OUTPOST_SEED"):
        return [int(os.environ["OUTPOST_SEED"])]
    base = int(time.time()) % 100000
    return [base + i for i in range(25 if LONG else 2)]


def fixed_scenario(cluster, tmpdir):
    """A small scenario that exercises what each planted bug breaks: an entry
    that is not the first of its node (drop), the same field written on A and
    B with B's the older HLC but pushed last (wall clock vs HLC; a conflict
    to record), and a replay of A's entry after B changed the row again
    (double apply: A's outbox travels by bundle first, then A pushes)."""
    c = cluster
    run = Run(c, random.Random(7))
    a, b = c.add_node("A", OFFICE1), c.add_node("B", OFFICE1)
    assert op_lead(run, a)                                         # A seq 1
    eid = c.writes[-1].row
    assert run.write(a, "POST", API + "/employers/%s/contacts" % eid,
                     {"name": "Dropped Contact", "kind": "secondary"})  # A seq 2
    assert op_checkin(run, a)                                      # A seq 3
    cid = [w.row for w in c.writes if w.table == "checkins"][-1]
    c.push(a, check=True)
    c.push(b, check=True)  # its sign-in left an audit event
    c.pull(b, check=True)
    # Same field, B first (older HLC), A second; A's reaches the hub first.
    run.write(b, "PATCH", API + "/employers/" + eid, {"city": "Bishop"}, "B city")
    time.sleep(0.01)
    run.write(a, "PATCH", API + "/employers/" + eid, {"city": "Alturas"}, "A city")
    c.push(a, check=True)
    c.push(b, check=True)
    c.pull(a, check=True)
    c.pull(b, check=True)
    # A calls the visit; its outbox goes to the hub by hand; B sees the call
    # and puts the visit back in the queue; then A's push replays the call.
    run.write(a, "POST", "/api/v1/checkins/%s/action" % cid, {"action": "call"}, "A call")
    c.export_import(a, os.path.join(tmpdir, "a.bundle"))
    c.push(b, check=True)
    c.pull(b, check=True)
    run.write(b, "POST", "/api/v1/checkins/%s/action" % cid, {"action": "requeue"}, "B requeue")
    c.push(b, check=True)
    c.push(a, check=True)
    c.sync_all()
    return c.check()


class CheckerProofTest(unittest.TestCase):
    """Each planted bug makes the checker fail; without one it passes."""

    def scenario(self, plant):

        with Cluster("plant-%s" % (plant or "none"), plant=plant) as c:
            if plant and not c.hooks_active():
                self.skipTest("this build has no test hooks (release build)")
            with tempfile.TemporaryDirectory() as d:
                return fixed_scenario(c, d)

    def test_no_plant_passes(self):
        self.assertEqual(self.scenario(None), [])

    def test_dropped_changeset_fails(self):
        probs = self.scenario("drop")
        self.assertTrue([p for p in probs if p.startswith("lost:") and "row missing" in p], probs)
        self.assertTrue([p for p in probs if p.startswith("digest:")], probs)

    def test_wallclock_lww_fails(self):
        probs = self.scenario("wallclock")
        self.assertTrue([p for p in probs if p.startswith("winner:")], probs)

    def test_skipped_conflict_record_fails(self):
        probs = self.scenario("noconflict")
        self.assertTrue([p for p in probs if p.startswith("model: conflict expected")
                         and "city" in p], probs)

    def test_double_apply_fails(self):
        probs = self.scenario("doubleapply")
        # The replayed call either undoes B's requeue (lost) or, caught by
        # the column clocks, leaves a conflict that no real edit made.
        self.assertTrue([p for p in probs if "status" in p and (
            p.startswith("lost:") or p.startswith("model: conflict recorded, not expected"))],
                        probs)


class FaultTest(unittest.TestCase):
    """SIGKILL at random points of a push (the hub) and of a pull (the node
    and its puller); after restarts everything converges, nothing lost."""

    def setUp(self):
        self.seed = seeds()[0]
        print("\n  fault seed %d (OUTPOST_SEED=%d reproduces it)" % (self.seed, self.seed),
              flush=True)
        self.rng = random.Random(self.seed)

    def spawn(self, c, *args):
        log = open(os.path.join(os.environ.get("OUTPOST_TEST_OUT", "/tmp"),
                                c.tool_log + "-bg-tool.log"), "ab")
        return subprocess.Popen([os.path.join(BIN, "outpost-sync")] + list(args),
                                stdout=subprocess.DEVNULL, stderr=log), log

    def test_hub_killed_during_push(self):
        with Cluster("kill-hub-%d" % self.seed) as c:
            a, b = c.add_node("A", OFFICE1), c.add_node("B", OFFICE1)
            cc = c.add_node("C", OFFICE2)
            run = Run(c, self.rng)
            kills = 8 if LONG else 3
            for k in range(kills):
                for _ in range(20):
                    random_op(run, a)
                for _ in range(8):
                    random_op(run, self.rng.choice([b, cc]))
                p, log = self.spawn(c, "push", "--data", a.data)
                time.sleep(self.rng.uniform(0.05, 0.8))
                c.hub.kill(signal.SIGKILL)
                p.wait(timeout=120)
                log.close()
                c.hub.start()
                c.note_acked(a)
                # The node resumes where the hub's last commit ended.
                c.push(a, check=True)
                c.push(b, check=True)
                c.pull(b, check=True)
            c.sync_all()
            self.assertEqual(c.check(), [], "seed %d" % self.seed)

    def test_node_killed_during_pull(self):
        """B pulls with outpost-sync and both the puller and the node die; D
        syncs by itself (background cycle) and is killed at random points of
        its cycles: after a restart it resumes and catches up on its own."""
        with Cluster("kill-node-%d" % self.seed) as c:
            a, b = c.add_node("A", OFFICE1), c.add_node("B", OFFICE1)
            d = c.add_node("D", OFFICE1, interval=1)
            run = Run(c, self.rng)
            kills = 8 if LONG else 2
            for k in range(kills):
                for _ in range(30):
                    random_op(run, a)
                c.push(a, check=True)
                seen, head = dict(c.hub_seen), c.head()
                p, log = self.spawn(c, "pull", "--data", b.data)
                time.sleep(self.rng.uniform(0.05, 0.6))
                p.send_signal(signal.SIGKILL)
                b.d.kill(signal.SIGKILL)
                p.wait(timeout=60)
                log.close()
                c.restart(b)
                time.sleep(self.rng.uniform(0.0, 1.5))
                d.d.kill(signal.SIGKILL)
                d.d.start()  # D never uses the API: no sign-in
                # A page is applied with its cursor or not at all: B saw
                # everything of the hub's if its cursor reached the head.
                cur = c.pick(b, "SELECT value FROM node_meta WHERE key='sync_cursor'")
                if cur and int(cur[0][0]) >= head:
                    for k, v in seen.items():
                        b.seen[k] = max(b.seen.get(k, 0), v)
                # B's own offline writes after the crash, then it catches up.
                for _ in range(5):
                    random_op(run, b)
                c.push(b, check=True)
                c.pull(b, check=True)
            c.sync_all()
            self.assertEqual(c.check(), [], "seed %d" % self.seed)


    def test_node_killed_during_writes(self):
        """SIGKILL of the node while API writes are in flight (capture): every
        write it acknowledged is in its outbox after the restart, reaches the
        hub and every replica; none is there twice."""

        with Cluster("kill-capture-%d" % self.seed) as c:
            a, b = c.add_node("A", OFFICE1), c.add_node("B", OFFICE1)
            run = Run(c, self.rng)
            acked = []
            for k in range(6 if LONG else 2):
                stop = threading.Event()

                def writer():
                    i = 0
                    while not stop.is_set():
                        i += 1
                        try:
                            r = a.d.post(API + "/employers",
                                         {"company_name": "Converge Crash %d-%d" % (k, i),
                                          "zip": "93721", "confirm_not_duplicate": True})
                        except OSError:
                            return
                        if r.status == 201:
                            acked.append(r.json()["id"])
                t = threading.Thread(target=writer)
                t.start()
                time.sleep(self.rng.uniform(0.2, 1.0))
                a.d.kill(signal.SIGKILL)
                stop.set()
                t.join(timeout=30)
                c.restart(a)
                c.collect(a, "lead (crash)")
                held = {r[0] for r in c.pick(a, "SELECT id FROM employers")}
                self.assertEqual([x for x in acked if x not in held], [],
                                 "acknowledged writes missing after the crash")
                for _ in range(5):
                    random_op(run, self.rng.choice([a, b]))
                c.push(a, check=True)
                c.push(b, check=True)
                c.pull(b, check=True)
            c.sync_all()
            self.assertEqual(c.check(), [], "seed %d" % self.seed)
            self.assertGreater(len(acked), 0)
            db = c.hub.db()
            try:
                n = db.execute("SELECT count(*), count(DISTINCT company_name) FROM employers "
                               "WHERE company_name LIKE 'Converge Crash %'").fetchone()
            finally:
                db.close()
            self.assertEqual(n[0], n[1])
            self.assertGreaterEqual(n[0], len(acked))


class FlakyProxy(Listener):
    """A man in the middle between the nodes and the hub that holds the hub's
    own certificate and key (so the nodes' pin matches) and, request by
    request, passes it, drops it, loses the reply after the hub answered,
    sends it twice, cuts its body short, or delays it."""

    MODES = ("pass", "drop", "lost_reply", "duplicate", "truncate", "delay")

    def __init__(self, hub, rng):
        super().__init__()
        self.hub = hub
        self.rng = rng
        self.lock = threading.Lock()
        self.flaky = True
        self.counts = {m: 0 for m in self.MODES}
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(hub.data, "hub.crt"),
                                 os.path.join(hub.data, "hub.key"))
        self.url = "https://127.0.0.1:%d" % self.port
        self.start()

    def upstream(self, timeout=60):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection("127.0.0.1", self.hub.port, timeout=timeout,
                                           context=ctx)

    def serve(self, conn):
        try:
            conn.settimeout(60)
            t = self.ctx.wrap_socket(conn, server_side=True)
            data = read_head(t)
            if b"\r\n\r\n" not in data:
                return
            head, body = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            hdrs = {}
            for ln in lines[1:]:
                k, v = ln.split(":", 1)
                hdrs[k.strip()] = v.strip()
            n = int(hdrs.get("Content-Length", hdrs.get("content-length", "0")))
            while len(body) < n:
                chunk = t.recv(65536)
                if not chunk:
                    return
                body += chunk
            with self.lock:
                # Every mode early on (a cycle), then at random.
                seen = sum(self.counts.values())
                if not self.flaky:
                    mode = "pass"
                elif seen < 2 * len(self.MODES):
                    mode = self.MODES[seen % len(self.MODES)]
                else:
                    mode = self.rng.choice(self.MODES)
                self.counts[mode] += 1
            if mode == "drop":
                return
            if mode == "delay":
                time.sleep(0.3)
            if mode == "truncate" and n > 1:
                raw = self.upstream()
                raw.connect()
                raw.sock.sendall(head + b"\r\n\r\n" + body[:n // 2])
                time.sleep(0.1)
                raw.close()
                return
            fwd = {k: v for k, v in hdrs.items() if k.lower() not in ("connection", "host")}
            for i in range(2 if mode == "duplicate" else 1):
                u = self.upstream()
                u.request(method, path, body=body or None, headers=fwd)
                r = u.getresponse()
                rbody = r.read()
                if i == 0:
                    status, reason, rh = r.status, r.reason, r.getheaders()
                u.close()
                if i == 0:
                    first = rbody
            if mode == "lost_reply":
                return
            out = "HTTP/1.1 %d %s\r\n" % (status, reason)
            for k, v in rh:
                if k.lower() not in ("connection", "content-length", "transfer-encoding"):
                    out += "%s: %s\r\n" % (k, v)
            out += "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(first)
            t.sendall(out.encode("latin-1") + first)
        except (OSError, ssl.SSLError, ValueError, http.client.HTTPException):
            pass
        finally:
            conn.close()


class FlakyNetworkTest(unittest.TestCase):
    def test_flaky_network_converges(self):
        """Pushes and pulls through FlakyProxy: lost replies make the nodes
        send again (replays the hub must skip), duplicates reuse a nonce,
        truncated bodies must change nothing; then the network heals and
        everything converges with nothing lost."""
        seed = seeds()[0]
        print("\n  flaky network seed %d (OUTPOST_SEED=%d reproduces it)" % (seed, seed),
              flush=True)
        rng = random.Random(seed)
        c = Cluster("flaky-%d" % seed)
        proxy = FlakyProxy(c.hub, random.Random(seed + 1))
        try:
            for name, office in (("A", OFFICE1), ("B", OFFICE1), ("C", OFFICE2)):
                n = c.add_node(name, office)
                path = os.path.join(n.data, "sync.json")
                with open(path) as f:
                    ident = json.load(f)
                ident["hub_url"] = proxy.url
                with open(path, "w") as f:
                    json.dump(ident, f)
            run = Run(c, rng)
            nodes = list(c.nodes.values())
            for rnd in range(8 if LONG else 2):
                for _ in range(12):
                    random_op(run, rng.choice(nodes))
                for n in nodes:
                    for _ in range(3 if LONG else 1):
                        seen, head = dict(c.hub_seen), c.head()
                        c.push(n)
                        p = c.pull(n)
                        if p.returncode != 0:
                            cur = c.pick(n, "SELECT value FROM node_meta "
                                            "WHERE key='sync_cursor'")
                            if cur and int(cur[0][0]) >= head:
                                for k, v in seen.items():
                                    n.seen[k] = max(n.seen.get(k, 0), v)
            proxy.flaky = False
            c.sync_all()
            self.assertEqual(c.check(), [], "seed %d" % seed)
            for m in ("lost_reply", "duplicate", "truncate", "drop"):
                self.assertGreater(proxy.counts[m], 0, proxy.counts)
        finally:
            proxy.close()
            c.stop()


class ConvergeTest(unittest.TestCase):
    maxDiff = None  # every problem of a failed run, not the first

    def test_random_offline_writes_converge(self):
        rounds, per = (10, 30) if LONG else (5, 16)
        for seed in seeds():
            print("\n  convergence seed %d (OUTPOST_SEED=%d reproduces it)" % (seed, seed),
                  flush=True)
            c, probs = converge_run("s%d" % seed, seed, rounds, per)
            try:
                kinds = {(w.table, w.op) for w in c.writes}
                self.assertEqual(probs, [], "seed %d" % seed)
                # The run did what it claims: every table kind, and conflicts.
                for t in ("checkins", "checkin_events", "employers", "employer_contacts",
                          "work_items"):
                    self.assertIn(t, {k[0] for k in kinds}, "seed %d" % seed)
                self.assertIn(("checkins", "UPDATE"), kinds)
                self.assertIn(("employers", "UPDATE"), kinds)
                self.assertGreater(c.n_conflicts, 0, "seed %d made no conflict" % seed)
            finally:
                c.stop()


class ManyOfficesTest(unittest.TestCase):
    """Ten offices (fifty under OUTPOST_LONG=1) on one hub: random offline
    writes, partial syncs, pushes killed part-way and nodes SIGKILLed between
    writes; the same checker as ConvergeTest."""

    def test_many_offices_converge(self):
        n_nodes, rounds, per = (50, 6, 60) if LONG else (10, 3, 20)
        seed = seeds()[0]
        print("\n  %d offices, seed %d (OUTPOST_SEED=%d reproduces it)" % (n_nodes, seed, seed),
              flush=True)
        t0 = time.time()
        c, probs = converge_run("many%d" % seed, seed, rounds, per, n_nodes=n_nodes, faults=True)
        try:
            self.assertEqual(probs, [], "seed %d" % seed)
            self.assertEqual(len(c.nodes), n_nodes)
            writers = {w.node for w in c.writes}
            self.assertGreater(len(writers), n_nodes // 2, "too few offices wrote")
            with open(os.path.join(os.environ.get("OUTPOST_TEST_OUT", "/tmp"),
                                   "converge-figures.txt"), "a") as f:
                f.write("%d offices, seed %d: %d writes, %d conflicts, %.0f s\n" % (
                    n_nodes, seed, len(c.writes), c.n_conflicts, time.time() - t0))
        finally:
            c.stop()


if __name__ == "__main__":
    unittest.main()
