/*
 * holidays.h - the California state holiday calendar and business-day
 * arithmetic, shared by the greeter (which business days had no check-in)
 * and the case-work timeliness rules ("within five business days").
 *
 * The holidays are those of Government Code 19853 / 6700 as CalHR observes
 * them for state offices:
 *
 *   New Year's Day            January 1
 *   Martin Luther King Jr. Day third Monday in January
 *   Lincoln's Birthday        February 12
 *   Washington's Birthday     third Monday in February
 *   Cesar Chavez Day          March 31
 *   Memorial Day              last Monday in May
 *   Independence Day          July 4
 *   Labor Day                 first Monday in September
 *   Native American Day       fourth Friday in September
 *   Veterans Day              November 11
 *   Thanksgiving Day          fourth Thursday in November
 *   Day after Thanksgiving    the Friday after it
 *   Christmas Day             December 25
 *
 * Observed days: a fixed-date holiday on a Sunday is observed the Monday
 * after.  One on a Saturday is not moved: state offices stay open on the
 * Friday before (employees get holiday credit instead), so the Friday is a
 * business day.  Weekends are never business days.
 *
 * Dates are "YYYY-MM-DD" strings (as lib/clock.h), years 1900-2199.  No
 * function allocates; none keeps state.
 */
#ifndef OUTPOST_HOLIDAYS_H
#define OUTPOST_HOLIDAYS_H

#include <stdint.h>

#define HOLIDAYS_MAX_SPAN 40000 /* days business_days_between() walks at most */

/* Name of the state holiday observed on date ("Thanksgiving Day"; an observed
 * Monday says "Christmas Day (observed)"), or NULL when there is none or the
 * date is invalid.  The string is static. */
const char *holiday_name(const char *date);

/* 1 when date is a weekday that is not an observed state holiday, 0 when it
 * is a weekend day or a holiday, -1 when the date is invalid. */
int is_business_day(const char *date);

/*
 * Business days from a to b: the count of business days d with a < d <= b
 * (so a service on a and an entry on b are "n business days apart"), or the
 * negated count of those with b < d <= a when b is before a.  INT32_MIN when
 * a date is invalid or the span exceeds HOLIDAYS_MAX_SPAN days.
 */
int32_t business_days_between(const char *a, const char *b);

/*
 * The n-th business day after date (n > 0) or before it (n < 0) into out;
 * n == 0 copies date.  0, or -1 when the date is invalid, |n| is above
 * HOLIDAYS_MAX_SPAN, or the result leaves the supported years.
 */
int add_business_days(const char *date, int n, char out[11]);

#endif
