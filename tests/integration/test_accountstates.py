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
    minute).
"""
import os
import re
import secrets
import tempfile
import time
import unittest

import harness
from harness import BIN, Daemon, client, login, plant_secret, run_tool
from test_accounts import PDF, Console

DAY = 86400 * 1000
CBO = "0190a000-0000-7000-8000-0000000000c1"      # t-lwia-cbo
INTAKE = "0190a000-0000-7000-8000-0000000000c2"   # t-lwia-intake


def set_clock(path, offset_ms):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % offset_ms)
    os.replace(tmp, path)
    time.sleep(0.3)


def day(offset_days):
    return time.strftime("%Y-%m-%d", time.localtime(time.time() + offset_days * 86400))


class AccountStatesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="outpost-acctstates-")
        cls.hclock = os.path.join(cls.tmp, "hub.clock")
        cls.nclock = os.path.join(cls.tmp, "node.clock")
        set_clock(cls.hclock, 0)
        set_clock(cls.nclock, 0)
        cls.hub = Daemon("hub", env={"OUTPOST_TEST_HOOKS_CLOCK_FILE": cls.hclock}).start()
        cls.node = Daemon("node", env={"OUTPOST_TEST_HOOKS_CLOCK_FILE": cls.nclock}).start()
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
        p = run_tool([cmd, "--data", cls.node.data, "--json"])
        if p.returncode != 0:
            raise AssertionError("outpost-sync %s failed: %s %s" % (cmd, p.stdout, p.stderr))

    def admin(self, path, body=None):
        return self.ops.post(path, body, headers={"Authorization": "Bearer " + self.token})

    def hubq(self, sql, *args):
        return harness.rows(self.hub, sql, *args)

    def test_suspend_and_reactivate_keep_the_user_name(self):
        cbo = client(self.node)
        login(cbo, "t-lwia-cbo")
        r = cbo.request("POST", "/api/v1/crm/employers", body={
            "company_name": "Leave Coverage Bakery", "zip": "95814", "confirm_not_duplicate": True})
        self.assertEqual(r.status, 201, r.body)
        lead = r.json()["id"]
        self.sync("push")
        self.assertEqual(self.hubq("SELECT lead_owner_id FROM employers WHERE id=?", lead), [(CBO,)])
        # Every missing field at once; then the lead left behind is named.
        r = self.admin("/api/v1/admin/staff/%s/suspend" % CBO, {"reason": 5, "new_owner_id": 7})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(sorted(e["field"] for e in r.json()["errors"]), ["new_owner_id", "reason"])
        r = self.admin("/api/v1/admin/staff/%s/suspend" % CBO, {"reason": "extended leave"})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["field"], "new_owner_id")
        self.assertIn("1 lead", r.json()["error"])
        r = self.admin("/api/v1/admin/staff/%s/suspend" % CBO,
                       {"reason": "extended leave", "new_owner_id": "demo-staff"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["suspended"], r.json()["username"], r.json()["active"]),
                         (1, "t-lwia-cbo", 1))
        self.assertEqual(self.hubq("SELECT lead_owner_id FROM employers WHERE id=?", lead), [("demo-staff",)])
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
        self.sync("pull")
        login(client(self.node), "t-lwia-cbo")

    def test_deactivation_takes_effect_on_its_date_at_an_offline_node(self):
        sep = day(2)
        r = self.ops.post("/api/v1/admin/access-requests", {
            "kind": "deactivate", "staff_id": INTAKE, "requestor_name": "Pat Manager",
            "separation_date": sep})
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        r = self.ops.request("POST", "/api/v1/admin/access-requests/%s/files?kind=request_form&filename=f.pdf"
                             % rid, body=PDF, ctype="application/pdf")
        self.assertEqual(r.status, 201, r)
        r = self.admin("/api/v1/admin/access-requests/%s/approve" % rid)
        self.assertEqual(r.status, 200, r)
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
        finally:
            set_clock(self.hclock, 0)


if __name__ == "__main__":
    unittest.main()
