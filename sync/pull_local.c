/*
 * pull_local.c - a pull page applied with the node's triggers off, and the
 * node-local bookkeeping those triggers keep written by the apply itself, in
 * the page's transaction.
 *
 * Why: the node's check-ins carry triggers that keep greeter_waiting (how
 * many wait per office and day, node/node_state.c), and a trigger makes
 * every row an apply writes a statement with a trigger program and a
 * statement journal of its own: about a third of a pull page's apply.  With
 * the connection's triggers off, SQLite's preupdate hook (the one the
 * session extension and model/capture.c run on) sees every row the apply
 * writes, old and new values, and adds up per (office, day) what the
 * triggers would have done; after the apply one UPDATE (or INSERT) per
 * (office, day) writes the sum.  The result is the triggers' own, on a
 * greeter_waiting that holds the number of waiting check-ins, which is how
 * node_state.c builds it and the triggers keep it.
 *
 * Only the triggers named in kept[] may be skipped: a page touching a table
 * with any other trigger (the CRM's full-text indexes, a test's TEMP
 * trigger, a trigger on greeter_waiting itself) is applied with the
 * triggers on, as before.  tests/unit/test_pull.c applies the same pages
 * both ways and compares greeter_waiting.
 */
#include "sync/pull_local.h"
#include "model/capture.h"
#include "lib/log.h"

#include <stdlib.h>
#include <string.h>

/* node/node_state.c's triggers on checkins, all three kept by the hook. */
static const char *const kept[] = {"greeter_waiting_ins", "greeter_waiting_del",
				   "greeter_waiting_upd"};
static const char *const kept_cols[3] = {"status", "office_id", "visit_date"};
/* More (office, day)s than this in one page: greeter_waiting is counted
 * again from checkins instead. */
#define WKEYS_MAX 4096

void sync__pull_tables_add(pull_tables *t, const char *name)
{
	if (t->pt_n > 0 && t->pt_name[t->pt_n - 1] == name)
		return;
	for (int i = 0; i < t->pt_n; i++)
		if (strcmp(t->pt_name[i], name) == 0)
			return;
	if (t->pt_n >= PULL_LOCAL_TABLES)
		t->pt_over = 1;
	else
		t->pt_name[t->pt_n++] = name;
}

static int touched(const pull_tables *t, const char *tbl)
{
	if (sqlite3_stricmp(tbl, "greeter_waiting") == 0)
		return 1; /* the kept triggers write it: its own would run */
	for (int i = 0; i < t->pt_n; i++)
		if (sqlite3_stricmp(t->pt_name[i], tbl) == 0)
			return 1;
	return 0;
}

/* 1 when every trigger on the page's tables is kept here (pl_keep: some
 * are), 0 when one is not, -1 error. */
static int triggers_kept(sqlite3 *db, const pull_tables *t, pull_local *pl)
{
	sqlite3_stmt *st = NULL;
	int rc, ok = 1;

	if (t->pt_over)
		return 0;
	if (db_prepare(db, &st, "SELECT name, tbl_name FROM sqlite_master WHERE type='trigger'"
				" UNION ALL SELECT name, tbl_name FROM sqlite_temp_master"
				" WHERE type='trigger'") != 0)
		return -1;
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c[2]; /* trigger, table */
		int k = 0;

		if (db_cols(st, c, 2) != 0) {
			rc = SQLITE_NOMEM; /* never a trigger overlooked */
			break;
		}
		if (!touched(t, c[1]))
			continue;
		while (k < 3 && strcmp(c[0], kept[k]) != 0)
			k++;
		if (k < 3 && sqlite3_stricmp(c[1], "checkins") == 0)
			pl->pl_keep = 1;
		else
			ok = 0;
	}
	sqlite3_finalize(st);
	return ok == 0 ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* checkins' columns the hook reads.  1 found, 0 not all, -1 error. */
static int kept_columns(sqlite3 *db, pull_local *pl)
{
	sqlite3_stmt *st = NULL;
	int rc, found = 0;

	if (db_prepare(db, &st, "SELECT cid, name FROM pragma_table_info('checkins')") != 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = db_col(st, 1);

		if (name == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		for (int i = 0; i < 3; i++)
			if (strcmp(name, kept_cols[i]) == 0) {
				pl->pl_col[i] = sqlite3_column_int(st, 0);
				found++;
			}
	}
	sqlite3_finalize(st);
	return rc != SQLITE_DONE ? -1 : found == 3;
}

static void wkey_add(pull_local *pl, const char *office, const char *day, int64_t d)
{
	pull_wkey *k;

	if (pl->pl_last < pl->pl_nk && strcmp(pl->pl_k[pl->pl_last].wk_day, day) == 0 &&
	    strcmp(pl->pl_k[pl->pl_last].wk_office, office) == 0) {
		pl->pl_k[pl->pl_last].wk_d += d;
		return;
	}
	for (int i = 0; i < pl->pl_nk; i++)
		if (strcmp(pl->pl_k[i].wk_day, day) == 0 && strcmp(pl->pl_k[i].wk_office, office) == 0) {
			pl->pl_k[pl->pl_last = i].wk_d += d;
			return;
		}
	if (pl->pl_nk >= WKEYS_MAX) {
		pl->pl_recount = 1; /* counted again (keys_write) */
		return;
	}
	if (pl->pl_nk == pl->pl_cap) {
		int cap = pl->pl_cap ? pl->pl_cap * 2 : 16;
		pull_wkey *n = realloc(pl->pl_k, (size_t)cap * sizeof *n);
		if (n == NULL) {
			pl->pl_err = 1;
			return;
		}
		pl->pl_k = n;
		pl->pl_cap = cap;
	}
	k = &pl->pl_k[pl->pl_nk];
	k->wk_office = strdup(office);
	k->wk_day = strdup(day);
	k->wk_d = d;
	if (k->wk_office == NULL || k->wk_day == NULL) {
		free(k->wk_office);
		free(k->wk_day);
		pl->pl_err = 1;
		return;
	}
	pl->pl_last = pl->pl_nk++;
}

typedef int (*row_value)(sqlite3 *, int, sqlite3_value **);

/* A row leaving (d -1) or entering (d +1) the waiting line, as the
 * triggers' WHEN clauses see it. */
static void note(pull_local *pl, sqlite3 *db, row_value get, int64_t d)
{
	sqlite3_value *v[3];
	const char *office, *day;

	for (int i = 0; i < 3; i++) {
		const char *s;

		if (get(db, pl->pl_col[i], &v[i]) != SQLITE_OK) {
			pl->pl_err = 1;
			return;
		}
		if (i > 0)
			continue;
		if (sqlite3_value_type(v[0]) != SQLITE_TEXT)
			return; /* not in the line: the rest is not read */
		if ((s = (const char *)sqlite3_value_text(v[0])) == NULL) {
			pl->pl_err = 1; /* out of memory */
			return;
		}
		if (strcmp(s, "waiting") != 0)
			return;
	}
	office = (const char *)sqlite3_value_text(v[1]);
	day = (const char *)sqlite3_value_text(v[2]);
	if (office == NULL || day == NULL) {
		pl->pl_err = 1; /* NOT NULL columns: the trigger's write would fail too */
		return;
	}
	if (!pl->pl_recount)
		wkey_add(pl, office, day, d);
}

static void hook(void *ctx, sqlite3 *db, int op, const char *zdb, const char *zname,
		 sqlite3_int64 k1, sqlite3_int64 k2)
{
	pull_local *pl = ctx;

	(void)k1;
	(void)k2;
	if (!pl->pl_keep || pl->pl_err || sqlite3_stricmp(zname, "checkins") != 0 ||
	    strcmp(zdb, "main") != 0)
		return;
	if (op != SQLITE_INSERT)
		note(pl, db, sqlite3_preupdate_old, -1);
	if (op != SQLITE_DELETE)
		note(pl, db, sqlite3_preupdate_new, 1);
}

int sync__pull_local_begin(sqlite3 *db, const pull_tables *t, pull_local *pl)
{
	int rc;

	memset(pl, 0, sizeof *pl);
	rc = triggers_kept(db, t, pl);
	if (rc == 1 && pl->pl_keep)
		rc = kept_columns(db, pl);
	if (rc <= 0) {
		pl->pl_keep = 0;
		return rc; /* 0: the apply runs the triggers */
	}
	if (db_triggers(db, 0) != 0) {
		db_triggers(db, 1);
		return -1;
	}
	sqlite3_preupdate_hook(db, hook, pl);
	pl->pl_fast = 1;
	return 0;
}

/* One statement for key k: 0 or -1. */
static int key_step(sqlite3 *db, sqlite3_stmt *st, const pull_wkey *k)
{
	int rc;

	sqlite3_bind_text(st, 1, k->wk_office, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k->wk_day, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, k->wk_d);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("pull: cannot count the waiting line: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* greeter_waiting moved by the sums (or counted again).  0 or -1. */
static int keys_write(sqlite3 *db, pull_local *pl)
{
	sqlite3_stmt *up = NULL, *ins = NULL;
	int ret = -1;

	if (pl->pl_recount)
		return db_exec(db, "DELETE FROM greeter_waiting;"
				   "INSERT INTO greeter_waiting(office_id, visit_date, n)"
				   " SELECT office_id, visit_date, count(*) FROM checkins"
				   " WHERE status='waiting' GROUP BY office_id, visit_date");
	if (db_prepare(db, &up, "UPDATE greeter_waiting SET n=n+?3 WHERE office_id=?1"
				" AND visit_date=?2") != 0 ||
	    db_prepare(db, &ins, "INSERT INTO greeter_waiting(office_id, visit_date, n)"
				 " VALUES(?1, ?2, ?3)") != 0)
		goto out;
	for (int i = 0; i < pl->pl_nk; i++) {
		const pull_wkey *k = &pl->pl_k[i];

		if (k->wk_d == 0)
			continue;
		if (key_step(db, up, k) != 0)
			goto out;
		/* No row yet: the insert trigger would have made it. */
		if (sqlite3_changes(db) == 0 && k->wk_d > 0 && key_step(db, ins, k) != 0)
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(up);
	sqlite3_finalize(ins);
	return ret;
}

int sync__pull_local_end(sqlite3 *db, pull_local *pl, int ok)
{
	int ret = 0;

	if (pl->pl_fast) {
		capture_hook_restore(db);
		if (db_triggers(db, 1) != 0)
			ret = -1;
		if (ok && ret == 0 && pl->pl_keep && (pl->pl_err || keys_write(db, pl) != 0)) {
			if (pl->pl_err)
				log_warnx("pull: cannot read a check-in the page wrote");
			ret = -1;
		}
	}
	for (int i = 0; i < pl->pl_nk; i++) {
		free(pl->pl_k[i].wk_office);
		free(pl->pl_k[i].wk_day);
	}
	free(pl->pl_k);
	memset(pl, 0, sizeof *pl);
	return ret;
}
