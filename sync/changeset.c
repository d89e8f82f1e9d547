/*
 * changeset.c - a bounds-checked changeset/patchset walker, the patchset
 * encoder used for pull pages and snapshots, and the live table shapes the
 * hub code shares; the byte format is specified in changeset.h.
 */
#include "sync/changeset.h"
#include "lib/log.h"
#include "lib/varint.h"
#include "model/crm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The largest replicated value is an attachment's file (model/crm.h): it must
 * pass this walker at the hub and on every node, and its outbox entry (the
 * file and a few hundred bytes of columns) must be one a push can carry. */
_Static_assert(CRM_ATTACH_MAX <= CHANGESET_MAX_VALUE, "an attachment fits one changeset value");
_Static_assert(CRM_ATTACH_MAX + 64 * 1024 <= SYNC_MAX_CHANGESET,
	       "an attachment's outbox entry is a pushable entry");
_Static_assert(CRM_ATTACH_MAX + 64 * 1024 <= SYNC_MAX_BATCH_BYTES,
	       "an attachment's outbox entry fits an ordinary push batch");

/* ---- walker --------------------------------------------------------------- */

void changeset_iter_init(cs_iter *it, const void *p, size_t len)
{
	memset(it, 0, sizeof *it);
	it->ci_p = p;
	it->ci_end = it->ci_p + len;
	it->ci_patchset = -1;
}

void changeset_iter_release(cs_iter *it)
{
	free(it->ci_old);
	free(it->ci_new);
	it->ci_old = it->ci_new = NULL;
	it->ci_cap = 0;
}

static uint64_t get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) without NUL bytes: TEXT from a node ends up in JSON replies and
 * C strings on every replica.  1 when valid. */
static int text_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], need, min, cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			need = 1, min = 0x80, cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2, min = 0x800, cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += need + 1;
	}
	return 1;
}

static int read_value(cs_iter *it, cs_value *v, const char **err)
{
	uint64_t n;
	int k;

	memset(v, 0, sizeof *v);
	if (it->ci_p >= it->ci_end) {
		*err = "value truncated";
		return -1;
	}
	v->cv_type = *it->ci_p++;
	switch (v->cv_type) {
	case CSV_UNDEFINED:
	case CSV_NULL:
		return 0;
	case CSV_INTEGER:
	case CSV_FLOAT:
		if (it->ci_end - it->ci_p < 8) {
			*err = "number truncated";
			return -1;
		}
		n = get_be64(it->ci_p);
		it->ci_p += 8;
		if (v->cv_type == CSV_INTEGER)
			v->cv_int = (int64_t)n;
		else
			memcpy(&v->cv_real, &n, sizeof v->cv_real);
		return 0;
	case CSV_TEXT:
	case CSV_BLOB:
		k = varint_get(it->ci_p, it->ci_end, &n);
		if (k == 0) {
			*err = "length truncated";
			return -1;
		}
		it->ci_p += k;
		if (n > CHANGESET_MAX_VALUE) {
			*err = "value too large";
			return -1;
		}
		if ((uint64_t)(it->ci_end - it->ci_p) < n) {
			*err = "value truncated";
			return -1;
		}
		if (v->cv_type == CSV_TEXT && !text_ok(it->ci_p, (size_t)n)) {
			if (!it->ci_lenient) {
				*err = "text value is not valid UTF-8";
				return -1;
			}
			it->ci_bad_text = 1;
		}
		v->cv_p = it->ci_p;
		v->cv_n = (size_t)n;
		it->ci_p += n;
		return 0;
	default:
		*err = "unknown value type";
		return -1;
	}
}

/* One record: every column, or only the key columns when pk_only. */
static int read_record(cs_iter *it, cs_value *vals, int pk_only, const char **err)
{
	for (int i = 0; i < it->ci_ncol; i++) {
		if (pk_only && it->ci_pk[i] == 0) {
			memset(&vals[i], 0, sizeof vals[i]);
			continue;
		}
		if (read_value(it, &vals[i], err) != 0)
			return -1;
	}
	return 0;
}

static int read_header(cs_iter *it, const char **err)
{
	int patchset = *it->ci_p == 'P';
	const unsigned char *name, *nul;
	uint64_t ncol;
	int k;

	if (it->ci_patchset != -1 && it->ci_patchset != patchset) {
		*err = "changeset mixes 'T' and 'P' tables";
		return -1;
	}
	it->ci_patchset = patchset;
	it->ci_p++;
	k = varint_get(it->ci_p, it->ci_end, &ncol);
	if (k == 0) {
		*err = "table header truncated";
		return -1;
	}
	it->ci_p += k;
	if (ncol < 1 || ncol > CHANGESET_MAX_COLUMNS) {
		*err = "column count out of range";
		return -1;
	}
	if ((uint64_t)(it->ci_end - it->ci_p) < ncol) {
		*err = "table header truncated";
		return -1;
	}
	it->ci_pk = it->ci_p;
	for (uint64_t i = 0; i < ncol; i++)
		if (it->ci_pk[i] > ncol) {
			*err = "bad primary-key flag";
			return -1;
		}
	it->ci_p += ncol;
	name = it->ci_p;
	nul = memchr(name, 0, (size_t)(it->ci_end - name));
	if (nul == NULL) {
		*err = "table name truncated";
		return -1;
	}
	if (nul == name || nul - name > 128) {
		*err = "bad table name length";
		return -1;
	}
	it->ci_table = (const char *)name;
	it->ci_p = nul + 1;
	if ((int)ncol > it->ci_cap) {
		cs_value *o = realloc(it->ci_old, ncol * sizeof *o);
		if (o == NULL) {
			*err = "out of memory";
			return -1;
		}
		it->ci_old = o;
		o = realloc(it->ci_new, ncol * sizeof *o);
		if (o == NULL) {
			*err = "out of memory";
			return -1;
		}
		it->ci_new = o;
		it->ci_cap = (int)ncol;
	}
	it->ci_ncol = (int)ncol;
	it->ci_new_table = 1;
	return 0;
}

int changeset_next(cs_iter *it, const char **err)
{
	const char *dummy;

	if (err == NULL)
		err = &dummy;
	*err = NULL;
	it->ci_new_table = 0;
	if (it->ci_p >= it->ci_end)
		return 0;
	while (*it->ci_p == 'T' || *it->ci_p == 'P') {
		if (read_header(it, err) != 0)
			return -1;
		if (it->ci_p >= it->ci_end)
			return 0; /* a header with no changes at the very end */
	}
	if (it->ci_table == NULL) {
		*err = "change before any table header";
		return -1;
	}
	if (it->ci_end - it->ci_p < 2) {
		*err = "change truncated";
		return -1;
	}
	it->ci_change = it->ci_p;
	it->ci_bad_text = 0;
	it->ci_op = it->ci_p[0];
	it->ci_indirect = it->ci_p[1];
	it->ci_p += 2;
	if (it->ci_op != SQLITE_INSERT && it->ci_op != SQLITE_UPDATE &&
	    it->ci_op != SQLITE_DELETE) {
		*err = "unknown operation";
		return -1;
	}
	if (it->ci_indirect != 0 && it->ci_indirect != 1) {
		*err = "bad indirect flag";
		return -1;
	}
	if (++it->ci_nchanges > CHANGESET_MAX_CHANGES) {
		*err = "too many changes";
		return -1;
	}
	for (int i = 0; i < it->ci_ncol; i++) {
		memset(&it->ci_old[i], 0, sizeof it->ci_old[i]);
		memset(&it->ci_new[i], 0, sizeof it->ci_new[i]);
	}
	switch (it->ci_op) {
	case SQLITE_INSERT:
		if (read_record(it, it->ci_new, 0, err) != 0)
			return -1;
		break;
	case SQLITE_DELETE:
		if (read_record(it, it->ci_old, it->ci_patchset, err) != 0)
			return -1;
		break;
	default:
		if (!it->ci_patchset && read_record(it, it->ci_old, 0, err) != 0)
			return -1;
		if (read_record(it, it->ci_new, 0, err) != 0)
			return -1;
	}
	return 1;
}

/* ---- encoder -------------------------------------------------------------- */

void changeset_put_table(buf *out, int patchset, const char *name, int ncol,
			 const unsigned char *pk, int *rc)
{
	unsigned char v[9];
	int n = varint_put(v, (uint64_t)ncol);

	buf_put_u8(out, patchset ? 'P' : 'T', rc);
	buf_put_bytes(out, v, (size_t)n, rc);
	buf_put_bytes(out, pk, (size_t)ncol, rc);
	buf_put_bytes(out, name, strlen(name) + 1, rc);
}

void changeset_put_op(buf *out, int op, int indirect, int *rc)
{
	buf_put_u8(out, (uint8_t)op, rc);
	buf_put_u8(out, indirect ? 1 : 0, rc);
}

void changeset_put_csvalue(buf *out, const cs_value *v, int *rc)
{
	unsigned char len[9];
	uint64_t bits;

	buf_put_u8(out, (uint8_t)v->cv_type, rc);
	switch (v->cv_type) {
	case CSV_INTEGER:
		buf_put_u64(out, (uint64_t)v->cv_int, rc);
		break;
	case CSV_FLOAT:
		memcpy(&bits, &v->cv_real, sizeof bits);
		buf_put_u64(out, bits, rc);
		break;
	case CSV_TEXT:
	case CSV_BLOB:
		buf_put_bytes(out, len, (size_t)varint_put(len, (uint64_t)v->cv_n), rc);
		if (v->cv_n > 0)
			buf_put_bytes(out, v->cv_p, v->cv_n, rc);
		break;
	default: /* undefined, NULL: the type byte alone */
		break;
	}
}

/* The defaults of columns from..n-1 of tbl (their ALTER TABLE ADD COLUMN
 * values) into vals, duplicated: 0, or -1. */
static int added_defaults(sqlite3 *db, const char *tbl, int from, int n, sqlite3_value **vals)
{
	sqlite3_stmt *st = NULL, *ev = NULL;
	char *sql = sqlite3_mprintf("PRAGMA table_info(\"%w\")", tbl);
	int i = 0, rc = -1;

	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *dflt = (const char *)sqlite3_column_text(st, 4);
		char *q;

		if (i++ < from)
			continue;
		if (i > n)
			break;
		/* a constant expression of our own schema (ALTER TABLE takes
		 * no other default) */
		q = sqlite3_mprintf("SELECT %s", dflt ? dflt : "NULL");
		if (q == NULL || sqlite3_prepare_v2(db, q, -1, &ev, NULL) != SQLITE_OK ||
		    sqlite3_step(ev) != SQLITE_ROW ||
		    (vals[i - 1 - from] = sqlite3_value_dup(sqlite3_column_value(ev, 0))) == NULL) {
			sqlite3_free(q);
			goto out;
		}
		sqlite3_free(q);
		sqlite3_finalize(ev);
		ev = NULL;
	}
	rc = i >= n ? 0 : -1;
out:
	sqlite3_finalize(ev);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return rc;
}

/* Columns of table tbl in db: its count, 0 when there is no such table,
 * -1 on an error. */
static int table_columns(sqlite3 *db, const char *tbl)
{
	sqlite3_stmt *st = NULL;
	char *sql = sqlite3_mprintf("PRAGMA table_info(\"%w\")", tbl);
	int n = 0, rc;

	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_free(sql);
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n++;
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return rc == SQLITE_DONE ? n : -1;
}

int changeset_upgrade(sqlite3 *db, const void *p, size_t len, buf *out, const char **err)
{
	cs_iter it;
	sqlite3_value **dflt = NULL;
	unsigned char *pk = NULL;
	int ncol = 0, nadd = 0, rc = 0, r = 0;

	*err = NULL;
	buf_reset(out);
	changeset_iter_init(&it, p, len);
	while (rc == 0 && (r = changeset_next(&it, err)) == 1) {
		if (it.ci_new_table) {
			for (int i = 0; i < nadd; i++)
				sqlite3_value_free(dflt[i]);
			free(dflt);
			free(pk);
			dflt = NULL;
			pk = NULL;
			nadd = 0;
			ncol = it.ci_patchset ? -1 : table_columns(db, it.ci_table);
			if (ncol <= 0 || ncol < it.ci_ncol) {
				*err = it.ci_patchset ? "a patchset (the outbox holds changesets)"
				       : ncol < 0     ? "cannot read the table's columns"
				       : ncol == 0    ? "a table this database does not have"
						      : "a table with more columns than this database's";
				rc = -1;
				break;
			}
			/* nadd counts dflt's values only once dflt is there (the
			 * loops above and below free them) */
			if ((pk = calloc((size_t)ncol, 1)) == NULL ||
			    (ncol > it.ci_ncol &&
			     (dflt = calloc((size_t)(ncol - it.ci_ncol), sizeof *dflt)) == NULL)) {
				*err = "out of memory";
				rc = -1;
				break;
			}
			nadd = ncol - it.ci_ncol;
			if (nadd > 0 && added_defaults(db, it.ci_table, it.ci_ncol, ncol, dflt) != 0) {
				*err = "cannot read the table's added columns";
				rc = -1;
				break;
			}
			memcpy(pk, it.ci_pk, (size_t)it.ci_ncol);
			changeset_put_table(out, it.ci_patchset, it.ci_table, ncol, pk, &rc);
		}
		changeset_put_op(out, it.ci_op, it.ci_indirect, &rc);
		for (int rec = 0; rec < 2; rec++) {
			const cs_value *v = rec == 0 ? it.ci_old : it.ci_new;

			/* INSERT: the new record; DELETE: the old; UPDATE: both */
			if ((rec == 0 && it.ci_op == SQLITE_INSERT) || (rec == 1 && it.ci_op == SQLITE_DELETE))
				continue;
			for (int i = 0; i < it.ci_ncol; i++)
				changeset_put_csvalue(out, &v[i], &rc);
			for (int i = 0; i < nadd; i++)
				changeset_put_value(out, it.ci_op == SQLITE_UPDATE ? NULL : dflt[i], &rc);
		}
	}
	if (rc == 0 && r < 0)
		rc = -1;
	else if (rc != 0 && *err == NULL)
		*err = "the changeset does not fit";
	for (int i = 0; i < nadd; i++)
		sqlite3_value_free(dflt[i]);
	free(dflt);
	free(pk);
	changeset_iter_release(&it);
	return rc == 0 ? 0 : -1;
}

void changeset_put_value(buf *out, sqlite3_value *v, int *rc)
{
	cs_value c = {.cv_type = CSV_UNDEFINED};

	if (v != NULL) {
		switch (sqlite3_value_type(v)) {
		case SQLITE_INTEGER:
			c.cv_type = CSV_INTEGER;
			c.cv_int = sqlite3_value_int64(v);
			break;
		case SQLITE_FLOAT:
			c.cv_type = CSV_FLOAT;
			c.cv_real = sqlite3_value_double(v);
			break;
		case SQLITE_TEXT:
			c.cv_type = CSV_TEXT;
			if ((c.cv_p = sqlite3_value_text(v)) == NULL) { /* out of memory */
				if (*rc == 0)
					*rc = -1;
				return;
			}
			c.cv_n = (size_t)sqlite3_value_bytes(v);
			break;
		case SQLITE_BLOB:
			c.cv_type = CSV_BLOB;
			c.cv_p = sqlite3_value_blob(v);
			c.cv_n = (size_t)sqlite3_value_bytes(v);
			break;
		default:
			c.cv_type = CSV_NULL;
			break;
		}
	}
	changeset_put_csvalue(out, &c, rc);
}

/* ---- live table shapes ---------------------------------------------------- */

void sync__tshape_release(sync__tshape *ts)
{
	if (ts->ts_cols)
		for (int i = 0; i < ts->ts_ncol; i++)
			free(ts->ts_cols[i]);
	free(ts->ts_cols);
	free(ts->ts_pk);
	free(ts->ts_aff);
	free(ts->ts_collist);
	memset(ts, 0, sizeof *ts);
}

char sync__affinity(const char *t)
{
	/* Only the plain names, whose affinity is plain (sqlite.org/datatype3.html);
	 * any other declared type reads as unknown (0), and so does none read
	 * (NULL: out of memory). */
	static const struct {
		const char *name;
		char aff;
	} plain[] = {{"", SYNC_AFF_BLOB},	    {"BLOB", SYNC_AFF_BLOB},	    {"TEXT", SYNC_AFF_TEXT},
		     {"INTEGER", SYNC_AFF_INTEGER}, {"INT", SYNC_AFF_INTEGER}, {"REAL", SYNC_AFF_REAL},
		     {"NUMERIC", SYNC_AFF_NUMERIC}};

	for (size_t i = 0; t && i < sizeof plain / sizeof plain[0]; i++)
		if (strcasecmp(t, plain[i].name) == 0)
			return plain[i].aff;
	return 0;
}

int sync__tshape_load(sqlite3 *db, const table_def *td, sync__tshape *ts)
{
	sqlite3_stmt *st = NULL;
	buf cl = BUF_INIT(64 * 1024);
	int n = 0, cap = 0, ret = -1, rc = 0;

	memset(ts, 0, sizeof *ts);
	ts->ts_td = td;
	ts->ts_id = ts->ts_hlc = ts->ts_scope = ts->ts_la = -1;
	ts->ts_row_office = ts->ts_row_la = ts->ts_final = ts->ts_soft_del = ts->ts_soft_seen = -1;
	if (db_prepare(db, &st, "SELECT name, pk, type FROM pragma_table_info(?1) ORDER BY cid") != 0)
		goto out;
	sqlite3_bind_text(st, 1, td->td_name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = db_col(st, 0), *type = db_col(st, 2);
		if (name == NULL || type == NULL)
			goto out; /* out of memory */
		if (n == cap) {
			int ncap = cap ? cap * 2 : 16;
			char **c = realloc(ts->ts_cols, (size_t)ncap * sizeof *c);
			unsigned char *p;
			if (c == NULL)
				goto out;
			ts->ts_cols = c;
			p = realloc(ts->ts_pk, (size_t)ncap);
			if (p == NULL)
				goto out;
			ts->ts_pk = p;
			p = realloc(ts->ts_aff, (size_t)ncap);
			if (p == NULL)
				goto out;
			ts->ts_aff = (char *)p;
			cap = ncap;
		}
		ts->ts_cols[n] = strdup(name);
		if (ts->ts_cols[n] == NULL)
			goto out;
		ts->ts_pk[n] = (unsigned char)sqlite3_column_int(st, 1);
		ts->ts_aff[n] = sync__affinity(type);
		ts->ts_ncol = ++n;
		if (strcmp(name, "id") == 0)
			ts->ts_id = n - 1;
		else if (strcmp(name, "updated_hlc") == 0)
			ts->ts_hlc = n - 1;
		if (strcmp(name, "local_area_id") == 0)
			ts->ts_la = n - 1;
		if (strcmp(name, "scope_office") == 0)
			ts->ts_row_office = n - 1;
		if (strcmp(name, "scope_la") == 0)
			ts->ts_row_la = n - 1;
		if (td->td_scope_col && strcmp(name, td->td_scope_col) == 0)
			ts->ts_scope = n - 1;
		if (td->td_final_col && strcmp(name, td->td_final_col) == 0)
			ts->ts_final = n - 1;
		if (td->td_soft_delete_col && strcmp(name, td->td_soft_delete_col) == 0)
			ts->ts_soft_del = n - 1;
		if (td->td_soft_delete_col &&
		    strncmp(name, td->td_soft_delete_col, strlen(td->td_soft_delete_col)) == 0 &&
		    strcmp(name + strlen(td->td_soft_delete_col), "_seen") == 0)
			ts->ts_soft_seen = n - 1;
		if (buf_printf(&cl, "%s\"%s\"", n > 1 ? "," : "", name) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE || n == 0 || ts->ts_id < 0) {
		log_warnx("cannot read the shape of table '%s'", td->td_name);
		goto out;
	}
	ts->ts_collist = buf_detach(&cl, NULL);
	if (ts->ts_collist == NULL)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	buf_release(&cl);
	if (ret != 0)
		sync__tshape_release(ts);
	return ret;
}

static const char *val_text(sqlite3_value *v)
{
	if (v == NULL || sqlite3_value_type(v) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_value_text(v);
}

void sync__row_scope(const sync__tshape *ts, sqlite3_value **row, const char **office,
		     const char **la)
{
	*office = *la = NULL;
	switch (ts->ts_td->td_scope) {
	case SCOPE_OFFICE:
		if (ts->ts_scope >= 0)
			*office = val_text(row[ts->ts_scope]);
		if (ts->ts_la >= 0)
			*la = val_text(row[ts->ts_la]);
		break;
	case SCOPE_LOCAL_AREA:
		if (ts->ts_scope >= 0)
			*la = val_text(row[ts->ts_scope]);
		break;
	case SCOPE_ROW:
		if (ts->ts_row_office >= 0)
			*office = val_text(row[ts->ts_row_office]);
		if (ts->ts_row_la >= 0)
			*la = val_text(row[ts->ts_row_la]);
		break;
	default:
		break;
	}
}

int sync__scope_holds(const sync_scope *sc, const char *office, const char *la)
{
	if (sc == NULL)
		return 1;
	if (office && (sc->office_id == NULL || strcmp(office, sc->office_id) != 0))
		return 0;
	if (la && (sc->local_area_id == NULL || strcmp(la, sc->local_area_id) != 0))
		return 0;
	return 1;
}

int64_t sync__log_head(sqlite3 *db)
{
	int64_t a = db_int(db, "SELECT seq FROM sqlite_sequence WHERE name='change_log'", 0);
	int64_t b = db_int(db, "SELECT max(seq) FROM change_log", 0);

	return a > b ? a : b;
}
