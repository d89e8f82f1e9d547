/*
 * sent.c - the node's sent log: outbox entries the hub acknowledged, kept
 * for `resend_days` (sync_state, default SYNC_RESEND_DAYS) so that a hub
 * restored from an older backup gets them again (README "Disaster
 * recovery").
 *
 * When the hub acknowledges entries up to local seq A, push_commit() moves
 * them from `outbox` to `outbox_sent` in the same transaction (one table
 * per state keeps every "is anything pending?" check, the pull's among
 * them, a plain look at `outbox`).  The hub's acked seq for a node never
 * goes back, except when the hub's database is replaced by a backup.  A
 * node sees that in two places:
 *   - a push answered 409 with an expected seq below its outbox's first
 *     entry (it had pending entries);
 *   - a pull or snapshot reply whose X-Outpost-Acked is below the node's
 *     acked seq read before the request (it had none: the hub's figure,
 *     read after the request arrived, can only be at least that high
 *     unless the hub went back).
 * Either way sync__sent_resend() copies the entries after the hub's seq
 * back into `outbox` (same seqs, same bytes) and lowers the node's
 * acked_seq to the hub's; the pull then refuses (local changes pending),
 * the cycle pushes them again, and the next pull, whose cursor the
 * restored hub refuses (410: it lies in the restore's gap), takes a new
 * snapshot.  Entries the hub still has are skipped there as replays, so a
 * false alarm costs bytes, never data.
 *
 * When the sent log no longer reaches back to the hub's seq (the backup is
 * older than resend_days), nothing is moved and the error says which
 * entries are lost; the push then keeps failing with that message.
 */
#include "sync/client.h"
#include "lib/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const db_migration sentlog_migrations[] = {
	/* IF NOT EXISTS: the node and the command may migrate at the same time. */
	{"CREATE TABLE IF NOT EXISTS outbox_sent("
	 " seq INTEGER PRIMARY KEY NOT NULL,"
	 " hlc TEXT NOT NULL,"
	 " actor TEXT,"
	 " created_at INTEGER NOT NULL,"
	 " schema_version INTEGER NOT NULL,"
	 " nbytes INTEGER NOT NULL,"
	 " changeset BLOB NOT NULL,"
	 " acked_at INTEGER NOT NULL);"
	 "CREATE INDEX IF NOT EXISTS outbox_sent_acked ON outbox_sent(acked_at);"},
};

int sync__sent_migrate(sqlite3 *db)
{
	return DB_MIGRATE_ALL(db, "sentlog", sentlog_migrations);
}

static int64_t keep_ms(sqlite3 *db)
{
	int64_t days = SYNC_RESEND_DAYS;

	if (db_kv_get_i64(db, "sync_state", "resend_days", &days) != DB_FOUND || days < 0)
		days = SYNC_RESEND_DAYS;
	return days * 24 * 3600 * 1000;
}

int sync__sent_keep(sqlite3 *db, int64_t upto, int64_t now)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (db_prepare(db, &st, "INSERT OR IGNORE INTO outbox_sent(seq, hlc, actor, created_at,"
				" schema_version, nbytes, changeset, acked_at)"
				" SELECT seq, hlc, actor, created_at, schema_version, nbytes,"
				" changeset, ?2 FROM outbox WHERE seq <= ?1") != 0)
		return -1;
	sqlite3_bind_int64(st, 1, upto);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (db_prepare(db, &st, "DELETE FROM outbox_sent WHERE acked_at < ?1") != 0)
		goto out;
	sqlite3_bind_int64(st, 1, now - keep_ms(db));
	ret = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Entries of the sent log in (lo, hi]. */
static int64_t sent_count(sqlite3 *db, int64_t lo, int64_t hi)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (db_prepare(db, &st, "SELECT count(*) FROM outbox_sent WHERE seq > ?1 AND seq <= ?2") != 0)
		return -1;
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The sent log's entries after..through back in the outbox, and the
 * node's acknowledgement at after: the next push offers them first.  0 or
 * -1, inside the caller's transaction. */
static int sent_requeue(sqlite3 *db, int64_t after, int64_t through)
{
	char v[32];

	snprintf(v, sizeof v, "%" PRId64, after);
	if (db_run(db, "INSERT OR IGNORE INTO outbox(seq, hlc, actor, created_at, schema_version,"
		       " nbytes, changeset) SELECT seq, hlc, actor, created_at, schema_version, nbytes,"
		       " changeset FROM outbox_sent WHERE seq > ?1 AND seq <= ?2", "II", after,
		       through) != 0)
		return -1;
	return db_kv_set(db, "sync_state", "acked_seq", v);
}

int sync__sent_resend(sqlite3 *db, int64_t base, int64_t hub_acked, int64_t *count, char *err,
		      size_t errlen)
{
	int64_t acked = -1, lo = hub_acked + base, have;
	int ret = -1;

	*count = 0;
	if (db_exec(db, "BEGIN IMMEDIATE") != 0) {
		snprintf(err, errlen, "cannot read the sent log");
		return -1;
	}
	if (db_kv_get_i64(db, "sync_state", "acked_seq", &acked) != DB_FOUND || acked <= lo) {
		ret = 0; /* nothing to send again (another process did it) */
		goto out;
	}
	have = sent_count(db, lo, acked);
	if (have != acked - lo) {
		/* What the sent log still holds goes once the hub gives up the
		 * rest: operations does that, naming the last entry lost. */
		int64_t held = db_int_bound(db, acked + 1, "SELECT coalesce(min(seq), ?2) FROM ("
						       " SELECT seq FROM outbox_sent WHERE seq > ?1"
						       " UNION ALL SELECT seq FROM outbox WHERE seq > ?1)",
					    "II", lo, acked + 1);

		snprintf(err, errlen,
			 "the hub holds this node's changes up to %" PRId64 " only (restored from a "
			 "backup?), and changes %" PRId64 "..%" PRId64 " are no longer in the sent log "
			 "(kept resend_days): they are lost at the hub; to send the rest, operations "
			 "accepts the loss at the hub%s: POST /api/v1/nodes/NODE/accept-loss "
			 "{\"through_seq\": %" PRId64 "} (README, Disaster recovery)",
			 hub_acked, hub_acked + 1, held - 1 - base,
			 held > acked ? " once this node has tried to push its next change (the hub"
					" learns from it where this office's changes begin)"
				      : "",
			 held - 1 - base);
		/* What it still holds goes back in the outbox: the next push
		 * offers it from its first entry, so the hub learns where this
		 * office's entries begin (nodes.gap_seq) and refuses to give
		 * up any it still holds. */
		if (held <= acked && sent_requeue(db, held - 1, acked) == 0 &&
		    db_exec(db, "COMMIT") == 0)
			return 1;
		goto out;
	}
	if (sent_requeue(db, lo, acked) != 0)
		goto out;
	*count = acked - lo;
	ret = 0;
out:
	if (ret == 0 && db_exec(db, "COMMIT") == 0) {
		if (*count > 0)
			log_warnx("the hub holds this node's changes up to %" PRId64 " only, %" PRId64
				  " fewer than it acknowledged (restored from a backup?): sending "
				  "them again",
				  hub_acked, *count);
		return 0;
	}
	db_exec(db, "ROLLBACK");
	if (ret == 0)
		snprintf(err, errlen, "cannot move the sent log back to the outbox");
	return -1;
}

int sync__hub_behind(sqlite3 *db, int64_t hub_acked, int64_t acked_before, char *err,
		     size_t errlen)
{
	int64_t base = 0, count = 0;

	if (hub_acked < 0 || acked_before < 0)
		return 0;
	if (db_kv_get_i64(db, "sync_state", "seq_base", &base) < 0) {
		snprintf(err, errlen, "cannot read the sync state of the office database");
		return -1;
	}
	if (hub_acked + base >= acked_before)
		return 0;
	if (sync__sent_resend(db, base, hub_acked, &count, err, errlen) != 0)
		return -1;
	snprintf(err, errlen,
		 "the hub holds this node's changes up to %" PRId64 " only (restored from a "
		 "backup?): %" PRId64 " sent again first",
		 hub_acked, count);
	return 1;
}
