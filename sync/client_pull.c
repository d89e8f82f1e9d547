/*
 * client_pull.c - pull pages after the node's cursor, and the snapshot page
 * by page when the node has none (or the hub no longer has its cursor).
 */
#include "sync/client_int.h"
#include "lib/fault.h"
#include "lib/http.h"
#include "lib/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define PULL_MAX_SNAPSHOTS 2   /* 410 after a fresh snapshot: give up */
#define PULL_MAX_REFETCH 8     /* pages asked for again after a push: then give up */


/* WAL a pulled row may write at the node, generously: its row and index
 * entries (in the test that found it, the largest WAL seen with 5,000-row
 * pages, 2.1 MB, comes to at most 430 bytes a row). */
#define PULL_WAL_BYTES_PER_ROW 1024

/* Rows asked for in a pull page: the most the hub gives, unless a test
 * asks for fewer (lib/fault.h), and no more than a quarter of the WAL's
 * bound can hold.  The bound is kept between transactions (lib/dbguard.c),
 * and a page is one: since a page is applied beside the desk's writes, it
 * comes while the WAL is near its bound.  At the real bound the cap is far
 * above SYNC_MAX_PULL_ROWS; a test build's small bound shrinks the page. */
static int pull_rows(void)
{
	int64_t n = fault_pull_rows();
	int64_t wal = db_wal_limit() / 4 / PULL_WAL_BYTES_PER_ROW;
	int64_t rows = n > 0 && n < SYNC_MAX_PULL_ROWS ? n : SYNC_MAX_PULL_ROWS;

	if (wal < rows)
		rows = wal > 0 ? wal : 1;
	return (int)rows;
}

/* Before applying what a pull or snapshot reply brought: a hub that holds
 * fewer of this node's entries than it acknowledged gets them again first
 * (sync/sent.c).  0, SYNC_E_PENDING (push first) or SYNC_E_OTHER. */
static int hub_behind(sync_client *c, sqlite3 *db)
{
	int rc = sync__hub_behind(db, c->sc_hub_acked, c->sc_acked_before, c->sc_error,
				  sizeof c->sc_error);

	return rc == 0 ? 0 : rc > 0 ? SYNC_E_PENDING : SYNC_E_OTHER;
}

/* sync_node_apply_pull's answer rc: 0; 1 when a snapshot is under way
 * (take it first); 2 when a push committed since the page was asked for
 * (ask again); SYNC_E_*. */
static int apply_rc(sync_client *c, int rc)
{
	if (rc == -4)
		return 2;
	if (rc == -2) {
		CERR(c, "local changes pending, push first");
		return SYNC_E_PENDING;
	}
	if (rc == -3)
		return 1;
	if (rc != 0) {
		CERR(c, "cannot apply the hub's changes to the office database");
		return SYNC_E_OTHER;
	}
	return 0;
}

/* The path of the snapshot page after pos (NULL: the first page). 0 or -1. */
static int snapshot_path(char *out, size_t n, int64_t seq, const sync_snap_pos *pos)
{
	char id[3 * SYNC_SNAPSHOT_ID_MAX + 1];
	int len;

	if (pos == NULL) {
		snprintf(out, n, "/api/v1/sync/snapshot");
		return 0;
	}
	/* Table names are plain identifiers; the id is any text. */
	if (http_pct_encode(pos->sp_id, id, sizeof id) != 0)
		return -1;
	len = snprintf(out, n, "/api/v1/sync/snapshot?seq=%" PRId64 "&after_table=%s&after_id=%s",
		       seq, pos->sp_table, id);
	return len > 0 && (size_t)len < n ? 0 : -1;
}

/* The position a snapshot page's reply names (X-Outpost-After-*). 0 or -1. */
static int reply_position(sync_client *c, sync_snap_pos *pos)
{
	char id[SYNC_SNAPSHOT_ID_MAX + 1];

	if (c->sc_after_table[0] == '\0' || c->sc_after_id[0] == '\0' ||
	    http_pct_decode(c->sc_after_id, strlen(c->sc_after_id), id, sizeof id, 0) != 0 ||
	    sync_snap_pos_set(pos, c->sc_after_table, id) != 0)
		return -1;
	return 0;
}

/*
 * The snapshot, page by page (sync.h, OVERVIEW): from the position recorded
 * in node.db when an earlier snapshot was interrupted, else from the start.
 * A recorded position the hub refuses (400: e.g. a hub restored from a
 * backup, whose log is behind the recorded seq) starts it afresh, once.
 * *cursor = the snapshot's seq when the last page is applied.
 */
static int pull_snapshot(sync_client *c, sqlite3 *db, sync_pull_stats *st, int64_t *cursor)
{
	buf resp = BUF_INIT(SYNC_MAX_REPLY);
	sync_snap_pos pos, end;
	char path[1600];
	int64_t seq = -1, next = -1, head = -1, gen;
	long status;
	int more = -1, rc, have, restarts = 0, moved = 0, refetched = 0;

	have = sync_node_snapshot_state(db, &seq, &pos);
	if (have < 0) {
		CERR(c, "cannot read the snapshot's progress in the office database");
		rc = SYNC_E_OTHER;
		goto out;
	}
	if (have)
		log_info("snapshot: resuming after '%s' (seq %" PRId64 ")", pos.sp_table, seq);
	c->sc_progress_base = 0;
	for (;;) {
		if (c->sc_cancel && *c->sc_cancel) {
			CERR(c, "snapshot cancelled");
			rc = SYNC_E_OTHER;
			goto out;
		}
		if (snapshot_path(path, sizeof path, seq, have ? &pos : NULL) != 0) {
			CERR(c, "the snapshot position is too long for a request");
			rc = SYNC_E_OTHER;
			goto out;
		}
		/* As for a pull page: a push of another process that commits
		 * after this is not in the page (sync_node_push_gen()). */
		if ((gen = sync_node_push_gen(db)) < 0) {
			CERR(c, "cannot read the sync state of the office database");
			rc = SYNC_E_OTHER;
			goto out;
		}
		rc = sync_client_request(c, "GET", path, NULL, 0, &status, &resp, &next, &head, &more);
		if (rc != 0 || (rc = hub_behind(c, db)) != 0)
			goto out;
		if (status == 400 && have && restarts == 0) {
			log_warnx("snapshot: the hub refused the recorded position; starting afresh");
			have = 0;
			restarts++;
			continue;
		}
		if (status != 200) {
			sync__hub_error(c, status, &resp, "snapshot");
			rc = sync__status_rc(status);
			goto out;
		}
		if (next < 0 || (have && next != seq) || more < 0 ||
		    (more == 1 && reply_position(c, &end) != 0)) {
			CERR(c, "the hub's snapshot page has no valid X-Outpost-Next, -More or "
				"-After-Table/-Id");
			rc = SYNC_E_OTHER;
			goto out;
		}
		FAULT_POINT("pull.after_reply");
		rc = sync_node_apply_snapshot_gen(db, resp.data, resp.len, next, have ? &pos : NULL,
						  more == 1 ? &end : NULL, gen);
		if (rc == -4) {
			/* Another process pushed meanwhile: the page may hold
			 * rows older than its push made them.  The same page
			 * again. */
			if (++refetched > PULL_MAX_REFETCH) {
				CERR(c, "pushes keep landing under this snapshot; try again");
				rc = SYNC_E_OTHER;
				goto out;
			}
			continue;
		}
		if (rc == -3) {
			/* Another process (the node's own sync, outpost-sync) moved
			 * the snapshot on: go on from where it got to. */
			int64_t v;
			if (moved++ >= 3) {
				CERR(c, "another sync keeps moving the snapshot on; try again");
				rc = SYNC_E_OTHER;
				goto out;
			}
			if (db_kv_get_i64(db, "node_meta", "sync_cursor", &v) == DB_FOUND) {
				*cursor = v; /* it even finished it */
				rc = 0;
				goto out;
			}
			have = sync_node_snapshot_state(db, &seq, &pos);
			if (have < 0) {
				CERR(c, "cannot read the snapshot's progress in the office database");
				rc = SYNC_E_OTHER;
				goto out;
			}
			continue;
		}
		if (rc == -2) {
			CERR(c, "local changes pending, push first");
			rc = SYNC_E_PENDING;
			goto out;
		}
		if (rc != 0) {
			CERR(c, "cannot apply the hub's snapshot page to the office database");
			rc = SYNC_E_OTHER;
			goto out;
		}
		st->pl_snapshot_pages++;
		st->pl_bytes += resp.len;
		c->sc_progress_base += resp.len;
		if (head >= 0)
			st->pl_head = head;
		if (more != 1)
			break;
		seq = next;
		pos = end;
		have = 1;
		FAULT_POINT("snapshot.next");
	}
	st->pl_snapshot = 1;
	*cursor = next;
	log_debug("snapshot applied: %d pages, %" PRIu64 " bytes, cursor %" PRId64,
		  st->pl_snapshot_pages, st->pl_bytes, next);
	rc = 0;
out:
	c->sc_progress_base = 0;
	buf_release(&resp);
	return rc;
}

/* Take a snapshot again mid-pull, at most PULL_MAX_SNAPSHOTS in one pull
 * (why: the error once that is spent).  0 or a SYNC_E_ code. */
static int snapshot_again(sync_client *c, sqlite3 *db, sync_pull_stats *st, int64_t *cursor,
			  int *snapshots, const char *why)
{
	if (*snapshots >= PULL_MAX_SNAPSHOTS) {
		CERR(c, "%s", why);
		return SYNC_E_OTHER;
	}
	(*snapshots)++;
	return pull_snapshot(c, db, st, cursor);
}

/*
 * The next pull page is asked for while this one is applied (the cursor it
 * will move to is in this page's X-Outpost-Next), so the hub builds page
 * N+1 while the node applies page N: two cores, one on each.  The request
 * runs in a thread of its own on the client's connection, which the
 * applying thread leaves alone until the join; a page whose apply fails
 * (or stops the pull) drops what was fetched.  No thread: asked for after
 * the apply, as before.
 */
typedef struct prefetch {
	sync_client *pf_c;
	pthread_t pf_thread;
	int pf_running;
	char pf_path[128];
	buf *pf_resp;
	long pf_status;
	int64_t pf_next, pf_head;
	int pf_more, pf_rc;
} prefetch;

static void *prefetch_run(void *arg)
{
	prefetch *pf = arg;

	pf->pf_rc = sync_client_request(pf->pf_c, "GET", pf->pf_path, NULL, 0, &pf->pf_status,
					pf->pf_resp, &pf->pf_next, &pf->pf_head, &pf->pf_more);
	return NULL;
}

static void prefetch_start(prefetch *pf, sync_client *c, int64_t after, buf *resp)
{
	memset(pf, 0, sizeof *pf);
	pf->pf_c = c;
	pf->pf_resp = resp;
	snprintf(pf->pf_path, sizeof pf->pf_path, "/api/v1/sync/pull?after=%" PRId64 "&max=%d",
		 after, pull_rows());
	pf->pf_running = pthread_create(&pf->pf_thread, NULL, prefetch_run, pf) == 0;
}

/* Wait for the prefetch: 1 when it ran (its results in pf), else 0. */
static int prefetch_join(prefetch *pf)
{
	if (!pf->pf_running)
		return 0;
	pthread_join(pf->pf_thread, NULL);
	pf->pf_running = 0;
	return 1;
}

/*
 * The node's cycle (c->sc_push_between set), where outpost-sync pull ends
 * with SYNC_E_PENDING: the writes waiting when the pull begins are pushed
 * first (their counts go to *c->sc_push_between), before any page is asked
 * for; those that land meanwhile wait beside the pages (pull_pending.c).
 * A page that names one of their rows ends the pull with SYNC_E_PENDING,
 * and the cycle pushes and pulls again from the cursor: a page asked for
 * before a push must not be applied after it, or a row the push carried
 * would show its older state to a desk that acts on it.  0 or SYNC_E_*.
 */
static int push_first(sync_client *c, sqlite3 *db)
{
	sync_push_stats ps;
	int rc = sync_client_push(c, db, &ps);

	sync__push_stats_add(c->sc_push_between, &ps);
	return rc;
}

int sync_client_pull(sync_client *c, sqlite3 *db, sync_pull_stats *st)
{
	sync_pull_stats local;
	buf bufs[2] = {BUF_INIT(SYNC_MAX_REPLY), BUF_INIT(SYNC_MAX_REPLY)}, *resp = &bufs[0];
	char path[128];
	int64_t cursor = -1, next, head, pending;
	int64_t gen = -1, pf_gen = -1;
	int more, rc = 0, snapshots = 0, fetched = 0, arc, refetched = 0;
	long status;
	prefetch pf;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	st->pl_head = -1;
	pending = db_int(db, "SELECT count(*) FROM outbox", -1);
	if (pending > 0 && c->sc_push_between != NULL) {
		/* What lands after this push waits beside the pages (pull_pending.c). */
		if ((rc = push_first(c, db)) != 0)
			return rc;
		pending = 0;
	}
	if (pending != 0) {
		CERR(c, pending > 0 ? "local changes pending, push first" : "cannot read the outbox");
		return pending > 0 ? SYNC_E_PENDING : SYNC_E_OTHER;
	}
	if (db_kv_get_i64(db, "sync_state", "acked_seq", &c->sc_acked_before) != DB_FOUND)
		c->sc_acked_before = -1;
	if (db_kv_get_i64(db, "node_meta", "sync_cursor", &cursor) < 0) {
		CERR(c, "cannot read the pull cursor");
		return SYNC_E_OTHER;
	}
	if (cursor < 0) {
		rc = pull_snapshot(c, db, st, &cursor);
		snapshots++;
		if (rc != 0)
			goto out;
	}
	for (;;) {
		if (c->sc_cancel && *c->sc_cancel) {
			CERR(c, "pull cancelled");
			rc = SYNC_E_OTHER;
			break;
		}
		if (fetched) {
			/* this page came while the last one was applied */
			rc = pf.pf_rc;
			status = pf.pf_status;
			next = pf.pf_next;
			head = pf.pf_head;
			more = pf.pf_more;
			gen = pf_gen;
			fetched = 0;
		} else {
			/* The push generation before the page is asked for: a
			 * push of another process that commits after this is
			 * not in the page (sync_node_push_gen()). */
			if ((gen = sync_node_push_gen(db)) < 0) {
				CERR(c, "cannot read the sync state of the office database");
				rc = SYNC_E_OTHER;
				break;
			}
			snprintf(path, sizeof path, "/api/v1/sync/pull?after=%" PRId64 "&max=%d",
				 cursor, pull_rows());
			rc = sync_client_request(c, "GET", path, NULL, 0, &status, resp, &next, &head,
						 &more);
		}
		if (rc != 0 || (rc = hub_behind(c, db)) != 0)
			break;
		if (status == 410) {
			rc = snapshot_again(c, db, st, &cursor, &snapshots,
					    "the hub keeps refusing the cursor after a snapshot (410)");
			if (rc != 0)
				break;
			continue;
		}
		if (status != 200) {
			sync__hub_error(c, status, resp, "pull");
			rc = sync__status_rc(status);
			break;
		}
		if (next < 0) {
			CERR(c, "the hub's pull page has no X-Outpost-Next");
			rc = SYNC_E_OTHER;
			break;
		}
		if (more == 1 && next <= cursor) {
			CERR(c, "pull made no progress at cursor %" PRId64, cursor);
			rc = SYNC_E_OTHER;
			break;
		}
		FAULT_POINT("pull.after_reply");
		pf.pf_running = 0;
		if (more == 1 && (pf_gen = sync_node_push_gen(db)) >= 0)
			prefetch_start(&pf, c, next, resp == &bufs[0] ? &bufs[1] : &bufs[0]);
		arc = sync_node_apply_pull_gen(db, resp->data, resp->len, next, gen, c->sc_told,
					       c->sc_told_arg);
		fetched = prefetch_join(&pf) && arc == 0;
		rc = apply_rc(c, arc);
		if (rc == 2) {
			/* Another process pushed meanwhile: this page (and the
			 * one fetched after it) may hold rows older than its
			 * push made them.  The same page again. */
			if (++refetched > PULL_MAX_REFETCH) {
				CERR(c, "pushes keep landing under this pull; try again");
				rc = SYNC_E_OTHER;
				break;
			}
			continue;
		}
		if (rc == 1) {
			/* Another process began a snapshot meanwhile: finish it. */
			rc = snapshot_again(c, db, st, &cursor, &snapshots,
					    "a snapshot keeps being started under this pull");
			if (rc != 0)
				break;
			continue;
		}
		if (rc != 0)
			break;
		st->pl_pages++;
		st->pl_bytes += resp->len;
		cursor = next;
		if (head >= 0)
			st->pl_head = head;
		if (more != 1)
			break;
		if (fetched)
			resp = resp == &bufs[0] ? &bufs[1] : &bufs[0];
	}
out:
	st->pl_cursor = cursor;
	if (st->pl_head >= 0)
		db_kv_set_i64(db, "sync_state", "head_seq", st->pl_head);
	buf_release(&bufs[0]);
	buf_release(&bufs[1]);
	return rc;
}
