/*
 * capture.h - change capture on the office node.
 *
 * Every API write runs between capture_begin() and capture_commit(): one
 * SQLite transaction (BEGIN IMMEDIATE) during which every change to a
 * replicated table is recorded.  capture_commit() turns the record into a
 * changeset and appends it to the local outbox inside the same transaction,
 * then commits.  So a write is committed together with its changeset or not
 * at all, and a crash can never leave a change that will not be replicated.
 *
 * When a transaction is already open on the connection (the node's group
 * commit), capture_begin() opens a SAVEPOINT instead and capture_commit()
 * releases it: the write then becomes durable with the enclosing COMMIT.
 *
 * The changeset is in the session extension's format, byte for byte what
 * sqlite3session_changeset() gives for the same write (tables in schema
 * order; see capture.c for why it is not made by a session, and
 * tests/unit/test_capture.c for the differential check against one).
 * Outbox wire order is seq.
 *
 * One capture at a time per connection: capture_begin() fails while another
 * is open on the same connection.
 */
#ifndef OUTPOST_CAPTURE_H
#define OUTPOST_CAPTURE_H

#include <stdint.h>
#include "lib/db.h"

#define CAPTURE_HASH 64
/* Bytes a single write may record (old rows and keys); beyond it the write fails. */
#define CAPTURE_MAX_BYTES (64u * 1024 * 1024)
/* The largest changeset a write may make: what a push sends as one entry
 * (sync/sync.h SYNC_MAX_CHANGESET, asserted in sync/client_push.c).  A
 * larger entry could never leave the outbox, and every write after it
 * would wait behind it; beyond it the write fails with SQLITE_TOOBIG
 * (noted for the reply: 413, lib/dbguard.c). */
#define CAPTURE_MAX_CHANGESET (8u * 1024 * 1024)

struct capture_row;
struct capture_conn;

typedef struct capture {
	sqlite3 *cap_db;
	struct capture_conn *cap_conn;
	struct capture_row *cap_rows, **cap_tail; /* first-touch order */
	struct capture_row *cap_hash[CAPTURE_HASH];
	size_t cap_bytes;
	int cap_err;     /* SQLite code of the first recording failure, or 0 */
	int cap_open;
	int cap_nested;  /* a savepoint inside the caller's transaction */
	int cap_paused;
} capture;

/* Create the outbox table (node only). 0 or -1. */
int capture_migrate(sqlite3 *db);
/* BEGIN IMMEDIATE (or SAVEPOINT) and start recording the replicated tables.
 * 0 or -1 (nothing is left open on failure). */
int capture_begin(capture *c, sqlite3 *db);
/*
 * Append the changeset (if the transaction changed anything) to the outbox
 * with this HLC and actor (staff id, may be NULL), then COMMIT.  *seq gets
 * the outbox seq, or 0 when nothing changed.  On failure everything is rolled
 * back and -1 returned.
 */
int capture_commit(capture *c, const char *hlc, const char *actor, int64_t *seq);
/* Roll back and drop the record; safe to call when nothing is open. */
void capture_abort(capture *c);
/* Changes made between pause and resume are not recorded (a node's own copy
 * of a hub-owned row, for instance). */
void capture_pause(capture *c);
void capture_resume(capture *c);
/* sqlite3_preupdate_hook() holds one hook per connection: code that sets
 * its own for a while (sync/pull_local.c, never during a capture) puts
 * capture's back with this; none when capture has not run on db. */
void capture_hook_restore(sqlite3 *db);

#endif
