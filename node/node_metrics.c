/*
 * node_metrics.c - GET /metrics on the office node, in the Prometheus text
 * format (lib/metrics.h): requests and latency by route class, the outbox
 * (depth, bytes, age of the oldest entry), the sent log, acked seq and
 * pull position, the last successful sync and contact, sync cycles and
 * failures, quarantined entries, open conflicts, sessions, database size.
 *
 * Answered to the loopback address only (a monitoring agent on the office
 * PC, or a scraper through an SSH tunnel): the node has no admin token,
 * and these figures are nobody else's business.  No figure or label holds
 * a name, a record id or any other personal data: only counts, times,
 * sequence numbers and the office and node ids.
 */
#include "node/node.h"
#include "node/node_auth.h"
#include "lib/clock.h"
#include "lib/metrics.h"
#include "sync/client.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define METRICS_MAX (256 * 1024)

static double num(const cJSON *o, const char *name, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* Bytes of node.db and its WAL. */
static double db_bytes(node *n)
{
	char path[PATH_MAX + 40];
	struct stat sb;
	double total = 0;

	snprintf(path, sizeof path, "%s/%s", n->nd_data, NODE_DB_FILE);
	if (stat(path, &sb) == 0)
		total += (double)sb.st_size;
	snprintf(path, sizeof path, "%s/%s-wal", n->nd_data, NODE_DB_FILE);
	if (stat(path, &sb) == 0)
		total += (double)sb.st_size;
	return total;
}

/* The sync client's figures (sync_client_status_json) as gauges: member
 * key, divided by div (milliseconds to seconds). */
static const struct {
	const char *name, *help, *key;
	double div;
} status_gauges[] = {
	{"outpost_node_outbox_entries", "changes not yet acknowledged by the hub", "pending", 1},
	{"outpost_node_outbox_bytes", "bytes of the changes not yet acknowledged", "pending_bytes", 1},
	{"outpost_node_outbox_oldest_age_seconds",
	 "age of the oldest change not yet acknowledged (0 when none)", "oldest_pending_age_ms", 1000},
	{"outpost_node_acked_seq", "the last of this node's changes the hub acknowledged", "acked_seq", 1},
	{"outpost_node_pull_cursor", "the hub change-log position this node has applied", "cursor", 1},
	{"outpost_node_hub_head_seq", "the hub's change-log head as last reported", "head_seq", 1},
	{"outpost_node_last_contact_timestamp_seconds", "Unix time the hub last answered (0: never)",
	 "last_contact_ms", 1000},
	{"outpost_node_last_pull_timestamp_seconds", "Unix time a pull was last applied (0: never)",
	 "last_pull_ms", 1000},
	/* (the count: the status's "quarantined" lists the latest 100 only) */
	{"outpost_node_quarantined_entries", "this node's changes the hub refused",
	 "quarantined_count", 1},
};

static void sync_figures(node *n, buf *b, uint64_t now)
{
	cJSON *o = sync_client_status_json(n->nd_db, now);
	node_sync_fig f;

	node_sync_figures(n, &f);
	metrics_gauge(b, "outpost_node_enrolled",
		      "1 when the node is enrolled with a hub", f.nf_enrolled);
	for (size_t i = 0; i < sizeof status_gauges / sizeof status_gauges[0]; i++)
		metrics_gauge(b, status_gauges[i].name, status_gauges[i].help,
			      num(o, status_gauges[i].key, 0) / status_gauges[i].div);
	metrics_gauge(b, "outpost_node_sent_log_entries",
		      "acknowledged changes kept to send again to a restored hub",
		      (double)db_int(n->nd_db, "SELECT count(*) FROM outbox_sent", 0));
	metrics_gauge(b, "outpost_node_last_sync_success_timestamp_seconds",
		      "Unix time of the last successful background sync cycle (0: none "
		      "since start)",
		      (double)f.nf_last_ok_ms / 1000.0);
	metrics_counter(b, "outpost_node_sync_cycles_total",
			"background sync cycles since start", (double)f.nf_cycles);
	metrics_counter(b, "outpost_node_sync_failures_total",
			"failed background sync cycles since start",
			(double)f.nf_failed_total);
	metrics_gauge(b, "outpost_node_sync_consecutive_failures",
		      "failed cycles since the last success", f.nf_failures);
	cJSON_Delete(o);
}

static void get_metrics(http_req *req, void *ctx)
{
	node *n = ctx;
	buf b = BUF_INIT(METRICS_MAX);
	uint64_t now = clock_ms();
	char l[200], office[80], nid[80];

	if (!metrics_from_loopback(req)) {
		http_reply_error(req, 403, NULL, "/metrics is answered on the loopback address only");
		return;
	}
	metrics_head(&b, "outpost_node_info", "gauge", "this node: version, node and office ids");
	snprintf(l, sizeof l, "version=\"%s\",node=\"%s\",office=\"%s\"", OUTPOST_VERSION,
		 metrics_label(n->nd_node_id, nid, sizeof nid),
		 metrics_label(n->nd_office_id, office, sizeof office));
	metrics_val(&b, "outpost_node_info", l, 1);
	metrics_gauge(&b, "outpost_node_uptime_seconds", "seconds since the node started",
		      (double)(now - n->nd_started_ms) / 1000.0);
	sync_figures(n, &b, now);
	metrics_gauge(
	    &b, "outpost_node_open_conflicts",
	    "merge conflicts recorded in this office and not resolved",
	    (double)db_int(
		n->nd_db, "SELECT count(*) FROM conflicts WHERE resolved_at IS NULL", 0));
	metrics_gauge(&b, "outpost_node_sessions", "staff sessions open now",
		      node_auth_session_count(n));
	metrics_gauge(&b, "outpost_node_database_bytes", "bytes of node.db and its WAL",
		      db_bytes(n));
	metrics_reply(req, &b, 0);
}

int node_metrics_routes(node *n, router *r)
{
	return router_add(r, HTTP_M_GET, "/metrics", get_metrics, n);
}
