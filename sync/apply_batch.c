/*
 * apply_batch.c - the entries of one push transaction at the hub in as few
 * sqlite3changeset_apply calls as the merge allows (sync.h,
 * sync_hub_apply_batch()).
 *
 * Most of a node's backlog is new rows: check-ins, notes, audit events,
 * each inserted once.  Such an entry needs no merge - there is nothing at
 * the hub to merge it with - so the entries of a batch that only insert
 * rows no earlier entry of the batch names are grouped into one changeset
 * (group(): a header per table and the changes' own bytes) and applied with
 * one sqlite3changeset_apply_v2 call.  Two groups, in this order: the
 * entries that insert a row of a table with triggers of its own (a lead:
 * its full-text index), applied with the triggers on (G_TRIG); then the
 * others, with the triggers off, the change log of their rows written
 * after the call (log_rows()) as the triggers would have (G_PLAIN) - so a
 * lead's notes in the second find it.  A group of fewer than
 * SYNC_BATCH_MIN_ROWS rows is not worth its call (batch_min_rows).  Every
 * other entry (an update, a delete, a row an earlier entry also names)
 * takes the column-wise merge of apply.c, one by one in seq order, after
 * the groups.
 *
 * The group keeps every check of the merge:
 *   - each entry is walked by our own reader first (sync__prewalk), and
 *     SQLite's iterator then checks the scope of every row it inserts;
 *   - a row that already exists (or breaks a constraint or a foreign key)
 *     stops the apply (SQLITE_CHANGESET_ABORT): the group is rolled back to
 *     its savepoint, the entry that named the row leaves the group for the
 *     merge (which accepts an identical row, or quarantines the entry), and
 *     the rest is grouped again;
 *   - tombstones of re-inserted rows are dropped, and the domain validator
 *     runs on every inserted row in entry order; a refusal rolls the group
 *     back the same way and leaves the refused entry to the merge, which
 *     refuses it again and quarantines it with the reason.  Such entries
 *     are first grouped again, once, where the first of a run of them
 *     comes in seq order (regroup()): a note on a lead that the batch
 *     makes in an entry merged after the group (with an edit of another
 *     record, say) is refused in the group and valid once the lead is in.
 * An entry that fails in any way is therefore applied or quarantined by the
 * same code as before, so nothing is lost silently.  What changes: the
 * group's rows are in the database before the validator sees any of them
 * (a row may refer to a row a later entry of the batch inserts, of the
 * group or of a regrouped run: an order no honest node sends, which one by
 * one would quarantine the earlier entry; a new lead's duplicate check
 * looks only at leads stored before it, model/crm.c), they are checked
 * before the merged entries of the batch (so an entry joins G_TRIG, whose
 * check writes duplicate flags, only before the first merged one), and
 * the change log lists the groups' rows before the merged ones.
 */
#include "sync/apply_int.h"
#include "model/schema.h"
#include "lib/hlc.h"
#include "lib/log.h"
#include "lib/varint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The two groups (bx_fast): entries that only insert rows of tables whose
 * only triggers are the change log's, and entries that insert a row of a
 * table with triggers of its own, tried first. */
enum { G_PLAIN = 1, G_TRIG = 2 };

/* After this many regroupings the rest of the batch takes the merge. */
#define BATCH_MAX_TRIES 8

/*
 * The fewest rows a group takes (sync_set_batch_min_rows()).  One
 * sqlite3changeset_apply_v2 call expires every prepared statement of the
 * connection (its PRAGMA defer_foreign_keys; turning the triggers off and
 * on does too), so the merge's, the validators' and the triggers' programs
 * are all prepared again at their next use: about a millisecond on the
 * hub's connection, the merge of some twenty entries.  A smaller group - a
 * push of a few check-ins, the notes of one lead regrouped - is merged
 * entry by entry, which costs less.
 */
static int batch_min_rows = SYNC_BATCH_MIN_ROWS;

void sync_set_batch_min_rows(int n)
{
	batch_min_rows = n > 0 ? n : 1;
}

typedef struct brow {
	const table_def *br_td;
	const unsigned char *br_id; /* borrowed from the entry's changeset */
	size_t br_idn;
	int br_entry;
	const char *br_office, *br_la; /* the row's scope (bx_scopes'; NULL statewide) */
	const cJSON *br_row;        /* the row as stored, for the validator (bx_json's; or NULL) */
	const unsigned char *br_chg; /* the change's bytes in the entry's changeset */
	size_t br_chgn;
} brow;

typedef struct bctx {
	actx *bx_a;
	const sync_entry *bx_e;
	int bx_n;
	char *bx_fast;           /* per entry: its group while in one (G_*), else 0 */
	int bx_cls;              /* the group being tried */
	char *bx_again;          /* per entry: refused by the validator in the group
				    (NULL: a regrouping, which marks none) */
	int *bx_first;           /* per entry: its first row in bx_rows */
	int *bx_conflicts;       /* per entry: the conflicts its rows' checks recorded in
				    the try of its group that holds (after_apply) */
	sync_apply_cache *bx_c;
	brow *bx_rows;           /* every change of the batch, in entry order */
	brow *bx_sorted;         /* the same by (table, id), to find a row */
	int bx_nrows, bx_cap;
	/* the row that stopped the apply (bx_hit 2: none named, a foreign key;
	 * 3: the validator's refusals, already out of the group) */
	int bx_hit;
	const table_def *bx_hit_td;
	sync__jarena *bx_json;   /* the rows' JSON (br_row) */
	/* the rows' scope strings, each kept once (a batch holds a few) */
	char **bx_scopes;
	int bx_nscopes;
	char bx_hit_id[SYNC_SNAPSHOT_ID_MAX + 1];
} bctx;

static int brow_cmp(const void *x, const void *y)
{
	const brow *a = x, *b = y;
	size_t n = a->br_idn < b->br_idn ? a->br_idn : b->br_idn;
	int c;

	if (a->br_td != b->br_td)
		return strcmp(a->br_td->td_name, b->br_td->td_name);
	c = memcmp(a->br_id, b->br_id, n);
	if (c)
		return c;
	return a->br_idn < b->br_idn ? -1 : a->br_idn > b->br_idn;
}

static int rows_add(bctx *b, const table_def *td, const cs_value *id, int entry)
{
	if (b->bx_nrows == b->bx_cap) {
		int cap = b->bx_cap ? 2 * b->bx_cap : 1024;
		brow *n = realloc(b->bx_rows, (size_t)cap * sizeof *n);
		if (n == NULL)
			return -1;
		b->bx_rows = n;
		b->bx_cap = cap;
	}
	b->bx_rows[b->bx_nrows].br_td = td;
	b->bx_rows[b->bx_nrows].br_id = id->cv_p;
	b->bx_rows[b->bx_nrows].br_idn = id->cv_n;
	b->bx_rows[b->bx_nrows].br_entry = entry;
	b->bx_rows[b->bx_nrows].br_office = NULL;
	b->bx_rows[b->bx_nrows].br_la = NULL;
	b->bx_rows[b->bx_nrows].br_row = NULL;
	b->bx_rows[b->bx_nrows].br_chg = NULL;
	b->bx_rows[b->bx_nrows].br_chgn = 0;
	b->bx_nrows++;
	return 0;
}

/* 1 when the table's only triggers are the change log's (outpost_log_*),
 * which the group writes itself; 0 when it has others (full-text indexes,
 * keys): its rows take the merge, where every trigger runs.  -1 error. */
static int plain_table(bctx *b, const table_def *td)
{
	sync_apply_cache *c = b->bx_c;
	sqlite3_stmt *st = NULL;
	int n;

	for (int k = 0; k < c->ac_nplain; k++)
		if (c->ac_plain[k] == td)
			return 1;
	for (int k = 0; k < c->ac_ntrig; k++)
		if (c->ac_trig[k] == td)
			return 0;
	if (db_prepare(b->bx_a->ax_db, &st,
		       "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND tbl_name=?1"
		       " AND substr(name, 1, 11) <> 'outpost_log'") != 0)
		return -1;
	sqlite3_bind_text(st, 1, td->td_name, -1, SQLITE_STATIC);
	n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (n < 0)
		return -1;
	if (n == 0 && c->ac_nplain < 64)
		c->ac_plain[c->ac_nplain++] = td;
	else if (n > 0 && c->ac_ntrig < 64)
		c->ac_trig[c->ac_ntrig++] = td;
	return n == 0;
}

/* classify()'s walk: what it learns of each change. */
typedef struct cwalk {
	bctx *cw_b;
	int cw_i;
	int cw_only_inserts;
	int cw_plain; /* every table's only triggers are the change log's */
} cwalk;

static int classify_change(void *arg, const cs_iter *it, tcache *tc)
{
	cwalk *w = arg;
	const table_def *td = tc->tc_ts.ts_td;
	int plain = plain_table(w->cw_b, td);

	if (plain < 0)
		return -1;
	if (it->ci_op != SQLITE_INSERT)
		w->cw_only_inserts = 0;
	if (!plain)
		w->cw_plain = 0;
	if (rows_add(w->cw_b, td,
		     it->ci_op == SQLITE_INSERT ? &it->ci_new[tc->tc_ts.ts_id]
						: &it->ci_old[tc->tc_ts.ts_id],
		     w->cw_i) != 0)
		return -1;
	/* (the walk stands after the change) */
	w->cw_b->bx_rows[w->cw_b->bx_nrows - 1].br_chg = it->ci_change;
	w->cw_b->bx_rows[w->cw_b->bx_nrows - 1].br_chgn = (size_t)(it->ci_p - it->ci_change);
	return 0;
}

/*
 * Entry i: our own walk (refused entries take the merge, which refuses them
 * again and quarantines them), collecting its rows into the batch's list on
 * the way; it may join the group when every change is an INSERT.  0, or -1
 * (our failure).
 */
static int classify(bctx *b, int i)
{
	actx *a = b->bx_a;
	cwalk w = {b, i, 1, 1};
	int rc;

	a->ax_e = &b->bx_e[i];
	b->bx_fast[i] = 0;
	b->bx_first[i] = b->bx_nrows;
	rc = sync__prewalk_each(a, classify_change, &w);
	if (rc == A_ERROR)
		return -1;
	sync__apply_oom = 0;
	if (rc == A_REFUSE) {
		/* (The rows it listed before the refusal go.) */
		b->bx_nrows = b->bx_first[i];
		return 0;
	}
	b->bx_fast[i] = (char)(!w.cw_only_inserts ? 0 : w.cw_plain ? G_PLAIN : G_TRIG);
	return 0;
}

/*
 * A row named by two entries takes the merge, in order, from the second
 * on: the first, which inserts it, may stay in the group (applied before
 * every merged entry, so before them all in seq order too).  A lead made,
 * then edited, with notes on it in between - a day's backlog - keeps the
 * lead and its notes in the group, where the notes' check finds the lead
 * (model/crm.c, need_employer); with the lead merged after the group each
 * note was refused there and left it.  A row named twice by one entry
 * takes the merge with all of them.
 */
static int mark_shared(bctx *b)
{
	if (b->bx_nrows == 0)
		return 0;
	b->bx_sorted = malloc((size_t)b->bx_nrows * sizeof *b->bx_sorted);
	if (b->bx_sorted == NULL)
		return -1;
	memcpy(b->bx_sorted, b->bx_rows, (size_t)b->bx_nrows * sizeof *b->bx_sorted);
	qsort(b->bx_sorted, (size_t)b->bx_nrows, sizeof *b->bx_sorted, brow_cmp);
	for (int k = 0, j; k < b->bx_nrows; k = j) {
		int first, twice = 0;

		for (j = k + 1; j < b->bx_nrows && brow_cmp(&b->bx_sorted[k], &b->bx_sorted[j]) == 0; j++)
			;
		if (j - k == 1)
			continue;
		first = b->bx_sorted[k].br_entry;
		for (int q = k + 1; q < j; q++)
			if (b->bx_sorted[q].br_entry < first)
				first = b->bx_sorted[q].br_entry;
		for (int q = k; q < j; q++) {
			if (b->bx_sorted[q].br_entry == first)
				twice += 1;
			else
				b->bx_fast[b->bx_sorted[q].br_entry] = 0;
		}
		if (twice > 1)
			b->bx_fast[first] = 0;
	}
	return 0;
}

/* s as one of the batch's scope strings (NULL: out of memory).  The rows
 * passed the scope check, so they name the node's office and Local Area:
 * the list stays short. */
static const char *scope_str(bctx *b, const char *s)
{
	char **n;

	for (int i = b->bx_nscopes - 1; i >= 0; i--)
		if (strcmp(b->bx_scopes[i], s) == 0)
			return b->bx_scopes[i];
	n = realloc(b->bx_scopes, (size_t)(b->bx_nscopes + 1) * sizeof *n);
	if (n == NULL)
		return NULL;
	b->bx_scopes = n;
	if ((n[b->bx_nscopes] = strdup(s)) == NULL)
		return NULL;
	return n[b->bx_nscopes++];
}

/* Row k (of entry i, ncol values v) as the log will name it: its id must be
 * the one our walk read, its scope is copied for the log, and the row it
 * stores kept for the validator (which then need not read it back).  A_*. */
static int keep_scope(bctx *b, int k, int i, tcache *tc, sqlite3_value **v, int ncol)
{
	brow *r = &b->bx_rows[k];
	sqlite3_value *id = v[tc->tc_ts.ts_id];
	const char *office, *la;

	if (k >= b->bx_nrows || r->br_entry != i || r->br_td != tc->tc_ts.ts_td ||
	    sqlite3_value_type(id) != SQLITE_TEXT || sqlite3_value_text(id) == NULL ||
	    (size_t)sqlite3_value_bytes(id) != r->br_idn ||
	    memcmp(sqlite3_value_text(id), r->br_id, r->br_idn) != 0)
		return A_REFUSE; /* the two readers disagree: the merge decides */
	sync__row_scope(&tc->tc_ts, v, &office, &la);
	if ((office && (r->br_office = scope_str(b, office)) == NULL) ||
	    (la && (r->br_la = scope_str(b, la)) == NULL))
		return A_ERROR;
	if (sync__row_validator != NULL)
		r->br_row = sync__insert_json(&b->bx_json, &tc->tc_ts, v, ncol); /* (NULL: read it) */
	return A_OK;
}

/* Scope of every row entry i inserts, read by SQLite's iterator as the
 * apply will.  A_OK, A_REFUSE (the entry leaves the group) or A_ERROR. */
static int scope_check(bctx *b, int i)
{
	actx *a = b->bx_a;
	sqlite3_changeset_iter *it = NULL;
	sqlite3_value *nv[256];
	int rc = SQLITE_DONE, ret = A_OK, k = b->bx_first[i];

	a->ax_e = &b->bx_e[i];
	if (sqlite3changeset_start(&it, (int)a->ax_e->len, (void *)a->ax_e->changeset) != SQLITE_OK)
		return A_REFUSE;
	while (ret == A_OK && (rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
		const char *tname = NULL;
		const table_def *td;
		tcache *tc;
		int ncol = 0, op = 0;

		if (sqlite3changeset_op(it, &tname, &ncol, &op, NULL) != SQLITE_OK ||
		    op != SQLITE_INSERT || (td = schema_table(tname)) == NULL ||
		    ncol > (int)(sizeof nv / sizeof nv[0])) {
			ret = A_REFUSE;
			break;
		}
		if ((tc = sync__table_get(a, td)) == NULL) {
			ret = A_ERROR;
			break;
		}
		for (int c = 0; c < ncol && ret == A_OK; c++)
			if (sqlite3changeset_new(it, c, &nv[c]) != SQLITE_OK || nv[c] == NULL)
				ret = A_REFUSE; /* an insert without a value */
		if (ret == A_OK)
			ret = sync__scope_ok_keys(a, tc, nv);
		if (ret == A_OK)
			ret = keep_scope(b, k++, i, tc, nv, ncol);
	}
	if (ret == A_OK && rc != SQLITE_DONE)
		ret = (rc & 0xff) == SQLITE_NOMEM ? A_ERROR : A_REFUSE;
	sqlite3changeset_finalize(it);
	sync__apply_oom = 0;
	return ret;
}

static int on_conflict(void *ctx, int kind, sqlite3_changeset_iter *it)
{
	bctx *b = ctx;
	const char *tname = NULL;
	const table_def *td;
	sqlite3_value *v = NULL;
	int ncol = 0, op = 0;

	b->bx_hit = 2;
	if (kind == SQLITE_CHANGESET_FOREIGN_KEY ||
	    sqlite3changeset_op(it, &tname, &ncol, &op, NULL) != SQLITE_OK ||
	    (td = schema_table(tname)) == NULL)
		return SQLITE_CHANGESET_ABORT;
	for (int i = 0; i < b->bx_a->ax_ntc; i++) {
		const sync__tshape *ts = &b->bx_a->ax_tc[i].tc_ts;
		if (ts->ts_td == td && sqlite3changeset_new(it, ts->ts_id, &v) == SQLITE_OK && v &&
		    sqlite3_value_type(v) == SQLITE_TEXT && sqlite3_value_text(v) != NULL &&
		    sqlite3_value_bytes(v) <= SYNC_SNAPSHOT_ID_MAX) {
			snprintf(b->bx_hit_id, sizeof b->bx_hit_id, "%s",
				 (const char *)sqlite3_value_text(v));
			b->bx_hit_td = td;
			b->bx_hit = 1;
		}
	}
	return SQLITE_CHANGESET_ABORT;
}

/* Every entry of the group being tried leaves it, for the merge. */
static void leave_group(bctx *b)
{
	for (int i = 0; i < b->bx_n; i++)
		if (b->bx_fast[i] == b->bx_cls)
			b->bx_fast[i] = 0;
}

/* The entry that named the row that stopped the apply leaves the group
 * (every entry, when the row is not known). */
static void drop_hit(bctx *b)
{
	brow key = {.br_td = b->bx_hit_td,
		    .br_id = (const unsigned char *)b->bx_hit_id,
		    .br_idn = strlen(b->bx_hit_id)};
	brow *f = NULL;

	if (b->bx_hit == 3) /* after_apply() has taken them out */
		return;
	if (b->bx_hit == 1 && b->bx_sorted != NULL)
		f = bsearch(&key, b->bx_sorted, (size_t)b->bx_nrows, sizeof key, brow_cmp);
	if (f != NULL && b->bx_fast[f->br_entry] == b->bx_cls) {
		b->bx_fast[f->br_entry] = 0;
		return;
	}
	leave_group(b);
}

/* The group's changesets as one changeset in out (free()); *n 0 when the
 * group is empty.  Every change of the group is an INSERT of a row no other
 * change names, of a table whose header our walk checked against the hub's
 * table (sync__prewalk: its columns and key), so the grouped changeset is a
 * header per table followed by the changes' own bytes, in entry order - what
 * sqlite3changegroup would make of them, without its hash tables.  0 or -1. */
static int group(bctx *b, void **out, int *n)
{
	buf cs = BUF_INIT(INT32_MAX);
	char *done = calloc((size_t)b->bx_nrows + 1, 1);
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (done == NULL)
		return -1;
	for (int k = 0; k < b->bx_nrows; k++) {
		const table_def *td = b->bx_rows[k].br_td;
		tcache *tc;
		unsigned char v[9];

		if (done[k] || b->bx_fast[b->bx_rows[k].br_entry] != b->bx_cls)
			continue;
		if ((tc = sync__table_get(b->bx_a, td)) == NULL ||
		    buf_append(&cs, "T", 1) != 0 ||
		    buf_append(&cs, v, (size_t)varint_put(v, (uint64_t)tc->tc_ts.ts_ncol)) != 0)
			goto out;
		for (int c = 0; c < tc->tc_ts.ts_ncol; c++)
			if (buf_append(&cs, &tc->tc_ts.ts_pk[c], 1) != 0)
				goto out;
		if (buf_append(&cs, td->td_name, strlen(td->td_name) + 1) != 0)
			goto out;
		for (int q = k; q < b->bx_nrows; q++) {
			const brow *r = &b->bx_rows[q];
			if (r->br_td != td || done[q] || b->bx_fast[r->br_entry] != b->bx_cls)
				continue;
			if (r->br_chg == NULL || buf_append(&cs, r->br_chg, r->br_chgn) != 0)
				goto out;
			done[q] = 1;
		}
	}
	if (cs.len > INT32_MAX)
		goto out;
	*n = (int)cs.len;
	*out = buf_detach(&cs, NULL);
	ret = *n > 0 && *out == NULL ? -1 : 0;
out:
	buf_release(&cs);
	free(done);
	return ret;
}

/* After the group's apply, inside its savepoint: tombstones of the rows
 * dropped, then the validator on every row in entry order.  A_OK,
 * A_REFUSE (every refused entry has left the group: b->bx_hit 3) or
 * A_ERROR.  All at once, not one a try: notes of a lead that a later
 * entry edits (so the merge applies the lead after the group) are each
 * refused here, and one a try would spend BATCH_MAX_TRIES on them and then
 * send the whole batch one by one. */
static int after_apply(bctx *b)
{
	actx *a = b->bx_a;
	int tombs = (int)db_int(a->ax_db, "SELECT EXISTS(SELECT 1 FROM tombstones)", -1);
	int refused = 0;
	char id[SYNC_SNAPSHOT_ID_MAX + 1];

	/* A try rolled back took its conflicts rows with it: only the try
	 * that holds counts them (each entry's, for its result). */
	for (int i = 0; i < b->bx_n; i++)
		if (b->bx_fast[i] == b->bx_cls)
			b->bx_conflicts[i] = 0;
	if (tombs < 0)
		return A_ERROR;
	if (!tombs && sync__row_validator == NULL)
		return A_OK;
	for (int k = 0; k < b->bx_nrows; k++) {
		const brow *r = &b->bx_rows[k];
		tcache *tc;
		int rc;

		if (b->bx_fast[r->br_entry] != b->bx_cls)
			continue;
		if ((tc = sync__table_get(a, r->br_td)) == NULL)
			return A_ERROR;
		memcpy(id, r->br_id, r->br_idn);
		id[r->br_idn] = '\0';
		a->ax_e = &b->bx_e[r->br_entry];
		a->ax_res->conflicts = 0;
		if ((tombs && (rc = sync__tomb_del(a, tc, id)) != A_OK) ||
		    (rc = r->br_row ? sync__validate_json(a, tc, r->br_row, SQLITE_INSERT, NULL)
				    : sync__validate(a, tc, id, SQLITE_INSERT, NULL, NULL)) != A_OK) {
			sync__apply_oom = 0;
			if (rc != A_REFUSE)
				return rc;
			b->bx_fast[r->br_entry] = 0; /* the merge refuses it again, or applies it */
			if (b->bx_again != NULL)
				b->bx_again[r->br_entry] = 1;
			refused = 1;
		}
		b->bx_conflicts[r->br_entry] += a->ax_res->conflicts;
	}
	if (refused) {
		b->bx_hit = 3;
		return A_REFUSE;
	}
	return A_OK;
}

/* Rows of the change log one INSERT writes (an AUTOINCREMENT table: each
 * statement also reads and writes sqlite_sequence). */
#define LOG_ROWS_PER_STMT 64

/* INSERT of n change-log rows (?1 origin, ?2 time, then 4 per row). */
static int log_prepare(sqlite3 *db, int n, sqlite3_stmt **st)
{
	buf sql = BUF_INIT(256 + 32 * LOG_ROWS_PER_STMT);
	int rc = buf_printf(&sql, "INSERT INTO change_log(tbl, row_id, op, scope_office, scope_la,"
				  " origin, at) VALUES");

	for (int i = 0; i < n && rc == 0; i++)
		rc = buf_printf(&sql, "%s(?%d, ?%d, 1, ?%d, ?%d, ?1, ?2)", i ? "," : "", 3 + 4 * i,
				4 + 4 * i, 5 + 4 * i, 6 + 4 * i);
	if (rc == 0)
		rc = db_prepare(db, st, sql.data);
	buf_release(&sql);
	return rc;
}

/* The change log of the group's rows, as the triggers would have written
 * it (apply_hub.c), in entry order: LOG_ROWS_PER_STMT rows a statement,
 * the rest one by one, on statements the cache keeps.  0 or -1. */
static int log_rows(bctx *b, sync_apply_cache *c)
{
	sqlite3 *db = b->bx_a->ax_db;
	sqlite3_stmt *st = NULL;
	int64_t now = (int64_t)hlc_wall_ms();
	int k = 0, n = 0, left = 0;

	if ((c->ac_log == NULL && log_prepare(db, LOG_ROWS_PER_STMT, &c->ac_log) != 0) ||
	    (c->ac_log1 == NULL && log_prepare(db, 1, &c->ac_log1) != 0))
		return -1;
	for (int q = 0; q < b->bx_nrows; q++)
		left += b->bx_fast[b->bx_rows[q].br_entry] == G_PLAIN;
	while (k < b->bx_nrows) {
		const brow *r = &b->bx_rows[k++];
		if (b->bx_fast[r->br_entry] != G_PLAIN)
			continue;
		if (n == 0) {
			st = left >= LOG_ROWS_PER_STMT ? c->ac_log : c->ac_log1;
			sqlite3_bind_text(st, 1, b->bx_a->ax_sc->node_id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, now);
		}
		sqlite3_bind_text(st, 3 + 4 * n, r->br_td->td_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4 + 4 * n, (const char *)r->br_id, (int)r->br_idn, SQLITE_STATIC);
		db_bind_text(st, 5 + 4 * n, r->br_office);
		db_bind_text(st, 6 + 4 * n, r->br_la);
		left--;
		if (++n < sqlite3_bind_parameter_count(st) / 4)
			continue;
		n = 0;
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_warnx("cannot write the change log: %s", sqlite3_errmsg(db));
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return -1;
		}
		sqlite3_reset(st);
		sqlite3_clear_bindings(st); /* (the rows' strings are borrowed) */
	}
	return 0;
}

/* One try at the group: 1 applied, 0 rolled back (an entry left it), -1
 * our failure. */
static int try_group(bctx *b, sync_apply_cache *c)
{
	sqlite3_stmt **origin = &c->ac_origin;
	actx *a = b->bx_a;
	void *cs = NULL;
	int n = 0, rc, ret = -1, off = b->bx_cls == G_PLAIN;

	if (group(b, &cs, &n) != 0)
		return -1;
	if (n == 0) {
		free(cs);
		return 1;
	}
	if (db_exec(a->ax_db, "SAVEPOINT sync_batch") != 0) {
		free(cs);
		return -1;
	}
	b->bx_hit = 0;
	if (sync__set_origin(a->ax_db, origin, a->ax_sc->node_id) != 0)
		goto out;
	if (off && db_triggers(a->ax_db, 0) != 0)
		goto out;
	rc = sqlite3changeset_apply_v2(a->ax_db, n, cs, NULL, on_conflict, b, NULL, NULL,
				       SQLITE_CHANGESETAPPLY_NOSAVEPOINT);
	if (off && db_triggers(a->ax_db, 1) != 0)
		goto out;
	if (rc == SQLITE_OK && off && log_rows(b, c) != 0)
		goto out;
	if (rc == SQLITE_OK) {
		rc = after_apply(b);
		if (rc == A_ERROR)
			goto out;
		rc = rc == A_OK ? SQLITE_OK : SQLITE_ABORT;
	}
	if (rc == SQLITE_ABORT && b->bx_hit) {
		drop_hit(b);
		ret = 0;
	} else if (rc != SQLITE_OK && !off && rc != SQLITE_NOMEM) {
		/* an error of the triggers of a table's own (a constraint they
		 * break is a conflict, above): the merge decides each entry */
		leave_group(b);
		ret = 0;
	} else if (rc != SQLITE_OK) {
		log_warnx("grouped apply of node %s: %s", a->ax_sc->node_id, sqlite3_errmsg(a->ax_db));
		goto out;
	} else if (sync__set_origin(a->ax_db, origin, NULL) == 0) {
		ret = 1;
	}
out:
	free(cs);
	if (ret < 0 && db_triggers(a->ax_db, 1) != 0)
		ret = -1; /* (tried again: a connection never keeps them off) */
	if (ret != 1)
		db_exec(a->ax_db, "ROLLBACK TO sync_batch");
	if (db_exec(a->ax_db, "RELEASE sync_batch") != 0)
		ret = -1;
	return ret;
}

static void bctx_release(bctx *b)
{
	sync__jarena_free(b->bx_json);
	for (int i = 0; i < b->bx_nscopes; i++)
		free(b->bx_scopes[i]);
	free(b->bx_scopes);
	free(b->bx_first);
	free(b->bx_conflicts);
	free(b->bx_fast);
	free(b->bx_again);
	free(b->bx_rows);
	free(b->bx_sorted);
}

/* The rows of the entries in group cls. */
static int group_rows(const bctx *b, int cls)
{
	int n = 0;

	for (int k = 0; k < b->bx_nrows; k++)
		n += b->bx_fast[b->bx_rows[k].br_entry] == cls;
	return n;
}

/* The group: classify, apply with retries; bx_fast marks what it applied.
 * 0 or -1. */
static int run_group(bctx *b, sync_apply_cache *c)
{
	int rc = 0;

	for (int i = 0; i < b->bx_n; i++)
		if (classify(b, i) != 0)
			return -1;
	if (mark_shared(b) != 0)
		return -1;
	for (int i = 0; i < b->bx_n; i++) {
		if (!b->bx_fast[i])
			continue;
		rc = scope_check(b, i);
		if (rc == A_ERROR)
			return -1;
		if (rc != A_OK)
			b->bx_fast[i] = 0;
	}
	/* The groups are applied, and their rows checked, before any merged
	 * entry.  A G_TRIG row's check may write (a lead's duplicate flags,
	 * model/crm.c) and would not see an earlier merged entry's effect (a
	 * lead closed, then another of its name made: one by one, no flag), so
	 * only the entries before the first merged one may join G_TRIG. */
	for (int i = 0, merged = 0; i < b->bx_n; i++) {
		if (!b->bx_fast[i])
			merged = 1;
		else if (merged && b->bx_fast[i] == G_TRIG)
			b->bx_fast[i] = 0;
	}
	/* The entries with triggers of their own first: a lead before the
	 * notes on it.  A group too small for its apply call is merged; the
	 * first counts the second's rows too, which may need its rows (the
	 * notes of five leads, a batch of 500 entries). */
	for (b->bx_cls = G_TRIG; b->bx_cls >= G_PLAIN; b->bx_cls--) {
		int t = 0;

		if (group_rows(b, b->bx_cls) +
			(b->bx_cls == G_TRIG ? group_rows(b, G_PLAIN) : 0) < batch_min_rows)
			leave_group(b);
		for (rc = 0; rc == 0 && t < BATCH_MAX_TRIES; t++)
			if ((rc = try_group(b, c)) < 0)
				return -1;
		if (rc == 0)
			leave_group(b);
	}
	return 0;
}

static int apply_batch(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
		       const sync_entry *e, int n, sync_apply_result *res, int again);

/* The result of entry i, which its group applied: the conflicts its rows'
 * checks recorded in the try that holds (not in one rolled back). */
static void grouped_result(const bctx *b, int i, sync_apply_result *r)
{
	r->applied = 1;
	r->conflicts = b->bx_conflicts[i];
}

/*
 * The run of entries from *i that the validator refused in the group,
 * taken up again where the first of them comes in seq order, after the
 * merged entries before it: a note on a lead the batch makes in an entry
 * merged after the groups (one that also edits another record, or comes
 * after a merged entry) is refused in the group, and is valid once the
 * lead is in.  A run too small for a group is merged.  The run (entries in the group
 * meanwhile are already applied, the others end it) is grouped again,
 * once: what its group refuses again is merged, so quarantined with the
 * reason when it is invalid.  *i is moved past the run.  0 or -1.
 */
static int regroup(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
		   const sync_entry *e, int n, sync_apply_result *res, const bctx *b, int *i)
{
	sync_entry *re;
	sync_apply_result *rr;
	int *at, m = 0, rows = 0, j, ret = -1;

	for (j = *i; j < n && (b->bx_fast[j] || b->bx_again[j]); j++)
		if (b->bx_again[j]) {
			m++;
			/* its rows: from its first to the next entry's (classify()) */
			rows += (j + 1 < n ? b->bx_first[j + 1] : b->bx_nrows) - b->bx_first[j];
		}
	if (m < 2 || rows < batch_min_rows) { /* the merge, as the group would end in it */
		for (; *i < j; (*i)++)
			if (b->bx_fast[*i])
				grouped_result(b, *i, &res[*i]);
			else if (sync_hub_apply_cached(db, cache, sc, &e[*i], &res[*i]) != 0)
				return -1;
		return 0;
	}
	re = malloc((size_t)m * sizeof *re);
	rr = malloc((size_t)m * sizeof *rr);
	at = malloc((size_t)m * sizeof *at);
	if (re == NULL || rr == NULL || at == NULL)
		goto out;
	m = 0;
	for (int q = *i; q < j; q++) {
		if (b->bx_fast[q]) {
			grouped_result(b, q, &res[q]);
			continue;
		}
		at[m] = q;
		re[m++] = e[q];
	}
	if (apply_batch(db, cache, sc, re, m, rr, 0) != 0)
		goto out;
	for (int q = 0; q < m; q++)
		res[at[q]] = rr[q];
	*i = j;
	ret = 0;
out:
	free(re);
	free(rr);
	free(at);
	return ret;
}

int sync_hub_apply_batch(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
			 const sync_entry *e, int n, sync_apply_result *res)
{
	return apply_batch(db, cache, sc, e, n, res, 1);
}

static int apply_batch(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
		       const sync_entry *e, int n, sync_apply_result *res, int again)
{
	actx a;
	bctx b;
	sync_apply_result scratch;
	int ret = -1;

	if (db == NULL || cache == NULL || cache->ac_db != db || sc == NULL ||
	    sc->node_id == NULL || n < 0 || (n > 0 && (e == NULL || res == NULL)))
		return -1;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&scratch, 0, sizeof scratch);
	memset(res, 0, (size_t)n * sizeof *res);
	a.ax_db = db;
	a.ax_sc = sc;
	a.ax_res = &scratch;
	sync__cache_take(cache, &a);
	b.bx_a = &a;
	b.bx_c = cache;
	b.bx_e = e;
	b.bx_n = n;
	b.bx_fast = calloc((size_t)n + 1, 1);
	b.bx_first = calloc((size_t)n + 1, sizeof *b.bx_first);
	b.bx_conflicts = calloc((size_t)n + 1, sizeof *b.bx_conflicts);
	if (again)
		b.bx_again = calloc((size_t)n + 1, 1);
	if (b.bx_fast == NULL || b.bx_first == NULL || b.bx_conflicts == NULL ||
	    (again && b.bx_again == NULL))
		goto out;
	for (int i = 0; i < n; i++)
		if (e[i].changeset == NULL || e[i].len < 1 || e[i].len > SYNC_MAX_CHANGESET ||
		    e[i].hlc == NULL) {
			sync__cache_keep(cache, &a);
			memset(&a, 0, sizeof a);
			goto slow; /* sync_hub_apply_cached() answers each */
		}
	ret = run_group(&b, cache);
	sync__cache_keep(cache, &a);
	if (ret != 0)
		goto out;
slow:
	ret = 0;
	for (int i = 0; i < n && ret == 0;) {
		if (b.bx_fast[i])
			grouped_result(&b, i, &res[i]);
		else if (b.bx_again && b.bx_again[i]) {
			ret = regroup(db, cache, sc, e, n, res, &b, &i);
			continue;
		} else if (sync_hub_apply_cached(db, cache, sc, &e[i], &res[i]) != 0)
			ret = -1;
		i++;
	}
out:
	bctx_release(&b);
	return ret;
}
