/*
 * check.h - `outpost-node check` and `outpost-hub check`: a report of named
 * checks, each ok, warn or fail, printed one line each (or as one JSON
 * object) and turned into an exit code a monitoring system reads:
 *
 *   0  every check ok
 *   1  a warning: needs attention soon (disk filling, certificate expiring,
 *      no contact with the hub for long, a database older than this program)
 *   2  a check failed (damaged database, secrets others can read, expired
 *      certificate, full disk, a database newer than this program)
 *   3  the data directory or its database cannot be read at all
 *
 * The checks read only: they may run while the daemon serves.
 */
#ifndef OUTPOST_CHECK_H
#define OUTPOST_CHECK_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/db.h"

enum { CHECK_OK = 0, CHECK_WARN = 1, CHECK_FAIL = 2, CHECK_UNREADABLE = 3 };

typedef struct check_report {
	cJSON *cr_items; /* [{"check","status","detail"}] */
	int cr_worst;
} check_report;

/* 0 or -1 (out of memory). */
int check_init(check_report *r);
/* Record one check at level with a one-line detail. */
void check_add(check_report *r, const char *name, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Print (text: "ok|warn|FAIL  name: detail" lines and a summary; json: one
 * object {"ok","status","exit_code","checks":[...]}) on stdout, free the
 * report, return the exit code. */
int check_finish(check_report *r, const char *prog, int json);

/* The data directory: exists (else UNREADABLE), mode 0700 (else warn). */
int check_dir(check_report *r, const char *dir);
/* A secret file: mode without group/other bits (fail otherwise); absent is
 * ok unless required (then fail). */
void check_secret(check_report *r, const char *name, const char *path, int required);
/* A database: opens read-only and runs PRAGMA quick_check (fail on any
 * damage, UNREADABLE when it cannot be opened); warns when group or others
 * may read it.  *out gets the read-only connection (caller closes) or NULL. */
void check_db(check_report *r, const char *name, const char *path, sqlite3 **out);
/* Free space where dir lives: fail under 1% or 64 MiB, warn under 10% or
 * 1 GiB. */
void check_disk(check_report *r, const char *dir);
/* A PEM certificate's expiry: fail when expired or unreadable, warn within
 * 30 days. */
void check_cert(check_report *r, const char *name, const char *path);

#endif
