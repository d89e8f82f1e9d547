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

/* Table-driven checks of a validator int fn(const char *): each case is
 * {input, expected result}; a mismatch fails the test naming the validator,
 * the input and both results.  Expands to cmocka's fail_msg, so it is for a
 * test body (which includes cmocka.h) only. */
#define TU_CHECK_TEXT(fn, ...)                                                               \
	do {                                                                                 \
		static const struct {                                                        \
			const char *in;                                                      \
			int want;                                                            \
		} tu_c_[] = {__VA_ARGS__};                                                   \
		for (size_t tu_i_ = 0; tu_i_ < sizeof tu_c_ / sizeof tu_c_[0]; tu_i_++) {    \
			int tu_got_ = fn(tu_c_[tu_i_].in);                                   \
			if (tu_got_ != tu_c_[tu_i_].want)                                    \
				fail_msg("%s(\"%s\"): %d, expected %d", #fn,                   \
					 tu_c_[tu_i_].in ? tu_c_[tu_i_].in : "(null)", tu_got_,      \
					 tu_c_[tu_i_].want);                                         \
		}                                                                            \
	} while (0)

/* The whole main() of a unit-test binary whose tests need no group setup:
 * TU_MAIN(cmocka_unit_test(a), cmocka_unit_test(b)) runs a then b and
 * exits with the number that failed.  For a file that includes cmocka.h. */
#define TU_MAIN(...)                                                                         \
	int main(void)                                                                       \
	{                                                                                    \
		const struct CMUnitTest tu_tests_[] = {__VA_ARGS__};                         \
		return cmocka_run_group_tests(tu_tests_, NULL, NULL);                        \
	}

#endif
