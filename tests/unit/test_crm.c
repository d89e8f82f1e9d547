/*
 * test_crm.c - the CRM's rules (model/crm.c) at their boundaries: company
 * name normalization and the duplicate key, ZIP / EDD Account Number / NAICS
 * / phone formats, MKT user names and the prefix-drop offer, what a
 * conversion requires, which E-codes staff may choose, the service date and
 * completion rules, work item transitions, assignment to the CRM work group
 * only; the seeded lists; and replication of CRM tables through the hub's
 * real apply path (sync_hub_apply with crm_hub_validate_row): the same lead
 * and the same work item edited in two offices merge column by column, a
 * closed work item is not reopened by an older edit, two offices creating
 * the same employer offline are flagged as possible duplicates (never
 * merged), and invalid CRM rows are quarantined.  Attachments: the size and
 * type rule of an upload, and the hub's check of a replicated attachment
 * (its bytes, SHA-256, size, type and name, its employer) and of a
 * withdrawal; neither is ever updated or deleted by a node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/json.h"
#include "model/capture.h"
#include "model/crm.h"
#include "model/demo.h"
#include "model/schema.h"
#include "sync/sync.h"
#include "synctest.h"
#include "testutil.h"

/* node/node_crm.h (not included: its node type would shadow this file's names). */
int crm__fts_query(const char *s, char *out, size_t n);

/* ---- names ------------------------------------------------------------------ */

static const char *norm(const char *in)
{
	static char out[4][CRM_NORM_MAX];
	static int k;
	char *o = out[k++ % 4];

	if (crm_normalize_name(in, o, CRM_NORM_MAX) != 0)
		return NULL;
	return o;
}

static void test_normalize(void **state)
{
	(void)state;
	assert_string_equal(norm("Acme Tools, Inc."), "acme tools");
	assert_string_equal(norm("ACME TOOLS LLC"), "acme tools");
	assert_string_equal(norm("Acme   Tools  L.L.C."), "acme tools");
	assert_string_equal(norm("  acme tools corp "), "acme tools");
	assert_string_equal(norm("Acme Tools Corporation"), "acme tools");
	assert_string_equal(norm("Acme Tools Co., Ltd."), "acme tools");
	assert_string_equal(norm("The Acme Tools Company"), "acme tools");
	assert_string_equal(norm("Joe's Diner"), "joes diner");
	assert_string_equal(norm("Joe\xe2\x80\x99s Diner"), "joes diner");
	assert_string_equal(norm("Smith & Sons"), "smith and sons");
	assert_string_equal(norm("Smith and Sons"), "smith and sons");
	assert_string_equal(norm("Bay-Area Staffing"), "bay area staffing");
	assert_string_equal(norm("Café Sol"), "café sol");
	/* Suffixes only at the end, and never everything. */
	assert_string_equal(norm("Inc Solutions"), "inc solutions");
	assert_string_equal(norm("The Company"), "company");
	assert_string_equal(norm("Company Inc"), "company");
	assert_string_equal(norm("Co"), "co");
	assert_string_equal(norm("Theater Group"), "theater group");
	assert_null(norm(""));
	assert_null(norm("  .,&-  "));
	assert_int_equal(crm_normalize_name(NULL, (char[8]){0}, 8), -1);
	char small[4];
	assert_int_equal(crm_normalize_name("Acme Tools", small, sizeof small), -1);
}

/* The ZIP and EDD Account Number checks without their normalized output. */
static int zip_alone(const char *s)
{
	return crm_valid_zip(s, NULL);
}

static int edd_account_alone(const char *s)
{
	return crm_valid_edd_account(s, NULL);
}

static void test_formats(void **state)
{
	char z5[6], d[9];

	(void)state;
	assert_int_equal(crm_valid_zip("95814", z5), 0);
	assert_string_equal(z5, "95814");
	assert_int_equal(crm_valid_zip("95814-1234", z5), 0);
	assert_string_equal(z5, "95814");
	TU_CHECK_TEXT(zip_alone, {"9581", -1}, {"958145", -1}, {"95814-123", -1},
		      {"95814 1234", -1}, {"9581a", -1}, {NULL, -1});

	assert_int_equal(crm_valid_edd_account("123-4567-8", d), 0);
	assert_string_equal(d, "12345678");
	assert_int_equal(crm_valid_edd_account("12345678", d), 0);
	assert_int_equal(crm_valid_edd_account("1234567", d), 0); /* 7 digits */
	assert_string_equal(d, "1234567");
	TU_CHECK_TEXT(edd_account_alone, {"123 4567", 0}, {"123456", -1} /* 6 */,
		      {"123456789", -1} /* 9 */, {"123--4567", -1}, {"-1234567", -1},
		      {"1234567-", -1}, {"12a4567", -1}, {"", -1});

	TU_CHECK_TEXT(crm_valid_naics, {"54", 0}, {"541511", 0}, {"5", -1}, {"5415111", -1},
		      {"54x", -1});
	TU_CHECK_TEXT(crm_valid_phone, {"(916) 555-0100", 0}, {"916-555-010", -1} /* 9 digits */,
		      {"+1 916 555 0100 x12", 0}, {"9165550100#", -1});
	TU_CHECK_TEXT(crm_valid_state, {"CA", 0}, {"ca", -1}, {"CAL", -1});
	TU_CHECK_TEXT(crm_valid_url, {"www.acme.com", 0}, {"https://acme.com/jobs", 0},
		      {"javascript:alert(1)", -1}, {"ftp://acme.com", -1}, {"acme", -1});
	TU_CHECK_TEXT(crm_valid_email, {"a@b.co", 0}, {"a@b", -1});
	TU_CHECK_TEXT(crm_valid_account_type, {"lead", 0}, {"recruiting", 0}, {"preferred", -1},
		      {"lead,recruiting", -1});
}

static void test_usernames(void **state)
{
	char u[CRM_USERNAME_MAX + 1], plain[CRM_USERNAME_MAX + 1];

	(void)state;
	assert_int_equal(crm_make_username("acme tools", 42, u, sizeof u), 0);
	assert_string_equal(u, "MKTACMETOOLS0042");
	assert_int_equal(crm_make_username("golden state foods and more", 12345, u, sizeof u), 0);
	assert_string_equal(u, "MKTGOLDENSTATEF2345"); /* 12 characters, suffix mod 10000 */
	assert_int_equal(crm_make_username("", 7, u, sizeof u), 0);
	assert_string_equal(u, "MKTEMPLOYER0007");
	assert_int_equal(crm_make_username("acme", 1, u, 8), -1);
	assert_true(crm_has_mkt_prefix("MKTACME0001"));
	assert_false(crm_has_mkt_prefix("MKT"));
	assert_false(crm_has_mkt_prefix("ACME0001"));
	assert_false(crm_has_mkt_prefix(NULL));
	assert_int_equal(crm_drop_mkt_prefix("MKTACMETOOLS0042", plain, sizeof plain), 0);
	assert_string_equal(plain, "ACMETOOLS0042");
	assert_int_equal(crm_drop_mkt_prefix("ACME0001", plain, sizeof plain), 0);
	assert_string_equal(plain, "ACME0001");
	assert_int_equal(crm_valid_username("ACMETOOLS0042"), 0);
	assert_int_equal(crm_valid_username("abc"), -1);
	assert_int_equal(crm_valid_username("acme tools"), -1);
	assert_int_equal(crm_valid_username("acme.tools_01-x"), 0);
}

static crm_conversion good_conversion(void)
{
	crm_conversion c = {"lead", "active", "Acme Tools", "123-4567-8", "1 Main St", "Sacramento",
			    "CA", "95814", "(916) 555-0100", "541511", 1};
	return c;
}

/* good_conversion() in c with member set to v is refused naming field
 * (msg its message); c keeps the change for the next check. */
#define REFUSED(member, v, field)                                                            \
	do {                                                                                 \
		c = good_conversion();                                                       \
		c.member = (v);                                                              \
		assert_string_equal(crm_conversion_check(&c, msg, sizeof msg), (field));     \
	} while (0)

static void test_conversion(void **state)
{
	char msg[200];
	crm_conversion c;

	(void)state;
	c = good_conversion();
	assert_null(crm_conversion_check(&c, msg, sizeof msg));
	/* Never both types: only a lead converts; a recruiting employer does not. */
	c.account_type = "recruiting";
	assert_string_equal(crm_conversion_check(&c, msg, sizeof msg), "account_type");
	REFUSED(status, "inactive", "status");
	REFUSED(edd_account_number, NULL, "edd_account_number");
	assert_non_null(strstr(msg, "EDD Account Number"));
	c.edd_account_number = "   ";
	assert_string_equal(crm_conversion_check(&c, msg, sizeof msg), "edd_account_number");
	c.edd_account_number = "123456";
	assert_string_equal(crm_conversion_check(&c, msg, sizeof msg), "edd_account_number");
	c.edd_account_number = "1234567";
	assert_null(crm_conversion_check(&c, msg, sizeof msg));
	REFUSED(zip, "958", "zip");
	REFUSED(street, "", "street");
	REFUSED(city, NULL, "city");
	REFUSED(state, "California", "state");
	REFUSED(phone, NULL, "phone");
	REFUSED(industry, "5", "industry");
	REFUSED(primary_contacts, 0, "contacts");
	REFUSED(company_name, " ", "company_name");
	/* What a recruiting employer keeps: every field at fault, in order;
	 * the account type, status and contacts are not the question. */
	{
		crm_fault f[CRM_KEPT_FIELDS];
		c = good_conversion();
		c.account_type = "recruiting";
		c.primary_contacts = 0;
		assert_int_equal(crm_recruiting_kept_check(&c, f), 0);
		c.street = NULL;
		c.city = " ";
		c.phone = NULL;
		c.industry = "";
		assert_int_equal(crm_recruiting_kept_check(&c, f), 4);
		assert_string_equal(f[0].field, "street");
		assert_string_equal(f[1].field, "city");
		assert_string_equal(f[2].field, "phone");
		assert_string_equal(f[3].field, "industry");
		assert_non_null(f[3].msg);
		memset(&c, 0, sizeof c);
		assert_int_equal(crm_recruiting_kept_check(&c, f), CRM_KEPT_FIELDS);
	}
	/* 72 hours exactly. */
	assert_int_equal(crm_vetting_due(1000), 1000 + 72LL * 3600 * 1000);
}

static void test_vetting(void **state)
{
	char msg[160];
	int conflict;

	(void)state;
	assert_null(crm_vetting_check("recruiting", "pending", "approved", &conflict, msg, sizeof msg));
	assert_null(crm_vetting_check("recruiting", "pending", "locked", &conflict, msg, sizeof msg));
	assert_string_equal(crm_vetting_check("recruiting", "pending", "maybe", &conflict, msg, sizeof msg), "result");
	assert_int_equal(conflict, 0);
	assert_string_equal(crm_vetting_check("recruiting", "pending", NULL, &conflict, msg, sizeof msg), "result");
	assert_string_equal(crm_vetting_check("lead", NULL, "approved", &conflict, msg, sizeof msg), "account_type");
	assert_int_equal(conflict, 1);
	assert_string_equal(crm_vetting_check("recruiting", "approved", "approved", &conflict, msg, sizeof msg),
			    "vetting_status");
	assert_int_equal(conflict, 1);
	assert_non_null(strstr(msg, "approved"));
	/* WSB unlocks a locked employer; a mismatch found later locks it. */
	assert_null(crm_vetting_check("recruiting", "locked", "approved", &conflict, msg, sizeof msg));
	assert_null(crm_vetting_check("recruiting", "approved", "locked", &conflict, msg, sizeof msg));
	assert_string_equal(crm_vetting_check("recruiting", NULL, "locked", &conflict, msg, sizeof msg),
			    "vetting_status");
	/* Who: the vetting privilege, never the converter. */
	assert_null(crm_vetter_check("wsb1", "conv1", 1, msg, sizeof msg));
	assert_non_null(crm_vetter_check("conv1", "conv1", 1, msg, sizeof msg));
	assert_non_null(strstr(msg, "converted"));
	assert_non_null(crm_vetter_check("wsb1", "conv1", 0, msg, sizeof msg));
	assert_true(crm_is_locked("locked"));
	assert_false(crm_is_locked("approved"));
	assert_false(crm_is_locked(NULL));
	/* Recruiting-only codes and the MKT prefix. */
	assert_true(crm_recruiting_only_code("E24"));
	assert_true(crm_recruiting_only_code("E35"));
	assert_false(crm_recruiting_only_code("E20"));
	assert_false(crm_recruiting_only_code(NULL));
	assert_true(crm_is_job_order_category("job order"));
	assert_false(crm_is_job_order_category("Follow-up"));
	/* A lead keeps the MKT prefix; a recruiting employer that kept it at
	 * its conversion may drop it later; no edit adds it. */
	assert_non_null(crm_username_edit_check("lead", "MKTACME0001", "ACME1"));
	assert_non_null(crm_username_edit_check(NULL, "MKTACME0001", "ACME1"));
	assert_null(crm_username_edit_check("recruiting", "MKTACME0001", "ACME0001"));
	assert_non_null(crm_username_edit_check("recruiting", "ACME1", "MKTACME1"));
	assert_non_null(crm_username_edit_check("lead", "ACME1", "MKTACME1"));
	assert_null(crm_username_edit_check("lead", "MKTACME0001", "MKTACME0002"));
	/* a recruiting employer keeps its MKT name or drops the prefix; another
	 * MKT name is refused (the hub refuses it: the edit was lost) */
	assert_non_null(crm_username_edit_check("recruiting", "MKTACME0001", "MKTACME0002"));
	assert_null(crm_username_edit_check("recruiting", "MKTACME0001", "MKTACME0001"));
	assert_null(crm_username_edit_check("recruiting", "ACME1", "ACME2"));
	assert_true(crm_job_order_open("2026-01-01", NULL, "2026-12-03"));
	assert_true(crm_job_order_open("2026-01-01", "2026-12-03", "2026-12-03"));
	assert_false(crm_job_order_open("2026-01-01", "2026-12-02", "2026-12-03"));
	assert_false(crm_job_order_open("2026-12-04", NULL, "2026-12-03"));
	assert_int_equal(crm_valid_wage_unit("hour"), 0);
	assert_int_equal(crm_valid_wage_unit("fortnight"), -1);
	/* 72 hours exactly. */
	assert_int_equal(crm_vetting_due(1000), 1000 + 72LL * 3600 * 1000);
}

static void test_code_selection(void **state)
{
	(void)state;
	assert_null(crm_code_selectable(0, "active"));
	assert_non_null(crm_code_selectable(1, "active"));   /* E90, E92 */
	assert_non_null(crm_code_selectable(0, "retired"));  /* E74, E75 */
	assert_non_null(crm_code_selectable(1, "retired"));
	assert_non_null(crm_code_selectable(0, NULL));
}

static void test_service_dates(void **state)
{
	char msg[160];
	const char *t = "2026-03-10";

	(void)state;
	assert_null(crm_service_check("2026-03-01", NULL, NULL, t, msg, sizeof msg));
	assert_null(crm_service_check("2026-03-10", "2026-03-10", "successful", t, msg, sizeof msg));
	assert_null(crm_service_check("2026-03-01", "2026-03-01", NULL, t, msg, sizeof msg));
	/* The completion code needs an actual end date. */
	assert_string_equal(crm_service_check("2026-03-01", NULL, "successful", t, msg, sizeof msg),
			    "end_date");
	assert_non_null(strstr(msg, "completion code"));
	assert_string_equal(crm_service_check("2026-03-01", NULL, "bogus", t, msg, sizeof msg),
			    "completion_code");
	/* End never before start, one day is enough to fail. */
	assert_string_equal(crm_service_check("2026-03-02", "2026-03-01", NULL, t, msg, sizeof msg),
			    "end_date");
	/* Not in the future (boundary: today is fine, tomorrow is not). */
	assert_string_equal(crm_service_check("2026-03-11", NULL, NULL, t, msg, sizeof msg), "start_date");
	assert_string_equal(crm_service_check("2026-03-01", "2026-03-11", NULL, t, msg, sizeof msg),
			    "end_date");
	assert_string_equal(crm_service_check(NULL, NULL, NULL, t, msg, sizeof msg), "start_date");
	assert_string_equal(crm_service_check("2026-02-30", NULL, NULL, t, msg, sizeof msg), "start_date");
	assert_string_equal(crm_service_check("2026-03-01", "03/05/2026", NULL, t, msg, sizeof msg),
			    "end_date");
	/* Without a today (the hub), only the structural rules. */
	assert_null(crm_service_check("2030-01-01", NULL, NULL, NULL, msg, sizeof msg));
	assert_int_equal(crm_valid_completion_code("cancelled"), 0);
	assert_int_equal(crm_valid_completion_code("Successful"), -1);
}

static void test_work_items(void **state)
{
	char msg[160];

	(void)state;
	assert_int_equal(crm_wi_transition("New", "In Progress"), 0);
	assert_int_equal(crm_wi_transition("In Progress", "New"), 0);
	assert_int_equal(crm_wi_transition("New", "Closed"), 0);
	assert_int_equal(crm_wi_transition("In Progress", "Closed"), 0);
	assert_int_equal(crm_wi_transition("Closed", "Closed"), 0);
	assert_int_equal(crm_wi_transition("Closed", "New"), -1);
	assert_int_equal(crm_wi_transition("Closed", "In Progress"), -1);
	assert_int_equal(crm_wi_transition("New", "closed"), -1);
	assert_int_equal(crm_wi_transition("Open", "New"), -1);
	assert_int_equal(crm_can_assign(1, 1, 1, msg, sizeof msg), 0);
	assert_int_equal(crm_can_assign(1, 1, 0, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "CRM work group"));
	assert_int_equal(crm_can_assign(1, 0, 1, msg, sizeof msg), -1);
	assert_int_equal(crm_can_assign(0, 1, 1, msg, sizeof msg), -1);
	assert_true(crm_wi_may_work("a", "a", "b"));
	assert_true(crm_wi_may_work("b", "a", "b"));
	assert_false(crm_wi_may_work("c", "a", "b"));
	assert_false(crm_wi_may_work("c", NULL, NULL));
	assert_false(crm_wi_may_work(NULL, "a", "b"));
}

/* ---- database: schema, seed, hub replication ------------------------------ */

static sqlite3 *open_db(int hub)
{
	sqlite3 *db = st_open_db(hub);

	assert_int_equal(demo_seed_reference(db, "000000000001.0000.hub"), 0);
	assert_int_equal(crm_seed_reference(db, "000000000001.0000.hub"), 0);
	return db;
}

static void test_schema_kinds_and_seed(void **state)
{
	sqlite3 *db;

	(void)state;
	db = open_db(0);
	ST_KIND(TK_MUTABLE, "employers", "employer_contacts", "work_items");
	ST_KIND(TK_APPEND_ONLY, "employer_services", "work_item_notes");
	ST_KIND(TK_HUB_OWNED, "employer_activity_codes", "external_employers", "business_directory",
		"crm_duplicate_flags");
	ST_SCOPE(SCOPE_STATEWIDE, "employers");
	assert_string_equal(schema_table("work_items")->td_final_col, "status");
	assert_string_equal(schema_table("work_items")->td_final_value, "Closed");
	assert_int_equal(schema_table("work_items")->td_final_holds, TD_FINAL_RECORD);
	assert_int_equal(schema_final(schema_table("work_items"), "Closed"), 1);
	assert_int_equal(schema_final(schema_table("work_items"), "Close"), 0);
	assert_int_equal(schema_final(schema_table("work_items"), "Closed|"), 0);
	/* a visit ends done or left (several final values) */
	assert_int_equal(schema_final(schema_table("checkins"), "done"), 1);
	assert_int_equal(schema_final(schema_table("checkins"), "left"), 1);
	assert_int_equal(schema_final(schema_table("checkins"), "done|left"), 0);
	assert_int_equal(schema_final(schema_table("checkins"), "waiting"), 0);
	assert_int_equal(schema_final(schema_table("checkins"), NULL), 0);
	assert_int_equal(schema_final(schema_table("employers"), "Closed"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM employer_activity_codes", -1), 74);
	assert_int_equal(db_int(db, "SELECT count(*) FROM employer_activity_codes WHERE system_generated=1", -1), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM employer_activity_codes WHERE code IN ('E90','E92') AND system_generated=1", -1), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM employer_activity_codes WHERE status='retired'", -1), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM work_item_categories", -1), 6);
	assert_int_equal(db_int(db, "SELECT count(*) FROM work_item_priorities WHERE is_default=1", -1), 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM external_employers", -1), CRM_DEMO_EXTERNAL);
	assert_int_equal(db_int(db, "SELECT count(*) FROM business_directory", -1), CRM_DEMO_DIRECTORY);
	assert_true(db_int(db, "SELECT count(*) FROM business_directory WHERE has_openings=1", -1) > 20);
	assert_true(db_int(db, "SELECT max(active_job_orders) FROM external_employers", -1) >= 20);
	/* Idempotent and deterministic. */
	char before[128], after[128];
	assert_int_equal(db_text(db, "SELECT group_concat(company_name) FROM (SELECT company_name FROM external_employers WHERE id < ? ORDER BY id)", "crm-ext-0004", before, sizeof before), 0);
	assert_int_equal(crm_seed_reference(db, "000000000002.0000.hub"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM external_employers", -1), CRM_DEMO_EXTERNAL);
	assert_int_equal(db_text(db, "SELECT group_concat(company_name) FROM (SELECT company_name FROM external_employers WHERE id < ? ORDER BY id)", "crm-ext-0004", after, sizeof after), 0);
	assert_string_equal(before, after);
	/* Demo external employer names are valid lead names with valid ZIPs. */
	sqlite3_stmt *st;
	assert_int_equal(db_prepare(db, &st, "SELECT company_name, zip, phone, industry_code FROM external_employers"), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char nn[CRM_NORM_MAX];
		assert_int_equal(crm_normalize_name((const char *)sqlite3_column_text(st, 0), nn, sizeof nn), 0);
		assert_int_equal(crm_valid_zip((const char *)sqlite3_column_text(st, 1), NULL), 0);
		assert_int_equal(crm_valid_phone((const char *)sqlite3_column_text(st, 2)), 0);
		assert_int_equal(crm_valid_naics((const char *)sqlite3_column_text(st, 3)), 0);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* ---- free-text search indexes (schema_crm migration 3) ------------------------ */

/* Ids of the rows of base whose FTS entry in fts matches q, joined back to
 * base (so an entry naming no row never counts), comma-separated. */
static const char *fts_hits(sqlite3 *db, const char *fts, const char *base, const char *q)
{
	static char out[512];
	char sql[400], expr[200];
	sqlite3_stmt *st;

	assert_int_equal(crm__fts_query(q, expr, sizeof expr), 0);
	snprintf(sql, sizeof sql,
		 "SELECT coalesce(group_concat(id), '') FROM (SELECT b.id FROM %s x CROSS JOIN %s b"
		 " ON b.rowid = x.rowid WHERE x.%s MATCH ?1 ORDER BY b.id)", fts, base, fts);
	assert_int_equal(db_prepare(db, &st, sql), 0);
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, sizeof out, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static void test_search_indexes(void **state)
{
	sqlite3 *db;
	char q[200];

	(void)state;
	/* The query: every word required, the last a prefix; nothing
	 * searchable -> -1. */
	assert_int_equal(crm__fts_query("Pacific fo", q, sizeof q), 0);
	assert_string_equal(q, "\"Pacific\" AND \"fo\"*");
	assert_int_equal(crm__fts_query("  O'Neil\"s  ", q, sizeof q), 0);
	assert_string_equal(q, "\"O\" AND \"Neil\" AND \"s\"*");
	assert_int_equal(crm__fts_query("gold", q, sizeof q), 0);
	assert_string_equal(q, "\"gold\"*");
	assert_int_equal(crm__fts_query("&& -- ", q, sizeof q), -1);
	assert_int_equal(crm__fts_query("", q, sizeof q), -1);
	assert_int_equal(crm__fts_query("abcdefghij", q, 8), -1);

	db = open_db(0);
	/* A contact and a work item that arrive (by sync) before their
	 * employer get its name once it lands. */
	assert_int_equal(db_exec(db, "INSERT INTO employer_contacts(id, employer_id, kind, name, created_at)"
				     " VALUES('c1', 'e1', 'primary', 'Kim Lee', 1)"), 0);
	assert_int_equal(db_exec(db, "INSERT INTO work_items(id, employer_id, category_id, priority_id,"
				     " description, created_at) VALUES('w1-00ab12cd', 'e1', 'crm-cat-other',"
				     " 'crm-pri-normal', 'Call about the hiring fair', 1)"), 0);
	assert_string_equal(fts_hits(db, "crm_contacts_fts", "employer_contacts", "golden"), "");
	assert_int_equal(db_exec(db, "INSERT INTO employers(id, company_name, normalized_name, username, zip,"
				     " zip5, created_at) VALUES('e1', 'Golden Foods, Inc.', 'golden foods',"
				     " 'MKTGOLDEN0001', '95814', '95814', 1),"
				     " ('e2', 'Goldfinch Café', 'goldfinch café', 'MKTGOLDF0002', '95814', '95814', 1)"), 0);
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "gold"), "e1,e2");
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "GOLDEN FOO"), "e1");
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "gold foods"), ""); /* whole words before the last */
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "foods golden"), "e1");
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "cafe"), "e2"); /* accents folded */
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "olden"), ""); /* word starts */
	assert_string_equal(fts_hits(db, "crm_contacts_fts", "employer_contacts", "kim"), "c1");
	assert_string_equal(fts_hits(db, "crm_contacts_fts", "employer_contacts", "kim golden"), "c1");
	assert_string_equal(fts_hits(db, "crm_work_items_fts", "work_items", "hiring"), "w1-00ab12cd");
	assert_string_equal(fts_hits(db, "crm_work_items_fts", "work_items", "golden"), "w1-00ab12cd");
	assert_string_equal(fts_hits(db, "crm_work_items_fts", "work_items", "ab12cd"), "w1-00ab12cd"); /* the short reference */
	/* A rename reaches the employer's contacts and work items. */
	assert_int_equal(db_exec(db, "UPDATE employers SET company_name='Silver Foods',"
				     " normalized_name='silver foods' WHERE id='e1'"), 0);
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "golden"), "");
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "silver"), "e1");
	assert_string_equal(fts_hits(db, "crm_contacts_fts", "employer_contacts", "golden"), "");
	assert_string_equal(fts_hits(db, "crm_contacts_fts", "employer_contacts", "silver kim"), "c1");
	assert_string_equal(fts_hits(db, "crm_work_items_fts", "work_items", "silver"), "w1-00ab12cd");
	/* Edits of the indexed columns; a re-link of the work item. */
	assert_int_equal(db_exec(db, "UPDATE employer_contacts SET name='Kimberly Ortiz' WHERE id='c1';"
				     "UPDATE work_items SET description='Send the brochure', employer_id='e2'"
				     " WHERE id='w1-00ab12cd'"), 0);
	assert_string_equal(fts_hits(db, "crm_contacts_fts", "employer_contacts", "lee"), "");
	assert_string_equal(fts_hits(db, "crm_contacts_fts", "employer_contacts", "ortiz"), "c1");
	assert_string_equal(fts_hits(db, "crm_work_items_fts", "work_items", "hiring"), "");
	assert_string_equal(fts_hits(db, "crm_work_items_fts", "work_items", "brochure goldfinch"), "w1-00ab12cd");
	/* A REPLACE (as a pulled changeset applies one) skips the delete
	 * trigger; the old name still finds nothing and the new one is found. */
	assert_int_equal(db_exec(db, "INSERT OR REPLACE INTO employers(id, company_name, normalized_name,"
				     " username, zip, zip5, created_at) VALUES('e2', 'Bluebird Café',"
				     " 'bluebird café', 'MKTGOLDF0002', '95814', '95814', 1)"), 0);
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "goldfinch"), "");
	assert_string_equal(fts_hits(db, "crm_employers_fts", "employers", "bluebird"), "e2");
	/* Deletes leave the indexes. */
	assert_int_equal(db_exec(db, "DELETE FROM employer_contacts; DELETE FROM work_items;"
				     " DELETE FROM employers"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM crm_contacts_fts", -1), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM crm_work_items_fts", -1), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM crm_employers_fts f WHERE f.rowid IN"
				    " (SELECT rowid FROM employers)", -1), 0);
	sqlite3_close(db);
}

static const sync_scope scope_a = {"nodeA", DEMO_OFFICE, DEMO_LOCAL_AREA};
static const sync_scope scope_b = {"nodeB", DEMO_OFFICE2, DEMO_LOCAL_AREA};

#define node_write(node, hlc, ...) st_node_write(node, "demo-staff", hlc, __VA_ARGS__)

static char *q_text(sqlite3 *db, const char *sql, const char *arg)
{
	static char out[4][256];
	static int k;
	char *o = out[k++ % 4];

	if (db_text(db, sql, arg, o, 256) != 0)
		return NULL;
	return o;
}

#define LEAD "0190a000-0000-7000-8000-00000000c001"
#define LEAD_B "0190a000-0000-7000-8000-00000000c002"
#define WI "0190a000-0000-7000-8000-00000000c101"
#define WI2 "0190a000-0000-7000-8000-00000000c103"
#define EPSILON "0190a000-0000-7000-8000-00000000c00a"

static const char insert_lead[] =
	"INSERT INTO employers(id, account_type, company_name, normalized_name, username, zip, zip5,"
	" street, city, state, phone, lead_owner_id, office_id, local_area_id, created_by, created_at,"
	" source, status, updated_hlc) VALUES(%Q,'lead',%Q,%Q,%Q,'95814','95814','1 Main St',"
	"'Sacramento','CA','(916) 555-0100','demo-staff',%Q,'demo-la','demo-staff',1,'manual','active',%Q)";

/* Both offices hold the lead (as after a pull); each edits it offline. */
static void test_lead_edits_merge_column_by_column(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	st_pushed p;

	(void)state;
	sync_set_validator(crm_hub_validate_row);
	node_write(a, "000000001000.0000.nodeA", insert_lead, LEAD, "Acme Tools, Inc.", "acme tools",
		   "MKTACMETOOLS0001", DEMO_OFFICE, "000000001000.0000.nodeA");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	/* b receives it the way a pull does: same row, no capture. */
	assert_int_equal(db_exec(b, "ATTACH ':memory:' AS x"), 0);
	{
		char *sql = sqlite3_mprintf(insert_lead, LEAD, "Acme Tools, Inc.", "acme tools",
					    "MKTACMETOOLS0001", DEMO_OFFICE, "000000001000.0000.nodeA");
		assert_int_equal(db_exec(b, sql), 0);
		sqlite3_free(sql);
	}
	/* Office A changes the phone and website, office B the street and the
	 * phone too (later HLC): disjoint columns both survive, the phone goes
	 * to the later edit with one conflict recorded. */
	node_write(a, "000000002000.0000.nodeA",
		   "UPDATE employers SET phone='(916) 555-0111', website='www.acme.example.com',"
		   " updated_hlc='000000002000.0000.nodeA' WHERE id=%Q", LEAD);
	node_write(b, "000000003000.0000.nodeB",
		   "UPDATE employers SET street='2 Oak Ave', phone='(916) 555-0222',"
		   " updated_hlc='000000003000.0000.nodeB' WHERE id=%Q", LEAD);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	assert_string_equal(q_text(hub, "SELECT website FROM employers WHERE id=?", LEAD), "www.acme.example.com");
	assert_string_equal(q_text(hub, "SELECT street FROM employers WHERE id=?", LEAD), "2 Oak Ave");
	assert_string_equal(q_text(hub, "SELECT phone FROM employers WHERE id=?", LEAD), "(916) 555-0222");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts WHERE tbl='employers' AND column_name='phone'", -1), 1);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

/* The lead at the hub (pushed by a) and at b (as a pull brings it). */
static void lead_at_both(sqlite3 *hub, sqlite3 *a, sqlite3 *b)
{
	char *sql;

	node_write(a, "000000001000.0000.nodeA", insert_lead, LEAD, "Acme Tools, Inc.", "acme tools",
		   "MKTACMETOOLS0001", DEMO_OFFICE, "000000001000.0000.nodeA");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	sql = sqlite3_mprintf(insert_lead, LEAD, "Acme Tools, Inc.", "acme tools", "MKTACMETOOLS0001",
			      DEMO_OFFICE, "000000001000.0000.nodeA");
	assert_int_equal(db_exec(b, sql), 0);
	sqlite3_free(sql);
}

#define SVC "0190a000-0000-7000-8000-00000000e000"
#define SVC_C1 "0190a000-0000-7000-8000-00000000e001"
#define SVC_C2 "0190a000-0000-7000-8000-00000000e002"
static const char insert_service[] =
	"INSERT INTO employer_services(id, employer_id, code, start_date, staff_id, office_id,"
	" corrects_id, created_at) VALUES(%Q,%Q,%Q,'2026-01-05','demo-staff',%Q,%Q,%lld)";

/*
 * Two offices, each offline, correct one service of the lead (C1 at A,
 * made first, C2 at B): both are taken (append-only, each valid), and the
 * hub records one conflict naming both, the same whichever reaches it
 * first (model/corrections.h): on C2, the later (as the offices count it,
 * CRM_CORRECTION_LATER), C1 as the hub's value, C2 as the office's and the
 * winner; nothing quarantined.  c1_first: A pushes first, else B.
 * same_push: both reach the hub in one push.  Before, the conflict sat on
 * the one that arrived second, so C1 first or C2 first gave two different
 * records.
 */
static void corrections_cross(int c1_first, int same_push)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	const char *second = SVC_C2;
	st_pushed p;
	char *sql;
	int counted = 0;

	sync_set_validator(crm_hub_validate_row);
	model_set_conflict_recorder(sync_record_conflict);
	lead_at_both(hub, a, b);
	node_write(a, "000000001100.0000.nodeA", insert_service, SVC, LEAD, "E20", DEMO_OFFICE, NULL,
		   1767744000000LL);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	sql = sqlite3_mprintf(insert_service, SVC, LEAD, "E20", DEMO_OFFICE, NULL, 1767744000000LL);
	assert_int_equal(db_exec(b, sql), 0);
	sqlite3_free(sql);
	if (same_push) {
		/* (one node carrying both, as a bundle of two offices' work would) */
		node_write(a, "000000002000.0000.nodeA", insert_service, SVC_C1, LEAD, "E22",
			   DEMO_OFFICE, SVC, 1767744001000LL);
		node_write(a, "000000003000.0000.nodeA", insert_service, SVC_C2, LEAD, "E21",
			   DEMO_OFFICE2, SVC, 1767744002000LL);
		p = st_push(hub, a, &scope_a);
		assert_int_equal(p.applied, 2);
		assert_int_equal(p.quarantined, 0);
		counted = p.conflicts;
	} else {
		node_write(a, "000000002000.0000.nodeA", insert_service, SVC_C1, LEAD, "E22",
			   DEMO_OFFICE, SVC, 1767744001000LL);
		node_write(b, "000000003000.0000.nodeB", insert_service, SVC_C2, LEAD, "E21",
			   DEMO_OFFICE2, SVC, 1767744002000LL);
		for (int i = 0; i < 2; i++) {
			p = (i == 0) == c1_first ? st_push(hub, a, &scope_a) : st_push(hub, b, &scope_b);
			assert_int_equal(p.applied, 1);
			assert_int_equal(p.quarantined, 0);
			counted += p.conflicts;
		}
	}
	assert_int_equal(db_int(hub, "SELECT count(*) FROM employer_services WHERE corrects_id='" SVC "'", -1), 2);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts", -1), 1);
	assert_int_equal(counted, 1); /* the pushes' results count it once */
	assert_string_equal(q_text(hub, "SELECT tbl || ' ' || row_id || ' ' || column_name || ' ' || winner"
					" FROM conflicts WHERE ?1 IS NOT NULL", "x"),
			    "employer_services " SVC_C2 " corrects_id remote");
	/* both named, as rows: the hub's, the office's, and the service */
	assert_string_equal(q_text(hub, "SELECT json_extract(local_value, '$.code') || ' '"
					" || json_extract(remote_value, '$.code') || ' '"
					" || json_extract(base_value, '$.id') FROM conflicts WHERE row_id=?",
				   second),
			    "E22 E21 " SVC);
	/* in words: who, where, what each made it, which counts */
	{
		char why[2048];
		assert_int_equal(db_text(hub, "SELECT reason FROM conflicts WHERE row_id=?", second, why,
					 sizeof why), 0);
		assert_non_null(strstr(why, "made it E22 from 2026-01-05"));
		assert_non_null(strstr(why, "made it E21 from 2026-01-05"));
		assert_non_null(strstr(why, "counts"));
	}
	model_set_conflict_recorder(NULL);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

static void test_two_corrections_of_a_service_are_a_conflict(void **state)
{
	(void)state;
	corrections_cross(1, 0);
	corrections_cross(0, 0);
	corrections_cross(1, 1);
}

/*
 * A push's conflicts figure counts the conflicts that hold.  The hub
 * applies a batch's new rows as one group (sync/apply_batch.c), checks
 * them after, and when a check refuses an entry rolls the group back and
 * tries again without it: the second correction of a service (its
 * conflict recorded by the check) in a group with a service of an unknown
 * code is checked twice, its conflict recorded once, and counted once, for
 * its entry.  Before, a grouped entry's conflicts were not counted at all
 * (and, counted per try, would have been twice).
 */
static void test_grouped_conflicts_count_the_try_that_holds(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	sync_apply_cache *c = sync_apply_cache_new(hub);
	sync_entry es[2];
	sync_apply_result r[2];
	st_batch_count k;
	sqlite3_stmt *st;
	char *sql, *hlc[2], *cs[2];
	int n = 0;

	(void)state;
	assert_non_null(c);
	sync_set_validator(crm_hub_validate_row);
	model_set_conflict_recorder(sync_record_conflict);
	lead_at_both(hub, a, b);
	node_write(a, "000000001100.0000.nodeA", insert_service, SVC, LEAD, "E20", DEMO_OFFICE, NULL,
		   1767744000000LL);
	node_write(a, "000000002000.0000.nodeA", insert_service, SVC_C1, LEAD, "E22", DEMO_OFFICE,
		   SVC, 1767744001000LL);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 2);
	sql = sqlite3_mprintf(insert_service, SVC, LEAD, "E20", DEMO_OFFICE, NULL, 1767744000000LL);
	assert_int_equal(db_exec(b, sql), 0);
	sqlite3_free(sql);
	node_write(b, "000000003000.0000.nodeB", insert_service, SVC_C2, LEAD, "E21", DEMO_OFFICE2,
		   SVC, 1767744002000LL);
	node_write(b, "000000003100.0000.nodeB", insert_service,
		   "0190a000-0000-7000-8000-00000000e0ff", LEAD, "E999", DEMO_OFFICE2, NULL,
		   1767744003000LL);
	assert_int_equal(db_prepare(b, &st, "SELECT seq, hlc, actor, changeset FROM outbox ORDER BY seq"), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* (copies: the row's text is the statement's until its next step) */
		assert_true(n < 2);
		hlc[n] = sqlite3_mprintf("%s", sqlite3_column_text(st, 1));
		cs[n] = sqlite3_malloc(sqlite3_column_bytes(st, 3));
		assert_non_null(hlc[n]);
		assert_non_null(cs[n]);
		memcpy(cs[n], sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3));
		es[n] = (sync_entry){sqlite3_column_int64(st, 0), hlc[n], "demo-staff", cs[n],
				     (size_t)sqlite3_column_bytes(st, 3)};
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, 2);
	sync_set_batch_min_rows(1);
	k = st_apply_batch(hub, c, &scope_b, es, n, r);
	sync_set_batch_min_rows(SYNC_BATCH_MIN_ROWS);
	for (int i = 0; i < n; i++) {
		sqlite3_free(hlc[i]);
		sqlite3_free(cs[i]);
	}
	assert_int_equal(k.tries, 2); /* rolled back once, then held */
	assert_int_equal(r[0].applied, 1);
	assert_int_equal(r[1].applied, 0);
	assert_non_null(strstr(r[1].reason, "unknown activity code"));
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts", -1), 1);
	assert_int_equal(r[0].conflicts, 1);
	assert_int_equal(r[1].conflicts, 0);
	sync_apply_cache_free(c);
	model_set_conflict_recorder(NULL);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

/*
 * Two edits, each valid on the row its office saw, that merged make a row
 * no rule allows: office A converts the lead to a recruiting employer
 * (which needs a phone), office B, offline on the old lead, clears its
 * phone and changes its website.  B's entry is not quarantined whole: the
 * hub keeps A's row and records each of B's values as a conflict it won,
 * the rule as the reason.  B's own edit of the row it had not seen changed
 * would have been quarantined before (checked: fails without keep_hub_row).
 */
static void test_merge_that_breaks_a_rule_is_a_conflict(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	st_pushed p;
	int64_t before;

	(void)state;
	sync_set_validator(crm_hub_validate_row);
	lead_at_both(hub, a, b);
	node_write(a, "000000002000.0000.nodeA",
		   "UPDATE employers SET account_type='recruiting', edd_account_number='1234567',"
		   " industry='4931', updated_hlc='000000002000.0000.nodeA' WHERE id=%Q", LEAD);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	node_write(b, "000000003000.0000.nodeB",
		   "UPDATE employers SET phone=NULL, website='www.acme.example.com',"
		   " updated_hlc='000000003000.0000.nodeB' WHERE id=%Q", LEAD);
	before = db_int(hub, "SELECT max(seq) FROM change_log", -1);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 2);
	assert_string_equal(q_text(hub, "SELECT account_type FROM employers WHERE id=?", LEAD), "recruiting");
	assert_string_equal(q_text(hub, "SELECT phone FROM employers WHERE id=?", LEAD), "(916) 555-0100");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM employers WHERE website IS NULL", -1), 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts WHERE tbl='employers'"
				     " AND column_name='phone' AND winner='local' AND remote_value='null'"
				     " AND base_value='\"(916) 555-0100\"' AND node_id='nodeB'"
				     " AND reason LIKE 'the office''s edit of a record the hub had changed since would break a rule:"
				     " employers: a recruiting employer keeps what its conversion required%phone%'",
				     -1), 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts WHERE column_name='website'"
				     " AND winner='local' AND remote_value='\"www.acme.example.com\"'"
				     " AND reason IS NOT NULL", -1), 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts", -1), 2);
	/* The row is logged again by B's push, for B to get the hub's back. */
	assert_int_equal(db_int_bound(hub, -1, "SELECT count(*) FROM change_log WHERE tbl='employers'"
					   " AND row_id='" LEAD "' AND seq > ?", "I", before), 1);
	/* An edit of the row as the hub has it now that breaks the rule is
	 * the office's own: quarantined as before. */
	node_write(a, "000000004000.0000.nodeA",
		   "UPDATE employers SET phone=NULL, updated_hlc='000000004000.0000.nodeA' WHERE id=%Q", LEAD);
	st_push_refused(hub, a, &scope_a, "conversion required");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts", -1), 2);
	/* The ordinary conflicts carry no reason. */
	node_write(b, "000000005000.0000.nodeB",
		   "UPDATE employers SET street='2 Oak Ave', updated_hlc='000000005000.0000.nodeB' WHERE id=%Q",
		   LEAD);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_string_equal(q_text(hub, "SELECT street FROM employers WHERE id=?", LEAD), "2 Oak Ave");
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

static const char insert_wi[] =
	"INSERT INTO work_items(id, employer_id, category_id, priority_id, status, due_date,"
	" description, assignee_id, created_by, office_id, created_at, deleted, updated_hlc)"
	" VALUES(%Q,%Q,'crm-cat-outreach','crm-pri-normal','New','2026-03-10','Call',"
	"'demo-staff','demo-staff','demo-office',1,0,%Q)";

/* The same when both offices changed the field itself: A converts the
 * lead and changes its phone, B (later) clears the phone and reaches the
 * hub first; A's conversion then meets a row with no phone. */
static void test_merge_that_breaks_a_rule_on_the_same_field(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	st_pushed p;

	(void)state;
	sync_set_validator(crm_hub_validate_row);
	lead_at_both(hub, a, b);
	node_write(a, "000000002000.0000.nodeA",
		   "UPDATE employers SET account_type='recruiting', edd_account_number='1234567',"
		   " industry='4931', phone='(916) 555-0199', updated_hlc='000000002000.0000.nodeA'"
		   " WHERE id=%Q", LEAD);
	node_write(b, "000000003000.0000.nodeB",
		   "UPDATE employers SET phone=NULL, updated_hlc='000000003000.0000.nodeB' WHERE id=%Q", LEAD);
	assert_int_equal(st_push(hub, b, &scope_b).applied, 1);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(p.applied, 1);
	assert_string_equal(q_text(hub, "SELECT account_type FROM employers WHERE id=?", LEAD), "lead");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM employers WHERE phone IS NULL", -1), 1);
	/* account_type, edd_account_number, industry and phone: each kept. */
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts WHERE winner='local'"
				     " AND node_id='nodeA' AND reason LIKE '%conversion required%'", -1), 4);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM conflicts", -1), 4);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

/* A work item the hub took before it checked the employer (here: with no
 * validator) goes on being edited: only a row inserted, or moved to
 * another employer (the hub's trust check), must name one it has. */
static void test_older_row_without_its_employer_still_edited(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	st_pushed p;

	(void)state;
	node_write(a, "000000001000.0000.nodeA", insert_wi, WI, LEAD, "000000001000.0000.nodeA");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	sync_set_validator(crm_hub_validate_row);
	node_write(a, "000000002000.0000.nodeA",
		   "UPDATE work_items SET status='Closed', closed_at=5, updated_hlc='000000002000.0000.nodeA'"
		   " WHERE id=%Q", WI);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(p.applied, 1);
	assert_string_equal(q_text(hub, "SELECT status FROM work_items WHERE id=?", WI), "Closed");
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(hub);
}

/* ---- the grouped apply against one by one --------------------------------- */

/* The node's outbox as entries (caller frees them, bo_free()); the outbox
 * is emptied. */
static int bo_entries(sqlite3 *a, sync_entry *es, int max)
{
	sqlite3_stmt *st;
	int n = 0;

	assert_int_equal(db_prepare(a, &st, "SELECT seq, hlc, actor, changeset FROM outbox ORDER BY seq"), 0);
	while (sqlite3_step(st) == SQLITE_ROW && n < max) {
		size_t len = (size_t)sqlite3_column_bytes(st, 3);
		void *cs = malloc(len);

		assert_non_null(cs);
		memcpy(cs, sqlite3_column_blob(st, 3), len);
		es[n] = (sync_entry){sqlite3_column_int64(st, 0), strdup((const char *)sqlite3_column_text(st, 1)),
				     sqlite3_column_type(st, 2) == SQLITE_NULL
					     ? NULL
					     : strdup((const char *)sqlite3_column_text(st, 2)),
				     cs, len};
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(db_exec(a, "DELETE FROM outbox"), 0);
	return n;
}

/* The entries bo_entries() made. */
static void bo_free(sync_entry *es, int n)
{
	for (int i = 0; i < n; i++) {
		free((void *)es[i].hlc);
		free((void *)es[i].actor);
		free((void *)es[i].changeset);
	}
}

static void bo_apply_both(sqlite3 *h1, sqlite3 *h2, const sync_entry *es, int n,
			  sync_apply_result *r1, sync_apply_result *r2)
{
	sync_apply_cache *c = sync_apply_cache_new(h2);

	assert_non_null(c);
	for (int i = 0; i < n; i++) {
		assert_int_equal(db_exec(h1, "BEGIN IMMEDIATE"), 0);
		assert_int_equal(sync_hub_apply(h1, &scope_a, &es[i], &r1[i]), 0);
		assert_int_equal(db_exec(h1, "COMMIT"), 0);
	}
	assert_int_equal(db_exec(h2, "BEGIN IMMEDIATE"), 0);
	assert_int_equal(sync_hub_apply_batch(h2, c, &scope_a, es, n, r2), 0);
	assert_int_equal(db_exec(h2, "COMMIT"), 0);
	sync_apply_cache_free(c);
}

/* One text: every row of sql (one column), ';'-separated (caller frees). */
static char *bo_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);

	assert_non_null(out);
	out[0] = 0;
	assert_int_equal(db_prepare(db, &st, sql), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		size_t k;

		t = t ? t : "NULL";
		k = strlen(t);
		while (len + k + 2 > cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + len, t, k);
		len += k;
		out[len++] = ';';
		out[len] = 0;
	}
	sqlite3_finalize(st);
	return out;
}

/* 1 when sql reads the same at both hubs, else 0 (the difference printed). */
static int bo_same(sqlite3 *h1, sqlite3 *h2, const char *sql)
{
	char *x = bo_rows(h1, sql), *y = bo_rows(h2, sql);
	int same = strcmp(x, y) == 0;

	if (!same)
		print_message("DIFF %s\n  one by one: %s\n  batch:      %s\n", sql, x, y);
	free(x);
	free(y);
	return same;
}

/* 1 when every entry had the same outcome, else 0 (printed). */
static int bo_outcomes(const sync_apply_result *r1, const sync_apply_result *r2, int n)
{
	int same = 1;

	for (int i = 0; i < n; i++)
		if (r1[i].applied != r2[i].applied || r1[i].conflicts != r2[i].conflicts ||
		    strcmp(r1[i].reason, r2[i].reason) != 0) {
			print_message("DIFF entry %d: one by one applied=%d '%s'; batch applied=%d '%s'\n", i,
				      r1[i].applied, r1[i].reason, r2[i].applied, r2[i].reason);
			same = 0;
		}
	return same;
}

/* count notes on LEAD at node a, an entry each (HLCs from 1100). */
static void notes_on_lead(sqlite3 *a, int count)
{
	for (int i = 0; i < count; i++) {
		char hlc[64];
		snprintf(hlc, sizeof hlc, "%012d.0000.nodeA", 1100 + i);
		node_write(a, hlc, "INSERT INTO employer_notes(id, employer_id, staff_id, body, created_at)"
			   " VALUES('0190a000-0000-7000-8000-0000000f%04d',%Q,'demo-staff','n',1)", i, LEAD);
	}
}

/* Node a's outbox to hub h1 one by one and to h2 as one batch (at the
 * hub's minimum, with the CRM rules); 1 when every outcome and what sql
 * reads are the same at both.  Closes the three. */
static int bo_compare(sqlite3 *h1, sqlite3 *h2, sqlite3 *a, const char *sql)
{
	sync_entry es[48];
	sync_apply_result r1[48], r2[48];
	int n, ok;

	n = bo_entries(a, es, 48);
	bo_apply_both(h1, h2, es, n, r1, r2);
	ok = bo_outcomes(r1, r2, n);
	ok &= bo_same(h1, h2, sql);
	bo_free(es, n);
	sqlite3_close(a);
	sqlite3_close(h1);
	sqlite3_close(h2);
	return ok;
}

/*
 * Two leads of the same company made offline in one push (what duplicate
 * flags are for), and 30 notes: at the hub's minimum the leads are grouped.
 * One by one the flag names the later lead as employer_id ("the later
 * arrival", schema_crm.c), with its clock; the group stores both before it
 * checks the first, which must not flag the second (crm_flag_duplicates,
 * earlier_only).  Found by a review.
 */
static void test_batch_duplicate_flag_names_the_later_lead(void **state)
{
	sqlite3 *h1 = open_db(1), *h2 = open_db(1), *a = open_db(0);

	(void)state;
	sync_set_validator(crm_hub_validate_row);
	node_write(a, "000000001000.0000.nodeA", insert_lead, LEAD, "Acme Tools, Inc.", "acme tools",
		   "MKTACMETOOLS0001", DEMO_OFFICE, "000000001000.0000.nodeA");
	node_write(a, "000000001001.0000.nodeA", insert_lead, LEAD_B, "Acme Tools LLC", "acme tools",
		   "MKTACMETOOLS0002", DEMO_OFFICE, "000000001001.0000.nodeA");
	notes_on_lead(a, 30);
	assert_true(bo_compare(h1, h2, a, "SELECT employer_id || ' -> ' || other_employer_id || ' ' ||"
				       " reason || ' ' || updated_hlc FROM crm_duplicate_flags ORDER BY 1"));
	sync_set_validator(NULL);
}

/*
 * An office closes an old lead (merged) and then makes a new lead of the
 * same company, with notes.  One by one the new lead meets the old one
 * inactive: no flag.  A lead after a merged entry does not join the group,
 * which is checked before the merged entries (apply_batch.c, run_group).
 */
static void test_batch_no_flag_for_a_lead_closed_first(void **state)
{
	sqlite3 *h1 = open_db(1), *h2 = open_db(1), *a = open_db(0);
	char *s;

	(void)state;
	sync_set_validator(crm_hub_validate_row);
	s = sqlite3_mprintf(insert_lead, LEAD_B, "Bay Tools", "bay tools", "MKTBAYTOOLS0001",
			    DEMO_OFFICE, "000000000900.0000.nodeA");
	assert_int_equal(db_exec(h1, s), 0);
	assert_int_equal(db_exec(h2, s), 0);
	assert_int_equal(db_exec(a, s), 0);
	sqlite3_free(s);
	node_write(a, "000000001000.0000.nodeA", "UPDATE employers SET status='inactive',"
		   " updated_hlc='000000001000.0000.nodeA' WHERE id=%Q", LEAD_B);
	node_write(a, "000000001001.0000.nodeA", insert_lead, LEAD, "Bay Tools, Inc.", "bay tools",
		   "MKTBAYTOOLS0002", DEMO_OFFICE, "000000001001.0000.nodeA");
	notes_on_lead(a, 31);
	assert_true(bo_compare(h1, h2, a, "SELECT employer_id || ' -> ' || other_employer_id || ' ' ||"
				       " status FROM crm_duplicate_flags ORDER BY 1"));
	sync_set_validator(NULL);
}

/*
 * A backlog that makes a lead, adds 40 notes on it (the 21st without a
 * body) and edits the lead, pushed as one batch (42 entries); with
 * edit_another, the entry that makes the lead also edits another lead,
 * which the hub holds.  The counts of the grouped apply (tries of a group,
 * entries merged); what both cases share is checked here: the 21st note is
 * quarantined with its reason, every other entry applied, each row in the
 * change log once, the lead twice (made, edited).
 */
static st_batch_count lead_backlog(int edit_another)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	sync_apply_cache *c = sync_apply_cache_new(hub);
	sync_entry es[48];
	sync_apply_result r[48];
	st_batch_count k;
	int n = 0, applied = 0;

	assert_non_null(c);
	sync_set_validator(crm_hub_validate_row);
	if (edit_another) {
		char *sql = sqlite3_mprintf(insert_lead, LEAD_B, "Bay Tools", "bay tools", "MKTBAYTOOLS0001",
					    DEMO_OFFICE, "000000000900.0000.nodeA");
		assert_int_equal(db_exec(hub, sql), 0);
		assert_int_equal(db_exec(a, sql), 0);
		sqlite3_free(sql);
	}
	{	/* the lead, in one entry with that edit */
		char *sql = sqlite3_mprintf(insert_lead, LEAD, "Acme Tools, Inc.", "acme tools",
					    "MKTACMETOOLS0001", DEMO_OFFICE, "000000001000.0000.nodeA");
		assert_non_null(sql);
		node_write(a, "000000001000.0000.nodeA", "%s%s",
			   edit_another ? "UPDATE employers SET website='bay.example.com',"
					  " updated_hlc='000000001000.0000.nodeA' WHERE id='" LEAD_B "';"
					: "",
			   sql);
		sqlite3_free(sql);
	}
	for (int i = 0; i < 40; i++) {
		char hlc[64];

		snprintf(hlc, sizeof hlc, "%012d.0000.nodeA", 1100 + i);
		node_write(a, hlc, "INSERT INTO employer_notes(id, employer_id, staff_id, body, created_at)"
			   " VALUES('0190a000-0000-7000-8000-0000000f%04d',%Q,'demo-staff',%Q,1)",
			   i, LEAD, i == 20 ? "" : "Met the owner");
	}
	node_write(a, "000000001200.0000.nodeA",
		   "UPDATE employers SET website='www.acme.example.com', updated_hlc='000000001200.0000.nodeA'"
		   " WHERE id=%Q", LEAD);
	n = bo_entries(a, es, 48);
	assert_int_equal(n, 42);
	k = st_apply_batch(hub, c, &scope_a, es, n, r);
	for (int i = 0; i < n; i++)
		applied += r[i].applied;
	assert_int_equal(applied, 41);
	assert_int_equal(r[21].applied, 0);
	assert_non_null(strstr(r[21].reason, "body is required"));
	assert_int_equal(db_int(hub, "SELECT count(*) FROM quarantine", -1), 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM employer_notes", -1), 39);
	assert_string_equal(q_text(hub, "SELECT website FROM employers WHERE id=?", LEAD), "www.acme.example.com");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM change_log WHERE tbl='employer_notes'", -1), 39);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM change_log WHERE tbl='employers' AND row_id='" LEAD "'",
				-1), 2);
	if (edit_another)
		assert_string_equal(q_text(hub, "SELECT website FROM employers WHERE id=?", LEAD_B),
				    "bay.example.com");
	bo_free(es, n);
	sync_apply_cache_free(c);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(hub);
	return k;
}

/* The lead's entry only inserts: it is grouped first, with the triggers of
 * its table on (its full-text index), and the notes in the second group
 * find it - one try each, and a second for the notes without the 21st,
 * which is merged, as is the lead's edit. */
static void test_batch_lead_grouped_before_its_notes(void **state)
{
	st_batch_count k;

	(void)state;
	k = lead_backlog(0);
	assert_int_equal(k.tries, 3);
	assert_int_equal(k.merged, 2);
}

/* The lead's entry also edits another lead, so it is merged, after the
 * group: every note is refused there for its employer.  They all leave it
 * at once (one try, where one note a try spent 8 and then sent every entry
 * of the batch one by one), and are grouped again once the lead is merged
 * (regroup(): two tries, the 21st leaving the second group too); merged:
 * the lead's entry, the 21st note and the lead's edit (it was all 42). */
static void test_batch_notes_of_a_merged_lead_grouped_again(void **state)
{
	st_batch_count k;

	(void)state;
	k = lead_backlog(1);
	assert_int_equal(k.tries, 3);
	assert_int_equal(k.merged, 3);
}

static void test_work_item_merge_and_closed_is_final(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	st_pushed p;
	char *sql;

	(void)state;
	/* (the hub's probes: which columns a change sets, the row it met) */
	sync_set_validator(crm_hub_validate_row);
	model_set_change_probe(sync_change_sets);
	model_set_was_probe(sync_change_was);
	model_set_conflict_recorder(sync_record_conflict);
	/* A work item names an employer the hub has. */
	node_write(a, "000000000900.0000.nodeA", insert_wi, "0190a000-0000-7000-8000-00000000c1ff",
		   LEAD, "000000000900.0000.nodeA");
	st_push_refused(hub, a, &scope_a, "work_items: no such employer");
	node_write(a, "000000000990.0000.nodeA", insert_lead, LEAD, "Acme Tools, Inc.", "acme tools",
		   "MKTACMETOOLS0001", DEMO_OFFICE, "000000000990.0000.nodeA");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	/* ... and is made open: closing is an edit (who and when) */
	node_write(a, "000000000995.0000.nodeA",
		   "INSERT INTO work_items(id, employer_id, category_id, priority_id, status,"
		   " description, created_at, updated_hlc) VALUES('0190a000-0000-7000-8000-00000000c2ff',"
		   "%Q,'crm-cat-outreach','crm-pri-normal','Closed','Call',1,'000000000995.0000.nodeA')",
		   LEAD);
	st_push_refused(hub, a, &scope_a, "work_items: a work item is made New or In Progress, then closed");
	node_write(a, "000000001000.0000.nodeA", insert_wi, WI, LEAD, "000000001000.0000.nodeA");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	sql = sqlite3_mprintf(insert_wi, WI, LEAD, "000000001000.0000.nodeA");
	assert_int_equal(db_exec(b, sql), 0);
	sqlite3_free(sql);
	/* A closes it early; B (offline, with a later-looking clock for the
	 * due date but an OLDER status edit) re-dates it and moves it to In
	 * Progress.  The status stays Closed, and a closed item is a record of
	 * work done: B's due date is not taken either, but kept as a conflict
	 * the hub won, naming the close (not lost, not quarantined: B's edit
	 * was valid on the item it saw; TD_FINAL_RECORD). */
	node_write(a, "000000005000.0000.nodeA",
		   "UPDATE work_items SET status='Closed', closed_at=5000, updated_hlc='000000005000.0000.nodeA' WHERE id=%Q", WI);
	node_write(b, "000000004000.0000.nodeB",
		   "UPDATE work_items SET status='In Progress', due_date='2026-03-20',"
		   " updated_hlc='000000004000.0000.nodeB' WHERE id=%Q", WI);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	assert_string_equal(q_text(hub, "SELECT status FROM work_items WHERE id=?", WI), "Closed");
	assert_string_equal(q_text(hub, "SELECT due_date FROM work_items WHERE id=?", WI), "2026-03-10");
	assert_true(db_int(hub, "SELECT count(*) FROM conflicts WHERE tbl='work_items' AND column_name='status'", -1) == 1);
	assert_string_equal(q_text(hub, "SELECT json_extract(remote_value, '$') || ' ' || winner || ' ' || reason"
					" FROM conflicts WHERE row_id=? AND column_name='due_date'", WI),
			    "2026-03-20 local the office's edit crossed the record's final state"
			    " (status Closed): a final record is not edited");
	/* A newer edit does not reopen it either (Closed is final, as the
	 * offices' route says): kept as a conflict. */
	node_write(b, "000000005500.0000.nodeB",
		   "UPDATE work_items SET status='New', updated_hlc='000000005500.0000.nodeB' WHERE id=%Q", WI);
	st_push(hub, b, &scope_b);
	assert_string_equal(q_text(hub, "SELECT status FROM work_items WHERE id=?", WI), "Closed");
	assert_true(db_int(hub, "SELECT count(*) FROM conflicts WHERE tbl='work_items' AND column_name='status'", -1) == 2);
	/* B, still unaware of the close, edits on its own later version (its
	 * stamp newer than any write of the hub's): a crossing all the same. */
	node_write(b, "000000006000.0000.nodeB",
		   "UPDATE work_items SET description='Call twice', updated_hlc='000000006000.0000.nodeB'"
		   " WHERE id=%Q", WI);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.quarantined, 0);
	assert_string_equal(q_text(hub, "SELECT description FROM work_items WHERE id=?", WI), "Call");
	assert_string_equal(q_text(hub, "SELECT json_extract(remote_value, '$') || ' ' || winner FROM conflicts"
					" WHERE row_id=? AND column_name='description'", WI), "Call twice local");
	/* An edit of the item as the hub holds it, closed (the office that
	 * closed it; its route refuses this): quarantined, with the reason. */
	node_write(a, "000000005800.0000.nodeA",
		   "UPDATE work_items SET description='Call again', updated_hlc='000000005800.0000.nodeA'"
		   " WHERE id=%Q", WI);
	st_push_refused(hub, a, &scope_a,
			"work_items: a closed work item is a record of work done: its description is not changed");
	assert_string_equal(q_text(hub, "SELECT description FROM work_items WHERE id=?", WI), "Call");
	/* What a closed item still takes: the edit that closes it, with other
	 * fields (the item was open then), a note, and the delete. */
	node_write(a, "000000005900.0000.nodeA", insert_wi, WI2, LEAD, "000000005900.0000.nodeA");
	node_write(a, "000000005950.0000.nodeA",
		   "UPDATE work_items SET status='Closed', closed_at=5950, description='Called, done',"
		   " updated_hlc='000000005950.0000.nodeA' WHERE id=%Q", WI2);
	node_write(a, "000000005960.0000.nodeA",
		   "INSERT INTO work_item_notes(id, work_item_id, staff_id, body, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000c1a1',%Q,'demo-staff','Thanked them',5960)", WI2);
	node_write(a, "000000005970.0000.nodeA",
		   "UPDATE work_items SET deleted=1, updated_hlc='000000005970.0000.nodeA' WHERE id=%Q", WI2);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(p.applied, 4);
	assert_string_equal(q_text(hub, "SELECT status || ' ' || description || ' ' || deleted FROM work_items"
					" WHERE id=?", WI2), "Closed Called, done 1");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM work_item_notes WHERE body='Thanked them'", -1), 1);
	/* Assignment to someone outside the CRM work group is refused at the
	 * hub too (Pat Kim is View Access, not in the group). */
	node_write(a, "000000006000.0000.nodeA",
		   "INSERT INTO work_items(id, category_id, priority_id, status, description, assignee_id,"
		   " created_by, created_at, deleted, updated_hlc) VALUES('0190a000-0000-7000-8000-00000000c102',"
		   "'crm-cat-other','crm-pri-low','New','x','0190a000-0000-7000-8000-0000000000b3','demo-staff',1,0,"
		   "'000000006000.0000.nodeA')");
	st_push_refused(hub, a, &scope_a, "CRM work group");
	model_set_conflict_recorder(NULL);
	model_set_was_probe(NULL);
	model_set_change_probe(NULL);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

/* Two offices close one item, and a third change crosses a close: an
 * office's delete of the item it saw open. */
static void test_work_item_closed_twice_and_deleted_across_the_close(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	static const char wi3[] = "0190a000-0000-7000-8000-00000000c104",
			  wi4[] = "0190a000-0000-7000-8000-00000000c105";
	char expr[2048];
	st_pushed p;
	char *sql;

	(void)state;
	sync_set_validator(crm_hub_validate_row);
	model_set_change_probe(sync_change_sets);
	model_set_was_probe(sync_change_was);
	model_set_conflict_recorder(sync_record_conflict);
	node_write(a, "000000000990.0000.nodeA", insert_lead, LEAD, "Acme Tools, Inc.", "acme tools",
		   "MKTACMETOOLS0001", DEMO_OFFICE, "000000000990.0000.nodeA");
	node_write(a, "000000001000.0000.nodeA", insert_wi, wi3, LEAD, "000000001000.0000.nodeA");
	node_write(a, "000000001001.0000.nodeA", insert_wi, wi4, LEAD, "000000001001.0000.nodeA");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 3);
	/* (B pulled both items) */
	sql = sqlite3_mprintf(insert_wi, wi3, LEAD, "000000001000.0000.nodeA");
	assert_int_equal(db_exec(b, sql), 0);
	sqlite3_free(sql);
	sql = sqlite3_mprintf(insert_wi, wi4, LEAD, "000000001001.0000.nodeA");
	assert_int_equal(db_exec(b, sql), 0);
	sqlite3_free(sql);
	/* A closes the first item; B, offline, closes it too, re-dated, and
	 * adds its closing note.  The first close to reach the hub stands; of
	 * B's, the values equal to the hub's (the status) are no conflict, and
	 * what differs (who and when closed it, the due date) is kept, each
	 * value once, the reason saying it was closed twice; the note goes. */
	node_write(a, "000000005000.0000.nodeA",
		   "UPDATE work_items SET status='Closed', closed_at=5000, closed_by='demo-staff',"
		   " updated_hlc='000000005000.0000.nodeA' WHERE id=%Q", wi3);
	node_write(b, "000000005100.0000.nodeB",
		   "UPDATE work_items SET status='Closed', closed_at=5100, closed_by='staff-b',"
		   " due_date='2026-03-25', updated_hlc='000000005100.0000.nodeB' WHERE id=%Q", wi3);
	node_write(b, "000000005110.0000.nodeB",
		   "INSERT INTO work_item_notes(id, work_item_id, staff_id, body, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000c1b1',%Q,'demo-staff','Closed: hired two',5110)",
		   wi3);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.applied, 2);
	assert_int_equal(p.quarantined, 0);
	assert_string_equal(q_text(hub, "SELECT status || ' ' || closed_at || ' ' || closed_by || ' ' || due_date"
					" FROM work_items WHERE id=?", wi3),
			    "Closed 5000 demo-staff 2026-03-10");
	assert_string_equal(q_text(hub, "SELECT group_concat(column_name || '=' || json_extract(remote_value, '$')"
					" || ' ' || winner, ', ') FROM (SELECT * FROM conflicts WHERE row_id=?"
					" ORDER BY column_name)", wi3),
			    "closed_at=5100 local, closed_by=staff-b local, due_date=2026-03-25 local");
	assert_int_equal(db_int_bound(hub, -1, "SELECT count(*) FROM conflicts WHERE row_id=?1 AND reason="
						"'closed at two offices (status Closed): the close that reached"
						" the hub first stands, this office''s is kept here'", "t", wi3), 3);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM work_item_notes WHERE body='Closed: hired two'", -1), 1);
	/* A closes the second item; B, offline, deletes it as it saw it, open
	 * (its witness, as the office's route sends it).  An edit beats a
	 * delete: the closed record stays, the delete a conflict naming the
	 * close, not lost, not quarantined. */
	node_write(a, "000000006000.0000.nodeA",
		   "UPDATE work_items SET status='Closed', closed_at=6000, closed_by='demo-staff',"
		   " updated_hlc='000000006000.0000.nodeA' WHERE id=%Q", wi4);
	assert_int_equal(schema_soft_seen_expr(b, "work_items", expr, sizeof expr), 0);
	node_write(b, "000000006100.0000.nodeB",
		   "UPDATE work_items SET deleted=1, deleted_seen=%s, updated_hlc='000000006100.0000.nodeB'"
		   " WHERE id=%Q", expr, wi4);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	assert_string_equal(q_text(hub, "SELECT status || ' ' || deleted FROM work_items WHERE id=?", wi4),
			    "Closed 0");
	assert_string_equal(q_text(hub, "SELECT column_name || ' ' || winner || ': ' || reason FROM conflicts"
					" WHERE row_id=?", wi4),
			    "*deleted* local: the office's delete crossed the record's final state"
			    " (status Closed): the record stays; delete it again if it should go");
	model_set_conflict_recorder(NULL);
	model_set_was_probe(NULL);
	model_set_change_probe(NULL);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

static void test_duplicate_employers_flagged_at_hub(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	st_pushed p;

	(void)state;
	sync_set_validator(crm_hub_validate_row);
	/* The same employer typed differently in two offices, offline. */
	node_write(a, "000000001000.0000.nodeA", insert_lead, LEAD, "Acme Tools, Inc.", "acme tools",
		   "MKTACMETOOLS0001", DEMO_OFFICE, "000000001000.0000.nodeA");
	node_write(b, "000000001500.0000.nodeB", insert_lead, LEAD_B, "ACME TOOLS LLC", "acme tools",
		   "MKTACMETOOLS0777", DEMO_OFFICE2, "000000001500.0000.nodeB");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM crm_duplicate_flags", -1), 0);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.applied, 1);
	/* Both rows kept, one open flag naming both. */
	assert_int_equal(db_int(hub, "SELECT count(*) FROM employers", -1), 2);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM crm_duplicate_flags WHERE status='open' AND reason='name_zip'", -1), 1);
	assert_string_equal(q_text(hub, "SELECT other_employer_id FROM crm_duplicate_flags WHERE employer_id=?", LEAD_B), LEAD);
	/* The flag is replicated down like any hub row (change log). */
	assert_true(db_int(hub, "SELECT count(*) FROM change_log WHERE tbl='crm_duplicate_flags'", -1) >= 1);
	/* A later edit of either does not flag the pair twice. */
	node_write(b, "000000002000.0000.nodeB",
		   "UPDATE employers SET city='Sacramento ', updated_hlc='000000002000.0000.nodeB' WHERE id=%Q", LEAD_B);
	assert_int_equal(st_push(hub, b, &scope_b).applied, 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM crm_duplicate_flags", -1), 1);
	/* User names are unique statewide: two different employers that got
	 * the same one offline are flagged too (reason username). */
	node_write(a, "000000003000.0000.nodeA", insert_lead, "0190a000-0000-7000-8000-00000000c003",
		   "Zeta Bakery", "zeta bakery", "MKTZETA0042", DEMO_OFFICE, "000000003000.0000.nodeA");
	node_write(b, "000000003100.0000.nodeB", insert_lead, "0190a000-0000-7000-8000-00000000c004",
		   "Omega Plumbing", "omega plumbing", "MKTZETA0042", DEMO_OFFICE2, "000000003100.0000.nodeB");
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	assert_int_equal(st_push(hub, b, &scope_b).applied, 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM crm_duplicate_flags WHERE reason='username'"
				     " AND employer_id='0190a000-0000-7000-8000-00000000c004'"
				     " AND other_employer_id='0190a000-0000-7000-8000-00000000c003'", -1), 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM crm_duplicate_flags", -1), 2);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(hub);
}

static void test_hub_refuses_bad_crm_rows(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	st_pushed p;

	(void)state;
	sync_set_validator(crm_hub_validate_row);
	/* normalized_name that does not match company_name. */
	node_write(a, "000000001000.0000.nodeA", insert_lead, LEAD, "Acme Tools", "something else",
		   "MKTACME0001", DEMO_OFFICE, "000000001000.0000.nodeA");
	st_push_refused(hub, a, &scope_a, "normalized_name");
	/* A recruiting employer inserted: every employer is made a lead. */
	node_write(a, "000000001090.0000.nodeA",
		   "INSERT INTO employers(id, account_type, company_name, normalized_name, username, zip, zip5,"
		   " edd_account_number, street, city, state, phone, industry, created_at, status,"
		   " updated_hlc) VALUES('0190a000-0000-7000-8000-00000000c00b','recruiting','Gamma',"
		   "'gamma','GAMMA01','95814','95814','1234567','1 Main St','Sacramento','CA',"
		   "'(916) 555-0100','4931',1,'active','000000001090.0000.nodeA')");
	st_push_refused(hub, a, &scope_a, "made a marketing lead");
	/* Three leads, converted below. */
	node_write(a, "000000001095.0000.nodeA", insert_lead, LEAD_B, "Beta", "beta", "MKTBETA01",
		   DEMO_OFFICE, "000000001095.0000.nodeA");
	node_write(a, "000000001096.0000.nodeA", insert_lead, "0190a000-0000-7000-8000-00000000c008",
		   "Delta", "delta", "MKTDELTA01", DEMO_OFFICE, "000000001096.0000.nodeA");
	node_write(a, "000000001097.0000.nodeA", insert_lead, "0190a000-0000-7000-8000-00000000c00a",
		   "Epsilon", "epsilon", "MKTEPSILON01", DEMO_OFFICE, "000000001097.0000.nodeA");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 3);
	assert_int_equal(p.quarantined, 0);
	/* A conversion without an EDD Account Number. */
	node_write(a, "000000001100.0000.nodeA",
		   "UPDATE employers SET account_type='recruiting', username='BETA01',"
		   " vetting_status='pending', updated_hlc='000000001100.0000.nodeA' WHERE id=%Q", LEAD_B);
	st_push_refused(hub, a, &scope_a, "EDD");
	/* One with it, but without what else its conversion required. */
	node_write(a, "000000001150.0000.nodeA",
		   "UPDATE employers SET account_type='recruiting', username='DELTA01',"
		   " vetting_status='pending', edd_account_number='1234567', street=NULL, city=NULL,"
		   " phone=NULL, updated_hlc='000000001150.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000c008'");
	st_push_refused(hub, a, &scope_a, "conversion required (missing or not valid: street, city, phone, industry)");
	/* ... and with it all: applied. */
	node_write(a, "000000001160.0000.nodeA",
		   "UPDATE employers SET account_type='recruiting', username='EPSILON01',"
		   " vetting_status='pending', edd_account_number='1234567', industry='4931',"
		   " updated_hlc='000000001160.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000c00a'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	/* Clearing one of them later: refused, the hub's copy kept. */
	node_write(a, "000000001170.0000.nodeA",
		   "UPDATE employers SET street=NULL, updated_hlc='000000001170.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000c00a'");
	st_push_refused(hub, a, &scope_a, "street");
	assert_string_equal(q_text(hub, "SELECT street FROM employers WHERE id=?",
				   "0190a000-0000-7000-8000-00000000c00a"), "1 Main St");
	/* Two leads, each marked (offline, at two offices) as the duplicate of
	 * the other: the first mark is applied, the second held for review. */
	node_write(a, "000000001180.0000.nodeA", insert_lead, "0190a000-0000-7000-8000-00000000c0d1",
		   "Zeta Works", "zeta works", "MKTZETA01", DEMO_OFFICE, "000000001180.0000.nodeA");
	node_write(a, "000000001181.0000.nodeA", insert_lead, "0190a000-0000-7000-8000-00000000c0d2",
		   "Zeta Works Inc", "zeta works", "MKTZETA02", DEMO_OFFICE, "000000001181.0000.nodeA");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 0);
	node_write(a, "000000001182.0000.nodeA",
		   "UPDATE employers SET duplicate_of='0190a000-0000-7000-8000-00000000c0d2',"
		   " status='inactive', updated_hlc='000000001182.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000c0d1'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	node_write(a, "000000001183.0000.nodeA",
		   "UPDATE employers SET duplicate_of='0190a000-0000-7000-8000-00000000c0d1',"
		   " status='inactive', updated_hlc='000000001183.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000c0d2'");
	st_push_refused(hub, a, &scope_a, "already marked as a duplicate of this one");
	assert_string_equal(q_text(hub, "SELECT status FROM employers WHERE id=?",
				   "0190a000-0000-7000-8000-00000000c0d2"), "active");
	/* Rows on an employer the hub does not have (LEAD was refused above). */
	node_write(a, "000000001190.0000.nodeA",
		   "INSERT INTO employer_services(id, employer_id, code, start_date, end_date, completion_code, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d000',%Q,'E20','2026-01-05','2026-01-06','successful',1767744000000)", LEAD);
	st_push_refused(hub, a, &scope_a, "employer_services: no such employer");
	node_write(a, "000000001191.0000.nodeA",
		   "INSERT INTO employer_notes(id, employer_id, staff_id, body, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d100',%Q,'demo-staff','Met the owner',1)", LEAD);
	st_push_refused(hub, a, &scope_a, "employer_notes: no such employer");
	node_write(a, "000000001192.0000.nodeA",
		   "INSERT INTO employer_contacts(id, employer_id, kind, name, created_at, updated_hlc)"
		   " VALUES('0190a000-0000-7000-8000-00000000d200',%Q,'primary','Ann Lee',1,"
		   "'000000001192.0000.nodeA')", LEAD);
	st_push_refused(hub, a, &scope_a, "employer_contacts: no such employer");
	node_write(a, "000000001193.0000.nodeA",
		   "INSERT INTO employer_locations(id, employer_id, zip, created_at, updated_hlc)"
		   " VALUES('0190a000-0000-7000-8000-00000000d300',%Q,'95814',1,'000000001193.0000.nodeA')", LEAD);
	st_push_refused(hub, a, &scope_a, "employer_locations: no such employer");
	/* Services: a system-generated code, and a completion without end date. */
	node_write(a, "000000001200.0000.nodeA",
		   "INSERT INTO employer_services(id, employer_id, code, start_date, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d001',%Q,'E90','2026-01-05',1767744000000)", EPSILON);
	st_push_refused(hub, a, &scope_a, "system-generated");
	node_write(a, "000000001300.0000.nodeA",
		   "INSERT INTO employer_services(id, employer_id, code, start_date, completion_code, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d002',%Q,'E20','2026-01-05','successful',1767744000000)", EPSILON);
	st_push_refused(hub, a, &scope_a, "end date");
	node_write(a, "000000001400.0000.nodeA",
		   "INSERT INTO employer_services(id, employer_id, code, start_date, end_date, completion_code, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d003',%Q,'E20','2026-01-05','2026-01-06','successful',1767744000000)", EPSILON);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	/* Case notes: a body is required; a good one goes in. */
	node_write(a, "000000001410.0000.nodeA",
		   "INSERT INTO employer_notes(id, employer_id, staff_id, body, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d101',%Q,'demo-staff','',1)", EPSILON);
	st_push_refused(hub, a, &scope_a, "employer_notes");
	node_write(a, "000000001420.0000.nodeA",
		   "INSERT INTO employer_notes(id, employer_id, staff_id, body, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d102',%Q,'demo-staff','Met the owner',1)", EPSILON);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	/* A vetting status the rules do not know. */
	node_write(a, "000000001430.0000.nodeA",
		   "UPDATE employers SET vetting_status='waived', updated_hlc='000000001430.0000.nodeA'"
		   " WHERE id=%Q", EPSILON);
	st_push_refused(hub, a, &scope_a, "vetting_status");
	/* A job order for an employer whose vetting is pending at the hub:
	 * refused (WSIN15-21: vetted before it is provided access); once
	 * vetted, one is taken. */
	node_write(a, "000000001440.0000.nodeA",
		   "INSERT INTO job_orders(id, employer_id, title, openings, location, wage, open_date,"
		   " created_at, updated_hlc) VALUES('0190a000-0000-7000-8000-00000000d401',%Q,'Baker',2,"
		   "'Sacramento',21.5,'2026-01-05',1,'000000001440.0000.nodeA')", EPSILON);
	st_push_refused(hub, a, &scope_a, "job_orders: job orders are posted once WSB staff have vetted"
					  " the employer");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM job_orders", -1), 0);
	/* What else waits for the vetting: a recruiting-only service (E26
	 * does not), a Job Order work item (another category does not), a
	 * referral to a job order it had before the rule. */
	node_write(a, "000000001441.0000.nodeA",
		   "INSERT INTO employer_services(id, employer_id, code, start_date, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d004',%Q,'E24','2026-01-05',1767744000000)", EPSILON);
	st_push_refused(hub, a, &scope_a, "employer_services: E24: job listings, job and resume referrals"
					  " and candidate pre-screens are recorded once WSB staff have vetted"
					  " the employer (its vetting is pending)");
	node_write(a, "000000001442.0000.nodeA",
		   "INSERT INTO work_items(id, employer_id, category_id, priority_id, status, description,"
		   " created_at, updated_hlc) VALUES('0190a000-0000-7000-8000-00000000d501',%Q,"
		   "'crm-cat-job-order','crm-pri-normal','New','Take the job order',1,"
		   "'000000001442.0000.nodeA')", EPSILON);
	st_push_refused(hub, a, &scope_a, "work_items: a Job Order work item is made once WSB staff have"
					  " vetted the employer");
	node_write(a, "000000001443.0000.nodeA",
		   "INSERT INTO employer_services(id, employer_id, code, start_date, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d005',%Q,'E26','2026-01-05',1767744000000)", EPSILON);
	node_write(a, "000000001444.0000.nodeA",
		   "INSERT INTO work_items(id, employer_id, category_id, priority_id, status, description,"
		   " created_at, updated_hlc) VALUES('0190a000-0000-7000-8000-00000000d502',%Q,"
		   "'crm-cat-outreach','crm-pri-normal','New','Call them',1,'000000001444.0000.nodeA')",
		   EPSILON);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 2);
	assert_int_equal(p.quarantined, 0);
	/* So is an edit that makes an item a Job Order item of the pending
	 * employer, as the office's PATCH holds: re-categorising its Outreach
	 * item, linking a Job Order item made with no employer to it.  Another
	 * edit of a Job Order item it had before the rule goes through.  (With
	 * the hub's probe: the columns an edit sets.) */
	model_set_change_probe(sync_change_sets);
	node_write(a, "000000001446.0000.nodeA",
		   "UPDATE work_items SET category_id='crm-cat-job-order', updated_hlc='000000001446.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000d502'");
	st_push_refused(hub, a, &scope_a, "work_items: a Job Order work item is made once WSB staff have"
					  " vetted the employer");
	assert_string_equal(q_text(hub, "SELECT category_id FROM work_items WHERE id=?",
				   "0190a000-0000-7000-8000-00000000d502"), "crm-cat-outreach");
	node_write(a, "000000001447.0000.nodeA",
		   "INSERT INTO work_items(id, category_id, priority_id, status, description, created_at,"
		   " updated_hlc) VALUES('0190a000-0000-7000-8000-00000000d504','crm-cat-job-order',"
		   "'crm-pri-normal','New','Post a job order',1,'000000001447.0000.nodeA')");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	node_write(a, "000000001448.0000.nodeA",
		   "UPDATE work_items SET employer_id=%Q, updated_hlc='000000001448.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000d504'", EPSILON);
	st_push_refused(hub, a, &scope_a, "work_items: a Job Order work item is made once WSB staff have"
					  " vetted the employer");
	{
		const char *older = "INSERT INTO work_items(id, employer_id, category_id, priority_id, status,"
				    " description, created_at, updated_hlc) VALUES("
				    "'0190a000-0000-7000-8000-00000000d505','" EPSILON "','crm-cat-job-order',"
				    "'crm-pri-normal','New','Take the job order',1,'000000001445.0000.nodeA')";

		assert_int_equal(db_exec(hub, older), 0);
		assert_int_equal(db_exec(a, older), 0);
	}
	node_write(a, "000000001449.0000.nodeA",
		   "UPDATE work_items SET description='Take it next week', updated_hlc='000000001449.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000d505'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	assert_string_equal(q_text(hub, "SELECT description FROM work_items WHERE id=?",
				   "0190a000-0000-7000-8000-00000000d505"), "Take it next week");
	/* ... as is every other edit of it the office's PATCH takes (due
	 * date, assignee, priority; a note is a row of its own); moved to
	 * another category, it is not moved back while the vetting is
	 * pending. */
	node_write(a, "000000001450.0000.nodeA",
		   "UPDATE work_items SET due_date='2026-02-01', assignee_id='demo-staff',"
		   " priority_id='crm-pri-high', updated_hlc='000000001450.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000d505'");
	node_write(a, "000000001451.0000.nodeA",
		   "INSERT INTO work_item_notes(id, work_item_id, staff_id, body, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d5a5','0190a000-0000-7000-8000-00000000d505',"
		   "'demo-staff','Waiting for the vetting',1451)");
	node_write(a, "000000001452.0000.nodeA",
		   "UPDATE work_items SET category_id='crm-cat-follow-up', updated_hlc='000000001452.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000d505'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 3);
	assert_int_equal(p.quarantined, 0);
	assert_string_equal(q_text(hub, "SELECT due_date || ' ' || assignee_id || ' ' || priority_id || ' '"
					" || category_id FROM work_items WHERE id=?",
				   "0190a000-0000-7000-8000-00000000d505"),
			    "2026-02-01 demo-staff crm-pri-high crm-cat-follow-up");
	node_write(a, "000000001453.0000.nodeA",
		   "UPDATE work_items SET category_id='crm-cat-job-order', updated_hlc='000000001453.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000d505'");
	st_push_refused(hub, a, &scope_a, "work_items: a Job Order work item is made once WSB staff have"
					  " vetted the employer");
	/* A Job Order item of a marketing lead (Zeta Works Inc, a lead at
	 * both): a new one is refused, as is an edit that makes an item one.
	 * One the lead had before the rule keeps its category: its other edits
	 * (due date, description, assignee, status; resending the category it
	 * has is no change) go through, as at the office. */
	node_write(a, "000000001454.0000.nodeA",
		   "INSERT INTO work_items(id, employer_id, category_id, priority_id, status, description,"
		   " created_at, updated_hlc) VALUES('0190a000-0000-7000-8000-00000000d506',"
		   "'0190a000-0000-7000-8000-00000000c0d2','crm-cat-job-order','crm-pri-normal','New',"
		   "'Post a job order',1,'000000001454.0000.nodeA')");
	st_push_refused(hub, a, &scope_a, "work_items: a Job Order work item is for recruiting employers only");
	{
		const char *older = "INSERT INTO work_items(id, employer_id, category_id, priority_id, status,"
				    " description, created_at, updated_hlc) VALUES("
				    "'0190a000-0000-7000-8000-00000000d507','0190a000-0000-7000-8000-00000000c0d2',"
				    "'crm-cat-job-order','crm-pri-normal','New','Take the job order',1,"
				    "'000000001445.0000.nodeA')";

		assert_int_equal(db_exec(hub, older), 0);
		assert_int_equal(db_exec(a, older), 0);
	}
	node_write(a, "000000001455.0000.nodeA",
		   "UPDATE work_items SET due_date='2026-02-02', description='Explain what a job order needs',"
		   " assignee_id='demo-staff', status='In Progress', category_id='crm-cat-job-order',"
		   " updated_hlc='000000001455.0000.nodeA' WHERE id='0190a000-0000-7000-8000-00000000d507'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	assert_string_equal(q_text(hub, "SELECT due_date || ' ' || status || ' ' || category_id || ' ' || description"
					" FROM work_items WHERE id=?", "0190a000-0000-7000-8000-00000000d507"),
			    "2026-02-02 In Progress crm-cat-job-order Explain what a job order needs");
	node_write(a, "000000001456.0000.nodeA",
		   "UPDATE work_items SET category_id='crm-cat-follow-up', updated_hlc='000000001456.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000d507'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	node_write(a, "000000001457.0000.nodeA",
		   "UPDATE work_items SET category_id='crm-cat-job-order', updated_hlc='000000001457.0000.nodeA'"
		   " WHERE id='0190a000-0000-7000-8000-00000000d507'");
	st_push_refused(hub, a, &scope_a, "work_items: a Job Order work item is for recruiting employers only");
	assert_string_equal(q_text(hub, "SELECT category_id FROM work_items WHERE id=?",
				   "0190a000-0000-7000-8000-00000000d507"), "crm-cat-follow-up");
	model_set_change_probe(NULL);
	assert_int_equal(db_exec(hub, "INSERT INTO job_orders(id, employer_id, title, openings, location,"
				      " wage, open_date, created_at, updated_hlc) VALUES("
				      "'0190a000-0000-7000-8000-00000000d400','" EPSILON "','Legacy',1,"
				      "'Sacramento',20,'2026-01-05',1,'000000001445.0000.nodeA')"), 0);
	{
		cJSON *ref = cJSON_Parse("{\"id\":\"r1\",\"job_order_id\":\"0190a000-0000-7000-8000-00000000d400\","
					 "\"employer_id\":\"" EPSILON "\",\"participant_id\":\"p1\","
					 "\"local_area_id\":\"demo-la\",\"referral_date\":\"2026-01-06\"}");
		char why[200] = "";

		assert_int_equal(crm_hub_validate_row(hub, "job_referrals", SQLITE_INSERT, ref, why, sizeof why), -1);
		assert_string_equal(why, "job_referrals: participants are referred to its job orders once WSB"
					 " staff have vetted the employer (its vetting is pending)");
		cJSON_Delete(ref);
	}
	assert_int_equal(db_exec(hub, "UPDATE employers SET vetting_status='approved' WHERE id='" EPSILON "'"), 0);
	node_write(a, "000000001450.0000.nodeA",
		   "INSERT INTO job_orders(id, employer_id, title, openings, location, wage, open_date,"
		   " created_at, updated_hlc) VALUES('0190a000-0000-7000-8000-00000000d402',%Q,'Baker',2,"
		   "'Sacramento',21.5,'2026-01-05',1,'000000001450.0000.nodeA')", EPSILON);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	/* Vetted: the service and the Job Order work item are taken, and a
	 * referral passes the vetting (refused here for its participant). */
	node_write(a, "000000001451.0000.nodeA",
		   "INSERT INTO employer_services(id, employer_id, code, start_date, created_at)"
		   " VALUES('0190a000-0000-7000-8000-00000000d006',%Q,'E24','2026-01-05',1767744000000)", EPSILON);
	node_write(a, "000000001452.0000.nodeA",
		   "INSERT INTO work_items(id, employer_id, category_id, priority_id, status, description,"
		   " created_at, updated_hlc) VALUES('0190a000-0000-7000-8000-00000000d503',%Q,"
		   "'crm-cat-job-order','crm-pri-normal','New','Take the job order',1,"
		   "'000000001452.0000.nodeA')", EPSILON);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 2);
	assert_int_equal(p.quarantined, 0);
	{
		cJSON *ref = cJSON_Parse("{\"id\":\"r1\",\"job_order_id\":\"0190a000-0000-7000-8000-00000000d400\","
					 "\"employer_id\":\"" EPSILON "\",\"participant_id\":\"p1\","
					 "\"local_area_id\":\"demo-la\",\"referral_date\":\"2026-01-06\"}");
		char why[200] = "";

		assert_int_equal(crm_hub_validate_row(hub, "job_referrals", SQLITE_INSERT, ref, why, sizeof why), -1);
		assert_null(strstr(why, "vetted"));
		cJSON_Delete(ref);
	}
	for (int k = CRM_VETTED_JOB_ORDER; k <= CRM_VETTED_REFERRAL; k++) {
		assert_null(crm_job_order_vetting_check("approved", (crm_vetted)k));
		assert_null(crm_job_order_vetting_check("locked", (crm_vetted)k));
		assert_null(crm_job_order_vetting_check(NULL, (crm_vetted)k));
		assert_non_null(strstr(crm_job_order_vetting_check("pending", (crm_vetted)k), "(its vetting is pending)"));
	}
	/* Hub-owned CRM lists are never written by a node. */
	node_write(a, "000000001500.0000.nodeA",
		   "UPDATE employer_activity_codes SET status='active' WHERE code='E74'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 1);
	/* Validator ignores tables that are not the CRM's. */
	char why[64];
	assert_int_equal(crm_hub_validate_row(hub, "checkins", SQLITE_INSERT, NULL, why, sizeof why), 0);
	sync_set_validator(NULL);
	sqlite3_close(a);
	sqlite3_close(hub);
}

/* ---- attachments ------------------------------------------------------------ */

static void test_attach_rule(void **state)
{
	static const char pdf[] = "%PDF-1.4\n%%EOF\n";
	static const char html[] = "<html><script>alert(1)</script></html>";
	char *big = malloc(CRM_ATTACH_MAX + 1), msg[200];
	upload_type t;
	int status = 0;

	(void)state;
	assert_non_null(big);
	memcpy(big, "%PDF-1.7\n", 9);
	memset(big + 9, 'x', CRM_ATTACH_MAX + 1 - 9);
	assert_null(crm_attach_check("application/pdf", pdf, sizeof pdf - 1, &t, &status, msg, sizeof msg));
	assert_int_equal(t, UPLOAD_PDF);
	/* the cap itself is allowed, one byte more is not */
	assert_null(crm_attach_check("application/pdf", big, CRM_ATTACH_MAX, &t, &status, msg, sizeof msg));
	assert_string_equal(crm_attach_check("application/pdf", big, CRM_ATTACH_MAX + 1, &t, &status, msg,
					     sizeof msg), "file");
	assert_int_equal(status, 413);
	assert_int_equal(t, UPLOAD_UNKNOWN);
	assert_string_equal(crm_attach_check("application/pdf", pdf, 0, &t, &status, msg, sizeof msg), "file");
	assert_int_equal(status, 400);
	/* HTML disguised as a PDF; HTML and SVG as themselves */
	assert_string_equal(crm_attach_check("application/pdf", html, sizeof html - 1, &t, &status, msg,
					     sizeof msg), "file");
	assert_int_equal(status, 415);
	assert_string_equal(crm_attach_check("text/html", html, sizeof html - 1, &t, &status, msg,
					     sizeof msg), "content_type");
	assert_int_equal(status, 415);
	assert_string_equal(crm_attach_check("image/svg+xml", "<svg/>", 6, &t, &status, msg, sizeof msg),
			    "content_type");
	/* a real type sent under another allowed type */
	assert_string_equal(crm_attach_check("image/png", pdf, sizeof pdf - 1, &t, &status, msg, sizeof msg),
			    "file");
	assert_non_null(strstr(msg, "image/png"));
	/* the hub judges the bytes alone */
	assert_null(crm_attach_check(NULL, "plain words\n", 12, &t, &status, msg, sizeof msg));
	assert_int_equal(t, UPLOAD_TEXT);
	assert_string_equal(crm_attach_check(NULL, html, sizeof html - 1, &t, &status, msg, sizeof msg),
			    "file");
	free(big);
}

#define ATT "0190a000-0000-7000-8000-00000000e001"

/* One attachment written at node a as the API would, but with every column
 * chosen by the test (the bytes bound as a BLOB unless as_text). */
static void node_attach(sqlite3 *node, const char *hlc, const char *id, const char *emp,
			const char *filename, const char *ctype, sqlite3_int64 size, const char *sha,
			const void *data, size_t n, int as_text)
{
	capture c;
	sqlite3_stmt *st;
	int64_t seq;
	unsigned char dg[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	assert_int_equal(crypto_sha256(data, n, dg), 0);
	crypto_hex(dg, sizeof dg, hex);
	assert_int_equal(capture_begin(&c, node), 0);
	assert_int_equal(db_prepare(node, &st, "INSERT INTO employer_attachments(id, employer_id,"
					       " filename, content_type, size, sha256, uploaded_by,"
					       " office_id, uploaded_at, data)"
					       " VALUES(?,?,?,?,?,?,'demo-staff','demo-office',5,?)"), 0);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, emp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, filename, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ctype, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, size < 0 ? (sqlite3_int64)n : size);
	sqlite3_bind_text(st, 6, sha ? sha : hex, -1, SQLITE_TRANSIENT);
	if (as_text)
		sqlite3_bind_text(st, 7, data, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_blob(st, 7, data, (int)n, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(capture_commit(&c, hlc, "demo-staff", &seq), 0);
}

static void test_hub_checks_attachments(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	static const char pdf[] = "%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n";
	static const char html[] = "<!doctype html><script>fetch('/x')</script>";
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
	char *big = malloc(CRM_ATTACH_MAX + 1);
	st_pushed p;
	char id[64];
	int k = 0;

	(void)state;
	assert_non_null(big);
	sync_set_validator(crm_hub_validate_row);
	node_write(a, "000000001000.0000.nodeA", insert_lead, LEAD, "Acme Tools", "acme tools",
		   "MKTACME0001", DEMO_OFFICE, "000000001000.0000.nodeA");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
#define NEXT_ID() (snprintf(id, sizeof id, "0190a000-0000-7000-8000-0000000e%04d", ++k), id)
	/* A good one goes in, byte for byte. */
	node_attach(a, "000000001100.0000.nodeA", ATT, LEAD, "quote.pdf", "application/pdf", -1, NULL,
		    pdf, sizeof pdf - 1, 0);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(db_int(hub, "SELECT count(*) FROM employer_attachments WHERE id='" ATT "'"
				     " AND data = CAST('%PDF-1.4' || char(10) || '1 0 obj<<>>endobj' ||"
				     " char(10) || '%%EOF' || char(10) AS BLOB)", -1), 1);
	/* A SHA-256 that is not the bytes'. */
	node_attach(a, "000000001200.0000.nodeA", NEXT_ID(), LEAD, "quote.pdf", "application/pdf", -1,
		    "0000000000000000000000000000000000000000000000000000000000000000", pdf,
		    sizeof pdf - 1, 0);
	st_push_refused(hub, a, &scope_a, "sha256");
	/* Over the cap (with a true size and hash). */
	memcpy(big, "%PDF-1.7\n", 9);
	memset(big + 9, 'y', CRM_ATTACH_MAX + 1 - 9);
	node_attach(a, "000000001300.0000.nodeA", NEXT_ID(), LEAD, "big.pdf", "application/pdf", -1,
		    NULL, big, CRM_ATTACH_MAX + 1, 0);
	st_push_refused(hub, a, &scope_a, "larger");
	/* HTML disguised as a PDF (type, size and hash all "right"). */
	node_attach(a, "000000001400.0000.nodeA", NEXT_ID(), LEAD, "invoice.pdf", "application/pdf", -1,
		    NULL, html, sizeof html - 1, 0);
	st_push_refused(hub, a, &scope_a, "content is not");
	/* A PNG declared as a PDF; a size that is not the bytes'. */
	node_attach(a, "000000001500.0000.nodeA", NEXT_ID(), LEAD, "badge.pdf", "application/pdf", -1,
		    NULL, png, sizeof png, 0);
	st_push_refused(hub, a, &scope_a, "content_type");
	node_attach(a, "000000001600.0000.nodeA", NEXT_ID(), LEAD, "quote.pdf", "application/pdf", 10,
		    NULL, pdf, sizeof pdf - 1, 0);
	st_push_refused(hub, a, &scope_a, "size");
	/* Names a download must not carry: a path, a quote, another type's extension. */
	{
		static const char *const bad_names[] = {"../quote.pdf", "quo\"te.pdf", "quote.html",
							"quote.pdf ", NULL};
		for (int i = 0; bad_names[i]; i++) {
			node_attach(a, "000000001700.0000.nodeA", NEXT_ID(), LEAD, bad_names[i],
				    "application/pdf", -1, NULL, pdf, sizeof pdf - 1, 0);
			st_push_refused(hub, a, &scope_a, "filename");
		}
	}
	/* The bytes as TEXT; an employer the hub never heard of. */
	node_attach(a, "000000001800.0000.nodeA", NEXT_ID(), LEAD, "quote.pdf", "application/pdf", -1,
		    NULL, pdf, sizeof pdf - 1, 1);
	st_push_refused(hub, a, &scope_a, "BLOB");
	node_attach(a, "000000001900.0000.nodeA", NEXT_ID(), LEAD_B, "quote.pdf", "application/pdf", -1,
		    NULL, pdf, sizeof pdf - 1, 0);
	st_push_refused(hub, a, &scope_a, "no such employer");
	/* Append-only: neither an update nor a delete of the good one. */
	node_write(a, "000000002000.0000.nodeA",
		   "UPDATE employer_attachments SET filename='renamed.pdf' WHERE id='" ATT "'");
	st_push_refused(hub, a, &scope_a, "append-only");
	node_write(a, "000000002100.0000.nodeA", "DELETE FROM employer_attachments WHERE id='" ATT "'");
	st_push_refused(hub, a, &scope_a, "append-only");
	assert_int_equal(db_int(hub, "SELECT count(*) FROM employer_attachments", -1), 1);
	assert_non_null(q_text(hub, "SELECT filename FROM employer_attachments WHERE id=?", ATT));
	assert_string_equal(q_text(hub, "SELECT filename FROM employer_attachments WHERE id=?", ATT),
			    "quote.pdf");
	/* The validator refuses them too, should a walk ever let one through. */
	{
		char why[200];
		cJSON *row = cJSON_CreateObject();
		cJSON_AddStringToObject(row, "id", ATT);
		assert_int_equal(crm_hub_validate_row(hub, "employer_attachments", SQLITE_UPDATE, row, why,
						      sizeof why), -1);
		assert_int_equal(crm_hub_validate_row(hub, "employer_attachment_withdrawals",
						      SQLITE_DELETE, row, why, sizeof why), -1);
		cJSON_Delete(row);
	}
	/* Withdrawals: of an attachment of this employer, once it exists. */
	node_write(a, "000000002200.0000.nodeA",
		   "INSERT INTO employer_attachment_withdrawals(id, attachment_id, employer_id,"
		   " withdrawn_by, withdrawn_at) VALUES('0190a000-0000-7000-8000-00000000f001',"
		   " 'no-such-attachment', %Q, 'demo-staff', 6)", LEAD);
	st_push_refused(hub, a, &scope_a, "no such attachment");
	node_write(a, "000000002300.0000.nodeA",
		   "INSERT INTO employer_attachment_withdrawals(id, attachment_id, employer_id,"
		   " withdrawn_by, withdrawn_at) VALUES('0190a000-0000-7000-8000-00000000f002',"
		   " %Q, 'another-employer', 'demo-staff', 6)", ATT);
	st_push_refused(hub, a, &scope_a, "another employer");
	node_write(a, "000000002400.0000.nodeA",
		   "INSERT INTO employer_attachment_withdrawals(id, attachment_id, employer_id, reason,"
		   " withdrawn_by, withdrawn_at) VALUES('0190a000-0000-7000-8000-00000000f003',"
		   " %Q, %Q, 'wrong file', 'demo-staff', 6)", ATT, LEAD);
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	node_write(a, "000000002500.0000.nodeA", "UPDATE employer_attachment_withdrawals SET"
						 " reason='oops' WHERE id='0190a000-0000-7000-8000-00000000f003'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 1);
	/* Withdrawn, the attachment and its bytes are still there. */
	assert_int_equal(db_int(hub, "SELECT length(data) FROM employer_attachments", -1), sizeof pdf - 1);
#undef NEXT_ID
	sync_set_validator(NULL);
	free(big);
	sqlite3_close(a);
	sqlite3_close(hub);
}

TU_MAIN(cmocka_unit_test(test_normalize),
	cmocka_unit_test(test_formats),
	cmocka_unit_test(test_usernames),
	cmocka_unit_test(test_conversion),
	cmocka_unit_test(test_vetting),
	cmocka_unit_test(test_code_selection),
	cmocka_unit_test(test_service_dates),
	cmocka_unit_test(test_work_items),
	cmocka_unit_test(test_schema_kinds_and_seed),
	cmocka_unit_test(test_search_indexes),
	cmocka_unit_test(test_lead_edits_merge_column_by_column),
	cmocka_unit_test(test_two_corrections_of_a_service_are_a_conflict),
	cmocka_unit_test(test_grouped_conflicts_count_the_try_that_holds),
	cmocka_unit_test(test_merge_that_breaks_a_rule_is_a_conflict),
	cmocka_unit_test(test_merge_that_breaks_a_rule_on_the_same_field),
	cmocka_unit_test(test_older_row_without_its_employer_still_edited),
	cmocka_unit_test(test_batch_lead_grouped_before_its_notes),
	    cmocka_unit_test(test_batch_duplicate_flag_names_the_later_lead),
	    cmocka_unit_test(test_batch_no_flag_for_a_lead_closed_first),
	    cmocka_unit_test(test_batch_notes_of_a_merged_lead_grouped_again),
	cmocka_unit_test(test_work_item_merge_and_closed_is_final),
	cmocka_unit_test(test_work_item_closed_twice_and_deleted_across_the_close),
	cmocka_unit_test(test_duplicate_employers_flagged_at_hub),
	cmocka_unit_test(test_hub_refuses_bad_crm_rows),
	cmocka_unit_test(test_attach_rule),
	cmocka_unit_test(test_hub_checks_attachments))
