/*
 * node_commit.c - captured writes and their group commit on the office node.
 *
 * Every API write is a capture (model/capture.h) inside the batch: the
 * writes that arrive together share one SQLite transaction, committed at
 * the end of the loop iteration (a uv_check handle).  A reply is sent only
 * once its write is durable.
 *
 * Durability is made off the loop thread.  With synchronous=FULL the COMMIT
 * itself waits for an fsync of the WAL, on the loop thread, and every
 * request of the next batch waits with it (on this machine's disk about a
 * fifth of the node's time under load).  So a batch commits with
 * synchronous=NORMAL (the WAL frames are written, not yet synced) and takes
 * a ticket; a flusher thread fdatasyncs the WAL file and reports the last
 * ticket the sync covered; the loop then answers every write of the batches
 * up to it.  Meanwhile the loop goes on with the next batch.  A write is
 * acknowledged only after an fdatasync that began after its COMMIT, which
 * is what FULL gives (the WAL is append-only and checksummed, so a later
 * batch never survives a power cut without the earlier ones).  Any other
 * transaction on the loop connection keeps synchronous=FULL, and so does
 * every other connection.  If the WAL file cannot be opened, the batch
 * falls back to FULL.
 *
 * Checkpoints.  SQLite's automatic checkpoint would run inside the COMMIT
 * that crosses 1000 WAL frames, copying pages to the database file and
 * fsyncing it on the loop thread.  So the loop connection's WAL hook only
 * notices the size and hands a PASSIVE checkpoint to the thread pool, on a
 * connection of its own (WAL lets a checkpoint run beside the writer).
 * Under sustained writes a passive checkpoint never reaches the end of the
 * WAL, which would then grow without bound: once a commit leaves it past
 * half of db_wal_limit(), the loop itself restarts it right after that
 * COMMIT, between batches (lib/dbguard.c; the pool has copied most of it
 * already).  An idle timer truncates the WAL once writes stop.
 */
#include "node/node.h"
#include "model/capture.h"
#include "lib/fault.h"
#include "lib/faultvfs.h"
#include "lib/log.h"
#include "lib/memtrim.h"
#include "lib/testhook.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node_pending {
	struct node_pending *next;
	http_req *req;
	int status;
	const char *ctype; /* static; NULL = JSON */
	char *body;
	size_t len;
	uint64_t ticket; /* the batch's; 0 while the batch is open */
};

/* The flusher thread: syncs the WAL file when the loop asks. */
struct node_flush {
	node *fl_node;
	pthread_t fl_thread;
	pthread_mutex_t fl_mu;
	pthread_cond_t fl_cv;
	uv_async_t fl_async;  /* flusher -> loop: fl_done moved */
	int fl_fd;            /* the WAL file */
	uint64_t fl_want;     /* last ticket handed out (loop) */
	uint64_t fl_done;     /* last ticket a finished sync covers */
	uint64_t fl_failed;   /* last ticket a failed sync covered */
	uint64_t fl_synced;   /* last ticket a sync covered, either way */
	int fl_errno;         /* of the last failed sync */
	int fl_stop;
	int fl_running;
	/* Replies of committed batches, waiting for their sync (loop only). */
	struct node_pending *fl_wait, **fl_wait_tail;
};

/* Test build: OUTPOST_TEST_FLUSH_DELAY_MS holds every sync back that long,
 * so a test can see that replies wait for it and the loop does not. */
static void test_flush_delay(void)
{
#if TEST_HOOKS_BUILT
	const char *d = getenv("OUTPOST_TEST_FLUSH_DELAY_MS");

	if (d && atoi(d) > 0)
		usleep((useconds_t)atoi(d) * 1000);
#endif
}

static void *flush_main(void *arg)
{
	struct node_flush *f = arg;

	pthread_mutex_lock(&f->fl_mu);
	for (;;) {
		uint64_t t;
		int rc;

		while (f->fl_want == f->fl_synced && !f->fl_stop)
			pthread_cond_wait(&f->fl_cv, &f->fl_mu);
		if (f->fl_want == f->fl_synced)
			break; /* stopping, nothing left */
		t = f->fl_want;
		pthread_mutex_unlock(&f->fl_mu);
		FAULT_POINT("node.flush.before");
		test_flush_delay();
		/* Every batch up to t finished its write() calls before t was handed out. */
		rc = faultvfs_fdatasync(f->fl_fd); /* fdatasync(); tests inject EIO */
		if (rc != 0)
			log_warn("cannot sync the office database's log");
		pthread_mutex_lock(&f->fl_mu);
		f->fl_synced = t;
		if (rc == 0) {
			f->fl_done = t;
		} else {
			f->fl_failed = t;
			f->fl_errno = errno;
		}
		uv_async_send(&f->fl_async);
	}
	pthread_mutex_unlock(&f->fl_mu);
	return NULL;
}

static void reply_one(struct node_pending *p, int ok, int err)
{
	if (ok)
		http_reply(p->req, p->status, p->ctype ? p->ctype : "application/json", p->body,
			   p->len);
	else
		http_reply_error(p->req, db_http_status(err), NULL, "%s", db_error_text(err));
	free(p->body);
	free(p);
}

/* Loop: answer the writes whose sync finished (or failed). */
static void flush_answer_now(struct node_flush *f)
{
	uint64_t done, failed;
	int err;

	if (f->fl_wait == NULL)
		return;
	pthread_mutex_lock(&f->fl_mu);
	done = f->fl_done;
	failed = f->fl_failed;
	err = f->fl_errno == ENOSPC || f->fl_errno == EDQUOT ? SQLITE_FULL : SQLITE_IOERR_FSYNC;
	pthread_mutex_unlock(&f->fl_mu);
	while (f->fl_wait && (f->fl_wait->ticket <= done || f->fl_wait->ticket <= failed)) {
		struct node_pending *p = f->fl_wait;
		int ok = p->ticket <= done;

		f->fl_wait = p->next;
		if (f->fl_wait == NULL)
			f->fl_wait_tail = &f->fl_wait;
		if (!ok) {
			log_warnx("a write could not be made durable; it is answered as failed");
			db_note_error(NULL, err);
		}
		reply_one(p, ok, err);
	}
}

static void flush_answer(uv_async_t *h)
{
	flush_answer_now(h->data);
}

/* Open the WAL file and start the thread; -1 leaves the node on FULL. */
static int flush_start(node *n)
{
	struct node_flush *f;
	char path[PATH_MAX + 8];
	int dfd;

	if (n->nd_db_path[0] == '\0' ||
	    snprintf(path, sizeof path, "%s-wal", n->nd_db_path) >= (int)sizeof path)
		return -1;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return -1;
	f->fl_fd = open(path, O_RDWR | O_CLOEXEC);
	if (f->fl_fd < 0) {
		log_warn("cannot open '%s'; writes are synced inside COMMIT", path);
		free(f);
		return -1;
	}
	/* The WAL file's own name must be durable too (it may be new). */
	if ((dfd = open(n->nd_data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(dfd) != 0)
			log_warn("cannot sync directory '%s'", n->nd_data);
		close(dfd);
	}
	f->fl_wait_tail = &f->fl_wait;
	pthread_mutex_init(&f->fl_mu, NULL);
	pthread_cond_init(&f->fl_cv, NULL);
	if (uv_async_init(n->nd_loop, &f->fl_async, flush_answer) != 0)
		goto fail;
	f->fl_async.data = f;
	f->fl_node = n;
	if (pthread_create(&f->fl_thread, NULL, flush_main, f) != 0) {
		uv_close((uv_handle_t *)&f->fl_async, NULL);
		goto fail;
	}
	f->fl_running = 1;
	n->nd_flush = f;
	return 0;
fail:
	close(f->fl_fd);
	pthread_mutex_destroy(&f->fl_mu);
	pthread_cond_destroy(&f->fl_cv);
	free(f);
	return -1;
}

static void flush_closed(uv_handle_t *h)
{
	struct node_flush *f = h->data;

	close(f->fl_fd);
	pthread_mutex_destroy(&f->fl_mu);
	pthread_cond_destroy(&f->fl_cv);
	free(f);
}

/* Let the last sync finish, answer its writes, stop the thread. */
static void flush_stop(node *n)
{
	struct node_flush *f = n->nd_flush;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->fl_mu);
	f->fl_stop = 1;
	pthread_cond_signal(&f->fl_cv);
	pthread_mutex_unlock(&f->fl_mu);
	pthread_join(f->fl_thread, NULL);
	flush_answer(&f->fl_async);
	n->nd_flush = NULL;
	uv_close((uv_handle_t *)&f->fl_async, flush_closed);
}

/* ---- batches ----------------------------------------------------------------------- */

/* The stamp sql reads merged into the node's clock: as its own (own: the
 * outbox's, however far ahead) or as one from elsewhere (hlc_observe()). */
static void observe_text(node *n, const char *sql, int own)
{
	char stamp[HLC_STRLEN];

	if (db_text(n->nd_db, sql, NULL, stamp, sizeof stamp) != 0 || stamp[0] == '\0')
		return;
	if (own)
		hlc_resume(&n->nd_hlc, stamp);
	else
		hlc_observe(&n->nd_hlc, stamp);
}

void node_observe_stamps(node *n, int at_start)
{
	sqlite3_stmt *st = db_stmt(n->nd_db, "PRAGMA data_version");
	int64_t v = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;

	db_stmt_done(st);
	if (!at_start && v == n->nd_data_version)
		return;
	n->nd_data_version = v;
	observe_text(n, "SELECT value FROM node_meta WHERE key='seen_hlc'", 0);
	if (at_start) {
		observe_text(n, "SELECT hlc FROM outbox ORDER BY seq DESC LIMIT 1", 1);
		observe_text(n, "SELECT hlc FROM outbox_sent ORDER BY seq DESC LIMIT 1", 1);
	}
}

int node_write_begin(node *n, struct capture *c)
{
	if (!n->nd_batch_open) {
		/* NORMAL: this batch is synced by the flusher before any reply. */
		if (n->nd_flush && db_exec_cached(n->nd_db, "PRAGMA synchronous=NORMAL") != 0)
			return -1;
		if (db_exec_cached(n->nd_db, "BEGIN IMMEDIATE") != 0) {
			if (n->nd_flush)
				db_exec_cached(n->nd_db, "PRAGMA synchronous=FULL");
			return -1;
		}
		n->nd_batch_open = 1;
		node_observe_stamps(n, 0);
	} else if (sqlite3_get_autocommit(n->nd_db)) {
		/* SQLite rolled the open batch back (an I/O or memory error): its
		 * writes are refused at COMMIT, and this one must not be saved
		 * alone, outside the batch, to be refused with them. */
		return -1;
	}
	return capture_begin(c, n->nd_db);
}

int node_write_finish_body(node *n, struct capture *c, const char *actor, http_req *req,
			   int status, const char *ctype, char *body, size_t len)
{
	char ts[HLC_STRLEN];
	struct node_pending *p;

	hlc_now(&n->nd_hlc, ts);
	if (capture_commit(c, ts, actor, NULL) != 0 || body == NULL ||
	    (p = calloc(1, sizeof *p)) == NULL) {
		free(body);
		node_reply_db_error(req);
		return -1;
	}
	p->req = req;
	p->status = status;
	p->ctype = ctype;
	p->body = body;
	p->len = len;
	if (n->nd_pending_tail == NULL)
		n->nd_pending_tail = &n->nd_pending;
	*n->nd_pending_tail = p;
	n->nd_pending_tail = &p->next;
	/* The last batch's sync may have finished while this batch was being
	 * built: answer its writes now rather than after this whole batch, so
	 * their clients' next writes can still join it. */
	if (n->nd_flush)
		flush_answer_now(n->nd_flush);
	return 0;
}

int node_write_finish_text(node *n, struct capture *c, const char *actor, http_req *req,
			   int status, char *body, size_t len)
{
	return node_write_finish_body(n, c, actor, req, status, NULL, body, len);
}

int node_write_finish(node *n, struct capture *c, const char *actor, http_req *req,
		      int status, cJSON *body)
{
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;

	cJSON_Delete(body);
	return node_write_finish_text(n, c, actor, req, status, text, text ? strlen(text) : 0);
}

int node_write_finish_quiet(node *n, struct capture *c, const char *actor)
{
	char ts[HLC_STRLEN];

	hlc_now(&n->nd_hlc, ts);
	return capture_commit(c, ts, actor, NULL);
}

/* End of a loop iteration: commit the batch; answer it once it is durable. */
static void commit_batch(uv_check_t *h)
{
	node *n = h->data;
	struct node_flush *f = n->nd_flush;
	struct node_pending *p, *next;
	int ok, err = 0;

	if (!n->nd_batch_open)
		return;
	FAULT_POINT("node.commit.before");
	db_take_error();
	ok = db_exec_cached(n->nd_db, "COMMIT") == 0;
	if (ok)
		FAULT_POINT("node.commit.after");
	if (!ok) {
		err = db_take_error();
		log_warnx("batch of office writes not saved; every write in it is refused");
		db_exec(n->nd_db, "ROLLBACK");
	}
	if (f)
		db_exec_cached(n->nd_db, "PRAGMA synchronous=FULL");
	n->nd_batch_open = 0;
	node_live_committed(n, ok); /* the desk's live lists, after the COMMIT */
	if (ok && n->nd_wal_over && !n->nd_ckpt_busy) {
		/* Between batches, on the writer's schedule (see the top). */
		int over = n->nd_wal_over;

		n->nd_wal_over = 0;
		db_wal_restart(n->nd_db, db_wal_busy_ms(over));
	}
	p = n->nd_pending;
	n->nd_pending = NULL;
	n->nd_pending_tail = &n->nd_pending;
	if (!ok || f == NULL || p == NULL) {
		for (; p; p = next) {
			next = p->next;
			reply_one(p, ok, err);
		}
		return;
	}
	/* Queue the batch behind its sync. */
	pthread_mutex_lock(&f->fl_mu);
	f->fl_want++;
	for (; p; p = next) {
		next = p->next;
		p->next = NULL;
		p->ticket = f->fl_want;
		*f->fl_wait_tail = p;
		f->fl_wait_tail = &p->next;
	}
	pthread_cond_signal(&f->fl_cv);
	pthread_mutex_unlock(&f->fl_mu);
}

/* ---- checkpoints ----------------------------------------------------------------- */

static void ckpt_work(uv_work_t *w)
{
	node *n = w->data;
	int log_frames = 0, done = 0;

	if (n->nd_ckpt_db == NULL && db_open(n->nd_db_path, &n->nd_ckpt_db) != 0)
		return;
	if (n->nd_ckpt_idle) {
		db_wal_idle(n->nd_ckpt_db);
		return;
	}
	if (sqlite3_wal_checkpoint_v2(n->nd_ckpt_db, "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames,
				      &done) != SQLITE_OK)
		log_warnx("checkpoint of the office database: %s", sqlite3_errmsg(n->nd_ckpt_db));
}

static void ckpt_after(uv_work_t *w, int status)
{
	node *n = w->data;

	(void)status;
	n->nd_ckpt_busy = 0;
	n->nd_ckpt_idle = 0;
}

/* Every DB_WAL_IDLE_MS: once writes have stopped, the pool truncates the WAL. */
static void ckpt_idle(uv_timer_t *t)
{
	node *n = t->data;

	mem_tick(); /* the heap the pool threads freed goes back (lib/memtrim.h) */
	if (n->nd_ckpt_busy || n->nd_stopping || n->nd_batch_open)
		return;
	n->nd_ckpt_work.data = n;
	n->nd_ckpt_idle = 1;
	if (uv_queue_work(n->nd_loop, &n->nd_ckpt_work, ckpt_work, ckpt_after) == 0)
		n->nd_ckpt_busy = 1;
	else
		n->nd_ckpt_idle = 0;
}

static int on_wal(void *arg, sqlite3 *db, const char *dbname, int frames)
{
	node *n = arg;
	int over;

	(void)dbname;
	if ((over = db_wal_committed(db, frames)) > n->nd_wal_over)
		n->nd_wal_over = over; /* commit_batch() restarts it */
	if (frames < NODE_CHECKPOINT_FRAMES || n->nd_ckpt_busy || n->nd_stopping ||
	    n->nd_wal_over)
		return SQLITE_OK;
	n->nd_ckpt_work.data = n;
	if (uv_queue_work(n->nd_loop, &n->nd_ckpt_work, ckpt_work, ckpt_after) == 0)
		n->nd_ckpt_busy = 1;
	return SQLITE_OK;
}

/* ---- start and stop ---------------------------------------------------------------- */

void node_commit_start(node *n)
{
	const char *path = sqlite3_db_filename(n->nd_db, "main");

	snprintf(n->nd_db_path, sizeof n->nd_db_path, "%s", path ? path : "");
	if (n->nd_db_path[0]) {
		sqlite3_wal_hook(n->nd_db, on_wal, n); /* replaces the automatic checkpoint */
		flush_start(n);
	}
	n->nd_pending_tail = &n->nd_pending;
	uv_check_init(n->nd_loop, &n->nd_commit_check);
	n->nd_commit_check.data = n;
	uv_check_start(&n->nd_commit_check, commit_batch);
	uv_timer_init(n->nd_loop, &n->nd_idle_timer);
	n->nd_idle_timer.data = n;
	if (n->nd_db_path[0])
		uv_timer_start(&n->nd_idle_timer, ckpt_idle, DB_WAL_IDLE_MS, DB_WAL_IDLE_MS);
}

void node_commit_stop(node *n)
{
	commit_batch(&n->nd_commit_check);
	flush_stop(n);
	uv_check_stop(&n->nd_commit_check);
	uv_close((uv_handle_t *)&n->nd_commit_check, NULL);
	uv_timer_stop(&n->nd_idle_timer);
	uv_close((uv_handle_t *)&n->nd_idle_timer, NULL);
}
