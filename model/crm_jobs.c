/*
 * crm_jobs.c - what only a vetted Recruiting Employer may have: the
 * recruiting-only employer activity codes, "Job Order" work items, job
 * orders and the referrals of participants to them (WSIN15-21: "Job
 * referrals are created for Preferred/Recruiting employers only - not for
 * Marketing Leads"), the lock a failed vetting puts on an employer, and the
 * MKT prefix that a lead keeps until its conversion; with the hub's checks of the
 * rows a node pushes (crm_hub_validate_row calls the ones here).  See crm.h.
 *
 * The hub repeats the structural rules (a job order or referral names a
 * recruiting employer; a new job order, referral, recruiting-only service
 * or Job Order work item, or an edit re-categorising or re-linking a work
 * item into one, one whose vetting is not pending; a referral's
 * Local Area is its participant's; a vetting result names a vetter with the
 * privilege who is not the converter).  It does not refuse
 * a service or referral recorded offline before a lock arrived: the office
 * could not know, and the row is kept.
 */
#include "model/casework.h"
#include "model/crm.h"
#include "model/schema.h"
#include "model/privileges.h"
#include "lib/json.h"

#include <stdio.h>
#include <strings.h>
#include <string.h>

/*
 * The codes of data/employer_activity_codes.csv whose service presupposes
 * an employer with CalJOBS access, i.e. posted job orders and the
 * candidates sent to them.  Sources: WSIN15-21 ("Job referrals are created
 * for Preferred/Recruiting employers only - not for Marketing Leads.
 * Marketing Lead employers do not have access to post job orders or search
 * for candidates"; "Employer information will be verified by the WSB staff
 * before the employer is provided CalJOBS access") and the CRM training
 * module ("Job referrals can still only be made to recruiting employers").
 *   E16 Federal Contractor Job Listing, E23 Job Listing Assistance: a job
 *     order listed in CalJOBS;
 *   E24 Job Referrals, E51 CalJOBS Suppressed Job Listing Referral: job
 *     seekers referred to its job orders;
 *   E35 Resume Referral, E55 Candidate Pre-Screen (on behalf of employer):
 *     the candidate search, job seekers' records sent to the employer;
 *   E59 Follow-Up with Employer on Referred Candidate: follows a referral.
 * Not here: the services the training module has staff record for
 * Marketing Leads (outreach, information, job fairs, recruitment events,
 * E03 CalJOBS Assistance - helping an employer to CalJOBS - and the rest),
 * and E90/E92, which only the system writes.
 */
static const char *const recruiting_only[] = {
	"E16", "E23", "E24", "E35", "E51", "E55", "E59", NULL,
};

int crm_recruiting_only_code(const char *code)
{
	for (int i = 0; code && recruiting_only[i]; i++)
		if (strcmp(code, recruiting_only[i]) == 0)
			return 1;
	return 0;
}

int crm_is_job_order_category(const char *name)
{
	return name != NULL && strcasecmp(name, CRM_JOB_ORDER_CATEGORY) == 0;
}

const char *crm_username_edit_check(const char *account_type, const char *old_name,
				    const char *new_name)
{
	if (old_name == NULL || new_name == NULL)
		return NULL;
	/* A recruiting employer that kept it at its conversion may drop it
	 * later: staff are advised to (SPEC, CRM training). */
	if (crm_has_mkt_prefix(old_name) && !crm_has_mkt_prefix(new_name) &&
	    (account_type == NULL || strcmp(account_type, CRM_RECRUITING) != 0))
		return "the MKT prefix is removed only when the lead is converted";
	if (!crm_has_mkt_prefix(old_name) && crm_has_mkt_prefix(new_name))
		return "the MKT prefix belongs to marketing leads; it is never added by an edit";
	/* (the hub holds the same: a recruiting employer keeps the name it
	 * had, prefix and all, or takes one without it) */
	if (account_type && strcmp(account_type, CRM_RECRUITING) == 0 &&
	    strcmp(old_name, new_name) != 0 && crm_has_mkt_prefix(new_name))
		return "a recruiting employer's new user name has no MKT prefix (keep the one it has, "
		       "or drop the prefix)";
	return NULL;
}

int crm_valid_wage_unit(const char *s)
{
	static const char *const units[] = {"hour", "week", "month", "year", NULL};

	for (int i = 0; s && units[i]; i++)
		if (strcmp(s, units[i]) == 0)
			return 0;
	return -1;
}

const char *crm_job_order_vetting_check(const char *vetting_status, crm_vetted what)
{
#define VETTED " once WSB staff have vetted the employer (its vetting is pending)"
	if (vetting_status == NULL || strcmp(vetting_status, "pending") != 0)
		return NULL;
	switch (what) {
	case CRM_VETTED_SERVICE:
		return "job listings, job and resume referrals and candidate pre-screens are recorded"
		       VETTED;
	case CRM_VETTED_WORK_ITEM:
		return "a Job Order work item is made" VETTED;
	case CRM_VETTED_REFERRAL:
		return "participants are referred to its job orders" VETTED;
	case CRM_VETTED_JOB_ORDER:
	default:
		return "job orders are posted" VETTED;
	}
#undef VETTED
}

int crm_job_order_open(const char *open_date, const char *close_date, const char *today)
{
	if (open_date == NULL || today == NULL || strcmp(open_date, today) > 0)
		return 0;
	return close_date == NULL || close_date[0] == '\0' || strcmp(close_date, today) >= 0;
}

/* ---- hub checks ------------------------------------------------------------------ */

/* A number member as an integer, or def. */
static int64_t num(const cJSON *row, const char *k, int64_t def)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(row, k);

	return cJSON_IsNumber(x) ? (int64_t)x->valuedouble : def;
}

int crm__hub_check_vetting(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *vs = json_str(row, "vetting_status"), *by = json_str(row, "vetted_by");
	char msg[160];
	unsigned privs;

	if (vs == NULL || strcmp(vs, "pending") == 0)
		return 0;
	if (by == NULL)
		REFUSE("employers: a vetting result names who recorded it (vetted_by)");
	if (priv_of_staff(db, by, &privs) != 0)
		CANNOT_CHECK("employers: cannot read the privileges of vetted_by");
	if (crm_vetter_check(by, json_str(row, "converted_by"), (privs & PRIV_VETTING) != 0, msg,
			     sizeof msg))
		REFUSE("employers: vetted_by: %s", msg);
	if (strcmp(vs, "locked") == 0 &&
	    (json_str(row, "vetting_reason") == NULL || json_str(row, "vetting_reason")[0] == '\0'))
		REFUSE("employers: a locked employer needs the reason (vetting_reason)");
	return 0;
}

/* The account type of employer id at the hub into type: 0, or -1 / -2
 * (MODEL_CHECK_AGAIN) with reason. */
static int employer_type(sqlite3 *db, const char *tbl, const char *id, char *type, size_t tlen,
			 char *reason, size_t n)
{
	int rc;

	if (id == NULL)
		REFUSE("%s: employer_id is required", tbl);
	rc = db_text(db, "SELECT account_type FROM employers WHERE id=?", id, type, tlen);
	if (rc < 0)
		CANNOT_CHECK("%s: cannot read employers", tbl);
	if (rc > 0)
		REFUSE("%s: no such employer", tbl);
	return 0;
}

/* A new row of tbl for employer emp that waits for its vetting (what):
 * refused while the hub holds the employer pending.  0, or -1 / -2
 * (MODEL_CHECK_AGAIN) with reason; lead_in (a code) starts the reason. */
static int refuse_unvetted(sqlite3 *db, const char *tbl, const char *emp, crm_vetted what,
			   const char *lead_in, char *reason, size_t n)
{
	char vs[16] = "";
	const char *why;

	if (db_text(db, "SELECT coalesce(vetting_status, '') FROM employers WHERE id=?", emp, vs,
		    sizeof vs) < 0)
		CANNOT_CHECK("%s: cannot read employers", tbl);
	if ((why = crm_job_order_vetting_check(vs, what)) != NULL)
		REFUSE("%s: %s%s%s", tbl, lead_in ? lead_in : "", lead_in ? ": " : "", why);
	return 0;
}

int crm__hub_check_recruiting_service(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *code = json_str(row, "code"), *fix = json_str(row, "corrects_id");
	char type[16], was[16] = "";
	int rc;

	if (!crm_recruiting_only_code(code) || num(row, "voided", 0))
		return 0;
	if ((rc = employer_type(db, "employer_services", json_str(row, "employer_id"), type,
				sizeof type, reason, n)) != 0)
		return rc;
	if (strcmp(type, CRM_RECRUITING) != 0)
		REFUSE("employer_services: %s is for recruiting employers only, not marketing leads",
		       code);
	/* A correction keeping the code of the service it corrects is no new
	 * use of it (as the office's route holds). */
	if (fix && db_text(db, "SELECT code FROM employer_services WHERE id=?", fix, was,
			   sizeof was) < 0)
		CANNOT_CHECK("employer_services: cannot read services");
	if (strcmp(was, code) == 0)
		return 0;
	return refuse_unvetted(db, "employer_services", json_str(row, "employer_id"),
			       CRM_VETTED_SERVICE, code, reason, n);
}

int crm__hub_check_job_order_item(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	char cat[128], type[16];
	const char *emp = json_str(row, "employer_id");
	int rc;

	if (emp == NULL || json_str(row, "category_id") == NULL)
		return 0;
	/* Judged when an item becomes one: a new one, or an edit that sets the
	 * category or the employer (as the office's PATCH holds: resending the
	 * value it has is no change).  Another edit of an item made before
	 * these rules (a due date, a description, its status ...) goes
	 * through, whoever the employer is. */
	if (op != SQLITE_INSERT && !model_change_sets("category_id") && !model_change_sets("employer_id"))
		return 0;
	rc = db_text(db, "SELECT name FROM work_item_categories WHERE id=?",
		     json_str(row, "category_id"), cat, sizeof cat);
	if (rc < 0)
		CANNOT_CHECK("work_items: cannot read the categories");
	if (rc > 0 || !crm_is_job_order_category(cat))
		return 0;
	rc = db_text(db, "SELECT account_type FROM employers WHERE id=?", emp, type, sizeof type);
	if (rc < 0)
		CANNOT_CHECK("work_items: cannot read employers");
	if (rc == 0 && strcmp(type, CRM_RECRUITING) != 0)
		REFUSE("work_items: a Job Order work item is for recruiting employers only");
	if (rc == 0)
		return refuse_unvetted(db, "work_items", emp, CRM_VETTED_WORK_ITEM, NULL, reason, n);
	return 0;
}

static int check_job_order(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	const char *title = json_str(row, "title"), *loc = json_str(row, "location");
	const char *open = json_str(row, "open_date"), *close = json_str(row, "close_date");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(row, "wage");
	char type[16];
	int64_t openings = num(row, "openings", 0);
	int rc;

	if (op == SQLITE_DELETE)
		REFUSE("job_orders: rows are never deleted (set close_date)");
	if (title == NULL || title[0] == '\0' || json_utf8_chars(title) > CRM_JOB_TITLE_MAX)
		REFUSE("job_orders: title is required (at most %d characters)", CRM_JOB_TITLE_MAX);
	if (openings < 1 || openings > CRM_JOB_OPENINGS_MAX)
		REFUSE("job_orders: openings must be 1 to %d", CRM_JOB_OPENINGS_MAX);
	if (loc == NULL || loc[0] == '\0' || json_utf8_chars(loc) > CRM_JOB_LOCATION_MAX)
		REFUSE("job_orders: location is required");
	if (!cJSON_IsNumber(w) || w->valuedouble <= 0 || w->valuedouble > CRM_JOB_WAGE_MAX)
		REFUSE("job_orders: wage must be a positive amount");
	if (crm_valid_wage_unit(json_str(row, "wage_unit")) != 0)
		REFUSE("job_orders: wage_unit must be hour, week, month or year");
	if (open == NULL || json_valid_date(open) != 0)
		REFUSE("job_orders: open_date is not a date");
	if (close && (json_valid_date(close) != 0 || strcmp(close, open) < 0))
		REFUSE("job_orders: close_date must be a date on or after open_date");
	if ((rc = employer_type(db, "job_orders", json_str(row, "employer_id"), type, sizeof type,
				reason, n)) != 0)
		return rc;
	if (strcmp(type, CRM_RECRUITING) != 0)
		REFUSE("job_orders: marketing leads do not post job orders");
	/* A new one only for a vetted employer; an edit of one made before
	 * this rule is taken. */
	if (op == SQLITE_INSERT)
		return refuse_unvetted(db, "job_orders", json_str(row, "employer_id"),
				       CRM_VETTED_JOB_ORDER, NULL, reason, n);
	return 0;
}

static int check_referral(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	const char *jo = json_str(row, "job_order_id"), *emp = json_str(row, "employer_id");
	const char *pid = json_str(row, "participant_id"), *la = json_str(row, "local_area_id");
	const char *date = json_str(row, "referral_date");
	char of[128], pla[128], type[16];
	int rc;

	if (op != SQLITE_INSERT)
		REFUSE("job_referrals: rows are only inserted (append-only)");
	if (jo == NULL || emp == NULL || pid == NULL || la == NULL)
		REFUSE("job_referrals: job_order_id, employer_id, participant_id and local_area_id"
		       " are required");
	if (date == NULL || json_valid_date(date) != 0)
		REFUSE("job_referrals: referral_date is not a date");
	if ((rc = db_text(db, "SELECT employer_id FROM job_orders WHERE id=?", jo, of, sizeof of)) < 0)
		CANNOT_CHECK("job_referrals: cannot read job orders");
	if (rc > 0)
		REFUSE("job_referrals: no such job order");
	if (strcmp(of, emp) != 0)
		REFUSE("job_referrals: the job order belongs to another employer");
	if ((rc = employer_type(db, "job_referrals", emp, type, sizeof type, reason, n)) != 0)
		return rc;
	if (strcmp(type, CRM_RECRUITING) != 0)
		REFUSE("job_referrals: job referrals are for recruiting employers only");
	/* (a job order made before the vetting rule, or one the hub took) */
	if ((rc = refuse_unvetted(db, "job_referrals", emp, CRM_VETTED_REFERRAL, NULL, reason,
				  n)) != 0)
		return rc;
	if ((rc = db_text(db, "SELECT local_area_id FROM participants WHERE id=?", pid, pla,
			  sizeof pla)) < 0)
		CANNOT_CHECK("job_referrals: cannot read participants");
	/* (one refusal for no participant and another Local Area's) */
	if (rc > 0 || strcmp(pla, la) != 0)
		REFUSE("job_referrals: " CASE_NOT_OURS);
	/* a referral is a program service (model/privileges.c) */
	return case_hub_check_program_actor(db, "job_referrals", "staff_id", row, reason, n);
}

int crm_jobs_hub_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row,
			      char *reason, size_t n)
{
	if (strcmp(tbl, "job_orders") == 0)
		return check_job_order(db, op, row, reason, n);
	if (strcmp(tbl, "job_referrals") == 0)
		return check_referral(db, op, row, reason, n);
	return 1;
}
