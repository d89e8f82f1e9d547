/*
 * node_api.c - the office node's route table and its plugs into the
 * dispatcher of lib/route.c (see node_api.h for the order and the rules).
 */
#include "node/node_api.h"
#include "model/capture.h"
#include "lib/log.h"

#include <stdlib.h>

const route_list *const node_route_lists[] = {
	&login_route_list,
	&greeter_route_list,
	&greeter_days_route_list,
	&case_route_list,
	&case_timeline_route_list,
	&case_work_route_list,
	&case_compliance_route_list,
	&case_approvals_route_list,
	&case_forms_route_list,
	&crm_route_list,
	&crm_employers_route_list,
	&crm_review_route_list,
	&crm_contacts_route_list,
	&crm_services_route_list,
	&crm_work_route_list,
	&crm_reports_route_list,
	&crm_attach_route_list,
	&crm_jobs_route_list,
	&live_route_list,
	&sync_route_list,
	&web_route_list, /* last: its catch-all takes what no other route does */
	NULL,
};

struct capture *node_api_capture(route_call *a)
{
	return a->rc_txn;
}

route_rc node_api_rows(route_call *a, const char *sql)
{
	return route_ok(a, 200, db_rows_json_by(API_NODE(a)->nd_db, sql, NULL));
}

static int api_auth(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u;

	if (a->rc_route->rd_flags & ROUTE_PUBLIC)
		return 0;
	if (a->rc_route->rd_flags & ROUTE_SESSION) {
		const char *field, *msg;
		int status = node_auth_check_session(n, a->rc_req, &field, &msg);
		if (status != 0) {
			http_reply_error(a->rc_req, status, field, "%s", msg);
			return -1;
		}
		return 0; /* node_auth_user() holds back such a session: the function finds it */
	}
	if (node_auth_require_user(n, a->rc_req, a->rc_route->rd_privs, &u) != 0)
		return -1;
	a->rc_user = u;
	a->rc_actor = u ? u->id : NULL;
	return 0;
}

/* Before the body: no session (401) or a missing privilege (403).  A refusal
 * that names a field (a missing CSRF token, a temporary password still to
 * change) is left to the dispatcher, whose reply can name it: the edge's
 * early refusal carries a message only. */
static int api_head(void *ctx, const route_def *d, http_req *req, const char **field,
		    const char **msg)
{
	int st = (d->rd_flags & ROUTE_SESSION) ? node_auth_check_session(ctx, req, field, msg)
					       : node_auth_check(ctx, req, d->rd_privs, field, msg);

	if (st != 0 && *field != NULL)
		return 0;
	return st;
}

static int api_begin(route_call *a)
{
	capture *c = calloc(1, sizeof *c);

	if (c == NULL)
		return -1;
	if (node_write_begin(API_NODE(a), c) != 0) {
		free(c);
		return -1;
	}
	a->rc_txn = c;
	return 0;
}

static void api_commit(route_call *a, int status, const char *ctype, char *body, size_t len)
{
	node_write_finish_body(API_NODE(a), a->rc_txn, a->rc_actor, a->rc_req, status, ctype, body,
			       len);
	free(a->rc_txn);
	a->rc_txn = NULL;
}

static void api_abort(route_call *a)
{
	capture_abort(a->rc_txn);
	free(a->rc_txn);
	a->rc_txn = NULL;
}

static const char *api_errmsg(route_call *a)
{
	sqlite3 *db = API_NODE(a)->nd_db;

	return sqlite3_errcode(db) != SQLITE_OK ? sqlite3_errmsg(db) : NULL;
}

static void api_dberr(route_call *a)
{
	node_reply_db_error(a->rc_req);
}

static const route_ops node_ops = {
	.ro_auth = api_auth,
	.ro_head = api_head,
	.ro_begin = api_begin,
	.ro_commit = api_commit,
	.ro_abort = api_abort,
	.ro_errmsg = api_errmsg,
	.ro_dberr = api_dberr,
};

int node_api_routes(node *n, router *r)
{
	n->nd_api = route_table_new(r, node_route_lists, &node_ops, n);
	return n->nd_api ? 0 : -1;
}

void node_api_free(node *n)
{
	route_table_destroy(n->nd_api);
	n->nd_api = NULL;
}

int node_api_head_check(node *n, http_req *req, const char **field, const char **msg)
{
	*field = NULL;
	*msg = NULL;
	if (n->nd_api == NULL)
		return 0;
	return route_head_check(n->nd_api, req, field, msg);
}

int node_api_pre_body(http_req *req, void *ctx, const char **why)
{
	const char *field;

	return node_api_head_check(ctx, req, &field, why);
}
