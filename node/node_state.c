/*
 * node_state.c - the node's local tables (meta key/values and the outbox), its
 * clock (local time corrected by the hub's), and the captured-write helpers
 * every API handler uses.
 */
#include "node/node.h"
#include "model/capture.h"
#include "model/schema.h"
#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct node_pending {
	struct node_pending *next;
	http_req *req;
	int status;
	cJSON *body;
};

int node_write_begin(node *n, struct capture *c)
{
	if (!n->nd_batch_open) {
		if (db_exec_cached(n->nd_db, "BEGIN IMMEDIATE") != 0)
			return -1;
		n->nd_batch_open = 1;
	}
	return capture_begin(c, n->nd_db);
}

int node_write_finish(node *n, struct capture *c, const char *actor, http_req *req,
		      int status, cJSON *body)
{
	char ts[HLC_STRLEN];
	struct node_pending *p;

	hlc_now(&n->nd_hlc, ts);
	if (capture_commit(c, ts, actor, NULL) != 0 || body == NULL ||
	    (p = calloc(1, sizeof *p)) == NULL) {
		cJSON_Delete(body);
		node_reply_db_error(req);
		return -1;
	}
	p->req = req;
	p->status = status;
	p->body = body;
	if (n->nd_pending_tail == NULL)
		n->nd_pending_tail = &n->nd_pending;
	*n->nd_pending_tail = p;
	n->nd_pending_tail = &p->next;
	return 0;
}

/* End of a loop iteration: commit the batch, then answer its requests. */
static void commit_batch(uv_check_t *h)
{
	node *n = h->data;
	struct node_pending *p, *next;
	int ok;

	if (!n->nd_batch_open)
		return;
	FAULT_POINT("node.commit.before");
	ok = db_exec_cached(n->nd_db, "COMMIT") == 0;
	if (ok)
		FAULT_POINT("node.commit.after");
	if (!ok) {
		log_warnx("batch of office writes not saved; every write in it is refused");
		db_exec(n->nd_db, "ROLLBACK");
	}
	n->nd_batch_open = 0;
	p = n->nd_pending;
	n->nd_pending = NULL;
	n->nd_pending_tail = &n->nd_pending;
	for (; p; p = next) {
		next = p->next;
		if (ok) {
			http_reply_json(p->req, p->status, p->body);
		} else {
			cJSON_Delete(p->body);
			node_reply_db_error(p->req);
		}
		free(p);
	}
}

/*
 * Checkpoints.  SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses 1000 WAL frames: it copies every page to the database file and
 * fsyncs it, on the loop thread, while every request of the next batch
 * waits.  So the loop connection's WAL hook only notices the size and hands
 * a PASSIVE checkpoint to the thread pool, on a connection of its own
 * (WAL lets a checkpoint run beside the writer; durability is the WAL's).
 */
static void ckpt_work(uv_work_t *w)
{
	node *n = w->data;
	int log_frames = 0, done = 0;

	if (n->nd_ckpt_db == NULL && db_open(n->nd_db_path, &n->nd_ckpt_db) != 0)
		return;
	if (sqlite3_wal_checkpoint_v2(n->nd_ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames,
				      &done) != SQLITE_OK)
		log_warnx("checkpoint of the office database: %s", sqlite3_errmsg(n->nd_ckpt_db));
}

static void ckpt_after(uv_work_t *w, int status)
{
	node *n = w->data;

	(void)status;
	n->nd_ckpt_busy = 0;
}

static int on_wal(void *arg, sqlite3 *db, const char *dbname, int frames)
{
	node *n = arg;

	(void)db;
	(void)dbname;
	if (frames < NODE_CHECKPOINT_FRAMES || n->nd_ckpt_busy || n->nd_stopping)
		return SQLITE_OK;
	n->nd_ckpt_work.data = n;
	if (uv_queue_work(n->nd_loop, &n->nd_ckpt_work, ckpt_work, ckpt_after) == 0)
		n->nd_ckpt_busy = 1;
	return SQLITE_OK;
}

void node_commit_start(node *n)
{
	const char *path = sqlite3_db_filename(n->nd_db, "main");

	snprintf(n->nd_db_path, sizeof n->nd_db_path, "%s", path ? path : "");
	if (n->nd_db_path[0])
		sqlite3_wal_hook(n->nd_db, on_wal, n); /* replaces the automatic checkpoint */
	n->nd_pending_tail = &n->nd_pending;
	uv_check_init(n->nd_loop, &n->nd_commit_check);
	n->nd_commit_check.data = n;
	uv_check_start(&n->nd_commit_check, commit_batch);
}

void node_commit_stop(node *n)
{
	commit_batch(&n->nd_commit_check);
	uv_check_stop(&n->nd_commit_check);
	uv_close((uv_handle_t *)&n->nd_commit_check, NULL);
}

void node_reply_db_error(http_req *req)
{
	http_reply_error(req, 500, NULL, "the office database could not complete the request");
}
