"""CRM on a real outpost-node: leads (manual, from an external employer, from
the local employer sites search), the duplicate check, contacts and the
Contacts List, conversion to Recruiting Employer with the MKT-prefix offer,
the service plan (several services at once, code and date rules), work items
(queues, status, notes, soft delete, due today), the reports as JSON and CSV,
bad input answered 400 with the field named, one outbox entry per write.

Replication between offices runs against a real outpost-hub and two enrolled
nodes driven by `outpost-sync push/pull`: conflicting offline edits of a lead
and of a work item merge column by column (the later edit wins a column both
changed, a `conflicts` row keeps both values and both offices see it; a
Closed item is not reopened by an older edit, nor its fields edited: a
closed item is a record of work done, and a PATCH of one is 409 naming the
field), and the same employer created
in two offices offline is flagged at the hub as a possible duplicate, never
merged, and the flag reaches both offices.
"""
import csv
import io
import json
import os
import time
import unittest
import urllib.parse
import uuid

import harness
from harness import BIN, Daemon, client, login, plant_secret, run_tool

API = "/api/v1/crm"


def today(node):
    return node.get(API + "/meta").json()["today"]


class CrmNodeTest(harness.DemoNode):

    # ---- helpers ----------------------------------------------------------
    def req(self, method, path, body=None):
        return self.node.request(method, API + path, body=body)

    def outbox(self):
        return harness.rows(self.node, "SELECT count(*) FROM outbox")[0][0]

    def bad(self, r, field, status=400):
        self.assertEqual(r.status, status, r.body)
        j = r.json()
        self.assertEqual(j.get("field"), field, j)
        self.assertTrue(j.get("error"))

    def bad_each(self, path, base, bad):
        """POST path with base plus each field of bad in turn: each refused
        (400) naming that field."""
        for field, value in bad.items():
            self.bad(self.req("POST", path, dict(base, **{field: value})), field)

    def lead(self, name, zip_="95814", **kw):
        body = {"company_name": name, "zip": zip_, "street": "10 Test St", "city": "Sacramento"}
        body.update(kw)
        r = self.req("POST", "/employers", body)
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    # ---- leads --------------------------------------------------------------
    def test_manual_lead_and_duplicate_check(self):
        before = self.outbox()
        e = self.lead("Riverbend Bakery, Inc.", "95691", phone="(916) 555-0140",
                      contacts=[{"name": "Dana Cruz", "kind": "primary", "email": "dana@example.com"},
                                {"name": "Lee Park", "kind": "secondary"}])
        self.assertEqual(self.outbox(), before + 1)  # one write, one entry
        self.assertEqual(e["account_type"], "lead")
        self.assertTrue(e["username"].startswith("MKTRIVERBENDBAK"))
        self.assertEqual(e["normalized_name"], "riverbend bakery")
        self.assertEqual(e["lead_owner_id"], "demo-staff")
        self.assertEqual(e["state"], "CA")
        self.assertEqual(len(e["contacts"]), 2)
        # Typing the same company differently finds it, across owners.
        r = self.node.get(API + "/employers/duplicates?name=RIVERBEND%20BAKERY%20LLC&zip=95691")
        self.assertEqual(r.status, 200)
        m = [x for x in r.json() if x["id"] == e["id"]]
        self.assertEqual(m[0]["match"], "name_zip")
        r = self.node.get(API + "/employers/duplicates?name=Riverbend%20Bakery&zip=90012")
        self.assertEqual([x["match"] for x in r.json() if x["id"] == e["id"]], ["name"])
        # Creating it again is stopped with the matches, unless confirmed.
        r = self.req("POST", "/employers", {"company_name": "Riverbend Bakery LLC", "zip": "95691"})
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual(r.json()["field"], "company_name")
        self.assertIn(e["id"], [d["id"] for d in r.json()["duplicates"]])
        r = self.req("POST", "/employers", {"company_name": "Riverbend Bakery LLC", "zip": "95691",
                                            "confirm_not_duplicate": True})
        self.assertEqual(r.status, 201, r.body)
        self.assertNotEqual(r.json()["username"], e["username"])  # unique user names
        # The summary.
        s = self.node.get(API + "/employers/" + e["id"]).json()
        for k in ("contacts", "locations", "services", "work_items", "duplicate_flags"):
            self.assertIn(k, s)
        self.assertTrue(s["has_mkt_prefix"])
        self.assertEqual(s["username_without_prefix"], e["username"][3:])

    def test_lead_bad_input_names_the_field(self):
        before = self.outbox()
        self.bad(self.req("POST", "/employers", {"zip": "95814"}), "company_name")
        self.bad(self.req("POST", "/employers", {"company_name": "X Co"}), "zip")
        self.bad(self.req("POST", "/employers", {"company_name": "..,", "zip": "95814"}), "company_name")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "9581"}), "zip")
        zed = {"company_name": "Zed", "zip": "95814"}
        self.bad_each("/employers", zed, {
            "edd_account_number": "12-34", "phone": "555", "state": "Calif", "industry": "abc",
            "website": "javascript:alert(1)", "lead_owner_id": "nobody", "office_id": "nowhere"})
        self.bad(self.req("POST", "/employers", dict(zed, source="external")), "external_employer_id")
        self.bad(self.req("POST", "/employers", dict(zed, contacts=[{"kind": "primary"}])),
                 "contacts[0].name")
        self.bad(self.req("POST", "/employers", dict(zed, contacts=[{"name": "A", "email": "nope"}])),
                 "contacts[0].email")
        self.bad_each("/employers", zed, {"surprise": 1})
        r = self.node.request("POST", API + "/employers", body=b"{not json",
                              headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(self.outbox(), before)  # nothing written

    def test_external_employer_to_lead(self):
        r = self.node.get(API + "/external-employers?sort=jobs&limit=5")
        self.assertEqual(r.status, 200)
        items = r.json()["items"]
        jobs = [x["active_job_orders"] for x in items]
        self.assertEqual(jobs, sorted(jobs, reverse=True))
        self.assertTrue(r.json()["more"])
        names = [x["company_name"] for x in self.node.get(API + "/external-employers?sort=name&limit=50").json()["items"]]
        self.assertEqual(names, sorted(names, key=str.lower))
        # Filters: industry code, ZIP, keyword.
        f = self.node.get(API + "/external-employers?industry=5415&limit=500").json()["items"]
        self.assertTrue(f and all(x["industry_code"].startswith("5415") for x in f))
        z = self.node.get(API + "/external-employers?zip=95814&limit=500").json()["items"]
        self.assertTrue(all(x["zip"].startswith("95814") for x in z))
        k = self.node.get(API + "/external-employers?q=staffing&limit=500").json()["items"]
        self.assertTrue(k)
        self.bad(self.node.get(API + "/external-employers?sort=size"), "sort")
        self.bad(self.node.get(API + "/external-employers?zip=abc"), "zip")
        # Convert to lead: the form is prefilled from the external employer.
        x = items[0]
        p = self.node.get(API + "/external-employers/%s/prefill" % x["id"]).json()
        self.assertEqual(p["company_name"], x["company_name"])
        self.assertEqual(p["source"], "external")
        body = {k: p[k] for k in ("company_name", "zip", "street", "city", "state", "phone",
                                  "website", "industry", "source", "external_employer_id")}
        body["confirm_not_duplicate"] = True
        r = self.req("POST", "/employers", body)
        self.assertEqual(r.status, 201, r.body)
        e = r.json()
        self.assertEqual(e["source"], "external")
        self.assertEqual(e["external_employer_id"], x["id"])
        lst = self.node.get(API + "/external-employers?sort=jobs&limit=5").json()["items"]
        self.assertEqual([i["lead_id"] for i in lst if i["id"] == x["id"]], [e["id"]])

    def test_local_employer_sites_to_lead(self):
        r = self.node.get(API + "/directory?area=sacramento&openings=yes&limit=100")
        self.assertEqual(r.status, 200)
        items = r.json()["items"]
        self.assertTrue(items)
        self.assertTrue(all(x["has_openings"] == 1 for x in items))
        self.assertTrue(all("sacramento" in (x["city"] + x["county"]).lower() for x in items))
        self.assertTrue(self.node.get(API + "/directory?openings=no&limit=5").json()["items"])
        self.bad(self.node.get(API + "/directory?openings=maybe"), "openings")
        d = items[0]
        p = self.node.get(API + "/directory/%s/prefill" % d["id"]).json()
        self.assertEqual(p["source"], "local_search")
        body = {k: p[k] for k in ("company_name", "zip", "street", "city", "phone", "industry",
                                  "source", "directory_id")}
        body["confirm_not_duplicate"] = True
        r = self.req("POST", "/employers", body)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["directory_id"], d["id"])

    def test_lists_contacts_and_edit(self):
        mine = self.lead("Contact List Test Corp", "93721",
                         contacts=[{"name": "Alma Reyes", "kind": "primary"}])
        other = self.lead("Someone Elses Lead", "93721", lead_owner_id="0190a000-0000-7000-8000-0000000000b1")
        c = self.node.get(API + "/contacts?limit=500").json()["items"]  # default: me
        ids = {x["employer_id"] for x in c}
        self.assertIn(mine["id"], ids)
        self.assertNotIn(other["id"], ids)
        c = self.node.get(API + "/contacts?owner=all&limit=500").json()["items"]
        self.assertIn(other["id"], {x["employer_id"] for x in c})
        self.assertIn("Alma Reyes", {x["contact_name"] for x in c})
        q = self.node.get(API + "/contacts?owner=all&q=alma").json()["items"]
        self.assertEqual({x["employer_id"] for x in q}, {mine["id"]})
        # Marketing Leads list = account type lead.
        l = self.node.get(API + "/employers?account_type=lead&owner=all&q=contact%20list%20test").json()["items"]
        self.assertEqual([x["id"] for x in l], [mine["id"]])
        self.bad(self.node.get(API + "/employers?account_type=preferred"), "account_type")
        self.bad(self.node.get(API + "/employers?limit=0"), "limit")
        # Add a contact and a location; edit them and the lead.
        r = self.req("POST", "/employers/%s/contacts" % mine["id"],
                     {"name": "Ben Ode", "kind": "secondary", "phone": "(559) 555-0101"})
        self.assertEqual(r.status, 201, r.body)
        cid = r.json()["id"]
        self.bad(self.req("POST", "/employers/%s/contacts" % mine["id"], {"kind": "boss", "name": "x"}), "kind")
        r = self.req("PATCH", "/contacts/" + cid, {"title": "HR Manager"})
        self.assertEqual(r.json()["title"], "HR Manager")
        r = self.req("POST", "/employers/%s/locations" % mine["id"],
                     {"name": "Warehouse", "street": "5 Dock Rd", "city": "Fresno", "zip": "93725"})
        self.assertEqual(r.status, 201, r.body)
        self.bad(self.req("POST", "/employers/%s/locations" % mine["id"], {"zip": "x"}), "zip")
        before = self.outbox()
        r = self.req("PATCH", "/employers/" + mine["id"], {"website": "www.clt.example.com", "phone": ""})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["website"], "www.clt.example.com")
        self.assertEqual(self.outbox(), before + 1)
        # An edit that changes nothing writes nothing.
        r = self.req("PATCH", "/employers/" + mine["id"], {"website": "www.clt.example.com"})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.outbox(), before + 1)
        self.bad(self.req("PATCH", "/employers/" + mine["id"], {"account_type": "recruiting"}), "account_type")
        self.bad(self.req("PATCH", "/employers/" + mine["id"], {"zip": ""}), "zip")
        self.assertEqual(self.req("PATCH", "/employers/nope", {"city": "X"}).status, 404)
        s = self.node.get(API + "/employers/" + mine["id"]).json()
        self.assertEqual(len(s["contacts"]), 2)
        self.assertEqual(len(s["locations"]), 1)

    def test_case_notes(self):
        e = self.lead("Case Note Cannery", "95901")
        before = self.outbox()
        r = self.req("POST", "/employers/%s/notes" % e["id"],
                     {"subject": "First visit", "body": "  Met the owner; hiring in spring.  "})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(self.outbox(), before + 1)
        self.req("POST", "/employers/%s/notes" % e["id"], {"body": "Second call"})
        s = self.node.get(API + "/employers/" + e["id"]).json()
        self.assertEqual([n["body"] for n in s["notes"]],
                         ["Second call", "Met the owner; hiring in spring."])  # newest first
        self.assertEqual(s["notes"][1]["subject"], "First visit")
        self.assertEqual(s["notes"][0]["staff_id"], "demo-staff")
        self.bad(self.req("POST", "/employers/%s/notes" % e["id"], {"body": "   "}), "body")
        self.bad(self.req("POST", "/employers/%s/notes" % e["id"], {"body": "x" * 4001}), "body")
        self.bad(self.req("POST", "/employers/%s/notes" % e["id"], {"body": "x", "mood": 1}), "mood")
        self.assertEqual(self.req("POST", "/employers/nope/notes", {"body": "x"}).status, 404)
        self.assertEqual(self.outbox(), before + 2)
        self.assertNotIn("hiring in spring", self.node.read_log())  # note text never logged

    def test_conversion(self):
        e = self.lead("Conversion Candidate Co", "95202")
        # Missing EDD Account Number, then other required fields, each named.
        self.bad(self.req("POST", "/employers/%s/convert" % e["id"], {}), "edd_account_number")
        self.bad(self.req("POST", "/employers/%s/convert" % e["id"],
                          {"edd_account_number": "12345"}), "edd_account_number")
        self.bad(self.req("POST", "/employers/%s/convert" % e["id"],
                          {"edd_account_number": "123-4567-8"}), "phone")
        self.bad(self.req("POST", "/employers/%s/convert" % e["id"],
                          {"edd_account_number": "123-4567-8", "phone": "(209) 555-0100"}), "industry")
        self.bad(self.req("POST", "/employers/%s/convert" % e["id"],
                          {"edd_account_number": "123-4567-8", "phone": "(209) 555-0100",
                           "industry": "493110"}), "contacts")
        self.req("POST", "/employers/%s/contacts" % e["id"], {"name": "Pat Primary", "kind": "primary"})
        r = self.req("POST", "/employers/%s/convert" % e["id"],
                     {"edd_account_number": "123-4567-8", "phone": "(209) 555-0100",
                      "industry": "493110", "drop_mkt_prefix": True})
        self.assertEqual(r.status, 200, r.body)
        c = conv = r.json()
        self.assertEqual(c["account_type"], "recruiting")
        self.assertEqual(c["username"], e["username"][3:])
        self.assertFalse(c["has_mkt_prefix"])
        self.assertEqual(c["vetting_status"], "pending")
        self.assertEqual(c["vetting_due_at"] - c["vetting_started_at"], 72 * 3600 * 1000)
        self.assertEqual(c["edd_account_number"], "12345678")
        # Never both, never twice.
        self.bad(self.req("POST", "/employers/%s/convert" % e["id"], {"edd_account_number": "1234567"}),
                 "account_type", 409)
        # It stays in the Contacts List (created as a lead).
        c = self.node.get(API + "/contacts?owner=me&account_type=recruiting&limit=500").json()["items"]
        self.assertIn(e["id"], {x["employer_id"] for x in c})
        # The vetting result, by WSB staff (test_crmrules has the rest):
        # approved, or locked when the information did not match.
        wsb = client(self.node)
        login(wsb, "t-wsb")
        vet = lambda emp, body: wsb.request("POST", API + "/employers/%s/vetting" % emp, body=body)
        self.bad(vet(e["id"], {"result": "maybe"}), "result")
        self.bad(vet(e["id"], {}), "result")
        r = vet(e["id"], {"result": "locked", "reason": "the EDD number does not match"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["vetting_status"], "locked")
        self.bad(vet(e["id"], {"result": "locked", "reason": "again"}), "vetting_status", 409)
        # User names are unique: a conversion or an edit cannot take one in use.
        other = self.lead("Name Taker Co", "95202", phone="(209) 555-0102", industry="4931",
                          contacts=[{"name": "Lou", "kind": "primary"}])
        self.bad(self.req("POST", "/employers/%s/convert" % other["id"],
                          {"edd_account_number": "7654322", "username": conv["username"]}), "username", 409)
        self.bad(self.req("PATCH", "/employers/" + other["id"], {"username": conv["username"]}), "username", 409)
        self.bad(self.req("PATCH", "/employers/" + other["id"], {"username": "a b"}), "username")
        self.bad(vet(other["id"], {"result": "approved"}), "account_type", 409)  # still a lead
        # Keeping the prefix is allowed too.
        e2 = self.lead("Keep Prefix Co", "95202", phone="(209) 555-0101", industry="4931",
                       contacts=[{"name": "Kim", "kind": "primary"}])
        r = self.req("POST", "/employers/%s/convert" % e2["id"], {"edd_account_number": "7654321"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["username"], e2["username"])

    # ---- services -----------------------------------------------------------
    def test_services(self):
        e = self.lead("Service Plan Test LLC", "95354")
        t = today(self.node)
        codes = self.node.get(API + "/codes").json()
        by = {c["code"]: c for c in codes}
        self.assertFalse(by["E90"]["selectable"])
        self.assertFalse(by["E92"]["selectable"])
        self.assertFalse(by["E74"]["selectable"])
        self.assertTrue(by["E20"]["selectable"])
        before = self.outbox()
        r = self.req("POST", "/employers/%s/services" % e["id"], {
            "expected_account_type": "lead",
            "services": [{"code": "E20", "start_date": t},
                         {"code": "E21", "start_date": t, "end_date": t, "completion_code": "successful"}]})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(len(r.json()["services"]), 2)
        self.assertEqual(self.outbox(), before + 1)  # both in one write
        plan = self.node.get(API + "/employers/%s/services" % e["id"]).json()
        self.assertEqual(sorted(s["code"] for s in plan), ["E20", "E21"])
        # Rules, each naming the service and field; nothing saved on error.
        def svc(*items, **kw):
            body = {"services": list(items)}
            body.update(kw)
            return self.req("POST", "/employers/%s/services" % e["id"], body)
        self.bad(svc({"code": "E90", "start_date": t}), "services[0].code")
        self.bad(svc({"code": "E20", "start_date": t}, {"code": "E75", "start_date": t}), "services[1].code")
        self.bad(svc({"code": "E20", "start_date": t, "completion_code": "successful"}), "services[0].end_date")
        self.bad(svc({"code": "E20", "start_date": "2025-01-10", "end_date": "2025-01-09"}), "services[0].end_date")
        self.bad(svc({"code": "E20", "start_date": "2999-01-01"}), "services[0].start_date")
        self.bad(svc({"code": "E99", "start_date": t}), "services[0].code")
        self.bad(svc({"code": "E20"}), "services[0].start_date")
        self.bad(svc(), "services")
        self.bad(svc({"code": "E20", "start_date": t}, expected_account_type="recruiting"),
                 "expected_account_type", 409)
        self.assertEqual(len(self.node.get(API + "/employers/%s/services" % e["id"]).json()), 2)
        # Correction: a new row; the plan shows the corrected value only.
        sid = [s for s in plan if s["code"] == "E20"][0]["id"]
        r = self.req("POST", "/services/%s/correct" % sid, {"code": "E22", "start_date": t})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["corrects_id"], sid)
        self.assertEqual(self.req("POST", "/services/%s/correct" % sid, {"void": True}).status, 409)
        plan = self.node.get(API + "/employers/%s/services" % e["id"]).json()
        self.assertEqual(sorted(s["code"] for s in plan), ["E21", "E22"])
        db = self.node.db()
        self.assertEqual(db.execute("SELECT count(*) FROM employer_services WHERE employer_id=?",
                                    (e["id"],)).fetchone()[0], 3)  # append-only
        db.close()

    def test_correction_keeps_a_retired_code(self):
        """A service recorded before its code was retired is corrected
        keeping that code (SPEC bars retired codes from new services only;
        the hub takes such a correction, hub_codes.c); a correction to
        another retired code is refused, naming the code."""
        e = self.lead("Retired Code Co", "95814")
        t = today(self.node)
        sid = str(uuid.uuid4())
        harness.db_write(self.node, "INSERT INTO employer_services(id, employer_id, code, start_date,"
                         " staff_id, office_id, voided, created_at) VALUES(?,?,'E74',?,?,?,0,?)",
                         sid, e["id"], t, "demo-staff", "demo-office", int(time.time() * 1000) - 86400000)
        self.bad(self.req("POST", "/services/%s/correct" % sid, {"code": "E75", "start_date": t}), "code")
        r = self.req("POST", "/services/%s/correct" % sid, {"code": "E74", "start_date": t,
                                                             "notes": "date checked"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual((r.json()["code"], r.json()["corrects_id"]), ("E74", sid))
        # the correction itself is corrected the same way
        r = self.req("POST", "/services/%s/correct" % r.json()["id"], {"code": "E74", "start_date": t})
        self.assertEqual(r.status, 201, r.body)

    # ---- work items -----------------------------------------------------------
    def test_work_items(self):
        e = self.lead("Work Item Test Inc", "94607")
        t = today(self.node)
        meta = self.node.get(API + "/meta").json()
        self.assertIn("demo-staff", [s["id"] for s in meta["work_group"]])
        self.assertNotIn("0190a000-0000-7000-8000-0000000000b3", [s["id"] for s in meta["work_group"]])
        r = self.req("POST", "/work-items", {"category_id": "crm-cat-follow-up", "description": "Call HR",
                                             "due_date": t, "employer_id": e["id"],
                                             "priority_id": "crm-pri-high"})
        self.assertEqual(r.status, 201, r.body)
        w = r.json()
        self.assertEqual(w["status"], "New")
        self.assertEqual(w["assignee_id"], "demo-staff")
        self.assertEqual(w["employer_name"], "Work Item Test Inc")
        self.assertTrue(w["due_today"])
        # Bad input.
        self.bad(self.req("POST", "/work-items", {"description": "x"}), "category_id")
        self.bad(self.req("POST", "/work-items", {"category_id": "crm-cat-other"}), "description")
        self.bad(self.req("POST", "/work-items", {"category_id": "nope", "description": "x"}), "category_id")
        # The last: assignment only to the CRM work group.
        self.bad_each("/work-items", {"category_id": "crm-cat-other", "description": "x"}, {
            "priority_id": "nope", "due_date": "tomorrow", "employer_id": "nope", "status": "Closed",
            "assignee_id": "0190a000-0000-7000-8000-0000000000b3"})
        # Queues and due today.
        mine = self.node.get(API + "/work-items?queue=mine&limit=500").json()["items"]
        self.assertIn(w["id"], [x["id"] for x in mine])
        due = self.node.get(API + "/work-items/due-today").json()
        self.assertIn(w["id"], [x["id"] for x in due["items"]])
        self.assertGreaterEqual(due["count"], 1)
        # Open by the short reference.
        self.assertEqual(self.node.get(API + "/work-items/" + w["ref"]).json()["id"], w["id"])
        # Re-assign to another CRM member: it leaves My Queue, stays in Group Queue.
        r = self.req("PATCH", "/work-items/" + w["id"], {"assignee_id": "0190a000-0000-7000-8000-0000000000b2"})
        self.assertEqual(r.status, 200, r.body)
        mine = self.node.get(API + "/work-items?queue=mine&limit=500").json()["items"]
        self.assertNotIn(w["id"], [x["id"] for x in mine])
        group = self.node.get(API + "/work-items?queue=group&limit=500").json()["items"]
        self.assertIn(w["id"], [x["id"] for x in group])
        self.bad(self.req("PATCH", "/work-items/" + w["id"], {"assignee_id": "0190a000-0000-7000-8000-0000000000b3"}),
                 "assignee_id")
        # Status, notes (the creator may), close; closed leaves the queues.
        r = self.req("PATCH", "/work-items/" + w["id"], {"status": "In Progress"})
        self.assertEqual(r.json()["status"], "In Progress")
        self.bad(self.req("PATCH", "/work-items/" + w["id"], {"status": "Done"}), "status")
        r = self.req("POST", "/work-items/%s/notes" % w["id"], {"body": "Left a voicemail"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual([n["body"] for n in r.json()["notes"]], ["Left a voicemail"])
        self.bad(self.req("POST", "/work-items/%s/notes" % w["id"], {"body": "  "}), "body")
        r = self.req("PATCH", "/work-items/" + w["id"], {"status": "Closed"})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.json()["closed_at"])
        group = self.node.get(API + "/work-items?queue=group&limit=500").json()["items"]
        self.assertNotIn(w["id"], [x["id"] for x in group])
        closed = self.node.get(API + "/work-items?queue=group&status=closed&limit=500").json()["items"]
        self.assertIn(w["id"], [x["id"] for x in closed])
        self.bad(self.req("PATCH", "/work-items/" + w["id"], {"status": "New"}), "status", 409)
        # Closed, it is a record of work done: no field of it changes, each
        # named in a 409 (a null too, and with its status sent as it is);
        # a note still goes.
        for k, v in (("description", "Call HR again"), ("due_date", None), ("priority_id", "crm-pri-high"),
                     ("category_id", "crm-cat-other"), ("employer_id", None),
                     ("assignee_id", "0190a000-0000-7000-8000-0000000000b2")):
            r = self.req("PATCH", "/work-items/" + w["id"], {"status": "Closed", k: v})
            self.bad(r, k, 409)
            self.assertIn("closed, a record of work done", r.json()["error"], r.body)
        x = self.node.get(API + "/work-items/" + w["id"]).json()
        self.assertEqual((x["status"], x["description"]), ("Closed", "Call HR"))
        r = self.req("POST", "/work-items/%s/notes" % w["id"], {"body": "HR called back after the close"})
        self.assertEqual(r.status, 201, r.body)
        # The edit that closes an item may change its fields with it.
        w3 = self.req("POST", "/work-items", {"category_id": "crm-cat-other", "description": "Visit"}).json()
        r = self.req("PATCH", "/work-items/" + w3["id"], {"status": "Closed", "description": "Visited, done"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["status"], r.json()["description"]), ("Closed", "Visited, done"))
        # Soft delete (a closed item's too).
        r = self.req("DELETE", "/work-items/" + w3["id"])
        self.assertEqual(r.status, 200, r.body)
        w2 = self.req("POST", "/work-items", {"category_id": "crm-cat-other", "description": "Temp"}).json()
        r = self.req("DELETE", "/work-items/" + w2["id"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["deleted"], 1)
        self.assertEqual(self.req("DELETE", "/work-items/" + w2["id"]).status, 404)
        db = self.node.db()
        self.assertEqual(db.execute("SELECT count(*) FROM work_items WHERE id=?", (w2["id"],)).fetchone()[0], 1)
        db.close()
        # The lead summary shows its work items.
        s = self.node.get(API + "/employers/" + e["id"]).json()
        self.assertEqual([x["id"] for x in s["work_items"]], [w["id"]])

    # ---- reports ----------------------------------------------------------------
    def test_reports(self):
        e = self.lead("Report Subject Foods", "93301")
        t = today(self.node)
        self.req("POST", "/employers/%s/services" % e["id"], {"services": [
            {"code": "E30", "start_date": t}, {"code": "E26", "start_date": t}, {"code": "E20", "start_date": t}]})
        self.req("POST", "/work-items", {"category_id": "crm-cat-recruitment", "description": "Job fair",
                                         "employer_id": e["id"]})
        self.req("POST", "/work-items", {"category_id": "crm-cat-recruitment", "description": "Unlinked"})
        r = self.node.get(API + "/reports/services?from=%s&to=%s" % (t, t))
        self.assertEqual(r.status, 200, r.body)
        s = r.json()
        cats = {c["dol_category"]: c["count"] for c in s["by_dol_category"]}
        self.assertGreaterEqual(cats.get("TS", 0), 1)    # E30 On-the-Job Training
        self.assertGreaterEqual(cats.get("EISS", 0), 1)  # E26 LMI
        self.assertGreaterEqual(cats.get("WRA", 0), 1)
        self.assertEqual(s["total"], sum(c["count"] for c in s["by_dol_category"]))
        r = self.node.get(API + "/reports/services?format=csv&account_type=lead")
        self.assertEqual(r.status, 200)
        self.assertIn("text/csv", r.header("Content-Type"))
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))  # UTF-8 BOM: Spanish names open intact
        rows = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"))))
        self.assertEqual(rows[0][:4], ["service_id", "employer", "account_type", "code"])
        self.assertIn("Report Subject Foods", [x[1] for x in rows[1:]])
        w = self.node.get(API + "/reports/work-items?category_id=crm-cat-recruitment").json()
        descs = [i["description"] for i in w["items"]]
        self.assertIn("Job fair", descs)
        self.assertNotIn("Unlinked", descs)  # no link, not in CRM reports
        self.assertEqual(w["total"], len(w["items"]))
        w = self.node.get(API + "/reports/work-items?account_type=recruiting&category_id=crm-cat-recruitment").json()
        self.assertEqual(w["total"], 0)
        r = self.node.get(API + "/reports/work-items?format=csv")
        self.assertIn("text/csv", r.header("Content-Type"))
        m = self.node.get(API + "/reports/employers").json()
        types = {x["label"]: x["count"] for x in m["by_account_type"]}
        self.assertGreaterEqual(types.get("lead", 0), 1)
        self.bad(self.node.get(API + "/reports/employers?from=2026-13-01"), "from")
        self.bad(self.node.get(API + "/reports/work-items?status=Open"), "status")
        self.bad(self.node.get(API + "/reports/work-items?from=2026-02-01&to=2026-01-01"), "from")
        self.bad(self.node.get(API + "/reports/services?format=pdf"), "format")

    def test_free_text_search(self):
        e = self.lead("Quillfeather Stationers", "95819",
                      contacts=[{"name": "Ximena Oduya", "kind": "primary"}])
        w = self.req("POST", "/work-items", {"category_id": "crm-cat-other",
                                             "description": "Bring the brochure",
                                             "employer_id": e["id"]}).json()
        ids = lambda r: [x.get("id") or x.get("employer_id") for x in r.json()["items"]]
        # Every word typed starts a word, in any order, case and accents folded.
        for q in ("quillf", "STATIONERS quill", "Quíllfeather"):
            r = self.node.get(API + "/employers?owner=all&account_type=all&q=" + urllib.parse.quote(q))
            self.assertEqual(ids(r), [e["id"]], q)
        self.assertEqual(ids(self.node.get(API + "/employers?owner=all&q=uillfeather")), [])
        self.assertEqual(ids(self.node.get(API + "/employers?owner=all&q=" + e["username"])), [e["id"]])
        # Contacts List by contact name or company; work items by text or company.
        for q in ("oduya", "ximena%20quill"):
            self.assertEqual(set(ids(self.node.get(API + "/contacts?owner=all&q=" + q))), {e["id"]}, q)
        for q in ("brochure", "quillfeather", w["ref"].lower()):
            r = self.node.get(API + "/work-items?queue=group&status=all&q=" + q)
            self.assertEqual([x["id"] for x in r.json()["items"]], [w["id"]], q)
        # A word with more matches than can be sorted cheaply (300): newest
        # first, straight from the index, still paged.
        made = [self.lead("Commonword Supply %03d" % i, "96001", confirm_not_duplicate=True)["id"]
                for i in range(301)]
        r = self.node.get(API + "/employers?owner=all&account_type=all&q=commonword&limit=20")
        j = r.json()
        self.assertEqual(j.get("order"), "newest")
        self.assertEqual([x["id"] for x in j["items"]], made[::-1][:20])
        self.assertTrue(j["more"])
        j = self.node.get(API + "/employers?owner=all&account_type=all&q=commonword%20supply%20300").json()
        self.assertNotIn("order", j)
        self.assertEqual([x["id"] for x in j["items"]], [made[300]])

    def test_web_pages_served(self):
        for page in ("/crm.html", "/crm-leads.html", "/crm-lead.html", "/crm-lead-form.html",
                     "/crm-external.html", "/crm-work.html", "/crm-reports.html"):
            r = self.node.get(page)
            self.assertEqual(r.status, 200, page)
            self.assertIn(b"<main", r.body)


# ---- replication between offices, through a real hub ------------------------


class CrmReplicationTest(harness.TwoOffices):
    """Two office nodes enrolled with one hub.  "Offline" is the hub stopped:
    both offices keep working on what they last pulled, then push and pull
    with outpost-sync once it is back.  The nodes' own background sync may
    run too; nothing asserted here depends on who pushes first except where
    the test chooses the order, and holds the other office's background sync
    back meanwhile (online_first)."""

    # signed in once enrolled: a sign-in before enrollment would be audited
    # under the stand-alone office, outside office B's scope
    prefix = "crm-office"

    # ---- helpers ------------------------------------------------------------
    def offline(self):
        self.hub.stop()

    def online(self):
        self.hub.start()

    def online_first(self, first, held):
        """The hub back, and first's changes pushed to it before held's:
        held, whose background sync could push first, is stopped until
        they are in, then started and signed in again."""
        held.stop()
        self.online()
        try:
            self.sync(first, "push")
        finally:
            held.start()
            login(held)

    def settle(self, *order):
        """Push in the given order, then pull everywhere (push again first if a
        background write slipped in), so every replica has everything."""
        for node in order:
            self.sync(node, "push")
        for node in (self.a, self.b):
            self.sync(node, "push")
            self.sync(node, "pull")

    def api(self, node, method, path, body=None, status=None):
        r = node.request(method, API + path, body=body)
        if status is not None:
            self.assertEqual(r.status, status, r.body)
        return r.json()

    def hub_row(self, sql, *args):
        db = self.hub.db()
        try:
            return db.execute(sql, args).fetchone()
        finally:
            db.close()

    def node_rows(self, node, sql, *args):
        db = node.db()
        try:
            return [dict(r) for r in db.execute(sql, args).fetchall()]
        finally:
            db.close()

    def conflicts(self, node, table, row_id):
        return {r["column_name"]: r for r in self.node_rows(
            node, "SELECT * FROM conflicts WHERE tbl=? AND row_id=?", table, row_id)}

    def row_hlc(self, node, table, row_id):
        return self.node_rows(node, "SELECT updated_hlc FROM %s WHERE id=?" % table,
                              row_id)[0]["updated_hlc"]

    def verify(self, node):
        p = run_tool(["verify", "--data", node.data, "--json"])
        self.assertEqual(p.returncode, 0, (p.stdout.decode()[-2000:], p.stderr.decode()))

    # ---- tests --------------------------------------------------------------
    def test_conflicting_offline_edits_of_a_lead_merge_column_by_column(self):
        e = self.api(self.a, "POST", "/employers", {
            "company_name": "Crossed Edits Lumber", "zip": "95816", "street": "9 Mill Rd",
            "city": "Sacramento", "phone": "(916) 555-0170"}, 201)
        self.settle(self.a)
        self.assertEqual(self.api(self.b, "GET", "/employers/" + e["id"], status=200)["city"],
                         "Sacramento")

        self.offline()
        try:
            # Office A (earlier): phone and city.  Office B (later): website and city.
            self.api(self.a, "PATCH", "/employers/" + e["id"],
                     {"phone": "(916) 555-0199", "city": "Elk Grove"}, 200)
            time.sleep(0.3)
            self.api(self.b, "PATCH", "/employers/" + e["id"],
                     {"website": "www.crossed-lumber.example.com", "city": "Folsom"}, 200)
        finally:
            self.online()
        # Each office's clock runs on its own estimate of the hub's; the rule
        # is "the later HLC wins", so the expected city follows the HLCs.
        ha, hb = self.row_hlc(self.a, "employers", e["id"]), self.row_hlc(self.b, "employers", e["id"])
        self.assertNotEqual(ha, hb)
        later, earlier = ("Folsom", "Elk Grove") if hb > ha else ("Elk Grove", "Folsom")
        # The later edit reaches the hub first; the earlier one must not win.
        self.settle(*((self.b, self.a) if hb > ha else (self.a, self.b)))

        for node in (self.a, self.b):
            s = self.api(node, "GET", "/employers/" + e["id"], status=200)
            self.assertEqual(s["phone"], "(916) 555-0199", node.name)           # only A
            self.assertEqual(s["website"], "www.crossed-lumber.example.com")     # only B
            self.assertEqual(s["city"], later, node.name)                        # both: later wins
            self.assertEqual(s["street"], "9 Mill Rd")                           # neither
            c = self.conflicts(node, "employers", e["id"])
            self.assertEqual(set(c), {"city"}, node.name)
            self.assertEqual({json.loads(c["city"]["local_value"]),
                              json.loads(c["city"]["remote_value"])}, {"Elk Grove", "Folsom"})
            self.assertEqual(json.loads(c["city"]["base_value"]), "Sacramento")
            # The summary shows the crossed edit to the staff of both offices.
            shown = [x for x in s["conflicts"] if x["column_name"] == "city"]
            self.assertEqual(len(shown), 1, s["conflicts"])
            self.assertEqual(shown[0]["kept_value"], later)
            self.assertEqual(shown[0]["other_value"], earlier)
        row = self.hub_row("SELECT phone, website, city FROM employers WHERE id=?", e["id"])
        self.assertEqual(tuple(row), ("(916) 555-0199", "www.crossed-lumber.example.com", later))
        self.assertEqual(self.hub_row("SELECT count(*) FROM conflicts WHERE tbl='employers' "
                                      "AND row_id=?", e["id"])[0], 1)
        self.verify(self.a)
        self.verify(self.b)

    def test_a_code_retired_today_is_taken_from_rows_entered_today(self):
        """A list version takes effect on its date, from today on: a service
        an office entered that day with a code the version drops (before
        it pulled the new list) is taken at the hub, not quarantined (found
        by a review: the same day's rows were quarantined, and a case note
        with its activity).  One entered after the date is refused:
        test_setup.test_code_list_versions."""
        e = self.api(self.a, "POST", "/employers", {
            "company_name": "Same Day Codes Co", "zip": "95816", "street": "1 Code Way",
            "city": "Sacramento", "phone": "(916) 555-0180"}, 201)
        self.settle(self.a)
        # the office's day, the one its service is entered on below (the
        # hub takes the code on the day it was retired, refuses it after)
        t = harness.office_day(self.a, span=60)
        db = self.hub.db()
        try:   # as a version dated today leaving E20 out records it
            db.execute("INSERT INTO code_retirements(id, list, code, effective_date, version)"
                       " VALUES('employer:E20', 'employer', 'E20', ?, 'same-day')", (t,))
            db.commit()
        finally:
            db.close()
        try:
            q0 = self.hub_row("SELECT count(*) FROM quarantine")[0]
            s1 = self.api(self.a, "POST", "/employers/%s/services" % e["id"],
                          {"expected_account_type": "lead",
                           "services": [{"code": "E20", "start_date": t}]}, 201)
            self.settle(self.a)
            self.assertEqual(self.hub_row("SELECT count(*) FROM quarantine")[0], q0)
            self.assertIsNotNone(self.hub_row("SELECT id FROM employer_services WHERE id=?",
                                              s1["services"][0]["id"]))
        finally:
            db = self.hub.db()
            try:
                db.execute("DELETE FROM code_retirements WHERE id='employer:E20'")
                db.commit()
            finally:
                db.close()

    def test_offline_edits_that_merged_break_a_rule_are_a_conflict_not_a_quarantine(self):
        # Each edit is valid on the lead its office saw: A converts it to a
        # recruiting employer (which needs a phone), B clears its phone and
        # adds a website.  Merged, they break the conversion rule.  The
        # second to reach the hub is not quarantined: the hub keeps the
        # first's row, records each value of the second as a conflict with
        # the rule as its reason, and both offices end with the hub's row.
        e = self.api(self.a, "POST", "/employers", {
            "company_name": "Rule Crossing Feed Co", "zip": "95816", "street": "4 Barn Rd",
            "city": "Sacramento", "phone": "(916) 555-0171", "industry": "4931",
            "contacts": [{"name": "Ray Feed", "kind": "primary"}]}, 201)
        self.settle(self.a)
        self.api(self.b, "GET", "/employers/" + e["id"], status=200)
        quarantined = self.hub_row("SELECT count(*) FROM quarantine")[0]
        self.offline()
        try:
            self.api(self.a, "POST", "/employers/%s/convert" % e["id"],
                     {"edd_account_number": "123-4567-8"}, 200)
            self.api(self.b, "PATCH", "/employers/" + e["id"],
                     {"phone": "", "website": "www.rule-crossing.example.com"}, 200)
        finally:
            self.online()
        self.settle(self.a, self.b)
        self.assertEqual(self.hub_row("SELECT count(*) FROM quarantine")[0], quarantined)
        hub = self.hub_row("SELECT account_type, phone, website FROM employers WHERE id=?", e["id"])
        # Whichever reached the hub first stands whole.
        self.assertIn(tuple(hub), [("recruiting", "(916) 555-0171", None),
                                   ("lead", None, "www.rule-crossing.example.com")])
        c = self.hub_row("SELECT count(*), min(winner), max(winner), min(reason) FROM conflicts"
                         " WHERE tbl='employers' AND row_id=?", e["id"])
        self.assertGreaterEqual(c[0], 1)
        self.assertEqual((c[1], c[2]), ("local", "local"))
        self.assertRegex(c[3], r"^the office's edit of a record the hub had changed since would break a rule: "
                               r"employers: a recruiting employer keeps what its conversion required")
        self.assertEqual(self.hub_row("SELECT count(*) FROM conflicts WHERE tbl='employers'"
                                      " AND row_id=? AND reason IS NULL", e["id"])[0], 0)
        for node in (self.a, self.b):
            s = self.api(node, "GET", "/employers/" + e["id"], status=200)
            self.assertEqual((s["account_type"], s["phone"], s.get("website")), tuple(hub), node.name)
            shown = s["conflicts"]
            self.assertEqual(len(shown), c[0], node.name)
            self.assertTrue(all("would break a rule" in (x.get("reason") or "") for x in shown), shown)
        out = run_tool(["conflicts", "--data", self.b.data]).stdout.decode()
        self.assertIn("    why: the office's edit of a record the hub had changed since would break a rule: employers:", out)
        self.verify(self.a)
        self.verify(self.b)

    def test_conflicting_offline_edits_of_a_work_item_and_closed_stays_closed(self):
        e = self.api(self.a, "POST", "/employers", {
            "company_name": "Work Item Crossing Dairy", "zip": "95620", "city": "Dixon"}, 201)
        w = self.api(self.a, "POST", "/work-items", {
            "category_id": "crm-cat-follow-up", "description": "Call about the job fair",
            "employer_id": e["id"], "due_date": "2026-12-01"}, 201)
        w2 = self.api(self.a, "POST", "/work-items", {
            "category_id": "crm-cat-follow-up", "description": "Second item",
            "employer_id": e["id"]}, 201)
        self.settle(self.a)
        self.assertEqual(self.api(self.b, "GET", "/work-items/" + w["id"], status=200)["status"], "New")

        self.offline()
        try:
            # Office A (earlier): description, priority, status In Progress.
            self.api(self.a, "PATCH", "/work-items/" + w["id"], {
                "description": "Call HR about the job fair", "priority_id": "crm-pri-high",
                "status": "In Progress"}, 200)
            # ...and on the second item a due date and In Progress.
            self.api(self.a, "PATCH", "/work-items/" + w2["id"], {"status": "In Progress"}, 200)
            # Well clear of the difference between the offices' clock
            # estimates, so the close is the later edit.
            time.sleep(1.5)
            # Office B (later): due date and Closed; the second item: due date only.
            self.api(self.b, "PATCH", "/work-items/" + w["id"],
                     {"due_date": "2026-12-15", "status": "Closed"}, 200)
            self.api(self.b, "PATCH", "/work-items/" + w2["id"], {"due_date": "2026-12-20"}, 200)
        finally:
            self.online_first(self.b, self.a)
        self.assertGreater(self.row_hlc(self.b, "work_items", w["id"]),
                           self.row_hlc(self.a, "work_items", w["id"]), "the close is the later edit")
        # The close reaches the hub first; the older In Progress must not
        # reopen it, and A's description and priority, crossing the close,
        # are not taken into the closed record (a record of work done)
        # either: each is kept as a conflict the hub won, naming the close -
        # neither lost nor quarantined.
        q0 = self.hub_row("SELECT count(*) FROM quarantine")[0]
        self.settle(self.b, self.a)
        self.assertEqual(self.hub_row("SELECT count(*) FROM quarantine")[0], q0)

        for node in (self.a, self.b):
            x = self.api(node, "GET", "/work-items/" + w["id"], status=200)
            self.assertEqual(x["status"], "Closed", node.name)
            self.assertEqual(x["description"], "Call about the job fair")  # as B closed it
            self.assertEqual(x["priority_id"], w["priority_id"])
            self.assertEqual(x["due_date"], "2026-12-15")                  # B's, with its close
            self.assertTrue(x["closed_at"])
            c = self.conflicts(node, "work_items", w["id"])
            self.assertEqual(set(c), {"status", "description", "priority_id"}, node.name)
            self.assertEqual({json.loads(c["status"]["local_value"]),
                              json.loads(c["status"]["remote_value"])}, {"Closed", "In Progress"})
            self.assertEqual(json.loads(c["description"]["remote_value"]), "Call HR about the job fair")
            self.assertEqual(json.loads(c["priority_id"]["remote_value"]), "crm-pri-high")
            for k in c.values():
                self.assertEqual(k["winner"], "local", node.name)
                self.assertEqual(k["reason"], "the office's edit crossed the record's final state"
                                              " (status Closed): a final record is not edited")
            self.assertEqual(sorted(k["column_name"] for k in x["conflicts"]),
                             ["description", "priority_id", "status"])
            self.assertEqual({k["column_name"]: k["kept_value"] for k in x["conflicts"]}["status"], "Closed")
            # No crossing on the second item: both edits kept, no conflict.
            y = self.api(node, "GET", "/work-items/" + w2["id"], status=200)
            self.assertEqual((y["status"], y["due_date"]), ("In Progress", "2026-12-20"))
            self.assertEqual(self.conflicts(node, "work_items", w2["id"]), {})
            # Closed items leave both queues.
            group = self.api(node, "GET", "/work-items?queue=group&limit=500")["items"]
            self.assertNotIn(w["id"], [i["id"] for i in group])
            self.assertIn(w2["id"], [i["id"] for i in group])
        self.assertEqual(self.hub_row("SELECT status FROM work_items WHERE id=?", w["id"])[0],
                         "Closed")
        # And Closed stays final on the node too, its fields with it.
        r = self.a.request("PATCH", API + "/work-items/" + w["id"], body={"status": "New"})
        self.assertEqual(r.status, 409, r.body)
        r = self.a.request("PATCH", API + "/work-items/" + w["id"], body={"description": "Call HR"})
        self.assertEqual((r.status, r.json()["field"]), (409, "description"), r.body)

    def test_a_work_item_closed_at_two_offices_and_a_delete_across_a_close(self):
        e = self.api(self.a, "POST", "/employers", {
            "company_name": "Closed Twice Creamery", "zip": "95620", "city": "Dixon"}, 201)
        w = self.api(self.a, "POST", "/work-items", {
            "category_id": "crm-cat-follow-up", "description": "Job fair booth",
            "employer_id": e["id"], "due_date": "2026-12-01"}, 201)
        w2 = self.api(self.a, "POST", "/work-items", {
            "category_id": "crm-cat-follow-up", "description": "Duplicate entry",
            "employer_id": e["id"]}, 201)
        self.settle(self.a)
        self.assertEqual(self.api(self.b, "GET", "/work-items/" + w2["id"], status=200)["status"], "New")

        self.offline()
        try:
            # Both offices close the first item; B re-dates it with its
            # close and adds its closing note.  A closes the second item,
            # which B, not knowing, deletes as it saw it, open.
            a_closed = self.api(self.a, "PATCH", "/work-items/" + w["id"], {"status": "Closed"}, 200)
            self.api(self.a, "PATCH", "/work-items/" + w2["id"], {"status": "Closed"}, 200)
            b_closed = self.api(self.b, "PATCH", "/work-items/" + w["id"],
                                {"status": "Closed", "due_date": "2026-12-24"}, 200)
            self.api(self.b, "POST", "/work-items/%s/notes" % w["id"], {"body": "Closed: two hired"}, 201)
            self.api(self.b, "DELETE", "/work-items/" + w2["id"], status=200)
        finally:
            self.online_first(self.a, self.b)
        q0 = self.hub_row("SELECT count(*) FROM quarantine")[0]
        self.settle(self.b)
        self.assertEqual(self.hub_row("SELECT count(*) FROM quarantine")[0], q0)

        # The first close stands.  Of B's, the values equal to A's (the
        # status; who closed it, when one person closed it at both) are no
        # conflict; what differs is kept, once a value, saying it was closed
        # twice; B's note is kept.  B's delete does not hide the record A
        # closed (an edit beats a delete): a conflict naming the close.
        differs = {"closed_at", "due_date"} | (
            {"closed_by"} if a_closed["closed_by"] != b_closed["closed_by"] else set())
        for node in (self.a, self.b):
            x = self.api(node, "GET", "/work-items/" + w["id"], status=200)
            self.assertEqual((x["status"], x["closed_at"], x["closed_by"], x["due_date"]),
                             ("Closed", a_closed["closed_at"], a_closed["closed_by"], "2026-12-01"),
                             node.name)
            c = self.conflicts(node, "work_items", w["id"])
            self.assertEqual(set(c), differs, node.name)
            for col, k in c.items():
                self.assertEqual((k["winner"], json.loads(k["remote_value"])), ("local", b_closed[col]))
                self.assertEqual(k["reason"], "closed at two offices (status Closed): the close that"
                                              " reached the hub first stands, this office's is kept here")
            self.assertIn("Closed: two hired", [n["body"] for n in x["notes"]], node.name)
            y = self.api(node, "GET", "/work-items/" + w2["id"], status=200)
            self.assertEqual((y["status"], y["deleted"]), ("Closed", 0), node.name)
            c2 = self.conflicts(node, "work_items", w2["id"])
            self.assertEqual(set(c2), {"*deleted*"}, node.name)
            self.assertEqual((c2["*deleted*"]["winner"], c2["*deleted*"]["reason"]),
                             ("local", "the office's delete crossed the record's final state"
                                       " (status Closed): the record stays; delete it again if it"
                                       " should go"), node.name)
        # Meant, the delete is made again, now of the closed item.
        self.api(self.b, "DELETE", "/work-items/" + w2["id"], status=200)
        self.settle(self.b)
        self.assertEqual(self.hub_row("SELECT deleted FROM work_items WHERE id=?", w2["id"])[0], 1)

    def test_same_employer_created_in_two_offices_is_flagged_not_merged(self):
        self.offline()
        try:
            ea = self.api(self.a, "POST", "/employers", {
                "company_name": "Acme Tools", "zip": "95814", "street": "1 K St",
                "city": "Sacramento"}, 201)
            eb = self.api(self.b, "POST", "/employers", {
                "company_name": "ACME TOOLS, INC.", "zip": "95814-2201", "street": "1 K Street",
                "city": "Sacramento"}, 201)
            # Neither office could see the other's lead while offline.
            self.assertEqual([x for x in self.api(self.a, "GET", "/duplicate-flags")
                              if {x["employer_id"], x["other_employer_id"]} & {ea["id"], eb["id"]}], [])
        finally:
            self.online()
        self.settle(self.a, self.b)

        # The hub keeps both rows, unmerged, and one open flag for the pair.
        self.assertEqual(self.hub_row("SELECT count(*) FROM employers WHERE id IN (?,?) AND "
                                      "status='active' AND duplicate_of IS NULL",
                                      ea["id"], eb["id"])[0], 2)
        flags = self.hub_row("SELECT count(*), min(reason), min(status) FROM crm_duplicate_flags"
                             " WHERE (employer_id=?1 AND other_employer_id=?2)"
                             " OR (employer_id=?2 AND other_employer_id=?1)", ea["id"], eb["id"])
        self.assertEqual(tuple(flags), (1, "name_zip", "open"))
        for node in (self.a, self.b):
            f = self.api(node, "GET", "/duplicate-flags")
            pair = [x for x in f if {x["employer_id"], x["other_employer_id"]} == {ea["id"], eb["id"]}]
            self.assertEqual(len(pair), 1, (node.name, f))
            self.assertEqual({pair[0]["employer_office"], pair[0]["other_office"]},
                             {"demo-office", "demo-office-2"})
            for eid, other in ((ea["id"], eb["id"]), (eb["id"], ea["id"])):
                s = self.api(node, "GET", "/employers/" + eid, status=200)
                self.assertTrue(s["possible_duplicate"], node.name)
                self.assertEqual([x["other_id"] for x in s["duplicate_flags"]], [other])
            lst = self.api(node, "GET", "/employers?owner=all&account_type=all&q=acme%20tools")["items"]
            self.assertEqual({x["id"]: x["possible_duplicate"] for x in lst},
                             {ea["id"]: 1, eb["id"]: 1})
        # Review: office B marks its row as the duplicate; it replicates, the
        # flag leaves the review list everywhere, and nothing was merged.
        self.api(self.b, "POST", "/employers/%s/duplicate-of" % eb["id"],
                 {"duplicate_of": ea["id"]}, 200)
        self.settle(self.b)
        for node in (self.a, self.b):
            f = self.api(node, "GET", "/duplicate-flags")
            self.assertFalse([x for x in f if eb["id"] in (x["employer_id"], x["other_employer_id"])])
            s = self.api(node, "GET", "/employers/" + eb["id"], status=200)
            self.assertEqual((s["status"], s["duplicate_of"]), ("inactive", ea["id"]))
        # The one kept stays kept: marking it a duplicate of the other back
        # (both would end inactive) is refused, with the reason.
        r = self.a.post(API + "/employers/%s/duplicate-of" % ea["id"], {"duplicate_of": eb["id"]})
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual(r.json().get("field"), "duplicate_of")
        self.assertIn("already marked as a duplicate of this one", r.json()["error"])
        self.assertEqual(self.api(self.a, "GET", "/employers/" + ea["id"])["status"], "active")
        self.verify(self.a)
        self.verify(self.b)


    def test_same_edd_account_number_is_found_and_flagged(self):
        """The EDD Account Number is the employer's tax account: another
        record with it, whatever its name, is a likely duplicate - shown
        while a lead is typed, stopping its creation until confirmed,
        listed when a conversion gives it, and flagged at the hub."""
        full = {"zip": "95814", "street": "1 K St", "city": "Sacramento", "phone": "(916) 555-0100",
                "industry": "4931", "contacts": [{"name": "Pat Primary", "kind": "primary"}]}
        alpha = self.api(self.a, "POST", "/employers", dict(full, company_name="Alpha Widgets"), 201)
        c = self.api(self.a, "POST", "/employers/%s/convert" % alpha["id"],
                     {"edd_account_number": "111-2222-3"}, 200)
        self.assertNotIn("duplicates", c)
        self.settle(self.a)
        # typed at office B under another name: found by the number
        d = self.api(self.b, "GET", "/employers/duplicates?name=Gamma%20Things&zip=90012&edd=11122223", status=200)
        self.assertEqual([x["match"] for x in d if x["id"] == alpha["id"]], ["edd_account"])
        self.assertEqual(self.b.get(API + "/employers/duplicates?name=Gamma&edd=12").status, 400)
        r = self.b.post(API + "/employers", dict(full, company_name="Gamma Things", zip="90012",
                                                 edd_account_number="1112222-3"))
        self.assertEqual(r.status, 409, r.body)
        self.assertIn(alpha["id"], [x["id"] for x in r.json()["duplicates"]])
        self.api(self.b, "POST", "/employers", dict(full, company_name="Gamma Things", zip="90012",
                                                    edd_account_number="1112222-3",
                                                    confirm_not_duplicate=True), 201)
        # a conversion giving the number: done, with the others listed
        beta = self.api(self.b, "POST", "/employers", dict(full, company_name="Beta Gadgets"), 201)
        c = self.api(self.b, "POST", "/employers/%s/convert" % beta["id"],
                     {"edd_account_number": "11122223"}, 200)
        self.assertEqual(c["account_type"], "recruiting")
        self.assertIn(alpha["id"], [x["id"] for x in c.get("duplicates", [])])
        self.settle(self.b)
        row = self.hub_row("SELECT count(*), min(reason) FROM crm_duplicate_flags"
                           " WHERE (employer_id=?1 AND other_employer_id=?2)"
                           " OR (employer_id=?2 AND other_employer_id=?1)", alpha["id"], beta["id"])
        self.assertEqual(tuple(row), (1, "edd_account"))

    def test_one_service_corrected_at_two_offices_counts_once(self):
        """Two offices correct the same service offline: both corrections
        reach every office, and the later one stands - the service plan
        and the Services Provided report count the service once - and the
        hub records one conflict naming both (the earlier correction is
        never lost unseen), shown at both offices and in the console, where
        it is acknowledged (a service is never edited)."""
        e = self.api(self.a, "POST", "/employers", {"company_name": "Twice Corrected Tools",
                                                    "zip": "95814", "street": "1 K St",
                                                    "city": "Sacramento"}, 201)
        t = self.a.get("/api/v1/case/meta").json()["today"]  # the office's day
        sid = self.api(self.a, "POST", "/employers/%s/services" % e["id"],
                       {"services": [{"code": "E20", "start_date": t}]}, 201)["services"][0]["id"]
        self.settle(self.a)
        self.offline()
        try:
            c1 = self.api(self.a, "POST", "/services/%s/correct" % sid, {"code": "E22", "start_date": t}, 201)["id"]
            # (later by more than the offices' clocks can differ: each is
            # corrected by its own measure of the hub's offset)
            time.sleep(1.1)
            c2 = self.api(self.b, "POST", "/services/%s/correct" % sid, {"code": "E21", "start_date": t}, 201)["id"]
        finally:
            self.online()
        self.settle(self.a, self.b)
        for node in (self.a, self.b):
            plan = [x["code"] for x in self.api(node, "GET", "/employers/%s/services" % e["id"])]
            self.assertEqual(plan, ["E21"], node.name)
            rep = self.api(node, "GET", "/reports/services?from=%s&to=%s" % (t, t))
            mine = [x for x in rep["by_employer"] if x["employer_id"] == e["id"]]
            self.assertEqual([(x["count"], x["codes"]) for x in mine], [(1, "E21")], (node.name, rep))
        # One conflict, on the later correction (office B's E21, kept)
        # whichever reached the hub first, the other named.
        token = harness.admin_token(self.hub)
        hub_api = lambda m, p, b=None: self.hub.request(m, p, body=b,
                                                        headers={"Authorization": "Bearer " + token})
        mine = [c for c in hub_api("GET", "/api/v1/conflicts?open=1").json()
                if c["tbl"] == "employer_services" and c["row_id"] in (c1, c2)]
        self.assertEqual(len(mine), 1, mine)
        c = mine[0]
        self.assertEqual(c["column_name"], "corrects_id")
        self.assertEqual((c["row_id"], c["winner"]), (c2, "remote"), c)
        for word in ("E22", "E21", "counts"):
            self.assertIn(word, c["reason"])
        for node in (self.a, self.b):
            crossed = [x for x in self.api(node, "GET", "/employers/" + e["id"])["conflicts"]
                       if x["tbl"] == "employer_services"]
            self.assertEqual([(x["id"], x["kept_value"]["code"], x["other_value"]["code"],
                               x["base_value"]["id"]) for x in crossed],
                             [(c["id"], "E21", "E22", sid)], node.name)
            self.assertEqual(crossed[0]["reason"], c["reason"])
            self.assertIn(c["id"], [x["id"] for x in node.get("/api/v1/sync/conflicts").json()])
        # Services are never edited: choosing a value is refused, clearly;
        # keeping the entries acknowledges it, and it leaves the summaries.
        r = hub_api("POST", "/api/v1/conflicts/%s/resolve" % c["id"], {"keep": "office"})
        self.assertEqual((r.status, r.json().get("field")), (400, "keep"), r.body)
        self.assertIn("further correction", r.json()["error"])
        r = hub_api("POST", "/api/v1/conflicts/%s/resolve" % c["id"], {"keep": "current"})
        self.assertEqual(r.status, 200, r.body)
        self.settle()
        for node in (self.a, self.b):
            self.assertEqual([x for x in self.api(node, "GET", "/employers/" + e["id"])["conflicts"]
                              if x["tbl"] == "employer_services"], [], node.name)
            plan = [x["code"] for x in self.api(node, "GET", "/employers/%s/services" % e["id"])]
            self.assertEqual(plan, ["E21"], node.name)

    def test_long_accented_text_is_counted_in_characters_end_to_end(self):
        # Limits count characters, as the person typing does: a company name
        # of 160 characters, most of them two bytes ("ñ", "í"), and a note
        # of 4,000 "ñ" (8,000 bytes) are within the limits at the node, pass
        # the hub's checks of the pushed rows (nothing held for review) and
        # arrive intact; the duplicate check finds the long name; one
        # character more is refused, naming the limit in characters.
        stem = "Panadería y Tortillería Ñandú "
        name = (stem * 10)[:159] + "é"
        self.assertEqual(len(name), 160)
        self.assertGreater(len(name.encode()), 161)
        e = self.api(self.a, "POST", "/employers", {
            "company_name": name, "zip": "95814", "street": "1 Calle Ñ", "city": "Sacramento"}, 201)
        self.assertEqual(e["company_name"], name)
        body = "ñ" * 4000
        self.api(self.a, "POST", "/employers/%s/notes" % e["id"], {"body": body}, 201)
        for field, path, extra, value in (
                ("company_name", "/employers", {"zip": "95814"}, name + "x"),
                ("body", "/employers/%s/notes" % e["id"], {}, body + "ñ")):
            r = self.a.post(API + path, dict(extra, **{field: value}))
            self.assertEqual(r.status, 400, r.body)
            self.assertEqual(r.json().get("field"), field)
            self.assertIn("characters", r.json()["error"])
        q = urllib.parse.quote(name)
        r = self.a.get(API + "/employers/duplicates?name=%s&zip=95814" % q)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(e["id"], [x["id"] for x in r.json()])
        self.settle(self.a)
        self.assertEqual(self.hub_row("SELECT count(*) FROM quarantine")[0], 0)
        self.assertEqual(self.hub_row("SELECT company_name FROM employers WHERE id=?",
                                      e["id"])[0], name)
        self.assertEqual(self.hub_row("SELECT body FROM employer_notes WHERE employer_id=?",
                                      e["id"])[0], body)
        s = self.api(self.b, "GET", "/employers/" + e["id"], status=200)
        self.assertEqual((s["company_name"], [n["body"] for n in s["notes"]]), (name, [body]))
        # A search longer than the limit is refused, not read as no search.
        r = self.b.get(API + "/employers?owner=all&account_type=all&q=" + urllib.parse.quote("é" * 161))
        self.assertEqual((r.status, r.json().get("field")), (400, "q"), r.body)
        for typed in (name[:100], name):  # a whole company name is a search too
            r = self.b.get(API + "/employers?owner=all&account_type=all&q=" + urllib.parse.quote(typed))
            self.assertEqual([x["id"] for x in r.json()["items"]], [e["id"]])


class ListReadErrorTest(harness.DemoNode):
    """A list that cannot be read is a 500 in the one error shape, never a
    reply that shows it empty (lib/db.c's db_add_rows_json, review finding):
    the CRM and case meta lists and an employer's lists, each with its
    table renamed behind the running node's back, then put back."""

    def test_unreadable_list_is_a_500(self):
        r = self.node.post(API + "/employers", {"company_name": "Listless Supply", "zip": "95814"})
        self.assertEqual(r.status, 201, r.body)
        emp = r.json()["id"]
        for table, path in (("work_item_priorities", API + "/meta"),
                            ("followup_codes", "/api/v1/case/meta"),
                            ("employer_locations", API + "/employers/" + emp)):
            harness.db_write(self.node, "ALTER TABLE %s RENAME TO %s_away" % (table, table))
            try:
                r = self.node.get(path)
                self.assertEqual(r.status, 500, (path, r.body))
                self.assertTrue(r.json().get("error"), r.body)
                self.assertNotIn("field", r.json())
            finally:
                harness.db_write(self.node, "ALTER TABLE %s_away RENAME TO %s" % (table, table))
            self.assertEqual(self.node.get(path).status, 200, path)


if __name__ == "__main__":
    unittest.main()
