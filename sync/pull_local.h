/*
 * pull_local.h - a pull page applied with the node's triggers off, the
 * node-local bookkeeping they keep written by the apply itself (see
 * pull_local.c).  Internal to sync/ (pull_node.c); not an interface.
 */
#ifndef OUTPOST_PULL_LOCAL_H
#define OUTPOST_PULL_LOCAL_H

#include <stdint.h>
#include "lib/db.h"

/* The distinct tables of a page, names borrowed from the page's bytes
 * (pl_over: more than fit, so the page takes the triggers). */
#define PULL_LOCAL_TABLES 64
typedef struct pull_tables {
	const char *pt_name[PULL_LOCAL_TABLES];
	int pt_n;
	int pt_over;
} pull_tables;

/* Note a page's table (cheap for a run of changes of one table). */
void sync__pull_tables_add(pull_tables *t, const char *name);

/* One (office, day)'s change of greeter_waiting.n. */
typedef struct pull_wkey {
	char *wk_office, *wk_day; /* owned */
	int64_t wk_d;
} pull_wkey;

typedef struct pull_local {
	int pl_fast;     /* triggers are off and the hook is ours */
	int pl_keep;     /* checkins' triggers are kept by the hook */
	int pl_err;      /* the hook could not read a row */
	int pl_recount;  /* too many (office, day)s: count them all again */
	int pl_col[3];   /* checkins: status, office_id, visit_date */
	pull_wkey *pl_k; /* owned */
	int pl_nk, pl_cap, pl_last;
} pull_local;

/*
 * Inside a page's transaction, before its apply: when every trigger on the
 * page's tables is one this file keeps (or there is none), turn the
 * connection's triggers off and set the hook that adds up what they would
 * have done; else leave everything as it is (the apply runs the triggers).
 * 0, or -1 (nothing is left changed).  Always pair with _end.
 */
int sync__pull_local_begin(sqlite3 *db, const pull_tables *t, pull_local *pl);
/*
 * After the apply: triggers on and model/capture.c's hook back in every
 * case; when ok, the bookkeeping written (still in the transaction).  0, or
 * -1 (the caller rolls the page back).  Releases pl.
 */
int sync__pull_local_end(sqlite3 *db, pull_local *pl, int ok);

#endif
