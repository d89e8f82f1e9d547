/*
 * http.c - the HTTP/1.1 server: listening socket, one state machine per
 * connection, request parsing with http-parser and the reply path (see http.h
 * for the contract).  Bytes reach a connection through a small transport
 * (plain TCP, TLS, or memory for the fuzzer), so parsing never touches a
 * socket: conn_input() takes plaintext from whichever transport and the step
 * function conn_drain() moves the connection on.  The states are
 *
 *   IDLE      between requests (idle timer; nothing buffered)
 *   READING   a request has begun and is incomplete (request timer, 408)
 *   HANDLING  the request went to the handler and awaits its reply; later
 *             pipelined bytes are only buffered (bounded), not parsed
 *   WRITING   the reply is being written (stall timer); then IDLE again on
 *             keep-alive, or LINGER
 *   LINGER    after a final answer: write side shut, input discarded for a
 *             moment so the peer reads our answer instead of a reset
 *   CLOSING   handles closing; the memory goes in the last close callback
 *
 * A request handed to a handler belongs to nobody but the coming reply call:
 * when the connection dies first, req->conn becomes NULL and the reply only
 * frees the request.
 */
#include "lib/http.h"
#include "lib/json.h"
#include "lib/metrics.h"
#include "lib/log.h"
#include "lib/tls.h"

#include <http_parser.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HTTP__RBUF (16 * 1024)	 /* one socket read */
#define HTTP__IN_MAX (64 * 1024) /* buffered, unparsed input */
#define HTTP__RESP_HEADERS_MAX (16 * 1024)
#define HTTP__MEM_OUT_MAX (1024 * 1024)
#define HTTP__LINGER_MS 2000
#define HTTP__LINGER_MAX (1024 * 1024) /* bytes discarded while lingering */

#define container_of(p, type, member)                                                    \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

enum conn_state { C_IDLE, C_READING, C_HANDLING, C_WRITING, C_LINGER, C_CLOSING };

/* Where the last header callback left off (http-parser may split any piece). */
enum hdr_state { H_URL, H_FIELD, H_VALUE };

typedef struct http__tp http__tp;

/* Private part of a request: all strings live in rx_head, allocated at once
 * when the head is complete, so the public pointers never move. */
typedef struct reqx {
	http_req rx_pub;
	buf rx_head;
	size_t rx_hoff[HTTP_MAX_HEADERS][2];
	int rx_nh;
	enum hdr_state rx_hs;
	int rx_keepalive;
	int rx_http10;
	int rx_head_only;
	int rx_in_handler;  /* the handler has not returned yet */
	int rx_free_later;  /* replied inside the handler: freed when it returns */
	size_t rx_charged;  /* bytes of the body budget this request holds */
	int rx_streaming;   /* http_stream_begin() sent the head */
	struct rx_alloc *rx_allocs;
	uint64_t rx_t0;     /* uv_hrtime() when the handler was called (metrics) */
} reqx;

struct rx_alloc {
	struct rx_alloc *next;
	max_align_t align[];
};

struct http_conn {
	http_server *c_srv;
	http_conn *c_next, *c_prev;
	const http__tp *c_tp;
	uv_tcp_t c_tcp;
	uv_timer_t c_timer;
	uv_shutdown_t c_shut;
	int c_handles; /* uv handles still to close */
	enum conn_state c_state;
	http_parser c_parser;
	reqx *c_rx; /* being parsed, or handed to the handler */
	int c_headers_done;
	size_t c_head_count; /* head bytes fed to the parser */
	int c_err_status;    /* set by a parser callback to refuse */
	/* strict head check (head_scan): line number, at a line's start, in a
	 * header name, head over; the last byte seen (across requests) */
	int c_sc_line, c_sc_bol, c_sc_name, c_sc_done;
	char c_sc_prev;
	const char *c_err_msg;
	int c_msg_done;
	int c_keepalive; /* of the reply being written */
	int c_eof;	 /* the peer will send nothing more */
	int c_reading;	 /* uv_read_start in effect */
	int c_in_drain;	 /* conn_drain() is on the stack */
	buf c_in;	 /* input not yet parsed */
	size_t c_in_off;
	size_t c_wq_last; /* write queue size at the last stall check */
	size_t c_lingered;
	int c_timer_for; /* state the timer was armed for, or -1 */
	int c_nreq;	 /* requests answered on this connection */
	char c_peer[64];
	int c_is_tls;
	tls_session *c_tls; /* TLS transport only */
	buf c_mout; /* memory transport: the answers */
	char c_rbuf[HTTP__RBUF];
};

struct http_server {
	uv_loop_t *srv_loop;
	uv_tcp_t srv_tcp;
	int srv_listening;
	int srv_port;
	http_handler srv_handler;
	void *srv_ctx;
	size_t srv_max_body;
	http_body_limit srv_body_limit; /* per-request cap, or NULL */
	void *srv_body_limit_ctx;
	http_pre_body srv_pre_body; /* the gate before the body, or NULL */
	void *srv_pre_body_ctx;
	int srv_per_addr;	    /* connection caps */
	int srv_max_conns;
	unsigned srv_req_ms;
	unsigned srv_idle_ms;
	tls_config *srv_tls;
	http_conn *srv_conns;
	int srv_nconns;
	int srv_closing;
	void (*srv_close_cb)(void *arg);
	void *srv_close_arg;
};

/*
 * Transports.  tp_send takes ownership of data (malloc'd); a final send ends
 * the reply and calls conn_written() when the peer has it.  tp_input gets
 * bytes from the socket and passes plaintext to conn_input().
 */
struct http__tp {
	void (*tp_input)(http_conn *c, const char *p, size_t n);
	int (*tp_send)(http_conn *c, char *data, size_t n, int final);
};

static void conn_input(http_conn *c, const char *p, size_t n);
static void conn_drain(http_conn *c);
static void conn_written(http_conn *c, int status);
static void conn_close(http_conn *c);
static void conn_end(http_conn *c);
static void conn_update(http_conn *c);
static void conn_fail(http_conn *c, int status, const char *msg);
static void req_free(reqx *rx);
static int tls_flush_close(http_conn *c);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

/* The body budget, shared by every server of the process. */
static size_t body_budget = HTTP_DEFAULT_BODY_BUDGET;
static size_t body_inflight;

void http_set_body_budget(size_t bytes) { __atomic_store_n(&body_budget, bytes, __ATOMIC_RELAXED); }

size_t http_body_inflight(void) { return __atomic_load_n(&body_inflight, __ATOMIC_RELAXED); }

/* Take n bytes of the budget for rx: 0, or -1 (nothing taken) when the
 * bodies in memory would pass it. */
static int budget_take(reqx *rx, size_t n)
{
	size_t cur = __atomic_load_n(&body_inflight, __ATOMIC_RELAXED);
	size_t lim = __atomic_load_n(&body_budget, __ATOMIC_RELAXED);

	do {
		if (n > lim || cur > lim - n)
			return -1;
	} while (!__atomic_compare_exchange_n(&body_inflight, &cur, cur + n, 0,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	rx->rx_charged += n;
	return 0;
}

static void budget_give(reqx *rx)
{
	__atomic_sub_fetch(&body_inflight, rx->rx_charged, __ATOMIC_RELAXED);
	rx->rx_charged = 0;
}

/* ---- request parsing (no sockets below this line until "transports") ---- */

static http_method map_method(unsigned m)
{
	switch (m) {
	case HTTP_GET:
		return HTTP_M_GET;
	case HTTP_HEAD:
		return HTTP_M_HEAD;
	case HTTP_POST:
		return HTTP_M_POST;
	case HTTP_PUT:
		return HTTP_M_PUT;
	case HTTP_PATCH:
		return HTTP_M_PATCH;
	case HTTP_DELETE:
		return HTTP_M_DELETE;
	case HTTP_OPTIONS:
		return HTTP_M_OPTIONS;
	default:
		return HTTP_M_OTHER;
	}
}

static int refuse(http_conn *c, int status, const char *msg)
{
	if (c->c_err_status == 0) {
		c->c_err_status = status;
		c->c_err_msg = msg;
	}
	return -1;
}

static int on_message_begin(http_parser *p)
{
	http_conn *c = p->data;
	http_server *srv = c->c_srv;
	reqx *rx;

	rx = calloc(1, sizeof *rx);
	if (rx == NULL)
		return refuse(c, 503, "out of memory");
	/* url + headers with separators, then the decoded path and the query */
	buf_init(&rx->rx_head, 3 * HTTP_MAX_HEAD + 64);
	buf_init(&rx->rx_pub.body, srv->srv_max_body);
	buf_init(&rx->rx_pub.resp_headers, HTTP__RESP_HEADERS_MAX);
	rx->rx_hs = H_URL;
	rx->rx_pub.srv = srv;
	rx->rx_pub.is_tls = c->c_is_tls;
	snprintf(rx->rx_pub.peer, sizeof rx->rx_pub.peer, "%s", c->c_peer);
	c->c_rx = rx;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	http_conn *c = p->data;

	if (buf_append(&c->c_rx->rx_head, at, len) != 0)
		return refuse(c, 431, "request head too large");
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	http_conn *c = p->data;
	reqx *rx = c->c_rx;
	buf *h = &rx->rx_head;
	size_t i;

	if (c->c_headers_done)
		return 0; /* chunked trailers: dropped, the head is final */
	if (rx->rx_hs != H_FIELD) {
		if (buf_putc(h, '\0') != 0) /* ends the url or the last value */
			return refuse(c, 431, "request head too large");
		if (rx->rx_nh == HTTP_MAX_HEADERS)
			return refuse(c, 431, "too many request headers");
		rx->rx_hoff[rx->rx_nh][0] = h->len;
		rx->rx_hoff[rx->rx_nh][1] = 0;
		rx->rx_nh++;
		rx->rx_hs = H_FIELD;
	}
	if (buf_grow(h, len) != 0)
		return refuse(c, 431, "request head too large");
	for (i = 0; i < len; i++) {
		char ch = at[i];
		h->data[h->len++] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
	}
	h->data[h->len] = '\0';
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	http_conn *c = p->data;
	reqx *rx = c->c_rx;

	if (c->c_headers_done)
		return 0;
	if (rx->rx_hs == H_URL)
		return refuse(c, 400, "header value without a name");
	if (rx->rx_hs == H_FIELD) {
		if (buf_putc(&rx->rx_head, '\0') != 0)
			return refuse(c, 431, "request head too large");
		rx->rx_hoff[rx->rx_nh - 1][1] = rx->rx_head.len;
		rx->rx_hs = H_VALUE;
	}
	if (buf_append(&rx->rx_head, at, len) != 0)
		return refuse(c, 431, "request head too large");
	return 0;
}

static void trim_value(char *v)
{
	size_t n = strlen(v);

	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		v[--n] = '\0';
}

/* Turns the offsets into the public pointers; the head buffer is final. */
static int head_finish(http_conn *c, reqx *rx)
{
	http_req *req = &rx->rx_pub;
	buf *h = &rx->rx_head;
	const char *method = http_method_str((enum http_method)c->c_parser.method);
	size_t moff, poff, qoff = 0, qlen = 0, plen, tlen;
	char *q;
	int i;

	if (rx->rx_hs == H_FIELD)
		return refuse(c, 400, "header without a value");
	if (buf_putc(h, '\0') != 0)
		return refuse(c, 431, "request head too large");
	tlen = strlen(h->data);
	if (tlen == 0 || h->data[0] != '/')
		return refuse(c, 400, "request target must be an absolute path");
	if (memchr(h->data, '#', tlen) != NULL)
		return refuse(c, 400, "request target must not carry a fragment");
	q = memchr(h->data, '?', tlen);
	plen = q ? (size_t)(q - h->data) : tlen;
	if (q) {
		qoff = (size_t)(q - h->data) + 1;
		qlen = tlen - qoff;
	}
	/* one reservation for everything appended, so h->data stops moving */
	if (buf_grow(h, strlen(method) + 1 + plen + 1 + qlen + 1) != 0)
		return refuse(c, 431, "request head too large");
	moff = h->len;
	buf_puts(h, method);
	buf_putc(h, '\0');
	poff = h->len;
	if (http_pct_decode(h->data, plen, h->data + poff, plen + 1, 0) != 0 ||
	    strlen(h->data + poff) == 0)
		return refuse(c, 400, "bad percent-encoding in the request path");
	h->len += strlen(h->data + poff) + 1;
	if (q) {
		size_t off = h->len;
		buf_append(h, h->data + qoff, qlen);
		buf_putc(h, '\0');
		req->query = h->data + off;
	}
	req->target = h->data;
	req->method_str = h->data + moff;
	req->path = h->data + poff;
	req->method = map_method(c->c_parser.method);
	for (i = 0; i < rx->rx_nh; i++) {
		req->headers[i].name = h->data + rx->rx_hoff[i][0];
		req->headers[i].value = h->data + rx->rx_hoff[i][1];
		trim_value(req->headers[i].value);
	}
	req->nheaders = rx->rx_nh;
	rx->rx_http10 = c->c_parser.http_major == 1 && c->c_parser.http_minor == 0;
	rx->rx_head_only = req->method == HTTP_M_HEAD;
	return 0;
}

static void send_continue(http_conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	char *p = malloc(sizeof cont - 1);

	if (p == NULL)
		return; /* the client sends the body after its own timeout anyway */
	memcpy(p, cont, sizeof cont - 1);
	c->c_tp->tp_send(c, p, sizeof cont - 1, 0);
}

static int on_headers_complete(http_parser *p)
{
	http_conn *c = p->data;
	reqx *rx = c->c_rx;
	http_req *req = &rx->rx_pub;
	int ncl = 0, nte = 0, i;
	const char *te = NULL, *expect = NULL;

	c->c_headers_done = 1;
	if (head_finish(c, rx) != 0)
		return -1;
	if (p->http_major != 1)
		return refuse(c, 400, "only HTTP/1.x is served");
	for (i = 0; i < req->nheaders; i++) {
		const char *n = req->headers[i].name;
		if (strcmp(n, "content-length") == 0)
			ncl++;
		else if (strcmp(n, "transfer-encoding") == 0) {
			nte++;
			te = req->headers[i].value;
		} else if (strcmp(n, "expect") == 0)
			expect = req->headers[i].value;
	}
	/* request smuggling: one framing, stated once */
	if (ncl && nte)
		return refuse(c, 400, "both Content-Length and Transfer-Encoding");
	if (ncl > 1)
		return refuse(c, 400, "duplicate Content-Length");
	if (nte > 1 || (nte && strcasecmp(te, "chunked") != 0))
		return refuse(c, 400, "unsupported Transfer-Encoding");
	if (p->method == HTTP_CONNECT)
		return refuse(c, 400, "CONNECT is not served");
	/* The head is known: a route may take a larger (or smaller) body. */
	if (c->c_srv->srv_body_limit) {
		size_t lim = c->c_srv->srv_body_limit(req, c->c_srv->srv_body_limit_ctx);
		if (lim > 0)
			req->body.max = lim;
	}
	if (ncl && p->content_length > req->body.max)
		return refuse(c, 413, "request body too large");
	/* Who may send this body is known before any of it is kept. */
	if (c->c_srv->srv_pre_body) {
		const char *why = "refused";
		int st = c->c_srv->srv_pre_body(req, c->c_srv->srv_pre_body_ctx, &why);
		if (st != 0)
			return refuse(c, st, why);
		if (ncl && p->content_length > req->body.max)
			return refuse(c, 413, "request body too large");
	}
	if (ncl && p->content_length > 0 && budget_take(rx, (size_t)p->content_length) != 0)
		return refuse(c, 503, "the server is busy; try again shortly");
	if (expect && strcasecmp(expect, "100-continue") == 0 && !rx->rx_http10 &&
	    (nte || (ncl && p->content_length > 0)))
		send_continue(c);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	http_conn *c = p->data;
	buf *b = &c->c_rx->rx_pub.body;

	if (len > b->max || b->len > b->max - len)
		return refuse(c, 413, "request body too large");
	/* chunked: the budget is taken as the body comes */
	if (b->len + len > c->c_rx->rx_charged &&
	    budget_take(c->c_rx, b->len + len - c->c_rx->rx_charged) != 0)
		return refuse(c, 503, "the server is busy; try again shortly");
	if (buf_append(b, at, len) != 0)
		return refuse(c, 503, "out of memory");
	return 0;
}

static int on_message_complete(http_parser *p)
{
	http_conn *c = p->data;

	c->c_msg_done = 1;
	c->c_rx->rx_keepalive = http_should_keep_alive(p) && !p->upgrade;
	/* one request at a time: the rest waits in c_in until the reply */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/*
 * Strict HTTP/1.1 heads: CRLF only, no folded lines (obs-fold), nothing
 * between a header name and its colon.  http-parser lets all three through,
 * and a proxy in front may read such a head otherwise than we do.  Runs over
 * the head bytes before the parser sees them; stops at the head's blank line.
 */
static int head_scan(http_conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !c->c_sc_done; i++) {
		char ch = p[i];
		if (ch == '\n') {
			if (c->c_sc_prev != '\r')
				return refuse(c, 400, "bare LF in the request head (CRLF only)");
			if (!c->c_sc_bol)
				c->c_sc_line++;
			else if (c->c_sc_line > 0)
				c->c_sc_done = 1; /* the blank line: the head is over */
			c->c_sc_bol = c->c_sc_name = 1;
		} else if (ch != '\r') {
			if (c->c_sc_bol && c->c_sc_line > 0 && (ch == ' ' || ch == '\t'))
				return refuse(c, 400, "folded header line (obs-fold)");
			if (c->c_sc_line > 0 && c->c_sc_name) {
				if (ch == ':')
					c->c_sc_name = 0;
				else if (ch == ' ' || ch == '\t')
					return refuse(c, 400, "whitespace before a header's colon");
			}
			c->c_sc_bol = 0;
		}
		c->c_sc_prev = ch;
	}
	return 0;
}

static void conn_begin_request(http_conn *c)
{
	http_parser_init(&c->c_parser, HTTP_REQUEST);
	c->c_parser.data = c;
	c->c_headers_done = 0;
	c->c_head_count = 0;
	c->c_msg_done = 0;
	c->c_err_status = 0;
	c->c_err_msg = NULL;
	c->c_sc_line = c->c_sc_name = c->c_sc_done = 0;
	c->c_sc_bol = 1;
	c->c_state = C_READING;
}

static void conn_dispatch(http_conn *c)
{
	reqx *rx = c->c_rx;
	http_server *srv = c->c_srv;

	c->c_state = C_HANDLING;
	rx->rx_pub.conn = c;
	conn_update(c);
	/* A reply made before the handler returns (a refused privilege check,
	 * say) leaves the request readable until then: the handler may still
	 * look at its parameters, and only the reply itself is final. */
	rx->rx_in_handler = 1;
	rx->rx_t0 = uv_hrtime();
	srv->srv_handler(&rx->rx_pub, srv->srv_ctx);
	rx->rx_in_handler = 0;
	if (rx->rx_free_later)
		req_free(rx);
}

/*
 * The step function: parse what is buffered while the connection may take a
 * request.  The head is fed in slices that never pass HTTP_MAX_HEAD, so the
 * limit is exact whatever the read sizes.
 */
static void conn_drain(http_conn *c)
{
	size_t avail, feed, n;
	enum http_errno err;

	if (c->c_in_drain)
		return;
	c->c_in_drain = 1;
	while (c->c_state == C_IDLE || c->c_state == C_READING) {
		avail = c->c_in.len - c->c_in_off;
		if (avail == 0) {
			if (c->c_eof)
				conn_close(c); /* nothing more can come */
			break;
		}
		if (c->c_state == C_IDLE)
			conn_begin_request(c);
		feed = avail;
		if (!c->c_headers_done && feed > HTTP_MAX_HEAD - c->c_head_count)
			feed = HTTP_MAX_HEAD - c->c_head_count;
		if (!c->c_headers_done &&
		    head_scan(c, c->c_in.data + c->c_in_off, feed) != 0) {
			conn_fail(c, c->c_err_status, c->c_err_msg);
			break;
		}
		n = http_parser_execute(&c->c_parser, &parser_settings,
					c->c_in.data + c->c_in_off, feed);
		c->c_in_off += n;
		if (!c->c_headers_done)
			c->c_head_count += n;
		err = HTTP_PARSER_ERRNO(&c->c_parser);
		if (c->c_err_status) {
			conn_fail(c, c->c_err_status, c->c_err_msg);
			break;
		}
		if (err == HPE_PAUSED && c->c_msg_done) {
			conn_dispatch(c);
			continue;
		}
		if (err == HPE_HEADER_OVERFLOW) {
			conn_fail(c, 431, "request head too large");
			break;
		}
		if (err == HPE_UNEXPECTED_CONTENT_LENGTH) {
			/* http-parser's own smuggling check, before ours can run */
			conn_fail(c, 400,
				  "duplicate Content-Length, or Content-Length "
				  "with Transfer-Encoding");
			break;
		}
		if (err != HPE_OK || n != feed) {
			conn_fail(c, 400, http_errno_description(err));
			break;
		}
		if (c->c_rx == NULL) {
			c->c_state = C_IDLE; /* only CRLFs between requests: still idle */
			continue;
		}
		if (!c->c_headers_done && c->c_head_count >= HTTP_MAX_HEAD) {
			conn_fail(c, 431, "request head too large");
			break;
		}
	}
	if (c->c_in_off == c->c_in.len) {
		buf_reset(&c->c_in);
		c->c_in_off = 0;
	} else if (c->c_in_off > 0) {
		memmove(c->c_in.data, c->c_in.data + c->c_in_off,
			c->c_in.len - c->c_in_off);
		c->c_in.len -= c->c_in_off;
		c->c_in.data[c->c_in.len] = '\0';
		c->c_in_off = 0;
	}
	c->c_in_drain = 0;
	conn_update(c);
}

/* Plaintext from the transport. */
static void conn_input(http_conn *c, const char *p, size_t n)
{
	if (c->c_state == C_CLOSING)
		return;
	if (c->c_state == C_LINGER) {
		c->c_lingered += n;
		if (c->c_lingered > HTTP__LINGER_MAX)
			conn_close(c);
		return;
	}
	if (c->c_state == C_WRITING && !c->c_keepalive)
		return; /* the connection ends after this reply */
	if (buf_append(&c->c_in, p, n) != 0) {
		/* reading stops at HTTP__IN_MAX, so only a TLS record can get here */
		log_warnx("closing connection from %s: input buffer full", c->c_peer);
		conn_close(c);
		return;
	}
	conn_drain(c);
}

static void conn_eof(http_conn *c)
{
	c->c_eof = 1;
	if (c->c_rx && c->c_rx->rx_streaming) { /* nobody reads the stream any more */
		conn_close(c);
		return;
	}
	switch (c->c_state) {
	case C_IDLE:
	case C_READING: /* an incomplete request can never complete */
	case C_LINGER:
		conn_close(c);
		break;
	default: /* a half-closed client may still read its answers */
		conn_update(c);
		break;
	}
}

/* ---- replies ---- */

static void fmt_date(char *out, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		out[0] = '\0';
}

/*
 * Status line and headers for one answer, then the body unless the answer has
 * none.  Returns a malloc'd block (caller frees) or NULL.
 */
static char *resp_build(int status, const char *ctype, const buf *extra, const void *body,
			size_t len, int keepalive, int http10, int head_only,
			size_t *outlen)
{
	buf h = BUF_INIT(HTTP__RESP_HEADERS_MAX + 4096);
	char date[64];
	char *out = NULL;
	int no_body = (status >= 100 && status < 200) || status == 204 || status == 304;
	int rc = 0;

	fmt_date(date, sizeof date);
	rc |= buf_printf(&h, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
	if (date[0])
		rc |= buf_printf(&h, "Date: %s\r\n", date);
	if (ctype && !no_body)
		rc |= buf_printf(&h, "Content-Type: %s\r\n", ctype);
	if (!no_body)
		rc |= buf_printf(&h, "Content-Length: %zu\r\n", len);
	rc |= buf_puts(&h, "X-Content-Type-Options: nosniff\r\n");
	if (ctype && strncasecmp(ctype, "text/html", 9) == 0)
		rc |= buf_puts(
		    &h, "Content-Security-Policy: default-src 'self'; img-src 'self' "
			"data:; style-src 'self' 'unsafe-inline'; frame-ancestors "
			"'none'\r\nReferrer-Policy: same-origin\r\n");
	if (!keepalive)
		rc |= buf_puts(&h, "Connection: close\r\n");
	else if (http10)
		rc |= buf_puts(&h, "Connection: keep-alive\r\n");
	if (extra && extra->len)
		rc |= buf_append(&h, extra->data, extra->len);
	rc |= buf_puts(&h, "\r\n");
	if (rc != 0)
		goto out;
	if (no_body || head_only)
		len = 0;
	if (len > SIZE_MAX - h.len || (out = malloc(h.len + len + 1)) == NULL)
		goto out;
	memcpy(out, h.data, h.len);
	if (len)
		memcpy(out + h.len, body, len);
	*outlen = h.len + len;
out:
	buf_release(&h);
	return out;
}

/* A refusal from the server itself: JSON, and the connection ends. */
static void conn_fail(http_conn *c, int status, const char *msg)
{
	cJSON *o = NULL;
	char *js = NULL, *out = NULL;
	size_t n = 0;
	int head_only = 0, http10 = 0;
	char retry[64];
	buf extra = BUF_INIT(0);

	if (c->c_state != C_IDLE && c->c_state != C_READING)
		return;
	log_info("refused request from %s: %d %s", c->c_peer, status, msg);
	if (c->c_rx) {
		head_only = c->c_headers_done && c->c_rx->rx_head_only;
		http10 = c->c_rx->rx_http10;
		req_free(c->c_rx);
		c->c_rx = NULL;
	}
	buf_reset(&c->c_in);
	c->c_in_off = 0;
	c->c_keepalive = 0;
	c->c_state = C_WRITING;
	o = cJSON_CreateObject();
	if (o && cJSON_AddStringToObject(o, "error", msg))
		js = cJSON_PrintUnformatted(o);
	if (status == 503) {
		snprintf(retry, sizeof retry, "Retry-After: %d\r\n", HTTP_RETRY_AFTER_S);
		extra.data = retry;
		extra.len = strlen(retry);
	}
	if (js)
		out = resp_build(status, "application/json", &extra, js, strlen(js), 0,
				 http10, head_only, &n);
	if (out == NULL) {
		conn_close(c);
		goto out;
	}
	c->c_tp->tp_send(c, out, n, 1);
	conn_update(c);
out:
	cJSON_Delete(o);
	free(js);
}

void http_reply(http_req *req, int status, const char *content_type, const void *body,
		size_t len)
{
	reqx *rx = container_of(req, reqx, rx_pub);
	http_conn *c = req->conn;
	char *out = NULL;
	size_t n = 0;

	if (req->replied) {
		log_warnx("second reply to %s %s ignored", req->method_str, req->path);
		return;
	}
	req->replied = 1;
	metrics_http_observe(req->path, status, (double)(uv_hrtime() - rx->rx_t0) / 1e9);
	if (c == NULL) /* the client went away while the handler worked */
		goto out;
	if (c->c_state != C_HANDLING || c->c_rx != rx) {
		log_warnx("reply to %s %s out of turn ignored", req->method_str,
			  req->path);
		goto out;
	}
	c->c_rx = NULL;
	c->c_nreq++;
	c->c_keepalive = rx->rx_keepalive && !c->c_srv->srv_closing;
	c->c_state = C_WRITING;
	out = resp_build(status, content_type, &req->resp_headers, body, len,
			 c->c_keepalive, rx->rx_http10, rx->rx_head_only, &n);
	if (out == NULL) {
		log_warnx("cannot build the %d reply to %s: out of memory", status,
			  req->peer);
		conn_close(c);
		goto out;
	}
	c->c_tp->tp_send(c, out, n, 1);
	conn_update(c);
out:
	if (rx->rx_in_handler)
		rx->rx_free_later = 1;
	else
		req_free(rx);
}

void http_reply_json(http_req *req, int status, cJSON *obj)
{
	char *s = obj ? cJSON_PrintUnformatted(obj) : NULL;

	cJSON_Delete(obj);
	if (s == NULL) {
		http_reply_error(req, 500, NULL, "cannot encode the reply");
		return;
	}
	http_reply(req, status, "application/json", s, strlen(s));
	free(s);
}

void http_reply_error(http_req *req, int status, const char *field, const char *fmt, ...)
{
	static const char fallback[] = "{\"error\":\"out of memory\"}";
	char msg[512];
	cJSON *o, *e, *x = NULL;
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The one error shape (route.h): an empty field is no field. */
	if (field && field[0] == '\0')
		field = NULL;
	o = cJSON_CreateObject();
	if (o && cJSON_AddStringToObject(o, "error", msg) &&
	    (field == NULL || cJSON_AddStringToObject(o, "field", field)) &&
	    (e = cJSON_AddArrayToObject(o, "errors")) != NULL &&
	    cJSON_AddItemToArray(e, x = cJSON_CreateObject()) && x &&
	    (field == NULL || cJSON_AddStringToObject(x, "field", field)) &&
	    cJSON_AddStringToObject(x, "error", msg))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s)
		http_reply(req, status, "application/json", s, strlen(s));
	else
		http_reply(req, status, "application/json", fallback,
			   sizeof fallback - 1);
	free(s);
}

static int header_token_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s == ':' || *s == 127)
			return 0;
	return 1;
}

int http_add_header(http_req *req, const char *name, const char *value)
{
	size_t old = req->resp_headers.len;

	if (!header_token_ok(name) || strpbrk(value, "\r\n") != NULL)
		return -1;
	if (buf_printf(&req->resp_headers, "%s: %s\r\n", name, value) != 0) {
		req->resp_headers.len = old;
		return -1;
	}
	return 0;
}

cJSON *http_req_json(http_req *req, int reply_on_error)
{
	cJSON *o = NULL;
	json_err je = {"", ""};

	if (req->body.len > 0)
		o = json_parse_text(req->body.data, req->body.len, &je);
	if (o && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
		je.field[0] = '\0';
	}
	if (o == NULL && reply_on_error) {
		if (je.field[0]) /* invalid text: 400 naming the field */
			http_reply_error(req, 400, je.field, "%s", je.msg);
		else
			http_reply_error(req, 400, NULL, "the request body must be a JSON object");
	}
	return o;
}

/* ---- streamed replies ---- */

int http_stream_begin(http_req *req, int status, const char *content_type)
{
	reqx *rx = container_of(req, reqx, rx_pub);
	http_conn *c = req->conn;
	buf h = BUF_INIT(HTTP__RESP_HEADERS_MAX + 4096);
	char date[64], *out = NULL;
	int rc = 0;

	if (req->replied || rx->rx_streaming || c == NULL || c->c_state != C_HANDLING ||
	    c->c_rx != rx || rx->rx_head_only || rx->rx_http10)
		return -1;
	fmt_date(date, sizeof date);
	rc |= buf_printf(&h, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
	if (date[0])
		rc |= buf_printf(&h, "Date: %s\r\n", date);
	rc |= buf_printf(&h, "Content-Type: %s\r\n", content_type);
	rc |= buf_puts(&h, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
			   "Connection: close\r\n");
	if (req->resp_headers.len)
		rc |= buf_append(&h, req->resp_headers.data, req->resp_headers.len);
	rc |= buf_puts(&h, "\r\n");
	if (rc != 0 || (out = malloc(h.len)) == NULL) {
		buf_release(&h);
		return -1;
	}
	memcpy(out, h.data, h.len);
	rx->rx_streaming = 1;
	c->c_keepalive = 0;
	rc = c->c_tp->tp_send(c, out, h.len, 0);
	buf_release(&h);
	return rc == 0 && req->conn ? 0 : -1;
}

int http_stream_write(http_req *req, const void *data, size_t len)
{
	reqx *rx = container_of(req, reqx, rx_pub);
	http_conn *c = req->conn;
	char *copy;

	if (c == NULL || !rx->rx_streaming || c->c_state != C_HANDLING)
		return -1;
	if (c->c_tls == NULL &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->c_tcp) > HTTP_STREAM_QUEUE_MAX) {
		log_info("closing stream to %s: it is not being read", c->c_peer);
		conn_close(c);
		return -1;
	}
	if ((copy = malloc(len ? len : 1)) == NULL)
		return -1;
	memcpy(copy, data, len);
	if (c->c_tp->tp_send(c, copy, len, 0) != 0)
		return -1;
	return req->conn ? 0 : -1;
}

void http_stream_end(http_req *req)
{
	reqx *rx = container_of(req, reqx, rx_pub);
	http_conn *c = req->conn;

	if (req->replied)
		return;
	req->replied = 1;
	if (c != NULL && c->c_rx == rx && c->c_state == C_HANDLING) {
		c->c_rx = NULL;
		c->c_nreq++;
		conn_end(c); /* what is queued is sent, then our side shuts */
	}
	if (rx->rx_in_handler)
		rx->rx_free_later = 1;
	else
		req_free(rx);
}

void *http__req_alloc(http_req *req, size_t n)
{
	reqx *rx = container_of(req, reqx, rx_pub);
	struct rx_alloc *a;

	if (n > SIZE_MAX - sizeof *a)
		return NULL;
	a = malloc(sizeof *a + n);
	if (a == NULL)
		return NULL;
	a->next = rx->rx_allocs;
	rx->rx_allocs = a;
	return a->align;
}

static void req_free(reqx *rx)
{
	struct rx_alloc *a, *next;

	if (rx == NULL)
		return;
	for (a = rx->rx_allocs; a; a = next) {
		next = a->next;
		free(a);
	}
	buf_release(&rx->rx_head);
	buf_release(&rx->rx_pub.body);
	buf_release(&rx->rx_pub.resp_headers);
	budget_give(rx);
	free(rx);
}

/* ---- connection lifecycle ---- */

/* After the final bytes of an answer reached the transport's peer. */
static void conn_written(http_conn *c, int status)
{
	if (c->c_state != C_WRITING)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (!c->c_keepalive) {
		conn_end(c);
		return;
	}
	c->c_state = C_IDLE;
	conn_drain(c); /* no-op when called from inside conn_drain: its loop goes on */
}

static void on_timer(uv_timer_t *t)
{
	http_conn *c = t->data;
	size_t q;

	switch (c->c_state) {
	case C_READING:
		log_info("request from %s timed out", c->c_peer);
		conn_fail(c, 408, "request timed out");
		break;
	case C_WRITING:
		q = uv_stream_get_write_queue_size((uv_stream_t *)&c->c_tcp);
		if (q < c->c_wq_last) {
			c->c_wq_last = q; /* slow but moving */
			break;
		}
		log_info("closing connection from %s: the reply is not being read",
			 c->c_peer);
		conn_close(c);
		break;
	case C_HANDLING:
		break;
	default:
		conn_close(c);
		break;
	}
}

/* Timer and read interest follow the state; call after every transition. */
static void conn_update(http_conn *c)
{
	http_server *srv = c->c_srv;
	unsigned ms = 0, repeat = 0;
	int want_read;

	if (c->c_handles == 0 || c->c_state == C_CLOSING)
		return;
	/* the request timer runs from a request's first byte, not from each read */
	if (c->c_timer_for != (int)c->c_state) {
		switch (c->c_state) {
		case C_IDLE:
			ms = srv->srv_idle_ms;
			if (c->c_nreq == 0 && srv->srv_req_ms < ms)
				ms = srv->srv_req_ms; /* a fresh connection must start
							 soon */
			break;
		case C_READING:
			ms = srv->srv_req_ms;
			break;
		case C_WRITING:
			ms = repeat = srv->srv_req_ms;
			c->c_wq_last = SIZE_MAX;
			break;
		case C_LINGER:
			ms = srv->srv_req_ms < HTTP__LINGER_MS ? srv->srv_req_ms
							       : HTTP__LINGER_MS;
			break;
		default: /* HANDLING: the handler takes the time it needs */
			break;
		}
		uv_timer_stop(&c->c_timer);
		if (ms)
			uv_timer_start(&c->c_timer, on_timer, ms, repeat);
		c->c_timer_for = (int)c->c_state;
	}
	want_read = !c->c_eof && !(c->c_state == C_WRITING && !c->c_keepalive) &&
		    c->c_in.len < HTTP__IN_MAX;
	if (want_read && !c->c_reading) {
		if (uv_read_start((uv_stream_t *)&c->c_tcp, on_alloc, on_read) != 0) {
			conn_close(c);
			return;
		}
		c->c_reading = 1;
	} else if (!want_read && c->c_reading) {
		uv_read_stop((uv_stream_t *)&c->c_tcp);
		c->c_reading = 0;
	}
}

static void conn_destroy(http_conn *c)
{
	tls_session_free(c->c_tls);
	buf_release(&c->c_in);
	buf_release(&c->c_mout);
	free(c);
}

static void server_maybe_closed(http_server *srv)
{
	void (*cb)(void *arg) = srv->srv_close_cb;

	if (!srv->srv_closing || srv->srv_listening || srv->srv_nconns > 0 || cb == NULL)
		return;
	srv->srv_close_cb = NULL;
	cb(srv->srv_close_arg);
}

static void on_conn_closed(uv_handle_t *h)
{
	http_conn *c = h->data;
	http_server *srv = c->c_srv;

	if (--c->c_handles > 0)
		return;
	if (c->c_prev)
		c->c_prev->c_next = c->c_next;
	else
		srv->srv_conns = c->c_next;
	if (c->c_next)
		c->c_next->c_prev = c->c_prev;
	srv->srv_nconns--;
	conn_destroy(c);
	server_maybe_closed(srv);
}

static void conn_close(http_conn *c)
{
	if (c->c_state == C_CLOSING)
		return;
	c->c_state = C_CLOSING;
	if (c->c_rx) {
		if (c->c_rx->rx_pub.conn)
			c->c_rx->rx_pub.conn =
			    NULL; /* the handler's reply call frees it */
		else
			req_free(c->c_rx);
		c->c_rx = NULL;
	}
	if (c->c_handles) {
		uv_close((uv_handle_t *)&c->c_tcp, on_conn_closed);
		uv_close((uv_handle_t *)&c->c_timer, on_conn_closed);
	}
}

static void on_shutdown(uv_shutdown_t *sh, int status)
{
	http_conn *c = sh->data;

	if (status < 0)
		conn_close(c);
}

/* The last answer is out and the connection ends: shut our side and read
 * what the peer still sends for a moment (lingering close), so a client that
 * is still uploading reads our answer instead of a reset. */
static void conn_end(http_conn *c)
{
	if (c->c_handles == 0 || c->c_eof) {
		conn_close(c);
		return;
	}
	c->c_state = C_LINGER;
	buf_reset(&c->c_in);
	c->c_in_off = 0;
	if (c->c_tls != NULL && tls_flush_close(c) != 0)
		return;
	c->c_shut.data = c;
	if (uv_shutdown(&c->c_shut, (uv_stream_t *)&c->c_tcp, on_shutdown) != 0) {
		conn_close(c);
		return;
	}
	conn_update(c);
}

/* ---- transports ---- */

struct wreq {
	uv_write_t w;
	http_conn *c;
	char *data;
	int final;
};

static void on_write(uv_write_t *w, int status)
{
	struct wreq *wr = container_of(w, struct wreq, w);
	http_conn *c = wr->c;
	int final = wr->final;

	free(wr->data);
	free(wr);
	if (c->c_state == C_CLOSING)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	if (final)
		conn_written(c, 0);
}

/* Ciphertext or plaintext onto the socket; takes data. */
static int stream_write(http_conn *c, char *data, size_t n, int final)
{
	struct wreq *wr = malloc(sizeof *wr);
	uv_buf_t b;
	int rc = -1;

	if (wr == NULL || n > UINT32_MAX)
		goto fail;
	wr->c = c;
	wr->data = data;
	wr->final = final;
	b = uv_buf_init(data, (unsigned)n);
	if (uv_write(&wr->w, (uv_stream_t *)&c->c_tcp, &b, 1, on_write) != 0)
		goto fail;
	return 0;
fail:
	free(wr);
	free(data);
	conn_close(c);
	return rc;
}

static void plain_input(http_conn *c, const char *p, size_t n) { conn_input(c, p, n); }

static const http__tp tp_plain = {plain_input, stream_write};

static int mem_send(http_conn *c, char *data, size_t n, int final)
{
	if (buf_append(&c->c_mout, data, n) != 0) {
		buf_reset(&c->c_mout);
		buf_append(&c->c_mout, data, n < c->c_mout.max ? n : c->c_mout.max);
	}
	free(data);
	if (final)
		conn_written(c, 0);
	return 0;
}

static const http__tp tp_mem = {plain_input, mem_send};

/* TLS: ciphertext in, plaintext to conn_input(); replies are encrypted and
 * written as they come, the final block carrying the reply's end. */
static void tls_plain(void *arg, const char *p, size_t n) { conn_input(arg, p, n); }

static int tls_flush(http_conn *c, int final)
{
	size_t n;
	char *out = tls_session_take_output(c->c_tls, &n);

	if (out == NULL) {
		if (final)
			conn_written(c, 0);
		return 0;
	}
	return stream_write(c, out, n, final);
}

static void tls_input(http_conn *c, const char *p, size_t n)
{
	int rc;

	if (c->c_state == C_LINGER) {
		conn_input(c, p, n); /* only counted: nothing to decrypt */
		return;
	}
	rc = tls_session_input(c->c_tls, p, n, tls_plain, c);

	if (c->c_state == C_CLOSING)
		return;
	if (rc < 0) {
		log_info("closing connection from %s: TLS error", c->c_peer);
		tls_flush(c, 0); /* a fatal alert, if any */
		conn_close(c);
		return;
	}
	if (tls_flush(c, 0) != 0)
		return;
	if (rc == 1 && c->c_state != C_CLOSING)
		conn_eof(c);
}

static int tls_send(http_conn *c, char *data, size_t n, int final)
{
	int rc = tls_session_write(c->c_tls, data, n);

	free(data);
	if (rc != 0) {
		conn_close(c);
		return -1;
	}
	return tls_flush(c, final);
}

static int tls_flush_close(http_conn *c)
{
	tls_session_close_notify(c->c_tls);
	return tls_flush(c, 0);
}

static const http__tp tp_tls = {tls_input, tls_send};

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	http_conn *c = h->data;

	b->base = c->c_rbuf;
	b->len = sizeof c->c_rbuf;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	http_conn *c = s->data;

	if (nread > 0)
		c->c_tp->tp_input(c, b->base, (size_t)nread);
	else if (nread == UV_EOF)
		conn_eof(c);
	else if (nread < 0)
		conn_close(c);
}

/* ---- server ---- */

static void conn_init(http_conn *c, http_server *srv, const http__tp *tp)
{
	c->c_srv = srv;
	c->c_tp = tp;
	c->c_state = C_IDLE;
	c->c_timer_for = -1;
	buf_init(&c->c_in, HTTP__IN_MAX + HTTP__RBUF);
	buf_init(&c->c_mout, HTTP__MEM_OUT_MAX);
}

static void peer_name(http_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;

	snprintf(c->c_peer, sizeof c->c_peer, "?");
	if (uv_tcp_getpeername(&c->c_tcp, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&ss, c->c_peer, sizeof c->c_peer);
	else if (ss.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&ss, c->c_peer, sizeof c->c_peer);
}

/*
 * Caps for the new connection c (already in the list, at its head): beyond
 * the per-address cap the oldest idle connection of c's address closes,
 * beyond the total the oldest idle one of anyone; c is refused only when
 * there is none.  0 admitted, -1 refused.
 */
static int conn_admit(http_server *srv, http_conn *c)
{
	http_conn *x, *old_mine = NULL, *old_any = NULL;
	int mine = 0, open = 0;
	static uint64_t logged_s;
	uint64_t now_s = uv_now(srv->srv_loop) / 1000;

	for (x = c->c_next; x; x = x->c_next) {
		int idle = x->c_state == C_IDLE;
		if (x->c_state == C_CLOSING)
			continue; /* counted until its handles close, but gone */
		open++;
		if (strcmp(x->c_peer, c->c_peer) == 0) {
			mine++;
			if (idle)
				old_mine = x; /* the list runs newest first */
		}
		if (idle)
			old_any = x;
	}
	if (mine >= srv->srv_per_addr || open >= srv->srv_max_conns) {
		x = mine >= srv->srv_per_addr ? old_mine : old_any;
		if (now_s != logged_s) { /* one line a second at most */
			logged_s = now_s;
			log_warnx("%s: %d connections open from %s, %d in all",
				  x ? "closing an idle connection" : "refusing a connection",
				  mine, c->c_peer, open);
		}
		if (x == NULL)
			return -1;
		conn_close(x);
	}
	return 0;
}

static void on_connection(uv_stream_t *ls, int status)
{
	http_server *srv = ls->data;
	http_conn *c;

	if (status < 0) {
		log_warnx("cannot accept a connection: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		log_warnx("cannot accept a connection: out of memory");
		return;
	}
	conn_init(c, srv, srv->srv_tls ? &tp_tls : &tp_plain);
	if (srv->srv_tls != NULL) {
		c->c_is_tls = 1;
		c->c_tls = tls_session_new(srv->srv_tls);
		if (c->c_tls == NULL) {
			log_warnx("cannot accept a connection: out of memory");
			free(c);
			return;
		}
	}
	uv_tcp_init(srv->srv_loop, &c->c_tcp);
	uv_timer_init(srv->srv_loop, &c->c_timer);
	c->c_tcp.data = c->c_timer.data = c;
	c->c_handles = 2;
	c->c_next = srv->srv_conns;
	if (srv->srv_conns)
		srv->srv_conns->c_prev = c;
	srv->srv_conns = c;
	srv->srv_nconns++;
	if (uv_accept(ls, (uv_stream_t *)&c->c_tcp) != 0) {
		conn_close(c);
		return;
	}
	peer_name(c);
	if (srv->srv_closing || conn_admit(srv, c) != 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->c_tcp, 1);
	conn_update(c);
}

http_server *http_server_new(uv_loop_t *loop, http_handler handler, void *ctx)
{
	http_server *srv = calloc(1, sizeof *srv);

	if (srv == NULL)
		return NULL;
	srv->srv_loop = loop;
	srv->srv_handler = handler;
	srv->srv_ctx = ctx;
	srv->srv_max_body = HTTP_DEFAULT_MAX_BODY;
	srv->srv_req_ms = HTTP_REQ_TIMEOUT_MS;
	srv->srv_idle_ms = HTTP_IDLE_TIMEOUT_MS;
	srv->srv_per_addr = HTTP_DEFAULT_CONNS_PER_ADDR;
	srv->srv_max_conns = HTTP_DEFAULT_CONNS_MAX;
	return srv;
}

void http_server_set_pre_body(http_server *srv, http_pre_body fn, void *ctx)
{
	srv->srv_pre_body = fn;
	srv->srv_pre_body_ctx = ctx;
}

void http_server_set_conn_caps(http_server *srv, int per_addr, int total)
{
	if (per_addr > 0)
		srv->srv_per_addr = per_addr;
	if (total > 0)
		srv->srv_max_conns = total;
}

void http_server_set_max_body(http_server *srv, size_t max_body)
{
	srv->srv_max_body = max_body;
}

void http_server_set_body_limit(http_server *srv, http_body_limit fn, void *ctx)
{
	srv->srv_body_limit = fn;
	srv->srv_body_limit_ctx = ctx;
}

void http_server_set_tls(http_server *srv, tls_config *tls) { srv->srv_tls = tls; }

void http_server_set_timeouts(http_server *srv, unsigned req_ms, unsigned idle_ms)
{
	if (req_ms)
		srv->srv_req_ms = req_ms;
	if (idle_ms)
		srv->srv_idle_ms = idle_ms;
}

int http_server_listen(http_server *srv, const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct sockaddr_storage ss;
	int len = sizeof ss, port, rc;
	size_t hl;

	if (colon == NULL || srv->srv_listening)
		return UV_EINVAL;
	port = atoi(colon + 1);
	hl = (size_t)(colon - hostport);
	if (hl >= 2 && hostport[0] == '[' && hostport[hl - 1] == ']') {
		hostport++;
		hl -= 2;
	}
	if (hl >= sizeof host || port < 0 || port > 65535)
		return UV_EINVAL;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	if (host[0] == '\0' || strcmp(host, "*") == 0)
		snprintf(host, sizeof host, "0.0.0.0");
	if (strchr(host, ':'))
		rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
	else
		rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
	if (rc != 0)
		return rc;
	rc = uv_tcp_init(srv->srv_loop, &srv->srv_tcp);
	if (rc != 0)
		return rc;
	srv->srv_tcp.data = srv;
	srv->srv_listening = 1; /* initialised: http_server_close closes it */
	rc = uv_tcp_bind(&srv->srv_tcp, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->srv_tcp, 128, on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(&srv->srv_tcp, (struct sockaddr *)&ss, &len);
	if (rc != 0)
		return rc;
	srv->srv_port =
	    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					   : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

int http_server_port(http_server *srv) { return srv->srv_port; }

static void on_listener_closed(uv_handle_t *h)
{
	http_server *srv = h->data;

	srv->srv_listening = 0;
	server_maybe_closed(srv);
}

void http_server_close(http_server *srv, void (*cb)(void *arg), void *arg)
{
	http_conn *c;

	if (srv->srv_closing)
		return;
	srv->srv_closing = 1;
	srv->srv_close_cb = cb;
	srv->srv_close_arg = arg;
	for (c = srv->srv_conns; c; c = c->c_next)
		conn_close(c); /* unlinked later, in the close callbacks */
	if (srv->srv_listening)
		uv_close((uv_handle_t *)&srv->srv_tcp, on_listener_closed);
	else
		server_maybe_closed(srv);
}

void http_server_free(http_server *srv) { free(srv); }

/* ---- memory connections (fuzzer, tests) ---- */

http_conn *http__conn_new_mem(http_server *srv)
{
	http_conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	conn_init(c, srv, &tp_mem);
	snprintf(c->c_peer, sizeof c->c_peer, "memory");
	return c;
}

int http__conn_feed(http_conn *c, const void *data, size_t len)
{
	const char *p = data;
	size_t n;

	if (len == 0 && c->c_state != C_CLOSING)
		conn_eof(c);
	while (len > 0 && c->c_state != C_CLOSING) {
		n = len < HTTP__RBUF ? len : HTTP__RBUF;
		c->c_tp->tp_input(c, p, n);
		p += n;
		len -= n;
	}
	return c->c_state == C_CLOSING ? -1 : 0;
}

const buf *http__conn_output(const http_conn *c) { return &c->c_mout; }

void http__conn_free(http_conn *c)
{
	if (c == NULL)
		return;
	conn_close(c);
	conn_destroy(c);
}
