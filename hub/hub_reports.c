/*
 * hub_reports.c - the statewide greeter reports at the hub (issue 14):
 *
 *   GET /api/v1/admin/reports/greeter?from=&to=&local_area_id=&office_id=&format=csv
 *       visits by office, day, reason and language (a visit with two reasons
 *       counts once under each; a reason under the label it had when the
 *       visit was made, so a rename does not rewrite past months), with the
 *       day totals per office; CSV with format=csv.
 *   GET /api/v1/admin/reports/greeter-missing?from=&to=&local_area_id=
 *       the offices that checked in no visitor on a business day (the
 *       California state holiday calendar, model/holidays.h) since they went
 *       into service (their first node's enrollment).  The greeter must be
 *       used daily [SLO policy 34-19].
 *
 * Scope: operations sees every office; an MIS Administrator the offices of
 * its Local Area; a SPOC those of the Local Areas of its field division.
 * Dates are the offices' own (checkins.visit_date); "to" defaults to today
 * for the report and to yesterday for the missing days (today is not over).
 */
#include "hub/acct.h"
#include "hub/hub.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/csv.h"
#include "model/greeter.h"
#include "model/holidays.h"

#include <stdio.h>
#include <string.h>

#define REPORT_MAX_DAYS 366
#define MISSING_MAX_DAYS 92
#define REPORT_MAX_ROWS 50000
/* REPORT_MAX_ROWS + 1: a row more than the report may have says it would
 * be cut, which it never is (413) */
#define REPORT_LIMIT_SQL " LIMIT 50001"
#define REPORT_CSV_MAX (16 * 1024 * 1024)
#define DBFAIL(req) http_reply_error((req), 500, NULL, "the hub database could not complete the request")

/* The caller's scope as SQL parameters: ?ops, ?la, ?spoc, ?div. */
#define SCOPE_SQL "(?10 OR l.id=?11 OR (?12 AND l.field_division=?13))"

static void bind_scope(sqlite3_stmt *st, const acct_principal *p)
{
	sqlite3_bind_int(st, 10, (p->ap_roles & ROLE_OPERATIONS) != 0);
	sqlite3_bind_text(st, 11, (p->ap_roles & ROLE_MIS_ADMIN) ? p->ap_la : "", -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 12, (p->ap_roles & ROLE_SPOC) != 0 && p->ap_div[0]);
	sqlite3_bind_text(st, 13, p->ap_div, -1, SQLITE_TRANSIENT);
}

/* The query's date name (YYYY-MM-DD) into out, left as it is when absent.
 * 0, or -1 after replying 400. */
static int query_date(http_req *req, const char *name, char out[11])
{
	char q[32];

	if (http_req_query(req, name, q, sizeof q) == NULL)
		return 0;
	if (json_valid_date(q) != 0) {
		http_reply_error(req, 400, name, "use a date YYYY-MM-DD");
		return -1;
	}
	memcpy(out, q, 11);
	return 0;
}

/* from/to from the query (YYYY-MM-DD), defaults to_back days before today
 * to today - to_off.  0, or -1 after replying 400. */
static int range(http_req *req, int back, int to_off, int max_days, char from[11], char to[11])
{
	char t[11];

	clock_local_date(hub_now_ms(), t);
	clock_date_add(t, -to_off, to);
	if (query_date(req, "to", to) != 0)
		return -1;
	clock_date_add(to, -back, from);
	if (query_date(req, "from", from) != 0)
		return -1;
	if (strcmp(from, to) > 0) {
		http_reply_error(req, 400, "from", "from must not be after to");
		return -1;
	}
	if (clock_days_between(from, to) >= max_days) {
		http_reply_error(req, 400, "to", "a range may cover at most %d days", max_days);
		return -1;
	}
	return 0;
}

static const char report_sql[] =
    "SELECT c.office_id, o.name AS office_name, c.local_area_id, c.visit_date AS date,"
    " cr.reason_id,"
    " coalesce(" GREETER_REASON_LABEL("label", "cr", "h", "r") ", '(no reason)')"
    " AS reason, c.language, count(DISTINCT c.id) AS visits"
    " FROM checkins c JOIN offices o ON o.id=c.office_id JOIN local_areas l ON l.id=c.local_area_id"
    " LEFT JOIN checkin_reasons cr ON cr.checkin_id=c.id"
    " LEFT JOIN greeter_reasons r ON r.id=cr.reason_id"
    GREETER_REASON_LABEL_JOIN("h", "cr", "c.arrived_at")
    " WHERE c.visit_date BETWEEN ?1 AND ?2 AND (?3='' OR c.local_area_id=?3)"
    " AND (?4='' OR c.office_id=?4) AND " SCOPE_SQL
    " GROUP BY c.office_id, c.visit_date, cr.reason_id, reason, c.language"
    " ORDER BY o.name, c.visit_date, min(r.sort), c.language" REPORT_LIMIT_SQL;

static const char days_sql[] =
    "SELECT c.office_id, o.name AS office_name, c.local_area_id, c.visit_date AS date,"
    " count(*) AS visits, sum(c.language='es') AS spanish"
    " FROM checkins c JOIN offices o ON o.id=c.office_id JOIN local_areas l ON l.id=c.local_area_id"
    " WHERE c.visit_date BETWEEN ?1 AND ?2 AND (?3='' OR c.local_area_id=?3)"
    " AND (?4='' OR c.office_id=?4) AND " SCOPE_SQL
    " GROUP BY c.office_id, c.visit_date ORDER BY o.name, c.visit_date" REPORT_LIMIT_SQL;

static cJSON *report_rows(hub *h, const acct_principal *p, const char *sql, const char *from,
			  const char *to, const char *la, const char *office)
{
	sqlite3_stmt *st = NULL;
	cJSON *r;

	if (db_prepare(h->hb_db, &st, sql) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, la, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, office, -1, SQLITE_STATIC);
	bind_scope(st, p);
	r = db_rows_json(st);
	sqlite3_finalize(st);
	return r;
}

static void reply_csv(http_req *req, const cJSON *rows, const char *from, const char *to)
{
	buf b;
	const cJSON *it;
	char disp[128], n[24];
	int rc = 0;

	buf_init(&b, REPORT_CSV_MAX);
	rc |= buf_puts(&b, "\xEF\xBB\xBF"); /* UTF-8 BOM: Spanish labels open intact */
	rc |= buf_puts(&b, "office_id,office,local_area_id,date,business_day,reason,language,visits\r\n");
	cJSON_ArrayForEach(it, rows)
	{
		const char *date = json_str(it, "date");
		rc |= csv_put_field(&b, json_str(it, "office_id"), 0);
		rc |= csv_put_field(&b, json_str(it, "office_name"), 0);
		rc |= csv_put_field(&b, json_str(it, "local_area_id"), 0);
		rc |= csv_put_field(&b, date, 0);
		rc |= csv_put_field(&b, is_business_day(date) == 1 ? "yes" : "no", 0);
		rc |= csv_put_field(&b, json_str(it, "reason"), 0);
		rc |= csv_put_field(&b, json_str(it, "language"), 0);
		snprintf(n, sizeof n, "%d", cJSON_GetObjectItem(it, "visits")->valueint);
		rc |= csv_put_field(&b, n, 1);
	}
	if (rc != 0) {
		buf_release(&b);
		http_reply_error(req, 413, NULL, "the report is too large: choose a shorter range");
		return;
	}
	snprintf(disp, sizeof disp, "attachment; filename=\"greeter-visits-%s-to-%s.csv\"", from, to);
	http_add_header(req, "Content-Disposition", disp);
	http_reply(req, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
	buf_release(&b);
}

void hub_reports_greeter(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	char from[11], to[11], la[64] = "", office[64] = "", fmt[8] = "";
	cJSON *rows = NULL, *days = NULL, *o, *it;
	int total = 0;

	if (acct_auth(h, req, &p, 0) != 0 || range(req, 6, 0, REPORT_MAX_DAYS, from, to) != 0)
		return;
	http_req_query(req, "local_area_id", la, sizeof la);
	http_req_query(req, "office_id", office, sizeof office);
	http_req_query(req, "format", fmt, sizeof fmt);
	rows = report_rows(h, &p, report_sql, from, to, la, office);
	if (rows == NULL) {
		DBFAIL(req);
		return;
	}
	/* Whole or not at all: a statewide year cut at its 50,000th row gave
	 * a short CSV and a wrong total with a 200. */
	if (cJSON_GetArraySize(rows) > REPORT_MAX_ROWS) {
		cJSON_Delete(rows);
		http_reply_error(req, 413, "to", "the report has more than %d rows: choose a shorter"
						 " range, a Local Area or an office", REPORT_MAX_ROWS);
		return;
	}
	if (strcmp(fmt, "csv") == 0) {
		reply_csv(req, rows, from, to);
		cJSON_Delete(rows);
		return;
	}
	days = report_rows(h, &p, days_sql, from, to, la, office);
	if (days == NULL) {
		cJSON_Delete(rows);
		DBFAIL(req);
		return;
	}
	cJSON_ArrayForEach(it, days)
	{
		total += cJSON_GetObjectItem(it, "visits")->valueint;
		cJSON_AddBoolToObject(it, "business_day", is_business_day(json_str(it, "date")) == 1);
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddNumberToObject(o, "visits", total);
	cJSON_AddItemToObject(o, "days", days);
	cJSON_AddItemToObject(o, "rows", rows);
	http_reply_json(req, 200, o);
}

/* The days of [from, to] office had no check-in, into arr.  0 or -1. */
static int office_missing(sqlite3 *db, const char *office, const char *from, const char *to,
			  cJSON *dates)
{
	sqlite3_stmt *st = NULL;
	char seen[MISSING_MAX_DAYS + 1][11], day[11];
	int n = 0;

	if (db_prepare(db, &st, "SELECT DISTINCT visit_date FROM checkins WHERE office_id=?"
				" AND visit_date BETWEEN ? AND ? ORDER BY 1") != 0)
		return -1;
	sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	while (n <= MISSING_MAX_DAYS && sqlite3_step(st) == SQLITE_ROW) {
		const char *d = db_col(st, 0);

		if (d == NULL) { /* out of memory: not a day without check-ins */
			sqlite3_finalize(st);
			return -1;
		}
		snprintf(seen[n++], 11, "%s", d);
	}
	sqlite3_finalize(st);
	memcpy(day, from, 11);
	for (int k = 0; strcmp(day, to) <= 0 && k <= MISSING_MAX_DAYS; k++) {
		int found = 0;
		for (int i = 0; i < n && !found; i++)
			found = strcmp(seen[i], day) == 0;
		if (!found && is_business_day(day) == 1)
			cJSON_AddItemToArray(dates, cJSON_CreateString(day));
		if (clock_date_add(day, 1, day) != 0)
			break;
	}
	return 0;
}

void hub_reports_missing(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	char from[11], to[11], la[64] = "", yesterday[11];
	sqlite3_stmt *st = NULL;
	cJSON *arr = NULL;

	if (acct_auth(h, req, &p, 0) != 0 || range(req, 13, 1, MISSING_MAX_DAYS, from, to) != 0)
		return;
	/* A day not over is not missing yet: the range ends yesterday at the
	 * latest (from after it: nothing). */
	clock_local_date(hub_now_ms(), yesterday);
	clock_date_add(yesterday, -1, yesterday);
	if (strcmp(to, yesterday) > 0)
		memcpy(to, yesterday, sizeof yesterday);
	http_req_query(req, "local_area_id", la, sizeof la);
	/* In service since its first node's enrollment (hub date). */
	if (db_prepare(h->hb_db, &st,
		       "SELECT o.id, o.name, o.local_area_id, date(min(n.enrolled_at) / 1000, 'unixepoch',"
		       " 'localtime') FROM offices o JOIN local_areas l ON l.id=o.local_area_id"
		       " JOIN nodes n ON n.office_id=o.id WHERE o.active=1 AND (?3='' OR o.local_area_id=?3)"
		       " AND ?1 <= ?2 AND " SCOPE_SQL " GROUP BY o.id ORDER BY o.name") != 0) {
		DBFAIL(req);
		return;
	}
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, la, -1, SQLITE_STATIC);
	bind_scope(st, &p);
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		int nosince = sqlite3_column_type(st, 3) == SQLITE_NULL;
		const char *office = db_col(st, 0), *since = nosince ? NULL : db_col(st, 3);
		const char *start = since && strcmp(since, from) > 0 ? since : from;
		cJSON *o, *dates;
		if (office == NULL || (!nosince && since == NULL))
			goto fail; /* out of memory: not "missing every day" */
		dates = cJSON_CreateArray();
		if (office_missing(h->hb_db, office, start, to, dates) != 0) {
			cJSON_Delete(dates);
			goto fail; /* not an office left out */
		}
		if (cJSON_GetArraySize(dates) == 0) {
			cJSON_Delete(dates);
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "office_id", office);
		cJSON_AddStringToObject(o, "office_name", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddStringToObject(o, "local_area_id", (const char *)sqlite3_column_text(st, 2));
		json_add_str_or_null(o, "in_service_since", since);
		cJSON_AddItemToObject(o, "dates", dates);
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	{
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "from", from);
		cJSON_AddStringToObject(o, "to", to);
		cJSON_AddItemToObject(o, "offices", arr);
		http_reply_json(req, 200, o);
	}
	return;
fail:
	sqlite3_finalize(st);
	cJSON_Delete(arr);
	DBFAIL(req);
}
