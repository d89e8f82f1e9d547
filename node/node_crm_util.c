/*
 * node_crm_util.c - the helpers the CRM's route files share (node_crm.h):
 * paged and plain row replies, FTS and LIKE search patterns, staff checks,
 * the field rules of employers, contacts and locations with their reader
 * and the changed-columns update, the list filters, the duplicate check,
 * and contact insertion.  Includes no sibling's header but node_crm.h.
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ------------------------------------------------------- */

route_rc crm__rows(route_call *a, sqlite3_stmt *st)
{
	cJSON *arr = db_rows_json(st);

	sqlite3_finalize(st);
	return arr ? route_ok(a, 200, arr) : ROUTE_DBERR;
}

int crm__fts_count(node *n, const char *fts_table, const char *phrase, int cap)
{
	char sql[200];
	sqlite3_stmt *st;
	int count = -1;

	snprintf(sql, sizeof sql, "SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s MATCH ?1 LIMIT ?2)",
		 fts_table, fts_table);
	if (db_prepare(n->nd_db, &st, sql) != 0)
		return -1;
	sqlite3_bind_text(st, 1, phrase, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, cap + 1);
	if (sqlite3_step(st) == SQLITE_ROW)
		count = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return count;
}

route_rc crm__page(route_call *a, sqlite3_stmt *st, int limit, int offset, int newest)
{
	cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
	int rc, count = 0, more = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == limit) {
			more = 1;
			break;
		}
		cJSON_AddItemToArray(items, db_row_json(st));
		count++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		cJSON_Delete(o);
		return ROUTE_DBERR;
	}
	cJSON_AddNumberToObject(o, "limit", limit);
	cJSON_AddNumberToObject(o, "offset", offset);
	cJSON_AddBoolToObject(o, "more", more);
	if (newest)
		cJSON_AddStringToObject(o, "order", "newest");
	return route_ok(a, 200, o);
}

int crm__list_args(route_call *a, crm_list *l)
{
	int bad = route_qint(a, "limit", CRM_PAGE_DEFAULT, 1, CRM_PAGE_MAX, &l->limit);

	bad |= route_qint(a, "offset", 0, 0, 10000000, &l->offset);
	bad |= route_qtext(a, "q", CRM_Q_MAX, l->q, sizeof l->q);
	return bad;
}

/* Prepare what sql holds and release it: 0 or -1. */
static int prepare_built(node *n, sqlite3_stmt **st, buf *sql)
{
	int rc = buf_failed(sql) || sql->data == NULL ? -1 : db_prepare(n->nd_db, st, sql->data);

	buf_release(sql);
	return rc;
}

route_rc crm__page_query(route_call *a, const crm_list *l, buf *sql, int newest,
			 const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int np, bad = 0;

	if (prepare_built(API_NODE(a), &st, sql) != 0)
		return ROUTE_DBERR;
	np = sqlite3_bind_parameter_count(st);
	va_start(ap, types);
	for (int i = 1; types[i - 1]; i++) {
		int iv = types[i - 1] == 'i' ? va_arg(ap, int) : 0;
		const char *tv = types[i - 1] == 'i' ? NULL : va_arg(ap, const char *);
		if (i > np) /* past the filters this query uses */
			continue;
		if ((types[i - 1] == 'i' ? sqlite3_bind_int(st, i, iv) : db_bind_static(st, i, tv)) !=
		    SQLITE_OK)
			bad = 1;
	}
	va_end(ap);
	if (bad) {
		sqlite3_finalize(st);
		return ROUTE_DBERR;
	}
	return crm__page(a, st, l->limit, l->offset, newest);
}

static int staff_row(node *n, const char *id, int *active, int *wg)
{
	sqlite3_stmt *st;
	int found = 0;

	if (db_prepare(n->nd_db, &st, "SELECT active, crm_work_group FROM staff WHERE id=?") != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		*active = sqlite3_column_int(st, 0);
		*wg = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return found;
}

int crm__check_assignee(node *n, const char *staff_id, const char *field, json_err *e)
{
	int active = 0, wg = 0, found = staff_row(n, staff_id, &active, &wg);
	char msg[160];

	if (found < 0) {
		json_err_set(e, field, "cannot read the staff directory");
		return -1;
	}
	if (crm_can_assign(found, active, wg, msg, sizeof msg) != 0) {
		json_err_set(e, field, "%s", msg);
		return -1;
	}
	return 0;
}

int crm__check_staff(node *n, const char *staff_id, const char *field, json_err *e)
{
	int active = 0, wg = 0, found = staff_row(n, staff_id, &active, &wg);

	if (found <= 0 || !active) {
		json_err_set(e, field, "no such active staff member");
		return -1;
	}
	return 0;
}

static sqlite3_stmt *prepare_dated(node *n, const char *sql, const char *key, char today[11])
{
	sqlite3_stmt *st;

	node_today(n, today);
	if (db_prepare(n->nd_db, &st, sql) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, today, -1, SQLITE_STATIC);
	return st;
}

cJSON *crm__dated_rows(node *n, const char *sql, const char *key)
{
	char today[11];
	sqlite3_stmt *st = prepare_dated(n, sql, key, today);
	cJSON *arr;

	if (st == NULL)
		return NULL;
	arr = db_rows_json(st);
	sqlite3_finalize(st);
	return arr;
}

cJSON *crm__dated_row(node *n, const char *sql, const char *key)
{
	char today[11];
	sqlite3_stmt *st = prepare_dated(n, sql, key, today);
	cJSON *o = NULL;

	if (st == NULL)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		o = db_row_json(st);
	sqlite3_finalize(st);
	return o;
}

const char *crm__office(const node *n, const node_user *u)
{
	return n->nd_office_id[0] ? n->nd_office_id : u->office_id;
}

int crm__exists(node *n, const char *table, const char *id)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE id=?", table);
	if (db_prepare(n->nd_db, &st, sql) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int crm__fts_query(const char *s, char *out, size_t n)
{
	size_t j = 0;
	int words = 0;

	if (s == NULL || n < 8)
		return -1;
	out[0] = '\0';
	while (*s) {
		const char *w = s;
		size_t len;
		while (*w && !isalnum((unsigned char)*w) && (unsigned char)*w < 0x80)
			w++;
		s = w;
		while (*s && (isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80))
			s++;
		len = (size_t)(s - w);
		if (len == 0)
			break;
		if (j + len + 12 >= n)
			return -1;
		j += (size_t)snprintf(out + j, n - j, "%s\"%.*s\"", words ? " AND " : "", (int)len, w);
		words++;
	}
	if (words == 0)
		return -1;
	/* Only the last word is a prefix (it is the one being typed): a prefix
	 * longer than the index's prefix sizes makes FTS5 merge every
	 * matching term's list up front, whole words are read lazily. */
	out[j++] = '*';
	out[j] = '\0';
	return 0;
}

/* Trimmed string field into a bump arena; JSON_NULLABLE unless flags say. */

int crm__get_str(const cJSON *body, const char *name, int flags, size_t max, const char **out,
		   arena *ar, json_err *e)
{
	size_t room = sizeof ar->a_buf - ar->a_used;

	if (json_get_str(body, name, flags | JSON_NULLABLE, (flags & JSON_REQUIRED) ? 1 : 0, max, out,
			 ar->a_buf + ar->a_used, room, e) != 0)
		return -1;
	if (*out)
		ar->a_used += strlen(*out) + 1;
	return 0;
}

void crm__employer_values(crm_conversion *cv, const cJSON *cur, const char *const *vals,
			  const int *present)
{
	memset(cv, 0, sizeof *cv);
	cv->account_type = json_str(cur, "account_type");
	cv->status = json_str(cur, "status");
#define PICK(i) (present[i] ? vals[i] : json_str(cur, crm_employer_fields[i].name))
	cv->company_name = PICK(EF_NAME);
	cv->edd_account_number = PICK(EF_EDD);
	cv->zip = PICK(EF_ZIP);
	cv->street = PICK(EF_STREET);
	cv->city = PICK(EF_CITY);
	cv->state = PICK(EF_STATE);
	cv->phone = PICK(EF_PHONE);
	cv->industry = PICK(EF_INDUSTRY);
#undef PICK
}

/* One field of spec into *val (validated): 0, or -1 with e set. */
static int read_field(const cJSON *body, const crm_field *f, const char **val, arena *ar, json_err *e)
{
	char *v;

	if (crm__get_str(body, f->name, 0, f->max, val, ar, e) != 0)
		return -1;
	if (*val == NULL)
		return 0;
	v = (char *)*val;
	if (f->upper)
		for (char *p = v; *p; p++)
			*p = (char)toupper((unsigned char)*p);
	if (f->valid && f->valid(v) != 0) {
		json_err_set(e, f->name, "%s", f->msg);
		return -1;
	}
	return 0;
}

/*
 * Read every field of spec present in body into vals (NULL = absent or
 * empty), validated; present[i] says whether the key was sent (an empty
 * string or null clears the column on update).  prefix names nested fields
 * ("contacts[0].").  With a call (a), every field's error is collected in
 * it (e is left empty); without, the first error stops the reading, in e.
 * 0 or -1.
 */
int crm__read_fields(const cJSON *body, const crm_field *spec, int nf, const char **vals,
		       int *present, arena *ar, const char *prefix, json_err *e, route_call *a)
{
	json_err one;
	int bad = 0;

	for (int i = 0; i < nf; i++) {
		vals[i] = NULL;
		present[i] = cJSON_GetObjectItemCaseSensitive(body, spec[i].name) != NULL;
		memset(&one, 0, sizeof one);
		if (read_field(body, &spec[i], &vals[i], ar, &one) == 0)
			continue;
		vals[i] = NULL;
		bad = -1;
		if (prefix)
			json_err_prefix(&one, prefix);
		if (a == NULL) {
			*e = one;
			return -1;
		}
		route_err_json(a, &one);
	}
	return bad;
}

/*
 * UPDATE table SET <changed columns>, updated_hlc WHERE id: compares each
 * present field with the current row and writes only the ones that differ,
 * so the changeset carries exactly the columns this edit changed.  extra
 * columns (names, values) are always compared too.  Returns the number of
 * columns written, or -1.
 */
int crm__update_changed(node *n, const char *table, const char *id, const crm_field *spec, int nf,
			  const char **vals, const int *present, const char **xcols,
			  const char **xvals, int nx)
{
	buf sql = BUF_INIT(16384);
	const char **nv = NULL;
	int nc = 0, ret = -1;
	sqlite3_stmt *cur = NULL, *st = NULL;
	char ts[HLC_STRLEN];

	if (db_preparef(n->nd_db, &cur, "SELECT * FROM \"%w\" WHERE id=?", table) != 0)
		return -1;
	sqlite3_bind_text(cur, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(cur) != SQLITE_ROW || (nv = calloc((size_t)(nf + nx) + 1, sizeof *nv)) == NULL)
		goto out;
	buf_printf(&sql, "UPDATE \"%s\" SET ", table);
	for (int k = 0; k < nf + nx; k++) {
		const char *col = k < nf ? spec[k].name : xcols[k - nf];
		const char *val = k < nf ? vals[k] : xvals[k - nf];
		if (k < nf && !present[k])
			continue;
		for (int c = 0; c < sqlite3_column_count(cur); c++) {
			if (strcmp(sqlite3_column_name(cur, c), col) != 0)
				continue;
			int is_null = sqlite3_column_type(cur, c) == SQLITE_NULL;
			const char *old = is_null ? NULL : db_col(cur, c);

			if (old == NULL && !is_null)
				goto out; /* out of memory */
			if ((old == NULL && val == NULL) || (old && val && strcmp(old, val) == 0))
				break;
			/* Every changed column, however many: the buffer is bounded and
			 * checked, never cut short. */
			buf_printf(&sql, "\"%s\"=?, ", col);
			nv[nc++] = val;
			break;
		}
	}
	if (nc == 0) {
		ret = 0;
		goto out;
	}
	buf_puts(&sql, "updated_hlc=? WHERE id=?");
	if (buf_failed(&sql) || db_prepare(n->nd_db, &st, sql.data) != 0)
		goto out;
	for (int i = 0; i < nc; i++)
		db_bind_text(st, i + 1, nv[i]);
	hlc_now(&n->nd_hlc, ts);
	sqlite3_bind_text(st, nc + 1, ts, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, nc + 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		ret = nc;
out:
	sqlite3_finalize(cur);
	sqlite3_finalize(st);
	buf_release(&sql);
	free(nv);
	return ret;
}

/* ---- lists ------------------------------------------------------------------- */

int crm__employer_filters(route_call *a, const char *def_owner, crm_list *l)
{
	const node_user *u = API_USER(a);
	char *ob = l->owner_buf, *tb = l->type_buf;

	if (!http_req_query(a->rc_req, "owner", ob, sizeof l->owner_buf) || ob[0] == '\0')
		snprintf(ob, sizeof l->owner_buf, "%s", def_owner);
	l->owner = strcmp(ob, "all") == 0 ? NULL : strcmp(ob, "me") == 0 ? u->id : ob;
	l->type = NULL;
	if (!http_req_query(a->rc_req, "account_type", tb, sizeof l->type_buf) || tb[0] == '\0' ||
	    strcmp(tb, "all") == 0)
		return 0;
	if (crm_valid_account_type(tb) != 0)
		return route_err(a, "account_type", "account_type must be lead, recruiting or all");
	l->type = tb;
	return 0;
}

/*
 * Company name search: q normalized like the stored names, then either an
 * FTS5 query for crm_employers_fts (each word typed starts a word of the
 * name) or, when q has no word at all, a GLOB prefix pattern on
 * normalized_name (an index range).  Returns NAME_FTS,
 * NAME_PREFIX, or NAME_NONE when q is empty.
 */

int crm__name_search(const char *q, char *pat, size_t n)
{
	char norm[CRM_NORM_MAX];
	size_t j = 0;

	pat[0] = '\0';
	if (q == NULL || q[0] == '\0')
		return NAME_NONE;
	if (crm_normalize_name(q, norm, sizeof norm) != 0)
		snprintf(norm, sizeof norm, "%s", q);
	if (crm__fts_query(norm, pat, n) == 0)
		return NAME_FTS;
	for (const char *p = norm; *p && j + 5 < n; p++) {
		if (*p == '*' || *p == '?' || *p == '[') {
			pat[j++] = '[';
			pat[j++] = *p;
			pat[j++] = ']';
		} else {
			pat[j++] = *p;
		}
	}
	pat[j++] = '*';
	pat[j] = '\0';
	return NAME_PREFIX;
}

/* Append the SQL selecting the employer rowids of a crm__name_search() result
 * bound as ?param.  Returns the new length. */
void crm__name_search_sql(buf *sql, int kind, int param)
{
	if (kind == NAME_FTS)
		buf_printf(sql, "SELECT rowid AS r FROM crm_employers_fts WHERE crm_employers_fts MATCH ?%d",
			   param);
	else
		buf_printf(sql, "SELECT rowid AS r FROM employers WHERE normalized_name GLOB ?%d", param);
}


/*
 * Likely duplicates of a company being typed: the same EDD Account Number
 * ("edd_account": the employer's tax account, whatever its name; edd
 * normalized, or NULL), the same normalized name (any ZIP; "name_zip" when
 * the ZIP matches too), or a name starting with the typed one in the same
 * ZIP ("similar").  Every office's employers count.
 */
cJSON *crm__find_duplicates(node *n, const char *norm, const char *zip5, const char *edd,
			    const char *exclude)
{
	char like[CRM_NORM_MAX + 4];
	const char *args[5] = {norm, zip5 ? zip5 : "", like, exclude, edd ? edd : ""};

	db_like_pattern(norm, 0, like, sizeof like);
	return db_rows_json_args(n->nd_db,
				 "SELECT e.id, e.company_name, e.account_type, e.username, e.zip, e.city, e.status,"
				 " e.lead_owner_id, ow.display_name AS lead_owner_name, e.office_id,"
				 " o.name AS office_name,"
				 " CASE WHEN ?5 <> '' AND e.edd_account_number = ?5 THEN 'edd_account'"
				 "      WHEN e.normalized_name = ?1 AND e.zip5 = ?2 THEN 'name_zip'"
				 "      WHEN e.normalized_name = ?1 THEN 'name' ELSE 'similar' END AS match"
				 " FROM employers e LEFT JOIN staff ow ON ow.id = e.lead_owner_id"
				 " LEFT JOIN offices o ON o.id = e.office_id"
				 " WHERE e.id IN (SELECT id FROM employers WHERE normalized_name = ?1"
				 "   UNION SELECT id FROM employers WHERE ?2 <> '' AND zip5 = ?2"
				 "   AND normalized_name LIKE ?3 ESCAPE '\\' AND length(?1) >= 3"
				 "   UNION SELECT id FROM employers WHERE ?5 <> '' AND edd_account_number = ?5)"
				 " AND (?4 IS NULL OR e.id <> ?4) AND e.duplicate_of IS NULL"
				 " ORDER BY match = 'edd_account' DESC, match = 'name_zip' DESC, match = 'name' DESC,"
				 " e.company_name LIMIT 20",
				 5, args);
}

/* One contact row of an employer (cv: the contact_fields values). */

int crm__insert_contact(node *n, const char *employer_id, const char **cv, const char *actor,
			char out_id[UUID_STRLEN])
{
	char ts[HLC_STRLEN];
	uint64_t now = crm__new_row(n, out_id, ts);

	return db_run(n->nd_db,
		      "INSERT INTO employer_contacts(id, employer_id, kind, name, title, phone, email,"
		      " status, created_by, created_at, updated_hlc) VALUES(?,?,?,?,?,?,?,'active',?,?,?)",
		      "ttttttttIt", out_id, employer_id, cv[0] ? cv[0] : "primary", cv[1], cv[2], cv[3],
		      cv[4], actor, (int64_t)now, ts);
}

int crm__username_taken(node *n, const char *username, const char *except)
{
	sqlite3_stmt *st;
	int taken;

	if (db_prepare(n->nd_db, &st, "SELECT 1 FROM employers WHERE username=? AND id<>?") != 0)
		return -1;
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, except, -1, SQLITE_STATIC);
	taken = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return taken;
}

/* ---- replication conflicts -------------------------------------------------------- */

/* A JSON text from the conflicts table as a value (NULL text = null). */
static cJSON *json_text_value(const char *s)
{
	cJSON *v = s ? cJSON_Parse(s) : NULL;

	return v ? v : s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

cJSON *crm__conflicts_of(node *n, const char *table, const char *row_id, int of_employer)
{
	char sql[640], where[160];
	sqlite3_stmt *st;
	cJSON *arr = cJSON_CreateArray();

	/* table is one of our fixed names, never user input. */
	if (of_employer)
		snprintf(where, sizeof where, "c.row_id IN (SELECT id FROM %s WHERE employer_id = ?2)",
			 table);
	else
		snprintf(where, sizeof where, "c.row_id = ?2");
	snprintf(sql, sizeof sql,
		 "SELECT c.id, c.tbl, c.row_id, c.column_name, c.base_value, c.local_value,"
		 " c.remote_value, c.winner, c.created_at, c.node_id, c.actor,"
		 " s.display_name AS actor_name, c.reason FROM conflicts c"
		 " LEFT JOIN staff s ON s.id = c.actor"
		 " WHERE c.tbl = ?1 AND c.resolved_at IS NULL AND %s ORDER BY c.created_at, c.id LIMIT 100",
		 where);
	if (db_prepare(n->nd_db, &st, sql) != 0)
		return arr;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *winner = db_col(st, 7), *col = db_col(st, 3);
		cJSON *o;
		int local_won;

		if (winner == NULL || col == NULL) { /* out of memory: no list, not a shorter one */
			cJSON_Delete(arr);
			arr = NULL;
			break;
		}
		o = cJSON_CreateObject();
		local_won = strcmp(winner, "local") == 0;
		for (int i = 0; i < 4; i++)
			cJSON_AddStringToObject(o, sqlite3_column_name(st, i),
						(const char *)sqlite3_column_text(st, i));
		cJSON_AddItemToObject(o, "base_value",
				      json_text_value((const char *)sqlite3_column_text(st, 4)));
		cJSON_AddItemToObject(o, "kept_value", json_text_value((const char *)sqlite3_column_text(
							       st, local_won ? 5 : 6)));
		cJSON_AddItemToObject(o, "other_value", json_text_value((const char *)sqlite3_column_text(
								st, local_won ? 6 : 5)));
		cJSON_AddBoolToObject(o, "deleted", strcmp(col, "*deleted*") == 0);
		cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(st, 8));
		for (int i = 9; i < 13; i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);
			if (v)
				cJSON_AddStringToObject(o, sqlite3_column_name(st, i), v);
			else
				cJSON_AddNullToObject(o, sqlite3_column_name(st, i));
		}
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	return arr;
}

route_rc crm__writable_employer(route_call *a, const char *employer_id)
{
	int rc = crm__exists(API_NODE(a), "employers", employer_id);

	if (rc <= 0)
		return rc < 0 ? ROUTE_DBERR : route_fail(a, 404, "id", "no such employer");
	return crm__refuse_locked(a, employer_id);
}

route_rc crm__writable_row(route_call *a, const char *table, const char *what, const char *id,
			   char emp[CRM_ID_MAX])
{
	char sql[96];
	int rc;

	snprintf(sql, sizeof sql, "SELECT employer_id FROM %s WHERE id=?", table);
	rc = db_text(API_NODE(a)->nd_db, sql, id, emp, CRM_ID_MAX);
	if (rc != 0)
		return rc < 0 ? ROUTE_DBERR : route_fail(a, 404, "id", "no such %s", what);
	return crm__refuse_locked(a, emp);
}

uint64_t crm__new_row(node *n, char id[UUID_STRLEN], char ts[HLC_STRLEN])
{
	uint64_t now = node_now_ms(n);

	uuid7_at(id, now);
	hlc_now(&n->nd_hlc, ts);
	return now;
}

route_rc crm__refuse_unvetted(route_call *a, const char *employer_id, crm_vetted what,
			      const char *field, const char *lead_in)
{
	char vs[16] = "";
	const char *why;

	if (db_text(API_NODE(a)->nd_db, "SELECT coalesce(vetting_status, '') FROM employers WHERE id=?",
		    employer_id, vs, sizeof vs) < 0)
		return ROUTE_DBERR;
	if ((why = crm_job_order_vetting_check(vs, what)) == NULL)
		return ROUTE_OK;
	return route_fail(a, 409, field, "%s%s%s", lead_in ? lead_in : "", lead_in ? ": " : "", why);
}

route_rc crm__refuse_locked(route_call *a, const char *employer_id)
{
	node *n = API_NODE(a);
	sqlite3_stmt *st;
	route_rc rr = ROUTE_OK;

	if (db_prepare(n->nd_db, &st,
		       "SELECT coalesce(vetting_reason, '') FROM employers WHERE id=? AND vetting_status='locked'") != 0)
		return ROUTE_DBERR;
	sqlite3_bind_text(st, 1, employer_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *why = db_col(st, 0);

		if (why == NULL) {
			sqlite3_finalize(st);
			return ROUTE_DBERR;
		}
		rr = route_fail(a, 409, "id",
				"this employer's account is locked after vetting%s%s%s: no services,"
				" referrals, job orders or edits until WSB staff unlock it",
				why[0] ? " (" : "", why, why[0] ? ")" : "");
	}
	sqlite3_finalize(st);
	return rr;
}
