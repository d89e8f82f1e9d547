/*
 * hub_api.c - the hub's route table and its plugs into the dispatcher of
 * lib/route.c (see hub_api.h for the order and the rules).
 */
#include "hub/hub_api.h"
#include "lib/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const route_list *const hub_route_lists[] = {
	&hub_admin_route_list,
	&hub_console_route_list,
	&acct_session_route_list,
	&acct_api_route_list,
	&acct_request_route_list,
	&acct_staff_route_list,
	&acct_review_route_list,
	&hub_setup_route_list,
	NULL,
};

/* The caller of the call under way (loop thread only: one at a time). */
static acct_principal api_principal;
static route_table *api_table;

static int api_auth(route_call *a)
{
	unsigned privs = a->rc_route->rd_privs;

	if (a->rc_route->rd_flags & ROUTE_PUBLIC) {
		/* The one public row, sign-in, takes JSON only: a cross-site
		 * form cannot post it. */
		const char *ct = http_req_header(a->rc_req, "content-type");
		if ((a->rc_route->rd_flags & ROUTE_BODY) &&
		    (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)) {
			http_reply_error(a->rc_req, 415, NULL, "send it as application/json");
			return -1;
		}
		return 0;
	}
	if (acct_auth(API_HUB(a), a->rc_req, &api_principal, (privs & HUB_P_OPS) != 0,
		      (privs & HUB_P_TEMP) != 0) != 0)
		return -1; /* 401/403 sent */
	a->rc_user = &api_principal;
	a->rc_actor = api_principal.ap_username;
	return 0;
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
	return sqlite3_errmsg(API_HUB(a)->hb_db);
}

static const route_ops hub_ops = {
	.ro_auth = api_auth,
	.ro_begin = api_begin,
	.ro_commit = api_commit,
	.ro_abort = api_abort,
	.ro_audit = api_audit,
	.ro_errmsg = api_errmsg,
};

int hub_api_routes(hub *h, router *r)
{
	const route_list *const *l;

	if (api_table == NULL) {
		if ((api_table = calloc(1, sizeof *api_table)) == NULL)
			return -1;
		api_table->rt_lists = hub_route_lists;
		api_table->rt_ops = &hub_ops;
	}
	api_table->rt_ctx = h;
	for (l = hub_route_lists; *l; l++)
		if (route_register(r, api_table, *l) != 0)
			return -1;
	return 0;
}

void hub_api_free(hub *h)
{
	(void)h;
	if (api_table == NULL)
		return;
	route_table_free(api_table);
	free(api_table);
	api_table = NULL;
}
