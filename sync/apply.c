/*
 * apply.c - the hub side of a push: the hub's replication tables and
 * change-log triggers, and the validation and column-wise three-way merge of
 * one node changeset (see sync.h for the protocol, DESIGN.md "Conflicts" and
 * "Validation at the hub" for the rules).
 *
 * An entry is handled in three passes inside one SAVEPOINT:
 *   1. our own bounds-checked walk (sync/changeset.c): structure, tables
 *      known, replicated and node-writable, column counts and key flags equal
 *      to the live table's, append-only tables only inserted, keys non-empty
 *      TEXT - before SQLite's changeset reader sees a byte;
 *   2. sqlite3changeset_start_v2 over the same bytes, each change validated
 *      against the hub's current row (scope) and merged by hand with
 *      prepared statements (never sqlite3changeset_apply: the hub decides);
 *   3. the optional domain validator on every resulting row.
 * A refusal anywhere rolls the savepoint back and writes the raw entry to
 * quarantine; an internal error rolls back and returns -1.
 *
 * Merge rules, per changed column (base = the changeset's old value, remote
 * = its new value, local = the hub's current value): local == base -> take
 * remote; local == remote -> nothing; otherwise a conflict, won by the later
 * updated_hlc (the text form orders by time, then counter, then node id, so
 * every replica picks the same winner), recorded in `conflicts`.  A final
 * value (table_def td_final_col) is only left by a newer edit.  An edit
 * beats a delete in either order: a DELETE whose old values no longer match
 * keeps the row; an UPDATE of a deleted row resurrects it from its
 * tombstone.  Both record a conflict on column "*deleted*".
 *
 * local == base does not always mean "the hub side left the column alone":
 * it may have been changed and changed back (A -> B -> A) by writes newer
 * than the remote one, and taking the remote value would then silently
 * undo the newest write.  So the hub keeps, per column, the HLC of the last
 * write that set it through a merge, or wrote the value it already had
 * (col_clocks, hub-only); when local == base but that clock is newer than
 * the remote write, the column is a conflict like any other (the newer local
 * side wins, the remote value is kept in `conflicts`).  No clock = not
 * changed since the row was inserted.
 */
#include "sync/sync.h"
#include "sync/changeset.h"
#include "model/schema.h"
#include "lib/crypto.h"
#include "lib/hlc.h"
#include "lib/log.h"
#include "lib/testhook.h"
#include "lib/uuid.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sync_row_validator row_validator;

void sync_set_validator(sync_row_validator fn)
{
	row_validator = fn;
}

/* ---- hub tables and triggers ---------------------------------------------- */

static const db_migration hub_migrations[] = {
	{"CREATE TABLE change_log("
	 " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	 " tbl TEXT NOT NULL,"
	 " row_id TEXT NOT NULL,"
	 " op INTEGER NOT NULL,"          /* 1 upsert, 2 delete */
	 " scope_office TEXT,"
	 " scope_la TEXT,"
	 " origin TEXT,"                  /* node id, NULL = the hub itself */
	 " at INTEGER NOT NULL);"
	 "CREATE INDEX change_log_scope ON change_log(scope_office, scope_la, seq);"
	 "CREATE INDEX change_log_row ON change_log(tbl, row_id);"
	 "CREATE TABLE quarantine("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " node_id TEXT NOT NULL,"
	 " seq INTEGER NOT NULL,"
	 " tbl TEXT,"
	 " reason TEXT NOT NULL,"
	 " changeset BLOB,"
	 " hlc TEXT,"
	 " actor TEXT,"
	 " created_at INTEGER NOT NULL,"
	 " resolved_at INTEGER,"
	 " resolution TEXT);"
	 "CREATE INDEX quarantine_node ON quarantine(node_id, seq);"
	 "CREATE TABLE tombstones("
	 " tbl TEXT NOT NULL,"
	 " row_id TEXT NOT NULL,"
	 " row_json TEXT NOT NULL,"
	 " deleted_hlc TEXT,"
	 " PRIMARY KEY(tbl, row_id));"
	 "CREATE TABLE sync_ctx(k TEXT PRIMARY KEY NOT NULL, v TEXT);"},
	/* 2: the HLC of the last merged write of each column (see the top). */
	{"CREATE TABLE col_clocks("
	 " tbl TEXT NOT NULL,"
	 " row_id TEXT NOT NULL,"
	 " col TEXT NOT NULL,"
	 " hlc TEXT NOT NULL,"
	 " PRIMARY KEY(tbl, row_id, col)) WITHOUT ROWID;"},
};

#define NOW_MS_SQL "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
#define ORIGIN_SQL "(SELECT v FROM sync_ctx WHERE k='origin')"

/* SQL for the scope of row `pfx` (NEW / OLD), matching sync__row_scope(). */
static void scope_sql(const sync__tshape *ts, const char *pfx, char *office, size_t on,
		      char *la, size_t ln)
{
	snprintf(office, on, "NULL");
	snprintf(la, ln, "NULL");
	switch (ts->ts_td->td_scope) {
	case SCOPE_OFFICE:
		if (ts->ts_scope >= 0)
			snprintf(office, on, "%s.\"%s\"", pfx, ts->ts_cols[ts->ts_scope]);
		if (ts->ts_la >= 0)
			snprintf(la, ln, "%s.\"local_area_id\"", pfx);
		break;
	case SCOPE_LOCAL_AREA:
		if (ts->ts_scope >= 0)
			snprintf(la, ln, "%s.\"%s\"", pfx, ts->ts_cols[ts->ts_scope]);
		break;
	case SCOPE_ROW:
		if (ts->ts_row_office >= 0)
			snprintf(office, on, "%s.\"scope_office\"", pfx);
		if (ts->ts_row_la >= 0)
			snprintf(la, ln, "%s.\"scope_la\"", pfx);
		break;
	default:
		break;
	}
}

static int make_triggers(const table_def *td, void *arg)
{
	sqlite3 *db = arg;
	sync__tshape ts;
	char no[160], nl[160], oo[160], ol[160];
	const char *t = td->td_name;
	buf sql = BUF_INIT(16 * 1024);
	int ret = -1;

	if (td->td_scope == SCOPE_HUB_ONLY)
		return 0;
	if (sync__tshape_load(db, td, &ts) != 0)
		return -1;
	scope_sql(&ts, "NEW", no, sizeof no, nl, sizeof nl);
	scope_sql(&ts, "OLD", oo, sizeof oo, ol, sizeof ol);
	if (buf_printf(&sql,
		       "CREATE TRIGGER IF NOT EXISTS \"outpost_log_%s_ins\" AFTER INSERT ON \"%s\" BEGIN "
		       "INSERT INTO change_log(tbl, row_id, op, scope_office, scope_la, origin, at) "
		       "VALUES('%s', NEW.\"id\", 1, %s, %s, " ORIGIN_SQL ", " NOW_MS_SQL "); END;",
		       t, t, t, no, nl) != 0 ||
	    /* A row that changes key or scope is also logged as deleted under its
	     * old scope, so offices that held it learn that it left them. */
	    buf_printf(&sql,
		       "CREATE TRIGGER IF NOT EXISTS \"outpost_log_%s_upd\" AFTER UPDATE ON \"%s\" BEGIN "
		       "INSERT INTO change_log(tbl, row_id, op, scope_office, scope_la, origin, at) "
		       "SELECT '%s', OLD.\"id\", 2, %s, %s, " ORIGIN_SQL ", " NOW_MS_SQL
		       " WHERE OLD.\"id\" IS NOT NEW.\"id\" OR (%s) IS NOT (%s) OR (%s) IS NOT (%s); "
		       "INSERT INTO change_log(tbl, row_id, op, scope_office, scope_la, origin, at) "
		       "VALUES('%s', NEW.\"id\", 1, %s, %s, " ORIGIN_SQL ", " NOW_MS_SQL "); END;",
		       t, t, t, oo, ol, oo, no, ol, nl, t, no, nl) != 0 ||
	    buf_printf(&sql,
		       "CREATE TRIGGER IF NOT EXISTS \"outpost_log_%s_del\" AFTER DELETE ON \"%s\" BEGIN "
		       "INSERT INTO change_log(tbl, row_id, op, scope_office, scope_la, origin, at) "
		       "VALUES('%s', OLD.\"id\", 2, %s, %s, " ORIGIN_SQL ", " NOW_MS_SQL "); END;",
		       t, t, t, oo, ol) != 0)
		goto out;
	if (db_exec(db, sql.data) != 0) {
		log_warnx("cannot create change-log triggers on '%s'", t);
		goto out;
	}
	ret = 0;
out:
	buf_release(&sql);
	sync__tshape_release(&ts);
	return ret;
}

int sync_hub_migrate(sqlite3 *db)
{
	if (db_migrate(db, "sync_hub", hub_migrations,
		       (int)(sizeof hub_migrations / sizeof hub_migrations[0])) < 0)
		return -1;
	/* Triggers are (re)checked at every start, so tables that modules add
	 * to the registry later get theirs. */
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (schema_foreach(make_triggers, db) != 0 ||
	    db_exec(db, "UPDATE sync_ctx SET v=NULL WHERE k='origin'") != 0) {
		db_exec(db, "ROLLBACK");
		return -1;
	}
	return db_exec(db, "COMMIT");
}

/* ---- values ------------------------------------------------------------------ */

static int val_type(sqlite3_value *v)
{
	return v ? sqlite3_value_type(v) : 0;
}

/* Set when SQLite could not give a text value (out of memory): a refusal
 * that follows is our failure, not the node's (refuse()). */
static __thread int apply_oom;

static const char *val_text(sqlite3_value *v)
{
	const char *s = val_type(v) == SQLITE_TEXT ? (const char *)sqlite3_value_text(v) : NULL;

	if (val_type(v) == SQLITE_TEXT && s == NULL)
		apply_oom = 1;
	return s;
}

static int val_eq(sqlite3_value *a, sqlite3_value *b)
{
	int t = val_type(a), n;

	if (t != val_type(b))
		return 0;
	switch (t) {
	case SQLITE_INTEGER:
		return sqlite3_value_int64(a) == sqlite3_value_int64(b);
	case SQLITE_FLOAT: {
		double x = sqlite3_value_double(a), y = sqlite3_value_double(b);
		return memcmp(&x, &y, sizeof x) == 0 || x == y;
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		if (t == SQLITE_TEXT) {
			sqlite3_value_text(a);
			sqlite3_value_text(b);
		}
		n = sqlite3_value_bytes(a);
		if (n != sqlite3_value_bytes(b))
			return 0;
		return n == 0 || memcmp(t == SQLITE_TEXT ? (const void *)sqlite3_value_text(a)
							 : sqlite3_value_blob(a),
					t == SQLITE_TEXT ? (const void *)sqlite3_value_text(b)
							 : sqlite3_value_blob(b),
					(size_t)n) == 0;
	default:
		return 1; /* both NULL, or both undefined */
	}
}

/* A value as JSON text that keeps its type: null, 12, 1.5 (always with a
 * '.' or exponent), "text", {"blob":"hex"}. */
static void json_value(buf *b, sqlite3_value *v, int *rc)
{
	char num[40];

	if (*rc)
		return;
	switch (val_type(v)) {
	case SQLITE_INTEGER:
		snprintf(num, sizeof num, "%lld", (long long)sqlite3_value_int64(v));
		*rc = buf_puts(b, num);
		break;
	case SQLITE_FLOAT: {
		double d = sqlite3_value_double(v);
		if (isinf(d))
			snprintf(num, sizeof num, "%s", d < 0 ? "-9e999" : "9e999");
		else if (isnan(d))
			snprintf(num, sizeof num, "null");
		else {
			snprintf(num, sizeof num, "%.17g", d);
			if (strpbrk(num, ".eE") == NULL)
				strcat(num, ".0");
		}
		*rc = buf_puts(b, num);
		break;
	}
	case SQLITE_TEXT: {
		const unsigned char *s = sqlite3_value_text(v);
		int n = sqlite3_value_bytes(v);
		if (s == NULL && n > 0) {
			*rc = -1; /* out of memory */
			break;
		}
		*rc = buf_putc(b, '"');
		for (int i = 0; i < n && *rc == 0; i++) {
			unsigned char c = s[i];
			if (c == '"' || c == '\\')
				*rc = buf_printf(b, "\\%c", c);
			else if (c < 0x20)
				*rc = buf_printf(b, "\\u%04x", c);
			else
				*rc = buf_putc(b, c);
		}
		if (*rc == 0)
			*rc = buf_putc(b, '"');
		break;
	}
	case SQLITE_BLOB: {
		const unsigned char *p = sqlite3_value_blob(v);
		int n = sqlite3_value_bytes(v);
		if (p == NULL && n > 0) {
			*rc = -1; /* out of memory */
			break;
		}
		*rc = buf_puts(b, "{\"blob\":\"");
		for (int i = 0; i < n && *rc == 0; i++)
			*rc = buf_printf(b, "%02x", p[i]);
		if (*rc == 0)
			*rc = buf_puts(b, "\"}");
		break;
	}
	default:
		*rc = buf_puts(b, "null");
	}
}

/* {"col": value, ...} of a whole row. */
static void json_row(buf *b, const sync__tshape *ts, sqlite3_value **row, int *rc)
{
	if (*rc == 0)
		*rc = buf_putc(b, '{');
	for (int i = 0; i < ts->ts_ncol && *rc == 0; i++) {
		if (buf_printf(b, "%s\"%s\":", i ? "," : "", ts->ts_cols[i]) != 0) {
			*rc = -1;
			break;
		}
		json_value(b, row[i], rc);
	}
	if (*rc == 0)
		*rc = buf_putc(b, '}');
}

/* ---- one apply: context and statement cache ----------------------------------- */

typedef struct tcache {
	sync__tshape tc_ts;
	sqlite3_stmt *tc_sel, *tc_ins, *tc_upd, *tc_del;
} tcache;

typedef struct actx {
	sqlite3 *ax_db;
	const sync_scope *ax_sc;
	const sync_entry *ax_e;
	sync_apply_result *ax_res;
	tcache *ax_tc;
	int ax_ntc;
	sqlite3_stmt *ax_conflict, *ax_tomb_get, *ax_tomb_put, *ax_tomb_del;
	sqlite3_stmt *ax_clk_get, *ax_clk_put;
	char ax_tbl[129];    /* table of the refused change, for quarantine */
	char ax_reason[256];
} actx;

enum { A_OK = 0, A_REFUSE = 1, A_ERROR = -1 };

static int refuse(actx *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(actx *a, const char *fmt, ...)
{
	va_list ap;

	if (apply_oom) {
		apply_oom = 0;
		return A_ERROR; /* not refused: the node sends it again */
	}
	va_start(ap, fmt);
	vsnprintf(a->ax_reason, sizeof a->ax_reason, fmt, ap);
	va_end(ap);
	/* Reasons can quote a node's bytes (a table name): keep them printable
	 * ASCII for the log line, the console and the JSON reply (a byte past
	 * 0x7f may be half a character cut by the length limit, or no UTF-8). */
	for (char *p = a->ax_reason; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return A_REFUSE;
}

/* A changeset SQLite cannot read: refused, unless SQLite ran out of memory
 * reading it (then it is our failure, and the node sends it again). */
static int refuse_rc(actx *a, int rc)
{
	if ((rc & 0xff) == SQLITE_NOMEM)
		return A_ERROR;
	return refuse(a, "corrupt changeset (%s)", sqlite3_errstr(rc));
}

static void actx_release(actx *a)
{
	for (int i = 0; i < a->ax_ntc; i++) {
		sqlite3_finalize(a->ax_tc[i].tc_sel);
		sqlite3_finalize(a->ax_tc[i].tc_ins);
		sqlite3_finalize(a->ax_tc[i].tc_upd);
		sqlite3_finalize(a->ax_tc[i].tc_del);
		sync__tshape_release(&a->ax_tc[i].tc_ts);
	}
	free(a->ax_tc);
	a->ax_tc = NULL;
	a->ax_ntc = 0;
	sqlite3_finalize(a->ax_conflict);
	sqlite3_finalize(a->ax_tomb_get);
	sqlite3_finalize(a->ax_tomb_put);
	sqlite3_finalize(a->ax_tomb_del);
	sqlite3_finalize(a->ax_clk_get);
	sqlite3_finalize(a->ax_clk_put);
	a->ax_conflict = a->ax_tomb_get = a->ax_tomb_put = a->ax_tomb_del = NULL;
	a->ax_clk_get = a->ax_clk_put = NULL;
}

static int prep(actx *a, sqlite3_stmt **st, const char *sql)
{
	if (*st) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
		return 0;
	}
	return db_prepare(a->ax_db, st, sql);
}

/* The cached shape and statements of a replicated table, loading it on first
 * use.  NULL on an internal error. */
static tcache *table_get(actx *a, const table_def *td)
{
	tcache *tc, *n;
	buf sql = BUF_INIT(64 * 1024);
	int ok = 0;

	for (int i = 0; i < a->ax_ntc; i++)
		if (a->ax_tc[i].tc_ts.ts_td == td)
			return &a->ax_tc[i];
	n = realloc(a->ax_tc, (size_t)(a->ax_ntc + 1) * sizeof *n);
	if (n == NULL)
		return NULL;
	a->ax_tc = n;
	tc = &a->ax_tc[a->ax_ntc];
	memset(tc, 0, sizeof *tc);
	if (sync__tshape_load(a->ax_db, td, &tc->tc_ts) != 0)
		return NULL;
	a->ax_ntc++;
	if (buf_printf(&sql, "SELECT %s FROM \"%s\" WHERE \"id\"=?1", tc->tc_ts.ts_collist,
		       td->td_name) != 0 ||
	    db_prepare(a->ax_db, &tc->tc_sel, sql.data) != 0)
		goto out;
	buf_reset(&sql);
	if (buf_printf(&sql, "INSERT INTO \"%s\"(%s) VALUES(", td->td_name, tc->tc_ts.ts_collist) != 0)
		goto out;
	for (int i = 0; i < tc->tc_ts.ts_ncol; i++)
		if (buf_printf(&sql, "%s?%d", i ? "," : "", i + 1) != 0)
			goto out;
	if (buf_puts(&sql, ")") != 0 || db_prepare(a->ax_db, &tc->tc_ins, sql.data) != 0)
		goto out;
	buf_reset(&sql);
	if (buf_printf(&sql, "UPDATE \"%s\" SET ", td->td_name) != 0)
		goto out;
	for (int i = 0, k = 0; i < tc->tc_ts.ts_ncol; i++)
		if (i != tc->tc_ts.ts_id &&
		    buf_printf(&sql, "%s\"%s\"=?%d", k++ ? "," : "", tc->tc_ts.ts_cols[i], i + 1) != 0)
			goto out;
	if (buf_printf(&sql, " WHERE \"id\"=?%d", tc->tc_ts.ts_id + 1) != 0 ||
	    db_prepare(a->ax_db, &tc->tc_upd, sql.data) != 0)
		goto out;
	buf_reset(&sql);
	if (buf_printf(&sql, "DELETE FROM \"%s\" WHERE \"id\"=?1", td->td_name) != 0 ||
	    db_prepare(a->ax_db, &tc->tc_del, sql.data) != 0)
		goto out;
	ok = 1;
out:
	buf_release(&sql);
	return ok ? tc : NULL;
}

/* Map a failed write: a constraint is the node's fault (refuse), anything
 * else is ours. */
static int step_write(actx *a, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return A_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_MISMATCH ||
	    (rc & 0xff) == SQLITE_TOOBIG)
		return refuse(a, "%s refused by the database: %s", what, sqlite3_errmsg(a->ax_db));
	log_warnx("cannot %s: %s", what, sqlite3_errmsg(a->ax_db));
	return A_ERROR;
}

/* ---- rows -------------------------------------------------------------------- */

typedef struct row {
	sqlite3_value **rw_v; /* ncol values, owned (sqlite3_value_dup) */
	int rw_n;
} row;

static void row_free(row *r)
{
	if (r->rw_v)
		for (int i = 0; i < r->rw_n; i++)
			sqlite3_value_free(r->rw_v[i]);
	free(r->rw_v);
	r->rw_v = NULL;
	r->rw_n = 0;
}

static int row_alloc(row *r, int n)
{
	r->rw_v = calloc((size_t)n, sizeof *r->rw_v);
	r->rw_n = n;
	return r->rw_v ? 0 : -1;
}

/* The hub's current row with this id: 1 found (into r), 0 none, -1 error. */
static int row_load(actx *a, tcache *tc, const char *id, row *r)
{
	int rc, ret = -1;

	sqlite3_reset(tc->tc_sel);
	sqlite3_bind_text(tc->tc_sel, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(tc->tc_sel);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		log_warnx("cannot read '%s': %s", tc->tc_ts.ts_td->td_name, sqlite3_errmsg(a->ax_db));
		goto out;
	}
	if (row_alloc(r, tc->tc_ts.ts_ncol) != 0)
		goto out;
	for (int i = 0; i < r->rw_n; i++) {
		r->rw_v[i] = sqlite3_value_dup(sqlite3_column_value(tc->tc_sel, i));
		if (r->rw_v[i] == NULL) {
			row_free(r);
			goto out;
		}
	}
	ret = 1;
out:
	sqlite3_reset(tc->tc_sel);
	return ret;
}

/*
 * A tombstoned row back from its JSON (typed by SQLite's JSON parser, which
 * keeps 64-bit integers exact).  1 restored, 0 none or unreadable, -1 error.
 */
static int row_from_tombstone(actx *a, tcache *tc, const char *id, row *r, char *del_hlc, size_t hn)
{
	sqlite3_stmt *je = NULL;
	const char *json;
	int rc, ret = -1, found = 0;

	if (prep(a, &a->ax_tomb_get,
		 "SELECT row_json, deleted_hlc FROM tombstones WHERE tbl=?1 AND row_id=?2") != 0)
		return -1;
	sqlite3_bind_text(a->ax_tomb_get, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_tomb_get, 2, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(a->ax_tomb_get);
	if (rc == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	json = (const char *)sqlite3_column_text(a->ax_tomb_get, 0);
	snprintf(del_hlc, hn, "%s",
		 sqlite3_column_text(a->ax_tomb_get, 1) ? (const char *)sqlite3_column_text(a->ax_tomb_get, 1)
							: "");
	if (json == NULL || row_alloc(r, tc->tc_ts.ts_ncol) != 0)
		goto out;
	if (sqlite3_prepare_v2(a->ax_db,
			       "SELECT key, value, type, CASE WHEN type='object' THEN "
			       "json_extract(value, '$.blob') END FROM json_each(?1)",
			       -1, &je, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(je, 1, json, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(je)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(je, 0);
		const char *type = (const char *)sqlite3_column_text(je, 2);
		int col = -1;
		for (int i = 0; key && i < tc->tc_ts.ts_ncol; i++)
			if (strcmp(tc->tc_ts.ts_cols[i], key) == 0)
				col = i;
		if (col < 0 || r->rw_v[col] != NULL)
			continue;
		if (type && strcmp(type, "object") == 0) {
			/* {"blob":"hex"} */
			const char *hx = (const char *)sqlite3_column_text(je, 3);
			size_t n = hx ? strlen(hx) / 2 : 0;
			unsigned char *bytes = malloc(n + 1);
			sqlite3_stmt *bs = NULL;
			if (bytes == NULL)
				goto out;
			for (size_t i = 0; i < n; i++) {
				int hi = crypto_hexval((unsigned char)hx[2 * i]);
				int lo = crypto_hexval((unsigned char)hx[2 * i + 1]);
				bytes[i] = hi < 0 || lo < 0 ? 0 : (unsigned char)(hi << 4 | lo);
			}
			if (sqlite3_prepare_v2(a->ax_db, "SELECT ?1", -1, &bs, NULL) == SQLITE_OK) {
				sqlite3_bind_blob(bs, 1, bytes, (int)n, SQLITE_TRANSIENT);
				if (sqlite3_step(bs) == SQLITE_ROW)
					r->rw_v[col] = sqlite3_value_dup(sqlite3_column_value(bs, 0));
			}
			sqlite3_finalize(bs);
			free(bytes);
		} else {
			r->rw_v[col] = sqlite3_value_dup(sqlite3_column_value(je, 1));
		}
		if (r->rw_v[col] == NULL)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		log_warnx("tombstone of '%s' %s is unreadable: %s", tc->tc_ts.ts_td->td_name, id,
			  sqlite3_errmsg(a->ax_db));
		ret = 0; /* treated as no tombstone */
		row_free(r);
		goto out;
	}
	for (int i = 0; i < r->rw_n; i++)
		if (r->rw_v[i] == NULL) {
			/* a column added since the delete: NULL */
			sqlite3_stmt *ns = NULL;
			if (sqlite3_prepare_v2(a->ax_db, "SELECT NULL", -1, &ns, NULL) == SQLITE_OK &&
			    sqlite3_step(ns) == SQLITE_ROW)
				r->rw_v[i] = sqlite3_value_dup(sqlite3_column_value(ns, 0));
			sqlite3_finalize(ns);
			if (r->rw_v[i] == NULL)
				goto out;
		}
	found = 1;
	ret = 1;
out:
	sqlite3_finalize(je);
	sqlite3_reset(a->ax_tomb_get);
	if (!found)
		row_free(r);
	return ret;
}

static int tomb_put(actx *a, tcache *tc, const char *id, sqlite3_value **v)
{
	buf j = BUF_INIT(SYNC_MAX_CHANGESET * 4);
	int rc = 0, ret;

	json_row(&j, &tc->tc_ts, v, &rc);
	if (rc != 0 || prep(a, &a->ax_tomb_put,
			    "INSERT OR REPLACE INTO tombstones(tbl, row_id, row_json, deleted_hlc) "
			    "VALUES(?1, ?2, ?3, ?4)") != 0) {
		buf_release(&j);
		return A_ERROR;
	}
	sqlite3_bind_text(a->ax_tomb_put, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_tomb_put, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ax_tomb_put, 3, j.data, (int)j.len, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ax_tomb_put, 4, a->ax_e->hlc, -1, SQLITE_TRANSIENT);
	ret = step_write(a, a->ax_tomb_put, "save tombstone");
	buf_release(&j);
	return ret;
}

static int tomb_del(actx *a, tcache *tc, const char *id)
{
	if (prep(a, &a->ax_tomb_del, "DELETE FROM tombstones WHERE tbl=?1 AND row_id=?2") != 0)
		return A_ERROR;
	sqlite3_bind_text(a->ax_tomb_del, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_tomb_del, 2, id, -1, SQLITE_TRANSIENT);
	return step_write(a, a->ax_tomb_del, "drop tombstone");
}

static int bind_row(sqlite3_stmt *st, const sync__tshape *ts, sqlite3_value **v)
{
	for (int i = 0; i < ts->ts_ncol; i++) {
		int rc = v[i] ? sqlite3_bind_value(st, i + 1, v[i]) : sqlite3_bind_null(st, i + 1);
		if (rc != SQLITE_OK)
			return rc;
	}
	return 0;
}

static int write_row(actx *a, tcache *tc, sqlite3_stmt *st, sqlite3_value **v, const char *what)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if ((rc = bind_row(st, &tc->tc_ts, v)) != 0)
		return (rc & 0xff) == SQLITE_NOMEM ? A_ERROR
						   : refuse(a, "%s: value cannot be stored", what);
	return step_write(a, st, what);
}

/* The change under validation, for sync_change_sets(). */
static _Thread_local const sync__tshape *val_ts;
static _Thread_local sqlite3_value **val_nv;

int sync_change_sets(const char *col)
{
	for (int i = 0; val_ts && val_nv && col && i < val_ts->ts_ncol; i++)
		if (strcmp(val_ts->ts_cols[i], col) == 0)
			return val_nv[i] != NULL;
	return 0;
}

/* The domain validator on the row with this id as it is now; nv: the
 * change's new values (NULL for a DELETE). */
static int validate(actx *a, tcache *tc, const char *id, int op, sqlite3_value **nv)
{
	char why[200] = "";
	cJSON *j = NULL;
	int rc, ret;

	if (row_validator == NULL)
		return A_OK;
	sqlite3_reset(tc->tc_sel);
	sqlite3_bind_text(tc->tc_sel, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(tc->tc_sel);
	if (rc == SQLITE_ROW)
		j = db_row_json(tc->tc_sel);
	sqlite3_reset(tc->tc_sel);
	if (j == NULL)
		return A_ERROR;
	val_ts = &tc->tc_ts;
	val_nv = nv;
	ret = row_validator(a->ax_db, tc->tc_ts.ts_td->td_name, op, j, why, sizeof why) == 0
		      ? A_OK
		      : refuse(a, "domain rule: %s", why[0] ? why : "row refused");
	val_ts = NULL;
	val_nv = NULL;
	cJSON_Delete(j);
	return ret;
}

/* 1 when SQLite cannot give one of the row's text values (out of memory).
 * Run before reading them: a value converted once stays converted. */
static int row_oom(const sync__tshape *ts, sqlite3_value **v)
{
	for (int i = 0; i < ts->ts_ncol; i++)
		if (val_type(v[i]) == SQLITE_TEXT && sqlite3_value_text(v[i]) == NULL)
			return 1;
	return 0;
}

/* May this node write a row with these values? */
static int scope_ok(actx *a, tcache *tc, sqlite3_value **v)
{
	const sync__tshape *ts = &tc->tc_ts;
	const sync_scope *sc = a->ax_sc;
	const char *office, *la;

	if (row_oom(ts, v))
		return A_ERROR; /* not the node's fault: it sends the entry again */
	sync__row_scope(ts, v, &office, &la);
	switch (ts->ts_td->td_scope) {
	case SCOPE_STATEWIDE:
		return A_OK;
	case SCOPE_OFFICE:
		if (office == NULL || sc->office_id == NULL || strcmp(office, sc->office_id) != 0)
			return refuse(a, "row of '%s' outside the node's office", ts->ts_td->td_name);
		if (la && (sc->local_area_id == NULL || strcmp(la, sc->local_area_id) != 0))
			return refuse(a, "row of '%s' outside the node's Local Area", ts->ts_td->td_name);
		return A_OK;
	case SCOPE_LOCAL_AREA:
		if (la == NULL || sc->local_area_id == NULL || strcmp(la, sc->local_area_id) != 0)
			return refuse(a, "row of '%s' outside the node's Local Area", ts->ts_td->td_name);
		return A_OK;
	case SCOPE_ROW:
		if (!sync__scope_holds(sc, office, la))
			return refuse(a, "row of '%s' outside the node's scope", ts->ts_td->td_name);
		return A_OK;
	default:
		return refuse(a, "table '%s' is not writable by nodes", ts->ts_td->td_name);
	}
}

/* One conflicts row.  column NULL = "*deleted*"; values as JSON text (NULL
 * pointers mean SQL NULL). */
static int conflict(actx *a, tcache *tc, sqlite3_value **merged, const char *id, const char *column,
		    const char *base, const char *local, const char *remote, int remote_won,
		    const char *local_hlc, const char *remote_hlc)
{
	char cid[UUID_STRLEN];
	const char *office, *la;
	const char *max_hlc;
	sqlite3_stmt *st;

	if (uuid7(cid) != 0)
		return A_ERROR;
	if (prep(a, &a->ax_conflict,
		 "INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, "
		 "remote_value, winner, local_hlc, remote_hlc, node_id, actor, origin_seq, created_at, "
		 "scope_office, scope_la, updated_hlc) "
		 "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)") != 0)
		return A_ERROR;
	st = a->ax_conflict;
	if (row_oom(&tc->tc_ts, merged))
		return A_ERROR;
	sync__row_scope(&tc->tc_ts, merged, &office, &la);
	max_hlc = local_hlc && remote_hlc ? (strcmp(local_hlc, remote_hlc) > 0 ? local_hlc : remote_hlc)
				      : (remote_hlc ? remote_hlc : a->ax_e->hlc);
	sqlite3_bind_text(st, 1, cid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, column ? column : "*deleted*", -1, SQLITE_TRANSIENT);
	db_bind_text(st, 5, base);
	db_bind_text(st, 6, local);
	db_bind_text(st, 7, remote);
	sqlite3_bind_text(st, 8, remote_won ? "remote" : "local", -1, SQLITE_STATIC);
	db_bind_text(st, 9, local_hlc);
	db_bind_text(st, 10, remote_hlc);
	sqlite3_bind_text(st, 11, a->ax_sc->node_id, -1, SQLITE_TRANSIENT);
	db_bind_text(st, 12, a->ax_e->actor);
	sqlite3_bind_int64(st, 13, a->ax_e->seq);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)hlc_wall_ms());
	db_bind_text(st, 15, office);
	db_bind_text(st, 16, la);
	db_bind_text(st, 17, max_hlc ? max_hlc : "");
	if (step_write(a, st, "record conflict") != A_OK)
		return A_ERROR;
	a->ax_res->conflicts++;
	return A_OK;
}

/* Conflict on a column: the three values as JSON text. */
static int conflict_col(actx *a, tcache *tc, sqlite3_value **merged, const char *id, int col,
			sqlite3_value *base, sqlite3_value *local, sqlite3_value *remote, int remote_won,
			const char *local_hlc, const char *remote_hlc)
{
	buf b = BUF_INIT(CHANGESET_MAX_VALUE * 4), l = BUF_INIT(CHANGESET_MAX_VALUE * 4),
	    r = BUF_INIT(CHANGESET_MAX_VALUE * 4);
	int rc = 0, ret = A_ERROR;

	json_value(&b, base, &rc);
	json_value(&l, local, &rc);
	json_value(&r, remote, &rc);
	if (rc == 0)
		ret = conflict(a, tc, merged, id, tc->tc_ts.ts_cols[col], b.data, l.data, r.data,
			       remote_won, local_hlc, remote_hlc);
	buf_release(&b);
	buf_release(&l);
	buf_release(&r);
	return ret;
}

/* Conflict of an edit with a delete: the surviving row as JSON on its side. */
static int conflict_deleted(actx *a, tcache *tc, sqlite3_value **kept, const char *id,
			    int remote_won, const char *local_hlc, const char *remote_hlc)
{
	buf j = BUF_INIT(SYNC_MAX_CHANGESET * 4);
	int rc = 0, ret = A_ERROR;

	json_row(&j, &tc->tc_ts, kept, &rc);
	if (rc == 0)
		ret = conflict(a, tc, kept, id, NULL, NULL, remote_won ? NULL : j.data,
			       remote_won ? j.data : NULL, remote_won, local_hlc, remote_hlc);
	buf_release(&j);
	return ret;
}

/* ---- column clocks -------------------------------------------------------------- */

/* The clock of column col of row id into out (empty when none).  A_OK or
 * A_ERROR. */
static int clock_get(actx *a, tcache *tc, const char *id, int col, char *out, size_t n)
{
	int rc;

	out[0] = '\0';
	if (prep(a, &a->ax_clk_get,
		 "SELECT hlc FROM col_clocks WHERE tbl=?1 AND row_id=?2 AND col=?3") != 0)
		return A_ERROR;
	sqlite3_bind_text(a->ax_clk_get, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_clk_get, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ax_clk_get, 3, tc->tc_ts.ts_cols[col], -1, SQLITE_STATIC);
	rc = sqlite3_step(a->ax_clk_get);
	if (rc == SQLITE_ROW && sqlite3_column_text(a->ax_clk_get, 0))
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(a->ax_clk_get, 0));
	sqlite3_reset(a->ax_clk_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("cannot read a column clock: %s", sqlite3_errmsg(a->ax_db));
		return A_ERROR;
	}
	return A_OK;
}

static int clock_put(actx *a, tcache *tc, const char *id, int col, const char *when)
{
	if (prep(a, &a->ax_clk_put,
		 "INSERT INTO col_clocks(tbl, row_id, col, hlc) VALUES(?1, ?2, ?3, ?4) "
		 "ON CONFLICT(tbl, row_id, col) DO UPDATE SET hlc=excluded.hlc "
		 "WHERE excluded.hlc > col_clocks.hlc") != 0)
		return A_ERROR;
	sqlite3_bind_text(a->ax_clk_put, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_clk_put, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ax_clk_put, 3, tc->tc_ts.ts_cols[col], -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_clk_put, 4, when, -1, SQLITE_TRANSIENT);
	return step_write(a, a->ax_clk_put, "record a column clock") == A_OK ? A_OK : A_ERROR;
}

/* ---- the three operations ---------------------------------------------------- */

static int op_insert(actx *a, tcache *tc, sqlite3_value **nv, const char *id)
{
	row cur = {0};
	int rc;

	for (int i = 0; i < tc->tc_ts.ts_ncol; i++)
		if (nv[i] == NULL)
			return refuse(a, "corrupt changeset (insert without a value)");
	if ((rc = scope_ok(a, tc, nv)) != A_OK)
		return rc;
	rc = row_load(a, tc, id, &cur);
	if (rc < 0)
		return A_ERROR;
	if (rc == 1) {
		int same = 1;
		for (int i = 0; i < tc->tc_ts.ts_ncol && same; i++)
			same = val_eq(cur.rw_v[i], nv[i]);
		row_free(&cur);
		return same ? A_OK : refuse(a, "duplicate key with different values in '%s'",
					    tc->tc_ts.ts_td->td_name);
	}
	if ((rc = write_row(a, tc, tc->tc_ins, nv, "insert")) != A_OK ||
	    (rc = tomb_del(a, tc, id)) != A_OK)
		return rc;
	return validate(a, tc, id, SQLITE_INSERT, nv);
}

static int op_delete(actx *a, tcache *tc, sqlite3_value **ov, const char *id)
{
	row cur = {0};
	int rc, same = 1;
	const char *lh;

	for (int i = 0; i < tc->tc_ts.ts_ncol; i++)
		if (ov[i] == NULL)
			return refuse(a, "corrupt changeset (delete without old values)");
	if ((rc = scope_ok(a, tc, ov)) != A_OK)
		return rc;
	rc = row_load(a, tc, id, &cur);
	if (rc <= 0)
		return rc < 0 ? A_ERROR : A_OK; /* already gone */
	if ((rc = scope_ok(a, tc, cur.rw_v)) != A_OK)
		goto out;
	for (int i = 0; i < tc->tc_ts.ts_ncol && same; i++)
		same = val_eq(cur.rw_v[i], ov[i]);
	if (!same) {
		/* Edited at the hub since the node saw it: the edit wins. */
		lh = tc->tc_ts.ts_hlc >= 0 ? val_text(cur.rw_v[tc->tc_ts.ts_hlc]) : NULL;
		rc = conflict_deleted(a, tc, cur.rw_v, id, 0, lh, a->ax_e->hlc);
		goto out;
	}
	if ((rc = validate(a, tc, id, SQLITE_DELETE, NULL)) != A_OK ||
	    (rc = tomb_put(a, tc, id, cur.rw_v)) != A_OK)
		goto out;
	sqlite3_reset(tc->tc_del);
	sqlite3_bind_text(tc->tc_del, 1, id, -1, SQLITE_TRANSIENT);
	rc = step_write(a, tc->tc_del, "delete");
out:
	row_free(&cur);
	return rc;
}

/*
 * One column of an update: base (the node's old value), remote (its new one)
 * against local (the hub's current value, merged[i] on entry), lh and rh the
 * row's local and remote HLCs.  The rules are those above; merged[i] and
 * *changed are updated when the remote value is taken, and a conflict row
 * records the losing side.  A_OK or an A_* error.
 */
static int merge_col(actx *a, tcache *tc, const char *id, int i, sqlite3_value *base,
		     sqlite3_value *remote, sqlite3_value **merged, const char *lh, const char *rh,
		     int *changed)
{
	const sync__tshape *ts = &tc->tc_ts;
	const table_def *td = ts->ts_td;
	sqlite3_value *local = merged[i];
	int final_block, remote_wins;

	if (base == NULL)
		return refuse(a, "corrupt changeset (update without an old value)");
	if (val_eq(local, remote))
		/* Nothing to change, but the value now stands for this newer
		 * write too: an older one must not undo it later. */
		return clock_put(a, tc, id, i, rh) != A_OK ? A_ERROR : A_OK;
	/* A final value (e.g. closed) is only left by a newer edit. */
	final_block = i == ts->ts_final && td->td_final_value && val_text(local) &&
		      strcmp(val_text(local), td->td_final_value) == 0 && strcmp(rh, lh) < 0;
	if (val_eq(local, base) && !final_block) {
		char ch[128];
		if (clock_get(a, tc, id, i, ch, sizeof ch) != A_OK)
			return A_ERROR;
		if (ch[0] == '\0' || strcmp(ch, rh) < 0) {
			merged[i] = remote;
			*changed = 1;
			return clock_put(a, tc, id, i, rh) != A_OK ? A_ERROR : A_OK;
		}
		/* Changed and changed back by newer writes: theirs stands. */
		return conflict_col(a, tc, merged, id, i, base, local, remote, 0,
				    strcmp(ch, lh) > 0 ? ch : lh, rh);
	}
	remote_wins = !final_block && strcmp(rh, lh) > 0;
	if (test_plant("wallclock"))
		remote_wins = !final_block; /* planted bug: the later arrival wins */
	if (remote_wins) {
		merged[i] = remote;
		*changed = 1;
		if (clock_put(a, tc, id, i, rh) != A_OK)
			return A_ERROR;
	}
	if (test_plant("noconflict"))
		return A_OK; /* planted bug: merged, never recorded */
	return conflict_col(a, tc, merged, id, i, base, local, remote, remote_wins, lh, rh);
}

static int op_update(actx *a, tcache *tc, sqlite3_value **ov, sqlite3_value **nv, const char *id)
{
	const sync__tshape *ts = &tc->tc_ts;
	const table_def *td = ts->ts_td;
	row cur = {0};
	sqlite3_value **merged = NULL;
	char tomb_hlc[128] = "";
	const char *lh, *rh;
	int rc, resurrect = 0, changed = 0;

	rc = row_load(a, tc, id, &cur);
	if (rc < 0)
		return A_ERROR;
	if (rc == 0) {
		rc = row_from_tombstone(a, tc, id, &cur, tomb_hlc, sizeof tomb_hlc);
		if (rc < 0)
			return A_ERROR;
		if (rc == 0)
			return refuse(a, "update of a missing row in '%s'", td->td_name);
		resurrect = 1;
	}
	if ((rc = scope_ok(a, tc, cur.rw_v)) != A_OK)
		goto out;
	merged = calloc((size_t)ts->ts_ncol, sizeof *merged);
	if (merged == NULL) {
		rc = A_ERROR;
		goto out;
	}
	for (int i = 0; i < ts->ts_ncol; i++)
		merged[i] = cur.rw_v[i];
	lh = ts->ts_hlc >= 0 ? val_text(cur.rw_v[ts->ts_hlc]) : NULL;
	if (lh == NULL)
		lh = "";
	rh = ts->ts_hlc >= 0 ? val_text(nv[ts->ts_hlc]) : NULL;
	if (rh == NULL)
		rh = a->ax_e->hlc;
	for (int i = 0; i < ts->ts_ncol; i++) {
		if (nv[i] == NULL || i == ts->ts_hlc)
			continue;
		if ((rc = merge_col(a, tc, id, i, ov[i], nv[i], merged, lh, rh, &changed)) != A_OK)
			goto out;
	}
	/* updated_hlc becomes max(local, remote). */
	if (ts->ts_hlc >= 0 && val_text(nv[ts->ts_hlc]) && strcmp(val_text(nv[ts->ts_hlc]), lh) > 0) {
		merged[ts->ts_hlc] = nv[ts->ts_hlc];
		changed = 1;
	}
	if ((rc = scope_ok(a, tc, merged)) != A_OK)
		goto out;
	if (resurrect) {
		/* An edit beats a delete: the row comes back with the edit. */
		if ((rc = write_row(a, tc, tc->tc_ins, merged, "restore row")) != A_OK ||
		    (rc = tomb_del(a, tc, id)) != A_OK ||
		    (rc = conflict_deleted(a, tc, merged, id, 1, tomb_hlc[0] ? tomb_hlc : NULL, rh)) !=
			    A_OK)
			goto out;
	} else if (changed) {
		if ((rc = write_row(a, tc, tc->tc_upd, merged, "update")) != A_OK)
			goto out;
	} else {
		rc = A_OK;
		goto out;
	}
	rc = validate(a, tc, id, SQLITE_UPDATE, nv);
out:
	free(merged);
	row_free(&cur);
	return rc;
}

/* ---- the passes ---------------------------------------------------------------- */

static int cs_text_ok(const cs_value *v)
{
	return v->cv_type == CSV_TEXT && v->cv_n > 0;
}

/* Pass 1: our own walk; nothing of SQLite's reader runs before it passes. */
static int prewalk(actx *a)
{
	cs_iter it;
	const char *err = NULL;
	tcache *tc = NULL;
	int rc, ret = A_OK;

	changeset_iter_init(&it, a->ax_e->changeset, a->ax_e->len);
	while ((rc = changeset_next(&it, &err)) == 1) {
		if (it.ci_new_table) {
			const table_def *td = schema_table(it.ci_table);
			snprintf(a->ax_tbl, sizeof a->ax_tbl, "%s", it.ci_table);
			if (it.ci_patchset) {
				ret = refuse(a, "patchsets are not accepted (no old values to merge)");
				goto out;
			}
			if (td == NULL) {
				ret = refuse(a, "unknown table '%.100s'", it.ci_table);
				goto out;
			}
			if (td->td_kind == TK_HUB_OWNED) {
				ret = refuse(a, "table '%s' is hub-owned", td->td_name);
				goto out;
			}
			if (td->td_scope == SCOPE_HUB_ONLY) {
				ret = refuse(a, "table '%s' is not writable by nodes", td->td_name);
				goto out;
			}
			tc = table_get(a, td);
			if (tc == NULL) {
				ret = A_ERROR;
				goto out;
			}
			if (it.ci_ncol != tc->tc_ts.ts_ncol) {
				ret = refuse(a, "table '%s' has %d columns, the changeset %d", td->td_name,
					     tc->tc_ts.ts_ncol, it.ci_ncol);
				goto out;
			}
			for (int i = 0; i < it.ci_ncol; i++)
				if ((it.ci_pk[i] != 0) != (tc->tc_ts.ts_pk[i] != 0)) {
					ret = refuse(a, "primary key of '%s' does not match", td->td_name);
					goto out;
				}
		}
		if (tc->tc_ts.ts_td->td_kind == TK_APPEND_ONLY && it.ci_op != SQLITE_INSERT) {
			ret = refuse(a, "append-only table '%s': rows are only inserted",
				     tc->tc_ts.ts_td->td_name);
			goto out;
		}
		if (!cs_text_ok(it.ci_op == SQLITE_INSERT ? &it.ci_new[tc->tc_ts.ts_id]
							  : &it.ci_old[tc->tc_ts.ts_id])) {
			ret = refuse(a, "primary key id of '%s' is not a non-empty text",
				     tc->tc_ts.ts_td->td_name);
			goto out;
		}
		/* A snapshot position carries an id (sync.h): ids are UUIDs, and
		 * one too long for a position would stop every snapshot there. */
		if ((it.ci_op == SQLITE_INSERT ? &it.ci_new[tc->tc_ts.ts_id]
					       : &it.ci_old[tc->tc_ts.ts_id])->cv_n > SYNC_SNAPSHOT_ID_MAX) {
			ret = refuse(a, "primary key id of '%s' is longer than %d bytes",
				     tc->tc_ts.ts_td->td_name, SYNC_SNAPSHOT_ID_MAX);
			goto out;
		}
		if (it.ci_op == SQLITE_UPDATE && it.ci_new[tc->tc_ts.ts_id].cv_type != CSV_UNDEFINED) {
			ret = refuse(a, "update changes the primary key of '%s'", tc->tc_ts.ts_td->td_name);
			goto out;
		}
	}
	if (rc < 0 && err && strcmp(err, "out of memory") == 0)
		ret = A_ERROR;
	else if (rc < 0)
		ret = refuse(a, "corrupt changeset (%s)", err ? err : "unreadable");
	else if (it.ci_nchanges == 0)
		ret = refuse(a, "empty changeset");
out:
	changeset_iter_release(&it);
	return ret;
}

/* Pass 2: SQLite's iterator over the bytes pass 1 accepted; validate and merge. */
static int apply_changes(actx *a)
{
	sqlite3_changeset_iter *it = NULL;
	sqlite3_value **ov = NULL, **nv = NULL;
	int rc, ret = A_OK, cap = 0;

	rc = sqlite3changeset_start_v2(&it, (int)a->ax_e->len, (void *)a->ax_e->changeset, 0);
	if (rc != SQLITE_OK)
		return refuse_rc(a, rc);
	while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
		const char *tname = NULL;
		const table_def *td;
		tcache *tc;
		int ncol = 0, op = 0, indirect = 0;
		const char *id;

		if (sqlite3changeset_op(it, &tname, &ncol, &op, &indirect) != SQLITE_OK ||
		    (td = schema_table(tname)) == NULL) {
			ret = refuse(a, "corrupt changeset (iterator disagrees with the walk)");
			goto out;
		}
		if ((tc = table_get(a, td)) == NULL) {
			ret = A_ERROR; /* pass 1 found the table: a statement failed */
			goto out;
		}
		if (ncol != tc->tc_ts.ts_ncol) {
			ret = refuse(a, "corrupt changeset (iterator disagrees with the walk)");
			goto out;
		}
		snprintf(a->ax_tbl, sizeof a->ax_tbl, "%s", td->td_name);
		if (ncol > cap) {
			sqlite3_value **o = realloc(ov, (size_t)ncol * sizeof *o);
			if (o == NULL) {
				ret = A_ERROR;
				goto out;
			}
			ov = o;
			o = realloc(nv, (size_t)ncol * sizeof *o);
			if (o == NULL) {
				ret = A_ERROR;
				goto out;
			}
			nv = o;
			cap = ncol;
		}
		for (int i = 0; i < ncol; i++) {
			ov[i] = nv[i] = NULL;
			if (op != SQLITE_INSERT && sqlite3changeset_old(it, i, &ov[i]) != SQLITE_OK)
				ov[i] = NULL;
			if (op != SQLITE_DELETE && sqlite3changeset_new(it, i, &nv[i]) != SQLITE_OK)
				nv[i] = NULL;
		}
		id = val_text(op == SQLITE_INSERT ? nv[tc->tc_ts.ts_id] : ov[tc->tc_ts.ts_id]);
		if (id == NULL || id[0] == '\0') {
			ret = refuse(a, "primary key id of '%s' is not a non-empty text", td->td_name);
			goto out;
		}
		switch (op) {
		case SQLITE_INSERT:
			ret = op_insert(a, tc, nv, id);
			break;
		case SQLITE_DELETE:
			ret = op_delete(a, tc, ov, id);
			break;
		case SQLITE_UPDATE:
			ret = op_update(a, tc, ov, nv, id);
			break;
		default:
			ret = refuse(a, "corrupt changeset (unknown operation)");
		}
		if (ret != A_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = refuse_rc(a, rc);
out:
	rc = sqlite3changeset_finalize(it);
	if (ret == A_OK && rc != SQLITE_OK)
		ret = refuse_rc(a, rc);
	free(ov);
	free(nv);
	return ret;
}

/* *st: a statement kept by the caller between calls (prepared on first use). */
static int set_origin(sqlite3 *db, sqlite3_stmt **st, const char *node_id)
{
	int ok;

	if (*st == NULL && db_prepare(db, st, "INSERT INTO sync_ctx(k, v) VALUES('origin', ?1) "
					      "ON CONFLICT(k) DO UPDATE SET v=excluded.v") != 0)
		return -1;
	sqlite3_reset(*st);
	db_bind_text(*st, 1, node_id);
	ok = sqlite3_step(*st) == SQLITE_DONE;
	sqlite3_reset(*st);
	return ok ? 0 : -1;
}

/* Statements and table shapes kept between the entries of one batch: every
 * entry would otherwise parse a dozen statements and read the table info of
 * each table it touches (most of the hub's time per entry, bench_sync). */
struct sync_apply_cache {
	sqlite3 *ac_db;
	tcache *ac_tc;
	int ac_ntc;
	sqlite3_stmt *ac_conflict, *ac_tomb_get, *ac_tomb_put, *ac_tomb_del, *ac_origin;
	sqlite3_stmt *ac_clk_get, *ac_clk_put;
};

sync_apply_cache *sync_apply_cache_new(sqlite3 *db)
{
	sync_apply_cache *c = calloc(1, sizeof *c);

	if (c != NULL)
		c->ac_db = db;
	return c;
}

void sync_apply_cache_free(sync_apply_cache *c)
{
	actx a;

	if (c == NULL)
		return;
	memset(&a, 0, sizeof a);
	a.ax_tc = c->ac_tc;
	a.ax_ntc = c->ac_ntc;
	a.ax_conflict = c->ac_conflict;
	a.ax_tomb_get = c->ac_tomb_get;
	a.ax_tomb_put = c->ac_tomb_put;
	a.ax_tomb_del = c->ac_tomb_del;
	a.ax_clk_get = c->ac_clk_get;
	a.ax_clk_put = c->ac_clk_put;
	actx_release(&a);
	sqlite3_finalize(c->ac_origin);
	free(c);
}

/* Hand the statements back to the cache, each reset (no read left open). */
static void cache_keep(sync_apply_cache *c, actx *a)
{
	for (int i = 0; i < a->ax_ntc; i++) {
		sqlite3_reset(a->ax_tc[i].tc_sel);
		sqlite3_reset(a->ax_tc[i].tc_ins);
		sqlite3_reset(a->ax_tc[i].tc_upd);
		sqlite3_reset(a->ax_tc[i].tc_del);
	}
	sqlite3_reset(a->ax_conflict);
	sqlite3_reset(a->ax_tomb_get);
	sqlite3_reset(a->ax_tomb_put);
	sqlite3_reset(a->ax_tomb_del);
	sqlite3_reset(a->ax_clk_get);
	sqlite3_reset(a->ax_clk_put);
	c->ac_tc = a->ax_tc;
	c->ac_ntc = a->ax_ntc;
	c->ac_conflict = a->ax_conflict;
	c->ac_tomb_get = a->ax_tomb_get;
	c->ac_tomb_put = a->ax_tomb_put;
	c->ac_tomb_del = a->ax_tomb_del;
	c->ac_clk_get = a->ax_clk_get;
	c->ac_clk_put = a->ax_clk_put;
}

static int quarantine(actx *a)
{
	sqlite3_stmt *st = NULL;
	char id[UUID_STRLEN];
	int ok;

	if (uuid7(id) != 0 ||
	    db_prepare(a->ax_db, &st,
		       "INSERT INTO quarantine(id, node_id, seq, tbl, reason, changeset, hlc, actor, "
		       "created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)") != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, a->ax_sc->node_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, a->ax_e->seq);
	db_bind_text(st, 4, a->ax_tbl[0] ? a->ax_tbl : NULL);
	sqlite3_bind_text(st, 5, a->ax_reason, -1, SQLITE_TRANSIENT);
	if (a->ax_e->changeset && a->ax_e->len <= SYNC_MAX_CHANGESET)
		sqlite3_bind_blob(st, 6, a->ax_e->changeset, (int)a->ax_e->len, SQLITE_STATIC);
	db_bind_text(st, 7, a->ax_e->hlc);
	db_bind_text(st, 8, a->ax_e->actor);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)hlc_wall_ms());
	ok = sqlite3_step(st) == SQLITE_DONE;
	if (!ok)
		log_warnx("cannot quarantine entry %lld of node %s: %s", (long long)a->ax_e->seq,
			  a->ax_sc->node_id, sqlite3_errmsg(a->ax_db));
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

int sync_hub_apply(sqlite3 *db, const sync_scope *sc, const sync_entry *e, sync_apply_result *res)
{
	return sync_hub_apply_cached(db, NULL, sc, e, res);
}

int sync_hub_apply_cached(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
			  const sync_entry *e, sync_apply_result *res)
{
	sqlite3_stmt *origin = NULL;
	actx a;
	int r, sp;

	memset(res, 0, sizeof *res);
	if (db == NULL || sc == NULL || sc->node_id == NULL || e == NULL || e->hlc == NULL)
		return -1;
	if (cache != NULL && cache->ac_db != db)
		return -1;
	memset(&a, 0, sizeof a);
	apply_oom = 0;
	a.ax_db = db;
	a.ax_sc = sc;
	a.ax_e = e;
	a.ax_res = res;
	if (cache != NULL) {
		a.ax_tc = cache->ac_tc;
		a.ax_ntc = cache->ac_ntc;
		a.ax_conflict = cache->ac_conflict;
		a.ax_tomb_get = cache->ac_tomb_get;
		a.ax_tomb_put = cache->ac_tomb_put;
		a.ax_tomb_del = cache->ac_tomb_del;
		a.ax_clk_get = cache->ac_clk_get;
		a.ax_clk_put = cache->ac_clk_put;
		origin = cache->ac_origin;
	}
	sp = db_exec(db, "SAVEPOINT sync_apply") == 0;
	if (!sp)
		r = A_ERROR;
	else if (e->changeset == NULL || e->len < 1 || e->len > SYNC_MAX_CHANGESET)
		r = refuse(&a, "changeset size out of range");
	else
		r = prewalk(&a);
	if (r == A_OK)
		r = set_origin(db, &origin, sc->node_id) == 0 ? apply_changes(&a) : A_ERROR;
	if (r == A_OK && set_origin(db, &origin, NULL) != 0)
		r = A_ERROR;
	if (cache != NULL) {
		cache_keep(cache, &a);
		cache->ac_origin = origin;
	} else {
		actx_release(&a);
		sqlite3_finalize(origin);
	}
	if (!sp)
		return -1;
	if (r == A_OK) {
		res->applied = 1;
		return db_exec(db, "RELEASE sync_apply") == 0 ? 0 : -1;
	}
	/* Nothing of a refused or failed entry stays. */
	if (db_exec(db, "ROLLBACK TO sync_apply") != 0) {
		db_exec(db, "RELEASE sync_apply");
		return -1;
	}
	res->applied = 0;
	res->conflicts = 0;
	if (r == A_ERROR) {
		db_exec(db, "RELEASE sync_apply");
		return -1;
	}
	snprintf(res->reason, sizeof res->reason, "%s", a.ax_reason);
	log_warnx("quarantined entry %lld of node %s: %s", (long long)e->seq, sc->node_id,
		  a.ax_reason);
	if (quarantine(&a) != 0) {
		db_exec(db, "RELEASE sync_apply");
		return -1;
	}
	return db_exec(db, "RELEASE sync_apply") == 0 ? 0 : -1;
}
