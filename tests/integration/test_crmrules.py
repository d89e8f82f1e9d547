"""CRM rules that used to be labels (issue 16), on real outpost-node and
outpost-hub processes:

  * vetting is recorded by WSB staff (the vetting privilege of the EDD WSB
    groups), never by the staff member who converted the lead, and a field
    that is not WSB gets 403; overdue vetting (past 72 hours, on the test
    build's injected clock) is listed on the node and at the hub;
  * a failed vetting locks the employer: services, edits, contacts, job
    orders and referrals are refused with the reason shown, until WSB staff
    unlock it;
  * the MKT prefix of a lead changes only at conversion (a recruiting
    employer that kept it may drop it later, never add it);
  * referral-type E-codes (E24, E35) and "Job Order" work items are refused
    for marketing leads, every such service named at once (a Job Order item
    a lead had before the rule keeps its category, its other edits taken);
  * what presupposes the CalJOBS access given once WSB staff have vetted
    a converted employer waits for it: the recruiting-only services, a
    "Job Order" work item, a referral to one of its job orders (409 while
    pending, naming it);
  * job orders (title, openings, location, wage, open/close dates) for
    vetted recruiting employers only, every missing field named at once; a
    participant referred to one from case work is on the participant's
    timeline and the employer's summary, refused for a lead's or a closed
    job order, and replicated through the hub to the other office;
  * a new service for an inactive employer is refused at the office (a
    correction still goes); the hub takes one recorded offline before the
    office heard of the status (the seeds say nothing on it: README).
"""
import json
import os
import tempfile
import time
import unittest

import harness
from harness import BIN, Daemon, client, login, run_tool

API = "/api/v1/crm"
HOUR = 3600 * 1000


def set_clock(path, offset_ms):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % offset_ms)
    os.replace(tmp, path)
    time.sleep(0.3)  # the daemon reads it again within 100 ms


def fields(r):
    return sorted(e.get("field") for e in r.json().get("errors", []))


class Crm:
    """Helpers over one signed-in client of a node."""

    def __init__(self, t, node):
        self.t, self.node = t, node

    def req(self, method, path, body=None, status=None):
        r = self.node.request(method, path if path.startswith("/api") else API + path, body=body)
        if status is not None:
            self.t.assertEqual(r.status, status, r.body)
        return r

    def lead(self, name, **kw):
        body = {"company_name": name, "zip": "95814", "street": "1 Main St", "city": "Sacramento",
                "phone": "(916) 555-0100", "industry": "4931", "confirm_not_duplicate": True,
                "contacts": [{"name": "Pat Primary", "kind": "primary"}]}
        body.update(kw)
        return self.req("POST", "/employers", body, 201).json()

    def recruiting(self, name, edd="7654321"):
        e = self.lead(name)
        return self.req("POST", "/employers/%s/convert" % e["id"], {"edd_account_number": edd},
                        200).json()


class VettingAndLockTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="outpost-crmrules-")
        cls.clock = os.path.join(cls.tmp, "clock")
        set_clock(cls.clock, 0)
        cls.node = Daemon("node", env={"OUTPOST_TEST_HOOKS_CLOCK_FILE": cls.clock}).start()
        login(cls.node)  # demo: LWIA Partner Staff, the converter
        cls.wsb = client(cls.node)
        login(cls.wsb, "t-wsb")
        cls.wsb2 = client(cls.node)
        login(cls.wsb2, "t-wsb-supervisor")

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()

    def setUp(self):
        self.c = Crm(self, self.node)
        self.w = Crm(self, self.wsb)
        self.w2 = Crm(self, self.wsb2)

    def test_converter_cannot_vet(self):
        e = self.c.recruiting("Converter Vets Co", "1111111")
        self.assertEqual(e["vetting_status"], "pending")
        # Not WSB: 403 before anything else.
        r = self.c.req("POST", "/employers/%s/vetting" % e["id"], {"result": "approved"}, 403)
        # WSB staff who converted the lead themselves: refused too.
        e2 = self.w.recruiting("WSB Converted Co", "2222222")
        r = self.w.req("POST", "/employers/%s/vetting" % e2["id"], {"result": "approved"}, 403)
        self.assertIn("converted", r.json()["error"])
        # No job order until it is vetted (WSIN15-21: verified before the
        # employer is provided access), nothing written.
        jo = {"title": "Clerk", "openings": 1, "location": "Sacramento", "wage": 18}
        r = self.c.req("POST", "/employers/%s/job-orders" % e2["id"], jo, 409)
        self.assertEqual(r.json()["field"], "id")
        self.assertIn("vetted", r.json()["error"])
        self.assertEqual(self.c.req("GET", "/job-orders?employer_id=" + e2["id"]).json(), [])
        # Another WSB staff member vets it; then a job order is posted.
        r = self.w2.req("POST", "/employers/%s/vetting" % e2["id"], {"result": "approved"}, 200)
        self.assertEqual(r.json()["vetting_status"], "approved")
        self.c.req("POST", "/employers/%s/job-orders" % e2["id"], jo, 201)
        self.assertEqual(r.json()["vetted_by"], "0190a000-0000-7000-8000-0000000000cc")
        # Every field error at once: a bad result and no reason.
        r = self.w.req("POST", "/employers/%s/vetting" % e["id"], {"result": 7, "reason": 5}, 400)
        self.assertEqual(fields(r), ["reason", "result"])
        r = self.w.req("POST", "/employers/%s/vetting" % e["id"], {"result": "maybe"}, 400)
        self.assertEqual(fields(r), ["result"])
        r = self.w.req("POST", "/employers/%s/vetting" % e["id"], {"result": "locked"}, 400)
        self.assertEqual(r.json()["field"], "reason")

    def test_recruiting_work_waits_for_vetting(self):
        e = self.c.recruiting("Pending Recruiter Co", "7777777")
        t = self.c.req("GET", "/meta").json()["today"]
        E = "/employers/" + e["id"]
        # The code list says which codes are recruiting-only.
        codes = {c["code"]: c for c in self.c.req("GET", "/codes", None, 200).json()}
        self.assertTrue(codes["E24"]["recruiting_only"])
        self.assertFalse(codes["E20"]["recruiting_only"])
        # A recruiting-only service: 409 naming the vetting, nothing written;
        # the other codes are not held up.
        r = self.c.req("POST", E + "/services", {"services": [{"code": "E20", "start_date": t},
                                                              {"code": "E55", "start_date": t}]}, 409)
        self.assertEqual(r.json()["field"], "services[1].code")
        self.assertIn("E55", r.json()["error"])
        self.assertIn("once WSB staff have vetted the employer (its vetting is pending)", r.json()["error"])
        self.assertEqual(self.c.req("GET", E).json()["services"], [])
        sid = self.c.req("POST", E + "/services", {"services": [{"code": "E20", "start_date": t}]},
                         201).json()["services"][0]["id"]
        # ... nor by a correction that makes it one.
        r = self.c.req("POST", "/services/%s/correct" % sid, {"code": "E24", "start_date": t}, 409)
        self.assertEqual(r.json()["field"], "code")
        self.assertIn("vetting is pending", r.json()["error"])
        # A "Job Order" work item: 409 when made, re-categorised or re-linked;
        # another category is made, and edited.
        item = {"category_id": "crm-cat-job-order", "description": "take the job order", "employer_id": e["id"]}
        r = self.c.req("POST", "/work-items", item, 409)
        self.assertEqual(r.json()["field"], "category_id")
        self.assertIn("vetting is pending", r.json()["error"])
        wi = self.c.req("POST", "/work-items", dict(item, category_id="crm-cat-follow-up"), 201).json()
        self.c.req("PATCH", "/work-items/" + wi["id"], {"category_id": "crm-cat-job-order"}, 409)
        other = self.c.req("POST", "/work-items", {"category_id": "crm-cat-job-order",
                                                   "description": "unlinked job order"}, 201).json()
        self.c.req("PATCH", "/work-items/" + other["id"], {"employer_id": e["id"]}, 409)
        self.c.req("PATCH", "/work-items/" + wi["id"], {"description": "call them first"}, 200)
        # A Job Order item it had before the rule (or before its vetting was
        # pending) keeps its category: its other fields are edited (sending
        # the category it has is no change), notes added; moved to another
        # category, it is not moved back until the vetting.
        meta = self.c.req("GET", "/meta").json()
        other_staff = [s["id"] for s in meta["work_group"] if s["id"] != meta["me"]["id"]][0]
        db = self.node.db()
        try:
            db.execute("INSERT INTO work_items(id, employer_id, category_id, priority_id, status,"
                       " description, assignee_id, created_by, office_id, created_at)"
                       " VALUES('legacy-wi-pending', ?, 'crm-cat-job-order', 'crm-pri-normal', 'New',"
                       " 'take the job order', ?, ?, 'demo-office', 0)",
                       (e["id"], meta["me"]["id"], meta["me"]["id"]))
            db.commit()
        finally:
            db.close()
        W = "/work-items/legacy-wi-pending"
        edit = {"due_date": t, "assignee_id": other_staff, "priority_id": "crm-pri-high",
                "description": "post it once vetted", "category_id": "crm-cat-job-order",
                "employer_id": e["id"]}
        got = self.c.req("PATCH", W, edit, 200).json()
        self.assertEqual({k: got[k] for k in edit}, edit)
        self.c.req("POST", W + "/notes", {"body": "called: waiting for the vetting"}, 201)
        self.c.req("PATCH", W, {"category_id": "crm-cat-follow-up"}, 200)
        r = self.c.req("PATCH", W, {"category_id": "crm-cat-job-order"}, 409)
        self.assertEqual(r.json()["field"], "category_id")
        self.assertIn("vetting is pending", r.json()["error"])
        self.assertEqual(self.c.req("GET", W).json()["category_id"], "crm-cat-follow-up")
        # A referral to a job order it had before the rule: listed with its
        # vetting state, refused (409) with nothing written.
        db = self.node.db()
        try:
            db.execute("INSERT INTO job_orders(id, employer_id, title, openings, location, wage,"
                       " open_date, created_at) VALUES('legacy-jo-pending', ?, 'Legacy Clerk', 1,"
                       " 'Sacramento', 18, ?, 0)", (e["id"], t))
            db.commit()
        finally:
            db.close()
        listed = [j for j in self.c.req("GET", "/job-orders?open=yes").json() if j["id"] == "legacy-jo-pending"]
        self.assertEqual([j["vetting_status"] for j in listed], ["pending"])
        p = self.c.req("POST", "/api/v1/case/participants",
                       {"first_name": "Penny", "last_name": "Pending", "birth_date": "1991-05-06"}, 201).json()
        refs = "/api/v1/case/participants/%s/referrals" % p["id"]
        r = self.c.req("POST", refs, {"job_order_id": "legacy-jo-pending"}, 409)
        self.assertEqual(r.json()["field"], "job_order_id")
        self.assertIn("vetting is pending", r.json()["error"])
        self.assertEqual(self.c.req("GET", "/api/v1/case/participants/%s/timeline" % p["id"]).json()["referrals"], [])
        # Vetted: each goes through.
        self.w.req("POST", E + "/vetting", {"result": "approved"}, 200)
        self.c.req("POST", E + "/services", {"services": [{"code": "E55", "start_date": t}]}, 201)
        self.c.req("POST", "/services/%s/correct" % sid, {"code": "E24", "start_date": t}, 201)
        self.c.req("POST", "/work-items", item, 201)
        self.c.req("PATCH", "/work-items/" + wi["id"], {"category_id": "crm-cat-job-order"}, 200)
        self.c.req("POST", refs, {"job_order_id": "legacy-jo-pending"}, 201)

    def test_lock_refuses_services_and_edits_until_unlocked(self):
        e = self.c.recruiting("Mismatch Holdings", "3333333")
        t = self.c.req("GET", "/meta").json()["today"]
        why = "EDD account number belongs to another business"
        r = self.w.req("POST", "/employers/%s/vetting" % e["id"], {"result": "locked", "reason": why}, 200)
        s = r.json()
        self.assertEqual(s["vetting_status"], "locked")
        self.assertTrue(s["locked"])
        self.assertEqual(s["vetting_reason"], why)
        # A service (E24 Job Referrals included), an edit, a contact, a job order: refused, reason shown.
        for method, path, body in (
                ("POST", "/employers/%s/services" % e["id"], {"services": [{"code": "E24", "start_date": t}]}),
                ("POST", "/employers/%s/services" % e["id"], {"services": [{"code": "E20", "start_date": t}]}),
                ("PATCH", "/employers/" + e["id"], {"phone": "(916) 555-0199"}),
                ("POST", "/employers/%s/contacts" % e["id"], {"name": "New Person", "kind": "secondary"}),
                ("PATCH", "/contacts/" + s["contacts"][0]["id"], {"title": "Owner"}),
                ("POST", "/employers/%s/job-orders" % e["id"],
                 {"title": "Clerk", "openings": 1, "location": "Sacramento", "wage": 18})):
            r = self.c.req(method, path, body, 409)
            self.assertIn(why, r.json()["error"], path)
            self.assertIn("locked", r.json()["error"])
        after = self.c.req("GET", "/employers/" + e["id"], None, 200).json()
        self.assertEqual(after["services"], [])
        self.assertEqual(after["phone"], e["phone"])
        # WSB unlocks it; then services go through.
        self.w.req("POST", "/employers/%s/vetting" % e["id"], {"result": "approved"}, 200)
        self.c.req("POST", "/employers/%s/services" % e["id"],
                   {"services": [{"code": "E24", "start_date": t}]}, 201)

    def test_overdue_vetting_on_the_injected_clock(self):
        e = self.c.recruiting("Slow Vetting Works", "4444444")
        ids = [x["id"] for x in self.c.req("GET", "/vetting/overdue", None, 200).json()]
        self.assertNotIn(e["id"], ids)
        self.assertFalse(self.c.req("GET", "/employers/" + e["id"]).json()["vetting_overdue"])
        try:
            set_clock(self.clock, 73 * HOUR)
            over = self.c.req("GET", "/vetting/overdue", None, 200).json()
            mine = [x for x in over if x["id"] == e["id"]]
            self.assertEqual(len(mine), 1, over)
            self.assertGreaterEqual(mine[0]["hours_overdue"], 1)
            self.assertTrue(self.c.req("GET", "/employers/" + e["id"]).json()["vetting_overdue"])
        finally:
            set_clock(self.clock, 0)

    def test_mkt_prefix_changes_only_at_conversion(self):
        e = self.c.lead("Prefix Keeper Inc")
        self.assertTrue(e["username"].startswith("MKT"))
        r = self.c.req("PATCH", "/employers/" + e["id"], {"username": "ACME1"}, 409)
        self.assertEqual(r.json()["field"], "username")
        self.assertTrue(self.c.req("GET", "/employers/" + e["id"]).json()["username"].startswith("MKT"))
        self.c.req("PATCH", "/employers/" + e["id"], {"username": "MKTPREFIXKEEP1"}, 200)
        conv = self.c.req("POST", "/employers/%s/convert" % e["id"],
                          {"edd_account_number": "5555555", "drop_mkt_prefix": True}, 200).json()
        self.assertEqual(conv["username"], "PREFIXKEEP1")
        self.c.req("PATCH", "/employers/" + e["id"], {"username": "MKTPREFIXKEEP1"}, 409)
        # Kept at the conversion: staff may still drop it later (they are
        # advised to), never add it back.
        k = self.c.recruiting("Prefix Kept Ltd", "5555556")
        self.assertTrue(k["has_mkt_prefix"])
        r = self.c.req("PATCH", "/employers/" + k["id"], {"username": k["username_without_prefix"]}, 200)
        self.assertEqual(r.json()["username"], k["username"][3:])
        self.assertFalse(r.json()["has_mkt_prefix"])
        self.c.req("PATCH", "/employers/" + k["id"], {"username": k["username"]}, 409)

    def test_recruiting_employer_keeps_what_its_conversion_required(self):
        e = self.c.recruiting("Keeps Its Fields Co", "6666666")
        E = "/employers/" + e["id"]
        # Clearing them: refused, every one named, nothing written.
        r = self.c.req("PATCH", E, {"street": None, "city": None, "phone": None, "industry": None}, 400)
        self.assertEqual(fields(r), ["city", "industry", "phone", "street"])
        self.assertIn("conversion required", r.json()["error"])
        r = self.c.req("PATCH", E, {"street": "  ", "state": "", "edd_account_number": None,
                                    "website": "www.keeps.example.com"}, 400)
        self.assertEqual(fields(r), ["edd_account_number", "state", "street"])
        after = self.c.req("GET", E, None, 200).json()
        for k in ("street", "city", "state", "phone", "industry", "edd_account_number", "website"):
            self.assertEqual(after[k], e[k], k)
        # Changing them, or clearing the others, is an edit like any.
        r = self.c.req("PATCH", E, {"street": "2 Oak Ave", "phone": "(916) 555-0111", "website": None}, 200)
        self.assertEqual((r.json()["street"], r.json()["phone"]), ("2 Oak Ave", "(916) 555-0111"))
        # A lead may still leave them blank.
        lead = self.c.lead("Blank Lead Works")
        r = self.c.req("PATCH", "/employers/" + lead["id"], {"street": None, "phone": None}, 200)
        self.assertIsNone(r.json()["street"])

    def test_user_name_found_when_every_short_tail_is_taken(self):
        """A lead's user name is MKT, 12 letters of its name and a 4-digit
        tail; when all 10,000 tails of a name are taken (a soak named 14,000
        leads alike), the lead is still saved, with a longer tail."""
        db = self.node.db()
        try:
            db.executemany("INSERT INTO employers(id, company_name, normalized_name, username, zip, zip5,"
                           " created_at) VALUES(?, ?, ?, ?, '95814', '95814', 0)",
                           (("tail-%04d" % i, "Tail Taken %d" % i, "tail taken %d" % i,
                             "MKTTAILTAKENWID%04d" % i) for i in range(10000)))
            db.commit()
        finally:
            db.close()
        e = self.c.lead("Tail Taken Widgetry")
        self.assertRegex(e["username"], r"^MKTTAILTAKENWID[0-9]{8}$")

    def test_referral_codes_and_job_order_items_refused_for_leads(self):
        e = self.c.lead("Lead Only Diner")
        t = self.c.req("GET", "/meta").json()["today"]
        r = self.c.req("POST", "/employers/%s/services" % e["id"],
                       {"services": [{"code": "E24", "start_date": t}, {"code": "E20", "start_date": t},
                                     {"code": "E35", "start_date": t}]}, 400)
        self.assertEqual(fields(r), ["services[0].code", "services[2].code"])
        self.c.req("POST", "/employers/%s/services" % e["id"],
                   {"services": [{"code": "E20", "start_date": t}]}, 201)
        r = self.c.req("POST", "/employers/%s/job-orders" % e["id"],
                       {"title": "Cook", "openings": 2, "location": "Sacramento", "wage": 19.5}, 409)
        self.assertIn("marketing leads", r.json()["error"])
        r = self.c.req("POST", "/work-items", {"category_id": "crm-cat-job-order", "description": "post a cook job",
                                                "employer_id": e["id"]}, 400)
        self.assertEqual(r.json()["field"], "category_id")
        # ... nor by an edit that links one to the lead.
        other = self.c.req("POST", "/work-items", {"category_id": "crm-cat-job-order",
                                                   "description": "unlinked job order"}, 201).json()
        r = self.c.req("PATCH", "/work-items/" + other["id"], {"employer_id": e["id"]}, 400)
        self.assertEqual(r.json()["field"], "category_id")
        # A Job Order item the lead had before the rule keeps its category:
        # its other fields are edited (sending the category and the link it
        # has is no change), notes added; moved to another category, it is
        # not moved back.
        meta = self.c.req("GET", "/meta").json()
        other_staff = [s["id"] for s in meta["work_group"] if s["id"] != meta["me"]["id"]][0]
        db = self.node.db()
        try:
            db.execute("INSERT INTO work_items(id, employer_id, category_id, priority_id, status,"
                       " description, assignee_id, created_by, office_id, created_at)"
                       " VALUES('legacy-wi-lead', ?, 'crm-cat-job-order', 'crm-pri-normal', 'New',"
                       " 'post a cook job', ?, ?, 'demo-office', 0)",
                       (e["id"], meta["me"]["id"], meta["me"]["id"]))
            db.commit()
        finally:
            db.close()
        W = "/work-items/legacy-wi-lead"
        edit = {"due_date": t, "status": "In Progress", "priority_id": "crm-pri-high",
                "description": "explain what a job order needs", "category_id": "crm-cat-job-order",
                "employer_id": e["id"]}
        got = self.c.req("PATCH", W, edit, 200).json()
        self.assertEqual({k: got[k] for k in edit}, edit)
        self.c.req("PATCH", W, {"assignee_id": other_staff}, 200)
        self.c.req("POST", W + "/notes", {"body": "called: they are not recruiting yet"}, 201)
        self.c.req("PATCH", W, {"category_id": "crm-cat-follow-up"}, 200)
        r = self.c.req("PATCH", W, {"category_id": "crm-cat-job-order"}, 400)
        self.assertEqual(r.json()["field"], "category_id")
        self.assertIn("marketing leads", r.json()["error"])
        self.assertEqual(self.c.req("GET", W).json()["category_id"], "crm-cat-follow-up")


class JobOrdersAndReferralsTest(harness.TwoOffices):
    """A hub and two offices of one Local Area."""

    prefix = "jobs"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.wsb = client(cls.a)
        login(cls.wsb, "t-wsb")

    def settle(self):
        for node in (self.a, self.b, self.a):
            self.sync(node, "push")
            self.sync(node, "pull")

    def hubq(self, sql, *args):
        return harness.rows(self.hub, sql, *args)

    def test_job_order_and_referral_recorded_on_both_sides_and_replicated(self):
        c, w = Crm(self, self.a), Crm(self, self.wsb)
        emp = c.recruiting("Harbor Freight Lines", "8765432")
        w.req("POST", "/employers/%s/vetting" % emp["id"], {"result": "approved"}, 200)
        lead = c.lead("Harbor Lead Cafe")
        # Every missing field of a job order at once.
        r = c.req("POST", "/employers/%s/job-orders" % emp["id"], {"wage_unit": "fortnight"}, 400)
        self.assertEqual(fields(r), ["location", "openings", "title", "wage", "wage_unit"])
        t = c.req("GET", "/meta").json()["today"]
        jo = c.req("POST", "/employers/%s/job-orders" % emp["id"],
                   {"title": "Forklift Operator", "openings": 3, "location": "West Sacramento",
                    "wage": 22.75, "wage_unit": "hour", "open_date": t}, 201).json()
        self.assertTrue(jo["is_open"])
        closed = c.req("POST", "/employers/%s/job-orders" % emp["id"],
                       {"title": "Dispatcher", "openings": 1, "location": "Sacramento", "wage": 52000,
                        "wage_unit": "year", "open_date": "2026-01-05", "close_date": "2026-02-01"},
                       201).json()
        self.assertFalse(closed["is_open"])
        # The dates stay in order whichever one an edit moves: against the
        # stored close date too, and the stored open date.
        J = "/job-orders/" + closed["id"]
        r = c.req("PATCH", J, {"open_date": "2026-03-01"}, 400)
        self.assertEqual(r.json()["field"], "open_date")
        self.assertIn("2026-02-01", r.json()["error"])
        self.assertEqual(c.req("PATCH", J, {"close_date": "2026-01-01"}, 400).json()["field"], "close_date")
        self.assertEqual(c.req("PATCH", J, {"open_date": "2026-03-01", "close_date": "2026-02-15"},
                               400).json()["field"], "close_date")
        self.assertEqual(c.req("GET", J, None, 200).json()["open_date"], "2026-01-05")
        r = c.req("PATCH", J, {"open_date": "2026-02-01"}, 200)  # the same day is in order
        self.assertEqual((r.json()["open_date"], r.json()["close_date"]), ("2026-02-01", "2026-02-01"))
        # A case manager registers a participant and refers them.
        p = c.req("POST", "/api/v1/case/participants",
                  {"first_name": "Rory", "last_name": "Referral", "birth_date": "1990-03-04"}, 201).json()
        base = "/api/v1/case/participants/%s/referrals" % p["id"]
        c.req("POST", base, {}, 400)
        c.req("POST", base, {"job_order_id": closed["id"]}, 409)
        refs = c.req("POST", base, {"job_order_id": jo["id"], "notes": "strong warehouse history"}, 201).json()
        self.assertEqual([x["job_order_id"] for x in refs], [jo["id"]])
        c.req("POST", base, {"job_order_id": jo["id"]}, 409)  # once
        # Participant's timeline and employer's summary.
        tl = c.req("GET", "/api/v1/case/participants/%s/timeline" % p["id"], None, 200).json()
        self.assertEqual([x["job_title"] for x in tl["referrals"]], ["Forklift Operator"])
        self.assertIn("referral", [ev["type"] for ev in tl["events"]])
        s = c.req("GET", "/employers/" + emp["id"], None, 200).json()
        self.assertEqual([x["job_order_id"] for x in s["referrals"]], [jo["id"]])
        self.assertEqual(s["referrals"][0]["participant_ref"], p["id"][-6:].upper())
        self.assertNotIn("Rory", json.dumps(s))
        self.assertEqual({x["id"]: x["referrals"] for x in s["job_orders"]}, {jo["id"]: 1, closed["id"]: 0})
        # The lead has no job orders to refer to, and its job-order list is empty.
        self.assertEqual(c.req("GET", "/job-orders?employer_id=" + lead["id"]).json(), [])
        # Replicated: at the hub and at the other office of the Local Area.
        self.settle()
        self.assertEqual(self.hubq("SELECT title, openings, wage FROM job_orders WHERE id=?", jo["id"]),
                         [("Forklift Operator", 3, 22.75)])
        self.assertEqual(self.hubq("SELECT participant_id, employer_id FROM job_referrals WHERE job_order_id=?",
                                   jo["id"]), [(p["id"], emp["id"])])
        self.assertEqual(self.hubq("SELECT count(*) FROM quarantine")[0][0], 0)
        b = Crm(self, self.b)
        sb = b.req("GET", "/employers/" + emp["id"], None, 200).json()
        self.assertEqual([x["job_order_id"] for x in sb["referrals"]], [jo["id"]])
        tlb = b.req("GET", "/api/v1/case/participants/%s/timeline" % p["id"], None, 200).json()
        self.assertEqual([x["employer_name"] for x in tlb["referrals"]], ["Harbor Freight Lines"])
        # The hub lists locked employers (none here) and overdue vetting.
        v = self.hub.request("GET", "/api/v1/admin/crm/vetting",
                             headers={"Authorization": "Bearer " + open(
                                 os.path.join(self.hub.data, "admin.token")).read().strip()})
        self.assertEqual(v.status, 200, v.body)
        self.assertIn("overdue", v.json())

    def test_service_for_an_inactive_employer(self):
        """The seeds are silent on services for an inactive employer (README,
        "A service for an inactive employer"): the office refuses a new one
        (409), a correction of one recorded before still goes, and the hub
        takes one an office recorded while it still saw the employer
        active, as it takes one recorded before a lock arrived."""
        a, b = Crm(self, self.a), Crm(self, self.b)
        e = a.lead("Inactive Orchard Co")
        t = a.req("GET", "/meta").json()["today"]
        svc = a.req("POST", "/employers/%s/services" % e["id"], {"services": [{"code": "E20", "start_date": t}]},
                    201).json()["services"][0]
        self.settle()
        a.req("PATCH", "/employers/" + e["id"], {"status": "inactive"}, 200)
        r = a.req("POST", "/employers/%s/services" % e["id"], {"services": [{"code": "E21", "start_date": t}]}, 409)
        self.assertEqual(r.json()["field"], "id")
        self.assertEqual(r.json()["error"], "services cannot be recorded for an inactive employer")
        a.req("POST", "/services/%s/correct" % svc["id"], {"code": "E21", "start_date": t}, 201)
        # Office B has not heard of it yet: its service reaches the hub and stays.
        q0 = self.hubq("SELECT count(*) FROM quarantine")[0][0]
        self.sync(self.a, "push")
        late = b.req("POST", "/employers/%s/services" % e["id"], {"services": [{"code": "E26", "start_date": t}]},
                     201).json()["services"][0]
        self.sync(self.b, "push")
        self.assertEqual(self.hubq("SELECT status FROM employers WHERE id=?", e["id"]), [("inactive",)])
        self.assertEqual(self.hubq("SELECT code FROM employer_services WHERE id=?", late["id"]), [("E26",)])
        self.assertEqual(self.hubq("SELECT count(*) FROM quarantine")[0][0], q0)
        # Once it has the status, office B refuses a new one too.
        self.sync(self.b, "pull")
        b.req("POST", "/employers/%s/services" % e["id"], {"services": [{"code": "E26", "start_date": t}]}, 409)


if __name__ == "__main__":
    unittest.main()
