/*
 * hub_console.c - the admin API routes the hub console needs beyond the
 * lists of hub_admin.c: the hub-wide sync status for a signed-in session,
 * one conflict with the row's value now next to its
 * base / hub / office values, resolving a conflict, one quarantined entry
 * decoded change by change next to the hub's row, and marking a quarantined
 * entry handled.
 *
 * Resolving a conflict is an ordinary edit that replicates: the chosen value
 * (the current one, or the base, hub or office value recorded in the
 * conflict) is written to the row with a fresh hub HLC, so the change-log
 * triggers send it to every office holding the row, and the conflicts row
 * gets resolved_at / resolved_by / resolution with a new updated_hlc so every
 * replica sees it resolved.  The edited row passes the same domain checks as
 * a row arriving from a node.  A quarantined entry is never re-applied from
 * here (later entries of that node have moved on): the administrator fixes
 * the data at the office or at the hub and marks the entry handled, with a
 * note saying how.  The routes are declared (hub_api.h): an operations
 * session or the bearer token, the body keys from the table, and each
 * resolution HUB_AUDITED, its audit event in the transaction of the change.
 */
#include "hub/hub_api.h"
#include "lib/buf.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "model/casework.h"
#include "model/crm.h"
#include "model/schema.h"
#include "sync/changeset.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_NOTE_MAX 1000
#define CONSOLE_BLOB_SHOWN 256 /* larger BLOB values are shown as size and SHA-256 */

/* ---- values as the conflicts table keeps them --------------------------------- */

/* Append one SQLite value to b as the JSON text sync/apply.c writes into
 * conflicts: null, 12, 1.5, "text", {"blob":"hex"}. */
static int put_json_sqlvalue(buf *b, int type, int64_t i, double d, const unsigned char *p,
			     size_t n)
{
	char num[40];
	int rc = 0;

	switch (type) {
	case SQLITE_INTEGER:
		snprintf(num, sizeof num, "%" PRId64, i);
		return buf_puts(b, num);
	case SQLITE_FLOAT:
		if (isnan(d) || isinf(d))
			return buf_puts(b, "null");
		snprintf(num, sizeof num, "%.17g", d);
		if (strpbrk(num, ".eE") == NULL)
			strcat(num, ".0");
		return buf_puts(b, num);
	case SQLITE_TEXT:
		return buf_put_json_str(b, p, n);
	case SQLITE_BLOB:
		if ((rc = buf_puts(b, "{\"blob\":\"")) == 0)
			rc = buf_put_hex(b, p, n);
		return rc ? rc : buf_puts(b, "\"}");
	default:
		return buf_puts(b, "null");
	}
}

/* Parsed JSON value text for a reply: the cJSON form of `text` (NULL text =
 * SQL NULL = JSON null; unparsable text is kept as a string). */
static cJSON *json_of_text(const char *text)
{
	cJSON *v;

	if (text == NULL)
		return cJSON_CreateNull();
	v = cJSON_Parse(text);
	return v ? v : cJSON_CreateString(text);
}

/* Bind the conflict value `text` (JSON as above) to parameter i.  0, or -1
 * with why set (a blob or a value of an unknown form). */
static int bind_json_value(sqlite3_stmt *st, int i, const char *text, const char **why)
{
	cJSON *v;
	int rc = -1;

	if (text == NULL || strcmp(text, "null") == 0)
		return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -1;
	v = cJSON_Parse(text);
	if (v == NULL) {
		*why = "the recorded value cannot be read";
		return -1;
	}
	if (cJSON_IsString(v)) {
		rc = sqlite3_bind_text(st, i, v->valuestring, -1, SQLITE_TRANSIENT) == SQLITE_OK
			 ? 0
			 : -1;
	} else if (cJSON_IsNumber(v)) {
		if (strpbrk(text, ".eE") == NULL) {
			char *end;
			long long ll;
			errno = 0;
			ll = strtoll(text, &end, 10);
			rc = errno == 0 && *end == '\0' &&
				     sqlite3_bind_int64(st, i, ll) == SQLITE_OK
				 ? 0
				 : -1;
		} else {
			rc = sqlite3_bind_double(st, i, v->valuedouble) == SQLITE_OK ? 0 : -1;
		}
	} else if (cJSON_IsNull(v)) {
		rc = sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : -1;
	} else {
		*why = "a binary value cannot be chosen here";
	}
	cJSON_Delete(v);
	return rc;
}

/* A column name of the live table (checked against PRAGMA table_info, so it
 * can be quoted into SQL).  1 when present, 0 when not, -1 error. */
static int column_exists(sqlite3 *db, const char *tbl, const char *col)
{
	sqlite3_stmt *st = NULL;
	int found = 0, rc;

	if (db_prepare(db, &st, "SELECT 1 FROM pragma_table_info(?1) WHERE name=?2") != 0)
		return -1;
	sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		found = 1;
	else if (rc != SQLITE_DONE)
		found = -1;
	sqlite3_finalize(st);
	return found;
}

/* The current row tbl/id as JSON (NULL when it does not exist); *err set on a
 * database error.  tbl must be a replicated table (checked by the caller). */
static cJSON *current_row(sqlite3 *db, const char *tbl, const char *id, int *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *row = NULL;
	int rc;

	*err = 0;
	if (db_preparef(db, &st, "SELECT * FROM \"%w\" WHERE id=?1", tbl) != 0) {
		*err = 1;
		return NULL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row = db_row_json(st);
		if (row == NULL)
			*err = 1;
	} else if (rc != SQLITE_DONE) {
		*err = 1;
	}
	sqlite3_finalize(st);
	return row;
}

/* The current value of tbl.col for id as conflict JSON text into b; *exists
 * gets whether the row exists.  0 or -1. */
static int current_value(sqlite3 *db, const char *tbl, const char *col, const char *id,
			 buf *b, int *exists)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	*exists = 0;
	if (db_preparef(db, &st, "SELECT \"%w\" FROM \"%w\" WHERE id=?1", col, tbl) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		/* The type first (out of memory makes the value NULL), then the
		 * pointer, then its length. */
		int type = sqlite3_column_type(st, 0);
		const void *p = NULL;
		size_t n = 0;

		*exists = 1;
		if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
			p = type == SQLITE_BLOB ? sqlite3_column_blob(st, 0)
						: (const void *)sqlite3_column_text(st, 0);
			n = (size_t)sqlite3_column_bytes(st, 0);
		}
		if (p == NULL && (type == SQLITE_TEXT || n > 0))
			ret = -1; /* out of memory, not the value NULL */
		else
			ret = put_json_sqlvalue(b, type, sqlite3_column_int64(st, 0),
						sqlite3_column_double(st, 0), p, n);
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

/* ---- conflicts -------------------------------------------------------------- */

/* The conflict row id as current_row() reads a row. */
static cJSON *conflict_load(sqlite3 *db, const char *id, int *err)
{
	return current_row(db, "conflicts", id, err);
}

/* Add current_value / row_exists and the three recorded values parsed, so
 * the console shows them side by side without parsing JSON-in-JSON. */
static int conflict_decorate(sqlite3 *db, cJSON *c)
{
	const char *tbl = json_str(c, "tbl"), *row = json_str(c, "row_id"),
		   *col = json_str(c, "column_name");
	buf b = BUF_INIT(4 * 1024 * 1024);
	int exists = 0, rc = 0;

	cJSON_AddItemToObject(c, "base", json_of_text(json_str(c, "base_value")));
	cJSON_AddItemToObject(c, "hub", json_of_text(json_str(c, "local_value")));
	cJSON_AddItemToObject(c, "office", json_of_text(json_str(c, "remote_value")));
	if (tbl == NULL || row == NULL || col == NULL || schema_table(tbl) == NULL) {
		cJSON_AddNullToObject(c, "current");
		cJSON_AddBoolToObject(c, "row_exists", 0);
		return 0;
	}
	if (strcmp(col, "*deleted*") == 0 || column_exists(db, tbl, col) != 1) {
		int err;
		cJSON *r = current_row(db, tbl, row, &err);
		if (err)
			return -1;
		cJSON_AddNullToObject(c, "current");
		cJSON_AddBoolToObject(c, "row_exists", r != NULL);
		cJSON_Delete(r);
		return 0;
	}
	if (current_value(db, tbl, col, row, &b, &exists) != 0)
		rc = -1;
	if (rc == 0) {
		if (exists && buf_putc(&b, '\0') == 0)
			cJSON_AddItemToObject(c, "current", json_of_text(b.data));
		else
			cJSON_AddNullToObject(c, "current");
		cJSON_AddBoolToObject(c, "row_exists", exists);
	}
	buf_release(&b);
	return rc;
}

static int edit_fields(sqlite3 *db, cJSON *c);

/* A read of one conflict or quarantined entry, which shows the data it
 * holds (a participant's address, a visitor's phone...), in the audit
 * trail: its id, table and row (hub_audit_events, in the route's
 * transaction).  0 or -1. */
static int read_audit(route_call *a, const char *action, const char *id, const char *tbl,
		      const char *row)
{
	cJSON *d = cJSON_CreateObject();
	char *detail = NULL;
	int rc = -1;

	if (d && (tbl == NULL || cJSON_AddStringToObject(d, "table", tbl)) &&
	    (row == NULL || cJSON_AddStringToObject(d, "row_id", row)) &&
	    (detail = cJSON_PrintUnformatted(d)) != NULL)
		rc = hub_api_audit(a, action, id, detail);
	cJSON_free(detail);
	cJSON_Delete(d);
	return rc;
}

static int secret_column(const char *name);

/* The whole rows of a '*deleted*' conflict (its values as the conflicts
 * table keeps them and as conflict_decorate() parsed them) without their
 * secret columns; "secrets_hidden" when there were any.  0, or -1 (out of
 * memory). */
static int hide_row_secrets(cJSON *c)
{
	static const char *const pairs[][2] = {
	    {"base_value", "base"}, {"local_value", "hub"}, {"remote_value", "office"}};
	int hidden = 0;

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		cJSON *o = cJSON_GetObjectItemCaseSensitive(c, pairs[i][1]), *it, *next;
		char *text;
		int here = 0;

		if (!cJSON_IsObject(o))
			continue;
		for (it = o->child; it != NULL; it = next) {
			next = it->next;
			if (it->string != NULL && secret_column(it->string)) {
				cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
				here = 1;
			}
		}
		if (!here)
			continue;
		hidden = 1;
		if ((text = cJSON_PrintUnformatted(o)) == NULL)
			return -1;
		/* (never left as it was: the text holds the secrets too) */
		here = cJSON_ReplaceItemInObjectCaseSensitive(c, pairs[i][0], cJSON_CreateString(text));
		cJSON_free(text);
		if (!here)
			return -1;
	}
	if (hidden)
		cJSON_AddBoolToObject(c, "secrets_hidden", 1);
	return 0;
}

static route_rc conflict_get(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *id = http_req_param(a->rc_req, "id");
	cJSON *c;
	int err;

	c = conflict_load(db, id, &err);
	if (err)
		return ROUTE_DBERR;
	if (c == NULL)
		return route_fail(a, 404, NULL, "no conflict '%s'", id);
	if (conflict_decorate(db, c) != 0 || edit_fields(db, c) != 0 ||
	    read_audit(a, "conflict.read", id, json_str(c, "tbl"), json_str(c, "row_id")) != 0) {
		cJSON_Delete(c);
		return ROUTE_DBERR;
	}
	/* an SSN column's values (encrypted, keyed hash, last four digits)
	 * are never shown, nor any secret's: keeping a side needs no reading
	 * of it */
	if (json_str(c, "column_name") && secret_column(json_str(c, "column_name"))) {
		static const char *const vals[] = {"base_value", "local_value", "remote_value",
						   "base", "hub", "office", "current"};

		for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
			if (cJSON_GetObjectItemCaseSensitive(c, vals[i]))
				cJSON_ReplaceItemInObjectCaseSensitive(c, vals[i], cJSON_CreateNull());
		cJSON_AddBoolToObject(c, "values_hidden", 1);
	}
	/* A delete met by an edit keeps the row whole (sync/apply.c,
	 * conflict_deleted): shown without its secret columns. */
	if (json_str(c, "column_name") && strcmp(json_str(c, "column_name"), "*deleted*") == 0 &&
	    hide_row_secrets(c) != 0) {
		cJSON_Delete(c);
		return ROUTE_DBERR;
	}
	{
		/* nor in the office's whole edit the conflict is part of */
		cJSON *e;

		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "edit"))
			if (json_str(e, "column_name") && strncmp(json_str(e, "column_name"), "ssn", 3) == 0 &&
			    cJSON_GetObjectItemCaseSensitive(e, "office"))
				cJSON_ReplaceItemInObjectCaseSensitive(e, "office", cJSON_CreateNull());
	}
	return route_ok(a, 200, c);
}

/* The fields of one office edit resolved together at most. */
#define CONSOLE_EDIT_MAX 64

/* One column a resolution writes: its name and the conflict value (JSON
 * text as the conflicts table keeps it). */
typedef struct kept_col {
	const char *kc_col;
	const char *kc_value;
} kept_col;

/* Write each kept value into its column of row id with a fresh HLC, after
 * the domain check of the edited row as a whole (an office's edit of
 * several fields that only hold together, a ZIP and its zip5, is checked
 * as the office made it; the rules about who may set a value, an
 * assignment, judge the columns it changes, as a push's), and the SSN key
 * check of a push (hub_keys_note_row).  0; 1 with why set (the edit is
 * refused); 2 with why set (the row's state refuses it: a closed work
 * item's field); -1 on a database error.  Runs inside the caller's
 * transaction. */
static int conflict_edit(hub *h, const char *tbl, const char *id, const kept_col *kc, int n,
			 const char *hlc_now, char *why, size_t wn)
{
	sqlite3 *db = h->hb_db;
	sqlite3_stmt *st = NULL;
	sqlite3_str *sql;
	const char *bwhy = NULL, *set[CONSOLE_EDIT_MAX];
	char *text;
	cJSON *row, *v;
	int err, has_hlc, nset = 0, rc;

	row = current_row(db, tbl, id, &err);
	if (err)
		return -1;
	if (row == NULL) {
		snprintf(why, wn, "the row no longer exists");
		return 1;
	}
	has_hlc = cJSON_GetObjectItem(row, "updated_hlc") != NULL;
	/* The columns the resolution sets, as a push would mark them: those
	 * whose kept value is not the row's. */
	for (int k = 0; k < n; k++) {
		const cJSON *now = cJSON_GetObjectItemCaseSensitive(row, kc[k].kc_col);
		int same;

		if ((v = json_of_text(kc[k].kc_value)) == NULL) {
			cJSON_Delete(row);
			return -1;
		}
		same = now != NULL && cJSON_Compare(v, now, 1);
		cJSON_Delete(v);
		if (!same)
			set[nset++] = kc[k].kc_col;
	}
	/* A closed work item is a record of work done: a value kept changes
	 * none of its columns but those an office's edit of it may still set,
	 * the hub validator's rule (which, outside a push, cannot tell the row
	 * it met: model_change_was).  The close itself is not undone either. */
	if (strcmp(tbl, "work_items") == 0 && json_str(row, "status") &&
	    strcmp(json_str(row, "status"), CRM_WI_CLOSED) == 0)
		for (int k = 0; k < nset; k++)
			if (!crm_wi_closed_may_set(set[k])) {
				snprintf(why, wn, "this work item is closed, a record of work done: its %s"
						  " is not changed (keep its current value)", set[k]);
				cJSON_Delete(row);
				return 2;
			}
	/* The edited row, as a node would send it, through the domain rules. */
	for (int k = 0; k < n; k++) {
		v = json_of_text(kc[k].kc_value);
		if (v == NULL || cJSON_IsObject(v)) {
			cJSON_Delete(v);
			cJSON_Delete(row);
			snprintf(why, wn, "a binary value cannot be chosen here");
			return 1;
		}
		cJSON_ReplaceItemInObject(row, kc[k].kc_col, v);
	}
	why[0] = '\0';
	/* (each rule that judges the whole row, a ZIP with its zip5, still
	 * does: updated_hlc is not set, so every column may have changed,
	 * model_change_may_set) ... and a participant's SSN under an older key
	 * noted, as a push's (its Local Area's re-encryption reopened), or
	 * refused under a retired one: stored, no one could read it. */
	if ((rc = sync_validate_edit(model_hub_validate_row, db, tbl, row, set, nset, why,
				     wn)) == 0)
		rc = hub_keys_note_row(db, tbl, SQLITE_UPDATE, row, why, wn);
	if (rc != 0) {
		cJSON_Delete(row);
		if (rc == MODEL_CHECK_AGAIN)
			return -1; /* not the edit's fault: a 500 */
		if (why[0] == '\0')
			snprintf(why, wn, "the edited row breaks a rule of table '%s'", tbl);
		return 1;
	}
	cJSON_Delete(row);
	/* The resolution's stamp on the columns' clocks: an office's edit
	 * older than it, still on its way, must not take a column back
	 * unseen (its base is the resolved value). */
	for (int k = 0; k < n; k++)
		if (sync_hub_clock_stamp(db, tbl, kc[k].kc_col, "id=?1", id, hlc_now) != 0)
			return -1;
	/* One UPDATE: the change log names the row once. */
	sql = sqlite3_str_new(db);
	sqlite3_str_appendf(sql, "UPDATE \"%w\" SET ", tbl);
	for (int k = 0; k < n; k++)
		sqlite3_str_appendf(sql, "%s\"%w\"=?%d", k ? ", " : "", kc[k].kc_col, k + 3);
	if (has_hlc)
		sqlite3_str_appendf(sql, ", updated_hlc=?2");
	sqlite3_str_appendf(sql, " WHERE id=?1");
	if ((text = sqlite3_str_finish(sql)) == NULL)
		return -1;
	rc = db_prepare(db, &st, text);
	sqlite3_free(text);
	if (rc != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (has_hlc)
		sqlite3_bind_text(st, 2, hlc_now, -1, SQLITE_STATIC);
	for (int k = 0; k < n; k++)
		if (bind_json_value(st, k + 3, kc[k].kc_value, &bwhy) != 0) {
			sqlite3_finalize(st);
			if (bwhy == NULL)
				return -1;
			snprintf(why, wn, "%s", bwhy);
			return 1;
		}
	err = sqlite3_step(st);
	sqlite3_finalize(st);
	if (err != SQLITE_DONE) {
		if (err == SQLITE_CONSTRAINT) {
			snprintf(why, wn, "the value breaks a constraint of table '%s'", tbl);
			return 1;
		}
		log_warnx("conflict edit of %s (%d columns) failed: %s", tbl, n, sqlite3_errstr(err));
		return -1;
	}
	return 0;
}

static const route_key resolve_keys[] = {
	{"keep", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{"note", ROUTE_T_STR, 0},
	{NULL, 0, 0},
};

/* The value of the conflict c to write back for keep (not "current"): its
 * text, or NULL after route_fail. */
static const char *kept_value(route_call *a, const cJSON *c, const char *keep, route_rc *rc)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *tbl = json_str(c, "tbl"), *col = json_str(c, "column_name"), *v;

	if (strcmp(col, "*deleted*") == 0) {
		*rc = route_fail(a, 400, "keep",
				 "the row was kept when it was edited after a "
				 "delete: keep the current row, or edit it at an office");
		return NULL;
	}
	if (schema_table(tbl) == NULL || column_exists(db, tbl, col) != 1) {
		*rc = route_fail(a, 400, "keep", "table '%s' or column '%s' no longer exists", tbl,
				 col);
		return NULL;
	}
	/* Two offices' rows that each stand (two corrections of one service,
	 * model/crm.h): an append-only row is never edited. */
	if (schema_table(tbl)->td_kind == TK_APPEND_ONLY) {
		*rc = route_fail(a, 400, "keep",
				 "rows of %s are never edited (append-only): keep the current entries "
				 "to acknowledge it, or enter a further correction at an office", tbl);
		return NULL;
	}
	v = json_str(c, strcmp(keep, "base") == 0  ? "base_value"
			: strcmp(keep, "hub") == 0 ? "local_value"
						   : "remote_value");
	return v ? v : "null";
}

/* A fresh hub HLC that beats every HLC the row and the conflicts cs (an
 * array of conflict rows, one row) have seen. */
static void resolve_hlc(hub *h, const cJSON *cs, int edit, char ts[HLC_STRLEN])
{
	static const char *const keys[] = {"local_hlc", "remote_hlc", "updated_hlc"};
	const cJSON *c;

	cJSON_ArrayForEach(c, cs) {
		for (int i = 0; i < 3; i++) {
			const char *x = json_str(c, keys[i]);
			if (x && *x)
				hlc_observe(&h->hb_hlc, x);
		}
	}
	if (edit && (c = cJSON_GetArrayItem(cs, 0)) != NULL) {
		int e2;
		cJSON *r = current_row(h->hb_db, json_str(c, "tbl"), json_str(c, "row_id"), &e2);
		const char *rh = r ? json_str(r, "updated_hlc") : NULL;
		if (rh && *rh)
			hlc_observe(&h->hb_hlc, rh);
		cJSON_Delete(r);
	}
	hlc_now(hub_clock(h), ts);
}

/*
 * The open conflicts one office edit left on c's row: the same node's
 * entry (origin_seq) on the same row, c first, as an array of conflict
 * rows (a field of the edit each; the edit of a record kept whole by a
 * rule, sync/apply.c keep_hub_row(), leaves one per field it changed).
 * Only the fields the office lost (winner 'local'): one it won holds its
 * value already, or a later write's, which keeping the edit must not
 * undo.  Only c when it has no entry seq.  NULL on a database error.
 */
static cJSON *edit_conflicts(sqlite3 *db, const cJSON *c)
{
	const cJSON *seq = cJSON_GetObjectItem(c, "origin_seq");
	cJSON *all = cJSON_CreateArray(), *one;
	sqlite3_stmt *st = NULL;
	int err = 0, rc;

	if (all == NULL || (one = cJSON_Duplicate(c, 1)) == NULL) {
		cJSON_Delete(all);
		return NULL;
	}
	cJSON_AddItemToArray(all, one);
	if (!cJSON_IsNumber(seq) || json_str(c, "node_id") == NULL)
		return all;
	if (db_prepare(db, &st,
		       "SELECT id FROM conflicts WHERE tbl=?1 AND row_id=?2 AND node_id=?3"
		       " AND origin_seq=?4 AND resolved_at IS NULL AND id<>?5 AND winner='local'"
		       " AND column_name NOT IN ('*deleted*', 'updated_hlc')"
		       " ORDER BY column_name LIMIT ?6") != 0) {
		cJSON_Delete(all);
		return NULL;
	}
	sqlite3_bind_text(st, 1, json_str(c, "tbl"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, json_str(c, "row_id"), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, json_str(c, "node_id"), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)seq->valuedouble);
	sqlite3_bind_text(st, 5, json_str(c, "id"), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, CONSOLE_EDIT_MAX - 1);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		one = conflict_load(db, (const char *)sqlite3_column_text(st, 0), &err);
		if (one)
			cJSON_AddItemToArray(all, one);
	}
	if (err || rc != SQLITE_DONE) {
		cJSON_Delete(all);
		all = NULL;
	}
	sqlite3_finalize(st);
	return all;
}

/* Mark the conflict resolved by the caller (replicated: a new updated_hlc).
 * 0 or -1. */
static int conflict_mark(route_call *a, const char *id, const char *keep, const char *value_text,
			 const char *note, const char *ts)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	cJSON *res = cJSON_CreateObject();
	char *rtext = NULL;
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_ERROR;

	if (res == NULL || cJSON_AddStringToObject(res, "kept", keep) == NULL ||
	    (value_text && !cJSON_AddItemToObject(res, "value", json_of_text(value_text))) ||
	    (note && *note && cJSON_AddStringToObject(res, "note", note) == NULL) ||
	    (rtext = cJSON_PrintUnformatted(res)) == NULL ||
	    db_prepare(db, &st,
		       "UPDATE conflicts SET resolved_at=?1, resolved_by=?2, "
		       "resolution=?3, updated_hlc=?4 WHERE id=?5 AND resolved_at IS NULL") != 0)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)hub_now_ms());
	sqlite3_bind_text(st, 2, a->rc_actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rtext, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE && sqlite3_changes(db) != 1)
		rc = SQLITE_ERROR;
out:
	sqlite3_finalize(st);
	free(rtext);
	cJSON_Delete(res);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* {k1: v1, k2: v2} as JSON text (caller frees), or NULL: the detail of an
 * audit row (a resolved conflict, a handled quarantined entry). */
static char *two_strings(const char *k1, const char *v1, const char *k2, const char *v2)
{
	cJSON *d = cJSON_CreateObject();
	char *t = NULL;

	if (d && cJSON_AddStringToObject(d, k1, v1) && cJSON_AddStringToObject(d, k2, v2))
		t = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return t;
}

/* An open conflict's "edit": the fields of the office's edit still in
 * conflict with it, [{id, column_name, office}], c's first, when there are
 * two or more (the console then offers to keep them together).  0 or -1. */
static int edit_fields(sqlite3 *db, cJSON *c)
{
	cJSON *cs, *out, *s;

	if (!cJSON_IsNull(cJSON_GetObjectItem(c, "resolved_at")))
		return 0;
	if ((cs = edit_conflicts(db, c)) == NULL)
		return -1;
	if (cJSON_GetArraySize(cs) < 2) {
		cJSON_Delete(cs);
		return 0;
	}
	if ((out = cJSON_AddArrayToObject(c, "edit")) == NULL) {
		cJSON_Delete(cs);
		return -1;
	}
	cJSON_ArrayForEach(s, cs) {
		cJSON *f = cJSON_CreateObject();
		if (f == NULL || !cJSON_AddItemToArray(out, f) ||
		    cJSON_AddStringToObject(f, "id", json_str(s, "id")) == NULL ||
		    cJSON_AddStringToObject(f, "column_name", json_str(s, "column_name")) == NULL ||
		    !cJSON_AddItemToObject(f, "office", json_of_text(json_str(s, "remote_value")))) {
			cJSON_Delete(cs);
			return -1;
		}
	}
	cJSON_Delete(cs);
	return 0;
}

/* The audit detail of a resolution: {"table", "kept"} and, for an office's
 * edit kept whole, "conflicts": how many it resolved and "ids" the others
 * than the one named (cs: the conflicts resolved; caller frees). */
static char *resolve_detail(const char *tbl, const char *keep, const cJSON *cs)
{
	cJSON *d = cJSON_CreateObject(), *ids = NULL;
	const cJSON *s;
	char *t = NULL;
	int n = cJSON_GetArraySize(cs), ok = 1;

	if (n > 1 && (ids = cJSON_CreateArray()) != NULL)
		cJSON_ArrayForEach(s, cs)
			if (s != cs->child)
				ok &= cJSON_AddItemToArray(ids, cJSON_CreateString(json_str(s, "id")));
	if (d && ok && (n < 2 || ids) && cJSON_AddStringToObject(d, "table", tbl) &&
	    cJSON_AddStringToObject(d, "kept", keep) &&
	    (n < 2 || (cJSON_AddNumberToObject(d, "conflicts", n) &&
		       cJSON_AddItemToObject(d, "ids", ids)))) {
		ids = NULL;
		t = cJSON_PrintUnformatted(d);
	}
	cJSON_Delete(ids);
	cJSON_Delete(d);
	return t;
}

/*
 * keep: current (the row stays), base, hub or office (that value of this
 * field), or office_edit: the office's values of every field its edit
 * changed that is still in conflict (edit_conflicts()), written together
 * and checked as one row - an edit whose fields only hold together (a ZIP
 * and its zip5, a lead's conversion) cannot be kept one field at a time,
 * each field then breaking a rule alone.  Each of those conflicts is
 * resolved with it.
 */
static route_rc conflict_resolve(route_call *a)
{
	hub *h = API_HUB(a);
	const char *id = http_req_param(a->rc_req, "id");
	const char *keep = NULL, *note = NULL, *tbl;
	char note_buf[JSON_TEXT_BYTES(CONSOLE_NOTE_MAX)], why[256], ts[HLC_STRLEN], *detail;
	kept_col kc[CONSOLE_EDIT_MAX];
	cJSON *c, *cs = NULL, *s;
	route_rc ret = ROUTE_DBERR;
	int err, rc, n = 0, whole;

	if ((route_str(a, "keep", JSON_REQUIRED, 1, 16, &keep, NULL, 0) |
	     route_str(a, "note", JSON_OPTIONAL, 0, CONSOLE_NOTE_MAX, &note, note_buf,
		       sizeof note_buf)) != 0)
		return ROUTE_BAD;
	if (strcmp(keep, "current") != 0 && strcmp(keep, "base") != 0 &&
	    strcmp(keep, "hub") != 0 && strcmp(keep, "office") != 0 &&
	    strcmp(keep, "office_edit") != 0)
		return route_bad(a, "keep",
				 "keep must be one of current, base, hub, office, office_edit");
	whole = strcmp(keep, "office_edit") == 0;
	c = conflict_load(h->hb_db, id, &err);
	if (err)
		return ROUTE_DBERR;
	if (c == NULL)
		return route_fail(a, 404, NULL, "no conflict '%s'", id);
	if (!cJSON_IsNull(cJSON_GetObjectItem(c, "resolved_at"))) {
		ret = route_fail(a, 409, NULL, "this conflict was already resolved");
		goto out;
	}
	tbl = json_str(c, "tbl");
	if (tbl == NULL || json_str(c, "column_name") == NULL || json_str(c, "row_id") == NULL)
		goto out;
	if ((cs = whole ? edit_conflicts(h->hb_db, c) : cJSON_CreateArray()) == NULL)
		goto out;
	if (!whole && cJSON_AddItemReferenceToArray(cs, c) == 0)
		goto out;
	if (strcmp(keep, "current") != 0)
		cJSON_ArrayForEach(s, cs) {
			kc[n].kc_col = json_str(s, "column_name");
			if ((kc[n].kc_value = kept_value(a, s, whole ? "office" : keep, &ret)) == NULL)
				goto out;
			n++;
		}
	resolve_hlc(h, cs, n > 0, ts);
	if (n > 0) {
		rc = conflict_edit(h, tbl, json_str(c, "row_id"), kc, n, ts, why, sizeof why);
		if (rc != 0) {
			if (rc > 0)
				ret = route_fail(a, rc == 2 ? 409 : 422, "keep", "%s", why);
			goto out;
		}
	}
	n = 0;
	cJSON_ArrayForEach(s, cs) {
		const char *v = strcmp(keep, "current") == 0 ? NULL : kc[n].kc_value;
		if (conflict_mark(a, json_str(s, "id"), keep, v, note, ts) != 0)
			goto out;
		n++;
	}
	if ((detail = resolve_detail(tbl, keep, cs)) == NULL)
		goto out;
	rc = hub_api_audit(a, "conflict_resolve", id, detail);
	free(detail);
	if (rc != 0)
		goto out;
	log_info("conflict %s on %s resolved (kept %s%s)", id, tbl, keep,
		 n > 1 ? ", with the rest of the office's edit" : "");
	cJSON_Delete(c);
	c = conflict_load(h->hb_db, id, &err);
	if (c == NULL || conflict_decorate(h->hb_db, c) != 0)
		goto out;
	ret = route_ok(a, 200, c);
	c = NULL;
out:
	cJSON_Delete(cs);
	cJSON_Delete(c);
	return ret;
}

/* ---- quarantine ------------------------------------------------------------- */

static cJSON *cs_value_json(const cs_value *v)
{
	buf b = BUF_INIT(4 * 1024 * 1024);
	cJSON *o = NULL;

	switch (v->cv_type) {
	case CSV_UNDEFINED:
		return NULL;
	case CSV_NULL:
		return cJSON_CreateNull();
	case CSV_INTEGER:
		return cJSON_CreateNumber((double)v->cv_int);
	case CSV_FLOAT:
		return cJSON_CreateNumber(v->cv_real);
	case CSV_TEXT: {
		char *s = malloc(v->cv_n + 1);
		if (s == NULL)
			return NULL;
		memcpy(s, v->cv_p, v->cv_n);
		s[v->cv_n] = '\0';
		o = cJSON_CreateString(s);
		free(s);
		return o;
	}
	default:
		if (v->cv_n > CONSOLE_BLOB_SHOWN) {
			/* A file (an attachment): its size and hash, not megabytes of hex. */
			unsigned char dg[CRYPTO_SHA256_LEN];
			char hex[2 * CRYPTO_SHA256_LEN + 1];
			if (crypto_sha256(v->cv_p, v->cv_n, dg) != 0 || (o = cJSON_CreateObject()) == NULL)
				return NULL;
			crypto_hex(dg, sizeof dg, hex);
			cJSON_AddNumberToObject(o, "blob_bytes", (double)v->cv_n);
			cJSON_AddStringToObject(o, "sha256", hex);
			return o;
		}
		if (put_json_sqlvalue(&b, SQLITE_BLOB, 0, 0, v->cv_p, v->cv_n) == 0 &&
		    buf_putc(&b, '\0') == 0)
			o = cJSON_Parse(b.data);
		buf_release(&b);
		return o;
	}
}

/* Column names of a replicated table, in table order, when it has ncol
 * columns; NULL otherwise (the changeset is then shown by position). */
static cJSON *table_columns(sqlite3 *db, const char *tbl, int ncol)
{
	sqlite3_stmt *st = NULL;
	cJSON *a;

	if (schema_table(tbl) == NULL ||
	    db_prepare(db, &st, "SELECT name FROM pragma_table_info(?1) ORDER BY cid") != 0)
		return NULL;
	sqlite3_bind_text(st, 1, tbl, -1, SQLITE_STATIC);
	a = cJSON_CreateArray();
	while (a && sqlite3_step(st) == SQLITE_ROW)
		cJSON_AddItemToArray(a,
				     cJSON_CreateString((const char *)sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	if (a && cJSON_GetArraySize(a) != ncol) {
		cJSON_Delete(a);
		a = NULL;
	}
	return a;
}

/* Decode a quarantined changeset into an array of changes:
 * {table, op, row_id, columns:[{name, old, new, hub}], hub_row_exists}.
 * A changeset that does not parse gives {"error": why} as its last item. */
/* A column whose value is a secret or stands for one - an SSN (encrypted,
 * its keyed hash, its last four digits), a password hash or its digest, a
 * verifier or proof of a password, a node secret, a key: never shown in
 * the console, neither as an office sent it nor as the hub has it. */
static int secret_column(const char *name)
{
	static const char *const parts[] = {"hash", "secret", "verifier", "proof", "password",
					    "token", "key_hex", NULL};

	if (strncmp(name, "ssn", 3) == 0)
		return 1;
	for (int i = 0; parts[i]; i++)
		if (strstr(name, parts[i]) != NULL)
			return 1;
	return 0;
}

static cJSON *decode_changeset(sqlite3 *db, const void *p, size_t n)
{
	cs_iter it;
	const char *err = NULL;
	cJSON *out = cJSON_CreateArray();
	int r, count = 0;

	if (out == NULL)
		return NULL;
	changeset_iter_init(&it, p, n);
	while ((r = changeset_next(&it, &err)) == 1 && count < 200) {
		cJSON *ch = cJSON_CreateObject(), *cols = cJSON_CreateArray(), *names,
		      *hubrow = NULL;
		char tbl[128];
		const char *id = NULL;
		char idbuf[128];
		int e = 0;

		if (ch == NULL || cols == NULL) {
			cJSON_Delete(ch);
			cJSON_Delete(cols);
			break;
		}
		snprintf(tbl, sizeof tbl, "%s", it.ci_table);
		cJSON_AddStringToObject(ch, "table", tbl);
		cJSON_AddStringToObject(ch, "op", it.ci_op == SQLITE_INSERT   ? "insert"
						  : it.ci_op == SQLITE_UPDATE ? "update"
									      : "delete");
		names = table_columns(db, tbl, it.ci_ncol);
		for (int i = 0; i < it.ci_ncol; i++) {
			const cs_value *kv = it.ci_op == SQLITE_INSERT ? &it.ci_new[i]
								       : &it.ci_old[i];
			cJSON *nm = names ? cJSON_GetArrayItem(names, i) : NULL;
			if (nm && strcmp(nm->valuestring, "id") == 0 && kv->cv_type == CSV_TEXT &&
			    kv->cv_n < sizeof idbuf) {
				memcpy(idbuf, kv->cv_p, kv->cv_n);
				idbuf[kv->cv_n] = '\0';
				id = idbuf;
			}
		}
		if (id && names)
			hubrow = current_row(db, tbl, id, &e);
		json_add_str_or_null(ch, "row_id", id);
		cJSON_AddBoolToObject(ch, "hub_row_exists", hubrow != NULL);
		for (int i = 0; i < it.ci_ncol; i++) {
			cJSON *col = cJSON_CreateObject(), *v;
			cJSON *nm = names ? cJSON_GetArrayItem(names, i) : NULL;
			char pos[16];
			if (col == NULL)
				break;
			snprintf(pos, sizeof pos, "#%d", i + 1);
			cJSON_AddStringToObject(col, "name", nm ? nm->valuestring : pos);
			/* never shown, whoever reads the entry */
			if (nm && secret_column(nm->valuestring)) {
				cJSON_AddStringToObject(col, "hidden",
							strncmp(nm->valuestring, "ssn", 3) == 0
								? "an SSN is never shown"
								: "a secret is never shown");
				cJSON_AddItemToArray(cols, col);
				continue;
			}
			if (it.ci_op != SQLITE_INSERT && (v = cs_value_json(&it.ci_old[i])))
				cJSON_AddItemToObject(col, "old", v);
			if (it.ci_op != SQLITE_DELETE && (v = cs_value_json(&it.ci_new[i])))
				cJSON_AddItemToObject(col, "new", v);
			if (hubrow && nm) {
				cJSON *hv = cJSON_GetObjectItem(hubrow, nm->valuestring);
				if (hv)
					cJSON_AddItemToObject(col, "hub",
							      cJSON_Duplicate(hv, 1));
			}
			cJSON_AddItemToArray(cols, col);
		}
		cJSON_AddItemToObject(ch, "columns", cols);
		cJSON_AddItemToArray(out, ch);
		cJSON_Delete(names);
		cJSON_Delete(hubrow);
		count++;
	}
	if (r < 0) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "error", err ? err : "malformed changeset");
		cJSON_AddItemToArray(out, e);
	}
	changeset_iter_release(&it);
	return out;
}

/* quarantine.read of entry id, with the rows its changes name (table and
 * row id each): whose data the reader saw, as conflict.read says it. */
static int quarantine_audit(route_call *a, const char *id, const cJSON *changes)
{
	cJSON *d = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(d, "rows"), *ch;
	char *detail = NULL;
	int rc = -1;

	if (d == NULL || rows == NULL)
		goto out;
	cJSON_ArrayForEach(ch, changes)
	{
		const char *tbl = json_str(ch, "table"), *row = json_str(ch, "row_id");
		cJSON *r;

		if (tbl == NULL)
			continue;
		if ((r = cJSON_CreateObject()) == NULL || !cJSON_AddStringToObject(r, "table", tbl) ||
		    (row && !cJSON_AddStringToObject(r, "row_id", row))) {
			cJSON_Delete(r);
			goto out;
		}
		cJSON_AddItemToArray(rows, r);
	}
	if ((detail = cJSON_PrintUnformatted(d)) != NULL)
		rc = hub_api_audit(a, "quarantine.read", id, detail);
out:
	cJSON_free(detail);
	cJSON_Delete(d);
	return rc;
}

static route_rc quarantine_get(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *id = http_req_param(a->rc_req, "id");
	sqlite3_stmt *st = NULL;
	cJSON *o = NULL, *changes;
	int rc, ci = -1;

	if (db_prepare_bound(db, &st,
			     "SELECT q.*, n.office_id, n.name AS node_name FROM quarantine q"
			     " LEFT JOIN nodes n ON n.id=q.node_id WHERE q.id=?1", "t", id) != 0)
		return ROUTE_DBERR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return route_fail(a, 404, NULL, "no quarantined entry '%s'", id);
	}
	if (rc != SQLITE_ROW || (o = db_row_json(st)) == NULL) {
		sqlite3_finalize(st);
		return ROUTE_DBERR;
	}
	for (int i = 0; i < sqlite3_column_count(st); i++)
		if (strcmp(sqlite3_column_name(st, i), "changeset") == 0)
			ci = i;
	if (ci >= 0 && sqlite3_column_type(st, ci) == SQLITE_BLOB) {
		const void *cs = sqlite3_column_blob(st, ci);
		int ncs = sqlite3_column_bytes(st, ci);

		if (cs == NULL && ncs > 0) { /* out of memory */
			sqlite3_finalize(st);
			cJSON_Delete(o);
			return ROUTE_DBERR;
		}
		changes = decode_changeset(db, cs, (size_t)ncs);
		cJSON_AddItemToObject(o, "changes", changes ? changes : cJSON_CreateArray());
		cJSON_AddNumberToObject(o, "changeset_bytes", ncs);
	} else {
		cJSON_AddItemToObject(o, "changes", cJSON_CreateArray());
		cJSON_AddNumberToObject(o, "changeset_bytes", 0);
	}
	sqlite3_finalize(st);
	if (quarantine_audit(a, id, cJSON_GetObjectItem(o, "changes")) != 0) {
		cJSON_Delete(o);
		return ROUTE_DBERR;
	}
	return route_ok(a, 200, o);
}

static const route_key quarantine_keys[] = {
	{"note", ROUTE_T_STR, 0},
	{NULL, 0, 0},
};

static route_rc quarantine_resolve(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const char *id = http_req_param(a->rc_req, "id"), *note = NULL;
	char note_buf[JSON_TEXT_BYTES(CONSOLE_NOTE_MAX)], *t = NULL;
	sqlite3_stmt *st = NULL;
	json_err je;
	cJSON *o;
	int rc, handled;

	if (json_get_str(a->rc_body, "note", JSON_REQUIRED, 3, CONSOLE_NOTE_MAX, &note, note_buf,
			 sizeof note_buf, &je) != 0)
		return route_bad(a, "note", "say in a few words how the entry was handled");
	if (db_prepare(db, &st, "SELECT resolved_at IS NOT NULL FROM quarantine WHERE id=?1") != 0)
		return ROUTE_DBERR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	handled = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return route_fail(a, 404, NULL, "no quarantined entry '%s'", id);
	if (rc != SQLITE_ROW)
		return ROUTE_DBERR;
	if (handled)
		return route_fail(a, 409, NULL, "this entry was already marked handled");
	if ((t = two_strings("by", a->rc_actor, "note", note)) == NULL ||
	    db_prepare(db, &st, "UPDATE quarantine SET resolved_at=?1, resolution=?2 WHERE id=?3") != 0) {
		free(t);
		return ROUTE_DBERR;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)hub_now_ms());
	sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	handled = sqlite3_changes(db);
	sqlite3_finalize(st);
	free(t);
	if (rc != SQLITE_DONE || handled != 1 ||
	    hub_api_audit(a, "quarantine_resolve", id, NULL) != 0 ||
	    (o = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddBoolToObject(o, "resolved", 1);
	return route_ok(a, 200, o);
}

/* The hub-wide sync status for a signed-in console: the answer of
 * GET /api/v1/sync/status without node headers, with the same
 * authorization (the token or an operations session). */
static route_rc console_status(route_call *a)
{
	cJSON *o = hub_sync_status_json(API_HUB(a));

	return o ? route_ok(a, 200, o) : ROUTE_DBERR;
}

static const route_def console_defs[] = {
	{HTTP_M_GET, "/api/v1/console/status", console_status, HUB_P_OPS, 0, NULL, 0},
	/* audited reads (conflict.read, quarantine.read): the data they show */
	{HTTP_M_GET, "/api/v1/conflicts/:id", conflict_get, HUB_P_OPS, HUB_AUDITED, NULL, 0},
	{HTTP_M_POST, "/api/v1/conflicts/:id/resolve", conflict_resolve, HUB_P_OPS,
	 ROUTE_BODY | HUB_AUDITED, resolve_keys, 0},
	{HTTP_M_GET, "/api/v1/quarantine/:id", quarantine_get, HUB_P_OPS, HUB_AUDITED, NULL, 0},
	{HTTP_M_POST, "/api/v1/quarantine/:id/resolve", quarantine_resolve, HUB_P_OPS,
	 ROUTE_BODY | HUB_AUDITED, quarantine_keys, 0},
};
const route_list hub_console_route_list = ROUTE_LIST(console_defs);
