"""Greeter on a real outpost-node: the API contract, the front-desk flow,
bad input of every kind, and durability under SIGKILL."""
import csv
import io
import json
import urllib.parse
import os
import re
import signal
import socket
import sqlite3
import threading
import time
import unittest

import harness
from harness import Daemon, wait_until


class EventStream:
    """Server-sent events read from a raw socket: next() gives (event name,
    data as JSON), or None when the stream ends; raw holds every byte."""

    def __init__(self, sock):
        self.sock = sock
        self.raw = b""
        self.pos = 0

    def _more(self):
        chunk = self.sock.recv(4096)
        self.raw += chunk
        return bool(chunk)

    def head(self):
        while b"\r\n\r\n" not in self.raw:
            if not self._more():
                raise AssertionError("stream closed early: %r" % self.raw)
        self.pos = self.raw.index(b"\r\n\r\n") + 4
        return self.raw[:self.pos]

    def next(self):
        while True:
            end = self.raw.find(b"\n\n", self.pos)
            if end < 0:
                if not self._more():
                    return None
                continue
            block = self.raw[self.pos:end].decode()
            self.pos = end + 2
            fields = dict(line.split(": ", 1) for line in block.split("\n")
                          if line and not line.startswith(":"))
            if "event" in fields:
                return fields["event"], json.loads(fields["data"])

    def close(self):
        self.sock.close()


def open_events(tc, client):
    """A raw GET /api/v1/greeter/events for client's session: an
    EventStream after the headers and the hello."""
    import socket
    cookie = "; ".join("%s=%s" % kv for kv in client.cookies.items())
    s = socket.create_connection(("127.0.0.1", client.port), timeout=20)
    s.sendall(("GET /api/v1/greeter/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n"
               "Accept: text/event-stream\r\n\r\n" % cookie).encode())
    es = EventStream(s)
    head = es.head()
    tc.assertIn(b"HTTP/1.1 200 OK", head)
    tc.assertIn(b"text/event-stream", head)
    tc.assertNotIn(b"Content-Length", head)
    name, hello = es.next()
    tc.assertEqual(name, "hello")
    return es, hello


class GreeterTest(harness.DemoNode):

    def reasons(self):
        r = self.node.get("/api/v1/greeter/reasons")
        self.assertEqual(r.status, 200)
        return r.json()

    def checkin(self, name, **kw):
        body = {"visitor_name": name, "reason_ids": [self.reasons()[0]["id"]], "language": "en"}
        body.update(kw)
        return self.node.post("/api/v1/checkins", body)

    def test_healthz(self):
        r = self.node.get("/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["status"], "ok")
        self.assertIn("application/json", r.header("Content-Type"))

    def test_reasons_list(self):
        rs = self.reasons()
        self.assertGreaterEqual(len(rs), 5)
        for x in rs:
            self.assertTrue(x["id"])
            self.assertTrue(x["label"])
            self.assertTrue(x["label_es"])

    def test_cached_reads_etag_and_invalidation(self):
        # The reasons and the waiting list come from the node's cache
        # (node_gcache.c): an ETag, 304 when the client's copy is current,
        # and a write shows at once, within the second the list is kept.
        r = self.node.get("/api/v1/greeter/reasons")
        etag = r.header("ETag")
        self.assertTrue(etag and etag.startswith('"'), r.headers)
        r2 = self.node.get("/api/v1/greeter/reasons", headers={"If-None-Match": etag})
        self.assertEqual(r2.status, 304)
        self.assertEqual(r2.body, b"")
        self.assertEqual(self.node.get("/api/v1/greeter/reasons",
                                       headers={"If-None-Match": '"other"'}).status, 200)
        # the reasons are public: the browser keeps them and asks again; the
        # list names visitors: never on the disk of a shared office PC
        self.assertEqual(r.header("Cache-Control"), "no-cache")
        lst = self.node.get("/api/v1/checkins?status=all")
        self.assertEqual((lst.status, lst.header("Cache-Control")), (200, "private, no-store"))
        self.assertTrue(lst.header("ETag"))
        # A reason written behind the node's back (another connection) is
        # seen: data_version moved.
        db = self.node.db()
        row = db.execute("SELECT id, label FROM greeter_reasons WHERE active=1"
                         " ORDER BY sort LIMIT 1").fetchone()
        db.execute("UPDATE greeter_reasons SET label=? WHERE id=?", (row[1] + " (new)", row[0]))
        db.commit()
        r3 = self.node.get("/api/v1/greeter/reasons", headers={"If-None-Match": etag})
        self.assertEqual(r3.status, 200)
        self.assertIn(row[1] + " (new)", [x["label"] for x in r3.json()])
        self.assertNotEqual(r3.header("ETag"), etag)
        db.execute("UPDATE greeter_reasons SET label=? WHERE id=?", (row[1], row[0]))
        db.commit()
        db.close()
        for i in range(5):
            before = self.node.get("/api/v1/checkins?status=waiting")
            self.assertEqual(before.status, 200)
            c = self.checkin("Cache Check %d" % i)
            self.assertEqual(c.status, 201, c.body)
            after = self.node.get("/api/v1/checkins?status=waiting")
            self.assertIn(c.json()["id"], [x["id"] for x in after.json()])
            self.assertNotEqual(after.header("ETag"), before.header("ETag"))
            self.assertEqual(self.node.post("/api/v1/checkins/%s/action" % c.json()["id"],
                                            {"action": "left"}).status, 200)
            gone = self.node.get("/api/v1/checkins?status=waiting")
            self.assertNotIn(c.json()["id"], [x["id"] for x in gone.json()])

    def test_checkin_appears_waiting_and_in_outbox(self):
        db = self.node.db()
        before = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        rs = self.reasons()
        r = self.node.post("/api/v1/checkins", {
            "visitor_name": "María González", "reason_ids": [rs[1]["id"], rs[2]["id"]],
            "language": "es", "phone": "(916) 555-0100"})
        self.assertEqual(r.status, 201, r.body)
        c = r.json()
        self.assertTrue(c["id"])
        self.assertEqual(c["visitor_name"], "María González")
        self.assertEqual(c["status"], "waiting")
        self.assertEqual(sorted(c["reason_ids"]), sorted([rs[1]["id"], rs[2]["id"]]))
        self.assertEqual(c["language"], "es")
        lst = self.node.get("/api/v1/checkins?status=waiting")
        self.assertEqual(lst.status, 200)
        ids = [x["id"] for x in lst.json()]
        self.assertIn(c["id"], ids)
        for x in lst.json():
            self.assertIn("visitor_name", x)
            self.assertEqual(x["status"], "waiting")
        # Exactly one outbox entry for the write, and the row is in node.db.
        after = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        self.assertEqual(after, before + 1)
        row = db.execute("SELECT visitor_name FROM checkins WHERE id=?", (c["id"],)).fetchone()
        self.assertEqual(row[0], "María González")
        db.close()

    def test_front_desk_flow(self):
        c = self.checkin("Flow Person").json()
        cid = c["id"]
        for action, status in (("call", "called"), ("requeue", "waiting"), ("serve", "serving"),
                               ("done", "done")):
            r = self.node.post("/api/v1/checkins/%s/action" % cid,
                               {"action": action, "note": "note for " + action})
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["status"], status)
        # Done is final.
        r = self.node.post("/api/v1/checkins/%s/action" % cid, {"action": "call"})
        self.assertEqual(r.status, 409)
        self.assertIn("error", r.json())
        waiting = [x["id"] for x in self.node.get("/api/v1/checkins?status=waiting").json()]
        self.assertNotIn(cid, waiting)
        done = [x["id"] for x in self.node.get("/api/v1/checkins?status=done").json()]
        self.assertIn(cid, done)
        db = self.node.db()
        events = db.execute("SELECT action FROM checkin_events WHERE checkin_id=? ORDER BY at, id",
                            (cid,)).fetchall()
        db.close()
        self.assertEqual([e[0] for e in events], ["checkin", "call", "requeue", "serve", "done"])
        # The desk's writes name the staff member who took them (a conflict
        # over the visit then names them too); the visitor's own check-in
        # names no one.
        actors = [r[0] for r in self.node.db().execute(
            "SELECT actor FROM outbox WHERE seq >= (SELECT max(seq) - 4 FROM outbox) ORDER BY seq")]
        self.assertEqual(actors, [None, "demo-staff", "demo-staff", "demo-staff", "demo-staff"])

    def test_participant_link_follows_the_visits_rules(self):
        # A check-in or a desk action links a visit to a participant under
        # the rules of POST /case/participants/:id/visits: held in this
        # Local Area, not linked to another, a different name confirmed.
        P = "/api/v1/case/participants"
        ana = self.node.post(P, {"first_name": "Ana", "last_name": "Linkova", "birth_date": "1980-02-03"})
        self.assertEqual(ana.status, 201, ana.body)
        ana = ana.json()["id"]
        bo = self.node.post(P, {"first_name": "Bo", "last_name": "Otherson", "birth_date": "1981-03-04"})
        self.assertEqual(bo.status, 201, bo.body)
        bo = bo.json()["id"]
        elsewhere = "0190c000-0000-7000-8000-00000000aa01"
        harness.db_write(self.node, "INSERT INTO participants(id, local_area_id, office_id, first_name,"
                         " last_name, birth_date, registered_date, registered_at) VALUES(?, 'other-la',"
                         " 'other-office', 'Ana', 'Linkova', '1980-02-03', '2026-01-05', 1)", elsewhere)
        for pid in ("no-such-participant", elsewhere):
            r = self.checkin("Ana Linkova", participant_id=pid)
            self.assertEqual(r.status, 400, r.body)
            self.assertEqual(r.json()["field"], "participant_id")
        r = self.checkin("Someone Else", participant_id=ana)
        self.assertEqual(r.status, 409, r.body)
        self.assertTrue(r.json()["name_mismatch"])
        self.assertEqual(r.json()["visitor_name"], "Someone Else")
        r = self.checkin("Someone Else", participant_id=ana, confirm_name=True)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["participant_id"], ana)
        r = self.checkin("Ana Linkova", participant_id=ana)
        self.assertEqual(r.status, 201, r.body)
        linked = r.json()["id"]
        # "" links nobody: stored as NULL, not as ''.
        r = self.checkin("Blank Link", participant_id="")
        self.assertEqual(r.status, 201, r.body)
        self.assertIsNone(r.json()["participant_id"])
        blank = r.json()["id"]
        self.assertEqual(harness.db_value(self.node, "SELECT participant_id IS NULL FROM checkins"
                                                     " WHERE id=?", blank), 1)
        # A desk action: the same rules, and nothing changes when refused.
        A = "/api/v1/checkins/%s/action"
        for pid in ("another-bogus-id", elsewhere):
            r = self.node.post(A % blank, {"action": "call", "participant_id": pid})
            self.assertEqual(r.status, 400, r.body)
            self.assertEqual(r.json()["field"], "participant_id")
        r = self.node.post(A % linked, {"action": "call", "participant_id": bo})
        self.assertEqual(r.status, 409, r.body)
        self.assertIn("another participant", r.json()["error"])
        r = self.node.post(A % blank, {"action": "call", "participant_id": bo})
        self.assertEqual(r.status, 409, r.body)
        self.assertTrue(r.json()["name_mismatch"])
        self.assertEqual(harness.db_value(self.node, "SELECT status FROM checkins WHERE id=?", blank),
                         "waiting")
        r = self.node.post(A % blank, {"action": "call", "participant_id": bo, "confirm_name": True})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["participant_id"], bo)
        r = self.node.post(A % linked, {"action": "serve", "participant_id": ana})
        self.assertEqual(r.status, 200, r.body)
        r = self.node.post(A % linked, {"action": "done", "participant_id": ""})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["participant_id"], ana)

    def test_list_matches_single_view(self):
        a = self.checkin("Order A").json()
        b = self.checkin("Order B").json()
        lst = self.node.get("/api/v1/checkins?status=waiting").json()
        ids = [x["id"] for x in lst]
        self.assertLess(ids.index(a["id"]), ids.index(b["id"]))
        positions = [x["position"] for x in lst]
        self.assertEqual(positions, list(range(1, len(lst) + 1)))
        for x in lst:
            one = self.node.get("/api/v1/checkins/" + x["id"]).json()
            for k in ("visitor_name", "status", "reason_ids", "reasons", "virtual", "position",
                      "arrived_at", "visit_date"):
                self.assertEqual(x[k], one[k], k)
            self.assertGreaterEqual(x["wait_ms"], 0)
        mixed = self.node.get("/api/v1/checkins?status=done,left").json()
        self.assertTrue(all(x["status"] in ("done", "left") for x in mixed))
        # Each status list is the whole list filtered, in its order and with
        # its places (the query reads waiting and other rows apart).
        r = self.node.post("/api/v1/checkins/%s/action" % a["id"], {"action": "call"})
        self.assertEqual(r.status, 200, r.body)
        full = self.node.get("/api/v1/checkins?status=all").json()
        for q in ("waiting", "called", "waiting,called,serving", "done,left"):
            part = self.node.get("/api/v1/checkins?status=" + q).json()
            self.assertEqual([(x["id"], x["position"]) for x in part],
                             [(x["id"], x["position"]) for x in full
                              if x["status"] in q.split(",")], q)
        self.assertEqual(self.node.get("/api/v1/checkins?status=bogus").status, 400)

    def test_place_in_line_follows_the_queue(self):
        # The kiosk's "number N in line" comes from a count the node keeps by
        # triggers: it must stay equal to the list through every action.
        def waiting():
            return self.node.get("/api/v1/checkins?status=waiting").json()

        first = self.checkin("Line One").json()
        self.assertEqual(first["position"], len(waiting()))
        second = self.checkin("Line Two").json()
        self.assertEqual(second["position"], len(waiting()))
        for action in ("call", "requeue", "serve", "done"):
            r = self.node.post("/api/v1/checkins/%s/action" % first["id"], {"action": action})
            self.assertEqual(r.status, 200, (action, r.body))
            c = self.checkin("After " + action).json()
            self.assertEqual(c["position"], len(waiting()), action)
        lst = waiting()
        self.assertNotIn(first["id"], [x["id"] for x in lst])
        self.assertEqual([x["position"] for x in lst], list(range(1, len(lst) + 1)))
        for x in lst:
            self.assertEqual(self.node.get("/api/v1/checkins/" + x["id"]).json()["position"],
                             x["position"])

    def test_left_and_unknown_id(self):
        c = self.checkin("Leaver").json()
        r = self.node.post("/api/v1/checkins/%s/action" % c["id"], {"action": "left"})
        self.assertEqual(r.json()["status"], "left")
        r = self.node.post("/api/v1/checkins/nope/action", {"action": "call"})
        self.assertEqual(r.status, 404)
        r = self.node.get("/api/v1/checkins/nope")
        self.assertEqual(r.status, 404)
        r = self.node.post("/api/v1/checkins/%s/action" % c["id"], {"action": "dance"})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["field"], "action")

    def test_another_days_visit_is_a_report(self):
        """The desk reaches today's visits of its office: another day's, by
        id as in the list, needs the reports privilege to be read or moved
        (LWIA Intake Staff works the desk without it); a visit not of this
        office is not there."""
        old = self.checkin("Yesterday Visitor").json()["id"]
        today = self.checkin("Today Visitor").json()["id"]
        elsewhere = self.checkin("Elsewhere Visitor").json()["id"]
        d = self.node.db()
        d.execute("UPDATE checkins SET visit_date=date(visit_date, '-2 days') WHERE id=?", (old,))
        d.execute("UPDATE checkins SET office_id='another-office' WHERE id=?", (elsewhere,))
        d.commit()
        d.close()
        desk = harness.client(self.node)
        harness.login(desk, "t-lwia-intake")
        r = desk.get("/api/v1/checkins/" + old)
        self.assertEqual((r.status, r.json().get("field")), (403, "id"), r.body)
        self.assertNotIn(b"Yesterday Visitor", r.body)
        r = desk.post("/api/v1/checkins/%s/action" % old, {"action": "left"})
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(self.node.get("/api/v1/checkins/" + old).json()["status"], "waiting")
        for c in (desk, self.node):
            self.assertEqual(c.get("/api/v1/checkins/" + elsewhere).status, 404)
            self.assertEqual(c.post("/api/v1/checkins/%s/action" % elsewhere, {"action": "call"}).status, 404)
        # today's: the desk's; another day's: the demo account's (reports)
        self.assertEqual(desk.get("/api/v1/checkins/" + today).json()["visitor_name"], "Today Visitor")
        self.assertEqual(desk.post("/api/v1/checkins/%s/action" % today, {"action": "call"}).status, 200)
        self.assertEqual(self.node.get("/api/v1/checkins/" + old).json()["visitor_name"], "Yesterday Visitor")
        es, _ = open_events(self, desk)
        try:
            self.assertEqual(self.node.post("/api/v1/checkins/%s/action" % old,
                                            {"action": "left", "note": "a private note"}).status, 200)
            # ... and the desk's live stream does not carry it either: the
            # next event it hears is today's next visit
            self.checkin("Streamed Today")
            self.assertEqual(es.next()[1]["visit"]["visitor_name"], "Streamed Today")
            self.assertNotIn(b"Yesterday Visitor", es.raw)
        finally:
            es.close()

    def test_stats_and_csv(self):
        self.checkin("Stats One")
        self.checkin("=HYPERLINK(\"x\")")
        r = self.node.get("/api/v1/greeter/stats")
        self.assertEqual(r.status, 200)
        s = r.json()
        self.assertGreaterEqual(s["total"], 2)
        self.assertEqual(len(s["by_hour"]), 24)
        self.assertEqual(sum(h["count"] for h in s["by_hour"]), s["total"])
        self.assertGreaterEqual(sum(x["count"] for x in s["by_reason"]), s["total"])
        r = self.node.get("/api/v1/greeter/visits.csv")
        self.assertEqual(r.status, 200)
        self.assertIn("text/csv", r.header("Content-Type"))
        # A UTF-8 byte-order mark first, so a spreadsheet reads "María" right.
        self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"))
        text = r.body.decode("utf-8-sig")
        self.assertTrue(text.startswith("visit_id,date,arrived,visitor_name"))
        self.assertIn("Stats One", text)
        self.assertNotIn('"=HYPERLINK', text)  # formula neutralized
        self.assertIn("'=HYPERLINK", text)
        # a bulk export of visitors' names and notes is audited: who, the range, how many
        db = self.node.db()
        ev = db.execute("SELECT staff_id, subject_table, detail FROM audit_events"
                        " WHERE action='greeter_visits_export' ORDER BY rowid DESC LIMIT 1").fetchone()
        db.close()
        self.assertIsNotNone(ev)
        self.assertEqual((ev[0], ev[1]), ("demo-staff", "checkins"))
        self.assertEqual(json.loads(ev[2])["visits"], text.count("\r\n") - 1)
        r = self.node.get("/api/v1/greeter/stats?date=2026-02-30")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["field"], "date")
        # a range is at most 366 days, both ends counted
        self.assertEqual(self.node.get("/api/v1/greeter/stats?from=2025-01-01&to=2026-01-01").status, 200)
        r = self.node.get("/api/v1/greeter/stats?from=2025-01-01&to=2026-01-02")
        self.assertEqual((r.status, r.json().get("field")), (400, "to"))

    def test_live_events(self):
        """GET /api/v1/greeter/events: after a committed check-in or action,
        an event numbered after the last that carries the visit exactly as
        the list shows it, so the desk need not read the list again; the
        session is checked before every event; none without the front-desk
        privilege or a session.  The second desk is staff of another office
        of the Local Area (srivera, home office demo-office-2): the list is
        this node's office's, and so are its events."""
        es, hello = open_events(self, self.node)
        other = harness.client(self.node)
        harness.login(other, "srivera")
        es2, hello2 = open_events(self, other)
        try:
            self.assertEqual(hello["today"], self.node.get("/api/v1/greeter/stats").json()["from"])
            seq = hello["seq"]
            self.assertEqual(hello2["seq"], seq)
            r = self.checkin("Live Lena", language="es", phone="(555) 010-4477")
            self.assertEqual(r.status, 201)
            cid = r.json()["id"]
            name, d = es.next()
            self.assertEqual((name, d["seq"], d["op"], d["today"]),
                             ("checkins", seq + 1, "upsert", hello["today"]))
            v = d["visit"]
            listed = [x for x in self.node.get("/api/v1/checkins?status=all").json()
                      if x["id"] == cid][0]
            # The row as the list shows it (the wait counts on: compared apart;
            # the list's is computed for the start of its second).
            self.assertLess(abs(v.pop("wait_ms") - listed.pop("wait_ms")), 5000)
            self.assertEqual(v, listed)
            self.assertEqual((v["visitor_name"], v["status"], v["language"]),
                             ("Live Lena", "waiting", "es"))
            for key in v:
                self.assertNotIn("ssn", key.lower())
            self.assertNotIn(b"password", es.raw.lower())
            self.assertEqual(es2.next()[1]["seq"], seq + 1)
            # A status change: the next number, the new status and its time.
            self.assertEqual(self.node.post("/api/v1/checkins/%s/action" % cid,
                                            {"action": "call"}).status, 200)
            name, d = es.next()
            self.assertEqual((d["seq"], d["op"], d["visit"]["id"], d["visit"]["status"]),
                             (seq + 2, "upsert", cid, "called"))
            self.assertIsNone(d["visit"]["position"])
            self.assertTrue(d["visit"]["called_at"])
            # The second desk signs out: it hears no more visits.
            self.assertEqual(es2.next()[1]["seq"], seq + 2)
            harness.logout(other)
            self.assertEqual(self.node.post("/api/v1/checkins/%s/action" % cid,
                                            {"action": "left", "note": "went home"}).status, 200)
            name, d = es.next()
            self.assertEqual((d["seq"], d["visit"]["status"], d["visit"]["note"]),
                             (seq + 3, "left", "went home"))
            self.assertIsNone(es2.next(), "a signed-out desk got an event")
            self.assertNotIn(b"went home", es2.raw)
            # A desk whose account loses the front-desk privilege (its group
            # changed at the hub, pulled here) hears no more visits at once,
            # not at its next page request: the stream is no activity.
            third = harness.client(self.node)
            harness.login(third, "srivera")
            es3, _ = open_events(self, third)
            db = self.node.db()
            try:
                group = db.execute("SELECT privilege_group FROM staff WHERE username="
                                   "'srivera'").fetchone()[0]
                db.execute("UPDATE staff SET privilege_group='View Access' WHERE "
                           "username='srivera'")
                db.commit()
                r = self.checkin("Private Pat", phone="(555) 010-9911")
                self.assertEqual(r.status, 201)
                self.assertEqual(es.next()[1]["visit"]["visitor_name"], "Private Pat")
                self.assertIsNone(es3.next(), "a desk without the privilege got an event")
                self.assertNotIn(b"Private Pat", es3.raw)
                self.assertEqual(third.get("/api/v1/checkins").status, 403)
            finally:
                es3.close()
                db.execute("UPDATE staff SET privilege_group=? WHERE username='srivera'",
                           (group,))
                db.commit()
                db.close()
            seq += 1
            # A refused action commits nothing and sends nothing.
            self.assertEqual(self.node.post("/api/v1/checkins/%s/action" % cid,
                                            {"action": "requeue"}).status, 409)
            r = self.checkin("After Gary")
            name, d = es.next()
            self.assertEqual((d["seq"], d["visit"]["visitor_name"]), (seq + 4, "After Gary"))
        finally:
            es.close()
            es2.close()
        anon = harness.client(self.node)
        r = anon.get("/api/v1/greeter/events")
        self.assertEqual(r.status, 401)
        # The node still answers after the listeners went away.
        self.assertEqual(self.node.get("/healthz").status, 200)

    def test_virtual_visit_is_served(self):
        r = self.checkin("Vera Virtual", virtual=True)
        self.assertEqual(r.status, 201)
        c = r.json()
        self.assertEqual(c["status"], "done")
        self.assertIsNone(c["position"])
        self.assertEqual(c["wait_ms"], 0)
        self.assertTrue(c["staff_name"])
        waiting = self.node.get("/api/v1/checkins?status=waiting").json()
        self.assertFalse(any(x["id"] == c["id"] for x in waiting))
        r = self.node.get("/api/v1/greeter/stats").json()
        self.assertIn("by_language", r)

    def test_returning_visitor_search(self):
        self.checkin("Returning Rosa", phone="916-555-0199")
        r = self.node.get("/api/v1/visitors?q=Returning%20R")
        self.assertEqual(r.status, 200)
        self.assertTrue(any(x["visitor_name"] == "Returning Rosa" for x in r.json()))
        r = self.node.get("/api/v1/visitors?q=9165550199")
        self.assertTrue(any(x["visitor_name"] == "Returning Rosa" for x in r.json()))
        r = self.node.get("/api/v1/visitors?q=%25")
        self.assertEqual(r.status, 200)

    def test_name_limit_counts_characters(self):
        # 120 characters, each two bytes: within GREETER_NAME_MAX, kept
        # whole, and found again by a returning-visitor search of 100 of
        # them; 121 refused, the limit named in characters.
        name = ("Nuñez " * 20)[:119] + "é"
        self.assertEqual((len(name), len(name.encode()) > 128), (120, True))
        r = self.checkin(name, phone="916-555-0142")
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["visitor_name"], name)
        got = [x["visitor_name"] for x in self.node.get("/api/v1/checkins?status=all").json()]
        self.assertIn(name, got)
        r = self.node.get("/api/v1/visitors?q=" + urllib.parse.quote(name[:100]))
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(name, [x["visitor_name"] for x in r.json()])
        r = self.checkin(name + "z")
        self.assertEqual(r.status, 400, r.body)
        self.assertEqual(r.json()["field"], "visitor_name")
        self.assertIn("at most 120 characters", r.json()["error"])
        r = self.node.get("/api/v1/visitors?q=" + urllib.parse.quote(name + "z"))
        self.assertEqual((r.status, r.json().get("field")), (400, "q"), r.body)

    def test_bad_json_bodies(self):
        rid = self.reasons()[0]["id"]
        cases = [
            (b"{not json", None),
            (b"[1,2]", None),
            # one JSON value, and nothing after it but white space
            (json.dumps({"visitor_name": "A", "reason_ids": [rid]}).encode() + b" {\"x\":1}", None),
            (json.dumps({"visitor_name": "A", "reason_ids": [rid]}).encode() + b"\x00\xff", None),
            (json.dumps({"visitor_name": "A", "reason_ids": [rid]}).encode() + b"]]", None),
            (json.dumps({"reason_ids": [rid]}), "visitor_name"),
            (json.dumps({"visitor_name": "", "reason_ids": [rid]}), "visitor_name"),
            (json.dumps({"visitor_name": 42, "reason_ids": [rid]}), "visitor_name"),
            (json.dumps({"visitor_name": "x" * 500, "reason_ids": [rid]}), "visitor_name"),
            (json.dumps({"visitor_name": "A"}), "reason_ids"),
            (json.dumps({"visitor_name": "A", "reason_ids": []}), "reason_ids"),
            (json.dumps({"visitor_name": "A", "reason_ids": "x"}), "reason_ids"),
            (json.dumps({"visitor_name": "A", "reason_ids": ["no-such-reason"]}), "reason_ids"),
            (json.dumps({"visitor_name": "A", "reason_ids": [rid, rid]}), "reason_ids"),
            (json.dumps({"visitor_name": "A", "reason_ids": [rid], "language": "fr"}), "language"),
            (json.dumps({"visitor_name": "A", "reason_ids": [rid], "phone": "abc"}), "phone"),
            (json.dumps({"visitor_name": "A", "reason_ids": [rid], "email": "nope"}), "email"),
            (json.dumps({"visitor_name": "A", "reason_ids": [rid], "virtual": "yes"}), "virtual"),
            (json.dumps({"visitor_name": "A", "reason_ids": [rid], "surprise": 1}), "surprise"),
        ]
        db = self.node.db()
        before = db.execute("SELECT count(*) FROM checkins").fetchone()[0]
        for body, field in cases:
            r = self.node.request("POST", "/api/v1/checkins", body=body,
                                  headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, (body, r.body))
            err = r.json()
            self.assertTrue(err["error"], body)
            raw = body if isinstance(body, bytes) else body.encode()
            if raw.startswith(b'{"visitor_name": "A", "reason_ids": [') and field is None:
                self.assertIn("goes on after", err["error"])
            if raw == b"{not json":
                self.assertIn("not valid JSON", err["error"])
            if field:
                self.assertEqual(err.get("field"), field, (body, err))
        after = db.execute("SELECT count(*) FROM checkins").fetchone()[0]
        db.close()
        self.assertEqual(before, after)
        self.assertEqual(self.node.get("/healthz").status, 200)

    def raw_status(self, data):
        reply = self.node.raw(data)
        line = reply.split(b"\r\n", 1)[0]
        self.assertTrue(line.startswith(b"HTTP/1.1 "), reply[:200])
        status = int(line.split()[1])
        body = reply.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in reply else b""
        if status >= 400 and body:
            self.assertIn("error", json.loads(body.decode()))
        return status

    def test_malformed_http(self):
        self.assertEqual(self.raw_status(b"GARBAGE\r\n\r\n"), 400)
        self.assertEqual(self.raw_status(b"GET /healthz HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n"), 400)
        self.assertEqual(self.raw_status(b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"), 400)
        big = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
        self.assertEqual(self.raw_status(big), 431)
        # Body over the 1 MiB cap, announced and chunked.
        self.assertEqual(self.raw_status(
            b"POST /api/v1/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2000000\r\n\r\n{"), 413)
        chunk = b"%x\r\n%s\r\n" % (600000, b"a" * 600000)
        self.assertEqual(self.raw_status(
            b"POST /api/v1/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunk + chunk + b"0\r\n\r\n"), 413)
        # Request smuggling attempts.
        self.assertEqual(self.raw_status(
            b"POST /api/v1/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400)
        self.assertEqual(self.raw_status(
            b"POST /api/v1/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
            b"Content-Length: 3\r\n\r\n{}"), 400)
        # One Host: the allow-list reads the first, whatever is in front of
        # the node may read another (either order).
        for hosts in ((b"127.0.0.1", b"evil.example"), (b"evil.example", b"127.0.0.1")):
            self.assertEqual(self.raw_status(
                b"GET /healthz HTTP/1.1\r\nHost: %s\r\nHost: %s\r\n\r\n" % hosts), 400)
        # Unknown route and wrong method.
        self.assertEqual(self.raw_status(b"GET /api/v1/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 404)
        self.assertEqual(self.raw_status(b"DELETE /api/v1/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 405)
        # Still serving.
        self.assertEqual(self.node.get("/healthz").status, 200)

    def test_slow_client_timeout(self):
        import socket
        s = socket.create_connection(("127.0.0.1", self.node.port), timeout=30)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes
        t0 = time.time()
        data = s.recv(4096)
        s.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 408"), data[:100])
        self.assertLess(time.time() - t0, 25)
        self.assertEqual(self.node.get("/healthz").status, 200)

    def test_static_assets_etag(self):
        r = self.node.get("/kiosk.html")
        if r.status == 404:
            self.skipTest("web UI not embedded in this build")
        self.assertEqual(r.status, 200)
        etag = r.header("ETag")
        self.assertTrue(etag)
        self.assertIn("text/html", r.header("Content-Type"))
        r2 = self.node.get("/kiosk.html", headers={"If-None-Match": etag})
        self.assertEqual(r2.status, 304)


SYNC_MS = 300
ENV = {"OUTPOST_TEST_HOOKS_SYNC_MS": str(SYNC_MS)}


def next_event(es, timeout=60):
    """The stream's next event (name, data), waiting through heartbeats at
    most timeout seconds."""
    es.sock.settimeout(1)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            ev = es.next()
        except socket.timeout:
            continue
        if ev is None:
            raise AssertionError("the event stream ended")
        return ev
    raise AssertionError("no event within %d s" % timeout)


class LivePullTest(harness.HubAndOffices):
    """The desk's live list hears of pulled visits (node/node_live.c): a
    check-in another node of the same office wrote reaches a desk of this
    node as an "upsert" once this node's background sync pulls it (the pull
    apply names the rows it applied, sync_node_apply_pull_told); one of
    another office never does; this node's own check-in, echoed back by
    the hub's pull, is told again unchanged at most.  Real hub and three nodes, each
    syncing in the background every SYNC_MS (OUTPOST_TEST_HOOKS_SYNC_MS)."""

    @classmethod
    def setUpClass(cls):
        cls.start_hub()
        cls.enroll_offices((("a1", "demo-office"), ("a2", "demo-office"),
                            ("b", "demo-office-2")), ENV, "live-pull")
        for name in ("a1", "a2"):
            harness.login(cls.nodes[name])

    def checkin(self, node, name):
        reasons = node.get("/api/v1/greeter/reasons").json()
        r = node.post("/api/v1/checkins", {"visitor_name": name, "language": "en",
                                           "reason_ids": [reasons[0]["id"]]})
        self.assertEqual(r.status, 201, r.body)
        return r.json()["id"]

    def at_hub(self, cid):
        return harness.db_value(self.hub, "SELECT count(*) FROM checkins WHERE id=?", cid) == 1

    def pulled_by(self, node, cid):
        return harness.db_value(node, "SELECT count(*) FROM checkins WHERE id=?", cid) == 1

    def test_pulled_checkins_reach_the_desk_of_their_office_only(self):
        a1, a2, b = self.nodes["a1"], self.nodes["a2"], self.nodes["b"]
        es, hello = open_events(self, a1)
        try:
            seq = hello["seq"]
            # Another office's visitor reaches the hub first ...
            other = self.checkin(b, "Other Office Olga")
            wait_until(lambda: self.at_hub(other), timeout=60, what="b's check-in at the hub")
            # ... then this office's, written at its other node.
            mine = self.checkin(a2, "Pulled Paula")
            name, d = next_event(es)
            self.assertEqual((name, d["seq"], d["op"]), ("checkins", seq + 1, "upsert"))
            v = d["visit"]
            self.assertEqual((v["id"], v["visitor_name"], v["office_id"], v["status"]),
                             (mine, "Pulled Paula", "demo-office", "waiting"))
            self.assertEqual([r["id"] for r in v["reasons"]], v["reason_ids"])
            self.assertTrue(v["reason_ids"])
            listed = [x for x in a1.get("/api/v1/checkins?status=all").json() if x["id"] == mine][0]
            self.assertLess(abs(v.pop("wait_ms") - listed.pop("wait_ms")), 5000)
            self.assertEqual(v, listed)
            # An action at the other node: the desk here sees the new status.
            self.assertEqual(a2.post("/api/v1/checkins/%s/action" % mine,
                                     {"action": "call"}).status, 200)
            name, d = next_event(es)
            self.assertEqual((d["seq"], d["op"], d["visit"]["id"], d["visit"]["status"]),
                             (seq + 2, "upsert", mine, "called"))
            # This node's own check-in: its event at once; when the hub's
            # pull brings it back, at most the same visit again (a merged row
            # may carry another desk's column under this node's stamp, so
            # pulled visits are always told; the desk's put is idempotent).
            own = self.checkin(a1, "Own Oscar")
            name, d = next_event(es)
            self.assertEqual((d["seq"], d["visit"]["id"]), (seq + 3, own))
            first = {k: v for k, v in d["visit"].items() if k != "wait_ms"}
            wait_until(lambda: self.at_hub(own), timeout=60, what="a1's check-in at the hub")
            last = self.checkin(a2, "Second Sam")
            n = seq + 4
            while True:
                name, d = next_event(es)
                self.assertEqual((d["seq"], d["op"]), (n, "upsert"), d)
                n += 1
                if d["visit"]["id"] != own:
                    break
                self.assertEqual({k: v for k, v in d["visit"].items() if k != "wait_ms"}, first)
            self.assertEqual(d["visit"]["visitor_name"], "Second Sam")
            self.assertTrue(self.pulled_by(a1, last))
            # b's visitor never reached this office's node nor its desk.
            self.assertFalse(self.pulled_by(a1, other))
            self.assertNotIn(b"Olga", es.raw)
            self.assertNotIn(other.encode(), es.raw)
        finally:
            es.close()


class ReasonRenameTest(harness.HubAndOffices):
    """A greeter reason renamed at the hub (console: Greeter, Edit) keeps
    its former label for the visits made before (greeter_reason_labels,
    replicated with the reasons): the hub's report and CSV and the office's
    day report and visits CSV show each visit's reason under the label it had
    when the visit was made; the kiosk and the desk show the new label.  A
    visit made at an office that had not pulled the rename yet stays under
    the label its kiosk offered, whatever the clocks say (the node records
    the labels on the visit's reason).  A real hub and an enrolled office
    node syncing in the background; its pulls wait (OUTPOST_TEST_HOOKS_PAUSE)
    while cls.pause exists."""

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="outpost-rename-")
        cls.pause = os.path.join(cls.tmp, "pause")
        cls.start_hub()
        cls.enroll_offices((("a", "demo-office"),),
                           dict(ENV, OUTPOST_TEST_HOOKS_PAUSE="pull.after_reply:" + cls.pause), "rename")
        harness.login(cls.nodes["a"])

    @classmethod
    def tearDownClass(cls):
        for f in (cls.pause, cls.pause + ".at"):
            if os.path.exists(f):
                os.unlink(f)
        super().tearDownClass()
        os.rmdir(cls.tmp)

    def admin(self, method, path, body=None):
        return self.hub.request(method, path, body=body,
                                headers={"Authorization": "Bearer " + self.token})

    def checkin(self, node, name, reason):
        r = node.post("/api/v1/checkins", {"visitor_name": name, "language": "en",
                                           "reason_ids": [reason]})
        self.assertEqual(r.status, 201, r.body)
        wait_until(lambda: harness.db_value(self.hub, "SELECT count(*) FROM checkin_reasons"
                                            " WHERE checkin_id=?", r.json()["id"]) == 1,
                   timeout=60, what="the visit at the hub")
        return r.json()

    def test_rename_keeps_past_visits_label(self):
        node = self.nodes["a"]
        reason = node.get("/api/v1/greeter/reasons").json()[0]
        rid, old, old_es = reason["id"], reason["label"], reason["label_es"]
        new, new_es = "Renamed Reason Z", "Motivo renombrado Z"
        before = self.checkin(node, "Before Rename", rid)
        r = self.admin("PATCH", "/api/v1/admin/greeter-reasons/" + rid,
                       {"label": new, "label_es": new_es})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["label"], [(f["label"], f["label_es"]) for f in r.json()["former_labels"]]),
                         (new, [(old, old_es)]))
        # the kiosk offers the new label once the office has pulled it
        wait_until(lambda: [x["label"] for x in node.get("/api/v1/greeter/reasons").json()
                            if x["id"] == rid] == [new], timeout=60, what="the new label at the kiosk")
        after = self.checkin(node, "After Rename", rid)
        dates = sorted({before["visit_date"], after["visit_date"]})
        span = "from=%s&to=%s" % (dates[0], dates[-1])

        # The office: its day report and visits CSV, each visit under its label then.
        s = node.get("/api/v1/greeter/stats?" + span).json()
        mine = sorted((x["label"], x["label_es"], x["count"]) for x in s["by_reason"] if x["reason_id"] == rid)
        self.assertEqual(mine, sorted([(old, old_es, 1), (new, new_es, 1)]), s["by_reason"])
        text = node.get("/api/v1/greeter/visits.csv?" + span).body.decode("utf-8-sig")
        got = {x["visitor_name"]: x["reasons"] for x in csv.DictReader(io.StringIO(text))
               if x["visit_id"] in (before["id"], after["id"])}
        self.assertEqual(got, {"Before Rename": old, "After Rename": new})
        # The desk's list: the label now, for both.
        desk = {x["id"]: x for x in node.get("/api/v1/checkins?status=all").json()}
        for v in (before, after):
            if v["id"] in desk:
                self.assertEqual([x["label"] for x in desk[v["id"]]["reasons"]], [new])

        # The hub: the statewide report and its CSV.
        rep = self.admin("GET", "/api/v1/admin/reports/greeter?office_id=demo-office&" + span).json()
        rows = sorted((x["reason"], x["visits"]) for x in rep["rows"] if x["reason_id"] == rid)
        self.assertEqual(rows, sorted([(old, 1), (new, 1)]), rep["rows"])
        r = self.admin("GET", "/api/v1/admin/reports/greeter?format=csv&office_id=demo-office&" + span)
        self.assertEqual(r.status, 200, r.body)
        got = sorted((x["reason"], x["visits"]) for x in csv.DictReader(io.StringIO(r.body.decode("utf-8-sig")))
                     if x["reason"] in (old, new))
        self.assertEqual(got, sorted([(old, "1"), (new, "1")]))

        # The former label reached the office (replicated), so its reports
        # hold it offline too.
        self.assertEqual(harness.db_value(node, "SELECT label FROM greeter_reason_labels"
                                                " WHERE reason_id=?", rid), old)

    def test_visit_before_the_office_pulled_the_rename_keeps_its_label(self):
        """The hub renames a reason while the office's pulls wait; a visitor
        checks in there after the rename (by every clock) under the label
        the kiosk still offers.  Once the office has pulled, its report and
        the hub's name that visit by the old label, and a visit after the
        pull by the new one."""
        node = self.nodes["a"]
        reason = node.get("/api/v1/greeter/reasons").json()[1]
        rid, old, old_es = reason["id"], reason["label"], reason["label_es"]
        new, new_es = "Renamed Offline Y", "Renombrado sin conexion Y"
        open(self.pause, "w").close()
        try:
            wait_until(lambda: os.path.exists(self.pause + ".at"), timeout=60,
                       what="the office's sync waiting in a pull")
            r = self.admin("PATCH", "/api/v1/admin/greeter-reasons/" + rid,
                           {"label": new, "label_es": new_es})
            self.assertEqual(r.status, 200, r.body)
            ended = r.json()["former_labels"][0]["ended_at"]
            self.assertEqual([x["label"] for x in node.get("/api/v1/greeter/reasons").json()
                              if x["id"] == rid], [old])
            r = node.post("/api/v1/checkins", {"visitor_name": "Unpulled Una", "language": "es",
                                               "reason_ids": [rid]})
            self.assertEqual(r.status, 201, r.body)
            before = r.json()
        finally:
            os.unlink(self.pause)
        self.assertGreaterEqual(harness.db_value(node, "SELECT arrived_at FROM checkins WHERE id=?",
                                                 before["id"]), ended)
        wait_until(lambda: harness.db_value(self.hub, "SELECT count(*) FROM checkin_reasons"
                                            " WHERE checkin_id=?", before["id"]) == 1,
                   timeout=60, what="the visit at the hub")
        wait_until(lambda: [x["label"] for x in node.get("/api/v1/greeter/reasons").json()
                            if x["id"] == rid] == [new], timeout=60, what="the new label at the kiosk")
        after = self.checkin(node, "Pulled Pia", rid)
        dates = sorted({before["visit_date"], after["visit_date"]})
        span = "from=%s&to=%s" % (dates[0], dates[-1])

        s = node.get("/api/v1/greeter/stats?" + span).json()
        mine = sorted((x["label"], x["label_es"], x["count"]) for x in s["by_reason"] if x["reason_id"] == rid)
        self.assertEqual(mine, sorted([(old, old_es, 1), (new, new_es, 1)]), s["by_reason"])
        text = node.get("/api/v1/greeter/visits.csv?" + span).body.decode("utf-8-sig")
        got = {x["visitor_name"]: x["reasons"] for x in csv.DictReader(io.StringIO(text))
               if x["visit_id"] in (before["id"], after["id"])}
        self.assertEqual(got, {"Unpulled Una": old, "Pulled Pia": new})
        rep = self.admin("GET", "/api/v1/admin/reports/greeter?office_id=demo-office&" + span).json()
        rows = sorted((x["reason"], x["language"], x["visits"]) for x in rep["rows"] if x["reason_id"] == rid)
        self.assertEqual(rows, sorted([(old, "es", 1), (new, "en", 1)]), rep["rows"])


class ClockedOffices(harness.HubAndOffices):
    """Offices whose clocks a test steps: cls.clock, the file
    OUTPOST_TEST_HOOKS_CLOCK_FILE names (what it holds is added to the
    clock), made in a folder of its own and removed after the class."""

    @classmethod
    def make_clock(cls, prefix):
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix=prefix)
        cls.clock = os.path.join(cls.tmp, "clock")
        with open(cls.clock, "w") as f:
            f.write("0")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.unlink(cls.clock)
        os.rmdir(cls.tmp)


class DayEndTest(ClockedOffices):
    """A visit still open when its office's day is over is closed by the
    node (node_greeter_days.c): waiting or called -> left, serving -> done,
    with a "day_end" event and no finish time, so that day's longest wait
    stops growing; a visit already ended is left as it was; one another
    node of the office checked in is closed a day later; the hub takes the
    closing from the office.  The node's and the hub's clocks are
    stepped a day on (OUTPOST_TEST_HOOKS_CLOCK_FILE); the node looks every
    200 ms."""

    @classmethod
    def setUpClass(cls):
        cls.make_clock("outpost-dayend-")
        # the hub's clock moves with the node's (it refuses a node a day off)
        cls.hub = Daemon("hub", env={"OUTPOST_TEST_HOOKS_CLOCK_FILE": cls.clock}).start()
        cls.token = harness.admin_token(cls.hub)
        cls.nodes = {}
        env = dict(ENV, OUTPOST_TEST_HOOKS_CLOCK_FILE=cls.clock, OUTPOST_TEST_HOOKS_DAY_END_MS="200")
        cls.enroll_offices((("a", "demo-office"),), env, "day-end")
        harness.login(cls.nodes["a"])

    def test_visits_open_at_the_end_of_the_day_are_closed(self):
        node = self.nodes["a"]
        reasons = node.get("/api/v1/greeter/reasons").json()
        ids = {}
        for name, moves in (("Waiting Wanda", ()), ("Called Carl", ("call",)),
                            ("Serving Sara", ("serve",)), ("Done Dora", ("serve", "done")),
                            ("Left Leo", ("left",))):
            r = node.post("/api/v1/checkins", {"visitor_name": name, "language": "en",
                                               "reason_ids": [reasons[0]["id"]]})
            self.assertEqual(r.status, 201, r.body)
            ids[name] = r.json()["id"]
            for m in moves:
                self.assertEqual(node.post("/api/v1/checkins/%s/action" % ids[name],
                                           {"action": m}).status, 200)
        day = node.get("/api/v1/greeter/stats").json()["from"]
        finished = dict(harness.rows(node, "SELECT id, finished_at FROM checkins WHERE finished_at IS NOT NULL"))
        # A visit another node of the office checked in (its stamp on the
        # check-in event), still waiting: that node closes it; this one only
        # a day later (the other may be gone).
        now = int(time.time() * 1000)
        olga = "dayend-olga-" + str(now)
        stamp = "%012x.0000.other-node-of-the-office" % now
        hdb = self.hub.db()
        try:
            hdb.execute("INSERT INTO checkins(id, office_id, local_area_id, visitor_name, language,"
                        " virtual, status, arrived_at, visit_date, updated_hlc) VALUES(?, 'demo-office',"
                        " 'demo-la', 'Other Olga', 'en', 0, 'waiting', ?, ?, ?)", (olga, now, day, stamp))
            hdb.execute("INSERT INTO checkin_events(id, checkin_id, office_id, action, from_status,"
                        " to_status, at, hlc) VALUES(?, ?, 'demo-office', 'checkin', NULL, 'waiting', ?, ?)",
                        (olga + "-e", olga, now, stamp))
            hdb.commit()
        finally:
            hdb.close()
        wait_until(lambda: harness.db_value(node, "SELECT count(*) FROM checkins WHERE id=?", olga) == 1,
                   timeout=30, what="the other node's visit at this node")
        # Nothing is closed while the day lasts.
        time.sleep(0.6)
        self.assertEqual(harness.db_value(node, "SELECT count(*) FROM checkin_events WHERE action='day_end'"), 0)
        with open(self.clock, "w") as f:
            f.write(str(24 * 3600 * 1000))

        def status(name):
            return harness.db_value(node, "SELECT status FROM checkins WHERE id=?", ids[name])
        wait_until(lambda: status("Waiting Wanda") == "left", timeout=20, what="the day's end")
        self.assertEqual({k: status(k) for k in ids},
                         {"Waiting Wanda": "left", "Called Carl": "left", "Serving Sara": "done",
                          "Done Dora": "done", "Left Leo": "left"})
        events = harness.rows(node, "SELECT checkin_id, from_status, to_status, note FROM checkin_events"
                                    " WHERE action='day_end' ORDER BY from_status")
        self.assertEqual(events, [(ids["Called Carl"], "called", "left", None),
                                  (ids["Serving Sara"], "serving", "done", None),
                                  (ids["Waiting Wanda"], "waiting", "left", None)])
        # no finish time for the three, the others' as they were
        self.assertEqual(dict(harness.rows(node, "SELECT id, finished_at FROM checkins WHERE finished_at IS NOT NULL")),
                         finished)
        self.assertEqual(len(finished), 2)
        # That day's figures: nothing waiting or in progress, three closed
        # at its end, and a longest wait that no longer grows.
        self.assertEqual(harness.db_value(node, "SELECT status FROM checkins WHERE id=?", olga), "waiting")
        with open(self.clock, "w") as f:
            f.write(str(2 * 24 * 3600 * 1000))
        wait_until(lambda: harness.db_value(node, "SELECT status FROM checkins WHERE id=?", olga) == "left",
                   timeout=20, what="the other node's visit closed a day later")
        s = node.get("/api/v1/greeter/stats?date=" + day).json()
        self.assertEqual((s["total"], s["served"], s["left"], s["waiting"], s["in_progress"],
                          s["closed_at_day_end"]), (6, 2, 4, 0, 0, 4), s)
        time.sleep(1.2)
        self.assertEqual(node.get("/api/v1/greeter/stats?date=" + day).json()["max_wait_ms"], s["max_wait_ms"])
        self.assertLess(s["max_wait_ms"], 3600 * 1000)
        v = node.get("/api/v1/checkins/" + ids["Waiting Wanda"]).json()
        self.assertEqual((v["status"], v["wait_ms"], v["finished_at"]), ("left", None, None))
        # The desk cannot move it again, and the new day starts empty.
        r = node.post("/api/v1/checkins/%s/action" % ids["Serving Sara"], {"action": "done"})
        self.assertEqual(r.status, 409, r.body)
        self.assertEqual(node.get("/api/v1/checkins").json(), [])
        # The hub takes the closing: each visit as the office left it, the
        # events, and nothing held or refused.
        wait_until(lambda: harness.db_value(self.hub, "SELECT count(*) FROM checkin_events"
                                                      " WHERE action='day_end'") == 4,
                   timeout=60, what="the closing at the hub")
        wait_until(lambda: harness.db_value(self.hub, "SELECT status FROM checkins WHERE id=?",
                                            ids["Waiting Wanda"]) == "left", timeout=30, what="the visit at the hub")
        for k in ids:
            self.assertEqual(harness.db_value(self.hub, "SELECT status FROM checkins WHERE id=?", ids[k]), status(k), k)
        wait_until(lambda: harness.db_value(self.hub, "SELECT status FROM checkins WHERE id=?", olga) == "left",
                   timeout=30, what="the other node's visit closed at the hub")
        self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM quarantine"), 0)
        self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM conflicts"), 0)
        self.assertIn("closed 3 visits left open before", node.read_log())
        self.assertNotIn("Wanda", node.read_log())


class DayEndTwoNodesTest(ClockedOffices):
    """Two nodes of one office that both close a visit a past day left
    open, each without the other's news (the hub unreachable), write one
    "day_end" event, not two: its id is made of the visit and the status it
    left (greeter_day_end_id), so both write the same row; the hub takes it
    once (the second as the same fact, not quarantined, no conflict) and
    both nodes end with the hub's row.  The nodes' and the hub's clocks are
    stepped two days on (time passed: OUTPOST_TEST_HOOKS_CLOCK_FILE's
    second number); the nodes wait half a second for a sync instead of two
    hours (OUTPOST_TEST_HOOKS_DAY_END_WAIT_MS)."""

    @classmethod
    def setUpClass(cls):
        cls.make_clock("outpost-dayend2-")
        cls.hub = Daemon("hub", env={"OUTPOST_TEST_HOOKS_CLOCK_FILE": cls.clock}).start()
        cls.token = harness.admin_token(cls.hub)
        cls.nodes = {}
        env = dict(ENV, OUTPOST_TEST_HOOKS_CLOCK_FILE=cls.clock, OUTPOST_TEST_HOOKS_DAY_END_MS="200",
                   OUTPOST_TEST_HOOKS_DAY_END_WAIT_MS="500")
        cls.enroll_offices((("a1", "demo-office"), ("a2", "demo-office")), env, "day-end-2")
        harness.login(cls.nodes["a1"])

    def test_one_closing_of_a_visit_closed_at_two_nodes(self):
        a1, a2 = self.nodes["a1"], self.nodes["a2"]
        reasons = a1.get("/api/v1/greeter/reasons").json()
        r = a1.post("/api/v1/checkins", {"visitor_name": "Twice Tom", "language": "en",
                                         "reason_ids": [reasons[0]["id"]]})
        self.assertEqual(r.status, 201, r.body)
        cid = r.json()["id"]
        day = harness.db_value(a1, "SELECT visit_date FROM checkins WHERE id=?", cid)
        wait_until(lambda: harness.rows(a2, "SELECT status FROM checkins WHERE id=?", cid)
                   == [("waiting",)], timeout=30, what="the visit at the other node")
        self.hub.stop()
        # Two days on, truly passed (the clock that counts a PC's sleep
        # too: the second number), so the offline nodes believe them.
        with open(self.clock + ".tmp", "w") as f:
            f.write("%d %d" % (2 * 24 * 3600 * 1000, 2 * 24 * 3600 * 1000))
        os.replace(self.clock + ".tmp", self.clock)
        q = "SELECT id, from_status, to_status FROM checkin_events WHERE checkin_id=? AND action='day_end'"
        for n in (a1, a2):
            wait_until(lambda n=n: harness.db_value(n, "SELECT status FROM checkins WHERE id=?", cid)
                       == "left", timeout=20, what="the closing at %s" % n.name)
        # Each closed it on its own, as the same row.
        one = harness.rows(a1, q, cid)
        self.assertEqual(len(one), 1, one)
        self.assertEqual(one[0][1:], ("waiting", "left"))
        self.assertEqual(harness.rows(a2, q, cid), one)
        self.hub.start()
        for n in (a1, a2):
            wait_until(lambda n=n: harness.db_value(n, "SELECT count(*) FROM outbox") == 0,
                       timeout=60, what="%s's outbox to drain" % n.name)
        wait_until(lambda: harness.rows(self.hub, "SELECT status FROM checkins WHERE id=?", cid)
                   == [("left",)], timeout=30, what="the closing at the hub")
        # The hub holds one closing, took the second without a refusal or
        # a conflict, and both nodes end with its row.
        self.assertEqual(harness.rows(self.hub, q, cid), one)
        self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM quarantine"), 0)
        self.assertEqual(harness.db_value(self.hub, "SELECT count(*) FROM conflicts"), 0)
        full = "SELECT id, checkin_id, office_id, action, from_status, to_status, at, hlc" \
               " FROM checkin_events WHERE checkin_id=? AND action='day_end'"
        at_hub = harness.rows(self.hub, full, cid)
        for n in (a1, a2):
            wait_until(lambda n=n: harness.rows(n, full, cid) == at_hub, timeout=30,
                       what="the hub's closing at %s" % n.name)
        s = a1.get("/api/v1/greeter/stats?date=" + day).json()
        self.assertEqual((s["total"], s["left"], s["closed_at_day_end"]), (1, 1, 1), s)


class DayEndClockJumpTest(ClockedOffices):
    """An office PC's clock that jumps a day forward while its node cannot
    reach the hub does not make today's visits a past day's: the day
    closing believes the clock only as far as the time elapsed since it
    last believed it (node_greeter_days.c day_end_now), until a sync
    confirms it.  Before, the node closed a visitor still waiting as "left"
    two hours (of that clock) later.  The node's clock is stepped
    (OUTPOST_TEST_HOOKS_CLOCK_FILE), the hub's is not; the node looks every
    200 ms."""

    @classmethod
    def setUpClass(cls):
        cls.make_clock("outpost-dayjump-")
        cls.start_hub()
        env = dict(ENV, OUTPOST_TEST_HOOKS_CLOCK_FILE=cls.clock, OUTPOST_TEST_HOOKS_DAY_END_MS="200")
        cls.enroll_offices((("a", "demo-office"),), env, "day-jump")
        harness.login(cls.nodes["a"])

    def step(self, ms):
        with open(self.clock + ".tmp", "w") as f:
            f.write(str(ms))
        os.replace(self.clock + ".tmp", self.clock)
        time.sleep(1.5)  # read within 100 ms, looked at every 200 ms

    def synced_after(self, node, before):
        st = node.get("/api/v1/sync/status").json()
        if (st.get("last_success_ms") or 0) > before:
            return True
        if not st.get("syncing"):
            node.request("POST", "/api/v1/sync/now", body={})
        return False

    def test_clock_jump_while_offline_closes_no_visit_of_today(self):
        node = self.nodes["a"]
        reasons = node.get("/api/v1/greeter/reasons").json()
        r = node.post("/api/v1/checkins", {"visitor_name": "Jumped Jill", "language": "en",
                                           "reason_ids": [reasons[0]["id"]]})
        self.assertEqual(r.status, 201, r.body)
        cid = r.json()["id"]
        wait_until(lambda: harness.db_value(self.hub, "SELECT count(*) FROM checkins WHERE id=?",
                                            cid) == 1, timeout=30, what="the visit at the hub")
        self.hub.stop()

        def state():
            return (harness.db_value(node, "SELECT status FROM checkins WHERE id=?", cid),
                    harness.db_value(node, "SELECT count(*) FROM checkin_events WHERE action='day_end'"))
        def held():
            return re.findall(r"this computer's clock moved (\d+) min further than the time since"
                              r" it was last checked", node.read_log())
        # The PC's clock a day on (the node says so once it looks: waited
        # for, a loaded machine may take longer than step()'s pause), then
        # past the two hours' wait for a sync.
        self.step(24 * 3600 * 1000)
        wait_until(held, timeout=30, what="the node to notice the clock's step")
        self.step((24 + 3) * 3600 * 1000)
        self.assertEqual(state(), ("waiting", 0))
        self.assertEqual(len(held()), 1, node.read_log())  # said once
        self.assertIn(int(held()[0]), (1439, 1440))
        # The hub back: its time says the day is still today.
        before = node.get("/api/v1/sync/status").json().get("last_success_ms") or 0
        self.hub.start()
        wait_until(lambda: self.synced_after(node, before), timeout=60, step=0.5,
                   what="a sync after the hub's return")
        wait_until(lambda: "the clock is believed again" in node.read_log(), timeout=30,
                   what="the node's next look to believe the clock")
        self.assertEqual(state(), ("waiting", 0))


class CrashTest(unittest.TestCase):
    """SIGKILL during a burst of check-ins: every acknowledged check-in is
    there after restart, each with its outbox entry, and the database is
    intact."""

    def test_sigkill_during_burst(self):
        node = Daemon("node").start()
        try:
            rid = node.get("/api/v1/greeter/reasons").json()[0]["id"]
            acked = []
            lock = threading.Lock()
            stop = threading.Event()

            def worker(k):
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        r = node.post("/api/v1/checkins",
                                      {"visitor_name": "Burst %d-%d" % (k, i), "reason_ids": [rid]},
                                      timeout=5)
                    except Exception:
                        return
                    if r.status == 201:
                        with lock:
                            acked.append(r.json()["id"])

            threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
            for t in threads:
                t.start()
            time.sleep(1.5)
            node.kill(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join()
            self.assertGreater(len(acked), 10)
            node.start()
            db = node.db()
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            have = {r[0] for r in db.execute("SELECT id FROM checkins")}
            missing = [a for a in acked if a not in have]
            self.assertEqual(missing, [])
            # Every check-in row was captured: each changeset names its row.
            nout = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
            self.assertEqual(nout, len(have))
            blobs = b"".join(r[0] for r in db.execute("SELECT changeset FROM outbox"))
            for a in acked:
                self.assertIn(a.encode(), blobs)
            db.close()
            harness.login(node)  # sessions do not survive a restart
            lst = node.get("/api/v1/checkins?status=waiting").json()
            self.assertGreaterEqual(len(lst), len(acked))
        finally:
            node.cleanup()


class KioskPaceTest(unittest.TestCase):
    """The kiosk is public: check-ins without a front-desk session are paced
    per address (kiosk_checkins_per_minute), so a script on the office
    network cannot fill the waiting list with names.  Another kiosk goes on
    meanwhile, and front-desk staff are never held."""

    def test_kiosk_paced(self):
        node = Daemon("node", args=["--kiosk_checkins_per_minute", "6"]).start()
        try:
            rid = node.get("/api/v1/greeter/reasons").json()[0]["id"]

            def checkin(who, name):
                return who.post("/api/v1/checkins", {"visitor_name": name, "reason_ids": [rid]})

            kiosk = harness.client(node)
            got = [checkin(kiosk, "Paced Visitor %d" % i).status for i in range(8)]
            self.assertEqual(got, [201] * 6 + [429, 429])
            r = checkin(kiosk, "Paced Visitor Late")
            self.assertEqual(r.status, 429, r)
            self.assertGreaterEqual(int(r.header("Retry-After")), 1)
            self.assertIn(b"front desk", r.body)
            self.assertEqual(checkin(harness.client(node, "127.0.0.2"), "Other Kiosk").status, 201)
            desk = harness.client(node)
            harness.login(desk)
            self.assertEqual([checkin(desk, "Desk Visitor %d" % i).status for i in range(5)], [201] * 5)
            # What was refused was not recorded.
            self.assertEqual(harness.db_value(node, "SELECT count(*) FROM checkins WHERE"
                                                    " visitor_name LIKE 'Paced Visitor%'"), 6)
            # A token back after 60 / 6 s.
            time.sleep(10.5)
            self.assertEqual(checkin(kiosk, "Paced Visitor Again").status, 201)
        finally:
            node.cleanup()


class ClockSetBackTest(unittest.TestCase):
    """A node's clock corrected backwards between a visitor's arrival and
    the call stamps the call before the arrival: the day's figures and the
    CSV count that wait as none, not as a negative wait that pulls the
    average below what any visitor waited."""

    def test_a_call_stamped_before_the_arrival_waits_nothing(self):
        import csv as csvmod
        import tempfile
        tmp = tempfile.mkdtemp(prefix="outpost-setback-")
        clock = os.path.join(tmp, "clock")
        with open(clock, "w") as f:
            f.write("0")
        node = Daemon("node", env={"OUTPOST_TEST_HOOKS_CLOCK_FILE": clock}).start()
        try:
            harness.login(node)
            rid = node.get("/api/v1/greeter/reasons").json()[0]["id"]
            ids = []
            for name in ("Early Ed", "Later Liz"):
                r = node.post("/api/v1/checkins", {"visitor_name": name, "reason_ids": [rid]})
                self.assertEqual(r.status, 201, r.body)
                ids.append(r.json()["id"])
            time.sleep(1.1)
            # Liz is called a second later, as the clock reads.
            self.assertEqual(node.post("/api/v1/checkins/%s/action" % ids[1], {"action": "call"}).status, 200)
            with open(clock, "w") as f:
                f.write(str(-10 * 60 * 1000))  # ten minutes back
            time.sleep(0.3)
            self.assertEqual(node.post("/api/v1/checkins/%s/action" % ids[0], {"action": "call"}).status, 200)
            self.assertLess(harness.db_value(node, "SELECT called_at - arrived_at FROM checkins WHERE id=?", ids[0]), 0)
            liz = harness.db_value(node, "SELECT called_at - arrived_at FROM checkins WHERE id=?", ids[1])
            self.assertGreaterEqual(liz, 1000)
            s = node.get("/api/v1/greeter/stats").json()
            self.assertEqual(s["avg_wait_ms"], liz // 2, s)
            self.assertEqual(s["max_wait_ms"], liz, s)
            self.assertEqual(node.get("/api/v1/checkins/" + ids[0]).json()["wait_ms"], 0)
            csv = node.get("/api/v1/greeter/visits.csv?from=%s&to=%s" % (s["from"], s["to"])).body.decode()
            rows = list(csvmod.reader(csv.lstrip("\ufeff").splitlines()))
            self.assertEqual(rows[0][6], "wait_minutes")
            self.assertEqual(sorted(r[6] for r in rows[1:]), ["0", "0"], csv)
        finally:
            node.cleanup()
            os.unlink(clock)
            os.rmdir(tmp)


class FlushTest(unittest.TestCase):
    """A write is answered only after the sync that makes it durable, and the
    node keeps serving while the sync runs (the flusher thread is held back
    by a test-build hook).  The sync is held 6 s: a loop waiting for it
    would answer the health check seconds late, after the write, which no
    loaded machine's delay (up to a second or two) is mistaken for."""

    HOLD = 6.0

    def test_reply_waits_for_the_sync_and_the_loop_does_not(self):
        if not harness.has_test_hooks(os.path.join(harness.BIN, "outpost-node")):
            self.skipTest("release build: no test hooks")
        node = Daemon("node", env={"OUTPOST_TEST_FLUSH_DELAY_MS": str(int(self.HOLD * 1000))}).start()
        try:
            rid = node.get("/api/v1/greeter/reasons").json()[0]["id"]
            done = {}

            def post():
                t0 = time.monotonic()
                r = node.post("/api/v1/checkins", {"visitor_name": "Held Back",
                                                   "reason_ids": [rid]}, timeout=60)
                done["status"], done["secs"] = r.status, time.monotonic() - t0

            t = threading.Thread(target=post)
            t.start()
            time.sleep(1)                                  # the write is in, its sync held
            t0 = time.monotonic()
            self.assertEqual(node.get("/healthz").status, 200)
            self.assertLess(time.monotonic() - t0, self.HOLD / 2)  # the loop is not waiting
            self.assertNotIn("status", done)               # the write is not answered yet
            t.join(60)
            self.assertEqual(done.get("status"), 201)
            self.assertGreaterEqual(done["secs"], self.HOLD - 0.1)
        finally:
            node.cleanup()

if __name__ == "__main__":
    unittest.main()
