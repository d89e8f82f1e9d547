"""Test harness: start real outpost-hub / outpost-node processes on loopback
ports with temporary data directories, talk HTTP(S) to them, and look at their
SQLite files.  Standard library only.

Binaries come from $OUTPOST_BIN (set by tests/run.sh), logs go to
$OUTPOST_TEST_OUT/<name>.log so tests/run.sh can search them for planted
secrets (record any secret a test uses with plant_secret()).
"""
import atexit
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("OUTPOST_BIN", os.path.join(TOP, "build", "san", "bin"))
OUT = os.environ.get("OUTPOST_TEST_OUT", os.path.join(TOP, "tests", "out"))
os.makedirs(OUT, exist_ok=True)

# Demo data is off by default in both daemons (DESIGN.md, "Demo data is
# opt-in"); the tests turn it on explicitly, for every daemon and every CLI
# command they run (a test that wants it off passes --demo no or its own env).
os.environ.setdefault("OUTPOST_HUB_DEMO", "yes")
os.environ.setdefault("OUTPOST_NODE_DEMO", "yes")
# The tests play other office PCs from 127.0.0.2 and up, over plain HTTP:
# their nodes let staff sign in from them (a real node: HTTPS, or this on).
os.environ.setdefault("OUTPOST_NODE_LAN_HTTP", "yes")
# They also check visitors in from 127.0.0.1 far faster than a kiosk does:
# the kiosk's pace per address is off but where a test sets it
# (test_greeter.test_kiosk_paced).
os.environ.setdefault("OUTPOST_NODE_KIOSK_CHECKINS_PER_MINUTE", "0")
# The node closes the visits a day left open (node_greeter_days.c) at start
# and then looks once a minute: tests that step no clock look once an hour,
# so that rows they seed with old dates stay as they made them
# (test_greeter.DayEndTest looks every 200 ms).
DAY_END_QUIET = "3600000"   # (not a reason to skip against a release build)
os.environ.setdefault("OUTPOST_TEST_HOOKS_DAY_END_MS", DAY_END_QUIET)

# "Today" in a test is the office's day, not the machine's: the daemons keep
# the calendar in the office's zone (the demo office's is the schema default,
# America/Los_Angeles), so a test that took the date from a machine in UTC
# disagreed with them from midnight UTC to midnight Pacific.  Every date a
# test computes with time.localtime()/datetime.date.today() is the office's.
OFFICE_TZ = "America/Los_Angeles"
os.environ["TZ"] = OFFICE_TZ
time.tzset()


def office_day(node, span=60):
    """The office's day, YYYY-MM-DD, as `node` keeps it (asked of it: GET
    /api/v1/case/meta, its "today" and the time it took it from), at least
    `span` seconds before the office's next midnight.

    A test (or a class) that takes "today" once and compares with what the
    node stores later disagrees with it when the office's midnight (08:00 or
    07:00 UTC) passes in between.  When that midnight is less than `span`
    seconds away by the node's clock, this waits until it has passed (and
    says so on stderr) rather than race it: `span` is how long the caller
    goes on using the day it got.  `node` is a signed-in client, or a hub
    (its Daemon("hub"), whose kind says so): the hub's day, by the clock its
    /healthz gives (time_ms: the one it dates code lists and requests by,
    in the office's zone, which is the tests' own), for what the hub judges
    against its "today" (a code list's effective date)."""
    hub = getattr(node, "kind", None) == "hub"
    while True:
        r = node.get("/healthz" if hub else "/api/v1/case/meta")
        if r.status != 200:
            raise AssertionError("the office's day: GET %s: %r"
                                 % ("/healthz" if hub else "/api/v1/case/meta", r))
        j = r.json()
        now = (j["time_ms"] if hub else j["trusted_time_ms"]) / 1000.0
        t = time.localtime(now)
        left = time.mktime((t.tm_year, t.tm_mon, t.tm_mday + 1, 0, 0, 0, 0, 0, -1)) - now
        if left >= span:
            return time.strftime("%Y-%m-%d", t) if hub else j["today"]
        sys.stderr.write("harness: the office's midnight is %.0f s away by %s's clock, less than the"
                         " %d s the test uses its day for: waiting until it has passed\n"
                         % (left, getattr(node, "name", "the node"), span))
        sys.stderr.flush()
        time.sleep(left + 1)


def day_after(day, n):
    """The date n days after `day` (YYYY-MM-DD; before it when n < 0): for
    dates counted from a daemon's day (office_day), not the machine's."""
    t = time.strptime(day, "%Y-%m-%d")
    return time.strftime("%Y-%m-%d", time.localtime(
        time.mktime((t.tm_year, t.tm_mon, t.tm_mday + n, 12, 0, 0, 0, 0, -1))))


def plant_secret(value):
    """Remember a secret value; tests/run.sh fails if it appears in any log."""
    if not value or len(value) < 6:
        return
    with open(os.path.join(OUT, "planted-secrets.txt"), "a") as f:
        f.write(value + "\n")


_IDS = re.compile(r"[0-9a-f]{12}\.[0-9]{4}\.|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def without_ids(text):
    """TEXT with its random ids (UUIDs, HLC stamps) taken out, so that a test
    asking whether an SSN's digits are in it is not answered by an id that
    holds them by chance."""
    return _IDS.sub("", text)


def strings(v):
    """Every text value in a JSON value, nested or not."""
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return [t for x in v.values() for t in strings(x)]
    if isinstance(v, list):
        return [t for x in v for t in strings(x)]
    return []


# The staff login every test uses on a demo node (see README, "Test login").
# A stand-alone demo node has one test account per privilege group too
# (DEMO_GROUP_USERS), all with DEMO_PASSWORD.
DEMO_USER = "demo"
DEMO_PASSWORD = "Outpost.Demo24"
DEMO_GROUP_USERS = {
    "LWIA/CBO Staff": "t-lwia-cbo",
    "LWIA Intake Staff": "t-lwia-intake",
    "LWIA Partner Staff": "t-lwia-partner",
    "LWIA Partner Supervisor": "t-lwia-supervisor",
    "ETPL Coordinators": "t-etpl",
    "WARN": "t-warn",
    "View Access": "t-view",
    "View Access with Reports": "t-view-reports",
    "DVOP": "t-dvop",
    "EDD El Centro Helpdesk": "t-helpdesk",
    "EDD WSB Staff": "t-wsb",
    "EDD WSB Supervisor": "t-wsb-supervisor",
    "LVER": "t-lver",
    "TAA Coordinators/Specialist": "t-taa",
}


def login(daemon, username=DEMO_USER, password=None, expect=200):
    """Sign the daemon's client (its cookies and CSRF token) in as a staff
    member.  Every integration test calls this right after starting a node,
    before using any route other than /healthz and the public kiosk.

    POSTs /api/v1/session; on success the session cookie is kept in
    daemon.cookies and the CSRF token in daemon.csrf, so daemon.get/post
    carry both.  Returns the response; raises unless its status is `expect`.
    """
    if password is None:
        password = DEMO_PASSWORD
    daemon.csrf = None  # a browser sends its old cookie; the node ends that session
    deadline = time.time() + 30
    while True:
        r = daemon.request("POST", "/api/v1/session",
                           body={"username": username, "password": password}, timeout=60)
        # A node enrolled a moment ago has not pulled its staff yet: when the
        # test expects to get in, give its first sync cycle time to land.
        if not (expect == 200 and r.status == 403 and time.time() < deadline and
                b"offline_too_long" in r.body):
            break
        time.sleep(0.5)
    if r.status != expect:
        raise AssertionError("login as %r: expected %d, got %r" % (username, expect, r))
    if r.status == 200:
        daemon.csrf = r.json().get("csrf_token")
    return r


def client(daemon, source=None):
    """Another browser on the same daemon: a copy of it with its own cookies
    and CSRF token, optionally connecting from another loopback address
    (source, e.g. "127.0.0.2": another office PC, for the throttling tests).
    Starting or stopping the daemon stays with the original object."""
    import copy
    c = copy.copy(daemon)
    c.cookies = {}
    c.csrf = None
    c.source = source
    return c


def logout(daemon):
    """Sign the daemon's client out (DELETE /api/v1/session) and forget the
    cookies and CSRF token."""
    r = daemon.request("DELETE", "/api/v1/session")
    daemon.cookies.clear()
    daemon.csrf = None
    return r


PORTS_DIR = os.path.join(tempfile.gettempdir(), "outpost-test-ports")


def _port_taken(port):
    """Reserve port for this process: a file named after it in PORTS_DIR,
    created exclusively, holding our pid.  A reservation whose process is
    gone is taken over.  True when another live process holds it."""
    os.makedirs(PORTS_DIR, exist_ok=True)
    path = os.path.join(PORTS_DIR, str(port))
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(path) as f:
                    pid = int(f.read().strip() or 0)
                if pid in (0, os.getpid()):
                    return True  # being written, or handed out already
                os.kill(pid, 0)
                return True
            except (OSError, ValueError):
                try:
                    os.unlink(path)  # stale: its process has exited
                except OSError:
                    pass
                continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        _reserved.append(path)
        return False
    return True


_reserved = []


@atexit.register
def _release_ports():
    for path in _reserved:
        try:
            os.unlink(path)
        except OSError:
            pass


def _listen_ports():
    """The ports to hand out: below the kernel's ephemeral range (the
    source ports of outgoing connections), so that no connection a test
    opens meanwhile takes a port between free_port() and the daemon's
    bind.  An empty range when the ephemeral one leaves no room below it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 1024
    return range(max(10000, low - 12000), low) if low >= 12000 else range(0)


_rng = random.SystemRandom()   # tests may seed the module's own


def free_port():
    """A loopback port no other test process (integration workers, browser
    tests, other checkouts on this machine) has been given and nothing
    listens on: one below the ephemeral range checked free by a bind (else
    one the kernel picks), and the reservation in PORTS_DIR keeps another
    process's free_port from picking it too before our daemon binds it."""
    ports = _listen_ports()
    for i in range(200):
        s = socket.socket()
        try:
            if ports and i < 150:
                port = _rng.choice(ports)
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue   # in use (or a connection of it lingers)
            else:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        finally:
            s.close()
        if not _port_taken(port):
            return port
    raise RuntimeError("no free port after 200 tries (see %s)" % PORTS_DIR)


def read_head(sock, size=65536):
    """Bytes from sock up to the end of an HTTP head (a blank line) or
    EOF, whichever comes first: all that was read."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(size)
        if not chunk:
            break
        data += chunk
    return data


class Listener:
    """The base of the tests' proxies: a listener on 127.0.0.1 at a port the
    kernel picks (self.port) whose accept loop, once start() runs it, gives
    each connection to self.serve(conn) in a thread of its own.  close()
    stops it."""

    def __init__(self, backlog=16):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.closed = False

    def start(self):
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def _accept_loop(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        raise NotImplementedError

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "<Response %d %r>" % (self.status, self.body[:200])


_log_seq = [0]
_hooks = {}


def has_test_hooks(binary):
    """True for the test build (make test's sanitizer build): its daemons
    read the OUTPOST_TEST_HOOKS_* and OUTPOST_FAULT variables and take
    fewer PBKDF2 rounds.  The suite also runs against a release build
    (make test-release), where those do nothing."""
    if binary not in _hooks:
        try:
            with open(binary, "rb") as f:
                _hooks[binary] = b"OUTPOST_TEST_HOOKS" in f.read()
        except OSError:
            return True   # (not ours to judge: the run says what is wrong)
    return _hooks[binary]


def release_args(cmd):
    """cmd for a release build: fewer PBKDF2 rounds than the release's
    minimum are dropped (its own rounds are slower, not different)."""
    if has_test_hooks(cmd[0]):
        return cmd
    out = []
    skip = False
    for i, a in enumerate(cmd):
        if skip:
            skip = False
        elif a in ("--password-iters", "--password_iters") and i + 1 < len(cmd):
            skip = True
        else:
            out.append(a)
    return out


def skip_without_hooks(binary, env):
    """A test whose daemon needs a hook (an injected clock, a fault point,
    a WAL bound) is skipped against a release build, saying which."""
    hooks = sorted(k for k in env if (k.startswith("OUTPOST_TEST_HOOKS") or k == "OUTPOST_FAULT")
                   and (k, env[k]) != ("OUTPOST_TEST_HOOKS_DAY_END_MS", DAY_END_QUIET))
    if hooks and not has_test_hooks(binary):
        raise unittest.SkipTest("release build: no test hooks (%s)" % ", ".join(hooks))


class Daemon:
    """One outpost-node or outpost-hub process."""

    def __init__(self, kind, name=None, data=None, args=(), env=None, tls=None):
        self.kind = kind
        _log_seq[0] += 1
        self.name = name or "%s-%d-%d" % (kind, os.getpid(), _log_seq[0])
        self.tmp = None
        if data is None:
            self.tmp = tempfile.mkdtemp(prefix="outpost-%s-" % kind)
            data = self.tmp
        self.data = data
        self.port = free_port()
        self.args = list(args)
        self.env = dict(os.environ)
        if env:
            self.env.update(env)
        self.tls = (kind == "hub") if tls is None else tls
        self.proc = None
        self.logpath = os.path.join(OUT, self.name + ".log")
        self.cookies = {}
        self.csrf = None
        self.source = None  # local address to connect from (harness.client)

    @property
    def binary(self):
        return os.path.join(BIN, "outpost-" + self.kind)

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def start(self, wait=True):
        cmd = [self.binary, "--data", self.data, "--listen", "127.0.0.1:%d" % self.port]
        cmd += self.args
        skip_without_hooks(self.binary, self.env)
        cmd = release_args(cmd)
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        t0 = time.time()
        last = None
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s; log %s:\n%s" % (
                    self.name, self.proc.returncode, self.logpath, self.read_log()[-3000:]))
            try:
                r = self.request("GET", "/healthz", timeout=2)
                if r.status == 200:
                    return
                last = r
            except (OSError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError("%s not ready: %r" % (self.name, last))

    def read_log(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def conn(self, timeout=10):
        src = (self.source, 0) if getattr(self, "source", None) else None
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=ctx, source_address=src)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=src)

    def request(self, method, path, body=None, headers=None, timeout=60, raw=False, csrf=True):
        """One request on a fresh connection with this client's cookies and
        (csrf false: without) its CSRF token; keeps the cookies it sets."""
        h = {}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            hdrs = r.getheaders()
        finally:
            c.close()
        for k, v in hdrs:
            if k.lower() == "set-cookie":
                nv = v.split(";", 1)[0]
                if "=" in nv:
                    n, val = nv.split("=", 1)
                    if val:
                        self.cookies[n.strip()] = val.strip()
                    else:
                        self.cookies.pop(n.strip(), None)
        return Response(r.status, hdrs, data)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body if body is not None else {}, **kw)

    def raw(self, data, timeout=5, read_all=True):
        """Send raw bytes on a fresh connection (plain HTTP only); return reply bytes."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            s.sendall(data)
            chunks = []
            while True:
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    break
                if not b:
                    break
                chunks.append(b)
                if not read_all:
                    break
            return b"".join(chunks)
        finally:
            s.close()

    def db(self, name=None):
        name = name or ("node.db" if self.kind == "node" else "hub.db")
        c = sqlite3.connect(os.path.join(self.data, name), timeout=10)
        c.row_factory = sqlite3.Row
        return c

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        if self.tmp and not os.environ.get("OUTPOST_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)


def wait_until(fn, timeout=30, step=0.2, what="condition"):
    """Call fn every step seconds until it returns something true (returned);
    AssertionError after timeout seconds."""
    t0 = time.time()
    last = None
    while time.time() - t0 < timeout:
        last = fn()
        if last:
            return last
        time.sleep(step)
    raise AssertionError("timed out after %ds waiting for %s (last %r)" % (timeout, what, last))


def run_tool(args, data=None, env=None, timeout=120, check=False, name="sync"):
    """Run outpost-sync (or another binary when args[0] is a path)."""
    if not os.path.sep in args[0]:
        args = [os.path.join(BIN, "outpost-sync")] + list(args)
    e = dict(os.environ)
    if env:
        e.update(env)
    args = release_args(list(args))
    p = subprocess.run(args, capture_output=True, timeout=timeout, env=e)
    # stderr is the tools' log channel and is searched for planted secrets;
    # stdout is their answer (an enrollment code, on purpose) and is kept apart.
    # An enrollment code on the command line is a secret: not in the log.
    shown = ["<code>" if i and args[i - 1] == "--code" else a for i, a in enumerate(args)]
    cmd = b"$ " + " ".join(shown).encode() + b"\n"
    with open(os.path.join(OUT, name + "-tool.log"), "ab") as f:
        f.write(cmd + p.stderr)
    with open(os.path.join(OUT, name + "-tool.out"), "ab") as f:
        f.write(cmd + p.stdout)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s %s" % (args, p.returncode, p.stdout, p.stderr))
    return p


# ---- hubs and offices ---------------------------------------------------------------
def admin_token(hub):
    """The hub's operations bearer token (DATA/admin.token), planted."""
    with open(os.path.join(hub.data, "admin.token")) as f:
        token = f.read().strip()
    plant_secret(token)
    return token


def operations_password(hub, timeout=30):
    """The operations account's one-time password a new hub writes to
    DATA/operations.password (never to its log), planted."""
    path = os.path.join(hub.data, "operations.password")
    wait_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0, timeout, 0.05,
               "operations.password")
    with open(path) as f:
        pw = f.read().strip()
    plant_secret(pw)
    return pw


class DemoNode(unittest.TestCase):
    """A stand-alone demo node shared by the class's tests, signed in as
    the demo user."""

    @classmethod
    def setUpClass(cls):
        cls.node = Daemon("node").start()
        login(cls.node)

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()


class HubAndNode(unittest.TestCase):
    """A hub and a stand-alone demo node (signed in as the demo user) shared
    by the class's tests; cls.token is the hub's admin token, cls.schema
    its schema version and cls.reason the id of the node's first greeter
    reason."""

    @classmethod
    def setUpClass(cls):
        cls.hub = Daemon("hub").start()
        cls.node = Daemon("node").start()
        login(cls.node)
        cls.token = admin_token(cls.hub)
        cls.schema = cls.hub.get("/healthz").json()["schema_version"]
        cls.reason = cls.node.get("/api/v1/greeter/reasons").json()[0]["id"]

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        cls.hub.cleanup()


class TwoOffices(unittest.TestCase):
    """two_offices(cls.prefix) shared by the class's tests: cls.hub, cls.a
    and cls.b; sync(node, cmd) runs outpost-sync on one."""
    prefix = "office"

    @classmethod
    def setUpClass(cls):
        cls.hub, cls.a, cls.b = two_offices(cls.prefix)

    @classmethod
    def tearDownClass(cls):
        cls.a.cleanup()
        cls.b.cleanup()
        cls.hub.cleanup()

    @classmethod
    def sync(cls, node, cmd):
        return sync_json(node, cmd)


class HubAndOffices(unittest.TestCase):
    """A hub and offices enrolled with it, shared by the class's tests: the
    subclass's setUpClass calls start_hub() (cls.hub; cls.token, its admin
    token, planted) and enroll_offices(); all are cleaned up after."""

    @classmethod
    def start_hub(cls):
        cls.hub = Daemon("hub").start()
        cls.token = admin_token(cls.hub)
        cls.nodes = {}

    @classmethod
    def enroll_offices(cls, offices, env, log):
        """cls.nodes[name] for each (name, office) of offices: a node
        enrolled with that office (enrolled_node), started."""
        for name, office in offices:
            cls.nodes[name] = enrolled_node(cls.hub, office, env, log)

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes.values():
            n.cleanup()
        cls.hub.cleanup()


# ---- enrolled offices ----------------------------------------------------------
def hub_code(hub, office="demo-office", plant=True):
    """A fresh enrollment code for office from `outpost-hub enroll-code`,
    planted as a secret with and without its dashes unless plant is false."""
    p = run_tool([os.path.join(BIN, "outpost-hub"), "enroll-code", "--office", office,
                  "--data", hub.data], name="hub")
    if p.returncode != 0:
        raise RuntimeError("enroll-code failed: %r" % p.stderr)
    code = p.stdout.decode().strip()
    if plant:
        plant_secret(code)
        plant_secret(code.replace("-", ""))
    return code


def enroll(hub, node, office="demo-office", log="sync", plant=True):
    """`outpost-sync enroll` of node (stopped or running) with office, its
    log LOG-tool.log; RuntimeError when it fails."""
    p = run_tool(["enroll", "--hub", hub.url, "--code", hub_code(hub, office, plant),
                  "--data", node.data], name=log)
    if p.returncode != 0:
        raise RuntimeError("enroll failed: %s %s" % (p.stdout, p.stderr))


def enrolled_node(hub, office, env=None, log="sync", plant=False):
    """A node enrolled with office (enroll) before its first start, then
    started."""
    node = Daemon("node", env=env)
    enroll(hub, node, office, log, plant)
    node.start()
    return node


def sync_json(node, cmd):
    """`outpost-sync CMD --data NODE --json`, its answer parsed; an
    AssertionError with the output when it fails."""
    p = run_tool([cmd, "--data", node.data, "--json"])
    if p.returncode != 0:
        raise AssertionError("outpost-sync %s on %s failed (%d): %s %s" % (
            cmd, node.name, p.returncode, p.stdout.decode()[-2000:], p.stderr.decode()))
    return json.loads(p.stdout)


def checkin_change(node, name):
    """A check-in for name POSTed to node (its first greeter reason): (the
    check-in's id, the outbox row it wrote: seq, hlc, actor, changeset)."""
    reasons = node.get("/api/v1/greeter/reasons").json()
    r = node.post("/api/v1/checkins", {"visitor_name": name, "reason_ids": [reasons[0]["id"]],
                                       "language": "en"})
    assert r.status == 201, (r.status, r.body)
    row = rows(node, "SELECT seq, hlc, actor, changeset FROM outbox ORDER BY seq DESC LIMIT 1")[0]
    return r.json()["id"], dict(zip(("seq", "hlc", "actor", "changeset"), row))


def db_write(daemon, sql, *args):
    """One statement on the daemon's database (stopped, or behind its back),
    committed: the rows it gave."""
    db = daemon.db()
    try:
        cur = db.execute(sql, args)
        db.commit()
        return cur.fetchall()
    finally:
        db.close()


def db_value(daemon, sql, *args):
    """The first column of the first row of a query on the daemon's
    database; 0 while the table does not exist yet."""
    db = daemon.db()
    try:
        return db.execute(sql, args).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def rows(daemon, sql, *args):
    """The rows of a query on the daemon's database, as tuples."""
    db = daemon.db()
    try:
        return [tuple(r) for r in db.execute(sql, args).fetchall()]
    finally:
        db.close()


def enroll_running(hub, node, office):
    """Enroll a running node with office and wait (30 s at most) until it
    has taken up its new identity (one background sync interval)."""
    p = run_tool(["enroll", "--hub", hub.url, "--code", hub_code(hub, office),
                  "--data", node.data, "--json"])
    if p.returncode != 0:
        raise RuntimeError("enroll failed: %r %r" % (p.stdout, p.stderr))
    t0 = time.time()
    while node.get("/healthz").json().get("office_id") != office:
        if time.time() - t0 > 30:
            raise RuntimeError("%s did not take up office %s" % (node.name, office))
        time.sleep(0.2)


def https_node(hub, *args):
    """A node of the hub's demo office with an HTTPS listener for the names
    office-pc.lan and 10.0.0.5 (its certificate from the hub's CA at
    enrollment; 127.0.0.1 is the hub's own), started.  Returns (node, https_port)."""
    https_port = free_port()
    node = Daemon("node", args=["--https-listen", "127.0.0.1:%d" % https_port] + list(args))
    p = run_tool(["enroll", "--hub", hub.url, "--code", hub_code(hub), "--data",
                  node.data, "--name", "office-pc.lan", "--name", "10.0.0.5"])
    if p.returncode != 0:
        raise RuntimeError("enroll failed: %r" % p.stderr)
    node.start()
    return node, https_port


def two_offices(prefix):
    """A hub and two running demo nodes enrolled with its demo-office and
    demo-office-2, each pushed and pulled once, then signed in as the demo
    user (after enrollment: a sign-in before it would be audited under the
    stand-alone office).  Returns (hub, a, b); the caller cleans them up."""
    hub = Daemon("hub").start()
    a = Daemon("node", name="%s-a-%d" % (prefix, os.getpid())).start()
    b = Daemon("node", name="%s-b-%d" % (prefix, os.getpid())).start()
    for node, office in ((a, "demo-office"), (b, "demo-office-2")):
        enroll_running(hub, node, office)
    for node in (a, b):
        sync_json(node, "push")
        sync_json(node, "pull")
    for node in (a, b):
        login(node)
    return hub, a, b


# ---- the trust boundary: a node's proof of a password change (model/password.h) ----
def pw_verifier(pw, stored):
    """The hub's second verifier of pw under the stored form's salt."""
    import hashlib
    _, iters, salt, _ = stored.split("$")
    vs = hashlib.sha256(b"outpost-verifier" + bytes.fromhex(salt)).digest()[:16]
    return hashlib.pbkdf2_hmac("sha256", pw.encode(), vs, int(iters)).hex()


def change_proof(cur_v, cid, staff_id, new_hash, prev_ref, reason, changed_at, new_v):
    """(proof, next_verifier) of a credential_changes row, as a node makes them."""
    import hashlib
    import hmac
    key = bytes.fromhex(cur_v)
    pad = hmac.new(key, ("outpost-next-verifier\n" + cid).encode(), hashlib.sha256).digest()
    wrapped = bytes(a ^ b for a, b in zip(bytes.fromhex(new_v), pad)).hex()
    msg = "outpost-credential-change\n%s\n%s\n%s\n%s\n%s\n%d\n%s" % (
        cid, staff_id, new_hash, prev_ref, reason, changed_at, wrapped)
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest(), wrapped
