"""Case work on real outpost-node and outpost-hub processes.

CaseNodeTest (one stand-alone node): registration with a protected SSN or a
pseudo-SSN, masked display and audited reveal, search by name and by SSN,
activities with their case note (subject = code and title, contact date =
start date), backdating 30 days free / 31-90 with an approval / never more,
only follow-up codes after the soft exit (the exit recorded once its day has
come, irreversibly), amendments of activities and notes, the timeline with a
linked visit, the compliance view (due this week, overdue, nearing exit,
closure form) changing as work is recorded, CSV, and 4xx answers naming the
field.

CaseReplicationTest (a hub, two offices of the demo Local Area and an office
of a second Local Area seeded at the hub): a participant created while the
hub is down appears at the hub and in the other office of its Local Area,
never in the office of the other Local Area (nor the Local Area's SSN key);
amendments replicate; audit events of reads reach the hub; a case-note edit
pushed as a hand-made changeset, and a participant row pushed by a node of
another Local Area, are quarantined.

Planted participant names, SSNs and note text must never reach a log.
"""
import csv
import datetime
import io
import json
import os
import sqlite3
import struct
import time
import unittest
import uuid

import harness
from harness import BIN, Daemon, plant_secret, run_tool, strings, without_ids
import test_hub as th

API = "/api/v1/case"


FAKE_JOB = "0190ffff-0000-7000-8000-00000000abcd"


def days_ago(today, n):
    import datetime
    d = datetime.date.fromisoformat(today) - datetime.timedelta(days=n)
    return d.isoformat()


class CaseNodeTest(harness.DemoNode):
    def setUp(self):
        # the office's day, taken for each test (the class outlives a
        # midnight): every date a test makes and compares is of this one
        self.today = harness.office_day(self.node, span=60)

    def bad(self, r, field, status=400):
        self.assertEqual(r.status, status, r.body)
        j = r.json()
        self.assertEqual(j.get("field"), field, j)
        self.assertTrue(j.get("error"))

    def register(self, first, last, birth="1977-05-25", **kw):
        plant_secret(first + " " + last)
        plant_secret(last)
        body = {"first_name": first, "last_name": last, "birth_date": birth}
        body.update(kw)
        r = self.node.post(API + "/participants", body)
        self.assertEqual(r.status, 201, r.body)
        return r.json()

    def activity(self, pid, code, start, body_text, **kw):
        plant_secret(body_text)
        b = {"code": code, "start_date": start, "note": {"body": body_text}}
        b.update(kw)
        return self.node.post(API + "/participants/%s/activities" % pid, b)

    def ndb(self, sql, *args):
        return harness.db_write(self.node, sql, *args)

    # ---- participants and SSN ----------------------------------------------------
    def test_register_ssn_masked_reveal_audited(self):
        ssn = "231-45-6789"
        plant_secret(ssn)
        plant_secret(ssn.replace("-", ""))
        p = self.register("Marisol", "Quintanilla", ssn=ssn, phone="(805) 555-0199")
        self.assertEqual(p["ssn_masked"], "***-**-6789")
        self.assertEqual(p["ssn_kind"], "real")
        for k in ("ssn", "ssn_enc", "ssn_hmac", "ssn_last4"):
            self.assertNotIn(k, p)
        # Stored protected: no clear digits in the row.
        row = self.ndb("SELECT ssn_enc, ssn_hmac, ssn_last4 FROM participants WHERE id=?", p["id"])[0]
        self.assertNotIn("231456789", row[0])
        self.assertEqual(len(row[0]), 74)
        self.assertEqual(len(row[1]), 64)
        # Reads show it masked; the reveal shows it and is audited.
        g = self.node.get(API + "/participants/" + p["id"])
        self.assertEqual(g.status, 200, g.body)
        # (its texts, ids taken out: a UUID or a stamp may end in 6789 by chance)
        self.assertFalse([t for t in strings(g.json()) if t != "***-**-6789" and "6789" in without_ids(t)])
        before = self.ndb("SELECT count(*) FROM audit_events WHERE action='ssn_reveal' AND subject_id=?",
                          p["id"])[0][0]
        r = self.node.post(API + "/participants/%s/ssn/reveal" % p["id"])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["ssn"], ssn)
        after = self.ndb("SELECT count(*) FROM audit_events WHERE action='ssn_reveal' AND subject_id=?",
                         p["id"])[0][0]
        self.assertEqual(after, before + 1)
        self.assertGreaterEqual(self.ndb("SELECT count(*) FROM audit_events WHERE action="
                                         "'participant_read' AND subject_id=?", p["id"])[0][0], 1)
        # The audit detail never holds the SSN or the name.
        for (d,) in self.ndb("SELECT coalesce(detail,'') FROM audit_events"):
            self.assertNotIn("6789", without_ids(d))
            self.assertNotIn("Quintanilla", d)
        # Same real SSN again: refused, naming the field and the record
        # that holds it - a read by SSN, audited as the search is.
        r = self.node.post(API + "/participants", {"first_name": "X", "last_name": "Y",
                                                   "birth_date": "1980-01-01", "ssn": "231456789"})
        self.bad(r, "ssn", 409)
        self.assertEqual(r.json()["participant_id"], p["id"])
        self.assertEqual([tuple(x) for x in self.ndb(
            "SELECT subject_id FROM audit_events WHERE action='participant_ssn_duplicate'")],
            [(p["id"],)])
        # Search by SSN (through its keyed hash; in a POST body, never in a
        # URL) and by name.
        r = self.node.get(API + "/participants?q=231-45-6789")
        self.bad(r, "q", 400)
        r = self.node.post(API + "/participants/search", {"q": "231-45-6789"})
        self.assertEqual([x["id"] for x in r.json()], [p["id"]])
        self.assertEqual(self.ndb("SELECT detail FROM audit_events WHERE action="
                                  "'participant_ssn_search' ORDER BY rowid DESC LIMIT 1")[0][0],
                         json.dumps({"ids": [p["id"]], "results": 1}, separators=(",", ":")))
        # ... only for those who may reveal it: otherwise a guessing loop
        # over the first five digits (the last four are shown) finds it.
        for user in ("t-view", "t-helpdesk"):
            c = harness.client(self.node)
            harness.login(c, user)
            self.bad(c.post(API + "/participants/search", {"q": "231-45-6789"}), "q", 403)
            self.bad(c.post(API + "/participants/search", {"q": "231456780"}), "q", 403)
            r = c.post(API + "/participants/search", {"q": "quintanilla"})
            self.assertEqual([x["id"] for x in r.json()], [p["id"]])
        r = self.node.post(API + "/participants/search", {"q": "quintan", "state": "active",
                                                          "limit": 5})
        self.assertIn(p["id"], [x["id"] for x in r.json()])
        self.bad(self.node.post(API + "/participants/search", {"q": "x", "limit": 0}), "limit")
        self.bad(self.node.post(API + "/participants/search", {"q": "x", "ssn": "1"}), "ssn")
        r = self.node.get(API + "/participants?q=quintan")
        self.assertIn(p["id"], [x["id"] for x in r.json()])
        r = self.node.get(API + "/participants?q=Quintanilla,%20Mari")
        self.assertEqual([x["id"] for x in r.json()], [p["id"]])
        r = self.node.get(API + "/participants?q=Nobody%20Here")
        self.assertEqual(r.json(), [])
        # Lists and searches are audited per record: the ids returned, never
        # the query or any content (TEGL 39-11).
        r = self.node.get(API + "/participants?q=Quintanilla&limit=5")
        ret = [x["id"] for x in r.json()]
        self.assertIn(p["id"], ret)
        d = json.loads(self.ndb("SELECT detail FROM audit_events WHERE action='participant_search'"
                                " ORDER BY rowid DESC LIMIT 1")[0][0])
        self.assertEqual(d["ids"], ret)
        self.assertEqual(d["results"], len(ret))
        d = json.loads(self.ndb("SELECT detail FROM audit_events WHERE action='participant_search'"
                                " ORDER BY rowid DESC LIMIT 1 OFFSET 1")[0][0])
        self.assertEqual(d, {"ids": [], "results": 0})

    def test_pseudo_ssn(self):
        r = self.node.get(API + "/pseudo-ssn?birth_date=1977-05-25")
        self.assertEqual(r.json(), {"pseudo_ssn": "975-25-0577"})
        self.bad(self.node.get(API + "/pseudo-ssn?birth_date=1977-13-25"), "birth_date")
        p = self.register("Evaristo", "Pseudonymo", birth="1977-05-25", pseudo_ssn=True)
        self.assertEqual(p["ssn_kind"], "pseudo")
        self.assertEqual(p["ssn_masked"], "***-**-0577")
        r = self.node.post(API + "/participants/%s/ssn/reveal" % p["id"])
        self.assertEqual(r.json()["ssn"], "975-25-0577")
        # Two people born the same day share a pseudo-SSN: not a duplicate.
        self.register("Second", "Pseudonymo", birth="1977-05-25", pseudo_ssn=True)
        # The birth date corrected: the pseudo-SSN is the new date's.
        r = self.node.request("PATCH", API + "/participants/" + p["id"], body={"birth_date": "1990-11-02"})
        self.assertEqual((r.status, r.json()["ssn_masked"]), (200, "***-**-1190"), r)
        r = self.node.post(API + "/participants/%s/ssn/reveal" % p["id"])
        self.assertEqual(r.json()["ssn"], "975-02-1190")

    def test_bad_input(self):
        P = API + "/participants"
        self.bad(self.node.post(P, {"last_name": "X", "birth_date": "1980-01-01"}), "first_name")
        self.bad(self.node.post(P, {"first_name": "A", "last_name": "X", "birth_date": "1980-02-30"}),
                 "birth_date")
        self.bad(self.node.post(P, {"first_name": "A", "last_name": "X", "birth_date": "2999-01-01"}),
                 "birth_date")
        self.bad(self.node.post(P, {"first_name": "A", "last_name": "X", "birth_date": "1980-01-01",
                                    "ssn": "12-34"}), "ssn")
        self.bad(self.node.post(P, {"first_name": "A", "last_name": "X", "birth_date": "1980-01-01",
                                    "ssn": "000-12-3456"}), "ssn")
        # 900-999 is the pseudo-SSN range: never a real SSN.
        for nine in ("975-25-0577", "900 12 3456", "999999999"):
            r = self.node.post(P, {"first_name": "A", "last_name": "X", "birth_date": "1977-05-25",
                                   "ssn": nine})
            self.bad(r, "ssn")
            self.assertIn("pseudo-SSN", r.json()["error"])
        self.bad(self.node.post(P, {"first_name": "A", "last_name": "X", "birth_date": "1980-01-01",
                                    "ssn": "123-45-6780", "pseudo_ssn": True}), "ssn")
        self.bad(self.node.post(P, {"first_name": "A", "last_name": "X", "birth_date": "1980-01-01",
                                    "office_id": "north-office"}), "office_id")
        self.bad(self.node.post(P, {"first_name": "A", "last_name": "X", "birth_date": "1980-01-01",
                                    "shoe_size": 9}), "shoe_size")
        r = self.node.request("POST", P, body=b"{not json", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(self.node.get(API + "/participants/nope").status, 404)
        self.assertEqual(self.node.get(API + "/participants/nope/timeline").status, 404)
        self.assertEqual(self.node.post(API + "/participants/nope/ssn/reveal").status, 404)
        p = self.register("Bad", "Inputson")
        # (closure_form_date is the closure form's: neither typed nor taken
        # away with null; an email is an address, not anything with an @)
        for body, field in (({"office_id": None}, "office_id"), ({"birth_date": None}, "birth_date"),
                            ({"last_name": ""}, "last_name"), ({"closure_form_date": "2999-01-01"},
                                                               "closure_form_date"),
                            ({"closure_form_date": None}, "closure_form_date"),
                            ({"email": "@"}, "email"), ({"email": "a@b"}, "email")):
            self.bad(self.node.request("PATCH", API + "/participants/" + p["id"], body=body), field)
        r = self.node.request("PATCH", API + "/participants/" + p["id"], body={"phone": "(805) 555-0142"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["phone"], "(805) 555-0142")
        A = API + "/participants/%s/activities" % p["id"]
        r = self.node.post(A, {"code": "102", "start_date": self.today})
        self.bad(r, "note.body")
        self.bad(self.node.post(A, {"code": "ZZZ", "start_date": self.today, "note": {"body": "x"}}), "code")
        self.bad(self.node.post(A, {"code": "102", "start_date": "today", "note": {"body": "x"}}),
                 "start_date")
        self.bad(self.node.post(A, {"code": "102", "start_date": self.today, "completion": "successful",
                                    "note": {"body": "x"}}), "completion")
        self.bad(self.node.post(A, {"code": "102", "start_date": self.today,
                                    "end_date": days_ago(self.today, 1), "note": {"body": "x"}}),
                 "end_date")
        self.bad(self.node.post(API + "/participants/%s/notes" % p["id"],
                                {"subject": "s", "contact_date": self.today}), "body")
        # A note of white space alone (ASCII or Unicode, zero-width too) is
        # no note: the stand-alone note's body and subject, the activity's.
        for blank in ("   ", "\n\t ", "\u00a0\u200b\u3000", "\ufeff \u2028"):
            r = self.node.post(API + "/participants/%s/notes" % p["id"],
                               {"subject": "Call", "contact_date": self.today, "body": blank})
            self.bad(r, "body")
            self.assertIn("needs text", r.json()["error"])
            self.bad(self.node.post(API + "/participants/%s/notes" % p["id"],
                                    {"subject": blank, "contact_date": self.today, "body": "Called."}),
                     "subject")
            self.bad(self.node.post(A, {"code": "102", "start_date": self.today, "note": {"body": blank}}),
                     "note.body")
        self.assertEqual(self.ndb("SELECT count(*) FROM case_notes WHERE participant_id=?", p["id"])[0][0], 0)
        # No write reached the outbox for any of these.
        self.assertEqual(self.ndb("SELECT count(*) FROM participant_activities WHERE participant_id=?",
                                  p["id"])[0][0], 0)

    # ---- activities, notes, backdating -----------------------------------------
    def test_activity_with_note_and_backdating(self):
        p = self.register("Teodora", "Backdatova")
        # No entry may predate the registration: registered 100 days ago,
        # seen today (a clock-restarting service, so the case is open).
        self.ndb("UPDATE participants SET registered_date=? WHERE id=?", days_ago(self.today, 100), p["id"])
        self.ndb("INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
                 " code_list, start_date, entered_date, entered_at) VALUES("
                 "'0190c000-0000-7000-8000-0000000a0002', ?, 'demo-la', 'demo-office', '102', 'activity', ?, ?, 1)",
                 p["id"], self.today, self.today)
        self.ndb("INSERT INTO case_notes(id, participant_id, local_area_id, office_id, kind, activity_id,"
                 " subject, contact_date, body, entered_date, entered_at) VALUES("
                 "'0190c000-0000-7000-8000-0000000b0002', ?, 'demo-la', 'demo-office', 'activity',"
                 " '0190c000-0000-7000-8000-0000000a0002', '102 Initial Assessment', ?, 'Seen.', ?, 1)",
                 p["id"], self.today, self.today)
        A = API + "/participants/%s/activities" % p["id"]
        r = self.activity(p["id"], "102", days_ago(self.today, 30), "Assessment at thirty days back.")
        self.assertEqual(r.status, 201, r.body)
        j = r.json()
        self.assertEqual(j["note"]["subject"], "102 Initial Assessment")
        self.assertEqual(j["note"]["contact_date"], j["activity"]["start_date"])
        self.assertEqual(j["note"]["kind"], "activity")
        self.assertEqual(j["note"]["activity_id"], j["activity"]["id"])
        self.assertEqual(j["activity"]["backdate_days"], 30)
        self.assertFalse(j["timely"])  # 30 days back is past 5 business days
        # 31 days: saved, pending the approval of the three approvers
        # (tests/integration/test_case_rules.py decides it); approvals are
        # never typed in.
        r = self.activity(p["id"], "102", days_ago(self.today, 31), "Thirty-one days back.")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["approval"]["state"], "pending")
        self.assertEqual(r.json()["activity"]["approval_id"], r.json()["approval"]["request_id"])
        appr = {"program_manager": "Pat Manager", "wdb_director": "Dana Director",
                "edd_approver": "EDD Reviewer", "approved_date": self.today}
        r = self.activity(p["id"], "102", days_ago(self.today, 31), "Thirty-one days back.",
                          approval=appr)
        self.bad(r, "approval")
        # 90 pending, 91 never.
        r = self.activity(p["id"], "102", days_ago(self.today, 90), "Ninety days back.")
        self.assertEqual(r.status, 201, r.body)
        r = self.activity(p["id"], "102", days_ago(self.today, 91), "Ninety-one days back.")
        self.bad(r, "start_date")
        self.assertIn("90", r.json()["error"])
        # The future is refused too.
        import datetime
        tomorrow = (datetime.date.fromisoformat(self.today) + datetime.timedelta(days=1)).isoformat()
        self.bad(self.activity(p["id"], "102", tomorrow, "Tomorrow."), "start_date")
        # Follow-up codes only after exit.
        r = self.activity(p["id"], "F01", self.today, "Too early for follow-up.")
        self.bad(r, "code", 409)
        # Every activity has its note.
        self.assertEqual(self.ndb("SELECT count(*) FROM participant_activities a WHERE participant_id=?"
                                  " AND NOT EXISTS (SELECT 1 FROM case_notes n WHERE n.activity_id=a.id)",
                                  p["id"])[0][0], 0)

    def test_amendments_and_timeline(self):
        p = self.register("Amado", "Enmienda")
        r = self.activity(p["id"], "115", self.today, "Helped with the resume.")
        self.assertEqual(r.status, 201, r.body)
        act, note = r.json()["activity"], r.json()["note"]
        # Amend the activity: only a supervisor's Help Request; a new row
        # naming it, pending until DSS WIOA staff approve; the original stays.
        self.bad(self.node.post(API + "/activities/%s/amend" % act["id"],
                                {"end_date": self.today, "completion": "successful",
                                 "reason": "Completed"}), "id", 403)
        sup = harness.client(self.node)
        harness.login(sup, "jlee")
        self.bad(sup.post(API + "/activities/%s/amend" % act["id"], {"end_date": self.today}), "reason")
        self.bad(sup.post(API + "/activities/%s/amend" % act["id"],
                          {"end_date": self.today, "reason": "Completed", "note": {"body": "\t \u200b"}}),
                 "note.body")
        r = sup.post(API + "/activities/%s/amend" % act["id"],
                     {"end_date": self.today, "completion": "successful", "reason": "Completed the workshop"})
        self.assertEqual(r.status, 201, r.body)
        new = r.json()
        self.assertEqual(new["corrects_id"], act["id"])
        self.assertEqual(new["code"], "115")
        self.assertEqual(new["approval"]["state"], "pending")
        self.assertEqual(sup.post(API + "/activities/%s/amend" % act["id"],
                                  {"end_date": self.today, "reason": "again"}).status, 409)
        # Amend the note: original unchanged, amendment linked.
        text = "Helped with the resume; also a cover letter."
        plant_secret(text)
        # Amending a note needs a Help Request too: a supervisor's, with a
        # reason (every field error at once); it waits for DSS WIOA staff.
        self.bad(self.node.post(API + "/notes/%s/amend" % note["id"], {"body": text, "reason": "More"}),
                 "id", 403)
        r = sup.post(API + "/notes/%s/amend" % note["id"], {})
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]), ["body", "reason"])
        # An amendment of white space alone says nothing either.
        r = sup.post(API + "/notes/%s/amend" % note["id"], {"body": " \n\u00a0", "reason": "Blank"})
        self.bad(r, "body")
        self.assertIn("needs text", r.json()["error"])
        r = sup.post(API + "/notes/%s/amend" % note["id"], {"body": text, "reason": "Left out the cover letter."})
        self.assertEqual(r.status, 201, r.body)
        am = r.json()
        self.assertEqual(am["approval"]["waiting_for"], ["DSS WIOA staff"])
        self.assertEqual(sup.post(API + "/notes/%s/amend" % note["id"],
                                  {"body": text, "reason": "again"}).status, 409)
        self.assertEqual(am["amends_id"], note["id"])
        self.assertEqual(am["subject"], note["subject"])
        self.assertEqual(am["contact_date"], note["contact_date"])
        self.assertEqual(self.ndb("SELECT body FROM case_notes WHERE id=?", note["id"])[0][0],
                         "Helped with the resume.")
        # Stand-alone note for an unanswered call.
        sn = "Called twice, no answer, left a voicemail."
        plant_secret(sn)
        r = self.node.post(API + "/participants/%s/notes" % p["id"],
                           {"subject": "Contact attempt", "contact_date": self.today, "body": sn})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["kind"], "standalone")
        # A visit at the front desk linked to the participant.
        reasons = self.node.get("/api/v1/greeter/reasons").json()
        c = self.node.post("/api/v1/checkins", {"visitor_name": "Amado Enmienda",
                                                "reason_ids": [reasons[0]["id"]], "language": "en"})
        self.assertEqual(c.status, 201, c.body)
        r = self.node.post(API + "/participants/%s/visits" % p["id"], {"checkin_id": c.json()["id"]})
        self.assertEqual(r.status, 200, r.body)
        self.bad(self.node.post(API + "/participants/%s/visits" % p["id"], {"checkin_id": "nope"}),
                 "checkin_id", 404)
        t = self.node.get(API + "/participants/%s/timeline" % p["id"])
        self.assertEqual(t.status, 200, t.body)
        t = t.json()
        self.assertEqual([v["id"] for v in t["visits"]], [c.json()["id"]])
        self.assertEqual(len(t["activities"]), 1)
        a = t["activities"][0]
        # The original stands while the change waits.
        self.assertEqual(a["id"], act["id"])
        self.assertIsNone(a["completion"])
        self.assertEqual(a["pending_change"]["id"], new["id"])
        self.assertEqual(a["pending_change"]["change_state"], "pending")
        self.assertEqual([n["id"] for n in a["notes"]], [note["id"]])
        self.assertEqual([x["id"] for x in a["notes"][0]["amendments"]], [am["id"]])
        self.assertEqual(a["notes"][0]["amendments"][0]["change_state"], "pending")
        self.assertEqual([n["body"] for n in t["notes"]], [sn])
        self.assertEqual(sorted(e["type"] for e in t["events"]), ["activity", "note", "visit"])
        # Reading notes is audited with their ids, never their text.
        rows = self.ndb("SELECT detail FROM audit_events WHERE action='case_notes_read' AND subject_id=?",
                        p["id"])
        self.assertTrue(rows)
        self.assertIn(note["id"], rows[-1][0])
        self.assertNotIn("resume", rows[-1][0])

    # ---- exit clock and compliance -------------------------------------------------
    def test_soft_exit_followup_and_compliance(self):
        # Age two cases directly in the office database: one 90 days since
        # registration, one 86.
        gone = self.register("Olvido", "Salida")
        near = self.register("Cerca", "Salida")
        self.ndb("UPDATE participants SET registered_date=? WHERE id=?", days_ago(self.today, 90), gone["id"])
        self.ndb("UPDATE participants SET registered_date=? WHERE id=?", days_ago(self.today, 86), near["id"])
        c = self.node.get(API + "/compliance").json()
        ids = {x["participant_id"]: x for x in c["nearing_exit"]}
        self.assertIn(near["id"], ids)
        self.assertNotIn(gone["id"], ids)
        self.assertIn("closure form", ids[near["id"]]["what"])
        self.assertIn(near["id"], [x["participant_id"] for x in c["due_this_week"]
                                   if x["kind"] == "closure_form"])
        # Day 90 has come: the exit is recorded, irreversibly.
        g = self.node.get(API + "/participants/" + gone["id"]).json()
        self.assertEqual(g["exit_state"], "exited")
        self.assertEqual(g["exit_date"], self.today)
        self.assertEqual(self.ndb("SELECT count(*) FROM participant_exits WHERE participant_id=?",
                                  gone["id"])[0][0], 1)
        r = self.activity(gone["id"], "102", self.today, "Not allowed after exit.")
        self.bad(r, "code", 409)
        self.assertIn("follow-up", r.json()["error"])
        r = self.activity(gone["id"], "F03", self.today, "Tracked progress on the job.")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["activity"]["code_list"], "followup")
        self.assertEqual(r.json()["note"]["subject"], "F03 Tracking Progress on the Job")
        g = self.node.get(API + "/participants/" + gone["id"]).json()
        self.assertEqual(g["exit_state"], "exited")
        self.assertEqual(g["status"]["followup_quarter"], 1)
        self.assertTrue(g["status"]["followup_done"])
        # A clock-restarting service within the window moves the exit away.
        r = self.activity(near["id"], "102", self.today, "Reassessment.")
        self.assertEqual(r.status, 201, r.body)
        c = self.node.get(API + "/compliance").json()
        self.assertNotIn(near["id"], [x["participant_id"] for x in c["nearing_exit"]])
        # Exited long ago, never followed up: two quarters missed, the
        # third open, and the exit date is the 90th day, not the day noticed.
        old = self.register("Antiguo", "Seguimiento")
        self.ndb("UPDATE participants SET registered_date=? WHERE id=?", days_ago(self.today, 300), old["id"])
        g = self.node.get(API + "/participants/" + old["id"]).json()
        self.assertEqual(g["exit_date"], days_ago(self.today, 210))
        self.assertEqual(g["status"]["followup_quarter"], 3)
        self.assertEqual(g["status"]["followup_overdue_quarters"], 2)
        self.assertFalse(g["status"]["followup_done"])
        c = self.node.get(API + "/compliance").json()
        self.assertIn((old["id"], "follow_up"), [(x["participant_id"], x["kind"]) for x in c["overdue"]])
        # Closure form recorded: no longer prompted.
        other = self.register("Cierre", "Formulario")
        self.ndb("UPDATE participants SET registered_date=? WHERE id=?", days_ago(self.today, 61), other["id"])
        g = self.node.get(API + "/participants/" + other["id"]).json()
        self.assertEqual(g["status"]["exit_warning"], 60)
        self.assertTrue(g["status"]["closure_form_due"])
        self.bad(self.node.request("PATCH", API + "/participants/" + other["id"],
                                   body={"closure_form_date": self.today}), "closure_form_date")
        fields = {f["name"]: "N/A" for f in self.node.get(API + "/forms").json()["closure"]}
        r = self.node.post(API + "/participants/%s/closure-form" % other["id"],
                           {"form_date": self.today, "fields": fields})
        self.assertEqual(r.status, 201, r.body)
        g = self.node.get(API + "/participants/" + other["id"]).json()
        self.assertFalse(g["status"]["closure_form_due"])
        # The form's date is not taken away by an edit.
        self.bad(self.node.request("PATCH", API + "/participants/" + other["id"],
                                   body={"closure_form_date": None, "phone": "(805) 555-0100"}),
                 "closure_form_date")
        self.assertEqual(self.node.get(API + "/participants/" + other["id"]).json()["closure_form_date"],
                         self.today)

    def test_correction_note_and_the_last_follow_up_quarter_in_compliance(self):
        """A correction's note is dated at the corrected activity's start and
        written when the correction is: neither a late note nor an entry of
        its own in timeliness.  And a fourth follow-up quarter missed shows
        overdue (it ends the day before the 12 months are out: the case left
        the view the day it became overdue)."""
        import calendar
        p = self.register("Correcta", "Nota")
        start = (datetime.date.fromisoformat(self.today) - datetime.timedelta(days=20)).isoformat()
        self.ndb("UPDATE participants SET registered_date=? WHERE id=?", start, p["id"])
        r = self.activity(p["id"], "115", start, "Resume workshop.")
        self.assertEqual(r.status, 201, r.body)
        act = r.json()["activity"]
        # entered on time 20 days ago, as the office did then
        self.ndb("UPDATE participant_activities SET entered_date=? WHERE id=?", start, act["id"])
        self.ndb("UPDATE case_notes SET entered_date=? WHERE activity_id=?", start, act["id"])

        def figures():
            mine = [x for x in self.node.get(API + "/compliance").json()["participants"]
                    if x["id"] == p["id"]][0]["status"]
            notes = self.ndb("SELECT count(*) FROM case_notes WHERE participant_id=?", p["id"])[0][0]
            return mine["late_notes"], notes
        self.assertEqual(figures(), (0, 1))
        sup = harness.client(self.node)
        harness.login(sup, "jlee")
        r = sup.post(API + "/activities/%s/amend" % act["id"],
                     {"end_date": self.today, "completion": "successful", "reason": "Completed",
                      "note": {"body": "Completed the workshop."}})
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(figures(), (0, 2))  # the correction's note: not late
        # the fourth quarter
        today = datetime.date.fromisoformat(self.today)
        m = today.month - 1 - 12
        y, m = today.year + m // 12, m % 12 + 1
        exit_date = datetime.date(y, m, min(today.day, calendar.monthrange(y, m)[1]))
        q = self.register("Cuarto", "Trimestre")
        self.ndb("UPDATE participants SET registered_date=?, exit_state='exited', exit_date=? WHERE id=?",
                 (exit_date - datetime.timedelta(days=120)).isoformat(), exit_date.isoformat(), q["id"])
        c = self.node.get(API + "/compliance").json()
        row = [x for x in c["participants"] if x["id"] == q["id"]]
        self.assertEqual(len(row), 1, "an exited case with a missed quarter stays in view")
        self.assertEqual(row[0]["status"]["followup_overdue_quarters"], 4)
        self.assertIn("follow_up", [x["kind"] for x in c["overdue"] if x["participant_id"] == q["id"]])

    def test_view_only_read_records_no_exit(self):
        """The soft exit is a case write, in the name of whoever's read
        found day 90: a view-only account's reads (the participant, its
        timeline) record none and show the case as the last sweep left it;
        the next read by an account that writes case work records it."""
        p = self.register("Mirada", "Sinsalida")
        self.ndb("UPDATE participants SET registered_date=? WHERE id=?", days_ago(self.today, 95), p["id"])
        view = harness.client(self.node)
        harness.login(view, "t-view")
        for path in ("/participants/" + p["id"], "/participants/%s/timeline" % p["id"]):
            r = view.get(API + path)
            self.assertEqual(r.status, 200, (path, r.body))
        self.assertEqual(view.get(API + "/participants/" + p["id"]).json()["exit_state"], "active")
        self.assertEqual(self.ndb("SELECT count(*) FROM participant_exits WHERE participant_id=?",
                                  p["id"])[0][0], 0)
        g = self.node.get(API + "/participants/" + p["id"]).json()
        self.assertEqual((g["exit_state"], g["exit_date"]), ("exited", days_ago(self.today, 5)))
        self.assertEqual(self.ndb("SELECT count(*) FROM participant_exits WHERE participant_id=?",
                                  p["id"])[0][0], 1)

    def test_intake_registers_but_reads_program_entries_only(self):
        """LWIA Intake Staff (WSD24-13: "basic participant needs; view access
        only to program applications"): registers and edits a participant,
        writes a stand-alone note, reads the program entries; every program
        write (activity, its Help Request, the forms, a skill gain, a
        referral) is 403 naming program_edit, and leaves nothing."""
        intake = harness.client(self.node)
        harness.login(intake, "t-lwia-intake")
        plant_secret("Intaka Registrada")
        plant_secret("Registrada")
        r = intake.post(API + "/participants", {"first_name": "Intaka", "last_name": "Registrada",
                                                "birth_date": "1988-03-14"})
        self.assertEqual(r.status, 201, r.body)
        pid = r.json()["id"]
        r = intake.request("PATCH", API + "/participants/" + pid, body={"phone": "(805) 555-0144"})
        self.assertEqual(r.status, 200, r.body)
        r = intake.post(API + "/participants/%s/notes" % pid,
                        {"subject": "Walk-in", "contact_date": self.today, "body": "Came in to register."})
        self.assertEqual(r.status, 201, r.body)
        # A program entry by a case worker: the intake account reads it.
        r = self.activity(pid, "102", self.today, "Initial assessment at intake.")
        self.assertEqual(r.status, 201, r.body)
        act = r.json()["activity"]["id"]
        t = intake.get(API + "/participants/%s/timeline" % pid)
        self.assertEqual(t.status, 200, t.body)
        self.assertEqual([a["id"] for a in t.json()["activities"]], [act])
        self.assertEqual(intake.get(API + "/participants/%s/skill-gains" % pid).status, 200)
        before = [self.ndb("SELECT count(*) FROM %s" % tbl)[0][0]
                  for tbl in ("participant_activities", "case_forms", "job_referrals",
                              "case_approval_requests")]
        fields = {"gain_type": "Secondary diploma", "program": "Adult", "achievement": "GED",
                  "documentation": "Certificate"}
        for path, body in (
                ("/participants/%s/activities" % pid,
                 {"code": "102", "start_date": self.today, "note": {"body": "Assessed."}}),
                ("/activities/%s/amend" % act, {"reason": "wrong date", "void": True}),
                ("/participants/%s/skill-gains" % pid, {"form_date": self.today, "fields": fields}),
                ("/participants/%s/closure-form" % pid, {"form_date": self.today, "fields": {}}),
                ("/participants/%s/followup-form" % pid, {"form_date": self.today, "fields": {}}),
                ("/participants/%s/followup-declined" % pid, {"form_date": self.today, "fields": {}}),
                ("/participants/%s/referrals" % pid, {"job_order_id": FAKE_JOB})):
            r = intake.post(API + path, body)
            self.assertEqual(r.status, 403, (path, r.body))
            self.assertEqual(r.json()["error"],
                             "your account does not have this privilege (program_edit)", path)
        after = [self.ndb("SELECT count(*) FROM %s" % tbl)[0][0]
                 for tbl in ("participant_activities", "case_forms", "job_referrals",
                             "case_approval_requests")]
        self.assertEqual(after, before)
        self.assertNotIn("program_edit", intake.get("/api/v1/session").json()["privileges"])
        self.assertIn("program_edit", self.node.get("/api/v1/session").json()["privileges"])

    def test_compliance_changes_and_csv(self):
        staff = "0190a000-0000-7000-8000-0000000000b1"  # Jordan Lee
        p = self.register("Cumplida", "Nota", assigned_staff_id=staff)
        c0 = self.node.get(API + "/compliance?staff_id=" + staff).json()
        self.assertEqual([x["id"] for x in c0["participants"]], [p["id"]])
        self.assertEqual(c0["summary"]["due_this_week"], 0)
        row = c0["participants"][0]["status"]
        self.assertIsNone(row["last_note_date"])
        # An activity 26 days ago: its note's 30-day cadence ends in 4 days.
        # (No entry may predate the registration: registered then.)
        self.ndb("UPDATE participants SET registered_date=? WHERE id=?", days_ago(self.today, 26), p["id"])
        r = self.activity(p["id"], "102", days_ago(self.today, 26), "Assessment, documented late.")
        self.assertEqual(r.status, 201, r.body)
        c1 = self.node.get(API + "/compliance?staff_id=" + staff).json()
        self.assertEqual(c1["summary"]["due_this_week"], 1)
        self.assertEqual(c1["due_this_week"][0]["kind"], "case_note")
        self.assertEqual(c1["participants"][0]["status"]["late_activities"], 1)
        self.assertEqual(c1["participants"][0]["status"]["late_notes"], 1)
        self.assertEqual([s["staff_id"] for s in c1["by_staff"]], [staff])
        # 31 days without a note: overdue.
        self.ndb("UPDATE case_notes SET contact_date=? WHERE participant_id=?", days_ago(self.today, 31), p["id"])
        self.ndb("UPDATE participant_activities SET start_date=? WHERE participant_id=?",
                 days_ago(self.today, 31), p["id"])
        c2 = self.node.get(API + "/compliance?staff_id=" + staff).json()
        self.assertEqual(c2["summary"]["overdue"], 1)
        self.assertEqual(c2["overdue"][0]["kind"], "case_note")
        self.assertEqual(c2["summary"]["note_compliance_pct"], 0)
        # CSV: a header and one row, with the participant's dates.
        r = self.node.get(API + "/compliance?format=csv&staff_id=" + staff)
        self.assertEqual(r.status, 200)
        self.assertIn("text/csv", r.header("Content-Type"))
        self.assertIn("attachment", r.header("Content-Disposition"))
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))  # UTF-8 BOM: a spreadsheet reads names right
        rows = list(csv.DictReader(io.StringIO(r.body.decode("utf-8-sig"))))
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["participant_id"], p["id"])
        # an export is audited as one, apart from a view of the page
        detail = json.loads(self.ndb("SELECT detail FROM audit_events WHERE action='compliance_export'"
                                     " ORDER BY rowid DESC LIMIT 1")[0][0])
        self.assertEqual(detail["ids"], [p["id"]])
        self.assertEqual(rows[0]["note_status"], "overdue")
        self.bad(self.node.get(API + "/compliance?format=xml"), "format")
        # An activity that reached the office without its note (the API never
        # makes one) is flagged.
        self.ndb("INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
                 " code_list, start_date, entered_date, entered_at) VALUES("
                 "'0190c000-0000-7000-8000-0000000a0001', ?, 'demo-la', 'demo-office', '115', 'activity', ?, ?, 1)",
                 p["id"], self.today, self.today)
        c3 = self.node.get(API + "/compliance?staff_id=" + staff).json()
        self.assertEqual(c3["summary"]["activities_without_note"], 1)
        self.assertIn("activity_note", [x["kind"] for x in c3["overdue"]])
        self.assertGreaterEqual(self.ndb("SELECT count(*) FROM audit_events WHERE action='compliance_view'")[0][0], 3)
        # An approved void takes the activity away: not a late entry either.
        def late():
            mine = self.node.get(API + "/compliance?staff_id=" + staff).json()
            kinds = {k["kind"]: k for k in self.node.get(API + "/compliance").json()["timeliness"]["by_kind"]}
            return (mine["participants"][0]["status"]["late_activities"],
                    kinds.get("objective_assessment", {}).get("entries", 0))
        before = late()
        act = self.ndb("SELECT id, start_date, entered_date FROM participant_activities"
                       " WHERE participant_id=? AND code='102'", p["id"])[0]
        self.ndb("INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
                 " code_list, start_date, entered_date, entered_at, corrects_id, voided) VALUES("
                 "'0190c000-0000-7000-8000-0000000a00f2', ?, 'demo-la', 'demo-office', '102', 'activity',"
                 " ?, ?, 1, ?, 1)", p["id"], act[1], self.today, act[0])
        after = late()
        self.assertEqual(after, (before[0] - 1, before[1] - 1), (before, after))
        # Each view is audited with the participants it named.
        self.assertEqual(self.node.get(API + "/compliance?staff_id=" + staff).status, 200)
        detail = json.loads(self.ndb("SELECT detail FROM audit_events WHERE action='compliance_view'"
                                     " ORDER BY rowid DESC LIMIT 1")[0][0])
        self.assertEqual((detail["ids"], detail["results"]), ([p["id"]], 1))
        # Without the reports privilege it is one's own caseload only.
        intake = harness.client(self.node)
        harness.login(intake, "t-lwia-intake")
        r = intake.get(API + "/compliance?staff_id=" + staff)
        self.assertEqual((r.status, r.json().get("field")), (403, "staff_id"), r.body)
        r = intake.get(API + "/compliance")
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn(p["id"], [x["id"] for x in r.json()["participants"]])
        self.assertEqual(intake.get(API + "/compliance?format=csv").status, 403)


class CaseClockTest(unittest.TestCase):
    """Dates are checked against the trusted time: the local clock corrected
    by the hub's offset at the last sync (node_meta clock_offset_ms), and a
    large offset is flagged."""

    def test_trusted_date_and_skew_flag(self):
        node = Daemon("node").start()
        try:
            harness.login(node)
            harness.office_day(node, span=60)   # no midnight before the restart's "today"
            t0 = node.get(API + "/meta").json()
            self.assertFalse(t0["clock_skew_warning"])
            node.stop()
            db = node.db()
            try:
                db.execute("INSERT INTO node_meta(key, value) VALUES('clock_offset_ms', ?)"
                           " ON CONFLICT(key) DO UPDATE SET value=excluded.value", (str(3 * 86400000),))
                db.commit()
            finally:
                db.close()
            node.start()
            harness.login(node)
            m = node.get(API + "/meta").json()
            self.assertTrue(m["clock_skew_warning"])
            self.assertEqual(m["clock_offset_ms"], 3 * 86400000)
            self.assertEqual(m["today"], days_ago(t0["today"], -3))
            plant_secret("Relojero Adelantado")
            p = node.post(API + "/participants", {"first_name": "Relojero", "last_name": "Adelantado",
                                                  "birth_date": "1985-01-01"}).json()
            self.assertEqual(p["registered_date"], m["today"])
            node.db().execute("UPDATE participants SET registered_date=? WHERE id=?",
                              (days_ago(m["today"], 10), p["id"])).connection.commit()
            # Two days after the PC's date is the past by the trusted clock.
            r = node.post(API + "/participants/%s/activities" % p["id"],
                          {"code": "102", "start_date": days_ago(t0["today"], -2), "note": {"body": "Seen."}})
            self.assertEqual(r.status, 201, r.body)
            self.assertEqual(r.json()["activity"]["clock_skew_ms"], 3 * 86400000)
            self.assertEqual(r.json()["activity"]["entered_date"], m["today"])
            r = node.post(API + "/participants/%s/activities" % p["id"],
                          {"code": "102", "start_date": days_ago(t0["today"], -4), "note": {"body": "Seen."}})
            self.assertEqual(r.status, 400, r.body)
            self.assertEqual(r.json()["field"], "start_date")
            c = node.get(API + "/compliance").json()
            self.assertTrue(c["clock_skew_warning"])
        finally:
            node.cleanup()


# ---- replication -------------------------------------------------------------------

def hub_tool(hub, *args):
    return run_tool([os.path.join(BIN, "outpost-hub")] + list(args) + ["--data", hub.data], name="hub")


def wait_for(fn, timeout=90, what="condition"):
    return harness.wait_until(fn, timeout, 0.5, what)


count = harness.db_value


def changeset_update(table, ncols, pk_value, col, old, new):
    """One UPDATE as sqlite3session_changeset() writes it: column 0 is the
    primary key; only `col` changes (others undefined)."""
    def val(v):
        t = v.encode()
        return b"\x03" + th.varint(len(t)) + t
    flags = [1] + [0] * (ncols - 1)
    b = b"T" + th.varint(ncols) + bytes(flags) + table.encode() + b"\0"
    b += bytes([23, 0])  # SQLITE_UPDATE
    oldrec = [val(pk_value)] + [b"\x00"] * (ncols - 1)
    newrec = [b"\x00"] * ncols
    oldrec[col] = val(old)
    newrec[col] = val(new)
    return b + b"".join(oldrec) + b"".join(newrec)


# An account for enrolled nodes, written at the hub (staff and
# staff_credentials are hub-owned and replicate down): once node logins are
# real, the demo password opens only stand-alone nodes.
CASE_PASSWORD = "Case.Test42"


def hub_account(hub, username, sid, local_area, office, group="LWIA Partner Staff"):
    import hashlib
    salt = os.urandom(16)
    iters = 1000
    dk = hashlib.pbkdf2_hmac("sha256", CASE_PASSWORD.encode(), salt, iters, 32)
    stored = "pbkdf2-sha256$%d$%s$%s" % (iters, salt.hex(), dk.hex())
    db = hub.db()
    try:
        db.execute("INSERT INTO staff(id, username, display_name, local_area_id, office_id,"
                   " privilege_group, active, updated_hlc) VALUES(?,?,?,?,?,?,1,?)",
                   (sid, username, "Case Tester", local_area, office, group,
                    "000000000002.0000.hub"))
        db.execute("INSERT INTO staff_credentials(id, local_area_id, password_hash, password_temp,"
                   " updated_hlc) VALUES(?,?,?,0,?)", (sid, local_area, stored, "000000000002.0000.hub"))
        db.commit()
    finally:
        db.close()


def sign_in(node, username):
    """harness.login() as everywhere; an enrolled node refuses the demo
    password once logins are real, so then the hub-made account."""
    try:
        harness.login(node)
    except AssertionError:
        wait_for(lambda: count(node, "SELECT count(*) FROM staff_credentials c JOIN staff s"
                                     " ON s.id = c.id WHERE s.username=?", username) == 1,
                 what="the test account at " + node.name)
        harness.login(node, username, CASE_PASSWORD)


class CaseReplicationTest(harness.HubAndOffices):
    @classmethod
    def setUpClass(cls):
        cls.start_hub()
        # A second Local Area with one office, seeded at the hub (there is no
        # admin API for Local Areas yet); the hub gives it its SSN key.
        db = cls.hub.db()
        try:
            db.execute("INSERT INTO local_areas(id, name, updated_hlc) VALUES('la-north',"
                       " 'North Local Area', '000000000001.0000.hub')")
            db.execute("INSERT INTO offices(id, local_area_id, name, updated_hlc) VALUES("
                       "'north-office', 'la-north', 'North AJCC', '000000000001.0000.hub')")
            db.commit()
        finally:
            db.close()
        hub_account(cls.hub, "case.south", "0190c000-0000-7000-8000-0000000c0001", "demo-la", "demo-office")
        hub_account(cls.hub, "case.north", "0190c000-0000-7000-8000-0000000c0002", "la-north", "north-office")
        hub_account(cls.hub, "case.super", "0190c000-0000-7000-8000-0000000c0003", "demo-la", "demo-office",
                    "LWIA Partner Supervisor")
        plant_secret(CASE_PASSWORD)
        cls.schema = cls.hub.get("/healthz").json()["schema_version"]
        cls.enroll_offices((("a", "demo-office"), ("b", "demo-office-2"), ("c", "north-office")),
                           {"OUTPOST_NODE_DEMO": "no"}, "case-sync")
        for n in cls.nodes.values():
            wait_for(lambda n=n: count(n, "SELECT count(*) FROM participant_activity_codes") > 100,
                     what="the code lists to reach " + n.name)
        for name, user in (("a", "case.south"), ("b", "case.south"), ("c", "case.north")):
            sign_in(cls.nodes[name], user)
        # A supervisor at office A (raises Help Requests).
        cls.sup = harness.client(cls.nodes["a"])
        wait_for(lambda: count(cls.sup, "SELECT count(*) FROM staff_credentials c JOIN staff s"
                                        " ON s.id = c.id WHERE s.username='case.super'") == 1,
                 what="the supervisor's account at office A")
        harness.login(cls.sup, "case.super", CASE_PASSWORD)

    @classmethod
    def code(cls, office):
        return harness.hub_code(cls.hub, office)

    def test_program_entry_of_an_intake_account_quarantined(self):
        """The hub checks program_edit itself: an activity whose staff member
        is LWIA Intake Staff (as a node of an older release, which grants the
        program routes with participant_edit, or a hostile one, pushes it)
        is quarantined naming program_edit; the same row by a case worker
        is taken."""
        a = self.nodes["a"]
        intake_id = "0190c000-0000-7000-8000-0000000c0004"
        hub_account(self.hub, "case.intake", intake_id, "demo-la", "demo-office", "LWIA Intake Staff")
        plant_secret("Programa Vedada")
        r = a.post(API + "/participants", {"first_name": "Programa", "last_name": "Vedada",
                                           "birth_date": "1984-09-09"})
        self.assertEqual(r.status, 201, r.body)
        pid = r.json()["id"]
        today = harness.office_day(a, span=60)
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM participants WHERE id=?", pid) == 1,
                 what="the participant at the hub")
        r = self.hub.post("/api/v1/sync/enroll", {"code": self.code("demo-office"), "hostname": "older"})
        self.assertEqual(r.status, 200, r.body)
        older = th.Enrolled(self.hub, r.json())
        db = self.hub.db()
        try:
            names = [x[1] for x in db.execute("SELECT * FROM pragma_table_info('participant_activities')"
                                              " ORDER BY cid")]
            note_names = [x[1] for x in db.execute("SELECT * FROM pragma_table_info('case_notes')"
                                                   " ORDER BY cid")]
            title = db.execute("SELECT title FROM participant_activity_codes WHERE code='102'").fetchone()[0]
        finally:
            db.close()

        def activity(seq, aid, staff):
            now = int(time.time() * 1000)
            row = {"id": aid, "participant_id": pid, "local_area_id": "demo-la",
                   "office_id": "demo-office", "code": "102", "code_list": "activity",
                   "start_date": today, "staff_id": staff, "entered_date": today,
                   "entered_at": now, "backdate_days": 0, "clock_skew_ms": 0,
                   "voided": 0}
            # with its activity case note, in the same write (as the route makes them)
            note = {"id": str(uuid.uuid4()), "participant_id": pid, "local_area_id": "demo-la",
                    "office_id": "demo-office", "kind": "activity", "activity_id": aid,
                    "subject": "102 " + title, "contact_date": today, "body": "Met.",
                    "staff_id": staff, "entered_date": today, "entered_at": now, "clock_skew_ms": 0}
            cs = th.changeset_insert("participant_activities", [1] + [0] * (len(names) - 1),
                                     [row.get(k) for k in names]) + \
                th.changeset_insert("case_notes", [1] + [0] * (len(note_names) - 1),
                                    [note.get(k) for k in note_names])
            r = older.push(th.build_frame([(seq, "0190a00000%02x.0000.%s" % (seq, older.node_id), "", cs)],
                                          self.schema))
            self.assertEqual(r.status, 200, r.body)
            return r.json()["quarantined"]

        bad = "0190c000-0000-7000-8000-0000000000a7"
        q = activity(1, bad, intake_id)
        self.assertEqual([x["seq"] for x in q], [1], q)
        self.assertIn("staff_id does not hold program_edit", q[0]["reason"])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participant_activities WHERE id=?", bad), 0)
        self.assertEqual(count(self.hub, "SELECT count(*) FROM quarantine WHERE node_id=? AND"
                                         " tbl='participant_activities'", older.node_id), 1)
        good = "0190c000-0000-7000-8000-0000000000a8"
        self.assertEqual(activity(2, good, "0190c000-0000-7000-8000-0000000c0001"), [])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participant_activities WHERE id=?", good), 1)

    def test_scope_amendments_audit_and_quarantine(self):
        a, b, c = self.nodes["a"], self.nodes["b"], self.nodes["c"]
        wait_for(lambda: a.get(API + "/meta").json()["ssn_key"], what="node a's SSN key")
        # Keys: each office holds only its own Local Area's.
        self.assertEqual(count(c, "SELECT count(*) FROM case_keys WHERE local_area_id='demo-la'"), 0)
        wait_for(lambda: count(c, "SELECT count(*) FROM case_keys WHERE local_area_id='la-north'") == 1,
                 what="node c's own key")
        # Offline: the hub is down while office A registers and documents.
        self.hub.stop()
        name, ssn, text = "Serafina Replicada", "412-55-7788", "Discussed training options in welding."
        for s in (name, "Replicada", ssn, ssn.replace("-", ""), text):
            plant_secret(s)
        r = a.post(API + "/participants", {"first_name": "Serafina", "last_name": "Replicada",
                                           "birth_date": "1990-07-04", "ssn": ssn})
        self.assertEqual(r.status, 201, r.body)
        pid = r.json()["id"]
        today = harness.office_day(a, span=60)
        r = a.post(API + "/participants/%s/activities" % pid,
                   {"code": "102", "start_date": today, "note": {"body": text}})
        self.assertEqual(r.status, 201, r.body)
        nid = r.json()["note"]["id"]
        amend = "Discussed training options in welding and pipefitting."
        plant_secret(amend)
        # Staff cannot amend entered data: a supervisor's Help Request.
        self.assertEqual(a.post(API + "/notes/%s/amend" % nid, {"body": amend, "reason": "typo"}).status, 403)
        r = self.sup.post(API + "/notes/%s/amend" % nid, {"body": amend, "reason": "Left out pipefitting."})
        self.assertEqual(r.status, 201, r.body)
        aid = r.json()["id"]
        rid = r.json()["approval"]["request_id"]
        self.assertEqual(a.get(API + "/participants/" + pid).status, 200)
        self.assertGreater(count(a, "SELECT count(*) FROM outbox"), 0)
        self.hub.start()
        # At the hub, then in the other office of the Local Area.
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM case_notes WHERE id=?", aid) == 1,
                 what="the amendment at the hub")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participants WHERE id=?", pid), 1)
        # The whole number, in either spelling: four digits would turn up in
        # random ciphertext about once in a thousand runs.
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participants WHERE id=? AND"
                                         " (instr(CAST(ssn_enc AS TEXT), '412557788') > 0 OR"
                                         "  instr(CAST(ssn_enc AS TEXT), '412-55-7788') > 0)", pid), 0)
        wait_for(lambda: count(b, "SELECT count(*) FROM case_notes WHERE id=? AND amends_id=?", aid, nid) == 1,
                 what="the amendment in office B")
        self.assertEqual(count(b, "SELECT count(*) FROM participants WHERE id=?", pid), 1)
        # Office B reads it through its API (and can reveal the SSN with the
        # Local Area's key).
        t = b.get(API + "/participants/%s/timeline" % pid).json()
        self.assertEqual(t["activities"][0]["notes"][0]["amendments"][0]["body"], amend)
        self.assertEqual(t["activities"][0]["notes"][0]["amendments"][0]["change_state"], "pending")
        self.assertEqual(count(self.hub, "SELECT count(*) FROM case_approval_requests WHERE id=? AND"
                                         " change_id=? AND entry_id=?", rid, aid, nid), 1)
        self.assertEqual(b.post(API + "/participants/%s/ssn/reveal" % pid).json()["ssn"], ssn)
        # Audit events of the reads reach the hub.
        wait_for(lambda: count(self.hub, "SELECT count(*) FROM audit_events WHERE action='participant_read'"
                                         " AND subject_id=?", pid) >= 2, what="audit events at the hub")
        # Office C (another Local Area) never receives any of it.
        head = count(self.hub, "SELECT max(seq) FROM change_log")
        wait_for(lambda: (c.get("/api/v1/sync/status").json().get("cursor") or 0) >= head,
                 what="office C caught up")
        for t in ("participants", "case_notes", "participant_activities", "backdate_approvals"):
            self.assertEqual(count(c, "SELECT count(*) FROM %s" % t), 0, t)
        self.assertEqual(c.get(API + "/participants?q=Replicada").json(), [])
        self.assertEqual(c.get(API + "/participants/" + pid).status, 404)
        # A forged changeset editing the saved note: quarantined, unchanged.
        r = self.hub.post("/api/v1/sync/enroll", {"code": self.code("demo-office"), "hostname": "forger"})
        self.assertEqual(r.status, 200, r.body)
        forger = th.Enrolled(self.hub, r.json())
        cs = changeset_update("case_notes", 15, nid, 8, text, "Rewritten after the fact.")
        r = forger.push(th.build_frame([(1, "0190a0000000.0000." + forger.node_id, "", cs)],
                                                self.schema))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([q["seq"] for q in r.json()["quarantined"]], [1])
        self.assertIn("append-only", r.json()["quarantined"][0]["reason"])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM case_notes WHERE id=? AND body=?", nid, text), 1)
        self.assertEqual(count(self.hub, "SELECT count(*) FROM quarantine WHERE node_id=? AND tbl='case_notes'",
                               forger.node_id), 1)
        # A row in scope that breaks a case-management rule (an exit with no
        # date): the hub's validator refuses it as the node's API would.
        exit_row = {"id": "0190c000-0000-7000-8000-0000000000e1", "participant_id": pid,
                    "local_area_id": "demo-la", "office_id": "demo-office", "exit_date": "soon",
                    "kind": "soft_exit", "recorded_at": 1}
        db = self.hub.db()
        try:
            names = [r[1] for r in db.execute("SELECT * FROM pragma_table_info('participant_exits') ORDER BY cid")]
        finally:
            db.close()
        cs = th.changeset_insert("participant_exits", [1] + [0] * (len(names) - 1),
                                 [exit_row.get(k) for k in names])
        r = forger.push(th.build_frame([(2, "0190a0000001.0000." + forger.node_id, "", cs)],
                                                self.schema))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual([q["seq"] for q in r.json()["quarantined"]], [2], r.body)
        self.assertIn("exit_date is not a date", r.json()["quarantined"][0]["reason"])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participant_exits WHERE id=?", exit_row["id"]), 0)
        # A node of the other Local Area writing a demo-la participant.
        r = self.hub.post("/api/v1/sync/enroll", {"code": self.code("north-office"), "hostname": "north"})
        north = th.Enrolled(self.hub, r.json())
        cols = count(self.hub, "SELECT count(*) FROM pragma_table_info('participants')")
        vals = {"id": "0190c000-0000-7000-8000-0000000000f1", "local_area_id": "demo-la",
                "office_id": "demo-office", "first_name": "Out", "last_name": "Side",
                "birth_date": "1980-01-01", "ssn_kind": "none", "registered_date": today,
                "registered_at": 1, "exit_state": "active",
                "updated_hlc": "0190a0000000.0000." + north.node_id}
        db = self.hub.db()
        try:
            names = [r[1] for r in db.execute("SELECT * FROM pragma_table_info('participants') ORDER BY cid")]
        finally:
            db.close()
        self.assertEqual(len(names), cols)
        cs = th.changeset_insert("participants", [1] + [0] * (cols - 1), [vals.get(k) for k in names])
        r = north.push(th.build_frame([(1, "0190a0000000.0000." + north.node_id, "", cs)],
                                               self.schema))
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len(r.json()["quarantined"]), 1)
        self.assertIn("Local Area", r.json()["quarantined"][0]["reason"])
        self.assertEqual(count(self.hub, "SELECT count(*) FROM participants WHERE id=?", vals["id"]), 0)
        # No planted value in any daemon's log.
        for d in [self.hub] + list(self.nodes.values()):
            log = d.read_log()
            for s in (name, "Replicada", ssn, ssn.replace("-", ""), text, amend):
                self.assertNotIn(s, log, d.name)


if __name__ == "__main__":
    unittest.main()
