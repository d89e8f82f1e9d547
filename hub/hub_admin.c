/*
 * hub_admin.c - the hub's JSON admin API (the console will sit on top of it):
 * offices, enrolled nodes with their replication lag, revoking a node,
 * enrollment codes, conflicts, quarantined entries, the audit trail and the
 * hub-wide sync status.
 *
 * Until staff logins reach the hub, every admin route requires the bearer
 * token kept in DIR/admin.token (created with mode 0600 at first start):
 * "Authorization: Bearer <token>".  A token rather than "loopback only"
 * because a reverse proxy or a port forward on the hub machine would make
 * every request look local.  Every state-changing action writes an
 * hub_audit_events row.
 */
#include "hub/hub.h"
#include "hub/acct.h"
#include "lib/log.h"
#include "model/schema.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int admin_auth(hub *h, http_req *req)
{
	acct_principal p;

	/* The bearer token, or an operations console session (hub/acct.h). */
	return acct_auth(h, req, &p, 1, 0);
}

static void reply_rows(http_req *req, cJSON *r)
{
	if (r == NULL) {
		http_reply_error(req, 500, NULL,
				 "the hub database could not complete the request");
		return;
	}
	http_reply_json(req, 200, r);
}

static void offices_list(http_req *req, void *ctx)
{
	hub *h = ctx;

	if (admin_auth(h, req) != 0)
		return;
	reply_rows(req,
		   db_rows_json_by(h->hb_db,
			"SELECT o.id, o.name, o.local_area_id, l.name AS local_area_name,"
			" o.address, o.timezone, o.has_title1_partner, o.active,"
			" (SELECT count(*) FROM nodes n WHERE n.office_id=o.id AND"
			"  n.revoked_at IS NULL) AS nodes"
			" FROM offices o LEFT JOIN local_areas l ON l.id=o.local_area_id"
			" ORDER BY o.name",
			NULL));
}

/* Lag per node: acked seq (what it pushed), pull cursor against the head
 * of the change log, pull_lag (the change-log entries of its scope after its
 * cursor: what it still has to pull), last contact, and its unresolved
 * quarantined entries. */
static const char *const nodes_sql =
    "SELECT n.id, n.office_id, n.local_area_id, n.name, n.enrolled_at, n.revoked_at,"
    " n.last_seen_ms, n.acked_seq, n.pull_cursor, n.last_pull_ms, n.schema_version,"
    " n.last_error, (SELECT count(*) FROM quarantine q WHERE q.node_id=n.id AND"
    " q.resolved_at IS NULL) AS quarantined,"
    " (SELECT count(*) FROM change_log c WHERE c.seq > n.pull_cursor AND"
    "  (c.scope_office IS NULL OR c.scope_office=n.office_id) AND"
    "  (c.scope_la IS NULL OR c.scope_la=n.local_area_id)) AS pull_lag"
    " FROM nodes n ORDER BY n.office_id, n.enrolled_at LIMIT 1000";

static void nodes_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	cJSON *r, *it;
	int64_t head;

	if (admin_auth(h, req) != 0)
		return;
	head = hub_head_seq(h->hb_db);
	r = db_rows_json_by(h->hb_db, nodes_sql, NULL);
	if (r == NULL) {
		reply_rows(req, NULL);
		return;
	}
	cJSON_ArrayForEach(it, r)
	{
		cJSON_AddNumberToObject(it, "head_seq", (double)head);
		cJSON_AddBoolToObject(
		    it, "revoked", !cJSON_IsNull(cJSON_GetObjectItem(it, "revoked_at")));
	}
	http_reply_json(req, 200, r);
}

static void node_revoke(http_req *req, void *ctx)
{
	hub *h = ctx;
	const char *id = http_req_param(req, "id");
	cJSON *o;
	int rc;

	if (admin_auth(h, req) != 0)
		return;
	rc = hub_node_revoke(h->hb_db, id, "admin-api");
	if (rc < 0) {
		http_reply_error(req, 500, NULL,
				 "the hub database could not complete the request");
		return;
	}
	if (rc == DB_ABSENT) {
		http_reply_error(req, 404, NULL, "no node '%s'", id);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddBoolToObject(o, "revoked", 1);
	http_reply_json(req, 200, o);
}

static void enroll_code_create(http_req *req, void *ctx)
{
	static const char *const allowed[] = {"office_id", NULL};
	hub *h = ctx;
	cJSON *body, *o;
	json_err je;
	const char *office = NULL;
	char code[20];
	int64_t expires;
	int rc;

	if (admin_auth(h, req) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, allowed, &je) != 0 ||
	    json_get_str(body, "office_id", JSON_REQUIRED, 1, 63, &office, NULL, 0,
			 &je) != 0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		cJSON_Delete(body);
		return;
	}
	rc = hub_enroll_code_new(h->hb_db, office, HUB_ENROLL_TTL_S, "admin-api", code,
				 &expires);
	if (rc == -2) {
		http_reply_error(req, 400, "office_id", "unknown office '%s'", office);
		cJSON_Delete(body);
		return;
	}
	if (rc != 0) {
		http_reply_error(req, 500, NULL,
				 "the hub could not create an enrollment code");
		cJSON_Delete(body);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddStringToObject(o, "office_id", office);
	cJSON_AddNumberToObject(o, "expires_at", (double)expires);
	memset(code, 0, sizeof code);
	cJSON_Delete(body);
	http_reply_json(req, 201, o);
}

static void conflicts_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	char open[8];

	if (admin_auth(h, req) != 0)
		return;
	if (http_req_query(req, "open", open, sizeof open) && strcmp(open, "1") == 0)
		reply_rows(req, db_rows_json_by(h->hb_db,
				     "SELECT * FROM conflicts WHERE resolved_at IS NULL "
				     "ORDER BY created_at DESC LIMIT 1000",
				     NULL));
	else
		reply_rows(
		    req,
		    db_rows_json_by(h->hb_db,
			 "SELECT * FROM conflicts ORDER BY created_at DESC LIMIT 1000",
			 NULL));
}

static void quarantine_list(http_req *req, void *ctx)
{
	hub *h = ctx;

	if (admin_auth(h, req) != 0)
		return;
	/* db_row_json leaves BLOBs (the raw changesets) out. */
	reply_rows(req,
		   db_rows_json_by(h->hb_db,
			"SELECT * FROM quarantine ORDER BY created_at DESC LIMIT 1000",
			NULL));
}

static void audit_list(http_req *req, void *ctx)
{
	hub *h = ctx;

	if (admin_auth(h, req) != 0)
		return;
	reply_rows(req,
		   db_rows_json_by(h->hb_db,
			"SELECT * FROM hub_audit_events ORDER BY at DESC LIMIT 1000", NULL));
}

void hub_admin_sync_status(hub *h, http_req *req)
{
	sqlite3 *db = h->hb_db;
	cJSON *o;

	if (admin_auth(h, req) != 0)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "role", "hub");
	cJSON_AddNumberToObject(o, "head_seq", (double)hub_head_seq(db));
	cJSON_AddNumberToObject(o, "schema_version", schema_version());
	cJSON_AddNumberToObject(
	    o, "nodes_enrolled",
	    (double)db_int(db, "SELECT count(*) FROM nodes WHERE revoked_at IS NULL", 0));
	cJSON_AddNumberToObject(
	    o, "nodes_revoked",
	    (double)db_int(db, "SELECT count(*) FROM nodes WHERE revoked_at IS NOT NULL",
			   0));
	cJSON_AddNumberToObject(
	    o, "min_pull_cursor",
	    (double)db_int(db,
			   "SELECT coalesce(min(pull_cursor), 0) FROM nodes "
			   "WHERE revoked_at IS NULL",
			   0));
	cJSON_AddNumberToObject(
	    o, "oldest_contact_ms",
	    (double)db_int(db,
			   "SELECT coalesce(min(last_seen_ms), 0) FROM nodes "
			   "WHERE revoked_at IS NULL",
			   0));
	cJSON_AddNumberToObject(
	    o, "quarantined",
	    (double)db_int(
		db, "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL", -1));
	cJSON_AddNumberToObject(
	    o, "open_conflicts",
	    (double)db_int(db, "SELECT count(*) FROM conflicts WHERE resolved_at IS NULL",
			   -1));
	cJSON_AddNumberToObject(
	    o, "change_log_rows",
	    (double)db_int(db, "SELECT count(*) FROM change_log", -1));
	cJSON_AddStringToObject(o, "hub_pin", h->hb_pin);
	cJSON_AddNumberToObject(o, "hub_time_ms", (double)hub_now_ms());
	http_reply_json(req, 200, o);
}

int hub_admin_routes(hub *h, router *r)
{
	int rc = 0;

	rc |= router_add(r, HTTP_M_GET, "/api/v1/offices", offices_list, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/nodes", nodes_list, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/nodes/:id/revoke", node_revoke, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/enroll-codes", enroll_code_create, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/conflicts", conflicts_list, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/quarantine", quarantine_list, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/audit-events", audit_list, h);
	return rc ? -1 : 0;
}
