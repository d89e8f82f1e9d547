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
 * The node applies a page with one sqlite3changeset_apply_v2 call and no
 * session attached, so downloaded rows never enter its outbox, and moves its
 * cursor in the same transaction (the call takes no savepoint of its own: a
 * failure rolls the whole transaction back) - and only while the outbox is empty, so a pull
 * never overwrites a local edit the hub has not merged yet.
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

/* One scope's entries after the cursor, in seq order (see sync_hub_pull). */
#define PULL_ARM(where)                                                                    \
	"SELECT * FROM (SELECT seq, tbl, row_id FROM change_log" \
	" WHERE " where " AND seq > ?1 ORDER BY seq LIMIT ?4)"

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
	 * change_log_scope read from the cursor, merged by seq: every page
	 * reads at most 4 * max_rows entries.  (The one WHERE with ORs that
	 * this replaces made SQLite read and sort every entry after the cursor
	 * for every page: a backlog's pull cost grew with its square.) */
	if (db_prepare(db, &st,
		       "SELECT seq, tbl, row_id FROM ("
		       PULL_ARM("scope_office IS NULL AND scope_la IS NULL")
		       " UNION ALL " PULL_ARM("scope_office IS NULL AND scope_la = ?3")
		       " UNION ALL " PULL_ARM("scope_office = ?2 AND scope_la IS NULL")
		       " UNION ALL " PULL_ARM("scope_office = ?2 AND scope_la = ?3")
		       ") ORDER BY seq LIMIT ?4") != 0)
		goto out;
	sqlite3_bind_int64(st, 1, after);
	db_bind_text(st, 2, sc->office_id);
	db_bind_text(st, 3, sc->local_area_id);
	sqlite3_bind_int(st, 4, max_rows);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *tbl = (const char *)sqlite3_column_text(st, 1);
		const char *id = (const char *)sqlite3_column_text(st, 2);
		int t = tbl ? shapes_find(s, tbl) : -1;

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
			const char *id = (const char *)sqlite3_column_text(st, ts->ts_id);
			size_t mark = out->len, idlen = id ? strlen(id) : 0;
			int rc = 0, had_header = header;

			if (id == NULL)
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

/* The newest hybrid timestamp among a change's text values (updated_hlc
 * and the like) into max (HLC_STRLEN): the node's clock must pass every
 * stamp it has seen, or its next edit of a row pulled from an office whose
 * clock runs ahead would lose to the edit it follows (see seen_hlc_note()). */
static void hlc_max_of(const cs_iter *it, char *max)
{
	for (int i = 0; i < it->ci_ncol; i++) {
		const cs_value *v = &it->ci_new[i];
		char s[HLC_STRLEN];
		uint64_t ms;
		uint32_t count;
		const char *node;

		if (v->cv_type != CSV_TEXT || v->cv_n < 19 || v->cv_n >= sizeof s ||
		    v->cv_p[12] != '.' || v->cv_p[17] != '.')
			continue;
		memcpy(s, v->cv_p, v->cv_n);
		s[v->cv_n] = '\0';
		if (hlc_parse(s, &ms, &count, &node) == 0 && strcmp(s, max) > 0)
			memcpy(max, s, v->cv_n + 1);
	}
}

/* Keep the newest stamp a page brought (node_meta seen_hlc), in the page's
 * transaction; the node's clock observes it (node_sync.c).  0 or -1. */
static int seen_hlc_note(sqlite3 *db, const char *stamp)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (stamp[0] == '\0')
		return 0;
	if (db_prepare(db, &st, "INSERT INTO node_meta(key, value) VALUES('seen_hlc', ?1) "
				"ON CONFLICT(key) DO UPDATE SET value=max(value, excluded.value)") != 0)
		return -1;
	sqlite3_bind_text(st, 1, stamp, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

/* Walk a page from the network before SQLite's reader does; max gets the
 * newest hybrid timestamp in it ("" when none).  0 or -1. */
static int page_walk(const void *patchset, size_t len, char *max)
{
	cs_iter it;
	const char *err = NULL;
	int rc;

	max[0] = '\0';
	changeset_iter_init(&it, patchset, len);
	while ((rc = changeset_next(&it, &err)) == 1)
		hlc_max_of(&it, max);
	changeset_iter_release(&it);
	if (rc < 0) {
		log_warnx("pull: refusing a malformed page: %s", err ? err : "?");
		return -1;
	}
	return 0;
}

/*
 * A row this node cannot take (text that is not valid UTF-8, or a NUL: the
 * hub refuses such text now, but an older hub may hold some) must not stall
 * the office: the page is applied without those changes, each kept in the
 * node-local pull_set_aside (table, the raw change, why, when), shown by the
 * sync status and the log, and the pull goes on.  *out gets the page without
 * them, *naside how many were left out; aside[] points into the page.  0, or
 * -1 when the page is malformed in any other way (refused whole, as before).
 */
#define ASIDE_MAX 64
typedef struct aside_ent {
	char table[130];
	const unsigned char *p;
	size_t n;
} aside_ent;

static int page_filter(const void *page, size_t len, buf *out, aside_ent *aside, int *naside)
{
	cs_iter it;
	const char *err = NULL, *cur = NULL;
	int rc, put = 0;

	*naside = 0;
	changeset_iter_init(&it, page, len);
	it.ci_lenient = 1;
	while ((rc = changeset_next(&it, &err)) == 1) {
		if (it.ci_bad_text) {
			if (*naside >= ASIDE_MAX) {
				rc = -1;
				break;
			}
			snprintf(aside[*naside].table, sizeof aside[0].table, "%s", it.ci_table);
			aside[*naside].p = it.ci_change;
			aside[*naside].n = (size_t)(it.ci_p - it.ci_change);
			(*naside)++;
			continue;
		}
		if (cur != it.ci_table)
			changeset_put_table(out, it.ci_patchset, it.ci_table, it.ci_ncol, it.ci_pk, &put);
		cur = it.ci_table;
		if (put == 0 && buf_append(out, it.ci_change, (size_t)(it.ci_p - it.ci_change)) != 0)
			put = -1;
	}
	changeset_iter_release(&it);
	return rc == 0 && put == 0 ? 0 : -1;
}

static int aside_record(sqlite3 *db, const aside_ent *aside, int n)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (db_exec(db, "CREATE TABLE IF NOT EXISTS pull_set_aside(id INTEGER PRIMARY KEY,"
			" tbl TEXT NOT NULL, change BLOB NOT NULL, why TEXT NOT NULL,"
			" at INTEGER NOT NULL)") != 0 ||
	    db_prepare(db, &st, "INSERT INTO pull_set_aside(tbl, change, why, at)"
				" VALUES(?,?,'text value is not valid UTF-8 (or holds a NUL)',?)") != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, aside[i].table, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, aside[i].p, (int)aside[i].n, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)hlc_wall_ms());
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
		log_warnx("pull: a change of '%s' set aside: a text value is not valid UTF-8 (or "
			  "holds a NUL); the rest of the page is applied",
			  aside[i].table);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* A page (pull or snapshot) walked; one with rows the node cannot take is
 * replaced by *kept without them (*naside, aside[] as page_filter).  0 or
 * -1 (refused whole); *kept is the caller's to release either way. */
static int page_take(const void **page, size_t *len, buf *kept, aside_ent *aside, int *naside,
		     char *seen)
{
	*naside = 0;
	/* The hub is authenticated, but a page is still bytes from a network. */
	if (page_walk(*page, *len, seen) == 0)
		return 0;
	buf_init(kept, *len + 4096);
	if (page_filter(*page, *len, kept, aside, naside) != 0 || *naside == 0 ||
	    page_walk(kept->data, kept->len, seen) != 0)
		return -1;
	*page = kept->data;
	*len = kept->len;
	return 0;
}

/* BEGIN IMMEDIATE for a page, on an empty outbox only: 0 (in the
 * transaction), -2 while the outbox holds changes (push first), -1 on an
 * error (no transaction left open either way). */
static int page_begin(sqlite3 *db)
{
	int64_t pending;

	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	pending = db_int(db, "SELECT count(*) FROM outbox", -1);
	if (pending == 0)
		return 0;
	db_exec(db, "ROLLBACK");
	return pending > 0 ? -2 : -1;
}

/* Apply one page's patchset (len 0: nothing) inside the caller's
 * transaction; what names the kind of page in the log line.  0 or -1. */
static int page_apply(sqlite3 *db, const void *patchset, size_t len, const char *what)
{
	int rc;

	if (len == 0)
		return 0;
	rc = sqlite3changeset_apply_v2(db, (int)len, (void *)patchset, NULL, on_conflict, NULL,
				       NULL, NULL, SQLITE_CHANGESETAPPLY_NOSAVEPOINT);
	if (rc != SQLITE_OK) {
		log_warnx("%s: cannot apply page: %s", what, sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

/* The end of a page's transaction: COMMIT when ret is 0 (ret -1 when that
 * fails), else ROLLBACK; kept released either way.  Returns ret. */
static int page_end(sqlite3 *db, int ret, buf *kept)
{
	if (ret == 0) {
		FAULT_POINT("pull.apply");
		if (db_exec(db, "COMMIT") != 0)
			ret = -1;
	}
	if (ret != 0)
		db_exec(db, "ROLLBACK");
	buf_release(kept);
	return ret;
}

int sync_node_apply_pull(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor)
{
	int64_t snap;
	int ret = -1, naside = 0, began = -1;
	buf kept = BUF_INIT(0);
	aside_ent aside[ASIDE_MAX];
	char seen[HLC_STRLEN];

	if (len > 0 && patchset == NULL)
		return -1;
	if (len > (size_t)INT32_MAX)
		return -1;
	if (page_take(&patchset, &len, &kept, aside, &naside, seen) != 0 ||
	    (began = page_begin(db)) != 0) {
		buf_release(&kept);
		return began;
	}
	/* Half a snapshot is not a base to pull onto (sync.h, OVERVIEW). */
	snap = db_int(db, "SELECT count(*) FROM node_meta WHERE key='snapshot_seq'", -1);
	if (snap != 0) {
		ret = snap > 0 ? -3 : -1;
		goto out;
	}
	if (page_apply(db, patchset, len, "pull") != 0 ||
	    (naside > 0 && aside_record(db, aside, naside) != 0) ||
	    db_kv_set_i64(db, "node_meta", "sync_cursor", next_cursor) != 0 ||
	    db_kv_set_i64(db, "node_meta", "last_pull_ms", (int64_t)hlc_wall_ms()) != 0 ||
	    seen_hlc_note(db, seen) != 0)
		goto out;
	ret = 0;
out:
	return page_end(db, ret, &kept);
}

/* ---- node side: snapshot pages ---------------------------------------------------- */

#define SNAP_MAX_TABLES 128

typedef struct snap_tables {
	const table_def *tl_td[SNAP_MAX_TABLES];
	int tl_n;
} snap_tables;

static int snap_table_add(const table_def *td, void *arg)
{
	snap_tables *tl = arg;

	if (td->td_scope == SCOPE_HUB_ONLY)
		return 0;
	if (tl->tl_n >= SNAP_MAX_TABLES)
		return -1;
	tl->tl_td[tl->tl_n++] = td;
	return 0;
}

static int snap_table_index(const snap_tables *tl, const char *name)
{
	for (int i = 0; i < tl->tl_n; i++)
		if (strcmp(tl->tl_td[i]->td_name, name) == 0)
			return i;
	return -1;
}

/* Order of two positions of the walk: tables, then ids in BINARY order. */
static int pos_cmp(int ta, const void *ia, size_t la, int tb, const void *ib, size_t lb)
{
	int c;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	c = memcmp(ia, ib, la < lb ? la : lb);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return la < lb ? -1 : la > lb;
}

/* Every change of the page an INSERT of a table nodes hold, at a position
 * inside (from, end] and after the one before it.  0 or -1. */
static int snap_page_check(const snap_tables *tl, const void *patchset, size_t len, int tf,
			   const sync_snap_pos *from, int te, const sync_snap_pos *end)
{
	cs_iter it;
	const char *err = NULL, *why = NULL;
	const unsigned char *prev = NULL;
	size_t prev_len = 0;
	int rc, prev_t = -1;

	changeset_iter_init(&it, patchset, len);
	while ((rc = changeset_next(&it, &err)) == 1) {
		const cs_value *key = NULL;
		int t = snap_table_index(tl, it.ci_table);

		if (t < 0) {
			why = "a table nodes do not hold";
			break;
		}
		if (it.ci_op != SQLITE_INSERT || !it.ci_patchset) {
			why = "not a patchset INSERT";
			break;
		}
		for (int i = 0; i < it.ci_ncol && key == NULL; i++)
			if (it.ci_pk[i])
				key = &it.ci_new[i];
		if (key == NULL || key->cv_type != CSV_TEXT || key->cv_n == 0) {
			why = "a row without a text id";
			break;
		}
		if ((from && pos_cmp(t, key->cv_p, key->cv_n, tf, from->sp_id,
				     strlen(from->sp_id)) <= 0) ||
		    (end && pos_cmp(t, key->cv_p, key->cv_n, te, end->sp_id,
				    strlen(end->sp_id)) > 0) ||
		    (prev_t >= 0 && pos_cmp(t, key->cv_p, key->cv_n, prev_t, prev, prev_len) <= 0)) {
			why = "a row outside the page's range or out of order";
			break;
		}
		prev_t = t;
		prev = key->cv_p;
		prev_len = key->cv_n;
	}
	changeset_iter_release(&it);
	if (why == NULL && rc < 0)
		why = err ? err : "malformed";
	if (why != NULL) {
		log_warnx("snapshot: refusing a page: %s", why);
		return -1;
	}
	return 0;
}

/* Delete the rows held in the range (from, end] of the walk. 0 or -1. */
static int snap_delete_range(sqlite3 *db, const snap_tables *tl, int tf, const sync_snap_pos *from,
			     int te, const sync_snap_pos *end)
{
	int t0 = from ? tf : 0, t1 = end ? te : tl->tl_n - 1;

	for (int t = t0; t <= t1; t++) {
		const char *lo = from && t == tf ? from->sp_id : NULL;
		const char *hi = end && t == te ? end->sp_id : NULL;
		sqlite3_stmt *st = NULL;
		char *sql = sqlite3_mprintf("DELETE FROM \"%w\" WHERE 1%s%s", tl->tl_td[t]->td_name,
					    lo ? " AND \"id\" > ?1" : "", hi ? " AND \"id\" <= ?2" : "");
		int prc = sql ? db_prepare(db, &st, sql) : -1, ok;

		sqlite3_free(sql);
		if (prc != 0)
			return -1;
		if (lo)
			sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
		if (hi)
			sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
		if (!ok)
			log_warnx("snapshot: cannot clear '%s': %s", tl->tl_td[t]->td_name,
				  sqlite3_errmsg(db));
		sqlite3_finalize(st);
		if (!ok)
			return -1;
	}
	return 0;
}

int sync_node_snapshot_state(sqlite3 *db, int64_t *seq, sync_snap_pos *pos)
{
	char num[32], tbl[sizeof pos->sp_table + 1], id[SYNC_SNAPSHOT_ID_MAX + 2], *endp;
	long long v;
	int rc;

	*seq = -1;
	memset(pos, 0, sizeof *pos);
	rc = db_kv_get(db, "node_meta", "snapshot_seq", num, sizeof num);
	if (rc != DB_FOUND)
		return rc < 0 ? -1 : 0;
	if (db_kv_get(db, "node_meta", "snapshot_table", tbl, sizeof tbl) < 0 ||
	    db_kv_get(db, "node_meta", "snapshot_after", id, sizeof id) < 0)
		return -1;
	v = strtoll(num, &endp, 10);
	if (num[0] == '\0' || *endp != '\0' || v < 0 || sync_snap_pos_set(pos, tbl, id) != 0) {
		log_warnx("snapshot: the recorded snapshot position is damaged; starting afresh");
		memset(pos, 0, sizeof *pos);
		return 0;
	}
	*seq = v;
	return 1;
}

int sync_node_apply_snapshot(sqlite3 *db, const void *patchset, size_t len, int64_t seq,
			     const sync_snap_pos *from, const sync_snap_pos *end)
{
	snap_tables tl = {{0}, 0};
	sync_snap_pos cur;
	int64_t cur_seq;
	int tf = -1, te = -1, rc, ret = -1, naside = 0, began = -1;
	buf kept = BUF_INIT(0);
	aside_ent aside[ASIDE_MAX];
	char seen[HLC_STRLEN];

	if ((len > 0 && patchset == NULL) || len > (size_t)INT32_MAX || seq < 0)
		return -1;
	if (schema_foreach(snap_table_add, &tl) != 0 || tl.tl_n == 0)
		return -1;
	if ((from && (tf = snap_table_index(&tl, from->sp_table)) < 0) ||
	    (end && (te = snap_table_index(&tl, end->sp_table)) < 0)) {
		log_warnx("snapshot: refusing a page: its range names a table nodes do not hold");
		return -1;
	}
	if (from && end &&
	    pos_cmp(te, end->sp_id, strlen(end->sp_id), tf, from->sp_id, strlen(from->sp_id)) <= 0) {
		log_warnx("snapshot: refusing a page that does not move forward");
		return -1;
	}
	/* A row the node cannot take is set aside as in a pull page: one bad
	 * row never stops a first snapshot. */
	if (page_take(&patchset, &len, &kept, aside, &naside, seen) != 0 ||
	    snap_page_check(&tl, patchset, len, tf, from, te, end) != 0 ||
	    (began = page_begin(db)) != 0) {
		buf_release(&kept);
		return began;
	}
	if (from != NULL) {
		rc = sync_node_snapshot_state(db, &cur_seq, &cur);
		if (rc < 0)
			goto out;
		if (rc == 0 || cur_seq != seq || strcmp(cur.sp_table, from->sp_table) != 0 ||
		    strcmp(cur.sp_id, from->sp_id) != 0) {
			ret = -3;
			goto out;
		}
	}
	if (snap_delete_range(db, &tl, tf, from, te, end) != 0 || seen_hlc_note(db, seen) != 0 ||
	    (naside > 0 && aside_record(db, aside, naside) != 0))
		goto out;
	if (page_apply(db, patchset, len, "snapshot") != 0)
		goto out;
	if (end != NULL) {
		if (db_kv_set_i64(db, "node_meta", "snapshot_seq", seq) != 0 ||
		    db_kv_set(db, "node_meta", "snapshot_table", end->sp_table) != 0 ||
		    db_kv_set(db, "node_meta", "snapshot_after", end->sp_id) != 0 ||
		    db_kv_set(db, "node_meta", "sync_cursor", NULL) != 0)
			goto out;
	} else {
		if (db_kv_set(db, "node_meta", "snapshot_seq", NULL) != 0 ||
		    db_kv_set(db, "node_meta", "snapshot_table", NULL) != 0 ||
		    db_kv_set(db, "node_meta", "snapshot_after", NULL) != 0 ||
		    db_kv_set_i64(db, "node_meta", "sync_cursor", seq) != 0 ||
		    db_kv_set_i64(db, "node_meta", "last_pull_ms", (int64_t)hlc_wall_ms()) != 0)
			goto out;
	}
	ret = 0;
out:
	return page_end(db, ret, &kept);
}
