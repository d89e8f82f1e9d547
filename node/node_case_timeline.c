/*
 * node_case_timeline.c - case work's JSON API on the office node: a
 * participant's timeline (visits, activities with their notes and history,
 * stand-alone notes with their amendments, exits, referrals, one list of
 * events by date) and linking a check-in to a participant.
 *
 * Reading the timeline is a captured write: it audits the record read and
 * which notes were read (ids, never text).  See node_case.h.
 */
#include "node/node_case.h"
#include "node/node_api.h"
#include "model/greeter.h"

#include <stdlib.h>
#include <string.h>

#define ACT_COLS                                                                             \
	"a.id, a.participant_id, a.code, a.code_list,"                                          \
	" coalesce(c.title, f.title) AS title, coalesce(c.restarts_exit_clock, 0) AS restarts_exit_clock," \
	" a.start_date, a.end_date, a.completion, a.staff_id, st.display_name AS staff_name,"  \
	" a.office_id, a.entered_date, a.entered_at, a.backdate_days, a.approval_id,"          \
	" a.clock_skew_ms, a.corrects_id, a.voided, a.change_request_id,"                      \
	" CASE WHEN EXISTS (SELECT 1 FROM case_approval_requests q3 WHERE q3.id = a.approval_id)" \
	" THEN " CASE_REQ_STATE("a.approval_id") " END AS approval_state,"                    \
	" CASE WHEN a.change_request_id IS NOT NULL THEN " CASE_REQ_STATE("a.change_request_id") \
	" END AS change_state, " CASE_ACT_COUNTS("a") " AS counts"
#define ACT_FROM                                                                             \
	" FROM participant_activities a"                                                       \
	" LEFT JOIN participant_activity_codes c ON a.code_list = 'activity' AND c.code = a.code" \
	" LEFT JOIN followup_codes f ON a.code_list = 'followup' AND f.code = a.code"           \
	" LEFT JOIN staff st ON st.id = a.staff_id"
#define NOTE_COLS                                                                            \
	"nt.id, nt.participant_id, nt.kind, nt.activity_id, nt.subject, nt.contact_date, nt.body," \
	" nt.staff_id, st.display_name AS staff_name, nt.office_id, nt.amends_id,"             \
	" nt.entered_date, nt.entered_at, nt.clock_skew_ms, (SELECT " CASE_REQ_STATE("q9.id")      \
	" FROM case_approval_requests q9 WHERE q9.change_id = nt.id) AS change_state"
#define NOTE_FROM " FROM case_notes nt LEFT JOIN staff st ON st.id = nt.staff_id"

/*
 * GET /api/v1/case/participants/:id/timeline
 * -> {"participant", "status", "visits", "activities" (effective, each with
 *     its notes and the rows it replaced), "notes" (stand-alone, each with
 *     its amendments), "exits", "events": [{type, date, id}] newest first}
 * Audited: participant_read and case_notes_read (note ids, never text).
 */
static int json_int(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valueint : 0;
}

/* Activities: effective rows on top, each with its notes and history. */
static cJSON *timeline_activities(cJSON *acts, cJSON *allnotes)
{
	cJSON *eff = cJSON_CreateArray(), *act;

	cJSON_ArrayForEach(act, acts)
	{
		const char *aid = json_str(act, "id");
		int replaced = 0;
		cJSON *x, *hist = cJSON_CreateArray(), *an = cJSON_CreateArray();
		cJSON *pend = NULL;
		/* A change waiting for its Help Request's approval (or refused)
		 * leaves this row standing: shown with it, not in its place. */
		if (json_str(act, "corrects_id") && !json_int(act, "counts")) {
			cJSON_Delete(hist);
			cJSON_Delete(an);
			continue;
		}
		cJSON_ArrayForEach(x, acts)
			if (json_str(x, "corrects_id") && strcmp(json_str(x, "corrects_id"), aid) == 0) {
				if (json_int(x, "counts"))
					replaced = 1;
				else if (json_str(x, "change_state") &&
					 strcmp(json_str(x, "change_state"), "pending") == 0)
					pend = x;
			}
		if (replaced || cJSON_IsTrue(cJSON_GetObjectItem(act, "voided")) ||
		    (cJSON_GetObjectItem(act, "voided") && cJSON_GetObjectItem(act, "voided")->valueint)) {
			cJSON_Delete(hist);
			cJSON_Delete(an);
			continue;
		}
		/* The chain of rows this one replaced, and the notes of all of them. */
		for (const char *cur = aid; cur;) {
			const char *next = NULL;
			cJSON_ArrayForEach(x, allnotes)
				if (json_str(x, "activity_id") && strcmp(json_str(x, "activity_id"), cur) == 0)
					cJSON_AddItemToArray(an, cJSON_Duplicate(x, 1));
			cJSON_ArrayForEach(x, acts)
				if (strcmp(json_str(x, "id"), cur) == 0 && json_str(x, "corrects_id")) {
					next = json_str(x, "corrects_id");
					break;
				}
			if (next) {
				cJSON_ArrayForEach(x, acts)
					if (strcmp(json_str(x, "id"), next) == 0)
						cJSON_AddItemToArray(hist, cJSON_Duplicate(x, 1));
			}
			cur = next;
		}
		cJSON *copy = cJSON_Duplicate(act, 1);
		cJSON_AddItemToObject(copy, "pending_change", pend ? cJSON_Duplicate(pend, 1) : cJSON_CreateNull());
		cJSON_AddItemToObject(copy, "notes", an);
		cJSON_AddItemToObject(copy, "history", hist);
		cJSON_AddItemToArray(eff, copy);
	}
	return eff;
}

/* Stand-alone originals, each with its amendments. */
static cJSON *timeline_notes(cJSON *allnotes)
{
	cJSON *notes = cJSON_CreateArray(), *it;

	cJSON_ArrayForEach(it, allnotes)
	{
		cJSON *x, *am;
		if (strcmp(json_str(it, "kind"), "standalone") != 0 || json_str(it, "amends_id"))
			continue;
		am = cJSON_CreateArray();
		cJSON_ArrayForEach(x, allnotes)
			if (json_str(x, "amends_id") && strcmp(json_str(x, "amends_id"), json_str(it, "id")) == 0)
				cJSON_AddItemToArray(am, cJSON_Duplicate(x, 1));
		cJSON *copy = cJSON_Duplicate(it, 1);
		cJSON_AddItemToObject(copy, "amendments", am);
		cJSON_AddItemToArray(notes, copy);
	}
	return notes;
}

/* Amendments of activity notes hang under their original. */
static void timeline_amendments(cJSON *activities, cJSON *allnotes)
{
	cJSON *act;

	cJSON_ArrayForEach(act, activities)
	{
		cJSON *an = cJSON_GetObjectItem(act, "notes"), *x, *y;
		cJSON *orig = cJSON_CreateArray();
		cJSON_ArrayForEach(x, an)
		{
			if (json_str(x, "amends_id"))
				continue;
			cJSON *copy = cJSON_Duplicate(x, 1), *am = cJSON_CreateArray();
			cJSON_ArrayForEach(y, allnotes)
				if (json_str(y, "amends_id") &&
				    strcmp(json_str(y, "amends_id"), json_str(x, "id")) == 0)
					cJSON_AddItemToArray(am, cJSON_Duplicate(y, 1));
			cJSON_AddItemToObject(copy, "amendments", am);
			cJSON_AddItemToArray(orig, copy);
		}
		cJSON_ReplaceItemInObject(act, "notes", orig);
	}
}

static void timeline_add_events(cJSON *events, cJSON *list, const char *type, const char *date)
{
	cJSON *it;

	cJSON_ArrayForEach(it, list)
	{
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "type", type);
		cJSON_AddStringToObject(e, "date", json_str(it, date));
		cJSON_AddStringToObject(e, "id", json_str(it, "id"));
		cJSON_AddItemToArray(events, e);
	}
}

/* One list by date for the timeline view, newest first (a stable sort of
 * the detached items).  0 or -1. */
static int timeline_events(cJSON *o, cJSON *visits, cJSON *notes, cJSON *exits)
{
	cJSON *events = cJSON_AddArrayToObject(o, "events");
	int cnt, k = 0;
	cJSON **v;

	timeline_add_events(events, visits, "visit", "visit_date");
	timeline_add_events(events, cJSON_GetObjectItem(o, "activities"), "activity", "start_date");
	timeline_add_events(events, notes, "note", "contact_date");
	timeline_add_events(events, exits, "exit", "exit_date");
	timeline_add_events(events, cJSON_GetObjectItem(o, "referrals"), "referral", "referral_date");
	cnt = cJSON_GetArraySize(events);
	v = cnt > 0 ? calloc((size_t)cnt, sizeof *v) : NULL;
	if (cnt > 0 && v == NULL)
		return -1;
	while (k < cnt && cJSON_GetArraySize(events) > 0)
		v[k++] = cJSON_DetachItemFromArray(events, 0);
	for (int i = 1; i < k; i++)
		for (int j = i; j > 0 && strcmp(json_str(v[j - 1], "date"), json_str(v[j], "date")) < 0; j--) {
			cJSON *t = v[j - 1];
			v[j - 1] = v[j];
			v[j] = t;
		}
	for (int i = 0; i < k; i++)
		cJSON_AddItemToArray(events, v[i]);
	free(v);
	return 0;
}

/* Audit: the record, and which notes were read.  0 or -1. */
static int timeline_audit(node *n, const node_user *u, const char *id, cJSON *allnotes)
{
	cJSON *d = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(d, "note_ids"), *it;
	char *detail;
	int k = 0, rc;

	cJSON_ArrayForEach(it, allnotes)
		if (k++ < 200)
			cJSON_AddItemToArray(ids, cJSON_CreateString(json_str(it, "id")));
	detail = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	rc = case__audit(n, u, "participant_read", "participants", id, NULL) != 0 ||
	     (cJSON_GetArraySize(allnotes) > 0 &&
	      case__audit(n, u, "case_notes_read", "participants", id, detail) != 0) ? -1 : 0;
	cJSON_free(detail);
	return rc;
}

static route_rc get_timeline(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	const char *id;
	cJSON *o = NULL, *acts, *notes, *visits, *exits, *allnotes;
	char today[11];
	case_status s;
	int exited;
	route_rc rr;

	if ((rr = case__path_participant(a, &id)) != ROUTE_OK)
		return rr;
	node_today(n, today);
	if (case__sweep_exit(n, u, id, today, &exited) != 0 || case__status(n, id, today, &s) != 0)
		goto dberr;
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "participant", case__participant_json(n, id));
	cJSON_AddItemToObject(o, "status", case__status_json(&s));
	cJSON_AddStringToObject(o, "today", today);
	visits = db_rows_json_by(n->nd_db, "SELECT c.id, c.office_id, o.name AS office_name, c.visit_date, c.arrived_at,"
			 " c.visitor_name,"
			 " c.status, c.staff_id FROM checkins c LEFT JOIN offices o ON o.id = c.office_id"
			 " WHERE c.participant_id=? ORDER BY c.arrived_at DESC", id);
	acts = db_rows_json_by(n->nd_db, "SELECT " ACT_COLS ACT_FROM " WHERE a.participant_id=? ORDER BY a.start_date DESC,"
		       " a.entered_at DESC", id);
	allnotes = db_rows_json_by(n->nd_db, "SELECT " NOTE_COLS NOTE_FROM " WHERE nt.participant_id=?"
			   " ORDER BY nt.contact_date DESC, nt.entered_at", id);
	/* Two offices may both record the same exit: shown once. */
	exits = db_rows_json_by(n->nd_db, "SELECT min(id) AS id, exit_date, kind, min(last_service_date) AS last_service_date,"
			" min(recorded_at) AS recorded_at FROM participant_exits WHERE participant_id=?"
			" GROUP BY exit_date, kind ORDER BY exit_date", id);
	if (visits == NULL || acts == NULL || allnotes == NULL || exits == NULL) {
		cJSON_Delete(visits);
		cJSON_Delete(acts);
		cJSON_Delete(allnotes);
		cJSON_Delete(exits);
		goto dberr;
	}
	cJSON_AddItemToObject(o, "activities", timeline_activities(acts, allnotes));
	notes = timeline_notes(allnotes);
	cJSON_AddItemToObject(o, "notes", notes);
	timeline_amendments(cJSON_GetObjectItem(o, "activities"), allnotes);
	cJSON_AddItemToObject(o, "visits", visits);
	cJSON_AddItemToObject(o, "exits", exits);
	cJSON_AddItemToObject(o, "referrals", node_job_referrals_of_participant(n, id));
	if (timeline_events(o, visits, notes, exits) != 0) {
		cJSON_Delete(allnotes);
		cJSON_Delete(acts);
		goto dberr;
	}
	if (timeline_audit(n, u, id, allnotes) != 0) {
		cJSON_Delete(allnotes);
		cJSON_Delete(acts);
		goto dberr;
	}
	cJSON_Delete(allnotes);
	cJSON_Delete(acts);
	return route_ok(a, 200, o);
dberr:
	cJSON_Delete(o);
	return ROUTE_DBERR;
}

static const route_key visit_keys[] = {
	{"checkin_id", ROUTE_T_ANY, 0}, {"confirm_name", ROUTE_T_BOOL, ROUTE_K_NULL}, {NULL, 0, 0}};

/* 1 when the visitor's name (vname, or as visit cid was checked in) differs
 * from the participant's and the caller has not confirmed it: *o gets the
 * 409 reply (visitor_name, name_mismatch) naming field. */
static int visit_name_differs(node *n, const char *pid, const char *cid, const char *vname,
			      int confirm, const char *field, cJSON **o)
{
	char stored[JSON_TEXT_BYTES(GREETER_NAME_MAX)] = "", first[JSON_TEXT_BYTES(CASE_NAME_MAX)] = "";
	char last[JSON_TEXT_BYTES(CASE_NAME_MAX)] = "";

	if (cid) {
		db_text(n->nd_db, "SELECT visitor_name FROM checkins WHERE id=?", cid, stored,
			sizeof stored);
		vname = stored;
	}
	db_text(n->nd_db, "SELECT first_name FROM participants WHERE id=?", pid, first, sizeof first);
	db_text(n->nd_db, "SELECT last_name FROM participants WHERE id=?", pid, last, sizeof last);
	if (confirm || case__names_match(vname, first, last))
		return 0;
	*o = cJSON_CreateObject();
	cJSON_AddStringToObject(*o, "error", "the visitor checked in under another name: check it is "
					     "the same person, then link it anyway (confirm_name)");
	cJSON_AddStringToObject(*o, "field", field);
	cJSON_AddStringToObject(*o, "visitor_name", vname ? vname : "");
	cJSON_AddBoolToObject(*o, "name_mismatch", 1);
	return 1;
}

int node_visit_link_check(route_call *a, const char *pid, int pid_in_path, const char *cid,
			  const char *vname, int confirm, route_rc *rr)
{
	node *n = API_NODE(a);
	const char *field = pid_in_path ? "checkin_id" : "participant_id";
	char cur[64] = "";
	cJSON *o;
	int rc = case__participant_exists(n, pid);

	if (rc < 0 && pid != NULL)
		*rr = ROUTE_DBERR;
	else if (rc != 1)
		*rr = pid_in_path ? route_fail(a, 404, "id", "no such participant")
				  : route_fail(a, 400, "participant_id",
					       "no such participant in this Local Area");
	else if (cid && (rc = db_text(n->nd_db, "SELECT coalesce(participant_id, '') FROM checkins"
						" WHERE id=?", cid, cur, sizeof cur)) != 0)
		*rr = rc < 0 ? ROUTE_DBERR
			     : route_fail(a, 404, "checkin_id", "no such visit at this office");
	else if (cur[0] && strcmp(cur, pid) != 0)
		*rr = route_fail(a, 409, field, "this visit is linked to another participant");
	else if (visit_name_differs(n, pid, cid, vname, confirm, field, &o))
		*rr = route_ok(a, 409, o); /* a reply of its own: name_mismatch */
	else
		return 0;
	return 1;
}

/* POST /api/v1/case/participants/:id/visits {"checkin_id", "confirm_name"?}:
 * the visit was this participant's (checkins.participant_id), under the
 * rules of node_visit_link_check (node_api.h).  A visit checked in under
 * another name is linked only with confirm_name: true (409 name_mismatch,
 * with the visitor's name, otherwise). */
static route_rc post_visit_link(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const char *id = http_req_param(req, "id"), *cid = NULL;
	cJSON *o;
	char ts[HLC_STRLEN];
	int confirm = 0, bad = 0;
	route_rc rr;

	/* Every field's error at once. */
	bad |= route_str(a, "checkin_id", JSON_REQUIRED, 1, 64, &cid, NULL, 0);
	if (!route_has_err(a, "confirm_name")) /* a wrong type: the keys' check (KEYS_LATE) */
		bad |= route_bool(a, "confirm_name", JSON_NULLABLE, 0, &confirm);
	if (bad || a->rc_nerr > 0)
		return ROUTE_BAD;
	if (node_visit_link_check(a, id, 1, cid, NULL, confirm, &rr))
		return rr;
	hlc_now(&n->nd_hlc, ts);
	if (db_run(n->nd_db, "UPDATE checkins SET participant_id=?, updated_hlc=? WHERE id=?", "ttt", id,
		   ts, cid) != 0)
		return ROUTE_DBERR;
	node_live_notify(n, cid); /* the desk's list shows the link */
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "checkin_id", cid);
	cJSON_AddStringToObject(o, "participant_id", id);
	return route_ok(a, 200, o);
}

static const route_def case_timeline_defs[] = {
	{HTTP_M_GET, "/api/v1/case/participants/:id/timeline", get_timeline, PRIV_VIEW, NODE_WRITE,
	 NULL, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/visits", post_visit_link, PRIV_PARTICIPANT_EDIT,
	 ROUTE_BODY | ROUTE_KEYS_LATE | NODE_WRITE, visit_keys, 0},
};

const route_list case_timeline_route_list = ROUTE_LIST(case_timeline_defs);
