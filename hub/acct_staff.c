/*
 * acct_staff.c - the account lifecycle: create with a temporary password,
 * reset, change of group, recertification, deactivation, administrator
 * roles; and the staff lists.  Rows of the hub's route table (acct_api.h).
 *
 * Creating an account and resetting a password hash the temporary password
 * in the thread pool first (ROUTE_DEFER), then write everything, the audit
 * row included, as one declared write (route_resume_write): the password is
 * shown once, in the answer, only once all of it committed.
 */
#include "hub/acct_api.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "model/password.h"
#include "model/privileges.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The approved, unfulfilled request of `kind` for staff_id (NULL for new),
 * named by the body's request_id; NULL with *rc set. */
static cJSON *request_for(route_call *a, const char *kind, const char *staff_id, route_rc *rc)
{
	const char *rid = json_str(a->rc_body, "request_id"), *sid;
	cJSON *rq;

	if (rid == NULL) {
		*rc = route_bad(a, "request_id", "an approved access request is required");
		return NULL;
	}
	if ((rq = acct_request_scoped(a, rid, rc)) == NULL)
		return NULL;
	sid = json_str(rq, "staff_id");
	if (strcmp(json_str(rq, "kind"), kind) != 0)
		*rc = route_fail(a, 409, "request_id", "the request is for '%s', not '%s'",
				 json_str(rq, "kind"), kind);
	else if (strcmp(json_str(rq, "status"), "approved") != 0)
		*rc = route_fail(a, 409, "request_id", "the request is %s, not approved",
				 json_str(rq, "status"));
	else if (staff_id && (sid == NULL || strcmp(sid, staff_id) != 0))
		*rc = route_fail(a, 409, "request_id", "the request is for another staff member");
	else
		return rq;
	cJSON_Delete(rq);
	return NULL;
}

static int fulfil(sqlite3 *db, const char *rid, const char *staff_id)
{
	if (db_run(db,
		   "UPDATE access_requests SET status='fulfilled', fulfilled_at=?, staff_id=?"
		   " WHERE id=? AND status='approved'",
		   "Itt", (int64_t)hub_now_ms(), staff_id, rid) != 0 ||
	    sqlite3_changes(db) != 1)
		return -1;
	return db_run(db, "UPDATE request_files SET staff_id=?1 WHERE request_id=?2", "tt", staff_id,
		      rid);
}

/* ---- a temporary password: create and reset ------------------------------------------ */

/*
 * Whoever carries out a reset holds the account's temporary password, so an
 * administrator under operations never resets an approver's (DSS Program
 * Manager, WDB Director, EDD, DSS WIOA staff: hub_case.c): the DSS WIOA
 * Program Manager approves the Local Area's accounts (SLO policy 34-19) and
 * the approvers decide backdated entries, the administrator's own field
 * account's among them; holding their password would let the administrator
 * approve in their name.  Operations resets them (it grants the roles).
 * ROUTE_OK or the 403.
 */
static route_rc reset_allowed(route_call *a, const acct_tgt *t)
{
	int held;

	if (API_ADMIN(a)->ap_roles & ROLE_OPERATIONS)
		return ROUTE_OK;
	if ((held = hub_case_is_approver(API_HUB(a)->hb_db, t->id)) < 0)
		return ROUTE_DBERR; /* not read: not taken for "no approver" */
	if (held == 0)
		return ROUTE_OK;
	return route_fail(a, 403, "staff_id",
			  "only the CalJOBS Operations Unit resets the password of an approver "
			  "(DSS Program Manager, WDB Director, EDD, DSS WIOA staff)");
}

typedef struct issue_ctx {
	acct_resume r; /* first: the hash, then issue_write */
	char rid[64];
	char staff_id[64];
	char pw[16];
	int create;
} issue_ctx;

/* The new account's rows from its request; 1 when the user name was taken
 * meanwhile, 0 done, -1 error. */
static int issue_create(sqlite3 *db, const issue_ctx *c, const char *ts, int64_t now)
{
	if (db_run(db,
		   "INSERT INTO staff(id, username, display_name, email, local_area_id,"
		   " field_division, office_id, privilege_group, priv_add, priv_remove, roles,"
		   " crm_work_group, active, updated_hlc)"
		   " SELECT ?1, username, display_name, email, local_area_id, field_division,"
		   " office_id, privilege_group, priv_add, priv_remove, NULL,"
		   " coalesce(crm_work_group, 0), 1, ?2 FROM access_requests WHERE id=?3"
		   " AND NOT EXISTS (SELECT 1 FROM staff s WHERE s.username=access_requests.username)",
		   "ttt", c->staff_id, ts, c->rid) != 0)
		return -1;
	if (sqlite3_changes(db) != 1)
		return 1;
	return db_run(db,
		      "INSERT INTO staff_records(id, created_at, created_by, ispa_date, conf_type,"
		      " conf_date, certified_at) SELECT ?1, ?2, ?3, ispa_date, conf_type, conf_date,"
		      " ?2 FROM access_requests WHERE id=?4",
		      "tItt", c->staff_id, now, c->r.ar_p.ap_id, c->rid);
}

static int issue_credentials(sqlite3 *db, const issue_ctx *c, const char *ts, int64_t now)
{
	if (acct_temp_password_set(db, c->staff_id, NULL, c->r.ar_stored, now, ts) != 0)
		return -1;
	return acct_verifier_set(db, c->staff_id, c->r.ar_verifier);
}

/* The write once the password is hashed (route_resume_write). */
static route_rc issue_write(route_call *a)
{
	issue_ctx *c = a->rc_arg;
	sqlite3 *db = API_HUB(a)->hb_db;
	cJSON *rq = acct_request_load(db, c->rid), *o = NULL;
	char ts[HLC_STRLEN], *before = NULL, *after = NULL;
	int64_t now = (int64_t)hub_now_ms();
	route_rc rc = ROUTE_DBERR;
	acct_tgt t;
	int r;

	if (rq == NULL)
		goto out;
	/* Checked again as things are now (the caller as acct_resume_caller() read
	 * it): while the password was hashed the account may have become an
	 * administrator's, been deactivated, or the caller lost its role. */
	if (c->create) {
		rc = acct_api_scope(a, json_str(rq, "local_area_id"), json_str(rq, "field_division"),
				    json_str(rq, "privilege_group"));
		if (rc == ROUTE_OK)
			rc = acct_division_check(a, json_str(rq, "local_area_id"),
						 json_str(rq, "field_division"));
	} else if ((rc = acct_target_load(a, c->staff_id, &t)) == ROUTE_OK && !t.active) {
		rc = route_fail(a, 409, "staff_id", "the account was deactivated meanwhile");
	} else if (rc == ROUTE_OK) {
		rc = reset_allowed(a, &t); /* an approver role granted meanwhile */
	}
	if (rc != ROUTE_OK)
		goto out;
	rc = ROUTE_DBERR;
	hlc_now(hub_clock(API_HUB(a)), ts);
	if (c->create && (r = issue_create(db, c, ts, now)) != 0) {
		if (r > 0)
			rc = route_fail(a, 409, "request_id",
					"the request was used meanwhile or the user name is taken");
		goto out;
	}
	if (!c->create)
		before = acct_staff_text(db, c->staff_id);
	if (issue_credentials(db, c, ts, now) != 0)
		goto out;
	if (fulfil(db, c->rid, c->staff_id) != 0) {
		rc = route_fail(a, 409, "request_id",
				"the request was used meanwhile or the user name is taken");
		goto out;
	}
	after = acct_staff_text(db, c->staff_id);
	if (hub_api_admin_audit(a, c->create ? "staff.create" : "staff.reset", "staff",
				c->staff_id, json_str(rq, "local_area_id"),
				json_str(rq, "field_division"), before, after) != 0 ||
	    (o = cJSON_CreateObject()) == NULL)
		goto out;
	if (!c->create)
		acct_sessions_end(db, c->staff_id);
	cJSON_AddItemToObject(o, "staff", acct_staff_json(db, c->staff_id));
	cJSON_AddStringToObject(o, "temporary_password", c->pw);
	cJSON_AddNumberToObject(o, "temporary_password_expires_at",
				(double)(now + PASSWORD_TEMP_TTL_MS));
	http_add_header(a->rc_req, "Cache-Control", "no-store");
	log_info("%s: staff %s by %s", c->create ? "account created" : "password reset",
		 c->staff_id, c->r.ar_p.ap_username);
	rc = route_ok(a, c->create ? 201 : 200, o);
out:
	free(before);
	free(after);
	cJSON_Delete(rq);
	return rc;
}

/* Hash a new temporary password for staff_id, then issue_write. */
static route_rc issue_start(route_call *a, const char *rid, const char *staff_id, int create)
{
	issue_ctx *c = calloc(1, sizeof *c);

	if (c == NULL)
		return ROUTE_DBERR;
	acct_resume_init(&c->r, sizeof *c, a, issue_write,
			 "the temporary password could not be stored");
	c->create = create;
	snprintf(c->rid, sizeof c->rid, "%s", rid);
	snprintf(c->staff_id, sizeof c->staff_id, "%s", staff_id);
	if (password_temp_new(c->pw, sizeof c->pw) != 0 ||
	    acct_resume_hash(API_HUB(a), a->rc_req, c->pw, &c->r) != 0) {
		crypto_free(c, sizeof *c);
		return route_fail(a, 503, NULL, "the hub is busy; try again");
	}
	return ROUTE_TAKEN;
}

static const route_key request_id_keys[] = {
	{"request_id", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

static route_rc staff_create(route_call *a)
{
	route_rc rc;
	cJSON *rq = request_for(a, "new", NULL, &rc);
	char id[UUID_STRLEN], tmp[8];

	if (rq == NULL)
		return rc;
	rc = acct_api_scope(a, json_str(rq, "local_area_id"), json_str(rq, "field_division"),
			    json_str(rq, "privilege_group"));
	if (rc == ROUTE_OK && db_text(API_HUB(a)->hb_db, "SELECT 'x' FROM staff WHERE username=?",
				      json_str(rq, "username"), tmp, sizeof tmp) == 0)
		rc = route_fail(a, 409, "username", "the user name is taken");
	if (rc == ROUTE_OK) {
		uuid7(id);
		rc = issue_start(a, json_str(rq, "id"), id, 1);
	}
	cJSON_Delete(rq);
	return rc;
}

static route_rc staff_reset(route_call *a)
{
	acct_tgt t;
	route_rc rc = acct_target_load(a, http_req_param(a->rc_req, "id"), &t);
	cJSON *rq;

	if (rc != ROUTE_OK)
		return rc;
	if (!t.active)
		return route_fail(a, 409, "staff_id", "the account is deactivated");
	if ((rc = reset_allowed(a, &t)) != ROUTE_OK)
		return rc;
	if ((rq = request_for(a, "reset", t.id, &rc)) == NULL)
		return rc;
	rc = issue_start(a, json_str(rq, "id"), t.id, 0);
	cJSON_Delete(rq);
	return rc;
}

/* ---- change, recertify, deactivate: no password, done at once --------------------- */

static route_rc do_change(route_call *a, const cJSON *rq, const acct_tgt *t)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *g = json_str(rq, "privilege_group") ? json_str(rq, "privilege_group") : t->group;
	const char *add = json_str(rq, "priv_add"), *rem = json_str(rq, "priv_remove");
	char cur_add[256] = "", cur_rem[256] = "", ts[HLC_STRLEN];
	route_rc rc;

	if (json_str(rq, "privilege_group") &&
	    (rc = acct_api_scope(a, t->la[0] ? t->la : NULL, t->div[0] ? t->div : NULL, g)) !=
		ROUTE_OK)
		return rc;
	db_text(db, "SELECT coalesce(priv_add,'') FROM staff WHERE id=?", t->id, cur_add,
		sizeof cur_add);
	db_text(db, "SELECT coalesce(priv_remove,'') FROM staff WHERE id=?", t->id, cur_rem,
		sizeof cur_rem);
	if (acct_roles_parse(t->roles) &&
	    (priv_effective(g, add ? add : cur_add, rem ? rem : cur_rem) | PRIV_STAFF_ADMIN | PRIV_VETTING) ==
		PRIV_ALL)
		return route_bad(a, "privilege_group", "an administrator never holds every privilege");
	hlc_now(hub_clock(API_HUB(a)), ts);
	if (db_run(db,
		   "UPDATE staff SET privilege_group=coalesce(r.privilege_group, staff.privilege_group),"
		   " priv_add=CASE WHEN r.priv_add IS NULL THEN staff.priv_add ELSE nullif(r.priv_add,'') END,"
		   " priv_remove=CASE WHEN r.priv_remove IS NULL THEN staff.priv_remove ELSE nullif(r.priv_remove,'') END,"
		   " office_id=coalesce(r.office_id, staff.office_id),"
		   " crm_work_group=coalesce(r.crm_work_group, staff.crm_work_group), updated_hlc=?1"
		   " FROM (SELECT * FROM access_requests WHERE id=?2) AS r WHERE staff.id=?3",
		   "ttt", ts, json_str(rq, "id"), t->id) != 0 ||
	    sqlite3_changes(db) != 1)
		return ROUTE_DBERR;
	return ROUTE_OK;
}

static route_rc do_recertify(route_call *a, const cJSON *rq, const acct_tgt *t)
{
	sqlite3 *db = API_HUB(a)->hb_db;

	if (db_run(db, "INSERT OR IGNORE INTO staff_records(id) VALUES(?1)", "t", t->id) != 0 ||
	    db_run(db,
		   "UPDATE staff_records SET (ispa_date, conf_type, conf_date, certified_at) ="
		   " (SELECT ispa_date, conf_type, conf_date, ?3 FROM access_requests WHERE id=?2)"
		   " WHERE id=?1",
		   "ttI", t->id, json_str(rq, "id"), (int64_t)hub_now_ms()) != 0)
		return ROUTE_DBERR;
	/* The new due date travels at once: staff.suspend_on moves (and a
	 * suspension for recertification is lifted) in this transaction. */
	if (acct_state_sweep_db(db, hub_clock(API_HUB(a)), hub_now_ms()) < 0)
		return ROUTE_DBERR;
	return ROUTE_OK;
}

/* Deactivation at once; what the person still owns goes to new_owner_id
 * first (acct_hand_over: 409 naming it when it is missing). */
static route_rc do_deactivate(route_call *a, const cJSON *rq, const acct_tgt *t)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *rid = json_str(rq, "id"), *owner = NULL;
	char ts[HLC_STRLEN], tmp[8];
	int64_t now = (int64_t)hub_now_ms();
	int moved[3] = {0, 0, 0};
	route_rc rc;

	if (route_str(a, "new_owner_id", JSON_NULLABLE, 0, 64, &owner, NULL, 0) != 0)
		return ROUTE_BAD;
	if (db_text(db, "SELECT 'x' FROM request_files WHERE request_id=? AND kind='request_form'",
		    rid, tmp, sizeof tmp) != 0 ||
	    json_str(rq, "separation_date") == NULL)
		return route_fail(a, 409, "files",
				  "upload the request form with the separation date first");
	if ((rc = acct_hand_over(a, t->id, t->la, owner, moved)) != ROUTE_OK)
		return rc;
	hlc_now(hub_clock(API_HUB(a)), ts);
	if (acct_deactivate_db(db, t->id, now, ts) != 0 ||
	    acct_approvals_withdraw(db, API_ADMIN(a), a->rc_req->peer, t->id,
				    "its approver's account was deactivated") != 0 ||
	    db_run(db, "INSERT OR IGNORE INTO staff_records(id) VALUES(?1)", "t", t->id) != 0 ||
	    db_run(db,
		   "UPDATE staff_records SET separation_date=(SELECT separation_date FROM"
		   " access_requests WHERE id=?2), deactivated_by=NULL WHERE id=?1",
		   "tt", t->id, rid) != 0 ||
	    db_run(db, "UPDATE staff_records SET deactivated_by=?2 WHERE id=?1", "tt", t->id,
		   API_ADMIN(a)->ap_id) != 0)
		return ROUTE_DBERR;
	log_info("account %s deactivated by %s", t->id, API_ADMIN(a)->ap_username);
	return ROUTE_OK;
}

/* kind's request fulfilled by act; action: the audit's name (static text). */
static route_rc staff_action(route_call *a, const char *kind, const char *action,
			     route_rc (*act)(route_call *, const cJSON *, const acct_tgt *))
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char *before = NULL, *after = NULL;
	acct_tgt t;
	route_rc rc = acct_target_load(a, http_req_param(a->rc_req, "id"), &t);
	cJSON *rq = NULL;

	if (rc != ROUTE_OK)
		return rc;
	if (!t.active)
		return route_fail(a, 409, "staff_id", "the account is deactivated");
	/* (acct_target_load lets operations act on its own account; it does
	 * not deactivate itself, locked out until reset-operations) */
	if (strcmp(kind, "deactivate") == 0 && strcmp(t.id, API_ADMIN(a)->ap_id) == 0)
		return route_fail(a, 403, "staff_id", "administrators do not act on their own account");
	if ((rq = request_for(a, kind, t.id, &rc)) == NULL)
		return rc;
	before = acct_staff_text(db, t.id);
	if ((rc = act(a, rq, &t)) != ROUTE_OK)
		goto out;
	if (fulfil(db, json_str(rq, "id"), t.id) != 0) {
		rc = route_fail(a, 409, "request_id", "the request was used meanwhile");
		goto out;
	}
	after = acct_staff_text(db, t.id);
	if (hub_api_admin_audit(a, action, "staff", t.id, t.la, t.div, before, after) != 0)
		rc = ROUTE_DBERR;
	else
		rc = route_ok(a, 200, acct_staff_json(db, t.id));
out:
	free(before);
	free(after);
	cJSON_Delete(rq);
	return rc;
}

static route_rc staff_change(route_call *a) { return staff_action(a, "change", "staff.change", do_change); }
static route_rc staff_recertify(route_call *a)
{
	return staff_action(a, "recertify", "staff.recertify", do_recertify);
}
static route_rc staff_deactivate(route_call *a)
{
	return staff_action(a, "deactivate", "staff.deactivate", do_deactivate);
}

/* ---- administrator roles --------------------------------------------------------------- */

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

/* The roles asked for, as ROLE_* bits; -1 with the error collected. */
static int roles_read(route_call *a, unsigned *roles)
{
	const cJSON *arr, *it;
	json_err je = {{0}, {0}};

	*roles = 0;
	if (json_get_str_array(a->rc_body, "roles", JSON_REQUIRED, 0, 2, 16, &arr, &je) != 0)
		return route_err_json(a, &je);
	cJSON_ArrayForEach(it, arr)
	{
		if (strcmp(it->valuestring, "mis_admin") == 0)
			*roles |= ROLE_MIS_ADMIN;
		else if (strcmp(it->valuestring, "spoc") == 0)
			*roles |= ROLE_SPOC;
		else
			return route_err(a, "roles", "roles are mis_admin and spoc");
	}
	return 0;
}

/* May t hold roles?  Places, no every-privilege administrator, the caps. */
static route_rc roles_check(route_call *a, const acct_tgt *t, unsigned roles)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char add[256] = "", rem[256] = "";
	int n;

	if (acct_roles_parse(t->roles) & ROLE_OPERATIONS)
		return route_fail(a, 403, "roles", "the operations account keeps its role");
	if (!t->active)
		return route_fail(a, 409, "staff_id", "the account is deactivated");
	if ((roles & ROLE_MIS_ADMIN) && t->la[0] == '\0')
		return route_bad(a, "roles", "an MIS Administrator belongs to a Local Area");
	if ((roles & ROLE_SPOC) && t->div[0] == '\0')
		return route_bad(a, "roles", "a WSB CalJOBS SPOC belongs to a field division");
	if (roles == 0)
		return ROUTE_OK;
	db_text(db, "SELECT coalesce(priv_add,'') FROM staff WHERE id=?", t->id, add, sizeof add);
	db_text(db, "SELECT coalesce(priv_remove,'') FROM staff WHERE id=?", t->id, rem, sizeof rem);
	if ((priv_effective(t->group, add, rem) | PRIV_STAFF_ADMIN | PRIV_VETTING) == PRIV_ALL)
		return route_bad(a, "roles",
				 "an administrator never holds every privilege: use an "
				 "administrative account in a narrower group");
	if ((roles & ROLE_MIS_ADMIN) &&
	    (n = role_holders(db, "local_area_id", t->la, t->id, "mis_admin")) >= ACCT_MAX_MIS_ADMINS)
		return route_fail(a, 409, "roles",
				  "the Local Area already has %d MIS Administrators (at most %d)", n,
				  ACCT_MAX_MIS_ADMINS);
	if ((roles & ROLE_SPOC) &&
	    (n = role_holders(db, "field_division", t->div, t->id, "spoc")) >= ACCT_MAX_SPOCS)
		return route_fail(a, 409, "roles",
				  "the field division already has %d WSB CalJOBS SPOCs (at most %d)",
				  n, ACCT_MAX_SPOCS);
	return ROUTE_OK;
}

static const route_key roles_keys[] = {
	{"roles", ROUTE_T_ANY, 0},
	{"attachment_id", ROUTE_T_STR, ROUTE_K_NULL},
	{"admin_training_date", ROUTE_T_STR, ROUTE_K_NULL},
	{"field_staff_id", ROUTE_T_STR, ROUTE_K_NULL},
	{NULL, 0, 0},
};

/*
 * The person's field account (for office work), named with a designation:
 * recorded on the administrative account (admin_accounts.field_staff_id) so
 * that the administrator never acts on it (acct_target_load).  It must be
 * another account that is no administrator's.  ROUTE_OK or the 400.
 */
static route_rc field_account_check(route_call *a, const acct_tgt *t, const char *field)
{
	char tmp[8];
	int r;

	if (field == NULL)
		return ROUTE_OK;
	if (strcmp(field, t->id) == 0)
		return route_bad(a, "field_staff_id", "the field account is another account");
	if ((r = db_text(API_HUB(a)->hb_db, "SELECT 'x' FROM staff WHERE id=?", field, tmp,
			 sizeof tmp)) < 0)
		return ROUTE_DBERR;
	if (r > 0)
		return route_bad(a, "field_staff_id", "no such staff member");
	if ((r = acct_is_admin_account(API_HUB(a)->hb_db, field)) != 0)
		return r < 0 ? ROUTE_DBERR
			     : route_bad(a, "field_staff_id",
					 "that is an administrative account, not a field account");
	return ROUTE_OK;
}

/*
 * A designation (WSD24-13) needs the signed Attachment 1 uploaded to the
 * account (POST /api/v1/admin/staff/:id/files?kind=attachment_1) and the
 * date the administrator training was completed, not in the future: every
 * missing or wrong one is collected.  The form must be this account's.
 * 0, or -1 with the errors collected.
 */
static int designation_read(route_call *a, unsigned roles, const char *staff_id,
			    const char **form, const char **trained)
{
	char today[11];
	sqlite3_stmt *st = NULL;
	int bad = 0, found = 0;

	bad |= route_str(a, "attachment_id", JSON_NULLABLE, 1, 63, form, NULL, 0);
	bad |= route_str(a, "admin_training_date", JSON_NULLABLE, 10, 10, trained, NULL, 0);
	if (roles && *form == NULL && !route_has_err(a, "attachment_id"))
		bad = route_err(a, "attachment_id", "upload the signed Attachment 1 (WSB CalJOBS SPOC and"
				" MIS Administrator System Access Request Form) first");
	if (roles && *trained == NULL && !route_has_err(a, "admin_training_date"))
		bad = route_err(a, "admin_training_date",
				"the date the administrator training was completed is required");
	if (*trained && json_valid_date(*trained) != 0)
		bad = route_err(a, "admin_training_date", "use a date YYYY-MM-DD");
	else if (*trained && (acct_today(today), clock_days_between(*trained, today) < 0))
		bad = route_err(a, "admin_training_date", "the training date is in the future");
	if (*form && staff_id &&
	    db_prepare(API_HUB(a)->hb_db, &st, "SELECT 'x' FROM request_files WHERE id=?1 AND"
					       " staff_id=?2 AND kind='attachment_1'") == 0) {
		sqlite3_bind_text(st, 1, *form, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, staff_id, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (!found)
			bad = route_err(a, "attachment_id", "no signed Attachment 1 of this account"
					" with that id: upload it to the account first");
	}
	return bad ? -1 : 0;
}

/*
 * An administrator who loses its authority loses what its approvals stood
 * on: demoted (WSD24-13 lets the state revoke the privileges of one who
 * fails the procedures), deactivated (access "revoked prior to, or at the
 * time of their separation"), or suspended: by operations (the only one
 * that suspends an administrator: a security matter), or by the
 * recertification rule (access is revoked "upon ... failure to meet the
 * access requirements", the yearly ISPA training and confidentiality
 * statement it checks on others' forms; the approvals are not given back
 * when the suspension is lifted, only decided again).  Each request it approved that no
 * one has carried out yet goes back to 'submitted', for an administrator
 * who holds the role to decide again (nothing is lost: the form and files
 * stay), each audited as request.reopen with why.  Its sessions end with
 * the change, so it does nothing more itself.  0 or -1.
 */
int acct_approvals_withdraw(sqlite3 *db, const acct_principal *p, const char *client,
			    const char *staff_id, const char *why)
{
	/* A deactivation already scheduled (staff.deactivate_on) was carried
	 * out: the date went to every office, and the sweep fulfils the
	 * request on it; reopened, it would wait for a decision for ever. */
	cJSON *rows = db_rows_json_by(db, "SELECT id, local_area_id, field_division FROM"
					  " access_requests q WHERE decided_by=? AND status='approved'"
					  " AND NOT (kind='deactivate' AND EXISTS (SELECT 1 FROM staff s"
					  " WHERE s.id=q.staff_id AND s.deactivate_on IS NOT NULL))"
					  " ORDER BY created_at", staff_id);
	cJSON *after = cJSON_CreateObject();
	const cJSON *r;
	char *at = NULL;
	int ret = 0;

	if (after != NULL && cJSON_AddStringToObject(after, "status", "submitted") != NULL &&
	    cJSON_AddStringToObject(after, "why", why) != NULL)
		at = cJSON_PrintUnformatted(after);
	cJSON_Delete(after);
	if (rows == NULL || at == NULL)
		ret = -1;
	for (r = ret == 0 ? rows->child : NULL; r != NULL; r = r->next) {
		if (db_run(db, "UPDATE access_requests SET status='submitted', decided_by=NULL,"
			       " decided_at=NULL, decision_note=NULL WHERE id=? AND status='approved'",
			   "t", json_str(r, "id")) != 0 ||
		    acct_audit(db, p, client, "request.reopen", "access_requests", json_str(r, "id"),
			       json_str(r, "local_area_id"), json_str(r, "field_division"),
			       "{\"status\":\"approved\"}", at) != 0) {
			ret = -1;
			break;
		}
	}
	cJSON_Delete(rows);
	free(at);
	return ret;
}

static route_rc staff_roles(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char list[64], ts[HLC_STRLEN], *before = NULL, *after = NULL;
	const char *form = NULL, *trained = NULL, *field = NULL;
	const char *sid = http_req_param(a->rc_req, "id");
	unsigned roles = 0;
	int bad;
	acct_tgt t;
	route_rc rc;

	bad = roles_read(a, &roles) != 0;
	bad |= route_str(a, "field_staff_id", JSON_NULLABLE, 1, 63, &field, NULL, 0);
	if (designation_read(a, roles, sid, &form, &trained) != 0 || bad)
		return ROUTE_BAD;
	if ((rc = acct_target_load(a, sid, &t)) != ROUTE_OK ||
	    (rc = roles_check(a, &t, roles)) != ROUTE_OK ||
	    (roles && (rc = field_account_check(a, &t, field)) != ROUTE_OK))
		return rc;
	snprintf(list, sizeof list, "%s%s%s", (roles & ROLE_MIS_ADMIN) ? "mis_admin" : "",
		 (roles & ROLE_MIS_ADMIN) && (roles & ROLE_SPOC) ? "," : "",
		 (roles & ROLE_SPOC) ? "spoc" : "");
	before = acct_staff_text(db, t.id);
	hlc_now(hub_clock(API_HUB(a)), ts);
	rc = ROUTE_DBERR;
	if (db_run(db, "UPDATE staff SET roles=nullif(?2,'') WHERE id=?1", "tt", t.id, list) != 0 ||
	    db_run(db, "UPDATE staff SET updated_hlc=?2 WHERE id=?1", "tt", t.id, ts) != 0)
		goto out;
	/* The trust boundary: an account with a role is administrative and
	 * hub-only for good (its credentials leave every node; a field account
	 * for office work is a separate account). */
	if (roles && (acct_make_hub_only(db, hub_clock(API_HUB(a)), t.id, field) != 0 ||
		      (field && db_run(db, "UPDATE admin_accounts SET field_staff_id=?2 WHERE id=?1",
				       "tt", t.id, field) != 0)))
		goto out;
	if ((acct_roles_parse(t.roles) & ~roles & (ROLE_MIS_ADMIN | ROLE_SPOC)) &&
	    acct_approvals_withdraw(db, API_ADMIN(a), a->rc_req->peer, t.id,
				    "its approver lost the administrator role") != 0)
		goto out;
	if (roles &&
	    (db_run(db, "INSERT OR IGNORE INTO staff_records(id) VALUES(?1)", "t", t.id) != 0 ||
	     db_run(db, "UPDATE staff_records SET admin_form_id=?2, admin_designated_at=?3"
			" WHERE id=?1", "ttI", t.id, form, (int64_t)hub_now_ms()) != 0 ||
	     db_run(db, "UPDATE staff_records SET admin_training_date=?2 WHERE id=?1", "tt", t.id,
		    trained) != 0))
		goto out;
	after = acct_staff_text(db, t.id);
	if (hub_api_admin_audit(a, "staff.roles", "staff", t.id, t.la, t.div, before, after) != 0)
		goto out;
	acct_sessions_end(db, t.id);
	rc = route_ok(a, 200, acct_staff_json(db, t.id));
out:
	free(before);
	free(after);
	return rc;
}

/* ---- staff ------------------------------------------------------------------------------ */

/* A listed staff row ({"id"}) as the API shows the staff member. */
static cJSON *staff_row_out(sqlite3 *db, cJSON *row)
{
	cJSON *s = acct_staff_json(db, json_str(row, "id"));

	cJSON_Delete(row);
	return s;
}

static route_rc staff_list(route_call *a)
{
	char la[64], q[JSON_TEXT_BYTES(120)], act[4], pat[2 * JSON_TEXT_BYTES(120)];
	const char *args[3] = {NULL, NULL, NULL}; /* local_area_id, q, active ("1"/"0") */

	args[0] = http_req_query(a->rc_req, "local_area_id", la, sizeof la);
	if (route_qtext(a, "q", 120, q, sizeof q) != 0)
		return ROUTE_BAD;
	if (q[0]) {
		db_like_pattern(q, 1, pat, sizeof pat);
		args[1] = pat;
	}
	if (http_req_query(a->rc_req, "active", act, sizeof act))
		args[2] = atoi(act) ? "1" : "0";
	return acct_list_scoped(a,
				"SELECT id FROM staff WHERE (?1 IS NULL OR local_area_id=?1) AND"
				" (?2 IS NULL OR username LIKE ?2 ESCAPE '\\' OR display_name LIKE ?2 ESCAPE '\\') AND"
				" (?3 IS NULL OR active=CAST(?3 AS INTEGER)) AND"
				" acct_in_scope(?4, ?5, ?6, local_area_id, field_division, privilege_group)"
				" ORDER BY display_name LIMIT 1000",
				3, args, staff_row_out);
}

static route_rc staff_get(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *id = http_req_param(a->rc_req, "id");
	cJSON *s = acct_staff_json(db, id);
	route_rc rc;

	if (s == NULL)
		return route_fail(a, 404, "staff_id", "no such staff member");
	rc = acct_account_scope(a, "staff_id", json_str(s, "local_area_id"),
				json_str(s, "field_division"), json_str(s, "privilege_group"));
	if (rc != ROUTE_OK) {
		cJSON_Delete(s);
		return rc;
	}
	cJSON_AddItemToObject(
	    s, "files",
	    db_rows_json_by(db,
		       "SELECT f.id, f.request_id, f.kind, f.filename, f.content_type, f.size,"
		       " f.uploaded_at FROM request_files f WHERE f.staff_id=?1 OR f.request_id IN"
		       " (SELECT id FROM access_requests WHERE staff_id=?1) ORDER BY f.uploaded_at",
		       id));
	cJSON_AddItemToObject(
	    s, "requests",
	    db_rows_json_by(db,
		       "SELECT id, kind, status, requestor_name, created_at, decided_at, fulfilled_at,"
		       " separation_date FROM access_requests WHERE staff_id=? ORDER BY created_at",
		       id));
	return route_ok(a, 200, s);
}

static const route_key deactivate_keys[] = {
	{"request_id", ROUTE_T_ANY, 0},
	{"new_owner_id", ROUTE_T_STR, ROUTE_K_NULL},
	{NULL, 0, 0},
};

/* Create and reset are ROUTE_DEFER: the write, declared here (audited),
 * runs once the hash is done (route_resume_write). */
static const route_def staff_defs[] = {
	{HTTP_M_GET, "/api/v1/admin/staff", staff_list, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/staff", staff_create, 0,
	 ROUTE_BODY | ROUTE_DEFER | ROUTE_AUDITED, request_id_keys, 0},
	{HTTP_M_GET, "/api/v1/admin/staff/:id", staff_get, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/reset", staff_reset, 0,
	 ROUTE_BODY | ROUTE_DEFER | ROUTE_AUDITED, request_id_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/change", staff_change, 0, ROUTE_BODY | HUB_AUDITED,
	 request_id_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/recertify", staff_recertify, 0,
	 ROUTE_BODY | HUB_AUDITED, request_id_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/deactivate", staff_deactivate, 0,
	 ROUTE_BODY | HUB_AUDITED, deactivate_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/roles", staff_roles, HUB_P_OPS,
	 ROUTE_BODY | HUB_AUDITED, roles_keys, 0},
};
const route_list acct_staff_route_list = ROUTE_LIST(staff_defs);
