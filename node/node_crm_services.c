/*
 * node_crm_services.c - the CRM's JSON API, part 2: employer services (the
 * service plan of E-codes).  One or several services are added at once in
 * one captured transaction; each is checked against the code list (E90/E92
 * are system-generated and retired codes are closed to new services) and
 * the date rules (a completion code needs an actual end date; the end is
 * never before the start).  The recruiting-only codes (job listings,
 * referrals, candidate searches) are for recruiting employers, and wait for
 * WSB staff's vetting of a converted one (409 while it is pending:
 * crm__refuse_unvetted).  Services are append-only: a correction is a new
 * row naming the one it corrects (or voiding it).
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <string.h>

static route_rc list_codes(route_call *a)
{
	node *n = API_NODE(a);
	cJSON *arr, *it;

	arr = db_rows_json_by(n->nd_db,
			      "SELECT code, title, dol_category, dol_category_name, system_generated,"
			      " status FROM employer_activity_codes ORDER BY code",
			      NULL);
	if (arr == NULL)
		return ROUTE_DBERR;
	cJSON_ArrayForEach(it, arr)
	{
		cJSON *sg = cJSON_GetObjectItem(it, "system_generated");
		int sys = sg && sg->valueint;
		const char *why = crm_code_selectable(sys, json_str(it, "status"));
		cJSON_ReplaceItemInObject(it, "system_generated", cJSON_CreateBool(sys));
		cJSON_AddBoolToObject(it, "selectable", why == NULL);
		/* (the summary shows them unavailable to a lead or while the
		 * employer's vetting is pending) */
		cJSON_AddBoolToObject(it, "recruiting_only", crm_recruiting_only_code(json_str(it, "code")));
		if (why)
			cJSON_AddStringToObject(it, "not_selectable_because", why);
	}
	return route_ok(a, 200, arr);
}

#define SERVICE_COLS                                                                         \
	"s.id, s.employer_id, s.code, c.title, c.dol_category, c.dol_category_name,"           \
	" s.start_date, s.projected_end_date, s.end_date, s.completion_code, s.staff_id,"      \
	" st.display_name AS staff_name, s.office_id, s.notes, s.corrects_id, s.created_at"
#define SERVICE_FROM                                                                         \
	" FROM employer_services s LEFT JOIN employer_activity_codes c ON c.code = s.code"     \
	" LEFT JOIN staff st ON st.id = s.staff_id"
/* Effective rows (node_crm.h). */
#define SERVICE_EFFECTIVE CRM_SERVICE_EFFECTIVE("s")

cJSON *crm__services_of(node *n, const char *employer_id)
{
	return db_rows_json_by(n->nd_db,
			       "SELECT " SERVICE_COLS SERVICE_FROM " WHERE s.employer_id=? AND" SERVICE_EFFECTIVE
			       " ORDER BY s.start_date DESC, s.created_at DESC",
			       employer_id);
}

static route_rc list_services(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const char *id = http_req_param(req, "id");
	cJSON *arr;

	if (crm__exists(n, "employers", id) != 1)
		return route_fail(a, 404, "id", "no such employer");
	arr = crm__services_of(n, id);
	return arr ? route_ok(a, 200, arr) : ROUTE_DBERR;
}

typedef struct svc {
	const char *code, *start, *projected, *end, *completion, *notes;
} svc;

static const char *const svc_keys[] = {"code", "start_date", "projected_end_date", "end_date",
				       "completion_code", "notes", NULL};

/* Collect e into a's errors, its field named under prefix ("services[1].code")
 * when prefix is set; clears e.  Returns -1. */
static int svc_err(route_call *a, const char *prefix, json_err *e)
{
	if (prefix && prefix[0] && strcmp(e->field, prefix) != 0) {
		char p[64];
		if (snprintf(p, sizeof p, "%s.", prefix) < (int)sizeof p)
			json_err_prefix(e, p);
	}
	route_err_json(a, e);
	memset(e, 0, sizeof *e);
	return -1;
}

/* The code of service s: known, and selectable unless it is kept, the code
 * of the service s corrects (a correction keeping its code is no new use of
 * it: the hub takes it too, hub_codes.c; SPEC bars retired codes from new
 * services only).  0, or -1 with e set. */
static int svc_code(node *n, const svc *s, const char *kept, json_err *e)
{
	sqlite3_stmt *st;
	const char *why;
	int found = 0, sys = 0;
	char status[16] = "";

	if (db_prepare(n->nd_db, &st,
		       "SELECT system_generated, status FROM employer_activity_codes WHERE code=?") != 0) {
		json_err_set(e, "code", "cannot read the code list");
		return -1;
	}
	sqlite3_bind_text(st, 1, s->code, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = db_col(st, 1);

		if (t == NULL) {
			sqlite3_finalize(st);
			json_err_set(e, "code", "cannot read the code list");
			return -1;
		}
		found = 1;
		sys = sqlite3_column_int(st, 0);
		snprintf(status, sizeof status, "%s", t);
	}
	sqlite3_finalize(st);
	if (!found) {
		json_err_set(e, "code", "unknown activity code '%.8s'", s->code);
		return -1;
	}
	if ((kept == NULL || strcmp(kept, s->code) != 0) &&
	    (why = crm_code_selectable(sys, status)) != NULL) {
		json_err_set(e, "code", "%s %s", s->code, why);
		return -1;
	}
	return 0;
}

/* One service object: fields and every rule, every error collected in a
 * (prefix names the service in them); kept is the code of the service it
 * corrects, or NULL (svc_code).  0, or -1. */
static int read_service(route_call *a, node *n, const cJSON *o, const char *prefix,
			const char *today, const char *kept, svc *s)
{
	const struct {
		const char *name;
		int flags;
		size_t max;
		const char **out;
	} f[] = {
		{"code", JSON_REQUIRED, 8, &s->code},
		{"start_date", JSON_REQUIRED, 10, &s->start},
		{"projected_end_date", JSON_NULLABLE, 10, &s->projected},
		{"end_date", JSON_NULLABLE, 10, &s->end},
		{"completion_code", JSON_NULLABLE, 16, &s->completion},
		{"notes", JSON_NULLABLE, CRM_NOTE_MAX, &s->notes},
	};
	json_err e = {{0}, {0}};
	char msg[160];
	const char *field;
	int bad = 0, start_ok;

	memset(s, 0, sizeof *s);
	if (!cJSON_IsObject(o)) {
		json_err_set(&e, prefix ? prefix : "", "each service must be an object");
		return svc_err(a, NULL, &e);
	}
	if (json_only(o, svc_keys, &e))
		bad = svc_err(a, prefix, &e);
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		int req = f[i].flags & JSON_REQUIRED;
		if (json_get_str(o, f[i].name, f[i].flags, req ? 1 : 0, f[i].max, f[i].out, NULL, 0, &e))
			bad = svc_err(a, prefix, &e);
		else if (!req && *f[i].out && (*f[i].out)[0] == '\0')
			*f[i].out = NULL;
	}
	if (s->code && svc_code(n, s, kept, &e) != 0)
		bad = svc_err(a, prefix, &e);
	start_ok = s->start && json_valid_date(s->start) == 0;
	if (s->start && (field = crm_service_check(s->start, s->end, s->completion, today, msg,
						   sizeof msg)) != NULL) {
		json_err_set(&e, field, "%s", msg);
		bad = svc_err(a, prefix, &e);
	}
	if (s->projected && (json_valid_date(s->projected) != 0 ||
			     (start_ok && strcmp(s->projected, s->start) < 0))) {
		json_err_set(&e, "projected_end_date",
			     "projected end date must be a date on or after the start date");
		bad = svc_err(a, prefix, &e);
	}
	return bad;
}

/* One service row as the API shows it (with its voided flag when asked). */
static cJSON *service_json(node *n, const char *id, int with_voided)
{
	return db_row_json_by(n->nd_db,
			      with_voided ? "SELECT " SERVICE_COLS ", s.voided" SERVICE_FROM " WHERE s.id=?"
					  : "SELECT " SERVICE_COLS SERVICE_FROM " WHERE s.id=?",
			      id);
}

static int insert_service(node *n, const char *employer_id, const svc *s, const char *staff,
			  const char *corrects, int voided, uint64_t now, char id[UUID_STRLEN])
{
	uuid7_at(id, now);
	return db_run(n->nd_db,
		      "INSERT INTO employer_services(id, employer_id, code, start_date,"
		      " projected_end_date, end_date, completion_code, staff_id, office_id, notes,"
		      " corrects_id, voided, created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
		      "tttttttttttiI", id, employer_id, s->code, s->start, s->projected, s->end,
		      s->completion, staff, n->nd_office_id, s->notes, corrects, voided, (int64_t)now);
}

static const route_key add_keys_rk[] = {
	{"services", ROUTE_T_ANY, 0}, {"expected_account_type", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/*
 * POST /api/v1/crm/employers/:id/services
 *   {"services": [{code, start_date, end_date?, completion_code?, ...}, ...],
 *    "expected_account_type": "lead"}    (optional: the type the user saw)
 * -> 201 {"services": [the new rows]}.  All or nothing: 409 for a
 * recruiting-only code while the employer's vetting is pending.
 */
static route_rc post_services(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const char *emp = http_req_param(req, "id"), *expect;
	const node_user *u = API_USER(a);
	const cJSON *body = a->rc_body;
	cJSON *out, *arr;
	const cJSON *list, *it;
	svc s[CRM_MAX_SERVICES];
	char today[11], type[16], status[16], ids[CRM_MAX_SERVICES][UUID_STRLEN];
	int ns = 0, bad = 0;
	uint64_t now;

	bad |= route_str(a, "expected_account_type", JSON_NULLABLE, 0, 16, &expect, NULL, 0);
	list = cJSON_GetObjectItemCaseSensitive(body, "services");
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
	    cJSON_GetArraySize(list) > CRM_MAX_SERVICES)
		bad = route_err(a, "services", "services must list 1 to %d services", CRM_MAX_SERVICES);
	if (bad)
		return ROUTE_BAD;
	if (db_text(n->nd_db, "SELECT account_type FROM employers WHERE id=?", emp, type, sizeof type) != 0)
		return route_fail(a, 404, "id", "no such employer");
	db_text(n->nd_db, "SELECT status FROM employers WHERE id=?", emp, status, sizeof status);
	if (strcmp(status, "active") != 0)
		return route_fail(a, 409, "id", "services cannot be recorded for an inactive employer");
	{
		route_rc lr = crm__refuse_locked(a, emp);
		if (lr != ROUTE_OK)
			return lr;
	}
	/* "Verify the account type before recording services." */
	if (expect && strcmp(expect, type) != 0) {
		return route_fail(a, 409, "expected_account_type",
				 "this employer is now a %s, not a %s: check the account type first",
				 strcmp(type, CRM_LEAD) == 0 ? "marketing lead" : "recruiting employer",
				 strcmp(expect, CRM_LEAD) == 0 ? "marketing lead" : "recruiting employer");
	}
	node_today(n, today);
	cJSON_ArrayForEach(it, list)
	{
		char prefix[32];
		snprintf(prefix, sizeof prefix, "services[%d]", ns);
		if (read_service(a, n, it, prefix, today, NULL, &s[ns]) == 0 &&
		    strcmp(type, CRM_LEAD) == 0 && crm_recruiting_only_code(s[ns].code)) {
			char f[48];
			snprintf(f, sizeof f, "%s.code", prefix);
			route_err(a, f, "%s is for recruiting employers only: marketing leads get no"
				  " job referrals or job listings (convert the lead first)", s[ns].code);
		}
		ns++;
	}
	if (a->rc_nerr > 0)
		return ROUTE_BAD;
	for (int i = 0; i < ns; i++) {
		char f[48];
		route_rc vr;

		snprintf(f, sizeof f, "services[%d].code", i);
		if (crm_recruiting_only_code(s[i].code) &&
		    (vr = crm__refuse_unvetted(a, emp, CRM_VETTED_SERVICE, f, s[i].code)) != ROUTE_OK)
			return vr;
	}
	now = node_now_ms(n);
	for (int i = 0; i < ns; i++)
		if (insert_service(n, emp, &s[i], u->id, NULL, 0, now, ids[i]) != 0)
			return ROUTE_DBERR;
	out = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(out, "services");
	for (int i = 0; i < ns; i++) {
		cJSON *r = service_json(n, ids[i], 0);
		if (r == NULL) {
			cJSON_Delete(out);
			return ROUTE_DBERR;
		}
		cJSON_AddItemToArray(arr, r);
	}
	log_info("crm: %d service(s) recorded for employer %s", ns, emp);
	return route_ok(a, 201, out);
}

static const route_key correct_keys_rk[] = {
	{"code", ROUTE_T_ANY, 0}, {"start_date", ROUTE_T_ANY, 0},
	{"projected_end_date", ROUTE_T_ANY, 0}, {"end_date", ROUTE_T_ANY, 0},
	{"completion_code", ROUTE_T_ANY, 0}, {"notes", ROUTE_T_ANY, 0}, {"void", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* The service a void repeats: the original's code and start date into s,
 * borrowed from *row (caller frees).  0 or -1. */
static int void_values(node *n, const char *id, svc *s, cJSON **row)
{
	memset(s, 0, sizeof *s);
	*row = db_row_json_by(n->nd_db, "SELECT code, start_date FROM employer_services WHERE id=?", id);
	if (*row == NULL)
		return -1;
	s->code = json_str(*row, "code");
	s->start = json_str(*row, "start_date");
	return 0;
}

/* The corrected values of service id of employer emp, as sent: ROUTE_OK,
 * or ROUTE_BAD with every error collected. */
static route_rc corrected_values(route_call *a, const char *emp, const char *id, svc *s)
{
	node *n = API_NODE(a);
	char today[11], et[16] = "", was[16] = "";

	cJSON_DeleteItemFromObject(a->rc_body, "void");
	node_today(n, today);
	db_text(n->nd_db, "SELECT code FROM employer_services WHERE id=?", id, was, sizeof was);
	if (read_service(a, n, a->rc_body, NULL, today, was[0] ? was : NULL, s) != 0)
		return ROUTE_BAD;
	db_text(n->nd_db, "SELECT account_type FROM employers WHERE id=?", emp, et, sizeof et);
	if (crm_recruiting_only_code(s->code) && strcmp(et, CRM_LEAD) == 0)
		return route_bad(a, "code", "%s is for recruiting employers only", s->code);
	/* (keeping the corrected service's code is no new use of it) */
	if (crm_recruiting_only_code(s->code) && strcmp(was, s->code) != 0)
		return crm__refuse_unvetted(a, emp, CRM_VETTED_SERVICE, "code", s->code);
	return ROUTE_OK;
}

/* POST /api/v1/crm/services/:id/correct  {fields...} or {"void": true} */
static route_rc post_correct(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id");
	cJSON *orig = NULL;
	svc s;
	int voided = 0;
	char emp[CRM_ID_MAX], nid[UUID_STRLEN];
	route_rc rr;

	if (route_bool(a, "void", JSON_NULLABLE, 0, &voided) != 0)
		return ROUTE_BAD;
	if ((rr = crm__writable_row(a, "employer_services", "service", id, emp)) != ROUTE_OK)
		return rr;
	if (db_text(n->nd_db, "SELECT id FROM employer_services WHERE corrects_id=?", id, nid, sizeof nid) == 0)
		return route_fail(a, 409, "id", "this service was already corrected; correct the newer entry");
	/* A void repeats the original's code and dates, marked voided. */
	if (voided)
		rr = void_values(n, id, &s, &orig) != 0 ? ROUTE_DBERR : ROUTE_OK;
	else
		rr = corrected_values(a, emp, id, &s);
	if (rr == ROUTE_OK &&
	    insert_service(n, emp, &s, API_USER(a)->id, id, voided, node_now_ms(n), nid) != 0)
		rr = ROUTE_DBERR;
	if (rr == ROUTE_OK)
		rr = route_ok(a, 201, service_json(n, nid, 1));
	cJSON_Delete(orig);
	return rr;
}

static const route_def crm_services_defs[] = {
	{HTTP_M_GET, "/api/v1/crm/codes", list_codes, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/employers/:id/services", list_services, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/crm/employers/:id/services", post_services, PRIV_CRM, ROUTE_BODY | NODE_WRITE, add_keys_rk, 0},
	{HTTP_M_POST, "/api/v1/crm/services/:id/correct", post_correct, PRIV_CRM, ROUTE_BODY | NODE_WRITE, correct_keys_rk, 0},
};

const route_list crm_services_route_list = ROUTE_LIST(crm_services_defs);
