/*
 * node_check.c - `outpost-node check [--json]`: the office node's health
 * for monitoring (lib/check.h has the exit codes): node.db's integrity and
 * the schema version of each of its components, permissions of the data directory and of sync.json, free
 * disk space, and for an enrolled node the age of the last contact with
 * the hub and of the oldest change waiting for it.  Reads only; may run
 * while the node serves.
 */
#include "node/node.h"
#include "lib/check.h"
#include "lib/clock.h"
#include "model/schema.h"
#include "sync/client.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NODE_CHECK_SILENT_S 3600 /* no contact with the hub for an hour */

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void check_sync(check_report *r, sqlite3 *db, int enrolled)
{
	cJSON *o;
	double contact, oldest;
	uint64_t now = clock_ms();

	if (!enrolled) {
		check_add(r, "hub", CHECK_OK, "not enrolled: a stand-alone node");
		return;
	}
	o = sync_client_status_json(db, now);
	if (o == NULL) {
		check_add(r, "hub", CHECK_FAIL, "cannot read the sync state");
		return;
	}
	contact = num(o, "last_contact_ms");
	oldest = num(o, "oldest_pending_age_ms");
	if (contact < 0)
		check_add(r, "hub", CHECK_WARN, "enrolled but the hub never answered");
	else if ((double)now - contact > NODE_CHECK_SILENT_S * 1000.0)
		check_add(r, "hub", CHECK_WARN, "no contact with the hub for %.0f minutes",
			  ((double)now - contact) / 60000);
	else
		check_add(r, "hub", CHECK_OK, "last contact %.0f s ago", ((double)now - contact) / 1000);
	if (oldest > NODE_CHECK_SILENT_S * 1000.0)
		check_add(r, "outbox", CHECK_WARN, "%.0f changes waiting, the oldest for %.0f minutes",
			  num(o, "pending"), oldest / 60000);
	else
		check_add(r, "outbox", CHECK_OK, "%.0f changes waiting", num(o, "pending") < 0 ? 0 : num(o, "pending"));
	cJSON_Delete(o);
}

/* db_schema_compare() of db against every component this program
 * migrates: learnt from a database in memory migrated as node.db is. */
static int compare_schema(sqlite3 *db, char *detail, size_t n)
{
	sqlite3 *mem = NULL;
	int rc = sqlite3_open(":memory:", &mem) == SQLITE_OK ? node_schema_migrate(mem) : -1;

	sqlite3_close(mem);
	return rc == 0 ? db_schema_compare(db, detail, n) : -2;
}

int node_check(const char *dir, int json)
{
	check_report r;
	char path[PATH_MAX + 32], detail[400];
	sqlite3 *db = NULL;
	int enrolled, rc;

	if (check_init(&r) != 0)
		return CHECK_UNREADABLE;
	if (check_dir(&r, dir) == 0) {
		snprintf(path, sizeof path, "%s/%s", dir, NODE_DB_FILE);
		check_db(&r, "database", path, &db);
		if (db) {
			rc = compare_schema(db, detail, sizeof detail);
			if (rc == -2)
				check_add(&r, "schema", CHECK_FAIL, "cannot read the schema version");
			else if (rc < 0)
				check_add(&r, "schema", CHECK_WARN, "older than this program (%s): "
						"migrated at the next start", detail);
			else if (rc > 0)
				check_add(&r, "schema", CHECK_FAIL, "newer than this program (%s): "
						"upgrade outpost-node", detail);
			else
				check_add(&r, "schema", CHECK_OK, "version %d (%s)", schema_version(),
					  detail);
		}
		snprintf(path, sizeof path, "%s/%s", dir, SYNC_IDENTITY_FILE);
		enrolled = access(path, F_OK) == 0;
		check_secret(&r, "sync_json", path, 0);
		/* The HTTPS private key (outpost-sync enroll --name, renew-cert). */
		snprintf(path, sizeof path, "%s/node.key", dir);
		check_secret(&r, "tls_key", path, 0);
		if (db)
			check_sync(&r, db, enrolled);
		check_disk(&r, dir);
	}
	sqlite3_close(db);
	return check_finish(&r, "outpost-node", json);
}
