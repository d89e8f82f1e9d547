/*
 * test_holidays.c - the California state holiday calendar (model/holidays.c):
 * fixed and floating holidays over several years, the Sunday -> Monday
 * observed rule and the Saturday rule (the Friday stays a business day),
 * business days between two dates across Thanksgiving, and adding business
 * days forwards and backwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "model/holidays.h"
#include "testutil.h"

static void expect_holiday(const char *date, const char *name)
{
	const char *got = holiday_name(date);

	if (got == NULL)
		fail_msg("%s: expected '%s', got no holiday", date, name);
	assert_string_equal(got, name);
	assert_int_equal(is_business_day(date), 0);
}

static void expect_open(const char *date)
{
	const char *got = holiday_name(date);

	if (got != NULL)
		fail_msg("%s: expected a business day, got '%s'", date, got);
	assert_int_equal(is_business_day(date), 1);
}

static void test_fixed_and_floating(void **state)
{
	(void)state;
	expect_holiday("2026-01-01", "New Year's Day");
	expect_holiday("2026-01-19", "Martin Luther King Jr. Day");
	expect_holiday("2026-02-12", "Lincoln's Birthday");
	expect_holiday("2026-02-16", "Washington's Birthday");
	expect_holiday("2026-03-31", "Cesar Chavez Day");
	expect_holiday("2026-05-25", "Memorial Day");
	expect_holiday("2026-09-07", "Labor Day");
	expect_holiday("2026-09-25", "Native American Day");
	expect_holiday("2026-11-11", "Veterans Day");
	expect_holiday("2026-11-26", "Thanksgiving Day");
	expect_holiday("2026-11-27", "Day after Thanksgiving");
	expect_holiday("2026-12-25", "Christmas Day");
	/* Other years: the floating days move with the calendar. */
	expect_holiday("2024-09-27", "Native American Day");
	expect_holiday("2025-09-26", "Native American Day");
	expect_holiday("2024-11-28", "Thanksgiving Day");
	expect_holiday("2024-11-29", "Day after Thanksgiving");
	expect_holiday("2027-11-25", "Thanksgiving Day");
	expect_holiday("2027-11-26", "Day after Thanksgiving");
	expect_holiday("2025-03-31", "Cesar Chavez Day");
	/* Ordinary days around them. */
	expect_open("2026-11-25");
	expect_open("2026-11-30");
	expect_open("2026-09-24");
	expect_open("2026-12-02");
	/* Weekends are never business days, and have no holiday name. */
	assert_int_equal(is_business_day("2026-11-28"), 0);
	assert_int_equal(is_business_day("2026-11-29"), 0);
	assert_null(holiday_name("2026-11-29"));
}

static void test_observed(void **state)
{
	(void)state;
	/* Sunday holidays move to Monday. */
	assert_int_equal(is_business_day("2024-03-31"), 0); /* a Sunday */
	expect_holiday("2024-04-01", "Cesar Chavez Day (observed)");
	expect_holiday("2022-12-26", "Christmas Day (observed)");
	expect_holiday("2023-01-02", "New Year's Day (observed)");
	expect_holiday("2029-02-12", "Lincoln's Birthday"); /* a Monday: itself */
	expect_open("2023-11-10"); /* Veterans Day 2023 was a Saturday */
}

static void test_saturday_not_moved(void **state)
{
	(void)state;
	/* July 4 2026 is a Saturday: offices are open on Friday July 3. */
	assert_int_equal(is_business_day("2026-07-04"), 0);
	assert_null(holiday_name("2026-07-04"));
	expect_open("2026-07-03");
	expect_open("2026-07-06");
	/* Christmas 2027 is a Saturday: Friday Dec 24 is a business day. */
	expect_open("2027-12-24");
}

static void test_between(void **state)
{
	(void)state;
	/* Friday before Thanksgiving week to the Wednesday after it: Thursday
	 * and Friday are holidays, the weekend does not count. */
	assert_int_equal(business_days_between("2026-11-20", "2026-12-02"), 6);
	assert_int_equal(business_days_between("2026-12-02", "2026-11-20"), -6);
	assert_int_equal(business_days_between("2026-11-25", "2026-11-30"), 1);
	assert_int_equal(business_days_between("2026-11-25", "2026-11-25"), 0);
	assert_int_equal(business_days_between("2026-11-26", "2026-11-27"), 0);
	/* A whole year: 261 weekdays in 2026 less 12 weekday holidays (July 4
	 * is a Saturday). */
	assert_int_equal(business_days_between("2025-12-31", "2026-12-31"), 261 - 12);
	assert_int_equal(business_days_between("2026-02-30", "2026-03-01"), INT32_MIN);
	assert_int_equal(business_days_between("2026-01-01", "nope"), INT32_MIN);
	assert_int_equal(is_business_day("2026-13-01"), -1);
	assert_null(holiday_name(NULL));
}

static void test_add(void **state)
{
	char out[11];

	(void)state;
	/* Five business days after Friday Nov 20 2026: Mon-Wed, then Monday
	 * Nov 30 and Tuesday Dec 1 (Thanksgiving and the day after skipped). */
	assert_int_equal(add_business_days("2026-11-20", 5, out), 0);
	assert_string_equal(out, "2026-12-01");
	assert_int_equal(add_business_days("2026-11-25", 1, out), 0);
	assert_string_equal(out, "2026-11-30");
	assert_int_equal(add_business_days("2026-11-30", -1, out), 0);
	assert_string_equal(out, "2026-11-25");
	assert_int_equal(add_business_days("2024-03-29", 1, out), 0); /* Cesar Chavez observed Monday */
	assert_string_equal(out, "2024-04-02");
	assert_int_equal(add_business_days("2026-11-26", 0, out), 0);
	assert_string_equal(out, "2026-11-26");
	/* Consistent with business_days_between. */
	for (int n = 1; n < 400; n += 7) {
		assert_int_equal(add_business_days("2026-01-01", n, out), 0);
		assert_int_equal(business_days_between("2026-01-01", out), n);
		assert_int_equal(is_business_day(out), 1);
	}
	assert_int_equal(add_business_days("2026-02-29", 1, out), -1);
	assert_int_equal(add_business_days("2026-01-01", HOLIDAYS_MAX_SPAN + 1, out), -1);
}

TU_MAIN(cmocka_unit_test(test_fixed_and_floating),
	cmocka_unit_test(test_observed),
	cmocka_unit_test(test_saturday_not_moved),
	cmocka_unit_test(test_between),
	cmocka_unit_test(test_add))
