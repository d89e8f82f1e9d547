/*
 * synctest.c - databases, captured writes and pushes for the replication
 * unit tests; see synctest.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "model/capture.h"
#include "model/schema.h"
#include "tests/unit/synctest.h"

sqlite3 *st_open_db(int hub)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(schema_migrate(db), 0);
	assert_int_equal(schema_check(db), 0);
	if (hub)
		assert_int_equal(sync_hub_migrate(db), 0);
	else
		assert_int_equal(capture_migrate(db), 0);
	return db;
}

int64_t st_node_write(sqlite3 *node, const char *actor, const char *hlc, const char *fmt, ...)
{
	capture c;
	int64_t seq = 0;
	char *sql;
	va_list ap;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	assert_non_null(sql);
	assert_int_equal(capture_begin(&c, node), 0);
	assert_int_equal(db_exec(node, sql), 0);
	assert_int_equal(capture_commit(&c, hlc, actor, &seq), 0);
	sqlite3_free(sql);
	return seq;
}

st_pushed st_push(sqlite3 *hub, sqlite3 *node, const sync_scope *sc)
{
	sqlite3_stmt *st;
	st_pushed p = {0, 0, 0, ""};

	assert_int_equal(db_prepare(node, &st, "SELECT seq, hlc, actor, changeset FROM outbox ORDER BY seq"), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sync_entry e = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
				(const char *)sqlite3_column_text(st, 2), sqlite3_column_blob(st, 3),
				(size_t)sqlite3_column_bytes(st, 3)};
		sync_apply_result res;

		assert_int_equal(db_exec(hub, "BEGIN IMMEDIATE"), 0);
		assert_int_equal(sync_hub_apply(hub, sc, &e, &res), 0);
		assert_int_equal(db_exec(hub, "COMMIT"), 0);
		if (res.applied)
			p.applied++;
		else {
			p.quarantined++;
			snprintf(p.reason, sizeof p.reason, "%s", res.reason);
		}
		p.conflicts += res.conflicts;
	}
	sqlite3_finalize(st);
	assert_int_equal(db_exec(node, "DELETE FROM outbox"), 0);
	return p;
}

void st_push_refused(sqlite3 *hub, sqlite3 *node, const sync_scope *sc, const char *why)
{
	st_pushed p = st_push(hub, node, sc);

	assert_int_equal(p.quarantined, 1);
	if (strstr(p.reason, why) == NULL)
		fail_msg("refused for \"%s\", expected a reason naming \"%s\"", p.reason, why);
}

int st_refuse_visitor(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
		      size_t n, const char *name, int deletes, const char *why)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "visitor_name");

	(void)db;
	if (strcmp(tbl, "checkins") != 0 || (op == SQLITE_DELETE && !deletes) || !cJSON_IsString(v) ||
	    strcmp(v->valuestring, name) != 0)
		return 0;
	snprintf(reason, n, "%s", why);
	return -1;
}

static int count_savepoints(unsigned t, void *ctx, void *p, void *x)
{
	st_batch_count *k = ctx;
	const char *sql = sqlite3_sql((sqlite3_stmt *)p);

	(void)t;
	(void)x;
	if (sql && strcmp(sql, "SAVEPOINT sync_batch") == 0)
		k->tries++;
	if (sql && strcmp(sql, "SAVEPOINT sync_apply") == 0)
		k->merged++;
	return 0;
}

st_batch_count st_apply_batch(sqlite3 *hub, sync_apply_cache *c, const sync_scope *sc,
			      const sync_entry *es, int n, sync_apply_result *r)
{
	st_batch_count k = {0, 0};

	sqlite3_trace_v2(hub, SQLITE_TRACE_STMT, count_savepoints, &k);
	assert_int_equal(db_exec(hub, "BEGIN IMMEDIATE"), 0);
	assert_int_equal(sync_hub_apply_batch(hub, c, sc, es, n, r), 0);
	assert_int_equal(db_exec(hub, "COMMIT"), 0);
	sqlite3_trace_v2(hub, 0, NULL, NULL);
	return k;
}

int st_conflict_abort(void *ctx, int kind, sqlite3_changeset_iter *it)
{
	(void)ctx, (void)kind, (void)it;
	return SQLITE_CHANGESET_ABORT;
}

void st_expect_ints(sqlite3 *db, const st_expect *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t got = db_int(db, e[i].sql, INT64_MIN);

		if (got != e[i].want)
			fail_msg("%s: %lld, expected %lld", e[i].sql, (long long)got,
				 (long long)e[i].want);
	}
}

/* schema_table(name), failing the test when there is none. */
static const table_def *declared(const char *name)
{
	const table_def *td = schema_table(name);

	if (td == NULL)
		fail_msg("%s: not a replicated table", name);
	return td;
}

void st_expect_kind(int kind, const char *const *names)
{
	for (; *names; names++) {
		int got = (int)declared(*names)->td_kind;

		if (got != kind)
			fail_msg("%s: kind %d, expected %d", *names, got, kind);
	}
}

void st_expect_scope(int scope, const char *const *names)
{
	for (; *names; names++) {
		int got = (int)declared(*names)->td_scope;

		if (got != scope)
			fail_msg("%s: scope %d, expected %d", *names, got, scope);
	}
}
