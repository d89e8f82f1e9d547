/*
 * test_capture.c - change capture: one captured write gives exactly one
 * outbox entry whose changeset, applied to an empty copy of the schema,
 * reproduces the rows; a rolled-back write leaves nothing; every replicated
 * table passes the primary-key check, and a table without a NOT NULL
 * primary key is caught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/db.h"
#include "model/capture.h"
#include "model/demo.h"
#include "model/greeter.h"
#include "model/schema.h"

static sqlite3 *open_node(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db), 0);
	assert_int_equal(capture_migrate(db), 0);
	return db;
}

static void insert_checkin(sqlite3 *db, const char *id, const char *name)
{
	char sql[512];

	snprintf(sql, sizeof sql,
		 "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
		 " visit_date, updated_hlc) VALUES('%s','o1','la1','%s',1700000000000,'2026-01-05',"
		 "'000000000001.0000.n')", id, name);
	assert_int_equal(db_exec(db, sql), 0);
	snprintf(sql, sizeof sql,
		 "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id) "
		 "VALUES('r-%s','%s','reason-1','o1')", id, id);
	assert_int_equal(db_exec(db, sql), 0);
}

static int conflict_abort(void *ctx, int kind, sqlite3_changeset_iter *it)
{
	(void)ctx;
	(void)kind;
	(void)it;
	return SQLITE_CHANGESET_ABORT;
}

static void test_one_write_one_entry(void **state)
{
	sqlite3 *db = open_node(), *copy;
	capture c;
	int64_t seq = -1;
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(capture_begin(&c, db), 0);
	insert_checkin(db, "0190a000-0000-7000-8000-0000000000aa", "Ana Lopez");
	assert_int_equal(capture_commit(&c, "000000000001.0001.n", "staff-1", &seq), 0);
	assert_true(seq > 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 1);

	/* Apply the captured changeset to an empty copy of the schema. */
	assert_int_equal(sqlite3_open(":memory:", &copy), SQLITE_OK);
	assert_int_equal(schema_migrate(copy), 0);
	assert_int_equal(db_prepare(db, &st, "SELECT changeset, actor, hlc FROM outbox"), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "staff-1");
	assert_string_equal((const char *)sqlite3_column_text(st, 2), "000000000001.0001.n");
	assert_int_equal(sqlite3changeset_apply(copy, sqlite3_column_bytes(st, 0),
					       (void *)sqlite3_column_blob(st, 0), NULL,
					       conflict_abort, NULL),
			 SQLITE_OK);
	sqlite3_finalize(st);
	assert_int_equal(db_int(copy, "SELECT count(*) FROM checkins WHERE visitor_name='Ana Lopez' "
				      "AND office_id='o1' AND arrived_at=1700000000000", -1), 1);
	assert_int_equal(db_int(copy, "SELECT count(*) FROM checkin_reasons", -1), 1);
	/* The outbox itself is never captured. */
	assert_int_equal(db_int(copy, "SELECT count(*) FROM sqlite_master WHERE name='outbox'", -1), 0);
	sqlite3_close(copy);
	sqlite3_close(db);
}

static void test_update_and_noop(void **state)
{
	sqlite3 *db = open_node();
	capture c;
	int64_t seq;

	(void)state;
	assert_int_equal(capture_begin(&c, db), 0);
	insert_checkin(db, "id-1", "Bo");
	assert_int_equal(capture_commit(&c, "h1", NULL, &seq), 0);
	/* A transaction that changes nothing adds no entry. */
	assert_int_equal(capture_begin(&c, db), 0);
	assert_int_equal(db_exec(db, "UPDATE checkins SET status='waiting' WHERE id='nope'"), 0);
	assert_int_equal(capture_commit(&c, "h2", NULL, &seq), 0);
	assert_int_equal(seq, 0);
	/* An update is one more entry. */
	assert_int_equal(capture_begin(&c, db), 0);
	assert_int_equal(db_exec(db, "UPDATE checkins SET status='called' WHERE id='id-1'"), 0);
	assert_int_equal(capture_commit(&c, "h3", NULL, &seq), 0);
	assert_true(seq > 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 2);
	sqlite3_close(db);
}

static void test_abort_leaves_nothing(void **state)
{
	sqlite3 *db = open_node();
	capture c;

	(void)state;
	assert_int_equal(capture_begin(&c, db), 0);
	insert_checkin(db, "id-2", "Cy");
	capture_abort(&c);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins", -1), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 0);
	capture_abort(&c); /* twice is harmless */
	sqlite3_close(db);
}

static void test_nested_group_commit(void **state)
{
	sqlite3 *db = open_node();
	capture c;
	int64_t seq;

	(void)state;
	/* Two writes in one enclosing transaction: each its own outbox entry; a
	 * failed one leaves nothing; nothing is visible to others before COMMIT. */
	assert_int_equal(db_exec(db, "BEGIN IMMEDIATE"), 0);
	assert_int_equal(capture_begin(&c, db), 0);
	assert_int_equal(c.cap_nested, 1);
	insert_checkin(db, "g-1", "One");
	assert_int_equal(capture_commit(&c, "h1", NULL, &seq), 0);
	assert_int_equal(capture_begin(&c, db), 0);
	insert_checkin(db, "g-2", "Two");
	capture_abort(&c);
	assert_int_equal(capture_begin(&c, db), 0);
	insert_checkin(db, "g-3", "Three");
	assert_int_equal(capture_commit(&c, "h3", NULL, &seq), 0);
	assert_int_equal(sqlite3_get_autocommit(db), 0); /* still inside the batch */
	assert_int_equal(db_exec(db, "COMMIT"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins", -1), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins WHERE id='g-2'", -1), 0);
	sqlite3_close(db);
}

static void test_schema_check(void **state)
{
	sqlite3 *db = open_node();

	(void)state;
	assert_int_equal(schema_check(db), 0);
	assert_true(schema_version() >= 2);
	assert_non_null(schema_table("checkins"));
	assert_int_equal(schema_table("checkins")->td_kind, TK_MUTABLE);
	assert_null(schema_table("outbox"));
	/* Replace a replicated table by one whose key may be NULL: caught. */
	assert_int_equal(db_exec(db, "DROP TABLE checkin_events;"
				     "CREATE TABLE checkin_events(id TEXT PRIMARY KEY, x TEXT)"), 0);
	assert_int_equal(schema_check(db), -1);
	sqlite3_close(db);
}

static void test_demo_seed_idempotent(void **state)
{
	sqlite3 *db = open_node();

	(void)state;
	assert_int_equal(demo_seed_reference(db, "h"), 0);
	int64_t n = db_int(db, "SELECT count(*) FROM greeter_reasons", -1);
	assert_true(n >= 5);
	assert_int_equal(demo_seed_reference(db, "h"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM greeter_reasons", -1), n);
	assert_int_equal(db_int(db, "SELECT count(*) FROM offices WHERE id='" DEMO_OFFICE "'", -1), 1);
	sqlite3_close(db);
}

static void test_greeter_rules(void **state)
{
	(void)state;
	assert_string_equal(greeter_transition("waiting", "call"), "called");
	assert_string_equal(greeter_transition("called", "serve"), "serving");
	assert_string_equal(greeter_transition("serving", "done"), "done");
	assert_string_equal(greeter_transition("serving", "requeue"), "waiting");
	assert_string_equal(greeter_transition("waiting", "left"), "left");
	assert_null(greeter_transition("done", "call"));
	assert_null(greeter_transition("left", "serve"));
	assert_null(greeter_transition("waiting", "done"));
	assert_null(greeter_transition("waiting", "bogus"));
	assert_int_equal(greeter_valid_phone("(916) 555-0100"), 0);
	assert_int_equal(greeter_valid_phone("555"), -1);
	assert_int_equal(greeter_valid_phone("555-0100; DROP"), -1);
	assert_int_equal(greeter_valid_email("a.b@example.org"), 0);
	assert_int_equal(greeter_valid_email("a@b"), -1);
	assert_int_equal(greeter_valid_email("a b@example.org"), -1);
	assert_int_equal(greeter_valid_email("@example.org"), -1);
	assert_int_equal(greeter_valid_language("es"), 0);
	assert_int_equal(greeter_valid_language("fr"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_write_one_entry),
		cmocka_unit_test(test_update_and_noop),
		cmocka_unit_test(test_abort_leaves_nothing),
		cmocka_unit_test(test_nested_group_commit),
		cmocka_unit_test(test_schema_check),
		cmocka_unit_test(test_demo_seed_idempotent),
		cmocka_unit_test(test_greeter_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
