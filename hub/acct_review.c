/*
 * acct_review.c - recertification due and overdue, and the quarterly
 * random-sample review of accounts.  Rows of the hub's route table
 * (acct_api.h).
 */
#include "hub/acct_api.h"
#include "lib/clock.h"
#include "lib/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- recertification ----------------------------------------------------------------- */

static const char recert_sql[] =
    "SELECT s.id, CASE WHEN r.ispa_date IS NULL OR r.conf_date IS NULL THEN NULL"
    " ELSE date(min(r.ispa_date, r.conf_date), '+1 year') END AS due_on"
    " FROM staff s LEFT JOIN staff_records r ON r.id=s.id"
    " WHERE s.active=1 AND NOT " ACCT_RECERT_EXEMPT_SQL("s") " AND"
    " acct_in_scope(?1, ?2, ?3, s.local_area_id, s.field_division, s.privilege_group)"
    " ORDER BY due_on";

static route_rc recert_list(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char asof[16], limit[11];
	int within;
	sqlite3_stmt *st = NULL;
	cJSON *o, *due, *over, *nodoc;

	if (http_req_query(a->rc_req, "as_of", asof, sizeof asof) == NULL)
		acct_today(asof);
	if (json_valid_date(asof) != 0)
		return route_bad(a, "as_of", "use a date YYYY-MM-DD");
	if (route_qint(a, "within_days", 30, 0, 366, &within) != 0)
		return ROUTE_BAD;
	if (clock_date_add(asof, within, limit) != 0)
		return route_bad(a, "as_of", "use a date YYYY-MM-DD");
	if (db_prepare(db, &st, recert_sql) != 0)
		return ROUTE_DBERR;
	acct_bind_scope(a, st, 1);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "as_of", asof);
	cJSON_AddNumberToObject(o, "within_days", within);
	due = cJSON_AddArrayToObject(o, "due");
	over = cJSON_AddArrayToObject(o, "overdue");
	nodoc = cJSON_AddArrayToObject(o, "no_documents");
	while (sqlite3_step(st) == SQLITE_ROW) {
		int nodate = sqlite3_column_type(st, 1) == SQLITE_NULL;
		const char *id = db_col(st, 0);
		const char *d = nodate ? NULL : db_col(st, 1);
		cJSON *s;
		if (id == NULL || (!nodate && d == NULL)) { /* out of memory, not "no dates" */
			sqlite3_finalize(st);
			cJSON_Delete(o);
			return ROUTE_DBERR;
		}
		if (d != NULL && strcmp(d, limit) > 0)
			continue;
		if ((s = acct_staff_json(db, id)) == NULL)
			continue;
		if (d == NULL) /* no dates at all: overdue too (issue 16) */
			cJSON_AddItemToArray(over, cJSON_Duplicate(s, 1));
		cJSON_AddItemToArray(d == NULL ? nodoc : strcmp(d, asof) < 0 ? over : due, s);
	}
	sqlite3_finalize(st);
	return route_ok(a, 200, o);
}

/* ---- quarterly review ------------------------------------------------------------------ */

/* The hub's own findings on one account, into the review item.  The ISPA
 * certificate and E-1 are complete documents for E-1 staff: those who
 * named it, and every account of a group whose staff sign it, whatever
 * statement an older request named (acct_group_signs_e1). */
static int review_facts(sqlite3 *db, const char *item_id, const char *staff_id, const char *asof)
{
	char group[64] = "";

	if (db_text(db, "SELECT coalesce(privilege_group, '') FROM staff WHERE id=?", staff_id,
		    group, sizeof group) < 0)
		return -1;
	return db_run(db,
		      "UPDATE review_items SET"
		      " docs_complete = (EXISTS (SELECT 1 FROM request_files f WHERE f.staff_id=?2 AND"
		      "   f.kind='request_form') AND ((NOT ?4 AND coalesce((SELECT conf_type FROM"
		      "   staff_records WHERE id=?2),'') <> 'E-1') OR (EXISTS (SELECT 1 FROM request_files f WHERE"
		      "   f.staff_id=?2 AND f.kind='ispa_certificate') AND EXISTS (SELECT 1 FROM"
		      "   request_files f WHERE f.staff_id=?2 AND f.kind='confidentiality_statement')))),"
		      " docs_current = coalesce((SELECT date(min(ispa_date, conf_date), '+1 year') >= ?3"
		      "   FROM staff_records WHERE id=?2 AND ispa_date IS NOT NULL AND conf_date IS NOT"
		      "   NULL), 0),"
		      " deactivation_timely = (SELECT CASE WHEN s.active=1 THEN NULL"
		      "   WHEN r.separation_date IS NULL THEN 0"
		      "   ELSE date(s.deactivated_at/1000, 'unixepoch', 'localtime') <= r.separation_date END"
		      "   FROM staff s LEFT JOIN staff_records r ON r.id=s.id WHERE s.id=?2)"
		      " WHERE id=?1",
		      "ttti", item_id, staff_id, asof, acct_group_signs_e1(group));
}

/* The caller's scope as the texts of acct_bind_scope's three parameters:
 * "1"/"0" for operations, the MIS Local Area, the SPOC division. */
static void scope_args(const acct_principal *p, const char *args[4], const char *id)
{
	args[0] = id;
	args[1] = (p->ap_roles & ROLE_OPERATIONS) ? "1" : "0";
	args[2] = (p->ap_roles & ROLE_MIS_ADMIN) ? p->ap_la : "";
	args[3] = (p->ap_roles & ROLE_SPOC) ? p->ap_div : "";
}

/* The sampled account's staff row s is in the caller's scope (?2..?4). */
#define ITEM_IN_SCOPE                                                                              \
	" acct_in_scope(?2 = '1', ?3, ?4, s.local_area_id, s.field_division, s.privilege_group)"

/* The review with the items the caller may see: every item for operations,
 * the accounts of their own area for an MIS Administrator or SPOC (issue
 * 16: a statewide review shows each area its own results).  NULL when
 * there is no such review or the database fails (route_ok() then replies
 * a database error). */
static cJSON *review_out(sqlite3 *db, const char *id, const acct_principal *p)
{
	cJSON *r = db_row_json_by(db, "SELECT * FROM reviews WHERE id=?", id), *items, *it;
	const char *sum, *args[4];

	if (r == NULL)
		return NULL;
	sum = json_str(r, "summary");
	scope_args(p, args, id);
	if (sum && !(p->ap_roles & ROLE_OPERATIONS)) {
		/* The figures of the caller's own area, as its items are: not
		 * the statewide totals (other areas' failures among them). */
		sqlite3_stmt *st = NULL;
		cJSON *scoped = NULL;

		if (db_prepare_bound(db, &st,
				     "SELECT json_object('items', count(*), 'pass', coalesce(sum(i.result='pass'), 0),"
				     " 'fail', coalesce(sum(i.result='fail'), 0),"
				     " 'docs_incomplete', coalesce(sum(i.docs_complete=0), 0),"
				     " 'docs_stale', coalesce(sum(i.docs_current=0), 0),"
				     " 'late_deactivations', coalesce(sum(i.deactivation_timely=0), 0))"
				     " FROM review_items i LEFT JOIN staff s ON s.id=i.staff_id"
				     " WHERE i.review_id=?1 AND" ITEM_IN_SCOPE,
				     "tttt", args[0], args[1], args[2], args[3]) == 0 &&
		    sqlite3_step(st) == SQLITE_ROW && db_col(st, 0))
			scoped = cJSON_Parse(db_col(st, 0));
		sqlite3_finalize(st);
		if (scoped == NULL) {
			cJSON_Delete(r);
			return NULL;
		}
		cJSON_ReplaceItemInObject(r, "summary", scoped);
	} else if (sum) {
		cJSON_ReplaceItemInObject(r, "summary", cJSON_Parse(sum));
	}
	items = db_rows_json_args(db,
			   "SELECT i.*, s.username, s.display_name, s.local_area_id, s.field_division,"
			   " s.active FROM review_items i LEFT JOIN staff s ON s.id=i.staff_id"
			   " WHERE i.review_id=?1 AND" ITEM_IN_SCOPE " ORDER BY s.display_name",
			   4, args);
	if (items == NULL) {
		/* Not a review without items: the caller replies a database
		 * error rather than 201 or 200 with the items left out. */
		cJSON_Delete(r);
		return NULL;
	}
	cJSON_ArrayForEach(it, items)
	{
		const char *k[] = {"docs_complete", "docs_current", "deactivation_timely", "active"};
		for (int i = 0; i < 4; i++) {
			cJSON *v = cJSON_GetObjectItem(it, k[i]);
			if (v && cJSON_IsNumber(v))
				cJSON_ReplaceItemInObject(it, k[i], cJSON_CreateBool(v->valuedouble != 0));
		}
	}
	cJSON_AddItemToObject(r, "items", items);
	return r;
}

/* A sample of n accounts (operations excluded) in the scope, as ids. */
static cJSON *review_sample(sqlite3 *db, const char *la, const char *div, int64_t n)
{
	sqlite3_stmt *st = NULL;
	cJSON *ids;

	if (db_prepare_bound(db, &st,
			     "SELECT id FROM staff WHERE (','||coalesce(roles,'')||',') NOT LIKE '%,operations,%'"
			     " AND (?1 IS NULL OR local_area_id=?1) AND (?2 IS NULL OR field_division=?2)"
			     " ORDER BY random() LIMIT ?3", "ttI", la, div, n) != 0)
		return NULL;
	ids = db_rows_json(st);
	sqlite3_finalize(st);
	return ids;
}

static int review_insert(route_call *a, const char *id, const char *quarter, const char *la,
			 const char *div, const cJSON *ids)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const cJSON *it;
	char asof[11];

	if (db_run(db,
		   "INSERT INTO reviews(id, quarter, local_area_id, field_division, sample_size,"
		   " created_by, created_at) VALUES(?,?,?,?,?,?,?)",
		   "ttttitI", id, quarter, la, div, cJSON_GetArraySize(ids), API_ADMIN(a)->ap_id,
		   (int64_t)hub_now_ms()) != 0)
		return -1;
	acct_today(asof);
	cJSON_ArrayForEach(it, ids)
	{
		char iid[UUID_STRLEN];
		uuid7(iid);
		if (db_run(db, "INSERT INTO review_items(id, review_id, staff_id) VALUES(?1, '', ?2)", "tt",
			   iid, json_str(it, "id")) != 0 ||
		    db_run(db, "UPDATE review_items SET review_id=?2 WHERE id=?1", "tt", iid, id) != 0 ||
		    review_facts(db, iid, json_str(it, "id"), asof) != 0)
			return -1;
	}
	return 0;
}

static const route_key review_keys[] = {
	{"quarter", ROUTE_T_ANY, 0},
	{"sample_size", ROUTE_T_ANY, 0},
	{"local_area_id", ROUTE_T_ANY, 0},
	{"field_division", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

static route_rc review_create(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *quarter = NULL, *la = NULL, *div = NULL;
	int64_t n = 10;
	int present = 0, bad = 0;
	char id[UUID_STRLEN], after[160];
	route_rc rc = ROUTE_DBERR;
	cJSON *ids;

	bad |= route_str(a, "quarter", JSON_REQUIRED, 7, 7, &quarter, NULL, 0);
	bad |= route_int(a, "sample_size", JSON_OPTIONAL, 1, 500, &n, &present);
	bad |= route_str(a, "local_area_id", JSON_NULLABLE, 1, 63, &la, NULL, 0);
	bad |= route_str(a, "field_division", JSON_NULLABLE, 1, 120, &div, NULL, 0);
	if (quarter && !(isdigit((unsigned char)quarter[0]) && isdigit((unsigned char)quarter[3]) &&
			 quarter[4] == '-' && quarter[5] == 'Q' && quarter[6] >= '1' &&
			 quarter[6] <= '4'))
		bad = route_err(a, "quarter", "use YYYY-Qn, e.g. 2026-Q4");
	if (bad)
		return ROUTE_BAD;
	if (!present)
		n = 10;
	if ((ids = review_sample(db, la, div, n)) == NULL)
		return ROUTE_DBERR;
	uuid7(id);
	snprintf(after, sizeof after, "{\"quarter\":\"%s\",\"sample_size\":%d}", quarter,
		 cJSON_GetArraySize(ids));
	if (review_insert(a, id, quarter, la, div, ids) == 0 &&
	    hub_api_admin_audit(a, "review.create", "reviews", id, la, div, NULL, after) == 0)
		rc = route_ok(a, 201, review_out(db, id, API_ADMIN(a)));
	cJSON_Delete(ids);
	return rc;
}

/* May the caller see review r?  Operations always; administrators their
 * area's reviews and every review that sampled an account of their area
 * (the results are shared with them, WSD24-13). */
static int review_visible(sqlite3 *db, const acct_principal *p, const cJSON *r)
{
	const char *la = json_str(r, "local_area_id"), *div = json_str(r, "field_division");
	const char *args[4];
	cJSON *hit;
	int yes;

	if (p->ap_roles & ROLE_OPERATIONS)
		return 1;
	if (((p->ap_roles & ROLE_MIS_ADMIN) && la && strcmp(la, p->ap_la) == 0) ||
	    ((p->ap_roles & ROLE_SPOC) && div && strcmp(div, p->ap_div) == 0))
		return 1;
	scope_args(p, args, json_str(r, "id"));
	hit = db_rows_json_args(db, "SELECT 1 AS x FROM review_items i JOIN staff s ON s.id=i.staff_id"
				    " WHERE i.review_id=?1 AND" ITEM_IN_SCOPE " LIMIT 1", 4, args);
	yes = cJSON_GetArraySize(hit) > 0;
	cJSON_Delete(hit);
	return yes;
}

static route_rc reviews_list(route_call *a)
{
	cJSON *r, *out, *it;

	r = db_rows_json_by(API_HUB(a)->hb_db,
		       "SELECT id, quarter, local_area_id, field_division, sample_size, status,"
		       " created_by, created_at, completed_at, reported_to FROM reviews"
		       " ORDER BY created_at DESC LIMIT 1000",
		       NULL);
	if (r == NULL || (out = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(r);
		return ROUTE_DBERR;
	}
	while ((it = cJSON_DetachItemFromArray(r, 0)) != NULL) {
		if (review_visible(API_HUB(a)->hb_db, API_ADMIN(a), it))
			cJSON_AddItemToArray(out, it);
		else
			cJSON_Delete(it);
	}
	cJSON_Delete(r);
	return route_ok(a, 200, out);
}

static route_rc review_get(route_call *a)
{
	cJSON *r = review_out(API_HUB(a)->hb_db, http_req_param(a->rc_req, "id"), API_ADMIN(a));

	if (r == NULL || !review_visible(API_HUB(a)->hb_db, API_ADMIN(a), r)) {
		cJSON_Delete(r);
		return route_fail(a, 404, NULL, "no such review");
	}
	return route_ok(a, 200, r);
}

/* The open review id: ROUTE_OK with its row in *r (status, scope), or the
 * failure (404, 409 with msg). */
static route_rc review_open(route_call *a, const char *id, const char *msg, cJSON **r)
{
	*r = db_row_json_by(API_HUB(a)->hb_db,
			    "SELECT status, local_area_id, field_division FROM reviews WHERE id=?", id);
	if (*r == NULL)
		return route_fail(a, 404, NULL, "no such review");
	if (strcmp(json_str(*r, "status"), "open") != 0)
		return route_fail(a, 409, "status", "%s", msg);
	return ROUTE_OK;
}

static const route_key item_keys[] = {
	{"result", ROUTE_T_ANY, 0},
	{"note", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

static route_rc review_item_set(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *result = NULL, *note = NULL, *rid = http_req_param(a->rc_req, "id");
	const char *iid = http_req_param(a->rc_req, "item");
	cJSON *r = NULL;
	route_rc rc;
	int bad = 0;

	bad |= route_str(a, "result", JSON_REQUIRED, 4, 4, &result, NULL, 0);
	bad |= route_str(a, "note", JSON_NULLABLE, 1, 1000, &note, NULL, 0);
	if (result && strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0)
		bad = route_err(a, "result", "result is pass or fail");
	if (bad)
		return ROUTE_BAD;
	if ((rc = review_open(a, rid, "the review is complete", &r)) != ROUTE_OK)
		goto out;
	rc = ROUTE_DBERR;
	if (db_run(db,
		   "UPDATE review_items SET result=?, note=?, checked_by=?, checked_at=?"
		   " WHERE id=? AND review_id=?",
		   "tttItt", result, note, API_ADMIN(a)->ap_id, (int64_t)hub_now_ms(), iid, rid) != 0)
		goto out;
	if (sqlite3_changes(db) != 1) {
		rc = route_fail(a, 404, NULL, "no such review item");
		goto out;
	}
	if (hub_api_admin_audit(a, "review.item", "review_items", iid, NULL, NULL, NULL,
				strcmp(result, "pass") == 0 ? "{\"result\":\"pass\"}"
							    : "{\"result\":\"fail\"}") == 0)
		rc = route_ok(a, 200, review_out(db, rid, API_ADMIN(a)));
out:
	cJSON_Delete(r);
	return rc;
}

/* The review's summary as JSON text into out; the number of items still
 * without a result, or -1. */
static int review_summary(sqlite3 *db, const char *rid, char *out, size_t n)
{
	sqlite3_stmt *st = NULL;
	int open = -1;

	if (db_prepare_bound(db, &st,
			     "SELECT count(*), sum(result IS NULL), sum(result='pass'), sum(result='fail'),"
			     " sum(docs_complete=0), sum(docs_current=0), sum(deactivation_timely=0)"
			     " FROM review_items WHERE review_id=?", "t", rid) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		open = sqlite3_column_int(st, 1);
		snprintf(out, n,
			 "{\"items\":%d,\"pass\":%d,\"fail\":%d,\"docs_incomplete\":%d,"
			 "\"docs_stale\":%d,\"late_deactivations\":%d}",
			 sqlite3_column_int(st, 0), sqlite3_column_int(st, 2),
			 sqlite3_column_int(st, 3), sqlite3_column_int(st, 4),
			 sqlite3_column_int(st, 5), sqlite3_column_int(st, 6));
	}
	sqlite3_finalize(st);
	return open;
}

static const route_key complete_keys[] = {
	{"reported_to", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

static route_rc review_complete(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *to = NULL, *rid = http_req_param(a->rc_req, "id");
	char summary[400];
	cJSON *r = NULL;
	route_rc rc;
	int open, ok = 0;

	if (route_str(a, "reported_to", JSON_REQUIRED, 1, 200, &to, NULL, 0) != 0)
		return ROUTE_BAD;
	if ((rc = review_open(a, rid, "the review is already complete", &r)) != ROUTE_OK)
		goto out;
	if ((open = review_summary(db, rid, summary, sizeof summary)) != 0) {
		rc = open < 0 ? ROUTE_DBERR
			      : route_fail(a, 409, "items",
					   "record a result for every account first (%d left)", open);
		goto out;
	}
	ok = db_run(db,
		    "UPDATE reviews SET status='complete', completed_at=?, reported_to=?, summary=?"
		    " WHERE id=? AND status='open'",
		    "Ittt", (int64_t)hub_now_ms(), to, summary, rid) == 0 &&
	     sqlite3_changes(db) == 1;
	if (!ok || hub_api_admin_audit(a, "review.complete", "reviews", rid,
				       json_str(r, "local_area_id"), json_str(r, "field_division"),
				       NULL, summary) != 0)
		rc = ROUTE_DBERR;
	else
		rc = route_ok(a, 200, review_out(db, rid, API_ADMIN(a)));
out:
	cJSON_Delete(r);
	return rc;
}

/* ---- quarters without a review ---------------------------------------------------------- */

#define REVIEW_QUARTERS_MAX 40 /* ten years listed at most */

/* The quarter "YYYY-Qn" of a date YYYY-MM-DD. */
static void quarter_of(const char *date, char out[16])
{
	int m = atoi(date + 5);

	snprintf(out, 16, "%.4s-Q%c", date, (char)('1' + (m >= 1 && m <= 12 ? (m - 1) / 3 : 0)));
}

/* One quarter's reviews (drawn, completed) and its state into list; the
 * state's text. */
static const char *quarter_add(sqlite3 *db, cJSON *list, const char *q, int current)
{
	sqlite3_stmt *st = NULL;
	int drawn = 0, done = 0;
	const char *state;
	cJSON *o;

	if (db_prepare_bound(db, &st, "SELECT count(*), coalesce(sum(status='complete'), 0) FROM reviews"
				      " WHERE quarter=?", "t", q) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			drawn = sqlite3_column_int(st, 0);
			done = sqlite3_column_int(st, 1);
		}
		sqlite3_finalize(st);
	}
	state = done ? "reviewed" : current ? (drawn ? "in_progress" : "due")
				 : (drawn ? "not_completed" : "skipped");
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "quarter", q);
	cJSON_AddNumberToObject(o, "reviews", drawn);
	cJSON_AddNumberToObject(o, "complete", done);
	cJSON_AddStringToObject(o, "status", state);
	cJSON_AddItemToArray(list, o);
	return state;
}

/*
 * GET /api/v1/admin/review-quarters: each quarter from the hub's first
 * start (or the earliest review's quarter) to the current one, with its
 * reviews, and "skipped": the past quarters without a completed review
 * (WSD24-13: "a random sample of CalJOBS accounts quarterly"), which the
 * console flags.
 */
static route_rc review_quarters(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char today[11], first[11] = "", cur[16], q[16], since[16];
	cJSON *o, *list, *skipped;
	int y, n;

	acct_today(today);
	quarter_of(today, cur);
	if (db_text(db, "SELECT date(min(created_at) / 1000, 'unixepoch', 'localtime') FROM"
			" staff_records WHERE created_at > 0", NULL, first, sizeof first) != 0 ||
	    json_valid_date(first) != 0)
		snprintf(first, sizeof first, "%s", today);
	quarter_of(first, since);
	if (db_text(db, "SELECT min(quarter) FROM reviews WHERE quarter < ?1", since, q, sizeof q) ==
		0 && q[0] && strcmp(q, since) < 0)
		snprintf(since, sizeof since, "%s", q);
	if ((o = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(o, "current", cur);
	cJSON_AddStringToObject(o, "since", since);
	list = cJSON_AddArrayToObject(o, "quarters");
	skipped = cJSON_AddArrayToObject(o, "skipped");
	y = atoi(since);
	n = since[6] - '0';
	for (int i = 0; i < REVIEW_QUARTERS_MAX; i++) {
		const char *state;
		snprintf(q, sizeof q, "%04d-Q%c", y % 10000, (char)('0' + n));
		if (strcmp(q, cur) > 0)
			break;
		state = quarter_add(db, list, q, strcmp(q, cur) == 0);
		if (strcmp(state, "skipped") == 0 || strcmp(state, "not_completed") == 0)
			cJSON_AddItemToArray(skipped, cJSON_CreateString(q));
		if (++n > 4) {
			n = 1;
			y++;
		}
	}
	return route_ok(a, 200, o);
}

static const route_def review_defs[] = {
	{HTTP_M_GET, "/api/v1/admin/recertification", recert_list, 0, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/admin/reviews", reviews_list, 0, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/admin/review-quarters", review_quarters, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/reviews", review_create, HUB_P_OPS, ROUTE_BODY | HUB_AUDITED,
	 review_keys, 0},
	{HTTP_M_GET, "/api/v1/admin/reviews/:id", review_get, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/reviews/:id/items/:item", review_item_set, HUB_P_OPS,
	 ROUTE_BODY | HUB_AUDITED, item_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/reviews/:id/complete", review_complete, HUB_P_OPS,
	 ROUTE_BODY | HUB_AUDITED, complete_keys, 0},
};
const route_list acct_review_route_list = ROUTE_LIST(review_defs);
