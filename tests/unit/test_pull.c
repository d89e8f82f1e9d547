/*
 * test_pull.c - pull pages, snapshots and digests (sync/pull.c,
 * sync/digest.c) and the patchset encoder (sync/changeset.c).
 *
 * Covered: a page holds the node's office and Local Area rows and the
 * statewide ones, never another office's; paging with more/next reaches the
 * head and skips other offices' entries; a row edited many times travels
 * once; deletes and rows moving out of scope reach the node as deletes; the
 * node's apply is idempotent, refused while its outbox holds entries, and
 * creates no outbox entries; snapshots in pages: every in-scope row exactly
 * once across the pages, in walk order, other offices' rows never, a row
 * larger than the page bound alone in its page, a page that cannot hold one
 * row an error; the node replaces what it holds in each page's range (stray
 * rows, stale values and another scope's rows are gone), sets its cursor
 * only with the last page, refuses a page outside its range, out of order,
 * not continuing the recorded snapshot or while its outbox is busy; a
 * pull or snapshot page asked for before a push that has committed since
 * is refused (-4) and asked for again; hub
 * edits between pages are made good by the pull from the snapshot's seq
 * (and only by it); a position's table and id are checked; after a
 * snapshot the node's digest equals the hub's digest of its scope;
 * encoded values of every type and varint length
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
#include "lib/http.h"
#include "model/capture.h"
#include "model/schema.h"
#include "sync/changeset.h"
#include "sync/sync.h"
#include "synctest.h"

static const sync_scope sc1 = {"nodeA", "office-1", "la-1"};

#define open_hub() st_open_db(1)

static sqlite3 *open_node(void)
{
	sqlite3 *db = st_open_db(0);

	assert_int_equal(db_exec(db, "CREATE TABLE node_meta(key TEXT PRIMARY KEY NOT NULL, value TEXT)"), 0);
	return db;
}

/* Fixture of most tests: a hub database and a node database, closed after
 * the test. */
typedef struct dbs {
	sqlite3 *hub, *node;
} dbs;

static int dbs_setup(void **state)
{
	dbs *d = malloc(sizeof *d);

	if (d == NULL)
		return -1;
	d->hub = open_hub();
	d->node = open_node();
	*state = d;
	return 0;
}

static int dbs_teardown(void **state)
{
	dbs *d = *state;

	sqlite3_close(d->hub);
	sqlite3_close(d->node);
	free(d);
	return 0;
}

#define DBS_TEST(t) cmocka_unit_test_setup_teardown(t, dbs_setup, dbs_teardown)

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
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;
	char ids[2048];

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
}

/* A page with rows of another office and Local Area than the node's (the
 * page the hub builds for office-2, applied at an office-1 node): those
 * rows are set aside, the statewide ones (Local Areas, offices, staff) and
 * the cursor taken; the log names the table only. */
static void test_node_sets_aside_rows_of_another_scope(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	static const sync_scope sc2 = {"nodeB", "office-2", "la-2"};
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;

	seed(hub);
	assert_int_equal(db_exec(node, "INSERT INTO node_meta(key, value) VALUES"
				       " ('office_id', 'office-1'), ('local_area_id', 'la-1')"), 0);
	assert_int_equal(sync_hub_pull(hub, &sc2, 0, 100, &page, &next, &head, &more), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM greeter_reasons"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM staff_credentials"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM local_areas"), 2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM offices"), 2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM staff"), 1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM pull_set_aside WHERE why LIKE"
				     " 'row of another office%'"), 3);
	assert_int_equal(q_int(node, "SELECT count(*) FROM pull_set_aside WHERE tbl IN"
				     " ('checkins', 'greeter_reasons', 'staff_credentials')"), 3);
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), next);
	/* its own office's page: every row taken */
	buf_reset(&page);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	assert_int_equal(db_exec(node, "DELETE FROM node_meta WHERE key='sync_cursor'"), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins"), 2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM greeter_reasons"), 1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM pull_set_aside"), 3);
	buf_release(&page);
}

/* A pulled row this database refuses by a constraint (staff 'ana' of the
 * hub where a row of the node's own, under another id, holds the username:
 * the unique index) is set aside in pull_set_aside, the page's other rows
 * applied and the cursor moved: the hub's row is no longer dropped with a
 * log line only.  What is kept is the change itself (an INSERT of st-1). */
static void test_node_sets_aside_a_refused_row(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;

	seed(hub);
	assert_int_equal(db_exec(node, "INSERT INTO staff(id, username, display_name,"
				       " privilege_group) VALUES('st-local', 'ana', 'Ana', 'staff')"), 0);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM staff WHERE id='st-1'"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins"), 2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM offices"), 2);
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), next);
	assert_int_equal(q_int(node, "SELECT count(*) FROM pull_set_aside"), 1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM pull_set_aside WHERE tbl='staff' AND"
				     " why LIKE 'row this database refuses%'"), 1);
	assert_int_equal(q_int(node, "SELECT unicode(change) = 18 AND instr(change,"
				     " CAST('st-1' AS BLOB)) > 0 FROM pull_set_aside"), 1);
	buf_release(&page);
}

/* A connection's pull cache (sync_pull_cache) gives the same pages as a
 * pull that reads the shapes for itself: page by page, for two offices,
 * and after new writes. */
static void test_pull_cache_same_pages(void **state)
{
	static const sync_scope sc2 = {"nodeB", "office-2", "la-2"};
	const sync_scope *scs[2] = {&sc1, &sc2};
	sqlite3 *hub = open_hub();
	sync_pull_cache *c;
	buf a = BUF_INIT(1 << 20), b = BUF_INIT(1 << 20);
	int64_t na, nb, ha, hb;
	int ma, mb, pages = 0;

	(void)state;
	seed(hub);
	c = sync_pull_cache_new(hub);
	assert_non_null(c);
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < 2; k++) {
			int64_t cur = 0;
			do {
				buf_reset(&a);
				buf_reset(&b);
				assert_int_equal(sync_hub_pull(hub, scs[k], cur, 2, &a, &na, &ha, &ma), 0);
				assert_int_equal(
				    sync_hub_pull_cached(hub, c, scs[k], cur, 2, &b, &nb, &hb, &mb), 0);
				assert_int_equal(a.len, b.len);
				assert_memory_equal(a.data, b.data, a.len);
				assert_int_equal(na, nb);
				assert_int_equal(ha, hb);
				assert_int_equal(ma, mb);
				assert_true(na > cur || !ma);
				cur = na;
				pages++;
			} while (ma);
		}
		checkin(hub, round ? "c6" : "c4", "office-1", "la-1");
		checkin(hub, round ? "c7" : "c5", "office-2", "la-2");
	}
	assert_true(pages >= 8);
	sync_pull_cache_free(c);
	buf_release(&a);
	buf_release(&b);
	sqlite3_close(hub);
}

static void test_paging(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node, *whole = open_node();
	buf page = BUF_INIT(1 << 20);
	int64_t cursor = 0, next, head, prev = 0;
	int more = 1, pages = 0;
	char id[32];
	cJSON *d1, *d2;

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
	sqlite3_close(whole);
}

/* Pull sc1's changes after *cursor (one page), check that they are the rows
 * want_ids names (as ids_of writes them; NULL: any) and apply them at node;
 * *cursor moves past them. */
static void pull_step(sqlite3 *hub, sqlite3 *node, int64_t *cursor, const char *want_ids)
{
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;
	char ids[1024];

	assert_int_equal(sync_hub_pull(hub, &sc1, *cursor, 100, &page, &next, &head, &more), 0);
	if (want_ids) {
		ids_of(&page, ids, sizeof ids);
		assert_string_equal(ids, want_ids);
	}
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	*cursor = next;
	buf_release(&page);
}

static void test_changes_travel_as_state(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	int64_t cursor = 0;

	seed(hub);
	pull_step(hub, node, &cursor, NULL);
	/* three edits of c1, a delete of c3, c2 moved into the office, a new
	 * office-2 row: one upsert per row, deletes by key */
	assert_int_equal(db_exec(hub, "UPDATE checkins SET note='1' WHERE id='c1';"
				      "UPDATE checkins SET note='2' WHERE id='c1';"
				      "UPDATE checkins SET note='3', status='called' WHERE id='c1';"
				      "DELETE FROM checkins WHERE id='c3';"
				      "UPDATE checkins SET office_id='office-1', local_area_id='la-1' WHERE id='c2';"),
			 0);
	checkin(hub, "c4", "office-2", "la-2");
	pull_step(hub, node, &cursor, "checkins/c1 -checkins/c3 checkins/c2 ");
	ST_EXPECT(node, {"SELECT note FROM checkins WHERE id='c1'", 3},
		  {"SELECT count(*) FROM checkins WHERE id='c3'", 0},
		  {"SELECT count(*) FROM checkins WHERE id='c2'", 1});
	/* c1 moves to office-2: the node hears that it left */
	assert_int_equal(db_exec(hub, "UPDATE checkins SET office_id='office-2', local_area_id='la-2' "
				      "WHERE id='c1'"),
			 0);
	pull_step(hub, node, &cursor, "-checkins/c1 ");
	ST_EXPECT(node, {"SELECT count(*) FROM checkins WHERE id='c1'", 0},
		  {"SELECT count(*) FROM outbox", 0});
}

/* Check-in id edited at node (captured: pending in its outbox) and then at
 * the hub, so that the next pull page must be refused. */
static void edited_at_both(sqlite3 *hub, sqlite3 *node, const char *id)
{
	char *sql = sqlite3_mprintf("UPDATE checkins SET note='hub' WHERE id=%Q", id);

	st_node_write(node, NULL, "000000000009.0000.nodeA", "UPDATE checkins SET note='local' WHERE id=%Q",
		      id);
	assert_non_null(sql);
	assert_int_equal(db_exec(hub, sql), 0);
	sqlite3_free(sql);
}

/* Two pullers at one node (outpost-sync beside the node's own cycle): a page
 * that arrives after the other has applied past it changes nothing, and the
 * cursor never moves back. */
static void test_node_apply_never_behind_cursor(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf old = BUF_INIT(1 << 20), page = BUF_INIT(1 << 20);
	int64_t first, next, head;
	int more;
	char note[32];

	seed(hub);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &old, &first, &head, &more), 0);
	assert_int_equal(db_exec(hub, "UPDATE checkins SET note='newer' WHERE id='c1'"), 0);
	/* The other puller: everything up to the newer edit. */
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	assert_true(next > first);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	assert_int_equal(db_text(node, "SELECT note FROM checkins WHERE id='c1'", NULL, note,
				 sizeof note), 0);
	assert_string_equal(note, "newer");
	/* This one's older page, late: left out. */
	assert_int_equal(sync_node_apply_pull(node, old.data, old.len, first), 0);
	assert_int_equal(db_text(node, "SELECT note FROM checkins WHERE id='c1'", NULL, note,
				 sizeof note), 0);
	assert_string_equal(note, "newer");
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), next);
	assert_true(sqlite3_get_autocommit(node));
	buf_release(&old);
	buf_release(&page);
}

static void test_node_apply_idempotent_and_outbox_guard(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;
	cJSON *d1, *d2;

	seed(hub);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	d1 = sync_digest(node, NULL);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	d2 = sync_digest(node, NULL);
	assert_true(cJSON_Compare(d1, d2, 1));
	cJSON_Delete(d2);
	/* a local edit pending: the pull is refused and changes nothing */
	edited_at_both(hub, node, "c1");
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
	/* a page naming a table no office holds (its outbox, its own state) is
	 * refused whole: a buggy hub never empties an office's outbox */
	{
		sqlite3 *scratch = st_open_db(0);
		sqlite3_session *ss;
		void *p = NULL;
		int n = 0;

		assert_int_equal(db_exec(node, "INSERT INTO outbox(seq, hlc, created_at, schema_version,"
					       " nbytes, changeset) VALUES(77, 'x', 0, 1, 1, x'00')"), 0);
		assert_int_equal(db_exec(scratch, "INSERT INTO outbox(seq, hlc, created_at, schema_version,"
						  " nbytes, changeset) VALUES(77, 'x', 0, 1, 1, x'00')"), 0);
		assert_int_equal(sqlite3session_create(scratch, "main", &ss), SQLITE_OK);
		assert_int_equal(sqlite3session_attach(ss, "outbox"), SQLITE_OK);
		assert_int_equal(db_exec(scratch, "DELETE FROM outbox WHERE seq=77"), 0);
		assert_int_equal(sqlite3session_patchset(ss, &n, &p), SQLITE_OK);
		sqlite3session_delete(ss);
		assert_true(n > 0);
		assert_int_equal(sync_node_apply_pull(node, p, (size_t)n, next + 1), -1);
		assert_int_equal(q_int(node, "SELECT count(*) FROM outbox WHERE seq=77"), 1);
		assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), next);
		sqlite3_free(p);
		sqlite3_close(scratch);
	}
	cJSON_Delete(d1);
	buf_release(&page);
}

/* A page of a table with more columns than the node's (a database not
 * migrated to the hub's schema) is refused whole and the cursor stays:
 * sqlite3changeset_apply_v2 would skip the table, telling only SQLite's
 * log, and the cursor would pass rows never applied. */
static void test_node_apply_refuses_older_tables(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;

	seed(hub);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	assert_int_equal(db_exec(node, "ALTER TABLE checkins DROP COLUMN note"), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), -1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM node_meta WHERE key='sync_cursor'"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM offices"), 0);
	assert_true(sqlite3_get_autocommit(node));
	buf_release(&page);
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

/* ---- snapshots in pages ------------------------------------------------------------ */

typedef void (*between_fn)(sqlite3 *hub, int page, const sync_snap_pos *end);

/* Take a whole snapshot of sc page by page into node; page ids in `ids`
 * (NULL: not kept).  Checks what must hold for every page.  Returns the
 * number of pages; *seq gets the snapshot's seq. */
static int snapshot_all(sqlite3 *hub, sqlite3 *node, const sync_scope *sc, int max_rows,
			size_t max_bytes, size_t bufmax, char *ids, size_t n, int64_t *seq,
			between_fn between)
{
	buf page = BUF_INIT(bufmax);
	sync_snap_pos pos, end;
	int64_t head, s = -1;
	int more = 1, pages = 0, have = 0;
	char one[8192];

	if (ids)
		ids[0] = '\0';
	while (more) {
		buf_reset(&page);
		assert_int_equal(sync_hub_snapshot_page(hub, sc, have ? &pos : NULL, max_rows, max_bytes,
							&page, &end, &head, &more),
				 0);
		if (!have)
			s = head;
		assert_true(s <= head);
		ids_of(&page, one, sizeof one);
		if (ids) {
			size_t l = strlen(ids);
			snprintf(ids + l, n - l, "%s", one);
		}
		assert_int_equal(sync_node_apply_snapshot(node, page.data, page.len, s, have ? &pos : NULL,
							  more ? &end : NULL),
				 0);
		pages++;
		if (more) {
			/* half-way: no cursor, the position recorded */
			int64_t rs;
			sync_snap_pos rp;
			assert_int_equal(q_int(node, "SELECT count(*) FROM node_meta WHERE key='sync_cursor'"), 0);
			assert_int_equal(sync_node_snapshot_state(node, &rs, &rp), 1);
			assert_int_equal(rs, s);
			assert_string_equal(rp.sp_table, end.sp_table);
			assert_string_equal(rp.sp_id, end.sp_id);
			if (have)
				assert_true(strcmp(end.sp_table, pos.sp_table) != 0 ||
					    strcmp(end.sp_id, pos.sp_id) > 0);
			pos = end;
			have = 1;
			if (between)
				between(hub, pages, &end);
		}
		assert_true(pages < 1000);
	}
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), s);
	assert_int_equal(q_int(node, "SELECT count(*) FROM node_meta WHERE key LIKE 'snapshot_%'"), 0);
	assert_true(q_int(node, "SELECT value FROM node_meta WHERE key='last_pull_ms'") > 1600000000000);
	assert_int_equal(q_int(node, "SELECT count(*) FROM outbox"), 0);
	buf_release(&page);
	*seq = s;
	return pages;
}

static void assert_same_scope(sqlite3 *hub, sqlite3 *node, const sync_scope *sc)
{
	cJSON *dh = sync_digest(hub, sc), *dn = sync_digest(node, NULL);

	assert_non_null(dh);
	assert_non_null(dn);
	assert_true(cJSON_Compare(dh, dn, 1));
	cJSON_Delete(dh);
	cJSON_Delete(dn);
}

/* More rows of every scope: conflicts (SCOPE_ROW), check-ins of both offices. */
static void seed_more(sqlite3 *hub)
{
	char id[32];

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
	for (int i = 0; i < 9; i++) {
		snprintf(id, sizeof id, "m%d", i);
		checkin(hub, id, i % 3 ? "office-2" : "office-1", i % 3 ? "la-2" : "la-1");
	}
}

static void employer(sqlite3 *hub, const char *id)
{
	char *sql = sqlite3_mprintf("INSERT INTO employers(id, company_name, normalized_name, username,"
				    " zip, zip5, created_at) VALUES(%Q, 'Acme', 'acme', 'u', '95814',"
				    " '95814', 1)",
				    id);
	assert_int_equal(db_exec(hub, sql), 0);
	sqlite3_free(sql);
}

static void test_snapshot_pages_walk(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node, *whole = open_node();
	char ids[8192], all[8192];
	int64_t seq, seq2;
	int pages;

	seed(hub);
	seed_more(hub);
	/* One page for everything: the rows in scope, in walk order. */
	assert_int_equal(snapshot_all(hub, whole, &sc1, 0, 0, 1 << 20, all, sizeof all, &seq, NULL), 1);
	assert_int_equal(seq, q_int(hub, "SELECT max(seq) FROM change_log"));
	assert_string_equal(all, "local_areas/la-1 local_areas/la-2 offices/office-1 offices/office-2 "
				 "greeter_reasons/gr-1 checkins/c1 checkins/c3 checkins/c9 checkins/m0 "
				 "checkins/m3 checkins/m6 staff/st-1 conflicts/k1 conflicts/k3 ");
	assert_same_scope(hub, whole, &sc1);
	/* Two rows a page: the same rows, each once, in the same order. */
	pages = snapshot_all(hub, node, &sc1, 2, 0, 1 << 20, ids, sizeof ids, &seq2, NULL);
	assert_string_equal(ids, all);
	assert_int_equal(seq2, seq);
	assert_in_range(pages, 7, 8);
	assert_same_scope(hub, node, &sc1);
	/* Other offices' rows never came. */
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins WHERE office_id='office-2'"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM greeter_reasons WHERE local_area_id='la-2'"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM staff_credentials"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM conflicts WHERE id='k2'"), 0);
	/* The hub's unfiltered digest differs: the scope filter is real. */
	{
		cJSON *dall = sync_digest(hub, NULL), *dn = sync_digest(node, NULL);
		assert_false(cJSON_Compare(dall, dn, 1));
		cJSON_Delete(dall);
		cJSON_Delete(dn);
	}
	/* One changed value changes the digest. */
	assert_int_equal(db_exec(node, "UPDATE checkins SET note='x' WHERE id='c9'"), 0);
	{
		cJSON *dh = sync_digest(hub, &sc1), *dn = sync_digest(node, NULL);
		assert_false(cJSON_Compare(dh, dn, 1));
		cJSON_Delete(dh);
		cJSON_Delete(dn);
	}
	sqlite3_close(whole);
}

/* n attachments of employer e1 at the hub, att-1...att-n, each of size bytes:
 * all 'a' for the first, 'b' for the second and so on. */
static void insert_attachments(sqlite3 *hub, int n, size_t size)
{
	unsigned char *data = malloc(size);
	sqlite3_stmt *st;

	assert_non_null(data);
	assert_int_equal(db_prepare(hub, &st, "INSERT INTO employer_attachments(id, employer_id,"
					      " filename, content_type, size, sha256, uploaded_at, data)"
					      " VALUES(?1, 'e1', 'f.pdf', 'application/pdf', ?2, 'x', 1, ?3)"),
			 0);
	for (int i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof id, "att-%d", i + 1);
		memset(data, 'a' + i, size);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
		sqlite3_bind_blob(st, 3, data, (int)size, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	}
	sqlite3_finalize(st);
	free(data);
}

/* Attachments at the cap: bigger than the page bound, each goes alone. */
static void test_snapshot_big_rows(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	const size_t cap = 2 * 1024 * 1024;
	sync_snap_pos end;
	buf page;
	char ids[8192];
	int64_t seq, head;
	int more;

	seed(hub);
	insert_attachments(hub, 3, cap);
	employer(hub, "emp-1");
	/* 64 KiB pages: the small rows together, then each attachment alone. */
	assert_int_equal(snapshot_all(hub, node, &sc1, 0, 64 * 1024, 3 * 1024 * 1024, ids, sizeof ids,
				      &seq, NULL),
			 5);
	assert_string_equal(ids, "local_areas/la-1 local_areas/la-2 offices/office-1 offices/office-2 "
				 "greeter_reasons/gr-1 checkins/c1 checkins/c3 staff/st-1 employers/emp-1 "
				 "employer_attachments/att-1 employer_attachments/att-2 "
				 "employer_attachments/att-3 ");
	assert_same_scope(hub, node, &sc1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM employer_attachments WHERE length(data) = 2097152"
				     " AND substr(data, 1, 1) = CAST(char(96 + CAST(substr(id, 5) AS INTEGER))"
				     " AS BLOB)"),
			 3);
	/* The first page stops before the first attachment, which would pass the bound. */
	buf_init(&page, 8 * 1024 * 1024);
	assert_int_equal(sync_hub_snapshot_page(hub, &sc1, NULL, 0, 64 * 1024, &page, &end, &head, &more), 0);
	assert_int_equal(more, 1);
	assert_true(page.len < 64 * 1024);
	assert_string_equal(end.sp_table, "employers");
	assert_string_equal(end.sp_id, "emp-1");
	/* 5 MiB pages: two attachments fit, the third would not. */
	buf_reset(&page);
	{
		sync_snap_pos from = end;
		assert_int_equal(sync_hub_snapshot_page(hub, &sc1, &from, 0, 5 * 1024 * 1024, &page,
							&end, &head, &more),
				 0);
	}
	ids_of(&page, ids, sizeof ids);
	assert_string_equal(ids, "employer_attachments/att-1 employer_attachments/att-2 ");
	assert_int_equal(more, 1);
	/* A page buffer smaller than one attachment: an error, never a cut row. */
	buf_release(&page);
	buf_init(&page, cap / 2);
	{
		sync_snap_pos from;
		assert_int_equal(sync_snap_pos_set(&from, "employers", "emp-1"), 0);
		assert_int_equal(sync_hub_snapshot_page(hub, &sc1, &from, 0, 0, &page, &end, &head, &more), -1);
		assert_int_equal(page.len, 0);
		assert_int_equal(more, 0);
	}
	buf_release(&page);
}

/* What the node held before is replaced range by range. */
static void test_snapshot_replaces_what_the_node_held(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	char note[32];
	int64_t seq;

	seed(hub);
	seed_more(hub);
	/* Stray rows before, between and after the hub's ids, in a table the
	 * hub has none of, in the last table; another office's row; a stale
	 * value; a row a pull deleted that the node missed. */
	assert_int_equal(db_exec(node, "INSERT INTO local_areas(id, name) VALUES('aa', 'Stray'),"
				       " ('la-15', 'Stray'), ('zz', 'Stray');"
				       "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				       " arrived_at, visit_date) VALUES('c1', 'office-1', 'la-1', 'Old', 1,"
				       " '2026-01-05'), ('c2', 'office-2', 'la-2', 'Other', 1, '2026-01-05'),"
				       " ('c5', 'office-1', 'la-1', 'Gone', 1, '2026-01-05');"
				       "UPDATE checkins SET note='stale' WHERE id='c1';"
				       "INSERT INTO employers(id, company_name, normalized_name, username, zip,"
				       " zip5, created_at) VALUES('e-stray', 'S', 's', 'u', '1', '1', 1);"
				       "INSERT INTO conflicts(id, tbl, row_id, column_name, winner, node_id,"
				       " created_at) VALUES('zzz', 't', 'r', 'c', 'local', 'n', 1);"
				       "INSERT INTO node_meta(key, value) VALUES('sync_cursor', '3')"),
			 0);
	assert_int_equal(snapshot_all(hub, node, &sc1, 1, 0, 1 << 20, NULL, 0, &seq, NULL), 15);
	assert_same_scope(hub, node, &sc1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM local_areas"), 2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins WHERE id IN ('c2', 'c5')"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM employers"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM conflicts WHERE id='zzz'"), 0);
	assert_int_equal(db_text(node, "SELECT coalesce(note, '-') FROM checkins WHERE id='c1'", NULL, note,
				 sizeof note),
			 0);
	assert_string_equal(note, "-");
}

/* Hub edits while the node is half-way: rows already sent and rows still to come. */
static void edit_mid_snapshot(sqlite3 *hub, int page, const sync_snap_pos *end)
{
	(void)end;
	if (page != 3)
		return;
	assert_int_equal(db_exec(hub, "UPDATE local_areas SET name='Renamed' WHERE id='la-1';"
				      "DELETE FROM offices WHERE id='office-2';"
				      "INSERT INTO local_areas(id, name) VALUES('la-0', 'New early');"
				      "UPDATE staff SET display_name='Ana B' WHERE id='st-1';"
				      "DELETE FROM employers WHERE id IN ('emp-1', 'emp-8');"
				      "DELETE FROM checkins WHERE id='c3';"),
			 0);
	employer(hub, "emp-0");
	employer(hub, "emp-9");
}

static void test_snapshot_fuzzy_pages_then_pull(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	char name[32];
	int64_t seq;
	cJSON *dh, *dn;

	seed(hub);
	for (int i = 1; i <= 8; i++) {
		char id[16];
		snprintf(id, sizeof id, "emp-%d", i);
		employer(hub, id);
	}
	/* 2 rows a page: page 3 ends inside checkins, before staff and employers. */
	snapshot_all(hub, node, &sc1, 2, 0, 1 << 20, NULL, 0, &seq, edit_mid_snapshot);
	assert_true(seq < q_int(hub, "SELECT max(seq) FROM change_log"));
	/* The pages alone are not the hub's state... */
	dh = sync_digest(hub, &sc1);
	dn = sync_digest(node, NULL);
	assert_false(cJSON_Compare(dh, dn, 1));
	cJSON_Delete(dh);
	cJSON_Delete(dn);
	assert_int_equal(q_int(node, "SELECT count(*) FROM offices WHERE id='office-2'"), 1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM employers WHERE id IN ('emp-1', 'emp-8')"), 0);
	assert_int_equal(q_int(node, "SELECT count(*) FROM employers WHERE id IN ('emp-0', 'emp-9')"), 2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM checkins WHERE id='c3'"), 0);
	/* ...the pull from the snapshot's seq makes them so. */
	pull_all(hub, node, &sc1);
	assert_same_scope(hub, node, &sc1);
	assert_int_equal(db_text(node, "SELECT name FROM local_areas WHERE id='la-1'", NULL, name, sizeof name), 0);
	assert_string_equal(name, "Renamed");
	ST_EXPECT(node, {"SELECT count(*) FROM offices WHERE id='office-2'", 0},
		  {"SELECT count(*) FROM local_areas WHERE id='la-0'", 1},
		  {"SELECT count(*) FROM checkins WHERE id='c3'", 0},
		  {"SELECT count(*) FROM employers", 8}, {"SELECT count(*) FROM outbox", 0});
}

/* A page that is not the next one, or is not what a page may hold, changes nothing. */
static void test_snapshot_guards_and_resume(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf p1 = BUF_INIT(1 << 20), p2 = BUF_INIT(1 << 20), bad = BUF_INIT(1 << 20);
	sync_snap_pos e1, e2, other, rp;
	int64_t head, seq, rs;
	int more, rc = 0;
	capture c;
	int64_t oseq;

	seed(hub);
	seed_more(hub);
	assert_int_equal(sync_hub_snapshot_page(hub, &sc1, NULL, 3, 0, &p1, &e1, &head, &more), 0);
	seq = head;
	assert_int_equal(sync_hub_snapshot_page(hub, &sc1, &e1, 3, 0, &p2, &e2, &head, &more), 0);
	assert_int_equal(more, 1);
	/* Page 2 before page 1: nothing recorded to continue. */
	assert_int_equal(sync_node_apply_snapshot(node, p2.data, p2.len, seq, &e1, &e2), -3);
	/* Page 2's rows as if they were page 1's: outside its range. */
	assert_int_equal(sync_node_apply_snapshot(node, p2.data, p2.len, seq, NULL, &e1), -1);
	/* A range that does not move forward. */
	assert_int_equal(sync_node_apply_snapshot(node, NULL, 0, seq, &e2, &e1), -1);
	assert_int_equal(sync_node_apply_snapshot(node, NULL, 0, seq, &e1, &e1), -1);
	/* The outbox busy: refused, nothing changed. */
	assert_int_equal(capture_begin(&c, node), 0);
	assert_int_equal(db_exec(node, "INSERT INTO local_areas(id, name) VALUES('mine', 'Local')"), 0);
	assert_int_equal(capture_commit(&c, "000000000009.0000.nodeA", NULL, &oseq), 0);
	assert_int_equal(sync_node_apply_snapshot(node, p1.data, p1.len, seq, NULL, &e1), -2);
	assert_int_equal(q_int(node, "SELECT count(*) FROM local_areas"), 1);
	assert_int_equal(sync_node_snapshot_state(node, &rs, &rp), 0);
	assert_true(sqlite3_get_autocommit(node));
	assert_int_equal(db_exec(node, "DELETE FROM outbox"), 0);
	/* Page 1, then the process "stops": the recorded position is page 1's end. */
	assert_int_equal(sync_node_apply_snapshot(node, p1.data, p1.len, seq, NULL, &e1), 0);
	assert_int_equal(sync_node_snapshot_state(node, &rs, &rp), 1);
	assert_int_equal(rs, seq);
	assert_string_equal(rp.sp_table, e1.sp_table);
	assert_string_equal(rp.sp_id, e1.sp_id);
	/* A pull page is refused while the snapshot is under way. */
	assert_int_equal(sync_node_apply_pull(node, NULL, 0, 99), -3);
	assert_int_equal(q_int(node, "SELECT count(*) FROM node_meta WHERE key='sync_cursor'"), 0);
	/* Continuing with another seq or from another position: -3. */
	assert_int_equal(sync_node_apply_snapshot(node, p2.data, p2.len, seq + 1, &e1, &e2), -3);
	assert_int_equal(sync_snap_pos_set(&other, e1.sp_table, "a"), 0);
	assert_int_equal(sync_node_apply_snapshot(node, NULL, 0, seq, &other, &e1), -3);
	/* Not an INSERT (a pull page's delete), a table nodes do not hold. */
	assert_int_equal(db_exec(hub, "DELETE FROM checkins WHERE id='c9'"), 0);
	assert_int_equal(sync_hub_pull(hub, &sc1, seq, 100, &bad, &head, &head, &more), 0);
	assert_true(bad.len > 0);
	assert_int_equal(sync_node_apply_snapshot(node, bad.data, bad.len, seq, &e1, NULL), -1);
	buf_reset(&bad);
	{
		static const unsigned char pk[] = {1};
		sqlite3_value *v;
		sqlite3_stmt *one;
		assert_int_equal(db_prepare(hub, &one, "SELECT 'zzz'"), 0);
		assert_int_equal(sqlite3_step(one), SQLITE_ROW);
		v = sqlite3_column_value(one, 0);
		changeset_put_table(&bad, 1, "change_log", 1, pk, &rc);
		changeset_put_op(&bad, SQLITE_INSERT, 0, &rc);
		changeset_put_value(&bad, v, &rc);
		assert_int_equal(rc, 0);
		sqlite3_finalize(one);
	}
	assert_int_equal(sync_node_apply_snapshot(node, bad.data, bad.len, seq, &e1, NULL), -1);
	/* Resumed from the recorded position, the snapshot completes. */
	assert_int_equal(sync_node_apply_snapshot(node, p2.data, p2.len, rs, &rp, &e2), 0);
	{
		buf rest = BUF_INIT(1 << 20);
		sync_snap_pos e3;
		assert_int_equal(sync_hub_snapshot_page(hub, &sc1, &e2, 0, 0, &rest, &e3, &head, &more), 0);
		assert_int_equal(more, 0);
		assert_int_equal(sync_node_apply_snapshot(node, rest.data, rest.len, seq, &e2, NULL), 0);
		buf_release(&rest);
	}
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), seq);
	assert_int_equal(sync_node_snapshot_state(node, &rs, &rp), 0);
	pull_all(hub, node, &sc1);
	assert_same_scope(hub, node, &sc1);
	/* A damaged record is no snapshot under way. */
	assert_int_equal(db_exec(node, "INSERT INTO node_meta(key, value) VALUES('snapshot_seq', '7'),"
				       " ('snapshot_table', 'nodes'), ('snapshot_after', 'x')"),
			 0);
	assert_int_equal(sync_node_snapshot_state(node, &rs, &rp), 0);
	buf_release(&p1);
	buf_release(&p2);
	buf_release(&bad);
}

/* A position names a table nodes hold and an id a request can carry. */
static void test_snapshot_position_checks(void **state)
{
	sqlite3 *hub = open_hub();
	sync_snap_pos p, end;
	buf page = BUF_INIT(1 << 20);
	char id[SYNC_SNAPSHOT_ID_MAX + 2], enc[3 * SYNC_SNAPSHOT_ID_MAX + 1], dec[SYNC_SNAPSHOT_ID_MAX + 1];
	static const char *odd = "a&b=c+d e%f/\xc3\xa9?#";
	int64_t head;
	int more;

	(void)state;
	assert_int_equal(sync_snap_pos_set(&p, "checkins", "01a2"), 0);
	assert_string_equal(p.sp_table, "checkins");
	assert_string_equal(p.sp_id, "01a2");
	assert_int_equal(sync_snap_pos_set(&p, "conflicts", "x"), 0);
	assert_int_equal(sync_snap_pos_set(&p, NULL, "x"), -1);
	assert_int_equal(sync_snap_pos_set(&p, "", "x"), -1);
	assert_string_equal(p.sp_table, "");
	assert_int_equal(sync_snap_pos_set(&p, "change_log", "x"), -1);   /* hub only */
	assert_int_equal(sync_snap_pos_set(&p, "outbox", "x"), -1);       /* node only */
	assert_int_equal(sync_snap_pos_set(&p, "checkins; DROP", "x"), -1);
	assert_int_equal(sync_snap_pos_set(&p, "checkins", ""), -1);
	assert_int_equal(sync_snap_pos_set(&p, "checkins", NULL), -1);
	memset(id, 'x', sizeof id - 1);
	id[SYNC_SNAPSHOT_ID_MAX] = '\0';
	assert_int_equal(sync_snap_pos_set(&p, "checkins", id), 0);
	id[SYNC_SNAPSHOT_ID_MAX] = 'x';
	id[SYNC_SNAPSHOT_ID_MAX + 1] = '\0';
	assert_int_equal(sync_snap_pos_set(&p, "checkins", id), -1);
	/* The hub refuses a bad position the same way. */
	memset(&p, 0, sizeof p);
	snprintf(p.sp_table, sizeof p.sp_table, "nodes");
	snprintf(p.sp_id, sizeof p.sp_id, "x");
	assert_int_equal(sync_hub_snapshot_page(hub, &sc1, &p, 0, 0, &page, &end, &head, &more), -3);
	p.sp_id[0] = '\0';
	snprintf(p.sp_table, sizeof p.sp_table, "checkins");
	assert_int_equal(sync_hub_snapshot_page(hub, &sc1, &p, 0, 0, &page, &end, &head, &more), -3);
	assert_int_equal(page.len, 0);
	/* An id with every awkward byte survives the query (form-decoded at the
	 * hub) and the header (decoded at the node). */
	assert_int_equal(http_pct_encode(odd, enc, sizeof enc), 0);
	assert_null(strpbrk(enc, "&=+ /?#"));
	assert_int_equal(http_pct_decode(enc, strlen(enc), dec, sizeof dec, 1), 0);
	assert_string_equal(dec, odd);
	assert_int_equal(http_pct_decode(enc, strlen(enc), dec, sizeof dec, 0), 0);
	assert_string_equal(dec, odd);
	assert_int_equal(http_pct_encode(odd, enc, 8), -1);
	assert_string_equal(enc, "");
	buf_release(&page);
	sqlite3_close(hub);
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
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	const size_t cap = 2 * 1024 * 1024;
	buf page = BUF_INIT(3 * 1024 * 1024);
	int64_t next, head, cur = 0;
	int more, pages = 0;
	char ids[512];

	insert_attachments(hub, 2, cap);
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
}

/* sync_node_apply_pull_told: told of every row of a committed page, as
 * "tbl/id " words, and of none when the page is refused. */
static void told_note(void *arg, const char *table, const char *id, size_t idlen)
{
	size_t l = strlen(arg);

	snprintf((char *)arg + l, 2048 - l, "%s/%.*s ", table, (int)idlen, id ? id : "?");
}

static void test_pull_told(void **state)
{
	sqlite3 *hub = open_hub(), *node = open_node();
	buf page = BUF_INIT(1 << 20);
	int64_t next, head;
	int more;
	char told[2048] = "", ids[2048];

	(void)state;
	seed(hub);
	assert_int_equal(sync_hub_pull(hub, &sc1, 0, 100, &page, &next, &head, &more), 0);
	ids_of(&page, ids, sizeof ids);
	assert_int_equal(sync_node_apply_pull_told(node, page.data, page.len, next, told_note, told), 0);
	assert_string_equal(told, ids);
	/* an update and a delete at the hub: the page names both */
	assert_int_equal(db_exec(hub, "UPDATE checkins SET note='n' WHERE id='c3';"
				      "DELETE FROM checkins WHERE id='c1'"), 0);
	buf_reset(&page);
	assert_int_equal(sync_hub_pull(hub, &sc1, next, 100, &page, &next, &head, &more), 0);
	told[0] = '\0';
	assert_int_equal(sync_node_apply_pull_told(node, page.data, page.len, next, told_note, told), 0);
	assert_non_null(strstr(told, "checkins/c1 "));
	assert_non_null(strstr(told, "checkins/c3 "));
	assert_int_equal(strlen(told), strlen("checkins/c1 checkins/c3 "));
	/* refused (a local edit pending): told of nothing */
	edited_at_both(hub, node, "c3");
	buf_reset(&page);
	assert_int_equal(sync_hub_pull(hub, &sc1, next, 100, &page, &next, &head, &more), 0);
	told[0] = '\0';
	assert_int_equal(sync_node_apply_pull_told(node, page.data, page.len, next, told_note, told), -2);
	assert_string_equal(told, "");
	buf_release(&page);
	sqlite3_close(node);
	sqlite3_close(hub);
}

/* Pull one page after *next from the hub into page. */
static void page_after(sqlite3 *hub, int64_t *next, buf *page)
{
	int64_t head;
	int more;

	buf_reset(page);
	assert_int_equal(sync_hub_pull(hub, &sc1, *next, 100, page, next, &head, &more), 0);
	assert_true(page->len > 0);
}

static void note_is(sqlite3 *node, const char *id, const char *want)
{
	char *sql = sqlite3_mprintf("SELECT coalesce(note, '') FROM checkins WHERE id=%Q", id);
	char note[32] = "";

	assert_non_null(sql);
	assert_int_equal(db_text(node, sql, NULL, note, sizeof note), 0);
	sqlite3_free(sql);
	assert_string_equal(note, want);
}

/* Office writes still in the outbox hold back only a page that names one
 * of their rows: the desk's new check-ins and edits do not stall a pull of
 * other rows (pull_pending.c). */
static void test_node_apply_beside_pending_writes(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf page = BUF_INIT(1 << 20);
	int64_t next = 0, before;

	seed(hub);
	page_after(hub, &next, &page);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);

	/* pending: an edit of c1 and a new check-in c7 (an INSERT's key) */
	st_node_write(node, NULL, "000000000009.0000.nodeA",
		      "UPDATE checkins SET note='local' WHERE id='c1'");
	st_node_write(node, NULL, "000000000009.0001.nodeA",
		      "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
		      " visit_date, note) VALUES('c7', 'office-1', 'la-1', 'W', 2, '2026-01-05', 'desk')");
	assert_int_equal(q_int(node, "SELECT count(*) FROM outbox"), 2);

	/* the hub changed c3 only: applied beside them */
	assert_int_equal(db_exec(hub, "UPDATE checkins SET note='hub' WHERE id='c3'"), 0);
	page_after(hub, &next, &page);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	note_is(node, "c3", "hub");
	note_is(node, "c1", "local");
	note_is(node, "c7", "desk");
	assert_int_equal(q_int(node, "SELECT count(*) FROM outbox"), 2);
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), next);

	/* a page naming c1 (the hub's edit beside c3's) waits for the push */
	before = next;
	assert_int_equal(db_exec(hub, "UPDATE checkins SET note='hub2' WHERE id='c3';"
				      "UPDATE checkins SET note='hub' WHERE id='c1'"), 0);
	page_after(hub, &next, &page);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), -2);
	note_is(node, "c1", "local");
	note_is(node, "c3", "hub");
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), before);
	assert_true(sqlite3_get_autocommit(node));

	/* so does one naming the pending INSERT's row */
	checkin(hub, "c7", "office-1", "la-1");
	{
		int64_t n7 = before;
		buf p7 = BUF_INIT(1 << 20);

		page_after(hub, &n7, &p7);
		assert_int_equal(sync_node_apply_pull(node, p7.data, p7.len, n7), -2);
		note_is(node, "c7", "desk");
		buf_release(&p7);
	}

	/* pushed (the outbox acked): the held page applies */
	assert_int_equal(db_exec(node, "DELETE FROM outbox"), 0);
	assert_int_equal(sync_node_apply_pull(node, page.data, page.len, next), 0);
	note_is(node, "c1", "hub");
	note_is(node, "c3", "hub2");
	buf_release(&page);
}

/* The seeded hub pulled into a node that keeps a push generation (its
 * sync_state table); the cursor after that page. */
static int64_t seeded_with_push_gen(sqlite3 *hub, sqlite3 *node, buf *page)
{
	int64_t next = 0;

	seed(hub);
	assert_int_equal(db_exec(node, "CREATE TABLE sync_state(key TEXT PRIMARY KEY NOT NULL,"
				       " value TEXT)"), 0);
	page_after(hub, &next, page);
	assert_int_equal(sync_node_apply_pull(node, page->data, page->len, next), 0);
	return next;
}

/* A page asked for before a push of another process (outpost-sync push
 * beside the node's cycle) committed: the page holds c1 as the hub had it
 * before the push merged the desk's edit, and the edit is no longer in the
 * outbox to hold c1 back.  Applied, it would put c1 back to the older state
 * until the next pull; the push generation (read before the page was asked
 * for, raised by the push's commit) makes it -4, nothing changed, and the
 * page asked for again holds the merge. */
static void test_page_asked_before_a_push_is_asked_again(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf page = BUF_INIT(1 << 20);
	int64_t next, before, gen;

	before = next = seeded_with_push_gen(hub, node, &page);

	/* the page asked for: c1 with the hub's new phone, the note not yet */
	assert_int_equal(db_exec(hub, "UPDATE checkins SET phone='555' WHERE id='c1'"), 0);
	assert_int_equal(gen = sync_node_push_gen(node), 0);
	page_after(hub, &next, &page);
	/* meanwhile the desk edits c1 and another process pushes it */
	captured(node, "000000000009.0000.nodeA",
		 "UPDATE checkins SET note='local', updated_hlc='000000000009.0000.nodeA' WHERE id='c1'");
	push_all(hub, node, &sc1);
	assert_int_equal(q_int(node, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(sync_node_push_gen_bump(node), 0); /* as its push_commit does */

	assert_int_equal(sync_node_apply_pull_gen(node, page.data, page.len, next, gen, NULL, NULL), -4);
	note_is(node, "c1", "local");
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), before);
	assert_true(sqlite3_get_autocommit(node));

	/* asked again: the hub's merge, both edits */
	next = before;
	assert_int_equal(gen = sync_node_push_gen(node), 1);
	page_after(hub, &next, &page);
	assert_int_equal(sync_node_apply_pull_gen(node, page.data, page.len, next, gen, NULL, NULL), 0);
	note_is(node, "c1", "local");
	assert_int_equal(q_int(node, "SELECT phone = '555' FROM checkins WHERE id='c1'"), 1);
	buf_release(&page);
}

/* The same window for a snapshot page: it waits for an empty outbox, but
 * a push of another process can empty the outbox after the page was built
 * at the hub.  The page holds c1 without the desk's note; applied, it put
 * c1 back to the hub's older state until the pull from its seq.  With the
 * push generation it is -4, nothing changed (no snapshot recorded, the
 * cursor kept), and the page asked for again holds the merge. */
static void test_snapshot_page_asked_before_a_push_is_asked_again(void **state)
{
	sqlite3 *hub = ((dbs *)*state)->hub, *node = ((dbs *)*state)->node;
	buf page = BUF_INIT(1 << 20);
	sync_snap_pos end, rp;
	int64_t before, head, gen, rs;
	int more;

	before = seeded_with_push_gen(hub, node, &page);
	/* the desk's edit of c1, waiting in the outbox */
	captured(node, "000000000009.0000.nodeA",
		 "UPDATE checkins SET note='local', updated_hlc='000000000009.0000.nodeA' WHERE id='c1'");

	/* the snapshot page asked for: c1 as the hub has it, no note */
	assert_int_equal(gen = sync_node_push_gen(node), 0);
	buf_reset(&page);
	assert_int_equal(sync_hub_snapshot_page(hub, &sc1, NULL, 0, 0, &page, &end, &head, &more), 0);
	assert_int_equal(more, 0);
	/* meanwhile another process pushes the edit and empties the outbox */
	push_all(hub, node, &sc1);
	assert_int_equal(sync_node_push_gen_bump(node), 0); /* as its push_commit does */

	assert_int_equal(sync_node_apply_snapshot_gen(node, page.data, page.len, head, NULL, NULL, gen),
			 -4);
	note_is(node, "c1", "local");
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), before);
	assert_int_equal(sync_node_snapshot_state(node, &rs, &rp), 0);
	assert_true(sqlite3_get_autocommit(node));

	/* asked again: the hub's merge */
	assert_int_equal(gen = sync_node_push_gen(node), 1);
	buf_reset(&page);
	assert_int_equal(sync_hub_snapshot_page(hub, &sc1, NULL, 0, 0, &page, &end, &head, &more), 0);
	assert_int_equal(more, 0);
	assert_int_equal(sync_node_apply_snapshot_gen(node, page.data, page.len, head, NULL, NULL, gen),
			 0);
	note_is(node, "c1", "local");
	assert_int_equal(q_int(node, "SELECT value FROM node_meta WHERE key='sync_cursor'"), head);
	assert_same_scope(hub, node, &sc1);
	buf_release(&page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DBS_TEST(test_page_scope),
		DBS_TEST(test_node_sets_aside_rows_of_another_scope),
		DBS_TEST(test_node_sets_aside_a_refused_row),
		DBS_TEST(test_page_asked_before_a_push_is_asked_again),
		DBS_TEST(test_snapshot_page_asked_before_a_push_is_asked_again),
		DBS_TEST(test_paging),
		cmocka_unit_test(test_pull_cache_same_pages),
		DBS_TEST(test_changes_travel_as_state),
		DBS_TEST(test_node_apply_idempotent_and_outbox_guard),
		DBS_TEST(test_node_apply_refuses_older_tables),
		DBS_TEST(test_node_apply_never_behind_cursor),
		DBS_TEST(test_node_apply_beside_pending_writes),
		DBS_TEST(test_snapshot_pages_walk),
		DBS_TEST(test_snapshot_big_rows),
		DBS_TEST(test_snapshot_replaces_what_the_node_held),
		DBS_TEST(test_snapshot_fuzzy_pages_then_pull),
		DBS_TEST(test_snapshot_guards_and_resume),
		cmocka_unit_test(test_snapshot_position_checks),
		cmocka_unit_test(test_push_pull_converges),
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_encoder_round_trip),
		DBS_TEST(test_pages_of_big_rows),
		cmocka_unit_test(test_pull_told),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
