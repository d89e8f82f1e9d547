/*
 * main.c - outpost-node: the office node daemon.  Opens (and migrates) the
 * local SQLite replica in the data directory, seeds demo data on a stand-alone
 * node, and serves the office web UI and JSON API on the LAN.
 */
#include "node/node.h"
#include "node/node_api.h"
#include "node/node_auth.h"
#include "node/node_edge.h"
#include "lib/memtrim.h"
#include "lib/clock.h"
#include "lib/faultvfs.h"
#include "lib/fsperm.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "lib/uuid.h"
#include "sync/client.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const conf_entry node_conf_tab[] = {
	{"data", CONF_STR, NODE_DEFAULT_DATA, 0, 0, "data directory (node.db, keys, node.conf)"},
	{"listen", CONF_STR, NODE_DEFAULT_LISTEN, 0, 0,
	 "HOST:PORT for the web UI and API (0.0.0.0:8080 for the office LAN)"},
	{"https_listen", CONF_STR, "", 0, 0,
	 "HOST:PORT for HTTPS with the certificate the hub signed at enrollment (DATA/node.crt, "
	 "outpost-sync enroll --name ...); plain HTTP then serves loopback only and redirects "
	 "the LAN here (e.g. 0.0.0.0:8443)"},
	{"lan_http", CONF_BOOL, "no", 0, 0,
	 "let staff sign in over plain HTTP from other office PCs (without https_listen); "
	 "off, only HTTPS and this machine itself sign in: the password would cross the "
	 "network in the clear"},
	{"hosts", CONF_STR, "", 0, 0,
	 "names and addresses office PCs use for this node, comma-separated (with localhost, "
	 "127.0.0.1 and the listen address, the only Host values it answers)"},
	{"timezone", CONF_STR, NODE_DEFAULT_TZ, 0, 0,
	 "office time zone until the hub's office row arrives (the hub's then wins)"},
	{"max_body", CONF_INT, "1048576", 1024, 64 * 1024 * 1024,
	 "largest request body in bytes (an attachment upload takes up to 4 MiB whatever this says)"},
	{"demo", CONF_BOOL, "no", 0, 0, "seed a demo office when the node is not enrolled"},
	{"sync_interval", CONF_INT, "5", 0, 86400,
	 "seconds between background sync cycles with the hub (0: no background sync, "
	 "replicate only with outpost-sync push/pull)"},
	{"verbose", CONF_INT, "0", 0, 2, "log detail (0-2)"},
	{"offline_login_max_age", CONF_INT, "259200", 1, 30 * 24 * 3600,
	 "seconds after the last successful pull from the hub when an enrolled node "
	 "refuses every sign-in (259200 = 72 hours)"},
	{"session_idle", CONF_INT, "1800", 1, 24 * 3600,
	 "seconds of inactivity that end a staff session (1800 = 30 minutes)"},
	{"session_max_age", CONF_INT, "43200", 1, 7 * 24 * 3600,
	 "seconds after sign-in when a staff session ends in any case (43200 = 12 hours)"},
	{"kiosk_checkins_per_minute", CONF_INT, "6", 0, 100000,
	 "check-ins a minute the kiosk takes from one address without a front-desk "
	 "session, as many at once (0: no bound; front-desk staff are never held)"},
	{"resend_days", CONF_INT, "14", 1, 365,
	 "days the hub's acknowledged changes are kept, to send again to a hub restored "
	 "from an older backup"},
};
#define NCONF ((int)(sizeof node_conf_tab / sizeof node_conf_tab[0]))

static void on_closed(void *arg)
{
	node *n = arg;
	node_day_end_stop(n);
	node_commit_stop(n);
	node_live_stop(n);
	node_sync_stop(n);
	node_auth_stop(n);
	stopsig_close(&n->nd_stop);
}

static void on_stop(void *arg)
{
	node *n = arg;

	n->nd_stopping = 1;
	if (n->nd_https)
		http_server_close(n->nd_https, NULL, NULL);
	http_server_close(n->nd_http, on_closed, n);
}

static int node_identity(node *n)
{
	char id[UUID_STRLEN];

	if (db_kv_get(n->nd_db, "node_meta", "node_id", n->nd_node_id, sizeof n->nd_node_id) != DB_FOUND ||
	    n->nd_node_id[0] == '\0') {
		/* Provisional id until enrollment assigns one. */
		if (uuid7(id) != 0 || db_kv_set(n->nd_db, "node_meta", "node_id", id) != 0)
			return -1;
		snprintf(n->nd_node_id, sizeof n->nd_node_id, "%s", id);
	}
	db_kv_get(n->nd_db, "node_meta", "office_id", n->nd_office_id, sizeof n->nd_office_id);
	db_kv_get(n->nd_db, "node_meta", "local_area_id", n->nd_local_area_id, sizeof n->nd_local_area_id);
	char off[32] = "0";
	db_kv_get(n->nd_db, "node_meta", "clock_offset_ms", off, sizeof off);
	n->nd_clock_offset_ms = strtoll(off, NULL, 10);
	hlc_set_node(&n->nd_hlc, n->nd_node_id);
	n->nd_hlc.hlc_offset_ms = n->nd_clock_offset_ms;
	return 0;
}

/* Serve until a signal: routes, listeners, the sync cycle; then free them. */
static void node_serve(node *n)
{
	uv_loop_t *loop;
	int rc;

	loop = uv_default_loop();
	n->nd_loop = loop;
	n->nd_router = router_new();
	if (n->nd_router == NULL || node_auth_init(n) != 0 || crm_setup(n) != 0 ||
	    case_setup(n) != 0 || node_metrics_routes(n, n->nd_router) != 0 ||
	    node_api_routes(n, n->nd_router) != 0)
		fatalx("cannot set up routes");
	n->nd_http = http_server_new(loop, node_auth_dispatch, n);
	if (n->nd_http == NULL)
		fatalx("out of memory");
	http_server_set_max_body(n->nd_http, (size_t)conf_int(&n->nd_conf, "max_body"));
	/* The attachment upload names its own cap (node_crm_attach.c). */
	http_server_set_body_limit(n->nd_http, router_body_limit, n->nd_router);
	/* Host allow-list and sign-in before any body is read (node_edge.c). */
	http_server_set_pre_body(n->nd_http, node_edge_gate, n);
	rc = http_server_listen(n->nd_http, conf_str(&n->nd_conf, "listen"));
	if (rc != 0)
		fatalx("cannot listen on '%s': %s", conf_str(&n->nd_conf, "listen"), uv_strerror(rc));
	{
		const char *why = NULL;
		if (node_edge_https_start(n, &why) != 0)
			fatalx("cannot serve HTTPS on '%s': %s", conf_str(&n->nd_conf, "https_listen"),
			       why ? why : "unknown error");
	}
	node_commit_start(n);
	if (node_sync_start(n) != 0)
		fatalx("cannot start the sync cycle");
	node_observe_stamps(n, 1); /* the sync tables exist now */
	if (node_day_end_start(n) != 0)
		fatalx("cannot start the end of the day's check");
	/* The sent log's window (sync/sent.c), for outpost-sync's pushes too. */
	if (db_kv_set(n->nd_db, "sync_state", "resend_days", conf_str(&n->nd_conf, "resend_days")) != 0)
		fatalx("cannot record resend_days");
	if (stopsig_start(loop, &n->nd_stop, on_stop, n) != 0)
		fatalx("cannot watch for signals");
	log_info("office node %s for office '%s' listening on %s (data %s)", n->nd_node_id,
		 n->nd_office_id[0] ? n->nd_office_id : "(none)", conf_str(&n->nd_conf, "listen"),
		 n->nd_data);

	uv_run(loop, UV_RUN_DEFAULT);

	http_server_free(n->nd_http);
	if (n->nd_https)
		http_server_free(n->nd_https);
	tls_config_free(n->nd_tls);
	router_free(n->nd_router);
	node_api_free(n);
	db_close(n->nd_ckpt_db); /* the loop ran every queued checkpoint to its end */
	db_close(n->nd_db);
	uv_loop_close(loop);
}

static void usage(const conf *c)
{
	fprintf(stdout, "usage: outpost-node [--data DIR] [--listen HOST:PORT] "
			"[--config FILE] [-n] [--help] [--version]\n"
			"       outpost-node check [--json] [--data DIR]\n\n"
			"The Outpost office node: local replica, web UI and JSON API.\n\n"
			"  --config FILE   settings file (default DATA/node.conf)\n"
			"  -n              check the configuration and exit\n"
			"  check           database integrity, permissions, disk space, contact\n"
			"                  with the hub; exit 0 ok, 1 warning, 2 failed, 3 unreadable\n\n"
			"Settings (flags, or OUTPOST_NODE_<NAME> in the environment,\n"
			"or 'name = value' lines in the config file):\n");
	conf_dump(c, 1, stdout);
}

/* The settings among the flags, read into c from a copy of argv; the copy
 * keeps the words they leave (*ac of them; caller frees).  NULL with err
 * set on a bad setting or no memory, *usage set when a flag lacks its
 * value (conf_load_args' -2). */
static char **load_args(conf *c, int argc, char **argv, int *ac, char *err, size_t n,
			int *usage)
{
	char **av = calloc((size_t)argc + 1, sizeof(char *));
	int rc;

	*usage = 0;
	if (av == NULL) {
		snprintf(err, n, "out of memory");
		return NULL;
	}
	memcpy(av, argv, (size_t)argc * sizeof(char *));
	*ac = argc;
	if ((rc = conf_load_args(c, ac, av, err, n)) != 0) {
		*usage = rc == -2;
		free(av);
		return NULL;
	}
	return av;
}

/* The words the settings leave: --config FILE and -n (read in the first
 * pass), "check" first, then its --json.  0, or -1 naming an unknown one. */
static int other_args(int ac, char **av, int *health, int *json_out)
{
	for (int i = 1; i < ac; i++) {
		if (strcmp(av[i], "--config") == 0) {
			i++;
			continue;
		}
		if (strcmp(av[i], "-n") == 0)
			continue;
		if (i == 1 && strcmp(av[i], "check") == 0) {
			*health = 1;
			continue;
		}
		if (*health && strcmp(av[i], "--json") == 0) {
			*json_out = 1;
			continue;
		}
		fprintf(stderr, "outpost-node: unknown option '%s' (see --help)\n", av[i]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	node nd;
	node *n = &nd;
	char err[512], path[PATH_MAX + 32], **av;
	const char *config = NULL;
	int check_only = 0, ret = 1, health = 0, json_out = 0, ac, usage_err;

	memset(n, 0, sizeof *n);
	daemon_start("outpost-node", &n->nd_conf, node_conf_tab, NCONF);
	/* Flags first pass: --help, --version, --config, -n. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(&n->nd_conf);
			conf_release(&n->nd_conf);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("outpost-node %s\n", OUTPOST_VERSION);
			conf_release(&n->nd_conf);
			return 0;
		}
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[i + 1];
		if (strcmp(argv[i], "-n") == 0)
			check_only = 1;
	}
	/* Data dir may come from flags or env before the file is read. */
	if (conf_load_env(&n->nd_conf, "OUTPOST_NODE", err, sizeof err) != 0)
		fatalx("%s", err);
	if ((av = load_args(&n->nd_conf, argc, argv, &ac, err, sizeof err, &usage_err)) == NULL) {
		if (!usage_err)
			fatalx("%s", err);
		fprintf(stderr, "outpost-node: %s (see --help)\n", err);
		conf_release(&n->nd_conf);
		return 2;
	}
	if (other_args(ac, av, &health, &json_out) != 0) {
		free(av);
		conf_release(&n->nd_conf);
		return 2;
	}
	free(av);
	if (config == NULL) {
		snprintf(path, sizeof path, "%s/%s", conf_str(&n->nd_conf, "data"), NODE_CONF_FILE);
		config = path;
	}
	/* File, then env and flags again so they win over the file. */
	if (conf_load_file(&n->nd_conf, config, config != path, err, sizeof err) != 0 ||
	    conf_load_env(&n->nd_conf, "OUTPOST_NODE", err, sizeof err) != 0)
		fatalx("%s", err);
	free(load_args(&n->nd_conf, argc, argv, &ac, err, sizeof err, &usage_err));
	log_init("outpost-node", (int)conf_int(&n->nd_conf, "verbose"));
	if (clock_set_tz(conf_str(&n->nd_conf, "timezone")) != 0)
		fatalx("unknown time zone '%s'", conf_str(&n->nd_conf, "timezone"));
	/* (the office's, once known, replaces it: node_zone_check()) */
	snprintf(n->nd_tz, sizeof n->nd_tz, "%s", conf_str(&n->nd_conf, "timezone"));
	/* Before anything is created: a bad address is a settings error, not a
	 * failed start with a new database left behind. */
	if (http_listen_check("listen", conf_str(&n->nd_conf, "listen"), err, sizeof err) != 0 ||
	    (conf_str(&n->nd_conf, "https_listen")[0] != '\0' &&
	     http_listen_check("https_listen", conf_str(&n->nd_conf, "https_listen"), err,
			       sizeof err) != 0))
		fatalx("%s", err);
	if (check_only) {
		conf_dump(&n->nd_conf, 0, stdout);
		printf("configuration ok\n");
		conf_release(&n->nd_conf);
		return 0;
	}
	if (health) { /* reads only: node_check.c */
		ret = node_check(conf_str(&n->nd_conf, "data"), json_out);
		conf_release(&n->nd_conf);
		return ret;
	}

	snprintf(n->nd_data, sizeof n->nd_data, "%s", conf_str(&n->nd_conf, "data"));
	if (fs_mkdir_p(n->nd_data) != 0)
		fatal("cannot create data directory '%s'", n->nd_data);
	if (fs_private_dir(n->nd_data, err, sizeof err) != 0)
		fatalx("%s", err);
	if (snprintf(path, sizeof path, "%s/%s", n->nd_data, NODE_DB_FILE) >= (int)sizeof path)
		fatalx("data directory path too long: '%s'", n->nd_data);
	if (db_open(path, &n->nd_db) != 0)
		fatalx("cannot open the office database '%s'", path);
	hlc_init(&n->nd_hlc, "", NULL, NULL);
	if (node_migrate(n) != 0)
		fatalx("cannot prepare the office database '%s'", path);
	if (node_identity(n) != 0)
		fatalx("cannot read the node identity");
	if (n->nd_office_id[0] == '\0' && conf_bool(&n->nd_conf, "demo")) {
		if (node_seed_demo(n) != 0)
			fatalx("cannot seed demo data");
		node_identity(n);
	}
	node_zone_check(n); /* the office's zone, pulled before (no thread yet) */
	n->nd_started_ms = clock_ms();
	node_serve(n);
	conf_release(&n->nd_conf);
	log_info("stopped");
	return 0;
}
