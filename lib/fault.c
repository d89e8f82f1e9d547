/*
 * fault.c - named crash points for the fault-injection tests; see fault.h.
 * Compiled into every build, but without OUTPOST_TEST_HOOKS it holds only
 * the overrides (fault_sync_interval_ms(), fault_snapshot_rows(), ...)
 * returning 0.
 */
#include "lib/fault.h"

#include <stdlib.h>

#ifdef OUTPOST_TEST_HOOKS
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
static char fault_name[64];
static long fault_at;   /* passage that kills, 0 = none */
static long fault_seen; /* passages so far (atomic) */

static void fault_init(void)
{
	const char *v = getenv("OUTPOST_FAULT");
	const char *colon;
	size_t n;

	if (v == NULL || (colon = strrchr(v, ':')) == NULL)
		return;
	n = (size_t)(colon - v);
	if (n == 0 || n >= sizeof fault_name)
		return;
	memcpy(fault_name, v, n);
	fault_name[n] = '\0';
	fault_at = strtol(colon + 1, NULL, 10);
	if (fault_at < 1)
		fault_at = 1;
}

/* OUTPOST_TEST_HOOKS_PAUSE="NAME:FILE": at the point NAME, while FILE
 * exists, wait (FILE.at is created first, to say so). */
static void fault_pause(const char *name)
{
	const char *v = getenv("OUTPOST_TEST_HOOKS_PAUSE");
	const char *colon = v ? strchr(v, ':') : NULL;
	char at[4096];
	FILE *f;

	if (colon == NULL || strncmp(v, name, (size_t)(colon - v)) != 0 ||
	    name[colon - v] != '\0' || access(colon + 1, F_OK) != 0)
		return;
	snprintf(at, sizeof at, "%s.at", colon + 1);
	if ((f = fopen(at, "w")) != NULL)
		fclose(f);
	while (access(colon + 1, F_OK) == 0) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

void fault_point(const char *name)
{
	pthread_once(&fault_once, fault_init);
	fault_pause(name);
	if (fault_at == 0 || strcmp(name, fault_name) != 0)
		return;
	if (__atomic_add_fetch(&fault_seen, 1, __ATOMIC_SEQ_CST) == fault_at) {
		static const char msg[] = "fault point reached: SIGKILL\n";
		/* Not log.h: a crash point stays free of locks and allocation. */
		if (write(2, msg, sizeof msg - 1) < 0) {
			/* nothing to do */
		}
		raise(SIGKILL);
	}
}

/* A positive integer from the environment, else 0. */
static int64_t env_positive(const char *name)
{
	const char *v = getenv(name);
	long long x = v ? strtoll(v, NULL, 10) : 0;

	return x > 0 ? (int64_t)x : 0;
}
#else
/* Without the hooks every override is 0: use the defaults. */
static int64_t env_positive(const char *name)
{
	(void)name;
	return 0;
}
#endif

int64_t fault_sync_interval_ms(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_SYNC_MS");
}

int64_t fault_snapshot_rows(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_SNAPSHOT_ROWS");
}

int64_t fault_snapshot_bytes(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_SNAPSHOT_BYTES");
}

int64_t fault_push_entries(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_PUSH_ENTRIES");
}

int64_t fault_pull_rows(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_PULL_ROWS");
}

int64_t fault_bundle_bytes(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_BUNDLE_BYTES");
}

int64_t fault_wal_limit(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_WAL_BYTES");
}

int64_t fault_hash_delay_ms(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_HASH_DELAY_MS");
}

int64_t fault_sync_job_delay_ms(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_SYNC_JOB_DELAY_MS");
}

int64_t fault_reencrypt_delay_ms(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_REENCRYPT_DELAY_MS");
}

int64_t fault_schema_behind(void)
{
	return env_positive("OUTPOST_TEST_HOOKS_SCHEMA_BEHIND");
}
