/*
 * clock.h - wall-clock helpers in the office's time zone (the process TZ,
 * set from configuration at start-up; an office node's follows its office's
 * row, set at the hub).  All instants are Unix milliseconds.
 */
#ifndef OUTPOST_CLOCK_H
#define OUTPOST_CLOCK_H

#include <stdint.h>

/* The wall clock (the test build may offset it: OUTPOST_TEST_HOOKS_CLOCK_FILE,
 * see clock.c).  Never for a duration or an expiry kept in memory. */
uint64_t clock_ms(void);
/* Milliseconds of a clock that never jumps (CLOCK_MONOTONIC): durations and
 * in-memory expiries (sessions), which a clock set back or forward must not
 * cut short or stretch. */
uint64_t clock_mono_ms(void);
/* The same counting the time the computer slept too (CLOCK_BOOTTIME where
 * there is one): how far a wall clock may truly have moved meanwhile (the
 * test build may offset it: OUTPOST_TEST_HOOKS_CLOCK_FILE's second number). */
uint64_t clock_boot_ms(void);
/* "YYYY-MM-DD" of ms in local time. */
void clock_local_date(uint64_t ms, char out[11]);
/* "YYYY-MM-DD HH:MM" local. */
void clock_local_datetime(uint64_t ms, char out[17]);
/* Days from date a to date b (both "YYYY-MM-DD"), b - a; INT32_MIN if invalid. */
int32_t clock_days_between(const char *a, const char *b);
/* Date plus n days. 0 or -1 when date is invalid. */
int clock_date_add(const char *date, int days, char out[11]);
/* 0=Sunday .. 6=Saturday, -1 if invalid. */
int clock_weekday(const char *date);
/* Set the process time zone (e.g. "America/Los_Angeles"). 0 or -1 when unknown.
 * The first call comes before any thread starts; later ones (an office's
 * zone changed at the hub) may come while other threads convert times. */
int clock_set_tz(const char *tz);

#endif
