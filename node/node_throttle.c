/*
 * node_throttle.c - failed-login bookkeeping; see node_throttle.h.  A flat
 * array scanned linearly: a few thousand keys at most, looked up a few times
 * per login attempt, which costs far less than one PBKDF2 round.
 */
#include "node/node_throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct thr_entry {
	char te_key[THROTTLE_KEY_MAX];
	unsigned te_failures;
	uint64_t te_last_ms;  /* last failure */
	uint64_t te_until_ms; /* may try again from */
	int te_inflight;
	int te_used;
} thr_entry;

struct throttle {
	thr_entry *t_ent;
	size_t t_max;
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
	return t;
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
	for (size_t i = 0; i < t->t_max; i++)
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
	for (size_t i = 0; i < t->t_max; i++) {
		thr_entry *x = &t->t_ent[i];
		if (!x->te_used) {
			victim = x;
			break;
		}
		if (x->te_inflight == 0 && (victim == NULL || x->te_last_ms < victim->te_last_ms))
			victim = x;
	}
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof *victim);
	snprintf(victim->te_key, sizeof victim->te_key, "%s", key);
	victim->te_used = 1;
	return victim;
}

static void decay(thr_entry *e, uint64_t now)
{
	if (e->te_failures && now >= e->te_last_ms + THROTTLE_FORGET_MS) {
		e->te_failures = 0;
		e->te_until_ms = 0;
	}
}

uint64_t throttle_wait(throttle *t, const char *key, uint64_t now)
{
	thr_entry *e = find(t, key);

	if (e == NULL)
		return 0;
	decay(e, now);
	return e->te_until_ms > now ? e->te_until_ms - now : 0;
}

void throttle_fail(throttle *t, const char *key, uint64_t now, unsigned free_tries,
		   uint64_t cap_ms)
{
	thr_entry *e = get(t, key);
	uint64_t d;

	if (e == NULL)
		return;
	decay(e, now);
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
	decay(e, now);
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
