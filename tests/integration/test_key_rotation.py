"""SSN key rotation (README "SSN key rotation"; hub/hub_keys.c): a stolen
office PC keeps the Local Area's wrapping key (sync.json's la_key) and the
case keys it had pulled.  Revoking it gives the Local Area a new SSN key
(the next epoch) whose wrapping key the revoked node cannot fetch: what it
kept reads what it already held, never an SSN recorded afterwards - here
checked with the very la_key it kept, against the rows a copy of another
office's node.db (or the hub's) would give it.  The hub writes the stored
SSNs again under the new key; the offices still read them, and one person
is still found as a duplicate across the rotation.  Once all that is done,
`outpost-hub ssn-key-retire` deletes the older keys, at the hub and (by
replicated deletes) at the offices.  (The crypto itself:
tests/unit/test_hub_keys.c.)
"""
import hashlib
import hmac
import json
import os
import threading
import time
import unittest

import harness
import test_hub as th
from harness import login, plant_secret
from test_duplicates import la_key_at, register
from test_sync_node import Office, count, hub_tool, sync, wait_for

OLD_SSN = "532-67-1849"
NEW_SSN = "417-23-5586"
LATER_SSN = "318-52-7740"


def sync_json(node):
    with open(os.path.join(node.data, "sync.json")) as f:
        return json.load(f)


def key_rows(daemon):
    db = daemon.db()
    try:
        return db.execute("SELECT id, key_hex FROM case_keys WHERE local_area_id='demo-la'"
                          " ORDER BY id").fetchall()
    finally:
        db.close()


def unwrap(wkey, row_id, wrapped):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    raw = bytes.fromhex(wrapped[len("gcm1:"):])
    return AESGCM(wkey).decrypt(raw[:12], raw[12:], b"case_key:" + row_id.encode())


def decrypt_ssn(key, pid, enc):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    if ":" in enc:  # "eN:" from epoch 2; epoch 1's hex may well start with an "e"
        enc = enc.split(":", 1)[1]
    e = bytes.fromhex(enc)
    d = AESGCM(key).decrypt(e[:12], e[12:], pid.encode()).decode()
    return "%s-%s-%s" % (d[:3], d[3:5], d[5:])


def read_with(wkey, rows, pid, enc):
    """The SSN that wrapping key wkey reads of enc through any case key row it
    opens, or None."""
    from cryptography.exceptions import InvalidTag
    for row_id, wrapped in rows:
        try:
            key = unwrap(wkey, row_id, wrapped)
        except InvalidTag:
            continue
        try:
            return decrypt_ssn(key, pid, enc)
        except InvalidTag:
            continue
    return None


def ssn_enc(daemon, pid):
    db = daemon.db()
    try:
        row = db.execute("SELECT ssn_enc FROM participants WHERE id=?", (pid,)).fetchone()
        return row[0] if row and row[0] else ""
    finally:
        db.close()


def revealed(node, pid):
    r = node.post("/api/v1/case/participants/%s/ssn/reveal" % pid)
    return r.json().get("ssn") if r.status == 200 else None


class KeyRotationTest(unittest.TestCase):
    def setUp(self):
        self.o = Office(self)
        for s in (OLD_SSN, NEW_SSN, LATER_SSN):
            plant_secret(s)
            plant_secret(s.replace("-", ""))

    def tearDown(self):
        self.o.close()

    def admin(self, hub, method, path, body=None):
        h = {"Authorization": "Bearer " + harness.admin_token(hub)}
        return hub.request(method, path, body={} if body is None else body, headers=h)

    def test_revoked_node_reads_nothing_recorded_after(self):
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office")
        b = self.o.node(hub, "demo-office-2")
        for n in (a, b):
            wait_for(lambda n=n: la_key_at(n), timeout=60, what="the Local Area key")
        p_old = register(a, "Ada", OLD_SSN)
        wait_for(lambda: ssn_enc(b, p_old), timeout=90, what="the participant at office B")
        kept = bytes.fromhex(sync_json(b)["la_key"])
        plant_secret(kept.hex())
        # What B holds it reads: the SSN recorded before.
        self.assertEqual(read_with(kept, key_rows(b), p_old, ssn_enc(b, p_old)), OLD_SSN)

        # The PC is stolen: operations revokes it, and the Local Area gets a new key.
        b.stop()
        r = self.admin(hub, "POST", "/api/v1/nodes/%s/revoke" % b.node_id)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([x[0] for x in key_rows(hub)], ["demo-la", "demo-la:e2"])
        with open(os.path.join(hub.data, "master.key")) as f:
            master = bytes.fromhex(f.read().strip())
        w2 = hmac.new(master, b"outpost-la-key\ndemo-la\n2", hashlib.sha256).digest()
        plant_secret(w2.hex())
        # Office A fetches the new wrapping key (with the new key's row); the
        # revoked B is refused it.
        wait_for(lambda: sync_json(a)["la_key"] == w2.hex() and
                 "demo-la:e2" in dict(key_rows(a)), timeout=90,
                 what="the new key and its wrapping key at office A")
        sb = sync_json(b)
        r = th.Enrolled(hub, sb).request("GET", "/api/v1/sync/la-key")
        self.assertEqual(r.status, 401, r.body)
        self.assertEqual(sb["la_key"], kept.hex())

        # A new SSN at A after the rotation: under epoch 2, readable at A and
        # at the hub, not with what B kept.
        p_new = register(a, "Bea", NEW_SSN, birth="1979-11-30")
        enc = ssn_enc(a, p_new)
        self.assertTrue(enc.startswith("e2:"), enc[:6])
        self.assertEqual(revealed(a, p_new), NEW_SSN)
        wait_for(lambda: ssn_enc(hub, p_new), timeout=90, what="the new participant at the hub")
        self.assertEqual(read_with(w2, key_rows(hub), p_new, ssn_enc(hub, p_new)), NEW_SSN)
        for where in (a, hub):  # a copy of another office's node.db, or of hub.db
            self.assertIsNone(read_with(kept, key_rows(where), p_new, enc),
                              "the revoked node's la_key reads an SSN recorded after it")
        self.assertIsNone(read_with(kept, key_rows(b), p_new, enc))
        # Nor by its keyed hash: B's old case key does not make it.
        old_key = unwrap(kept, "demo-la", dict(key_rows(b))["demo-la"])
        guess = hmac.new(old_key, NEW_SSN.replace("-", "").encode(), hashlib.sha256).hexdigest()
        self.assertNotEqual(guess, count(a, "SELECT ssn_hmac FROM participants WHERE id=?", p_new))

        # The SSN stored before is written again under the new key, at the
        # hub and then at A, and still shown at A.
        wait_for(lambda: (ssn_enc(a, p_old) or "").startswith("e2:"), timeout=120,
                 what="the older SSN written again under the new key")
        self.assertTrue(ssn_enc(hub, p_old).startswith("e2:"))
        self.assertEqual(revealed(a, p_old), OLD_SSN)
        # One person across the rotation is still one person.
        r = a.post("/api/v1/case/participants", {"first_name": "Ada", "last_name": "Again",
                                                 "birth_date": "1984-03-09", "ssn": OLD_SSN})
        self.assertEqual((r.status, r.json().get("participant_id")), (409, p_old), r)

        # By hand: the admin route (audited), then the command.
        r = self.admin(hub, "POST", "/api/v1/admin/local-areas/demo-la/ssn-key/rotate")
        self.assertEqual((r.status, r.json()), (200, {"id": "demo-la", "epoch": 3}), r.body)
        r = self.admin(hub, "POST", "/api/v1/admin/local-areas/no-such-la/ssn-key/rotate")
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("no-such-la", r.json()["error"])
        actions = [e["action"] for e in self.admin(hub, "GET", "/api/v1/audit-events").json()]
        self.assertIn("ssn_key.rotate", actions)
        p = hub_tool(hub, "ssn-key-rotate", "no-such-la")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"no Local Area 'no-such-la'", p.stderr)
        w3 = hmac.new(master, b"outpost-la-key\ndemo-la\n3", hashlib.sha256).digest()
        plant_secret(w3.hex())
        wait_for(lambda: (ssn_enc(a, p_new) or "").startswith("e3:") and
                 (ssn_enc(a, p_old) or "").startswith("e3:") and
                 sync_json(a)["la_key"] == w3.hex(), timeout=120,
                 what="the stored SSNs under epoch 3, and its wrapping key, at office A")
        p_later = register(a, "Cy", LATER_SSN, birth="1970-06-15")
        self.assertTrue(ssn_enc(a, p_later).startswith("e3:"))
        for pid, ssn in ((p_old, OLD_SSN), (p_new, NEW_SSN), (p_later, LATER_SSN)):
            self.assertEqual(revealed(a, pid), ssn)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine"), 0)

    def test_search_by_ssn_looks_under_every_key(self):
        """POST /api/v1/case/participants/search by the full SSN at an
        office looks under every key it holds, as its duplicate check does:
        after a rotation, until the hub has written a row again under the
        new key and the office has pulled it, the row keeps its older
        epoch's hash.  Here the office holds the new key and the row is put
        back as it was before the rotation (as it is meanwhile); searched
        with the newest key alone, it was not found."""
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office")
        wait_for(lambda: la_key_at(a), timeout=60, what="the Local Area key")
        pid = register(a, "Ada", OLD_SSN)
        wait_for(lambda: ssn_enc(hub, pid), timeout=90, what="the participant at the hub")
        db = a.db()
        try:
            before = db.execute("SELECT ssn_enc, ssn_hmac FROM participants WHERE id=?",
                                (pid,)).fetchone()
        finally:
            db.close()
        r = self.admin(hub, "POST", "/api/v1/admin/local-areas/demo-la/ssn-key/rotate")
        self.assertEqual((r.status, r.json()), (200, {"id": "demo-la", "epoch": 2}), r.body)
        with open(os.path.join(hub.data, "master.key")) as f:
            master = bytes.fromhex(f.read().strip())
        w2 = hmac.new(master, b"outpost-la-key\ndemo-la\n2", hashlib.sha256).digest()
        plant_secret(w2.hex())
        wait_for(lambda: (ssn_enc(a, pid) or "").startswith("e2:") and
                 sync_json(a)["la_key"] == w2.hex() and "demo-la:e2" in dict(key_rows(a)),
                 timeout=120, what="the SSN written again under the new key, and the key, at"
                 " the office")
        r = a.post("/api/v1/case/participants/search", {"q": OLD_SSN})
        self.assertEqual((r.status, [x["id"] for x in r.json()]), (200, [pid]), r.body)
        # The row under epoch 1, the office's newest key epoch 2's.
        harness.db_write(a, "UPDATE participants SET ssn_enc=?, ssn_hmac=? WHERE id=?",
                         before[0], before[1], pid)
        self.assertEqual(revealed(a, pid), OLD_SSN)
        r = a.post("/api/v1/case/participants/search", {"q": OLD_SSN})
        self.assertEqual((r.status, [x["id"] for x in r.json()]), (200, [pid]), r.body)
        r = a.post("/api/v1/case/participants/search", {"q": LATER_SSN})
        self.assertEqual((r.status, r.json()), (200, []), r.body)

    def test_retire_older_keys(self):
        """A rotation kept every older key for good, at the hub and in every
        office's case_keys, so it never ended the life of a key that may
        have leaked.  `outpost-hub ssn-key-retire` deletes them: refused
        while an office has not pulled since the rotation (it is named: it
        may still hold and push SSNs under the older key), done once it has
        and the hub has written the stored SSNs again; the office drops the
        older key with its next pull, and every SSN still reads, at the
        office and at the hub.  A row at the office still under the retired
        key is refused clearly (409), the office keeps working."""
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office")
        wait_for(lambda: la_key_at(a), timeout=60, what="the Local Area key")
        p_old = register(a, "Ada", OLD_SSN)
        wait_for(lambda: ssn_enc(hub, p_old), timeout=90, what="the participant at the hub")
        before = ssn_enc(a, p_old)
        p = hub_tool(hub, "ssn-key-retire", "demo-la")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"no SSN key older than epoch 1's", p.stdout)
        p = hub_tool(hub, "ssn-key-retire", "no-such-la")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"no Local Area 'no-such-la'", p.stderr)

        # The office is off while the key is rotated: it has not pulled it.
        a.stop()
        r = self.admin(hub, "POST", "/api/v1/admin/local-areas/demo-la/ssn-key/rotate")
        self.assertEqual((r.status, r.json()), (200, {"id": "demo-la", "epoch": 2}), r.body)
        p = hub_tool(hub, "ssn-key-retire", "demo-la")
        self.assertEqual(p.returncode, 1, (p.stdout, p.stderr))
        self.assertIn(b"not retired: nodes of Local Area demo-la not pulled since", p.stderr)
        self.assertIn(a.node_id.encode(), p.stderr)
        self.assertIn(b"--force", p.stderr)
        # The admin route refuses the same, saying why (the console shows it).
        retire = "/api/v1/admin/local-areas/demo-la/ssn-key/retire"
        r = self.admin(hub, "POST", retire)
        self.assertEqual((r.status, r.json().get("field")), (409, "force"), r.body)
        self.assertIn("not retired: nodes of Local Area demo-la not pulled since",
                      r.json()["error"])
        self.assertIn(a.node_id, r.json()["error"])
        # ... in its own words: the console asks with "force", there is no
        # --force to give it.
        self.assertIn('retire with "force" (the console\'s "Retire anyway")', r.json()["error"])
        self.assertNotIn("--force", r.json()["error"])
        r = self.admin(hub, "POST", retire, {"force": "yes"})
        self.assertEqual((r.status, r.json().get("field")), (400, "force"), r.body)
        r = self.admin(hub, "POST", "/api/v1/admin/local-areas/no-such-la/ssn-key/retire")
        self.assertEqual(r.status, 404, r.body)
        self.assertIn("no-such-la", r.json()["error"])
        self.assertEqual([x[0] for x in key_rows(hub)], ["demo-la", "demo-la:e2"])
        # Many offices behind: every one is named, by the command and the
        # route alike (thirty names are well past a short message buffer).
        many = ["aaaaaaaa-0000-4000-8000-%012d" % i for i in range(30)]
        for i in many:
            harness.db_write(hub, "INSERT INTO nodes(id, office_id, local_area_id, secret_hex,"
                             " enrolled_at) VALUES (?, 'demo-office', 'demo-la', '00', 0)", i)
        p = hub_tool(hub, "ssn-key-retire", "demo-la")
        r = self.admin(hub, "POST", retire)
        self.assertEqual((p.returncode, r.status), (1, 409), (p.stderr, r.body))
        for i in many + [a.node_id]:
            self.assertIn(i.encode(), p.stderr)
            self.assertIn(i, r.json()["error"])
        self.assertIn(b"--force", p.stderr)
        harness.db_write(hub, "DELETE FROM nodes WHERE id LIKE 'aaaaaaaa-%'")

        with open(os.path.join(hub.data, "master.key")) as f:
            master = bytes.fromhex(f.read().strip())
        w2 = hmac.new(master, b"outpost-la-key\ndemo-la\n2", hashlib.sha256).digest()
        plant_secret(w2.hex())
        a.start()
        login(a)
        wait_for(lambda: (ssn_enc(a, p_old) or "").startswith("e2:") and
                 sync_json(a)["la_key"] == w2.hex() and "demo-la:e2" in dict(key_rows(a)),
                 timeout=120, what="the SSN written again under the new key, and the key, at"
                 " the office")
        # Its pull past the rotation noted at the hub (kept a moment later).
        wait_for(lambda: count(hub, "SELECT pull_cursor >= (SELECT max(seq) FROM change_log"
                               " WHERE tbl='case_keys' AND row_id='demo-la:e2') FROM nodes"
                               " WHERE id=?", a.node_id) == 1,
                 timeout=60, what="the office's pull past the rotation at the hub")
        # Retired, here by the admin route (the command does the same).
        r = self.admin(hub, "POST", retire, {"force": False})
        self.assertEqual((r.status, r.json()), (200, {"id": "demo-la", "epoch": 2, "retired": 1}),
                         r.body)
        self.assertEqual([x[0] for x in key_rows(hub)], ["demo-la:e2"])
        ev = [e for e in self.admin(hub, "GET", "/api/v1/audit-events").json()
              if e["action"] == "ssn_key.retire"]
        self.assertEqual(len(ev), 1, ev)
        self.assertIn("1 older key(s), epoch 2 kept", json.dumps(ev[0]))
        r = self.admin(hub, "POST", retire)
        self.assertEqual((r.status, r.json()), (200, {"id": "demo-la", "epoch": 2, "retired": 0}),
                         r.body)
        wait_for(lambda: [x[0] for x in key_rows(a)] == ["demo-la:e2"], timeout=90,
                 what="the retired key gone from the office's case_keys")
        # Every SSN still reads, at the office and at the hub.
        self.assertEqual(revealed(a, p_old), OLD_SSN)
        self.assertEqual(read_with(w2, key_rows(hub), p_old, ssn_enc(hub, p_old)), OLD_SSN)
        p_new = register(a, "Bea", NEW_SSN, birth="1979-11-30")
        self.assertTrue(ssn_enc(a, p_new).startswith("e2:"))
        self.assertEqual(revealed(a, p_new), NEW_SSN)
        wait_for(lambda: ssn_enc(hub, p_new), timeout=90, what="the new participant at the hub")
        self.assertEqual(read_with(w2, key_rows(hub), p_new, ssn_enc(hub, p_new)), NEW_SSN)
        # One person is still found as one by the full SSN.
        r = a.post("/api/v1/case/participants/search", {"q": OLD_SSN})
        self.assertEqual((r.status, [x["id"] for x in r.json()]), (200, [p_old]), r.body)
        p = hub_tool(hub, "ssn-key-retire", "demo-la")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"no SSN key older than epoch 2's", p.stdout)

        # A row at the office still under the retired key: refused clearly.
        harness.db_write(a, "UPDATE participants SET ssn_enc=? WHERE id=?", before, p_old)
        r = a.post("/api/v1/case/participants/%s/ssn/reveal" % p_old)
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("key it was protected with (epoch 1) has been retired at the hub; record the"
                      " SSN again", r.json()["error"])
        self.assertEqual(revealed(a, p_new), NEW_SSN)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine"), 0)

    def test_console_keeps_office_ssn_under_older_key(self):
        """The hub console's resolution of a conflict on a participant's
        ssn_enc, keeping the office's value written under an older key (a PC
        offline across the rotation), wrote it with the domain rules alone:
        the Local Area stayed marked done (ssn_reencrypted), so the SSN stayed
        under the older key and a retirement then deleted that key - the SSN
        lost.  Now it is written again under the newest key before the
        retirement, and still reads; an office's value under a key already
        retired is refused (422, saying so), the row as it was."""
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office")
        wait_for(lambda: la_key_at(a), timeout=60, what="the Local Area key")
        p = register(a, "Ada", OLD_SSN)
        wait_for(lambda: ssn_enc(hub, p), timeout=90, what="the participant at the hub")
        old = ssn_enc(hub, p)
        self.assertFalse(old.startswith("e2:"), old)
        a.stop()
        r = self.admin(hub, "POST", "/api/v1/admin/local-areas/demo-la/ssn-key/rotate")
        self.assertEqual(r.status, 200, r.body)
        # The retirement writes the stored SSNs again first (the Local Area
        # then marked done), then stops at the office not pulled since.
        retire = "/api/v1/admin/local-areas/demo-la/ssn-key/retire"
        r = self.admin(hub, "POST", retire)
        self.assertEqual((r.status, r.json().get("field")), (409, "force"), r.body)
        now = ssn_enc(hub, p)
        self.assertTrue(now.startswith("e2:"), now)
        self.assertEqual(count(hub, "SELECT epoch FROM ssn_reencrypted WHERE"
                               " local_area_id='demo-la'"), 2)

        def conflict(cid, office):
            harness.db_write(hub, "INSERT INTO conflicts(id, tbl, row_id, column_name, base_value,"
                             " local_value, remote_value, winner, node_id, created_at, updated_hlc)"
                             " VALUES(?, 'participants', ?, 'ssn_enc', ?, ?, ?, 'local', ?, ?, '')",
                             cid, p, json.dumps(old), json.dumps(now), json.dumps(office),
                             a.node_id, int(time.time() * 1000))

        # The operator keeps the office's value, under epoch 1.
        conflict("c-ssn1", old)
        r = self.admin(hub, "POST", "/api/v1/conflicts/c-ssn1/resolve", {"keep": "office"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(ssn_enc(hub, p), old)
        # Retired past the office: the SSN is written again first, and reads.
        r = self.admin(hub, "POST", retire, {"force": True})
        self.assertEqual((r.status, r.json().get("retired")), (200, 1), r.body)
        self.assertEqual([x[0] for x in key_rows(hub)], ["demo-la:e2"])
        with open(os.path.join(hub.data, "master.key")) as f:
            master = bytes.fromhex(f.read().strip())
        w2 = hmac.new(master, b"outpost-la-key\ndemo-la\n2", hashlib.sha256).digest()
        self.assertTrue(ssn_enc(hub, p).startswith("e2:"), ssn_enc(hub, p))
        self.assertEqual(read_with(w2, key_rows(hub), p, ssn_enc(hub, p)), OLD_SSN)

        # Epoch 1 is retired now: its value is refused, not stored unreadable.
        now = ssn_enc(hub, p)
        conflict("c-ssn2", old)
        r = self.admin(hub, "POST", "/api/v1/conflicts/c-ssn2/resolve", {"keep": "office"})
        self.assertEqual((r.status, r.json().get("field")), (422, "keep"), r.body)
        self.assertIn("epoch 1, which the hub has retired", r.json()["error"])
        self.assertEqual(ssn_enc(hub, p), now)
        self.assertEqual(count(hub, "SELECT count(*) FROM conflicts WHERE id='c-ssn2' AND"
                               " resolved_at IS NULL"), 1)

    def test_push_under_older_key_written_again_in_the_push(self):
        """An office that had not pulled a rotation pushed SSNs under the
        older key; the hub stored them so and only its minute timer wrote
        them again under the newest key, so for up to a minute (longer, on a
        busy hub) the hub held rows under the key the rotation was meant to
        end.  The push writes them again itself, in its own transaction,
        after its every entry: checked right after `outpost-sync push`
        returns, before any timer (the row stored before the rotation, which
        only the timer's pass writes, is still under epoch 1).  A second
        entry of the same push on the same row's SSN (a pseudo-SSN that
        follows a new birth date) merges as before: no conflict, nothing
        quarantined; the office then pulls the rows and still reads them."""
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office")
        wait_for(lambda: la_key_at(a), timeout=60, what="the Local Area key")
        p_old = register(a, "Ada", OLD_SSN)
        wait_for(lambda: ssn_enc(hub, p_old), timeout=90, what="the participant at the hub")
        # Cut off from the hub: what the office records now is under epoch 1.
        hub.stop()
        p_new = register(a, "Bea", NEW_SSN, birth="1979-11-30")
        p_ps = register(a, "Cy", None, birth="1970-06-15")
        r = a.request("PATCH", "/api/v1/case/participants/" + p_ps, body={"birth_date": "1971-07-16"})
        self.assertEqual(r.status, 200, r.body)
        pseudo = revealed(a, p_ps)
        self.assertTrue(pseudo, "the office shows the pseudo-SSN")
        for pid in (p_new, p_ps):
            self.assertFalse(ssn_enc(a, pid).startswith("e2:"), ssn_enc(a, pid)[:6])
        a.stop()
        hub.start()
        r = self.admin(hub, "POST", "/api/v1/admin/local-areas/demo-la/ssn-key/rotate")
        self.assertEqual((r.status, r.json()), (200, {"id": "demo-la", "epoch": 2}), r.body)
        with open(os.path.join(hub.data, "master.key")) as f:
            master = bytes.fromhex(f.read().strip())
        w2 = hmac.new(master, b"outpost-la-key\ndemo-la\n2", hashlib.sha256).digest()
        plant_secret(w2.hex())

        # The push alone (no pull: the office has not seen the rotation).
        p = sync(a, "push")
        self.assertEqual(p.returncode, 0, p.stderr)
        for pid, ssn in ((p_new, NEW_SSN), (p_ps, pseudo)):
            enc = ssn_enc(hub, pid)
            self.assertTrue(enc.startswith("e2:"), enc[:6])
            self.assertEqual(read_with(w2, key_rows(hub), pid, enc), ssn)
        # No timer has run: what the push did not bring is the pass's.
        self.assertFalse(ssn_enc(hub, p_old).startswith("e2:"), ssn_enc(hub, p_old)[:6])
        self.assertEqual(count(hub, "SELECT count(*) FROM conflicts"), 0)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine"), 0)
        # The hub's own write (origin NULL), logged after the office's, so
        # the office gets it with its next pull.
        for pid in (p_new, p_ps):
            self.assertEqual(count(hub, "SELECT origin IS NULL FROM change_log WHERE"
                                   " tbl='participants' AND row_id=? ORDER BY seq DESC LIMIT 1",
                                   pid), 1)

        a.start()
        login(a)
        wait_for(lambda: ssn_enc(a, p_new).startswith("e2:") and
                 ssn_enc(a, p_ps).startswith("e2:") and sync_json(a)["la_key"] == w2.hex() and
                 "demo-la:e2" in dict(key_rows(a)), timeout=120,
                 what="the rows under epoch 2, and the key, at the office")
        self.assertEqual(revealed(a, p_new), NEW_SSN)
        self.assertEqual(revealed(a, p_ps), pseudo)
        self.assertEqual(count(hub, "SELECT count(*) FROM conflicts"), 0)
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine"), 0)

    def test_retire_serves_others_meanwhile(self):
        """The retire route writes the stored SSNs again first: a scan of
        the participants of the Local Areas not yet done, which decrypts and
        encrypts each SSN left (minutes, for a large one).  It ran on the
        hub's event loop, and every other request - the console, every
        office's sync - waited for it.  It runs in the thread pool: held back
        here (OUTPOST_TEST_HOOKS_REENCRYPT_DELAY_MS), the hub answers another
        request meanwhile, then the retirement."""
        hub = harness.Daemon("hub", env={"OUTPOST_TEST_HOOKS_REENCRYPT_DELAY_MS": "4000"})
        self.o.daemons.append(hub)
        hub.start()
        out = {}
        th = threading.Thread(target=lambda: out.setdefault(
            "r", self.admin(hub, "POST", "/api/v1/admin/local-areas/demo-la/ssn-key/retire")))
        th.start()
        time.sleep(0.5)
        r = self.admin(hub, "GET", "/api/v1/admin/local-areas")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(th.is_alive(), "the hub answered nothing else while the pass ran")
        th.join()
        self.assertEqual((out["r"].status, out["r"].json()),
                         (200, {"id": "demo-la", "epoch": 1, "retired": 0}), out["r"].body)


if __name__ == "__main__":
    unittest.main()
