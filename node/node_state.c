/*
 * node_state.c - the node's local tables (meta key/values and the outbox), its
 * clock (local time corrected by the hub's), and the captured-write helpers
 * every API handler uses.
 */
#include "node/node.h"
#include "model/capture.h"
#include "model/schema.h"
#include "lib/clock.h"
#include "lib/log.h"

#include <string.h>

static const db_migration node_migrations[] = {
	{"CREATE TABLE node_meta(key TEXT PRIMARY KEY NOT NULL, value TEXT);"},
};

int node_migrate(node *n)
{
	if (schema_migrate(n->nd_db) != 0 || capture_migrate(n->nd_db) != 0)
		return -1;
	if (db_migrate(n->nd_db, "node", node_migrations,
		       (int)(sizeof node_migrations / sizeof node_migrations[0])) < 0)
		return -1;
	return schema_check(n->nd_db);
}

int node_meta_get(node *n, const char *key, char *out, size_t len)
{
	return db_text(n->nd_db, "SELECT value FROM node_meta WHERE key=?", key, out, len);
}

int node_meta_set(node *n, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if (db_prepare(n->nd_db, &st,
		       "INSERT INTO node_meta(key, value) VALUES(?, ?) "
		       "ON CONFLICT(key) DO UPDATE SET value=excluded.value") != 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	db_bind_text(st, 2, value);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
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

int node_write_begin(node *n, struct capture *c)
{
	return capture_begin(c, n->nd_db);
}

int node_write_commit(node *n, struct capture *c, const char *actor)
{
	char ts[HLC_STRLEN];

	hlc_now(&n->nd_hlc, ts);
	return capture_commit(c, ts, actor, NULL);
}

void node_reply_db_error(http_req *req)
{
	http_reply_error(req, 500, NULL, "the office database could not complete the request");
}
