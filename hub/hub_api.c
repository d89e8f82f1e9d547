/*
 * hub_api.c - the hub's route table and its plugs into the dispatcher of
 * lib/route.c (see hub_api.h for the order and the rules).
 */
#include "hub/hub_api.h"
#include "lib/crypto.h"
#include "lib/log.h"

#include <stdlib.h>
#include <string.h>

const route_list *const hub_route_lists[] = {
	&hub_admin_route_list,
	&hub_codes_route_list,
	&hub_console_route_list,
	&hub_sync_route_list,
	&hub_ca_route_list,
	&acct_session_route_list,
	&acct_api_route_list,
	&acct_request_route_list,
	&acct_staff_route_list,
	&acct_review_route_list,
	&hub_setup_route_list,
	&hub_verifier_route_list,
	&hub_crm_route_list,
	&hub_case_route_list,
	&hub_case_console_route_list,
	&acct_state_route_list,
	NULL,
};

/* The caller of the call under way (loop thread only: one at a time). */
static acct_principal api_principal;
static hub_node api_node;
static route_table *api_table;

/* Is req to row d a node's signed request (else a person's)?  On a row
 * that an administrator may also call (HUB_P_OR_ADMIN), a request without
 * X-Outpost-Node that carries the admin token or a console session is a
 * person's: a signed-in console reads the hub-wide view there as the token
 * does (it was taken for an unsigned node's, and the operations account
 * got 401). */
static int node_caller(const route_def *d, http_req *req)
{
	char tok[128];
	int session;

	if (!(d->rd_privs & HUB_P_NODE))
		return 0;
	if (!(d->rd_privs & HUB_P_OR_ADMIN) ||
	    http_req_header(req, "x-outpost-node") != NULL)
		return 1;
	session = http_req_cookie(req, ACCT_COOKIE, tok, sizeof tok) != NULL;
	crypto_wipe(tok, sizeof tok);
	return !session && http_req_header(req, "authorization") == NULL;
}

const hub_node *hub_api_node(const route_call *a)
{
	return a->rc_user == &api_node ? &api_node : NULL;
}

static int api_auth(route_call *a)
{
	unsigned privs = a->rc_route->rd_privs;

	if (a->rc_route->rd_flags & ROUTE_PUBLIC)
		return 0;
	if (node_caller(a->rc_route, a->rc_req)) {
		if (hub_sync_auth(API_HUB(a), a->rc_req, &api_node, (privs & HUB_P_SYNC_JOB) != 0) !=
		    0)
			return -1; /* 401/409/500 sent */
		/* The secret served its purpose: no route needs it. */
		crypto_wipe(api_node.hn_secret, sizeof api_node.hn_secret);
		a->rc_user = &api_node;
		a->rc_actor = api_node.hn_id;
		return 0;
	}
	if (acct_auth(API_HUB(a), a->rc_req, &api_principal,
		      ((privs & (HUB_P_OPS | HUB_P_OR_ADMIN)) ? ACCT_AUTH_OPS : 0) |
			      ((privs & HUB_P_TEMP) ? ACCT_AUTH_TEMP : 0) |
			      ((privs & HUB_P_APPROVER) ? ACCT_AUTH_APPROVER : 0)) != 0)
		return -1; /* 401/403 sent */
	a->rc_user = &api_principal;
	a->rc_actor = api_principal.ap_username;
	return 0;
}

/* The privilege of row d from req's headers alone (route.h, ro_head): a
 * node's signature, or any caller known to the hub (the role and the CSRF
 * token are the dispatcher's, once the body is in). */
static int api_head(void *ctx, const route_def *d, http_req *req, const char **field,
		    const char **msg)
{
	hub *h = ctx;

	*field = NULL;
	if (node_caller(d, req))
		return hub_sync_head_check(h, req, 1, msg);
	if (hub_edge_caller_known(h, req))
		return 0;
	*msg = "sign in before sending a body";
	return 401;
}

int hub_api_head_check(hub *h, http_req *req, int *declared, const char **why)
{
	const route_def *d;
	const char *field;

	*declared = 0;
	if (api_table == NULL || api_table->rt_ctx != h)
		return 0;
	d = route_find(api_table, req->method, req->target);
	*declared = d != NULL && !(d->rd_flags & ROUTE_PUBLIC);
	return route_head_check(api_table, req, &field, why);
}

static int api_begin(route_call *a)
{
	return db_exec(API_HUB(a)->hb_db, "BEGIN IMMEDIATE");
}

static void api_commit(route_call *a, int status, const char *ctype, char *body, size_t len)
{
	if (body == NULL || db_exec(API_HUB(a)->hb_db, "COMMIT") != 0) {
		int err = db_take_error();
		db_exec(API_HUB(a)->hb_db, "ROLLBACK");
		http_reply_error(a->rc_req, db_http_status(err), NULL, "%s", db_error_text(err));
	} else {
		http_reply(a->rc_req, status, ctype ? ctype : "application/json", body, len);
	}
	free(body);
}

static void api_abort(route_call *a)
{
	db_exec(API_HUB(a)->hb_db, "ROLLBACK");
}

int hub_api_audit(route_call *a, const char *action, const char *subject, const char *detail)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || (subject && cJSON_AddStringToObject(o, "subject", subject) == NULL) ||
	    (detail && cJSON_AddStringToObject(o, "detail", detail) == NULL)) {
		cJSON_Delete(o);
		return -1;
	}
	cJSON_Delete(a->rc_audit);
	a->rc_audit = o;
	a->rc_audit_action = action;
	return 0;
}

int hub_api_admin_audit(route_call *a, const char *action, const char *table, const char *id,
			const char *la, const char *div, const char *before, const char *after)
{
	const char *k[] = {"table", "id", "la", "div", "before", "after"};
	const char *v[] = {table, id, la, div, before, after};
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (o == NULL || cJSON_AddBoolToObject(o, "admin", 1) == NULL)
		goto fail;
	for (i = 0; i < sizeof k / sizeof k[0]; i++)
		if (v[i] && cJSON_AddStringToObject(o, k[i], v[i]) == NULL)
			goto fail;
	cJSON_Delete(a->rc_audit);
	a->rc_audit = o;
	a->rc_audit_action = action;
	return 0;
fail:
	cJSON_Delete(o);
	return -1;
}

/* The row hub_api_audit() or hub_api_admin_audit() described, inside the
 * write (hub_audit_events or admin_audit). */
static int api_audit(route_call *a)
{
	const cJSON *o = a->rc_audit;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "admin")))
		return acct_audit(API_HUB(a)->hb_db, API_ADMIN(a), a->rc_req->peer,
				  a->rc_audit_action, json_str(o, "table"), json_str(o, "id"),
				  json_str(o, "la"), json_str(o, "div"), json_str(o, "before"),
				  json_str(o, "after"));
	return hub_audit(API_HUB(a)->hb_db, a->rc_actor ? a->rc_actor : "?", a->rc_audit_action,
			 json_str(a->rc_audit, "subject"), json_str(a->rc_audit, "detail"));
}

static const char *api_errmsg(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;

	return sqlite3_errcode(db) != SQLITE_OK ? sqlite3_errmsg(db) : NULL;
}

static const route_ops hub_ops = {
	.ro_auth = api_auth,
	.ro_head = api_head,
	.ro_begin = api_begin,
	.ro_commit = api_commit,
	.ro_abort = api_abort,
	.ro_audit = api_audit,
	.ro_errmsg = api_errmsg,
};

route_rc hub_api_rows(route_call *a, const char *sql)
{
	return route_ok(a, 200, db_rows_json_by(API_HUB(a)->hb_db, sql, NULL));
}

int hub_api_routes(hub *h, router *r)
{
	api_table = route_table_new(r, hub_route_lists, &hub_ops, h);
	return api_table ? 0 : -1;
}

void hub_api_free(hub *h)
{
	(void)h;
	route_table_destroy(api_table);
	api_table = NULL;
}
