"""CRM on a real outpost-node: leads (manual, from an external employer, from
the local employer sites search), the duplicate check, contacts and the
Contacts List, conversion to Recruiting Employer with the MKT-prefix offer,
the service plan (several services at once, code and date rules), work items
(queues, status, notes, soft delete, due today), the reports as JSON and CSV,
bad input answered 400 with the field named, one outbox entry per write.

Replication between offices (conflicting offline edits of a lead and a work
item merge column by column; the same employer created in two offices is
flagged at the hub) needs working `outpost-sync push/pull` against
`outpost-hub`; those tests skip with the reason until both work.  The same
merge and flag rules are covered through the hub's real apply path in
tests/unit/test_crm.c.
"""
import csv
import io
import os
import subprocess
import unittest

import harness
from harness import BIN, Daemon

API = "/api/v1/crm"


def today(node):
    return node.get(API + "/meta").json()["today"]


class CrmNodeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Daemon("node").start()
        harness.login(cls.node)

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()

    # ---- helpers ----------------------------------------------------------
    def req(self, method, path, body=None):
        return self.node.request(method, API + path, body=body)

    def outbox(self):
        db = self.node.db()
        try:
            return db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        finally:
            db.close()

    def bad(self, r, field, status=400):
        self.assertEqual(r.status, status, r.body)
        j = r.json()
        self.assertEqual(j.get("field"), field, j)
        self.assertTrue(j.get("error"))

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
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "edd_account_number": "12-34"}), "edd_account_number")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "phone": "555"}), "phone")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "state": "Calif"}), "state")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "industry": "abc"}), "industry")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "website": "javascript:alert(1)"}), "website")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "lead_owner_id": "nobody"}), "lead_owner_id")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "office_id": "nowhere"}), "office_id")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "source": "external"}), "external_employer_id")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "contacts": [{"kind": "primary"}]}), "contacts[0].name")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "contacts": [{"name": "A", "email": "nope"}]}),
                 "contacts[0].email")
        self.bad(self.req("POST", "/employers", {"company_name": "Zed", "zip": "95814",
                                                 "surprise": 1}), "surprise")
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
        c = r.json()
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
        self.bad(self.req("POST", "/work-items", {"category_id": "crm-cat-other", "description": "x",
                                                  "priority_id": "nope"}), "priority_id")
        self.bad(self.req("POST", "/work-items", {"category_id": "crm-cat-other", "description": "x",
                                                  "due_date": "tomorrow"}), "due_date")
        self.bad(self.req("POST", "/work-items", {"category_id": "crm-cat-other", "description": "x",
                                                  "employer_id": "nope"}), "employer_id")
        self.bad(self.req("POST", "/work-items", {"category_id": "crm-cat-other", "description": "x",
                                                  "status": "Closed"}), "status")
        # Assignment only to the CRM work group.
        self.bad(self.req("POST", "/work-items", {"category_id": "crm-cat-other", "description": "x",
                                                  "assignee_id": "0190a000-0000-7000-8000-0000000000b3"}),
                 "assignee_id")
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
        # Soft delete.
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
        rows = list(csv.reader(io.StringIO(r.body.decode())))
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

    def test_web_pages_served(self):
        for page in ("/crm.html", "/crm-leads.html", "/crm-lead.html", "/crm-lead-form.html",
                     "/crm-external.html", "/crm-work.html", "/crm-reports.html"):
            r = self.node.get(page)
            self.assertEqual(r.status, 200, page)
            self.assertIn(b"<main", r.body)


def tool_works(name, *args):
    try:
        p = subprocess.run([os.path.join(BIN, name)] + list(args), capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    out = p.stdout + p.stderr
    return p.returncode == 0 and b"push" in out and b"pull" in out


SYNC_READY = tool_works("outpost-sync", "--help") and tool_works("outpost-hub", "--help")
WHY = ("needs outpost-sync enroll/push/pull and outpost-hub sync to work end to end "
       "(not yet: outpost-sync has no push/pull); the merge and duplicate-flag rules are "
       "tested through the hub's apply path in tests/unit/test_crm.c")


@unittest.skipUnless(SYNC_READY, WHY)
class CrmReplicationTest(unittest.TestCase):
    def test_conflicting_offline_edits_of_a_lead_and_a_work_item_merge(self):
        self.skipTest("to be written when the sync client works: two enrolled nodes, one lead and one "
                  "work item pulled by both, disjoint and overlapping offline edits, push both, "
                  "pull, compare column by column and with outpost-sync verify")

    def test_same_employer_in_two_offices_is_flagged_at_the_hub(self):
        self.skipTest("to be written when the sync client works: each office creates 'Acme Tools' "
                  "in 95814 offline (confirm_not_duplicate), push both; the hub keeps both rows "
                  "and one open crm_duplicate_flags row, which both nodes receive on pull")


if __name__ == "__main__":
    unittest.main()
