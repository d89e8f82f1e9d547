/*
 * throttle.c - failed-login bookkeeping; see throttle.h.  A flat
 * array scanned linearly: a few thousand keys at most, looked up a few times
 * per login attempt, which costs far less than one PBKDF2 round.
 */
#include "lib/throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct thr_entry {
	char te_key[THROTTLE_KEY_MAX];
	unsigned te_failures;
	uint64_t te_last_ms;  /* last failure (or note, or bucket charge) */
	uint64_t te_until_ms; /* may try again from */
	uint64_t te_seen_ms;  /* throttle_note() */
	double te_tokens;     /* token bucket, when te_bucket */
	uint64_t te_bucket_ms; /* last refill */
	int te_bucket;
	int te_inflight;
	int te_used;
} thr_entry;

struct throttle {
	thr_entry *t_ent;
	size_t t_max;
	size_t t_top; /* slots ever used: [0, t_top); the rest are never read */
	uint64_t t_forget_ms;
};

throttle *throttle_new(size_t max)
{
	throttle *t = calloc(1, sizeof *t);

	if (t == NULL)
		return NULL;
	t->t_ent = calloc(max ? max : 1, sizeof *t->t_ent);
	if (t->t_ent == NULL) {
		free(t);
		return NULL;
	}
	t->t_max = max ? max : 1;
	t->t_forget_ms = THROTTLE_FORGET_MS;
	return t;
}

void throttle_set_forget(throttle *t, uint64_t forget_ms)
{
	t->t_forget_ms = forget_ms;
}

void throttle_free(throttle *t)
{
	if (t == NULL)
		return;
	free(t->t_ent);
	free(t);
}

static thr_entry *find(throttle *t, const char *key)
{
	for (size_t i = 0; i < t->t_top; i++)
		if (t->t_ent[i].te_used && strcmp(t->t_ent[i].te_key, key) == 0)
			return &t->t_ent[i];
	return NULL;
}

/* key's entry, created when missing (evicting the stalest idle one). */
static thr_entry *get(throttle *t, const char *key)
{
	thr_entry *e = find(t, key), *victim = NULL;

	if (e)
		return e;
	for (size_t i = 0; i < t->t_top; i++) {
		thr_entry *x = &t->t_ent[i];
		if (!x->te_used) {
			victim = x;
			break;
		}
		if (x->te_inflight == 0 && (victim == NULL || x->te_last_ms < victim->te_last_ms))
			victim = x;
	}
	/* A slot never used before an idle one is evicted: the table grows
	 * into its bound only as keys come, and its untouched pages cost
	 * nothing. */
	if ((victim == NULL || victim->te_used) && t->t_top < t->t_max)
		victim = &t->t_ent[t->t_top++];
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof *victim);
	snprintf(victim->te_key, sizeof victim->te_key, "%s", key);
	victim->te_used = 1;
	return victim;
}

static void decay(const throttle *t, thr_entry *e, uint64_t now)
{
	if (e->te_failures && now >= e->te_last_ms + t->t_forget_ms) {
		e->te_failures = 0;
		e->te_until_ms = 0;
	}
}

uint64_t throttle_wait(throttle *t, const char *key, uint64_t now)
{
	thr_entry *e = find(t, key);

	if (e == NULL)
		return 0;
	decay(t, e, now);
	return e->te_until_ms > now ? e->te_until_ms - now : 0;
}

void throttle_fail(throttle *t, const char *key, uint64_t now, unsigned free_tries,
		   uint64_t cap_ms)
{
	thr_entry *e = get(t, key);
	uint64_t d;

	if (e == NULL)
		return;
	decay(t, e, now);
	if (e->te_failures < 1000000)
		e->te_failures++;
	e->te_last_ms = now;
	if (e->te_failures <= free_tries)
		return;
	d = e->te_failures - free_tries - 1 >= 30 ? cap_ms
						   : 1000ull << (e->te_failures - free_tries - 1);
	if (d > cap_ms)
		d = cap_ms;
	e->te_until_ms = now + d;
}

unsigned throttle_failures(throttle *t, const char *key, uint64_t now)
{
	thr_entry *e = find(t, key);

	if (e == NULL)
		return 0;
	decay(t, e, now);
	return e->te_failures;
}

void throttle_clear(throttle *t, const char *key)
{
	thr_entry *e = find(t, key);

	if (e == NULL)
		return;
	e->te_failures = 0;
	e->te_until_ms = 0;
}

int throttle_inflight(throttle *t, const char *key, int delta)
{
	thr_entry *e = delta > 0 ? get(t, key) : find(t, key);

	if (e == NULL)
		return delta > 0 ? 1 << 20 : 0; /* table full of busy keys: refuse */
	e->te_inflight += delta;
	if (e->te_inflight < 0)
		e->te_inflight = 0;
	return e->te_inflight;
}

static void refill(thr_entry *e, uint64_t now, double size, uint64_t refill_ms)
{
	if (!e->te_bucket) {
		e->te_bucket = 1;
		e->te_tokens = size;
	} else if (e->te_tokens < size && now > e->te_bucket_ms && refill_ms > 0) {
		e->te_tokens += (double)(now - e->te_bucket_ms) / (double)refill_ms;
		if (e->te_tokens > size)
			e->te_tokens = size;
	}
	if (now > e->te_bucket_ms)
		e->te_bucket_ms = now;
}

uint64_t throttle_bucket_wait(throttle *t, const char *key, uint64_t now, double size,
			      uint64_t refill_ms)
{
	thr_entry *e = find(t, key);

	if (e == NULL || !e->te_bucket)
		return 0;
	refill(e, now, size, refill_ms);
	if (e->te_tokens >= 1.0)
		return 0;
	return (uint64_t)((1.0 - e->te_tokens) * (double)refill_ms);
}

void throttle_bucket_take(throttle *t, const char *key, uint64_t now, double size,
			  uint64_t refill_ms)
{
	thr_entry *e = get(t, key);

	if (e == NULL)
		return;
	refill(e, now, size, refill_ms);
	e->te_tokens -= 1.0;
	e->te_last_ms = now;
}

void throttle_note(throttle *t, const char *key, uint64_t now)
{
	thr_entry *e = get(t, key);

	if (e == NULL)
		return;
	e->te_seen_ms = now;
	if (now > e->te_last_ms)
		e->te_last_ms = now;
}

int throttle_seen(throttle *t, const char *key, uint64_t now)
{
	thr_entry *e = find(t, key);

	return e != NULL && e->te_seen_ms != 0 && now < e->te_seen_ms + t->t_forget_ms;
}
