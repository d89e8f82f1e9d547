"""Sessions and privileges on a real outpost-node (stand-alone demo node, its
test accounts: README "Test login").

* The matrix: every privilege group of data/privilege_groups.csv (one demo
  account each) against every route the node registers (read from the
  declared route tables, rows {HTTP_M_x, "/path", ...} of lib/route.h, and
  any router_add() and router_add_body() calls in node/*.c, so a new route
  is never left out): a
  route needing a privilege the group lacks never answers 2xx (403), one it
  holds is never refused for want of a privilege.  View Access groups never
  edit; LWIA Intake Staff has no reports.
* Every non-public route without a session, with a forged, an expired, an
  ended (logged out) session, and with another user's CSRF token: 401/403.
* CSRF: state-changing requests without the token, with a wrong one, and
  cross-site (Origin / Sec-Fetch-Site) are refused, even on public routes.
* Session fixation: a token planted before login is never adopted; each
  login gives a new token and ends the browser's previous session.
* Cookies are HttpOnly; SameSite=Strict; every page but the login page and
  the kiosk redirects to the login page when signed out.
"""
import json
import csv
import glob
import os
import re
import time
import unittest

import harness
from harness import Daemon, TOP, plant_secret

FAKE_ID = "0190ffff-0000-7000-8000-00000000abcd"
PUBLIC = {
    ("GET", "/healthz"), ("GET", "/*"), ("HEAD", "/*"),
    ("GET", "/api/v1/greeter/reasons"), ("POST", "/api/v1/checkins"),
    ("GET", "/api/v1/visitors"),          # kiosk: exact phone only, see test below
    ("POST", "/api/v1/session"), ("GET", "/api/v1/session"),
    ("GET", "/metrics"),  # no session (a monitoring agent): loopback only, see test_metrics
}
EDIT_PRIVS = {"participant_edit", "program_edit", "case_notes", "crm", "greeter_desk", "greeter_setup",
              "staff_admin"}


# The program entries (model/privileges.c): program_edit, not participant_edit.
PROGRAM_ROUTES = {
    "/api/v1/case/participants/:id/closure-form", "/api/v1/case/participants/:id/followup-form",
    "/api/v1/case/participants/:id/followup-declined",
    "/api/v1/case/participants/:id/skill-gains", "/api/v1/case/participants/:id/approvals",
    "/api/v1/case/activities/:id/amend", "/api/v1/case/participants/:id/referrals",
}


def node_routes():
    """(method, pattern) of every route the node's files register."""
    out = set()
    for f in glob.glob(os.path.join(TOP, "node", "*.c")):
        with open(f, encoding="utf-8") as fh:
            src = fh.read()
        for m, p in re.findall(
                r'(?:router_add(?:_body)?\(\s*r,|\{)\s*HTTP_M_(\w+),\s*"([^"]+)"', src):
            out.add((m, p))
    return sorted(out)


def needed(method, pattern):
    """The privilege a route needs: a name, "session" (any signed-in user),
    "public", or None for a route this table does not know (new modules):
    those must at least refuse no session, and refuse View Access edits."""
    if (method, pattern) in PUBLIC:
        return "public"
    if pattern.startswith("/api/v1/session") or pattern == "/api/v1/sync/status":
        return "session"
    if pattern == "/api/v1/crm/employers/:id/vetting":
        return "vetting"  # EDD WSB groups only (issue 16)
    if pattern == "/api/v1/case/approvals/:id/decision":
        # Any signed-in reader reaches it; the handler then checks that the
        # account holds the approver role the request waits for (issue 15).
        return "view"
    if pattern.startswith("/api/v1/crm/reports/"):
        return "reports"
    if pattern.startswith("/api/v1/crm/"):
        return "view" if method == "GET" else "crm"
    if pattern == "/api/v1/greeter/stats":
        return ("reports", "greeter_desk")  # today's figures: either (ranges: reports)
    if pattern == "/api/v1/greeter/visits.csv":
        return "reports"
    if pattern == "/api/v1/greeter/events":
        return "greeter_desk"  # the live desk's event stream
    if pattern == "/api/v1/sync/now":
        return "session"
    if pattern.startswith("/api/v1/checkins"):
        return "greeter_desk"
    if pattern == "/api/v1/sync/conflicts":
        return "view"  # a conflict's values are a record's (a participant's)
    if pattern.startswith("/api/v1/case/"):
        if method == "GET" or pattern == "/api/v1/case/participants/search":
            return "view"  # the compliance CSV also needs reports (test_case); the
            # search is a read, POSTed because its query may be an SSN
        if pattern == "/api/v1/case/participants/:id/activities":
            return frozenset(("program_edit", "case_notes"))  # the activity and its note
        if pattern in PROGRAM_ROUTES:
            return "program_edit"  # LWIA Intake Staff reads these only
        if pattern in ("/api/v1/case/participants/:id/notes", "/api/v1/case/notes/:id/amend"):
            return "case_notes"
        return "participant_edit"
    return None


def concrete(pattern):
    return re.sub(r":[a-z_]+", FAKE_ID, pattern)


def call(client, method, path):
    body = {} if method in ("POST", "PATCH", "PUT") else None
    if path == "/api/v1/greeter/events":
        return stream_head(client, path)
    return client.request(method, path, body=body, timeout=30)


class _Head:
    def __init__(self, status, body):
        self.status, self.body = status, body


def stream_head(client, path):
    """The status of an event stream (which never ends): its head only."""
    c = client.conn(30)
    try:
        h = {"Cookie": "; ".join("%s=%s" % kv for kv in client.cookies.items())}
        c.request("GET", path, headers=h)
        r = c.getresponse()
        return _Head(r.status, r.read() if r.status != 200 else b"")
    finally:
        c.close()


class MatrixTest(harness.DemoNode):
    @classmethod
    def setUpClass(cls):
        plant_secret(harness.DEMO_PASSWORD)
        super().setUpClass()

    def test_routes_known(self):
        routes = node_routes()
        self.assertGreater(len(routes), 40)
        unknown = [r for r in routes if needed(*r) is None]
        # Routes of modules this table does not know yet are still checked
        # below (no session, View Access edits); list them for the reader.
        if unknown:
            print("routes checked only generically:", unknown)

    def test_groups_match_csv(self):
        with open(os.path.join(TOP, "seed", "privilege_groups.csv"), encoding="utf-8") as f:
            groups = [row["group"] for row in csv.DictReader(f)]
        self.assertEqual(sorted(groups), sorted(harness.DEMO_GROUP_USERS))

    def test_every_group_against_every_route(self):
        routes = node_routes()
        problems = []
        for group, user in sorted(harness.DEMO_GROUP_USERS.items()):
            c = harness.client(self.node)
            r = harness.login(c, user)
            s = r.json()
            self.assertEqual(s["user"]["privilege_group"], group)
            privs = set(s["privileges"])
            if group.startswith("View Access"):
                self.assertEqual(privs & EDIT_PRIVS, set(), group)
            if group == "LWIA Intake Staff":
                self.assertNotIn("reports", privs)
            for method, pattern in routes:
                need = needed(method, pattern)
                if need in ("public", "session") or pattern == "/api/v1/session":
                    continue
                path = concrete(pattern)
                if pattern == "/api/v1/greeter/visits.csv":
                    path += "?date=2026-01-05"
                res = call(c, method, path)
                if need is None:
                    if group.startswith("View Access") and method != "GET" and \
                            200 <= res.status < 300:
                        problems.append("%s: %s %s answered %d (View Access edits)" % (
                            group, method, pattern, res.status))
                    continue
                if isinstance(need, tuple):  # any one of them
                    holds = bool(privs & set(need))
                elif isinstance(need, frozenset):  # all of them
                    holds = need <= privs
                else:
                    holds = need in privs
                if not holds and 200 <= res.status < 300:
                    problems.append("%s: %s %s answered %d without %s" % (
                        group, method, pattern, res.status, need))
                elif not holds and res.status != 403:
                    problems.append("%s: %s %s answered %d, expected 403 (lacks %s)" % (
                        group, method, pattern, res.status, need))
                elif holds and res.status in (401, 403):
                    problems.append("%s: %s %s refused (%d %s) though it holds %s" % (
                        group, method, pattern, res.status, res.body[:80], need))
            r = c.get("/api/v1/greeter/stats?from=2026-01-01&to=2026-01-31")
            if ("reports" in privs) != (r.status == 200):
                problems.append("%s: stats for a range answered %d" % (group, r.status))
            # the desk's list of another day is a report too
            if "greeter_desk" in privs:
                r = c.get("/api/v1/checkins?status=all&from=2026-01-01&to=2026-01-31")
                if ("reports" in privs) != (r.status == 200):
                    problems.append("%s: the visits of a range answered %d" % (group, r.status))
                r = c.get("/api/v1/checkins?status=all")
                if r.status != 200:
                    problems.append("%s: today's visits answered %d" % (group, r.status))
            harness.logout(c)
        self.assertEqual(problems, [], "\n".join(problems))

    def test_without_session_forged_and_ended(self):
        anon = harness.client(self.node)
        forged = harness.client(self.node)
        forged.cookies["outpost_session"] = os.urandom(32).hex()
        forged.csrf = os.urandom(32).hex()
        ended = harness.client(self.node)
        harness.login(ended, "t-wsb")
        cookie = dict(ended.cookies)
        csrf = ended.csrf
        harness.logout(ended)
        ended.cookies.update(cookie)  # replay the ended session
        ended.csrf = csrf
        for method, pattern in node_routes():
            if needed(method, pattern) == "public":
                continue
            for who, c in (("no session", anon), ("forged", forged), ("ended", ended)):
                res = call(c, method, concrete(pattern))
                self.assertEqual(res.status, 401, "%s: %s %s -> %r" % (who, method, pattern, res))

    def test_pages_redirect_to_login(self):
        anon = harness.client(self.node)
        pages = [os.path.basename(p) for p in glob.glob(os.path.join(TOP, "webui", "node", "*.html"))]
        self.assertIn("desk.html", pages)
        for p in pages:
            r = anon.get("/" + p)
            if p in ("login.html", "kiosk.html"):
                self.assertEqual(r.status, 200, p)
            else:
                self.assertEqual(r.status, 302, p)
                self.assertEqual(r.header("Location"), "/login.html?next=/" + p)
        r = anon.get("/")
        self.assertEqual((r.status, r.header("Location")), (302, "/login.html?next=/"))
        r = anon.get("/crm-lead.html?id=x&y=%3Cscript%3E")
        self.assertEqual(r.header("Location"),
                         "/login.html?next=/crm-lead.html%3Fid%3Dx%26y%3D%253Cscript%253E")
        self.assertEqual(self.node.get("/desk.html").status, 200)  # signed in
        self.assertEqual(anon.get("/app.css").status, 200)         # no data in assets

    def test_cookie_attributes_and_fixation(self):
        c = harness.client(self.node)
        planted = os.urandom(32).hex()
        c.cookies["outpost_session"] = planted
        r = harness.login(c, "t-dvop")
        sets = [v for k, v in r.headers if k.lower() == "set-cookie"]
        sess = [v for v in sets if v.startswith("outpost_session=")]
        self.assertEqual(len(sess), 1)
        self.assertIn("HttpOnly", sess[0])
        self.assertIn("SameSite=Strict", sess[0])
        self.assertIn("Path=/", sess[0])
        self.assertNotIn("Secure", sess[0])  # plain HTTP on loopback
        csrf = [v for v in sets if v.startswith("outpost_csrf=")]
        self.assertEqual(len(csrf), 1)
        self.assertNotIn("HttpOnly", csrf[0])
        token1 = c.cookies["outpost_session"]
        self.assertNotEqual(token1, planted)
        self.assertEqual(len(token1), 64)
        self.assertEqual(c.cookies["outpost_csrf"], r.json()["csrf_token"])
        # A second login from the same browser: a new token; the old one ends.
        harness.login(c, "t-dvop")
        token2 = c.cookies["outpost_session"]
        self.assertNotEqual(token2, token1)
        old = harness.client(self.node)
        old.cookies["outpost_session"] = token1
        self.assertEqual(old.get("/api/v1/crm/meta").status, 401)
        self.assertEqual(c.get("/api/v1/crm/meta").status, 200)
        # Tokens differ between users and logins.
        d = harness.client(self.node)
        harness.login(d, "t-dvop")
        self.assertNotEqual(d.cookies["outpost_session"], token2)

    def test_sessions_per_account_bounded(self):
        """One account's sign-ins give way among themselves past its share
        (NODE_AUTH_USER_SESSIONS, 16): the least recently used of its own
        sessions ends, never a colleague's (the table holds 4,096 in all, and
        an account signing in again and again would otherwise push everyone
        else out)."""
        colleague = harness.client(self.node)
        harness.login(colleague, "t-dvop")
        mine = []
        for _ in range(17):
            c = harness.client(self.node)
            harness.login(c, "t-lwia-intake")
            mine.append(c)
        self.assertEqual(mine[0].get("/api/v1/checkins").status, 401)
        for c in mine[1:]:
            self.assertEqual(c.get("/api/v1/checkins").status, 200)
        self.assertEqual(colleague.get("/api/v1/crm/meta").status, 200)

    def test_csrf(self):
        a = harness.client(self.node)
        b = harness.client(self.node)
        harness.login(a, "t-lwia-partner")
        harness.login(b, "t-lwia-supervisor")
        body = {"company_name": "Csrf Check Co", "zip": "95814"}
        # No token, a wrong token, another user's token: refused, nothing written.
        for tok in (None, "0" * 64, b.csrf):
            a_tok, a.csrf = a.csrf, tok
            r = a.post("/api/v1/crm/employers", body)
            a.csrf = a_tok
            self.assertEqual(r.status, 403, r)
            self.assertEqual(r.json()["field"], "csrf_token")
        r = a.request("DELETE", "/api/v1/session", headers={"X-CSRF-Token": "x"})
        self.assertEqual(r.status, 403)
        # Cross-site: refused before any route, even the public kiosk.
        for h in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            r = a.post("/api/v1/crm/employers", body, headers=h)
            self.assertEqual(r.status, 403, r)
            r = harness.client(self.node).post(
                "/api/v1/checkins", {"visitor_name": "Cross Site", "reason_ids": ["x"]},
                headers=h)
            self.assertEqual(r.status, 403, r)
        # Same origin (what the browser sends) and the right token: accepted.
        r = a.post("/api/v1/crm/employers", body,
                   headers={"Origin": self.node.url, "Sec-Fetch-Site": "same-origin"})
        self.assertEqual(r.status, 201, r)
        # Sign-in takes JSON only (a text/plain form is what a cross-site
        # page can post without asking); a long name is said to be one.
        creds = json.dumps({"username": "demo", "password": harness.DEMO_PASSWORD})
        r = harness.client(self.node).request("POST", "/api/v1/session", body=creds,
                                              headers={"Content-Type": "text/plain"})
        self.assertEqual(r.status, 415, r)
        r = harness.client(self.node).post("/api/v1/session",
                                           {"username": "u" * 64, "password": "x"})
        self.assertEqual((r.status, r.json()["field"]), (400, "username"), r)
        self.assertIn("too long", r.json()["error"])

    def test_kiosk_public_and_limited(self):
        anon = harness.client(self.node)
        rid = anon.get("/api/v1/greeter/reasons").json()[0]["id"]
        r = anon.post("/api/v1/checkins", {"visitor_name": "Kiosk Person", "phone": "916-555-0142",
                                           "reason_ids": [rid]})
        self.assertEqual(r.status, 201)
        # Staff-only fields need the front desk.
        for extra in ({"virtual": True}, {"note": "n"}, {"participant_id": FAKE_ID}):
            b = {"visitor_name": "Kiosk Two", "reason_ids": [rid]}
            b.update(extra)
            self.assertEqual(anon.post("/api/v1/checkins", b).status, 401, extra)
        # Returning visitor: signed out only by the whole phone number.
        self.assertEqual(anon.get("/api/v1/visitors?q=Kiosk").json(), [])
        self.assertEqual(anon.get("/api/v1/visitors?q=555").json(), [])
        # ... and the name's first letter (issue #13)
        self.assertEqual(anon.get("/api/v1/visitors?q=9165550142").json(), [])
        self.assertEqual(anon.get("/api/v1/visitors?q=9165550142&initial=Q").json(), [])
        found = anon.get("/api/v1/visitors?q=9165550142&initial=k").json()
        self.assertEqual([v["visitor_name"] for v in found], ["Kiosk Person"])
        self.assertNotIn("email", found[0])
        staff = self.node.get("/api/v1/visitors?q=Kiosk").json()
        self.assertEqual([v["visitor_name"] for v in staff], ["Kiosk Person"])

    def test_kiosk_finds_a_number_typed_with_dots(self):
        # A number is accepted with dots as separators (greeter_valid_phone);
        # the returning-visitor lookups find it by its digits.
        anon = harness.client(self.node, "127.0.0.7")
        rid = anon.get("/api/v1/greeter/reasons").json()[0]["id"]
        r = anon.post("/api/v1/checkins", {"visitor_name": "Dotted Dana", "phone": "+1 916.555.0177",
                                           "reason_ids": [rid]})
        self.assertEqual(r.status, 201, r.body)
        found = anon.get("/api/v1/visitors?q=9165550177&initial=d").json()
        self.assertEqual([v["visitor_name"] for v in found], ["Dotted Dana"])
        staff = self.node.get("/api/v1/visitors?q=9165550177").json()
        self.assertEqual([v["visitor_name"] for v in staff], ["Dotted Dana"])

    def test_who_am_i(self):
        c = harness.client(self.node)
        s = c.get("/api/v1/session").json()
        self.assertFalse(s["signed_in"])
        self.assertEqual(s["login"]["mode"], "standalone")
        self.assertTrue(s["login"]["logins_allowed"])
        self.assertFalse(s["login"]["temporary_passwords_allowed"])
        harness.login(c, "demo")
        s = c.get("/api/v1/session").json()
        self.assertTrue(s["signed_in"])
        self.assertEqual(s["user"]["username"], "demo")
        self.assertFalse(s["signed_in_offline"])  # stand-alone is not "offline"
        self.assertIn("crm", s["privileges"])
        self.assertNotIn("staff_admin", s["privileges"])
        self.assertEqual(s["due_today"], 0)
        body = c.get("/api/v1/session").body.decode()
        self.assertNotIn("pbkdf2", body)      # no hash ...
        self.assertNotIn(harness.DEMO_PASSWORD, body)
        self.assertNotIn(c.cookies["outpost_session"], body)  # ... nor the HttpOnly token


class ExpiryTest(unittest.TestCase):
    """Idle timeout and absolute lifetime (session_idle 4 s and
    session_max_age 12 s for the test: a request each second stays well
    inside the idle time on a loaded machine)."""

    IDLE, MAX_AGE = 4, 12

    def test_idle_and_absolute_expiry(self):
        node = Daemon("node", args=["--session_idle", str(self.IDLE),
                                    "--session_max_age", str(self.MAX_AGE)]).start()
        try:
            harness.login(node)
            self.assertEqual(node.get("/api/v1/crm/meta").status, 200)
            time.sleep(self.IDLE + 1)
            r = node.get("/api/v1/crm/meta")
            self.assertEqual(r.status, 401, r)
            # The expired session opens no route at all (it is gone, so it is
            # not revived by use either).
            for method, pattern in node_routes():
                if needed(method, pattern) == "public":
                    continue
                r = call(node, method, concrete(pattern))
                self.assertEqual(r.status, 401, (method, pattern, r))
            # Absolute: busy the whole time, still ends at session_max_age,
            # not before (t0 is before the session was made).
            t0 = time.time()
            harness.login(node)
            while True:
                status = node.get("/api/v1/crm/meta").status
                if status != 200 or time.time() - t0 > self.MAX_AGE + 30:
                    break
                time.sleep(1)
            self.assertEqual(status, 401)
            self.assertGreaterEqual(time.time() - t0, self.MAX_AGE - 1)   # (whole seconds)
        finally:
            node.cleanup()


if __name__ == "__main__":
    unittest.main()


class PasswordRaceTest(unittest.TestCase):
    """A password check runs in the thread pool (PBKDF2), here a sign-in's
    made 10 s longer (OUTPOST_TEST_HOOKS_LOGIN_DELAY_FILE): a password changed while a
    sign-in with the old one is being checked does not let that sign-in
    open a session; and of two changes checked at once from one session,
    the second is refused (the hub would take only the first, and the
    office keep the second)."""

    def test_a_password_changed_while_it_is_checked(self):
        import tempfile
        import threading
        fd, delay = tempfile.mkstemp(prefix="outpost-login-delay-")
        os.close(fd)
        node = Daemon("node", env={"OUTPOST_TEST_HOOKS_LOGIN_DELAY_FILE": delay}).start()
        try:
            owner = harness.client(node)
            harness.login(owner, "t-lver")
            with open(delay, "w") as f:
                f.write("10000")
            got = {}

            def request(name, who, path, body):
                got[name] = who.request("POST", path, body=body, timeout=60)

            # The change is checked first; a sign-in with the old password
            # from another PC is checked while it is, and ends after it.
            change = threading.Thread(target=request, args=(
                "change", owner, "/api/v1/session/password",
                {"current_password": harness.DEMO_PASSWORD, "new_password": "Lver.Changed.2026a"}))
            change.start()
            time.sleep(0.4)
            other = harness.client(node, "127.0.0.9")
            request("old", other, "/api/v1/session", {"username": "t-lver", "password": harness.DEMO_PASSWORD})
            change.join()
            self.assertEqual(got["change"].status, 200, got["change"].body)
            self.assertEqual(got["old"].status, 401, got["old"].body)
            os.unlink(delay)
            self.assertFalse(other.get("/api/v1/session").json()["signed_in"])
            # Two changes at once from the owner's session: one is taken.
            ts = [threading.Thread(target=request, args=(
                pw, owner, "/api/v1/session/password",
                {"current_password": "Lver.Changed.2026a", "new_password": pw}))
                for pw in ("Lver.Second.2026b", "Lver.Second.2026c")]
            for t in ts:
                t.start()
                time.sleep(0.2)
            for t in ts:
                t.join()
            self.assertEqual(sorted(got[pw].status for pw in ("Lver.Second.2026b", "Lver.Second.2026c")),
                             [200, 409])
            won, lost = sorted(("Lver.Second.2026b", "Lver.Second.2026c"), key=lambda pw: got[pw].status)
            self.assertIn("changed a moment ago", got[lost].json()["error"])
            self.assertEqual(harness.db_value(node, "SELECT count(*) FROM credential_changes"), 2)
            self.assertEqual(harness.login(harness.client(node, "127.0.0.10"), "t-lver", won).status, 200)
        finally:
            node.cleanup()
            if os.path.exists(delay):
                os.unlink(delay)

    def test_one_account_holds_two_checks_at_most(self):
        """Sign-ins of one account from many addresses (a colleague signing
        in in a loop, with the right password) hold at most two of the
        node's sixteen checks in flight: the rest of that account's wait,
        and everyone else still signs in."""
        import tempfile
        import threading
        fd, delay = tempfile.mkstemp(prefix="outpost-login-delay-")
        os.close(fd)
        with open(delay, "w") as f:
            f.write("3000")
        node = Daemon("node", env={"OUTPOST_TEST_HOOKS_LOGIN_DELAY_FILE": delay}).start()
        try:
            got = {}

            def sign_in(key, user, source):
                got[key] = harness.client(node, source).request(
                    "POST", "/api/v1/session", body={"username": user, "password": harness.DEMO_PASSWORD},
                    timeout=60)
            ts = [threading.Thread(target=sign_in, args=(i, "t-dvop", "127.0.3.%d" % (i + 1)))
                  for i in range(6)]
            for t in ts:
                t.start()
            time.sleep(1.0)
            sign_in("other", "jlee", "127.0.4.1")
            for t in ts:
                t.join()
            self.assertEqual(got["other"].status, 200, got["other"].body)
            statuses = sorted(got[i].status for i in range(6))
            self.assertEqual(statuses, [200, 200, 429, 429, 429, 429], statuses)
            self.assertIn(b"at once", [got[i] for i in range(6) if got[i].status == 429][0].body)
        finally:
            node.cleanup()
            os.unlink(delay)

