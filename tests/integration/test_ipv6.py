"""IPv6 clients end to end: an office node listening on [::] treats every
address of one IPv6 /64 as one client (lib/http_conn.c, http__peer_group),
as a home or office router hands a whole /64 to one site and an attacker
may pick any address in it.  tests/unit/test_http.c checks the grouping on
names; here real sockets from three addresses added to the loopback
interface (two in one /64, one in another) reach a real node:

  * the connection cap: a /64's connections beyond the per-client cap
    (256) close that /64's oldest idle one, whichever of its addresses it
    came from; another /64's connection closes none of them;
  * the sign-in throttle: failures from one address of a /64 slow every
    address of it (429 with Retry-After), not an address of another /64;
  * the kiosk's check-ins are paced per address, not per /64 (an office's
    kiosks share one).

Adding addresses needs root and CAP_NET_ADMIN (`ip`, iproute2, which
scripts/setup.sh installs for the tests): without them the tests skip,
saying so.  The addresses are ULA ones (fd0f:7e57:PID::/48), /128 on lo,
removed at the end.
"""
import http.client
import json
import os
import socket
import subprocess
import time
import unittest

import harness
from harness import Daemon

PREFIX = "fd0f:7e57:%x" % (os.getpid() & 0xffff)
A1 = PREFIX + ":1::1"   # addresses of one /64 (an office's PCs)
A2 = PREFIX + ":1::2"
A3 = PREFIX + ":1::3"
A4 = PREFIX + ":1::4"
MORE = tuple(PREFIX + ":1::%d" % i for i in range(5, 10))   # and five more of it
B1 = PREFIX + ":2::1"   # another /64
ADDRS = (A1, A2, A3, A4, B1) + MORE
CAP = 256               # HTTP_DEFAULT_CONNS_PER_ADDR (lib/http.h)


def ip(*args):
    return subprocess.run(["ip", "-6", "addr"] + list(args), capture_output=True, text=True)


def add_addresses():
    """Put ADDRS on lo; raise SkipTest (after undoing any) when the machine
    does not let us."""
    if not socket.has_ipv6:
        raise unittest.SkipTest("no IPv6 in this Python")
    done = []
    try:
        for a in ADDRS:
            p = ip("add", a + "/128", "dev", "lo", "nodad")
            if p.returncode != 0:
                raise unittest.SkipTest("cannot add %s to lo (root and CAP_NET_ADMIN needed): %s"
                                        % (a, p.stderr.strip()))
            done.append(a)
    except FileNotFoundError:
        raise unittest.SkipTest("no `ip` command (Debian package iproute2)")
    except unittest.SkipTest:
        for a in done:
            ip("del", a + "/128", "dev", "lo")
        raise


def remove_addresses():
    for a in ADDRS:
        ip("del", a + "/128", "dev", "lo")


def post_sign_in(daemon, source, path, username, password):
    """POST a sign-in to daemon at A1 from the address source (HTTPS when
    the daemon speaks it): (status, Retry-After)."""
    if daemon.tls:
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection(A1, daemon.port, timeout=60, context=ctx,
                                        source_address=(source, 0))
    else:
        c = http.client.HTTPConnection(A1, daemon.port, timeout=60, source_address=(source, 0))
    try:
        c.request("POST", path, body=json.dumps({"username": username, "password": password}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("Retry-After")
    finally:
        c.close()


class Ipv6Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        add_addresses()
        try:
            n = Daemon("node")
            # every address of the machine, IPv4 too (the harness's own
            # requests), and the test's destination as a Host it answers
            n.args += ["--listen", "[::]:%d" % n.port, "--hosts", A1,
                       "--kiosk_checkins_per_minute", "2"]
            cls.node = n.start()
        except BaseException:
            remove_addresses()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        remove_addresses()

    def connect(self, source):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(10)
        s.bind((source, 0))
        s.connect((A1, self.node.port))
        return s

    def closed_by_peer(self, s):
        s.setblocking(False)
        try:
            return s.recv(1) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            s.setblocking(True)

    def sign_in(self, source, username, password="Guess.1234"):
        return post_sign_in(self.node, source, "/api/v1/session", username, password)

    def checkin(self, source, name):
        c = http.client.HTTPConnection(A1, self.node.port, timeout=60, source_address=(source, 0))
        try:
            rid = self.node.get("/api/v1/greeter/reasons").json()[0]["id"]
            c.request("POST", "/api/v1/checkins",
                      body=json.dumps({"visitor_name": name, "reason_ids": [rid]}),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def test_kiosks_of_one_64_paced_each(self):
        """An office's IPv6 network is one /64: its kiosks are paced each by
        its own address (kiosk_checkins_per_minute 2 here), not together."""
        self.assertEqual([self.checkin(A1, "Kiosk One %d" % i) for i in range(3)], [201, 201, 429])
        self.assertEqual([self.checkin(A2, "Kiosk Two %d" % i) for i in range(3)], [201, 201, 429])

    def test_a_connection_cap_per_64(self):
        # The node sees each address as it is (a request's peer), grouped.
        socks = []
        try:
            for _ in range(CAP):
                socks.append(self.connect(A1))
            time.sleep(0.3)
            self.assertFalse(any(self.closed_by_peer(s) for s in socks),
                             "the cap closed a connection below %d" % CAP)
            # Another /64: its own share, none of A1's closes.
            other = self.connect(B1)
            socks.append(other)
            time.sleep(0.3)
            self.assertFalse(self.closed_by_peer(socks[0]), "another /64 took A1's share")
            # Another address of A1's /64: the same share, so A1's oldest
            # idle connection makes room.
            socks.append(self.connect(A2))
            deadline = time.time() + 5
            while not self.closed_by_peer(socks[0]) and time.time() < deadline:
                time.sleep(0.05)
            self.assertTrue(self.closed_by_peer(socks[0]),
                            "a second address of the /64 got a share of its own")
            self.assertFalse(self.closed_by_peer(socks[1]))
            self.assertFalse(self.closed_by_peer(other))
        finally:
            for s in socks:
                s.close()
        # And the node serves the /64 again once they are gone (a right
        # password: no failure counted for test_b).
        status, _ = self.sign_in(A2, harness.DEMO_USER, harness.DEMO_PASSWORD)
        self.assertEqual(status, 200)

    def test_b_sign_in_throttle_per_address_then_per_64(self):
        """Every PC of an office on IPv6 is in one /64: wrong guesses slow
        the address they come from, and the /64 as a whole only after 60
        (for a minute at most), so one person's guesses never lock the
        office out, nor do a machine's many addresses guess unbounded."""
        def fail_until_slowed(source, tag):
            seen = []
            for i in range(60):
                status, retry = self.sign_in(source, "nobody.v6.%s.%02d" % (tag, i))
                seen.append(status)
                if status == 429:
                    self.assertIsNotNone(retry)
                    break
            self.assertEqual(seen[-1], 429, seen)
            self.assertEqual(set(seen[:-1]), {401}, seen)
            return len(seen) - 1
        # Failures from A1, each for another (unknown) name so only the
        # client's own counts fill, until the node slows A1 (20 free, the
        # 21st sets the wait).
        self.assertEqual(fail_until_slowed(A1, "a1"), 21)
        # Another PC of the same /64 is not slowed: it signs in.
        self.assertEqual(self.sign_in(A2, harness.DEMO_USER, harness.DEMO_PASSWORD)[0], 200)
        self.assertEqual(fail_until_slowed(A2, "a2"), 21)
        # The /64's 61st failure (A3's 19th) slows it as a whole: A3 before
        # its own 21, and A4 at once, its right password too.
        self.assertEqual(fail_until_slowed(A3, "a3"), 19)
        status, retry = self.sign_in(A4, harness.DEMO_USER, harness.DEMO_PASSWORD)
        self.assertEqual(status, 429, "the /64 was not slowed after 61 failures")
        self.assertLessEqual(int(retry), 60)
        # An address of another /64 is another network.
        status, _ = self.sign_in(B1, "nobody.v6.other")
        self.assertEqual(status, 401)

class HubConsoleIpv6Test(unittest.TestCase):
    """The hub console's sign-in throttle on IPv6: an administrator's
    wrong guesses slow the address they come from, not every PC of its
    /64 (an office's network): the operations account still signs in from
    another address of it, and the /64 as a whole waits only after 60
    failures, a minute at most."""

    @classmethod
    def setUpClass(cls):
        add_addresses()
        try:
            h = Daemon("hub")
            h.args += ["--listen", "[::]:%d" % h.port]
            cls.hub = h.start()
            cls.pw = harness.operations_password(cls.hub)
        except BaseException:
            remove_addresses()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.hub.cleanup()
        remove_addresses()

    def sign_in(self, source, username, password):
        return post_sign_in(self.hub, source, "/api/v1/admin/session", username, password)[0]

    def test_a_guessing_pc_does_not_hold_its_64(self):
        # A1 guesses the operations account's password: slowed after 3.
        seen = [self.sign_in(A1, "operations", "Wrong.Guess%d" % i) for i in range(5)]
        self.assertEqual(seen[:3], [401, 401, 401], seen)
        self.assertIn(429, seen[3:], seen)
        # The operations account from another PC of the /64: in.
        self.assertEqual(self.sign_in(A2, "operations", self.pw), 200)
        # Many failures from the /64 (other names, other addresses, each
        # until its own budget of 10 is spent) slow it as a whole past 60,
        # and not another /64.
        total = 3
        for src in (A3, A4) + MORE:
            for i in range(12):
                st = self.sign_in(src, "nobody.%s.%02d" % (src[-2:], i), "Wrong.Guess1")
                if st != 401:
                    break
                total += 1
        self.assertGreater(total, 60)
        self.assertLess(total, 3 + 7 * 10, "the /64 was never slowed as a whole")
        self.assertEqual(self.sign_in(A2, "operations", "Wrong.Guess9"), 429)
        self.assertEqual(self.sign_in(B1, "nobody.other", "Wrong.Guess1"), 401)


if __name__ == "__main__":
    unittest.main()
