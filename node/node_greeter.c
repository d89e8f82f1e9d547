/*
 * node_greeter.c - the greeter's JSON API on the office node: check-in
 * reasons, kiosk check-ins, the front desk's waiting list and actions, the
 * day's counts and the CSV export (these two name each visit's reason by
 * the label it had then, GREETER_REASON_LABEL; the kiosk and the desk by
 * its label now).  Every write is a declared NODE_WRITE
 * route (node_api.h): one captured transaction, so each check-in or action
 * yields exactly one outbox entry, answered once durable.  The kiosk's
 * writes record no actor.
 */
#include "node/node_api.h"
#include "node/node_case.h"
#include "node/node_edge.h"
#include "model/capture.h"
#include "model/greeter.h"
#include "lib/buf.h"
#include "lib/csv.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX (32 * 1024 * 1024)

/* ---- reasons ------------------------------------------------------------ */

static char *reasons_text(node *n, const void *arg, uint64_t now, size_t *len)
{
	const char *args[2] = {n->nd_local_area_id, n->nd_office_id};
	cJSON *arr, *it;
	char *text;

	(void)arg;
	(void)now;
	arr = db_rows_json_args(n->nd_db,
				"SELECT id, label, label_es, sort, active FROM greeter_reasons "
				"WHERE active=1 AND local_area_id=? AND (office_id IS NULL OR office_id=?) "
				"ORDER BY sort, label",
				2, args);
	if (arr == NULL)
		return NULL;
	/* "active" as a boolean for the clients. */
	cJSON_ArrayForEach(it, arr)
	{
		cJSON *act = cJSON_GetObjectItem(it, "active");
		cJSON_ReplaceItemInObject(it, "active", cJSON_CreateBool(act && act->valueint));
	}
	text = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	*len = text ? strlen(text) : 0;
	return text;
}

/* Every kiosk polls the reasons: cached until a write (node_gcache.c). */
static route_rc get_reasons(route_call *a)
{
	return node_gcache_reply(a, "reasons", 0, reasons_text, NULL);
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
	" 'staff_name', (SELECT s.display_name FROM staff s WHERE s.id = c.staff_id),"          \
	" 'wait_ms', max(0, CASE WHEN c.status='waiting' THEN ?4"                               \
	"   ELSE coalesce(c.called_at, c.serving_at, c.finished_at) END - c.arrived_at),"       \
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
#define ONE_SQL                                                                               \
	"SELECT " CHECKIN_OBJECT("(SELECT count(*) FROM checkins w WHERE w.office_id=c.office_id" \
				 " AND w.visit_date=c.visit_date AND w.status='waiting'"         \
				 " AND (w.arrived_at, w.id) <= (c.arrived_at, c.id))")          \
	" FROM checkins c WHERE c.id=?1"
static const char one_sql[] = ONE_SQL;
/* The same, of this office and day only (?2, ?3): the desk's list shows no
 * other (another day's visit is a report: its live event would have shown
 * it to the desk). */
static const char mine_sql[] = ONE_SQL " AND c.office_id=?2 AND c.visit_date=?3";
static const char new_sql[] =
	"SELECT " CHECKIN_OBJECT("(SELECT g.n FROM greeter_waiting g WHERE g.office_id=c.office_id"
				 " AND g.visit_date=c.visit_date)")
	" FROM checkins c WHERE c.id=?1";

/* The check-in as JSON text in *out (caller frees): 0, 1 if there is none,
 * -1 on error.  just_checked_in: 1 new_sql, 0 one_sql, CHECKIN_MINE
 * mine_sql (1 also when the check-in is another office's). */
#define CHECKIN_MINE 2
static int checkin_json(node *n, const char *id, int just_checked_in, char **out, size_t *len)
{
	sqlite3_stmt *st = db_stmt(n->nd_db, just_checked_in == CHECKIN_MINE ? mine_sql
					     : just_checked_in ? new_sql : one_sql);
	int rc = -1;

	*out = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (just_checked_in == CHECKIN_MINE) {
		char today[11];

		node_today(n, today);
		sqlite3_bind_text(st, 2, n->nd_office_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, today, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(st, 4, (int64_t)node_now_ms(n));
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (sqlite3_column_type(st, 0) != SQLITE_TEXT)
			break;
		if ((*out = db_col_dup(st, 0, len)) != NULL)
			rc = 0;
		break;
	case SQLITE_DONE:
		rc = 1;
		break;
	default:
		break;
	}
	db_stmt_done(st);
	return rc;
}

/* The check-in as JSON text (caller frees), NULL if there is none or on error. */
static char *checkin_text(node *n, const char *id, int just_checked_in, size_t *len)
{
	char *out;

	checkin_json(n, id, just_checked_in, &out, len);
	return out;
}

int node_greeter_visit(node *n, const char *id, char **text, size_t *len)
{
	int rc = checkin_json(n, id, CHECKIN_MINE, text, len);

	if (rc == 1 && db_exists(n->nd_db, "SELECT 1 FROM checkins WHERE id=?", id) != 0)
		rc = 2; /* another office's (or an error: not said to be gone) */
	return rc;
}

/* After a write: the check-in as the reply (sent once the batch is durable). */
static route_rc reply_checkin(route_call *a, int status, const char *id, int just_checked_in)
{
	size_t len = 0;
	char *text = checkin_text(API_NODE(a), id, just_checked_in, &len);

	return route_ok_text(a, status, NULL, text, len);
}

/* ---- create ---------------------------------------------------------------- */

static const route_key checkin_keys[] = {
	{"visitor_name", ROUTE_T_ANY, 0}, {"reason_ids", ROUTE_T_ANY, 0}, {"language", ROUTE_T_ANY, 0},
	{"phone", ROUTE_T_ANY, 0}, {"email", ROUTE_T_ANY, 0}, {"appointment_with", ROUTE_T_ANY, 0},
	{"virtual", ROUTE_T_ANY, 0}, {"participant_id", ROUTE_T_ANY, 0}, {"note", ROUTE_T_ANY, 0},
	{"confirm_name", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

typedef struct checkin_in {
	const char *name, *lang, *phone, *email, *appt, *note, *participant;
	char namebuf[JSON_TEXT_BYTES(GREETER_NAME_MAX)], phonebuf[JSON_TEXT_BYTES(GREETER_PHONE_MAX)];
	char emailbuf[JSON_TEXT_BYTES(GREETER_EMAIL_MAX)], apptbuf[JSON_TEXT_BYTES(GREETER_APPT_MAX)];
	const cJSON *reason_ids;
	int virt, confirm;
} checkin_in;

/* The body's fields, every error collected: 0 or -1. */
static int checkin_read(route_call *a, checkin_in *in)
{
	json_err e = {{0}, {0}};
	int bad = 0;

	bad |= route_str(a, "visitor_name", JSON_REQUIRED, 1, GREETER_NAME_MAX, &in->name,
			 in->namebuf, sizeof in->namebuf);
	if (json_get_str_array(a->rc_body, "reason_ids", JSON_REQUIRED, 1, GREETER_MAX_REASONS, 64,
			       &in->reason_ids, &e) != 0)
		bad |= route_err_json(a, &e);
	bad |= route_str(a, "language", JSON_NULLABLE, 0, 2, &in->lang, NULL, 0);
	bad |= route_str(a, "phone", JSON_NULLABLE, 0, GREETER_PHONE_MAX, &in->phone, in->phonebuf,
			 sizeof in->phonebuf);
	bad |= route_str(a, "email", JSON_NULLABLE, 0, GREETER_EMAIL_MAX, &in->email, in->emailbuf,
			 sizeof in->emailbuf);
	bad |= route_str(a, "appointment_with", JSON_NULLABLE, 0, GREETER_APPT_MAX, &in->appt,
			 in->apptbuf, sizeof in->apptbuf);
	bad |= route_str(a, "note", JSON_NULLABLE, 0, GREETER_NOTE_MAX, &in->note, NULL, 0);
	bad |= route_str(a, "participant_id", JSON_NULLABLE, 0, 64, &in->participant, NULL, 0);
	bad |= route_bool(a, "virtual", JSON_NULLABLE, 0, &in->virt);
	bad |= route_bool(a, "confirm_name", JSON_NULLABLE, 0, &in->confirm);
	if (in->participant && in->participant[0] == '\0')
		in->participant = NULL; /* "" links nobody */
	return bad;
}

/* The values' own rules, every error collected: 0 or -1. */
static int checkin_check(route_call *a, checkin_in *in)
{
	int bad = 0;

	if (in->lang == NULL)
		in->lang = "en";
	if (greeter_valid_language(in->lang) != 0)
		bad = route_err(a, "language", "language must be \"en\" or \"es\"");
	if (in->phone && greeter_valid_phone(in->phone) != 0)
		bad = route_err(a, "phone", "phone number is not valid");
	if (in->email && greeter_valid_email(in->email) != 0)
		bad = route_err(a, "email", "email address is not valid");
	return bad;
}

/* Every reason must be an active reason offered at this office, once. */
static route_rc checkin_reasons_check(route_call *a, const cJSON *reason_ids)
{
	node *n = API_NODE(a);
	const cJSON *r, *r2;
	sqlite3_stmt *st;
	route_rc rc = ROUTE_OK;

	if ((st = db_stmt(n->nd_db, "SELECT 1 FROM greeter_reasons WHERE id=? AND active=1 AND local_area_id=? "
		       "AND (office_id IS NULL OR office_id=?)")) == NULL)
		return ROUTE_DBERR;
	cJSON_ArrayForEach(r, reason_ids)
	{
		cJSON_ArrayForEach(r2, reason_ids)
		{
			if (r2 == r)
				break;
			if (strcmp(r2->valuestring, r->valuestring) == 0) {
				rc = route_bad(a, "reason_ids", "a reason is listed twice");
				goto out;
			}
		}
		sqlite3_bind_text(st, 1, r->valuestring, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, n->nd_local_area_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, n->nd_office_id, -1, SQLITE_STATIC);
		switch (sqlite3_step(st)) {
		case SQLITE_ROW:
			break;
		case SQLITE_DONE:
			rc = route_bad(a, "reason_ids", "unknown or inactive reason '%.64s'",
				       r->valuestring);
			goto out;
		default: /* a failed read is no answer about the reason (issue 20) */
			db_note_error(n->nd_db, SQLITE_OK);
			rc = ROUTE_DBERR;
			goto out;
		}
		sqlite3_reset(st);
	}
out:
	db_stmt_done(st);
	return rc;
}

/* The check-in row, its reasons and its first event.  Each reason with
 * its labels here now, those the kiosk offered: the reports name the
 * visit's reason by them (GREETER_REASON_LABEL), a rename at the hub not
 * yet pulled included. */
static int checkin_insert(node *n, const checkin_in *in, const char *id, uint64_t now,
			  const char *today, const char *staff_id)
{
	char ts[HLC_STRLEN], eid[UUID_STRLEN], rid[UUID_STRLEN];
	const cJSON *r;

	hlc_now(&n->nd_hlc, ts);
	/* A virtual visit (phone or video) is recorded as served by the staff
	 * member who records it: it never waits in the line. */
	if (db_run_cached(n->nd_db, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, phone, email,"
		       " language, appointment_with, virtual, participant_id, status, arrived_at,"
		       " visit_date, note, updated_hlc, called_at, serving_at, finished_at, staff_id)"
		       " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,CASE WHEN ?9 THEN 'done' ELSE 'waiting' END,"
		       " ?11,?12,?13,?14, CASE WHEN ?9 THEN ?11 END, CASE WHEN ?9 THEN ?11 END,"
		       " CASE WHEN ?9 THEN ?11 END, CASE WHEN ?9 THEN ?15 END)", "ttttttttitItttt",
		       id, n->nd_office_id, n->nd_local_area_id, in->name, in->phone, in->email,
		       in->lang, in->appt, in->virt, in->participant, (int64_t)now, today, in->note,
		       ts, in->virt ? staff_id : NULL) != 0)
		return -1;
	cJSON_ArrayForEach(r, in->reason_ids)
	{
		uuid7_at(rid, now);
		if (db_run_cached(n->nd_db, "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id,"
			       " label, label_es) SELECT ?1,?2,?3,?4, g.label, g.label_es FROM (SELECT 1)"
			       " LEFT JOIN greeter_reasons g ON g.id=?3", "tttt", rid, id, r->valuestring,
			       n->nd_office_id) != 0)
			return -1;
	}
	uuid7_at(eid, now);
	return db_run_cached(n->nd_db, "INSERT INTO checkin_events(id, checkin_id, office_id, action, from_status,"
			     " to_status, note, at, hlc) VALUES(?1,?2,?3,'checkin',NULL,"
			     " CASE WHEN ?6 THEN 'done' ELSE 'waiting' END,NULL,?4,?5)", "tttIti",
			     eid, id, n->nd_office_id, (int64_t)now, ts, in->virt);
}

/* A check-in without a front-desk session (the kiosk's) is paced per
 * address (kiosk_checkins_per_minute): a visitor takes longer than that to
 * check in, a script filling the waiting list with names does not. */
static route_rc kiosk_pace(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = node_auth_user(n, a->rc_req);
	char ra[32];
	uint64_t wait;

	if (u != NULL && (u->privs & PRIV_GREETER_DESK))
		return ROUTE_OK;
	wait = node_edge_checkin_wait(a->rc_req->peer, a->rc_req->peer_group,
				      (int)conf_int(&n->nd_conf, "kiosk_checkins_per_minute"));
	if (wait == 0)
		return ROUTE_OK;
	snprintf(ra, sizeof ra, "%llu", (unsigned long long)(wait + 999) / 1000);
	http_add_header(a->rc_req, "Retry-After", ra);
	return route_fail(a, 429, NULL, "many check-ins came from this kiosk just now: please wait"
					" a moment and try again, or ask at the front desk");
}

static route_rc post_checkin(route_call *a)
{
	node *n = API_NODE(a);
	checkin_in in;
	char id[UUID_STRLEN], today[11];
	const char *field, *msg;
	uint64_t now;
	route_rc rc;
	int status;

	memset(&in, 0, sizeof in);
	if (checkin_read(a, &in) != 0)
		return ROUTE_BAD;
	/* The kiosk is public; a virtual visit, a note or a participant link is
	 * recorded by front-desk staff only. */
	if ((in.virt || (in.note && in.note[0]) || in.participant) &&
	    (status = node_auth_check(n, a->rc_req, PRIV_GREETER_DESK, &field, &msg)) != 0)
		return route_fail(a, status, field, "%s", msg);
	if (checkin_check(a, &in) != 0)
		return ROUTE_BAD;
	if ((rc = checkin_reasons_check(a, in.reason_ids)) != ROUTE_OK)
		return rc;
	/* A participant link follows the visits route's rules. */
	if (in.participant &&
	    node_visit_link_check(a, in.participant, 0, NULL, in.name, in.confirm, &rc))
		return rc;
	if ((rc = kiosk_pace(a)) != ROUTE_OK)
		return rc;
	now = node_now_ms(n);
	clock_local_date(now, today);
	uuid7_at(id, now);
	{
		const node_user *u = in.virt ? node_auth_user(n, a->rc_req) : NULL;
		if (checkin_insert(n, &in, id, now, today, u ? u->id : NULL) != 0)
			return ROUTE_DBERR;
	}
	node_live_notify(n, id);
	/* A visitor checks in, not staff: the write records no actor (a desk
	 * action below records the staff member who took it, whom a conflict
	 * over the visit then names). */
	a->rc_actor = NULL;
	/* Read back inside the write's savepoint, so the reply shows exactly it. */
	return reply_checkin(a, 201, id, 1);
}

/* ---- list / get ------------------------------------------------------------ */

/* Parse date or from/to query parameters; default today.  -1 with the
 * error collected. */
static int date_range(route_call *a, char from[11], char to[11])
{
	http_req *req = a->rc_req;
	char d[32], f[32], t[32];

	if (http_req_query(req, "date", d, sizeof d)) {
		if (json_valid_date(d) != 0)
			return route_err(a, "date", "date must be YYYY-MM-DD");
		memcpy(from, d, 11);
		memcpy(to, d, 11);
		return 0;
	}
	node_today(API_NODE(a), from);
	memcpy(to, from, 11);
	if (http_req_query(req, "from", f, sizeof f)) {
		if (json_valid_date(f) != 0)
			return route_err(a, "from", "from must be YYYY-MM-DD");
		memcpy(from, f, 11);
	}
	if (http_req_query(req, "to", t, sizeof t)) {
		if (json_valid_date(t) != 0)
			return route_err(a, "to", "to must be YYYY-MM-DD");
		memcpy(to, t, 11);
	}
	if (strcmp(from, to) > 0)
		return route_err(a, "from", "from must not be after to");
	if (clock_days_between(from, to) > 365) /* from and to both count */
		return route_err(a, "to", "a range may cover at most 366 days");
	return 0;
}

/*
 * The whole list is built by one query (the front desk polls it every few
 * seconds from several screens): the same objects as one_sql.  The places
 * in line are numbered over the waiting rows alone (the partial index
 * checkins_waiting, node_state.c), and the other rows are sought by day
 * and status (checkins_queue), only for the statuses asked for: a day's
 * finished visits cost the desk's poll nothing.  ?5: waiting rows wanted;
 * ?6: a JSON array of the other statuses wanted.
 */
static const char list_sql[] =
	"SELECT coalesce(json_group_array(json(o)), '[]') FROM (SELECT " CHECKIN_OBJECT("c.pos")
	" AS o FROM (SELECT *, row_number() OVER (PARTITION BY visit_date ORDER BY arrived_at, id)"
	"   AS pos FROM checkins INDEXED BY checkins_waiting WHERE ?5 AND office_id=?1"
	"   AND visit_date BETWEEN ?2 AND ?3 AND status='waiting'"
	" UNION ALL SELECT *, NULL FROM checkins INDEXED BY checkins_queue WHERE office_id=?1"
	"   AND visit_date IN (WITH RECURSIVE d(x) AS (SELECT ?2 UNION ALL"
	"     SELECT date(x, '+1 day') FROM d WHERE x < ?3) SELECT x FROM d)"
	"   AND status IN (SELECT value FROM json_each(?6))) c"
	" ORDER BY c.arrived_at, c.id)";

typedef struct list_query {
	const char *lq_from, *lq_to, *lq_want;
	int lq_all;
} list_query;

static char *list_text(node *n, const void *arg, uint64_t now, size_t *len)
{
	static const char *const others[] = {"called", "serving", "done", "left"};
	const list_query *q = arg;
	char key[16], other[64] = "[";
	sqlite3_stmt *st;
	char *text = NULL;

	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		snprintf(key, sizeof key, ",%s,", others[i]);
		if (q->lq_all || strstr(q->lq_want, key) != NULL)
			snprintf(other + strlen(other), sizeof other - strlen(other), "%s\"%s\"",
				 other[1] ? "," : "", others[i]);
	}
	strcat(other, "]"); /* at most 36 bytes before it: fits */
	if ((st = db_stmt(n->nd_db, list_sql)) == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->lq_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, q->lq_to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)now);
	sqlite3_bind_int(st, 5, q->lq_all || strstr(q->lq_want, ",waiting,") != NULL);
	sqlite3_bind_text(st, 6, other, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		text = db_col_dup(st, 0, len);
	db_stmt_done(st);
	return text;
}

static route_rc list_checkins(route_call *a)
{
	char from[11], to[11], status[128], want[160] = ",", key[256];
	list_query q;
	int all = 0;

	if (date_range(a, from, to) != 0)
		return ROUTE_BAD;
	{
		/* The desk's list is today's; any other day or range is a
		 * report, as for the figures (stats_allowed): the visitors'
		 * names, phones and notes of a year are not the desk's. */
		char today[11];

		node_today(API_NODE(a), today);
		if ((strcmp(from, today) != 0 || strcmp(to, today) != 0) && API_USER(a) &&
		    !(API_USER(a)->privs & PRIV_REPORTS))
			return route_fail(a, 403, "from", "the visits of another day are a report: your"
							  " account does not have the reports privilege");
	}
	if (!http_req_query(a->rc_req, "status", status, sizeof status) || status[0] == '\0')
		snprintf(status, sizeof status, "all");
	for (char *tok = strtok(status, ","); tok; tok = strtok(NULL, ",")) {
		if (strcmp(tok, "all") == 0) {
			all = 1;
			continue;
		}
		if (greeter_valid_status(tok) != 0)
			return route_bad(a, "status",
					 "status must be waiting, called, serving, done, left or all");
		strcat(want, tok); /* at most five 7-byte names: fits */
		strcat(want, ",");
	}
	q.lq_from = from;
	q.lq_to = to;
	q.lq_all = all;
	q.lq_want = want;
	/* The desk's screens poll it: cached until a write, and for the second
	 * its wait_ms are computed for (node_gcache.c). */
	snprintf(key, sizeof key, "list %s %s %d %s", from, to, all, want);
	return node_gcache_reply(a, key, GCACHE_TIMED | GCACHE_PERSONAL, list_text, &q);
}

/* May the caller reach visit id, to read it or move it?  A visit of this
 * office (another's is not there for the desk: 404), of today unless the
 * account has the reports privilege - another day's visits are a report,
 * as the list says (list_checkins).  ROUTE_OK with its status in status
 * (size 16), or the reply sent. */
static route_rc visit_reachable(route_call *a, const char *id, char status[16])
{
	node *n = API_NODE(a);
	char day[16] = "", today[11];
	sqlite3_stmt *st = db_stmt(n->nd_db, "SELECT visit_date, status FROM checkins WHERE id=?1"
					     " AND office_id=?2");
	int rc;

	if (st == NULL)
		return ROUTE_DBERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->nd_office_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(day, sizeof day, "%s", db_col(st, 0) ? db_col(st, 0) : "");
		snprintf(status, 16, "%s", db_col(st, 1) ? db_col(st, 1) : "");
	}
	db_stmt_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ROUTE_DBERR;
	if (rc == SQLITE_DONE)
		return route_fail(a, 404, "id", "no such check-in");
	node_today(n, today);
	if (strcmp(day, today) != 0 && API_USER(a) && !(API_USER(a)->privs & PRIV_REPORTS))
		return route_fail(a, 403, "id", "the visits of another day are a report: your account"
						" does not have the reports privilege");
	return ROUTE_OK;
}

static route_rc get_checkin(route_call *a)
{
	const char *id = http_req_param(a->rc_req, "id");
	char status[16];
	route_rc rr = visit_reachable(a, id, status);
	size_t len = 0;
	char *text;

	if (rr != ROUTE_OK)
		return rr;
	if ((text = checkin_text(API_NODE(a), id, 0, &len)) == NULL)
		return route_fail(a, 404, "id", "no such check-in");
	return route_ok_text(a, 200, NULL, text, len);
}

/* ---- actions ----------------------------------------------------------------- */

static const route_key action_keys[] = {
	{"action", ROUTE_T_ANY, 0}, {"note", ROUTE_T_ANY, 0}, {"participant_id", ROUTE_T_ANY, 0},
	{"confirm_name", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* The new state, its time, and the event row of one action. */
static int action_apply(node *n, const char *id, const char *action, const char *from,
			const char *to, const char *note, const char *participant,
			const char *staff_id)
{
	char eid[UUID_STRLEN], ts[HLC_STRLEN];
	uint64_t now = node_now_ms(n);

	hlc_now(&n->nd_hlc, ts);
	/* Timestamps record the first time a state is reached; requeue clears them. */
	if (db_run_cached(n->nd_db, "UPDATE checkins SET status=?2, updated_hlc=?3,"
		       " called_at = CASE WHEN ?2='waiting' THEN NULL WHEN ?2='called' THEN coalesce(called_at, ?4) ELSE called_at END,"
		       " serving_at = CASE WHEN ?2='waiting' THEN NULL WHEN ?2='serving' THEN coalesce(serving_at, ?4) ELSE serving_at END,"
		       " finished_at = CASE WHEN ?2 IN ('done','left') THEN ?4 ELSE NULL END,"
		       " note = coalesce(?5, note),"
		       " participant_id = coalesce(?6, participant_id),"
		       " staff_id = CASE WHEN ?2 IN ('serving','done') THEN coalesce(staff_id, ?7)"
		       "   WHEN ?2 = 'waiting' THEN NULL ELSE staff_id END" /* served by */
		       " WHERE id=?1", "tttIttt", id, to, ts, (int64_t)now, note, participant,
		       staff_id) != 0)
		return -1;
	uuid7_at(eid, now);
	return db_run_cached(n->nd_db, "INSERT INTO checkin_events(id, checkin_id, office_id, action,"
			     " from_status, to_status, note, at, hlc) VALUES(?,?,?,?,?,?,?,?,?)",
			     "tttttttIt", eid, id, n->nd_office_id, action, from, to, note,
			     (int64_t)now, ts);
}

static route_rc post_action(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id");
	const char *action = NULL, *note = NULL, *participant = NULL, *to;
	char from[16];
	int bad = 0, confirm = 0;
	route_rc rr;

	bad |= route_str(a, "action", JSON_REQUIRED, 1, 16, &action, NULL, 0);
	bad |= route_str(a, "note", JSON_NULLABLE, 0, GREETER_NOTE_MAX, &note, NULL, 0);
	bad |= route_str(a, "participant_id", JSON_NULLABLE, 0, 64, &participant, NULL, 0);
	bad |= route_bool(a, "confirm_name", JSON_NULLABLE, 0, &confirm);
	if (participant && participant[0] == '\0')
		participant = NULL; /* "" keeps the link as it is */
	if (!bad && greeter_transition("waiting", action) == NULL &&
	    greeter_transition("called", action) == NULL &&
	    greeter_transition("serving", action) == NULL)
		bad = route_err(a, "action", "action must be call, serve, done, left or requeue");
	if (bad)
		return ROUTE_BAD;
	if ((rr = visit_reachable(a, id, from)) != ROUTE_OK)
		return rr;
	if ((to = greeter_transition(from, action)) == NULL)
		return route_fail(a, 409, "action", "cannot %s a visit that is %s", action, from);
	if (participant && node_visit_link_check(a, participant, 0, id, NULL, confirm, &rr))
		return rr;
	if (action_apply(n, id, action, from, to, note, participant,
			 API_USER(a) ? API_USER(a)->id : NULL) != 0)
		return ROUTE_DBERR;
	node_live_notify(n, id);
	return reply_checkin(a, 200, id, 0);
}

/* ---- stats and CSV --------------------------------------------------------- */

/* Today's figures are the front desk's dashboard (home page); any other
 * day or range is a report. */
static route_rc stats_allowed(route_call *a)
{
	http_req *req = a->rc_req;
	const node_user *u = API_USER(a);
	char v[16];
	int ranged = http_req_query(req, "date", v, sizeof v) ||
		     http_req_query(req, "from", v, sizeof v) || http_req_query(req, "to", v, sizeof v);

	if (ranged ? !(u->privs & PRIV_REPORTS) : !(u->privs & (PRIV_REPORTS | PRIV_GREETER_DESK)))
		return route_fail(a, 403, NULL, "your account does not have this privilege");
	return ROUTE_OK;
}

static int stats_totals(node *n, cJSON *o, const char *from, const char *to)
{
	sqlite3_stmt *st;
	int rc;

	if (db_prepare_bound(n->nd_db, &st,
			     "SELECT count(*), sum(status='done'), sum(status='left'), sum(status='waiting'),"
			     " sum(status IN ('called','serving')),"
			     " sum(status IN ('done','left') AND finished_at IS NULL)," /* closed at day end */
			     " avg(CASE WHEN status<>'waiting' THEN max(0, coalesce(called_at, serving_at, finished_at) - arrived_at) END),"
			     " max(max(0, coalesce(called_at, serving_at, finished_at, CASE WHEN status='waiting' THEN ?4 END) - arrived_at))"
			     " FROM checkins WHERE office_id=?1 AND visit_date BETWEEN ?2 AND ?3",
			     "tttI", n->nd_office_id, from, to, (int64_t)node_now_ms(n)) != 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cJSON_AddNumberToObject(o, "total", (double)sqlite3_column_int64(st, 0));
		cJSON_AddNumberToObject(o, "served", (double)sqlite3_column_int64(st, 1));
		cJSON_AddNumberToObject(o, "left", (double)sqlite3_column_int64(st, 2));
		cJSON_AddNumberToObject(o, "waiting", (double)sqlite3_column_int64(st, 3));
		cJSON_AddNumberToObject(o, "in_progress", (double)sqlite3_column_int64(st, 4));
		cJSON_AddNumberToObject(o, "closed_at_day_end", (double)sqlite3_column_int64(st, 5));
		cJSON_AddNumberToObject(o, "avg_wait_ms", (double)(int64_t)sqlite3_column_double(st, 6));
		cJSON_AddNumberToObject(o, "max_wait_ms", (double)sqlite3_column_int64(st, 7));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* o[name]: the rows of sql with ?1 the office, ?2..?3 the dates, ?4 the
 * Local Area.  0 or -1. */
static int stats_rows(node *n, cJSON *o, const char *name, const char *sql, const char *from,
		      const char *to)
{
	const char *args[] = {n->nd_office_id, from, to, n->nd_local_area_id};
	cJSON *arr = db_rows_json_args(n->nd_db, sql, 4, args);

	if (arr == NULL)
		return -1;
	cJSON_AddItemToObject(o, name, arr);
	return 0;
}

static int stats_by_reason(node *n, cJSON *o, const char *from, const char *to)
{
	return stats_rows(n, o, "by_reason",
			  /* The days' visits first (checkins_day), so a day's
			   * figures cost that day's visits, not every visit the
			   * office ever had under each reason.  Each under the
			   * label its reason had then (a renamed reason: a row
			   * per label); an offered reason with no visit under
			   * its label now, with 0. */
			  "WITH v AS (SELECT cr.reason_id,"
			  "  " GREETER_REASON_LABEL("label", "cr", "h", "g") " AS label,"
			  "  " GREETER_REASON_LABEL("label_es", "cr", "h", "g") " AS label_es,"
			  "  count(*) AS n FROM checkins c JOIN checkin_reasons cr ON cr.checkin_id = c.id"
			  "  LEFT JOIN greeter_reasons g ON g.id = cr.reason_id"
			  "  " GREETER_REASON_LABEL_JOIN("h", "cr", "c.arrived_at")
			  "  WHERE c.office_id=?1 AND c.visit_date BETWEEN ?2 AND ?3 GROUP BY 1, 2, 3)"
			  " SELECT reason_id, label, label_es, count FROM"
			  " (SELECT r.id AS reason_id, v.label, v.label_es, v.n AS count, r.sort"
			  "   FROM v JOIN greeter_reasons r ON r.id = v.reason_id"
			  "   WHERE r.local_area_id=?4 AND (r.office_id IS NULL OR r.office_id=?1)"
			  "  UNION ALL SELECT r.id, r.label, r.label_es, 0, r.sort FROM greeter_reasons r"
			  "   WHERE r.local_area_id=?4 AND (r.office_id IS NULL OR r.office_id=?1)"
			  "   AND r.active=1 AND NOT EXISTS (SELECT 1 FROM v WHERE v.reason_id = r.id"
			  "   AND v.label = r.label))"
			  " ORDER BY count DESC, sort", from, to);
}

static int stats_by_language(node *n, cJSON *o, const char *from, const char *to)
{
	return stats_rows(n, o, "by_language",
			  "SELECT language, count(*) AS count FROM checkins WHERE office_id=?1"
			  " AND visit_date BETWEEN ?2 AND ?3 GROUP BY language ORDER BY count DESC",
			  from, to);
}

/* sql prepared with ?1 the office and ?2..?3 the dates; NULL on error. */
static sqlite3_stmt *range_stmt(node *n, const char *sql, const char *from, const char *to)
{
	sqlite3_stmt *st;

	if (db_prepare(n->nd_db, &st, sql) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	return st;
}

static int stats_by_hour(node *n, cJSON *o, const char *from, const char *to)
{
	int hours[24] = {0}, rc;
	sqlite3_stmt *st;
	cJSON *arr;

	st = range_stmt(n, "SELECT CAST(strftime('%H', arrived_at / 1000, 'unixepoch', 'localtime')"
			   " AS INTEGER), count(*) FROM checkins WHERE office_id=? AND visit_date"
			   " BETWEEN ? AND ? GROUP BY 1", from, to);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int h = sqlite3_column_int(st, 0);
		if (h >= 0 && h < 24)
			hours[h] = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	arr = cJSON_AddArrayToObject(o, "by_hour");
	for (int h = 0; h < 24; h++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "hour", h);
		cJSON_AddNumberToObject(x, "count", hours[h]);
		cJSON_AddItemToArray(arr, x);
	}
	return 0;
}

static route_rc get_stats(route_call *a)
{
	node *n = API_NODE(a);
	char from[11], to[11];
	route_rc rc;
	cJSON *o;

	if ((rc = stats_allowed(a)) != ROUTE_OK)
		return rc;
	if (date_range(a, from, to) != 0)
		return ROUTE_BAD;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddStringToObject(o, "office_id", n->nd_office_id);
	if (stats_totals(n, o, from, to) != 0 || stats_by_reason(n, o, from, to) != 0 ||
	    stats_by_hour(n, o, from, to) != 0 || stats_by_language(n, o, from, to) != 0) {
		cJSON_Delete(o);
		return ROUTE_DBERR;
	}
	return route_ok(a, 200, o);
}

/* GET /api/v1/greeter/visits.csv?from&to: every visit of the office in the
 * range, names and notes included: a bulk export of personal data, audited
 * (greeter_visits_export: the range and how many visits), its CSV sent once
 * the audit row is durable (a write). */
static route_rc get_csv(route_call *a)
{
	node *n = API_NODE(a);
	char from[11], to[11], file[64], detail[96];
	sqlite3_stmt *st;
	int rc, rows = 0;

	if (date_range(a, from, to) != 0)
		return ROUTE_BAD;
	snprintf(file, sizeof file, "visits-%s-to-%s.csv", from, to);
	route_csv(a, file, CSV_MAX); /* a UTF-8 byte-order mark first */
	route_put(a, "visit_id,date,arrived,visitor_name,reasons,status,wait_minutes,called,"
		     "finished,virtual,language,appointment_with,note,served_by\r\n");
	st = range_stmt(n, "SELECT c.id, c.visit_date, c.arrived_at, c.visitor_name,"
			   " (SELECT group_concat(coalesce(" GREETER_REASON_LABEL("label", "cr", "h", "g")
			   ", cr.reason_id), '; ') FROM checkin_reasons cr"
			   " LEFT JOIN greeter_reasons g ON g.id = cr.reason_id"
			   GREETER_REASON_LABEL_JOIN("h", "cr", "c.arrived_at")
			   " WHERE cr.checkin_id = c.id),"
			   " c.status, max(0, coalesce(c.called_at, c.serving_at, c.finished_at) - c.arrived_at) / 60000,"
			   " c.called_at, c.finished_at, c.virtual, c.language, c.appointment_with, c.note,"
			   " (SELECT s.display_name FROM staff s WHERE s.id = c.staff_id)"
			   " FROM checkins c WHERE c.office_id=? AND c.visit_date BETWEEN ? AND ?"
			   " ORDER BY c.arrived_at", from, to);
	if (st == NULL)
		return ROUTE_DBERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char t1[17] = "", t2[17] = "", t3[17] = "", wait[24] = "";
		clock_local_datetime((uint64_t)sqlite3_column_int64(st, 2), t1);
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			clock_local_datetime((uint64_t)sqlite3_column_int64(st, 7), t2);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			clock_local_datetime((uint64_t)sqlite3_column_int64(st, 8), t3);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			snprintf(wait, sizeof wait, "%lld", (long long)sqlite3_column_int64(st, 6));
		route_csv_col(a, st, 0, 0);
		route_csv_col(a, st, 1, 0);
		route_csv_field(a, t1, 0);
		route_csv_col(a, st, 3, 0);
		route_csv_col(a, st, 4, 0);
		route_csv_col(a, st, 5, 0);
		route_csv_field(a, wait, 0);
		route_csv_field(a, t2, 0);
		route_csv_field(a, t3, 0);
		route_csv_field(a, sqlite3_column_int(st, 9) ? "yes" : "no", 0);
		route_csv_col(a, st, 10, 0);
		route_csv_col(a, st, 11, 0);
		route_csv_col(a, st, 12, 0);
		route_csv_col(a, st, 13, 1);
		rows++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ROUTE_DBERR;
	snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\",\"visits\":%d}", from, to, rows);
	return case__audit(n, API_USER(a), "greeter_visits_export", "checkins", NULL, detail) == 0
		       ? ROUTE_OK
		       : ROUTE_DBERR;
}

/* ---- returning visitors ------------------------------------------------------- */

/* s is one character (one UTF-8 sequence) and no LIKE wildcard. */
static int one_letter(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	size_t want = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;

	return want && strlen(s) == want && !strchr("%_\\ ", s[0]);
}

/* A phone number's digits: without the separators greeter_valid_phone()
 * lets a number be typed with. */
#define PHONE_DIGITS(col)                                                                     \
	"replace(replace(replace(replace(replace(replace(" col ",' ',''),'-',''),'(',''),')',''),"  \
	"'+',''),'.','')"

/* The public kiosk finds a returning visitor only by a whole phone number
 * (7 digits or more) and the first letter of the name, a few times a minute
 * per address (node_edge.h), and learns only the name. */
static route_rc kiosk_visitors(route_call *a, const char *q)
{
	node *n = API_NODE(a);
	char initial[8], ra[32];
	const char *args[3] = {n->nd_office_id, q, initial};
	uint64_t wait;

	if (strlen(q) < 7 || strspn(q, "0123456789") != strlen(q) ||
	    http_req_query(a->rc_req, "initial", initial, sizeof initial) == NULL ||
	    !one_letter(initial))
		return route_ok(a, 200, cJSON_CreateArray());
	if ((wait = node_edge_lookup_wait(a->rc_req->peer_group)) != 0) {
		snprintf(ra, sizeof ra, "%llu", (unsigned long long)(wait + 999) / 1000);
		http_add_header(a->rc_req, "Retry-After", ra);
		return route_fail(a, 429, NULL, "too many lookups; try again in a minute");
	}
	return route_ok(a, 200,
			db_rows_json_args(n->nd_db,
					  "SELECT visitor_name, phone FROM checkins WHERE office_id=?1 AND"
					  " " PHONE_DIGITS("phone") " IN (?2, '1' || ?2) AND lower(visitor_name) LIKE lower(?3) || '%'"
					  " GROUP BY lower(visitor_name) ORDER BY max(arrived_at) DESC LIMIT 2",
					  3, args));
}

static route_rc get_visitors(route_call *a)
{
	node *n = API_NODE(a);
	char q[JSON_TEXT_BYTES(GREETER_NAME_MAX)], like[2 * JSON_TEXT_BYTES(GREETER_NAME_MAX)];
	const node_user *u = node_auth_user(n, a->rc_req);
	const char *args[2] = {n->nd_office_id, like};

	if (route_qtext(a, "q", GREETER_NAME_MAX, q, sizeof q) != 0)
		return ROUTE_BAD;
	if (strlen(q) < 2)
		return route_ok(a, 200, cJSON_CreateArray());
	if (u == NULL || !(u->privs & PRIV_GREETER_DESK))
		return kiosk_visitors(a, q);
	/* LIKE wildcards typed by the visitor match themselves. */
	db_like_pattern(q, 0, like, sizeof like);
	return route_ok(a, 200,
			db_rows_json_args(n->nd_db,
					  "SELECT visitor_name, phone, email, max(arrived_at) AS last_visit FROM checkins"
					  " WHERE office_id=?1 AND (visitor_name LIKE ?2 ESCAPE '\\' OR visitor_name LIKE '% ' || ?2 ESCAPE '\\'"
					  "  OR " PHONE_DIGITS("phone") " LIKE ?2 ESCAPE '\\'"
					  "  OR " PHONE_DIGITS("phone") " LIKE '1' || ?2 ESCAPE '\\')"
					  " GROUP BY lower(visitor_name), coalesce(phone, ''), coalesce(email, '')"
					  " ORDER BY last_visit DESC LIMIT 10",
					  2, args));
}

/* ---- the routes ------------------------------------------------------------ */

static const route_def greeter_defs[] = {
	{HTTP_M_GET, "/api/v1/greeter/reasons", get_reasons, 0, ROUTE_PUBLIC, NULL, 0},
	/* today: greeter_desk or reports; a range: reports (stats_allowed) */
	{HTTP_M_GET, "/api/v1/greeter/stats", get_stats, 0, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/greeter/visits.csv", get_csv, PRIV_REPORTS, NODE_WRITE, NULL, 0},
	{HTTP_M_GET, "/api/v1/visitors", get_visitors, 0, ROUTE_PUBLIC, NULL, 0},
	/* public (the kiosk); desk-only fields need greeter_desk (post_checkin) */
	{HTTP_M_POST, "/api/v1/checkins", post_checkin, 0, ROUTE_PUBLIC | ROUTE_BODY | NODE_WRITE,
	 checkin_keys, 0},
	{HTTP_M_GET, "/api/v1/checkins", list_checkins, PRIV_GREETER_DESK, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/checkins/:id", get_checkin, PRIV_GREETER_DESK, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/checkins/:id/action", post_action, PRIV_GREETER_DESK,
	 ROUTE_BODY | NODE_WRITE, action_keys, 0},
};

const route_list greeter_route_list = ROUTE_LIST(greeter_defs);
