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
import hashlib
import os
import secrets
import time
import unittest

import harness
import test_hub as th
from harness import Daemon, change_proof, plant_secret, pw_verifier, run_tool
from test_accounts import Base, Console
from test_sync_node import count, wait_for

BIN = harness.BIN


def node_hash(pw):
    salt = secrets.token_bytes(16)
    return "pbkdf2-sha256$600000$%s$%s" % (
        salt.hex(), hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, 600000).hex())


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

    def cred(self, sid):
        with self.db() as d:
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
        r = self.ops.post("/api/v1/admin/staff/%s/roles" % sid, {"roles": ["mis_admin"]})
        self.assertEqual(r.status, 200, r)
        # its hash left the Local Area: the hub keeps it hub-only, the node drops it
        self.assertEqual(self.cred(sid)[1], "*hub*")
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff_credentials WHERE id=?",
                               sid) == 0, timeout=60, what="the admin's hash gone from the node")
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
        account stays (and keeps working at the node)."""
        st, _ = self.create(self.ops, self.uniq("old"), group="View Access")
        sid = st["id"]
        with self.db() as d:   # as an older hub left it
            d.execute("UPDATE staff SET roles='mis_admin' WHERE id=?", (sid,))
        self.hub.stop()
        self.hub.start()
        with self.db() as d:
            roles = d.execute("SELECT coalesce(roles,'') FROM staff WHERE id=?", (sid,)).fetchone()[0]
            adm = d.execute("SELECT s.id, s.username, s.roles, c.local_area_id FROM admin_accounts a"
                            " JOIN staff s ON s.id=a.id JOIN staff_credentials c ON c.id=s.id"
                            " WHERE a.field_staff_id=?", (sid,)).fetchone()
        self.assertEqual(roles, "")
        self.assertIsNotNone(adm)
        self.assertEqual((adm[1], adm[2], adm[3]), (st["username"] + ".admin", "mis_admin", "*hub*"))
        self.assertEqual(self.cred(sid)[1], "demo-la")
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
        r = mine.post("/api/v1/session/password", {"current_password": temp, "new_password": pw})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(mine.get("/api/v1/session").json().get("signed_in"), True)
        self.assertNotEqual(other.get("/api/v1/session").json().get("signed_in"), True)
        wait_for(lambda: self.cred(sid)[0] != cur, timeout=60, what="the change applied at the hub")
        with self.db() as d:
            stat = d.execute("SELECT status FROM credential_change_status WHERE staff_id=?"
                             " ORDER BY decided_at DESC LIMIT 1", (sid,)).fetchone()[0]
            v = d.execute("SELECT verifier FROM staff_verifiers WHERE id=?", (sid,)).fetchone()[0]
        self.assertEqual(stat, "applied")
        # the hub now holds the new password's verifier, from the node's wrapped copy
        self.assertEqual(v, pw_verifier(pw, self.cred(sid)[0]))
        self.replication_flows("the password attacks")

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
                                {"current_password": temp, "new_password": pw}).status, 200)
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
        with self.db() as d:
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

    def node_id_real(self):
        import json
        with open(os.path.join(self.node.data, "sync.json")) as f:
            return json.load(f)["node_id"]


if __name__ == "__main__":
    unittest.main()
