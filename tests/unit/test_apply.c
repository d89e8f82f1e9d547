/*
 * test_apply.c - the hub's validation and merge of node changesets
 * (sync/apply.c), fed with changesets made the real way: node databases
 * with change capture, writes between capture_begin and capture_commit, the
 * outbox blob st_pushed into sync_hub_apply inside a hub transaction.
 *
 * Covered: insert and replay, column-wise merge (disjoint columns kept,
 * overlapping ones won by the later HLC with one conflict row, ties broken
 * by node id whatever the arrival order), edit beats delete in both orders,
 * a change held whole by a final value leaving the row's stamp and clocks,
 * append-only / hub-owned / out-of-scope / unknown-row / duplicate-key /
 * domain-rule refusals quarantined with nothing applied, corrupt and
 * truncated changesets quarantined with the hub unchanged (digest), the
 * change log's origin, and our changeset walker agreeing with SQLite's.
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
#include "synctest.h"
#include "testutil.h"

#define OFFICE "office-1"
#define LA "la-1"
#define ROW1 "0190a000-0000-7000-8000-000000000001"

static const sync_scope scope_a = {"nodeA", OFFICE, LA};
static const sync_scope scope_b = {"nodeB", OFFICE, LA};

#define open_db st_open_db

static void hlc_of(char *out, size_t n, unsigned long long ms, unsigned count, const char *node)
{
	snprintf(out, n, "%012llx.%04x.%s", ms, count, node);
}

#define node_write(node, hlc, ...) assert_true(st_node_write(node, "staff-7", hlc, __VA_ARGS__) > 0)

/* The last outbox entry's changeset (caller frees) without pushing it. */
static unsigned char *outbox_blob(sqlite3 *node, size_t *len)
{
	sqlite3_stmt *st;
	unsigned char *p;

	assert_int_equal(db_prepare(node, &st, "SELECT changeset FROM outbox ORDER BY seq DESC"), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*len = (size_t)sqlite3_column_bytes(st, 0);
	p = malloc(*len);
	assert_non_null(p);
	memcpy(p, sqlite3_column_blob(st, 0), *len);
	sqlite3_finalize(st);
	return p;
}

/* Copy node's pending changes to other nodes without capture (as a pull
 * would), so every replica starts from the same base row. */
static void replicate(sqlite3 *from, sqlite3 *to)
{
	size_t n;
	unsigned char *cs = outbox_blob(from, &n);

	assert_int_equal(sqlite3changeset_apply(to, (int)n, cs, NULL, st_conflict_abort, NULL), SQLITE_OK);
	free(cs);
}

static void insert_checkin(sqlite3 *node, const char *id, const char *office, const char *hlc)
{
	node_write(node, hlc,
		   "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
		   " visit_date, updated_hlc) VALUES(%Q, %Q, %Q, 'Ana Lopez', 1700000000000,"
		   " '2026-01-05', %Q)",
		   id, office, LA, hlc);
}

static int64_t q_int(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	int64_t v;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	v = db_int(db, sql, -999);
	sqlite3_free(sql);
	return v;
}

static char *q_text(sqlite3 *db, const char *fmt, ...)
{
	static char out[4][512];
	static int k;
	va_list ap;
	char *sql;
	char *o = out[k++ & 3];

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (db_text(db, sql, NULL, o, 512) != 0)
		snprintf(o, 512, "<none>");
	sqlite3_free(sql);
	return o;
}

static char *digest_text(sqlite3 *db)
{
	cJSON *d = sync_digest(db, NULL);
	char *s;

	assert_non_null(d);
	s = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	assert_non_null(s);
	return s;
}

/* hub + two nodes of the same office holding ROW1 at hlc t=100 */
typedef struct world {
	sqlite3 *hub, *a, *b;
} world;

static void world_open(world *w)
{
	char h[64];

	w->hub = open_db(1);
	w->a = open_db(0);
	w->b = open_db(0);
	hlc_of(h, sizeof h, 100, 0, "nodeA");
	insert_checkin(w->a, ROW1, OFFICE, h);
	replicate(w->a, w->b);
	assert_int_equal(st_push(w->hub, w->a, &scope_a).applied, 1);
}

/* world_open(), and the stamps of one write at each node after it: ha
 * (HLC_LEN bytes) at a_ms on nodeA, hb at b_ms on nodeB, both counter count. */
#define HLC_LEN 64
static void world_open_at(world *w, char *ha, unsigned long long a_ms, char *hb,
			  unsigned long long b_ms, unsigned count)
{
	world_open(w);
	hlc_of(ha, HLC_LEN, a_ms, count, "nodeA");
	hlc_of(hb, HLC_LEN, b_ms, count, "nodeB");
}

static void world_close(world *w)
{
	sqlite3_close(w->hub);
	sqlite3_close(w->a);
	sqlite3_close(w->b);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_insert_and_replay(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	sqlite3_stmt *st;
	char h[64];
	sync_apply_result res;
	st_pushed p;

	(void)state;
	hlc_of(h, sizeof h, 100, 0, "nodeA");
	insert_checkin(a, ROW1, OFFICE, h);
	{
		size_t n;
		unsigned char *cs = outbox_blob(a, &n);
		sync_entry e = {1, h, "staff-7", cs, n};
		for (int round = 0; round < 2; round++) {
			assert_int_equal(db_exec(hub, "BEGIN"), 0);
			assert_int_equal(sync_hub_apply(hub, &scope_a, &e, &res), 0);
			assert_int_equal(db_exec(hub, "COMMIT"), 0);
			assert_int_equal(res.applied, 1);
			assert_int_equal(res.conflicts, 0);
		}
		free(cs);
	}
	assert_int_equal(q_int(hub, "SELECT count(*) FROM checkins"), 1);
	assert_string_equal(q_text(hub, "SELECT visitor_name FROM checkins WHERE id=%Q", ROW1),
			    "Ana Lopez");
	/* one log entry (the replay changed nothing), with the origin node */
	assert_int_equal(q_int(hub, "SELECT count(*) FROM change_log WHERE tbl='checkins'"), 1);
	assert_int_equal(db_prepare(hub, &st, "SELECT row_id, op, scope_office, scope_la, origin "
					      "FROM change_log WHERE tbl='checkins'"),
			 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), ROW1);
	assert_int_equal(sqlite3_column_int(st, 1), 1);
	assert_string_equal((const char *)sqlite3_column_text(st, 2), OFFICE);
	assert_string_equal((const char *)sqlite3_column_text(st, 3), LA);
	assert_string_equal((const char *)sqlite3_column_text(st, 4), "nodeA");
	sqlite3_finalize(st);
	/* the origin does not leak into writes made at the hub itself */
	assert_int_equal(db_exec(hub, "INSERT INTO local_areas(id, name) VALUES('la-9', 'Nine')"), 0);
	assert_int_equal(q_int(hub, "SELECT origin IS NULL FROM change_log WHERE tbl='local_areas'"), 1);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM quarantine"), 0);
	/* the real push of the same outbox entry is one more replay: a skip */
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM checkins"), 1);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM change_log WHERE tbl='checkins'"), 1);
	sqlite3_close(hub);
	sqlite3_close(a);
}

static void test_merge_disjoint_columns(void **state)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN];
	st_pushed p;

	(void)state;
	world_open_at(&w, ha, 200, hb, 300, 0);
	node_write(w.a, ha, "UPDATE checkins SET phone='555-0100', updated_hlc=%Q WHERE id=%Q", ha, ROW1);
	node_write(w.b, hb, "UPDATE checkins SET email='b@example.org', updated_hlc=%Q WHERE id=%Q", hb,
		   ROW1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 0);
	assert_string_equal(q_text(w.hub, "SELECT phone FROM checkins"), "555-0100");
	assert_string_equal(q_text(w.hub, "SELECT email FROM checkins"), "b@example.org");
	/* updated_hlc is the max of the two */
	assert_string_equal(q_text(w.hub, "SELECT updated_hlc FROM checkins"), hb);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM conflicts"), 0);
	world_close(&w);
}

static void overlap(int later_first)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN];
	st_pushed p1, p2;
	sqlite3_stmt *st;

	world_open_at(&w, ha, 200, hb, 300, 0); /* A earlier, B later */
	node_write(w.a, ha, "UPDATE checkins SET note='from A', status='called', updated_hlc=%Q WHERE id=%Q",
		   ha, ROW1);
	node_write(w.b, hb, "UPDATE checkins SET note='from B', updated_hlc=%Q WHERE id=%Q", hb, ROW1);
	if (later_first) {
		p1 = st_push(w.hub, w.b, &scope_b);
		p2 = st_push(w.hub, w.a, &scope_a);
	} else {
		p1 = st_push(w.hub, w.a, &scope_a);
		p2 = st_push(w.hub, w.b, &scope_b);
	}
	assert_int_equal(p1.applied + p2.applied, 2);
	assert_int_equal(p1.conflicts, 0);
	assert_int_equal(p2.conflicts, 1);
	assert_string_equal(q_text(w.hub, "SELECT note FROM checkins"), "from B");
	/* A's non-overlapping column survives either way */
	assert_string_equal(q_text(w.hub, "SELECT status FROM checkins"), "called");
	assert_string_equal(q_text(w.hub, "SELECT updated_hlc FROM checkins"), hb);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM conflicts"), 1);
	assert_int_equal(db_prepare(w.hub, &st,
				    "SELECT tbl, row_id, column_name, base_value, local_value, "
				    "remote_value, winner, node_id, actor, scope_office, scope_la, "
				    "origin_seq, local_hlc, remote_hlc FROM conflicts"),
			 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "checkins");
	assert_string_equal((const char *)sqlite3_column_text(st, 1), ROW1);
	assert_string_equal((const char *)sqlite3_column_text(st, 2), "note");
	assert_string_equal((const char *)sqlite3_column_text(st, 3), "null");
	if (later_first) {
		assert_string_equal((const char *)sqlite3_column_text(st, 4), "\"from B\"");
		assert_string_equal((const char *)sqlite3_column_text(st, 5), "\"from A\"");
		assert_string_equal((const char *)sqlite3_column_text(st, 6), "local");
		assert_string_equal((const char *)sqlite3_column_text(st, 7), "nodeA");
		assert_string_equal((const char *)sqlite3_column_text(st, 12), hb);
		assert_string_equal((const char *)sqlite3_column_text(st, 13), ha);
	} else {
		assert_string_equal((const char *)sqlite3_column_text(st, 4), "\"from A\"");
		assert_string_equal((const char *)sqlite3_column_text(st, 5), "\"from B\"");
		assert_string_equal((const char *)sqlite3_column_text(st, 6), "remote");
		assert_string_equal((const char *)sqlite3_column_text(st, 7), "nodeB");
	}
	assert_string_equal((const char *)sqlite3_column_text(st, 8), "staff-7");
	assert_string_equal((const char *)sqlite3_column_text(st, 9), OFFICE);
	assert_string_equal((const char *)sqlite3_column_text(st, 10), LA);
	assert_int_equal(sqlite3_column_int64(st, 11), later_first ? 2 : 1); /* outbox seq */
	sqlite3_finalize(st);
	/* the conflict row is logged for the office too */
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM change_log WHERE tbl='conflicts' AND "
				      "scope_office=%Q",
			       OFFICE),
			 1);
	world_close(&w);
}

static void test_merge_overlap_later_hlc_wins(void **state)
{
	(void)state;
	overlap(1);
	overlap(0);
}

/* Every column of A's update loses to B's newer write, already at the hub:
 * the row is logged again, so A gets the hub's row back.  (A may have pulled
 * B's state before writing with an older clock; its cursor is then past it,
 * and without the new entry A kept its losing value for good.) */
/* A node's change stamped with another node's id (or the entry itself) is
 * quarantined: ties between concurrent edits break on the node part, so a
 * forged one would win them. */
static void test_stamp_of_another_node(void **state)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN], hz[HLC_LEN];

	(void)state;
	world_open_at(&w, ha, 200, hb, 200, 0);
	hlc_of(hz, HLC_LEN, 200, 0, "nodeZ");
	/* the row stamped as nodeB's (the tie with B's own edit), sent by A */
	node_write(w.a, ha, "UPDATE checkins SET note='from A', updated_hlc=%Q WHERE id=%Q", hb, ROW1);
	st_push_refused(w.hub, w.a, &scope_a, "time stamp of another node");
	/* a higher node id on the entry, the row's stamp left alone */
	node_write(w.a, hz, "UPDATE checkins SET phone='555-0100' WHERE id=%Q", ROW1);
	st_push_refused(w.hub, w.a, &scope_a, "the entry's time stamp is another node's");
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM checkins WHERE note IS NOT NULL"
				      " OR phone IS NOT NULL"), 0);
	/* its own stamps: taken */
	node_write(w.b, hb, "UPDATE checkins SET note='from B', updated_hlc=%Q WHERE id=%Q", hb, ROW1);
	assert_int_equal(st_push(w.hub, w.b, &scope_b).applied, 1);
	world_close(&w);
}

static void test_lost_update_logged_again(void **state)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN];
	st_pushed p;
	int64_t before;

	(void)state;
	world_open_at(&w, ha, 200, hb, 300, 0);
	node_write(w.a, ha, "UPDATE checkins SET note='from A', updated_hlc=%Q WHERE id=%Q", ha, ROW1);
	node_write(w.b, hb, "UPDATE checkins SET note='from B', updated_hlc=%Q WHERE id=%Q", hb, ROW1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	before = q_int(w.hub, "SELECT max(seq) FROM change_log WHERE tbl='checkins'");
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.conflicts, 1);
	assert_string_equal(q_text(w.hub, "SELECT note FROM checkins"), "from B");
	assert_string_equal(q_text(w.hub, "SELECT updated_hlc FROM checkins"), hb);
	assert_true(q_int(w.hub, "SELECT max(seq) FROM change_log WHERE tbl='checkins' AND row_id=%Q",
			  ROW1) > before);
	/* A write the hub already holds changes nothing and logs nothing. */
	before = q_int(w.hub, "SELECT max(seq) FROM change_log");
	hlc_of(ha, HLC_LEN, 250, 0, "nodeA");
	node_write(w.a, ha, "UPDATE checkins SET note='from B', updated_hlc=%Q WHERE id=%Q", ha, ROW1);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.conflicts, 0);
	assert_int_equal(q_int(w.hub, "SELECT max(seq) FROM change_log"), before);
	world_close(&w);
}

/* A changes a column and changes it back (both st_pushed); B, which saw
 * neither, changed the same column before A's second write.  At the hub
 * local == base for B's entry, yet A's newer write must stand and B's value
 * be kept as a conflict (it was silently taken before col_clocks). */
static void test_changed_and_changed_back(void **state)
{
	world w;
	char h1[64], h2[64], h3[64];
	st_pushed pa, pb;

	(void)state;
	world_open(&w);
	hlc_of(h1, sizeof h1, 200, 0, "nodeA");
	hlc_of(h2, sizeof h2, 250, 0, "nodeB");
	hlc_of(h3, sizeof h3, 300, 0, "nodeA");
	node_write(w.a, h1, "UPDATE checkins SET note='x', updated_hlc=%Q WHERE id=%Q", h1, ROW1);
	node_write(w.b, h2, "UPDATE checkins SET note='from B', updated_hlc=%Q WHERE id=%Q", h2, ROW1);
	node_write(w.a, h3, "UPDATE checkins SET note=NULL, updated_hlc=%Q WHERE id=%Q", h3, ROW1);
	pa = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(pa.applied, 2);
	assert_int_equal(pa.conflicts, 0);
	pb = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(pb.applied, 1);
	assert_int_equal(pb.conflicts, 1);
	assert_int_equal(q_int(w.hub, "SELECT note IS NULL FROM checkins"), 1);
	assert_string_equal(q_text(w.hub, "SELECT updated_hlc FROM checkins"), h3);
	assert_string_equal(q_text(w.hub, "SELECT winner || ' ' || remote_value || ' ' || remote_hlc "
					  "|| ' ' || local_hlc FROM conflicts WHERE column_name='note'"),
			    "local \"from B\" 0000000000fa.0000.nodeB 00000000012c.0000.nodeA");
	/* A newer B write after that is taken as usual. */
	hlc_of(h2, sizeof h2, 400, 0, "nodeB");
	node_write(w.b, h2, "UPDATE checkins SET note='later B', updated_hlc=%Q WHERE id=%Q", h2,
		   ROW1);
	pb = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(pb.conflicts, 1); /* B's base is still its own stale value */
	assert_string_equal(q_text(w.hub, "SELECT note FROM checkins"), "later B");
	world_close(&w);
}

/* B writes the value the hub already holds, later than A's pending change
 * back to an older value; A's older write arriving last must not undo B's
 * newer one (it was taken before: local == base, and B's write left no
 * trace on the column). */
static void test_same_value_newer_write_stands(void **state)
{
	world w;
	char h1[64], h2[64], h3[64], hb[64];
	st_pushed p;

	(void)state;
	world_open(&w);
	hlc_of(h1, sizeof h1, 200, 0, "nodeA");
	node_write(w.a, h1, "UPDATE checkins SET status='called', updated_hlc=%Q WHERE id=%Q", h1,
		   ROW1);
	replicate(w.a, w.b);
	assert_int_equal(st_push(w.hub, w.a, &scope_a).applied, 1);
	hlc_of(h2, sizeof h2, 300, 0, "nodeA");
	node_write(w.a, h2, "UPDATE checkins SET status='waiting', updated_hlc=%Q WHERE id=%Q", h2,
		   ROW1);
	assert_int_equal(st_push(w.hub, w.a, &scope_a).applied, 1);
	/* A goes offline and calls the visit again (h3); B, which saw only the
	 * first call, puts it back in the queue later (hb > h3) and syncs first. */
	hlc_of(h3, sizeof h3, 400, 0, "nodeA");
	node_write(w.a, h3, "UPDATE checkins SET status='called', updated_hlc=%Q WHERE id=%Q", h3,
		   ROW1);
	hlc_of(hb, sizeof hb, 500, 0, "nodeB");
	node_write(w.b, hb, "UPDATE checkins SET status='waiting', updated_hlc=%Q WHERE id=%Q", hb,
		   ROW1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 0);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 1);
	assert_string_equal(q_text(w.hub, "SELECT status FROM checkins"), "waiting");
	assert_string_equal(q_text(w.hub, "SELECT winner || ' ' || remote_value FROM conflicts "
					  "WHERE column_name='status'"),
			    "local \"called\"");
	world_close(&w);
}

/* B edits the note (h1) and later the status (h3), A edits the note in
 * between (h2) while offline: A's note is the later write of that column,
 * and wins, though the row's stamp is B's newer one (for the status). */
static void test_column_clock_decides(void **state)
{
	world w;
	char h1[64], h2[64], h3[64];
	st_pushed p;

	(void)state;
	world_open(&w);
	hlc_of(h1, sizeof h1, 200, 0, "nodeB");
	hlc_of(h2, sizeof h2, 300, 0, "nodeA");
	hlc_of(h3, sizeof h3, 400, 0, "nodeB");
	node_write(w.b, h1, "UPDATE checkins SET note='from B', updated_hlc=%Q WHERE id=%Q", h1, ROW1);
	assert_int_equal(st_push(w.hub, w.b, &scope_b).applied, 1);
	node_write(w.a, h2, "UPDATE checkins SET note='from A', updated_hlc=%Q WHERE id=%Q", h2, ROW1);
	node_write(w.b, h3, "UPDATE checkins SET status='called', updated_hlc=%Q WHERE id=%Q", h3,
		   ROW1);
	assert_int_equal(st_push(w.hub, w.b, &scope_b).applied, 1);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 1);
	assert_string_equal(q_text(w.hub, "SELECT note || ' ' || status || ' ' || updated_hlc"
					  " FROM checkins"),
			    "from A called 000000000190.0000.nodeB");
	assert_string_equal(q_text(w.hub, "SELECT winner || ' ' || local_value || ' ' || local_hlc"
					  " FROM conflicts"),
			    "remote \"from B\" 0000000000c8.0000.nodeB");
	world_close(&w);
}

/* A write the hub makes itself (a conflict resolved in the console: the
 * note back to its base value) stamps the column's clock: B's older edit,
 * made offline from that base, must not take the column back unseen. */
static void test_hub_write_stamps_column(void **state)
{
	world w;
	char h1[64], h2[64], h3[64];
	st_pushed p;

	(void)state;
	world_open(&w);
	hlc_of(h1, sizeof h1, 200, 0, "nodeA");
	hlc_of(h2, sizeof h2, 300, 0, "nodeB");
	hlc_of(h3, sizeof h3, 400, 0, "hub");
	node_write(w.a, h1, "UPDATE checkins SET note='from A', updated_hlc=%Q WHERE id=%Q", h1, ROW1);
	assert_int_equal(st_push(w.hub, w.a, &scope_a).applied, 1);
	node_write(w.b, h2, "UPDATE checkins SET note='from B', updated_hlc=%Q WHERE id=%Q", h2, ROW1);
	assert_int_equal(sync_hub_clock_stamp(w.hub, "checkins", "note", "id=?1", ROW1, h3), 0);
	assert_int_equal(db_run(w.hub, "UPDATE checkins SET note=NULL, updated_hlc=?2 WHERE id=?1",
				"tt", ROW1, h3),
			 0);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 1);
	assert_int_equal(q_int(w.hub, "SELECT note IS NULL FROM checkins"), 1);
	assert_string_equal(q_text(w.hub, "SELECT winner || ' ' || remote_value || ' ' || local_hlc"
					  " FROM conflicts"),
			    "local \"from B\" 000000000190.0000.hub");
	/* A clock only moves forward: an older stamp leaves it. */
	assert_int_equal(sync_hub_clock_stamp(w.hub, "checkins", "note", "id=?1", ROW1, h1), 0);
	assert_string_equal(q_text(w.hub, "SELECT hlc FROM col_clocks WHERE tbl='checkins' AND"
					  " col='note'"),
			    h3);
	world_close(&w);
}

/* ---- soft deletes (work_items.deleted) ---------------------------------------- */

#define WI1 "0190a000-0000-7000-8000-0000000000w1"

/* A work item at hub, A and B, stamped 100. */
static void world_open_wi(world *w)
{
	char h[64];

	world_open(w);
	hlc_of(h, sizeof h, 100, 1, "nodeA");
	node_write(w->a, h,
		   "INSERT INTO work_items(id, category_id, priority_id, status, description,"
		   " office_id, created_at, updated_hlc) VALUES(%Q, 'cat', 'pri', 'New', 'call back',"
		   " %Q, 1700000000000, %Q)",
		   WI1, OFFICE, h);
	replicate(w->a, w->b);
	assert_int_equal(st_push(w->hub, w->a, &scope_a).applied, 1);
}

/* A deletes the work item (soft: deleted = 1) while B, offline, edits it:
 * the edit wins in either order, as over a DELETE, and the delete is kept
 * as a conflict on "*deleted*" (before: both columns taken, the edit
 * hidden for good, no conflict). */
static void soft_delete_vs_edit(int edit_first)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN];
	st_pushed p1, p2;

	world_open_wi(&w);
	hlc_of(ha, HLC_LEN, 200, 0, "nodeA");
	hlc_of(hb, HLC_LEN, 300, 0, "nodeB");
	node_write(w.a, ha, "UPDATE work_items SET deleted=1, updated_hlc=%Q WHERE id=%Q", ha, WI1);
	node_write(w.b, hb, "UPDATE work_items SET description='call back Monday', updated_hlc=%Q"
			    " WHERE id=%Q", hb, WI1);
	if (edit_first) {
		p1 = st_push(w.hub, w.b, &scope_b);
		p2 = st_push(w.hub, w.a, &scope_a);
	} else {
		p1 = st_push(w.hub, w.a, &scope_a);
		p2 = st_push(w.hub, w.b, &scope_b);
	}
	assert_int_equal(p1.applied + p2.applied, 2);
	assert_int_equal(p1.conflicts + p2.conflicts, 1);
	assert_string_equal(q_text(w.hub, "SELECT deleted || ' ' || description FROM work_items"),
			    "0 call back Monday");
	assert_string_equal(q_text(w.hub, "SELECT column_name || ' ' || winner || ' ' || node_id"
					  " FROM conflicts"),
			    edit_first ? "*deleted* local nodeA" : "*deleted* remote nodeB");
	world_close(&w);
}

static void test_soft_delete_loses_to_an_edit(void **state)
{
	(void)state;
	soft_delete_vs_edit(1);
	soft_delete_vs_edit(0);
}

/* A delete from a node that saw the latest state, and an edit made after
 * the node saw the delete, are taken as they are: no conflict. */
static void test_soft_delete_of_the_latest_state(void **state)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN];
	st_pushed p;

	(void)state;
	world_open_wi(&w);
	hlc_of(ha, HLC_LEN, 200, 0, "nodeA");
	node_write(w.a, ha, "UPDATE work_items SET deleted=1, updated_hlc=%Q WHERE id=%Q", ha, WI1);
	replicate(w.a, w.b);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.conflicts, 0);
	assert_int_equal(q_int(w.hub, "SELECT deleted FROM work_items"), 1);
	hlc_of(hb, HLC_LEN, 300, 0, "nodeB");
	node_write(w.b, hb, "UPDATE work_items SET priority_id='high', updated_hlc=%Q WHERE id=%Q", hb,
		   WI1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 0);
	assert_string_equal(q_text(w.hub, "SELECT deleted || ' ' || priority_id FROM work_items"),
			    "1 high");
	world_close(&w);
}

/* A soft delete with its witness (the row as the office saw it, as the node
 * writes it): B's older edit merged at the hub after A's base, the row's
 * stamp unmoved, is still one A had not seen - the row stays, a conflict
 * records the delete.  The same delete of the row as the hub has it is
 * taken. */
static void soft_delete_seen(sqlite3 *node, const char *hlc)
{
	char expr[2048];

	assert_int_equal(schema_soft_seen_expr(node, "work_items", expr, sizeof expr), 0);
	node_write(node, hlc, "UPDATE work_items SET deleted=1, deleted_seen=%s, updated_hlc=%Q"
			      " WHERE id=%Q", expr, hlc, WI1);
}

static void test_soft_delete_witness(void **state)
{
	world w;
	char h1[64], h2[64], h3[64];
	st_pushed p;

	(void)state;
	world_open_wi(&w);
	hlc_of(h1, sizeof h1, 200, 0, "nodeA");
	hlc_of(h2, sizeof h2, 150, 0, "nodeB");
	hlc_of(h3, sizeof h3, 300, 0, "nodeA");
	node_write(w.a, h1, "UPDATE work_items SET description='call back Monday', updated_hlc=%Q"
			    " WHERE id=%Q", h1, WI1);
	assert_int_equal(st_push(w.hub, w.a, &scope_a).applied, 1);
	node_write(w.b, h2, "UPDATE work_items SET priority_id='high', updated_hlc=%Q WHERE id=%Q", h2,
		   WI1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 0);
	assert_string_equal(q_text(w.hub, "SELECT updated_hlc FROM work_items"), h1); /* unmoved */
	soft_delete_seen(w.a, h3);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 1);
	assert_string_equal(q_text(w.hub, "SELECT deleted || ' ' || priority_id || ' ' ||"
					  " coalesce(deleted_seen, 'none') FROM work_items"),
			    "0 high none");
	assert_string_equal(q_text(w.hub, "SELECT column_name || ' ' || winner FROM conflicts"),
			    "*deleted* local");
	world_close(&w);
	/* The row as the hub has it: taken, no conflict. */
	world_open_wi(&w);
	soft_delete_seen(w.a, h3);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.conflicts, 0);
	assert_int_equal(q_int(w.hub, "SELECT deleted FROM work_items"), 1);
	world_close(&w);
}

/* A conflict resolved in the console by a hub older than the column
 * clocks of its writes: the hub's start (sync_hub_migrate) gives the column
 * the resolution's clock, so an office edit older than it, in flight across
 * the upgrade, loses to it. */
static void test_old_resolution_gets_its_clock(void **state)
{
	world w;
	char h1[64], h2[64], h3[64];
	st_pushed p;

	(void)state;
	world_open(&w);
	hlc_of(h1, sizeof h1, 200, 0, "nodeA");
	hlc_of(h2, sizeof h2, 300, 0, "nodeB");
	hlc_of(h3, sizeof h3, 400, 0, "hub");
	node_write(w.a, h1, "UPDATE checkins SET note='from A', updated_hlc=%Q WHERE id=%Q", h1, ROW1);
	assert_int_equal(st_push(w.hub, w.a, &scope_a).applied, 1);
	node_write(w.b, h2, "UPDATE checkins SET note='from B', updated_hlc=%Q WHERE id=%Q", h2, ROW1);
	/* The old hub's resolution: the value back to the base, no clock. */
	assert_int_equal(db_run(w.hub, "UPDATE checkins SET note=NULL, updated_hlc=?2 WHERE id=?1",
				"tt", ROW1, h3),
			 0);
	assert_int_equal(db_run(w.hub,
				"INSERT INTO conflicts(id, tbl, row_id, column_name, winner, node_id,"
				" created_at, resolved_at, resolved_by, resolution, updated_hlc)"
				" VALUES('c-old', 'checkins', ?1, 'note', 'local', 'nodeA', 1, 2, 'ops',"
				" '{\"kept\":\"base\",\"value\":null}', ?2)",
				"tt", ROW1, h3),
			 0);
	/* ... and the hub that replaces it starts: its last migration runs. */
	assert_int_equal(db_exec(w.hub, "UPDATE schema_version SET version = version - 1"
					" WHERE component = 'sync_hub'"),
			 0);
	assert_int_equal(sync_hub_migrate(w.hub), 0);
	assert_string_equal(q_text(w.hub, "SELECT hlc FROM col_clocks WHERE tbl='checkins' AND"
					  " col='note'"),
			    h3);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.conflicts, 1);
	assert_int_equal(q_int(w.hub, "SELECT note IS NULL FROM checkins"), 1);
	world_close(&w);
}

/* Same ms and counter on both nodes: the node id decides, the same way in
 * both arrival orders. */
static char *tie(int b_first)
{
	static char out[2][64];
	world w;
	char ha[HLC_LEN], hb[HLC_LEN];

	world_open_at(&w, ha, 500, hb, 500, 3);
	node_write(w.a, ha, "UPDATE checkins SET note='A', updated_hlc=%Q WHERE id=%Q", ha, ROW1);
	node_write(w.b, hb, "UPDATE checkins SET note='B', updated_hlc=%Q WHERE id=%Q", hb, ROW1);
	if (b_first) {
		st_push(w.hub, w.b, &scope_b);
		st_push(w.hub, w.a, &scope_a);
	} else {
		st_push(w.hub, w.a, &scope_a);
		st_push(w.hub, w.b, &scope_b);
	}
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM conflicts"), 1);
	snprintf(out[b_first], sizeof out[b_first], "%s", q_text(w.hub, "SELECT note FROM checkins"));
	world_close(&w);
	return out[b_first];
}

static void test_tie_breaks_on_node_id(void **state)
{
	char *x, *y;

	(void)state;
	x = tie(0);
	y = tie(1);
	assert_string_equal(x, y);
	assert_string_equal(x, "B"); /* "nodeB" > "nodeA" */
}

static void test_edit_beats_delete_delete_first(void **state)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN];
	st_pushed p;

	(void)state;
	world_open_at(&w, ha, 200, hb, 300, 0);
	node_write(w.a, ha, "DELETE FROM checkins WHERE id=%Q", ROW1);
	node_write(w.b, hb, "UPDATE checkins SET note='still here', updated_hlc=%Q WHERE id=%Q", hb, ROW1);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM checkins"), 0);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM tombstones"), 1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 1);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM checkins"), 1);
	assert_string_equal(q_text(w.hub, "SELECT note FROM checkins"), "still here");
	/* the resurrected row kept every other column from before the delete */
	assert_string_equal(q_text(w.hub, "SELECT visitor_name FROM checkins"), "Ana Lopez");
	assert_int_equal(q_int(w.hub, "SELECT arrived_at FROM checkins"), 1700000000000);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM tombstones"), 0);
	assert_string_equal(q_text(w.hub, "SELECT column_name FROM conflicts"), "*deleted*");
	assert_string_equal(q_text(w.hub, "SELECT winner FROM conflicts"), "remote");
	world_close(&w);
}

static void test_edit_beats_delete_edit_first(void **state)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN];
	st_pushed p;

	(void)state;
	world_open_at(&w, ha, 300, hb, 200, 0); /* A's delete is the later */
	node_write(w.a, ha, "DELETE FROM checkins WHERE id=%Q", ROW1);
	node_write(w.b, hb, "UPDATE checkins SET note='still here', updated_hlc=%Q WHERE id=%Q", hb, ROW1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 1);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM checkins"), 1);
	assert_string_equal(q_text(w.hub, "SELECT note FROM checkins"), "still here");
	assert_string_equal(q_text(w.hub, "SELECT column_name FROM conflicts"), "*deleted*");
	assert_string_equal(q_text(w.hub, "SELECT winner FROM conflicts"), "local");
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM tombstones"), 0);
	/* an unconflicted delete goes through */
	hlc_of(hb, sizeof hb, 400, 0, "nodeB");
	node_write(w.b, hb, "DELETE FROM checkins WHERE id=%Q", ROW1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM checkins"), 0);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM change_log WHERE tbl='checkins' AND op=2"), 1);
	world_close(&w);
}

/*
 * A visit done at A (t=200); B, not having pulled that, moves it to serving
 * later (t=300) with the note A wrote too: held whole (td_final_holds).  Nothing of B's change is taken - not its stamp, not a
 * column clock - so A's next edit of the note (t=250: A has not seen B's
 * time) and then its delete of the visit are its own honest changes of the
 * row as it wrote it, merged with no conflict.  The hub's row kept B's
 * stamp (and the note B's clock), which made both false conflicts that A
 * lost: an edit of a column "changed since", a delete of a row "edited
 * since".
 */
static void test_held_change_leaves_stamp(void **state)
{
	world w;
	char ha[HLC_LEN], hb[HLC_LEN], h[HLC_LEN];
	st_pushed p;

	(void)state;
	world_open_at(&w, ha, 200, hb, 300, 0);
	node_write(w.a, ha, "UPDATE checkins SET status='done', note='served', updated_hlc=%Q"
			    " WHERE id=%Q", ha, ROW1);
	node_write(w.b, hb, "UPDATE checkins SET status='serving', note='served', updated_hlc=%Q"
			    " WHERE id=%Q", hb, ROW1);
	assert_int_equal(st_push(w.hub, w.a, &scope_a).applied, 1);
	p = st_push(w.hub, w.b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 1); /* the status, held */
	assert_string_equal(q_text(w.hub, "SELECT status FROM checkins"), "done");
	assert_string_equal(q_text(w.hub, "SELECT updated_hlc FROM checkins"), ha);
	/* logged again (the origin B's), so B gets the hub's row back */
	assert_string_equal(q_text(w.hub, "SELECT origin FROM change_log WHERE row_id=%Q"
					  " ORDER BY seq DESC LIMIT 1", ROW1), "nodeB");
	hlc_of(h, sizeof h, 250, 0, "nodeA");
	node_write(w.a, h, "UPDATE checkins SET note='served, form left', updated_hlc=%Q WHERE id=%Q",
		   h, ROW1);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 0);
	assert_string_equal(q_text(w.hub, "SELECT note FROM checkins"), "served, form left");
	hlc_of(h, sizeof h, 260, 0, "nodeA");
	node_write(w.a, h, "DELETE FROM checkins WHERE id=%Q", ROW1);
	p = st_push(w.hub, w.a, &scope_a);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.conflicts, 0);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM checkins"), 0);
	assert_int_equal(q_int(w.hub, "SELECT count(*) FROM conflicts"), 1);
	world_close(&w);
}

static void test_append_only_update_quarantined(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	char h[64];
	char *before, *after;
	st_pushed p;

	(void)state;
	hlc_of(h, sizeof h, 100, 0, "nodeA");
	node_write(a, h,
		   "INSERT INTO checkin_events(id, checkin_id, office_id, action, to_status, at, hlc) "
		   "VALUES('ev-1', %Q, %Q, 'create', 'waiting', 1, %Q)",
		   ROW1, OFFICE, h);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	before = digest_text(hub);
	node_write(a, h, "UPDATE checkin_events SET to_status='done' WHERE id='ev-1'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.applied, 0);
	assert_int_equal(p.quarantined, 1);
	assert_non_null(strstr(p.reason, "append-only"));
	assert_string_equal(q_text(hub, "SELECT to_status FROM checkin_events"), "waiting");
	assert_string_equal(q_text(hub, "SELECT tbl FROM quarantine"), "checkin_events");
	assert_string_equal(q_text(hub, "SELECT node_id FROM quarantine"), "nodeA");
	assert_int_equal(q_int(hub, "SELECT seq FROM quarantine"), 2);
	assert_int_equal(q_int(hub, "SELECT length(changeset) > 0 FROM quarantine"), 1);
	after = digest_text(hub);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* and deletes */
	node_write(a, h, "DELETE FROM checkin_events WHERE id='ev-1'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 1);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM checkin_events"), 1);
	sqlite3_close(hub);
	sqlite3_close(a);
}

static void test_hub_owned_quarantined(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	char h[64];

	(void)state;
	hlc_of(h, sizeof h, 100, 0, "nodeA");
	/* a legitimate row in the same entry is refused with it: nothing applies */
	node_write(a, h,
		   "INSERT INTO offices(id, local_area_id, name) VALUES('office-x', %Q, 'Rogue');"
		   "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
		   " visit_date, updated_hlc) VALUES(%Q, %Q, %Q, 'X', 1, '2026-01-05', %Q)",
		   LA, ROW1, OFFICE, LA, h);
	st_push_refused(hub, a, &scope_a, "hub-owned");
	ST_EXPECT(hub, {"SELECT count(*) FROM offices", 0}, {"SELECT count(*) FROM checkins", 0},
		  {"SELECT count(*) FROM change_log", 0}, {"SELECT count(*) FROM quarantine", 1});
	sqlite3_close(hub);
	sqlite3_close(a);
}

static void test_out_of_scope_quarantined(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	char h[64];
	st_pushed p;
	static const sync_scope other_la = {"nodeA", OFFICE, "la-2"};

	(void)state;
	hlc_of(h, sizeof h, 100, 0, "nodeA");
	insert_checkin(a, ROW1, "office-2", h);
	st_push_refused(hub, a, &scope_a, "outside");
	assert_int_equal(q_int(hub, "SELECT count(*) FROM checkins"), 0);
	/* right office, wrong Local Area */
	insert_checkin(a, "0190a000-0000-7000-8000-000000000002", OFFICE, h);
	p = st_push(hub, a, &other_la);
	assert_int_equal(p.quarantined, 1);
	/* an update moving a row out of the office */
	insert_checkin(a, "0190a000-0000-7000-8000-000000000003", OFFICE, h);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	node_write(a, h, "UPDATE checkins SET office_id='office-2' WHERE id='0190a000-0000-7000-8000-000000000003'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 1);
	assert_string_equal(q_text(hub, "SELECT office_id FROM checkins"), OFFICE);
	/* an update of a row of another office (held at the hub) */
	assert_int_equal(db_exec(hub, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				      " arrived_at, visit_date) VALUES('other', 'office-2', 'la-1', 'Z', 1,"
				      " '2026-01-05')"),
			 0);
	assert_int_equal(db_exec(a, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				    " arrived_at, visit_date) VALUES('other', 'office-2', 'la-1', 'Z', 1,"
				    " '2026-01-05')"),
			 0);
	node_write(a, h, "UPDATE checkins SET note='hi' WHERE id='other'");
	p = st_push(hub, a, &scope_a);
	assert_int_equal(p.quarantined, 1);
	assert_int_equal(q_int(hub, "SELECT note IS NULL FROM checkins WHERE id='other'"), 1);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM quarantine"), 4);
	sqlite3_close(hub);
	sqlite3_close(a);
}

static void test_missing_row_and_duplicate_key(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0);
	char h[64], hb[64];

	(void)state;
	hlc_of(h, sizeof h, 100, 0, "nodeA");
	hlc_of(hb, sizeof hb, 100, 0, "nodeB");
	/* an update of a row the hub never had and never deleted */
	assert_int_equal(db_exec(a, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				    " arrived_at, visit_date) VALUES('ghost', 'office-1', 'la-1', 'G', 1,"
				    " '2026-01-05')"),
			 0);
	node_write(a, h, "UPDATE checkins SET note='x' WHERE id='ghost'");
	st_push_refused(hub, a, &scope_a, "missing row");
	/* the same key inserted with different values by two nodes */
	insert_checkin(a, ROW1, OFFICE, h);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	node_write(b, hb,
		   "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
		   " visit_date, updated_hlc) VALUES(%Q, %Q, %Q, 'Someone Else', 1, '2026-01-05', %Q)",
		   ROW1, OFFICE, LA, hb);
	st_push_refused(hub, b, &scope_b, "duplicate key with different values");
	assert_string_equal(q_text(hub, "SELECT visitor_name FROM checkins"), "Ana Lopez");
	sqlite3_close(hub);
	sqlite3_close(a);
	sqlite3_close(b);
}

/* A visit's day_end event written by two nodes under one id (its id is the
 * visit's and the status it left: greeter_day_end_id), each at its own time
 * and stamp: the hub takes the second as the same fact (schema_fact_col),
 * neither quarantined nor logged again; a row of that id
 * that says another thing is still refused. */
static void test_same_fact_taken_once(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0), *b = open_db(0), *c = open_db(0);
	const char *ev = "8a5c0e1d-2f3b-8c4d-9e5f-60718293a4b5";
	char ha[64], hb[64];
	st_pushed p;

	(void)state;
	hlc_of(ha, sizeof ha, 100, 0, "nodeA");
	hlc_of(hb, sizeof hb, 105, 0, "nodeB");
	insert_checkin(a, ROW1, OFFICE, ha);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	node_write(a, ha,
		   "INSERT INTO checkin_events(id, checkin_id, office_id, action, from_status,"
		   " to_status, at, hlc) VALUES(%Q, %Q, %Q, 'day_end', 'waiting', 'left', 100, %Q)",
		   ev, ROW1, OFFICE, ha);
	node_write(b, hb,
		   "INSERT INTO checkin_events(id, checkin_id, office_id, action, from_status,"
		   " to_status, at, hlc) VALUES(%Q, %Q, %Q, 'day_end', 'waiting', 'left', 105, %Q)",
		   ev, ROW1, OFFICE, hb);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	p = st_push(hub, b, &scope_b);
	assert_int_equal(p.applied, 1);
	assert_int_equal(p.quarantined, 0);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM checkin_events"), 1);
	assert_int_equal(q_int(hub, "SELECT at FROM checkin_events"), 100); /* the first stands */
	assert_int_equal(q_int(hub, "SELECT count(*) FROM change_log WHERE tbl='checkin_events'"), 1);
	/* the same id saying another thing (a third node) */
	node_write(c, hb,
		   "INSERT INTO checkin_events(id, checkin_id, office_id, action, from_status,"
		   " to_status, at, hlc) VALUES(%Q, %Q, %Q, 'day_end', 'serving', 'done', 105, %Q)",
		   ev, ROW1, OFFICE, hb);
	st_push_refused(hub, c, &scope_b, "duplicate key with different values");
	assert_string_equal(q_text(hub, "SELECT to_status FROM checkin_events"), "left");
	sqlite3_close(hub);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(c);
}

static int no_bad_names(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			size_t n)
{
	return st_refuse_visitor(db, tbl, op, row, reason, n, "bad", 0, "visitor_name may not be 'bad'");
}

static void test_domain_validator(void **state)
{
	world w;
	char h[64];
	st_pushed p;

	(void)state;
	world_open(&w);
	sync_set_validator(no_bad_names);
	hlc_of(h, sizeof h, 300, 0, "nodeA");
	node_write(w.a, h, "UPDATE checkins SET visitor_name='bad', note='n', updated_hlc=%Q WHERE id=%Q", h,
		   ROW1);
	p = st_push(w.hub, w.a, &scope_a);
	sync_set_validator(NULL);
	assert_int_equal(p.quarantined, 1);
	assert_non_null(strstr(p.reason, "visitor_name may not be 'bad'"));
	assert_string_equal(q_text(w.hub, "SELECT visitor_name FROM checkins"), "Ana Lopez");
	assert_int_equal(q_int(w.hub, "SELECT note IS NULL FROM checkins"), 1);
	world_close(&w);
}

static void test_corrupt_changesets(void **state)
{
	sqlite3 *hub = open_db(1), *a = open_db(0);
	char h[64], *before, *after;
	unsigned char *cs;
	size_t n;
	sync_apply_result res;
	int quarantined = 0;

	(void)state;
	hlc_of(h, sizeof h, 100, 0, "nodeA");
	/* some state at the hub first */
	insert_checkin(a, "0190a000-0000-7000-8000-0000000000ff", OFFICE, h);
	assert_int_equal(st_push(hub, a, &scope_a).applied, 1);
	insert_checkin(a, ROW1, OFFICE, h);
	cs = outbox_blob(a, &n);
	before = digest_text(hub);
	/* every truncation */
	for (size_t k = 0; k < n; k++) {
		unsigned char *p = malloc(k ? k : 1);
		sync_entry e = {(int64_t)k + 10, h, NULL, p, k};
		memcpy(p, cs, k);
		assert_int_equal(db_exec(hub, "BEGIN"), 0);
		assert_int_equal(sync_hub_apply(hub, &scope_a, &e, &res), 0);
		assert_int_equal(db_exec(hub, "COMMIT"), 0);
		assert_int_equal(res.applied, 0);
		quarantined++;
		free(p);
	}
	after = digest_text(hub);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM quarantine"), quarantined);
	assert_true(q_int(hub, "SELECT count(*) FROM quarantine WHERE reason LIKE 'corrupt changeset%%'") >
		    (int64_t)n / 2);
	/* flipped bytes: either quarantined with the hub unchanged, or a valid
	 * (different) row in scope; never a crash or an internal error */
	for (size_t k = 0; k < n; k++) {
		unsigned char *p = malloc(n);
		sync_entry e = {(int64_t)k + 1000, h, NULL, p, n};
		memcpy(p, cs, n);
		p[k] ^= 0x41;
		assert_int_equal(db_exec(hub, "SAVEPOINT t"), 0);
		assert_int_equal(sync_hub_apply(hub, &scope_a, &e, &res), 0);
		if (!res.applied) {
			after = digest_text(hub);
			assert_string_equal(before, after);
			free(after);
		}
		assert_int_equal(db_exec(hub, "ROLLBACK TO t; RELEASE t"), 0);
		free(p);
	}
	/* hand-made: a column count that does not match the live table */
	{
		static const unsigned char bad[] = {'T', 3, 1, 0, 0, 'c', 'h', 'e', 'c', 'k', 'i', 'n', 's', 0,
						    SQLITE_INSERT, 0, 3, 1, 'x', 5, 5};
		sync_entry e = {5000, h, NULL, bad, sizeof bad};
		assert_int_equal(db_exec(hub, "BEGIN"), 0);
		assert_int_equal(sync_hub_apply(hub, &scope_a, &e, &res), 0);
		assert_int_equal(db_exec(hub, "COMMIT"), 0);
		assert_int_equal(res.applied, 0);
		assert_non_null(strstr(res.reason, "columns"));
	}
	/* an unknown table */
	{
		static const unsigned char bad[] = {'T', 1, 1, 'z', 0, SQLITE_INSERT, 0, 3, 1, 'x'};
		sync_entry e = {5001, h, NULL, bad, sizeof bad};
		assert_int_equal(db_exec(hub, "BEGIN"), 0);
		assert_int_equal(sync_hub_apply(hub, &scope_a, &e, &res), 0);
		assert_int_equal(db_exec(hub, "COMMIT"), 0);
		assert_int_equal(res.applied, 0);
		assert_non_null(strstr(res.reason, "unknown table"));
	}
	after = digest_text(hub);
	assert_string_equal(before, after);
	free(after);
	free(before);
	free(cs);
	sqlite3_close(hub);
	sqlite3_close(a);
}

/* Our walker reads real session changesets exactly as SQLite's iterator. */
static void test_walker_agrees_with_sqlite(void **state)
{
	world w;
	char h[64];
	unsigned char *cs;
	size_t n;
	cs_iter it;
	sqlite3_changeset_iter *si;
	const char *err;
	int changes = 0;

	(void)state;
	world_open(&w);
	hlc_of(h, sizeof h, 300, 0, "nodeA");
	node_write(w.a, h,
		   "UPDATE checkins SET note='n\xc3\xa9', virtual=1, updated_hlc=%Q WHERE id=%Q;"
		   "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id) VALUES('r1', %Q, 'x', %Q);"
		   "INSERT INTO checkin_events(id, checkin_id, office_id, action, to_status, at, hlc) "
		   "VALUES('e1', %Q, %Q, 'call', 'called', -5, %Q)",
		   h, ROW1, ROW1, OFFICE, ROW1, OFFICE, h);
	cs = outbox_blob(w.a, &n);
	changeset_iter_init(&it, cs, n);
	assert_int_equal(sqlite3changeset_start(&si, (int)n, cs), SQLITE_OK);
	while (sqlite3changeset_next(si) == SQLITE_ROW) {
		const char *tbl;
		int ncol, op;
		assert_int_equal(changeset_next(&it, &err), 1);
		assert_int_equal(sqlite3changeset_op(si, &tbl, &ncol, &op, NULL), SQLITE_OK);
		assert_string_equal(tbl, it.ci_table);
		assert_int_equal(ncol, it.ci_ncol);
		assert_int_equal(op, it.ci_op);
		for (int i = 0; i < ncol; i++) {
			sqlite3_value *v = NULL;
			const cs_value *mine = op == SQLITE_DELETE ? &it.ci_old[i] : &it.ci_new[i];
			if (op == SQLITE_DELETE)
				sqlite3changeset_old(si, i, &v);
			else
				sqlite3changeset_new(si, i, &v);
			if (v == NULL) {
				assert_int_equal(mine->cv_type, CSV_UNDEFINED);
				continue;
			}
			assert_int_equal(mine->cv_type, sqlite3_value_type(v));
			if (mine->cv_type == CSV_INTEGER)
				assert_int_equal(mine->cv_int, sqlite3_value_int64(v));
			if (mine->cv_type == CSV_TEXT) {
				assert_int_equal(mine->cv_n, (size_t)sqlite3_value_bytes(v));
				assert_memory_equal(mine->cv_p, sqlite3_value_text(v), mine->cv_n);
			}
		}
		changes++;
	}
	assert_int_equal(changeset_next(&it, &err), 0);
	assert_int_equal(sqlite3changeset_finalize(si), SQLITE_OK);
	assert_int_equal(changes, 3);
	changeset_iter_release(&it);
	free(cs);
	world_close(&w);
}

static void test_migrate_idempotent(void **state)
{
	sqlite3 *hub = open_db(1);
	int64_t triggers = q_int(hub, "SELECT count(*) FROM sqlite_master WHERE type='trigger'");

	(void)state;
	assert_true(triggers >= 3 * 6);
	assert_int_equal(sync_hub_migrate(hub), 0);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM sqlite_master WHERE type='trigger'"), triggers);
	/* a dropped trigger (as if its table were new) comes back */
	assert_int_equal(db_exec(hub, "DROP TRIGGER \"outpost_log_checkins_upd\""), 0);
	assert_int_equal(sync_hub_migrate(hub), 0);
	assert_int_equal(q_int(hub, "SELECT count(*) FROM sqlite_master WHERE type='trigger'"), triggers);
	/* scope columns of each kind */
	assert_int_equal(db_exec(hub, "INSERT INTO greeter_reasons(id, local_area_id, label, label_es) "
				      "VALUES('gr', 'la-5', 'L', 'L')"),
			 0);
	assert_string_equal(q_text(hub, "SELECT coalesce(scope_office,'-') || '/' || scope_la FROM "
					"change_log WHERE tbl='greeter_reasons'"),
			    "-/la-5");
	sqlite3_close(hub);
}

TU_MAIN(cmocka_unit_test(test_insert_and_replay),
	cmocka_unit_test(test_merge_disjoint_columns),
	cmocka_unit_test(test_merge_overlap_later_hlc_wins),
	cmocka_unit_test(test_column_clock_decides),
	cmocka_unit_test(test_hub_write_stamps_column),
	cmocka_unit_test(test_old_resolution_gets_its_clock),
	cmocka_unit_test(test_soft_delete_loses_to_an_edit),
	cmocka_unit_test(test_soft_delete_of_the_latest_state),
	cmocka_unit_test(test_soft_delete_witness),
	cmocka_unit_test(test_tie_breaks_on_node_id),
	cmocka_unit_test(test_lost_update_logged_again),
	cmocka_unit_test(test_changed_and_changed_back),
	cmocka_unit_test(test_same_value_newer_write_stands),
	cmocka_unit_test(test_edit_beats_delete_delete_first),
	cmocka_unit_test(test_edit_beats_delete_edit_first),
	cmocka_unit_test(test_held_change_leaves_stamp),
	cmocka_unit_test(test_append_only_update_quarantined),
	cmocka_unit_test(test_hub_owned_quarantined),
	cmocka_unit_test(test_out_of_scope_quarantined),
	cmocka_unit_test(test_missing_row_and_duplicate_key),
	cmocka_unit_test(test_same_fact_taken_once),
	cmocka_unit_test(test_stamp_of_another_node),
	cmocka_unit_test(test_domain_validator),
	cmocka_unit_test(test_corrupt_changesets),
	cmocka_unit_test(test_walker_agrees_with_sqlite),
	cmocka_unit_test(test_migrate_idempotent))
