"""The trust boundary (DESIGN.md, issue 11): one office node reaches its own
office and nothing more.  Each attack of the security review is replayed
through the real daemons and must be refused with nothing applied, and
replication must still flow afterwards:

  * a second enrolled node, signing its own pushes, sets an MIS
    Administrator's password (admin accounts are hub-only: quarantined), sets
    a field account's password from the hash it holds (no proof of the
    current password: quarantined), and forges audit events for another node
    and another Local Area's staff member (quarantined);
  * a real password change at a node carries a valid proof: applied at the
    hub, and it ends the account's other sessions at the node and the hub.
"""
import contextlib
import datetime
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import harness
import test_hub as th
from harness import Daemon, change_proof, plant_secret, pw_verifier, run_tool
from test_accounts import PDF, Base, Console, designate
from test_sync_node import count, wait_for

BIN = harness.BIN


def node_hash(pw):
    salt = secrets.token_bytes(16)
    return "pbkdf2-sha256$600000$%s$%s" % (
        salt.hex(), hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 600000).hex())


@contextlib.contextmanager
def opened(daemon):
    """A connection to the daemon's database, committed and closed after use
    (an unclosed one would keep a read transaction open)."""
    c = daemon.db()
    try:
        with c:
            yield c
    finally:
        c.close()


def as_nobody(cmd):
    return subprocess.run(["su", "-s", "/bin/sh", "nobody", "-c", cmd], capture_output=True,
                          timeout=60)


def json_bytes(obj, field, raw):
    """obj as JSON bytes with field's value replaced by raw (already quoted)."""
    import json
    marker = "@@%s@@" % field
    o = dict(obj)
    o[field] = marker
    return json.dumps(o).encode().replace(('"%s"' % marker).encode(), raw)


class TrustTest(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.node = Daemon("node")
        code = cls.code()
        p = run_tool([os.path.join(BIN, "outpost-sync"), "enroll", "--hub", cls.hub.url,
                      "--code", code, "--data", cls.node.data])
        assert p.returncode == 0, p.stderr
        cls.node.start()
        harness.login(cls.node)
        cls.schema = cls.hub.get("/healthz").json()["schema_version"]
        # the attacker: a second node of the same office, with its own secret
        r = cls.hub.post("/api/v1/sync/enroll", {"code": cls.code(), "hostname": "evil-pc"})
        assert r.status == 200, r
        cls.evil = th.Enrolled(cls.hub, r.json())
        cls.seq = 0

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        super().tearDownClass()

    @classmethod
    def code(cls):
        p = run_tool([os.path.join(BIN, "outpost-hub"), "enroll-code", "--office", "demo-office",
                      "--data", cls.hub.data], name="hub")
        assert p.returncode == 0, p.stderr
        c = p.stdout.decode().strip()
        plant_secret(c)
        return c

    # ---- helpers -------------------------------------------------------------
    def push(self, *changes):
        """Push changesets signed as the attacker node; the reply's JSON."""
        hlc = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
        entries = []
        for c in changes:
            TrustTest.seq += 1
            entries.append((TrustTest.seq, hlc, None, c))
        r = self.evil.push(th.build_frame(entries, self.schema))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def push_named(self, cases):
        """Push (name, entry stamp, changeset) as one frame signed as the
        attacker node: {name: reason} of the entries quarantined."""
        entries, names = [], {}
        for k, hlc, cs in cases:
            TrustTest.seq += 1
            names[TrustTest.seq] = k
            entries.append((TrustTest.seq, hlc, None, cs))
        r = self.evil.push(th.build_frame(entries, self.schema))
        self.assertEqual(r.status, 200, r)
        return {names[q["seq"]]: q["reason"] for q in r.json()["quarantined"]}

    def change_at_office(self, username, current, new, timeout=60):
        """username signs in at the real node and sets its password new."""
        c = harness.client(self.node)
        harness.login(c, username, current)
        plant_secret(new)
        r = c.post("/api/v1/session/password", {"current_password": current, "new_password": new},
                   timeout=timeout)
        self.assertEqual(r.status, 200, r)

    def cred(self, sid):
        with opened(self.hub) as d:
            row = d.execute("SELECT password_hash, local_area_id FROM staff_credentials WHERE id=?",
                            (sid,)).fetchone()
        return row

    def cc_row(self, sid, new_hash, prev, proof=None, nv=None, node_id=None, la="demo-la"):
        cid = "cc-" + secrets.token_hex(6)
        return cid, th.changeset_insert("credential_changes", [1] + [0] * 9, [
            cid, sid, la, node_id or self.evil.node_id, new_hash, prev, "change",
            int(time.time() * 1000), proof, nv])

    def replication_flows(self, what):
        """A hub-side change still reaches the real node, and its writes the hub."""
        name = self.uniq("flow")
        st, _ = self.create(self.ops, name)
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff WHERE id=?", st["id"]) == 1,
                 timeout=60, what="staff %s at the node after %s" % (name, what))
        reasons = self.node.get("/api/v1/greeter/reasons").json()
        r = self.node.post("/api/v1/checkins", {"visitor_name": "After " + what, "language": "en",
                                                "reason_ids": [reasons[0]["id"]]})
        self.assertEqual(r.status, 201, r)
        cid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM checkins WHERE id=?", cid) == 1,
                 timeout=60, what="the node's check-in at the hub after %s" % what)

    # ---- 1. admin accounts are hub-only -----------------------------------------
    def test_admin_accounts_hub_only(self):
        st, temp = self.create(self.ops, self.uniq("adm"), group="View Access")
        sid = st["id"]
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff_credentials WHERE id=?",
                               sid) == 1, timeout=60, what="the field account's hash at the node")
        # it set its password at the office first: a credential change, with
        # the hash it then has, in the Local Area
        own = "Own." + secrets.token_hex(4) + "x9"
        self.change_at_office(st["username"], temp, own)
        wait_for(lambda: count(self.hub, "SELECT password_temp FROM staff_credentials WHERE id=?",
                               sid) == 0, timeout=60, what="the office's password change at the hub")
        temp = own
        r = designate(self.ops, sid, ["mis_admin"])
        self.assertEqual(r.status, 200, r)
        # its hash left the Local Area: the hub keeps it hub-only, the node drops it,
        # and every hash it set at an office with it
        self.assertEqual(self.cred(sid)[1], "*hub*")
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff_credentials WHERE id=?",
                               sid) == 0, timeout=60, what="the admin's hash gone from the node")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM credential_changes WHERE staff_id=?"
                               " AND local_area_id IS NOT '*hub*'", sid), 0)
        wait_for(lambda: count(self.node, "SELECT count(*) FROM credential_changes WHERE staff_id=?",
                               sid) == 0, timeout=60, what="the admin's office password changes gone")
        self.assertEqual(harness.login(harness.client(self.node), st["username"], temp,
                                       expect=401).status, 401)
        # the attack: a second node sets the admin's password with the hash it
        # once held (prev_hash_sha256 right, no proof) - quarantined
        cur = self.cred(sid)[0]
        evil_pw = "Evil.Pass42"
        new = node_hash(evil_pw)
        _, c = self.cc_row(sid, new, hashlib.sha256(cur.encode()).hexdigest())
        res = self.push(c)
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("administrative", str(res["quarantined"]))
        self.assertEqual(self.cred(sid)[0], cur)
        self.assertEqual(Console(self.hub).login(st["username"], evil_pw).status, 401)
        # the admin still signs in with the real password
        self.assertEqual(Console(self.hub).login(st["username"], temp).status, 200)
        # and no node row may name the admin account
        ev = th.changeset_insert("audit_events", [1] + [0] * 9, [
            "ae-" + secrets.token_hex(6), int(time.time() * 1000), "demo-office", "demo-la",
            self.evil.node_id, sid, "ssn_reveal", "participants", "p-1", None])
        res = self.push(ev)
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.replication_flows("the admin attack")

    def test_existing_role_holder_migrates(self):
        """A field account that held a role before the trust boundary: the
        role moves to a new hub-only account at the next start, the field
        account stays (and keeps working at the node); the requests it
        approved and no one carried out go back to 'submitted', as a demoted
        administrator's do."""
        st, _ = self.create(self.ops, self.uniq("old"), group="View Access")
        sid = st["id"]
        # and an administrator designated by an older hub, whose office
        # password change stayed in the Local Area
        was, _ = self.create(self.ops, self.uniq("was"), group="View Access")
        self.assertEqual(designate(self.ops, was["id"], ["mis_admin"]).status, 200)
        cid, _ = self.cc_row(was["id"], node_hash("Was.Pass42"), "0" * 64)
        open_rq, done_rq = str(uuid.uuid4()), str(uuid.uuid4())
        d = self.db()   # as an older hub left it
        try:
            with d:
                d.execute("UPDATE staff SET roles='mis_admin' WHERE id=?", (sid,))
                for rq, status in ((open_rq, "approved"), (done_rq, "fulfilled")):
                    d.execute("INSERT INTO access_requests(id, kind, staff_id, status, local_area_id,"
                              " requestor_name, created_by, created_at, decided_by, decided_at)"
                              " VALUES(?, 'reset', ?, ?, 'demo-la', 'Pat', 'someone', 1, ?, 2)",
                              (rq, was["id"], status, sid))
                d.execute("INSERT INTO credential_changes(id, staff_id, local_area_id, node_id,"
                          " password_hash, reason, changed_at) VALUES(?, ?, 'demo-la', ?, 'x', 'change', 1)",
                          (cid, was["id"], self.evil.node_id))
        finally:
            d.close()
        self.hub.stop()
        self.hub.start()
        self.assertEqual(count(self.hub, "SELECT local_area_id FROM credential_changes WHERE id=?", cid),
                         "*hub*")
        wait_for(lambda: count(self.hub, "SELECT coalesce(roles,'') FROM staff WHERE id=?", sid)
                 == "", timeout=30, what="the role gone from the field account")
        d = self.db()
        try:
            adm = d.execute("SELECT s.id, s.username, s.roles, c.local_area_id FROM admin_accounts a"
                            " JOIN staff s ON s.id=a.id JOIN staff_credentials c ON c.id=s.id"
                            " WHERE a.field_staff_id=?", (sid,)).fetchone()
        finally:
            d.close()
        self.assertIsNotNone(adm)
        self.assertEqual((adm[1], adm[2], adm[3]), (st["username"] + ".admin", "mis_admin", "*hub*"))
        self.assertEqual(self.cred(sid)[1], "demo-la")
        # its open approval is to be decided again; what it carried out stays
        self.assertEqual(harness.rows(self.hub, "SELECT id, status, decided_by FROM access_requests"
                                                " WHERE id IN (?, ?) ORDER BY status", open_rq, done_rq),
                         [(done_rq, "fulfilled", sid), (open_rq, "submitted", None)])
        ev = harness.rows(self.hub, "SELECT client, after FROM admin_audit WHERE action='request.reopen'"
                                    " AND subject_id=?", open_rq)
        self.assertEqual(len(ev), 1, ev)
        self.assertEqual((ev[0][0], json.loads(ev[0][1])["why"]),
                         ("hub", "its approver's roles moved to a hub-only administrative account"))
        # the console session for operations survives (different account)
        r = self.ops.login("operations", self.ops_pw)
        self.assertEqual(r.status, 200, r)

    # ---- 2. a password change needs a proof of the current password -------------
    def test_password_change_needs_proof(self):
        st, temp = self.create(self.ops, self.uniq("fld"))
        sid = st["id"]
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff_credentials WHERE id=?",
                               sid) == 1, timeout=60, what="the account's hash at the node")
        cur = self.cred(sid)[0]
        prev = hashlib.sha256(cur.encode()).hexdigest()
        new = node_hash("Evil.Pass42")
        # no proof, a proof made with a guess, a proof for other fields
        _, a = self.cc_row(sid, new, prev)
        wrong_v = pw_verifier("Guess.Pass1", cur)
        cid = "cc-" + secrets.token_hex(6)
        at = int(time.time() * 1000)
        proof, nv = change_proof(wrong_v, cid, sid, new, prev, "change", at, "1" * 64)
        b = th.changeset_insert("credential_changes", [1] + [0] * 9,
                                [cid, sid, "demo-la", self.evil.node_id, new, prev, "change", at,
                                 proof, nv])
        res = self.push(a, b)
        self.assertEqual(len(res["quarantined"]), 2, res)
        self.assertTrue(all("proof" in q["reason"] for q in res["quarantined"]), res)
        self.assertEqual(self.cred(sid)[0], cur)
        # a node_id of another node is refused even with a valid proof
        good_v = pw_verifier(temp, cur)
        cid = "cc-" + secrets.token_hex(6)
        proof, nv = change_proof(good_v, cid, sid, new, prev, "change", at,
                                 pw_verifier("Evil.Pass42", new))
        c = th.changeset_insert("credential_changes", [1] + [0] * 9,
                                [cid, sid, "demo-la", "some-other-node", new, prev, "change", at,
                                 proof, nv])
        res = self.push(c)
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertEqual(self.cred(sid)[0], cur)

        # The real thing: the user changes the temporary password at the node.
        # A second browser of the same user is signed in at the node too.
        mine = harness.client(self.node)
        other = harness.client(self.node)
        harness.login(mine, st["username"], temp)
        harness.login(other, st["username"], temp)
        pw = "Real.Pass" + secrets.token_hex(2) + "7"
        plant_secret(pw)
        r = mine.post("/api/v1/session/password", {"current_password": temp, "new_password": pw},
                      timeout=240)  # four PBKDF2 runs on a loaded machine
        self.assertEqual(r.status, 200, r)
        self.assertEqual(mine.get("/api/v1/session").json().get("signed_in"), True)
        self.assertNotEqual(other.get("/api/v1/session").json().get("signed_in"), True)
        wait_for(lambda: self.cred(sid)[0] != cur, timeout=60, what="the change applied at the hub")
        with opened(self.hub) as d:
            stat = d.execute("SELECT status FROM credential_change_status WHERE staff_id=?"
                             " ORDER BY decided_at DESC LIMIT 1", (sid,)).fetchone()[0]
            v = d.execute("SELECT verifier FROM staff_verifiers WHERE id=?", (sid,)).fetchone()[0]
        self.assertEqual(stat, "applied")
        # the hub now holds the new password's verifier, from the node's wrapped copy
        self.assertEqual(v, pw_verifier(pw, self.cred(sid)[0]))
        self.replication_flows("the password attacks")

    def test_account_without_verifier_changes_at_node(self):
        """An account whose password predates the hub's verifiers (as an older
        hub left it: a hash, no staff_verifiers row) changes its password at a
        connected node: the node has the hub take the verifier from the
        password typed there, and the change applies - no reset needed."""
        st, _ = self.create(self.ops, self.uniq("old"))
        sid = st["id"]
        pw1 = "Older.Pass" + secrets.token_hex(2) + "5"
        plant_secret(pw1)
        salt = secrets.token_bytes(16)   # fewer rounds than today's: only the test's time
        h1 = "pbkdf2-sha256$1000$%s$%s" % (
            salt.hex(), hashlib.pbkdf2_hmac("sha256", pw1.encode(), salt, 1000).hex())
        with opened(self.hub) as d:   # as an older hub left it
            d.execute("UPDATE staff_credentials SET password_hash=?, password_temp=0,"
                      " password_expires_at=NULL, updated_hlc=updated_hlc||'x' WHERE id=?",
                      (h1, sid))
            d.execute("DELETE FROM staff_verifiers WHERE id=?", (sid,))
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff_credentials WHERE id=? AND"
                                          " password_hash=?", sid, h1) == 1,
                 timeout=60, what="the older hash at the node")
        pw2 = "Newer.Pass" + secrets.token_hex(2) + "6"
        self.change_at_office(st["username"], pw1, pw2, timeout=240)
        wait_for(lambda: self.cred(sid)[0] != h1, timeout=60,
                 what="the change applied at the hub")
        with opened(self.hub) as d:
            self.assertEqual(d.execute("SELECT count(*) FROM quarantine WHERE tbl="
                                       "'credential_changes' AND node_id=?",
                                       (self.node_id_real(),)).fetchone()[0], 0)
            v = d.execute("SELECT verifier FROM staff_verifiers WHERE id=?", (sid,)).fetchone()[0]
            audit = d.execute("SELECT count(*) FROM admin_audit WHERE action="
                              "'verifier.established'").fetchone()[0]
        self.assertEqual(v, pw_verifier(pw2, self.cred(sid)[0]))
        self.assertGreaterEqual(audit, 1)
        # the password is in no log line
        self.assertNotIn(pw1, self.hub.read_log())
        self.assertNotIn(pw1, self.node.read_log())

    def test_reset_at_hub_ends_node_sessions(self):
        st, temp = self.create(self.ops, self.uniq("rst"))
        sid = st["id"]
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff_credentials WHERE id=?",
                               sid) == 1, timeout=60, what="the account's hash at the node")
        s = harness.client(self.node)
        harness.login(s, st["username"], temp)
        pw = "Node.Pass" + secrets.token_hex(2) + "8"
        plant_secret(pw)
        self.assertEqual(s.post("/api/v1/session/password",
                                {"current_password": temp, "new_password": pw},
                                timeout=240).status, 200)
        self.assertEqual(s.get("/api/v1/session").json().get("signed_in"), True)
        # a reset at the hub: the new hash reaches the node and ends the session
        rid = self.request(self.ops, {"kind": "reset", "staff_id": sid, "requestor_name": "Pat"})
        r = self.ops.post("/api/v1/admin/staff/%s/reset" % sid, {"request_id": rid})
        self.assertEqual(r.status, 200, r)
        plant_secret(r.json()["temporary_password"])
        wait_for(lambda: s.get("/api/v1/session").json().get("signed_in") is not True,
                 timeout=60, what="the node session ended by the reset")

    # ---- 3. rows checked against the pushing node -------------------------------
    def test_forged_audit_events(self):
        la = self.new_la()
        far, _ = self.create(self.ops, self.uniq("far"), la=la)
        now = int(time.time() * 1000)
        forged = [
            # "ssn_reveal by another user, client: node A", pushed by node B
            ["ae-" + secrets.token_hex(6), now, "demo-office", "demo-la", self.node_id_real(),
             "demo-staff", "ssn_reveal", "participants", "p-1", None],
            # a staff member of another Local Area
            ["ae-" + secrets.token_hex(6), now, "demo-office", "demo-la", self.evil.node_id,
             far["id"], "login", None, None, None],
            # another office
            ["ae-" + secrets.token_hex(6), now, la + "-office", la, self.evil.node_id,
             "demo-staff", "login", None, None, None],
        ]
        res = self.push(*[th.changeset_insert("audit_events", [1] + [0] * 9, f) for f in forged])
        self.assertEqual(len(res["quarantined"]), 3, res)
        with opened(self.hub) as d:
            for f in forged:
                self.assertEqual(d.execute("SELECT count(*) FROM audit_events WHERE id=?",
                                           (f[0],)).fetchone()[0], 0)
        # its own event, of its own office and staff, is taken - and shown as
        # reported by the node that sent it
        own = ["ae-" + secrets.token_hex(6), now, "demo-office", "demo-la", self.evil.node_id,
               "demo-staff", "login_offline", None, None, '{"offline":true}']
        res = self.push(th.changeset_insert("audit_events", [1] + [0] * 9, own))
        self.assertEqual(res["quarantined"], [], res)
        ev = [e for e in self.ops.get("/api/v1/admin/audit?source=node&action=login_offline").json()
              if e.get("id") == own[0] or e.get("client") == self.evil.node_id]
        self.assertTrue(ev, "the node's event in the audit trail")
        self.assertEqual(ev[0].get("reported_by"), self.evil.node_id)
        self.replication_flows("the forged events")

    def update_cs(self, table, row_id, changes):
        """One UPDATE changeset of `table` (column 0 its key): changes maps a
        column name to (old, new); other columns undefined."""
        with opened(self.hub) as d:
            cols = [r[1] for r in d.execute("PRAGMA table_info(%s)" % table)]

        def val(v):
            if v is None:
                return b"\x05"
            if isinstance(v, int):
                return b"\x01" + v.to_bytes(8, "big", signed=True)
            t = v.encode()
            return b"\x03" + th.varint(len(t)) + t
        oldrec, newrec = [val(row_id)] + [b"\x00"] * (len(cols) - 1), [b"\x00"] * len(cols)
        for c, (o, n) in changes.items():
            oldrec[cols.index(c)], newrec[cols.index(c)] = val(o), val(n)
        return (b"T" + th.varint(len(cols)) + bytes([1] + [0] * (len(cols) - 1)) +
                table.encode() + b"\0" + bytes([23, 0]) + b"".join(oldrec) + b"".join(newrec))

    def test_forged_update_naming_admin(self):
        """An update is checked like an insert: a node that sets a column of an
        existing row to an administrative account is quarantined; an older
        row that names an account made administrative since still takes its
        other edits."""
        # an account of a Local Area of its own (at most 3 MIS Administrators each)
        st, _ = self.create(self.ops, self.uniq("own"), la=self.new_la(), group="View Access")
        sid = st["id"]
        r = self.node.post("/api/v1/crm/employers", {"company_name": "Forge %s Co" % self.uniq("x"),
                                                     "zip": "95814", "city": "Sacramento"})
        self.assertEqual(r.status, 201, r)
        eid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM employers WHERE id=?", eid) == 1,
                 timeout=60, what="the lead at the hub")
        r = designate(self.ops, sid, ["mis_admin"])
        self.assertEqual(r.status, 200, r)
        with opened(self.hub) as d:
            owner, city = d.execute("SELECT lead_owner_id, city FROM employers WHERE id=?",
                                    (eid,)).fetchone()
        res = self.push(self.update_cs("employers", eid, {"lead_owner_id": (owner, sid)}))
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("administrative", str(res["quarantined"]))
        self.assertEqual(count(self.hub, "SELECT lead_owner_id FROM employers WHERE id=?", eid),
                         owner)
        # as if the lead had been given to that account before its role
        with opened(self.hub) as d:
            d.execute("UPDATE employers SET lead_owner_id=? WHERE id=?", (sid, eid))
        res = self.push(self.update_cs("employers", eid, {"city": (city, "Davis")}))
        self.assertEqual(res["quarantined"], [], res)
        self.assertEqual(count(self.hub, "SELECT city FROM employers WHERE id=?", eid), "Davis")
        self.replication_flows("the forged update")

    def test_row_moved_to_an_employer_the_hub_does_not_have(self):
        """A contact is made under a lead the hub has; a forged update that
        moves it to an employer id that exists nowhere is quarantined (the
        validator checks the rows inserted, the trust check the employer an
        update sets); moving it to another real lead is taken."""
        r = self.node.post("/api/v1/crm/employers", {
            "company_name": "Moved Contact %s Co" % self.uniq("m"), "zip": "95814",
            "city": "Sacramento", "contacts": [{"name": "Casey Moved", "kind": "primary"}]})
        self.assertEqual(r.status, 201, r)
        eid, cid = r.json()["id"], r.json()["contacts"][0]["id"]
        r = self.node.post("/api/v1/crm/employers", {
            "company_name": "Other Lead %s Co" % self.uniq("o"), "zip": "95814", "city": "Davis"})
        self.assertEqual(r.status, 201, r)
        other = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM employer_contacts WHERE id=?", cid) == 1
                 and count(self.hub, "SELECT count(*) FROM employers WHERE id=?", other) == 1,
                 timeout=60, what="the contact and the other lead at the hub")
        res = self.push(self.update_cs("employer_contacts", cid,
                                       {"employer_id": (eid, "0190a000-dead-7000-8000-000000000000")}))
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("employer_contacts: no such employer", str(res["quarantined"]))
        self.assertEqual(count(self.hub, "SELECT employer_id FROM employer_contacts WHERE id=?", cid),
                         eid)
        res = self.push(self.update_cs("employer_contacts", cid, {"employer_id": (eid, other)}))
        self.assertEqual(res["quarantined"], [], res)
        self.assertEqual(count(self.hub, "SELECT employer_id FROM employer_contacts WHERE id=?", cid),
                         other)

    def test_assigned_staff_of_the_participants_local_area(self):
        """A participant is assigned to staff of its own Local Area: the node
        refuses another Local Area's staff member (staff rows reach every
        node), and the hub quarantines a forged update that sets one; an
        edit of another column of a participant whose worker moved since is
        taken."""
        far, _ = self.create(self.ops, self.uniq("farcw"), la=self.new_la())
        near, _ = self.create(self.ops, self.uniq("nearcw"), la="demo-la")
        for sid in (far["id"], near["id"]):
            wait_for(lambda: count(self.node, "SELECT count(*) FROM staff WHERE id=?", sid) == 1,
                     timeout=60, what="staff %s at the node" % sid)
        body = {"first_name": "Assigned", "last_name": "Worker", "birth_date": "1981-03-04"}
        r = self.node.post("/api/v1/case/participants", dict(body, assigned_staff_id=far["id"]))
        self.assertEqual((r.status, r.json().get("field")), (400, "assigned_staff_id"), r)
        r = self.node.post("/api/v1/case/participants", dict(body, assigned_staff_id=near["id"]))
        self.assertEqual(r.status, 201, r)
        pid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM participants WHERE id=?", pid) == 1,
                 timeout=60, what="the participant at the hub")
        res = self.push(self.update_cs("participants", pid,
                                       {"assigned_staff_id": (near["id"], far["id"])}))
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("assigned_staff_id", str(res["quarantined"]))
        self.assertEqual(count(self.hub, "SELECT assigned_staff_id FROM participants WHERE id=?",
                               pid), near["id"])
        # the worker moved to another Local Area: the row's other edits go on
        with opened(self.hub) as d:
            d.execute("UPDATE staff SET local_area_id=?, office_id=NULL WHERE id=?",
                      (far["local_area_id"], near["id"]))
            d.execute("UPDATE staff_credentials SET local_area_id=? WHERE id=?",
                      (far["local_area_id"], near["id"]))
            phone = d.execute("SELECT phone FROM participants WHERE id=?", (pid,)).fetchone()[0]
        res = self.push(self.update_cs("participants", pid, {"phone": (phone, "916-555-0177")}))
        self.assertEqual(res["quarantined"], [], res)
        self.assertEqual(count(self.hub, "SELECT phone FROM participants WHERE id=?", pid),
                         "916-555-0177")
        self.replication_flows("the assigned staff check")

    def test_closure_date_not_taken_away(self):
        """A participant's closure_form_date is the closure form's: the hub
        quarantines a forged update that clears it while the form is there
        (the office's API refuses the same edit), and takes the row's other
        edits."""
        r = self.node.post("/api/v1/case/participants", {"first_name": "Closure", "last_name": "Kept",
                                                         "birth_date": "1979-05-06"})
        self.assertEqual(r.status, 201, r)
        pid = r.json()["id"]
        fields = {f["name"]: "N/A" for f in self.node.get("/api/v1/case/forms").json()["closure"]}
        today = self.node.get("/api/v1/case/meta").json()["today"]
        r = self.node.post("/api/v1/case/participants/%s/closure-form" % pid,
                           {"form_date": today, "fields": fields})
        self.assertEqual(r.status, 201, r)
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM participants WHERE id=? AND"
                                         " closure_form_date=?", pid, today) == 1,
                 timeout=60, what="the closure date at the hub")
        res = self.push(self.update_cs("participants", pid, {"closure_form_date": (today, None)}))
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("closure_form_date", str(res["quarantined"]))
        self.assertEqual(count(self.hub, "SELECT closure_form_date FROM participants WHERE id=?", pid),
                         today)
        res = self.push(self.update_cs("participants", pid, {"phone": (None, "916-555-0178")}))
        self.assertEqual(res["quarantined"], [], res)
        # A row an older release let lose its date still takes other edits.
        with opened(self.hub) as d:
            d.execute("UPDATE participants SET closure_form_date=NULL WHERE id=?", (pid,))
        res = self.push(self.update_cs("participants", pid,
                                       {"phone": ("916-555-0178", "916-555-0179")}))
        self.assertEqual(res["quarantined"], [], res)

    # ---- case work a hostile node writes -----------------------------------------
    def case_row(self, table, **row):
        """An INSERT changeset of a case-work row of this office, written as
        the node would (ids time-ordered, entered today)."""
        ms = int(time.time() * 1000)
        u = uuid.uuid4().hex
        base = dict(id="%08x-%04x-7%s-8%s-%s" % (ms >> 16, ms & 0xffff, u[:3], u[3:6], u[6:18]),
                    local_area_id="demo-la", office_id="demo-office", staff_id="demo-staff",
                    entered_date=datetime.date.today().isoformat(), entered_at=ms,
                    clock_skew_ms=0)
        with opened(self.hub) as d:
            cols = [r[1] for r in d.execute("PRAGMA table_info(%s)" % table)]
        base = {k: v for k, v in base.items() if k in cols}  # (an exit has no entered_*)
        self.assertEqual([c for c in row if c not in cols], [])
        base.update(row)
        return base, th.changeset_insert(table, [1] + [0] * (len(cols) - 1),
                                         [base.get(c) for c in cols])

    def note_of(self, act):
        """The activity case note of activity row act, as the office writes
        it with the activity (SLO 34-19: every activity needs one): its
        INSERT changeset, to push in the activity's entry."""
        return self.case_row("case_notes", participant_id=act["participant_id"], kind="activity",
                             activity_id=act["id"], subject="102 Initial Assessment",
                             contact_date=act["start_date"], body="Met.")[1]

    def participant_at_hub(self, last):
        """A participant registered at the office, once the hub has it: its id."""
        r = self.node.post("/api/v1/case/participants", {"first_name": "Hostile", "last_name": last,
                                                         "birth_date": "1980-02-03"})
        self.assertEqual(r.status, 201, r)
        pid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM participants WHERE id=?", pid) == 1,
                 timeout=60, what="the participant at the hub")
        return pid

    def test_case_rules_at_the_hub(self):
        """SLO 34-19's rules hold for what a node sends, not only at its API:
        a note 31-90 days back waits for its approval (a stand-alone note's
        own request, an activity note's activity's), a form is entered within
        30 days of its date, entered data changes only through a Help Request
        (an activity's correction, a note's amendment), and the registration
        date never moves.  The office's own entries are taken."""
        def day(n):
            return (datetime.date.today() - datetime.timedelta(days=n)).isoformat()
        pid, pid2 = (self.participant_at_hub(last) for last in ("Rules", "Exit"))
        with opened(self.hub) as d:   # as if registered long ago (and ten days ago)
            d.execute("UPDATE participants SET registered_date=? WHERE id=?", (day(200), pid))
            d.execute("UPDATE participants SET registered_date=? WHERE id=?", (day(10), pid2))
        # An activity comes with its activity case note, in the same write:
        # one without it is held with the reason; its note sent later
        # names no activity the hub has.
        alone, cs = self.case_row("participant_activities", participant_id=pid, code="102",
                                  code_list="activity", start_date=day(5), backdate_days=5, voided=0)
        res = self.push(cs)
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("participant_activities: an activity is entered with its activity case note",
                      res["quarantined"][0]["reason"])
        self.assertEqual(len(self.push(self.note_of(alone))["quarantined"]), 1)
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participant_activities WHERE id=?",
                               alone["id"]), 0)
        act, cs = self.case_row("participant_activities", participant_id=pid, code="102",
                                code_list="activity", start_date=day(5), backdate_days=5, voided=0)
        self.assertEqual(self.push(cs + self.note_of(act))["quarantined"], [])
        fields = {f["name"]: (f.get("choices") or ["N/A"])[0]
                  for f in self.node.get("/api/v1/case/forms").json()["closure"]}
        note, note_cs = self.case_row("case_notes", participant_id=pid, kind="standalone",
                                      subject="Progress", contact_date=day(2), body="Talked.")
        self.assertEqual(self.push(note_cs)["quarantined"], [])
        refused = {
            "note 60 days back": self.case_row(
                "case_notes", participant_id=pid, kind="standalone", subject="Progress",
                contact_date=day(60), body="Talked.")[1],
            "closure form 150 days back": self.case_row(
                "case_forms", participant_id=pid, kind="closure", form_date=day(150),
                fields=json.dumps(fields))[1],
            "correction without a Help Request": self.case_row(
                "participant_activities", participant_id=pid, code="102", code_list="activity",
                start_date=day(5), backdate_days=5, corrects_id=act["id"], voided=1)[1],
            "amendment without a Help Request": self.case_row(
                "case_notes", participant_id=pid, kind="standalone", subject="Rewritten",
                contact_date=day(2), body="Rewritten.", amends_id=note["id"])[1],
            "registration moved": self.update_cs(
                "participants", pid, {"registered_date": (day(200), "1990-01-01")}),
            "exit dated 400 days ahead": self.case_row(
                "participant_exits", participant_id=pid, exit_date=day(-400), kind="soft_exit",
                recorded_at=int(time.time() * 1000), recorded_by="demo-staff")[1],
            "exit 10 days after the registration": self.case_row(
                "participant_exits", participant_id=pid2, exit_date=day(0), kind="soft_exit",
                recorded_at=int(time.time() * 1000), recorded_by="demo-staff")[1],
        }
        for what, cs in refused.items():
            res = self.push(cs)
            self.assertEqual(len(res["quarantined"]), 1, (what, res))
        # An exit 90 days after the registration (no service since) is taken.
        _, cs = self.case_row("participant_exits", participant_id=pid, exit_date=day(110),
                              kind="soft_exit", recorded_at=int(time.time() * 1000),
                              recorded_by="demo-staff")
        self.assertEqual(self.push(cs)["quarantined"], [])
        # After it: no closure form dated past the exit; a follow-up names the
        # quarter its date falls in (day 5 is in the second after day 110).
        forms = self.node.get("/api/v1/case/forms").json()
        fu = json.dumps({f["name"]: (f.get("choices") or ["N/A"])[0] for f in forms["followup"]})
        for what, cs in (("closure after the exit", self.case_row(
                             "case_forms", participant_id=pid, kind="closure", form_date=day(5),
                             fields=json.dumps(fields))[1]),
                         ("follow-up of another quarter", self.case_row(
                             "case_forms", participant_id=pid, kind="followup", form_date=day(5),
                             quarter=1, fields=fu)[1])):
            res = self.push(cs)
            self.assertEqual(len(res["quarantined"]), 1, (what, res))
        _, cs = self.case_row("case_forms", participant_id=pid, kind="followup", form_date=day(5),
                              quarter=2, fields=fu)
        self.assertEqual(self.push(cs)["quarantined"], [])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participant_activities WHERE"
                                         " corrects_id=?", act["id"]), 0)
        self.assertEqual(count(self.hub, "SELECT registered_date FROM participants WHERE id=?", pid),
                         day(200))

    def test_a_case_exits_only_by_its_soft_exit(self):
        """A participant's exit state is its soft exit's (a participant_exits
        row, under the 90-day rules): an edit of the participant alone that
        exits the case, or one dated another day than its exit, is refused;
        the edit with its exit in the same entry (as the office's sweep
        writes it) is taken."""
        def day(n):
            return (datetime.date.today() - datetime.timedelta(days=n)).isoformat()
        pid = self.participant_at_hub("Exiting")
        with opened(self.hub) as d:
            d.execute("UPDATE participants SET registered_date=? WHERE id=?", (day(200), pid))

        def exit_row(date):
            return self.case_row("participant_exits", participant_id=pid, exit_date=date, kind="soft_exit",
                                 recorded_at=int(time.time() * 1000), recorded_by="demo-staff")[1]

        def exited(date):
            return self.update_cs("participants", pid, {"exit_state": ("active", "exited"),
                                                        "exit_date": (None, date)})
        for what, cs in (("exited by an edit alone", exited(day(0))),
                         ("exit dated another day than its exit", exited(day(0)) + exit_row(day(100)))):
            res = self.push(cs)
            self.assertEqual(len(res["quarantined"]), 1, (what, res))
            self.assertIn("soft exit", res["quarantined"][0]["reason"])
        self.assertEqual(harness.rows(self.hub, "SELECT exit_state, exit_date FROM participants WHERE id=?", pid),
                         [("active", None)])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participant_exits WHERE participant_id=?", pid), 0)
        # The sweep's entry: the edit and its exit (in the schema's order).
        res = self.push(exited(day(100)) + exit_row(day(100)))
        self.assertEqual(res["quarantined"], [], res)
        self.assertEqual(harness.rows(self.hub, "SELECT exit_state, exit_date FROM participants WHERE id=?", pid),
                         [("exited", day(100))])
        # Its date is the exit's: not moved by an edit.
        res = self.push(self.update_cs("participants", pid, {"exit_date": (day(100), day(20))}))
        self.assertEqual(len(res["quarantined"]), 1, res)

    def test_help_requests_and_corrections_at_the_hub(self):
        """A Help Request to change entered data is raised by a supervisor or
        manager of the Local Area, as the office's routes allow; and the
        correction it carries keeps the original's code and start date (a
        new code dated 250 days back under a request that says "a typo in
        the end date" would pass the backdating rules by)."""
        def day(n):
            return (datetime.date.today() - datetime.timedelta(days=n)).isoformat()
        pid = self.participant_at_hub("Corrected")
        with opened(self.hub) as d:
            d.execute("UPDATE participants SET registered_date=? WHERE id=?", (day(300), pid))
            supervisor = d.execute("SELECT id FROM staff WHERE username='jlee'").fetchone()[0]
        act, cs = self.case_row("participant_activities", participant_id=pid, code="102",
                                code_list="activity", start_date=day(5), backdate_days=5, voided=0)
        self.assertEqual(self.push(cs + self.note_of(act))["quarantined"], [])

        def correction(by, **changed):
            newid = self.case_row("participant_activities", participant_id=pid, code="102")[0]["id"]
            req, req_cs = self.case_row("case_approval_requests", participant_id=pid, kind="change",
                                        entry_table="participant_activities", entry_id=act["id"],
                                        entry_date=day(5), change_id=newid,
                                        change_summary="end date", reason="a typo in the end date",
                                        requested_by=by, requested_at=int(time.time() * 1000))
            row = dict(id=newid, participant_id=pid, code="102", code_list="activity", start_date=day(5),
                       end_date=day(1), backdate_days=5, voided=0, corrects_id=act["id"],
                       change_request_id=req["id"])
            row.update(changed)
            return req_cs, self.case_row("participant_activities", **row)[1]
        for what, by, changed, refused in (
                ("raised by a clerk", "demo-staff", {}, 0),
                ("raised by nobody the hub knows", "no-such-person", {}, 0),
                ("another code", supervisor, {"code": "002"}, 1),
                ("another start date", supervisor, {"start_date": day(250), "backdate_days": 0}, 1)):
            res = self.push(*correction(by, **changed))
            self.assertEqual([q["seq"] for q in res["quarantined"]][:1],
                             [TrustTest.seq - 1 + refused], (what, res))
        self.assertEqual(self.push(*correction(supervisor))["quarantined"], [])
        self.assertEqual(harness.rows(self.hub, "SELECT code, start_date FROM participant_activities"
                                                " WHERE participant_id=? ORDER BY id", pid),
                         [("102", day(5)), ("102", day(5))])

    def test_decisions_carry_their_approvers_proof(self):
        """An approver's decision an office sends is made at that office and
        signed with the approver's password (an HMAC under its verifier, in
        an audit event of the same write, which only a node the approver
        signed in at can make): a node cannot approve in the name of an
        approver of its Local Area, nor as the hub's console."""
        import hashlib
        import hmac

        def day(n):
            return (datetime.date.today() - datetime.timedelta(days=n)).isoformat()
        pid = self.participant_at_hub("Approved")
        now = int(time.time() * 1000)
        with opened(self.hub) as d:
            d.execute("UPDATE participants SET registered_date=? WHERE id=?", (day(200), pid))
            pm, stored = d.execute("SELECT s.id, c.password_hash FROM staff s JOIN staff_credentials c"
                                   " ON c.id = s.id WHERE s.username='jlee'").fetchone()
            d.execute("INSERT OR REPLACE INTO case_approver_roles(id, staff_id, local_area_id, role, active,"
                      " granted_by, granted_at, updated_hlc) VALUES(?,?,'demo-la','dss_program_manager',1,"
                      " 'ops',?,'')", (pm + ":dss_program_manager", pm, now))
        act_id = self.case_row("participant_activities", participant_id=pid)[0]["id"]
        req, req_cs = self.case_row("case_approval_requests", participant_id=pid, kind="backdate",
                                    entry_table="participant_activities", entry_id=act_id,
                                    entry_date=day(60), requested_by="demo-staff", requested_at=now)
        act, act_cs = self.case_row("participant_activities", id=act_id, participant_id=pid, code="102",
                                    code_list="activity", start_date=day(60), backdate_days=60, voided=0,
                                    approval_id=req["id"])
        self.assertEqual(self.push(req_cs + act_cs + self.note_of(act))["quarantined"], [])

        def decided(office="demo-office", proof="right", password=harness.DEMO_PASSWORD):
            row, cs = self.case_row("case_approval_decisions", request_id=req["id"], participant_id=pid,
                                    office_id=office, role="dss_program_manager", staff_id=pm,
                                    decision="approved", decided_date=day(0), decided_at=now)
            if proof is None:
                return cs
            msg = "outpost-case-decision\n%s\n%s\n%s\n%s\n%s\n%s\n%d" % (
                row["id"], req["id"], pm, "dss_program_manager", "approved", day(0), now)
            mac = hmac.new(bytes.fromhex(harness.pw_verifier(password, stored)), msg.encode(),
                           hashlib.sha256).hexdigest()
            _, ev = self.case_row("audit_events", at=now, node_id=self.evil.node_id, staff_id=pm,
                                  action="case_decision", subject_table="case_approval_decisions",
                                  subject_id=row["id"], detail=json.dumps({"proof": mac}))
            return ev + cs
        for what, cs in (("no proof", decided(proof=None)),
                         ("a proof under another password", decided(password="Not.The.Password1")),
                         ("made as the hub's console", decided(office="hub"))):
            res = self.push(cs)
            self.assertEqual(len(res["quarantined"]), 1, (what, res))
            self.assertIn("case_approval_decisions", res["quarantined"][0]["reason"], what)
        self.assertEqual(count(self.hub, "SELECT count(*) FROM case_approval_decisions WHERE request_id=?",
                               req["id"]), 0)
        # Nor by an approval recorded with typed-in names (the form before
        # approvals were requests), with its activity in the same write.
        bda, bda_cs = self.case_row("backdate_approvals", participant_id=pid, service_date=day(50),
                                    program_manager="Anyone", wdb_director="Anyone", edd_approver="Anyone",
                                    approved_date=day(0), recorded_by="demo-staff", recorded_at=now)
        _, act2_cs = self.case_row("participant_activities", participant_id=pid, code="102",
                                   code_list="activity", start_date=day(50), backdate_days=50, voided=0,
                                   approval_id=bda["id"])
        res = self.push(bda_cs + act2_cs)
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("backdate_approvals", res["quarantined"][0]["reason"])
        # Signed with the approver's password: taken.
        self.assertEqual(self.push(decided())["quarantined"], [])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM case_approval_decisions WHERE request_id=?",
                               req["id"]), 1)

    def test_crm_rules_at_the_hub(self):
        """The CRM's rules hold for what a node sends, not only at its API:
        vetting is WSB staff's (no "pending" that clears a lock, no
        converted_by cleared so the converter may vet, no vetting of a lead,
        no conversion without it, no way back to lead), a recruiting user
        name never gets the MKT prefix again, Closed is final, a service is
        not dated ahead, its correction replaces one of the same employer
        and brings no retired code, texts keep the node's lengths, a work
        item names a category there is.  And at the office: a locked
        employer is not marked a duplicate either."""
        c = self.node
        wsb = harness.client(self.node)
        harness.login(wsb, "t-wsb")
        with opened(self.hub) as d:
            wsbid = d.execute("SELECT id FROM staff WHERE username='t-wsb'").fetchone()[0]
        today = datetime.date.today().isoformat()

        def lead(who, name):
            r = who.post("/api/v1/crm/employers", {
                "company_name": "%s %s" % (name, self.uniq("c")), "zip": "95814", "street": "1 Main St",
                "city": "Sacramento", "phone": "(916) 555-0100", "industry": "4931",
                "confirm_not_duplicate": True, "contacts": [{"name": "Pat Primary", "kind": "primary"}]})
            self.assertEqual(r.status, 201, r)
            return r.json()["id"]

        def at_hub(table, rid, cond="1"):
            wait_for(lambda: count(self.hub, "SELECT count(*) FROM %s WHERE id=? AND %s" % (table, cond),
                                   rid) == 1, timeout=90, what="%s at the hub" % table)

        def refused(what, cs):
            res = self.push(cs)
            self.assertEqual(len(res["quarantined"]), 1, (what, res))

        def convert(who, eid):
            r = who.post("/api/v1/crm/employers/%s/convert" % eid, {"edd_account_number": "7654321"})
            self.assertEqual(r.status, 200, r)
            return r.json()

        locked = lead(c, "Locked Co")
        convert(c, locked)
        r = wsb.post("/api/v1/crm/employers/%s/vetting" % locked, {"result": "locked", "reason": "mismatch"})
        self.assertEqual(r.status, 200, r)
        other = lead(c, "Other Co")
        r = c.post("/api/v1/crm/employers/%s/duplicate-of" % locked, {"duplicate_of": other})
        self.assertEqual(r.status, 409, r)
        at_hub("employers", locked, "vetting_status='locked'")
        refused("unlock by pending", self.update_cs("employers", locked,
                                                    {"vetting_status": ("locked", "pending")}))
        own = lead(wsb, "Converter Co")
        convert(wsb, own)
        at_hub("employers", own, "vetting_status='pending'")
        refused("converter vets", self.update_cs("employers", own, {
            "vetting_status": ("pending", "approved"), "vetted_by": (None, wsbid),
            "converted_by": (wsbid, None)}))
        plain = lead(c, "Plain Co")
        at_hub("employers", plain)
        refused("conversion without vetting", self.update_cs("employers", plain, {
            "account_type": ("lead", "recruiting"), "edd_account_number": (None, "7654321")}))
        refused("a lead vetted", self.update_cs("employers", plain, {
            "vetting_status": (None, "approved"), "vetted_by": (None, wsbid)}))
        back = lead(c, "Back Co")
        un = convert(c, back)["username"]
        at_hub("employers", back, "account_type='recruiting'")
        refused("back to lead", self.update_cs("employers", back, {"account_type": ("recruiting", "lead")}))
        if not un.startswith("MKT"):
            refused("MKT prefix again", self.update_cs("employers", back, {"username": (un, "MKT" + un)}))
        # work items: a category there is; Closed is final, and a closed
        # item a record of work done (no field of it edited; a note and the
        # delete still go); a note on an item there is
        meta = c.get("/api/v1/crm/meta").json()
        cat = [x for x in meta["categories"] if x["name"] != "Job Order"][0]["id"]
        r = c.post("/api/v1/crm/work-items", {"category_id": cat, "description": "task", "employer_id": plain})
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        at_hub("work_items", wid)
        refused("unknown category", self.update_cs("work_items", wid, {"category_id": (cat, "no-such-cat")}))
        self.assertEqual(c.request("PATCH", "/api/v1/crm/work-items/" + wid, body={"status": "Closed"}).status, 200)
        at_hub("work_items", wid, "status='Closed'")
        self.push(self.update_cs("work_items", wid, {"status": ("Closed", "New")}))
        self.assertEqual(count(self.hub, "SELECT status FROM work_items WHERE id=?", wid), "Closed")
        for col, old, new in (("description", "task", "rewritten"), ("due_date", None, today),
                              ("employer_id", plain, None)):
            res = self.push(self.update_cs("work_items", wid, {col: (old, new)}))
            self.assertEqual([q["reason"] for q in res["quarantined"]],
                             ["domain rule: work_items: a closed work item is a record of work done:"
                              " its %s is not changed" % col], col)
        self.assertEqual(count(self.hub, "SELECT description FROM work_items WHERE id=?", wid), "task")
        self.assertEqual(self.push(self.update_cs("work_items", wid, {"deleted": (0, 1)}))["quarantined"], [])
        # services
        r = c.post("/api/v1/crm/employers/%s/services" % plain, {"services": [{"code": "E20", "start_date": today}]})
        self.assertEqual(r.status, 201, r)
        svc = r.json()["services"][0]["id"]
        r = c.post("/api/v1/crm/employers/%s/services" % other, {"services": [{"code": "E20", "start_date": today}]})
        theirs = r.json()["services"][0]["id"]
        at_hub("employer_services", svc)
        at_hub("employer_services", theirs)
        with opened(self.hub) as d:
            cols = [r[1] for r in d.execute("PRAGMA table_info(employer_services)")]
        now = int(time.time() * 1000)

        def service(**kw):
            row = dict(id=str(uuid.uuid4()), employer_id=plain, code="E20", start_date=today,
                       office_id="demo-office", voided=0, created_at=now)
            row.update(kw)
            return th.changeset_insert("employer_services", [1] + [0] * (len(cols) - 1),
                                       [row.get(k) for k in cols])
        refused("dated ahead", service(start_date="2099-01-01"))
        refused("projected end before start", service(projected_end_date="2000-01-01"))
        refused("notes past the length", service(notes="n" * 5000))
        refused("retired code as a correction", service(code="E74", corrects_id=svc))
        refused("correction of no service", service(corrects_id="no-such-service"))
        refused("another employer's service voided", service(corrects_id=theirs, voided=1))
        self.assertEqual(self.push(service())["quarantined"], [])

    def test_crm_rules_on_what_an_edit_sets(self):
        """Who may set a value is checked when it is set: a vetter who left
        the vetting group since, or an assignee taken out of the CRM work
        group, does not hold up the employer's or the work item's later
        edits at every office (they were quarantined: the office saw 200,
        the hub never had the edit).  A vetting result is recorded with its
        time (an entry turning a lock into an approval alone is refused);
        a conversion brings the 72-hour clock and needs an active primary
        contact at the hub; a recruiting employer's user name never takes
        another MKT name, at the office as at the hub."""
        c = self.node

        def lead(name, contacts=True):
            body = {"company_name": "%s %s" % (name, self.uniq("c")), "zip": "95814",
                    "street": "1 Main St", "city": "Sacramento", "phone": "(916) 555-0100",
                    "industry": "4931", "confirm_not_duplicate": True}
            if contacts:
                body["contacts"] = [{"name": "Pat Primary", "kind": "primary"}]
            r = c.post("/api/v1/crm/employers", body)
            self.assertEqual(r.status, 201, r)
            return r.json()["id"]

        def staff_id(username):
            with opened(self.hub) as d:
                return d.execute("SELECT id FROM staff WHERE username=?", (username,)).fetchone()[0]

        def change(sid, **kw):
            body = {"kind": "change", "staff_id": sid, "requestor_name": "Pat Manager"}
            body.update(kw)
            rq = self.request(self.ops, body)
            r = self.ops.post("/api/v1/admin/staff/%s/change" % sid, {"request_id": rq})
            self.assertEqual(r.status, 200, r)

        def at_hub(sql, *args, want=1):
            wait_for(lambda: count(self.hub, sql, *args) == want, timeout=90, what=sql)

        def vetted(vetter, name, result):
            # a lead converted at the office, then vetted by vetter; once the hub has it
            who = harness.client(self.node)
            harness.login(who, vetter)
            eid = lead(name)
            self.assertEqual(c.post("/api/v1/crm/employers/%s/convert" % eid,
                                    {"edd_account_number": "7654321"}).status, 200)
            self.assertEqual(who.post("/api/v1/crm/employers/%s/vetting" % eid,
                                      dict(result=result, reason="mismatch")).status, 200)
            at_hub("SELECT count(*) FROM employers WHERE id=? AND vetting_status=?", eid, result)
            return eid

        # a vetter who leaves the vetting group
        eid = vetted("t-wsb-supervisor", "Vetted Co", "approved")
        def edited_while(sid, column, value, path, body, table, rid, cond):
            # staff member sid's column set to value at the hub (put back
            # after): the office's edit of the row still reaches the hub
            with opened(self.hub) as d:
                was = d.execute("SELECT %s FROM staff WHERE id=?" % column, (sid,)).fetchone()[0]
            change(sid, **{column: value})
            try:
                r = c.request("PATCH", path, body=body)
                self.assertEqual(r.status, 200, r)
                at_hub("SELECT count(*) FROM %s WHERE id=? AND %s" % (table, cond), rid)
            finally:
                change(sid, **{column: bool(was) if column == "crm_work_group" else was})

        edited_while(staff_id("t-wsb-supervisor"), "privilege_group", "LWIA Partner Supervisor",
                     "/api/v1/crm/employers/" + eid, {"phone": "(916) 555-0199"}, "employers", eid,
                     "phone='(916) 555-0199'")
        # an assignee taken out of the work group
        cbo = staff_id("t-lwia-cbo")
        cat = [x for x in c.get("/api/v1/crm/meta").json()["categories"]
               if x["name"] != "Job Order"][0]["id"]
        r = c.post("/api/v1/crm/work-items", {"category_id": cat, "description": "call them",
                                              "assignee_id": cbo})
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        at_hub("SELECT count(*) FROM work_items WHERE id=?", wid)
        edited_while(cbo, "crm_work_group", False, "/api/v1/crm/work-items/" + wid,
                     {"status": "Closed"}, "work_items", wid, "status='Closed'")
        # a lock turned into an approval by an entry alone
        lk = vetted("t-wsb", "Locked Again Co", "locked")
        res = self.push(self.update_cs("employers", lk, {"vetting_status": ("locked", "approved")}))
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertEqual(count(self.hub, "SELECT vetting_status FROM employers WHERE id=?", lk), "locked")
        # a conversion without a primary contact, or with a clock of its own
        for contacts, due in ((False, 72), (True, 24 * 3650)):
            e = lead("Conversion Co", contacts=contacts)
            at_hub("SELECT count(*) FROM employers WHERE id=?", e)
            with opened(self.hub) as d:
                un = d.execute("SELECT username FROM employers WHERE id=?", (e,)).fetchone()[0]
            now = int(time.time() * 1000)
            res = self.push(self.update_cs("employers", e, {
                "account_type": ("lead", "recruiting"), "edd_account_number": (None, "7654321"),
                "vetting_status": (None, "pending"), "converted_by": (None, staff_id("demo")),
                "username": (un, un[3:]), "vetting_started_at": (None, now),
                "vetting_due_at": (None, now + due * 3600 * 1000), "converted_at": (None, now)}))
            self.assertEqual(len(res["quarantined"]), 1, (contacts, due, res))
            self.assertEqual(count(self.hub, "SELECT account_type FROM employers WHERE id=?", e), "lead")
        # user names: a typed MKT name at a conversion, another MKT name after it
        e = lead("Typed Co")
        r = c.post("/api/v1/crm/employers/%s/convert" % e, {"edd_account_number": "7654321",
                                                          "username": "MKTTYPED" + self.uniq("u")})
        self.assertEqual((r.status, r.json().get("field")), (409, "username"), r)
        r = c.post("/api/v1/crm/employers/%s/convert" % e, {"edd_account_number": "7654321"})
        self.assertEqual(r.status, 200, r)
        un = r.json()["username"]
        self.assertTrue(un.startswith("MKT"), un)
        r = c.request("PATCH", "/api/v1/crm/employers/" + e, body={"username": un + "X"})
        self.assertEqual((r.status, r.json().get("field")), (409, "username"), r)
        self.replication_flows("the CRM rules on what an edit sets")

    def test_crm_fields_at_the_hub(self):
        """An employer's, a contact's and a location's columns keep the
        formats the office's routes hold them to (one table of rules,
        model/crm.c) when a node pushes them: an email, phone, web address,
        industry, mailing ZIP and state, user name, text without control
        characters and within its length; a lead owner who is staff and a
        duplicate_of that is an employer.  An employer is made a lead (a
        recruiting employer is a converted lead): one inserted recruiting
        is refused, and created_as never changes.  The same rows within the
        rules are taken."""
        c = self.node
        r = c.post("/api/v1/crm/employers", {
            "company_name": "Fields Co %s" % self.uniq("f"), "zip": "95814", "street": "1 Main St",
            "city": "Sacramento", "phone": "(916) 555-0100", "industry": "4931",
            "confirm_not_duplicate": True, "contacts": [{"name": "Pat Primary", "kind": "primary"}]})
        self.assertEqual(r.status, 201, r)
        eid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM employer_contacts WHERE employer_id=?",
                               eid) == 1, timeout=90, what="the lead at the hub")
        with opened(self.hub) as d:
            ecols = [x[1] for x in d.execute("PRAGMA table_info(employers)")]
            emp = dict(zip(ecols, d.execute("SELECT * FROM employers WHERE id=?", (eid,)).fetchone()))
            ccols = [x[1] for x in d.execute("PRAGMA table_info(employer_contacts)")]
            con = dict(zip(ccols, d.execute("SELECT * FROM employer_contacts WHERE employer_id=?",
                                            (eid,)).fetchone()))
            lcols = [x[1] for x in d.execute("PRAGMA table_info(employer_locations)")]

        def emp_cs(col, new):
            return self.update_cs("employers", eid, {col: (emp[col], new)})

        cases = [
            ("email", emp_cs("email", "not-an-email")),
            ("phone", emp_cs("phone", "12")),
            ("website", emp_cs("website", "javascript:alert(1)")),
            ("industry", emp_cs("industry", "ABC")),
            ("mailing_zip", emp_cs("mailing_zip", "9581")),
            ("mailing_state", emp_cs("mailing_state", "california")),
            ("username", emp_cs("username", "MKT bad name")),
            ("street", emp_cs("street", "1 Main\x01St")),
            ("city", emp_cs("city", "C" * 81)),
            ("lead_owner_id", emp_cs("lead_owner_id", "no-such-staff")),
            ("duplicate_of", emp_cs("duplicate_of", "no-such-employer")),
            ("created_as", emp_cs("created_as", "recruiting")),
            ("contact phone", self.update_cs("employer_contacts", con["id"],
                                             {"phone": (con["phone"], "555")})),
            ("contact title", self.update_cs("employer_contacts", con["id"],
                                             {"title": (con["title"], "T" * 121)})),
        ]

        def location(**kw):
            row = dict(id=str(uuid.uuid4()), employer_id=eid, name="Branch", street="2 Side St",
                       city="Davis", state="CA", zip="95616", status="active",
                       created_by=emp["created_by"], created_at=int(time.time() * 1000),
                       updated_hlc=self.own_stamp())
            row.update(kw)
            return th.changeset_insert("employer_locations", [1] + [0] * (len(lcols) - 1),
                                       [row.get(k) for k in lcols])

        def employer(**kw):
            row = dict(emp, id=str(uuid.uuid4()), username="MKTFIELDS%04d" % (TrustTest.seq % 10000),
                       updated_hlc=self.own_stamp())
            row.update(kw)
            return th.changeset_insert("employers", [1] + [0] * (len(ecols) - 1),
                                       [row.get(k) for k in ecols])
        cases += [("location state", location(state="ca")),
                  ("location phone", location(phone="1")),
                  ("inserted recruiting", employer(account_type="recruiting", edd_account_number="7654321",
                                                   vetting_status="pending", username="FIELDS0001"))]
        got = self.push_named([(k, "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id), cs)
                               for k, cs in cases])
        self.assertEqual(set(got), {k for k, _ in cases}, got)
        for k in ("email", "phone", "website", "industry", "mailing_zip", "mailing_state", "username",
                  "lead_owner_id", "duplicate_of"):
            self.assertIn(k, got[k], got)
        self.assertIn("lead", got["inserted recruiting"], got)
        with opened(self.hub) as d:
            self.assertEqual(tuple(d.execute("SELECT email, phone, website, street, lead_owner_id, created_as"
                                             " FROM employers WHERE id=?", (eid,)).fetchone()),
                             (emp["email"], emp["phone"], emp["website"], emp["street"],
                              emp["lead_owner_id"], "lead"))
        # within the rules, the same kinds of rows are taken
        ok = [("email", emp_cs("email", "hr@example.com")),
              ("website", emp_cs("website", "www.example.com")),
              ("mailing", self.update_cs("employers", eid, {"mailing_state": (emp["mailing_state"], "NV"),
                                                           "mailing_zip": (emp["mailing_zip"], "89501")})),
              ("location", location()),
              ("lead", employer())]
        got = self.push_named([(k, "%012x.0000.%s" % (int(time.time() * 1000) + 1, self.evil.node_id), cs)
                               for k, cs in ok])
        self.assertEqual(got, {})
        self.assertEqual(count(self.hub, "SELECT email FROM employers WHERE id=?", eid), "hr@example.com")

    # ---- the CRM's rows against the node that sends them ------------------------
    def crm_lead(self, name):
        """A lead with a primary contact made at the real node, once the hub
        has it: its id."""
        r = self.node.post("/api/v1/crm/employers", {
            "company_name": "%s %s" % (name, self.uniq("c")), "zip": "95814", "street": "1 Main St",
            "city": "Sacramento", "phone": "(916) 555-0100", "industry": "4931",
            "confirm_not_duplicate": True, "contacts": [{"name": "Pat Primary", "kind": "primary"}]})
        self.assertEqual(r.status, 201, r)
        eid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM employer_contacts WHERE employer_id=?",
                               eid) == 1, timeout=90, what="the lead and its contact at the hub")
        return eid

    def crm_converted(self, name):
        """A lead converted at the real node (by demo), once the hub has the
        pending vetting: (its id, the conversion's reply)."""
        eid = self.crm_lead(name)
        r = self.node.post("/api/v1/crm/employers/%s/convert" % eid, {"edd_account_number": "7654321"})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM employers WHERE id=? AND"
                                         " vetting_status='pending'", eid) == 1,
                 timeout=90, what="the conversion at the hub")
        return eid, r.json()

    def crm_vet(self, eid):
        """WSB staff of the real node record employer eid's vetting as passed."""
        wsb = harness.client(self.node)
        harness.login(wsb, "t-wsb")
        r = wsb.post("/api/v1/crm/employers/%s/vetting" % eid, {"result": "approved"})
        self.assertEqual(r.status, 200, r)

    def foreign_staff(self, group):
        """A staff member of a Local Area of their own, in group: (id, Local Area)."""
        la = self.new_la()
        st, _ = self.create(self.ops, self.uniq("fx"), la=la, group=group)
        return st["id"], la

    def staff_named(self, username):
        with opened(self.hub) as d:
            return d.execute("SELECT id FROM staff WHERE username=?", (username,)).fetchone()[0]

    def conversion_cs(self, eid, **changes):
        """The update a conversion of lead eid makes (as the office's route
        writes it), with changes on top: column -> (old, new)."""
        with opened(self.hub) as d:
            un = d.execute("SELECT username FROM employers WHERE id=?", (eid,)).fetchone()[0]
        now = int(time.time() * 1000)
        cs = {"account_type": ("lead", "recruiting"), "edd_account_number": (None, "7654321"),
              "vetting_status": (None, "pending"), "converted_by": (None, self.staff_named("demo")),
              "username": (un, un[3:]), "vetting_started_at": (None, now),
              "vetting_due_at": (None, now + 72 * 3600 * 1000), "converted_at": (None, now)}
        cs.update(changes)
        return self.update_cs("employers", eid, cs)

    def test_vetting_by_staff_of_the_nodes_local_area(self):
        """A vetting result names a vetter of the sending node's Local Area:
        WSB staff of another Local Area hold the vetting privilege too, but
        never signed in at this office, so a node recording a result in
        their name is quarantined.  The office's own WSB staff's result is
        taken."""
        fid, _ = self.foreign_staff("EDD WSB Staff")
        eid, _ = self.crm_converted("Vetted Elsewhere Co")
        now = int(time.time() * 1000)

        def vetting(by):
            return self.update_cs("employers", eid, {"vetting_status": ("pending", "approved"),
                                                      "vetted_by": (None, by), "vetted_at": (None, now)})
        res = self.push(vetting(fid))
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("vetted_by is not staff of the sending node's Local Area", str(res["quarantined"]))
        self.assertEqual(count(self.hub, "SELECT vetting_status FROM employers WHERE id=?", eid), "pending")
        res = self.push(vetting(self.staff_named("t-wsb")))
        self.assertEqual(res["quarantined"], [], res)
        self.assertEqual(count(self.hub, "SELECT vetting_status FROM employers WHERE id=?", eid), "approved")

    def test_conversion_by_staff_of_the_nodes_local_area(self):
        """A conversion names its converter, staff of the sending node's
        Local Area: one in the name of another Local Area's staff, or with
        no converter (the converter may not vet: crm_vetter_check would have
        nobody to hold to), is quarantined and the lead stays a lead.  One
        by the office's own staff is taken."""
        fid, _ = self.foreign_staff("LWIA/CBO Staff")
        for what, by in (("foreign", fid), ("nobody", None)):
            eid = self.crm_lead("Converted Elsewhere Co")
            res = self.push(self.conversion_cs(eid, converted_by=(None, by)))
            self.assertEqual(len(res["quarantined"]), 1, (what, res))
            self.assertIn("converted_by", str(res["quarantined"]), what)
            self.assertEqual(count(self.hub, "SELECT account_type FROM employers WHERE id=?", eid), "lead")
        eid = self.crm_lead("Converted Here Co")
        res = self.push(self.conversion_cs(eid))
        self.assertEqual(res["quarantined"], [], res)
        self.assertEqual(count(self.hub, "SELECT account_type FROM employers WHERE id=?", eid), "recruiting")

    def test_vetting_clock_is_the_conversions(self):
        """The 72-hour vetting clock is set by the conversion and never
        moved after it (no office route writes it again): a later update of
        vetting_started_at, vetting_due_at or converted_at is quarantined,
        so an overdue vetting stays on the hub's overdue list.  A lead is
        not inserted with a clock either, and a conversion's converted_at is
        its vetting_started_at.  Other edits of the employer are taken."""
        eid, conv = self.crm_converted("Clock Co")
        due = conv["vetting_due_at"]
        start = due - 72 * 3600 * 1000
        far = due + 3650 * 24 * 3600 * 1000
        cases = [
            ("due", self.update_cs("employers", eid, {"vetting_due_at": (due, far)})),
            ("both", self.update_cs("employers", eid, {
                "vetting_due_at": (due, far), "vetting_started_at": (start, far - 72 * 3600 * 1000)})),
            ("converted_at", self.update_cs("employers", eid, {"converted_at": (start, far)})),
        ]
        got = self.push_named([(k, "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id), cs)
                               for k, cs in cases])
        self.assertEqual(set(got), {k for k, _ in cases}, got)
        for k in got:
            self.assertIn("vetting clock", got[k], got)
        self.assertEqual(count(self.hub, "SELECT vetting_due_at FROM employers WHERE id=?", eid), due)
        # a conversion whose converted_at is not its clock's start
        lead = self.crm_lead("Clock Start Co")
        res = self.push(self.conversion_cs(lead, converted_at=(None, 1600000000000)))
        self.assertEqual(len(res["quarantined"]), 1, res)
        # a lead inserted with a clock, for a conversion that keeps it
        with opened(self.hub) as d:
            ecols = [x[1] for x in d.execute("PRAGMA table_info(employers)")]
            emp = dict(zip(ecols, d.execute("SELECT * FROM employers WHERE id=?", (lead,)).fetchone()))
        row = dict(emp, id=str(uuid.uuid4()), username="MKTCLOCK%04d" % (TrustTest.seq % 10000),
                   vetting_started_at=start, vetting_due_at=far, updated_hlc=self.own_stamp())
        res = self.push(th.changeset_insert("employers", [1] + [0] * (len(ecols) - 1),
                                            [row.get(k) for k in ecols]))
        self.assertEqual(len(res["quarantined"]), 1, res)
        self.assertIn("conversion's", str(res["quarantined"]))
        res = self.push(self.update_cs("employers", eid, {"phone": ("(916) 555-0100", "(916) 555-0142")}))
        self.assertEqual(res["quarantined"], [], res)

    def test_attachment_authors_of_the_nodes_local_area(self):
        """An attachment's uploader and the staff member who withdraws one
        are its authors, as a note's staff_id is: a node uploading or
        withdrawing in the name of another Local Area's staff is
        quarantined; the same rows by its own staff are taken."""
        fid, la = self.foreign_staff("LWIA/CBO Staff")
        demo = self.staff_named("demo")
        eid = self.crm_lead("Attached Co")
        r = self.node.request("POST", "/api/v1/crm/employers/%s/attachments?filename=real.pdf" % eid,
                              body=PDF, headers={"Content-Type": "application/pdf"})
        self.assertEqual(r.status, 201, r)
        real = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM employer_attachments WHERE id=?",
                               real) == 1, timeout=90, what="the attachment at the hub")
        now = int(time.time() * 1000)

        def upload(by):
            return self.insert_cs("employer_attachments", id=str(uuid.uuid4()), employer_id=eid,
                                  filename="x.pdf", content_type="application/pdf", size=len(PDF),
                                  sha256=hashlib.sha256(PDF).hexdigest(), uploaded_by=by,
                                  office_id="demo-office", uploaded_at=now, data=PDF)

        def withdrawal(by):
            return self.insert_cs("employer_attachment_withdrawals", id=str(uuid.uuid4()),
                                  attachment_id=real, employer_id=eid, reason="not this one",
                                  withdrawn_by=by, office_id="demo-office", withdrawn_at=now)
        stamp = "%012x.0000.%s" % (now, self.evil.node_id)
        got = self.push_named([("upload", stamp, upload(fid)), ("withdrawal", stamp, withdrawal(fid))])
        self.assertEqual(set(got), {"upload", "withdrawal"}, got)
        self.assertIn("uploaded_by is not staff of the sending node's Local Area", got["upload"])
        self.assertIn("withdrawn_by is not staff of the sending node's Local Area", got["withdrawal"])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM employer_attachment_withdrawals"
                                         " WHERE attachment_id=?", real), 0)
        got = self.push_named([("upload", stamp, upload(demo)), ("withdrawal", stamp, withdrawal(demo))])
        self.assertEqual(got, {})
        self.assertEqual(count(self.hub, "SELECT count(*) FROM employer_attachments WHERE employer_id=?",
                               eid), 2)

    def own_stamp(self):
        """A time stamp of the attacker node's own (the hub takes no other)."""
        return "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)

    def hub_row(self, table, rid, **over):
        """Table's row rid as the hub holds it, stamped as the attacker's,
        with over on top, as an INSERT changeset (a whole-number REAL as an
        integer)."""
        with opened(self.hub) as d:
            cols = [x[1] for x in d.execute("PRAGMA table_info(%s)" % table)]
            row = dict(zip(cols, d.execute("SELECT * FROM %s WHERE id=?" % table, (rid,)).fetchone()))
        if "updated_hlc" in row:
            row["updated_hlc"] = self.own_stamp()
        row.update(over)
        vals = [int(v) if isinstance(v, float) and v.is_integer() else v for v in
                (row.get(k) for k in cols)]
        return th.changeset_insert(table, [1] + [0] * (len(cols) - 1), vals)

    def test_crm_rows_made_by_staff_of_the_nodes_local_area(self):
        """An employer, a work item and a job order are made by staff signed
        in at the sending node, so of its Local Area (created_by gives rights
        over a work item: crm_wi_may_work), and a work item is closed by
        one; a work item and a job order are of the node's office.  Rows
        naming another Local Area's staff or another office, made by nobody,
        or an update that changes who made a row, are quarantined; the same
        rows made by the office's own staff are taken.  (An employer's office
        is chosen in the lead form among its Local Area's open offices:
        test_employer_office_of_the_nodes_local_area.)"""
        fid, la = self.foreign_staff("LWIA/CBO Staff")
        demo = self.staff_named("demo")
        eid, _ = self.crm_converted("Made Here Co")
        self.crm_vet(eid)  # job orders wait for it (test_job_order_waits_for_vetting)
        cat = [x for x in self.node.get("/api/v1/crm/meta").json()["categories"]
               if x["name"] != "Job Order"][0]["id"]
        r = self.node.post("/api/v1/crm/work-items", {"category_id": cat, "description": "call them",
                                                      "employer_id": eid})
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        r = self.node.post("/api/v1/crm/employers/%s/job-orders" % eid,
                           {"title": "Cook", "openings": 2, "location": "Sacramento", "wage": 20})
        self.assertEqual(r.status, 201, r)
        jid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM work_items WHERE id=?", wid) == 1 and
                 count(self.hub, "SELECT count(*) FROM job_orders WHERE id=?", jid) == 1,
                 timeout=90, what="the work item and the job order at the hub")
        lead = self.crm_lead("Made Here Lead Co")
        now = int(time.time() * 1000)

        def new(table, rid, **over):
            over.setdefault("id", str(uuid.uuid4()))
            if table == "employers":
                over.setdefault("username", "MKTMADE%s" % secrets.token_hex(3).upper())
            return self.hub_row(table, rid, **over)
        other = la + "-office"
        cases = [
            ("employer by another area's staff", new("employers", lead, created_by=fid)),
            ("work item by another area's staff", new("work_items", wid, created_by=fid)),
            ("work item of another office", new("work_items", wid, office_id=other)),
            ("work item made by nobody", new("work_items", wid, created_by=None)),
            ("job order by another area's staff", new("job_orders", jid, created_by=fid)),
            ("job order of another office", new("job_orders", jid, office_id=other)),
            ("work item's maker changed", self.update_cs("work_items", wid, {"created_by": (demo, fid)})),
            ("closed by another area's staff", self.update_cs("work_items", wid, {
                "status": ("New", "Closed"), "closed_by": (None, fid), "closed_at": (None, now)})),
        ]
        stamp = "%012x.0000.%s" % (now, self.evil.node_id)
        got = self.push_named([(k, stamp, cs) for k, cs in cases])
        self.assertEqual(set(got), {k for k, _ in cases}, got)
        for k in got:
            self.assertTrue("Local Area" in got[k] or "office" in got[k] or "created_by" in got[k], got)
        self.assertEqual(count(self.hub, "SELECT status || created_by FROM work_items WHERE id=?", wid),
                         "New" + demo)
        # the same by the office's own staff
        ok = [("employer", new("employers", lead)), ("work item", new("work_items", wid)),
              ("job order", new("job_orders", jid)),
              ("closed", self.update_cs("work_items", wid, {
                  "status": ("New", "Closed"), "closed_by": (None, demo), "closed_at": (None, now)}))]
        self.assertEqual(self.push_named([(k, stamp, cs) for k, cs in ok]), {})
        self.assertEqual(count(self.hub, "SELECT status FROM work_items WHERE id=?", wid), "Closed")

    def test_job_order_waits_for_vetting(self):
        """A converted employer is provided access once WSB staff have vetted
        it (WSIN15-21): the office refuses a job order while its vetting is
        pending (409, naming the vetting), and the hub quarantines a job
        order a node pushes for an employer it holds pending, with the
        reason.  (A vetted employer's are taken:
        test_crm_rows_made_by_staff_of_the_nodes_local_area.)"""
        job = {"title": "Cook", "openings": 2, "location": "Sacramento", "wage": 20}
        eid, _ = self.crm_converted("Waits For Vetting Co")
        r = self.node.post("/api/v1/crm/employers/%s/job-orders" % eid, job)
        self.assertEqual(r.status, 409, r)
        self.assertIn("vetted", r.json()["error"])
        # A job order of a vetted employer, as the node sends it, moved onto
        # the pending one.
        vetted, _ = self.crm_converted("Vetted Jobs Co")
        self.crm_vet(vetted)
        r = self.node.post("/api/v1/crm/employers/%s/job-orders" % vetted, job)
        self.assertEqual(r.status, 201, r)
        jid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM job_orders WHERE id=?", jid) == 1,
                 timeout=90, what="the job order at the hub")
        row = self.hub_row("job_orders", jid, id=str(uuid.uuid4()), employer_id=eid)
        stamp = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
        got = self.push_named([("pending", stamp, row)])
        self.assertEqual(list(got), ["pending"], got)
        self.assertIn("job_orders: job orders are posted once WSB staff have vetted the employer",
                      got["pending"])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM job_orders WHERE employer_id=?", eid), 0)

    def test_recruiting_work_waits_for_vetting(self):
        """What else presupposes the access a converted employer is given
        once vetted (WSIN15-21): a recruiting-only service (E24), a "Job
        Order" work item and a referral to one of its job orders.  The
        office refuses each while the vetting is pending (409, naming it);
        the hub quarantines each such new row a node pushes for an employer
        it holds pending (a vetted employer's rows moved onto it; the
        referral to a job order the employer had before the rule), with the
        reason, and takes the same rows for the vetted employer.  So is an
        update that makes a work item a Job Order item of the pending
        employer (re-categorised, or the vetted employer's re-linked);
        another edit of one it had before the rule is taken."""
        eid, _ = self.crm_converted("Waits For Its Vetting Co")
        vetted, _ = self.crm_converted("Vetted Work Co")
        self.crm_vet(vetted)
        today = self.node.get("/api/v1/crm/meta").json()["today"]
        svc = {"services": [{"code": "E24", "start_date": today}]}
        item = {"category_id": "crm-cat-job-order", "description": "take their job order"}
        for path, body, field in (("/api/v1/crm/employers/%s/services" % eid, svc, "services[0].code"),
                                  ("/api/v1/crm/work-items", dict(item, employer_id=eid), "category_id")):
            r = self.node.post(path, body)
            self.assertEqual(r.status, 409, r)
            self.assertEqual(r.json()["field"], field)
            self.assertIn("vetting is pending", r.json()["error"])
        # The vetted employer's, made at the real node and at the hub.
        r = self.node.post("/api/v1/crm/employers/%s/services" % vetted, svc)
        self.assertEqual(r.status, 201, r)
        sid = r.json()["services"][0]["id"]
        r = self.node.post("/api/v1/crm/work-items", dict(item, employer_id=vetted))
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        r = self.node.post("/api/v1/crm/employers/%s/job-orders" % vetted,
                           {"title": "Cook", "openings": 2, "location": "Sacramento", "wage": 20})
        self.assertEqual(r.status, 201, r)
        jid = r.json()["id"]
        r = self.node.post("/api/v1/case/participants", {"first_name": "Vera", "last_name": "Vetted",
                                                         "birth_date": "1988-02-03"})
        self.assertEqual(r.status, 201, r)
        pid = r.json()["id"]
        r = self.node.post("/api/v1/case/participants/%s/referrals" % pid, {"job_order_id": jid})
        self.assertEqual(r.status, 201, r)
        rid = r.json()[0]["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM employer_services WHERE id=?", sid) == 1 and
                 count(self.hub, "SELECT count(*) FROM work_items WHERE id=?", wid) == 1 and
                 count(self.hub, "SELECT count(*) FROM job_referrals WHERE id=?", rid) == 1,
                 timeout=90, what="the service, work item and referral at the hub")
        # A job order the pending employer had before the rule.
        legacy = str(uuid.uuid4())
        with opened(self.hub) as d:
            d.execute("INSERT INTO job_orders(id, employer_id, title, openings, location, wage,"
                      " open_date, created_by, office_id, created_at, updated_hlc)"
                      " SELECT ?, ?, 'Legacy', openings, location, wage, open_date, created_by,"
                      " office_id, created_at, updated_hlc FROM job_orders WHERE id=?",
                      (legacy, eid, jid))
        stamp = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
        moved = [("service", self.hub_row("employer_services", sid, id=str(uuid.uuid4()), employer_id=eid)),
                 ("work item", self.hub_row("work_items", wid, id=str(uuid.uuid4()), employer_id=eid)),
                 ("referral", self.hub_row("job_referrals", rid, id=str(uuid.uuid4()), employer_id=eid,
                                           job_order_id=legacy))]
        got = self.push_named([(k, stamp, cs) for k, cs in moved])
        self.assertEqual(set(got), {"service", "work item", "referral"}, got)
        self.assertIn("employer_services: E24: job listings, job and resume referrals and candidate"
                      " pre-screens are recorded once WSB staff have vetted the employer", got["service"])
        self.assertIn("work_items: a Job Order work item is made once WSB staff have vetted",
                      got["work item"])
        self.assertIn("job_referrals: participants are referred to its job orders once WSB staff"
                      " have vetted", got["referral"])
        for t in ("employer_services", "work_items", "job_referrals"):
            self.assertEqual(count(self.hub, "SELECT count(*) FROM %s WHERE employer_id=?" % t, eid), 0, t)
        # The same for the vetted employer: taken.
        ok = [("service", self.hub_row("employer_services", sid, id=str(uuid.uuid4()))),
              ("work item", self.hub_row("work_items", wid, id=str(uuid.uuid4())))]
        self.assertEqual(self.push_named([(k, stamp, cs) for k, cs in ok]), {})
        # Updates: an item made a Job Order item of the pending employer.
        r = self.node.post("/api/v1/crm/work-items", dict(item, employer_id=eid,
                                                          category_id="crm-cat-outreach"))
        self.assertEqual(r.status, 201, r)
        oid = r.json()["id"]
        older = str(uuid.uuid4())  # a Job Order item it had before the rule
        with opened(self.hub) as d:
            cols = [x[1] for x in d.execute("PRAGMA table_info(work_items)")]
            d.execute("INSERT INTO work_items(%s) SELECT %s FROM work_items WHERE id=:wid" % (
                ", ".join(cols), ", ".join({"id": ":id", "employer_id": ":eid"}.get(c, c) for c in cols)),
                {"id": older, "eid": eid, "wid": wid})
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM work_items WHERE id=?", oid) == 1,
                 timeout=90, what="the Outreach item at the hub")
        stamp = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
        got = self.push_named([
            ("re-categorised", stamp, self.update_cs("work_items", oid, {
                "category_id": ("crm-cat-outreach", "crm-cat-job-order")})),
            ("re-linked", stamp, self.update_cs("work_items", wid, {"employer_id": (vetted, eid)})),
            ("older, re-described", stamp, self.update_cs("work_items", older, {
                "description": ("take their job order", "take it next week")}))])
        self.assertEqual(set(got), {"re-categorised", "re-linked"}, got)
        for k in got:
            self.assertIn("work_items: a Job Order work item is made once WSB staff have vetted", got[k])
        self.assertEqual(count(self.hub, "SELECT category_id FROM work_items WHERE id=?", oid),
                         "crm-cat-outreach")
        self.assertEqual(count(self.hub, "SELECT employer_id FROM work_items WHERE id=?", wid), vetted)
        self.assertEqual(count(self.hub, "SELECT description FROM work_items WHERE id=?", older),
                         "take it next week")

    def test_employer_office_of_the_nodes_local_area(self):
        """An employer's office is the lead form's choice among the open
        offices of the node's Local Area (its maker is of that area): the
        node's meta offers only those, and its API refuses another Local
        Area's office, a closed one and an unknown one (400 office_id); the
        hub quarantines an employer pushed naming another area's office, an
        unknown one, none, or another Local Area, or an update moving one
        there, and takes one naming the node's office or the other office of
        its area, closed or open (a lead made offline before an office closed
        is honest work).  (Any office was taken at both ends.)  demo-office-2
        is closed for the test and opened again."""
        la = self.new_la()
        other = la + "-office"
        lead = self.crm_lead("Office Check Co")

        def office_at_node(oid, active):
            return count(self.node, "SELECT count(*) FROM offices WHERE id=? AND active=?",
                         oid, active) == 1

        def new(**over):
            over.setdefault("id", str(uuid.uuid4()))
            over.setdefault("username", "MKTOFF%s" % secrets.token_hex(3).upper())
            return self.hub_row("employers", lead, **over)
        r = self.ops.request("PATCH", "/api/v1/admin/offices/demo-office-2", {"active": False})
        self.assertEqual(r.status, 200, r)
        try:
            wait_for(lambda: office_at_node(other, 1) and office_at_node("demo-office-2", 0),
                     timeout=90, what="the offices at the node")
            offices = self.node.get("/api/v1/crm/meta").json()["offices"]
            self.assertEqual({o["id"] for o in offices}, {"demo-office"}, offices)
            for office in (other, "demo-office-2", "nowhere"):
                r = self.node.post("/api/v1/crm/employers", {
                    "company_name": "Elsewhere %s" % self.uniq("c"), "zip": "95814",
                    "street": "1 Main St", "city": "Sacramento", "phone": "(916) 555-0100",
                    "industry": "4931", "office_id": office, "confirm_not_duplicate": True})
                self.assertEqual((r.status, r.json().get("field")), (400, "office_id"), (office, r))
            cases = [
                ("another area's office", new(office_id=other, local_area_id=la)),
                ("another area's office, this area", new(office_id=other)),
                ("an unknown office", new(office_id="nowhere")),
                ("no office", new(office_id=None)),
                ("another area", new(local_area_id=la)),
                ("moved to another area's office",
                 self.update_cs("employers", lead, {"office_id": ("demo-office", other)})),
                # (where a lead was entered never changes: no office route
                # moves one, and such an update could take another area's)
                ("moved to the area's other office",
                 self.update_cs("employers", lead, {"office_id": ("demo-office", "demo-office-2")})),
                ("moved to another area",
                 self.update_cs("employers", lead, {"local_area_id": ("demo-la", la)})),
            ]
            stamp = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
            got = self.push_named([(k, stamp, cs) for k, cs in cases])
            self.assertEqual(set(got), {k for k, _ in cases}, got)
            for k in got:
                self.assertIn("employers: ", got[k])
            closed = [("the area's office, closed", new(office_id="demo-office-2"))]
            stamp = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
            self.assertEqual(self.push_named([(k, stamp, cs) for k, cs in closed]), {})
        finally:
            r = self.ops.request("PATCH", "/api/v1/admin/offices/demo-office-2", {"active": True})
            self.assertEqual(r.status, 200, r)
        self.assertEqual(count(self.hub, "SELECT office_id FROM employers WHERE id=?", lead),
                         "demo-office")
        ok = [("the area's other office", new(office_id="demo-office-2")),
              ("the node's office", new())]
        stamp = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
        self.assertEqual(self.push_named([(k, stamp, cs) for k, cs in ok]), {})
        wait_for(lambda: office_at_node("demo-office-2", 1), timeout=90,
                 what="demo-office-2 open again at the node")

    def test_work_item_lists_retired_meanwhile_taken(self):
        """A work item's category and priority are ones the lists hold: an
        insert or an update naming one retired at the hub is taken (an
        office offline when it was retired still offers it, and its work is
        honest), one naming an id the lists never held is quarantined."""
        tag = self.uniq("r")
        r = self.ops.post("/api/v1/admin/work-item-categories", {"name": "Retired " + tag})
        self.assertEqual(r.status, 201, r)
        rcat = r.json()["id"]
        r = self.ops.post("/api/v1/admin/work-item-priorities", {"name": "Retired " + tag})
        self.assertEqual(r.status, 201, r)
        rpri = r.json()["id"]
        for path in ("/api/v1/admin/work-item-categories/" + rcat,
                     "/api/v1/admin/work-item-priorities/" + rpri):
            r = self.ops.request("PATCH", path, {"active": False})
            self.assertEqual(r.status, 200, r)
        cat = [x for x in self.node.get("/api/v1/crm/meta").json()["categories"]
               if x["name"] != "Job Order"][0]["id"]
        wids = []
        for i in range(2):
            r = self.node.post("/api/v1/crm/work-items", {"category_id": cat, "description": "task %d" % i})
            self.assertEqual(r.status, 201, r)
            wids.append(r.json()["id"])
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM work_items WHERE id IN (?,?)", *wids) == 2,
                 timeout=90, what="the work items at the hub")
        with opened(self.hub) as d:
            pri = d.execute("SELECT priority_id FROM work_items WHERE id=?", (wids[0],)).fetchone()[0]
        stamp = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
        bad = [("inserted, unknown category", self.hub_row("work_items", wids[0], id=str(uuid.uuid4()),
                                                           category_id="cat-never-" + tag)),
               ("inserted, unknown priority", self.hub_row("work_items", wids[0], id=str(uuid.uuid4()),
                                                           priority_id="pri-never-" + tag)),
               ("unknown category set",
                self.update_cs("work_items", wids[0], {"category_id": (cat, "cat-never-" + tag)}))]
        got = self.push_named([(k, stamp, cs) for k, cs in bad])
        self.assertEqual(set(got), {k for k, _ in bad}, got)
        for k in got:
            self.assertIn("no such", got[k], got)
        new = str(uuid.uuid4())
        ok = [("inserted, retired ones", self.hub_row("work_items", wids[0], id=new, category_id=rcat,
                                                      priority_id=rpri)),
              ("retired category set", self.update_cs("work_items", wids[1], {"category_id": (cat, rcat)})),
              ("retired priority set", self.update_cs("work_items", wids[1], {"priority_id": (pri, rpri)}))]
        stamp = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
        self.assertEqual(self.push_named([(k, stamp, cs) for k, cs in ok]), {})
        self.assertEqual(count(self.hub, "SELECT category_id || ' ' || priority_id FROM work_items"
                                         " WHERE id=?", new), rcat + " " + rpri)
        self.assertEqual(count(self.hub, "SELECT category_id || ' ' || priority_id FROM work_items"
                                         " WHERE id=?", wids[1]), rcat + " " + rpri)

    def real_visit(self, name):
        """A visit checked in at the real node with its first reason, once
        the hub has it and its reason: (the reasons, the visit's id)."""
        reasons = self.node.get("/api/v1/greeter/reasons").json()
        r = self.node.post("/api/v1/checkins", {"visitor_name": name, "language": "en",
                                                "reason_ids": [reasons[0]["id"]]})
        self.assertEqual(r.status, 201, r)
        real = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM checkin_reasons WHERE checkin_id=?",
                               real) == 1, timeout=60, what="the visit and its reason at the hub")
        return reasons, real

    def insert_cs(self, table, **row):
        """One INSERT changeset of `table` with the hub's columns (others
        NULL)."""
        with opened(self.hub) as d:
            cols = [r[1] for r in d.execute("PRAGMA table_info(%s)" % table)]
        return th.changeset_insert(table, [1] + [0] * (len(cols) - 1), [row.get(c) for c in cols])

    def test_greeter_rows_at_the_hub(self):
        """A visit's reasons and events are of a visit at the sending
        node's office, a reason one of its Local Area (narrowed to another
        office since: taken), once; an event a move of the visit's state
        machine at a time a clock can give (before the arrival a corrected
        clock stamped: taken); a visit of its
        office's Local Area, served by its staff, linked to its
        participants, with a phone and email as the kiosk takes them, dated
        the day it arrived, and what the visitor gave never rewritten; an audit event at a
        plausible time with a JSON object as its detail.  Each is
        quarantined when it breaks that, naming why; the same rows within
        the rules are taken."""
        reasons, real = self.real_visit("Reason Visitor")
        self.assertGreaterEqual(len(reasons), 2, reasons)
        now = int(time.time() * 1000)
        # the real visit's own day, the office's when it was checked in (the
        # rewrite below names it as the old value): not the machine's date
        # taken after, which the office's midnight may have turned since
        today = count(self.hub, "SELECT visit_date FROM checkins WHERE id=?", real)
        victim, far = "gv-" + secrets.token_hex(4), "far-" + secrets.token_hex(3)
        with opened(self.hub) as d:
            d.execute("INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
                      " visit_date, updated_hlc) VALUES(?, 'demo-office-2', 'demo-la', 'Victim', ?, ?, 'h')",
                      (victim, now, today))
            d.execute("INSERT INTO local_areas(id, name, updated_hlc) VALUES(?, 'Far', 'h')", (far,))
            d.execute("INSERT INTO greeter_reasons(id, local_area_id, label, label_es, updated_hlc)"
                      " VALUES(?, ?, 'Far', 'Lejos', 'h')", (far + "-reason", far))
            d.execute("INSERT INTO greeter_reasons(id, local_area_id, office_id, label, label_es,"
                      " updated_hlc) VALUES(?, 'demo-la', 'demo-office-2', 'Narrowed', 'Solo', 'h')",
                      (far + "-narrowed",))
            d.execute("INSERT INTO staff(id, username, display_name, local_area_id, privilege_group)"
                      " VALUES(?, ?, 'Far Staff', ?, 'case_manager')", (far + "-staff", far + "-staff", far))
            d.execute("INSERT INTO participants(id, local_area_id, office_id, first_name, last_name,"
                      " birth_date, registered_date, registered_at) VALUES(?, ?, 'x', 'Far', 'Away',"
                      " '1980-02-03', '2026-01-05', 1)", (far + "-p", far))
            staff = d.execute("SELECT id FROM staff WHERE username='t-wsb'").fetchone()[0]
        node_id = self.evil.node_id
        hlc = "%012x.0000.%s" % (now, node_id)

        def reason(cid, rid):
            return self.insert_cs("checkin_reasons", id=str(uuid.uuid4()), checkin_id=cid, reason_id=rid,
                                  office_id="demo-office")

        def event(cid, action, frm, to, at=None, **kw):
            return self.insert_cs("checkin_events", id=str(uuid.uuid4()), checkin_id=cid,
                                  office_id="demo-office", action=action, from_status=frm, to_status=to,
                                  at=now if at is None else at, hlc=hlc, **kw)

        def visit(**over):
            return self.checkin_cs("gv-" + secrets.token_hex(4), "Rule Visitor", hlc, **over)

        def audit(**over):
            row = dict(id=str(uuid.uuid4()), at=now, office_id="demo-office", local_area_id="demo-la",
                       node_id=node_id, action="login", detail='{"client":"127.0.0.1"}')
            row.update(over)
            return self.insert_cs("audit_events", **row)
        year = 366 * 24 * 3600 * 1000
        bad = [
            ("reason on another office's visit", reason(victim, reasons[1]["id"]), "another office"),
            ("reason of another Local Area", reason(real, far + "-reason"), "not a reason of"),
            ("unknown reason", reason(real, "no-such-reason"), "not a reason of"),
            ("reason twice", reason(real, reasons[0]["id"]), "already"),
            ("reason of no visit", reason("no-such-visit", reasons[1]["id"]), "no such visit"),
            ("event on another office's visit", event(victim, "call", "waiting", "called"), "another office"),
            ("event not a move", event(real, "done", "waiting", "done"), "not a move"),
            ("a day's end of a visit ended", event(real, "day_end", "done", "left"), "not a move"),
            ("a day's end to the wrong end", event(real, "day_end", "serving", "left"), "not a move"),
            ("event of a megabyte", event(real, "x" * 1000000, "waiting", "called"), "not a move"),
            ("event in 1970", event(real, "call", "waiting", "called", at=0), "before 2020"),
            ("event in 2200", event(real, "call", "waiting", "called", at=7258118400000), "later than"),
            ("visit of another Local Area", visit(local_area_id=far), "Local Area"),
            ("visit served by another Local Area", visit(staff_id=far + "-staff", status="waiting"),
             "staff_id"),
            ("visit linked to another Local Area", visit(participant_id=far + "-p"), "participant_id"),
            ("visit linked to no one", visit(participant_id="no-such-participant"), "participant_id"),
            ("phone", visit(phone="<script>"), "phone"),
            ("email", visit(email="not an email"), "email"),
            ("dated 2999", visit(visit_date="2999-12-31"), "visit_date"),
            ("arrived in 1970", visit(arrived_at=0, visit_date="1970-01-01"), "arrived_at"),
            ("arrived in ten years", visit(arrived_at=now + 10 * year,
                                           visit_date=time.strftime("%Y-%m-%d", time.localtime(
                                               (now + 10 * year) / 1000))), "arrived_at"),
            ("name rewritten", self.update_cs("checkins", real, {"visitor_name": ("Reason Visitor", "Someone Else")}),
             "visitor_name"),
            ("date rewritten", self.update_cs("checkins", real, {"visit_date": (today, "2001-01-01")}),
             "visit_date"),
            ("audit in 2200", audit(at=7258118400000), "at is"),
            ("audit detail not JSON", audit(detail="ssn 123-45-6789"), "detail"),
            ("audit detail too long", audit(detail='{"x":"%s"}' % ("y" * 70000)), "detail"),
        ]
        got = self.push_named([(k, hlc, cs) for k, cs, _ in bad])
        self.assertEqual(set(got), {k for k, _, _ in bad}, got)
        for k, _, why in bad:
            self.assertIn(why, got[k], (k, got[k]))
        with opened(self.hub) as d:
            self.assertEqual(d.execute("SELECT count(*) FROM checkin_reasons WHERE checkin_id IN (?, ?)",
                                       (victim, real)).fetchone()[0], 1)
            self.assertEqual(d.execute("SELECT count(*) FROM checkin_events WHERE checkin_id=?",
                                       (victim,)).fetchone()[0], 0)
            self.assertEqual(tuple(d.execute("SELECT visitor_name, visit_date FROM checkins WHERE id=?",
                                             (real,)).fetchone()), ("Reason Visitor", today))
        # the same rows within the rules are taken
        good_id = "gv-good-" + secrets.token_hex(4)
        ok = [("visit", self.checkin_cs(good_id, "Good Visitor", hlc, phone="(916) 555-0100",
                                        email="good@example.com", staff_id=staff)),
              ("its reason", reason(good_id, reasons[1]["id"])),
              ("its check-in", event(good_id, "checkin", None, "waiting")),
              ("closed at the end of its day", event(good_id, "day_end", "serving", "done")),
              # a desk whose clock was corrected since the arrival it stamped
              ("a call", event(real, "call", "waiting", "called", at=now - 2 * 24 * 3600 * 1000)),
              ("a second reason", reason(real, reasons[1]["id"])),
              # narrowed to another office after this office's kiosk offered it
              ("a reason narrowed since", reason(real, far + "-narrowed")),
              ("virtual", self.checkin_cs("gv-virt-" + secrets.token_hex(4), "Phone Visitor", hlc,
                                          virtual=1, status="done", staff_id=staff, called_at=now,
                                          serving_at=now, finished_at=now)),
              ("audit", audit())]
        stamp = "%012x.0000.%s" % (now + 1, node_id)
        self.assertEqual(self.push_named([(k, stamp, cs) for k, cs in ok]), {})
        self.assertEqual(count(self.hub, "SELECT count(*) FROM checkin_reasons WHERE checkin_id=?", real), 3)

    def test_finished_visit_stays_finished(self):
        """A visit done or left is never reopened by its own office's edit
        (a node in hostile hands, or a second desk node that had not yet
        pulled the end): the hub keeps done or left and records the office's
        value as a conflict it won, not a quarantine; a move of a visit
        still open is taken."""
        ends = {}
        for end in ("done", "left"):
            _, vid = self.real_visit("Final Visitor " + end)
            for action in (("call", "serve", "done") if end == "done" else ("left",)):
                r = self.node.post("/api/v1/checkins/%s/action" % vid, {"action": action})
                self.assertEqual(r.status, 200, (action, r))
            wait_for(lambda: count(self.hub, "SELECT status FROM checkins WHERE id=?", vid) == end,
                     timeout=60, what="the visit %s at the hub" % end)
            ends[end] = vid
        _, still = self.real_visit("Open Visitor")
        with opened(self.hub) as d:
            server, serving_at = d.execute("SELECT staff_id, serving_at FROM checkins WHERE id=?",
                                           (ends["done"],)).fetchone()
        self.assertTrue(server and serving_at)
        stamp = "%012x.0000.%s" % (int(time.time() * 1000) + 5000, self.evil.node_id)
        got = self.push_named([
            # a second desk's requeue, as its node writes it: the visit's
            # status moves with its server and times, held whole
            ("reopen done", stamp, self.update_cs("checkins", ends["done"], {
                "status": ("done", "waiting"), "staff_id": (server, None),
                "serving_at": (serving_at, None)})),
            ("call left", stamp, self.update_cs("checkins", ends["left"], {"status": ("left", "called")})),
            ("call open", stamp, self.update_cs("checkins", still, {"status": ("waiting", "called")}))])
        self.assertEqual(got, {})
        with opened(self.hub) as d:
            for end, vid in ends.items():
                self.assertEqual(d.execute("SELECT status FROM checkins WHERE id=?", (vid,)).fetchone()[0], end)
                c = d.execute("SELECT local_value, remote_value, winner FROM conflicts WHERE tbl='checkins'"
                              " AND row_id=? AND column_name='status'", (vid,)).fetchall()
                self.assertEqual([tuple(x) for x in c],
                                 [('"%s"' % end, '"%s"' % ("waiting" if end == "done" else "called"), "local")])
            self.assertEqual(d.execute("SELECT status FROM checkins WHERE id=?", (still,)).fetchone()[0],
                             "called")
            self.assertEqual(tuple(d.execute("SELECT staff_id, serving_at FROM checkins WHERE id=?",
                                             (ends["done"],)).fetchone()), (server, serving_at))
            held = d.execute("SELECT column_name FROM conflicts WHERE tbl='checkins' AND row_id=?"
                             " AND winner='local' ORDER BY column_name", (ends["done"],)).fetchall()
            self.assertEqual([x[0] for x in held], ["serving_at", "staff_id", "status"])
        self.replication_flows("the reopened visits")

    # ---- 5. valid text everywhere -----------------------------------------------
    def test_invalid_text_refused(self):
        """Raw invalid UTF-8 and NUL, byte for byte, through the admin API and
        the public kiosk: 400 naming the field, nothing stored, the office keeps
        pulling."""
        name = self.uniq("utf")
        body = self.new_body(name)
        bad = {}
        for label, raw in (("invalid", b'"Bad \xff\xfe Name"'), ("overlong", b'"\xc0\xaf"'),
                           ("surrogate", b'"\xed\xa0\x80"'), ("nul", b'"Nul\\u0000Name"'),
                           ("rawnul", b'"Raw\x00Nul"')):
            js = json_bytes(body, "display_name", raw)
            r = self.ops.request("POST", "/api/v1/admin/access-requests", body=js,
                                 ctype="application/json")
            bad[label] = (r.status, r.json().get("field"))
        self.assertEqual(set(bad.values()), {(400, "display_name")}, bad)
        with opened(self.hub) as d:
            self.assertEqual(d.execute("SELECT count(*) FROM access_requests WHERE username=?",
                                       (name,)).fetchone()[0], 0)
        # the kiosk (public): visitor_name
        reasons = self.node.get("/api/v1/greeter/reasons").json()
        kiosk = {"visitor_name": "x", "language": "en", "reason_ids": [reasons[0]["id"]]}
        for raw in (b'"Vis\xffitor"', b'"Vis\\u0000itor"', b'"Vis\x00itor"'):
            js = json_bytes(kiosk, "visitor_name", raw)
            r = harness.client(self.node).request(
                "POST", "/api/v1/checkins", body=js, headers={"Content-Type": "application/json"})
            self.assertEqual((r.status, r.json().get("field")), (400, "visitor_name"), raw)
        with opened(self.node) as d:
            self.assertEqual(d.execute("SELECT count(*) FROM checkins WHERE visitor_name LIKE 'Vis%'")
                             .fetchone()[0], 0)
        # a query parameter is text too
        r = self.ops.request("POST", "/api/v1/admin/access-requests/x/files?kind=request_form"
                             "&filename=a%FF.pdf", body=b"%PDF-1.4", ctype="application/pdf")
        self.assertEqual(r.status // 100, 4, r)
        # ... refused, naming it, where a list reads it as a filter (read
        # as absent, the filter was dropped and the list widened)
        for path in ("/api/v1/admin/access-requests?status=%ff", "/api/v1/admin/staff?local_area_id=%ff%fe",
                     "/api/v1/admin/audit?x=1&subject_id=a%c0%af"):
            r = self.ops.request("GET", path)
            self.assertEqual(r.status, 400, (path, r))
            self.assertEqual(r.json().get("field"), path.split("?")[1].split("&")[-1].split("=")[0], path)
        r = self.node.get("/api/v1/checkins?status=waiting&date=%ff")
        self.assertEqual((r.status, r.json().get("field")), (400, "date"), r)
        # ... and so is one too long for what the route reads it into
        long = "x" * 100
        for path, field in (("/api/v1/admin/access-requests?status=" + long, "status"),
                            ("/api/v1/admin/staff?active=1&local_area_id=" + long, "local_area_id")):
            r = self.ops.request("GET", path)
            self.assertEqual((r.status, r.json().get("field")), (400, field), (path, r))
        r = self.node.get("/api/v1/crm/work-items?status=" + long)
        self.assertEqual((r.status, r.json().get("field")), (400, "status"), r)
        self.assertEqual(self.node.get("/api/v1/crm/work-items?status=open").status, 200)
        self.assertEqual(self.node.get("/api/v1/checkins?status=waiting").status, 200)
        self.replication_flows("the invalid text")

    # ---- 6. time stamps and typed values -------------------------------------------
    CHECKIN_COLS = ("id", "office_id", "local_area_id", "visitor_name", "phone", "email", "language",
                    "appointment_with", "virtual", "participant_id", "status", "arrived_at",
                    "called_at", "serving_at", "finished_at", "visit_date", "note", "staff_id",
                    "updated_hlc")

    def checkin_cs(self, cid, name, hlc, note=None, **over):
        """A waiting check-in of the attacker's office, as a node writes one
        (over: other values by column)."""
        row = dict(zip(self.CHECKIN_COLS, [
            cid, "demo-office", "demo-la", name, None, None, "en", None, 0, None, "waiting",
            int(time.time() * 1000), None, None, None, time.strftime("%Y-%m-%d"), note, None, hlc]))
        row.update(over)
        return th.changeset_insert("checkins", [1] + [0] * 18, [row[c] for c in self.CHECKIN_COLS])

    def test_stamps_of_another_node(self):
        """A pushed row whose time stamp, or an entry whose own stamp, names
        another node than the sender (the office's real node, or an id above
        every other) is quarantined: ties between concurrent edits break on
        the node part, so a forged one would win them."""
        now = int(time.time() * 1000)
        mine = "%012x.0000.%s" % (now, self.evil.node_id)
        forged = "%012x.0000.%s" % (now, self.node_id_real())
        high = "%012x.0000.%s" % (now, "z" * 36)
        ids = {k: "stamp-" + secrets.token_hex(4) for k in ("row", "high", "entry", "own")}
        got = self.push_named([
            ("row", mine, self.checkin_cs(ids["row"], "Forged Stamp", forged)),
            ("high", mine, self.checkin_cs(ids["high"], "Forged Stamp", high)),
            ("entry", forged, self.checkin_cs(ids["entry"], "Forged Stamp", mine)),
            ("own", mine, self.checkin_cs(ids["own"], "Own Stamp", mine))])
        self.assertEqual(sorted(got), ["entry", "high", "row"], got)
        for k in ("row", "high"):
            self.assertIn("'updated_hlc' of 'checkins' is a time stamp of another node", got[k])
        self.assertIn("the entry's time stamp is another node's", got["entry"])
        for k, n in (("row", 0), ("high", 0), ("entry", 0), ("own", 1)):
            self.assertEqual(count(self.hub, "SELECT count(*) FROM checkins WHERE id=?", ids[k]), n, k)

    def delete_cs(self, table, row_id):
        """One DELETE of the hub's row of `table` with every old value, as
        the session extension writes it."""
        with opened(self.hub) as d:
            cols = [r[1] for r in d.execute("PRAGMA table_info(%s)" % table)]
            vals = d.execute("SELECT * FROM %s WHERE id=?" % table, (row_id,)).fetchone()
        rec = b""
        for v in vals:
            if v is None:
                rec += b"\x05"
            elif isinstance(v, int):
                rec += b"\x01" + v.to_bytes(8, "big", signed=True)
            else:
                t = v.encode()
                rec += b"\x03" + th.varint(len(t)) + t
        return (b"T" + th.varint(len(cols)) + bytes([1] + [0] * (len(cols) - 1)) +
                table.encode() + b"\0" + bytes([9, 0]) + rec)

    def test_checkin_rules_at_the_hub(self):
        """A check-in holds what the node's API lets in, and is never deleted:
        a hostile node's status, date, name, language, flag or time outside
        that, or its delete of another node's visit, is quarantined; the
        visits feed the state's greeter reports."""
        _, real = self.real_visit("Real Visitor")
        ok = "%012x.0000.%s" % (int(time.time() * 1000), self.evil.node_id)
        bad = {"status": dict(status="pwned"), "date": dict(visit_date="not-a-date"),
               "name": dict(visitor_name=""), "long": dict(visitor_name="x" * 121),
               "lang": dict(language="xx"), "virtual": dict(virtual=7),
               "arrived": dict(arrived_at=-5), "called": dict(called_at="soon"),
               "note": dict(note="n" * 2001)}
        cases = [(k, self.checkin_cs("cr-%s-%s" % (k, secrets.token_hex(4)), "Bad Visit", ok, **o))
                 for k, o in bad.items()]
        cases += [("update", self.update_cs("checkins", real, {"status": ("waiting", "pwned")})),
                  ("delete", self.delete_cs("checkins", real)),
                  ("good", self.checkin_cs("cr-good-" + secrets.token_hex(4), "Good Visit", ok))]
        why = self.push_named([(k, ok, cs) for k, cs in cases])
        self.assertEqual(sorted(why), sorted(k for k, _ in cases if k != "good"), why)
        self.assertIn("never deleted", why["delete"])
        self.assertIn("status", why["update"])
        with opened(self.hub) as d:
            self.assertEqual(d.execute("SELECT status FROM checkins WHERE id=?", (real,)).fetchone()[0],
                             "waiting")
            self.assertEqual(d.execute("SELECT count(*) FROM checkins WHERE id LIKE 'cr-%'")
                             .fetchone()[0], 1)
        self.replication_flows("the check-in rules")

    def test_time_stamps_and_blobs_refused(self):
        """A time stamp far ahead (the entry's or a row's) would win every merge
        of its row and carry the clock of every office that pulls it, and a blob
        in a text column passes every rule that reads text and breaks the
        office's reads: each entry quarantined.  Text shaped like a stamp
        anywhere else moves no clock."""
        now = int(time.time() * 1000)
        ok = "%012x.0000.%s" % (now, self.evil.node_id)
        far = "ffffffffffff.ffff." + self.evil.node_id
        soon = "%012x.0000.%s" % (now + 400 * 86400 * 1000, self.evil.node_id)
        ids = {k: "ts-%s-%s" % (k, secrets.token_hex(4)) for k in
               ("entry", "entry2", "entry3", "row", "row2", "row3", "blob", "note")}
        cases = [("entry", far, self.checkin_cs(ids["entry"], "Entry Stamp", ok)),
                 ("entry2", soon, self.checkin_cs(ids["entry2"], "Entry Soon", ok)),
                 ("entry3", "zzzz-not-a-stamp", self.checkin_cs(ids["entry3"], "Entry Text", ok)),
                 ("row", ok, self.checkin_cs(ids["row"], "Row Stamp", far)),
                 ("row2", ok, self.checkin_cs(ids["row2"], "Row Soon", soon)),
                 ("row3", ok, self.checkin_cs(ids["row3"], "Row Text", "yesterday")),
                 ("blob", ok, self.checkin_cs(ids["blob"], b"Blob\x00\xff\xfe", ok)),
                 # a note that reads as a far stamp: taken, and no clock moves
                 ("note", ok, self.checkin_cs(ids["note"], "Note Stamp", ok, note=far))]
        why = self.push_named(cases)
        self.assertEqual(sorted(why), sorted(k for k in ids if k != "note"), why)
        for k in ("entry", "entry2", "entry3", "row", "row2", "row3"):
            self.assertIn("time stamp", why[k])
        self.assertIn("holds a blob", why["blob"])
        with opened(self.hub) as d:
            held = d.execute("SELECT count(*) FROM checkins WHERE id IN (%s)" % ",".join("?" * 7),
                             [ids[k] for k in ids if k != "note"]).fetchone()[0]
        self.assertEqual(held, 0)
        # The node takes the note as text; its clock stays on today.
        wait_for(lambda: count(self.node, "SELECT count(*) FROM checkins WHERE id=?", ids["note"]) == 1,
                 timeout=60, what="the check-in with the stamp-shaped note at the node")
        with opened(self.node) as d:
            seen = (d.execute("SELECT value FROM node_meta WHERE key='seen_hlc'").fetchone() or [""])[0]
        self.assertLess(seen, "%012x" % (now + 366 * 86400 * 1000), seen)
        reasons = self.node.get("/api/v1/greeter/reasons").json()
        r = self.node.post("/api/v1/checkins", {"visitor_name": "After Stamps", "language": "en",
                                                "reason_ids": [reasons[0]["id"]]})
        self.assertEqual(r.status, 201, r)
        with opened(self.node) as d:
            mine = d.execute("SELECT updated_hlc FROM checkins WHERE id=?", (r.json()["id"],)).fetchone()[0]
        self.assertTrue("%012x" % (now - 60000) < mine < "%012x" % (now + 366 * 86400 * 1000), mine)
        self.replication_flows("the stamps and blobs")

    # ---- 4. secrets apart from data ----------------------------------------------
    @unittest.skipUnless(os.geteuid() == 0, "needs root to act as user nobody")
    def test_files_private_from_other_users(self):
        """As user nobody, neither database nor any key can be read."""
        for d in (self.hub, self.node):
            mode = os.stat(d.data).st_mode & 0o777
            self.assertEqual(mode, 0o700, d.data)
            for f in os.listdir(d.data):
                path = os.path.join(d.data, f)
                if os.path.isfile(path):
                    self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, path)
                    p = as_nobody("cat '%s' >/dev/null" % path)
                    self.assertNotEqual(p.returncode, 0, path)
        # an older version's data directory (0755, 0644 files) is tightened at start
        old = tempfile.mkdtemp(prefix="outpost-old-")
        os.chmod(old, 0o755)
        with open(os.path.join(old, "node.conf"), "w") as f:
            f.write("# older\n")
        os.chmod(os.path.join(old, "node.conf"), 0o644)
        n = Daemon("node", data=old)
        try:
            n.start()
            self.assertEqual(os.stat(old).st_mode & 0o777, 0o700)
            for f in os.listdir(old):
                if os.path.isfile(os.path.join(old, f)):
                    self.assertEqual(os.stat(os.path.join(old, f)).st_mode & 0o777, 0o600, f)
        finally:
            n.cleanup()
            shutil.rmtree(old, ignore_errors=True)
        # where the daemon cannot make its folder private, it refuses to start
        # and says how to fix it in one line
        theirs = tempfile.mkdtemp(prefix="outpost-theirs-")
        os.chmod(theirs, 0o755)
        os.chmod(os.path.dirname(theirs), os.stat(os.path.dirname(theirs)).st_mode | 0o005)
        # nobody runs a copy: the checkout may sit below a folder only its
        # owner can enter (a clone into `mktemp -d`)
        bindir = tempfile.mkdtemp(prefix="outpost-bin-")
        os.chmod(bindir, 0o755)
        exe = os.path.join(bindir, "outpost-node")
        shutil.copy(os.path.join(BIN, "outpost-node"), exe)
        os.chmod(exe, 0o755)
        try:
            p = as_nobody("'%s' --data '%s' --listen 127.0.0.1:%d" % (
                exe, theirs, harness.free_port()))
            err = p.stdout.decode() + p.stderr.decode()
            self.assertNotEqual(p.returncode, 0, err)
            self.assertIn("chmod 700", err)
            self.assertEqual(os.listdir(theirs), [])
        finally:
            shutil.rmtree(theirs, ignore_errors=True)
            shutil.rmtree(bindir, ignore_errors=True)

    def test_copied_databases_reveal_nothing(self):
        """hub.db and node.db copied alone: no SSN key, no node secret in them;
        with DATA/master.key (kept apart) the SSN is recoverable, so the key
        checked for is the right one."""
        import hmac
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        ssn = "231-45-6790"
        plant_secret(ssn)
        plant_secret(ssn.replace("-", ""))
        wait_for(lambda: self.node.get("/api/v1/case/pseudo-ssn?birth_date=1977-05-25").status
                 == 200, timeout=60, what="case API")
        sj = self.sync_json()
        wait_for(lambda: "la_key" in self.sync_json(), timeout=60, what="la_key in sync.json")
        r = self.node.post("/api/v1/case/participants", {
            "first_name": "Copy", "last_name": "Proof", "birth_date": "1980-02-03", "ssn": ssn})
        self.assertEqual(r.status, 201, r)
        pid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM participants WHERE id=?", pid) == 1,
                 timeout=60, what="the participant at the hub")
        with open(os.path.join(self.hub.data, "master.key")) as f:
            master = bytes.fromhex(f.read().strip())
        t_la = hmac.new(master, b"outpost-la-key\ndemo-la", hashlib.sha256).digest()
        self.assertEqual(t_la.hex(), self.sync_json()["la_key"])
        with opened(self.hub) as d:
            wrapped = d.execute("SELECT key_hex FROM case_keys WHERE id='demo-la'").fetchone()[0]
            enc = d.execute("SELECT ssn_enc FROM participants WHERE id=?", (pid,)).fetchone()[0]
            secrets_at_hub = [x[0] for x in d.execute("SELECT secret_hex FROM nodes")]
        self.assertTrue(wrapped.startswith("gcm1:"), wrapped[:8])
        self.assertTrue(all(x.startswith("gcm1:") for x in secrets_at_hub))
        raw = bytes.fromhex(wrapped[5:])
        key = AESGCM(t_la).decrypt(raw[:12], raw[12:], b"case_key:demo-la")
        e = bytes.fromhex(enc)
        self.assertEqual(AESGCM(key).decrypt(e[:12], e[12:], pid.encode()).decode(),
                         ssn.replace("-", ""))
        # the databases (and their WAL) hold neither key nor the node secret
        forbidden = [key.hex().encode(), key, t_la.hex().encode(), t_la,
                     sj["node_secret"].encode(), bytes.fromhex(sj["node_secret"])]
        for d in (self.hub, self.node):
            self.sync_checkpoint(d)
            for f in os.listdir(d.data):
                if f.endswith((".db", ".db-wal")):
                    with open(os.path.join(d.data, f), "rb") as fh:
                        data = fh.read()
                    for x in forbidden:
                        self.assertNotIn(x, data, "%s holds a secret" % f)
        # and a push signed with anything hub.db holds is refused
        fake = th.Enrolled(self.hub, {"node_id": sj["node_id"],
                                      "node_secret": secrets_at_hub[0][5:69],
                                      "schema_version": self.schema})
        r = fake.push(th.build_frame([], self.schema))
        self.assertEqual(r.status, 401, r)

    def sync_json(self):
        import json
        with open(os.path.join(self.node.data, "sync.json")) as f:
            return json.load(f)

    def sync_checkpoint(self, d):
        c = d.db()
        try:
            c.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            c.close()

    def test_make_run_data_private(self):
        """A fresh `make run` data directory: 0700 folders, 0600 files, and
        run.sh turns demo on by itself (the daemons' default is off)."""
        import test_run
        data = os.path.join(tempfile.mkdtemp(prefix="outpost-run-"), "data")
        saved = {k: os.environ.pop(k) for k in ("OUTPOST_HUB_DEMO", "OUTPOST_NODE_DEMO")
                 if k in os.environ}
        try:
            hub_port, node_port = harness.free_port(), harness.free_port()
            run = test_run.RunScript(data, hub_port, node_port)
        finally:
            os.environ.update(saved)
        try:
            run.wait_ready()
            node = Daemon("node", data=os.path.join(data, "node"))
            node.port = node_port
            harness.login(node)   # the demo login: run.sh turned demo on
            bad = []
            for root, dirs, files in os.walk(data):
                for x in dirs + [""]:
                    m = os.stat(os.path.join(root, x)).st_mode & 0o777
                    if m != 0o700:
                        bad.append((os.path.join(root, x), oct(m)))
                for x in files:
                    m = os.stat(os.path.join(root, x)).st_mode & 0o777
                    if m != 0o600:
                        bad.append((os.path.join(root, x), oct(m)))
            self.assertEqual(bad, [])
            self.assertIn("hub.db", os.listdir(os.path.join(data, "hub")))
            self.assertIn("node.db", os.listdir(os.path.join(data, "node")))
        finally:
            run.kill()
            shutil.rmtree(os.path.dirname(data), ignore_errors=True)

    def test_node_sets_aside_a_row_it_cannot_take(self):
        """A bad staff name already in an older hub.db (the review's stall):
        the node sets that row aside, says so, and keeps pulling the rest."""
        st, _ = self.create(self.ops, self.uniq("bad"))
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff WHERE id=?", st["id"]) == 1,
                 timeout=60, what="the staff member at the node")
        with opened(self.hub) as d:   # as an older hub could have stored it
            d.execute("UPDATE staff SET display_name=CAST(X'426164FF4E616D65' AS TEXT),"
                      " updated_hlc=updated_hlc||'x' WHERE id=?", (st["id"],))
        self.replication_flows("a row the node cannot take")
        s = self.node.get("/api/v1/sync/status").json()
        self.assertGreaterEqual(s.get("pull_set_aside", 0), 1, s)
        with opened(self.node) as d:
            self.assertEqual(d.execute("SELECT display_name FROM staff WHERE id=?",
                                       (st["id"],)).fetchone()[0], st["display_name"])

    def test_first_snapshot_sets_aside_a_row_it_cannot_take(self):
        """The same bad row in a new node's first snapshot: the snapshot
        completes without it, the node says so and then pulls as usual."""
        st, _ = self.create(self.ops, self.uniq("snapbad"))
        with opened(self.hub) as d:   # as an older hub could have stored it
            d.execute("UPDATE staff SET display_name=CAST(X'536E6170FF4E616D65' AS TEXT),"
                      " updated_hlc=updated_hlc||'x' WHERE id=?", (st["id"],))
        fresh = Daemon("node")
        try:
            p = run_tool([os.path.join(BIN, "outpost-sync"), "enroll", "--hub", self.hub.url,
                          "--code", self.code(), "--data", fresh.data])
            self.assertEqual(p.returncode, 0, p.stderr)
            fresh.start()
            harness.login(fresh)
            s = wait_for(lambda: (lambda j: j if j.get("cursor") is not None else None)(
                fresh.get("/api/v1/sync/status").json()), timeout=90,
                what="the new node's first snapshot done")
            self.assertGreaterEqual(s.get("pull_set_aside", 0), 1, s)
            self.assertEqual(count(fresh, "SELECT count(*) FROM staff WHERE id=?", st["id"]), 0)
            self.assertGreater(count(fresh, "SELECT count(*) FROM staff"), 1)
            # the row, repaired at the hub, arrives with the next pull
            with opened(self.hub) as d:
                d.execute("UPDATE staff SET display_name='Snap Name', updated_hlc=updated_hlc||'y'"
                          " WHERE id=?", (st["id"],))
            wait_for(lambda: count(fresh, "SELECT count(*) FROM staff WHERE id=? AND"
                                          " display_name='Snap Name'", st["id"]) == 1,
                     timeout=60, what="the repaired row at the new node")
        finally:
            fresh.cleanup()

    def test_rows_written_before_enrollment_arrive(self):
        """A stand-alone node used before it is enrolled (its provisional node
        id, the demo office), then enrolled while it runs to another office:
        what it wrote before, and a check-in just after, reach the hub under
        its real identity, none quarantined."""
        fresh = Daemon("node").start()
        try:
            harness.login(fresh)   # a sign-in: an audit event naming the node
            reasons = fresh.get("/api/v1/greeter/reasons").json()

            def visit(name):
                r = fresh.post("/api/v1/checkins", {"visitor_name": name, "language": "en",
                                                    "reason_ids": [reasons[0]["id"]]})
                self.assertEqual(r.status, 201, r)
                return r.json()["id"]
            before = visit("Before Enrollment")
            with opened(fresh) as d:
                prov = d.execute("SELECT value FROM node_meta WHERE key='node_id'").fetchone()[0]
                self.assertGreaterEqual(d.execute("SELECT count(*) FROM audit_events WHERE"
                                                  " node_id=?", (prov,)).fetchone()[0], 1)
            p = run_tool([os.path.join(BIN, "outpost-hub"), "enroll-code", "--office",
                                     "demo-office-2", "--data", self.hub.data], name="hub")
            self.assertEqual(p.returncode, 0, p.stderr)
            hub_code = p.stdout.decode().strip()
            plant_secret(hub_code)
            p = run_tool([os.path.join(BIN, "outpost-sync"), "enroll", "--hub", self.hub.url,
                          "--code", hub_code, "--data", fresh.data])
            self.assertEqual(p.returncode, 0, p.stderr)
            after = visit("Just After Enrollment")
            with opened(fresh) as d:
                real = d.execute("SELECT value FROM node_meta WHERE key='node_id'").fetchone()[0]
                self.assertNotEqual(real, prov)
                self.assertEqual(d.execute("SELECT office_id FROM checkins WHERE id=?",
                                           (after,)).fetchone()[0], "demo-office-2")
            for cid in (before, after):
                wait_for(lambda: count(self.hub, "SELECT count(*) FROM checkins WHERE id=? AND"
                                                 " office_id='demo-office-2'", cid) == 1,
                         timeout=90, what="check-in %s at the hub, of the node's office" % cid)
            wait_for(lambda: count(self.hub, "SELECT count(*) FROM audit_events WHERE node_id=?",
                                   real) >= 1, timeout=60, what="the sign-in's audit event")
            self.assertEqual(count(self.hub, "SELECT count(*) FROM audit_events WHERE node_id=?",
                                   prov), 0)
            with opened(self.hub) as d:
                q = d.execute("SELECT tbl, reason FROM quarantine WHERE node_id=?",
                              (real,)).fetchall()
            self.assertEqual(q, [])
            # the node's own copy of the earlier visit is the office's too, once it
            # has taken its snapshot
            wait_for(lambda: count(fresh, "SELECT count(*) FROM checkins WHERE id=? AND"
                                          " office_id='demo-office-2'", before) == 1,
                     timeout=90, what="the earlier visit re-stamped at the node")
        finally:
            fresh.cleanup()

    def node_id_real(self):
        import json
        with open(os.path.join(self.node.data, "sync.json")) as f:
            return json.load(f)["node_id"]


if __name__ == "__main__":
    unittest.main()


class TrustAdminTest(Base):
    """Smaller points of the trust boundary at the hub console, on a hub with
    fewer PBKDF2 rounds (the throttle, not the hash, is measured)."""
    hub_args = ("--password-iters", "20000")

    def test_separation_of_duties(self):
        la = self.new_la()
        _, mis, _ = self.make_admin(self.uniq("sod"), la=la)
        r = mis.post("/api/v1/admin/access-requests", self.new_body(self.uniq("req"), la=la))
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        for k in self.E1_FILES:
            self.assertEqual(mis.request(
                "POST", "/api/v1/admin/access-requests/%s/files?kind=%s&filename=%s.pdf"
                % (rid, k, k), body=b"%PDF-1.4\n%%EOF\n", ctype="application/pdf").status, 201)
        r = mis.post("/api/v1/admin/access-requests/%s/approve" % rid)
        self.assertEqual((r.status, r.json()["field"]), (403, "request_id"))
        self.assertEqual(mis.get("/api/v1/admin/access-requests/%s" % rid).json().get("status"),
                         "submitted")
        r = self.ops.post("/api/v1/admin/access-requests/%s/approve" % rid)
        self.assertEqual(r.status, 200, r)
        # No one is exempt: operations and the admin token cannot approve
        # their own requests either; each approves the other's.
        bearer = {"Authorization": "Bearer " + self.token}
        mine = {}
        for who, hdr in (("ops", {}), ("token", bearer)):
            r = self.ops.post("/api/v1/admin/access-requests",
                              self.new_body(self.uniq("own"), la=la), headers=hdr)
            self.assertEqual(r.status, 201, r)
            mine[who] = r.json()["id"]
            for k in self.E1_FILES:
                self.assertEqual(self.ops.request(
                    "POST", "/api/v1/admin/access-requests/%s/files?kind=%s&filename=%s.pdf"
                    % (mine[who], k, k), body=b"%PDF-1.4\n%%EOF\n", ctype="application/pdf",
                    headers=hdr).status, 201)
            r = self.ops.post("/api/v1/admin/access-requests/%s/approve" % mine[who], headers=hdr)
            self.assertEqual((r.status, r.json()["field"]), (403, "request_id"), who)
            self.assertEqual(self.ops.get("/api/v1/admin/access-requests/%s" % mine[who])
                             .json().get("status"), "submitted")
        r = self.ops.post("/api/v1/admin/access-requests/%s/approve" % mine["ops"], headers=bearer)
        self.assertEqual(r.status, 200, r)
        r = self.ops.post("/api/v1/admin/access-requests/%s/approve" % mine["token"])
        self.assertEqual(r.status, 200, r)
        # an MIS Administrator of the Local Area may approve operations' request too
        r = self.ops.post("/api/v1/admin/access-requests", self.new_body(self.uniq("by"), la=la))
        rid = r.json()["id"]
        for k in self.E1_FILES:
            self.ops.request("POST", "/api/v1/admin/access-requests/%s/files?kind=%s&filename=%s.pdf"
                             % (rid, k, k), body=b"%PDF-1.4\n%%EOF\n", ctype="application/pdf")
        r = mis.post("/api/v1/admin/access-requests/%s/approve" % rid)
        self.assertEqual(r.status, 200, r)

    def test_one_reply_for_wrong_password_and_field_account(self):
        st, temp = self.create(self.ops, self.uniq("fld"))
        right = Console(self.hub).login(st["username"], temp)
        wrong = Console(self.hub).login(st["username"], "Wrong.Pass77")
        nobody = Console(self.hub).login(self.uniq("nosuch"), "Wrong.Pass77")
        self.assertEqual((right.status, right.body), (wrong.status, wrong.body))
        self.assertEqual((right.status, right.body), (nobody.status, nobody.body))

    def test_a_dozen_addresses_cannot_hold_an_account(self):
        victim, _, pw = self.make_admin(self.uniq("held"))
        codes = {}
        for a in range(2, 14):              # 12 addresses, 5 wrong passwords each
            c = Console(self.hub, source="127.0.0.%d" % a)
            for i in range(5):
                r = c.login(victim["username"], "Wrong.%d%dAa" % (a, i))
                codes[r.status] = codes.get(r.status, 0) + 1
        self.assertEqual(set(codes) - {401, 429}, set(), codes)
        # 60 failures on one account (an account-wide hold would be armed by
        # now): the owner, from an address of their own, signs in at once
        r = Console(self.hub, source="127.0.0.30").login(victim["username"], pw)
        self.assertEqual(r.status, 200, r)
