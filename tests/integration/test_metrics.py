"""Issue #18, metrics: GET /metrics on the node and the hub in the
Prometheus text format, scraped before and after activity and read with
Debian's prometheus_client parser and a strict check of our own (every
sample's family has HELP and TYPE, histogram buckets add up, counters only
grow); open to loopback clients (and at the hub to the admin token), never
holding a visitor's name or a secret.
"""
import http.client
import os
import re
import socket
import ssl
import sys
import threading
import time
import unittest

from harness import Daemon, login, plant_secret
from test_sync_node import OfficeTest, checkin, count, wait_for

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # Debian's package lives outside a pyenv interpreter's path
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        text_string_to_metric_families = None

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\})? '
                    r'(-?[0-9.eE+-]+|NaN|[+-]Inf)$')


def strict_parse(text):
    """{(name, frozenset(labels.items())): value}, asserting the exposition
    format line by line."""
    assert text.endswith("\n"), "no final newline"
    helps, types, out = {}, {}, {}
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            assert name not in helps, "two HELP lines for " + name
            helps[name] = help_
            continue
        if line.startswith("# TYPE "):
            name, _, t = line[7:].partition(" ")
            assert t in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "two TYPE lines for " + name
            types[name] = t
            continue
        assert not line.startswith("#") and line.strip(), "stray line %r" % line
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count|total)$", "", name)
        fam = name if name in types else base if base in types else None
        if fam is None and name.endswith("_total") and name in types:
            fam = name
        assert fam is not None, "sample %s has no TYPE" % name
        assert fam in helps, "family %s has no HELP" % fam
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        key = (name, labels)
        assert key not in out, "duplicate series %r" % (key,)
        out[key] = float(m.group(4))
    # Histograms: cumulative buckets ending in +Inf == _count.
    for fam, t in types.items():
        if t != "histogram":
            continue
        series = {}
        for (name, labels), v in out.items():
            if name == fam + "_bucket":
                rest = frozenset(kv for kv in labels if kv[0] != "le")
                le = dict(labels)["le"]
                series.setdefault(rest, []).append((float("inf") if le == "+Inf" else float(le), v))
        for rest, buckets in series.items():
            buckets.sort()
            vals = [v for _, v in buckets]
            assert vals == sorted(vals), "buckets of %s not cumulative" % fam
            assert buckets[-1][0] == float("inf"), "no +Inf bucket in " + fam
            assert out[(fam + "_count", rest)] == vals[-1], "count != +Inf bucket in " + fam
    return out


def value(m, name, default=None, **labels):
    want = frozenset(labels.items())
    hits = [v for (n, l), v in m.items() if n == name and want <= l]
    if not hits and default is not None:
        return default
    assert hits, "no series %s%r" % (name, labels)
    return sum(hits)


def scrape(d, headers=None):
    r = d.get("/metrics", headers=headers or {})
    assert r.status == 200, r
    ctype = r.header("Content-Type")
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    text = r.body.decode("utf-8")
    if text_string_to_metric_families is not None:
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        assert "outpost_http_requests" in fams or "outpost_http_requests_total" in fams, fams.keys()
    return text, strict_parse(text)


def from_outside(port, tls, headers=None):
    """A GET /metrics from this machine's non-loopback address (None when it
    has none)."""
    try:
        ip = [a for a in socket.gethostbyname_ex(socket.gethostname())[2] if not a.startswith("127.")]
    except OSError:
        ip = []
    if not ip:
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.connect(("192.0.2.1", 9))
            ip = [s.getsockname()[0]]
            s.close()
        except OSError:
            return None
    if ip[0].startswith("127."):
        return None
    if tls:
        c = http.client.HTTPSConnection(ip[0], port, timeout=10,
                                        context=ssl._create_unverified_context())
    else:
        c = http.client.HTTPConnection(ip[0], port, timeout=10)
    try:
        c.request("GET", "/metrics", headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


class MetricsTest(OfficeTest):
    def setUp(self):
        if text_string_to_metric_families is None:
            self.skipTest("python3-prometheus-client is not installed (scripts/setup.sh test)")
        super().setUp()

    def test_scrape_before_and_after_activity(self):
        hub = self.o.hub()
        node = self.o.node(hub)
        wait_for(lambda: count(node, "SELECT count(*) FROM node_meta WHERE key='sync_cursor'") == 1,
                 what="first snapshot")
        ntext0, n0 = scrape(node)
        htext0, h0 = scrape(hub)
        self.assertEqual(value(n0, "outpost_node_enrolled"), 1)
        self.assertEqual(value(n0, "outpost_node_outbox_entries"), 0)
        acked0 = value(n0, "outpost_node_acked_seq")
        self.assertGreater(value(n0, "outpost_node_last_contact_timestamp_seconds"), 1e9)
        self.assertGreater(value(n0, "outpost_node_database_bytes"), 0)
        self.assertGreaterEqual(value(n0, "outpost_node_sessions"), 1)  # the harness signed in
        self.assertEqual(value(h0, "outpost_hub_nodes", state="active"), 1)
        self.assertEqual(value(h0, "outpost_hub_node_acked_seq", node=node.node_id), acked0)

        # Activity: check-ins at the node, which sync to the hub.
        name = "Zebulon Metricsvisitor"
        ids = [checkin(node, name) for _ in range(5)]
        wait_for(lambda: count(hub, "SELECT count(*) FROM checkins WHERE id=?", ids[-1]) == 1,
                 what="check-ins at the hub")
        wait_for(lambda: value(scrape(node)[1], "outpost_node_outbox_entries") == 0,
                 what="outbox drained")
        ntext1, n1 = scrape(node)
        htext1, h1 = scrape(hub)
        self.assertGreaterEqual(value(n1, "outpost_http_requests_total", **{"class": "greeter"})
                                - value(n0, "outpost_http_requests_total", 0, **{"class": "greeter"}), 5)
        self.assertGreaterEqual(value(n1, "outpost_http_request_duration_seconds_count",
                                      **{"class": "greeter"}), 5)
        self.assertGreaterEqual(value(n1, "outpost_node_acked_seq"), acked0 + 5)
        self.assertGreaterEqual(value(n1, "outpost_node_sent_log_entries"), 5)
        self.assertGreaterEqual(value(n1, "outpost_node_sync_cycles_total"),
                                value(n0, "outpost_node_sync_cycles_total"))
        self.assertGreater(value(n1, "outpost_node_last_sync_success_timestamp_seconds"), 1e9)
        self.assertGreater(value(h1, "outpost_http_requests_total", **{"class": "sync"}),
                           value(h0, "outpost_http_requests_total", 0, **{"class": "sync"}))
        self.assertEqual(value(h1, "outpost_hub_node_acked_seq", node=node.node_id),
                         value(n1, "outpost_node_acked_seq"))
        self.assertGreater(value(h1, "outpost_hub_change_log_head_seq"),
                           value(h0, "outpost_hub_change_log_head_seq"))
        self.assertLess(value(h1, "outpost_hub_node_last_seen_age_seconds", node=node.node_id), 120)
        # Counters never go back.
        for (n, l), v in n0.items():
            if n.endswith("_total") and (n, l) in n1:
                self.assertGreaterEqual(n1[(n, l)], v, n)
        # No personal data, no secret.
        token = open(os.path.join(hub.data, "admin.token")).read().strip()
        for text in (ntext1, htext1):
            self.assertNotIn("Zebulon", text)
            self.assertNotIn("Metricsvisitor", text)
            self.assertNotIn(token, text)
            self.assertNotIn(node.ident["node_secret"], text)

    def test_quarantined_entries_counted_past_the_status_list(self):
        """outpost_node_quarantined_entries is the count of refused changes,
        not the length of the status's list of the latest 100."""
        node = Daemon("node", args=["--demo", "yes"]).start()
        self.o.daemons.append(node)
        login(node)
        db = node.db()
        try:
            db.executemany("INSERT INTO sync_quarantine(seq, reason, at) VALUES(?, 'refused', 0)",
                           [(i,) for i in range(1, 151)])
            db.commit()
        finally:
            db.close()
        self.assertEqual(node.get("/api/v1/sync/status").json()["quarantined_count"], 150)
        self.assertEqual(value(scrape(node)[1], "outpost_node_quarantined_entries"), 150)

    def test_hub_jobs_gauge_says_what_it_counts(self):
        """outpost_hub_sync_jobs_in_flight (the name stays: SPEC.md) counts
        every work request of the hub's thread pool, the SSN key
        retirement's pass and the password checks too, while its help text
        said "pushes, pulls and snapshots".  Held back here
        (OUTPOST_TEST_HOOKS_REENCRYPT_DELAY_MS), the pass is counted, and
        the help text names it."""
        hub = Daemon("hub", env={"OUTPOST_TEST_HOOKS_REENCRYPT_DELAY_MS": "4000"})
        self.o.daemons.append(hub)
        hub.start()
        text, m = scrape(hub)
        self.assertEqual(value(m, "outpost_hub_sync_jobs_in_flight"), 0)
        help_ = re.search(r"^# HELP outpost_hub_sync_jobs_in_flight (.*)$", text, re.M).group(1)
        for what in ("pushes", "pulls", "snapshots", "password checks", "key passes"):
            self.assertIn(what, help_)
        token = open(os.path.join(hub.data, "admin.token")).read().strip()
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", hub.request(
            "POST", "/api/v1/admin/local-areas/demo-la/ssn-key/retire", body={},
            headers={"Authorization": "Bearer " + token})))
        t.start()
        try:
            wait_for(lambda: value(scrape(hub)[1], "outpost_hub_sync_jobs_in_flight") == 1,
                     timeout=3, step=0.1, what="the key pass counted")
        finally:
            t.join()
        self.assertEqual(out["r"].status, 200, out["r"].body)
        self.assertEqual(value(scrape(hub)[1], "outpost_hub_sync_jobs_in_flight"), 0)

    def test_open_to_loopback_or_the_admin_token(self):
        hub = Daemon("hub")
        hub.args += ["--listen", "0.0.0.0:%d" % hub.port]
        hub.start()
        self.o.daemons.append(hub)
        node = Daemon("node")
        node.args += ["--listen", "0.0.0.0:%d" % node.port]
        node.start()
        self.o.daemons.append(node)
        self.assertEqual(hub.get("/metrics").status, 200)  # loopback
        self.assertEqual(node.get("/metrics").status, 200)
        token = open(os.path.join(hub.data, "admin.token")).read().strip()
        r = from_outside(hub.port, True)
        if r is None:
            self.skipTest("this machine has no address but loopback")
        self.assertEqual(r[0], 401, r)
        self.assertEqual(from_outside(hub.port, True, {"Authorization": "Bearer " + "0" * len(token)})[0],
                         401)
        st, body = from_outside(hub.port, True, {"Authorization": "Bearer " + token})
        self.assertEqual(st, 200)
        strict_parse(body.decode())
        # (Named as the node knows itself, past its host-name check.)
        st, body = from_outside(node.port, False, {"Host": "127.0.0.1:%d" % node.port})
        self.assertEqual(st, 403, body)
        self.assertIn(b"loopback", body)


if __name__ == "__main__":
    unittest.main()
