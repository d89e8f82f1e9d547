/*
 * main.c - outpost-hub: the central hub.  `serve` (the default) opens and
 * migrates DIR/hub.db, seeds the demo office on a new hub, loads (or on first
 * start generates) the TLS certificate and the admin token, and serves the
 * sync API, the admin API and the console over HTTPS only.  The other
 * subcommands work on the same data directory without a running server:
 * `enroll-code` prints a one-time enrollment code (or cancels one),
 * `enroll-codes` lists them, `import` ingests an offline bundle, `revoke`
 * shuts a node out.
 */
#include "hub/hub.h"
#include "hub/hub_api.h"
#include "hub/acct.h"
#include "lib/memtrim.h"
#include "lib/clock.h"
#include "lib/faultvfs.h"
#include "lib/fsperm.h"
#include "lib/log.h"
#include "lib/testhook.h"
#include "lib/tls.h"
#include "lib/tls_ca.h"
#include "model/case_approvals.h"
#include "model/schema.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* DESIGN.md: at least 600,000 PBKDF2 rounds.  Only the sanitizer test build
 * (OUTPOST_TEST_HOOKS) may go lower, so tests that create many accounts do
 * not spend minutes hashing. */
#ifdef OUTPOST_TEST_HOOKS
#define HUB_MIN_PASSWORD_ITERS 1000
#else
#define HUB_MIN_PASSWORD_ITERS 600000
#endif

static const conf_entry hub_conf_tab[] = {
    {"data", CONF_STR, HUB_DEFAULT_DATA, 0, 0,
     "data directory (hub.db, hub.crt, hub.key, admin.token, hub.conf)"},
    {"listen", CONF_STR, HUB_DEFAULT_LISTEN, 0, 0,
     "HOST:PORT for HTTPS (0.0.0.0:8443 to reach the offices)"},
    {"cert", CONF_STR, "", 0, 0,
     "TLS certificate, PEM (default DATA/hub.crt, generated)"},
    {"key", CONF_STR, "", 0, 0, "TLS private key, PEM (default DATA/hub.key, generated)"},
    {"timezone", CONF_STR, HUB_DEFAULT_TZ, 0, 0, "time zone of reports and dates"},
    {"max_body", CONF_INT, "4259840", 65536, 64 * 1024 * 1024,
     "largest request body in bytes (the push route takes batches up to 8 MiB whatever this says)"},
    {"demo", CONF_BOOL, "no", 0, 0,
     "seed the demo Local Area, offices and test logins on a new hub (off: no account has "
     "the published demo password)"},
    {"cert_domains", CONF_STR, "", 0, 0,
     "DNS domains, comma-separated, whose names the office CA signs for a node besides "
     "private addresses, single-label names and .local, .lan, .internal, .home.arpa"},
    {"verbose", CONF_INT, "0", 0, 2, "log detail (0-2)"},
    {"password_iters", CONF_INT, "600000", HUB_MIN_PASSWORD_ITERS, 100000000,
     "PBKDF2 rounds of new passwords (at least 600000; fewer only in the test build)"},
};
#define NCONF ((int)(sizeof hub_conf_tab / sizeof hub_conf_tab[0]))

static const char usage_text[] =
    "usage: outpost-hub [serve] [--data DIR] [--listen HOST:PORT] [--config FILE] [-n]\n"
    "       outpost-hub enroll-code --office ID [--data DIR]\n"
    "       outpost-hub enroll-code --cancel CODE_ID [--data DIR]\n"
    "       outpost-hub enroll-codes [--json] [--data DIR]\n"
    "       outpost-hub import FILE [--json] [--data DIR]\n"
    "       outpost-hub export-office NODE_ID --out FILE [--after SEQ] [--json] [--data DIR]\n"
    "       outpost-hub revoke NODE_ID [--data DIR]\n"
    "       outpost-hub ssn-key-rotate LOCAL_AREA_ID [--data DIR]\n"
    "       outpost-hub ssn-key-retire LOCAL_AREA_ID [--force] [--data DIR]\n"
    "       outpost-hub reset-operations [--data DIR]\n"
    "       outpost-hub backup --out FILE [--key-file KEYFILE] [--data DIR]\n"
    "       outpost-hub restore FILE [--key-file KEYFILE] [--force] [--data DIR]\n"
    "       outpost-hub check [--json] [--data DIR]\n"
    "       outpost-hub --help | --version\n\n"
    "The Outpost hub: every office's data, the sync API and the admin API, over "
    "HTTPS.\n\n"
    "  serve           run the hub (default)\n"
    "  enroll-code     print a one-time code (valid 24 h) that enrolls a node of office "
    "ID;\n"
    "                  --cancel CODE_ID withdraws a code not used yet\n"
    "  enroll-codes    list the codes not used yet and those of the last 7 days\n"
    "  import FILE     ingest a bundle written by 'outpost-sync export'\n"
    "  export-office NODE_ID --out FILE  the hub's changes that node would pull, as a\n"
    "                  bundle for 'outpost-sync import' at its office (from what it has:\n"
    "                  the cursor its latest bundle or pull reported, or --after SEQ:\n"
    "                  its 'outpost-sync status')\n"
    "  revoke NODE_ID  refuse every further request from that node (its Local Area\n"
    "                  gets a new SSN key)\n"
    "  ssn-key-rotate LOCAL_AREA_ID  a new SSN key for the Local Area; its stored\n"
    "                  SSNs are written again under it\n"
    "  ssn-key-retire LOCAL_AREA_ID  delete the Local Area's SSN keys older than its\n"
    "                  newest, at the hub and its offices; refused while a stored SSN\n"
    "                  is under one, or an active node has not pulled since the\n"
    "                  rotation (--force: what such a node pushes under a retired\n"
    "                  key is then quarantined)\n"
    "  reset-operations  print a new one-time password of the 'operations' account\n"
    "  backup --out FILE  consistent copy of hub.db (mode 0600), taken while the hub\n"
    "                  serves; its secrets go to KEYFILE (default FILE.key): keep apart\n"
    "  restore FILE    put a backup and its KEYFILE back (hub stopped; --force replaces hub.db);\n"
    "                  the offices send again what the backup lacks\n"
    "  check           database integrity, permissions, certificate expiry, disk\n"
    "                  space; exit 0 ok, 1 warning, 2 failed, 3 unreadable\n"
    "  --config FILE   settings file (default DATA/hub.conf)\n"
    "  -n              check the configuration and exit\n\n"
    "Admin API: send 'Authorization: Bearer <token>' with the token in "
    "DATA/admin.token.\n\n"
    "Settings (flags, or OUTPOST_HUB_<NAME> in the environment,\n"
    "or 'name = value' lines in the config file):\n";

/* ---- serve ------------------------------------------------------------------ */

/* dir "/" file into out; a path that does not fit is fatal (a config error). */
static void path_join(char *out, size_t n, const char *dir, const char *file)
{
	int len =
	    file ? snprintf(out, n, "%s/%s", dir, file) : snprintf(out, n, "%s", dir);

	if (len < 0 || (size_t)len >= n)
		fatalx("path too long: '%s'", dir);
}

static void on_closed(void *arg)
{
	hub *h = arg;

	stopsig_close(&h->hb_stop);
	uv_close((uv_handle_t *)&h->hb_prune, NULL);
}

static void on_stop(void *arg)
{
	hub *h = arg;

	h->hb_stopping = 1;
	uv_timer_stop(&h->hb_prune);
	uv_timer_stop(&h->hb_wal_idle);
	http_server_close(h->hb_http, on_closed, h);
}

static void on_prune(uv_timer_t *t)
{
	hub *h = t->data;

	hub_nonce_prune(h->hb_db, hub_now_ms());
	/* Contacts and pull progress no request wrote since (hub_work.c). */
	if (uv_mutex_trylock(&h->hb_wlock) == 0) {
		hub_progress_flush(h);
		/* SSNs an office wrote under an older key since (hub_keys.c) */
		hub_keys_reencrypt(h->hb_db, hub_clock(h), 1);
		uv_mutex_unlock(&h->hb_wlock);
	}
	hub_keys_wrap_new(h->hb_db);
	hub_codes_apply_due(h->hb_db, hub_clock(h)); /* code list versions now due */
	acct_state_sweep(h); /* deactivations whose separation date has come */
}

/* Once pushes and edits stop, the WAL is truncated (lib/dbguard.c). */
static void on_wal_idle(uv_timer_t *t)
{
	hub *h = t->data;

	db_wal_idle(h->hb_db);
	mem_tick(); /* the heap the work threads freed goes back (lib/memtrim.h) */
}

static void healthz(http_req *req, void *ctx)
{
	hub *h = ctx;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddStringToObject(o, "role", "hub");
	cJSON_AddStringToObject(o, "version", OUTPOST_VERSION);
	/* the console shows dates in this zone */
	cJSON_AddStringToObject(o, "timezone", conf_str(&h->hb_conf, "timezone"));
	cJSON_AddNumberToObject(o, "schema_version", schema_version());
	cJSON_AddNumberToObject(o, "protocol", SYNC_PROTOCOL_VERSION);
	cJSON_AddNumberToObject(o, "time_ms", (double)hub_now_ms());
	cJSON_AddNumberToObject(o, "uptime_s",
				(double)((hub_now_ms() - h->hb_started_ms) / 1000));
	db_health_json(o); /* disk_full, storage_error */
	http_reply_json(req, 200, o);
}

static void static_file(http_req *req, void *ctx)
{
	const char *path = req->path;

	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if (http_serve_asset(req, assets_hub, path) == 0)
		return;
	if (strcmp(req->path, "/") == 0) {
		/* No console embedded yet: say what this server is. */
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", "hub");
		cJSON_AddStringToObject(o, "version", OUTPOST_VERSION);
		cJSON_AddStringToObject(o, "api", "/api/v1/");
		cJSON_AddStringToObject(o, "message",
					"the Outpost hub console is not installed");
		http_reply_json(req, 200, o);
		return;
	}
	{
		/* A browser asking for a page gets one a person can read. */
		const char *accept = http_req_header(req, "accept");
		const asset *a = asset_find(assets_hub, "/404.html");
		if (a && accept && strstr(accept, "text/html") && strncmp(req->path, "/api/", 5) != 0) {
			http_reply(req, 404, a->content_type, a->data, a->len);
			return;
		}
	}
	http_reply_error(req, 404, NULL, "no such page");
}

/* The sync API stamps its replies itself (some are sent later from the
 * thread pool, when the clock has moved on); everything else is stamped on
 * arrival. */
static void hub_dispatch(http_req *req, void *ctx)
{
	hub *h = ctx;

	if (strncmp(req->path, "/api/v1/sync/", 13) != 0) {
		char t[32];
		snprintf(t, sizeof t, "%" PRIu64, hub_now_ms());
		http_add_header(req, "X-Outpost-Time", t);
	}
	router_dispatch(req, h->hb_router);
}

/* The certificate's and the key's paths: the settings', else the data
 * directory's files. */
static void cert_paths(hub *h, char cert[PATH_MAX + 32], char key[PATH_MAX + 32])
{
	if (*conf_str(&h->hb_conf, "cert"))
		path_join(cert, PATH_MAX + 32, conf_str(&h->hb_conf, "cert"), NULL);
	else
		path_join(cert, PATH_MAX + 32, h->hb_data, HUB_CERT_FILE);
	if (*conf_str(&h->hb_conf, "key"))
		path_join(key, PATH_MAX + 32, conf_str(&h->hb_conf, "key"), NULL);
	else
		path_join(key, PATH_MAX + 32, h->hb_data, HUB_KEY_FILE);
}

/* The certificate and key (generated on first use), and their pin. */
static void tls_load(hub *h)
{
	char cert[PATH_MAX + 32], key[PATH_MAX + 32];
	const char *err = NULL;

	cert_paths(h, cert, key);
	h->hb_tls = tls_config_new(cert, key, 1, &err);
	if (h->hb_tls == NULL)
		fatalx("cannot set up TLS with '%s' and '%s': %s", cert, key,
		       err ? err : "unknown error");
	if (tls_config_pin(h->hb_tls, h->hb_pin, sizeof h->hb_pin) != 0)
		fatalx("cannot compute the public key pin of '%s'", cert);
}

/* Room for HUB_MAX_CONNS connections: the soft limit on open files (1,024
 * by default on many systems) raised towards the hard one. */
static void hub_open_files(void)
{
	struct rlimit rl;
	rlim_t want = HUB_MAX_CONNS + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warnx("cannot raise the open-file limit to %llu", (unsigned long long)rl.rlim_cur);
}

/* The hub's routes outside its declared table (hub_api.c), registered
 * after it, ctx = the hub: the office CA (public), the hand-plumbed reports
 * and code lists, health, metrics and, last, the console's files (first
 * match wins). */
static const router_row plain_rows[] = {
	{HTTP_M_GET, "/ca.crt", hub_ca_get},
	{HTTP_M_GET, "/api/v1/ca", hub_ca_info},
	{HTTP_M_GET, "/api/v1/admin/reports/greeter", hub_reports_greeter},
	{HTTP_M_GET, "/api/v1/admin/reports/greeter-missing", hub_reports_missing},
	{HTTP_M_GET, "/api/v1/admin/code-lists", hub_codes_lists},
	{HTTP_M_GET, "/api/v1/admin/code-lists/:list", hub_codes_list},
	{HTTP_M_POST, "/api/v1/admin/code-lists/:list", hub_codes_version_post},
	{HTTP_M_GET, "/healthz", healthz},
	{HTTP_M_GET, "/metrics", hub_metrics_get},
	{HTTP_M_GET, "/*", static_file}, /* and HEAD (lib/router.c) */
};

static int serve(hub *h)
{
	char path[PATH_MAX + 32], key[PATH_MAX + 32];
	uv_loop_t *loop;
	int rc;

	if (hub_serve_lock(h->hb_data) < 0)
		fatalx("another hub, or a restore, is using '%s'", h->hb_data);
	path_join(path, sizeof path, h->hb_data, HUB_DB_FILE);
	hub_open_files();
	if (hub_work_open(h, path) != 0)
		fatalx("cannot open the hub database '%s' for the work threads", path);
	if (hub_admin_token_load(h->hb_data, h->hb_admin_token) != 0)
		fatalx("cannot load or create the admin token in '%s'", h->hb_data);
	tls_load(h);
	cert_paths(h, path, key);
	if (hub_ca_load(h, path) != 0)
		fatalx("cannot set up the office CA in '%s'", h->hb_data);
	hlc_init(&h->hb_hlc, HUB_NODE_ID, NULL, NULL);
	h->hb_started_ms = hub_now_ms();
	if (hub_codes_start(h->hb_db, hub_clock(h)) != 0)
		fatalx("cannot prepare the code lists");
	h->hb_acct = acct_new(h, (uint32_t)conf_int(&h->hb_conf, "password_iters"));
	path_join(path, sizeof path, h->hb_data, HUB_OPS_PASSWORD_FILE);
	if (h->hb_acct == NULL ||
	    acct_bootstrap(h->hb_db, hub_clock(h), acct_iters(h->hb_acct), path,
			   conf_bool(&h->hb_conf, "demo")) != 0)
		fatalx("cannot prepare the staff accounts");
	hub_nonce_prune(h->hb_db, h->hb_started_ms);

	loop = uv_default_loop();
	h->hb_loop = loop;
	h->hb_router = router_new();
	if (TEST_HOOKS_BUILT && getenv("OUTPOST_PLANT"))
		log_warnx("test build: planted bug '%s' is active", getenv("OUTPOST_PLANT"));
	if (h->hb_router == NULL || hub_api_routes(h, h->hb_router) != 0 ||
	    ROUTER_ROWS(h->hb_router, plain_rows, h) != 0)
		fatalx("cannot set up routes");
	h->hb_http = http_server_new(loop, hub_dispatch, h);
	if (h->hb_http == NULL)
		fatalx("out of memory");
	http_server_set_max_body(h->hb_http, (size_t)conf_int(&h->hb_conf, "max_body"));
	/* Every office keeps a connection open (hub_open_files()). */
	http_server_set_conn_caps(h->hb_http, 0, HUB_MAX_CONNS);
	/* Routes that name their own cap (the push) keep it. */
	http_server_set_body_limit(h->hb_http, router_body_limit, h->hb_router);
	http_server_set_tls(h->hb_http, h->hb_tls);
	/* Who sends a body is known before any of it is read (hub_edge.c). */
	http_server_set_pre_body(h->hb_http, hub_edge_gate, h);
	rc = http_server_listen(h->hb_http, conf_str(&h->hb_conf, "listen"));
	if (rc != 0)
		fatalx("cannot listen on '%s': %s", conf_str(&h->hb_conf, "listen"),
		       uv_strerror(rc));
	uv_timer_init(loop, &h->hb_prune);
	h->hb_prune.data = h;
	acct_state_sweep(h); /* a separation date that came while the hub was down */
	uv_timer_start(&h->hb_prune, on_prune, HUB_PRUNE_EVERY_MS, HUB_PRUNE_EVERY_MS);
	uv_timer_init(loop, &h->hb_wal_idle);
	h->hb_wal_idle.data = h;
	uv_timer_start(&h->hb_wal_idle, on_wal_idle, DB_WAL_IDLE_MS, DB_WAL_IDLE_MS);
	if (stopsig_start(loop, &h->hb_stop, on_stop, h) != 0)
		fatalx("cannot watch for signals");
	log_info("hub listening on https://%s (data %s, schema version %d, key pin %s)",
		 conf_str(&h->hb_conf, "listen"), h->hb_data, schema_version(),
		 h->hb_pin);

	uv_run(loop, UV_RUN_DEFAULT);

	http_server_free(h->hb_http);
	router_free(h->hb_router);
	hub_api_free(h);
	tls_config_free(h->hb_tls);
	hub_ca_free(h);
	acct_free(h->hb_acct);
	hub_work_close(h);
	uv_loop_close(loop);
	return 0;
}

/* ---- command line ------------------------------------------------------------ */

/* Unix ms as the hub's local time, for people. */
static void fmt_when(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M %Z", &tm);
}

static int cmd_enroll_code(hub *h, const char *office, long long ttl)
{
	char code[20], shown[HUB_ENROLL_CODE_SHOWN], when[32], id[UUID_STRLEN];
	char detail[HUB_ENROLL_DETAIL];
	int64_t expires;
	int rc;

	if (office == NULL || *office == '\0') {
		fprintf(stderr, "outpost-hub: enroll-code needs --office ID\n");
		return 2;
	}
	tls_load(h); /* the code carries a check of the hub's key */
	/* -4: no transaction begun */
	rc = db_exec(h->hb_db, "BEGIN IMMEDIATE") != 0
		 ? -4
		 : hub_enroll_code_new(h->hb_db, office, ttl, "cli", code, id, &expires);
	if (rc == 0 && hub_enroll_code_show(code, h->hb_pin, shown) != 0)
		rc = -1;
	if (rc == 0)
		hub_enroll_code_detail(id, detail);
	if (rc == 0 && (hub_audit(h->hb_db, "cli", "enroll_code.create", office, detail) != 0 ||
			db_exec(h->hb_db, "COMMIT") != 0))
		rc = -1;
	if (rc != 0 && rc != -4)
		db_exec(h->hb_db, "ROLLBACK");
	if (rc == -3) {
		fprintf(stderr, "outpost-hub: office '%s' is closed (inactive): make it "
				"active to enroll a node\n", office);
	} else if (rc == -2) {
		fprintf(stderr, "outpost-hub: unknown office '%s' (see GET /api/v1/offices)\n",
			office);
	} else if (rc != 0) {
		fprintf(stderr, "outpost-hub: cannot create an enrollment code\n");
	} else {
		fmt_when(expires, when, sizeof when);
		printf("%s\n", shown);
		fflush(stdout);
		fprintf(stderr,
			"one-time enrollment code for office '%s', valid until %s:\n"
			"  outpost-sync enroll --hub https://HUB:PORT --code - --data NODE_DIR\n"
			"(--code - asks for the code: one given on the command line is seen by"
			" every user of that computer while it runs)\n"
			"(its last 12 characters check the hub's key %s)\n"
			"(not needed after all, or seen by someone else? cancel it:"
			" outpost-hub enroll-code --cancel %s)\n",
			office, when, h->hb_pin, id);
	}
	memset(code, 0, sizeof code);
	memset(shown, 0, sizeof shown);
	tls_config_free(h->hb_tls);
	h->hb_tls = NULL;
	return rc == 0 ? 0 : 1;
}

/* enroll-code --cancel ID: as POST /api/v1/enroll-codes/:id/cancel does,
 * audited as the CLI's. */
static int cmd_enroll_code_cancel(hub *h, const char *id)
{
	char office[64] = "", detail[HUB_ENROLL_DETAIL];
	const char *why = NULL;
	int rc;

	/* -4: no transaction begun */
	rc = db_exec(h->hb_db, "BEGIN IMMEDIATE") != 0
		 ? -4
		 : hub_enroll_code_cancel_in(h->hb_db, id, "cli", office, &why);
	if (rc == DB_FOUND) {
		hub_enroll_code_detail(id, detail);
		if (hub_audit(h->hb_db, "cli", "enroll_code.cancel", office, detail) != 0 ||
		    db_exec(h->hb_db, "COMMIT") != 0)
			rc = -1;
	}
	if (rc != DB_FOUND && rc != -4)
		db_exec(h->hb_db, "ROLLBACK");
	if (rc == DB_FOUND) {
		printf("enrollment code %s of office '%s' cancelled\n", id, office);
		return 0;
	}
	if (rc == DB_ABSENT)
		fprintf(stderr, "outpost-hub: no enrollment code '%s' (see outpost-hub "
				"enroll-codes)\n", id);
	else if (rc == -2)
		fprintf(stderr, "outpost-hub: %s\n", why);
	else
		fprintf(stderr, "outpost-hub: cannot cancel enrollment code '%s'\n", id);
	return 1;
}

/* enroll-codes: the list GET /api/v1/enroll-codes gives, as JSON or a
 * table. */
static int cmd_enroll_codes(hub *h, int json_out)
{
	cJSON *rows = hub_enroll_codes_json(h->hb_db), *it;
	char *s;

	if (rows == NULL) {
		fprintf(stderr, "outpost-hub: cannot list the enrollment codes\n");
		return 1;
	}
	if (json_out) {
		if ((s = cJSON_Print(rows)) != NULL)
			printf("%s\n", s);
		free(s);
		cJSON_Delete(rows);
		return s != NULL ? 0 : 1;
	}
	if (cJSON_GetArraySize(rows) == 0)
		printf("no enrollment code pending or made in the last 7 days\n");
	else
		printf("%-36s  %-9s  %-20s  %-20s  %-20s  %s\n", "ID", "STATE", "OFFICE",
		       "CREATED", "EXPIRES", "BY");
	cJSON_ArrayForEach(it, rows)
	{
		const char *by = json_str(it, "created_by");
		char made[32], ends[32];

		fmt_when((int64_t)cJSON_GetObjectItem(it, "created_at")->valuedouble, made,
			 sizeof made);
		fmt_when((int64_t)cJSON_GetObjectItem(it, "expires_at")->valuedouble, ends,
			 sizeof ends);
		printf("%-36s  %-9s  %-20s  %-20s  %-20s  %s\n", json_str(it, "id"),
		       json_str(it, "state"), json_str(it, "office_id"), made, ends,
		       by ? by : "-");
	}
	cJSON_Delete(rows);
	return 0;
}

static void reencrypt_all(hub *h);

static int cmd_revoke(hub *h, const char *node_id)
{
	int rc;

	if (node_id == NULL) {
		fprintf(stderr, "outpost-hub: revoke needs a NODE_ID\n");
		return 2;
	}
	rc = hub_node_revoke(h->hb_db, node_id, "cli");
	if (rc == DB_ABSENT) {
		fprintf(stderr, "outpost-hub: no node '%s'\n", node_id);
		return 1;
	}
	if (rc != DB_FOUND) {
		fprintf(stderr, "outpost-hub: cannot revoke node '%s'\n", node_id);
		return 1;
	}
	printf("node %s revoked\n", node_id);
	reencrypt_all(h);
	return 0;
}

/* The stored SSNs under their Local Area's new key now, batch by batch
 * (a serving hub does it too, on its timer and before pulls). */
static void reencrypt_all(hub *h)
{
	int total;

	hlc_init(&h->hb_hlc, HUB_NODE_ID, NULL, NULL);
	if ((total = hub_keys_reencrypt_all(h->hb_db, hub_clock(h))) < 0)
		fprintf(stderr, "outpost-hub: cannot write the stored SSNs again under the new key "
				"(the serving hub goes on with it)\n");
	else if (total > 0)
		printf("%d stored SSN(s) written again under the new key\n", total);
}

static int cmd_ssn_key_rotate(hub *h, const char *la)
{
	int rc, epoch = 0;

	if (la == NULL) {
		fprintf(stderr, "outpost-hub: ssn-key-rotate needs a LOCAL_AREA_ID\n");
		return 2;
	}
	if (db_exec(h->hb_db, "BEGIN IMMEDIATE") != 0)
		return 1;
	rc = hub_keys_rotate(h->hb_db, la, &epoch);
	if (rc == 0) {
		char detail[32];
		snprintf(detail, sizeof detail, "epoch %d", epoch);
		if (hub_audit(h->hb_db, "cli", "ssn_key.rotate", la, detail) != 0 ||
		    db_exec(h->hb_db, "COMMIT") != 0)
			rc = -1;
	}
	if (rc != 0)
		db_exec(h->hb_db, "ROLLBACK");
	if (rc > 0) {
		fprintf(stderr, "outpost-hub: no Local Area '%s' with an SSN key\n", la);
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "outpost-hub: cannot rotate the SSN key of '%s'\n", la);
		return 1;
	}
	printf("Local Area %s: new SSN key (epoch %d)\n", la, epoch);
	reencrypt_all(h);
	return 0;
}

/* The stored SSNs written again first (what the serving hub does every
 * minute), then the retirement, audited in the same transaction. */
static int cmd_ssn_key_retire(hub *h, const char *la, int force)
{
	char msg[HUB_RETIRE_MSG_MAX], detail[HUB_RETIRE_MSG_MAX + 64];
	int rc, epoch = 0, n = 0;

	if (la == NULL) {
		fprintf(stderr, "outpost-hub: ssn-key-retire needs a LOCAL_AREA_ID\n");
		return 2;
	}
	reencrypt_all(h);
	if (db_exec(h->hb_db, "BEGIN IMMEDIATE") != 0)
		return 1;
	rc = hub_keys_retire(h->hb_db, la, force, &epoch, &n, msg, sizeof msg);
	if (rc == 0) {
		hub_keys_retire_detail(detail, sizeof detail, n, epoch, msg);
		if (hub_audit(h->hb_db, "cli", "ssn_key.retire", la, detail) != 0 ||
		    db_exec(h->hb_db, "COMMIT") != 0)
			rc = -1;
	}
	if (rc != 0)
		db_exec(h->hb_db, "ROLLBACK");
	switch (rc) {
	case 0:
		if (msg[0])
			fprintf(stderr, "outpost-hub: warning: %s\n", msg);
		printf("Local Area %s: %d older SSN key(s) retired; only epoch %d's is left\n", la,
		       n, epoch);
		return 0;
	case HUB_RETIRE_NONE:
		printf("Local Area %s: no SSN key older than epoch %d's to retire\n", la, epoch);
		return 0;
	case HUB_RETIRE_NO_LA:
		fprintf(stderr, "outpost-hub: no Local Area '%s' with an SSN key\n", la);
		return 1;
	case HUB_RETIRE_REFUSED:
		fprintf(stderr, "outpost-hub: not retired: %s\n", msg);
		return 1;
	case HUB_RETIRE_NODES:
		fprintf(stderr, "outpost-hub: not retired: %s; " HUB_RETIRE_PAST("--force") "\n",
			msg);
		return 1;
	default:
		fprintf(stderr, "outpost-hub: cannot retire the older SSN keys of '%s'\n", la);
		return 1;
	}
}

static int cmd_reset_operations(hub *h)
{
	char pw[13];

	hlc_init(&h->hb_hlc, HUB_NODE_ID, NULL, NULL);
	if (acct_reset_operations(h->hb_db, hub_clock(h),
				  (uint32_t)conf_int(&h->hb_conf, "password_iters"), pw) != 0) {
		fprintf(stderr, "outpost-hub: cannot reset the '%s' account\n", ACCT_OPERATIONS);
		return 1;
	}
	printf("%s\n", pw);
	fflush(stdout);
	memset(pw, 0, sizeof pw);
	fprintf(stderr, "one-time password of '%s' (valid 24 hours) printed on stdout\n",
		ACCT_OPERATIONS);
	return 0;
}

static void load_args(conf *c, int argc, char **argv)
{
	char err[512];
	char **av = calloc((size_t)argc + 1, sizeof(char *));
	int ac = argc;

	if (av == NULL)
		fatalx("out of memory");
	memcpy(av, argv, (size_t)argc * sizeof(char *));
	if (conf_load_args(c, &ac, av, err, sizeof err) != 0)
		fatalx("%s", err);
	free(av);
}

/* The command line after the settings flags (which go into h's settings,
 * with the environment's): 0, or 2 after a message (the exit status). */
typedef struct hub_opts {
	const char *config, *cmd, *arg, *office, *out, *keyfile, *cancel, *after;
	int force, check_only, json_out, npos;
	long long ttl;
} hub_opts;

static int parse_opts(hub *h, int argc, char **argv, hub_opts *o)
{
	char err[512];
	int rc;

	memset(o, 0, sizeof *o);
	o->cmd = "serve";
	o->ttl = HUB_ENROLL_TTL_S;
	if (conf_load_env(&h->hb_conf, "OUTPOST_HUB", err, sizeof err) != 0)
		fatalx("%s", err);
	{
		/* Settings flags are taken out; what is left is ours. */
		int ac = argc;
		char **av = calloc((size_t)argc + 1, sizeof(char *));
		if (av == NULL)
			fatalx("out of memory");
		memcpy(av, argv, (size_t)argc * sizeof(char *));
		if ((rc = conf_load_args(&h->hb_conf, &ac, av, err, sizeof err)) == -2) {
			fprintf(stderr, "outpost-hub: %s (see --help)\n", err);
			free(av);
			return 2;
		}
		if (rc != 0)
			fatalx("%s", err);
		for (int i = 1; i < ac; i++) {
			const char *a = av[i];
			if ((strcmp(a, "--config") == 0 || strcmp(a, "--office") == 0 ||
			     strcmp(a, "--ttl-seconds") == 0 || strcmp(a, "--out") == 0 ||
			     strcmp(a, "--key-file") == 0 || strcmp(a, "--cancel") == 0 ||
			     strcmp(a, "--after") == 0) &&
			    i + 1 >= ac) {
				fprintf(stderr, "outpost-hub: %s needs a value\n", a);
				free(av);
				return 2;
			}
			if (strcmp(a, "--config") == 0) {
				o->config = av[++i];
			} else if (strcmp(a, "--office") == 0) {
				o->office = av[++i];
			} else if (strcmp(a, "--cancel") == 0) {
				o->cancel = av[++i];
			} else if (strcmp(a, "--out") == 0) {
				o->out = av[++i];
			} else if (strcmp(a, "--after") == 0) {
				o->after = av[++i];
			} else if (strcmp(a, "--key-file") == 0) {
				o->keyfile = av[++i];
			} else if (strcmp(a, "--force") == 0) {
				o->force = 1;
			} else if (strcmp(a, "--ttl-seconds") == 0) {
				/* Hidden: lets tests see a code expire. */
				char *end;
				o->ttl = strtoll(av[++i], &end, 10);
				if (*end != '\0' || o->ttl < 1 || o->ttl > 30LL * 24 * 3600) {
					fprintf(stderr,
						"outpost-hub: bad --ttl-seconds\n");
					free(av);
					return 2;
				}
			} else if (strcmp(a, "-n") == 0) {
				o->check_only = 1;
			} else if (strcmp(a, "--json") == 0) {
				o->json_out = 1;
			} else if (a[0] == '-') {
				fprintf(stderr,
					"outpost-hub: unknown option '%s' (see --help)\n",
					a);
				free(av);
				return 2;
			} else if (o->npos == 0) {
				o->cmd = a;
				o->npos++;
			} else if (o->npos == 1) {
				o->arg = a;
				o->npos++;
			} else {
				fprintf(stderr,
					"outpost-hub: unexpected argument '%s' (see "
					"--help)\n",
					a);
				free(av);
				return 2;
			}
		}
		free(av);
	}
	if (strcmp(o->cmd, "serve") != 0 && strcmp(o->cmd, "enroll-code") != 0 &&
	    strcmp(o->cmd, "enroll-codes") != 0 && strcmp(o->cmd, "import") != 0 &&
	    strcmp(o->cmd, "export-office") != 0 &&
	    strcmp(o->cmd, "revoke") != 0 && strcmp(o->cmd, "reset-operations") != 0 &&
	    strcmp(o->cmd, "ssn-key-rotate") != 0 && strcmp(o->cmd, "ssn-key-retire") != 0 &&
	    strcmp(o->cmd, "backup") != 0 && strcmp(o->cmd, "restore") != 0 &&
	    strcmp(o->cmd, "check") != 0) {
		fprintf(stderr, "outpost-hub: unknown command '%s' (see --help)\n", o->cmd);
		return 2;
	}
	if ((strcmp(o->cmd, "serve") == 0 || strcmp(o->cmd, "enroll-code") == 0 ||
	     strcmp(o->cmd, "enroll-codes") == 0) &&
	    o->arg != NULL) {
		fprintf(stderr, "outpost-hub: unexpected argument '%s' (see --help)\n",
			o->arg);
		return 2;
	}
	if (o->after != NULL && strcmp(o->cmd, "export-office") != 0) {
		fprintf(stderr, "outpost-hub: --after SEQ goes with export-office (see --help)\n");
		return 2;
	}
	if (strcmp(o->cmd, "export-office") == 0 && (o->arg == NULL || o->out == NULL)) {
		fprintf(stderr,
			"outpost-hub: export-office needs a NODE_ID and --out FILE (see "
			"--help)\n");
		return 2;
	}
	if (o->after != NULL) {
		char *end;
		long long v = strtoll(o->after, &end, 10);
		if (o->after[0] < '0' || o->after[0] > '9' || *end != '\0' || v < 0) {
			fprintf(stderr,
				"outpost-hub: --after must be a non-negative integer\n");
			return 2;
		}
	}
	if (o->cancel != NULL && (strcmp(o->cmd, "enroll-code") != 0 || o->office != NULL)) {
		fprintf(stderr, "outpost-hub: --cancel CODE_ID goes with enroll-code alone, "
				"without --office (see --help)\n");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	hub hb;
	hub *h = &hb;
	char err[512], path[PATH_MAX + 32];
	const char *config, *cmd, *arg;
	hub_opts o;
	int ret = 1;

	memset(h, 0, sizeof *h);
	daemon_start("outpost-hub", &h->hb_conf, hub_conf_tab, NCONF);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			conf_dump(&h->hb_conf, 1, stdout);
			conf_release(&h->hb_conf);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("outpost-hub %s\n", OUTPOST_VERSION);
			conf_release(&h->hb_conf);
			return 0;
		}
	}
	if (parse_opts(h, argc, argv, &o) != 0) {
		conf_release(&h->hb_conf);
		return 2;
	}
	config = o.config, cmd = o.cmd, arg = o.arg;
	if (config == NULL) {
		path_join(path, sizeof path, conf_str(&h->hb_conf, "data"),
			  HUB_CONF_FILE);
		config = path;
	}
	if (conf_load_file(&h->hb_conf, config, config != path, err, sizeof err) != 0 ||
	    conf_load_env(&h->hb_conf, "OUTPOST_HUB", err, sizeof err) != 0)
		fatalx("%s", err);
	load_args(&h->hb_conf, argc, argv);
	log_init("outpost-hub", (int)conf_int(&h->hb_conf, "verbose"));
	if (clock_set_tz(conf_str(&h->hb_conf, "timezone")) != 0)
		fatalx("unknown time zone '%s'", conf_str(&h->hb_conf, "timezone"));
	if (tls_ca_domains_check(conf_str(&h->hb_conf, "cert_domains"), err, sizeof err) != 0 ||
	    http_listen_check("listen", conf_str(&h->hb_conf, "listen"), err, sizeof err) != 0)
		fatalx("%s", err);
	if (o.check_only) {
		conf_dump(&h->hb_conf, 0, stdout);
		printf("configuration ok\n");
		conf_release(&h->hb_conf);
		return 0;
	}

	path_join(h->hb_data, sizeof h->hb_data - 64, conf_str(&h->hb_conf, "data"),
		  NULL);
	/* Reads only: never creates the directory it checks. */
	if (strcmp(cmd, "check") == 0) {
		char cert[PATH_MAX + 32], key[PATH_MAX + 32];
		cert_paths(h, cert, key);
		ret = hub_health_check(h->hb_data, cert, key, o.json_out);
		conf_release(&h->hb_conf);
		return ret;
	}
	/* Only serve makes a hub (and restore puts one back): any other command
	 * on a folder without hub.db was given the wrong --data, or none, and
	 * must not leave a new empty hub there. */
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "restore") != 0) {
		struct stat st;
		path_join(path, sizeof path, h->hb_data, HUB_DB_FILE);
		if (stat(path, &st) != 0) {
			fprintf(stderr, "outpost-hub: no hub at '%s': give --data DIR\n",
				h->hb_data);
			conf_release(&h->hb_conf);
			return 2;
		}
	}
	if (fs_mkdir_p(h->hb_data) != 0)
		fatal("cannot create data directory '%s'", h->hb_data);
	if (fs_private_dir(h->hb_data, err, sizeof err) != 0)
		fatalx("%s", err);
	/* A restore under way moves the database aside: every other command
	 * waits for it (hub_backup.c). */
	if (strcmp(cmd, "restore") != 0) {
		int use = hub_use_lock(h->hb_data, 0);
		if (use == -2) {
			fprintf(stderr, "outpost-hub: a restore is under way on '%s': run '%s' "
					"once it is done\n", h->hb_data, cmd);
			conf_release(&h->hb_conf);
			return 1;
		}
		if (use < 0)
			fatal("cannot lock '%s'", h->hb_data);
	}
	/* These work on the files as they are (hub_backup.c): no migration. */
	if (strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0) {
		ret = strcmp(cmd, "backup") == 0 ? hub_backup(h->hb_data, o.out, o.keyfile)
						 : hub_restore(h->hb_data, arg, o.keyfile, o.force);
		conf_release(&h->hb_conf);
		return ret;
	}
	path_join(path, sizeof path, h->hb_data, HUB_DB_FILE);
	if (db_open(path, &h->hb_db) != 0)
		fatalx("cannot open the hub database '%s'", path);
	if (hub_keys_open(h->hb_db, h->hb_data, err, sizeof err) != 0)
		fatalx("%s", err);
	/* Only a serving hub seeds the demo: `reset-operations` or `enroll-code`
	 * on a hub started with --demo no must not fill it with demo data. */
	if (hub_migrate(h->hb_db, strcmp(cmd, "serve") == 0 && conf_bool(&h->hb_conf, "demo")) != 0 ||
	    acct_migrate(h->hb_db) != 0 || hub_codes_migrate(h->hb_db) != 0 ||
	    hub_keys_migrate(h->hb_db) != 0)
		fatalx("cannot prepare the hub database '%s'", path);
	/* A part of the schema this program has no migrations for: a newer
	 * release made it, and this one would ignore what it keeps. */
	if (db_schema_unknown(h->hb_db, err, sizeof err) != 0)
		fatalx("the hub database '%s' has schema component %s, which this outpost-hub "
		       "does not know: a newer release of Outpost made it; upgrade outpost-hub",
		       path, err[0] ? err : "(unreadable)");
	/* In place of hub_migrate()'s model rules: the trust checks, the model
	 * rules, then retired codes (the accounts' tables exist from here); a
	 * decision's approver role judged when it was made, by the roles'
	 * history in the administrators' audit trail. */
	sync_set_validator(hub_codes_validate_row);
	case_approvals_set_role_check(acct_decision_role_check);

	if (strcmp(cmd, "serve") == 0) {
		ret = serve(h);
		log_info("stopped");
	} else if (strcmp(cmd, "enroll-code") == 0) {
		ret = o.cancel != NULL ? cmd_enroll_code_cancel(h, o.cancel)
				       : cmd_enroll_code(h, o.office, o.ttl);
	} else if (strcmp(cmd, "enroll-codes") == 0) {
		ret = cmd_enroll_codes(h, o.json_out);
	} else if (strcmp(cmd, "import") == 0) {
		if (arg == NULL) {
			fprintf(stderr, "outpost-hub: import needs a FILE\n");
			ret = 2;
		} else {
			ret = hub_import_file(h->hb_db, arg, o.json_out);
		}
	} else if (strcmp(cmd, "export-office") == 0) {
		ret = hub_export_office(h->hb_db, arg, o.out,
					o.after ? (int64_t)strtoll(o.after, NULL, 10) : -1,
					o.json_out);
	} else if (strcmp(cmd, "reset-operations") == 0) {
		ret = cmd_reset_operations(h);
	} else if (strcmp(cmd, "ssn-key-rotate") == 0) {
		ret = cmd_ssn_key_rotate(h, arg);
	} else if (strcmp(cmd, "ssn-key-retire") == 0) {
		ret = cmd_ssn_key_retire(h, arg, o.force);
	} else {
		ret = cmd_revoke(h, arg);
	}
	db_close(h->hb_db);
	conf_release(&h->hb_conf);
	return ret;
}
