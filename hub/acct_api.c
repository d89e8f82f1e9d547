/*
 * acct_api.c - the account administration API under /api/v1/admin/ (contract
 * in docs/hub-admin-api.md): Local Areas, field divisions, offices and
 * privilege groups; access requests with their uploaded forms; the account
 * lifecycle (create with a temporary password, reset, change of group,
 * recertification, deactivation, roles); recertification due/overdue; the
 * quarterly random-sample review; the audit trail and the outcome of
 * passwords set at nodes.
 *
 * Every action needs an approved request of the matching kind, is checked
 * against the caller's scope (acct_scope_check), runs in one transaction with
 * its admin_audit row (before/after, never a secret), and writes the
 * replicated staff / staff_credentials rows with plain SQL so the change-log
 * triggers send them to the nodes.  Temporary passwords are hashed in the
 * thread pool and shown once, in the answer.
 */
#include "hub/acct.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/upload.h"
#include "lib/uuid.h"
#include "model/password.h"
#include "model/privileges.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DBFAIL(req) http_reply_error((req), 500, NULL, "the hub database could not complete the request")

static const char *const kinds[] = {"new", "reset", "change", "recertify", "deactivate", NULL};

static int in_list(const char *s, const char *const *l)
{
	for (; s && *l; l++)
		if (strcmp(s, *l) == 0)
			return 1;
	return 0;
}

static void today(char out[11])
{
	clock_local_date(hub_now_ms(), out);
}

static int id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* "a,b" from a JSON array of privilege names into out; -1 with je on a bad name. */
static int priv_list(const cJSON *body, const char *name, int allow_admin, char *out, size_t n,
		     json_err *je)
{
	const cJSON *arr, *it;
	size_t len = 0;

	out[0] = '\0';
	if (json_get_str_array(body, name, JSON_NULLABLE, 0, 8, 32, &arr, je) != 0)
		return -1;
	if (arr == NULL)
		return 0;
	cJSON_ArrayForEach(it, arr)
	{
		unsigned b = priv_from_name(it->valuestring);
		if (b == 0) {
			json_err_set(je, name, "unknown privilege '%s'", it->valuestring);
			return -1;
		}
		if (b == PRIV_STAFF_ADMIN && !allow_admin) {
			json_err_set(je, name, "staff_admin comes only with an administrator role");
			return -1;
		}
		len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "," : "", it->valuestring);
		if (len >= n) {
			json_err_set(je, name, "too many privileges");
			return -1;
		}
	}
	return 0;
}

/* A date no later than today and, when max_age_days > 0, no older than that. */
static int date_field(const cJSON *body, const char *name, int required, int max_age_days,
		      const char **out, json_err *je)
{
	char t[11];
	int32_t d;

	if (json_get_str(body, name, required ? JSON_REQUIRED : JSON_NULLABLE, 10, 10, out, NULL, 0,
			 je) != 0)
		return -1;
	if (*out == NULL)
		return 0;
	if (json_valid_date(*out) != 0) {
		json_err_set(je, name, "use a date YYYY-MM-DD");
		return -1;
	}
	today(t);
	d = clock_days_between(*out, t);
	if (max_age_days > 0 && d < 0) {
		json_err_set(je, name, "the date is in the future");
		return -1;
	}
	if (max_age_days > 0 && d > max_age_days) {
		json_err_set(je, name, "the date is more than a year ago; it must be renewed first");
		return -1;
	}
	return 0;
}

/* ---- places and groups ---------------------------------------------------------- */

static void local_areas_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *r;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	r = db_rows_json_by(h->hb_db,
		       "SELECT l.id, l.name, l.field_division, l.pseudo_ssn_prefix,"
		       " (SELECT count(*) FROM offices o WHERE o.local_area_id=l.id) AS offices,"
		       " (SELECT count(*) FROM staff s WHERE s.local_area_id=l.id AND s.active=1) AS staff,"
		       " (SELECT count(*) FROM staff s WHERE s.local_area_id=l.id AND s.active=1 AND"
		       "  (','||coalesce(s.roles,'')||',') LIKE '%,mis_admin,%') AS mis_admins"
		       " FROM local_areas l ORDER BY l.name",
		       NULL);
	if (r == NULL)
		DBFAIL(req);
	else
		http_reply_json(req, 200, r);
}

static void field_divisions_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *r;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	r = db_rows_json_by(h->hb_db,
		       "SELECT d.id, d.name,"
		       " (SELECT count(*) FROM staff s WHERE s.field_division=d.id AND s.active=1 AND"
		       "  (','||coalesce(s.roles,'')||',') LIKE '%,spoc,%') AS spocs"
		       " FROM field_divisions d ORDER BY d.name",
		       NULL);
	if (r == NULL)
		DBFAIL(req);
	else
		http_reply_json(req, 200, r);
}

static void offices_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *r;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	r = db_rows_json_by(h->hb_db,
		       "SELECT id, name, local_area_id, address, timezone, has_title1_partner, active"
		       " FROM offices"
		       " ORDER BY name",
		       NULL);
	if (r == NULL)
		DBFAIL(req);
	else
		http_reply_json(req, 200, r);
}

/* POST field-divisions (operations only); Local Areas and offices are
 * created by hub_setup.c, with their pseudo-SSN identifier and Title I
 * partner. */
static void place_create(http_req *req, hub *h, int what)
{
	static const char *const la_f[] = {"id", "name", "field_division", NULL};
	static const char *const fd_f[] = {"id", "name", NULL};
	static const char *const of_f[] = {"id", "name", "local_area_id", "address", "timezone", NULL};
	acct_principal p;
	cJSON *body, *row = NULL;
	json_err je;
	const char *id = NULL, *name = NULL, *x1 = NULL, *x2 = NULL, *x3 = NULL;
	char gen[UUID_STRLEN], ts[HLC_STRLEN], after[512];
	sqlite3_stmt *st = NULL;
	const char *table = what == 0 ? "local_areas" : what == 1 ? "field_divisions" : "offices";
	int rc;

	if (acct_auth(h, req, &p, 1, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, what == 0 ? la_f : what == 1 ? fd_f : of_f, &je) != 0 ||
	    json_get_str(body, "id", JSON_NULLABLE, 1, 63, &id, NULL, 0, &je) != 0 ||
	    json_get_str(body, "name", JSON_REQUIRED, 1, 120, &name, NULL, 0, &je) != 0 ||
	    (what == 0 &&
	     json_get_str(body, "field_division", JSON_NULLABLE, 1, 120, &x1, NULL, 0, &je) != 0) ||
	    (what == 2 &&
	     (json_get_str(body, "local_area_id", JSON_REQUIRED, 1, 63, &x1, NULL, 0, &je) != 0 ||
	      json_get_str(body, "address", JSON_NULLABLE, 1, 200, &x2, NULL, 0, &je) != 0 ||
	      json_get_str(body, "timezone", JSON_NULLABLE, 1, 64, &x3, NULL, 0, &je) != 0))) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	if (id && !id_ok(id)) {
		http_reply_error(req, 400, "id", "use letters, digits, '.', '_' or '-'");
		goto out;
	}
	if (id == NULL) {
		uuid7(gen);
		id = gen;
	}
	if (what == 0 && x1 &&
	    (row = db_row_json_by(h->hb_db, "SELECT id FROM field_divisions WHERE id=?", x1)) == NULL) {
		http_reply_error(req, 400, "field_division", "unknown field division");
		goto out;
	}
	cJSON_Delete(row);
	row = NULL;
	if (what == 2 &&
	    (row = db_row_json_by(h->hb_db, "SELECT id FROM local_areas WHERE id=?", x1)) == NULL) {
		http_reply_error(req, 400, "local_area_id", "unknown Local Area");
		goto out;
	}
	cJSON_Delete(row);
	row = NULL;
	hlc_now(&h->hb_hlc, ts);
	rc = what == 0 ? db_prepare(h->hb_db, &st,
				    "INSERT INTO local_areas(id, name, field_division, updated_hlc)"
				    " VALUES(?1,?2,?3,?6)")
	     : what == 1 ? db_prepare(h->hb_db, &st,
				      "INSERT INTO field_divisions(id, name, created_at) VALUES(?1,?2,?7)")
			 : db_prepare(h->hb_db, &st,
				      "INSERT INTO offices(id, name, local_area_id, address, timezone,"
				      " updated_hlc) VALUES(?1,?2,?3,?4,coalesce(?5,'America/Los_Angeles'),?6)");
	if (rc != 0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (what != 1)
		db_bind_text(st, 3, x1);
	if (what == 2) {
		db_bind_text(st, 4, x2);
		db_bind_text(st, 5, x3);
	}
	if (what != 1)
		sqlite3_bind_text(st, 6, ts, -1, SQLITE_STATIC);
	if (what == 1)
		sqlite3_bind_int64(st, 7, (sqlite3_int64)hub_now_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		http_reply_error(req, 409, "id", "'%s' already exists", id);
		goto out;
	}
	row = cJSON_CreateObject();
	cJSON_AddStringToObject(row, "id", id);
	cJSON_AddStringToObject(row, "name", name);
	if (what == 0)
		json_add_str_or_null(row, "field_division", x1);
	if (what == 2) {
		cJSON_AddStringToObject(row, "local_area_id", x1);
		json_add_str_or_null(row, "address", x2);
	}
	{
		char *s = cJSON_PrintUnformatted(row);
		snprintf(after, sizeof after, "%s", s ? s : "{}");
		free(s);
	}
	acct_audit(h->hb_db, &p, req->peer, what == 0 ? "local_area.create"
					    : what == 1 ? "field_division.create"
							: "office.create",
		   table, id, what == 0 ? id : what == 2 ? x1 : NULL, what == 1 ? id : NULL, NULL,
		   after);
	http_reply_json(req, 201, row);
	row = NULL;
out:
	cJSON_Delete(row);
	cJSON_Delete(body);
}

static void field_division_create(http_req *req, void *ctx) { place_create(req, ctx, 1); }

static const char *const group_desc[][3] = {
    {"LWIA/CBO Staff", "MIS Administrator", "Staff administering Title I services only"},
    {"LWIA Intake Staff", "MIS Administrator",
     "Limited access for basic participant needs; view-only access to program applications; "
     "no access to reports"},
    {"LWIA Partner Staff", "MIS Administrator",
     "Staff administering Title I services who also need the Registration Only eligibility in "
     "the Title III application"},
    {"LWIA Partner Supervisor", "MIS Administrator",
     "Same access as LWIA Partner Staff plus managing staff in the LWIA Partner Staff and "
     "LWIA/CBO Staff groups"},
    {"ETPL Coordinators", "MIS Administrator",
     "Local Eligible Training Provider List coordinators working with training providers"},
    {"WARN", "MIS Administrator",
     "Rapid Response Worker Adjustment and Retraining Notification coordinators"},
    {"View Access", "MIS Administrator",
     "View basic information on a jobseeker or employer account; no editing"},
    {"View Access with Reports", "MIS Administrator",
     "View basic information on a jobseeker or employer account and run reports; no editing"},
    {"DVOP", "WSB CalJOBS SPOC", "Disabled Veterans' Outreach Specialists"},
    {"EDD El Centro Helpdesk", "WSB CalJOBS SPOC",
     "Staff answering calls from the CalJOBS Public Help Desk"},
    {"EDD WSB Staff", "WSB CalJOBS SPOC", "Workforce Services Branch staff"},
    {"EDD WSB Supervisor", "WSB CalJOBS SPOC", "Managers of WSB staff"},
    {"LVER", "WSB CalJOBS SPOC", "Local Veterans' Employment Representatives"},
    {"TAA Coordinators/Specialist", "WSB CalJOBS SPOC", "TAA Coordinators or TAA Specialists"},
};

static void groups_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *r;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	r = cJSON_CreateArray();
	for (size_t i = 0; i < sizeof group_desc / sizeof group_desc[0]; i++) {
		cJSON *o = cJSON_CreateObject(), *pv = cJSON_CreateArray();
		unsigned bits = priv_group_bits(group_desc[i][0]);
		cJSON_AddStringToObject(o, "name", group_desc[i][0]);
		cJSON_AddStringToObject(o, "assigned_by", group_desc[i][1]);
		cJSON_AddStringToObject(o, "description", group_desc[i][2]);
		for (unsigned b = 1; b <= PRIV_ALL; b <<= 1)
			if (bits & b)
				cJSON_AddItemToArray(pv, cJSON_CreateString(priv_name(b)));
		cJSON_AddItemToObject(o, "privileges", pv);
		cJSON_AddBoolToObject(o, "assignable", acct_group_assignable(&p, group_desc[i][0]));
		cJSON_AddItemToArray(r, o);
	}
	http_reply_json(req, 200, r);
}

/* ---- access requests ------------------------------------------------------------------ */

static const char *const file_kinds[] = {"request_form", "ispa_certificate",
					 "confidentiality_statement", "separation_form", NULL};

/* Kinds of file the request still needs, as a JSON array. */
static cJSON *missing_files(sqlite3 *db, const cJSON *rq)
{
	cJSON *m = cJSON_CreateArray();
	const char *kind = json_str(rq, "kind"), *ct = json_str(rq, "conf_type");
	const char *need[4];
	int k = 0;

	need[k++] = "request_form";
	if (kind && (strcmp(kind, "new") == 0 || strcmp(kind, "recertify") == 0) && ct &&
	    strcmp(ct, "E-1") == 0) {
		need[k++] = "ispa_certificate";
		need[k++] = "confidentiality_statement";
	}
	for (int i = 0; i < k; i++) {
		sqlite3_stmt *st = NULL;
		int have = 0;
		if (db_prepare(db, &st, "SELECT 1 FROM request_files WHERE request_id=? AND kind=?") ==
		    0) {
			db_bind_text(st, 1, json_str(rq, "id"));
			sqlite3_bind_text(st, 2, need[i], -1, SQLITE_STATIC);
			have = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_finalize(st);
		}
		if (!have)
			cJSON_AddItemToArray(m, cJSON_CreateString(need[i]));
	}
	return m;
}

static cJSON *request_load(sqlite3 *db, const char *id)
{
	return db_row_json_by(db, "SELECT * FROM access_requests WHERE id=?", id);
}

/* The request as the API shows it (takes rq). */
static cJSON *request_out(sqlite3 *db, cJSON *rq, int with_files)
{
	const char *s;

	s = json_str(rq, "priv_add");
	cJSON_ReplaceItemInObject(rq, "priv_add", cJSON_CreateString(s ? s : ""));
	{
		cJSON *a = cJSON_CreateArray();
		char tmp[256], *save = NULL;
		snprintf(tmp, sizeof tmp, "%s", json_str(rq, "priv_add"));
		for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
			cJSON_AddItemToArray(a, cJSON_CreateString(t));
		cJSON_ReplaceItemInObject(rq, "priv_add", a);
		a = cJSON_CreateArray();
		s = json_str(rq, "priv_remove");
		snprintf(tmp, sizeof tmp, "%s", s ? s : "");
		for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
			cJSON_AddItemToArray(a, cJSON_CreateString(t));
		cJSON_ReplaceItemInObject(rq, "priv_remove", a);
	}
	{
		cJSON *c = cJSON_GetObjectItem(rq, "crm_work_group");
		if (c && cJSON_IsNumber(c))
			cJSON_ReplaceItemInObject(rq, "crm_work_group", cJSON_CreateBool(c->valuedouble != 0));
	}
	/* the API's names for the statement */
	s = json_str(rq, "conf_type");
	json_add_str_or_null(rq, "confidentiality_type", s);
	s = json_str(rq, "conf_date");
	json_add_str_or_null(rq, "confidentiality_date", s);
	if (with_files) {
		cJSON_AddItemToObject(
		    rq, "files",
		    db_rows_json_by(db,
			       "SELECT id, kind, filename, content_type, size, sha256, uploaded_by,"
			       " uploaded_at FROM request_files WHERE request_id=? ORDER BY uploaded_at",
			       json_str(rq, "id")));
		cJSON_AddItemToObject(rq, "missing_files", missing_files(db, rq));
	}
	return rq;
}

typedef struct tgt {
	char id[64], username[64], la[64], div[128], group[64], roles[96], office[64];
	int active;
} tgt;

/* Load the staff member an action targets and check the caller may act on
 * them.  0, or -1 after replying. */
static int target_load(hub *h, http_req *req, const acct_principal *p, const char *id, tgt *t)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(t, 0, sizeof *t);
	if (id == NULL || db_prepare(h->hb_db, &st,
				     "SELECT id, username, coalesce(local_area_id,''),"
				     " coalesce(field_division,''), privilege_group, coalesce(roles,''),"
				     " coalesce(office_id,''), active FROM staff WHERE id=?") != 0) {
		DBFAIL(req);
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(t->id, sizeof t->id, "%s", sqlite3_column_text(st, 0));
		snprintf(t->username, sizeof t->username, "%s", sqlite3_column_text(st, 1));
		snprintf(t->la, sizeof t->la, "%s", sqlite3_column_text(st, 2));
		snprintf(t->div, sizeof t->div, "%s", sqlite3_column_text(st, 3));
		snprintf(t->group, sizeof t->group, "%s", sqlite3_column_text(st, 4));
		snprintf(t->roles, sizeof t->roles, "%s", sqlite3_column_text(st, 5));
		snprintf(t->office, sizeof t->office, "%s", sqlite3_column_text(st, 6));
		t->active = sqlite3_column_int(st, 7);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		http_reply_error(req, 404, "staff_id", "no such staff member");
		return -1;
	}
	if (acct_scope_check(req, p, t->la, t->div, NULL) != 0)
		return -1;
	if (!(p->ap_roles & ROLE_OPERATIONS)) {
		if (strcmp(t->id, p->ap_id) == 0) {
			http_reply_error(req, 403, "staff_id",
					 "administrators do not act on their own account");
			return -1;
		}
		if (acct_roles_parse(t->roles) != 0) {
			http_reply_error(req, 403, "staff_id",
					 "only the CalJOBS Operations Unit manages administrator accounts");
			return -1;
		}
	}
	return 0;
}

static void request_create(http_req *req, void *ctx)
{
	static const char *const allowed[] = {
	    "kind", "staff_id", "username", "display_name", "email", "local_area_id",
	    "field_division", "office_id", "privilege_group", "priv_add", "priv_remove",
	    "crm_work_group", "requestor_name", "requestor_email", "ispa_date",
	    "confidentiality_type", "confidentiality_date", "business_need", "separation_date", NULL};
	hub *h = ctx;
	acct_principal p;
	cJSON *body, *row = NULL;
	json_err je;
	const char *kind = NULL, *staff_id = NULL, *username = NULL, *dname = NULL, *email = NULL,
		   *la = NULL, *div = NULL, *office = NULL, *group = NULL, *rname = NULL,
		   *remail = NULL, *ispa = NULL, *ctype = NULL, *cdate = NULL, *need = NULL,
		   *sep = NULL;
	char padd[256], prem[256], id[UUID_STRLEN], office_la[64] = "";
	int crm = -1, isnew, dates_needed;
	tgt t;
	sqlite3_stmt *st = NULL;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0 ||
	    json_get_str(body, "kind", JSON_REQUIRED, 1, 16, &kind, NULL, 0, &je) != 0)
		goto bad;
	if (!in_list(kind, kinds)) {
		json_err_set(&je, "kind", "kind must be new, reset, change, recertify or deactivate");
		goto bad;
	}
	isnew = strcmp(kind, "new") == 0;
	dates_needed = isnew || strcmp(kind, "recertify") == 0;
	if (json_get_str(body, "staff_id", isnew ? JSON_NULLABLE : JSON_REQUIRED, 1, 63, &staff_id,
			 NULL, 0, &je) != 0 ||
	    json_get_str(body, "username", isnew ? JSON_REQUIRED : JSON_NULLABLE, 3, 32, &username,
			 NULL, 0, &je) != 0 ||
	    json_get_str(body, "display_name", isnew ? JSON_REQUIRED : JSON_NULLABLE, 1, 120, &dname,
			 NULL, 0, &je) != 0 ||
	    json_get_str(body, "email", JSON_NULLABLE, 3, 200, &email, NULL, 0, &je) != 0 ||
	    json_get_str(body, "local_area_id", JSON_NULLABLE, 1, 63, &la, NULL, 0, &je) != 0 ||
	    json_get_str(body, "field_division", JSON_NULLABLE, 1, 120, &div, NULL, 0, &je) != 0 ||
	    json_get_str(body, "office_id", JSON_NULLABLE, 1, 63, &office, NULL, 0, &je) != 0 ||
	    json_get_str(body, "privilege_group", isnew ? JSON_REQUIRED : JSON_NULLABLE, 1, 64,
			 &group, NULL, 0, &je) != 0 ||
	    priv_list(body, "priv_add", 0, padd, sizeof padd, &je) != 0 ||
	    priv_list(body, "priv_remove", 1, prem, sizeof prem, &je) != 0 ||
	    json_get_str(body, "requestor_name", JSON_REQUIRED, 1, 120, &rname, NULL, 0, &je) != 0 ||
	    json_get_str(body, "requestor_email", JSON_NULLABLE, 3, 200, &remail, NULL, 0, &je) != 0 ||
	    date_field(body, "ispa_date", dates_needed, 366, &ispa, &je) != 0 ||
	    json_get_str(body, "confidentiality_type", dates_needed ? JSON_REQUIRED : JSON_NULLABLE, 1,
			 16, &ctype, NULL, 0, &je) != 0 ||
	    date_field(body, "confidentiality_date", dates_needed, 366, &cdate, &je) != 0 ||
	    json_get_str(body, "business_need", dates_needed ? JSON_REQUIRED : JSON_NULLABLE, 1, 1000,
			 &need, NULL, 0, &je) != 0 ||
	    date_field(body, "separation_date", strcmp(kind, "deactivate") == 0, 0, &sep, &je) != 0)
		goto bad;
	if (cJSON_GetObjectItem(body, "crm_work_group") &&
	    !cJSON_IsNull(cJSON_GetObjectItem(body, "crm_work_group"))) {
		if (json_get_bool(body, "crm_work_group", JSON_OPTIONAL, 0, &crm, &je) != 0)
			goto bad;
	}
	if (ctype && strcmp(ctype, "DE 7410") != 0 && strcmp(ctype, "E-1") != 0) {
		json_err_set(&je, "confidentiality_type", "use \"DE 7410\" (EDD staff) or \"E-1\"");
		goto bad;
	}
	if (group && acct_group_assigner(group) == 0) {
		json_err_set(&je, "privilege_group", "unknown privilege group '%s'", group);
		goto bad;
	}
	if (username) {
		for (const char *c = username; *c; c++)
			if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) ||
			      strchr("._-", *c))) {
				json_err_set(&je, "username",
					     "use 3 to 32 lower-case letters, digits, '.', '_' or '-'");
				goto bad;
			}
	}
	if (office) {
		if (db_text(h->hb_db, "SELECT local_area_id FROM offices WHERE id=?", office, office_la,
			    sizeof office_la) != 0) {
			json_err_set(&je, "office_id", "unknown office");
			goto bad;
		}
	}
	if (isnew) {
		if (la == NULL && office_la[0])
			la = office_la;
		if (la == NULL && div == NULL) {
			json_err_set(&je, "local_area_id", "choose a Local Area (or a field division)");
			goto bad;
		}
		if (la == NULL) {
			json_err_set(&je, "office_id",
				     "WSB staff need an office, whose Local Area holds their login");
			goto bad;
		}
		if (office_la[0] && strcmp(office_la, la) != 0) {
			json_err_set(&je, "office_id", "the office is not in that Local Area");
			goto bad;
		}
		if ((row = db_row_json_by(h->hb_db, "SELECT id FROM local_areas WHERE id=?", la)) == NULL) {
			json_err_set(&je, "local_area_id", "unknown Local Area");
			goto bad;
		}
		cJSON_Delete(row);
		row = NULL;
		if (div && (row = db_row_json_by(h->hb_db, "SELECT id FROM field_divisions WHERE id=?", div)) ==
			       NULL) {
			json_err_set(&je, "field_division", "unknown field division");
			goto bad;
		}
		cJSON_Delete(row);
		row = NULL;
		if ((row = db_row_json_by(h->hb_db, "SELECT id FROM staff WHERE username=?", username)) !=
		    NULL) {
			cJSON_Delete(row);
			row = NULL;
			http_reply_error(req, 409, "username", "the user name '%s' is taken", username);
			goto out;
		}
		if (acct_scope_check(req, &p, la, div, group) != 0)
			goto out;
	} else {
		if (target_load(h, req, &p, staff_id, &t) != 0)
			goto out;
		if (!t.active) {
			http_reply_error(req, 409, "staff_id", "the account is deactivated");
			goto out;
		}
		la = t.la[0] ? t.la : NULL;
		div = t.div[0] ? t.div : NULL;
		if (group && acct_scope_check(req, &p, la, div, group) != 0)
			goto out;
		if (office_la[0] && la && strcmp(office_la, la) != 0) {
			json_err_set(&je, "office_id", "the office is not in the account's Local Area");
			goto bad;
		}
		if (strcmp(kind, "change") == 0 && !group && !office && crm < 0 &&
		    !cJSON_GetObjectItem(body, "priv_add") && !cJSON_GetObjectItem(body, "priv_remove")) {
			json_err_set(&je, "privilege_group", "say what changes");
			goto bad;
		}
		username = t.username;
	}
	uuid7(id);
	if (db_prepare(h->hb_db, &st,
		       "INSERT INTO access_requests(id, kind, staff_id, username, display_name, email,"
		       " local_area_id, field_division, office_id, privilege_group, priv_add, priv_remove,"
		       " crm_work_group, requestor_name, requestor_email, ispa_date, conf_type, conf_date,"
		       " business_need, separation_date, created_by, created_at)"
		       " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)") != 0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	db_bind_text(st, 3, isnew ? NULL : t.id);
	db_bind_text(st, 4, username);
	db_bind_text(st, 5, dname);
	db_bind_text(st, 6, email);
	db_bind_text(st, 7, la);
	db_bind_text(st, 8, div);
	db_bind_text(st, 9, office);
	db_bind_text(st, 10, group);
	db_bind_text(st, 11, cJSON_GetObjectItem(body, "priv_add") ? padd : NULL);
	db_bind_text(st, 12, cJSON_GetObjectItem(body, "priv_remove") ? prem : NULL);
	if (crm >= 0)
		sqlite3_bind_int(st, 13, crm);
	db_bind_text(st, 14, rname);
	db_bind_text(st, 15, remail);
	db_bind_text(st, 16, ispa);
	db_bind_text(st, 17, ctype);
	db_bind_text(st, 18, cdate);
	db_bind_text(st, 19, need);
	db_bind_text(st, 20, sep);
	sqlite3_bind_text(st, 21, p.ap_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 22, (sqlite3_int64)hub_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		DBFAIL(req);
		goto out;
	}
	sqlite3_finalize(st);
	{
		char after[256];
		snprintf(after, sizeof after, "{\"kind\":\"%s\",\"username\":\"%s\"}", kind,
			 username ? username : "");
		acct_audit(h->hb_db, &p, req->peer, "request.create", "access_requests", id, la, div,
			   NULL, after);
	}
	row = request_load(h->hb_db, id);
	if (row == NULL) {
		DBFAIL(req);
		goto out;
	}
	http_reply_json(req, 201, request_out(h->hb_db, row, 1));
	row = NULL;
	goto out;
bad:
	http_reply_error(req, 400, je.field, "%s", je.msg);
out:
	cJSON_Delete(row);
	cJSON_Delete(body);
}

/* Load a request and check the caller's scope over it.  NULL after replying. */
static cJSON *request_scoped(hub *h, http_req *req, const acct_principal *p, const char *id)
{
	cJSON *rq = request_load(h->hb_db, id);

	if (rq == NULL) {
		http_reply_error(req, 404, "request_id", "no such access request");
		return NULL;
	}
	if (acct_scope_check(req, p, json_str(rq, "local_area_id"), json_str(rq, "field_division"),
			     NULL) != 0) {
		cJSON_Delete(rq);
		return NULL;
	}
	return rq;
}

static void requests_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	char status[16], kind[16], sid[64];
	const char *s = NULL, *k = NULL, *si = NULL;
	sqlite3_stmt *st = NULL;
	cJSON *r, *it, *out;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	if (http_req_query(req, "status", status, sizeof status))
		s = status;
	if (http_req_query(req, "kind", kind, sizeof kind))
		k = kind;
	if (http_req_query(req, "staff_id", sid, sizeof sid))
		si = sid;
	if (db_prepare(h->hb_db, &st,
		       "SELECT * FROM access_requests WHERE (?1 IS NULL OR status=?1) AND"
		       " (?2 IS NULL OR kind=?2) AND (?3 IS NULL OR staff_id=?3) AND"
		       " (?4 OR (?5 <> '' AND local_area_id=?5) OR (?6 <> '' AND field_division=?6))"
		       " ORDER BY created_at DESC LIMIT 1000") != 0) {
		DBFAIL(req);
		return;
	}
	db_bind_text(st, 1, s);
	db_bind_text(st, 2, k);
	db_bind_text(st, 3, si);
	sqlite3_bind_int(st, 4, (p.ap_roles & ROLE_OPERATIONS) != 0);
	sqlite3_bind_text(st, 5, (p.ap_roles & ROLE_MIS_ADMIN) ? p.ap_la : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, (p.ap_roles & ROLE_SPOC) ? p.ap_div : "", -1, SQLITE_STATIC);
	r = db_rows_json(st);
	sqlite3_finalize(st);
	if (r == NULL) {
		DBFAIL(req);
		return;
	}
	out = cJSON_CreateArray();
	while ((it = cJSON_DetachItemFromArray(r, 0)) != NULL)
		cJSON_AddItemToArray(out, request_out(h->hb_db, it, 0));
	cJSON_Delete(r);
	http_reply_json(req, 200, out);
}

static void request_get(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *rq;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	rq = request_scoped(h, req, &p, http_req_param(req, "id"));
	if (rq)
		http_reply_json(req, 200, request_out(h->hb_db, rq, 1));
}

static void request_decide(http_req *req, hub *h, int approve)
{
	static const char *const allowed[] = {"note", NULL};
	acct_principal p;
	cJSON *rq = NULL, *body = NULL, *miss = NULL;
	json_err je;
	const char *note = NULL, *id = http_req_param(req, "id");
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	body = http_req_json(req, 0);
	if (body && (json_only(body, allowed, &je) != 0 ||
		     json_get_str(body, "note", JSON_NULLABLE, 1, 1000, &note, NULL, 0, &je) != 0)) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	if ((rq = request_scoped(h, req, &p, id)) == NULL)
		goto out;
	if (strcmp(json_str(rq, "status"), "submitted") != 0) {
		http_reply_error(req, 409, "status", "the request is already %s", json_str(rq, "status"));
		goto out;
	}
	if (json_str(rq, "privilege_group") &&
	    !acct_group_assignable(&p, json_str(rq, "privilege_group"))) {
		http_reply_error(req, 403, "privilege_group", "you may not assign the group '%s'",
				 json_str(rq, "privilege_group"));
		goto out;
	}
	if (approve) {
		miss = missing_files(h->hb_db, rq);
		if (cJSON_GetArraySize(miss) > 0) {
			char *s = cJSON_PrintUnformatted(miss);
			http_reply_error(req, 409, "files",
					 "upload the signed forms first; missing: %s", s ? s : "?");
			free(s);
			goto out;
		}
		/* Separation of duties (DESIGN.md): whoever requested an account
		 * action never approves it (the review's takeover: one
		 * administrator requested, approved and carried out a reset).
		 * No one is exempt: operations needs another administrator or
		 * the admin token, the admin token someone signed in. */
		if (json_str(rq, "created_by") && strcmp(json_str(rq, "created_by"), p.ap_id) == 0) {
			http_reply_error(req, 403, "request_id",
					 "whoever requests an account action cannot approve it: another "
					 "administrator must");
			goto out;
		}
	}
	if (db_prepare(h->hb_db, &st,
		       "UPDATE access_requests SET status=?, decided_by=?, decided_at=?, decision_note=?"
		       " WHERE id=? AND status='submitted'") == 0) {
		sqlite3_bind_text(st, 1, approve ? "approved" : "rejected", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p.ap_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)hub_now_ms());
		db_bind_text(st, 4, note);
		sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(h->hb_db) == 1;
		sqlite3_finalize(st);
	}
	if (!ok) {
		DBFAIL(req);
		goto out;
	}
	acct_audit(h->hb_db, &p, req->peer, approve ? "request.approve" : "request.reject",
		   "access_requests", id, json_str(rq, "local_area_id"),
		   json_str(rq, "field_division"), "{\"status\":\"submitted\"}",
		   approve ? "{\"status\":\"approved\"}" : "{\"status\":\"rejected\"}");
	cJSON_Delete(rq);
	rq = request_load(h->hb_db, id);
	http_reply_json(req, 200, request_out(h->hb_db, rq, 1));
	rq = NULL;
out:
	cJSON_Delete(miss);
	cJSON_Delete(rq);
	cJSON_Delete(body);
}

static void request_approve(http_req *req, void *ctx) { request_decide(req, ctx, 1); }
static void request_reject(http_req *req, void *ctx) { request_decide(req, ctx, 0); }

/* ---- uploaded forms --------------------------------------------------------------------- */

static int files_dir(hub *h, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/files", h->hb_data) >= n)
		return -1;
	if (mkdir(out, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void file_upload(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *rq = NULL, *o;
	char kind[40], raw_name[400], fname[UPLOAD_NAME_MAX + 1], ct[96], dir[PATH_MAX],
		path[PATH_MAX + 64], id[UUID_STRLEN];
	char hex[65];
	upload_type type = UPLOAD_UNKNOWN;
	unsigned char dg[32];
	const char *cth = http_req_header(req, "content-type");
	const char *rid = http_req_param(req, "id");
	sqlite3_stmt *st = NULL;
	int fd = -1, ok = 0, rc;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	if ((rq = request_scoped(h, req, &p, rid)) == NULL)
		return;
	if (http_req_query(req, "kind", kind, sizeof kind) == NULL || !in_list(kind, file_kinds)) {
		http_reply_error(req, 400, "kind",
				 "kind must be request_form, ispa_certificate, "
				 "confidentiality_statement or separation_form");
		goto out;
	}
	if (http_req_query(req, "filename", raw_name, sizeof raw_name) == NULL ||
	    raw_name[0] == '\0') {
		http_reply_error(req, 400, "filename", "name the file (?filename=...)");
		goto out;
	}
	/* The type check is lib/upload.h's, shared with the office node's
	 * attachments: the declared type, then the bytes themselves. */
	rc = upload_check(cth, req->body.data, req->body.len, ACCT_FILE_TYPES, &type);
	if (rc == UPLOAD_E_TYPE) {
		http_reply_error(req, 415, "content_type", "upload a PDF, PNG or JPEG file");
		goto out;
	}
	if (req->body.len == 0 || req->body.len > ACCT_FILE_MAX) {
		http_reply_error(req, 413, "file", "a file must be 1 byte to 2 MiB");
		goto out;
	}
	if (rc != 0) {
		http_reply_error(req, 400, "file", "the file's content is not a %s",
				 upload_mime(upload_type_of_mime(cth)));
		goto out;
	}
	snprintf(ct, sizeof ct, "%s", upload_mime(type));
	if (upload_filename(raw_name, type, fname, sizeof fname) != 0) {
		http_reply_error(req, 400, "filename", "the file name has no usable characters");
		goto out;
	}
	if (strcmp(json_str(rq, "status"), "rejected") == 0) {
		http_reply_error(req, 409, "status", "the request was rejected");
		goto out;
	}
	{
		sqlite3_stmt *c = NULL;
		int n = 0;
		if (db_prepare(h->hb_db, &c, "SELECT count(*) FROM request_files WHERE request_id=?") == 0) {
			sqlite3_bind_text(c, 1, rid, -1, SQLITE_STATIC);
			if (sqlite3_step(c) == SQLITE_ROW)
				n = sqlite3_column_int(c, 0);
			sqlite3_finalize(c);
		}
		if (n >= ACCT_FILES_PER_REQUEST) {
			http_reply_error(req, 409, "file", "at most %d files per request",
					 ACCT_FILES_PER_REQUEST);
			goto out;
		}
	}
	uuid7(id);
	if (files_dir(h, dir, sizeof dir) != 0) {
		http_reply_error(req, 500, NULL, "cannot store files");
		goto out;
	}
	snprintf(path, sizeof path, "%s/%s", dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, req->body.data, req->body.len) != (ssize_t)req->body.len ||
	    fsync(fd) != 0) {
		log_warn("cannot store an uploaded file");
		http_reply_error(req, 500, NULL, "cannot store the file");
		if (fd >= 0)
			unlink(path);
		goto out;
	}
	crypto_sha256(req->body.data, req->body.len, dg);
	crypto_hex(dg, sizeof dg, hex);
	if (db_prepare(h->hb_db, &st,
		       "INSERT INTO request_files(id, request_id, staff_id, kind, filename, content_type,"
		       " size, sha256, uploaded_by, uploaded_at) VALUES(?,?,?,?,?,?,?,?,?,?)") == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
		db_bind_text(st, 3, json_str(rq, "staff_id"));
		sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, fname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, ct, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)req->body.len);
		sqlite3_bind_text(st, 8, hex, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 9, p.ap_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 10, (sqlite3_int64)hub_now_ms());
		ok = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_finalize(st);
	}
	if (!ok) {
		unlink(path);
		DBFAIL(req);
		goto out;
	}
	{
		char after[256];
		snprintf(after, sizeof after, "{\"kind\":\"%s\",\"size\":%zu,\"sha256\":\"%s\"}", kind,
			 req->body.len, hex);
		acct_audit(h->hb_db, &p, req->peer, "file.upload", "request_files", id,
			   json_str(rq, "local_area_id"), json_str(rq, "field_division"), NULL, after);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "request_id", rid);
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "filename", fname);
	cJSON_AddStringToObject(o, "content_type", ct);
	cJSON_AddNumberToObject(o, "size", (double)req->body.len);
	cJSON_AddStringToObject(o, "sha256", hex);
	http_reply_json(req, 201, o);
out:
	if (fd >= 0)
		close(fd);
	cJSON_Delete(rq);
}

static void file_get(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *f = NULL, *rq = NULL;
	char dir[PATH_MAX], path[PATH_MAX + 64], disp[640];
	buf b = BUF_INIT(ACCT_FILE_MAX + 1);
	FILE *fp = NULL;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	f = db_row_json_by(h->hb_db, "SELECT * FROM request_files WHERE id=?", http_req_param(req, "id"));
	if (f == NULL) {
		http_reply_error(req, 404, NULL, "no such file");
		return;
	}
	if ((rq = request_scoped(h, req, &p, json_str(f, "request_id"))) == NULL)
		goto out;
	if (files_dir(h, dir, sizeof dir) != 0 || !id_ok(json_str(f, "id")))
		goto fail;
	snprintf(path, sizeof path, "%s/%s", dir, json_str(f, "id"));
	fp = fopen(path, "rb");
	if (fp == NULL)
		goto fail;
	{
		char chunk[65536];
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
			if (buf_append(&b, chunk, n) != 0)
				goto fail;
	}
	if (upload_disposition(json_str(f, "filename"), disp, sizeof disp) != 0)
		snprintf(disp, sizeof disp, "attachment");
	http_add_header(req, "Content-Disposition", disp);
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	http_reply(req, 200, json_str(f, "content_type"), b.data, b.len);
	goto out;
fail:
	http_reply_error(req, 500, NULL, "cannot read the file");
out:
	if (fp)
		fclose(fp);
	buf_release(&b);
	cJSON_Delete(f);
	cJSON_Delete(rq);
}

/* ---- the account lifecycle ------------------------------------------------------------- */

/* The approved, unfulfilled request of `kind` for staff_id (NULL for new).
 * NULL after replying. */
static cJSON *request_for(hub *h, http_req *req, const acct_principal *p, const cJSON *body,
			  const char *kind, const char *staff_id)
{
	const char *rid = json_str(body, "request_id");
	cJSON *rq;

	if (rid == NULL) {
		http_reply_error(req, 400, "request_id", "an approved access request is required");
		return NULL;
	}
	if ((rq = request_scoped(h, req, p, rid)) == NULL)
		return NULL;
	if (strcmp(json_str(rq, "kind"), kind) != 0) {
		http_reply_error(req, 409, "request_id", "the request is for '%s', not '%s'",
				 json_str(rq, "kind"), kind);
	} else if (strcmp(json_str(rq, "status"), "approved") != 0) {
		http_reply_error(req, 409, "request_id", "the request is %s, not approved",
				 json_str(rq, "status"));
	} else if (staff_id && (json_str(rq, "staff_id") == NULL ||
				strcmp(json_str(rq, "staff_id"), staff_id) != 0)) {
		http_reply_error(req, 409, "request_id", "the request is for another staff member");
	} else {
		return rq;
	}
	cJSON_Delete(rq);
	return NULL;
}

static int fulfil(sqlite3 *db, const char *rid, const char *staff_id)
{
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (db_prepare(db, &st,
		       "UPDATE access_requests SET status='fulfilled', fulfilled_at=?, staff_id=?"
		       " WHERE id=? AND status='approved'") != 0)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)hub_now_ms());
	sqlite3_bind_text(st, 2, staff_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rid, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
	sqlite3_finalize(st);
	if (!ok)
		return -1;
	if (db_prepare(db, &st, "UPDATE request_files SET staff_id=? WHERE request_id=?") != 0)
		return -1;
	sqlite3_bind_text(st, 1, staff_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

/* Compact JSON text of the staff member (audit before/after; no secrets). */
static char *staff_text(sqlite3 *db, const char *id)
{
	cJSON *j = acct_staff_json(db, id);
	char *s;

	if (j == NULL)
		return NULL;
	cJSON_DeleteItemFromObject(j, "last_login_at");
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

typedef struct issue_ctx {
	acct_principal p;
	char rid[64];
	char staff_id[64];
	char pw[16];
	int create;
} issue_ctx;

static void issue_free(issue_ctx *c)
{
	crypto_wipe(c, sizeof *c);
	free(c);
}

static int exec1(sqlite3 *db, const char *sql, const char *a1, const char *a2, int64_t i3)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (db_prepare(db, &st, sql) != 0)
		return -1;
	db_bind_text(st, 1, a1);
	db_bind_text(st, 2, a2);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, i3);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

/* After the temporary password's hash: write everything in one transaction. */
static void issue_hashed(hub *h, http_req *req, void *arg, int result, const char *stored,
			 const char *verifier)
{
	issue_ctx *c = arg;
	sqlite3 *db = h->hb_db;
	cJSON *rq = NULL, *o;
	sqlite3_stmt *st = NULL;
	char ts[HLC_STRLEN], *before = NULL, *after = NULL;
	int64_t now = (int64_t)hub_now_ms();
	int ok = 0, conflict = 0;

	if (result != 0 || stored == NULL) {
		http_reply_error(req, 500, NULL, "the temporary password could not be stored");
		goto out;
	}
	rq = request_load(db, c->rid);
	if (rq == NULL || db_exec(db, "BEGIN IMMEDIATE") != 0) {
		DBFAIL(req);
		goto out;
	}
	hlc_now(&h->hb_hlc, ts);
	if (c->create) {
		if (db_prepare(db, &st,
			       "INSERT INTO staff(id, username, display_name, email, local_area_id,"
			       " field_division, office_id, privilege_group, priv_add, priv_remove, roles,"
			       " crm_work_group, active, updated_hlc)"
			       " SELECT ?1, username, display_name, email, local_area_id, field_division,"
			       " office_id, privilege_group, priv_add, priv_remove, NULL,"
			       " coalesce(crm_work_group, 0), 1, ?2 FROM access_requests WHERE id=?3"
			       " AND NOT EXISTS (SELECT 1 FROM staff s WHERE s.username=access_requests.username)") != 0)
			goto rollback;
		sqlite3_bind_text(st, 1, c->staff_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->rid, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
		sqlite3_finalize(st);
		st = NULL;
		if (!ok) {
			conflict = 1;
			goto rollback;
		}
		ok = 0;
		if (db_prepare(db, &st,
			       "INSERT INTO staff_records(id, created_at, created_by, ispa_date, conf_type,"
			       " conf_date, certified_at) SELECT ?1, ?2, ?3, ispa_date, conf_type, conf_date,"
			       " ?2 FROM access_requests WHERE id=?4") != 0)
			goto rollback;
		sqlite3_bind_text(st, 1, c->staff_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_text(st, 3, c->p.ap_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, c->rid, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
		sqlite3_finalize(st);
		st = NULL;
	} else {
		before = staff_text(db, c->staff_id);
	}
	if (db_prepare(db, &st,
		       "INSERT INTO staff_credentials(id, local_area_id, password_hash, password_temp,"
		       " password_expires_at, password_changed_at, updated_hlc)"
		       " SELECT ?1, local_area_id, ?2, 1, ?3, ?4, ?5 FROM staff WHERE id=?1"
		       " ON CONFLICT(id) DO UPDATE SET password_hash=?2, password_temp=1,"
		       " password_expires_at=?3, password_changed_at=?4, updated_hlc=?5") != 0)
		goto rollback;
	sqlite3_bind_text(st, 1, c->staff_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stored, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now + PASSWORD_TEMP_TTL_MS);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
	sqlite3_finalize(st);
	st = NULL;
	if (!ok || acct_verifier_set(db, c->staff_id, verifier) != 0)
		goto rollback;
	ok = 0;
	if (fulfil(db, c->rid, c->staff_id) != 0) {
		conflict = 1;
		goto rollback;
	}
	after = staff_text(db, c->staff_id);
	if (acct_audit(db, &c->p, req->peer, c->create ? "staff.create" : "staff.reset", "staff",
		       c->staff_id, json_str(rq, "local_area_id"), json_str(rq, "field_division"),
		       before, after) != 0)
		goto rollback;
	if (db_exec(db, "COMMIT") != 0)
		goto rollback;
	ok = 1;
	if (!c->create)
		acct_sessions_end(db, c->staff_id);
	log_info("%s: staff %s by %s", c->create ? "account created" : "password reset",
		 c->staff_id, c->p.ap_username);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "staff", acct_staff_json(db, c->staff_id));
	cJSON_AddStringToObject(o, "temporary_password", c->pw);
	cJSON_AddNumberToObject(o, "temporary_password_expires_at",
				(double)(now + PASSWORD_TEMP_TTL_MS));
	http_add_header(req, "Cache-Control", "no-store");
	http_reply_json(req, c->create ? 201 : 200, o);
	goto out;
rollback:
	sqlite3_finalize(st);
	db_exec(db, "ROLLBACK");
	if (conflict)
		http_reply_error(req, 409, "request_id",
				 "the request was used meanwhile or the user name is taken");
	else if (!ok)
		DBFAIL(req);
out:
	free(before);
	free(after);
	cJSON_Delete(rq);
	issue_free(c);
}

static void issue_start(hub *h, http_req *req, const acct_principal *p, const char *rid,
			const char *staff_id, int create)
{
	issue_ctx *c = calloc(1, sizeof *c);

	if (c == NULL) {
		http_reply_error(req, 500, NULL, "out of memory");
		return;
	}
	c->p = *p;
	c->create = create;
	snprintf(c->rid, sizeof c->rid, "%s", rid);
	snprintf(c->staff_id, sizeof c->staff_id, "%s", staff_id);
	if (password_temp_new(c->pw, sizeof c->pw) != 0 ||
	    acct_pw_job(h, req, c->pw, NULL, issue_hashed, c) != 0) {
		http_reply_error(req, 503, NULL, "the hub is busy; try again");
		issue_free(c);
	}
}

static void staff_create(http_req *req, void *ctx)
{
	static const char *const allowed[] = {"request_id", NULL};
	hub *h = ctx;
	acct_principal p;
	cJSON *body, *rq = NULL, *dup = NULL;
	json_err je;
	char id[UUID_STRLEN];

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	if ((rq = request_for(h, req, &p, body, "new", NULL)) == NULL)
		goto out;
	if (acct_scope_check(req, &p, json_str(rq, "local_area_id"), json_str(rq, "field_division"),
			     json_str(rq, "privilege_group")) != 0)
		goto out;
	if ((dup = db_row_json_by(h->hb_db, "SELECT id FROM staff WHERE username=?",
			    json_str(rq, "username"))) != NULL) {
		http_reply_error(req, 409, "username", "the user name is taken");
		goto out;
	}
	uuid7(id);
	issue_start(h, req, &p, json_str(rq, "id"), id, 1);
out:
	cJSON_Delete(dup);
	cJSON_Delete(rq);
	cJSON_Delete(body);
}

static void staff_reset(http_req *req, void *ctx)
{
	static const char *const allowed[] = {"request_id", NULL};
	hub *h = ctx;
	acct_principal p;
	cJSON *body, *rq = NULL;
	json_err je;
	tgt t;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	if (target_load(h, req, &p, http_req_param(req, "id"), &t) != 0)
		goto out;
	if (!t.active) {
		http_reply_error(req, 409, "staff_id", "the account is deactivated");
		goto out;
	}
	if ((rq = request_for(h, req, &p, body, "reset", t.id)) == NULL)
		goto out;
	issue_start(h, req, &p, json_str(rq, "id"), t.id, 0);
out:
	cJSON_Delete(rq);
	cJSON_Delete(body);
}

/* change / recertify / deactivate: no password involved, done at once. */
static void staff_action(http_req *req, hub *h, const char *kind)
{
	static const char *const allowed[] = {"request_id", NULL};
	acct_principal p;
	cJSON *body, *rq = NULL, *o;
	json_err je;
	tgt t;
	sqlite3 *db = h->hb_db;
	char ts[HLC_STRLEN], action[40], *before = NULL, *after = NULL;
	const char *rid;
	int64_t now = (int64_t)hub_now_ms();
	int fail = 500;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	if (target_load(h, req, &p, http_req_param(req, "id"), &t) != 0)
		goto out;
	if (!t.active) {
		http_reply_error(req, 409, "staff_id", "the account is deactivated");
		goto out;
	}
	if ((rq = request_for(h, req, &p, body, kind, t.id)) == NULL)
		goto out;
	rid = json_str(rq, "id");
	if (strcmp(kind, "change") == 0) {
		const char *g = json_str(rq, "privilege_group") ? json_str(rq, "privilege_group")
								 : t.group;
		const char *add = json_str(rq, "priv_add"), *rem = json_str(rq, "priv_remove");
		sqlite3_stmt *st = NULL;
		char cur_add[256] = "", cur_rem[256] = "";
		if (json_str(rq, "privilege_group") &&
		    acct_scope_check(req, &p, t.la[0] ? t.la : NULL, t.div[0] ? t.div : NULL, g) != 0)
			goto out;
		db_text(db, "SELECT coalesce(priv_add,'') FROM staff WHERE id=?", t.id, cur_add,
			sizeof cur_add);
		db_text(db, "SELECT coalesce(priv_remove,'') FROM staff WHERE id=?", t.id, cur_rem,
			sizeof cur_rem);
		if (acct_roles_parse(t.roles) &&
		    (priv_effective(g, add ? add : cur_add, rem ? rem : cur_rem) | PRIV_STAFF_ADMIN | PRIV_VETTING) ==
			PRIV_ALL) {
			http_reply_error(req, 400, "privilege_group",
					 "an administrator never holds every privilege");
			goto out;
		}
		before = staff_text(db, t.id);
		if (db_exec(db, "BEGIN IMMEDIATE") != 0)
			goto fail;
		hlc_now(&h->hb_hlc, ts);
		if (db_prepare(db, &st,
			       "UPDATE staff SET privilege_group=coalesce(r.privilege_group, staff.privilege_group),"
			       " priv_add=CASE WHEN r.priv_add IS NULL THEN staff.priv_add ELSE nullif(r.priv_add,'') END,"
			       " priv_remove=CASE WHEN r.priv_remove IS NULL THEN staff.priv_remove ELSE nullif(r.priv_remove,'') END,"
			       " office_id=coalesce(r.office_id, staff.office_id),"
			       " crm_work_group=coalesce(r.crm_work_group, staff.crm_work_group), updated_hlc=?1"
			       " FROM (SELECT * FROM access_requests WHERE id=?2) AS r WHERE staff.id=?3") != 0)
			goto rollback;
		sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, t.id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1) {
			sqlite3_finalize(st);
			goto rollback;
		}
		sqlite3_finalize(st);
	} else if (strcmp(kind, "recertify") == 0) {
		before = staff_text(db, t.id);
		if (db_exec(db, "BEGIN IMMEDIATE") != 0)
			goto fail;
		if (exec1(db, "INSERT OR IGNORE INTO staff_records(id) VALUES(?1)", t.id, NULL, 0) != 0 ||
		    exec1(db,
			  "UPDATE staff_records SET (ispa_date, conf_type, conf_date, certified_at) ="
			  " (SELECT ispa_date, conf_type, conf_date, ?3 FROM access_requests WHERE id=?2)"
			  " WHERE id=?1",
			  t.id, rid, now) != 0)
			goto rollback;
	} else { /* deactivate */
		sqlite3_stmt *st = NULL;
		int have = 0;
		if (db_prepare(db, &st,
			       "SELECT 1 FROM request_files WHERE request_id=? AND kind='request_form'") == 0) {
			sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
			have = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_finalize(st);
			st = NULL;
		}
		if (!have || json_str(rq, "separation_date") == NULL) {
			http_reply_error(req, 409, "files",
					 "upload the request form with the separation date first");
			goto out;
		}
		before = staff_text(db, t.id);
		if (db_exec(db, "BEGIN IMMEDIATE") != 0)
			goto fail;
		hlc_now(&h->hb_hlc, ts);
		if (exec1(db, "UPDATE staff SET active=0, deactivated_at=?3, updated_hlc=?2 WHERE id=?1",
			  t.id, ts, now) != 0 ||
		    exec1(db,
			  "UPDATE staff_credentials SET password_hash=NULL, password_temp=0,"
			  " password_expires_at=NULL, updated_hlc=?2 WHERE id=?1",
			  t.id, ts, 0) != 0 ||
		    exec1(db, "INSERT OR IGNORE INTO staff_records(id) VALUES(?1)", t.id, NULL, 0) != 0 ||
		    exec1(db,
			  "UPDATE staff_records SET separation_date=(SELECT separation_date FROM"
			  " access_requests WHERE id=?2), deactivated_by=?3 WHERE id=?1",
			  t.id, rid, 0) != 0)
			goto rollback;
		{
			sqlite3_stmt *u = NULL;
			if (db_prepare(db, &u, "UPDATE staff_records SET deactivated_by=? WHERE id=?") != 0)
				goto rollback;
			sqlite3_bind_text(u, 1, p.ap_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(u, 2, t.id, -1, SQLITE_STATIC);
			sqlite3_step(u);
			sqlite3_finalize(u);
		}
	}
	if (fulfil(db, rid, t.id) != 0) {
		fail = 409;
		goto rollback;
	}
	after = staff_text(db, t.id);
	snprintf(action, sizeof action, "staff.%s", kind);
	if (acct_audit(db, &p, req->peer, action, "staff", t.id, t.la, t.div, before, after) != 0 ||
	    db_exec(db, "COMMIT") != 0)
		goto rollback;
	if (strcmp(kind, "deactivate") == 0) {
		acct_sessions_end(db, t.id);
		log_info("account %s deactivated by %s", t.id, p.ap_username);
	}
	o = acct_staff_json(db, t.id);
	http_reply_json(req, 200, o);
	goto out;
rollback:
	db_exec(db, "ROLLBACK");
fail:
	if (fail == 409)
		http_reply_error(req, 409, "request_id", "the request was used meanwhile");
	else
		DBFAIL(req);
out:
	free(before);
	free(after);
	cJSON_Delete(rq);
	cJSON_Delete(body);
}

static void staff_change(http_req *req, void *ctx) { staff_action(req, ctx, "change"); }
static void staff_recertify(http_req *req, void *ctx) { staff_action(req, ctx, "recertify"); }
static void staff_deactivate(http_req *req, void *ctx) { staff_action(req, ctx, "deactivate"); }

/* How many other active staff in scope (scope_col = scope; a fixed column
 * name) hold role; a large number when the count cannot be read, so a cap
 * check fails closed. */
static int role_holders(sqlite3 *db, const char *scope_col, const char *scope,
			const char *except_id, const char *role)
{
	sqlite3_stmt *st = NULL;
	int n = 99;

	if (db_preparef(db, &st,
			"SELECT count(*) FROM staff WHERE \"%w\"=? AND active=1 AND id<>? AND"
			" (','||coalesce(roles,'')||',') LIKE '%%,%q,%%'",
			scope_col, role) != 0)
		return n;
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, except_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void staff_roles(http_req *req, void *ctx)
{
	static const char *const allowed[] = {"roles", NULL};
	hub *h = ctx;
	acct_principal p;
	cJSON *body;
	const cJSON *arr, *it;
	json_err je;
	tgt t;
	unsigned roles = 0;
	char list[64] = "", ts[HLC_STRLEN], *before = NULL, *after = NULL;
	sqlite3 *db = h->hb_db;

	if (acct_auth(h, req, &p, 1, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0 ||
	    json_get_str_array(body, "roles", JSON_REQUIRED, 0, 2, 16, &arr, &je) != 0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	cJSON_ArrayForEach(it, arr)
	{
		if (strcmp(it->valuestring, "mis_admin") == 0)
			roles |= ROLE_MIS_ADMIN;
		else if (strcmp(it->valuestring, "spoc") == 0)
			roles |= ROLE_SPOC;
		else {
			http_reply_error(req, 400, "roles", "roles are mis_admin and spoc");
			goto out;
		}
	}
	if (target_load(h, req, &p, http_req_param(req, "id"), &t) != 0)
		goto out;
	if (acct_roles_parse(t.roles) & ROLE_OPERATIONS) {
		http_reply_error(req, 403, "roles", "the operations account keeps its role");
		goto out;
	}
	if (!t.active) {
		http_reply_error(req, 409, "staff_id", "the account is deactivated");
		goto out;
	}
	if ((roles & ROLE_MIS_ADMIN) && t.la[0] == '\0') {
		http_reply_error(req, 400, "roles", "an MIS Administrator belongs to a Local Area");
		goto out;
	}
	if ((roles & ROLE_SPOC) && t.div[0] == '\0') {
		http_reply_error(req, 400, "roles", "a WSB CalJOBS SPOC belongs to a field division");
		goto out;
	}
	if (roles) {
		char add[256] = "", rem[256] = "";
		db_text(db, "SELECT coalesce(priv_add,'') FROM staff WHERE id=?", t.id, add, sizeof add);
		db_text(db, "SELECT coalesce(priv_remove,'') FROM staff WHERE id=?", t.id, rem,
			sizeof rem);
		if ((priv_effective(t.group, add, rem) | PRIV_STAFF_ADMIN | PRIV_VETTING) == PRIV_ALL) {
			http_reply_error(req, 400, "roles",
					 "an administrator never holds every privilege: use an "
					 "administrative account in a narrower group");
			goto out;
		}
	}
	if (db_exec(db, "BEGIN IMMEDIATE") != 0) {
		DBFAIL(req);
		goto out;
	}
	if (roles & ROLE_MIS_ADMIN) {
		int n = role_holders(db, "local_area_id", t.la, t.id, "mis_admin");
		if (n >= ACCT_MAX_MIS_ADMINS) {
			db_exec(db, "ROLLBACK");
			http_reply_error(req, 409, "roles",
					 "the Local Area already has %d MIS Administrators (at most %d)",
					 n, ACCT_MAX_MIS_ADMINS);
			goto out;
		}
	}
	if (roles & ROLE_SPOC) {
		int n = role_holders(db, "field_division", t.div, t.id, "spoc");
		if (n >= ACCT_MAX_SPOCS) {
			db_exec(db, "ROLLBACK");
			http_reply_error(req, 409, "roles",
					 "the field division already has %d WSB CalJOBS SPOCs (at most %d)",
					 n, ACCT_MAX_SPOCS);
			goto out;
		}
	}
	snprintf(list, sizeof list, "%s%s%s", (roles & ROLE_MIS_ADMIN) ? "mis_admin" : "",
		 (roles & ROLE_MIS_ADMIN) && (roles & ROLE_SPOC) ? "," : "",
		 (roles & ROLE_SPOC) ? "spoc" : "");
	before = staff_text(db, t.id);
	hlc_now(&h->hb_hlc, ts);
	if (exec1(db, "UPDATE staff SET roles=nullif(?2,'') WHERE id=?1", t.id, list, 0) != 0 ||
	    exec1(db, "UPDATE staff SET updated_hlc=?2 WHERE id=?1", t.id, ts, 0) != 0)
		goto rollback;
	/* The trust boundary: an account with a role is administrative and
	 * hub-only for good (its credentials leave every node; a field account
	 * for office work is a separate account). */
	if (roles && acct_make_hub_only(db, &h->hb_hlc, t.id, NULL) != 0)
		goto rollback;
	after = staff_text(db, t.id);
	if (acct_audit(db, &p, req->peer, "staff.roles", "staff", t.id, t.la, t.div, before, after) !=
	    0 ||
	    db_exec(db, "COMMIT") != 0)
		goto rollback;
	acct_sessions_end(db, t.id);
	http_reply_json(req, 200, acct_staff_json(db, t.id));
	goto out;
rollback:
	db_exec(db, "ROLLBACK");
	DBFAIL(req);
out:
	free(before);
	free(after);
	cJSON_Delete(body);
}

static void staff_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	char la[64], q[80], act[4], pat[100];
	const char *l = NULL, *qq = NULL;
	int active = -1;
	sqlite3_stmt *st = NULL;
	cJSON *ids, *it, *out;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	if (http_req_query(req, "local_area_id", la, sizeof la))
		l = la;
	if (http_req_query(req, "q", q, sizeof q) && q[0]) {
		snprintf(pat, sizeof pat, "%%%s%%", q);
		qq = pat;
	}
	if (http_req_query(req, "active", act, sizeof act))
		active = atoi(act) ? 1 : 0;
	if (db_prepare(h->hb_db, &st,
		       "SELECT id FROM staff WHERE (?1 IS NULL OR local_area_id=?1) AND"
		       " (?2 IS NULL OR username LIKE ?2 OR display_name LIKE ?2) AND"
		       " (?3 < 0 OR active=?3) AND"
		       " (?4 OR (?5 <> '' AND local_area_id=?5) OR (?6 <> '' AND field_division=?6))"
		       " ORDER BY display_name LIMIT 1000") != 0) {
		DBFAIL(req);
		return;
	}
	db_bind_text(st, 1, l);
	db_bind_text(st, 2, qq);
	sqlite3_bind_int(st, 3, active);
	sqlite3_bind_int(st, 4, (p.ap_roles & ROLE_OPERATIONS) != 0);
	sqlite3_bind_text(st, 5, (p.ap_roles & ROLE_MIS_ADMIN) ? p.ap_la : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, (p.ap_roles & ROLE_SPOC) ? p.ap_div : "", -1, SQLITE_STATIC);
	ids = db_rows_json(st);
	sqlite3_finalize(st);
	if (ids == NULL) {
		DBFAIL(req);
		return;
	}
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(it, ids)
	{
		cJSON *s = acct_staff_json(h->hb_db, json_str(it, "id"));
		if (s)
			cJSON_AddItemToArray(out, s);
	}
	cJSON_Delete(ids);
	http_reply_json(req, 200, out);
}

static void staff_get(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *s;
	const char *id = http_req_param(req, "id");

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	s = acct_staff_json(h->hb_db, id);
	if (s == NULL) {
		http_reply_error(req, 404, "staff_id", "no such staff member");
		return;
	}
	if (acct_scope_check(req, &p, json_str(s, "local_area_id"), json_str(s, "field_division"),
			     NULL) != 0) {
		cJSON_Delete(s);
		return;
	}
	cJSON_AddItemToObject(
	    s, "files",
	    db_rows_json_by(h->hb_db,
		       "SELECT f.id, f.request_id, f.kind, f.filename, f.content_type, f.size,"
		       " f.uploaded_at FROM request_files f WHERE f.staff_id=?1 OR f.request_id IN"
		       " (SELECT id FROM access_requests WHERE staff_id=?1) ORDER BY f.uploaded_at",
		       id));
	cJSON_AddItemToObject(
	    s, "requests",
	    db_rows_json_by(h->hb_db,
		       "SELECT id, kind, status, requestor_name, created_at, decided_at, fulfilled_at,"
		       " separation_date FROM access_requests WHERE staff_id=? ORDER BY created_at",
		       id));
	http_reply_json(req, 200, s);
}

/* ---- recertification ----------------------------------------------------------------- */

static void recert_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	char asof[16], wd[16], limit[11];
	int within = 30;
	sqlite3_stmt *st = NULL;
	cJSON *o, *due, *over, *nodoc;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	if (http_req_query(req, "as_of", asof, sizeof asof) == NULL)
		today(asof);
	if (json_valid_date(asof) != 0) {
		http_reply_error(req, 400, "as_of", "use a date YYYY-MM-DD");
		return;
	}
	if (http_req_query(req, "within_days", wd, sizeof wd)) {
		within = atoi(wd);
		if (within < 0 || within > 366) {
			http_reply_error(req, 400, "within_days", "0 to 366 days");
			return;
		}
	}
	if (clock_date_add(asof, within, limit) != 0) {
		http_reply_error(req, 400, "as_of", "use a date YYYY-MM-DD");
		return;
	}
	if (db_prepare(h->hb_db, &st,
		       "SELECT s.id, CASE WHEN r.ispa_date IS NULL OR r.conf_date IS NULL THEN NULL"
		       " ELSE date(min(r.ispa_date, r.conf_date), '+1 year') END AS due_on"
		       " FROM staff s LEFT JOIN staff_records r ON r.id=s.id"
		       " WHERE s.active=1 AND (','||coalesce(s.roles,'')||',') NOT LIKE '%,operations,%' AND"
		       " (?1 OR (?2 <> '' AND s.local_area_id=?2) OR (?3 <> '' AND s.field_division=?3))"
		       " ORDER BY due_on") != 0) {
		DBFAIL(req);
		return;
	}
	sqlite3_bind_int(st, 1, (p.ap_roles & ROLE_OPERATIONS) != 0);
	sqlite3_bind_text(st, 2, (p.ap_roles & ROLE_MIS_ADMIN) ? p.ap_la : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, (p.ap_roles & ROLE_SPOC) ? p.ap_div : "", -1, SQLITE_STATIC);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "as_of", asof);
	cJSON_AddNumberToObject(o, "within_days", within);
	due = cJSON_AddArrayToObject(o, "due");
	over = cJSON_AddArrayToObject(o, "overdue");
	nodoc = cJSON_AddArrayToObject(o, "no_documents");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *d = (const char *)sqlite3_column_text(st, 1);
		cJSON *s;
		if (d != NULL && strcmp(d, limit) > 0)
			continue;
		s = acct_staff_json(h->hb_db, id);
		if (s == NULL)
			continue;
		if (d == NULL) { /* no dates at all: overdue too (issue 16) */
			cJSON_AddItemToArray(over, cJSON_Duplicate(s, 1));
			cJSON_AddItemToArray(nodoc, s);
		} else if (strcmp(d, asof) < 0)
			cJSON_AddItemToArray(over, s);
		else
			cJSON_AddItemToArray(due, s);
	}
	sqlite3_finalize(st);
	http_reply_json(req, 200, o);
}

/* ---- quarterly review ------------------------------------------------------------------ */

/* The hub's own findings on one account, into the review item. */
static int review_facts(sqlite3 *db, const char *item_id, const char *staff_id, const char *asof)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (db_prepare(db, &st,
		       "UPDATE review_items SET"
		       " docs_complete = (EXISTS (SELECT 1 FROM request_files f WHERE f.staff_id=?2 AND"
		       "   f.kind='request_form') AND (coalesce((SELECT conf_type FROM staff_records"
		       "   WHERE id=?2),'') <> 'E-1' OR (EXISTS (SELECT 1 FROM request_files f WHERE"
		       "   f.staff_id=?2 AND f.kind='ispa_certificate') AND EXISTS (SELECT 1 FROM"
		       "   request_files f WHERE f.staff_id=?2 AND f.kind='confidentiality_statement')))),"
		       " docs_current = coalesce((SELECT date(min(ispa_date, conf_date), '+1 year') >= ?3"
		       "   FROM staff_records WHERE id=?2 AND ispa_date IS NOT NULL AND conf_date IS NOT"
		       "   NULL), 0),"
		       " deactivation_timely = (SELECT CASE WHEN s.active=1 THEN NULL"
		       "   WHEN r.separation_date IS NULL THEN 0"
		       "   ELSE date(s.deactivated_at/1000, 'unixepoch', 'localtime') <= r.separation_date END"
		       "   FROM staff s LEFT JOIN staff_records r ON r.id=s.id WHERE s.id=?2)"
		       " WHERE id=?1") != 0)
		return -1;
	sqlite3_bind_text(st, 1, item_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, staff_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, asof, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

static cJSON *review_out(sqlite3 *db, const char *id)
{
	cJSON *r = db_row_json_by(db, "SELECT * FROM reviews WHERE id=?", id), *items, *it;
	const char *sum;

	if (r == NULL)
		return NULL;
	sum = json_str(r, "summary");
	if (sum)
		cJSON_ReplaceItemInObject(r, "summary", cJSON_Parse(sum));
	items = db_rows_json_by(db,
			   "SELECT i.*, s.username, s.display_name, s.local_area_id, s.field_division,"
			   " s.active FROM review_items i LEFT JOIN staff s ON s.id=i.staff_id"
			   " WHERE i.review_id=? ORDER BY s.display_name",
			   id);
	cJSON_ArrayForEach(it, items)
	{
		const char *k[] = {"docs_complete", "docs_current", "deactivation_timely", "active"};
		for (int i = 0; i < 4; i++) {
			cJSON *v = cJSON_GetObjectItem(it, k[i]);
			if (v && cJSON_IsNumber(v))
				cJSON_ReplaceItemInObject(it, k[i], cJSON_CreateBool(v->valuedouble != 0));
		}
	}
	cJSON_AddItemToObject(r, "items", items);
	return r;
}

static void review_create(http_req *req, void *ctx)
{
	static const char *const allowed[] = {"quarter", "sample_size", "local_area_id",
					      "field_division", NULL};
	hub *h = ctx;
	acct_principal p;
	cJSON *body, *ids = NULL, *it;
	json_err je;
	const char *quarter = NULL, *la = NULL, *div = NULL;
	int64_t n = 10;
	int present;
	char id[UUID_STRLEN], asof[11];
	sqlite3_stmt *st = NULL;
	sqlite3 *db = h->hb_db;

	if (acct_auth(h, req, &p, 1, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0 ||
	    json_get_str(body, "quarter", JSON_REQUIRED, 7, 7, &quarter, NULL, 0, &je) != 0 ||
	    json_get_int(body, "sample_size", JSON_OPTIONAL, 1, 500, &n, &present, &je) != 0 ||
	    json_get_str(body, "local_area_id", JSON_NULLABLE, 1, 63, &la, NULL, 0, &je) != 0 ||
	    json_get_str(body, "field_division", JSON_NULLABLE, 1, 120, &div, NULL, 0, &je) != 0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	if (!present)
		n = 10;
	if (!(isdigit((unsigned char)quarter[0]) && isdigit((unsigned char)quarter[3]) &&
	      quarter[4] == '-' && quarter[5] == 'Q' && quarter[6] >= '1' && quarter[6] <= '4')) {
		http_reply_error(req, 400, "quarter", "use YYYY-Qn, e.g. 2026-Q4");
		goto out;
	}
	if (db_prepare(db, &st,
		       "SELECT id FROM staff WHERE (','||coalesce(roles,'')||',') NOT LIKE '%,operations,%'"
		       " AND (?1 IS NULL OR local_area_id=?1) AND (?2 IS NULL OR field_division=?2)"
		       " ORDER BY random() LIMIT ?3") != 0) {
		DBFAIL(req);
		goto out;
	}
	db_bind_text(st, 1, la);
	db_bind_text(st, 2, div);
	sqlite3_bind_int64(st, 3, n);
	ids = db_rows_json(st);
	sqlite3_finalize(st);
	st = NULL;
	if (ids == NULL || db_exec(db, "BEGIN IMMEDIATE") != 0) {
		DBFAIL(req);
		goto out;
	}
	uuid7(id);
	today(asof);
	if (db_prepare(db, &st,
		       "INSERT INTO reviews(id, quarter, local_area_id, field_division, sample_size,"
		       " created_by, created_at) VALUES(?,?,?,?,?,?,?)") != 0)
		goto rollback;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, quarter, -1, SQLITE_STATIC);
	db_bind_text(st, 3, la);
	db_bind_text(st, 4, div);
	sqlite3_bind_int(st, 5, cJSON_GetArraySize(ids));
	sqlite3_bind_text(st, 6, p.ap_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)hub_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	cJSON_ArrayForEach(it, ids)
	{
		char iid[UUID_STRLEN];
		uuid7(iid);
		if (exec1(db, "INSERT INTO review_items(id, review_id, staff_id) VALUES(?1, '', ?2)", iid,
			  json_str(it, "id"), 0) != 0 ||
		    exec1(db, "UPDATE review_items SET review_id=?2 WHERE id=?1", iid, id, 0) != 0 ||
		    review_facts(db, iid, json_str(it, "id"), asof) != 0)
			goto rollback;
	}
	{
		char after[160];
		snprintf(after, sizeof after, "{\"quarter\":\"%s\",\"sample_size\":%d}", quarter,
			 cJSON_GetArraySize(ids));
		if (acct_audit(db, &p, req->peer, "review.create", "reviews", id, la, div, NULL, after) !=
			0 ||
		    db_exec(db, "COMMIT") != 0)
			goto rollback;
	}
	http_reply_json(req, 201, review_out(db, id));
	goto out;
rollback:
	db_exec(db, "ROLLBACK");
	DBFAIL(req);
out:
	cJSON_Delete(ids);
	cJSON_Delete(body);
}

/* May p see review r?  Operations always; administrators their area's. */
static int review_visible(const acct_principal *p, const cJSON *r)
{
	const char *la = json_str(r, "local_area_id"), *div = json_str(r, "field_division");

	if (p->ap_roles & ROLE_OPERATIONS)
		return 1;
	return ((p->ap_roles & ROLE_MIS_ADMIN) && la && strcmp(la, p->ap_la) == 0) ||
	       ((p->ap_roles & ROLE_SPOC) && div && strcmp(div, p->ap_div) == 0);
}

static void reviews_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *r, *out, *it;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	r = db_rows_json_by(h->hb_db,
		       "SELECT id, quarter, local_area_id, field_division, sample_size, status,"
		       " created_by, created_at, completed_at, reported_to FROM reviews"
		       " ORDER BY created_at DESC LIMIT 1000",
		       NULL);
	if (r == NULL) {
		DBFAIL(req);
		return;
	}
	out = cJSON_CreateArray();
	while ((it = cJSON_DetachItemFromArray(r, 0)) != NULL) {
		if (review_visible(&p, it))
			cJSON_AddItemToArray(out, it);
		else
			cJSON_Delete(it);
	}
	cJSON_Delete(r);
	http_reply_json(req, 200, out);
}

static void review_get(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *r;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	r = review_out(h->hb_db, http_req_param(req, "id"));
	if (r == NULL || !review_visible(&p, r)) {
		cJSON_Delete(r);
		http_reply_error(req, 404, NULL, "no such review");
		return;
	}
	http_reply_json(req, 200, r);
}

static void review_item_set(http_req *req, void *ctx)
{
	static const char *const allowed[] = {"result", "note", NULL};
	hub *h = ctx;
	acct_principal p;
	cJSON *body, *r = NULL;
	json_err je;
	const char *result = NULL, *note = NULL, *rid = http_req_param(req, "id");
	const char *iid = http_req_param(req, "item");
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (acct_auth(h, req, &p, 1, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0 ||
	    json_get_str(body, "result", JSON_REQUIRED, 4, 4, &result, NULL, 0, &je) != 0 ||
	    json_get_str(body, "note", JSON_NULLABLE, 1, 1000, &note, NULL, 0, &je) != 0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	if (strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0) {
		http_reply_error(req, 400, "result", "result is pass or fail");
		goto out;
	}
	r = db_row_json_by(h->hb_db, "SELECT status FROM reviews WHERE id=?", rid);
	if (r == NULL) {
		http_reply_error(req, 404, NULL, "no such review");
		goto out;
	}
	if (strcmp(json_str(r, "status"), "open") != 0) {
		http_reply_error(req, 409, "status", "the review is complete");
		goto out;
	}
	if (db_prepare(h->hb_db, &st,
		       "UPDATE review_items SET result=?, note=?, checked_by=?, checked_at=?"
		       " WHERE id=? AND review_id=?") == 0) {
		sqlite3_bind_text(st, 1, result, -1, SQLITE_STATIC);
		db_bind_text(st, 2, note);
		sqlite3_bind_text(st, 3, p.ap_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)hub_now_ms());
		sqlite3_bind_text(st, 5, iid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, rid, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE ? (sqlite3_changes(h->hb_db) == 1 ? 1 : 2) : 0;
		sqlite3_finalize(st);
	}
	if (ok == 2) {
		http_reply_error(req, 404, NULL, "no such review item");
		goto out;
	}
	if (ok != 1) {
		DBFAIL(req);
		goto out;
	}
	{
		char after[64];
		snprintf(after, sizeof after, "{\"result\":\"%s\"}", result);
		acct_audit(h->hb_db, &p, req->peer, "review.item", "review_items", iid, NULL, NULL,
			   NULL, after);
	}
	http_reply_json(req, 200, review_out(h->hb_db, rid));
out:
	cJSON_Delete(r);
	cJSON_Delete(body);
}

static void review_complete(http_req *req, void *ctx)
{
	static const char *const allowed[] = {"reported_to", NULL};
	hub *h = ctx;
	acct_principal p;
	cJSON *body, *r = NULL;
	json_err je;
	const char *to = NULL, *rid = http_req_param(req, "id");
	sqlite3_stmt *st = NULL;
	char summary[400];
	int open = -1, items = 0, pass = 0, fail = 0, inc = 0, stale = 0, late = 0, ok = 0;

	if (acct_auth(h, req, &p, 1, 0) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0 ||
	    json_get_str(body, "reported_to", JSON_REQUIRED, 1, 200, &to, NULL, 0, &je) != 0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	r = db_row_json_by(h->hb_db, "SELECT status, local_area_id, field_division FROM reviews WHERE id=?",
		     rid);
	if (r == NULL) {
		http_reply_error(req, 404, NULL, "no such review");
		goto out;
	}
	if (strcmp(json_str(r, "status"), "open") != 0) {
		http_reply_error(req, 409, "status", "the review is already complete");
		goto out;
	}
	if (db_prepare(h->hb_db, &st,
		       "SELECT count(*), sum(result IS NULL), sum(result='pass'), sum(result='fail'),"
		       " sum(docs_complete=0), sum(docs_current=0), sum(deactivation_timely=0)"
		       " FROM review_items WHERE review_id=?") == 0) {
		sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			items = sqlite3_column_int(st, 0);
			open = sqlite3_column_int(st, 1);
			pass = sqlite3_column_int(st, 2);
			fail = sqlite3_column_int(st, 3);
			inc = sqlite3_column_int(st, 4);
			stale = sqlite3_column_int(st, 5);
			late = sqlite3_column_int(st, 6);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (open != 0) {
		http_reply_error(req, 409, "items", "record a result for every account first (%d left)",
				 open);
		goto out;
	}
	snprintf(summary, sizeof summary,
		 "{\"items\":%d,\"pass\":%d,\"fail\":%d,\"docs_incomplete\":%d,\"docs_stale\":%d,"
		 "\"late_deactivations\":%d}",
		 items, pass, fail, inc, stale, late);
	if (db_prepare(h->hb_db, &st,
		       "UPDATE reviews SET status='complete', completed_at=?, reported_to=?, summary=?"
		       " WHERE id=? AND status='open'") == 0) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)hub_now_ms());
		sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, summary, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, rid, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(h->hb_db) == 1;
		sqlite3_finalize(st);
	}
	if (!ok) {
		DBFAIL(req);
		goto out;
	}
	acct_audit(h->hb_db, &p, req->peer, "review.complete", "reviews", rid,
		   json_str(r, "local_area_id"), json_str(r, "field_division"), NULL, summary);
	http_reply_json(req, 200, review_out(h->hb_db, rid));
out:
	cJSON_Delete(r);
	cJSON_Delete(body);
}

/* ---- audit trail ---------------------------------------------------------------------------- */

static void audit_query(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	char src[8], actor[64], action[64], subj[64], la[64], from[24], to[24], lim[12];
	const char *v[5] = {NULL};
	int64_t f = 0, t = INT64_MAX;
	int limit = 1000;
	sqlite3_stmt *st = NULL;
	cJSON *r, *it;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	if (http_req_query(req, "source", src, sizeof src)) {
		if (strcmp(src, "admin") != 0 && strcmp(src, "node") != 0 && strcmp(src, "hub") != 0) {
			http_reply_error(req, 400, "source", "source is admin, node or hub");
			return;
		}
		v[0] = src;
	}
	if (http_req_query(req, "actor", actor, sizeof actor))
		v[1] = actor;
	if (http_req_query(req, "action", action, sizeof action))
		v[2] = action;
	if (http_req_query(req, "subject_id", subj, sizeof subj))
		v[3] = subj;
	if (http_req_query(req, "local_area_id", la, sizeof la))
		v[4] = la;
	if (http_req_query(req, "from", from, sizeof from))
		f = strtoll(from, NULL, 10);
	if (http_req_query(req, "to", to, sizeof to))
		t = strtoll(to, NULL, 10);
	if (http_req_query(req, "limit", lim, sizeof lim)) {
		limit = atoi(lim);
		if (limit < 1 || limit > 1000)
			limit = 1000;
	}
	if (db_prepare(h->hb_db, &st,
		       "SELECT * FROM ("
		       " SELECT 'admin' AS source, id, at, actor_id, actor, action, subject_table,"
		       "  subject_id, local_area_id, field_division, before, after, client FROM admin_audit"
		       " UNION ALL SELECT 'node', e.id, e.at, e.staff_id, s.username, e.action,"
		       "  e.subject_table, e.subject_id, e.local_area_id, NULL, NULL, e.detail, e.node_id"
		       "  FROM audit_events e LEFT JOIN staff s ON s.id=e.staff_id"
		       " UNION ALL SELECT 'hub', id, at, NULL, actor, action, NULL, subject, NULL, NULL,"
		       "  NULL, detail, NULL FROM hub_audit_events)"
		       " WHERE (?1 IS NULL OR source=?1) AND (?2 IS NULL OR actor=?2 OR actor_id=?2) AND"
		       " (?3 IS NULL OR action=?3) AND (?4 IS NULL OR subject_id=?4) AND"
		       " (?5 IS NULL OR local_area_id=?5) AND at>=?6 AND at<=?7 AND"
		       " (?8 OR (?9 <> '' AND local_area_id=?9) OR (?10 <> '' AND field_division=?10))"
		       " ORDER BY at DESC LIMIT ?11") != 0) {
		DBFAIL(req);
		return;
	}
	for (int i = 0; i < 5; i++)
		db_bind_text(st, i + 1, v[i]);
	sqlite3_bind_int64(st, 6, f);
	sqlite3_bind_int64(st, 7, t);
	sqlite3_bind_int(st, 8, (p.ap_roles & ROLE_OPERATIONS) != 0);
	sqlite3_bind_text(st, 9, (p.ap_roles & ROLE_MIS_ADMIN) ? p.ap_la : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, (p.ap_roles & ROLE_SPOC) ? p.ap_div : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, limit);
	r = db_rows_json(st);
	sqlite3_finalize(st);
	if (r == NULL) {
		DBFAIL(req);
		return;
	}
	cJSON_ArrayForEach(it, r)
	{
		const char *k[] = {"before", "after"};
		/* Node events: the hub checked node_id against the node that
		 * pushed the row (acct_apply.c), so it names who reported it. */
		if (strcmp(json_str(it, "source") ? json_str(it, "source") : "", "node") == 0)
			json_add_str_or_null(it, "reported_by", json_str(it, "client"));
		for (int i = 0; i < 2; i++) {
			const char *s = json_str(it, k[i]);
			cJSON *j = s ? cJSON_Parse(s) : NULL;
			if (j)
				cJSON_ReplaceItemInObject(it, k[i], j);
		}
	}
	http_reply_json(req, 200, r);
}

static void cred_changes(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	char status[16];
	const char *s = NULL;
	sqlite3_stmt *st = NULL;
	cJSON *r;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	if (http_req_query(req, "status", status, sizeof status))
		s = status;
	if (db_prepare(h->hb_db, &st,
		       "SELECT c.id, c.staff_id, s.username, c.node_id, c.reason, c.changed_at, c.status,"
		       " c.why, c.decided_at FROM credential_change_status c LEFT JOIN staff s ON"
		       " s.id=c.staff_id WHERE (?1 IS NULL OR c.status=?1) AND"
		       " (?2 OR (?3 <> '' AND s.local_area_id=?3) OR (?4 <> '' AND s.field_division=?4))"
		       " ORDER BY c.decided_at DESC LIMIT 1000") != 0) {
		DBFAIL(req);
		return;
	}
	db_bind_text(st, 1, s);
	sqlite3_bind_int(st, 2, (p.ap_roles & ROLE_OPERATIONS) != 0);
	sqlite3_bind_text(st, 3, (p.ap_roles & ROLE_MIS_ADMIN) ? p.ap_la : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, (p.ap_roles & ROLE_SPOC) ? p.ap_div : "", -1, SQLITE_STATIC);
	r = db_rows_json(st);
	sqlite3_finalize(st);
	if (r == NULL)
		DBFAIL(req);
	else
		http_reply_json(req, 200, r);
}

int acct_api_routes(hub *h, router *r)
{
	int rc = 0;

	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/local-areas", local_areas_list, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/field-divisions", field_divisions_list, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/field-divisions", field_division_create, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/offices", offices_list, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/privilege-groups", groups_list, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/access-requests", requests_list, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/access-requests", request_create, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/access-requests/:id", request_get, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/access-requests/:id/approve",
			 request_approve, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/access-requests/:id/reject",
			 request_reject, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/access-requests/:id/files", file_upload, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/files/:id", file_get, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/staff", staff_list, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/staff", staff_create, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/staff/:id", staff_get, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/staff/:id/reset", staff_reset, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/staff/:id/change", staff_change, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/staff/:id/recertify", staff_recertify, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/staff/:id/deactivate", staff_deactivate, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/staff/:id/roles", staff_roles, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/recertification", recert_list, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/reviews", reviews_list, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/reviews", review_create, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/reviews/:id", review_get, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/reviews/:id/items/:item", review_item_set, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/reviews/:id/complete", review_complete, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/audit", audit_query, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/credential-changes", cred_changes, h);
	return rc ? -1 : 0;
}

int acct_routes(hub *h, router *r)
{
	return acct_session_routes(h, r) == 0 && acct_api_routes(h, r) == 0 ? 0 : -1;
}
