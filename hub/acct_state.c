/*
 * acct_state.c - account states beyond active/deactivated (WSD24-13: access
 * "revoked prior to, or at the time of their separation"; SLO policy 34-19:
 * supervisors report "suspension, extended leave"):
 *
 *   suspend     extended leave: the account keeps its user name and stops
 *               working at once (hub sessions end; every node refuses it at
 *               its next request, the staff row replicating like any other);
 *   reactivate  lifts a suspension, same user name;
 *   schedule    an approved deactivation request (form uploaded) whose
 *               separation date is ahead sets staff.deactivate_on: every node
 *               refuses the account from that day by itself, offline too
 *               (node_auth.c), and the hub's sweep (acct_state_sweep, on the
 *               prune timer) deactivates it on the day.
 *
 * Recertification overdue past its grace period (ACCT_RECERT_GRACE)
 * suspends the account the same way: staff.suspend_on (the due date plus
 * the grace) travels ahead, every node refuses the account from that day,
 * and the sweep records the suspension (and lifts it once recertified).
 *
 * Suspending or scheduling the deactivation of someone who still has
 * assigned participants, leads or open work items needs new_owner_id: the
 * reply names what would be left behind; with it, they move (ordinary hub
 * edits of replicated rows, so they reach the offices).
 */
#include "hub/acct_api.h"
#include "hub/hub.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SUSPEND_REASON_MAX 500
/* Recertification overdue by more than this suspends the account; the
 * offices warn from 30 days before the due date (node_login.c). */
#define ACCT_RECERT_GRACE "30 days"
#define ACCT_RECERT_REASON "recertification overdue"


typedef struct target {
	char id[64], la[64], div[ACCT_DIV_BYTES], office[64], group[64];
	int active, suspended, admin;
} target;

/* The staff member of the path, in the caller's scope: ROUTE_OK or the refusal. */
static route_rc target_get(route_call *a, target *t)
{
	const acct_principal *p = API_ADMIN(a);
	const char *id = http_req_param(a->rc_req, "id");
	sqlite3_stmt *st;
	route_rc rr;
	int rc, in;

	memset(t, 0, sizeof *t);
	if (db_prepare_bound(API_HUB(a)->hb_db, &st,
			     "SELECT id, coalesce(local_area_id,''), coalesce(field_division,''),"
			     " coalesce(office_id,''), active, suspended, coalesce(roles,'') <> '',"
			     " coalesce(privilege_group,'') FROM staff WHERE id=?", "t", id) != 0)
		return ROUTE_DBERR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *c[4]; /* id, Local Area, division, office */
		const char *g = db_col(st, 7);

		if (db_cols(st, c, 4) != 0 || g == NULL) {
			rc = SQLITE_NOMEM;
		} else {
			snprintf(t->id, sizeof t->id, "%s", c[0]);
			snprintf(t->la, sizeof t->la, "%s", c[1]);
			snprintf(t->div, sizeof t->div, "%s", c[2]);
			snprintf(t->office, sizeof t->office, "%s", c[3]);
			snprintf(t->group, sizeof t->group, "%s", g);
		}
		t->active = sqlite3_column_int(st, 4);
		t->suspended = sqlite3_column_int(st, 5);
		t->admin = sqlite3_column_int(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? route_fail(a, 404, "id", "no such staff member")
					 : ROUTE_DBERR;
	/* Operations too: it would lock itself out (only reset-operations,
	 * at the hub's console, would bring it back).  The person's field
	 * account is theirs as well (admin_accounts.field_staff_id). */
	if (strcmp(t->id, p->ap_id) == 0 || (in = acct_own_field_account(a, t->id)) > 0)
		return route_fail(a, 403, "id", "administrators do not act on their own account");
	if (in < 0)
		return ROUTE_DBERR;
	if (p->ap_roles & ROLE_OPERATIONS)
		return ROUTE_OK;
	in = ((p->ap_roles & ROLE_MIS_ADMIN) && p->ap_la[0] && strcmp(t->la, p->ap_la) == 0) ||
	     ((p->ap_roles & ROLE_SPOC) && p->ap_div[0] && strcmp(t->div, p->ap_div) == 0);
	if (!in)
		return route_fail(a, 403, "id", "outside your Local Area or field division");
	if ((rr = acct_account_scope(a, "id", t->la, t->div, t->group)) != ROUTE_OK)
		return rr;
	if (t->admin)
		return route_fail(a, 403, "id", "only the CalJOBS Operations Unit manages administrator accounts");
	return ROUTE_OK;
}

/* What the staff member still owns: participants assigned, active leads
 * owned, open work items assigned.  -1 on error. */
static int owned(sqlite3 *db, const char *id, int n[3])
{
	static const char *const sql[3] = {
		"SELECT count(*) FROM participants WHERE assigned_staff_id=?1 AND exit_state <> 'exited'",
		"SELECT count(*) FROM employers WHERE lead_owner_id=?1 AND status='active'",
		"SELECT count(*) FROM work_items WHERE assignee_id=?1 AND status <> 'Closed' AND deleted=0",
	};

	for (int i = 0; i < 3; i++) {
		sqlite3_stmt *st;
		if (db_prepare_bound(db, &st, sql[i], "t", id) != 0)
			return -1;
		n[i] = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
		sqlite3_finalize(st);
	}
	return 0;
}

/*
 * Who may take a caseload over, as SQL on the staff row s: ?1 the account
 * handing it over, ?2 its Local Area ("": an account with none is held to
 * none), ?3 1 when open work items move.  hand_over() checks a new owner
 * with these and owners_list() lists them, so the console's picker offers
 * exactly whom the hand-over takes.
 *
 * A colleague who works the caseload at an office: never a hub-only
 * (administrative) account, which signs in at no office.
 */
#define OWNER_AT_OFFICE                                                                            \
	"(s.active = 1 AND s.suspended = 0 AND s.id <> ?1 AND NOT EXISTS"                          \
	" (SELECT 1 FROM admin_accounts x WHERE x.id = s.id) AND NOT EXISTS"                       \
	" (SELECT 1 FROM staff_credentials c WHERE c.id = s.id AND"                                \
	" c.local_area_id = '" ACCT_HUB_LA "'))"
/* What is handed over stays in the Local Area (README, "Account states"):
 * participants and leads name it, and a departing person's open work items
 * go to a colleague there too. */
#define OWNER_IN_AREA "(?2 = '' OR coalesce(s.local_area_id, '') = ?2)"
#define OWNER_WORK_GROUP "(?3 = 0 OR s.crm_work_group = 1)"

/* Move what t owns to new_owner (checked: OWNER_AT_OFFICE, OWNER_IN_AREA,
 * OWNER_WORK_GROUP).  ROUTE_OK or the refusal; *moved gets the counts. */
static route_rc hand_over(route_call *a, const target *t, const char *new_owner, int moved[3]);

route_rc acct_hand_over(route_call *a, const char *id, const char *la, const char *new_owner,
			int moved[3])
{
	target t;

	memset(&t, 0, sizeof t);
	snprintf(t.id, sizeof t.id, "%s", id);
	snprintf(t.la, sizeof t.la, "%s", la);
	return hand_over(a, &t, new_owner && new_owner[0] ? new_owner : NULL, moved);
}

static route_rc hand_over(route_call *a, const target *t, const char *new_owner, int moved[3])
{
	hub *h = API_HUB(a);
	/* What moves: the column and the rows (?1 the account's id). */
	static const struct {
		const char *tbl, *col, *where;
	} upd[3] = {
		{"participants", "assigned_staff_id", "assigned_staff_id=?1 AND exit_state <> 'exited'"},
		{"employers", "lead_owner_id", "lead_owner_id=?1 AND status='active'"},
		{"work_items", "assignee_id", "assignee_id=?1 AND status <> 'Closed' AND deleted=0"},
	};
	char ts[HLC_STRLEN];
	int ok[3] = {0, 0, 0}, rc;
	sqlite3_stmt *st;

	if (owned(h->hb_db, t->id, moved) != 0)
		return ROUTE_DBERR;
	if (moved[0] + moved[1] + moved[2] == 0)
		return ROUTE_OK;
	if (new_owner == NULL)
		return route_fail(a, 409, "new_owner_id",
				  "this person still has %d assigned participant(s), %d lead(s) and %d open"
				  " work item(s): choose who takes them over (new_owner_id)",
				  moved[0], moved[1], moved[2]);
	if (db_prepare_bound(h->hb_db, &st, "SELECT " OWNER_AT_OFFICE ", " OWNER_IN_AREA ", "
					    OWNER_WORK_GROUP " FROM staff s WHERE s.id = ?4",
			     "ttit", t->id, t->la, moved[2] > 0, new_owner) != 0)
		return ROUTE_DBERR;
	rc = sqlite3_step(st);
	for (int i = 0; rc == SQLITE_ROW && i < 3; i++)
		ok[i] = sqlite3_column_int(st, i);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ROUTE_DBERR;
	if (!ok[0])
		return route_fail(a, 400, "new_owner_id", "the new owner must be another active staff member"
							   " who works at an office (not an administrative account)");
	if (!ok[1])
		return route_fail(a, 400, "new_owner_id", "what is handed over stays in its Local Area:"
							   " choose someone of the same Local Area");
	if (!ok[2])
		return route_fail(a, 400, "new_owner_id", "work items go to a member of the CRM work group");
	hlc_now(hub_clock(h), ts);
	for (int i = 0; i < 3; i++) {
		char sql[256];

		/* The hand-over's stamp on each moved column: an older
		 * reassignment still on its way from an office loses to it,
		 * as a conflict, rather than taking the rows back. */
		snprintf(sql, sizeof sql, "UPDATE %s SET %s=?2, updated_hlc=?3 WHERE %s", upd[i].tbl,
			 upd[i].col, upd[i].where);
		if (sync_hub_clock_stamp(h->hb_db, upd[i].tbl, upd[i].col, upd[i].where, t->id, ts) !=
			    0 ||
		    db_run(h->hb_db, sql, "ttt", t->id, new_owner, ts) != 0)
			return ROUTE_DBERR;
	}
	log_info("accounts: %d participant(s), %d lead(s), %d work item(s) of %s moved to %s", moved[0],
		 moved[1], moved[2], t->id, new_owner);
	return ROUTE_OK;
}

/* GET /api/v1/admin/staff/:id/owners: whom the account's caseload may be
 * handed over to (OWNER_AT_OFFICE, OWNER_IN_AREA, OWNER_WORK_GROUP when it
 * has open work items), for whoever may act on the account: the console's
 * picker.  The staff list would not do: it shows only the accounts the
 * caller may open, and an EDD WSB account's caseload may go to an LWIA
 * colleague of its Local Area, or the reverse.  Names and office only. */
static route_rc owners_list(route_call *a)
{
	sqlite3_stmt *st = NULL;
	int moved[3];
	route_rc rr;
	target t;
	cJSON *r;

	if ((rr = target_get(a, &t)) != ROUTE_OK)
		return rr;
	if (owned(API_HUB(a)->hb_db, t.id, moved) != 0 ||
	    db_prepare_bound(API_HUB(a)->hb_db, &st,
			     "SELECT s.id, s.display_name, s.username, o.name AS office"
			     " FROM staff s LEFT JOIN offices o ON o.id = s.office_id WHERE " OWNER_AT_OFFICE
			     " AND " OWNER_IN_AREA " AND " OWNER_WORK_GROUP
			     " ORDER BY s.display_name, s.username", "tti", t.id, t.la, moved[2] > 0) != 0)
		return ROUTE_DBERR;
	r = db_rows_json(st);
	sqlite3_finalize(st);
	return route_ok(a, 200, r);
}

static int set_state(hub *h, const char *id, int suspended, const char *reason)
{
	char ts[HLC_STRLEN];

	hlc_now(hub_clock(h), ts);
	return db_run(h->hb_db, "UPDATE staff SET suspended=?2, suspend_reason=?3, updated_hlc=?4"
				" WHERE id=?1", "titt", id, suspended, reason, ts);
}

/* The account's state change in the administrators' audit trail (its
 * Local Area's and division's administrators see it): the account before
 * (before, the caller's) and after, with what was handed over; then the
 * account as the reply. */
static route_rc audit_reply(route_call *a, const char *action, const target *t, char *before,
			    const int moved[3])
{
	sqlite3 *db = API_HUB(a)->hb_db;
	cJSON *after = acct_staff_json(db, t->id), *h;
	char *at = NULL;
	int rc = -1;

	if (after != NULL) {
		cJSON_DeleteItemFromObject(after, "last_login_at");
		if (moved != NULL && (h = cJSON_AddObjectToObject(after, "handed_over")) != NULL) {
			cJSON_AddNumberToObject(h, "participants", moved[0]);
			cJSON_AddNumberToObject(h, "leads", moved[1]);
			cJSON_AddNumberToObject(h, "work_items", moved[2]);
		}
		at = cJSON_PrintUnformatted(after);
		cJSON_Delete(after);
	}
	if (before != NULL && at != NULL)
		rc = hub_api_admin_audit(a, action, "staff", t->id, t->la, t->div, before, at);
	free(before);
	free(at);
	if (rc != 0)
		return ROUTE_DBERR;
	return route_ok(a, 200, acct_staff_json(db, t->id));
}

/* The start of a suspension and of a scheduled deactivation: new_owner_id
 * read ("" is none: *owner NULL), after the other members (bad: their
 * errors), then the staff member of the path, who must still be active.
 * ROUTE_OK or the refusal. */
static route_rc active_target(route_call *a, int bad, const char **owner, target *t)
{
	route_rc rr;

	bad |= route_str(a, "new_owner_id", JSON_NULLABLE, 0, 64, owner, NULL, 0);
	if (bad)
		return ROUTE_BAD;
	if ((rr = target_get(a, t)) != ROUTE_OK)
		return rr;
	if (!t->active)
		return route_fail(a, 409, "id", "the account is deactivated");
	if (*owner && !(*owner)[0])
		*owner = NULL;
	return ROUTE_OK;
}

static const route_key suspend_keys[] = {
	{"reason", ROUTE_T_STR, ROUTE_K_REQUIRED}, {"new_owner_id", ROUTE_T_STR, ROUTE_K_NULL},
	{NULL, 0, 0},
};

/* 1 when reason is the recertification rule's, whatever its case and the
 * blanks around it. */
static int recert_reason(const char *reason)
{
	size_t n = strlen(ACCT_RECERT_REASON);

	while (*reason == ' ' || *reason == '\t')
		reason++;
	if (strncasecmp(reason, ACCT_RECERT_REASON, n) != 0)
		return 0;
	for (reason += n; *reason == ' ' || *reason == '\t'; reason++)
		;
	return *reason == '\0';
}

/* POST /api/v1/admin/staff/:id/suspend {"reason", "new_owner_id"?} */
static route_rc staff_suspend(route_call *a)
{
	const char *reason = NULL, *owner = NULL;
	int moved[3] = {0, 0, 0}, bad;
	char *before;
	route_rc rr;
	target t;

	bad = route_str(a, "reason", JSON_REQUIRED, 1, SUSPEND_REASON_MAX, &reason, NULL, 0);
	/* The reason is how a suspension for overdue recertification is told
	 * apart (recert_states lifts it once recertified, reactivate refuses
	 * it): given by hand, the sweep would lift someone's leave. */
	if (reason && recert_reason(reason))
		bad = route_err(a, "reason", "'" ACCT_RECERT_REASON "' is the recertification rule's"
					     " own reason: describe the leave");
	if ((rr = active_target(a, bad, &owner, &t)) != ROUTE_OK)
		return rr;
	if (t.suspended)
		return route_fail(a, 409, "id", "the account is already suspended");
	before = acct_staff_text(API_HUB(a)->hb_db, t.id);
	if ((rr = hand_over(a, &t, owner, moved)) != ROUTE_OK) {
		free(before);
		return rr;
	}
	/* An administrator is suspended by operations only (target_get): a
	 * security matter; its open approvals go back to be decided again. */
	if (set_state(API_HUB(a), t.id, 1, reason) != 0 ||
	    db_run(API_HUB(a)->hb_db, "INSERT INTO staff_records(id, suspended_by_ops) VALUES(?1, ?2)"
				      " ON CONFLICT(id) DO UPDATE SET suspended_by_ops=?2", "ti", t.id,
		   (API_ADMIN(a)->ap_roles & ROLE_OPERATIONS) != 0) != 0 ||
	    acct_approvals_withdraw(API_HUB(a)->hb_db, API_ADMIN(a), a->rc_req->peer, t.id,
				    "its approver's account was suspended") != 0) {
		free(before);
		return ROUTE_DBERR;
	}
	acct_sessions_end(API_HUB(a)->hb_db, t.id);
	log_info("account %s suspended by %s", t.id, a->rc_actor ? a->rc_actor : "?");
	return audit_reply(a, "staff.suspend", &t, before, moved);
}

/* POST /api/v1/admin/staff/:id/reactivate: the same user name again. */
static route_rc staff_reactivate(route_call *a)
{
	char *before, why[SUSPEND_REASON_MAX * 4 + 8];
	route_rc rr;
	target t;

	if ((rr = target_get(a, &t)) != ROUTE_OK)
		return rr;
	if (!t.active)
		return route_fail(a, 409, "id", "the account is deactivated: a returning person needs a"
						 " new access request");
	if (!t.suspended)
		return route_fail(a, 409, "id", "the account is not suspended");
	/* Overdue recertification suspends until it is recorded: lifted here,
	 * the next sweep would suspend the account again. */
	if (db_text(API_HUB(a)->hb_db, "SELECT coalesce(suspend_reason, '') FROM staff WHERE id=?",
		    t.id, why, sizeof why) != 0)
		return ROUTE_DBERR;
	if (strcmp(why, ACCT_RECERT_REASON) == 0)
		return route_fail(a, 409, "id", "the account is suspended until its recertification is"
						 " recorded: record the recertification instead");
	if (!(API_ADMIN(a)->ap_roles & ROLE_OPERATIONS) &&
	    db_int_bound(API_HUB(a)->hb_db, 1, "SELECT count(*) FROM staff_records WHERE id=?"
						  " AND suspended_by_ops", "t", t.id) != 0)
		return route_fail(a, 403, "id", "the CalJOBS Operations Unit suspended this account:"
						 " only it lifts the suspension");
	before = acct_staff_text(API_HUB(a)->hb_db, t.id);
	if (set_state(API_HUB(a), t.id, 0, NULL) != 0 ||
	    db_run(API_HUB(a)->hb_db, "UPDATE staff_records SET suspended_by_ops=0 WHERE id=?", "t",
		   t.id) != 0) {
		free(before);
		return ROUTE_DBERR;
	}
	log_info("account %s reactivated by %s", t.id, a->rc_actor ? a->rc_actor : "?");
	return audit_reply(a, "staff.reactivate", &t, before, NULL);
}

static const route_key schedule_keys[] = {
	{"request_id", ROUTE_T_STR, ROUTE_K_REQUIRED}, {"new_owner_id", ROUTE_T_STR, ROUTE_K_NULL},
	{NULL, 0, 0},
};

/*
 * POST /api/v1/admin/staff/:id/schedule-deactivation {"request_id",
 * "new_owner_id"?}: an approved deactivation request of this person, with
 * its form uploaded, sets the separation date as staff.deactivate_on (it
 * replicates ahead); on or after the date the sweep deactivates at once.
 */
static route_rc staff_schedule(route_call *a)
{
	hub *h = API_HUB(a);
	const char *rid = NULL, *owner = NULL;
	char sep[16] = "", ts[HLC_STRLEN];
	int moved[3] = {0, 0, 0}, bad, form = 0, rc;
	sqlite3_stmt *st;
	char *before;
	route_rc rr;
	target t;

	bad = route_str(a, "request_id", JSON_REQUIRED, 1, 64, &rid, NULL, 0);
	if ((rr = active_target(a, bad, &owner, &t)) != ROUTE_OK)
		return rr;
	if (db_prepare_bound(h->hb_db, &st,
			     "SELECT coalesce(r.separation_date, ''), EXISTS(SELECT 1 FROM request_files f"
			     " WHERE f.request_id = r.id AND f.kind = 'request_form') FROM access_requests r"
			     " WHERE r.id=?1 AND r.kind='deactivate' AND r.status='approved' AND r.staff_id=?2",
			     "tt", rid, t.id) != 0)
		return ROUTE_DBERR;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = db_col(st, 0);

		if (d == NULL)
			rc = SQLITE_NOMEM; /* "(null)" would be a date before any */
		else
			snprintf(sep, sizeof sep, "%s", d);
		form = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ROUTE_DBERR;
	if (rc != SQLITE_ROW)
		return route_fail(a, 409, "request_id", "no approved deactivation request of this person");
	if (!form || !sep[0])
		return route_fail(a, 409, "request_id", "upload the request form with the separation date first");
	before = acct_staff_text(h->hb_db, t.id);
	if ((rr = hand_over(a, &t, owner, moved)) != ROUTE_OK) {
		free(before);
		return rr;
	}
	hlc_now(hub_clock(h), ts);
	/* Who scheduled it is who deactivates it, on the date (the sweep). */
	if (db_run(h->hb_db, "UPDATE staff SET deactivate_on=?2, updated_hlc=?3 WHERE id=?1", "ttt", t.id,
		   sep, ts) != 0 ||
	    db_run(h->hb_db, "INSERT INTO staff_records(id, separation_date, deactivated_by)"
			     " VALUES(?1, ?2, ?3) ON CONFLICT(id) DO UPDATE SET"
			     " separation_date=excluded.separation_date, deactivated_by=excluded.deactivated_by",
		   "ttt", t.id, sep, API_ADMIN(a)->ap_id) != 0 ||
	    acct_state_sweep_db(h->hb_db, hub_clock(h), hub_now_ms()) < 0) {
		free(before);
		return ROUTE_DBERR;
	}
	log_info("account %s: deactivation scheduled for %s", t.id, sep);
	return audit_reply(a, "staff.schedule_deactivation", &t, before, moved);
}

int acct_deactivate_db(sqlite3 *db, const char *id, int64_t now, const char *ts)
{
	if (db_run(db, "UPDATE staff SET active=0, deactivated_at=?2, updated_hlc=?3 WHERE id=?1",
		   "tIt", id, now, ts) != 0 ||
	    db_run(db, "UPDATE staff_credentials SET password_hash=NULL, password_temp=0,"
		       " password_expires_at=NULL, updated_hlc=?2 WHERE id=?1", "tt", id, ts) != 0)
		return -1;
	acct_sessions_end(db, id);
	return 0;
}

/*
 * Staff id, whose separation date has come, deactivated as an
 * administrator's deactivation is (acct_staff.c do_deactivate): no
 * password left to replicate, sessions ended, its approved deactivation
 * request fulfilled, the access requests it approved and no one carried out
 * back to 'submitted' (acct_approvals_withdraw), and the administrators'
 * audit trail told in the name of whoever scheduled it
 * (staff_records.deactivated_by).  0 or -1.
 */
static int deactivate_due(sqlite3 *db, const char *id, int64_t now, const char *ts)
{
	char *before = acct_staff_text(db, id), *after = NULL;
	char la[64] = "", div[ACCT_DIV_BYTES] = "";
	acct_principal by;
	int rc = -1, have_by = 0;
	sqlite3_stmt *st = NULL;

	memset(&by, 0, sizeof by);
	if (before == NULL ||
	    db_prepare_bound(db, &st, "SELECT coalesce(s.local_area_id, ''), coalesce(s.field_division, ''),"
				      " coalesce(r.deactivated_by, ''),"
				      " coalesce(b.username, r.deactivated_by, '') FROM staff s"
				      " LEFT JOIN staff_records r ON r.id = s.id"
				      " LEFT JOIN staff b ON b.id = r.deactivated_by WHERE s.id=?", "t", id) != 0)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *c[4];
		if (db_cols(st, c, 4) != 0)
			goto out;
		snprintf(la, sizeof la, "%s", c[0]);
		snprintf(div, sizeof div, "%s", c[1]);
		snprintf(by.ap_id, sizeof by.ap_id, "%s", c[2]);
		snprintf(by.ap_username, sizeof by.ap_username, "%s", c[3]);
		have_by = c[2][0] != '\0';
	}
	if (acct_deactivate_db(db, id, now, ts) != 0 ||
	    db_run(db, "UPDATE access_requests SET status='fulfilled', fulfilled_at=?2"
		       " WHERE staff_id=?1 AND kind='deactivate' AND status='approved'", "tI", id, now) != 0 ||
	    acct_approvals_withdraw(db, have_by ? &by : NULL, "separation date", id,
				    "its approver's account was deactivated") != 0)
		goto out;
	if ((after = acct_staff_text(db, id)) == NULL ||
	    acct_audit(db, have_by ? &by : NULL, "separation date", "staff.deactivate", "staff", id, la, div,
		       before, after) != 0)
		goto out;
	log_info("account %s deactivated: its separation date has come", id);
	rc = 0;
out:
	sqlite3_finalize(st);
	free(before);
	free(after);
	return rc;
}

/*
 * Recertification on the day: each account whose suspend_on has come is
 * suspended, and one suspended for it whose later due date (recertified)
 * has not come is lifted - each in the administrators' audit trail, as a
 * suspension or a reactivation by hand is, in the name of the rule
 * ("recertification"); a suspended administrator's approvals not yet
 * carried out go back to 'submitted' (acct_approvals_withdraw).  0 or -1.
 */
static int recert_states(sqlite3 *db, const char *today, const char *ts)
{
	cJSON *rows = db_rows_json_by(db,
				      "SELECT id, coalesce(local_area_id, '') AS la,"
				      " coalesce(field_division, '') AS div, suspended = 0 AS suspend"
				      " FROM staff WHERE active = 1 AND suspend_on IS NOT NULL AND"
				      " ((suspended = 0 AND suspend_on <= ?1) OR"
				      "  (suspended = 1 AND suspend_reason = '" ACCT_RECERT_REASON "'"
				      "   AND suspend_on > ?1))",
				      today),
	      *it;
	int rc = rows ? 0 : -1;

	cJSON_ArrayForEach(it, rows)
	{
		const char *id = json_str(it, "id");
		const cJSON *sv = cJSON_GetObjectItem(it, "suspend");
		int suspend = cJSON_IsNumber(sv) && sv->valuedouble != 0;
		char *before = acct_staff_text(db, id), *after = NULL;

		rc = before == NULL ||
		     db_run(db, "UPDATE staff SET suspended = ?2, suspend_reason = CASE WHEN ?2 THEN '"
				ACCT_RECERT_REASON "' END, updated_hlc = ?3 WHERE id = ?1",
			    "tit", id, suspend, ts) != 0 ||
		     (after = acct_staff_text(db, id)) == NULL ||
		     acct_audit(db, NULL, "recertification", suspend ? "staff.suspend" : "staff.reactivate",
				"staff", id, json_str(it, "la"), json_str(it, "div"), before, after) != 0 ||
		     (suspend && acct_approvals_withdraw(db, NULL, "recertification", id,
							 "its approver's account was suspended:"
							 " recertification overdue") != 0)
			     ? -1
			     : 0;
		free(before);
		free(after);
		if (rc != 0)
			break;
		log_info("account %s %s: %s", id, suspend ? "suspended" : "reinstated",
			 suspend ? "recertification overdue" : "recertified");
	}
	cJSON_Delete(rows);
	return rc;
}

int acct_state_sweep_db(sqlite3 *db, hlc *clk, uint64_t now_ms)
{
	char today[11], ts[HLC_STRLEN];
	sqlite3_stmt *ids = NULL;
	int n = 0, ret = -1;

	clock_local_date(now_ms, today);
	hlc_now(clk, ts);
	if (db_prepare_bound(db, &ids, "SELECT id FROM staff WHERE active=1 AND deactivate_on IS NOT NULL"
				       " AND deactivate_on <= ?1", "t", today) != 0)
		goto out;
	while (sqlite3_step(ids) == SQLITE_ROW) {
		const char *id = db_col(ids, 0);
		if (id == NULL)
			goto out;
		if (deactivate_due(db, id, (int64_t)now_ms, ts) != 0)
			goto out;
		n++;
	}
	/* Recertification: suspend_on = due + grace travels ahead to every
	 * node; on the day the hub records the suspension, and a recertified
	 * account (a later due date) gets it lifted.  The operations account
	 * is exempt (ACCT_RECERT_EXEMPT_SQL): never dated, a date it held
	 * cleared. */
	if (db_run(db,
		   "UPDATE staff SET suspend_on = x.d, updated_hlc = ?1 FROM (SELECT r.id,"
		   "  CASE WHEN " ACCT_RECERT_EXEMPT_SQL("s") " THEN NULL ELSE"
		   "  date(min(r.ispa_date, r.conf_date), '+1 year', '+" ACCT_RECERT_GRACE "') END AS d"
		   "  FROM staff_records r JOIN staff s ON s.id = r.id"
		   "  WHERE r.ispa_date IS NOT NULL AND r.conf_date IS NOT NULL) x"
		   " WHERE x.id = staff.id AND staff.active = 1 AND staff.suspend_on IS NOT x.d",
		   "t", ts) != 0 ||
	    recert_states(db, today, ts) != 0)
		goto out;
	ret = n;
out:
	sqlite3_finalize(ids);
	return ret;
}

void acct_state_sweep(hub *h)
{
	if (db_exec(h->hb_db, "BEGIN IMMEDIATE") != 0)
		return;
	if (acct_state_sweep_db(h->hb_db, hub_clock(h), hub_now_ms()) < 0) {
		db_exec(h->hb_db, "ROLLBACK");
		log_warnx("accounts: the deactivation sweep failed");
		return;
	}
	db_exec(h->hb_db, "COMMIT");
}

static const route_key no_keys[] = {{NULL, 0, 0}};

static const route_def state_defs[] = {
	{HTTP_M_GET, "/api/v1/admin/staff/:id/owners", owners_list, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/suspend", staff_suspend, 0, ROUTE_BODY | HUB_AUDITED, suspend_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/reactivate", staff_reactivate, 0, ROUTE_BODY | ROUTE_BODY_OPT | HUB_AUDITED, no_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/staff/:id/schedule-deactivation", staff_schedule, 0, ROUTE_BODY | HUB_AUDITED, schedule_keys, 0},
};
const route_list acct_state_route_list = ROUTE_LIST(state_defs);
