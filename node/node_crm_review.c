/*
 * node_crm_review.c - what happens to an employer after it is entered:
 * conversion to Recruiting Employer, the vetting result, possible-duplicate
 * flags and their review, and the employer's case notes.
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const route_key convert_fields_rk[] = {
	{"edd_account_number", ROUTE_T_ANY, 0}, {"drop_mkt_prefix", ROUTE_T_ANY, 0},
	{"username", ROUTE_T_ANY, 0}, {"street", ROUTE_T_ANY, 0}, {"city", ROUTE_T_ANY, 0},
	{"state", ROUTE_T_ANY, 0}, {"zip", ROUTE_T_ANY, 0}, {"phone", ROUTE_T_ANY, 0},
	{"industry", ROUTE_T_ANY, 0}, {"website", ROUTE_T_ANY, 0}, {"email", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* A conversion: the fields sent, the values checked, the user name chosen. */
typedef struct conversion {
	const char *v[CRM_NEF];
	int present[CRM_NEF];
	crm_conversion cv;
	char edd[9], z5[6], newname[CRM_USERNAME_MAX + 1];
} conversion;

/* The values the employer will have (sent ones win over stored ones in
 * cur, which they borrow) into c->cv, for crm_conversion_check.  The
 * company name is the stored one: a conversion does not change it. */
static void conversion_values(conversion *c, const cJSON *cur)
{
	const cJSON *ct;

	crm__employer_values(&c->cv, cur, c->v, c->present);
	c->cv.company_name = json_str(cur, "company_name");
	cJSON_ArrayForEach(ct, cJSON_GetObjectItem(cur, "contacts"))
		if (strcmp(json_str(ct, "kind"), "primary") == 0 &&
		    strcmp(json_str(ct, "status"), "active") == 0)
			c->cv.primary_contacts++;
}

/* The user name after the conversion into c->newname: typed, or the MKT
 * prefix dropped on request (drop), else kept.  ROUTE_OK, or the refusal. */
static route_rc conversion_username(route_call *a, conversion *c, const char *current, int drop,
				    const char *id)
{
	const char *why;

	if (c->present[EF_USERNAME] && c->v[EF_USERNAME])
		snprintf(c->newname, sizeof c->newname, "%s", c->v[EF_USERNAME]);
	else if (drop && crm_has_mkt_prefix(current))
		crm_drop_mkt_prefix(current, c->newname, sizeof c->newname);
	else
		snprintf(c->newname, sizeof c->newname, "%s", current);
	if ((why = crm_username_edit_check(CRM_RECRUITING, current, c->newname)) != NULL)
		return route_fail(a, 409, "username", "%s", why);
	if (crm_valid_username(c->newname) != 0)
		return route_fail(a, 400, "username",
				  "user name must be 4 to 40 letters, digits, '.', '_' or '-'");
	if (crm__username_taken(API_NODE(a), c->newname, id) != 0)
		return route_fail(a, 409, "username",
				  "the user name '%s' is already taken; type another one", c->newname);
	return ROUTE_OK;
}

/* The write: recruiting, the new user name, the address and contact fields
 * sent (never a clearing), and the vetting clock.  0 or -1. */
static int conversion_store(node *n, const char *actor, const char *id, conversion *c)
{
	const char *xc[6], *xv[6];
	int nx = 0;
	uint64_t now = node_now_ms(n);

	crm_valid_edd_account(c->cv.edd_account_number, c->edd);
	xc[nx] = "account_type"; xv[nx++] = CRM_RECRUITING;
	xc[nx] = "username"; xv[nx++] = c->newname;
	xc[nx] = "edd_account_number"; xv[nx++] = c->edd;
	xc[nx] = "vetting_status"; xv[nx++] = "pending";
	xc[nx] = "converted_by"; xv[nx++] = actor;
	if (c->present[EF_ZIP] && c->v[EF_ZIP]) {
		crm_valid_zip(c->v[EF_ZIP], c->z5);
		xc[nx] = "zip5"; xv[nx++] = c->z5;
	}
	/* Only address/contact fields come from the body; the rest is fixed. */
	c->present[EF_NAME] = c->present[EF_EDD] = c->present[EF_OWNER] = c->present[EF_STATUS] = 0;
	c->present[EF_USERNAME] = 0;
	for (int i = 0; i < CRM_NEF; i++)
		if (c->present[i] && c->v[i] == NULL)
			c->present[i] = 0; /* conversion never clears a field */
	if (crm__update_changed(n, "employers", id, crm_employer_fields, CRM_NEF, c->v, c->present, xc,
				xv, nx) < 0)
		return -1;
	/* The vetting clock (integer columns). */
	return db_run(n->nd_db, "UPDATE employers SET vetting_started_at=?2, vetting_due_at=?3,"
				" converted_at=?2 WHERE id=?1",
		      "tII", id, (int64_t)now, crm_vetting_due((int64_t)now));
}

/* The other employers this node holds with the EDD Account Number of the
 * conversion (the employer's tax account: "check if the employer is already
 * in CalJOBS", WSIN15-21), into the reply as "duplicates" when there are
 * any.  Not a refusal: the conversion stands, and the hub flags the pair
 * for review (crm_flag_duplicates: 'edd_account'), as it flags one an
 * office could not see.  0, or -1 out of memory. */
static int conversion_duplicates(route_call *a, const conversion *c, const char *id)
{
	const char *args[2] = {c->edd, id};
	cJSON *dups;

	dups = db_rows_json_args(API_NODE(a)->nd_db,
				 "SELECT e.id, e.company_name, e.account_type, e.username, e.zip, e.city,"
				 " e.office_id, o.name AS office_name, 'edd_account' AS match"
				 " FROM employers e LEFT JOIN offices o ON o.id = e.office_id"
				 " WHERE e.edd_account_number = ?1 AND e.id <> ?2 AND e.duplicate_of IS NULL"
				 " ORDER BY e.company_name LIMIT 20",
				 2, args);
	if (dups == NULL || a->rc_reply == NULL)
		goto fail;
	if (cJSON_GetArraySize(dups) == 0) {
		cJSON_Delete(dups);
		return 0;
	}
	if (cJSON_AddItemToObject(a->rc_reply, "duplicates", dups))
		return 0;
fail:
	cJSON_Delete(dups);
	return -1;
}

/*
 * Marketing Lead -> Recruiting Employer.  The account type is one column, so
 * the employer can never hold both.  The user name is kept unless the staff
 * member accepts the offer to drop the MKT prefix (drop_mkt_prefix) or types
 * a new one; the EDD Account Number and the other required fields are
 * checked (crm_conversion_check) and vetting starts, due in 72 hours.
 */
static route_rc post_convert(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id"), *field;
	conversion c;
	arena ar;
	cJSON *cur;
	char msg[200];
	int drop = 0, rc;
	route_rc rr;

	ar.a_used = 0;
	if (crm__read_fields(a->rc_body, crm_employer_fields, CRM_NEF, c.v, c.present, &ar, NULL, NULL,
			     a) |
	    route_bool(a, "drop_mkt_prefix", JSON_NULLABLE, 0, &drop))
		return ROUTE_BAD;
	if ((rc = crm__employer_load(n, id, &cur)) <= 0)
		return rc < 0 ? ROUTE_DBERR : route_fail(a, 404, "id", "no such employer");
	conversion_values(&c, cur);
	if ((field = crm_conversion_check(&c.cv, msg, sizeof msg)) != NULL)
		rr = route_fail(a, strcmp(field, "account_type") == 0 ? 409 : 400, field, "%s", msg);
	else
		rr = conversion_username(a, &c, json_str(cur, "username"), drop, id);
	if (rr == ROUTE_OK && conversion_store(n, API_USER(a)->id, id, &c) != 0)
		rr = ROUTE_DBERR;
	if (rr == ROUTE_OK) {
		log_info("crm: employer %s converted to recruiting employer, vetting pending", id);
		rr = crm__employer_reply(a, 200, id);
	}
	if (rr == ROUTE_OK && conversion_duplicates(a, &c, id) != 0)
		rr = ROUTE_DBERR;
	cJSON_Delete(cur);
	return rr;
}

static const route_key vetting_fields_rk[] = {
	{"result", ROUTE_T_STR, ROUTE_K_REQUIRED}, {"reason", ROUTE_T_STR, ROUTE_K_NULL}, {NULL, 0, 0},
};

#define VETTING_REASON_MAX 500

/* Write the result, its reason, who and when (inside the captured write). */
static int vetting_store(node *n, const char *id, const char *result, const char *reason,
			 const char *actor)
{
	const char *xc[3] = {"vetting_status", "vetting_reason", "vetted_by"}, *xv[3];

	xv[0] = result;
	xv[1] = reason && reason[0] ? reason : NULL;
	xv[2] = actor;
	if (crm__update_changed(n, "employers", id, NULL, 0, NULL, NULL, xc, xv, 3) < 0)
		return -1;
	return db_run(n->nd_db, "UPDATE employers SET vetted_at=?2 WHERE id=?1", "tI", id,
		      (int64_t)node_now_ms(n));
}

/*
 * POST /api/v1/crm/employers/:id/vetting {"result": "approved"|"locked",
 * "reason"}: the vetting result of a converted employer (72-hour
 * procedure), recorded by WSB staff (PRIV_VETTING) other than the one who
 * converted the lead.  "locked" (the information did not match) needs the
 * reason, shown wherever the lock refuses something; "approved" on a
 * locked employer unlocks it.
 */
static route_rc post_vetting(route_call *a)
{
	node *n = API_NODE(a);
	/* the route id first: a refused request is freed by its reply */
	const char *id = http_req_param(a->rc_req, "id"), *result = NULL, *reason = NULL, *field;
	const node_user *u = API_USER(a);
	char type[16] = "", vs[16] = "", conv[64] = "", msg[160], rbuf[JSON_TEXT_BYTES(12)];
	char *why = malloc(JSON_TEXT_BYTES(VETTING_REASON_MAX));
	int conflict = 0, bad = 0;
	route_rc rr;

	if (why == NULL)
		return ROUTE_DBERR;
	bad |= route_str(a, "result", JSON_REQUIRED, 1, 12, &result, rbuf, sizeof rbuf);
	bad |= route_str(a, "reason", JSON_NULLABLE, 0, VETTING_REASON_MAX, &reason, why,
			 JSON_TEXT_BYTES(VETTING_REASON_MAX));
	if (result && strcmp(result, "approved") != 0 && strcmp(result, "locked") != 0)
		bad |= route_err(a, "result", "result must be approved or locked");
	if (result && strcmp(result, "locked") == 0 && (reason == NULL || reason[0] == '\0'))
		bad |= route_err(a, "reason", "say what did not match: the reason is shown with the lock");
	if (bad) {
		rr = ROUTE_BAD;
	} else if (db_text(n->nd_db, "SELECT account_type FROM employers WHERE id=?", id, type,
			   sizeof type) != 0) {
		rr = route_fail(a, 404, "id", "no such employer");
	} else {
		db_text(n->nd_db, "SELECT coalesce(vetting_status, '') FROM employers WHERE id=?", id, vs, sizeof vs);
		db_text(n->nd_db, "SELECT coalesce(converted_by, '') FROM employers WHERE id=?", id, conv, sizeof conv);
		if (crm_vetter_check(u->id, conv[0] ? conv : NULL, (u->privs & PRIV_VETTING) != 0, msg,
				     sizeof msg)) {
			rr = route_fail(a, 403, "id", "%s", msg);
		} else if ((field = crm_vetting_check(type, vs[0] ? vs : NULL, result, &conflict, msg,
						      sizeof msg)) != NULL) {
			rr = route_fail(a, conflict ? 409 : 400, field, "%s", msg);
		} else if (vetting_store(n, id, result, reason, u->id) != 0) {
			rr = ROUTE_DBERR;
		} else {
			log_info("crm: vetting of employer %s recorded: %s%s", id, result,
				 strcmp(vs, "locked") == 0 ? " (unlocked)" : "");
			rr = crm__employer_reply(a, 200, id);
		}
	}
	free(why);
	return rr;
}

/*
 * GET /api/v1/crm/vetting/overdue: recruiting employers whose vetting is
 * still pending past its 72 hours (the node's clock, corrected by the hub's
 * time), oldest first, with how many hours late.
 */
static route_rc list_vetting_overdue(route_call *a)
{
	node *n = API_NODE(a);
	sqlite3_stmt *st;

	if (db_prepare_bound(n->nd_db, &st,
			     "SELECT e.id, e.company_name, e.username, e.office_id, e.converted_by,"
			     " s.display_name AS converted_by_name, e.vetting_started_at, e.vetting_due_at,"
			     " (?1 - e.vetting_due_at) / 3600000 AS hours_overdue"
			     " FROM employers e LEFT JOIN staff s ON s.id = e.converted_by"
			     " WHERE e.vetting_status = 'pending' AND e.vetting_due_at < ?1"
			     " AND e.status = 'active' ORDER BY e.vetting_due_at LIMIT 500",
			     "I", (int64_t)node_now_ms(n)) != 0)
		return ROUTE_DBERR;
	return crm__rows(a, st);
}

static const route_key dupof_fields_rk[] = {
	{"duplicate_of", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* Review of a possible duplicate: this employer is the same as another. */
static route_rc post_duplicate_of(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id"), *other;
	const char *xc[2] = {"duplicate_of", "status"}, *xv[2];
	char chain[64];
	route_rc rr;

	if (route_str(a, "duplicate_of", JSON_REQUIRED, 1, 64, &other, NULL, 0) != 0)
		return ROUTE_BAD;
	if (crm__exists(n, "employers", id) != 1)
		return route_fail(a, 404, "id", "no such employer");
	if (strcmp(other, id) == 0 || crm__exists(n, "employers", other) != 1)
		return route_fail(a, 400, "duplicate_of", "no such other employer");
	/* A locked employer takes no edit until WSB staff approve it again:
	 * marking it a duplicate (and inactive) is one. */
	if ((rr = crm__refuse_locked(a, id)) != ROUTE_OK)
		return rr;
	/* The one kept must be kept: not itself a duplicate (of this one, both
	 * would end inactive; of a third, mark this one as that one's). */
	if (db_text(n->nd_db, "SELECT coalesce(duplicate_of, '') FROM employers WHERE id=?", other,
		    chain, sizeof chain) != 0)
		return ROUTE_DBERR;
	if (chain[0])
		return route_fail(a, 409, "duplicate_of",
				  strcmp(chain, id) == 0
				      ? "that employer is already marked as a duplicate of this one"
				      : "that employer is itself marked as a duplicate of another (%s):"
					" mark this one as a duplicate of that one",
				  chain);
	xv[0] = other;
	xv[1] = "inactive";
	if (crm__update_changed(n, "employers", id, NULL, 0, NULL, NULL, xc, xv, 2) < 0)
		return ROUTE_DBERR;
	log_info("crm: employer %s marked as a duplicate of %s", id, other);
	return crm__employer_reply(a, 200, id);
}

static route_rc list_duplicate_flags(route_call *a)
{
	return node_api_rows(a, "SELECT f.id, f.reason, f.status, f.detected_at, f.employer_id,"
			     " a.company_name AS employer_name, a.office_id AS employer_office,"
			     " f.other_employer_id, b.company_name AS other_name,"
			     " b.office_id AS other_office, f.zip5 FROM crm_duplicate_flags f"
			     " LEFT JOIN employers a ON a.id = f.employer_id"
			     " LEFT JOIN employers b ON b.id = f.other_employer_id"
			     " WHERE f.status = 'open' AND a.duplicate_of IS NULL AND b.duplicate_of IS NULL"
			     " ORDER BY f.detected_at DESC LIMIT 500");
}

/* ---- case notes ------------------------------------------------------------------ */

static const route_key note_keys_rk[] = {
	{"subject", ROUTE_T_ANY, 0}, {"body", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* POST /api/v1/crm/employers/:id/notes: a case note (append-only; the
 * text is never logged). */
static route_rc post_employer_note(route_call *a)
{
	route_rc rr = ROUTE_DBERR;
	node *n = API_NODE(a);
	/* the route id first: a refused request is freed by its reply */
	const char *emp = http_req_param(a->rc_req, "id"), *subject = NULL, *text = NULL;
	const node_user *u = API_USER(a);
	char nid[UUID_STRLEN], subj_buf[JSON_TEXT_BYTES(CRM_TITLE_MAX)];
	char *text_buf = malloc(JSON_TEXT_BYTES(CRM_NOTE_MAX));
	uint64_t now = node_now_ms(n);

	if (text_buf == NULL)
		goto done;
	if (route_str(a, "subject", JSON_NULLABLE, 0, CRM_TITLE_MAX, &subject, subj_buf,
		      sizeof subj_buf) != 0 ||
	    route_str(a, "body", JSON_REQUIRED, 1, CRM_NOTE_MAX, &text, text_buf,
		      JSON_TEXT_BYTES(CRM_NOTE_MAX)) != 0) {
		rr = ROUTE_BAD;
		goto done;
	}
	if (crm__exists(n, "employers", emp) != 1) {
		rr = route_fail(a, 404, "id", "no such employer");
		goto done;
	}
	uuid7_at(nid, now);
	if (db_run(n->nd_db,
		   "INSERT INTO employer_notes(id, employer_id, staff_id, office_id, subject, body,"
		   " created_at) VALUES(?,?,?,?,?,?,?)",
		   "ttttttI", nid, emp, u->id, crm__office(n, u), db_null_if_empty(subject), text,
		   (int64_t)now) != 0)
		goto done;
	log_info("crm: case note %s added to employer %s", nid, emp);
	rr = crm__employer_reply(a, 201, emp);
done:
	free(text_buf);
	return rr;
}

static const route_def crm_review_defs[] = {
	{HTTP_M_POST, "/api/v1/crm/employers/:id/convert", post_convert, PRIV_CRM, ROUTE_BODY | NODE_WRITE, convert_fields_rk, 0},
	{HTTP_M_POST, "/api/v1/crm/employers/:id/duplicate-of", post_duplicate_of, PRIV_CRM, ROUTE_BODY | NODE_WRITE, dupof_fields_rk, 0},
	{HTTP_M_POST, "/api/v1/crm/employers/:id/vetting", post_vetting, PRIV_VETTING, ROUTE_BODY | NODE_WRITE, vetting_fields_rk, 0},
	{HTTP_M_GET, "/api/v1/crm/vetting/overdue", list_vetting_overdue, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/crm/employers/:id/notes", post_employer_note, PRIV_CRM, ROUTE_BODY | NODE_WRITE, note_keys_rk, 0},
	{HTTP_M_GET, "/api/v1/crm/duplicate-flags", list_duplicate_flags, PRIV_VIEW, 0, NULL, 0},
};

const route_list crm_review_route_list = ROUTE_LIST(crm_review_defs);
