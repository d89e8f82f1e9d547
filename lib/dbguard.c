/*
 * dbguard.c - the WAL kept within a bound, and storage errors (a full
 * disk above all) mapped once to what a reply and /healthz say; see db.h.
 *
 * Bounded WAL.  SQLite restarts its WAL from the beginning only once a
 * checkpoint has copied every frame back and no reader still needs them.
 * A PASSIVE checkpoint under sustained writes never gets there: by the time
 * it has copied what it saw, the writer has appended more, so the file
 * grows without end and keeps its size when the load stops.  Here, once a
 * commit leaves more than db_wal_limit() / 2 bytes in the WAL, the writer
 * itself (between its transactions, so nothing waits for it) runs a
 * RESTART checkpoint with a short busy wait; what a passive checkpoint
 * already copied is not copied again, so the pause is the tail plus one
 * fsync of the database.  The next commit writes the WAL from its start
 * again, and journal_size_limit (half the bound) keeps its file no longer
 * than that; db_wal_idle() truncates it to nothing once writes stop.  Not
 * TRUNCATE there: giving the file's 32 MB back to the file system and
 * growing it again made each pause 17 to 23 ms where RESTART takes 3 to 6
 * (the node's check-ins at 64 connections, bench_node: their p99 went from
 * 28 ms to 14 ms).
 *
 * A reader's snapshot holds the checkpoint back (it waits for every reader
 * of the log to finish), and a short wait retried later let the WAL reach
 * several times its bound under load (the push's outbox read held one for
 * up to 700 ms; sync/client_push.c now reads in short chunks).  So past 3/4
 * of the bound the writer waits longer, at every commit, until it succeeds:
 * new readers start on the database file once the log is copied back, so
 * the wait ends with the readers it found.
 */
#include "db.h"
#include "fault.h"
#include "log.h"
#include "locked.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static int guard_page_size = 4096;
static uint64_t guard_last_commit_ms; /* monotonic; 0 = none yet */
static uint64_t guard_next_try_ms;    /* the next over-bound checkpoint, not before */
static int guard_dirty;               /* commits since the last truncation */
static unsigned guard_commits;        /* commits since the last idle tick */
static int guard_full;                /* the last write failed: disk full */
static int64_t guard_wal_max;         /* the largest WAL seen (frames * size) */
static __thread int guard_err;        /* this thread's last storage error */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t db_wal_limit(void)
{
	int64_t t = fault_wal_limit();

	return t > 0 ? t : DB_WAL_LIMIT_BYTES;
}

void db_guard_page_size(int page_size)
{
	if (page_size >= 512)
		guard_page_size = page_size;
}

int db_wal_committed(sqlite3 *db, int frames)
{
	int64_t bytes = (int64_t)frames * (guard_page_size + 24) + 32;
	int over = 0;
	uint64_t now = mono_ms();

	(void)db;
	pthread_mutex_lock(&guard_lock);
	guard_last_commit_ms = now;
	guard_dirty = 1;
	guard_commits++;
	if (guard_full)
		log_info("a write was saved again: the disk has room");
	guard_full = 0;
	if (bytes > guard_wal_max)
		guard_wal_max = bytes;
	if (bytes > db_wal_limit() / 4 * 3)
		over = 2;
	else if (bytes > db_wal_limit() / 2 && now >= guard_next_try_ms)
		over = 1;
	pthread_mutex_unlock(&guard_lock);
	guard_err = 0;
	return over;
}

LOCKED_GETTER(int64_t, db_wal_largest, guard_lock, guard_wal_max)

int db_wal_busy_ms(int over)
{
	return over >= 2 ? DB_WAL_HARD_BUSY_MS : DB_WAL_BUSY_MS;
}

static int wal_checkpoint(sqlite3 *db, int busy_ms, int mode)
{
	int log_frames = 0, done = 0, rc;

	db_busy_wait(db, busy_ms);
	rc = sqlite3_wal_checkpoint_v2(db, "main", mode, &log_frames, &done);
	db_busy_wait(db, DB_BUSY_TIMEOUT_MS);
	if (rc == SQLITE_OK)
		return 0;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		/* Readers still in the log: not at every commit meanwhile. */
		pthread_mutex_lock(&guard_lock);
		guard_next_try_ms = mono_ms() + DB_WAL_RETRY_MS;
		pthread_mutex_unlock(&guard_lock);
		return 1;
	}
	db_note_error(db, rc);
	log_warnx("cannot checkpoint the database's log: %s", sqlite3_errstr(rc));
	return -1;
}

int db_wal_truncate(sqlite3 *db, int busy_ms)
{
	return wal_checkpoint(db, busy_ms, SQLITE_CHECKPOINT_TRUNCATE);
}

int db_wal_restart(sqlite3 *db, int busy_ms)
{
	return wal_checkpoint(db, busy_ms, SQLITE_CHECKPOINT_RESTART);
}

int db_wal_idle(sqlite3 *db)
{
	int log_frames = 0, done = 0, rc;
	unsigned commits;

	/* Idle: a few commits a second at most (a sync cycle's bookkeeping). */
	pthread_mutex_lock(&guard_lock);
	commits = guard_commits;
	guard_commits = 0;
	if (!guard_dirty || commits > DB_WAL_IDLE_COMMITS) {
		pthread_mutex_unlock(&guard_lock);
		return 1;
	}
	guard_dirty = 0;
	pthread_mutex_unlock(&guard_lock);
	/* Copy first without the writer lock, then only the tail with it.  A
	 * passive pass that did not reach the end (writes came in, a reader
	 * holds an older snapshot) means not idle: the truncation would copy
	 * the rest and sync the database file holding the writer lock, which
	 * every office write waits for - seconds on a busy disk, past their
	 * busy timeout (a soak's 5xx).  The next tick tries again. */
	rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done);
	if (rc != SQLITE_OK || done < log_frames) {
		pthread_mutex_lock(&guard_lock);
		guard_dirty = 1;
		pthread_mutex_unlock(&guard_lock);
		return 1;
	}
	rc = db_wal_truncate(db, 0);
	if (rc != 0) {
		pthread_mutex_lock(&guard_lock);
		guard_dirty = 1; /* try again at the next tick */
		pthread_mutex_unlock(&guard_lock);
	}
	return rc;
}

int64_t db_wal_size(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");
	char wal[4096];
	struct stat sb;

	if (path == NULL || snprintf(wal, sizeof wal, "%s-wal", path) >= (int)sizeof wal ||
	    stat(wal, &sb) != 0)
		return 0;
	return (int64_t)sb.st_size;
}

int db_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	int log_frames = 0, done = 0, over;

	(void)arg;
	if ((over = db_wal_committed(db, frames)) != 0)
		db_wal_restart(db, db_wal_busy_ms(over));
	else if (frames >= DB_CHECKPOINT_FRAMES)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done);
	return SQLITE_OK;
}

/* ---- storage errors ------------------------------------------------------------ */

static int storage_class(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return 3;
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CORRUPT:
	case SQLITE_CANTOPEN:
		return 2;
	default:
		return rc != SQLITE_OK;
	}
}

void db_note_error(sqlite3 *db, int rc)
{
	if (rc == SQLITE_OK && db != NULL)
		rc = sqlite3_extended_errcode(db);
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_ROW || (rc & 0xff) == SQLITE_DONE)
		return;
	/* Keep the gravest: a ROLLBACK after a failed COMMIT must not hide
	 * that the disk was full. */
	if (storage_class(rc) >= storage_class(guard_err))
		guard_err = rc;
	if ((rc & 0xff) == SQLITE_FULL) {
		pthread_mutex_lock(&guard_lock);
		if (!guard_full)
			log_warnx("the disk is full: writes are refused until space is freed");
		guard_full = 1;
		pthread_mutex_unlock(&guard_lock);
	}
}

int db_take_error(void)
{
	int rc = guard_err;

	guard_err = 0;
	return rc;
}

int db_peek_error(void)
{
	return guard_err;
}

LOCKED_GETTER(int, db_disk_full, guard_lock, guard_full)

void db_log_callback(void *arg, int rc, const char *msg)
{
	(void)arg;
	(void)msg;
	/* SQLite's error log names I/O failures inside statements that the
	 * caller may report only as "failed"; keep the code for the reply. */
	if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR)
		db_note_error(NULL, rc);
}

int db_http_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return 507;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return 503;
	case SQLITE_TOOBIG:
		return 413;
	default:
		return 500;
	}
}

const char *db_error_text(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return "the disk is full: the change was not saved; free some disk space "
		       "on this computer and try again";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "the database is busy: try again in a moment";
	case SQLITE_IOERR:
		return "the disk reported an error: the change was not saved";
	case SQLITE_NOMEM:
		return "out of memory: the change was not saved";
	case SQLITE_TOOBIG:
		return "the change is too large to be sent to the hub: it was not saved; "
		       "make it in smaller parts";
	default:
		return "the database could not complete the request";
	}
}

void db_health_json(cJSON *o)
{
	int full = db_disk_full();

	cJSON_AddBoolToObject(o, "disk_full", full);
	if (full)
		cJSON_AddStringToObject(o, "storage_error", db_error_text(SQLITE_FULL));
	else
		cJSON_AddNullToObject(o, "storage_error");
}
