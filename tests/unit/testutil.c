/*
 * testutil.c - helpers shared by the unit tests (temporary directories, a
 * watchdog); see testutil.h.  Test code only: failures are reported to the
 * caller and never abort, so a test can assert on them with its own message.
 */
#define _XOPEN_SOURCE 700
#include "tests/unit/testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path = NULL;
	size_t n;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	n = strlen(base) + strlen(tag ? tag : "test") + 32;
	path = malloc(n);
	if (path == NULL)
		goto out;
	snprintf(path, n, "%s/outpost-%s-XXXXXX", base, tag ? tag : "test");
	if (mkdtemp(path) == NULL) {
		free(path);
		path = NULL;
	}
out:
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

int tu_rmtree(const char *path)
{
	if (path == NULL)
		return 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

void tu_watchdog(unsigned seconds) { alarm(seconds); }
