/*
 * loadgen.c - closed-loop HTTP load over loopback; see loadgen.h.  Responses
 * are framed by Content-Length (the servers under test always send it).
 */
#include "bench/loadgen.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>

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

/* One connection: a socket, and a TLS session on it when tls. */
typedef struct lconn {
	int fd;
	int tls;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_entropy_context ent;
} lconn;

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
	ssize_t w = write(*(int *)ctx, p, n);
	return w < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)w;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
	ssize_t r = read(*(int *)ctx, p, n);
	return r < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)r;
}

static ssize_t c_write(lconn *c, const void *p, size_t n)
{
	size_t done = 0;

	if (!c->tls)
		return write(c->fd, p, n);
	while (done < n) {
		int w = mbedtls_ssl_write(&c->ssl, (const unsigned char *)p + done, n - done);
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static ssize_t c_read(lconn *c, void *p, size_t n)
{
	int r;

	if (!c->tls)
		return read(c->fd, p, n);
	r = mbedtls_ssl_read(&c->ssl, p, n);
	return r < 0 ? -1 : r;
}

static void c_close(lconn *c)
{
	if (c->fd < 0)
		return;
	if (c->tls) {
		mbedtls_ssl_free(&c->ssl);
		mbedtls_ssl_config_free(&c->conf);
		mbedtls_ctr_drbg_free(&c->drbg);
		mbedtls_entropy_free(&c->ent);
	}
	close(c->fd);
	c->fd = -1;
}

typedef struct worker {
	int id, port, expect, tls;
	double seconds;
	loadgen_build build;
	const void *arg;
	long n, errors;
	double *lat;
	long cap;
} worker;

double loadgen_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* src: the local IPv4 address to connect from (host order), 0 = any. */
static int connect_from(int port, unsigned src)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (src != 0) {
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(src);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			close(fd);
			return -1;
		}
	}
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

static int c_open_from(lconn *c, int port, int tls, unsigned src)
{
	c->tls = tls;
	c->fd = connect_from(port, src);
	if (c->fd < 0 || !tls)
		return c->fd;
	mbedtls_ssl_init(&c->ssl);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_entropy_init(&c->ent);
	if (mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->ent, NULL, 0) != 0 ||
	    mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		goto fail;
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	if (mbedtls_ssl_setup(&c->ssl, &c->conf) != 0)
		goto fail;
	mbedtls_ssl_set_bio(&c->ssl, &c->fd, bio_send, bio_recv, NULL);
	if (mbedtls_ssl_handshake(&c->ssl) != 0)
		goto fail;
	return c->fd;
fail:
	c_close(c);
	return -1;
}

static int c_open(lconn *c, int port, int tls)
{
	return c_open_from(c, port, tls, 0);
}

/* Read one response; return its status or -1. */
static int read_response(lconn *c, char *buf, size_t cap)
{
	size_t have = 0;
	char *hend = NULL;
	long clen = 0;
	int status;

	for (;;) {
		ssize_t r = c_read(c, buf + have, cap - have - 1);
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
		ssize_t r = c_read(c, tmp, sizeof tmp);
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
	lconn c;
	double end;

	/* the handshake is not part of the measured window (each worker's own) */
	c_open(&c, w->port, w->tls);
	end = loadgen_now_s() + w->seconds;
	while (c.fd >= 0 && loadgen_now_s() < end) {
		size_t n = w->build(w->id, w->n, req, sizeof req, w->arg);
		double t0 = loadgen_now_s();
		if (c_write(&c, req, n) != (ssize_t)n) {
			w->errors++;
			break;
		}
		int st = read_response(&c, resp, sizeof resp);
		double dt = (loadgen_now_s() - t0) * 1000.0;
		if (st != w->expect) {
			w->errors++;
			c_close(&c);
			c_open(&c, w->port, w->tls);
			continue;
		}
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 4096;
			w->lat = realloc(w->lat, (size_t)w->cap * sizeof(double));
		}
		w->lat[w->n++] = dt;
	}
	c_close(&c);
	return NULL;
}

static int run_all(int port, int tls, int conns, double seconds, loadgen_build build,
		   const void *arg, int expect_status, loadgen_result *res);

int loadgen_run(int port, int conns, double seconds, loadgen_build build, const void *arg,
		int expect_status, loadgen_result *res)
{
	return run_all(port, 0, conns, seconds, build, arg, expect_status, res);
}

int loadgen_run_tls(int port, int conns, double seconds, loadgen_build build, const void *arg,
		    int expect_status, loadgen_result *res)
{
	return run_all(port, 1, conns, seconds, build, arg, expect_status, res);
}

static int run_all(int port, int tls, int conns, double seconds, loadgen_build build,
		   const void *arg, int expect_status, loadgen_result *res)
{
	worker *ws = calloc((size_t)conns, sizeof *ws);
	pthread_t *th = calloc((size_t)conns, sizeof *th);
	double t0 = loadgen_now_s();
	long total = 0, k = 0;
	double *all;

	for (int i = 0; i < conns; i++) {
		ws[i] = (worker){.id = i, .port = port, .expect = expect_status, .seconds = seconds,
				 .build = build, .arg = arg, .tls = tls};
		pthread_create(&th[i], NULL, run, &ws[i]);
	}
	memset(res, 0, sizeof *res);
	for (int i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		total += ws[i].n;
		res->errors += ws[i].errors;
	}
	res->seconds = tls ? seconds : loadgen_now_s() - t0; /* TLS: each worker's window */
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

/* ---- one connection for a caller that builds its own requests ------------------ */

lconn *loadgen_conn_open(int port, int tls, unsigned src)
{
	lconn *c = calloc(1, sizeof *c);

	if (c != NULL && c_open_from(c, port, tls, src) < 0) {
		free(c);
		c = NULL;
	}
	return c;
}

int loadgen_conn_request(lconn *c, const void *req, size_t n, char *resp, size_t cap)
{
	if (c == NULL || c->fd < 0 || c_write(c, req, n) != (ssize_t)n)
		return -1;
	return read_response(c, resp, cap);
}

void loadgen_conn_close(lconn *c)
{
	if (c == NULL)
		return;
	c_close(c);
	free(c);
}
