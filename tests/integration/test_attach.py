"""Lead attachments on real processes: a hub and two enrolled office nodes
(A in demo-office, B in demo-office-2; CRM data is statewide, so both hold
every lead), replicated with `outpost-sync push/pull` only (the nodes run
with --sync-interval 0).

  * a file uploaded at A reaches the hub and B byte for byte (downloaded at
    B with Content-Disposition: attachment and nosniff, read from hub.db);
  * a file at the cap (2 MiB) replicates, two of them go in two push
    batches (each is half the push batch bound), and verify passes; two of
    them in an offline bundle (one frame of more than 4 MiB) import at the
    hub, and the node's later push of them is a replay; an outbox entry
    larger than the push batch bound (three files at the cap in one
    changeset, 6 MiB) goes as a batch of its own and is applied;
  * a file over the cap is answered 413 naming the field and a body far
    over it is refused by the server itself; the node keeps serving; wrong
    and disguised types get 415 naming the field; nothing reaches the outbox;
  * a node that forges an attachment row (its SHA-256 changed in the
    outbox before the push) has that entry quarantined at the hub, and the
    entries after it in the batch are applied; the console shows the file
    in it as its size and hash;
  * withdrawing hides the file on both nodes (410 on download), keeps it
    listed with include=withdrawn, and the hub keeps both rows;
  * View Access may list and download, but not upload or withdraw.
"""
import hashlib
import json
import os
import tempfile
import time
import unittest
import urllib.parse
import http.client

import harness
from harness import BIN, Daemon, hub_code, login, plant_secret, run_tool

API = "/api/v1/crm"
CAP = 2 * 1024 * 1024


def pdf_bytes(n, seed=b"x"):
    """A PDF-looking file of exactly n bytes that does not compress."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    out = bytearray(head)
    k = 0
    while len(out) < n:
        out += hashlib.sha256(seed + k.to_bytes(8, "big")).digest()
        k += 1
    return bytes(out[:n])


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


class AttachmentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Daemon("hub").start()
        cls.nodes = []
        try:
            cls.a = cls.enrolled("attach-a", "demo-office")
            cls.b = cls.enrolled("attach-b", "demo-office-2")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def enrolled(cls, tag, office):
        d = Daemon("node", name="%s-%d" % (tag, os.getpid()),
                   args=["--demo", "no", "--sync-interval", "0"])
        cls.nodes.append(d)
        p = run_tool(["enroll", "--hub", cls.hub.url, "--code", hub_code(cls.hub, office),
                      "--data", d.data, "--json"])
        if p.returncode != 0:
            raise RuntimeError("enroll failed: %r %r" % (p.stdout, p.stderr))
        with open(os.path.join(d.data, "sync.json")) as f:
            plant_secret(json.load(f)["node_secret"])
        d.start()
        cls.sync(d, "pull")  # the staff accounts come with the first pull
        login(d)
        return d

    @classmethod
    def tearDownClass(cls):
        for d in cls.nodes:
            d.cleanup()
        cls.hub.cleanup()

    # ---- helpers -------------------------------------------------------------
    @classmethod
    def sync(cls, node, cmd):
        return harness.sync_json(node, cmd)

    def settle(self):
        for node in (self.a, self.b):
            self.sync(node, "push")
        for node in (self.a, self.b):
            self.sync(node, "pull")

    def verify(self, node):
        p = run_tool(["verify", "--data", node.data, "--json"])
        self.assertEqual(p.returncode, 0, (p.stdout.decode()[-2000:], p.stderr.decode()))

    def lead(self, node, name):
        r = node.post(API + "/employers", {"company_name": name, "zip": "95814",
                                           "confirm_not_duplicate": True})
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"]

    def upload(self, node, emp, data, ctype, name):
        return node.request("POST", "%s/employers/%s/attachments?filename=%s" % (
            API, emp, urllib.parse.quote(name)), body=data, headers={"Content-Type": ctype},
            timeout=60)

    def upload_pdfs(self, node, emp, files, name):
        """Each of files uploaded to emp at node as a PDF named name % i,
        each accepted: their ids."""
        ids = []
        for i, f in enumerate(files):
            r = self.upload(node, emp, f, "application/pdf", name % i)
            self.assertEqual(r.status, 201, r.body)
            ids.append(r.json()["id"])
        return ids

    def outbox(self, node):
        db = node.db()
        try:
            return db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        finally:
            db.close()

    def hub_rows(self, sql, *args):
        db = self.hub.db()
        try:
            return [dict(r) for r in db.execute(sql, args).fetchall()]
        finally:
            db.close()

    def bad(self, r, status, field):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.json().get("field"), field, r.body)
        self.assertTrue(r.json().get("error"))

    # ---- tests -----------------------------------------------------------------
    def test_upload_at_a_downloads_identical_at_b_and_hub(self):
        emp = self.lead(self.a, "Attachment Replication Foods")
        pdf = pdf_bytes(40000, b"agreement")
        r = self.upload(self.a, emp, pdf, "application/pdf", "Signed agreement")
        self.assertEqual(r.status, 201, r.body)
        att = r.json()
        self.assertEqual((att["filename"], att["content_type"], att["size"], att["sha256"]),
                         ("Signed agreement.pdf", "application/pdf", len(pdf),
                          hashlib.sha256(pdf).hexdigest()))
        self.assertEqual(att["uploaded_by"], "demo-staff")
        self.assertEqual(att["office_id"], "demo-office")
        r = self.upload(self.a, emp, PNG, "image/png", "../../etc/badge.png")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["filename"], "badge.png")  # no path survives
        png_id = r.json()["id"]
        self.settle()

        for node in (self.a, self.b):
            s = node.get(API + "/employers/" + emp).json()
            self.assertEqual([x["id"] for x in s["attachments"]], [png_id, att["id"]], node.name)
            r = node.get(API + "/employers/%s/attachments" % emp)
            self.assertEqual(r.status, 200)
            self.assertNotIn("data", r.json()[0])  # metadata only
            r = node.get(att["url"])
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, pdf, node.name)
            self.assertEqual(r.header("Content-Type"), "application/pdf")
            self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")
            self.assertTrue(r.header("Content-Disposition").startswith(
                'attachment; filename="Signed agreement.pdf"'), r.header("Content-Disposition"))
            self.assertEqual(node.get(API + "/attachments/" + png_id).body, PNG)
        row = self.hub_rows("SELECT data, size, sha256, filename FROM employer_attachments WHERE id=?",
                            att["id"])[0]
        self.assertEqual((bytes(row["data"]), row["size"], row["sha256"]),
                         (pdf, len(pdf), att["sha256"]))
        self.verify(self.a)
        self.verify(self.b)

    def test_attachments_at_the_cap_replicate(self):
        emp = self.lead(self.a, "Attachment Cap Machining")
        files = [pdf_bytes(CAP, b"cap-one"), pdf_bytes(CAP, b"cap-two")]
        ids = self.upload_pdfs(self.a, emp, files, "scan %d.pdf")
        db = self.a.db()
        try:
            sizes = [r[0] for r in db.execute("SELECT nbytes FROM outbox ORDER BY seq DESC LIMIT 2")]
        finally:
            db.close()
        self.assertTrue(all(s > CAP for s in sizes), sizes)
        p = self.sync(self.a, "push")
        self.assertEqual((p["quarantined"], p["pending"]), (0, 0), p)
        self.assertGreaterEqual(p["batches"], 2, p)  # two 2 MiB entries exceed one batch
        self.sync(self.b, "push")
        pl = self.sync(self.b, "pull")
        self.assertGreater(pl["bytes"], CAP, pl)
        for i, f in zip(ids, files):
            r = self.b.get(API + "/attachments/" + i, timeout=60)
            self.assertEqual((r.status, hashlib.sha256(r.body).hexdigest()),
                             (200, hashlib.sha256(f).hexdigest()))
            self.assertEqual(self.hub_rows("SELECT length(data) AS n FROM employer_attachments"
                                           " WHERE id=?", i)[0]["n"], CAP)
        self.sync(self.a, "pull")
        self.verify(self.a)
        self.verify(self.b)

    def test_an_outbox_entry_larger_than_a_batch_goes_alone(self):
        emp = self.lead(self.a, "Attachment Big Entry Mills")
        self.sync(self.a, "push")
        files = [pdf_bytes(CAP, b"entry-%d" % i) for i in range(3)]
        ids = self.upload_pdfs(self.a, emp, files, "entry %d.pdf")
        # One changeset holding the three inserts (one table header, three
        # changes), as one write of three files would make; it replaces each
        # of the three entries, so the outbox stays gap-free and the second
        # and third copies are replays of identical rows at the hub.
        db = self.a.db()
        try:
            with db:
                rows = db.execute("SELECT seq, changeset FROM outbox ORDER BY seq").fetchall()
                self.assertEqual(len(rows), 3)
                parts = [bytes(cs) for _, cs in rows]
                ncol = parts[0][1]  # a one-byte varint: ten columns
                head = 1 + 1 + ncol + len(b"employer_attachments") + 1
                self.assertTrue(all(p[:head] == parts[0][:head] for p in parts))
                big = parts[0] + b"".join(p[head:] for p in parts[1:])
                self.assertGreater(len(big), 4 * 1024 * 1024 + 64 * 1024)
                for seq, _ in rows:
                    db.execute("UPDATE outbox SET changeset=?, nbytes=? WHERE seq=?",
                               (big, len(big), seq))
        finally:
            db.close()
        p = self.sync(self.a, "push")
        self.assertEqual((p["quarantined"], p["pending"], p["batches"]), (0, 0, 3), p)
        for i, f in zip(ids, files):
            row = self.hub_rows("SELECT sha256, length(data) AS n FROM employer_attachments WHERE id=?", i)
            self.assertEqual((row[0]["sha256"], row[0]["n"]), (hashlib.sha256(f).hexdigest(), CAP))

    def test_bundle_of_attachments_at_the_cap_imports(self):
        emp = self.lead(self.a, "Attachment Bundle Orchards")
        self.sync(self.a, "push")
        files = [pdf_bytes(CAP, b"bundle-one"), pdf_bytes(CAP, b"bundle-two")]
        ids = self.upload_pdfs(self.a, emp, files, "bundle %d.pdf")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "office.bundle")
            p = run_tool(["export", "--data", self.a.data, "--out", path, "--json"])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertGreater(os.path.getsize(path), 2 * CAP)  # one frame past the batch bound
            p = run_tool([os.path.join(BIN, "outpost-hub"), "import", path, "--data", self.hub.data,
                          "--json"], name="hub")
            self.assertEqual(p.returncode, 0, (p.stdout, p.stderr))
            j = json.loads(p.stdout)
            self.assertEqual(j["quarantined"], [], j)
            self.assertGreaterEqual(j["applied"], 2, j)
        for i, f in zip(ids, files):
            row = self.hub_rows("SELECT sha256, length(data) AS n FROM employer_attachments WHERE id=?", i)
            self.assertEqual((row[0]["sha256"], row[0]["n"]), (hashlib.sha256(f).hexdigest(), CAP))
        # The push is a replay: skipped, and acknowledged past the bundle's
        # entries, so the outbox empties (a reply may cover unsent entries).
        p = self.sync(self.a, "push")
        self.assertEqual((p["applied"], p["pending"]), (0, 0), p)
        self.assertGreaterEqual(p["skipped"], 1, p)

    def test_oversize_and_wrong_types_refused(self):
        emp = self.lead(self.a, "Attachment Refusals Supply")
        before = self.outbox(self.a)
        # Over the cap: read by the route, answered with the field.
        self.bad(self.upload(self.a, emp, pdf_bytes(CAP + 1), "application/pdf", "big.pdf"),
                 413, "file")
        # Far over it: the server refuses it before reading the body (a 413, or
        # the connection closed while the client is still sending).
        try:
            r = self.upload(self.a, emp, pdf_bytes(6 * 1024 * 1024), "application/pdf", "huge.pdf")
            self.assertEqual(r.status, 413, r.body)
        except (OSError, http.client.HTTPException):
            pass
        self.assertEqual(self.a.get("/healthz").status, 200)
        self.bad(self.upload(self.a, emp, b"", "application/pdf", "empty.pdf"), 400, "file")
        html = b"<!doctype html><script>alert(document.cookie)</script>"
        self.bad(self.upload(self.a, emp, html, "application/pdf", "invoice.pdf"), 415, "file")
        self.bad(self.upload(self.a, emp, html, "text/html", "page.html"), 415, "content_type")
        self.bad(self.upload(self.a, emp, b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                             "text/plain", "logo.txt"), 415, "file")
        self.bad(self.upload(self.a, emp, PNG, "application/pdf", "badge.pdf"), 415, "file")
        self.bad(self.upload(self.a, emp, b"MZ\x90\x00\x03", "application/octet-stream", "a.exe"),
                 415, "content_type")
        r = self.a.request("POST", "%s/employers/%s/attachments" % (API, emp), body=PNG,
                           headers={"Content-Type": "image/png"})
        self.bad(r, 400, "filename")
        r = self.upload(self.a, "no-such-employer", PNG, "image/png", "x.png")
        self.bad(r, 404, "id")
        self.assertEqual(self.outbox(self.a), before)  # nothing written
        # A name that would open as another kind of file gets the type's extension.
        r = self.upload(self.a, emp, b"Hours: 9-5\n", "text/plain", "notes.html")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["filename"], "notes.html.txt")
        r = self.a.get(r.json()["url"])
        self.assertEqual(r.header("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(self.a.get("/healthz").status, 200)

    def test_forged_attachment_row_is_quarantined_and_the_batch_flows(self):
        c = self.enrolled("attach-c", "demo-office")
        emp = self.lead(c, "Attachment Forgery Works")
        real = pdf_bytes(5000, b"forged")
        r = self.upload(c, emp, real, "application/pdf", "quote.pdf")
        self.assertEqual(r.status, 201, r.body)
        att = r.json()
        r = c.post(API + "/employers/%s/notes" % emp, {"body": "Called about the quote"})
        self.assertEqual(r.status, 201, r.body)
        # The node (or whoever holds its disk) rewrites the hash in the outbox.
        wrong = hashlib.sha256(b"something else").hexdigest()
        db = c.db()
        try:
            with db:
                rows = db.execute("SELECT seq, changeset FROM outbox").fetchall()
                hits = [(s, bytes(cs)) for s, cs in rows if att["sha256"].encode() in bytes(cs)]
                self.assertEqual(len(hits), 1)
                seq, cs = hits[0]
                db.execute("UPDATE outbox SET changeset=? WHERE seq=?",
                           (cs.replace(att["sha256"].encode(), wrong.encode()), seq))
        finally:
            db.close()
        p = self.sync(c, "push")
        self.assertEqual((p["quarantined"], p["pending"]), (1, 0), p)
        q = self.hub_rows("SELECT tbl, reason, changeset FROM quarantine WHERE tbl='employer_attachments'")
        self.assertEqual(len(q), 1, q)
        self.assertIn("sha256", q[0]["reason"])
        self.assertIn(wrong.encode(), bytes(q[0]["changeset"]))  # kept whole
        # The console shows the refused file as its size and hash, not as hex.
        with open(os.path.join(self.hub.data, "admin.token")) as f:
            token = f.read().strip()
        plant_secret(token)
        qid = self.hub_rows("SELECT id FROM quarantine WHERE tbl='employer_attachments'")[0]["id"]
        r = self.hub.get("/api/v1/quarantine/" + qid, headers={"Authorization": "Bearer " + token})
        self.assertEqual(r.status, 200, r.body)
        cols = {c["name"]: c for ch in r.json()["changes"] if ch["table"] == "employer_attachments"
                for c in ch["columns"]}
        self.assertEqual(cols["data"]["new"], {"blob_bytes": len(real),
                                               "sha256": att["sha256"]})
        self.assertEqual(cols["sha256"]["new"], wrong)
        self.assertLess(len(r.body), 20000)
        self.assertEqual(self.hub_rows("SELECT count(*) AS n FROM employer_attachments WHERE id=?",
                                       att["id"])[0]["n"], 0)
        # The entries around it were applied: the lead before, the note after.
        self.assertEqual(self.hub_rows("SELECT count(*) AS n FROM employers WHERE id=?", emp)[0]["n"], 1)
        self.assertEqual(self.hub_rows("SELECT count(*) AS n FROM employer_notes WHERE employer_id=?",
                                       emp)[0]["n"], 1)
        self.assertEqual(self.hub.get("/healthz").status, 200)

    def test_withdraw_hides_it_on_both_nodes_and_keeps_the_rows(self):
        emp = self.lead(self.a, "Attachment Withdrawal Bakery")
        r = self.upload(self.a, emp, PNG, "image/png", "wrong-badge.png")
        self.assertEqual(r.status, 201, r.body)
        att = r.json()
        self.settle()
        self.assertEqual(self.b.get(att["url"]).body, PNG)
        r = self.b.post(att["url"] + "/withdraw", {"reason": "uploaded to the wrong lead"})
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["withdrawn"])
        self.bad(self.b.post(att["url"] + "/withdraw", {}), 409, "id")
        self.settle()
        for node in (self.a, self.b):
            s = node.get(API + "/employers/" + emp).json()
            self.assertEqual(s["attachments"], [], node.name)
            self.bad(node.get(att["url"]), 410, "id")
            lst = node.get(API + "/employers/%s/attachments?include=withdrawn" % emp).json()
            self.assertEqual([(x["id"], x["withdrawn"], x["withdrawn_reason"]) for x in lst],
                             [(att["id"], True, "uploaded to the wrong lead")], node.name)
        self.assertEqual(bytes(self.hub_rows("SELECT data FROM employer_attachments WHERE id=?",
                                             att["id"])[0]["data"]), PNG)
        w = self.hub_rows("SELECT attachment_id, employer_id, office_id FROM"
                          " employer_attachment_withdrawals WHERE attachment_id=?", att["id"])
        self.assertEqual(w, [{"attachment_id": att["id"], "employer_id": emp,
                              "office_id": "demo-office-2"}])
        self.verify(self.a)
        self.verify(self.b)

    def test_view_access_lists_and_downloads_but_cannot_upload(self):
        emp = self.lead(self.a, "Attachment Privileges Dairy")
        r = self.upload(self.a, emp, PNG, "image/png", "logo.png")
        self.assertEqual(r.status, 201, r.body)
        att = r.json()
        v = harness.client(self.a)
        login(v, harness.DEMO_GROUP_USERS["View Access"])
        before = self.outbox(self.a)
        r = self.upload(v, emp, PNG, "image/png", "mine.png")
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(v.post(att["url"] + "/withdraw", {}).status, 403)
        self.assertEqual(self.outbox(self.a), before)
        self.assertEqual(v.get(API + "/employers/%s/attachments" % emp).status, 200)
        self.assertEqual(v.get(att["url"]).body, PNG)
        # Signed out: nothing.
        anon = harness.client(self.a)
        self.assertEqual(anon.get(att["url"]).status, 401)
        self.assertEqual(self.upload(anon, emp, PNG, "image/png", "x.png").status, 401)


if __name__ == "__main__":
    unittest.main()
