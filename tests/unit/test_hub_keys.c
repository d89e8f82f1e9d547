/*
 * test_hub_keys.c - the hub's SSN key epochs (hub/hub_keys.c, with the
 * epoch helpers of model/casework.c) on a real hub database: a rotation,
 * what the older wrapping key (a revoked node's sync.json) still opens, the
 * SSNs written under the new key, the stored ones written again under it
 * (a Local Area marked done then read no more, until a rotation or a row
 * pushed under an older key reopens it), and the duplicate check across
 * epochs; between a rotation and the re-encryption of a row: a search by
 * SSN's hashes (case_ssn_hmac_each) and the hub's check of a duplicate
 * review.
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
#include "lib/crypto.h"
#include "lib/json.h"
#include "lib/db.h"
#include "model/casework.h"
#include "model/demo.h"
#include "model/schema.h"
#include "synctest.h"
#include "testutil.h"

static sqlite3 *open_db(void)
{
	sqlite3 *db = st_open_db(1);

	assert_int_equal(hub_schema_migrate(db), 0); /* the hub's own tables too */
	assert_int_equal(demo_seed_reference(db, "000000000001.0000.hub"), 0);
	assert_int_equal(case_seed_reference(db, "000000000001.0000.hub"), 0);
	assert_int_equal(db_exec(db, "INSERT INTO local_areas(id, name, updated_hlc)"
				     " VALUES('other-la','Other','000000000001.0000.hub')"),
			 0);
	return db;
}

#define PK1 "0190b000-0000-7000-8000-00000000c001"
#define PK2 "0190b000-0000-7000-8000-00000000c002"
#define PK3 "0190b000-0000-7000-8000-00000000c003"
#define PK4 "0190b000-0000-7000-8000-00000000c004"

/* The participant id with this protected SSN, written at the hub. */
static void put_ssn(sqlite3 *db, const char *id, const char *enc, const char *mac)
{
	assert_int_equal(db_run(db, "INSERT INTO participants(id, local_area_id, office_id, first_name,"
				    " last_name, birth_date, ssn_kind, ssn_enc, ssn_hmac, ssn_last4,"
				    " registered_date, registered_at, registered_by, updated_hlc)"
				    " VALUES(?1, 'demo-la', 'demo-office', 'Ana', 'Reyes', '1977-05-25',"
				    " 'real', ?2, ?3, '6789', '2026-01-15', 1, 'demo-staff',"
				    " '000000000010.0000.nodeA')",
				"ttt", id, enc, mac),
			 0);
}

/* PK1's SSN 123456789 protected under demo-la's newest key, which must be
 * epoch 1's, and stored; enc1/mac1 get its values. */
static void put_pk1(sqlite3 *db, char enc1[CASE_SSN_ENC_MAX + 1], char mac1[65])
{
	assert_int_equal(case_ssn_protect_db(db, DEMO_LOCAL_AREA, PK1, "123456789", enc1, mac1), 0);
	assert_int_equal(case_ssn_epoch(enc1), 1);
	put_ssn(db, PK1, enc1, mac1);
}

/* demo-la's SSN key rotated in a transaction, as the hub's routes do: the
 * new epoch. */
static int rotate_once(sqlite3 *db)
{
	int e = 0;

	assert_int_equal(db_exec(db, "BEGIN IMMEDIATE"), 0);
	assert_int_equal(hub_keys_rotate(db, DEMO_LOCAL_AREA, &e), 0);
	assert_int_equal(db_exec(db, "COMMIT"), 0);
	return e;
}

/* A case key row's wrapped value, unwrapped with wrapping key w: 0 or -1. */
static int unwrap_row(sqlite3 *db, const char *id, const unsigned char w[32], unsigned char k[32])
{
	char hex[CRYPTO_WRAP_LEN(CASE_KEY_LEN) + 8], aad[160];

	assert_int_equal(db_text(db, "SELECT key_hex FROM case_keys WHERE id=?", id, hex, sizeof hex), 0);
	snprintf(aad, sizeof aad, "case_key:%s", id);
	return crypto_unwrap(w, aad, hex, k, CASE_KEY_LEN);
}

/* Key epochs (hub/hub_keys.c): a rotation adds the next epoch's key and
 * wraps every key of the Local Area again under the new epoch's wrapping
 * key; new SSNs go under the new key, older ones stay readable, and the hub
 * writes them again under it (the same person's hashes match again).  The
 * older wrapping key - what a revoked node kept in its sync.json - opens
 * nothing of the new. */
static void test_key_epochs(void **state)
{
	sqlite3 *db = open_db();
	char *dir = tu_tmpdir("case-keys"), err[256], enc1[CASE_SSN_ENC_MAX + 1],
	     enc2[CASE_SSN_ENC_MAX + 1], mac1[65], mac2[65], d[10], id[64], v[CASE_SSN_ENC_MAX + 1];
	unsigned char k1[CASE_KEY_LEN], k2[CASE_KEY_LEN], got[CASE_KEY_LEN], w1[32], w2[32];
	hlc clk;

	(void)state;
	assert_int_equal(hub_keys_open(db, dir, err, sizeof err), 0);
	assert_int_equal(case_ensure_keys(db, "000000000003.0000.hub", 1), 2);
	assert_int_equal(hub_keys_wrap_new(db), 0);
	assert_int_equal(case_key_epoch(db, DEMO_LOCAL_AREA), 1);
	assert_int_equal(case_key_epoch(db, "no-such-la"), 0);
	assert_int_equal(case_key_load(db, DEMO_LOCAL_AREA, k1), 0);
	assert_int_equal(hub_la_key(DEMO_LOCAL_AREA, 1, w1), 0);
	assert_int_equal(unwrap_row(db, DEMO_LOCAL_AREA, w1, got), 0);
	/* Before the rotation: epoch 1, no prefix. */
	put_pk1(db, enc1, mac1);

	assert_int_equal(rotate_once(db), 2);
	assert_int_equal(hub_keys_rotate(db, "no-such-la", NULL), 1);
	assert_int_equal(case_key_epoch(db, DEMO_LOCAL_AREA), 2);
	assert_int_equal(case_key_epoch(db, "other-la"), 1);
	assert_int_equal(db_int(db, "SELECT local_area_id = 'demo-la' FROM case_keys WHERE id='demo-la:e2'", 0), 1);
	/* The rows replicate to the Local Area: the new key, the old one wrapped again. */
	assert_int_equal(db_int(db, "SELECT count(DISTINCT row_id) FROM change_log WHERE tbl='case_keys'"
				    " AND scope_la='demo-la'", -1), 2);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 1, got), 0);
	assert_memory_equal(got, k1, sizeof k1);
	assert_int_equal(case_key_load(db, DEMO_LOCAL_AREA, k2), 0);
	assert_memory_not_equal(k2, k1, sizeof k1);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 3, got), 1);
	/* Epoch 2's wrapping key opens both rows; epoch 1's (a revoked node's
	 * sync.json) neither. */
	assert_int_equal(hub_la_key(DEMO_LOCAL_AREA, 2, w2), 0);
	assert_memory_not_equal(w1, w2, sizeof w1);
	assert_int_equal(unwrap_row(db, "demo-la:e2", w2, got), 0);
	assert_memory_equal(got, k2, sizeof k2);
	assert_int_equal(unwrap_row(db, DEMO_LOCAL_AREA, w2, got), 0);
	assert_int_equal(unwrap_row(db, "demo-la:e2", w1, got), -1);
	assert_int_equal(unwrap_row(db, DEMO_LOCAL_AREA, w1, got), -1);

	/* After it: the same SSN under epoch 2, another hash. */
	assert_int_equal(case_ssn_protect_db(db, DEMO_LOCAL_AREA, PK2, "123456789", enc2, mac2), 0);
	assert_int_equal(case_ssn_epoch(enc2), 2);
	assert_string_not_equal(mac1, mac2);
	assert_int_equal(case_ssn_reveal(k1, PK2, enc2, d), -1);
	assert_int_equal(case_ssn_reveal_db(db, DEMO_LOCAL_AREA, PK2, enc2, d), 0);
	assert_string_equal(d, "123456789");
	assert_int_equal(case_ssn_reveal_db(db, DEMO_LOCAL_AREA, PK1, enc1, d), 0);
	assert_string_equal(d, "123456789");
	/* A duplicate lookup finds the row still under epoch 1's hash. */
	assert_int_equal(case_ssn_find(db, DEMO_LOCAL_AREA, "123456789",
				       "SELECT id FROM participants WHERE ssn_hmac=?", id, sizeof id), 0);
	assert_string_equal(id, PK1);
	assert_int_equal(case_ssn_find(db, DEMO_LOCAL_AREA, "123456780",
				       "SELECT id FROM participants WHERE ssn_hmac=?", id, sizeof id), 1);
	put_ssn(db, PK2, enc2, mac2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_duplicate_flags", -1), 0);

	/* The hub writes the older SSN again under epoch 2, as a replicated
	 * write, and the two are flagged as one person. */
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 0), 1);
	assert_int_equal(db_text(db, "SELECT ssn_enc FROM participants WHERE id=?", PK1, v, sizeof v), 0);
	assert_int_equal(case_ssn_epoch(v), 2);
	assert_int_equal(case_ssn_reveal_db(db, DEMO_LOCAL_AREA, PK1, v, d), 0);
	assert_string_equal(d, "123456789");
	assert_int_equal(db_text(db, "SELECT ssn_hmac FROM participants WHERE id=?", PK1, v, sizeof v), 0);
	assert_string_equal(v, mac2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM change_log WHERE tbl='participants'"
				    " AND row_id='" PK1 "'", -1) > 0, 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_duplicate_flags", -1), 1);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 0), 0);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 0);

	/* A second rotation: epoch 3, every key still readable here. */
	assert_int_equal(rotate_once(db), 3);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 1, got), 0);
	assert_memory_equal(got, k1, sizeof k1);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 2, got), 0);
	assert_memory_equal(got, k2, sizeof k2);
	assert_int_equal(unwrap_row(db, "demo-la:e2", w2, got), -1);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 0), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participants WHERE ssn_enc LIKE 'e3:%'", -1), 2);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A hub database whose Local Area demo-la has had its key rotated once,
 * with PK1's SSN 123456789 stored under epoch 1 (not written again yet);
 * enc1/mac1 get PK1's values, *dir the key directory (caller removes). */
static sqlite3 *rotated_with_pk1(char **dir, char enc1[CASE_SSN_ENC_MAX + 1], char mac1[65])
{
	sqlite3 *db = open_db();
	char err[256];

	*dir = tu_tmpdir("case-keys");
	assert_int_equal(hub_keys_open(db, *dir, err, sizeof err), 0);
	assert_int_equal(case_ensure_keys(db, "000000000003.0000.hub", 1), 2);
	assert_int_equal(hub_keys_wrap_new(db), 0);
	put_pk1(db, enc1, mac1);
	assert_int_equal(rotate_once(db), 2);
	return db;
}

/* case_ssn_hmac_each's fn: the hashes given, one after another. */
static int hmac_collect(void *arg, const char *mac)
{
	char *all = arg;

	strcat(all, mac);
	strcat(all, " ");
	return 0;
}

/* Between a rotation and the re-encryption of a stored SSN (the hub's pass
 * in batches, then the pull that brings the new row to an office) the row
 * keeps its own epoch's hash: a search by the full SSN looks under every
 * key held - case_ssn_hmac_each, newest first, as the node's POST
 * /api/v1/case/participants/search does (with the newest key alone it
 * missed the row) - and finds it. */
static void test_search_hashes_between_epochs(void **state)
{
	char *dir, enc1[CASE_SSN_ENC_MAX + 1], enc2[CASE_SSN_ENC_MAX + 1], mac1[65], mac2[65],
	     all[4 * 65 + 1] = "", want[4 * 65 + 1];
	sqlite3 *db = rotated_with_pk1(&dir, enc1, mac1);
	sqlite3_stmt *st;

	(void)state;
	assert_int_equal(case_ssn_hmac_each(db, DEMO_LOCAL_AREA, "123456789", hmac_collect, all), 0);
	assert_int_equal(case_ssn_protect_db(db, DEMO_LOCAL_AREA, PK2, "123456789", enc2, mac2), 0);
	snprintf(want, sizeof want, "%s %s ", mac2, mac1);
	assert_string_equal(all, want);
	/* The search's condition, with the hashes as it binds them. */
	assert_int_equal(db_prepare(db, &st, "SELECT group_concat(id) FROM participants WHERE"
					     " ssn_hmac IN (SELECT value FROM json_each(?1))"), 0);
	snprintf(want, sizeof want, "[\"%s\",\"%s\"]", mac2, mac1);
	sqlite3_bind_text(st, 1, want, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), PK1);
	sqlite3_finalize(st);
	/* No key held: no hash, nothing found. */
	all[0] = '\0';
	assert_int_equal(case_ssn_hmac_each(db, "no-such-la", "123456789", hmac_collect, all), 0);
	assert_string_equal(all, "");
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* The hub's check of an office's review of flag-1, between a and b. */
static int review(sqlite3 *db, const char *a, const char *b, char *reason, size_t n)
{
	char js[512];
	cJSON *row;
	int rc;

	snprintf(js, sizeof js,
		 "{\"id\":\"flag-1\",\"local_area_id\":\"demo-la\",\"participant_id\":\"%s\","
		 "\"other_participant_id\":\"%s\",\"reason\":\"ssn\",\"detected_at\":1,"
		 "\"status\":\"same_person\",\"resolved_by\":\"demo-staff\",\"resolved_at\":2,"
		 "\"updated_hlc\":\"000000000020.0000.nodeA\"}",
		 a, b);
	assert_non_null(row = cJSON_Parse(js));
	rc = case_hub_validate_row(db, "participant_duplicate_flags", SQLITE_UPDATE, row, reason, n);
	cJSON_Delete(row);
	return rc;
}

/* An office's review of a duplicate flag while the re-encryption pass has
 * written one of its two rows again under the newest key and not yet the
 * other (batches of HUB_REENCRYPT_BATCH, in id order): the hub compared the
 * two hashes, which differ, and refused the review (quarantined).  One SSN
 * under two epochs is one SSN: the review is taken; two SSNs that differ,
 * under two epochs, still are not. */
static void test_review_between_epochs(void **state)
{
	char *dir, enc1[CASE_SSN_ENC_MAX + 1], enc2[CASE_SSN_ENC_MAX + 1], enc3[CASE_SSN_ENC_MAX + 1],
	     mac1[65], mac2[65], mac3[65], why[256] = "";
	sqlite3 *db = rotated_with_pk1(&dir, enc1, mac1);
	unsigned char k1[CASE_KEY_LEN];

	(void)state;
	assert_int_equal(db_int(db, "SELECT count(*) FROM staff WHERE id='demo-staff'"
				    " AND local_area_id='demo-la'", -1), 1);
	/* The same person registered after the rotation; flagged when both
	 * were under epoch 1, say (the flag is the hub's row). */
	assert_int_equal(case_ssn_protect_db(db, DEMO_LOCAL_AREA, PK2, "123456789", enc2, mac2), 0);
	assert_int_equal(case_ssn_epoch(enc2), 2);
	put_ssn(db, PK2, enc2, mac2);
	assert_int_equal(db_exec(db, "INSERT INTO participant_duplicate_flags(id, local_area_id,"
				     " participant_id, other_participant_id, reason, detected_at,"
				     " updated_hlc) VALUES('flag-1', 'demo-la', '" PK2 "', '" PK1 "',"
				     " 'ssn', 1, '000000000011.0000.hub')"),
			 0);
	assert_int_equal(review(db, PK2, PK1, why, sizeof why), 0);
	assert_string_equal(why, "");
	assert_int_equal(review(db, PK1, PK2, why, sizeof why), 0);
	/* Another SSN, under epoch 1: another person still. */
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 1, k1), 0);
	assert_int_equal(case_ssn_protect(k1, 1, PK3, "123456780", enc3, mac3), 0);
	crypto_wipe(k1, sizeof k1);
	put_ssn(db, PK3, enc3, mac3);
	assert_int_equal(review(db, PK2, PK3, why, sizeof why), -1);
	assert_non_null(strstr(why, "no longer names two participants"));
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* Participant id with this SSN, under key k of that epoch, pushed to the
 * hub db by an office, through the hub's row validator: what the push did. */
static st_pushed push_with(sqlite3 *db, const unsigned char k[CASE_KEY_LEN], int epoch,
			   const char *id, const char *digits)
{
	static const sync_scope scope_a = {"nodeA", DEMO_OFFICE, DEMO_LOCAL_AREA};
	char enc[CASE_SSN_ENC_MAX + 1], mac[65];
	sqlite3 *node = st_open_db(0);
	st_pushed r;

	assert_int_equal(case_ssn_protect(k, epoch, id, digits, enc, mac), 0);
	st_node_write(node, "demo-staff", "000000000020.0000.nodeA",
		      "INSERT INTO participants(id, local_area_id, office_id, first_name, last_name,"
		      " birth_date, ssn_kind, ssn_enc, ssn_hmac, ssn_last4, registered_date, registered_at,"
		      " registered_by, updated_hlc) VALUES(%Q, 'demo-la', 'demo-office', 'Bo', 'Lind',"
		      " '1980-02-03', 'real', %Q, %Q, %Q, '2026-01-15', 1, 'demo-staff',"
		      " '000000000020.0000.nodeA')",
		      id, enc, mac, digits + 5);
	sync_set_validator(hub_codes_validate_row);
	r = st_push(db, node, &scope_a);
	sync_set_validator(NULL);
	sqlite3_close(node);
	return r;
}

/* The same under demo-la's key of that epoch (1: an office that did not
 * sync since the rotation), which the hub takes. */
static void push_under(sqlite3 *db, int epoch, const char *id, const char *digits)
{
	unsigned char k[CASE_KEY_LEN];

	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, epoch, k), 0);
	assert_int_equal(push_with(db, k, epoch, id, digits).applied, 1);
	crypto_wipe(k, sizeof k);
}

/* sqlite3_trace_v2's callback: the statements that read participants. */
static int count_participant_reads(unsigned kind, void *arg, void *p, void *x)
{
	(void)kind;
	(void)p;
	if (strstr((const char *)x, "participants") != NULL)
		++*(int *)arg;
	return 0;
}

/* hub_keys_reencrypt(db, clk, 1), the minute timer's call: how many SSNs
 * it wrote; *reads the statements it ran that read participants. */
static int reencrypt_counted(sqlite3 *db, hlc *clk, int *reads)
{
	int n;

	*reads = 0;
	assert_int_equal(sqlite3_trace_v2(db, SQLITE_TRACE_STMT, count_participant_reads, reads),
			 SQLITE_OK);
	n = hub_keys_reencrypt(db, clk, 1);
	sqlite3_trace_v2(db, 0, NULL, NULL);
	return n;
}

/* Once a Local Area had a second key, the hub's minute timer looked for
 * SSNs not under the newest key by a scan of participants every minute,
 * forever, with nothing left to write.  A pass that finds nothing left
 * marks the Local Area done up to its newest epoch (ssn_reencrypted, the
 * hub's own); while marked, the pass reads no participant.  A rotation
 * raises the epoch to reach, and a participant an office pushes under an
 * older key (a PC offline across the rotation, which still holds it)
 * reopens the Local Area: that row is written again too. */
static void test_reencrypt_marked(void **state)
{
	char *dir, enc1[CASE_SSN_ENC_MAX + 1], mac1[65], v[CASE_SSN_ENC_MAX + 1], d[10];
	sqlite3 *db = rotated_with_pk1(&dir, enc1, mac1);
	int reads;
	hlc clk;

	(void)state;
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 1);
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 2);
	/* Nothing left: no participant read, minute after minute. */
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 0);
	assert_int_equal(reads, 0);
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 0);
	assert_int_equal(reads, 0);

	/* An office that did not sync since the rotation registers PK3 under
	 * epoch 1's key, and pushes it after the pass. */
	push_under(db, 1, PK3, "123456780");
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 0);
	/* The next pass writes it again under epoch 2, then marks again. */
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 1);
	assert_int_equal(db_text(db, "SELECT ssn_enc FROM participants WHERE id=?", PK3, v, sizeof v), 0);
	assert_int_equal(case_ssn_epoch(v), 2);
	assert_int_equal(case_ssn_reveal_db(db, DEMO_LOCAL_AREA, PK3, v, d), 0);
	assert_string_equal(d, "123456780");
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 0);
	assert_int_equal(reads, 0);

	/* A rotation: the Local Area is not done up to epoch 3. */
	assert_int_equal(rotate_once(db), 3);
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participants WHERE ssn_enc LIKE 'e3:%'", -1), 2);
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 0);
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 3);
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 0);
	assert_int_equal(reads, 0);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* A pass of more than one batch that a participant pushed under an older
 * key reopens between its batches, the row behind the pass's position:
 * the pass does not mark the Local Area at its end but starts again, and
 * the row is written again. */
static void test_reencrypt_reopened_mid_pass(void **state)
{
	char *dir, enc[CASE_SSN_ENC_MAX + 1], mac[65], id[64], ssn[24], v[CASE_SSN_ENC_MAX + 1];
	sqlite3 *db = rotated_with_pk1(&dir, enc, mac);
	unsigned char k1[CASE_KEY_LEN];
	int reads;
	hlc clk;

	(void)state;
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	/* PK1 and 150 more under epoch 1 (ids c001, d000 to d095): a batch of
	 * 100, then one of 51. */
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 1, k1), 0);
	for (int i = 0; i < 150; i++) {
		snprintf(id, sizeof id, "0190b000-0000-7000-8000-00000000d%03x", i);
		snprintf(ssn, sizeof ssn, "22233%04d", i % 10000);
		assert_int_equal(case_ssn_protect(k1, 1, id, ssn, enc, mac), 0);
		put_ssn(db, id, enc, mac);
	}
	crypto_wipe(k1, sizeof k1);
	assert_int_equal(reencrypt_counted(db, &clk, &reads), HUB_REENCRYPT_BATCH);
	/* Behind the pass's position (ids in order): a row under epoch 1. */
	push_under(db, 1, "0190b000-0000-7000-8000-0000000000a1", "123456781");
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 51);
	assert_int_equal(db_int(db, "SELECT count(*) FROM ssn_reencrypted WHERE epoch = 2", -1), 0);
	/* Again from the start: the row, then the mark. */
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 1);
	assert_int_equal(db_text(db, "SELECT ssn_enc FROM participants WHERE id="
				     "'0190b000-0000-7000-8000-0000000000a1'", NULL, v, sizeof v), 0);
	assert_int_equal(case_ssn_epoch(v), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM ssn_reencrypted WHERE epoch = 2", -1), 1);
	assert_int_equal(reencrypt_counted(db, &clk, &reads), 0);
	assert_int_equal(reads, 0);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* n participants of demo-la, ids ...00000000<tag><i in hex>, SSNs
 * <ssn5><i>, protected under key k of epoch. */
static void put_protected(sqlite3 *db, const unsigned char *k, int epoch, int n, char tag,
			  const char *ssn5)
{
	char id[64], ssn[24], enc[CASE_SSN_ENC_MAX + 1], mac[65];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "0190b000-0000-7000-8000-00000000%c%03x", tag, i);
		snprintf(ssn, sizeof ssn, "%s%04d", ssn5, i);
		assert_int_equal(case_ssn_protect(k, epoch, id, ssn, enc, mac), 0);
		put_ssn(db, id, enc, mac);
	}
}

/* hub_keys_reencrypt_all (what a retirement runs first): the rows under
 * an older epoch are all written again, the ones under the newest are not
 * touched (their value and clock as they were), and the pass goes on to
 * its end past a batch of rows the hub cannot read (a stand-alone node's
 * own key): it stopped at the first batch that wrote nothing, so the SSNs
 * after them stayed under the older key and the retirement was refused. */
static void test_reencrypt_all_older_only(void **state)
{
	char *dir, enc[CASE_SSN_ENC_MAX + 1], mac[65], id[64], ssn[24], v[CASE_SSN_ENC_MAX + 1];
	char junk[2 * 40 + 1];
	sqlite3 *db = rotated_with_pk1(&dir, enc, mac);
	unsigned char k1[CASE_KEY_LEN];
	hlc clk;
	int i;
	int64_t seq;

	(void)state;
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	/* 120 rows under epoch 1 this hub cannot read, before PK1 (c001) in
	 * id order: more than a batch. */
	memset(junk, 'a', sizeof junk - 1);
	junk[sizeof junk - 1] = '\0';
	for (i = 0; i < 120; i++) {
		snprintf(id, sizeof id, "0190b000-0000-7000-8000-00000000b%03x", i);
		put_ssn(db, id, junk, "00");
	}
	/* 30 more it can read under epoch 1, after PK1 ... */
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 1, k1), 0);
	put_protected(db, k1, 1, 30, 'd', "33344");
	crypto_wipe(k1, sizeof k1);
	/* ... and 64 under the newest, epoch 2, among them. */
	for (i = 0; i < 64; i++) {
		snprintf(id, sizeof id, "0190b000-0000-7000-8000-00000000%c%03x", i % 2 ? 'a' : 'd',
			 0x100 + i);
		snprintf(ssn, sizeof ssn, "44455%04d", i);
		assert_int_equal(case_ssn_protect_db(db, DEMO_LOCAL_AREA, id, ssn, enc, mac), 0);
		assert_int_equal(case_ssn_epoch(enc), 2);
		put_ssn(db, id, enc, mac);
	}
	assert_int_equal(db_exec(db, "CREATE TEMP TABLE was AS SELECT id, ssn_enc, ssn_hmac,"
				     " updated_hlc FROM participants WHERE ssn_enc LIKE 'e2:%'"), 0);
	seq = db_int(db, "SELECT max(seq) FROM change_log", -1);

	assert_int_equal(hub_keys_reencrypt_all(db, &clk), 31);
	/* Every readable SSN under an older key: under epoch 2 now, and reads. */
	assert_int_equal(db_int(db, "SELECT count(*) FROM participants WHERE ssn_enc LIKE 'e2:%'"
				    " AND (id = '" PK1 "' OR id LIKE '%00000000d0__')", -1), 31);
	assert_int_equal(db_text(db, "SELECT ssn_enc FROM participants WHERE id="
				     "'0190b000-0000-7000-8000-00000000d01d'", NULL, v, sizeof v), 0);
	assert_int_equal(case_ssn_reveal_db(db, DEMO_LOCAL_AREA, "0190b000-0000-7000-8000-00000000d01d",
					    v, ssn), 0);
	assert_string_equal(ssn, "333440029");
	/* The ones it cannot read: left as they were. */
	assert_int_equal(db_int_bound(db, -1, "SELECT count(*) FROM participants WHERE ssn_enc = ?1",
				      "t", junk), 120);
	/* The ones under the newest: not touched. */
	assert_int_equal(db_int(db, "SELECT count(*) FROM participants p JOIN was w USING (id)"
				    " WHERE p.ssn_enc IS w.ssn_enc AND p.ssn_hmac IS w.ssn_hmac"
				    " AND p.updated_hlc IS w.updated_hlc", -1), 64);
	assert_int_equal(db_int_bound(db, -1, "SELECT count(*) FROM was w JOIN change_log c ON"
					      " c.tbl = 'participants' AND c.row_id = w.id AND c.seq > ?1",
				      "I", seq), 0);
	/* Done: marked, a retirement may go on. */
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 2);
	assert_int_equal(hub_keys_reencrypt_all(db, &clk), 0);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* sqlite3_trace_v2's callback: the statements that read case_keys (each
 * SSN read or hashed under a key loads that key's row, case_key_load_at). */
static int count_key_reads(unsigned kind, void *arg, void *p, void *x)
{
	(void)kind;
	(void)p;
	if (strstr((const char *)x, "case_keys") != NULL)
		++*(int *)arg;
	return 0;
}

/* The hub's check of every participant an office pushes, in a Local Area
 * of more than one key, read its SSN (the key of its epoch unwrapped, the
 * SSN decrypted) and hashed it under each key - the duplicate check across
 * epochs - also for an update that left the SSN as it was (a phone, an
 * assignment): a decrypt and a key unwrap per key for every such edit.
 * Such an update now compares the stored hash alone (its SSN was compared
 * under every key when it was set, and so was each participant with the
 * same SSN since, from its side): no key read at all.  An update that sets
 * the SSN still reads it under every key, and finds the same person
 * registered before the rotation. */
static void test_update_without_ssn_no_decrypt(void **state)
{
	static const sync_scope scope_a = {"nodeA", DEMO_OFFICE, DEMO_LOCAL_AREA};
	char *dir, enc1[CASE_SSN_ENC_MAX + 1], mac1[65], enc[CASE_SSN_ENC_MAX + 1], mac[65];
	sqlite3 *db = rotated_with_pk1(&dir, enc1, mac1), *node = st_open_db(0);
	unsigned char k2[CASE_KEY_LEN];
	char why[256] = "";
	cJSON *row;
	int reads = 0;

	(void)state;
	model_set_change_probe(sync_change_sets); /* as hub_migrate() sets it */
	sync_set_validator(hub_codes_validate_row);
	/* PK2, another SSN, registered under epoch 2 at nodeA. */
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 2, k2), 0);
	assert_int_equal(case_ssn_protect(k2, 2, PK2, "123456780", enc, mac), 0);
	st_node_write(node, "demo-staff", "000000000020.0000.nodeA",
		      "INSERT INTO participants(id, local_area_id, office_id, first_name, last_name,"
		      " birth_date, ssn_kind, ssn_enc, ssn_hmac, ssn_last4, registered_date, registered_at,"
		      " registered_by, updated_hlc) VALUES(%Q, 'demo-la', 'demo-office', 'Bo', 'Lind',"
		      " '1980-02-03', 'real', %Q, %Q, '6780', '2026-01-15', 1, 'demo-staff',"
		      " '000000000020.0000.nodeA')",
		      PK2, enc, mac);
	assert_int_equal(st_push(db, node, &scope_a).applied, 1);
	/* Its phone edited: no key read. */
	st_node_write(node, "demo-staff", "000000000021.0000.nodeA",
		      "UPDATE participants SET phone='555-0100', updated_hlc='000000000021.0000.nodeA'"
		      " WHERE id=%Q", PK2);
	assert_int_equal(sqlite3_trace_v2(db, SQLITE_TRACE_STMT, count_key_reads, &reads), SQLITE_OK);
	assert_int_equal(st_push(db, node, &scope_a).applied, 1);
	sqlite3_trace_v2(db, 0, NULL, NULL);
	assert_int_equal(reads, 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participants WHERE id='" PK2 "'"
				    " AND phone='555-0100'", -1), 1);
	/* The same row checked outside a push (the console's check of a
	 * conflict's value, hub_console.c): the probe knows of no column
	 * set, so it may be the SSN: read under every key. */
	assert_non_null(row = db_row_json_by(db, "SELECT * FROM participants WHERE id=?1", PK2));
	assert_int_equal(sqlite3_trace_v2(db, SQLITE_TRACE_STMT, count_key_reads, &reads), SQLITE_OK);
	assert_int_equal(case_hub_validate_row(db, "participants", SQLITE_UPDATE, row, why, sizeof why),
			 0);
	sqlite3_trace_v2(db, 0, NULL, NULL);
	cJSON_Delete(row);
	assert_true(reads > 0);
	/* Its SSN corrected to PK1's (123456789, under epoch 1 still): read
	 * under every key, flagged. */
	assert_int_equal(case_ssn_protect(k2, 2, PK2, "123456789", enc, mac), 0);
	st_node_write(node, "demo-staff", "000000000022.0000.nodeA",
		      "UPDATE participants SET ssn_enc=%Q, ssn_hmac=%Q, ssn_last4='6789',"
		      " updated_hlc='000000000022.0000.nodeA' WHERE id=%Q", enc, mac, PK2);
	reads = 0;
	assert_int_equal(sqlite3_trace_v2(db, SQLITE_TRACE_STMT, count_key_reads, &reads), SQLITE_OK);
	assert_int_equal(st_push(db, node, &scope_a).applied, 1);
	sqlite3_trace_v2(db, 0, NULL, NULL);
	assert_true(reads > 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_duplicate_flags WHERE"
				    " participant_id='" PK2 "' AND other_participant_id='" PK1 "'", -1),
			 1);
	sync_set_validator(NULL);
	model_set_change_probe(NULL);
	crypto_wipe(k2, sizeof k2);
	sqlite3_close(node);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* What the statements that name participants cost, summed as each ends
 * (sqlite3_trace_v2's SQLITE_TRACE_PROFILE: the statement is still there):
 * steps of full table scans, and virtual machine steps. */
struct stmt_cost {
	int64_t fullscan, vm;
};

static int add_stmt_cost(unsigned kind, void *arg, void *p, void *x)
{
	struct stmt_cost *c = arg;
	const char *sql = sqlite3_sql(p);

	(void)kind;
	(void)x;
	if (sql != NULL && strstr(sql, "participants") != NULL) {
		c->fullscan += sqlite3_stmt_status(p, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
		c->vm += sqlite3_stmt_status(p, SQLITE_STMTSTATUS_VM_STEP, 1);
	}
	return 0;
}

/* n participants of Local Area la, ids with prefix pfx, whose ssn_enc is
 * enc_prefix and hex the hub cannot read: their rows only, in one go. */
static void put_many(sqlite3 *db, int n, const char *la, const char *pfx, const char *enc_prefix)
{
	assert_int_equal(db_run(db, "WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i"
				    " WHERE x + 1 < ?1) INSERT INTO participants(id, local_area_id,"
				    " office_id, first_name, last_name, birth_date, ssn_kind, ssn_enc,"
				    " ssn_hmac, ssn_last4, registered_date, registered_at, updated_hlc)"
				    " SELECT printf('%s%08d', ?3, x), ?2, 'demo-office', 'Ana', 'Reyes',"
				    " '1977-05-25', 'real', ?4 || printf('%074d', x), printf('%064d', x),"
				    " '6789', '2026-01-15', 1, '000000000010.0000.nodeA' FROM i",
				"ittt", n, la, pfx, enc_prefix),
			 0);
}

/* The re-encryption pass looked for the SSNs under an older key with one
 * query over every participant in id order (the Local Areas to do joined
 * to each row): each pass read every participant of every Local Area -
 * those of Local Areas marked done, and those already under the newest
 * key - on the event loop, to write a few.  It now reads, Local Area by
 * Local Area (those to do), the older ones alone, through the hub's index
 * participants_ssn_epoch: no full scan, and steps in proportion to the
 * rows it writes, not to the table.  Two Local Areas of 10,000 each (the
 * other one not rotated, demo-la's under its newest key) and 181 readable
 * SSNs of demo-la under two older epochs, in two batches: the pass writes
 * the 181, in order, across the two epochs and the batches. */
static void test_reencrypt_reads_older_only(void **state)
{
	char *dir, enc[CASE_SSN_ENC_MAX + 1], mac[65], ssn[24];
	sqlite3 *db = rotated_with_pk1(&dir, enc, mac);
	unsigned char k[CASE_KEY_LEN];
	struct stmt_cost c = {0, 0};
	hlc clk;
	int written;

	(void)state;
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	/* PK1 and 120 more under epoch 1, then (a second rotation) 60 under
	 * epoch 2: readable, older than epoch 3. */
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 1, k), 0);
	put_protected(db, k, 1, 120, 'd', "55566");
	assert_int_equal(rotate_once(db), 3);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 2, k), 0);
	put_protected(db, k, 2, 60, 'a', "66677");
	crypto_wipe(k, sizeof k);
	/* The many: demo-la's under its newest key, other-la's (one key) under
	 * its only one; ids before and after the older rows. */
	put_many(db, 10000, DEMO_LOCAL_AREA, "0190b000-0000-7000-8000-0000", "e3:");
	put_many(db, 10000, "other-la", "0190b000-0000-7000-8000-1", "");

	assert_int_equal(sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, add_stmt_cost, &c), SQLITE_OK);
	written = hub_keys_reencrypt_all(db, &clk);
	sqlite3_trace_v2(db, 0, NULL, NULL);
	assert_int_equal(written, 181);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participants WHERE local_area_id='demo-la'"
				    " AND ssn_enc NOT LIKE 'e3:%'", -1), 0);
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 3);
	assert_int_equal(db_text(db, "SELECT ssn_enc FROM participants WHERE id="
				     "'0190b000-0000-7000-8000-00000000a03b'", NULL, enc, sizeof enc), 0);
	assert_int_equal(case_ssn_reveal_db(db, DEMO_LOCAL_AREA, "0190b000-0000-7000-8000-00000000a03b",
					    enc, ssn), 0);
	assert_string_equal(ssn, "666770059");
	print_message("re-encryption pass over 20,181 participants: %lld full-scan steps, %lld VM"
		      " steps\n", (long long)c.fullscan, (long long)c.vm);
	/* No participant read by a full scan, and far fewer steps than rows:
	 * what the 181 writes themselves cost (each: its UPDATE, its change-log
	 * row, its duplicate check), not the 20,000 others. */
	assert_int_equal(c.fullscan, 0);
	assert_true(c.vm < 181 * 400);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* The hub's duplicate check of a participant an office pushes compares
 * its SSN under every key the hub holds: the same person registered before
 * and after a rotation is flagged when the second row arrives, not only
 * once the re-encryption pass has written the older row again (between the
 * two, the two hashes differ); so is one an office that was offline across
 * the rotation registers under the older key.  Another SSN is not. */
static void test_duplicate_across_epochs(void **state)
{
	char *dir, enc1[CASE_SSN_ENC_MAX + 1], mac1[65];
	sqlite3 *db = rotated_with_pk1(&dir, enc1, mac1);
	hlc clk;

	(void)state;
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	push_under(db, 2, PK2, "123456789");
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_duplicate_flags WHERE"
				    " participant_id='" PK2 "' AND other_participant_id='" PK1 "'", -1),
			 1);
	/* The pass writes PK1 again: no second flag of the pair. */
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_duplicate_flags", -1), 1);
	/* Under the older key, after the pass: flagged with both. */
	push_under(db, 1, PK3, "123456789");
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_duplicate_flags WHERE"
				    " participant_id='" PK3 "'", -1),
			 2);
	push_under(db, 1, PK4, "123456780");
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_duplicate_flags", -1), 3);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* hub_keys_retire in a transaction, as `outpost-hub ssn-key-retire` runs
 * it: its answer; *n the keys it deleted, msg why not (or whom it forced
 * past). */
static int retire(sqlite3 *db, int force, int *n, char *msg, size_t mn)
{
	int e = 0, rc;

	*n = 0;
	assert_int_equal(db_exec(db, "BEGIN IMMEDIATE"), 0);
	rc = hub_keys_retire(db, DEMO_LOCAL_AREA, force, &e, n, msg, mn);
	assert_int_equal(db_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK"), 0);
	if (rc != HUB_RETIRE_NO_LA)
		assert_int_equal(e, case_key_epoch(db, DEMO_LOCAL_AREA));
	return rc;
}

/* A rotation never ended the life of a key: every older epoch's stayed in
 * case_keys, at the hub and at every office, for good.  Retiring them
 * (hub_keys_retire) is refused while a stored SSN is under one (the pass
 * has not run) and while an active node of the Local Area has not pulled
 * past the rotation (named; a revoked one, another Local Area's do not
 * count); then the older rows are deleted, as replicated deletes, and the
 * hub reads nothing under them.  A participant an office that was offline
 * across the rotation pushes under a retired key is quarantined, saying
 * so; the duplicate check, the pass and another rotation go on with the
 * keys left, and --force goes past a node that has not pulled. */
static void test_retire_older_epochs(void **state)
{
	char *dir, enc1[CASE_SSN_ENC_MAX + 1], mac1[65], msg[1024], v[CASE_SSN_ENC_MAX + 1], d[10];
	sqlite3 *db = rotated_with_pk1(&dir, enc1, mac1);
	unsigned char k1[CASE_KEY_LEN], k2[CASE_KEY_LEN], got[CASE_KEY_LEN];
	st_pushed r;
	hlc clk;
	int n;

	(void)state;
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 1, k1), 0);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 2, k2), 0);
	assert_int_equal(db_exec(db, "INSERT INTO nodes(id, office_id, local_area_id, secret_hex,"
				     " enrolled_at, revoked_at, pull_cursor) VALUES"
				     " ('nodeA', 'demo-office', 'demo-la', 'x', 1, NULL, 0),"
				     " ('nodeR', 'demo-office', 'demo-la', 'x', 1, 5, 0),"
				     " ('nodeO', 'other-office', 'other-la', 'x', 1, NULL, 0)"),
			 0);
	assert_int_equal(hub_keys_retire(db, "no-such-la", 0, &n, &n, msg, sizeof msg),
			 HUB_RETIRE_NO_LA);
	/* PK1 is still under epoch 1. */
	assert_int_equal(retire(db, 0, &n, msg, sizeof msg), HUB_RETIRE_REFUSED);
	assert_non_null(strstr(msg, "not all written again under its newest key (epoch 2)"));
	assert_int_equal(retire(db, 1, &n, msg, sizeof msg), HUB_RETIRE_REFUSED);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 1);
	/* nodeA has not pulled the new key. */
	assert_int_equal(retire(db, 0, &n, msg, sizeof msg), HUB_RETIRE_NODES);
	assert_non_null(strstr(msg, "nodeA (office demo-office)"));
	assert_null(strstr(msg, "nodeR"));
	assert_null(strstr(msg, "nodeO"));
	assert_int_equal(db_int(db, "SELECT count(*) FROM case_keys WHERE local_area_id='demo-la'", -1),
			 2);
	/* It pulls past the rotation (and the pass's writes). */
	assert_int_equal(db_exec(db, "UPDATE nodes SET pull_cursor=(SELECT max(seq) FROM change_log)"
				     " WHERE id='nodeA'"),
			 0);
	assert_int_equal(retire(db, 0, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 1);
	assert_string_equal(msg, "");
	assert_int_equal(db_int(db, "SELECT count(*) FROM case_keys WHERE local_area_id='demo-la'"
				    " AND id='demo-la:e2'", -1), 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM case_keys WHERE local_area_id='demo-la'", -1),
			 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM case_keys WHERE local_area_id='other-la'",
				-1), 1);
	/* The delete replicates to the Local Area's nodes. */
	assert_int_equal(db_int(db, "SELECT count(*) FROM change_log WHERE tbl='case_keys'"
				    " AND row_id='demo-la' AND op=2 AND scope_la='demo-la'", -1), 1);
	/* The hub reads nothing under epoch 1 any more; the rest as before. */
	assert_int_equal(case_key_epoch(db, DEMO_LOCAL_AREA), 2);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 1, got), 1);
	assert_int_equal(case_ssn_reveal_db(db, DEMO_LOCAL_AREA, PK1, enc1, d), -1);
	assert_int_equal(case_key_load(db, DEMO_LOCAL_AREA, got), 0);
	assert_memory_equal(got, k2, sizeof k2);
	assert_int_equal(db_text(db, "SELECT ssn_enc FROM participants WHERE id=?", PK1, v, sizeof v), 0);
	assert_int_equal(case_ssn_reveal_db(db, DEMO_LOCAL_AREA, PK1, v, d), 0);
	assert_string_equal(d, "123456789");
	assert_int_equal(retire(db, 0, &n, msg, sizeof msg), HUB_RETIRE_NONE);

	/* An office offline across it pushes a participant under epoch 1:
	 * quarantined, with the reason, not stored unreadable. */
	r = push_with(db, k1, 1, PK3, "123456780");
	assert_int_equal(r.applied, 0);
	assert_int_equal(r.quarantined, 1);
	assert_non_null(strstr(r.reason, "epoch 1, which the hub has retired"));
	assert_int_equal(db_int(db, "SELECT count(*) FROM participants WHERE id='" PK3 "'", -1), 0);
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 2);
	/* The same person under epoch 2: taken, flagged with PK1. */
	r = push_with(db, k2, 2, PK2, "123456789");
	assert_int_equal(r.applied, 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM participant_duplicate_flags WHERE"
				    " participant_id='" PK2 "' AND other_participant_id='" PK1 "'", -1),
			 1);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 0);

	/* Another rotation wraps the one key left; nodeA has not pulled it:
	 * --force goes past it, naming it. */
	assert_int_equal(rotate_once(db), 3);
	assert_int_equal(case_key_load_at(db, DEMO_LOCAL_AREA, 2, got), 0);
	assert_memory_equal(got, k2, sizeof k2);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 2);
	assert_int_equal(retire(db, 0, &n, msg, sizeof msg), HUB_RETIRE_NODES);
	assert_non_null(strstr(msg, "nodeA"));
	assert_int_equal(retire(db, 1, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 1);
	assert_non_null(strstr(msg, "nodeA (office demo-office)"));
	assert_int_equal(db_text(db, "SELECT group_concat(id) FROM case_keys WHERE"
				     " local_area_id='demo-la'", NULL, v, sizeof v), 0);
	assert_string_equal(v, "demo-la:e3");
	r = push_with(db, k2, 2, PK4, "123456781");
	assert_int_equal(r.quarantined, 1);
	assert_non_null(strstr(r.reason, "epoch 2, which the hub has retired"));
	assert_int_equal(db_int(db, "SELECT count(*) FROM participants WHERE ssn_enc LIKE 'e3:%'", -1), 2);
	crypto_wipe(k1, sizeof k1);
	crypto_wipe(k2, sizeof k2);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

/* The key check of a participant's SSN outside a push (the hub console's
 * resolution of a conflict, hub_console.c conflict_edit: no change under
 * apply, so the probe knows of no column set) returned at once, as for an
 * edit that does not set the SSN: an office's value under an older key
 * kept there did not reopen the Local Area marked done, and one under a
 * retired key was taken.  It now counts as setting the SSN: the first
 * reopens, the second is refused, saying why. */
static void test_note_row_outside_push(void **state)
{
	char *dir, enc1[CASE_SSN_ENC_MAX + 1], mac1[65], why[512] = "", msg[1024];
	sqlite3 *db = rotated_with_pk1(&dir, enc1, mac1);
	cJSON *row;
	hlc clk;
	int n;

	(void)state;
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 1);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 0);
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 2);
	/* PK1's row with the office's value under epoch 1, as the console
	 * checks it. */
	assert_non_null(row = db_row_json_by(db, "SELECT * FROM participants WHERE id=?1", PK1));
	cJSON_ReplaceItemInObject(row, "ssn_enc", cJSON_CreateString(enc1));
	assert_int_equal(
	    hub_keys_note_row(db, "participants", SQLITE_UPDATE, row, why, sizeof why), 0);
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 0);
	/* Epoch 1 retired: refused. */
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 0);
	assert_int_equal(hub_keys_reencrypt(db, &clk, 1), 0);
	assert_int_equal(db_int(db, "SELECT epoch FROM ssn_reencrypted WHERE local_area_id='demo-la'",
				-1), 2);
	assert_int_equal(retire(db, 1, &n, msg, sizeof msg), 0);
	assert_int_equal(n, 1);
	assert_int_equal(
	    hub_keys_note_row(db, "participants", SQLITE_UPDATE, row, why, sizeof why), -1);
	assert_non_null(strstr(why, "epoch 1, which the hub has retired"));
	cJSON_Delete(row);
	sqlite3_close(db);
	tu_rmtree(dir);
	free(dir);
}

TU_MAIN(cmocka_unit_test(test_key_epochs), cmocka_unit_test(test_search_hashes_between_epochs),
	cmocka_unit_test(test_review_between_epochs), cmocka_unit_test(test_reencrypt_marked),
	cmocka_unit_test(test_reencrypt_reopened_mid_pass), cmocka_unit_test(test_duplicate_across_epochs),
	cmocka_unit_test(test_retire_older_epochs), cmocka_unit_test(test_reencrypt_all_older_only),
	cmocka_unit_test(test_reencrypt_reads_older_only),
	cmocka_unit_test(test_update_without_ssn_no_decrypt),
	cmocka_unit_test(test_note_row_outside_push))
