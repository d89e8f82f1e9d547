/*
 * acct_request.c - access requests (new, reset, change, recertify,
 * deactivate), their approval by another administrator, and the signed
 * forms uploaded with them.  Rows of the hub's route table (acct_api.h).
 */
#include "hub/acct_api.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/upload.h"
#include "lib/uuid.h"
#include "model/privileges.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const file_kinds[] = {"request_form", "ispa_certificate",
					 "confidentiality_statement", "separation_form", NULL};

int acct_group_signs_e1(const char *group)
{
	return acct_group_assigner(group) != 2;
}

/*
 * Does the account of request rq sign Attachment E-1, uploaded with its
 * ISPA certificate (WSD24-13)?  EDD staff, the EDD WSB groups a SPOC
 * assigns, sign the DE 7410 and EDD keeps its record; everyone else signs
 * E-1 and their administrator uploads both.  So the group decides, not
 * only the statement the request names: an older request may name DE 7410
 * for an LWIA group.  The group is the account's for a request about one,
 * else the one asked for; unknown, E-1.
 */
static int rq_signs_e1(sqlite3 *db, const cJSON *rq)
{
	const char *ct = json_str(rq, "conf_type"), *g = json_str(rq, "privilege_group");
	const char *sid = json_str(rq, "staff_id");
	char cur[64];

	if (ct && strcmp(ct, "E-1") == 0)
		return 1;
	if (sid && sid[0] &&
	    db_text(db, "SELECT coalesce(privilege_group, '') FROM staff WHERE id=?", sid, cur,
		    sizeof cur) == 0)
		g = cur;
	return acct_group_signs_e1(g);
}

cJSON *acct_missing_files(sqlite3 *db, const cJSON *rq)
{
	cJSON *m = cJSON_CreateArray();
	const char *kind = json_str(rq, "kind");
	const char *need[4];
	int k = 0;

	need[k++] = "request_form";
	if (kind && (strcmp(kind, "new") == 0 || strcmp(kind, "recertify") == 0) &&
	    rq_signs_e1(db, rq)) {
		need[k++] = "ispa_certificate";
		need[k++] = "confidentiality_statement";
	}
	for (int i = 0; i < k; i++) {
		sqlite3_stmt *st = NULL;
		int have = 0;
		if (db_prepare_bound(db, &st, "SELECT 1 FROM request_files WHERE request_id=? AND kind=?",
				     "tt", json_str(rq, "id"), need[i]) == 0) {
			have = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_finalize(st);
		}
		if (!have)
			cJSON_AddItemToArray(m, cJSON_CreateString(need[i]));
	}
	return m;
}

cJSON *acct_request_load(sqlite3 *db, const char *id)
{
	return db_row_json_by(db, "SELECT * FROM access_requests WHERE id=?", id);
}

/* "a,b" as a JSON array. */
static cJSON *list_array(const char *s)
{
	cJSON *a = cJSON_CreateArray();
	char tmp[256], *save = NULL;

	snprintf(tmp, sizeof tmp, "%s", s ? s : "");
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
		cJSON_AddItemToArray(a, cJSON_CreateString(t));
	return a;
}

cJSON *acct_request_out(sqlite3 *db, cJSON *rq, int with_files)
{
	cJSON *c;

	if (rq == NULL)
		return NULL;
	cJSON_ReplaceItemInObject(rq, "priv_add", list_array(json_str(rq, "priv_add")));
	cJSON_ReplaceItemInObject(rq, "priv_remove", list_array(json_str(rq, "priv_remove")));
	c = cJSON_GetObjectItem(rq, "crm_work_group");
	if (c && cJSON_IsNumber(c))
		cJSON_ReplaceItemInObject(rq, "crm_work_group", cJSON_CreateBool(c->valuedouble != 0));
	/* the API's names for the statement */
	json_add_str_or_null(rq, "confidentiality_type", json_str(rq, "conf_type"));
	json_add_str_or_null(rq, "confidentiality_date", json_str(rq, "conf_date"));
	if (with_files) {
		cJSON_AddItemToObject(
		    rq, "files",
		    db_rows_json_by(db,
			       "SELECT id, kind, filename, content_type, size, sha256, uploaded_by,"
			       " uploaded_at FROM request_files WHERE request_id=? ORDER BY uploaded_at",
			       json_str(rq, "id")));
		cJSON_AddItemToObject(rq, "missing_files", acct_missing_files(db, rq));
	}
	return rq;
}

cJSON *acct_request_scoped(route_call *a, const char *id, route_rc *rc)
{
	cJSON *rq = acct_request_load(API_HUB(a)->hb_db, id);
	const char *sid, *group;
	char cur[64];
	int r = 1;

	if (rq == NULL) {
		*rc = route_fail(a, 404, "request_id", "no such access request");
		return NULL;
	}
	/* Whose the request is: the account's, by the group it is in now (a
	 * change request's new group is checked when it is decided); a new
	 * account's, by the group asked for. */
	sid = json_str(rq, "staff_id");
	group = json_str(rq, "privilege_group");
	if (sid && sid[0] &&
	    (r = db_text(API_HUB(a)->hb_db, "SELECT privilege_group FROM staff WHERE id=?", sid, cur,
			 sizeof cur)) == 0)
		group = cur;
	*rc = r < 0 ? ROUTE_DBERR
		    : acct_account_scope(a, "request_id", json_str(rq, "local_area_id"),
					 json_str(rq, "field_division"), group);
	if (*rc != ROUTE_OK) {
		cJSON_Delete(rq);
		return NULL;
	}
	return rq;
}

/* ---- a new request ---------------------------------------------------------------- */

/* "a,b" from a JSON array of privilege names into out; -1 with the error
 * collected. */
static int priv_list(route_call *a, const char *name, int allow_admin, char *out, size_t n)
{
	const cJSON *arr, *it;
	json_err je = {{0}, {0}};
	size_t len = 0;

	out[0] = '\0';
	if (json_get_str_array(a->rc_body, name, JSON_NULLABLE, 0, 8, 32, &arr, &je) != 0)
		return route_err_json(a, &je);
	if (arr == NULL)
		return 0;
	cJSON_ArrayForEach(it, arr)
	{
		unsigned b = priv_from_name(it->valuestring);
		if (b == 0)
			return route_err(a, name, "unknown privilege '%s'", it->valuestring);
		if (b == PRIV_STAFF_ADMIN && !allow_admin)
			return route_err(a, name, "staff_admin comes only with an administrator role");
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", it->valuestring);
		if (len >= n)
			return route_err(a, name, "too many privileges");
	}
	return 0;
}

/* A date no later than today and, when max_age_days > 0, no older than
 * that.  0, or -1 with the error collected. */
static int date_field(route_call *a, const char *name, int required, int max_age_days,
		      const char **out)
{
	char t[11];
	int32_t d;

	if (route_str(a, name, required ? JSON_REQUIRED : JSON_NULLABLE, 10, 10, out, NULL, 0) != 0)
		return -1;
	if (*out == NULL)
		return 0;
	if (json_valid_date(*out) != 0)
		return route_err(a, name, "use a date YYYY-MM-DD");
	acct_today(t);
	d = clock_days_between(*out, t);
	if (max_age_days > 0 && d < 0)
		return route_err(a, name, "the date is in the future");
	if (max_age_days > 0 && d > max_age_days)
		return route_err(a, name, "the date is more than a year ago; it must be renewed first");
	return 0;
}

/* What a request says, read from the body. */
typedef struct rq_in {
	const char *kind, *staff_id, *username, *dname, *email, *la, *div, *office, *group,
	    *rname, *remail, *ispa, *ctype, *cdate, *need, *sep;
	char padd[256], prem[256], office_la[64];
	int crm, isnew;
} rq_in;

/* Every format error of the body at once.  0 or -1. */
static int rq_read(route_call *a, rq_in *in)
{
	int bad = 0, dates, opt, newreq;

	memset(in, 0, sizeof *in);
	in->crm = -1;
	if (route_str(a, "kind", JSON_REQUIRED, 1, 16, &in->kind, NULL, 0) != 0)
		return -1;
	if (!acct_in_list(in->kind, acct_kinds))
		return route_err(a, "kind", "kind must be new, reset, change, recertify or deactivate");
	in->isnew = newreq = strcmp(in->kind, "new") == 0;
	dates = newreq || strcmp(in->kind, "recertify") == 0;
	opt = JSON_NULLABLE;
	bad |= route_str(a, "staff_id", newreq ? opt : JSON_REQUIRED, 1, 63, &in->staff_id, NULL, 0);
	bad |= route_str(a, "username", newreq ? JSON_REQUIRED : opt, 3, 32, &in->username, NULL, 0);
	bad |= route_str(a, "display_name", newreq ? JSON_REQUIRED : opt, 1, 120, &in->dname, NULL,
			 0);
	bad |= route_str(a, "email", opt, 3, 200, &in->email, NULL, 0);
	bad |= route_str(a, "local_area_id", opt, 1, 63, &in->la, NULL, 0);
	bad |= route_str(a, "field_division", opt, 1, 120, &in->div, NULL, 0);
	bad |= route_str(a, "office_id", opt, 1, 63, &in->office, NULL, 0);
	bad |= route_str(a, "privilege_group", newreq ? JSON_REQUIRED : opt, 1, 64, &in->group, NULL,
			 0);
	bad |= priv_list(a, "priv_add", 0, in->padd, sizeof in->padd);
	bad |= priv_list(a, "priv_remove", 1, in->prem, sizeof in->prem);
	bad |= route_str(a, "requestor_name", JSON_REQUIRED, 1, 120, &in->rname, NULL, 0);
	bad |= route_str(a, "requestor_email", opt, 3, 200, &in->remail, NULL, 0);
	bad |= date_field(a, "ispa_date", dates, 366, &in->ispa);
	bad |= route_str(a, "confidentiality_type", dates ? JSON_REQUIRED : opt, 1, 16, &in->ctype,
			 NULL, 0);
	bad |= date_field(a, "confidentiality_date", dates, 366, &in->cdate);
	bad |= route_str(a, "business_need", dates ? JSON_REQUIRED : opt, 1, 1000, &in->need, NULL,
			 0);
	bad |= date_field(a, "separation_date", strcmp(in->kind, "deactivate") == 0, 0, &in->sep);
	if (!cJSON_IsNull(cJSON_GetObjectItem(a->rc_body, "crm_work_group")))
		bad |= route_bool(a, "crm_work_group", JSON_OPTIONAL, -1, &in->crm);
	if (in->ctype && strcmp(in->ctype, "DE 7410") != 0 && strcmp(in->ctype, "E-1") != 0)
		bad = route_err(a, "confidentiality_type", "use \"DE 7410\" (EDD staff) or \"E-1\"");
	if (in->group && acct_group_assigner(in->group) == 0)
		bad = route_err(a, "privilege_group", "unknown privilege group '%s'", in->group);
	else if (in->group && hub_codes_group_retired(in->group) &&
		 (newreq || strcmp(in->kind, "change") == 0))
		bad = route_err(a, "privilege_group",
				"the privilege group '%s' is retired: it is given to no account",
				in->group);
	for (const char *c = in->username; c && *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || strchr("._-", *c))) {
			bad = route_err(a, "username",
					"use 3 to 32 lower-case letters, digits, '.', '_' or '-'");
			break;
		}
	if (in->office && db_text(API_HUB(a)->hb_db, "SELECT local_area_id FROM offices WHERE id=?",
				  in->office, in->office_la, sizeof in->office_la) != 0)
		bad = route_err(a, "office_id", "unknown office");
	return bad;
}

route_rc acct_division_check(route_call *a, const char *la, const char *div)
{
	char ladiv[ACCT_DIV_BYTES] = "";

	if (div == NULL || la == NULL)
		return ROUTE_OK;
	if (db_text(API_HUB(a)->hb_db, "SELECT coalesce(field_division, '') FROM local_areas WHERE id=?",
		    la, ladiv, sizeof ladiv) < 0)
		return ROUTE_DBERR;
	if (strcmp(ladiv, div) == 0)
		return ROUTE_OK;
	return route_bad(a, "field_division",
			 ladiv[0] ? "the Local Area is in another field division"
				  : "the Local Area is in no field division (operations sets one)");
}

/* A new account's places: known, in the caller's scope, the name free. */
static route_rc rq_new_check(route_call *a, rq_in *in)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char tmp[8];
	route_rc rc;

	if (in->la == NULL && in->office_la[0])
		in->la = in->office_la;
	if (in->la == NULL && in->div == NULL)
		return route_bad(a, "local_area_id", "choose a Local Area (or a field division)");
	if (in->la == NULL)
		return route_bad(a, "office_id",
				 "WSB staff need an office, whose Local Area holds their login");
	if (in->office_la[0] && strcmp(in->office_la, in->la) != 0)
		return route_bad(a, "office_id", "the office is not in that Local Area");
	if (db_text(db, "SELECT 'x' FROM local_areas WHERE id=?", in->la, tmp, sizeof tmp) != 0)
		return route_bad(a, "local_area_id", "unknown Local Area");
	if (in->div &&
	    db_text(db, "SELECT 'x' FROM field_divisions WHERE id=?", in->div, tmp, sizeof tmp) != 0)
		return route_bad(a, "field_division", "unknown field division");
	if ((rc = acct_division_check(a, in->la, in->div)) != ROUTE_OK)
		return rc;
	if (db_text(db, "SELECT 'x' FROM staff WHERE username=?", in->username, tmp, sizeof tmp) == 0)
		return route_fail(a, 409, "username", "the user name '%s' is taken", in->username);
	return acct_api_scope(a, in->la, in->div, in->group);
}

/* A request about an existing account: active, in scope, saying something. */
static route_rc rq_staff_check(route_call *a, rq_in *in, acct_tgt *t)
{
	const cJSON *body = a->rc_body;
	route_rc rc;

	if ((rc = acct_target_load(a, in->staff_id, t)) != ROUTE_OK)
		return rc;
	if (!t->active)
		return route_fail(a, 409, "staff_id", "the account is deactivated");
	in->la = t->la[0] ? t->la : NULL;
	in->div = t->div[0] ? t->div : NULL;
	if (in->group && (rc = acct_api_scope(a, in->la, in->div, in->group)) != ROUTE_OK)
		return rc;
	if (in->office_la[0] && in->la && strcmp(in->office_la, in->la) != 0)
		return route_bad(a, "office_id", "the office is not in the account's Local Area");
	if (strcmp(in->kind, "change") == 0 && !in->group && !in->office && in->crm < 0 &&
	    !cJSON_GetObjectItem(body, "priv_add") && !cJSON_GetObjectItem(body, "priv_remove"))
		return route_bad(a, "privilege_group", "say what changes");
	in->username = t->username;
	return ROUTE_OK;
}

/* The additions a group may take: none of what it never holds (a "View
 * Access" group never edits, "LWIA Intake Staff" runs no reports and only
 * reads program applications, only the EDD WSB groups vet), for the
 * group the account will be in (the request's, or the account's own). */
static route_rc rq_adds_check(route_call *a, const rq_in *in, const acct_tgt *t)
{
	const char *g = in->group ? in->group : t->group;
	unsigned over = priv_list_bits(in->padd) & priv_group_never(g);
	/* a group that registers participants but never holds program_edit
	 * (LWIA Intake) reads program applications only; the rest never edit */
	int registers = !(priv_group_never(g) & PRIV_PARTICIPANT_EDIT);

	for (unsigned b = 1; over && b <= PRIV_ALL; b <<= 1)
		if (over & b)
			return route_bad(a, "priv_add", "the '%s' group never holds '%s' (%s)", g,
					 priv_name(b),
					 b == PRIV_REPORTS   ? "no access to reports"
					 : b == PRIV_VETTING ? "vetting is the EDD WSB groups'"
					 : b == PRIV_PROGRAM_EDIT && registers
					     ? "view access only to program applications"
					     : "no editing");
	return ROUTE_OK;
}

static int rq_insert(route_call *a, const rq_in *in, const acct_tgt *t, const char *id)
{
	const cJSON *body = a->rc_body;

	/* crm_work_group (?13): NULL when the request does not say (in->crm < 0) */
	return db_run(API_HUB(a)->hb_db,
		      "INSERT INTO access_requests(id, kind, staff_id, username, display_name, email,"
		      " local_area_id, field_division, office_id, privilege_group, priv_add, priv_remove,"
		      " crm_work_group, requestor_name, requestor_email, ispa_date, conf_type, conf_date,"
		      " business_need, separation_date, created_by, created_at)"
		      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,CASE WHEN ?13 >= 0 THEN ?13 END,"
		      " ?14,?15,?16,?17,?18,?19,?20,?21,?22)",
		      "ttttttttttttittttttttI", id, in->kind, in->isnew ? NULL : t->id, in->username,
		      in->dname, in->email, in->la, in->div, in->office, in->group,
		      cJSON_GetObjectItem(body, "priv_add") ? in->padd : NULL,
		      cJSON_GetObjectItem(body, "priv_remove") ? in->prem : NULL, in->crm, in->rname,
		      in->remail, in->ispa, in->ctype, in->cdate, in->need, in->sep, API_ADMIN(a)->ap_id,
		      (int64_t)hub_now_ms());
}

static const route_key request_keys[] = {
	{"kind", ROUTE_T_ANY, 0},           {"staff_id", ROUTE_T_ANY, 0},
	{"username", ROUTE_T_ANY, 0},       {"display_name", ROUTE_T_ANY, 0},
	{"email", ROUTE_T_ANY, 0},          {"local_area_id", ROUTE_T_ANY, 0},
	{"field_division", ROUTE_T_ANY, 0}, {"office_id", ROUTE_T_ANY, 0},
	{"privilege_group", ROUTE_T_ANY, 0}, {"priv_add", ROUTE_T_ANY, 0},
	{"priv_remove", ROUTE_T_ANY, 0},    {"crm_work_group", ROUTE_T_ANY, 0},
	{"requestor_name", ROUTE_T_ANY, 0}, {"requestor_email", ROUTE_T_ANY, 0},
	{"ispa_date", ROUTE_T_ANY, 0},      {"confidentiality_type", ROUTE_T_ANY, 0},
	{"confidentiality_date", ROUTE_T_ANY, 0}, {"business_need", ROUTE_T_ANY, 0},
	{"separation_date", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

static route_rc request_create(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	rq_in in;
	acct_tgt t;
	char id[UUID_STRLEN], after[256];
	route_rc rc;
	cJSON *row;

	if (rq_read(a, &in) != 0)
		return ROUTE_BAD;
	memset(&t, 0, sizeof t);
	rc = in.isnew ? rq_new_check(a, &in) : rq_staff_check(a, &in, &t);
	if (rc == ROUTE_OK)
		rc = rq_adds_check(a, &in, &t);
	if (rc == ROUTE_OK && in.ctype && strcmp(in.ctype, "DE 7410") == 0 &&
	    acct_group_signs_e1(in.group ? in.group : t.group))
		rc = route_bad(a, "confidentiality_type",
			       "the DE 7410 is EDD staff's (the EDD WSB groups): staff in the '%s'"
			       " group sign Attachment E-1",
			       in.group ? in.group : t.group);
	if (rc != ROUTE_OK)
		return rc;
	uuid7(id);
	if (rq_insert(a, &in, &t, id) != 0)
		return ROUTE_DBERR;
	snprintf(after, sizeof after, "{\"kind\":\"%s\",\"username\":\"%s\"}", in.kind,
		 in.username ? in.username : "");
	if (hub_api_admin_audit(a, "request.create", "access_requests", id, in.la, in.div, NULL,
				after) != 0 ||
	    (row = acct_request_load(db, id)) == NULL)
		return ROUTE_DBERR;
	return route_ok(a, 201, acct_request_out(db, row, 1));
}

/* A request as the list shows it (no files). */
static cJSON *request_row_out(sqlite3 *db, cJSON *row) { return acct_request_out(db, row, 0); }

static route_rc requests_list(route_call *a)
{
	char v[3][64];
	static const char *const names[] = {"status", "kind", "staff_id"};
	const char *args[3];

	for (int i = 0; i < 3; i++)
		args[i] = http_req_query(a->rc_req, names[i], v[i], i < 2 ? 16 : 64);
	return acct_list_scoped(a,
				"SELECT * FROM access_requests WHERE (?1 IS NULL OR status=?1) AND"
				" (?2 IS NULL OR kind=?2) AND (?3 IS NULL OR staff_id=?3) AND"
				" acct_in_scope(?4, ?5, ?6, local_area_id, field_division, "
				ACCT_REQUEST_GROUP_SQL("access_requests") ")"
				" ORDER BY created_at DESC LIMIT 1000",
				3, args, request_row_out);
}

static route_rc request_get(route_call *a)
{
	route_rc rc;
	cJSON *rq = acct_request_scoped(a, http_req_param(a->rc_req, "id"), &rc);

	return rq ? route_ok(a, 200, acct_request_out(API_HUB(a)->hb_db, rq, 1)) : rc;
}

/* What an approval needs besides the status: the forms, and another
 * administrator than the one who asked. */
static route_rc approve_check(route_call *a, const cJSON *rq)
{
	const acct_principal *p = API_ADMIN(a);
	cJSON *miss = acct_missing_files(API_HUB(a)->hb_db, rq);
	const char *by = json_str(rq, "created_by");

	if (miss == NULL)
		return ROUTE_DBERR;
	if (cJSON_GetArraySize(miss) > 0) {
		char *s = cJSON_PrintUnformatted(miss);
		route_fail(a, 409, "files", "upload the signed forms first; missing: %s", s ? s : "?");
		free(s);
		cJSON_Delete(miss);
		return ROUTE_FAIL;
	}
	cJSON_Delete(miss);
	/* Separation of duties (DESIGN.md): whoever requested an account action
	 * never approves it (the review's takeover: one administrator
	 * requested, approved and carried out a reset).  No one is exempt:
	 * operations needs another administrator or the admin token, the admin
	 * token someone signed in. */
	if (by && strcmp(by, p->ap_id) == 0)
		return route_fail(a, 403, "request_id",
				  "whoever requests an account action cannot approve it: another "
				  "administrator must");
	return ROUTE_OK;
}

static int decide_write(route_call *a, const char *id, int approve, const char *note)
{
	sqlite3 *db = API_HUB(a)->hb_db;

	if (db_run(db,
		   "UPDATE access_requests SET status=?, decided_by=?, decided_at=?, decision_note=?"
		   " WHERE id=? AND status='submitted'",
		   "ttItt", approve ? "approved" : "rejected", API_ADMIN(a)->ap_id,
		   (int64_t)hub_now_ms(), note, id) != 0)
		return -1;
	return sqlite3_changes(db) == 1 ? 0 : -1;
}

static route_rc request_decide(route_call *a, int approve)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *note = NULL, *id = http_req_param(a->rc_req, "id"), *group, *subject;
	acct_tgt t = {0};
	route_rc rc;
	cJSON *rq;

	if (a->rc_body && route_str(a, "note", JSON_NULLABLE, 1, 1000, &note, NULL, 0) != 0)
		return ROUTE_BAD;
	if ((rq = acct_request_scoped(a, id, &rc)) == NULL)
		return rc;
	group = json_str(rq, "privilege_group");
	subject = json_str(rq, "staff_id");
	rc = ROUTE_OK;
	if (strcmp(json_str(rq, "status"), "submitted") != 0)
		rc = route_fail(a, 409, "status", "the request is already %s", json_str(rq, "status"));
	else if (subject && subject[0])
		/* About an account: deciding it is acting on it, so the account's
		 * own rules hold (never one's own, an administrator's only by
		 * operations), as when it is carried out. */
		rc = acct_target_load(a, subject, &t);
	/* (the group asked for; an account's own group, retired since, is
	 * not given again by a reset or a recertification) */
	if (rc == ROUTE_OK && group && !(subject && subject[0] && strcmp(group, t.group) == 0) &&
	    !acct_group_assignable(API_ADMIN(a), group))
		rc = route_fail(a, 403, "privilege_group", "you may not assign the group '%s'", group);
	else if (rc == ROUTE_OK && approve)
		rc = approve_check(a, rq);
	if (rc == ROUTE_OK && (decide_write(a, id, approve, note) != 0 ||
			       hub_api_admin_audit(a, approve ? "request.approve" : "request.reject",
						   "access_requests", id, json_str(rq, "local_area_id"),
						   json_str(rq, "field_division"),
						   "{\"status\":\"submitted\"}",
						   approve ? "{\"status\":\"approved\"}"
							   : "{\"status\":\"rejected\"}") != 0))
		rc = ROUTE_DBERR;
	cJSON_Delete(rq);
	if (rc != ROUTE_OK)
		return rc;
	return route_ok(a, 200, acct_request_out(db, acct_request_load(db, id), 1));
}

static route_rc request_approve(route_call *a) { return request_decide(a, 1); }
static route_rc request_reject(route_call *a) { return request_decide(a, 0); }

/* ---- uploaded forms --------------------------------------------------------------------- */

static int files_dir(hub *h, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/files", h->hb_data) >= n)
		return -1;
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* An uploaded file's checks: kind, name, type, size.  ROUTE_OK with kind,
 * fname and ct filled, or the failure. */
static route_rc upload_read(route_call *a, const char *const *kinds, char kind[40], char *fname,
			    size_t fn, char ct[96])
{
	http_req *req = a->rc_req;
	const char *cth = http_req_header(req, "content-type");
	char raw_name[400];
	upload_type type = UPLOAD_UNKNOWN;
	int rc;

	if (http_req_query(req, "kind", kind, 40) == NULL || !acct_in_list(kind, kinds))
		return route_bad(a, "kind", kinds == file_kinds
				 ? "kind must be request_form, ispa_certificate, "
				   "confidentiality_statement or separation_form"
				 : "kind must be attachment_1 (the signed WSB CalJOBS SPOC and MIS"
				   " Administrator System Access Request Form)");
	if (http_req_query(req, "filename", raw_name, sizeof raw_name) == NULL ||
	    raw_name[0] == '\0')
		return route_bad(a, "filename", "name the file (?filename=...)");
	/* The type check is lib/upload.h's, shared with the office node's
	 * attachments: the declared type, then the bytes themselves. */
	rc = upload_check(cth, req->body.data, req->body.len, ACCT_FILE_TYPES, &type);
	if (rc == UPLOAD_E_TYPE)
		return route_fail(a, 415, "content_type", "upload a PDF, PNG or JPEG file");
	if (req->body.len == 0 || req->body.len > ACCT_FILE_MAX)
		return route_fail(a, 413, "file", "a file must be 1 byte to 2 MiB");
	if (rc != 0)
		return route_bad(a, "file", "the file's content is not a %s",
				 upload_mime(upload_type_of_mime(cth)));
	snprintf(ct, 96, "%s", upload_mime(type));
	if (upload_filename(raw_name, type, fname, fn) != 0)
		return route_bad(a, "filename", "the file name has no usable characters");
	return ROUTE_OK;
}

/* Store the bytes as DIR/files/<id>, synced.  0, or -1 (nothing left). */
static int file_store(route_call *a, const char *id)
{
	http_req *req = a->rc_req;
	char dir[PATH_MAX], path[PATH_MAX + 64];
	int fd, ok;

	if (files_dir(API_HUB(a), dir, sizeof dir) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s", dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	ok = write(fd, req->body.data, req->body.len) == (ssize_t)req->body.len && fsync(fd) == 0;
	close(fd);
	if (!ok) {
		log_warn("cannot store an uploaded file");
		unlink(path);
		return -1;
	}
	return 0;
}

static int file_insert(route_call *a, const cJSON *rq, const char *id, const char *kind,
		       const char *fname, const char *ct, const char *hex)
{
	return db_run(API_HUB(a)->hb_db,
		      "INSERT INTO request_files(id, request_id, staff_id, kind, filename, content_type,"
		      " size, sha256, uploaded_by, uploaded_at) VALUES(?,?,?,?,?,?,?,?,?,?)",
		      "ttttttIttI", id, json_str(rq, "id"), json_str(rq, "staff_id"), kind, fname, ct,
		      (int64_t)a->rc_req->body.len, hex, API_ADMIN(a)->ap_id, (int64_t)hub_now_ms());
}

/* The file's row and its audit row in the transaction; the bytes, stored
 * first, are removed again if that fails. */
static route_rc file_record(route_call *a, const cJSON *rq, const char *kind, const char *fname,
			    const char *ct)
{
	http_req *req = a->rc_req;
	char id[UUID_STRLEN], hex[65], after[256], dir[PATH_MAX], path[PATH_MAX + 64];
	unsigned char dg[32];
	cJSON *o;

	uuid7(id);
	if (file_store(a, id) != 0)
		return route_fail(a, 500, NULL, "cannot store the file");
	crypto_sha256(req->body.data, req->body.len, dg);
	crypto_hex(dg, sizeof dg, hex);
	snprintf(after, sizeof after, "{\"kind\":\"%s\",\"size\":%zu,\"sha256\":\"%s\"}", kind,
		 req->body.len, hex);
	if (file_insert(a, rq, id, kind, fname, ct, hex) != 0 ||
	    hub_api_admin_audit(a, "file.upload", "request_files", id,
				json_str(rq, "local_area_id"), json_str(rq, "field_division"), NULL,
				after) != 0 ||
	    (o = cJSON_CreateObject()) == NULL) {
		if (files_dir(API_HUB(a), dir, sizeof dir) == 0) {
			snprintf(path, sizeof path, "%s/%s", dir, id);
			unlink(path);
		}
		return ROUTE_DBERR;
	}
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "request_id", json_str(rq, "id"));
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "filename", fname);
	cJSON_AddStringToObject(o, "content_type", ct);
	cJSON_AddNumberToObject(o, "size", (double)req->body.len);
	cJSON_AddStringToObject(o, "sha256", hex);
	return route_ok(a, 201, o);
}

static route_rc file_upload(route_call *a)
{
	const char *rid = http_req_param(a->rc_req, "id");
	char kind[40], fname[UPLOAD_NAME_MAX + 1], ct[96], n[16];
	route_rc rc;
	cJSON *rq;

	if ((rq = acct_request_scoped(a, rid, &rc)) == NULL)
		return rc;
	if ((rc = upload_read(a, file_kinds, kind, fname, sizeof fname, ct)) != ROUTE_OK)
		goto out;
	if (strcmp(json_str(rq, "status"), "rejected") == 0) {
		rc = route_fail(a, 409, "status", "the request was rejected");
		goto out;
	}
	if (db_text(API_HUB(a)->hb_db, "SELECT count(*) FROM request_files WHERE request_id=?", rid,
		    n, sizeof n) != 0) {
		rc = ROUTE_DBERR;
		goto out;
	}
	if (atoi(n) >= ACCT_FILES_PER_REQUEST) {
		rc = route_fail(a, 409, "file", "at most %d files per request",
				ACCT_FILES_PER_REQUEST);
		goto out;
	}
	rc = file_record(a, rq, kind, fname, ct);
out:
	cJSON_Delete(rq);
	return rc;
}

/*
 * POST /api/v1/admin/staff/:id/files?kind=attachment_1&filename=F (operations):
 * a form of the account itself rather than of an access request, today
 * the signed Attachment 1 that designating an administrator needs
 * (acct_staff.c, roles).  Stored like a request's form, request_id ''.
 */
static route_rc staff_file_upload(route_call *a)
{
	static const char *const staff_kinds[] = {"attachment_1", NULL};
	char kind[40], fname[UPLOAD_NAME_MAX + 1], ct[96];
	route_rc rc;
	acct_tgt t;
	cJSON *rq;

	if ((rc = acct_target_load(a, http_req_param(a->rc_req, "id"), &t)) != ROUTE_OK ||
	    (rc = upload_read(a, staff_kinds, kind, fname, sizeof fname, ct)) != ROUTE_OK)
		return rc;
	if (!t.active)
		return route_fail(a, 409, "id", "the account is deactivated");
	if ((rq = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(rq, "id", "");
	cJSON_AddStringToObject(rq, "staff_id", t.id);
	json_add_str_or_null(rq, "local_area_id", t.la[0] ? t.la : NULL);
	json_add_str_or_null(rq, "field_division", t.div[0] ? t.div : NULL);
	rc = file_record(a, rq, kind, fname, ct);
	cJSON_Delete(rq);
	return rc;
}

/* The scope of file f: its request's, or its account's for a form of the
 * account itself.  ROUTE_OK or the failure set. */
static route_rc file_scoped(route_call *a, const cJSON *f)
{
	const char *rid = json_str(f, "request_id");
	cJSON *x;
	route_rc rc;

	if (rid && rid[0]) {
		if ((x = acct_request_scoped(a, rid, &rc)) == NULL)
			return rc;
	} else {
		if ((x = acct_staff_json(API_HUB(a)->hb_db, json_str(f, "staff_id"))) == NULL)
			return route_fail(a, 404, NULL, "no such file");
		rc = acct_account_scope(a, "id", json_str(x, "local_area_id"),
					json_str(x, "field_division"), json_str(x, "privilege_group"));
	}
	cJSON_Delete(x);
	return rc;
}

static route_rc file_get(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	cJSON *f;
	char dir[PATH_MAX], path[PATH_MAX + 64];
	buf b = BUF_INIT(ACCT_FILE_MAX + 1);
	FILE *fp = NULL;
	route_rc rc = ROUTE_OK;
	char chunk[65536];
	size_t n;

	f = db_row_json_by(db, "SELECT * FROM request_files WHERE id=?",
			   http_req_param(a->rc_req, "id"));
	if (f == NULL)
		return route_fail(a, 404, NULL, "no such file");
	if ((rc = file_scoped(a, f)) != ROUTE_OK)
		goto out;
	if (files_dir(API_HUB(a), dir, sizeof dir) != 0 || !acct_id_ok(json_str(f, "id")))
		goto fail;
	snprintf(path, sizeof path, "%s/%s", dir, json_str(f, "id"));
	if ((fp = fopen(path, "rb")) == NULL)
		goto fail;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		if (buf_append(&b, chunk, n) != 0)
			goto fail;
	if (upload_download_headers(a->rc_req, json_str(f, "filename")) != 0)
		goto fail;
	rc = route_ok_copy(a, 200, json_str(f, "content_type"), b.data ? b.data : "", b.len);
	goto out;
fail:
	rc = route_fail(a, 500, NULL, "cannot read the file");
out:
	if (fp)
		fclose(fp);
	buf_release(&b);
	cJSON_Delete(f);
	return rc;
}

static const route_key note_keys[] = {
	{"note", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

static const route_def request_defs[] = {
	{HTTP_M_GET, "/api/v1/admin/access-requests", requests_list, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/access-requests", request_create, 0,
	 ROUTE_BODY | HUB_AUDITED, request_keys, 0},
	{HTTP_M_GET, "/api/v1/admin/access-requests/:id", request_get, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/access-requests/:id/approve", request_approve, 0,
	 ROUTE_BODY | ROUTE_BODY_OPT | HUB_AUDITED, note_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/access-requests/:id/reject", request_reject, 0,
	 ROUTE_BODY | ROUTE_BODY_OPT | HUB_AUDITED, note_keys, 0},
	/* The body is the file's bytes (no multipart): one larger than a form
	 * may be is refused (413) from its Content-Length, before any of it is
	 * read, not after the server's max_body of it. */
	{HTTP_M_POST, "/api/v1/admin/access-requests/:id/files", file_upload, 0,
	 ROUTE_RAW | HUB_AUDITED, NULL, ACCT_FILE_MAX},
	{HTTP_M_GET, "/api/v1/admin/files/:id", file_get, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/files", staff_file_upload, HUB_P_OPS,
	 ROUTE_RAW | HUB_AUDITED, NULL, ACCT_FILE_MAX},
};
const route_list acct_request_route_list = ROUTE_LIST(request_defs);
