/*
 * node.h - the office node daemon: defaults, shared state, and the
 * prototypes of its files.
 */
#ifndef OUTPOST_NODE_H
#define OUTPOST_NODE_H

#include <limits.h>
#include <stdint.h>
#include <uv.h>

#include "lib/conf.h"
#include "lib/db.h"
#include "lib/hlc.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/daemon.h"

#define NODE_DEFAULT_LISTEN "127.0.0.1:8080"
#define NODE_DEFAULT_DATA "./data/node"
#define NODE_DEFAULT_TZ "America/Los_Angeles"
#define NODE_DB_FILE "node.db"
#define NODE_CONF_FILE "node.conf"
/* WAL frames after which a background checkpoint starts (SQLite's default). */
#define NODE_CHECKPOINT_FRAMES 1000

typedef struct node {
	uv_loop_t *nd_loop;
	sqlite3 *nd_db;
	conf nd_conf;
	hlc nd_hlc;
	http_server *nd_http;
	router *nd_router;
	char nd_data[PATH_MAX];
	char nd_node_id[64];
	char nd_office_id[64];
	char nd_local_area_id[64];
	int64_t nd_clock_offset_ms; /* hub time minus local time at last contact */
	/* The time zone in force (node_zone_check()): the office's, set at the
	 * hub, else the config's; and the last zone warned about. */
	char nd_tz[65];
	char nd_tz_said[65];
	db_version nd_tz_ver; /* node.db when node_zone_check() last looked */
	int nd_tz_ver_ok;
	uint64_t nd_started_ms;
	stopsig nd_stop; /* SIGINT, SIGTERM */
	/* Group commit: writes of one loop iteration share one transaction. */
	uv_check_t nd_commit_check;
	int nd_batch_open;
	int64_t nd_data_version; /* PRAGMA data_version at node_observe_stamps() */
	struct node_pending *nd_pending, **nd_pending_tail;
	/* Durability and WAL checkpoints, off the loop thread (node_commit.c). */
	struct node_flush *nd_flush; /* syncs the WAL before writes are answered */
	uv_work_t nd_ckpt_work;
	sqlite3 *nd_ckpt_db;
	int nd_ckpt_busy;
	int nd_ckpt_idle;           /* the queued work is the idle truncation */
	int nd_wal_over;            /* the WAL passed its bound: truncate after COMMIT */
	uv_timer_t nd_idle_timer;   /* truncates the WAL once writes stop */
	char nd_db_path[PATH_MAX];
	int nd_stopping;
	struct node_sync *nd_sync; /* background replication (node_sync.c) */
	struct node_auth *nd_auth; /* sessions and login throttling (node_auth.c) */
	struct node_live *nd_live; /* the desk's live event streams (node_live.c) */
	struct node_day_end *nd_day_end; /* closes the visits a day left open */
	struct route_table *nd_api; /* the declared routes (node_api.c) */
	/* HTTPS on the LAN (node_edge.c): the server, its certificate, the
	 * names it was signed for; NULL / "" when https_listen is not set. */
	http_server *nd_https;
	struct tls_config *nd_tls;
	char nd_tls_names[1024];
	/* node_db_version()'s data_version, kept while nd_ver_scope (one
	 * request's handler, run without returning to the loop) */
	int nd_ver_scope, nd_ver_have;
	int64_t nd_ver_data;
} node;

extern const asset assets_node[];

/* node_state.c */
/* node_meta: lib/db.h db_kv_get(n->nd_db, "node_meta", ...), db_kv_set. */
int node_migrate(node *n);
/* Every component of node.db, migrated as node_migrate() does but without
 * its checks: on a database in memory, it tells db_schema_compare() what
 * this program knows (node_check.c).  0 or -1. */
int node_schema_migrate(sqlite3 *db);
/* 1 when the node was never enrolled with a hub (it seeds its own demo lists). */
int node_standalone(node *n);
/* 1 when the node is enrolled with a hub (DIR/sync.json, its identity, is there). */
int node_enrolled(node *n);
uint64_t node_now_ms(node *n);
void node_today(node *n, char out[11]);
/* The office's time zone put in force (clock_set_tz) when it changed: its
 * offices row's, set at the hub, once an enrolled node has the row (the
 * first pull brings it); the config's timezone before that and on a
 * stand-alone node.  Called on the loop thread only (at start, after each
 * sync cycle, and before each request: `outpost-sync pull` beside the
 * node; the row is read only when node.db changed since), where every
 * request takes its dates, so no request sees two zones. */
void node_zone_check(node *n);
/* nd_db's version (lib/db.h db_version_get, same return).  Inside a
 * request's handler (node_ver_scope(n, 1) ... (n, 0) around it) its
 * data_version is read once: another connection's commit meanwhile is
 * concurrent with the request; the node's own writes still count. */
int node_db_version(node *n, db_version *v);
void node_ver_scope(node *n, int on);
/* A participant's job referrals (node_crm_jobs.c), for the timeline; never
 * NULL (an empty array on error).  Caller frees. */
cJSON *node_job_referrals_of_participant(node *n, const char *participant_id);
/*
 * node_commit.c: captured writes with group commit.  node_write_begin()
 * joins (or opens) the loop iteration's transaction and starts a savepoint
 * with change capture; node_write_finish() closes the savepoint (appending
 * its outbox entry) and queues the reply, which is sent only once the
 * batch's COMMIT at the end of the loop iteration is durable (a flusher
 * thread syncs the WAL meanwhile).  So one sync serves every request that
 * arrived together, and no reply precedes the durability of its write.  On
 * failure node_write_finish() replies 500 itself and returns -1; body is
 * always consumed.
 */
struct capture;
int node_write_begin(node *n, struct capture *c);
int node_write_finish(node *n, struct capture *c, const char *actor, http_req *req,
		      int status, cJSON *body);
/* The same with the reply as JSON text of len bytes (takes ownership; NULL = 500). */
int node_write_finish_text(node *n, struct capture *c, const char *actor, http_req *req,
			   int status, char *body, size_t len);
/* The same with any content type (a static string; NULL = JSON), e.g. CSV:
 * one durable path for every reply of a write. */
int node_write_finish_body(node *n, struct capture *c, const char *actor, http_req *req,
			   int status, const char *ctype, char *body, size_t len);
/* The same for a write no request made (the node's own, e.g. the end of a
 * day): its COMMIT joins the batch; nothing is answered.  0 or -1 (the
 * write is rolled back). */
int node_write_finish_quiet(node *n, struct capture *c, const char *actor);
/* Merge into the node's clock the newest stamp pulled (node_meta seen_hlc)
 * when another connection has committed since the last look (the sync
 * cycle's, or `outpost-sync pull` beside a node that does not sync itself),
 * and at start the node's own last stamps too: a local write always comes
 * after every stamp the node holds, whatever its wall clock says. */
void node_observe_stamps(node *n, int at_start);
void node_commit_start(node *n);
void node_commit_stop(node *n);
void node_reply_db_error(http_req *req);

/* node_seed.c */
int node_seed_demo(node *n);

/* node_crm*.c: seeds a stand-alone node's CRM lists; the routes are in
 * node_api.c. */
int crm_setup(node *n);

/*
 * node_live.c: GET /api/v1/greeter/events, server-sent events for the front
 * desk.  node_live_notify() marks one check-in (checkin_id; NULL: some that
 * cannot be named, the desks re-read their lists) as changed by the write
 * being built; node_live_committed() (node_commit.c, after the batch's
 * COMMIT) sends every listener each changed visit as its list shows it.
 * Stop ends every stream.  The route is declared in live_route_list
 * (node_api.h).
 */
void node_live_notify(node *n, const char *checkin_id);
void node_live_committed(node *n, int ok);
/*
 * The visits (check-in ids) that changed, for the desks: those a batch
 * wrote (node_live.c) or a sync cycle pulled that other nodes wrote
 * (node_sync.c hears them from the pull apply, sync.h
 * sync_node_apply_pull_told).  Embedded by its owner; all zero is empty.
 * vs_all: some change cannot be named one by one (more than vs_id holds,
 * an id too long to keep, a snapshot), and the desks re-read their lists.
 */
#define NODE_VISITS_MAX 32 /* visits one set names; more: vs_all */
#define NODE_VISIT_ID_MAX 64
typedef struct node_visits {
	int vs_n;
	int vs_all;
	char vs_id[NODE_VISITS_MAX][NODE_VISIT_ID_MAX];
} node_visits;
/* node_live.c: add id (copied) to s, once; NULL, an id of NODE_VISIT_ID_MAX
 * bytes or more, or a full set sets vs_all instead.  Nothing once vs_all. */
void node_visits_add(node_visits *s, const char *id);
/* After a sync cycle: every listener of this office gets each pulled visit
 * of this office as its list shows it (or its removal), or one "reload"
 * when p->vs_all. */
void node_live_pulled(node *n, const node_visits *p);
void node_live_stop(node *n);
/* node_greeter_days.c: the visits still open when their day is over are
 * closed, at start and once the office's date moves on. */
int node_day_end_start(node *n);
void node_day_end_stop(node *n);
/* node_greeter.c: check-in id of this office as the desk's list shows it,
 * JSON text in *text (caller frees): 0, 1 when there is no such check-in,
 * 2 when it is another office's or another day's (not in the desk's list),
 * -1 on error. */
int node_greeter_visit(node *n, const char *id, char **text, size_t *len);

/* node_case.c: participants, activities, case notes, compliance */
/* Seeds a stand-alone node's case lists; the routes are in node_api.c. */
int case_setup(node *n);

/* node_sync.c: the background sync cycle; its routes GET /api/v1/sync/status
 * and /conflicts are in node_api.c's table */
int node_sync_start(node *n);
void node_sync_stop(node *n);
void node_sync_nudge(node *n); /* optional: sync soon after a local write */
/* Before each request: until the sync loop has taken an identity, take the
 * one `outpost-sync enroll` may have just recorded in node.db, so nothing
 * written after enrollment carries the provisional id or the demo office. */
void node_sync_identity_check(node *n);
/* Any thread (blocks on the network): give the hub the password's second
 * verifier when it has none (hub/acct_verifier.c), and, when v (and v_next)
 * are not NULL, whether the one it holds is v's (or v_next's).  1 the hub
 * has that one, 0 the hub says it is not the current password's, -1 it
 * could not be asked (not enrolled, unreachable, the hub's 5xx, 408, 429,
 * or a 401 refusing the node's signature, not the account), -3 the hub
 * refuses to answer for the account (another 4xx: 404/409, not an account
 * this office may speak for there: moved to another Local Area,
 * deactivated or unknown), which asking again will not change.  pw NULL:
 * only whether the hub holds v (nothing given); -2 when it holds none
 * (only the password gives it). */
int node_sync_verifier(node *n, const char *staff_id, const char *pw, const char *v,
		       const char *v_next);
/* Loop thread: the number the next background sync cycle to begin will
 * have (cycles are numbered 1, 2, ... as they begin; node_auth_confirm_due
 * gets the number of each that succeeds), or 0 when none will run
 * (sync_interval = 0, stopping, or no sync at all). */
uint64_t node_sync_next_cycle(node *n);
/* The background cycle's figures since start, for /metrics. */
typedef struct node_sync_fig {
	int nf_enrolled, nf_failures; /* failures: consecutive, now */
	uint64_t nf_cycles, nf_failed_total, nf_last_ok_ms;
} node_sync_fig;
void node_sync_figures(node *n, node_sync_fig *f);
/* node_check.c: `outpost-node check` (exit codes in lib/check.h). */
int node_check(const char *dir, int json);
/* node_metrics.c: GET /metrics (loopback only). */
int node_metrics_routes(node *n, router *r);
/* -1 when the node syncs with no hub (not enrolled); else 1 when a sync
 * cycle succeeded at or after since_ms (clock_ms()), 0 when none has. */
int node_sync_synced_since(node *n, uint64_t since_ms);
/* Nonzero when the last sync cycle succeeded and ended less than within_ms ago. */
int node_sync_connected(node *n, uint64_t within_ms);
/* Nonzero when the last sync cycle failed because the hub refused this
 * node's schema version (426, SYNC_E_SCHEMA: the two run different
 * releases): NODE_UPGRADE_HUB when the hub's version, as its reply named
 * it, is the older one (this office PC was upgraded first), else
 * NODE_UPGRADE_NODE. */
enum { NODE_UPGRADE_NODE = 1, NODE_UPGRADE_HUB = 2 };
int node_sync_schema_refused(node *n);

#endif
