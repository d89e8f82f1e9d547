/*
 * test_pullfault.c - failed writes, syncs and allocations (and a full disk)
 * at every N while an office node applies what it pulled from the hub: a
 * pull page and a snapshot page, built by the hub's own code from pushes of
 * captured check-ins, applied on real database files through lib/faultvfs
 * (the same machinery as test_powerloss.c, in a binary of its own so each
 * keeps its time budget).  An applied page is all there with its cursor; a
 * failed one all there or none of it; the same page again, with nothing
 * failing, is applied whole.  OUTPOST_LONG=1 tries every N.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hub/hub.h"
#include "lib/db.h"
#include "lib/faultvfs.h"
#include "model/capture.h"
#include "model/schema.h"
#include "sync/frame.h"
#include "sync/sync.h"
#include "testutil.h"


#define HUB_ENTRIES 40
#define NODE_ID "node-pl"

static char office[64], la[64];

static void copy_file(const char *from, const char *to)
{
	char data[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	assert_true(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	while ((n = read(in, data, sizeof data)) > 0)
		assert_int_equal(write(out, data, (size_t)n), n);
	close(in);
	close(out);
}

static void fresh(const char *tmpl, const char *path)
{
	char p[600];

	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	copy_file(tmpl, path);
}

typedef struct frames {
	buf b[HUB_ENTRIES];
	int n;
} frames;

/* Frames of 1-5 captured check-ins each, made the real way on a node. */
static void frames_make(frames *fr)
{
	sqlite3 *node;
	sqlite3_stmt *st;
	frame_writer w;
	int in_frame = 0, want = 0;

	assert_int_equal(sqlite3_open(":memory:", &node), SQLITE_OK);
	assert_int_equal(schema_migrate(node), 0);
	assert_int_equal(capture_migrate(node), 0);
	for (int k = 0; k < HUB_ENTRIES; k++) {
		capture c;
		char stamp[64], *sql;
		int64_t seq;

		snprintf(stamp, sizeof stamp, "%012llx.0000.%s", 1700000000000ULL + (unsigned)k, NODE_ID);
		sql = sqlite3_mprintf("INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
				      " arrived_at, visit_date, updated_hlc) VALUES('pl-%05d', %Q, %Q,"
				      " 'Power Loss %d', 1700000000000, '2026-01-05', %Q)",
				      k, office, la, k, stamp);
		assert_int_equal(capture_begin(&c, node), 0);
		assert_int_equal(db_exec(node, sql), 0);
		assert_int_equal(capture_commit(&c, stamp, "staff-pl", &seq), 0);
		sqlite3_free(sql);
	}
	assert_int_equal(db_prepare(node, &st, "SELECT seq, hlc, actor, changeset FROM outbox ORDER BY seq"), 0);
	fr->n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		sync_entry e = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
				(const char *)sqlite3_column_text(st, 2), sqlite3_column_blob(st, 3),
				(size_t)sqlite3_column_bytes(st, 3)};

		if (!in_frame) {
			buf_init(&fr->b[fr->n], 1 << 22);
			frame_begin(&w, &fr->b[fr->n], (uint32_t)schema_version());
			in_frame = 1;
			want = 1 + fr->n % 5;
		}
		assert_int_equal(frame_add(&w, &e), 0);
		if (--want == 0) {
			assert_int_equal(frame_end(&w), 0);
			fr->n++;
			in_frame = 0;
		}
	}
	if (in_frame) {
		assert_int_equal(frame_end(&w), 0);
		fr->n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(node);
}

static char *shared_dir;
static char hub_tmpl[600];
static frames hub_frames;

/* The hub template (demo office, the node enrolled) and the push frames. */
static int hub_setup(void **state)
{
	sqlite3 *db;
	char *sql;

	(void)state;
	shared_dir = tu_tmpdir("powerloss");
	if (shared_dir == NULL)
		return -1;
	snprintf(hub_tmpl, sizeof hub_tmpl, "%s/template.db", shared_dir);
	if (db_open(hub_tmpl, &db) != 0 || hub_migrate(db, 1) != 0 ||
	    db_text(db, "SELECT id FROM offices ORDER BY id LIMIT 1", NULL, office, sizeof office) != 0 ||
	    db_text(db, "SELECT local_area_id FROM offices WHERE id=?", office, la, sizeof la) != 0)
		return -1;
	sql = sqlite3_mprintf("INSERT INTO nodes(id, office_id, local_area_id, secret_hex,"
			      " enrolled_at, schema_version) VALUES('" NODE_ID "', %Q, %Q,"
			      " printf('%%064d', 0), 1, %d)", office, la, schema_version());
	if (db_exec(db, sql) != 0 || db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") != 0)
		return -1;
	sqlite3_free(sql);
	db_close(db); /* the template is one file: each round copies it alone */
	frames_make(&hub_frames);
	return 0;
}

static int hub_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < hub_frames.n; i++)
		buf_release(&hub_frames.b[i]);
	tu_rmtree(shared_dir);
	free(shared_dir);
	return 0;
}

static const char *kind_name[] = {"none", "write", "sync", "full", "malloc"};
static int64_t count_of(sqlite3 *db, const char *sql)
{
	faultvfs_fail_at(FAULTVFS_NONE, 0);
	return db_int(db, sql, -1);
}

static char quarantined[512]; /* of the last ingest(), as JSON */

static int ingest(sqlite3 *db, const hub_node *hn, int frame)
{
	hub_ingest_result res;
	char *q;
	int status;

	hub_ingest(db, hn, hub_frames.b[frame].data, hub_frames.b[frame].len, &res);
	status = res.hi_status;
	q = res.hi_quarantined ? cJSON_PrintUnformatted(res.hi_quarantined) : NULL;
	snprintf(quarantined, sizeof quarantined, "%s", q ? q : "?");
	free(q);
	hub_ingest_release(&res);
	return status;
}

/* A pulled page of 40 check-ins takes a few thousand allocations to apply:
 * make test tries every 31st, OUTPOST_LONG every one.  A snapshot page (the
 * whole demo office, hundreds of pages written) is sampled: make test
 * tries N growing by half each time, OUTPOST_LONG every N (writes, syncs)
 * and every 7th allocation. */
static long pull_malloc_stride = 31;
static int snapshot_every;

static long next_pull_n(int snapshot, int kind, long n)
{
	if (snapshot && !snapshot_every)
		return n + n / 2 + 1;
	if (kind != FAULTVFS_MALLOC)
		return n + 1;
	return n + (snapshot ? 7 : pull_malloc_stride);
}

/* ---- failed writes, syncs and allocations in the node's apply of a pull ---------- */

/* The pages the other office of the same office pulls once the hub holds
 * every frame: one pull page (the change log after the demo office's own
 * entries: the 40 check-ins) and one whole snapshot page, built by the
 * hub's own code. */
static buf pull_page = BUF_INIT(0), snap_page = BUF_INIT(0);
static int64_t pull_next, snap_seq;
static char node_tmpl[700];

static void pages_make(void)
{
	char path[700];
	sqlite3 *db, *node;
	hub_node hn;
	int64_t head;
	int more;
	sync_scope sc = {"node-other", office, la};
	sync_snap_pos end;
	int64_t head0;

	snprintf(path, sizeof path, "%s/hub-pulled.db", shared_dir);
	fresh(hub_tmpl, path);
	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(hub_node_get(db, NODE_ID, &hn), DB_FOUND);
	/* The pull page: the pushed check-ins alone, after the demo data. */
	buf_init(&pull_page, SYNC_MAX_REPLY);
	assert_int_equal(sync_hub_pull(db, &sc, 0, 1, &pull_page, &pull_next, &head0, &more), 0);
	buf_release(&pull_page);
	for (int i = 0; i < hub_frames.n; i++)
		assert_int_equal(ingest(db, &hn, i), 200);
	buf_init(&pull_page, SYNC_MAX_REPLY);
	assert_int_equal(sync_hub_pull(db, &sc, head0, SYNC_MAX_PULL_ROWS, &pull_page, &pull_next,
				       &head, &more), 0);
	assert_int_equal(more, 0);
	buf_init(&snap_page, SYNC_MAX_REPLY);
	assert_int_equal(sync_hub_snapshot_page(db, &sc, NULL, 100000, SYNC_MAX_REPLY, &snap_page, &end,
						&snap_seq, &more), 0);
	assert_int_equal(more, 0);
	db_close(db);
	snprintf(node_tmpl, sizeof node_tmpl, "%s/node-template.db", shared_dir);
	assert_int_equal(db_open(node_tmpl, &node), 0);
	assert_int_equal(schema_migrate(node), 0);
	assert_int_equal(capture_migrate(node), 0);
	/* node_meta as node/node_state.c makes it (the node's own tables). */
	assert_int_equal(db_exec(node, "CREATE TABLE node_meta(key TEXT PRIMARY KEY NOT NULL, "
				       "value TEXT)"), 0);
	assert_int_equal(db_exec(node, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	db_close(node);
}

/* 0 when the page was applied, else what the apply returned. */
static int node_apply(sqlite3 *db, int snapshot)
{
	if (snapshot)
		return sync_node_apply_snapshot(db, snap_page.data, snap_page.len, snap_seq, NULL, NULL);
	return sync_node_apply_pull(db, pull_page.data, pull_page.len, pull_next);
}

/* The check-ins of the page the node holds and its cursor (-1: none). */
static void node_state(sqlite3 *db, int64_t *ck, int64_t *cursor)
{
	*ck = count_of(db, "SELECT count(*) FROM checkins WHERE id LIKE 'pl-%'");
	*cursor = count_of(db, "SELECT value FROM node_meta WHERE key='sync_cursor'");
}

/* Every N of every kind while a node applies a pull page, then a snapshot
 * page: applied (0) means every row and the cursor are there; a failure
 * leaves either all of it or none of it (the rows and the cursor together:
 * never a partial page), and the same page again, with nothing failing, is
 * applied whole - what the node's next sync cycle does. */
static void test_node_pull_io_faults(void **state)
{
	char path[700];
	int tried = 0;
	int64_t want[2] = {0, 0}, want_cursor[2];

	(void)state;
	pages_make();
	snprintf(path, sizeof path, "%s/node-pull.db", shared_dir);
	for (int snapshot = 0; snapshot < 2; snapshot++) {
		sqlite3 *db;

		fresh(node_tmpl, path);
		assert_int_equal(db_open(path, &db), 0);
		faultvfs_fail_at(FAULTVFS_NONE, 0);
		assert_int_equal(node_apply(db, snapshot), 0);
		node_state(db, &want[snapshot], &want_cursor[snapshot]);
		assert_int_equal(want[snapshot], HUB_ENTRIES);
		db_close(db);
	}
	for (int snapshot = 0; snapshot < 2; snapshot++)
		for (int kind = FAULTVFS_WRITE; kind <= FAULTVFS_MALLOC; kind++)
			for (long n = 1;; n = next_pull_n(snapshot, kind, n)) {
				sqlite3 *db;
				int rc, fired;
				int64_t ck, cursor;

				fresh(node_tmpl, path);
				assert_int_equal(db_open(path, &db), 0);
				faultvfs_fail_at((enum faultvfs_kind)kind, n);
				rc = node_apply(db, snapshot);
				fired = faultvfs_fired();
				node_state(db, &ck, &cursor);
				if ((rc == 0 && (ck != want[snapshot] || cursor != want_cursor[snapshot])) ||
				    !((ck == 0 && cursor == -1) ||
				      (ck == want[snapshot] && cursor == want_cursor[snapshot])))
					fail_msg("node %s, %s fault #%ld: apply %d, %lld of %lld check-ins, "
						 "cursor %lld", snapshot ? "snapshot" : "pull", kind_name[kind],
						 n, rc, (long long)ck, (long long)want[snapshot],
						 (long long)cursor);
				/* Recovery: the next cycle applies the page again. */
				assert_int_equal(node_apply(db, snapshot), 0);
				node_state(db, &ck, &cursor);
				assert_int_equal(ck, want[snapshot]);
				assert_int_equal(cursor, want_cursor[snapshot]);
				db_close(db);
				tried++;
				if (!fired)
					break;
			}
	print_message("%d failed operations tried in a node's apply of pulled pages\n", tried);
	assert_true(tried > 40);
	buf_release(&pull_page);
	buf_release(&snap_page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_node_pull_io_faults),
	};

	if (getenv("OUTPOST_LONG")) {
		pull_malloc_stride = 1;
		snapshot_every = 1;
	}
	if (access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	if (faultvfs_install() != 0) {
		fprintf(stderr, "cannot install the fault VFS\n");
		return 1;
	}
	tu_watchdog(getenv("OUTPOST_LONG") ? 7200 : 1200);
	return cmocka_run_group_tests(tests, hub_setup, hub_teardown);
}
