/*
 * node_case_forms.c - the closure form and the follow-up form (issue 15,
 * point 3; model/case_forms.h): every field filled in, "N/A" where it does
 * not apply, every missing field named at once.  The closure form is due
 * for a case nearing its soft exit; a follow-up form for each quarter of
 * follow-up, its quarter the one its date falls in; a follow-up decline,
 * with its date, ends the follow-up clocks.  Dates follow the rules of
 * every entry: not before the registration, not in the future, at most 30
 * days back.  See node_case.h.
 *
 *   GET  /api/v1/case/forms                       the forms' fields
 *   POST /api/v1/case/participants/:id/closure-form       {form_date, fields}
 *   POST /api/v1/case/participants/:id/followup-form      {form_date, fields}
 *   POST /api/v1/case/participants/:id/followup-declined  {form_date, fields}
 *   POST /api/v1/case/participants/:id/skill-gains        {form_date, fields}
 *   GET  /api/v1/case/participants/:id/skill-gains        the recorded gains
 *
 * A measurable skill gain (model/case_forms.h) is entered by whoever
 * enters activities (program_edit), with the same date rules, while
 * the case is active (after the exit only follow-up is entered).  Every form
 * here is a program entry: program_edit (model/privileges.c; "LWIA Intake
 * Staff" reads them only).
 */
#include "node/node_case.h"
#include "node/node_api.h"
#include "model/case_forms.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <string.h>

static cJSON *fields_json(const char *kind)
{
	cJSON *a = cJSON_CreateArray();

	for (const case_form_field *f = case_form_fields(kind); f && f->name; f++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", f->name);
		cJSON_AddStringToObject(o, "label", f->label);
		if (f->choices) {
			cJSON *c = cJSON_AddArrayToObject(o, "choices");
			for (const char *const *v = f->choices; *v; v++)
				cJSON_AddItemToArray(c, cJSON_CreateString(*v));
		}
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static route_rc get_forms(route_call *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "closure", fields_json("closure"));
	cJSON_AddItemToObject(o, "followup", fields_json("followup"));
	cJSON_AddItemToObject(o, "followup_declined", fields_json("followup_declined"));
	cJSON_AddItemToObject(o, "skill_gain", fields_json("skill_gain"));
	return route_ok(a, 200, o);
}

static void form_err(void *arg, const char *field, const char *msg)
{
	route_err(arg, field, "%s", msg);
}

typedef struct pstate {
	char reg[16], state[16], exit_date[16], declined[16];
} pstate;

/* 1 found, 0 not here, -1 error. */
static int read_pstate(node *n, const char *pid, pstate *p)
{
	memset(p, 0, sizeof *p);
	char la[64] = "";

	if (db_text(n->nd_db, "SELECT local_area_id FROM participants WHERE id=?", pid, la,
		    sizeof la) != 0 ||
	    strcmp(la, n->nd_local_area_id) != 0)
		return 0;
	if (db_text(n->nd_db, "SELECT registered_date FROM participants WHERE id=?", pid, p->reg,
		    sizeof p->reg) != 0)
		return -1;
	if (db_text(n->nd_db, "SELECT exit_state FROM participants WHERE id=?", pid, p->state,
		    sizeof p->state) < 0 ||
	    db_text(n->nd_db, "SELECT coalesce(min(exit_date), '') FROM participant_exits WHERE"
			      " participant_id=?", pid, p->exit_date, sizeof p->exit_date) < 0 ||
	    db_text(n->nd_db, "SELECT coalesce(min(form_date), '') FROM case_forms WHERE"
			      " participant_id=? AND kind='followup_declined'", pid, p->declined,
		    sizeof p->declined) < 0)
		return -1;
	return 1;
}

/* The date rules of a form: collected errors; 0 or -1. */
static int check_date(route_call *a, const char *date, const char *today, const pstate *p)
{
	int days = 0;
	case_backdate b;

	if (date == NULL)
		return -1;
	b = case_backdate_check(date, today, &days);
	if (b == CASE_BD_INVALID || b == CASE_BD_FUTURE)
		return route_err(a, "form_date", "%s", case_backdate_msg(b));
	if (b != CASE_BD_OK)
		return route_err(a, "form_date", "a form is entered within 30 days of its date "
						 "(%d days back)", days);
	if (strcmp(date, p->reg) < 0)
		return route_err(a, "form_date", "the date is before the participant's registration (%s)",
				 p->reg);
	return 0;
}

/* The state rules of a form of kind for participant p: 0, or the reply. */
static route_rc check_state(route_call *a, const char *kind, const pstate *p, const char *date,
			    int *quarter)
{
	int exited = strcmp(p->state, "exited") == 0;

	*quarter = 0;
	if (strcmp(kind, "skill_gain") == 0)
		return exited ? route_fail(a, 409, "id", "the case has exited: only follow-up is "
							  "entered now, and a skill gain is one of participation")
			      : ROUTE_OK;
	if (strcmp(kind, "closure") == 0)
		return exited ? route_fail(a, 409, "id", "the case has exited: the closure form is "
							  "completed before the soft exit")
			      : ROUTE_OK;
	if (!exited || p->exit_date[0] == '\0')
		return route_fail(a, 409, "id", "follow-up comes after the case has exited");
	if (p->declined[0])
		return route_fail(a, 409, "id", "the participant declined follow-up services on %s",
				  p->declined);
	if (strcmp(date, p->exit_date) < 0)
		return route_bad(a, "form_date", "follow-up is dated on or after the exit date (%s)",
				 p->exit_date);
	*quarter = case_followup_quarter_of(p->exit_date, date);
	if (strcmp(kind, "followup") == 0 && *quarter == 0)
		return route_fail(a, 409, "form_date", "the 12 months of follow-up have ended");
	return ROUTE_OK;
}

static int insert_form(node *n, const node_user *u, const char *pid, const char *kind, int quarter,
		       const char *date, const char *fields, const char *today, char id[UUID_STRLEN])
{
	char ts[HLC_STRLEN];

	uuid7_at(id, node_now_ms(n));
	/* quarter 0 is NULL: a closure form has none */
	if (db_run(n->nd_db,
		   "INSERT INTO case_forms(id, participant_id, local_area_id, office_id, kind,"
		   " quarter, form_date, fields, staff_id, entered_date, entered_at, clock_skew_ms)"
		   " VALUES(?,?,?,?,?,nullif(?6, 0),?,?,?,?,?,?)",
		   "tttttittttII", id, pid, n->nd_local_area_id, n->nd_office_id, kind, quarter, date,
		   fields, u->id, today, (int64_t)node_now_ms(n), (int64_t)n->nd_clock_offset_ms) != 0)
		return -1;
	if (strcmp(kind, "closure") != 0)
		return 0;
	/* The case's closure date is the form's (compliance, CSV). */
	hlc_now(&n->nd_hlc, ts);
	return db_run(n->nd_db, "UPDATE participants SET closure_form_date=?, updated_hlc=? WHERE id=?",
		      "ttt", date, ts, pid);
}

/* The reply: the row, its fields as an object, and its timeliness. */
static cJSON *form_reply(node *n, const char *id)
{
	cJSON *o = db_row_json_by(n->nd_db, "SELECT * FROM case_forms WHERE id=?", id);
	char dl[11];

	if (o == NULL)
		return NULL;
	cJSON_ReplaceItemInObject(o, "fields", cJSON_Parse(json_str(o, "fields")));
	case_entry_deadline(json_str(o, "form_date"), dl);
	cJSON_AddStringToObject(o, "entry_deadline", dl);
	cJSON_AddBoolToObject(o, "timely", strcmp(json_str(o, "entered_date"), dl) <= 0);
	return o;
}

static route_rc post_form(route_call *a, const char *kind)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	const char *pid = http_req_param(a->rc_req, "id"), *date = NULL;
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(a->rc_body, "fields");
	char today[11], id[UUID_STRLEN], *text;
	pstate p;
	int quarter = 0, exited = 0, rc;
	route_rc rr;

	node_today(n, today);
	rc = read_pstate(n, pid, &p);
	if (rc <= 0)
		return rc == 0 ? route_fail(a, 404, "id", "no such participant") : ROUTE_DBERR;
	if (case__sweep_exit(n, u, pid, today, &exited) != 0 || read_pstate(n, pid, &p) != 1)
		return ROUTE_DBERR;
	route_str(a, "form_date", JSON_REQUIRED, 10, 10, &date, NULL, 0);
	check_date(a, date, today, &p);
	case_form_check(kind, fields, form_err, a);
	if (a->rc_nerr)
		return ROUTE_BAD;
	if ((rr = check_state(a, kind, &p, date, &quarter)) != ROUTE_OK)
		return rr;
	text = cJSON_PrintUnformatted(fields);
	if (text == NULL)
		return ROUTE_DBERR;
	rc = insert_form(n, u, pid, kind, quarter, date, text, today, id);
	cJSON_free(text);
	if (rc != 0)
		return ROUTE_DBERR;
	log_info("case: %s form %s for participant %s", kind, id, pid);
	return route_ok(a, 201, form_reply(n, id));
}

static route_rc post_closure(route_call *a)
{
	return post_form(a, "closure");
}

static route_rc post_followup(route_call *a)
{
	return post_form(a, "followup");
}

static route_rc post_declined(route_call *a)
{
	return post_form(a, "followup_declined");
}

static route_rc post_skill_gain(route_call *a)
{
	return post_form(a, "skill_gain");
}

/* GET /api/v1/case/participants/:id/skill-gains -> [rows, fields as an
 * object], newest first.  Audited as a participant read (ids only). */
static route_rc get_skill_gains(route_call *a)
{
	node *n = API_NODE(a);
	const char *pid = http_req_param(a->rc_req, "id");
	pstate p;
	cJSON *rows, *it;
	int rc = read_pstate(n, pid, &p);

	if (rc <= 0)
		return rc == 0 ? route_fail(a, 404, "id", "no such participant") : ROUTE_DBERR;
	rows = db_rows_json_by(n->nd_db, "SELECT f.id, f.form_date, f.fields, f.staff_id,"
				      " s.display_name AS staff_name, f.office_id, f.entered_date"
				      " FROM case_forms f LEFT JOIN staff s ON s.id = f.staff_id"
				      " WHERE f.participant_id=? AND f.kind='skill_gain'"
				      " ORDER BY f.form_date DESC, f.entered_at DESC",
			       pid);
	if (rows == NULL)
		return ROUTE_DBERR;
	cJSON_ArrayForEach(it, rows)
		cJSON_ReplaceItemInObject(it, "fields", cJSON_Parse(json_str(it, "fields")));
	if (case__audit(n, API_USER(a), "skill_gains_read", "participants", pid, NULL) != 0) {
		cJSON_Delete(rows);
		return ROUTE_DBERR;
	}
	return route_ok(a, 200, rows);
}

static const route_key form_keys[] = {
	/* checked by post_form, so that every missing field is named at once */
	{"form_date", ROUTE_T_ANY, 0},
	{"fields", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

static const route_def case_forms_defs[] = {
	{HTTP_M_GET, "/api/v1/case/forms", get_forms, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/closure-form", post_closure,
	 PRIV_PROGRAM_EDIT, ROUTE_BODY | NODE_WRITE, form_keys, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/followup-form", post_followup,
	 PRIV_PROGRAM_EDIT, ROUTE_BODY | NODE_WRITE, form_keys, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/followup-declined", post_declined,
	 PRIV_PROGRAM_EDIT, ROUTE_BODY | NODE_WRITE, form_keys, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/skill-gains", post_skill_gain,
	 PRIV_PROGRAM_EDIT, ROUTE_BODY | NODE_WRITE, form_keys, 0},
	{HTTP_M_GET, "/api/v1/case/participants/:id/skill-gains", get_skill_gains, PRIV_VIEW,
	 NODE_WRITE, NULL, 0},
};

const route_list case_forms_route_list = ROUTE_LIST(case_forms_defs);
