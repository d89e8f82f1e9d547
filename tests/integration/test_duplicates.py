"""The same person registered at two offices of one Local Area while the
network was down: each node's own duplicate check (the SSN's keyed hash)
saw only its own rows, so both registrations are taken.  The hub, which
compares the keyed hashes of the Local Area (never an SSN), flags the pair
for review (participant_duplicate_flags); both offices see it on the
participant, one reviews it, and the review reaches the other.  (That a
node cannot make or move a flag: tests/unit/test_case.c.)
"""
import json
import os
import unittest

import harness
from harness import client, login
from test_sync_node import Office, count, wait_for

SSN = "532-67-1849"


def la_key_at(node):
    with open(os.path.join(node.data, "sync.json")) as f:
        return "la_key" in json.load(f)


def register(node, first, ssn=SSN, birth="1984-03-09"):
    body = {"first_name": first, "last_name": "Okafor", "birth_date": birth}
    body.update({"pseudo_ssn": True} if ssn is None else {"ssn": ssn})
    r = node.post("/api/v1/case/participants", body)
    assert r.status == 201, r
    return r.json()["id"]


def duplicates_of(node, pid):
    r = node.get("/api/v1/case/participants/" + pid)
    assert r.status == 200, r
    return r.json()["possible_duplicates"]


class DuplicateParticipantsTest(unittest.TestCase):
    def setUp(self):
        self.o = Office(self)

    def tearDown(self):
        self.o.close()

    def test_registered_twice_offline_flagged_and_reviewed(self):
        hub = self.o.hub()
        a = self.o.node(hub, "demo-office")
        b = self.o.node(hub, "demo-office-2")
        for n in (a, b):
            wait_for(lambda n=n: la_key_at(n), timeout=60, what="the Local Area key")
        hub.stop()  # the network is down: each office registers the visitor
        pa = register(a, "Ada")
        pb = register(b, "Adaeze")
        # A pseudo-SSN is the birth date's, shared by design: never flagged.
        qa = register(a, "Pat", ssn=None, birth="1990-07-04")
        qb = register(b, "Pat", ssn=None, birth="1990-07-04")
        hub.start()
        wait_for(lambda: count(hub, "SELECT count(*) FROM participant_duplicate_flags") >= 1,
                 timeout=90, what="the flag at the hub")
        self.assertEqual(count(hub, "SELECT count(*) FROM participant_duplicate_flags"), 1)
        self.assertEqual(count(hub, "SELECT count(*) FROM participants WHERE id IN (?,?,?,?)",
                               pa, pb, qa, qb), 4, "both registrations are kept")
        # Both offices see it, each on its own participant, naming the other.
        for node, mine, other in ((a, pa, pb), (b, pb, pa)):
            wait_for(lambda node=node, mine=mine: duplicates_of(node, mine), timeout=90,
                     what="the flag at the office")
            d = duplicates_of(node, mine)
            self.assertEqual([(x["id"], x["reason"]) for x in d], [(other, "ssn")])
            # The other's name came with the record: its read is audited too.
            ev = json.loads(harness.db_value(node, "SELECT detail FROM audit_events WHERE"
                                                   " action='participant_duplicates_list'"
                                                   " ORDER BY at DESC LIMIT 1"))
            self.assertEqual(ev["ids"], [other])
            self.assertEqual(duplicates_of(node, qa if node is a else qb), [])
        listed = a.get("/api/v1/case/duplicates").json()
        self.assertEqual({listed[0]["participant_id"], listed[0]["other_participant_id"]},
                         {pa, pb})
        # The list names both people: a read of each, audited as a search is
        # (their ids, never their names).
        ev = json.loads(harness.db_value(a, "SELECT detail FROM audit_events WHERE"
                                            " action='participant_duplicates_list'"
                                            " ORDER BY at DESC LIMIT 1"))
        self.assertEqual((sorted(ev["ids"]), ev["results"]), (sorted([pa, pb]), 1))
        flag = listed[0]["id"]
        # A view-only account sees it but does not review it.
        v = client(a)
        login(v, "t-view")
        self.assertEqual(v.post("/api/v1/case/duplicates/%s/review" % flag,
                                {"outcome": "same_person"}).status, 403)
        self.assertEqual(a.post("/api/v1/case/duplicates/%s/review" % flag,
                                {"outcome": "maybe"}).json()["field"], "outcome")
        r = a.post("/api/v1/case/duplicates/%s/review" % flag, {"outcome": "same_person"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(a.post("/api/v1/case/duplicates/%s/review" % flag,
                                {"outcome": "different_people"}).status, 409)
        self.assertEqual(duplicates_of(a, pa), [])
        wait_for(lambda: count(hub, "SELECT status FROM participant_duplicate_flags") ==
                 "same_person", timeout=90, what="the review at the hub")
        self.assertEqual(count(hub, "SELECT resolved_by FROM participant_duplicate_flags"),
                         "demo-staff")
        wait_for(lambda: duplicates_of(b, pb) == [], timeout=90, what="the review at office B")
        self.assertEqual(count(hub, "SELECT count(*) FROM quarantine"), 0)


if __name__ == "__main__":
    unittest.main()
