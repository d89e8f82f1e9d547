/*
 * hub_check.c - `outpost-hub check [--json]`: the data directory's health
 * for monitoring (lib/check.h has the exit codes): hub.db's integrity and
 * the schema version of each of its components, permissions of the directory and of the key files, the
 * TLS certificate's expiry, free disk space, and the nodes not heard from
 * for a day.  Reads only; may run while the hub serves.
 */
#include "hub/hub.h"
#include "lib/check.h"
#include "model/schema.h"

#include <stdio.h>
#include <string.h>

#define HUB_CHECK_SILENT_MS (24LL * 3600 * 1000) /* a node silent for a day */

/* db_schema_compare() of db against every component this program
 * migrates: learnt from a database in memory migrated as hub.db is. */
static int compare_schema(sqlite3 *db, char *detail, size_t n)
{
	sqlite3 *mem = NULL;
	int rc = sqlite3_open(":memory:", &mem) == SQLITE_OK ? hub_schema_migrate(mem) : -1;

	sqlite3_close(mem);
	return rc == 0 ? db_schema_compare(db, detail, n) : -2;
}

static void check_hub_db(check_report *r, sqlite3 *db)
{
	char detail[400];
	int rc = compare_schema(db, detail, sizeof detail);
	int64_t silent;

	if (rc == -2)
		check_add(r, "schema", CHECK_FAIL, "cannot read the schema version");
	else if (rc < 0)
		check_add(r, "schema", CHECK_WARN, "older than this program (%s): migrated at the "
						    "next start", detail);
	else if (rc > 0)
		check_add(r, "schema", CHECK_FAIL, "newer than this program (%s): upgrade "
						    "outpost-hub", detail);
	else
		check_add(r, "schema", CHECK_OK, "version %d (%s)", schema_version(), detail);
	silent = db_int(db, "SELECT count(*) FROM nodes WHERE revoked_at IS NULL AND "
			    "(last_seen_ms IS NULL OR last_seen_ms < "
			    "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) - 86400000)",
			-1);
	if (silent < 0)
		check_add(r, "nodes", CHECK_FAIL, "cannot read the nodes");
	else if (silent > 0)
		check_add(r, "nodes", CHECK_WARN, "%lld enrolled node%s not heard from for a day",
			  (long long)silent, silent == 1 ? "" : "s");
	else
		check_add(r, "nodes", CHECK_OK, "every enrolled node heard from within a day");
}

int hub_health_check(const char *dir, const char *cert, const char *key, int json)
{
	check_report r;
	char path[PATH_MAX + 32];
	sqlite3 *db = NULL;

	if (check_init(&r) != 0)
		return CHECK_UNREADABLE;
	if (check_dir(&r, dir) == 0) {
		snprintf(path, sizeof path, "%s/%s", dir, HUB_DB_FILE);
		check_db(&r, "database", path, &db);
		if (db)
			check_hub_db(&r, db);
		check_secret(&r, "tls_key", key, 1);
		snprintf(path, sizeof path, "%s/%s", dir, HUB_ADMIN_TOKEN_FILE);
		check_secret(&r, "admin_token", path, 1);
		snprintf(path, sizeof path, "%s/master.key", dir);
		check_secret(&r, "master_key", path, 0);
		/* The office CA's key signs every node's HTTPS certificate; the
		 * operations account's first password is there until it is read. */
		snprintf(path, sizeof path, "%s/%s", dir, HUB_CA_KEY_FILE);
		check_secret(&r, "ca_key", path, 0);
		snprintf(path, sizeof path, "%s/%s", dir, HUB_OPS_PASSWORD_FILE);
		check_secret(&r, "operations_password", path, 0);
		check_cert(&r, "tls_cert", cert);
		check_disk(&r, dir);
	}
	sqlite3_close(db);
	return check_finish(&r, "outpost-hub", json);
}
