/*
 * hub_case.c - approver roles held by staff accounts (issue 15,
 * model/case_approvals.h): the DSS Program Manager, the WDB Director, EDD
 * and DSS WIOA staff who approve backdated entries and Help Requests, each
 * in their own session.  Granted at the hub by the operations account or
 * the bearer token (every hub write needs the operations role).
 * case_approver_roles is hub-owned and replicated: plain SQL here, the
 * change-log triggers send each row to the offices of its Local Area.
 *
 *   GET /api/v1/admin/case/approver-roles[?local_area_id=]
 *       -> [{staff_id, username, display_name, local_area_id, role, active}]
 *   PUT /api/v1/admin/case/approver-roles {staff_id, roles: [...]}
 *       -> 200 the account's roles: those listed become active, the others
 *       inactive (a role is never deleted, so its past decisions keep their
 *       holder).  Audited.
 */
#include "hub/acct_api.h"
#include "hub/hub_api.h"
#include "lib/log.h"
#include "model/case_approvals.h"

#include <stdio.h>
#include <string.h>

/* 1 when the caller may manage approvers of Local Area la. */
static int may_manage(const acct_principal *p, const char *la)
{
	if (p->ap_token || (p->ap_roles & ROLE_OPERATIONS))
		return 1;
	return (p->ap_roles & ROLE_MIS_ADMIN) && la[0] && strcmp(p->ap_la, la) == 0;
}

#define ROLES_SQL                                                                            \
	"SELECT r.staff_id, s.username, s.display_name, r.local_area_id, r.role, r.active"     \
	" FROM case_approver_roles r JOIN staff s ON s.id = r.staff_id"
/* The roles account ?1 holds, as {"roles": [...]} (the audit's before and
 * after). */
#define HELD_SQL                                                                             \
	"SELECT json_object('roles', json(coalesce((SELECT json_group_array(role) FROM"        \
	" (SELECT role FROM case_approver_roles WHERE staff_id=?1 AND active=1 ORDER BY role)),"  \
	" '[]')))"

/* The approvers of the caller's scope: an MIS Administrator's Local Area,
 * a SPOC's field division (its Local Areas' approvers: a role is a Local
 * Area's, whatever division the approver's own staff row names), every one
 * for operations. */
static route_rc roles_list(route_call *a)
{
	char la[64] = "";
	const char *args[1] = {la};

	http_req_query(a->rc_req, "local_area_id", la, sizeof la);
	return acct_list_scoped(a,
				ROLES_SQL " WHERE (?1 = '' OR r.local_area_id = ?1) AND"
					  " (?2 OR (?3 <> '' AND r.local_area_id = ?3) OR"
					  "  (?4 <> '' AND EXISTS(SELECT 1 FROM local_areas l"
					  "   WHERE l.id = r.local_area_id AND l.field_division = ?4)))"
					  " ORDER BY s.display_name, r.role",
				1, args, NULL);
}

static const route_key roles_keys[] = {
	{"staff_id", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{"roles", ROUTE_T_ARRAY, ROUTE_K_REQUIRED},
	{NULL, 0, 0},
};

/* Set one role of staff to active (1) or inactive (0).  0 or -1. */
static int set_role(hub *h, const char *staff, const char *la, const char *role, int on,
		    const char *by)
{
	char id[200], ts[HLC_STRLEN];

	snprintf(id, sizeof id, "%s:%s", staff, role);
	hlc_now(hub_clock(h), ts);
	return db_run(h->hb_db,
		      "INSERT INTO case_approver_roles(id, staff_id, local_area_id, role, active,"
		      " granted_by, granted_at, updated_hlc) VALUES(?1,?2,?3,?4,?5,?6,"
		      " CAST(strftime('%s','now') AS INTEGER) * 1000,?7)"
		      " ON CONFLICT(id) DO UPDATE SET active=excluded.active,"
		      " granted_by=excluded.granted_by, granted_at=excluded.granted_at,"
		      " local_area_id=excluded.local_area_id, updated_hlc=excluded.updated_hlc"
		      " WHERE active <> excluded.active OR local_area_id <> excluded.local_area_id",
		      "ttttitt", id, staff, la, role, on, by, ts);
}

static route_rc roles_put(route_call *a)
{
	static const char *const all[] = {CASE_ROLE_PM, CASE_ROLE_WDB, CASE_ROLE_EDD, CASE_ROLE_WIOA};
	hub *h = API_HUB(a);
	const acct_principal *p = API_ADMIN(a);
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(a->rc_body, "roles"), *it;
	const char *staff = NULL;
	char la[64] = "", active[4] = "", before[256], after[256];
	unsigned want = 0;
	int k = 0;

	route_str(a, "staff_id", JSON_REQUIRED, 1, 64, &staff, NULL, 0);
	cJSON_ArrayForEach(it, roles)
	{
		size_t i;
		for (i = 0; i < 4; i++)
			if (cJSON_IsString(it) && strcmp(it->valuestring, all[i]) == 0)
				break;
		if (i == 4)
			route_err(a, "roles", "roles are %s, %s, %s and %s", all[0], all[1], all[2], all[3]);
		else
			want |= 1u << i;
	}
	if (a->rc_nerr)
		return ROUTE_BAD;
	if (db_text(h->hb_db, "SELECT coalesce(local_area_id, '') FROM staff WHERE id=?", staff, la,
		    sizeof la) != 0 ||
	    db_text(h->hb_db, "SELECT active FROM staff WHERE id=?", staff, active, sizeof active) != 0)
		return route_fail(a, 404, "staff_id", "no such staff account");
	if (la[0] == '\0')
		return route_bad(a, "staff_id", "an approver belongs to a Local Area");
	if (!may_manage(p, la))
		return route_fail(a, 403, "staff_id", "you may not manage the approvers of that Local Area");
	if (want && strcmp(active, "1") != 0)
		return route_fail(a, 409, "staff_id", "the account is deactivated");
	/* The roles before and after, in the Local Area's account trail (a
	 * grant lets the account decide approvals at the console). */
	if (db_text(h->hb_db, HELD_SQL, staff, before, sizeof before) != 0)
		return ROUTE_DBERR;
	for (k = 0; k < 4; k++)
		if (set_role(h, staff, la, all[k], (want >> k) & 1u, p->ap_username) != 0)
			return ROUTE_DBERR;
	if (db_text(h->hb_db, HELD_SQL, staff, after, sizeof after) != 0 ||
	    hub_api_admin_audit(a, "case.approver_roles", "staff", staff, la, NULL, before, after) != 0)
		return ROUTE_DBERR;
	log_info("case: approver roles of %s set by %s", staff, p->ap_username);
	return route_ok(a, 200, db_rows_json_by(h->hb_db, ROLES_SQL " WHERE r.staff_id=?1 AND"
							 " r.active=1 ORDER BY r.role", staff));
}

static const route_def case_defs[] = {
	{HTTP_M_GET, "/api/v1/admin/case/approver-roles", roles_list, 0, 0, NULL, 0},
	/* every hub write needs the operations role (tests/unit/test_hub_api.c) */
	{HTTP_M_PUT, "/api/v1/admin/case/approver-roles", roles_put, HUB_P_OPS, ROUTE_BODY | HUB_AUDITED,
	 roles_keys, 0},
};

const route_list hub_case_route_list = ROUTE_LIST(case_defs);
