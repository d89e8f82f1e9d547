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
#include "model/case_decide.h"
#include "model/password.h"
#include "lib/crypto.h"
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
	return case_staff_roles(n->nd_db, u->id, n->nd_local_area_id);
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
		case_request_detail(n->nd_db, u->id, roles, it);
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

/* The request id as the user's list shows it (case_request_detail() with
 * the roles they hold), or NULL. */
static cJSON *listed(node *n, const node_user *u, const cJSON *roles, const char *rid)
{
	cJSON *req = db_row_json_by(n->nd_db, "SELECT " REQ_COLS REQ_FROM " WHERE q.id=?", rid);

	if (req != NULL && strcmp(json_str(req, "participant_id"), "") == 0) {
		cJSON_Delete(req);
		req = NULL;
	}
	if (req != NULL)
		case_request_detail(n->nd_db, u->id, roles, req);
	return req;
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
	const char *rid = http_req_param(a->rc_req, "id");
	case_decision d = {.cd_la = n->nd_local_area_id, .cd_office = n->nd_office_id,
			   .cd_staff = u->id};
	cJSON *roles = my_roles(n, u), *req = listed(n, u, roles, rid), *row = NULL;
	route_rc rr;
	char today[11], id[UUID_STRLEN], v[PASSWORD_VERIFIER_HEX], proof[PASSWORD_VERIFIER_HEX];
	char detail[128];

	if ((rr = case_decision_read(a, req, &d)) != ROUTE_OK)
		goto out;
	/* The decision is signed with the approver's password (its verifier,
	 * derived at sign-in): the hub takes no decision a node could have
	 * made up in someone's name. */
	switch (node_auth_verifier(n, a->rc_req, v)) {
	case 1:
		break;
	case 0:
		rr = route_fail(a, 409, "id", "sign out and in again to decide: a decision is signed "
					      "with your password, and this sign-in began before you "
					      "were an approver");
		goto out;
	case -2:
		/* being asked, or asked after the next sync cycle: one soon */
		node_sync_nudge(n);
		rr = route_fail(a, 409, "id", "a decision is signed with your password, and the hub "
					      "has not yet confirmed it can check it: this office "
					      "is checking with the hub (if offline, once it can be "
					      "reached again); try again in a moment");
		goto out;
	case -3:
		rr = route_fail(a, 409, "id", "a decision is signed with your password, and the hub "
					      "has not confirmed it can check it (your password or "
					      "account may have changed elsewhere): sign out and in "
					      "again while this office is connected");
		goto out;
	default:
		rr = ROUTE_DBERR;
		goto out;
	}
	node_today(n, today);
	d.cd_today = today;
	d.cd_ms = (int64_t)node_now_ms(n);
	uuid7_at(id, (uint64_t)d.cd_ms);
	d.cd_id = id;
	if ((row = case_decision_row(req, &d)) == NULL ||
	    password_decision_proof(v, id, json_str(row, "request_id"), u->id, d.cd_role,
				    d.cd_decision, today, d.cd_ms, proof) != 0 ||
	    (size_t)snprintf(detail, sizeof detail, "{\"proof\":\"%s\"}", proof) >= sizeof detail ||
	    case_decision_insert(n->nd_db, row) != 0 ||
	    case__audit(n, u, "case_decision", "case_approval_decisions", id, detail) != 0) {
		rr = ROUTE_DBERR;
		goto out;
	}
	log_info("case: request %s %s by %s as %s", rid, d.cd_decision, u->id, d.cd_role);
	/* the request as listed now (NULL: route_ok's 500) */
	rr = route_ok(a, 201, listed(n, u, roles, rid));
out:
	crypto_wipe(v, sizeof v);
	cJSON_Delete(row);
	cJSON_Delete(req);
	cJSON_Delete(roles);
	return rr;
}

static const route_def case_approval_defs[] = {
	{HTTP_M_GET, "/api/v1/case/approvals", get_approvals, PRIV_VIEW, NODE_WRITE, NULL, 0},
	{HTTP_M_POST, "/api/v1/case/approvals/:id/decision", post_decision, PRIV_VIEW,
	 ROUTE_BODY | NODE_WRITE, case_decision_keys, 0},
};

const route_list case_approvals_route_list = ROUTE_LIST(case_approval_defs);
