/*
 * bench_hub.c - the hub at state scale (make bench, via bench/bench_hub.sh).
 *
 * One real release hub (bin/outpost-hub) on loopback and N simulated office
 * nodes, each an office of its own with its own node id and secret,
 * enrolled in bulk before the hub starts (node_add: the rows enrollment
 * writes, the secret wrapped under the hub's key).  Each node keeps one TLS
 * keep-alive connection, from a loopback address of its own (127.1.x.y), as
 * the node's libcurl does, opened before the clock starts, and
 * runs the node's cycle once per period: a signed push of a small batch
 * (BENCH_HUB_BATCH check-ins captured exactly as the node's API does), then
 * signed pulls until the hub has no more.  A real node cycles every minute;
 * the period here is BENCH_HUB_PERIOD seconds (default 20: three times the
 * real rate), so every figure is at that compressed load.
 *
 * Cycles start at their planned times whatever the others do (one thread
 * per BENCH_HUB_NODES_PER_THREAD nodes), and a cycle's time runs from its
 * planned start to its last reply, so a hub that falls behind shows in
 * the p99 rather than in a slower schedule.
 *
 * For each N (BENCH_HUB_N, default "200 1000 2000") it prints p50 / p99 /
 * max of a cycle, errors, the hub's CPU (cores used, and ms per cycle) and
 * RSS, then the largest N measured with p99 under 1 s (it tries larger N,
 * by half again, up to BENCH_HUB_MAX while p99 stays under 1 s).  Every
 * pushed check-in must be in the hub's database at the end (verify: match).
 * BENCH_HUB_TRACE=1 prints each cycle over 500 ms to stderr (its planned
 * start and how much of it was the push).
 *
 * usage: bench_hub TMPDIR
 */
#include "bench/loadgen.h"
#include "hub/hub.h"
#include "lib/crypto.h"
#include "lib/db.h"
#include "lib/hlc.h"
#include "lib/uuid.h"
#include "model/capture.h"
#include "model/schema.h"
#include "sync/frame.h"
#include "sync/sync.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RESP_CAP (1 << 16)

typedef struct bnode {
	char office[64], la[64], node_id[64];
	unsigned char secret[SYNC_SECRET_LEN];
	int64_t seq;        /* outbox seq of the last entry pushed */
	int64_t cursor;     /* pull cursor */
	lconn *conn;
	unsigned src;       /* local address */
} bnode;

static bnode *nodes;
static int nnodes;      /* prepared (offices and codes) */
static int port;
static pid_t hub_pid;
static char hub_dir[512];
static int batch = 3;

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : def;
}

static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t n = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &n);
	p = ntohs(sa.sin_port);
	close(fd);
	return p;
}

/* ---- the hub process ------------------------------------------------------------ */

static int hub_start(void)
{
	char listen[64], log[600];

	snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
	snprintf(log, sizeof log, "%s.log", hub_dir);
	hub_pid = fork();
	if (hub_pid == 0) {
		FILE *f = freopen(log, "a", stdout);
		(void)f;
		dup2(1, 2);
		execl("bin/outpost-hub", "outpost-hub", "--data", hub_dir, "--listen", listen,
		      "--demo", "yes", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 600; i++) {
		char resp[4096];
		static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
		lconn *c = loadgen_conn_open(port, 1, 0);
		int st = c ? loadgen_conn_request(c, req, sizeof req - 1, resp, sizeof resp) : -1;
		loadgen_conn_close(c);
		if (st == 200)
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "bench_hub: the hub did not start (see %s)\n", log);
	return -1;
}

static void hub_stop(void)
{
	if (hub_pid <= 0)
		return;
	kill(hub_pid, SIGTERM);
	waitpid(hub_pid, NULL, 0);
	hub_pid = 0;
}

/* User + system CPU seconds of the hub so far. */
static double hub_cpu_s(void)
{
	char path[64], line[4096], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)hub_pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	p = fgets(line, sizeof line, f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL)
		return 0;
	sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Seconds the hub's loop thread (the thread group leader) has waited on a
 * run queue for a CPU so far (/proc/PID/schedstat, second field), or 0. */
static double hub_wait_s(void)
{
	char path[64];
	unsigned long long on = 0, wait = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/schedstat", (int)hub_pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%llu %llu", &on, &wait) != 2)
		wait = 0;
	fclose(f);
	return (double)wait / 1e9;
}

static long hub_status_kb(const char *key)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)hub_pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, strlen(key)) == 0)
			kb = atol(line + strlen(key));
	fclose(f);
	return kb;
}

/* ---- offices and their nodes, written while the hub is stopped ------------ */

/* Node b of its office as enrollment makes it (hub_sync_api.c): its own id
 * and secret, the secret wrapped under the hub's master.key, the pull
 * cursor at the head of the change log (a node that took its snapshot at
 * enrollment).  Enrollment over HTTPS commits once per node on the hub's
 * loop: at 2,000 nodes minutes of set-up on this machine, so it is done
 * here, outside the measured window.  0 or -1. */
static int node_add(sqlite3_stmt *st, bnode *b, int64_t head)
{
	char wrapped[CRYPTO_WRAP_LEN(SYNC_SECRET_LEN)];

	if (uuid7(b->node_id) != 0 || crypto_random(b->secret, sizeof b->secret) != 0 ||
	    hub_secret_wrap(b->node_id, b->secret, wrapped, sizeof wrapped) != 0)
		return -1;
	b->cursor = head;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, b->node_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->office, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->la, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, wrapped, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, wall_ms());
	sqlite3_bind_int64(st, 6, head);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static int prepare(int n)
{
	char path[600], la[64], err[256];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL, *nst = NULL;
	int64_t head;
	int rc = -1;

	snprintf(path, sizeof path, "%s/%s", hub_dir, HUB_DB_FILE);
	if (db_open(path, &db) != 0 || hub_keys_open(db, hub_dir, err, sizeof err) != 0 ||
	    db_text(db, "SELECT local_area_id FROM offices WHERE id=?", "demo-office", la,
		    sizeof la) != 0 ||
	    db_exec(db, "BEGIN IMMEDIATE") != 0 ||
	    db_prepare(db, &st, "INSERT INTO offices(id, local_area_id, name, updated_hlc)"
				" VALUES(?1, ?2, 'Bench office ' || ?1, '000000000001.0000.bench')") != 0 ||
	    db_prepare(db, &nst, "INSERT INTO nodes(id, office_id, local_area_id, name, secret_hex,"
				 " enrolled_at, pull_cursor) VALUES(?1, ?2, ?3, 'bench-' || ?2, ?4, ?5, ?6)") != 0)
		goto out;
	nodes = calloc((size_t)n, sizeof *nodes);
	if (nodes == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		bnode *b = &nodes[i];

		snprintf(b->office, sizeof b->office, "bench-office-%05d", i);
		snprintf(b->la, sizeof b->la, "%s", la);
		b->src = (127u << 24) | (1u << 16) | (unsigned)(i / 250) << 8 | (unsigned)(i % 250 + 1);
		sqlite3_bind_text(st, 1, b->office, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, la, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
	}
	/* (after the offices, which every node receives: statewide rows) */
	head = db_int(db, "SELECT coalesce(max(seq), 0) FROM change_log", -1);
	for (int i = 0; i < n; i++)
		if (head < 0 || node_add(nst, &nodes[i], head) != 0)
			goto out;
	if (db_exec(db, "COMMIT") != 0)
		goto out;
	nnodes = n;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_hub: cannot prepare the offices: %s\n",
			db ? sqlite3_errmsg(db) : err);
	sqlite3_finalize(st);
	sqlite3_finalize(nst);
	db_close(db);
	return rc;
}

/* ---- one node's requests ---------------------------------------------------------- */

/* Send a request over the node's connection, reconnecting once when the hub
 * closed it (an idle keep-alive connection may go, as for a real node). */
static int request(bnode *b, const char *head, const void *body, size_t blen, char *resp)
{
	size_t hl = strlen(head);
	char *req = malloc(hl + blen);
	int st = -1;

	if (req == NULL)
		return -1;
	memcpy(req, head, hl);
	if (blen)
		memcpy(req + hl, body, blen);
	for (int attempt = 0; attempt < 2 && st < 0; attempt++) {
		if (b->conn == NULL && (b->conn = loadgen_conn_open(port, 1, b->src)) == NULL)
			break;
		st = loadgen_conn_request(b->conn, req, hl + blen, resp, RESP_CAP);
		if (st < 0) {
			loadgen_conn_close(b->conn);
			b->conn = NULL;
		}
	}
	free(req);
	if (st != 200 && getenv("BENCH_HUB_TRACE"))
		fprintf(stderr, "bench_hub: %.*s from %s: status %d %.200s\n", (int)strcspn(head, "\r"),
			head, b->office, st, st > 0 ? resp : "");
	return st;
}

static void sign_headers(bnode *b, const char *method, const char *target, const void *body,
			 size_t len, char *out, size_t n)
{
	char tstr[32], nonce[33], sig[65], secret_hex[2 * SYNC_SECRET_LEN + 1];
	unsigned char rnd[16];

	(void)secret_hex;
	crypto_random(rnd, sizeof rnd);
	crypto_hex(rnd, sizeof rnd, nonce);
	snprintf(tstr, sizeof tstr, "%lld", (long long)wall_ms());
	sync_sign(b->secret, method, target, tstr, nonce, body, len, sig);
	snprintf(out, n,
		 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Outpost-Node: %s\r\n"
		 "X-Outpost-Time: %s\r\nX-Outpost-Nonce: %s\r\nX-Outpost-Signature: %s\r\n"
		 "X-Outpost-Schema: %d\r\n",
		 method, target, port, b->node_id, tstr, nonce, sig, schema_version());
	if (len > 0) {
		/* The hub checks the signature before the body, over the hash a
		 * request with a body states (hub/hub_sync_auth.c). */
		unsigned char h[CRYPTO_SHA256_LEN];
		char hex[2 * CRYPTO_SHA256_LEN + 1], line[128];
		crypto_sha256(body, len, h);
		crypto_hex(h, sizeof h, hex);
		snprintf(line, sizeof line, "X-Outpost-Content-SHA256: %s\r\n", hex);
		strncat(out, line, n - strlen(out) - 1);
	}
}

static int64_t head_int(const char *resp, const char *name, int64_t def)
{
	const char *p = resp;
	size_t n = strlen(name);

	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return strtoll(p + n + 1, NULL, 10);
		if (p[0] == '\r')
			break;
	}
	return def;
}

/* Signed pulls until the hub has no more.  0 or -1. */
static int pull(bnode *b, char *resp)
{
	char target[128], head[1024];

	for (int page = 0; page < 100; page++) {
		int st;

		snprintf(target, sizeof target, "/api/v1/sync/pull?after=%lld&max=%d",
			 (long long)b->cursor, SYNC_MAX_PULL_ROWS);
		sign_headers(b, "GET", target, "", 0, head, sizeof head - 4);
		strcat(head, "\r\n");
		st = request(b, head, NULL, 0, resp);
		if (st != 200)
			return -1;
		b->cursor = head_int(resp, "X-Outpost-Next", b->cursor);
		if (head_int(resp, "X-Outpost-More", 0) == 0)
			return 0;
	}
	return 0;
}

/* A thread's captured check-ins: an in-memory node database. */
typedef struct gen {
	sqlite3 *db;
	hlc clk;
} gen;

static int gen_open(gen *g)
{
	if (sqlite3_open(":memory:", &g->db) != SQLITE_OK || schema_migrate(g->db) != 0 ||
	    capture_migrate(g->db) != 0)
		return -1;
	hlc_init(&g->clk, "benchhub", NULL, NULL);
	return 0;
}

/* A push of `batch` check-ins of b's office.  0 or -1. */
static int push(bnode *b, gen *g, buf *frame, char *resp)
{
	static const char ins[] =
		"INSERT INTO checkins(id, office_id, local_area_id, visitor_name, language,"
		" status, arrived_at, visit_date, updated_hlc)"
		" VALUES(?1, ?2, ?3, 'Bench Visitor', 'en', 'waiting', ?4,"
		" date(?4 / 1000, 'unixepoch', 'localtime'), ?5)";
	char head[1400], cl[64];
	frame_writer w;
	sqlite3_stmt *st = NULL, *rd = NULL;
	int rc = -1, s;

	buf_reset(frame);
	frame_begin(&w, frame, (uint32_t)schema_version());
	if (db_prepare(g->db, &st, ins) != 0 ||
	    db_prepare(g->db, &rd, "SELECT hlc, changeset FROM outbox ORDER BY seq") != 0)
		goto out;
	for (int i = 0; i < batch; i++) {
		char id[UUID_STRLEN], ts[HLC_STRLEN];
		capture c;
		uuid7(id);
		hlc_now(&g->clk, ts);
		if (capture_begin(&c, g->db) != 0)
			goto out;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, b->office, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, b->la, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, wall_ms());
		sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
		s = sqlite3_step(st);
		sqlite3_reset(st);
		if (s != SQLITE_DONE || capture_commit(&c, ts, NULL, NULL) != 0) {
			capture_abort(&c);
			goto out;
		}
	}
	while (sqlite3_step(rd) == SQLITE_ROW) {
		sync_entry e = {0};
		e.seq = ++b->seq;
		e.hlc = (const char *)sqlite3_column_text(rd, 0);
		e.changeset = sqlite3_column_blob(rd, 1);
		e.len = (size_t)sqlite3_column_bytes(rd, 1);
		if (frame_add(&w, &e) != 0)
			goto out;
	}
	sqlite3_reset(rd);
	if (db_exec(g->db, "DELETE FROM outbox") != 0 || frame_end(&w) != 0)
		goto out;
	sign_headers(b, "POST", "/api/v1/sync/push", frame->data, frame->len, head,
		     sizeof head - 128);
	snprintf(cl, sizeof cl, "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
		 frame->len);
	strcat(head, cl);
	rc = request(b, head, frame->data, frame->len, resp) == 200 ? 0 : -1;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(rd);
	return rc;
}

/* ---- phases ------------------------------------------------------------------------- */

typedef struct worker {
	int w_first, w_step, w_n;   /* nodes w_first, w_first + w_step, ... below w_n */
	double w_t0, w_period;
	int w_rounds;
	double *w_lat;
	long w_nlat, w_errors, w_applied;
	gen w_gen;                  /* its check-ins (opened before the clock starts) */
} worker;

static int64_t applied_of(const char *resp)
{
	const char *p = strstr(resp, "\"applied\":");

	return p ? strtoll(p + 10, NULL, 10) : 0;
}

/* The measured rounds start together once every thread has finished the
 * warm-up round (every connection open): warm_end, set by the last. */
static pthread_barrier_t warm_bar;
static volatile double warm_end;

static void warm_wait(worker *w)
{
	if (pthread_barrier_wait(&warm_bar) == PTHREAD_BARRIER_SERIAL_THREAD)
		warm_end = loadgen_now_s();
	pthread_barrier_wait(&warm_bar);
	/* round 1 at its usual place in the period, from the later of the two */
	if (warm_end + 0.5 > w->w_t0 + w->w_period)
		w->w_t0 = warm_end + 0.5 - w->w_period;
}

static void *work(void *arg)
{
	worker *w = arg;
	char *resp = malloc(RESP_CAP);
	buf frame = BUF_INIT(SYNC_MAX_PUSH_FRAME);
	gen g = w->w_gen;

	for (int r = 0; r < w->w_rounds; r++) {
		if (r == 1)
			warm_wait(w);
		for (int i = w->w_first; i < w->w_n && resp != NULL && g.db != NULL; i += w->w_step) {
			bnode *b = &nodes[i];
			double at = w->w_t0 + r * w->w_period + w->w_period * i / w->w_n, t;
			int64_t before = b->seq;

			while ((t = loadgen_now_s()) < at)
				usleep((useconds_t)((at - t) * 1e6 < 200000 ? (at - t) * 1e6 : 200000));
			double tpush;
			if (push(b, &g, &frame, resp) != 0) {
				b->seq = before; /* (a lost reply shows in the verify) */
				w->w_errors++;
				continue;
			}
			w->w_applied += applied_of(resp);
			tpush = loadgen_now_s();
			if (pull(b, resp) != 0) {
				w->w_errors++;
				continue;
			}
			if (r == 0)
				continue; /* the warm-up round (see run) */
			w->w_lat[w->w_nlat++] = (loadgen_now_s() - at) * 1000.0;
			if (getenv("BENCH_HUB_TRACE") && w->w_lat[w->w_nlat - 1] > 500)
				fprintf(stderr, "slow: node %d round %d at +%.2f s: %.0f ms (push %.0f ms)\n", i, r,
					at - w->w_t0, w->w_lat[w->w_nlat - 1], (tpush - at) * 1000.0);
		}
	}
	buf_release(&frame);
	sqlite3_close(g.db);
	free(resp);
	return NULL;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef struct phase {
	int n;
	long cycles, errors, applied;
	double p50, p99, max, cores, cpu_ms, secs;
	double warm_s, self_cores;  /* the warm-up round's length; this client's CPU */
	double wait_share;          /* of the round, the hub loop's wait for a CPU */
	long rss_kb, hwm_kb;
} phase;

/* CPU seconds this process (the simulated offices) has used. */
static double self_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long total_applied;

/* Run `rounds` periods of n nodes, BENCH_HUB_NODES_PER_THREAD nodes a
 * thread. */
static int run(int n, int rounds, double period, phase *ph)
{
	int per = env_int("BENCH_HUB_NODES_PER_THREAD", 8);
	int nth = (n + per - 1) / per;
	worker *ws = calloc((size_t)nth, sizeof *ws);
	pthread_t *th = calloc((size_t)nth, sizeof *th);
	double *all, c0, s0, w0, t0;
	long k = 0;

	if (ws == NULL || th == NULL)
		return -1;
	memset(ph, 0, sizeof *ph);
	/* Each thread's in-memory node database, made before the clock starts
	 * (its schema is tens of tables: on a loaded machine, seconds for all). */
	for (int i = 0; i < nth; i++)
		if (gen_open(&ws[i].w_gen) != 0)
			return -1;
	t0 = loadgen_now_s() + 0.5;
	warm_end = 0;
	pthread_barrier_init(&warm_bar, NULL, (unsigned)nth);
	for (int i = 0; i < nth; i++) {
		gen g = ws[i].w_gen;
		ws[i] = (worker){.w_gen = g, .w_first = i, .w_step = nth, .w_n = n, .w_t0 = t0,
				 .w_period = period, .w_rounds = rounds + 1};
		ws[i].w_lat = calloc((size_t)(rounds * (n / nth + 2)), sizeof(double));
		pthread_create(&th[i], NULL, work, &ws[i]);
	}
	/* Round 0 warms up, unmeasured: each node opens its connection at its
	 * first cycle (TLS handshakes, spread over the period as offices
	 * connect), and keeps it, as the node's libcurl does.  The measured
	 * rounds start when every thread is through it (warm_wait): on a
	 * loaded machine N handshakes on both sides can take longer than one
	 * period, and a measured round that inherited that backlog measured
	 * the warm-up, not the hub (the 20 s p50 of a bad N=1,000 run). */
	while (warm_end == 0)
		usleep(20000);
	ph->warm_s = warm_end - t0;
	c0 = hub_cpu_s();
	w0 = hub_wait_s();
	s0 = self_cpu_s();
	t0 = loadgen_now_s();
	for (int i = 0; i < nth; i++) {
		pthread_join(th[i], NULL);
		ph->cycles += ws[i].w_nlat;
		ph->errors += ws[i].w_errors;
		ph->applied += ws[i].w_applied;
	}
	ph->secs = loadgen_now_s() - t0;
	ph->self_cores = (self_cpu_s() - s0) / ph->secs;
	ph->wait_share = (hub_wait_s() - w0) / ph->secs;
	pthread_barrier_destroy(&warm_bar);
	ph->n = n;
	ph->cores = (hub_cpu_s() - c0) / ph->secs;
	ph->cpu_ms = ph->cycles ? (hub_cpu_s() - c0) * 1000.0 / (double)ph->cycles : 0;
	ph->rss_kb = hub_status_kb("VmRSS:");
	ph->hwm_kb = hub_status_kb("VmHWM:");
	all = malloc((size_t)(ph->cycles + 1) * sizeof *all);
	for (int i = 0; i < nth; i++) {
		memcpy(all + k, ws[i].w_lat, (size_t)ws[i].w_nlat * sizeof *all);
		k += ws[i].w_nlat;
		free(ws[i].w_lat);
	}
	qsort(all, (size_t)k, sizeof *all, cmp_d);
	if (k) {
		ph->p50 = all[k / 2];
		ph->p99 = all[(long)((double)k * 0.99)];
		ph->max = all[k - 1];
	}
	total_applied += ph->applied;
	free(all);
	free(ws);
	free(th);
	return 0;
}

static void print_phase(const phase *ph, double period)
{
	printf("  N=%5d: %6ld cycles in %5.1f s (one per node per %.0f s, %.1fx a node's minute):"
	       " cycle p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  errors %ld;"
	       " hub CPU %.2f cores, %.2f ms per cycle; RSS %.1f MB (peak %.1f MB);"
	       " the offices' side (this client) %.2f cores; hub loop waiting for a CPU %.0f%%"
	       " of the time; warm-up round (every TLS handshake) %.1f s\n",
	       ph->n, ph->cycles, ph->secs, period, 60.0 / period, ph->p50, ph->p99, ph->max,
	       ph->errors, ph->cores, ph->cpu_ms, (double)ph->rss_kb / 1024.0,
	       (double)ph->hwm_kb / 1024.0, ph->self_cores, ph->wait_share * 100.0,
	       ph->warm_s);
	fflush(stdout);
}

/* Check-ins of the bench offices in the hub's database. */
static long hub_checkins(void)
{
	char path[600];
	sqlite3 *db = NULL;
	long n = -1;

	snprintf(path, sizeof path, "%s/%s", hub_dir, HUB_DB_FILE);
	if (db_open(path, &db) == 0)
		n = (long)db_int(db, "SELECT count(*) FROM checkins WHERE office_id LIKE 'bench-office-%'",
				 -1);
	db_close(db);
	return n;
}

int main(int argc, char **argv)
{
	const char *list = getenv("BENCH_HUB_N");
	int maxn = env_int("BENCH_HUB_MAX", 3000), rounds = env_int("BENCH_HUB_ROUNDS", 1);
	double period = env_int("BENCH_HUB_PERIOD", 20);
	int sizes[16], nsizes = 0, best = 0, last_ok = 1, rc = 1;
	char *copy, *tok, *save = NULL;
	phase ph;
	long got;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_hub TMPDIR\n");
		return 1;
	}
	batch = env_int("BENCH_HUB_BATCH", 3);
	signal(SIGPIPE, SIG_IGN);
	copy = strdup(list && *list ? list : "200 1000 2000");
	for (tok = strtok_r(copy, " ,", &save); tok && nsizes < 16; tok = strtok_r(NULL, " ,", &save))
		if (atoi(tok) > 0)
			sizes[nsizes++] = atoi(tok) < maxn ? atoi(tok) : maxn;
	free(copy);
	snprintf(hub_dir, sizeof hub_dir, "%s/bench-hub", argv[1]);
	port = free_port();
	/* First start makes the database; offices and codes go in while it is down. */
	if (hub_start() != 0)
		goto out;
	hub_stop();
	if (prepare(maxn) != 0) {
		fprintf(stderr, "bench_hub: cannot prepare %d offices\n", maxn);
		goto out;
	}
	if (hub_start() != 0)
		goto out;
	printf("== hub at state scale (each node an office of its own, enrolled in bulk;"
	       " push of %d check-ins + pulls per cycle over TLS keep-alive)\n", batch);
	for (int i = 0; i < nsizes; i++) {
		run(sizes[i], rounds, period, &ph);
		print_phase(&ph, period);
		last_ok = ph.p99 < 1000.0 && ph.errors == 0;
		if (last_ok && sizes[i] > best)
			best = sizes[i];
	}
	/* Larger N, by half again, while the p99 stays under a second. */
	for (int n = best + best / 2; last_ok && best > 0 && best < maxn; n = best + best / 2) {
		if (n > maxn)
			n = maxn;
		run(n, rounds, period, &ph);
		print_phase(&ph, period);
		last_ok = ph.p99 < 1000.0 && ph.errors == 0;
		if (last_ok)
			best = n;
	}
	printf("  largest N measured with cycle p99 < 1 s: %d%s (at %.1fx the real rate; tried up to"
	       " %d)\n", best, best >= maxn ? " or more" : "", 60.0 / period, maxn);
	got = hub_checkins();
	printf("  hub holds %ld of the %ld check-ins its replies acknowledged; verify: %s\n", got,
	       total_applied, got == total_applied && total_applied > 0 ? "match" : "MISMATCH");
	rc = 0;
out:
	hub_stop();
	for (int i = 0; i < nnodes; i++)
		loadgen_conn_close(nodes[i].conn);
	free(nodes);
	return rc;
}
