/*
 * node_crm_jobs.c - job orders of recruiting employers and the referrals of
 * participants to them from case work (WSIN15-21: "Job referrals are
 * created for Preferred/Recruiting employers only - not for Marketing
 * Leads.  Marketing Lead employers do not have access to post job
 * orders").  A marketing lead, a locked employer (failed vetting) and an
 * inactive one get neither; one whose vetting is pending gets neither yet
 * (crm__refuse_unvetted: no job order, no referral to one it had before the
 * rule); a closed job order takes no referral.
 *
 * Job orders are CRM data (statewide, mutable, closed by their close_date,
 * never deleted).  A referral names a participant, so it is participant
 * data: a job_referrals row in the participant's Local Area, shown on the
 * participant's timeline and, by reference only (never a name), on the
 * employer's summary.  Both are ordinary captured writes, so they work
 * offline and replicate like the rest; the hub checks them again
 * (model/crm_jobs.c).  A referral is a program service: program_edit
 * (model/privileges.c), at the node and at the hub.
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "node/node_case.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JO_COLS                                                                                \
	"j.id, j.employer_id, e.company_name AS employer_name, e.account_type, e.vetting_status," \
	" j.title, j.openings, j.location, j.wage, j.wage_unit, j.open_date, j.close_date,"       \
	" j.description, j.created_by, s.display_name AS created_by_name, j.office_id,"           \
	" j.created_at, j.updated_hlc,"                                                           \
	" (j.open_date <= ?9 AND (j.close_date IS NULL OR j.close_date >= ?9)) AS is_open,"       \
	" (SELECT count(*) FROM job_referrals r WHERE r.job_order_id = j.id) AS referrals"
#define JO_FROM                                                                                \
	" FROM job_orders j LEFT JOIN employers e ON e.id = j.employer_id"                        \
	" LEFT JOIN staff s ON s.id = j.created_by"

static cJSON *job_order_json(node *n, const char *id)
{
	return crm__dated_row(n, "SELECT " JO_COLS JO_FROM " WHERE j.id=?1", id);
}

cJSON *crm__job_orders_of(node *n, const char *employer_id)
{
	return crm__dated_rows(n, "SELECT " JO_COLS JO_FROM " WHERE j.employer_id=?1"
				  " ORDER BY j.open_date DESC, j.id", employer_id);
}

/* Referrals by reference: the participant's short reference (last 6 of the
 * id), never a name, since CRM staff may not read case records. */
cJSON *crm__referrals_of(node *n, const char *employer_id)
{
	return db_rows_json_by(n->nd_db,
		"SELECT r.id, r.job_order_id, j.title AS job_title, r.referral_date,"
		" upper(substr(r.participant_id, -6)) AS participant_ref, r.office_id,"
		" r.staff_id, s.display_name AS staff_name, r.created_at"
		" FROM job_referrals r LEFT JOIN job_orders j ON j.id = r.job_order_id"
		" LEFT JOIN staff s ON s.id = r.staff_id WHERE r.employer_id=?1"
		" ORDER BY r.referral_date DESC, r.created_at DESC", employer_id);
}

cJSON *node_job_referrals_of_participant(node *n, const char *participant_id)
{
	cJSON *x = db_rows_json_by(n->nd_db,
		"SELECT r.id, r.job_order_id, j.title AS job_title, j.location, j.wage, j.wage_unit,"
		" r.employer_id, e.company_name AS employer_name, r.referral_date, r.notes,"
		" r.staff_id, s.display_name AS staff_name, r.office_id, r.created_at"
		" FROM job_referrals r LEFT JOIN job_orders j ON j.id = r.job_order_id"
		" LEFT JOIN employers e ON e.id = r.employer_id LEFT JOIN staff s ON s.id = r.staff_id"
		" WHERE r.participant_id=?1 ORDER BY r.referral_date DESC, r.created_at DESC",
		participant_id);
	return x ? x : cJSON_CreateArray();
}

/*
 * Whether employer emp may post a job order or receive a referral now:
 * ROUTE_OK, or the refusal (404 no such employer, 409 a marketing lead, an
 * inactive or a locked employer) set on a.
 */
static route_rc recruiting_only(route_call *a, const char *emp, const char *field, const char *what)
{
	node *n = API_NODE(a);
	char type[16] = "", status[16] = "";

	if (db_text(n->nd_db, "SELECT account_type FROM employers WHERE id=?", emp, type, sizeof type) != 0)
		return route_fail(a, 404, field, "no such employer");
	if (strcmp(type, CRM_RECRUITING) != 0)
		return route_fail(a, 409, field, "%s only for recruiting employers, not for marketing"
				  " leads (convert the lead first)", what);
	db_text(n->nd_db, "SELECT status FROM employers WHERE id=?", emp, status, sizeof status);
	if (strcmp(status, "active") != 0)
		return route_fail(a, 409, field, "the employer is inactive");
	return crm__refuse_locked(a, emp);
}

/* ---- job orders ------------------------------------------------------------------ */

static const route_key jo_keys[] = {
	{"title", ROUTE_T_STR, 0}, {"openings", ROUTE_T_NUM, 0}, {"location", ROUTE_T_STR, 0},
	{"wage", ROUTE_T_NUM, 0}, {"wage_unit", ROUTE_T_STR, ROUTE_K_NULL},
	{"open_date", ROUTE_T_STR, ROUTE_K_NULL}, {"close_date", ROUTE_T_STR, ROUTE_K_NULL},
	{"description", ROUTE_T_STR, ROUTE_K_NULL}, {NULL, 0, 0},
};

/* A job order's values as sent (NULL / absent kept apart by the has_ flags). */
typedef struct jo_in {
	const char *title, *location, *unit, *open, *close, *desc;
	int64_t openings;
	double wage;
	int has_openings, has_wage, has_close, has_open;
} jo_in;

/* Read and check every sent field, each error collected; required ones
 * when creating.  0, or -1 (ROUTE_BAD to answer). */
static int jo_read(route_call *a, jo_in *j, int creating)
{
	const cJSON *b = a->rc_body, *w;
	int req = creating ? JSON_REQUIRED : JSON_NULLABLE, bad = 0;

	memset(j, 0, sizeof *j);
	bad |= route_str(a, "title", req, 1, CRM_JOB_TITLE_MAX, &j->title, NULL, 0);
	bad |= route_str(a, "location", req, 1, CRM_JOB_LOCATION_MAX, &j->location, NULL, 0);
	bad |= route_int(a, "openings", req, 1, CRM_JOB_OPENINGS_MAX, &j->openings, &j->has_openings);
	bad |= route_str(a, "wage_unit", JSON_NULLABLE, 0, 8, &j->unit, NULL, 0);
	bad |= route_str(a, "open_date", JSON_NULLABLE, 0, 10, &j->open, NULL, 0);
	bad |= route_str(a, "close_date", JSON_NULLABLE, 0, 10, &j->close, NULL, 0);
	bad |= route_str(a, "description", JSON_NULLABLE, 0, CRM_DESC_MAX, &j->desc, NULL, 0);
	w = cJSON_GetObjectItemCaseSensitive(b, "wage");
	j->has_wage = w != NULL;
	if (w == NULL && creating)
		bad |= route_err(a, "wage", "wage is required (the amount per wage_unit)");
	else if (w && (!cJSON_IsNumber(w) || w->valuedouble <= 0 || w->valuedouble > CRM_JOB_WAGE_MAX))
		bad |= route_err(a, "wage", "wage must be a positive amount");
	else if (w)
		j->wage = w->valuedouble;
	if (j->unit && j->unit[0] && crm_valid_wage_unit(j->unit) != 0)
		bad |= route_err(a, "wage_unit", "wage_unit must be hour, week, month or year");
	if (j->unit && j->unit[0] == '\0')
		j->unit = NULL;
	j->has_open = j->open != NULL && j->open[0] != '\0';
	if (j->has_open && json_valid_date(j->open) != 0)
		bad |= route_err(a, "open_date", "open date must be a date (YYYY-MM-DD)");
	j->has_close = cJSON_GetObjectItemCaseSensitive(b, "close_date") != NULL;
	if (j->close && j->close[0] == '\0')
		j->close = NULL;
	if (j->close && json_valid_date(j->close) != 0)
		bad |= route_err(a, "close_date", "close date must be a date (YYYY-MM-DD)");
	else if (j->close && j->has_open && json_valid_date(j->open) == 0 && strcmp(j->close, j->open) < 0)
		bad |= route_err(a, "close_date", "the close date is before the open date");
	if (j->desc && j->desc[0] == '\0')
		j->desc = NULL;
	return bad ? -1 : 0;
}

/* POST /api/v1/crm/employers/:id/job-orders -> 201 the job order; 409
 * for a lead, an inactive or locked employer, or one whose vetting is
 * pending (crm__refuse_unvetted). */
static route_rc post_job_order(route_call *a)
{
	node *n = API_NODE(a);
	const char *emp = http_req_param(a->rc_req, "id");
	const node_user *u = API_USER(a);
	char id[UUID_STRLEN], ts[HLC_STRLEN], today[11];
	route_rc rr;
	uint64_t now;
	jo_in j;

	if (jo_read(a, &j, 1) != 0)
		return ROUTE_BAD;
	if ((rr = recruiting_only(a, emp, "id", "job orders are")) != ROUTE_OK ||
	    (rr = crm__refuse_unvetted(a, emp, CRM_VETTED_JOB_ORDER, "id", NULL)) != ROUTE_OK)
		return rr;
	node_today(n, today);
	if (j.close && !j.has_open && strcmp(j.close, today) < 0)
		return route_bad(a, "close_date", "the close date is before the open date (today)");
	now = crm__new_row(n, id, ts);
	if (db_run(n->nd_db,
		   "INSERT INTO job_orders(id, employer_id, title, openings, location, wage,"
		   " wage_unit, open_date, close_date, description, created_by, office_id,"
		   " created_at, updated_hlc) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		   "tttItdttttttIt", id, emp, j.title, j.openings, j.location, j.wage,
		   j.unit ? j.unit : "hour", j.has_open ? j.open : today, j.close, j.desc, u->id,
		   crm__office(n, u), (int64_t)now, ts) != 0)
		return ROUTE_DBERR;
	log_info("crm: job order %s posted for employer %s", id, emp);
	return route_ok(a, 201, job_order_json(n, id));
}

/* PATCH /api/v1/crm/job-orders/:id: any of the fields; close it with
 * close_date.  Refused while the employer is locked. */
static route_rc patch_job_order(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id");
	char emp[CRM_ID_MAX], open[11] = "", close[11] = "", ts[HLC_STRLEN];
	route_rc rr;
	jo_in j;

	if (jo_read(a, &j, 0) != 0)
		return ROUTE_BAD;
	if ((rr = crm__writable_row(a, "job_orders", "job order", id, emp)) != ROUTE_OK)
		return rr;
	/* The dates it will have, sent or stored, stay in order (jo_read saw
	 * the two sent together). */
	if (db_text(n->nd_db, "SELECT open_date FROM job_orders WHERE id=?", id, open, sizeof open) < 0 ||
	    db_text(n->nd_db, "SELECT coalesce(close_date, '') FROM job_orders WHERE id=?", id, close,
		    sizeof close) < 0)
		return ROUTE_DBERR;
	if (j.close && !j.has_open && strcmp(j.close, open) < 0)
		return route_bad(a, "close_date", "the close date is before the open date (%s)", open);
	if (j.has_open && !j.has_close && close[0] && strcmp(j.open, close) > 0)
		return route_bad(a, "open_date", "the open date is after the close date (%s)", close);
	hlc_now(&n->nd_hlc, ts);
	/* Only the columns sent change, so the hub's column merge keeps the rest. */
	if (db_run(n->nd_db,
		   "UPDATE job_orders SET title=coalesce(?2, title), location=coalesce(?3, location),"
		   " openings=CASE WHEN ?4 THEN ?5 ELSE openings END,"
		   " wage=CASE WHEN ?6 THEN ?7 ELSE wage END, wage_unit=coalesce(?8, wage_unit),"
		   " open_date=coalesce(?9, open_date),"
		   " close_date=CASE WHEN ?10 THEN ?11 ELSE close_date END,"
		   " description=coalesce(?12, description), updated_hlc=?13 WHERE id=?1",
		   "tttiIidttittt", id, j.title, j.location, j.has_openings, j.openings, j.has_wage,
		   j.wage, j.unit, j.has_open ? j.open : NULL, j.has_close, j.close, j.desc, ts) != 0)
		return ROUTE_DBERR;
	log_info("crm: job order %s updated", id);
	return route_ok(a, 200, job_order_json(n, id));
}

static route_rc get_job_order(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id");
	cJSON *o = job_order_json(n, id), *x;

	if (o == NULL)
		return route_fail(a, 404, "id", "no such job order");
	x = db_rows_json_by(n->nd_db,
		"SELECT r.id, r.referral_date, upper(substr(r.participant_id, -6)) AS participant_ref,"
		" r.office_id, s.display_name AS staff_name FROM job_referrals r"
		" LEFT JOIN staff s ON s.id = r.staff_id WHERE r.job_order_id=?1"
		" ORDER BY r.referral_date DESC", id);
	cJSON_AddItemToObject(o, "referral_list", x ? x : cJSON_CreateArray());
	return route_ok(a, 200, o);
}

/* GET /api/v1/crm/job-orders?open=yes&employer_id=&q= : open ones for a
 * referral (recruiting, unlocked employers only; one whose employer's
 * vetting is pending is listed with its vetting_status, and the referral
 * form shows it unavailable), or all. */
static route_rc list_job_orders(route_call *a)
{
	node *n = API_NODE(a);
	char open[8] = "no", emp[64] = "", q[JSON_TEXT_BYTES(CRM_Q_MAX)], like[CRM_PAT_MAX] = "";
	char today[11];
	/* ?1 employer, ?2 the search, ?3 open only, ?9 today (JO_COLS) */
	const char *args[9] = {emp, like, open, NULL, NULL, NULL, NULL, NULL, today};
	cJSON *rows;

	http_req_query(a->rc_req, "open", open, sizeof open);
	http_req_query(a->rc_req, "employer_id", emp, sizeof emp);
	if (route_qtext(a, "q", CRM_Q_MAX, q, sizeof q) != 0)
		return ROUTE_BAD;
	if (strcmp(open, "yes") != 0 && strcmp(open, "no") != 0)
		return route_fail(a, 400, "open", "open must be yes or no");
	if (q[0])
		db_like_pattern(q, 1, like, sizeof like);
	node_today(n, today);
	rows = db_rows_json_args(n->nd_db,
				 "SELECT " JO_COLS JO_FROM " WHERE (?1 = '' OR j.employer_id = ?1)"
				 " AND (?2 = '' OR j.title LIKE ?2 ESCAPE '\\' OR e.company_name LIKE ?2 ESCAPE '\\')"
				 " AND (?3 = 'no' OR (j.open_date <= ?9 AND (j.close_date IS NULL OR j.close_date >= ?9)"
				 "  AND e.account_type = 'recruiting' AND e.status = 'active'"
				 "  AND coalesce(e.vetting_status, '') <> 'locked'))"
				 " ORDER BY j.open_date DESC, j.id LIMIT 500",
				 9, args);
	return rows ? route_ok(a, 200, rows) : ROUTE_DBERR;
}

/* ---- referrals --------------------------------------------------------------------- */

static const route_key ref_keys[] = {
	{"job_order_id", ROUTE_T_STR, ROUTE_K_REQUIRED}, {"notes", ROUTE_T_STR, ROUTE_K_NULL},
	{NULL, 0, 0},
};

/* The job order a referral goes to: 0 (emp filled), or the refusal set. */
static route_rc referral_target(route_call *a, const char *jo, char *emp, size_t elen,
				const char *today)
{
	node *n = API_NODE(a);
	char open[11] = "", close[11] = "";
	route_rc rr;

	if (db_text(n->nd_db, "SELECT employer_id FROM job_orders WHERE id=?", jo, emp, elen) != 0)
		return route_fail(a, 404, "job_order_id", "no such job order");
	if ((rr = recruiting_only(a, emp, "job_order_id", "job referrals are")) != ROUTE_OK ||
	    (rr = crm__refuse_unvetted(a, emp, CRM_VETTED_REFERRAL, "job_order_id", NULL)) != ROUTE_OK)
		return rr;
	db_text(n->nd_db, "SELECT open_date FROM job_orders WHERE id=?", jo, open, sizeof open);
	db_text(n->nd_db, "SELECT coalesce(close_date, '') FROM job_orders WHERE id=?", jo, close,
		sizeof close);
	if (!crm_job_order_open(open, close, today))
		return route_fail(a, 409, "job_order_id", "the job order is not open today (%s to %s)",
				  open, close[0] ? close : "open-ended");
	return ROUTE_OK;
}

/*
 * POST /api/v1/case/participants/:id/referrals {"job_order_id", "notes"}
 * -> 201 the participant's referrals.  Once per participant and job order.
 */
static route_rc post_referral(route_call *a)
{
	node *n = API_NODE(a);
	const char *pid = http_req_param(a->rc_req, "id"), *jo = NULL, *notes = NULL;
	const node_user *u = API_USER(a);
	char emp[64], la[64] = "", id[UUID_STRLEN], today[11], dup[64];
	sqlite3_stmt *st;
	route_rc rr;
	uint64_t now;
	int rc, bad = 0;

	bad |= route_str(a, "job_order_id", JSON_REQUIRED, 1, 64, &jo, NULL, 0);
	bad |= route_str(a, "notes", JSON_NULLABLE, 0, CRM_NOTE_MAX, &notes, NULL, 0);
	if (bad)
		return ROUTE_BAD;
	if (db_text(n->nd_db, "SELECT local_area_id FROM participants WHERE id=?", pid, la, sizeof la) != 0 ||
	    (n->nd_local_area_id[0] && strcmp(la, n->nd_local_area_id) != 0))
		return route_fail(a, 404, "id", "no such participant");
	node_today(n, today);
	if ((rr = referral_target(a, jo, emp, sizeof emp, today)) != ROUTE_OK)
		return rr;
	if (db_prepare(n->nd_db, &st, "SELECT id FROM job_referrals WHERE participant_id=?1 AND job_order_id=?2") != 0)
		return ROUTE_DBERR;
	sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, jo, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(dup, sizeof dup, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return route_fail(a, 409, "job_order_id", "the participant was already referred to this job order");
	now = node_now_ms(n);
	uuid7_at(id, now);
	if (db_run(n->nd_db,
		   "INSERT INTO job_referrals(id, job_order_id, employer_id, participant_id,"
		   " local_area_id, office_id, staff_id, referral_date, notes, created_at)"
		   " VALUES(?,?,?,?,?,?,?,?,?,?)",
		   "tttttttttI", id, jo, emp, pid, la, crm__office(n, u), u->id, today,
		   db_null_if_empty(notes), (int64_t)now) != 0 ||
	    case__audit(n, u, "participant_referral", "participants", pid, NULL) != 0)
		return ROUTE_DBERR;
	log_info("case: participant %s referred to job order %s (referral %s)", pid, jo, id);
	return route_ok(a, 201, node_job_referrals_of_participant(n, pid));
}

static const route_def crm_jobs_defs[] = {
	{HTTP_M_GET, "/api/v1/crm/job-orders", list_job_orders, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/job-orders/:id", get_job_order, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/crm/employers/:id/job-orders", post_job_order, PRIV_CRM, ROUTE_BODY | NODE_WRITE, jo_keys, 0},
	{HTTP_M_PATCH, "/api/v1/crm/job-orders/:id", patch_job_order, PRIV_CRM, ROUTE_BODY | NODE_WRITE, jo_keys, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/referrals", post_referral, PRIV_PROGRAM_EDIT, ROUTE_BODY | NODE_WRITE, ref_keys, 0},
};

const route_list crm_jobs_route_list = ROUTE_LIST(crm_jobs_defs);
