/*
 * node_crm.c - the CRM's JSON API on the office node, part 1: marketing leads
 * and recruiting employers (list, duplicate check while typing, create by
 * manual entry or from an external employer or the local employer sites
 * search, summary, edit, conversion to Recruiting Employer and its vetting
 * result), case notes, contacts and the Contacts List, locations, the
 * external employers list, the business directory, possible-duplicate flags
 * and their review, and the lists the CRM pages need.  Free-text searches
 * go through the FTS5 indexes of schema_crm.c (crm__fts_query); the
 * summary carries the edits that crossed between offices (conflicts).
 *
 * CRM data is statewide: the node holds every office's leads, so the
 * duplicate check sees them all.  Every write is one captured transaction
 * (node_write_begin/finish) and only changed columns are written, so the
 * hub's column-wise merge keeps concurrent edits of other columns.  Logs name
 * ids only, never company or contact details.
 */
#include "node/node_crm.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ------------------------------------------------------- */

const node_user *crm__user(node *n, http_req *req, unsigned privs)
{
	if (node_auth_require(n, req, privs) != 0)
		return NULL;
	return node_auth_user(n, req);
}

void crm__bad(http_req *req, const json_err *e)
{
	http_reply_error(req, 400, e->field[0] ? e->field : NULL, "%s", e->msg);
}

int crm__qint(http_req *req, const char *name, int def, int min, int max, int *out)
{
	char v[32], *end;
	long x;

	*out = def;
	if (!http_req_query(req, name, v, sizeof v) || v[0] == '\0')
		return 0;
	x = strtol(v, &end, 10);
	if (*end != '\0' || x < min || x > max) {
		http_reply_error(req, 400, name, "%s must be a whole number from %d to %d", name, min,
				 max);
		return -1;
	}
	*out = (int)x;
	return 0;
}

int crm__qdate(http_req *req, const char *name, char out[11])
{
	char v[32];

	out[0] = '\0';
	if (!http_req_query(req, name, v, sizeof v) || v[0] == '\0')
		return 0;
	if (json_valid_date(v) != 0) {
		http_reply_error(req, 400, name, "%s must be a date (YYYY-MM-DD)", name);
		return -1;
	}
	memcpy(out, v, 11);
	return 0;
}

void crm__reply_rows(node *n, http_req *req, sqlite3_stmt *st)
{
	cJSON *arr = db_rows_json(st);

	(void)n;
	sqlite3_finalize(st);
	if (arr == NULL)
		node_reply_db_error(req);
	else
		http_reply_json(req, 200, arr);
}

void crm__reply_page(http_req *req, sqlite3_stmt *st, int limit, int offset)
{
	crm__reply_page_order(req, st, limit, offset, 0);
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

void crm__reply_page_order(http_req *req, sqlite3_stmt *st, int limit, int offset, int newest)
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
		node_reply_db_error(req);
		return;
	}
	cJSON_AddNumberToObject(o, "limit", limit);
	cJSON_AddNumberToObject(o, "offset", offset);
	cJSON_AddBoolToObject(o, "more", more);
	if (newest)
		cJSON_AddStringToObject(o, "order", "newest");
	http_reply_json(req, 200, o);
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

void crm__reply_csv(http_req *req, buf *b, int step_rc, const char *file)
{
	char disp[160];

	if (step_rc != SQLITE_DONE || buf_failed(b)) {
		node_reply_db_error(req);
		return;
	}
	snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", file);
	http_add_header(req, "Content-Disposition", disp);
	http_reply(req, 200, "text/csv; charset=utf-8", b->data ? b->data : "", b->len);
}

void crm__like(const char *s, char *out, size_t n)
{
	size_t j = 0;

	if (n < 3) {
		if (n)
			out[0] = '\0';
		return;
	}
	out[j++] = '%';
	for (; s && *s && j + 3 < n; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			out[j++] = '\\';
		out[j++] = *s;
	}
	out[j++] = '%';
	out[j] = '\0';
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
typedef struct arena {
	char a_buf[16384];
	size_t a_used;
} arena;

static int get_str(const cJSON *body, const char *name, int flags, size_t max, const char **out,
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

/* ---- field rules for employers, contacts and locations -------------------- */

static int v_zip(const char *s) { return crm_valid_zip(s, NULL); }
static int v_edd(const char *s) { return crm_valid_edd_account(s, NULL); }
static int v_status(const char *s) { return strcmp(s, "active") == 0 || strcmp(s, "inactive") == 0 ? 0 : -1; }
static int v_kind(const char *s) { return strcmp(s, "primary") == 0 || strcmp(s, "secondary") == 0 ? 0 : -1; }

typedef struct efield {
	const char *name;
	size_t max;
	int (*valid)(const char *);
	const char *msg;
	int upper; /* store upper-cased */
} efield;

static const efield employer_fields[] = {
	{"company_name", CRM_NAME_MAX, NULL, NULL, 0},
	{"edd_account_number", 20, v_edd, "EDD Account Number must be 7 or 8 digits (e.g. 123-4567-8)", 0},
	{"zip", 10, v_zip, "ZIP code must be 5 digits or ZIP+4 (12345-6789)", 0},
	{"street", CRM_STREET_MAX, NULL, NULL, 0},
	{"city", CRM_CITY_MAX, NULL, NULL, 0},
	{"state", 2, crm_valid_state, "state must be two letters (e.g. CA)", 1},
	{"mailing_street", CRM_STREET_MAX, NULL, NULL, 0},
	{"mailing_city", CRM_CITY_MAX, NULL, NULL, 0},
	{"mailing_state", 2, crm_valid_state, "mailing state must be two letters (e.g. CA)", 1},
	{"mailing_zip", 10, v_zip, "mailing ZIP code must be 5 digits or ZIP+4", 0},
	{"phone", CRM_PHONE_MAX, crm_valid_phone, "phone number must have 10 to 15 digits", 0},
	{"email", CRM_EMAIL_MAX, crm_valid_email, "email address is not valid", 0},
	{"website", CRM_URL_MAX, crm_valid_url, "web address is not valid (e.g. www.example.com)", 0},
	{"industry", 6, crm_valid_naics, "industry must be a NAICS code of 2 to 6 digits", 0},
	{"pe_organization", CRM_NAME_MAX, NULL, NULL, 0},
	{"lead_owner_id", 64, NULL, NULL, 0},
	{"status", 8, v_status, "status must be active or inactive", 0},
	{"username", CRM_USERNAME_MAX, crm_valid_username,
	 "user name must be 4 to 40 letters, digits, '.', '_' or '-'", 0},
};
#define NEF ((int)(sizeof employer_fields / sizeof employer_fields[0]))
enum { EF_NAME, EF_EDD, EF_ZIP, EF_STATE = 5, EF_OWNER = 15, EF_STATUS, EF_USERNAME };

static const efield contact_fields[] = {
	{"kind", 10, v_kind, "kind must be primary or secondary", 0},
	{"name", 120, NULL, NULL, 0},
	{"title", CRM_TITLE_MAX, NULL, NULL, 0},
	{"phone", CRM_PHONE_MAX, crm_valid_phone, "phone number must have 10 to 15 digits", 0},
	{"email", CRM_EMAIL_MAX, crm_valid_email, "email address is not valid", 0},
	{"status", 8, v_status, "status must be active or inactive", 0},
};
#define NCF ((int)(sizeof contact_fields / sizeof contact_fields[0]))

static const efield location_fields[] = {
	{"name", CRM_NAME_MAX, NULL, NULL, 0},
	{"street", CRM_STREET_MAX, NULL, NULL, 0},
	{"city", CRM_CITY_MAX, NULL, NULL, 0},
	{"state", 2, crm_valid_state, "state must be two letters (e.g. CA)", 1},
	{"zip", 10, v_zip, "ZIP code must be 5 digits or ZIP+4 (12345-6789)", 0},
	{"phone", CRM_PHONE_MAX, crm_valid_phone, "phone number must have 10 to 15 digits", 0},
	{"status", 8, v_status, "status must be active or inactive", 0},
};
#define NLF ((int)(sizeof location_fields / sizeof location_fields[0]))

/*
 * Read every field of spec present in body into vals (NULL = absent or
 * empty), validated; present[i] says whether the key was sent (an empty
 * string or null clears the column on update).  prefix names nested fields
 * ("contacts[0].").  0 or -1 with e set.
 */
static int read_fields(const cJSON *body, const efield *spec, int nf, const char **vals,
		       int *present, arena *ar, const char *prefix, json_err *e)
{
	for (int i = 0; i < nf; i++) {
		char *v;
		vals[i] = NULL;
		present[i] = cJSON_GetObjectItemCaseSensitive(body, spec[i].name) != NULL;
		if (get_str(body, spec[i].name, 0, spec[i].max, &vals[i], ar, e) != 0)
			goto bad;
		if (vals[i] == NULL)
			continue;
		v = (char *)vals[i];
		if (spec[i].upper)
			for (char *p = v; *p; p++)
				*p = (char)toupper((unsigned char)*p);
		if (spec[i].valid && spec[i].valid(v) != 0) {
			json_err_set(e, spec[i].name, "%s", spec[i].msg);
			goto bad;
		}
	}
	return 0;
bad:
	if (prefix)
		json_err_prefix(e, prefix);
	return -1;
}

/*
 * UPDATE table SET <changed columns>, updated_hlc WHERE id: compares each
 * present field with the current row and writes only the ones that differ,
 * so the changeset carries exactly the columns this edit changed.  extra
 * columns (names, values) are always compared too.  Returns the number of
 * columns written, or -1.
 */
static int update_changed(node *n, const char *table, const char *id, const efield *spec, int nf,
			  const char **vals, const int *present, const char **xcols,
			  const char **xvals, int nx)
{
	char sql[2048];
	const char *cols[40], *nv[40];
	int nc = 0, ret = -1;
	size_t len;
	sqlite3_stmt *cur = NULL, *st = NULL;
	char ts[HLC_STRLEN];

	snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE id=?", table);
	if (db_prepare(n->nd_db, &cur, sql) != 0)
		return -1;
	sqlite3_bind_text(cur, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(cur) != SQLITE_ROW)
		goto out;
	for (int k = 0; k < nf + nx; k++) {
		const char *col = k < nf ? spec[k].name : xcols[k - nf];
		const char *val = k < nf ? vals[k] : xvals[k - nf];
		if (k < nf && !present[k])
			continue;
		for (int c = 0; c < sqlite3_column_count(cur); c++) {
			if (strcmp(sqlite3_column_name(cur, c), col) != 0)
				continue;
			const char *old = (const char *)sqlite3_column_text(cur, c);
			if ((old == NULL && val == NULL) || (old && val && strcmp(old, val) == 0))
				break;
			if (nc < 40) {
				cols[nc] = col;
				nv[nc++] = val;
			}
			break;
		}
	}
	if (nc == 0) {
		ret = 0;
		goto out;
	}
	len = (size_t)snprintf(sql, sizeof sql, "UPDATE %s SET ", table);
	for (int i = 0; i < nc; i++)
		len += (size_t)snprintf(sql + len, sizeof sql - len, "%s=?, ", cols[i]);
	snprintf(sql + len, sizeof sql - len, "updated_hlc=? WHERE id=?");
	if (db_prepare(n->nd_db, &st, sql) != 0)
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
	return ret;
}

/* ---- JSON views ------------------------------------------------------------- */

#define EMPLOYER_COLS                                                                          \
	"e.id, e.account_type, e.created_as, e.company_name, e.normalized_name, e.username,"     \
	" e.edd_account_number, e.zip, e.street, e.city, e.state, e.mailing_street,"             \
	" e.mailing_city, e.mailing_state, e.mailing_zip, e.phone, e.email, e.website,"          \
	" e.industry, e.pe_organization, e.lead_owner_id, ow.display_name AS lead_owner_name,"   \
	" e.office_id, o.name AS office_name, e.local_area_id, e.created_by, e.created_at,"      \
	" e.source, e.external_employer_id, e.directory_id, e.vetting_status,"                   \
	" e.vetting_started_at, e.vetting_due_at, e.converted_at, e.converted_by, e.status,"     \
	" e.duplicate_of, e.updated_hlc"
#define EMPLOYER_FROM                                                                          \
	" FROM employers e LEFT JOIN staff ow ON ow.id = e.lead_owner_id"                        \
	" LEFT JOIN offices o ON o.id = e.office_id"

cJSON *crm__employer_json(node *n, const char *id)
{
	sqlite3_stmt *st = NULL;
	cJSON *o = NULL, *x;
	char plain[CRM_USERNAME_MAX + 1];

	if (db_prepare(n->nd_db, &st, "SELECT " EMPLOYER_COLS EMPLOYER_FROM " WHERE e.id=?") != 0)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = db_row_json(st);
	sqlite3_finalize(st);
	if (o == NULL)
		return NULL;
	{
		const char *u = json_str(o, "username");
		cJSON_AddBoolToObject(o, "has_mkt_prefix", crm_has_mkt_prefix(u));
		if (crm_has_mkt_prefix(u) && crm_drop_mkt_prefix(u, plain, sizeof plain) == 0)
			cJSON_AddStringToObject(o, "username_without_prefix", plain);
	}
	x = db_rows_json_by(n->nd_db,
		    "SELECT id, kind, name, title, phone, email, status, created_at FROM employer_contacts"
		    " WHERE employer_id=? ORDER BY status, kind, name COLLATE NOCASE",
		    id);
	cJSON_AddItemToObject(o, "contacts", x ? x : cJSON_CreateArray());
	x = db_rows_json_by(n->nd_db,
		    "SELECT id, name, street, city, state, zip, phone, status FROM employer_locations"
		    " WHERE employer_id=? ORDER BY status, name COLLATE NOCASE",
		    id);
	cJSON_AddItemToObject(o, "locations", x ? x : cJSON_CreateArray());
	x = crm__services_of(n, id);
	cJSON_AddItemToObject(o, "services", x ? x : cJSON_CreateArray());
	x = crm__work_items_of(n, id);
	cJSON_AddItemToObject(o, "work_items", x ? x : cJSON_CreateArray());
	x = db_rows_json_by(n->nd_db,
		    "SELECT f.id, f.reason, f.status, f.detected_at,"
		    " CASE WHEN f.employer_id=?1 THEN f.other_employer_id ELSE f.employer_id END AS other_id,"
		    " (SELECT company_name FROM employers WHERE id = CASE WHEN f.employer_id=?1"
		    "   THEN f.other_employer_id ELSE f.employer_id END) AS other_name"
		    " FROM crm_duplicate_flags f WHERE f.employer_id=?1 OR f.other_employer_id=?1",
		    id);
	cJSON_AddItemToObject(o, "duplicate_flags", x ? x : cJSON_CreateArray());
	x = db_rows_json_by(n->nd_db,
		    "SELECT en.id, en.staff_id, s.display_name AS staff_name, en.office_id, en.subject,"
		    " en.body, en.created_at FROM employer_notes en LEFT JOIN staff s ON s.id = en.staff_id"
		    " WHERE en.employer_id=? ORDER BY en.created_at DESC, en.id DESC",
		    id);
	cJSON_AddItemToObject(o, "notes", x ? x : cJSON_CreateArray());
	x = crm__attachments_of(n, id, 0);
	cJSON_AddItemToObject(o, "attachments", x ? x : cJSON_CreateArray());
	{
		int open = 0;
		cJSON *f;
		cJSON_ArrayForEach(f, cJSON_GetObjectItem(o, "duplicate_flags"))
			if (json_str(f, "status") && strcmp(json_str(f, "status"), "open") == 0)
				open = 1;
		cJSON_AddBoolToObject(o, "possible_duplicate", open);
	}
	/* Edits that crossed between offices, on the employer, its contacts
	 * and its locations. */
	x = crm__conflicts_of(n, "employers", id, 0);
	{
		cJSON *more[2] = {crm__conflicts_of(n, "employer_contacts", id, 1),
				  crm__conflicts_of(n, "employer_locations", id, 1)}, *it;
		for (int i = 0; i < 2; i++) {
			while ((it = cJSON_DetachItemFromArray(more[i], 0)) != NULL)
				cJSON_AddItemToArray(x, it);
			cJSON_Delete(more[i]);
		}
	}
	cJSON_AddItemToObject(o, "conflicts", x);
	return o;
}

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
		 " s.display_name AS actor_name FROM conflicts c LEFT JOIN staff s ON s.id = c.actor"
		 " WHERE c.tbl = ?1 AND c.resolved_at IS NULL AND %s ORDER BY c.created_at, c.id LIMIT 100",
		 where);
	if (db_prepare(n->nd_db, &st, sql) != 0)
		return arr;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		int local_won = strcmp((const char *)sqlite3_column_text(st, 7), "local") == 0;
		const char *col = (const char *)sqlite3_column_text(st, 3);
		for (int i = 0; i < 4; i++)
			cJSON_AddStringToObject(o, sqlite3_column_name(st, i),
						(const char *)sqlite3_column_text(st, i));
		cJSON_AddItemToObject(o, "base_value",
				      json_text_value((const char *)sqlite3_column_text(st, 4)));
		cJSON_AddItemToObject(o, "kept_value", json_text_value((const char *)sqlite3_column_text(
							       st, local_won ? 5 : 6)));
		cJSON_AddItemToObject(o, "other_value", json_text_value((const char *)sqlite3_column_text(
								st, local_won ? 6 : 5)));
		cJSON_AddBoolToObject(o, "deleted", col && strcmp(col, "*deleted*") == 0);
		cJSON_AddNumberToObject(o, "created_at", (double)sqlite3_column_int64(st, 8));
		for (int i = 9; i < 12; i++) {
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

/* ---- lists ------------------------------------------------------------------- */

/* owner=me|all|ID into *owner (NULL = all); -1 after a 400. */
static int owner_filter(http_req *req, const node_user *u, const char *def, char *val, size_t n,
			const char **owner)
{
	if (!http_req_query(req, "owner", val, n) || val[0] == '\0')
		snprintf(val, n, "%s", def);
	if (strcmp(val, "all") == 0)
		*owner = NULL;
	else if (strcmp(val, "me") == 0)
		*owner = u->id;
	else
		*owner = val;
	return 0;
}

static int type_filter(http_req *req, char *val, size_t n, const char **type)
{
	*type = NULL;
	if (!http_req_query(req, "account_type", val, n) || val[0] == '\0' || strcmp(val, "all") == 0)
		return 0;
	if (crm_valid_account_type(val) != 0) {
		http_reply_error(req, 400, "account_type", "account_type must be lead, recruiting or all");
		return -1;
	}
	*type = val;
	return 0;
}

/*
 * Company name search: q normalized like the stored names, then either an
 * FTS5 query for crm_employers_fts (each word typed starts a word of the
 * name) or, when q has no word at all, a GLOB prefix pattern on
 * normalized_name (an index range).  Returns NAME_FTS,
 * NAME_PREFIX, or NAME_NONE when q is empty.
 */
enum { NAME_NONE, NAME_FTS, NAME_PREFIX };

static int name_search(const char *q, char *pat, size_t n)
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

/* Append the SQL selecting the employer rowids of a name_search() result
 * bound as ?param.  Returns the new length. */
static size_t name_search_sql(char *sql, size_t len, size_t size, int kind, int param)
{
	if (kind == NAME_FTS)
		return len + (size_t)snprintf(sql + len, size - len,
			"SELECT rowid AS r FROM crm_employers_fts WHERE crm_employers_fts MATCH ?%d", param);
	return len + (size_t)snprintf(sql + len, size - len,
		"SELECT rowid AS r FROM employers WHERE normalized_name GLOB ?%d", param);
}

static void list_employers(http_req *req, void *ctx)
{
	node *n = ctx;
	const node_user *u = crm__user(n, req, PRIV_VIEW);
	char ob[64], tb[16], q[128] = "", zip[16] = "", pat[300], st_buf[16] = "active", edd[9];
	const char *owner, *type;
	int limit, offset, kind, newest = 0;
	sqlite3_stmt *st;

	if (u == NULL || owner_filter(req, u, "all", ob, sizeof ob, &owner) != 0 ||
	    type_filter(req, tb, sizeof tb, &type) != 0 ||
	    crm__qint(req, "limit", CRM_PAGE_DEFAULT, 1, CRM_PAGE_MAX, &limit) != 0 ||
	    crm__qint(req, "offset", 0, 0, 10000000, &offset) != 0)
		return;
	http_req_query(req, "q", q, sizeof q);
	http_req_query(req, "zip", zip, sizeof zip);
	http_req_query(req, "status", st_buf, sizeof st_buf);
	if (strcmp(st_buf, "active") != 0 && strcmp(st_buf, "inactive") != 0 &&
	    strcmp(st_buf, "all") != 0) {
		http_reply_error(req, 400, "status", "status must be active, inactive or all");
		return;
	}
	if (zip[0] && (strlen(zip) > 5 || strspn(zip, "0123456789") != strlen(zip))) {
		http_reply_error(req, 400, "zip", "zip must be up to 5 digits");
		return;
	}
	kind = name_search(q, pat, sizeof pat);
	if (crm_valid_edd_account(q, edd) != 0)
		snprintf(edd, sizeof edd, "%.8s", q);
	/* A common word matches thousands of names: read those newest first
	 * from the index instead of sorting them all. */
	if (kind == NAME_FTS) {
		int c = crm__fts_count(n, "crm_employers_fts", pat, CRM_SEARCH_SORT_MAX);
		if (c < 0) {
			node_reply_db_error(req);
			return;
		}
		newest = c > CRM_SEARCH_SORT_MAX;
	}
	{
		/* Only the filters in use appear in the SQL, so each can use its
		 * index ("?1 IS NULL OR col = ?1" defeats the planner). */
		char sql[2048], from[640];
		size_t len;
		/* A search drives the query from its matches (CROSS JOIN keeps
		 * the planner from scanning every employer in name order). */
		if (newest) {
			snprintf(from, sizeof from,
				 "crm_employers_fts x CROSS JOIN employers e ON e.rowid = x.rowid");
		} else if (kind != NAME_NONE) {
			size_t fl = (size_t)snprintf(from, sizeof from, "(");
			fl = name_search_sql(from, fl, sizeof from, kind, 3);
			snprintf(from + fl, sizeof from - fl,
				 " UNION SELECT rowid FROM employers WHERE username = ?7"
				 " UNION SELECT rowid FROM employers WHERE edd_account_number = ?9) m"
				 " CROSS JOIN employers e ON e.rowid = m.r");
		} else {
			snprintf(from, sizeof from, "employers e");
		}
		/* The page is chosen by rowid first, so the per-row columns
		 * (primary contact, duplicate flag) are read for its rows only. */
		len = (size_t)snprintf(sql, sizeof sql, "SELECT e.rowid AS pr FROM %s WHERE 1", from);
		if (newest)
			len += (size_t)snprintf(sql + len, sizeof sql - len, " AND x.crm_employers_fts MATCH ?3");
		if (owner)
			len += (size_t)snprintf(sql + len, sizeof sql - len, " AND e.lead_owner_id = ?1");
		if (type)
			len += (size_t)snprintf(sql + len, sizeof sql - len, " AND e.account_type = ?2");
		if (zip[0])
			len += (size_t)snprintf(sql + len, sizeof sql - len,
				" AND e.zip5 >= ?4 AND e.zip5 < ?4 || 'z'");
		if (strcmp(st_buf, "all") != 0)
			len += (size_t)snprintf(sql + len, sizeof sql - len, " AND e.status = ?8");
		len += (size_t)snprintf(sql + len, sizeof sql - len, "%s LIMIT ?5 OFFSET ?6",
			 newest ? " ORDER BY x.rowid DESC" : " ORDER BY e.company_name COLLATE NOCASE, e.id");
		{
			char outer[3072];
			snprintf(outer, sizeof outer,
				"SELECT e.id, e.account_type, e.company_name, e.username, e.zip, e.city,"
				" e.phone, e.industry, e.lead_owner_id, ow.display_name AS lead_owner_name,"
				" e.office_id, e.status, e.vetting_status, e.created_at,"
				" (SELECT name FROM employer_contacts c WHERE c.employer_id=e.id AND"
				"   c.kind='primary' AND c.status='active' ORDER BY c.created_at LIMIT 1) AS primary_contact,"
				" EXISTS(SELECT 1 FROM crm_duplicate_flags f WHERE f.status='open' AND"
				"   (f.employer_id=e.id OR f.other_employer_id=e.id)) AS possible_duplicate"
				" FROM (%s) p CROSS JOIN employers e ON e.rowid = p.pr"
				" LEFT JOIN staff ow ON ow.id = e.lead_owner_id%s",
				sql, newest ? " ORDER BY e.rowid DESC" : " ORDER BY e.company_name COLLATE NOCASE, e.id");
			if (db_prepare(n->nd_db, &st, outer) != 0) {
				node_reply_db_error(req);
				return;
			}
		}
	}
	db_bind_text(st, 1, owner);
	db_bind_text(st, 2, type);
	sqlite3_bind_text(st, 3, pat, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, zip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, edd, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, limit + 1);
	sqlite3_bind_int(st, 6, offset);
	sqlite3_bind_text(st, 7, q, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, st_buf, -1, SQLITE_STATIC);
	crm__reply_page_order(req, st, limit, offset, newest);
}

/*
 * Likely duplicates of a company being typed: the same normalized name (any
 * ZIP; "name_zip" when the ZIP matches too), or a name starting with the
 * typed one in the same ZIP ("similar").  Every office's employers count.
 */
static cJSON *find_duplicates(node *n, const char *norm, const char *zip5, const char *exclude)
{
	sqlite3_stmt *st;
	char like[CRM_NORM_MAX + 4];
	cJSON *arr;
	size_t j = 0;

	for (const char *p = norm; *p && j + 3 < sizeof like; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			like[j++] = '\\';
		like[j++] = *p;
	}
	like[j++] = '%';
	like[j] = '\0';
	if (db_prepare(n->nd_db, &st,
		       "SELECT e.id, e.company_name, e.account_type, e.username, e.zip, e.city, e.status,"
		       " e.lead_owner_id, ow.display_name AS lead_owner_name, e.office_id,"
		       " o.name AS office_name,"
		       " CASE WHEN e.normalized_name = ?1 AND e.zip5 = ?2 THEN 'name_zip'"
		       "      WHEN e.normalized_name = ?1 THEN 'name' ELSE 'similar' END AS match"
		       " FROM employers e LEFT JOIN staff ow ON ow.id = e.lead_owner_id"
		       " LEFT JOIN offices o ON o.id = e.office_id"
		       " WHERE e.id IN (SELECT id FROM employers WHERE normalized_name = ?1"
		       "   UNION SELECT id FROM employers WHERE ?2 <> '' AND zip5 = ?2"
		       "   AND normalized_name LIKE ?3 ESCAPE '\\' AND length(?1) >= 3)"
		       " AND (?4 IS NULL OR e.id <> ?4) AND e.duplicate_of IS NULL"
		       " ORDER BY match = 'name_zip' DESC, match = 'name' DESC, e.company_name LIMIT 20") != 0)
		return NULL;
	sqlite3_bind_text(st, 1, norm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, zip5 ? zip5 : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, like, -1, SQLITE_STATIC);
	db_bind_text(st, 4, exclude);
	arr = db_rows_json(st);
	sqlite3_finalize(st);
	return arr;
}

static void get_duplicates(http_req *req, void *ctx)
{
	node *n = ctx;
	char name[CRM_NAME_MAX + 1] = "", zip[16] = "", z5[6] = "", norm[CRM_NORM_MAX], ex[64] = "";
	cJSON *arr;

	if (crm__user(n, req, PRIV_VIEW) == NULL)
		return;
	http_req_query(req, "name", name, sizeof name);
	http_req_query(req, "zip", zip, sizeof zip);
	http_req_query(req, "exclude", ex, sizeof ex);
	if (crm_normalize_name(name, norm, sizeof norm) != 0) {
		http_reply_json(req, 200, cJSON_CreateArray());
		return;
	}
	if (zip[0] && crm_valid_zip(zip, z5) != 0) {
		http_reply_error(req, 400, "zip", "ZIP code must be 5 digits or ZIP+4");
		return;
	}
	arr = find_duplicates(n, norm, z5, ex[0] ? ex : NULL);
	if (arr == NULL)
		node_reply_db_error(req);
	else
		http_reply_json(req, 200, arr);
}

/* ---- create --------------------------------------------------------------------- */

static int insert_contact(node *n, const char *employer_id, const char **cv, const char *actor,
			  uint64_t now, char out_id[UUID_STRLEN])
{
	sqlite3_stmt *st;
	char ts[HLC_STRLEN];
	int rc;

	if (db_prepare(n->nd_db, &st,
		       "INSERT INTO employer_contacts(id, employer_id, kind, name, title, phone, email,"
		       " status, created_by, created_at, updated_hlc) VALUES(?,?,?,?,?,?,?,'active',?,?,?)") != 0)
		return -1;
	uuid7_at(out_id, now);
	hlc_now(&n->nd_hlc, ts);
	sqlite3_bind_text(st, 1, out_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, employer_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cv[0] ? cv[0] : "primary", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, cv[1], -1, SQLITE_STATIC);
	db_bind_text(st, 5, cv[2]);
	db_bind_text(st, 6, cv[3]);
	db_bind_text(st, 7, cv[4]);
	db_bind_text(st, 8, actor);
	sqlite3_bind_int64(st, 9, (int64_t)now);
	sqlite3_bind_text(st, 10, ts, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A user name no employer the node holds uses yet. */
static int new_username(node *n, const char *norm, const char *id, char *out, size_t len)
{
	unsigned seed = 0;

	/* The random tail of the UUIDv7 makes offline collisions between
	 * offices unlikely; the hub flags any that still happen. */
	for (const char *p = id + 24; *p; p++)
		seed = seed * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0' : (*p | 0x20) - 'a' + 10);
	for (int i = 0; i < 50; i++) {
		sqlite3_stmt *st;
		int taken;
		if (crm_make_username(norm, seed + (unsigned)i * 7919u, out, len) != 0)
			return -1;
		if (db_prepare(n->nd_db, &st, "SELECT 1 FROM employers WHERE username=?") != 0)
			return -1;
		sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
		taken = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (!taken)
			return 0;
	}
	return -1;
}

static const char *const create_fields[] = {
	"company_name", "edd_account_number", "zip", "street", "city", "state", "mailing_street",
	"mailing_city", "mailing_state", "mailing_zip", "phone", "email", "website", "industry",
	"pe_organization", "lead_owner_id", "office_id", "source", "external_employer_id",
	"directory_id", "contacts", "confirm_not_duplicate", NULL,
};
static const char *const contact_keys[] = {"kind", "name", "title", "phone", "email", NULL};

#define MAX_NEW_CONTACTS 10

static void post_employer(http_req *req, void *ctx)
{
	node *n = ctx;
	const node_user *u = crm__user(n, req, PRIV_CRM);
	cJSON *body = NULL, *dups = NULL;
	json_err e = {{0}, {0}};
	arena *ar = NULL;
	const char *v[NEF], *office, *source, *ext_id, *dir_id;
	const char *cv[MAX_NEW_CONTACTS][NCF];
	int present[NEF], cpresent[NCF], confirm = 0, ncontacts = 0;
	char norm[CRM_NORM_MAX], z5[6], edd[9], la[64] = "", id[UUID_STRLEN],
		username[CRM_USERNAME_MAX + 1], ts[HLC_STRLEN];
	const cJSON *contacts;
	capture c;
	sqlite3_stmt *st = NULL;
	uint64_t now;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if ((ar = calloc(1, sizeof *ar)) == NULL) {
		node_reply_db_error(req);
		goto done;
	}
	if (json_only(body, create_fields, &e) ||
	    read_fields(body, employer_fields, NEF - 2, v, present, ar, NULL, &e) ||
	    get_str(body, "office_id", 0, 64, &office, ar, &e) ||
	    get_str(body, "source", 0, 16, &source, ar, &e) ||
	    get_str(body, "external_employer_id", 0, 64, &ext_id, ar, &e) ||
	    get_str(body, "directory_id", 0, 64, &dir_id, ar, &e) ||
	    json_get_bool(body, "confirm_not_duplicate", JSON_NULLABLE, 0, &confirm, &e))
		goto bad;
	v[EF_STATUS] = v[EF_USERNAME] = NULL;
	if (v[EF_NAME] == NULL) {
		json_err_set(&e, "company_name", "company name is required");
		goto bad;
	}
	if (crm_normalize_name(v[EF_NAME], norm, sizeof norm) != 0) {
		json_err_set(&e, "company_name", "company name must contain a letter or digit");
		goto bad;
	}
	if (v[EF_ZIP] == NULL) {
		json_err_set(&e, "zip", "ZIP code is required (enter it first, then the street)");
		goto bad;
	}
	crm_valid_zip(v[EF_ZIP], z5);
	if (v[EF_EDD])
		crm_valid_edd_account(v[EF_EDD], edd);
	if (v[EF_STATE] == NULL)
		v[EF_STATE] = "CA";
	if (source == NULL)
		source = "manual";
	if (strcmp(source, "manual") != 0 && strcmp(source, "external") != 0 &&
	    strcmp(source, "local_search") != 0) {
		json_err_set(&e, "source", "source must be manual, external or local_search");
		goto bad;
	}
	if (strcmp(source, "external") == 0 &&
	    (ext_id == NULL || crm__exists(n, "external_employers", ext_id) != 1)) {
		json_err_set(&e, "external_employer_id", "no such external employer");
		goto bad;
	}
	if (strcmp(source, "local_search") == 0 &&
	    (dir_id == NULL || crm__exists(n, "business_directory", dir_id) != 1)) {
		json_err_set(&e, "directory_id", "no such local employer site");
		goto bad;
	}
	if (strcmp(source, "external") != 0)
		ext_id = NULL;
	if (strcmp(source, "local_search") != 0)
		dir_id = NULL;
	if (v[EF_OWNER] == NULL)
		v[EF_OWNER] = u->id;
	if (crm__check_staff(n, v[EF_OWNER], "lead_owner_id", &e) != 0)
		goto bad;
	if (office == NULL)
		office = n->nd_office_id[0] ? n->nd_office_id : u->office_id;
	if (db_text(n->nd_db, "SELECT local_area_id FROM offices WHERE id=?", office, la, sizeof la) != 0) {
		json_err_set(&e, "office_id", "no such office");
		goto bad;
	}
	contacts = cJSON_GetObjectItemCaseSensitive(body, "contacts");
	if (contacts && !cJSON_IsNull(contacts)) {
		const cJSON *it;
		if (!cJSON_IsArray(contacts) || cJSON_GetArraySize(contacts) > MAX_NEW_CONTACTS) {
			json_err_set(&e, "contacts", "contacts must be a list of at most %d contacts",
				     MAX_NEW_CONTACTS);
			goto bad;
		}
		cJSON_ArrayForEach(it, contacts)
		{
			char prefix[32];
			snprintf(prefix, sizeof prefix, "contacts[%d].", ncontacts);
			if (!cJSON_IsObject(it)) {
				json_err_set(&e, "contacts", "each contact must be an object");
				goto bad;
			}
			if (json_only(it, contact_keys, &e) ||
			    read_fields(it, contact_fields, NCF - 1, cv[ncontacts], cpresent, ar, prefix, &e))
				goto bad_prefixed;
			if (cv[ncontacts][1] == NULL) {
				json_err_set(&e, "name", "contact name is required");
				goto bad_prefixed;
			}
			ncontacts++;
			continue;
bad_prefixed:
			{
				if (strncmp(e.field, "contacts[", 9) != 0)
					json_err_prefix(&e, prefix);
			}
			goto bad;
		}
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	/* The duplicate check, unless the user has seen the list and goes on. */
	if (!confirm) {
		dups = find_duplicates(n, norm, z5, NULL);
		if (dups == NULL)
			goto dberr;
		cJSON *strong = cJSON_CreateArray(), *it;
		cJSON_ArrayForEach(it, dups)
			if (strcmp(json_str(it, "match"), "similar") != 0)
				cJSON_AddItemToArray(strong, cJSON_Duplicate(it, 1));
		if (cJSON_GetArraySize(strong) > 0) {
			cJSON *o = cJSON_CreateObject();
			capture_abort(&c);
			cJSON_AddStringToObject(o, "error", "this employer may already be in the system; "
							    "review the matches or confirm it is not a duplicate");
			cJSON_AddStringToObject(o, "field", "company_name");
			cJSON_AddItemToObject(o, "duplicates", strong);
			http_reply_json(req, 409, o);
			goto done;
		}
		cJSON_Delete(strong);
	}
	now = node_now_ms(n);
	uuid7_at(id, now);
	if (new_username(n, norm, id, username, sizeof username) != 0)
		goto dberr;
	hlc_now(&n->nd_hlc, ts);
	if (db_prepare(n->nd_db, &st,
		       "INSERT INTO employers(id, account_type, created_as, company_name, normalized_name,"
		       " username, edd_account_number, zip, zip5, street, city, state, mailing_street,"
		       " mailing_city, mailing_state, mailing_zip, phone, email, website, industry,"
		       " pe_organization, lead_owner_id, office_id, local_area_id, created_by, created_at,"
		       " source, external_employer_id, directory_id, status, updated_hlc)"
		       " VALUES(?1,'lead','lead',?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,"
		       "?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,'active',?28)") != 0)
		goto dberr;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v[EF_NAME], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, norm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, username, -1, SQLITE_STATIC);
	db_bind_text(st, 5, v[EF_EDD] ? edd : NULL);
	sqlite3_bind_text(st, 6, v[EF_ZIP], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, z5, -1, SQLITE_STATIC);
	for (int i = 3; i <= 15; i++) /* street .. lead_owner_id */
		db_bind_text(st, i + 5, v[i]);
	sqlite3_bind_text(st, 21, office, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 22, la, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 23, u->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 24, (int64_t)now);
	sqlite3_bind_text(st, 25, source, -1, SQLITE_STATIC);
	db_bind_text(st, 26, ext_id);
	db_bind_text(st, 27, dir_id);
	sqlite3_bind_text(st, 28, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	st = NULL;
	for (int i = 0; i < ncontacts; i++) {
		char cid[UUID_STRLEN];
		if (insert_contact(n, id, cv[i], u->id, now, cid) != 0)
			goto dberr;
	}
	log_info("crm: lead %s created (source %s, office %s)", id, source, office);
	node_write_finish(n, &c, u->id, req, 201, crm__employer_json(n, id));
	goto done;
bad:
	crm__bad(req, &e);
	goto done;
dberr:
	log_warnx("crm: lead not saved: %s", sqlite3_errmsg(n->nd_db));
	sqlite3_finalize(st);
	capture_abort(&c);
	node_reply_db_error(req);
done:
	cJSON_Delete(dups);
	cJSON_Delete(body);
	free(ar);
}

/* ---- read, update, convert -------------------------------------------------------- */

static void get_employer(http_req *req, void *ctx)
{
	node *n = ctx;
	cJSON *o;

	if (crm__user(n, req, PRIV_VIEW) == NULL)
		return;
	o = crm__employer_json(n, http_req_param(req, "id"));
	if (o == NULL)
		http_reply_error(req, 404, "id", "no such employer");
	else
		http_reply_json(req, 200, o);
}

static int username_taken(node *n, const char *username, const char *except)
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

static const char *const patch_fields[] = {
	"company_name", "edd_account_number", "zip", "street", "city", "state", "mailing_street",
	"mailing_city", "mailing_state", "mailing_zip", "phone", "email", "website", "industry",
	"pe_organization", "lead_owner_id", "status", "username", NULL,
};

static void patch_employer(http_req *req, void *ctx)
{
	node *n = ctx;
	const char *id = http_req_param(req, "id");
	const node_user *u = crm__user(n, req, PRIV_CRM);
	cJSON *body = NULL;
	json_err e = {{0}, {0}};
	arena *ar = NULL;
	const char *v[NEF], *xc[3], *xv[3];
	int present[NEF], nx = 0, rc;
	char norm[CRM_NORM_MAX], z5[6], edd[9], type[16];
	capture c;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if ((ar = calloc(1, sizeof *ar)) == NULL) {
		node_reply_db_error(req);
		goto done;
	}
	if (json_only(body, patch_fields, &e) ||
	    read_fields(body, employer_fields, NEF, v, present, ar, NULL, &e))
		goto bad;
	if (db_text(n->nd_db, "SELECT account_type FROM employers WHERE id=?", id, type, sizeof type) != 0) {
		http_reply_error(req, 404, "id", "no such employer");
		goto done;
	}
	if (present[EF_NAME]) {
		if (v[EF_NAME] == NULL || crm_normalize_name(v[EF_NAME], norm, sizeof norm) != 0) {
			json_err_set(&e, "company_name", "company name must contain a letter or digit");
			goto bad;
		}
		xc[nx] = "normalized_name";
		xv[nx++] = norm;
	}
	if (present[EF_ZIP]) {
		if (v[EF_ZIP] == NULL) {
			json_err_set(&e, "zip", "ZIP code is required");
			goto bad;
		}
		crm_valid_zip(v[EF_ZIP], z5);
		xc[nx] = "zip5";
		xv[nx++] = z5;
	}
	if (present[EF_EDD]) {
		if (v[EF_EDD] == NULL && strcmp(type, CRM_RECRUITING) == 0) {
			json_err_set(&e, "edd_account_number",
				     "a recruiting employer keeps its EDD Account Number");
			goto bad;
		}
		if (v[EF_EDD]) {
			crm_valid_edd_account(v[EF_EDD], edd);
			v[EF_EDD] = edd;
		}
	}
	if (present[EF_OWNER] && (v[EF_OWNER] == NULL ||
				  crm__check_staff(n, v[EF_OWNER], "lead_owner_id", &e) != 0)) {
		if (v[EF_OWNER] == NULL)
			json_err_set(&e, "lead_owner_id", "a lead owner is required");
		goto bad;
	}
	if (present[EF_STATUS] && v[EF_STATUS] == NULL) {
		json_err_set(&e, "status", "status must be active or inactive");
		goto bad;
	}
	if (present[EF_USERNAME]) {
		if (v[EF_USERNAME] == NULL) {
			json_err_set(&e, "username", "user name is required");
			goto bad;
		}
		if (username_taken(n, v[EF_USERNAME], id) != 0) {
			http_reply_error(req, 409, "username", "this user name is already taken");
			goto done;
		}
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	rc = update_changed(n, "employers", id, employer_fields, NEF, v, present, xc, xv, nx);
	if (rc < 0) {
		log_warnx("crm: employer %s not updated: %s", id, sqlite3_errmsg(n->nd_db));
		capture_abort(&c);
		node_reply_db_error(req);
		goto done;
	}
	node_write_finish(n, &c, u->id, req, 200, crm__employer_json(n, id));
	goto done;
bad:
	crm__bad(req, &e);
done:
	cJSON_Delete(body);
	free(ar);
}

static const char *const convert_fields[] = {
	"edd_account_number", "drop_mkt_prefix", "username", "street", "city", "state", "zip",
	"phone", "industry", "website", "email", NULL,
};

/*
 * Marketing Lead -> Recruiting Employer.  The account type is one column, so
 * the employer can never hold both.  The user name is kept unless the staff
 * member accepts the offer to drop the MKT prefix (drop_mkt_prefix) or types
 * a new one; the EDD Account Number and the other required fields are
 * checked (crm_conversion_check) and vetting starts, due in 72 hours.
 */
static void post_convert(http_req *req, void *ctx)
{
	node *n = ctx;
	const char *id = http_req_param(req, "id");
	const node_user *u = crm__user(n, req, PRIV_CRM);
	cJSON *body = NULL, *cur = NULL;
	json_err e = {{0}, {0}};
	arena *ar = NULL;
	const char *v[NEF], *xc[12], *xv[12], *field;
	int present[NEF], drop = 0, nx = 0;
	char edd[9], z5[6], newname[CRM_USERNAME_MAX + 1], msg[200];
	crm_conversion cv;
	capture c;
	uint64_t now;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if ((ar = calloc(1, sizeof *ar)) == NULL) {
		node_reply_db_error(req);
		goto done;
	}
	if (json_only(body, convert_fields, &e) ||
	    read_fields(body, employer_fields, NEF, v, present, ar, NULL, &e) ||
	    json_get_bool(body, "drop_mkt_prefix", JSON_NULLABLE, 0, &drop, &e))
		goto bad;
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	cur = crm__employer_json(n, id);
	if (cur == NULL) {
		capture_abort(&c);
		http_reply_error(req, 404, "id", "no such employer");
		goto done;
	}
	/* The values the employer will have: sent ones win over stored ones. */
	memset(&cv, 0, sizeof cv);
	cv.account_type = json_str(cur, "account_type");
	cv.status = json_str(cur, "status");
	cv.company_name = json_str(cur, "company_name");
#define PICK(i, key) (present[i] ? v[i] : json_str(cur, key))
	cv.edd_account_number = PICK(EF_EDD, "edd_account_number");
	cv.zip = PICK(EF_ZIP, "zip");
	cv.street = PICK(3, "street");
	cv.city = PICK(4, "city");
	cv.state = PICK(EF_STATE, "state");
	cv.phone = PICK(10, "phone");
	cv.industry = PICK(13, "industry");
#undef PICK
	{
		cJSON *ct;
		cJSON_ArrayForEach(ct, cJSON_GetObjectItem(cur, "contacts"))
			if (strcmp(json_str(ct, "kind"), "primary") == 0 &&
			    strcmp(json_str(ct, "status"), "active") == 0)
				cv.primary_contacts++;
	}
	field = crm_conversion_check(&cv, msg, sizeof msg);
	if (field) {
		capture_abort(&c);
		http_reply_error(req, strcmp(field, "account_type") == 0 ? 409 : 400, field, "%s", msg);
		goto done;
	}
	/* User name: typed, or the MKT prefix dropped on request, else kept. */
	if (present[EF_USERNAME] && v[EF_USERNAME]) {
		snprintf(newname, sizeof newname, "%s", v[EF_USERNAME]);
	} else if (drop && crm_has_mkt_prefix(json_str(cur, "username"))) {
		crm_drop_mkt_prefix(json_str(cur, "username"), newname, sizeof newname);
	} else {
		snprintf(newname, sizeof newname, "%s", json_str(cur, "username"));
	}
	if (crm_valid_username(newname) != 0) {
		capture_abort(&c);
		http_reply_error(req, 400, "username",
				 "user name must be 4 to 40 letters, digits, '.', '_' or '-'");
		goto done;
	}
	if (username_taken(n, newname, id) != 0) {
		capture_abort(&c);
		http_reply_error(req, 409, "username",
				 "the user name '%s' is already taken; type another one", newname);
		goto done;
	}
	crm_valid_edd_account(cv.edd_account_number, edd);
	now = node_now_ms(n);
	xc[nx] = "account_type"; xv[nx++] = CRM_RECRUITING;
	xc[nx] = "username"; xv[nx++] = newname;
	xc[nx] = "edd_account_number"; xv[nx++] = edd;
	xc[nx] = "vetting_status"; xv[nx++] = "pending";
	xc[nx] = "converted_by"; xv[nx++] = u->id;
	if (present[EF_ZIP] && v[EF_ZIP]) {
		crm_valid_zip(v[EF_ZIP], z5);
		xc[nx] = "zip5"; xv[nx++] = z5;
	}
	/* Only address/contact fields come from the body; the rest is fixed. */
	present[EF_NAME] = present[EF_EDD] = present[EF_OWNER] = present[EF_STATUS] = 0;
	present[EF_USERNAME] = 0;
	for (int i = 0; i < NEF; i++)
		if (present[i] && v[i] == NULL)
			present[i] = 0; /* conversion never clears a field */
	if (update_changed(n, "employers", id, employer_fields, NEF, v, present, xc, xv, nx) < 0)
		goto dberr;
	/* The vetting clock (integer columns). */
	{
		sqlite3_stmt *st;
		if (db_prepare(n->nd_db, &st,
			       "UPDATE employers SET vetting_started_at=?2, vetting_due_at=?3,"
			       " converted_at=?2 WHERE id=?1") != 0)
			goto dberr;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)now);
		sqlite3_bind_int64(st, 3, crm_vetting_due((int64_t)now));
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			goto dberr;
	}
	log_info("crm: employer %s converted to recruiting employer, vetting pending", id);
	node_write_finish(n, &c, u->id, req, 200, crm__employer_json(n, id));
	goto done;
bad:
	crm__bad(req, &e);
	goto done;
dberr:
	log_warnx("crm: conversion of %s not saved: %s", id, sqlite3_errmsg(n->nd_db));
	capture_abort(&c);
	node_reply_db_error(req);
done:
	cJSON_Delete(cur);
	cJSON_Delete(body);
	free(ar);
}

static const char *const vetting_fields[] = {"result", NULL};

/* The vetting result of a converted employer (72-hour procedure): approved,
 * or locked when the information did not match. */
static void post_vetting(http_req *req, void *ctx)
{
	node *n = ctx;
	/* the route id first: a refused request is freed by its reply */
	const char *id = http_req_param(req, "id"), *result, *field;
	const node_user *u = crm__user(n, req, PRIV_CRM);
	cJSON *body = NULL;
	json_err e = {{0}, {0}};
	char type[16] = "", vs[16] = "", msg[160], rbuf[16];
	const char *xc[1] = {"vetting_status"}, *xv[1];
	int conflict = 0;
	capture c;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if (json_only(body, vetting_fields, &e) ||
	    json_get_str(body, "result", JSON_REQUIRED, 1, 12, &result, rbuf, sizeof rbuf, &e)) {
		crm__bad(req, &e);
		goto done;
	}
	if (db_text(n->nd_db, "SELECT account_type FROM employers WHERE id=?", id, type, sizeof type) != 0) {
		http_reply_error(req, 404, "id", "no such employer");
		goto done;
	}
	db_text(n->nd_db, "SELECT coalesce(vetting_status, '') FROM employers WHERE id=?", id, vs, sizeof vs);
	field = crm_vetting_check(type, vs[0] ? vs : NULL, result, &conflict, msg, sizeof msg);
	if (field) {
		http_reply_error(req, conflict ? 409 : 400, field, "%s", msg);
		goto done;
	}
	xv[0] = result;
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	if (update_changed(n, "employers", id, NULL, 0, NULL, NULL, xc, xv, 1) < 0) {
		capture_abort(&c);
		node_reply_db_error(req);
		goto done;
	}
	log_info("crm: vetting of employer %s recorded: %s", id, result);
	node_write_finish(n, &c, u->id, req, 200, crm__employer_json(n, id));
done:
	cJSON_Delete(body);
}

static const char *const dupof_fields[] = {"duplicate_of", NULL};

/* Review of a possible duplicate: this employer is the same as another. */
static void post_duplicate_of(http_req *req, void *ctx)
{
	node *n = ctx;
	const char *id = http_req_param(req, "id"), *other;
	const node_user *u = crm__user(n, req, PRIV_CRM);
	cJSON *body = NULL;
	json_err e = {{0}, {0}};
	const char *xc[2] = {"duplicate_of", "status"}, *xv[2];
	capture c;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if (json_only(body, dupof_fields, &e) ||
	    json_get_str(body, "duplicate_of", JSON_REQUIRED, 1, 64, &other, NULL, 0, &e)) {
		crm__bad(req, &e);
		goto done;
	}
	if (crm__exists(n, "employers", id) != 1) {
		http_reply_error(req, 404, "id", "no such employer");
		goto done;
	}
	if (strcmp(other, id) == 0 || crm__exists(n, "employers", other) != 1) {
		http_reply_error(req, 400, "duplicate_of", "no such other employer");
		goto done;
	}
	xv[0] = other;
	xv[1] = "inactive";
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	if (update_changed(n, "employers", id, NULL, 0, NULL, NULL, xc, xv, 2) < 0) {
		capture_abort(&c);
		node_reply_db_error(req);
		goto done;
	}
	log_info("crm: employer %s marked as a duplicate of %s", id, other);
	node_write_finish(n, &c, u->id, req, 200, crm__employer_json(n, id));
done:
	cJSON_Delete(body);
}

static void list_duplicate_flags(http_req *req, void *ctx)
{
	node *n = ctx;
	sqlite3_stmt *st;

	if (crm__user(n, req, PRIV_VIEW) == NULL)
		return;
	if (db_prepare(n->nd_db, &st,
		       "SELECT f.id, f.reason, f.status, f.detected_at, f.employer_id,"
		       " a.company_name AS employer_name, a.office_id AS employer_office,"
		       " f.other_employer_id, b.company_name AS other_name, b.office_id AS other_office,"
		       " f.zip5 FROM crm_duplicate_flags f LEFT JOIN employers a ON a.id = f.employer_id"
		       " LEFT JOIN employers b ON b.id = f.other_employer_id"
		       " WHERE f.status = 'open' AND a.duplicate_of IS NULL AND b.duplicate_of IS NULL"
		       " ORDER BY f.detected_at DESC LIMIT 500") != 0) {
		node_reply_db_error(req);
		return;
	}
	crm__reply_rows(n, req, st);
}

/* ---- case notes ------------------------------------------------------------------ */

static const char *const note_keys[] = {"subject", "body", NULL};

/* POST /api/v1/crm/employers/:id/notes: a case note (append-only; the
 * text is never logged). */
static void post_employer_note(http_req *req, void *ctx)
{
	node *n = ctx;
	/* the route id first: a refused request is freed by its reply */
	const char *emp = http_req_param(req, "id"), *subject, *text;
	const node_user *u = crm__user(n, req, PRIV_CRM);
	cJSON *body = NULL;
	json_err e = {{0}, {0}};
	char nid[UUID_STRLEN], subj_buf[CRM_TITLE_MAX + 1], *text_buf = NULL;
	const char *office;
	capture c;
	sqlite3_stmt *st = NULL;
	uint64_t now;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if ((text_buf = malloc(CRM_NOTE_MAX + 1)) == NULL) {
		node_reply_db_error(req);
		goto done;
	}
	if (json_only(body, note_keys, &e) ||
	    json_get_str(body, "subject", JSON_NULLABLE, 0, CRM_TITLE_MAX, &subject, subj_buf,
			 sizeof subj_buf, &e) ||
	    json_get_str(body, "body", JSON_REQUIRED, 1, CRM_NOTE_MAX, &text, text_buf,
			 CRM_NOTE_MAX + 1, &e)) {
		crm__bad(req, &e);
		goto done;
	}
	if (crm__exists(n, "employers", emp) != 1) {
		http_reply_error(req, 404, "id", "no such employer");
		goto done;
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	now = node_now_ms(n);
	uuid7_at(nid, now);
	office = n->nd_office_id[0] ? n->nd_office_id : u->office_id;
	if (db_prepare(n->nd_db, &st,
		       "INSERT INTO employer_notes(id, employer_id, staff_id, office_id, subject, body,"
		       " created_at) VALUES(?,?,?,?,?,?,?)") != 0)
		goto dberr;
	sqlite3_bind_text(st, 1, nid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, emp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->id, -1, SQLITE_STATIC);
	db_bind_text(st, 4, office);
	db_bind_text(st, 5, subject && subject[0] ? subject : NULL);
	sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (int64_t)now);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	log_info("crm: case note %s added to employer %s", nid, emp);
	node_write_finish(n, &c, u->id, req, 201, crm__employer_json(n, emp));
	goto done;
dberr:
	log_warnx("crm: case note not saved: %s", sqlite3_errmsg(n->nd_db));
	sqlite3_finalize(st);
	capture_abort(&c);
	node_reply_db_error(req);
done:
	free(text_buf);
	cJSON_Delete(body);
}

/* ---- contacts and locations ------------------------------------------------------- */

/* A contact as the API shows it. */
#define CONTACT_SQL                                                                        \
	"SELECT id, employer_id, kind, name, title, phone, email, status, created_at"      \
	" FROM employer_contacts WHERE id=?"

static void post_contact(http_req *req, void *ctx)
{
	node *n = ctx;
	const char *emp = http_req_param(req, "id");
	const node_user *u = crm__user(n, req, PRIV_CRM);
	cJSON *body = NULL;
	json_err e = {{0}, {0}};
	arena *ar = NULL;
	const char *v[NCF];
	int present[NCF];
	char cid[UUID_STRLEN];
	capture c;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if ((ar = calloc(1, sizeof *ar)) == NULL) {
		node_reply_db_error(req);
		goto done;
	}
	if (json_only(body, contact_keys, &e) ||
	    read_fields(body, contact_fields, NCF - 1, v, present, ar, NULL, &e))
		goto bad;
	if (v[1] == NULL) {
		json_err_set(&e, "name", "contact name is required");
		goto bad;
	}
	if (crm__exists(n, "employers", emp) != 1) {
		http_reply_error(req, 404, "id", "no such employer");
		goto done;
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	if (insert_contact(n, emp, v, u->id, node_now_ms(n), cid) != 0) {
		log_warnx("crm: contact not saved: %s", sqlite3_errmsg(n->nd_db));
		capture_abort(&c);
		node_reply_db_error(req);
		goto done;
	}
	node_write_finish(n, &c, u->id, req, 201, db_row_json_by(n->nd_db, CONTACT_SQL, cid));
	goto done;
bad:
	crm__bad(req, &e);
done:
	cJSON_Delete(body);
	free(ar);
}

static void patch_contact(http_req *req, void *ctx)
{
	node *n = ctx;
	const char *id = http_req_param(req, "id");
	const node_user *u = crm__user(n, req, PRIV_CRM);
	static const char *const keys[] = {"kind", "name", "title", "phone", "email", "status", NULL};
	cJSON *body = NULL;
	json_err e = {{0}, {0}};
	arena *ar = NULL;
	const char *v[NCF];
	int present[NCF];
	capture c;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if ((ar = calloc(1, sizeof *ar)) == NULL) {
		node_reply_db_error(req);
		goto done;
	}
	if (json_only(body, keys, &e) || read_fields(body, contact_fields, NCF, v, present, ar, NULL, &e))
		goto bad;
	for (int i = 0; i < NCF; i++)
		if (present[i] && v[i] == NULL && (i == 0 || i == 1 || i == 5)) {
			json_err_set(&e, contact_fields[i].name, "%s is required", contact_fields[i].name);
			goto bad;
		}
	if (crm__exists(n, "employer_contacts", id) != 1) {
		http_reply_error(req, 404, "id", "no such contact");
		goto done;
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	if (update_changed(n, "employer_contacts", id, contact_fields, NCF, v, present, NULL, NULL, 0) < 0) {
		capture_abort(&c);
		node_reply_db_error(req);
		goto done;
	}
	node_write_finish(n, &c, u->id, req, 200, db_row_json_by(n->nd_db, CONTACT_SQL, id));
	goto done;
bad:
	crm__bad(req, &e);
done:
	cJSON_Delete(body);
	free(ar);
}

static cJSON *location_json(node *n, const char *id)
{
	return db_row_json_by(n->nd_db,
			      "SELECT id, employer_id, name, street, city, state, zip, phone, status,"
			      " created_at FROM employer_locations WHERE id=?",
			      id);
}

static void post_location(http_req *req, void *ctx)
{
	node *n = ctx;
	const char *emp = http_req_param(req, "id");
	const node_user *u = crm__user(n, req, PRIV_CRM);
	static const char *const keys[] = {"name", "street", "city", "state", "zip", "phone", NULL};
	cJSON *body = NULL;
	json_err e = {{0}, {0}};
	arena *ar = NULL;
	const char *v[NLF];
	int present[NLF];
	char lid[UUID_STRLEN], ts[HLC_STRLEN];
	capture c;
	sqlite3_stmt *st = NULL;
	uint64_t now;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if ((ar = calloc(1, sizeof *ar)) == NULL) {
		node_reply_db_error(req);
		goto done;
	}
	if (json_only(body, keys, &e) ||
	    read_fields(body, location_fields, NLF - 1, v, present, ar, NULL, &e))
		goto bad;
	if (v[4] == NULL) {
		json_err_set(&e, "zip", "ZIP code is required");
		goto bad;
	}
	if (crm__exists(n, "employers", emp) != 1) {
		http_reply_error(req, 404, "id", "no such employer");
		goto done;
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	now = node_now_ms(n);
	uuid7_at(lid, now);
	hlc_now(&n->nd_hlc, ts);
	if (db_prepare(n->nd_db, &st,
		       "INSERT INTO employer_locations(id, employer_id, name, street, city, state, zip,"
		       " phone, status, created_at, updated_hlc) VALUES(?,?,?,?,?,?,?,?,'active',?,?)") != 0)
		goto dberr;
	sqlite3_bind_text(st, 1, lid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, emp, -1, SQLITE_STATIC);
	for (int i = 0; i < 6; i++)
		db_bind_text(st, 3 + i, v[i]);
	if (v[3] == NULL)
		sqlite3_bind_text(st, 6, "CA", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, (int64_t)now);
	sqlite3_bind_text(st, 10, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto dberr;
	sqlite3_finalize(st);
	node_write_finish(n, &c, u->id, req, 201, location_json(n, lid));
	goto done;
bad:
	crm__bad(req, &e);
	goto done;
dberr:
	log_warnx("crm: location not saved: %s", sqlite3_errmsg(n->nd_db));
	sqlite3_finalize(st);
	capture_abort(&c);
	node_reply_db_error(req);
done:
	cJSON_Delete(body);
	free(ar);
}

static void patch_location(http_req *req, void *ctx)
{
	node *n = ctx;
	const char *id = http_req_param(req, "id");
	const node_user *u = crm__user(n, req, PRIV_CRM);
	static const char *const keys[] = {"name", "street", "city", "state", "zip", "phone", "status", NULL};
	cJSON *body = NULL;
	json_err e = {{0}, {0}};
	arena *ar = NULL;
	const char *v[NLF];
	int present[NLF];
	capture c;

	if (u == NULL || (body = http_req_json(req, 1)) == NULL)
		return;
	if ((ar = calloc(1, sizeof *ar)) == NULL) {
		node_reply_db_error(req);
		goto done;
	}
	if (json_only(body, keys, &e) ||
	    read_fields(body, location_fields, NLF, v, present, ar, NULL, &e))
		goto bad;
	if ((present[4] && v[4] == NULL) || (present[6] && v[6] == NULL)) {
		json_err_set(&e, present[4] && v[4] == NULL ? "zip" : "status", "this field is required");
		goto bad;
	}
	if (crm__exists(n, "employer_locations", id) != 1) {
		http_reply_error(req, 404, "id", "no such location");
		goto done;
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	if (update_changed(n, "employer_locations", id, location_fields, NLF, v, present, NULL, NULL, 0) < 0) {
		capture_abort(&c);
		node_reply_db_error(req);
		goto done;
	}
	node_write_finish(n, &c, u->id, req, 200, location_json(n, id));
	goto done;
bad:
	crm__bad(req, &e);
done:
	cJSON_Delete(body);
	free(ar);
}

/*
 * Contacts List: the primary and secondary contacts of employers created as
 * marketing leads (including those since converted), with the companies
 * that have no contact yet; Lead Owner = me by default, "all" for everyone's.
 */
static void list_contacts(http_req *req, void *ctx)
{
	node *n = ctx;
	const node_user *u = crm__user(n, req, PRIV_VIEW);
	char ob[64], tb[16], q[128] = "", npat[300], cpat[300];
	const char *owner, *type;
	int limit, offset, nkind, cfts = 0, newest = 0;
	sqlite3_stmt *st;

	if (u == NULL || owner_filter(req, u, "me", ob, sizeof ob, &owner) != 0 ||
	    type_filter(req, tb, sizeof tb, &type) != 0 ||
	    crm__qint(req, "limit", CRM_PAGE_DEFAULT, 1, CRM_PAGE_MAX, &limit) != 0 ||
	    crm__qint(req, "offset", 0, 0, 10000000, &offset) != 0)
		return;
	http_req_query(req, "q", q, sizeof q);
	/*
	 * Company names through name_search(); contact names (each indexed
	 * with its company's name) through crm_contacts_fts, word prefixes, or
	 * when q has no word from the start (employer_contacts_name).
	 * A common word is answered newest contact first from the index; the
	 * rest sorted by company.
	 */
	nkind = name_search(q, npat, sizeof npat);
	if (q[0]) {
		cfts = crm__fts_query(q, cpat, sizeof cpat) == 0;
		if (!cfts) {
			size_t j = 0;
			for (const char *p = q; *p && j + 3 < sizeof cpat; p++) {
				if (*p == '%' || *p == '_' || *p == '\\')
					cpat[j++] = '\\';
				cpat[j++] = *p;
			}
			cpat[j++] = '%';
			cpat[j] = '\0';
		} else {
			int c = crm__fts_count(n, "crm_contacts_fts", cpat, CRM_SEARCH_SORT_MAX);
			int d = nkind == NAME_FTS
					? crm__fts_count(n, "crm_employers_fts", npat, CRM_SEARCH_SORT_MAX)
					: 0;
			if (c < 0 || d < 0) {
				node_reply_db_error(req);
				return;
			}
			newest = c + d > CRM_SEARCH_SORT_MAX;
		}
	}
	{
		char sql[2048];
		size_t len;
		if (newest)
			len = (size_t)snprintf(sql, sizeof sql,
				"SELECT e.id AS employer_id, e.company_name, e.account_type, e.username, e.zip,"
				" e.city, e.lead_owner_id, ow.display_name AS lead_owner_name, e.status,"
				" c.id AS contact_id, c.kind, c.name AS contact_name, c.title, c.phone, c.email"
				" FROM crm_contacts_fts x CROSS JOIN employer_contacts c ON c.rowid = x.rowid"
				" CROSS JOIN employers e ON e.id = c.employer_id"
				" LEFT JOIN staff ow ON ow.id = e.lead_owner_id"
				" WHERE x.crm_contacts_fts MATCH ?3 AND c.status = 'active'"
				" AND e.created_as = 'lead' AND e.status = 'active'");
		else {
			/* A search drives the query from the matching employers. */
			char from[640] = "employers e";
			if (nkind != NAME_NONE) {
				size_t fl = (size_t)snprintf(from, sizeof from, "(");
				fl = name_search_sql(from, fl, sizeof from, nkind, 4);
				snprintf(from + fl, sizeof from - fl,
					 " UNION SELECT e2.rowid FROM employer_contacts c2 CROSS JOIN employers e2"
					 " ON e2.id = c2.employer_id WHERE %s) m CROSS JOIN employers e"
					 " ON e.rowid = m.r",
					 cfts ? "c2.rowid IN (SELECT rowid FROM crm_contacts_fts WHERE"
						" crm_contacts_fts MATCH ?3)"
					      : "c2.name LIKE ?3 ESCAPE '\\'");
			}
			len = (size_t)snprintf(sql, sizeof sql,
				"SELECT e.id AS employer_id, e.company_name, e.account_type, e.username, e.zip,"
				" e.city, e.lead_owner_id, ow.display_name AS lead_owner_name, e.status,"
				" c.id AS contact_id, c.kind, c.name AS contact_name, c.title, c.phone, c.email"
				" FROM %s LEFT JOIN employer_contacts c ON c.employer_id = e.id"
				"  AND c.status = 'active'"
				" LEFT JOIN staff ow ON ow.id = e.lead_owner_id"
				" WHERE e.created_as = 'lead' AND e.status = 'active'", from);
		}
		if (owner)
			len += (size_t)snprintf(sql + len, sizeof sql - len, " AND e.lead_owner_id = ?1");
		if (type)
			len += (size_t)snprintf(sql + len, sizeof sql - len, " AND e.account_type = ?2");
		snprintf(sql + len, sizeof sql - len, "%s LIMIT ?5 OFFSET ?6",
			 newest ? " ORDER BY x.rowid DESC"
				: " ORDER BY e.company_name COLLATE NOCASE, e.id, c.kind, c.name");
		if (db_prepare(n->nd_db, &st, sql) != 0) {
			node_reply_db_error(req);
			return;
		}
	}
	db_bind_text(st, 1, owner);
	db_bind_text(st, 2, type);
	if (nkind != NAME_NONE) {
		sqlite3_bind_text(st, 3, cpat, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, npat, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int(st, 5, limit + 1);
	sqlite3_bind_int(st, 6, offset);
	crm__reply_page_order(req, st, limit, offset, newest);
}

/* ---- external employers and the business directory -------------------------------- */

static void list_external(http_req *req, void *ctx)
{
	node *n = ctx;
	char q[128] = "", ind[16] = "", zip[16] = "", sort[16] = "name", like[300];
	int limit, offset;
	sqlite3_stmt *st;

	if (crm__user(n, req, PRIV_VIEW) == NULL ||
	    crm__qint(req, "limit", CRM_PAGE_DEFAULT, 1, CRM_PAGE_MAX, &limit) != 0 ||
	    crm__qint(req, "offset", 0, 0, 10000000, &offset) != 0)
		return;
	http_req_query(req, "q", q, sizeof q);
	http_req_query(req, "industry", ind, sizeof ind);
	http_req_query(req, "zip", zip, sizeof zip);
	http_req_query(req, "sort", sort, sizeof sort);
	if (strcmp(sort, "name") != 0 && strcmp(sort, "jobs") != 0) {
		http_reply_error(req, 400, "sort", "sort must be name or jobs");
		return;
	}
	if (ind[0] && strspn(ind, "0123456789") != strlen(ind)) {
		http_reply_error(req, 400, "industry", "industry must be a NAICS code (digits)");
		return;
	}
	if (zip[0] && (strlen(zip) > 5 || strspn(zip, "0123456789") != strlen(zip))) {
		http_reply_error(req, 400, "zip", "zip must be up to 5 digits");
		return;
	}
	if (q[0])
		crm__like(q, like, sizeof like);
	else
		like[0] = '\0';
	if (db_prepare(n->nd_db, &st,
		       "SELECT x.id, x.company_name, x.industry_code, x.industry_title, x.street, x.city,"
		       " x.state, x.zip, x.phone, x.website, x.active_job_orders, x.last_posted,"
		       " (SELECT e.id FROM employers e INDEXED BY employers_external WHERE e.external_employer_id = x.id LIMIT 1) AS lead_id"
		       " FROM external_employers x WHERE x.active = 1"
		       " AND (?1 = '' OR x.company_name LIKE ?1 ESCAPE '\\' OR x.industry_title LIKE ?1 ESCAPE '\\'"
		       "      OR x.city LIKE ?1 ESCAPE '\\')"
		       " AND (?2 = '' OR x.industry_code LIKE ?2 || '%') AND (?3 = '' OR x.zip LIKE ?3 || '%')"
		       " ORDER BY CASE WHEN ?4 = 'jobs' THEN -x.active_job_orders ELSE 0 END,"
		       " x.company_name COLLATE NOCASE, x.id LIMIT ?5 OFFSET ?6") != 0) {
		node_reply_db_error(req);
		return;
	}
	sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, zip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sort, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, limit + 1);
	sqlite3_bind_int(st, 6, offset);
	crm__reply_page(req, st, limit, offset);
}

/* The lead form's values, prefilled from a hub-owned list row. */
static void prefill(http_req *req, node *n, const char *sql, const char *source, const char *key)
{
	cJSON *o;
	const char *id = http_req_param(req, "id");

	if (crm__user(n, req, PRIV_VIEW) == NULL)
		return;
	o = db_row_json_by(n->nd_db, sql, id);
	if (o == NULL) {
		http_reply_error(req, 404, "id", "no such entry");
		return;
	}
	cJSON_AddStringToObject(o, "source", source);
	cJSON_AddStringToObject(o, key, id);
	{
		char norm[CRM_NORM_MAX], z5[6] = "";
		const char *zip = json_str(o, "zip");
		cJSON *d = NULL;
		if (zip)
			crm_valid_zip(zip, z5);
		if (json_str(o, "company_name") &&
		    crm_normalize_name(json_str(o, "company_name"), norm, sizeof norm) == 0)
			d = find_duplicates(n, norm, z5, NULL);
		cJSON_AddItemToObject(o, "duplicates", d ? d : cJSON_CreateArray());
	}
	http_reply_json(req, 200, o);
}

static void prefill_external(http_req *req, void *ctx)
{
	prefill(req, ctx,
		"SELECT company_name, industry_code AS industry, street, city, state, zip, phone,"
		" website, active_job_orders FROM external_employers WHERE id=?",
		"external", "external_employer_id");
}

static void prefill_directory(http_req *req, void *ctx)
{
	prefill(req, ctx,
		"SELECT name AS company_name, industry_code AS industry, street, city, state, zip,"
		" phone, website FROM business_directory WHERE id=?",
		"local_search", "directory_id");
}

/* Local employer sites: the business directory by area, industry, keyword,
 * with or without openings. */
static void list_directory(http_req *req, void *ctx)
{
	node *n = ctx;
	char q[128] = "", area[96] = "", zip[16] = "", ind[16] = "", open[8] = "any", like[300],
		alike[200];
	int limit, offset;
	sqlite3_stmt *st;

	if (crm__user(n, req, PRIV_VIEW) == NULL ||
	    crm__qint(req, "limit", CRM_PAGE_DEFAULT, 1, CRM_PAGE_MAX, &limit) != 0 ||
	    crm__qint(req, "offset", 0, 0, 10000000, &offset) != 0)
		return;
	http_req_query(req, "q", q, sizeof q);
	http_req_query(req, "area", area, sizeof area);
	http_req_query(req, "zip", zip, sizeof zip);
	http_req_query(req, "industry", ind, sizeof ind);
	http_req_query(req, "openings", open, sizeof open);
	if (strcmp(open, "any") != 0 && strcmp(open, "yes") != 0 && strcmp(open, "no") != 0) {
		http_reply_error(req, 400, "openings", "openings must be any, yes or no");
		return;
	}
	if (zip[0] && (strlen(zip) > 5 || strspn(zip, "0123456789") != strlen(zip))) {
		http_reply_error(req, 400, "zip", "zip must be up to 5 digits");
		return;
	}
	if (ind[0] && strspn(ind, "0123456789") != strlen(ind)) {
		http_reply_error(req, 400, "industry", "industry must be a NAICS code (digits)");
		return;
	}
	if (q[0])
		crm__like(q, like, sizeof like);
	else
		like[0] = '\0';
	if (area[0])
		crm__like(area, alike, sizeof alike);
	else
		alike[0] = '\0';
	if (db_prepare(n->nd_db, &st,
		       "SELECT d.id, d.name, d.street, d.city, d.county, d.state, d.zip, d.phone, d.website,"
		       " d.industry_code, d.industry_title, d.employees, d.has_openings,"
		       " (SELECT e.id FROM employers e INDEXED BY employers_directory WHERE e.directory_id = d.id LIMIT 1) AS lead_id"
		       " FROM business_directory d"
		       " WHERE (?1 = '' OR d.name LIKE ?1 ESCAPE '\\' OR d.keywords LIKE ?1 ESCAPE '\\'"
		       "        OR d.industry_title LIKE ?1 ESCAPE '\\')"
		       " AND (?2 = '' OR d.city LIKE ?2 ESCAPE '\\' OR d.county LIKE ?2 ESCAPE '\\')"
		       " AND (?3 = '' OR d.zip LIKE ?3 || '%') AND (?4 = '' OR d.industry_code LIKE ?4 || '%')"
		       " AND (?5 = 'any' OR d.has_openings = (?5 = 'yes'))"
		       " ORDER BY d.name COLLATE NOCASE, d.id LIMIT ?6 OFFSET ?7") != 0) {
		node_reply_db_error(req);
		return;
	}
	sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, alike, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, zip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, open, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, limit + 1);
	sqlite3_bind_int(st, 7, offset);
	crm__reply_page(req, st, limit, offset);
}

/* ---- the lists the pages need -------------------------------------------------------- */

static void get_meta(http_req *req, void *ctx)
{
	node *n = ctx;
	const node_user *u = crm__user(n, req, PRIV_VIEW);
	cJSON *o, *me, *x, *a;
	char today[11];

	if (u == NULL)
		return;
	node_today(n, today);
	o = cJSON_CreateObject();
	me = cJSON_AddObjectToObject(o, "me");
	cJSON_AddStringToObject(me, "id", u->id);
	cJSON_AddStringToObject(me, "display_name", u->display_name);
	cJSON_AddStringToObject(me, "office_id", u->office_id);
	cJSON_AddBoolToObject(me, "crm_work_group", u->crm_work_group);
	cJSON_AddBoolToObject(me, "can_edit", (u->privs & PRIV_CRM) != 0);
	cJSON_AddBoolToObject(me, "can_report", (u->privs & PRIV_REPORTS) != 0);
	cJSON_AddStringToObject(o, "today", today);
	cJSON_AddStringToObject(o, "office_id", n->nd_office_id);
	x = db_rows_json_by(n->nd_db, "SELECT id, name FROM work_item_categories WHERE active=1 ORDER BY sort, name", NULL);
	cJSON_AddItemToObject(o, "categories", x ? x : cJSON_CreateArray());
	x = db_rows_json_by(n->nd_db, "SELECT id, name, is_default FROM work_item_priorities WHERE active=1 ORDER BY rank", NULL);
	cJSON_AddItemToObject(o, "priorities", x ? x : cJSON_CreateArray());
	x = db_rows_json_by(n->nd_db,
		    "SELECT id, display_name, office_id FROM staff WHERE active=1 AND crm_work_group=1"
		    " ORDER BY display_name",
		    NULL);
	cJSON_AddItemToObject(o, "work_group", x ? x : cJSON_CreateArray());
	x = db_rows_json_by(n->nd_db, "SELECT id, display_name, office_id FROM staff WHERE active=1 ORDER BY display_name", NULL);
	cJSON_AddItemToObject(o, "staff", x ? x : cJSON_CreateArray());
	x = db_rows_json_by(n->nd_db, "SELECT id, name, local_area_id FROM offices WHERE active=1 ORDER BY name", NULL);
	cJSON_AddItemToObject(o, "offices", x ? x : cJSON_CreateArray());
	a = cJSON_AddArrayToObject(o, "completion_codes");
	static const char *const cc[][2] = {{"successful", "Successful completion"},
					    {"unsuccessful", "Unsuccessful completion"},
					    {"cancelled", "Cancelled"}};
	for (int i = 0; i < 3; i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "id", cc[i][0]);
		cJSON_AddStringToObject(c, "label", cc[i][1]);
		cJSON_AddItemToArray(a, c);
	}
	http_reply_json(req, 200, o);
}

/* ---- routes and interim seeding ------------------------------------------------------- */

/*
 * Interim until node_seed_demo() and the hub's seeding call
 * crm_seed_reference(): a stand-alone (never enrolled) node whose CRM lists
 * are empty seeds them itself, without capture (they are hub-owned).
 */
static void seed_if_standalone(node *n)
{
	char ts[HLC_STRLEN];

	/* Enrolled: the hub's lists come with the snapshot. */
	if (!node_standalone(n))
		return;
	if (db_int(n->nd_db, "SELECT count(*) FROM work_item_categories", 0) > 0)
		return;
	hlc_now(&n->nd_hlc, ts);
	if (db_exec(n->nd_db, "BEGIN IMMEDIATE") != 0)
		return;
	if (crm_seed_reference(n->nd_db, ts) == 0 && db_exec(n->nd_db, "COMMIT") == 0) {
		log_info("crm: seeded the demo CRM lists on a stand-alone node");
		return;
	}
	db_exec(n->nd_db, "ROLLBACK");
	log_warnx("crm: cannot seed the demo CRM lists");
}

int crm_routes(node *n, router *r)
{
	int rc = 0;

	seed_if_standalone(n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/meta", get_meta, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/employers/duplicates", get_duplicates, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/employers", list_employers, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/crm/employers", post_employer, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/employers/:id", get_employer, n);
	rc |= router_add(r, HTTP_M_PATCH, "/api/v1/crm/employers/:id", patch_employer, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/crm/employers/:id/convert", post_convert, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/crm/employers/:id/duplicate-of", post_duplicate_of, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/crm/employers/:id/vetting", post_vetting, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/crm/employers/:id/contacts", post_contact, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/crm/employers/:id/locations", post_location, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/crm/employers/:id/notes", post_employer_note, n);
	rc |= router_add(r, HTTP_M_PATCH, "/api/v1/crm/contacts/:id", patch_contact, n);
	rc |= router_add(r, HTTP_M_PATCH, "/api/v1/crm/locations/:id", patch_location, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/contacts", list_contacts, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/duplicate-flags", list_duplicate_flags, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/external-employers", list_external, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/external-employers/:id/prefill", prefill_external, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/directory", list_directory, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/crm/directory/:id/prefill", prefill_directory, n);
	rc |= crm__routes_services(n, r);
	rc |= crm__routes_work(n, r);
	rc |= crm__routes_reports(n, r);
	rc |= crm__routes_attach(n, r);
	return rc ? -1 : 0;
}
