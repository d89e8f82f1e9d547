/*
 * node_crm_summary.c - one employer as the CRM pages show it (contacts,
 * locations, notes, services, work items, attachments, flags, the edits
 * that crossed between offices) and the conflicts of a row.
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

/* ---- JSON views ------------------------------------------------------------- */

#define EMPLOYER_COLS                                                                          \
	"e.id, e.account_type, e.created_as, e.company_name, e.normalized_name, e.username,"     \
	" e.edd_account_number, e.zip, e.street, e.city, e.state, e.mailing_street,"             \
	" e.mailing_city, e.mailing_state, e.mailing_zip, e.phone, e.email, e.website,"          \
	" e.industry, e.pe_organization, e.lead_owner_id, ow.display_name AS lead_owner_name,"   \
	" e.office_id, o.name AS office_name, e.local_area_id, e.created_by, e.created_at,"      \
	" e.source, e.external_employer_id, e.directory_id, e.vetting_status,"                   \
	" e.vetting_started_at, e.vetting_due_at, e.converted_at, e.converted_by, e.status,"     \
	" e.duplicate_of, e.vetting_reason, e.vetted_by, vs.display_name AS vetted_by_name,"       \
	" e.vetted_at, coalesce(e.vetting_status = 'locked', 0) AS locked, e.updated_hlc"
#define EMPLOYER_FROM                                                                          \
	" FROM employers e LEFT JOIN staff ow ON ow.id = e.lead_owner_id"                        \
	" LEFT JOIN offices o ON o.id = e.office_id"                                             \
	" LEFT JOIN staff vs ON vs.id = e.vetted_by"

static cJSON *attachments_of(node *n, const char *employer_id)
{
	return crm__attachments_of(n, employer_id, 0);
}

/* An employer's lists, in reply order: its rows by sql (?1 = the employer)
 * or by a function of the module. */
static const struct {
	const char *name, *sql;
	cJSON *(*of)(node *n, const char *employer_id);
} parts[] = {
	{"contacts", "SELECT id, kind, name, title, phone, email, status, created_at FROM"
		     " employer_contacts WHERE employer_id=? ORDER BY status, kind, name COLLATE NOCASE",
	 NULL},
	{"locations", "SELECT id, name, street, city, state, zip, phone, status FROM employer_locations"
		      " WHERE employer_id=? ORDER BY status, name COLLATE NOCASE",
	 NULL},
	{"services", NULL, crm__services_of},
	{"work_items", NULL, crm__work_items_of},
	{"duplicate_flags",
	 "SELECT f.id, f.reason, f.status, f.detected_at,"
	 " CASE WHEN f.employer_id=?1 THEN f.other_employer_id ELSE f.employer_id END AS other_id,"
	 " (SELECT company_name FROM employers WHERE id = CASE WHEN f.employer_id=?1"
	 "   THEN f.other_employer_id ELSE f.employer_id END) AS other_name"
	 " FROM crm_duplicate_flags f WHERE f.employer_id=?1 OR f.other_employer_id=?1",
	 NULL},
	{"notes", "SELECT en.id, en.staff_id, s.display_name AS staff_name, en.office_id, en.subject,"
		  " en.body, en.created_at FROM employer_notes en LEFT JOIN staff s ON s.id = en.staff_id"
		  " WHERE en.employer_id=? ORDER BY en.created_at DESC, en.id DESC",
	 NULL},
	{"attachments", NULL, attachments_of},
	{"job_orders", NULL, crm__job_orders_of},
	{"referrals", NULL, crm__referrals_of},
};

/* The employer's own row: 1 (*out set), 0 when there is none, -1. */
static int employer_row(node *n, const char *id, cJSON **out)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if (db_prepare_bound(n->nd_db, &st, "SELECT " EMPLOYER_COLS EMPLOYER_FROM " WHERE e.id=?1",
			     "t", id) != 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = db_row_json(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	return *out ? 1 : -1;
}

/* The derived flags of the employer's row o. */
static void employer_flags(node *n, cJSON *o)
{
	const cJSON *due = cJSON_GetObjectItem(o, "vetting_due_at");
	const char *vs = json_str(o, "vetting_status"), *u = json_str(o, "username");
	char plain[CRM_USERNAME_MAX + 1];

	cJSON_AddBoolToObject(o, "vetting_overdue",
			      vs && strcmp(vs, "pending") == 0 && cJSON_IsNumber(due) &&
				      due->valuedouble < (double)node_now_ms(n));
	cJSON_AddBoolToObject(o, "has_mkt_prefix", crm_has_mkt_prefix(u));
	if (crm_has_mkt_prefix(u) && crm_drop_mkt_prefix(u, plain, sizeof plain) == 0)
		cJSON_AddStringToObject(o, "username_without_prefix", plain);
}

/* The employer's lists (parts) into o: 0, or -1 when one could not be read. */
static int employer_parts(node *n, const char *id, cJSON *o)
{
	cJSON *x;

	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		if (parts[i].sql) {
			if (db_add_rows_json(o, parts[i].name, n->nd_db, parts[i].sql, id) != 0)
				return -1;
		} else if ((x = parts[i].of(n, id)) == NULL) {
			return -1;
		} else {
			cJSON_AddItemToObject(o, parts[i].name, x);
		}
	}
	return 0;
}

int crm__employer_load(node *n, const char *id, cJSON **out)
{
	cJSON *o, *x, *f;
	int rc = employer_row(n, id, &o), open = 0;

	*out = NULL;
	if (rc <= 0)
		return rc;
	employer_flags(n, o);
	if (employer_parts(n, id, o) != 0) {
		cJSON_Delete(o);
		return -1;
	}
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(o, "duplicate_flags"))
		if (json_str(f, "status") && strcmp(json_str(f, "status"), "open") == 0)
			open = 1;
	cJSON_AddBoolToObject(o, "possible_duplicate", open);
	/* Edits that crossed between offices, on the employer, its contacts
	 * and its locations, and two offices' corrections of one of its
	 * services (model/crm.h CRM_CORRECTION_LATER). */
	x = crm__conflicts_of(n, "employers", id, 0);
	{
		cJSON *more[3] = {crm__conflicts_of(n, "employer_contacts", id, 1),
				  crm__conflicts_of(n, "employer_locations", id, 1),
				  crm__conflicts_of(n, "employer_services", id, 1)}, *it;
		for (int i = 0; i < 3; i++) {
			while ((it = cJSON_DetachItemFromArray(more[i], 0)) != NULL)
				cJSON_AddItemToArray(x, it);
			cJSON_Delete(more[i]);
		}
	}
	cJSON_AddItemToObject(o, "conflicts", x);
	*out = o;
	return 1;
}

route_rc crm__employer_reply(route_call *a, int status, const char *id)
{
	cJSON *o;
	int rc = crm__employer_load(API_NODE(a), id, &o);

	if (rc == 0)
		return route_fail(a, 404, "id", "no such employer");
	return rc > 0 ? route_ok(a, status, o) : ROUTE_DBERR;
}


