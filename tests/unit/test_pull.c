/*
 * test_pull.c - pull pages, snapshots and digests (sync/pull.c,
 * sync/digest.c) and the patchset encoder (sync/changeset.c).
 *
 * Covered: a page holds the node's office and Local Area rows and the
 * statewide ones, never another office's; paging with more/next reaches the
 * head and skips other offices' entries; a row edited many times travels
 * once; deletes and rows moving out of scope reach the node as deletes; the
 * node's apply is idempotent, refused while its outbox holds entries, and
 * creates no outbox entries; after a snapshot the node's digest equals the
 * hub's digest of its scope; encoded values of every type and varint length
 * round-trip through SQLite's own changeset reader; pages of attachments at
 * the cap: a page too small for two holds one, the next page the other, and
 * a node applies both byte for byte.
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
#include "model/schema.h"
#include "sync/changeset.h"
#include "sync/sync.h"

static const sync_scope sc1 = {"nodeA", "office-1", "la-1"};

static sqlite3 *open_hub(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db), 0);
	assert_int_equal(sync_hub_migrate(db), 0);
	return db;
}

static sqlite3 *open_node(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db), 0);
	assert_int_equal(capture_migrate(db), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE node_meta(key TEXT PRIMARY KEY NOT NULL, value TEXT)"), 0);
	return db;
}

static void checkin(sqlite3 *hub, const char *id, const char *office, const char *la)
{
	char *sql = sqlite3_mprintf("INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				    " arrived_at, visit_date, updated_hlc) VALUES(%Q, %Q, %Q, 'V', 1,"
				    " '2026-01-05', '000000000001.0000.hub')",
				    id, office, la);
	assert_int_equal(db_exec(hub, sql), 0);
	sqlite3_free(sql);
}

/* Hub-side writes of every scope kind. */
static void seed(sqlite3 *hub)
{
	assert_int_equal(db_exec(hub,
				 "INSERT INTO local_areas(id, name) VALUES('la-1', 'One'), ('la-2', 'Two');"
				 "INSERT INTO offices(id, local_area_id, name) VALUES"
				 " ('office-1', 'la-1', 'A'), ('office-2', 'la-2', 'B');"
				 "INSERT INTO greeter_reasons(id, local_area_id, label, label_es) VALUES"
				 " ('gr-1', 'la-1', 'Job', 'Empleo'), ('gr-2', 'la-2', 'Job', 'Empleo');"
				 "INSERT INTO staff(id, username, display_name, privilege_group) VALUES"
				 " ('st-1', 'ana', 'Ana', 'staff');"
				 "INSERT INTO staff_credentials(id, local_area_id, password_hash) VALUES"
				 " ('st-1', 'la-2', 'x');"),
			 0);
	checkin(hub, "c1", "office-1", "la-1");
	checkin(hub, "c2", "office-2", "la-2");
	checkin(hub, "c3", "office-1", "la-1");
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	return db_int(db, sql, -999);
}

/* Ids in a patchset, as "tbl/id " words. */
static void ids_of(const buf *p, char *out, size_t n)
{
	cs_iter it;
	const char *err;
	int rc;

	out[0] = '\0';
	changeset_iter_init(&it, p->data, p->len);
	while ((rc = changeset_next(&it, &err)) == 1) {
		const cs_value *v = it.ci_op == SQLITE_DELETE ? &it.ci_old[0] : &it.ci_new[0];
		size_t l = strlen(out);
		assert_int_equal(it.ci_patchset, 1);
		snprintf(out + l, n - l, "%s%s/%.*s", it.ci_op == SQLITE_DELETE ? "-" : "", it.ci_table,
			 (int)v->cv_n, (const char *)v->cv_p);
		l = strlen(out);
		snprintf(out + l, n - l, " ");
	}
	assert_int_equal(rc, 0);
	changeset_iter_release(&it);
}

static void test_page_scope(void **state)
{
	sqlite3 *hub = open_hub(), *node = open_node();
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;
	char ids[2048];

	(void)state;
	seed(hub);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	assert_int_equal(more, 0);
	assert_int_equal(next, head);
	assert_int_equal(head, q_int(hub, "SELECT max(seq) FROM change_log"));
	ids_of(&page, ids, sizeof ids);
	/* registry order, then log order */
	assert_string_equal(ids, "local_areas/la-1 local_areas/la-2 offices/office-1 offices/office-2 "
				 "greeter_reasons/gr-1 checkins/c1 checkins/c3 staff/st-1 ");
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins WHERE office_id='office-2'"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins"), 2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM offices"), 2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM greeter_reasons"), 1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM staff_credentials"), 0);
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), next);
	assert_true(q_int(node, "SELECT value FROM node_meta WHERE key='last_pull_ms'") > 1600000000000);
	/* pulled rows never enter the outbox */
	assert_int_equal(q_int(node, "SELECT count(*) FROM outbox"), 0);
	/* nothing new: an empty page at the head */
	buf_reset(&page);
	assert_int_equal(sync_hub_pull(hub, &sc1, next, 100, &page, &next, &head, &more), 0);
	assert_int_equal(page.len, 0);
	assert_int_equal(next, head);
	buf_release(&page);
	sqlite3_close(hub);
	sqlite3_close(node);
}

static void test_paging(void **state)
{
	sqlite3 *hub = open_hub(), *node = open_node(), *whole = open_node();
	buf page = BUF_INIT(1 << 20);
	int64_t cursor = 0, next, head, prev = 0;
	int more = 1, pages = 0;
	char id[32];
	cJSON *d1, *d2;

	(void)state;
	seed(hub);
	for (int i = 0; i < 7; i++) {
		snprintf(id, sizeof id, "x%d", i);
		checkin(hub, id, i % 2 ? "office-1" : "office-2", i % 2 ? "la-1" : "la-2");
	}
	/* other offices' entries at the end of the log */
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof id, "y%d", i);
		checkin(hub, id, "office-2", "la-2");
	}
	while (more) {
		buf_reset(&page);
		assert_int_equal(sync_hub_pull(hub, &sc1, cursor, 2, &page, &next, &head, &more), 0);
		assert_true(next > prev);
		assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
		prev = cursor = next;
		assert_true(++pages < 50);
	}
	assert_true(pages >= 6);
	assert_int_equal(cursor, head);
	assert_int_equal(cursor, q_int(hub, "SELECT max(seq) FROM change_log"));
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins"), 2 + 3);
	/* the pages together equal one big page */
	buf_reset(&page);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 0, &page, &next, &head, &more), 0);
	assert_int_equal(sync_node_apply_pull(whole, page.data, page.len, next), 0);
	d1 = sync_digest(node, NULL);
	d2 = sync_digest(whole, NULL);
	assert_non_null(d1);
	assert_true(cJSON_Compare(d1, d2, 1));
	cJSON_Delete(d1);
	cJSON_Delete(d2);
	/* a page bounded in bytes instead of rows still reaches the head */
	{
		sqlite3 *small = open_node();
		buf tiny = BUF_INIT(400);
		cursor = 0;
		more = 1;
		pages = 0;
		while (more) {
			buf_reset(&tiny);
			assert_int_equal(sync_hub_pull(hub, &sc1, cursor, 100, &tiny, &next, &head, &more), 0);
			assert_true(tiny.len <= 400);
			assert_true(next > cursor);
			assert_int_equal(sync_node_apply_pull(small, tiny.data, tiny.len, next), 0);
			cursor = next;
			assert_true(++pages < 100);
		}
		assert_true(pages > 1);
		assert_int_equal(cursor, head);
		d1 = sync_digest(small, NULL);
		d2 = sync_digest(whole, NULL);
		assert_true(cJSON_Compare(d1, d2, 1));
		cJSON_Delete(d1);
		cJSON_Delete(d2);
		buf_release(&tiny);
		sqlite3_close(small);
	}
	buf_release(&page);
	sqlite3_close(hub);
	sqlite3_close(node);
	sqlite3_close(whole);
}

static void test_changes_travel_as_state(void **state)
{
	sqlite3 *hub = open_hub(), *node = open_node();
	buf page = BUF_INIT(1 << 20);
	int64_t next, head, cursor;
	int more;
	char ids[1024];

	(void)state;
	seed(hub);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	cursor = next;
	/* three edits of c1, a delete of c3, c2 moved into the office, a new
	 * office-2 row: one upsert per row, deletes by key */
	assert_int_equal(db_exec(hub, "UPDATE checkins SET note='1' WHERE id='c1';"
				      "UPDATE checkins SET note='2' WHERE id='c1';"
				      "UPDATE checkins SET note='3', status='called' WHERE id='c1';"
				      "DELETE FROM checkins WHERE id='c3';"
				      "UPDATE checkins SET office_id='office-1', local_area_id='la-1' WHERE id='c2';"),
			 0);
	checkin(hub, "c4", "office-2", "la-2");
	buf_reset(&page);
	assert_int_equal(sync_hub_pull(hub, &sc1, cursor, 100, &page, &next, &head, &more), 0);
	ids_of(&page, ids, sizeof ids);
	assert_string_equal(ids, "checkins/c1 -checkins/c3 checkins/c2 ");
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	assert_int_equal(q_int(node, "SELECT note FROM checkins WHERE id='c1'"), 3);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins WHERE id='c3'"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins WHERE id='c2'"), 1);
	cursor = next;
	/* c1 moves to office-2: the node hears that it left */
	assert_int_equal(db_exec(hub, "UPDATE checkins SET office_id='office-2', local_area_id='la-2' "
				      "WHERE id='c1'"),
			 0);
	buf_reset(&page);
	assert_int_equal(sync_hub_pull(hub, &sc1, cursor, 100, &page, &next, &head, &more), 0);
	ids_of(&page, ids, sizeof ids);
	assert_string_equal(ids, "-checkins/c1 ");
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins WHERE id='c1'"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM outbox"), 0);
	buf_release(&page);
	sqlite3_close(hub);
	sqlite3_close(node);
}

static void test_node_apply_idempotent_and_outbox_guard(void **state)
{
	sqlite3 *hub = open_hub(), *node = open_node();
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;
	cJSON *d1, *d2;
	capture c;
	int64_t seq;

	(void)state;
	seed(hub);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	d1 = sync_digest(node, NULL);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	d2 = sync_digest(node, NULL);
	assert_true(cJSON_Compare(d1, d2, 1));
	cJSON_Delete(d2);
	/* a local edit pending: the pull is refused and changes nothing */
	assert_int_equal(capture_begin(&c, node), 0);
	assert_int_equal(db_exec(node, "UPDATE checkins SET note='local' WHERE id='c1'"), 0);
	assert_int_equal(capture_commit(&c, "000000000009.0000.nodeA", NULL, &seq), 0);
	assert_int_equal(db_exec(hub, "UPDATE checkins SET note='hub' WHERE id='c1'"), 0);
	buf_reset(&page);
	assert_int_equal(sync_hub_pull(hub, &sc1, next, 100, &page, &next, &head, &more), 0);
	assert_true(page.len > 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), -2);
	{
		char note[32];
		assert_int_equal(db_text(node, "SELECT note FROM checkins WHERE id='c1'", NULL, note,
					 sizeof note),
				 0);
		assert_string_equal(note, "local");
	}
	assert_int_equal(q_int(node, "SELECT count(*) FROM outbox"), 1);
	assert_true(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'") < next);
	assert_true(sqlite3_get_autocommit(node));
	/* once pushed (outbox acked), the same page applies */
	assert_int_equal(db_exec(node, "DELETE FROM outbox"), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), next);
	/* a malformed page is refused whole */
	{
		unsigned char bad[8];
		memcpy(bad, page.data, sizeof bad);
		assert_int_equal(sync_node_apply_pull(node, bad, sizeof bad, next + 1), -1);
		assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), next);
	}
	cJSON_Delete(d1);
	buf_release(&page);
	sqlite3_close(hub);
	sqlite3_close(node);
}

static void test_snapshot_digest_equal(void **state)
{
	sqlite3 *hub = open_hub(), *node = open_node();
	buf snap = BUF_INIT(1 << 20);
	int64_t seq;
	cJSON *dh, *dn, *dall;
	const cJSON *t;

	(void)state;
	seed(hub);
	assert_int_equal(db_exec(hub, "INSERT INTO conflicts(id, tbl, row_id, column_name, winner, node_id,"
				      " created_at, scope_office, scope_la) VALUES"
				      " ('k1', 'checkins', 'c1', 'note', 'local', 'n', 1, 'office-1', 'la-1'),"
				      " ('k2', 'checkins', 'c2', 'note', 'local', 'n', 1, 'office-2', 'la-2'),"
				      " ('k3', 'x', 'y', 'z', 'local', 'n', 1, NULL, NULL)"),
			 0);
	assert_int_equal(db_exec(hub, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				      " arrived_at, visit_date, note) VALUES('c9', 'office-1', 'la-1',"
				      " 'Zo\xc3\xab', 2, '2026-01-06', 'r\xc3\xa9sum\xc3\xa9')"),
			 0);
	assert_int_equal(sync_hub_snapshot(hub, &sc1, &snap, &seq), 0);
	assert_int_equal(seq, q_int(hub, "SELECT max(seq) FROM change_log"));
	assert_int_equal(sync_node_apply_pull(node, snap.data, snap.len, seq), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM conflicts"), 2);
	dh = sync_digest(hub, &sc1);
	dn = sync_digest(node, NULL);
	dall = sync_digest(hub, NULL);
	assert_non_null(dh);
	assert_non_null(dn);
	assert_non_null(dall);
	assert_true(cJSON_Compare(dh, dn, 1));
	/* the hub's unfiltered digest differs: the scope filter is real */
	assert_false(cJSON_Compare(dh, dall, 1));
	t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(dh, "tables"), "checkins");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(t, "count")->valueint, 3);
	assert_int_equal(strlen(cJSON_GetObjectItemCaseSensitive(t, "digest")->valuestring), 64);
	/* one changed value changes the digest */
	assert_int_equal(db_exec(node, "UPDATE checkins SET note='x' WHERE id='c9'"), 0);
	cJSON_Delete(dn);
	dn = sync_digest(node, NULL);
	assert_false(cJSON_Compare(dh, dn, 1));
	cJSON_Delete(dh);
	cJSON_Delete(dn);
	cJSON_Delete(dall);
	buf_release(&snap);
	sqlite3_close(hub);
	sqlite3_close(node);
}

/* ---- the whole loop: capture, push, merge, pull ------------------------------------ */

static void captured(sqlite3 *node, const char *hlc, const char *sql)
{
	capture c;
	int64_t seq;

	assert_int_equal(capture_begin(&c, node), 0);
	assert_int_equal(db_exec(node, sql), 0);
	assert_int_equal(capture_commit(&c, hlc, "staff-1", &seq), 0);
}

static void push_all(sqlite3 *hub, sqlite3 *node, const sync_scope *sc)
{
	sqlite3_stmt *st;

	assert_int_equal(db_prepare(node, &st, "SELECT seq, hlc, actor, changeset FROM outbox ORDER BY seq"), 0);
	assert_int_equal(db_exec(hub, "BEGIN IMMEDIATE"), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sync_entry e = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
				(const char *)sqlite3_column_text(st, 2), sqlite3_column_blob(st, 3),
				(size_t)sqlite3_column_bytes(st, 3)};
		sync_apply_result res;
		assert_int_equal(sync_hub_apply(hub, sc, &e, &res), 0);
		assert_int_equal(res.applied, 1);
	}
	assert_int_equal(db_exec(hub, "COMMIT"), 0);
	sqlite3_finalize(st);
	assert_int_equal(db_exec(node, "DELETE FROM outbox"), 0);
}

static void pull_all(sqlite3 *hub, sqlite3 *node, const sync_scope *sc)
{
	buf page = BUF_INIT(1 << 20);
	char cur[32] = "0";
	int64_t cursor, next, head;
	int more = 1;

	db_text(node, "SELECT value FROM node_meta WHERE key='sync_cursor'", NULL, cur, sizeof cur);
	cursor = strtoll(cur, NULL, 10);
	while (more) {
		buf_reset(&page);
		assert_int_equal(sync_hub_pull(hub, sc, cursor, 3, &page, &next, &head, &more), 0);
		assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
		cursor = next;
	}
	buf_release(&page);
}

static void test_push_pull_converges(void **state)
{
	static const sync_scope sa = {"nodeA", "office-1", "la-1"}, sb = {"nodeB", "office-1", "la-1"};
	sqlite3 *hub = open_hub(), *a = open_node(), *b = open_node();
	cJSON *dh, *da, *db;

	(void)state;
	seed(hub);
	pull_all(hub, a, &sa);
	pull_all(hub, b, &sb);
	captured(a, "000000000100.0000.nodeA",
		 "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at, visit_date,"
		 " updated_hlc) VALUES('ka', 'office-1', 'la-1', 'Ka', 1, '2026-01-05', '000000000100.0000.nodeA');"
		 "INSERT INTO checkin_events(id, checkin_id, office_id, action, to_status, at, hlc) VALUES"
		 " ('kev', 'ka', 'office-1', 'create', 'waiting', 1, '000000000100.0000.nodeA')");
	captured(b, "000000000150.0000.nodeB",
		 "UPDATE checkins SET note='B', updated_hlc='000000000150.0000.nodeB' WHERE id='c1'");
	captured(a, "000000000120.0000.nodeA",
		 "UPDATE checkins SET note='A', phone='555', updated_hlc='000000000120.0000.nodeA' WHERE id='c1'");
	push_all(hub, a, &sa);
	push_all(hub, b, &sb);
	pull_all(hub, a, &sa);
	pull_all(hub, b, &sb);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM conflicts"), 1);
	dh = sync_digest(hub, &sa);
	da = sync_digest(a, NULL);
	db = sync_digest(b, NULL);
	assert_true(cJSON_Compare(dh, da, 1));
	assert_true(cJSON_Compare(dh, db, 1));
	/* both replicas show the merge: B's later note, A's phone, the conflict */
	{
		char note[16], phone[16];
		assert_int_equal(db_text(a, "SELECT note FROM checkins WHERE id='c1'", NULL, note, sizeof note), 0);
		assert_int_equal(db_text(b, "SELECT phone FROM checkins WHERE id='c1'", NULL, phone, sizeof phone), 0);
		assert_string_equal(note, "B");
		assert_string_equal(phone, "555");
	}
	assert_int_equal(q_int(a, "SELECT count(*) FROM conflicts"), 1);
	assert_int_equal(q_int(b, "SELECT count(*) FROM checkin_events"), 1);
	assert_int_equal(q_int(a, "SELECT count(*) FROM outbox") + q_int(b, "SELECT count(*) FROM outbox"), 0);
	cJSON_Delete(dh);
	cJSON_Delete(da);
	cJSON_Delete(db);
	sqlite3_close(hub);
	sqlite3_close(a);
	sqlite3_close(b);
}

/* ---- encoder ------------------------------------------------------------------- */

static void test_varints(void **state)
{
	static const uint64_t vals[] = {0, 1, 127, 128, 240, 2287, 16383, 16384, 2097151, 2097152,
					0xffffffffULL, 0x00ffffffffffffffULL, 0x0100000000000000ULL,
					UINT64_MAX};
	unsigned char b[9];
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		int n = varint_put(b, vals[i]);
		assert_in_range(n, 1, 9);
		assert_int_equal(varint_get(b, b + n, &v), n);
		assert_int_equal(v, vals[i]);
		if (n > 1)
			assert_int_equal(varint_get(b, b + n - 1, &v), 0);
	}
	assert_int_equal(varint_put(b, 127), 1);
	assert_int_equal(varint_put(b, 128), 2);
	assert_int_equal(b[0], 0x81);
	assert_int_equal(b[1], 0x00);
}

static void test_encoder_round_trip(void **state)
{
	sqlite3 *db;
	sqlite3_stmt *vals, *rd;
	buf p = BUF_INIT(1 << 20);
	static const unsigned char pk[] = {1, 0, 0, 0, 0, 0};
	static const int lens[] = {0, 1, 127, 128, 16383, 16384, 70000};
	char *text;
	int rc = 0, nrows = 0;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(db_exec(db, "CREATE TABLE t(id TEXT PRIMARY KEY NOT NULL, i, r, s, b, n);"
				     "INSERT INTO t(id) VALUES('gone')"),
			 0);
	text = malloc(70001);
	assert_non_null(text);
	for (int i = 0; i < 70000; i++)
		text[i] = (char)('a' + i % 26);
	text[70000] = '\0';
	assert_int_equal(db_prepare(db, &vals, "SELECT ?1, ?2, ?3, ?4, ?5, NULL"), 0);
	changeset_put_table(&p, 1, "t", 6, pk, &rc);
	for (int k = 0; k < 7; k++) {
		static const int64_t ints[] = {0, -1, INT64_MIN, INT64_MAX, 1LL << 40, 42, -70000};
		static const double reals[] = {1.5, -0.0, 1e300, -2.25e-300, 3.0, 0.1, -7.0};
		char id[16];
		snprintf(id, sizeof id, "r%d", k);
		sqlite3_reset(vals);
		sqlite3_bind_text(vals, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(vals, 2, ints[k]);
		sqlite3_bind_double(vals, 3, reals[k]);
		sqlite3_bind_text(vals, 4, text, lens[k], SQLITE_STATIC);
		sqlite3_bind_blob(vals, 5, text, lens[k], SQLITE_STATIC);
		assert_int_equal(sqlite3_step(vals), SQLITE_ROW);
		changeset_put_op(&p, SQLITE_INSERT, 0, &rc);
		for (int c = 0; c < 6; c++)
			changeset_put_value(&p, sqlite3_column_value(vals, c), &rc);
	}
	/* a delete by key */
	changeset_put_op(&p, SQLITE_DELETE, 0, &rc);
	buf_put_u8(&p, CSV_TEXT, &rc);
	buf_put_u8(&p, 4, &rc);
	buf_put_bytes(&p, "gone", 4, &rc);
	assert_int_equal(rc, 0);
	sqlite3_finalize(vals);
	/* our walker reads it */
	{
		cs_iter it;
		const char *err;
		int n = 0;
		changeset_iter_init(&it, p.data, p.len);
		while (changeset_next(&it, &err) == 1)
			n++;
		assert_int_equal(n, 8);
		changeset_iter_release(&it);
	}
	/* and SQLite applies it */
	assert_int_equal(sqlite3changeset_apply(db, (int)p.len, p.data, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(db_int(db, "SELECT count(*) FROM t WHERE id='gone'", -1), 0);
	assert_int_equal(db_prepare(db, &rd, "SELECT id, i, r, s, b, n, typeof(i), typeof(r), typeof(s),"
					     " typeof(b) FROM t ORDER BY id"),
			 0);
	while (sqlite3_step(rd) == SQLITE_ROW) {
		static const int64_t ints[] = {0, -1, INT64_MIN, INT64_MAX, 1LL << 40, 42, -70000};
		static const double reals[] = {1.5, -0.0, 1e300, -2.25e-300, 3.0, 0.1, -7.0};
		int k = ((const char *)sqlite3_column_text(rd, 0))[1] - '0';
		double d = sqlite3_column_double(rd, 2);
		assert_string_equal((const char *)sqlite3_column_text(rd, 6), "integer");
		assert_string_equal((const char *)sqlite3_column_text(rd, 7), "real");
		assert_string_equal((const char *)sqlite3_column_text(rd, 8), "text");
		assert_string_equal((const char *)sqlite3_column_text(rd, 9), "blob");
		assert_int_equal(sqlite3_column_int64(rd, 1), ints[k]);
		assert_memory_equal(&d, &reals[k], sizeof d);
		assert_int_equal(sqlite3_column_bytes(rd, 3), lens[k]);
		assert_int_equal(sqlite3_column_bytes(rd, 4), lens[k]);
		if (lens[k])
			assert_memory_equal(sqlite3_column_blob(rd, 4), text, (size_t)lens[k]);
		assert_int_equal(sqlite3_column_type(rd, 5), SQLITE_NULL);
		nrows++;
	}
	assert_int_equal(nrows, 7);
	sqlite3_finalize(rd);
	free(text);
	buf_release(&p);
	sqlite3_close(db);
}

/* Attachments at the cap (model/crm.h) in pages smaller than two of them. */
static void test_pages_of_big_rows(void **state)
{
	sqlite3 *hub = open_hub(), *node = open_node();
	const size_t cap = 2 * 1024 * 1024;
	buf page = BUF_INIT(3 * 1024 * 1024);
	unsigned char *data = malloc(cap);
	int64_t next, head, cur = 0;
	int more, pages = 0;
	sqlite3_stmt *st;
	char ids[512];

	(void)state;
	assert_non_null(data);
	assert_int_equal(db_prepare(hub, &st, "INSERT INTO employer_attachments(id, employer_id,"
					      " filename, content_type, size, sha256, uploaded_at, data)"
					      " VALUES(?1, 'e1', 'f.pdf', 'application/pdf', ?2, 'x', 1, ?3)"),
			 0);
	for (int i = 0; i < 2; i++) {
		memset(data, 'a' + i, cap);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, i ? "att-2" : "att-1", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)cap);
		sqlite3_bind_blob(st, 3, data, (int)cap, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	}
	sqlite3_finalize(st);
	do {
		buf_reset(&page);
		assert_int_equal(sync_hub_pull(hub, &sc1, cur, 100, &page, &next, &head, &more), 0);
		assert_true(page.len > cap && page.len <= page.max);
		ids_of(&page, ids, sizeof ids);
		assert_string_equal(ids, pages ? "employer_attachments/att-2 " : "employer_attachments/att-1 ");
		assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
		assert_true(next > cur);
		cur = next;
		pages++;
	} while (more);
	assert_int_equal(pages, 2);
	assert_int_equal(cur, head);
	assert_int_equal(q_int(node, "SELECT count(*) FROM employer_attachments WHERE length(data) = 2097152"
				     " AND substr(data, 1, 1) = CAST(CASE id WHEN 'att-1' THEN 'a' ELSE 'b'"
				     " END AS BLOB)"), 2);
	/* A page that cannot hold even one of them is an error, never a cut row. */
	buf_release(&page);
	buf_init(&page, cap / 2);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), -1);
	assert_int_equal(page.len, 0);
	buf_release(&page);
	free(data);
	sqlite3_close(node);
	sqlite3_close(hub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_scope),
		cmocka_unit_test(test_paging),
		cmocka_unit_test(test_changes_travel_as_state),
		cmocka_unit_test(test_node_apply_idempotent_and_outbox_guard),
		cmocka_unit_test(test_snapshot_digest_equal),
		cmocka_unit_test(test_push_pull_converges),
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_encoder_round_trip),
		cmocka_unit_test(test_pages_of_big_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
