/*
 * http.h - HTTP/1.1 server on libuv with http-parser, plus a small router.
 *
 * One server per listening socket, driven by the process's single uv loop.
 * Each connection is a state machine (reading -> handling -> writing ->
 * reading again on keep-alive).  Limits: request head (request line + headers)
 * at most HTTP_MAX_HEAD bytes (431 beyond), body at most srv->max_body (413;
 * a route may name its own cap, see http_server_set_body_limit),
 * a request head must arrive completely within HTTP_REQ_TIMEOUT_MS of its
 * first byte (408), and its body must keep coming (HTTP_BODY_*: 408 when it
 * stalls, crawls or takes too long in all), idle
 * keep-alive connections close after HTTP_IDLE_TIMEOUT_MS.  Requests with both
 * Content-Length and Transfer-Encoding, or with two Content-Length headers,
 * are refused with 400 (request smuggling).  Malformed requests get 400,
 * and so does a head that is not strict HTTP/1.1: a bare LF instead of CRLF,
 * a folded header line (obs-fold), whitespace between a header name and its
 * colon.
 * Every error answer is JSON {"error": "..."} and closes the connection.
 *
 * Handlers run on the loop thread.  A handler answers with one of the
 * http_reply* calls, either before returning or later (after uv_queue_work,
 * for example): exactly one reply per request.  While a request is unanswered
 * the connection reads no further requests.  The request (and everything
 * borrowed from it) stays valid until the reply has been queued and, for a
 * reply made inside the handler, until the handler returns (so a handler may
 * read its parameters after a helper refused the request); if the client
 * disconnects first the request is kept until the reply call, which is then a
 * no-op, so a deferred handler never touches freed memory.
 *
 * TLS: http_server_set_tls() makes the server speak TLS (mbedTLS) on every
 * accepted connection; see tls.h.
 */
#ifndef OUTPOST_HTTP_H
#define OUTPOST_HTTP_H

#include <stddef.h>
#include <uv.h>
#include <cjson/cJSON.h>

#include "buf.h"

#define HTTP_MAX_HEAD (16 * 1024)
#define HTTP_DEFAULT_MAX_BODY (1024 * 1024)
#define HTTP_REQ_TIMEOUT_MS 10000
#define HTTP_IDLE_TIMEOUT_MS 60000
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_PARAMS 8
/*
 * A request body, once its head is in, is timed by its progress rather than
 * by a clock from the request's first byte, so an office on a slow uplink can
 * upload a large push: 408 when no byte of it came for HTTP_BODY_STALL_MS,
 * when after HTTP_BODY_GRACE_MS it has come slower than HTTP_BODY_MIN_RATE
 * bytes a second on average, or when it takes longer than HTTP_BODY_MAX_MS.
 * (The head keeps HTTP_REQ_TIMEOUT_MS: a head is small, and a slow one is
 * slowloris.)  A sender of junk is bounded all the same: it must keep
 * sending, and only a caller the pre-body gate knows may send much.
 */
#define HTTP_BODY_STALL_MS 10000
#define HTTP_BODY_GRACE_MS 10000
#define HTTP_BODY_MIN_RATE 4096
#define HTTP_BODY_MAX_MS (15u * 60 * 1000)
/* Request bodies held in memory by the whole process, at most (a request
 * beyond it is refused with 503 and Retry-After): one budget for the
 * callers the pre-body gate knows, and a smaller one for the rest (bodies
 * capped by http_req_cap_body), with a share per client address, so
 * anonymous requests can neither take the budget from signed and
 * signed-in ones nor, from one address, from each other.  "Address": an
 * IPv4 address, or an IPv6 /64 (http__peer_group); the connection caps
 * count the same way. */
#define HTTP_DEFAULT_BODY_BUDGET (24u * 1024 * 1024)
#define HTTP_DEFAULT_ANON_BUDGET (8u * 1024 * 1024)
#define HTTP_DEFAULT_ANON_PER_ADDR (64u * 1024) /* 128 addresses to fill the pool */
#define HTTP_RETRY_AFTER_S 5
/* Connections at once: per client address, and in all. */
#define HTTP_DEFAULT_CONNS_PER_ADDR 256
#define HTTP_DEFAULT_CONNS_MAX 1024

typedef struct http_server http_server;
typedef struct http_conn http_conn;
typedef struct http_req http_req;
typedef struct tls_config tls_config;

typedef enum {
	HTTP_M_OTHER = 0,
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_PATCH,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
} http_method;

typedef struct http_header {
	char *name;  /* lower-cased */
	char *value;
} http_header;

struct http_req {
	http_method method;
	char *method_str;
	char *target;              /* raw request target */
	char *path;                /* percent-decoded path, no query */
	char *query;               /* raw query string without '?', or NULL */
	http_header headers[HTTP_MAX_HEADERS];
	int nheaders;
	buf body;
	const char *params[HTTP_MAX_PARAMS][2]; /* router ":name" captures */
	int nparams;
	char peer[64];             /* client address, "ip" */
	char peer_group[64];       /* its group: the key of per-address limits
				      (an IPv4 address, an IPv6 /64) */
	int is_tls;
	void *data;                /* free for the handler's use */
	/* response headers added before the reply; owned by the request */
	buf resp_headers;
	http_conn *conn;           /* NULL once the client has gone */
	http_server *srv;
	int replied;
	/* The first query parameter read (http_req_query_get) that was too
	 * long for its reader's buffer, or "": route.c refuses the request
	 * with 400 naming it, whatever the route made of it (a filter read as
	 * absent would have widened a list). */
	char query_long[64];
};

typedef void (*http_handler)(http_req *req, void *ctx);

/* Server lifecycle.  http_server_new allocates the server (NULL when out of
 * memory) and never listens by itself; free it with http_server_free once
 * http_server_close has completed. */
http_server *http_server_new(uv_loop_t *loop, http_handler handler, void *ctx);
void http_server_set_max_body(http_server *srv, size_t max_body);
/*
 * Per-request body cap: fn runs once a request's head is complete (method,
 * path, query and headers set; req->params not yet), before any of its body
 * is read, and returns the largest body that request may have, or 0 for the
 * server's max_body.  So one route (an upload, a push) can take more than the
 * rest of the server without raising the cap for everyone.  router_body_limit
 * is such a function, with the router as ctx.  NULL fn (the default) = none.
 */
typedef size_t (*http_body_limit)(const http_req *req, void *ctx);
void http_server_set_body_limit(http_server *srv, http_body_limit fn, void *ctx);
/*
 * Pre-body gate: fn runs once a request's head is complete (after the body
 * limit above; req->params not yet set) and before any byte of its body is
 * kept, and before any "100 Continue".  It decides who may send what: 0 lets
 * the request go on (fn may lower req->body.max, e.g. to a small cap for a
 * request without credentials); any other value is the status of a refusal
 * (401, 403, 413, 421, ...) sent at once with *why (static text) as the JSON
 * error, and the connection closes without reading the body.  Must not
 * reply.  NULL fn (the default) = every request goes on.
 */
typedef int (*http_pre_body)(http_req *req, void *ctx, const char **why);
void http_server_set_pre_body(http_server *srv, http_pre_body fn, void *ctx);
/*
 * Connection caps: at most per_addr from one client address and total in
 * all (0 keeps the current value; defaults HTTP_DEFAULT_CONNS_PER_ADDR and
 * HTTP_DEFAULT_CONNS_MAX).  A new connection beyond a cap closes the oldest
 * idle connection (no request begun) of that address, or of anyone for the
 * total, and is refused only when none is idle: so idle floods cannot lock
 * anyone out.
 */
void http_server_set_conn_caps(http_server *srv, int per_addr, int total);
/*
 * The TCP connections open and the TLS sessions they hold, over every
 * server of the process (loop thread; GET /metrics).  A TLS connection
 * makes its session (about 33 KiB of record buffers) with its first bytes,
 * so idle connections hold none.
 */
void http_conn_counts(int *conns, int *tls_sessions);
/*
 * The process-wide budget of request bodies in memory (all servers, all
 * connections): a request whose Content-Length (or chunked data so far)
 * would take the bodies held past it is refused with 503 and Retry-After.
 * Default HTTP_DEFAULT_BODY_BUDGET.  http_body_inflight(): bytes held now.
 * A request whose body the pre-body gate capped with http_req_cap_body
 * (an anonymous one) is charged to the anonymous budget instead, set by
 * http_set_anon_budget (bytes in all, and per client address and server;
 * 0 keeps the current value; defaults HTTP_DEFAULT_ANON_BUDGET and
 * HTTP_DEFAULT_ANON_PER_ADDR): its Content-Length, or its cap when chunked,
 * is taken when its head is in.  http_anon_inflight(): bytes held now.
 */
void http_set_body_budget(size_t bytes);
size_t http_body_inflight(void);
void http_set_anon_budget(size_t bytes, size_t per_addr);
size_t http_anon_inflight(void);
void http_server_set_tls(http_server *srv, tls_config *tls); /* borrowed */
/*
 * A TLS server's current configuration, asked for at every new connection
 * (before its handshake): fn returns the configuration to serve it with
 * (borrowed, like http_server_set_tls's; connections already open keep
 * theirs, see tls.h), or NULL to keep the one in use.  So a renewed
 * certificate is served from the next connection on, without a restart.
 */
typedef tls_config *(*http_tls_source)(void *ctx);
void http_server_set_tls_source(http_server *srv, http_tls_source fn, void *ctx);
/* Request timeout (a request head must arrive completely within req_ms of
 * its first byte, else 408; also the longest a reply may make no write
 * progress) and idle keep-alive timeout (idle_ms between requests, then the
 * connection closes silently), in milliseconds; 0 keeps the current value.
 * Defaults HTTP_REQ_TIMEOUT_MS and HTTP_IDLE_TIMEOUT_MS.  Applies to new
 * timers. */
void http_server_set_timeouts(http_server *srv, unsigned req_ms, unsigned idle_ms);
/* The body's progress rules (see HTTP_BODY_STALL_MS): stall_ms without a
 * body byte, the average rate min_rate (bytes a second) after grace_ms,
 * max_ms in all; 0 keeps the current value.  Applies to new bodies. */
void http_server_set_body_timeouts(http_server *srv, unsigned stall_ms, unsigned grace_ms,
				   unsigned min_rate, unsigned max_ms);
/* Listen on "host:port" (port 0 picks a free one). 0 or negative uv error. */
int http_server_listen(http_server *srv, const char *hostport);
/* The settings' check of a listening address (a daemon's -n, before it
 * creates anything): "host:port" with host an IPv4 address, "[IPv6]", "*"
 * or empty, and port 1-65535.  0, or -1 with err naming the setting name. */
int http_listen_check(const char *name, const char *hostport, char *err, size_t n);
/* The bound port after listen. */
int http_server_port(http_server *srv);
/* Stop accepting, close every connection; cb runs once everything is closed
 * (at once, before returning, when nothing was open).  Requests still waiting
 * for a deferred reply stay valid; their reply call then only frees them. */
void http_server_close(http_server *srv, void (*cb)(void *arg), void *arg);
void http_server_free(http_server *srv); /* after close completed */

/* Request helpers.  Returned strings are borrowed from req. */
const char *http_req_header(const http_req *req, const char *name); /* case-insensitive */
const char *http_req_param(const http_req *req, const char *name);  /* router capture */
/* 1 when the head announces a body (chunked, or a Content-Length over 0). */
int http_req_has_body(const http_req *req);
/* For a caller not known yet, before its body is read: 1 when the
 * Content-Length announces more than max bytes (to be refused), else 0,
 * with the body's cap lowered to max and the body charged to the anonymous
 * budget (http_set_anon_budget), not the main one. */
int http_req_cap_body(http_req *req, size_t max);
/* Query parameter, percent-decoded into out (size n).  Returns out or NULL
 * (absent, or present but undecodable or longer than n - 1 bytes: then its
 * name goes to req->query_long, if that holds none yet). */
const char *http_req_query(http_req *req, const char *name, char *out, size_t n);
/* The same, telling a bad value from an absent one: 1 present (out holds
 * it; "" for "?name" without '='), 0 absent (out untouched), -1 present
 * but undecodable or too long for out. */
int http_req_query_get(http_req *req, const char *name, char *out, size_t n);
/* 1 when every name and value of the query string decodes to UTF-8 text;
 * else 0, with the name of the first that does not in bad (size n; "" when
 * the name itself is not text). */
int http_req_query_text(const http_req *req, char *bad, size_t n);
/* Cookie value into out, or NULL. */
const char *http_req_cookie(const http_req *req, const char *name, char *out, size_t n);
/* Parse the body as JSON: a JSON object or NULL (and replies 400 itself when
 * reply_on_error is set).  Caller frees with cJSON_Delete. */
cJSON *http_req_json(http_req *req, int reply_on_error);

/* The reply bytes a server holds, queued for the network and not yet taken
 * by it (a client that does not read holds its whole reply): those of
 * connections whose reply is owner's (http_req_set_owner; the asking
 * request's own connection left out), and all.  A walk of the server's
 * connections: once per costly request, before its work. */
typedef struct http_load {
	size_t owner_queued;
	size_t all_queued;
} http_load;
void http_reply_load(const http_req *req, const char *owner, http_load *out);
/* Name the owner (a node id, say) of req's reply until its connection's
 * next request begins, for http_reply_load(). */
void http_req_set_owner(http_req *req, const char *owner);

/* Replies.  Exactly one per request.  Body is copied. */
int http_add_header(http_req *req, const char *name, const char *value);
void http_reply(http_req *req, int status, const char *content_type, const void *body,
		size_t len);
/* Serializes and frees obj (takes ownership). */
void http_reply_json(http_req *req, int status, cJSON *obj);
/* {"error": msg, "field": field, "errors": [{"field": field, "error": msg}]},
 * the one error shape of route.h; field may be NULL or "" (then omitted). */
void http_reply_error(http_req *req, int status, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *http_status_text(int status);

/*
 * Streamed replies (server-sent events): http_stream_begin() sends the
 * status line and headers (no Content-Length; Connection: close) in place
 * of a reply and keeps the request open; http_stream_write() sends more
 * bytes (copied); http_stream_end() ends the reply, which closes the
 * connection once what is queued has been sent, and frees the request: it
 * must be called exactly once for a begun stream, also after the client went
 * away.  The request timeouts do not apply while streaming; a client that
 * does not read (more than HTTP_STREAM_QUEUE_MAX bytes queued) is closed,
 * and so is one that closes its side.  begin and write return 0, or -1 when
 * the stream cannot go on (the client went away: req->conn is NULL; HEAD or
 * HTTP/1.0 for begin; out of memory).
 */
#define HTTP_STREAM_QUEUE_MAX (256 * 1024)
int http_stream_begin(http_req *req, int status, const char *content_type);
int http_stream_write(http_req *req, const void *data, size_t len);
void http_stream_end(http_req *req);
/* Percent-decode src into dst (size n, NUL-terminated); '+' -> ' ' when form. -1 on bad. */
int http_pct_decode(const char *src, size_t len, char *dst, size_t n, int form);
/* Percent-encode the NUL-terminated src into dst (size n): RFC 3986
 * unreserved bytes as they are, every other byte as %XX.  0, or -1 (dst "")
 * when dst is too small. */
int http_pct_encode(const char *src, char *dst, size_t n);
/* The same with the ASCII letters and digits and the bytes of keep (not
 * NUL) as they are (RFC 5987 attr-char: "!#$&+-.^_`|~"). */
int http_pct_encode_keep(const char *src, char *dst, size_t n, const char *keep);

/*
 * Router: method + pattern -> handler.  Patterns are literal paths whose
 * segments may be ":name" (one segment captured into req->params) or end in
 * "*" (prefix match).  First match wins.  No match gives 404, a path match with
 * another method gives 405, both as JSON errors.
 */
typedef struct router router;
router *router_new(void);
void router_free(router *r);
int router_add(router *r, http_method m, const char *pattern, http_handler h, void *ctx);
/* The same for a route whose request body may be up to max_body bytes
 * (0 = the server's max_body), whatever the server's max_body is. */
int router_add_body(router *r, http_method m, const char *pattern, http_handler h, void *ctx,
		    size_t max_body);
/* A handler registered by hand, outside a declared route table (route.h):
 * one row of a module's static list, registered by router_add_rows() with
 * the module's ctx.  0, or -1 at the first row refused. */
typedef struct router_row {
	http_method rr_method;
	const char *rr_path;
	http_handler rr_fn;
} router_row;
int router_add_rows(router *r, const router_row *rows, size_t n, void *ctx);
#define ROUTER_ROWS(r, rows, ctx) router_add_rows((r), (rows), sizeof(rows) / sizeof((rows)[0]), (ctx))
/* An http_body_limit: the max_body of the route that would take req, or 0
 * (the server's) when it has none or no route matches.  ctx = the router. */
size_t router_body_limit(const http_req *req, void *router_ctx);
/* Usable directly as the server's handler with ctx = the router. */
void router_dispatch(http_req *req, void *router_ctx);

/* Static assets embedded at build time (tools/embed.c generates the table). */
typedef struct asset {
	const char *path;          /* "/kiosk.html" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
	const char *etag;          /* quoted strong ETag */
} asset;
const asset *asset_find(const asset *table, const char *path);
/* 1 when the request's If-None-Match names etag (a quoted ETag; weak
 * comparison, "*" matches), else 0. */
int http_req_etag_matches(const http_req *req, const char *etag);
/* Serve path from table with ETag / If-None-Match (304) and caching headers.
 * Returns 0 when served, -1 when not found (nothing sent). */
int http_serve_asset(http_req *req, const asset *table, const char *path);

/*
 * Internals shared by http.c, router.c, the fuzzer and the unit tests; not
 * for daemons.
 */
/* n bytes owned by req and freed with it (router captures).  NULL when out of
 * memory. */
void *http__req_alloc(http_req *req, size_t n);
/* A connection with no socket and no timers: the request parser, dispatch and
 * reply path exactly as for TCP, with bytes fed by http__conn_feed and the
 * answers collected in memory.  srv needs no listen().  Caller frees with
 * http__conn_free (a request still awaiting its reply is detached, as when a
 * client disconnects). */
http_conn *http__conn_new_mem(http_server *srv);
/* Feed bytes as if read from the peer; len 0 means end of input.  Returns 0
 * while the connection is open, -1 once it has closed. */
int http__conn_feed(http_conn *c, const void *data, size_t len);
/* The answers so far (bounded: emptied first when the next answer would take
 * it past 1 MiB).  Borrowed until the next feed or free. */
const buf *http__conn_output(const http_conn *c);
void http__conn_free(http_conn *c);

#endif
