/*
 * bench_sync.c - helper of the replication benchmark (bench/bench_sync.sh,
 * which drives real outpost-hub processes and outpost-sync commands and
 * prints the figures).  Two jobs:
 *
 *   bench_sync gen NODE_DB ENTRIES DAYS [done]
 *       Fill an enrolled office node's outbox as a week offline would: ENTRIES
 *       check-ins (a checkins row and a checkin_reasons row each, captured by
 *       model/capture exactly as the node's API does, one outbox entry per
 *       check-in) spread evenly over the last DAYS days, stamped with HLCs of
 *       the node's id and the staff id of one greeter; waiting, or with
 *       "done" finished half an hour after they came (so today's waiting
 *       list stays a desk's size).  Prints "rows N changeset_bytes B".
 *
 *   bench_sync gen-crm NODE_DB LEADS NOTES
 *       A CRM backlog instead: LEADS marketing leads made offline, each an
 *       outbox entry, each followed by NOTES case notes on it, an entry each
 *       (the lead's table has triggers of its own, so the lead takes the
 *       merge at the hub and its notes, refused in the group for want of
 *       it, are grouped again after it: sync/apply_batch.c).  Prints
 *       "entries N".
 *
 *   bench_sync raw NODE_DB OUT_DB [cat]
 *       The reference: apply the same outbox changesets with plain
 *       sqlite3changeset_apply() to a fresh database with the replicated
 *       schema, on the same disk, with the hub's settings (WAL,
 *       synchronous=FULL) and the hub's transaction size (HUB_TXN_MAX_ENTRIES
 *       entries per COMMIT): one apply per changeset, or with "cat" the
 *       changesets of a transaction grouped by table (sqlite3changegroup,
 *       not timed) into one apply: SQLite's fastest way, since per-table
 *       set-up dominates the apply of small changesets.  Prints
 *       "rows N seconds S changeset_bytes B entries E cpu C" (C: CPU seconds).
 *
 *   bench_sync ingest HUB_DB NODE_DB
 *       The hub's work for a push, in process: the node's outbox in push
 *       frames (SYNC_MAX_BATCH_BYTES each, as outpost-sync push builds them)
 *       through hub_ingest() - validation, merge or grouped apply, change
 *       log, quarantine, acknowledgement, the hub's validators - on a copy
 *       of the hub's database, without TLS and HTTP.  Prints "entries N
 *       applied A seconds S cpu C".
 *
 *   bench_sync merge HUB_DB NODE_DB
 *       The same entries through the merge alone, one by one
 *       (sync_hub_apply_cached), in the same transaction size: the hub's
 *       cost before the grouped apply (sync/apply_batch.c).
 *
 *   bench_sync pull HUB_DB NODE_DB
 *       The pull at a node in process: the hub's pull pages after the
 *       node's cursor, each applied as outpost-sync pull applies it, without
 *       TLS and HTTP; the CPU of each side and the node's cost per row of
 *       the first and last quarter of the pages (see pull_in_process).
 */
#include "bench/loadgen.h"
#include "hub/hub.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/hlc.h"
#include "lib/uuid.h"
#include "sync/frame.h"
#include "model/capture.h"
#include "model/crm.h"
#include "model/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The HLC's clock: a simulated wall clock moved by gen(). */
static uint64_t sim_ms;
static uint64_t sim_clock(void *arg)
{
	(void)arg;
	return sim_ms;
}

/* An enrolled node's id, office and Local Area (64 bytes each).  0 or -1. */
static int node_ids(sqlite3 *db, const char *path, char *node_id, char *office, char *la)
{
	if (db_text(db, "SELECT value FROM node_meta WHERE key=?", "node_id", node_id, 64) != 0 ||
	    db_text(db, "SELECT value FROM node_meta WHERE key=?", "office_id", office, 64) != 0 ||
	    db_text(db, "SELECT value FROM node_meta WHERE key=?", "local_area_id", la, 64) != 0) {
		fprintf(stderr, "bench_sync: %s is not an enrolled node database\n", path);
		return -1;
	}
	return 0;
}

static int gen(const char *path, long entries, int days, int done)
{
	char node_id[64], office[64], la[64], reason[64], id[UUID_STRLEN], rid[UUID_STRLEN];
	char ts[HLC_STRLEN], name[64], day[16], staff[UUID_STRLEN], phone[16];
	sqlite3 *db = NULL;
	sqlite3_stmt *a = NULL, *b = NULL;
	capture c;
	hlc h;
	uint64_t start, span;
	long rows = 0;
	int rc = 1;

	if (db_open(path, &db) != 0 || node_ids(db, path, node_id, office, la) != 0)
		goto out;
	if (db_text(db, "SELECT id FROM greeter_reasons WHERE local_area_id=? ORDER BY sort LIMIT 1",
		    la, reason, sizeof reason) != 0) {
		fprintf(stderr, "bench_sync: no greeter reason in %s\n", path);
		goto out;
	}
	span = (uint64_t)days * 24 * 3600 * 1000;
	start = (uint64_t)time(NULL) * 1000 - span;
	sim_ms = start;
	hlc_init(&h, node_id, sim_clock, NULL);
	uuid7(staff); /* the greeter's staff id, as the node's API records it */
	if (db_prepare(db, &a, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
			      " phone, language, status, arrived_at, visit_date, updated_hlc,"
			      " finished_at) VALUES(?1, ?2, ?3, ?4, ?8, 'en', ?9, ?5, ?6, ?7, ?10)") ||
	    db_prepare(db, &b, "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id)"
			      " VALUES(?1, ?2, ?3, ?4)"))
		goto out;
	for (long i = 0; i < entries; i++) {
		time_t t;
		struct tm tm;

		/* One enclosing transaction per 1000 writes (the node's group
		 * commit does the same with the writes of one loop turn). */
		if (i % 1000 == 0 && db_exec(db, "BEGIN IMMEDIATE") != 0)
			goto out;
		sim_ms = start + span * (uint64_t)i / (uint64_t)entries;
		t = (time_t)(sim_ms / 1000);
		localtime_r(&t, &tm);
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
		hlc_now(&h, ts);
		uuid7(id);
		uuid7(rid);
		{
			/* Names and phones that vary like real ones (compression). */
			static const char *first[] = {"Maria", "James", "Linh", "Jose", "Aisha",
						      "Robert", "Guadalupe", "Wei", "Fatima", "David"};
			uint32_t r = 0;
			crypto_random(&r, sizeof r);
			snprintf(name, sizeof name, "Backlog Visitor %ld %s %c%c%c", i, first[r % 10],
				 'A' + (int)(r >> 8) % 26, 'a' + (int)(r >> 13) % 26,
				 'a' + (int)(r >> 18) % 26);
			snprintf(phone, sizeof phone, "916-555-%04u", (unsigned)(r >> 20) % 10000);
		}
		if (capture_begin(&c, db) != 0)
			goto out;
		sqlite3_bind_text(a, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(a, 2, office, -1, SQLITE_STATIC);
		sqlite3_bind_text(a, 3, la, -1, SQLITE_STATIC);
		sqlite3_bind_text(a, 4, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(a, 5, (sqlite3_int64)sim_ms);
		sqlite3_bind_text(a, 6, day, -1, SQLITE_STATIC);
		sqlite3_bind_text(a, 7, ts, -1, SQLITE_STATIC);
		sqlite3_bind_text(a, 8, phone, -1, SQLITE_STATIC);
		sqlite3_bind_text(a, 9, done ? "done" : "waiting", -1, SQLITE_STATIC);
		if (done)
			sqlite3_bind_int64(a, 10, (sqlite3_int64)sim_ms + 30 * 60 * 1000);
		else
			sqlite3_bind_null(a, 10);
		sqlite3_bind_text(b, 1, rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(b, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(b, 3, reason, -1, SQLITE_STATIC);
		sqlite3_bind_text(b, 4, office, -1, SQLITE_STATIC);
		if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(b) != SQLITE_DONE) {
			fprintf(stderr, "bench_sync: insert: %s\n", sqlite3_errmsg(db));
			capture_abort(&c);
			goto out;
		}
		sqlite3_reset(a);
		sqlite3_reset(b);
		if (capture_commit(&c, ts, staff, NULL) != 0)
			goto out;
		rows += 2;
		if ((i % 1000 == 999 || i == entries - 1) && db_exec(db, "COMMIT") != 0)
			goto out;
	}
	printf("rows %ld changeset_bytes %lld\n", rows,
	       (long long)db_int(db, "SELECT coalesce(sum(length(changeset)), 0) FROM outbox", 0));
	rc = 0;
out:
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	db_close(db);
	return rc;
}

static int gen_crm(const char *path, long leads, int notes)
{
	char office[64], la[64], staff[UUID_STRLEN], id[UUID_STRLEN], nid[UUID_STRLEN];
	char ts[HLC_STRLEN], node_id[64], name[96], norm[CRM_NORM_MAX], user[32];
	sqlite3 *db = NULL;
	sqlite3_stmt *e = NULL, *n = NULL;
	capture c;
	hlc h;
	long entries = 0;
	int rc = 1;

	if (db_open(path, &db) != 0 || node_ids(db, path, node_id, office, la) != 0)
		goto out;
	/* the notes' author: staff of the office (the hub checks it) */
	if (db_text(db, "SELECT id FROM staff WHERE office_id=? ORDER BY id LIMIT 1", office, staff,
		    sizeof staff) != 0) {
		fprintf(stderr, "bench_sync: no staff of the office in %s\n", path);
		goto out;
	}
	sim_ms = (uint64_t)time(NULL) * 1000 - 24 * 3600 * 1000;
	hlc_init(&h, node_id, sim_clock, NULL);
	if (db_prepare(db, &e, "INSERT INTO employers(id, account_type, company_name, normalized_name,"
			      " username, zip, zip5, street, city, state, phone, lead_owner_id, office_id,"
			      " local_area_id, created_by, created_at, source, status, updated_hlc)"
			      " VALUES(?1, 'lead', ?2, ?3, ?4, '95814', '95814', '1 Main St', 'Sacramento',"
			      " 'CA', '(916) 555-0100', ?5, ?6, ?7, ?5, ?8, 'manual', 'active', ?9)") ||
	    db_prepare(db, &n, "INSERT INTO employer_notes(id, employer_id, staff_id, body, created_at)"
			      " VALUES(?1, ?2, ?3, 'Called the owner about the job fair', ?4)"))
		goto out;
	for (long i = 0; i < leads; i++) {
		if (i % 100 == 0 && db_exec(db, "BEGIN IMMEDIATE") != 0)
			goto out;
		for (int k = 0; k <= notes; k++) {
			sim_ms += 1000;
			hlc_now(&h, ts);
			if (capture_begin(&c, db) != 0)
				goto out;
			if (k == 0) {
				uuid7(id);
				snprintf(name, sizeof name, "Backlog Employer %c%c%c %ld", 'A' + (int)(i % 26),
					 'a' + (int)(i / 26 % 26), 'a' + (int)(i / 676 % 26), i);
				snprintf(user, sizeof user, "MKTBACKLOG%06ld", i);
				if (crm_normalize_name(name, norm, sizeof norm) != 0)
					goto abort;
				sqlite3_bind_text(e, 1, id, -1, SQLITE_STATIC);
				sqlite3_bind_text(e, 2, name, -1, SQLITE_STATIC);
				sqlite3_bind_text(e, 3, norm, -1, SQLITE_STATIC);
				sqlite3_bind_text(e, 4, user, -1, SQLITE_STATIC);
				sqlite3_bind_text(e, 5, staff, -1, SQLITE_STATIC);
				sqlite3_bind_text(e, 6, office, -1, SQLITE_STATIC);
				sqlite3_bind_text(e, 7, la, -1, SQLITE_STATIC);
				sqlite3_bind_int64(e, 8, (sqlite3_int64)sim_ms);
				sqlite3_bind_text(e, 9, ts, -1, SQLITE_STATIC);
				if (sqlite3_step(e) != SQLITE_DONE)
					goto abort;
				sqlite3_reset(e);
			} else {
				uuid7(nid);
				sqlite3_bind_text(n, 1, nid, -1, SQLITE_STATIC);
				sqlite3_bind_text(n, 2, id, -1, SQLITE_STATIC);
				sqlite3_bind_text(n, 3, staff, -1, SQLITE_STATIC);
				sqlite3_bind_int64(n, 4, (sqlite3_int64)sim_ms);
				if (sqlite3_step(n) != SQLITE_DONE)
					goto abort;
				sqlite3_reset(n);
			}
			if (capture_commit(&c, ts, staff, NULL) != 0)
				goto out;
			entries++;
		}
		if ((i % 100 == 99 || i == leads - 1) && db_exec(db, "COMMIT") != 0)
			goto out;
	}
	printf("entries %ld\n", entries);
	rc = 0;
	goto out;
abort:
	fprintf(stderr, "bench_sync: gen-crm: %s\n", sqlite3_errmsg(db));
	capture_abort(&c);
out:
	sqlite3_finalize(e);
	sqlite3_finalize(n);
	db_close(db);
	return rc;
}

static int on_conflict(void *ctx, int kind, sqlite3_changeset_iter *it)
{
	(void)ctx;
	(void)kind;
	(void)it;
	return SQLITE_CHANGESET_ABORT;
}

static int apply_raw(sqlite3 *dst, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (sqlite3changeset_apply(dst, (int)n, (void *)p, NULL, on_conflict, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_sync: raw apply: %s\n", sqlite3_errmsg(dst));
		return -1;
	}
	return 0;
}

/* The changesets of one transaction as one changeset grouped by table
 * (sqlite3changegroup), so the apply sets each table up once. */
static int group(sqlite3_stmt *st, int max, buf *out, long *n, long long *bytes, int *more)
{
	sqlite3_changegroup *g = NULL;
	void *p = NULL;
	int np = 0, rc, ret = -1;

	*more = 0;
	buf_reset(out);
	if (sqlite3changegroup_new(&g) != SQLITE_OK)
		return -1;
	for (int i = 0; i < max; i++) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			goto out;
		*bytes += sqlite3_column_bytes(st, 0);
		(*n)++;
		if (sqlite3changegroup_add(g, sqlite3_column_bytes(st, 0),
					   (void *)sqlite3_column_blob(st, 0)) != SQLITE_OK)
			goto out;
		if (i == max - 1)
			*more = 1;
	}
	if (sqlite3changegroup_output(g, &np, &p) != SQLITE_OK || buf_append(out, p, (size_t)np) != 0)
		goto out;
	ret = 0;
out:
	sqlite3_free(p);
	sqlite3changegroup_delete(g);
	return ret;
}

static int raw(const char *node_path, const char *out_path, int cat)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_stmt *st = NULL;
	buf *chunks = NULL;
	long entries = 0, nchunks = 0;
	long long bytes = 0, rows;
	double t0, t, c0;
	int rc = 1, src_rc, more = 1;

	unlink(out_path);
	/* The tables as the hub has them (its indexes too). */
	if (db_open(node_path, &src) != 0 || db_open(out_path, &dst) != 0 ||
	    schema_migrate(dst) != 0 || db_exec(dst, HUB_TRIM_INDEXES) != 0)
		goto out;
	if (db_prepare(src, &st, "SELECT changeset FROM outbox ORDER BY seq") != 0)
		goto out;
	if (cat) {
		/* Grouped before the clock starts: the reference is SQLite at its best. */
		while (more) {
			buf *n = realloc(chunks, (size_t)(nchunks + 1) * sizeof *n);
			if (n == NULL)
				goto out;
			chunks = n;
			buf_init(&chunks[nchunks], (size_t)1 << 30);
			if (group(st, HUB_TXN_MAX_ENTRIES, &chunks[nchunks++], &entries, &bytes,
				  &more) != 0)
				goto out;
		}
		t0 = loadgen_now_s();
		c0 = cpu_now_s();
		for (long i = 0; i < nchunks; i++)
			if (db_exec(dst, "BEGIN IMMEDIATE") != 0 ||
			    apply_raw(dst, chunks[i].data, chunks[i].len) != 0 ||
			    db_exec(dst, "COMMIT") != 0)
				goto out;
		t = loadgen_now_s() - t0;
	} else {
		t0 = loadgen_now_s();
		c0 = cpu_now_s();
		if (db_exec(dst, "BEGIN IMMEDIATE") != 0)
			goto out;
		while ((src_rc = sqlite3_step(st)) == SQLITE_ROW) {
			int n = sqlite3_column_bytes(st, 0);

			if (apply_raw(dst, sqlite3_column_blob(st, 0), (size_t)n) != 0)
				goto out;
			bytes += n;
			if (++entries % HUB_TXN_MAX_ENTRIES == 0 &&
			    (db_exec(dst, "COMMIT") != 0 || db_exec(dst, "BEGIN IMMEDIATE") != 0))
				goto out;
		}
		if (src_rc != SQLITE_DONE || db_exec(dst, "COMMIT") != 0)
			goto out;
		t = loadgen_now_s() - t0;
	}
	rows = db_int(dst, "SELECT (SELECT count(*) FROM checkins) + "
			   "(SELECT count(*) FROM checkin_reasons)", 0);
	printf("rows %lld seconds %.3f changeset_bytes %lld entries %ld cpu %.3f\n", rows, t, bytes,
	       entries, cpu_now_s() - c0);
	rc = 0;
out:
	for (long i = 0; i < nchunks; i++)
		buf_release(&chunks[i]);
	free(chunks);
	sqlite3_finalize(st);
	db_close(src);
	db_close(dst);
	return rc;
}

/* The next push frame of the outbox after node seq *after into out: 0 and
 * *count entries (0 at the end), or -1.  Hub seqs are node seqs - base. */
static int next_frame(sqlite3 *node, int64_t *after, int64_t base, buf *out, int *count)
{
	sqlite3_stmt *st = NULL;
	frame_writer w;
	int rc;

	*count = 0;
	buf_reset(out);
	if (db_prepare(node, &st, "SELECT seq, hlc, actor, changeset FROM outbox WHERE seq > ?1 "
				  "ORDER BY seq LIMIT ?2") != 0)
		return -1;
	sqlite3_bind_int64(st, 1, *after);
	sqlite3_bind_int(st, 2, SYNC_FRAME_MAX_ENTRIES);
	frame_begin(&w, out, (uint32_t)schema_version());
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sync_entry e = {0};

		e.seq = sqlite3_column_int64(st, 0) - base;
		e.hlc = (const char *)sqlite3_column_text(st, 1);
		e.actor = (const char *)sqlite3_column_text(st, 2);
		e.changeset = sqlite3_column_blob(st, 3);
		e.len = (size_t)sqlite3_column_bytes(st, 3);
		if ((*count > 0 && !frame_fits(&w, &e, SYNC_MAX_BATCH_BYTES)) || frame_add(&w, &e) != 0)
			break;
		*after = e.seq + base;
		(*count)++;
	}
	sqlite3_finalize(st);
	return *count > 0 && frame_end(&w) != 0 ? -1 : 0;
}

static int ingest(const char *hub_path, const char *node_path)
{
	sqlite3 *hdb = NULL, *node = NULL;
	hub_node n;
	hub_ingest_result res;
	buf frame = BUF_INIT(SYNC_MAX_PUSH_FRAME + SYNC_MAX_BATCH_BYTES);
	int64_t after, base, acked;
	long entries = 0, applied = 0;
	double t0, c0, t = 0, c = 0;
	int count, rc = 1;

	memset(&n, 0, sizeof n);
	if (db_open(node_path, &node) != 0 || db_open(hub_path, &hdb) != 0 ||
	    db_text(node, "SELECT value FROM node_meta WHERE key=?", "node_id", n.hn_id,
		    sizeof n.hn_id) != 0 ||
	    db_text(hdb, "SELECT office_id FROM nodes WHERE id=?", n.hn_id, n.hn_office,
		    sizeof n.hn_office) != 0 ||
	    db_text(hdb, "SELECT local_area_id FROM nodes WHERE id=?", n.hn_id, n.hn_la,
		    sizeof n.hn_la) != 0) {
		fprintf(stderr, "bench_sync: the node is not enrolled at this hub\n");
		goto out;
	}
	{
		sqlite3_stmt *st = NULL;
		if (db_prepare(hdb, &st, "SELECT acked_seq FROM nodes WHERE id=?") != 0)
			goto out;
		sqlite3_bind_text(st, 1, n.hn_id, -1, SQLITE_STATIC);
		acked = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_finalize(st);
	}
	after = db_int(node, "SELECT coalesce(min(seq), 1) - 1 FROM outbox", 0);
	base = after - acked;
	sync_set_validator(hub_codes_validate_row);
	for (;;) {
		if (next_frame(node, &after, base, &frame, &count) != 0)
			goto out;
		if (count == 0)
			break;
		t0 = loadgen_now_s();
		c0 = cpu_now_s();
		if (hub_ingest(hdb, &n, frame.data, frame.len, &res) != 0) {
			fprintf(stderr, "bench_sync: ingest: %d %s\n", res.hi_status, res.hi_error);
			hub_ingest_release(&res);
			goto out;
		}
		c += cpu_now_s() - c0;
		t += loadgen_now_s() - t0;
		entries += count;
		applied += res.hi_applied;
		hub_ingest_release(&res);
	}
	printf("entries %ld applied %ld seconds %.3f cpu %.3f\n", entries, applied, t, c);
	rc = 0;
out:
	buf_release(&frame);
	db_close(node);
	db_close(hdb);
	return rc;
}

/* The merge alone, entry by entry (sync_hub_apply_cached, the path every
 * entry took before the grouped apply), in the hub's transaction size, on a
 * copy of the hub: the reference for the grouped apply's gain.  Prints
 * "entries N applied A seconds S cpu C". */
static int merge_each(const char *hub_path, const char *node_path)
{
	sqlite3 *hdb = NULL, *node = NULL;
	sqlite3_stmt *st = NULL;
	sync_apply_cache *cache = NULL;
	char node_id[64], office[64], la[64];
	long entries = 0, applied = 0;
	double t0, c0;
	int rc = 1, src_rc;

	if (db_open(node_path, &node) != 0 || db_open(hub_path, &hdb) != 0 ||
	    db_text(node, "SELECT value FROM node_meta WHERE key=?", "node_id", node_id,
		    sizeof node_id) != 0 ||
	    db_text(hdb, "SELECT office_id FROM nodes WHERE id=?", node_id, office, sizeof office) != 0 ||
	    db_text(hdb, "SELECT local_area_id FROM nodes WHERE id=?", node_id, la, sizeof la) != 0 ||
	    (cache = sync_apply_cache_new(hdb)) == NULL ||
	    db_prepare(node, &st, "SELECT seq, hlc, actor, changeset FROM outbox ORDER BY seq") != 0)
		goto out;
	sync_set_validator(hub_codes_validate_row);
	{
		hub_node n = {0};
		sync_scope sc = {node_id, office, la};
		snprintf(n.hn_id, sizeof n.hn_id, "%s", node_id);
		snprintf(n.hn_office, sizeof n.hn_office, "%s", office);
		snprintf(n.hn_la, sizeof n.hn_la, "%s", la);
		t0 = loadgen_now_s();
		c0 = cpu_now_s();
		if (db_exec(hdb, "BEGIN IMMEDIATE") != 0)
			goto out;
		while ((src_rc = sqlite3_step(st)) == SQLITE_ROW) {
			sync_entry e = {sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
					(const char *)sqlite3_column_text(st, 2), sqlite3_column_blob(st, 3),
					(size_t)sqlite3_column_bytes(st, 3)};
			sync_apply_result r;
			if (sync_hub_apply_cached(hdb, cache, &sc, &e, &r) != 0)
				goto out;
			applied += r.applied;
			if (++entries % HUB_TXN_MAX_ENTRIES == 0 &&
			    (db_exec(hdb, "COMMIT") != 0 || db_exec(hdb, "BEGIN IMMEDIATE") != 0))
				goto out;
		}
		if (src_rc != SQLITE_DONE || db_exec(hdb, "COMMIT") != 0)
			goto out;
		(void)n;
	}
	printf("entries %ld applied %ld seconds %.3f cpu %.3f\n", entries, applied, loadgen_now_s() - t0,
	       cpu_now_s() - c0);
	rc = 0;
out:
	sqlite3_finalize(st);
	sync_apply_cache_free(cache);
	db_close(node);
	db_close(hdb);
	return rc;
}

/* The pull at node B, in process: pull pages from the hub's database for
 * the node's scope after its cursor (sync_hub_pull_cached, as a pull
 * request builds them), each applied with sync_node_apply_pull, as
 * outpost-sync pull does, without TLS and HTTP.  Prints "pages P rows R
 * hub_cpu H node_cpu N node_first Q1 node_last Q4 seconds S": the CPU of
 * the hub's page building and of the node's apply, and the node's CPU per
 * row of the first and of the last quarter of the pages (ns), which are
 * equal when the cost per change is flat. */
static int pull_in_process(const char *hub_path, const char *node_path)
{
	sqlite3 *hdb = NULL, *node = NULL;
	sync_pull_cache *pc = NULL;
	buf page = BUF_INIT(SYNC_MAX_REPLY);
	char node_id[64], office[64], la[64];
	int64_t cursor = -1, next, head;
	long pages = 0, rows = 0, qrows[4] = {0};
	double t0 = loadgen_now_s(), hub_cpu = 0, node_cpu = 0, qcpu[4] = {0}, c0, c1;
	double *pcpu = NULL;
	long *prows = NULL;
	int more = 1, rc = 1;

	if (db_open(node_path, &node) != 0 || db_open(hub_path, &hdb) != 0 ||
	    db_text(node, "SELECT value FROM node_meta WHERE key=?", "node_id", node_id,
		    sizeof node_id) != 0 ||
	    db_text(hdb, "SELECT office_id FROM nodes WHERE id=?", node_id, office, sizeof office) != 0 ||
	    db_text(hdb, "SELECT local_area_id FROM nodes WHERE id=?", node_id, la, sizeof la) != 0 ||
	    db_kv_get_i64(node, "node_meta", "sync_cursor", &cursor) != DB_FOUND ||
	    (pc = sync_pull_cache_new(hdb)) == NULL) {
		fprintf(stderr, "bench_sync: the node is not enrolled at this hub, or has no cursor\n");
		goto out;
	}
	{
		sync_scope sc = {node_id, office, la};
		while (more) {
			void *np;

			buf_reset(&page);
			c0 = cpu_now_s();
			if (sync_hub_pull_cached(hdb, pc, &sc, cursor, SYNC_MAX_PULL_ROWS, &page, &next,
						 &head, &more) != 0)
				goto out;
			c1 = cpu_now_s();
			if (sync_node_apply_pull(node, page.data, page.len, next) != 0) {
				fprintf(stderr, "bench_sync: node apply failed\n");
				goto out;
			}
			hub_cpu += c1 - c0;
			node_cpu += cpu_now_s() - c1;
			if ((np = realloc(pcpu, (size_t)(pages + 1) * sizeof *pcpu)) == NULL)
				goto out;
			pcpu = np;
			if ((np = realloc(prows, (size_t)(pages + 1) * sizeof *prows)) == NULL)
				goto out;
			prows = np;
			pcpu[pages] = cpu_now_s() - c1;
			prows[pages] = (long)(next - cursor);
			rows += prows[pages++];
			cursor = next;
		}
	}
	for (long i = 0; i < pages; i++) {
		qcpu[i * 4 / pages] += pcpu[i];
		qrows[i * 4 / pages] += prows[i];
	}
	printf("pages %ld rows %ld hub_cpu %.3f node_cpu %.3f node_first %.0f node_last %.0f "
	       "seconds %.3f\n", pages, rows, hub_cpu, node_cpu,
	       qrows[0] ? qcpu[0] * 1e9 / (double)qrows[0] : 0.0,
	       qrows[3] ? qcpu[3] * 1e9 / (double)qrows[3] : 0.0, loadgen_now_s() - t0);
	rc = 0;
out:
	free(pcpu);
	free(prows);
	buf_release(&page);
	sync_pull_cache_free(pc);
	db_close(node);
	db_close(hdb);
	return rc;
}

int main(int argc, char **argv)
{
	if ((argc == 5 || (argc == 6 && strcmp(argv[5], "done") == 0)) &&
	    strcmp(argv[1], "gen") == 0)
		return gen(argv[2], atol(argv[3]), atoi(argv[4]), argc == 6);
	if (argc == 5 && strcmp(argv[1], "gen-crm") == 0)
		return gen_crm(argv[2], atol(argv[3]), atoi(argv[4]));
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "raw") == 0)
		return raw(argv[2], argv[3], argc == 5 && strcmp(argv[4], "cat") == 0);
	if (argc == 4 && strcmp(argv[1], "ingest") == 0)
		return ingest(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "merge") == 0)
		return merge_each(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "pull") == 0)
		return pull_in_process(argv[2], argv[3]);
	fprintf(stderr, "usage: bench_sync gen NODE_DB ENTRIES DAYS [done] | gen-crm NODE_DB LEADS NOTES | "
			"raw NODE_DB OUT_DB [cat] | "
			"ingest|merge|pull HUB_DB NODE_DB\n");
	return 1;
}
