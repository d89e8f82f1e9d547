/*
 * greeter.c - visit state machine and visitor field rules; see greeter.h.
 */
#include "model/greeter.h"
#include "model/schema.h"
#include "lib/json.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *action, *from, *to;
} moves[] = {
	{"call", "waiting", "called"},
	{"serve", "waiting", "serving"},
	{"serve", "called", "serving"},
	{"done", "called", "done"},
	{"done", "serving", "done"},
	{"left", "waiting", "left"},
	{"left", "called", "left"},
	{"requeue", "called", "waiting"},
	{"requeue", "serving", "waiting"},
};

const char *greeter_transition(const char *from, const char *action)
{
	if (from == NULL || action == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
		if (strcmp(moves[i].action, action) == 0 && strcmp(moves[i].from, from) == 0)
			return moves[i].to;
	return NULL;
}

int greeter_valid_status(const char *s)
{
	static const char *const st[] = {"waiting", "called", "serving", "done", "left"};

	for (size_t i = 0; s && i < sizeof st / sizeof st[0]; i++)
		if (strcmp(s, st[i]) == 0)
			return 0;
	return -1;
}

int greeter_valid_language(const char *s)
{
	return s && (strcmp(s, "en") == 0 || strcmp(s, "es") == 0) ? 0 : -1;
}

int greeter_valid_phone(const char *s)
{
	int digits = json_phone_digits(s, " +-().");

	return digits >= 7 && digits <= 15 ? 0 : -1;
}

int greeter_valid_email(const char *s)
{
	return json_valid_email(s);
}

/* ---- the hub's check of replicated rows ---------------------------------------- */

/* 1 when member k is a whole number of milliseconds (null allowed when
 * nullable). */
static int time_ok(const cJSON *row, const char *k, int nullable)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, k);

	if (v == NULL || cJSON_IsNull(v))
		return nullable;
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0 &&
	       v->valuedouble == (double)(long long)v->valuedouble;
}

int greeter_hub_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			     size_t n)
{
	const cJSON *virt;
	const char *s;

	(void)db;
	if (tbl == NULL || row == NULL)
		return 0;
	if (strcmp(tbl, "checkin_events") == 0) {
		s = json_str(row, "action");
		if (s == NULL || s[0] == '\0' || greeter_valid_status(json_str(row, "to_status")) != 0)
			REFUSE("checkin_events: an event has an action and the status it moved to");
		if (!time_ok(row, "at", 0) || !json_text_within(row, "note", GREETER_NOTE_MAX))
			REFUSE("checkin_events: at is a time in milliseconds; a note has at most %d characters",
				 GREETER_NOTE_MAX);
		return 0;
	}
	if (strcmp(tbl, "checkins") != 0)
		return 0;
	if (op == SQLITE_DELETE)
		REFUSE("checkins: a visit is never deleted (it ends as done or left)");
	s = json_str(row, "visitor_name");
	if (s == NULL || s[0] == '\0' || json_utf8_chars(s) > GREETER_NAME_MAX)
		REFUSE("checkins: visitor_name is required (at most %d characters)", GREETER_NAME_MAX);
	if (greeter_valid_status(json_str(row, "status")) != 0)
		REFUSE("checkins: status is waiting, called, serving, done or left");
	if (json_valid_date(json_str(row, "visit_date")) != 0)
		REFUSE("checkins: visit_date is not a date (YYYY-MM-DD)");
	if (greeter_valid_language(json_str(row, "language")) != 0)
		REFUSE("checkins: language is en or es");
	virt = cJSON_GetObjectItemCaseSensitive(row, "virtual");
	if (!cJSON_IsNumber(virt) || (virt->valuedouble != 0 && virt->valuedouble != 1))
		REFUSE("checkins: virtual is 0 or 1");
	if (!time_ok(row, "arrived_at", 0) || !time_ok(row, "called_at", 1) ||
	    !time_ok(row, "serving_at", 1) || !time_ok(row, "finished_at", 1))
		REFUSE("checkins: arrived_at, called_at, serving_at and finished_at are times in milliseconds");
	if (!json_text_within(row, "phone", GREETER_PHONE_MAX) || !json_text_within(row, "email", GREETER_EMAIL_MAX) ||
	    !json_text_within(row, "appointment_with", GREETER_APPT_MAX) ||
	    !json_text_within(row, "note", GREETER_NOTE_MAX))
		REFUSE("checkins: phone, email, appointment_with or note is longer than the node allows");
	return 0;
}
