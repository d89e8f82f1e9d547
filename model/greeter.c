/*
 * greeter.c - visit state machine and visitor field rules; see greeter.h.
 */
#include "model/greeter.h"
#include "model/schema.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/hlc.h"
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

const char *greeter_day_end(const char *from)
{
	if (from == NULL)
		return NULL;
	if (strcmp(from, "waiting") == 0 || strcmp(from, "called") == 0)
		return "left";
	return strcmp(from, "serving") == 0 ? "done" : NULL;
}

int greeter_day_end_id(const char *checkin_id, const char *from, char out[37])
{
	static const char label[] = "outpost day_end v1";
	unsigned char in[256], h[CRYPTO_SHA256_LEN];
	size_t a, b;
	int k = 0;

	if (checkin_id == NULL || from == NULL)
		return -1;
	a = strlen(checkin_id);
	b = strlen(from);
	if (sizeof label + a + 1 + b > sizeof in)
		return -1;
	/* label NUL id NUL from: no two (id, from) give the same input */
	memcpy(in, label, sizeof label);
	memcpy(in + sizeof label, checkin_id, a + 1);
	memcpy(in + sizeof label + a + 1, from, b);
	if (crypto_sha256(in, sizeof label + a + 1 + b, h) != 0)
		return -1;
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x80); /* version 8: RFC 9562's own */
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80); /* variant 10 */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		k += snprintf(out + k, 3, "%02x", h[i]);
	}
	out[k] = '\0';
	return 0;
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

/* 1 when member k is absent, null or text. */
static int text_or_null(const cJSON *row, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, k);

	return v == NULL || cJSON_IsNull(v) || cJSON_IsString(v);
}

static double num(const cJSON *row, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The visit an event names is at the event's office: 0, -1 refused,
 * MODEL_CHECK_AGAIN. */
static int event_visit(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *cid = json_str(row, "checkin_id"), *office = json_str(row, "office_id");
	sqlite3_stmt *st;
	int rc, same = 0;

	if (cid == NULL || office == NULL)
		REFUSE("checkin_events: checkin_id and office_id are required");
	if ((st = db_stmt(db, "SELECT office_id = ?2 FROM checkins WHERE id = ?1")) == NULL)
		CANNOT_CHECK("checkin_events: cannot read the visit");
	sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, office, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		same = sqlite3_column_int(st, 0);
	db_stmt_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		CANNOT_CHECK("checkin_events: cannot read the visit");
	if (rc == SQLITE_DONE)
		REFUSE("checkin_events: no such visit");
	if (!same)
		REFUSE("checkin_events: the visit is another office's");
	return 0;
}

/* A reason the visitor chose: on a visit at the row's office, one of the
 * visit's Local Area (a reason retired since, or narrowed to another
 * office, is taken: the office's kiosk offered it until its next pull,
 * which may be a whole outage away), once, and at most
 * GREETER_MAX_REASONS; its labels (the office's at the check-in, what the
 * reports name it by) both or neither (a node before them), and then the
 * reason's labels now or ones a rename replaced (the office had no other).
 * One cached statement: a push of a week's visits checks one reason each. */
static int check_reason(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *rid = json_str(row, "reason_id"), *cid = json_str(row, "checkin_id");
	const char *office = json_str(row, "office_id");
	const char *label = json_str(row, "label"), *label_es = json_str(row, "label_es");
	sqlite3_stmt *st;
	int rc, visit = 0, same = 0, of_la = 0, twice = 0, count = 0, labelled = 0;

	if (cid == NULL || office == NULL || rid == NULL)
		REFUSE("checkin_reasons: checkin_id, reason_id and office_id are required");
	if ((label == NULL) != (label_es == NULL) || !text_or_null(row, "label") ||
	    !text_or_null(row, "label_es"))
		REFUSE("checkin_reasons: label and label_es are two texts, or neither is given");
	if ((st = db_stmt(db, "SELECT c.office_id = ?3,"
			      " EXISTS (SELECT 1 FROM greeter_reasons r WHERE r.id = ?2"
			      "  AND r.local_area_id = c.local_area_id),"
			      " (SELECT count(*) FROM checkin_reasons x WHERE x.checkin_id = ?1"
			      "  AND x.reason_id = ?2),"
			      " (SELECT count(*) FROM checkin_reasons x WHERE x.checkin_id = ?1),"
			      " ?4 IS NULL OR EXISTS (SELECT 1 FROM greeter_reasons r WHERE r.id = ?2"
			      "  AND r.label = ?4 AND r.label_es = ?5) OR EXISTS (SELECT 1 FROM"
			      "  greeter_reason_labels h WHERE h.reason_id = ?2 AND h.label = ?4"
			      "  AND h.label_es = ?5)"
			      " FROM checkins c WHERE c.id = ?1")) == NULL)
		CANNOT_CHECK("checkin_reasons: cannot read the visit");
	sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, office, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, label_es, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		visit = 1;
		same = sqlite3_column_int(st, 0);
		of_la = sqlite3_column_int(st, 1);
		twice = sqlite3_column_int(st, 2) > 1;
		count = sqlite3_column_int(st, 3);
		labelled = sqlite3_column_int(st, 4);
	}
	db_stmt_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		CANNOT_CHECK("checkin_reasons: cannot read the visit");
	if (!visit)
		REFUSE("checkin_reasons: no such visit");
	if (!same)
		REFUSE("checkin_reasons: the visit is another office's");
	if (!of_la)
		REFUSE("checkin_reasons: not a reason of the visit's Local Area");
	if (twice)
		REFUSE("checkin_reasons: the visit has this reason already");
	if (count > GREETER_MAX_REASONS)
		REFUSE("checkin_reasons: a visit has at most %d reasons", GREETER_MAX_REASONS);
	if (!labelled)
		REFUSE("checkin_reasons: label and label_es are not labels the reason has or had");
	return 0;
}

/* An event of a visit at the row's office: the check-in itself, or a move
 * of the visit's state machine, at a time a clock can have given (not
 * compared with the arrival: a node's clock is corrected at its next
 * contact with the hub, and may then stamp a move before an arrival it
 * stamped running ahead). */
static int check_event(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *action = json_str(row, "action"), *from = json_str(row, "from_status");
	const char *to = json_str(row, "to_status"), *want;
	int rc;

	if (action == NULL || greeter_valid_status(to) != 0)
		REFUSE("checkin_events: an event has an action and the status it moved to");
	if (!time_ok(row, "at", 0) || !json_text_within(row, "note", GREETER_NOTE_MAX))
		REFUSE("checkin_events: at is a time in milliseconds; a note has at most %d characters",
		       GREETER_NOTE_MAX);
	if (strcmp(action, "checkin") == 0)
		want = from == NULL && (strcmp(to, "waiting") == 0 || strcmp(to, "done") == 0) ? to : NULL;
	else if (strcmp(action, "day_end") == 0)
		want = greeter_day_end(from);
	else
		want = greeter_transition(from, action);
	if (want == NULL || strcmp(want, to) != 0)
		REFUSE("checkin_events: %.16s from %.16s to %.16s is not a move of a visit", action,
		       from ? from : "nothing", to);
	if ((rc = event_visit(db, row, reason, n)) != 0)
		return rc;
	if (!hlc_time_plausible(num(row, "at")))
		REFUSE("checkin_events: at is before 2020 or later than any clock can be");
	return 0;
}

int greeter_hub_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			     size_t n)
{
	const cJSON *virt;
	const char *s;
	int64_t day;
	double at;

	if (tbl == NULL || row == NULL)
		return 0;
	if (strcmp(tbl, "checkin_events") == 0)
		return op == SQLITE_INSERT ? check_event(db, row, reason, n) : 0;
	if (strcmp(tbl, "checkin_reasons") == 0)
		return op == SQLITE_INSERT ? check_reason(db, row, reason, n) : 0;
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
	if ((s = json_str(row, "phone")) != NULL && s[0] && greeter_valid_phone(s) != 0)
		REFUSE("checkins: phone is not a phone number");
	if ((s = json_str(row, "email")) != NULL && s[0] && greeter_valid_email(s) != 0)
		REFUSE("checkins: email is not an email address");
	/* The day of the visit is the day it arrived, in the office's zone
	 * (a day either way for the zones between it and the hub's), and it
	 * arrived when a clock can have said so (an earlier time would make
	 * every day since a "missing" day of the office's reports). */
	at = num(row, "arrived_at");
	if (!hlc_time_plausible(at))
		REFUSE("checkins: arrived_at is before 2020 or later than any clock can be");
	/* (in days since 1970, UTC: no office's zone is a day from it; no
	 * local time is worked out, twice per visit of a push) */
	day = clock_days_between("1970-01-01", json_str(row, "visit_date"));
	if (day < (int64_t)(at / 86400000.0) - 1 || day > (int64_t)(at / 86400000.0) + 1)
		REFUSE("checkins: visit_date is not the day the visitor arrived");
	/* (Not how a visit starts: an entry whose write inserted a visit and
	 * moved it on holds the row as it ended, an INSERT of a visit done.) */
	return 0;
}
