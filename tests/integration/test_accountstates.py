"""Account states (issue 16) on a real hub and an enrolled office node:

  * suspension (extended leave) and reactivation keep the user name: a
    suspended person cannot sign in at the office once the row is pulled,
    and signs in again after reactivation, same user name;
  * suspending someone who still owns leads asks for a new owner (409 naming
    new_owner_id) and then moves them;
  * a deactivation scheduled for the separation date takes effect at an
    office node that is offline on that date (the date travelled ahead; the
    test build's injected clock moves the node two days on), and at the hub
    on that date (its clock moved too; the sweep runs at start and every
    minute);
  * an immediate deactivation of someone who still owns leads asks for a
    new owner and moves them;
  * annual recertification with the injected clock: a warning at sign-in
    from 30 days before the due date (none before), sign-in still allowed
    within the 30 days' grace, refused offline past it, the hub suspending
    the account on that day and lifting it at recertification; accounts
    with no dates are overdue in the report.
"""
import datetime
import os
import re
import secrets
import tempfile
import time
import unittest
import zoneinfo

import harness
from harness import BIN, Daemon, client, login, plant_secret, run_tool
from test_accounts import PDF, Console, designate

DAY = 86400 * 1000
OFFICE_TZ = zoneinfo.ZoneInfo("America/Los_Angeles")  # the demo office's (schema default)
CBO = "0190a000-0000-7000-8000-0000000000c1"      # t-lwia-cbo
INTAKE = "0190a000-0000-7000-8000-0000000000c2"   # t-lwia-intake
PARTNER = "0190a000-0000-7000-8000-0000000000c3"  # t-lwia-partner
VIEW = "0190a000-0000-7000-8000-0000000000c7"     # t-view
# t-view is LWIA staff ("View Access"): an Attachment E-1, uploaded with
# the ISPA certificate (WSD24-13)
E1_FILES = ("request_form", "ispa_certificate", "confidentiality_statement")
WARN = "0190a000-0000-7000-8000-0000000000c6"     # t-warn


def set_clock(path, offset_ms):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % offset_ms)
    os.replace(tmp, path)
    time.sleep(0.3)


def day(offset_days):
    """The office's date offset_days from its today: the daemons count days in
    the demo office's time zone, which is not this machine's (from 00:00 UTC
    until the office's midnight the two dates differ)."""
    return (datetime.datetime.now(OFFICE_TZ) + datetime.timedelta(days=offset_days)).strftime("%Y-%m-%d")


class AccountStatesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="outpost-acctstates-")
        cls.hclock = os.path.join(cls.tmp, "hub.clock")
        cls.nclock = os.path.join(cls.tmp, "node.clock")
        set_clock(cls.hclock, 0)
        set_clock(cls.nclock, 0)
        # fewer PBKDF2 rounds for the accounts made here (the test build's
        # setting; the demo staff keep theirs)
        cls.hub = Daemon("hub", args=["--password-iters", "20000"],
                         env={"OUTPOST_TEST_HOOKS_CLOCK_FILE": cls.hclock}).start()
        # offline sign-ins for up to 30 days after the last pull (default 72 h):
        # the recertification test's office is a month on when offline
        cls.node = Daemon("node", args=["--offline_login_max_age", "2592000"],
                          env={"OUTPOST_TEST_HOOKS_CLOCK_FILE": cls.nclock}).start()
        p = run_tool([os.path.join(BIN, "outpost-hub"), "enroll-code", "--office", "demo-office",
                      "--data", cls.hub.data], name="hub")
        assert p.returncode == 0, p.stderr
        p = run_tool(["enroll", "--hub", cls.hub.url, "--code", p.stdout.decode().strip(),
                      "--data", cls.node.data, "--json"])
        assert p.returncode == 0, (p.stdout, p.stderr)
        t0 = time.time()
        while cls.node.get("/healthz").json().get("office_id") != "demo-office":
            assert time.time() - t0 < 30, "node did not take up its office"
            time.sleep(0.2)
        cls.sync("push")
        cls.sync("pull")
        # signed in before any clock moves, to drive hub_clock_back()
        cls.watcher = client(cls.node)
        login(cls.watcher)
        with open(os.path.join(cls.hub.data, "admin.token")) as f:
            cls.token = f.read().strip()
        plant_secret(cls.token)
        first = harness.operations_password(cls.hub)
        cls.ops = Console(cls.hub)
        assert cls.ops.login("operations", first).status == 200
        pw = "Ops." + secrets.token_hex(4) + "Zz9"
        plant_secret(pw)
        r = cls.ops.post("/api/v1/admin/session/password", {"current_password": first, "new_password": pw})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        cls.hub.cleanup()

    @classmethod
    def sync(cls, cmd):
        if cmd == "pull":  # a pull waits for the office's own changes (sign-ins' audit rows)
            cls.sync("push")
        p = run_tool([cmd, "--data", cls.node.data, "--json"])
        if p.returncode != 0:
            raise AssertionError("outpost-sync %s failed: %s %s" % (cmd, p.stdout, p.stderr))

    def hub_clock_back(self):
        """Puts the hub's clock back and waits for two of the node's own
        background cycles that start after it: a cycle that met the hub
        while its clock was moved taught the node that offset (its trusted
        time is the hub's), and the next test must not inherit it."""
        set_clock(self.hclock, 0)
        if self.hub.proc.poll() is not None:
            return
        c = self.watcher
        if c.get("/api/v1/sync/status").status == 401:
            login(c)
        for _ in range(2):
            t0 = time.time()
            before = c.get("/api/v1/sync/status").json().get("last_success_ms") or 0
            asked = 0.0
            while True:
                st = c.get("/api/v1/sync/status").json()
                if (st.get("last_success_ms") or 0) > before:
                    break
                if not st.get("syncing") and time.time() - asked > 2:
                    r = c.request("POST", "/api/v1/sync/now", body={})
                    self.assertEqual(r.status, 202, r)
                    asked = time.time()
                self.assertLess(time.time() - t0, 60, st)
                time.sleep(0.2)
        off = c.get("/api/v1/sync/status").json().get("clock_offset_ms")
        self.assertLess(abs(off or 0), 3600 * 1000, off)

    def admin(self, path, body=None):
        return self.ops.post(path, body, headers={"Authorization": "Bearer " + self.token})

    def hubq(self, sql, *args):
        return harness.rows(self.hub, sql, *args)

    def lead_of(self, username, company):
        """username signs in at the office and adds the lead company, which
        the office then pushes: (the signed-in client, the lead's id)."""
        c = client(self.node)
        login(c, username)
        r = c.request("POST", "/api/v1/crm/employers", body={
            "company_name": company, "zip": "95814", "confirm_not_duplicate": True})
        self.assertEqual(r.status, 201, r.body)
        self.sync("push")
        return c, r.json()["id"]

    def test_suspend_and_reactivate_keep_the_user_name(self):
        cbo, lead = self.lead_of("t-lwia-cbo", "Leave Coverage Bakery")
        self.assertEqual(self.hubq("SELECT lead_owner_id FROM employers WHERE id=?", lead), [(CBO,)])
        # Every missing field at once; then the lead left behind is named.
        r = self.admin("/api/v1/admin/staff/%s/suspend" % CBO, {"reason": 5, "new_owner_id": 7})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]), ["new_owner_id", "reason"])
        r = self.admin("/api/v1/admin/staff/%s/suspend" % CBO, {"reason": "extended leave"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["field"], "new_owner_id")
        self.assertIn("1 lead", r.json()["error"])
        # The lead is the Local Area's: not handed to someone of another.
        la = "la-ho" + secrets.token_hex(2)
        self.assertEqual(self.admin("/api/v1/admin/local-areas", {"id": la, "name": "Area " + la}).status, 201)
        far, _ = self.new_account("hofar" + la[-4:], la, group="LWIA/CBO Staff")
        r = self.admin("/api/v1/admin/staff/%s/suspend" % CBO,
                       {"reason": "extended leave", "new_owner_id": far})
        self.assertEqual((r.status, r.json()["field"]), (400, "new_owner_id"), r)
        self.assertEqual(self.hubq("SELECT lead_owner_id FROM employers WHERE id=?", lead), [(CBO,)])
        # Nor to an administrative (hub-only) account of the Local Area: it
        # works no caseload at an office.
        adm, _ = self.new_account("hoadm" + la[-4:], "demo-la", group="LWIA/CBO Staff")
        self.assertEqual(designate(self.ops, adm, ["mis_admin"]).status, 200)
        r = self.admin("/api/v1/admin/staff/%s/suspend" % CBO,
                       {"reason": "extended leave", "new_owner_id": adm})
        self.assertEqual((r.status, r.json()["field"]), (400, "new_owner_id"), r)
        self.assertIn("administrative", r.json()["error"])
        self.assertEqual(self.hubq("SELECT lead_owner_id FROM employers WHERE id=?", lead), [(CBO,)])
        r = self.admin("/api/v1/admin/staff/%s/suspend" % CBO,
                       {"reason": "extended leave", "new_owner_id": "demo-staff"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["suspended"], r.json()["username"], r.json()["active"]),
                         (1, "t-lwia-cbo", 1))
        self.assertEqual(self.hubq("SELECT lead_owner_id FROM employers WHERE id=?", lead), [("demo-staff",)])
        # The hand-over stamps the column's clock (an office's older
        # reassignment then loses to it as a conflict, sync/apply.c).
        self.assertEqual(self.hubq("SELECT c.hlc = e.updated_hlc FROM col_clocks c JOIN employers e"
                                   " ON e.id=c.row_id WHERE c.tbl='employers' AND"
                                   " c.col='lead_owner_id' AND c.row_id=?", lead), [(1,)])
        # In the administrators' trail, with its Local Area and the reason.
        ev = [e for e in self.get("/api/v1/admin/audit?subject_id=" + CBO).json()
              if e["action"] == "staff.suspend"]
        self.assertEqual(len(ev), 1, ev)
        self.assertEqual((ev[0]["local_area_id"], ev[0]["after"]["suspend_reason"],
                          ev[0]["after"]["handed_over"]["leads"], ev[0]["before"]["suspended"]),
                         ("demo-la", "extended leave", 1, 0))
        self.sync("pull")
        # The office: the open session ends, a new sign-in is refused.
        self.assertFalse(cbo.get("/api/v1/session").json().get("signed_in"))
        r = login(client(self.node), "t-lwia-cbo", expect=403)
        self.assertIn(b"inactive", r.body)
        # Back from leave: the same user name works again.
        r = self.admin("/api/v1/admin/staff/%s/reactivate" % CBO, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["suspended"], 0)
        self.assertEqual(self.admin("/api/v1/admin/staff/%s/reactivate" % CBO, {}).status, 409)
        self.assertEqual([e["after"]["suspended"] for e in
                          self.get("/api/v1/admin/audit?action=staff.reactivate&subject_id=" + CBO).json()], [0])
        self.sync("pull")
        login(client(self.node), "t-lwia-cbo")

    def test_deactivation_takes_effect_on_its_date_at_an_offline_node(self):
        sep = day(2)
        rid = self.request({"kind": "deactivate", "staff_id": INTAKE, "requestor_name": "Pat Manager",
                            "separation_date": sep})
        r = self.admin("/api/v1/admin/staff/%s/schedule-deactivation" % INTAKE, {"request_id": rid})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["deactivate_on"], r.json()["active"]), (sep, 1))
        self.sync("pull")
        self.hub.stop()  # the office is offline from here on
        try:
            login(client(self.node), "t-lwia-intake")  # before the date: still works
            set_clock(self.nclock, 2 * DAY)
            r = login(client(self.node), "t-lwia-intake", expect=403)
            self.assertIn(b"inactive", r.body)
            login(client(self.node), "t-lwia-cbo")  # others still sign in offline
        finally:
            set_clock(self.nclock, 0)
            set_clock(self.hclock, 2 * DAY)
            self.hub.start()
        try:
            self.assertEqual(self.hubq("SELECT active FROM staff WHERE id=?", INTAKE), [(0,)])
            self.assertIsNotNone(self.hubq("SELECT deactivated_at FROM staff WHERE id=?", INTAKE)[0][0])
            # as complete as a deactivation by hand: no password left to
            # replicate, the request carried out, the trail told who
            self.assertEqual(self.hubq("SELECT password_hash FROM staff_credentials WHERE id=?", INTAKE),
                             [(None,)])
            self.assertEqual(self.hubq("SELECT status FROM access_requests WHERE id=?", rid), [("fulfilled",)])
            ev = self.get("/api/v1/admin/audit?action=staff.deactivate&subject_id=" + INTAKE).json()
            self.assertEqual([(e["actor"], e["local_area_id"], e["before"]["active"], e["after"]["active"])
                              for e in ev], [("admin-token", "demo-la", 1, 0)])
        finally:
            self.hub_clock_back()

    def request(self, body, files=("request_form",)):
        """An approved access request (recorded by operations, approved with
        the token: another principal)."""
        r = self.ops.post("/api/v1/admin/access-requests", body)
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        for k in files:
            r = self.ops.request("POST", "/api/v1/admin/access-requests/%s/files?kind=%s&filename=f.pdf"
                                 % (rid, k), body=PDF, ctype="application/pdf")
            self.assertEqual(r.status, 201, r)
        r = self.admin("/api/v1/admin/access-requests/%s/approve" % rid)
        self.assertEqual(r.status, 200, r)
        return rid

    def test_immediate_deactivation_hands_over_the_caseload(self):
        partner, lead = self.lead_of("t-lwia-partner", "Separation Day Foods")
        rid = self.request({"kind": "deactivate", "staff_id": PARTNER, "requestor_name": "Pat Manager",
                            "separation_date": day(0)})
        url = "/api/v1/admin/staff/%s/deactivate" % PARTNER
        r = self.admin(url, {"request_id": rid, "new_owner_id": 5})
        self.assertEqual((r.status, r.json()["field"]), (400, "new_owner_id"))
        r = self.admin(url, {"request_id": rid})
        self.assertEqual((r.status, r.json()["field"]), (409, "new_owner_id"))
        self.assertIn("1 lead", r.json()["error"])
        self.assertEqual(self.hubq("SELECT active FROM staff WHERE id=?", PARTNER), [(1,)])
        r = self.admin(url, {"request_id": rid, "new_owner_id": PARTNER})
        self.assertEqual((r.status, r.json()["field"]), (400, "new_owner_id"))
        r = self.admin(url, {"request_id": rid, "new_owner_id": "demo-staff"})
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json()["active"])
        self.assertEqual(self.hubq("SELECT lead_owner_id FROM employers WHERE id=?", lead),
                         [("demo-staff",)])
        self.sync("pull")
        db = self.node.db()
        try:
            self.assertEqual([tuple(x) for x in db.execute(
                "SELECT lead_owner_id FROM employers WHERE id=?", (lead,))], [("demo-staff",)])
        finally:
            db.close()
        self.assertFalse(partner.get("/api/v1/session").json().get("signed_in"))

    def test_overdue_vetting_listed_at_the_hub(self):
        """Deliver 1 at the hub: an employer converted at an office whose
        72-hour vetting has passed (the hub's injected clock) is listed."""
        c = client(self.node)
        login(c)  # demo: LWIA Partner Staff, the converter
        r = c.request("POST", "/api/v1/crm/employers", body={
            "company_name": "Overdue Vetting Mills", "zip": "95814", "street": "1 Mill Rd",
            "city": "Sacramento", "phone": "(916) 555-0199", "industry": "3111",
            "contacts": [{"name": "Lee Park", "kind": "primary"}], "confirm_not_duplicate": True})
        self.assertEqual(r.status, 201, r.body)
        eid = r.json()["id"]
        r = c.request("POST", "/api/v1/crm/employers/%s/convert" % eid, body={"edd_account_number": "3456789"})
        self.assertEqual(r.status, 200, r.body)
        self.sync("push")
        self.assertNotIn(eid, [e["id"] for e in self.get("/api/v1/admin/crm/vetting").json()["overdue"]])
        try:
            set_clock(self.hclock, 73 * 3600 * 1000)
            over = self.get("/api/v1/admin/crm/vetting").json()["overdue"]
        finally:
            self.hub_clock_back()
        mine = [e for e in over if e["id"] == eid]
        self.assertEqual(len(mine), 1, over)
        self.assertEqual(mine[0]["converted_by"], "demo-staff")
        self.assertGreaterEqual(mine[0]["hours_overdue"], 1)

    def get(self, path):
        return self.ops.get(path, headers={"Authorization": "Bearer " + self.token})

    def new_account(self, username, la, group="View Access"):
        rid = self.request({"kind": "new", "username": username, "display_name": username.title(),
                            "local_area_id": la, "privilege_group": group,
                            "requestor_name": "Pat Manager", "ispa_date": day(-30),
                            "confidentiality_type": "E-1", "confidentiality_date": day(-30),
                            "business_need": "reviews"},
                           files=("request_form", "ispa_certificate", "confidentiality_statement"))
        r = self.admin("/api/v1/admin/staff", {"request_id": rid})
        self.assertEqual(r.status, 201, r)
        plant_secret(r.json()["temporary_password"])
        return r.json()["staff"]["id"], r.json()["temporary_password"]

    def test_recertification_reason_is_not_given_by_hand(self):
        """The reason 'recertification overdue' marks the rule's own
        suspensions, which the sweep lifts at the next recertification of
        anyone: given by hand, it would end someone's leave.  Refused."""
        sid, _ = self.new_account("rsn" + secrets.token_hex(2), "demo-la")
        url = "/api/v1/admin/staff/%s/suspend" % sid
        for reason in ("recertification overdue", " Recertification OVERDUE\t"):
            r = self.admin(url, {"reason": reason})
            self.assertEqual((r.status, r.json()["field"]), (400, "reason"), (reason, r))
        self.assertEqual(self.hubq("SELECT suspended FROM staff WHERE id=?", sid), [(0,)])
        r = self.admin(url, {"reason": "leave until recertification overdue is sorted"})
        self.assertEqual(r.status, 200, r)
        # a recertification runs the sweep: a suspension by hand stays
        other, _ = self.new_account("rso" + secrets.token_hex(2), "demo-la")
        rid = self.request({"kind": "recertify", "staff_id": other, "requestor_name": "Pat Manager",
                            "ispa_date": day(-1), "confidentiality_type": "E-1",
                            "confidentiality_date": day(-1), "business_need": "intake"},
                           files=E1_FILES)
        self.assertEqual(self.admin("/api/v1/admin/staff/%s/recertify" % other,
                                    {"request_id": rid}).status, 200)
        self.assertEqual(self.hubq("SELECT suspended FROM staff WHERE id=?", sid), [(1,)])

    def test_reviews_shared_with_the_area_and_a_skipped_quarter_flagged(self):
        """Deliver 6: a statewide review is visible to the MIS Administrator
        of a sampled account's Local Area, with their area's results only;
        a quarter without a completed review is flagged."""
        la = "la-rv" + secrets.token_hex(2)
        self.assertEqual(self.admin("/api/v1/admin/local-areas", {"id": la, "name": "Area " + la}).status, 201)
        sampled, _ = self.new_account("rvstaff" + la[-4:], la)
        adm, temp = self.new_account("rvadmin" + la[-4:], la)
        self.assertEqual(designate(self.ops, adm, ["mis_admin"]).status, 200)
        mis = Console(self.hub)
        self.assertEqual(mis.login("rvadmin" + la[-4:], temp).status, 200)
        pw = "Rev." + secrets.token_hex(4) + "Q7"
        plant_secret(pw)
        self.assertEqual(mis.post("/api/v1/admin/session/password",
                                  {"current_password": temp, "new_password": pw}).status, 200)
        today = harness.office_day(self.hub, span=120)   # the hub's quarter until the check below
        quarter = "%s-Q%d" % (today[:4], (int(today[5:7]) - 1) // 3 + 1)
        # a statewide review sampling every account, and one of another area
        r = self.admin("/api/v1/admin/reviews", {"quarter": quarter, "sample_size": 500})
        self.assertEqual(r.status, 201, r)
        wide = r.json()
        self.assertTrue({la, "demo-la"} <= {i["local_area_id"] for i in wide["items"]})
        r = self.admin("/api/v1/admin/reviews", {"quarter": quarter, "sample_size": 2,
                                                 "local_area_id": "demo-la"})
        self.assertEqual(r.status, 201, r)
        other = r.json()
        self.assertEqual([x["id"] for x in mis.get("/api/v1/admin/reviews").json()], [wide["id"]])
        self.assertEqual(mis.get("/api/v1/admin/reviews/%s" % other["id"]).status, 404)
        mine = mis.get("/api/v1/admin/reviews/%s" % wide["id"]).json()
        self.assertEqual({i["local_area_id"] for i in mine["items"]}, {la})
        self.assertIn(sampled, [i["staff_id"] for i in mine["items"]])
        # results recorded and the review completed: the area's administrator sees them
        elsewhere = [i["staff_id"] for i in wide["items"] if i["local_area_id"] == "demo-la"][0]
        for it in wide["items"]:
            failed = it["staff_id"] in (sampled, elsewhere)
            r = self.admin("/api/v1/admin/reviews/%s/items/%s" % (wide["id"], it["id"]),
                           {"result": "fail" if failed else "pass",
                            "note": "no ISPA certificate" if failed else None})
            self.assertEqual(r.status, 200, r)
        r = self.admin("/api/v1/admin/reviews/%s/complete" % wide["id"], {"reported_to": "Directors"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.get("/api/v1/admin/reviews/%s" % wide["id"]).json()["summary"]["fail"], 2)
        mine = mis.get("/api/v1/admin/reviews/%s" % wide["id"]).json()
        self.assertEqual(mine["status"], "complete")
        # its figures are its area's, as its items are (not another area's failure)
        self.assertEqual((mine["summary"]["items"], mine["summary"]["fail"], mine["summary"]["pass"]),
                         (len(mine["items"]), 1, len(mine["items"]) - 1))
        self.assertEqual([(i["result"], i["note"]) for i in mine["items"] if i["staff_id"] == sampled],
                         [("fail", "no ISPA certificate")])
        # this quarter is reviewed; nothing skipped since the hub started
        q = mis.get("/api/v1/admin/review-quarters").json()
        self.assertEqual((q["current"], q["skipped"]), (quarter, []))
        self.assertEqual([x["status"] for x in q["quarters"] if x["quarter"] == quarter], ["reviewed"])
        # two quarters on: the one between had no review, flagged
        try:
            set_clock(self.hclock, 200 * DAY)
            q = self.get("/api/v1/admin/review-quarters").json()
        finally:
            self.hub_clock_back()
        states = {x["quarter"]: x["status"] for x in q["quarters"]}
        self.assertEqual(states[quarter], "reviewed")
        self.assertEqual(states[q["current"]], "due")
        self.assertTrue(len(q["skipped"]) >= 1 and quarter not in q["skipped"], q)
        self.assertEqual([k for k, v in states.items() if v == "skipped"], q["skipped"])

    def test_zz_recertification_with_the_injected_clock(self):
        """Last: the hub's clock moves a month on, and its clock keeps the
        later time for the rows it writes after."""
        # the hub's day (its clock is this machine's here), the one the
        # node's clock is moved from, until the node's last check offline
        today = harness.office_day(self.hub, span=180)

        def days_to(date):
            return round((time.mktime(time.strptime(date, "%Y-%m-%d")) -
                          time.mktime(time.strptime(today, "%Y-%m-%d"))) / 86400)
        # Accounts with no dates at all are overdue in the report.
        rep = self.get("/api/v1/admin/recertification").json()
        self.assertIn(WARN, [s["id"] for s in rep["overdue"]])
        self.assertIn(WARN, [s["id"] for s in rep["no_documents"]])
        # t-view's documents are a year old: due about today (a year after
        # the earlier date), suspended 30 days after that.
        rid = self.request({"kind": "recertify", "staff_id": VIEW, "requestor_name": "Pat Manager",
                            "ispa_date": harness.day_after(today, -366), "confidentiality_type": "E-1",
                            "confidentiality_date": harness.day_after(today, -365),
                            "business_need": "intake"},
                           files=E1_FILES)
        r = self.admin("/api/v1/admin/staff/%s/recertify" % VIEW, {"request_id": rid})
        self.assertEqual(r.status, 200, r)
        due, suspend_on = r.json()["recertification_due_on"], r.json()["suspend_on"]
        to_due, to_susp = days_to(due), days_to(suspend_on)
        self.assertEqual((to_susp - to_due, r.json()["suspended"]), (30, 0))
        self.assertTrue(-2 <= to_due <= 0, due)
        self.sync("pull")
        # The office goes offline: while connected it dates by the hub's
        # clock (the offset of the last contact), so its own clock is moved.
        self.hub.stop()
        try:
            # 35 days before the due date: no warning yet
            set_clock(self.nclock, (to_due - 35) * DAY)
            self.assertNotIn("access_warning", login(client(self.node), "t-view").json())
            # from 30 days before: warned, with the suspension date
            set_clock(self.nclock, (to_due - 29) * DAY)
            w = login(client(self.node), "t-view").json()["access_warning"]
            self.assertEqual((w["kind"], w["on"]), ("recertification", suspend_on))
            # overdue but within the grace: still signs in, still warned
            set_clock(self.nclock, (to_susp - 1) * DAY)
            self.assertEqual(login(client(self.node), "t-view").json()["access_warning"]["kind"],
                             "recertification")
            # past the grace: refused at the office by itself
            set_clock(self.nclock, to_susp * DAY)
            r = login(client(self.node), "t-view", expect=403)
            self.assertIn(b"inactive", r.body)
            if to_susp < 30:  # within offline_login_max_age of the last pull
                login(client(self.node), "t-lwia-cbo")  # others still sign in offline
        finally:
            set_clock(self.nclock, 0)
            if self.hub.proc.poll() is not None:
                set_clock(self.hclock, to_susp * DAY)
                self.hub.start()
        try:
            # the hub's sweep (at start, then every minute) suspends on the day
            self.assertEqual(self.hubq("SELECT suspended, suspend_reason FROM staff WHERE id=?", VIEW),
                             [(1, "recertification overdue")])
            # in the administrators' trail, in the rule's name
            ev = [(e["action"], e["client"], e["before"]["suspended"], e["after"]["suspended"])
                  for e in self.get("/api/v1/admin/audit?subject_id=" + VIEW).json()
                  if e["action"] == "staff.suspend"]
            self.assertEqual(ev, [("staff.suspend", "recertification", 0, 1)])
            self.assertIn(VIEW, [s["id"] for s in self.get("/api/v1/admin/recertification").json()["overdue"]])
            # lifted only by a recertification (the next sweep would
            # suspend it again)
            r = self.admin("/api/v1/admin/staff/%s/reactivate" % VIEW, {})
            self.assertEqual((r.status, r.json()["field"]), (409, "id"), r)
            self.assertIn("recertification", r.json()["error"])
        finally:
            self.hub_clock_back()
        # recertified with current dates: the suspension is lifted at once
        rid = self.request({"kind": "recertify", "staff_id": VIEW, "requestor_name": "Pat Manager",
                            "ispa_date": day(-1), "confidentiality_type": "E-1",
                            "confidentiality_date": day(-1), "business_need": "intake"},
                           files=E1_FILES)
        r = self.admin("/api/v1/admin/staff/%s/recertify" % VIEW, {"request_id": rid})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["suspended"], r.json()["suspend_reason"]), (0, None))
        self.assertIn(("staff.reactivate", "recertification"),
                      [(e["action"], e["client"]) for e in
                       self.get("/api/v1/admin/audit?subject_id=" + VIEW).json()])
        self.sync("pull")
        self.assertNotIn("access_warning", login(client(self.node), "t-view").json())

if __name__ == "__main__":
    unittest.main()
