/*
 * clock.c - local dates and day arithmetic; see clock.h.  Day arithmetic is
 * done on civil dates (days since 1970-01-01 by Howard Hinnant's algorithm),
 * never by adding 86400 seconds, so daylight-saving changes cannot shift it.
 */
#include "clock.h"
#include "json.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#ifdef OUTPOST_TEST_HOOKS
/* Test build: OUTPOST_TEST_HOOKS_CLOCK_FILE names a file holding an offset
 * in ms added to the wall clock, read again at most every 100 ms, so a test
 * starts a daemon a day off and steps its clock while it runs.  A second
 * number, when there is one, is added to clock_boot_ms(): time that truly
 * passed (a PC asleep), where the first alone is a clock set wrong. */
static pthread_once_t skew_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t skew_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *skew_file;
static int64_t skew_ms, boot_skew_ms;
static uint64_t skew_read_at;

static void skew_init(void)
{
	const char *f = getenv("OUTPOST_TEST_HOOKS_CLOCK_FILE");

	skew_file = f && *f ? f : NULL;
}

/* The wall clock's offset, and the boot clock's in *boot (may be NULL). */
static int64_t skew2(int64_t *boot)
{
	uint64_t mono;
	int64_t v;

	pthread_once(&skew_once, skew_init);
	if (boot)
		*boot = 0;
	if (skew_file == NULL)
		return 0;
	mono = clock_mono_ms();
	pthread_mutex_lock(&skew_lock);
	if (skew_read_at == 0 || mono - skew_read_at >= 100) {
		FILE *f = fopen(skew_file, "r");
		long long x, y;
		if (f) {
			int got = fscanf(f, "%lld %lld", &x, &y);
			if (got >= 1)
				skew_ms = x;
			boot_skew_ms = got == 2 ? y : 0;
			fclose(f);
		}
		skew_read_at = mono;
	}
	v = skew_ms;
	if (boot)
		*boot = boot_skew_ms;
	pthread_mutex_unlock(&skew_lock);
	return v;
}

static int64_t skew(void)
{
	return skew2(NULL);
}

static int64_t boot_skew(void)
{
	int64_t b;

	(void)skew2(&b);
	return b;
}
#else
static int64_t skew(void)
{
	return 0;
}

static int64_t boot_skew(void)
{
	return 0;
}
#endif

uint64_t clock_boot_ms(void)
{
	struct timespec ts;

#ifdef CLOCK_BOOTTIME
	if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		return (uint64_t)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + boot_skew());
#endif
	return (uint64_t)((int64_t)clock_mono_ms() + boot_skew());
}

uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + skew());
}

void clock_local_date(uint64_t ms, char out[11])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

void clock_local_datetime(uint64_t ms, char out[17])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 17, "%Y-%m-%d %H:%M", &tm);
}

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

static int parse(const char *s, int64_t *days)
{
	if (json_valid_date(s) != 0)
		return -1;
	*days = days_from_civil(atoi(s), atoi(s + 5), atoi(s + 8));
	return 0;
}

int32_t clock_days_between(const char *a, const char *b)
{
	int64_t da, db;

	if (parse(a, &da) || parse(b, &db))
		return INT32_MIN;
	return (int32_t)(db - da);
}

int clock_date_add(const char *date, int days, char out[11])
{
	int64_t d;
	int y, m, dd;

	if (parse(date, &d))
		return -1;
	civil_from_days(d + days, &y, &m, &dd);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, dd);
	return 0;
}

int clock_weekday(const char *date)
{
	int64_t d;

	if (parse(date, &d))
		return -1;
	/* 1970-01-01 was a Thursday (4). */
	return (int)(((d % 7) + 7 + 4) % 7);
}

/* Serializes the changes of the zone (the office node's, when its office's
 * row changes at the hub: node_zone_check()).  Readers need no lock of
 * ours: glibc's localtime_r() (clock_local_date(), SQLite's 'localtime')
 * and tzset() take its own lock around the zone's rules, and the first call,
 * made at start before any thread, put TZ in the environment, so a later
 * setenv() only swaps the pointer of that entry (glibc never frees a value
 * it set): a thread that converts a time meanwhile sees the old zone or the
 * new one, whole. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

int clock_set_tz(const char *tz)
{
	char path[256];

	if (tz == NULL || *tz == '\0' || strstr(tz, ".."))
		return -1;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
	if (strcmp(tz, "UTC") != 0 && access(path, R_OK) != 0)
		return -1;
	pthread_mutex_lock(&tz_lock);
	setenv("TZ", tz, 1);
	tzset();
	pthread_mutex_unlock(&tz_lock);
	return 0;
}
