/*
 * acct_api.c - the account administration API's shared helpers (see
 * acct_api.h), the places and privilege groups it offers, the audit trail
 * query and the outcome of passwords set at nodes.
 */
#include "hub/acct_api.h"
#include "lib/clock.h"
#include "lib/uuid.h"
#include "model/casework.h"
#include "model/privileges.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const acct_kinds[] = {"new", "reset", "change", "recertify", "deactivate", NULL};

int acct_in_list(const char *s, const char *const *l)
{
	for (; s && *l; l++)
		if (strcmp(s, *l) == 0)
			return 1;
	return 0;
}

void acct_today(char out[11])
{
	clock_local_date(hub_now_ms(), out);
}

route_rc acct_api_scope(route_call *a, const char *la, const char *div, const char *group)
{
	const char *field = NULL;
	char msg[200];

	if (acct_scope_why(API_ADMIN(a), la, div, group, &field, msg, sizeof msg) == 0)
		return ROUTE_OK;
	return route_fail(a, 403, field, "%s", msg);
}

route_rc acct_account_scope(route_call *a, const char *field, const char *la, const char *div,
			    const char *group)
{
	const acct_principal *p = API_ADMIN(a);
	const char *f = NULL;
	char msg[200];
	int by;

	if (acct_scope_why(p, la, div, NULL, &f, msg, sizeof msg) != 0)
		return route_fail(a, 403, f, "%s", msg);
	/* The Local Area or division alone is not enough: an EDD WSB account
	 * works in a Local Area and an LWIA one may name a field division, yet
	 * WSD24-13 gives each to whoever assigns its group. */
	if (acct_scope_why(p, la, div, group, &f, msg, sizeof msg) == 0)
		return ROUTE_OK;
	by = acct_group_assigner(group);
	return route_fail(a, 403, field, "accounts in the group '%s' are managed by %s",
			  group ? group : "",
			  by == 1   ? "the Local Area's MIS Administrators"
			  : by == 2 ? "the field division's WSB CalJOBS SPOCs"
				    : "the CalJOBS Operations Unit");
}

void acct_bind_scope(route_call *a, sqlite3_stmt *st, int first)
{
	const acct_principal *p = API_ADMIN(a);

	sqlite3_bind_int(st, first, (p->ap_roles & ROLE_OPERATIONS) != 0);
	sqlite3_bind_text(st, first + 1, (p->ap_roles & ROLE_MIS_ADMIN) ? p->ap_la : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, first + 2, (p->ap_roles & ROLE_SPOC) ? p->ap_div : "", -1,
			  SQLITE_STATIC);
}

route_rc acct_list_scoped(route_call *a, const char *sql, int n, const char *const *args,
			  cJSON *(*each)(sqlite3 *db, cJSON *row))
{
	sqlite3 *db = API_HUB(a)->hb_db;
	sqlite3_stmt *st = NULL;
	cJSON *rows, *out, *it;

	if (db_prepare(db, &st, sql) != 0)
		return ROUTE_DBERR;
	for (int i = 0; i < n; i++)
		db_bind_text(st, i + 1, args[i]);
	acct_bind_scope(a, st, n + 1);
	rows = db_rows_json(st);
	sqlite3_finalize(st);
	if (rows == NULL || each == NULL)
		return route_ok(a, 200, rows);
	if ((out = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(rows);
		return ROUTE_DBERR;
	}
	while ((it = cJSON_DetachItemFromArray(rows, 0)) != NULL)
		cJSON_AddItemToArray(out, each(db, it));
	cJSON_Delete(rows);
	return route_ok(a, 200, out);
}

/* Column i into out ("" for SQL NULL): 0, or -1 when out of memory. */
static int col_copy(sqlite3_stmt *st, int i, char *out, size_t n)
{
	const char *v = db_col(st, i);

	if (v == NULL)
		return -1;
	snprintf(out, n, "%s", v);
	return 0;
}

int acct_own_field_account(route_call *a, const char *id)
{
	int64_t n = db_int_bound(API_HUB(a)->hb_db, -1,
				 "SELECT count(*) FROM admin_accounts WHERE id=?1 AND field_staff_id=?2",
				 "tt", API_ADMIN(a)->ap_id, id);

	return n < 0 ? -1 : n > 0;
}

route_rc acct_target_load(route_call *a, const char *id, acct_tgt *t)
{
	const acct_principal *p = API_ADMIN(a);
	sqlite3_stmt *st = NULL;
	route_rc rrc;
	int rc;

	memset(t, 0, sizeof *t);
	if (id == NULL || db_prepare_bound(API_HUB(a)->hb_db, &st,
					   "SELECT id, username, coalesce(local_area_id,''),"
					   " coalesce(field_division,''), privilege_group, coalesce(roles,''),"
					   " coalesce(office_id,''), active FROM staff WHERE id=?",
					   "t", id) != 0)
		return ROUTE_DBERR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (col_copy(st, 0, t->id, sizeof t->id) != 0 ||
		    col_copy(st, 1, t->username, sizeof t->username) != 0 ||
		    col_copy(st, 2, t->la, sizeof t->la) != 0 ||
		    col_copy(st, 3, t->div, sizeof t->div) != 0 ||
		    col_copy(st, 4, t->group, sizeof t->group) != 0 ||
		    col_copy(st, 5, t->roles, sizeof t->roles) != 0 ||
		    col_copy(st, 6, t->office, sizeof t->office) != 0)
			rc = SQLITE_NOMEM; /* an unread roles is not "" (no administrator) */
		t->active = sqlite3_column_int(st, 7);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? route_fail(a, 404, "staff_id", "no such staff member")
					 : ROUTE_DBERR;
	if ((rrc = acct_account_scope(a, "staff_id", t->la, t->div, t->group)) != ROUTE_OK)
		return rrc;
	/* The person's field account is their own account too, operations'
	 * included: approving or carrying out a request about it would undo
	 * the separation of duties the administrative account was split for. */
	if ((rc = acct_own_field_account(a, t->id)) != 0)
		return rc < 0 ? ROUTE_DBERR
			      : route_fail(a, 403, "staff_id",
					   "administrators do not act on their own account");
	if (!(p->ap_roles & ROLE_OPERATIONS)) {
		if (strcmp(t->id, p->ap_id) == 0)
			return route_fail(a, 403, "staff_id",
					  "administrators do not act on their own account");
		if (acct_roles_parse(t->roles) != 0)
			return route_fail(a, 403, "staff_id",
					  "only the CalJOBS Operations Unit manages administrator "
					  "accounts");
	}
	return ROUTE_OK;
}

char *acct_staff_text(sqlite3 *db, const char *id)
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

/* ---- places and groups ---------------------------------------------------------- */

/* Each Local Area with its SSN keys: "ssn_keys" held (the newest and the
 * older ones not retired yet) and "ssn_key_epoch", the newest one's epoch
 * (case_key_epoch; 0 when it has none), for the console's Rotate key and
 * Retire older keys. */
static route_rc local_areas_list(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	cJSON *rows = db_rows_json_by(db, "SELECT l.id, l.name, l.field_division, l.pseudo_ssn_prefix,"
				  " (SELECT count(*) FROM offices o WHERE o.local_area_id=l.id) AS offices,"
				  " (SELECT count(*) FROM staff s WHERE s.local_area_id=l.id AND s.active=1) AS staff,"
				  " (SELECT count(*) FROM staff s WHERE s.local_area_id=l.id AND s.active=1 AND"
				  "  (','||coalesce(s.roles,'')||',') LIKE '%,mis_admin,%') AS mis_admins,"
				  " (SELECT count(*) FROM case_keys k WHERE k.local_area_id=l.id) AS ssn_keys"
				  " FROM local_areas l ORDER BY l.name", NULL);
	cJSON *r;

	cJSON_ArrayForEach(r, rows) {
		int epoch = case_key_epoch(db, cJSON_GetStringValue(cJSON_GetObjectItem(r, "id")));

		if (epoch < 0 || cJSON_AddNumberToObject(r, "ssn_key_epoch", epoch) == NULL) {
			cJSON_Delete(rows);
			return ROUTE_DBERR;
		}
	}
	return route_ok(a, 200, rows);
}

static route_rc field_divisions_list(route_call *a)
{
	return hub_api_rows(a, "SELECT d.id, d.name,"
			       " (SELECT count(*) FROM staff s WHERE s.field_division=d.id AND s.active=1 AND"
			       "  (','||coalesce(s.roles,'')||',') LIKE '%,spoc,%') AS spocs"
			       " FROM field_divisions d ORDER BY d.name");
}

static route_rc offices_list(route_call *a)
{
	return hub_api_rows(a, "SELECT id, name, local_area_id, address, timezone, has_title1_partner, active"
			       " FROM offices ORDER BY name");
}

static const route_key division_keys[] = {
	{"id", ROUTE_T_STR, ROUTE_K_NULL},
	{"name", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{NULL, 0, 0},
};

/* POST field-divisions (operations only); Local Areas and offices are
 * created by hub_setup.c, with their pseudo-SSN identifier and Title I
 * partner. */
static route_rc field_division_create(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *id = NULL, *name = NULL;
	char gen[UUID_STRLEN];
	sqlite3_stmt *st = NULL;
	cJSON *row;
	char *after;
	int rc, bad = 0;

	bad |= route_str(a, "id", JSON_NULLABLE, 1, 63, &id, NULL, 0);
	bad |= route_str(a, "name", JSON_REQUIRED, 1, 120, &name, NULL, 0);
	if (id && !acct_id_ok(id))
		bad = route_err(a, "id", "use letters, digits, '.', '_' or '-'");
	if (bad)
		return ROUTE_BAD;
	if (id == NULL) {
		uuid7(gen);
		id = gen;
	}
	if (db_prepare(db, &st, "INSERT INTO field_divisions(id, name, created_at) VALUES(?,?,?)") !=
	    0)
		return ROUTE_DBERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)hub_now_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return route_fail(a, 409, "id", "'%s' already exists", id);
	if (rc != SQLITE_DONE || (row = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(row, "id", id);
	cJSON_AddStringToObject(row, "name", name);
	after = cJSON_PrintUnformatted(row);
	rc = after ? hub_api_admin_audit(a, "field_division.create", "field_divisions", id, NULL,
					 id, NULL, after)
		   : -1;
	free(after);
	if (rc != 0) {
		cJSON_Delete(row);
		return ROUTE_DBERR;
	}
	return route_ok(a, 201, row);
}

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

static route_rc groups_list(route_call *a)
{
	cJSON *r = cJSON_CreateArray();

	for (size_t i = 0; r && i < sizeof group_desc / sizeof group_desc[0]; i++) {
		cJSON *o = cJSON_CreateObject(), *pv = cJSON_CreateArray();
		unsigned bits = priv_group_bits(group_desc[i][0]);
		cJSON_AddStringToObject(o, "name", group_desc[i][0]);
		cJSON_AddStringToObject(o, "assigned_by", group_desc[i][1]);
		cJSON_AddStringToObject(o, "description", group_desc[i][2]);
		for (unsigned b = 1; b <= PRIV_ALL; b <<= 1)
			if (bits & b)
				cJSON_AddItemToArray(pv, cJSON_CreateString(priv_name(b)));
		cJSON_AddItemToObject(o, "privileges", pv);
		cJSON_AddBoolToObject(o, "assignable",
				      acct_group_assignable(API_ADMIN(a), group_desc[i][0]));
		cJSON_AddItemToArray(r, o);
	}
	return route_ok(a, 200, r);
}

/* ---- audit trail ---------------------------------------------------------------------------- */

/* A request's account in the caller's scope (?8..?10), r its row. */
#define AUDIT_REQUEST_IN_SCOPE(r)                                                                  \
	"acct_in_scope(?8, ?9, ?10, " r ".local_area_id, " r ".field_division, "                   \
	ACCT_REQUEST_GROUP_SQL(r) ")"

/* An office's event carries its Local Area only; its field division is
 * that Local Area's now, so a SPOC's scope (?10) holds the events of its
 * division's Local Areas as an MIS Administrator's (?9) holds its own.
 * An administrator's event about an account (its staff row, a request or
 * a request's file) is shown besides only to whoever may open the account
 * (acct_in_scope, the group's assigner deciding): the Local Area or
 * division alone showed an MIS Administrator the creation, with the whole
 * record, of its Local Area's EDD WSB accounts, and a SPOC its division's
 * LWIA ones.  The caller's own actions (?12) stay in its trail, e.g. an
 * approver role it granted an account it does not manage (hub_case.c). */
static const char audit_sql[] =
    "SELECT * FROM ("
    " SELECT 'admin' AS source, id, at, actor_id, actor, action, subject_table,"
    "  subject_id, local_area_id, field_division, before, after, client FROM admin_audit"
    "  WHERE ?8 OR actor_id = ?12 OR coalesce(CASE subject_table"
    "   WHEN 'staff' THEN (SELECT acct_in_scope(?8, ?9, ?10, s.local_area_id,"
    "    s.field_division, s.privilege_group) FROM staff s WHERE s.id = admin_audit.subject_id)"
    "   WHEN 'access_requests' THEN (SELECT " AUDIT_REQUEST_IN_SCOPE("r")
    "    FROM access_requests r WHERE r.id = admin_audit.subject_id)"
    /* a file of a request, or an account's own (request_id '') */
    "   WHEN 'request_files' THEN (SELECT CASE WHEN f.request_id <> '' THEN"
    "    (SELECT " AUDIT_REQUEST_IN_SCOPE("r") " FROM access_requests r WHERE r.id = f.request_id)"
    "    ELSE (SELECT acct_in_scope(?8, ?9, ?10, s.local_area_id, s.field_division,"
    "     s.privilege_group) FROM staff s WHERE s.id = f.staff_id) END"
    "    FROM request_files f WHERE f.id = admin_audit.subject_id)"
    "   ELSE 1 END, 0)"
    " UNION ALL SELECT 'node', e.id, e.at, e.staff_id, s.username, e.action,"
    "  e.subject_table, e.subject_id, e.local_area_id,"
    "  (SELECT l.field_division FROM local_areas l WHERE l.id=e.local_area_id), NULL,"
    "  e.detail, e.node_id"
    "  FROM audit_events e LEFT JOIN staff s ON s.id=e.staff_id"
    " UNION ALL SELECT 'hub', id, at, NULL, actor, action, NULL, subject, NULL, NULL,"
    "  NULL, detail, NULL FROM hub_audit_events)"
    " WHERE (?1 IS NULL OR source=?1) AND (?2 IS NULL OR actor=?2 OR actor_id=?2) AND"
    " (?3 IS NULL OR action=?3) AND (?4 IS NULL OR subject_id=?4) AND"
    " (?5 IS NULL OR local_area_id=?5) AND at>=?6 AND at<=?7 AND"
    " (?8 OR (?9 <> '' AND local_area_id=?9) OR (?10 <> '' AND field_division=?10))"
    " ORDER BY at DESC LIMIT ?11";

/* The rows' JSON text columns as JSON, and who reported a node's event. */
static void audit_rows_out(cJSON *r)
{
	cJSON *it;

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
}

static route_rc audit_query(route_call *a)
{
	static const char *const names[] = {"source", "actor", "action", "subject_id",
					    "local_area_id"};
	char v[5][64], from[24], to[24], lim[12];
	const char *vp[5] = {NULL};
	int64_t f = 0, t = INT64_MAX;
	int limit = 1000;
	sqlite3_stmt *st = NULL;
	cJSON *r;

	for (int i = 0; i < 5; i++)
		if (http_req_query(a->rc_req, names[i], v[i], sizeof v[i]))
			vp[i] = v[i];
	if (vp[0] && strcmp(vp[0], "admin") != 0 && strcmp(vp[0], "node") != 0 &&
	    strcmp(vp[0], "hub") != 0)
		return route_bad(a, "source", "source is admin, node or hub");
	if (http_req_query(a->rc_req, "from", from, sizeof from))
		f = strtoll(from, NULL, 10);
	if (http_req_query(a->rc_req, "to", to, sizeof to))
		t = strtoll(to, NULL, 10);
	if (http_req_query(a->rc_req, "limit", lim, sizeof lim)) {
		limit = atoi(lim);
		if (limit < 1 || limit > 1000)
			limit = 1000;
	}
	if (db_prepare(API_HUB(a)->hb_db, &st, audit_sql) != 0)
		return ROUTE_DBERR;
	for (int i = 0; i < 5; i++)
		db_bind_text(st, i + 1, vp[i]);
	sqlite3_bind_int64(st, 6, f);
	sqlite3_bind_int64(st, 7, t);
	acct_bind_scope(a, st, 8);
	sqlite3_bind_int(st, 11, limit);
	sqlite3_bind_text(st, 12, API_ADMIN(a)->ap_id, -1, SQLITE_STATIC);
	r = db_rows_json(st);
	sqlite3_finalize(st);
	if (r == NULL)
		return ROUTE_DBERR;
	audit_rows_out(r);
	return route_ok(a, 200, r);
}

static route_rc cred_changes(route_call *a)
{
	char status[16];
	const char *s = http_req_query(a->rc_req, "status", status, sizeof status);

	return acct_list_scoped(a,
		"SELECT c.id, c.staff_id, s.username, c.node_id, c.reason, c.changed_at, c.status,"
		" c.why, c.decided_at FROM credential_change_status c LEFT JOIN staff s ON"
		" s.id=c.staff_id WHERE (?1 IS NULL OR c.status=?1) AND"
		" acct_in_scope(?2, ?3, ?4, s.local_area_id, s.field_division, s.privilege_group)"
		" ORDER BY c.decided_at DESC LIMIT 1000", 1, &s, NULL);
}

static const route_def acct_api_defs[] = {
	{HTTP_M_GET, "/api/v1/admin/local-areas", local_areas_list, 0, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/admin/field-divisions", field_divisions_list, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/field-divisions", field_division_create, HUB_P_OPS,
	 ROUTE_BODY | HUB_AUDITED, division_keys, 0},
	{HTTP_M_GET, "/api/v1/admin/offices", offices_list, 0, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/admin/privilege-groups", groups_list, 0, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/admin/audit", audit_query, 0, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/admin/credential-changes", cred_changes, 0, 0, NULL, 0},
};
const route_list acct_api_route_list = ROUTE_LIST(acct_api_defs);
