"""Errors people can act on, on a real outpost-node (issue 17):

* a record that does not exist is a 404 with the JSON error naming "id", on
  every route that takes an id, reads and writes alike (a write whose body
  is valid, so the missing record is the only thing wrong); an unknown API
  path is a 404 in JSON too, never a page;
* a request with several wrong fields gets one 400 listing every field's
  error ("errors"), on the routes whose checks used to stop at the first:
  services, the work-item edit, the employer edit, a new employer, a case
  activity, an amended activity, a case note; the business-date rules of
  activities and notes answer beside the fields' errors, and so does the
  visit link.
"""
import datetime
import os
import unittest

import harness
from harness import Daemon, login, plant_secret

CASE = "/api/v1/case"
CRM = "/api/v1/crm"
MISSING = "0190a000-0000-7000-8000-00000000dead"


def fields(r):
    return sorted(e.get("field") for e in r.json().get("errors", []))


class ErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Daemon("node").start()
        login(cls.node)
        plant_secret("Errata Example")
        r = cls.node.post(CASE + "/participants", {"first_name": "Errata", "last_name": "Example",
                                                   "birth_date": "1980-01-02"})
        assert r.status == 201, r
        cls.pid = r.json()["id"]
        r = cls.node.post(CRM + "/employers", {"company_name": "Errortown Widgets", "zip": "95814",
                                               "street": "1 Main St", "city": "Sacramento"})
        assert r.status == 201, r
        cls.emp = r.json()["id"]

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()

    def setUp(self):
        # the office's day, taken for each test (the class outlives a midnight)
        self.today = harness.office_day(self.node, span=60)

    def missing(self, method, path, body=None):
        r = self.node.request(method, path.replace("ID", MISSING), body=body)
        self.assertEqual(r.status, 404, "%s %s: %r" % (method, path, r))
        self.assertTrue(r.header("Content-Type").startswith("application/json"), r)
        j = r.json()
        self.assertEqual(j.get("field"), "id", j)
        self.assertTrue(j.get("error", "").startswith("no such"), j)

    def test_missing_records_are_404_json(self):
        t = self.today
        reads = [CASE + "/participants/ID", CASE + "/participants/ID/timeline",
                 CRM + "/employers/ID", CRM + "/employers/ID/services", CRM + "/employers/ID/attachments",
                 CRM + "/work-items/ID", CRM + "/job-orders/ID", CRM + "/attachments/ID",
                 CRM + "/directory/ID/prefill", CRM + "/external-employers/ID/prefill",
                 "/api/v1/checkins/ID"]
        for p in reads:
            self.missing("GET", p)
        writes = [
            ("PATCH", CASE + "/participants/ID", {"phone": "9165550100"}),
            ("POST", CASE + "/participants/ID/notes", {"subject": "Call", "contact_date": t, "body": "Called."}),
            ("POST", CASE + "/participants/ID/activities", {"code": "102", "start_date": t, "note": {"body": "x"}}),
            ("POST", CASE + "/participants/ID/closure-form", {}),
            ("POST", CASE + "/participants/ID/visits", {"checkin_id": MISSING}),
            ("POST", CASE + "/activities/ID/amend", {"reason": "typo", "end_date": t}),
            ("POST", CASE + "/notes/ID/amend", {"body": "Better words.", "reason": "A typo in the date."}),
            ("PATCH", CRM + "/employers/ID", {"phone": "9165550100"}),
            ("POST", CRM + "/employers/ID/contacts", {"name": "Dana Cruz"}),
            ("POST", CRM + "/employers/ID/notes", {"body": "hello"}),
            ("POST", CRM + "/employers/ID/services", {"services": [{"code": "E20", "start_date": t}]}),
            ("POST", CRM + "/employers/ID/convert", {}),
            ("PATCH", CRM + "/work-items/ID", {"description": "new words"}),
            ("DELETE", CRM + "/work-items/ID", None),
            ("POST", CRM + "/work-items/ID/notes", {"body": "hello"}),
            ("PATCH", CRM + "/contacts/ID", {"name": "Lee Park"}),
            ("PATCH", CRM + "/locations/ID", {"city": "Davis"}),
            ("POST", CRM + "/services/ID/correct", {"void": True}),
            ("POST", "/api/v1/checkins/ID/action", {"action": "serve"}),
        ]
        for m, p, b in writes:
            self.missing(m, p, b)
        for p in ("/api/v1/no-such-thing", CRM + "/no-such-thing", CRM + "/employers/%s/nothing" % MISSING):
            r = self.node.get(p)
            self.assertEqual(r.status, 404, r)
            self.assertTrue(r.header("Content-Type").startswith("application/json"), r)
            self.assertTrue(r.json().get("error"), r)

    def test_services_every_field_at_once(self):
        r = self.node.post(CRM + "/employers/%s/services" % self.emp, {"services": [
            {"code": "ZZZ", "start_date": "someday", "projected_end_date": "later"},
            {"start_date": self.today, "completion_code": "maybe"}]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["services[0].code", "services[0].projected_end_date",
                                     "services[0].start_date", "services[1].code",
                                     "services[1].completion_code"], r.body)
        self.assertEqual(self.node.get(CRM + "/employers/%s/services" % self.emp).json(), [])

    def test_work_item_edit_every_field_at_once(self):
        r = self.node.post(CRM + "/work-items", {"category_id": "crm-cat-other", "description": "Call HR",
                                                 "employer_id": self.emp})
        self.assertEqual(r.status, 201, r)
        wid = r.json()["id"]
        r = self.node.request("PATCH", CRM + "/work-items/" + wid,
                              body={"status": "Done", "description": "", "due_date": "soon",
                                    "priority_id": "nope"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["description", "due_date", "status"], r.body)
        r = self.node.request("PATCH", CRM + "/work-items/" + wid,
                              body={"priority_id": "nope", "assignee_id": "nobody", "category_id": "nope"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["assignee_id", "category_id", "priority_id"], r.body)
        self.assertEqual(self.node.get(CRM + "/work-items/" + wid).json()["description"], "Call HR")

    def test_new_employer_every_field_at_once(self):
        r = self.node.post(CRM + "/employers", {"company_name": "", "phone": "12", "state": "California",
                                                "lead_owner_id": "nobody", "source": "fax",
                                                "contacts": [{"email": "x"}]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["company_name", "contacts[0].email", "contacts[0].name", "lead_owner_id", "phone",
                                     "source", "state", "zip"], r.body)
        r = self.node.request("PATCH", CRM + "/employers/" + self.emp,
                              body={"company_name": "", "zip": "", "phone": "12"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["company_name", "phone", "zip"], r.body)

    def test_case_entries_every_field_at_once(self):
        A = CASE + "/participants/%s/activities" % self.pid
        r = self.node.post(A, {})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["code", "note.body", "start_date"], r.body)
        r = self.node.post(A, {"code": "ZZZ", "start_date": "today", "end_date": "x", "completion": "meh",
                               "note": {"body": "x"}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["code", "start_date"], r.body)
        r = self.node.post(CASE + "/participants/%s/notes" % self.pid, {"subject": "", "contact_date": "monday"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["body", "contact_date", "subject"], r.body)
        r = self.node.post(A, {"code": "102", "start_date": self.today, "note": {"body": "Workshop."}})
        self.assertEqual(r.status, 201, r)
        aid = r.json()["activity"]["id"]
        r = self.node.post(CASE + "/activities/%s/amend" % aid, {"void": "yes", "note": {}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["note.body", "reason", "void"], r.body)

    def test_business_dates_and_visit_link_every_error_at_once(self):
        """The business-date rules (registration, backdating, approvals not
        typed in) answer beside the fields' errors, and the visit link lists
        both of its fields."""
        before = (datetime.date.fromisoformat(self.today) - datetime.timedelta(days=2)).isoformat()
        r = self.node.post(CASE + "/participants/%s/activities" % self.pid,
                           {"code": "102", "start_date": before, "approval": {"x": 1}, "note": {}})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["approval", "note.body", "start_date"], r.body)
        self.assertIn("registration", r.body.decode())
        r = self.node.post(CASE + "/participants/%s/notes" % self.pid,
                           {"subject": "", "contact_date": before, "body": "x", "approval_id": "a"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["approval_id", "contact_date", "subject"], r.body)
        r = self.node.post(CASE + "/participants/%s/visits" % self.pid, {"confirm_name": "maybe"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["checkin_id", "confirm_name"], r.body)

    def test_head_is_get_without_the_body(self):
        """HEAD on an API route answers as its GET does, without the body
        (the static files' catch-all HEAD route used to answer 404)."""
        for path in ("/api/v1/greeter/reasons", CASE + "/participants/%s" % self.pid, "/"):
            g = self.node.get(path)
            h = self.node.request("HEAD", path)
            self.assertEqual((h.status, g.status), (200, 200), path)
            self.assertEqual(h.header("Content-Length"), g.header("Content-Length"), path)
            self.assertEqual(h.body, b"", path)
        h = self.node.request("HEAD", CASE + "/participants/" + MISSING)
        self.assertEqual(h.status, 404, h)

    def test_member_given_twice_is_refused(self):
        """A body that names a member twice means two things (this parser
        took the first, others take the last): 400 naming it, nothing saved."""
        before = len(self.node.get(CASE + "/participants/%s" % self.pid).json().get("notes", []))
        body = ('{"subject":"Call","contact_date":"%s","body":"first",'
                '"body":"second"}' % self.today)
        r = self.node.request("POST", CASE + "/participants/%s/notes" % self.pid, body=body,
                              headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        self.assertIn('"body" is given twice', r.json().get("error", ""), r.body)
        after = len(self.node.get(CASE + "/participants/%s" % self.pid).json().get("notes", []))
        self.assertEqual(before, after)


class HubErrorsTest(unittest.TestCase):
    """The hub's admin API: a missing account or access request is a JSON
    404 naming it; a new-account request missing everything lists every
    field at once."""

    @classmethod
    def setUpClass(cls):
        cls.hub = Daemon("hub").start()
        with open(os.path.join(cls.hub.data, "admin.token")) as f:
            cls.auth = {"Authorization": "Bearer " + f.read().strip()}

    @classmethod
    def tearDownClass(cls):
        cls.hub.cleanup()

    def test_missing_and_every_field(self):
        for path, field in (("/api/v1/admin/staff/" + MISSING, "staff_id"),
                            ("/api/v1/admin/access-requests/" + MISSING, "request_id")):
            r = self.hub.request("GET", path, headers=self.auth)
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json().get("field"), field, r.body)
        r = self.hub.request("GET", "/api/v1/admin/no-such-thing", headers=self.auth)
        self.assertEqual(r.status, 404, r)
        self.assertTrue(r.json().get("error"), r)
        r = self.hub.request("POST", "/api/v1/admin/access-requests", body={"kind": "new"}, headers=self.auth)
        self.assertEqual(r.status, 400, r)
        for f in ("username", "display_name", "privilege_group", "requestor_name", "business_need"):
            self.assertIn(f, fields(r), r.body)
        # The console's set-up forms: every missing field at once.
        r = self.hub.request("POST", "/api/v1/admin/offices", body={}, headers=self.auth)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["local_area_id", "name"], r.body)
        r = self.hub.request("POST", "/api/v1/admin/greeter-reasons", body={"sort": -1}, headers=self.auth)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(fields(r), ["label", "label_es", "local_area_id", "sort"], r.body)


if __name__ == "__main__":
    unittest.main()
