"""The hub on its own: HTTPS with a generated certificate, the demo office,
one-time enrollment codes, signed requests (replay, staleness, revocation),
push of real changesets made by a real office node (apply, replay, gaps,
corruption, schema versions), offline bundle import, and the admin API.

Frames and signatures are built here byte by byte from sync/frame.h and
sync/sync.h, independently of the C code that makes them for real.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import sqlite3
import ssl
import stat
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import harness
from harness import BIN, Daemon, plant_secret, run_tool

# 16 random characters, then 12 that check the hub key (issue #13)
CODE_RE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){6}$")


def hub_tool(hub, *args):
    return run_tool([os.path.join(BIN, "outpost-hub")] + list(args) + ["--data", hub.data],
                    name="hub")


def der_item(b, i):
    """(tag, content start, content end) of the DER item at i."""
    tag = b[i]
    n = b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n


def spki_pin(cert_der):
    """curl's pin of a certificate: sha256// base64(SHA-256(SubjectPublicKeyInfo))."""
    _, s, _ = der_item(cert_der, 0)          # Certificate
    _, s, e = der_item(cert_der, s)          # tbsCertificate
    items = []
    i = s
    while i < e:
        tag, _, ce = der_item(cert_der, i)
        items.append((tag, i, ce))
        i = ce
    if items[0][0] == 0xA0:                  # [0] version
        items = items[1:]
    # serial, signature, issuer, validity, subject, subjectPublicKeyInfo
    _, start, end = items[5]
    return "sha256//" + base64.b64encode(hashlib.sha256(cert_der[start:end]).digest()).decode()


def served_cert(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s) as t:
            return t.getpeercert(binary_form=True)


def build_frame(entries, schema):
    """entries: (seq, hlc, actor, changeset) -> frame bytes per sync/frame.h."""
    b = b"OPB1" + struct.pack(">II", schema, len(entries))
    for seq, hlc, actor, cs in entries:
        hlc = hlc.encode() if isinstance(hlc, str) else hlc
        actor = (actor or "").encode() if not isinstance(actor, bytes) else actor
        b += struct.pack(">QH", seq, len(hlc)) + hlc
        b += struct.pack(">H", len(actor)) + actor
        b += struct.pack(">I", len(cs)) + cs
    return b + hashlib.sha256(b).digest()


def varint(n):
    out = []
    while True:
        b = n & 0x7F
        n >>= 7
        if out:
            b |= 0x80
        out.append(b)
        if not n:
            break
    return bytes(reversed(out))


def changeset_insert(table, pk_flags, values):
    """One INSERT as sqlite3session_changeset() writes it (text, int, bytes
    (a blob) or None values)."""
    b = b"T" + varint(len(pk_flags)) + bytes(pk_flags) + table.encode() + b"\0"
    b += bytes([18, 0])  # SQLITE_INSERT, not indirect
    for v in values:
        if v is None:
            b += b"\x05"
        elif isinstance(v, int):
            b += b"\x01" + struct.pack(">q", v)
        elif isinstance(v, bytes):
            b += b"\x04" + varint(len(v)) + v
        else:
            t = v.encode()
            b += b"\x03" + varint(len(t)) + t
    return b


def build_bundle(node_id, secret_hex, frame):
    nid = node_id.encode()
    mac = hmac.new(bytes.fromhex(secret_hex), frame, hashlib.sha256).digest()
    return b"OPX1" + struct.pack(">H", len(nid)) + nid + mac + frame


class Enrolled:
    """A node identity at the hub, signing requests as sync.h says."""

    def __init__(self, hub, reply):
        self.hub = hub
        self.node_id = reply["node_id"]
        self.secret = reply["node_secret"]
        self.reply = reply
        plant_secret(self.secret)

    def headers(self, method, path, body=b"", t=None, nonce=None, secret=None, node_id=None):
        t = str(int(time.time() * 1000) if t is None else t)
        nonce = nonce or uuid.uuid4().hex
        msg = "\n".join([method, path, t, nonce, hashlib.sha256(body).hexdigest()])
        sig = hmac.new(bytes.fromhex(secret or self.secret), msg.encode(),
                       hashlib.sha256).hexdigest()
        h = {"X-Outpost-Node": node_id or self.node_id, "X-Outpost-Time": t,
             "X-Outpost-Nonce": nonce, "X-Outpost-Signature": sig,
             "X-Outpost-Schema": str(self.hub_schema())}
        if body:
            # The body's hash, stated before it (sync.h): the hub checks the
            # signature before it reads the body.
            h["X-Outpost-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        return h

    def hub_schema(self):
        return self.reply.get("schema_version", 0)

    def request(self, method, path, body=b"", **kw):
        h = self.headers(method, path, body, **kw)
        if body:
            h["Content-Type"] = "application/octet-stream"
        return self.hub.request(method, path, body=body if body else None, headers=h)

    def push(self, frame, **kw):
        return self.request("POST", "/api/v1/sync/push", frame, **kw)


def stamped_as(daemon, n, hlc, cs):
    """A stand-alone node's entry stamp and changeset with its own node id
    swapped for n's (ids of one length): the hub takes a row's stamps only
    from the node they name, and so does the real node's push, which sends
    what it wrote before its enrollment under the identity it has now."""
    own = harness.db_value(daemon, "SELECT value FROM node_meta WHERE key='node_id'")
    assert own and len(own) == len(n.node_id), (own, n.node_id)
    return hlc.replace(own, n.node_id), cs.replace(own.encode(), n.node_id.encode())


def enroll_identity(test, hub, office="demo-office", hostname="pc"):
    """A node identity enrolled at hub for office through the API with a
    fresh code (harness.hub_code), which test asserts is taken: an Enrolled."""
    r = hub.post("/api/v1/sync/enroll", {"code": harness.hub_code(hub, office), "hostname": hostname})
    test.assertEqual(r.status, 200, r)
    return Enrolled(hub, r.json())


class HubTest(harness.HubAndNode):

    def tearDown(self):
        # The hub keeps serving whatever a test sent it.
        r = self.hub.get("/healthz")
        self.assertEqual(r.status, 200)

    # ---- helpers -----------------------------------------------------------
    def new_code(self, office="demo-office", ttl=None):
        args = ["enroll-code", "--office", office]
        if ttl is not None:
            args += ["--ttl-seconds", str(ttl)]
        p = hub_tool(self.hub, *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        # the instructions keep the code off the office PC's command line
        self.assertIn(b"--code - ", p.stderr)
        self.assertNotIn(b"--code CODE", p.stderr)
        code = p.stdout.decode().strip()
        plant_secret(code)
        plant_secret(code.replace("-", ""))
        self.assertRegex(code, CODE_RE)
        return code

    def enroll(self, code=None):
        r = self.hub.post("/api/v1/sync/enroll",
                          {"code": code or self.new_code(), "hostname": "front-desk-pc"})
        self.assertEqual(r.status, 200, r.body)
        return Enrolled(self.hub, r.json())

    def admin(self, method, path, body=None):
        h = {"Authorization": "Bearer " + self.token}
        return self.hub.request(method, path, body=body, headers=h)

    def node_changeset(self, name, n):
        """POST a check-in to the real node; return (hlc, actor, changeset,
        checkin id) as n sends it (stamped_as)."""
        cid, row = harness.checkin_change(self.node, name)
        hlc, cs = stamped_as(self.node, n, row["hlc"], bytes(row["changeset"]))
        return hlc, row["actor"], cs, cid

    def hub_count(self, sql, *args):
        db = self.hub.db()
        try:
            return db.execute(sql, args).fetchone()[0]
        finally:
            db.close()

    # ---- transport and set-up -------------------------------------------------
    def test_https_only_with_generated_cert(self):
        for f in ("hub.crt", "hub.key", "hub.db", "admin.token"):
            self.assertTrue(os.path.exists(os.path.join(self.hub.data, f)), f)
        for f in ("hub.key", "admin.token"):
            mode = stat.S_IMODE(os.stat(os.path.join(self.hub.data, f)).st_mode)
            self.assertEqual(mode & 0o077, 0, "%s is mode %o" % (f, mode))
        r = self.hub.get("/healthz")
        self.assertEqual(r.status, 200)
        j = r.json()
        self.assertEqual(j["status"], "ok")
        self.assertEqual(j["role"], "hub")
        self.assertTrue(r.header("X-Outpost-Time"))
        # Plain HTTP on the TLS port gets no HTTP answer.
        try:
            reply = self.hub.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=3)
        except OSError:
            reply = b""
        self.assertFalse(reply.startswith(b"HTTP/1.1 200"), reply[:80])
        self.assertNotIn(b'"status"', reply)

    def test_demo_office_in_hub_db(self):
        self.assertEqual(self.hub_count("SELECT count(*) FROM offices WHERE id='demo-office'"), 1)
        for t in ("checkins", "checkin_events", "conflicts", "nodes", "enroll_codes", "nonces"):
            self.hub_count("SELECT count(*) FROM %s" % t)

    def test_hub_drops_the_desks_index(self):
        # The front desk's search by visitor name is the node's; the hub
        # (migration 2) drops that index and keeps the one its reports read.
        def indexes(d):
            db = d.db()
            try:
                return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE"
                                                 " type='index' AND tbl_name='checkins'")}
            finally:
                db.close()
        hub, node = indexes(self.hub), indexes(self.node)
        self.assertIn("checkins_day", hub)
        self.assertNotIn("checkins_name", hub)
        self.assertIn("checkins_name", node)

    def test_cli_errors(self):
        p = hub_tool(self.hub, "enroll-code", "--office", "no-such-office")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"unknown office", p.stderr)
        self.assertEqual(p.stdout.strip(), b"")
        p = hub_tool(self.hub, "revoke", "no-such-node")
        self.assertEqual(p.returncode, 1)
        p = run_tool([os.path.join(BIN, "outpost-hub"), "--version"], name="hub")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"outpost-hub", p.stdout)
        p = run_tool([os.path.join(BIN, "outpost-hub"), "--help"], name="hub")
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"enroll-code", p.stdout)

    def test_cli_needs_a_hub(self):
        """Only serve makes a hub: another command on a folder with no
        hub.db (a --data forgotten, ./data/hub by default) says so and leaves
        no new hub behind."""
        hubbin = os.path.join(BIN, "outpost-hub")
        with tempfile.TemporaryDirectory(prefix="outpost-nohub-") as tmp:
            bundle = os.path.join(tmp, "bundle")
            with open(bundle, "wb") as f:
                f.write(b"x")
            for args in (["enroll-code", "--office", "demo-office"], ["reset-operations"],
                         ["revoke", "no-such-node"], ["backup", "--out", os.path.join(tmp, "b")],
                         ["import", bundle]):
                for data in ([], ["--data", os.path.join(tmp, "elsewhere")]):
                    p = subprocess.run([hubbin] + args + data, cwd=tmp, capture_output=True,
                                       timeout=60)
                    self.assertEqual(p.returncode, 2, (args, data, p.stderr))
                    self.assertIn(b"no hub at", p.stderr, args)
                    self.assertIn(b"give --data DIR", p.stderr, args)
                    self.assertEqual(p.stdout, b"", args)
                self.assertEqual(sorted(os.listdir(tmp)), ["bundle"], args)

    def test_backup_names_its_secrets(self):
        with tempfile.TemporaryDirectory(prefix="outpost-backup-") as tmp:
            out = os.path.join(tmp, "hub.backup")
            p = hub_tool(self.hub, "backup", "--out", out)
            self.assertEqual(p.returncode, 0, p.stderr)
            said = p.stdout.decode()
            # as many secrets as it names, and the ones the key file holds
            m = re.search(r"its (\d+) secret files? \(([^)]*)\) to ", said)
            self.assertIsNotNone(m, said)
            names = m.group(2).split(", ")
            self.assertEqual(int(m.group(1)), len(names), said)
            kb = sqlite3.connect(out + ".key")
            try:
                held = {r[0] for r in kb.execute("SELECT name FROM outpost_backup_files")}
            finally:
                kb.close()
            self.assertEqual(set(names), held)
            self.assertEqual(held, {"hub.key", "admin.token", "master.key", "ca.key"})

    # ---- enrollment ----------------------------------------------------------
    def test_enroll_once_and_pin(self):
        code = self.new_code()
        self.assertEqual(self.hub_count("SELECT count(*) FROM enroll_codes WHERE code_hash=? "
                                        "OR code_hash=?", code, code.replace("-", "")), 0)
        r = self.hub.post("/api/v1/sync/enroll", {"code": code.lower(), "hostname": "pc-1"})
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        plant_secret(j["node_secret"])
        self.assertTrue(j["node_id"])
        self.assertEqual(len(bytes.fromhex(j["node_secret"])), 32)
        self.assertEqual(j["office_id"], "demo-office")
        self.assertEqual(j["local_area_id"], "demo-la")
        self.assertEqual(j["schema_version"], self.schema)
        self.assertGreater(j["hub_time_ms"], 0)
        self.assertEqual(j["hub_pin"], spki_pin(served_cert(self.hub.port)))
        self.assertTrue(r.header("X-Outpost-Time"))
        again = self.hub.post("/api/v1/sync/enroll", {"code": code, "hostname": "pc-2"})
        self.assertIn(again.status, (401, 410), again.body)
        self.assertIn("error", again.json())
        self.assertEqual(self.hub_count("SELECT count(*) FROM nodes WHERE id=?", j["node_id"]), 1)

    def test_enroll_refusals(self):
        code = self.new_code(ttl=1)
        time.sleep(1.5)
        r = self.hub.post("/api/v1/sync/enroll", {"code": code})
        self.assertIn(r.status, (401, 410), r.body)
        r = self.hub.post("/api/v1/sync/enroll", {"code": "AAAA-BBBB-CCCC-DDDD"})
        self.assertEqual(r.status, 401, r.body)
        r = self.hub.post("/api/v1/sync/enroll", {"code": "not a code!"})
        self.assertEqual(r.status, 401, r.body)
        r = self.hub.post("/api/v1/sync/enroll", {"hostname": "x"})
        self.assertEqual(r.status, 400, r.body)
        r = self.hub.request("POST", "/api/v1/sync/enroll", body=b"{nope",
                             headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r.body)
        # A closed (inactive) office takes no new node: a code made before
        # is refused, and no new code is made, by the API or the CLI.
        code = self.new_code()
        path = "/api/v1/admin/offices/demo-office"
        r = self.admin("PATCH", path, {"active": False})
        self.assertEqual(r.status, 200, r.body)
        try:
            r = self.hub.post("/api/v1/sync/enroll", {"code": code, "hostname": "pc"})
            self.assertEqual(r.status, 409, r.body)
            self.assertIn("closed", r.json()["error"])
            r = self.admin("POST", "/api/v1/enroll-codes", {"office_id": "demo-office"})
            self.assertEqual((r.status, r.json().get("field")), (409, "office_id"), r.body)
            p = hub_tool(self.hub, "enroll-code", "--office", "demo-office")
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"closed", p.stderr)
        finally:
            self.assertEqual(self.admin("PATCH", path, {"active": True}).status, 200)
        # open again, the same code enrolls (it was not spent)
        r = self.hub.post("/api/v1/sync/enroll", {"code": code, "hostname": "pc"})
        self.assertEqual(r.status, 200, r.body)

    def test_enroll_codes_listed_and_cancelled(self):
        """Operations lists the enrollment codes by an opaque id (never the
        code or its hash) and cancels a pending one before it expires
        (audited enroll_code.cancel): enrollment with it is then refused
        (410) as with an expired code.  An unknown id is 404, a code used or
        cancelled already 409; without the admin token 401.  The CLI lists
        (enroll-codes) and cancels (enroll-code --cancel ID) the same way."""
        self.assertEqual(self.hub.get("/api/v1/enroll-codes").status, 401)
        self.assertEqual(self.hub.post("/api/v1/enroll-codes/x/cancel", {}).status, 401)
        r = self.admin("POST", "/api/v1/enroll-codes", {"office_id": "demo-office"})
        self.assertEqual(r.status, 201, r.body)
        code, cid = r.json()["code"], r.json()["id"]
        plant_secret(code)
        used = self.new_code()
        node = self.enroll(used)
        r = self.admin("GET", "/api/v1/enroll-codes")
        self.assertEqual(r.status, 200, r.body)
        listed = {c["id"]: c for c in r.json()}
        self.assertEqual((listed[cid]["state"], listed[cid]["office_id"], listed[cid]["created_by"]),
                         ("pending", "demo-office", "admin-token"), listed[cid])
        for k in ("created_at", "expires_at", "used_at", "used_by_node", "cancelled_at",
                  "cancelled_by"):
            self.assertIn(k, listed[cid])
        self.assertGreater(listed[cid]["expires_at"], listed[cid]["created_at"])
        mine = [c for c in listed.values() if c["used_by_node"] == node.node_id]
        self.assertEqual([(c["state"], c["created_by"]) for c in mine], [("used", "cli")])
        self.assertNotIn("code_hash", r.body.decode())
        for (h,) in harness.rows(self.hub, "SELECT code_hash FROM enroll_codes"):
            self.assertNotIn(h, r.body.decode())
        for c in (code, used):
            self.assertNotIn(c.replace("-", "")[:16], r.body.decode().replace("-", ""))

        r = self.admin("POST", "/api/v1/enroll-codes/%s/cancel" % cid, {})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["id"], r.json()["state"]), (cid, "cancelled"))
        r = self.hub.post("/api/v1/sync/enroll", {"code": code, "hostname": "pc"})
        self.assertEqual(r.status, 410, r.body)
        self.assertIn("cancelled", r.json()["error"])
        self.assertIn("ask for a new one", r.json()["error"])
        self.assertEqual(harness.rows(self.hub, "SELECT used_at FROM enroll_codes WHERE id=?", cid),
                         [(None,)])
        r = self.admin("POST", "/api/v1/enroll-codes/%s/cancel" % cid, {})
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("already cancelled", r.json()["error"])
        r = self.admin("POST", "/api/v1/enroll-codes/%s/cancel" % mine[0]["id"], {})
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("already been used", r.json()["error"])
        r = self.admin("POST", "/api/v1/enroll-codes/no-such-code/cancel", {})
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("error", r.json())
        c = [x for x in self.admin("GET", "/api/v1/enroll-codes").json() if x["id"] == cid]
        self.assertEqual([(x["state"], x["cancelled_by"]) for x in c], [("cancelled", "admin-token")])
        ev = [(e["actor"], e["subject"], json.loads(e["detail"]))
              for e in self.admin("GET", "/api/v1/audit-events").json()
              if e["action"] == "enroll_code.cancel"]
        self.assertIn(("admin-token", "demo-office", {"id": cid}), ev)

        # the CLI: the id in its note, the list, the cancel
        p = hub_tool(self.hub, "enroll-code", "--office", "demo-office-2")
        self.assertEqual(p.returncode, 0, p.stderr)
        code2 = p.stdout.decode().strip()
        plant_secret(code2)
        cid2 = re.search(r"enroll-code --cancel (\S+)\)", p.stderr.decode()).group(1)
        p = hub_tool(self.hub, "enroll-codes")
        self.assertEqual(p.returncode, 0, p.stderr)
        line = [x for x in p.stdout.decode().splitlines() if x.startswith(cid2)]
        self.assertEqual(len(line), 1, p.stdout)
        self.assertIn("pending", line[0])
        self.assertIn("demo-office-2", line[0])
        p = hub_tool(self.hub, "enroll-codes", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([x["state"] for x in json.loads(p.stdout) if x["id"] == cid2], ["pending"])
        p = hub_tool(self.hub, "enroll-code", "--cancel", cid2)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"cancelled", p.stdout)
        p = hub_tool(self.hub, "enroll-code", "--cancel", cid2)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"already cancelled", p.stderr)
        p = hub_tool(self.hub, "enroll-code", "--cancel", "no-such-code")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"no enrollment code", p.stderr)
        p = hub_tool(self.hub, "enroll-code", "--cancel", cid2, "--office", "demo-office")
        self.assertEqual(p.returncode, 2)
        r = self.hub.post("/api/v1/sync/enroll", {"code": code2, "hostname": "pc"})
        self.assertEqual(r.status, 410, r.body)
        self.assertIn(("cli", "enroll_code.cancel", "demo-office-2"),
                      harness.rows(self.hub, "SELECT actor, action, subject FROM hub_audit_events"))

    # ---- signed requests -----------------------------------------------------
    def test_signed_requests(self):
        n = self.enroll()
        path = "/api/v1/sync/status"
        r = n.request("GET", path)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["node_id"], n.node_id)
        self.assertEqual(r.json()["acked_seq"], 0)
        self.assertTrue(r.header("X-Outpost-Time"))
        # Unsigned.
        r = self.hub.get(path)
        self.assertEqual(r.status, 401, r.body)
        # Bad signature: another secret.
        r = n.request("GET", path, secret="00" * 32)
        self.assertEqual(r.status, 401, r.body)
        self.assertTrue(r.header("X-Outpost-Time"))
        # Signature over another path.
        h = n.headers("GET", "/api/v1/sync/digest")
        r = self.hub.request("GET", path, headers=h)
        self.assertEqual(r.status, 401, r.body)
        # Unknown node.
        r = n.request("GET", path, node_id=str(uuid.uuid4()))
        self.assertEqual(r.status, 401, r.body)
        # Reused nonce.
        nonce = uuid.uuid4().hex
        self.assertEqual(n.request("GET", path, nonce=nonce).status, 200)
        r = n.request("GET", path, nonce=nonce)
        self.assertEqual(r.status, 409, r.body)
        # Stale and future time.
        r = n.request("GET", path, t=int(time.time() * 1000) - 20 * 60 * 1000)
        self.assertEqual(r.status, 401, r.body)
        r = n.request("GET", path, t=int(time.time() * 1000) + 20 * 60 * 1000)
        self.assertEqual(r.status, 401, r.body)
        # Conflicts in scope, signed.
        r = n.request("GET", "/api/v1/sync/conflicts")
        self.assertEqual(r.status, 200, r.body)
        self.assertIsInstance(r.json(), list)
        # Revoked (command line): refused from then on.
        p = hub_tool(self.hub, "revoke", n.node_id)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = n.request("GET", path)
        self.assertEqual(r.status, 401, r.body)

    # ---- push ------------------------------------------------------------------
    def test_push_apply_replay_gap(self):
        n = self.enroll()
        hlc, actor, cs, cid = self.node_changeset("Push Person", n)
        frame = build_frame([(1, hlc, actor, cs)], self.schema)
        r = n.push(frame)
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual(j["acked_seq"], 1)
        self.assertEqual(j["applied"], 1, j)
        self.assertEqual(j["quarantined"], [])
        self.assertTrue(r.header("X-Outpost-Time"))
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)
        self.assertEqual(self.hub_count("SELECT visitor_name = 'Push Person' FROM checkins "
                                        "WHERE id=?", cid), 1)
        self.assertEqual(self.hub_count("SELECT acked_seq FROM nodes WHERE id=?", n.node_id), 1)
        # Replayed with a fresh nonce: skipped, still one row.
        r = n.push(frame)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["acked_seq"], 1)
        self.assertEqual(r.json()["skipped"], 1)
        self.assertEqual(r.json()["applied"], 0)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)
        # A gap: seq 3 while 2 is expected.
        hlc2, actor2, cs2, cid2 = self.node_changeset("Gap Person", n)
        r = n.push(build_frame([(3, hlc2, actor2, cs2)], self.schema))
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual(r.json()["expected_seq"], 2)
        self.assertIn("error", r.json())
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid2), 0)
        # Old and new together: 1 skipped, 2 applied.
        r = n.push(build_frame([(1, hlc, actor, cs), (2, hlc2, actor2, cs2)], self.schema))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["skipped"], r.json()["applied"], r.json()["acked_seq"]),
                         (1, 1, 2))
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid2), 1)
        st = n.request("GET", "/api/v1/sync/status").json()
        self.assertEqual(st["acked_seq"], 2)
        self.assertGreaterEqual(st["head_seq"], 2)

    def test_push_corrupt_frames(self):
        n = self.enroll()
        hlc, actor, cs, cid = self.node_changeset("Corrupt Person", n)
        frame = build_frame([(1, hlc, actor, cs)], self.schema)
        for i in (len(frame) // 2, 5, len(frame) - 1):
            bad = bytearray(frame)
            bad[i] ^= 0x41
            r = n.push(bytes(bad))
            self.assertEqual(r.status, 400, r.body)
            self.assertIn("error", r.json())
        for bad in (frame[:-1], frame[: len(frame) // 2], b"OPB1", b"garbage" * 10,
                    frame + b"\0"):
            r = n.push(bad)
            self.assertEqual(r.status, 400, (len(bad), r.body))
        # A frame whose checksum is right but whose entry is cut short.
        body = b"OPB1" + struct.pack(">II", self.schema, 1) + struct.pack(">QH", 1, 40) + b"x"
        r = n.push(body + hashlib.sha256(body).digest())
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 0)
        self.assertEqual(self.hub_count("SELECT acked_seq FROM nodes WHERE id=?", n.node_id), 0)
        # The good frame still goes through afterwards.
        r = n.push(frame)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)

    def test_push_unknown_schema(self):
        n = self.enroll()
        hlc, actor, cs, cid = self.node_changeset("Schema Person", n)
        r = n.push(build_frame([(1, hlc, actor, cs)], self.schema + 7))
        self.assertEqual(r.status, 426, r.body)
        msg = r.json()["error"]
        self.assertIn(str(self.schema + 7), msg)
        self.assertIn(str(self.schema), msg)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 0)

    def test_pull_and_snapshot_need_the_hubs_schema(self):
        # Rows go down only to a node of the hub's own schema version.
        n = self.enroll()
        for path in ("/api/v1/sync/pull?after=0", "/api/v1/sync/snapshot"):
            h = n.headers("GET", path)
            self.assertEqual(n.hub.request("GET", path, headers=h).status, 200, path)
            for bad in (str(self.schema + 1), str(self.schema - 1), "x"):
                h = n.headers("GET", path)
                h["X-Outpost-Schema"] = bad
                r = n.hub.request("GET", path, headers=h)
                self.assertEqual(r.status, 426, (path, bad, r.body))
                self.assertIn(str(self.schema), r.json()["error"])
                self.assertEqual(r.json()["hub_schema_version"], self.schema)

    def test_a_refused_version_is_the_nodes_last_error(self):
        """A pull or snapshot refused for the node's schema version (426)
        is its Last error at the hub, as a refused push's is, naming the
        side to upgrade; the console's list gives the schema version and
        release the node last stated (its User-Agent) beside the hub's.  A
        page served at the hub's version clears the refusal."""
        n = self.enroll()

        def node_row():
            return [x for x in self.admin("GET", "/api/v1/nodes").json()
                    if x["id"] == n.node_id][0]

        def get(path, schema, ua="outpost-sync/9.8.7-test"):
            h = n.headers("GET", path)
            h["X-Outpost-Schema"] = str(schema)
            h["User-Agent"] = ua
            return n.hub.request("GET", path, headers=h)

        for path, what in (("/api/v1/sync/pull?after=0", "pull"),
                           ("/api/v1/sync/snapshot", "snapshot")):
            for bad, side in ((self.schema + 1, "hub"), (self.schema - 1, "node")):
                r = get(path, bad)
                self.assertEqual(r.status, 426, r.body)
                row = node_row()
                self.assertEqual(row["last_error"], r.json()["error"], row)
                self.assertIn("%s refused: schema version %d" % (what, bad), row["last_error"])
                self.assertIn("upgrade outpost on the " + side, row["last_error"])
                self.assertEqual((row["schema_version"], row["hub_schema_version"],
                                  row["release"]), (bad, self.schema, "9.8.7-test"), row)
            r = get(path, self.schema, ua="outpost-sync/1.2.3")
            self.assertEqual(r.status, 200, r.body)
            row = node_row()
            self.assertIsNone(row["last_error"], row)
            self.assertEqual((row["schema_version"], row["release"]), (self.schema, "1.2.3"))
        # a push's refusal names its side too, and a User-Agent that is not
        # a release leaves the one known
        hlc, actor, cs, cid = self.node_changeset("Version Person", n)
        r = n.push(build_frame([(1, hlc, actor, cs)], self.schema + 1))
        self.assertEqual(r.status, 426, r.body)
        self.assertIn("push refused: schema version %d" % (self.schema + 1),
                      node_row()["last_error"])
        self.assertIn("upgrade outpost on the hub", node_row()["last_error"])
        r = get("/api/v1/sync/pull?after=0", self.schema, ua="outpost-sync/<b>x</b>")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(node_row()["release"], "1.2.3")

    def test_push_hub_owned_table_quarantined(self):
        n = self.enroll()
        oid = "office-from-a-node"
        cs = changeset_insert("offices", [1, 0, 0, 0, 0, 0, 0, 0],
                              [oid, "demo-la", "Rogue office", None, "America/Los_Angeles", 1,
                               1, "0190a0000000.0000.x"])
        hlc2, actor2, cs2, cid2 = self.node_changeset("After Quarantine", n)
        r = n.push(build_frame([(1, "0190a0000000.0000.x", "", cs), (2, hlc2, actor2, cs2)],
                               self.schema))
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual(j["acked_seq"], 2)
        self.assertEqual(j["applied"], 1)
        self.assertEqual([q["seq"] for q in j["quarantined"]], [1])
        self.assertTrue(j["quarantined"][0]["reason"])
        self.assertEqual(self.hub_count("SELECT count(*) FROM offices WHERE id=?", oid), 0)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid2), 1)
        self.assertEqual(self.hub_count("SELECT count(*) FROM quarantine WHERE node_id=?",
                                        n.node_id), 1)
        st = n.request("GET", "/api/v1/sync/status").json()
        self.assertEqual([q["seq"] for q in st["quarantined"]], [1])
        q = self.admin("GET", "/api/v1/quarantine").json()
        self.assertIn(n.node_id, [x["node_id"] for x in q])
        nodes = self.admin("GET", "/api/v1/nodes").json()
        self.assertEqual([x["quarantined"] for x in nodes if x["id"] == n.node_id], [1])

    def test_push_large_batch(self):
        # More entries than one bounded transaction holds: all land, in order.
        n = self.enroll()
        now = int(time.time() * 1000)
        day = time.strftime("%Y-%m-%d")
        entries = []
        ids = []
        for i in range(1, 1201):
            cid = str(uuid.uuid4())
            ids.append(cid)
            hlc = "%012x.0000.%s" % (now, n.node_id)
            cs = changeset_insert(
                "checkins", [1] + [0] * 18,
                [cid, "demo-office", "demo-la", "Batch Visitor %d" % i, None, None, "en", None,
                 0, None, "waiting", now, None, None, None, day, None, None, hlc])
            entries.append((i, hlc, "", cs))
        r = n.push(build_frame(entries, self.schema))
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual(j["acked_seq"], 1200)
        self.assertEqual(j["applied"] + len(j["quarantined"]), 1200)
        self.assertEqual(j["applied"], 1200, j["quarantined"][:3])
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE visitor_name "
                                        "LIKE 'Batch Visitor %'"), 1200)

    def test_push_empty_frame(self):
        n = self.enroll()
        r = n.push(build_frame([], self.schema))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["acked_seq"], 0)

    # ---- import ------------------------------------------------------------------
    def test_import_bundle(self):
        n = self.enroll()
        hlc, actor, cs, cid = self.node_changeset("Import Person", n)
        frame = build_frame([(1, hlc, actor, cs)], self.schema)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "outbox.opx")
            # Tampered first: refused, nothing applied.
            bad = bytearray(build_bundle(n.node_id, n.secret, frame))
            bad[-40] ^= 1
            with open(path, "wb") as f:
                f.write(bytes(bad))
            p = hub_tool(self.hub, "import", path)
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 0)
            # Signed with another secret: refused (with --json, one object too).
            with open(path, "wb") as f:
                f.write(build_bundle(n.node_id, "11" * 32, frame))
            p = hub_tool(self.hub, "import", path)
            self.assertEqual(p.returncode, 1)
            self.assertIn(b"signature", p.stderr)
            p = hub_tool(self.hub, "import", path, "--json")
            self.assertEqual(p.returncode, 1)
            self.assertEqual((json.loads(p.stdout)["ok"], json.loads(p.stdout)["result"]),
                             (False, "bad signature"))
            # The real one.
            with open(path, "wb") as f:
                f.write(build_bundle(n.node_id, n.secret, frame))
            p = hub_tool(self.hub, "import", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual((j["ok"], j["applied"], j["acked_seq"]), (True, 1, 1))
            self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)
            # Imported twice: skipped; and the network push after it too.
            p = hub_tool(self.hub, "import", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["skipped"], 1)
            r = n.push(frame)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["skipped"], 1)
            self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid), 1)
            # Not a bundle at all.
            with open(path, "wb") as f:
                f.write(b"hello")
            p = hub_tool(self.hub, "import", path)
            self.assertEqual(p.returncode, 1)
            # No file there: with --json, one object too (a script reads
            # stdout).
            p = hub_tool(self.hub, "import", os.path.join(d, "nothing.opx"), "--json")
            self.assertEqual(p.returncode, 1)
            self.assertEqual((json.loads(p.stdout)["ok"], json.loads(p.stdout)["result"]),
                             (False, "unreadable"))
            self.assertIn(b"cannot open", p.stderr)
        # Every import, taken or refused, is in the hub's audit trail.
        got = [(r[0], json.loads(r[1])) for r in harness.rows(
            self.hub, "SELECT subject, detail FROM hub_audit_events WHERE action='bundle.import'"
                      " AND actor='cli' ORDER BY rowid")[-5:]]
        self.assertEqual([(s, d["result"], d.get("applied")) for s, d in got],
                         [(n.node_id, "bad signature", None), (n.node_id, "bad signature", None),
                          (n.node_id, "imported", 1), (n.node_id, "imported", 0),
                          (None, "not a bundle", None)], got)
        self.assertEqual(got[2][1]["file"], path)

    def test_import_quarantine_told_at_the_next_push(self):
        # An outbox that reached the hub by bundle: the office's next push
        # replays it, and is told of the entry the import quarantined as a
        # push would have been told (the node keeps the notice), not "skipped".
        n = self.enroll()
        cs = changeset_insert("offices", [1, 0, 0, 0, 0, 0, 0, 0],
                              ["office-by-bundle", "demo-la", "Rogue office", None,
                               "America/Los_Angeles", 1, 1, "0190a0000000.0000.x"])
        hlc2, actor2, cs2, cid2 = self.node_changeset("Bundle Visitor", n)
        frame = build_frame([(1, "0190a0000000.0000.x", "", cs), (2, hlc2, actor2, cs2)],
                            self.schema)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "outbox.opx")
            with open(path, "wb") as f:
                f.write(build_bundle(n.node_id, n.secret, frame))
            p = hub_tool(self.hub, "import", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            j = json.loads(p.stdout)
            self.assertEqual(j["applied"], 1, j)
        reason = harness.rows(self.hub, "SELECT reason FROM quarantine WHERE node_id=?", n.node_id)
        self.assertEqual(len(reason), 1)
        r = n.push(frame)
        self.assertEqual(r.status, 200, r.body)
        j = r.json()
        self.assertEqual((j["acked_seq"], j["applied"], j["skipped"]), (2, 0, 1), j)
        self.assertEqual([(q["seq"], q["reason"]) for q in j["quarantined"]],
                         [(1, reason[0][0])])
        # nothing was applied or held again
        self.assertEqual(self.hub_count("SELECT count(*) FROM quarantine WHERE node_id=?",
                                        n.node_id), 1)
        self.assertEqual(self.hub_count("SELECT count(*) FROM checkins WHERE id=?", cid2), 1)
        # once resolved at the hub, a replay of it is skipped like any other
        db = self.hub.db()
        try:
            db.execute("UPDATE quarantine SET resolved_at=1, resolution='discarded'"
                       " WHERE node_id=?", (n.node_id,))
            db.commit()
        finally:
            db.close()
        j = n.push(frame).json()
        self.assertEqual((j["skipped"], j["quarantined"]), (2, []), j)

    def test_import_quarantine_past_the_frame_told(self):
        # A bundle larger than one push frame: the office's next push sends
        # its first frame, the hub acknowledges the whole bundle and the
        # node moves on without sending the rest - so the hub's answer
        # tells it of an entry past the frame that the import held.
        n = self.enroll()
        entries = []
        for i in (1, 2):
            hlc, actor, cs, _ = self.node_changeset("Frame Visitor %d" % i, n)
            entries.append((i, hlc, actor, cs))
        # (stamped after the two, as the node stamps its entries in the
        # order it numbers them: an earlier stamp would make them look
        # like another database's, hub_sync.c ingest_seq_reused)
        ms, count, node = entries[1][1].split(".", 2)
        late = "%012x.%s.%s" % (int(ms, 16) + 1, count, node)
        rogue = changeset_insert("offices", [1, 0, 0, 0, 0, 0, 0, 0],
                                 ["office-past-frame", "demo-la", "Rogue office", None,
                                  "America/Los_Angeles", 1, 1, late])
        entries.append((3, late, "", rogue))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "outbox.opx")
            with open(path, "wb") as f:
                f.write(build_bundle(n.node_id, n.secret, build_frame(entries, self.schema)))
            p = hub_tool(self.hub, "import", path, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["applied"], 2, p.stdout)
        reason = harness.rows(self.hub, "SELECT reason FROM quarantine WHERE node_id=?", n.node_id)
        self.assertEqual(len(reason), 1)
        j = n.push(build_frame(entries[:1], self.schema)).json()
        self.assertEqual((j["acked_seq"], j["applied"], j["skipped"]), (3, 0, 1), j)
        self.assertEqual([(q["seq"], q["reason"]) for q in j["quarantined"]], [(3, reason[0][0])])

    # ---- admin API ---------------------------------------------------------------
    def test_admin_api(self):
        self.assertEqual(self.hub.get("/api/v1/nodes").status, 401)
        r = self.hub.request("GET", "/api/v1/nodes", headers={"Authorization": "Bearer " +
                                                              "0" * 64})
        self.assertEqual(r.status, 401)
        r = self.admin("GET", "/api/v1/offices")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("demo-office", [o["id"] for o in r.json()])
        r = self.admin("POST", "/api/v1/enroll-codes", {"office_id": "demo-office"})
        self.assertEqual(r.status, 201, r.body)
        code = r.json()["code"]
        plant_secret(code)
        self.assertRegex(code, CODE_RE)
        self.assertGreater(r.json()["expires_at"], time.time() * 1000 + 23 * 3600 * 1000)
        n = self.enroll(code)
        r = self.admin("POST", "/api/v1/enroll-codes", {"office_id": "nowhere"})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json().get("field"), "office_id")
        r = self.admin("GET", "/api/v1/nodes")
        self.assertEqual(r.status, 200, r.body)
        mine = [x for x in r.json() if x["id"] == n.node_id]
        self.assertEqual(len(mine), 1)
        for k in ("acked_seq", "head_seq", "last_seen_ms", "pull_lag", "office_id"):
            self.assertIn(k, mine[0])
        self.assertNotIn("secret_hex", mine[0])
        self.assertNotIn(n.secret, r.body.decode())
        for path in ("/api/v1/conflicts", "/api/v1/quarantine", "/api/v1/audit-events"):
            r = self.admin("GET", path)
            self.assertEqual(r.status, 200, (path, r.body))
            self.assertIsInstance(r.json(), list)
        r = self.admin("GET", "/api/v1/sync/status")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("head_seq", r.json())
        self.assertEqual(n.request("GET", "/api/v1/sync/status").status, 200)
        r = self.admin("POST", "/api/v1/nodes/%s/revoke" % n.node_id, {})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(n.request("GET", "/api/v1/sync/status").status, 401)
        r = self.admin("POST", "/api/v1/nodes/no-such-node/revoke", {})
        self.assertEqual(r.status, 404, r.body)
        actions = [a["action"] for a in self.admin("GET", "/api/v1/audit-events").json()]
        self.assertIn("node.revoke", actions)
        self.assertIn("enroll_code.create", actions)

    def test_root_page(self):
        r = self.hub.get("/")
        self.assertIn(r.status, (200, 404))
        self.assertTrue(r.header("X-Outpost-Time"))


class RevokeRaceTest(harness.HubAndNode):
    """A request whose signature the hub checked just before the node was
    revoked applies and serves nothing: its job checks the node again in the
    transaction it works in.  The test build holds every sync job of this
    hub back DELAY ms (OUTPOST_TEST_HOOKS_SYNC_JOB_DELAY_MS), and the node
    is revoked inside that window."""
    DELAY = 1500

    @classmethod
    def setUpClass(cls):
        cls.hub = Daemon("hub", env={"OUTPOST_TEST_HOOKS_SYNC_JOB_DELAY_MS": str(cls.DELAY)})
        cls.hub.start()
        cls.node = Daemon("node").start()
        harness.login(cls.node)
        cls.token = harness.admin_token(cls.hub)
        cls.schema = cls.hub.get("/healthz").json()["schema_version"]

    def revoked_meanwhile(self, n, send):
        """send() in a thread, n revoked once its job waits: send's answer."""
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", send()))
        t.start()
        time.sleep(self.DELAY / 1000 / 3)
        r = self.hub.request("POST", "/api/v1/nodes/%s/revoke" % n.node_id, body={},
                             headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(r.status, 200, r.body)
        t.join()
        return out["r"]

    def test_push_revoked_while_queued(self):
        n = enroll_identity(self, self.hub)
        cid, row = harness.checkin_change(self.node, "Revoked Meanwhile")
        hlc, cs = stamped_as(self.node, n, row["hlc"], bytes(row["changeset"]))
        frame = build_frame([(1, hlc, row["actor"], cs)], self.schema)
        r = self.revoked_meanwhile(n, lambda: n.push(frame))
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(r.json()["error"], "node revoked")
        db = self.hub.db()
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM checkins WHERE id=?",
                                        (cid,)).fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT acked_seq FROM nodes WHERE id=?",
                                        (n.node_id,)).fetchone()[0], 0)
        finally:
            db.close()

    def test_pull_and_snapshot_revoked_while_queued(self):
        for path in ("/api/v1/sync/pull?after=0", "/api/v1/sync/snapshot"):
            n = enroll_identity(self, self.hub)
            r = self.revoked_meanwhile(n, lambda: n.request("GET", path))
            self.assertEqual(r.status, 401, path)  # (not the page: it holds hashes)
            self.assertEqual(r.json()["error"], "node revoked", path)


if __name__ == "__main__":
    unittest.main()
