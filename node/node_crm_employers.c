/*
 * node_crm_employers.c - CRM employers (marketing leads and recruiting
 * employers): the list with its searches, the duplicate check while typing,
 * create (by manual entry or from an external employer or the local
 * employer sites search), read and edit.  Every write is a declared
 * NODE_WRITE route; only changed columns are written, so the hub's
 * column-wise merge keeps concurrent edits of other columns.
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static route_rc list_employers(route_call *a)
{
	node *n = API_NODE(a);
	char zip[16] = "", pat[CRM_PAT_MAX], st_buf[16] = "active", edd[9];
	int kind, newest = 0;
	crm_list l;

	if (crm__employer_filters(a, "all", &l) | crm__list_args(a, &l))
		return ROUTE_BAD;
	http_req_query(a->rc_req, "zip", zip, sizeof zip);
	http_req_query(a->rc_req, "status", st_buf, sizeof st_buf);
	if (strcmp(st_buf, "active") != 0 && strcmp(st_buf, "inactive") != 0 &&
	    strcmp(st_buf, "all") != 0)
		return route_fail(a, 400, "status", "status must be active, inactive or all");
	if (zip[0] && (strlen(zip) > 5 || strspn(zip, "0123456789") != strlen(zip)))
		return route_fail(a, 400, "zip", "zip must be up to 5 digits");
	kind = crm__name_search(l.q, pat, sizeof pat);
	if (crm_valid_edd_account(l.q, edd) != 0)
		snprintf(edd, sizeof edd, "%.8s", l.q);
	/* A common word matches thousands of names: read those newest first
	 * from the index instead of sorting them all. */
	if (kind == NAME_FTS) {
		int c = crm__fts_count(n, "crm_employers_fts", pat, CRM_SEARCH_SORT_MAX);
		if (c < 0)
			return ROUTE_DBERR;
		newest = c > CRM_SEARCH_SORT_MAX;
	}
	{
		/* Only the filters in use appear in the SQL, so each can use its
		 * index ("?1 IS NULL OR col = ?1" defeats the planner). */
		buf sql = BUF_INIT(CRM_SQL_MAX);
		/* The page is chosen by rowid first (the inner query), so the
		 * per-row columns (primary contact, duplicate flag) are read for
		 * its rows only. */
		buf_puts(&sql,
			"SELECT e.id, e.account_type, e.company_name, e.username, e.zip, e.city,"
			" e.phone, e.industry, e.lead_owner_id, ow.display_name AS lead_owner_name,"
			" e.office_id, e.status, e.vetting_status, e.created_at,"
			" (SELECT name FROM employer_contacts c WHERE c.employer_id=e.id AND"
			"   c.kind='primary' AND c.status='active' ORDER BY c.created_at LIMIT 1) AS primary_contact,"
			" EXISTS(SELECT 1 FROM crm_duplicate_flags f WHERE f.status='open' AND"
			"   (f.employer_id=e.id OR f.other_employer_id=e.id)) AS possible_duplicate"
			" FROM (SELECT e.rowid AS pr FROM ");
		/* A search drives the query from its matches (CROSS JOIN keeps
		 * the planner from scanning every employer in name order). */
		if (newest) {
			buf_puts(&sql, "crm_employers_fts x CROSS JOIN employers e ON e.rowid = x.rowid");
		} else if (kind != NAME_NONE) {
			buf_puts(&sql, "(");
			crm__name_search_sql(&sql, kind, 3);
			buf_puts(&sql,
				 " UNION SELECT rowid FROM employers WHERE username = ?7"
				 " UNION SELECT rowid FROM employers WHERE edd_account_number = ?9) m"
				 " CROSS JOIN employers e ON e.rowid = m.r");
		} else {
			buf_puts(&sql, "employers e");
		}
		buf_puts(&sql, " WHERE 1");
		if (newest)
			buf_puts(&sql, " AND x.crm_employers_fts MATCH ?3");
		if (l.owner)
			buf_puts(&sql, " AND e.lead_owner_id = ?1");
		if (l.type)
			buf_puts(&sql, " AND e.account_type = ?2");
		if (zip[0])
			buf_puts(&sql, " AND e.zip5 >= ?4 AND e.zip5 < ?4 || 'z'");
		if (strcmp(st_buf, "all") != 0)
			buf_puts(&sql, " AND e.status = ?8");
		buf_printf(&sql, "%s LIMIT ?5 OFFSET ?6",
			   newest ? " ORDER BY x.rowid DESC" : " ORDER BY e.company_name COLLATE NOCASE, e.id");
		buf_printf(&sql,
			   ") p CROSS JOIN employers e ON e.rowid = p.pr"
			   " LEFT JOIN staff ow ON ow.id = e.lead_owner_id%s",
			   newest ? " ORDER BY e.rowid DESC" : " ORDER BY e.company_name COLLATE NOCASE, e.id");
		return crm__page_query(a, &l, &sql, newest, "ttttiittt", l.owner, l.type, pat, zip,
				       l.limit + 1, l.offset, l.q, st_buf, edd);
	}
}

static route_rc get_duplicates(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	char name[JSON_TEXT_BYTES(CRM_NAME_MAX)], zip[16] = "", z5[6] = "", norm[CRM_NORM_MAX];
	char ex[64] = "", eddq[32] = "", edd[9] = "";
	cJSON *arr;

	if (route_qtext(a, "name", CRM_NAME_MAX, name, sizeof name) != 0)
		return ROUTE_BAD;
	http_req_query(req, "zip", zip, sizeof zip);
	http_req_query(req, "exclude", ex, sizeof ex);
	http_req_query(req, "edd", eddq, sizeof eddq);
	if (crm_normalize_name(name, norm, sizeof norm) != 0)
		return route_ok(a, 200, cJSON_CreateArray());
	if (zip[0] && crm_valid_zip(zip, z5) != 0)
		return route_fail(a, 400, "zip", "ZIP code must be 5 digits or ZIP+4");
	if (eddq[0] && crm_valid_edd_account(eddq, edd) != 0)
		return route_fail(a, 400, "edd", "an EDD Account Number is 7 or 8 digits");
	arr = crm__find_duplicates(n, norm, z5, edd[0] ? edd : NULL, ex[0] ? ex : NULL);
	return arr ? route_ok(a, 200, arr) : ROUTE_DBERR;
}

/* ---- create --------------------------------------------------------------------- */

/* A user name no employer the node holds uses yet. */
static int new_username(node *n, const char *norm, const char *id, char *out, size_t len)
{
	unsigned seed = 0;

	/* The random tail of the UUIDv7 makes offline collisions between
	 * offices unlikely; the hub flags any that still happen. */
	for (const char *p = id + 24; *p; p++)
		seed = seed * 16 + (unsigned)(isdigit((unsigned char)*p) ? *p - '0' : (*p | 0x20) - 'a' + 10);
	/* Fifty four-digit tails, then fifty eight-digit ones: a name shared
	 * by thousands of leads (a 12-letter stem has 10,000 short tails)
	 * still gets one. */
	for (int i = 0; i < 100; i++) {
		unsigned more = (seed / 10000u + (unsigned)i * 104729u) % 10000u;
		size_t w;
		int taken;

		if (crm_make_username(norm, seed + (unsigned)i * 7919u, out, len) != 0)
			return -1;
		w = strlen(out);
		if (i >= 50 && snprintf(out + w, len - w, "%04u", more) != 4)
			return -1;
		if ((taken = db_exists(n->nd_db, "SELECT 1 FROM employers WHERE username=?", out)) < 0)
			return -1;
		if (!taken)
			return 0;
	}
	return -1;
}

/* The employer's own fields, in a create's body and a patch's. */
#define EMPLOYER_KEYS                                                                            \
	{"company_name", ROUTE_T_ANY, 0}, {"edd_account_number", ROUTE_T_ANY, 0},                \
	{"zip", ROUTE_T_ANY, 0}, {"street", ROUTE_T_ANY, 0}, {"city", ROUTE_T_ANY, 0},           \
	{"state", ROUTE_T_ANY, 0}, {"mailing_street", ROUTE_T_ANY, 0},                           \
	{"mailing_city", ROUTE_T_ANY, 0}, {"mailing_state", ROUTE_T_ANY, 0},                     \
	{"mailing_zip", ROUTE_T_ANY, 0}, {"phone", ROUTE_T_ANY, 0}, {"email", ROUTE_T_ANY, 0},   \
	{"website", ROUTE_T_ANY, 0}, {"industry", ROUTE_T_ANY, 0},                               \
	{"pe_organization", ROUTE_T_ANY, 0}, {"lead_owner_id", ROUTE_T_ANY, 0}

static const route_key create_fields_rk[] = {
	EMPLOYER_KEYS,
	{"office_id", ROUTE_T_ANY, 0}, {"source", ROUTE_T_ANY, 0},
	{"external_employer_id", ROUTE_T_ANY, 0}, {"directory_id", ROUTE_T_ANY, 0},
	{"contacts", ROUTE_T_ANY, 0}, {"confirm_not_duplicate", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};
static const char *const contact_keys[] = {"kind", "name", "title", "phone", "email", NULL};

#define MAX_NEW_CONTACTS 10

/* A new employer as read from the body. */
typedef struct newemp {
	const char *v[CRM_NEF], *office, *source, *ext_id, *dir_id;
	const char *cv[MAX_NEW_CONTACTS][CRM_NCF];
	int present[CRM_NEF], confirm, ncontacts;
	char norm[CRM_NORM_MAX], z5[6], edd[9], la[64];
} newemp;

/* The contacts sent with a new employer, every error collected in a (its
 * field named contacts[i].x): 0, or -1. */
static int newemp_contacts(route_call *a, newemp *ne, arena *ar)
{
	const cJSON *contacts = cJSON_GetObjectItemCaseSensitive(a->rc_body, "contacts"), *it;
	json_err e = {{0}, {0}};
	int cpresent[CRM_NCF], bad = 0;

	if (contacts == NULL || cJSON_IsNull(contacts))
		return 0;
	if (!cJSON_IsArray(contacts) || cJSON_GetArraySize(contacts) > MAX_NEW_CONTACTS)
		return route_err(a, "contacts", "contacts must be a list of at most %d contacts",
				 MAX_NEW_CONTACTS);
	cJSON_ArrayForEach(it, contacts)
	{
		char prefix[32], f[48];
		snprintf(prefix, sizeof prefix, "contacts[%d].", ne->ncontacts);
		snprintf(f, sizeof f, "%sname", prefix);
		if (!cJSON_IsObject(it)) {
			bad = route_err(a, "contacts", "each contact must be an object");
		} else if (json_only(it, contact_keys, &e) != 0) {
			json_err_prefix(&e, prefix);
			bad = route_err_json(a, &e);
		} else {
			bad |= crm__read_fields(it, crm_contact_fields, CRM_NCF - 1, ne->cv[ne->ncontacts],
						cpresent, ar, prefix, &e, a);
			if (ne->cv[ne->ncontacts][1] == NULL && !route_has_err(a, f))
				bad = route_err(a, f, "contact name is required");
		}
		ne->ncontacts++;
	}
	return bad;
}

/* Where the new employer comes from: 0, or -1 with e set. */
static int newemp_source(node *n, newemp *ne, json_err *e)
{
	if (ne->source == NULL)
		ne->source = "manual";
	if (strcmp(ne->source, "manual") != 0 && strcmp(ne->source, "external") != 0 &&
	    strcmp(ne->source, "local_search") != 0) {
		json_err_set(e, "source", "source must be manual, external or local_search");
		return -1;
	}
	if (strcmp(ne->source, "external") == 0 &&
	    (ne->ext_id == NULL || crm__exists(n, "external_employers", ne->ext_id) != 1)) {
		json_err_set(e, "external_employer_id", "no such external employer");
		return -1;
	}
	if (strcmp(ne->source, "local_search") == 0 &&
	    (ne->dir_id == NULL || crm__exists(n, "business_directory", ne->dir_id) != 1)) {
		json_err_set(e, "directory_id", "no such local employer site");
		return -1;
	}
	if (strcmp(ne->source, "external") != 0)
		ne->ext_id = NULL;
	if (strcmp(ne->source, "local_search") != 0)
		ne->dir_id = NULL;
	return 0;
}

/* The body of a new employer, its defaults and rules, every error collected
 * in a: 0, or -1. */
static int newemp_read(route_call *a, newemp *ne, arena *ar)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	const cJSON *body = a->rc_body;
	const char **v = ne->v;
	json_err e = {{0}, {0}};
	int bad = 0;

	bad |= crm__read_fields(body, crm_employer_fields, CRM_NEF - 2, v, ne->present, ar, NULL, &e, a);
	if (crm__get_str(body, "office_id", 0, 64, &ne->office, ar, &e) != 0)
		bad = route_err_json(a, &e);
	if (crm__get_str(body, "source", 0, 16, &ne->source, ar, &e) != 0)
		bad = route_err_json(a, &e);
	if (crm__get_str(body, "external_employer_id", 0, 64, &ne->ext_id, ar, &e) != 0)
		bad = route_err_json(a, &e);
	if (crm__get_str(body, "directory_id", 0, 64, &ne->dir_id, ar, &e) != 0)
		bad = route_err_json(a, &e);
	bad |= route_bool(a, "confirm_not_duplicate", JSON_NULLABLE, 0, &ne->confirm);
	v[EF_STATUS] = v[EF_USERNAME] = NULL;
	if (v[EF_NAME] == NULL && !route_has_err(a, "company_name"))
		bad = route_err(a, "company_name", "company name is required");
	else if (v[EF_NAME] && crm_normalize_name(v[EF_NAME], ne->norm, sizeof ne->norm) != 0)
		bad = route_err(a, "company_name", "company name must contain a letter or digit");
	if (v[EF_ZIP] == NULL && !route_has_err(a, "zip"))
		bad = route_err(a, "zip", "ZIP code is required (enter it first, then the street)");
	else if (v[EF_ZIP])
		crm_valid_zip(v[EF_ZIP], ne->z5);
	if (v[EF_EDD])
		crm_valid_edd_account(v[EF_EDD], ne->edd);
	if (v[EF_STATE] == NULL)
		v[EF_STATE] = "CA";
	if (!route_has_err(a, "source") && newemp_source(n, ne, &e) != 0)
		bad = route_err_json(a, &e);
	if (v[EF_OWNER] == NULL && !route_has_err(a, "lead_owner_id"))
		v[EF_OWNER] = u->id;
	if (v[EF_OWNER] && crm__check_staff(n, v[EF_OWNER], "lead_owner_id", &e) != 0)
		bad = route_err_json(a, &e);
	/* An open office of this node's Local Area (those the lead form
	 * offers, GET /api/v1/crm/meta): the lead is made by its staff, and
	 * the hub refuses any other (hub/acct_apply.c). */
	if (ne->office == NULL && !route_has_err(a, "office_id"))
		ne->office = n->nd_office_id[0] ? n->nd_office_id : u->office_id;
	if (ne->office &&
	    (db_text(n->nd_db,
		     "SELECT local_area_id FROM offices WHERE id=? AND active=1",
		     ne->office, ne->la, sizeof ne->la) != 0 ||
	     strcmp(ne->la, n->nd_local_area_id) != 0))
		bad = route_err(a, "office_id", "no such open office in this Local Area");
	bad |= newemp_contacts(a, ne, ar);
	return bad ? -1 : 0;
}

/* The duplicate check, unless the user has seen the list and goes on:
 * ROUTE_OK (*answered set when the reply is the 409 with the strong
 * matches), or ROUTE_DBERR. */
static route_rc newemp_duplicates(route_call *a, const newemp *ne, int *answered)
{
	cJSON *dups, *strong, *it, *o;

	*answered = 0;
	if (ne->confirm)
		return ROUTE_OK;
	if ((dups = crm__find_duplicates(API_NODE(a), ne->norm, ne->z5,
					 ne->v[EF_EDD] ? ne->edd : NULL, NULL)) == NULL)
		return ROUTE_DBERR;
	strong = cJSON_CreateArray();
	cJSON_ArrayForEach(it, dups)
		if (strcmp(json_str(it, "match"), "similar") != 0)
			cJSON_AddItemToArray(strong, cJSON_Duplicate(it, 1));
	cJSON_Delete(dups);
	if (cJSON_GetArraySize(strong) == 0) {
		cJSON_Delete(strong);
		return ROUTE_OK;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", "this employer may already be in the system; "
					    "review the matches or confirm it is not a duplicate");
	cJSON_AddStringToObject(o, "field", "company_name");
	cJSON_AddItemToObject(o, "duplicates", strong);
	*answered = 1; /* nothing is written; the reply is the list */
	return route_ok(a, 409, o);
}

/* The employer row and its contacts, its id into id: 0 or -1. */
static int newemp_insert(node *n, const node_user *u, newemp *ne, char id[UUID_STRLEN])
{
	char username[CRM_USERNAME_MAX + 1], ts[HLC_STRLEN];
	const char *const *v = ne->v;
	uint64_t now = crm__new_row(n, id, ts);

	if (new_username(n, ne->norm, id, username, sizeof username) != 0)
		return -1;
	if (db_run(n->nd_db,
		   "INSERT INTO employers(id, account_type, created_as, company_name, normalized_name,"
		   " username, edd_account_number, zip, zip5, street, city, state, mailing_street,"
		   " mailing_city, mailing_state, mailing_zip, phone, email, website, industry,"
		   " pe_organization, lead_owner_id, office_id, local_area_id, created_by, created_at,"
		   " source, external_employer_id, directory_id, status, updated_hlc)"
		   " VALUES(?1,'lead','lead',?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,"
		   "?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,'active',?28)",
		   "tttttttttttttttttttttttItttt", id, v[EF_NAME], ne->norm, username,
		   v[EF_EDD] ? ne->edd : NULL, v[EF_ZIP], ne->z5,
		   /* street .. lead_owner_id */
		   v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15],
		   ne->office, ne->la, u->id, (int64_t)now, ne->source, ne->ext_id, ne->dir_id, ts) != 0)
		return -1;
	for (int i = 0; i < ne->ncontacts; i++) {
		char cid[UUID_STRLEN];
		if (crm__insert_contact(n, id, ne->cv[i], u->id, cid) != 0)
			return -1;
	}
	return 0;
}

static route_rc post_employer(route_call *a)
{
	char id[UUID_STRLEN];
	arena *ar = calloc(1, sizeof *ar);
	newemp *ne = calloc(1, sizeof *ne);
	route_rc rr;
	int answered = 0;

	if (ar == NULL || ne == NULL) {
		rr = ROUTE_DBERR;
	} else if (newemp_read(a, ne, ar) != 0) {
		rr = ROUTE_BAD;
	} else if ((rr = newemp_duplicates(a, ne, &answered)) == ROUTE_OK && !answered) {
		if (newemp_insert(API_NODE(a), API_USER(a), ne, id) != 0) {
			rr = ROUTE_DBERR;
		} else {
			log_info("crm: lead %s created (source %s, office %s)", id, ne->source, ne->office);
			rr = crm__employer_reply(a, 201, id);
		}
	}
	free(ne);
	free(ar);
	return rr;
}

/* ---- read, update, convert -------------------------------------------------------- */

static route_rc get_employer(route_call *a)
{
	return crm__employer_reply(a, 200, http_req_param(a->rc_req, "id"));
}

static const route_key patch_fields_rk[] = {
	EMPLOYER_KEYS,
	{"status", ROUTE_T_ANY, 0}, {"username", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* An edit of an employer: the fields sent and the derived columns they
 * change (normalized_name, zip5), with their buffers. */
typedef struct emp_edit {
	const char *v[CRM_NEF], *xc[2], *xv[2];
	int present[CRM_NEF], nx;
	char norm[CRM_NORM_MAX], z5[6], edd[9];
} emp_edit;

/* The rules of an edit of an employer of account type type, every error
 * collected: 0, or -1. */
static int edit_rules(route_call *a, emp_edit *ed, const char *type)
{
	const char **v = ed->v;
	const int *present = ed->present;
	json_err e = {{0}, {0}};
	int ferr = 0;

	if (present[EF_NAME] && !route_has_err(a, "company_name")) {
		if (v[EF_NAME] == NULL || crm_normalize_name(v[EF_NAME], ed->norm, sizeof ed->norm) != 0)
			ferr = route_err(a, "company_name", "company name must contain a letter or digit");
		ed->xc[ed->nx] = "normalized_name";
		ed->xv[ed->nx++] = ed->norm;
	}
	if (present[EF_ZIP] && !route_has_err(a, "zip")) {
		if (v[EF_ZIP] == NULL)
			ferr = route_err(a, "zip", "ZIP code is required");
		else
			crm_valid_zip(v[EF_ZIP], ed->z5);
		ed->xc[ed->nx] = "zip5";
		ed->xv[ed->nx++] = ed->z5;
	}
	if (present[EF_EDD] && !route_has_err(a, "edd_account_number")) {
		if (v[EF_EDD] == NULL && strcmp(type, CRM_RECRUITING) == 0)
			ferr = route_err(a, "edd_account_number",
					 "a recruiting employer keeps its EDD Account Number");
		if (v[EF_EDD]) {
			crm_valid_edd_account(v[EF_EDD], ed->edd);
			v[EF_EDD] = ed->edd;
		}
	}
	if (present[EF_OWNER] && !route_has_err(a, "lead_owner_id")) {
		if (v[EF_OWNER] == NULL)
			ferr = route_err(a, "lead_owner_id", "a lead owner is required");
		else if (crm__check_staff(API_NODE(a), v[EF_OWNER], "lead_owner_id", &e) != 0)
			ferr = route_err_json(a, &e);
	}
	if (present[EF_STATUS] && v[EF_STATUS] == NULL && !route_has_err(a, "status"))
		ferr = route_err(a, "status", "status must be active or inactive");
	if (present[EF_USERNAME] && v[EF_USERNAME] == NULL && !route_has_err(a, "username"))
		ferr = route_err(a, "username", "user name is required");
	return ferr;
}

/* A recruiting employer keeps what its conversion required
 * (crm_recruiting_kept_check): an edit may not clear or spoil one of those
 * it sends, each named (one whose format was refused already is not named
 * twice).  Fields not sent are not looked at.  ROUTE_OK, ROUTE_BAD with the
 * errors collected, or ROUTE_DBERR. */
static route_rc edit_kept(route_call *a, const char *id, const emp_edit *ed)
{
	crm_conversion cv;
	crm_fault f[CRM_KEPT_FIELDS];
	cJSON *cur = db_row_json_by(API_NODE(a)->nd_db, "SELECT * FROM employers WHERE id=?", id);
	route_rc rr = ROUTE_OK;
	int nf;

	if (cur == NULL)
		return ROUTE_DBERR;
	crm__employer_values(&cv, cur, ed->v, ed->present);
	nf = crm_recruiting_kept_check(&cv, f);
	for (int k = 0; k < nf; k++)
		for (int i = 0; i < CRM_NEF; i++)
			if (ed->present[i] && strcmp(crm_employer_fields[i].name, f[k].field) == 0 &&
			    !route_has_err(a, f[k].field)) {
				route_err(a, f[k].field, "%s: a recruiting employer keeps what its "
							 "conversion required", f[k].msg);
				rr = ROUTE_BAD;
			}
	cJSON_Delete(cur);
	return rr;
}

/* A new user name for employer id of account type type: ROUTE_OK, or the 409. */
static route_rc edit_username(route_call *a, const char *id, const char *type, const char *name)
{
	node *n = API_NODE(a);
	char cur[CRM_USERNAME_MAX + 1] = "";
	const char *why;

	db_text(n->nd_db, "SELECT username FROM employers WHERE id=?", id, cur, sizeof cur);
	if ((why = crm_username_edit_check(type, cur, name)) != NULL)
		return route_fail(a, 409, "username", "%s", why);
	if (crm__username_taken(n, name, id) != 0)
		return route_fail(a, 409, "username", "this user name is already taken");
	return ROUTE_OK;
}

static route_rc patch_employer(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id");
	char type[16] = "";
	emp_edit ed;
	arena ar;
	route_rc rr;
	int ferr;

	ar.a_used = 0;
	ed.nx = 0;
	/* Every field's error at once: the formats, then the rules. */
	ferr = crm__read_fields(a->rc_body, crm_employer_fields, CRM_NEF, ed.v, ed.present, &ar, NULL,
				NULL, a);
	if ((rr = crm__writable_employer(a, id)) != ROUTE_OK)
		return rr;
	db_text(n->nd_db, "SELECT account_type FROM employers WHERE id=?", id, type, sizeof type);
	ferr |= edit_rules(a, &ed, type);
	if (strcmp(type, CRM_RECRUITING) == 0 && (rr = edit_kept(a, id, &ed)) != ROUTE_OK) {
		if (rr == ROUTE_DBERR)
			return rr;
		ferr = -1;
	}
	if (ferr)
		return ROUTE_BAD;
	if (ed.present[EF_USERNAME] && (rr = edit_username(a, id, type, ed.v[EF_USERNAME])) != ROUTE_OK)
		return rr;
	if (crm__update_changed(n, "employers", id, crm_employer_fields, CRM_NEF, ed.v, ed.present,
				ed.xc, ed.xv, ed.nx) < 0)
		return ROUTE_DBERR;
	return crm__employer_reply(a, 200, id);
}

static const route_def crm_employers_defs[] = {
	{HTTP_M_GET, "/api/v1/crm/employers/duplicates", get_duplicates, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/employers", list_employers, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/crm/employers", post_employer, PRIV_CRM, ROUTE_BODY | NODE_WRITE, create_fields_rk, 0},
	{HTTP_M_GET, "/api/v1/crm/employers/:id", get_employer, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_PATCH, "/api/v1/crm/employers/:id", patch_employer, PRIV_CRM, ROUTE_BODY | NODE_WRITE, patch_fields_rk, 0},
};

const route_list crm_employers_route_list = ROUTE_LIST(crm_employers_defs);
