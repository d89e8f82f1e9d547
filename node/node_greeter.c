/*
 * node_greeter.c - the greeter's JSON API on the office node: check-in
 * reasons, kiosk check-ins, the front desk's waiting list and actions, the
 * day's counts and the CSV export.  Every write is one captured transaction
 * (node_write_begin/finish), so each check-in or action yields exactly one
 * outbox entry.
 */
#include "node/node.h"
#include "node/node_auth.h"
#include "node/node_edge.h"
#include "model/capture.h"
#include "model/greeter.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX (32 * 1024 * 1024)

/* ---- reasons ------------------------------------------------------------ */

static void get_reasons(http_req *req, void *ctx)
{
	node *n = ctx;
	sqlite3_stmt *st;
	cJSON *arr;

	if (db_prepare(n->nd_db, &st,
		       "SELECT id, label, label_es, sort, active FROM greeter_reasons "
		       "WHERE active=1 AND local_area_id=? AND (office_id IS NULL OR office_id=?) "
		       "ORDER BY sort, label") != 0) {
		node_reply_db_error(req);
		return;
	}
	sqlite3_bind_text(st, 1, n->nd_local_area_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->nd_office_id, -1, SQLITE_STATIC);
	arr = db_rows_json(st);
	sqlite3_finalize(st);
	if (arr == NULL) {
		node_reply_db_error(req);
		return;
	}
	/* "active" as a boolean for the clients. */
	cJSON *it;
	cJSON_ArrayForEach(it, arr)
	{
		cJSON *a = cJSON_GetObjectItem(it, "active");
		cJSON_ReplaceItemInObject(it, "active", cJSON_CreateBool(a && a->valueint));
	}
	http_reply_json(req, 200, arr);
}

/* ---- one check-in as JSON ----------------------------------------------- */

/*
 * A check-in as JSON, built by SQLite in one statement: the same object for
 * the list, one visit, and the reply to a write.  ?4 is the node's time
 * (for the wait); pos is the SQL for the place in line while waiting.
 */
#define CHECKIN_OBJECT(pos)                                                                  \
	"json_object('id', c.id, 'office_id', c.office_id, 'visitor_name', c.visitor_name,"    \
	" 'phone', c.phone, 'email', c.email, 'language', c.language,"                         \
	" 'appointment_with', c.appointment_with,"                                              \
	" 'virtual', json(CASE WHEN c.virtual THEN 'true' ELSE 'false' END),"                   \
	" 'participant_id', c.participant_id, 'status', c.status, 'arrived_at', c.arrived_at,"  \
	" 'called_at', c.called_at, 'serving_at', c.serving_at, 'finished_at', c.finished_at,"  \
	" 'visit_date', c.visit_date, 'note', c.note, 'staff_id', c.staff_id,"                  \
	" 'wait_ms', max(0, CASE WHEN c.status='waiting' THEN ?4"                               \
	"   ELSE coalesce(c.called_at, c.serving_at, c.finished_at, ?4) END - c.arrived_at),"   \
	" 'position', CASE WHEN c.status='waiting' THEN " pos " END,"                           \
	" 'reason_ids', (SELECT json_group_array(x.reason_id) FROM (SELECT cr.reason_id"        \
	"   FROM checkin_reasons cr LEFT JOIN greeter_reasons r ON r.id = cr.reason_id"         \
	"   WHERE cr.checkin_id=c.id ORDER BY coalesce(r.sort, 0), cr.id) x),"                  \
	" 'reasons', (SELECT json_group_array(json_object('id', x.reason_id, 'label', x.label," \
	"   'label_es', x.label_es)) FROM (SELECT cr.reason_id,"                                \
	"   coalesce(r.label, '(unknown reason)') AS label, r.label_es"                         \
	"   FROM checkin_reasons cr LEFT JOIN greeter_reasons r ON r.id = cr.reason_id"         \
	"   WHERE cr.checkin_id=c.id ORDER BY coalesce(r.sort, 0), cr.id) x))"

/* One visitor's place: those waiting who arrived before, plus one (index
 * checkins_queue).  Just checked in: the number waiting, kept by triggers
 * (greeter_waiting, node_state.c), so a long line costs nothing. */
static const char one_sql[] =
	"SELECT " CHECKIN_OBJECT("(SELECT count(*) FROM checkins w WHERE w.office_id=c.office_id"
				 " AND w.visit_date=c.visit_date AND w.status='waiting'"
				 " AND (w.arrived_at, w.id) <= (c.arrived_at, c.id))")
	" FROM checkins c WHERE c.id=?1";
static const char new_sql[] =
	"SELECT " CHECKIN_OBJECT("(SELECT g.n FROM greeter_waiting g WHERE g.office_id=c.office_id"
				 " AND g.visit_date=c.visit_date)")
	" FROM checkins c WHERE c.id=?1";

/* The check-in as JSON text (caller frees), NULL if there is none or on error. */
static char *checkin_text(node *n, const char *id, int just_checked_in, size_t *len)
{
	sqlite3_stmt *st = db_stmt(n->nd_db, just_checked_in ? new_sql : one_sql);
	char *out = NULL;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)node_now_ms(n));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		if ((out = malloc(*len + 1)) != NULL)
			memcpy(out, sqlite3_column_text(st, 0), *len + 1);
	}
	db_stmt_done(st);
	return out;
}

/* After a write: the check-in as the reply, once the batch is durable. */
static void finish_with_checkin(node *n, capture *c, http_req *req, int status, const char *id,
				int just_checked_in)
{
	size_t len = 0;
	char *text = checkin_text(n, id, just_checked_in, &len);

	node_write_finish_text(n, c, NULL, req, status, text, len);
}

/* ---- create ---------------------------------------------------------------- */

static const char *const checkin_fields[] = {
	"visitor_name", "reason_ids", "language", "phone", "email", "appointment_with",
	"virtual", "participant_id", "note", NULL,
};

static void post_checkin(http_req *req, void *ctx)
{
	node *n = ctx;
	cJSON *body;
	json_err e = {{0}, {0}};
	const char *name, *lang, *phone, *email, *appt, *note, *participant;
	char namebuf[GREETER_NAME_MAX + 1], phonebuf[64], emailbuf[GREETER_EMAIL_MAX + 1];
	char apptbuf[GREETER_APPT_MAX + 1], id[UUID_STRLEN], today[11];
	const cJSON *reason_ids, *r;
	int virt;
	capture c;
	sqlite3_stmt *st = NULL;
	uint64_t now;

	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, checkin_fields, &e) ||
	    json_get_str(body, "visitor_name", JSON_REQUIRED, 1, GREETER_NAME_MAX, &name, namebuf,
			 sizeof namebuf, &e) ||
	    json_get_str_array(body, "reason_ids", JSON_REQUIRED, 1, GREETER_MAX_REASONS, 64,
			       &reason_ids, &e) ||
	    json_get_str(body, "language", JSON_NULLABLE, 0, 2, &lang, NULL, 0, &e) ||
	    json_get_str(body, "phone", JSON_NULLABLE, 0, GREETER_PHONE_MAX, &phone, phonebuf,
			 sizeof phonebuf, &e) ||
	    json_get_str(body, "email", JSON_NULLABLE, 0, GREETER_EMAIL_MAX, &email, emailbuf,
			 sizeof emailbuf, &e) ||
	    json_get_str(body, "appointment_with", JSON_NULLABLE, 0, GREETER_APPT_MAX, &appt,
			 apptbuf, sizeof apptbuf, &e) ||
	    json_get_str(body, "note", JSON_NULLABLE, 0, GREETER_NOTE_MAX, &note, NULL, 0, &e) ||
	    json_get_str(body, "participant_id", JSON_NULLABLE, 0, 64, &participant, NULL, 0, &e) ||
	    json_get_bool(body, "virtual", JSON_NULLABLE, 0, &virt, &e))
		goto bad;
	/* The kiosk is public; a virtual visit, a note or a participant link is
	 * recorded by front-desk staff only. */
	if ((virt || (note && note[0]) || (participant && participant[0])) &&
	    node_auth_require(n, req, PRIV_GREETER_DESK) != 0) {
		cJSON_Delete(body);
		return;
	}
	if (lang == NULL)
		lang = "en";
	if (greeter_valid_language(lang) != 0) {
		json_err_set(&e, "language", "language must be \"en\" or \"es\"");
		goto bad;
	}
	if (phone && greeter_valid_phone(phone) != 0) {
		json_err_set(&e, "phone", "phone number is not valid");
		goto bad;
	}
	if (email && greeter_valid_email(email) != 0) {
		json_err_set(&e, "email", "email address is not valid");
		goto bad;
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	/* Every reason must be an active reason offered at this office. */
	if ((st = db_stmt(n->nd_db, "SELECT 1 FROM greeter_reasons WHERE id=? AND active=1 AND local_area_id=? "
		       "AND (office_id IS NULL OR office_id=?)")) == NULL)
		goto dberr;
	cJSON_ArrayForEach(r, reason_ids)
	{
		const cJSON *r2;
		cJSON_ArrayForEach(r2, reason_ids)
		{
			if (r2 == r)
				break;
			if (strcmp(r2->valuestring, r->valuestring) == 0) {
				json_err_set(&e, "reason_ids", "a reason is listed twice");
				goto badtx;
			}
		}
		sqlite3_bind_text(st, 1, r->valuestring, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, n->nd_local_area_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, n->nd_office_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			json_err_set(&e, "reason_ids", "unknown or inactive reason '%.64s'",
				     r->valuestring);
			goto badtx;
		}
		sqlite3_reset(st);
	}
	db_stmt_done(st);
	st = NULL;

	now = node_now_ms(n);
	clock_local_date(now, today);
	uuid7_at(id, now);
	if ((st = db_stmt(n->nd_db, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, phone, email,"
		       " language, appointment_with, virtual, participant_id, status, arrived_at,"
		       " visit_date, note, updated_hlc) VALUES(?,?,?,?,?,?,?,?,?,?,'waiting',?,?,?,?)")) == NULL)
		goto dberr;
	{
		char ts[HLC_STRLEN];
		hlc_now(&n->nd_hlc, ts);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, n->nd_office_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, n->nd_local_area_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, name, -1, SQLITE_STATIC);
		db_bind_text(st, 5, phone);
		db_bind_text(st, 6, email);
		sqlite3_bind_text(st, 7, lang, -1, SQLITE_STATIC);
		db_bind_text(st, 8, appt);
		sqlite3_bind_int(st, 9, virt);
		db_bind_text(st, 10, participant);
		sqlite3_bind_int64(st, 11, (int64_t)now);
		sqlite3_bind_text(st, 12, today, -1, SQLITE_STATIC);
		db_bind_text(st, 13, note);
		sqlite3_bind_text(st, 14, ts, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto dberr;
		db_stmt_done(st);
		st = NULL;

		if ((st = db_stmt(n->nd_db, "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id) "
			       "VALUES(?,?,?,?)")) == NULL)
			goto dberr;
		cJSON_ArrayForEach(r, reason_ids)
		{
			char rid[UUID_STRLEN];
			uuid7_at(rid, now);
			sqlite3_bind_text(st, 1, rid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, r->valuestring, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, n->nd_office_id, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				goto dberr;
			sqlite3_reset(st);
		}
		db_stmt_done(st);
		st = NULL;

		char eid[UUID_STRLEN];
		uuid7_at(eid, now);
		if ((st = db_stmt(n->nd_db, "INSERT INTO checkin_events(id, checkin_id, office_id, action, from_status,"
			       " to_status, note, at, hlc) VALUES(?,?,?,'checkin',NULL,'waiting',NULL,?,?)")) == NULL)
			goto dberr;
		sqlite3_bind_text(st, 1, eid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, n->nd_office_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)now);
		sqlite3_bind_text(st, 5, ts, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto dberr;
		db_stmt_done(st);
		st = NULL;
	}
	/* Read back inside the write's savepoint, so the reply shows exactly it. */
	finish_with_checkin(n, &c, req, 201, id, 1);
	goto done;

badtx:
	db_stmt_done(st);
	st = NULL;
	capture_abort(&c);
bad:
	http_reply_error(req, 400, e.field[0] ? e.field : NULL, "%s", e.msg);
	goto done;
dberr:
	log_warnx("check-in not saved: %s", sqlite3_errmsg(n->nd_db));
	db_stmt_done(st);
	st = NULL;
	capture_abort(&c);
	node_reply_db_error(req);
done:
	cJSON_Delete(body);
}

/* ---- list / get ------------------------------------------------------------ */

/* Parse date or from/to query parameters; default today.  -1 after replying 400. */
static int date_range(node *n, http_req *req, char from[11], char to[11])
{
	char d[32], f[32], t[32];

	if (http_req_query(req, "date", d, sizeof d)) {
		if (json_valid_date(d) != 0) {
			http_reply_error(req, 400, "date", "date must be YYYY-MM-DD");
			return -1;
		}
		memcpy(from, d, 11);
		memcpy(to, d, 11);
		return 0;
	}
	node_today(n, from);
	memcpy(to, from, 11);
	if (http_req_query(req, "from", f, sizeof f)) {
		if (json_valid_date(f) != 0) {
			http_reply_error(req, 400, "from", "from must be YYYY-MM-DD");
			return -1;
		}
		memcpy(from, f, 11);
	}
	if (http_req_query(req, "to", t, sizeof t)) {
		if (json_valid_date(t) != 0) {
			http_reply_error(req, 400, "to", "to must be YYYY-MM-DD");
			return -1;
		}
		memcpy(to, t, 11);
	}
	if (strcmp(from, to) > 0) {
		http_reply_error(req, 400, "from", "from must not be after to");
		return -1;
	}
	if (clock_days_between(from, to) > 366) {
		http_reply_error(req, 400, "to", "a range may cover at most 366 days");
		return -1;
	}
	return 0;
}

/*
 * The whole list is built by one query (the front desk polls it every few
 * seconds from several screens): the same objects as one_sql, with the
 * waiting position from a window over each day's waiting visitors.
 */
static const char list_sql[] =
	"SELECT coalesce(json_group_array(json(o)), '[]') FROM (SELECT " CHECKIN_OBJECT("c.pos")
	" AS o FROM (SELECT *, row_number() OVER (PARTITION BY visit_date, status='waiting'"
	"   ORDER BY arrived_at, id) AS pos FROM checkins"
	"   WHERE office_id=?1 AND visit_date BETWEEN ?2 AND ?3) c"
	" WHERE ?5 OR instr(?6, ',' || c.status || ',') > 0"
	" ORDER BY c.arrived_at, c.id)";

static void list_checkins(http_req *req, void *ctx)
{
	node *n = ctx;
	char from[11], to[11], status[128], want[160] = ",";
	int all = 0;
	sqlite3_stmt *st;

	if (node_auth_require(n, req, PRIV_GREETER_DESK) != 0)
		return;
	if (date_range(n, req, from, to) != 0)
		return;
	if (!http_req_query(req, "status", status, sizeof status) || status[0] == '\0')
		snprintf(status, sizeof status, "all");
	for (char *tok = strtok(status, ","); tok; tok = strtok(NULL, ",")) {
		if (strcmp(tok, "all") == 0) {
			all = 1;
			continue;
		}
		if (greeter_valid_status(tok) != 0) {
			http_reply_error(req, 400, "status",
					 "status must be waiting, called, serving, done, left or all");
			return;
		}
		strcat(want, tok); /* at most five 7-byte names: fits */
		strcat(want, ",");
	}
	if ((st = db_stmt(n->nd_db, list_sql)) == NULL) {
		node_reply_db_error(req);
		return;
	}
	sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)node_now_ms(n));
	sqlite3_bind_int(st, 5, all);
	sqlite3_bind_text(st, 6, want, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_stmt_done(st);
		node_reply_db_error(req);
		return;
	}
	http_reply(req, 200, "application/json", sqlite3_column_text(st, 0),
		   (size_t)sqlite3_column_bytes(st, 0));
	db_stmt_done(st);
}

static void get_checkin(http_req *req, void *ctx)
{
	node *n = ctx;
	size_t len = 0;
	char *text;

	if (node_auth_require(n, req, PRIV_GREETER_DESK) != 0)
		return;
	text = checkin_text(n, http_req_param(req, "id"), 0, &len);
	if (text == NULL) {
		http_reply_error(req, 404, "id", "no such check-in");
		return;
	}
	http_reply(req, 200, "application/json", text, len);
	free(text);
}

/* ---- actions ----------------------------------------------------------------- */

static const char *const action_fields[] = {"action", "note", "participant_id", NULL};

static void post_action(http_req *req, void *ctx)
{
	node *n = ctx;
	const char *id = http_req_param(req, "id");
	cJSON *body;
	json_err e = {{0}, {0}};
	const char *action, *note, *participant, *to;
	char from[16], eid[UUID_STRLEN], ts[HLC_STRLEN];
	capture c;
	sqlite3_stmt *st = NULL;
	uint64_t now;
	int rc;

	if (node_auth_require(n, req, PRIV_GREETER_DESK) != 0)
		return;

	body = http_req_json(req, 1);
	if (body == NULL)
		return;
	if (json_only(body, action_fields, &e) ||
	    json_get_str(body, "action", JSON_REQUIRED, 1, 16, &action, NULL, 0, &e) ||
	    json_get_str(body, "note", JSON_NULLABLE, 0, GREETER_NOTE_MAX, &note, NULL, 0, &e) ||
	    json_get_str(body, "participant_id", JSON_NULLABLE, 0, 64, &participant, NULL, 0, &e)) {
		http_reply_error(req, 400, e.field, "%s", e.msg);
		goto done;
	}
	if (greeter_transition("waiting", action) == NULL &&
	    greeter_transition("called", action) == NULL &&
	    greeter_transition("serving", action) == NULL) {
		http_reply_error(req, 400, "action",
				 "action must be call, serve, done, left or requeue");
		goto done;
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto done;
	}
	rc = db_text(n->nd_db, "SELECT status FROM checkins WHERE id=?", id,
		     from, sizeof from);
	if (rc == 1) {
		capture_abort(&c);
		http_reply_error(req, 404, "id", "no such check-in");
		goto done;
	}
	if (rc < 0)
		goto dberr;
	to = greeter_transition(from, action);
	if (to == NULL) {
		capture_abort(&c);
		http_reply_error(req, 409, "action", "cannot %s a visit that is %s", action, from);
		goto done;
	}
	now = node_now_ms(n);
	hlc_now(&n->nd_hlc, ts);
	/* Timestamps record the first time a state is reached; requeue clears them. */
	if ((st = db_stmt(n->nd_db, "UPDATE checkins SET status=?2, updated_hlc=?3,"
		       " called_at = CASE WHEN ?2='waiting' THEN NULL WHEN ?2='called' THEN coalesce(called_at, ?4) ELSE called_at END,"
		       " serving_at = CASE WHEN ?2='waiting' THEN NULL WHEN ?2='serving' THEN coalesce(serving_at, ?4) ELSE serving_at END,"
		       " finished_at = CASE WHEN ?2 IN ('done','left') THEN ?4 ELSE NULL END,"
		       " note = coalesce(?5, note),"
		       " participant_id = coalesce(?6, participant_id)"
		       " WHERE id=?1")) == NULL)
		goto dberr;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)now);
	db_bind_text(st, 5, note);
	db_bind_text(st, 6, participant);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto dberr;
	db_stmt_done(st);
	st = NULL;
	uuid7_at(eid, now);
	if ((st = db_stmt(n->nd_db, "INSERT INTO checkin_events(id, checkin_id, office_id, action, from_status,"
		       " to_status, note, at, hlc) VALUES(?,?,?,?,?,?,?,?,?)")) == NULL)
		goto dberr;
	sqlite3_bind_text(st, 1, eid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, to, -1, SQLITE_STATIC);
	db_bind_text(st, 7, note);
	sqlite3_bind_int64(st, 8, (int64_t)now);
	sqlite3_bind_text(st, 9, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto dberr;
	db_stmt_done(st);
	st = NULL;
	finish_with_checkin(n, &c, req, 200, id, 0);
	goto done;
dberr:
	log_warnx("check-in action not saved: %s", sqlite3_errmsg(n->nd_db));
	db_stmt_done(st);
	capture_abort(&c);
	node_reply_db_error(req);
done:
	cJSON_Delete(body);
}

/* ---- stats and CSV --------------------------------------------------------- */

static void get_stats(http_req *req, void *ctx)
{
	node *n = ctx;
	char from[11], to[11];
	sqlite3_stmt *st;
	cJSON *o, *arr;
	int64_t now = (int64_t)node_now_ms(n);

	/* Today's figures are the front desk's dashboard (home page); any other
	 * day or range is a report. */
	{
		char v[16];
		int ranged = http_req_query(req, "date", v, sizeof v) ||
			     http_req_query(req, "from", v, sizeof v) ||
			     http_req_query(req, "to", v, sizeof v);
		const node_user *u;
		if (node_auth_require(n, req, ranged ? PRIV_REPORTS : 0) != 0)
			return;
		u = node_auth_user(n, req);
		if (!ranged && !(u->privs & (PRIV_REPORTS | PRIV_GREETER_DESK))) {
			http_reply_error(req, 403, NULL,
					 "your account does not have this privilege");
			return;
		}
	}
	if (date_range(n, req, from, to) != 0)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddStringToObject(o, "office_id", n->nd_office_id);
	if (db_prepare(n->nd_db, &st,
		       "SELECT count(*), sum(status='done'), sum(status='left'), sum(status='waiting'),"
		       " sum(status IN ('called','serving')),"
		       " avg(CASE WHEN status<>'waiting' THEN coalesce(called_at, serving_at, finished_at) - arrived_at END),"
		       " max(coalesce(called_at, serving_at, finished_at, CASE WHEN status='waiting' THEN ?4 END) - arrived_at)"
		       " FROM checkins WHERE office_id=?1 AND visit_date BETWEEN ?2 AND ?3") != 0)
		goto fail;
	sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	if (sqlite3_step(st) == SQLITE_ROW) {
		cJSON_AddNumberToObject(o, "total", (double)sqlite3_column_int64(st, 0));
		cJSON_AddNumberToObject(o, "served", (double)sqlite3_column_int64(st, 1));
		cJSON_AddNumberToObject(o, "left", (double)sqlite3_column_int64(st, 2));
		cJSON_AddNumberToObject(o, "waiting", (double)sqlite3_column_int64(st, 3));
		cJSON_AddNumberToObject(o, "in_progress", (double)sqlite3_column_int64(st, 4));
		cJSON_AddNumberToObject(o, "avg_wait_ms", (double)(int64_t)sqlite3_column_double(st, 5));
		cJSON_AddNumberToObject(o, "max_wait_ms", (double)sqlite3_column_int64(st, 6));
	}
	sqlite3_finalize(st);

	if (db_prepare(n->nd_db, &st,
		       "SELECT r.id AS reason_id, r.label, r.label_es, count(c.id) AS count"
		       " FROM greeter_reasons r LEFT JOIN checkin_reasons cr ON cr.reason_id = r.id"
		       " LEFT JOIN checkins c ON c.id = cr.checkin_id AND c.office_id=?1"
		       "  AND c.visit_date BETWEEN ?2 AND ?3"
		       " WHERE r.local_area_id=?4 AND (r.office_id IS NULL OR r.office_id=?1)"
		       " GROUP BY r.id HAVING count(c.id) > 0 OR r.active=1"
		       " ORDER BY count DESC, r.sort") != 0)
		goto fail;
	sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->nd_local_area_id, -1, SQLITE_STATIC);
	arr = db_rows_json(st);
	sqlite3_finalize(st);
	if (arr == NULL)
		goto fail;
	cJSON_AddItemToObject(o, "by_reason", arr);

	int hours[24] = {0};
	if (db_prepare(n->nd_db, &st,
		       "SELECT CAST(strftime('%H', arrived_at / 1000, 'unixepoch', 'localtime') AS INTEGER),"
		       " count(*) FROM checkins WHERE office_id=? AND visit_date BETWEEN ? AND ? GROUP BY 1") != 0)
		goto fail;
	sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int h = sqlite3_column_int(st, 0);
		if (h >= 0 && h < 24)
			hours[h] = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	arr = cJSON_AddArrayToObject(o, "by_hour");
	for (int h = 0; h < 24; h++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "hour", h);
		cJSON_AddNumberToObject(x, "count", hours[h]);
		cJSON_AddItemToArray(arr, x);
	}
	http_reply_json(req, 200, o);
	return;
fail:
	cJSON_Delete(o);
	node_reply_db_error(req);
}

/* A CSV field, quoted, with formula-like leading characters neutralized so a
 * spreadsheet never executes a visitor-typed value. */
static void csv_field(buf *b, const char *s, int last)
{
	buf_putc(b, '"');
	if (s && strchr("=+-@\t\r", s[0]) && s[0])
		buf_putc(b, '\'');
	for (; s && *s; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
	buf_puts(b, last ? "\r\n" : ",");
}

static void get_csv(http_req *req, void *ctx)
{
	node *n = ctx;
	char from[11], to[11], disp[96];
	sqlite3_stmt *st;
	buf b;

	if (node_auth_require(n, req, PRIV_REPORTS) != 0)
		return;
	if (date_range(n, req, from, to) != 0)
		return;
	buf_init(&b, CSV_MAX);
	buf_puts(&b, "visit_id,date,arrived,visitor_name,reasons,status,wait_minutes,called,"
		     "finished,virtual,language,appointment_with,note\r\n");
	if (db_prepare(n->nd_db, &st,
		       "SELECT c.id, c.visit_date, c.arrived_at, c.visitor_name,"
		       " (SELECT group_concat(coalesce(r.label, cr.reason_id), '; ') FROM checkin_reasons cr"
		       "   LEFT JOIN greeter_reasons r ON r.id = cr.reason_id WHERE cr.checkin_id = c.id),"
		       " c.status, (coalesce(c.called_at, c.serving_at, c.finished_at) - c.arrived_at) / 60000,"
		       " c.called_at, c.finished_at, c.virtual, c.language, c.appointment_with, c.note"
		       " FROM checkins c WHERE c.office_id=? AND c.visit_date BETWEEN ? AND ?"
		       " ORDER BY c.arrived_at") != 0) {
		buf_release(&b);
		node_reply_db_error(req);
		return;
	}
	sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char t1[17] = "", t2[17] = "", t3[17] = "", wait[24] = "";
		clock_local_datetime((uint64_t)sqlite3_column_int64(st, 2), t1);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			clock_local_datetime((uint64_t)sqlite3_column_int64(st, 7), t2);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			clock_local_datetime((uint64_t)sqlite3_column_int64(st, 8), t3);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			snprintf(wait, sizeof wait, "%lld", (long long)sqlite3_column_int64(st, 6));
		csv_field(&b, (const char *)sqlite3_column_text(st, 0), 0);
		csv_field(&b, (const char *)sqlite3_column_text(st, 1), 0);
		csv_field(&b, t1, 0);
		csv_field(&b, (const char *)sqlite3_column_text(st, 3), 0);
		csv_field(&b, (const char *)sqlite3_column_text(st, 4), 0);
		csv_field(&b, (const char *)sqlite3_column_text(st, 5), 0);
		csv_field(&b, wait, 0);
		csv_field(&b, t2, 0);
		csv_field(&b, t3, 0);
		csv_field(&b, sqlite3_column_int(st, 9) ? "yes" : "no", 0);
		csv_field(&b, (const char *)sqlite3_column_text(st, 10), 0);
		csv_field(&b, (const char *)sqlite3_column_text(st, 11), 0);
		csv_field(&b, (const char *)sqlite3_column_text(st, 12), 1);
	}
	sqlite3_finalize(st);
	snprintf(disp, sizeof disp, "attachment; filename=\"visits-%s-to-%s.csv\"", from, to);
	http_add_header(req, "Content-Disposition", disp);
	http_reply(req, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
	buf_release(&b);
}

/* ---- returning visitors ------------------------------------------------------- */

/* s is one character (one UTF-8 sequence) and no LIKE wildcard. */
static int one_letter(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t want = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;

	return want && strlen(s) == want && !strchr("%_\\ ", s[0]);
}

static void get_visitors(http_req *req, void *ctx)
{
	node *n = ctx;
	char q[128], like[140];
	sqlite3_stmt *st;
	cJSON *arr;
	const node_user *u = node_auth_user(n, req);

	if (!http_req_query(req, "q", q, sizeof q) || strlen(q) < 2) {
		http_reply_json(req, 200, cJSON_CreateArray());
		return;
	}
	if (u == NULL || !(u->privs & PRIV_GREETER_DESK)) {
		/* The public kiosk finds a returning visitor only by a whole phone
		 * number (7 digits or more) and the first letter of the name, a
		 * few times a minute per address, and learns only the name. */
		char initial[8];
		uint64_t wait;
		if (strlen(q) < 7 || strspn(q, "0123456789") != strlen(q) ||
		    http_req_query(req, "initial", initial, sizeof initial) == NULL ||
		    !one_letter(initial)) {
			http_reply_json(req, 200, cJSON_CreateArray());
			return;
		}
		if ((wait = node_edge_lookup_wait(req->peer)) != 0) {
			char ra[32];
			snprintf(ra, sizeof ra, "%llu", (unsigned long long)(wait + 999) / 1000);
			http_add_header(req, "Retry-After", ra);
			http_reply_error(req, 429, NULL, "too many lookups; try again in a minute");
			return;
		}
		if (db_prepare(n->nd_db, &st,
			       "SELECT visitor_name, phone FROM checkins WHERE office_id=?1 AND"
			       " replace(replace(replace(replace(replace(phone,' ',''),'-',''),'(',''),')',''),'+','')"
			       "   IN (?2, '1' || ?2) AND lower(visitor_name) LIKE lower(?3) || '%'"
			       " GROUP BY lower(visitor_name) ORDER BY max(arrived_at) DESC LIMIT 2") != 0) {
			node_reply_db_error(req);
			return;
		}
		sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, q, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, initial, -1, SQLITE_STATIC);
		arr = db_rows_json(st);
		sqlite3_finalize(st);
		if (arr == NULL)
			node_reply_db_error(req);
		else
			http_reply_json(req, 200, arr);
		return;
	}
	/* Escape LIKE wildcards typed by the visitor. */
	size_t j = 0;
	for (size_t i = 0; q[i] && j + 3 < sizeof like; i++) {
		if (q[i] == '%' || q[i] == '_' || q[i] == '\\')
			like[j++] = '\\';
		like[j++] = q[i];
	}
	like[j++] = '%';
	like[j] = '\0';
	if (db_prepare(n->nd_db, &st,
		       "SELECT visitor_name, phone, email, max(arrived_at) AS last_visit FROM checkins"
		       " WHERE office_id=?1 AND (visitor_name LIKE ?2 ESCAPE '\\' OR visitor_name LIKE '% ' || ?2 ESCAPE '\\'"
		       "  OR replace(replace(replace(replace(phone,' ',''),'-',''),'(',''),')','') LIKE ?2 ESCAPE '\\')"
		       " GROUP BY lower(visitor_name), coalesce(phone, ''), coalesce(email, '')"
		       " ORDER BY last_visit DESC LIMIT 10") != 0) {
		node_reply_db_error(req);
		return;
	}
	sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, like, -1, SQLITE_STATIC);
	arr = db_rows_json(st);
	sqlite3_finalize(st);
	if (arr == NULL)
		node_reply_db_error(req);
	else
		http_reply_json(req, 200, arr);
}

int greeter_routes(node *n, router *r)
{
	int rc = 0;

	rc |= router_add(r, HTTP_M_GET, "/api/v1/greeter/reasons", get_reasons, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/greeter/stats", get_stats, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/greeter/visits.csv", get_csv, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/visitors", get_visitors, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/checkins", post_checkin, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/checkins", list_checkins, n);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/checkins/:id", get_checkin, n);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/checkins/:id/action", post_action, n);
	return rc ? -1 : 0;
}
