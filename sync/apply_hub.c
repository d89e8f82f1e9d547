/*
 * apply_hub.c - the hub's replication tables (change_log, quarantine,
 * tombstones, sync_ctx, col_clocks) and the change-log triggers on every
 * replicated table (sync.h, sync_hub_migrate()).  The triggers write the
 * change log in the same statement as the row, whichever path writes it:
 * the merge (apply.c), the grouped apply (apply_batch.c), the console.
 */
#include "sync/sync.h"
#include "sync/changeset.h"
#include "model/schema.h"
#include "lib/hlc.h"
#include "lib/log.h"

#include <stdio.h>
#include <string.h>

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
	/* 3: no query reads the change log by row (pulls read it by scope and
	 * seq); the index cost every logged row a third B-tree insert, a
	 * fifth of a push's hub CPU with the log's other index (bench_sync). */
	{"DROP INDEX IF EXISTS change_log_row;"},
	/* A conflict resolved in the console before its write stamped the
	 * column's clock (sync_hub_clock_stamp()): the clock from the
	 * resolution, so an office edit older than it, still on its way across
	 * the upgrade, does not win it.  Once, at the upgrade. */
	{"INSERT INTO col_clocks(tbl, row_id, col, hlc)"
	 " SELECT tbl, row_id, column_name, updated_hlc FROM conflicts"
	 " WHERE resolved_at IS NOT NULL AND column_name <> '*deleted*'"
	 "  AND updated_hlc <> '' AND json_valid(resolution)"
	 "  AND json_extract(resolution, '$.kept') IN ('base', 'hub', 'office')"
	 " ON CONFLICT(tbl, row_id, col) DO UPDATE SET hlc = excluded.hlc"
	 " WHERE excluded.hlc > col_clocks.hlc;"},
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

/* ---- the newest office stamp (sync_hub_stamp_note()) ------------------------- */

#define STAMP_KEY "max_hlc"

/* The first stamp text past every plausible one: the hex milliseconds one
 * more than HLC_MAX_AHEAD_MS ahead ("ms" sorts before "ms.count.node"). */
static void stamp_bound(char *out, size_t n)
{
	snprintf(out, n, "%012llx", (unsigned long long)(hlc_wall_ms() + HLC_MAX_AHEAD_MS + 1));
}

int sync_hub_stamp_note(sqlite3 *db, const char *stamp)
{
	char bound[32];

	stamp_bound(bound, sizeof bound);
	if (stamp == NULL || hlc_parse(stamp, NULL, NULL, NULL) != 0 || strcmp(stamp, bound) >= 0)
		return 0;
	/* once per push transaction: the statement cache's */
	return db_run_cached(db, "INSERT INTO sync_ctx(k, v) VALUES('" STAMP_KEY "', ?1)"
				 " ON CONFLICT(k) DO UPDATE SET v=excluded.v"
				 " WHERE coalesce(sync_ctx.v, '') < excluded.v", "t", stamp);
}

void sync_hub_stamp_observe(sqlite3 *db, hlc *clk)
{
	char mark[HLC_STRLEN + 8];

	if (db_text(db, "SELECT coalesce(v, '') FROM sync_ctx WHERE k=?1", STAMP_KEY, mark,
		    sizeof mark) == 0 && mark[0])
		hlc_observe(clk, mark);
}

typedef struct stamp_scan {
	sqlite3 *ss_db;
	char ss_bound[32];
	char ss_max[HLC_STRLEN];
} stamp_scan;

/* The newest plausible stamp of one table (its updated_hlc, if it has one)
 * into the scan's. */
static int stamp_scan_table(sqlite3 *db, const char *tbl, const char *col, stamp_scan *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_preparef(db, &st, "SELECT max(\"%w\") FROM \"%w\" WHERE \"%w\" < ?1", col, tbl,
			col) != 0)
		return -1;
	sqlite3_bind_text(st, 1, s->ss_bound, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT &&
	    strcmp((const char *)sqlite3_column_text(st, 0), s->ss_max) > 0)
		snprintf(s->ss_max, sizeof s->ss_max, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int stamp_scan_one(const table_def *td, void *arg)
{
	stamp_scan *s = arg;
	int64_t has = db_int_bound(s->ss_db, -1, "SELECT count(*) FROM pragma_table_info(?1)"
						  " WHERE name='updated_hlc'", "t", td->td_name);

	if (has < 0)
		return -1;
	return has ? stamp_scan_table(s->ss_db, td->td_name, "updated_hlc", s) : 0;
}

/* A hub from before the mark: set it from what the hub holds (once; a hub
 * with no rows marks '' so no start scans again). */
static int stamp_backfill(sqlite3 *db)
{
	stamp_scan s = {db, "", ""};
	int64_t have = db_int(db, "SELECT count(*) FROM sync_ctx WHERE k='" STAMP_KEY "'", -1);

	if (have != 0)
		return have < 0 ? -1 : 0;
	stamp_bound(s.ss_bound, sizeof s.ss_bound);
	if (schema_foreach(stamp_scan_one, &s) != 0 ||
	    stamp_scan_table(db, "col_clocks", "hlc", &s) != 0)
		return -1;
	return db_run(db, "INSERT INTO sync_ctx(k, v) VALUES('" STAMP_KEY "', ?1)", "t", s.ss_max);
}

int sync_hub_migrate(sqlite3 *db)
{
	if (DB_MIGRATE_ALL(db, "sync_hub", hub_migrations) != 0)
		return -1;
	/* Triggers are (re)checked at every start, so tables that modules add
	 * to the registry later get theirs. */
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (schema_foreach(make_triggers, db) != 0 || stamp_backfill(db) != 0 ||
	    db_exec(db, "UPDATE sync_ctx SET v=NULL WHERE k='origin'") != 0) {
		db_exec(db, "ROLLBACK");
		return -1;
	}
	return db_exec(db, "COMMIT");
}


int sync_hub_clock_stamp(sqlite3 *db, const char *tbl, const char *col, const char *where,
			 const char *arg, const char *stamp)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* The upsert of apply.c's clock_put(): a clock only moves forward. */
	if (db_preparef(db, &st,
			"INSERT INTO col_clocks(tbl, row_id, col, hlc) SELECT %Q, id, %Q, ?2 FROM \"%w\""
			" WHERE %s ON CONFLICT(tbl, row_id, col) DO UPDATE SET hlc=excluded.hlc"
			" WHERE excluded.hlc > col_clocks.hlc",
			tbl, col, tbl, where) != 0)
		return -1;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stamp, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("cannot stamp the column clocks of %s.%s: %s", tbl, col, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}
