/*
 * test_http_stream.c - streamed replies (lib/http.c http_stream_*), the
 * server-sent events of the office node's live desk, through the memory
 * connection: the head has no Content-Length and the connection is not
 * kept; later writes reach the client; the end closes the connection; a
 * client that goes away makes writes fail and the end only frees (ASan
 * finds any leak or use after free); HTTP/1.0 gets no stream.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h> /* after the four above, which it needs */
#include <string.h>

#include "lib/http.h"
#include "testutil.h"

static http_req *g_req;
static int g_begin_rc;

static void h_stream(http_req *req, void *ctx)
{
	(void)ctx;
	g_begin_rc = http_stream_begin(req, 200, "text/event-stream");
	if (g_begin_rc != 0) {
		http_reply_error(req, 400, NULL, "no stream");
		return;
	}
	assert_int_equal(http_stream_write(req, "event: hello\ndata: {}\n\n", 23), 0);
	g_req = req;
}

static const char *find(const buf *o, const char *s)
{
	return memmem(o->data, o->len, s, strlen(s));
}

static void test_stream(void **state)
{
	static const char get[] = "GET /events HTTP/1.1\r\nHost: t\r\n\r\n";
	uv_loop_t loop;
	router *r = router_new();
	http_server *srv;
	http_conn *c;
	const buf *o;

	(void)state;
	assert_non_null(r);
	assert_int_equal(router_add(r, HTTP_M_GET, "/events", h_stream, NULL), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	srv = http_server_new(&loop, router_dispatch, r);
	assert_non_null(srv);

	/* A stream, two more events, then the end. */
	c = http__conn_new_mem(srv);
	g_req = NULL;
	assert_int_equal(http__conn_feed(c, get, sizeof get - 1), 0);
	assert_non_null(g_req);
	o = http__conn_output(c);
	assert_non_null(find(o, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(find(o, "Content-Type: text/event-stream\r\n"));
	assert_non_null(find(o, "Connection: close\r\n"));
	assert_null(find(o, "Content-Length"));
	assert_non_null(find(o, "\r\n\r\nevent: hello\n"));
	assert_int_equal(http_stream_write(g_req, "event: checkins\ndata: {}\n\n", 26), 0);
	assert_int_equal(http_stream_write(g_req, ": still here\n\n", 14), 0);
	o = http__conn_output(c);
	assert_non_null(find(o, "event: checkins\n"));
	assert_non_null(find(o, ": still here\n\n"));
	/* While streaming, nothing else is answered on the connection. */
	assert_int_equal(http__conn_feed(c, get, sizeof get - 1), 0);
	o = http__conn_output(c);
	assert_ptr_equal(find(o, "HTTP/1.1 "), o->data);
	assert_null(memmem(o->data + 1, o->len - 1, "HTTP/1.1 ", 9));
	http_stream_end(g_req);
	assert_int_equal(http__conn_feed(c, "x", 1), -1); /* closed */
	http__conn_free(c);

	/* The client goes away: writes fail, the end frees the request. */
	c = http__conn_new_mem(srv);
	g_req = NULL;
	assert_int_equal(http__conn_feed(c, get, sizeof get - 1), 0);
	assert_non_null(g_req);
	assert_int_equal(http__conn_feed(c, NULL, 0), -1);
	assert_null(g_req->conn);
	assert_int_equal(http_stream_write(g_req, "data: x\n\n", 9), -1);
	http_stream_end(g_req);
	http__conn_free(c);

	/* HTTP/1.0: no stream, an ordinary answer. */
	c = http__conn_new_mem(srv);
	http__conn_feed(c, "GET /events HTTP/1.0\r\n\r\n", 24);
	assert_int_equal(g_begin_rc, -1);
	assert_non_null(find(http__conn_output(c), "HTTP/1.1 400 "));
	http__conn_free(c);

	http_server_close(srv, NULL, NULL);
	http_server_free(srv);
	router_free(r);
	assert_int_equal(uv_loop_close(&loop), 0);
}

TU_MAIN(cmocka_unit_test(test_stream))
