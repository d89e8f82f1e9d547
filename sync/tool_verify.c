/*
 * tool_verify.c - `outpost-sync verify` (is this node provably equal to the
 * hub's view of its scope? per-table row counts and digests, sync/digest.c,
 * compared with GET /api/v1/sync/digest) and `outpost-sync conflicts` (the
 * merge conflicts the hub recorded in this office's scope).
 */
#include "sync/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const cJSON *tables_of(const cJSON *d)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "tables");

	return cJSON_IsObject(t) ? t : NULL;
}

static const char *dg(const cJSON *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "digest");

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int cnt(const cJSON *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "count");

	return cJSON_IsNumber(v) ? (int)v->valuedouble : -1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* tool_open(), then GET path at the hub into *out, the contact recorded.
 * 0, or an exit code (message printed; nothing left open). */
static int open_get(tool *t, sync_client **c, sqlite3 **db, const char *path, cJSON **out)
{
	int ex = tool_open(t, c, db), rc;

	if (ex != 0)
		return ex;
	rc = sync_client_get_json(*c, path, out);
	sync_client_record(*c, *db, rc == 0 ? NULL : (*c)->sc_error);
	if (rc == 0)
		return 0;
	ex = tool_fail(t, rc, (*c)->sc_error);
	cJSON_Delete(*out);
	*out = NULL;
	db_close(*db);
	sync_client_free(*c);
	return ex;
}

int cmd_verify(tool *t)
{
	sync_client *c;
	sqlite3 *db;
	cJSON *hub = NULL, *mine = NULL, *out = NULL, *rows;
	const cJSON *ht, *mt, *e;
	const char **names = NULL;
	int n = 0, cap, ex, mismatches = 0;
	int64_t pending;

	ex = open_get(t, &c, &db, "/api/v1/sync/digest", &hub);
	if (ex != 0)
		return ex;
	mine = sync_digest(db, NULL);
	ht = tables_of(hub);
	mt = tables_of(mine);
	if (ht == NULL || mt == NULL) {
		ex = tool_fail(t, SYNC_E_OTHER, mt == NULL ? "cannot compute the local digests"
							   : "the hub's digest reply is malformed");
		goto done;
	}
	pending = db_int(db, "SELECT count(*) FROM outbox", 0);
	cap = cJSON_GetArraySize(ht) + cJSON_GetArraySize(mt);
	names = calloc((size_t)cap + 1, sizeof *names);
	if (names == NULL) {
		ex = tool_fail(t, SYNC_E_OTHER, "out of memory");
		goto done;
	}
	cJSON_ArrayForEach(e, ht) names[n++] = e->string;
	cJSON_ArrayForEach(e, mt) if (!cJSON_HasObjectItem(ht, e->string)) names[n++] = e->string;
	qsort(names, (size_t)n, sizeof *names, cmp_name);
	out = cJSON_CreateObject();
	rows = cJSON_AddArrayToObject(out, "tables");
	if (!t->t_json)
		printf("%-28s %10s %10s  %s\n", "table", "local", "hub", "result");
	for (int i = 0; i < n; i++) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(ht, names[i]);
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(mt, names[i]);
		int match = h && m && cnt(h) == cnt(m) && strcmp(dg(h), dg(m)) == 0;
		cJSON *r = cJSON_CreateObject();

		mismatches += !match;
		cJSON_AddStringToObject(r, "table", names[i]);
		cJSON_AddNumberToObject(r, "local_count", m ? cnt(m) : -1);
		cJSON_AddNumberToObject(r, "hub_count", h ? cnt(h) : -1);
		cJSON_AddStringToObject(r, "local_digest", m ? dg(m) : "");
		cJSON_AddStringToObject(r, "hub_digest", h ? dg(h) : "");
		cJSON_AddBoolToObject(r, "match", match);
		cJSON_AddItemToArray(rows, r);
		if (!t->t_json)
			printf("%-28s %10d %10d  %s\n", names[i], m ? cnt(m) : -1, h ? cnt(h) : -1,
			       match ? "match" : !h ? "MISMATCH (not at the hub)"
					  : !m ? "MISMATCH (not on this node)"
					       : "MISMATCH");
	}
	cJSON_AddBoolToObject(out, "ok", mismatches == 0);
	cJSON_AddBoolToObject(out, "match", mismatches == 0);
	cJSON_AddNumberToObject(out, "mismatched_tables", mismatches);
	cJSON_AddNumberToObject(out, "pending", (double)pending);
	if (mismatches) { /* a failure, as every command's (README, exit codes) */
		char msg[160];
		snprintf(msg, sizeof msg, "verify: %d table%s from the hub's", mismatches,
			 mismatches == 1 ? " differs" : "s differ");
		cJSON_AddStringToObject(out, "error", "mismatch");
		cJSON_AddStringToObject(out, "message", msg);
		cJSON_AddNumberToObject(out, "exit_code", EXIT_TOOL_MISMATCH);
	}
	if (t->t_json) {
		tool_print_json(out);
		out = NULL;
	} else if (mismatches == 0) {
		printf("in sync: %d table%s match the hub\n", n, n == 1 ? "" : "s");
	} else {
		printf("%d of %d table%s differ from the hub%s\n", mismatches, n, n == 1 ? "" : "s",
		       pending > 0 ? " (local changes are pending: push, pull, then verify again)"
				   : " (pull, then verify again; if it persists, report it)");
	}
	if (mismatches)
		fprintf(stderr, "outpost-sync: verify: %d table%s from the hub's\n", mismatches,
			mismatches == 1 ? " differs" : "s differ");
	ex = mismatches ? EXIT_TOOL_MISMATCH : EXIT_TOOL_OK;
done:
	free(names);
	cJSON_Delete(out);
	cJSON_Delete(hub);
	cJSON_Delete(mine);
	db_close(db);
	sync_client_free(c);
	return ex;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int cmd_conflicts(tool *t)
{
	sync_client *c;
	sqlite3 *db;
	cJSON *rows = NULL;
	const cJSON *r;
	int ex, n, open = 0;

	ex = open_get(t, &c, &db, "/api/v1/sync/conflicts", &rows);
	if (ex != 0)
		return ex;
	if (!cJSON_IsArray(rows)) {
		ex = tool_fail(t, SYNC_E_OTHER, "the hub's conflicts reply is malformed");
		goto done;
	}
	n = cJSON_GetArraySize(rows);
	cJSON_ArrayForEach(r, rows) open +=
		cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "resolved_at")) ||
		!cJSON_HasObjectItem(r, "resolved_at");
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddNumberToObject(o, "count", n);
		cJSON_AddNumberToObject(o, "open", open);
		cJSON_AddItemToObject(o, "conflicts", rows);
		rows = NULL;
		tool_print_json(o);
	} else if (n == 0) {
		printf("no conflicts in this office's scope\n");
	} else {
		printf("%d conflict%s (%d open), newest first:\n", n, n == 1 ? "" : "s", open);
		cJSON_ArrayForEach(r, rows)
		{
			double at = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(r, "created_at"));
			time_t s = (time_t)(at / 1000);
			struct tm tm;
			char ts[32] = "";
			int remote = strcmp(str(r, "winner"), "remote") == 0;
			if (at > 0) {
				localtime_r(&s, &tm);
				strftime(ts, sizeof ts, "%Y-%m-%d %H:%M", &tm);
			}
			/* Values are JSON text: "called", 3, null. */
			printf("%s  %s %s  column %s%s\n"
			       "    base %s; hub had %s; node %s wrote %s; kept %s (%s)\n",
			       ts, str(r, "tbl"), str(r, "row_id"), str(r, "column_name"),
			       cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "resolved_at"))
				       ? "  (resolved)"
				       : "",
			       *str(r, "base_value") ? str(r, "base_value") : "null",
			       *str(r, "local_value") ? str(r, "local_value") : "null",
			       str(r, "node_id"),
			       *str(r, "remote_value") ? str(r, "remote_value") : "null",
			       remote ? (*str(r, "remote_value") ? str(r, "remote_value") : "null")
				      : (*str(r, "local_value") ? str(r, "local_value") : "null"),
			       remote ? "the node's value" : "the hub's value");
			if (*str(r, "reason"))
				printf("    why: %s\n", str(r, "reason"));
		}
	}
	ex = EXIT_TOOL_OK;
done:
	cJSON_Delete(rows);
	db_close(db);
	sync_client_free(c);
	return ex;
}
