/*
 * case_approvals.h - approvals as records of real accounts (SLO policy
 * 34-19, issue 15): who may approve what, the state of a request, and the
 * hub's check of replicated approval rows.
 *
 *   backdate  an entry dated 31-90 days back "pending approval from the DSS
 *             Program Manager and WDB Director and the Employment Development
 *             Department (EDD)": one approval of each of those three roles.
 *   change    a change to (or the void of) entered data: a Help Request
 *             raised by a supervisor/manager, "approved by DSS WIOA Staff".
 *
 * A request names one entry and one date (case_approval_requests); each
 * approver records their decision in their own session
 * (case_approval_decisions, one per role and request; the requester never
 * decides their own request).  One refusal refuses the request.  An entry
 * under a request counts (exit clock, follow-up, compliance) only once the
 * request is approved; until then the original stands.  Roles are held by
 * staff accounts (case_approver_roles, granted at the hub).
 *
 * Pure functions and SQL text; nothing here logs.
 */
#ifndef OUTPOST_CASE_APPROVALS_H
#define OUTPOST_CASE_APPROVALS_H

#include <stddef.h>
#include <stdint.h>
#include "lib/db.h"

#define CASE_ROLE_PM "dss_program_manager"
#define CASE_ROLE_WDB "wdb_director"
#define CASE_ROLE_EDD "edd"
#define CASE_ROLE_WIOA "dss_wioa"

/* 1 when role is one of the four approver roles. */
int case_role_valid(const char *role);
/* Its title for people ("DSS Program Manager"), or NULL. */
const char *case_role_title(const char *role);
/* The roles a request of this kind needs (NULL-ended, static), or NULL for
 * an unknown kind. */
const char *const *case_kind_roles(const char *kind);
/* 1 when role is one that decides requests of this kind. */
int case_role_decides(const char *kind, const char *role);

struct cJSON;
/* The active approver roles staff holds in Local Area la ("" for any), as
 * a JSON array of role names, sorted.  Caller frees. */
struct cJSON *case_staff_roles(sqlite3 *db, const char *staff, const char *la);
/*
 * Adds to the request row r (one of case_approval_requests, with its "id",
 * "kind", "state" and "requested_by") what an approver's list shows: its
 * "decisions" (each with its "role_title"), the titles of the roles it
 * still waits for ("waiting_for") and the roles staff may decide it with
 * now ("can_decide": of held, those still waited for, while it is pending,
 * not staff's own and staff has not decided it).  held is borrowed.
 */
void case_request_detail(sqlite3 *db, const char *staff, const struct cJSON *held,
			 struct cJSON *r);
/*
 * The role a caller decides req (a row with "kind" and "can_decide", as
 * case_request_detail() leaves it) with: asked, when it decides the kind and
 * is one the caller may use; else, with asked NULL, the caller's only one.
 * NULL with *why set (a static message for the "role" field) otherwise.
 */
const char *case_decide_role(const struct cJSON *req, const char *asked, const char **why);

/*
 * SQL: the state of the request whose id is the SQL expression R:
 * 'refused' (any refusal), 'approved' (every role of its kind approved) or
 * 'pending' (also when no such request exists).
 */
#define CASE_REQ_STATE(R)                                                                    \
	"(CASE WHEN EXISTS (SELECT 1 FROM case_approval_decisions d0 WHERE d0.request_id = " R  \
	" AND d0.decision = 'refused') THEN 'refused'"                                          \
	" WHEN (SELECT count(DISTINCT d1.role) FROM case_approval_decisions d1"                 \
	" WHERE d1.request_id = " R " AND d1.decision = 'approved') >="                         \
	" coalesce((SELECT CASE q1.kind WHEN 'backdate' THEN 3 ELSE 1 END"                      \
	" FROM case_approval_requests q1 WHERE q1.id = " R "), 99)"                             \
	" THEN 'approved' ELSE 'pending' END)"

/* SQL condition: the row aliased A (an activity or a case note) counts: its
 * backdating (approval_id) is an older recorded approval or an approved
 * request. */
#define CASE_BACKDATE_COUNTS(A)                                                              \
	"(" A ".approval_id IS NULL OR NOT EXISTS (SELECT 1 FROM case_approval_requests q2"     \
	" WHERE q2.id = " A ".approval_id) OR " CASE_REQ_STATE(A ".approval_id") " = 'approved')"
/* ... and for an activity, its change (change_request_id) is approved. */
#define CASE_ACT_COUNTS(A)                                                                   \
	"(" CASE_BACKDATE_COUNTS(A) " AND (" A ".change_request_id IS NULL OR "                 \
	CASE_REQ_STATE(A ".change_request_id") " = 'approved'))"

/* SQL condition: the case note aliased N is an entry of its own: not an
 * amendment, nor the note of a correction of an activity (dated at the
 * corrected activity's start, written when the correction is: neither a
 * late note nor a new contact). */
#define CASE_NOTE_IS_ENTRY(N)                                                                \
	"(" N ".amends_id IS NULL AND (" N ".activity_id IS NULL OR NOT EXISTS (SELECT 1"        \
	" FROM participant_activities x0 WHERE x0.id = " N ".activity_id"                       \
	" AND x0.corrects_id IS NOT NULL)))"

/*
 * Hub-side check of one replicated row of case_approval_requests or
 * case_approval_decisions (other tables: 0).  A request names a participant
 * of its Local Area, a known kind, entry table and date, and for a change the
 * entry it changes; a decision names a request of the same participant, a
 * role that decides its kind and that its staff account holds in that Local
 * Area, is not the requester's, and is the first for that role.  0 to
 * accept; -1 with reason.
 */
int case_approvals_validate_row(sqlite3 *db, const char *tbl, const struct cJSON *row,
				char *reason, size_t n);
/*
 * The decision's check of its role: whether the row's staff account held
 * the row's role in Local Area la (the request's).  0, or -1 (refused) or
 * MODEL_CHECK_AGAIN with reason, as a row validator.  By default the role
 * held now (case_approver_roles), all an office knows; the hub, which keeps
 * the roles' history, sets its own that asks whether it was held when the
 * decision was made (hub/acct_apply.c).  NULL restores the default.  Set
 * once, before any check runs.
 */
typedef int (*case_role_check)(sqlite3 *db, const struct cJSON *row, const char *la,
			       char *reason, size_t n);
void case_approvals_set_role_check(case_role_check fn);
/*
 * The hub's check of an activity or note that names a request: a 'backdate'
 * request for this very entry (entry_id = id) and date, of the same
 * participant; or an older recorded approval (backdate_approvals) that no
 * other entry has used.  0, or -1 with reason.
 */
int case_approvals_check_backdate(sqlite3 *db, const char *tbl, const char *id, const char *pid,
				  const char *date, const char *approval_id, char *reason, size_t n);

#endif
