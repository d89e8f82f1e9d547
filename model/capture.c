/*
 * capture.c - one transaction, one session, one outbox entry; see capture.h.
 */
#include "model/capture.h"
#include "model/schema.h"
#include "lib/log.h"

#include <string.h>
#include <time.h>

static const db_migration outbox_migrations[] = {
	{"CREATE TABLE outbox("
	 " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	 " hlc TEXT NOT NULL,"
	 " actor TEXT,"
	 " created_at INTEGER NOT NULL,"
	 " schema_version INTEGER NOT NULL,"
	 " nbytes INTEGER NOT NULL,"
	 " changeset BLOB NOT NULL);"},
};

int capture_migrate(sqlite3 *db)
{
	return db_migrate(db, "outbox", outbox_migrations,
			  (int)(sizeof outbox_migrations / sizeof outbox_migrations[0])) < 0
		       ? -1
		       : 0;
}

static int attach_one(const table_def *t, void *arg)
{
	capture *c = arg;
	int rc = sqlite3session_attach(c->cap_sess, t->td_name);

	if (rc != SQLITE_OK) {
		log_warnx("cannot capture table '%s': %s", t->td_name, sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

int capture_begin(capture *c, sqlite3 *db)
{
	int rc;

	memset(c, 0, sizeof *c);
	c->cap_db = db;
	/* Inside a transaction someone else owns (the node's group commit), the
	 * write is a savepoint: it can fail alone, and commits with the batch. */
	c->cap_nested = !sqlite3_get_autocommit(db);
	if (db_exec_cached(db, c->cap_nested ? "SAVEPOINT capture" : "BEGIN IMMEDIATE") != 0)
		return -1;
	c->cap_open = 1;
	rc = sqlite3session_create(db, "main", &c->cap_sess);
	if (rc != SQLITE_OK) {
		log_warnx("cannot start change capture: %s", sqlite3_errstr(rc));
		goto fail;
	}
	if (schema_foreach(attach_one, c) != 0)
		goto fail;
	return 0;
fail:
	capture_abort(c);
	return -1;
}

int capture_commit(capture *c, const char *hlc, const char *actor, int64_t *seq)
{
	void *cs = NULL;
	int ncs = 0, rc, ret = -1;
	sqlite3_stmt *st = NULL;
	struct timespec ts;

	if (seq)
		*seq = 0;
	if (!c->cap_open)
		return -1;
	rc = sqlite3session_changeset(c->cap_sess, &ncs, &cs);
	if (rc != SQLITE_OK) {
		log_warnx("cannot collect changeset: %s", sqlite3_errstr(rc));
		goto out;
	}
	if (ncs > 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		st = db_stmt(c->cap_db, "INSERT INTO outbox(hlc, actor, created_at, schema_version,"
					" nbytes, changeset) VALUES(?,?,?,?,?,?)");
		if (st == NULL)
			goto out;
		sqlite3_bind_text(st, 1, hlc, -1, SQLITE_STATIC);
		db_bind_text(st, 2, actor);
		sqlite3_bind_int64(st, 3, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		sqlite3_bind_int(st, 4, schema_version());
		sqlite3_bind_int(st, 5, ncs);
		sqlite3_bind_blob(st, 6, cs, ncs, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_warnx("cannot append to outbox: %s", sqlite3_errmsg(c->cap_db));
			goto out;
		}
		if (seq)
			*seq = sqlite3_last_insert_rowid(c->cap_db);
	}
	sqlite3session_delete(c->cap_sess);
	c->cap_sess = NULL;
	if (db_exec_cached(c->cap_db, c->cap_nested ? "RELEASE capture" : "COMMIT") != 0)
		goto out;
	c->cap_open = 0;
	ret = 0;
out:
	db_stmt_done(st);
	sqlite3_free(cs);
	if (ret != 0)
		capture_abort(c);
	return ret;
}

void capture_abort(capture *c)
{
	if (c->cap_sess) {
		sqlite3session_delete(c->cap_sess);
		c->cap_sess = NULL;
	}
	if (c->cap_open) {
		if (c->cap_nested)
			db_exec(c->cap_db, "ROLLBACK TO capture; RELEASE capture");
		else if (!sqlite3_get_autocommit(c->cap_db))
			db_exec(c->cap_db, "ROLLBACK");
		c->cap_open = 0;
	}
}
