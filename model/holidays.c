/*
 * holidays.c - the California state holiday calendar and business days
 * (see holidays.h for the list and the observed-day rule).  Dates are turned
 * into day numbers (days since 1970-01-01, proleptic Gregorian) so a walk over
 * a range costs no string work; a year's holidays are computed when asked,
 * a dozen additions, with nothing cached.
 */
#include "model/holidays.h"
#include "lib/json.h"

#include <stdio.h>
#include <string.h>

#define YEAR_MIN 1900
#define YEAR_MAX 2199

typedef struct hday {
	int32_t day;	  /* day number of the observed day */
	const char *name; /* static */
} hday;

/* Day number of y-m-d (Howard Hinnant's days_from_civil). */
static int32_t days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int32_t)(era * 146097 + doe - 719468);
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
	int era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday). */
static int weekday(int32_t day)
{
	int w = (int)((day + 4) % 7);

	return w < 0 ? w + 7 : w;
}

/* Parse a valid date into its day number.  0 or -1. */
static int parse(const char *s, int32_t *day, int *year)
{
	int y, m, d;

	if (json_valid_date(s) != 0 || sscanf(s, "%4d-%2d-%2d", &y, &m, &d) != 3 || y > YEAR_MAX)
		return -1;
	*day = days_from_civil(y, m, d);
	if (year)
		*year = y;
	return 0;
}

/* The n-th (1-based) weekday wd of month m; n = -1: the last one. */
static int32_t nth_weekday(int y, int m, int wd, int n)
{
	int32_t first, last;

	if (n > 0) {
		first = days_from_civil(y, m, 1);
		return first + (wd - weekday(first) + 7) % 7 + 7 * (n - 1);
	}
	last = days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
	return last - (weekday(last) - wd + 7) % 7;
}

static const struct {
	int m, d;
	const char *name, *observed;
} fixed[] = {
    {1, 1, "New Year's Day", "New Year's Day (observed)"},
    {2, 12, "Lincoln's Birthday", "Lincoln's Birthday (observed)"},
    {3, 31, "Cesar Chavez Day", "Cesar Chavez Day (observed)"},
    {7, 4, "Independence Day", "Independence Day (observed)"},
    {11, 11, "Veterans Day", "Veterans Day (observed)"},
    {12, 25, "Christmas Day", "Christmas Day (observed)"},
};

/* The observed holidays of year y into out (room for 16); their count. */
static int year_holidays(int y, hday out[16])
{
	int n = 0;
	int32_t thanks;

	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		int32_t d = days_from_civil(y, fixed[i].m, fixed[i].d);
		int w = weekday(d);
		if (w == 0)
			out[n++] = (hday){d + 1, fixed[i].observed};
		else if (w != 6) /* a Saturday holiday is not moved (holidays.h) */
			out[n++] = (hday){d, fixed[i].name};
	}
	out[n++] = (hday){nth_weekday(y, 1, 1, 3), "Martin Luther King Jr. Day"};
	out[n++] = (hday){nth_weekday(y, 2, 1, 3), "Washington's Birthday"};
	out[n++] = (hday){nth_weekday(y, 5, 1, -1), "Memorial Day"};
	out[n++] = (hday){nth_weekday(y, 9, 1, 1), "Labor Day"};
	out[n++] = (hday){nth_weekday(y, 9, 5, 4), "Native American Day"};
	thanks = nth_weekday(y, 11, 4, 4);
	out[n++] = (hday){thanks, "Thanksgiving Day"};
	out[n++] = (hday){thanks + 1, "Day after Thanksgiving"};
	return n;
}

static const char *day_holiday(int32_t day)
{
	hday hs[16];
	int y, m, d, n;

	civil_from_days(day, &y, &m, &d);
	n = year_holidays(y, hs);
	for (int i = 0; i < n; i++)
		if (hs[i].day == day)
			return hs[i].name;
	return NULL;
}

static int day_is_business(int32_t day)
{
	int w = weekday(day);

	return w != 0 && w != 6 && day_holiday(day) == NULL;
}

const char *holiday_name(const char *date)
{
	int32_t day;

	if (parse(date, &day, NULL) != 0)
		return NULL;
	return day_holiday(day);
}

int is_business_day(const char *date)
{
	int32_t day;

	if (parse(date, &day, NULL) != 0)
		return -1;
	return day_is_business(day);
}

int32_t business_days_between(const char *a, const char *b)
{
	int32_t da, db, lo, hi, n = 0;

	if (parse(a, &da, NULL) != 0 || parse(b, &db, NULL) != 0)
		return INT32_MIN;
	lo = da < db ? da : db;
	hi = da < db ? db : da;
	if (hi - lo > HOLIDAYS_MAX_SPAN)
		return INT32_MIN;
	for (int32_t d = lo + 1; d <= hi; d++)
		n += day_is_business(d);
	return db >= da ? n : -n;
}

int add_business_days(const char *date, int n, char out[11])
{
	int32_t day, lim_lo = days_from_civil(YEAR_MIN, 1, 1),
		     lim_hi = days_from_civil(YEAR_MAX, 12, 31);
	int step = n < 0 ? -1 : 1, left = n < 0 ? -n : n, y, m, d;

	if (parse(date, &day, NULL) != 0 || left > HOLIDAYS_MAX_SPAN)
		return -1;
	while (left > 0) {
		day += step;
		if (day < lim_lo || day > lim_hi)
			return -1;
		left -= day_is_business(day);
	}
	civil_from_days(day, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return 0;
}
