/*
 * hub_metrics.c - GET /metrics on the hub, in the Prometheus text format
 * (lib/metrics.h): requests and latency by route class (pushes and pulls
 * are the "sync" class), the change log's head, quarantined entries and
 * open conflicts, console sessions, database size, and per node (labelled
 * with its node and office ids, which are not personal data) its acked
 * seq, how far it has pulled and how long ago it was last seen.
 *
 * Open to the loopback address, otherwise only with the admin token
 * (Authorization: Bearer, as the admin API).  No figure names a person or
 * holds a record's content.
 */
#include "hub/hub.h"
#include "lib/metrics.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define METRICS_MAX (1024 * 1024)

/* What SQLite holds, summed over the hub's connections (issue 20's soak:
 * to tell caches filling from a leak).  (No lookaside figure: Debian's
 * SQLite is built without lookaside.) */
enum { SQ_CACHE, SQ_SCHEMA, SQ_STMT, SQ_N };

static void conn_mem(sqlite3 *db, double out[SQ_N])
{
	static const int ops[SQ_N] = {SQLITE_DBSTATUS_CACHE_USED, SQLITE_DBSTATUS_SCHEMA_USED,
				      SQLITE_DBSTATUS_STMT_USED};

	for (int k = 0; k < SQ_N; k++) {
		int cur = 0, hi = 0;

		if (db != NULL && sqlite3_db_status(db, ops[k], &cur, &hi, 0) == SQLITE_OK)
			out[k] = cur;
	}
}

/* The hub's connections; the work threads' ones only when no sync job
 * holds them (the loop never waits for one): else the last figure. */
static void sqlite_mem(hub *h, double sum[SQ_N])
{
	static double work[SQ_N], reader[HUB_READERS][SQ_N];
	double main_db[SQ_N] = {0};

	if (uv_mutex_trylock(&h->hb_wlock) == 0) {
		conn_mem(h->hb_wdb, work);
		uv_mutex_unlock(&h->hb_wlock);
	}
	uv_mutex_lock(&h->hb_rlock); /* (held only to take or give one back) */
	for (int i = 0; i < h->hb_nrfree; i++)
		conn_mem(h->hb_rdb[h->hb_rfree[i]], reader[h->hb_rfree[i]]);
	uv_mutex_unlock(&h->hb_rlock);
	conn_mem(h->hb_db, main_db);
	for (int k = 0; k < SQ_N; k++) {
		sum[k] = main_db[k] + work[k];
		for (int i = 0; i < HUB_READERS; i++)
			sum[k] += reader[i][k];
	}
}

/* Memory gauges: SQLite's part, then the allocator's (glibc). */
static void memory(hub *h, buf *b)
{
	double sq[SQ_N] = {0};
	struct mallinfo2 mi = mallinfo2();

	sqlite_mem(h, sq);
	metrics_gauge(b, "outpost_hub_sqlite_cache_bytes", "page cache of the hub's connections",
		      sq[SQ_CACHE]);
	metrics_gauge(b, "outpost_hub_sqlite_schema_bytes",
		      "parsed schema of the hub's connections", sq[SQ_SCHEMA]);
	metrics_gauge(b, "outpost_hub_sqlite_stmt_bytes",
		      "prepared statements of the hub's connections", sq[SQ_STMT]);
	metrics_gauge(b, "outpost_hub_heap_in_use_bytes",
		      "heap allocated and not freed (every arena)",
		      (double)mi.uordblks + (double)mi.hblkhd);
	metrics_gauge(b, "outpost_hub_heap_mapped_bytes",
		      "of which blocks mapped on their own (large)", (double)mi.hblkhd);
	metrics_gauge(b, "outpost_hub_heap_free_bytes", "heap freed but kept by the allocator",
		      (double)mi.fordblks);
	metrics_gauge(b, "outpost_hub_heap_arena_bytes", "heap the arenas took from the system",
		      (double)mi.arena);
}

static double file_bytes(const char *dir, const char *name)
{
	char path[PATH_MAX + 40];
	struct stat sb;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &sb) == 0 ? (double)sb.st_size : 0;
}

/* One series per node: acked seq, pull lag in log positions, age of the
 * last contact.  0 or -1. */
static int per_node(hub *h, buf *b, int64_t head, uint64_t now)
{
	static const char *const names[3] = {"outpost_hub_node_acked_seq",
					     "outpost_hub_node_pull_lag_seqs",
					     "outpost_hub_node_last_seen_age_seconds"};
	static const char *const helps[3] = {
	    "the last of the node's changes the hub holds",
	    "change-log positions after the node's pull cursor (any scope)",
	    "seconds since the node's last signed request (-1: never)"};
	sqlite3_stmt *st = NULL;
	buf part[3] = {BUF_INIT(METRICS_MAX / 4), BUF_INIT(METRICS_MAX / 4), BUF_INIT(METRICS_MAX / 4)};
	int ret = -1;

	if (db_prepare(h->hb_db, &st, "SELECT id, office_id, acked_seq, pull_cursor, last_seen_ms "
				      "FROM nodes WHERE revoked_at IS NULL ORDER BY id") != 0)
		return -1;
	for (int k = 0; k < 3; k++)
		metrics_head(&part[k], names[k], "gauge", helps[k]);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char id[80], office[80], l[200];
		const char *nid = db_col(st, 0), *oid = db_col(st, 1);
		int64_t cursor = sqlite3_column_int64(st, 3);
		double seen = sqlite3_column_type(st, 4) == SQLITE_NULL
				  ? -1
				  : ((double)now - (double)sqlite3_column_int64(st, 4)) / 1000.0;

		if (nid == NULL || oid == NULL) /* out of memory: no series with node="" */
			goto out;
		snprintf(l, sizeof l, "node=\"%s\",office=\"%s\"",
			 metrics_label(nid, id, sizeof id),
			 metrics_label(oid, office, sizeof office));
		metrics_val(&part[0], names[0], l, (double)sqlite3_column_int64(st, 2));
		metrics_val(&part[1], names[1], l, (double)(head > cursor ? head - cursor : 0));
		metrics_val(&part[2], names[2], l, seen < 0 && seen != -1 ? 0 : seen);
	}
	ret = 0;
	for (int k = 0; k < 3; k++)
		if (buf_append(b, part[k].data, part[k].len) != 0)
			ret = -1;
out:
	sqlite3_finalize(st);
	for (int k = 0; k < 3; k++)
		buf_release(&part[k]);
	return ret;
}

void hub_metrics_get(http_req *req, void *ctx)
{
	hub *h = ctx;
	buf b = BUF_INIT(METRICS_MAX);
	uint64_t now = hub_now_ms();
	int64_t head = db_int(h->hb_db, "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE "
					"name='change_log'), 0), coalesce((SELECT max(seq) FROM "
					"change_log), 0))", 0);
	char l[64];

	if (!metrics_from_loopback(req) && !metrics_bearer_ok(req, h->hb_admin_token)) {
		http_add_header(req, "WWW-Authenticate", "Bearer");
		http_reply_error(req, 401, NULL,
				 "/metrics needs the admin token (or a client on the loopback address)");
		return;
	}
	metrics_head(&b, "outpost_hub_info", "gauge", "this hub: version");
	snprintf(l, sizeof l, "version=\"%s\"", OUTPOST_VERSION);
	metrics_val(&b, "outpost_hub_info", l, 1);
	metrics_gauge(&b, "outpost_hub_uptime_seconds", "seconds since the hub started",
		      (double)(now - h->hb_started_ms) / 1000.0);
	metrics_gauge(&b, "outpost_hub_change_log_head_seq",
		      "the change log's high-water mark", (double)head);
	metrics_head(&b, "outpost_hub_nodes", "gauge", "enrolled nodes, by state");
	metrics_val(&b, "outpost_hub_nodes", "state=\"active\"",
		    (double)db_int(h->hb_db, "SELECT count(*) FROM nodes WHERE revoked_at IS NULL", 0));
	metrics_val(&b, "outpost_hub_nodes", "state=\"revoked\"",
		    (double)db_int(h->hb_db, "SELECT count(*) FROM nodes WHERE revoked_at IS NOT NULL", 0));
	metrics_gauge(
	    &b, "outpost_hub_quarantined_entries",
	    "refused changes not yet marked handled",
	    (double)db_int(h->hb_db,
			   "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL",
			   0));
	metrics_gauge(
	    &b, "outpost_hub_open_conflicts", "merge conflicts not yet resolved",
	    (double)db_int(
		h->hb_db, "SELECT count(*) FROM conflicts WHERE resolved_at IS NULL", 0));
	metrics_gauge(&b, "outpost_hub_console_sessions",
		      "administrator console sessions on record",
		      (double)db_int(h->hb_db, "SELECT count(*) FROM admin_sessions", 0));
	/* (every hb_jobs work request: the name is older than most of them) */
	metrics_gauge(&b, "outpost_hub_sync_jobs_in_flight",
		      "work requests (pushes, pulls, snapshots, digests, password checks, key passes)"
		      " being worked on",
		      h->hb_jobs);
	metrics_gauge(&b, "outpost_hub_database_bytes", "bytes of hub.db and its WAL",
		      file_bytes(h->hb_data, HUB_DB_FILE) +
			  file_bytes(h->hb_data, HUB_DB_FILE "-wal"));
	memory(h, &b); /* to tell a leak from caches filling (issue 20's soak) */
	metrics_reply(req, &b, per_node(h, &b, head, now) != 0);
}
