/*
 * test_crm_sql.c - the CRM's dynamic SQL (node/node_crm_util.c) on a real
 * SQLite file: crm__update_changed writes every column that changed, however
 * many (it used to drop the ones past 40 without a word), and only those.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "node/node.h"
#include "node/node_crm.h"
#include "testutil.h"

#define NCOLS 45

static void test_update_changed_every_column(void **state)
{
	char *dir = tu_tmpdir("crmsql"), path[512], sql[4096], names[NCOLS][16], vals[NCOLS][16];
	const char *xc[NCOLS], *xv[NCOLS];
	size_t len;
	node n;
	int i;

	(void)state;
	assert_non_null(dir);
	memset(&n, 0, sizeof n);
	snprintf(path, sizeof path, "%s/node.db", dir);
	assert_int_equal(db_open(path, &n.nd_db), 0);
	hlc_init(&n.nd_hlc, "node-1", NULL, NULL);
	len = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE wide(id TEXT PRIMARY KEY");
	for (i = 0; i < NCOLS; i++) {
		snprintf(names[i], sizeof names[i], "c%d", i);
		snprintf(vals[i], sizeof vals[i], "v%d", i);
		xc[i] = names[i];
		xv[i] = vals[i];
		len += (size_t)snprintf(sql + len, sizeof sql - len, ", c%d TEXT", i);
	}
	snprintf(sql + len, sizeof sql - len, ", updated_hlc TEXT)");
	assert_int_equal(db_exec(n.nd_db, sql), 0);
	assert_int_equal(db_exec(n.nd_db, "INSERT INTO wide(id, c0) VALUES('w1', 'v0')"), 0);

	/* c0 already holds v0: 44 columns change, the last of them past 40. */
	assert_int_equal(crm__update_changed(&n, "wide", "w1", NULL, 0, NULL, NULL, xc, xv, NCOLS),
			 NCOLS - 1);
	assert_int_equal(db_int(n.nd_db, "SELECT count(*) FROM wide WHERE c44='v44' AND c41='v41'"
					  " AND c1='v1' AND updated_hlc IS NOT NULL", -1),
			 1);
	/* Nothing changed: nothing written. */
	assert_int_equal(crm__update_changed(&n, "wide", "w1", NULL, 0, NULL, NULL, xc, xv, NCOLS),
			 0);
	/* No such row: an error, not a silent success. */
	assert_int_equal(crm__update_changed(&n, "wide", "nope", NULL, 0, NULL, NULL, xc, xv, 1), -1);
	db_close(n.nd_db);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_changed_every_column),
	};

	tu_watchdog(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
