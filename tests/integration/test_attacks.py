"""Replays and attacks on the hub's push, beyond what test_hub.py covers:

  * a captured request sent again byte for byte (same nonce) is refused, and
    with a fresh signature it is skipped: the captured push is applied once;
  * a byte changed in a captured request (its signature kept) gets 401;
  * pushes from unknown, revoked and badly signed nodes get 401 and change
    nothing;
  * a node writing hub-owned tables, hub-local tables, another office's rows
    or updating/deleting append-only rows gets that entry quarantined,
    nothing of it applied, and the rest of the batch applied;
  * corrupt, truncated and hostile changesets inside well-formed, signed
    frames are refused with every replicated table of the hub unchanged, and
    seeded random mutations of real changesets never harm the hub;
  * compressed pushes (Content-Encoding: deflate, sync/zbody.h): applied
    once; a broken stream, trailing bytes, a zip bomb and an unknown
    encoding are refused with nothing applied; the signature covers the
    compressed bytes.

Frames and changesets are built byte by byte (test_hub.py helpers), from
changesets a real office node captured.
"""
import hashlib
import os
import random
import struct
import threading
import time
import unittest
import uuid
import zlib

import harness
import test_hub as th
from harness import Daemon, plant_secret

SEED = int(os.environ.get("OUTPOST_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))
# Hub bookkeeping that a refused push may touch (nonces, the node's progress,
# the quarantine itself); every other table must stay as it was.
BOOKKEEPING = {"nonces", "nodes", "quarantine", "enroll_codes", "sqlite_sequence",
               "sqlite_stat1"}

INSERT, UPDATE, DELETE = 18, 23, 9


def value(v):
    if v is UNDEF:
        return b"\x00"
    if v is None:
        return b"\x05"
    if isinstance(v, int):
        return b"\x01" + struct.pack(">q", v)
    t = v.encode() if isinstance(v, str) else v
    return b"\x03" + th.varint(len(t)) + t


UNDEF = object()


def table_header(table, pk_flags):
    name = table.encode() if isinstance(table, str) else table
    return b"T" + th.varint(len(pk_flags)) + bytes(pk_flags) + name + b"\0"


def change(table, pk_flags, op, old=None, new=None):
    b = table_header(table, pk_flags) + bytes([op, 0])
    for v in (old or []):
        b += value(v)
    for v in (new or []):
        b += value(v)
    return b


class AttackTest(harness.HubAndNode):
    def tearDown(self):
        self.assertEqual(self.hub.get("/healthz").status, 200)
        db = self.hub.db()
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            db.close()

    # ---- helpers -------------------------------------------------------------------
    new_code = th.HubTest.new_code
    hub_count = th.HubTest.hub_count

    def enroll(self):
        r = self.hub.post("/api/v1/sync/enroll", {"code": self.new_code(), "hostname": "pc"})
        self.assertEqual(r.status, 200, r.body)
        return th.Enrolled(self.hub, r.json())

    def capture(self, name, n, action=None):
        """Real changesets from the node: a check-in, and an action on it,
        as n sends them (th.stamped_as)."""
        r = self.node.post("/api/v1/checkins", {"visitor_name": name, "language": "en",
                                                "reason_ids": [self.reason]})
        self.assertEqual(r.status, 201, r.body)
        cid = r.json()["id"]
        if action:
            r = self.node.post("/api/v1/checkins/%s/action" % cid, {"action": action})
            self.assertEqual(r.status, 200, r.body)
        db = self.node.db()
        try:
            rows = db.execute("SELECT hlc, coalesce(actor, ''), changeset FROM outbox "
                              "ORDER BY seq DESC LIMIT ?", (2 if action else 1,)).fetchall()
        finally:
            db.close()
        out = []
        for h, a, c in reversed(rows):
            h, c = th.stamped_as(self.node, n, h, bytes(c))
            out.append((h, a, c))
        return cid, out

    def state(self):
        """SHA-256 of every row of every table a push may not change."""
        db = self.hub.db()
        db.text_factory = bytes
        try:
            out = {}
            names = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
            for (t,) in names:
                t = t.decode()
                if t in BOOKKEEPING or t.startswith("hub_"):
                    continue
                # (the hub's clock mark follows the newest stamp it took,
                # even of rows it already had: a clock, not data)
                rows = db.execute('SELECT * FROM "%s"%s' % (
                    t, " WHERE k <> 'max_hlc'" if t == "sync_ctx" else "")).fetchall()
                h = hashlib.sha256()
                for r in sorted(repr(tuple(r)) for r in rows):
                    h.update(r.encode())
                out[t] = (len(rows), h.hexdigest())
            return out
        finally:
            db.close()

    def assert_unchanged(self, before, what):
        after = self.state()
        diff = [t for t in set(before) | set(after) if before.get(t) != after.get(t)]
        self.assertEqual(diff, [], what)

    def acked(self, n):
        return self.hub_count("SELECT acked_seq FROM nodes WHERE id=?", n.node_id)

    def push_one(self, n, cs, hlc=None, actor=""):
        """Push one entry with the next seq; return the response."""
        seq = self.acked(n) + 1
        hlc = hlc or "%012x.0000.%s" % (int(time.time() * 1000), n.node_id)
        return n.push(th.build_frame([(seq, hlc, actor, cs)], self.schema)), seq

    def assert_refused(self, n, cs, what):
        before = self.state()
        r, seq = self.push_one(n, cs)
        self.assertIn(r.status, (200, 400), (what, r.body))
        if r.status == 200:
            j = r.json()
            self.assertEqual(j["applied"], 0, (what, j))
            self.assertEqual([q["seq"] for q in j["quarantined"]], [seq], (what, j))
            self.assertTrue(j["quarantined"][0]["reason"], what)
        else:
            self.assertIn("error", r.json())
        self.assert_unchanged(before, what)
        return r

    # ---- replays -------------------------------------------------------------------
    def test_captured_request_replayed(self):
        n = self.enroll()
        cid, entries = self.capture("Replay Visitor", n)
        frame = th.build_frame([(1,) + entries[0]], self.schema)
        path = "/api/v1/sync/push"
        h = n.headers("POST", path, frame)
        h["Content-Type"] = "application/octet-stream"
        # A byte changed in transit, signature kept: 401 (the body hash is signed).
        for i in (12, len(frame) // 2, len(frame) - 1):
            bad = bytearray(frame)
            bad[i] ^= 0x01
            r = self.hub.request("POST", path, body=bytes(bad), headers=dict(h))
            self.assertEqual(r.status, 401, (i, r.body))
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 0)
        r = self.hub.request("POST", path, body=frame, headers=dict(h))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["applied"], 1)
        head = self.hub_count("SELECT max(seq) FROM change_log")
        before = self.state()
        # The very same request again (same nonce): refused.
        r = self.hub.request("POST", path, body=frame, headers=dict(h))
        self.assertEqual(r.status, 409, r.body)
        # Signed afresh by the node: skipped, applied once.
        r = n.push(frame)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["applied"], r.json()["skipped"]), (0, 1))
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)
        self.assertEqual(self.hub_count("SELECT max(seq) FROM change_log"), head)
        self.assert_unchanged(before, "replayed push")
        # The same entry under a new seq (a replay dressed as new work): the
        # identical rows are skipped, nothing changes.
        r, seq = self.push_one(n, entries[0][2])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)
        self.assert_unchanged(before, "entry replayed under a new seq")

    def test_push_refused_401(self):
        n = self.enroll()
        other = self.enroll()
        cid, entries = self.capture("Unsigned Visitor", n)
        frame = th.build_frame([(1,) + entries[0]], self.schema)
        before = self.state()
        cases = [
            ("unknown node", dict(node_id=str(uuid.uuid4()))),
            ("another node's secret", dict(secret=other.secret)),
            ("zero secret", dict(secret="00" * 32)),
            ("signed as another node", dict(node_id=other.node_id)),
        ]
        for what, kw in cases:
            r = n.push(frame, **kw)
            self.assertEqual(r.status, 401, (what, r.body))
            self.assertIn("error", r.json())
        # No signature at all, or a malformed one.
        h = n.headers("POST", "/api/v1/sync/push", frame)
        for drop in ("X-Outpost-Signature", "X-Outpost-Node", "X-Outpost-Nonce",
                     "X-Outpost-Time"):
            hh = {k: v for k, v in h.items() if k != drop}
            hh["X-Outpost-Nonce"] = uuid.uuid4().hex if drop != "X-Outpost-Nonce" else None
            hh = {k: v for k, v in hh.items() if v is not None}
            r = self.hub.request("POST", "/api/v1/sync/push", body=frame, headers=hh)
            self.assertEqual(r.status, 401, (drop, r.body))
        hh = dict(h, **{"X-Outpost-Signature": "zz" * 32})
        r = self.hub.request("POST", "/api/v1/sync/push", body=frame, headers=hh)
        self.assertEqual(r.status, 401, r.body)
        # Revoked: refused from then on, though the same push worked before.
        # (The revocation itself gives the Local Area a new SSN key: case_keys
        # rows and their change_log entries, README "SSN key rotation".)
        self.assert_unchanged(before, "refused pushes")
        self.assertEqual(th.hub_tool(self.hub, "revoke", other.node_id).returncode, 0)
        before = self.state()
        r = other.push(frame)
        self.assertEqual(r.status, 401, r.body)
        self.assert_unchanged(before, "refused pushes")
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 0)
        self.assertEqual(n.push(frame).status, 200)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)

    def zpush(self, n, body, encoding="deflate", sign_body=None):
        path = "/api/v1/sync/push"
        h = n.headers("POST", path, body if sign_body is None else sign_body)
        h["Content-Type"] = "application/octet-stream"
        if encoding:
            h["Content-Encoding"] = encoding
        return self.hub.request("POST", path, body=body, headers=h)

    def test_compressed_push(self):
        n = self.enroll()
        cid, entries = self.capture("Deflate Visitor", n, action="call")
        frame = th.build_frame([(i + 1,) + e for i, e in enumerate(entries)], self.schema)
        z = zlib.compress(frame)
        before = self.state()
        bomb = zlib.compress(b"\0" * (12 * 1024 * 1024))  # inflates past the largest frame
        self.assertLess(len(bomb), 64 * 1024)
        refusals = [
            ("cut short", z[:-3], "deflate", None, 400),
            ("bytes after the stream", z + b"\0\0", "deflate", None, 400),
            ("not deflate at all", frame, "deflate", None, 400),
            ("zip bomb", bomb, "deflate", None, 400),
            ("unknown encoding", z, "br", None, 415),
            ("signed over the plain frame", z, "deflate", frame, 401),
        ]
        for what, body, enc, sign, status in refusals:
            r = self.zpush(n, body, enc, sign)
            self.assertEqual(r.status, status, (what, r.body))
            self.assertIn("error", r.json(), what)
        self.assert_unchanged(before, "refused compressed pushes")
        self.assertEqual(self.acked(n), 0)
        r = self.zpush(n, z)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["applied"], r.json()["acked_seq"]), (2, 2))
        self.assertEqual(self.hub_count("SELECT status FROM checkins WHERE id=?", cid), "called")
        # Replayed compressed: skipped; and the plain frame is still accepted.
        r = self.zpush(n, z)
        self.assertEqual((r.status, r.json()["skipped"], r.json()["applied"]), (200, 2, 0))
        r = self.zpush(n, frame, encoding="identity")
        self.assertEqual((r.status, r.json()["skipped"]), (200, 2))

    def test_pull_deflated(self):
        # Pull pages and snapshots come deflated to a node that asks for it,
        # and inflate to exactly the plain reply.
        n = self.enroll()
        cid, entries = self.capture("Pull Deflate Visitor", n, action="call")
        r = n.push(th.build_frame([(i + 1,) + e for i, e in enumerate(entries)], self.schema))
        self.assertEqual(r.status, 200, r.body)
        for path in ("/api/v1/sync/snapshot", "/api/v1/sync/pull?after=0&max=5000"):
            plain = n.request("GET", path)
            self.assertEqual(plain.status, 200, plain.body)
            self.assertIsNone(plain.header("Content-Encoding"))
            h = n.headers("GET", path)
            h["Accept-Encoding"] = "gzip, deflate"
            z = self.hub.request("GET", path, headers=h)
            self.assertEqual(z.status, 200, z.body)
            self.assertEqual(z.header("Content-Encoding"), "deflate", path)
            self.assertLess(len(z.body), len(plain.body))
            self.assertEqual(zlib.decompress(z.body), plain.body, path)
            self.assertEqual(z.header("X-Outpost-Next"), plain.header("X-Outpost-Next"))
            self.assertIn(cid.encode(), plain.body)

    # ---- tables and scope ------------------------------------------------------------
    def test_unread_replies_bounded(self):
        """A node that asks for snapshot pages on many connections and reads
        none of them holds each page in the hub's memory until it reads: past
        its share (HUB_NODE_READS requests in work, HUB_NODE_QUEUED unread
        bytes) the hub answers 503 instead of building more, and once it has
        read them it is served again.  (Found by a review: 40 such
        connections took the hub from 275 MB to 1.1 GB.)"""
        import socket
        import ssl
        n = self.enroll()
        db = self.hub.db()
        try:   # statewide attachments: every node's snapshot carries them
            for i in range(12):
                blob = os.urandom(1536 * 1024)
                db.execute("INSERT INTO employer_attachments(id, employer_id, filename,"
                           " content_type, size, sha256, uploaded_by, office_id, uploaded_at,"
                           " data) VALUES(?,?,?,?,?,?,?,?,?,?)",
                           ("0190bbbb-0000-7000-8000-%012d" % i, "emp-x", "f%d.pdf" % i,
                            "application/pdf", len(blob), hashlib.sha256(blob).hexdigest(),
                            None, "demo-office", int(time.time() * 1000), blob))
            db.commit()
        finally:
            db.close()
        head = n.request("GET", "/api/v1/sync/pull?after=0&max=1").header("X-Outpost-Head")
        path = ("/api/v1/sync/snapshot?seq=%s&after_table=employer_attachments&after_id=0"
                % head)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

        def ask():
            s = socket.create_connection(("127.0.0.1", self.hub.port))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s = ctx.wrap_socket(s)
            s.settimeout(60)
            head = "".join("%s: %s\r\n" % kv for kv in n.headers("GET", path).items())
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (path, head)).encode())
            return s, s.recv(16)[9:12]    # "HTTP/1.1 200": the reply has begun

        # How many are served before the bound depends on how much of each
        # page the kernel's socket buffers take (4 MiB a connection here);
        # the rest of a page is the hub's to hold.  A page is 18 MiB, so
        # at most 48 MiB / (18 - buffers) pages: 4 here, and on any machine
        # far fewer than the 40 tried.
        socks, statuses = [], []
        try:
            while len(statuses) < 40 and b"503" not in statuses:
                s, st = ask()
                socks.append(s)
                statuses.append(st)
            served = statuses.count(b"200")
            self.assertGreaterEqual(served, 2, statuses)
            self.assertEqual(statuses, [b"200"] * served + [b"503"], statuses)
            for _ in range(2):      # and so on while they stay unread
                s, st = ask()
                socks.append(s)
                self.assertEqual(st, b"503")
        finally:
            for s in socks:
                s.close()
        # read (here: dropped), the node is served again
        harness.wait_until(lambda: n.request("GET", path).status == 200, 30, 0.5,
                           "the node served again")

    def test_forbidden_writes_quarantined(self):
        n = self.enroll()
        cid, entries = self.capture("Scope Visitor", n, action="call")
        frame = th.build_frame([(i + 1,) + e for i, e in enumerate(entries)], self.schema)
        r = n.push(frame)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["applied"], 2, r.body)
        db = self.hub.db()
        try:
            ev = db.execute("SELECT * FROM checkin_events WHERE checkin_id=?", (cid,)).fetchone()
            cr = db.execute("SELECT * FROM checkin_reasons WHERE checkin_id=?", (cid,)).fetchone()
        finally:
            db.close()
        self.assertIsNotNone(ev)
        now = int(time.time() * 1000)
        hlc = "%012x.0000.%s" % (now, n.node_id)
        day = time.strftime("%Y-%m-%d")
        pk10 = [1] + [0] * 9

        def checkin(office, la):
            return [str(uuid.uuid4()), office, la, "Elsewhere Visitor", None, None, "en",
                    None, 0, None, "waiting", now, None, None, None, day, None, None, hlc]

        cases = [
            ("checkin of another office",
             change("checkins", [1] + [0] * 18, INSERT, new=checkin("demo-office-2", "demo-la"))),
            ("checkin of another Local Area",
             change("checkins", [1] + [0] * 18, INSERT, new=checkin("demo-office", "other-la"))),
            ("own check-in moved to another office",
             change("checkins", [1] + [0] * 18, UPDATE,
                    old=[cid] + [UNDEF] * 18,
                    new=[UNDEF, "demo-office-2"] + [UNDEF] * 17)),
            ("append-only row updated",
             change("checkin_events", pk10, UPDATE, old=[ev["id"]] + [UNDEF] * 2 +
                    [ev["action"]] + [UNDEF] * 6,
                    new=[UNDEF] * 3 + ["done"] + [UNDEF] * 6)),
            ("append-only row deleted",
             change("checkin_reasons", [1] + [0] * (len(cr) - 1), DELETE, old=list(tuple(cr)))),
            ("hub-owned row updated",
             change("offices", [1] + [0] * 7, UPDATE, old=["demo-office"] + [UNDEF] * 6 + [UNDEF],
                    new=[UNDEF, UNDEF, "Renamed by a node"] + [UNDEF] * 5)),
            ("hub-owned row inserted",
             change("greeter_reasons", [1] + [0] * 7, INSERT,
                    new=[str(uuid.uuid4()), "demo-la", None, "Rogue", "Rogue", 1, 1, hlc])),
            ("staff account inserted",
             change("staff", [1], INSERT, new=[str(uuid.uuid4())])),
            ("hub-local table: nodes",
             change("nodes", [1, 0, 0], INSERT, new=["rogue-node", "demo-office", "demo-la"])),
            ("hub-local table: quarantine",
             change("quarantine", [1, 0], INSERT, new=[1, "x"])),
            ("hub-local table: change_log",
             change("change_log", [1, 0], INSERT, new=[999999, "x"])),
            ("sqlite_master", change("sqlite_master", [0, 1, 0, 0, 0], INSERT,
                                     new=["table", "x", "x", 2, "CREATE TABLE x(a)"])),
            ("conflicts written by a node",
             change("conflicts", [1, 0], INSERT, new=[str(uuid.uuid4()), "x"])),
        ]
        quarantined = 0
        for what, cs in cases:
            r = self.assert_refused(n, cs, what)
            quarantined += r.status == 200
        # A forbidden entry between two good ones: only it is held back.
        c2, e2 = self.capture("Batch Visitor One", n)
        c3, e3 = self.capture("Batch Visitor Two", n)
        seq = self.acked(n) + 1
        bad = cases[0][1]
        r = n.push(th.build_frame([(seq,) + e2[0], (seq + 1, hlc, "", bad),
                                   (seq + 2,) + e3[0]], self.schema))
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual((j["applied"], [q["seq"] for q in j["quarantined"]], j["acked_seq"]),
                         (2, [seq + 1], seq + 2), j)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id IN (?, ?)",
                                        c2, c3), 2)
        self.assertEqual(self.hub_count("SELECT count(*) FROM quarantine WHERE node_id=?",
                                        n.node_id), quarantined + 1)

    # ---- corrupt, truncated, hostile changesets ---------------------------------------------
    def test_hostile_changesets(self):
        n = self.enroll()
        cid, entries = self.capture("Hostile Visitor", n, action="call")
        good = entries[0][2]
        name_end = good.index(b"\0")
        hostile = [
            ("empty table name", b"T\x01\x01\0" + good[name_end + 1:]),
            ("no NUL after the table name", good[:name_end]),
            ("column count 0", b"T\x00" + good[name_end - len("checkins"):]),
            ("column count huge", b"T\xff\xff\xff\xff\x0f" + good[2:]),
            ("column count one too many", good[:1] + bytes([good[1] + 1]) + good[2:2 + good[1]] +
             b"\0" + good[2 + good[1]:]),
            ("column count one too few", good[:1] + bytes([good[1] - 1]) + good[2:1 + good[1]] +
             good[2 + good[1]:]),
            ("no primary key flag", good[:2] + b"\0" + good[3:]),
            ("unknown op", good[:name_end + 1] + b"\x63" + good[name_end + 2:]),
            ("unknown value type", good[:name_end + 3] + b"\x09" + good[name_end + 4:]),
            ("text length past the end", good[:name_end + 3] + b"\x03\xff\xff\xff\x7f"),
            ("patchset marker", b"P" + good[1:]),
            ("text that is not UTF-8",
             change("checkins", [1] + [0] * 18, INSERT,
                    new=[str(uuid.uuid4()), "demo-office", "demo-la", b"Bad \xff\xfe UTF-8",
                         None, None, "en", None, 0, None, "waiting", int(time.time() * 1000),
                         None, None, None, time.strftime("%Y-%m-%d"), None, None, "h"])),
            ("text with a NUL byte",
             change("checkins", [1] + [0] * 18, INSERT,
                    new=[str(uuid.uuid4()), "demo-office", "demo-la", "Nul\0Visitor",
                         None, None, "en", None, 0, None, "waiting", int(time.time() * 1000),
                         None, None, None, time.strftime("%Y-%m-%d"), None, None, "h"])),
            ("garbage", bytes(range(256)) * 4),
            ("table name with SQL", change("checkins\"; DROP TABLE offices; --", [1, 0], INSERT,
                                           new=["x", "y"])),
            ("NULL primary key", change("checkins", [1] + [0] * 18, INSERT,
                                        new=[None] + ["x"] * 18)),
            ("integer where text is due",
             change("checkins", [1] + [0] * 18, INSERT,
                    new=[12345, "demo-office", "demo-la", 7, None, None, "en", None, 0, None,
                         "waiting", 1, None, None, None, "2026-01-01", None, None, "h"])),
        ]
        for cut in (1, 2, name_end, name_end + 1, name_end + 2, name_end + 5, len(good) // 2,
                    len(good) - 1):
            hostile.append(("truncated at %d" % cut, good[:cut]))
        hostile.append(("two good changes glued to garbage", good + good[:7]))
        for what, cs in hostile:
            self.assert_refused(n, cs, what)
        # Seeded mutations of real changesets: whatever they become, the hub
        # keeps serving, and a refused one changes nothing.
        rng = random.Random(SEED)
        kinds = (INSERT, UPDATE)
        before = self.state()
        for i in range(300 if os.environ.get("OUTPOST_LONG") else 40):
            src = bytearray(rng.choice([good, entries[1][2]]))
            m = rng.randrange(4)
            if m == 0:
                for _ in range(rng.randint(1, 4)):
                    src[rng.randrange(len(src))] = rng.randrange(256)
            elif m == 1:
                del src[rng.randrange(1, len(src)):]
            elif m == 2:
                p = rng.randrange(len(src))
                src[p:p] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            else:
                src[rng.randrange(len(src))] = rng.choice(kinds + (0, 0x80, 0xff))
            r, seq = self.push_one(n, bytes(src))
            self.assertIn(r.status, (200, 400), ("mutation %d seed %d" % (i, SEED), r.body))
            after = self.state()
            if r.status == 400 or r.json()["quarantined"]:
                self.assertEqual(after, before, "mutation %d seed %d" % (i, SEED))
            before = after
        # Real entries still apply afterwards.
        c2, e2 = self.capture("After Hostile", n, action="call")
        seq = self.acked(n) + 1
        r = n.push(th.build_frame([(seq + k,) + e for k, e in enumerate(e2)], self.schema))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["applied"], 2, r.body)
        self.assertEqual(self.hub_count("SELECT status FROM checkins WHERE id=?", c2), "called")


class ReplayAfterCrashTest(harness.HubAndNode):
    """A hub killed (SIGKILL) right after it answered signed requests, then
    started again, refuses each of them replayed byte for byte (same nonce,
    same signature, well inside its time window): no reply goes out before
    the request's nonce is committed (hub_sync_auth.c, hub_work.c)."""

    new_code = th.HubTest.new_code
    hub_count = th.HubTest.hub_count
    capture = AttackTest.capture

    def test_replay_after_kill(self):
        r = self.hub.post("/api/v1/sync/enroll", {"code": self.new_code(), "hostname": "pc"})
        self.assertEqual(r.status, 200, r.body)
        n = th.Enrolled(self.hub, r.json())
        cid, entries = self.capture("Crash Replay Visitor", n)
        frame = th.build_frame([(1,) + entries[0]], self.schema)
        sent = []  # (what, method, path, body, headers)

        def send(what, method, path, body=b""):
            h = n.headers(method, path, body)
            if body:
                h["Content-Type"] = "application/octet-stream"
            r = self.hub.request(method, path, body=body or None, headers=dict(h))
            sent.append((what, method, path, body, h, r.status))
            return r

        # Reads beside the push (on threads: some may meet the push runner
        # holding the write lock, and wait for its commit), then one of each
        # kind of signed route: the job routes and the ones that reply at once.
        threads = [threading.Thread(target=send, args=(
            "%s %d" % (p, i), "GET", p)) for i in range(4)
            for p in ("/api/v1/sync/pull?after=0&max=50", "/api/v1/sync/digest")]
        for t in threads:
            t.start()
        r = send("push", "POST", "/api/v1/sync/push", frame)
        for t in threads:
            t.join(60)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["applied"], 1, r.body)
        for what, method, path in (("pull", "GET", "/api/v1/sync/pull?after=0&max=50"),
                                   ("snapshot", "GET", "/api/v1/sync/snapshot"),
                                   ("digest", "GET", "/api/v1/sync/digest"),
                                   ("status", "GET", "/api/v1/sync/status"),
                                   ("conflicts", "GET", "/api/v1/sync/conflicts"),
                                   ("la-key", "GET", "/api/v1/sync/la-key")):
            send(what, method, path)
        for what, _, _, _, _, status in sent:
            self.assertEqual(status, 200, what)
        self.hub.kill()
        self.hub.start()
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)
        for what, method, path, body, h, _ in sent:
            r = self.hub.request(method, path, body=body or None, headers=dict(h))
            self.assertEqual(r.status, 409, (what, r.body[:200]))
            self.assertIn("nonce", r.json()["error"], what)
        # The node still syncs: a request signed afresh is served.
        r = n.request("GET", "/api/v1/sync/digest")
        self.assertEqual(r.status, 200, r.body)


if __name__ == "__main__":
    unittest.main()
