/*
 * node_case_timely.c - timely data entry for every entry kind SLO policy
 * 34-19 lists ("applications, objective assessments, literacy/numeracy
 * assessments, ISS/IEP, activities, case notes, measurable skills gains,
 * closure forms, and follow-up forms must be entered within five (5)
 * business days"), counted in business days with the state holiday
 * calendar (model/holidays.h through case_entry_timely; a case note keeps
 * its own 5-day rule), per kind, per staff member (who entered it) and per
 * office (where), for the compliance view and its CSV.  See node_case.h.
 *
 * Kinds come from the rows: an application is the registration; an
 * activity is an objective assessment (codes 102, 203, 412), a
 * literacy/numeracy assessment (130, 191, 204, 226 testing), an ISS/IEP
 * (205, 413) or another activity; case notes are the original notes;
 * closure and follow-up forms (a decline is a follow-up form); measurable
 * skill gains are their own entries (case_forms kind skill_gain).
 */
#include "node/node_case.h"
#include "node/node_api.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *kind, *label;
} kinds[] = {
	{"application", "Applications"},
	{"objective_assessment", "Objective assessments"},
	{"literacy_numeracy", "Literacy/numeracy assessments"},
	{"iss_iep", "ISS/IEP"},
	{"activity", "Activities"},
	{"case_note", "Case notes"},
	{"measurable_skill_gain", "Measurable skill gains"},
	{"closure_form", "Closure forms"},
	{"followup_form", "Follow-up forms"},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static const char entries_sql[] =
	"SELECT t.kind, t.staff_id, coalesce(s.display_name, t.staff_id, '') AS staff_name,"
	" t.office_id, coalesce(o.name, t.office_id) AS office_name, t.d, t.e FROM ("
	"  SELECT 'application' AS kind, registered_by AS staff_id, office_id,"
	"   registered_date AS d, registered_date AS e FROM participants WHERE local_area_id=?1"
	"  UNION ALL SELECT CASE WHEN code_list <> 'activity' THEN 'activity'"
	"   WHEN code IN ('102','203','412') THEN 'objective_assessment'"
	"   WHEN code IN ('130','191','204','226') THEN 'literacy_numeracy'"
	"   WHEN code IN ('205','413') THEN 'iss_iep' ELSE 'activity' END,"
	"   staff_id, office_id, start_date, entered_date FROM participant_activities a"
	"   WHERE local_area_id=?1 AND corrects_id IS NULL AND" CASE_ACT_NOT_VOIDED("a")
	"  UNION ALL SELECT 'case_note', staff_id, office_id, contact_date, entered_date"
	"   FROM case_notes WHERE local_area_id=?1 AND " CASE_NOTE_IS_ENTRY("case_notes")
	"  UNION ALL SELECT CASE kind WHEN 'closure' THEN 'closure_form'"
	"   WHEN 'skill_gain' THEN 'measurable_skill_gain' ELSE 'followup_form' END,"
	"   staff_id, office_id, form_date, entered_date FROM case_forms WHERE local_area_id=?1"
	" ) t LEFT JOIN staff s ON s.id = t.staff_id LEFT JOIN offices o ON o.id = t.office_id"
	" WHERE (?2 = '' OR t.staff_id = ?2) AND (?3 = '' OR t.office_id = ?3)";

/* Count one entry under key in map (an object of {name, entries, late}). */
static void bump(cJSON *map, const char *key, const char *name, int late)
{
	cJSON *e = cJSON_GetObjectItemCaseSensitive(map, key);

	if (e == NULL) {
		e = cJSON_AddObjectToObject(map, key);
		cJSON_AddStringToObject(e, "name", name ? name : key);
		cJSON_AddNumberToObject(e, "entries", 0);
		cJSON_AddNumberToObject(e, "late", 0);
	}
	cJSON_SetNumberValue(cJSON_GetObjectItem(e, "entries"),
			     cJSON_GetObjectItem(e, "entries")->valuedouble + 1);
	if (late)
		cJSON_SetNumberValue(cJSON_GetObjectItem(e, "late"),
				     cJSON_GetObjectItem(e, "late")->valuedouble + 1);
}

/* The map as an array of {idname: key, name, entries, late, timely_pct}. */
static cJSON *as_list(cJSON *map, const char *idname)
{
	cJSON *out = cJSON_CreateArray(), *e;

	cJSON_ArrayForEach(e, map)
	{
		cJSON *o = cJSON_CreateObject();
		double en = cJSON_GetObjectItem(e, "entries")->valuedouble;
		double late = cJSON_GetObjectItem(e, "late")->valuedouble;
		cJSON_AddStringToObject(o, idname, e->string);
		cJSON_AddStringToObject(o, "name", json_str(e, "name"));
		cJSON_AddNumberToObject(o, "entries", en);
		cJSON_AddNumberToObject(o, "late", late);
		if (en > 0)
			cJSON_AddNumberToObject(o, "timely_pct", (double)(int)(100 * (en - late) / en));
		else
			cJSON_AddNullToObject(o, "timely_pct");
		cJSON_AddItemToArray(out, o);
	}
	return out;
}

cJSON *case__timeliness(node *n, const char *staff, const char *office)
{
	sqlite3_stmt *st;
	cJSON *bk = cJSON_CreateObject(), *bs = cJSON_CreateObject(), *bo = cJSON_CreateObject();
	cJSON *out = NULL, *list;
	int rc;

	for (size_t i = 0; i < NKINDS; i++) {
		cJSON *e = cJSON_AddObjectToObject(bk, kinds[i].kind);
		cJSON_AddStringToObject(e, "name", kinds[i].label);
		cJSON_AddNumberToObject(e, "entries", 0);
		cJSON_AddNumberToObject(e, "late", 0);
	}
	if (db_prepare(n->nd_db, &st, entries_sql) != 0)
		goto out;
	sqlite3_bind_text(st, 1, n->nd_local_area_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, staff ? staff : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, office ? office : "", -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c[7];
		int t;

		if (db_cols(st, c, 7) != 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		t = strcmp(c[0], "case_note") == 0 ? case_note_timely(c[5], c[6])
						   : case_entry_timely(c[5], c[6]);
		bump(bk, c[0], NULL, t == 0);
		bump(bs, c[1], c[2][0] ? c[2] : NULL, t == 0);
		bump(bo, c[3], c[4][0] ? c[4] : NULL, t == 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto out;
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "business_days", CASE_ENTRY_BUSINESS_DAYS);
	list = as_list(bk, "kind");
	cJSON_AddItemToObject(out, "by_kind", list);
	cJSON_AddItemToObject(out, "by_staff", as_list(bs, "staff_id"));
	cJSON_AddItemToObject(out, "by_office", as_list(bo, "office_id"));
out:
	cJSON_Delete(bk);
	cJSON_Delete(bs);
	cJSON_Delete(bo);
	return out;
}

static void csv_list(route_call *a, const cJSON *t, const char *member, const char *scope,
		     const char *idname)
{
	const cJSON *it;
	char num[32];

	cJSON_ArrayForEach(it, cJSON_GetObjectItem(t, member))
	{
		const cJSON *pct = cJSON_GetObjectItem(it, "timely_pct");
		route_csv_field(a, scope, 0);
		route_csv_field(a, json_str(it, idname), 0);
		route_csv_field(a, json_str(it, "name"), 0);
		snprintf(num, sizeof num, "%d", cJSON_GetObjectItem(it, "entries")->valueint);
		route_csv_field(a, num, 0);
		snprintf(num, sizeof num, "%d", cJSON_GetObjectItem(it, "late")->valueint);
		route_csv_field(a, num, 0);
		snprintf(num, sizeof num, "%d", cJSON_IsNumber(pct) ? pct->valueint : 0);
		route_csv_field(a, cJSON_IsNumber(pct) ? num : "", 1);
	}
}

void case__timeliness_csv(route_call *a, const cJSON *t)
{
	route_put(a, "scope,id,name,entries,late,timely_pct\r\n");
	csv_list(a, t, "by_kind", "kind", "kind");
	csv_list(a, t, "by_staff", "staff", "staff_id");
	csv_list(a, t, "by_office", "office", "office_id");
}
