/*
 * node_greeter_days.c - the office's visits per business day (issue 14): the
 * greeter must be used every day [SLO policy 34-19], so the visits page and
 * the home page show each day of a range with its visits, whether it was a
 * business day (weekends and California state holidays are not,
 * model/holidays.h), and the business days before today with no check-in.
 *
 *   GET /api/v1/greeter/days?from=&to=   (the default range: greeter desk or
 *                                         reports; any other: reports, as
 *                                         the stats' ranges)
 *     {"from","to","first_day", "days": [{"date","business_day","holiday",
 *      "visits","spanish"}], "missing": ["YYYY-MM-DD", ...]}
 *
 * Defaults: the last 14 days to today; at most 92 days.  "first_day" is the
 * office's first check-in: days before it are not counted as missing (the
 * office was not yet in service); an office with no check-in at all has
 * first_day null, no missing day, and "no_checkins_yet": true.
 */
#include "node/node_api.h"
#include "lib/clock.h"
#include "model/holidays.h"
#include "model/privileges.h"

#include <string.h>

#define DAYS_MAX 92

static route_rc get_days(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	char from[11], to[11], today[11], first[11] = "", day[11];
	sqlite3_stmt *st = NULL;
	cJSON *o, *days, *missing;

	if (!(u->privs & (PRIV_REPORTS | PRIV_GREETER_DESK)))
		return route_fail(a, 403, NULL, "your account does not have this privilege");
	node_today(n, today);
	if (route_qdate(a, "from", from) != 0 || route_qdate(a, "to", to) != 0)
		return ROUTE_BAD;
	/* The desk sees the home page's last two weeks; any range it names
	 * (an empty one too) is a report, as GET /api/v1/greeter/stats says. */
	if ((http_req_query_get(a->rc_req, "from", day, sizeof day) != 0 ||
	     http_req_query_get(a->rc_req, "to", day, sizeof day) != 0) &&
	    !(u->privs & PRIV_REPORTS))
		return route_fail(a, 403, NULL,
				  "a range of days is a report: your account does not have the "
				  "reports privilege");
	if (!to[0])
		memcpy(to, today, 11);
	if (!from[0])
		clock_date_add(to, -13, from);
	if (strcmp(from, to) > 0)
		return route_bad(a, "from", "from must not be after to");
	if (clock_days_between(from, to) >= DAYS_MAX)
		return route_bad(a, "to", "a range may cover at most %d days", DAYS_MAX);
	if (db_text(n->nd_db, "SELECT min(visit_date) FROM checkins WHERE office_id=?",
		    n->nd_office_id, first, sizeof first) < 0)
		return ROUTE_DBERR;
	if (db_prepare(n->nd_db, &st, "SELECT count(*), coalesce(sum(language='es'), 0) FROM checkins"
				      " WHERE office_id=? AND visit_date=?") != 0)
		return ROUTE_DBERR;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	json_add_str_or_null(o, "first_day", first[0] ? first : NULL);
	cJSON_AddBoolToObject(o, "no_checkins_yet", !first[0]);
	days = cJSON_AddArrayToObject(o, "days");
	missing = cJSON_AddArrayToObject(o, "missing");
	memcpy(day, from, 11);
	for (int k = 0; k < DAYS_MAX && strcmp(day, to) <= 0; k++) {
		cJSON *d = cJSON_CreateObject();
		int business = is_business_day(day) == 1, visits = 0, es = 0;
		sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			visits = sqlite3_column_int(st, 0);
			es = sqlite3_column_int(st, 1);
		}
		sqlite3_reset(st);
		cJSON_AddStringToObject(d, "date", day);
		cJSON_AddBoolToObject(d, "business_day", business);
		json_add_str_or_null(d, "holiday", holiday_name(day));
		cJSON_AddNumberToObject(d, "visits", visits);
		cJSON_AddNumberToObject(d, "spanish", es);
		cJSON_AddItemToArray(days, d);
		if (business && visits == 0 && strcmp(day, today) < 0 && first[0] &&
		    strcmp(day, first) >= 0)
			cJSON_AddItemToArray(missing, cJSON_CreateString(day));
		if (clock_date_add(day, 1, day) != 0)
			break;
	}
	sqlite3_finalize(st);
	return route_ok(a, 200, o);
}

static const route_def days_defs[] = {
	/* greeter desk or reports (get_days) */
	{HTTP_M_GET, "/api/v1/greeter/days", get_days, 0, 0, NULL, 0},
};

const route_list greeter_days_route_list = ROUTE_LIST(days_defs);
