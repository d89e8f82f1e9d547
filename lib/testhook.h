/*
 * testhook.h - planted bugs for proving the replication checker
 * (tests/integration/test_converge.py).  They exist only in the sanitizer
 * test build, which defines OUTPOST_TEST_HOOKS (the SAN branch of the
 * Makefile); in a release build test_plant() is the constant 0 and the
 * compiler drops every planted branch.
 *
 * A daemon started with OUTPOST_PLANT=NAME in its environment misbehaves as
 * NAME says; the names and where they live:
 *   drop         hub_sync.c  entry seq 2 of every node is acked, never applied
 *   doubleapply  hub_sync.c  a replayed entry (seq <= acked) is applied again
 *   wallclock    apply.c     a conflicting column goes to the later arrival,
 *                            not the later HLC
 *   noconflict   apply.c     conflicting columns are merged, never recorded
 */
#ifndef OUTPOST_TESTHOOK_H
#define OUTPOST_TESTHOOK_H

#include <stdlib.h>
#include <string.h>

#ifdef OUTPOST_TEST_HOOKS
#define TEST_HOOKS_BUILT 1
/* 1 when the planted bug `name` is switched on for this process. */
static inline int test_plant(const char *name)
{
	const char *p = getenv("OUTPOST_PLANT");

	return p != NULL && strcmp(p, name) == 0;
}
#else
#define TEST_HOOKS_BUILT 0
static inline int test_plant(const char *name)
{
	(void)name;
	return 0;
}
#endif

#endif
