/*
 * test_syncstatus.c - the node's replication figures (sync_client_status_json
 * in sync/client.c), which `outpost-sync status` and the node's
 * GET /api/v1/sync/status both print.
 *
 * Covered: every figure comes from its own key, with a distinct value planted
 * for each so that a figure read from its neighbour shows (the bug seen by
 * hand: last contact printed as 1970 because it held the pull cursor); the
 * pending count, bytes and the oldest entry's age; ages of last contact and
 * last pull against the given clock; quarantined entries newest first; and
 * nulls, not zeros, for what never happened.  And the last error a hub's
 * 426 leaves (sync__hub_error): the side to upgrade is the older one, the
 * hub when this office PC was upgraded first.
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
#include "lib/json.h"
#include "model/capture.h"
#include "model/schema.h"
#include "sync/client.h"
#include "sync/client_int.h"
#include "testutil.h"

static sqlite3 *open_node(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db), 0);
	assert_int_equal(capture_migrate(db), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE node_meta(key TEXT PRIMARY KEY NOT NULL, "
				     "value TEXT)"),
			 0);
	assert_int_equal(sync_client_migrate(db), 0);
	return db;
}

static int is_null(const cJSON *o, const char *name)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, name));
}

static int64_t num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsNumber(v));
	return (int64_t)v->valuedouble;
}

static void outbox_entry(sqlite3 *db, int64_t created_at, int nbytes)
{
	char *sql = sqlite3_mprintf(
	    "INSERT INTO outbox(hlc, actor, created_at, schema_version, nbytes, changeset)"
	    " VALUES('000000000001.0000.n', NULL, %lld, 1, %d, zeroblob(%d))",
	    (long long)created_at, nbytes, nbytes);

	assert_int_equal(db_exec(db, sql), 0);
	sqlite3_free(sql);
}

static void test_every_figure_from_its_own_key(void **state)
{
	sqlite3 *db = open_node();
	cJSON *o;
	const cJSON *q;
	const uint64_t now = 1800000000000ULL;

	(void)state;
	assert_int_equal(db_exec(db,
				 "INSERT INTO sync_state(key, value) VALUES('seq_base', '3'),"
				 " ('acked_seq', '11'), ('head_seq', '44'),"
				 " ('last_error', 'cannot reach the hub');"
				 "INSERT INTO node_meta(key, value) VALUES('sync_cursor', '33'),"
				 " ('last_contact_ms', '1799999990000'),"
				 " ('last_pull_ms', '1799999980000'), ('clock_offset_ms', '-250000');"
				 "INSERT INTO sync_quarantine(seq, reason, at) VALUES"
				 " (7, 'outside the office', 1), (9, 'bad value', 2);"),
			 0);
	outbox_entry(db, (int64_t)now - 60000, 100);
	outbox_entry(db, (int64_t)now - 1000, 50);

	o = sync_client_status_json(db, now);
	assert_non_null(o);
	assert_int_equal(num(o, "pending"), 2);
	assert_int_equal(num(o, "pending_bytes"), 150);
	assert_int_equal(num(o, "oldest_pending_ms"), (int64_t)now - 60000);
	assert_int_equal(num(o, "oldest_pending_age_ms"), 60000);
	assert_int_equal(num(o, "seq_base"), 3);
	assert_int_equal(num(o, "acked_seq"), 11);
	assert_int_equal(num(o, "head_seq"), 44);
	assert_int_equal(num(o, "cursor"), 33);
	assert_int_equal(num(o, "last_contact_ms"), 1799999990000LL);
	assert_int_equal(num(o, "last_contact_age_ms"), 10000);
	assert_int_equal(num(o, "last_pull_ms"), 1799999980000LL);
	assert_int_equal(num(o, "last_pull_age_ms"), 20000);
	assert_int_equal(num(o, "clock_offset_ms"), -250000);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "clock_skew_warning")));
	assert_int_equal(num(o, "quarantined_count"), 2);
	q = cJSON_GetObjectItemCaseSensitive(o, "quarantined");
	assert_int_equal(cJSON_GetArraySize(q), 2);
	assert_int_equal(num(cJSON_GetArrayItem(q, 0), "seq"), 9);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(q, 0), "reason")->valuestring,
	    "bad value");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "last_error")->valuestring,
			    "cannot reach the hub");
	cJSON_Delete(o);
	/* A head heard before the pages that moved the cursor past it (a pull
	 * records its head at its end, a push's reply an older one): the hub's
	 * head was at least the cursor it gave. */
	assert_int_equal(db_exec(db, "UPDATE sync_state SET value='22' WHERE key='head_seq'"), 0);
	o = sync_client_status_json(db, now);
	assert_non_null(o);
	assert_int_equal(num(o, "head_seq"), 33);
	cJSON_Delete(o);
	sqlite3_close(db);
}

static void test_nothing_yet_is_null(void **state)
{
	sqlite3 *db = open_node();
	cJSON *o;
	const char *nulls[] = {"oldest_pending_ms", "oldest_pending_age_ms", "acked_seq",
			       "head_seq", "cursor", "last_contact_ms", "last_contact_age_ms",
			       "last_pull_ms", "last_pull_age_ms", "clock_offset_ms", "last_error"};

	(void)state;
	o = sync_client_status_json(db, 1800000000000ULL);
	assert_non_null(o);
	assert_int_equal(num(o, "pending"), 0);
	assert_int_equal(num(o, "pending_bytes"), 0);
	assert_int_equal(num(o, "quarantined_count"), 0);
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
		if (!is_null(o, nulls[i]))
			fail_msg("%s is not null", nulls[i]);
	}
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "clock_skew_warning")));
	cJSON_Delete(o);
	sqlite3_close(db);
}

/* The hub's 426 reply (hub_sync.c, hub_sync_api.c) with hub and node
 * versions: the error says which side to upgrade, and the client keeps both. */
static void refused(int64_t hub_v, int64_t node_v, const char *want, const char *not)
{
	sync_client c;
	buf resp = BUF_INIT(4096);
	char body[256];

	memset(&c, 0, sizeof c);
	snprintf(body, sizeof body,
		 "{\"error\":\"push refused\",\"schema_version\":%lld,\"hub_schema_version\":%lld}",
		 (long long)node_v, (long long)hub_v);
	assert_int_equal(buf_puts(&resp, body), 0);
	sync__hub_error(&c, 426, &resp, "push");
	if (strstr(c.sc_error, want) == NULL || strstr(c.sc_error, not) != NULL)
		fail_msg("hub %lld, node %lld: '%s'", (long long)hub_v, (long long)node_v, c.sc_error);
	assert_int_equal(c.sc_hub_schema, hub_v);
	assert_int_equal(c.sc_refused_schema, node_v);
	buf_release(&resp);
}

static void test_a_refusal_names_the_older_side(void **state)
{
	(void)state;
	refused(12, 13, "upgrade the hub first", "upgrade this office PC");
	refused(13, 12, "upgrade this office PC to the hub's release", "upgrade the hub");
}

TU_MAIN(cmocka_unit_test(test_every_figure_from_its_own_key),
	cmocka_unit_test(test_nothing_yet_is_null),
	cmocka_unit_test(test_a_refusal_names_the_older_side))
