/*
 * test_crm_sql.c - the CRM's dynamic SQL (node/node_crm_util.c) on a real
 * SQLite file: crm__update_changed writes every column that changed, however
 * many (it used to drop the ones past 40 without a word), and only those;
 * and a list that cannot be read is an error (a 500 for the route), never
 * an empty list: lib/db.c's db_add_rows_json and an employer's lists.
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
#include "model/schema.h"
#include "testutil.h"

#define NCOLS 45

/* A node on a fresh database file in a new directory (returned: the
 * caller removes and frees it). */
static char *open_node(node *n, const char *tag)
{
	char *dir = tu_tmpdir(tag), path[512];

	assert_non_null(dir);
	memset(n, 0, sizeof *n);
	snprintf(path, sizeof path, "%s/node.db", dir);
	assert_int_equal(db_open(path, &n->nd_db), 0);
	hlc_init(&n->nd_hlc, "node-1", NULL, NULL);
	return dir;
}

static void test_update_changed_every_column(void **state)
{
	char *dir, sql[4096], names[NCOLS][16], vals[NCOLS][16];
	const char *xc[NCOLS], *xv[NCOLS];
	size_t len;
	node n;
	int i;

	(void)state;
	dir = open_node(&n, "crmsql");
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

/* A query that fails when prepared (no such table) or when stepped (a
 * malformed JSON text): -1 and nothing added, where an empty list used to
 * stand in for the error; an employer whose list cannot be read: -1, not a
 * 404 nor an employer with an empty list. */
static void test_failed_list_is_an_error(void **state)
{
	cJSON *o = cJSON_CreateObject(), *emp = NULL;
	node n;
	char *dir = open_node(&n, "crmlist");

	(void)state;
	assert_int_equal(schema_migrate(n.nd_db), 0);

	assert_int_equal(db_add_rows_json(o, "ok", n.nd_db, "SELECT 1 AS x UNION SELECT 2", NULL), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "ok")), 2);
	assert_int_equal(db_add_rows_json(o, "gone", n.nd_db, "SELECT * FROM no_such_table", NULL), -1);
	assert_int_equal(db_add_rows_json(o, "bad", n.nd_db, "SELECT json(?1) AS j", "{not json"), -1);
	assert_null(cJSON_GetObjectItem(o, "gone"));
	assert_null(cJSON_GetObjectItem(o, "bad"));
	assert_int_equal(cJSON_GetArraySize(o), 1);
	cJSON_Delete(o);

	assert_int_equal(db_exec(n.nd_db,
				 "INSERT INTO employers(id, company_name, normalized_name, username, zip,"
				 " zip5, created_at, updated_hlc) VALUES('e1', 'Acme', 'ACME', 'MKTACME0001',"
				 " '95814', '95814', 1, '000000000001.0000.node-1')"),
			 0);
	assert_int_equal(crm__employer_load(&n, "e1", &emp), 1);
	assert_non_null(emp);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(emp, "locations")));
	assert_string_equal(json_str(emp, "company_name"), "Acme");
	cJSON_Delete(emp);
	assert_int_equal(crm__employer_load(&n, "nope", &emp), 0);
	assert_null(emp);
	/* The locations list cannot be read any more: an error. */
	assert_int_equal(db_exec(n.nd_db, "DROP TABLE employer_locations"), 0);
	assert_int_equal(crm__employer_load(&n, "e1", &emp), -1);
	assert_null(emp);
	db_close(n.nd_db);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_changed_every_column),
		cmocka_unit_test(test_failed_list_is_an_error),
	};

	tu_watchdog(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
