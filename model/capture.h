/*
 * capture.h - change capture on the office node.
 *
 * Every API write runs between capture_begin() and capture_commit(): one
 * SQLite transaction (BEGIN IMMEDIATE) with a session attached to every
 * replicated table.  capture_commit() takes the session's changeset and
 * appends it to the local outbox inside the same transaction, then commits.
 * So a write is committed together with its changeset or not at all, and a
 * crash can never leave a change that will not be replicated.
 *
 * When a transaction is already open on the connection (the node's group
 * commit), capture_begin() opens a SAVEPOINT instead and capture_commit()
 * releases it: the write then becomes durable with the enclosing COMMIT.
 *
 * Outbox wire order is seq; an entry holds the changeset bytes exactly as
 * sqlite3session_changeset() produced them.
 */
#ifndef OUTPOST_CAPTURE_H
#define OUTPOST_CAPTURE_H

#include <stdint.h>
#include "lib/db.h"

typedef struct capture {
	sqlite3 *cap_db;
	sqlite3_session *cap_sess;
	int cap_open;
	int cap_nested;  /* a savepoint inside the caller's transaction */
} capture;

/* Create the outbox table (node only). 0 or -1. */
int capture_migrate(sqlite3 *db);
/* BEGIN IMMEDIATE and attach a session to every replicated table. 0 or -1
 * (nothing is left open on failure). */
int capture_begin(capture *c, sqlite3 *db);
/*
 * Append the changeset (if the transaction changed anything) to the outbox
 * with this HLC and actor (staff id, may be NULL), then COMMIT.  *seq gets
 * the outbox seq, or 0 when nothing changed.  On failure everything is rolled
 * back and -1 returned.
 */
int capture_commit(capture *c, const char *hlc, const char *actor, int64_t *seq);
/* Roll back and drop the session; safe to call when nothing is open. */
void capture_abort(capture *c);

#endif
