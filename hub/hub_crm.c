/*
 * hub_crm.c - the hub's view of the CRM rules it watches over: recruiting
 * employers whose 72-hour vetting is overdue (CRM training: "verified by
 * the WSD staff, per standard 72-hour vetting procedure"), statewide, for
 * the console, and the employers a failed vetting locked, with the reason.
 * Read-only: vetting is recorded at an office by WSB staff and replicates
 * here like any employer edit.
 */
#include "hub/hub_api.h"
#include "lib/clock.h"

#include <stdint.h>

/* GET /api/v1/admin/crm/vetting -> {"overdue": [...], "locked": [...],
 * "now": ms}: overdue pending vetting, oldest first, and locked employers. */
static route_rc vetting_status(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	int64_t now = (int64_t)clock_ms();
	sqlite3_stmt *st = NULL;
	cJSON *o = cJSON_CreateObject(), *x;

	if (o == NULL ||
	    db_prepare(db, &st,
		       "SELECT e.id, e.company_name, e.username, e.office_id, e.converted_by,"
		       " s.display_name AS converted_by_name, e.vetting_started_at, e.vetting_due_at,"
		       " (?1 - e.vetting_due_at) / 3600000 AS hours_overdue"
		       " FROM employers e LEFT JOIN staff s ON s.id = e.converted_by"
		       " WHERE e.vetting_status = 'pending' AND e.vetting_due_at < ?1"
		       " AND e.status = 'active' ORDER BY e.vetting_due_at LIMIT 1000") != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	if ((x = db_rows_json(st)) == NULL)
		goto fail;
	cJSON_AddItemToObject(o, "overdue", x);
	sqlite3_finalize(st);
	st = NULL;
	x = db_rows_json_by(db,
		"SELECT e.id, e.company_name, e.username, e.office_id, e.vetting_reason,"
		" e.vetted_by, s.display_name AS vetted_by_name, e.vetted_at"
		" FROM employers e LEFT JOIN staff s ON s.id = e.vetted_by"
		" WHERE e.vetting_status = 'locked' AND ?1 IS NOT NULL ORDER BY e.vetted_at DESC LIMIT 1000",
		"x");
	if (x == NULL)
		goto fail;
	cJSON_AddItemToObject(o, "locked", x);
	cJSON_AddNumberToObject(o, "now", (double)now);
	return route_ok(a, 200, o);
fail:
	sqlite3_finalize(st);
	cJSON_Delete(o);
	return ROUTE_DBERR;
}

static const route_def crm_defs[] = {
	{HTTP_M_GET, "/api/v1/admin/crm/vetting", vetting_status, 0, 0, NULL, 0},
};
const route_list hub_crm_route_list = ROUTE_LIST(crm_defs);
