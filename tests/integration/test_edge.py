"""The network edge (issue #13, DESIGN.md "The network edge"), against real
daemons on loopback:

  * TLS: the hub answers a raw TLS 1.2 ClientHello offering only an ECDHE
    AEAD suite with a ServerHello, and refuses (alert, no ServerHello) one
    offering only a static-ECDH suite, a CBC suite, CCM-8 or Camellia; real
    handshakes with a CBC-only or TLS 1.1 client fail, ECDHE-GCM and ChaCha20
    ones work;
  * build hardening: every binary is PIE (ELF type DYN), has BIND_NOW and a
    GNU_RELRO segment, and calls __stack_chk_fail and FORTIFY's _chk
    functions (read with readelf);
  * strict HTTP at the node: whitespace before a colon, obs-fold and bare LF
    are 400, and the node goes on serving.
"""
import os
import socket
import ssl
import struct
import subprocess
import unittest

import harness
from harness import Daemon

BINARIES = ("outpost-node", "outpost-hub", "outpost-sync")

# TLS cipher suite ids (IANA)
ECDHE_ECDSA_AES128_GCM = 0xC02B
ECDHE_ECDSA_CHACHA20 = 0xCCA9
ECDH_ECDSA_AES128_GCM = 0xC02D   # static ECDH: no forward secrecy
ECDH_ECDSA_AES128_CBC = 0xC004
ECDHE_ECDSA_AES128_CBC = 0xC009  # forward secret, but CBC
ECDHE_ECDSA_AES128_CCM8 = 0xC0AE
ECDHE_ECDSA_CAMELLIA128 = 0xC072


def client_hello(suites):
    """A TLS 1.2 ClientHello record offering exactly `suites`, with the
    extensions an ECDSA P-256 server needs."""
    def ext(t, data):
        return struct.pack("!HH", t, len(data)) + data
    groups = struct.pack("!HHH", 4, 23, 24)                 # secp256r1, secp384r1
    points = bytes([1, 0])                                  # uncompressed
    sigalgs = struct.pack("!H", 8) + struct.pack("!HHHH", 0x0403, 0x0503, 0x0401, 0x0804)
    exts = ext(10, groups) + ext(11, points) + ext(13, sigalgs)
    cs = b"".join(struct.pack("!H", s) for s in suites)
    body = (b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack("!H", len(cs)) + cs +
            b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def hello_answer(port, suites):
    """'server_hello', 'alert' or 'closed': what the server first answers."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(client_hello(suites))
        head = b""
        while len(head) < 6:
            b = s.recv(6 - len(head))
            if not b:
                return "closed"
            head += b
    except ConnectionResetError:
        return "closed"
    finally:
        s.close()
    if head[0] == 0x16 and head[5] == 0x02:
        return "server_hello"
    if head[0] == 0x15:
        return "alert"
    return "other %r" % head


def handshake(port, ciphers=None, version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers:
        ctx.set_ciphers(ciphers)
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    else:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return s.cipher()[0]


class TestTlsSuites(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Daemon("hub").start()

    @classmethod
    def tearDownClass(cls):
        cls.hub.cleanup()

    def test_raw_hello(self):
        port = self.hub.port
        self.assertEqual(hello_answer(port, [ECDHE_ECDSA_AES128_GCM]), "server_hello")
        self.assertEqual(hello_answer(port, [ECDHE_ECDSA_CHACHA20]), "server_hello")
        for bad in (ECDH_ECDSA_AES128_GCM, ECDH_ECDSA_AES128_CBC, ECDHE_ECDSA_AES128_CBC,
                    ECDHE_ECDSA_AES128_CCM8, ECDHE_ECDSA_CAMELLIA128):
            self.assertIn(hello_answer(port, [bad]), ("alert", "closed"), hex(bad))
        # static ECDH offered first: the server still picks the ECDHE one
        self.assertEqual(hello_answer(port, [ECDH_ECDSA_AES128_GCM, ECDHE_ECDSA_AES128_GCM]),
                         "server_hello")
        self.assertEqual(self.hub.get("/healthz").status, 200)

    def test_real_handshakes(self):
        port = self.hub.port
        self.assertEqual(handshake(port, "ECDHE-ECDSA-AES128-GCM-SHA256"),
                         "ECDHE-ECDSA-AES128-GCM-SHA256")
        self.assertEqual(handshake(port, "ECDHE-ECDSA-CHACHA20-POLY1305"),
                         "ECDHE-ECDSA-CHACHA20-POLY1305")
        for bad in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384"):
            with self.assertRaises((ssl.SSLError, OSError), msg=bad):
                handshake(port, bad)
        try:
            ctx_ok = ssl.TLSVersion.TLSv1_1
            with self.assertRaises((ssl.SSLError, OSError)):
                handshake(port, "DEFAULT:@SECLEVEL=0", ctx_ok)
        except ValueError:
            pass  # this OpenSSL cannot even offer TLS 1.1
        self.assertEqual(self.hub.get("/healthz").status, 200)


class TestHardening(unittest.TestCase):
    def readelf(self, *args):
        return subprocess.run(["readelf"] + list(args), check=True, capture_output=True,
                              text=True).stdout

    def test_binaries(self):
        for b in BINARIES:
            path = os.path.join(harness.BIN, b)
            with self.subTest(binary=b):
                self.assertIn("DYN", self.readelf("-h", path).split("Type:")[1].split("\n")[0])
                dyn = self.readelf("-d", path)
                self.assertRegex(dyn, r"\(FLAGS\)\s+BIND_NOW|\(FLAGS_1\)\s+Flags: NOW")
                self.assertRegex(dyn, r"\(FLAGS_1\)\s+Flags:.*PIE")
                self.assertIn("GNU_RELRO", self.readelf("-lW", path))
                syms = self.readelf("--dyn-syms", "-W", path)
                self.assertIn("__stack_chk_fail", syms)
                self.assertRegex(syms, r"__\w+_chk@")


class TestStrictHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Daemon("node").start()

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()

    def test_refused(self):
        for req in (b"GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
                    b"GET /healthz HTTP/1.1\nHost: x\n\n",
                    b"GET /healthz HTTP/1.1\r\nHost: x\n\r\n"):
            out = self.node.raw(req)
            self.assertTrue(out.startswith(b"HTTP/1.1 400 "), (req, out[:100]))
        out = self.node.raw(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200 "), out[:100])


if __name__ == "__main__":
    unittest.main()
