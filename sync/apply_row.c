/*
 * apply_row.c - the row-level pieces of the hub's apply (apply.c,
 * apply_batch.c): values compared and written as JSON, the hub's current
 * row and its tombstone, writes that map a constraint to a refusal, the
 * scope check and the domain validator (sync.h, sync_set_validator()).
 */
#include "sync/apply_int.h"
#include "model/schema.h"
#include "lib/crypto.h"
#include "lib/json.h"
#include "lib/log.h"

#include <math.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sync_row_validator sync__row_validator;

void sync_set_validator(sync_row_validator fn)
{
	sync__row_validator = fn;
}

/* ---- values ------------------------------------------------------------------ */

int sync__val_type(sqlite3_value *v)
{
	return v ? sqlite3_value_type(v) : 0;
}

/* Set when SQLite could not give a text value (out of memory): a refusal
 * that follows is our failure, not the node's (sync__refuse()). */
__thread int sync__apply_oom;

const char *sync__val_text(sqlite3_value *v)
{
	/* The type before the text: a text SQLite cannot terminate for want
	 * of memory is a NULL value afterwards, and its refusal would
	 * quarantine an honest entry. */
	int t = sync__val_type(v);
	const char *s = t == SQLITE_TEXT ? (const char *)sqlite3_value_text(v) : NULL;

	if (t == SQLITE_TEXT && s == NULL)
		sync__apply_oom = 1;
	return s;
}

int sync__val_eq(sqlite3_value *a, sqlite3_value *b)
{
	int t = sync__val_type(a), n;

	if (t != sync__val_type(b))
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
void sync__json_value(buf *b, sqlite3_value *v, int *rc)
{
	char num[40];
	int type = sync__val_type(v);

	if (*rc)
		return;
	switch (type) {
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
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		int text = type == SQLITE_TEXT;
		const void *p = text ? (const void *)sqlite3_value_text(v) : sqlite3_value_blob(v);
		size_t n = (size_t)sqlite3_value_bytes(v);
		if (p == NULL && n > 0)
			*rc = -1; /* out of memory */
		else if (text)
			*rc = buf_put_json_str(b, p, n);
		else if ((*rc = buf_puts(b, "{\"blob\":\"")) == 0 && (*rc = buf_put_hex(b, p, n)) == 0)
			*rc = buf_puts(b, "\"}");
		break;
	}
	default:
		*rc = buf_puts(b, "null");
	}
}

/* {"col": value, ...} of a whole row. */
void sync__json_row(buf *b, const sync__tshape *ts, sqlite3_value **row, int *rc)
{
	if (*rc == 0)
		*rc = buf_putc(b, '{');
	for (int i = 0; i < ts->ts_ncol && *rc == 0; i++) {
		if (buf_printf(b, "%s\"%s\":", i ? "," : "", ts->ts_cols[i]) != 0) {
			*rc = -1;
			break;
		}
		sync__json_value(b, row[i], rc);
	}
	if (*rc == 0)
		*rc = buf_putc(b, '}');
}

/* ---- rows -------------------------------------------------------------------- */


void sync__row_free(arow *r)
{
	if (r->rw_v)
		for (int i = 0; i < r->rw_n; i++)
			sqlite3_value_free(r->rw_v[i]);
	free(r->rw_v);
	r->rw_v = NULL;
	r->rw_n = 0;
}

int sync__row_alloc(arow *r, int n)
{
	r->rw_v = calloc((size_t)n, sizeof *r->rw_v);
	r->rw_n = n;
	return r->rw_v ? 0 : -1;
}

/* The hub's current row with this id: 1 found (into r), 0 none, -1 error. */
int sync__row_load(actx *a, tcache *tc, const char *id, arow *r)
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
	if (sync__row_alloc(r, tc->tc_ts.ts_ncol) != 0)
		goto out;
	for (int i = 0; i < r->rw_n; i++) {
		r->rw_v[i] = sqlite3_value_dup(sqlite3_column_value(tc->tc_sel, i));
		if (r->rw_v[i] == NULL) {
			sync__row_free(r);
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
int sync__row_from_tombstone(actx *a, tcache *tc, const char *id, arow *r, char *del_hlc, size_t hn)
{
	sqlite3_stmt *je = NULL;
	const char *json, *hlc;
	int rc, ret = -1, found = 0;

	if (sync__prep(a, &a->ax_tomb_get,
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
	json = db_col(a->ax_tomb_get, 0);
	hlc = db_col(a->ax_tomb_get, 1);
	if (json == NULL || hlc == NULL || sync__row_alloc(r, tc->tc_ts.ts_ncol) != 0)
		goto out; /* out of memory */
	snprintf(del_hlc, hn, "%s", hlc);
	if (sqlite3_prepare_v2(a->ax_db,
			       "SELECT key, value, type, CASE WHEN type='object' THEN "
			       "json_extract(value, '$.blob') END FROM json_each(?1)",
			       -1, &je, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(je, 1, json, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(je)) == SQLITE_ROW) {
		const char *key = db_col(je, 0);
		const char *type = db_col(je, 2);
		int col = -1;

		if (key == NULL || type == NULL)
			goto out; /* out of memory: never a column left out */
		for (int i = 0; i < tc->tc_ts.ts_ncol; i++)
			if (strcmp(tc->tc_ts.ts_cols[i], key) == 0)
				col = i;
		if (col < 0 || r->rw_v[col] != NULL)
			continue;
		if (strcmp(type, "object") == 0) {
			/* {"blob":"hex"} */
			const char *hx = db_col(je, 3);
			size_t n = hx ? strlen(hx) / 2 : 0;
			unsigned char *bytes = hx ? malloc(n + 1) : NULL;
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
	if (rc != SQLITE_DONE && rc != SQLITE_ERROR)
		goto out; /* out of memory or I/O: an error, not a bad tombstone */
	if (rc != SQLITE_DONE) {
		log_warnx("tombstone of '%s' %s is unreadable: %s", tc->tc_ts.ts_td->td_name, id,
			  sqlite3_errmsg(a->ax_db));
		ret = 0; /* treated as no tombstone */
		sync__row_free(r);
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
		sync__row_free(r);
	return ret;
}

int sync__tomb_put(actx *a, tcache *tc, const char *id, sqlite3_value **v)
{
	buf j = BUF_INIT(SYNC_MAX_CHANGESET * 4);
	int rc = 0, ret;

	sync__json_row(&j, &tc->tc_ts, v, &rc);
	if (rc != 0 || sync__prep(a, &a->ax_tomb_put,
			    "INSERT OR REPLACE INTO tombstones(tbl, row_id, row_json, deleted_hlc) "
			    "VALUES(?1, ?2, ?3, ?4)") != 0) {
		buf_release(&j);
		return A_ERROR;
	}
	sqlite3_bind_text(a->ax_tomb_put, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_tomb_put, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ax_tomb_put, 3, j.data, (int)j.len, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ax_tomb_put, 4, a->ax_e->hlc, -1, SQLITE_TRANSIENT);
	ret = sync__step_write(a, a->ax_tomb_put, "save tombstone");
	buf_release(&j);
	return ret;
}

int sync__tomb_del(actx *a, tcache *tc, const char *id)
{
	if (sync__prep(a, &a->ax_tomb_del, "DELETE FROM tombstones WHERE tbl=?1 AND row_id=?2") != 0)
		return A_ERROR;
	sqlite3_bind_text(a->ax_tomb_del, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_tomb_del, 2, id, -1, SQLITE_TRANSIENT);
	return sync__step_write(a, a->ax_tomb_del, "drop tombstone");
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

int sync__write_row(actx *a, tcache *tc, sqlite3_stmt *st, sqlite3_value **v, const char *what)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if ((rc = bind_row(st, &tc->tc_ts, v)) != 0)
		return (rc & 0xff) == SQLITE_NOMEM ? A_ERROR
						   : sync__refuse(a, "%s: value cannot be stored", what);
	return sync__step_write(a, st, what);
}

/* The change under validation, for sync_change_sets(), sync_change_was()
 * and sync_entry_inserts(); val_set, the columns an edit outside a push
 * sets (sync_validate_edit()). */
static _Thread_local const sync__tshape *val_ts;
static _Thread_local sqlite3_value **val_nv;
static _Thread_local sqlite3_value **val_was;
static _Thread_local int val_all;
static _Thread_local actx *val_a;
static _Thread_local const char *const *val_set;
static _Thread_local int val_nset;
static _Thread_local const cJSON *val_row; /* the row under check, as stored */

int sync_change_sets(const char *col)
{
	for (int i = 0; val_set && col && i < val_nset; i++)
		if (strcmp(val_set[i], col) == 0)
			return 1;
	for (int i = 0; val_ts && (val_nv || val_all) && col && i < val_ts->ts_ncol; i++)
		if (strcmp(val_ts->ts_cols[i], col) == 0)
			return val_all || val_nv[i] != NULL;
	return 0;
}

int sync_validate_edit(sync_row_validator fn, sqlite3 *db, const char *tbl, const cJSON *row,
		       const char *const *cols, int ncol, char *why, size_t wn)
{
	int rc;

	val_set = cols;
	val_nset = ncol;
	rc = fn(db, tbl, SQLITE_UPDATE, row, why, wn);
	val_set = NULL;
	val_nset = 0;
	return rc;
}

const char *sync_change_was(const char *col)
{
	for (int i = 0; val_ts && val_was && col && i < val_ts->ts_ncol; i++)
		if (strcmp(val_ts->ts_cols[i], col) == 0)
			return val_was[i] ? (const char *)sqlite3_value_text(val_was[i]) : NULL;
	return NULL;
}

int sync_record_conflict(const char *row_id, const char *column, const char *base,
			 const char *local, const char *remote, int remote_won,
			 const char *local_hlc, const char *remote_hlc, const char *reason)
{
	const table_def *td;
	const char *office = NULL, *la = NULL;

	if (val_a == NULL || val_a->ax_e == NULL || val_ts == NULL)
		return 0; /* a check outside a push (the console's): no entry, nothing arrives */
	if (row_id == NULL || val_row == NULL)
		return -1;
	/* The row's scope, as conflict() gives a merge's: a participant's
	 * data goes only to its Local Area's offices. */
	td = val_ts->ts_td;
	switch (td->td_scope) {
	case SCOPE_STATEWIDE:
		break;
	case SCOPE_LOCAL_AREA:
		if ((la = json_str(val_row, td->td_scope_col)) == NULL)
			return -1;
		break;
	case SCOPE_OFFICE:
		if ((office = json_str(val_row, td->td_scope_col)) == NULL)
			return -1;
		la = val_ts->ts_la >= 0 ? json_str(val_row, val_ts->ts_cols[val_ts->ts_la]) : NULL;
		break;
	default:
		return -1;
	}
	return sync__conflict_insert(val_a, td->td_name, row_id, column, base, local, remote,
				     remote_won, local_hlc, remote_hlc, office, la,
				     reason) == A_OK
		       ? 0
		       : -1;
}

/* Column col of table tbl: its index, -1 when it has none, -2 error.  (Not
 * through the apply's table cache, which may move while a validator runs.) */
static int col_index(sqlite3 *db, const char *tbl, const char *col)
{
	sqlite3_stmt *st = NULL;
	int rc, ix = -1;

	if (db_prepare_bound(db, &st, "SELECT cid FROM pragma_table_info(?1) WHERE name=?2", "tt", tbl,
			     col) != 0)
		return -2;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ix = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ix : -2;
}

/* 1 when value v is the text want. */
static int value_is(sqlite3_value *v, const char *want)
{
	const unsigned char *t;

	return v && sqlite3_value_type(v) == SQLITE_TEXT && (t = sqlite3_value_text(v)) != NULL &&
	       strcmp((const char *)t, want) == 0;
}

/* The first INSERT into tbl of the entry under validation whose column col
 * is val (and col2 val2, when col2 is set): 1 (column want's text, when
 * want is set, into out, n bytes; "" when NULL), -2 when that is longer,
 * 0 none, -1 error. */
static int entry_find(const char *tbl, const char *col, const char *val, const char *col2,
		      const char *val2, const char *want, char *out, size_t n)
{
	sqlite3_changeset_iter *it = NULL;
	int c1, c2 = -1, cw = -1, found = 0, rc;

	if (val_a == NULL || val_a->ax_e == NULL || tbl == NULL || val == NULL ||
	    (col2 != NULL && val2 == NULL))
		return 0;
	if ((c1 = col_index(val_a->ax_db, tbl, col)) == -2 ||
	    (col2 && (c2 = col_index(val_a->ax_db, tbl, col2)) == -2) ||
	    (want && (cw = col_index(val_a->ax_db, tbl, want)) == -2))
		return -1;
	if (c1 < 0 || (col2 && c2 < 0) || (want && cw < 0))
		return 0;
	if (sqlite3changeset_start(&it, (int)val_a->ax_e->len, (void *)val_a->ax_e->changeset) !=
	    SQLITE_OK)
		return -1;
	while (!found && (rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
		const char *name = NULL;
		sqlite3_value *v = NULL, *v2 = NULL;
		int ncol = 0, op = 0;

		if (sqlite3changeset_op(it, &name, &ncol, &op, NULL) != SQLITE_OK || op != SQLITE_INSERT ||
		    name == NULL || strcmp(name, tbl) != 0 || c1 >= ncol || c2 >= ncol || cw >= ncol)
			continue;
		found = sqlite3changeset_new(it, c1, &v) == SQLITE_OK && value_is(v, val) &&
			(c2 < 0 || (sqlite3changeset_new(it, c2, &v2) == SQLITE_OK && value_is(v2, val2)));
		if (found && want) {
			const unsigned char *t = NULL;

			if (sqlite3changeset_new(it, cw, &v) == SQLITE_OK && v &&
			    sqlite3_value_type(v) == SQLITE_TEXT)
				t = sqlite3_value_text(v);
			if (t && strlen((const char *)t) >= n)
				found = -2;
			else
				snprintf(out, n, "%s", t ? (const char *)t : "");
		}
	}
	rc = sqlite3changeset_finalize(it);
	return found ? found : rc == SQLITE_OK ? 0 : -1;
}

int sync_entry_inserts(const char *tbl, const char *col, const char *val, const char *col2,
		       const char *val2)
{
	return entry_find(tbl, col, val, col2, val2, NULL, NULL, 0);
}

int sync_entry_text(const char *tbl, const char *col, const char *val, const char *want, char *out,
		    size_t n)
{
	if (n == 0)
		return -1;
	out[0] = '\0';
	return entry_find(tbl, col, val, NULL, NULL, want, out, n);
}

/* The domain validator on row j (the row as stored); nv: the change's new
 * values (NULL for a DELETE; for an INSERT, NULL means every column, as the
 * grouped apply inserts whole rows). */
int sync__validate_json(actx *a, tcache *tc, const cJSON *j, int op, sqlite3_value **nv)
{
	char why[200] = "";
	int ret;

	if (sync__row_validator == NULL)
		return A_OK;
	val_ts = &tc->tc_ts;
	val_nv = nv;
	val_all = op == SQLITE_INSERT && nv == NULL;
	val_a = a;
	val_row = j;
	ret = sync__row_validator(a->ax_db, tc->tc_ts.ts_td->td_name, op, j, why, sizeof why);
	if (ret == SYNC_CHECK_AGAIN) {
		log_warnx("cannot check a row of %s (%s): the push is refused, to be sent again",
			  tc->tc_ts.ts_td->td_name, why[0] ? why : "no reason");
		ret = A_ERROR;
	} else {
		ret = ret == 0 ? A_OK : sync__refuse(a, "domain rule: %s", why[0] ? why : "row refused");
	}
	val_ts = NULL;
	val_nv = NULL;
	val_all = 0;
	val_a = NULL;
	val_row = NULL;
	return ret;
}

/* The same on the row with this id as it is now in the database; was, the
 * hub's row before an UPDATE's merge (sync_change_was()). */
int sync__validate(actx *a, tcache *tc, const char *id, int op, sqlite3_value **nv,
		   sqlite3_value **was)
{
	cJSON *j = NULL;
	int rc, ret;

	if (sync__row_validator == NULL)
		return A_OK;
	sqlite3_reset(tc->tc_sel);
	sqlite3_bind_text(tc->tc_sel, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(tc->tc_sel);
	/* The row's names and strings stay tc_sel's until the reset below (no
	 * validator touches the apply's statements). */
	if (rc == SQLITE_ROW)
		j = db_row_json_borrowed(tc->tc_sel);
	if (j == NULL) {
		sqlite3_reset(tc->tc_sel);
		return A_ERROR;
	}
	val_was = op == SQLITE_UPDATE ? was : NULL;
	ret = sync__validate_json(a, tc, j, op, nv);
	val_was = NULL;
	cJSON_Delete(j);
	sqlite3_reset(tc->tc_sel);
	return ret;
}

/* 1 when SQLite stores value v in a column of affinity aff as it is (so it
 * reads back the same type and value). */
static int stored_as_is(char aff, int type)
{
	switch (type) {
	case SQLITE_NULL:
	case SQLITE_BLOB:
		return 1;
	case SQLITE_TEXT:
		return aff == SYNC_AFF_TEXT || aff == SYNC_AFF_BLOB;
	case SQLITE_INTEGER:
		return aff == SYNC_AFF_INTEGER || aff == SYNC_AFF_NUMERIC || aff == SYNC_AFF_BLOB;
	case SQLITE_FLOAT:
		return aff == SYNC_AFF_REAL || aff == SYNC_AFF_BLOB;
	default:
		return 0;
	}
}

/* ---- the validator's row, built in an arena ------------------------------------ */

struct sync__jarena {
	struct sync__jarena *ja_next;
	size_t ja_used, ja_cap;
	_Alignas(max_align_t) unsigned char ja_mem[];
};

#define JARENA_BLOCK (64 * 1024)

static void *jalloc(sync__jarena **a, size_t n)
{
	sync__jarena *b = *a;
	size_t need = (n + 15) & ~(size_t)15;

	if (b == NULL || b->ja_cap - b->ja_used < need) {
		size_t cap = need > JARENA_BLOCK ? need : JARENA_BLOCK;
		if ((b = malloc(sizeof *b + cap)) == NULL)
			return NULL;
		b->ja_next = *a;
		b->ja_used = 0;
		b->ja_cap = cap;
		*a = b;
	}
	b->ja_used += need;
	return b->ja_mem + b->ja_used - need;
}

void sync__jarena_free(sync__jarena *a)
{
	while (a != NULL) {
		sync__jarena *next = a->ja_next;
		free(a);
		a = next;
	}
}

/* A member of type t named name, appended to o (as cJSON links them). */
static cJSON *jmember(sync__jarena **a, cJSON *o, const char *name, int t)
{
	cJSON *m = jalloc(a, sizeof *m);

	if (m == NULL)
		return NULL;
	memset(m, 0, sizeof *m);
	m->type = t | cJSON_StringIsConst;
	m->string = (char *)name;
	if (o->child == NULL) {
		o->child = m;
	} else {
		o->child->prev->next = m;
		m->prev = o->child->prev;
	}
	o->child->prev = m;
	return m;
}

cJSON *sync__insert_json(sync__jarena **a, const sync__tshape *ts, sqlite3_value **v, int ncol)
{
	cJSON *o;

	if (ncol != ts->ts_ncol || ts->ts_aff == NULL)
		return NULL;
	for (int i = 0; i < ncol; i++)
		if (v[i] == NULL || ts->ts_aff[i] == 0 ||
		    !stored_as_is(ts->ts_aff[i], sqlite3_value_type(v[i])))
			return NULL;
	if ((o = jalloc(a, sizeof *o)) == NULL)
		return NULL;
	memset(o, 0, sizeof *o);
	o->type = cJSON_Object;
	/* As db_row_json() reads the row: blobs left out. */
	for (int i = 0; i < ncol; i++) {
		int t = sqlite3_value_type(v[i]);
		const char *s;
		double d;
		size_t n;
		cJSON *m;

		if (t == SQLITE_BLOB)
			continue;
		m = jmember(a, o, ts->ts_cols[i],
			    t == SQLITE_TEXT ? cJSON_String : t == SQLITE_NULL ? cJSON_NULL : cJSON_Number);
		if (m == NULL)
			return NULL;
		switch (t) {
		case SQLITE_INTEGER:
		case SQLITE_FLOAT:
			/* (cJSON_CreateNumber's fields) */
			d = t == SQLITE_INTEGER ? (double)sqlite3_value_int64(v[i])
						: sqlite3_value_double(v[i]);
			m->valuedouble = d;
			m->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
			break;
		case SQLITE_TEXT:
			/* Up to a NUL, as a C string reads it (the changeset's
			 * bytes have none at the end). */
			s = sqlite3_value_blob(v[i]);
			n = (size_t)sqlite3_value_bytes(v[i]);
			n = s ? strnlen(s, n) : 0;
			if ((m->valuestring = jalloc(a, n + 1)) == NULL)
				return NULL;
			memcpy(m->valuestring, n ? s : "", n);
			m->valuestring[n] = '\0';
			break;
		default:
			break;
		}
	}
	return o;
}

/* 1 when v is a text SQLite cannot give as a C string (out of memory).  A
 * value converted once stays converted. */
static int text_oom(sqlite3_value *v)
{
	return sync__val_type(v) == SQLITE_TEXT && sqlite3_value_text(v) == NULL;
}

/* 1 when SQLite cannot give one of the row's text values (out of memory).
 * Run before reading them. */
int sync__row_oom(const sync__tshape *ts, sqlite3_value **v)
{
	for (int i = 0; i < ts->ts_ncol; i++)
		if (text_oom(v[i]))
			return 1;
	return 0;
}

/* May this node write a row with these values (each text converted)? */
static int scope_verdict(actx *a, const sync__tshape *ts, sqlite3_value **v)
{
	const sync_scope *sc = a->ax_sc;
	const char *office, *la;

	sync__row_scope(ts, v, &office, &la);
	switch (ts->ts_td->td_scope) {
	case SCOPE_STATEWIDE:
		return A_OK;
	case SCOPE_OFFICE:
		if (office == NULL || sc->office_id == NULL || strcmp(office, sc->office_id) != 0)
			return sync__refuse(a, "row of '%s' outside the node's office", ts->ts_td->td_name);
		if (la && (sc->local_area_id == NULL || strcmp(la, sc->local_area_id) != 0))
			return sync__refuse(a, "row of '%s' outside the node's Local Area", ts->ts_td->td_name);
		return A_OK;
	case SCOPE_LOCAL_AREA:
		if (la == NULL || sc->local_area_id == NULL || strcmp(la, sc->local_area_id) != 0)
			return sync__refuse(a, "row of '%s' outside the node's Local Area", ts->ts_td->td_name);
		return A_OK;
	case SCOPE_ROW:
		if (!sync__scope_holds(sc, office, la))
			return sync__refuse(a, "row of '%s' outside the node's scope", ts->ts_td->td_name);
		return A_OK;
	default:
		return sync__refuse(a, "table '%s' is not writable by nodes", ts->ts_td->td_name);
	}
}

int sync__scope_ok(actx *a, tcache *tc, sqlite3_value **v)
{
	if (sync__row_oom(&tc->tc_ts, v))
		return A_ERROR; /* not the node's fault: it sends the entry again */
	return scope_verdict(a, &tc->tc_ts, v);
}

int sync__scope_ok_keys(actx *a, tcache *tc, sqlite3_value **v)
{
	const sync__tshape *ts = &tc->tc_ts;
	const int key[] = {ts->ts_id, ts->ts_scope, ts->ts_la, ts->ts_row_office, ts->ts_row_la};

	for (size_t i = 0; i < sizeof key / sizeof key[0]; i++)
		if (key[i] >= 0 && text_oom(v[key[i]]))
			return A_ERROR;
	return scope_verdict(a, ts, v);
}

/* One conflicts row.  column NULL = "*deleted*"; values as JSON text (NULL
 * pointers mean SQL NULL). */
