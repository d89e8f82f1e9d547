"""Corrections of case work that the hub once quarantined after the office
had answered 201 (a review of the case-management rules found each):

  * a supervisor's correction of an activity that started more than 30
    days ago, with its note: the note is dated at the activity's start,
    and the hub judged it as a late entry;
  * an amendment of an activity note after the code list retitled its code:
    the amendment keeps its original's subject, the hub compared it with
    today's title;
  * an activity whose code was retired since: the office could not correct
    or void it at all.

Its own hub and nodes (TrustTest's set-up: the real node and the "evil"
node that pushes rows as an office wrote them earlier), because the tests
change the shared code lists."""
import datetime
import os
import time
import unittest

import harness
from harness import plant_secret
from test_sync_node import count, wait_for
from test_trust import TrustTest, opened

DAY_MS = 86400 * 1000


def day(n):
    return (datetime.date.today() - datetime.timedelta(days=n)).isoformat()


class CaseCorrectionsTest(TrustTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        TrustTest.seq = 0  # (push() counts on TrustTest: the evil node's entries)

    def quarantined_since(self, since):
        with opened(self.hub) as d:
            return [tuple(r) for r in d.execute(
                "SELECT node_id, tbl, reason FROM quarantine WHERE created_at >= ? ORDER BY created_at",
                (since,))]

    def supervisor(self):
        """A LWIA Partner Supervisor signed in at the real node: its client."""
        name = self.uniq("sup")
        st, temp = self.create(self.ops, name, la="demo-la", group="LWIA Partner Supervisor")
        wait_for(lambda: count(self.node, "SELECT count(*) FROM staff WHERE id=?", st["id"]) == 1,
                 timeout=60, what="the supervisor at the node")
        c = harness.client(self.node)
        harness.login(c, name, temp)
        new = "Sup.%s9x" % name[-4:]
        plant_secret(new)
        r = c.post("/api/v1/session/password", {"current_password": temp, "new_password": new})
        self.assertEqual(r.status, 200, r)
        c = harness.client(self.node)
        harness.login(c, name, new)
        return c

    def original(self, pid, start_back, entered_back):
        """An activity and its note as the office made them entered_back
        days ago (pushed as that office's other node)."""
        ms = int(time.time() * 1000) - entered_back * DAY_MS
        title = count(self.hub, "SELECT title FROM participant_activity_codes WHERE code='102'")
        act, cs = self.case_row("participant_activities", participant_id=pid, code="102",
                                code_list="activity", start_date=day(start_back),
                                backdate_days=start_back - entered_back, voided=0,
                                entered_date=day(entered_back), entered_at=ms)
        _, ncs = self.case_row("case_notes", participant_id=pid, kind="activity",
                               activity_id=act["id"], subject="102 " + title,
                               contact_date=day(start_back), body="Met.",
                               entered_date=day(entered_back), entered_at=ms)
        res = self.push(cs + ncs)  # one write, as the office's route makes them
        self.assertEqual(res["quarantined"], [], res)
        wait_for(lambda: count(self.node, "SELECT count(*) FROM participant_activities WHERE id=?",
                               act["id"]) == 1, timeout=60, what="the original activity at the node")
        return act

    def reaches_hub(self, table, rid, since):
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM %s WHERE id=?" % table, rid) == 1
                 or self.quarantined_since(since), timeout=90, what="%s %s settled" % (table, rid))
        self.assertEqual(self.quarantined_since(since), [])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM %s WHERE id=?" % table, rid), 1)

    def load_codes(self, edit):
        seed = os.path.join(harness.TOP, "seed", "participant_activity_codes.csv")
        with open(seed, encoding="utf-8") as f:
            lines = edit(f.read().splitlines())
        r = self.ops.post("/api/v1/admin/code-lists/activity",
                          {"version": self.uniq("v"),
                           "effective_date": harness.office_day(self.hub, 30),   # the hub's
                           "csv": "\n".join(lines) + "\n"})
        self.assertEqual(r.status, 201, r)

    def test_correction_of_an_older_activity_with_its_note(self):
        sup = self.supervisor()
        pid = self.participant_at_hub("Corrected")
        with opened(self.hub) as d:
            d.execute("UPDATE participants SET registered_date=? WHERE id=?", (day(200), pid))
        for start, entered in ((45, 40), (100, 97)):
            act = self.original(pid, start, entered)
            t0 = int(time.time() * 1000)
            r = sup.post("/api/v1/case/activities/%s/amend" % act["id"],
                         {"reason": "record the end of the activity", "end_date": day(1),
                          "completion": "successful",
                          "note": {"body": "Completed the assessment; plan signed."}})
            self.assertEqual(r.status, 201, r)
            self.reaches_hub("participant_activities", r.json()["id"], t0)
            self.assertEqual(count(self.hub, "SELECT count(*) FROM case_notes WHERE activity_id=?",
                                   r.json()["id"]), 1, start)

    def test_amendment_keeps_its_subject_after_a_retitle_and_retired_codes_are_corrected(self):
        sup = self.supervisor()
        pid = self.participant_at_hub("Retitled")
        today = self.node.get("/api/v1/case/meta").json()["today"]
        made = {}
        for code in ("102", "101"):
            r = self.node.post("/api/v1/case/participants/%s/activities" % pid,
                               {"code": code, "start_date": today, "note": {"body": "Met in person."}})
            self.assertEqual(r.status, 201, r)
            made[code] = (r.json()["activity"]["id"], r.json()["note"]["id"])
            wait_for(lambda: count(self.hub, "SELECT count(*) FROM case_notes WHERE id=?",
                                   made[code][1]) == 1, timeout=60, what="the note at the hub")
        # 102 renamed, 101 retired, in one new version of the list
        self.load_codes(lambda lines: [
            l.replace("102,Initial Assessment,", "102,Initial Assessment (WIOA),")
            for l in lines if not l.startswith("101,")])
        wait_for(lambda: count(self.node, "SELECT title FROM participant_activity_codes WHERE code='102'")
                 == "Initial Assessment (WIOA)", timeout=60, what="the new title at the node")
        wait_for(lambda: count(self.node, "SELECT status FROM participant_activity_codes WHERE code='101'")
                 == "retired", timeout=60, what="101 retired at the node")
        t0 = int(time.time() * 1000)
        r = sup.post("/api/v1/case/notes/%s/amend" % made["102"][1],
                     {"body": "Met in person; corrected.", "reason": "typo"})
        self.assertEqual(r.status, 201, r)
        self.reaches_hub("case_notes", r.json()["id"], t0)
        # an activity of the retired code is still voided (it stays readable)
        t0 = int(time.time() * 1000)
        r = sup.post("/api/v1/case/activities/%s/amend" % made["101"][0],
                     {"reason": "entered in error", "void": True})
        self.assertEqual(r.status, 201, r)
        self.reaches_hub("participant_activities", r.json()["id"], t0)
        # a new entry of it is not taken
        r = self.node.post("/api/v1/case/participants/%s/activities" % pid,
                           {"code": "101", "start_date": today, "note": {"body": "Again."}})
        self.assertEqual((r.status, r.json().get("field")), (400, "code"), r)


def load_tests(loader, tests, pattern):
    """Only this class's own tests (TrustTest's run in test_trust)."""
    names = [n for n in loader.getTestCaseNames(CaseCorrectionsTest)
             if n not in loader.getTestCaseNames(TrustTest)]
    return unittest.TestSuite(CaseCorrectionsTest(n) for n in names)
