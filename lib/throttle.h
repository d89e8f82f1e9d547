/*
 * throttle.h - slowing down password guessing without giving anyone a way to
 * lock an office out: the one login throttle of the tree, used by the office
 * node's login (node/node_login.c) and the hub console's sign-in
 * (hub/acct_session.c).
 *
 * A throttle is a bounded table of keys (e.g. "a:USER", "c:IP",
 * "ac:IP|USER"), each with a count of recent failed attempts.  After
 * `free_tries` failures a key must wait before its next attempt: 1 s, 2 s,
 * 4 s, ... up to its cap.  Failures are forgotten THROTTLE_FORGET_MS (or the
 * table's own throttle_set_forget() time) after the last one.  A key may
 * also hold a token bucket (throttle_bucket_*), and a key may be merely
 * noted as seen (throttle_note/throttle_seen: "this user signed in from
 * this client before").  An
 * attempt refused because of a wait is not a failure (so hammering a
 * throttled key never extends its wait), and only the caller decides which
 * keys a success clears.  The table also counts verifications in flight
 * per key, so one client cannot fill the thread pool.
 *
 * Pure bookkeeping with the time passed in: no clock, no I/O, no logging
 * (keys name accounts and addresses; they never reach a log line).  One
 * thread (the loop) only.
 */
#ifndef OUTPOST_THROTTLE_H
#define OUTPOST_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_KEY_MAX 160
#define THROTTLE_FORGET_MS (15 * 60 * 1000)

typedef struct throttle throttle;

/* A table of at most `max` keys (the least recently failed idle key is
 * dropped when full).  NULL when out of memory.  Free with throttle_free. */
throttle *throttle_new(size_t max);
void throttle_free(throttle *t);

/* Milliseconds key must still wait at now (0: it may try). */
uint64_t throttle_wait(throttle *t, const char *key, uint64_t now);
/* Record a failure of key at now; after free_tries failures each further one
 * makes key wait 2^(failures - free_tries - 1) seconds, at most cap_ms. */
void throttle_fail(throttle *t, const char *key, uint64_t now, unsigned free_tries,
		   uint64_t cap_ms);
/* Recent failures of key (0 once forgotten). */
unsigned throttle_failures(throttle *t, const char *key, uint64_t now);
/* Forget key's failures. */
void throttle_clear(throttle *t, const char *key);
/* Verifications in flight for key: add delta (+1 / -1), return the new count. */
int throttle_inflight(throttle *t, const char *key, int delta);
/* Forget a key's failures (and drop an idle key) forget_ms after its last
 * failure or note, instead of THROTTLE_FORGET_MS. */
void throttle_set_forget(throttle *t, uint64_t forget_ms);

/*
 * A token bucket of `size` tokens refilled one per refill_ms (a client's
 * budget of failures, against password spraying from one address).
 * throttle_bucket_wait: milliseconds until key holds a whole token (0 now;
 * a key never charged holds a full bucket).  throttle_bucket_take: take one
 * token (the bucket may go negative, lengthening the wait).
 */
uint64_t throttle_bucket_wait(throttle *t, const char *key, uint64_t now, double size,
			      uint64_t refill_ms);
void throttle_bucket_take(throttle *t, const char *key, uint64_t now, double size,
			  uint64_t refill_ms);
/* Note key as seen at now; throttle_seen: 1 when noted and not yet forgotten. */
void throttle_note(throttle *t, const char *key, uint64_t now);
int throttle_seen(throttle *t, const char *key, uint64_t now);

#endif
