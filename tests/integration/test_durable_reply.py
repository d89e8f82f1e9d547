"""A reply leaves only once its write is durable, the CSV too (lib/route.h).

The compliance CSV of the case pages is an audited read: its audit row
(compliance_export) is a captured write of the node's group commit.  With the
node killed at the COMMIT of the batch holding that row (OUTPOST_FAULT
node.commit.before, lib/fault.h; the sanitizer test build), the client must
get no 200 and no part of the CSV, and after a restart the audit row is not
there either: what a client was told and what the node kept agree.  (Before
the declared-route dispatcher, the CSV was handed to the socket before its
batch committed: the client had the whole CSV and the audit row was lost.)
"""
import http.client
import time
import unittest

import harness
from harness import Daemon

CSV = "/api/v1/case/compliance?format=csv"


class CsvAfterCommitTest(unittest.TestCase):
    def test_compliance_csv_not_sent_when_its_commit_fails(self):
        # Batch commits on a fresh demo node: 1 = the login's audit row,
        # 2 = the compliance view's.  The node dies at the second COMMIT.
        node = Daemon("node", env={"OUTPOST_FAULT": "node.commit.before:2"}).start()
        try:
            harness.login(node)
            self.assertIsNone(node.proc.poll(), "the login's own commit must pass")
            got = None
            try:
                got = node.get(CSV, timeout=60)
            except (OSError, http.client.HTTPException):
                pass  # the connection dropped with the node: nothing was answered
            deadline = time.time() + 60
            while node.proc.poll() is None and time.time() < deadline:
                time.sleep(0.1)
            self.assertIsNotNone(node.proc.poll(), "the fault point was not reached")
            self.assertIn("fault point reached", node.read_log())
            if got is not None:
                self.assertNotEqual(got.status, 200, got.body[:200])
                self.assertNotIn(b"participant_id,last_name", got.body)
            del node.env["OUTPOST_FAULT"]
            node.start()
            db = node.db()
            n = db.execute("SELECT count(*) FROM audit_events WHERE action='compliance_export'")
            self.assertEqual(n.fetchone()[0], 0)
            # The same request on the restarted node: answered, and audited.
            harness.login(node)
            r = node.get(CSV, timeout=60)
            self.assertEqual(r.status, 200, r.body[:200])
            self.assertTrue(r.body.startswith(b"\xef\xbb\xbfparticipant_id,last_name,"), r.body[:100])
            self.assertIn("text/csv", r.header("content-type"))
            db = node.db()
            n = db.execute("SELECT count(*) FROM audit_events WHERE action='compliance_export'")
            self.assertEqual(n.fetchone()[0], 1)
        finally:
            node.cleanup()


if __name__ == "__main__":
    unittest.main()
