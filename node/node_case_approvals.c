/*
 * node_case_approvals.c - approvals as records of real accounts (issue 15,
 * model/case_approvals.h): the request an entry dated 31-90 days back, or
 * a change to entered data, raises; the list an author or an approver sees;
 * and an approver's decision, made in their own signed-in session.  Every
 * row is captured, so a request made offline waits in the outbox and goes
 * out with the next push, and a decision made at any office reaches the
 * others through the hub.  See node_case.h.
 */
#include "node/node_case.h"
#include "node/node_api.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <string.h>

int case__is_supervisor(node *n, const node_user *u)
{
	char g[128] = "";

	if (db_text(n->nd_db, "SELECT privilege_group FROM staff WHERE id=? AND active=1", u->id, g,
		    sizeof g) != 0)
		return 0;
	return strstr(g, "Supervisor") != NULL || strstr(g, "Manager") != NULL;
}

int case__request(node *n, const node_user *u, const char *pid, const char *kind,
		  const char *entry_table, const char *entry_id, const char *entry_date,
		  const char *change_id, const char *summary, const char *reason, const char *id)
{
	if (db_run(n->nd_db,
		   "INSERT INTO case_approval_requests(id, participant_id, local_area_id, office_id,"
		   " kind, entry_table, entry_id, entry_date, change_id, change_summary, reason,"
		   " requested_by, requested_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
		   "ttttttttttttI", id, pid, n->nd_local_area_id, n->nd_office_id, kind, entry_table,
		   entry_id, entry_date, change_id, summary, reason, u->id, (int64_t)node_now_ms(n)) != 0)
		return -1;
	log_info("case: %s request %s for %s %s", kind, id, entry_table, entry_id);
	return 0;
}

#define REQ_COLS                                                                             \
	"q.id, q.participant_id, p.first_name || ' ' || p.last_name AS participant_name,"     \
	" q.kind, q.entry_table, q.entry_id, q.entry_date, q.change_id, q.change_summary,"     \
	" q.reason, q.office_id, q.requested_by, s.display_name AS requested_by_name,"         \
	" q.requested_at, " CASE_REQ_STATE("q.id") " AS state"
#define REQ_FROM                                                                             \
	" FROM case_approval_requests q JOIN participants p ON p.id = q.participant_id"        \
	" LEFT JOIN staff s ON s.id = q.requested_by"

/* The active roles the user holds in this Local Area, as a JSON array. */
static cJSON *my_roles(node *n, const node_user *u)
{
	const char *args[2] = {u->id, n->nd_local_area_id};
	cJSON *rows = db_rows_json_args(n->nd_db, "SELECT role FROM case_approver_roles WHERE"
				      " staff_id=?1 AND local_area_id=?2 AND active=1 ORDER BY role",
				      2, args);
	cJSON *out = cJSON_CreateArray(), *it;

	cJSON_ArrayForEach(it, rows)
		cJSON_AddItemToArray(out, cJSON_CreateString(json_str(it, "role")));
	cJSON_Delete(rows);
	return out;
}

static int has_role(const cJSON *roles, const char *role)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, roles)
		if (cJSON_IsString(it) && strcmp(it->valuestring, role) == 0)
			return 1;
	return 0;
}

/* Decisions, the roles still waited for, and what this user may decide. */
static void request_detail(node *n, const node_user *u, const cJSON *roles, cJSON *r)
{
	const char *kind = json_str(r, "kind");
	const char *const *need = case_kind_roles(kind);
	cJSON *dec = db_rows_json_by(n->nd_db,
				     "SELECT d.role, d.staff_id, s.display_name AS staff_name, d.decision,"
				     " d.comment, d.decided_date, d.office_id FROM case_approval_decisions d"
				     " LEFT JOIN staff s ON s.id = d.staff_id WHERE d.request_id=?"
				     " ORDER BY d.decided_at",
				     json_str(r, "id"));
	cJSON *waiting = cJSON_CreateArray(), *can = cJSON_CreateArray(), *it;
	int mine = strcmp(json_str(r, "requested_by"), u->id) == 0;
	int decided = 0;
	int open = strcmp(json_str(r, "state"), "pending") == 0;

	if (dec == NULL)
		dec = cJSON_CreateArray();
	cJSON_ArrayForEach(it, dec)
	{
		cJSON_AddStringToObject(it, "role_title", case_role_title(json_str(it, "role")));
		if (strcmp(json_str(it, "staff_id"), u->id) == 0)
			decided = 1; /* one decision per person */
	}
	for (; need && *need; need++) {
		int done = 0;
		cJSON_ArrayForEach(it, dec)
			if (strcmp(json_str(it, "role"), *need) == 0)
				done = 1;
		if (done)
			continue;
		cJSON_AddItemToArray(waiting, cJSON_CreateString(case_role_title(*need)));
		if (open && !mine && !decided && has_role(roles, *need))
			cJSON_AddItemToArray(can, cJSON_CreateString(*need));
	}
	cJSON_AddItemToObject(r, "decisions", dec);
	cJSON_AddItemToObject(r, "waiting_for", waiting);
	cJSON_AddItemToObject(r, "can_decide", can);
}

/*
 * GET /api/v1/case/approvals?state=pending|all -> {"my_roles": [...],
 * "requests": [...]}: the requests this user made, and those of a kind
 * one of their roles decides, newest first, each with its decisions, the
 * roles still waited for and the roles this user may decide it with.
 * Audited as a participant list (the participant ids shown).
 */
static route_rc get_approvals(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	char state[16] = "pending";
	cJSON *roles, *rows, *out, *ids, *it;
	const char *args[3];
	char *detail;
	int all;

	http_req_query(a->rc_req, "state", state, sizeof state);
	if (strcmp(state, "pending") != 0 && strcmp(state, "all") != 0)
		return route_bad(a, "state", "state is pending or all");
	all = strcmp(state, "all") == 0;
	roles = my_roles(n, u);
	args[0] = u->id;
	args[1] = n->nd_local_area_id;
	args[2] = all ? "1" : "0";
	rows = db_rows_json_args(n->nd_db, "SELECT " REQ_COLS REQ_FROM " WHERE q.local_area_id=?2 AND"
				 " (q.requested_by=?1 OR EXISTS (SELECT 1 FROM case_approver_roles r"
				 " WHERE r.staff_id=?1 AND r.local_area_id=?2 AND r.active=1 AND"
				 " ((q.kind='backdate' AND r.role IN ('" CASE_ROLE_PM "','" CASE_ROLE_WDB
				 "','" CASE_ROLE_EDD "')) OR (q.kind='change' AND r.role='" CASE_ROLE_WIOA
				 "'))))"
				 " AND (?3 = '1' OR " CASE_REQ_STATE("q.id") " = 'pending')"
				 " ORDER BY q.requested_at DESC LIMIT 500",
				 3, args);
	if (rows == NULL) {
		cJSON_Delete(roles);
		return ROUTE_DBERR;
	}
	ids = cJSON_CreateArray();
	cJSON_ArrayForEach(it, rows)
	{
		request_detail(n, u, roles, it);
		cJSON_AddItemToArray(ids, cJSON_CreateString(json_str(it, "participant_id")));
	}
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "my_roles", roles);
	cJSON_AddItemToObject(out, "requests", rows);
	it = cJSON_CreateObject();
	cJSON_AddItemToObject(it, "ids", ids);
	detail = cJSON_PrintUnformatted(it);
	cJSON_Delete(it);
	if (detail == NULL || case__audit(n, u, "approvals_read", "participants", NULL, detail) != 0) {
		cJSON_free(detail);
		cJSON_Delete(out);
		return ROUTE_DBERR;
	}
	cJSON_free(detail);
	return route_ok(a, 200, out);
}

static const route_key decision_keys[] = {
	{"decision", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{"role", ROUTE_T_STR, ROUTE_K_NULL},
	{"comment", ROUTE_T_STR, ROUTE_K_NULL},
	{NULL, 0, 0},
};

/* The role the user decides req with: the one asked for, else the only
 * one they may use.  NULL with the error collected. */
static const char *decide_role(route_call *a, const cJSON *req, const char *asked)
{
	const cJSON *can = cJSON_GetObjectItem(req, "can_decide");

	if (asked) {
		if (!case_role_decides(json_str(req, "kind"), asked)) {
			route_err(a, "role", "this request is decided by %s",
				  strcmp(json_str(req, "kind"), "change") == 0
					  ? "DSS WIOA staff"
					  : "the DSS Program Manager, the WDB Director and EDD");
			return NULL;
		}
		if (!has_role(can, asked)) {
			route_err(a, "role", "you do not hold that approver role, or it has decided already");
			return NULL;
		}
		return asked;
	}
	if (cJSON_GetArraySize(can) == 1)
		return cJSON_GetArrayItem(can, 0)->valuestring;
	route_err(a, "role", cJSON_GetArraySize(can) ? "say which of your approver roles decides"
						     : "you hold no approver role that may decide this request");
	return NULL;
}

static int insert_decision(node *n, const node_user *u, const cJSON *req, const char *role,
			   const char *decision, const char *comment, const char *today)
{
	char id[UUID_STRLEN];

	uuid7_at(id, node_now_ms(n));
	return db_run(n->nd_db,
		      "INSERT INTO case_approval_decisions(id, request_id, participant_id,"
		      " local_area_id, office_id, role, staff_id, decision, comment, decided_date,"
		      " decided_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
		      "ttttttttttI", id, json_str(req, "id"), json_str(req, "participant_id"),
		      n->nd_local_area_id, n->nd_office_id, role, u->id, decision, comment, today,
		      (int64_t)node_now_ms(n));
}

/*
 * POST /api/v1/case/approvals/:id/decision {decision: approved|refused,
 * role?, comment?} -> 201 the request as listed.  The signed-in user
 * decides with an approver role they hold (role may be left out when they
 * hold one that applies); never their own request; once per role; a
 * refusal needs a comment.  Every field error at once.
 */
static route_rc post_decision(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	const char *rid = http_req_param(a->rc_req, "id"), *dec = NULL, *role = NULL, *comment = NULL;
	cJSON *req = NULL, *roles = NULL;
	route_rc rr;
	char today[11];

	node_today(n, today);
	route_str(a, "decision", JSON_REQUIRED, 1, 16, &dec, NULL, 0);
	route_str(a, "role", JSON_NULLABLE, 0, 40, &role, NULL, 0);
	route_str(a, "comment", JSON_NULLABLE, 0, 1000, &comment, NULL, 0);
	if (dec && strcmp(dec, "approved") != 0 && strcmp(dec, "refused") != 0)
		route_err(a, "decision", "decision is approved or refused");
	if (dec && strcmp(dec, "refused") == 0 && (comment == NULL || comment[0] == '\0'))
		route_err(a, "comment", "say why the request is refused");
	if (role && role[0] == '\0')
		role = NULL;
	req = db_row_json_by(n->nd_db, "SELECT " REQ_COLS REQ_FROM " WHERE q.id=?", rid);
	if (req == NULL || strcmp(json_str(req, "participant_id"), "") == 0) {
		rr = a->rc_nerr ? ROUTE_BAD : route_fail(a, 404, "id", "no such approval request");
		goto out;
	}
	if (strcmp(json_str(req, "requested_by"), u->id) == 0) {
		rr = route_fail(a, 403, "id", "nobody approves their own request");
		goto out;
	}
	if (strcmp(json_str(req, "state"), "pending") != 0) {
		rr = route_fail(a, 409, "id", "this request is already %s", json_str(req, "state"));
		goto out;
	}
	roles = my_roles(n, u);
	request_detail(n, u, roles, req);
	role = decide_role(a, req, role);
	if (a->rc_nerr) {
		rr = ROUTE_BAD;
		goto out;
	}
	if (insert_decision(n, u, req, role, dec, comment, today) != 0) {
		rr = ROUTE_DBERR;
		goto out;
	}
	log_info("case: request %s %s by %s as %s", rid, dec, u->id, role);
	cJSON_Delete(req);
	req = db_row_json_by(n->nd_db, "SELECT " REQ_COLS REQ_FROM " WHERE q.id=?", rid);
	if (req == NULL) {
		rr = ROUTE_DBERR;
		goto out;
	}
	request_detail(n, u, roles, req);
	rr = route_ok(a, 201, req);
	req = NULL;
out:
	cJSON_Delete(req);
	cJSON_Delete(roles);
	return rr;
}

static const route_def case_approval_defs[] = {
	{HTTP_M_GET, "/api/v1/case/approvals", get_approvals, PRIV_VIEW, NODE_WRITE, NULL, 0},
	{HTTP_M_POST, "/api/v1/case/approvals/:id/decision", post_decision, PRIV_VIEW,
	 ROUTE_BODY | NODE_WRITE, decision_keys, 0},
};

const route_list case_approvals_route_list = ROUTE_LIST(case_approval_defs);
