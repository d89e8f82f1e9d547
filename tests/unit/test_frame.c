/*
 * test_frame.c - the push batch frame (sync/frame.c): round trips, and every
 * kind of damage refused before an entry is used: truncation at every
 * length, any flipped byte, a bad checksum, non-increasing seqs, lengths out
 * of range and trailing bytes.  The writer refuses what the reader would.
 * Push batches cut from an outbox (sync__outbox_frame): bounded by
 * SYNC_MAX_BATCH_BYTES, yet an entry larger than that goes alone, and one
 * larger than SYNC_MAX_CHANGESET is reported instead of sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <mbedtls/sha256.h>

#include "lib/crypto.h"
#include "model/capture.h"
#include "model/schema.h"
#include "sync/changeset.h"
#include "sync/client.h"
#include "sync/frame.h"
#include "testutil.h"

static void build3(buf *out)
{
	frame_writer w;
	static const unsigned char cs1[] = {1, 2, 3}, cs2[] = {'T', 0, 9}, cs3[300] = {7};
	sync_entry e1 = {5, "000000000001.0000.n1", "staff-1", cs1, sizeof cs1};
	sync_entry e2 = {6, "000000000002.0000.n1", NULL, cs2, sizeof cs2};
	sync_entry e3 = {9, "000000000003.0001.n1", "s", cs3, sizeof cs3};

	frame_begin(&w, out, 42);
	assert_int_equal(frame_add(&w, &e1), 0);
	assert_int_equal(frame_add(&w, &e2), 0);
	assert_int_equal(frame_add(&w, &e3), 0);
	assert_int_equal(frame_end(&w), 0);
}

static void test_round_trip(void **state)
{
	buf out = BUF_INIT(1 << 20);
	frame_reader r;
	sync_entry e;
	const char *err = NULL;

	(void)state;
	build3(&out);
	assert_int_equal(frame_open(&r, out.data, out.len, &err), 0);
	assert_int_equal(r.fr_schema, 42);
	assert_int_equal(r.fr_count, 3);
	assert_int_equal(frame_next(&r, &e, &err), 1);
	assert_int_equal(e.seq, 5);
	assert_string_equal(e.hlc, "000000000001.0000.n1");
	assert_string_equal(e.actor, "staff-1");
	assert_int_equal(e.len, 3);
	assert_memory_equal(e.changeset, "\x01\x02\x03", 3);
	assert_int_equal(frame_next(&r, &e, &err), 1);
	assert_int_equal(e.seq, 6);
	assert_null(e.actor);
	assert_int_equal(e.len, 3);
	assert_int_equal(frame_next(&r, &e, &err), 1);
	assert_int_equal(e.seq, 9);
	assert_int_equal(e.len, 300);
	assert_int_equal(((const unsigned char *)e.changeset)[0], 7);
	/* entries point into the caller's buffer */
	assert_true((const char *)e.changeset > out.data &&
		    (const char *)e.changeset < out.data + out.len);
	assert_int_equal(frame_next(&r, &e, &err), 0);
	assert_int_equal(frame_next(&r, &e, &err), 0);
	buf_release(&out);
}

static void test_empty_frame(void **state)
{
	buf out = BUF_INIT(1024);
	frame_writer w;
	frame_reader r;
	sync_entry e;
	const char *err;

	(void)state;
	frame_begin(&w, &out, 1);
	assert_int_equal(frame_end(&w), 0);
	assert_int_equal(out.len, 12 + 32);
	assert_int_equal(frame_open(&r, out.data, out.len, &err), 0);
	assert_int_equal(frame_next(&r, &e, &err), 0);
	buf_release(&out);
}

/* Fixture of the damage tests: *state is build3's frame (a buf). */
static int frame3_setup(void **state)
{
	buf *out = malloc(sizeof *out);

	if (out == NULL)
		return -1;
	*out = (buf)BUF_INIT(1 << 20);
	build3(out);
	*state = out;
	return 0;
}

static int frame3_teardown(void **state)
{
	buf_release(*state);
	free(*state);
	return 0;
}

static void test_truncated(void **state)
{
	const buf *out = *state;
	frame_reader r;
	const char *err;

	for (size_t n = 0; n < out->len; n++) {
		/* a copy of exactly n bytes, so ASan sees any read past it */
		unsigned char *p = malloc(n ? n : 1);
		assert_non_null(p);
		memcpy(p, out->data, n);
		err = NULL;
		assert_int_equal(frame_open(&r, p, n, &err), -1);
		assert_non_null(err);
		free(p);
	}
}

static void test_corrupted_any_byte(void **state)
{
	buf *out = *state;
	frame_reader r;
	const char *err;

	for (size_t i = 0; i < out->len; i++) {
		out->data[i] ^= 0x20;
		assert_int_equal(frame_open(&r, out->data, out->len, &err), -1);
		out->data[i] ^= 0x20;
	}
	assert_int_equal(frame_open(&r, out->data, out->len, &err), 0);
}

/* Raw frames with a correct checksum, to reach the structural checks. */
static size_t seal(unsigned char *p, size_t n)
{
	assert_int_equal(mbedtls_sha256_ret(p, n, p + n, 0), 0);
	return n + 32;
}

static size_t put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

static size_t put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return 4;
}

static size_t entry(unsigned char *p, uint64_t seq, const char *hlc, unsigned hlen, uint32_t clen,
		    size_t cbytes)
{
	size_t n = 0;

	n += put32(p + n, (uint32_t)(seq >> 32));
	n += put32(p + n, (uint32_t)seq);
	n += put16(p + n, hlen);
	memcpy(p + n, hlc, hlen);
	n += hlen;
	n += put16(p + n, 0);
	n += put32(p + n, clen);
	memset(p + n, 'x', cbytes);
	return n + cbytes;
}

static size_t head(unsigned char *p, uint32_t count)
{
	memcpy(p, "OPB1", 4);
	put32(p + 4, 1);
	put32(p + 8, count);
	return 12;
}

static int open_raw(const unsigned char *p, size_t n, const char **err)
{
	frame_reader r;

	*err = NULL;
	return frame_open(&r, p, n, err);
}

#define A13 "aaaaaaaaaaaaa"
#define H65 A13 A13 A13 A13 A13 /* an HLC of 65 bytes, one over the limit */

/* Raw frames of up to two entries and what the reader makes of them. */
static const struct raw_case {
	const char *what;
	uint32_t count; /* in the head */
	int nent;
	struct {
		uint64_t seq;
		const char *hlc;
		unsigned hlen;
		uint32_t clen;  /* the changeset length the entry declares */
		size_t cbytes;  /* the changeset bytes present */
	} ent[2];
	int want;        /* frame_open's result */
	const char *err; /* its message, where the case pins it */
} raw_cases[] = {
	{"a valid two-entry frame, to show the builder is right", 2, 2,
	 {{1, "h", 1, 2, 2}, {2, "h", 1, 2, 2}}, 0, NULL},
	{"seq not increasing", 2, 2, {{2, "h", 1, 2, 2}, {2, "h", 1, 2, 2}}, -1,
	 "entry seq not increasing"},
	{"seq zero", 1, 1, {{0, "h", 1, 2, 2}}, -1, NULL},
	{"seq beyond int64", 1, 1, {{UINT64_MAX, "h", 1, 2, 2}}, -1, NULL},
	{"hlc length 0", 1, 1, {{1, "", 0, 2, 2}}, -1, NULL},
	{"hlc length 65", 1, 1, {{1, H65, 65, 2, 2}}, -1, NULL},
	{"hlc with a NUL or control byte", 1, 1, {{1, "a\0b", 3, 2, 2}}, -1, NULL},
	{"changeset length 0", 1, 1, {{1, "h", 1, 0, 0}}, -1, NULL},
	{"changeset larger than the cap", 1, 1, {{1, "h", 1, SYNC_MAX_CHANGESET + 1, 2}}, -1, NULL},
	{"changeset larger than what remains", 1, 1, {{1, "h", 1, 100, 20}}, -1, NULL},
	{"trailing bytes after the counted entries", 1, 2, {{1, "h", 1, 2, 2}, {2, "h", 1, 2, 2}},
	 -1, "trailing bytes after the last entry"},
	{"count larger than the entries present", 3, 2, {{1, "h", 1, 2, 2}, {2, "h", 1, 2, 2}}, -1,
	 NULL},
	{"count above the maximum", SYNC_FRAME_MAX_ENTRIES + 1, 0, {{0}}, -1, NULL},
};

static void test_structure_refused(void **state)
{
	static unsigned char p[4096];
	const char *err;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof raw_cases / sizeof raw_cases[0]; i++) {
		const struct raw_case *c = &raw_cases[i];
		int rc;

		n = head(p, c->count);
		for (int k = 0; k < c->nent; k++)
			n += entry(p + n, c->ent[k].seq, c->ent[k].hlc, c->ent[k].hlen, c->ent[k].clen,
				   c->ent[k].cbytes);
		rc = open_raw(p, seal(p, n), &err);
		if (rc != c->want)
			fail_msg("%s: frame_open %d, expected %d (%s)", c->what, rc, c->want,
				 err ? err : "no error");
		if (c->err && (err == NULL || strcmp(err, c->err) != 0))
			fail_msg("%s: error \"%s\", expected \"%s\"", c->what, err ? err : "(none)",
				 c->err);
	}
	/* bad magic with a good checksum */
	n = head(p, 0);
	p[0] = 'X';
	assert_int_equal(open_raw(p, seal(p, n), &err), -1);
	assert_string_equal(err, "bad frame magic");
	/* checksum mismatch on an otherwise valid frame */
	n = head(p, 1);
	n += entry(p + n, 1, "h", 1, 2, 2);
	n = seal(p, n);
	p[n - 1] ^= 1;
	assert_int_equal(open_raw(p, n, &err), -1);
	assert_non_null(strstr(err, "checksum"));
}

static void test_writer_limits(void **state)
{
	buf out = BUF_INIT(200);
	frame_writer w;
	frame_reader r;
	sync_entry e;
	static const unsigned char big[150] = {1}, small[10] = {2};
	sync_entry eb = {1, "h1", NULL, big, sizeof big};
	sync_entry es = {2, "h2", NULL, small, sizeof small};
	sync_entry back = {2, "h3", NULL, small, sizeof small};
	sync_entry nohlc = {3, "", NULL, small, sizeof small};
	const char *err;

	(void)state;
	frame_begin(&w, &out, 7);
	/* 12 head + 18 + 150 + 32 sum > 200: does not fit, frame stays valid */
	assert_int_equal(frame_add(&w, &eb), -1);
	assert_int_equal(frame_add(&w, &es), 0);
	assert_int_equal(frame_add(&w, &back), -1); /* seq must increase */
	assert_int_equal(frame_add(&w, &nohlc), -1);
	assert_int_equal(frame_end(&w), 0);
	assert_true(out.len <= out.max);
	assert_int_equal(frame_open(&r, out.data, out.len, &err), 0);
	assert_int_equal(r.fr_count, 1);
	assert_int_equal(frame_next(&r, &e, &err), 1);
	assert_int_equal(e.seq, 2);
	assert_int_equal(frame_next(&r, &e, &err), 0);
	buf_release(&out);

	/* a buffer too small for even an empty frame */
	buf_init(&out, 20);
	frame_begin(&w, &out, 7);
	assert_int_equal(frame_add(&w, &es), -1);
	assert_int_equal(frame_end(&w), -1);
	buf_release(&out);
}

/* One outbox row with a changeset of n bytes (its content does not matter to
 * the frame). */
static void outbox_put(sqlite3 *db, size_t n)
{
	sqlite3_stmt *st;
	void *p = calloc(1, n);

	assert_non_null(p);
	assert_int_equal(db_prepare(db, &st, "INSERT INTO outbox(hlc, actor, created_at,"
					     " schema_version, nbytes, changeset) VALUES"
					     "('000000000001.0000.n1', 'staff', 1, 7, ?1, ?2)"), 0);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	sqlite3_bind_blob(st, 2, p, (int)n, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	free(p);
}

/* The next push batch after `after`: its entry count, first local seq and
 * size; the frame must open. */
static int64_t next_batch(sqlite3 *db, int64_t after, int64_t *first, size_t *len)
{
	buf out = BUF_INIT(SYNC_MAX_PUSH_FRAME);
	int64_t last, count;
	frame_reader r;
	const char *err = NULL;

	assert_int_equal(sync__outbox_frame(db, after, 0, &out, SYNC_MAX_BATCH_BYTES, first, &last,
					    &count), 0);
	*len = out.len;
	if (count > 0) {
		assert_int_equal(frame_open(&r, out.data, out.len, &err), 0);
		assert_int_equal(r.fr_count, count);
		assert_int_equal(last - *first + 1, count);
	}
	buf_release(&out);
	return count;
}

static void test_outbox_batches(void **state)
{
	const size_t k = 1024, m = 1024 * 1024;
	sqlite3 *db;
	int64_t first, last, count;
	size_t len;
	buf out = BUF_INIT(SYNC_MAX_PUSH_FRAME);

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(capture_migrate(db), 0);
	outbox_put(db, k);       /* 1 */
	outbox_put(db, 5 * m);   /* 2: larger than a batch */
	outbox_put(db, k);       /* 3 */
	outbox_put(db, 3 * m);   /* 4 */
	outbox_put(db, 3 * m);   /* 5 */
	outbox_put(db, 9 * m);   /* 6: larger than any entry may be */
	/* The small entry goes alone: the next one would pass the bound. */
	assert_int_equal(next_batch(db, 0, &first, &len), 1);
	assert_int_equal(first, 1);
	/* An entry larger than the batch bound is a batch of its own. */
	assert_int_equal(next_batch(db, 1, &first, &len), 1);
	assert_int_equal(first, 2);
	assert_true(len > SYNC_MAX_BATCH_BYTES);
	assert_true(len <= SYNC_MAX_PUSH_FRAME);
	/* 1 KiB + 3 MiB fit one batch; the second 3 MiB does not. */
	assert_int_equal(next_batch(db, 2, &first, &len), 2);
	assert_int_equal(first, 3);
	assert_true(len <= SYNC_MAX_BATCH_BYTES);
	assert_int_equal(next_batch(db, 4, &first, &len), 1);
	assert_int_equal(first, 5);
	/* Beyond SYNC_MAX_CHANGESET: reported, never cut or sent. */
	assert_int_equal(sync__outbox_frame(db, 5, 0, &out, SYNC_MAX_BATCH_BYTES, &first, &last,
					    &count), 1);
	assert_int_equal(first, 6);
	assert_int_equal(db_exec(db, "DELETE FROM outbox WHERE seq = 6"), 0);
	assert_int_equal(next_batch(db, 5, &first, &len), 0);
	/* Without a target (a bundle) the frame takes what fits out->max. */
	buf_reset(&out);
	assert_int_equal(sync__outbox_frame(db, 2, 0, &out, 0, &first, &last, &count), 0);
	assert_int_equal(count, 3); /* 3, 4 and 5: past the batch bound, within out->max */
	buf_release(&out);
	sqlite3_close(db);
}

/* A changeset of t as db has it, of the statements in sql. */
static void record(sqlite3 *db, const char *sql, buf *out)
{
	sqlite3_session *ses;
	void *cs;
	int n;

	assert_int_equal(sqlite3session_create(db, "main", &ses), SQLITE_OK);
	assert_int_equal(sqlite3session_attach(ses, "t"), SQLITE_OK);
	assert_int_equal(db_exec(db, sql), 0);
	assert_int_equal(sqlite3session_changeset(ses, &n, &cs), SQLITE_OK);
	buf_reset(out);
	buf_put_bytes(out, cs, (size_t)n, &(int){0});
	sqlite3_free(cs);
	sqlite3session_delete(ses);
}

static int abort_on_conflict(void *arg, int why, sqlite3_changeset_iter *it)
{
	(void)it;
	(*(int *)arg)++;
	return why == SQLITE_CHANGESET_DATA || why == SQLITE_CHANGESET_NOTFOUND ||
			       why == SQLITE_CHANGESET_CONFLICT
		       ? SQLITE_CHANGESET_ABORT
		       : SQLITE_CHANGESET_OMIT;
}

/*
 * An outbox entry written before an upgrade that added columns goes in the
 * shape the tables have now, at the database's schema version: an INSERT
 * and a DELETE with the added columns at their defaults, an UPDATE with
 * them untouched - so the upgraded hub applies it as SQLite applies a
 * changeset of today's table (before, it kept its old version, which the
 * hub refuses for ever).
 */
static void test_outbox_upgrade(void **state)
{
	sqlite3 *old, *db, *peer;
	buf cs = BUF_INIT(1 << 20), up = BUF_INIT(1 << 20), out = BUF_INIT(SYNC_MAX_PUSH_FRAME);
	const char *err = NULL;
	int64_t first, last, count;
	int conflicts = 0, ver;
	frame_reader r;
	sync_entry e;
	cs_iter it;
	static const char now[] = "CREATE TABLE t(id TEXT PRIMARY KEY, a TEXT, b TEXT DEFAULT 'x',"
				  " c INTEGER NOT NULL DEFAULT 7)";

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &old), SQLITE_OK);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_open(":memory:", &peer), SQLITE_OK);
	assert_int_equal(db_exec(old, "CREATE TABLE t(id TEXT PRIMARY KEY, a TEXT)"), 0);
	assert_int_equal(db_exec(db, now), 0);
	assert_int_equal(db_exec(peer, now), 0);
	/* the insert: the added columns at their defaults */
	record(old, "INSERT INTO t VALUES('r1', 'one')", &cs);
	assert_int_equal(changeset_upgrade(db, cs.data, cs.len, &up, &err), 0);
	changeset_iter_init(&it, up.data, up.len);
	assert_int_equal(changeset_next(&it, &err), 1);
	assert_int_equal(it.ci_ncol, 4);
	changeset_iter_release(&it);
	assert_int_equal(sqlite3changeset_apply(peer, (int)up.len, up.data, NULL, abort_on_conflict,
						&conflicts), SQLITE_OK);
	assert_int_equal(db_exec(peer, "UPDATE t SET b='kept' WHERE id='r1'"), 0);
	/* an update leaves them as they are */
	record(old, "UPDATE t SET a='uno' WHERE id='r1'", &cs);
	assert_int_equal(changeset_upgrade(db, cs.data, cs.len, &up, &err), 0);
	assert_int_equal(sqlite3changeset_apply(peer, (int)up.len, up.data, NULL, abort_on_conflict,
						&conflicts), SQLITE_OK);
	assert_int_equal(db_int(peer, "SELECT a = 'uno' AND b = 'kept' AND c = 7 FROM t", 0), 1);
	/* a delete of a row the upgrade gave its defaults finds it */
	assert_int_equal(db_exec(peer, "UPDATE t SET b='x' WHERE id='r1'"), 0);
	record(old, "DELETE FROM t WHERE id='r1'", &cs);
	assert_int_equal(changeset_upgrade(db, cs.data, cs.len, &up, &err), 0);
	assert_int_equal(sqlite3changeset_apply(peer, (int)up.len, up.data, NULL, abort_on_conflict,
						&conflicts), SQLITE_OK);
	assert_int_equal(conflicts, 0);
	assert_int_equal(db_int(peer, "SELECT count(*) FROM t", -1), 0);
	/* more columns than today's table, or a table it does not have: refused */
	assert_int_equal(db_exec(old, "ALTER TABLE t ADD COLUMN b TEXT; ALTER TABLE t ADD COLUMN c INT;"
				      " ALTER TABLE t ADD COLUMN d INT"), 0);
	record(old, "INSERT INTO t VALUES('r2', 'two', NULL, 1, 2)", &cs);
	assert_int_equal(changeset_upgrade(db, cs.data, cs.len, &up, &err), -1);
	assert_non_null(strstr(err, "more columns"));
	assert_int_equal(db_exec(db, "DROP TABLE t"), 0);
	assert_int_equal(changeset_upgrade(db, cs.data, cs.len, &up, &err), -1);
	assert_non_null(strstr(err, "does not have"));
	assert_int_equal(db_exec(db, now), 0);
	assert_int_equal(db_exec(old, "DROP TABLE t; CREATE TABLE t(id TEXT PRIMARY KEY, a TEXT)"), 0);

	/* The outbox: an entry of the version before goes at today's. */
	assert_int_equal(schema_migrate(db), 0);
	assert_int_equal(capture_migrate(db), 0);
	ver = schema_db_version(db);
	assert_int_equal(ver, schema_version());
	record(old, "INSERT INTO t VALUES('r3', 'three')", &cs);
	assert_int_equal(db_run(db, "INSERT INTO outbox(hlc, actor, created_at, schema_version, nbytes,"
				    " changeset) VALUES('000000000001.0000.n1', 'staff', 1, ?1, ?2, ?3)",
				"iib", ver - 1, (int)cs.len, (const void *)cs.data, (size_t)cs.len), 0);
	assert_int_equal(sync__outbox_frame(db, 0, 0, &out, 0, &first, &last, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(frame_open(&r, out.data, out.len, &err), 0);
	assert_int_equal((int)r.fr_schema, ver);
	assert_int_equal(frame_next(&r, &e, &err), 1);
	changeset_iter_init(&it, e.changeset, e.len);
	assert_int_equal(changeset_next(&it, &err), 1);
	assert_int_equal(it.ci_ncol, 4);
	assert_int_equal(it.ci_new[3].cv_type, CSV_INTEGER);
	assert_int_equal(it.ci_new[3].cv_int, 7);
	changeset_iter_release(&it);
	buf_release(&cs);
	buf_release(&up);
	buf_release(&out);
	sqlite3_close(old);
	sqlite3_close(db);
	sqlite3_close(peer);
}

/* The value of column col of the first change of a frame's first entry
 * (col -1: the entry's own stamp). */
static void first_value(const buf *frame, int col, char *out, size_t n)
{
	frame_reader r;
	sync_entry e;
	cs_iter it;
	const char *err = NULL;

	assert_int_equal(frame_open(&r, frame->data, frame->len, &err), 0);
	assert_int_equal(frame_next(&r, &e, &err), 1);
	if (col < 0) {
		snprintf(out, n, "%s", e.hlc);
		return;
	}
	changeset_iter_init(&it, e.changeset, e.len);
	assert_int_equal(changeset_next(&it, &err), 1);
	assert_int_equal(it.ci_new[col].cv_type, CSV_TEXT);
	snprintf(out, n, "%.*s", (int)it.ci_new[col].cv_n, (const char *)it.ci_new[col].cv_p);
	changeset_iter_release(&it);
}

/* Entries written before enrollment (sync/restamp.c): sent with the node id
 * and office they were written under swapped for the enrolled ones, in the
 * columns that carry them only and in the node part of their time stamps
 * (the row's updated_hlc, the entry's own), which the hub checks are the
 * sender's; the outbox itself unchanged. */
static void test_outbox_restamp(void **state)
{
	sqlite3 *db;
	sqlite3_session *ses;
	void *cs = NULL;
	int ncs = 0;
	sqlite3_stmt *st;
	buf out = BUF_INIT(SYNC_MAX_PUSH_FRAME);
	int64_t first, last, count;
	char v[64];

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(capture_migrate(db), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE sync_state(key TEXT PRIMARY KEY, value TEXT);"
				     "CREATE TABLE node_meta(key TEXT PRIMARY KEY, value TEXT);"
				     "CREATE TABLE t(id TEXT PRIMARY KEY NOT NULL, node_id TEXT,"
				     " office_id TEXT, note TEXT, updated_hlc TEXT)"), 0);
	assert_int_equal(sqlite3session_create(db, "main", &ses), SQLITE_OK);
	assert_int_equal(sqlite3session_attach(ses, "t"), SQLITE_OK);
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES('r1', 'prov-1', 'demo-office', 'prov-1',"
				     " '000000000001.0000.prov-1')"), 0);
	assert_int_equal(sqlite3session_changeset(ses, &ncs, &cs), SQLITE_OK);
	sqlite3session_delete(ses);
	assert_int_equal(db_prepare(db, &st, "INSERT INTO outbox(hlc, actor, created_at,"
					     " schema_version, nbytes, changeset) VALUES"
					     "('000000000001.0000.prov-1', 'staff', 1, 7, ?1, ?2)"), 0);
	sqlite3_bind_int(st, 1, ncs);
	sqlite3_bind_blob(st, 2, cs, ncs, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	/* Not enrolled since: sent as written. */
	assert_int_equal(db_exec(db, "INSERT INTO node_meta VALUES('node_id', 'prov-1'),"
				     " ('office_id', 'demo-office')"), 0);
	assert_int_equal(sync__outbox_frame(db, 0, 0, &out, 0, &first, &last, &count), 0);
	first_value(&out, 1, v, sizeof v);
	assert_string_equal(v, "prov-1");
	/* Enrolled: node id and office swapped, the note (not an identity
	 * column) kept, every time the entry is sent. */
	assert_int_equal(db_exec(db, "INSERT INTO sync_state VALUES('prev_node_id', 'prov-1'),"
				     " ('prev_office_id', 'demo-office');"
				     "UPDATE node_meta SET value='node-real' WHERE key='node_id';"
				     "UPDATE node_meta SET value='office-2' WHERE key='office_id'"), 0);
	for (int round = 0; round < 2; round++) {
		buf_reset(&out);
		assert_int_equal(sync__outbox_frame(db, 0, 0, &out, 0, &first, &last, &count), 0);
		assert_int_equal(count, 1);
		first_value(&out, 1, v, sizeof v);
		assert_string_equal(v, "node-real");
		first_value(&out, 2, v, sizeof v);
		assert_string_equal(v, "office-2");
		first_value(&out, 3, v, sizeof v);
		assert_string_equal(v, "prov-1");
		first_value(&out, 4, v, sizeof v);
		assert_string_equal(v, "000000000001.0000.node-real");
		first_value(&out, -1, v, sizeof v);
		assert_string_equal(v, "000000000001.0000.node-real");
	}
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox WHERE changeset=(SELECT changeset"
				    " FROM outbox LIMIT 1) AND nbytes=length(changeset)", -1), 1);
	sqlite3_free(cs);
	buf_release(&out);
	sqlite3_close(db);
}

/* The bundle codec (sync/bundle.c), the one outpost-hub import decodes with:
 * a round trip (the office's pull cursor with the frame; none: -1), the
 * sender read before the secret is known, and every byte of magic, MAC or
 * frame refused when altered (the id picks the secret); the earlier
 * formats (OPX2 sealed without a cursor, OPX1 signed) still read. */
/* c = a copy of b (a decode opens a bundle in place) */
static void refill(buf *c, const buf *b)
{
	int rc = 0;

	buf_reset(c);
	buf_put_bytes(c, b->data, b->len, &rc);
	assert_int_equal(rc, 0);
}

/* 1 when needle[0..n) occurs in hay[0..len) */
static int holds(const void *hay, size_t len, const void *needle, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp((const char *)hay + i, needle, n) == 0)
			return 1;
	return 0;
}

static void test_bundle_codec(void **state)
{
	buf frame = BUF_INIT(1 << 20), bun = BUF_INIT(1 << 20), two = BUF_INIT(1 << 20),
	    copy = BUF_INIT(1 << 20);
	unsigned char secret[SYNC_SECRET_LEN], other[SYNC_SECRET_LEN];
	const unsigned char *f;
	size_t flen;
	int64_t cursor = 0;
	char id[64];
	const char *err = NULL;

	(void)state;
	memset(secret, 7, sizeof secret);
	memset(other, 8, sizeof other);
	build3(&frame);
	assert_int_equal(sync_bundle_encode(&bun, "node-1", secret, 4242, frame.data, frame.len),
			 0);
	/* magic, id, nonce, sum, the sealed cursor and frame, its tag */
	assert_int_equal(bun.len, 4 + 2 + 6 + 12 + 32 + 8 + frame.len + 16);
	assert_memory_equal(bun.data, SYNC_BUNDLE_MAGIC, 4);
	/* sealed: nothing of the frame reads in the file (a lost stick gives
	 * no visitor's name away) */
	assert_false(holds(bun.data, bun.len, "OPB1", 4));
	for (size_t i = 0; i + 8 <= frame.len; i += 8)
		assert_false(holds(bun.data, bun.len, frame.data + i, 8));
	assert_int_equal(sync_bundle_sender(bun.data, bun.len, id, &err), 0);
	assert_string_equal(id, "node-1");
	refill(&copy, &bun);
	assert_int_equal(
	    sync_bundle_decode(copy.data, bun.len, secret, id, &cursor, &f, &flen, &err), 0);
	assert_int_equal(cursor, 4242);
	assert_int_equal(flen, frame.len);
	assert_memory_equal(f, frame.data, frame.len);
	/* two exports of one frame never share a nonce; no cursor yet: -1 */
	assert_int_equal(sync_bundle_encode(&two, "node-1", secret, -5, frame.data, frame.len), 0);
	assert_memory_not_equal(two.data + 12, bun.data + 12, 12);
	assert_int_equal(
	    sync_bundle_decode(two.data, two.len, secret, id, &cursor, &f, &flen, &err), 0);
	assert_int_equal(cursor, -1);
	assert_int_equal(flen, frame.len);
	err = NULL;
	refill(&copy, &bun);
	assert_int_equal(
	    sync_bundle_decode(copy.data, bun.len, other, id, &cursor, &f, &flen, &err), -1);
	assert_non_null(err);
	assert_null(f);
	/* A byte of the magic or the nonce altered is refused as not a bundle
	 * or not the node's; one of the sum or the sealed bytes as damaged */
	for (size_t i = 0; i < bun.len; i++) {
		if (i >= 4 && i < 4 + 2 + 6)
			continue; /* length and id: a changed id is another node's secret */
		refill(&copy, &bun);
		copy.data[i] ^= 0x20;
		assert_int_equal(
		    sync_bundle_decode(copy.data, bun.len, secret, id, &cursor, &f, &flen, &err),
		    i < 4 + 2 + 6 + 12 ? -1 : SYNC_BUNDLE_DAMAGED);
	}
	/* Cut short anywhere after its magic (a copy interrupted): damaged,
	 * never a bad signature */
	for (size_t cut = 4; cut < bun.len; cut++) {
		err = NULL;
		refill(&copy, &bun);
		assert_int_equal(
		    sync_bundle_decode(copy.data, cut, secret, id, &cursor, &f, &flen, &err),
		    SYNC_BUNDLE_DAMAGED);
		assert_non_null(strstr(err, "copy the file again"));
		assert_true(sync_bundle_sender(bun.data, cut, id, &err) == 0 ||
			    strstr(err, "copy the file again") != NULL);
	}
	/* Sealed by the node, whole, but no frame inside: malformed, not
	 * "copy it again" */
	buf_reset(&two);
	assert_int_equal(sync_bundle_encode(&two, "node-1", secret, 1, "not a frame", 11), 0);
	assert_int_equal(
	    sync_bundle_decode(two.data, two.len, secret, id, &cursor, &f, &flen, &err),
	    SYNC_BUNDLE_MALFORMED);
	assert_non_null(strstr(err, "malformed"));
	/* OPX2, an office's bundle of before the cursor: the frame alone
	 * sealed, read with no cursor (-1) */
	{
		unsigned char key[32], nonce[CRYPTO_GCM_NONCE], tag[CRYPTO_GCM_TAG];
		size_t body;
		int rc = 0;

		memset(nonce, 3, sizeof nonce);
		assert_int_equal(crypto_hmac_sha256(secret, SYNC_SECRET_LEN, "outpost bundle key v1",
						    21, key),
				 0);
		buf_reset(&two);
		buf_put_bytes(&two, "OPX2", 4, &rc);
		buf_put_u8(&two, 0, &rc);
		buf_put_u8(&two, 6, &rc);
		buf_put_bytes(&two, "node-1", 6, &rc);
		buf_put_bytes(&two, nonce, sizeof nonce, &rc);
		buf_put_bytes(&two, key, 32, &rc); /* room for the sum */
		body = two.len;
		buf_put_bytes(&two, frame.data, frame.len, &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(crypto_seal(key, nonce, two.data, body - 32,
					     two.data + body, frame.len, tag),
				 0);
		buf_put_bytes(&two, tag, sizeof tag, &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(crypto_sha256(two.data + body, two.len - body,
					       (unsigned char *)two.data + body - 32),
				 0);
		cursor = 7;
		assert_int_equal(
		    sync_bundle_decode(two.data, two.len, secret, id, &cursor, &f, &flen, &err), 0);
		assert_int_equal(cursor, -1);
		assert_int_equal(flen, frame.len);
		assert_memory_equal(f, frame.data, frame.len);
	}
	/* The earlier format (signed, not sealed) still reads */
	{
		unsigned char mac[CRYPTO_SHA256_LEN];
		int rc = 0;

		buf_reset(&two);
		assert_int_equal(crypto_hmac_sha256(secret, SYNC_SECRET_LEN, frame.data, frame.len, mac), 0);
		buf_put_bytes(&two, "OPX1", 4, &rc);
		buf_put_u8(&two, 0, &rc);
		buf_put_u8(&two, 6, &rc);
		buf_put_bytes(&two, "node-1", 6, &rc);
		buf_put_bytes(&two, mac, sizeof mac, &rc);
		buf_put_bytes(&two, frame.data, frame.len, &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(sync_bundle_decode(two.data, two.len, secret, id, &cursor, &f, &flen, &err), 0);
		assert_int_equal(flen, frame.len);
		assert_memory_equal(f, frame.data, frame.len);
		two.data[two.len - 40] ^= 1;
		assert_int_equal(sync_bundle_decode(two.data, two.len, secret, id, &cursor, &f, &flen, &err),
				 SYNC_BUNDLE_DAMAGED);
		assert_int_equal(sync_bundle_decode(two.data, two.len, other, id, &cursor, &f, &flen, &err),
				 SYNC_BUNDLE_DAMAGED);
		two.data[two.len - 40] ^= 1;
		assert_int_equal(sync_bundle_decode(two.data, two.len, other, id, &cursor, &f, &flen, &err), -1);
	}
	/* Not a bundle at all; a node id a terminal would take as commands */
	assert_int_equal(sync_bundle_sender(bun.data, 3, id, &err), -1);
	assert_int_equal(sync_bundle_sender("hello", 5, id, &err), -1);
	assert_int_equal(sync_bundle_encode(&bun, "", secret, 0, frame.data, frame.len), -1);
	assert_int_equal(sync_bundle_encode(&bun, "a\x1b[2J", secret, 0, frame.data, frame.len), -1);
	bun.data[7] = 0x1b;
	assert_int_equal(sync_bundle_sender(bun.data, bun.len, id, &err), -1);
	assert_string_equal(err, "malformed node id");
	buf_release(&frame);
	buf_release(&bun);
	buf_release(&two);
	buf_release(&copy);
}

/* The bundle file at dir/name: whole, the node's, opened with its cursor
 * and frame (the frame's entry count in *n); its size returned. */
static size_t export_file(const char *dir, const char *name,
			  const unsigned char secret[SYNC_SECRET_LEN], int64_t *cursor,
			  uint32_t *n, size_t *flen)
{
	char path[512], id[64];
	buf b = BUF_INIT(1 << 20);
	FILE *fp;
	char chunk[4096];
	size_t got, len;
	const unsigned char *f;
	const char *err = NULL;
	frame_reader r;
	int rc = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_put_bytes(&b, chunk, got, &rc);
	fclose(fp);
	assert_int_equal(rc, 0);
	len = b.len;
	assert_int_equal(sync_bundle_decode(b.data, b.len, secret, id, cursor, &f, flen, &err), 0);
	assert_int_equal(frame_open(&r, f, *flen, &err), 0);
	*n = r.fr_count;
	buf_release(&b);
	return len;
}

/*
 * sync__bundle_export at its file limit (SYNC_BUNDLE_MAX, here a small one):
 * every file whole within it, with the longest node id, including one whose
 * entries fill the frame the old accounting allowed (the limit less 110
 * bytes, 27 short of a bundle's header and tag: the export failed); a frame
 * that fills what the limit leaves makes a file of the limit exactly.  An
 * empty outbox writes the office's pull cursor alone (an empty frame at the
 * database's schema version), and nothing before the office has a cursor.
 */
static void test_bundle_export_at_the_limit(void **state)
{
	const size_t max = 64 * 1024, head = 4 + 2 + 63 + 12 + 32 + 8 + 16,
		     entry = 8 + 2 + 20 + 2 + 5 + 4; /* outbox_put's, less its changeset */
	sqlite3 *db;
	sync_identity id;
	sync_bundle_stats bs;
	char err[512], path[512], *dir = tu_tmpdir("bundlemax");
	int64_t cursor;
	uint32_t n;
	size_t flen;

	(void)state;
	assert_non_null(dir);
	memset(&id, 0, sizeof id);
	memset(id.id_node_id, 'n', 63);
	memset(id.id_secret, 9, sizeof id.id_secret);
	snprintf(path, sizeof path, "%s/office.bundle", dir);
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(capture_migrate(db), 0);
	assert_int_equal(db_exec(db, "CREATE TABLE sync_state(key TEXT PRIMARY KEY, value TEXT);"
				     "CREATE TABLE node_meta(key TEXT PRIMARY KEY, value TEXT)"), 0);
	/* No cursor yet, nothing pending: nothing written */
	assert_int_equal(sync__bundle_export(db, &id, path, 0, max, &bs, err, sizeof err), 0);
	assert_int_equal(bs.bs_files, 0);
	assert_int_equal(bs.bs_cursor, -1);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(db_exec(db, "INSERT INTO node_meta VALUES('sync_cursor', '4242')"), 0);
	/* Two entries that fill the old frame bound: 12 + both + 32 = max - 110 */
	outbox_put(db, max - 110 - 12 - 32 - 2 * entry - 100);
	outbox_put(db, 100);
	assert_int_equal(sync__bundle_export(db, &id, path, 0, max, &bs, err, sizeof err), 0);
	assert_int_equal(bs.bs_files, 2);
	assert_int_equal(bs.bs_entries, 2);
	assert_true(export_file(dir, "office.bundle", id.id_secret, &cursor, &n, &flen) <= max);
	assert_int_equal(n, 1);
	assert_int_equal(cursor, 4242);
	assert_true(export_file(dir, "office.bundle.2", id.id_secret, &cursor, &n, &flen) <= max);
	assert_int_equal(n, 1);
	/* A frame of what the limit leaves: a file of max bytes exactly */
	assert_int_equal(db_exec(db, "DELETE FROM outbox"), 0);
	outbox_put(db, max - head - 12 - 32 - entry);
	outbox_put(db, 1);
	assert_int_equal(sync__bundle_export(db, &id, path, 0, max, &bs, err, sizeof err), 0);
	assert_int_equal(bs.bs_files, 2);
	assert_int_equal(export_file(dir, "office.bundle", id.id_secret, &cursor, &n, &flen), max);
	assert_int_equal(n, 1);
	assert_int_equal(flen, max - head);
	/* An empty outbox: the cursor alone, replacing this node's earlier
	 * parts */
	assert_int_equal(db_exec(db, "DELETE FROM outbox"), 0);
	assert_int_equal(sync__bundle_export(db, &id, path, 0, max, &bs, err, sizeof err), 0);
	assert_int_equal(bs.bs_files, 1);
	assert_int_equal(bs.bs_entries, 0);
	assert_int_equal(bs.bs_cursor, 4242);
	assert_int_equal(bs.bs_stale_from, 2);
	assert_int_equal(bs.bs_stale_to, 2);
	assert_int_equal(export_file(dir, "office.bundle", id.id_secret, &cursor, &n, &flen),
			 head + 12 + 32);
	assert_int_equal(cursor, 4242);
	assert_int_equal(n, 0);
	assert_int_equal(access(path, F_OK), 0);
	{
		char two[600];

		snprintf(two, sizeof two, "%s.2", path);
		assert_int_equal(access(two, F_OK), -1);
	}
	sqlite3_close(db);
	assert_int_equal(tu_rmtree(dir), 0);
	free(dir);
}

/* The return trip's bundle (OPH1): pages round-trip in order with the
 * hub's clock and its acknowledgement of the node's outbox (none: 0 bytes;
 * a length past the end: malformed); neither kind opens as the other (each
 * refused by name, before any key is tried, and a header's magic swapped
 * fails the tag: the keys differ); another node's secret, a cut or an
 * altered byte are refused; pages that do not read are malformed. */
static void test_hub_bundle_codec(void **state)
{
	buf frame = BUF_INIT(1 << 20), pages = BUF_INIT(1 << 20), bun = BUF_INIT(1 << 20),
	    off_bun = BUF_INIT(1 << 20), copy = BUF_INIT(1 << 20);
	unsigned char secret[SYNC_SECRET_LEN], other[SYNC_SECRET_LEN];
	const unsigned char *p;
	const char *ack = NULL;
	size_t plen, at = 0, acklen = 0;
	int64_t made = 0;
	sync_hub_page pg;
	char id[64];
	const char *err = NULL;

	(void)state;
	memset(secret, 7, sizeof secret);
	memset(other, 8, sizeof other);
	build3(&frame);
	assert_int_equal(sync_hub_bundle_begin(&pages, 1234567, "{\"acked_seq\":5}"), 0);
	assert_int_equal(sync_hub_bundle_add_page(&pages, 10, 20, 30, "page one", 8), 0);
	assert_int_equal(sync_hub_bundle_add_page(&pages, 20, 20, 30, "", 0), 0);
	assert_int_equal(
	    sync_hub_bundle_encode(&bun, "node-1", secret, pages.data, pages.len), 0);
	assert_memory_equal(bun.data, SYNC_HUB_BUNDLE_MAGIC, 4);
	assert_false(holds(bun.data, bun.len, "page one", 8));
	assert_int_equal(sync_hub_bundle_head(bun.data, bun.len, id, &err), 0);
	assert_string_equal(id, "node-1");
	refill(&copy, &bun);
	assert_int_equal(sync_hub_bundle_decode(copy.data, bun.len, secret, id, &made,
						&ack, &acklen, &p, &plen, &err),
			 0);
	assert_int_equal(made, 1234567);
	assert_int_equal(acklen, 15);
	assert_memory_equal(ack, "{\"acked_seq\":5}", 15);
	assert_int_equal(sync_hub_bundle_page(p, plen, &at, &pg), 1);
	assert_int_equal(pg.hp_after, 10);
	assert_int_equal(pg.hp_next, 20);
	assert_int_equal(pg.hp_head, 30);
	assert_int_equal(pg.hp_len, 8);
	assert_memory_equal(pg.hp_data, "page one", 8);
	assert_int_equal(sync_hub_bundle_page(p, plen, &at, &pg), 1);
	assert_int_equal(pg.hp_len, 0);
	assert_int_equal(sync_hub_bundle_page(p, plen, &at, &pg), 0);
	/* The other direction's bundle, by name, each way */
	assert_int_equal(
	    sync_bundle_encode(&off_bun, "node-1", secret, 0, frame.data, frame.len), 0);
	refill(&copy, &off_bun);
	assert_int_equal(sync_hub_bundle_decode(copy.data, copy.len, secret, id, &made,
						&ack, &acklen, &p, &plen, &err),
			 SYNC_BUNDLE_WRONG_KIND);
	assert_non_null(strstr(err, "outpost-hub import"));
	refill(&copy, &bun);
	assert_int_equal(
	    sync_bundle_decode(copy.data, copy.len, secret, id, &made, &p, &plen, &err),
	    SYNC_BUNDLE_WRONG_KIND);
	assert_non_null(strstr(err, "outpost-sync import"));
	assert_int_equal(sync_bundle_sender(bun.data, bun.len, id, &err),
			 SYNC_BUNDLE_WRONG_KIND);
	/* ... and with the magic swapped, the tag fails (another key) */
	refill(&copy, &off_bun);
	memcpy(copy.data, SYNC_HUB_BUNDLE_MAGIC, 4);
	assert_int_equal(sync_hub_bundle_decode(copy.data, copy.len, secret, id, &made,
						&ack, &acklen, &p, &plen, &err),
			 -1);
	refill(&copy, &bun);
	memcpy(copy.data, SYNC_BUNDLE_MAGIC, 4);
	assert_int_equal(
	    sync_bundle_decode(copy.data, copy.len, secret, id, &made, &p, &plen, &err), -1);
	/* Another node's secret; a cut; a byte altered */
	refill(&copy, &bun);
	assert_int_equal(sync_hub_bundle_decode(copy.data, copy.len, other, id, &made,
						&ack, &acklen, &p, &plen, &err),
			 -1);
	for (size_t cut = 4; cut < bun.len; cut += 7) {
		refill(&copy, &bun);
		assert_int_equal(sync_hub_bundle_decode(copy.data, cut, secret, id, &made,
							&ack, &acklen, &p, &plen, &err),
				 SYNC_BUNDLE_DAMAGED);
	}
	refill(&copy, &bun);
	copy.data[copy.len - 20] ^= 1;
	assert_int_equal(sync_hub_bundle_decode(copy.data, copy.len, secret, id, &made,
						&ack, &acklen, &p, &plen, &err),
			 SYNC_BUNDLE_DAMAGED);
	/* No acknowledgement: none read back */
	buf_reset(&pages);
	buf_reset(&bun);
	assert_int_equal(sync_hub_bundle_begin(&pages, 7, NULL), 0);
	assert_int_equal(sync_hub_bundle_add_page(&pages, 1, 2, 2, "pg", 2), 0);
	assert_int_equal(
	    sync_hub_bundle_encode(&bun, "node-1", secret, pages.data, pages.len), 0);
	assert_int_equal(sync_hub_bundle_decode(bun.data, bun.len, secret, id, &made,
						&ack, &acklen, &p, &plen, &err),
			 0);
	assert_int_equal(acklen, 0);
	assert_int_equal(made, 7);
	at = 0;
	assert_int_equal(sync_hub_bundle_page(p, plen, &at, &pg), 1);
	assert_memory_equal(pg.hp_data, "pg", 2);
	/* An acknowledgement's length past the end: malformed */
	pages.data[11] = 200;
	buf_reset(&bun);
	assert_int_equal(
	    sync_hub_bundle_encode(&bun, "node-1", secret, pages.data, pages.len), 0);
	assert_int_equal(sync_hub_bundle_decode(bun.data, bun.len, secret, id, &made,
						&ack, &acklen, &p, &plen, &err),
			 SYNC_BUNDLE_MALFORMED);
	pages.data[11] = 0;
	/* Sealed by the hub, whole, pages that do not read: malformed */
	pages.len -= 1;
	buf_reset(&bun);
	assert_int_equal(
	    sync_hub_bundle_encode(&bun, "node-1", secret, pages.data, pages.len), 0);
	assert_int_equal(sync_hub_bundle_decode(bun.data, bun.len, secret, id, &made,
						&ack, &acklen, &p, &plen, &err),
			 SYNC_BUNDLE_MALFORMED);
	buf_release(&frame);
	buf_release(&pages);
	buf_release(&bun);
	buf_release(&off_bun);
	buf_release(&copy);
}

TU_MAIN(cmocka_unit_test(test_round_trip),
	cmocka_unit_test(test_empty_frame),
	cmocka_unit_test_setup_teardown(test_truncated, frame3_setup, frame3_teardown),
	cmocka_unit_test_setup_teardown(test_corrupted_any_byte, frame3_setup, frame3_teardown),
	cmocka_unit_test(test_structure_refused),
	cmocka_unit_test(test_writer_limits),
	cmocka_unit_test(test_outbox_batches),
	cmocka_unit_test(test_outbox_restamp),
	cmocka_unit_test(test_outbox_upgrade),
	cmocka_unit_test(test_bundle_codec),
	cmocka_unit_test(test_bundle_export_at_the_limit),
	cmocka_unit_test(test_hub_bundle_codec))
