/*
 * case_approvals.c - approver roles, request kinds and the hub's check of
 * replicated approval rows; see case_approvals.h.
 */
#include "model/case_approvals.h"
#include "model/casework.h"
#include "model/schema.h"
#include "lib/json.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *role, *title;
} roles[] = {
	{CASE_ROLE_PM, "DSS Program Manager"},
	{CASE_ROLE_WDB, "WDB Director"},
	{CASE_ROLE_EDD, "EDD"},
	{CASE_ROLE_WIOA, "DSS WIOA staff"},
};

static const char *const backdate_roles[] = {CASE_ROLE_PM, CASE_ROLE_WDB, CASE_ROLE_EDD, NULL};
static const char *const change_roles[] = {CASE_ROLE_WIOA, NULL};

const char *case_role_title(const char *role)
{
	for (size_t i = 0; role && i < sizeof roles / sizeof roles[0]; i++)
		if (strcmp(roles[i].role, role) == 0)
			return roles[i].title;
	return NULL;
}

int case_role_valid(const char *role)
{
	return case_role_title(role) != NULL;
}

const char *const *case_kind_roles(const char *kind)
{
	if (kind && strcmp(kind, "backdate") == 0)
		return backdate_roles;
	if (kind && strcmp(kind, "change") == 0)
		return change_roles;
	return NULL;
}

int case_role_decides(const char *kind, const char *role)
{
	const char *const *r = case_kind_roles(kind);

	for (; r && role && *r; r++)
		if (strcmp(*r, role) == 0)
			return 1;
	return 0;
}

/* Inside a check: the text column of one row by id into the array out;
 * rc gets 0 found or 1 none, and a read that failed ends the check with
 * CANNOT_CHECK (the push is sent again, the row not held for review). */
#define COL(rc, tbl, sql, id, out)                                            \
	do {                                                                  \
		if (((rc) = db_text(db, (sql), (id), (out), sizeof(out))) < 0) \
			CANNOT_CHECK("%s: cannot read %s", (tbl), (sql));      \
	} while (0)

/* Inside a check: the count a prepared statement st (its arguments bound)
 * answers into cnt, st finalized; a failed read ends the check. */
#define COUNT(st, cnt, tbl)                                                   \
	do {                                                                  \
		int s_ = sqlite3_step(st);                                    \
		(cnt) = s_ == SQLITE_ROW ? sqlite3_column_int((st), 0) : 0;   \
		sqlite3_finalize(st);                                         \
		if (s_ != SQLITE_ROW)                                         \
			CANNOT_CHECK("%s: cannot count", (tbl));              \
	} while (0)

static int check_request(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *kind = json_str(row, "kind"), *tbl = json_str(row, "entry_table");
	const char *pid = json_str(row, "participant_id"), *eid = json_str(row, "entry_id");
	char la[64] = "", owner[64] = "", group[128] = "";
	int rc;

	/* (one refusal for no participant and another Local Area's) */
	COL(rc, "case_approval_requests", "SELECT local_area_id FROM participants WHERE id=?", pid, la);
	if (rc != 0 || json_str(row, "local_area_id") == NULL ||
	    strcmp(la, json_str(row, "local_area_id")) != 0)
		REFUSE("case_approval_requests: " CASE_NOT_OURS);
	if (case_kind_roles(kind) == NULL)
		REFUSE("case_approval_requests: kind must be backdate or change");
	if (tbl == NULL || (strcmp(tbl, "participant_activities") != 0 && strcmp(tbl, "case_notes") != 0))
		REFUSE("case_approval_requests: entry_table must be participant_activities or case_notes");
	if (eid == NULL || eid[0] == '\0' || json_valid_date(json_str(row, "entry_date")) != 0)
		REFUSE("case_approval_requests: a request names one entry and one date");
	if (json_str(row, "requested_by") == NULL)
		REFUSE("case_approval_requests: requested_by is required");
	if (strcmp(kind, "change") == 0) {
		/* The entry it changes exists already, and is this participant's. */
		COL(rc, "case_approval_requests",
		    strcmp(tbl, "case_notes") == 0
			    ? "SELECT participant_id FROM case_notes WHERE id=?"
			    : "SELECT participant_id FROM participant_activities WHERE id=?",
		    eid, owner);
		if (rc != 0 || strcmp(owner, pid) != 0)
			REFUSE("case_approval_requests: the changed entry is not this participant's");
		if (json_str(row, "change_id") == NULL)
			REFUSE("case_approval_requests: a change names its pending row");
		/* Changing entered data needs a Help Request raised by a
		 * supervisor or manager (node_case_work.c; the staff column
		 * names staff of the node's Local Area: hub/acct_apply.c). */
		COL(rc, "case_approval_requests", "SELECT privilege_group FROM staff WHERE id=?",
		    json_str(row, "requested_by"), group);
		if (rc != 0 || (strstr(group, "Supervisor") == NULL && strstr(group, "Manager") == NULL))
			REFUSE("case_approval_requests: a change is requested by a supervisor or manager");
	}
	return 0;
}

/* The role, held now (case_approver_roles): all an office knows, and what
 * it checks as the approver decides.  The account's state is weighed at the
 * time of the decision, not here: an office's decision made before its
 * approver was deactivated or suspended is taken (hub/acct_apply.c,
 * decision_standing_check); a signed-in caller is an active one. */
static int role_held_now(sqlite3 *db, const cJSON *row, const char *la, char *reason, size_t n)
{
	static const char tbl[] = "case_approval_decisions";
	char key[200];
	sqlite3_stmt *st;
	int held = 0;

	snprintf(key, sizeof key, "%s:%s", json_str(row, "staff_id"), json_str(row, "role"));
	if (db_prepare(db, &st, "SELECT count(*) FROM case_approver_roles r JOIN staff s ON s.id = r.staff_id"
				" WHERE r.id=?1 AND r.active=1 AND r.local_area_id=?2") != 0)
		CANNOT_CHECK("case_approval_decisions: cannot read the approver roles");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, la, -1, SQLITE_STATIC);
	COUNT(st, held, tbl);
	if (!held)
		REFUSE("case_approval_decisions: the staff account does not hold that approver role");
	return 0;
}

static case_role_check role_check = role_held_now;

void case_approvals_set_role_check(case_role_check fn)
{
	role_check = fn ? fn : role_held_now;
}

static int check_decision(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *rid = json_str(row, "request_id"), *role = json_str(row, "role");
	const char *staff = json_str(row, "staff_id"), *dec = json_str(row, "decision");
	char kind[16] = "", pid[64] = "", by[64] = "", la[64] = "";
	static const char tbl[] = "case_approval_decisions";
	sqlite3_stmt *st;
	int dup = 0, rc, r1, r2, r3, r4;

	COL(r1, tbl, "SELECT kind FROM case_approval_requests WHERE id=?", rid, kind);
	COL(r2, tbl, "SELECT participant_id FROM case_approval_requests WHERE id=?", rid, pid);
	COL(r3, tbl, "SELECT requested_by FROM case_approval_requests WHERE id=?", rid, by);
	COL(r4, tbl, "SELECT local_area_id FROM case_approval_requests WHERE id=?", rid, la);
	/* A request of another Local Area is answered as one that does not
	 * exist: the reason goes back to the node, which must not learn which
	 * ids are taken elsewhere (as CASE_NOT_OURS for participants). */
	if (r1 || r2 || r3 || r4 || json_str(row, "local_area_id") == NULL ||
	    strcmp(la, json_str(row, "local_area_id")) != 0)
		REFUSE("case_approval_decisions: no such request in this Local Area");
	if (json_str(row, "participant_id") == NULL || strcmp(pid, json_str(row, "participant_id")) != 0)
		REFUSE("case_approval_decisions: the request is another participant's");
	if (dec == NULL || (strcmp(dec, "approved") != 0 && strcmp(dec, "refused") != 0))
		REFUSE("case_approval_decisions: decision must be approved or refused");
	if (json_valid_date(json_str(row, "decided_date")) != 0)
		REFUSE("case_approval_decisions: decided_date is not a date");
	if (!case_role_decides(kind, role))
		REFUSE("case_approval_decisions: this role does not decide such a request");
	if (staff == NULL || strcmp(staff, by) == 0)
		REFUSE("case_approval_decisions: nobody approves their own request");
	/* The role, held in the request's Local Area: now, or at the hub
	 * when the decision was made (case_approvals_set_role_check). */
	if ((rc = role_check(db, row, la, reason, n)) != 0)
		return rc;
	/* Used once: one decision per role, and per person (three approvals
	 * are three different accounts). */
	if (db_prepare(db, &st, "SELECT count(*) FROM case_approval_decisions WHERE request_id=?1"
				" AND (role=?2 OR staff_id=?4) AND id<>?3") != 0)
		CANNOT_CHECK("case_approval_decisions: cannot read decisions");
	sqlite3_bind_text(st, 1, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, json_str(row, "id"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, staff, -1, SQLITE_STATIC);
	COUNT(st, dup, tbl);
	if (dup)
		REFUSE("case_approval_decisions: that role, or that person, has already decided this request");
	return 0;
}

int case_approvals_validate_row(sqlite3 *db, const char *tbl, const cJSON *row, char *reason,
				size_t n)
{
	if (strcmp(tbl, "case_approval_requests") == 0)
		return check_request(db, row, reason, n);
	if (strcmp(tbl, "case_approval_decisions") == 0)
		return check_decision(db, row, reason, n);
	return 0;
}

int case_approvals_check_backdate(sqlite3 *db, const char *tbl, const char *id, const char *pid,
				  const char *date, const char *approval_id, char *reason, size_t n)
{
	char kind[16] = "", eid[64] = "", edate[16] = "", owner[64] = "";
	sqlite3_stmt *st;
	int used = 0, rc;

	if (approval_id == NULL)
		REFUSE("%s: dates 31 to 90 days back need an approval request", tbl);
	COL(rc, tbl, "SELECT kind FROM case_approval_requests WHERE id=?", approval_id, kind);
	if (rc == 0) {
		COL(rc, tbl, "SELECT entry_id FROM case_approval_requests WHERE id=?", approval_id, eid);
		COL(rc, tbl, "SELECT entry_date FROM case_approval_requests WHERE id=?", approval_id,
		    edate);
		COL(rc, tbl, "SELECT participant_id FROM case_approval_requests WHERE id=?", approval_id,
		    owner);
		if (strcmp(kind, "backdate") != 0 || strcmp(eid, id) != 0 || strcmp(edate, date) != 0 ||
		    strcmp(owner, pid) != 0)
			REFUSE("%s: the approval request is for another entry or date", tbl);
		return 0;
	}
	/* An approval recorded before approvals were requests: once only. */
	COL(rc, tbl, "SELECT participant_id FROM backdate_approvals WHERE id=?", approval_id, owner);
	if (rc != 0 || strcmp(owner, pid) != 0)
		REFUSE("%s: the backdating approval is not recorded", tbl);
	if (db_prepare(db, &st, strcmp(tbl, "case_notes") == 0
					? "SELECT count(*) FROM case_notes WHERE approval_id=?1 AND id<>?2"
					  " AND amends_id IS NULL"
					: "SELECT count(*) FROM participant_activities WHERE approval_id=?1"
					  " AND id<>?2 AND corrects_id IS NULL") != 0)
		CANNOT_CHECK("%s: cannot read approvals", tbl);
	sqlite3_bind_text(st, 1, approval_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	COUNT(st, used, tbl);
	if (used)
		REFUSE("%s: that approval was already used (an approval is used once)", tbl);
	return 0;
}

cJSON *case_staff_roles(sqlite3 *db, const char *staff, const char *la)
{
	const char *args[2] = {staff, la};
	cJSON *rows = db_rows_json_args(db, "SELECT DISTINCT role FROM case_approver_roles WHERE"
					    " staff_id=?1 AND active=1 AND (?2 = '' OR local_area_id=?2)"
					    " ORDER BY role", 2, args);
	cJSON *out = cJSON_CreateArray(), *it;

	cJSON_ArrayForEach(it, rows)
		cJSON_AddItemToArray(out, cJSON_CreateString(json_str(it, "role")));
	cJSON_Delete(rows);
	return out;
}

static int has(const cJSON *arr, const char *s)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return 1;
	return 0;
}

void case_request_detail(sqlite3 *db, const char *staff, const cJSON *held, cJSON *r)
{
	const char *const *need = case_kind_roles(json_str(r, "kind"));
	cJSON *dec = db_rows_json_by(db, "SELECT d.role, d.staff_id, s.display_name AS staff_name,"
					 " d.decision, d.comment, d.decided_date, d.office_id FROM"
					 " case_approval_decisions d LEFT JOIN staff s ON s.id = d.staff_id"
					 " WHERE d.request_id=? ORDER BY d.decided_at",
				     json_str(r, "id"));
	cJSON *waiting = cJSON_CreateArray(), *can = cJSON_CreateArray(), *it;
	int open = strcmp(json_str(r, "state"), "pending") == 0;
	int mine = strcmp(json_str(r, "requested_by"), staff) == 0, decided = 0;

	if (dec == NULL)
		dec = cJSON_CreateArray();
	cJSON_ArrayForEach(it, dec)
	{
		cJSON_AddStringToObject(it, "role_title", case_role_title(json_str(it, "role")));
		decided |= strcmp(json_str(it, "staff_id"), staff) == 0; /* once per person */
	}
	for (; need && *need; need++) {
		int done = 0;
		cJSON_ArrayForEach(it, dec)
			done |= strcmp(json_str(it, "role"), *need) == 0;
		if (done)
			continue;
		cJSON_AddItemToArray(waiting, cJSON_CreateString(case_role_title(*need)));
		if (open && !mine && !decided && has(held, *need))
			cJSON_AddItemToArray(can, cJSON_CreateString(*need));
	}
	cJSON_AddItemToObject(r, "decisions", dec);
	cJSON_AddItemToObject(r, "waiting_for", waiting);
	cJSON_AddItemToObject(r, "can_decide", can);
}

const char *case_decide_role(const cJSON *req, const char *asked, const char **why)
{
	const cJSON *can = cJSON_GetObjectItem(req, "can_decide");

	if (asked && !case_role_decides(json_str(req, "kind"), asked)) {
		*why = strcmp(json_str(req, "kind"), "change") == 0
			       ? "this request is decided by DSS WIOA staff"
			       : "this request is decided by the DSS Program Manager, the WDB Director and EDD";
		return NULL;
	}
	if (asked && !has(can, asked)) {
		*why = "you do not hold that approver role, or it has decided already";
		return NULL;
	}
	if (asked)
		return asked;
	if (cJSON_GetArraySize(can) == 1)
		return cJSON_GetArrayItem(can, 0)->valuestring;
	*why = cJSON_GetArraySize(can) ? "say which of your approver roles decides"
				       : "you hold no approver role that may decide this request";
	return NULL;
}
