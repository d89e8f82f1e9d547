/*
 * node_sync.c - the office node replicating by itself: a uv timer on the
 * node's loop starts a sync cycle (sync/client.c: push, pull, push again if
 * needed) in the libuv thread pool, with its own SQLite connection to
 * node.db, so the loop thread - and the web UI it serves - never waits for
 * the hub.  After a success the next cycle follows in the `sync_interval`
 * setting (default NODE_SYNC_INTERVAL_MS); after a failure the wait doubles,
 * with jitter, up to NODE_SYNC_BACKOFF_MAX_MS.  With sync_interval = 0 no
 * cycle ever runs (the office replicates only with outpost-sync push/pull,
 * which the convergence tests rely on to keep a node offline): the node then
 * takes its enrolled identity from DIR/sync.json once, at start.  DIR/sync.json is looked at before every cycle,
 * so `outpost-sync enroll` on a running node takes effect within one
 * interval.  GET /api/v1/sync/status shows the node's lag to its staff.
 *
 * Threads: fields marked [work] are touched only by the work callback, or
 * by the loop thread while no work is queued (ns_busy == 0); the rest
 * belong to the loop thread.  Results pass from work to loop in the w_*
 * fields, read in the after-work callback.
 */
#include "node/node.h"
#include "node/node_api.h"
#include "node/node_auth.h"
#include "sync/client.h"
#include "lib/crypto.h"
#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "model/casework.h"
#include "model/password.h"
#include "model/schema.h"

#include <cjson/cJSON.h>
#include <pthread.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NODE_SYNC_FIRST_MS 500                    /* first cycle after start */
#define NODE_SYNC_INTERVAL_MS 5000                /* between cycles when all is well */
#define NODE_SYNC_BACKOFF_MAX_MS (5 * 60 * 1000)  /* longest wait after failures */

struct node_sync {
	node *ns_node;
	uv_timer_t ns_timer;
	uv_work_t ns_work;
	int ns_busy;              /* a cycle is queued or running */
	int ns_stopping;
	int ns_timer_closed;
	volatile int ns_cancel;   /* read by curl's progress callback */
	int ns_failures;          /* consecutive failed cycles */
	uint64_t ns_cycles, ns_failed_total; /* since start, for /metrics */
	uint64_t ns_begun;        /* cycles begun since start: the last one's number */
	int ns_off;               /* sync_interval = 0: no background cycles */
	uint64_t ns_interval_ms;  /* between cycles when all is well */
	uint64_t ns_next_ms;      /* wall time of the next attempt */
	uint64_t ns_last_ok_ms;
	int ns_enrolled;
	int ns_last_rc;
	int64_t ns_hub_schema;    /* the last cycle's 426: the hub's schema version, */
	int64_t ns_refused_schema; /* and the one it refused; else -1 */
	db_version ns_id_ver;     /* node.db when node_sync_identity_check last looked */
	int ns_id_ver_ok;
	char ns_hub_url[512];
	char ns_last_error[512];

	/* [work] */
	char ns_db_path[PATH_MAX + 32];
	sqlite3 *ns_db;
	sync_client *ns_client;
	struct stat ns_id_stat;   /* sync.json as last loaded */

	/* results of the last cycle [work -> after-work] */
	int w_rc;
	int w_enrolled;
	int w_adopted;
	int w_have_time;
	int64_t w_offset;
	char w_seen_hlc[HLC_STRLEN]; /* the newest stamp pulled so far (node_meta) */
	int64_t w_pushed;
	int w_pulled;
	node_visits w_live;       /* check-ins pulled, for the desks */
	char w_err[512];
	int64_t w_hub_schema, w_refused_schema; /* sc_hub_schema, sc_refused_schema */
	char w_node_id[64], w_office_id[64], w_la_id[64], w_hub_url[512];
};

/* [work] Load (or reload after a change) DIR/sync.json and make it the
 * node's identity.  0 enrolled, 1 not enrolled, <0 SYNC_E_*. */
static int work_identity(struct node_sync *ns)
{
	char path[PATH_MAX + 32], off[32];
	struct stat sb;
	int rc, changed = 0;

	snprintf(path, sizeof path, "%s/%s", ns->ns_node->nd_data, SYNC_IDENTITY_FILE);
	if (stat(path, &sb) != 0) {
		sync_client_free(ns->ns_client);
		ns->ns_client = NULL;
		return 1;
	}
	if (ns->ns_client && sync_identity_same_file(&sb, &ns->ns_id_stat))
		return 0;
	sync_client_free(ns->ns_client);
	ns->ns_client = NULL;
	rc = sync_client_new(ns->ns_node->nd_data, &ns->ns_client, ns->w_err, sizeof ns->w_err);
	if (rc != 0)
		return rc;
	ns->ns_client->sc_cancel = &ns->ns_cancel;
	if (sync_client_adopt(ns->ns_db, &ns->ns_client->sc_id, &changed) != 0) {
		snprintf(ns->w_err, sizeof ns->w_err, "cannot record the sync identity in node.db");
		sync_client_free(ns->ns_client);
		ns->ns_client = NULL;
		return SYNC_E_OTHER;
	}
	if (db_kv_get(ns->ns_db, "node_meta", "clock_offset_ms", off, sizeof off) == DB_FOUND)
		sync_client_set_offset(ns->ns_client, strtoll(off, NULL, 10));
	ns->ns_id_stat = sb;
	ns->w_adopted = 1;
	return 0;
}

/* The wrapping key of the Local Area's SSN key (hub/hub_keys.c), as
 * sync.json holds it, for case_key_load() on any thread. */
static pthread_mutex_t la_mu = PTHREAD_MUTEX_INITIALIZER;
static char la_id[64];
static unsigned char la_key[32];
static int la_ok;

static int la_source(const char *la, int epoch, unsigned char key[32])
{
	int rc = -1;

	(void)epoch; /* the key sync.json holds is the newest epoch's, or stale */
	pthread_mutex_lock(&la_mu);
	if (la_ok && strcmp(la, la_id) == 0) {
		memcpy(key, la_key, sizeof la_key);
		rc = 0;
	}
	pthread_mutex_unlock(&la_mu);
	return rc;
}

static void publish_la_key(sync_client *c)
{
	pthread_mutex_lock(&la_mu);
	snprintf(la_id, sizeof la_id, "%s", c->sc_id.id_local_area_id);
	memcpy(la_key, c->sc_id.id_la_key, sizeof la_key);
	la_ok = 1;
	pthread_mutex_unlock(&la_mu);
}

/* [work] 1 when the node holds case keys its wrapping key no longer opens:
 * the hub rotated the Local Area's SSN key (hub_keys.c), wrapping them all
 * under the new epoch's wrapping key. */
static int la_key_stale(struct node_sync *ns, sync_client *c)
{
	unsigned char k[CASE_KEY_LEN];
	int rc;

	if (!c->sc_id.id_has_la_key)
		return 0;
	rc = case_key_load(ns->ns_db, c->sc_id.id_local_area_id, k);
	crypto_wipe(k, sizeof k);
	return rc < 0 && case_key_epoch(ns->ns_db, c->sc_id.id_local_area_id) > 0;
}

/* [work] Fetch the key from the hub into sync.json (kept beside the node
 * secret, never in node.db) when the node has none or its own no longer
 * opens its case keys, then publish it. */
static void work_la_key(struct node_sync *ns, sync_client *c)
{
	cJSON *o = NULL;
	const char *hex;
	char err[256];
	struct stat sb;
	int rc;

	if (c->sc_id.id_has_la_key)
		publish_la_key(c);
	if ((!c->sc_id.id_has_la_key || la_key_stale(ns, c)) &&
	    sync_client_get_json(c, "/api/v1/sync/la-key", &o) == 0) {
		hex = json_str(o, "la_key");
		if (hex && strlen(hex) == 64 &&
		    crypto_unhex(hex, c->sc_id.id_la_key, sizeof c->sc_id.id_la_key) == 0) {
			c->sc_id.id_has_la_key = 1;
			/* Only into the sync.json this identity came from: one an
			 * `outpost-sync enroll` wrote since is reloaded next cycle
			 * (and gets its key then), never overwritten with this. */
			rc = sync_identity_update(ns->ns_node->nd_data, &c->sc_id, &ns->ns_id_stat,
						  &sb, err, sizeof err);
			if (rc < 0)
				log_warnx("sync: cannot keep the Local Area key: %s", err);
			else if (rc > 0)
				log_info("sync: %s: the Local Area key waits for the next cycle", err);
			else
				ns->ns_id_stat = sb; /* our own write: no reload */
		}
		if (hex)
			crypto_wipe((char *)hex, strlen(hex));
	}
	cJSON_Delete(o);
	if (c->sc_id.id_has_la_key)
		publish_la_key(c);
}

/* The visit a pulled row of checkins or checkin_reasons belongs to; a
 * check-in that is gone is named (the desks take it out).  Named even when
 * the row carries this node's stamp: the hub merges column by column, so a
 * row stamped by this node's later write may bring another desk's status
 * (called at the other node, linked here).  An echo of this node's own
 * write is an upsert the desks already show (put is idempotent).  1 named
 * in out, 0 not, -1. */
static int pulled_visit(struct node_sync *ns, const char *table, const char *key, char *out,
			size_t n)
{
	static const char visit_sql[] = "SELECT id FROM checkins WHERE id=?1";
	static const char reason_sql[] = "SELECT c.id FROM checkin_reasons r JOIN checkins c"
					 " ON c.id = r.checkin_id WHERE r.id=?1";
	int visit = strcmp(table, "checkins") == 0;
	sqlite3_stmt *st = db_stmt(ns->ns_db, visit ? visit_sql : reason_sql);
	int rc = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = sqlite3_column_type(st, 0) == SQLITE_TEXT &&
		     snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0)) < (int)n;
		break;
	case SQLITE_DONE:
		rc = visit ? snprintf(out, n, "%s", key) < (int)n : 0;
		break;
	default:
		break;
	}
	db_stmt_done(st);
	return rc;
}

/* A row a pull page applied (sync_pull_told_fn, on the work thread after
 * the page's COMMIT): the check-ins other nodes wrote go to w_live. */
static void pull_told(void *arg, const char *table, const char *id, size_t idlen)
{
	struct node_sync *ns = arg;
	node_visits *p = &ns->w_live;
	char key[NODE_VISIT_ID_MAX], cid[NODE_VISIT_ID_MAX];
	int rc;

	if (p->vs_all || (strcmp(table, "checkins") != 0 && strcmp(table, "checkin_reasons") != 0))
		return;
	if (id == NULL || idlen >= sizeof key) {
		p->vs_all = 1;
		return;
	}
	memcpy(key, id, idlen);
	key[idlen] = '\0';
	if ((rc = pulled_visit(ns, table, key, cid, sizeof cid)) <= 0)
		p->vs_all |= rc < 0;
	else
		node_visits_add(p, cid);
}

static void work_cycle(uv_work_t *w)
{
	struct node_sync *ns = w->data;
	sync_push_stats ps;
	sync_pull_stats pl;
	sync_client *c;
	int rc;

	memset(&ps, 0, sizeof ps);
	memset(&pl, 0, sizeof pl);
	ns->w_rc = 0;
	ns->w_enrolled = 0;
	ns->w_adopted = 0;
	ns->w_have_time = 0;
	ns->w_pushed = 0;
	ns->w_pulled = 0;
	memset(&ns->w_live, 0, sizeof ns->w_live);
	ns->w_err[0] = '\0';
	if (ns->ns_db == NULL) {
		/* Never the loop thread's connection: this one is ours alone. */
		/* secure_delete: a key replaced by a pull leaves no copy in free pages */
		/* synchronous=NORMAL: its transactions (a pulled page with its
		 * cursor, the outbox trimmed after an ack, the sync state) need
		 * not survive a power cut - a lost one is pulled, pushed (the hub
		 * drops the repeat) or recorded again - and a COMMIT that fsyncs
		 * holds the write lock the office's writes wait for.  The WAL
		 * stays a prefix: the next group-commit fdatasync covers them. */
		if (db_open(ns->ns_db_path, &ns->ns_db) != 0 || sync_client_migrate(ns->ns_db) != 0 ||
		    db_exec(ns->ns_db, "PRAGMA secure_delete=ON") != 0 ||
		    db_exec(ns->ns_db, "PRAGMA synchronous=NORMAL") != 0) {
			db_close(ns->ns_db);
			ns->ns_db = NULL;
			fmt_line(ns->w_err, sizeof ns->w_err, "cannot open '%s' for syncing",
				 ns->ns_db_path);
			ns->w_rc = SYNC_E_OTHER;
			return;
		}
	}
	rc = work_identity(ns);
	if (rc == 1)
		return; /* not enrolled: nothing to do, not an error */
	if (rc < 0) {
		ns->w_rc = rc;
		return;
	}
	/* libcurl (and the OpenSSL behind it) is set up only once the node is
	 * enrolled: a stand-alone office never maps it, which keeps its idle
	 * memory small.  pthread_once inside makes this safe on any thread. */
	if (sync_client_global_init() != 0) {
		snprintf(ns->w_err, sizeof ns->w_err, "cannot initialise libcurl");
		ns->w_rc = SYNC_E_OTHER;
		return;
	}
	c = ns->ns_client;
	ns->w_enrolled = 1;
	snprintf(ns->w_node_id, sizeof ns->w_node_id, "%s", c->sc_id.id_node_id);
	snprintf(ns->w_office_id, sizeof ns->w_office_id, "%s", c->sc_id.id_office_id);
	snprintf(ns->w_la_id, sizeof ns->w_la_id, "%s", c->sc_id.id_local_area_id);
	snprintf(ns->w_hub_url, sizeof ns->w_hub_url, "%s", c->sc_id.id_hub_url);
	c->sc_have_time = 0;
	c->sc_error[0] = '\0';
	work_la_key(ns, c);
	c->sc_told = pull_told;
	c->sc_told_arg = ns;
	rc = sync_client_cycle(c, ns->ns_db, &ps, &pl);
	if (rc == 0)
		work_la_key(ns, c); /* a rotated key just pulled: its wrapping key now */
	if (pl.pl_snapshot_pages > 0)
		ns->w_live.vs_all = 1; /* the desks re-read their lists */
	ns->w_rc = rc;
	if (rc != 0)
		snprintf(ns->w_err, sizeof ns->w_err, "%s", c->sc_error);
	ns->w_hub_schema = rc == SYNC_E_SCHEMA ? c->sc_hub_schema : -1;
	ns->w_refused_schema = rc == SYNC_E_SCHEMA ? c->sc_refused_schema : -1;
	ns->w_pushed = ps.ps_acked;
	ns->w_pulled = rc == 0 ? pl.pl_pages + pl.pl_snapshot : 0;
	ns->w_have_time = c->sc_have_time;
	ns->w_offset = c->sc_offset_ms;
	if (db_text(ns->ns_db, "SELECT value FROM node_meta WHERE key='seen_hlc'", NULL,
		    ns->w_seen_hlc, sizeof ns->w_seen_hlc) != 0)
		ns->w_seen_hlc[0] = '\0';
	sync_client_record(c, ns->ns_db, rc == 0 || rc == SYNC_E_PENDING ? NULL : ns->w_err);
}

static void cleanup(struct node_sync *ns)
{
	node *n = ns->ns_node;

	sync_client_free(ns->ns_client);
	db_close(ns->ns_db);
	n->nd_sync = NULL;
	free(ns);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct node_sync *ns = h->data;

	ns->ns_timer_closed = 1;
	if (!ns->ns_busy)
		cleanup(ns);
}

static void on_timer(uv_timer_t *t);

static void schedule(struct node_sync *ns, uint64_t delay)
{
	ns->ns_next_ms = clock_ms() + delay;
	uv_timer_start(&ns->ns_timer, on_timer, delay, 0);
}

/* The cycle interval: the sync_interval setting, or the fault tests'
 * shorter one (lib/fault.h, test builds only). */
static uint64_t interval_ms(const struct node_sync *ns)
{
	int64_t t = fault_sync_interval_ms();

	return t > 0 ? (uint64_t)t : ns->ns_interval_ms;
}

static uint64_t backoff(const struct node_sync *ns, int failures)
{
	uint64_t d = interval_ms(ns);
	uint64_t max = fault_sync_interval_ms() > 0 ? d : NODE_SYNC_BACKOFF_MAX_MS;
	uint32_t r = 0;

	for (int i = 1; i < failures && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	/* +-25 % so that offices cut off together do not return together. */
	crypto_random(&r, sizeof r);
	d = d * 3 / 4 + (uint64_t)r % (d / 2 + 1);
	return d > NODE_SYNC_BACKOFF_MAX_MS ? NODE_SYNC_BACKOFF_MAX_MS : d;
}

static void after_cycle(uv_work_t *w, int status)
{
	struct node_sync *ns = w->data;
	node *n = ns->ns_node;
	int rc = status == 0 ? ns->w_rc : SYNC_E_OTHER;

	ns->ns_busy = 0;
	if (ns->ns_stopping) {
		if (ns->ns_timer_closed)
			cleanup(ns);
		return;
	}
	ns->ns_enrolled = ns->w_enrolled;
	if (ns->w_enrolled) {
		snprintf(ns->ns_hub_url, sizeof ns->ns_hub_url, "%s", ns->w_hub_url);
		if (strcmp(n->nd_node_id, ns->w_node_id) != 0 ||
		    strcmp(n->nd_office_id, ns->w_office_id) != 0 ||
		    strcmp(n->nd_local_area_id, ns->w_la_id) != 0) {
			snprintf(n->nd_node_id, sizeof n->nd_node_id, "%s", ns->w_node_id);
			snprintf(n->nd_office_id, sizeof n->nd_office_id, "%s", ns->w_office_id);
			snprintf(n->nd_local_area_id, sizeof n->nd_local_area_id, "%s", ns->w_la_id);
			hlc_set_node(&n->nd_hlc, n->nd_node_id);
			log_info("enrolled: node %s of office '%s' syncing with %s", n->nd_node_id,
				 n->nd_office_id, ns->ns_hub_url);
		}
	}
	if (ns->w_have_time) {
		n->nd_clock_offset_ms = ns->w_offset;
		n->nd_hlc.hlc_offset_ms = ns->w_offset;
	}
	ns->ns_cycles++;
	/* Every stamp pulled: the next local edit comes after them all (an
	 * office whose clock runs ahead must not win over edits that follow). */
	if (ns->w_seen_hlc[0])
		hlc_observe(&n->nd_hlc, ns->w_seen_hlc);
	if (rc == 0 || rc == SYNC_E_PENDING) {
		if (ns->ns_failures > 0)
			log_info("sync with the hub works again after %d failed attempt%s",
				 ns->ns_failures, ns->ns_failures == 1 ? "" : "s");
		if (ns->w_pushed > 0 || ns->w_pulled > 0)
			log_debug("sync: pushed %" PRId64 ", pulled %d page(s)", ns->w_pushed,
				  ns->w_pulled);
		ns->ns_failures = 0;
		ns->ns_last_error[0] = '\0';
		if (ns->w_enrolled)
			ns->ns_last_ok_ms = clock_ms();
		/* Writes that raced the pull are pushed at the next cycle. */
		schedule(ns, rc == SYNC_E_PENDING ? NODE_SYNC_FIRST_MS : interval_ms(ns));
	} else {
		ns->ns_failures++;
		ns->ns_failed_total++;
		/* Log a failure once, not every retry. */
		if (strcmp(ns->ns_last_error, ns->w_err) != 0)
			log_warnx("sync with the hub failed (%s): %s", sync_strerror(rc),
				  ns->w_err[0] ? ns->w_err : "unknown error");
		snprintf(ns->ns_last_error, sizeof ns->ns_last_error, "%s",
			 ns->w_err[0] ? ns->w_err : "sync failed");
		schedule(ns, backoff(ns, ns->ns_failures));
	}
	ns->ns_last_rc = rc;
	ns->ns_hub_schema = rc == SYNC_E_SCHEMA ? ns->w_hub_schema : -1;
	ns->ns_refused_schema = rc == SYNC_E_SCHEMA ? ns->w_refused_schema : -1;
	/* The office's time zone, pulled or changed at the hub. */
	node_zone_check(n);
	/* A deactivation just pulled ends the user's sessions now. */
	node_auth_sweep(n);
	node_live_pulled(n, &ns->w_live); /* the desks hear of pulled visits */
	/* The hub answers again: an approver's verifier it could not confirm
	 * (the sign-in's question failed, the office cut off) is asked for. */
	if (rc == 0 || rc == SYNC_E_PENDING)
		node_auth_confirm_due(n, ns->ns_begun);
}

static void on_timer(uv_timer_t *t)
{
	struct node_sync *ns = t->data;

	if (ns->ns_stopping || ns->ns_busy)
		return;
	ns->ns_work.data = ns;
	if (uv_queue_work(ns->ns_node->nd_loop, &ns->ns_work, work_cycle, after_cycle) != 0) {
		log_warnx("cannot start a sync cycle; retrying");
		schedule(ns, interval_ms(ns));
		return;
	}
	ns->ns_busy = 1;
	ns->ns_begun++;
}

uint64_t node_sync_next_cycle(node *n)
{
	struct node_sync *ns = n->nd_sync;

	return ns == NULL || ns->ns_off || ns->ns_stopping ? 0 : ns->ns_begun + 1;
}

#define VERIFIER_BUSY_TRIES 4 /* 0.25 + 0.5 + 1 + 2 s */

/* A status of the hub's that refuses the question itself, so asking again
 * gets the same: a 4xx, except a timeout, a rate limit and a 401 (the
 * node's signature or clock refused: no sync cycle succeeds then, and the
 * question is asked again after one that does). */
static int verifier_refused(long status)
{
	return status >= 400 && status < 500 && status != 401 && status != 408 && status != 429;
}

int node_sync_verifier(node *n, const char *staff_id, const char *pw, const char *v,
		       const char *v_next)
{
	sync_client *c = NULL;
	buf resp = BUF_INIT(4096);
	cJSON *o = cJSON_CreateObject(), *checks = NULL;
	char err[256], *body = NULL, chk[PASSWORD_VERIFIER_HEX];
	long status = 0;
	int ret = -1, differs = 0, missing = 0;

	if (o == NULL || sync_client_global_init() != 0 ||
	    sync_client_new(n->nd_data, &c, err, sizeof err) != 0)
		goto out;
	sync_client_set_offset(c, n->nd_clock_offset_ms);
	cJSON_AddStringToObject(o, "staff_id", staff_id);
	/* Which verifier this office signs with: one of another password (a
	 * change or reset not received here) is answered "differs". */
	for (int i = 0; i < 2; i++) {
		const char *one = i == 0 ? v : v_next;

		if (one == NULL || one[0] == '\0')
			continue;
		if ((checks == NULL &&
		     (checks = cJSON_AddArrayToObject(o, "check")) == NULL) ||
		    password_verifier_check(one, staff_id, chk) != 0 ||
		    !cJSON_AddItemToArray(checks, cJSON_CreateString(chk)))
			goto out;
	}
	/* First whether the hub needs it at all: the password travels only then
	 * (and, asked without one, the answer is that it is needed).  The hub
	 * checks a few passwords at a time (503 beyond): retried, as the
	 * offices' approvers sign in at the start of a day. */
	for (int round = 0, busy = 0; round < 2; round++) {
		if (round == 1 && !cJSON_HasObjectItem(o, "password"))
			cJSON_AddStringToObject(o, "password", pw);
		body = cJSON_PrintUnformatted(o);
		if (body == NULL ||
		    sync_client_request(c, "POST", "/api/v1/sync/verifier", body, strlen(body),
					&status, &resp, NULL, NULL, NULL) != 0)
			goto out;
		crypto_wipe(body, strlen(body));
		free(body);
		body = NULL;
		if (round == 0) {
			cJSON *r = status == 200 ? cJSON_ParseWithLength(resp.data, resp.len) : NULL;
			const cJSON *ans = cJSON_GetObjectItemCaseSensitive(r, "verifier");

			missing = cJSON_IsString(ans) && strcmp(ans->valuestring, "missing") == 0;
			differs = cJSON_IsString(ans) && strcmp(ans->valuestring, "differs") == 0;
			cJSON_Delete(r);
			if (!missing || pw == NULL)
				break;
		} else if (status == 503 && busy < VERIFIER_BUSY_TRIES) {
			usleep(250000u << busy++);
			round--;
		}
		buf_reset(&resp);
	}
	ret = status == 200 ? (missing && pw == NULL ? -2 : !differs)
	      : status == 403 ? 0
	      : verifier_refused(status) ? -3
	      : -1;
	if (ret == -2)
		log_info("the hub holds no password verifier of staff %s: the next sign-in at this"
			 " office gives it",
			 staff_id);
	else if (differs)
		log_warnx("the hub holds another password of staff %s than this office: changed or"
			  " reset elsewhere, not yet received here",
			  staff_id);
	else if (ret == -3)
		log_warnx("the hub refuses to say whether it holds the password verifier of staff"
			  " %s (HTTP %ld): not an account this office may speak for there (moved to"
			  " another Local Area, deactivated or unknown); asked again only at a new"
			  " sign-in",
			  staff_id, status);
	else if (ret < 0)
		log_warnx("the hub did not take the password verifier of staff %s (HTTP %ld)",
			  staff_id, status);
out:
	if (body) {
		crypto_wipe(body, strlen(body));
		free(body);
	}
	if (o) {
		cJSON *p = cJSON_GetObjectItem(o, "password");
		if (p && p->valuestring)
			crypto_wipe(p->valuestring, strlen(p->valuestring));
		cJSON_Delete(o);
	}
	buf_release(&resp);
	sync_client_free(c);
	return ret;
}

/* DIR/sync.json is there: enrolled, whether or not a cycle has taken it up. */
static int identity_present(const node *n)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof path, "%s/%s", n->nd_data, SYNC_IDENTITY_FILE);
	return access(path, F_OK) == 0;
}

void node_sync_identity_check(node *n)
{
	char id[64], off[64] = "", la[64] = "";

	struct node_sync *ns = n->nd_sync;
	db_version v;

	if (ns == NULL || ns->ns_enrolled)
		return;
	/* Every request asks: enrollment writes DIR/sync.json first, and the
	 * rows are read only when node.db changed since. */
	if (!identity_present(n))
		return;
	if (node_db_version(n, &v) == 0) {
		if (ns->ns_id_ver_ok && db_version_same(&v, &ns->ns_id_ver))
			return;
		ns->ns_id_ver = v;
		ns->ns_id_ver_ok = 1;
	}
	if (db_kv_get(n->nd_db, "sync_state", "enrolled_node_id", id, sizeof id) != DB_FOUND ||
	    id[0] == '\0' || strcmp(id, n->nd_node_id) == 0 ||
	    db_kv_get(n->nd_db, "node_meta", "office_id", off, sizeof off) < 0 ||
	    db_kv_get(n->nd_db, "node_meta", "local_area_id", la, sizeof la) < 0)
		return;
	snprintf(n->nd_node_id, sizeof n->nd_node_id, "%s", id);
	snprintf(n->nd_office_id, sizeof n->nd_office_id, "%s", off);
	snprintf(n->nd_local_area_id, sizeof n->nd_local_area_id, "%s", la);
	hlc_set_node(&n->nd_hlc, n->nd_node_id);
	log_info("enrolled: node %s of office '%s' (taken before its first sync)", n->nd_node_id,
		 n->nd_office_id);
	/* The first sync now, not a whole interval after the last look for
	 * an enrollment. */
	if (!ns->ns_off && !ns->ns_stopping && !ns->ns_busy)
		schedule(ns, 0);
}

/* Background sync off: take the enrolled identity (if any) now, since no
 * cycle will.  0, or -1 when node.db cannot record it. */
static int adopt_at_start(struct node_sync *ns)
{
	node *n = ns->ns_node;
	sync_identity id;
	char err[256];

	log_info("background sync is off (sync_interval = 0): replicate with outpost-sync "
		 "push/pull");
	if (sync_identity_load(n->nd_data, &id, err, sizeof err) != 0)
		return 0; /* not enrolled (or a bad file, which the CLI reports) */
	if (sync_client_adopt(n->nd_db, &id, NULL) != 0) {
		sync_identity_wipe(&id);
		return -1;
	}
	ns->ns_enrolled = 1;
	snprintf(ns->ns_hub_url, sizeof ns->ns_hub_url, "%s", id.id_hub_url);
	snprintf(n->nd_node_id, sizeof n->nd_node_id, "%s", id.id_node_id);
	snprintf(n->nd_office_id, sizeof n->nd_office_id, "%s", id.id_office_id);
	snprintf(n->nd_local_area_id, sizeof n->nd_local_area_id, "%s", id.id_local_area_id);
	hlc_set_node(&n->nd_hlc, n->nd_node_id);
	sync_identity_wipe(&id);
	return 0;
}

int node_sync_start(node *n)
{
	struct node_sync *ns;

	/* The status route reads these tables on the loop thread. */
	if (sync_client_migrate(n->nd_db) != 0)
		return -1;
	case_key_set_wrap_source(la_source);
	ns = calloc(1, sizeof *ns);
	if (ns == NULL)
		return -1;
	ns->ns_node = n;
	ns->ns_hub_schema = ns->ns_refused_schema = -1;
	snprintf(ns->ns_db_path, sizeof ns->ns_db_path, "%s/%s", n->nd_data, NODE_DB_FILE);
	if (uv_timer_init(n->nd_loop, &ns->ns_timer) != 0) {
		free(ns);
		return -1;
	}
	ns->ns_timer.data = ns;
	n->nd_sync = ns;
	ns->ns_interval_ms = (uint64_t)conf_int(&n->nd_conf, "sync_interval") * 1000;
	if (ns->ns_interval_ms == 0) {
		ns->ns_off = 1;
		ns->ns_interval_ms = NODE_SYNC_INTERVAL_MS;
		return adopt_at_start(ns);
	}
	schedule(ns, NODE_SYNC_FIRST_MS);
	return 0;
}

void node_sync_stop(node *n)
{
	struct node_sync *ns = n->nd_sync;

	if (ns == NULL || ns->ns_stopping)
		return;
	ns->ns_stopping = 1;
	ns->ns_cancel = 1;
	uv_timer_stop(&ns->ns_timer);
	uv_close((uv_handle_t *)&ns->ns_timer, on_timer_closed);
}

void node_sync_nudge(node *n)
{
	struct node_sync *ns = n->nd_sync;

	if (ns == NULL || ns->ns_off || ns->ns_stopping || ns->ns_busy || !ns->ns_enrolled ||
	    ns->ns_failures > 0)
		return;
	if (ns->ns_next_ms > clock_ms() + NODE_SYNC_FIRST_MS)
		schedule(ns, NODE_SYNC_FIRST_MS);
}

/* GET /api/v1/sync/status: this node's replication lag, for its staff. */
static route_rc get_status(route_call *a)
{
	node *n = API_NODE(a);
	struct node_sync *ns = n->nd_sync;
	uint64_t now = clock_ms();
	cJSON *o;

	o = sync_client_status_json(n->nd_db, now);
	if (o == NULL)
		return ROUTE_DBERR;
	/* Identity and the live state of the background cycle. */
	cJSON_AddBoolToObject(o, "enrolled", ns && ns->ns_enrolled);
	if (ns && ns->ns_enrolled)
		cJSON_AddStringToObject(o, "hub_url", ns->ns_hub_url);
	else
		cJSON_AddNullToObject(o, "hub_url");
	cJSON_AddStringToObject(o, "node_id", n->nd_node_id);
	json_add_str_or_null(o, "office_id", n->nd_office_id[0] ? n->nd_office_id : NULL);
	json_add_str_or_null(o, "local_area_id",
			     n->nd_local_area_id[0] ? n->nd_local_area_id : NULL);
	if (ns && ns->ns_last_error[0]) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "last_error");
		cJSON_AddStringToObject(o, "last_error", ns->ns_last_error);
	}
	/* While the hub refuses this node's version: the hub's, from its reply
	 * (last_error says which side to upgrade). */
	if (node_sync_schema_refused(n) && ns->ns_hub_schema >= 0)
		cJSON_AddNumberToObject(o, "hub_schema_version", (double)ns->ns_hub_schema);
	else
		cJSON_AddNullToObject(o, "hub_schema_version");
	cJSON_AddBoolToObject(o, "syncing", ns && ns->ns_busy);
	cJSON_AddNumberToObject(o, "consecutive_failures", ns ? ns->ns_failures : 0);
	cJSON_AddBoolToObject(o, "background_sync", ns && !ns->ns_off);
	if (ns && !ns->ns_off && !ns->ns_stopping && !ns->ns_busy) {
		cJSON_AddNumberToObject(o, "next_attempt_ms", (double)ns->ns_next_ms);
		cJSON_AddNumberToObject(o, "next_attempt_in_ms",
					ns->ns_next_ms > now ? (double)(ns->ns_next_ms - now) : 0);
	} else {
		cJSON_AddNullToObject(o, "next_attempt_ms");
		cJSON_AddNullToObject(o, "next_attempt_in_ms");
	}
	if (ns && ns->ns_last_ok_ms)
		cJSON_AddNumberToObject(o, "last_success_ms", (double)ns->ns_last_ok_ms);
	else
		cJSON_AddNullToObject(o, "last_success_ms");
	cJSON_AddNumberToObject(o, "now_ms", (double)now);
	db_health_json(o); /* disk_full, storage_error */
	return route_ok(a, 200, o);
}

/* 1 when u may see the values of a conflict on table tbl in the list: a
 * record of the CRM's (the route's view privilege), a visit's with the
 * front desk's (the waiting list's).  Never a participant's: the record is
 * read where each read is audited (TEGL 39-11), and this list is read
 * every few seconds; nor a table this node does not know. */
static int conflict_values_shown(const node_user *u, const char *tbl)
{
	const char *m = schema_table_module(tbl);

	if (m == NULL)
		return 0;
	if (strcmp(m, "crm") == 0)
		return 1;
	return strcmp(m, "core") == 0 && (u->privs & PRIV_GREETER_DESK);
}

/* GET /api/v1/sync/conflicts: the merge conflicts the hub recorded in this
 * office's scope, as replicated to this node (newest first), so staff see
 * them even while the hub is out of reach; each without its values
 * ("values_hidden": true, the values null) where conflict_values_shown()
 * says so. */
static route_rc get_conflicts(route_call *a)
{
	static const char *const values[] = {"base_value", "local_value", "remote_value"};
	const node_user *u = API_USER(a);
	cJSON *rows = db_rows_json_by(API_NODE(a)->nd_db,
				      "SELECT id, tbl, row_id, column_name, base_value, local_value,"
				      " remote_value, winner, node_id, actor, created_at, resolved_at,"
				      " reason FROM conflicts ORDER BY created_at DESC, id LIMIT 500",
				      NULL),
	      *it;

	if (rows == NULL)
		return ROUTE_DBERR;
	cJSON_ArrayForEach(it, rows)
	{
		int shown = conflict_values_shown(u, json_str(it, "tbl"));

		for (int i = 0; i < 3 && !shown; i++)
			cJSON_ReplaceItemInObjectCaseSensitive(it, values[i], cJSON_CreateNull());
		if (cJSON_AddBoolToObject(it, "values_hidden", !shown) == NULL) {
			cJSON_Delete(rows);
			return ROUTE_DBERR;
		}
	}
	return route_ok(a, 200, rows);
}

/* POST /api/v1/sync/now: the Sync page's "Try now" (a cycle at once, even
 * while failures back off).  202; the status's "syncing" follows. */
static route_rc post_sync_now(route_call *a)
{
	node *n = API_NODE(a);
	struct node_sync *ns = n->nd_sync;

	/* Enrolled since the last cycle (outpost-sync enroll beside the running
	 * node): the cycle this schedules takes the identity up. */
	if (ns == NULL || ns->ns_stopping || (!ns->ns_enrolled && !identity_present(n)))
		return route_fail(a, 409, NULL, "this office is not connected to a hub");
	if (!ns->ns_busy && !ns->ns_off)
		schedule(ns, 0);
	return route_ok(a, 202, cJSON_CreateObject());
}

int node_sync_connected(node *n, uint64_t within_ms)
{
	struct node_sync *ns = n->nd_sync;
	uint64_t now = clock_ms();

	return ns && ns->ns_enrolled && ns->ns_failures == 0 && ns->ns_last_ok_ms &&
	       now - ns->ns_last_ok_ms < within_ms;
}

int node_sync_schema_refused(node *n)
{
	struct node_sync *ns = n->nd_sync;

	if (!ns || !ns->ns_enrolled || ns->ns_failures == 0 || ns->ns_last_rc != SYNC_E_SCHEMA)
		return 0;
	return ns->ns_hub_schema >= 0 && ns->ns_hub_schema < ns->ns_refused_schema
		       ? NODE_UPGRADE_HUB
		       : NODE_UPGRADE_NODE;
}

static const route_def sync_defs[] = {
	{HTTP_M_GET, "/api/v1/sync/status", get_status, 0, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/sync/conflicts", get_conflicts, PRIV_VIEW, 0, NULL, 0},
	/* schedules a cycle; writes nothing itself */
	{HTTP_M_POST, "/api/v1/sync/now", post_sync_now, 0, 0, NULL, 0},
};

const route_list sync_route_list = ROUTE_LIST(sync_defs);

int node_sync_synced_since(node *n, uint64_t since_ms)
{
	struct node_sync *ns = n->nd_sync;

	if (ns == NULL || (!ns->ns_enrolled && !identity_present(n)))
		return -1;
	return ns->ns_last_ok_ms >= since_ms ? 1 : 0;
}

void node_sync_figures(node *n, node_sync_fig *f)
{
	struct node_sync *ns = n->nd_sync;

	memset(f, 0, sizeof *f);
	if (ns == NULL)
		return;
	f->nf_enrolled = ns->ns_enrolled;
	f->nf_failures = ns->ns_failures;
	f->nf_cycles = ns->ns_cycles;
	f->nf_failed_total = ns->ns_failed_total;
	f->nf_last_ok_ms = ns->ns_last_ok_ms;
}
