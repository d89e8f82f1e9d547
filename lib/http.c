/*
 * http.c - the HTTP/1.1 server: one state machine per connection, request
 * parsing with http-parser and the reply path (see http.h for the contract;
 * the connections' lifecycle, transports and the listening socket are
 * http_conn.c's, the structures both share http_int.h's).  Bytes reach a connection through a small transport
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
 *   LINGER    after a final answer: write side shut, input discarded (within
 *             bounds of bytes and time) so the peer reads our answer instead
 *             of a reset
 *   CLOSING   handles closing; the memory goes in the last close callback
 *
 * A request handed to a handler belongs to nobody but the coming reply call:
 * when the connection dies first, req->conn becomes NULL and the reply only
 * frees the request.
 */
#include "lib/crypto.h"
#include "lib/http_int.h"
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

/*
 * The body budgets, shared by every server of the process: one for the
 * callers the pre-body gate knows, one for anonymous bodies (capped by
 * http_req_cap_body).  Two, because an anonymous request needs nothing but a
 * connection: 400 of them declaring 64 KiB each and sending nothing held the
 * one budget there was, and every signed push got 503 until they timed out.
 */
static size_t body_budget = HTTP_DEFAULT_BODY_BUDGET;
static size_t body_inflight;
static size_t anon_budget = HTTP_DEFAULT_ANON_BUDGET;
static size_t anon_per_addr = HTTP_DEFAULT_ANON_PER_ADDR;
static size_t anon_inflight;

void http_set_body_budget(size_t bytes) { __atomic_store_n(&body_budget, bytes, __ATOMIC_RELAXED); }

size_t http_body_inflight(void) { return __atomic_load_n(&body_inflight, __ATOMIC_RELAXED); }

void http_set_anon_budget(size_t bytes, size_t per_addr)
{
	if (bytes)
		__atomic_store_n(&anon_budget, bytes, __ATOMIC_RELAXED);
	if (per_addr)
		__atomic_store_n(&anon_per_addr, per_addr, __ATOMIC_RELAXED);
}

size_t http_anon_inflight(void) { return __atomic_load_n(&anon_inflight, __ATOMIC_RELAXED); }

/* Take n bytes of the pool (inflight, its limit) for rx: 0, or -1 (nothing
 * taken) when the bodies in memory would pass it. */
static int pool_take(size_t *inflight, const size_t *limit, reqx *rx, size_t n)
{
	size_t cur = __atomic_load_n(inflight, __ATOMIC_RELAXED);
	size_t lim = __atomic_load_n(limit, __ATOMIC_RELAXED);

	do {
		if (n > lim || cur > lim - n)
			return -1;
	} while (!__atomic_compare_exchange_n(inflight, &cur, cur + n, 0, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	rx->rx_charged += n;
	return 0;
}

/* What the anonymous requests of c's client group (an address; an IPv6
 * /64) hold on c's server
 * (c's own excluded).  A walk, as conn_admit's: it runs once per anonymous
 * request head, never per body byte.  A request whose client left while its
 * handler works is no longer on a connection and not counted: it goes soon. */
static size_t anon_held_by_peer(const http_conn *c)
{
	const http_conn *x;
	size_t n = 0;

	for (x = c->c_srv->srv_conns; x; x = x->c_next)
		if (x != c && x->c_state != C_CLOSING && x->c_rx && x->c_rx->rx_anon &&
		    strcmp(x->c_group, c->c_group) == 0)
			n += x->c_rx->rx_charged;
	return n;
}

/* Take n more bytes for c's request, from its pool: 0, or -1 (nothing
 * taken; the request is to be refused 503). */
static int budget_take(http_conn *c, size_t n)
{
	reqx *rx = c->c_rx;

	if (!rx->rx_anon)
		return pool_take(&body_inflight, &body_budget, rx, n);
	if (anon_held_by_peer(c) + rx->rx_charged + n >
	    __atomic_load_n(&anon_per_addr, __ATOMIC_RELAXED))
		return -1;
	return pool_take(&anon_inflight, &anon_budget, rx, n);
}

static void budget_give(reqx *rx)
{
	__atomic_sub_fetch(rx->rx_anon ? &anon_inflight : &body_inflight, rx->rx_charged,
			   __ATOMIC_RELAXED);
	rx->rx_charged = 0;
}

int http_req_cap_body(http_req *req, size_t max)
{
	reqx *rx = container_of(req, reqx, rx_pub);
	const char *cl = http_req_header(req, "content-length");

	if (cl != NULL && strtoull(cl, NULL, 10) > max)
		return 1;
	if (req->body.max > max)
		req->body.max = max;
	/* Called before the body's charge is taken (on_headers_complete), so
	 * nothing moves from one pool to the other. */
	if (rx->rx_charged == 0)
		rx->rx_anon = 1;
	return 0;
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

/*
 * A body over its route's cap (or the server's max_body), refused from its
 * Content-Length before any of it is read.  A client that sends the body
 * before reading the answer (a browser's fetch, Python's http.client, curl)
 * gets the 413 only if the connection lingers until that body is in, so it
 * does, whatever the body's size: what comes is discarded (never kept), up
 * to the declared length with some slack (a TLS record's overhead), at most
 * HTTP__LINGER_BODY_MAX, and within the lingering's time bounds
 * (http__conn_discard).  Cutting a body over max_body off after 1 MiB
 * gave such a client a reset or an EOF instead of the answer.
 */
static int refuse_large(http_conn *c, uint64_t len)
{
	if (len > HTTP__LINGER_BODY_MAX)
		len = HTTP__LINGER_BODY_MAX;
	c->c_linger_max = (size_t)len + HTTP__LINGER_MAX;
	return refuse(c, 413, "request body too large");
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
	snprintf(rx->rx_pub.peer_group, sizeof rx->rx_pub.peer_group, "%s", c->c_group);
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
	int ncl = 0, nte = 0, nhost = 0, i;
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
		else if (strcmp(n, "host") == 0)
			nhost++;
	}
	/* One Host (RFC 9112 3.2): the node's allow-list reads the first, and
	 * whatever is in front of us may read another. */
	if (nhost > 1)
		return refuse(c, 400, "more than one Host header");
	/* request smuggling: one framing, stated once */
	if (ncl && nte)
		return refuse(c, 400, "both Content-Length and Transfer-Encoding");
	if (ncl > 1)
		return refuse(c, 400, "duplicate Content-Length");
	if (nte > 1 || (nte && strcasecmp(te, "chunked") != 0))
		return refuse(c, 400, "unsupported Transfer-Encoding");
	if (p->method == HTTP_CONNECT)
		return refuse(c, 400, "CONNECT is not served");
	c->c_chunked = nte > 0;
	/* The head is known: a route may take a larger (or smaller) body. */
	if (c->c_srv->srv_body_limit) {
		size_t lim = c->c_srv->srv_body_limit(req, c->c_srv->srv_body_limit_ctx);
		if (lim > 0)
			req->body.max = lim;
	}
	if (ncl && p->content_length > req->body.max)
		return refuse_large(c, p->content_length);
	/* Who may send this body is known before any of it is kept. */
	if (c->c_srv->srv_pre_body) {
		const char *why = "refused";
		int st = c->c_srv->srv_pre_body(req, c->c_srv->srv_pre_body_ctx, &why);
		if (st != 0)
			return refuse(c, st, why);
		if (ncl && p->content_length > req->body.max)
			return refuse_large(c, p->content_length);
	}
	if (ncl && p->content_length > 0 && budget_take(c, (size_t)p->content_length) != 0)
		return refuse(c, 503, "the server is busy; try again shortly");
	/* An anonymous chunked body takes its whole (small) cap at once: its
	 * address's share is then counted once, not at every chunk. */
	if (rx->rx_anon && !ncl && nte && budget_take(c, req->body.max) != 0)
		return refuse(c, 503, "the server is busy; try again shortly");
	/* the body's progress is timed from here (http_conn.c, body_overdue) */
	c->c_body_bytes = 0;
	if (c->c_handles > 0)
		c->c_body_t0 = c->c_body_last = uv_now(c->c_srv->srv_loop);
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
	    budget_take(c, b->len + len - c->c_rx->rx_charged) != 0)
		return refuse(c, 503, "the server is busy; try again shortly");
	c->c_body_bytes += len;
	if (c->c_handles > 0)
		c->c_body_last = uv_now(c->c_srv->srv_loop);
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
		if (c->c_sc_prev == '\r' && ch != '\n')
			return refuse(c, 400, "bare CR in the request head (CRLF only)");
		if (ch == '\n') {
			if (c->c_sc_prev != '\r')
				return refuse(c, 400, "bare LF in the request head (CRLF only)");
			if (!c->c_sc_bol)
				c->c_sc_line++;
			else if (c->c_sc_line > 0) {
				c->c_sc_done = 1; /* the blank line: the head is over */
				c->c_sc_end = i + 1;
			}
			c->c_sc_bol = c->c_sc_name = 1;
		} else if (ch != '\r') {
			if (((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f)
				return refuse(c, 400, "control byte in the request head");
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

/*
 * Strict chunked framing (RFC 9112 7.1) over the body bytes the parser has
 * taken.  Debian's http-parser is built without HTTP_PARSER_STRICT: it takes
 * any two bytes after a chunk's data as its CRLF, any byte after a CR as the
 * LF that ends a size line or the body, and a bare LF inside a chunk
 * extension or a trailer.  A proxy in front may frame such a body otherwise
 * than we do (request smuggling), so each is refused here; what this scan
 * accepts, the parser frames exactly as it does.
 */
enum {
	CK_SIZE0,   /* a size line's first hex digit */
	CK_SIZE,    /* more hex digits, an extension, or its CR */
	/* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ) */
	CK_SIZE_WS, /* BWS after the size: only a ";" may follow */
	CK_EXT_NAME0,
	CK_EXT_NAME,
	CK_EXT_NAME_WS,
	CK_EXT_VAL0,
	CK_EXT_VAL,
	CK_EXT_QS, /* in a quoted value */
	CK_EXT_QP, /* after its backslash */
	CK_EXT_END, /* after a value: ";", or the CR */
	CK_SIZE_LF, /* the LF that ends a size line */
	CK_DATA,    /* c_ck_left bytes of data */
	CK_DATA_CR, /* the CRLF after them */
	CK_DATA_LF,
	CK_TR_BOL, /* a trailer line's first byte, or the body's last CR */
	CK_TR,	   /* in a trailer line */
	CK_TR_LF,
	CK_END_LF, /* the body's last LF */
	CK_DONE
};

/* RFC 9110 5.6.2 tchar. */
static int is_tchar(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* The state after ch in a chunk extension (state st, a CK_SIZE_WS..
 * CK_EXT_END), CK_SIZE_LF at its CR, or -1 when ch breaks its grammar
 * ("5 5", which a proxy that drops the space reads as 0x55, "5;", "5;=x",
 * a control byte). */
static int ext_step(int st, unsigned char ch)
{
	int ws = ch == ' ' || ch == '\t';

	switch (st) {
	case CK_SIZE_WS:
		return ws ? st : ch == ';' ? CK_EXT_NAME0 : -1;
	case CK_EXT_NAME0:
		return ws ? st : is_tchar(ch) ? CK_EXT_NAME : -1;
	case CK_EXT_NAME:
	case CK_EXT_NAME_WS:
		if (st == CK_EXT_NAME && is_tchar(ch))
			return st;
		return ws ? CK_EXT_NAME_WS : ch == '=' ? CK_EXT_VAL0 : ch == ';' ? CK_EXT_NAME0
			: ch == '\r' ? CK_SIZE_LF : -1;
	case CK_EXT_VAL0:
		return ws ? st : ch == '"' ? CK_EXT_QS : is_tchar(ch) ? CK_EXT_VAL : -1;
	case CK_EXT_VAL:
		if (is_tchar(ch))
			return st;
		/* fall through */
	case CK_EXT_END:
		return ws ? CK_EXT_END : ch == ';' ? CK_EXT_NAME0 : ch == '\r' ? CK_SIZE_LF : -1;
	case CK_EXT_QS:
		if (ch == '"')
			return CK_EXT_END;
		if (ch == '\\')
			return CK_EXT_QP;
		/* fall through - qdtext, or the quoted-pair's byte */
	case CK_EXT_QP:
		return ws || (ch >= 0x21 && ch != 0x7f) ? CK_EXT_QS : -1;
	}
	return -1;
}

static int chunk_scan(http_conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		int h;

		switch (c->c_ck_state) {
		case CK_SIZE0:
		case CK_SIZE:
			if ((h = crypto_hexval(ch)) >= 0) {
				if (c->c_ck_left > (UINT64_MAX >> 4))
					return refuse(c, 400, "chunk size too large");
				c->c_ck_left = c->c_ck_left << 4 | (uint64_t)h;
				c->c_ck_state = CK_SIZE;
			} else if (c->c_ck_state == CK_SIZE && ch == '\r')
				c->c_ck_state = CK_SIZE_LF;
			else if (c->c_ck_state == CK_SIZE && (ch == ';' || ch == ' ' || ch == '\t'))
				c->c_ck_state = ch == ';' ? CK_EXT_NAME0 : CK_SIZE_WS;
			else
				return refuse(c, 400, "malformed chunk size");
			break;
		case CK_SIZE_WS:
		case CK_EXT_NAME0:
		case CK_EXT_NAME:
		case CK_EXT_NAME_WS:
		case CK_EXT_VAL0:
		case CK_EXT_VAL:
		case CK_EXT_QS:
		case CK_EXT_QP:
		case CK_EXT_END:
			if ((h = ext_step(c->c_ck_state, ch)) < 0)
				return refuse(c, 400, "malformed chunk extension");
			c->c_ck_state = h;
			break;
		case CK_SIZE_LF:
			if (ch != '\n')
				return refuse(c, 400, "chunk size line not ended by CRLF");
			c->c_ck_state = c->c_ck_left ? CK_DATA : CK_TR_BOL;
			break;
		case CK_DATA: {
			size_t take = n - i;
			if (take > c->c_ck_left)
				take = (size_t)c->c_ck_left;
			c->c_ck_left -= take;
			i += take - 1;
			if (c->c_ck_left == 0)
				c->c_ck_state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
		case CK_DATA_LF:
			if (ch != (c->c_ck_state == CK_DATA_CR ? '\r' : '\n'))
				return refuse(c, 400, "chunk data not followed by CRLF");
			c->c_ck_state = c->c_ck_state == CK_DATA_CR ? CK_DATA_LF : CK_SIZE0;
			break;
		case CK_TR_BOL:
			if (ch == '\r') {
				c->c_ck_state = CK_END_LF;
				break;
			}
			if (ch == ' ' || ch == '\t')
				return refuse(c, 400, "folded trailer line (obs-fold)");
			c->c_ck_state = CK_TR;
			c->c_ck_name = 1;
			/* fall through */
		case CK_TR:
			if (ch == '\r')
				c->c_ck_state = CK_TR_LF;
			else if (ch == '\n')
				return refuse(c, 400, "bare LF in a trailer (CRLF only)");
			else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
				return refuse(c, 400, "control byte in a trailer");
			else if (c->c_ck_name && ch == ':')
				c->c_ck_name = 0;
			else if (c->c_ck_name && (ch == ' ' || ch == '\t'))
				return refuse(c, 400, "whitespace before a trailer's colon");
			break;
		case CK_TR_LF:
		case CK_END_LF:
			if (ch != '\n')
				return refuse(c, 400, "bare CR in a chunked body's trailers");
			c->c_ck_state = c->c_ck_state == CK_TR_LF ? CK_TR_BOL : CK_DONE;
			break;
		default: /* the parser ends the message at CK_DONE */
			return refuse(c, 400, "bytes after the end of a chunked body");
		}
	}
	return 0;
}

static void conn_begin_request(http_conn *c)
{
	c->c_owner[0] = '\0'; /* the last reply is written */
	http_parser_init(&c->c_parser, HTTP_REQUEST);
	c->c_parser.data = c;
	c->c_headers_done = 0;
	c->c_head_count = 0;
	c->c_msg_done = 0;
	c->c_err_status = 0;
	c->c_err_msg = NULL;
	c->c_sc_line = c->c_sc_name = c->c_sc_done = 0;
	c->c_sc_bol = 1;
	c->c_sc_end = 0;
	c->c_chunked = c->c_ck_name = 0;
	c->c_ck_state = CK_SIZE0;
	c->c_ck_left = 0;
	c->c_state = C_READING;
}

static void conn_dispatch(http_conn *c)
{
	reqx *rx = c->c_rx;
	http_server *srv = c->c_srv;

	c->c_state = C_HANDLING;
	rx->rx_pub.conn = c;
	http__conn_update(c);
	/* A reply made before the handler returns (a refused privilege check,
	 * say) leaves the request readable until then: the handler may still
	 * look at its parameters, and only the reply itself is final. */
	rx->rx_in_handler = 1;
	rx->rx_t0 = uv_hrtime();
	srv->srv_handler(&rx->rx_pub, srv->srv_ctx);
	rx->rx_in_handler = 0;
	if (rx->rx_free_later)
		http__req_free(rx);
}

/*
 * The step function: parse what is buffered while the connection may take a
 * request.  The head is fed in slices that never pass HTTP_MAX_HEAD, so the
 * limit is exact whatever the read sizes.
 */
void http__conn_drain(http_conn *c)
{
	size_t avail, feed, n;
	enum http_errno err;
	const char *in;
	int head_was_done;

	if (c->c_in_drain)
		return;
	c->c_in_drain = 1;
	while (c->c_state == C_IDLE || c->c_state == C_READING) {
		avail = c->c_in.len - c->c_in_off;
		if (avail == 0) {
			if (c->c_eof)
				http__conn_close(c); /* nothing more can come */
			break;
		}
		if (c->c_state == C_IDLE) {
			/* empty lines before a request line are skipped (RFC
			 * 9112 2.2) here, not fed: the head limit counts the
			 * head alone, however the reads fall */
			const char *p = c->c_in.data + c->c_in_off;
			size_t skip = 0;
			while (avail - skip >= 2 && p[skip] == '\r' &&
			       p[skip + 1] == '\n')
				skip += 2;
			c->c_in_off += skip;
			avail -= skip;
			if (avail == 0 || (avail == 1 && p[skip] == '\r')) {
				if (c->c_eof)
					http__conn_close(c);
				break; /* a CR alone: wait for its LF */
			}
			conn_begin_request(c);
		}
		feed = avail;
		if (!c->c_headers_done && feed > HTTP_MAX_HEAD - c->c_head_count)
			feed = HTTP_MAX_HEAD - c->c_head_count;
		if (!c->c_headers_done &&
		    head_scan(c, c->c_in.data + c->c_in_off, feed) != 0) {
			http__conn_fail(c, c->c_err_status, c->c_err_msg);
			break;
		}
		in = c->c_in.data + c->c_in_off;
		head_was_done = c->c_headers_done;
		n = http_parser_execute(&c->c_parser, &parser_settings, in, feed);
		c->c_in_off += n;
		if (!c->c_headers_done)
			c->c_head_count += n;
		/* head_scan saw the head end where the parser did */
		if (!head_was_done && c->c_headers_done && !c->c_sc_done)
			refuse(c, 400, "request head not ended by CRLF CRLF");
		/* the chunked body's bytes the parser took, before any dispatch */
		if (c->c_chunked && c->c_err_status == 0) {
			size_t at = head_was_done ? 0 : c->c_sc_end;
			if (at < n)
				chunk_scan(c, in + at, n - at);
			if (c->c_msg_done && c->c_ck_state != CK_DONE)
				refuse(c, 400, "chunked body not framed as RFC 9112 says");
		}
		err = HTTP_PARSER_ERRNO(&c->c_parser);
		if (c->c_err_status) {
			http__conn_fail(c, c->c_err_status, c->c_err_msg);
			break;
		}
		if (err == HPE_PAUSED && c->c_msg_done) {
			conn_dispatch(c);
			continue;
		}
		if (err == HPE_HEADER_OVERFLOW) {
			http__conn_fail(c, 431, "request head too large");
			break;
		}
		if (err == HPE_UNEXPECTED_CONTENT_LENGTH) {
			/* http-parser's own smuggling check, before ours can run */
			http__conn_fail(c, 400,
				  "duplicate Content-Length, or Content-Length "
				  "with Transfer-Encoding");
			break;
		}
		if (err != HPE_OK || n != feed) {
			http__conn_fail(c, 400, http_errno_description(err));
			break;
		}
		if (c->c_rx == NULL) {
			c->c_state = C_IDLE; /* nothing of a request yet: still idle */
			continue;
		}
		if (!c->c_headers_done && c->c_head_count >= HTTP_MAX_HEAD) {
			http__conn_fail(c, 431, "request head too large");
			break;
		}
	}
	if (c->c_in_off == c->c_in.len) {
		/* all parsed: between requests a connection keeps a small
		 * buffer at most (an idle keep-alive one holds next to nothing) */
		if (c->c_state != C_READING && c->c_in.cap > HTTP__IN_KEEP)
			buf_release(&c->c_in);
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
	http__conn_update(c);
}

/* Plaintext from the transport. */
void http__conn_input(http_conn *c, const char *p, size_t n)
{
	if (c->c_state == C_CLOSING)
		return;
	if (c->c_state == C_LINGER) {
		http__conn_discard(c, n);
		return;
	}
	if (c->c_state == C_WRITING && !c->c_keepalive)
		return; /* the connection ends after this reply */
	if (buf_append(&c->c_in, p, n) != 0) {
		/* reading stops at HTTP__IN_MAX, so only a TLS record can get here */
		log_warnx("closing connection from %s: input buffer full", c->c_peer);
		http__conn_close(c);
		return;
	}
	http__conn_drain(c);
}

void http__conn_eof(http_conn *c)
{
	c->c_eof = 1;
	if (c->c_rx && c->c_rx->rx_streaming) { /* nobody reads the stream any more */
		http__conn_close(c);
		return;
	}
	switch (c->c_state) {
	case C_IDLE:
	case C_READING: /* an incomplete request can never complete */
	case C_LINGER:
		http__conn_close(c);
		break;
	default: /* a half-closed client may still read its answers */
		http__conn_update(c);
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
/* 1 when the handler's headers (extra) name a Cache-Control of their own. */
static int has_cache_control(const buf *extra)
{
	static const char name[] = "cache-control:";
	const char *p = extra ? extra->data : NULL, *end = p ? p + extra->len : NULL;

	while (p != NULL && (size_t)(end - p) >= sizeof name - 1) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (strncasecmp(p, name, sizeof name - 1) == 0)
			return 1;
		p = eol ? eol + 1 : NULL;
	}
	return 0;
}

/* 1 for a reply of data (JSON, CSV): personal data a shared office PC's
 * browser must not keep in its disk cache unless the handler says it may. */
static int is_data(const char *ctype)
{
	return ctype && (strncasecmp(ctype, "application/json", 16) == 0 ||
			 strncasecmp(ctype, "text/csv", 8) == 0);
}

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
	if (is_data(ctype) && !has_cache_control(extra))
		rc |= buf_puts(&h, "Cache-Control: no-store\r\n");
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
void http__conn_fail(http_conn *c, int status, const char *msg)
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
		http__req_free(c->c_rx);
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
		http__conn_close(c);
		goto out;
	}
	c->c_tp->tp_send(c, out, n, 1);
	http__conn_update(c);
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
		http__conn_close(c);
		goto out;
	}
	c->c_tp->tp_send(c, out, n, 1);
	http__conn_update(c);
out:
	if (rx->rx_in_handler)
		rx->rx_free_later = 1;
	else
		http__req_free(rx);
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
	char part[512], *whole;
	const char *msg;
	cJSON *o, *e, *x = NULL;
	char *s = NULL;
	va_list ap;

	/* Whole up to JSON_MSG_MAX bytes, as route_fail's (lib/route.c). */
	va_start(ap, fmt);
	whole = json_vformat_alloc(JSON_MSG_MAX, fmt, ap);
	if (whole == NULL) /* ap is still unread: the part that fits */
		json_vformat(part, sizeof part, fmt, ap);
	va_end(ap);
	msg = whole ? whole : part;
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
	free(whole);
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

void http_req_set_owner(http_req *req, const char *owner)
{
	if (req->conn != NULL)
		snprintf(req->conn->c_owner, sizeof req->conn->c_owner, "%s", owner);
}

void http_reply_load(const http_req *req, const char *owner, http_load *out)
{
	const http_conn *x;
	size_t q;

	memset(out, 0, sizeof *out);
	if (req->conn == NULL)
		return;
	for (x = req->conn->c_srv->srv_conns; x; x = x->c_next) {
		if (x == req->conn || x->c_state == C_CLOSING)
			continue;
		/* (a memory connection's c_tcp is zeroed: nothing queued) */
		q = uv_stream_get_write_queue_size((const uv_stream_t *)&x->c_tcp);
		out->all_queued += q;
		if (owner != NULL && strcmp(x->c_owner, owner) == 0)
			out->owner_queued += q;
	}
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
		je.field[0] = je.msg[0] = '\0';
	}
	if (o == NULL && reply_on_error) {
		if (je.msg[0]) /* invalid text, a member twice: 400 naming the field */
			http_reply_error(req, 400, je.field[0] ? je.field : NULL, "%s", je.msg);
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
	/* What the peer has not taken yet: over TLS too, where each write is
	 * encrypted onto the socket at once (lib/http_conn.c, tls_send), so
	 * the socket's queue holds it as ciphertext. */
	if (uv_stream_get_write_queue_size((uv_stream_t *)&c->c_tcp) > HTTP_STREAM_QUEUE_MAX) {
		log_info("closing stream to %s: it is not being read", c->c_peer);
		http__conn_close(c);
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
		http__conn_end(c); /* what is queued is sent, then our side shuts */
	}
	if (rx->rx_in_handler)
		rx->rx_free_later = 1;
	else
		http__req_free(rx);
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

void http__req_free(reqx *rx)
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
