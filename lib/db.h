/*
 * db.h - SQLite helpers shared by node and hub: opening with the durability
 * settings Outpost relies on (WAL, synchronous=FULL, busy timeout, foreign
 * keys), migrations, and rows as JSON.
 *
 * Errors: functions return 0 or a negative value and log the SQLite message
 * once, naming the statement's purpose.
 *
 * Return convention of the whole tree (lib, model, sync, node, hub):
 *   - an action returns 0 when done, -1 on error;
 *   - a lookup that may find nothing returns DB_FOUND (1), DB_ABSENT (0) or
 *     -1 on error (db_kv_get, hub_node_get, sync_node_snapshot_state,
 *     http_req_query_get, crm__exists, ...), and a predicate likewise 1 for
 *     yes, 0 for no;
 *   - one exception, older than the rule and pinned by the tests: db_text()
 *     returns 0 when it found a row and 1 when there is none;
 *   - sync's SYNC_E_* and the routes' route_rc are enums documented with them.
 */
#ifndef OUTPOST_DB_H
#define OUTPOST_DB_H

#define SQLITE_ENABLE_SESSION 1
#define SQLITE_ENABLE_PREUPDATE_HOOK 1
#include <sqlite3.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define DB_BUSY_TIMEOUT_MS 5000
/* The WAL's bound (dbguard.c): past half of it a commit's writer restarts
 * the log between transactions; the test build may set it lower
 * (fault.h OUTPOST_TEST_HOOKS_WAL_BYTES).  Each restart pauses the writer
 * for two device flushes (3 to 4 ms here); at 64 MiB the node's check-ins at
 * 64 connections (9 KB of WAL each) paused it 2 to 3 times a second, which
 * was their p99 (docs/scaling.md, #19's eighth round). */
#define DB_WAL_LIMIT_BYTES (256LL << 20)
#define DB_WAL_BUSY_MS 20      /* longest wait for readers at that truncation */
#define DB_WAL_RETRY_MS 100    /* a truncation that found readers, tried again after */
#define DB_WAL_HARD_BUSY_MS 500 /* past 3/4 of the bound: the writer waits this long */
#define DB_WAL_IDLE_MS 1000    /* the idle check's period ... */
#define DB_WAL_IDLE_COMMITS 20 /* ... and at most this many commits in one: idle */
#define DB_CHECKPOINT_FRAMES 1000 /* a passive checkpoint (SQLite's default) */
/* Each connection's page cache bound (PRAGMA cache_size, in KiB), stated
 * here rather than left to how the system's SQLite was built: the hub has
 * ten connections, and a soak's memory figures rest on this bound. */
#define DB_CACHE_KIB 2048

enum { DB_ABSENT = 0, DB_FOUND = 1 }; /* lookups; -1 is an error */

/* Open (creating) path with WAL + synchronous=FULL. 0 or -1; *out NULL on failure. */
int db_open(const char *path, sqlite3 **out);
/* In place of sqlite3_busy_timeout(db, ms): a lock held by another
 * connection is tried again every DB_BUSY_POLL_US for up to ms (0: not at
 * all).  SQLite's own handler backs off to 100 ms sleeps, so a writer
 * behind a lock held 250 ms resumed up to 100 ms after it was free - the
 * node's loop thread, and every request queued behind it, with it. */
#define DB_BUSY_POLL_US 1000
void db_busy_wait(sqlite3 *db, int ms);
void db_close(sqlite3 *db);
/* Run one or more statements; -1 and a log line on error. */
int db_exec(sqlite3 *db, const char *sql);
/* End the transaction a BEGIN opened: COMMIT when rc is 0, else ROLLBACK.
 * 0 when committed; -1 when rc was not 0 or the COMMIT failed (rolled back). */
int db_end(sqlite3 *db, int rc);
int db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql);
/*
 * Dynamic SQL: format with sqlite3_mprintf() (not printf: the compiler
 * cannot check the arguments, so keep the formats short; %w quotes an identifier
 * inside "...", %q a literal inside '...', no fixed array to outgrow) and
 * prepare.  0 or -1 (out of memory or a bad statement, logged); *st NULL on
 * failure.  SQL assembled piece by piece goes through a buf (lib/buf.h,
 * buf_printf + buf_failed) and then db_prepare().
 */
int db_preparef(sqlite3 *db, sqlite3_stmt **st, const char *fmt, ...);
/*
 * Statement cache, per connection: the hot paths (a check-in, the outbox
 * append, a savepoint) would otherwise spend most of their time in SQLite's
 * parser.  sql must have static storage: the cache keys on its address.
 *
 * db_stmt() returns a prepared statement, borrowed until db_stmt_done(),
 * which resets it and clears its bindings (never sqlite3_finalize() it).
 * A statement already in use (the same SQL nested) comes back as a fresh
 * one that db_stmt_done() finalizes.  NULL on error, logged.  db_close()
 * finalizes a connection's cached statements.  Thread-safe across
 * connections; one connection is used by one thread at a time, as SQLite
 * requires anyway.
 */
sqlite3_stmt *db_stmt(sqlite3 *db, const char *sql);
void db_stmt_done(sqlite3_stmt *st);
/* db_exec() for one statement of static text, through the cache. */
int db_exec_cached(sqlite3 *db, const char *sql);
/*
 * Client data of a connection (SQLite 3.44's sqlite3_set_clientdata, which
 * Debian's 3.40 lacks): key is compared by address; destroy (may be NULL)
 * runs when the key is set again or at db_close().  At most 4 keys per
 * connection.  db_set_data: 0 or -1.  db_get_data: the data or NULL.
 */
int db_set_data(sqlite3 *db, const char *key, void *data, void (*destroy)(void *));
void *db_get_data(sqlite3 *db, const char *key);
/*
 * Run one statement (a write, or a read whose rows are not wanted) with
 * ?1, ?2, ... bound in order, one type letter each: 't' const char * (NULL
 * binds NULL, "" binds ""), 'i' int, 'I' int64_t (cast), 'd' double, 'b' a
 * blob as (const void *, size_t).  The arguments must outlive the call only.
 * 0, or -1 on an error (noted, not logged: sqlite3_errmsg(db) names it for
 * the caller's log line).
 */
int db_run(sqlite3 *db, const char *sql, const char *types, ...);
/* db_run() through the statement cache (db_stmt(): sql of static storage),
 * for the writes of a hot path.  0, or -1 (noted as db_run() notes it). */
int db_run_cached(sqlite3 *db, const char *sql, const char *types, ...);
/* Prepare sql with its parameters bound as db_run() binds them, for the
 * caller to step and finalize; the arguments must outlive the statement's
 * use.  0, or -1 (logged; *st NULL). */
int db_prepare_bound(sqlite3 *db, sqlite3_stmt **st, const char *sql, const char *types, ...);
/*
 * For each row of select (its parameters bound as db_run() binds them), one
 * row by insert, whose ?1 is a fresh UUIDv7 and ?2.. the select's columns in
 * order (the values as they are: NULL stays NULL).  The number of rows
 * inserted, or -1 (a failed insert stops there; the caller's transaction
 * undoes it).  For flags found by a query (possible duplicates).
 */
int db_insert_each(sqlite3 *db, const char *select, const char *insert, const char *types, ...);
/* The first row of sql, with arg (NULL binds NULL) as its parameter ?1:
 * DB_FOUND with *st on that row (the caller reads its columns, then
 * finalizes *st); DB_ABSENT when there is no row, -1 on an error (noted as
 * db_run() notes it), both with *st NULL. */
int db_row(sqlite3 *db, sqlite3_stmt **st, const char *sql, const char *arg);
/* First column of the first row as int64, or def when there is no row. */
int64_t db_int(sqlite3 *db, const char *sql, int64_t def);
/* db_int() of sql with its parameters bound as db_run() binds them: the
 * first column of the first row, or def when there is no row or on an
 * error (noted as db_run() notes it). */
int64_t db_int_bound(sqlite3 *db, int64_t def, const char *sql, const char *types, ...);
/* First column of the first row into out (size n): 0 when found, 1 when
 * there is no row (out ""), -1 on error (the exception to the rule above). */
int db_text(sqlite3 *db, const char *sql, const char *arg, char *out, size_t n);

/*
 * Key/value tables (node_meta, sync_state: key TEXT PRIMARY KEY, value
 * TEXT): the one accessor of node and sync.  table is a trusted identifier.
 * db_kv_get: DB_FOUND (out filled; the value truncated to n), DB_ABSENT (no
 * key, or NULL: out ""), -1 error.  db_kv_get_i64: the same, DB_ABSENT also
 * when the value is not a whole number.  db_kv_set: value NULL deletes the
 * key; 0 or -1.
 */
int db_kv_get(sqlite3 *db, const char *table, const char *key, char *out, size_t n);
int db_kv_get_i64(sqlite3 *db, const char *table, const char *key, int64_t *v);
int db_kv_set(sqlite3 *db, const char *table, const char *key, const char *value);
int db_kv_set_i64(sqlite3 *db, const char *table, const char *key, int64_t v);
/* 1 when sql (one parameter, bound to the text arg) gives a row, 0 when
 * not, -1 on error. */
int db_exists(sqlite3 *db, const char *sql, const char *arg);
/* 1 when a table of that name exists, 0 when not, -1 on error. */
int db_table_exists(sqlite3 *db, const char *name);
/* The connection's triggers off (on 0) or on (on 1), read back from
 * SQLite: 0, or -1 (logged) when the setting did not take. */
int db_triggers(sqlite3 *db, int on);
/*
 * What a connection has seen of its database: its own change count
 * (sqlite3_total_changes64) and PRAGMA data_version, which moves with every
 * commit of any other connection or process.  Two equal versions read on
 * the connection mean nothing was written in between, so a result read
 * from the database between them still holds.  db_version_get: 0, or -1
 * inside a transaction (its rows may yet roll back) or on an error (then
 * nothing may be kept).  db_version_same: 1 or 0.
 */
typedef struct db_version {
	int64_t dv_changes, dv_data;
} db_version;
int db_version_get(sqlite3 *db, db_version *v);
int db_version_same(const db_version *a, const db_version *b);

/*
 * Migrations: an ordered list of SQL scripts for one component ("replicated",
 * "node", "hub").  Applied in one transaction each; the number applied is kept
 * in the table schema_version(component, version).  Each step reads that
 * version again under the write lock, so two processes migrating the same
 * file at once apply every step once and the version never goes down.
 * Returns the version reached, or -1 (also for a version newer than n).
 */
typedef struct db_migration {
	const char *sql;
} db_migration;
int db_migrate(sqlite3 *db, const char *component, const db_migration *m, int n);
/* db_migrate() with every script of the array m: 0, or -1. */
#define DB_MIGRATE_ALL(db, component, m)                                                           \
	(db_migrate((db), (component), (m), (int)(sizeof(m) / sizeof((m)[0]))) < 0 ? -1 : 0)
int db_component_version(sqlite3 *db, const char *component);
/*
 * The components this program knows are those db_migrate() was given in
 * this process (a `check` that must not write migrates a database in
 * memory first).  db_schema_compare: every component of db's schema_version
 * and every one known against this program's: 0 the same, -1 one older
 * (migrated at the next start) or missing, 1 one newer or unknown to this
 * program (a newer release's), -2 unreadable; detail gets "component N/M,
 * ..." for people.  db_schema_unknown: 1 when db has a component this
 * program does not know (what gets its name and version), 0 none, -1 an
 * error.
 */
int db_schema_compare(sqlite3 *db, char *detail, size_t n);
int db_schema_unknown(sqlite3 *db, char *what, size_t n);

/* The current row as a JSON object keyed by column name (INTEGER -> number,
 * REAL -> number, TEXT -> string, NULL -> null, BLOB -> omitted). */
cJSON *db_row_json(sqlite3_stmt *st);
/* The same, its names and strings borrowed from st (no copies): valid until
 * st is stepped, reset or finalized, and never to be duplicated, detached
 * or kept past that (cJSON_Delete() frees only the items). */
cJSON *db_row_json_borrowed(sqlite3_stmt *st);
/* The first row of sql with ?1 bound to arg (text), as db_row_json() makes
 * it; NULL when there is no row or on error.  Caller frees. */
cJSON *db_row_json_by(sqlite3 *db, const char *sql, const char *arg);
/* Every row of st as a JSON array (resets st at the end). NULL on error. */
cJSON *db_rows_json(sqlite3_stmt *st);
/* Every row of sql with ?1..?n bound to the texts args[0..n) (a NULL binds
 * NULL), as db_rows_json() makes them; NULL on error (logged).  Caller frees.
 * The one "rows of a query as JSON" of node and hub. */
cJSON *db_rows_json_args(sqlite3 *db, const char *sql, int n, const char *const *args);
/* The same with one argument (NULL: ?1 is NULL, or sql has none). */
cJSON *db_rows_json_by(sqlite3 *db, const char *sql, const char *arg);
/* Add those rows to obj as member name: 0, or -1 when the query fails
 * (logged) or memory runs out, with nothing added: a list that could not be
 * read is an error for the caller to answer (a 500), never an empty list. */
int db_add_rows_json(cJSON *obj, const char *name, sqlite3 *db, const char *sql,
		     const char *arg);
/*
 * The one "bind text or NULL" of node and hub, with one rule: NULL binds
 * SQL NULL, any other string binds that text, "" included (copied, so s may
 * be freed at once).  Where an optional field's "" means "none" (a
 * participant's phone, say), the caller says so: db_bind_text(st, i,
 * db_null_if_empty(s)).  Returns the sqlite3_bind_* code.
 */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);
/* The same without the copy: s must outlive the statement's step. */
static inline int db_bind_static(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}
/*
 * Column i's text in the current row of st: "" for SQL NULL, and NULL only
 * when SQLite ran out of memory making it (a value read from a page is
 * copied to be NUL-terminated, a number converted).  The one way node and
 * hub read a text column whose value they use: a NULL here is an error for
 * the caller (a 500), never an empty value or "(null)".
 */
static inline const char *db_col(sqlite3_stmt *st, int i)
{
	int type = sqlite3_column_type(st, i); /* before: a failure makes it NULL */
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? s : type == SQLITE_NULL ? "" : NULL;
}
/* db_col() of columns 0..n-1 into out[]: 0, or -1 when memory ran out. */
int db_cols(sqlite3_stmt *st, const char **out, int n);
/* A copy of column i's text (caller frees) and its length in *len (may be
 * NULL): NULL for SQL NULL or when memory runs out. */
char *db_col_dup(sqlite3_stmt *st, int i, size_t *len);
static inline const char *db_null_if_empty(const char *s)
{
	return s && s[0] ? s : NULL;
}
/*
 * The one LIKE pattern of typed text, for "LIKE ? ESCAPE '\'": s with its
 * % _ and \ escaped, then '%' (a prefix), or with anywhere set '%' on both
 * sides.  s NULL or "" gives "" (the queries' "no filter").  Cut to fit out
 * (size n, at least 3 for a pattern; smaller gets "").
 */
void db_like_pattern(const char *s, int anywhere, char *out, size_t n);

/*
 * dbguard.c: the bounded WAL and storage errors.
 *
 * db_open() sets journal_size_limit and installs db_wal_hook() in place of
 * SQLite's automatic checkpoint: a passive checkpoint every
 * DB_CHECKPOINT_FRAMES, and past half of db_wal_limit() a RESTART
 * checkpoint run by the committing thread, between its transactions.  A
 * caller that installs its own WAL hook (the node's loop connection) calls
 * db_wal_committed() from it, which returns 1 when that checkpoint is due
 * (at most every DB_WAL_RETRY_MS), and runs db_wal_restart() itself when
 * it is between transactions, waiting db_wal_busy_ms(that value).  Past
 * 3/4 of the bound it returns 2 at every commit: the writer then waits up
 * to DB_WAL_HARD_BUSY_MS for the readers before its next transaction, which
 * slows writes rather than let the WAL pass the bound.
 */
int64_t db_wal_limit(void);
int db_wal_hook(void *arg, sqlite3 *db, const char *name, int frames);
int db_wal_committed(sqlite3 *db, int frames);
int db_wal_busy_ms(int over);
/* TRUNCATE checkpoint waiting at most busy_ms for readers and writers:
 * 0 done, 1 busy (what could be copied was), -1 error (logged). */
int db_wal_truncate(sqlite3 *db, int busy_ms);
/* The same with RESTART: the next commit writes the WAL from its start,
 * and the file keeps its size (up to journal_size_limit). */
int db_wal_restart(sqlite3 *db, int busy_ms);
/* From a timer every DB_WAL_IDLE_MS: when the last period saw at most
 * DB_WAL_IDLE_COMMITS commits and the WAL holds any, checkpoint and
 * truncate it (0); 1 when not due or busy (try again), -1 error. */
int db_wal_idle(sqlite3 *db);
/* Bytes of db's -wal file now (0 when there is none). */
int64_t db_wal_size(sqlite3 *db);
/* The largest WAL a commit of this process left, in bytes. */
int64_t db_wal_largest(void);
void db_guard_page_size(int page_size);
/*
 * Storage errors.  db_note_error() records a failed call's code for this
 * thread (db, when rc is SQLITE_OK, gives its last code); db.c's helpers
 * call it on every failure, and SQLite's error log (db_log_callback) on an
 * I/O error or a full disk.  db_take_error() returns the gravest code noted
 * since the last take or successful commit on this thread and clears it.
 * db_http_status() and db_error_text() map a code once for a reply:
 * SQLITE_FULL -> 507 "the disk is full ...", busy -> 503, else 500.
 * db_disk_full() is 1 from a write refused for a full disk until the next
 * successful commit; db_health_json() adds "disk_full" and "storage_error"
 * to o (/healthz and the sync status).
 */
void db_note_error(sqlite3 *db, int rc);
int db_take_error(void);
/* The code db_take_error() would return, left noted (0 when none). */
int db_peek_error(void);
int db_http_status(int rc);
const char *db_error_text(int rc);
int db_disk_full(void);
void db_health_json(cJSON *o);
void db_log_callback(void *arg, int rc, const char *msg);

#endif
