/*
 * test_apply_cache.c - sync_hub_apply_cached() (the hub's per-batch cache of
 * statements and table shapes, sync/sync.h) must decide exactly what
 * sync_hub_apply() decides.  Two offices' captured writes - inserts, merges
 * with conflicts, edits against deletes, out-of-scope and hub-owned rows,
 * corrupt and truncated changesets - go to one hub entry by entry without a
 * cache and to another hub in one transaction through one cache; every
 * entry's outcome and every table's digest must be the same.  A cache used
 * with another database is refused.  sync_hub_apply_batch() (the grouped
 * apply) must decide the same again, with a domain validator that refuses
 * one row of the group, and write the same change log as the triggers; its
 * validator sees each row as the hub stores it.
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
#include "sync/sync.h"
#include "synctest.h"
#include "testutil.h"

#define OFFICE "office-1"
#define LA "la-1"

static const sync_scope scope_a = {"nodeA", OFFICE, LA};
static const sync_scope scope_b = {"nodeB", OFFICE, LA};

#define open_db st_open_db

#define write_captured(node, hlc, ...) st_node_write(node, "staff-1", hlc, __VA_ARGS__)

typedef struct ent {
	const sync_scope *sc;
	int64_t seq;
	char hlc[64];
	unsigned char *cs;
	size_t len;
} ent;

#define MAXE 64
static ent ents[MAXE];
static int nents;

/* Move node's outbox into ents[] (in order), as its push would send it. */
static void take(sqlite3 *node, const sync_scope *sc)
{
	sqlite3_stmt *st;

	assert_int_equal(db_prepare(node, &st, "SELECT seq, hlc, changeset FROM outbox ORDER BY seq"), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		ent *e = &ents[nents++];
		assert_true(nents <= MAXE);
		e->sc = sc;
		e->seq = sqlite3_column_int64(st, 0);
		snprintf(e->hlc, sizeof e->hlc, "%s", (const char *)sqlite3_column_text(st, 1));
		e->len = (size_t)sqlite3_column_bytes(st, 2);
		e->cs = malloc(e->len);
		assert_non_null(e->cs);
		memcpy(e->cs, sqlite3_column_blob(st, 2), e->len);
	}
	sqlite3_finalize(st);
	assert_int_equal(db_exec(node, "DELETE FROM outbox"), 0);
}

/* A copy of the last entry, changed: cut short, or a byte flipped. */
static void add_damaged(int cut)
{
	ent *src = &ents[nents - 1], *e = &ents[nents++];

	*e = *src;
	e->cs = malloc(src->len);
	assert_non_null(e->cs);
	memcpy(e->cs, src->cs, src->len);
	if (cut)
		e->len = src->len / 2;
	else
		e->cs[src->len / 3] ^= 0x5a;
	e->seq = src->seq + 1000;
}

#define CHECKIN "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at," \
		" visit_date, updated_hlc) VALUES('%s', '%s', '%s', '%s', 1, '2026-01-01', '%s')"

static void workload(void)
{
	sqlite3 *a = open_db(0), *b = open_db(0);
	const char *r1 = "0190a000-0000-7000-8000-0000000000a1";
	const char *r2 = "0190a000-0000-7000-8000-0000000000a2";
	const char *r3 = "0190a000-0000-7000-8000-0000000000a3";

	nents = 0;
	write_captured(a, "000000000010.0000.nodeA", CHECKIN, r1, OFFICE, LA, "One", "000000000010.0000.nodeA");
	write_captured(a, "000000000011.0000.nodeA", CHECKIN, r2, OFFICE, LA, "Two", "000000000011.0000.nodeA");
	write_captured(a, "000000000012.0000.nodeA", CHECKIN, r3, OFFICE, LA, "Three", "000000000012.0000.nodeA");
	take(a, &scope_a);
	/* B has what A pushed (as after a pull), then both edit offline. */
	write_captured(b, "000000000010.0000.nodeA", CHECKIN, r1, OFFICE, LA, "One", "000000000010.0000.nodeA");
	write_captured(b, "000000000011.0000.nodeA", CHECKIN, r2, OFFICE, LA, "Two", "000000000011.0000.nodeA");
	assert_int_equal(db_exec(b, "DELETE FROM outbox"), 0);
	write_captured(a, "000000000020.0000.nodeA",
		       "UPDATE checkins SET status='called', note='a', updated_hlc='000000000020.0000.nodeA' WHERE id='%s'", r1);
	write_captured(a, "000000000021.0000.nodeA", "DELETE FROM checkins WHERE id='%s'", r2);
	write_captured(a, "000000000022.0000.nodeA", CHECKIN, "0190a000-0000-7000-8000-0000000000a4",
		       "office-elsewhere", LA, "Out of scope", "000000000022.0000.nodeA");
	write_captured(a, "000000000023.0000.nodeA",
		       "INSERT INTO offices(id, local_area_id, name, updated_hlc) VALUES('rogue', '%s', 'Rogue', 'h')", LA);
	take(a, &scope_a);
	write_captured(b, "000000000030.0000.nodeB",
		       "UPDATE checkins SET status='serving', visitor_name='Uno', updated_hlc='000000000030.0000.nodeB' WHERE id='%s'", r1);
	write_captured(b, "000000000031.0000.nodeB",
		       "UPDATE checkins SET note='b', updated_hlc='000000000031.0000.nodeB' WHERE id='%s'", r2);
	take(b, &scope_b);
	add_damaged(1);
	add_damaged(0);
	/* The first entry again (a replay under a new seq). */
	ents[nents] = ents[0];
	ents[nents].cs = malloc(ents[0].len);
	assert_non_null(ents[nents].cs);
	memcpy(ents[nents].cs, ents[0].cs, ents[0].len);
	nents++;
	sqlite3_close(a);
	sqlite3_close(b);
}

static void free_workload(void)
{
	for (int i = 0; i < nents; i++)
		free(ents[i].cs);
	nents = 0;
}

static cJSON *digests(sqlite3 *hub)
{
	cJSON *d = sync_digest(hub, NULL);

	assert_non_null(d);
	return d;
}

static void test_cache_same_outcomes(void **state)
{
	sqlite3 *h1 = open_db(1), *h2 = open_db(1);
	sync_apply_cache *c = sync_apply_cache_new(h2);
	cJSON *d1, *d2;
	const cJSON *t;
	int applied = 0, refused = 0, conflicts = 0;

	(void)state;
	assert_non_null(c);
	workload();
	assert_int_equal(db_exec(h2, "BEGIN IMMEDIATE"), 0);
	for (int i = 0; i < nents; i++) {
		sync_entry e = {ents[i].seq, ents[i].hlc, "staff-1", ents[i].cs, ents[i].len};
		sync_apply_result r1, r2;

		assert_int_equal(db_exec(h1, "BEGIN IMMEDIATE"), 0);
		assert_int_equal(sync_hub_apply(h1, ents[i].sc, &e, &r1), 0);
		assert_int_equal(db_exec(h1, "COMMIT"), 0);
		assert_int_equal(sync_hub_apply_cached(h2, c, ents[i].sc, &e, &r2), 0);
		assert_int_equal(r1.applied, r2.applied);
		assert_int_equal(r1.conflicts, r2.conflicts);
		assert_string_equal(r1.reason, r2.reason);
		applied += r1.applied;
		refused += !r1.applied;
		conflicts += r1.conflicts;
	}
	assert_int_equal(db_exec(h2, "COMMIT"), 0);
	/* The workload really covers merges and refusals. */
	assert_true(applied >= 6);
	assert_true(refused >= 4);
	assert_true(conflicts >= 1);
	d1 = digests(h1);
	d2 = digests(h2);
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(d1, "tables"))
	{
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(d2, "tables"), t->string);
		char *x = cJSON_PrintUnformatted(t), *y = cJSON_PrintUnformatted(u);

		assert_non_null(u);
		if (strcmp(t->string, "conflicts") == 0) /* ids and times differ */
			assert_int_equal(cJSON_GetObjectItemCaseSensitive(t, "count")->valueint,
					 cJSON_GetObjectItemCaseSensitive(u, "count")->valueint);
		else
			assert_string_equal(x, y);
		free(x);
		free(y);
	}
	assert_int_equal(db_int(h1, "SELECT count(*) FROM quarantine", -1),
			 db_int(h2, "SELECT count(*) FROM quarantine", -2));
	assert_int_equal(db_int(h1, "SELECT count(*) FROM change_log", -1),
			 db_int(h2, "SELECT count(*) FROM change_log", -2));
	cJSON_Delete(d1);
	cJSON_Delete(d2);
	sync_apply_cache_free(c);
	free_workload();
	sqlite3_close(h1);
	sqlite3_close(h2);
}

static void test_cache_other_db_refused(void **state)
{
	sqlite3 *h1 = open_db(1), *h2 = open_db(1);
	sync_apply_cache *c = sync_apply_cache_new(h1);
	sync_apply_result r;

	(void)state;
	workload();
	{
		sync_entry e = {1, ents[0].hlc, NULL, ents[0].cs, ents[0].len};
		assert_int_equal(db_exec(h2, "BEGIN IMMEDIATE"), 0);
		assert_int_equal(sync_hub_apply_cached(h2, c, &scope_a, &e, &r), -1);
		assert_int_equal(db_exec(h2, "ROLLBACK"), 0);
		assert_int_equal(db_int(h2, "SELECT count(*) FROM checkins", -1), 0);
	}
	sync_apply_cache_free(c);
	sync_apply_cache_free(NULL);
	free_workload();
	sqlite3_close(h1);
	sqlite3_close(h2);
}

/* Refuses one check-in by its name (as a domain rule would). */
static int refuse_two(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
		      size_t n)
{
	return st_refuse_visitor(db, tbl, op, row, reason, n, "Two", 1, "no Two");
}

/* The change log as a set (the group writes its rows before the merged ones;
 * conflict ids are random). */
static char *log_set(sqlite3 *db)
{
	char out[8192] = "";
	sqlite3_stmt *st;

	assert_int_equal(db_prepare(db, &st, "SELECT tbl || '/' || iif(tbl = 'conflicts', '', row_id) || '/' || op || '/' ||"
					     " coalesce(scope_office, '-') || '/' || coalesce(scope_la, '-')"
					     " || '/' || coalesce(origin, '-') FROM change_log"
					     " ORDER BY 1"), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		strncat(out, (const char *)sqlite3_column_text(st, 0), sizeof out - strlen(out) - 2);
		strcat(out, ";");
	}
	sqlite3_finalize(st);
	return strdup(out);
}

static void batch_vs_one_by_one(int validator, int min_rows)
{
	sqlite3 *h1 = open_db(1), *h2 = open_db(1);
	sync_apply_cache *c = sync_apply_cache_new(h2);
	sync_entry es[MAXE];
	sync_apply_result r1[MAXE], r2[MAXE];
	char *l1, *l2;
	int refused = 0;

	assert_non_null(c);
	sync_set_validator(validator ? refuse_two : NULL);
	sync_set_batch_min_rows(min_rows);
	workload();
	for (int i = 0; i < nents; i++) {
		sync_entry e = {ents[i].seq, ents[i].hlc, "staff-1", ents[i].cs, ents[i].len};
		es[i] = e;
		assert_int_equal(db_exec(h1, "BEGIN IMMEDIATE"), 0);
		assert_int_equal(sync_hub_apply(h1, ents[i].sc, &e, &r1[i]), 0);
		assert_int_equal(db_exec(h1, "COMMIT"), 0);
	}
	/* Each run of one node's entries is one batch, as a push would be. */
	for (int i = 0, j; i < nents; i = j) {
		for (j = i; j < nents && ents[j].sc == ents[i].sc; j++)
			;
		assert_int_equal(db_exec(h2, "BEGIN IMMEDIATE"), 0);
		assert_int_equal(sync_hub_apply_batch(h2, c, ents[i].sc, &es[i], j - i, &r2[i]), 0);
		assert_int_equal(db_exec(h2, "COMMIT"), 0);
	}
	for (int i = 0; i < nents; i++) {
		assert_int_equal(r1[i].applied, r2[i].applied);
		assert_int_equal(r1[i].conflicts, r2[i].conflicts);
		assert_string_equal(r1[i].reason, r2[i].reason);
		refused += !r1[i].applied;
	}
	assert_true(refused >= (validator ? 5 : 4));
	if (validator)
		assert_int_equal(db_int(h2, "SELECT count(*) FROM quarantine WHERE reason LIKE '%no Two%'",
					-1), 1);
	assert_int_equal(db_int(h2, "SELECT count(*) FROM checkins", -1),
			 db_int(h1, "SELECT count(*) FROM checkins", -2));
	assert_int_equal(db_int(h1, "SELECT count(*) FROM quarantine", -1),
			 db_int(h2, "SELECT count(*) FROM quarantine", -2));
	l1 = log_set(h1);
	l2 = log_set(h2);
	assert_string_equal(l1, l2);
	free(l1);
	free(l2);
	{
		cJSON *d1 = digests(h1), *d2 = digests(h2);
		const cJSON *t;
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(d1, "tables"))
		{
			const cJSON *u = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(d2, "tables"), t->string);
			char *x = cJSON_PrintUnformatted(t), *y = cJSON_PrintUnformatted(u);
			if (strcmp(t->string, "conflicts") != 0)
				assert_string_equal(x, y);
			free(x);
			free(y);
		}
		cJSON_Delete(d1);
		cJSON_Delete(d2);
	}
	sync_set_validator(NULL);
	sync_apply_cache_free(c);
	free_workload();
	sqlite3_close(h1);
	sqlite3_close(h2);
}

/* A check-in made and then called at the desk, in one push: the check-in
 * goes in the group (it comes first), only the call is merged; a row two
 * entries insert takes the merge from the second on (which accepts the
 * same row).  Before, every entry naming a row another one names was
 * merged. */
static void test_batch_groups_the_first_of_a_row(void **state)
{
	sqlite3 *h = open_db(1), *a = open_db(0);
	sync_apply_cache *c = sync_apply_cache_new(h);
	const char *r1 = "0190a000-0000-7000-8000-0000000000b1";
	const char *r2 = "0190a000-0000-7000-8000-0000000000b2";
	sync_entry es[MAXE];
	sync_apply_result r[MAXE];
	st_batch_count k;

	(void)state;
	assert_non_null(c);
	nents = 0;
	write_captured(a, "000000000010.0000.nodeA", CHECKIN, r1, OFFICE, LA, "One", "000000000010.0000.nodeA");
	write_captured(a, "000000000011.0000.nodeA", CHECKIN, r2, OFFICE, LA, "Two", "000000000011.0000.nodeA");
	write_captured(a, "000000000020.0000.nodeA",
		       "UPDATE checkins SET status='called', updated_hlc='000000000020.0000.nodeA' WHERE id='%s'", r1);
	take(a, &scope_a);
	ents[nents] = ents[1]; /* the second check-in again, under a new seq */
	ents[nents].cs = malloc(ents[1].len);
	assert_non_null(ents[nents].cs);
	memcpy(ents[nents].cs, ents[1].cs, ents[1].len);
	ents[nents].seq = 4;
	nents++;
	for (int i = 0; i < nents; i++) {
		sync_entry e = {ents[i].seq, ents[i].hlc, "staff-1", ents[i].cs, ents[i].len};
		es[i] = e;
	}
	k = st_apply_batch(h, c, &scope_a, es, nents, r);
	for (int i = 0; i < nents; i++)
		assert_int_equal(r[i].applied, 1);
	assert_int_equal(k.tries, 1);
	assert_int_equal(k.merged, 2); /* the call, the second insert */
	assert_int_equal(db_int(h, "SELECT count(*) FROM checkins", -1), 2);
	assert_int_equal(db_int(h, "SELECT count(*) FROM checkins WHERE status='called'", -1), 1);
	assert_int_equal(db_int(h, "SELECT count(*) FROM change_log WHERE tbl='checkins'", -1), 3);
	assert_int_equal(db_int(h, "SELECT count(*) FROM quarantine", -1), 0);
	sync_apply_cache_free(c);
	free_workload();
	sqlite3_close(a);
	sqlite3_close(h);
}

/*
 * A batch of fewer new rows than the hub's SYNC_BATCH_MIN_ROWS is merged
 * entry by entry (the grouped apply's one call would cost more: it expires
 * every prepared statement of the connection); from that many on, one try
 * of the group takes them all.
 */
static void test_small_batch_merged(void **state)
{
	sqlite3 *h = open_db(1), *a = open_db(0);
	sync_apply_cache *c = sync_apply_cache_new(h);
	sync_entry es[MAXE];
	sync_apply_result r[MAXE];
	st_batch_count k;
	int n = SYNC_BATCH_MIN_ROWS; /* a check-in is one row here */

	(void)state;
	assert_non_null(c);
	assert_true(n <= MAXE);
	nents = 0;
	for (int i = 0; i < n; i++) {
		char id[64], hlc[40];
		snprintf(id, sizeof id, "0190a000-0000-7000-8000-0000000%05d", i & 0xffff);
		snprintf(hlc, sizeof hlc, "%012d.0000.nodeA", 100 + i);
		write_captured(a, hlc, CHECKIN, id, OFFICE, LA, "Visitor", hlc);
	}
	take(a, &scope_a);
	assert_int_equal(nents, n);
	for (int i = 0; i < nents; i++)
		es[i] = (sync_entry){ents[i].seq, ents[i].hlc, "staff-1", ents[i].cs, ents[i].len};
	sync_set_batch_min_rows(SYNC_BATCH_MIN_ROWS);
	k = st_apply_batch(h, c, &scope_a, es, nents - 1, r);
	assert_int_equal(k.tries, 0);
	assert_int_equal(k.merged, nents - 1);
	k = st_apply_batch(h, c, &scope_a, es + nents - 1, 1, r + nents - 1);
	assert_int_equal(k.tries, 0);
	assert_int_equal(k.merged, 1);
	for (int i = 0; i < nents; i++)
		assert_int_equal(r[i].applied, 1);
	assert_int_equal(db_int(h, "SELECT count(*) FROM checkins", -1), n);
	assert_int_equal(db_int(h, "SELECT count(*) FROM change_log WHERE tbl='checkins'", -1), n);
	/* the same entries at another hub, in one batch of n rows: grouped */
	{
		sqlite3 *h2 = open_db(1);
		sync_apply_cache *c2 = sync_apply_cache_new(h2);
		assert_non_null(c2);
		k = st_apply_batch(h2, c2, &scope_a, es, nents, r);
		assert_int_equal(k.tries, 1);
		assert_int_equal(k.merged, 0);
		assert_int_equal(db_int(h2, "SELECT count(*) FROM checkins", -1), n);
		assert_int_equal(db_int(h2, "SELECT count(*) FROM change_log WHERE tbl='checkins'", -1), n);
		sync_apply_cache_free(c2);
		sqlite3_close(h2);
	}
	sync_set_batch_min_rows(1);
	sync_apply_cache_free(c);
	free_workload();
	sqlite3_close(a);
	sqlite3_close(h);
}

/* With groups of any size (the group is tried on every batch of this small
 * workload), and at the hub's size (where most of it is merged). */
static void test_batch_same_outcomes(void **state)
{
	(void)state;
	batch_vs_one_by_one(0, 1);
	batch_vs_one_by_one(0, SYNC_BATCH_MIN_ROWS);
	sync_set_batch_min_rows(1);
}

static void test_batch_validator_refusal(void **state)
{
	(void)state;
	batch_vs_one_by_one(1, 1);
	batch_vs_one_by_one(1, SYNC_BATCH_MIN_ROWS);
	sync_set_batch_min_rows(1);
}

/* Cannot check the check-in named "Two" (as a check whose read failed). */
static int cannot_check_two(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			    size_t n)
{
	return st_refuse_visitor(db, tbl, op, row, reason, n, "Two", 1, "cannot read") != 0
		       ? SYNC_CHECK_AGAIN
		       : 0;
}

/*
 * A check that could not run (SYNC_CHECK_AGAIN) fails the apply, one by one
 * and grouped, as any failure of the hub's does (the push is rolled back
 * and the node sends it again); nothing is held for review.  Once the
 * check can run, the same entries apply as they would have.
 */
static void test_cannot_check_is_sent_again(void **state)
{
	sqlite3 *h1 = open_db(1), *h2 = open_db(1);
	sync_apply_cache *c = sync_apply_cache_new(h2);
	sync_entry es[MAXE];
	sync_apply_result r[MAXE];
	int failed1 = 0, failed2 = 0;

	(void)state;
	assert_non_null(c);
	workload();
	sync_set_validator(cannot_check_two);
	for (int i = 0; i < nents; i++) {
		sync_entry e = {ents[i].seq, ents[i].hlc, "staff-1", ents[i].cs, ents[i].len};
		es[i] = e;
		assert_int_equal(db_exec(h1, "BEGIN IMMEDIATE"), 0);
		if (sync_hub_apply(h1, ents[i].sc, &e, &r[i]) != 0) {
			failed1++;
			assert_int_equal(db_exec(h1, "ROLLBACK"), 0);
		} else {
			assert_int_equal(db_exec(h1, "COMMIT"), 0);
		}
	}
	for (int i = 0, j; i < nents; i = j) {
		for (j = i; j < nents && ents[j].sc == ents[i].sc; j++)
			;
		assert_int_equal(db_exec(h2, "BEGIN IMMEDIATE"), 0);
		if (sync_hub_apply_batch(h2, c, ents[i].sc, &es[i], j - i, &r[i]) != 0) {
			failed2++;
			assert_int_equal(db_exec(h2, "ROLLBACK"), 0);
		} else {
			assert_int_equal(db_exec(h2, "COMMIT"), 0);
		}
	}
	assert_true(failed1 >= 1);
	assert_true(failed2 >= 1);
	assert_int_equal(db_int(h1, "SELECT count(*) FROM quarantine WHERE reason LIKE '%cannot read%'", -1), 0);
	assert_int_equal(db_int(h2, "SELECT count(*) FROM quarantine WHERE reason LIKE '%cannot read%'", -1), 0);
	assert_int_equal(db_int(h2, "SELECT count(*) FROM checkins WHERE visitor_name='Two'", -1), 0);
	sync_set_validator(NULL);
	sync_apply_cache_free(c);
	free_workload();
	sqlite3_close(h1);
	sqlite3_close(h2);
}

/* The rows the validator saw, as JSON text (record_rows). */
static char *seen[8];
static int nseen;

static int record_rows(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
		       size_t n)
{
	(void)db, (void)op, (void)reason, (void)n;
	if (strcmp(tbl, "checkins") == 0 && nseen < 8)
		seen[nseen++] = cJSON_PrintUnformatted(row);
	return 0;
}

/*
 * The grouped apply hands the validator the row as the hub stores it: a
 * captured insert, whose values already have their columns' types, and a
 * crafted one whose values SQLite converts on storing (a number in a text
 * column, a numeric text in an integer column).  The validator must see
 * exactly what a read of the stored row gives, "42" and 7, both times.
 */
static void test_batch_validator_sees_stored_row(void **state)
{
	sqlite3 *h = open_db(1), *a = open_db(0), *x = NULL;
	sync_apply_cache *c = sync_apply_cache_new(h);
	sqlite3_session *ses = NULL;
	sqlite3_stmt *st, *ins;
	sync_entry es[2];
	sync_apply_result r[2];
	char sql[4096] = "CREATE TABLE checkins(", ph[512] = "";
	int ncol = 0, nc = 0;
	void *cs = NULL;
	const char *r1 = "0190a000-0000-7000-8000-0000000000b1";
	const char *r2 = "0190a000-0000-7000-8000-0000000000b2";

	(void)state;
	assert_non_null(c);
	nents = 0;
	write_captured(a, "000000000010.0000.nodeA", CHECKIN, r1, OFFICE, LA, "One", "000000000010.0000.nodeA");
	take(a, &scope_a);
	/* The same row under another id, through a table without types. */
	assert_int_equal(sqlite3_open(":memory:", &x), SQLITE_OK);
	assert_int_equal(db_prepare(a, &st, "SELECT name FROM pragma_table_info('checkins') ORDER BY cid"), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(sql + strlen(sql), sizeof sql - strlen(sql), "\"%s\",",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(ph + strlen(ph), sizeof ph - strlen(ph), "%s?", ncol++ ? "," : "");
	}
	sqlite3_finalize(st);
	strncat(sql, "PRIMARY KEY(id))", sizeof sql - strlen(sql) - 1);
	assert_int_equal(db_exec(x, sql), 0);
	assert_int_equal(sqlite3session_create(x, "main", &ses), SQLITE_OK);
	assert_int_equal(sqlite3session_attach(ses, "checkins"), SQLITE_OK);
	snprintf(sql, sizeof sql, "INSERT INTO checkins VALUES(%s)", ph);
	assert_int_equal(db_prepare(x, &ins, sql), 0);
	assert_int_equal(db_prepare(a, &st, "SELECT * FROM checkins WHERE id=?1"), 0);
	sqlite3_bind_text(st, 1, r1, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	for (int i = 0; i < ncol; i++) {
		const char *name = sqlite3_column_name(st, i);
		if (strcmp(name, "id") == 0)
			sqlite3_bind_text(ins, i + 1, r2, -1, SQLITE_STATIC);
		else if (strcmp(name, "visitor_name") == 0)
			sqlite3_bind_int(ins, i + 1, 42);
		else if (strcmp(name, "arrived_at") == 0)
			sqlite3_bind_text(ins, i + 1, "7", -1, SQLITE_STATIC);
		else
			sqlite3_bind_value(ins, i + 1, sqlite3_column_value(st, i));
	}
	assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
	sqlite3_finalize(ins);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3session_changeset(ses, &nc, &cs), SQLITE_OK);
	sqlite3session_delete(ses);

	es[0] = (sync_entry){ents[0].seq, ents[0].hlc, "staff-1", ents[0].cs, ents[0].len};
	es[1] = (sync_entry){ents[0].seq + 1, "000000000011.0000.nodeA", "staff-1", cs, (size_t)nc};
	nseen = 0;
	sync_set_validator(record_rows);
	assert_int_equal(db_exec(h, "BEGIN IMMEDIATE"), 0);
	assert_int_equal(sync_hub_apply_batch(h, c, &scope_a, es, 2, r), 0);
	assert_int_equal(db_exec(h, "COMMIT"), 0);
	sync_set_validator(NULL);
	assert_int_equal(r[0].applied, 1);
	assert_int_equal(r[1].applied, 1);
	assert_int_equal(nseen, 2);
	for (int i = 0; i < nseen; i++) {
		cJSON *v = cJSON_Parse(seen[i]), *stored;
		const char *id = json_str(v, "id");
		char *text;

		assert_non_null(id);
		stored = db_row_json_by(h, "SELECT * FROM checkins WHERE id=?", id);
		assert_non_null(stored);
		text = cJSON_PrintUnformatted(stored);
		assert_string_equal(seen[i], text);
		if (strcmp(id, r2) == 0) {
			assert_string_equal(json_str(v, "visitor_name"), "42");
			assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(v, "arrived_at")));
		}
		free(text);
		cJSON_Delete(stored);
		cJSON_Delete(v);
		free(seen[i]);
	}
	sqlite3_free(cs);
	sync_apply_cache_free(c);
	free_workload();
	sqlite3_close(x);
	sqlite3_close(a);
	sqlite3_close(h);
}

/* The tests of the grouped apply try it on a few rows: every group is
 * tried, however small (the hub merges one under SYNC_BATCH_MIN_ROWS). */
static int few_rows_grouped(void **state)
{
	(void)state;
	sync_set_batch_min_rows(1);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_cache_same_outcomes),
	cmocka_unit_test(test_batch_same_outcomes),
	cmocka_unit_test(test_batch_groups_the_first_of_a_row),
	cmocka_unit_test(test_small_batch_merged),
	cmocka_unit_test(test_batch_validator_refusal),
	cmocka_unit_test(test_cannot_check_is_sent_again),
	cmocka_unit_test(test_batch_validator_sees_stored_row),
	cmocka_unit_test(test_cache_other_db_refused)};

	return cmocka_run_group_tests(tests, few_rows_grouped, NULL);
}
