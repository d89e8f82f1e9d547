/*
 * hub_case_console.c - approvers decide at the hub console (issue 15,
 * model/case_approvals.h): an account holding an approver role (DSS
 * Program Manager, WDB Director, EDD, DSS WIOA staff) signs in to the
 * console like an administrator, but with a restricted view: only these
 * rows and its own session's (HUB_P_APPROVER, hub_api.h); every
 * administrator's screen refuses it (403).
 *
 *   GET  /api/v1/admin/case/approvals?state=pending|all
 *        -> {"my_roles": [...], "requests": [...]}: the requests of the
 *        Local Areas where the caller holds a role that decides their kind
 *        (backdate: PM, WDB, EDD; change: DSS WIOA), newest first, each
 *        with its entry, decisions, the roles still waited for and the
 *        roles the caller may decide it with.  The participant ids shown
 *        are audited (hub_audit_events), as at an office.
 *   POST /api/v1/admin/case/approvals/:id/decision {decision, role?, comment?}
 *        -> 201 the request as listed.  The same rules as at an office
 *        (node_case_approvals.c): in the caller's own session, never their
 *        own request, once per role and per person, a refusal says why;
 *        every field error at once.  The row is checked by the same
 *        function that checks a replicated decision
 *        (case_approvals_validate_row), written with office_id 'hub', and
 *        audited in the same transaction; the change-log triggers send it
 *        to every office of the Local Area, as an office's decision is.
 */
#include "hub/hub_api.h"
#include "hub/acct_api.h"
#include "lib/log.h"
#include "model/case_approvals.h"
#include "model/case_decide.h"

#include <stdio.h>
#include <string.h>

int hub_case_is_approver(sqlite3 *db, const char *staff_id)
{
	if (staff_id == NULL)
		return 0;
	return (int)db_int_bound(db, -1,
				 "SELECT EXISTS(SELECT 1 FROM case_approver_roles r JOIN staff s"
				 " ON s.id = r.staff_id WHERE r.staff_id=?1 AND r.active=1 AND"
				 " s.active=1)",
				 "t", staff_id);
}

/* SQL: the role r decides requests of kind q.kind. */
#define DECIDES_SQL                                                                          \
	" ((q.kind='backdate' AND r.role IN ('" CASE_ROLE_PM "','" CASE_ROLE_WDB "','"        \
	CASE_ROLE_EDD "')) OR (q.kind='change' AND r.role='" CASE_ROLE_WIOA "'))"
#define REQ_SQL                                                                              \
	"SELECT q.id, q.participant_id, p.first_name || ' ' || p.last_name AS participant_name," \
	" q.local_area_id, q.kind, q.entry_table, q.entry_id, q.entry_date, q.change_id,"       \
	" q.change_summary, q.reason, q.office_id, o.name AS office_name, q.requested_by,"      \
	" s.display_name AS requested_by_name, q.requested_at,"                                 \
	" CASE q.entry_table WHEN 'case_notes' THEN (SELECT 'Case note: ' || n.subject FROM"    \
	" case_notes n WHERE n.id = q.entry_id) ELSE (SELECT a.code || ' ' || coalesce(c.title,"\
	" f.title, '') || ' started ' || a.start_date FROM participant_activities a LEFT JOIN"  \
	" participant_activity_codes c ON c.id = a.code AND a.code_list = 'activity' LEFT JOIN" \
	" followup_codes f ON f.id = a.code AND a.code_list = 'followup' WHERE a.id ="         \
	" q.entry_id) END AS entry_summary, " CASE_REQ_STATE("q.id") " AS state"                 \
	" FROM case_approval_requests q JOIN participants p ON p.id = q.participant_id"        \
	" LEFT JOIN staff s ON s.id = q.requested_by LEFT JOIN offices o ON o.id = q.office_id"
/* ... of a kind one of staff ?1's active roles decides, in that role's Local Area. */
#define ADDRESSED_SQL                                                                        \
	" EXISTS (SELECT 1 FROM case_approver_roles r WHERE r.staff_id=?1 AND r.active=1 AND"  \
	" r.local_area_id = q.local_area_id AND" DECIDES_SQL ")"

/* Decisions, the roles waited for and what staff may decide r with, by
 * the roles staff holds in r's Local Area. */
static void detail(sqlite3 *db, const char *staff, cJSON *r)
{
	cJSON *roles = case_staff_roles(db, staff, json_str(r, "local_area_id"));

	case_request_detail(db, staff, roles, r);
	cJSON_Delete(roles);
}

static route_rc list(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const acct_principal *p = API_ADMIN(a);
	char state[16] = "pending", *ids_text;
	const char *args[2];
	cJSON *rows, *out, *ids, *it;

	http_req_query(a->rc_req, "state", state, sizeof state);
	if (strcmp(state, "pending") != 0 && strcmp(state, "all") != 0)
		return route_bad(a, "state", "state is pending or all");
	args[0] = p->ap_id;
	args[1] = strcmp(state, "all") == 0 ? "1" : "0";
	rows = db_rows_json_args(db, REQ_SQL " WHERE" ADDRESSED_SQL " AND (?2 = '1' OR "
				 CASE_REQ_STATE("q.id") " = 'pending') ORDER BY q.requested_at DESC"
				 " LIMIT 500", 2, args);
	if (rows == NULL)
		return ROUTE_DBERR;
	ids = cJSON_CreateArray();
	cJSON_ArrayForEach(it, rows)
	{
		detail(db, p->ap_id, it);
		cJSON_AddItemToArray(ids, cJSON_CreateString(json_str(it, "participant_id")));
	}
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "my_roles", case_staff_roles(db, p->ap_id, ""));
	cJSON_AddItemToObject(out, "requests", rows);
	ids_text = cJSON_PrintUnformatted(ids);
	cJSON_Delete(ids);
	if (ids_text == NULL || hub_api_audit(a, "case.approvals_read", "participants", ids_text) != 0) {
		cJSON_free(ids_text);
		cJSON_Delete(out);
		return ROUTE_DBERR;
	}
	cJSON_free(ids_text);
	return route_ok(a, 200, out);
}

/* The request id as the caller's list shows it (detail()): one addressed
 * to them, else NULL. */
static cJSON *addressed(sqlite3 *db, const acct_principal *p, const char *rid)
{
	const char *args[2] = {p->ap_id, rid ? rid : ""};
	cJSON *rows = db_rows_json_args(db, REQ_SQL " WHERE q.id=?2 AND" ADDRESSED_SQL, 2, args);
	cJSON *r = rows ? cJSON_DetachItemFromArray(rows, 0) : NULL;

	cJSON_Delete(rows);
	if (r != NULL)
		detail(db, p->ap_id, r);
	return r;
}

static route_rc decide(route_call *a)
{
	hub *h = API_HUB(a);
	const acct_principal *p = API_ADMIN(a);
	const char *rid = http_req_param(a->rc_req, "id");
	case_decision d = {.cd_office = "hub", .cd_staff = p->ap_id};
	char why[256] = "", today[11];
	cJSON *req = addressed(h->hb_db, p, rid);
	route_rc rr;
	int rc;

	if ((rr = case_decision_read(a, req, &d)) != ROUTE_OK)
		goto out;
	acct_today(today);
	d.cd_la = json_str(req, "local_area_id");
	d.cd_today = today;
	d.cd_ms = (int64_t)hub_now_ms();
	if ((rc = case_decision_record(h->hb_db, req, &d, why, sizeof why)) != 0) {
		rr = rc < 0 ? ROUTE_DBERR : route_fail(a, 409, "id", "%s", why);
		goto out;
	}
	if (hub_api_audit(a, strcmp(d.cd_decision, "approved") == 0 ? "case.request_approved"
								     : "case.request_refused",
			  rid, d.cd_role) != 0) {
		rr = ROUTE_DBERR;
		goto out;
	}
	log_info("case: request %s %s at the console by %s as %s", rid, d.cd_decision, p->ap_id,
		 d.cd_role);
	/* the request as listed now (NULL: route_ok's 500) */
	rr = route_ok(a, 201, addressed(h->hb_db, p, rid));
out:
	cJSON_Delete(req);
	return rr;
}

static const route_def console_defs[] = {
	/* an approver's own rows (any signed-in caller: the role is checked
	 * inside); a GET that writes its read audit */
	{HTTP_M_GET, "/api/v1/admin/case/approvals", list, HUB_P_APPROVER, HUB_AUDITED, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/case/approvals/:id/decision", decide, HUB_P_APPROVER,
	 ROUTE_BODY | HUB_AUDITED, case_decision_keys, 0},
};

const route_list hub_case_console_route_list = ROUTE_LIST(console_defs);
