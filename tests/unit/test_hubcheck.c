/*
 * test_hubcheck.c - a hub check that could not read what it needs (out of
 * memory, an I/O error) says so (MODEL_CHECK_AGAIN, sync.h's
 * SYNC_CHECK_AGAIN): the push is refused as on any failure of the hub's and
 * the node sends it again.  It never holds a valid row for review.
 *
 * Each check below (all of a push's: the trust checks, the model's rules,
 * retired codes; hub_codes_validate_row) runs on a valid stored row with every allocation failing
 * in turn (lib/faultvfs wraps SQLite's allocator): the answer is 0 (the
 * allocation was not needed, or SQLite recovered) or MODEL_CHECK_AGAIN,
 * never a refusal.  Before the change, such a failure read as "no such
 * employer", "no such participant" and the like: a refusal, so the valid
 * row went to quarantine for an administrator to release.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hub/acct.h"
#include "hub/hub.h"
#include "lib/db.h"
#include "lib/faultvfs.h"
#include "model/casework.h"
#include "model/crm.h"
#include "model/demo.h"
#include "model/schema.h"
#include "sync/sync.h"
#include "synctest.h"

#define EMP "0190a000-0000-7000-8000-00000000e001"
#define EMP_DUP "0190a000-0000-7000-8000-00000000e002"
#define JOB "0190a000-0000-7000-8000-00000000e101"
#define REF "0190a000-0000-7000-8000-00000000e201"
#define WI "0190a000-0000-7000-8000-00000000e301"
#define PART "0190a000-0000-7000-8000-00000000e401"
#define ACT "0190a000-0000-7000-8000-00000000e501"
#define NOTE "0190a000-0000-7000-8000-00000000e601"
#define NOTE_ACT "0190a000-0000-7000-8000-00000000e602"

static char today[11];

static void run(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	assert_non_null(sql);
	if (db_exec(db, sql) != 0)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_free(sql);
}

/* A hub holding one valid row of each kind checked below. */
static sqlite3 *hub_with_rows(void)
{
	sqlite3 *db = NULL;
	const char *ts = "000000000001.0000.hub";
	char code[16] = "", cat[64] = "", pri[64] = "";
	time_t now = time(NULL);
	struct tm tm;
	hlc clk;

	gmtime_r(&now, &tm);
	strftime(today, sizeof today, "%Y-%m-%d", &tm);
	/* as outpost-hub prepares its database (hub/main.c) */
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(hub_migrate(db, 0), 0);
	assert_int_equal(acct_migrate(db), 0);
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	assert_int_equal(hub_codes_start(db, &clk), 0);
	assert_int_equal(demo_seed_reference(db, ts), 0);
	assert_int_equal(crm_seed_reference(db, ts), 0);
	assert_int_equal(case_seed_reference(db, ts), 0);
	assert_int_equal(db_text(db, "SELECT code FROM participant_activity_codes WHERE status='active'"
				     " ORDER BY code LIMIT 1", NULL, code, sizeof code), 0);
	assert_int_equal(db_text(db, "SELECT id FROM work_item_categories ORDER BY sort LIMIT 1", NULL,
				 cat, sizeof cat), 0);
	assert_int_equal(db_text(db, "SELECT id FROM work_item_priorities ORDER BY rank LIMIT 1", NULL,
				 pri, sizeof pri), 0);
	run(db, "INSERT INTO employers(id, account_type, company_name, normalized_name, username, zip,"
		" zip5, edd_account_number, street, city, state, phone, industry, created_at, status,"
		" updated_hlc) VALUES(%Q, 'recruiting', 'Kept Bakery', 'kept bakery', 'KEPTBAK01',"
		" '95814', '95814', '1234567', '1 Main St', 'Sacramento', 'CA', '(916) 555-0100', '4931',"
		" 1, 'active', %Q)", EMP, ts);
	run(db, "INSERT INTO employers(id, account_type, company_name, normalized_name, username, zip,"
		" zip5, created_at, status, duplicate_of, updated_hlc) VALUES(%Q, 'lead', 'Kept Bakery',"
		" 'kept bakery', 'MKTKEPTBAK02', '95814', '95814', 1, 'inactive', %Q, %Q)",
	    EMP_DUP, EMP, ts);
	run(db, "INSERT INTO job_orders(id, employer_id, title, openings, location, wage, open_date,"
		" created_at, updated_hlc) VALUES(%Q, %Q, 'Baker', 2, 'Sacramento', 21.5, %Q, 1, %Q)",
	    JOB, EMP, today, ts);
	run(db, "INSERT INTO participants(id, local_area_id, office_id, first_name, last_name,"
		" birth_date, registered_date, registered_at, updated_hlc) VALUES(%Q, '%q', '%q',"
		" 'Ana', 'Reyes', '1990-04-02', '2020-01-06', 1, %Q)",
	    PART, DEMO_LOCAL_AREA, DEMO_OFFICE, ts);
	run(db, "INSERT INTO job_referrals(id, job_order_id, employer_id, participant_id,"
		" local_area_id, referral_date, staff_id, created_at) VALUES(%Q, %Q, %Q, %Q, '%q', %Q,"
		" 'demo-staff', 1)", REF, JOB, EMP, PART, DEMO_LOCAL_AREA, today);
	run(db, "INSERT INTO work_items(id, employer_id, category_id, priority_id, description,"
		" assignee_id, created_at, updated_hlc) VALUES(%Q, %Q, %Q, %Q, 'Call back', 'demo-staff',"
		" 1, %Q)", WI, EMP, cat, pri, ts);
	run(db, "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		" start_date, staff_id, entered_date, entered_at) VALUES(%Q, %Q, '%q', '%q', %Q, %Q,"
		" 'demo-staff', %Q, %lld)", ACT, PART, DEMO_LOCAL_AREA, DEMO_OFFICE, code, today, today,
	    (long long)now * 1000);
	run(db, "INSERT INTO case_notes(id, participant_id, local_area_id, office_id, kind, subject,"
		" contact_date, body, staff_id, entered_date, entered_at) VALUES(%Q, %Q, '%q', '%q',"
		" 'standalone', 'Called', %Q, 'Left a message', 'demo-staff', %Q, %lld)",
	    NOTE, PART, DEMO_LOCAL_AREA, DEMO_OFFICE, today, today, (long long)now * 1000);
	/* (the activity's own note, held with it) */
	run(db, "INSERT INTO case_notes(id, participant_id, local_area_id, office_id, kind,"
		" activity_id, subject, contact_date, body, staff_id, entered_date, entered_at)"
		" VALUES(%Q, %Q, '%q', '%q', 'activity', %Q, 'Activity', %Q, 'Met', 'demo-staff', %Q,"
		" %lld)", NOTE_ACT, PART, DEMO_LOCAL_AREA, DEMO_OFFICE, ACT, today, today,
	    (long long)now * 1000);
	return db;
}

/* Each row checked as the entry that last wrote it (a recruiting employer
 * is a converted lead: an update). */
static const struct {
	const char *tbl, *id;
	int op;
} rows[] = {
	{"employers", EMP, SQLITE_UPDATE},
	{"employers", EMP_DUP, SQLITE_INSERT},
	{"job_orders", JOB, SQLITE_INSERT},
	{"job_referrals", REF, SQLITE_INSERT},
	{"work_items", WI, SQLITE_INSERT},
	{"participants", PART, SQLITE_INSERT},
	{"participant_activities", ACT, SQLITE_INSERT},
	{"case_notes", NOTE, SQLITE_INSERT},
};

static void test_check_failures_are_never_refusals(void **state)
{
	sqlite3 *db = hub_with_rows();
	char why[200], sql[128];

	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		cJSON *row;
		int rc, again = 0, k;

		snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE id=?", rows[i].tbl);
		assert_non_null(row = db_row_json_by(db, sql, rows[i].id));
		why[0] = '\0';
		rc = hub_codes_validate_row(db, rows[i].tbl, rows[i].op, row, why, sizeof why);
		if (rc != 0)
			fail_msg("%s %s: refused without faults: %s", rows[i].tbl, rows[i].id, why);
		/* The k-th allocation fails, for k = 1, 2, ... until the check
		 * no longer reaches it. */
		for (k = 1; k < 2000; k++) {
			why[0] = '\0';
			faultvfs_fail_at(FAULTVFS_MALLOC, k);
			rc = hub_codes_validate_row(db, rows[i].tbl, rows[i].op, row, why, sizeof why);
			int fired = faultvfs_fired();
			faultvfs_fail_at(FAULTVFS_NONE, 0);
			if (rc == MODEL_CHECK_AGAIN) {
				assert_true(fired);
				assert_true(why[0] != '\0');
				again++;
			} else if (rc != 0) {
				fail_msg("%s: allocation %d failed and the valid row was refused: %s",
					 rows[i].tbl, k, why);
			}
			if (!fired)
				break;
		}
		assert_true(k < 2000);
		/* Each of these checks reads the database, so some failure
		 * must have reached it. */
		if (again == 0)
			fail_msg("%s: no allocation failure was told as a failed check", rows[i].tbl);
		cJSON_Delete(row);
	}
	sqlite3_close(db);
}

/* A restore's change-log gap (hub_backup.c): the seqs handed out after the
 * backup, before the restore, are in it; the restored head the log goes on
 * from is not (a snapshot names it before anything new is written). */
static void test_restore_gap_ends_before_the_restored_head(void **state)
{
	sqlite3 *db = NULL;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(db_exec(db, "CREATE TABLE sync_ctx(k TEXT PRIMARY KEY, v TEXT);"
				     "INSERT INTO sync_ctx VALUES('log_gaps', '5-1000000005,"
				     "1000000020-2000000020')"), 0);
	assert_int_equal(hub_log_in_gap(db, 5), 0);
	assert_int_equal(hub_log_in_gap(db, 6), 1);
	assert_int_equal(hub_log_in_gap(db, 1000000004), 1);
	assert_int_equal(hub_log_in_gap(db, 1000000005), 0);
	assert_int_equal(hub_log_in_gap(db, 1000000006), 0);
	assert_int_equal(hub_log_in_gap(db, 1000000021), 1);
	assert_int_equal(hub_log_in_gap(db, 2000000020), 0);
	sqlite3_close(db);
}

/*
 * SLO 34-19: "Case notes are required for every activity".  An office
 * writes an activity and its activity case note in one write; the hub
 * quarantines a new activity pushed without it (merged one by one, or in
 * the grouped apply, where the note is in before the check), and takes one
 * with it.  A row it already holds, sent again, is not judged again (an
 * activity of before this rule keeps its place).
 */
#define ACT_ALONE "0190a000-0000-7000-8000-00000000e511"
#define ACT_NOTED "0190a000-0000-7000-8000-00000000e512"
#define NOTE_OF "0190a000-0000-7000-8000-00000000e612"
#define ACT_OLD "0190a000-0000-7000-8000-00000000e513"
#define NOTE_WHY "an activity is entered with its activity case note"

static const sync_scope scope_a = {"nodeA", DEMO_OFFICE, DEMO_LOCAL_AREA};

/* The activity code's subject and the SQL of an activity (id) of today,
 * its activity note (note id, or none) after it. */
static char *activity_sql(sqlite3 *hdb, const char *id, const char *note)
{
	char code[16] = "", title[160] = "", subject[200];
	long long now = (long long)time(NULL) * 1000;
	char *act, *sql;

	assert_int_equal(db_text(hdb, "SELECT code FROM participant_activity_codes WHERE status='active'"
				      " ORDER BY code LIMIT 1", NULL, code, sizeof code), 0);
	assert_int_equal(db_text(hdb, "SELECT title FROM participant_activity_codes WHERE code=?", code,
				 title, sizeof title), 0);
	assert_int_equal(case_activity_subject(code, title, subject, sizeof subject), 0);
	act = sqlite3_mprintf("INSERT INTO participant_activities(id, participant_id, local_area_id,"
			      " office_id, code, start_date, staff_id, entered_date, entered_at) VALUES(%Q,"
			      " %Q, '%q', '%q', %Q, %Q, 'demo-staff', %Q, %lld)",
			      id, PART, DEMO_LOCAL_AREA, DEMO_OFFICE, code, today, today, now);
	if (note == NULL)
		return act;
	sql = sqlite3_mprintf("%s; INSERT INTO case_notes(id, participant_id, local_area_id, office_id,"
			      " kind, activity_id, subject, contact_date, body, staff_id, entered_date,"
			      " entered_at) VALUES(%Q, %Q, '%q', '%q', 'activity', %Q, %Q, %Q, 'Met to plan"
			      " the training', 'demo-staff', %Q, %lld)",
			      act, note, PART, DEMO_LOCAL_AREA, DEMO_OFFICE, id, subject, today, today, now);
	sqlite3_free(act);
	return sql;
}

/* An office's database holding what the hub of hub_with_rows() sent it. */
static sqlite3 *office_db(void)
{
	sqlite3 *a = st_open_db(0);

	assert_int_equal(demo_seed_reference(a, "000000000001.0000.hub"), 0);
	run(a, "INSERT INTO participants(id, local_area_id, office_id, first_name, last_name,"
	       " birth_date, registered_date, registered_at, updated_hlc) VALUES(%Q, '%q', '%q',"
	       " 'Ana', 'Reyes', '1990-04-02', '2020-01-06', 1, '000000000001.0000.hub')",
	    PART, DEMO_LOCAL_AREA, DEMO_OFFICE);
	return a;
}

static void test_activity_comes_with_its_note(void **state)
{
	sqlite3 *hdb = hub_with_rows(), *a = office_db();
	char *sql;
	st_pushed p;

	(void)state;
	sync_set_validator(hub_codes_validate_row);
	/* One by one: alone, refused with the reason; with its note, taken. */
	sql = activity_sql(hdb, ACT_ALONE, NULL);
	st_node_write(a, "demo-staff", "000000001000.0000.nodeA", "%s", sql);
	sqlite3_free(sql);
	st_push_refused(hdb, a, &scope_a, "participant_activities: " NOTE_WHY);
	sql = activity_sql(hdb, ACT_NOTED, NOTE_OF);
	st_node_write(a, "demo-staff", "000000001100.0000.nodeA", "%s", sql);
	sqlite3_free(sql);
	p = st_push(hdb, a, &scope_a);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(p.applied, 1);
	assert_int_equal(db_int(hdb, "SELECT count(*) FROM participant_activities WHERE id IN ('"
				     ACT_ALONE "', '" ACT_NOTED "')", -1), 1);
	/* An activity the hub held before the rule, without a note, sent
	 * again as it is: taken, not judged again. */
	sql = activity_sql(hdb, ACT_OLD, NULL);
	run(hdb, "%s", sql);
	st_node_write(a, "demo-staff", "000000001200.0000.nodeA", "%s", sql);
	sqlite3_free(sql);
	p = st_push(hdb, a, &scope_a);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(p.applied, 1);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(hdb);
}

/* The same in the grouped apply of a push (the note's row is in before the
 * activity is checked): the activity alone is held, the one with its note
 * taken. */
static void test_activity_comes_with_its_note_grouped(void **state)
{
	sqlite3 *hdb = hub_with_rows(), *a = office_db();
	sync_apply_cache *c = sync_apply_cache_new(hdb);
	sync_apply_result r[2];
	sync_entry es[2];
	sqlite3_stmt *st;
	char *sql;
	int n = 0;

	(void)state;
	assert_non_null(c);
	sql = activity_sql(hdb, ACT_ALONE, NULL);
	st_node_write(a, "demo-staff", "000000001000.0000.nodeA", "%s", sql);
	sqlite3_free(sql);
	sql = activity_sql(hdb, ACT_NOTED, NOTE_OF);
	st_node_write(a, "demo-staff", "000000001100.0000.nodeA", "%s", sql);
	sqlite3_free(sql);
	assert_int_equal(db_prepare(a, &st, "SELECT seq, hlc, changeset FROM outbox ORDER BY seq"), 0);
	while (n < 2 && sqlite3_step(st) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		void *cs = malloc(len);

		assert_non_null(cs);
		memcpy(cs, sqlite3_column_blob(st, 2), len);
		es[n] = (sync_entry){sqlite3_column_int64(st, 0),
				     strdup((const char *)sqlite3_column_text(st, 1)), NULL, cs, len};
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, 2);
	sync_set_validator(hub_codes_validate_row);
	sync_set_batch_min_rows(1);
	(void)st_apply_batch(hdb, c, &scope_a, es, n, r);
	sync_set_batch_min_rows(SYNC_BATCH_MIN_ROWS);
	sync_set_validator(NULL);
	assert_int_equal(r[0].applied, 0);
	if (strstr(r[0].reason, NOTE_WHY) == NULL)
		fail_msg("refused for \"%s\", expected \"%s\"", r[0].reason, NOTE_WHY);
	assert_int_equal(r[1].applied, 1);
	assert_int_equal(db_int(hdb, "SELECT count(*) FROM participant_activities WHERE id IN ('"
				     ACT_ALONE "', '" ACT_NOTED "')", -1), 1);
	for (int i = 0; i < n; i++) {
		free((void *)es[i].hlc);
		free((void *)es[i].changeset);
	}
	sync_apply_cache_free(c);
	sqlite3_close(a);
	sqlite3_close(hdb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_failures_are_never_refusals),
		cmocka_unit_test(test_activity_comes_with_its_note),
		cmocka_unit_test(test_activity_comes_with_its_note_grouped),
		cmocka_unit_test(test_restore_gap_ends_before_the_restored_head),
	};

	if (faultvfs_install() != 0) {
		fprintf(stderr, "cannot install the fault VFS\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
