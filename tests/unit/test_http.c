/*
 * test_http.c - unit tests for lib/http.c and lib/router.c: a real server on
 * 127.0.0.1 (port 0) with its uv loop in a second thread, driven by plain
 * blocking sockets from the test thread.  Covers routing and captures,
 * 404/405, keep-alive and pipelining, bodies (Content-Length, chunked,
 * 100-continue), every refusal (431, 413, 400 for smuggling and garbage, 408)
 * followed by a check that the server still serves, a route with its own
 * body cap (router_add_body, router_body_limit), deferred replies and a
 * client that resets before its deferred reply, assets with ETag/304 and the
 * security headers, and the pure helpers (percent-decoding, query, cookies)
 * plus the socket-free parser path the fuzzer uses.  The network edge:
 * strict heads (no whitespace before a colon, obs-fold, bare LF or CR),
 * strict chunked framing (CRLF after each chunk's data, no bare LF), the
 * pre-body gate (refusal before any body byte, no 100 Continue, small caps),
 * the process-wide body budget (503 + Retry-After) and the per-address
 * connection cap that closes the oldest idle connection.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/http.h"
#include "lib/json.h"
#include "lib/http_int.h" /* http__peer_group, a connection's group */
#include "tests/unit/testutil.h"

#define T_MAX_BODY 4096
#define T_REQ_MS 300
#define T_IDLE_MS 800
#define T_PER_ADDR 8
/* the body's progress rules, short (http_server_set_body_timeouts) */
#define T_BODY_STALL_MS 300
#define T_BODY_GRACE_MS 600
#define T_BODY_MIN_RATE 1000
#define T_BODY_MAX_MS 4000

/* ---- the server under test (loop thread) ---- */

static uv_loop_t t_loop;
static uv_async_t t_stop;
static uv_async_t t_kick;
static uv_timer_t t_defer_timer;
static http_server *t_srv;
static router *t_router;
static pthread_t t_thread;
static int t_port;

/* deferred-reply state, shared with the test thread through atomics */
static http_req *t_deferred;
static int t_gone_entered;   /* handler of /gone ran */
static int t_gone_done;	     /* its deferred reply was made */
static int t_gone_conn_null; /* req->conn was NULL at reply time */
static int t_gone_checks;

static const unsigned char js_data[] = "console.log('hi');\n";
static const unsigned char html_data[] = "<!doctype html><title>t</title>\n";
static const asset t_assets[] = {
    {"/app.js", "text/javascript; charset=utf-8", js_data, sizeof js_data - 1,
     "\"0123456789abcdef\""},
    {"/index.html", "text/html; charset=utf-8", html_data, sizeof html_data - 1,
     "\"fedcba9876543210\""},
    {NULL, NULL, NULL, 0, NULL},
};

static void h_hello(http_req *req, void *ctx)
{
	http_reply(req, 200, "text/plain; charset=utf-8", "hello", 5);
}

static void h_item(http_req *req, void *ctx)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", http_req_param(req, "id"));
	if (strcmp(http_req_param(req, "id"), "cached") == 0)
		http_add_header(req, "cache-control", "no-cache");
	http_reply_json(req, 200, o);
}

static void h_note(http_req *req, void *ctx)
{
	char out[128];

	snprintf(out, sizeof out, "%s/%s", http_req_param(req, "uid"),
		 http_req_param(req, "nid"));
	http_reply(req, 200, "text/plain", out, strlen(out));
}

static void h_echo(http_req *req, void *ctx)
{
	http_reply(req, 200, "application/octet-stream", req->body.data, req->body.len);
}

static void h_query(http_req *req, void *ctx)
{
	char name[64], sid[64], out[200];

	snprintf(out, sizeof out, "name=%s sid=%s",
		 http_req_query(req, "name", name, sizeof name) ? name : "(none)",
		 http_req_cookie(req, "sid", sid, sizeof sid) ? sid : "(none)");
	http_reply(req, 200, "text/plain", out, strlen(out));
}

/* Refuses first, then reads the request, as a handler does after a failed
 * privilege check: the request must stay readable until the handler returns. */
static char t_after_reply[128];
static void h_refuse(http_req *req, void *ctx)
{
	char q[32];

	http_reply_error(req, 403, NULL, "not for you");
	snprintf(t_after_reply, sizeof t_after_reply, "%s %s", http_req_param(req, "id"),
		 http_req_query(req, "x", q, sizeof q) ? q : "(none)");
}

/* n bytes of text (n < sizeof long_text): letters, an "\u00e9" straddling
 * byte JSON_MSG_MAX - 1 when n reaches it, and "<end>" last. */
static char long_text[JSON_MSG_MAX + 1024];
static const char *long_of(size_t n)
{
	for (size_t i = 0; i < n; i++)
		long_text[i] = (char)('a' + i % 26);
	if (n > JSON_MSG_MAX)
		memcpy(long_text + JSON_MSG_MAX - 1, "\xc3\xa9", 2);
	memcpy(long_text + n - 5, "<end>", 5);
	long_text[n] = '\0';
	return long_text;
}

/* GET /long/:n: an error of n bytes (a refusal naming many nodes). */
static void h_long(http_req *req, void *ctx)
{
	http_reply_error(req, 409, "name", "%s", long_of((size_t)atoi(http_req_param(req, "n"))));
}

static void h_static(http_req *req, void *ctx)
{
	const char *path = req->path + strlen("/static");

	if (http_serve_asset(req, t_assets, path) != 0)
		http_reply_error(req, 404, NULL, "no such asset");
}

static void defer_fire(uv_timer_t *t)
{
	http_req *req = t_deferred;

	if (req == NULL)
		return;
	if (strcmp(req->path, "/gone") == 0) {
		/* wait (bounded) until the server has noticed the reset */
		if (req->conn != NULL && ++t_gone_checks < 300)
			return;
		uv_timer_stop(t);
		__atomic_store_n(&t_gone_conn_null, req->conn == NULL, __ATOMIC_SEQ_CST);
		t_deferred = NULL;
		http_add_header(req, "X-Late",
				"1"); /* must be safe on a detached request */
		http_reply(req, 200, "text/plain", "late", 4);
		__atomic_store_n(&t_gone_done, 1, __ATOMIC_SEQ_CST);
		return;
	}
	uv_timer_stop(t);
	t_deferred = NULL;
	http_reply(req, 200, "text/plain", "late", 4);
}

static void h_defer(http_req *req, void *ctx)
{
	t_deferred = req;
	uv_timer_start(&t_defer_timer, defer_fire, 150, 0);
}

static void h_gone(http_req *req, void *ctx)
{
	t_deferred = req;
	t_gone_checks = 0;
	__atomic_store_n(&t_gone_entered, 1, __ATOMIC_SEQ_CST);
	uv_timer_start(&t_defer_timer, defer_fire, 10, 10);
}

static void on_srv_closed(void *arg)
{
	uv_close((uv_handle_t *)&t_stop, NULL);
	uv_close((uv_handle_t *)&t_kick, NULL);
	uv_close((uv_handle_t *)&t_defer_timer, NULL);
}

static void on_stop(uv_async_t *a) { http_server_close(t_srv, on_srv_closed, NULL); }

static void on_kick(uv_async_t *a) {}

static void *loop_main(void *arg)
{
	uv_run(&t_loop, UV_RUN_DEFAULT);
	return NULL;
}

static int setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	tu_watchdog(120);
	if (uv_loop_init(&t_loop) != 0)
		return -1;
	uv_async_init(&t_loop, &t_stop, on_stop);
	uv_async_init(&t_loop, &t_kick, on_kick);
	uv_timer_init(&t_loop, &t_defer_timer);
	t_router = router_new();
	if (t_router == NULL)
		return -1;
	if (router_add(t_router, HTTP_M_GET, "/hello", h_hello, NULL) ||
	    router_add(t_router, HTTP_M_GET, "/items/:id", h_item, NULL) ||
	    router_add(t_router, HTTP_M_GET, "/users/:uid/notes/:nid", h_note, NULL) ||
	    router_add(t_router, HTTP_M_POST, "/echo", h_echo, NULL) ||
	    router_add(t_router, HTTP_M_GET, "/q", h_query, NULL) ||
	    router_add(t_router, HTTP_M_GET, "/static/*", h_static, NULL) ||
	    router_add(t_router, HTTP_M_GET, "/defer", h_defer, NULL) ||
	    router_add(t_router, HTTP_M_GET, "/gone", h_gone, NULL) ||
	    router_add(t_router, HTTP_M_GET, "/refuse/:id", h_refuse, NULL) ||
	    router_add(t_router, HTTP_M_GET, "/long/:n", h_long, NULL) ||

	    router_add_body(t_router, HTTP_M_POST, "/upload/:id", h_echo, NULL, 3 * T_MAX_BODY))
		return -1;
	t_srv = http_server_new(&t_loop, router_dispatch, t_router);
	if (t_srv == NULL)
		return -1;
	http_server_set_max_body(t_srv, T_MAX_BODY);
	http_server_set_body_limit(t_srv, router_body_limit, t_router);
	http_server_set_timeouts(t_srv, T_REQ_MS, T_IDLE_MS);
	http_server_set_body_timeouts(t_srv, T_BODY_STALL_MS, T_BODY_GRACE_MS, T_BODY_MIN_RATE,
				      T_BODY_MAX_MS);
	http_server_set_conn_caps(t_srv, T_PER_ADDR, 0);
	if (http_server_listen(t_srv, "127.0.0.1:0") != 0)
		return -1;
	t_port = http_server_port(t_srv);
	if (t_port <= 0)
		return -1;
	if (pthread_create(&t_thread, NULL, loop_main, NULL) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	uv_async_send(&t_stop);
	pthread_join(t_thread, NULL);
	http_server_free(t_srv);
	router_free(t_router);
	return uv_loop_close(&t_loop) == 0 ? 0 : -1;
}

/* ---- a small blocking client (test thread) ---- */

typedef struct cli {
	int fd;
	char buf[256 * 1024];
	size_t len;
} cli;

typedef struct resp {
	int status;
	char head[8192];
	char *body;
	size_t body_len;
} resp;

static cli *cli_open(void)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0};
	cli *c = calloc(1, sizeof *c);

	assert_non_null(c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)t_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return c;
}

static void cli_close(cli *c)
{
	close(c->fd);
	free(c);
}

static void cli_send(cli *c, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

static void cli_puts(cli *c, const char *s) { cli_send(c, s, strlen(s)); }

/* Read more into c->buf; 0 on EOF or error. */
static ssize_t cli_fill(cli *c)
{
	ssize_t r;

	if (c->len == sizeof c->buf)
		return 0;
	r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
	if (r > 0)
		c->len += (size_t)r;
	return r > 0 ? r : 0;
}

static const char *hdr(const resp *r, const char *name, char *out, size_t n)
{
	char key[128];
	const char *p, *e;

	snprintf(key, sizeof key, "\r\n%s:", name);
	for (p = r->head; (p = strchr(p, '\r')) != NULL; p++) {
		if (strncasecmp(p, key, strlen(key)) != 0)
			continue;
		p += strlen(key);
		while (*p == ' ')
			p++;
		e = strstr(p, "\r\n");
		snprintf(out, n, "%.*s", (int)(e - p), p);
		return out;
	}
	return NULL;
}

/* r carries the header name, with the value want. */
static void expect_header(const resp *r, const char *name, const char *want)
{
	char v[256];

	if (hdr(r, name, v, sizeof v) == NULL)
		fail_msg("no %s header", name);
	assert_string_equal(v, want);
}

/* One response (skipping 1xx unless want_1xx); -1 if none arrived. */
static int cli_resp(cli *c, resp *r, int head_request)
{
	char *end, v[64];
	size_t hl, cl;

	memset(r, 0, sizeof *r);
	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		if (cli_fill(c) == 0)
			return -1;
	hl = (size_t)(end - c->buf) + 4;
	if (hl >= sizeof r->head)
		return -1;
	memcpy(r->head, c->buf, hl);
	r->head[hl] = '\0';
	if (sscanf(r->head, "HTTP/1.1 %d", &r->status) != 1)
		return -1;
	cl = 0;
	if (hdr(r, "Content-Length", v, sizeof v))
		cl = strtoul(v, NULL, 10);
	if (head_request || r->status == 304 || r->status < 200)
		cl = 0;
	while (c->len < hl + cl)
		if (cli_fill(c) == 0)
			return -1;
	r->body = calloc(1, cl + 1);
	memcpy(r->body, c->buf + hl, cl);
	r->body_len = cl;
	memmove(c->buf, c->buf + hl + cl, c->len - hl - cl);
	c->len -= hl + cl;
	return 0;
}

static void resp_free(resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* Read the next reply on c: its status must be status (-1: any) and, when
 * body is not NULL, its body the text body. */
static void expect_reply(cli *c, int status, const char *body)
{
	resp r;

	assert_int_equal(cli_resp(c, &r, 0), 0);
	if (status != -1)
		assert_int_equal(r.status, status);
	if (body != NULL)
		assert_string_equal(r.body, body);
	resp_free(&r);
}

/* 1 when the server closes the connection (EOF or reset) with nothing more sent. */
static int cli_closed(cli *c)
{
	char b[64];
	ssize_t r = recv(c->fd, b, sizeof b, 0);

	return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* One request on a fresh connection; returns the status. */
static int one_shot(const char *request, resp *r)
{
	cli *c = cli_open();
	int rc;

	cli_puts(c, request);
	rc = cli_resp(c, r, 0);
	cli_close(c);
	return rc == 0 ? r->status : -1;
}

static void assert_still_serving(void)
{
	resp r;

	assert_int_equal(one_shot("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
	assert_string_equal(r.body, "hello");
	resp_free(&r);
}

/* An error from the server itself: JSON body, connection closed afterwards. */
static void assert_refused(const char *request, size_t len, int status, const char *msg)
{
	cli *c = cli_open();
	resp r;

	cli_send(c, request, len);
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, status);
	expect_header(&r, "Content-Type", "application/json");
	expect_header(&r, "Connection", "close");
	assert_non_null(strstr(r.body, "{\"error\":"));
	if (msg)
		assert_non_null(strstr(r.body, msg));
	assert_true(cli_closed(c));
	resp_free(&r);
	cli_close(c);
	assert_still_serving();
}

/* ---- tests ---- */

static void test_routing(void **state)
{
	resp r;
	char v[128];

	assert_int_equal(one_shot("GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
	assert_string_equal(r.body, "hello");
	expect_header(&r, "Content-Length", "5");
	expect_header(&r, "X-Content-Type-Options", "nosniff");
	assert_null(hdr(&r, "Content-Security-Policy", v, sizeof v));
	assert_null(hdr(&r, "Cache-Control", v, sizeof v));
	resp_free(&r);

	assert_int_equal(
	    one_shot("GET /items/a%20b%2Fc?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
	assert_string_equal(r.body, "{\"id\":\"a b/c\"}");
	expect_header(&r, "Content-Type", "application/json");
	/* data stays out of a shared PC's disk cache unless the handler says */
	expect_header(&r, "Cache-Control", "no-store");
	resp_free(&r);
	assert_int_equal(one_shot("GET /items/cached HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
	expect_header(&r, "Cache-Control", "no-cache");
	assert_null(strstr(r.head, "Cache-Control")); /* the handler's own, lower case, alone */
	resp_free(&r);

	assert_int_equal(one_shot("GET /users/7/notes/9 HTTP/1.1\r\nHost: t\r\n\r\n", &r),
			 200);
	assert_string_equal(r.body, "7/9");
	resp_free(&r);

	/* a capture never spans segments or matches an empty one */
	assert_int_equal(one_shot("GET /items/a/b HTTP/1.1\r\nHost: t\r\n\r\n", &r), 404);
	resp_free(&r);
	assert_int_equal(one_shot("GET /items/ HTTP/1.1\r\nHost: t\r\n\r\n", &r), 404);
	resp_free(&r);
}

static void test_request_readable_after_reply(void **state)
{
	resp r;

	assert_int_equal(one_shot("GET /refuse/abc?x=42 HTTP/1.1\r\nHost: t\r\n\r\n", &r), 403);
	resp_free(&r);
	/* The handler goes on after its reply; once the loop thread has answered
	 * the next request it has returned.  Under ASan a read of a freed
	 * request would have stopped the test. */
	assert_still_serving();
	assert_string_equal(t_after_reply, "abc 42");
}

/* http_reply_error's message, once cut at 512 bytes, is whole up to
 * JSON_MSG_MAX bytes, as route_fail's; past it, cut on a character
 * boundary with a visible "\u2026". */
static void test_long_error_whole(void **state)
{
	static char want[2 * JSON_MSG_MAX];
	resp r;

	assert_int_equal(one_shot("GET /long/600 HTTP/1.1\r\nHost: t\r\n\r\n", &r), 409);
	snprintf(want, sizeof want, "{\"error\":\"%s\",\"field\":\"name\",\"errors\":[{\"field\":"
		 "\"name\",\"error\":\"%s\"}]}", long_of(600), long_text);
	assert_string_equal(r.body, want);
	resp_free(&r);

	assert_int_equal(one_shot("GET /long/9000 HTTP/1.1\r\nHost: t\r\n\r\n", &r), 409);
	long_of(9000);
	snprintf(want, sizeof want, "{\"error\":\"%.*s\xe2\x80\xa6\",", JSON_MSG_MAX - 1, long_text);
	if (strncmp(r.body, want, strlen(want)) != 0)
		fail_msg("not cut at %d bytes with an ellipsis: %.100s", JSON_MSG_MAX, r.body);
	resp_free(&r);
}

static void test_404_405(void **state)
{
	resp r;

	assert_int_equal(one_shot("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", &r), 404);
	expect_header(&r, "Content-Type", "application/json");
	assert_non_null(strstr(r.body, "\"error\""));
	resp_free(&r);

	assert_int_equal(one_shot("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r), 405);
	expect_header(&r, "Allow", "GET, HEAD");
	assert_non_null(strstr(r.body, "\"error\""));
	resp_free(&r);

	assert_int_equal(one_shot("POST /static/app.js HTTP/1.1\r\nHost: t\r\n"
				  "Content-Length: 0\r\n\r\n",
				  &r),
			 405);
	resp_free(&r);
}

static void test_keepalive(void **state)
{
	cli *c = cli_open();
	resp r;
	char v[64];

	cli_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 200);
	assert_null(hdr(&r, "Connection", v, sizeof v));
	resp_free(&r);
	cli_puts(c, "GET /items/2 HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_reply(c, 200, "{\"id\":\"2\"}");
	/* a handler's own error answer keeps the connection */
	cli_puts(c, "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_reply(c, 404, NULL);
	cli_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Connection", "close");
	assert_true(cli_closed(c));
	resp_free(&r);
	cli_close(c);
}

static void test_pipelined(void **state)
{
	cli *c = cli_open();

	cli_puts(c, "GET /items/1 HTTP/1.1\r\nHost: t\r\n\r\n"
		    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
		    "GET /defer HTTP/1.1\r\nHost: t\r\n\r\n"
		    "GET /items/3 HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_reply(c, -1, "{\"id\":\"1\"}");
	expect_reply(c, -1, "abc");
	/* the deferred answer still comes before the request behind it */
	expect_reply(c, -1, "late");
	expect_reply(c, -1, "{\"id\":\"3\"}");
	cli_close(c);
}

static void test_post_bodies(void **state)
{
	cli *c = cli_open();
	resp r;
	char big[T_MAX_BODY + 1], req[T_MAX_BODY + 256];

	cli_puts(
	    c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world");
	expect_reply(c, 200, "hello world");

	cli_puts(c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n");
	expect_reply(c, 200, "hello world");

	/* trailers after a chunked body are dropped without disturbing the head */
	cli_puts(c, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "3\r\nabc\r\n0\r\nX-Trailer: 1\r\nX-Other-Trailer: 2\r\n\r\n");
	expect_reply(c, 200, "abc");

	/* exactly the maximum is accepted */
	memset(big, 'x', T_MAX_BODY);
	big[T_MAX_BODY] = '\0';
	snprintf(req, sizeof req,
		 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s",
		 T_MAX_BODY, big);
	cli_puts(c, req);
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, T_MAX_BODY);
	resp_free(&r);

	/* 100-continue: the interim answer first, then the body */
	cli_puts(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
		    "Expect: 100-continue\r\n\r\n");
	expect_reply(c, 100, NULL);
	cli_puts(c, "ok");
	expect_reply(c, 200, "ok");
	cli_close(c);
}

static void test_head_limit(void **state)
{
	const char *pre = "GET /hello HTTP/1.1\r\nHost: t\r\nX-Pad: ";
	size_t fixed = strlen(pre) + 4; /* "\r\n\r\n" */
	char *req = malloc(HTTP_MAX_HEAD + 64);
	resp r;

	/* a head of exactly HTTP_MAX_HEAD bytes is served */
	memcpy(req, pre, strlen(pre));
	memset(req + strlen(pre), 'a', HTTP_MAX_HEAD - fixed);
	memcpy(req + HTTP_MAX_HEAD - 4, "\r\n\r\n", 5);
	assert_int_equal(strlen(req), HTTP_MAX_HEAD);
	assert_int_equal(one_shot(req, &r), 200);
	resp_free(&r);

	/* empty lines before the request line are not part of the head:
	 * the same head after two of them, in the same read, is served */
	{
		char *lead = malloc(HTTP_MAX_HEAD + 8);
		memcpy(lead, "\r\n\r\n", 4);
		memcpy(lead + 4, req, HTTP_MAX_HEAD + 1);
		assert_int_equal(one_shot(lead, &r), 200);
		resp_free(&r);
		/* and a CR alone waits for its LF */
		cli *c = cli_open();
		cli_puts(c, "\r");
		usleep(20000);
		cli_puts(c, "\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
		expect_reply(c, 200, NULL);
		cli_close(c);
		free(lead);
	}

	/* one byte more is refused */
	memcpy(req, pre, strlen(pre));
	memset(req + strlen(pre), 'a', HTTP_MAX_HEAD - fixed + 1);
	memcpy(req + HTTP_MAX_HEAD - 3, "\r\n\r\n", 5);
	assert_refused(req, strlen(req), 431, "too large");

	/* and a head that never ends is refused as soon as it passes the limit */
	memcpy(req, pre, strlen(pre));
	memset(req + strlen(pre), 'b', HTTP_MAX_HEAD + 32 - strlen(pre));
	assert_refused(req, HTTP_MAX_HEAD + 32, 431, NULL);

	/* too many headers */
	{
		char many[8192];
		size_t n = (size_t)snprintf(many, sizeof many, "GET /hello HTTP/1.1\r\n");
		for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
			n += (size_t)snprintf(many + n, sizeof many - n, "X-H%d: v\r\n",
					      i);
		snprintf(many + n, sizeof many - n, "\r\n");
		assert_refused(many, strlen(many), 431, NULL);
	}
	free(req);
}

/* A chunked POST to path of chunks chunks of 1000 'y' bytes each: a new
 * buffer (caller frees), its length in *n. */
static char *chunked_post(const char *path, int chunks, size_t *n)
{
	char *req = malloc((size_t)chunks * 1010 + strlen(path) + 128);
	size_t len;

	assert_non_null(req);
	len = (size_t)sprintf(req, "POST %s HTTP/1.1\r\nHost: t\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n", path);
	for (int i = 0; i < chunks; i++) {
		len += (size_t)sprintf(req + len, "3e8\r\n");
		memset(req + len, 'y', 1000);
		len += 1000;
		len += (size_t)sprintf(req + len, "\r\n");
	}
	len += (size_t)sprintf(req + len, "0\r\n\r\n");
	*n = len;
	return req;
}

static void test_body_limit(void **state)
{
	char req[256];
	char *chunked;
	size_t n;

	/* refused on the Content-Length alone, before any body byte */
	snprintf(req, sizeof req,
		 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
		 T_MAX_BODY + 1);
	assert_refused(req, strlen(req), 413, "too large");

	/* chunked: refused once the chunks add up past the maximum */
	chunked = chunked_post("/echo", 5, &n);
	assert_refused(chunked, n, 413, "too large");
	free(chunked);
}

/* A route that names its own cap: larger bodies there, the server's cap
 * everywhere else, with the same refusals. */
static void test_route_body_limit(void **state)
{
	size_t big = 2 * T_MAX_BODY, n;
	char *req = malloc(big + 256);
	cli *c;
	resp r;

	assert_non_null(req);
	n = (size_t)sprintf(req, "POST /upload/7 HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
			    big);
	memset(req + n, 'u', big);
	c = cli_open();
	cli_send(c, req, n + big);
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, big);
	assert_int_equal(r.body[big - 1], 'u');
	resp_free(&r);
	cli_close(c);
	/* the same body elsewhere: the server's cap */
	n = (size_t)sprintf(req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", big);
	assert_refused(req, n, 413, "too large");
	/* past the route's own cap, by length and by chunks */
	n = (size_t)sprintf(req, "POST /upload/7 HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
			    3 * T_MAX_BODY + 1);
	assert_refused(req, n, 413, "too large");
	free(req);
	req = chunked_post("/upload/8", 13, &n);
	assert_refused(req, n, 413, "too large");
	free(req);
	/* the limit follows the route the router would choose */
	{
		http_req fake;
		memset(&fake, 0, sizeof fake);
		fake.method = HTTP_M_POST;
		fake.target = (char *)"/upload/9?x=1";
		assert_int_equal(router_body_limit(&fake, t_router), 3 * T_MAX_BODY);
		fake.target = (char *)"/echo";
		assert_int_equal(router_body_limit(&fake, t_router), 0);
		fake.method = HTTP_M_GET;
		fake.target = (char *)"/upload/9";
		assert_int_equal(router_body_limit(&fake, t_router), 0);
	}
}

static void test_smuggling(void **state)
{
	const char *both = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
	const char *te_first =
	    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n0\r\n\r\n";
	const char *dup = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
			  "Content-Length: 5\r\n\r\nhello";
	const char *te_other =
	    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n";

	assert_refused(both, strlen(both), 400, NULL);
	assert_refused(te_first, strlen(te_first), 400, NULL);
	assert_refused(dup, strlen(dup), 400, NULL);
	assert_refused(te_other, strlen(te_other), 400, NULL);
}

static void test_garbage(void **state)
{
	static const char *const bad[] = {
	    "HELLO\r\n\r\n",
	    "GET\r\n\r\n",
	    "GET /hello HTTP/9.9\r\n\r\n",
	    "GET /hello HTTP/1.1\r\nBad Header\r\n\r\n",
	    "GET /hello HTTP/1.1\r\nX: a\rb\r\n\r\n",
	    "GET hello HTTP/1.1\r\nHost: t\r\n\r\n",
	    "GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n",
	    "GET /a%00b HTTP/1.1\r\nHost: t\r\n\r\n",
	    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_refused(bad[i], strlen(bad[i]), 400, NULL);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_slow_client(void **state)
{
	char req[512];
	struct timespec t0;
	struct pollfd pf;
	cli *c = cli_open();
	size_t i, n;
	resp r;
	long el;

	/* dribbling a byte every 50 ms does not reset the request timer: the
	 * 408 comes while the bytes still come (a head that never ends, 20 s
	 * of it), however late a loaded machine fires the timer; a timer that
	 * each byte reset would answer only once they stopped */
	n = (size_t)snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nHost: t\r\nX-Slow: ");
	memset(req + n, 's', sizeof req - n);
	pf.fd = c->fd;
	pf.events = POLLIN;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < sizeof req; i++) {
		if (poll(&pf, 1, 0) == 1)
			break; /* answered */
		if (send(c->fd, req + i, 1, MSG_NOSIGNAL) != 1)
			break;
		usleep(50 * 1000);
	}
	assert_true(i < sizeof req);
	assert_int_equal(cli_resp(c, &r, 0), 0);
	el = ms_since(&t0);
	assert_int_equal(r.status, 408);
	assert_true(el >= T_REQ_MS - 50);
	expect_header(&r, "Connection", "close");
	assert_true(cli_closed(c));
	resp_free(&r);
	cli_close(c);
	assert_still_serving();
}

/* Send a POST /echo of len bytes, piece bytes every gap_ms (none after
 * stop bytes); the answer's status, its elapsed ms in *el. */
static int paced_body(size_t len, size_t piece, int gap_ms, size_t stop, long *el, resp *r)
{
	char head[128], body[T_MAX_BODY];
	struct timespec t0;
	cli *c = cli_open();
	size_t sent = 0;
	int rc;

	assert_true(len <= sizeof body);
	memset(body, 'b', len);
	snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
		 len);
	cli_puts(c, head);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < len && ms_since(&t0) < 3 * T_BODY_MAX_MS) {
		size_t n = len - sent < piece ? len - sent : piece;
		if (sent < stop) {
			if (send(c->fd, body + sent, n, MSG_NOSIGNAL) != (ssize_t)n)
				break; /* refused and closed */
			sent += n;
		}
		if (sent >= len || sent >= stop)
			break;
		usleep((useconds_t)gap_ms * 1000);
	}
	rc = cli_resp(c, r, 0);
	*el = ms_since(&t0);
	cli_close(c);
	return rc == 0 ? r->status : -1;
}

/* A body is timed by its progress, not by the request timer: slow but
 * steady is served past T_REQ_MS; stopped, or slower than the minimum rate
 * after the grace time, is 408. */
static void test_body_progress(void **state)
{
	resp r;
	long el;

	/* 4000 bytes at 100 every 25 ms (4000 B/s): about 1 s, past the
	 * request timer (T_REQ_MS) and the grace time, and served.  The
	 * margins are wide (4 times the minimum rate, gaps a twelfth of the
	 * stall time) so that a client a loaded machine slows is still one. */
	assert_int_equal(paced_body(4000, 100, 25, SIZE_MAX, &el, &r), 200);
	assert_int_equal(r.body_len, 4000);
	assert_true(el >= 3 * T_REQ_MS);
	resp_free(&r);
	/* 1500 of 2000 bytes, then nothing: 408 after the stall time (the
	 * rule is told by the message; the time's bound is the cap's) */
	assert_int_equal(paced_body(2000, 1500, 50, 1500, &el, &r), 408);
	assert_non_null(strstr(r.body, "stopped coming"));
	assert_true(el >= T_BODY_STALL_MS - 50);
	assert_true(el < T_BODY_MAX_MS);
	resp_free(&r);
	/* 5 bytes every 25 ms (200 B/s): moving, but too slow once the grace
	 * time is over */
	assert_int_equal(paced_body(2000, 5, 25, SIZE_MAX, &el, &r), 408);
	assert_non_null(strstr(r.body, "too slowly"));
	assert_true(el >= T_BODY_GRACE_MS - 50);
	assert_true(el < T_BODY_MAX_MS);
	resp_free(&r);
	assert_still_serving();
}

/* A body over the cap, refused (413) from its Content-Length: a client that
 * writes all of it before reading still reads the 413, a body over the
 * server's max_body and HTTP__LINGER_MAX too (it was cut off after 1 MiB,
 * a reset for the client), and one that comes slowly but steadily; one
 * that stops coming is closed after the lingering's silence. */
static void test_refused_body_read_to_its_end(void **state)
{
	size_t big = 16 * 1024 * 1024, sent = 0, n;
	char *req = malloc(big + 256), head[128];
	struct timespec t0;
	cli *c;
	resp r;

	assert_non_null(req);
	n = (size_t)sprintf(req, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
			    big);
	memset(req + n, 'u', big);
	c = cli_open();
	cli_send(c, req, n + big);
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	assert_true(cli_closed(c));
	resp_free(&r);
	cli_close(c);
	free(req);
	/* 2 * T_MAX_BODY, 256 bytes every 20 ms: longer than the silence
	 * allowed (T_REQ_MS), but never silent that long (a fifteenth of it,
	 * so that a client a loaded machine slows is still not) */
	snprintf(head, sizeof head, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
		 2 * T_MAX_BODY);
	c = cli_open();
	cli_puts(c, head);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sent < 2 * T_MAX_BODY) {
		char piece[T_MAX_BODY / 16];
		memset(piece, 'p', sizeof piece);
		if (send(c->fd, piece, sizeof piece, MSG_NOSIGNAL) != (ssize_t)sizeof piece)
			break;
		sent += sizeof piece;
		usleep(20 * 1000);
	}
	assert_true(sent >= 2 * T_MAX_BODY);
	assert_true(ms_since(&t0) > 2 * T_REQ_MS);
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	assert_true(cli_closed(c));
	resp_free(&r);
	cli_close(c);
	/* a body that stops coming: closed after T_REQ_MS of silence, not
	 * held for the lingering's total (HTTP__LINGER_TOTAL_MS) or until the
	 * body it declared.  The end of the answer (the write side shut) comes
	 * at once; the close is seen by sending: a connection closed answers
	 * a byte with a reset, and the next send fails, where one still
	 * lingering takes both.  3 s after the silence allowed: room for a
	 * loaded machine that pauses the server a second or two. */
	c = cli_open();
	cli_puts(c, head);
	cli_send(c, "uuuu", 4);
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	assert_true(cli_closed(c));
	usleep((T_REQ_MS + 3000) * 1000);
	(void)send(c->fd, "u", 1, MSG_NOSIGNAL);
	usleep(200 * 1000);
	assert_true(send(c->fd, "u", 1, MSG_NOSIGNAL) < 0);
	resp_free(&r);
	cli_close(c);
	assert_still_serving();
}

static void test_idle_timeout(void **state)
{
	struct timespec t0;
	cli *c = cli_open();
	resp r;
	long el;

	cli_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(cli_resp(c, &r, 0), 0);
	resp_free(&r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* closed silently: no bytes, just EOF, after the idle timeout: not
	 * sooner, and not held as if no idle timer of ours ran (the default
	 * HTTP_IDLE_TIMEOUT_MS, or never); the bound leaves a loaded machine
	 * that pauses the server a few seconds room (cli_open's 5 s receive
	 * timeout is above it: a connection held longer fails cli_closed) */
	assert_true(cli_closed(c));
	el = ms_since(&t0);
	assert_true(el >= T_IDLE_MS - 100);
	assert_true(el < T_IDLE_MS + 4000);
	cli_close(c);
}

static void test_deferred(void **state)
{
	cli *c = cli_open();
	resp r;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cli_puts(c, "GET /defer HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "late");
	assert_true(ms_since(&t0) >= 100);
	resp_free(&r);
	/* the connection is usable afterwards */
	cli_puts(c, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_reply(c, -1, "hello");
	cli_close(c);
}

static void test_disconnect_before_reply(void **state)
{
	struct linger lg = {1, 0};
	cli *c = cli_open();
	int i;

	__atomic_store_n(&t_gone_entered, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&t_gone_done, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&t_gone_conn_null, 0, __ATOMIC_SEQ_CST);
	cli_puts(c, "GET /gone HTTP/1.1\r\nHost: t\r\n\r\n");
	for (i = 0; i < 500 && !__atomic_load_n(&t_gone_entered, __ATOMIC_SEQ_CST); i++)
		usleep(10 * 1000);
	assert_int_equal(__atomic_load_n(&t_gone_entered, __ATOMIC_SEQ_CST), 1);
	/* reset the connection while the handler still holds the request */
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	cli_close(c);
	for (i = 0; i < 500 && !__atomic_load_n(&t_gone_done, __ATOMIC_SEQ_CST); i++)
		usleep(10 * 1000);
	assert_int_equal(__atomic_load_n(&t_gone_done, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(__atomic_load_n(&t_gone_conn_null, __ATOMIC_SEQ_CST), 1);
	assert_still_serving();
}

static void test_assets(void **state)
{
	cli *c = cli_open();
	resp r;
	char v[256], etag[64], req[512];

	cli_puts(c, "GET /static/app.js HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, js_data, sizeof js_data - 1);
	assert_non_null(hdr(&r, "ETag", etag, sizeof etag));
	assert_string_equal(etag, "\"0123456789abcdef\"");
	expect_header(&r, "Cache-Control", "no-cache");
	expect_header(&r, "Content-Type", "text/javascript; charset=utf-8");
	assert_null(hdr(&r, "Content-Security-Policy", v, sizeof v));
	resp_free(&r);

	snprintf(req, sizeof req,
		 "GET /static/app.js HTTP/1.1\r\nHost: t\r\nIf-None-Match: %s\r\n\r\n",
		 etag);
	cli_puts(c, req);
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.body_len, 0);
	expect_header(&r, "ETag", etag);
	resp_free(&r);

	cli_puts(c, "GET /static/app.js HTTP/1.1\r\nHost: t\r\n"
		    "If-None-Match: \"zzz\", W/\"0123456789abcdef\"\r\n\r\n");
	expect_reply(c, 304, NULL);

	cli_puts(
	    c,
	    "GET /static/app.js HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"other\"\r\n\r\n");
	expect_reply(c, 200, NULL);

	/* HEAD: the GET route, headers with the length, no body bytes (the next
	 * answer on the connection parses cleanly) */
	cli_puts(c, "HEAD /static/app.js HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(cli_resp(c, &r, 1), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(hdr(&r, "Content-Length", v, sizeof v));
	assert_int_equal(atoi(v), (int)(sizeof js_data - 1));
	resp_free(&r);

	cli_puts(c, "GET /static/index.html HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(cli_resp(c, &r, 0), 0);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Content-Type", "text/html; charset=utf-8");
	expect_header(&r, "Content-Security-Policy",
		      "default-src 'self'; img-src 'self' data:; style-src 'self' "
		      "'unsafe-inline'; frame-ancestors 'none'");
	expect_header(&r, "Referrer-Policy", "same-origin");
	assert_non_null(hdr(&r, "X-Content-Type-Options", v, sizeof v));
	resp_free(&r);

	cli_puts(c, "GET /static/none.css HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_reply(c, 404, NULL);
	cli_close(c);
}

static void test_query_cookie_over_http(void **state)
{
	resp r;

	assert_int_equal(
	    one_shot("GET /q?a=1&name=Ana+Mar%C3%ADa&b HTTP/1.1\r\nHost: t\r\n"
		     "Cookie: theme=dark; sid=\"abc123\"\r\n\r\n",
		     &r),
	    200);
	assert_string_equal(r.body, "name=Ana Mar\xc3\xad"
				    "a sid=abc123");
	resp_free(&r);
	assert_int_equal(one_shot("GET /q HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
	assert_string_equal(r.body, "name=(none) sid=(none)");
	resp_free(&r);
}

static const char *cookie(http_req *req, const char *name, char *out, size_t n)
{
	return http_req_cookie(req, name, out, n);
}

/* fn (http_req_query or cookie) finds name in req, with the value
 * want (read into 32 bytes, as test_helpers reads). */
static void expect_found(const char *(*fn)(http_req *, const char *, char *, size_t),
			 http_req *req, const char *name, const char *want)
{
	char out[32];

	if (fn(req, name, out, sizeof out) == NULL)
		fail_msg("%s: not found", name);
	assert_string_equal(out, want);
}

static void test_helpers(void **state)
{
	char out[32];
	http_req req;

	assert_int_equal(http_pct_decode("a%20b+c", 7, out, sizeof out, 0), 0);
	assert_string_equal(out, "a b+c");
	assert_int_equal(http_pct_decode("a%20b+c", 7, out, sizeof out, 1), 0);
	assert_string_equal(out, "a b c");
	assert_int_equal(http_pct_decode("%2f%2F", 6, out, sizeof out, 0), 0);
	assert_string_equal(out, "//");
	assert_int_equal(http_pct_decode("%", 1, out, sizeof out, 0), -1);
	assert_int_equal(http_pct_decode("%4", 2, out, sizeof out, 0), -1);
	assert_int_equal(http_pct_decode("%g1", 3, out, sizeof out, 0), -1);
	assert_int_equal(http_pct_decode("%00", 3, out, sizeof out, 0), -1);
	assert_int_equal(http_pct_decode("abcd", 4, out, 4, 0), -1); /* no room for NUL */
	assert_int_equal(http_pct_decode("abc", 4, out, 4, 0), -1);  /* NUL inside len */
	assert_int_equal(http_pct_decode("abc", 3, out, 4, 0), 0);
	assert_string_equal(out, "abc");

	memset(&req, 0, sizeof req);
	req.query = (char *)"x=1&empty=&flag&n%61me=J%C3%B3+D&long="
			    "0123456789012345678901234567890123456789";
	expect_found(http_req_query, &req, "x", "1");
	expect_found(http_req_query, &req, "empty", "");
	expect_found(http_req_query, &req, "flag", "");
	expect_found(http_req_query, &req, "name", "J\xc3\xb3 D");
	assert_null(http_req_query(&req, "long", out, sizeof out)); /* does not fit */
	assert_null(http_req_query(&req, "missing", out, sizeof out));
	assert_null(http_req_query(&req, "fla", out, sizeof out));
	/* the same, telling absent (out untouched) from present but bad */
	snprintf(out, sizeof out, "keep");
	assert_int_equal(http_req_query_get(&req, "missing", out, sizeof out), 0);
	assert_string_equal(out, "keep");
	assert_int_equal(http_req_query_get(&req, "long", out, sizeof out), -1);
	assert_string_equal(req.query_long, "long"); /* for route.c to refuse */
	assert_int_equal(http_req_query_get(&req, "flag", out, sizeof out), 1);
	assert_string_equal(out, "");
	assert_int_equal(http_req_query_get(&req, "name", out, sizeof out), 1);
	assert_string_equal(out, "J\xc3\xb3 D");
	req.query = (char *)"bad=%zz";
	assert_int_equal(http_req_query_get(&req, "bad", out, sizeof out), -1);
	assert_null(http_req_query(&req, "bad", out, sizeof out));
	req.query = NULL;
	assert_int_equal(http_req_query_get(&req, "x", out, sizeof out), 0);
	/* percent-encoding: unreserved bytes as they are, the rest %XX */
	{
		char enc[64];
		assert_int_equal(http_pct_encode("a-b._~Z9 +&=%/\xc3\xb3", enc, sizeof enc), 0);
		assert_string_equal(enc, "a-b._~Z9%20%2B%26%3D%25%2F%C3%B3");
	}
	assert_int_equal(http_pct_encode("abc", out, 4), 0);
	assert_int_equal(http_pct_encode("abcd", out, 4), -1); /* no room for NUL */
	assert_string_equal(out, "");
	assert_int_equal(http_pct_encode("a b", out, 5), -1);

	req.headers[0].name = (char *)"cookie";
	req.headers[0].value = (char *)"a=1; sid=s3cr3t;b=2;  spaced = no; q=\"quoted\"";
	req.headers[1].name = (char *)"x-other";
	req.headers[1].value = (char *)"sid=wrong";
	req.nheaders = 2;
	expect_found(cookie, &req, "sid", "s3cr3t");
	expect_found(cookie, &req, "b", "2");
	expect_found(cookie, &req, "q", "quoted");
	assert_null(http_req_cookie(&req, "spaced", out, sizeof out));
	assert_null(http_req_cookie(&req, "si", out, sizeof out));
	assert_null(http_req_cookie(&req, "sid", out, 4)); /* too long for out */
	assert_string_equal(http_req_header(&req, "X-Other"), "sid=wrong");
	assert_null(http_req_header(&req, "x-missing"));

	assert_string_equal(http_status_text(404), "Not Found");
	assert_string_equal(http_status_text(431), "Request Header Fields Too Large");
	assert_string_equal(http_status_text(299), "Unknown");
}

static int count(const char *hay, size_t n, const char *needle)
{
	int k = 0;
	const char *p = hay, *end = hay + n;

	while (p < end &&
	       (p = memmem(p, (size_t)(end - p), needle, strlen(needle))) != NULL) {
		k++;
		p++;
	}
	return k;
}

/* The socket-free path the fuzzer drives: byte-at-a-time input must parse as
 * the same requests as one large read. */
static void test_mem_conn(void **state)
{
	const char *in =
	    "GET /items/x%41 HTTP/1.1\r\nHost: t\r\nX-Empty:\r\nX-Long-Header-Name: "
	    "v\r\n\r\n"
	    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nhi\r\n0\r\n\r\n"
	    "GET /nope HTTP/1.0\r\n\r\n";
	uv_loop_t loop;
	http_server *srv;
	http_conn *c;
	const buf *o;

	assert_int_equal(uv_loop_init(&loop), 0);
	srv = http_server_new(&loop, router_dispatch, t_router);
	assert_non_null(srv);
	c = http__conn_new_mem(srv);
	assert_non_null(c);
	for (size_t i = 0; i < strlen(in) - 1; i++)
		assert_int_equal(http__conn_feed(c, in + i, 1), 0);
	/* the last byte completes an HTTP/1.0 request: answered, then closed */
	assert_int_equal(http__conn_feed(c, in + strlen(in) - 1, 1), -1);
	o = http__conn_output(c);
	assert_int_equal(count(o->data, o->len, "HTTP/1.1 "), 3);
	assert_non_null(memmem(o->data, o->len, "{\"id\":\"xA\"}", 11));
	assert_non_null(memmem(o->data, o->len, "\r\n\r\nhi", 6));
	assert_non_null(memmem(o->data, o->len, "HTTP/1.1 404 Not Found", 22));
	http__conn_free(c);

	/* a refusal closes the memory connection as well */
	c = http__conn_new_mem(srv);
	assert_int_equal(http__conn_feed(c, "BLAH / HTTP/1.1\r\n\r\n", 19), -1);
	o = http__conn_output(c);
	assert_non_null(memmem(o->data, o->len, "HTTP/1.1 400 ", 13));
	http__conn_free(c);

	http_server_close(srv, NULL, NULL);
	http_server_free(srv);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Each request of bad[], fed byte by byte to a connection of srv without a
 * socket, is refused with a 400 and never answered with a 200. */
static void assert_refused_bytewise(http_server *srv, const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *in = bad[i];
		http_conn *c = http__conn_new_mem(srv);
		const buf *o;
		int rc = 0;

		for (size_t j = 0; j < strlen(in) && rc == 0; j++)
			rc = http__conn_feed(c, in + j, 1);
		assert_int_equal(rc, -1);
		o = http__conn_output(c);
		assert_non_null(memmem(o->data, o->len, "HTTP/1.1 400 ", 13));
		assert_null(memmem(o->data, o->len, "HTTP/1.1 200 ", 13));
		http__conn_free(c);
	}
}

/* Strict heads: whitespace before a colon, obs-fold and bare LF are 400,
 * over TCP and fed byte by byte alike; the same bytes in a body are data. */
static const char *const strict_bad[] = {
    "GET /hello HTTP/1.1\r\nHost : t\r\n\r\n",
    "GET /hello HTTP/1.1\r\nHost\t: t\r\n\r\n",
    "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n",
    "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: a\r\n\tb\r\n\r\n",
    "GET /hello HTTP/1.1\nHost: t\n\n",
    "GET /hello HTTP/1.1\r\nHost: t\n\r\n",
    "GET /hello HTTP/1.1\r\nHost: t\r\n\n",
    "GET /hello HTTP/1.1\r\nHost: t\r\nX: \x01z\r\n\r\n", /* control bytes */
    "GET /hello HTTP/1.1\r\nHost: t\r\nX: a\x7f\r\n\r\n",
};

static void test_strict_head(void **state)
{
	uv_loop_t loop;
	http_server *srv;
	resp r;
	const char *ok = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\na\nb : c\n";

	for (size_t i = 0; i < sizeof strict_bad / sizeof strict_bad[0]; i++)
		assert_refused(strict_bad[i], strlen(strict_bad[i]), 400, NULL);
	assert_int_equal(one_shot(ok, &r), 200);
	assert_string_equal(r.body, "a\nb : c\n");
	resp_free(&r);

	assert_int_equal(uv_loop_init(&loop), 0);
	srv = http_server_new(&loop, router_dispatch, t_router);
	assert_non_null(srv);
	assert_refused_bytewise(srv, strict_bad, sizeof strict_bad / sizeof strict_bad[0]);
	http_server_close(srv, NULL, NULL);
	http_server_free(srv);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/*
 * Strict chunked bodies: http-parser as Debian builds it (not
 * HTTP_PARSER_STRICT) takes any two bytes after a chunk's data as its CRLF,
 * any byte after a CR as an LF, and bare LFs in extensions and trailers; a
 * proxy in front could frame such a body otherwise.  Each is a 400 and no
 * handler runs, over TCP and fed byte by byte; well-framed bodies, split
 * anywhere, are still served.
 */
#define CHUNKED_HEAD "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
static const char *const chunk_bad[] = {
    CHUNKED_HEAD "5\r\nhelloXY0\r\n\r\n",	    /* no CRLF after the data */
    CHUNKED_HEAD "5\r\nhello\r0\r\n\r\n",	    /* CR without its LF */
    CHUNKED_HEAD "5\r\nhello\n\r\n0\r\n\r\n",	    /* LF without its CR */
    CHUNKED_HEAD "5\rXhello\r\n0\r\n\r\n",	    /* size line: CR then not LF */
    CHUNKED_HEAD "5;a\nb\r\nhello\r\n0\r\n\r\n",  /* bare LF in an extension */
    CHUNKED_HEAD "0\r\nX-T: 1\n\r\n",		    /* bare LF in a trailer */
    CHUNKED_HEAD "0\r\nX-T: 1\r\n folded\r\n\r\n", /* obs-fold in the trailers */
    CHUNKED_HEAD "0\r\nX-T : 1\r\n\r\n",	    /* whitespace before a colon */
    CHUNKED_HEAD "0\r\n\rX",			    /* the last CR without its LF */
    CHUNKED_HEAD "5 5\r\nhello\r\n0\r\n\r\n",	    /* junk after the size (0x55?) */
    CHUNKED_HEAD "5 x\r\nhello\r\n0\r\n\r\n",
    CHUNKED_HEAD "5;\r\nhello\r\n0\r\n\r\n",	    /* an extension without a name */
    CHUNKED_HEAD "5;=x\r\nhello\r\n0\r\n\r\n",
    CHUNKED_HEAD "5;a=\r\nhello\r\n0\r\n\r\n",	    /* "=" without a value */
    CHUNKED_HEAD "5;a=\"b\r\nhello\r\n0\r\n\r\n",  /* a quoted value not closed */
    CHUNKED_HEAD "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", /* bytes after it */
    CHUNKED_HEAD "0\r\nX: \x01z\r\n\r\n",		    /* a control byte in a trailer */
    CHUNKED_HEAD "0\r\nX: \x7f\r\n\r\n",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\rX"
    "5\r\nhello\r\n0\r\n\r\n", /* the head's last CR without its LF */
};
static const char *const chunk_good[] = {
    CHUNKED_HEAD "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n",
    CHUNKED_HEAD "0005 ; a=\"b\\\"c\" ;b; c = d\r\nhello\r\n9\r\n world\r\n\n\r\n00\r\n"
		 "X-T: 1\r\nY-T:\t2\r\n\r\n",
};
static const char *const chunk_good_body[] = {"hello world", "hello world\r\n\n"};

static void test_strict_chunks(void **state)
{
	uv_loop_t loop;
	http_server *srv;
	http_conn *c;
	const buf *o;
	resp r;

	for (size_t i = 0; i < sizeof chunk_bad / sizeof chunk_bad[0]; i++)
		assert_refused(chunk_bad[i], strlen(chunk_bad[i]), 400, NULL);
	for (size_t i = 0; i < sizeof chunk_good / sizeof chunk_good[0]; i++) {
		assert_int_equal(one_shot(chunk_good[i], &r), 200);
		assert_int_equal(r.body_len, strlen(chunk_good_body[i]));
		assert_memory_equal(r.body, chunk_good_body[i], r.body_len);
		resp_free(&r);
	}

	assert_int_equal(uv_loop_init(&loop), 0);
	srv = http_server_new(&loop, router_dispatch, t_router);
	assert_non_null(srv);
	assert_refused_bytewise(srv, chunk_bad, sizeof chunk_bad / sizeof chunk_bad[0]);
	/* well framed, fed byte by byte and then two requests in one feed */
	for (size_t i = 0; i < sizeof chunk_good / sizeof chunk_good[0]; i++) {
		const char *in = chunk_good[i];
		c = http__conn_new_mem(srv);
		for (size_t j = 0; j < strlen(in); j++)
			assert_int_equal(http__conn_feed(c, in + j, 1), 0);
		o = http__conn_output(c);
		assert_non_null(memmem(o->data, o->len, "HTTP/1.1 200 ", 13));
		assert_non_null(memmem(o->data, o->len, chunk_good_body[i],
				       strlen(chunk_good_body[i])));
		http__conn_free(c);
	}
	{
		char two[512];
		snprintf(two, sizeof two, "%s%s", chunk_good[1], chunk_good[0]);
		c = http__conn_new_mem(srv);
		assert_int_equal(http__conn_feed(c, two, strlen(two)), 0);
		o = http__conn_output(c);
		const char *p = memmem(o->data, o->len, "HTTP/1.1 200 ", 13);
		assert_non_null(p);
		assert_non_null(memmem(p + 1, o->len - (size_t)(p + 1 - o->data),
				       "HTTP/1.1 200 ", 13));
		assert_non_null(memmem(o->data, o->len, "hello world\r\n\n", 14));
		http__conn_free(c);
	}
	http_server_close(srv, NULL, NULL);
	http_server_free(srv);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* The pre-body gate of the next test: /upload needs "X-Key: ok" (else 401
 * before any body byte); a request without the key may send 16 bytes. */
static int t_gate_calls;
static size_t t_gate_body_seen;
static int t_gate(http_req *req, void *ctx, const char **why)
{
	const char *k = http_req_header(req, "x-key");

	t_gate_calls++;
	t_gate_body_seen += req->body.len;
	if (k && strcmp(k, "ok") == 0)
		return 0;
	if (strncmp(req->path, "/upload/", 8) == 0) {
		*why = "sign in first";
		return 401;
	}
	if (req->body.max > 16)
		req->body.max = 16;
	return 0;
}

static http_server *mem_server(uv_loop_t *loop)
{
	http_server *srv;

	assert_int_equal(uv_loop_init(loop), 0);
	srv = http_server_new(loop, router_dispatch, t_router);
	assert_non_null(srv);
	http_server_set_max_body(srv, T_MAX_BODY);
	http_server_set_body_limit(srv, router_body_limit, t_router);
	return srv;
}

static void mem_server_free(uv_loop_t *loop, http_server *srv)
{
	http_server_close(srv, NULL, NULL);
	http_server_free(srv);
	assert_int_equal(uv_loop_close(loop), 0);
}

/* Feed in one go; the output as a C string copy (caller frees). */
static char *mem_exchange(http_conn *c, const char *in, int *rc)
{
	const buf *o;
	char *s;

	*rc = http__conn_feed(c, in, strlen(in));
	o = http__conn_output(c);
	s = calloc(1, o->len + 1);
	if (o->len)
		memcpy(s, o->data, o->len);
	return s;
}

/* A fresh in-memory connection of srv fed in at once: its output holds want. */
static void mem_once(http_server *srv, const char *in, const char *want)
{
	http_conn *c = http__conn_new_mem(srv);
	int rc;
	char *out = mem_exchange(c, in, &rc);

	if (strstr(out, want) == NULL)
		fail_msg("the answer lacks \"%s\": %s", want, out);
	free(out);
	http__conn_free(c);
}

static void test_pre_body_gate(void **state)
{
	uv_loop_t loop;
	http_server *srv = mem_server(&loop);
	http_conn *c;
	char *out;
	int rc;

	http_server_set_pre_body(srv, t_gate, NULL);
	/* anonymous upload: 401 at once, no 100 Continue, no body kept */
	c = http__conn_new_mem(srv);
	out = mem_exchange(c, "POST /upload/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n"
			      "Expect: 100-continue\r\n\r\n", &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(out, "HTTP/1.1 401 "));
	assert_non_null(strstr(out, "sign in first"));
	assert_null(strstr(out, "100 Continue"));
	assert_int_equal(t_gate_calls, 1);
	assert_int_equal(t_gate_body_seen, 0);
	free(out);
	http__conn_free(c);
	/* with the key: 100 Continue, then the body, echoed */
	c = http__conn_new_mem(srv);
	out = mem_exchange(c, "POST /upload/1 HTTP/1.1\r\nHost: t\r\nX-Key: ok\r\n"
			      "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "HTTP/1.1 100 Continue"));
	free(out);
	out = mem_exchange(c, "hello", &rc);
	assert_non_null(strstr(out, "HTTP/1.1 200 "));
	assert_non_null(strstr(out, "\r\n\r\nhello"));
	free(out);
	http__conn_free(c);
	/* no key elsewhere: the small cap, declared or chunked */
	mem_once(srv, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n",
		 "HTTP/1.1 413 ");
	mem_once(srv, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", "HTTP/1.1 413 ");
	mem_once(srv, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n"
		 "0123456789abcdef", "HTTP/1.1 200 ");
	mem_server_free(&loop, srv);
}

/* One budget for every body in memory: a request that would pass it is 503
 * with Retry-After (declared or chunked); what a request held comes back
 * when it is freed. */
static void test_body_budget(void **state)
{
	uv_loop_t loop;
	http_server *srv = mem_server(&loop);
	http_conn *a, *b;
	char *out;
	int rc;
	size_t base = 0;

	/* the server thread frees the last test's request just after its answer */
	for (int i = 0; i < 500 && http_body_inflight() != 0; i++)
		usleep(10000);
	assert_int_equal(http_body_inflight(), 0);
	http_set_body_budget(base + 1000);
	a = http__conn_new_mem(srv);
	out = mem_exchange(a, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 900\r\n\r\nxx", &rc);
	assert_int_equal(rc, 0);
	free(out);
	assert_int_equal(http_body_inflight(), base + 900);
	b = http__conn_new_mem(srv);
	out = mem_exchange(b, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n", &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(out, "HTTP/1.1 503 "));
	assert_non_null(strstr(out, "\r\nRetry-After: "));
	free(out);
	http__conn_free(b);
	b = http__conn_new_mem(srv);
	out = mem_exchange(b, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
			      "64\r\n", &rc);
	free(out);
	for (int i = 0; i < 10 && rc == 0; i++) {
		char chunk[128];
		memset(chunk, 'z', 100);
		memcpy(chunk + 100, "\r\n64\r\n", 7);
		out = mem_exchange(b, chunk, &rc);
		free(out);
	}
	out = mem_exchange(b, "", &rc);
	assert_non_null(strstr(out, "HTTP/1.1 503 "));
	free(out);
	http__conn_free(b);
	assert_int_equal(http_body_inflight(), base + 900);
	http__conn_free(a);
	assert_int_equal(http_body_inflight(), base);
	b = http__conn_new_mem(srv);
	out = mem_exchange(b, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n", &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "HTTP/1.1 503 "));
	free(out);
	http__conn_free(b);
	assert_int_equal(http_body_inflight(), base);
	http_set_body_budget(HTTP_DEFAULT_BODY_BUDGET);
	mem_server_free(&loop, srv);
}

static int t_anon_gate(http_req *req, void *ctx, const char **why)
{
	const char *k = http_req_header(req, "x-key");

	if (k && strcmp(k, "ok") == 0)
		return 0;
	if (http_req_cap_body(req, 1000)) {
		*why = "sign in first";
		return 401;
	}
	return 0;
}

/* The shares' key: an IPv4 address, an IPv6 /64, IPv4-mapped as IPv4. */
static void test_peer_group(void **state)
{
	static const struct {
		const char *addr, *group;
	} cases[] = {
		{"192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2::5", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::5", "2001:db8:1:3::/64"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"::1", "::/64"},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof ss);
		if (strchr(cases[i].addr, ':')) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, cases[i].addr, &s6->sin6_addr), 1);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			assert_int_equal(inet_pton(AF_INET, cases[i].addr, &s4->sin_addr), 1);
		}
		http__peer_group((struct sockaddr *)&ss, out, sizeof out);
		assert_string_equal(out, cases[i].group);
	}
}

/* One client group's anonymous bodies share one per-address share: a second
 * address of the same IPv6 /64 does not get a share of its own; another
 * /64 does. */
static void test_anon_share_per_group(void **state)
{
	uv_loop_t loop;
	http_server *srv = mem_server(&loop);
	http_conn *a, *b, *c;
	char *out;
	int rc;

	(void)state;
	for (int i = 0; i < 500 && http_anon_inflight(); i++)
		usleep(10000);
	assert_int_equal(http_anon_inflight(), 0);
	http_server_set_pre_body(srv, t_anon_gate, NULL);
	http_set_anon_budget(100000, 1000);
	a = http__conn_new_mem(srv);
	snprintf(a->c_group, sizeof a->c_group, "2001:db8:1:2::/64");
	out = mem_exchange(a, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 900\r\n\r\nxx", &rc);
	free(out);
	assert_int_equal(http_anon_inflight(), 900);
	b = http__conn_new_mem(srv);
	snprintf(b->c_group, sizeof b->c_group, "2001:db8:1:2::/64");
	out = mem_exchange(b, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n", &rc);
	assert_non_null(strstr(out, "HTTP/1.1 503 "));
	free(out);
	c = http__conn_new_mem(srv);
	snprintf(c->c_group, sizeof c->c_group, "2001:db8:1:3::/64");
	out = mem_exchange(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n", &rc);
	assert_null(strstr(out, "HTTP/1.1 503 "));
	free(out);
	assert_int_equal(http_anon_inflight(), 1100);
	http__conn_free(c);
	http__conn_free(b);
	http__conn_free(a);
	assert_int_equal(http_anon_inflight(), 0);
	http_set_anon_budget(HTTP_DEFAULT_ANON_BUDGET, HTTP_DEFAULT_ANON_PER_ADDR);
	mem_server_free(&loop, srv);
}

/* Bodies the gate capped (anonymous) have a budget of their own: they can
 * fill it, never the main one, and a known caller is served meanwhile. */
static void test_anon_budget(void **state)
{
	uv_loop_t loop;
	http_server *srv = mem_server(&loop);
	http_conn *a, *b;
	char *out;
	int rc;

	for (int i = 0; i < 500 && (http_body_inflight() || http_anon_inflight()); i++)
		usleep(10000);
	assert_int_equal(http_body_inflight(), 0);
	assert_int_equal(http_anon_inflight(), 0);
	http_server_set_pre_body(srv, t_anon_gate, NULL);
	http_set_body_budget(1000);
	http_set_anon_budget(1000, 0);
	a = http__conn_new_mem(srv);
	out = mem_exchange(a, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 900\r\n\r\nxx", &rc);
	assert_int_equal(rc, 0);
	free(out);
	assert_int_equal(http_anon_inflight(), 900);
	assert_int_equal(http_body_inflight(), 0);
	/* another anonymous body does not fit: 503 */
	mem_once(srv, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 200\r\n\r\n",
		 "HTTP/1.1 503 ");
	/* a chunked one takes its whole cap at once: 503 too */
	mem_once(srv, "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "2\r\nzz\r\n0\r\n\r\n", "HTTP/1.1 503 ");
	/* a known caller's body comes from the main budget: served */
	b = http__conn_new_mem(srv);
	out = mem_exchange(b, "POST /echo HTTP/1.1\r\nHost: t\r\nX-Key: ok\r\n"
			      "Content-Length: 950\r\n\r\n", &rc);
	assert_int_equal(rc, 0);
	free(out);
	assert_int_equal(http_body_inflight(), 950);
	http__conn_free(b);
	assert_int_equal(http_body_inflight(), 0);
	http__conn_free(a);
	assert_int_equal(http_anon_inflight(), 0);
	mem_once(srv, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nzz",
		 "HTTP/1.1 200 ");
	assert_int_equal(http_anon_inflight(), 0);
	http_set_body_budget(HTTP_DEFAULT_BODY_BUDGET);
	http_set_anon_budget(HTTP_DEFAULT_ANON_BUDGET, 0);
	mem_server_free(&loop, srv);
}

/* More idle connections from one address than its cap: each new one closes
 * the oldest idle one, and requests are still served. */
static void test_conn_cap(void **state)
{
	cli *idle[T_PER_ADDR + 4];
	int n = (int)(sizeof idle / sizeof idle[0]);
	char b[8];
	resp r;

	/* accepted in this order; the newest is used at once, well within the
	 * fresh-connection timeout, so only the cap can have closed the first */
	for (int i = 0; i < n; i++)
		idle[i] = cli_open();
	cli_puts(idle[n - 1], "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(cli_resp(idle[n - 1], &r, 0), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	for (int i = 0; i < n - T_PER_ADDR; i++)
		assert_int_equal(recv(idle[i]->fd, b, sizeof b, MSG_DONTWAIT), 0);
	assert_still_serving();
	for (int i = 0; i < n; i++)
		cli_close(idle[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_helpers),
	    cmocka_unit_test(test_mem_conn),
	    cmocka_unit_test(test_routing),
	    cmocka_unit_test(test_404_405),
	    cmocka_unit_test(test_request_readable_after_reply),
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_post_bodies),
	    cmocka_unit_test(test_head_limit),
	    cmocka_unit_test(test_body_limit),
	    cmocka_unit_test(test_smuggling),
	    cmocka_unit_test(test_strict_chunks),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_slow_client),
	    cmocka_unit_test(test_route_body_limit),
	    cmocka_unit_test(test_refused_body_read_to_its_end),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_body_progress),
	    cmocka_unit_test(test_deferred),
	    cmocka_unit_test(test_disconnect_before_reply),
	    cmocka_unit_test(test_assets),
	    cmocka_unit_test(test_query_cookie_over_http),
	    cmocka_unit_test(test_strict_head),
	    cmocka_unit_test(test_pre_body_gate),
	    cmocka_unit_test(test_body_budget),
	    cmocka_unit_test(test_anon_budget),
	    cmocka_unit_test(test_peer_group),
	    cmocka_unit_test(test_anon_share_per_group),
	    cmocka_unit_test(test_conn_cap),
	    cmocka_unit_test(test_long_error_whole),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
