/*
 * test_migrate.c - db_migrate() (lib/db.c) with two processes migrating
 * the same database at once: `outpost-hub serve` and a subcommand
 * (enroll-code, import, ...) both migrate hub.db at their start.  Each
 * step is applied once and the version recorded never goes down, however
 * the two interleave.  `check` compares every component with this
 * program's and names one it does not know.  And the hub's migrations give the counts its
 * /metrics makes at every scrape an index that covers them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hub/hub.h"
#include "lib/db.h"
#include "testutil.h"

/* Steps as the hub's: the first two can run twice, the last two cannot
 * (CREATE TABLE, ALTER TABLE ADD COLUMN).  Each notes that it ran. */
static const db_migration steps[] = {
	{"CREATE TABLE IF NOT EXISTS ran(step INTEGER NOT NULL); INSERT INTO ran VALUES(1);"},
	{"INSERT INTO ran VALUES(2);"},
	{"CREATE TABLE t(a); INSERT INTO ran VALUES(3);"},
	{"ALTER TABLE t ADD COLUMN b; INSERT INTO ran VALUES(4);"},
};
#define NSTEPS ((int)(sizeof steps / sizeof steps[0]))

struct other {
	sqlite3 *db;
	int done, rc;
};

/* Runs as the first connection starts its first statement after reading
 * the version (its BEGIN IMMEDIATE): the other process migrates fully. */
static int other_migrates(unsigned mask, void *ctx, void *p, void *x)
{
	struct other *o = ctx;
	const char *sql = sqlite3_sql(p);

	(void)mask;
	(void)x;
	if (!o->done && sql != NULL && strncmp(sql, "BEGIN IMMEDIATE", 15) == 0) {
		o->done = 1;
		o->rc = db_migrate(o->db, "comp", steps, NSTEPS);
	}
	return 0;
}

static void test_concurrent_migration_applies_each_step_once(void **state)
{
	char *dir = tu_tmpdir("migrate");
	char path[512];
	sqlite3 *a = NULL;
	struct other o = {0};

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof path, "%s/t.db", dir);
	assert_int_equal(db_open(path, &a), 0);
	assert_int_equal(db_open(path, &o.db), 0);
	assert_int_equal(sqlite3_trace_v2(a, SQLITE_TRACE_STMT, other_migrates, &o), SQLITE_OK);
	/* a reads version 0; the other migrates to 4 before a's first step. */
	assert_int_equal(db_migrate(a, "comp", steps, NSTEPS), NSTEPS);
	assert_true(o.done);
	assert_int_equal(o.rc, NSTEPS);
	sqlite3_trace_v2(a, 0, NULL, NULL);
	assert_int_equal(db_component_version(a, "comp"), NSTEPS);
	assert_int_equal(db_int(a, "SELECT count(*) FROM ran", -1), NSTEPS);
	assert_int_equal(db_int(a, "SELECT count(DISTINCT step) FROM ran", -1), NSTEPS);
	/* and the next start finds nothing to do */
	assert_int_equal(db_migrate(o.db, "comp", steps, NSTEPS), NSTEPS);
	assert_int_equal(db_int(a, "SELECT count(*) FROM ran", -1), NSTEPS);
	db_close(a);
	db_close(o.db);
	tu_rmtree(dir);
	free(dir);
}

/* Every component of the database is compared with this program's, and
 * one it has no migrations for (a newer release's) is named. */
static void test_schema_compare_every_component(void **state)
{
	static const db_migration other[] = {{"CREATE TABLE o(a);"}};
	sqlite3 *db = NULL;
	char detail[200], what[100];

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(db_migrate(db, "comp", steps, NSTEPS), NSTEPS);
	assert_int_equal(db_migrate(db, "comp2", other, 1), 1);
	assert_int_equal(db_schema_compare(db, detail, sizeof detail), 0);
	assert_string_equal(detail, "comp 4/4, comp2 1/1");
	assert_int_equal(db_schema_unknown(db, what, sizeof what), 0);
	/* behind in one that is not the first */
	assert_int_equal(db_exec(db, "UPDATE schema_version SET version=0 WHERE component='comp2'"), 0);
	assert_int_equal(db_schema_compare(db, detail, sizeof detail), -1);
	assert_string_equal(detail, "comp 4/4, comp2 0/1");
	/* not there at all */
	assert_int_equal(db_exec(db, "DELETE FROM schema_version WHERE component='comp2'"), 0);
	assert_int_equal(db_schema_compare(db, detail, sizeof detail), -1);
	assert_string_equal(detail, "comp 4/4, comp2 0/1");
	/* ahead */
	assert_int_equal(db_exec(db, "INSERT INTO schema_version VALUES('comp2', 9)"), 0);
	assert_int_equal(db_schema_compare(db, detail, sizeof detail), 1);
	/* a component this program does not know, its others the same */
	assert_int_equal(db_exec(db, "UPDATE schema_version SET version=1 WHERE component='comp2';"
				     "INSERT INTO schema_version VALUES('future', 2)"), 0);
	assert_int_equal(db_schema_compare(db, detail, sizeof detail), 1);
	assert_string_equal(detail, "comp 4/4, comp2 1/1, future 2/unknown");
	assert_int_equal(db_schema_unknown(db, what, sizeof what), 1);
	assert_string_equal(what, "'future' (version 2)");
	/* no schema_version at all */
	assert_int_equal(db_exec(db, "DROP TABLE schema_version"), 0);
	assert_int_equal(db_schema_compare(db, detail, sizeof detail), -2);
	assert_int_equal(db_schema_unknown(db, what, sizeof what), -1);
	sqlite3_close(db);
}

/* The plan of sql (its details joined by ';') contains want. */
static void assert_plan(sqlite3 *db, const char *sql, const char *want)
{
	char *eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	char plan[512] = "";
	sqlite3_stmt *st = NULL;

	assert_non_null(eqp);
	assert_int_equal(db_prepare(db, &st, eqp), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		snprintf(plan + strlen(plan), sizeof plan - strlen(plan), "%s;", d ? d : "");
	}
	sqlite3_finalize(st);
	sqlite3_free(eqp);
	if (strstr(plan, want) == NULL)
		fail_msg("%s: plan '%s', expected '%s'", sql, plan, want);
}

/* hub_metrics.c's counts of the entries not yet handled, and the console's
 * per node (hub_admin.c), read a covering partial index, not the table. */
static void test_hub_open_counts_use_an_index(void **state)
{
	sqlite3 *db = NULL;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(hub_migrate(db, 0), 0);
	assert_plan(db, "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL",
		    "USING COVERING INDEX quarantine_open");
	assert_plan(db, "SELECT count(*) FROM conflicts WHERE resolved_at IS NULL",
		    "USING COVERING INDEX conflicts_open");
	assert_plan(db, "SELECT count(*) FROM quarantine q WHERE q.node_id='n' AND"
			" q.resolved_at IS NULL", "USING COVERING INDEX quarantine_open");
	sqlite3_close(db);
}

TU_MAIN(cmocka_unit_test(test_concurrent_migration_applies_each_step_once),
	cmocka_unit_test(test_schema_compare_every_component),
	cmocka_unit_test(test_hub_open_counts_use_an_index))
