/*
 * test_pull_local.c - a pull page applied with the node's triggers off
 * (sync/pull_local.c) leaves the node as the triggers would have.
 *
 * Covered: two nodes migrated as the office node migrates its database
 * (node_migrate: greeter_waiting and its triggers) take the same pages, one
 * with the triggers off (the hook keeps greeter_waiting), the other made to
 * run them (a TEMP trigger of no effect on checkins, which the fast path
 * does not know); after a first pull and after hub edits of every kind
 * (status out of and back into the line, a day moved, a delete, a row
 * moving to another office, new rows) both nodes hold the same
 * greeter_waiting, equal to the count of waiting check-ins; the triggers
 * are on again after every page (a local check-in still counts), model/
 * capture.c's hook is back (a captured write after a pull reaches the
 * outbox), pulled rows do not; a page holding a CRM employer (full-text
 * index triggers) is applied with them running (the employer is found by
 * its index).
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
#include "model/capture.h"
#include "node/node.h"
#include "sync/sync.h"
#include "synctest.h"
#include "testutil.h"

static const sync_scope sc1 = {"nodeA", "office-1", "la-1"};

static sqlite3 *open_node(void)
{
	node n;

	memset(&n, 0, sizeof n);
	assert_int_equal(sqlite3_open(":memory:", &n.nd_db), SQLITE_OK);
	assert_int_equal(node_migrate(&n), 0);
	return n.nd_db;
}

static void checkin(sqlite3 *hub, const char *id, const char *office, const char *day,
		    const char *status)
{
	char *sql = sqlite3_mprintf("INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				    " arrived_at, visit_date, status, updated_hlc) VALUES(%Q, %Q,"
				    " 'la-1', 'V', 1, %Q, %Q, '000000000001.0000.hub')",
				    id, office, day, status);
	assert_int_equal(db_exec(hub, sql), 0);
	sqlite3_free(sql);
}

/* Pull everything after the node's cursor, 3 rows a page. */
static void pull_all(sqlite3 *hub, sqlite3 *nd)
{
	buf page = BUF_INIT(1 << 20);
	int64_t cursor = 0, next, head;
	int more = 1, on = -1;

	db_kv_get_i64(nd, "node_meta", "sync_cursor", &cursor);
	while (more) {
		buf_reset(&page);
		assert_int_equal(sync_hub_pull(hub, &sc1, cursor, 3, &page, &next, &head, &more), 0);
		assert_int_equal(sync_node_apply_pull(nd, page.data, page.len, next), 0);
		assert_int_equal(sqlite3_db_config(nd, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &on),
				 SQLITE_OK);
		assert_int_equal(on, 1);
		cursor = next;
	}
	buf_release(&page);
}

/* greeter_waiting as text, rows of n 0 left out (a trigger may leave one). */
static void waiting(sqlite3 *db, const char *sql, char *out, size_t n)
{
	sqlite3_stmt *st;

	out[0] = '\0';
	assert_int_equal(db_prepare(db, &st, sql), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s/%s=%lld ", sqlite3_column_text(st, 0),
			 sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
}

static void same_line(sqlite3 *fast, sqlite3 *slow)
{
	static const char kept[] = "SELECT office_id, visit_date, n FROM greeter_waiting WHERE n <> 0"
				   " ORDER BY 1, 2";
	static const char counted[] = "SELECT office_id, visit_date, count(*) FROM checkins"
				      " WHERE status='waiting' GROUP BY 1, 2 ORDER BY 1, 2";
	char a[2048], b[2048], c[2048];

	waiting(fast, kept, a, sizeof a);
	waiting(slow, kept, b, sizeof b);
	waiting(fast, counted, c, sizeof c);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_true(a[0] != '\0');
}

static void test_fast_apply_keeps_the_line(void **state)
{
	sqlite3 *hub = st_open_db(1), *fast = open_node(), *slow = open_node();
	capture c;
	int64_t seq;

	(void)state;
	/* the slow node runs the triggers: a TEMP trigger the fast path does not know */
	assert_int_equal(db_exec(slow, "CREATE TEMP TRIGGER q19_slow AFTER INSERT ON checkins"
				       " WHEN 0 BEGIN SELECT 1; END"),
			 0);
	/* capture's hook on the fast node before any pull */
	assert_int_equal(capture_begin(&c, fast), 0);
	assert_int_equal(db_exec(fast, "INSERT INTO node_meta(key, value) VALUES('x', '1')"), 0);
	assert_int_equal(capture_commit(&c, "000000000002.0000.nodeA", NULL, &seq), 0);
	assert_int_equal(db_exec(hub, "INSERT INTO local_areas(id, name) VALUES('la-1', 'One');"
				      "INSERT INTO offices(id, local_area_id, name) VALUES"
				      " ('office-1', 'la-1', 'A'), ('office-2', 'la-1', 'B');"),
			 0);
	checkin(hub, "c1", "office-1", "2026-01-05", "waiting");
	checkin(hub, "c2", "office-1", "2026-01-05", "waiting");
	checkin(hub, "c3", "office-1", "2026-01-05", "called");
	checkin(hub, "c4", "office-1", "2026-01-06", "waiting");
	checkin(hub, "c5", "office-1", "2026-01-06", "waiting");
	checkin(hub, "c6", "office-2", "2026-01-05", "waiting");
	pull_all(hub, fast);
	pull_all(hub, slow);
	same_line(fast, slow);
	assert_int_equal(db_int(fast, "SELECT n FROM greeter_waiting WHERE visit_date='2026-01-05'",
				-1),
			 2);
	/* edits of every kind at the hub */
	assert_int_equal(db_exec(hub, "UPDATE checkins SET status='called' WHERE id='c1';"
				      "UPDATE checkins SET status='waiting' WHERE id='c3';"
				      "UPDATE checkins SET visit_date='2026-01-07' WHERE id='c4';"
				      "DELETE FROM checkins WHERE id='c2';"
				      "UPDATE checkins SET office_id='office-2' WHERE id='c5';"),
			 0);
	checkin(hub, "c7", "office-1", "2026-01-07", "waiting");
	checkin(hub, "c8", "office-1", "2026-01-08", "finished");
	pull_all(hub, fast);
	pull_all(hub, slow);
	same_line(fast, slow);
	/* the triggers count a local check-in again */
	assert_int_equal(db_exec(fast, "DELETE FROM outbox"), 0);
	assert_int_equal(capture_begin(&c, fast), 0);
	assert_int_equal(db_exec(fast, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				       " arrived_at, visit_date, updated_hlc) VALUES('L1', 'office-1',"
				       " 'la-1', 'W', 2, '2026-01-07', '000000000003.0000.nodeA')"),
			 0);
	assert_int_equal(capture_commit(&c, "000000000003.0000.nodeA", NULL, &seq), 0);
	assert_true(seq > 0);
	assert_int_equal(db_int(fast, "SELECT count(*) FROM outbox", -1), 1);
	assert_int_equal(db_int(fast, "SELECT n FROM greeter_waiting WHERE visit_date='2026-01-07'",
				-1),
			 3);
	sqlite3_close(hub);
	sqlite3_close(fast);
	sqlite3_close(slow);
}

static void test_crm_page_runs_its_triggers(void **state)
{
	sqlite3 *hub = st_open_db(1), *nd = open_node();

	(void)state;
	assert_int_equal(db_exec(hub, "INSERT INTO local_areas(id, name) VALUES('la-1', 'One');"
				      "INSERT INTO offices(id, local_area_id, name) VALUES"
				      " ('office-1', 'la-1', 'A')"),
			 0);
	checkin(hub, "c1", "office-1", "2026-01-05", "waiting");
	assert_int_equal(db_exec(hub, "INSERT INTO employers(id, local_area_id, company_name,"
				      " normalized_name, username, zip, zip5, created_at, updated_hlc)"
				      " VALUES('e1', 'la-1', 'Zephyr Tools', 'ZEPHYR TOOLS', 'zt', '95814',"
				      " '95814', 1, '000000000001.0000.hub')"),
			 0);
	pull_all(hub, nd);
	assert_int_equal(db_int(nd, "SELECT count(*) FROM employers", -1), 1);
	assert_int_equal(db_int(nd, "SELECT count(*) FROM crm_employers_fts"
				      " WHERE crm_employers_fts MATCH 'zephyr'", -1),
			 1);
	assert_int_equal(db_int(nd, "SELECT n FROM greeter_waiting", -1), 1);
	sqlite3_close(hub);
	sqlite3_close(nd);
}

TU_MAIN(cmocka_unit_test(test_fast_apply_keeps_the_line),
	cmocka_unit_test(test_crm_page_runs_its_triggers))
