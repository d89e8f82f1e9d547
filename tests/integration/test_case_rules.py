"""Case-work rules as the SLO policy states them (issue 15), on real
outpost-node (and outpost-hub) processes.

CaseDatesTest (one stand-alone node, its clock pinned by the test build's
injected clock, OUTPOST_TEST_HOOKS_CLOCK_FILE, to Thursday 2026-12-03):
no entry dated before the participant's registration; a follow-up code
dated on or after the exit date; a visit checked in under another name is
linked only once confirmed, and the timeline shows the visitor's name;
timeliness counts business days without state holidays (Thanksgiving).
"""
import calendar
import datetime
import os
import tempfile
import time
import unittest

import harness
import test_accounts
from harness import Daemon, plant_secret

API = "/api/v1/case"
TODAY = "2026-12-03"   # a Thursday; Thanksgiving was 2026-11-26


def days_ago(today, n):
    return (datetime.date.fromisoformat(today) - datetime.timedelta(days=n)).isoformat()


def pin_clock(path, date):
    """Offset the test build's wall clock so that it is noon (office time,
    UTC-8) on `date` now."""
    import time
    target = calendar.timegm(datetime.datetime.fromisoformat(date + "T20:00:00").timetuple())
    with open(path, "w") as f:
        f.write(str(int((target - time.time()) * 1000)))


class CaseRulesBase(unittest.TestCase):
    @classmethod
    def start_node(cls, env=None):
        cls.tmp = tempfile.mkdtemp(prefix="outpost-caserules-")
        cls.clock = os.path.join(cls.tmp, "clock")
        pin_clock(cls.clock, TODAY)
        e = {"OUTPOST_TEST_HOOKS_CLOCK_FILE": cls.clock}
        e.update(env or {})
        return Daemon("node", env=e).start()

    @classmethod
    def cleanup_tmp(cls):
        for f in os.listdir(cls.tmp):
            os.unlink(os.path.join(cls.tmp, f))
        os.rmdir(cls.tmp)

    def bad(self, r, field, status=400):
        self.assertEqual(r.status, status, r.body)
        j = r.json()
        self.assertEqual(j.get("field"), field, j)
        self.assertTrue(j.get("error"))
        return j

    def ndb(self, sql, *args, node=None):
        return harness.db_write(node or self.node, sql, *args)

    def register(self, first, last, registered=None, node=None, **kw):
        node = node or self.node
        plant_secret(first + " " + last)
        plant_secret(last)
        body = {"first_name": first, "last_name": last, "birth_date": "1980-02-02"}
        body.update(kw)
        r = node.post(API + "/participants", body)
        self.assertEqual(r.status, 201, r.body)
        p = r.json()
        if registered:
            self.ndb("UPDATE participants SET registered_date=? WHERE id=?", registered, p["id"],
                     node=node)
        return p

    def activity(self, pid, code, start, text="Met in person and reviewed the plan.", node=None, **kw):
        plant_secret(text)
        b = {"code": code, "start_date": start, "note": {"body": text}}
        b.update(kw)
        return (node or self.node).post(API + "/participants/%s/activities" % pid, b)


class CaseDatesTest(CaseRulesBase):
    @classmethod
    def setUpClass(cls):
        cls.node = cls.start_node()
        harness.login(cls.node)
        cls.today = cls.node.get(API + "/meta").json()["today"]

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        cls.cleanup_tmp()

    def test_clock_pinned(self):
        self.assertEqual(self.today, TODAY)

    def test_no_entry_before_registration(self):
        p = self.register("Rosalind", "Antesdeayer", registered=days_ago(TODAY, 10))
        j = self.bad(self.activity(p["id"], "102", days_ago(TODAY, 11)), "start_date")
        self.assertIn("registration", j["error"])
        r = self.activity(p["id"], "102", days_ago(TODAY, 10))
        self.assertEqual(r.status, 201, r.body)
        j = self.bad(self.node.post(API + "/participants/%s/notes" % p["id"],
                                    {"subject": "Call", "contact_date": days_ago(TODAY, 12),
                                     "body": "Called about the workshop."}), "contact_date")
        self.assertIn("registration", j["error"])
        self.assertEqual(self.ndb("SELECT count(*) FROM participant_activities WHERE participant_id=?",
                                  p["id"])[0][0], 1)

    def test_followup_on_or_after_exit(self):
        # Registered 120 days ago, no service since: exited on day 90.
        p = self.register("Fausto", "Seguimiento", registered=days_ago(TODAY, 120))
        exit_date = days_ago(TODAY, 30)
        g = self.node.get(API + "/participants/" + p["id"]).json()
        self.assertEqual(g["exit_date"], exit_date)
        j = self.bad(self.activity(p["id"], "F03", days_ago(TODAY, 31)), "start_date")
        self.assertIn("exit date", j["error"])
        r = self.activity(p["id"], "F03", exit_date)
        self.assertEqual(r.status, 201, r.body)
        r = self.activity(p["id"], "F01", TODAY)
        self.assertEqual(r.status, 201, r.body)

    def test_pending_backdated_service_holds_the_exit(self):
        """A service entered 35 days back waits for its approvals; if it
        would keep the case open, the soft exit (never undone) waits for
        them too, rather than exiting the case under it."""
        p = self.register("Paciencia", "Pendiente", registered=days_ago(TODAY, 85))
        r = self.activity(p["id"], "102", days_ago(TODAY, 35))
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["approval"]["state"], "pending", r.body)
        later = days_ago(TODAY, -10)   # the registration's 90 days are over
        try:
            pin_clock(self.clock, later)
            time.sleep(0.3)
            g = self.node.get(API + "/participants/" + p["id"]).json()
            self.assertEqual((g["exit_state"], g["exit_date"]), ("active", None), g)
            self.assertEqual(harness.db_value(self.node, "SELECT count(*) FROM participant_exits"
                                                         " WHERE participant_id=?", p["id"]), 0)
        finally:
            pin_clock(self.clock, TODAY)
            time.sleep(0.3)

    def test_holiday_not_counted(self):
        # Wednesday before Thanksgiving: the 5 business days skip Thursday
        # and Friday (both state holidays) and the weekend -> 2026-12-04.
        p = self.register("Gracia", "Feriado", registered=days_ago(TODAY, 20))
        r = self.activity(p["id"], "115", "2026-11-25")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["entry_deadline"], "2026-12-04")
        self.assertTrue(r.json()["timely"])

    def timeliness(self):
        t = self.node.get(API + "/compliance?staff_id=demo-staff").json()["timeliness"]
        return ({k["kind"]: (k["entries"], k["late"]) for k in t["by_kind"]},
                {k["staff_id"]: (k["entries"], k["late"]) for k in t["by_staff"]},
                {k["office_id"]: (k["entries"], k["late"]) for k in t["by_office"]})

    def test_timeliness_every_kind_per_staff_and_office(self):
        k0, s0, o0 = self.timeliness()
        self.assertEqual(list(k0), ["application", "objective_assessment", "literacy_numeracy", "iss_iep",
                                    "activity", "case_note", "measurable_skill_gain", "closure_form",
                                    "followup_form"])
        p = self.register("Tomasa", "Puntual", registered=days_ago(TODAY, 20))
        # Wednesday before Thanksgiving: on time (holidays do not count).
        self.assertEqual(self.activity(p["id"], "115", "2026-11-25").status, 201)
        # Friday 2026-11-20: due Tuesday 2026-12-01 (Thanksgiving and the
        # day after skipped), entered Thursday: late.
        self.assertEqual(self.activity(p["id"], "203", "2026-11-20").status, 201)
        # An ISS dated today, a note contacted 6 days ago (late: 5 days).
        self.assertEqual(self.activity(p["id"], "205", TODAY).status, 201)
        self.assertEqual(self.node.post(API + "/participants/%s/notes" % p["id"],
                                        {"subject": "Call", "contact_date": days_ago(TODAY, 6),
                                         "body": "Talked about the job fair."}).status, 201)
        k1, s1, o1 = self.timeliness()
        d = {k: (k1[k][0] - k0[k][0], k1[k][1] - k0[k][1]) for k in k1}
        self.assertEqual(d["application"], (1, 0))
        self.assertEqual(d["activity"], (1, 0))
        self.assertEqual(d["objective_assessment"], (1, 1))
        self.assertEqual(d["iss_iep"], (1, 0))
        self.assertEqual(d["case_note"], (4, 3))  # activity notes of 11-25, 11-20 (5 days) and the call
        self.assertEqual(s1["demo-staff"][0] - s0.get("demo-staff", (0, 0))[0], 8)
        self.assertEqual(o1["demo-office"][1] - o0.get("demo-office", (0, 0))[1], 4)
        # The CSV: one row per kind, staff member and office.
        r = self.node.get(API + "/compliance?format=csv&report=timeliness&staff_id=demo-staff")
        self.assertEqual(r.status, 200, r.body)
        import csv as csvm
        import io
        rows = list(csvm.DictReader(io.StringIO(r.body.decode("utf-8-sig"))))
        got = {(x["scope"], x["id"]): (int(x["entries"]), int(x["late"])) for x in rows}
        self.assertEqual(got[("kind", "objective_assessment")], k1["objective_assessment"])
        self.assertEqual(got[("staff", "demo-staff")], s1["demo-staff"])
        self.assertEqual(got[("office", "demo-office")], o1["demo-office"])
        self.bad(self.node.get(API + "/compliance?report=nope"), "report")

    def test_visit_name_warning_and_timeline(self):
        p = self.register("Iñigo", "Montoya")
        reasons = self.node.get("/api/v1/greeter/reasons").json()
        plant_secret("Inez Montalban")
        other = self.node.post("/api/v1/checkins", {"visitor_name": "Inez Montalban",
                                                    "reason_ids": [reasons[0]["id"]], "language": "en"})
        self.assertEqual(other.status, 201, other.body)
        same = self.node.post("/api/v1/checkins", {"visitor_name": "  montoya, IÑIGO ",
                                                   "reason_ids": [reasons[0]["id"]], "language": "en"})
        self.assertEqual(same.status, 201, same.body)
        V = API + "/participants/%s/visits" % p["id"]
        # Another name: a warning naming the visitor, nothing linked.
        j = self.bad(self.node.post(V, {"checkin_id": other.json()["id"]}), "checkin_id", 409)
        self.assertTrue(j["name_mismatch"])
        self.assertEqual(j["visitor_name"], "Inez Montalban")
        self.assertIsNone(self.ndb("SELECT participant_id FROM checkins WHERE id=?",
                                   other.json()["id"])[0][0])
        self.bad(self.node.post(V, {"checkin_id": other.json()["id"], "confirm_name": "yes"}),
                 "confirm_name")
        # The same name written differently links at once.
        r = self.node.post(V, {"checkin_id": same.json()["id"]})
        self.assertEqual(r.status, 200, r.body)
        # Confirmed: linked.
        r = self.node.post(V, {"checkin_id": other.json()["id"], "confirm_name": True})
        self.assertEqual(r.status, 200, r.body)
        t = self.node.get(API + "/participants/%s/timeline" % p["id"]).json()
        names = sorted(v["visitor_name"] for v in t["visits"])
        self.assertEqual(names, sorted(["Inez Montalban", "montoya, IÑIGO"]))

    # ---- closure and follow-up forms ------------------------------------------------
    def fields(self, kind, **over):
        f = {x["name"]: "N/A" for x in self.node.get(API + "/forms").json()[kind]}
        f.update(over)
        return f

    def test_closure_form_every_field(self):
        p = self.register("Clara", "Cierre", registered=days_ago(TODAY, 70))
        g = self.node.get(API + "/participants/" + p["id"]).json()
        self.assertTrue(g["status"]["closure_form_due"])
        C = API + "/participants/%s/closure-form" % p["id"]
        # Nothing filled in: every field named at once.
        r = self.node.post(C, {"fields": {}})
        self.assertEqual(r.status, 400, r.body)
        names = sorted(e["field"] for e in r.json()["errors"])
        want = sorted(["form_date"] + ["fields." + k for k in self.fields("closure")])
        self.assertEqual(names, want)
        # One left empty, one blank, one unknown: those three.
        f = self.fields("closure", exit_reason="Entered employment", employer_name="  ", job_title="")
        f["favorite_color"] = "blue"
        r = self.node.post(C, {"form_date": TODAY, "fields": f})
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]),
                         ["fields.employer_name", "fields.favorite_color", "fields.job_title"])
        self.bad(self.node.post(C, {"form_date": days_ago(TODAY, 71), "fields": self.fields("closure")}),
                 "form_date")
        self.assertEqual(self.ndb("SELECT count(*) FROM case_forms WHERE participant_id=?", p["id"])[0][0], 0)
        # Complete, N/A where it does not apply.
        r = self.node.post(C, {"form_date": TODAY, "fields": self.fields(
            "closure", exit_reason="Entered employment", employer_name="Coastal Grocers")})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["fields"]["employer_name"], "Coastal Grocers")
        self.assertTrue(r.json()["timely"])
        g = self.node.get(API + "/participants/" + p["id"]).json()
        self.assertFalse(g["status"]["closure_form_due"])
        self.assertEqual(g["closure_form_date"], TODAY)
        # A follow-up form before the exit is refused.
        self.bad(self.node.post(API + "/participants/%s/followup-form" % p["id"],
                                {"form_date": TODAY, "fields": self.fields("followup")}), "id", 409)

    def test_measurable_skill_gain(self):
        gain = {"gain_type": "Educational functioning level gain", "program": "Adult basic education",
                "achievement": "TABE math from level 3 to level 4", "documentation": "TABE score report"}
        forms = self.node.get(API + "/forms").json()["skill_gain"]
        self.assertEqual([f["name"] for f in forms], list(gain))
        self.assertEqual(len(forms[0]["choices"]), 5)
        k0 = self.timeliness()[0]["measurable_skill_gain"]
        p = self.register("Marisol", "Progreso", registered=days_ago(TODAY, 20))
        G = API + "/participants/%s/skill-gains" % p["id"]
        # Nothing: every field named at once; a type not of the five; the
        # date rules of every entry.
        r = self.node.post(G, {"fields": {}})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]),
                         sorted(["form_date"] + ["fields." + k for k in gain]))
        r = self.node.post(G, {"form_date": TODAY, "fields": dict(gain, gain_type="N/A")})
        self.assertEqual([e["field"] for e in r.json()["errors"]], ["fields.gain_type"])
        self.bad(self.node.post(G, {"form_date": days_ago(TODAY, 21), "fields": gain}), "form_date")
        self.bad(self.node.post(G, {"form_date": days_ago(TODAY, -1), "fields": gain}), "form_date")
        self.assertEqual(self.ndb("SELECT count(*) FROM case_forms WHERE participant_id=?", p["id"])[0][0], 0)
        # On time (Wednesday before Thanksgiving), and late (Friday 11-20:
        # due Tuesday 12-01).
        r = self.node.post(G, {"form_date": "2026-11-25", "fields": gain})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["kind"], "skill_gain")
        self.assertTrue(r.json()["timely"])
        r = self.node.post(G, {"form_date": "2026-11-20", "fields": dict(gain, gain_type="Training milestone")})
        self.assertEqual(r.status, 201, r.body)
        self.assertFalse(r.json()["timely"])
        rows = self.node.get(G).json()
        self.assertEqual([x["fields"]["gain_type"] for x in rows],
                         ["Educational functioning level gain", "Training milestone"])
        # Its row of the timeliness report is no longer empty.
        k1 = self.timeliness()[0]["measurable_skill_gain"]
        self.assertEqual((k1[0] - k0[0], k1[1] - k0[1]), (2, 1))
        # After the exit, only follow-up is entered.
        q = self.register("Octavio", "Salido", registered=days_ago(TODAY, 120))
        self.bad(self.node.post(API + "/participants/%s/skill-gains" % q["id"],
                                {"form_date": TODAY, "fields": gain}), "id", 409)

    def test_followup_form_and_decline_end_the_clocks(self):
        # Exited 30 days ago (registered 120 days ago, no service).
        p = self.register("Ulises", "Declinado", registered=days_ago(TODAY, 120))
        q = self.register("Olga", "Seguida", registered=days_ago(TODAY, 120))
        for x in (p, q):
            g = self.node.get(API + "/participants/" + x["id"]).json()
            self.assertEqual(g["status"]["followup_quarter"], 1)
            self.assertFalse(g["status"]["followup_form_done"])
        F = API + "/participants/%s/followup-form" % q["id"]
        r = self.node.post(F, {"form_date": TODAY, "fields": {"contact_method": "Phone"}})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(len(r.json()["errors"]), len(self.fields("followup")) - 1)
        self.bad(self.node.post(F, {"form_date": days_ago(TODAY, 31), "fields": self.fields("followup")}),
                 "form_date")
        r = self.node.post(F, {"form_date": TODAY, "fields": self.fields("followup", contact_method="Phone")})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["quarter"], 1)
        g = self.node.get(API + "/participants/" + q["id"]).json()
        self.assertTrue(g["status"]["followup_form_done"])
        # Declined, with its date: the follow-up clocks end.
        D = API + "/participants/%s/followup-declined" % p["id"]
        self.bad(self.node.post(D, {"form_date": TODAY, "fields": {}}), "fields.how_declined")
        r = self.node.post(D, {"form_date": TODAY, "fields": {"how_declined": "Told us by phone"}})
        self.assertEqual(r.status, 201, r.body)
        self.bad(self.node.post(D, {"form_date": TODAY, "fields": {"how_declined": "again"}}), "id", 409)
        g = self.node.get(API + "/participants/" + p["id"]).json()
        self.assertEqual(g["status"]["followup_declined_date"], TODAY)
        self.assertEqual(g["status"]["followup_quarter"], 0)
        # Seven months later (the injected clock): the other case missed two
        # quarters; the declined one none.
        pin_clock(self.clock, (datetime.date.fromisoformat(TODAY) + datetime.timedelta(days=210)).isoformat())
        try:
            import time
            time.sleep(0.5)
            gp = self.node.get(API + "/participants/" + p["id"]).json()["status"]
            gq = self.node.get(API + "/participants/" + q["id"]).json()["status"]
            self.assertEqual(gq["followup_overdue_quarters"], 2)  # no F-code in Q1 or Q2
            self.assertEqual(gq["followup_forms_missing"], 1)
            self.assertEqual(gp["followup_overdue_quarters"], 0)
            self.assertEqual(gp["followup_forms_missing"], 0)
            c = self.node.get(API + "/compliance").json()
            over = [(x["participant_id"], x["kind"]) for x in c["overdue"]]
            self.assertIn((q["id"], "follow_up"), over)
            self.assertNotIn(p["id"], [x for x, _ in over])
            self.assertNotIn(p["id"], [x["participant_id"] for x in c["due_this_week"]])
        finally:
            pin_clock(self.clock, TODAY)
            time.sleep(0.5)


# ---- approvals with a hub ----------------------------------------------------------

PASSWORD = "Case.Rules42"
LA = "demo-la"


def hub_account(hub, username, group, office="demo-office"):
    """A staff account written at the hub (hub-owned, replicated down), with a
    known password: node logins on an enrolled node are real."""
    import hashlib
    import uuid
    sid = str(uuid.uuid4())
    salt = os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, 1000, 32)
    stored = "pbkdf2-sha256$%d$%s$%s" % (1000, salt.hex(), dk.hex())
    db = hub.db()
    try:
        db.execute("INSERT INTO staff(id, username, display_name, local_area_id, office_id,"
                   " privilege_group, active, updated_hlc) VALUES(?,?,?,?,?,?,1,?)",
                   (sid, username, username.title(), LA, office, group, "000000000002.0000.hub"))
        db.execute("INSERT INTO staff_credentials(id, local_area_id, password_hash, password_temp,"
                   " updated_hlc) VALUES(?,?,?,0,?)", (sid, LA, stored, "000000000002.0000.hub"))
        db.commit()
    finally:
        db.close()
    return sid


def wait_for(fn, timeout=90, what="condition"):
    return harness.wait_until(fn, timeout, 0.3, what)


def hub_write_unheard(hub, sql, *args):
    """One statement at the hub, the change-log rows it made removed: no
    office pulls it (as an office that has not heard of it yet)."""
    db = hub.db()
    db.isolation_level = None
    try:
        db.execute("BEGIN IMMEDIATE")
        top = db.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchone()[0]
        db.execute(sql, args)
        db.execute("DELETE FROM change_log WHERE seq > ?", (top,))
        db.execute("COMMIT")
    finally:
        db.close()


count = harness.db_value


class CaseApprovalsTest(CaseRulesBase, harness.HubAndOffices):
    """A hub and two offices of the demo Local Area; a case manager, a
    supervisor and four approvers, each signed in in their own session."""

    @classmethod
    def setUpClass(cls):
        env = {"OUTPOST_NODE_SYNC_INTERVAL": "1", "OUTPOST_NODE_DEMO": "no"}
        cls.start_hub()
        plant_secret(PASSWORD)
        cls.ids = {}
        for user, group in (("casemgr", "LWIA Partner Staff"), ("super", "LWIA Partner Supervisor"),
                            ("pmgr", "View Access"), ("wdbdir", "View Access"),
                            ("eddrev", "View Access"), ("wioa", "View Access"),
                            ("pmgr2", "View Access")):
            cls.ids[user] = hub_account(cls.hub, user, group)
        cls.enroll_offices((("a", "demo-office"), ("b", "demo-office-2")), env, "caserules-sync")
        for n in cls.nodes.values():
            wait_for(lambda n=n: count(n, "SELECT count(*) FROM staff_credentials c JOIN staff s ON"
                                          " s.id = c.id WHERE s.username='wioa'") == 1,
                     what="the accounts at " + n.name)
        # The approver roles, granted at the hub.
        for user, roles in (("pmgr", ["dss_program_manager"]), ("wdbdir", ["wdb_director"]),
                            ("eddrev", ["edd"]), ("wioa", ["dss_wioa"]),
                            ("pmgr2", ["dss_program_manager"])):
            r = cls.admin("PUT", "/api/v1/admin/case/approver-roles",
                          {"staff_id": cls.ids[user], "roles": roles})
            assert r.status == 200, r.body
        for n in cls.nodes.values():
            wait_for(lambda n=n: count(n, "SELECT count(*) FROM case_approver_roles WHERE active=1") == 5,
                     what="the approver roles at " + n.name)
        cls.s = {}
        for user, node in (("casemgr", "a"), ("super", "a"), ("pmgr", "a"), ("wdbdir", "b"),
                           ("eddrev", "a"), ("wioa", "b"), ("pmgr2", "a")):
            c = harness.client(cls.nodes[node])
            harness.login(c, user, PASSWORD)
            cls.s[user] = c

    def setUp(self):
        # the office's day, taken for each test (the class outlives a
        # midnight): every date a test makes and compares is of this one
        self.today = harness.office_day(self.s["casemgr"], span=60)

    @classmethod
    def admin(cls, method, path, body=None):
        return cls.hub.request(method, path, body=body,
                               headers={"Authorization": "Bearer " + cls.token})

    def registered(self, first, last, days):
        """A participant of office A registered `days` ago: the date moved at
        the hub, as a newer hub write, and replicated back to the offices
        (no entry may predate it)."""
        import time
        a = self.nodes["a"]
        p = self.register(first, last, node=self.s["casemgr"])
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM participants WHERE id=?", p["id"]) == 1,
                 what="the participant at the hub")
        reg = days_ago(self.today, days)
        db = self.hub.db()
        db.execute("UPDATE participants SET registered_date=?, updated_hlc=? WHERE id=?",
                   (reg, "%012x.0000.hub" % (int(time.time() * 1000) + 5), p["id"]))
        db.commit()
        db.close()
        wait_for(lambda: count(a, "SELECT registered_date FROM participants WHERE id=?", p["id"]) == reg,
                 what="the registration date at office A")
        return p

    def entered(self, first, last, days, code, start):
        """A participant registered `days` ago (registered) and an entry of
        code starting on start by the case manager, which must be taken
        (201): the participant and the entry's reply."""
        p = self.registered(first, last, days)
        r = self.activity(p["id"], code, start, node=self.s["casemgr"])
        self.assertEqual(r.status, 201, r.body)
        return p, r.json()

    def request_of(self, who, rid, state="pending"):
        r = self.s[who].get(API + "/approvals?state=all")
        self.assertEqual(r.status, 200, r.body)
        for q in r.json()["requests"]:
            if q["id"] == rid:
                return q
        return None

    def wait_request(self, who, rid):
        return wait_for(lambda: self.request_of(who, rid), what="the request at %s's office" % who)

    def decide(self, who, rid, decision="approved", **kw):
        b = {"decision": decision}
        b.update(kw)
        return self.s[who].post(API + "/approvals/%s/decision" % rid, b)

    def awaiting_pmgr(self, first, last, back):
        """A participant registered `back` days ago, its entry waiting for
        an approval, at office a, where pmgr's confirmation is noted (at the
        sign-in in setUpClass): (the request's id, the confirmation's
        sync_state key, its value)."""
        _, j = self.entered(first, last, 60, "102", days_ago(self.today, back))
        key = "verifier_ok:" + self.ids["pmgr"]
        ref = harness.db_value(self.nodes["a"], "SELECT value FROM sync_state WHERE key=?", key)
        self.assertTrue(ref)
        return j["approval"]["request_id"], key, ref

    def approved_at_hub(self, c, rid):
        """c, pmgr's session, approves request rid: taken at the office, then
        at the hub, nothing quarantined."""
        r = c.post(API + "/approvals/%s/decision" % rid, {"decision": "approved"})
        self.assertEqual(r.status, 201, r.body)
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM case_approval_decisions WHERE request_id=?",
                               rid) == 1, what="the decision at the hub")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM quarantine"), 0)

    def test_decision_waits_for_the_hub_to_hold_the_approvers_check(self):
        """A decision is signed with the approver's password; an office
        makes one only once the hub has said it holds that password's
        verifier (asked after an approver's sign-in while connected), so a
        decision is never kept at the office that the hub would refuse."""
        a = self.nodes["a"]
        rid, key, ref = self.awaiting_pmgr("Dora", "Esperando", 40)
        harness.db_write(a, "DELETE FROM sync_state WHERE key=?", key)
        r = self.decide("pmgr", rid)
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("has not yet confirmed", r.json()["error"])
        self.assertEqual(harness.db_value(a, "SELECT count(*) FROM case_approval_decisions WHERE"
                                             " request_id=?", rid), 0)
        # Signed in again while connected: confirmed, and the decision is taken.
        harness.login(self.s["pmgr"], "pmgr", PASSWORD)
        wait_for(lambda: harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=? AND value=?",
                                          key, ref) == 1,
                 timeout=30, what="the hub's confirmation")
        self.approved_at_hub(self.s["pmgr"], rid)

    def test_a_verifier_of_another_password_is_not_a_confirmation(self):
        """The hub holds the verifier of another password (changed at
        another office, not yet pulled here): it says so, and the office
        does not decide with a verifier the hub would refuse."""
        a = self.nodes["a"]
        rid, key, ref = self.awaiting_pmgr("Dario", "Distinto", 41)
        pm_id = self.ids["pmgr"]
        real = harness.db_value(self.hub, "SELECT verifier FROM staff_verifiers WHERE id=?", pm_id)
        other = "ab" * 32
        harness.db_write(self.hub, "UPDATE staff_verifiers SET verifier=? WHERE id=?", other, pm_id)
        try:
            harness.db_write(a, "DELETE FROM sync_state WHERE key=?", key)
            harness.login(self.s["pmgr"], "pmgr", PASSWORD)
            # The answer arrives after the sign-in.
            wait_for(lambda: "the hub holds another password of staff " + pm_id in a.read_log(),
                     timeout=30, what="the hub's answer")
            self.assertEqual(harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=?", key), 0)
            r = self.decide("pmgr", rid)
            self.assertEqual(r.status, 409, r.body)
            self.assertIn("sign out and in again", r.json()["error"])
            # Not asked again at every sync cycle (sync_interval 1): only a
            # new sign-in asks.
            told = a.read_log().count("the hub holds another password of staff " + pm_id)
            time.sleep(4)
            self.assertEqual(a.read_log().count("the hub holds another password of staff " + pm_id), told)
            self.assertEqual(self.decide("pmgr", rid).status, 409)
        finally:
            harness.db_write(self.hub, "UPDATE staff_verifiers SET verifier=? WHERE id=?", real, pm_id)
        # The hub holds this password's again: confirmed, the decision is taken.
        harness.login(self.s["pmgr"], "pmgr", PASSWORD)
        wait_for(lambda: harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=? AND value=?",
                                          key, ref) == 1,
                 timeout=30, what="the hub's confirmation")
        r = self.decide("pmgr", rid)
        self.assertEqual(r.status, 201, r.body)

    def test_an_approver_decides_after_changing_their_password(self):
        """A change made at the office gives the hub the new verifier (the
        change is signed with the current one): the office takes the hub's
        word for either, whichever it holds when asked, and the decision
        signed with the new password is taken at the hub."""
        a = self.nodes["a"]
        _, j = self.entered("Celia", "Cambiada", 60, "102", days_ago(self.today, 42))
        rid = j["approval"]["request_id"]
        sid = self.ids["pmgr2"]
        key = "verifier_ok:" + sid
        wait_for(lambda: harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=?", key) == 1,
                 timeout=30, what="the confirmation at the sign-in")
        old = harness.db_value(a, "SELECT value FROM sync_state WHERE key=?", key)
        r = self.s["pmgr2"].post("/api/v1/session/password",
                                 {"current_password": PASSWORD, "new_password": "Cambio.Nuevo.26"})
        self.assertEqual(r.status, 200, r.body)
        wait_for(lambda: harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=? AND value<>?",
                                          key, old) == 1,
                 timeout=30, what="the confirmation after the change")
        r = self.decide("pmgr2", rid)
        self.assertEqual(r.status, 201, r.body)
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM case_approval_decisions WHERE request_id=?",
                               rid) == 1, what="the decision at the hub")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM quarantine"), 0)

    def signed_in_while_the_hub_is_down(self, rid, at_the_hub=None):
        """pmgr signs in at office A, in a session of its own, while the hub
        is stopped and with no confirmation noted there, so the sign-in's
        question fails; a decision of request rid is refused meanwhile,
        saying the office is checking with the hub.  at_the_hub (when
        given) runs while the hub is still stopped, then the hub starts.
        The session's client."""
        a = self.nodes["a"]
        pm_id = self.ids["pmgr"]
        asked = "the hub could not be asked whether it holds the verifier of staff " + pm_id
        failed_before = a.read_log().count(asked)
        c = harness.client(a)
        self.hub.stop()
        try:
            harness.db_write(a, "DELETE FROM sync_state WHERE key=?", "verifier_ok:" + pm_id)
            harness.login(c, "pmgr", PASSWORD)
            wait_for(lambda: a.read_log().count(asked) > failed_before, timeout=30,
                     what="the sign-in's question to the hub failing")
            r = c.post(API + "/approvals/%s/decision" % rid, {"decision": "approved"})
            self.assertEqual(r.status, 409, r.body)
            self.assertIn("has not yet confirmed", r.json()["error"])
            self.assertIn("checking with the hub", r.json()["error"])
            self.assertTrue(r.json()["error"].endswith("try again in a moment"), r.json()["error"])
            self.assertNotIn("sign out", r.json()["error"])
            self.assertEqual(harness.db_value(a, "SELECT count(*) FROM case_approval_decisions WHERE"
                                                 " request_id=?", rid), 0)
            if at_the_hub:
                at_the_hub()
        finally:
            self.hub.start()
        return c

    def refused_and_not_asked_again(self, c, rid, asked):
        """The decision of request rid in c's session asks to sign out and
        in again, and the office does not ask the hub again over the
        following sync cycles (sync_interval 1): the lines of office A's
        log that say it asked (asked) stay as many."""
        a = self.nodes["a"]
        r = c.post(API + "/approvals/%s/decision" % rid, {"decision": "approved"})
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("sign out and in again while this office is connected", r.json()["error"])
        told = a.read_log().count(asked)
        time.sleep(4)
        self.assertEqual(a.read_log().count(asked), told)
        self.assertEqual(c.post(API + "/approvals/%s/decision" % rid, {"decision": "approved"}).status, 409)
        self.assertEqual(harness.db_value(a, "SELECT count(*) FROM case_approval_decisions WHERE"
                                             " request_id=?", rid), 0)

    def test_an_approver_signed_in_while_the_hub_is_down_decides_once_it_is_back(self):
        """The office is cut off from the hub when the approver signs in
        (a first sign-in here: no confirmation noted), so the sign-in's
        question fails.  The decision is refused meanwhile, saying it is
        being checked; once the hub is back, the office asks again after a
        sync cycle, with the verifier alone, and the decision is taken in
        the same session, without a new sign-in.  The password is in no
        log."""
        a = self.nodes["a"]
        rid, key, ref = self.awaiting_pmgr("Olga", "Desconectada", 43)
        c = self.signed_in_while_the_hub_is_down(rid)
        # Back: confirmed after a sync cycle, and the same session decides.
        wait_for(lambda: harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=? AND value=?",
                                          key, ref) == 1,
                 timeout=60, what="the hub's confirmation after the hub came back")
        self.approved_at_hub(c, rid)
        self.assertNotIn(PASSWORD, a.read_log())
        self.assertNotIn(PASSWORD, self.hub.read_log())

    def test_a_hub_holding_no_verifier_when_asked_again_gets_it_at_the_next_sign_in(self):
        """The sign-in's question failed (the hub down), and when the office
        asks again after the hub is back, with the verifier alone, the hub
        holds none (as for an account whose password predates the hub's
        verifiers; here its row removed while the hub was down): only a
        password gives it, so the office does not ask again at every sync
        cycle and the decision asks to sign in again.  That sign-in gives
        the hub the verifier, and the decision is taken."""
        a = self.nodes["a"]
        rid, key, ref = self.awaiting_pmgr("Nora", "Sinverificador", 44)
        pm_id = self.ids["pmgr"]
        real = harness.rows(self.hub, "SELECT verifier, set_at FROM staff_verifiers WHERE id=?", pm_id)
        self.assertEqual(len(real), 1)
        missing = "the hub holds no password verifier of staff " + pm_id
        before = a.read_log().count(missing)
        try:
            c = self.signed_in_while_the_hub_is_down(
                rid, lambda: harness.db_write(self.hub, "DELETE FROM staff_verifiers WHERE id=?", pm_id))
            wait_for(lambda: a.read_log().count(missing) > before, timeout=60,
                     what="the hub's answer to the question asked again")
            self.refused_and_not_asked_again(c, rid, missing)
            self.assertEqual(count(self.hub, "SELECT count(*) FROM staff_verifiers WHERE id=?", pm_id), 0)
            self.assertEqual(harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=?", key), 0)
            # The next sign-in, with the password, gives the hub the verifier.
            harness.login(c, "pmgr", PASSWORD)
            wait_for(lambda: harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=? AND value=?",
                                              key, ref) == 1,
                     timeout=30, what="the hub's confirmation after the new sign-in")
            self.assertEqual(count(self.hub, "SELECT verifier FROM staff_verifiers WHERE id=?", pm_id),
                             real[0][0])
        finally:
            if count(self.hub, "SELECT count(*) FROM staff_verifiers WHERE id=?", pm_id) == 0:
                harness.db_write(self.hub, "INSERT INTO staff_verifiers(id, verifier, set_at) VALUES(?,?,?)",
                                 pm_id, *real[0])
        self.approved_at_hub(c, rid)
        self.assertNotIn(PASSWORD, a.read_log())
        self.assertNotIn(PASSWORD, self.hub.read_log())

    def test_an_account_the_hub_refuses_to_answer_for_is_not_asked_again(self):
        """The sign-in's question failed (the hub down), and meanwhile the
        account was deactivated at the hub, which office A has not heard
        yet (it still lets the approver sign in).  Asked again after the
        hub is back, the hub refuses to answer for the account (409: not
        one an office speaks for): a definite answer, so the office does
        not ask again at every sync cycle and the decision asks to sign in
        again.  A sign-in while the hub still refuses gets the same answer,
        and is not asked again either.  Active again at the hub, the next
        sign-in is confirmed and the decision taken."""
        a = self.nodes["a"]
        rid, key, ref = self.awaiting_pmgr("Rita", "Rechazada", 46)
        pm_id = self.ids["pmgr"]
        # whatever the office makes of it, each answer is a line of its log
        refused = "verifier of staff %s (HTTP 409" % pm_id
        before = a.read_log().count(refused)
        try:
            c = self.signed_in_while_the_hub_is_down(
                rid, lambda: hub_write_unheard(self.hub, "UPDATE staff SET active=0 WHERE id=?", pm_id))
            wait_for(lambda: a.read_log().count(refused) > before, timeout=60,
                     what="the hub's refusal of the question asked again")
            self.assertEqual(count(a, "SELECT active FROM staff WHERE id=?", pm_id), 1)
            self.refused_and_not_asked_again(c, rid, refused)
            # A sign-in's question (with the password) refused too: final as well.
            before = a.read_log().count(refused)
            harness.login(c, "pmgr", PASSWORD)
            wait_for(lambda: a.read_log().count(refused) > before, timeout=30,
                     what="the hub's refusal of the sign-in's question")
            self.refused_and_not_asked_again(c, rid, refused)
            self.assertEqual(harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=?", key), 0)
        finally:
            hub_write_unheard(self.hub, "UPDATE staff SET active=1 WHERE id=?", pm_id)
        harness.login(c, "pmgr", PASSWORD)
        wait_for(lambda: harness.db_value(a, "SELECT count(*) FROM sync_state WHERE key=? AND value=?",
                                          key, ref) == 1,
                 timeout=30, what="the hub's confirmation once the account is active again")
        self.approved_at_hub(c, rid)

    def test_backdate_pending_until_three_approvers(self):
        cm = self.s["casemgr"]
        start = days_ago(self.today, 45)
        p, j = self.entered("Benita", "Retroactiva", 60, "102", start)
        rid = j["approval"]["request_id"]
        self.assertEqual(j["approval"]["state"], "pending")
        self.assertEqual(j["approval"]["waiting_for"], ["DSS Program Manager", "WDB Director", "EDD"])
        # Pending: it does not count for the exit clock, and its author sees it.
        st = cm.get(API + "/participants/" + p["id"]).json()["status"]
        self.assertIsNone(st["last_service_date"])
        q = self.request_of("casemgr", rid)
        self.assertEqual((q["entry_id"], q["entry_date"], q["state"]), (j["activity"]["id"], start, "pending"))
        self.assertEqual(q["can_decide"], [])
        # The author never decides; typed-in approvals are refused.
        self.bad(self.decide("casemgr", rid), "id", 403)
        self.bad(self.activity(p["id"], "102", start, node=cm, approval_id=rid), "approval_id")
        # Every field error at once.
        r = self.decide("pmgr", rid, "maybe", role="boss")
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]), ["decision", "role"])
        # The Program Manager at office A.
        r = self.decide("pmgr", rid)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["waiting_for"], ["WDB Director", "EDD"])
        self.assertEqual(r.json()["state"], "pending")
        self.bad(self.decide("pmgr", rid), "role")   # used once: nothing left to decide
        # The WDB Director at office B, once the request got there.
        self.wait_request("wdbdir", rid)
        r = self.decide("wdbdir", rid)
        self.assertEqual(r.status, 201, r.body)
        # Still pending at A until EDD; EDD at A sees the Director's decision.
        wait_for(lambda: len(self.request_of("eddrev", rid)["decisions"]) == 2,
                 what="office B's decision at office A")
        st = cm.get(API + "/participants/" + p["id"]).json()["status"]
        self.assertIsNone(st["last_service_date"])
        r = self.decide("eddrev", rid)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["state"], "approved")
        self.assertEqual(sorted(d["role"] for d in r.json()["decisions"]),
                         ["dss_program_manager", "edd", "wdb_director"])
        # Three different accounts; now it counts.
        st = cm.get(API + "/participants/" + p["id"]).json()["status"]
        self.assertEqual(st["last_service_date"], start)
        t = cm.get(API + "/participants/%s/timeline" % p["id"]).json()
        self.assertEqual(t["activities"][0]["approval_state"], "approved")
        # Used once: the Director's role has decided (400 role; 409 once
        # office B has the last approval too).
        self.assertIn(self.decide("wdbdir", rid).status, (400, 409))
        wait_for(lambda: count(self.hub, "SELECT count(DISTINCT staff_id) FROM case_approval_decisions"
                                         " WHERE request_id=? AND decision='approved'", rid) == 3,
                 what="the three approvals at the hub")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participant_activities WHERE approval_id=?",
                               rid), 1)
        # The approved request cannot be used for another entry.
        self.bad(self.activity(p["id"], "115", days_ago(self.today, 40), node=cm, approval_id=rid),
                 "approval_id")
        # The hub took every row (nothing quarantined).
        self.assertEqual(count(self.hub, "SELECT count(*) FROM quarantine"), 0)

    def test_refusal_and_offline_request(self):
        cm = self.s["casemgr"]
        p, j = self.entered("Ramiro", "Rechazado", 80, "102", days_ago(self.today, 70))
        rid = j["approval"]["request_id"]
        self.bad(self.decide("eddrev", rid, "refused"), "comment")
        r = self.decide("eddrev", rid, "refused", comment="No documentation of the visit.")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["state"], "refused")
        self.bad(self.decide("pmgr", rid), "id", 409)
        st = cm.get(API + "/participants/" + p["id"]).json()["status"]
        self.assertIsNone(st["last_service_date"])
        # Offline: the request waits in the outbox and goes out with the next push.
        self.hub.stop()
        try:
            r = self.activity(p["id"], "115", days_ago(self.today, 50), node=cm)
            self.assertEqual(r.status, 201, r.body)
            rid2 = r.json()["approval"]["request_id"]
            self.assertEqual(count(self.hub, "SELECT count(*) FROM case_approval_requests WHERE id=?", rid2), 0)
            self.assertIsNotNone(self.request_of("pmgr", rid2))  # approvers at this office see it
        finally:
            self.hub.start()
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM case_approval_requests WHERE id=?", rid2) == 1,
                 what="the offline request at the hub")
        self.wait_request("wdbdir", rid2)

    def test_help_request_void_pending_until_approved(self):
        cm, sup = self.s["casemgr"], self.s["super"]
        p, j = self.entered("Valentin", "Anulado", 20, "102", days_ago(self.today, 10))
        act = j["activity"]
        before = cm.get(API + "/participants/" + p["id"]).json()["status"]
        self.assertEqual(before["last_service_date"], act["start_date"])
        # Staff cannot change entered data; a supervisor raises a Help Request.
        self.bad(cm.post(API + "/activities/%s/amend" % act["id"], {"void": True, "reason": "dup"}),
                 "id", 403)
        r = sup.post(API + "/activities/%s/amend" % act["id"],
                     {"void": True, "reason": "Entered twice by mistake."})
        self.assertEqual(r.status, 201, r.body)
        new = r.json()
        rid = new["approval"]["request_id"]
        self.assertEqual(new["approval"]["waiting_for"], ["DSS WIOA staff"])
        # The original stands: same soft-exit date, shown on the timeline.
        st = cm.get(API + "/participants/" + p["id"]).json()["status"]
        self.assertEqual(st["soft_exit_date"], before["soft_exit_date"])
        t = cm.get(API + "/participants/%s/timeline" % p["id"]).json()
        self.assertEqual([a["id"] for a in t["activities"]], [act["id"]])
        self.assertEqual(t["activities"][0]["pending_change"]["id"], new["id"])
        # Backdating approvers do not decide a Help Request.
        self.bad(self.decide("pmgr", rid), "role")
        # DSS WIOA staff at office B approve it.
        q = self.wait_request("wioa", rid)
        self.assertEqual(q["kind"], "change")
        self.assertIn("void", q["change_summary"])
        self.assertEqual(q["reason"], "Entered twice by mistake.")
        r = self.decide("wioa", rid, comment="Duplicate confirmed.")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["state"], "approved")
        # At office A the void takes effect once the decision arrives; both
        # rows stay (the audit trail shows the original and the change).
        wait_for(lambda: cm.get(API + "/participants/" + p["id"]).json()["status"]["last_service_date"] is None,
                 what="the approved void at office A")
        self.assertEqual(count(self.nodes["a"], "SELECT count(*) FROM participant_activities WHERE"
                                                " id IN (?, ?)", act["id"], new["id"]), 2)
        t = cm.get(API + "/participants/%s/timeline" % p["id"]).json()
        self.assertEqual(t["activities"], [])

    def console(self, user, expect=200):
        from test_accounts import Console
        c = Console(self.hub)
        r = c.login(user, PASSWORD)
        self.assertEqual(r.status, expect, r.body)
        return c

    def console_request(self, c, rid, state="all"):
        r = c.get("/api/v1/admin/case/approvals?state=" + state)
        self.assertEqual(r.status, 200, r.body)
        return next((q for q in r.json()["requests"] if q["id"] == rid), None)

    def test_approvers_decide_at_the_hub_console(self):
        cm = self.s["casemgr"]
        start = days_ago(self.today, 45)
        p, j = self.entered("Consuelo", "Consola", 60, "102", start)
        rid = j["approval"]["request_id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM case_approval_requests WHERE id=?", rid) == 1,
                 what="the request at the hub")
        # Staff without an approver or administrator role: no console.
        self.console("casemgr", 401)
        pm = self.console("pmgr")
        # The administrators' screens refuse an approver's session.
        for path in ("/api/v1/admin/case/approver-roles", "/api/v1/admin/audit", "/api/v1/nodes",
                     "/api/v1/admin/staff", "/api/v1/admin/reports/greeter",
                     "/api/v1/admin/reports/greeter?format=csv",
                     "/api/v1/admin/reports/greeter-missing", "/api/v1/admin/code-lists",
                     "/api/v1/admin/code-lists/activity"):
            self.assertEqual(pm.get(path).status, 403, path)
        self.assertEqual(pm.request("PUT", "/api/v1/admin/case/approver-roles",
                                    {"staff_id": self.ids["pmgr"], "roles": ["edd"]}).status, 403)
        self.assertEqual(pm.get("/api/v1/admin/session").status, 200)
        # Only the requests addressed to it: the Program Manager sees the
        # backdate; DSS WIOA staff do not (and cannot decide it).
        r = pm.get("/api/v1/admin/case/approvals")
        self.assertEqual(r.json()["my_roles"], ["dss_program_manager"])
        q = self.console_request(pm, rid, "pending")
        self.assertEqual((q["entry_date"], q["can_decide"]), (start, ["dss_program_manager"]))
        self.assertTrue(q["entry_summary"].startswith("102 "), q)
        self.assertEqual(q["participant_name"], "Consuelo Consola")
        wi = self.console("wioa")
        self.assertIsNone(self.console_request(wi, rid))
        self.bad(wi.post("/api/v1/admin/case/approvals/%s/decision" % rid, {"decision": "approved"}), "id", 404)
        # Every field error at once; a refusal needs its reason.
        r = pm.post("/api/v1/admin/case/approvals/%s/decision" % rid, {"decision": "maybe", "role": "edd"})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]), ["decision", "role"])
        self.bad(pm.post("/api/v1/admin/case/approvals/%s/decision" % rid, {"decision": "refused"}), "comment")
        # Without the CSRF token: refused.
        self.assertEqual(pm.post("/api/v1/admin/case/approvals/%s/decision" % rid, {"decision": "approved"},
                                 csrf=False).status, 403)
        r = pm.post("/api/v1/admin/case/approvals/%s/decision" % rid, {"decision": "approved"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["waiting_for"], ["WDB Director", "EDD"])
        self.assertEqual(r.json()["decisions"][0]["office_id"], "hub")
        # Audited at the hub, with the decision, in its transaction.
        self.assertEqual(count(self.hub, "SELECT count(*) FROM hub_audit_events WHERE"
                                         " action='case.request_approved' AND subject=? AND actor='pmgr'", rid), 1)
        # Once: the role has decided.
        self.bad(pm.post("/api/v1/admin/case/approvals/%s/decision" % rid, {"decision": "approved"}), "role")
        # Replicated to the offices as an office's decision is: the
        # Director at office B sees it, and decides there.
        wait_for(lambda: len((self.request_of("wdbdir", rid) or {}).get("decisions", [])) == 1,
                 what="the console's decision at office B")
        self.assertEqual(self.decide("wdbdir", rid).status, 201)
        wait_for(lambda: len(self.console_request(pm, rid)["decisions"]) == 2,
                 what="office B's decision at the hub")
        ed = self.console("eddrev")
        r = ed.post("/api/v1/admin/case/approvals/%s/decision" % rid, {"decision": "approved", "comment": "ok"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["state"], "approved")
        self.assertIsNone(self.console_request(ed, rid, "pending"))
        wait_for(lambda: cm.get(API + "/participants/" + p["id"]).json()["status"]["last_service_date"] == start,
                 what="the approved entry counting at office A")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM quarantine"), 0)

    def test_note_amendment_waits_for_its_help_request(self):
        cm, sup = self.s["casemgr"], self.s["super"]
        p, j = self.entered("Nora", "Enmendada", 20, "115", days_ago(self.today, 3))
        note = j["note"]
        N = API + "/notes/%s/amend" % note["id"]
        text = "Helped with the resume and a cover letter."
        plant_secret(text)
        # As for an activity: staff cannot change entered data.
        self.bad(cm.post(N, {"body": text, "reason": "Forgot the cover letter."}), "id", 403)
        r = sup.post(N, {"body": text, "reason": "Forgot the cover letter."})
        self.assertEqual(r.status, 201, r.body)
        am = r.json()
        rid = am["approval"]["request_id"]
        self.assertEqual(am["amends_id"], note["id"])
        self.bad(sup.post(N, {"body": text, "reason": "again"}), "id", 409)
        def amendment():
            t = cm.get(API + "/participants/%s/timeline" % p["id"]).json()
            return t["activities"][0]["notes"][0]["amendments"][0]
        self.assertEqual(amendment()["change_state"], "pending")
        # Backdating approvers do not decide it; DSS WIOA staff, at the hub
        # console, do.
        self.bad(self.decide("pmgr", rid), "role")
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM case_approval_requests WHERE id=?", rid) == 1,
                 what="the Help Request at the hub")
        wi = self.console("wioa")
        q = self.console_request(wi, rid, "pending")
        self.assertEqual((q["kind"], q["entry_table"], q["entry_id"]), ("change", "case_notes", note["id"]))
        self.assertEqual(q["reason"], "Forgot the cover letter.")
        self.assertIn("amend the case note", q["change_summary"])
        r = wi.post("/api/v1/admin/case/approvals/%s/decision" % rid, {"decision": "approved"})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["state"], "approved")
        wait_for(lambda: amendment()["change_state"] == "approved", what="the approval at office A")
        # The original never changed; both are kept.
        self.assertEqual(count(self.nodes["a"], "SELECT body FROM case_notes WHERE id=?", note["id"]),
                         "Met in person and reviewed the plan.")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM quarantine"), 0)

    def test_skill_gain_replicates_and_is_checked_at_the_hub(self):
        cm = self.s["casemgr"]
        p = self.registered("Gaspar", "Ganancia", 20)
        gain = {"gain_type": "Training milestone", "program": "Welding certificate",
                "achievement": "Completed the first 120 hours", "documentation": "Instructor's progress report"}
        r = cm.post(API + "/participants/%s/skill-gains" % p["id"], {"form_date": days_ago(self.today, 2),
                                                                     "fields": gain})
        self.assertEqual(r.status, 201, r.body)
        gid = r.json()["id"]
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM case_forms WHERE id=? AND kind='skill_gain'",
                               gid) == 1, what="the skill gain at the hub")
        wait_for(lambda: count(self.nodes["b"], "SELECT count(*) FROM case_forms WHERE id=?", gid) == 1,
                 what="the skill gain at office B")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM quarantine"), 0)


class ApproverStandingTest(CaseRulesBase, test_accounts.Base):
    """An approver's decision made at an office that has not yet heard of the
    approver's suspension, deactivation or role's removal at the hub (the
    office replicates only by hand here: sync_interval 0).  Made before, it
    is taken, as any offline work; made from that moment on, it is
    quarantined with the cause, and a reinstatement (or the role granted
    again) in between does not make it good.  One office; each cause has
    its own approver."""
    APPROVERS = ("apsusp", "aprecert", "apdeact", "aprole", "apregrant")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()   # the hub, with operations signed in
        plant_secret(PASSWORD)
        cls.ids = {u: hub_account(cls.hub, u, g) for u, g in
                   (("casemgr", "LWIA Partner Staff"),) + tuple((a, "View Access") for a in cls.APPROVERS)}
        for user in cls.APPROVERS:
            r = cls.hub.request("PUT", "/api/v1/admin/case/approver-roles",
                                body={"staff_id": cls.ids[user], "roles": ["dss_program_manager"]},
                                headers={"Authorization": "Bearer " + cls.token})
            assert r.status == 200, r.body
        cls.node = harness.enrolled_node(cls.hub, "demo-office", {"OUTPOST_NODE_SYNC_INTERVAL": "0",
                                                                  "OUTPOST_NODE_DEMO": "no"},
                                         "standing-sync")
        cls.sync("pull")
        cls.s = {}
        for user in ("casemgr",) + cls.APPROVERS:
            cls.s[user] = harness.client(cls.node)
            harness.login(cls.s[user], user, PASSWORD)
        # each approver's verifier confirmed by the hub at the sign-in
        for user in cls.APPROVERS:
            wait_for(lambda u=user: count(cls.node, "SELECT count(*) FROM sync_state WHERE key=?",
                                          "verifier_ok:" + cls.ids[u]) == 1,
                     timeout=30, what="the hub's confirmation of " + user)

    def setUp(self):
        # the office's day, taken for each test (the class outlives a midnight)
        self.today = harness.office_day(self.s["casemgr"], span=60)

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        super().tearDownClass()

    @classmethod
    def sync(cls, cmd):
        harness.sync_json(cls.node, cmd)

    def backdate_request(self, first, last):
        """A participant registered 60 days ago and an entry 40 days back:
        its backdate request's id, at the hub."""
        p = self.register(first, last, node=self.s["casemgr"])
        self.sync("push")
        harness.db_write(self.hub, "UPDATE participants SET registered_date=?, updated_hlc=? WHERE id=?",
                         days_ago(self.today, 60), "%012x.0000.hub" % (int(time.time() * 1000) + 5),
                         p["id"])
        self.sync("pull")
        r = self.activity(p["id"], "102", days_ago(self.today, 40), node=self.s["casemgr"])
        self.assertEqual(r.status, 201, r.body)
        self.sync("push")
        rid = r.json()["approval"]["request_id"]
        self.assertEqual(count(self.hub, "SELECT count(*) FROM case_approval_requests WHERE id=?", rid), 1)
        return rid

    def decided_across(self, user, cause, reinstate=None):
        """user decides one request, then cause(staff id) happens at the hub
        (and reinstate, when given, after the second decision), then user
        decides another at the office, which has pulled nothing since; one
        push: the hub's quarantine reason of the second."""
        sid = self.ids[user]
        before, after = self.backdate_request(user.title(), "Antes"), self.backdate_request(user.title(), "Despues")
        r = self.s[user].post(API + "/approvals/%s/decision" % before, {"decision": "approved"})
        self.assertEqual(r.status, 201, r.body)
        time.sleep(0.05)
        cause(sid)
        time.sleep(0.05)
        r = self.s[user].post(API + "/approvals/%s/decision" % after, {"decision": "approved"})
        self.assertEqual(r.status, 201, r.body)   # the office has not heard
        if reinstate:
            reinstate(sid)
        held = count(self.hub, "SELECT count(*) FROM quarantine")
        self.sync("push")
        decided = "SELECT count(*) FROM case_approval_decisions WHERE request_id=? AND staff_id=?"
        self.assertEqual(count(self.hub, decided, before, sid), 1)
        self.assertEqual(count(self.hub, decided, after, sid), 0)
        reasons = [x for (x,) in harness.rows(self.hub, "SELECT reason FROM quarantine ORDER BY created_at")]
        self.assertEqual(len(reasons), held + 1, reasons)
        return reasons[-1]

    def test_suspended_by_operations(self):
        def suspend(sid):
            r = self.ops.post("/api/v1/admin/staff/%s/suspend" % sid, {"reason": "security review"})
            self.assertEqual(r.status, 200, r)

        def reactivate(sid):
            r = self.ops.post("/api/v1/admin/staff/%s/reactivate" % sid)
            self.assertEqual(r.status, 200, r)
        why = self.decided_across("apsusp", suspend, reactivate)
        self.assertIn("the approver's account was suspended at the hub before this decision", why)

    def test_suspended_by_the_recertification_rule(self):
        def overdue(sid):
            # documents dated more than a year and the grace back: the
            # rule's sweep (it runs at the hub's start) suspends
            harness.db_write(self.hub, "INSERT INTO staff_records(id, ispa_date, conf_date, conf_type)"
                                       " VALUES(?1, ?2, ?2, 'E-1')", sid, days_ago(self.today, 400))
            self.hub.stop()
            self.hub.start()
            self.assertEqual(harness.rows(self.hub, "SELECT suspended, suspend_reason FROM staff WHERE id=?",
                                          sid), [(1, "recertification overdue")])
        why = self.decided_across("aprecert", overdue)
        self.assertIn("suspended (recertification overdue) at the hub before this decision", why)

    def test_deactivated(self):
        def deactivate(sid):
            rd = self.request(self.ops, {"kind": "deactivate", "staff_id": sid, "requestor_name": "Director",
                                         "separation_date": self.today})
            r = self.ops.post("/api/v1/admin/staff/%s/deactivate" % sid, {"request_id": rd})
            self.assertEqual(r.status, 200, r)
        why = self.decided_across("apdeact", deactivate)
        self.assertIn("deactivated (separated) at the hub before this decision", why)

    def roles(self, sid, roles):
        r = self.hub.request("PUT", "/api/v1/admin/case/approver-roles",
                             body={"staff_id": sid, "roles": roles},
                             headers={"Authorization": "Bearer " + self.token})
        self.assertEqual(r.status, 200, r.body)

    def test_role_removed(self):
        # the role judged as the hub's trail had it at the decision, not at
        # the push: held then (removed now), the first is taken
        why = self.decided_across("aprole", lambda sid: self.roles(sid, []))
        self.assertIn("the approver's role dss_program_manager in this Local Area was removed at the"
                      " hub before this decision was made", why)

    def test_role_granted_again_after_the_decision(self):
        why = self.decided_across("apregrant", lambda sid: self.roles(sid, []),
                                  lambda sid: self.roles(sid, ["dss_program_manager"]))
        self.assertIn("the approver's role dss_program_manager in this Local Area was removed", why)
        self.assertEqual(count(self.hub, "SELECT count(*) FROM case_approver_roles WHERE id=? AND active=1",
                               self.ids["apregrant"] + ":dss_program_manager"), 1)


if __name__ == "__main__":
    unittest.main()
