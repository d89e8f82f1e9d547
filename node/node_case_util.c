/*
 * node_case_util.c - what the case-work route files share and nothing
 * else: the audit event of an action on a subject, whether a participant is
 * held here, the name match of a visit.  Includes no sibling's
 * header but node_case.h, so the case files depend one way:
 * node_case_util.c <- node_case_compliance.c <- node_case.c,
 * node_case_timeline.c, node_case_work.c.
 */
#include "node/node_case.h"
#include "node/node_api.h"
#include "model/audit.h"
#include "model/greeter.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int case__audit(node *n, const node_user *u, const char *action, const char *table,
		const char *id, const char *detail)
{
	audit_event ev = {(int64_t)node_now_ms(n), n->nd_office_id, n->nd_local_area_id,
			  n->nd_node_id, u ? u->id : NULL, action, table, id, detail};
	return audit_record(n->nd_db, &ev, NULL);
}

/* Ids per audit row: a list of thousands (a Local Area's compliance view)
 * is recorded as several rows, each well within what the hub takes as an
 * event's detail (64 KiB, hub/acct_apply.c). */
#define AUDIT_IDS_PER_ROW 1000

int case__audit_ids(node *n, const node_user *u, const char *action, const cJSON *rows,
		    const char *k1, const char *k2)
{
	const char *keys[2] = {k1, k2};
	const cJSON *it = rows ? rows->child : NULL;
	int total = cJSON_GetArraySize(rows), rc = 0;

	do {
		cJSON *d = cJSON_CreateObject(), *ids = d ? cJSON_AddArrayToObject(d, "ids") : NULL;
		char *detail = NULL;
		int k = 0;

		rc = -1;
		if (ids == NULL)
			goto next;
		for (; it && k < AUDIT_IDS_PER_ROW; it = it->next)
			for (int i = 0; i < 2; i++)
				if (keys[i] && json_str(it, keys[i])) {
					if (!cJSON_AddItemToArray(ids, cJSON_CreateString(json_str(it, keys[i]))))
						goto next;
					k++;
				}
		if (cJSON_AddNumberToObject(d, "results", total) == NULL ||
		    (detail = cJSON_PrintUnformatted(d)) == NULL)
			goto next;
		rc = case__audit(n, u, action, "participants", NULL, detail);
next:
		cJSON_free(detail);
		cJSON_Delete(d);
	} while (rc == 0 && it != NULL);
	return rc;
}

int case__participant_exists(node *n, const char *id)
{
	sqlite3_stmt *st;
	int rc;

	if (id == NULL || db_prepare(n->nd_db, &st, "SELECT 1 FROM participants WHERE id=?"
						    " AND local_area_id=?") != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->nd_local_area_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

route_rc case__path_participant(route_call *a, const char **id)
{
	int rc;

	*id = http_req_param(a->rc_req, "id");
	rc = case__participant_exists(API_NODE(a), *id);
	if (rc == 1)
		return ROUTE_OK;
	return rc == 0 || *id == NULL ? route_fail(a, 404, "id", "no such participant") : ROUTE_DBERR;
}

/* Lower-case word tokens of s, each followed by a space, after one leading
 * space (" ana maria lopez "), into out (size n). */
static void name_tokens(const char *s, char *out, size_t n)
{
	size_t k = 0;
	int in = 0;

	if (n < 3)
		return;
	out[k++] = ' ';
	for (; s && *s && k + 3 < n; s++) {
		unsigned char c = (unsigned char)*s, d = (unsigned char)s[1];
		if (c == 0xC3 && d >= 0x80 && d <= 0x9E && d != 0x97) {
			/* UTF-8 Latin-1 capitals (À..Þ but ×): their small letters */
			out[k++] = (char)c;
			out[k++] = (char)(d + 0x20);
			s++;
			in = 1;
		} else if (isalnum(c) || c >= 0x80) {
			out[k++] = (char)tolower(c);
			in = 1;
		} else if (in) {
			out[k++] = ' ';
			in = 0;
		}
	}
	if (in)
		out[k++] = ' ';
	out[k] = '\0';
}

int case__names_match(const char *visitor, const char *first, const char *last)
{
	/* a name's tokens take at most twice its bytes */
	char v[2 * JSON_TEXT_BYTES(GREETER_NAME_MAX)], want[2 * JSON_TEXT_BYTES(CASE_NAME_MAX) + 1];
	char *tok, *save = NULL;

	name_tokens(visitor, v, sizeof v);
	snprintf(want, sizeof want, "%s %s", first ? first : "", last ? last : "");
	for (tok = strtok_r(want, " \t,.-'", &save); tok; tok = strtok_r(NULL, " \t,.-'", &save)) {
		char t[2 * JSON_TEXT_BYTES(CASE_NAME_MAX)];
		name_tokens(tok, t, sizeof t);
		if (t[1] && strstr(v, t) == NULL)
			return 0;
	}
	return 1;
}
