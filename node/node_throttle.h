/*
 * node_throttle.h - slowing down password guessing at the office node's
 * login, without giving anyone a way to lock the office out.
 *
 * A throttle is a bounded table of keys ("a:USER", "c:IP", "ac:IP|USER"),
 * each with a count of recent failed attempts.  After `free_tries` failures
 * a key must wait before its next attempt: 1 s, 2 s, 4 s, ... up to its
 * cap.  Failures are forgotten THROTTLE_FORGET_MS after the last one.  An
 * attempt refused because of a wait is not a failure (so hammering a
 * throttled key never extends its wait), and only the caller decides which
 * keys a success clears.  The table also counts verifications in flight
 * per key, so one client cannot fill the thread pool.
 *
 * Pure bookkeeping with the time passed in: no clock, no I/O, no logging
 * (keys name accounts and addresses; they never reach a log line).  One
 * thread (the loop) only.
 */
#ifndef OUTPOST_NODE_THROTTLE_H
#define OUTPOST_NODE_THROTTLE_H

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

#endif
