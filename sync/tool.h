/*
 * tool.h - private to the outpost-sync command (sync/tool_*.c): options,
 * exit codes, output helpers, and one function per subcommand.
 */
#ifndef OUTPOST_SYNC_TOOL_H
#define OUTPOST_SYNC_TOOL_H

#include "sync/client.h"

#define TOOL_DEFAULT_DATA "./data/node"
#define TOOL_NAMES_MAX 16

/* Exit codes (also in --help). */
enum {
	EXIT_TOOL_OK = 0,
	EXIT_TOOL_USAGE = 1,
	EXIT_TOOL_CONFIG = 2,      /* not enrolled, no node.db, bad sync.json */
	EXIT_TOOL_UNREACHABLE = 3,
	EXIT_TOOL_AUTH = 4,        /* refused: revoked/unknown node, bad code */
	EXIT_TOOL_PIN = 5,
	EXIT_TOOL_SCHEMA = 6,
	EXIT_TOOL_MISMATCH = 7,    /* verify found differences */
	EXIT_TOOL_OTHER = 8,
	EXIT_TOOL_PENDING = 9,     /* pull refused: local changes not pushed yet */
	EXIT_TOOL_BUNDLE = 10,     /* import: bundle damaged, foreign or of the wrong kind */
};

/* A progress bar shows only on transfers longer than this (ms);
 * $OUTPOST_SYNC_PROGRESS_DELAY_MS overrides it. */
#define TOOL_PROGRESS_DELAY_MS 500

typedef struct tool {
	const char *t_cmd;
	const char *t_data;
	const char *t_hub;        /* enroll */
	const char *t_code;       /* enroll */
	const char *t_pin;        /* enroll: the hub's key, "sha256//..." */
	const char *t_names[TOOL_NAMES_MAX]; /* enroll, renew-cert: --name (TLS) */
	int t_nnames;
	const char *t_out;        /* export */
	const char *t_file;       /* import: the bundle */
	int t_force;              /* enroll over an existing identity */
	int t_resend;             /* export: the sent log too (a restored hub) */
	int t_json;
	int t_progress;           /* stdout is a terminal and no --json: may draw a bar */
	int t_bar_drawn;
	uint64_t t_progress_delay_ms;
	uint64_t t_progress_t0;   /* monotonic ms of the transfer's first report */
} tool;

/* tool_cert.c: the node's HTTPS key and certificate (DATA/node.key,
 * DATA/node.crt with the chain, DATA/ca.crt, DATA/node.names). */
#define TOOL_NODE_KEY "node.key"
#define TOOL_NODE_CRT "node.crt"
#define TOOL_NODE_CA "ca.crt"
#define TOOL_NODE_NAMES "node.names"
/* A new key (DATA/node.key.new) and its request for t's names into tls;
 * 0 or an exit code (message printed). */
int tool_cert_request(tool *t, sync_enroll_tls *tls);
/* Save what the hub signed: the key in place, the chain, the CA, the
 * names.  0 or an exit code. */
int tool_cert_save(tool *t, sync_enroll_tls *tls);
/* Remove DATA/node.key.new, the key of a request that failed. */
void tool_cert_discard(tool *t);
int cmd_renew_cert(tool *t);

/* SYNC_E_* -> exit code. */
int tool_exit_code(int rc);
/* Report a failure: one line "outpost-sync: MSG" on stderr; with --json also
 * {"ok":false,"error":CODE,"message":MSG} on stdout.  Returns the exit code. */
int tool_fail(tool *t, int rc, const char *msg);
/* A usage error: "outpost-sync: MSG (see --help)" on stderr; with --json
 * also {"ok":false,"error":"usage","message":MSG,"exit_code":1} on stdout
 * (README: every command with --json prints one JSON object).  Returns
 * EXIT_TOOL_USAGE. */
int tool_usage(tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print o (pretty for people is the caller's job) and free it. */
void tool_print_json(cJSON *o);
/* sync_progress_fn drawing a bar on stdout when t->t_progress, once a
 * transfer has run for t_progress_delay_ms. */
void tool_progress(void *arg, const char *what, uint64_t done, uint64_t total);
void tool_progress_end(tool *t);
/* Load the identity, open node.db, adopt the identity there, seed the
 * client's clock offset.  0 or an exit code (message already printed). */
int tool_open(tool *t, sync_client **c, sqlite3 **db);
/* "5 min ago", "3 h ago" ... for people. */
void tool_age(int64_t ms, char *out, size_t n);

int cmd_enroll(tool *t);
int cmd_status(tool *t);
int cmd_push(tool *t);
int cmd_pull(tool *t);
int cmd_verify(tool *t);
int cmd_conflicts(tool *t);
int cmd_export(tool *t);
int cmd_import(tool *t);

#endif
