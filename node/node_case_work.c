/*
 * node_case_work.c - case work's JSON API, part 2: activities with their
 * activity case note in one request (the note's subject is built from the
 * code number and title, its contact date is the activity's start date),
 * activity amendments (a new row naming the one it corrects, or voiding it),
 * stand-alone case notes, note amendments (a new note naming the original,
 * waiting for its Help Request like an activity's change;
 * both stay), and backdating approvals.
 *
 * Date rules are checked against the trusted date (node_today: the local
 * clock corrected by the hub's offset at the last sync): 0-30 days back
 * freely, 31-90 only with a recorded approval (given inline or by id), never
 * further and never in the future; after the soft exit only follow-up codes
 * (the exit is swept first, inside the same transaction).  Each row carries
 * the clock offset in force when it was entered, so a skewed office clock
 * shows.  See node_case.h.
 */
#include "node/node_case.h"
#include "node/node_api.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <string.h>

/*
 * The backdating rule for a date entered today (NULL: a date already
 * refused, only the body is checked).  0 when allowed: within 30 days, or
 * 31-90 days back with *pending set (the caller inserts the entry with
 * approval_id = request and raises the request: the entry waits for its
 * approvers).  -1 with every error collected.  Approvals are never typed
 * in: an "approval" or "approval_id" in the body is refused.
 */
static int backdate_rule(route_call *a, const char *field, const char *date, const char *today,
			 int *days, int *pending)
{
	const cJSON *body = a->rc_body;
	case_backdate b = date ? case_backdate_check(date, today, days) : CASE_BD_OK;
	int bad = 0;

	*pending = 0;
	if (cJSON_GetObjectItemCaseSensitive(body, "approval") ||
	    cJSON_GetObjectItemCaseSensitive(body, "approval_id"))
		bad = route_err(a, cJSON_GetObjectItemCaseSensitive(body, "approval") ? "approval" : "approval_id",
			     "approvals are not typed in: an entry 31 to 90 days back waits for the DSS "
			     "Program Manager, the WDB Director and EDD to approve it in their own sessions");
	if (b != CASE_BD_OK && b != CASE_BD_NEEDS_APPROVAL)
		bad = route_err(a, field, "%s", case_backdate_msg(b));
	*pending = !bad && b == CASE_BD_NEEDS_APPROVAL;
	return bad;
}

/* The "approval" member of a reply for a pending entry. */
static void add_pending(cJSON *out, const char *request_id)
{
	cJSON *ap = cJSON_AddObjectToObject(out, "approval"), *w;
	const char *const *r = case_kind_roles("backdate");

	cJSON_AddStringToObject(ap, "request_id", request_id);
	cJSON_AddStringToObject(ap, "state", "pending");
	w = cJSON_AddArrayToObject(ap, "waiting_for");
	for (; *r; r++)
		cJSON_AddItemToArray(w, cJSON_CreateString(case_role_title(*r)));
}

/*
 * The participant a new entry is for, held in this Local Area: ROUTE_OK
 * (exited in *exited), the 404 (or ROUTE_BAD when bad says the request's
 * fields were at fault already: those errors are the answer), or
 * ROUTE_DBERR.
 */
static route_rc entry_participant(route_call *a, const char *pid, int bad, int *exited)
{
	node *n = API_NODE(a);
	char st[16] = "";
	const char *state;
	sqlite3_stmt *s;
	int rc;

	if (pid == NULL)
		return bad ? ROUTE_BAD : route_fail(a, 404, "id", "no such participant");
	if (db_prepare_bound(n->nd_db, &s, "SELECT exit_state FROM participants WHERE id=?1 AND"
					  " local_area_id=?2", "tt", pid, n->nd_local_area_id) != 0)
		return ROUTE_DBERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && (state = db_col(s, 0)) == NULL)
		rc = SQLITE_NOMEM;
	if (rc == SQLITE_ROW)
		snprintf(st, sizeof st, "%s", state);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return bad ? ROUTE_BAD : route_fail(a, 404, "id", "no such participant");
	if (rc != SQLITE_ROW)
		return ROUTE_DBERR;
	*exited = strcmp(st, "exited") == 0;
	return ROUTE_OK;
}

/*
 * The dates every new entry must keep (SLO policy): none before the
 * participant's registration, and a follow-up code's on or after the exit
 * date.  Call after the exit sweep.  0, -1 with the error collected, -2 on
 * a database error.
 */
static int entry_dates_rule(route_call *a, const char *pid, const char *field, const char *date,
			    int followup)
{
	node *n = API_NODE(a);
	char reg[16] = "", ex[16] = "";

	if (db_text(n->nd_db, "SELECT registered_date FROM participants WHERE id=?", pid, reg,
		    sizeof reg) != 0)
		return -2;
	if (strcmp(date, reg) < 0)
		return route_err(a, field, "the date is before the participant's registration (%s)", reg);
	if (!followup)
		return 0;
	if (db_text(n->nd_db, "SELECT coalesce((SELECT min(exit_date) FROM participant_exits WHERE"
			      " participant_id=?1), (SELECT exit_date FROM participants WHERE id=?1), '')",
		    pid, ex, sizeof ex) < 0)
		return -2;
	if (ex[0] && strcmp(date, ex) < 0)
		return route_err(a, field, "a follow-up code is dated on or after the exit date (%s)", ex);
	return 0;
}

/*
 * The business-date rules of a new entry dated date (NULL: already refused)
 * beside the request's other errors (bad: there are some): the
 * participant's dates and backdating.  ROUTE_OK to write, with the id of
 * the approval request a backdated entry waits for in appr ("" when it
 * needs none); ROUTE_BAD with every error collected; or ROUTE_DBERR.
 */
static route_rc date_rules(route_call *a, const char *pid, const char *field, const char *date,
			   int followup, const char *today, int bad, int *days,
			   char appr[UUID_STRLEN])
{
	int pending = 0, rc = date ? entry_dates_rule(a, pid, field, date, followup) : 0;

	if (rc == -2)
		return ROUTE_DBERR;
	bad |= rc;
	bad |= backdate_rule(a, field, rc == 0 ? date : NULL, today, days, &pending);
	if (bad)
		return ROUTE_BAD;
	appr[0] = '\0';
	if (pending)
		uuid7_at(appr, node_now_ms(API_NODE(a)));
	return ROUTE_OK;
}

static int insert_note(node *n, const node_user *u, const char *pid, const char *kind,
		       const char *activity_id, const char *subject, const char *contact,
		       const char *body, const char *amends, const char *today, const char *approval,
		       char id[UUID_STRLEN])
{
	uuid7_at(id, node_now_ms(n));
	return db_run(n->nd_db,
		      "INSERT INTO case_notes(id, participant_id, local_area_id, office_id, kind,"
		      " activity_id, subject, contact_date, body, staff_id, amends_id, entered_date,"
		      " entered_at, clock_skew_ms, approval_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		      "ttttttttttttIIt", id, pid, n->nd_local_area_id, n->nd_office_id, kind,
		      activity_id, subject, contact, body, u->id, amends, today,
		      (int64_t)node_now_ms(n), (int64_t)n->nd_clock_offset_ms, approval);
}

typedef struct actin {
	const char *code, *list, *start, *end, *completion;
	const char *change_req; /* a change's Help Request (change_request_id) */
	char title[200];
	int restarts;
} actin;

static int insert_activity(node *n, const node_user *u, const char *pid, const actin *a,
			   const char *today, int days, const char *approval, const char *corrects,
			   int voided, char id[UUID_STRLEN])
{
	uuid7_at(id, node_now_ms(n));
	return db_run(n->nd_db,
		      "INSERT INTO participant_activities(id, participant_id, local_area_id, office_id,"
		      " code, code_list, start_date, end_date, completion, staff_id, entered_date,"
		      " entered_at, backdate_days, approval_id, clock_skew_ms, corrects_id, voided,"
		      " change_request_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		      "tttttttttttIitItit", id, pid, n->nd_local_area_id, n->nd_office_id, a->code,
		      a->list, a->start, a->end, a->completion, u->id, today, (int64_t)node_now_ms(n),
		      days, db_null_if_empty(approval), (int64_t)n->nd_clock_offset_ms, corrects, voided,
		      a->change_req);
}

/* Look the code up in its list (list NULL: activity codes first, then
 * follow-up codes): an active one, or any (retired) when the entry is a
 * correction of a row that used it.  0, or -1 with e set. */
static int find_code(node *n, actin *a, int retired_too, json_err *e)
{
	static const char *const lists[] = {"activity", "followup"};
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st;
		const char *c[3];
		int found = 0, rc;

		if (a->list && strcmp(a->list, lists[i]) != 0)
			continue;
		if (db_prepare(n->nd_db, &st,
			       i == 0 ? "SELECT title, restarts_exit_clock, status FROM participant_activity_codes WHERE code=?"
				      : "SELECT title, restarts_exit_clock, status FROM followup_codes WHERE code=?") != 0) {
			json_err_set(e, "code", "cannot read the code list");
			return -1;
		}
		sqlite3_bind_text(st, 1, a->code, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && db_cols(st, c, 3) != 0) {
			sqlite3_finalize(st);
			json_err_set(e, "code", "cannot read the code list");
			return -1;
		}
		if (rc == SQLITE_ROW && (retired_too || strcmp(c[2], "active") == 0)) {
			snprintf(a->title, sizeof a->title, "%s", c[0]);
			a->restarts = sqlite3_column_int(st, 1);
			found = 1;
		}
		sqlite3_finalize(st);
		if (found) {
			a->list = lists[i];
			return 0;
		}
	}
	json_err_set(e, "code", "unknown or retired activity code '%.8s'", a->code);
	return -1;
}

static int check_end(const actin *a, const char *today, json_err *e)
{
	if (a->end && (json_valid_date(a->end) != 0 || strcmp(a->end, a->start) < 0 ||
		       strcmp(a->end, today) > 0)) {
		json_err_set(e, "end_date", "end date must be a date from the start date to today");
		return -1;
	}
	if (a->completion && strcmp(a->completion, "successful") != 0 &&
	    strcmp(a->completion, "unsuccessful") != 0) {
		json_err_set(e, "completion", "completion must be successful or unsuccessful");
		return -1;
	}
	if (a->completion && a->end == NULL) {
		json_err_set(e, "completion", "a completion needs the end date");
		return -1;
	}
	return 0;
}

/* The fields of a new activity (code, list, start and end dates, completion,
 * its case note), every error collected: 0, or -1. */
static int act_fields(route_call *call, node *n, actin *a, const char *today,
		      const char **body_text)
{
	const cJSON *note = cJSON_GetObjectItemCaseSensitive(call->rc_body, "note");
	json_err e = {{0}, {0}};
	int bad = 0;

	bad |= route_str(call, "code", JSON_REQUIRED, 1, 8, &a->code, NULL, 0);
	bad |= route_str(call, "code_list", JSON_NULLABLE, 0, 10, &a->list, NULL, 0);
	bad |= route_str(call, "start_date", JSON_REQUIRED, 1, 10, &a->start, NULL, 0);
	bad |= route_str(call, "end_date", JSON_NULLABLE, 0, 10, &a->end, NULL, 0);
	bad |= route_str(call, "completion", JSON_NULLABLE, 0, 16, &a->completion, NULL, 0);
	if (a->list && a->list[0] == '\0')
		a->list = NULL;
	if (a->end && a->end[0] == '\0')
		a->end = NULL;
	if (a->completion && a->completion[0] == '\0')
		a->completion = NULL;
	if (a->list && strcmp(a->list, "activity") != 0 && strcmp(a->list, "followup") != 0)
		bad = route_err(call, "code_list", "code_list must be activity or followup");
	if (!cJSON_IsObject(note) ||
	    json_get_str(note, "body", JSON_REQUIRED, 1, CASE_NOTE_MAX, body_text, NULL, 0, &e) ||
	    !case_text_visible(*body_text))
		bad = route_err(call, "note.body", "every activity needs its case note: describe the activity");
	if (a->start && json_valid_date(a->start) != 0) {
		bad = route_err(call, "start_date", "start date must be a date (YYYY-MM-DD)");
		a->start = NULL;
	}
	if (a->code && !route_has_err(call, "code_list") && find_code(n, a, 0, &e) != 0)
		bad = route_err_json(call, &e);
	if (a->start && check_end(a, today, &e) != 0)
		bad = route_err_json(call, &e);
	return bad ? -1 : 0;
}

#define ACT_SQL "SELECT * FROM participant_activities WHERE id=?"
#define NOTE_SQL "SELECT * FROM case_notes WHERE id=?"

/* An amendment's reply names its Help Request, pending until DSS WIOA staff
 * decide it.  out may be NULL (nothing to add to). */
static void add_pending_help_request(cJSON *out, const char *req_id)
{
	cJSON *ap;

	if (out == NULL)
		return;
	ap = cJSON_AddObjectToObject(out, "approval");
	cJSON_AddStringToObject(ap, "request_id", req_id);
	cJSON_AddStringToObject(ap, "state", "pending");
	cJSON_AddItemToObject(ap, "waiting_for", cJSON_CreateStringArray(
		(const char *[]){case_role_title(CASE_ROLE_WIOA)}, 1));
}

static const route_key act_keys_rk[] = {
	{"code", ROUTE_T_ANY, 0}, {"code_list", ROUTE_T_ANY, 0}, {"start_date", ROUTE_T_ANY, 0},
	{"end_date", ROUTE_T_ANY, 0}, {"completion", ROUTE_T_ANY, 0}, {"approval", ROUTE_T_ANY, 0},
	{"approval_id", ROUTE_T_ANY, 0}, {"note", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/*
 * POST /api/v1/case/participants/:id/activities
 *   {code, code_list?, start_date, end_date?, completion?,
 *    approval? {program_manager, wdb_director, edd_approver, approved_date,
 *               reference?} | approval_id?,
 *    note: {body}}
 * -> 201 {"activity", "note", "entry_deadline", "timely"}
 */
static route_rc post_activity(route_call *call)
{
	http_req *req = call->rc_req;
	node *n = API_NODE(call);
	const char *pid = http_req_param(req, "id"), *body_text = NULL, *why;
	const node_user *u = API_USER(call);
	cJSON *out;
	actin a;
	char today[11], aid[UUID_STRLEN], nid[UUID_STRLEN], appr[UUID_STRLEN], subject[240], dl[11];
	int days = 0, exited = 0, pending, bad, followup;
	route_rc rr;

	memset(&a, 0, sizeof a);
	node_today(n, today);
	/* Every error at once: the fields', then the business-date rules'. */
	bad = act_fields(call, n, &a, today, &body_text) != 0;
	followup = a.list && strcmp(a.list, "followup") == 0;
	if ((rr = entry_participant(call, pid, bad, &exited)) != ROUTE_OK)
		return rr;
	/* The exit clock first: on day 90 the case has exited, whatever comes. */
	if (case__sweep_exit(n, u, pid, today, &exited) != 0)
		return ROUTE_DBERR;
	if (!route_has_err(call, "code") && (why = case_code_allowed(exited, followup)) != NULL)
		return bad ? route_bad(call, "code", "%s", why) : route_fail(call, 409, "code", "%s", why);
	if ((rr = date_rules(call, pid, "start_date", a.start, followup, today, bad, &days, appr)) !=
	    ROUTE_OK)
		return rr;
	pending = appr[0] != '\0';
	case_activity_subject(a.code, a.title, subject, sizeof subject);
	if (insert_activity(n, u, pid, &a, today, days, appr, NULL, 0, aid) != 0 ||
	    insert_note(n, u, pid, "activity", aid, subject, a.start, body_text, NULL, today, NULL,
			nid) != 0 ||
	    (pending && case__request(n, u, pid, "backdate", "participant_activities", aid, a.start,
				      NULL, NULL, NULL, appr) != 0))
		return ROUTE_DBERR;
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "activity", db_row_json_by(n->nd_db, ACT_SQL, aid));
	cJSON_AddItemToObject(out, "note", db_row_json_by(n->nd_db, NOTE_SQL, nid));
	case_entry_deadline(a.start, dl);
	cJSON_AddStringToObject(out, "entry_deadline", dl);
	cJSON_AddBoolToObject(out, "timely", strcmp(today, dl) <= 0);
	cJSON_AddBoolToObject(out, "restarts_exit_clock", a.restarts);
	if (pending)
		add_pending(out, appr);
	log_info("case: activity %s (code %s) with note %s for participant %s", aid, a.code, nid, pid);
	return route_ok(call, 201, out);
}

static const route_key amend_act_keys_rk[] = {
	{"end_date", ROUTE_T_ANY, 0}, {"completion", ROUTE_T_ANY, 0}, {"void", ROUTE_T_ANY, 0},
	{"note", ROUTE_T_ANY, 0}, {"reason", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* ROUTE_OK when activity id may be changed now by u, else the reply: a
 * change needs a supervisor's Help Request (403), and one change at a time
 * (409; a refused change does not count). */
static route_rc amend_blocked(route_call *call, node *n, const node_user *u, const char *id)
{
	char other[64] = "";

	if (db_text(n->nd_db, "SELECT CASE WHEN x.change_request_id IS NULL THEN 'done' ELSE "
			      CASE_REQ_STATE("x.change_request_id") " END AS st FROM participant_activities x"
			      " WHERE x.corrects_id=? AND st <> 'refused' ORDER BY st DESC LIMIT 1",
		    id, other, sizeof other) < 0)
		return ROUTE_DBERR;
	if (strcmp(other, "pending") == 0)
		return route_fail(call, 409, "id", "a change to this activity is waiting for DSS WIOA "
						   "staff to approve it");
	if (other[0])
		return route_fail(call, 409, "id", "this activity was already amended; amend the newer entry");
	if (!case__is_supervisor(n, u))
		return route_fail(call, 403, "id", "changing entered data needs a Help Request raised by "
						   "a supervisor or manager");
	return ROUTE_OK;
}

/* The Help Request's summary of a change, for its approver. */
static void change_summary(const actin *a, int voided, char *out, size_t sz)
{
	if (voided)
		snprintf(out, sz, "void %s %s started %s", a->code, a->title, a->start);
	else
		snprintf(out, sz, "%s %s started %s: end date %s, completion %s", a->code, a->title,
			 a->start, a->end ? a->end : "none", a->completion ? a->completion : "none");
}

/*
 * POST /api/v1/case/activities/:id/amend {reason, end_date?, completion?,
 * void?, note?: {body}} -> 201 the new row (corrects_id = :id) with
 * "approval" (the Help Request).  A supervisor or manager raises it; the
 * change is pending and the original stands until DSS WIOA staff approve
 * it (node_case_approvals.c); both rows stay.  The code and start date
 * stay; an optional note documents the change.  409 while another change
 * of it stands or waits.
 */
static route_rc post_amend_activity(route_call *call)
{
	http_req *req = call->rc_req;
	route_rc rr = ROUTE_OK;
	node *n = API_NODE(call);
	const char *id = http_req_param(req, "id"), *body_text = NULL;
	const node_user *u = API_USER(call);
	const cJSON *body = call->rc_body;
	cJSON *orig = NULL, *out;
	const cJSON *note;
	json_err e = {{0}, {0}};
	actin a;
	const char *reason = NULL;
	char today[11], nid[UUID_STRLEN], newid[UUID_STRLEN], req_id[UUID_STRLEN], pid[64];
	char subject[240], summary[400];
	int voided = 0, days = 0, exited = 0, bad = 0;

	memset(&a, 0, sizeof a);
	node_today(n, today);
	/* Every field's error at once. */
	bad |= route_str(call, "reason", JSON_REQUIRED, 1, 1000, &reason, NULL, 0);
	bad |= route_str(call, "end_date", JSON_NULLABLE, 0, 10, &a.end, NULL, 0);
	bad |= route_str(call, "completion", JSON_NULLABLE, 0, 16, &a.completion, NULL, 0);
	bad |= route_bool(call, "void", JSON_NULLABLE, 0, &voided);
	note = cJSON_GetObjectItemCaseSensitive(body, "note");
	if (note && !cJSON_IsNull(note) &&
	    (!cJSON_IsObject(note) ||
	     json_get_str(note, "body", JSON_REQUIRED, 1, CASE_NOTE_MAX, &body_text, NULL, 0, &e) ||
	     !case_text_visible(body_text)))
		bad = route_err(call, "note.body", "the note needs a body");
	if (bad)
		goto collected;
	orig = db_row_json_by(n->nd_db, ACT_SQL, id);
	if (orig == NULL || strcmp(json_str(orig, "local_area_id"), n->nd_local_area_id) != 0) {
		rr = route_fail(call, 404, "id", "no such activity");
		goto done;
	}
	if ((rr = amend_blocked(call, n, u, id)) != ROUTE_OK)
		goto done;
	snprintf(pid, sizeof pid, "%s", json_str(orig, "participant_id"));
	a.code = json_str(orig, "code");
	a.list = json_str(orig, "code_list");
	a.start = json_str(orig, "start_date");
	if (a.end && a.end[0] == '\0')
		a.end = NULL;
	if (a.completion && a.completion[0] == '\0')
		a.completion = NULL;
	if (!cJSON_GetObjectItemCaseSensitive(body, "end_date"))
		a.end = json_str(orig, "end_date");
	if (!cJSON_GetObjectItemCaseSensitive(body, "completion"))
		a.completion = json_str(orig, "completion");
	/* (a code retired since stays readable on the rows that used it: its
	 * activity is still corrected or voided) */
	if (find_code(n, &a, 1, &e) != 0 || check_end(&a, today, &e) != 0)
		goto bad;
	if (case__sweep_exit(n, u, pid, today, &exited) != 0)
		goto dberr;
	case_backdate_check(a.start, today, &days);
	uuid7_at(req_id, node_now_ms(n));
	a.change_req = req_id;
	change_summary(&a, voided, summary, sizeof summary);
	if (insert_activity(n, u, pid, &a, today, days, json_str(orig, "approval_id"), id, voided,
			    newid) != 0 ||
	    case__request(n, u, pid, "change", "participant_activities", id, a.start, newid, summary,
			  reason, req_id) != 0)
		goto dberr;
	if (body_text) {
		case_activity_subject(a.code, a.title, subject, sizeof subject);
		if (insert_note(n, u, pid, "activity", newid, subject, a.start, body_text, NULL, today,
				NULL, nid) != 0)
			goto dberr;
	}
	out = db_row_json_by(n->nd_db, ACT_SQL, newid);
	add_pending_help_request(out, req_id);
	log_info("case: activity %s amended by %s (help request %s)", id, newid, req_id);
	rr = route_ok(call, 201, out);
	goto done;
dberr:
	rr = ROUTE_DBERR;
	goto done;
bad:
	route_err_json(call, &e);
collected:
	rr = ROUTE_BAD;
done:
	cJSON_Delete(orig);
	return rr;
}

/* A body of white space alone (or invisible characters): the note is part
 * of the legal file and says nothing (model/casework.h). */
#define NOTE_BLANK "a case note needs text: the body is blank"

static const route_key note_keys_rk[] = {
	{"subject", ROUTE_T_ANY, 0}, {"contact_date", ROUTE_T_ANY, 0}, {"body", ROUTE_T_ANY, 0},
	{"approval", ROUTE_T_ANY, 0}, {"approval_id", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* POST /api/v1/case/participants/:id/notes {subject, contact_date, body}
 * -> 201 a stand-alone note (progress, unanswered contact attempts). */
static route_rc post_note(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const char *pid = http_req_param(req, "id"), *subject, *contact, *text;
	const node_user *u = API_USER(a);
	cJSON *out;
	char today[11], nid[UUID_STRLEN], appr[UUID_STRLEN], subj[JSON_TEXT_BYTES(CASE_SUBJECT_MAX)], dl[11];
	int days = 0, exited = 0, pending, bad = 0;
	route_rc rr;

	node_today(n, today);
	/* Every field's error at once. */
	subject = contact = text = NULL;
	bad |= route_str(a, "subject", JSON_REQUIRED, 1, CASE_SUBJECT_MAX, &subject, subj,
			 sizeof subj);
	bad |= route_str(a, "contact_date", JSON_REQUIRED, 1, 10, &contact, NULL, 0);
	bad |= route_str(a, "body", JSON_REQUIRED, 1, CASE_NOTE_MAX, &text, NULL, 0);
	if (subject && !case_text_visible(subject))
		bad = route_err(a, "subject", "subject is required");
	if (text && !case_text_visible(text))
		bad = route_err(a, "body", NOTE_BLANK);
	if (contact && json_valid_date(contact) != 0) {
		bad = route_err(a, "contact_date", "contact date must be a date (YYYY-MM-DD)");
		contact = NULL;
	}
	if ((rr = entry_participant(a, pid, bad, &exited)) != ROUTE_OK)
		return rr;
	/* The business-date rules' errors beside the fields'. */
	if ((rr = date_rules(a, pid, "contact_date", contact, 0, today, bad, &days, appr)) != ROUTE_OK)
		return rr;
	pending = appr[0] != '\0';
	if (insert_note(n, u, pid, "standalone", NULL, subject, contact, text, NULL, today,
			pending ? appr : NULL, nid) != 0 ||
	    (pending && case__request(n, u, pid, "backdate", "case_notes", nid, contact, NULL, NULL,
				      NULL, appr) != 0))
		return ROUTE_DBERR;
	out = db_row_json_by(n->nd_db, NOTE_SQL, nid);
	case_note_deadline(contact, dl);
	cJSON_AddStringToObject(out, "entry_deadline", dl);
	cJSON_AddBoolToObject(out, "timely", strcmp(today, dl) <= 0);
	if (pending)
		add_pending(out, appr);
	log_info("case: note %s for participant %s", nid, pid);
	return route_ok(a, 201, out);
}

static const route_key amend_note_keys[] = {
	{"body", ROUTE_T_ANY, 0}, {"reason", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* ROUTE_OK when note root may be amended now by u, else the reply: as for
 * an activity (amend_blocked), a supervisor's Help Request (403), and one
 * amendment waiting at a time (409). */
static route_rc amend_note_blocked(route_call *call, node *n, const node_user *u, const char *root)
{
	char other[16] = "";

	if (db_text(n->nd_db, "SELECT " CASE_REQ_STATE("q.id") " AS st FROM case_approval_requests q"
			      " WHERE q.kind='change' AND q.entry_table='case_notes' AND q.entry_id=?"
			      " AND st = 'pending' LIMIT 1",
		    root, other, sizeof other) < 0)
		return ROUTE_DBERR;
	if (other[0])
		return route_fail(call, 409, "id", "an amendment of this note is waiting for DSS WIOA "
						   "staff to approve it");
	if (!case__is_supervisor(n, u))
		return route_fail(call, 403, "id", "changing entered data needs a Help Request raised by "
						   "a supervisor or manager");
	return ROUTE_OK;
}

/*
 * POST /api/v1/case/notes/:id/amend {body, reason} -> 201 the amendment: a
 * new note with amends_id = the original (an amendment of an amendment
 * names the original too), same kind, activity, subject and contact date,
 * with "approval" (the Help Request).  As for an activity's change: a
 * supervisor or manager raises it, it waits for DSS WIOA staff
 * (node_case_approvals.c), the original never changes and stands until
 * then; both stay.  Every field error at once.
 */
static route_rc post_amend_note(route_call *a)
{
	http_req *req = a->rc_req;
	route_rc rr = ROUTE_OK;
	node *n = API_NODE(a);
	const char *id = http_req_param(req, "id"), *text = NULL, *reason = NULL;
	const node_user *u = API_USER(a);
	cJSON *orig = NULL, *out;
	char today[11], nid[UUID_STRLEN], req_id[UUID_STRLEN], root[64], summary[400];
	int bad = 0;

	node_today(n, today);
	bad |= route_str(a, "body", JSON_REQUIRED, 1, CASE_NOTE_MAX, &text, NULL, 0);
	bad |= route_str(a, "reason", JSON_REQUIRED, 1, 1000, &reason, NULL, 0);
	if (text && !case_text_visible(text))
		bad = route_err(a, "body", NOTE_BLANK);
	if (bad)
		return ROUTE_BAD;
	snprintf(root, sizeof root, "%s", id ? id : "");
	if (db_text(n->nd_db, "SELECT coalesce(amends_id, id) FROM case_notes WHERE id=?", id, root,
		    sizeof root) != 0 ||
	    (orig = db_row_json_by(n->nd_db, NOTE_SQL, root)) == NULL ||
	    strcmp(json_str(orig, "local_area_id"), n->nd_local_area_id) != 0) {
		rr = route_fail(a, 404, "id", "no such case note");
		goto done;
	}
	if ((rr = amend_note_blocked(a, n, u, root)) != ROUTE_OK)
		goto done;
	{
		/* the subject shortened between characters, never broken text */
		const char *subj = json_str(orig, "subject");
		int keep = (int)json_utf8_cut(subj, strlen(subj), 200);

		snprintf(summary, sizeof summary, "amend the case note \"%.*s\" of %s", keep, subj,
			 json_str(orig, "contact_date"));
	}
	uuid7_at(req_id, node_now_ms(n));
	if (insert_note(n, u, json_str(orig, "participant_id"), json_str(orig, "kind"),
			json_str(orig, "activity_id"), json_str(orig, "subject"),
			json_str(orig, "contact_date"), text, root, today, NULL, nid) != 0 ||
	    case__request(n, u, json_str(orig, "participant_id"), "change", "case_notes", root,
			  json_str(orig, "contact_date"), nid, summary, reason, req_id) != 0) {
		rr = ROUTE_DBERR;
		goto done;
	}
	out = db_row_json_by(n->nd_db, NOTE_SQL, nid);
	add_pending_help_request(out, req_id);
	log_info("case: note %s amends note %s (help request %s)", nid, root, req_id);
	rr = route_ok(a, 201, out);
done:
	cJSON_Delete(orig);
	return rr;
}

/* POST /api/v1/case/participants/:id/approvals: gone.  An approval is
 * never typed in by the person entering the data: the approvers decide the
 * entry's request in their own sessions (node_case_approvals.c). */
static route_rc post_approval(route_call *a)
{
	return route_fail(a, 410, "approval",
			  "approvals are not typed in: an entry 31 to 90 days back waits as pending "
			  "until the DSS Program Manager, the WDB Director and EDD approve it");
}

static const route_def case_work_defs[] = {
	/* the activity (a program entry) needs program_edit, its note case_notes too
	 * (post_activity) */
	{HTTP_M_POST, "/api/v1/case/participants/:id/activities", post_activity,
	 PRIV_PROGRAM_EDIT | PRIV_CASE_NOTES, ROUTE_BODY | NODE_WRITE, act_keys_rk, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/notes", post_note, PRIV_CASE_NOTES,
	 ROUTE_BODY | NODE_WRITE, note_keys_rk, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/approvals", post_approval, PRIV_PROGRAM_EDIT,
	 NODE_WRITE, NULL, 0},
	{HTTP_M_POST, "/api/v1/case/activities/:id/amend", post_amend_activity, PRIV_PROGRAM_EDIT,
	 ROUTE_BODY | NODE_WRITE, amend_act_keys_rk, 0},
	{HTTP_M_POST, "/api/v1/case/notes/:id/amend", post_amend_note, PRIV_CASE_NOTES,
	 ROUTE_BODY | NODE_WRITE, amend_note_keys, 0},
};

const route_list case_work_route_list = ROUTE_LIST(case_work_defs);
