/*
 * tool_main.c - outpost-sync, the command IT staff drive replication with:
 * option parsing, the subcommand table, exit codes, and the output helpers
 * every subcommand shares (one-line errors, --json, a progress bar on a
 * terminal).  The work itself is in sync/client.c; each tool_*.c file holds
 * the subcommands of one concern.
 */
#include "sync/tool.h"
#include "lib/log.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *name;
	int (*fn)(tool *t);
	const char *help;
} cmds[] = {
	{"enroll", cmd_enroll,
	 "--hub URL --code CODE|- [--pin sha256//KEY] [--name NAME ...] [--force]  enroll this "
	 "node with the hub (the code, or the pin, must match the hub's key); --code - reads "
	 "the code from standard input, and $OUTPOST_ENROLL_CODE gives it without --code (a "
	 "code in the command line is visible to local users); each --name (a DNS name or an "
	 "address office PCs use) goes into its HTTPS certificate"},
	{"renew-cert", cmd_renew_cert,
	 "[--name NAME ...]                a new HTTPS key and certificate from the hub (the "
	 "names of the last one by default); the running node serves it from its next "
	 "connection on"},
	{"status", cmd_status, "                                 replication lag of this node"},
	{"push", cmd_push, "                                 send pending changes to the hub"},
	{"pull", cmd_pull, "                                 fetch the hub's changes"},
	{"verify", cmd_verify, "                                 compare per-table digests with the hub"},
	{"conflicts", cmd_conflicts, "                                 list merge conflicts in this office"},
	{"export", cmd_export, "--out FILE [--resend]            write pending changes as a bundle, with the\n"
			       "                                              office's pull cursor (alone when none is pending)\n"
			       "                                              (--resend: with what the hub acknowledged in\n"
			       "                                              the last resend_days, for a restored hub)"},
	{"import", cmd_import, "FILE                             apply a bundle the hub wrote for this office\n"
			       "                                              ('outpost-hub export-office'), as a pull would"},
};
#define NCMDS ((int)(sizeof cmds / sizeof cmds[0]))

static void usage(FILE *fp)
{
	fprintf(fp, "usage: outpost-sync COMMAND [--data DIR] [--json] [options]\n\n"
		    "Replicate this office node with the Outpost hub.\n\n"
		    "commands:\n");
	for (int i = 0; i < NCMDS; i++)
		fprintf(fp, "  %-10s %s\n", cmds[i].name, cmds[i].help);
	fprintf(fp,
		"\noptions:\n"
		"  --data DIR   the node's data directory (default %s, or $OUTPOST_SYNC_DATA)\n"
		"  --json       machine-readable output on stdout\n"
		"  --help       this text;  --version  the version\n\n"
		"exit codes:\n"
		"  0  success\n"
		"  1  usage error\n"
		"  2  not enrolled, or configuration / data directory problem\n"
		"  3  hub unreachable\n"
		"  4  refused by the hub (node revoked or unknown, bad enrollment code)\n"
		"  5  the hub's key does not match the pinned key\n"
		"  6  schema version refused by the hub\n"
		"  7  verify found differences\n"
		"  8  any other error\n"
		"  9  pull refused: local changes are waiting to be pushed (push first)\n"
		"  10 import refused the bundle: damaged, not this office PC's, or not the hub's\n\n"
		"A progress bar is drawn on long transfers when stdout is a terminal\n"
		"(never with --json or when the output is piped).\n",
		TOOL_DEFAULT_DATA);
}

int tool_exit_code(int rc)
{
	switch (rc) {
	case SYNC_OK:
		return EXIT_TOOL_OK;
	case SYNC_E_CONFIG:
		return EXIT_TOOL_CONFIG;
	case SYNC_E_UNREACHABLE:
		return EXIT_TOOL_UNREACHABLE;
	case SYNC_E_AUTH:
		return EXIT_TOOL_AUTH;
	case SYNC_E_PIN:
		return EXIT_TOOL_PIN;
	case SYNC_E_SCHEMA:
		return EXIT_TOOL_SCHEMA;
	case SYNC_E_MISMATCH:
		return EXIT_TOOL_MISMATCH;
	case SYNC_E_PENDING:
		return EXIT_TOOL_PENDING;
	case SYNC_E_BUNDLE:
		return EXIT_TOOL_BUNDLE;
	default:
		return EXIT_TOOL_OTHER;
	}
}

void tool_print_json(cJSON *o)
{
	char *s = o ? cJSON_Print(o) : NULL;

	if (s) {
		printf("%s\n", s);
		free(s);
	}
	cJSON_Delete(o);
	fflush(stdout);
}

int tool_fail(tool *t, int rc, const char *msg)
{
	tool_progress_end(t);
	fprintf(stderr, "outpost-sync: %s\n", msg && *msg ? msg : "failed");
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 0);
		cJSON_AddStringToObject(o, "error", sync_strerror(rc));
		cJSON_AddStringToObject(o, "message", msg && *msg ? msg : "failed");
		cJSON_AddNumberToObject(o, "exit_code", tool_exit_code(rc));
		tool_print_json(o);
	}
	return tool_exit_code(rc);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void tool_progress(void *arg, const char *what, uint64_t done, uint64_t total)
{
	tool *t = arg;
	char line[160];
	int width = 30, fill;
	uint64_t now = mono_ms();

	if (!t->t_progress)
		return;
	if (t->t_progress_t0 == 0)
		t->t_progress_t0 = now;
	/* Short transfers finish before a bar would help. */
	if (now - t->t_progress_t0 < t->t_progress_delay_ms)
		return;
	if (total > 0) {
		if (done > total)
			done = total;
		fill = (int)(done * (uint64_t)width / total);
		snprintf(line, sizeof line, "\r%-8s [%.*s%*s] %3d%% %llu/%llu", what, fill,
			 "##############################", width - fill, "",
			 (int)(done * 100 / total), (unsigned long long)done,
			 (unsigned long long)total);
	} else {
		snprintf(line, sizeof line, "\r%-8s %llu bytes", what, (unsigned long long)done);
	}
	fputs(line, stdout);
	fflush(stdout);
	t->t_bar_drawn = 1;
}

void tool_progress_end(tool *t)
{
	t->t_progress_t0 = 0;
	if (t->t_bar_drawn) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
		t->t_bar_drawn = 0;
	}
}

void tool_age(int64_t ms, char *out, size_t n)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(out, n, "just now");
	else if (ms < 120 * 1000)
		snprintf(out, n, "%lld s ago", (long long)(ms / 1000));
	else if (ms < 120 * 60 * 1000)
		snprintf(out, n, "%lld min ago", (long long)(ms / 60000));
	else if (ms < 48LL * 3600 * 1000)
		snprintf(out, n, "%lld h ago", (long long)(ms / 3600000));
	else
		snprintf(out, n, "%lld days ago", (long long)(ms / 86400000));
}

int tool_open(tool *t, sync_client **c, sqlite3 **db)
{
	char err[512], off[32];
	int rc;

	*c = NULL;
	*db = NULL;
	rc = sync_client_new(t->t_data, c, err, sizeof err);
	if (rc != 0)
		return tool_fail(t, rc, err);
	rc = sync_client_db_open(t->t_data, db, err, sizeof err);
	if (rc != 0) {
		sync_client_free(*c);
		*c = NULL;
		return tool_fail(t, rc, err);
	}
	if (sync_client_adopt(*db, &(*c)->sc_id, NULL) != 0) {
		sync_client_free(*c);
		db_close(*db);
		*c = NULL;
		*db = NULL;
		return tool_fail(t, SYNC_E_OTHER, "cannot record the sync identity in node.db");
	}
	if (db_kv_get(*db, "node_meta", "clock_offset_ms", off, sizeof off) == DB_FOUND)
		sync_client_set_offset(*c, strtoll(off, NULL, 10));
	(*c)->sc_progress = tool_progress;
	(*c)->sc_progress_arg = t;
	return 0;
}

int tool_usage(tool *t, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "outpost-sync: %s (see --help)\n", msg);
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 0);
		cJSON_AddStringToObject(o, "error", "usage");
		cJSON_AddStringToObject(o, "message", msg);
		cJSON_AddNumberToObject(o, "exit_code", EXIT_TOOL_USAGE);
		tool_print_json(o);
	}
	return EXIT_TOOL_USAGE;
}

/* The options that take a value. */
static int takes_value(const char *name)
{
	static const char *const names[] = {"--data", "--hub", "--code", "--out", "--pin", "--name"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	tool t;
	const char *env;
	int (*fn)(tool *) = NULL;

	umask(077); /* node.db, sync.json and bundles are for the node's user only */
	memset(&t, 0, sizeof t);
	signal(SIGPIPE, SIG_IGN);
	log_init("outpost-sync", 0);
	env = getenv("OUTPOST_SYNC_DATA");
	t.t_data = env && *env ? env : TOOL_DEFAULT_DATA;
	/* --json anywhere shapes every error, those before it too. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0)
			t.t_json = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		char name[32];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "--version") == 0) {
			printf("outpost-sync %s\n", OUTPOST_VERSION);
			return 0;
		}
		if (strcmp(a, "--json") == 0) {
			t.t_json = 1;
			continue;
		}
		if (strcmp(a, "--force") == 0) {
			t.t_force = 1;
			continue;
		}
		if (strcmp(a, "--resend") == 0) {
			t.t_resend = 1;
			continue;
		}
		if (a[0] != '-') {
			if (fn == cmd_import && t.t_file == NULL) {
				t.t_file = a;
				continue;
			}
			if (fn != NULL)
				return tool_usage(&t, "unexpected argument '%s'", a);
			for (int k = 0; k < NCMDS; k++)
				if (strcmp(a, cmds[k].name) == 0) {
					fn = cmds[k].fn;
					t.t_cmd = cmds[k].name;
				}
			if (fn == NULL)
				return tool_usage(&t, "unknown command '%s'", a);
			continue;
		}
		/* --name VALUE or --name=VALUE */
		if (eq)
			snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
		else
			snprintf(name, sizeof name, "%s", a);
		if (!takes_value(name))
			return tool_usage(&t, "unknown option '%s'", eq ? name : a);
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
			val = argv[++i]; /* not the next option ("--out --json"; --out=--x names one) */
		/* (an empty one too: "--out=" names no file, "--data=" no
		 * directory) */
		if (val == NULL || *val == '\0')
			return tool_usage(&t, "missing value for '%s'", name);
		if (strcmp(name, "--data") == 0)
			t.t_data = val;
		else if (strcmp(name, "--hub") == 0)
			t.t_hub = val;
		else if (strcmp(name, "--code") == 0)
			t.t_code = val;
		else if (strcmp(name, "--pin") == 0)
			t.t_pin = val;
		else if (strcmp(name, "--name") == 0) {
			if (t.t_nnames == TOOL_NAMES_MAX)
				return tool_usage(&t, "at most %d --name", TOOL_NAMES_MAX);
			t.t_names[t.t_nnames++] = val;
		}
		else
			t.t_out = val;
	}
	if (fn == NULL) {
		if (t.t_json)
			return tool_usage(&t, "no command given");
		usage(stderr);
		return EXIT_TOOL_USAGE;
	}
	if (*t.t_data == '\0')
		return tool_usage(&t, "--data needs a directory");
	t.t_progress = !t.t_json && isatty(STDOUT_FILENO);
	env = getenv("OUTPOST_SYNC_PROGRESS_DELAY_MS");
	t.t_progress_delay_ms = env && *env ? strtoull(env, NULL, 10) : TOOL_PROGRESS_DELAY_MS;
	if (sync_client_global_init() != 0) {
		fprintf(stderr, "outpost-sync: cannot initialise libcurl\n");
		return EXIT_TOOL_OTHER;
	}
	return fn(&t);
}
