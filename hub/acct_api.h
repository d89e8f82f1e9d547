/*
 * acct_api.h - private to the account administration API under
 * /api/v1/admin/ (contract in docs/hub-admin-api.md), one module in four
 * files, each with its rows of the hub's route table (hub_api.h):
 *
 *   acct_api.c      what they share (below); Local Areas, field divisions,
 *                   offices and privilege groups; the audit trail query and
 *                   the outcome of passwords set at nodes
 *   acct_request.c  access requests and their uploaded forms
 *   acct_staff.c    the account lifecycle (create with a temporary password,
 *                   reset, change, recertify, deactivate, roles) and staff
 *   acct_review.c   recertification due/overdue, the quarterly review
 *
 * The dispatcher owns the privilege check (acct_auth), the body keys, the
 * transaction and the admin_audit row (hub_api_admin_audit): every action
 * writes its row in the transaction of its change, or neither commits.
 * Every action needs an approved request of the matching kind and is
 * checked against the caller's scope.  The replicated staff /
 * staff_credentials rows are written with plain SQL so the change-log
 * triggers send them to the nodes.
 *
 * Functions returning route_rc give ROUTE_OK, or a failure already set on
 * the call (route_fail/route_bad), or ROUTE_DBERR; they never reply.
 */
#ifndef OUTPOST_HUB_ACCT_API_H
#define OUTPOST_HUB_ACCT_API_H

#include "hub/hub_api.h"

/* The kinds of access request, ended by NULL. */
extern const char *const acct_kinds[];

/* 1 when s is one of the NULL-ended list l. */
int acct_in_list(const char *s, const char *const *l);
/* Today at the hub, YYYY-MM-DD. */
void acct_today(char out[11]);
/* May the caller act over Local Area la / division div with this group
 * (NULL: not checked)?  ROUTE_OK, or ROUTE_FAIL with the 403 set. */
route_rc acct_api_scope(route_call *a, const char *la, const char *div, const char *group);
/* May the caller act on an account (or a request about one) of Local Area
 * la / division div whose privilege group is group: the place's scope as
 * acct_api_scope(), and the group's assigner (NULL: not checked; a group
 * no one assigns: operations only).  ROUTE_OK, or the 403 set (field names the account when the group
 * is what refuses). */
route_rc acct_account_scope(route_call *a, const char *field, const char *la, const char *div,
			    const char *group);
/* The caller's scope for a list query: binds operations (1/0), the MIS
 * Local Area and the SPOC division ("" for none) to parameters first,
 * first+1 and first+2 of st.  A list of accounts passes them on to
 * acct_in_scope() (acct_scope_sql_init) with each account's place and
 * group, so it lists only what acct_account_scope() lets the caller open. */
void acct_bind_scope(route_call *a, sqlite3_stmt *st, int first);
/* The privilege group a request r (an access_requests row's alias) is
 * judged by, in SQL: its account's group now, or for a new account the
 * group asked for (as acct_request_scoped() decides). */
#define ACCT_REQUEST_GROUP_SQL(r)                                                                  \
	"coalesce((SELECT s.privilege_group FROM staff s WHERE s.id = " r ".staff_id), " r         \
	".privilege_group)"
/*
 * A list in the caller's scope, as the reply: every row of sql as JSON
 * (db_rows_json), ?1..?n the texts args[0..n) (NULL binds NULL),
 * ?n+1..?n+3 the scope as acct_bind_scope() binds it; each (NULL: the rows
 * as they are) makes a row the API's object, taking the row (a NULL result
 * is left out).  ROUTE_OK or ROUTE_DBERR.
 */
route_rc acct_list_scoped(route_call *a, const char *sql, int n, const char *const *args,
			  cJSON *(*each)(sqlite3 *db, cJSON *row));

/* The staff member an action targets. */
typedef struct acct_tgt {
	char id[64], username[64], la[64], div[ACCT_DIV_BYTES], group[64], roles[96], office[64];
	int active;
} acct_tgt;
/* 1 when id is the field account of the caller's administrative account
 * (admin_accounts.field_staff_id: the person's account for office work),
 * 0 when not, -1 on error. */
int acct_own_field_account(route_call *a, const char *id);
/* Load the target id and check the caller may act on it (in scope, never
 * the caller's own account nor its field account, an administrator's only
 * by operations): ROUTE_OK, or a failure set (404, 403). */
route_rc acct_target_load(route_call *a, const char *id, acct_tgt *t);
/* Compact JSON text of the staff member (audit before/after: no secrets),
 * malloc'd, or NULL. */
char *acct_staff_text(sqlite3 *db, const char *id);

/*
 * A console write that waits for a password to be hashed in the thread
 * pool (acct_pw_job), then runs as a declared write (route_resume_write).
 * The caller's context is calloc'd and begins with this; acct_resume_init()
 * fills it for the call a: the caller, the call's row, the write to run
 * (which finds the context in rc_arg) and the 500's message should the
 * hash fail.  acct_resume_hash() hashes pw, then runs the write with
 * ar_stored and ar_verifier set, or replies that 500; either way the
 * context is then wiped and freed.  0, or -1: nothing queued, the context
 * is still the caller's (crypto_free it).
 */
typedef struct acct_resume {
	acct_principal ar_p;
	const route_table *ar_table;
	const route_def *ar_route;
	route_fn ar_write;
	const char *ar_fail;
	size_t ar_size;                      /* the whole context's */
	const char *ar_stored, *ar_verifier; /* the hash job's, while ar_write runs */
} acct_resume;
void acct_resume_init(acct_resume *r, size_t size, route_call *a, route_fn write,
		      const char *fail);
int acct_resume_hash(hub *h, http_req *req, const char *pw, acct_resume *r);

/* ---- acct_state.c ----------------------------------------------------------------- */

/* Hand over what staff member id (of Local Area la) still owns (assigned
 * participants, active leads, open work items) to new_owner (NULL or "":
 * none named).  ROUTE_OK with the counts moved in moved[], or the refusal
 * set: 409 field new_owner_id naming what would be left behind, 400 for an
 * owner who cannot take them. */
route_rc acct_hand_over(route_call *a, const char *id, const char *la, const char *new_owner,
			int moved[3]);

/* ---- acct_request.c ------------------------------------------------------------- */

/* A division's staff work in its Local Areas: a SPOC's scope is its
 * division's, so a division named with a Local Area of another (or of
 * none) would let a SPOC place staff anywhere, and an MIS Administrator
 * put its staff under another division's SPOC.  ROUTE_OK (also when either
 * is NULL), the 400 (field field_division) or ROUTE_DBERR. */
route_rc acct_division_check(route_call *a, const char *la, const char *div);

/* The request row (SELECT *), or NULL. */
cJSON *acct_request_load(sqlite3 *db, const char *id);
/* The request as the API shows it (takes rq; with its files). */
cJSON *acct_request_out(sqlite3 *db, cJSON *rq, int with_files);
/* 1 when staff of group sign Attachment E-1, whose signed copy and ISPA
 * certificate are uploaded with a new account's or a recertification's
 * request; 0 for the EDD WSB groups, whose staff sign the DE 7410
 * (WSD24-13). */
int acct_group_signs_e1(const char *group);
/* Kinds of file the request still needs, as a JSON array: the request
 * form; for a new account or a recertification of E-1 staff (the
 * statement named, or the account's group) the ISPA certificate and the
 * E-1 too. */
cJSON *acct_missing_files(sqlite3 *db, const cJSON *rq);
/* The request id in the caller's scope, or NULL with *rc set (404, 403). */
cJSON *acct_request_scoped(route_call *a, const char *id, route_rc *rc);

#endif
