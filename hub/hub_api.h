/*
 * hub_api.h - the hub's side of the handler contract (lib/route.h): its
 * route table and what a domain function may ask of its call.
 *
 * Every declared route of the hub is a row of one module's route_list, and
 * hub_route_lists lists the modules.  The hub plugs into the dispatcher:
 *   privilege  acct_auth(): the bearer token of DIR/admin.token or a console
 *              session (CSRF checked on a state-changing method); rd_privs
 *              HUB_P_OPS asks for the operations role, HUB_P_TEMP lets a
 *              session still on its temporary password through.  The caller
 *              is API_ADMIN(a); its user name is the audit actor.
 *   write      ROUTE_WRITE: BEGIN IMMEDIATE on the loop thread's connection
 *              before the function, COMMIT after it, and only then the reply;
 *              any other result rolls back.
 *   audit      ROUTE_AUDITED (HUB_AUDITED): the function describes its
 *              hub_audit_events row with hub_api_audit() (or, for account
 *              administration, its admin_audit row with
 *              hub_api_admin_audit()); the dispatcher
 *              writes it inside the same transaction, and a write without
 *              its row, or whose row cannot be written, is rolled back (500).
 *   500        the one database-error mapping (lib/dbguard.h: a full disk
 *              is 507).
 * Everything runs on the loop thread (one call at a time), which is what
 * lets the caller's principal live in hub_api.c between auth and reply.
 */
#ifndef OUTPOST_HUB_API_H
#define OUTPOST_HUB_API_H

#include "lib/route.h"
#include "hub/acct.h"

/* rd_privs of a hub route (0 = any signed-in administrator or the token). */
enum {
	HUB_P_OPS = 1u << 0,  /* the operations role (or the bearer token) */
	HUB_P_TEMP = 1u << 1, /* a session on its temporary password may call */
	/* A request signed by an enrolled node (sync.h), not a person:
	 * hub_sync_auth.c checks it, before the body and after; the caller is
	 * API_NODE(a) and the audit actor its id. */
	HUB_P_NODE = 1u << 2,
	/* With HUB_P_NODE: a request without X-Outpost-Node but with
	 * Authorization or a console session is an administrator's (the
	 * operations role), for the hub-wide view of the same path;
	 * API_NODE(a) is NULL then. */
	HUB_P_OR_ADMIN = 1u << 3,
	/* An approver's console session (an account holding a case approver
	 * role and no administrator role) may call this row; every other row
	 * refuses it (403), its own session's (HUB_P_TEMP) aside.  Issue 15:
	 * hub_case_console.c. */
	HUB_P_APPROVER = 1u << 4,
	/* With HUB_P_NODE: the route replies through hub_sync.c's jobs, which
	 * hold the reply until the request's nonce is committed (grouped with
	 * the other requests' and a push's own commit); every other signed
	 * route has its nonce committed before it runs. */
	HUB_P_SYNC_JOB = 1u << 5,
};

/* Route flags of an audited hub write. */
#define HUB_AUDITED (ROUTE_WRITE | ROUTE_AUDITED)

#define API_HUB(a) ((hub *)(a)->rc_ctx)
#define API_ADMIN(a) ((const acct_principal *)(a)->rc_user)
#define API_NODE(a) hub_api_node(a)

/* The hub's table: every module's list, ended by NULL. */
extern const route_list *const hub_route_lists[];
extern const route_list hub_admin_route_list;
extern const route_list hub_codes_route_list;
extern const route_list hub_console_route_list;
extern const route_list hub_case_route_list; /* hub_case.c: approver roles */
/* hub_case_console.c: approvers deciding at the console */
extern const route_list hub_case_console_route_list;
/* 1 when staff_id (active) holds an active case approver role: it may sign
 * in to the console with the approver's view (acct_session.c); 0 when not,
 * -1 when it cannot be read (never taken for either). */
int hub_case_is_approver(sqlite3 *db, const char *staff_id);
extern const route_list hub_sync_route_list;
extern const route_list hub_ca_route_list;
/* The account administration API (hub/acct_api.h), its modules' rows. */
extern const route_list acct_api_route_list;
extern const route_list acct_request_route_list;
extern const route_list acct_staff_route_list;
extern const route_list acct_review_route_list;
extern const route_list acct_session_route_list;
extern const route_list hub_setup_route_list;
extern const route_list hub_verifier_route_list; /* acct_verifier.c */

/* The node that signed a HUB_P_NODE call, or NULL (a person's call). */
const hub_node *hub_api_node(const route_call *a);
/*
 * The network edge's check of req against the table, before its body is
 * read (route_head_check): 0 to go on, or the status to refuse with and
 * *why.  *declared is set when a row that needs a privilege takes req (its
 * caller is then known, and the row's body cap applies).
 */
int hub_api_head_check(hub *h, http_req *req, int *declared, const char **why);
extern const route_list hub_crm_route_list; /* hub_crm.c: overdue and locked vetting */
extern const route_list acct_state_route_list; /* acct_state.c: suspend, reactivate, schedule */

/*
 * Describe the audit row of an audited write: action (static text), subject
 * and detail (JSON text; either may be NULL), copied.  0, or -1 when out of
 * memory (return ROUTE_DBERR then).
 */
int hub_api_audit(route_call *a, const char *action, const char *subject, const char *detail);
/*
 * The same for an account administration action, whose row goes to
 * admin_audit (acct_audit(): the caller API_ADMIN(a), the client's address,
 * the subject's table and id, its Local Area and field division, and the
 * JSON text before/after, never a secret; any may be NULL but table and id).
 * 0, or -1 when out of memory.
 */
int hub_api_admin_audit(route_call *a, const char *action, const char *table, const char *id,
			const char *la, const char *div, const char *before, const char *after);

/* Register the hub's declared routes with r.  0 or -1. */
/* Reply the rows of sql (a fixed query, no parameters) as a JSON array. */
route_rc hub_api_rows(route_call *a, const char *sql);
int hub_api_routes(hub *h, router *r);
/* Free the table's registrations (after the server closed). */
void hub_api_free(hub *h);

#endif
