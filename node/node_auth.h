/*
 * node_auth.h - who is making a request to the office node, and whether
 * they may.  Every route that is not public calls node_auth_require() first.
 *
 * Staff sign in at POST /api/v1/session (node_login.c) against the password
 * hashes of their Local Area, replicated from the hub (staff_credentials).
 * A session is a random 256-bit token in the cookie outpost_session
 * (HttpOnly; SameSite=Strict; Secure under TLS), new at every login, kept
 * only in the node's memory as its SHA-256, ended after NODE_AUTH_IDLE_S of
 * inactivity or NODE_AUTH_ABSOLUTE_S after login (settings session_idle and
 * session_max_age), at logout, and as soon as the staff member is no longer
 * active in the node's copy of staff (checked on every request and after
 * every sync cycle).  A request with X-Outpost-Background: 1 (a page's
 * background refresh or poll) does not count as activity; GET
 * /api/v1/session tells idle_remaining_s.  Every state-changing request of a session must carry
 * the session's CSRF token in the X-CSRF-Token header (the token is given by
 * the session endpoint and in the readable cookie outpost_csrf); and
 * node_auth_dispatch() refuses state-changing requests that a browser marks
 * as cross-site before any route sees them.
 *
 * The privileges a route needs are the PRIV_* bits of model/privileges.h,
 * computed from the staff row (group, additions, removals) at every request,
 * so a change of group pulled from the hub applies at once.
 */
#ifndef OUTPOST_NODE_AUTH_H
#define OUTPOST_NODE_AUTH_H

#include "node/node.h"
#include "model/privileges.h"

#define NODE_AUTH_COOKIE "outpost_session"
#define NODE_AUTH_CSRF_COOKIE "outpost_csrf"
#define NODE_AUTH_CSRF_HEADER "x-csrf-token"
/* "1" on a page's background refresh or poll: it does not extend the session. */
#define NODE_AUTH_BACKGROUND_HEADER "x-outpost-background"
#define NODE_AUTH_TOKEN_LEN 32                  /* bytes: 256 bits */
#define NODE_AUTH_SESSIONS_MAX 4096
/* One account's live sessions at most; its next sign-in ends its least
 * recently used one (browsers, PCs: a person signs in at a few). */
#define NODE_AUTH_USER_SESSIONS 16
#define NODE_AUTH_IDLE_S (30 * 60)              /* default session_idle */
#define NODE_AUTH_ABSOLUTE_S (12 * 60 * 60)     /* default session_max_age */
#define NODE_AUTH_OFFLINE_MAX_AGE_S (72 * 60 * 60) /* default offline_login_max_age */
#define NODE_AUTH_CONNECTED_MS (60 * 1000)      /* "connected": a sync succeeded this recently */
#define NODE_AUTH_SWEEP_MS 2000                 /* expiry / deactivation sweep */

typedef struct node_user {
	char id[64];            /* staff.id */
	char username[64];
	char display_name[128];
	char local_area_id[64];
	char office_id[64];
	unsigned privs;         /* PRIV_* bits */
	int crm_work_group;
} node_user;

/* The signed-in user of req, or NULL (no session, an expired or ended one,
 * or one that must still change its temporary password).  Borrowed until
 * the reply. */
const node_user *node_auth_user(node *n, http_req *req);
/* 1 while req's session is live and its user, as its staff row says now,
 * holds every bit of privs, 0 once it has ended; unlike node_auth_user()
 * this does not count as activity (a long-lived stream checks its session
 * with it). */
int node_auth_live(node *n, http_req *req, unsigned privs);
/*
 * 0 when req's user holds every bit of `privs` (0: any signed-in user) and,
 * for a state-changing method, sent the session's CSRF token.  Otherwise
 * replies 401 (no valid session), 403 (missing privilege, missing or wrong
 * CSRF token, temporary password not changed yet) as a JSON error and
 * returns -1; the handler must then return without replying.
 */
int node_auth_require(node *n, http_req *req, unsigned privs);
/* node_auth_require() and node_auth_user() with one look-up of the session:
 * 0 with *u the user (NULL for a session that must still change its
 * password), or -1 when refused (replied). */
int node_auth_require_user(node *n, http_req *req, unsigned privs, const node_user **u);
/* The same check without replying: 0, or the status (401, 403) with its
 * message and field (NULL when none) for the caller to send. */
int node_auth_check(node *n, http_req *req, unsigned privs, const char **field,
		    const char **msg);
/* The same for any live session, also one that must still change its
 * temporary password (the password routes), with its CSRF token. */
int node_auth_check_session(node *n, http_req *req, const char **field, const char **msg);
/* 1 when req's cookie names a live session (nothing reloaded or extended):
 * the check before a request's body is read (node_edge.c). */
int node_auth_session_live(node *n, http_req *req);
/* The session's approver verifier (65 bytes, hex) into out: 1; 0 when it
 * has none (not an approver at its sign-in); when, enrolled, the hub has
 * not said it holds that password's verifier: -2 while it is being asked
 * (now, or after the next sync cycle that reaches the hub: a session not
 * yet waiting for that is marked here, node_auth_confirm_due), -3 when
 * only a new sign-in can confirm it (the hub holds another password's
 * verifier or none, or refuses to answer for the account; or no
 * background sync runs here); -1 error. */
int node_auth_verifier(node *n, http_req *req, char *out);
/* node_login.c, after the background sync cycle numbered cycle
 * (node_sync_next_cycle) reached the hub: for each approver session whose
 * verifier the hub could not yet be asked about, ask again with the
 * verifier alone (the password is not kept), at most once per cycle. */
void node_auth_confirm_due(node *n, uint64_t cycle);
/* The session routes (node_login.c: POST/GET/DELETE /api/v1/session,
 * POST /api/v1/session/password, POST /api/v1/session/password-check) are
 * rows of the node's route table (node_api.h). */

/* Set up sessions and throttling (after the configuration is read and the
 * database is open, before listening); start the sweep timer on the loop.
 * 0 or -1. */
int node_auth_init(node *n);
/* Close the timer; sessions are dropped.  Safe when init never ran. */
void node_auth_stop(node *n);
/* Sessions open now (signed-in staff), for /metrics. */
int node_auth_session_count(node *n);
/* End expired sessions and those of staff no longer active.  Called by the
 * sweep timer and after every sync cycle. */
void node_auth_sweep(node *n);
/* The server's handler: refuses cross-site state-changing requests (a
 * foreign Origin, or Sec-Fetch-Site: cross-site) with 403, then hands the
 * request to the router.  ctx is the node. */
void node_auth_dispatch(http_req *req, void *ctx);

/* node_demo_logins.c: the documented test password of every demo staff
 * member on a stand-alone demo node (README, "Test login"), and their
 * seeding (inside node_seed_demo's transaction).  0 or -1. */
#define NODE_DEMO_PASSWORD DEMO_PASSWORD /* model/demo.h */
int node_seed_demo_logins(node *n, const char *ts);
/* Nonzero when stored is the hash of a demo login: an enrolled node never
 * accepts those (a demo node enrolled later keeps its demo rows). */
int node_demo_login_hash(const char *stored);

#endif
