/*
 * hub_sync.c - the work behind the replication API of sync/sync.h at the
 * hub: the ingest core of a push (which `outpost-hub import` shares), pull
 * pages, snapshots and digests.  The routes and who signed a request are
 * hub_sync_api.c's and hub_sync_auth.c's.
 *
 * The database-heavy work (applying a batch, building a page, a snapshot or
 * digests) runs in the libuv thread pool: a push on a second connection,
 * hb_wdb, one at a time under hb_wlock; the reads on read connections of
 * their own beside it (hub_work.c).  A push is applied in
 * bounded transactions (HUB_TXN_MAX_ENTRIES entries or HUB_TXN_MAX_BYTES of
 * changesets), each of which also moves the node's acked_seq, so a week of
 * backlog never holds the write lock for long and an interrupted push
 * resumes exactly where its last commit ended.
 *
 * No job replies before its request's nonce is committed (job_finish,
 * hub_contact_durable): a push's is written inside its group's transaction;
 * a read's by the work thread's flush after the page, or, when a push holds
 * the write lock, the reply is parked (hb_park) until the runner's next
 * commit (a group without pushes when none waits).  So a hub killed after
 * a reply refuses that request replayed once it is back.
 */
#include "hub/hub.h"
#include "lib/crypto.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/testhook.h"
#include "model/crm.h"
#include "model/schema.h"
#include "sync/frame.h"
#include "sync/zbody.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* A page shrinks to one row when it must (sync/pull.c); the largest row, an
 * attachment (model/crm.h), must fit that page (sync.h asserts that the
 * node's reply cap holds a page). */
_Static_assert(CRM_ATTACH_MAX + 64 * 1024 <= SYNC_PULL_PAGE_MAX_BYTES, "an attachment fits a pull page");
/* The same for a snapshot page, whose rows are bounded the same way. */
_Static_assert(CRM_ATTACH_MAX + 64 * 1024 <= SYNC_SNAPSHOT_PAGE_BYTES, "an attachment fits a snapshot page");
_Static_assert(HUB_MAX_PUSH_BODY >= SYNC_MAX_PUSH_FRAME, "the push route takes the largest frame");

/* ---- replies: every one carries the hub clock ------------------------------ */

static void add_time(http_req *req)
{
	char t[32];

	snprintf(t, sizeof t, "%" PRIu64, hub_now_ms());
	http_add_header(req, "X-Outpost-Time", t);
}

static void sreply_json(http_req *req, int status, cJSON *o)
{
	add_time(req);
	http_reply_json(req, status, o);
}

static void sreply_error(http_req *req, int status, const char *msg)
{
	add_time(req);
	http_reply_error(req, status, NULL, "%s", msg);
}

/* ---- the ingest core (push and import) -------------------------------------- */

void hub_ingest_release(hub_ingest_result *res)
{
	cJSON_Delete(res->hi_quarantined);
	res->hi_quarantined = NULL;
	cJSON_Delete(res->hi_held);
	res->hi_held = NULL;
}

static int ingest_fail(hub_ingest_result *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ingest_fail(hub_ingest_result *res, int status, const char *fmt, ...)
{
	va_list ap;

	res->hi_status = status;
	va_start(ap, fmt);
	vsnprintf(res->hi_error, sizeof res->hi_error, fmt, ap);
	va_end(ap);
	return -1;
}

/* A database failure: 507 and the plain words when the disk is full (the
 * node shows them and tries again), else 500 with msg. */
static int ingest_db_fail_rc(hub_ingest_result *res, int rc, const char *msg)
{
	if (db_http_status(rc) == 507)
		return ingest_fail(res, 507, "%s", db_error_text(rc));
	return ingest_fail(res, 500, "%s", msg);
}

static int ingest_db_fail(hub_ingest_result *res, const char *msg)
{
	return ingest_db_fail_rc(res, db_take_error(), msg);
}

/* (A gap's bound, nodes.gap_seq, goes once entries are taken past it: not
 * at the end of a push refused for it, which also comes here.)  taken_seq
 * and taken_hlc: the last entry taken from the node (0: none known). */
static int set_acked(sqlite3 *db, const char *node_id, int64_t acked, uint32_t schema,
		     int64_t taken_seq, const char *taken_hlc)
{
	return db_run(db,
		      "UPDATE nodes SET acked_seq=max(acked_seq, ?1), schema_version=?2, last_error=NULL,"
		      " gap_seq=CASE WHEN ?1 > acked_seq THEN NULL ELSE gap_seq END,"
		      " taken_seq=CASE WHEN ?4 > 0 THEN ?4 ELSE taken_seq END,"
		      " taken_hlc=CASE WHEN ?4 > 0 THEN ?5 ELSE taken_hlc END"
		      " WHERE id=?3",
		      "IItIt", acked, (int64_t)schema, node_id, taken_seq, taken_hlc);
}

void hub_schema_refusal(char *out, size_t n, const char *what, int64_t v)
{
	char vs[24] = "(none)";

	if (v >= 0)
		snprintf(vs, sizeof vs, "%" PRId64, v);
	snprintf(out, n, "%s" HUB_SCHEMA_REFUSED "%s of this node is not the hub's (%d): "
		 "upgrade outpost on the %s", what, vs, schema_version(),
		 v > schema_version() ? "hub" : "node");
}

/* Open the frame and walk it whole before touching the database (a
 * malformed entry anywhere refuses the batch whole).  0 and the entry
 * count, or -1 with res set (400, 426). */
static int ingest_check(hub_ingest_result *res, frame_reader *r, const void *frame, size_t len,
			uint32_t *count)
{
	frame_reader pass;
	sync_entry e;
	const char *err = NULL;
	int rc;

	if (frame_open(r, frame, len, &err) != 0) {
		ingest_fail(res, 400, "malformed push frame: %s", err ? err : "unreadable");
		return -1;
	}
	res->hi_schema = r->fr_schema;
	if ((int64_t)r->fr_schema != schema_version()) {
		res->hi_status = 426;
		hub_schema_refusal(res->hi_error, sizeof res->hi_error, "push", r->fr_schema);
		return -1;
	}
	pass = *r;
	while ((rc = frame_next(&pass, &e, &err)) == 1)
		(*count)++;
	if (rc < 0) {
		ingest_fail(res, 400, "malformed push frame: %s", err ? err : "bad entry");
		return -1;
	}
	return 0;
}

/* The node's acknowledged seq as the hub has it, or -1. */
static int64_t ingest_acked(sqlite3 *db, const char *node_id)
{
	sqlite3_stmt *st = NULL;
	int64_t acked = -1;

	if (db_prepare_bound(db, &st, "SELECT acked_seq FROM nodes WHERE id=?", "t", node_id) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW)
			acked = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return acked;
}

/* The entries of one transaction, waiting for their apply: the strings a
 * frame reader reuses are copied. */
typedef struct ingest_pend {
	sync_entry *ip_e;
	char (*ip_str)[2][65]; /* hlc, actor */
	sync_apply_result *ip_res;
	int ip_n;
	size_t ip_bytes;
	sqlite3_stmt *ip_quar; /* a replayed entry's quarantine (replay_held) */
	/* The last entry the hub took from the node (ingest_taken): a replay
	 * of its seq must carry its HLC (ingest_entry). */
	int64_t ip_tseq;
	char ip_thlc[65];
} ingest_pend;

/* The node's last entry taken as the hub has it (nodes.taken_seq,
 * taken_hlc; none for a node the hub took nothing from since it began to
 * keep them) into p.  0, or -1 on a database error. */
static int ingest_taken(sqlite3 *db, const char *node_id, ingest_pend *p)
{
	sqlite3_stmt *st = NULL;
	int rc;

	p->ip_tseq = 0;
	p->ip_thlc[0] = '\0';
	if (db_prepare_bound(db, &st, "SELECT taken_seq, taken_hlc FROM nodes WHERE id=?1", "t",
			     node_id) != 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && db_col(st, 1) != NULL) {
		p->ip_tseq = sqlite3_column_int64(st, 0);
		snprintf(p->ip_thlc, sizeof p->ip_thlc, "%s", db_col(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* q, an entry the hub held in quarantine before this ingest, into the
 * answer's quarantined list, and a copy into hi_held when the caller keeps
 * one (hub_ingest).  0, or -1 out of memory (q still the caller's). */
static int report_held(hub_ingest_result *res, cJSON *q)
{
	cJSON *copy = NULL;

	if (res->hi_held != NULL && (copy = cJSON_Duplicate(q, 1)) == NULL)
		return -1;
	cJSON_AddItemToArray(res->hi_quarantined, q);
	if (copy != NULL)
		cJSON_AddItemToArray(res->hi_held, copy);
	return 0;
}

/* An entry sent again (seq <= acked) that the hub still holds in
 * quarantine (not yet resolved) goes into the answer's quarantined list as
 * when it first came, not skipped:
 * an office whose outbox reached the hub by bundle (outpost-hub import)
 * learns of it only from its next push, which replays the entries.  1 when
 * held, 0 when not, -1 on a database error. */
static int replay_held(sqlite3 *db, ingest_pend *p, const char *node_id, int64_t seq,
		       hub_ingest_result *res)
{
	cJSON *q;
	int rc;

	if (p->ip_quar == NULL &&
	    db_prepare(db, &p->ip_quar, "SELECT reason FROM quarantine WHERE node_id=?1 AND "
					"seq=?2 AND resolved_at IS NULL ORDER BY created_at LIMIT 1") != 0)
		return -1;
	sqlite3_bind_text(p->ip_quar, 1, node_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(p->ip_quar, 2, seq);
	rc = sqlite3_step(p->ip_quar);
	if (rc == SQLITE_ROW) {
		q = cJSON_CreateObject();
		if (q == NULL || cJSON_AddNumberToObject(q, "seq", (double)seq) == NULL ||
		    cJSON_AddStringToObject(q, "reason",
					    (const char *)sqlite3_column_text(p->ip_quar, 0)) == NULL ||
		    report_held(res, q) != 0) {
			cJSON_Delete(q);
			rc = SQLITE_NOMEM;
		}
	}
	sqlite3_reset(p->ip_quar);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/*
 * The entries after a frame's last (seq > last) that the hub acknowledged
 * all the same (an import took them) and holds in quarantine, into the
 * answer's quarantined list: the node moves on to the acknowledged seq
 * without sending them, so their replay would never come to report them
 * (replay_held).  0, or -1 on a database error.
 */
static int replay_held_after(sqlite3 *db, const char *node_id, int64_t last, int64_t acked,
			     hub_ingest_result *res)
{
	sqlite3_stmt *st;
	int rc;

	if (last >= acked)
		return 0;
	if (db_prepare(db, &st, "SELECT seq, reason FROM quarantine WHERE node_id=?1 AND seq>?2"
				" AND seq<=?3 AND resolved_at IS NULL GROUP BY seq ORDER BY seq") != 0)
		return -1;
	sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, last);
	sqlite3_bind_int64(st, 3, acked);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *q = cJSON_CreateObject();

		if (q == NULL ||
		    cJSON_AddNumberToObject(q, "seq", (double)sqlite3_column_int64(st, 0)) == NULL ||
		    cJSON_AddStringToObject(q, "reason", db_col(st, 1) ? db_col(st, 1) : "") == NULL ||
		    report_held(res, q) != 0) {
			cJSON_Delete(q);
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

char *hub_node_taken_ack(sqlite3 *db, const char *node_id, int64_t *acked)
{
	hub_ingest_result res;
	ingest_pend p;
	cJSON *o = NULL;
	char *text = NULL;

	*acked = -1;
	memset(&res, 0, sizeof res);
	memset(&p, 0, sizeof p);
	if (ingest_taken(db, node_id, &p) != 0)
		return NULL;
	if (p.ip_thlc[0] == '\0' || p.ip_tseq <= 0) {
		*acked = 0;
		return NULL;
	}
	/* the entries up to it the hub holds in quarantine, as the push
	 * that takes them (or its replay, replay_held_after) reports them:
	 * once they leave the outbox no push ever will */
	if ((res.hi_quarantined = cJSON_CreateArray()) == NULL ||
	    replay_held_after(db, node_id, 0, p.ip_tseq, &res) != 0 ||
	    (o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddNumberToObject(o, "acked_seq", (double)p.ip_tseq) == NULL ||
	    cJSON_AddStringToObject(o, "acked_hlc", p.ip_thlc) == NULL)
		goto out;
	cJSON_AddItemToObject(o, "quarantined", res.hi_quarantined);
	res.hi_quarantined = NULL;
	text = cJSON_PrintUnformatted(o);
	if (text != NULL)
		*acked = p.ip_tseq;
out:
	cJSON_Delete(o);
	hub_ingest_release(&res);
	return text;
}

/*
 * 1 when e, under a seq the hub acknowledged, is not the entry it took
 * then, else 0.  A replay is the entry the hub already took, sent again
 * (a node stopped between the hub's commit and its own).  An entry with an acknowledged
 * seq but another HLC than the hub took under it is not: the office's
 * database went back (restored from an older copy) or was copied to a
 * second PC, and its seqs start again below what the hub holds.  Skipped,
 * it would be acknowledged and never applied; refused, the node keeps it
 * and says so, and enrolling the PC again sends it under a new identity.
 * The HLC of the last entry taken is the one kept (a node's backlog
 * begins after it, so a replay of the outbox's tail carries it): a
 * replay of that seq carries it exactly, and one of an earlier seq a time
 * no later (a node stamps its entries in the order it numbers them, and
 * resumes its clock from its outbox), whereas an entry written after the
 * copy or the restore is stamped later than everything the hub took.  The
 * node itself stops when acknowledged past every seq it wrote
 * (sync/client_push.c). */
static int ingest_seq_reused(const ingest_pend *p, const sync_entry *e)
{
	/* "%012x.%04x": the time part of a stamp, compared as text */
	const size_t tlen = 12 + 1 + 4;

	if (p->ip_thlc[0] == '\0' || e->seq > p->ip_tseq)
		return 0;
	if (e->seq == p->ip_tseq)
		return strcmp(e->hlc, p->ip_thlc) != 0;
	return strncmp(e->hlc, p->ip_thlc, tlen) > 0;
}

/* One entry of a batch inside the open transaction: 0 taken (*acked moves
 * on; applied at the next ingest_flush), or skipped as a replay (reported
 * again when held in quarantine); 1 a sequence gap or a seq reused
 * (ingest_seq_reused; res says 409: stop, keep what came before); -1 with
 * res set (500). */
static int ingest_entry(sqlite3 *db, ingest_pend *p, const sync_scope *sc, const sync_entry *e,
			int64_t *acked, hub_ingest_result *res)
{
	sync_entry *q;

	if (e->seq <= *acked) {
		if (ingest_seq_reused(p, e)) {
			snprintf(res->hi_error, sizeof res->hi_error,
				 "entry %" PRId64 " is not the one this hub took under that seq: "
				 "the office PC's database is older than what it sent (restored "
				 "from a backup) or was copied from another PC; enroll that PC "
				 "again with a new code (outpost-sync enroll --force)", e->seq);
			res->hi_status = 409;
			return 1;
		}
		if (test_plant("doubleapply")) {
			/* planted bug: a replay is applied again */
			sync_apply_result tr;
			if (sync_hub_apply(db, sc, e, &tr) != 0) {
				ingest_db_fail(res, "the hub could not apply the batch");
				return -1;
			}
		}
		switch (replay_held(db, p, sc->node_id, e->seq, res)) {
		case 0:
			res->hi_skipped++;
			break;
		case -1:
			ingest_db_fail(res, "cannot read the hub's quarantine");
			return -1;
		}
		return 0;
	}
	if (e->seq != *acked + 1) {
		res->hi_expected_seq = *acked + 1;
		res->hi_offered_seq = e->seq;
		snprintf(res->hi_error, sizeof res->hi_error,
			 "sequence gap: expected seq %" PRId64 ", got %" PRId64, *acked + 1, e->seq);
		res->hi_status = 409;
		return 1;
	}
	*acked = e->seq;
	p->ip_tseq = e->seq;
	snprintf(p->ip_thlc, sizeof p->ip_thlc, "%s", e->hlc);
	if (test_plant("drop") && e->seq == 2) {
		res->hi_applied++; /* planted bug: acked, never applied */
		return 0;
	}
	q = &p->ip_e[p->ip_n];
	*q = *e;
	snprintf(p->ip_str[p->ip_n][0], sizeof p->ip_str[0][0], "%s", e->hlc);
	snprintf(p->ip_str[p->ip_n][1], sizeof p->ip_str[0][1], "%s", e->actor ? e->actor : "");
	q->hlc = p->ip_str[p->ip_n][0];
	q->actor = e->actor ? p->ip_str[p->ip_n][1] : NULL;
	p->ip_n++;
	p->ip_bytes += e->len;
	return 0;
}

/* Apply the waiting entries (sync_hub_apply_batch) and count them.  0, or
 * -1 with res set (500). */
static int ingest_flush(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
			ingest_pend *p, hub_ingest_result *res)
{
	int n = p->ip_n;
	uint64_t wall;

	p->ip_n = 0;
	p->ip_bytes = 0;
	if (n > 0 && sync_hub_apply_batch(db, cache, sc, p->ip_e, n, p->ip_res) != 0) {
		log_warnx("cannot apply seq %" PRId64 "..%" PRId64 " from node %s: internal error",
			  p->ip_e[0].seq, p->ip_e[n - 1].seq, sc->node_id);
		ingest_db_fail(res, "the hub could not apply the batch");
		return -1;
	}
	wall = hlc_wall_ms();
	for (int i = 0; i < n; i++) {
		const sync_apply_result *ar = &p->ip_res[i];
		const sync_entry *e = &p->ip_e[i];
		if (ar->applied) {
			res->hi_applied++;
		} else {
			cJSON *q = cJSON_CreateObject();
			if (q != NULL) {
				cJSON_AddNumberToObject(q, "seq", (double)e->seq);
				cJSON_AddStringToObject(q, "reason", ar->reason);
				cJSON_AddItemToArray(res->hi_quarantined, q);
			}
		}
		res->hi_conflicts += ar->conflicts;
		/* (the clock follows what the hub stores, never a refused entry) */
		if (ar->applied && e->hlc && strcmp(e->hlc, res->hi_max_hlc) > 0 &&
		    hlc_plausible(e->hlc, wall))
			snprintf(res->hi_max_hlc, sizeof res->hi_max_hlc, "%s", e->hlc);
		FAULT_POINT("hub.apply.entry");
	}
	return 0;
}

static void ingest_pend_release(ingest_pend *p)
{
	free(p->ip_e);
	free(p->ip_str);
	free(p->ip_res);
	sqlite3_finalize(p->ip_quar);
	memset(p, 0, sizeof *p);
}

static int ingest_pend_init(ingest_pend *p)
{
	memset(p, 0, sizeof *p);
	p->ip_e = calloc(HUB_TXN_MAX_ENTRIES, sizeof *p->ip_e);
	p->ip_str = calloc(HUB_TXN_MAX_ENTRIES, sizeof *p->ip_str);
	p->ip_res = calloc(HUB_TXN_MAX_ENTRIES, sizeof *p->ip_res);
	if (p->ip_e && p->ip_str && p->ip_res)
		return 0;
	ingest_pend_release(p);
	return -1;
}

/* Progress and entries commit together.  0, or -1 with res set (the
 * transaction rolled back). */
/* Set by the push runner (job_push_group): hub_ingest runs inside the
 * runner's transaction, each push in a savepoint of its own, and the
 * runner commits them all at once.  A push's bounded transactions
 * (HUB_TXN_MAX_ENTRIES) still commit as they fill, with whatever the group
 * holds before them; push_commits counts those commits. */
static _Thread_local int push_group;
static _Thread_local unsigned push_commits;

static int txn_begin(sqlite3 *db)
{
	if (!push_group)
		return db_exec(db, "BEGIN IMMEDIATE");
	if (sqlite3_get_autocommit(db) && db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	return db_exec(db, "SAVEPOINT hub_push");
}

/* The push's entries so far commit (last: the push is done; in a group it
 * is kept for the runner's commit). */
static int txn_commit(sqlite3 *db, int last)
{
	if (!push_group)
		return db_exec(db, "COMMIT");
	if (db_exec(db, "RELEASE hub_push") != 0)
		return -1;
	if (last)
		return 0;
	push_commits++;
	return db_exec(db, "COMMIT");
}

static void txn_rollback(sqlite3 *db)
{
	if (!push_group) {
		db_exec(db, "ROLLBACK");
		return;
	}
	db_exec(db, "ROLLBACK TO hub_push");
	db_exec(db, "RELEASE hub_push");
}

/* Inside the push's transaction, before its entries: the node is still
 * enrolled as it was authenticated (hub_node_current), so a push checked
 * just before a revocation committed applies nothing after it.  0, or -1
 * with res set (401, 500). */
static int ingest_node_current(sqlite3 *db, const hub_node *n, hub_ingest_result *res)
{
	int rc = hub_node_current(db, n);

	if (rc < 0)
		return ingest_db_fail(res, "cannot read the node's enrollment");
	if (rc == 0)
		return ingest_fail(res, 401, "node revoked");
	return 0;
}

static int ingest_commit(sqlite3 *db, const hub_node *n, int64_t acked, uint32_t schema,
			 const ingest_pend *p, int last, hub_ingest_result *res)
{
	if (set_acked(db, n->hn_id, acked, schema, p->ip_tseq, p->ip_thlc) != 0 ||
	    sync_hub_stamp_note(db, res->hi_max_hlc[0] ? res->hi_max_hlc : NULL) != 0) {
		txn_rollback(db);
		ingest_db_fail(res, "the hub could not commit the batch");
		return -1;
	}
	/* SSNs the push stored under an older key, under the newest now, after
	 * its every entry (a later one of the same row merges as before). */
	if (last && hub_keys_reencrypt_pushed(db) != 0)
		log_warnx("node %s: cannot write the SSNs it pushed under an older key again under"
			  " the newest; the hub's pass does", n->hn_id);
	if (txn_commit(db, last) != 0) {
		txn_rollback(db);
		ingest_db_fail(res, "the hub could not commit the batch");
		return -1;
	}
	res->hi_acked_seq = acked;
	return 0;
}

/* What the batch did, each entry counted once: applied, skipped as a
 * replay, quarantined by it; apart from those the entries the hub held in
 * quarantine before it (a replay of one, or one an import took past the
 * frame), which the reply reports again (hi_held) but this batch neither
 * applied nor quarantined; and the conflicts its merges recorded. */
static void ingest_log(const hub_node *n, uint32_t count, const hub_ingest_result *res)
{
	int held = cJSON_GetArraySize(res->hi_held);

	if (res->hi_status == 200 || res->hi_status == 409)
		log_info("batch from node %s: %u entries, applied %d, skipped %d, "
			 "quarantined %d, still quarantined from before %d, "
			 "conflicts %d, acked %" PRId64 "%s%s",
			 n->hn_id, count, res->hi_applied, res->hi_skipped,
			 cJSON_GetArraySize(res->hi_quarantined) - held, held, res->hi_conflicts,
			 res->hi_acked_seq, res->hi_status == 200 ? "" : ": ",
			 res->hi_status == 200 ? "" : res->hi_error);
	else
		log_info("refused batch from node %s: %d %s", n->hn_id, res->hi_status,
			 res->hi_error);
}

static _Thread_local const hub_node *push_node;

const hub_node *hub_push_node(void)
{
	return push_node;
}

int hub_ingest(sqlite3 *db, const hub_node *n, const void *frame, size_t len,
	       hub_ingest_result *res)
{
	frame_reader r;
	sync_entry e;
	sync_scope sc = {n->hn_id, n->hn_office, n->hn_la};
	sync_apply_cache *cache = NULL;
	const char *err = NULL;
	ingest_pend pend = {0};
	int rc = 0, in_txn = 0;
	uint32_t count = 0;
	int64_t acked, more, last = -1;

	memset(res, 0, sizeof *res);
	push_node = n; /* the row validator checks rows against it (acct_apply.c) */
	hub_keys_pushed_forget();
	db_take_error(); /* a stale code of this thread's last request */
	res->hi_quarantined = cJSON_CreateArray();
	res->hi_held = cJSON_CreateArray();
	if (res->hi_quarantined == NULL || res->hi_held == NULL) {
		ingest_fail(res, 500, "out of memory");
		goto out;
	}
	if (ingest_check(res, &r, frame, len, &count) != 0)
		goto out;
	cache = sync_apply_cache_new(db);
	if (cache == NULL || ingest_pend_init(&pend) != 0) {
		ingest_fail(res, 500, "out of memory");
		goto out;
	}
	if (txn_begin(db) != 0) {
		ingest_db_fail(res, "the hub database is busy");
		goto out;
	}
	in_txn = 1;
	if (ingest_node_current(db, n, res) != 0)
		goto out;
	acked = ingest_acked(db, n->hn_id);
	if (acked < 0 || ingest_taken(db, n->hn_id, &pend) != 0) {
		ingest_db_fail(res, "cannot read the node's progress");
		goto out;
	}
	while ((rc = frame_next(&r, &e, &err)) == 1) {
		last = e.seq;
		rc = ingest_entry(db, &pend, &sc, &e, &acked, res);
		if (rc != 0)
			break;
		if (pend.ip_n < HUB_TXN_MAX_ENTRIES && pend.ip_bytes < HUB_TXN_MAX_BYTES)
			continue;
		/* Bounded transaction: progress and entries commit together. */
		if (ingest_flush(db, cache, &sc, &pend, res) != 0)
			goto out;
		in_txn = 0;
		if (ingest_commit(db, n, acked, r.fr_schema, &pend, 0, res) != 0)
			goto out;
		if (txn_begin(db) != 0) {
			ingest_db_fail(res, "the hub database is busy");
			goto out;
		}
		in_txn = 1;
		if (ingest_node_current(db, n, res) != 0)
			goto out;
		/* Another writer of this node's entries (an import in its own
		 * process, the node's push beside it) may have taken some
		 * between that COMMIT and this BEGIN: they are replays now. */
		if ((more = ingest_acked(db, n->hn_id)) < 0 ||
		    ingest_taken(db, n->hn_id, &pend) != 0) {
			ingest_db_fail(res, "cannot read the node's progress");
			goto out;
		}
		if (more > acked)
			acked = more;
	}
	if (rc < 0) {
		/* (A malformed entry cannot happen after the first pass; refuse
		 * rather than assume.) */
		if (res->hi_status == 0)
			ingest_fail(res, 400, "malformed push frame: %s", err ? err : "bad entry");
		goto out;
	}
	if (rc == 0 && replay_held_after(db, n->hn_id, last, acked, res) != 0) {
		ingest_db_fail(res, "cannot read the hub's quarantine");
		goto out;
	}
	if (ingest_flush(db, cache, &sc, &pend, res) != 0)
		goto out;
	in_txn = 0;
	if (ingest_commit(db, n, acked, r.fr_schema, &pend, 1, res) != 0)
		goto out;
	if (res->hi_status == 0)
		res->hi_status = 200;
out:
	push_node = NULL;
	hub_keys_pushed_forget();
	if (in_txn)
		txn_rollback(db);
	sync_apply_cache_free(cache);
	ingest_pend_release(&pend);
	ingest_log(n, count, res);
	return res->hi_status == 200 ? 0 : -1;
}

/* ---- work in the thread pool ------------------------------------------------ */

/* job_finish's status for a job whose nonce the runner could not commit. */
#define JOB_UNRECORDED 2

typedef struct sync_job {
	uv_work_t jb_work;
	struct sync_job *jb_link; /* pushes: the queue, the runner's group; hb_park */
	struct sync_job *jb_rnext, **jb_rprev; /* others: on hb_reads */
	unsigned jb_wait_run;     /* parked: the runner's start that writes its nonce */
	unsigned jb_commits;      /* the group's commits when it was done (UINT_MAX: not run) */
	hub *jb_hub;
	http_req *jb_req;
	int jb_kind;
	hub_node jb_node;
	int64_t jb_after;       /* pull: cursor; snapshot: the seq named (-1 first page) */
	int jb_max;
	sync_snap_pos jb_pos;   /* snapshot: where the page starts (jb_after >= 0) */
	/* results */
	int jb_rc;
	hub_ingest_result jb_ingest;
	buf jb_out;
	int64_t jb_next, jb_head;
	int jb_more;
	sync_snap_pos jb_end;   /* snapshot: where the page ends (jb_more) */
	cJSON *jb_json;
	int jb_deflated; /* jb_out holds the reply as a zlib stream */
	size_t jb_plain; /* pull or snapshot page: its length before deflate */
} job;

/* [work thread] A pull page or snapshot for a node that accepts deflate
 * (Accept-Encoding), compressed here, off the loop and outside the lock. */
static void deflate_reply(job *j)
{
	const char *acc = http_req_header(j->jb_req, "Accept-Encoding");
	buf z = BUF_INIT(j->jb_out.max + j->jb_out.max / 8 + 1024);
	char low[128];
	size_t i;

	if (acc == NULL || j->jb_out.len < 256)
		return;
	for (i = 0; i < sizeof low - 1 && acc[i]; i++)
		low[i] = (char)tolower((unsigned char)acc[i]);
	low[i] = '\0';
	if (strstr(low, ZBODY_ENCODING) == NULL)
		return;
	if (zbody_deflate(j->jb_out.data, j->jb_out.len, &z) == 0 && z.len < j->jb_out.len) {
		buf_release(&j->jb_out);
		j->jb_out = z;
		j->jb_deflated = 1;
		return;
	}
	buf_release(&z);
}

void hub_note_gap(sqlite3 *db, const char *node_id, const hub_ingest_result *res)
{
	/* The lowest offered while the gap stands (a push that commits clears
	 * it): two pushes of one office can cross - its daemon's cycle and an
	 * operator's `outpost-sync push` - and the one that read its outbox
	 * before the other put the sent log's entries back offers from past
	 * them; the last word would then let an entry the office holds be
	 * given up. */
	if (res->hi_status == 409 && res->hi_offered_seq > 0)
		db_run(db, "UPDATE nodes SET gap_seq=?2 WHERE id=?1 AND (gap_seq IS NULL OR gap_seq > ?2)",
		       "tI", node_id, res->hi_offered_seq);
}

/* [work thread] Under hb_wlock: a refused push's reason on its node (the
 * console shows it; a push that commits clears it in set_acked). */
static void note_error(sqlite3 *db, const char *node_id, const char *why)
{
	db_run(db, "UPDATE nodes SET last_error=?1 WHERE id=?2 AND last_error IS NOT ?1", "tt", why,
	       node_id);
}

/* [work thread] One push of the runner's group, inside its transaction
 * (hub_ingest in a savepoint of its own). */
static void job_push(job *j)
{
	hub *h = j->jb_hub;
	/* The signature (checked already) covers the body as sent. */
	const char *enc = http_req_header(j->jb_req, "Content-Encoding");
	buf *plain = &h->hb_push_plain;
	const void *body = j->jb_req->body.data;
	size_t blen = j->jb_req->body.len;
	int zr = 0;

	if (enc != NULL && strcasecmp(enc, ZBODY_ENCODING) == 0) {
		zr = zbody_inflate(body, blen, plain);
		body = plain->data;
		blen = plain->len;
	} else if (enc != NULL && strcasecmp(enc, "identity") != 0) {
		zr = -3;
	}
	if (zr != 0) {
		ingest_fail(&j->jb_ingest, zr == -3 ? 415 : 400, "%s",
			    zr == -3   ? "unsupported Content-Encoding of the push body"
			    : zr == -2 ? "the push body inflates past the batch limit"
				       : "the push body is not valid deflate data");
		j->jb_rc = -1;
	} else {
		j->jb_rc = hub_ingest(h->hb_wdb, &j->jb_node, body, blen, &j->jb_ingest);
	}
	buf_reset(plain);
}

/* [work thread] The runner's group of pushes (hub_sync_job_start): one
 * transaction, one commit - one disk wait for every office that pushed
 * meanwhile - with the waiting pull progress and contacts (hub_work.c).
 * Each push keeps its own savepoint, so one refused push takes nothing
 * from the others; when the commit fails, every push of the group fails. */
static void job_push_group(uv_work_t *w)
{
	hub *h = w->data;
	job *j;
	int k = 0, ok, err = 0;
	int64_t delay = fault_sync_job_delay_ms();

	if (delay > 0 && h->hb_push_run != NULL)
		usleep((useconds_t)delay * 1000);
	uv_mutex_lock(&h->hb_wlock);
	ok = db_exec(h->hb_wdb, "BEGIN IMMEDIATE") == 0;
	push_group = 1;
	push_commits = 0;
	for (j = h->hb_push_run; j != NULL; j = j->jb_link)
		j->jb_commits = UINT_MAX;
	for (j = h->hb_push_run; j != NULL && ok; j = j->jb_link) {
		job_push(j);
		j->jb_commits = push_commits;
		/* An I/O error or a full disk may roll the whole transaction
		 * back: then no push of the group since the last commit holds. */
		ok = !sqlite3_get_autocommit(h->hb_wdb);
	}
	push_group = 0;
	if (ok && (k = hub_progress_write(h, h->hb_wdb)) < 0)
		k = 0; /* (they stay waiting) */
	if (ok && db_exec(h->hb_wdb, "COMMIT") != 0) {
		db_exec(h->hb_wdb, "ROLLBACK");
		ok = 0;
	}
	if (!ok)
		err = db_take_error(); /* (507 for every push of the group) */
	if (ok)
		hub_progress_done(h, k);
	for (j = h->hb_push_run; j != NULL; j = j->jb_link) {
		/* (done before a later bounded commit: it holds) */
		if (!ok && (j->jb_commits == push_commits || j->jb_commits == UINT_MAX)) {
			hub_ingest_release(&j->jb_ingest);
			memset(&j->jb_ingest, 0, sizeof j->jb_ingest);
			ingest_db_fail_rc(&j->jb_ingest, err, "the hub could not commit the batch");
			j->jb_rc = -1;
		}
		if (j->jb_ingest.hi_status != 200) {
			note_error(h->hb_wdb, j->jb_node.hn_id, j->jb_ingest.hi_error);
			hub_note_gap(h->hb_wdb, j->jb_node.hn_id, &j->jb_ingest);
		}
	}
	FAULT_POINT("hub.apply.commit");
	uv_mutex_unlock(&h->hb_wlock);
}

/* [work thread] A pull page, snapshot page or digests: reads only, on a
 * read connection of its own (hub_work.c). */
static void job_read(job *j, sqlite3 *db)
{
	sync_scope sc = {j->jb_node.hn_id, j->jb_node.hn_office, j->jb_node.hn_la};
	int mine = sqlite3_get_autocommit(db), cur;

	/* One read snapshot for the check and the page: the node is still
	 * enrolled as it was authenticated (a revocation may have committed
	 * since), else -5 and nothing read. */
	if (mine && db_exec(db, "BEGIN") != 0) {
		j->jb_rc = -1;
		return;
	}
	cur = hub_node_current(db, &j->jb_node);
	if (cur != 1) {
		j->jb_rc = cur == 0 ? -5 : -1;
		goto out;
	}
	switch (j->jb_kind) {
	case HUB_JOB_PULL:
		/* A cursor in a restore's gap names entries this hub lost. */
		if (hub_log_in_gap(db, j->jb_after)) {
			j->jb_rc = -2;
			break;
		}
		j->jb_rc = sync_hub_pull_cached(db, hub_reader_pull_cache(j->jb_hub, db), &sc,
						j->jb_after, j->jb_max, &j->jb_out, &j->jb_next,
						&j->jb_head, &j->jb_more);
		/* A cursor past the head names entries this hub never had (a
		 * hub replaced, or a forged query): kept, it would leave the
		 * node "up to date" for good and its pull_cursor past them. */
		if (j->jb_rc == 0 && j->jb_after > j->jb_head)
			j->jb_rc = -4;
		FAULT_POINT("hub.pull.serve");
		break;
	case HUB_JOB_SNAPSHOT: {
		/* Page bounds: the test build may shrink them (lib/fault.h). */
		int rows = (int)fault_snapshot_rows();
		size_t bytes = (size_t)fault_snapshot_bytes();

		j->jb_rc = sync_hub_snapshot_page(db, &sc, j->jb_after >= 0 ? &j->jb_pos : NULL,
						  rows, bytes, &j->jb_out, &j->jb_end,
						  &j->jb_head, &j->jb_more);
		/* The first page fixes the snapshot's seq; a later one names it,
		 * and a seq the log has not reached would skip entries. */
		if (j->jb_rc == 0 && (j->jb_after > j->jb_head || hub_log_in_gap(db, j->jb_after)))
			j->jb_rc = -3;
		j->jb_next = j->jb_after >= 0 ? j->jb_after : j->jb_head;
		break;
	}
	case HUB_JOB_DIGEST:
		j->jb_json = sync_digest(db, &sc);
		j->jb_rc = j->jb_json ? 0 : -1;
		break;
	}
out:
	if (mine)
		db_exec(db, "COMMIT");
}

static void job_run(uv_work_t *w)
{
	job *j = w->data;
	hub *h = j->jb_hub;
	sqlite3 *db;
	int64_t delay = fault_sync_job_delay_ms();

	if (delay > 0)
		usleep((useconds_t)delay * 1000);
	if ((db = hub_reader_take(h)) != NULL) {
		job_read(j, db);
		hub_reader_give(h, db);
	} else {
		uv_mutex_lock(&h->hb_wlock);
		job_read(j, h->hb_wdb);
		uv_mutex_unlock(&h->hb_wlock);
	}
	if (j->jb_rc == 0 && j->jb_kind != HUB_JOB_DIGEST) {
		hub_progress_note(h, j->jb_node.hn_id,
				  j->jb_kind == HUB_JOB_PULL ? j->jb_after : 0);
	} else if (j->jb_node.hn_contact != 0 && uv_mutex_trylock(&h->hb_wlock) == 0) {
		/* the request's nonce, before its reply (else the runner's) */
		hub_progress_flush(h);
		uv_mutex_unlock(&h->hb_wlock);
	}
	j->jb_plain = j->jb_out.len;
	if (j->jb_kind != HUB_JOB_DIGEST && j->jb_rc == 0)
		deflate_reply(j);
}

static void reply_push(job *j)
{
	hub *h = j->jb_hub;
	http_req *req = j->jb_req;
	hub_ingest_result *res = &j->jb_ingest;
	cJSON *o;

	if (res->hi_max_hlc[0])
		hlc_observe(&h->hb_hlc, res->hi_max_hlc);
	if (res->hi_status == 200) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "acked_seq", (double)res->hi_acked_seq);
		cJSON_AddNumberToObject(o, "applied", res->hi_applied);
		cJSON_AddNumberToObject(o, "skipped", res->hi_skipped);
		cJSON_AddItemToObject(o, "quarantined", res->hi_quarantined);
		res->hi_quarantined = NULL;
		cJSON_AddNumberToObject(o, "conflicts", res->hi_conflicts);
		cJSON_AddNumberToObject(o, "head_seq", (double)hub_head_seq(h->hb_db));
		cJSON_AddNumberToObject(o, "hub_time_ms", (double)hub_now_ms());
		sreply_json(req, 200, o);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", res->hi_error);
	if (res->hi_status == 409 && res->hi_expected_seq > 0) {
		/* (a gap; a seq reused names none: hi_error says it) */
		cJSON_AddNumberToObject(o, "expected_seq", (double)res->hi_expected_seq);
		cJSON_AddNumberToObject(o, "acked_seq", (double)res->hi_expected_seq - 1);
	}
	if (res->hi_status == 426) {
		cJSON_AddNumberToObject(o, "schema_version", res->hi_schema);
		cJSON_AddNumberToObject(o, "hub_schema_version", schema_version());
	}
	sreply_json(req, res->hi_status, o);
}

/* X-Outpost-Acked: the last of the node's entries this hub holds, read as
 * the reply goes out.  A node acknowledged beyond it knows the hub was
 * restored from a backup and sends the rest again (sync/sent.c). */
static void add_acked(hub *h, http_req *req, const char *node_id)
{
	int64_t acked = ingest_acked(h->hb_db, node_id);
	char v[32];

	if (acked < 0)
		return;
	snprintf(v, sizeof v, "%" PRId64, acked);
	http_add_header(req, "X-Outpost-Acked", v);
}

static void park(job *j);

/* [loop] The job's reply (status: 0 done, else refused by the pool or
 * JOB_UNRECORDED); held until the request's nonce is committed. */
static void job_finish(job *j, int status)
{
	http_req *req = j->jb_req;
	char v[32];

	if (status == 0 && !hub_contact_durable(j->jb_hub, j->jb_node.hn_contact)) {
		park(j);
		return;
	}
	j->jb_hub->hb_jobs--;
	if (j->jb_rprev != NULL) {
		if (j->jb_rnext != NULL)
			j->jb_rnext->jb_rprev = j->jb_rprev;
		*j->jb_rprev = j->jb_rnext;
	}
	if (status == JOB_UNRECORDED) {
		sreply_error(req, 503, "the hub could not record the request; try again");
		goto out;
	}
	if (status != 0) {
		sreply_error(req, 503, "the hub is shutting down");
		goto out;
	}
	if (j->jb_kind != HUB_JOB_PUSH && j->jb_rc == -5) {
		/* revoked after the request's signature was checked (job_read) */
		log_info("refused %s %s from %s (node %s): node revoked", req->method_str,
			 req->path, req->peer, j->jb_node.hn_id);
		sreply_error(req, 401, "node revoked");
		goto out;
	}
	switch (j->jb_kind) {
	case HUB_JOB_PUSH:
		reply_push(j);
		break;
	case HUB_JOB_PULL:
	case HUB_JOB_SNAPSHOT:
		if (j->jb_rc == -2) {
			sreply_error(
			    req, 410,
			    "the change log no longer reaches back to this cursor: "
			    "take a snapshot");
			break;
		}
		if (j->jb_rc == -4) {
			sreply_error(req, 410,
				     "this cursor is past the head of the hub's change log (a hub "
				     "replaced or restored?): take a snapshot");
			break;
		}
		if (j->jb_rc == -3) {
			sreply_error(req, 400,
				     "the snapshot position is not one of this hub's ('seq' is "
				     "past the head of its change log): start the snapshot again");
			break;
		}
		if (j->jb_rc != 0) {
			log_warnx("cannot build a %s for node %s",
				  j->jb_kind == HUB_JOB_PULL ? "pull page" : "snapshot",
				  j->jb_node.hn_id);
			sreply_error(req, 500, "the hub could not build the reply");
			break;
		}
		snprintf(v, sizeof v, "%" PRId64, j->jb_next);
		http_add_header(req, "X-Outpost-Next", v);
		if (j->jb_kind == HUB_JOB_PULL) {
			snprintf(v, sizeof v, "%" PRId64, j->jb_head);
			http_add_header(req, "X-Outpost-Head", v);
			http_add_header(req, "X-Outpost-More", j->jb_more ? "1" : "0");
		} else {
			char id[3 * SYNC_SNAPSHOT_ID_MAX + 1];

			snprintf(v, sizeof v, "%" PRId64, j->jb_head);
			http_add_header(req, "X-Outpost-Head", v);
			http_add_header(req, "X-Outpost-More", j->jb_more ? "1" : "0");
			if (j->jb_more) {
				if (http_pct_encode(j->jb_end.sp_id, id, sizeof id) != 0) {
					sreply_error(req, 500, "the hub could not build the reply");
					break;
				}
				http_add_header(req, "X-Outpost-After-Table", j->jb_end.sp_table);
				http_add_header(req, "X-Outpost-After-Id", id);
			}
		}
		add_time(req);
		add_acked(j->jb_hub, req, j->jb_node.hn_id);
		if (j->jb_deflated)
			http_add_header(req, "Content-Encoding", ZBODY_ENCODING);
		http_reply(req, 200, "application/octet-stream", j->jb_out.data,
			   j->jb_out.len);
		if (j->jb_kind == HUB_JOB_PULL)
			log_info("pull page for node %s: %zu bytes (%zu sent), next %" PRId64,
				 j->jb_node.hn_id, j->jb_plain, j->jb_out.len, j->jb_next);
		else
			log_info("snapshot page for node %s: %zu bytes (%zu sent), seq %" PRId64
				 "%s%s%s",
				 j->jb_node.hn_id, j->jb_plain, j->jb_out.len, j->jb_next,
				 j->jb_more ? ", up to table '" : " (the last)",
				 j->jb_more ? j->jb_end.sp_table : "", j->jb_more ? "'" : "");
		break;
	case HUB_JOB_DIGEST:
		if (j->jb_rc != 0) {
			sreply_error(req, 500, "the hub could not compute digests");
			break;
		}
		sreply_json(req, 200, j->jb_json);
		j->jb_json = NULL;
		break;
	}
out:
	hub_ingest_release(&j->jb_ingest);
	buf_release(&j->jb_out);
	cJSON_Delete(j->jb_json);
	free(j);
}

static void job_done(uv_work_t *w, int status)
{
	job_finish(w->data, status);
}

#define PUSH_GROUP_MAX 64 /* pushes in one runner's transaction */

static void push_group_done(uv_work_t *w, int status);

/* [loop] Start the runner on the waiting pushes, or to commit the waiting
 * nonces (hb_flush_want: a group without pushes), unless it runs.  0, or
 * -1 (the pushes stay waiting: the caller answers). */
static int push_group_start(hub *h)
{
	job *j = h->hb_pushq, *last = NULL;
	int n = 0;

	if (h->hb_run_on || (j == NULL && !h->hb_flush_want))
		return 0;
	for (; j != NULL && n < PUSH_GROUP_MAX; j = j->jb_link, n++)
		last = j;
	h->hb_push_run = last ? h->hb_pushq : NULL;
	if (last != NULL) {
		h->hb_pushq = last->jb_link;
		if (h->hb_pushq == NULL)
			h->hb_pushq_tail = NULL;
		last->jb_link = NULL;
	}
	h->hb_push_work.data = h;
	if (uv_queue_work(h->hb_loop, &h->hb_push_work, job_push_group, push_group_done) != 0) {
		if (last != NULL) {
			last->jb_link = h->hb_pushq;
			h->hb_pushq = h->hb_push_run;
			if (h->hb_pushq_tail == NULL)
				h->hb_pushq_tail = last;
		}
		h->hb_push_run = NULL;
		return -1;
	}
	h->hb_flush_want = 0; /* (the runner writes every nonce noted until now) */
	h->hb_run_on = 1;
	h->hb_runs++;
	return 0;
}

/* [loop] The runner on the waiting pushes; when it cannot start, each is
 * answered 503 (as a work request the pool refuses), and so is every reply
 * waiting for its nonce. */
static void push_group_next(hub *h)
{
	job *j, *next;

	if (push_group_start(h) == 0)
		return;
	j = h->hb_pushq;
	h->hb_pushq = h->hb_pushq_tail = NULL;
	for (; j != NULL; j = next) {
		next = j->jb_link;
		job_finish(j, 1);
	}
	j = h->hb_park;
	h->hb_park = NULL;
	h->hb_flush_want = 0;
	for (; j != NULL; j = next) {
		next = j->jb_link;
		job_finish(j, 1);
	}
}

/* [loop] Hold j's reply until its nonce is committed: the runner's next
 * start writes it. */
static void park(job *j)
{
	hub *h = j->jb_hub;

	j->jb_wait_run = h->hb_runs + 1;
	j->jb_link = h->hb_park;
	h->hb_park = j;
	h->hb_flush_want = 1;
	push_group_next(h);
}

/* [loop] After the runner's start run: the parked replies whose nonce is
 * committed go out; a job that run should have written and did not is
 * answered 503. */
static void park_release(hub *h, unsigned run)
{
	job **pp = &h->hb_park, *j;

	while ((j = *pp) != NULL) {
		int durable = hub_contact_durable(h, j->jb_node.hn_contact);
		if (!durable && j->jb_wait_run > run) {
			pp = &j->jb_link;
			continue;
		}
		*pp = j->jb_link;
		job_finish(j, durable ? 0 : JOB_UNRECORDED);
	}
}

static void push_group_done(uv_work_t *w, int status)
{
	hub *h = w->data;
	job *j = h->hb_push_run, *next;
	unsigned run = h->hb_runs;

	h->hb_push_run = NULL;
	h->hb_run_on = 0;
	for (; j != NULL; j = next) {
		next = j->jb_link;
		job_finish(j, status);
	}
	park_release(h, run);
	push_group_next(h);
}

/*
 * [loop] Whether node n may start another pull, snapshot page or digest.
 * Each builds a reply of up to SYNC_SNAPSHOT_PAGE_MAX bytes in memory and
 * holds it until the node has read it: a node that asked on many
 * connections at once and read nothing held the hub's memory (gigabytes)
 * for every office.  So a node has at most HUB_NODE_READS jobs in flight
 * and HUB_NODE_QUEUED reply bytes the network has not taken, and every node
 * together HUB_REPLY_QUEUED; past them the request is 503 and the node
 * asks again at its next cycle.  A node's own cycle asks one at a time.
 */
static int reads_admit(hub *h, http_req *req, const hub_node *n)
{
	http_load load;
	int mine = 0;

	for (const job *x = h->hb_reads; x != NULL; x = x->jb_rnext)
		if (strcmp(x->jb_node.hn_id, n->hn_id) == 0)
			mine++;
	http_reply_load(req, n->hn_id, &load);
	if (mine < HUB_NODE_READS && load.owner_queued <= HUB_NODE_QUEUED &&
	    load.all_queued <= HUB_REPLY_QUEUED)
		return 0;
	log_info("node %s asks too much at once (%d requests in work, %zu reply bytes unread; "
		 "%zu in all): 503",
		 n->hn_id, mine, load.owner_queued, load.all_queued);
	add_time(req);
	http_add_header(req, "Retry-After", "5");
	http_reply_error(req, 503, NULL, "%s",
			 mine >= HUB_NODE_READS || load.owner_queued > HUB_NODE_QUEUED
			     ? "this node has too many requests in work at the hub; "
			       "ask again when they are answered"
			     : "the hub is busy; try again shortly");
	return -1;
}

void hub_sync_job_start(hub *h, http_req *req, const hub_node *n, int kind, int64_t after,
			int max, const sync_snap_pos *pos)
{
	job *j;

	if (kind != HUB_JOB_PUSH && reads_admit(h, req, n) != 0)
		return;
	j = calloc(1, sizeof *j);
	if (j == NULL) {
		sreply_error(req, 500, "out of memory");
		return;
	}
	j->jb_hub = h;
	j->jb_req = req;
	j->jb_kind = kind;
	j->jb_node = *n;
	j->jb_after = after;
	j->jb_max = max;
	if (pos)
		j->jb_pos = *pos;
	buf_init(&j->jb_out,
		 kind == HUB_JOB_SNAPSHOT ? SYNC_SNAPSHOT_PAGE_MAX : SYNC_PULL_PAGE_MAX_BYTES);
	j->jb_work.data = j;
	if (kind == HUB_JOB_PUSH) {
		/* One runner applies the waiting pushes as a group (job_push_group). */
		if (h->hb_pushq_tail != NULL)
			h->hb_pushq_tail->jb_link = j;
		else
			h->hb_pushq = j;
		h->hb_pushq_tail = j;
		h->hb_jobs++;
		push_group_next(h);
		return;
	}
	if (uv_queue_work(h->hb_loop, &j->jb_work, job_run, job_done) != 0) {
		free(j);
		sreply_error(req, 503, "the hub is busy");
		return;
	}
	h->hb_jobs++;
	http_req_set_owner(req, n->hn_id);
	j->jb_rnext = h->hb_reads;
	if (j->jb_rnext != NULL)
		j->jb_rnext->jb_rprev = &j->jb_rnext;
	j->jb_rprev = &h->hb_reads;
	h->hb_reads = j;
}
