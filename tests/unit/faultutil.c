/*
 * faultutil.c - the hub template, push frames and file copies shared by
 * test_powerloss.c and test_pullfault.c; see faultutil.h.
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
#include <unistd.h>

#include "lib/faultvfs.h"
#include "model/capture.h"
#include "model/schema.h"
#include "sync/frame.h"
#include "sync/sync.h"
#include "tests/unit/faultutil.h"
#include "tests/unit/testutil.h"

char ft_office[64], ft_la[64];
char *ft_shared_dir;
char ft_hub_tmpl[600];
ft_frames ft_hub_frames;
char ft_quarantined[512];
const char *ft_kind_name[] = {"none", "write", "sync", "full", "malloc"};

void ft_copy_file(const char *from, const char *to)
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

void ft_fresh(const char *tmpl, const char *path)
{
	char p[600];

	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	ft_copy_file(tmpl, path);
}

char *ft_checkin_sql(int k, const char *who, char *stamp, size_t n)
{
	snprintf(stamp, n, "%012llx.0000.%s", 1700000000000ULL + (unsigned)k, FT_NODE_ID);
	return sqlite3_mprintf("INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
			       " arrived_at, visit_date, updated_hlc) VALUES('pl-%05d', %Q, %Q,"
			       " '%q %d', 1700000000000, '2023-11-14', %Q)",
			       k, ft_office, ft_la, who, k, stamp);
}

void ft_node_template(const char *dir, char *tmpl, char *path)
{
	sqlite3 *db;

	snprintf(tmpl, 600, "%s/template.db", dir);
	snprintf(path, 600, "%s/node.db", dir);
	assert_int_equal(db_open(tmpl, &db), 0);
	assert_int_equal(schema_migrate(db), 0);
	assert_int_equal(capture_migrate(db), 0);
	assert_int_equal(db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	db_close(db);
}

/* Frames of 1-5 captured check-ins each, made the real way on a node. */
static void frames_make(ft_frames *fr)
{
	sqlite3 *node;
	sqlite3_stmt *st;
	frame_writer w;
	int in_frame = 0, want = 0;

	assert_int_equal(sqlite3_open(":memory:", &node), SQLITE_OK);
	assert_int_equal(schema_migrate(node), 0);
	assert_int_equal(capture_migrate(node), 0);
	for (int k = 0; k < FT_HUB_ENTRIES; k++) {
		capture c;
		char stamp[64], *sql;
		int64_t seq;

		sql = ft_checkin_sql(k, "Power Loss", stamp, sizeof stamp);
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

/* The hub template (demo office, the node enrolled) and the push frames. */
int ft_hub_setup(void **state)
{
	sqlite3 *db;
	char *sql;

	(void)state;
	ft_shared_dir = tu_tmpdir("powerloss");
	if (ft_shared_dir == NULL)
		return -1;
	snprintf(ft_hub_tmpl, sizeof ft_hub_tmpl, "%s/template.db", ft_shared_dir);
	if (db_open(ft_hub_tmpl, &db) != 0 || hub_migrate(db, 1) != 0 ||
	    db_text(db, "SELECT id FROM offices ORDER BY id LIMIT 1", NULL, ft_office, sizeof ft_office) != 0 ||
	    db_text(db, "SELECT local_area_id FROM offices WHERE id=?", ft_office, ft_la, sizeof ft_la) != 0)
		return -1;
	sql = sqlite3_mprintf("INSERT INTO nodes(id, office_id, local_area_id, secret_hex,"
			      " enrolled_at, schema_version) VALUES('" FT_NODE_ID "', %Q, %Q,"
			      " printf('%%064d', 0), 1, %d)", ft_office, ft_la, schema_version());
	if (db_exec(db, sql) != 0 || db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") != 0)
		return -1;
	sqlite3_free(sql);
	db_close(db); /* the template is one file: each round copies it alone */
	frames_make(&ft_hub_frames);
	return 0;
}

int ft_hub_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < ft_hub_frames.n; i++)
		buf_release(&ft_hub_frames.b[i]);
	tu_rmtree(ft_shared_dir);
	free(ft_shared_dir);
	return 0;
}

int ft_ingest(sqlite3 *db, const hub_node *hn, int frame)
{
	hub_ingest_result res;
	char *q;
	int status;

	hub_ingest(db, hn, ft_hub_frames.b[frame].data, ft_hub_frames.b[frame].len, &res);
	status = res.hi_status;
	q = res.hi_quarantined ? cJSON_PrintUnformatted(res.hi_quarantined) : NULL;
	snprintf(ft_quarantined, sizeof ft_quarantined, "%s", q ? q : "?");
	free(q);
	hub_ingest_release(&res);
	return status;
}

int64_t ft_count_of(sqlite3 *db, const char *sql)
{
	faultvfs_fail_at(FAULTVFS_NONE, 0);
	return db_int(db, sql, -1);
}

void ft_tried(const char *what, int tried, int least)
{
	print_message("%d failed operations tried in %s\n", tried, what);
	if (tried <= least)
		fail_msg("only %d failed operations tried in %s, expected more than %d", tried, what,
			 least);
}
