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
 *  snapshot: the same patchset encoding (INSERTs only) for every in-scope
 *        row, in pages walked in a fixed order - the node-visible tables in
 *        registry (schema_foreach) order, each by "id" - plus the log seq S
 *        the snapshot corresponds to: the head when the first page was read.
 *        Each page is read in its own read transaction, so the pages
 *        together are a fuzzy snapshot: a row changed after S may come in
 *        its old or its new state, or (deleted) not at all.  That is enough
 *        because the node then pulls from S, and the pull carries the
 *        CURRENT state of every row the log names after S: an upsert of a
 *        row the snapshot already brought, or a delete of one it never
 *        brought, changes nothing but to make it equal to the hub.
 *        A page covers a range of the walk, from the position the node sent
 *        (exclusive; the very start for the first page) to the position the
 *        hub answers (inclusive; the very end for the last page).  The node
 *        applies a page in one transaction: it deletes every row it holds in
 *        that range, inserts the page's rows, and records the position
 *        reached (node_meta snapshot_seq, snapshot_table, snapshot_after); so
 *        after the last page it holds exactly the hub's rows as of the pages,
 *        rows the hub no longer has included (long absence, rows seeded
 *        without capture, another enrollment's scope).  Its pull cursor is
 *        dropped with the first page and set to S with the last: a node that
 *        stops half-way is never taken for a bootstrapped one, and resumes
 *        from its recorded position (or starts afresh when the hub refuses
 *        it).  Like every pull, pages are applied only while the outbox is
 *        empty, so every local change has been acknowledged by the hub -
 *        applied there, hence in the pages or in the pull from S, or
 *        quarantined there whole - before a range is replaced.
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
 * and, when it has a body:
 *   X-Outpost-Content-SHA256: hex(SHA-256(body)) as in the signature, so the
 *                        hub checks node, time, nonce and signature before
 *                        it reads the body (401, or 409 on a reused nonce,
 *                        with none of it read), then the body against it
 *                        (401 when it differs: nothing applied)
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
 *   GET  /api/v1/sync/snapshot                  the first snapshot page
 *   GET  /api/v1/sync/snapshot?seq=S&after_table=T&after_id=K   the next one
 *                              -> body: patchset of the page (may be empty),
 *                              X-Outpost-Next: S (the snapshot's seq: the
 *                              log head when the first page was read, then
 *                              echoed), X-Outpost-Head (hub head now),
 *                              X-Outpost-More: 1 when pages follow, and then
 *                              X-Outpost-After-Table: T and
 *                              X-Outpost-After-Id: K (percent-encoded), the
 *                              position to send for the next page.  K is the
 *                              id of the last row of T the page covers; T a
 *                              table nodes hold.  A page holds at most
 *                              SYNC_SNAPSHOT_PAGE_ROWS rows and stops before
 *                              the row that would take it past
 *                              SYNC_SNAPSHOT_PAGE_BYTES, but holds at least
 *                              one row, so a row larger than that goes
 *                              alone.  400 {"error"} when seq, after_table
 *                              and after_id do not come all three or not at
 *                              all, S is not an integer in [0, head], T is
 *                              not a table nodes hold, or K is empty, longer
 *                              than SYNC_SNAPSHOT_ID_MAX bytes or badly
 *                              encoded.  The signature covers the query.
 *                              (Pull pages and snapshot pages come as a zlib
 *                              stream with Content-Encoding: deflate when the
 *                              request has Accept-Encoding: deflate.)
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
/* A pull page holds rows while it stays within this many bytes (a larger
 * row goes alone; sync/pull.c). */
#define SYNC_PULL_PAGE_MAX_BYTES (16 * 1024 * 1024)
/* The largest reply a node reads: a pull or snapshot page, a JSON reply. */
#define SYNC_MAX_REPLY (64 * 1024 * 1024)
#define SYNC_MAX_CHANGESET (8 * 1024 * 1024)     /* one outbox entry */
/* The largest push frame: one entry of SYNC_MAX_CHANGESET with the frame and
 * entry headers and the checksum (sync/frame.h: 12 + 8+2+64+2+64+4 + 32). */
#define SYNC_MAX_PUSH_FRAME (SYNC_MAX_CHANGESET + 256)
#define SYNC_CLOCK_SKEW_MS (15 * 60 * 1000)      /* signed request freshness */
/* Snapshot pages (see OVERVIEW): at most this many rows, and rows while the
 * page stays within this many bytes (a single larger row goes alone, up to
 * the page buffer's own maximum, SYNC_SNAPSHOT_PAGE_MAX).  A page also ends
 * after SYNC_SNAPSHOT_SCAN_ROWS rows examined, other offices' included, so
 * its read transaction stays short whatever the scope holds. */
#define SYNC_SNAPSHOT_PAGE_ROWS 10000
#define SYNC_SNAPSHOT_PAGE_BYTES (16 * 1024 * 1024)
#define SYNC_SNAPSHOT_PAGE_MAX (SYNC_SNAPSHOT_PAGE_BYTES + 8 * 1024 * 1024)
#define SYNC_SNAPSHOT_SCAN_ROWS 100000
/* Longest row id a snapshot position carries (a UUIDv7 is 36): the hub
 * refuses longer ids from nodes (sync/apply.c). */
#define SYNC_SNAPSHOT_ID_MAX 256
_Static_assert(SYNC_PULL_PAGE_MAX_BYTES <= SYNC_MAX_REPLY, "a node can read a whole pull page");
_Static_assert(SYNC_SNAPSHOT_PAGE_MAX <= SYNC_MAX_REPLY, "a node can read a whole snapshot page");

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

/*
 * A write the hub makes itself, not a node's merged (a conflict resolved in
 * the console, records handed over at a deactivation), to column col of the
 * rows of replicated table tbl that `where` selects (an SQL condition on its
 * columns, of static storage, its one parameter ?1 bound to arg), stamped
 * hlc: their column clocks move to hlc, so an older edit still on its way
 * from an office neither undoes it unseen nor wins over it (apply.c, "column
 * clocks").  Call it before the write, in its transaction.  0 or -1.
 */
int sync_hub_clock_stamp(sqlite3 *db, const char *tbl, const char *col, const char *where,
			 const char *arg, const char *hlc);

/*
 * The newest stamp the hub has stored from an office (sync_ctx 'max_hlc').
 * The hub's clock observes it before the hub writes (hub_clock()), so a
 * hub write follows every office write the hub holds, whether the hub met
 * that write in this run, before a restart, or through an `import` run
 * beside it: a hand-over stamped behind the edit it overwrote would leave
 * that edit's column clock in force, and an office's later edit of the
 * hand-over's value would lose to it as a conflict.
 *
 * sync_hub_stamp_note(): stamp moves the mark forward (never back), in the
 * caller's transaction; a stamp more than HLC_MAX_AHEAD_MS ahead is no
 * clock's and leaves it.  0 or -1.  sync_hub_stamp_observe(): clk moves past
 * the mark (an unreadable mark leaves it as it is: the write goes on, as it
 * did before there was one).  sync_hub_migrate() sets the mark once, from
 * the rows, on a hub that has none (an upgrade).
 */
int sync_hub_stamp_note(sqlite3 *db, const char *stamp);
struct hlc;
void sync_hub_stamp_observe(sqlite3 *db, struct hlc *clk);

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
 * The entries of one push transaction (n of them, in seq order, of node sc),
 * inside the caller's transaction: the same outcome for each as
 * sync_hub_apply_cached() on each in turn (res[i]; res has n slots), but the
 * entries that only insert rows no other entry of the batch names are
 * applied first with one sqlite3changeset_apply call (sync/apply_batch.c:
 * the checks that stay, and the fall back to the merge); the others after
 * them, merged one by one in seq order.  cache is required.  0, or -1 on an
 * internal error (the caller rolls back).
 */
int sync_hub_apply_batch(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
			 const sync_entry *e, int n, sync_apply_result *res);

/* The fewest rows of a batch worth its grouped apply (one
 * sqlite3changeset_apply call expires every prepared statement of the
 * connection); a smaller batch is merged entry by entry.  Tests set 1 to
 * exercise the group with a few rows. */
#define SYNC_BATCH_MIN_ROWS 32
void sync_set_batch_min_rows(int n);

/*
 * Domain rules at the hub: an optional hook sync_hub_apply() calls for every
 * row an entry writes, after the merge, with the table name, the op
 * (SQLITE_INSERT, SQLITE_UPDATE - also for a resurrected row - or
 * SQLITE_DELETE) and the resulting full row as a JSON object (db_row_json:
 * BLOB columns omitted; for a DELETE, the row being deleted).  The row is
 * borrowed for the call and read only (the grouped apply builds it in an
 * arena: cJSON_Delete or any edit of it is undefined).  Return 0 to accept, or -1 with a short reason
 * (NUL-terminated, at most n bytes) to quarantine the whole entry, or
 * SYNC_CHECK_AGAIN when the check itself failed (out of memory, an I/O
 * error): that is not the row's fault, so nothing is held for review; the
 * apply fails as on any error of the hub's, the push is rolled back and the
 * node sends it again.  Set it
 * once at start-up, before any apply runs (not synchronised); NULL = none.
 */
#define SYNC_CHECK_AGAIN (-2)
typedef int (*sync_row_validator)(sqlite3 *db, const char *tbl, int op,
				  const struct cJSON *row, char *reason, size_t n);
void sync_set_validator(sync_row_validator fn);
/* Inside a validator call: 1 when the change being applied gives column col
 * a value of its own (every column of an INSERT, the columns an UPDATE sets,
 * whatever the merge kept; none of a DELETE), else 0. */
int sync_change_sets(const char *col);
/* Inside a validator call on an UPDATE: column col of the hub's row as it
 * was before the change merged into it, as text (the row the rule "a closed
 * work item is not edited" asks about); NULL when that value is NULL, the
 * table has no column col, or outside an UPDATE's check (an INSERT, a
 * DELETE, a check outside a push).  Valid until the validator returns. */
const char *sync_change_was(const char *col);
/* Validator fn on row, an UPDATE of table tbl made outside a push (the hub
 * console's resolution of a conflict), which sets the ncol columns cols
 * (those whose value it changes): inside it sync_change_sets() answers as
 * for a push's UPDATE setting just those (not updated_hlc: no office's
 * edit), sync_change_was() knows nothing and sync_record_conflict()
 * records nothing.  fn's result (why set, wn bytes). */
int sync_validate_edit(sync_row_validator fn, sqlite3 *db, const char *tbl,
		       const struct cJSON *row, const char *const *cols, int ncol, char *why,
		       size_t wn);
/* Inside a validator call: 1 when the entry being applied also inserts into
 * table tbl a row whose column col is the text val (and col2 val2, when
 * col2 is not NULL), applied yet or not (the rows of an entry are checked
 * in the changeset's order, the schema's); 0 when it does not, -1 when the
 * entry cannot be read. */
int sync_entry_inserts(const char *tbl, const char *col, const char *val, const char *col2,
		       const char *val2);
/* Inside a validator call: record a conflict a person reviews that no
 * merge found - two offices' rows that each stand but clash by the table's
 * own rule (model/corrections.h, two corrections of one service or of one
 * participant's activity) - on row_id of the table being checked, from the
 * entry's node, staff member and seq: column, the base, hub (local) and
 * office (remote) values as JSON text, which won, both HLCs and reason
 * (the clear text shown).  The conflict has the scope of the row under
 * check (a Local Area's or an office's table: only its offices receive
 * it), so row_id names a row of the same scope.  0, or -1 on an error (the
 * apply then fails and the node sends the entry again; also a row without
 * its scope, or a table no node writes).  Outside a push (a validator
 * called by the console) nothing arrives and nothing is recorded: 0. */
int sync_record_conflict(const char *row_id, const char *column, const char *base,
			 const char *local, const char *remote, int remote_won,
			 const char *local_hlc, const char *remote_hlc, const char *reason);
/* The same, for the first such row (col is val): its column want's text
 * into out (n bytes; "" when NULL).  1, 0 none, -2 longer, -1 error. */
int sync_entry_text(const char *tbl, const char *col, const char *val, const char *want, char *out,
		    size_t n);

/* ---- pull, snapshot (sync/pull.c), node-side apply (sync/pull_node.c) ----- */

/* Build a pull page for sc after cursor `after`: patchset into out (max bytes
 * bounded by out->max), *next = new cursor, *more = 1 when more pages follow.
 * 0, or -1 on error. */
int sync_hub_pull(sqlite3 *db, const sync_scope *sc, int64_t after, int max_rows, buf *out,
		  int64_t *next, int64_t *head, int *more);
/* The table shapes and prepared statements the pull pages built on one
 * connection share (built once instead of for every page: most of a small
 * page's cost).  Used by one page at a time; freed before its connection.
 * _new: NULL on error. */
typedef struct sync_pull_cache sync_pull_cache;
sync_pull_cache *sync_pull_cache_new(sqlite3 *db);
void sync_pull_cache_free(sync_pull_cache *c);
/* sync_hub_pull with c (made on db) or, c NULL, shapes read for this page. */
int sync_hub_pull_cached(sqlite3 *db, sync_pull_cache *c, const sync_scope *sc, int64_t after,
			 int max_rows, buf *out, int64_t *next, int64_t *head, int *more);
/* Node: apply a pull page and set the cursor in node_meta ("sync_cursor")
 * and last_pull_ms in one transaction.  0; -1 error or malformed page; -2
 * a row of the page has an office write still in the outbox, or more is
 * pending than is checked row by row (sync/pull_pending.h; nothing
 * changed); -3 a snapshot is under way
 * (node_meta snapshot_seq is set: finish it first, nothing changed). */
int sync_node_apply_pull(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor);
/* The same, and once the page is committed, told(arg, table, id, idlen) for
 * every row it wrote or deleted, in page order: the row's first key column
 * as text (id NULL when it is not text).  On the applying thread; told may
 * be NULL. */
typedef void (*sync_pull_told_fn)(void *arg, const char *table, const char *id, size_t idlen);
int sync_node_apply_pull_told(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor,
			      sync_pull_told_fn told, void *arg);
/*
 * The node's push generation (sync_state "push_gen"): every push commit
 * (the outbox trimmed after the hub's ack) raises it by one, in the same
 * transaction (sync_node_push_gen_bump).  A pull or snapshot page asked
 * for before a push of another process (outpost-sync beside the node's
 * cycle) reached the hub may hold a row's older state, and the push's
 * entries, gone from the outbox, no longer hold that row back
 * (pull_pending.c; a snapshot page's empty outbox): the page is applied
 * only if the generation read before it was asked for is still the one in
 * its transaction (sync_node_apply_pull_gen, _apply_snapshot_gen).  _push_gen: the generation (0 when none yet),
 * or -1 on error.  _bump: 0 or -1.
 */
int64_t sync_node_push_gen(sqlite3 *db);
int sync_node_push_gen_bump(sqlite3 *db);
/* sync_node_apply_pull_told for a page asked for when the push generation
 * was push_gen (-1: not checked): -4 when a push has committed since
 * (nothing changed: ask for the page again). */
int sync_node_apply_pull_gen(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor,
			     int64_t push_gen, sync_pull_told_fn told, void *arg);

/* A position in the snapshot walk: a table nodes hold and the id of a row
 * of it (the row itself need not exist).  The walk's order is the tables in
 * registry order, then the ids in SQLite's BINARY order. */
typedef struct sync_snap_pos {
	char sp_table[64];
	char sp_id[SYNC_SNAPSHOT_ID_MAX + 1];
} sync_snap_pos;

/* Fill p from a table name and an id, checking both: the table must be one
 * nodes hold (replicated, not SCOPE_HUB_ONLY), the id non-empty and at most
 * SYNC_SNAPSHOT_ID_MAX bytes.  0, or -1 (p cleared). */
int sync_snap_pos_set(sync_snap_pos *p, const char *table, const char *id);

/*
 * Hub: one snapshot page for sc, in one read transaction of its own (unless
 * the caller holds one): the in-scope rows after position `after` (NULL =
 * from the start) as patchset INSERTs appended to out.  The page ends after
 * max_rows rows (<= 0: SYNC_SNAPSHOT_PAGE_ROWS), or before the row that
 * would take out past max_bytes (0: SYNC_SNAPSHOT_PAGE_BYTES) - but it
 * always takes its first row, which need only fit out->max - or after
 * SYNC_SNAPSHOT_SCAN_ROWS rows examined.  *end gets the position of the last
 * row the page covers (taken, or examined and out of scope), *more 1 when
 * rows may follow (0: the walk is complete; *end is then cleared), *head
 * the change-log head as the page saw it (the snapshot's seq, for the first
 * page).  0; -1 error (out unchanged; a row larger than out->max is one);
 * -3 `after` is not a valid position (sync_snap_pos_set()).
 */
int sync_hub_snapshot_page(sqlite3 *db, const sync_scope *sc, const sync_snap_pos *after,
			   int max_rows, size_t max_bytes, buf *out, sync_snap_pos *end,
			   int64_t *head, int *more);

/*
 * Node: apply one snapshot page in one transaction (see OVERVIEW): delete
 * the rows held in the range (from, end] of the walk (from NULL = the start,
 * end NULL = the end: the last page), insert the page's rows, then either
 * record the position reached with seq (node_meta snapshot_seq,
 * snapshot_table, snapshot_after) and drop sync_cursor, or - last page -
 * set sync_cursor = seq and last_pull_ms and drop the snapshot position.
 * The page must hold only INSERTs of tables nodes hold, at positions inside
 * the range and in walk order.  The first page (from NULL) starts a snapshot
 * whatever was recorded; a later one must continue the recorded snapshot
 * (same seq, recorded position == from).  0; -1 error or malformed page;
 * -2 the outbox is not empty; -3 the recorded snapshot is not at `from`
 * (another process moved it: read it again); nothing changes unless 0.
 */
int sync_node_apply_snapshot(sqlite3 *db, const void *patchset, size_t len, int64_t seq,
			     const sync_snap_pos *from, const sync_snap_pos *end);
/* sync_node_apply_snapshot for a page asked for when the push generation
 * was push_gen (-1: not checked): -4 when a push has committed since
 * (nothing changed: ask for the page again).  An empty outbox alone does
 * not say the page is new enough: another process's push may have emptied
 * it after the page was asked for (sync_node_push_gen()). */
int sync_node_apply_snapshot_gen(sqlite3 *db, const void *patchset, size_t len, int64_t seq,
				 const sync_snap_pos *from, const sync_snap_pos *end,
				 int64_t push_gen);
/* Node: the snapshot under way, if any: 1 with *seq and *pos filled, 0 none,
 * -1 error or a damaged record. */
int sync_node_snapshot_state(sqlite3 *db, int64_t *seq, sync_snap_pos *pos);

/* ---- digests (sync/digest.c) ----------------------------------------------- */

/* Per-table {count, digest} of the rows in scope (sc NULL = every row in the
 * database, which is what a node holds).  Returns a cJSON object
 * {"tables":{...}} or NULL; caller frees. */
struct cJSON *sync_digest(sqlite3 *db, const sync_scope *sc);

/* ---- request signing (sync/auth.c) ------------------------------------------ */

#define SYNC_SECRET_LEN 32
/* The header that states a request body's hash (hex SHA-256 of the body as
 * sent): required on a signed request with a body, so the hub can check the
 * signature before it reads the body (sync/auth.c). */
#define SYNC_CONTENT_HASH_HEADER "X-Outpost-Content-SHA256"
/* hex signature (64 chars + NUL); "" when it could not be made */
void sync_sign(const unsigned char secret[SYNC_SECRET_LEN], const char *method,
	       const char *path_query, const char *time_ms, const char *nonce,
	       const void *body, size_t len, char out[65]);
/* The same over a body known by its hex SHA-256 (64 characters, else "") */
void sync_sign_hash(const unsigned char secret[SYNC_SECRET_LEN], const char *method,
		    const char *path_query, const char *time_ms, const char *nonce,
		    const char *body_hash, char out[65]);
/* hex SHA-256 of a body (64 chars + NUL; "" on failure) */
void sync_body_hash(const void *body, size_t len, char out[65]);

/*
 * The check of the hub's key an enrollment code carries (DESIGN.md, "The
 * network edge"): the first 60 bits of HMAC-SHA256 keyed by the code's 16
 * random characters (upper case, no separators) over the SHA-256 of the
 * hub's public key (the 32 bytes a "sha256//BASE64" pin names), as
 * SYNC_ENROLL_CHECK_LEN base32 characters (A-Z, 2-7).  Keyed by the code, so
 * each code has its own check: a key whose check collides with one code's
 * cannot be ground in advance without that code, and serves no other.  The
 * hub prints CODE = 16 random characters, then this check, in groups of
 * four; outpost-sync enroll refuses a hub whose key does not give the code's
 * check, before it sends the code.  code: as typed or shown ('-' and ' '
 * skipped, any case), only its first 16 characters count.  0, or -1 when pin
 * is not a sha256// pin or code has fewer than 16 characters.
 */
#define SYNC_ENROLL_RANDOM_LEN 16
#define SYNC_ENROLL_CHECK_LEN 12
int sync_enroll_check(const char *pin, const char *code, char out[SYNC_ENROLL_CHECK_LEN + 1]);
/* ---- offline bundles: the one codec (sync/bundle.c, format there) ----------- */

#define SYNC_BUNDLE_MAX (512 * 1024 * 1024) /* one bundle file (hub import cap) */
#define SYNC_BUNDLE_MAGIC "OPX3" /* what export writes; import reads "OPX2", "OPX1" too */

/* Build one bundle in out from a finished frame and the office's pull
 * cursor (node_meta sync_cursor, < 0 when it has none yet), sealed for the
 * node and the hub alone (format in bundle.c).  0 or -1. */
int sync_bundle_encode(buf *out, const char *node_id, const unsigned char secret[SYNC_SECRET_LEN],
		       int64_t pull_cursor, const void *frame, size_t len);
/* A bundle cut short or damaged (a copy interrupted): its checksum does not
 * match, or its header ends early.  Copy it again. */
#define SYNC_BUNDLE_DAMAGED (-2)
/* A bundle whole and the node's whose frame does not read: made so (by an
 * incompatible version?); copying it again will not help. */
#define SYNC_BUNDLE_MALFORMED (-3)
/* The sender of bundle p[0..len): checks the header only (magic, node id
 * length and bytes) and copies the node id, so the reader can look up the
 * sender's secret.  0, or -1 / SYNC_BUNDLE_DAMAGED with *err set to a
 * static message. */
int sync_bundle_sender(const void *p, size_t len, char node_id[64], const char **err);
/* Check a bundle's header, its checksum and its tag (or an OPX1 bundle's
 * MAC) with secret, and open it in place: *frame then points into p.  0,
 * or with *err set (static text) -1 (not a bundle, bad signature),
 * SYNC_BUNDLE_DAMAGED, SYNC_BUNDLE_MALFORMED or SYNC_BUNDLE_WRONG_KIND (a
 * hub's bundle for an office).  node_id gets the sender, *pull_cursor the
 * office's pull cursor when it wrote the bundle (-1: none, or a bundle of
 * before OPX3). */
int sync_bundle_decode(void *p, size_t len, const unsigned char secret[SYNC_SECRET_LEN],
		       char node_id[64], int64_t *pull_cursor, const unsigned char **frame,
		       size_t *flen, const char **err);
/* A bundle of the other direction (a hub's given to an office's reader,
 * or the reverse): *err names it and where it is imported. */
#define SYNC_BUNDLE_WRONG_KIND (-4)
/* Write a bundle file: a new file of mode 0600 renamed over path, file and
 * directory synced; never over a link, a device or a directory.  0, or -1
 * with err filled. */
int sync_bundle_write(const char *path, const void *p, size_t len, char *err, size_t errlen);
/* 1 when a bundle of node_id may be written at path, else 0: nothing is
 * there, or an earlier bundle of the same kind and node, which the new one
 * supersedes (an office's from node_id, hub 0; the hub's for it, hub 1).
 * Never over another file, nor another node's bundle not yet carried. */
int sync_bundle_may_write(const char *path, const char *node_id, int hub);

/* The return trip (format in bundle.c): `outpost-hub export-office` seals
 * the pull pages a node would get (sync_hub_bundle_add_page each, then
 * sync_hub_bundle_encode) and `outpost-sync import` opens them
 * (sync_hub_bundle_decode, then sync_hub_bundle_page in order). */
#define SYNC_HUB_BUNDLE_MAGIC "OPH1"
typedef struct sync_hub_page {
	int64_t hp_after, hp_next, hp_head; /* cursor before, after; the log head */
	const unsigned char *hp_data;       /* the pull page (into the opened bundle) */
	size_t hp_len;
} sync_hub_page;
/* Start pages with the hub's clock now (ms) and its acknowledgement of the
 * node's outbox (ack: JSON text as in bundle.c, NULL when it took nothing
 * from the node), then append each pull page to it.  0 or -1. */
int sync_hub_bundle_begin(buf *pages, int64_t made_ms, const char *ack);
int sync_hub_bundle_add_page(buf *pages, int64_t after, int64_t next, int64_t head,
			     const void *patchset, size_t len);
/* Seal pages for node_id alone.  0 or -1. */
int sync_hub_bundle_encode(buf *out, const char *node_id,
			   const unsigned char secret[SYNC_SECRET_LEN], const void *pages,
			   size_t len);
/* The node a hub bundle is for (header only), as sync_bundle_sender. */
int sync_hub_bundle_head(const void *p, size_t len, char node_id[64], const char **err);
/* Check and open a hub bundle in place, as sync_bundle_decode: 0 (*pages
 * into p, every page readable; *made_ms the hub's clock when it was made;
 * *ack, *acklen its acknowledgement's JSON text, not NUL-terminated, 0
 * bytes when there is none), or with *err set -1, SYNC_BUNDLE_DAMAGED,
 * SYNC_BUNDLE_MALFORMED or SYNC_BUNDLE_WRONG_KIND (an office's bundle). */
int sync_hub_bundle_decode(void *p, size_t len,
			   const unsigned char secret[SYNC_SECRET_LEN], char node_id[64],
			   int64_t *made_ms, const char **ack, size_t *acklen,
			   const unsigned char **pages, size_t *plen, const char **err);
/* The page at *off of opened pages[0..len): 1 (pg filled, *off moved past
 * it), 0 at the end, -1 malformed. */
int sync_hub_bundle_page(const unsigned char *pages, size_t len, size_t *off, sync_hub_page *pg);

#endif
