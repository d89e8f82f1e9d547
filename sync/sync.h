/*
 * sync.h - Outpost replication, protocol v1: the library shared by the hub
 * (apply, merge, change log, pull pages, snapshots, digests), the office node
 * (pull apply, background cycle) and the outpost-sync command.
 *
 * ------------------------------------------------------------------------
 * OVERVIEW
 *
 *  node: every API write = 1 transaction = 1 outbox entry (model/capture.h)
 *  push: node -> hub, outbox entries in seq order, in a binary batch frame
 *        (sync/frame.c).  The hub skips seq <= last applied (replay), answers
 *        409 {"expected_seq"} on a gap, validates each entry, applies it with a
 *        column-wise three-way merge (sync/apply.c) or quarantines it, and
 *        replies {"acked_seq"}.  The node deletes acked entries.
 *  log:  every change to a replicated table at the hub - by a push, a merge,
 *        the admin console or a seed - is recorded by triggers in
 *        change_log(seq, tbl, row_id, op, scope_office, scope_la, origin).
 *  pull: node asks for log entries after its cursor; the hub answers with a
 *        page: the CURRENT state of every row named in (cursor, page_end],
 *        filtered to the node's scope, encoded as an SQLite patchset (INSERT
 *        = upsert of the full row, DELETE = by primary key).  The node applies
 *        it with sqlite3changeset_apply_v2 (conflicts -> REPLACE, not found ->
 *        OMIT) and stores the new cursor in the same transaction.  State-based
 *        pages are idempotent: a page applied twice changes nothing.
 *        Pull is applied only while the node's outbox is empty.
 *  snapshot: the same patchset encoding for every in-scope row plus the log
 *        seq it corresponds to (read in one transaction).
 *
 * Scope of a row (computed by the hub's triggers from the table's
 * definition in model/schema.h): scope_office / scope_la are NULL for
 * statewide rows.  A node of office O in Local Area L receives a row when
 * (scope_office IS NULL OR scope_office = O) AND (scope_la IS NULL OR
 * scope_la = L).  SCOPE_HUB_ONLY tables are never logged for nodes.
 *
 * ------------------------------------------------------------------------
 * HTTP API (hub, HTTPS).  Every request except enroll carries:
 *   X-Outpost-Node:      node id
 *   X-Outpost-Time:      Unix ms (hub refuses more than 15 minutes off: 401)
 *   X-Outpost-Nonce:     32 hex chars, never reused (hub: 409 on reuse)
 *   X-Outpost-Signature: hex HMAC-SHA256(secret, METHOD "\n" PATH_WITH_QUERY
 *                        "\n" TIME "\n" NONCE "\n" hex(SHA-256(body)))
 *   X-Outpost-Schema:    schema_version() of the sender
 * Every hub reply carries X-Outpost-Time (hub clock, ms).
 *
 *   POST /api/v1/sync/enroll   {"code","hostname"} -> {"node_id","node_secret",
 *                              "office_id","local_area_id","hub_pin",
 *                              "hub_time_ms","schema_version"}   (no signature)
 *   POST /api/v1/sync/push     body: batch frame (sync/frame.h), or with
 *                              Content-Encoding: deflate that frame as a zlib
 *                              stream (sync/zbody.h; signed as sent) ->
 *                              {"acked_seq","applied","skipped","quarantined":[{"seq","reason"}],
 *                               "conflicts","head_seq","hub_time_ms"}
 *                              409 {"error","expected_seq"} on a gap,
 *                              400 {"error"} on a malformed frame,
 *                              426 {"error"} on an unknown schema version,
 *                              415 {"error"} on an unknown Content-Encoding
 *   GET  /api/v1/sync/pull?after=SEQ&max=N -> body: patchset (may be empty),
 *                              headers X-Outpost-Next (new cursor),
 *                              X-Outpost-Head (hub head seq), X-Outpost-More (0/1);
 *                              410 when SEQ is older than the pruned log
 *   GET  /api/v1/sync/snapshot -> body: patchset, X-Outpost-Next = its seq
 *                              (pull pages and snapshots come as a zlib
 *                              stream with Content-Encoding: deflate when the
 *                              request has Accept-Encoding: deflate)
 *   GET  /api/v1/sync/digest   -> {"tables":{"name":{"count":N,"digest":"hex"}}}
 *   GET  /api/v1/sync/status   -> node's view at the hub (acked seq, head, ...)
 *   GET  /api/v1/sync/conflicts -> conflicts in the node's scope
 * ------------------------------------------------------------------------
 */
#ifndef OUTPOST_SYNC_H
#define OUTPOST_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/db.h"

#define SYNC_PROTOCOL_VERSION 1
/* A push batch takes entries while its frame stays within this many bytes;
 * it always takes at least one entry, so an entry larger than that goes as
 * a batch of its own (at most SYNC_MAX_PUSH_FRAME bytes). */
#define SYNC_MAX_BATCH_BYTES (4 * 1024 * 1024)
#define SYNC_MAX_PULL_ROWS 5000                  /* rows per pull page */
#define SYNC_MAX_CHANGESET (8 * 1024 * 1024)     /* one outbox entry */
/* The largest push frame: one entry of SYNC_MAX_CHANGESET with the frame and
 * entry headers and the checksum (sync/frame.h: 12 + 8+2+64+2+64+4 + 32). */
#define SYNC_MAX_PUSH_FRAME (SYNC_MAX_CHANGESET + 256)
#define SYNC_CLOCK_SKEW_MS (15 * 60 * 1000)      /* signed request freshness */

/* ---- who is asking: a node's scope at the hub ---------------------------- */
typedef struct sync_scope {
	const char *node_id;
	const char *office_id;
	const char *local_area_id;
} sync_scope;

/* ---- hub: schema, triggers, apply (sync/apply.c) -------------------------- */

/* Create the hub's replication tables (change_log, conflicts is replicated
 * and lives in model/, quarantine, tombstones, sync_ctx, col_clocks) and the change-log
 * triggers on every replicated table.  Idempotent; call at hub start after
 * schema_migrate(). 0 or -1. */
int sync_hub_migrate(sqlite3 *db);

typedef struct sync_entry {
	int64_t seq;              /* node outbox seq */
	const char *hlc;          /* HLC of the write */
	const char *actor;        /* staff id or NULL */
	const void *changeset;
	size_t len;
} sync_entry;

typedef struct sync_apply_result {
	int applied;              /* 1 applied (possibly merged), 0 quarantined */
	int conflicts;            /* conflict rows recorded */
	char reason[256];         /* why quarantined */
} sync_apply_result;

/*
 * Validate and apply one entry from a node, inside the caller's transaction
 * (the caller BEGINs, calls this for each entry, COMMITs).  Never trusts the
 * changeset: it is walked first (tables replicated and node-writable,
 * append-only rows only inserted, rows in the node's scope, column counts
 * matching, domain rules), and a refused entry is written to the quarantine
 * table whole (raw changeset, node, seq, table, reason) with res->applied = 0.
 * Returns 0 when the entry was applied or quarantined, -1 on an internal
 * error (the caller rolls back and answers 500).
 */
int sync_hub_apply(sqlite3 *db, const sync_scope *sc, const sync_entry *e,
		   sync_apply_result *res);

/*
 * The same with prepared statements and table shapes kept between calls, for
 * the entries of one batch (several times faster per entry).  The cache
 * belongs to db and to one thread at a time; free it before closing db.
 * sync_hub_apply_cached() with a cache of another db returns -1.
 */
typedef struct sync_apply_cache sync_apply_cache;
sync_apply_cache *sync_apply_cache_new(sqlite3 *db);
void sync_apply_cache_free(sync_apply_cache *c);
int sync_hub_apply_cached(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
			  const sync_entry *e, sync_apply_result *res);

/*
 * Domain rules at the hub: an optional hook sync_hub_apply() calls for every
 * row an entry writes, after the merge, with the table name, the op
 * (SQLITE_INSERT, SQLITE_UPDATE - also for a resurrected row - or
 * SQLITE_DELETE) and the resulting full row as a JSON object (db_row_json:
 * BLOB columns omitted; for a DELETE, the row being deleted).  The row is
 * borrowed for the call.  Return 0 to accept, or -1 with a short reason
 * (NUL-terminated, at most n bytes) to quarantine the whole entry.  Set it
 * once at start-up, before any apply runs (not synchronised); NULL = none.
 */
typedef int (*sync_row_validator)(sqlite3 *db, const char *tbl, int op,
				  const struct cJSON *row, char *reason, size_t n);
void sync_set_validator(sync_row_validator fn);

/* ---- pull, snapshot, node-side apply (sync/pull.c) ------------------------- */

/* Build a pull page for sc after cursor `after`: patchset into out (max bytes
 * bounded by out->max), *next = new cursor, *more = 1 when more pages follow.
 * 0, or -1 on error. */
int sync_hub_pull(sqlite3 *db, const sync_scope *sc, int64_t after, int max_rows, buf *out,
		  int64_t *next, int64_t *head, int *more);
/* Every in-scope row as a patchset and the log seq it matches. */
int sync_hub_snapshot(sqlite3 *db, const sync_scope *sc, buf *out, int64_t *seq);
/* Node: apply a pull page / snapshot patchset and set the cursor in node_meta
 * ("sync_cursor") in one transaction.  Refuses (returns -2) while the outbox
 * is not empty.  When `replace_hub_owned` is set (snapshot), rows of tables
 * not present in the patchset are left alone. 0, -1 error, -2 outbox busy. */
int sync_node_apply_pull(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor);

/* ---- digests (sync/digest.c) ----------------------------------------------- */

/* Per-table {count, digest} of the rows in scope (sc NULL = every row in the
 * database, which is what a node holds).  Returns a cJSON object
 * {"tables":{...}} or NULL; caller frees. */
struct cJSON *sync_digest(sqlite3 *db, const sync_scope *sc);

/* ---- request signing (sync/auth.c) ------------------------------------------ */

#define SYNC_SECRET_LEN 32
/* hex signature (64 chars + NUL) */
void sync_sign(const unsigned char secret[SYNC_SECRET_LEN], const char *method,
	       const char *path_query, const char *time_ms, const char *nonce,
	       const void *body, size_t len, char out[65]);

#endif
