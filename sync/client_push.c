/*
 * client_push.c - the outbox, pushed to the hub in bounded (and, when that
 * saves bytes, deflated) frames; acknowledged entries leave the outbox in
 * the transaction that records the hub's quarantine notices.
 */
#include "sync/client_int.h"
#include "sync/changeset.h"
#include "sync/frame.h"
#include "sync/zbody.h"
#include "lib/clock.h"
#include "lib/fault.h"
#include "lib/hlc.h"
#include "lib/log.h"
#include "model/capture.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Outbox rows are copied a few at a time and the read ends before the
 * frame is built from them: a snapshot held while a whole frame is
 * restamped and encoded (hundreds of ms under load) keeps the office's
 * writer from truncating the WAL (lib/dbguard.c), which then outgrows its
 * bound.  The outbox only grows at its end, so chunks read apart see it in
 * order. */
#define OUTBOX_CHUNK 32

/* Every entry a write makes can be pushed (model/capture.h). */
_Static_assert(CAPTURE_MAX_CHANGESET <= SYNC_MAX_CHANGESET, "a captured write fits a push");

typedef struct outbox_row {
	int64_t seq, sv;
	char *hlc, *actor; /* NULL when the column is */
	void *cs;
	size_t len;
} outbox_row;

static void outbox_rows_free(outbox_row *r, int n)
{
	for (int i = 0; i < n; i++) {
		free(r[i].hlc);
		free(r[i].actor);
		free(r[i].cs);
	}
}

static char *dup_text(sqlite3_stmt *st, int col, int *oom)
{
	const char *t;
	char *d;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	if ((t = db_col(st, col)) == NULL || (d = strdup(t)) == NULL) {
		*oom = 1;
		return NULL;
	}
	return d;
}

/* Up to `lim` rows after `after` into rows (owned copies); the statement is
 * reset, so no snapshot outlives the call.  The number read, or -1. */
static int outbox_chunk(sqlite3_stmt *st, int64_t after, int lim, outbox_row *rows)
{
	int n = 0, rc = SQLITE_DONE, oom = 0;

	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, lim);
	while (n < lim && !oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		outbox_row *r = &rows[n++];
		const void *b = sqlite3_column_blob(st, 4);

		/* nothing left from a row read before: a failure below frees
		 * only what this one got */
		memset(r, 0, sizeof *r);
		r->seq = sqlite3_column_int64(st, 0);
		r->sv = sqlite3_column_int64(st, 3);
		r->hlc = dup_text(st, 1, &oom);
		r->actor = dup_text(st, 2, &oom);
		r->len = (size_t)sqlite3_column_bytes(st, 4);
		if ((b == NULL && r->len) || (r->cs = malloc(r->len ? r->len : 1)) == NULL)
			oom = 1;
		else if (r->len)
			memcpy(r->cs, b, r->len);
	}
	sqlite3_reset(st);
	if (oom || (rc != SQLITE_ROW && rc != SQLITE_DONE)) {
		outbox_rows_free(rows, n);
		return -1;
	}
	return n;
}

/* The state of one frame being cut from the outbox. */
typedef struct outbox_cut {
	sqlite3 *oc_db;
	sync__restamp_map oc_map;
	buf oc_re;
	char oc_hlc[HLC_STRLEN]; /* the entry's stamp under the current identity */
	buf oc_up;         /* an entry written before an upgrade, in today's shape */
	int64_t oc_dbver;  /* the database's schema version (schema_db_version) */
	frame_writer oc_w;
	buf *oc_out;
	size_t oc_target;
	int64_t oc_base, oc_schema;
	int oc_began;
} outbox_cut;

/* Add row r.  0 added; 1 the frame is full (r starts the next one); 2 the
 * first entry alone does not fit (*first set). */
static int outbox_add(outbox_cut *oc, const outbox_row *r, int64_t *first, int64_t *last,
		      int64_t *count)
{
	sync_entry e;
	int64_t sv = r->sv;

	memset(&e, 0, sizeof e);
	e.seq = r->seq - oc->oc_base;
	e.hlc = r->hlc;
	e.actor = r->actor;
	e.changeset = r->cs;
	e.len = r->len;
	if (sv < oc->oc_dbver) {
		/* Written before this node's upgrade: sent in the shape its
		 * tables have now, at the version the hub (upgraded with it)
		 * takes; else its old version would be refused for ever. */
		const char *why = NULL;

		if (changeset_upgrade(oc->oc_db, r->cs, r->len, &oc->oc_up, &why) == 0) {
			e.changeset = oc->oc_up.data;
			e.len = oc->oc_up.len;
			sv = oc->oc_dbver;
		} else {
			log_warnx("outbox entry %" PRId64 " (schema version %" PRId64 ") cannot take"
				  " this version's shape: %s; it goes as it was written",
				  r->seq, r->sv, why ? why : "out of memory");
		}
	}
	if (!oc->oc_began) {
		frame_begin(&oc->oc_w, oc->oc_out, (uint32_t)sv);
		oc->oc_schema = sv;
		oc->oc_began = 1;
	} else if (sv != oc->oc_schema) {
		return 1; /* one schema version per frame */
	}
	if (oc->oc_map.rm_active) {
		/* written before enrollment: under the identity it has now */
		int changed = 0;
		if (sync__restamp(oc->oc_db, &oc->oc_map, e.changeset, e.len, &oc->oc_re,
				  &changed) == 0 &&
		    changed) {
			e.changeset = oc->oc_re.data;
			e.len = oc->oc_re.len;
		}
		if (sync__restamp_hlc(&oc->oc_map, e.hlc, oc->oc_hlc))
			e.hlc = oc->oc_hlc;
	}
	if (*count > 0 && oc->oc_target > 0 && !frame_fits(&oc->oc_w, &e, oc->oc_target))
		return 1; /* the batch is full; the entry starts the next one */
	if (frame_add(&oc->oc_w, &e) != 0) {
		if (*count == 0) {
			*first = r->seq;
			return 2;
		}
		return 1;
	}
	if (*count == 0)
		*first = r->seq;
	*last = r->seq;
	(*count)++;
	return 0;
}

static int frame_from(sqlite3 *db, const char *sql, int64_t after, int64_t base, buf *out,
		      size_t target, int64_t *first, int64_t *last, int64_t *count);

int sync__outbox_frame(sqlite3 *db, int64_t after, int64_t base, buf *out, size_t target,
		       int64_t *first, int64_t *last, int64_t *count)
{
	return frame_from(db, "SELECT seq, hlc, actor, schema_version, changeset FROM outbox"
			      " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
			  after, base, out, target, first, last, count);
}

int sync__outbox_frame_sent(sqlite3 *db, int64_t after, int64_t base, buf *out, size_t target,
			    int64_t *first, int64_t *last, int64_t *count)
{
	return frame_from(db, "SELECT seq, hlc, actor, schema_version, changeset FROM ("
			      " SELECT seq, hlc, actor, schema_version, changeset FROM outbox_sent"
			      " UNION SELECT seq, hlc, actor, schema_version, changeset FROM outbox)"
			      " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
			  after, base, out, target, first, last, count);
}

static int frame_from(sqlite3 *db, const char *sql, int64_t after, int64_t base, buf *out,
		      size_t target, int64_t *first, int64_t *last, int64_t *count)
{
	sqlite3_stmt *st = NULL;
	outbox_cut oc = {.oc_db = db, .oc_re = BUF_INIT(SYNC_MAX_CHANGESET),
			 .oc_up = BUF_INIT(SYNC_MAX_CHANGESET), .oc_out = out, .oc_target = target,
			 .oc_base = base, .oc_schema = -1, .oc_dbver = schema_db_version(db)};
	outbox_row rows[OUTBOX_CHUNK];
	int n = 0, i = 0, rc = 0, ret = -1;
	int64_t seen = 0, next = after, most = fault_push_entries();
	int64_t cap = most > 0 && most < SYNC_FRAME_MAX_ENTRIES ? most : SYNC_FRAME_MAX_ENTRIES;

	*first = *last = *count = 0;
	if (sync__restamp_load(db, &oc.oc_map) != 0) {
		sync__restamp_release(&oc.oc_map);
		return -1;
	}
	if (db_prepare(db, &st, sql) != 0)
		goto out;
	while (rc == 0) {
		if (i == n) {
			int64_t left = cap - seen;

			outbox_rows_free(rows, n);
			i = n = 0;
			if (left <= 0)
				break;
			n = outbox_chunk(st, next, left < OUTBOX_CHUNK ? (int)left : OUTBOX_CHUNK,
					 rows);
			if (n < 0) {
				n = 0;
				log_warnx("cannot read the outbox: %s", sqlite3_errmsg(db));
				goto out;
			}
			if (n == 0)
				break;
			seen += n;
		}
		next = rows[i].seq;
		rc = outbox_add(&oc, &rows[i++], first, last, count);
	}
	if (rc == 2) {
		ret = 1;
		goto out;
	}
	if (oc.oc_began && *count > 0 && frame_end(&oc.oc_w) != 0)
		goto out;
	if (*count == 0)
		buf_reset(out);
	ret = 0;
out:
	outbox_rows_free(rows, n);
	sqlite3_finalize(st);
	sync__restamp_release(&oc.oc_map);
	buf_release(&oc.oc_re);
	buf_release(&oc.oc_up);
	return ret;
}

/* Drop acked entries and keep the hub's quarantine notices, inside the
 * caller's transaction.  0 or -1. */
static int push_commit_in(sqlite3 *db, int64_t base, int64_t wire_acked,
			  const cJSON *quar, int64_t head)
{
	sqlite3_stmt *st = NULL;
	const cJSON *q;
	int64_t local = wire_acked + base;

	if (sync__sent_keep(db, local, (int64_t)clock_ms()) != 0 ||
	    db_prepare(db, &st, "DELETE FROM outbox WHERE seq <= ?1") != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, local);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	/* Entries gone from the outbox no longer hold their rows back from
	 * a pull page: one asked for before now is asked for again. */
	if (sqlite3_changes(db) > 0 && sync_node_push_gen_bump(db) != 0)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (cJSON_IsArray(quar) && cJSON_GetArraySize(quar) > 0) {
		if (db_prepare(db, &st, "INSERT OR REPLACE INTO sync_quarantine(seq, reason, at) "
					"VALUES(?1, ?2, ?3)") != 0)
			goto fail;
		cJSON_ArrayForEach(q, quar)
		{
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(q, "seq");
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(q, "reason");
			if (!cJSON_IsNumber(s))
				continue;
			sqlite3_bind_int64(st, 1, (int64_t)s->valuedouble + base);
			sqlite3_bind_text(st, 2,
					  cJSON_IsString(r) && r->valuestring ? r->valuestring
									      : "refused by the hub",
					  -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 3, (int64_t)clock_ms());
			if (sqlite3_step(st) != SQLITE_DONE)
				goto fail;
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (db_kv_set_i64(db, "sync_state", "acked_seq", local) != 0 ||
	    (head >= 0 && db_kv_set_i64(db, "sync_state", "head_seq", head) != 0))
		goto fail;
	return 0;
fail:
	sqlite3_finalize(st);
	return -1;
}

/* Drop acked entries and keep the hub's quarantine notices, in one go. */
static int push_commit(sqlite3 *db, int64_t base, int64_t wire_acked, const cJSON *quar,
		       int64_t head)
{
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (push_commit_in(db, base, wire_acked, quar, head) != 0 ||
	    db_exec(db, "COMMIT") != 0) {
		db_exec(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

/* The outbox's entry at local seq `local` is the one the hub took under
 * it, stamped taken (restamped as a push sends it, when it was written
 * before enrollment)?  1 yes, 0 no (none there, or another), -1 on a
 * database error. */
static int outbox_entry_is(sqlite3 *db, int64_t local, const char *taken)
{
	sync__restamp_map m;
	sqlite3_stmt *st = NULL;
	char stamp[HLC_STRLEN];
	const char *have;
	int rc;

	if (db_prepare(db, &st, "SELECT hlc FROM outbox WHERE seq=?1") != 0)
		return -1;
	sqlite3_bind_int64(st, 1, local);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	have = db_col(st, 0);
	if (have == NULL) {
		sqlite3_finalize(st);
		return 0;
	}
	if (sync__restamp_load(db, &m) != 0) {
		sync__restamp_release(&m);
		sqlite3_finalize(st);
		return -1;
	}
	if (m.rm_active && sync__restamp_hlc(&m, have, stamp))
		have = stamp;
	rc = strcmp(have, taken) == 0;
	sync__restamp_release(&m);
	sqlite3_finalize(st);
	return rc;
}

int sync_client_bundle_ack(sqlite3 *db, const char *ack, size_t len, int64_t *dropped,
			   char *err, size_t n)
{
	cJSON *o = NULL;
	const cJSON *quar;
	const char *taken;
	int64_t base = 0, acked = -1, wire, local, top;
	int ret = -1, is;

	*dropped = 0;
	err[0] = '\0';
	if (len == 0)
		return 0; /* the hub took nothing from this node */
	o = cJSON_ParseWithLength(ack, len);
	wire = sync__json_i64(o, "acked_seq", -1);
	taken = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "acked_hlc"));
	quar = cJSON_GetObjectItemCaseSensitive(o, "quarantined");
	if (wire <= 0 || taken == NULL) {
		snprintf(err, n,
			 "the bundle's acknowledgement of this office's changes does "
			 "not read (made by an incompatible version of outpost-hub?): "
			 "ignored, the outbox is as it was");
		cJSON_Delete(o);
		return 1;
	}
	if (db_exec(db, "BEGIN IMMEDIATE") != 0) {
		snprintf(err, n, "cannot read the outbox");
		cJSON_Delete(o);
		return -1;
	}
	if (db_kv_get_i64(db, "sync_state", "seq_base", &base) < 0 ||
	    db_kv_get_i64(db, "sync_state", "acked_seq", &acked) < 0) {
		snprintf(err, n, "cannot read the sync state of the office database");
		goto out;
	}
	local = wire + base;
	if (local <= acked || local <= base) {
		ret = 0; /* acknowledged already (a push since it was made) */
		goto out;
	}
	/* As a push's reply (push_acked): acknowledged past every seq this
	 * database handed out, or another entry under that seq than the hub
	 * took (ingest_seq_reused): the acknowledgement is not of this
	 * outbox, which keeps its entries. */
	top = db_int(db, "SELECT seq FROM sqlite_sequence WHERE name='outbox'", -1);
	if (top >= 0 && local > top) {
		snprintf(
		    err, n,
		    "the hub's bundle acknowledges this node's changes up to %" PRId64
		    ", but this office database never wrote past %" PRId64 ": it is "
		    "older than what it sent (restored from a backup) or was copied "
		    "from another PC; its changes are kept (the acknowledgement is "
		    "ignored): enroll this PC again with a new code (outpost-sync "
		    "enroll --force) to send them",
		    wire, top - base);
		ret = 1;
		goto out;
	}
	if ((is = outbox_entry_is(db, local, taken)) < 0) {
		snprintf(err, n, "cannot read the outbox");
		goto out;
	}
	if (!is) {
		snprintf(
		    err, n,
		    "the hub's bundle acknowledges this node's change %" PRId64
		    ", but this office database holds another change under that "
		    "number (restored from a backup, or copied from another PC): its "
		    "changes are kept (the acknowledgement is ignored): enroll this "
		    "PC again with a new code (outpost-sync enroll --force) to send "
		    "them",
		    wire);
		ret = 1;
		goto out;
	}
	*dropped = db_int_bound(db, 0, "SELECT count(*) FROM outbox WHERE seq <= ?1", "I",
				local);
	if (push_commit_in(db, base, wire, quar, -1) != 0) {
		snprintf(err, n,
			 "cannot update the outbox after the hub's acknowledgement");
		*dropped = 0;
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(o);
	if (ret == 0 && db_exec(db, "COMMIT") == 0)
		return 0;
	db_exec(db, "ROLLBACK");
	if (ret == 0) {
		snprintf(err, n,
			 "cannot update the outbox after the hub's acknowledgement");
		*dropped = 0;
		ret = -1;
	}
	return ret;
}

/*
 * A push run cuts frames from the outbox and sends them in order, one
 * request at a time, but while the hub applies frame k the node cuts and
 * deflates frame k+1 (a thread of its own sends each request; the caller's
 * thread alone uses the database), and once the hub has acknowledged every entry
 * of frame k, frame k+1 goes out before frame k's entries leave the outbox.
 * The hub sees the same requests in the same order as before; a frame cut
 * too early (the hub acknowledged less, or more: another push of this node)
 * is cut again.  Two frames at most are in memory.
 */
typedef struct push_run push_run;

/* One frame: its entries, its bytes, and its request. */
typedef struct push_slot {
	push_run *ps_run;
	buf ps_frame, ps_z, ps_resp;
	const void *ps_body;  /* ps_frame or ps_z */
	size_t ps_len;
	int ps_deflated;
	int64_t ps_first, ps_last, ps_count;
	int ps_cut_rc;        /* 0 or SYNC_E_OTHER with ps_cut_err */
	char ps_cut_err[sizeof ((sync_client *)0)->sc_error];
	pthread_t ps_thread;
	int ps_flying;        /* a thread is sending it */
	int ps_rc;            /* the request's: 0 or SYNC_E_* */
	long ps_status;
} push_slot;

/* One push run: the state its batches share. */
struct push_run {
	sync_client *pr_c;
	sqlite3 *pr_db;
	sync_push_stats *pr_st;
	int64_t pr_base;   /* sync_state.seq_base: local seq = wire seq + base */
	int64_t pr_after;  /* local seq acknowledged so far */
	int pr_loss_offered; /* the sent log's rest offered once past a loss */
	int64_t pr_total;  /* entries pending when the run began */
	push_slot pr_slot[2];
};

#define SLOT_ERR(s, ...) fmt_line((s)->ps_cut_err, sizeof (s)->ps_cut_err, __VA_ARGS__)

/* Cut the frame after local seq `after` into s and deflate it when that
 * saves bytes on the wire (sync/zbody.h).  Touches the database, never the
 * client (a request may be in flight): a failure is kept in s->ps_cut_rc
 * and ps_cut_err.  s->ps_count 0: nothing left to send. */
static void slot_cut(push_run *p, push_slot *s, int64_t after)
{
	int rc;

	s->ps_cut_rc = 0;
	s->ps_cut_err[0] = '\0';
	buf_reset(&s->ps_frame);
	rc = sync__outbox_frame(p->pr_db, after, p->pr_base, &s->ps_frame, SYNC_MAX_BATCH_BYTES,
				&s->ps_first, &s->ps_last, &s->ps_count);
	if (rc < 0) {
		SLOT_ERR(s, "cannot read the outbox");
	} else if (rc == 1) {
		SLOT_ERR(s, "outbox entry %" PRId64 " cannot be sent: larger than %d bytes "
			    "or malformed",
			 s->ps_first, SYNC_MAX_CHANGESET);
	} else if (s->ps_count > 0 && s->ps_first <= p->pr_base) {
		SLOT_ERR(s, "outbox entry %" PRId64 " precedes this enrollment (base %" PRId64
			    "): cannot be pushed",
			 s->ps_first, p->pr_base);
	} else {
		s->ps_body = s->ps_frame.data;
		s->ps_len = s->ps_frame.len;
		s->ps_deflated = 0;
		if (s->ps_count > 0 && zbody_deflate(s->ps_frame.data, s->ps_frame.len, &s->ps_z) == 0 &&
		    s->ps_z.len < s->ps_frame.len) {
			s->ps_body = s->ps_z.data;
			s->ps_len = s->ps_z.len;
			s->ps_deflated = 1;
		}
		return;
	}
	s->ps_cut_rc = SYNC_E_OTHER;
}

/* The request of one frame (on the run's thread, or the caller's). */
static void *slot_send(void *arg)
{
	push_slot *s = arg;
	sync_client *c = s->ps_run->pr_c;

	c->sc_body_encoding = s->ps_deflated ? ZBODY_ENCODING : NULL;
	s->ps_rc = sync_client_request(c, "POST", "/api/v1/sync/push", s->ps_body, s->ps_len,
				       &s->ps_status, &s->ps_resp, NULL, NULL, NULL);
	c->sc_body_encoding = NULL;
	return NULL;
}

/* Send s: on a thread of its own, or here if none can be had. */
static void slot_launch(push_slot *s)
{
	FAULT_POINT("push.before_send");
	s->ps_flying = pthread_create(&s->ps_thread, NULL, slot_send, s) == 0;
	if (!s->ps_flying)
		slot_send(s);
}

static void slot_join(push_slot *s)
{
	if (s->ps_flying)
		pthread_join(s->ps_thread, NULL);
	s->ps_flying = 0;
}

/* A 409 naming expected_seq: the hub holds every wire seq below it (another
 * push of this node got there first, e.g. the node's own background sync).
 * Drop those from the outbox; they count as "already at the hub", so
 * applied + skipped + quarantined adds up.  0 or SYNC_E_OTHER. */
static int push_replayed(push_run *p, const cJSON *o, int64_t first)
{
	sync_client *c = p->pr_c;
	sync_push_stats *st = p->pr_st;
	int64_t expected = sync__json_i64(o, "expected_seq", 0), wire_acked, local, again = 0;

	if (expected - 1 + p->pr_base < first) {
		/* A hub restored from a backup: the sent log has them. */
		int rr = sync__sent_resend(p->pr_db, p->pr_base, expected - 1, &again, c->sc_error,
					   sizeof c->sc_error);
		int64_t back = -1;

		if (rr == 1 && !p->pr_loss_offered &&
		    db_kv_get_i64(p->pr_db, "sync_state", "acked_seq", &back) == DB_FOUND) {
			/* Entries lost at the hub: what the sent log still holds
			 * is back in the outbox, offered once now, so that the
			 * hub learns where this office's entries begin (it gives
			 * up none past it, accept-loss); then the loss is said. */
			p->pr_loss_offered = 1;
			p->pr_after = back;
			return 0;
		}
		if (rr != 0 || again == 0) {
			/* (the sent log's own account, when it has one: which
			 * entries are lost, and how to go on) */
			if (rr == 0)
				CERR(c, "the hub expects entry %" PRId64 " from this node, but the "
					"outbox starts at %" PRId64,
				     expected, first - p->pr_base);
			return SYNC_E_OTHER;
		}
		st->ps_pending += again;
		p->pr_after = expected - 1 + p->pr_base;
		return 0;
	}
	wire_acked = expected - 1;
	if (push_commit(p->pr_db, p->pr_base, wire_acked, NULL, -1) != 0) {
		CERR(c, "cannot update the outbox");
		return SYNC_E_OTHER;
	}
	/* Local seqs are contiguous (AUTOINCREMENT, deleted from the low end). */
	local = wire_acked + p->pr_base;
	if (local > p->pr_after)
		st->ps_skipped += (int)(local - p->pr_after);
	st->ps_acked += local - p->pr_after;
	p->pr_after = local;
	st->ps_acked_seq = local;
	return 0;
}

/* A 200: the hub's acknowledgement of entries first..last.  0 or SYNC_E_OTHER. */
static int push_acked(push_run *p, const cJSON *o, int64_t first, int64_t last)
{
	sync_client *c = p->pr_c;
	sync_push_stats *st = p->pr_st;
	const cJSON *quar = cJSON_GetObjectItemCaseSensitive(o, "quarantined");
	int64_t wire_acked = sync__json_i64(o, "acked_seq", -1);
	int64_t applied, skipped, nq, dropped, top;

	if (wire_acked < 0 || wire_acked + p->pr_base < first) {
		CERR(c, "push made no progress: the hub acknowledged %" PRId64
			" after receiving entries %" PRId64 "..%" PRId64,
		     wire_acked, first - p->pr_base, last - p->pr_base);
		return SYNC_E_OTHER;
	}
	/* Acknowledged past every seq this database ever handed out: the hub
	 * holds entries of this node that it never wrote (it went back to an
	 * older copy, or a copy of it on another PC pushed), so it skipped the
	 * ones just sent as replays of those.  Dropped here, they would be
	 * lost: keep them and say so (the hub refuses a reused seq it can tell,
	 * hub/hub_sync.c ingest_entry). */
	top = db_int(p->pr_db, "SELECT seq FROM sqlite_sequence WHERE name='outbox'", -1);
	if (top >= 0 && wire_acked + p->pr_base > top) {
		CERR(c, "the hub holds this node's changes up to %" PRId64 ", but this office "
			"database never wrote past %" PRId64 ": it is older than what it sent "
			"(restored from a backup) or was copied from another PC; its changes are "
			"kept: enroll this PC again with a new code (outpost-sync enroll --force) "
			"to send them",
		     wire_acked, top - p->pr_base);
		return SYNC_E_OTHER;
	}
	st->ps_head_seq = sync__json_i64(o, "head_seq", -1);
	FAULT_POINT("push.after_reply");
	if (push_commit(p->pr_db, p->pr_base, wire_acked, quar, st->ps_head_seq) != 0) {
		CERR(c, "cannot update the outbox after the hub's acknowledgement");
		return SYNC_E_OTHER;
	}
	applied = sync__json_i64(o, "applied", 0);
	skipped = sync__json_i64(o, "skipped", 0);
	nq = cJSON_GetArraySize(quar);
	dropped = wire_acked + p->pr_base - p->pr_after;
	/* Entries acked beyond those this frame carried were pushed by another
	 * push of this node (its background sync) between our reading the
	 * outbox and the hub's answer: already at the hub. */
	if (dropped > applied + skipped + nq)
		skipped += dropped - (applied + skipped + nq);
	st->ps_applied += (int)applied;
	st->ps_skipped += (int)skipped;
	st->ps_quarantined += (int)nq;
	st->ps_conflicts += (int)sync__json_i64(o, "conflicts", 0);
	st->ps_acked += dropped;
	p->pr_after = wire_acked + p->pr_base;
	st->ps_acked_seq = p->pr_after;
	if (c->sc_progress)
		c->sc_progress(c->sc_progress_arg, "push",
			       (uint64_t)(st->ps_acked < p->pr_total ? st->ps_acked : p->pr_total),
			       (uint64_t)p->pr_total);
	return 0;
}

/* Settle the hub's answer to slot s (already parsed into o).  0, or
 * SYNC_E_* with the client's error set. */
static int push_settle(push_run *p, push_slot *s, const cJSON *o)
{
	sync_client *c = p->pr_c;

	if (s->ps_rc != 0)
		return s->ps_rc;
	p->pr_st->ps_batches++;
	p->pr_st->ps_sent += s->ps_count;
	if (s->ps_status == 409 &&
	    cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "expected_seq")))
		return push_replayed(p, o, s->ps_first);
	if (s->ps_status != 200) {
		sync__hub_error(c, s->ps_status, &s->ps_resp, "push");
		return sync__status_rc(s->ps_status);
	}
	return push_acked(p, o, s->ps_first, s->ps_last);
}

/* Does the hub's answer o to s acknowledge exactly s's entries, so that
 * the frame cut after them is the next to send? */
static int slot_acked_whole(const push_run *p, const push_slot *s, const cJSON *o)
{
	return s->ps_rc == 0 && s->ps_status == 200 &&
	       sync__json_i64(o, "acked_seq", -1) + p->pr_base == s->ps_last;
}

/* Drain the outbox.  0 once nothing is left, else SYNC_E_*. */
static int push_drain(push_run *p)
{
	sync_client *c = p->pr_c;
	push_slot *a = &p->pr_slot[0], *b = &p->pr_slot[1], *t;
	char err[sizeof c->sc_error];
	int rc = 0;

	slot_cut(p, a, p->pr_after);
	for (;;) {
		cJSON *o;
		int early;

		if (a->ps_cut_rc != 0) {
			CERR(c, "%s", a->ps_cut_err);
			return a->ps_cut_rc;
		}
		if (a->ps_count == 0)
			return 0;
		if (!a->ps_flying) {
			if (c->sc_cancel && *c->sc_cancel) {
				CERR(c, "push cancelled");
				return SYNC_E_OTHER;
			}
			slot_launch(a);
		}
		slot_cut(p, b, a->ps_last); /* while the hub applies a */
		slot_join(a);
		o = a->ps_resp.len ? cJSON_ParseWithLength(a->ps_resp.data, a->ps_resp.len) : NULL;
		early = slot_acked_whole(p, a, o) && b->ps_cut_rc == 0 && b->ps_count > 0 &&
			!(c->sc_cancel && *c->sc_cancel);
		if (early)
			slot_launch(b); /* before a's entries leave the outbox */
		rc = push_settle(p, a, o);
		cJSON_Delete(o);
		if (rc != 0) {
			/* b's answer, whatever it is, waits for the next push (a
			 * 409 there names what the hub holds); a's error stands. */
			snprintf(err, sizeof err, "%s", c->sc_error);
			slot_join(b);
			snprintf(c->sc_error, sizeof c->sc_error, "%s", err);
			return rc;
		}
		if (!early && (b->ps_cut_rc != 0 || p->pr_after != a->ps_last))
			slot_cut(p, b, p->pr_after); /* cut too early: again */
		t = a;
		a = b;
		b = t;
	}
}

void sync__push_stats_add(sync_push_stats *into, const sync_push_stats *from)
{
	into->ps_sent += from->ps_sent;
	into->ps_acked += from->ps_acked;
	into->ps_batches += from->ps_batches;
	into->ps_applied += from->ps_applied;
	into->ps_skipped += from->ps_skipped;
	into->ps_quarantined += from->ps_quarantined;
	into->ps_conflicts += from->ps_conflicts;
	if (from->ps_acked_seq)
		into->ps_acked_seq = from->ps_acked_seq;
	if (from->ps_head_seq >= 0)
		into->ps_head_seq = from->ps_head_seq;
}

int sync_client_push(sync_client *c, sqlite3 *db, sync_push_stats *st)
{
	sync_push_stats local;
	push_run p = {.pr_c = c, .pr_db = db};
	int64_t acked;
	int rc;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	st->ps_head_seq = -1;
	p.pr_st = st;
	for (int i = 0; i < 2; i++) {
		push_slot *s = &p.pr_slot[i];

		s->ps_run = &p;
		s->ps_frame = (buf)BUF_INIT(SYNC_MAX_PUSH_FRAME);
		s->ps_z = (buf)BUF_INIT(SYNC_MAX_PUSH_FRAME + SYNC_MAX_PUSH_FRAME / 8);
		s->ps_resp = (buf)BUF_INIT(SYNC_MAX_REPLY);
	}
	if (db_kv_get_i64(db, "sync_state", "seq_base", &p.pr_base) < 0) {
		CERR(c, "cannot read the sync state of the office database");
		rc = SYNC_E_OTHER;
		goto out;
	}
	p.pr_total = db_int(db, "SELECT count(*) FROM outbox", -1);
	if (p.pr_total < 0) {
		CERR(c, "cannot read the outbox");
		rc = SYNC_E_OTHER;
		goto out;
	}
	st->ps_pending = p.pr_total;
	/* Entries acknowledged before this run left the outbox with the ack:
	 * counted from there, a frame's acknowledgement names only its own. */
	p.pr_after = p.pr_base;
	if (db_kv_get_i64(db, "sync_state", "acked_seq", &acked) == DB_FOUND && acked > p.pr_after)
		p.pr_after = acked;
	if (c->sc_progress && p.pr_total > 0)
		c->sc_progress(c->sc_progress_arg, "push", 0, (uint64_t)p.pr_total);
	rc = push_drain(&p);
out:
	for (int i = 0; i < 2; i++) {
		buf_release(&p.pr_slot[i].ps_frame);
		buf_release(&p.pr_slot[i].ps_z);
		buf_release(&p.pr_slot[i].ps_resp);
	}
	return rc;
}
