/*
 * node_api.h - the office node's side of the handler contract (lib/route.h):
 * its route table and what a domain function may ask of its call.
 *
 * Every route of the node is a row of one module's route_list, and the
 * node's table (node_route_lists) lists the modules.  The node plugs into
 * the dispatcher:
 *   privilege  node_auth_require(rd_privs) (401/403); PUBLIC routes look up
 *              no session (a function that wants one calls node_auth_user);
 *   write      ROUTE_WRITE | ROUTE_CAPTURED: node_write_begin() (a captured
 *              savepoint in the loop iteration's batch) before the function;
 *              on ROUTE_OK node_write_finish_body(): the reply, JSON or CSV,
 *              leaves only once the batch's COMMIT and WAL sync are done
 *              (node_commit.c); any other result rolls the savepoint back.
 *   500        node_reply_db_error(), logged once with the route.
 * The actor of a write is the signed-in staff member (rc_actor; a function
 * may set it NULL, as the kiosk's writes are).
 */
#ifndef OUTPOST_NODE_API_H
#define OUTPOST_NODE_API_H

#include "lib/route.h"
#include "node/node.h"
#include "node/node_auth.h"

/* Route flags of a node write. */
#define NODE_WRITE (ROUTE_WRITE | ROUTE_CAPTURED)

/* The node of a call, its signed-in user (NULL on a PUBLIC route), and the
 * capture of a write route (model/capture.h; NULL on a read). */
#define API_NODE(a) ((node *)(a)->rc_ctx)
#define API_USER(a) ((const node_user *)(a)->rc_user)
struct capture *node_api_capture(route_call *a);
/* Reply the rows of sql (a fixed query, no parameters) as a JSON array. */
route_rc node_api_rows(route_call *a, const char *sql);

/* The node's table: every module's list, ended by NULL. */
extern const route_list *const node_route_lists[];
/* The modules' lists (one per file). */
extern const route_list greeter_route_list;
extern const route_list greeter_days_route_list; /* node_greeter_days.c */
extern const route_list case_route_list, case_work_route_list, case_compliance_route_list;
extern const route_list case_approvals_route_list; /* node_case_approvals.c */
extern const route_list case_forms_route_list;     /* node_case_forms.c */
extern const route_list case_timeline_route_list;  /* node_case_timeline.c */
extern const route_list crm_route_list, crm_work_route_list, crm_services_route_list;
extern const route_list crm_reports_route_list, crm_attach_route_list;
extern const route_list login_route_list, web_route_list;
extern const route_list live_route_list; /* node_live.c: the desk's event stream */
extern const route_list sync_route_list; /* node_sync.c: status, conflicts, sync now */
extern const route_list crm_employers_route_list, crm_review_route_list, crm_contacts_route_list;
extern const route_list crm_jobs_route_list; /* node_crm_jobs.c: job orders, referrals */

/* Register the node's routes with r (table kept in n).  0 or -1. */
int node_api_routes(node *n, router *r);
/* Free the table's registrations (after the server closed). */
void node_api_free(node *n);
/* The pre-body check for the network edge (route_head_check on the node's
 * table): 0 to read the body, or the status to refuse with. */
int node_api_head_check(node *n, http_req *req, const char **field, const char **msg);
/* The same in the shape of lib/http.h's pre-body gate (ctx = the node; *why
 * static text): the edge's gate calls it once its own checks pass, so a
 * request without the route's privilege is refused before its body is read. */
int node_api_pre_body(http_req *req, void *ctx, const char **why);

/*
 * node_gcache.c: a JSON read served from the connection's cache while the
 * database is unchanged (and, timed, within the same wall-clock second),
 * with an ETag and 304 on If-None-Match.  key names the reply (the route
 * and its effective parameters); flags: GCACHE_TIMED, GCACHE_PERSONAL
 * (route_ok_etag: never stored by the browser); fill makes it: malloc'd
 * JSON text and *len, or NULL on error, with now the time to compute it
 * for (the start of the second when cached).  Returns the route's outcome.
 */
#define GCACHE_TIMED 1u    /* it holds times counted to now (a wait) */
#define GCACHE_PERSONAL 2u /* it names people */
typedef char *(*node_gcache_fill)(node *n, const void *arg, uint64_t now, size_t *len);
route_rc node_gcache_reply(route_call *a, const char *key, unsigned flags, node_gcache_fill fill,
			   const void *arg);

/*
 * node_case_timeline.c: may visit cid (a check-in id; NULL for one being
 * checked in under visitor name vname) be linked to participant pid?  The
 * rule of POST /api/v1/case/participants/:id/visits, which the greeter's
 * check-in and desk actions follow too: the participant is held in this
 * Local Area (else 404 "id" when pid_in_path, 400 "participant_id"
 * otherwise), the visit is not linked to another participant (409), and a
 * visitor name that does not match the participant's is linked only when
 * confirm is set (409 with "name_mismatch" and "visitor_name").  The 409s
 * name "checkin_id" when pid_in_path, else "participant_id".  0 when the
 * link may be made; 1 when refused, with *rr the route's result to return
 * (the refusal is set: a name mismatch is a reply of its own, ROUTE_OK with
 * status 409, so the caller must not go on to write).
 */
int node_visit_link_check(route_call *a, const char *pid, int pid_in_path, const char *cid,
			  const char *vname, int confirm, route_rc *rr);

#endif
