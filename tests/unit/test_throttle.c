/*
 * test_throttle.c - unit tests for lib/throttle.c, the failed
 * sign-in bookkeeping, with the time passed in: free tries, the doubling
 * wait and its cap, forgetting after THROTTLE_FORGET_MS, clearing, the
 * in-flight count, and a full table that drops its stalest idle key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "lib/throttle.h"
#include "testutil.h"

static void test_free_tries_then_doubling(void **state)
{
	throttle *t = throttle_new(16);
	uint64_t now = 1000000;

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(throttle_wait(t, "k", now), 0);
		throttle_fail(t, "k", now, 5, 60000);
	}
	assert_int_equal(throttle_wait(t, "k", now), 0); /* 5 free failures */
	throttle_fail(t, "k", now, 5, 60000);            /* 6th: 1 s */
	assert_int_equal(throttle_wait(t, "k", now), 1000);
	assert_int_equal(throttle_wait(t, "k", now + 999), 1);
	assert_int_equal(throttle_wait(t, "k", now + 1000), 0);
	throttle_fail(t, "k", now + 1000, 5, 60000);     /* 7th: 2 s */
	assert_int_equal(throttle_wait(t, "k", now + 1000), 2000);
	for (int i = 0; i < 40; i++)
		throttle_fail(t, "k", now + 2000, 5, 60000);
	assert_int_equal(throttle_wait(t, "k", now + 2000), 60000); /* capped */
	assert_int_equal(throttle_wait(t, "other", now), 0);
	throttle_free(t);
}

static void test_forget_and_clear(void **state)
{
	throttle *t = throttle_new(16);
	uint64_t now = 5000000;

	(void)state;
	for (int i = 0; i < 8; i++)
		throttle_fail(t, "k", now, 2, 900000);
	assert_int_equal(throttle_failures(t, "k", now), 8);
	assert_true(throttle_wait(t, "k", now) > 0);
	/* Forgotten once THROTTLE_FORGET_MS pass without a failure. */
	assert_int_equal(throttle_failures(t, "k", now + THROTTLE_FORGET_MS), 0);
	assert_int_equal(throttle_wait(t, "k", now + THROTTLE_FORGET_MS), 0);
	for (int i = 0; i < 8; i++)
		throttle_fail(t, "k", now, 2, 900000);
	throttle_clear(t, "k");
	assert_int_equal(throttle_wait(t, "k", now), 0);
	assert_int_equal(throttle_failures(t, "k", now), 0);
	throttle_free(t);
}

static void test_inflight_and_full_table(void **state)
{
	throttle *t = throttle_new(2);
	char key[16];

	(void)state;
	assert_int_equal(throttle_inflight(t, "c:a", +1), 1);
	assert_int_equal(throttle_inflight(t, "c:a", +1), 2);
	assert_int_equal(throttle_inflight(t, "c:a", 0), 2);
	/* A busy key is never evicted: the other slot is reused instead. */
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "x%d", i);
		throttle_fail(t, key, 100 + (uint64_t)i, 0, 1000);
	}
	assert_int_equal(throttle_inflight(t, "c:a", 0), 2);
	assert_int_equal(throttle_failures(t, "x9", 200), 1);
	assert_int_equal(throttle_failures(t, "x8", 200), 0); /* dropped */
	assert_int_equal(throttle_inflight(t, "c:a", -1), 1);
	assert_int_equal(throttle_inflight(t, "c:a", -1), 0);
	assert_int_equal(throttle_inflight(t, "c:a", -1), 0);
	throttle_free(NULL);
	throttle_free(t);
}

/* The table fills slot by slot (slots never used are never read, so
 * their pages cost nothing): every key is kept until the bound, then the
 * least recently failed idle key gives way, and only one. */
static void test_fills_then_evicts_stalest(void **state)
{
	throttle *t = throttle_new(64);
	char key[16];

	(void)state;
	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof key, "k%d", i);
		throttle_fail(t, key, 1000 + (uint64_t)(i == 5 ? 0 : i + 10), 0, 1000);
	}
	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(throttle_failures(t, key, 2000), 1);
	}
	throttle_fail(t, "new", 3000, 0, 1000);
	assert_int_equal(throttle_failures(t, "new", 3000), 1);
	assert_int_equal(throttle_failures(t, "k5", 3000), 0); /* the stalest */
	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof key, "k%d", i);
		if (i != 5)
			assert_int_equal(throttle_failures(t, key, 3000), 1);
	}
	throttle_free(t);
}

/* The hub's client budget: a bucket of 3 refilled one per second. */
static void test_bucket(void **state)
{
	throttle *t = throttle_new(16);
	uint64_t now = 1000000;

	(void)state;
	assert_int_equal(throttle_bucket_wait(t, "c", now, 3.0, 1000), 0); /* never charged */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(throttle_bucket_wait(t, "c", now, 3.0, 1000), 0);
		throttle_bucket_take(t, "c", now, 3.0, 1000);
	}
	assert_int_equal(throttle_bucket_wait(t, "c", now, 3.0, 1000), 1000); /* empty */
	assert_int_equal(throttle_bucket_wait(t, "c", now + 500, 3.0, 1000), 500);
	assert_int_equal(throttle_bucket_wait(t, "c", now + 1000, 3.0, 1000), 0);
	throttle_bucket_take(t, "c", now + 1000, 3.0, 1000);
	throttle_bucket_take(t, "c", now + 1000, 3.0, 1000); /* below zero: longer */
	assert_int_equal(throttle_bucket_wait(t, "c", now + 1000, 3.0, 1000), 2000);
	/* Refilled, never above its size. */
	assert_int_equal(throttle_bucket_wait(t, "c", now + 100000, 3.0, 1000), 0);
	for (int i = 0; i < 3; i++)
		throttle_bucket_take(t, "c", now + 100000, 3.0, 1000);
	assert_int_equal(throttle_bucket_wait(t, "c", now + 100000, 3.0, 1000), 1000);
	throttle_free(t);
}

static void test_note_and_forget_time(void **state)
{
	throttle *t = throttle_new(16);
	uint64_t now = 1000000;

	(void)state;
	throttle_set_forget(t, 60000);
	assert_false(throttle_seen(t, "k:u|c", now));
	throttle_note(t, "k:u|c", now);
	assert_true(throttle_seen(t, "k:u|c", now + 59999));
	assert_false(throttle_seen(t, "k:u|c", now + 60000));
	/* Failures follow the table's forget time too. */
	for (int i = 0; i < 4; i++)
		throttle_fail(t, "p", now, 2, 900000);
	assert_int_equal(throttle_failures(t, "p", now + 59999), 4);
	assert_int_equal(throttle_failures(t, "p", now + 60000), 0);
	throttle_free(t);
}

TU_MAIN(cmocka_unit_test(test_free_tries_then_doubling),
	cmocka_unit_test(test_forget_and_clear),
	cmocka_unit_test(test_inflight_and_full_table),
	cmocka_unit_test(test_fills_then_evicts_stalest),
	cmocka_unit_test(test_bucket),
	cmocka_unit_test(test_note_and_forget_time))
