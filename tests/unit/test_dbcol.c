/*
 * test_dbcol.c - a text column SQLite cannot make (out of memory) is told
 * apart from SQL NULL.  sqlite3_column_text() returns NULL for both, and
 * on a failure SQLite also turns the cell into NULL; db_col() reads the
 * type first, so NULL from it means out of memory, never "no value".  The
 * allocations fail through lib/faultvfs (SQLite's allocator wrapped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/db.h"
#include "lib/faultvfs.h"

static sqlite3 *open_mem(void)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	return db;
}

/* A number read as text is converted in a buffer SQLite allocates. */
static void test_col_oom_is_not_null(void **state)
{
	sqlite3 *db = open_mem();
	sqlite3_stmt *st = NULL;
	const char *c[3];

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1234567, NULL, 'x'", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	faultvfs_fail_at(FAULTVFS_MALLOC, 1);
	assert_null(db_col(st, 0));
	assert_true(faultvfs_fired());
	faultvfs_fail_at(FAULTVFS_NONE, 0);
	/* SQL NULL is "", a text is itself. */
	assert_string_equal(db_col(st, 1), "");
	assert_string_equal(db_col(st, 2), "x");
	sqlite3_reset(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	faultvfs_fail_at(FAULTVFS_MALLOC, 1);
	assert_int_equal(db_cols(st, c, 3), -1);
	faultvfs_fail_at(FAULTVFS_NONE, 0);
	sqlite3_reset(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(db_cols(st, c, 3), 0);
	assert_string_equal(c[0], "1234567");
	assert_string_equal(c[1], "");
	assert_string_equal(c[2], "x");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* db_text() and db_kv_get() under a failure at every allocation: the value,
 * or an error; never "" or "(null)" as if it had been read. */
static void test_reads_never_mask_oom(void **state)
{
	sqlite3 *db = open_mem();
	char out[64];
	int fails = 0;

	(void)state;
	assert_int_equal(db_exec(db, "CREATE TABLE kv(key TEXT PRIMARY KEY, value);"
				     "INSERT INTO kv VALUES('n', 9876543)"), 0);
	for (long n = 1; n < 400; n++) {
		int rc;

		faultvfs_fail_at(FAULTVFS_MALLOC, n);
		rc = db_text(db, "SELECT 9876543 + 0", NULL, out, sizeof out);
		faultvfs_fail_at(FAULTVFS_NONE, 0);
		if (rc == 0)
			assert_string_equal(out, "9876543");
		else
			fails++;
		faultvfs_fail_at(FAULTVFS_MALLOC, n);
		rc = db_kv_get(db, "kv", "n", out, sizeof out);
		faultvfs_fail_at(FAULTVFS_NONE, 0);
		if (rc == DB_FOUND)
			assert_string_equal(out, "9876543");
		else
			fails++;
	}
	assert_true(fails > 0); /* the failures reached the reads */
	sqlite3_close(db);
}

/* db_col_dup(): a copy, or NULL when its text cannot be made. */
static void test_col_dup(void **state)
{
	sqlite3 *db = open_mem();
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	char *s;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 42424242, NULL", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	faultvfs_fail_at(FAULTVFS_MALLOC, 1);
	assert_null(db_col_dup(st, 0, &len));
	faultvfs_fail_at(FAULTVFS_NONE, 0);
	sqlite3_reset(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	s = db_col_dup(st, 0, &len);
	assert_non_null(s);
	assert_string_equal(s, "42424242");
	assert_int_equal(len, 8);
	free(s);
	assert_null(db_col_dup(st, 1, &len));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_col_oom_is_not_null),
	    cmocka_unit_test(test_reads_never_mask_oom),
	    cmocka_unit_test(test_col_dup),
	};

	if (faultvfs_install() != 0) {
		fprintf(stderr, "cannot install the fault VFS\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
