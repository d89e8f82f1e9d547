/*
 * test_accounts.c - staff passwords and the hub's account rules: the state's
 * password rule at every boundary (7, 8, 20, 21 characters), each missing
 * class, each allowed special character and disallowed ones, the blocklist
 * of common passwords, the 24-hour life of a temporary password against an
 * injected clock, PBKDF2 stored forms, generated temporary passwords, the
 * privilege groups' assigners and the administrators' never-everything
 * rule, and the application at the hub of passwords set at nodes
 * (credential_changes through acct_validate_row on a real hub database).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hub/acct.h"
#include "lib/db.h"
#include "model/password.h"
#include "model/privileges.h"
#include "tests/unit/testutil.h"

/* ---- the rule ----------------------------------------------------------------- */

static const struct {
	const char *pw;
	int ok;
	const char *why_part; /* part of the message when refused */
} rule_cases[] = {
    /* length boundaries, every class present */
    {"Ab1!xyz", 0, "8 to 20"},                 /* 7 */
    {"Ab1!xyzq", 1, NULL},                     /* 8 */
    {"Ab1!xyzqrstuvwxyzabc", 1, NULL},         /* 20 */
    {"Ab1!xyzqrstuvwxyzabcd", 0, "8 to 20"},   /* 21 */
    {"", 0, "8 to 20"},
    /* each class missing */
    {"ab1!xyzq", 0, "upper-case"},
    {"AB1!XYZQ", 0, "lower-case"},
    {"Abc!xyzq", 0, "digit"},
    {"Ab12xyzq", 0, "special"},
    /* each allowed special */
    {"Kw7!mnpq", 1, NULL},
    {"Kw7@mnpq", 1, NULL},
    {"Kw7#mnpq", 1, NULL},
    {"Kw7$mnpq", 1, NULL},
    {"Kw7%mnpq", 1, NULL},
    {"Kw7^mnpq", 1, NULL},
    {"Kw7*mnpq", 1, NULL},
    {"Kw7.mnpq", 1, NULL},
    {"Kw7_mnpq", 1, NULL},
    /* disallowed characters, even with an allowed special present */
    {"Kw7-mnpq", 0, "may only contain"},
    {"Kw7&mnp!", 0, "may only contain"},
    {"Kw7 mnp!", 0, "may only contain"},
    {"Kw7~mnp!", 0, "may only contain"},
    {"Kw7(mnp!", 0, "may only contain"},
    {"Kw7\xc3\xa9mnp!", 0, "may only contain"}, /* é */
    /* blocklist: meets the form, still refused */
    {"Password1!", 0, "too common"},
    {"P@ssw0rd1", 0, "too common"},
    {"Welcome2024!", 0, "too common"},
    {"Summer2025.", 0, "too common"},
    {"!Caljobs99", 0, "too common"},
    {"Qwerty123$", 0, "too common"},
};

static void test_rule_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rule_cases / sizeof rule_cases[0]; i++) {
		const char *why = NULL;
		int rc = password_rule_check(rule_cases[i].pw, NULL, &why);
		if ((rc == 0) != rule_cases[i].ok)
			fail_msg("case %zu '%s': expected %s, got %s (%s)", i, rule_cases[i].pw,
				 rule_cases[i].ok ? "accepted" : "refused", rc == 0 ? "accepted" : "refused",
				 why ? why : "");
		if (!rule_cases[i].ok) {
			assert_non_null(why);
			if (strstr(why, rule_cases[i].why_part) == NULL)
				fail_msg("case %zu '%s': message '%s' lacks '%s'", i, rule_cases[i].pw, why,
					 rule_cases[i].why_part);
		} else {
			assert_null(why);
		}
	}
}

static void test_rule_username(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(password_rule_check("Xjdoe7!kq", "jdoe", &why), -1);
	assert_non_null(strstr(why, "user name"));
	assert_int_equal(password_rule_check("XJDOE7!kq", "jdoe", &why), -1);
	assert_int_equal(password_rule_check("Xjdo7!kqz", "jdoe", &why), 0);
}

static void test_blocklist(void **state)
{
	(void)state;
	assert_true(password_is_common("password"));
	assert_true(password_is_common("PASSWORD"));
	assert_true(password_is_common("Password123!"));
	assert_true(password_is_common("123456789"));
	assert_true(password_is_common("!!2024!!"));
	assert_false(password_is_common("Kw7!mnpq"));
	assert_false(password_is_common("Blue.Kettle42"));
}

/* ---- temporary passwords and the 24-hour expiry ------------------------------------ */

/* The injected clock: expiry is judged against the instant passed in. */
static void test_temp_expiry(void **state)
{
	const int64_t issued = 1767225600000LL; /* 2026-01-01T00:00:00Z */
	const int64_t h = 60LL * 60 * 1000;

	(void)state;
	assert_false(password_temp_expired(issued, issued));
	assert_false(password_temp_expired(issued, issued + 23 * h));
	assert_false(password_temp_expired(issued, issued + 24 * h - 1));
	assert_true(password_temp_expired(issued, issued + 24 * h));
	assert_true(password_temp_expired(issued, issued + 24 * h + 1));
	assert_true(password_temp_expired(issued, issued + 30 * 24 * h));
	assert_int_equal(PASSWORD_TEMP_TTL_MS, 24 * h);
}

static void test_temp_new(void **state)
{
	char a[16], b[16];
	const char *why;

	(void)state;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(password_temp_new(a, sizeof a), 0);
		assert_int_equal(strlen(a), 12);
		if (password_rule_check(a, NULL, &why) != 0)
			fail_msg("generated '%s' breaks the rule: %s", a, why);
	}
	assert_int_equal(password_temp_new(b, sizeof b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(password_temp_new(a, 12), -1); /* too small a buffer */
}

static void test_hash_verify(void **state)
{
	char s1[PASSWORD_HASH_MAX], s2[PASSWORD_HASH_MAX], r1[65], r2[65];

	(void)state;
	assert_int_equal(password_hash("Kw7!mnpq", 2000, s1, sizeof s1), 0);
	assert_int_equal(password_hash("Kw7!mnpq", 2000, s2, sizeof s2), 0);
	assert_int_equal(strncmp(s1, "pbkdf2-sha256$2000$", 19), 0);
	assert_string_not_equal(s1, s2); /* fresh salt each time */
	assert_int_equal(password_verify("Kw7!mnpq", s1), 1);
	assert_int_equal(password_verify("Kw7!mnpQ", s1), 0);
	assert_int_equal(password_verify("Kw7!mnpq", "sha1$x"), -1);
	assert_int_equal(password_verify("Kw7!mnpq", "pbkdf2-sha256$0$00$00"), -1);
	assert_int_equal(password_hash_ref(s1, r1), 0);
	assert_int_equal(password_hash_ref(s2, r2), 0);
	assert_int_equal(strlen(r1), 64);
	assert_string_not_equal(r1, r2);
	/* the default is at least 600,000 rounds */
	assert_true(PASSWORD_ITERS >= 600000u);
}

/* ---- groups and administrators ----------------------------------------------------- */

static void test_groups(void **state)
{
	acct_principal mis, spoc, ops;

	(void)state;
	memset(&mis, 0, sizeof mis);
	memset(&spoc, 0, sizeof spoc);
	memset(&ops, 0, sizeof ops);
	mis.ap_roles = ROLE_MIS_ADMIN;
	spoc.ap_roles = ROLE_SPOC;
	ops.ap_roles = ROLE_OPERATIONS;
	assert_int_equal(acct_group_assigner("LWIA/CBO Staff"), 1);
	assert_int_equal(acct_group_assigner("View Access"), 1);
	assert_int_equal(acct_group_assigner("DVOP"), 2);
	assert_int_equal(acct_group_assigner("TAA Coordinators/Specialist"), 2);
	assert_int_equal(acct_group_assigner("Superusers"), 0);
	assert_true(acct_group_assignable(&mis, "LWIA Intake Staff"));
	assert_false(acct_group_assignable(&mis, "EDD WSB Staff"));
	assert_true(acct_group_assignable(&spoc, "EDD WSB Staff"));
	assert_false(acct_group_assignable(&spoc, "WARN"));
	assert_true(acct_group_assignable(&ops, "WARN"));
	assert_false(acct_group_assignable(&ops, "Superusers"));
	assert_int_equal(acct_roles_parse("mis_admin,spoc"), ROLE_MIS_ADMIN | ROLE_SPOC);
	assert_int_equal(acct_roles_parse("operations"), ROLE_OPERATIONS);
	assert_int_equal(acct_roles_parse("root"), 0);
	assert_int_equal(acct_roles_parse(NULL), 0);
	/* "View Access" never edits; "LWIA Intake Staff" has no reports */
	assert_int_equal(priv_group_bits("View Access") & (PRIV_PARTICIPANT_EDIT | PRIV_CASE_NOTES |
							   PRIV_CRM),
			 0);
	assert_int_equal(priv_group_bits("LWIA Intake Staff") & PRIV_REPORTS, 0);
	/* ... and no adjustment makes them: what a group never holds is masked */
	assert_int_equal(priv_effective("View Access", "participant_edit,crm,greeter_desk,reports",
					NULL),
			 PRIV_VIEW | PRIV_REPORTS);
	assert_int_equal(priv_effective("View Access with Reports", "case_notes,vetting", NULL),
			 PRIV_VIEW | PRIV_REPORTS);
	assert_int_equal(priv_effective("LWIA Intake Staff", "reports,crm", "case_notes"),
			 PRIV_VIEW | PRIV_PARTICIPANT_EDIT | PRIV_CRM | PRIV_GREETER_DESK);
	assert_int_equal(priv_effective("WARN", "participant_edit", "crm"),
			 PRIV_VIEW | PRIV_PARTICIPANT_EDIT | PRIV_REPORTS);
	/* "LWIA Intake Staff": basic participant needs (registration:
	 * participant_edit) but "view access only to program applications"
	 * (WSD24-13): no program_edit, and no adjustment adds it.  Every other
	 * group that registers participants enters program data too. */
	assert_int_equal(priv_from_name("program_edit"), PRIV_PROGRAM_EDIT);
	assert_string_equal(priv_name(PRIV_PROGRAM_EDIT), "program_edit");
	assert_int_equal(priv_group_bits("LWIA Intake Staff"),
			 PRIV_VIEW | PRIV_PARTICIPANT_EDIT | PRIV_CASE_NOTES | PRIV_GREETER_DESK);
	assert_int_equal(priv_group_never("LWIA Intake Staff") & PRIV_PROGRAM_EDIT, PRIV_PROGRAM_EDIT);
	assert_int_equal(priv_effective("LWIA Intake Staff", "program_edit", NULL) & PRIV_PROGRAM_EDIT,
			 0);
	assert_int_equal(priv_group_never("View Access") & PRIV_PROGRAM_EDIT, PRIV_PROGRAM_EDIT);
	assert_int_equal(priv_effective("View Access with Reports", "program_edit", NULL),
			 PRIV_VIEW | PRIV_REPORTS);
	{
		static const char *const reg[] = {"LWIA/CBO Staff", "LWIA Partner Staff",
						  "LWIA Partner Supervisor", "DVOP", "EDD WSB Staff",
						  "EDD WSB Supervisor", "LVER",
						  "TAA Coordinators/Specialist"};
		for (size_t i = 0; i < sizeof reg / sizeof reg[0]; i++)
			assert_int_equal(priv_group_bits(reg[i]) &
						 (PRIV_PARTICIPANT_EDIT | PRIV_PROGRAM_EDIT),
					 PRIV_PARTICIPANT_EDIT | PRIV_PROGRAM_EDIT);
	}
	/* program_edit goes with participant_edit: an account whose
	 * participant_edit is removed (an adjustment made when that removed
	 * activities too) holds neither; added alone, it is not held. */
	assert_int_equal(priv_effective("LWIA/CBO Staff", NULL, "participant_edit") &
				 (PRIV_PARTICIPANT_EDIT | PRIV_PROGRAM_EDIT),
			 0);
	assert_int_equal(priv_effective("WARN", "program_edit", NULL) & PRIV_PROGRAM_EDIT, 0);
	assert_int_equal(priv_effective("WARN", "participant_edit,program_edit", NULL) &
				 PRIV_PROGRAM_EDIT,
			 PRIV_PROGRAM_EDIT);
	assert_int_equal(priv_effective("DVOP", NULL, "program_edit") &
				 (PRIV_PARTICIPANT_EDIT | PRIV_PROGRAM_EDIT),
			 PRIV_PARTICIPANT_EDIT);
	/* vetting is the EDD WSB groups': no adjustment gives it to another */
	assert_int_equal(priv_effective("LWIA/CBO Staff", "vetting", NULL) & PRIV_VETTING, 0);
	assert_int_equal(priv_group_never("DVOP") & PRIV_VETTING, PRIV_VETTING);
	assert_int_equal(priv_group_never("EDD WSB Staff") & PRIV_VETTING, 0);
	assert_int_equal(priv_effective("EDD WSB Staff", NULL, NULL) & PRIV_VETTING, PRIV_VETTING);
	assert_int_equal(priv_effective("EDD WSB Supervisor", NULL, "vetting") & PRIV_VETTING, 0);
	/* no group holds staff administration, so a group alone is never all */
	assert_int_equal(priv_group_bits("LWIA Partner Supervisor") & PRIV_STAFF_ADMIN, 0);
	assert_int_equal(priv_group_bits("EDD WSB Supervisor") & PRIV_STAFF_ADMIN, 0);
}

/* ---- credential_changes at the hub ---------------------------------------------------- */

typedef struct fx {
	char *dir;
	sqlite3 *db;
	char hash[PASSWORD_HASH_MAX]; /* the hub's current hash */
	char ref[65];
	char newhash[PASSWORD_HASH_MAX];
} fx;

static char cur_v[PASSWORD_VERIFIER_HEX];
static const char next_v[] = "5555555555555555555555555555555555555555555555555555555555555555";

static int fx_setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	char path[512];

	f->dir = tu_tmpdir("acct");
	snprintf(path, sizeof path, "%s/hub.db", f->dir);
	assert_int_equal(db_open(path, &f->db), 0);
	assert_int_equal(hub_migrate(f->db, 1), 0);
	assert_int_equal(acct_migrate(f->db), 0);
	assert_int_equal(password_hash("Old.Pass77", 1000, f->hash, sizeof f->hash), 0);
	assert_int_equal(password_hash_ref(f->hash, f->ref), 0);
	assert_int_equal(password_hash("New.Pass88", PASSWORD_ITERS / 100, f->newhash,
				       sizeof f->newhash), 0);
	{
		/* pretend the rounds are the full count: only the form is checked */
		char *d = strchr(f->newhash + 14, '$');
		char tmp[PASSWORD_HASH_MAX];
		snprintf(tmp, sizeof tmp, "pbkdf2-sha256$%u%s", PASSWORD_ITERS, d);
		snprintf(f->newhash, sizeof f->newhash, "%s", tmp);
	}
	{
		sqlite3_stmt *st = NULL;
		assert_int_equal(db_exec(f->db,
					 "INSERT INTO staff(id, username, display_name, local_area_id,"
					 " privilege_group, active, updated_hlc) VALUES"
					 " ('s1','ann','Ann','demo-la','View Access',1,'x'),"
					 " ('s2','bob','Bob','other-la','View Access',1,'x'),"
					 " ('s3','cy','Cy','demo-la','View Access',0,'x')"),
				 0);
		assert_int_equal(db_prepare(f->db, &st,
					    "INSERT INTO staff_credentials(id, local_area_id, password_hash,"
					    " password_temp, password_expires_at, updated_hlc) VALUES"
					    " (?1, ?2, ?3, 1, 1, '000000000001.0000.hub')"),
				 0);
		const char *ids[][2] = {{"s1", "demo-la"}, {"s2", "other-la"}, {"s3", "demo-la"}};
		for (int i = 0; i < 3; i++) {
			sqlite3_bind_text(st, 1, ids[i][0], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, ids[i][1], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, f->hash, -1, SQLITE_STATIC);
			assert_int_equal(sqlite3_step(st), SQLITE_DONE);
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
	}
	/* the hub's second verifier of the current password (trust boundary) */
	assert_int_equal(password_verifier("Old.Pass77", f->hash, cur_v), 0);
	for (int i = 1; i <= 3; i++) {
		char id[16];
		snprintf(id, sizeof id, "s%d", i);
		assert_int_equal(acct_verifier_set(f->db, id, cur_v), 0);
	}
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	fx *f = *state;

	db_close(f->db);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static cJSON *change_row(const char *id, const char *staff, const char *la, const char *hash,
			 const char *prev, const char *reason)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "id", id);
	cJSON_AddStringToObject(r, "staff_id", staff);
	cJSON_AddStringToObject(r, "local_area_id", la);
	cJSON_AddStringToObject(r, "node_id", "node-1");
	cJSON_AddStringToObject(r, "password_hash", hash);
	if (prev)
		cJSON_AddStringToObject(r, "prev_hash_sha256", prev);
	cJSON_AddStringToObject(r, "reason", reason);
	cJSON_AddNumberToObject(r, "changed_at", 1767225600000.0);
	/* signed as a node does, with the verifier of the password typed */
	{
		char wrapped[PASSWORD_VERIFIER_HEX], proof[PASSWORD_VERIFIER_HEX];
		assert_int_equal(password_verifier_wrap(cur_v, id, next_v, wrapped), 0);
		assert_int_equal(password_change_proof(cur_v, id, staff, hash, prev, reason,
						       1767225600000LL, wrapped, proof),
				 0);
		cJSON_AddStringToObject(r, "proof", proof);
		cJSON_AddStringToObject(r, "next_verifier", wrapped);
	}
	return r;
}

static void cred(sqlite3 *db, const char *id, char *hash, size_t n, int *temp)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(db_prepare(db, &st, "SELECT coalesce(password_hash,''), password_temp FROM"
					     " staff_credentials WHERE id=?"),
			 0);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(hash, n, "%s", sqlite3_column_text(st, 0));
	*temp = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
}

static char status_of[32];
static const char *status(sqlite3 *db, const char *id)
{
	if (db_text(db, "SELECT status || ':' || coalesce(why,'') FROM credential_change_status"
			" WHERE id=?",
		    id, status_of, sizeof status_of) != 0)
		return "none";
	status_of[strcspn(status_of, ":")] = '\0';
	return status_of;
}

/* Validate the credential_changes row r at the hub as op, then free it:
 * acct_validate_row's result; why it refused in why. */
static char why[200];
static int validate(fx *f, int op, cJSON *r)
{
	int rc;

	why[0] = '\0';
	rc = acct_validate_row(f->db, "credential_changes", op, r, why, sizeof why);
	cJSON_Delete(r);
	return rc;
}

static void test_cred_apply(void **state)
{
	fx *f = *state;
	char h[PASSWORD_HASH_MAX];
	int temp;
	cJSON *r;

	/* the right previous hash: applied, temporary flag cleared */
	r = change_row("c1", "s1", "demo-la", f->newhash, f->ref, "first_login");
	if (validate(f, SQLITE_INSERT, r) != 0)
		fail_msg("refused: %s (%s)", why, f->newhash);
	cred(f->db, "s1", h, sizeof h, &temp);
	assert_string_equal(h, f->newhash);
	assert_int_equal(temp, 0);
	assert_string_equal(status(f->db, "c1"), "applied");
	{
		/* the hub unwrapped the new password's verifier */
		char v[PASSWORD_VERIFIER_HEX];
		assert_int_equal(acct_verifier_get(f->db, "s1", v), 0);
		assert_string_equal(v, next_v);
		assert_int_equal(acct_verifier_set(f->db, "s1", cur_v), 0);
	}
	/* the same previous hash again (a reset or change happened since): refused,
	 * the hub's hash stays */
	r = change_row("c2", "s1", "demo-la", f->newhash, f->ref, "change");
	db_exec(f->db, "UPDATE staff_credentials SET password_hash='pbkdf2-sha256$600000$"
		       "00000000000000000000000000000000$"
		       "1111111111111111111111111111111111111111111111111111111111111111' WHERE id='s1'");
	assert_int_equal(validate(f, SQLITE_INSERT, r), 0);
	cred(f->db, "s1", h, sizeof h, &temp);
	assert_non_null(strstr(h, "$1111"));
	assert_string_equal(status(f->db, "c2"), "refused");
	/* the refusal re-sends the hub's row: a newer updated_hlc, logged for pull */
	assert_true(db_int(f->db, "SELECT count(*) FROM change_log WHERE tbl='staff_credentials'"
				  " AND row_id='s1'", 0) >= 3);
}

/* Changes a node may send that the hub refuses (0, status "refused"). */
static const struct refusal {
	const char *what, *id, *staff;
	int no_prev;      /* sent without the previous hash */
	const char *kept; /* the staff whose hash must stay the hub's */
} refusals[] = {
	{"staff of another Local Area (row claims the node's)", "c3", "s2", 0, "s2"},
	{"deactivated", "c4", "s3", 0, NULL},
	{"no previous hash", "c5", "s1", 1, NULL},
	{"unknown staff", "c6", "nobody", 0, NULL},
};

static void test_cred_refusals(void **state)
{
	fx *f = *state;
	char h[PASSWORD_HASH_MAX];
	int temp;
	cJSON *r;

	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const struct refusal *c = &refusals[i];
		int rc = validate(f, SQLITE_INSERT, change_row(c->id, c->staff, "demo-la", f->newhash,
							      c->no_prev ? NULL : f->ref, "change"));
		const char *st = status(f->db, c->id);

		if (rc != 0 || strcmp(st, "refused") != 0)
			fail_msg("%s: validated %d (%s), status %s; expected 0 and refused", c->what, rc,
				 why, st);
		if (c->kept) {
			cred(f->db, c->kept, h, sizeof h, &temp);
			assert_string_equal(h, f->hash);
		}
	}
	/* malformed rows quarantine the entry (-1) */
	assert_int_equal(validate(f, SQLITE_INSERT,
				  change_row("c7", "s1", "demo-la", "plaintext", f->ref, "change")),
			 -1);
	assert_non_null(strstr(why, "password_hash"));
	assert_int_equal(validate(f, SQLITE_INSERT, change_row("c8", "s1", "demo-la",
							       f->hash /* 1000 rounds */, f->ref, "change")),
			 -1);
	assert_int_equal(validate(f, SQLITE_INSERT,
				  change_row("c9", "s1", "demo-la", f->newhash, f->ref, "stolen")),
			 -1);
	assert_int_equal(validate(f, SQLITE_UPDATE,
				  change_row("c10", "s1", "demo-la", f->newhash, f->ref, "change")),
			 -1);
	/* no proof, a proof of another password, a field changed after signing:
	 * quarantined, nothing applied */
	r = change_row("c11", "s1", "demo-la", f->newhash, f->ref, "change");
	cJSON_DeleteItemFromObject(r, "proof");
	assert_int_equal(validate(f, SQLITE_INSERT, r), -1);
	assert_non_null(strstr(why, "proof"));
	r = change_row("c12", "s1", "demo-la", f->newhash, f->ref, "change");
	cJSON_ReplaceItemInObject(r, "reason", cJSON_CreateString("first_login"));
	assert_int_equal(validate(f, SQLITE_INSERT, r), -1);
	assert_int_equal(password_verifier("Guess.Pass1", f->hash, cur_v), 0);
	assert_int_equal(validate(f, SQLITE_INSERT,
				  change_row("c13", "s1", "demo-la", f->newhash, f->ref, "change")),
			 -1);
	assert_int_equal(password_verifier("Old.Pass77", f->hash, cur_v), 0);
	cred(f->db, "s1", h, sizeof h, &temp);
	assert_string_equal(h, f->hash);
	assert_int_equal(temp, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rule_table),
	    cmocka_unit_test(test_rule_username),
	    cmocka_unit_test(test_blocklist),
	    cmocka_unit_test(test_temp_expiry),
	    cmocka_unit_test(test_temp_new),
	    cmocka_unit_test(test_hash_verify),
	    cmocka_unit_test(test_groups),
	    cmocka_unit_test_setup_teardown(test_cred_apply, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_cred_refusals, fx_setup, fx_teardown),
	};

	tu_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
