/*
 * fault.h - named crash points for the fault-injection tests
 * (tests/integration/test_faults.py).  Only the sanitizer test build defines
 * OUTPOST_TEST_HOOKS; in every other build FAULT_POINT() compiles to nothing
 * and no environment variable is read.
 *
 * With hooks compiled in, OUTPOST_FAULT="NAME:N" in the environment makes the
 * process kill itself with SIGKILL the N-th time (1-based) it passes the point
 * NAME - the same as an outside `kill -9` at exactly that instant.  The
 * points (each at a place where a crash must lose nothing):
 *
 *   node.commit.before   node: a batch of office writes, outbox entries
 *                        included, is about to COMMIT (nothing answered yet)
 *   node.commit.after    node: committed, replies not sent yet
 *   node.flush.before    node: committed batches about to be synced by the
 *                        flusher thread (their replies wait for it)
 *   push.before_send     node: a push frame is built, not sent
 *   push.after_reply     node: the hub acked a push, the outbox not trimmed yet
 *   pull.after_reply     node: a pull page or snapshot page arrived, not
 *                        applied
 *   pull.apply           node: a page is applied, cursor set, not committed
 *   snapshot.next        node: a snapshot page is committed, the next one not
 *                        asked for yet (the node is half-way through its
 *                        bootstrap)
 *   hub.apply.entry      hub: an entry applied inside the push transaction
 *   hub.apply.commit     hub: a push committed, the reply not sent yet
 *   hub.pull.serve       hub: a pull page is built, not sent
 *
 * OUTPOST_TEST_HOOKS_PAUSE="NAME:FILE" (hooks only) makes the process wait
 * at the point NAME while FILE exists (creating FILE.at when it starts to),
 * so a test can run another process at exactly that instant.
 *
 * OUTPOST_TEST_HOOKS_SYNC_MS (hooks only) shortens the node's sync interval
 * and its longest backoff to that many milliseconds, so a test waits seconds
 * rather than minutes for the cycle to resume after a crash.
 *
 * OUTPOST_TEST_HOOKS_SNAPSHOT_ROWS and OUTPOST_TEST_HOOKS_SNAPSHOT_BYTES
 * (hooks only) set the hub's snapshot page bounds (sync/sync.h
 * SYNC_SNAPSHOT_PAGE_ROWS, SYNC_SNAPSHOT_PAGE_BYTES), so a test's small data
 * set takes many pages.
 *
 * OUTPOST_TEST_HOOKS_PULL_ROWS (hooks only) sets the rows a node asks for
 * in a pull page, so a test's backlog takes many pages; `outpost-hub
 * export-office` builds its pages of as many rows.
 *
 * OUTPOST_TEST_HOOKS_BUNDLE_BYTES (hooks only) sets the bytes of pages
 * `outpost-hub export-office` puts in one file before it goes on in
 * FILE.2, ... (hub_import.c), so a test's few pages take several files.
 *
 * OUTPOST_TEST_HOOKS_WAL_BYTES (hooks only) sets the WAL's bound (db.h
 * DB_WAL_LIMIT_BYTES), so a test passes it with a few thousand writes.
 *
 * Owns nothing; safe from any thread.
 */
#ifndef OUTPOST_FAULT_H
#define OUTPOST_FAULT_H

#include <stdint.h>

#ifdef OUTPOST_TEST_HOOKS
void fault_point(const char *name);
#define FAULT_POINT(name) fault_point(name)
#else
#define FAULT_POINT(name) ((void)0)
#endif

/* The node's sync interval override in ms (hooks build only), else 0. */
int64_t fault_sync_interval_ms(void);
/* The hub's snapshot page bounds, rows and bytes (hooks build only), else 0:
 * use the defaults. */
int64_t fault_snapshot_rows(void);
int64_t fault_snapshot_bytes(void);
/* The most entries in one push frame (hooks build only), else 0: the
 * default, so that small backlogs already go out in several frames. */
int64_t fault_push_entries(void);
/* Rows the node asks for in a pull page (hooks build only), else 0: the
 * default, SYNC_MAX_PULL_ROWS. */
int64_t fault_pull_rows(void);
/* The bytes of pages in one file of export-office (hooks build only),
 * else 0: the default, half SYNC_BUNDLE_MAX. */
int64_t fault_bundle_bytes(void);
/* The WAL bound in bytes (hooks build only), else 0: the default. */
int64_t fault_wal_limit(void);
/* Milliseconds each password hash or check of the hub waits first in the
 * thread pool (0: none): a window in which a test acts between the
 * request's checks and its write (test_accounts' races). */
int64_t fault_hash_delay_ms(void);
/* Milliseconds each sync job of the hub (a group of pushes, a pull page, a
 * snapshot page, digests) waits first in the thread pool (0: none): a
 * window between the request's signature check and its work (test_hub's
 * revocation races). */
int64_t fault_sync_job_delay_ms(void);
/* Milliseconds the hub's whole re-encryption pass (hub_keys_reencrypt_all,
 * before an SSN key retirement) waits first (0: none): a pass long enough
 * for a test to see what the hub serves meanwhile (test_key_rotation). */
int64_t fault_reencrypt_delay_ms(void);
/* How many schema versions below its own a node states in X-Outpost-Schema
 * (OUTPOST_TEST_HOOKS_SCHEMA_BEHIND, hooks build only), else 0: an office
 * PC older than its hub, which refuses its pulls (test_node_login). */
int64_t fault_schema_behind(void);

#endif
