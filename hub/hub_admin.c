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
 * every request look local.  The routes are declared (hub_api.h): the
 * privilege, the body keys and the write are the table's; each
 * state-changing action is HUB_AUDITED, so its hub_audit_events row is
 * written in the transaction of the change, or neither commits.
 */
#include "hub/hub_api.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "model/schema.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static route_rc offices_list(route_call *a)
{
	return hub_api_rows(a, "SELECT o.id, o.name, o.local_area_id, l.name AS local_area_name,"
			       " o.address, o.timezone, o.has_title1_partner, o.active,"
			       " (SELECT count(*) FROM nodes n WHERE n.office_id=o.id AND"
			       "  n.revoked_at IS NULL) AS nodes"
			       " FROM offices o LEFT JOIN local_areas l ON l.id=o.local_area_id"
			       " ORDER BY o.name");
}

/* Lag per node: acked seq (what it pushed), pull cursor against the head
 * of the change log, pull_lag (the change-log entries of its scope after its
 * cursor: what it still has to pull), last contact, the schema version and
 * release it last stated (against the hub's: hub_schema_version) and its
 * unresolved quarantined entries. */
static const char *const nodes_sql =
    "SELECT n.id, n.office_id, n.local_area_id, n.name, n.enrolled_at, n.revoked_at,"
    " n.last_seen_ms, n.acked_seq, n.pull_cursor, n.last_pull_ms, n.schema_version,"
    " n.release, n.last_error, (SELECT count(*) FROM quarantine q WHERE q.node_id=n.id AND"
    " q.resolved_at IS NULL) AS quarantined,"
    " (SELECT count(*) FROM change_log c WHERE c.seq > n.pull_cursor AND"
    "  (c.scope_office IS NULL OR c.scope_office=n.office_id) AND"
    "  (c.scope_la IS NULL OR c.scope_la=n.local_area_id)) AS pull_lag"
    " FROM nodes n ORDER BY n.office_id, n.enrolled_at LIMIT 1000";

static route_rc nodes_list(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	int64_t head = hub_head_seq(db);
	cJSON *r = db_rows_json_by(db, nodes_sql, NULL), *it;

	if (r == NULL)
		return ROUTE_DBERR;
	cJSON_ArrayForEach(it, r)
	{
		cJSON_AddNumberToObject(it, "head_seq", (double)head);
		cJSON_AddNumberToObject(it, "hub_schema_version", schema_version());
		cJSON_AddBoolToObject(
		    it, "revoked", !cJSON_IsNull(cJSON_GetObjectItem(it, "revoked_at")));
	}
	return route_ok(a, 200, r);
}

static route_rc node_revoke(route_call *a)
{
	const char *id = http_req_param(a->rc_req, "id");
	cJSON *o;
	int rc = hub_node_revoke_in(API_HUB(a)->hb_db, id);

	if (rc < 0)
		return ROUTE_DBERR;
	if (rc == DB_ABSENT)
		return route_fail(a, 404, NULL, "no node '%s'", id);
	if (hub_api_audit(a, "node.revoke", id, NULL) != 0 || (o = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddBoolToObject(o, "revoked", 1);
	log_info("node %s revoked by %s", id, a->rc_actor);
	return route_ok(a, 200, o);
}

static const route_key loss_keys[] = {
	{"through_seq", ROUTE_T_NUM, ROUTE_K_REQUIRED},
	{NULL, 0, 0},
};

/*
 * POST /api/v1/nodes/:id/accept-loss {"through_seq": N}: operations accepts
 * that the node's entries after the hub's acknowledgement up to N are lost -
 * a hub restored from a backup older than the office's sent log
 * (resend_days) lacks them, and the office cannot send them again.  The
 * node's next push then goes on at N + 1 (what its sent log and outbox
 * still hold: it says which N to give, outpost-sync status).  Audited
 * (node.accept_loss, with the range); only forward, and only up to the
 * entry before the first one the node offered past the gap (nodes.gap_seq,
 * hub_note_gap): a number beyond it would acknowledge entries the office
 * still holds, or has not written yet, and its pushes of them would then be
 * skipped as replays - its work dropped from its outbox, never applied.
 */
static route_rc node_accept_loss(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *id = http_req_param(a->rc_req, "id");
	char detail[96];
	int64_t through = 0, acked, gap;
	cJSON *o;

	if (route_int(a, "through_seq", JSON_REQUIRED, 1, INT64_MAX / 2, &through, NULL) != 0)
		return ROUTE_BAD;
	acked = db_int_bound(db, -2, "SELECT acked_seq FROM nodes WHERE id=?1", "t", id);
	if (acked == -2)
		return route_fail(a, 404, NULL, "no node '%s'", id);
	if (through <= acked)
		return route_fail(a, 409, "through_seq", "the hub holds this node's entries up to %"
			PRId64 " already: nothing after it is given up", acked);
	gap = db_int_bound(db, -2, "SELECT coalesce(gap_seq, 0) FROM nodes WHERE id=?1", "t", id);
	if (gap < 0)
		return ROUTE_DBERR;
	if (gap <= acked + 1)
		return route_fail(a, 409, "through_seq", "this node has not offered entries past a gap"
			" since the hub's last acknowledgement (%" PRId64 "): nothing is known lost;"
			" let it push first (outpost-sync push names the number to give)", acked);
	if (through >= gap)
		return route_fail(a, 409, "through_seq", "the node still holds entry %" PRId64
			" and those after it: give up at most the entries up to %" PRId64, gap, gap - 1);
	if (db_run(db, "UPDATE nodes SET acked_seq=?2 WHERE id=?1", "tI", id, through) != 0)
		return ROUTE_DBERR;
	snprintf(detail, sizeof detail, "{\"from\":%" PRId64 ",\"through\":%" PRId64 "}",
		 acked + 1, through);
	if (hub_api_audit(a, "node.accept_loss", id, detail) != 0 ||
	    (o = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddNumberToObject(o, "acked_seq", (double)through);
	log_warnx("node %s: entries %" PRId64 "..%" PRId64 " given up as lost by %s", id, acked + 1,
		  through, a->rc_actor);
	return route_ok(a, 200, o);
}

static const route_key enroll_code_keys[] = {
	{"office_id", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{NULL, 0, 0},
};

static route_rc enroll_code_create(route_call *a)
{
	const char *office = NULL;
	char code[20], shown[HUB_ENROLL_CODE_SHOWN], id[UUID_STRLEN];
	char detail[HUB_ENROLL_DETAIL];
	int64_t expires;
	cJSON *o;
	int rc;

	if (route_str(a, "office_id", JSON_REQUIRED, 1, 63, &office, NULL, 0) != 0)
		return ROUTE_BAD;
	rc = hub_enroll_code_new(API_HUB(a)->hb_db, office, HUB_ENROLL_TTL_S, a->rc_actor, code,
				 id, &expires);
	if (rc == 0)
		hub_enroll_code_detail(id, detail);
	if (rc == -2)
		return route_fail(a, 400, "office_id", "unknown office '%s'", office);
	if (rc == -3)
		return route_fail(a, 409, "office_id",
				  "office '%s' is closed (inactive): make it active to enroll a node",
				  office);
	if (rc != 0 || hub_api_audit(a, "enroll_code.create", office, detail) != 0 ||
	    (o = cJSON_CreateObject()) == NULL) {
		crypto_wipe(code, sizeof code);
		return ROUTE_DBERR;
	}
	if (hub_enroll_code_show(code, API_HUB(a)->hb_pin, shown) != 0) {
		crypto_wipe(code, sizeof code);
		cJSON_Delete(o);
		return ROUTE_DBERR;
	}
	cJSON_AddStringToObject(o, "code", shown); /* with the check of the hub's key */
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "office_id", office);
	cJSON_AddNumberToObject(o, "expires_at", (double)expires);
	crypto_wipe(code, sizeof code);
	crypto_wipe(shown, sizeof shown);
	return route_ok(a, 201, o);
}

/* GET /api/v1/enroll-codes: pending codes and the recent others, by id
 * (hub_enroll_codes_json), never the code or its hash. */
static route_rc enroll_codes_list(route_call *a)
{
	cJSON *rows = hub_enroll_codes_json(API_HUB(a)->hb_db);

	return rows ? route_ok(a, 200, rows) : ROUTE_DBERR;
}

/*
 * POST /api/v1/enroll-codes/:id/cancel: operations withdraws a pending code
 * (printed for the wrong office, or leaked) before it expires; enrollment
 * with it is then refused (410) as with an expired one.  Audited
 * (enroll_code.cancel, the office as subject, the id in the detail); 404
 * for an unknown id, 409 for a code used, expired or cancelled already.
 */
static route_rc enroll_code_cancel(route_call *a)
{
	const char *id = http_req_param(a->rc_req, "id"), *why = NULL;
	char office[64] = "", detail[HUB_ENROLL_DETAIL];
	cJSON *o;
	int rc = hub_enroll_code_cancel_in(API_HUB(a)->hb_db, id, a->rc_actor, office, &why);

	if (rc == DB_ABSENT)
		return route_fail(a, 404, NULL, "no enrollment code '%.40s'", id);
	if (rc == -2)
		return route_fail(a, 409, NULL, "%s", why);
	if (rc != DB_FOUND)
		return ROUTE_DBERR;
	hub_enroll_code_detail(id, detail);
	if (hub_api_audit(a, "enroll_code.cancel", office, detail) != 0 ||
	    (o = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "office_id", office);
	cJSON_AddStringToObject(o, "state", "cancelled");
	return route_ok(a, 200, o);
}

/* A participant's data (case work) or a visitor's (check-ins): its
 * values are read one conflict at a time, audited (conflict_get). */
static int conflict_values_private(const char *tbl)
{
	const char *m = tbl ? schema_table_module(tbl) : NULL;

	return m == NULL || strcmp(m, "casework") == 0 || strncmp(tbl, "checkin", 7) == 0;
}

/* The list, without the values of a participant's or a visitor's data
 * ("values_hidden": true): an address that lost a merge is not shown to
 * whoever lists the conflicts, unaudited. */
static route_rc conflicts_list(route_call *a)
{
	static const char *const values[] = {"base_value", "local_value", "remote_value"};
	char open[8];
	int only_open = http_req_query(a->rc_req, "open", open, sizeof open) &&
			strcmp(open, "1") == 0;
	cJSON *rows = db_rows_json_by(API_HUB(a)->hb_db,
				      only_open ? "SELECT * FROM conflicts WHERE resolved_at IS NULL"
						  " ORDER BY created_at DESC LIMIT 1000"
						: "SELECT * FROM conflicts ORDER BY created_at DESC"
						  " LIMIT 1000",
				      NULL),
	      *it;

	if (rows == NULL)
		return ROUTE_DBERR;
	cJSON_ArrayForEach(it, rows)
	{
		int hide = conflict_values_private(json_str(it, "tbl"));

		for (size_t i = 0; hide && i < sizeof values / sizeof values[0]; i++)
			cJSON_ReplaceItemInObjectCaseSensitive(it, values[i], cJSON_CreateNull());
		cJSON_AddBoolToObject(it, "values_hidden", hide);
	}
	return route_ok(a, 200, rows);
}

static route_rc quarantine_list(route_call *a)
{
	/* db_row_json leaves BLOBs (the raw changesets) out. */
	return hub_api_rows(a, "SELECT * FROM quarantine ORDER BY created_at DESC LIMIT 1000");
}

static route_rc audit_list(route_call *a)
{
	return hub_api_rows(a, "SELECT * FROM hub_audit_events ORDER BY at DESC LIMIT 1000");
}

cJSON *hub_sync_status_json(hub *h)
{
	sqlite3 *db = h->hb_db;
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
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
	return o;
}

static const route_def admin_defs[] = {
	{HTTP_M_GET, "/api/v1/offices", offices_list, HUB_P_OPS, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/nodes", nodes_list, HUB_P_OPS, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/nodes/:id/revoke", node_revoke, HUB_P_OPS, HUB_AUDITED, NULL, 0},
	{HTTP_M_POST, "/api/v1/nodes/:id/accept-loss", node_accept_loss, HUB_P_OPS,
	 ROUTE_BODY | HUB_AUDITED, loss_keys, 0},
	{HTTP_M_GET, "/api/v1/enroll-codes", enroll_codes_list, HUB_P_OPS, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/enroll-codes", enroll_code_create, HUB_P_OPS,
	 ROUTE_BODY | HUB_AUDITED, enroll_code_keys, 0},
	{HTTP_M_POST, "/api/v1/enroll-codes/:id/cancel", enroll_code_cancel, HUB_P_OPS,
	 HUB_AUDITED, NULL, 0},
	{HTTP_M_GET, "/api/v1/conflicts", conflicts_list, HUB_P_OPS, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/quarantine", quarantine_list, HUB_P_OPS, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/audit-events", audit_list, HUB_P_OPS, 0, NULL, 0},
};
const route_list hub_admin_route_list = ROUTE_LIST(admin_defs);
