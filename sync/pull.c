/*
 * pull.c - pull pages and snapshot pages as the hub builds them; the office
 * node applies them in pull_node.c.
 *
 * A page is state, not history: for every row named by the change log after
 * the node's cursor (and in its scope) the hub sends the row as it is NOW -
 * a patchset INSERT of every column when it exists and the node may hold it,
 * a DELETE by key when it is gone or has moved out of the node's scope.  So
 * a page applied twice changes nothing, and a row edited ten times since the
 * cursor travels once.  Tables are written in registry (dependency) order,
 * rows within a table in log order.
 *
 * The node applies a page with one sqlite3changeset_apply_v2 call and no
 * session attached, so downloaded rows never enter its outbox, and moves its
 * cursor in the same transaction (the call takes no savepoint of its own: a
 * failure rolls the whole transaction back) - and only while none of the
 * page's rows has a local edit in the outbox, so a pull never overwrites a
 * local edit the hub has not merged yet (pull_pending.c).
 *
 * A snapshot comes in pages too (sync.h, OVERVIEW): the hub walks the
 * node-visible tables in registry order and each by "id" from the position
 * the node names, a read transaction per page; the node replaces the rows it
 * holds in the range a page covers by the page's rows and records how far it
 * got, and takes the snapshot's seq as its cursor only with the last page.
 */
#include "sync/sync.h"
#include "sync/changeset.h"
#include "model/schema.h"
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

/* One scope's entries after the cursor, in seq order (see sync_hub_pull). */
#define PULL_ARM(where) "SELECT seq, tbl, row_id FROM change_log WHERE " where " AND seq > ?1"

struct sync_pull_cache {
	shapes pc_s;
};

sync_pull_cache *sync_pull_cache_new(sqlite3 *db)
{
	sync_pull_cache *c = calloc(1, sizeof *c);

	if (c != NULL && shapes_load(db, &c->pc_s) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

void sync_pull_cache_free(sync_pull_cache *c)
{
	if (c == NULL)
		return;
	shapes_release(&c->pc_s);
	free(c);
}

int sync_hub_pull(sqlite3 *db, const sync_scope *sc, int64_t after, int max_rows, buf *out,
		  int64_t *next, int64_t *head, int *more)
{
	return sync_hub_pull_cached(db, NULL, sc, after, max_rows, out, next, head, more);
}

int sync_hub_pull_cached(sqlite3 *db, sync_pull_cache *c, const sync_scope *sc, int64_t after,
			 int max_rows, buf *out, int64_t *next, int64_t *head, int *more)
{
	shapes local = {0}, *s = c ? &c->pc_s : &local;
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
	if (c == NULL && shapes_load(db, &local) != 0)
		goto out;
	if (c != NULL && c->pc_s.sh_db != db)
		goto out;
	le = calloc((size_t)max_rows, sizeof *le);
	if (le == NULL)
		goto out;
	*head = sync__log_head(db);
	/* The four scopes a node receives, each a range of the index
	 * change_log_scope read from the cursor, merged by seq as they are read
	 * (SQLite's MERGE of co-routines, which stops at the LIMIT): every page
	 * reads at most 4 * max_rows entries, none sorted.  (The one WHERE with
	 * ORs this replaced made SQLite read and sort every entry after the
	 * cursor for every page: a backlog's pull cost grew with its square;
	 * arms of their own LIMIT in subqueries sorted each arm again.) */
	if (db_prepare(db, &st,
		       PULL_ARM("scope_office IS NULL AND scope_la IS NULL")
		       " UNION ALL " PULL_ARM("scope_office IS NULL AND scope_la = ?3")
		       " UNION ALL " PULL_ARM("scope_office = ?2 AND scope_la IS NULL")
		       " UNION ALL " PULL_ARM("scope_office = ?2 AND scope_la = ?3")
		       " ORDER BY seq LIMIT ?4") != 0)
		goto out;
	sqlite3_bind_int64(st, 1, after);
	db_bind_text(st, 2, sc->office_id);
	db_bind_text(st, 3, sc->local_area_id);
	sqlite3_bind_int(st, 4, max_rows);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tbl = db_col(st, 1);
		const char *id = db_col(st, 2);
		int t;

		if (tbl == NULL || id == NULL) {
			rc = SQLITE_NOMEM; /* never an entry skipped: the cursor would pass it */
			break;
		}
		t = tbl[0] ? shapes_find(s, tbl) : -1;

		scanned++;
		last = sqlite3_column_int64(st, 0);
		if (t < 0 || sqlite3_column_type(st, 2) == SQLITE_NULL)
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
		rc = encode_page(s, sc, le, k, out);
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
	shapes_release(&local);
	read_end(db, mine);
	return ret;
}

/* ---- snapshots ----------------------------------------------------------------- */

/* A table nodes hold: replicated and not SCOPE_HUB_ONLY. */
static int node_table(const char *name)
{
	const table_def *td = schema_table(name);

	return td != NULL && td->td_scope != SCOPE_HUB_ONLY;
}

int sync_snap_pos_set(sync_snap_pos *p, const char *table, const char *id)
{
	size_t tl = table ? strlen(table) : 0, il = id ? strlen(id) : 0;

	memset(p, 0, sizeof *p);
	if (tl == 0 || tl >= sizeof p->sp_table || il == 0 || il > SYNC_SNAPSHOT_ID_MAX ||
	    !node_table(table))
		return -1;
	memcpy(p->sp_table, table, tl + 1);
	memcpy(p->sp_id, id, il + 1);
	return 0;
}

static void buf_cut(buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

int sync_hub_snapshot_page(sqlite3 *db, const sync_scope *sc, const sync_snap_pos *after,
			   int max_rows, size_t max_bytes, buf *out, sync_snap_pos *end,
			   int64_t *head, int *more)
{
	shapes s = {0};
	sqlite3_stmt *st = NULL;
	sync_snap_pos from;
	size_t start = out ? out->len : 0;
	int mine = 0, ret = -1, t0 = 0, rows = 0, scanned = 0, stop = 0, end_long = 0;
	const char *long_tbl = NULL;
	int bad = 0;

	if (after != NULL) {
		bad = sync_snap_pos_set(&from, after->sp_table, after->sp_id) != 0;
		after = &from; /* a copy: `end` may be the caller's `after` */
	}
	memset(end, 0, sizeof *end);
	*head = 0;
	*more = 0;
	if (out == NULL)
		return -1;
	if (bad)
		return -3;
	if (max_rows <= 0)
		max_rows = SYNC_SNAPSHOT_PAGE_ROWS;
	if (max_bytes == 0)
		max_bytes = SYNC_SNAPSHOT_PAGE_BYTES;
	if (read_begin(db, &mine) != 0)
		return -1;
	if (shapes_load(db, &s) != 0)
		goto out;
	*head = sync__log_head(db);
	if (after != NULL && (t0 = shapes_find(&s, after->sp_table)) < 0) {
		ret = -3;
		goto out;
	}
	for (int t = t0; t < s.sh_n && !stop; t++) {
		const sync__tshape *ts = &s.sh_ts[t];
		int from_here = after != NULL && t == t0, header = 0, step;
		char *sql = sqlite3_mprintf("SELECT %s FROM \"%w\"%s ORDER BY \"id\"", ts->ts_collist,
					    ts->ts_td->td_name, from_here ? " WHERE \"id\" > ?1" : "");
		int prc = sql ? db_prepare(db, &st, sql) : -1;

		sqlite3_free(sql);
		if (prc != 0)
			goto out;
		if (from_here)
			sqlite3_bind_text(st, 1, after->sp_id, -1, SQLITE_STATIC);
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			const char *id = db_col(st, ts->ts_id);
			size_t mark = out->len, idlen = id ? strlen(id) : 0;
			int rc = 0, had_header = header;

			if (id == NULL) {
				step = SQLITE_NOMEM; /* never a row left out of the snapshot */
				break;
			}
			if (sqlite3_column_type(st, ts->ts_id) == SQLITE_NULL)
				continue; /* "id" is NOT NULL (schema_check) */
			if (row_held(ts, st, sc)) {
				put_insert(out, ts, st, &header, &rc);
				if (rc != 0 || (rows > 0 && out->len - start > max_bytes)) {
					/* Left for the next page, which always takes it. */
					buf_cut(out, mark);
					header = had_header;
					if (rows == 0) {
						log_warnx("snapshot: a row of '%s' is larger than the "
							  "page limit (%zu bytes)",
							  ts->ts_td->td_name, out->max);
						goto out;
					}
					stop = 1;
					break;
				}
				rows++;
			}
			scanned++;
			/* The position covers every row up to this one. */
			end_long = idlen > SYNC_SNAPSHOT_ID_MAX;
			long_tbl = ts->ts_td->td_name;
			if (!end_long) {
				snprintf(end->sp_table, sizeof end->sp_table, "%s", ts->ts_td->td_name);
				memcpy(end->sp_id, id, idlen + 1);
			}
			if (rows >= max_rows || scanned >= SYNC_SNAPSHOT_SCAN_ROWS ||
			    out->len - start >= max_bytes) {
				stop = 1;
				break;
			}
		}
		if (!stop && step != SQLITE_DONE) {
			log_warnx("snapshot: cannot read '%s': %s", ts->ts_td->td_name,
				  sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (stop && end_long) {
		/* Nodes cannot push such ids (sync/apply.c); one written at the
		 * hub by hand cannot end a page. */
		log_warnx("snapshot: a row id of '%s' is longer than %d bytes: cannot page past it",
			  long_tbl, SYNC_SNAPSHOT_ID_MAX);
		goto out;
	}
	*more = stop;
	if (!stop)
		memset(end, 0, sizeof *end);
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret != 0) {
		buf_cut(out, start);
		memset(end, 0, sizeof *end);
		*more = 0;
	}
	shapes_release(&s);
	read_end(db, mine);
	return ret;
}
