/*
 * hub_sync_api.c - the replication API of sync/sync.h at the hub as rows of
 * its route table (hub_api.h): enrollment (public, one audited write), and
 * the signed routes of a node (HUB_P_NODE: hub_sync_auth.c says who signed,
 * before the body through the table's pre-body check and after it in the
 * dispatcher).  Push, pull pages, snapshots and digests are ROUTE_DEFER:
 * their work runs in the thread pool (hub_sync.c) and replies from there;
 * the rest reply here.  Every reply carries the hub clock (X-Outpost-Time).
 */
#include "hub/hub_api.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "model/casework.h"
#include "model/schema.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the node's routes ------------------------------------------------------- */

static route_rc sync_push(route_call *a)
{
	hub_sync_job_start(API_HUB(a), a->rc_req, API_NODE(a), HUB_JOB_PUSH, 0, 0, NULL);
	return ROUTE_TAKEN;
}

/* A query the hub cannot take: 400 naming field, with the hub clock. */
static route_rc bad_query(route_call *a, const char *field, const char *msg)
{
	hub_sync_add_time(a->rc_req);
	return route_fail(a, 400, field, "%s", msg);
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < 0 || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

/*
 * Rows go down only to a node of the hub's own schema: one of another
 * version would apply pages of tables it does not have, or (before paged
 * snapshots) take the first snapshot page for the whole.  0 when the
 * versions agree, else the 426 reply is set (return ROUTE_OK) and the
 * refusal is the node's Last error, as a refused push's is (hub_sync.c):
 * the console says why that office does not sync.  Written on the loop
 * only when it changes; the request's contact (its stated version and
 * release, the console's Version column) with it, as a job writes its
 * contact before it replies (hub_work.c), when the write lock is free.
 */
static int schema_gate(route_call *a, const char *what)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *id = API_NODE(a)->hn_id;
	const char *v = http_req_header(a->rc_req, "x-outpost-schema");
	int digits = v && *v && strspn(v, "0123456789") == strlen(v) && strlen(v) < 10;
	char msg[256];
	cJSON *o;

	if (digits && atoll(v) == schema_version())
		return 0;
	hub_schema_refusal(msg, sizeof msg, what, digits ? atoll(v) : -1);
	if (db_int_bound(db, 0, "SELECT last_error IS NOT ?2 FROM nodes WHERE id=?1", "tt", id,
			 msg) == 1 &&
	    db_run(db, "UPDATE nodes SET last_error=?2 WHERE id=?1", "tt", id, msg) != 0)
		log_warnx("node %s: cannot record its refusal: %s", id, msg);
	if (API_NODE(a)->hn_contact != 0 && uv_mutex_trylock(&API_HUB(a)->hb_wlock) == 0) {
		hub_progress_flush(API_HUB(a));
		uv_mutex_unlock(&API_HUB(a)->hb_wlock);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", msg);
	if (digits)
		cJSON_AddNumberToObject(o, "schema_version", (double)atoll(v));
	cJSON_AddNumberToObject(o, "hub_schema_version", schema_version());
	hub_sync_add_time(a->rc_req);
	route_ok(a, 426, o);
	return -1;
}

static route_rc sync_pull(route_call *a)
{
	hub *h = API_HUB(a);
	char s[32];
	int64_t after = 0, max = SYNC_MAX_PULL_ROWS;

	if (schema_gate(a, "pull") != 0)
		return ROUTE_OK;
	hub_keys_wrap_new(h->hb_db); /* no node ever pulls a plain SSN key */
	/* After a rotation, a batch of the stored SSNs under the new key, when
	 * no push holds the write lock (the loop does not wait for one). */
	if (uv_mutex_trylock(&h->hb_wlock) == 0) {
		hub_keys_reencrypt(h->hb_db, hub_clock(h), 0);
		uv_mutex_unlock(&h->hb_wlock);
	}
	if (http_req_query(a->rc_req, "after", s, sizeof s) && parse_i64(s, &after) != 0)
		return bad_query(a, "after", "'after' must be a non-negative integer");
	if (http_req_query(a->rc_req, "max", s, sizeof s) && (parse_i64(s, &max) != 0 || max < 1))
		return bad_query(a, "max", "'max' must be a positive integer");
	if (max > SYNC_MAX_PULL_ROWS)
		max = SYNC_MAX_PULL_ROWS;
	hub_sync_job_start(h, a->rc_req, API_NODE(a), HUB_JOB_PULL, after, (int)max, NULL);
	return ROUTE_TAKEN;
}

/*
 * GET /api/v1/sync/snapshot[?seq=S&after_table=T&after_id=K] (sync.h): no
 * query for the first page, all three for the next ones.  What can be
 * checked without the database is checked here; S against the log head in
 * the job.
 */
static route_rc sync_snapshot(route_call *a)
{
	hub *h = API_HUB(a);
	http_req *req = a->rc_req;
	sync_snap_pos pos;
	char sq[32], tbl[sizeof pos.sp_table], id[SYNC_SNAPSHOT_ID_MAX + 1];
	int64_t seq = -1;
	int hs, ht, hi;

	if (schema_gate(a, "snapshot") != 0)
		return ROUTE_OK;
	hub_keys_wrap_new(h->hb_db);
	hs = http_req_query_get(req, "seq", sq, sizeof sq);
	ht = http_req_query_get(req, "after_table", tbl, sizeof tbl);
	hi = http_req_query_get(req, "after_id", id, sizeof id);
	if (hs == 0 && ht == 0 && hi == 0) {
		hub_sync_job_start(h, req, API_NODE(a), HUB_JOB_SNAPSHOT, -1, 0, NULL);
		return ROUTE_TAKEN;
	}
	if (hs == 0 || ht == 0 || hi == 0)
		return bad_query(a, NULL,
				 "a snapshot position is 'seq', 'after_table' and 'after_id' "
				 "together (none for the first page)");
	if (hs < 0 || parse_i64(sq, &seq) != 0)
		return bad_query(a, "seq", "'seq' must be a non-negative integer");
	if (ht < 0 || sync_snap_pos_set(&pos, tbl, "-") != 0)
		return bad_query(a, "after_table", "'after_table' is not a table office nodes hold");
	if (hi < 0 || sync_snap_pos_set(&pos, tbl, id) != 0) {
		char why[96];
		snprintf(why, sizeof why, "'after_id' must be a row id of 1 to %d bytes",
			 SYNC_SNAPSHOT_ID_MAX);
		return bad_query(a, "after_id", why);
	}
	hub_sync_job_start(h, req, API_NODE(a), HUB_JOB_SNAPSHOT, seq, 0, &pos);
	return ROUTE_TAKEN;
}

static route_rc sync_digests(route_call *a)
{
	hub_sync_job_start(API_HUB(a), a->rc_req, API_NODE(a), HUB_JOB_DIGEST, 0, 0, NULL);
	return ROUTE_TAKEN;
}

/*
 * What the node still has to pull, counted in its scope (the head of the log
 * also counts other offices' changes): "pull_lag" change-log entries after
 * the cursor it last pulled from, and when the oldest of them was made
 * ("oldest_unpulled_ms", null when none).  Costs a scan of the entries after
 * the cursor, i.e. of the lag itself.
 */
static void add_pull_lag(sqlite3 *db, const hub_node *n, cJSON *o)
{
	sqlite3_stmt *st = NULL;
	int64_t lag = -1, oldest = 0;
	int have = 0;

	if (db_prepare_bound(db, &st,
			     "SELECT count(*), min(c.at) FROM change_log c, nodes n WHERE n.id=?1"
			     " AND c.seq > n.pull_cursor"
			     " AND (c.scope_office IS NULL OR c.scope_office=n.office_id)"
			     " AND (c.scope_la IS NULL OR c.scope_la=n.local_area_id)",
			     "t", n->hn_id) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			lag = sqlite3_column_int64(st, 0);
			have = sqlite3_column_type(st, 1) != SQLITE_NULL;
			oldest = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
	}
	cJSON_AddNumberToObject(o, "pull_lag", (double)lag);
	if (have) {
		uint64_t now = hub_now_ms();
		cJSON_AddNumberToObject(o, "oldest_unpulled_ms", (double)oldest);
		cJSON_AddNumberToObject(o, "oldest_unpulled_age_ms",
					(int64_t)now > oldest ? (double)((int64_t)now - oldest) : 0);
	} else {
		cJSON_AddNullToObject(o, "oldest_unpulled_ms");
		cJSON_AddNullToObject(o, "oldest_unpulled_age_ms");
	}
}

/* The node's unresolved conflicts in its scope, or -1. */
static int64_t open_conflicts(sqlite3 *db, const hub_node *n)
{
	sqlite3_stmt *c = NULL;
	int64_t nc = -1;

	if (db_prepare_bound(db, &c,
			     "SELECT count(*) FROM conflicts WHERE resolved_at IS NULL AND"
			     " (scope_office IS NULL OR scope_office=?) AND"
			     " (scope_la IS NULL OR scope_la=?)",
			     "tt", n->hn_office, n->hn_la) == 0) {
		if (sqlite3_step(c) == SQLITE_ROW)
			nc = sqlite3_column_int64(c, 0);
		sqlite3_finalize(c);
	}
	return nc;
}

/* GET /api/v1/sync/status: the node's own view, or (an administrator, no
 * X-Outpost-Node: HUB_P_OR_ADMIN) the hub-wide one. */
static route_rc sync_status(route_call *a)
{
	hub *h = API_HUB(a);
	const hub_node *n = API_NODE(a);
	cJSON *o, *q;

	hub_sync_add_time(a->rc_req);
	if (n == NULL)
		return (o = hub_sync_status_json(h)) ? route_ok(a, 200, o) : ROUTE_DBERR;
	o = db_row_json_by(h->hb_db,
			   "SELECT id AS node_id, office_id, local_area_id, name, enrolled_at,"
			   " acked_seq, pull_cursor, last_seen_ms, last_pull_ms, schema_version,"
			   " last_error FROM nodes WHERE id=?",
			   n->hn_id);
	if (o == NULL)
		return ROUTE_DBERR;
	cJSON_AddNumberToObject(o, "head_seq", (double)hub_head_seq(h->hb_db));
	add_pull_lag(h->hb_db, n, o);
	q = db_rows_json_by(h->hb_db,
			    "SELECT seq, tbl, reason, created_at, resolved_at FROM quarantine "
			    "WHERE node_id=? ORDER BY seq LIMIT 100",
			    n->hn_id);
	if (q)
		cJSON_AddItemToObject(o, "quarantined", q);
	cJSON_AddNumberToObject(o, "open_conflicts", (double)open_conflicts(h->hb_db, n));
	cJSON_AddNumberToObject(o, "schema_version_hub", schema_version());
	cJSON_AddNumberToObject(o, "hub_time_ms", (double)hub_now_ms());
	return route_ok(a, 200, o);
}

/* GET /api/v1/sync/la-key: the wrapping key of the node's Local Area's SSN
 * keys at their newest epoch (hub_keys.c), which the node keeps in its
 * sync.json, never in node.db (a revoked node gets 401 before this). */
static route_rc sync_la_key(route_call *a)
{
	const hub_node *n = API_NODE(a);
	unsigned char k[32];
	char hex[65];
	cJSON *o;

	hub_sync_add_time(a->rc_req);
	/* The newest epoch's: every key of the Local Area is wrapped under it. */
	if (hub_la_key(n->hn_la, case_key_epoch(API_HUB(a)->hb_db, n->hn_la), k) != 0)
		return route_fail(a, 500, NULL, "the hub has no master key");
	crypto_hex(k, sizeof k, hex);
	crypto_wipe(k, sizeof k);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "local_area_id", n->hn_la);
	cJSON_AddStringToObject(o, "la_key", hex);
	crypto_wipe(hex, sizeof hex);
	http_add_header(a->rc_req, "Cache-Control", "no-store");
	return route_ok(a, 200, o);
}

static route_rc sync_conflicts(route_call *a)
{
	const hub_node *n = API_NODE(a);
	cJSON *rows;

	hub_sync_add_time(a->rc_req);
	rows = db_rows_json_args(
	    API_HUB(a)->hb_db,
	    "SELECT * FROM conflicts WHERE (scope_office IS NULL OR scope_office=?) "
	    "AND (scope_la IS NULL OR scope_la=?) ORDER BY created_at DESC LIMIT 1000", 2,
	    (const char *const[]){n->hn_office, n->hn_la});
	return rows ? route_ok(a, 200, rows) : ROUTE_DBERR;
}

/* ---- enrollment (the only unsigned sync request) ------------------------------- */

/* Inside the enrollment's transaction: the code of hash is known, unused,
 * not cancelled, unexpired and its office still exists and is active;
 * office and la get its office and Local Area.  0, or -1 with *status (401,
 * 410, 409; 500 a database error) and *why. */
static int enroll_code_check(sqlite3 *db, const char *hash, int64_t now, char office[64],
			     char la[64], int *status, const char **why)
{
	sqlite3_stmt *st = NULL;
	const char *o, *l;
	int64_t expires;
	int used, cancelled, active, rc;

	*status = 500;
	if (db_prepare_bound(db, &st,
			     "SELECT e.office_id, e.expires_at, e.used_at IS NOT NULL, o.local_area_id,"
			     " coalesce(o.active, 1), e.cancelled_at IS NOT NULL"
			     " FROM enroll_codes e LEFT JOIN offices o ON o.id=e.office_id"
			     " WHERE e.code_hash=?", "t", hash) != 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE) {
			*status = 401;
			*why = "unknown enrollment code";
		}
		return -1;
	}
	o = db_col(st, 0);
	l = db_col(st, 3); /* "" when the office is gone */
	if (o == NULL || l == NULL) {
		sqlite3_finalize(st); /* out of memory: 500 */
		return -1;
	}
	snprintf(office, 64, "%s", o);
	snprintf(la, 64, "%s", l);
	expires = sqlite3_column_int64(st, 1);
	used = sqlite3_column_int(st, 2);
	active = sqlite3_column_int(st, 4);
	cancelled = sqlite3_column_int(st, 5);
	sqlite3_finalize(st);
	if (used || cancelled || expires <= now) {
		*status = 410;
		if (used)
			*why = "this enrollment code has already been used: ask for a new one";
		else if (cancelled)
			*why = "this enrollment code was cancelled at the hub: ask for a new one";
		else
			*why = "this enrollment code has expired: ask for a new one";
		return -1;
	}
	if (la[0] == '\0') {
		*status = 409;
		*why = "the office of this enrollment code no longer exists";
		return -1;
	}
	if (!active) {
		*status = 409;
		*why = "the office of this enrollment code is closed (inactive at the hub)";
		return -1;
	}
	return 0;
}

/* Inside the enrollment's transaction: the new node and the code used up.
 * 0 or -1. */
static int enroll_node_add(sqlite3 *db, const char *hash, const char *node_id,
			   const char *secret_hex, const char *office, const char *la,
			   const char *hostname, int64_t now)
{
	if (db_run(db, "INSERT INTO nodes(id, office_id, local_area_id, name, secret_hex, enrolled_at)"
		       " VALUES(?, ?, ?, ?, ?, ?)",
		   "tttttI", node_id, office, la, hostname, secret_hex, now) != 0 ||
	    db_run(db, "UPDATE enroll_codes SET used_at=?, used_by_node=? WHERE code_hash=?"
		       " AND used_at IS NULL", "Itt", now, node_id, hash) != 0)
		return -1;
	return sqlite3_changes(db) == 1 ? 0 : -1;
}

static cJSON *enroll_reply(hub *h, const char *node_id, const char *secret_hex,
			   const char *office, const char *la, const char *cert)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "node_id", node_id);
	cJSON_AddStringToObject(o, "node_secret", secret_hex);
	cJSON_AddStringToObject(o, "office_id", office);
	cJSON_AddStringToObject(o, "local_area_id", la);
	cJSON_AddStringToObject(o, "hub_pin", h->hb_pin);
	cJSON_AddNumberToObject(o, "hub_time_ms", (double)hub_now_ms());
	cJSON_AddNumberToObject(o, "schema_version", schema_version());
	hub_ca_reply(h, o, cert);
	return o;
}

/* A refused enrollment: logged with the peer, the one error shape. */
static route_rc enroll_refuse(route_call *a, int status, const char *field, const char *why)
{
	log_info("refused %s %s from %s: %s", a->rc_req->method_str, a->rc_req->path,
		 a->rc_req->peer, why);
	return route_fail(a, status, field, "%s", why);
}

/*
 * POST /api/v1/sync/enroll {code, hostname, csr, names}: inside the
 * dispatcher's transaction the code is checked and spent, the node made
 * with its secret wrapped under DATA/master.key (hub_keys.c) and its
 * certificate signed (hub_ca.c) before the code is spent; the node's secret
 * goes out only once all of it is committed.
 */
static route_rc sync_enroll(route_call *a)
{
	hub *h = API_HUB(a);
	const char *code = NULL, *hostname = NULL, *why = NULL;
	char norm[17], hash[65], node_id[UUID_STRLEN], secret_hex[2 * SYNC_SECRET_LEN + 1] = "";
	char wrapped[CRYPTO_WRAP_LEN(SYNC_SECRET_LEN)], office[64] = "", la[64] = "";
	unsigned char digest[32], secret[SYNC_SECRET_LEN];
	int64_t now = (int64_t)hub_now_ms();
	hub_ca_grant g;
	int status;
	route_rc rc = ROUTE_DBERR;

	hub_sync_add_time(a->rc_req);
	a->rc_actor = "enroll";
	status = route_str(a, "code", JSON_REQUIRED, 1, 64, &code, NULL, 0);
	if (route_str(a, "hostname", JSON_OPTIONAL, 1, 255, &hostname, NULL, 0) != 0 || status != 0)
		return ROUTE_BAD;
	if (hub_enroll_code_norm(code, norm) != 0)
		return enroll_refuse(a, 401, NULL, "unknown enrollment code");
	crypto_sha256(norm, 16, digest);
	crypto_hex(digest, sizeof digest, hash);
	if (enroll_code_check(h->hb_db, hash, now, office, la, &status, &why) != 0)
		return status == 500 ? ROUTE_DBERR : enroll_refuse(a, status, NULL, why);
	/* The node's certificate (hub_ca.c), before the code is spent. */
	if ((status = hub_ca_sign_request(h, NULL, office, a->rc_body, &g)) != 0)
		return status == 500 ? ROUTE_DBERR : enroll_refuse(a, status, "csr", g.cg_why);
	if (uuid7(node_id) != 0 || crypto_random(secret, sizeof secret) != 0 ||
	    hub_secret_wrap(node_id, secret, wrapped, sizeof wrapped) != 0)
		goto out;
	crypto_hex(secret, sizeof secret, secret_hex);
	if (enroll_node_add(h->hb_db, hash, node_id, wrapped, office, la, hostname, now) != 0 ||
	    hub_api_audit(a, "node.enroll", node_id, office) != 0 ||
	    (g.cg_cert != NULL &&
	     (hub_audit(h->hb_db, a->rc_actor, HUB_CA_AUDIT, node_id, g.cg_names) != 0 ||
	      hub_ca_names_record(h, node_id, office, &g) != 0)))
		goto out;
	if (g.cg_cert != NULL)
		hub_ca_log_signed(node_id, &g);
	log_info("node %s enrolled for office '%s' from %s", node_id, office, a->rc_req->peer);
	rc = route_ok(a, 200, enroll_reply(h, node_id, secret_hex, office, la, g.cg_cert));
out:
	free(g.cg_cert);
	crypto_wipe(secret, sizeof secret);
	crypto_wipe(secret_hex, sizeof secret_hex);
	return rc;
}

/* ---- the table --------------------------------------------------------------------- */

static const route_key enroll_keys[] = {
	{"code", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{"hostname", ROUTE_T_STR, ROUTE_K_NULL},
	{"csr", ROUTE_T_STR, ROUTE_K_NULL},
	{"names", ROUTE_T_ARRAY, ROUTE_K_NULL},
	{NULL, 0, 0},
};

static const route_def sync_defs[] = {
	{HTTP_M_POST, "/api/v1/sync/enroll", sync_enroll, 0, ROUTE_PUBLIC | ROUTE_BODY | HUB_AUDITED,
	 enroll_keys, 0},
	{HTTP_M_POST, "/api/v1/sync/push", sync_push, HUB_P_NODE | HUB_P_SYNC_JOB,
	 ROUTE_RAW | ROUTE_DEFER, NULL, HUB_MAX_PUSH_BODY},
	{HTTP_M_GET, "/api/v1/sync/pull", sync_pull, HUB_P_NODE | HUB_P_SYNC_JOB, ROUTE_DEFER, NULL,
	 0},
	{HTTP_M_GET, "/api/v1/sync/snapshot", sync_snapshot, HUB_P_NODE | HUB_P_SYNC_JOB,
	 ROUTE_DEFER, NULL, 0},
	{HTTP_M_GET, "/api/v1/sync/digest", sync_digests, HUB_P_NODE | HUB_P_SYNC_JOB, ROUTE_DEFER,
	 NULL, 0},
	{HTTP_M_GET, "/api/v1/sync/status", sync_status, HUB_P_NODE | HUB_P_OR_ADMIN, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/sync/conflicts", sync_conflicts, HUB_P_NODE, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/sync/la-key", sync_la_key, HUB_P_NODE, 0, NULL, 0},
};
const route_list hub_sync_route_list = ROUTE_LIST(sync_defs);
