/*
 * node_state.c - the node's local tables (meta key/values, the kiosk's
 * waiting counts) and its clock (local time corrected by the hub's).  The
 * captured writes and their group commit are in node_commit.c.
 */
#include "node/node.h"
#include "model/capture.h"
#include "model/schema.h"
#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "sync/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const db_migration node_migrations[] = {
	{"CREATE TABLE node_meta(key TEXT PRIMARY KEY NOT NULL, value TEXT);"},
	/*
	 * The kiosk tells each visitor their place in line.  A count over the
	 * day's waiting rows grows with the line, so the node keeps the number
	 * waiting per office and day, maintained by triggers: they fire for the
	 * API's writes and for pulled changesets alike, inside the same
	 * transaction.  Node-local (not replicated, never captured), rebuilt
	 * from checkins here.  The index serves the place of any one visitor.
	 */
	{"CREATE TABLE greeter_waiting("
	 " office_id TEXT NOT NULL, visit_date TEXT NOT NULL, n INTEGER NOT NULL,"
	 " PRIMARY KEY(office_id, visit_date)) WITHOUT ROWID;"
	 "INSERT INTO greeter_waiting(office_id, visit_date, n)"
	 " SELECT office_id, visit_date, count(*) FROM checkins WHERE status='waiting'"
	 " GROUP BY office_id, visit_date;"
	 "CREATE TRIGGER greeter_waiting_ins AFTER INSERT ON checkins WHEN new.status='waiting'"
	 " BEGIN INSERT INTO greeter_waiting(office_id, visit_date, n)"
	 "  VALUES(new.office_id, new.visit_date, 1)"
	 "  ON CONFLICT(office_id, visit_date) DO UPDATE SET n=n+1; END;"
	 "CREATE TRIGGER greeter_waiting_del AFTER DELETE ON checkins WHEN old.status='waiting'"
	 " BEGIN UPDATE greeter_waiting SET n=n-1"
	 "  WHERE office_id=old.office_id AND visit_date=old.visit_date; END;"
	 "CREATE TRIGGER greeter_waiting_upd AFTER UPDATE OF status, office_id, visit_date ON checkins"
	 " WHEN (old.status='waiting') <> (new.status='waiting')"
	 "  OR ((old.status='waiting') AND (old.office_id<>new.office_id OR old.visit_date<>new.visit_date))"
	 " BEGIN"
	 "  UPDATE greeter_waiting SET n=n-1 WHERE old.status='waiting'"
	 "   AND office_id=old.office_id AND visit_date=old.visit_date;"
	 "  INSERT INTO greeter_waiting(office_id, visit_date, n)"
	 "   SELECT new.office_id, new.visit_date, 1 WHERE new.status='waiting'"
	 "   ON CONFLICT(office_id, visit_date) DO UPDATE SET n=n+1;"
	 " END;"
	 "CREATE INDEX checkins_queue ON checkins(office_id, visit_date, status, arrived_at, id);"},
	/* checkins_queue begins with every column of the shared schema's
	 * checkins_day, which then only costs each check-in one more index
	 * write on the node (the hub keeps it; any later migration that names
	 * it must say IF EXISTS). */
	{"DROP INDEX IF EXISTS checkins_day;"},
	/* The waiting rows alone, in line order: the desk's list numbers them
	 * without reading the day's other visits (node_greeter.c list_sql),
	 * and one visitor's place is a count over them. */
	{"CREATE INDEX checkins_waiting ON checkins(office_id, visit_date, arrived_at, id)"
	 " WHERE status='waiting';"},
};

int node_schema_migrate(sqlite3 *db)
{
	if (schema_migrate(db) != 0 || capture_migrate(db) != 0 ||
	    DB_MIGRATE_ALL(db, "node", node_migrations) != 0)
		return -1;
	/* the sync tables (node_sync_start() and outpost-sync migrate them too) */
	return sync_client_migrate(db);
}

int node_migrate(node *n)
{
	char what[200];

	if (node_schema_migrate(n->nd_db) != 0)
		return -1;
	/* A part of the schema this program has no migrations for: a newer
	 * release made it, and this one would ignore what it keeps. */
	if (db_schema_unknown(n->nd_db, what, sizeof what) != 0) {
		log_warnx("the office database has schema component %s, which this outpost-node "
			  "does not know: a newer release of Outpost made it; upgrade outpost-node",
			  what[0] ? what : "(unreadable)");
		return -1;
	}
	return schema_check(n->nd_db);
}

int node_enrolled(node *n)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof path, "%s/" SYNC_IDENTITY_FILE, n->nd_data);
	return access(path, F_OK) == 0;
}

int node_standalone(node *n)
{
	char cur[32];

	if (db_kv_get(n->nd_db, "node_meta", "sync_cursor", cur, sizeof cur) == DB_FOUND)
		return 0;
	/* Enrolled but not yet bootstrapped (or mid-snapshot): the hub's rows
	 * are on their way, and seeds made here would only be replaced. */
	return !node_enrolled(n);
}

uint64_t node_now_ms(node *n)
{
	int64_t t = (int64_t)clock_ms() + n->nd_clock_offset_ms;
	return t < 0 ? 0 : (uint64_t)t;
}

void node_today(node *n, char out[11])
{
	clock_local_date(node_now_ms(n), out);
}

void node_zone_check(node *n)
{
	const char *cf = conf_str(&n->nd_conf, "timezone"), *want = cf;
	char tz[65] = "";
	db_version v;

	if (node_db_version(n, &v) == 0) {
		if (n->nd_tz_ver_ok && db_version_same(&v, &n->nd_tz_ver))
			return;
		n->nd_tz_ver = v;
		n->nd_tz_ver_ok = 1;
	}
	/* (a stand-alone node's offices row is its own demo seed, not the hub's) */
	if (n->nd_office_id[0] != '\0' && node_enrolled(n)) {
		int rc = db_text(n->nd_db, "SELECT timezone FROM offices WHERE id=?", n->nd_office_id,
				 tz, sizeof tz);

		if (rc < 0)
			n->nd_tz_ver_ok = 0; /* (looked at again by the next request) */
		/* Not there yet (before the first pull), or not readable now: the
		 * zone in force stays, the setting's or the office's. */
		if (rc != 0 || tz[0] == '\0')
			return;
		want = tz;
	}
	if (strcmp(want, n->nd_tz) == 0)
		return;
	if (clock_set_tz(want) != 0) {
		if (strcmp(want, n->nd_tz_said) != 0)
			log_warnx("office '%s': its time zone '%s' (set at the hub) is unknown on this"
				  " computer (no /usr/share/zoneinfo/%s): the dates stay in '%s'",
				  n->nd_office_id, want, want, n->nd_tz);
		snprintf(n->nd_tz_said, sizeof n->nd_tz_said, "%s", want);
		return;
	}
	if (want == tz) {
		log_info("time zone %s, set at the hub for office '%s'", want, n->nd_office_id);
		/* A zone written in the settings on purpose, other than the office's:
		 * the hub's wins (one source of truth); said once. */
		if (strcmp(cf, NODE_DEFAULT_TZ) != 0 && strcmp(cf, want) != 0 &&
		    strcmp(want, n->nd_tz_said) != 0) {
			log_warnx("the setting timezone = %s is not the time zone %s set at the hub for"
				  " office '%s': %s is used; change the office at the hub, or remove the"
				  " setting", cf, want, n->nd_office_id, want);
			snprintf(n->nd_tz_said, sizeof n->nd_tz_said, "%s", want);
		}
	} else if (n->nd_tz[0] != '\0') {
		log_info("time zone %s (the setting timezone)", want);
	}
	snprintf(n->nd_tz, sizeof n->nd_tz, "%s", want);
}

int node_db_version(node *n, db_version *v)
{
	if (n->nd_ver_scope && n->nd_ver_have && sqlite3_get_autocommit(n->nd_db)) {
		v->dv_data = n->nd_ver_data;
		v->dv_changes = (int64_t)sqlite3_total_changes64(n->nd_db);
		return 0;
	}
	if (db_version_get(n->nd_db, v) != 0)
		return -1;
	n->nd_ver_have = n->nd_ver_scope;
	n->nd_ver_data = v->dv_data;
	return 0;
}

void node_ver_scope(node *n, int on)
{
	n->nd_ver_scope = on;
	n->nd_ver_have = 0;
}

void node_reply_db_error(http_req *req)
{
	int rc = db_take_error();

	http_reply_error(req, db_http_status(rc), NULL, "%s", db_error_text(rc));
}
