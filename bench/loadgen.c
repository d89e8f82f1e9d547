/*
 * loadgen.c - closed-loop HTTP load over loopback; see loadgen.h.  Responses
 * are framed by Content-Length (the servers under test always send it).
 */
#include "bench/loadgen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct worker {
	int id, port, expect;
	double seconds;
	loadgen_build build;
	const void *arg;
	long n, errors;
	double *lat;
	long cap;
} worker;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Read one response; return its status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *hend = NULL;
	long clen = 0;
	int status;

	for (;;) {
		ssize_t r = read(fd, buf + have, cap - have - 1);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		hend = strstr(buf, "\r\n\r\n");
		if (hend)
			break;
		if (have + 1 >= cap)
			return -1;
	}
	status = atoi(buf + 9);
	for (char *p = buf; p < hend; p = strstr(p, "\r\n") + 2) {
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = atol(p + 15);
		if (!strstr(p, "\r\n"))
			break;
	}
	size_t body_have = have - (size_t)(hend + 4 - buf);
	while ((long)body_have < clen) {
		char tmp[65536];
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r <= 0)
			return -1;
		body_have += (size_t)r;
	}
	return status;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void *run(void *p)
{
	worker *w = p;
	char req[16384], resp[1 << 17];
	int fd = connect_to(w->port);
	double end = now_s() + w->seconds;

	while (fd >= 0 && now_s() < end) {
		size_t n = w->build(w->id, w->n, req, sizeof req, w->arg);
		double t0 = now_s();
		if (write(fd, req, n) != (ssize_t)n) {
			w->errors++;
			break;
		}
		int st = read_response(fd, resp, sizeof resp);
		double dt = (now_s() - t0) * 1000.0;
		if (st != w->expect) {
			w->errors++;
			close(fd);
			fd = connect_to(w->port);
			continue;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 4096;
			w->lat = realloc(w->lat, (size_t)w->cap * sizeof(double));
		}
		w->lat[w->n++] = dt;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int loadgen_run(int port, int conns, double seconds, loadgen_build build, const void *arg,
		int expect_status, loadgen_result *res)
{
	worker *ws = calloc((size_t)conns, sizeof *ws);
	pthread_t *th = calloc((size_t)conns, sizeof *th);
	double t0 = now_s();
	long total = 0, k = 0;
	double *all;

	for (int i = 0; i < conns; i++) {
		ws[i] = (worker){.id = i, .port = port, .expect = expect_status, .seconds = seconds,
				 .build = build, .arg = arg};
		pthread_create(&th[i], NULL, run, &ws[i]);
	}
	memset(res, 0, sizeof *res);
	for (int i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		total += ws[i].n;
		res->errors += ws[i].errors;
	}
	res->seconds = now_s() - t0;
	all = malloc((size_t)(total ? total : 1) * sizeof(double));
	for (int i = 0; i < conns; i++) {
		memcpy(all + k, ws[i].lat, (size_t)ws[i].n * sizeof(double));
		k += ws[i].n;
		free(ws[i].lat);
	}
	qsort(all, (size_t)total, sizeof(double), cmp);
	res->requests = total;
	res->rps = (double)total / res->seconds;
	if (total) {
		res->p50_ms = all[total / 2];
		res->p90_ms = all[(long)((double)total * 0.90)];
		res->p999_ms = all[(long)((double)total * 0.999)];
		res->p99_ms = all[(long)((double)total * 0.99)];
		res->max_ms = all[total - 1];
	}
	free(all);
	free(ws);
	free(th);
	return 0;
}
