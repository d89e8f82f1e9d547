/*
 * case_decide.c - an approver's decision: its rules, its row and its
 * write; see case_decide.h.
 */
#include "model/case_decide.h"
#include "model/case_approvals.h"
#include "lib/json.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <string.h>

const route_key case_decision_keys[] = {
	{"decision", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{"role", ROUTE_T_STR, ROUTE_K_NULL},
	{"comment", ROUTE_T_STR, ROUTE_K_NULL},
	{NULL, 0, 0},
};

route_rc case_decision_read(route_call *a, const cJSON *req, case_decision *d)
{
	const char *dec = NULL, *role = NULL, *comment = NULL, *bad = NULL;

	route_str(a, "decision", JSON_REQUIRED, 1, 16, &dec, NULL, 0);
	route_str(a, "role", JSON_NULLABLE, 0, 40, &role, NULL, 0);
	route_str(a, "comment", JSON_NULLABLE, 0, 1000, &comment, NULL, 0);
	if (dec && strcmp(dec, "approved") != 0 && strcmp(dec, "refused") != 0)
		route_err(a, "decision", "decision is approved or refused");
	if (dec && strcmp(dec, "refused") == 0 && (comment == NULL || comment[0] == '\0'))
		route_err(a, "comment", "say why the request is refused");
	if (role && role[0] == '\0')
		role = NULL;
	if (req == NULL)
		return a->rc_nerr ? ROUTE_BAD : route_fail(a, 404, "id", "no such approval request");
	if (strcmp(json_str(req, "requested_by"), d->cd_staff) == 0)
		return route_fail(a, 403, "id", "nobody approves their own request");
	if (strcmp(json_str(req, "state"), "pending") != 0)
		return route_fail(a, 409, "id", "this request is already %s", json_str(req, "state"));
	if ((role = case_decide_role(req, role, &bad)) == NULL)
		route_err(a, "role", "%s", bad);
	if (a->rc_nerr)
		return ROUTE_BAD;
	d->cd_decision = dec;
	d->cd_role = role;
	d->cd_comment = comment;
	return ROUTE_OK;
}

cJSON *case_decision_row(const cJSON *req, const case_decision *d)
{
	cJSON *row = cJSON_CreateObject();
	char id[UUID_STRLEN];

	if (d->cd_id)
		snprintf(id, sizeof id, "%s", d->cd_id);
	else
		uuid7_at(id, (uint64_t)d->cd_ms);
	cJSON_AddStringToObject(row, "id", id);
	cJSON_AddStringToObject(row, "request_id", json_str(req, "id"));
	cJSON_AddStringToObject(row, "participant_id", json_str(req, "participant_id"));
	cJSON_AddStringToObject(row, "local_area_id", d->cd_la);
	cJSON_AddStringToObject(row, "office_id", d->cd_office);
	cJSON_AddStringToObject(row, "role", d->cd_role);
	cJSON_AddStringToObject(row, "staff_id", d->cd_staff);
	cJSON_AddStringToObject(row, "decision", d->cd_decision);
	json_add_str_or_null(row, "comment", d->cd_comment);
	cJSON_AddStringToObject(row, "decided_date", d->cd_today);
	cJSON_AddNumberToObject(row, "decided_at", (double)d->cd_ms);
	return row;
}

int case_decision_record(sqlite3 *db, const cJSON *req, const case_decision *d, char *why,
			 size_t wn)
{
	cJSON *row = case_decision_row(req, d);
	int rc;

	if (row == NULL)
		return -1;
	if (case_approvals_validate_row(db, "case_approval_decisions", row, why, wn) != 0)
		rc = 1;
	else
		rc = case_decision_insert(db, row);
	cJSON_Delete(row);
	return rc;
}

int case_decision_insert(sqlite3 *db, const cJSON *row)
{
	return db_run(db,
		      "INSERT INTO case_approval_decisions(id, request_id, participant_id,"
		      " local_area_id, office_id, role, staff_id, decision, comment, decided_date,"
		      " decided_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
		      "ttttttttttI", json_str(row, "id"), json_str(row, "request_id"),
		      json_str(row, "participant_id"), json_str(row, "local_area_id"),
		      json_str(row, "office_id"), json_str(row, "role"), json_str(row, "staff_id"),
		      json_str(row, "decision"), json_str(row, "comment"), json_str(row, "decided_date"),
		      (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(row, "decided_at")));
}
