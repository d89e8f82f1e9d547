/*
 * bench_node.c - office node benchmark (make bench).  Every figure is also
 * given as a ratio against a reference measured in the same run, since the
 * machines are shared and noisy:
 *
 *   writes: check-in POSTs at 64 connections vs the raw in-process rate of
 *           one transaction per check-in (same schema, change capture into
 *           the outbox, synchronous=FULL) on the same disk, with the node's
 *           capture and, printed beside it, with a real sqlite3session;
 *   reads:  GET waiting list, GET reasons and its revalidation (If-None-Match,
 *           304) vs GET of a small static asset from the server;
 *   memory: the node's idle RSS.
 *
 * usage: bench_node PORT PID DATADIR [seconds [HTTPS_PORT]]
 * BENCH_NODE_READS=N or BENCH_NODE_WRITES=N: only the reads or only the
 * check-in POSTs, N rounds, with the node's CPU per answer (A/B runs).
 */
#include "bench/loadgen.h"
#include "lib/db.h"
#include "lib/uuid.h"
#include "model/capture.h"
#include "model/demo.h"
#include "model/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int attach_one(const table_def *t, void *arg)
{
	return sqlite3session_attach(arg, t->td_name) == SQLITE_OK ? 0 : -1;
}

/*
 * One transaction per check-in, in process, on the same disk: the node's
 * own capture (model/capture.c) or, for comparison, a real sqlite3session
 * attached to every replicated table whose changeset goes to the outbox.
 */
static double raw_rate(const char *dir, double seconds, int with_session)
{
	char path[512], id[UUID_STRLEN], rid[UUID_STRLEN];
	sqlite3 *db;
	sqlite3_stmt *a, *b, *o;
	capture c;
	long n = 0;
	double t0, t;

	snprintf(path, sizeof path, "%s/raw-bench.db", dir);
	unlink(path);
	if (db_open(path, &db) || schema_migrate(db) || capture_migrate(db) ||
	    demo_seed_reference(db, "h"))
		return 0;
	db_prepare(db, &a, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
			   " language, status, arrived_at, visit_date, updated_hlc)"
			   " VALUES(?, 'demo-office', 'demo-la', 'Bench Visitor', 'en', 'waiting', ?,"
			   " '2026-01-01', 'h')");
	db_prepare(db, &b, "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id)"
			   " VALUES(?, ?, '0190a000-0000-7000-8000-000000000001', 'demo-office')");
	db_prepare(db, &o, "INSERT INTO outbox(hlc, actor, created_at, schema_version, nbytes,"
			   " changeset) VALUES('h', NULL, 0, 1, ?, ?)");
	t0 = loadgen_now_s();
	do {
		sqlite3_session *s = NULL;

		if (with_session) {
			db_exec(db, "BEGIN IMMEDIATE");
			sqlite3session_create(db, "main", &s);
			schema_foreach(attach_one, s);
		} else {
			capture_begin(&c, db);
		}
		uuid7(id);
		uuid7(rid);
		sqlite3_bind_text(a, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(a, 2, (sqlite3_int64)time(NULL) * 1000);
		sqlite3_step(a);
		sqlite3_reset(a);
		sqlite3_bind_text(b, 1, rid, -1, SQLITE_STATIC);
		sqlite3_bind_text(b, 2, id, -1, SQLITE_STATIC);
		sqlite3_step(b);
		sqlite3_reset(b);
		if (with_session) {
			void *cs = NULL;
			int ncs = 0;
			sqlite3session_changeset(s, &ncs, &cs);
			sqlite3session_delete(s);
			sqlite3_bind_int(o, 1, ncs);
			sqlite3_bind_blob(o, 2, cs, ncs, SQLITE_STATIC);
			sqlite3_step(o);
			sqlite3_reset(o);
			sqlite3_free(cs);
			db_exec(db, "COMMIT");
		} else {
			capture_commit(&c, "000000000001.0000.bench", NULL, NULL);
		}
		n++;
		t = loadgen_now_s() - t0;
	} while (t < seconds);
	sqlite3_finalize(a);
	sqlite3_finalize(b);
	sqlite3_finalize(o);
	db_close(db);
	unlink(path);
	return (double)n / t;
}

static const char *reason_id = "0190a000-0000-7000-8000-000000000001";

static size_t build_post(int th, long i, char *out, size_t n, const void *arg)
{
	char body[256];
	int blen = snprintf(body, sizeof body,
			    "{\"visitor_name\":\"Bench %d-%ld\",\"reason_ids\":[\"%s\"],\"language\":\"en\"}",
			    th, i, reason_id);
	(void)arg;
	return (size_t)snprintf(out, n,
				"POST /api/v1/checkins HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
				"application/json\r\nContent-Length: %d\r\n\r\n%s",
				blen, body);
}

static size_t build_get(int th, long i, char *out, size_t n, const void *arg)
{
	(void)th;
	(void)i;
	/* The staff session bench/run.sh signed in with (node logins). */
	const char *cookie = getenv("OUTPOST_BENCH_COOKIE");

	return (size_t)snprintf(out, n, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s\r\n",
				(const char *)arg, cookie ? "Cookie: " : "", cookie ? cookie : "",
				cookie ? "\r\n" : "");
}

/* A GET that revalidates: If-None-Match with the ETag the first answer gave. */
static char reasons_etag[64];

static size_t build_revalidate(int th, long i, char *out, size_t n, const void *arg)
{
	(void)th;
	(void)i;
	return (size_t)snprintf(out, n, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: %s\r\n\r\n",
				(const char *)arg, reasons_etag);
}

/* The ETag of one GET of path (reasons_etag; "" when none came). */
static void fetch_etag(int port, const char *path)
{
	char cmd[512], line[256];
	FILE *p;

	reasons_etag[0] = '\0';
	snprintf(cmd, sizeof cmd, "curl -fsS -o /dev/null -D - http://127.0.0.1:%d%s", port, path);
	if ((p = popen(cmd, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, p))
		if (strncasecmp(line, "etag:", 5) == 0)
			sscanf(line + 5, " %63s", reasons_etag);
	pclose(p);
}

static long rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/* The same check-in POST and waiting-list GET over HTTPS (the node's
 * certificate, TLS 1.2 ECDHE + AES-GCM, one handshake per connection),
 * each measured right after its plain twin (the GET against the same
 * waiting list), printed beside the plain figures. */
static void https_print(const loadgen_result *w, const loadgen_result *r,
			const loadgen_result *pw, const loadgen_result *pr)
{
	printf("  HTTPS check-in POST:                  %8.0f /s  ratio %.2f of plain HTTP"
	       "  p50 %.2f ms  p99 %.2f ms  errors %ld\n",
	       w->rps, pw->rps > 0 ? w->rps / pw->rps : 0, w->p50_ms, w->p99_ms, w->errors);
	printf("  HTTPS waiting-list GET:               %8.0f /s  ratio %.2f of plain HTTP"
	       "  p50 %.2f ms  p99 %.2f ms  errors %ld\n",
	       r->rps, pr->rps > 0 ? r->rps / pr->rps : 0, r->p50_ms, r->p99_ms, r->errors);
}

#define POST_ROUNDS 3

/* CPU seconds (user + system) the process pid has used so far, or -1. */
static double cpu_s(int pid)
{
	char path[64];
	unsigned long ut = 0, st = 0;
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	/* utime and stime: fields 14 and 15, after the ")" that ends the name */
	ok = fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
		    &st) == 2;
	fclose(f);
	return ok ? (double)(ut + st) / (double)sysconf(_SC_CLK_TCK) : -1;
}

/* One phase with the node's own CPU per answer (*us, microseconds):
 * on a machine the load generator shares, the server's cost per request
 * is the figure that does not depend on who else runs. */
static void timed_phase(int port, int pid, double secs, loadgen_build build, const char *path,
			int expect, loadgen_result *r, double *us)
{
	double c0 = cpu_s(pid);

	loadgen_run(port, 64, secs, build, path, expect, r);
	*us = r->requests > 0 ? (cpu_s(pid) - c0) * 1e6 / (double)r->requests : 0;
}

/* BENCH_NODE_READS=N: only the reads, N rounds in alternating order (so
 * neither comes first every time), each with the node's CPU per answer. */
static void reads_only(int port, int pid, double secs, int rounds)
{
	loadgen_result s, r, g;
	double us_s, us_r, us_g;

	for (int i = 0; i < rounds; i++) {
		if (i % 2 == 0) {
			timed_phase(port, pid, secs, build_get, "/app.css", 200, &s, &us_s);
			timed_phase(port, pid, secs, build_get, "/api/v1/checkins?status=waiting", 200,
				    &r, &us_r);
		} else {
			timed_phase(port, pid, secs, build_get, "/api/v1/checkins?status=waiting", 200,
				    &r, &us_r);
			timed_phase(port, pid, secs, build_get, "/app.css", 200, &s, &us_s);
		}
		timed_phase(port, pid, secs, build_get, "/api/v1/greeter/reasons", 200, &g, &us_g);
		printf("  round %d: static %.0f/s (%.0f us of node CPU each)  waiting list %.0f/s"
		       " ratio %.2f (%.0f us)  reasons %.0f/s ratio %.2f (%.0f us)  errors %ld\n",
		       i + 1, s.rps, us_s, r.rps, s.rps > 0 ? r.rps / s.rps : 0, us_r, g.rps,
		       s.rps > 0 ? g.rps / s.rps : 0, us_g, s.errors + r.errors + g.errors);
	}
}

/* BENCH_NODE_WRITES=N: only the check-in POSTs, N rounds, each with the
 * node's CPU per answer (for A/B runs of two builds taking turns). */
static void writes_only(int port, int pid, double secs, int rounds)
{
	loadgen_result w;
	double us;

	for (int i = 0; i < rounds; i++) {
		timed_phase(port, pid, secs, build_post, NULL, 201, &w, &us);
		printf("  round %d: check-in POST %.0f/s (%.0f us of node CPU each)  p50 %.2f ms"
		       "  p90 %.2f  p99 %.2f  p99.9 %.2f  errors %ld\n",
		       i + 1, w.rps, us, w.p50_ms, w.p90_ms, w.p99_ms, w.p999_ms, w.errors);
	}
}

static int by_p99(const void *a, const void *b)
{
	double x = ((const loadgen_result *)a)->p99_ms, y = ((const loadgen_result *)b)->p99_ms;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	loadgen_result w, r, s, g, g304, rounds[POST_ROUNDS], tw, tr;
	int port, pid, tport = 0;
	double secs = 5, raw, raw_session;
	long idle;

	if (argc < 4) {
		fprintf(stderr, "usage: bench_node PORT PID DATADIR [seconds [HTTPS_PORT]]\n");
		return 1;
	}
	port = atoi(argv[1]);
	pid = atoi(argv[2]);
	if (argc > 4)
		secs = atof(argv[4]);
	if (argc > 5)
		tport = atoi(argv[5]);
	idle = rss_kb(pid);
	if (getenv("BENCH_NODE_READS")) {
		loadgen_run(port, 30, 0.001, build_post, NULL, 201, &w);
		reads_only(port, pid, secs, atoi(getenv("BENCH_NODE_READS")));
		return 0;
	}
	if (getenv("BENCH_NODE_WRITES")) {
		writes_only(port, pid, secs, atoi(getenv("BENCH_NODE_WRITES")));
		return 0;
	}

	/* Reads first, against a realistic waiting list of 30 visitors. */
	loadgen_run(port, 30, 0.001, build_post, NULL, 201, &w);
	loadgen_run(port, 64, secs, build_get, "/app.css", 200, &s);
	loadgen_run(port, 64, secs, build_get, "/api/v1/checkins?status=waiting", 200, &r);
	loadgen_run(port, 64, secs, build_get, "/api/v1/greeter/reasons", 200, &g);
	fetch_etag(port, "/api/v1/greeter/reasons");
	loadgen_run(port, 64, secs, build_revalidate, "/api/v1/greeter/reasons", 304, &g304);
	if (tport)
		loadgen_run_tls(tport, 64, secs, build_get, "/api/v1/checkins?status=waiting", 200,
				&tr);
	raw = raw_rate(argv[3], secs, 0);
	raw_session = raw_rate(argv[3], secs, 1);
	/* Three rounds of writes: a shared machine's disk and CPU come and go, so
	 * every round is printed and the median round (by p99) is the figure. */
	for (int i = 0; i < POST_ROUNDS; i++)
		loadgen_run(port, 64, secs, build_post, NULL, 201, &rounds[i]);
	qsort(rounds, POST_ROUNDS, sizeof rounds[0], by_p99);
	w = rounds[POST_ROUNDS / 2];
	if (tport)
		loadgen_run_tls(tport, 64, secs, build_post, NULL, 201, &tw);

	printf("node benchmark (%.0f s per phase, 64 connections)\n", secs);
	printf("  raw in-process check-in transactions: %8.0f /s  (reference: the node's capture,"
	       " synchronous=FULL)\n", raw);
	printf("    the same with a sqlite3session:     %8.0f /s\n", raw_session);
	printf("  check-in POST:                        %8.0f /s  ratio %.2f of raw (target >= 0.50)"
	       "  p50 %.2f ms  p90 %.2f  p99 %.2f ms (target < 10)  p99.9 %.2f  errors %ld\n",
	       w.rps, raw > 0 ? w.rps / raw : 0, w.p50_ms, w.p90_ms, w.p99_ms, w.p999_ms, w.errors);
	printf("    rounds (by p99):");
	for (int i = 0; i < POST_ROUNDS; i++)
		printf("  %.0f/s p99 %.2f ms", rounds[i].rps, rounds[i].p99_ms);
	printf("  (the median round is the figure above)\n");
	printf("  static asset GET:                     %8.0f /s  (reference)  p99 %.2f ms\n", s.rps,
	       s.p99_ms);
	printf("  waiting-list GET:                     %8.0f /s  ratio %.2f of static  p99 %.2f ms"
	       "  errors %ld\n",
	       r.rps, s.rps > 0 ? r.rps / s.rps : 0, r.p99_ms, r.errors);
	printf("  reasons GET (public JSON):            %8.0f /s  ratio %.2f of static  p99 %.2f ms"
	       "  errors %ld\n",
	       g.rps, s.rps > 0 ? g.rps / s.rps : 0, g.p99_ms, g.errors);
	printf("  reasons GET, If-None-Match (304):     %8.0f /s  ratio %.2f of static  p99 %.2f ms"
	       "  errors %ld (ETag %s)\n",
	       g304.rps, s.rps > 0 ? g304.rps / s.rps : 0, g304.p99_ms, g304.errors,
	       reasons_etag[0] ? reasons_etag : "none: every answer is an error");
	printf("  idle RSS: %.1f MB (target < 10)\n", (double)idle / 1024.0);
	if (tport)
		https_print(&tw, &tr, &w, &r);
	return 0;
}
