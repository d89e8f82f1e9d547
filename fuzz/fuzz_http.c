/*
 * fuzz_http.c - libFuzzer target for the HTTP request path: raw bytes from a
 * client go through a socket-free connection (http__conn_new_mem) into the
 * real parser, limits, router, helpers and reply code, exactly as they would
 * from TCP.  The first input byte picks the read size, so request heads and
 * chunked bodies also get split at every possible boundary; one route defers
 * its reply past the connection's end, as a handler waiting on the thread pool
 * would.  Build and run (from the top of the tree):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *     $(pkg-config --cflags libuv libcjson) fuzz/fuzz_http.c lib/http.c \
 *     lib/http_conn.c lib/router.c lib/buf.c lib/log.c -o build/fuzz_http \
 *     $(pkg-config --libs libuv libcjson) -lhttp_parser
 *   build/fuzz_http -close_fd_mask=2 -max_total_time=60 fuzz/corpus/http
 *
 * (-close_fd_mask=2 silences the one log line per refused request; crash
 * reports still print.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char page[] = "<!doctype html><p>hi</p>";
static const asset assets[] = {
    {"/index.html", "text/html; charset=utf-8", page, sizeof page - 1,
     "\"00ff00ff00ff00ff\""},
    {NULL, NULL, NULL, 0, NULL},
};

static http_req *deferred;

static void h_item(http_req *req, void *ctx)
{
	cJSON *o = cJSON_CreateObject();
	const char *id = http_req_param(req, "id");

	cJSON_AddStringToObject(o, "id", id ? id : "");
	/* request bytes into a response header: must never split the answer */
	if (http_req_header(req, "x-echo"))
		http_add_header(req, "X-Echo", http_req_header(req, "x-echo"));
	http_reply_json(req, 200, o);
}

static void h_json(http_req *req, void *ctx)
{
	cJSON *o = http_req_json(req, 1);

	if (o)
		http_reply_json(req, 200, o);
}

static void h_echo(http_req *req, void *ctx)
{
	http_reply(req, 200, "application/octet-stream", req->body.data, req->body.len);
}

static void h_query(http_req *req, void *ctx)
{
	char a[64], b[8], ck[32];

	http_req_query(req, "a", a, sizeof a);
	http_req_query(req, "b", b, sizeof b);
	http_req_cookie(req, "sid", ck, sizeof ck);
	http_req_cookie(req, "x", ck, 2);
	http_reply_error(req, 418, "a", "teapot %s", req->path);
}

static void h_asset(http_req *req, void *ctx)
{
	if (http_serve_asset(req, assets, req->path + strlen("/s")) != 0)
		http_reply_error(req, 404, NULL, "no such page");
}

static void h_defer(http_req *req, void *ctx)
{
	if (deferred) /* cannot happen: one request at a time per connection */
		__builtin_trap();
	deferred = req;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uv_loop_t loop;
	static router *r;
	static http_server *srv;
	http_conn *c;
	size_t step, n;

	if (srv == NULL) {
		uv_loop_init(&loop);
		r = router_new();
		router_add(r, HTTP_M_GET, "/items/:id", h_item, NULL);
		router_add(r, HTTP_M_GET, "/u/:a/n/:b/*", h_item, NULL);
		router_add(r, HTTP_M_POST, "/json", h_json, NULL);
		router_add(r, HTTP_M_PUT, "/echo", h_echo, NULL);
		router_add(r, HTTP_M_POST, "/echo", h_echo, NULL);
		router_add(r, HTTP_M_GET, "/q", h_query, NULL);
		router_add(r, HTTP_M_GET, "/defer", h_defer, NULL);
		router_add(r, HTTP_M_GET, "/s/*", h_asset, NULL);
		srv = http_server_new(&loop, router_dispatch, r);
		http_server_set_max_body(srv, 64 * 1024);
	}
	if (size == 0)
		return 0;
	step = data[0] ? data[0] : size;
	data++;
	size--;
	c = http__conn_new_mem(srv);
	if (c == NULL)
		return 0;
	while (size > 0) {
		n = size < step ? size : step;
		if (http__conn_feed(c, data, n) != 0)
			break;
		data += n;
		size -= n;
	}
	http__conn_feed(c, NULL, 0);
	/* the output must always start as an HTTP answer */
	if (http__conn_output(c)->len &&
	    memcmp(http__conn_output(c)->data, "HTTP/1.1 ", 9) != 0)
		__builtin_trap();
	http__conn_free(c);
	if (deferred) { /* the client has gone: this reply only frees the request */
		http_req *req = deferred;
		deferred = NULL;
		if (req->conn != NULL)
			__builtin_trap();
		http_reply(req, 200, "text/plain", "late", 4);
	}
	return 0;
}
