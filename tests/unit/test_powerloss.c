/*
 * test_powerloss.c - power cuts at every kind of instant in the node's
 * captured write path and the hub's apply of a push, on real database files
 * through lib/faultvfs (modelled on SQLite's src/test6.c).
 *
 * Each round copies a fresh database, forks, and the child runs the write
 * path until the K-th write, sync or truncation of the database or its WAL
 * (K drawn over a whole run), where the VFS cuts the power: every write not
 * yet synced is kept, dropped or torn at random, and the child ends.  It
 * reported each acknowledgement on a pipe as the daemon would answer it:
 *
 *   node  a batch of 1-3 captured check-ins commits with synchronous=NORMAL,
 *         the WAL is synced (the flusher thread's fdatasync), then the
 *         batch is acknowledged; passive checkpoints from a second
 *         connection and the bounded WAL's truncation (a small bound here)
 *         run as in node_commit.c;
 *   hub   hub_ingest() of push frames of 1-5 entries (synchronous=FULL),
 *         acknowledged with the acked seq it returns.
 *
 * The parent then opens what is left and requires: integrity_check ok;
 * every acknowledged write there; the node's outbox holding exactly one
 * entry per saved check-in, seqs without a gap; the hub's nodes.acked_seq
 * equal to the entries it holds (no partial batch) and at least the last
 * acknowledged one.  The failure tests (failed writes, syncs, allocations,
 * a full disk at every N) cover a captured write and the hub's apply of a
 * push; test_pullfault.c the node's apply of a pulled page.  OUTPOST_LONG=1 runs 3,000 and 2,000 rounds;
 * OUTPOST_POWERLOSS_SEED=N replays a run.
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

#define NODE_WRITES 24

static unsigned base_seed;
/* make test: enough cuts to catch an early acknowledgement (a few dozen
 * find it); OUTPOST_LONG: 3,000 and 2,000. */
static int rounds_node = 120, rounds_hub = 80;

/* ---- the node's captured write path ---------------------------------------------- */

static int wal_over;

static int node_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)arg;
	(void)name;
	if (db_wal_committed(db, frames))
		wal_over = 1;
	return SQLITE_OK;
}

/* Run the writes; each acknowledged count goes to fd (-1: none).  0 or -1. */
static int node_run(const char *path, int fd)
{
	sqlite3 *db = NULL, *ck = NULL;
	int done = 0, batch = 0;

	if (db_open(path, &db) != 0 || db_open(path, &ck) != 0)
		return -1;
	sqlite3_wal_hook(db, node_hook, NULL);
	while (done < NODE_WRITES) {
		int n = 1 + batch++ % 3;
		sqlite3_file *wal = NULL;

		if (db_exec(db, "PRAGMA synchronous=NORMAL") != 0 || db_exec(db, "BEGIN IMMEDIATE") != 0)
			return -1;
		for (int k = done; k < done + n; k++) {
			capture c;
			char stamp[64], *sql;
			int64_t seq;

			sql = ft_checkin_sql(k, "Power Loss", stamp, sizeof stamp);
			if (capture_begin(&c, db) != 0 || db_exec(db, sql) != 0 ||
			    capture_commit(&c, stamp, "staff-pl", &seq) != 0)
				return -1;
			sqlite3_free(sql);
		}
		if (db_exec(db, "COMMIT") != 0 || db_exec(db, "PRAGMA synchronous=FULL") != 0)
			return -1;
		if (wal_over) {
			wal_over = 0;
			db_wal_truncate(db, DB_WAL_BUSY_MS);
		}
		/* The flusher: the WAL synced before the batch is answered. */
		if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK ||
		    wal == NULL || wal->pMethods == NULL ||
		    wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) != SQLITE_OK)
			return -1;
		done += n;
		if (fd >= 0 && write(fd, &done, sizeof done) != sizeof done)
			return -1;
		if (batch % 4 == 0) {
			int lf, cf;
			sqlite3_wal_checkpoint_v2(ck, "main", SQLITE_CHECKPOINT_PASSIVE, &lf, &cf);
		}
	}
	db_close(ck);
	db_close(db);
	return 0;
}

static void node_check(const char *path, int acked, unsigned seed, long op)
{
	sqlite3 *db;
	char *ic;
	int64_t n, ob, lo, hi;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	ic = sqlite3_mprintf("%s", "?");
	{
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
		if (sqlite3_step(st) == SQLITE_ROW) {
			sqlite3_free(ic);
			ic = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
		}
		sqlite3_finalize(st);
	}
	n = db_int(db, "SELECT count(*) FROM checkins WHERE id LIKE 'pl-%'", -1);
	hi = db_int(db, "SELECT max(CAST(substr(id, 4) AS INTEGER)) FROM checkins WHERE id LIKE 'pl-%'", -1);
	ob = db_int(db, "SELECT count(*) FROM outbox", -1);
	lo = db_int(db, "SELECT max(seq) - min(seq) + 1 FROM outbox", 0);
	if (strcmp(ic, "ok") != 0 || n < acked || ob != n || (n > 0 && (hi != n - 1 || lo != ob)))
		fail_msg("node, seed %u, power cut at op %ld: integrity '%s', %lld check-ins "
			 "(%d acknowledged, highest %lld), %lld outbox entries (span %lld)",
			 seed, op, ic, (long long)n, acked, (long long)hi, (long long)ob, (long long)lo);
	sqlite3_free(ic);
	sqlite3_close(db);
}

/* ---- the hub's apply of a push ------------------------------------------------- */

static int hub_run(const char *path, const ft_frames *fr, int fd)
{
	sqlite3 *db = NULL;
	hub_node hn;

	if (db_open(path, &db) != 0 || hub_node_get(db, FT_NODE_ID, &hn) != DB_FOUND)
		return -1;
	for (int i = 0; i < fr->n; i++) {
		hub_ingest_result res;
		int acked;

		hub_ingest(db, &hn, fr->b[i].data, fr->b[i].len, &res);
		acked = (int)res.hi_acked_seq;
		hub_ingest_release(&res);
		if (res.hi_status != 200)
			return -1;
		if (fd >= 0 && write(fd, &acked, sizeof acked) != sizeof acked)
			return -1;
	}
	db_close(db);
	return 0;
}

static void hub_check(const char *path, int acked, unsigned seed, long op)
{
	sqlite3 *db;
	char ic[64];
	int64_t n, seq;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (db_text(db, "PRAGMA integrity_check", NULL, ic, sizeof ic) != 0)
		snprintf(ic, sizeof ic, "(unreadable)");
	n = db_int(db, "SELECT count(*) FROM checkins WHERE id LIKE 'pl-%'", -1);
	seq = db_int(db, "SELECT acked_seq FROM nodes WHERE id='" FT_NODE_ID "'", -1);
	if (strcmp(ic, "ok") != 0 || seq < acked || n != seq)
		fail_msg("hub, seed %u, power cut at op %ld: integrity '%s', acked_seq %lld "
			 "(%d acknowledged), %lld check-ins applied",
			 seed, op, ic, (long long)seq, acked, (long long)n);
	sqlite3_close(db);
}

/* ---- the rounds ---------------------------------------------------------------- */

typedef int (*run_fn)(const char *path, const void *arg, int fd);

static int node_run_fn(const char *path, const void *arg, int fd)
{
	(void)arg;
	return node_run(path, fd);
}

static int hub_run_fn(const char *path, const void *arg, int fd)
{
	return hub_run(path, arg, fd);
}

/* Count a whole run's operations, then cut the power at random ones. */
static void rounds(const char *tmpl, const char *path, run_fn run, const void *arg, int n,
		   void (*check)(const char *, int, unsigned, long))
{
	long total;
	int cuts = 0;

	ft_fresh(tmpl, path);
	faultvfs_crash_at(0, 1);
	assert_int_equal(run(path, arg, -1), 0);
	total = faultvfs_ops();
	assert_true(total > 10);
	for (int r = 0; r < n; r++) {
		unsigned seed = base_seed + (unsigned)r;
		long op = 1 + (long)(((unsigned long)seed * 2654435761u) % (unsigned long)total);
		int fds[2], acked = 0, v, status;
		pid_t pid;

		ft_fresh(tmpl, path);
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			faultvfs_crash_at(op, seed);
			_exit(run(path, arg, fds[1]) == 0 ? 3 : 4);
		}
		close(fds[1]);
		while (read(fds[0], &v, sizeof v) == sizeof v)
			acked = v;
		close(fds[0]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 4)
			fail_msg("seed %u: the run failed before its power cut at op %ld", seed, op);
		cuts += WEXITSTATUS(status) == 0;
		check(path, acked, seed, op);
	}
	print_message("%d power cuts over %ld operations (seed %u)\n", cuts, total, base_seed);
	assert_true(cuts > n / 2);
}

static void test_node_capture(void **state)
{
	char *dir = tu_tmpdir("powerloss"), tmpl[600], path[600];

	(void)state;
	ft_node_template(dir, tmpl, path);
	rounds(tmpl, path, node_run_fn, NULL, rounds_node, node_check);
	tu_rmtree(dir);
	free(dir);
}


static void test_hub_apply(void **state)
{
	char path[700];

	(void)state;
	snprintf(path, sizeof path, "%s/hub.db", ft_shared_dir);
	rounds(ft_hub_tmpl, path, hub_run_fn, &ft_hub_frames, rounds_hub, hub_check);
}

/* ---- failed writes, syncs and allocations -------------------------------------- */

/* Allocations are many (hundreds in a push): make test tries every
 * malloc_stride-th, OUTPOST_LONG every one. */
static long malloc_stride = 7;

static long next_n(int kind, long n)
{
	return kind == FAULTVFS_MALLOC ? n + malloc_stride : n + 1;
}

/* One node batch of 3 captured check-ins from id k on, as node_commit.c
 * makes it; 0 acknowledged, -1 refused. */
static int node_batch(sqlite3 *db, int k)
{
	sqlite3_file *wal = NULL;
	int ret = -1;

	if (db_exec(db, "PRAGMA synchronous=NORMAL") != 0 || db_exec(db, "BEGIN IMMEDIATE") != 0)
		goto out;
	for (int j = k; j < k + 3; j++) {
		capture c;
		char stamp[64], *sql;
		int64_t seq;
		int rc;

		sql = ft_checkin_sql(j, "IO Fault", stamp, sizeof stamp);
		if (sql == NULL || capture_begin(&c, db) != 0) {
			sqlite3_free(sql);
			goto rollback;
		}
		rc = db_exec(db, sql);
		sqlite3_free(sql);
		if (rc != 0) {
			capture_abort(&c);
			goto rollback;
		}
		if (capture_commit(&c, stamp, "staff-io", &seq) != 0)
			goto rollback;
	}
	if (db_exec(db, "COMMIT") != 0)
		goto rollback;
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) == SQLITE_OK &&
	    wal && wal->pMethods && wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL) == SQLITE_OK)
		ret = 0;
	goto out;
rollback:
	db_exec(db, "ROLLBACK");
out:
	db_exec(db, "PRAGMA synchronous=FULL");
	return ret;
}

/* Every N of every kind in a captured write: an acknowledged batch is all
 * there, a refused one all there or all absent (never part of it), and the
 * next batch, with nothing failing, is saved. */
static void test_node_capture_io_faults(void **state)
{
	char *dir = tu_tmpdir("iofault"), tmpl[600], path[600];
	sqlite3 *db;
	int tried = 0;

	(void)state;
	ft_node_template(dir, tmpl, path);
	for (int kind = FAULTVFS_WRITE; kind <= FAULTVFS_MALLOC; kind++)
		for (long n = 1;; n = next_n(kind, n)) {
			int rc, fired;
			int64_t ck, ob;

			ft_fresh(tmpl, path);
			assert_int_equal(db_open(path, &db), 0);
			faultvfs_fail_at((enum faultvfs_kind)kind, n);
			rc = node_batch(db, 0);
			fired = faultvfs_fired();
			ck = ft_count_of(db, "SELECT count(*) FROM checkins WHERE id LIKE 'pl-%'");
			ob = ft_count_of(db, "SELECT count(*) FROM outbox");
			if ((rc == 0 && ck != 3) || (ck != 0 && ck != 3) || ob != ck)
				fail_msg("node, %s fault #%ld: batch %s, %lld of 3 check-ins, %lld outbox "
					 "entries", ft_kind_name[kind], n, rc == 0 ? "acknowledged" : "refused",
					 (long long)ck, (long long)ob);
			/* Recovery: the next batch goes through. */
			assert_int_equal(node_batch(db, 3), 0);
			assert_int_equal(ft_count_of(db, "SELECT count(*) FROM checkins WHERE id LIKE 'pl-%'"),
					 ck + 3);
			db_close(db);
			tried++;
			if (!fired)
				break; /* n passed the last operation of this kind */
		}
	ft_tried("a captured write", tried, 20);
	tu_rmtree(dir);
	free(dir);
}


/* Every N of every kind in a push the hub applies (frame 2: seqs 4-6, after
 * frames 0 and 1): 200 means all three are there; otherwise acked_seq and
 * the entries applied agree (no partial batch) and a full disk says 507;
 * the same push again, with nothing failing, is applied whole. */
static void test_hub_apply_io_faults(void **state)
{
	char path[700];
	int tried = 0;

	(void)state;
	snprintf(path, sizeof path, "%s/hub-io.db", ft_shared_dir);
	for (int kind = FAULTVFS_WRITE; kind <= FAULTVFS_MALLOC; kind++)
		for (long n = 1;; n = next_n(kind, n)) {
			sqlite3 *db;
			hub_node hn;
			int fired, status;
			int64_t seq, ck;

			ft_fresh(ft_hub_tmpl, path);
			assert_int_equal(db_open(path, &db), 0);
			assert_int_equal(hub_node_get(db, FT_NODE_ID, &hn), DB_FOUND);
			assert_int_equal(ft_ingest(db, &hn, 0), 200);
			assert_int_equal(ft_ingest(db, &hn, 1), 200);
			faultvfs_fail_at((enum faultvfs_kind)kind, n);
			status = ft_ingest(db, &hn, 2);
			fired = faultvfs_fired();
			seq = ft_count_of(db, "SELECT acked_seq FROM nodes WHERE id='" FT_NODE_ID "'");
			ck = ft_count_of(db, "SELECT count(*) FROM checkins WHERE id LIKE 'pl-%'");
			if ((status == 200 && ck != 6) || (ck != 3 && ck != 6) || seq != ck)
				fail_msg("hub, %s fault #%ld: status %d, acked_seq %lld, %lld check-ins, "
					 "quarantined %s", ft_kind_name[kind], n, status, (long long)seq,
					 (long long)ck, ft_quarantined);
			if (status != 200 && status / 100 != 5)
				fail_msg("hub, %s fault #%ld: status %d", ft_kind_name[kind], n, status);
			if (kind == FAULTVFS_FULL && fired && ck == 3 && status != 507)
				fail_msg("hub, a full disk at write #%ld answered %d, not 507", n, status);
			/* Recovery: the node sends the push again. */
			assert_int_equal(ft_ingest(db, &hn, 2), 200);
			assert_int_equal(ft_count_of(db, "SELECT count(*) FROM checkins WHERE id LIKE 'pl-%'"), 6);
			db_close(db);
			tried++;
			if (!fired)
				break;
		}
	ft_tried("a push", tried, 20);
}

/* ---- two writers of one node's entries ------------------------------------- */

/* A push of more than one bounded transaction meets another ingest of the
 * same entries (`outpost-hub import` in its own process beside the node's
 * push) between a COMMIT and the next BEGIN: what the other took is skipped
 * as a replay, never applied a second time.  The WAL hook runs right after
 * the first COMMIT, the write lock released. */
static struct {
	sqlite3 *db;
	const hub_node *hn;
	const buf *frame;
	int fired, status, applied;
} beside;

static int ingest_beside(void *arg, sqlite3 *db, const char *name, int pages)
{
	hub_ingest_result res;

	(void)arg, (void)db, (void)name, (void)pages;
	if (beside.fired++)
		return SQLITE_OK;
	hub_ingest(beside.db, beside.hn, beside.frame->data, beside.frame->len, &res);
	beside.status = res.hi_status;
	beside.applied = res.hi_applied;
	hub_ingest_release(&res);
	return SQLITE_OK;
}

static void test_hub_ingest_beside_another(void **state)
{
	enum { N = HUB_TXN_MAX_ENTRIES + 200 };
	char path[700];
	sqlite3 *node, *a, *b;
	sqlite3_stmt *st;
	frame_writer w;
	hub_ingest_result res;
	hub_node hn;
	buf fr;

	(void)state;
	/* one frame of N captured check-ins */
	assert_int_equal(sqlite3_open(":memory:", &node), SQLITE_OK);
	assert_int_equal(schema_migrate(node), 0);
	assert_int_equal(capture_migrate(node), 0);
	for (int k = 0; k < N; k++) {
		capture c;
		char stamp[64], *sql = ft_checkin_sql(100000 + k, "Beside", stamp, sizeof stamp);
		int64_t seq;

		assert_int_equal(capture_begin(&c, node), 0);
		assert_int_equal(db_exec(node, sql), 0);
		assert_int_equal(capture_commit(&c, stamp, "staff-pl", &seq), 0);
		sqlite3_free(sql);
	}
	buf_init(&fr, 1 << 24);
	frame_begin(&w, &fr, (uint32_t)schema_version());
	assert_int_equal(db_prepare(node, &st, "SELECT seq, hlc, actor, changeset FROM outbox ORDER BY seq"), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sync_entry e = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
				(const char *)sqlite3_column_text(st, 2), sqlite3_column_blob(st, 3),
				(size_t)sqlite3_column_bytes(st, 3)};
		assert_int_equal(frame_add(&w, &e), 0);
	}
	sqlite3_finalize(st);
	assert_int_equal(frame_end(&w), 0);
	sqlite3_close(node);

	snprintf(path, sizeof path, "%s/beside.db", ft_shared_dir);
	ft_fresh(ft_hub_tmpl, path);
	assert_int_equal(db_open(path, &a), 0);
	assert_int_equal(db_open(path, &b), 0);
	assert_int_equal(hub_node_get(a, FT_NODE_ID, &hn), DB_FOUND);
	beside.db = b;
	beside.hn = &hn;
	beside.frame = &fr;
	sqlite3_wal_hook(a, ingest_beside, NULL);
	hub_ingest(a, &hn, fr.data, fr.len, &res);
	/* the other ingest ran after the first bounded COMMIT and took the rest */
	assert_int_equal(beside.fired > 0, 1);
	assert_int_equal(beside.status, 200);
	assert_int_equal(beside.applied, N - HUB_TXN_MAX_ENTRIES);
	assert_int_equal(res.hi_status, 200);
	assert_int_equal(res.hi_applied, HUB_TXN_MAX_ENTRIES);
	assert_int_equal(res.hi_skipped, N - HUB_TXN_MAX_ENTRIES);
	assert_int_equal(cJSON_GetArraySize(res.hi_quarantined), 0);
	hub_ingest_release(&res);
	assert_int_equal(db_int(a, "SELECT count(*) FROM checkins WHERE visitor_name LIKE 'Beside %'", -1), N);
	assert_int_equal(db_int(a, "SELECT count(*) FROM quarantine", -1), 0);
	assert_int_equal(db_int(a, "SELECT count(*) FROM conflicts", -1), 0);
	assert_int_equal(db_int(a, "SELECT acked_seq FROM nodes WHERE id='" FT_NODE_ID "'", -1), N);
	db_close(b);
	db_close(a);
	buf_release(&fr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hub_apply),
	    cmocka_unit_test(test_hub_apply_io_faults),
	    cmocka_unit_test(test_hub_ingest_beside_another),
	    cmocka_unit_test(test_node_capture),
	    cmocka_unit_test(test_node_capture_io_faults),
	};
	const char *s = getenv("OUTPOST_POWERLOSS_SEED");

	base_seed = s && *s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
	if (getenv("OUTPOST_POWERLOSS_ROUNDS")) {
		rounds_node = rounds_hub = atoi(getenv("OUTPOST_POWERLOSS_ROUNDS"));
	} else if (getenv("OUTPOST_LONG")) {
		rounds_node = 3000;
		rounds_hub = 2000;
		malloc_stride = 1;
	}
	/* Memory-backed files when there are: every round copies a database. */
	if (access("/dev/shm", W_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	/* A small WAL bound: its truncations happen inside every run. */
	setenv("OUTPOST_TEST_HOOKS_WAL_BYTES", "65536", 1);
	if (faultvfs_install() != 0) {
		fprintf(stderr, "cannot install the fault VFS\n");
		return 1;
	}
	tu_watchdog(getenv("OUTPOST_LONG") ? 7200 : 1200); /* a loaded machine: minutes */
	return cmocka_run_group_tests(tests, ft_hub_setup, ft_hub_teardown);
}
