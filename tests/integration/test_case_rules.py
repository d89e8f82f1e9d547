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
import unittest

import harness
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
        db = (node or self.node).db()
        try:
            cur = db.execute(sql, args)
            db.commit()
            return cur.fetchall()
        finally:
            db.close()

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

    def test_holiday_not_counted(self):
        # Wednesday before Thanksgiving: the 5 business days skip Thursday
        # and Friday (both state holidays) and the weekend -> 2026-12-04.
        p = self.register("Gracia", "Feriado", registered=days_ago(TODAY, 20))
        r = self.activity(p["id"], "115", "2026-11-25")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["entry_deadline"], "2026-12-04")
        self.assertTrue(r.json()["timely"])

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


if __name__ == "__main__":
    unittest.main()
