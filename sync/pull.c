/*
 * pull.c - pull pages and snapshots at the hub, and their application on the
 * office node.
 *
 * A page is state, not history: for every row named by the change log after
 * the node's cursor (and in its scope) the hub sends the row as it is NOW -
 * a patchset INSERT of every column when it exists and the node may hold it,
 * a DELETE by key when it is gone or has moved out of the node's scope.  So
 * a page applied twice changes nothing, and a row edited ten times since the
 * cursor travels once.  Tables are written in registry (dependency) order,
 * rows within a table in log order.
 *
 * The node applies a page with sqlite3changeset_apply_v2 and no session
 * attached, so downloaded rows never enter its outbox, and moves its cursor
 * in the same transaction - and only while the outbox is empty, so a pull
 * never overwrites a local edit the hub has not merged yet.
 */
#include "sync/sync.h"
#include "sync/changeset.h"
#include "model/schema.h"
#include "lib/fault.h"
#include "lib/hlc.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the registry's node-visible tables, in registry order ------------------ */

typedef struct shapes {
	sqlite3 *sh_db;
	sync__tshape *sh_ts;
	sqlite3_stmt **sh_sel; /* SELECT cols WHERE id=?1, prepared on first use */
	int sh_n;
} shapes;

static int shape_add(const table_def *td, void *arg)
{
	shapes *s = arg;
	sync__tshape *n;
	sqlite3_stmt **st;

	if (td->td_scope == SCOPE_HUB_ONLY)
		return 0;
	n = realloc(s->sh_ts, (size_t)(s->sh_n + 1) * sizeof *n);
	if (n == NULL)
		return -1;
	s->sh_ts = n;
	st = realloc(s->sh_sel, (size_t)(s->sh_n + 1) * sizeof *st);
	if (st == NULL)
		return -1;
	s->sh_sel = st;
	s->sh_sel[s->sh_n] = NULL;
	if (sync__tshape_load(s->sh_db, td, &s->sh_ts[s->sh_n]) != 0)
		return -1;
	s->sh_n++;
	return 0;
}

static void shapes_release(shapes *s)
{
	for (int i = 0; i < s->sh_n; i++) {
		sqlite3_finalize(s->sh_sel[i]);
		sync__tshape_release(&s->sh_ts[i]);
	}
	free(s->sh_ts);
	free(s->sh_sel);
	memset(s, 0, sizeof *s);
}

static int shapes_load(sqlite3 *db, shapes *s)
{
	memset(s, 0, sizeof *s);
	s->sh_db = db;
	if (schema_foreach(shape_add, s) != 0) {
		shapes_release(s);
		return -1;
	}
	return 0;
}

static int shapes_find(const shapes *s, const char *name)
{
	for (int i = 0; i < s->sh_n; i++)
		if (strcmp(s->sh_ts[i].ts_td->td_name, name) == 0)
			return i;
	return -1;
}

/* A read transaction of our own unless the caller holds one. */
static int read_begin(sqlite3 *db, int *mine)
{
	*mine = 0;
	if (!sqlite3_get_autocommit(db))
		return 0;
	if (db_exec(db, "BEGIN") != 0)
		return -1;
	*mine = 1;
	return 0;
}

static void read_end(sqlite3 *db, int mine)
{
	if (mine)
		db_exec(db, "COMMIT");
}

/* Emit the current row of st as a patchset INSERT (header first if needed). */
static void put_insert(buf *out, const sync__tshape *ts, sqlite3_stmt *st, int *header, int *rc)
{
	if (!*header) {
		changeset_put_table(out, 1, ts->ts_td->td_name, ts->ts_ncol, ts->ts_pk, rc);
		*header = 1;
	}
	changeset_put_op(out, SQLITE_INSERT, 0, rc);
	for (int i = 0; i < ts->ts_ncol; i++)
		changeset_put_value(out, sqlite3_column_value(st, i), rc);
}

/* A patchset DELETE carries the key columns only. */
static void put_delete(buf *out, const sync__tshape *ts, const char *id, int *header, int *rc)
{
	unsigned char len[9];
	int n = varint_put(len, strlen(id));

	if (!*header) {
		changeset_put_table(out, 1, ts->ts_td->td_name, ts->ts_ncol, ts->ts_pk, rc);
		*header = 1;
	}
	changeset_put_op(out, SQLITE_DELETE, 0, rc);
	for (int i = 0; i < ts->ts_ncol; i++) {
		if (ts->ts_pk[i] == 0)
			continue;
		if (i == ts->ts_id) {
			buf_put_u8(out, CSV_TEXT, rc);
			buf_put_bytes(out, len, (size_t)n, rc);
			buf_put_bytes(out, id, strlen(id), rc);
		} else {
			buf_put_u8(out, CSV_NULL, rc); /* no such tables: "id" is the only key */
		}
	}
}

/* Is the current row of st one the node may hold? */
static int row_held(const sync__tshape *ts, sqlite3_stmt *st, const sync_scope *sc)
{
	sqlite3_value *stack[64], **v = stack;
	const char *office, *la;
	int ok;

	if (sc == NULL)
		return 1;
	if (ts->ts_ncol > 64) {
		v = calloc((size_t)ts->ts_ncol, sizeof *v);
		if (v == NULL)
			return 0;
	}
	for (int i = 0; i < ts->ts_ncol; i++)
		v[i] = sqlite3_column_value(st, i);
	sync__row_scope(ts, v, &office, &la);
	ok = sync__scope_holds(sc, office, la);
	if (v != stack)
		free(v);
	return ok;
}

/* ---- pull pages ------------------------------------------------------------------ */

typedef struct lentry {
	int64_t le_seq;
	int le_tbl;      /* index into shapes */
	char *le_id;
	int le_dup;      /* a later entry names the same row */
} lentry;

static int cmp_row(const void *x, const void *y)
{
	const lentry *a = x, *b = y;
	int c;

	if (a->le_tbl != b->le_tbl)
		return a->le_tbl < b->le_tbl ? -1 : 1;
	c = strcmp(a->le_id, b->le_id);
	if (c)
		return c;
	return a->le_seq < b->le_seq ? -1 : a->le_seq > b->le_seq;
}

static int cmp_order(const void *x, const void *y)
{
	const lentry *a = x, *b = y;

	if (a->le_tbl != b->le_tbl)
		return a->le_tbl < b->le_tbl ? -1 : 1;
	return a->le_seq < b->le_seq ? -1 : a->le_seq > b->le_seq;
}

/* Encode the rows named by the first n entries of le (in seq order) into out.
 * 0, -1 error, -2 out is full. */
static int encode_page(shapes *s, const sync_scope *sc, const lentry *le, int n, buf *out)
{
	lentry *w = NULL;
	size_t start = out->len;
	int ret = -1, rc = 0, cur_tbl = -1, header = 0;

	if (n == 0)
		return 0;
	w = malloc((size_t)n * sizeof *w);
	if (w == NULL)
		return -1;
	memcpy(w, le, (size_t)n * sizeof *w);
	qsort(w, (size_t)n, sizeof *w, cmp_row);
	for (int i = 0; i + 1 < n; i++)
		w[i].le_dup = w[i].le_tbl == w[i + 1].le_tbl && strcmp(w[i].le_id, w[i + 1].le_id) == 0;
	qsort(w, (size_t)n, sizeof *w, cmp_order);
	for (int i = 0; i < n && rc == 0; i++) {
		const sync__tshape *ts;
		sqlite3_stmt **sel;
		int step;

		if (w[i].le_dup)
			continue;
		ts = &s->sh_ts[w[i].le_tbl];
		sel = &s->sh_sel[w[i].le_tbl];
		if (w[i].le_tbl != cur_tbl) {
			cur_tbl = w[i].le_tbl;
			header = 0;
		}
		if (*sel == NULL) {
			char *sql = sqlite3_mprintf("SELECT %s FROM \"%w\" WHERE \"id\"=?1", ts->ts_collist,
						    ts->ts_td->td_name);
			int prc = sql ? db_prepare(s->sh_db, sel, sql) : -1;
			sqlite3_free(sql);
			if (prc != 0)
				goto out;
		}
		sqlite3_reset(*sel);
		sqlite3_bind_text(*sel, 1, w[i].le_id, -1, SQLITE_STATIC);
		step = sqlite3_step(*sel);
		if (step == SQLITE_ROW && row_held(ts, *sel, sc))
			put_insert(out, ts, *sel, &header, &rc);
		else if (step == SQLITE_ROW || step == SQLITE_DONE)
			put_delete(out, ts, w[i].le_id, &header, &rc);
		else {
			log_warnx("pull: cannot read '%s': %s", ts->ts_td->td_name,
				  sqlite3_errmsg(s->sh_db));
			sqlite3_reset(*sel);
			goto out;
		}
		sqlite3_reset(*sel);
	}
	ret = rc == 0 ? 0 : -2;
out:
	if (ret != 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	free(w);
	return ret;
}

int sync_hub_pull(sqlite3 *db, const sync_scope *sc, int64_t after, int max_rows, buf *out,
		  int64_t *next, int64_t *head, int *more)
{
	shapes s = {0};
	sqlite3_stmt *st = NULL;
	lentry *le = NULL;
	int n = 0, scanned = 0, mine = 0, ret = -1, rc, k;
	int64_t last = after, end;

	*next = after;
	*head = 0;
	*more = 0;
	if (sc == NULL || after < 0 || out == NULL)
		return -1;
	if (max_rows < 1 || max_rows > SYNC_MAX_PULL_ROWS)
		max_rows = SYNC_MAX_PULL_ROWS;
	if (read_begin(db, &mine) != 0)
		return -1;
	if (shapes_load(db, &s) != 0)
		goto out;
	le = calloc((size_t)max_rows, sizeof *le);
	if (le == NULL)
		goto out;
	*head = sync__log_head(db);
	if (db_prepare(db, &st,
		       "SELECT seq, tbl, row_id FROM change_log WHERE seq > ?1"
		       " AND (scope_office IS NULL OR scope_office = ?2)"
		       " AND (scope_la IS NULL OR scope_la = ?3)"
		       " ORDER BY seq LIMIT ?4") != 0)
		goto out;
	sqlite3_bind_int64(st, 1, after);
	db_bind_text(st, 2, sc->office_id);
	db_bind_text(st, 3, sc->local_area_id);
	sqlite3_bind_int(st, 4, max_rows);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tbl = (const char *)sqlite3_column_text(st, 1);
		const char *id = (const char *)sqlite3_column_text(st, 2);
		int t = tbl ? shapes_find(&s, tbl) : -1;

		scanned++;
		last = sqlite3_column_int64(st, 0);
		if (t < 0 || id == NULL)
			continue; /* not (or no longer) replicated to nodes */
		le[n].le_seq = last;
		le[n].le_tbl = t;
		le[n].le_id = strdup(id);
		if (le[n].le_id == NULL)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		log_warnx("pull: cannot read the change log: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (scanned < max_rows) {
		/* Every in-scope entry up to the head is in this page: the cursor
		 * moves to the head, past the entries of other offices too. */
		end = *head > after ? *head : after;
	} else {
		end = last;
		*more = *head > last;
	}
	/* Too many bytes: keep the first half of the entries, and so on. */
	for (k = n;;) {
		rc = encode_page(&s, sc, le, k, out);
		if (rc == 0)
			break;
		if (rc == -1 || k <= 1) {
			if (rc == -2)
				log_warnx("pull: one row is larger than the page limit (%zu bytes)",
					  out->max);
			goto out;
		}
		k /= 2;
		end = le[k - 1].le_seq;
		*more = 1;
	}
	*next = end;
	ret = 0;
out:
	sqlite3_finalize(st);
	for (int i = 0; i < n; i++)
		free(le[i].le_id);
	free(le);
	shapes_release(&s);
	read_end(db, mine);
	return ret;
}

/* ---- snapshots ----------------------------------------------------------------- */

int sync_hub_snapshot(sqlite3 *db, const sync_scope *sc, buf *out, int64_t *seq)
{
	shapes s = {0};
	sqlite3_stmt *st = NULL;
	size_t start = out ? out->len : 0;
	int mine = 0, ret = -1, rc = 0, step = SQLITE_DONE;

	*seq = 0;
	if (out == NULL)
		return -1;
	if (read_begin(db, &mine) != 0)
		return -1;
	if (shapes_load(db, &s) != 0)
		goto out;
	*seq = sync__log_head(db);
	for (int t = 0; t < s.sh_n && rc == 0; t++) {
		const sync__tshape *ts = &s.sh_ts[t];
		char *sql = sqlite3_mprintf("SELECT %s FROM \"%w\" ORDER BY \"id\"", ts->ts_collist,
					    ts->ts_td->td_name);
		int header = 0, prc = sql ? db_prepare(db, &st, sql) : -1;

		sqlite3_free(sql);
		if (prc != 0)
			goto out;
		while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
			if (row_held(ts, st, sc))
				put_insert(out, ts, st, &header, &rc);
		if (rc == 0 && step != SQLITE_DONE) {
			log_warnx("snapshot: cannot read '%s': %s", ts->ts_td->td_name,
				  sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc != 0) {
		log_warnx("snapshot: larger than the limit (%zu bytes)", out->max);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret != 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	shapes_release(&s);
	read_end(db, mine);
	return ret;
}

/* ---- node side ------------------------------------------------------------------ */

static int on_conflict(void *ctx, int kind, sqlite3_changeset_iter *it)
{
	const char *tbl = "?";
	int ncol, op;

	(void)ctx;
	switch (kind) {
	case SQLITE_CHANGESET_DATA:
	case SQLITE_CHANGESET_CONFLICT:
		return SQLITE_CHANGESET_REPLACE; /* the hub's state wins */
	case SQLITE_CHANGESET_NOTFOUND:
		return SQLITE_CHANGESET_OMIT;    /* deleting what is already gone */
	default:
		sqlite3changeset_op(it, &tbl, &ncol, &op, NULL);
		log_warnx("pull: %s of a row in '%s' skipped (%s)",
			  op == SQLITE_DELETE ? "delete" : "write", tbl,
			  kind == SQLITE_CHANGESET_FOREIGN_KEY ? "foreign key" : "constraint");
		return SQLITE_CHANGESET_OMIT;
	}
}

static int meta_set(sqlite3 *db, const char *key, int64_t v)
{
	sqlite3_stmt *st = NULL;
	char num[32];
	int ok;

	if (db_prepare(db, &st, "INSERT INTO node_meta(key, value) VALUES(?1, ?2) "
				"ON CONFLICT(key) DO UPDATE SET value=excluded.value") != 0)
		return -1;
	snprintf(num, sizeof num, "%lld", (long long)v);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, num, -1, SQLITE_TRANSIENT);
	ok = sqlite3_step(st) == SQLITE_DONE;
	if (!ok)
		log_warnx("cannot store '%s': %s", key, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

int sync_node_apply_pull(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor)
{
	cs_iter it;
	const char *err = NULL;
	int64_t pending;
	int rc, ret = -1;

	if (len > 0 && patchset == NULL)
		return -1;
	if (len > (size_t)INT32_MAX)
		return -1;
	/* The hub is authenticated, but a page is still bytes from a network:
	 * walk it before SQLite's reader does. */
	changeset_iter_init(&it, patchset, len);
	while ((rc = changeset_next(&it, &err)) == 1)
		;
	changeset_iter_release(&it);
	if (rc < 0) {
		log_warnx("pull: refusing a malformed page: %s", err ? err : "?");
		return -1;
	}
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	pending = db_int(db, "SELECT count(*) FROM outbox", -1);
	if (pending != 0) {
		db_exec(db, "ROLLBACK");
		return pending > 0 ? -2 : -1;
	}
	if (len > 0) {
		rc = sqlite3changeset_apply_v2(db, (int)len, (void *)patchset, NULL, on_conflict, NULL,
					       NULL, NULL, 0);
		if (rc != SQLITE_OK) {
			log_warnx("pull: cannot apply page: %s", sqlite3_errstr(rc));
			goto out;
		}
	}
	if (meta_set(db, "sync_cursor", next_cursor) != 0 ||
	    meta_set(db, "last_pull_ms", (int64_t)hlc_wall_ms()) != 0)
		goto out;
	FAULT_POINT("pull.apply");
	if (db_exec(db, "COMMIT") != 0)
		goto out;
	return 0;
out:
	db_exec(db, "ROLLBACK");
	return ret;
}
