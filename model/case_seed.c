/*
 * case_seed.c - the hub-owned case-work code lists from the seed folder:
 * participant activity codes (seed/participant_activity_codes.csv: code,
 * title, reporting category, whether it restarts the 90-day exit clock) and
 * follow-up F-codes (seed/followup_codes.csv).  Ids are the codes, so a hub
 * and a stand-alone node seeded apart agree on every row.  See casework.h.
 */
#include "model/casework.h"
#include "lib/csv.h"
#include "lib/hlc.h"
#include "lib/log.h"

#include <stdio.h>
#include <string.h>

typedef struct seedctx {
	sqlite3_stmt *st;
	int followup;
} seedctx;

static int code_line(int line, int nf, char **f, void *arg)
{
	seedctx *c = arg;
	const char *restarts;

	if (line == 1)
		return 0;
	if ((c->followup && nf < 3) || (!c->followup && nf < 4) || f[0][0] == '\0' ||
	    f[1][0] == '\0')
		return 0; /* skip a malformed line rather than lose the list */
	restarts = c->followup ? f[2] : f[3];
	sqlite3_reset(c->st);
	sqlite3_bind_text(c->st, 1, f[0], -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(c->st, 2, f[1], -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(c->st, 3, strcmp(restarts, "yes") == 0);
	if (!c->followup) {
		if (f[2][0])
			sqlite3_bind_text(c->st, 5, f[2], -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(c->st, 5);
	}
	return sqlite3_step(c->st) == SQLITE_DONE ? 0 : -1;
}

static int seed_file(sqlite3 *db, const char *dir, const char *file, int followup, const char *ts)
{
	char path[4200];
	seedctx c = {NULL, followup};
	int rc;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	if (db_prepare(db, &c.st,
		       followup ? "INSERT OR IGNORE INTO followup_codes(id, code, title,"
				  " restarts_exit_clock, updated_hlc) VALUES(?1, ?1, ?2, ?3, ?4)"
				: "INSERT OR IGNORE INTO participant_activity_codes(id, code, title,"
				  " restarts_exit_clock, updated_hlc, reporting_category)"
				  " VALUES(?1, ?1, ?2, ?3, ?4, ?5)") != 0)
		return -1;
	sqlite3_bind_text(c.st, 4, ts, -1, SQLITE_STATIC);
	rc = csv_read_file(path, code_line, &c);
	sqlite3_finalize(c.st);
	if (rc != 0)
		log_warnx("cannot read '%s': case-work codes not loaded", path);
	return rc == 0 ? 0 : -1;
}

int case_seed_reference(sqlite3 *db, const char *ts)
{
	char dir[4096];

	if (csv_seed_dir(dir, sizeof dir) != 0) {
		log_warnx("cannot find the seed folder: case-work codes not loaded");
		return 0; /* the hub's lists arrive with the first pull */
	}
	if (seed_file(db, dir, "participant_activity_codes.csv", 0, ts) != 0 ||
	    seed_file(db, dir, "followup_codes.csv", 1, ts) != 0)
		return -1;
	return 0;
}

int case_hub_prepare(sqlite3 *db, const char *node_id)
{
	hlc h;
	char ts[HLC_STRLEN];
	int need_codes, keys;

	/* Hub only: a Local Area created later, by any path, gets its key in
	 * the same transaction (SQLite's randomblob() draws from its
	 * OS-seeded CSPRNG).  Nodes never create keys: they receive them. */
	if (db_exec(db, "CREATE TRIGGER IF NOT EXISTS case_key_for_new_local_area"
			" AFTER INSERT ON local_areas WHEN NOT EXISTS"
			" (SELECT 1 FROM case_keys WHERE local_area_id = NEW.id)"
			" BEGIN INSERT INTO case_keys(id, local_area_id, key_hex, created_at, updated_hlc)"
			" VALUES(NEW.id, NEW.id, lower(hex(randomblob(32))),"
			" CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), NEW.updated_hlc); END;") != 0)
		return -1;
	need_codes = db_int(db, "SELECT count(*) FROM participant_activity_codes", -1) == 0;
	if (!need_codes && db_int(db, "SELECT count(*) FROM local_areas la WHERE NOT EXISTS"
				      " (SELECT 1 FROM case_keys k WHERE k.local_area_id = la.id)", 0) == 0)
		return 0;
	/* Through the change-log triggers like any hub write: nodes pull them
	 * (a key only by the nodes of its Local Area). */
	hlc_init(&h, node_id, NULL, NULL);
	hlc_now(&h, ts);
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if ((need_codes && case_seed_reference(db, ts) != 0) ||
	    (keys = case_ensure_keys(db, ts, (int64_t)hlc_wall_ms())) < 0 ||
	    db_exec(db, "COMMIT") != 0) {
		db_exec(db, "ROLLBACK");
		log_warnx("cannot seed the case-work code lists and Local Area keys");
		return -1;
	}
	if (need_codes)
		log_info("seeded the case-work code lists");
	if (keys > 0)
		log_info("created %d Local Area key%s for participant SSNs", keys, keys == 1 ? "" : "s");
	return 0;
}
