"""The network edge's keys (issue #13), against real daemons on loopback:

  * the office CA's private key (DATA/ca.key) is kept wrapped under the
    hub's master.key (AES-256-GCM, like the node secrets), mode 0600; a plain
    PEM key an older hub left (here: a CA made with openssl) is wrapped in
    place at the next start, the hub goes on signing with it (a node's
    certificate verifies against that CA), and a hub whose master.key is not
    the one the key was wrapped under refuses to start, saying why;
  * a renewed node certificate (outpost-sync renew-cert) is served to the
    next TLS connection without restarting the node (same process), with the
    renewal's new name accepted, while a connection opened before the
    renewal keeps working.
"""
import os
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Daemon


def pem_certs(text):
    end = "-----END CERTIFICATE-----"
    return [p.strip() + "\n" + end + "\n" for p in text.split(end) if "BEGIN" in p]


hub_code = harness.hub_code


class TestCaKeyWrapped(unittest.TestCase):
    def test_new_hub_wraps_its_ca_key(self):
        hub = Daemon("hub").start()
        try:
            path = os.path.join(hub.data, "ca.key")
            with open(path) as f:
                text = f.read()
            self.assertTrue(text.startswith("gcm1:"), text[:40])
            self.assertNotIn("PRIVATE KEY", text)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            self.assertEqual(hub.get("/api/v1/ca").status, 200)
        finally:
            hub.cleanup()

    def test_plain_key_migrated_and_used(self):
        data = tempfile.mkdtemp(prefix="outpost-hub-ca-")
        key, crt = os.path.join(data, "ca.key"), os.path.join(data, "ca.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "30", "-subj", "/CN=Older office CA",
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                       check=True, capture_output=True)
        os.chmod(key, 0o600)
        with open(key) as f:
            plain = f.read()
        self.assertIn("PRIVATE KEY", plain)
        with open(crt) as f:
            ca_pem = f.read()
        hub = Daemon("hub", data=data)
        hub.tmp = data  # cleaned up with the hub
        hub.start()
        try:
            with open(key) as f:
                text = f.read()
            self.assertTrue(text.startswith("gcm1:"), text[:40])
            self.assertNotIn("PRIVATE KEY", text)
            self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
            self.assertIn("office CA key wrapped in place", hub.read_log())
            # The hub signs with the migrated key: a node's certificate,
            # verified against the openssl CA.
            node_data = tempfile.mkdtemp(prefix="outpost-node-ca-")
            p = harness.run_tool(["enroll", "--hub", hub.url, "--code", hub_code(hub),
                                  "--data", node_data, "--name", "office-pc.lan"])
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(node_data, "node.crt")) as f:
                leaf = pem_certs(f.read())[0]
            with open(os.path.join(node_data, "ca.crt")) as f:
                self.assertEqual(f.read().strip(), ca_pem.strip())
            leaf_path = os.path.join(node_data, "leaf.pem")
            with open(leaf_path, "w") as f:
                f.write(leaf)
            v = subprocess.run(["openssl", "verify", "-CAfile", crt, leaf_path],
                               capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
            # Started again: the wrapped key loads, nothing changes.
            hub.stop()
            hub.start()
            with open(key) as f:
                self.assertEqual(f.read(), text)
            self.assertEqual(hub.get("/ca.crt").body.decode().strip(), ca_pem.strip())
            # Another master.key cannot open it: the hub refuses to start.
            hub.stop()
            os.rename(os.path.join(data, "master.key"), os.path.join(data, "master.key.real"))
            with open(os.path.join(data, "master.key"), "w") as f:
                f.write("11" * 32 + "\n")
            os.chmod(os.path.join(data, "master.key"), 0o600)
            bad = subprocess.run([hub.binary, "--data", data, "--listen",
                                  "127.0.0.1:%d" % harness.free_port()],
                                 capture_output=True, text=True, timeout=120)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("cannot unwrap the office CA key", bad.stdout + bad.stderr)
            os.replace(os.path.join(data, "master.key.real"), os.path.join(data, "master.key"))
            import shutil
            shutil.rmtree(node_data, ignore_errors=True)
        finally:
            hub.cleanup()


class TestCertRenewedWithoutRestart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Daemon("hub").start()
        cls.node, cls.https_port = harness.https_node(cls.hub)

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        cls.hub.cleanup()

    def connect(self, name):
        ctx = ssl.create_default_context(cafile=os.path.join(self.node.data, "ca.crt"))
        return ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.https_port), 10),
                               server_hostname=name)

    def get(self, s, name):
        s.sendall(("GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n" % name).encode())
        return harness.read_head(s, 4096).split(b"\r\n", 1)[0]

    def test_renewed_cert_served_without_restart(self):
        pid = self.node.proc.pid
        with open(os.path.join(self.node.data, "node.crt")) as f:
            old = ssl.PEM_cert_to_DER_cert(pem_certs(f.read())[0])
        before = self.connect("office-pc.lan")  # open across the renewal
        try:
            self.assertEqual(before.getpeercert(binary_form=True), old)
            self.assertEqual(self.get(before, "office-pc.lan"), b"HTTP/1.1 200 OK")
            p = harness.run_tool(["renew-cert", "--data", self.node.data, "--name",
                                  "office-pc.lan", "--name", "renewed.lan", "--name",
                                  "10.0.0.5"])
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(self.node.data, "node.crt")) as f:
                new = ssl.PEM_cert_to_DER_cert(pem_certs(f.read())[0])
            self.assertNotEqual(old, new)
            # The next connection gets the new certificate, for the new name
            # too, from the same process.
            with self.connect("renewed.lan") as s:
                self.assertEqual(s.getpeercert(binary_form=True), new)
                self.assertEqual(self.get(s, "renewed.lan"), b"HTTP/1.1 200 OK")
            self.assertEqual(self.node.proc.pid, pid)
            self.assertIsNone(self.node.proc.poll())
            self.assertIn("serving the renewed certificate", self.node.read_log())
            # The connection from before goes on, on its own session.
            self.assertEqual(self.get(before, "office-pc.lan"), b"HTTP/1.1 200 OK")
        finally:
            before.close()
        # Renewed again: each renewal is noticed.
        p = harness.run_tool(["renew-cert", "--data", self.node.data])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.node.data, "node.crt")) as f:
            third = ssl.PEM_cert_to_DER_cert(pem_certs(f.read())[0])
        with self.connect("office-pc.lan") as s:
            self.assertEqual(s.getpeercert(binary_form=True), third)


if __name__ == "__main__":
    unittest.main()
