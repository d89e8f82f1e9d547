/*
 * testutil.h - small helpers shared by the cmocka unit tests: a private
 * temporary directory per test, its recursive removal, and a watchdog so a
 * hung test fails instead of blocking the run.  Linked into every unit-test
 * binary (see the Makefile), so keep it generic: nothing here knows about
 * HTTP, SQLite or the domain.
 */
#ifndef OUTPOST_TESTUTIL_H
#define OUTPOST_TESTUTIL_H

#include <stddef.h>

/* Create a fresh directory under $TMPDIR (or /tmp) named "outpost-TAG-XXXXXX".
 * Returns the path (caller frees, usually with tu_rmtree first) or NULL. */
char *tu_tmpdir(const char *tag);
/* Remove path and everything below it.  0, or -1 if something stayed. */
int tu_rmtree(const char *path);
/* Kill the process with SIGALRM after `seconds` (0 cancels): a test that hangs
 * fails on its own instead of waiting for the runner's timeout. */
void tu_watchdog(unsigned seconds);

#endif
