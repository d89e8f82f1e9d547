/*
 * case_decide.h - an approver's decision on a request (case_approvals.h),
 * the one set of rules behind both routes that take one: an office's
 * POST /api/v1/case/approvals/:id/decision (node_case_approvals.c) and the
 * hub console's POST /api/v1/admin/case/approvals/:id/decision
 * (hub_case_console.c).  The daemon finds the request the caller may see
 * and says where the decision is made; the rules, the row and its write
 * are here.
 */
#ifndef OUTPOST_CASE_DECIDE_H
#define OUTPOST_CASE_DECIDE_H

#include <stddef.h>
#include <stdint.h>
#include "lib/db.h"
#include "lib/route.h"

/* One decision on a request: where and by whom it is made, and what it is. */
typedef struct case_decision {
	const char *cd_la;       /* its Local Area */
	const char *cd_office;   /* the office it is made at ("hub" at the console) */
	const char *cd_staff;    /* the approver's staff id */
	const char *cd_decision; /* approved | refused */
	const char *cd_role;     /* the approver role it is made in */
	const char *cd_comment;  /* may be NULL */
	const char *cd_today;    /* YYYY-MM-DD, the day it is made */
	int64_t cd_ms;           /* when (ms since the epoch) */
	const char *cd_id;       /* its id; NULL: a new UUIDv7 of cd_ms */
} case_decision;

/* The body keys of a decision: {decision, role?, comment?}. */
extern const struct route_key case_decision_keys[];
/*
 * The rules of one decision (POST .../approvals/:id/decision), the same at
 * an office and at the hub console, checked in this order: the body of a
 * (decision approved|refused; a refusal's comment says why; role), each
 * error collected; then the request req (case_request_detail() done;
 * NULL when there is none the caller may see: 404 unless the body had
 * errors), never the caller's own (403), still pending (409); and the role
 * it is decided with (case_decide_role).  ROUTE_OK with d's decision, role
 * and comment set (borrowed from the body and req); else what the domain
 * function returns (the error collected or replied).
 */
route_rc case_decision_read(route_call *a, const struct cJSON *req, case_decision *d);
/*
 * d's case_approval_decisions row on the request req (its "id" and
 * "participant_id"), under a new UUIDv7 of d->cd_ms.  Caller frees.
 * case_decision_insert() writes such a row: 0, or -1 (sqlite3_errmsg names
 * the error).  case_decision_record() does both, first checking the row as
 * a replicated one is checked (case_approvals_validate_row): 0, 1 refused
 * (the reason in why), -1 database error.
 */
struct cJSON *case_decision_row(const struct cJSON *req, const case_decision *d);
int case_decision_insert(sqlite3 *db, const struct cJSON *row);
int case_decision_record(sqlite3 *db, const struct cJSON *req, const case_decision *d, char *why,
			 size_t wn);

#endif
