/*
 * hub_work.c - the connections of the hub's work threads (hub.h).
 *
 * Pushes are applied on one connection, hb_wdb, one at a time under
 * hb_wlock (SQLite has one writer).  Pull pages, snapshot pages and digests
 * only read: each takes a read connection of its own from a small pool, so
 * in WAL mode they run beside a push and beside each other instead of
 * queueing behind it (the 1,000-office bench, docs/scaling.md).  Each
 * reader keeps the table shapes and statements of its pull pages
 * (sync_pull_cache).
 *
 * What a pull writes - the node's pull cursor and time in `nodes`, shown by
 * the console and used to count how far behind a node is - is advisory: a
 * value one cycle old is harmless.  It is kept in memory and written by
 * whoever holds hb_wlock next (a pull that finds it free, or a push after
 * its batch), many nodes in one commit, so a pull costs no disk wait.  A
 * hub that stops writes what is left (hub_work_close).
 *
 * A signed request's contact - its nonce spent, the node's last_seen_ms,
 * stated schema and release - goes the same way (hub_contact_note, from the loop
 * thread): two commits on the loop for every push and pull were most of a
 * sync cycle's time at a few hundred offices (the loop waited for the disk
 * and for the push holding the write lock).  A nonce waiting here is a used
 * nonce (hub_contact_seen) until its commit is done, so a replay is refused
 * all along.  No reply goes out before its request's nonce is committed
 * (hub_contact_durable; hub_sync.c holds the job's reply until then), so a
 * hub that crashes and restarts still refuses the replay of any request it
 * answered: a push's nonce commits with the push itself (the runner writes
 * the waiting contacts inside its group's transaction, hub_progress_write),
 * a pull's with the flush after its page, or with the runner's next commit
 * (a group without pushes when none is waiting).
 */
#include "hub/hub.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG_MAX 4096 /* nodes waiting; a full list is written at once */
#define CONTACT_MAX 8192 /* requests waiting; when full, the caller writes its own */

typedef struct prog_ent {
	char pe_id[64];
	int64_t pe_after;
	uint64_t pe_ms;
} prog_ent;

typedef struct contact_ent {
	char ce_id[64];
	char ce_nonce[33];
	uint64_t ce_ms;
	int64_t ce_schema; /* -1: not stated */
	char ce_release[HUB_RELEASE_MAX]; /* "": not stated */
	uint64_t ce_seq;   /* hub_contact_note's count */
} contact_ent;

typedef struct hub_progress {
	uv_mutex_t hp_lock;
	prog_ent *hp_ent;
	int hp_n;
	contact_ent *hp_ct; /* in arrival order; the first ones may be being written */
	int hp_nct;
	uint64_t hp_noted;  /* contacts noted so far (the last one's ce_seq) */
	uint64_t hp_durable; /* every contact up to this ce_seq is committed */
} hub_progress;

int hub_work_open(hub *h, const char *path)
{
	if (db_open(path, &h->hb_wdb) != 0 || uv_mutex_init(&h->hb_wlock) != 0 ||
	    uv_mutex_init(&h->hb_rlock) != 0)
		return -1;
	buf_init(&h->hb_push_plain, SYNC_MAX_PUSH_FRAME);
	h->hb_prog = calloc(1, sizeof *h->hb_prog);
	if (h->hb_prog == NULL || (h->hb_prog->hp_ent = calloc(PROG_MAX, sizeof(prog_ent))) == NULL ||
	    (h->hb_prog->hp_ct = calloc(CONTACT_MAX, sizeof(contact_ent))) == NULL ||
	    uv_mutex_init(&h->hb_prog->hp_lock) != 0)
		return -1;
	h->hb_nrfree = 0;
	for (int i = 0; i < HUB_READERS; i++) {
		if (db_open(path, &h->hb_rdb[i]) != 0) {
			log_warnx("cannot open a read connection on '%s'", path);
			return -1;
		}
		h->hb_rfree[h->hb_nrfree++] = i;
	}
	return 0;
}

void hub_work_close(hub *h)
{
	if (h->hb_prog != NULL) {
		uv_mutex_lock(&h->hb_wlock);
		hub_progress_flush(h);
		uv_mutex_unlock(&h->hb_wlock);
		uv_mutex_destroy(&h->hb_prog->hp_lock);
		free(h->hb_prog->hp_ent);
		free(h->hb_prog->hp_ct);
		free(h->hb_prog);
		h->hb_prog = NULL;
	}
	for (int i = 0; i < HUB_READERS; i++) {
		sync_pull_cache_free(h->hb_rpull[i]);
		h->hb_rpull[i] = NULL;
		db_close(h->hb_rdb[i]);
		h->hb_rdb[i] = NULL;
	}
	uv_mutex_destroy(&h->hb_rlock);
	uv_mutex_destroy(&h->hb_wlock);
	buf_release(&h->hb_push_plain);
	db_close(h->hb_wdb);
	h->hb_wdb = NULL;
}

sqlite3 *hub_reader_take(hub *h)
{
	sqlite3 *db = NULL;

	uv_mutex_lock(&h->hb_rlock);
	if (h->hb_nrfree > 0)
		db = h->hb_rdb[h->hb_rfree[--h->hb_nrfree]];
	uv_mutex_unlock(&h->hb_rlock);
	return db;
}

void hub_reader_give(hub *h, sqlite3 *db)
{
	/* Its page cache, up to cache_size, would sit idle until the reader's
	 * next job, which discards it anyway when the WAL moved meanwhile (as
	 * it nearly always has on a hub that takes pushes): hand it back now,
	 * so eight readers do not hold 2 MiB each (issue 20's soak). */
	sqlite3_db_release_memory(db);
	uv_mutex_lock(&h->hb_rlock);
	for (int i = 0; i < HUB_READERS; i++)
		if (h->hb_rdb[i] == db && h->hb_nrfree < HUB_READERS)
			h->hb_rfree[h->hb_nrfree++] = i;
	uv_mutex_unlock(&h->hb_rlock);
}

struct sync_pull_cache *hub_reader_pull_cache(hub *h, sqlite3 *db)
{
	for (int i = 0; i < HUB_READERS; i++)
		if (h->hb_rdb[i] == db) {
			/* (only this job uses the reader: no lock for its slot) */
			if (h->hb_rpull[i] == NULL)
				h->hb_rpull[i] = sync_pull_cache_new(db);
			return h->hb_rpull[i];
		}
	return NULL;
}

/* Inside db's transaction: the pull progress of n nodes.  0 or -1. */
static int progress_put(sqlite3 *db, const prog_ent *e, int n)
{
	sqlite3_stmt *st = NULL;
	int ok = 1;

	if (n == 0)
		return 0;
	if (db_prepare(db, &st,
		       "UPDATE nodes SET pull_cursor=max(pull_cursor, ?1), "
		       "last_pull_ms=max(coalesce(last_pull_ms, 0), ?2), "
		       "last_error=CASE WHEN instr(last_error, ?4) > 0 THEN NULL ELSE last_error END"
		       " WHERE id=?3") != 0)
		return -1;
	/* A page went out: the node runs the hub's schema version now (a
	 * refusal of its version is over; any other Last error stays). */
	sqlite3_bind_text(st, 4, HUB_SCHEMA_REFUSED, -1, SQLITE_STATIC);
	for (int i = 0; i < n && ok; i++) {
		sqlite3_bind_int64(st, 1, e[i].pe_after);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)e[i].pe_ms);
		sqlite3_bind_text(st, 3, e[i].pe_id, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

/* Inside db's transaction: n requests' nonces and the nodes' contact.
 * 0 or -1. */
static int contact_put(sqlite3 *db, const contact_ent *e, int n)
{
	sqlite3_stmt *nst = NULL, *sst = NULL;
	int ok = 1;

	if (n == 0)
		return 0;
	if (db_prepare(db, &nst, "INSERT OR IGNORE INTO nonces(node_id, nonce, at) VALUES(?, ?, ?)") !=
		    0 ||
	    db_prepare(db, &sst,
		       "UPDATE nodes SET last_seen_ms=max(coalesce(last_seen_ms, 0), ?1), "
		       "schema_version=coalesce(?2, schema_version), "
		       "release=coalesce(?4, release) WHERE id=?3") != 0)
		ok = 0;
	for (int i = 0; i < n && ok; i++) {
		sqlite3_bind_text(nst, 1, e[i].ce_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(nst, 2, e[i].ce_nonce, -1, SQLITE_STATIC);
		sqlite3_bind_int64(nst, 3, (sqlite3_int64)e[i].ce_ms);
		sqlite3_bind_int64(sst, 1, (sqlite3_int64)e[i].ce_ms);
		if (e[i].ce_schema >= 0)
			sqlite3_bind_int64(sst, 2, e[i].ce_schema);
		else
			sqlite3_bind_null(sst, 2);
		sqlite3_bind_text(sst, 3, e[i].ce_id, -1, SQLITE_STATIC);
		if (e[i].ce_release[0])
			sqlite3_bind_text(sst, 4, e[i].ce_release, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(sst, 4);
		ok = sqlite3_step(nst) == SQLITE_DONE && sqlite3_step(sst) == SQLITE_DONE;
		sqlite3_reset(nst);
		sqlite3_reset(sst);
	}
	sqlite3_finalize(nst);
	sqlite3_finalize(sst);
	return ok ? 0 : -1;
}

int hub_progress_write(hub *h, sqlite3 *db)
{
	hub_progress *p = h->hb_prog;
	prog_ent *e = NULL;
	contact_ent *c = NULL;
	int n, nc, rc = 0;

	if (p == NULL)
		return 0;
	uv_mutex_lock(&p->hp_lock);
	n = p->hp_n;
	nc = p->hp_nct;
	e = n > 0 ? malloc((size_t)n * sizeof *e) : NULL;
	c = nc > 0 ? malloc((size_t)nc * sizeof *c) : NULL;
	if (e != NULL) {
		memcpy(e, p->hp_ent, (size_t)n * sizeof *e);
		p->hp_n = 0;
	}
	if (c != NULL)
		memcpy(c, p->hp_ct, (size_t)nc * sizeof *c);
	uv_mutex_unlock(&p->hp_lock);
	/* (no memory: the next holder writes them) */
	if ((e != NULL && progress_put(db, e, n) != 0) || (c != NULL && contact_put(db, c, nc) != 0))
		rc = -1;
	free(e);
	free(c);
	return rc < 0 ? -1 : c != NULL ? nc : 0;
}

void hub_progress_done(hub *h, int ncontacts)
{
	hub_progress *p = h->hb_prog;

	if (p == NULL || ncontacts <= 0)
		return;
	uv_mutex_lock(&p->hp_lock);
	if (ncontacts > p->hp_nct)
		ncontacts = p->hp_nct;
	if (ncontacts > 0 && p->hp_ct[ncontacts - 1].ce_seq > p->hp_durable)
		p->hp_durable = p->hp_ct[ncontacts - 1].ce_seq;
	memmove(p->hp_ct, p->hp_ct + ncontacts, (size_t)(p->hp_nct - ncontacts) * sizeof *p->hp_ct);
	p->hp_nct -= ncontacts;
	uv_mutex_unlock(&p->hp_lock);
}

void hub_progress_flush(hub *h)
{
	hub_progress *p = h->hb_prog;
	int waiting, k;

	if (p == NULL)
		return;
	uv_mutex_lock(&p->hp_lock);
	waiting = p->hp_n + p->hp_nct;
	uv_mutex_unlock(&p->hp_lock);
	if (waiting == 0 || db_exec(h->hb_wdb, "BEGIN IMMEDIATE") != 0)
		return;
	k = hub_progress_write(h, h->hb_wdb);
	if (k < 0 || db_exec(h->hb_wdb, "COMMIT") != 0) {
		db_exec(h->hb_wdb, "ROLLBACK");
		log_warnx("cannot record the pull progress and contacts of the nodes");
		return;
	}
	hub_progress_done(h, k);
}

int hub_contact_seen(hub *h, const char *node_id, const char *nonce)
{
	hub_progress *p = h->hb_prog;
	int seen = 0;

	if (p == NULL)
		return 0;
	uv_mutex_lock(&p->hp_lock);
	for (int i = 0; i < p->hp_nct && !seen; i++)
		seen = strcmp(p->hp_ct[i].ce_nonce, nonce) == 0 &&
		       strcmp(p->hp_ct[i].ce_id, node_id) == 0;
	uv_mutex_unlock(&p->hp_lock);
	return seen;
}

int hub_contact_note(hub *h, const char *node_id, const char *nonce, uint64_t now_ms,
		     int64_t schema, const char *release, uint64_t *seq)
{
	hub_progress *p = h->hb_prog;
	contact_ent *c;
	int rc = -1;

	if (p == NULL || strlen(node_id) >= sizeof c->ce_id || strlen(nonce) >= sizeof c->ce_nonce ||
	    (release && strlen(release) >= sizeof c->ce_release))
		return -1;
	uv_mutex_lock(&p->hp_lock);
	if (p->hp_nct < CONTACT_MAX) {
		c = &p->hp_ct[p->hp_nct++];
		strcpy(c->ce_id, node_id);
		strcpy(c->ce_nonce, nonce);
		c->ce_ms = now_ms;
		c->ce_schema = schema;
		snprintf(c->ce_release, sizeof c->ce_release, "%s", release ? release : "");
		c->ce_seq = *seq = ++p->hp_noted;
		rc = 0;
	}
	uv_mutex_unlock(&p->hp_lock);
	return rc;
}

int hub_contact_durable(hub *h, uint64_t seq)
{
	hub_progress *p = h->hb_prog;
	int done;

	if (p == NULL || seq == 0)
		return 1;
	uv_mutex_lock(&p->hp_lock);
	done = seq <= p->hp_durable;
	uv_mutex_unlock(&p->hp_lock);
	return done;
}

void hub_progress_note(hub *h, const char *node_id, int64_t after)
{
	hub_progress *p = h->hb_prog;
	int i, full;

	if (p == NULL || node_id == NULL || strlen(node_id) >= sizeof p->hp_ent[0].pe_id)
		return;
	uv_mutex_lock(&p->hp_lock);
	for (i = 0; i < p->hp_n; i++)
		if (strcmp(p->hp_ent[i].pe_id, node_id) == 0)
			break;
	if (i == p->hp_n && p->hp_n < PROG_MAX) {
		strcpy(p->hp_ent[i].pe_id, node_id);
		p->hp_ent[i].pe_after = after;
		p->hp_n++;
	}
	if (i < p->hp_n) {
		if (after > p->hp_ent[i].pe_after)
			p->hp_ent[i].pe_after = after;
		p->hp_ent[i].pe_ms = hub_now_ms();
	}
	full = p->hp_n == PROG_MAX;
	uv_mutex_unlock(&p->hp_lock);
	if (full) {
		uv_mutex_lock(&h->hb_wlock);
	} else if (uv_mutex_trylock(&h->hb_wlock) != 0) {
		return; /* the holder (a push) writes it after its batch */
	}
	hub_progress_flush(h);
	uv_mutex_unlock(&h->hb_wlock);
}
