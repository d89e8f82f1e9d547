"""From an empty hub to every office's greeter (issue 14), on a real hub
started WITHOUT demo data: operations creates a field division, Local Areas
(with their pseudo-SSN identifier) and offices (time zone, Title I partner);
greeter reasons are set up by the roles WSD24-13 names (the Local Area's MIS
Administrator; the field division's SPOC for an office without a Title I
partner) and refused to anyone else; a reason reaches the enrolled office's
kiosk within a sync cycle, a retired one leaves the kiosk and stays on past
visits; the pseudo-SSN at the node uses the Local Area's identifier.
"""
import datetime
import json
import os
import urllib.parse
import secrets
import uuid
import time
import unittest

import harness
from harness import Daemon, plant_secret
from test_accounts import Base, Console, designate
from test_hub import build_frame, changeset_insert, enroll_identity
from test_sync_node import hub_tool, sync, wait_for


class SetupTest(Base):
    hub_args = ("--demo", "no", "--password_iters", "1000")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daemons = []

    @classmethod
    def tearDownClass(cls):
        for d in reversed(cls.daemons):
            d.cleanup()
        super().tearDownClass()

    # ---- helpers -----------------------------------------------------------
    def division(self):
        d = self.uniq("div-")
        r = self.ops.post("/api/v1/admin/field-divisions", {"id": d, "name": "Division " + d})
        self.assertEqual(r.status, 201, r)
        return d

    def place(self, div=None, prefix=None, title1=True):
        la = self.uniq("la-")
        body = {"id": la, "name": "Area " + la}
        if div:
            body["field_division"] = div
        if prefix:
            body["pseudo_ssn_prefix"] = prefix
        r = self.ops.post("/api/v1/admin/local-areas", body)
        self.assertEqual(r.status, 201, r)
        r = self.ops.post("/api/v1/admin/offices", {
            "id": la + "-office", "name": "Office " + la, "local_area_id": la,
            "address": "1 Main St", "timezone": "America/Los_Angeles",
            "has_title1_partner": title1})
        self.assertEqual(r.status, 201, r)
        return la, la + "-office"

    def reason(self, c, la, label, expect=201, **kw):
        body = {"local_area_id": la, "label": label, "label_es": label + " (es)"}
        body.update(kw)
        r = c.post("/api/v1/admin/greeter-reasons", body)
        self.assertEqual(r.status, expect, r)
        return r.json()

    def admin(self, username, roles, **kw):
        """An administrator with roles (any keyword of the access request)."""
        staff, temp = self.create(self.ops, username, group="View Access", **kw)
        r = designate(self.ops, staff["id"], list(roles))
        self.assertEqual(r.status, 200, r)
        c = Console(self.hub)
        self.assertEqual(c.login(username, temp).status, 200)
        pw = "Adm." + secrets.token_hex(4) + "Q7"
        plant_secret(pw)
        r = c.post("/api/v1/admin/session/password", {"current_password": temp, "new_password": pw})
        self.assertEqual(r.status, 200, r)
        return c

    def patch(self, c, path, body):
        return c.request("PATCH", path, body=body)

    # ---- places ------------------------------------------------------------
    def test_empty_hub_has_no_demo(self):
        db = self.db()
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM local_areas WHERE id='demo-la'")
                             .fetchone()[0], 0)
            # the code lists are loaded without demo data too
            self.assertGreater(db.execute("SELECT count(*) FROM participant_activity_codes")
                               .fetchone()[0], 100)
            self.assertGreater(db.execute("SELECT count(*) FROM followup_codes").fetchone()[0], 10)
            self.assertEqual(db.execute("SELECT status FROM employer_activity_codes WHERE code='E74'")
                             .fetchone()[0], "retired")
            self.assertGreaterEqual(db.execute("SELECT count(*) FROM employer_activity_codes")
                                    .fetchone()[0], 74)
        finally:
            db.close()

    def test_places_checked(self):
        div = self.division()
        la, office = self.place(div, prefix="961", title1=False)
        r = self.ops.get("/api/v1/admin/local-areas")
        mine = [x for x in r.json() if x["id"] == la][0]
        self.assertEqual(mine["pseudo_ssn_prefix"], "961")
        self.assertEqual(mine["field_division"], div)
        # its SSN keys (the console's Local Areas table): one, epoch 1; a
        # rotation adds the next and keeps the older one
        self.assertEqual((mine["ssn_keys"], mine["ssn_key_epoch"]), (1, 1))
        r = self.ops.post("/api/v1/admin/local-areas/%s/ssn-key/rotate" % la, {})
        self.assertEqual((r.status, r.json()), (200, {"id": la, "epoch": 2}), r)
        mine = [x for x in self.ops.get("/api/v1/admin/local-areas").json() if x["id"] == la][0]
        self.assertEqual((mine["ssn_keys"], mine["ssn_key_epoch"]), (2, 2))
        offs = {o["id"]: o for o in self.ops.get("/api/v1/admin/offices").json()}
        self.assertEqual(offs[office]["has_title1_partner"], 0)
        self.assertEqual(offs[office]["timezone"], "America/Los_Angeles")
        # every field at fault, at once
        r = self.ops.post("/api/v1/admin/local-areas",
                          {"id": "bad id", "pseudo_ssn_prefix": "123", "field_division": "nope"})
        self.assertEqual(r.status, 400, r)
        fields = sorted(e["field"] for e in r.json()["errors"])
        self.assertEqual(fields, ["field_division", "id", "name", "pseudo_ssn_prefix"])
        # an identifier is one Local Area's
        r = self.ops.post("/api/v1/admin/local-areas",
                          {"id": self.uniq("la-"), "name": "Other", "pseudo_ssn_prefix": "961"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["field"], "pseudo_ssn_prefix")
        r = self.ops.post("/api/v1/admin/offices", {"name": "X", "local_area_id": la,
                                                    "timezone": "Mars/Olympus"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["field"], "timezone")
        r = self.ops.post("/api/v1/admin/offices", {"name": "X", "local_area_id": "no-such-la"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["field"], "local_area_id")
        # operations changes them later; a change is audited
        r = self.patch(self.ops, "/api/v1/admin/offices/" + office, {"has_title1_partner": True})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["has_title1_partner"], 1)
        r = self.patch(self.ops, "/api/v1/admin/local-areas/" + la, {"pseudo_ssn_prefix": "962"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["pseudo_ssn_prefix"], "962")
        # one name once (offices replicate everywhere and are never deleted):
        # a second office of the Local Area, or Local Area, of the same name
        r = self.ops.post("/api/v1/admin/offices", {"name": ("Office " + la).upper(), "local_area_id": la})
        self.assertEqual((r.status, r.json()["field"]), (409, "name"), r)
        r = self.ops.post("/api/v1/admin/local-areas", {"id": self.uniq("la-"), "name": "Area " + la})
        self.assertEqual((r.status, r.json()["field"]), (409, "name"), r)
        la2, office2 = self.place()
        r = self.patch(self.ops, "/api/v1/admin/offices/" + office2, {"name": "Office " + la2})
        self.assertEqual(r.status, 200, r)  # its own name again
        r = self.ops.post("/api/v1/admin/offices", {"name": "Office " + la, "local_area_id": la2})
        self.assertEqual(r.status, 201, r)  # another Local Area's office
        db = self.db()
        try:
            acts = [a for (a,) in db.execute(
                "SELECT action FROM admin_audit WHERE subject_id IN (?, ?)", (la, office))]
        finally:
            db.close()
        for a in ("local_area.create", "office.create", "office.change", "local_area.change"):
            self.assertIn(a, acts)

    def test_only_operations_creates_places(self):
        la, _ = self.place()
        _, mis, _ = self.make_admin(self.uniq("mis"), la=la)
        r = mis.post("/api/v1/admin/local-areas", {"id": self.uniq("la-"), "name": "Mine"})
        self.assertEqual(r.status, 403, r)
        r = mis.post("/api/v1/admin/offices", {"name": "Mine", "local_area_id": la})
        self.assertEqual(r.status, 403, r)
        # ... nor rotates nor retires its SSN keys (operations does, also by
        # the command at the hub)
        for step in ("rotate", "retire"):
            r = mis.post("/api/v1/admin/local-areas/%s/ssn-key/%s" % (la, step), {})
            self.assertEqual(r.status, 403, r)
        r = self.ops.post("/api/v1/admin/local-areas/%s/ssn-key/retire" % la, {})
        self.assertEqual((r.status, r.json()), (200, {"id": la, "epoch": 1, "retired": 0}), r)

    # ---- who sets up greeter reasons ----------------------------------------
    def test_reason_roles(self):
        div = self.division()
        la_a, off_a = self.place(div, title1=True)
        _, off_a2 = la_a, la_a + "-wsb"
        r = self.ops.post("/api/v1/admin/offices", {"id": off_a2, "name": "WSB office",
                                                    "local_area_id": la_a,
                                                    "has_title1_partner": False})
        self.assertEqual(r.status, 201, r)
        la_b, off_b = self.place(div)
        _, mis_a, _ = self.make_admin(self.uniq("misa"), la=la_a)
        _, mis_b, _ = self.make_admin(self.uniq("misb"), la=la_b)
        spoc = self.admin(self.uniq("spoc"), ("spoc",), la=la_a, field_division=div,
                          office_id=off_a2)

        # The MIS Administrator: the whole Local Area and its Title I offices.
        wide = self.reason(mis_a, la_a, "Job search")
        self.assertTrue(wide["active"])
        self.assertIsNone(wide["office_id"])
        narrow = self.reason(mis_a, la_a, "Workshop", office_id=off_a)
        self.assertEqual(narrow["office_id"], off_a)
        # ... not another Local Area's, neither creating nor editing.
        theirs = self.reason(mis_b, la_b, "Their reason")
        r = mis_a.post("/api/v1/admin/greeter-reasons",
                       {"local_area_id": la_b, "label": "Sneaky", "label_es": "Furtivo"})
        self.assertEqual(r.status, 403, r)
        r = self.patch(mis_a, "/api/v1/admin/greeter-reasons/" + theirs["id"], {"label": "Mine now"})
        self.assertEqual(r.status, 403, r)
        r = self.patch(mis_a, "/api/v1/admin/greeter-reasons/" + theirs["id"], {"active": False})
        self.assertEqual(r.status, 403, r)
        # ... nor an office of its Local Area without a Title I partner.
        r = mis_a.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "office_id": off_a2,
                                                         "label": "UI claim", "label_es": "Reclamo"})
        self.assertEqual(r.status, 403, r)
        self.assertIn("SPOC", r.json()["error"])
        # ... and may not narrow a reason to another Local Area's office.
        r = mis_a.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "office_id": off_b,
                                                         "label": "X", "label_es": "X"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["field"], "office_id")

        # The SPOC: offices without a Title I partner in its division only.
        ui = self.reason(spoc, la_a, "UI claim", office_id=off_a2, sort=5)
        self.assertEqual(ui["sort"], 5)
        r = spoc.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "label": "Wide",
                                                        "label_es": "Amplio"})
        self.assertEqual(r.status, 403, r)
        r = spoc.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "office_id": off_a,
                                                        "label": "T1", "label_es": "T1"})
        self.assertEqual(r.status, 403, r)
        r = self.patch(spoc, "/api/v1/admin/greeter-reasons/" + wide["id"], {"sort": 1})
        self.assertEqual(r.status, 403, r)

        # Lists: each sees its own, with what it may edit.
        ids_b = {x["id"] for x in mis_b.get("/api/v1/admin/greeter-reasons").json()}
        self.assertIn(theirs["id"], ids_b)
        self.assertNotIn(wide["id"], ids_b)
        seen = {x["id"]: x for x in spoc.get("/api/v1/admin/greeter-reasons").json()}
        self.assertTrue(seen[ui["id"]]["editable"])
        self.assertFalse(seen[wide["id"]]["editable"])
        allr = {x["id"] for x in self.ops.get("/api/v1/admin/greeter-reasons").json()}
        self.assertTrue({wide["id"], ui["id"], theirs["id"]} <= allr)

        # Bad bodies: every field at fault.
        r = mis_a.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "label": "",
                                                         "sort": -3, "colour": "red"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]),
                         ["colour", "label", "label_es", "sort"])
        # A second active reason of the same label at the same place.
        r = mis_a.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "label": "job SEARCH",
                                                         "label_es": "x"})
        self.assertEqual(r.status, 409, r)
        # ... nor by bringing a retired one back, or moving one there.
        old = self.reason(mis_a, la_a, "Twice")
        self.assertEqual(self.patch(mis_a, "/api/v1/admin/greeter-reasons/" + old["id"],
                                    {"active": False}).status, 200)
        self.reason(mis_a, la_a, "Twice")
        r = self.patch(mis_a, "/api/v1/admin/greeter-reasons/" + old["id"], {"active": True})
        self.assertEqual((r.status, r.json()["field"]), (409, "active"), r)
        # ... nor narrowed to an office, whose kiosk shows the Local Area's
        # reasons too; two offices may each have one, and neither moves to
        # the other's.
        r = mis_a.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "office_id": off_a,
                                                         "label": "Twice", "label_es": "Dos"})
        self.assertEqual((r.status, r.json()["field"]), (409, "label"), r)
        off_t2 = la_a + "-t2"
        self.assertEqual(self.ops.post("/api/v1/admin/offices", {
            "id": off_t2, "name": "Second Title I office", "local_area_id": la_a,
            "has_title1_partner": True}).status, 201)
        self.reason(mis_a, la_a, "Moved", office_id=off_a)
        there = self.reason(mis_a, la_a, "Moved", office_id=off_t2)
        r = self.patch(mis_a, "/api/v1/admin/greeter-reasons/" + there["id"], {"office_id": off_a})
        self.assertEqual((r.status, r.json()["field"]), (409, "office_id"), r)
        # Two such reasons kept from before the rule can still be put in order.
        harness.db_write(self.hub, "INSERT INTO greeter_reasons(id, local_area_id, office_id, label,"
                                   " label_es, sort, active, updated_hlc) VALUES(?, ?, ?, 'Job search',"
                                   " 'Buscar', 50, 1, 'h')", "old-dup-" + la_a, la_a, off_a)
        r = self.patch(mis_a, "/api/v1/admin/greeter-reasons/old-dup-" + la_a, {"sort": 7})
        self.assertEqual(r.status, 200, r)
        r = self.patch(mis_a, "/api/v1/admin/greeter-reasons/old-dup-" + la_a, {"label": "JOB search"})
        self.assertEqual((r.status, r.json()["field"]), (409, "label"), r)
        # A label the kiosk would show as another: spaces around or inside
        # it, another case, the same Spanish label; one of spaces alone, or
        # with an invisible character, is no label.
        for label, es, field in ((" job  search ", "Buscar", "label"), ("Job\tSearch", "x", "label"),
                                 ("Job hunting", "job search (ES)", "label_es")):
            r = mis_a.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "label": label,
                                                             "label_es": es})
            self.assertEqual((r.status, r.json()["field"]), (409, field), (label, r))
        for label in ("   ", "Job\u200bsearch", "\u202eplehS boJ", "\ufeffJob"):
            r = mis_a.post("/api/v1/admin/greeter-reasons", {"local_area_id": la_a, "label": label,
                                                             "label_es": "Algo"})
            self.assertEqual(r.status, 400, (label, r))
            self.assertEqual([e["field"] for e in r.json()["errors"]], ["label"], (label, r))
        # stored as typed, but neat
        neat = self.reason(mis_a, la_a, "  Resume   help ")
        self.assertEqual((neat["label"], neat["label_es"]), ("Resume help", "Resume help (es)"))
        # A SPOC lists its division's Local Areas' reasons, whatever Local
        # Area its own account names (one of another division: not that one).
        other_la, _ = self.place(self.division())
        far = self.reason(self.ops, other_la, "Elsewhere")
        spoc_id = harness.db_value(self.hub, "SELECT id FROM staff WHERE roles LIKE '%spoc%'"
                                             " AND field_division=?", div)
        harness.db_write(self.hub, "UPDATE staff SET local_area_id=? WHERE id=?", other_la, spoc_id)
        try:
            seen = {x["id"] for x in spoc.get("/api/v1/admin/greeter-reasons").json()}
        finally:
            harness.db_write(self.hub, "UPDATE staff SET local_area_id=? WHERE id=?", la_a, spoc_id)
        self.assertNotIn(far["id"], seen)
        self.assertIn(ui["id"], seen)
        db = self.db()
        try:
            n = db.execute("SELECT count(*) FROM admin_audit WHERE action LIKE 'greeter_reason.%'"
                           " AND subject_id IN (?,?,?)", (wide["id"], narrow["id"], ui["id"])).fetchone()[0]
        finally:
            db.close()
        self.assertEqual(n, 3)

    def test_blank_looking_labels_refused(self):
        """A label shows at least one character: one of Unicode spaces (a
        non-breaking, an ideographic, an em space...), lone combining marks
        or tag characters trims to nothing the kiosk can show, and is refused
        (400 naming the field) in either language, new or renamed; so is a
        code list's title of them (the file is refused whole)."""
        la, _ = self.place()
        kept = self.reason(self.ops, la, "Kept")
        url = "/api/v1/admin/greeter-reasons/" + kept["id"]
        for blank in ("\u00a0", "\u00a0\u00a0", "\u3000", "\u2003\u200a", "\u202f\u205f",
                      "\u0301\u0308", "\u00a0\u0301", "\U000e0041\U000e0062",
                      "\u2000\ufeff", "\u200b"):
            for field in ("label", "label_es"):
                body = {"local_area_id": la, "label": "Fine", "label_es": "Bien"}
                body[field] = blank
                r = self.ops.post("/api/v1/admin/greeter-reasons", body)
                self.assertEqual(r.status, 400, (field, blank, r))
                self.assertEqual([e["field"] for e in r.json()["errors"]], [field], (blank, r))
                self.assertIn(field, r.json()["error"], (blank, r))
                r = self.patch(self.ops, url, {field: " " + blank + " "})
                self.assertEqual((r.status, r.json().get("field")), (400, field), (blank, r))
            r = self.ops.post("/api/v1/admin/greeter-reasons",
                              {"local_area_id": la, "label": blank, "label_es": blank})
            self.assertEqual(sorted(e["field"] for e in r.json()["errors"]), ["label", "label_es"])
        r = self.ops.get("/api/v1/admin/greeter-reasons?local_area_id=" + la).json()
        self.assertEqual([(x["label"], x["label_es"]) for x in r], [("Kept", "Kept (es)")])
        # a mark on a letter, or a sign of another script, shows
        for label in ("e\u0301", "\u4e2d\u6587", "\u00a0A\u00a0"):
            self.reason(self.ops, la, label)
        # a code list's title: the same rule, the file refused whole
        with open(os.path.join(harness.TOP, "seed", "followup_codes.csv"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        before = self.ops.get("/api/v1/admin/code-lists/followup").json()["codes"]
        bad = [lines[0], "F01,\u00a0\u3000,no"] + lines[2:]
        r = self.ops.post("/api/v1/admin/code-lists/followup",
                          {"version": "blank-title",
                           "effective_date": harness.office_day(self.hub, 30),   # the hub's
                           "csv": "\n".join(bad) + "\n"})
        self.assertEqual((r.status, r.json().get("field")), (400, "csv"), r)
        self.assertIn("line 2", r.json()["error"])
        self.assertEqual(self.ops.get("/api/v1/admin/code-lists/followup").json()["codes"], before)
        self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM code_list_versions"
                                                    " WHERE version='blank-title'"), 0)

    def test_reason_back_checks_spanish_label(self):
        """One active reason of a Spanish label at a place, as of an English
        one: a retired reason brought back, or moved to an office, is
        refused (409) when an active reason there has its Spanish label
        (compared as a new reason's is: case aside)."""
        la, off_a = self.place()
        off_b = la + "-b"
        self.assertEqual(self.ops.post("/api/v1/admin/offices", {
            "id": off_b, "name": "Office B " + la, "local_area_id": la,
            "has_title1_partner": True}).status, 201)
        old = self.reason(self.ops, la, "Alpha", label_es="Uno")
        url = "/api/v1/admin/greeter-reasons/" + old["id"]
        self.assertEqual(self.patch(self.ops, url, {"active": False}).status, 200)
        self.reason(self.ops, la, "Beta", label_es="UNO")
        r = self.patch(self.ops, url, {"active": True})
        self.assertEqual((r.status, r.json().get("field")), (409, "active"), r)
        self.assertIn("Spanish label 'Uno'", r.json()["error"])
        self.assertFalse({x["id"]: x for x in self.ops.get("/api/v1/admin/greeter-reasons?local_area_id="
                                                           + la).json()}[old["id"]]["active"])
        # with a Spanish label of its own it comes back
        r = self.patch(self.ops, url, {"active": True, "label_es": "Uno de nuevo"})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["active"])
        # ... and a move to an office whose kiosk shows one of its Spanish label
        self.reason(self.ops, la, "Gamma", office_id=off_a, label_es="Tres")
        there = self.reason(self.ops, la, "Delta", office_id=off_b, label_es="tres")
        r = self.patch(self.ops, "/api/v1/admin/greeter-reasons/" + there["id"], {"office_id": off_a})
        self.assertEqual((r.status, r.json().get("field")), (409, "office_id"), r)

    # ---- the office's kiosk ----------------------------------------------------
    def enroll(self, office):
        n = Daemon("node", args=("--demo", "no"))
        self.daemons.append(n)
        p = hub_tool(self.hub, "enroll-code", "--office", office)
        self.assertEqual(p.returncode, 0, p.stderr)
        code = p.stdout.decode().strip()
        plant_secret(code)
        p = sync(n, "enroll", "--hub", self.hub.url, "--code", code, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        n.start()
        return n

    def test_kiosk_reasons_replicate_and_retire(self):
        la, office = self.place(prefix="963")
        _, mis, _ = self.make_admin(self.uniq("mis"), la=la)
        job = self.reason(mis, la, "Job search", label_es="Búsqueda de empleo", sort=10)
        ui = self.reason(mis, la, "Unemployment claim", label_es="Reclamo de desempleo", sort=20)
        node = self.enroll(office)

        def kiosk():
            r = node.get("/api/v1/greeter/reasons")
            return r.json() if r.status == 200 else None
        got = wait_for(lambda: (lambda k: k if k and len(k) == 2 else None)(kiosk()),
                       timeout=60, what="the reasons at the kiosk")
        self.assertEqual([x["label"] for x in got], ["Job search", "Unemployment claim"])
        self.assertEqual(got[0]["label_es"], "Búsqueda de empleo")

        r = node.post("/api/v1/checkins", {"visitor_name": "María López", "language": "es",
                                           "reason_ids": [ui["id"]]})
        self.assertEqual(r.status, 201, r)
        visit = r.json()["id"]
        # Reorder and retire: the kiosk follows within a sync cycle.
        r = self.patch(mis, "/api/v1/admin/greeter-reasons/" + ui["id"], {"sort": 5})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: [x["id"] for x in kiosk() or []] == [ui["id"], job["id"]],
                 timeout=60, what="the new order at the kiosk")
        r = self.patch(mis, "/api/v1/admin/greeter-reasons/" + ui["id"], {"active": False})
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json()["active"])
        wait_for(lambda: [x["id"] for x in kiosk() or []] == [job["id"]],
                 timeout=60, what="the retired reason to leave the kiosk")
        r = node.post("/api/v1/checkins", {"visitor_name": "Late Visitor", "language": "en",
                                           "reason_ids": [ui["id"]]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["field"], "reason_ids")
        # The past visit keeps its reason, at the node and at the hub.
        def at_hub():
            db = self.db()
            try:
                return db.execute("SELECT r.label FROM checkin_reasons cr JOIN greeter_reasons r"
                                  " ON r.id=cr.reason_id WHERE cr.checkin_id=?", (visit,)).fetchone()
            finally:
                db.close()
        row = wait_for(at_hub, timeout=60, what="the visit at the hub")
        self.assertEqual(row[0], "Unemployment claim")
        mine = {x["id"]: x for x in mis.get("/api/v1/admin/greeter-reasons").json()}
        self.assertEqual(mine[ui["id"]]["visits"], 1)
        self.assertFalse(mine[ui["id"]]["active"])
        self.report_checks(la, office, mis)
        ndb = node.db()
        try:
            self.assertEqual(tuple(ndb.execute("SELECT r.label, r.active FROM checkin_reasons cr"
                                               " JOIN greeter_reasons r ON r.id=cr.reason_id"
                                               " WHERE cr.checkin_id=?", (visit,)).fetchone()),
                             ("Unemployment claim", 0))
        finally:
            ndb.close()

    def test_greeter_report_never_cut(self):
        """The statewide report is whole or refused: past its 50,000 rows it
        answers 413 naming how to narrow it (it gave the first 50,000 rows
        with a 200, and a total summed from them); a narrower one is whole."""
        la, office = self.place()
        start = datetime.date(2025, 12, 1)
        db = self.db()
        try:
            db.executemany("INSERT INTO greeter_reasons(id, local_area_id, label, label_es, sort,"
                           " updated_hlc) VALUES(?, ?, ?, ?, ?, 'h')",
                           [("%s-r%02d" % (la, k), la, "Reason %d" % k, "Motivo %d" % k, k)
                            for k in range(70)])
            visits, reasons = [], []
            for d in range(360):
                day = (start + datetime.timedelta(days=d)).isoformat()
                for lang in ("en", "es"):
                    for k in range(70):
                        cid = "%s-%d-%s-%d" % (office, d, lang, k)
                        visits.append((cid, office, la, lang, day))
                        reasons.append((cid + "-r", cid, "%s-r%02d" % (la, k), office))
            db.executemany("INSERT INTO checkins(id, office_id, local_area_id, visitor_name, language,"
                           " arrived_at, visit_date, updated_hlc) VALUES(?, ?, ?, 'V', ?, 1, ?, 'h')",
                           visits)
            db.executemany("INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id)"
                           " VALUES(?, ?, ?, ?)", reasons)
            db.commit()
        finally:
            db.close()
        q = "/api/v1/admin/reports/greeter?office_id=%s&from=2025-12-01&to=2026-11-30" % office
        for fmt in ("", "&format=csv"):
            r = self.ops.get(q + fmt)
            self.assertEqual(r.status, 413, (fmt, r.body[:200]))
            self.assertIn(b"more than 50000 rows", r.body)
        r = self.ops.get("/api/v1/admin/reports/greeter?office_id=%s&from=2025-12-01&to=2025-12-30"
                         % office)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual((r.json()["visits"], len(r.json()["rows"])), (30 * 140, 30 * 140))

    def report_checks(self, la, office, mis):
        """The statewide report counts the Spanish visit under its retired
        reason; another Local Area's administrator does not see it; the
        missing business days skip weekends and holidays."""
        rep = mis.get("/api/v1/admin/reports/greeter?local_area_id=" + la).json()
        self.assertEqual(rep["visits"], 1)
        row = [x for x in rep["rows"] if x["office_id"] == office]
        self.assertEqual([(x["reason"], x["language"], x["visits"]) for x in row],
                         [("Unemployment claim", "es", 1)])
        self.assertEqual(rep["days"][0]["spanish"], 1)
        r = mis.get("/api/v1/admin/reports/greeter?format=csv")
        self.assertEqual(r.status, 200, r)
        self.assertIn("text/csv", r.header("Content-Type"))
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))  # UTF-8 BOM: Spanish labels open intact
        text = r.body.decode("utf-8-sig")
        self.assertTrue(text.startswith("office_id,office,local_area_id,date,business_day,reason,language,visits"))
        self.assertIn('"%s","Office %s","%s"' % (office, la, la), text)
        self.assertIn('"Unemployment claim","es","1"', text)
        other_la, _ = self.place()
        _, other, _ = self.make_admin(self.uniq("mis"), la=other_la)
        self.assertEqual(other.get("/api/v1/admin/reports/greeter").json()["visits"], 0)
        self.assertEqual(self.ops.get("/api/v1/admin/reports/greeter?office_id=" + office)
                         .json()["visits"], 1)
        r = mis.get("/api/v1/admin/reports/greeter?from=2026-13-01")
        self.assertEqual((r.status, r.json()["field"]), (400, "from"))
        # Missing days: the office went into service on Friday 2026-11-20
        # (moved back in this test's hub.db); Thanksgiving, the day after
        # and the weekends are not business days.
        db = self.db()
        try:
            db.execute("UPDATE nodes SET enrolled_at=? WHERE office_id=?",
                       (int(time.mktime((2026, 11, 20, 12, 0, 0, 0, 0, -1)) * 1000), office))
            db.commit()
        finally:
            db.close()
        m = mis.get("/api/v1/admin/reports/greeter-missing?from=2026-11-16&to=2026-12-02").json()
        mine = [o for o in m["offices"] if o["office_id"] == office]
        self.assertEqual(len(mine), 1, m)
        self.assertEqual(mine[0]["in_service_since"], "2026-11-20")
        self.assertEqual(mine[0]["dates"], ["2026-11-20", "2026-11-23", "2026-11-24", "2026-11-25",
                                            "2026-11-30", "2026-12-01", "2026-12-02"])
        self.assertEqual(other.get("/api/v1/admin/reports/greeter-missing?from=2026-11-16"
                                   "&to=2026-12-02").json()["offices"], [])
        # Days not over are not missing: a range into the future ends yesterday.
        ahead = [time.strftime("%Y-%m-%d", time.localtime(time.time() + d * 86400)) for d in (-5, 40)]
        m = mis.get("/api/v1/admin/reports/greeter-missing?from=%s&to=%s" % tuple(ahead)).json()
        today = time.strftime("%Y-%m-%d")
        self.assertEqual([d for o in m["offices"] for d in o["dates"] if d >= today], [], m)

    # ---- code lists -----------------------------------------------------------
    def test_code_list_versions(self):
        lists = {x["list"]: x for x in self.ops.get("/api/v1/admin/code-lists").json()}
        self.assertEqual(sorted(lists), ["activity", "employer", "followup", "groups"])
        self.assertEqual(lists["employer"]["version"], "seed")
        self.assertEqual((lists["employer"]["active"], lists["employer"]["retired"]), (72, 2))
        seed = os.path.join(harness.TOP, "seed", "employer_activity_codes.csv")
        with open(seed, encoding="utf-8") as f:
            lines = f.read().splitlines()
        # Version 2: E03 left out (retired), E02 renamed, E99 added.
        new = [l for l in lines if not l.startswith("E03,")]
        new = [l.replace("E02,Americans with Disabilities", "E02,Americans with Disabilities Act")
               for l in new] + ["E99,Test Service,WRA,Workforce Recruitment Assistance,no,active"]
        la, _ = self.place()
        _, mis, _ = self.make_admin(self.uniq("mis"), la=la)
        # (a version name of 40 characters, most of them two bytes long)
        v1 = "2027-01 " + "\u00e9" * 32
        # the hub's day for the whole test: the versions dated today are
        # taken only on it, and the services below are judged against it
        today = harness.office_day(self.hub, span=180)
        body = {"version": v1, "effective_date": today,
                "csv": "\n".join(new) + "\n"}
        r = mis.post("/api/v1/admin/code-lists/employer", body)
        self.assertEqual(r.status, 403, r)
        r = self.ops.post("/api/v1/admin/code-lists/employer", body)
        self.assertEqual(r.status, 201, r)
        j = r.json()
        self.assertTrue(j["applied"])
        self.assertEqual((j["added"], j["changed"], j["retired"]), (1, 1, 1))
        r = self.ops.post("/api/v1/admin/code-lists/employer", body)
        self.assertEqual((r.status, r.json()["field"]), (409, "version"))
        codes = {c["code"]: c for c in self.ops.get("/api/v1/admin/code-lists/employer").json()["codes"]}
        self.assertEqual(codes["E03"]["status"], "retired")          # still readable
        self.assertEqual(codes["E03"]["retired_in"], v1)
        self.assertEqual(codes["E02"]["title"], "Americans with Disabilities Act")
        self.assertEqual(codes["E99"]["status"], "active")
        self.assertEqual(codes["E74"]["retired_on"], "")
        # A later version waits for its date.
        tomorrow = harness.day_after(today, 2)
        r = self.ops.post("/api/v1/admin/code-lists/employer",
                          dict(body, version="2027-02", effective_date=tomorrow))
        self.assertEqual(r.status, 201, r)
        self.assertFalse(r.json()["applied"])
        lists = {x["list"]: x for x in self.ops.get("/api/v1/admin/code-lists").json()}
        self.assertEqual(lists["employer"]["version"], v1)
        self.assertEqual([p["version"] for p in lists["employer"]["pending"]], ["2027-02"])
        # Bad versions: every field at fault.
        r = self.ops.post("/api/v1/admin/code-lists/employer",
                          {"effective_date": "2001-01-01", "csv": "code,name\nE1,x\n"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]),
                         ["csv", "effective_date", "version"])
        r = self.ops.get("/api/v1/admin/code-lists/nope")
        self.assertEqual(r.status, 404)
        # (the reply names every list, the privilege groups' too)
        self.assertIn("employer, activity, followup, groups", r.body.decode())
        # A file the hub would misread is refused, not read another way: a
        # yes/no flag other than yes or no (E90, E92 system-generated would
        # become codes offices may enter), a code of other characters, a
        # field past 400 characters or a record past 1 MiB (it was cut, its
        # later fields empty), a quote never closed.
        def csv_with(line):
            return "\n".join(new + [line]) + "\n"
        for i, text in enumerate((
                "\n".join(l.replace(",yes,", ",Yes,") for l in new) + "\n",
                csv_with("=1+1,Formula,WRA,Workforce Recruitment Assistance,no,active"),
                csv_with("E98,Long,WRA," + "x" * 500 + ",no,active"),
                csv_with("E98,Huge,WRA," + "x" * 1500000 + ",no,active"),
                csv_with('E98,"Never closed,WRA,x,no,active')), 1):
            r = self.ops.post("/api/v1/admin/code-lists/employer",
                              {"version": "bad-%d" % i, "effective_date": today, "csv": text})
            self.assertEqual((r.status, r.json().get("field")), (400, "csv"), (i, r))
        codes = {c["code"]: c for c in self.ops.get("/api/v1/admin/code-lists/employer").json()["codes"]}
        self.assertNotIn("E98", codes)
        # A load and its audit row are one: the version's name is the
        # audit's, whatever it holds, and a load whose audit row cannot be
        # written leaves nothing (no version, no code changed).
        odd = 'v9","forged":"yes'
        r = self.ops.post("/api/v1/admin/code-lists/employer",
                          {"version": odd, "effective_date": tomorrow, "csv": "\n".join(new) + "\n"})
        self.assertEqual(r.status, 201, r)
        ev = [e for e in self.ops.get("/api/v1/admin/audit?action=code_list.load").json()
              if e["after"]["version"] == odd]
        self.assertEqual(len(ev), 1, ev)
        self.assertNotIn("forged", ev[0]["after"])
        # A version dated before one still waiting is refused: the waiting
        # one is a whole list made without it, and would undo it on its
        # date.  Withdrawn (operations, audited), the way is free.
        r = self.ops.post("/api/v1/admin/code-lists/employer",
                          {"version": "urgent", "effective_date": today, "csv": "\n".join(new) + "\n"})
        self.assertEqual((r.status, r.json().get("field")), (409, "effective_date"), r)
        self.assertIn("version '2027-02' of this list waits for %s" % tomorrow, r.json()["error"])
        self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM code_list_versions"
                                                    " WHERE version='urgent'"), 0)
        wd = "/api/v1/admin/code-lists/employer/versions/%s/withdraw"
        self.assertEqual(mis.post(wd % "2027-02").status, 403)
        self.assertEqual(self.ops.post(wd % "no-such").status, 404)
        self.assertEqual(self.ops.post(wd % urllib.parse.quote(v1, safe="")).status,
                         409)      # applied already
        for v in ("2027-02", urllib.parse.quote(odd, safe="")):
            r = self.ops.post(wd % v)
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.json()["withdrawn"])
        self.assertEqual(self.ops.post(wd % "2027-02").status, 404)
        lists = {x["list"]: x for x in self.ops.get("/api/v1/admin/code-lists").json()}
        self.assertEqual(lists["employer"]["pending"], [])
        ev = self.ops.get("/api/v1/admin/audit?action=code_list.withdraw").json()
        self.assertEqual(sorted((e["before"]["version"], e["before"]["effective_date"]) for e in ev),
                         sorted([("2027-02", tomorrow), (odd, tomorrow)]), ev)
        harness.db_write(self.hub, "CREATE TRIGGER no_audit BEFORE INSERT ON admin_audit"
                                   " BEGIN SELECT RAISE(FAIL, 'test: no audit'); END")
        try:
            r = self.ops.post("/api/v1/admin/code-lists/employer",
                              {"version": "unaudited", "effective_date": today,
                               "csv": "\n".join(l for l in new if not l.startswith("E99,")) + "\n"})
            self.assertEqual(r.status, 500, r)
        finally:
            harness.db_write(self.hub, "DROP TRIGGER no_audit")
        self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM code_list_versions"
                                                    " WHERE version='unaudited'"), 0)
        codes = {c["code"]: c for c in self.ops.get("/api/v1/admin/code-lists/employer").json()["codes"]}
        self.assertEqual(codes["E99"]["status"], "active")

        # The privilege groups are a list too: WARN retired, no longer assignable.
        self.assertEqual((lists["groups"]["version"], lists["groups"]["active"]), ("seed", 14))
        _, mis, _ = self.make_admin(self.uniq("mis"), la=la)
        warned, _ = self.create(mis, self.uniq("wn"), la=la, group="WARN")
        with open(os.path.join(harness.TOP, "seed", "privilege_groups.csv"), encoding="utf-8") as f:
            groups = [l for l in f.read().splitlines() if not l.startswith("WARN,")]
        r = self.ops.post("/api/v1/admin/code-lists/groups",
                          {"version": "2027-01", "effective_date": today,
                           "csv": "\n".join(groups + ["Wizards,MIS Administrator,x"]) + "\n"})
        self.assertEqual((r.status, r.json()["field"]), (400, "csv"))   # not a group we know
        r = self.ops.post("/api/v1/admin/code-lists/groups",
                          {"version": "2027-01", "effective_date": today,
                           "csv": "\n".join(groups) + "\n"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["retired"], 1)
        pg = {g["name"]: g for g in self.ops.get("/api/v1/admin/privilege-groups").json()}
        self.assertFalse(pg["WARN"]["assignable"])
        self.assertTrue(pg["View Access"]["assignable"])
        r = self.ops.post("/api/v1/admin/access-requests", self.new_body(self.uniq("w"), la=la, group="WARN"))
        self.assertEqual((r.status, r.json()["field"]), (400, "privilege_group"))
        # ... but whoever is in it still is their administrator's to manage:
        # read, suspended when they leave (found by a review: the Local
        # Area's MIS Administrator got 403 for everyone in the group).
        self.assertEqual(mis.get("/api/v1/admin/staff/" + warned["id"]).status, 200)
        r = mis.post("/api/v1/admin/staff/%s/suspend" % warned["id"], {"reason": "left the agency"})
        self.assertEqual(r.status, 200, r)
        r = mis.post("/api/v1/admin/access-requests", {"kind": "change", "staff_id": warned["id"],
                                                       "requestor_name": "x", "privilege_group": "WARN"})
        self.assertEqual((r.status, r.json()["field"]), (400, "privilege_group"))

        # The hub takes a service with the code retired today, entered today
        # or before (an office that had not pulled the new list yet), and
        # refuses one with a code retired before (the seed's E74).
        office = la + "-office"
        n = enroll_identity(self, self.hub, office)
        schema = self.hub.get("/healthz").json()["schema_version"]
        emp = str(uuid.uuid4())  # services name an employer the hub has
        db = self.db()
        try:
            cols = [c[1] for c in db.execute("PRAGMA table_info(employer_services)")]
            db.execute("INSERT INTO employers(id, account_type, company_name, normalized_name,"
                       " username, zip, zip5, created_at, status, updated_hlc) VALUES(?, 'lead',"
                       " 'Code List Co', 'code list', 'MKTCODELIST01', '95814', '95814', 1,"
                       " 'active', '')", (emp,))
            db.commit()
        finally:
            db.close()

        def service(code, days_ago):   # started days_ago before the hub's day
            v = {"id": str(uuid.uuid4()), "employer_id": emp, "code": code,
                 "start_date": harness.day_after(today, -days_ago),
                 "office_id": office, "voided": 0, "created_at": now - days_ago * 86400 * 1000}
            return v["id"], changeset_insert("employer_services", [1] + [0] * (len(cols) - 1),
                                             [v.get(c) for c in cols])
        now = int(time.time() * 1000)
        id1, cs1 = service("E03", 0)
        id2, cs2 = service("E03", 3)
        id3, cs3 = service("E74", 3)
        r = n.push(build_frame([(1, "0190a0000000.0000." + n.node_id, "", cs1),
                                (2, "0190a0000001.0000." + n.node_id, "", cs2),
                                (3, "0190a0000002.0000." + n.node_id, "", cs3)], schema))
        self.assertEqual(r.status, 200, r.body)
        q = {x["seq"]: x["reason"] for x in r.json()["quarantined"]}
        self.assertEqual(sorted(q), [3], r.json())
        self.assertIn("retired", q[3])
        db = self.db()
        try:
            for sid in (id1, id2):
                self.assertEqual(db.execute("SELECT code FROM employer_services WHERE id=?",
                                            (sid,)).fetchone()[0], "E03")
            # as if the version had taken effect yesterday: today's refused
            db.execute("UPDATE code_retirements SET effective_date=? WHERE id='employer:E03'",
                       (harness.day_after(today, -1),))
            db.commit()
        finally:
            db.close()
        id4, cs4 = service("E03", 0)
        r = n.push(build_frame([(4, "0190a0000003.0000." + n.node_id, "", cs4)], schema))
        self.assertEqual(r.status, 200, r.body)
        q = {x["seq"]: x["reason"] for x in r.json()["quarantined"]}
        self.assertEqual(sorted(q), [4], r.json())
        self.assertIn("retired", q[4])

    def test_code_list_empty_flag_refused(self):
        """An empty yes/no cell (restarts_exit_clock, system_generated) is an
        error naming its line and column, not a "no": the SPEC gives the
        column no default, and an empty cell read as "no" made a code that
        restarts the soft-exit clock one that does not.  The whole file is
        refused: no version, no code changed."""
        def rows(name):
            with open(os.path.join(harness.TOP, "seed", name), encoding="utf-8") as f:
                return f.read().splitlines()
        for lst, name, code, col in (("followup", "followup_codes.csv", "F02", 3),
                                     ("activity", "participant_activity_codes.csv", None, 4),
                                     ("employer", "employer_activity_codes.csv", "E90", 5)):
            lines = rows(name)
            # a code's flag emptied (a line without quotes: split at commas)
            k = next(i for i, l in enumerate(lines) if i > 0 and '"' not in l and
                     (l.startswith(code + ",") if code else l.endswith(",yes")))
            f = lines[k].split(",")
            f[col - 1] = ""
            lines[k] = ",".join(f)
            before = self.ops.get("/api/v1/admin/code-lists/" + lst).json()
            r = self.ops.post("/api/v1/admin/code-lists/" + lst,
                              {"version": "empty-flag",
                               "effective_date": harness.office_day(self.hub, 30),
                               "csv": "\n".join(lines) + "\n"})
            self.assertEqual((r.status, r.json().get("field")), (400, "csv"), (lst, r))
            self.assertIn("line %d" % (k + 1), r.json()["error"])
            self.assertIn("column %d" % col, r.json()["error"])
            self.assertIn(lines[0].split(",")[col - 1], r.json()["error"])
            self.assertEqual(self.ops.get("/api/v1/admin/code-lists/" + lst).json(), before)
            self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM code_list_versions"
                                                        " WHERE version='empty-flag'"), 0)

    def test_code_list_empty_status_refused(self):
        """An empty status cell is an error naming its line and column, not
        "active": a code meant to be retired stayed one staff may choose.
        So in every list that has the column: the employer list's file has
        it, the others (activity, followup, groups) take it as an optional
        trailing column, and there a line that stops before it is empty
        too.  The whole file is refused: no version, no code changed.  (A
        version taken before the rule still applies: StoredVersionTest.)"""
        def rows(name):
            with open(os.path.join(harness.TOP, "seed", name), encoding="utf-8") as f:
                return f.read().splitlines()
        today = harness.office_day(self.hub, span=60)   # the hub's, for every load
        for lst, name, col in (("employer", "employer_activity_codes.csv", 6),
                               ("activity", "participant_activity_codes.csv", 5),
                               ("followup", "followup_codes.csv", 4),
                               ("groups", "privilege_groups.csv", 4)):
            lines = rows(name)
            if lst != "employer":   # the optional trailing column, every code active
                lines = [lines[0] + ",status"] + [l + ",active" for l in lines[1:] if l]
            self.assertEqual(lines[0].split(",")[col - 1], "status")
            k = len(lines) // 2
            self.assertTrue(lines[k].endswith(",active"), lines[k])
            for how, line in (("empty", lines[k][:lines[k].rindex(",") + 1]),
                              ("missing", lines[k][:lines[k].rindex(",")]),
                              ("gone", lines[k][:lines[k].rindex(",") + 1] + "gone")):
                if how == "missing" and lst == "employer":
                    continue    # a column of its file: a short line lacks more than its status
                csv = "\n".join(lines[:k] + [line] + lines[k + 1:]) + "\n"
                before = self.ops.get("/api/v1/admin/code-lists/" + lst).json()
                r = self.ops.post("/api/v1/admin/code-lists/" + lst,
                                  {"version": "empty-status", "effective_date": today, "csv": csv})
                self.assertEqual((r.status, r.json().get("field")), (400, "csv"), (lst, how, r))
                self.assertEqual(r.json()["error"],
                                 "line %d, column %d (status): %s; write active or retired"
                                 % (k + 1, col, "not active or retired" if how == "gone"
                                    else "empty"), (lst, how))
                self.assertEqual(self.ops.get("/api/v1/admin/code-lists/" + lst).json(), before)
                self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM code_list_versions"
                                                            " WHERE version='empty-status'"), 0)

    def node_login(self, node, username, temp):
        """First sign-in at a new office: once its first pull has brought the
        account (a temporary password needs a connected office), then the
        forced change."""
        def attempt():
            try:
                harness.login(node, username, temp)
                return True
            except AssertionError:
                return False
        wait_for(attempt, timeout=60, step=0.5, what="the first sign-in at the office")
        pw = "Cm." + secrets.token_hex(4) + "Q7"
        plant_secret(pw)
        r = node.post("/api/v1/session/password", {"current_password": temp, "new_password": pw})
        self.assertEqual(r.status, 200, r)

    def case_manager_office(self, la, office):
        """office (of Local Area la) enrolled, with a new case manager there
        signed in for the first time: the office's node."""
        staff, temp = self.create(self.ops, self.uniq("cm"), la=la, group="LWIA Partner Staff",
                                  office_id=office)
        node = self.enroll(office)
        self.node_login(node, staff["username"], temp)
        return node

    def test_pseudo_ssn_uses_local_area_identifier(self):
        la, office = self.place(prefix="964")
        node = self.case_manager_office(la, office)
        r = node.get("/api/v1/case/pseudo-ssn?birth_date=1977-05-25")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["pseudo_ssn"], "964-25-0577")
        # A change of identifier at the hub reaches the office.
        r = self.patch(self.ops, "/api/v1/admin/local-areas/" + la, {"pseudo_ssn_prefix": "965"})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: node.get("/api/v1/case/pseudo-ssn?birth_date=1977-05-25")
                 .json().get("pseudo_ssn") == "965-25-0577", timeout=60,
                 what="the new identifier at the node")
        # A Local Area without an identifier gets a clear refusal, not 975.
        node2 = self.case_manager_office(*self.place())
        r = node2.get("/api/v1/case/pseudo-ssn?birth_date=1977-05-25")
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["field"], "pseudo_ssn")


    def test_pseudo_ssn_prefix_fixed_once_participants_exist(self):
        """A Local Area's pseudo-SSN identifier can change until it has a
        participant; then a change is refused (409): its participants' pseudo-
        SSNs carry the old one, and new ones would not match them.  Setting
        a first identifier stays allowed (no pseudo-SSN can exist without
        one), and so does sending the same one."""
        la, office = self.place(prefix="981")
        url = "/api/v1/admin/local-areas/" + la
        r = self.patch(self.ops, url, {"pseudo_ssn_prefix": "982"})
        self.assertEqual(r.status, 200, r)
        la2, office2 = self.place()
        pids = []

        def participant(area, off):
            pid = str(uuid.uuid4())
            harness.db_write(self.hub, "INSERT INTO participants(id, local_area_id, office_id,"
                             " first_name, last_name, birth_date, registered_date, registered_at,"
                             " updated_hlc) VALUES(?, ?, ?, 'Ana', 'Lopez', '1977-05-25',"
                             " '2026-01-05', 0, '')", pid, area, off)
            pids.append(pid)
        try:
            participant(la, office)
            r = self.patch(self.ops, url, {"pseudo_ssn_prefix": "983"})
            self.assertEqual((r.status, r.json().get("field")), (409, "pseudo_ssn_prefix"), r)
            self.assertIn("participant", r.json()["error"])
            self.assertEqual([x["pseudo_ssn_prefix"] for x in
                              self.ops.get("/api/v1/admin/local-areas").json() if x["id"] == la],
                             ["982"])
            for body in ({"pseudo_ssn_prefix": "982"}, {"name": "Renamed " + la}):
                r = self.patch(self.ops, url, body)
                self.assertEqual(r.status, 200, (body, r))
            participant(la2, office2)
            r = self.patch(self.ops, "/api/v1/admin/local-areas/" + la2, {"pseudo_ssn_prefix": "984"})
            self.assertEqual(r.status, 200, r)
        finally:
            for pid in pids:
                harness.db_write(self.hub, "DELETE FROM participants WHERE id=?", pid)

    # ---- the work item lists (statewide, operations) ----------------------------
    WCAT = "/api/v1/admin/work-item-categories"
    WPRI = "/api/v1/admin/work-item-priorities"

    def wlist(self, path):
        r = self.ops.get(path)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wadd(self, path, name, expect=201, **kw):
        body = {"name": name}
        body.update(kw)
        r = self.ops.post(path, body)
        self.assertEqual(r.status, expect, r)
        return r.json()

    def test_work_item_lists_checked(self):
        """Categories and priorities: operations only; a name shows something
        and is one active entry's; one active default priority, never
        retired nor unmade but by making another the default; the last
        active entry of a list stays; every change audited."""
        _, mis, _ = self.make_admin(self.uniq("mis"))
        for path in (self.WCAT, self.WPRI):
            self.assertEqual(mis.get(path).status, 403)
            r = mis.post(path, {"name": self.uniq("Mine ")})
            self.assertEqual(r.status, 403, r)
        name = self.uniq("Site visit ")
        cat = self.wadd(self.WCAT, "  " + name.replace(" ", "   ") + " ")
        self.assertEqual((cat["name"], cat["active"], cat["work_items"]), (name, True, 0))
        r = self.patch(mis, self.WCAT + "/" + cat["id"], {"active": False})
        self.assertEqual(r.status, 403, r)
        # blank-looking, invisible or too long names: 400 naming the field
        for bad in ("   ", "\u00a0\u3000", "\u200b", "Site\u200bvisit", "x" * 81):
            r = self.ops.post(self.WCAT, {"name": bad})
            self.assertEqual((r.status, r.json().get("field")), (400, "name"), (bad, r))
        r = self.patch(self.ops, self.WPRI + "/" + cat["id"], {"rank": 1})
        self.assertEqual(r.status, 404, r)
        r = self.ops.post(self.WCAT, {"name": "Other " + name, "is_default": True})
        self.assertEqual(r.status, 400, r)
        # one active entry of a name (case aside); a retired one's name is free
        r = self.ops.post(self.WCAT, {"name": name.upper()})
        self.assertEqual((r.status, r.json().get("field")), (409, "name"), r)
        other = self.wadd(self.WCAT, "Other " + name)
        r = self.patch(self.ops, self.WCAT + "/" + other["id"], {"name": name.lower()})
        self.assertEqual((r.status, r.json().get("field")), (409, "name"), r)
        r = self.patch(self.ops, self.WCAT + "/" + cat["id"], {"active": False, "sort": 7})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["active"], r.json()["sort"]), (False, 7))
        again = self.wadd(self.WCAT, name)
        r = self.patch(self.ops, self.WCAT + "/" + cat["id"], {"active": True})
        self.assertEqual((r.status, r.json().get("field")), (409, "active"), r)
        r = self.patch(self.ops, self.WCAT + "/" + again["id"], {"name": name + " (new)"})
        self.assertEqual(r.status, 200, r)
        r = self.patch(self.ops, self.WCAT + "/" + cat["id"], {"active": True})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["active"])
        # the Job Order category is fixed (the job order rule knows it by
        # name at every office): never retired, renamed, nor its name taken
        jo = [c for c in self.wlist(self.WCAT) if c["name"] == "Job Order"][0]
        r = self.patch(self.ops, self.WCAT + "/" + jo["id"], {"active": False})
        self.assertEqual((r.status, r.json().get("field")), (409, "active"), r)
        r = self.patch(self.ops, self.WCAT + "/" + jo["id"], {"name": "Job Orders"})
        self.assertEqual((r.status, r.json().get("field")), (409, "name"), r)
        r = self.patch(self.ops, self.WCAT + "/" + other["id"], {"name": "JOB ORDER"})
        self.assertEqual((r.status, r.json().get("field")), (409, "name"), r)
        self.assertEqual(self.patch(self.ops, self.WCAT + "/" + jo["id"], {"sort": jo["sort"]}).status, 200)
        # null changes nothing (it is not a yes); an edit of a retired entry
        # is audited as a change, not a second retirement
        self.assertEqual(self.patch(self.ops, self.WCAT + "/" + other["id"], {"active": False}).status, 200)
        r = self.patch(self.ops, self.WCAT + "/" + other["id"], {"active": None, "sort": 5})
        self.assertEqual((r.status, r.json()["active"], r.json()["sort"]), (200, False, 5), r)
        r = self.patch(self.ops, self.WPRI + "/" + self.default_priority(), {"is_default": None})
        self.assertEqual(r.status, 200, r)
        acts = [a for (a,) in self.db().execute(
            "SELECT action FROM admin_audit WHERE subject_id=? ORDER BY at, rowid", (other["id"],))]
        self.assertEqual(acts[-2:], ["work_item_category.retire", "work_item_category.change"], acts)
        # a new entry after one at the highest order stays within it
        last = self.wadd(self.WCAT, self.uniq("Last "), sort=100000)
        after = self.wadd(self.WCAT, self.uniq("After "))
        self.assertEqual((last["sort"], after["sort"]), (100000, 100000))
        for c in (last, after):
            self.assertEqual(self.patch(self.ops, self.WCAT + "/" + c["id"], {"active": False}).status, 200)

        # priorities: a new default clears the one before it, in one change
        was = self.default_priority()
        hi = self.wadd(self.WPRI, self.uniq("Urgent "), rank=1, is_default=True)
        self.assertTrue(hi["is_default"])
        defaults = [p["id"] for p in self.wlist(self.WPRI) if p["is_default"]]
        self.assertEqual(defaults, [hi["id"]])
        r = self.patch(self.ops, self.WPRI + "/" + hi["id"], {"active": False})
        self.assertEqual((r.status, r.json().get("field")), (409, "active"), r)
        r = self.patch(self.ops, self.WPRI + "/" + hi["id"], {"is_default": False})
        self.assertEqual((r.status, r.json().get("field")), (409, "is_default"), r)
        r = self.ops.post(self.WPRI, {"name": self.uniq("Later "), "is_default": True,
                                      "active": False})
        self.assertEqual(r.status, 409, r)
        lo = self.wadd(self.WPRI, self.uniq("Someday "))
        self.assertEqual((lo["is_default"], lo["active"]), (False, True))
        r = self.patch(self.ops, self.WPRI + "/" + lo["id"], {"is_default": True})
        self.assertEqual(r.status, 200, r)
        got = {p["id"]: p for p in self.wlist(self.WPRI)}
        self.assertEqual([i for i, p in got.items() if p["is_default"]], [lo["id"]])
        r = self.patch(self.ops, self.WPRI + "/" + hi["id"], {"active": False})
        self.assertEqual(r.status, 200, r)
        db = self.db()
        try:
            acts = [a for (a,) in db.execute(
                "SELECT action FROM admin_audit WHERE subject_id=? ORDER BY at, rowid", (hi["id"],))]
            self.assertEqual(acts, ["work_item_priority.create", "work_item_priority.retire"])
            after = db.execute("SELECT after FROM admin_audit WHERE subject_id=? AND"
                               " action='work_item_priority.default'", (lo["id"],)).fetchone()[0]
            self.assertEqual(json.loads(after)["default_was"], hi["id"])
            self.assertEqual(db.execute("SELECT count(*) FROM admin_audit WHERE subject_id=?"
                                        " AND action LIKE 'work_item_category.%'",
                                        (cat["id"],)).fetchone()[0], 3)
        finally:
            db.close()
        self.restore_default(was)

    def default_priority(self):
        return [p["id"] for p in self.wlist(self.WPRI) if p["is_default"]][0]

    def restore_default(self, pid):
        """The class's hub as the test found it: pid the default again."""
        r = self.patch(self.ops, self.WPRI + "/" + pid, {"is_default": True})
        self.assertEqual(r.status, 200, r)

    def test_work_item_lists_reach_the_office(self):
        """A category and a priority added, renamed and made default at the
        hub reach the office's CRM meta with its next sync; a retired
        category leaves it, the office refuses a new work item with it (400)
        and an item made there before keeps it (at the office: the hub
        quarantines an insert naming a retired category, model/crm.c)."""
        la, office = self.place()
        node = self.crm_office(la, office)
        cat = self.wadd(self.WCAT, self.uniq("Walk-in "))
        was = self.default_priority()
        pri = self.wadd(self.WPRI, self.uniq("Soon "), rank=2)
        cname = self.uniq("Walk-in visit ")
        r = self.patch(self.ops, self.WCAT + "/" + cat["id"], {"name": cname, "sort": 1})
        self.assertEqual(r.status, 200, r)
        r = self.patch(self.ops, self.WPRI + "/" + pri["id"], {"is_default": True})
        self.assertEqual(r.status, 200, r)

        def meta():
            r = node.get("/api/v1/crm/meta")
            return r.json() if r.status == 200 else {}
        def arrived():
            m = meta()
            cats = {c["id"]: c["name"] for c in m.get("categories", [])}
            pris = {p["id"]: p for p in m.get("priorities", [])}
            return m if cats.get(cat["id"]) == cname and pri["id"] in pris and \
                pris[pri["id"]]["is_default"] else None
        m = wait_for(arrived, timeout=60, what="the new category and default priority at the office")
        self.assertEqual([p["id"] for p in m["priorities"] if p["is_default"]], [pri["id"]])
        r = node.post("/api/v1/crm/work-items", {"category_id": cat["id"], "description": "Greet"})
        self.assertEqual(r.status, 201, r)
        item = r.json()
        self.assertEqual((item["category"], item["priority_id"]), (cname, pri["id"]))

        r = self.patch(self.ops, self.WCAT + "/" + cat["id"], {"active": False})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: cat["id"] not in [c["id"] for c in meta().get("categories", [])],
                 timeout=60, what="the retired category to leave the office's meta")
        r = node.post("/api/v1/crm/work-items", {"category_id": cat["id"], "description": "Again"})
        self.assertEqual((r.status, r.json().get("field")), (400, "category_id"), r)
        r = node.get("/api/v1/crm/work-items/" + item["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["category_id"], r.json()["category"]), (cat["id"], cname))
        # ... and its other edits still go through, at the office
        r = node.request("PATCH", "/api/v1/crm/work-items/" + item["id"], body={"status": "In Progress"})
        self.assertEqual(r.status, 200, r)
        self.restore_default(was)

    def crm_office(self, la, office):
        """office enrolled, with a member of the CRM work group there signed
        in: the node."""
        staff, temp = self.create(self.ops, self.uniq("crm"), la=la, group="LWIA Partner Staff",
                                  office_id=office, crm_work_group=True)
        node = self.enroll(office)
        self.node_login(node, staff["username"], temp)
        return node


if __name__ == "__main__":
    unittest.main()


class NodeDaysTest(unittest.TestCase):
    """Visits per business day at the office (the visits page and the home
    page's notice), on a stand-alone demo node: the California holidays and
    weekends are not business days; days before the office's first
    check-in are not missing once it has one."""

    def test_days_and_missing(self):
        node = Daemon("node", args=("--demo", "yes")).start()
        try:
            harness.login(node)
            q = "/api/v1/greeter/days?from=2026-11-20&to=2026-12-02"
            r = node.get(q)
            self.assertEqual(r.status, 200, r)
            d = r.json()
            days = {x["date"]: x for x in d["days"]}
            self.assertEqual(len(days), 13)
            self.assertEqual(days["2026-11-26"]["holiday"], "Thanksgiving Day")
            self.assertFalse(days["2026-11-26"]["business_day"])
            self.assertEqual(days["2026-11-27"]["holiday"], "Day after Thanksgiving")
            self.assertFalse(days["2026-11-28"]["business_day"])
            self.assertIsNone(days["2026-11-28"]["holiday"])
            self.assertTrue(days["2026-11-25"]["business_day"])
            if d["first_day"] is None:
                self.assertTrue(d["no_checkins_yet"])
                self.assertEqual(d["missing"], [])
            reasons = node.get("/api/v1/greeter/reasons").json()
            r = node.post("/api/v1/checkins", {"visitor_name": "Ana Día", "language": "es",
                                               "reason_ids": [reasons[0]["id"]]})
            self.assertEqual(r.status, 201, r)
            today = r.json()["visit_date"]
            d = node.get("/api/v1/greeter/days?from=%s&to=%s" % (today, today)).json()
            self.assertGreaterEqual(d["days"][0]["spanish"], 1)
            self.assertEqual(d["missing"], [])
            # Before the office's first check-in nothing counts as missing.
            d = node.get(q).json()
            if d["first_day"] and d["first_day"] > "2026-12-02":
                self.assertEqual(d["missing"], [])
            # A visit on Friday 2026-11-20 (a row moved back in this test's own
            # node.db): from then on, the business days without a visit.
            db = node.db()
            try:
                db.execute("UPDATE checkins SET visit_date='2026-11-20' WHERE id=?", (r.json()["id"],))
                db.commit()
            finally:
                db.close()
            d = node.get(q).json()
            self.assertEqual(d["first_day"], "2026-11-20")
            self.assertEqual(d["missing"], ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-30",
                                            "2026-12-01", "2026-12-02"])
            r = node.get("/api/v1/greeter/days?from=2026-01-01&to=2026-12-31")
            self.assertEqual((r.status, r.json()["field"]), (400, "to"))
            # The desk without reports sees the last two weeks; a range it
            # names is a report, as the stats' are.
            desk = harness.client(node)
            harness.login(desk, "t-lwia-intake")
            self.assertEqual(len(desk.get("/api/v1/greeter/days").json()["days"]), 14)
            for bad in (q, "/api/v1/greeter/days?from=%s" % today,
                        "/api/v1/greeter/days?to=%s" % today, "/api/v1/greeter/days?from="):
                self.assertEqual(desk.get(bad).status, 403, bad)
                self.assertEqual(desk.get(bad.replace("days", "stats")).status, 403, bad)
            r = node.get("/api/v1/greeter/days?from=2026-02-30")
            self.assertEqual((r.status, r.json()["field"]), (400, "from"))
        finally:
            node.cleanup()


class StoredVersionTest(unittest.TestCase):
    """A code-list version taken before the CSV rules grew stricter (an
    empty yes/no cell, a title that shows nothing, an empty status cell,
    the employer list's column or another list's trailing one) and falling
    due after the upgrade is applied as it was taken: re-checking it under
    the new rules failed its apply, and the hub would not start."""

    def test_version_taken_earlier_applies(self):
        hub = Daemon("hub").start()
        try:
            # the hub's day (its clock, not the machine's, says whether a
            # version dated on it is due when it starts again)
            today = harness.office_day(hub, span=30)
            hub.stop()
            lines = open(os.path.join(harness.TOP, "seed", "followup_codes.csv"),
                         encoding="utf-8").read().splitlines()
            # F01's yes/no and (trailing column) status cells empty
            lines = [lines[0] + ",status"] + [
                l + ",active" if not l.startswith("F01,") else "F01,Referral to Community Resources,,"
                for l in lines[1:] if l] + ["F98,\u00a0,no,active"]
            harness.db_write(hub, "INSERT INTO code_list_versions(id, list, version, effective_date,"
                                  " loaded_at, loaded_by, rows, csv) VALUES(?,?,?,?,?,?,?,?)",
                             str(uuid.uuid4()), "followup", "taken-earlier",
                             today, int(time.time() * 1000), "operations",
                             len(lines) - 1, "\n".join(lines) + "\n")
            hub.start()
            self.assertIsNotNone(harness.db_value(
                hub, "SELECT applied_at FROM code_list_versions WHERE version='taken-earlier'"))
            self.assertEqual(harness.db_value(
                hub, "SELECT restarts_exit_clock FROM followup_codes WHERE code='F01'"), 0)
            self.assertEqual(harness.db_value(
                hub, "SELECT count(*) FROM followup_codes WHERE code='F98'"), 1)
            self.assertEqual(harness.db_value(
                hub, "SELECT status FROM followup_codes WHERE code='F01'"), "active")
            # The employer list's status column empty (refused in a new
            # upload since): read as active, as when it was taken.
            hub.stop()
            lines = open(os.path.join(harness.TOP, "seed", "employer_activity_codes.csv"),
                         encoding="utf-8").read().splitlines()
            lines = [l[:l.rindex(",") + 1] if l.startswith("E01,") else l for l in lines]
            harness.db_write(hub, "INSERT INTO code_list_versions(id, list, version, effective_date,"
                                  " loaded_at, loaded_by, rows, csv) VALUES(?,?,?,?,?,?,?,?)",
                             str(uuid.uuid4()), "employer", "taken-earlier",
                             today, int(time.time() * 1000), "operations",
                             len(lines) - 1, "\n".join(lines) + "\n")
            hub.start()
            self.assertIsNotNone(harness.db_value(
                hub, "SELECT applied_at FROM code_list_versions WHERE list='employer'"
                     " AND version='taken-earlier'"))
            self.assertEqual(harness.db_value(
                hub, "SELECT status FROM employer_activity_codes WHERE code='E01'"), "active")
        finally:
            hub.cleanup()
