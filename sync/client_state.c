/*
 * client_state.c - the node-local bookkeeping of sync in node.db: the
 * nodesync tables (sync_state, sync_quarantine), adopting an identity, the
 * status and lag figures, and what the last contact taught.
 */
#include "sync/client_int.h"
#include "lib/log.h"
#include "model/schema.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


static const db_migration nodesync_migrations[] = {
	/* IF NOT EXISTS: the node and the command may migrate at the same time. */
	{"CREATE TABLE IF NOT EXISTS sync_state(key TEXT PRIMARY KEY NOT NULL, value TEXT);"
	 "CREATE TABLE IF NOT EXISTS sync_quarantine("
	 " seq INTEGER PRIMARY KEY NOT NULL,"
	 " reason TEXT NOT NULL,"
	 " at INTEGER NOT NULL);"},
	/* changes a pull set aside because the node cannot take them (sync/pull.c) */
	{"CREATE TABLE IF NOT EXISTS pull_set_aside(id INTEGER PRIMARY KEY,"
	 " tbl TEXT NOT NULL, change BLOB NOT NULL, why TEXT NOT NULL, at INTEGER NOT NULL);"},
};

int sync_client_migrate(sqlite3 *db)
{
	return DB_MIGRATE_ALL(db, "nodesync", nodesync_migrations) != 0 || sync__sent_migrate(db) != 0
		       ? -1
		       : 0;
}

int sync_client_adopt(sqlite3 *db, const sync_identity *id, int *changed)
{
	char cur[80], v[80], la[80];
	int64_t base = 0, minseq;
	int rc, was_enrolled;

	if (changed)
		*changed = 0;
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return SYNC_E_OTHER;
	rc = db_kv_get(db, "sync_state", "enrolled_node_id", cur, sizeof cur);
	if (rc < 0)
		goto fail;
	if (rc == DB_FOUND && strcmp(cur, id->id_node_id) == 0) {
		/* Known identity; only repair node_meta if someone changed it. */
		const char *keys[] = {"node_id", "office_id", "local_area_id"};
		const char *vals[] = {id->id_node_id, id->id_office_id, id->id_local_area_id};
		for (int i = 0; i < 3; i++) {
			if (db_kv_get(db, "node_meta", keys[i], v, sizeof v) < 0)
				goto fail;
			if (strcmp(v, vals[i]) != 0) {
				if (db_kv_set(db, "node_meta", keys[i], vals[i]) != 0)
					goto fail;
				if (changed)
					*changed = 1;
			}
		}
		if (db_exec(db, "COMMIT") != 0)
			goto fail;
		return 0;
	}
	was_enrolled = rc == DB_FOUND && cur[0] != '\0';
	/* A new identity: pending entries become wire seqs 1, 2, ... and are
	 * sent under it (restamp.c): the one it replaces is kept.  What a
	 * stand-alone node wrote takes the office it is enrolled for; what an
	 * enrolled node wrote for its office stays that office's (enrolled
	 * again for another office, those entries are not moved into it: the
	 * hub holds them for review as another office's, never files them
	 * under the new one), only the node id is the new one's. */
	{
		static const char *const cur_k[] = {"node_id", "office_id", "local_area_id"};
		static const char *const prev_k[] = {"prev_node_id", "prev_office_id", "prev_la_id"};
		for (int i = 0; i < 3; i++) {
			if (i > 0 && was_enrolled) {
				if (db_kv_set(db, "sync_state", prev_k[i], NULL) != 0)
					goto fail;
				continue;
			}
			if (db_kv_get(db, "node_meta", cur_k[i], v, sizeof v) < 0 ||
			    (v[0] && db_kv_set(db, "sync_state", prev_k[i], v) != 0))
				goto fail;
		}
		if (db_kv_get(db, "node_meta", "office_id", v, sizeof v) < 0 ||
		    db_kv_get(db, "node_meta", "local_area_id", la, sizeof la) < 0)
			goto fail;
		if (was_enrolled && v[0] && strcmp(v, id->id_office_id) != 0 &&
		    db_int(db, "SELECT count(*) FROM outbox", 0) > 0)
			log_warnx("enrolled for office '%s' with changes of office '%s' still waiting:"
				  " they are sent as that office's, and the hub holds them for review",
				  id->id_office_id, v);
	}
	/* Enrolled again for the same office after the hub said it knew this
	 * node no more (restored from a backup older than the enrollment; the
	 * README says to enroll again): what it acknowledged under the old
	 * identity is gone with it, so the sent log (resend_days) goes out
	 * again under the new one, and the snapshot that follows keeps those
	 * rows.  (Not on any other enrollment: a hub that still has the rows
	 * would hold the old node's audit rows, resent as the new node's, for
	 * review.) */
	if ((rc = db_kv_get(db, "sync_state", "hub_forgot", cur, sizeof cur)) < 0 ||
	    db_kv_set(db, "sync_state", "hub_forgot", NULL) != 0)
		goto fail;
	if (rc == DB_FOUND && was_enrolled && strcmp(v, id->id_office_id) == 0 &&
	    strcmp(la, id->id_local_area_id) == 0 && (rc = db_table_exists(db, "outbox_sent")) != 0) {
		if (rc < 0 || db_exec(db, "INSERT OR IGNORE INTO outbox(seq, hlc, actor, created_at,"
					  " schema_version, nbytes, changeset) SELECT seq, hlc, actor,"
					  " created_at, schema_version, nbytes, changeset FROM outbox_sent") != 0)
			goto fail;
		if (sqlite3_changes(db) > 0)
			log_info("enrolled again for office '%s': the %d changes the hub acknowledged"
				 " in the last resend_days are sent again", id->id_office_id,
				 sqlite3_changes(db));
	}
	minseq = db_int(db, "SELECT coalesce(min(seq), 0) FROM outbox", -1);
	if (minseq < 0)
		goto fail;
	if (minseq > 0) {
		base = minseq - 1;
	} else {
		rc = db_table_exists(db, "sqlite_sequence");
		if (rc < 0)
			goto fail;
		if (rc)
			base = db_int(db,
				      "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE "
				      "name='outbox'), 0)",
				      -1);
		if (base < 0)
			goto fail;
	}
	if (db_kv_set_i64(db, "sync_state", "seq_base", base) != 0 ||
	    db_kv_set(db, "sync_state", "enrolled_node_id", id->id_node_id) != 0 ||
	    db_kv_set(db, "sync_state", "acked_seq", NULL) != 0 ||
	    db_kv_set(db, "sync_state", "head_seq", NULL) != 0 ||
	    db_kv_set(db, "sync_state", "last_error", NULL) != 0 ||
	    db_kv_set(db, "node_meta", "node_id", id->id_node_id) != 0 ||
	    db_kv_set(db, "node_meta", "office_id", id->id_office_id) != 0 ||
	    db_kv_set(db, "node_meta", "local_area_id", id->id_local_area_id) != 0 ||
	    db_kv_set(db, "node_meta", "sync_cursor", NULL) != 0 ||
	    db_kv_set(db, "node_meta", "snapshot_seq", NULL) != 0 ||
	    db_kv_set(db, "node_meta", "snapshot_table", NULL) != 0 ||
	    db_kv_set(db, "node_meta", "snapshot_after", NULL) != 0)
		goto fail;
	if (db_exec(db, "COMMIT") != 0)
		goto fail;
	if (changed)
		*changed = 1;
	log_info("sync identity: node %s of office '%s'; outbox entries after %" PRId64
		 " will be pushed",
		 id->id_node_id, id->id_office_id, base);
	return 0;
fail:
	db_exec(db, "ROLLBACK");
	return SYNC_E_OTHER;
}

int sync_client_db_open(const char *data_dir, sqlite3 **out, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], detail[200];
	struct stat sb;
	sqlite3 *db = NULL;
	int t1, t2, sv;

	*out = NULL;
	snprintf(path, sizeof path, "%s/%s", data_dir, SYNC_NODE_DB_FILE);
	if (stat(path, &sb) != 0) {
		fmt_line(err, errlen,
		       "no office database at '%s': start outpost-node with --data %s once first",
		       path, data_dir);
		return SYNC_E_CONFIG;
	}
	if (db_open(path, &db) != 0) {
		fmt_line(err, errlen, "cannot open the office database '%s'", path);
		return SYNC_E_OTHER;
	}
	t1 = db_table_exists(db, "node_meta");
	t2 = db_table_exists(db, "outbox");
	if (t1 <= 0 || t2 <= 0) {
		fmt_line(err, errlen, "'%s' is not an office node database (no outbox)", path);
		db_close(db);
		return SYNC_E_CONFIG;
	}
	/* Only a database of this program's schema: a pull into older tables
	 * would lose the columns they lack (sqlite3changeset_apply_v2 skips
	 * such a table), and the hub takes this program's version as the
	 * database's. */
	sv = schema_compare(db, detail, sizeof detail);
	if (sv != 0) {
		if (sv == -2)
			fmt_line(err, errlen, "cannot read the schema version of '%s'", path);
		else if (sv < 0)
			fmt_line(err, errlen, "the office database '%s' is older (%s) than this "
					      "outpost-sync: start outpost-node once to migrate it",
				 path, detail);
		else
			fmt_line(err, errlen, "the office database '%s' is newer (%s) than this "
					      "outpost-sync: upgrade outpost-sync to outpost-node's version",
				 path, detail);
		db_close(db);
		return SYNC_E_CONFIG;
	}
	if (sync_client_migrate(db) != 0) {
		fmt_line(err, errlen, "cannot prepare the sync tables in '%s'", path);
		db_close(db);
		return SYNC_E_OTHER;
	}
	*out = db;
	return 0;
}

static void add_i64_or_null(cJSON *o, const char *name, int have, int64_t v)
{
	if (have)
		cJSON_AddNumberToObject(o, name, (double)v);
	else
		cJSON_AddNullToObject(o, name);
}

cJSON *sync_client_status_json(sqlite3 *db, uint64_t now)
{
	cJSON *o = cJSON_CreateObject(), *q;
	sqlite3_stmt *st = NULL;
	int64_t v = 0, pending = -1, bytes = 0, oldest = 0, base = 0;
	char s[512];
	int have_oldest = 0, have;

	if (o == NULL)
		return NULL;
	if (db_prepare(db, &st, "SELECT count(*), coalesce(sum(nbytes), 0), min(created_at) "
				"FROM outbox") != 0)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW) {
		pending = sqlite3_column_int64(st, 0);
		bytes = sqlite3_column_int64(st, 1);
		have_oldest = sqlite3_column_type(st, 2) != SQLITE_NULL;
		oldest = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (pending < 0)
		goto fail;
	cJSON_AddNumberToObject(o, "pending", (double)pending);
	cJSON_AddNumberToObject(o, "pending_bytes", (double)bytes);
	add_i64_or_null(o, "oldest_pending_ms", have_oldest, oldest);
	add_i64_or_null(o, "oldest_pending_age_ms", have_oldest,
			(int64_t)now > oldest ? (int64_t)now - oldest : 0);
	if (db_kv_get_i64(db, "sync_state", "seq_base", &base) != DB_FOUND)
		base = 0;
	/* One read per statement: an argument list does not order its reads. */
	have = db_kv_get_i64(db, "sync_state", "acked_seq", &v) == DB_FOUND;
	add_i64_or_null(o, "acked_seq", have, v);
	cJSON_AddNumberToObject(o, "seq_base", (double)base);
	{
		/* The hub's head as last heard (a push's reply, a pull's end), and
		 * never below the cursor: the hub gave that, so its head was at least
		 * there (a pull's pages move the cursor before its end records the
		 * head, and a push's reply may tell an older head). */
		int64_t head = 0, cur = 0;
		int have_head = db_kv_get_i64(db, "sync_state", "head_seq", &head) == DB_FOUND;
		int have_cur = db_kv_get_i64(db, "node_meta", "sync_cursor", &cur) == DB_FOUND;
		if (have_cur && (!have_head || head < cur)) {
			head = cur;
			have_head = 1;
		}
		add_i64_or_null(o, "head_seq", have_head, head);
		add_i64_or_null(o, "cursor", have_cur, cur);
	}
	if (db_kv_get(db, "node_meta", "snapshot_table", s, sizeof s) == DB_FOUND)
		cJSON_AddStringToObject(o, "snapshot_table", s);
	else
		cJSON_AddNullToObject(o, "snapshot_table");
	have = db_kv_get_i64(db, "node_meta", "last_contact_ms", &v) == DB_FOUND;
	add_i64_or_null(o, "last_contact_ms", have, v);
	add_i64_or_null(o, "last_contact_age_ms", have, (int64_t)now > v ? (int64_t)now - v : 0);
	have = db_kv_get_i64(db, "node_meta", "last_pull_ms", &v) == DB_FOUND;
	add_i64_or_null(o, "last_pull_ms", have, v);
	add_i64_or_null(o, "last_pull_age_ms", have, (int64_t)now > v ? (int64_t)now - v : 0);
	if (db_kv_get_i64(db, "node_meta", "clock_offset_ms", &v) == DB_FOUND) {
		cJSON_AddNumberToObject(o, "clock_offset_ms", (double)v);
		cJSON_AddBoolToObject(o, "clock_skew_warning", llabs((long long)v) > SYNC_SKEW_WARN_MS);
	} else {
		cJSON_AddNullToObject(o, "clock_offset_ms");
		cJSON_AddBoolToObject(o, "clock_skew_warning", 0);
	}
	if (db_prepare(db, &st, "SELECT seq, reason, at FROM sync_quarantine "
				"ORDER BY seq DESC LIMIT 100") != 0)
		goto fail;
	q = db_rows_json(st);
	sqlite3_finalize(st);
	st = NULL;
	if (q == NULL)
		goto fail;
	cJSON_AddItemToObject(o, "quarantined", q);
	cJSON_AddNumberToObject(o, "quarantined_count",
				(double)db_int(db, "SELECT count(*) FROM sync_quarantine", 0));
	/* Rows a pull set aside (sync/pull.c). */
	cJSON_AddNumberToObject(o, "pull_set_aside",
				(double)db_int(db, "SELECT count(*) FROM pull_set_aside", 0));
	if (db_kv_get(db, "sync_state", "last_error", s, sizeof s) == DB_FOUND)
		cJSON_AddStringToObject(o, "last_error", s);
	else
		cJSON_AddNullToObject(o, "last_error");
	return o;
fail:
	sqlite3_finalize(st);
	cJSON_Delete(o);
	return NULL;
}


int sync_client_record(sync_client *c, sqlite3 *db, const char *err)
{
	int rc = 0;

	if (c->sc_have_time) {
		rc |= db_kv_set_i64(db, "node_meta", "clock_offset_ms", c->sc_offset_ms);
		rc |= db_kv_set_i64(db, "node_meta", "last_contact_ms", (int64_t)c->sc_last_contact_ms);
	}
	rc |= db_kv_set(db, "sync_state", "last_error", err && *err ? err : NULL);
	if (c->sc_hub_forgot)
		rc |= db_kv_set(db, "sync_state", "hub_forgot", "1");
	return rc ? -1 : 0;
}
