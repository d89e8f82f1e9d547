/*
 * test_case.c - case-work rules (model/casework.c) with an injected clock
 * ("today" passed in) at their boundaries: backdating 30/31 and 90/91 days,
 * 5-day note and 5-business-day entry timeliness across a weekend, the
 * 30-day note cadence, the soft exit on day 89/90 with warnings at 60, 75 and
 * 85, follow-up only after exit and its four quarters, the activity note's
 * subject and contact date, the pseudo-SSN (975-25-0577 for 25 May 1977),
 * SSN format, mask and protection; the seeded code lists; and case rows
 * through the hub's real apply path (sync_hub_apply with
 * model_hub_validate_row): a participant and its activity with its note are
 * applied, a case-note edit and a row from another Local Area are
 * quarantined, an exit is never reversed, backdating needs its approval;
 * the refusal of a row naming another Local Area's participant is the one
 * of a row naming none (no probing for ids).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/clock.h"
#include "lib/db.h"
#include "model/capture.h"
#include "model/casework.h"
#include "model/case_forms.h"
#include "model/crm.h"
#include "model/demo.h"
#include "model/schema.h"
#include "sync/sync.h"
#include "synctest.h"
#include "testutil.h"

static void test_backdating(void **state)
{
	int d;

	(void)state;
	assert_int_equal(case_backdate_check("2026-03-15", "2026-03-15", &d), CASE_BD_OK);
	assert_int_equal(d, 0);
	/* 30 days: free; 31: approval. */
	assert_int_equal(case_backdate_check("2026-02-13", "2026-03-15", &d), CASE_BD_OK);
	assert_int_equal(d, 30);
	assert_int_equal(case_backdate_check("2026-02-12", "2026-03-15", &d), CASE_BD_NEEDS_APPROVAL);
	assert_int_equal(d, 31);
	/* 90 days: with approval; 91: never. */
	assert_int_equal(case_backdate_check("2025-12-15", "2026-03-15", &d), CASE_BD_NEEDS_APPROVAL);
	assert_int_equal(d, 90);
	assert_int_equal(case_backdate_check("2025-12-14", "2026-03-15", &d), CASE_BD_TOO_OLD);
	assert_int_equal(d, 91);
	assert_int_equal(case_backdate_check("2026-03-16", "2026-03-15", &d), CASE_BD_FUTURE);
	assert_int_equal(case_backdate_check("2026-02-30", "2026-03-15", &d), CASE_BD_INVALID);
	assert_int_equal(case_backdate_check(NULL, "2026-03-15", NULL), CASE_BD_INVALID);
	/* Across a leap day. */
	assert_int_equal(case_backdate_check("2024-01-30", "2024-02-29", &d), CASE_BD_OK);
	assert_int_equal(d, 30);
	assert_non_null(strstr(case_backdate_msg(CASE_BD_TOO_OLD), "90"));
}

static void test_timeliness(void **state)
{
	char dl[11];

	(void)state;
	/* Wednesday 2026-03-11: + 5 business days = Wednesday 2026-03-18. */
	assert_int_equal(case_entry_deadline("2026-03-11", dl), 0);
	assert_string_equal(dl, "2026-03-18");
	/* Friday 2026-03-13: Mon..Fri -> Friday 2026-03-20 (weekend skipped). */
	assert_int_equal(case_entry_deadline("2026-03-13", dl), 0);
	assert_string_equal(dl, "2026-03-20");
	assert_int_equal(case_entry_timely("2026-03-13", "2026-03-20"), 1);
	assert_int_equal(case_entry_timely("2026-03-13", "2026-03-21"), 0);
	/* A service on Saturday: the next five weekdays. */
	assert_int_equal(case_entry_deadline("2026-03-14", dl), 0);
	assert_string_equal(dl, "2026-03-20");
	/* Thursday: the weekend in the middle. */
	assert_int_equal(case_entry_deadline("2026-03-12", dl), 0);
	assert_string_equal(dl, "2026-03-19");
	assert_int_equal(case_add_business_days("2026-03-13", 1, dl), 0);
	assert_string_equal(dl, "2026-03-16");
	/* State holidays are not business days: Wednesday 2026-11-25, then
	 * Thanksgiving and the day after, the weekend -> Friday 2026-12-04. */
	assert_int_equal(case_entry_deadline("2026-11-25", dl), 0);
	assert_string_equal(dl, "2026-12-04");
	assert_int_equal(case_entry_timely("2026-11-25", "2026-12-03"), 1);
	/* A case note: 5 calendar days, weekend or not. */
	assert_int_equal(case_note_deadline("2026-03-13", dl), 0);
	assert_string_equal(dl, "2026-03-18");
	assert_int_equal(case_note_timely("2026-03-13", "2026-03-18"), 1);
	assert_int_equal(case_note_timely("2026-03-13", "2026-03-19"), 0);
	assert_int_equal(case_note_timely("bad", "2026-03-19"), -1);
	/* A note every 30 days. */
	assert_int_equal(case_note_next_due("2026-03-01", dl), 0);
	assert_string_equal(dl, "2026-03-31");
	assert_int_equal(case_note_next_due("2026-02-28", dl), 0);
	assert_string_equal(dl, "2026-03-30");
	assert_int_equal(case_note_next_due("x", dl), -1);
}

static void test_soft_exit(void **state)
{
	case_exit e;

	(void)state;
	assert_int_equal(case_soft_exit("2026-01-01", "2026-01-01", &e), 0);
	assert_int_equal(e.exited, 0);
	assert_int_equal(e.warn_level, 0);
	assert_string_equal(e.exit_date, "2026-04-01");
	/* Day 59 / 60: first warning and the closure form prompt. */
	assert_int_equal(case_soft_exit("2026-01-01", "2026-03-01", &e), 0);
	assert_int_equal(e.days_since, 59);
	assert_int_equal(e.warn_level, 0);
	assert_int_equal(e.closure_prompt, 0);
	assert_int_equal(case_soft_exit("2026-01-01", "2026-03-02", &e), 0);
	assert_int_equal(e.warn_level, 60);
	assert_int_equal(e.closure_prompt, 1);
	/* 74 / 75, 84 / 85. */
	assert_int_equal(case_soft_exit("2026-01-01", "2026-03-16", &e), 0);
	assert_int_equal(e.days_since, 74);
	assert_int_equal(e.warn_level, 60);
	assert_int_equal(case_soft_exit("2026-01-01", "2026-03-17", &e), 0);
	assert_int_equal(e.warn_level, 75);
	assert_int_equal(case_soft_exit("2026-01-01", "2026-03-26", &e), 0);
	assert_int_equal(e.warn_level, 75);
	assert_int_equal(case_soft_exit("2026-01-01", "2026-03-27", &e), 0);
	assert_int_equal(e.warn_level, 85);
	/* Day 89: still open, one day left; day 90: exited. */
	assert_int_equal(case_soft_exit("2026-01-01", "2026-03-31", &e), 0);
	assert_int_equal(e.days_since, 89);
	assert_int_equal(e.exited, 0);
	assert_int_equal(e.days_left, 1);
	assert_int_equal(case_soft_exit("2026-01-01", "2026-04-01", &e), 0);
	assert_int_equal(e.days_since, 90);
	assert_int_equal(e.exited, 1);
	assert_int_equal(e.days_left, 0);
	assert_int_equal(case_soft_exit("2026-01-01", "2027-01-01", &e), 0);
	assert_int_equal(e.exited, 1);
	/* A service dated after today restarts the clock from zero. */
	assert_int_equal(case_soft_exit("2026-01-05", "2026-01-01", &e), 0);
	assert_int_equal(e.days_since, 0);
	assert_int_equal(case_soft_exit("nope", "2026-01-01", &e), -1);
	/* Codes after exit: follow-up only, and follow-up only after exit. */
	assert_null(case_code_allowed(0, 0));
	assert_null(case_code_allowed(1, 1));
	assert_non_null(strstr(case_code_allowed(1, 0), "follow-up"));
	assert_non_null(case_code_allowed(0, 1));
}

static void test_followup_quarters(void **state)
{
	char s[11], e[11];

	(void)state;
	assert_int_equal(case_followup_quarter("2026-04-01", 1, s, e), 0);
	assert_string_equal(s, "2026-04-01");
	assert_string_equal(e, "2026-06-30");
	assert_int_equal(case_followup_quarter("2026-04-01", 4, s, e), 0);
	assert_string_equal(s, "2027-01-01");
	assert_string_equal(e, "2027-03-31");
	/* Month ends clamp: exit 30 November -> quarter 1 ends 27 February. */
	assert_int_equal(case_followup_quarter("2026-11-30", 1, s, e), 0);
	assert_string_equal(e, "2027-02-27");
	assert_int_equal(case_add_months("2024-01-31", 1, s), 0);
	assert_string_equal(s, "2024-02-29");
	assert_int_equal(case_add_months("2026-12-15", 3, s), 0);
	assert_string_equal(s, "2027-03-15");
	assert_int_equal(case_followup_quarter("2026-04-01", 0, s, e), -1);
	assert_int_equal(case_followup_quarter("2026-04-01", 5, s, e), -1);
}

static void test_activity_note(void **state)
{
	char subj[64];

	(void)state;
	assert_int_equal(case_activity_subject("102", "Initial Assessment", subj, sizeof subj), 0);
	assert_string_equal(subj, "102 Initial Assessment");
	assert_int_equal(case_activity_subject("102", "Initial Assessment", subj, 8), -1);
	assert_null(case_activity_note_check("102 Initial Assessment", "2026-03-02", "102",
					     "Initial Assessment", "2026-03-02"));
	assert_string_equal(case_activity_note_check("Initial Assessment", "2026-03-02", "102",
						     "Initial Assessment", "2026-03-02"), "subject");
	assert_string_equal(case_activity_note_check("102 Initial Assessment", "2026-03-03", "102",
						     "Initial Assessment", "2026-03-02"), "contact_date");
	/* A note needs visible text: white space, no-break and zero-width
	 * characters alone are none. */
	assert_int_equal(case_text_visible("Called, no answer."), 1);
	assert_int_equal(case_text_visible("  x\n"), 1);
	assert_int_equal(case_text_visible("\xc3\xa9"), 1);          /* e acute */
	assert_int_equal(case_text_visible("\xe2\x80\x8b" "A"), 1);     /* ZWSP, then A */
	assert_int_equal(case_text_visible("\xf0\x9f\x93\x9e"), 1); /* a telephone */
	assert_int_equal(case_text_visible("\xe2\x80"), 1);         /* cut short: not blank */
	assert_int_equal(case_text_visible(NULL), 0);
	assert_int_equal(case_text_visible(""), 0);
	assert_int_equal(case_text_visible("   "), 0);
	assert_int_equal(case_text_visible("\n\t \r\v\f"), 0);
	assert_int_equal(case_text_visible("\xc2\xa0"), 0);         /* NBSP */
	assert_int_equal(case_text_visible("\xe2\x80\x8b\xe2\x80\x8d"), 0); /* ZWSP, ZWJ */
	assert_int_equal(case_text_visible("\xe3\x80\x80\xef\xbb\xbf \xe2\x81\xa0"), 0);
	assert_int_equal(case_text_visible("\xe2\x80\xa8\xe2\x80\xaf\xc2\x85"), 0);
}

/* A measurable skill gain: one of WIOA's five types, every other field
 * filled (N/A allowed), checked the same at the office and the hub. */
static void test_skill_gain_fields(void **state)
{
	cJSON *f = cJSON_Parse("{\"gain_type\":\"Training milestone\",\"program\":\"N/A\","
			       "\"achievement\":\"120 hours\",\"documentation\":\"report\"}");

	(void)state;
	assert_non_null(case_form_fields("skill_gain"));
	assert_int_equal(case_form_check("skill_gain", f, NULL, NULL), 0);
	cJSON_ReplaceItemInObject(f, "gain_type", cJSON_CreateString("N/A"));
	assert_int_equal(case_form_check("skill_gain", f, NULL, NULL), 1);
	cJSON_ReplaceItemInObject(f, "gain_type", cJSON_CreateString("training milestone"));
	assert_int_equal(case_form_check("skill_gain", f, NULL, NULL), 1);
	cJSON_DeleteItemFromObject(f, "program");
	assert_int_equal(case_form_check("skill_gain", f, NULL, NULL), 2);
	cJSON_Delete(f);
}

static void test_ssn(void **state)
{
	char p[12], d[10], m[12], enc[CASE_SSN_ENC_MAX + 1], enc2[CASE_SSN_ENC_MAX + 1], h[65],
	    h2[65];
	unsigned char key[CASE_KEY_LEN], other[CASE_KEY_LEN];

	(void)state;
	assert_int_equal(case_pseudo_ssn("1977-05-25", p), 0);
	assert_string_equal(p, "975-25-0577");
	assert_int_equal(case_pseudo_ssn("2001-12-01", p), 0);
	assert_string_equal(p, "975-01-1201");
	assert_int_equal(case_pseudo_ssn("1977-02-30", p), -1);
	assert_int_equal(case_ssn_digits("975-25-0577", d), 0);
	assert_string_equal(d, "975250577");
	assert_int_equal(case_ssn_digits("123 45 6789", d), 0);
	assert_int_equal(case_ssn_digits("123456789", d), 0);
	assert_int_equal(case_ssn_digits("12345678", d), -1);
	assert_int_equal(case_ssn_digits("1234567890", d), -1);
	assert_int_equal(case_ssn_digits("000-12-3456", d), -1);
	assert_int_equal(case_ssn_digits("666-12-3456", d), -1);
	assert_int_equal(case_ssn_digits("123-00-3456", d), -1);
	assert_int_equal(case_ssn_digits("123-45-0000", d), -1);
	assert_int_equal(case_ssn_digits("12-345-6789", d), -1);
	assert_int_equal(case_ssn_digits("123-45-678a", d), -1);
	/* 9xx: the pseudo-SSN range, never a real SSN (a pseudo-SSN still
	 * parses: the search and the pseudo-SSN path read it). */
	assert_int_equal(case_ssn_digits("975-25-0577", d), 0);
	assert_non_null(case_ssn_real_check(d));
	assert_non_null(strstr(case_ssn_real_check(d), "pseudo-SSN"));
	assert_int_equal(case_ssn_digits("900-12-3456", d), 0);
	assert_non_null(case_ssn_real_check(d));
	assert_int_equal(case_ssn_digits("999 99 9999", d), 0);
	assert_non_null(case_ssn_real_check(d));
	assert_int_equal(case_ssn_digits("899-12-3456", d), 0);
	assert_null(case_ssn_real_check(d));
	assert_int_equal(case_ssn_digits("123456789", d), 0);
	assert_null(case_ssn_real_check(d));
	case_ssn_mask("6789", m);
	assert_string_equal(m, "***-**-6789");
	memset(key, 7, sizeof key);
	memset(other, 8, sizeof other);
	assert_int_equal(case_ssn_protect(key, 1, "p1", "123456789", enc, h), 0);
	assert_int_equal(strlen(enc), 2 * (12 + 9 + 16));
	assert_null(strstr(enc, "123456789"));
	assert_int_equal(case_ssn_epoch(enc), 1); /* epoch 1: as stored before epochs */
	assert_int_equal(case_ssn_protect(key, 1, "p1", "123456789", enc2, h2), 0);
	assert_string_not_equal(enc, enc2); /* fresh nonce */
	assert_string_equal(h, h2);         /* stable search key */
	assert_int_equal(case_ssn_reveal(key, "p1", enc, d), 0);
	assert_string_equal(d, "123456789");
	/* Another key, another participant or a flipped byte: refused. */
	assert_int_equal(case_ssn_reveal(other, "p1", enc, d), -1);
	assert_int_equal(case_ssn_reveal(key, "p2", enc, d), -1);
	/* A later epoch says so in front; the hash is the key's as before. */
	assert_int_equal(case_ssn_protect(key, 12, "p1", "123456789", enc2, h2), 0);
	assert_int_equal(strncmp(enc2, "e12:", 4), 0);
	assert_int_equal(strlen(enc2), 4 + 2 * (12 + 9 + 16));
	assert_int_equal(case_ssn_epoch(enc2), 12);
	assert_string_equal(h, h2);
	assert_int_equal(case_ssn_reveal(key, "p1", enc2, d), 0);
	assert_string_equal(d, "123456789");
	assert_int_equal(case_ssn_protect(key, CASE_KEY_EPOCH_MAX, "p1", "123456789", enc2, h2), 0);
	assert_true(strlen(enc2) <= CASE_SSN_ENC_MAX);
	assert_int_equal(case_ssn_protect(key, 0, "p1", "123456789", enc2, h2), -1);
	assert_int_equal(case_ssn_protect(key, CASE_KEY_EPOCH_MAX + 1, "p1", "123456789", enc2, h2), -1);
	{
		static const char *const bad[] = {"e1:", "e0:", "e02:", "e:", "e2", "e2;", "x2:"};
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			char b[CASE_SSN_ENC_MAX + 8];
			snprintf(b, sizeof b, "%s%s", bad[i], enc);
			assert_int_equal(case_ssn_epoch(b), -1);
			assert_int_equal(case_ssn_reveal(key, "p1", b, d), -1);
		}
	}
	/* Epoch 1's hex starts with an 'e' one time in 16: still epoch 1. */
	for (int i = 0; i < 200; i++) {
		assert_int_equal(case_ssn_protect(key, 1, "p1", "123456789", enc2, h2), 0);
		assert_int_equal(case_ssn_epoch(enc2), 1);
		assert_int_equal(case_ssn_reveal(key, "p1", enc2, d), 0);
	}
	assert_int_equal(case_ssn_epoch(NULL), -1);
	assert_int_equal(case_ssn_epoch("abc"), -1);
	enc[30] = enc[30] == '0' ? '1' : '0';
	assert_int_equal(case_ssn_reveal(key, "p1", enc, d), -1);
	assert_int_equal(case_skew_flag(0), 0);
	assert_int_equal(case_skew_flag(CASE_SKEW_WARN_MS), 0);
	assert_int_equal(case_skew_flag(CASE_SKEW_WARN_MS + 1), 1);
	assert_int_equal(case_skew_flag(-CASE_SKEW_WARN_MS - 1), 1);
}

/* ---- database ------------------------------------------------------------- */

static sqlite3 *open_db(int hub)
{
	sqlite3 *db = st_open_db(hub);

	assert_int_equal(demo_seed_reference(db, "000000000001.0000.hub"), 0);
	assert_int_equal(case_seed_reference(db, "000000000001.0000.hub"), 0);
	assert_int_equal(db_exec(db, "INSERT INTO local_areas(id, name, updated_hlc)"
				     " VALUES('other-la','Other','000000000001.0000.hub');"
				     "INSERT INTO offices(id, local_area_id, name, updated_hlc)"
				     " VALUES('other-office','other-la','Other AJCC','000000000001.0000.hub')"),
			 0);
	return db;
}

static void test_schema_and_seed(void **state)
{
	sqlite3 *db = open_db(1);
	unsigned char k[CASE_KEY_LEN];

	(void)state;
	ST_KIND(TK_MUTABLE, "participants");
	ST_KIND(TK_APPEND_ONLY, "case_notes", "participant_activities", "backdate_approvals",
		"participant_exits");
	ST_KIND(TK_HUB_OWNED, "participant_activity_codes", "followup_codes");
	ST_SCOPE(SCOPE_LOCAL_AREA, "participants", "case_notes", "case_keys");
	assert_string_equal(schema_table("participants")->td_final_col, "exit_state");
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_activity_codes", -1), 170);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_activity_codes WHERE restarts_exit_clock=1", -1), 123);
	assert_int_equal(db_int(db, "SELECT restarts_exit_clock FROM participant_activity_codes WHERE code='102'", -1), 1);
	assert_int_equal(db_int(db, "SELECT restarts_exit_clock FROM participant_activity_codes WHERE code='002'", -1), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM followup_codes", -1), 20);
	assert_int_equal(db_int(db, "SELECT count(*) FROM followup_codes WHERE restarts_exit_clock=1", -1), 0);
	/* Idempotent. */
	assert_int_equal(case_seed_reference(db, "000000000002.0000.hub"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM followup_codes", -1), 20);
	/* Keys: one per Local Area, made once. */
	assert_int_equal(case_key_load(db, DEMO_LOCAL_AREA, k), 1);
	assert_int_equal(case_ensure_keys(db, "000000000003.0000.hub", 1), 2);
	assert_int_equal(case_ensure_keys(db, "000000000004.0000.hub", 1), 0);
	assert_int_equal(case_key_load(db, DEMO_LOCAL_AREA, k), 0);
	/* The key row is logged for the Local Area only. */
	assert_int_equal(db_int(db, "SELECT count(*) FROM change_log WHERE tbl='case_keys' AND scope_la='demo-la'", -1), 1);
	/* After the hub's start-up, a Local Area created by any path gets a
	 * fresh key at once. */
	assert_int_equal(case_hub_prepare(db, "hub"), 0);
	assert_int_equal(db_exec(db, "INSERT INTO local_areas(id, name, updated_hlc)"
				     " VALUES('la-new','New','000000000005.0000.hub')"), 0);
	assert_int_equal(case_key_load(db, "la-new", k), 0);
	assert_int_equal(db_int(db, "SELECT length(key_hex) FROM case_keys WHERE id='la-new'", -1), 64);
	assert_int_equal(db_int(db, "SELECT count(DISTINCT key_hex) FROM case_keys", -1), 3);
	assert_int_equal(db_int(db, "SELECT count(*) FROM change_log WHERE tbl='case_keys' AND scope_la='la-new'", -1), 1);
	sqlite3_close(db);
}

static const sync_scope scope_a = {"nodeA", DEMO_OFFICE, DEMO_LOCAL_AREA};
static const sync_scope scope_other = {"nodeX", "other-office", "other-la"};

#define node_write(node, hlc, ...) st_node_write(node, "demo-staff", hlc, __VA_ARGS__)

#define P1 "0190b000-0000-7000-8000-00000000e001"
#define A1 "0190b000-0000-7000-8000-00000000e101"
#define N1 "0190b000-0000-7000-8000-00000000e201"
#define N2 "0190b000-0000-7000-8000-00000000e202"

static const char insert_participant[] =
	"INSERT INTO participants(id, local_area_id, office_id, first_name, last_name, birth_date,"
	" ssn_kind, registered_date, registered_at, registered_by, updated_hlc)"
	" VALUES(%Q,%Q,%Q,'Ana','Reyes','1977-05-25','none','2026-01-15',1,'demo-staff',%Q)";
static const char insert_activity[] =
	"INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
	" code_list, start_date, staff_id, entered_date, entered_at, backdate_days, approval_id)"
	" VALUES(%Q,%Q,'demo-la','demo-office',%Q,'activity',%Q,'demo-staff',%Q,%lld,%d,%Q)";

/* Noon UTC of a date, as ms: the entry time a node would record. */
static long long noon(const char *date)
{
	return (long long)clock_days_between("1970-01-01", date) * 86400000LL + 43200000LL;
}
static const char insert_note[] =
	"INSERT INTO case_notes(id, participant_id, local_area_id, office_id, kind, activity_id,"
	" subject, contact_date, body, staff_id, amends_id, entered_date, entered_at)"
	" VALUES(%Q,%Q,'demo-la','demo-office',%Q,%Q,%Q,%Q,'Met with the participant.','demo-staff',%Q,"
	"'2026-03-02',1772452800000)";

#define R1 "0190b000-0000-7000-8000-00000000f001"
#define A9 "0190b000-0000-7000-8000-00000000f101"
static const char insert_decision[] =
	"INSERT INTO case_approval_decisions(id, request_id, participant_id, local_area_id,"
	" office_id, role, staff_id, decision, decided_date, decided_at) VALUES(%Q,'" R1 "','" P1 "',"
	"'demo-la','demo-office',%Q,%Q,'approved','2026-03-05',1)";

/* Approvals as records of real accounts: a request for one entry and one
 * date; decisions only by holders of the role, never the requester's, once
 * per role; an approval never serves another entry. */
static void test_hub_apply_approvals(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	st_pushed p;

	(void)state;
	sync_set_validator(model_hub_validate_row);
	assert_int_equal(db_exec(hub, "INSERT INTO case_approver_roles(id, staff_id, local_area_id, role,"
				      " granted_at) VALUES('0190a000-0000-7000-8000-0000000000b1:dss_program_manager',"
				      " '0190a000-0000-7000-8000-0000000000b1', 'demo-la', 'dss_program_manager', 1)"),
			 0);
	node_write(a, "000000001000.0000.nodeA", insert_participant, P1, DEMO_LOCAL_AREA, DEMO_OFFICE,
		   "000000001000.0000.nodeA");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	/* 43 days back, with its request, in one write. */
	{
		char *s1 = sqlite3_mprintf(insert_activity, A9, P1, "102", "2026-01-20", "2026-03-04",
					   noon("2026-03-04"), 43, R1);
		char *both = sqlite3_mprintf(
			"%s;INSERT INTO case_approval_requests(id, participant_id, local_area_id, office_id,"
			" kind, entry_table, entry_id, entry_date, requested_by, requested_at) VALUES('" R1 "',"
			"'" P1 "','demo-la','demo-office','backdate','participant_activities','" A9 "',"
			"'2026-01-20','demo-staff',1)", s1);
		node_write(a, "000000001100.0000.nodeA", "%s", both);
		sqlite3_free(s1);
		sqlite3_free(both);
	}
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	/* Decisions: by an account without the role, by the requester. */
	node_write(a, "000000001200.0000.nodeA", insert_decision, "0190b000-0000-7000-8000-00000000f201",
		   "dss_program_manager", "0190a000-0000-7000-8000-0000000000b3");
	st_push_refused(hub, a, &scope_a, "does not hold");
	node_write(a, "000000001210.0000.nodeA", insert_decision, "0190b000-0000-7000-8000-00000000f202",
		   "dss_program_manager", "demo-staff");
	st_push_refused(hub, a, &scope_a, "own request");
	node_write(a, "000000001220.0000.nodeA", insert_decision, "0190b000-0000-7000-8000-00000000f203",
		   "dss_wioa", "0190a000-0000-7000-8000-0000000000b1");
	assert_non_null(strstr(st_push(hub, a, &scope_a).reason, "does not decide"));
	/* The holder, once. */
	node_write(a, "000000001230.0000.nodeA", insert_decision, "0190b000-0000-7000-8000-00000000f204",
		   "dss_program_manager", "0190a000-0000-7000-8000-0000000000b1");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	node_write(a, "000000001240.0000.nodeA", insert_decision, "0190b000-0000-7000-8000-00000000f205",
		   "dss_program_manager", "0190a000-0000-7000-8000-0000000000b1");
	st_push_refused(hub, a, &scope_a, "already decided");
	/* The same request for another entry: refused. */
	node_write(a, "000000001300.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000f102",
		   P1, "115", "2026-01-20", "2026-03-04", noon("2026-03-04"), 43, R1);
	st_push_refused(hub, a, &scope_a, "another entry");
	/* A node of another Local Area deciding R1 is told what it is told of
	 * a request that does not exist: nothing of which ids are taken. */
	{
		static const char other_decision[] =
		    "INSERT INTO case_approval_decisions(id, request_id, participant_id, local_area_id,"
		    " office_id, role, staff_id, decision, decided_date, decided_at) VALUES(%Q,%Q,'" P1
		    "','other-la','other-office','dss_program_manager','other-staff','approved',"
		    "'2026-03-05',1)";
		sqlite3 *x = open_db(0);
		st_pushed theirs, none;

		node_write(x, "000000001400.0000.nodeX", other_decision,
			   "0190b000-0000-7000-8000-00000000f206", R1);
		theirs = st_push(hub, x, &scope_other);
		node_write(x, "000000001410.0000.nodeX", other_decision,
			   "0190b000-0000-7000-8000-00000000f207", "0190b000-0000-7000-8000-00000000dead");
		none = st_push(hub, x, &scope_other);
		assert_int_equal(theirs.quarantined, 1);
		assert_int_equal(none.quarantined, 1);
		assert_string_equal(theirs.reason, none.reason);
		assert_non_null(strstr(none.reason, "no such request"));
		sqlite3_close(x);
	}
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(hub);
}

/* A node answered about a participant id outside its Local Area learns
 * nothing of it: a row naming another Local Area's participant is refused
 * with the same reason as one naming no participant at all, by every
 * check that reads the participant (the rows of case work, a Help
 * Request, a job referral) - else a hostile node could probe the ids of
 * other areas. */
static void test_hub_participant_ids_tell_nothing(void **state)
{
	static const char *const rows[] = {
		"INSERT INTO case_notes(id, participant_id, local_area_id, office_id, kind, subject,"
		" contact_date, body, entered_date, entered_at) VALUES(%Q,%Q,'other-la','other-office',"
		"'standalone','s','2026-03-02','b','2026-03-02',1772452800000)",
		"INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		" code_list, start_date, entered_date, entered_at, backdate_days) VALUES(%Q,%Q,'other-la',"
		"'other-office','102','activity','2026-03-02','2026-03-02',1772452800000,0)",
		"INSERT INTO participant_exits(id, participant_id, local_area_id, office_id, exit_date,"
		" recorded_at) VALUES(%Q,%Q,'other-la','other-office','2026-06-01',1780315200000)",
		"INSERT INTO case_approval_requests(id, participant_id, local_area_id, office_id, kind,"
		" entry_table, entry_id, entry_date, requested_by, requested_at) VALUES(%Q,%Q,'other-la',"
		"'other-office','backdate','participant_activities','e','2026-01-20','demo-staff',1)",
		"INSERT INTO job_referrals(id, participant_id, job_order_id, employer_id, local_area_id,"
		" referral_date, staff_id, created_at) VALUES(%Q,%Q,'job-1','emp-1','other-la',"
		"'2026-03-02','demo-staff',1)",
	};
	sqlite3 *hub = open_db(1), *a = open_db(0), *x = open_db(0);
	char hlc[64], id[64];
	int k = 0;

	(void)state;
	sync_set_validator(model_hub_validate_row);
	node_write(a, "000000001000.0000.nodeA", insert_participant, P1, DEMO_LOCAL_AREA, DEMO_OFFICE,
		   "000000001000.0000.nodeA");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	/* (a recruiting employer's job order, for the referral) */
	assert_int_equal(db_exec(hub, "INSERT INTO employers(id, account_type, company_name,"
				      " normalized_name, username, zip, zip5, edd_account_number, street,"
				      " city, state, phone, industry, created_at, status, updated_hlc)"
				      " VALUES('emp-1', 'recruiting', 'Kept Bakery', 'kept bakery',"
				      " 'KEPTBAK01', '95814', '95814', '1234567', '1 Main St', 'Sacramento',"
				      " 'CA', '(916) 555-0100', '4931', 1, 'active', '000000000001.0000.hub');"
				      "INSERT INTO job_orders(id, employer_id, title, openings, location, wage,"
				      " open_date, created_at, updated_hlc) VALUES('job-1', 'emp-1', 'Baker',"
				      " 2, 'Sacramento', 21.5, '2026-03-01', 1, '000000000001.0000.hub')"),
			 0);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		st_pushed theirs, none;

		snprintf(hlc, sizeof hlc, "%012d.0000.nodeX", 2000 + ++k);
		snprintf(id, sizeof id, "0190b000-0000-7000-8000-0000000c%04d", k);
		node_write(x, hlc, rows[i], id, P1);
		theirs = st_push(hub, x, &scope_other);
		snprintf(hlc, sizeof hlc, "%012d.0000.nodeX", 2000 + ++k);
		snprintf(id, sizeof id, "0190b000-0000-7000-8000-0000000c%04d", k);
		node_write(x, hlc, rows[i], id, "0190b000-0000-7000-8000-00000000dead");
		none = st_push(hub, x, &scope_other);
		assert_int_equal(theirs.quarantined, 1);
		assert_int_equal(none.quarantined, 1);
		assert_int_equal(theirs.applied, none.applied);
		if (strcmp(theirs.reason, none.reason) != 0)
			fail_msg("row %zu: another Local Area's participant: \"%s\"; none: \"%s\"", i,
				 theirs.reason, none.reason);
		assert_non_null(strstr(none.reason, "not a participant of this Local Area"));
	}
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(x);
	sqlite3_close(hub);
}

/* A participant with a protected real (or pseudo) SSN: its keyed hash is
 * all the hub compares. */
static void write_ssn_participant(sqlite3 *node, const char *hlc, const char *id,
				  const char *office, const char *kind, char hmac_char)
{
	char enc[75], mac[65];

	memset(enc, 'a', 74);
	enc[74] = '\0';
	memset(mac, hmac_char, 64);
	mac[64] = '\0';
	node_write(node, hlc,
		   "INSERT INTO participants(id, local_area_id, office_id, first_name, last_name,"
		   " birth_date, ssn_kind, ssn_enc, ssn_hmac, ssn_last4, registered_date, registered_at,"
		   " registered_by, updated_hlc) VALUES(%Q,'demo-la',%Q,'Ada','Okafor','1984-03-09',%Q,"
		   "%Q,%Q,'1849','2026-01-15',1,'demo-staff',%Q)",
		   id, office, kind, enc, mac, hlc);
}

/* The same real SSN registered at two offices while offline: the hub flags
 * the pair (once, in either order); a pseudo-SSN, shared by birth date by
 * design, is not flagged.  An office only reviews a flag: one it makes, or
 * one moved to another pair, is refused. */
static void test_hub_duplicate_flags(void **state)
{
	static const sync_scope scope_b = {"nodeB", DEMO_OFFICE2, DEMO_LOCAL_AREA};
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	char flag[64];
	st_pushed p;

	(void)state;
	sync_set_validator(model_hub_validate_row);
	write_ssn_participant(a, "000000001000.0000.nodeA", "0190b000-0000-7000-8000-0000000d0001",
			      DEMO_OFFICE, "real", '1');
	write_ssn_participant(b, "000000001001.0000.nodeB", "0190b000-0000-7000-8000-0000000d0002",
			      DEMO_OFFICE2, "real", '1');
	write_ssn_participant(a, "000000001002.0000.nodeA", "0190b000-0000-7000-8000-0000000d0003",
			      DEMO_OFFICE, "pseudo", '2');
	write_ssn_participant(b, "000000001003.0000.nodeB", "0190b000-0000-7000-8000-0000000d0004",
			      DEMO_OFFICE2, "pseudo", '2');
	write_ssn_participant(a, "000000001004.0000.nodeA", "0190b000-0000-7000-8000-0000000d0005",
			      DEMO_OFFICE, "real", '3');
	assert_int_equal(st_push(hub, a, &scope_a).quarantined, 0);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM participant_duplicate_flags", -1), 0);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.applied, 2);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM participant_duplicate_flags WHERE"
				     " participant_id='0190b000-0000-7000-8000-0000000d0002' AND"
				     " other_participant_id='0190b000-0000-7000-8000-0000000d0001' AND"
				     " reason='ssn' AND status='open' AND local_area_id='demo-la'", -1),
			 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM participant_duplicate_flags", -1), 1);
	assert_int_equal(db_text(hub, "SELECT id FROM participant_duplicate_flags", NULL, flag,
				 sizeof flag),
			 0);
	/* A flag made at an office: refused. */
	node_write(a, "000000002000.0000.nodeA",
		   "INSERT INTO participant_duplicate_flags(id, local_area_id, participant_id,"
		   " other_participant_id, reason, detected_at, updated_hlc) VALUES('f-evil','demo-la',"
		   "'0190b000-0000-7000-8000-0000000d0001','0190b000-0000-7000-8000-0000000d0005','ssn',1,"
		   "'000000002000.0000.nodeA')");
	st_push_refused(hub, a, &scope_a, "made at the hub");
	/* The hub's flag at office B (as a pull brings it), then reviewed. */
	node_write(b, "000000001005.0000.nodeB",
		   "INSERT INTO participant_duplicate_flags(id, local_area_id, participant_id,"
		   " other_participant_id, reason, detected_at, updated_hlc) SELECT %Q,'demo-la',"
		   "'0190b000-0000-7000-8000-0000000d0002','0190b000-0000-7000-8000-0000000d0001','ssn',1,"
		   "''", flag);
	db_exec(b, "DELETE FROM outbox"); /* as pulled: not the office's own write */
	/* Moved onto a pair of different SSNs: refused. */
	node_write(b, "000000003000.0000.nodeB",
		   "UPDATE participant_duplicate_flags SET other_participant_id="
		   "'0190b000-0000-7000-8000-0000000d0005', updated_hlc='000000003000.0000.nodeB'"
		   " WHERE id=%Q", flag);
	st_push_refused(hub, b, &scope_b, "no longer names");
	/* A review names staff of the Local Area. */
	assert_int_equal(db_exec(hub, "INSERT INTO staff(id, username, display_name, local_area_id,"
				      " privilege_group) VALUES('far-staff', 'far', 'Far', 'other-la',"
				      " 'LWIA/CBO Staff')"),
			 0);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM staff WHERE id='demo-staff' AND"
				     " local_area_id='demo-la'", -1),
			 1);
	node_write(b, "000000003050.0000.nodeB",
		   "UPDATE participant_duplicate_flags SET other_participant_id="
		   "'0190b000-0000-7000-8000-0000000d0001', status='same_person',"
		   " resolved_by='far-staff', resolved_at=5, updated_hlc='000000003050.0000.nodeB'"
		   " WHERE id=%Q", flag);
	st_push_refused(hub, b, &scope_b, "no staff member");
	node_write(b, "000000003100.0000.nodeB",
		   "UPDATE participant_duplicate_flags SET other_participant_id="
		   "'0190b000-0000-7000-8000-0000000d0001', status='different_people',"
		   " resolved_by='demo-staff', resolved_at=6, updated_hlc='000000003100.0000.nodeB'"
		   " WHERE id=%Q", flag);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM participant_duplicate_flags WHERE"
				     " status='different_people' AND resolved_by='demo-staff'", -1),
			 1);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

/* The first column of sql's first row is want. */
static void expect_text(sqlite3 *db, const char *sql, const char *want)
{
	char got[512];

	assert_int_equal(db_text(db, sql, NULL, got, sizeof got), 0);
	assert_string_equal(got, want);
}

/* A correction of A1 at node (office office), through its own Help
 * Request (req), entered on day, ending the activity on end. */
static void write_correction(sqlite3 *node, const char *hlc, const char *office, const char *req,
			     const char *id, const char *day, const char *end, const char *comp)
{
	node_write(node, hlc,
		   "INSERT INTO case_approval_requests(id, participant_id, local_area_id, office_id,"
		   " kind, entry_table, entry_id, entry_date, change_id, requested_by, requested_at)"
		   " VALUES(%Q,'" P1 "','demo-la',%Q,'change','participant_activities','" A1 "',"
		   "'2026-03-02',%Q,'0190a000-0000-7000-8000-0000000000b1',1);"
		   "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		   " code_list, start_date, end_date, completion, staff_id, entered_date, entered_at,"
		   " corrects_id, change_request_id) VALUES(%Q,'" P1 "','demo-la',%Q,'102','activity',"
		   "'2026-03-02',%Q,%Q,'demo-staff',%Q,%lld,'" A1 "',%Q)",
		   req, office, id, id, office, end, comp, day, noon(day), req);
}

#define C1 "0190b000-0000-7000-8000-00000000e1c1"
#define C2 "0190b000-0000-7000-8000-00000000e1c2"

/*
 * Two offices of one Local Area, each offline, correct one activity of a
 * participant (C1 at A, entered first, C2 at B), each through its Help
 * Request: both are taken, and the hub records one conflict naming both,
 * the same whichever reaches it first (model/corrections.h): on C2, the
 * later, C1 as the hub's value, C2 as the office's and the winner.  The
 * conflict has the participant's Local Area as its scope (only its
 * offices receive it, as they do the rows) and its reason names no
 * participant.  Before, sync_record_conflict refused a Local Area's
 * table, so no conflict was recorded (and the check would have failed).
 */
static void activities_cross(int c1_first)
{
	static const sync_scope scope_b = {"nodeB", DEMO_OFFICE2, DEMO_LOCAL_AREA};
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	int counted = 0;
	char *sql;

	sync_set_validator(model_hub_validate_row);
	model_set_conflict_recorder(sync_record_conflict);
	node_write(a, "000000001000.0000.nodeA", insert_participant, P1, DEMO_LOCAL_AREA, DEMO_OFFICE,
		   "000000001000.0000.nodeA");
	node_write(a, "000000001100.0000.nodeA", insert_activity, A1, P1, "102", "2026-03-02",
		   "2026-03-02", noon("2026-03-02"), 0, NULL);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 2);
	/* (at B as a pull brings them) */
	sql = sqlite3_mprintf(insert_participant, P1, DEMO_LOCAL_AREA, DEMO_OFFICE, "000000001000.0000.nodeA");
	assert_int_equal(db_exec(b, sql), 0);
	sqlite3_free(sql);
	sql = sqlite3_mprintf(insert_activity, A1, P1, "102", "2026-03-02", "2026-03-02",
			      noon("2026-03-02"), 0, NULL);
	assert_int_equal(db_exec(b, sql), 0);
	sqlite3_free(sql);
	write_correction(a, "000000002000.0000.nodeA", DEMO_OFFICE,
			 "0190b000-0000-7000-8000-00000000f0c1", C1, "2026-03-11", "2026-03-10",
			 "successful");
	write_correction(b, "000000003000.0000.nodeB", DEMO_OFFICE2,
			 "0190b000-0000-7000-8000-00000000f0c2", C2, "2026-03-12", "2026-03-09",
			 "unsuccessful");
	for (int i = 0; i < 2; i++) {
		st_pushed p = (i == 0) == c1_first ? st_push(hub, a, &scope_a) : st_push(hub, b, &scope_b);

		assert_int_equal(p.applied, 1);
		assert_int_equal(p.quarantined, 0);
		counted += p.conflicts;
	}
	assert_int_equal(db_int(hub, "SELECT count(*) FROM participant_activities WHERE corrects_id='" A1 "'", -1), 2);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts", -1), 1);
	assert_int_equal(counted, 1);
	expect_text(hub, "SELECT tbl || ' ' || row_id || ' ' || column_name || ' ' || winner"
			 " || ' ' || coalesce(scope_office, '-') || ' ' || scope_la FROM conflicts",
		    "participant_activities " C2 " corrects_id remote - demo-la");
	expect_text(hub, "SELECT json_extract(local_value, '$.id') || ' '"
			 " || json_extract(remote_value, '$.id') || ' '"
			 " || json_extract(base_value, '$.id') FROM conflicts",
		    C1 " " C2 " " A1);
	expect_text(hub, "SELECT scope_la FROM change_log WHERE tbl='conflicts'", "demo-la");
	{
		char why[2048];
		assert_int_equal(db_text(hub, "SELECT reason FROM conflicts", NULL, why, sizeof why), 0);
		assert_non_null(strstr(why, "Two corrections of one activity"));
		assert_non_null(strstr(why, "recorded 102 from 2026-03-02 to 2026-03-10, successful"));
		assert_non_null(strstr(why, "recorded 102 from 2026-03-02 to 2026-03-09, unsuccessful"));
		assert_null(strstr(why, "Reyes"));
	}
	model_set_conflict_recorder(NULL);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

static void test_hub_two_corrections_of_an_activity(void **state)
{
	(void)state;
	activities_cross(1);
	activities_cross(0);
}

static void test_hub_apply_case_rows(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *x = open_db(0);
	st_pushed p;

	(void)state;
	sync_set_validator(model_hub_validate_row);
	/* A participant with an activity and its note, in one entry. */
	node_write(a, "000000001000.0000.nodeA", insert_participant, P1, DEMO_LOCAL_AREA, DEMO_OFFICE,
		   "000000001000.0000.nodeA");
	{
		char *s1 = sqlite3_mprintf(insert_activity, A1, P1, "102", "2026-03-02", "2026-03-02", noon("2026-03-02"), 0, NULL);
		char *s2 = sqlite3_mprintf(insert_note, N1, P1, "activity", A1, "102 Initial Assessment",
					   "2026-03-02", NULL);
		char *both = sqlite3_mprintf("%s;%s", s1, s2);
		node_write(a, "000000001100.0000.nodeA", "%s", both);
		sqlite3_free(s1);
		sqlite3_free(s2);
		sqlite3_free(both);
	}
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 2);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM case_notes", -1), 1);
	/* Amendment: a new row naming the original, only with its Help
	 * Request (SLO 34-19). */
	node_write(a, "000000001200.0000.nodeA", insert_note, N2, P1, "standalone", NULL, "Correction",
		   "2026-03-02", N1);
	st_push_refused(hub, a, &scope_a, "Help Request");
	/* Editing a saved note (as a forged changeset would): quarantined, the
	 * hub's copy unchanged. */
	node_write(a, "000000001300.0000.nodeA", "UPDATE case_notes SET body='rewritten' WHERE id=%Q", N1);
	st_push_refused(hub, a, &scope_a, "append-only");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM case_notes WHERE body='rewritten'", -1), 0);
	node_write(a, "000000001310.0000.nodeA", "DELETE FROM case_notes WHERE id=%Q", N2);
	assert_int_equal(st_push(hub, a, &scope_a).quarantined, 1);
	/* An activity note with the wrong subject or contact date. */
	node_write(a, "000000001400.0000.nodeA", insert_note, "0190b000-0000-7000-8000-00000000e203", P1,
		   "activity", A1, "Initial Assessment", "2026-03-02", NULL);
	st_push_refused(hub, a, &scope_a, "subject");
	node_write(a, "000000001410.0000.nodeA", insert_note, "0190b000-0000-7000-8000-00000000e204", P1,
		   "activity", A1, "102 Initial Assessment", "2026-03-01", NULL);
	st_push_refused(hub, a, &scope_a, "contact date");
	/* A stand-alone note whose body is white space alone (ASCII, NBSP). */
	node_write(a, "000000001420.0000.nodeA",
		   "INSERT INTO case_notes(id, participant_id, local_area_id, office_id, kind, subject,"
		   " contact_date, body, staff_id, entered_date, entered_at) VALUES("
		   "'0190b000-0000-7000-8000-00000000e205',%Q,'demo-la','demo-office','standalone','Call',"
		   "'2026-03-02',' \n\t\xc2\xa0','demo-staff','2026-03-02',1772452800000)", P1);
	st_push_refused(hub, a, &scope_a, "subject and body");
	/* Backdating: 31 days without an approval, 91 days at all. */
	node_write(a, "000000001500.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000e102",
		   P1, "102", "2026-02-01", "2026-03-04", noon("2026-03-04"), 31, NULL);
	st_push_refused(hub, a, &scope_a, "approval");
	node_write(a, "000000001510.0000.nodeA",
		   "INSERT INTO backdate_approvals(id, participant_id, local_area_id, office_id,"
		   " service_date, program_manager, wdb_director, edd_approver, approved_date,"
		   " recorded_at) VALUES('0190b000-0000-7000-8000-00000000e301',%Q,'demo-la',"
		   "'demo-office','2026-02-01','PM','WDB','EDD','2026-03-03',1)", P1);
	node_write(a, "000000001520.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000e103",
		   P1, "102", "2026-02-01", "2026-03-04", noon("2026-03-04"), 31, "0190b000-0000-7000-8000-00000000e301");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 2);
	assert_int_equal(p.quarantined, 0);
	node_write(a, "000000001530.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000e104",
		   P1, "102", "2025-12-03", "2026-03-04", noon("2026-03-04"), 91, "0190b000-0000-7000-8000-00000000e301");
	st_push_refused(hub, a, &scope_a, "90 days");
	/* Never dated before the participant's registration (2026-01-15). */
	node_write(a, "000000001532.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000e10e",
		   P1, "102", "2026-01-14", "2026-02-10", noon("2026-02-10"), 27, NULL);
	st_push_refused(hub, a, &scope_a, "registration");
	/* A correction of a row that is not this participant's. */
	node_write(a, "000000001535.0000.nodeA",
		   "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		   " code_list, start_date, entered_date, entered_at, corrects_id) VALUES("
		   "'0190b000-0000-7000-8000-00000000e10f',%Q,'demo-la','demo-office','102','activity',"
		   "'2026-03-02','2026-03-04',%lld,'no-such-activity')", P1, noon("2026-03-04"));
	st_push_refused(hub, a, &scope_a, "corrected activity");
	/* An unknown code. */
	node_write(a, "000000001540.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000e105",
		   P1, "ZZZ", "2026-03-04", "2026-03-04", noon("2026-03-04"), 0, NULL);
	assert_int_equal(st_push(hub, a, &scope_a).quarantined, 1);
	/* An entry date that its trusted entry time contradicts (entered in
	 * June, claiming March to stay within 30 days), or in the future. */
	node_write(a, "000000001550.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000e106",
		   P1, "102", "2026-03-01", "2026-03-04", noon("2026-06-01"), 3, NULL);
	st_push_refused(hub, a, &scope_a, "entered_at");
	node_write(a, "000000001560.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000e107",
		   P1, "102", "2099-03-01", "2099-03-04", noon("2099-03-04"), 3, NULL);
	st_push_refused(hub, a, &scope_a, "future");
	/* A node of another Local Area: its own participant row in demo-la is
	 * outside its scope, and so is a note for ours. */
	node_write(x, "000000002000.0000.nodeX", insert_participant, "0190b000-0000-7000-8000-00000000e009",
		   DEMO_LOCAL_AREA, "other-office", "000000002000.0000.nodeX");
	st_push_refused(hub, x, &scope_other, "outside the node");
	node_write(x, "000000002100.0000.nodeX", insert_note, "0190b000-0000-7000-8000-00000000e209", P1,
		   "standalone", NULL, "Hello", "2026-03-02", NULL);
	assert_int_equal(st_push(hub, x, &scope_other).quarantined, 1);
	/* ... and a row claiming its own Local Area for our participant. */
	node_write(x, "000000002200.0000.nodeX",
		   "INSERT INTO case_notes(id, participant_id, local_area_id, office_id, kind, subject,"
		   " contact_date, body, entered_date, entered_at) VALUES('0190b000-0000-7000-8000-00000000e20a',"
		   "%Q,'other-la','other-office','standalone','s','2026-03-02','b','2026-03-02',1772452800000)", P1);
	st_push_refused(hub, x, &scope_other, "not a participant of this Local Area");
	/* A follow-up code before the exit. */
	node_write(a, "000000002900.0000.nodeA",
		   "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		   " code_list, start_date, entered_date, entered_at, backdate_days) VALUES("
		   "'0190b000-0000-7000-8000-00000000e110',%Q,'demo-la','demo-office','F01','followup',"
		   "'2026-03-04','2026-03-04',%lld,0)", P1, noon("2026-03-04"));
	st_push_refused(hub, a, &scope_a, "follow-up codes are for after");
	/* The exit is irreversible: exit recorded, then a re-open refused. */
	node_write(a, "000000003000.0000.nodeA",
		   "INSERT INTO participant_exits(id, participant_id, local_area_id, office_id, exit_date,"
		   " recorded_at) VALUES('0190b000-0000-7000-8000-00000000e401',%Q,'demo-la','demo-office',"
		   "'2026-06-01',%lld);"
		   "UPDATE participants SET exit_state='exited', exit_date='2026-06-01',"
		   " updated_hlc='000000003000.0000.nodeA' WHERE id=%Q", P1, noon("2026-06-01"), P1);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	node_write(a, "000000004000.0000.nodeA",
		   "UPDATE participants SET exit_state='active', exit_date=NULL,"
		   " updated_hlc='000000004000.0000.nodeA' WHERE id=%Q", P1);
	/* (exit_state stays exited, the final value, and the row without its
	 * exit date is no row the rules allow) */
	st_push_refused(hub, a, &scope_a, "an exited case needs its exit_date");
	{
		char st[16];
		assert_int_equal(db_text(hub, "SELECT exit_state FROM participants WHERE id=?", P1, st, sizeof st), 0);
		assert_string_equal(st, "exited");
	}
	/* A follow-up code dated before the exit date (entered after it). */
	node_write(a, "000000004050.0000.nodeA",
		   "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		   " code_list, start_date, entered_date, entered_at, backdate_days) VALUES("
		   "'0190b000-0000-7000-8000-00000000e113',%Q,'demo-la','demo-office','F01','followup',"
		   "'2026-05-20','2026-06-02',%lld,13)", P1, noon("2026-06-02"));
	st_push_refused(hub, a, &scope_a, "before the exit date");
	/* After the exit: an activity code refused, a follow-up code taken. */
	node_write(a, "000000004100.0000.nodeA", insert_activity, "0190b000-0000-7000-8000-00000000e111",
		   P1, "102", "2026-06-02", "2026-06-02", noon("2026-06-02"), 0, NULL);
	st_push_refused(hub, a, &scope_a, "only follow-up codes");
	node_write(a, "000000004200.0000.nodeA",
		   "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		   " code_list, start_date, staff_id, entered_date, entered_at, backdate_days) VALUES("
		   "'0190b000-0000-7000-8000-00000000e112',%Q,'demo-la','demo-office','F01','followup',"
		   "'2026-06-02','demo-staff','2026-06-02',%lld,0)", P1, noon("2026-06-02"));
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	/* An activity is a program entry (model/privileges.c): its staff
	 * member holds program_edit at the hub.  An LWIA Intake account's
	 * (WSD24-13: view access only to program applications), as a node of
	 * an older release still lets through, is refused; so is one that
	 * names nobody. */
	assert_int_equal(db_exec(hub, "INSERT INTO staff(id, username, display_name, local_area_id,"
				      " privilege_group) VALUES('intake-staff', 'intake', 'Intake',"
				      " 'demo-la', 'LWIA Intake Staff')"),
			 0);
	node_write(a, "000000004300.0000.nodeA",
		   "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		   " code_list, start_date, staff_id, entered_date, entered_at, backdate_days) VALUES("
		   "'0190b000-0000-7000-8000-00000000e114',%Q,'demo-la','demo-office','F01','followup',"
		   "'2026-06-02','intake-staff','2026-06-02',%lld,0)", P1, noon("2026-06-02"));
	st_push_refused(hub, a, &scope_a, "staff_id does not hold program_edit");
	node_write(a, "000000004310.0000.nodeA",
		   "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id, code,"
		   " code_list, start_date, entered_date, entered_at, backdate_days) VALUES("
		   "'0190b000-0000-7000-8000-00000000e115',%Q,'demo-la','demo-office','F01','followup',"
		   "'2026-06-02','2026-06-02',%lld,0)", P1, noon("2026-06-02"));
	st_push_refused(hub, a, &scope_a, "names who entered it");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM participant_activities WHERE id IN"
				     " ('0190b000-0000-7000-8000-00000000e114',"
				     " '0190b000-0000-7000-8000-00000000e115')", -1),
			 0);
	/* A plain SSN in the clear is refused. */
	node_write(a, "000000005000.0000.nodeA",
		   "UPDATE participants SET ssn_kind='real', ssn_enc='123456789', ssn_last4='6789',"
		   " updated_hlc='000000005000.0000.nodeA' WHERE id=%Q", P1);
	st_push_refused(hub, a, &scope_a, "protected");
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(x);
	sqlite3_close(hub);
}

TU_MAIN(cmocka_unit_test(test_backdating),
	cmocka_unit_test(test_timeliness),
	cmocka_unit_test(test_soft_exit),
	cmocka_unit_test(test_followup_quarters),
	cmocka_unit_test(test_activity_note),
	cmocka_unit_test(test_skill_gain_fields),
	cmocka_unit_test(test_ssn),
	cmocka_unit_test(test_schema_and_seed),
	cmocka_unit_test(test_hub_duplicate_flags),
	cmocka_unit_test(test_hub_apply_case_rows),
	cmocka_unit_test(test_hub_two_corrections_of_an_activity),
	cmocka_unit_test(test_hub_apply_approvals),
	cmocka_unit_test(test_hub_participant_ids_tell_nothing))
