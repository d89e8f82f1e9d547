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
#include "faultutil.h"
#include "testutil.h"

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
	sync_scope sc = {"node-other", ft_office, ft_la};
	sync_snap_pos end;
	int64_t head0;

	snprintf(path, sizeof path, "%s/hub-pulled.db", ft_shared_dir);
	ft_fresh(ft_hub_tmpl, path);
	assert_int_equal(db_open(path, &db), 0);
	assert_int_equal(hub_node_get(db, FT_NODE_ID, &hn), DB_FOUND);
	/* The pull page: the pushed check-ins alone, after the demo data. */
	buf_init(&pull_page, SYNC_MAX_REPLY);
	assert_int_equal(sync_hub_pull(db, &sc, 0, 1, &pull_page, &pull_next, &head0, &more), 0);
	buf_release(&pull_page);
	for (int i = 0; i < ft_hub_frames.n; i++)
		assert_int_equal(ft_ingest(db, &hn, i), 200);
	buf_init(&pull_page, SYNC_MAX_REPLY);
	assert_int_equal(sync_hub_pull(db, &sc, head0, SYNC_MAX_PULL_ROWS, &pull_page, &pull_next,
				       &head, &more), 0);
	assert_int_equal(more, 0);
	buf_init(&snap_page, SYNC_MAX_REPLY);
	assert_int_equal(sync_hub_snapshot_page(db, &sc, NULL, 100000, SYNC_MAX_REPLY, &snap_page, &end,
						&snap_seq, &more), 0);
	assert_int_equal(more, 0);
	db_close(db);
	snprintf(node_tmpl, sizeof node_tmpl, "%s/node-template.db", ft_shared_dir);
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
	*ck = ft_count_of(db, "SELECT count(*) FROM checkins WHERE id LIKE 'pl-%'");
	*cursor = ft_count_of(db, "SELECT value FROM node_meta WHERE key='sync_cursor'");
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
	snprintf(path, sizeof path, "%s/node-pull.db", ft_shared_dir);
	for (int snapshot = 0; snapshot < 2; snapshot++) {
		sqlite3 *db;

		ft_fresh(node_tmpl, path);
		assert_int_equal(db_open(path, &db), 0);
		faultvfs_fail_at(FAULTVFS_NONE, 0);
		assert_int_equal(node_apply(db, snapshot), 0);
		node_state(db, &want[snapshot], &want_cursor[snapshot]);
		assert_int_equal(want[snapshot], FT_HUB_ENTRIES);
		db_close(db);
	}
	for (int snapshot = 0; snapshot < 2; snapshot++)
		for (int kind = FAULTVFS_WRITE; kind <= FAULTVFS_MALLOC; kind++)
			for (long n = 1;; n = next_pull_n(snapshot, kind, n)) {
				sqlite3 *db;
				int rc, fired;
				int64_t ck, cursor;

				ft_fresh(node_tmpl, path);
				assert_int_equal(db_open(path, &db), 0);
				faultvfs_fail_at((enum faultvfs_kind)kind, n);
				rc = node_apply(db, snapshot);
				fired = faultvfs_fired();
				node_state(db, &ck, &cursor);
				if ((rc == 0 && (ck != want[snapshot] || cursor != want_cursor[snapshot])) ||
				    !((ck == 0 && cursor == -1) ||
				      (ck == want[snapshot] && cursor == want_cursor[snapshot])))
					fail_msg("node %s, %s fault #%ld: apply %d, %lld of %lld check-ins, "
						 "cursor %lld", snapshot ? "snapshot" : "pull", ft_kind_name[kind],
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
	ft_tried("a node's apply of pulled pages", tried, 40);
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
	return cmocka_run_group_tests(tests, ft_hub_setup, ft_hub_teardown);
}
