/*
 * http_conn.c - the HTTP server's connections (see http.c for the state
 * machine they step through): their lifecycle and timers, the transports
 * that carry their bytes (plain TCP, TLS, memory for the fuzzer and the
 * tests), and the listening server with its connection caps.
 */
#include "lib/http_int.h"
#include "lib/log.h"
#include "lib/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void conn_written(http_conn *c, int status);
static int tls_flush_close(http_conn *c);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

/* ---- connection lifecycle ---- */

/* After the final bytes of an answer reached the transport's peer. */
static void conn_written(http_conn *c, int status)
{
	if (c->c_state != C_WRITING)
		return;
	if (status < 0) {
		http__conn_close(c);
		return;
	}
	if (!c->c_keepalive) {
		http__conn_end(c);
		return;
	}
	c->c_state = C_IDLE;
	http__conn_drain(c); /* no-op when called from inside http__conn_drain: its loop goes on */
}

/*
 * Why the body being read is overdue, or NULL while it makes progress: no
 * byte for the stall time, slower than the minimum rate on average once the
 * grace time is over, or longer than the cap in all.  A body is timed by its
 * progress, not by a clock from the request's first byte: a push of a few
 * MiB from an office on a slow uplink takes minutes, and must not be refused
 * (and retried, and refused again) for that alone.
 */
static const char *body_overdue(const http_conn *c)
{
	const http_server *srv = c->c_srv;
	uint64_t now = uv_now(srv->srv_loop);
	uint64_t took = now - c->c_body_t0;

	if (now - c->c_body_last >= srv->srv_body_stall_ms)
		return "request timed out: its body stopped coming";
	if (took >= srv->srv_body_max_ms)
		return "request timed out: its body took too long";
	if (took >= srv->srv_body_grace_ms &&
	    c->c_body_bytes * 1000 < (uint64_t)srv->srv_body_min_rate * took)
		return "request timed out: its body came too slowly";
	return NULL;
}

static void on_timer(uv_timer_t *t)
{
	http_conn *c = t->data;
	const char *why;
	size_t q;

	switch (c->c_state) {
	case C_READING:
		why = "request timed out";
		if (c->c_timer_for == HTTP__T_BODY && (why = body_overdue(c)) == NULL)
			break; /* moving: the next tick looks again */
		log_info("request from %s timed out", c->c_peer);
		http__conn_fail(c, 408, why);
		break;
	case C_WRITING:
		q = uv_stream_get_write_queue_size((uv_stream_t *)&c->c_tcp);
		if (q < c->c_wq_last) {
			c->c_wq_last = q; /* slow but moving */
			break;
		}
		log_info("closing connection from %s: the reply is not being read",
			 c->c_peer);
		http__conn_close(c);
		break;
	case C_HANDLING:
		break;
	default:
		http__conn_close(c);
		break;
	}
}

/* How long a lingering connection may be silent before it is closed. */
static unsigned linger_idle_ms(const http_server *srv)
{
	return srv->srv_req_ms < HTTP__LINGER_MS ? srv->srv_req_ms : HTTP__LINGER_MS;
}

/* Timer and read interest follow the state; call after every transition. */
void http__conn_update(http_conn *c)
{
	http_server *srv = c->c_srv;
	unsigned ms = 0, repeat = 0;
	int want_read, phase = (int)c->c_state;

	if (c->c_handles == 0 || c->c_state == C_CLOSING)
		return;
	if (c->c_state == C_READING && c->c_headers_done)
		phase = HTTP__T_BODY;
	/* The head's timer runs from a request's first byte, not from each
	 * read (slowloris); the body's ticks and looks at its progress. */
	if (c->c_timer_for != phase) {
		switch (phase) {
		case HTTP__T_BODY:
			ms = repeat = HTTP__BODY_TICK_MS;
			if (srv->srv_body_stall_ms / 2 < ms) /* short rules (tests) */
				ms = repeat = srv->srv_body_stall_ms / 2 + 1;
			break;
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
			ms = linger_idle_ms(srv);
			break;
		default: /* HANDLING: the handler takes the time it needs */
			break;
		}
		uv_timer_stop(&c->c_timer);
		if (ms)
			uv_timer_start(&c->c_timer, on_timer, ms, repeat);
		c->c_timer_for = phase;
	}
	want_read = !c->c_eof && !(c->c_state == C_WRITING && !c->c_keepalive) &&
		    c->c_in.len < HTTP__IN_MAX;
	if (want_read && !c->c_reading) {
		if (uv_read_start((uv_stream_t *)&c->c_tcp, on_alloc, on_read) != 0) {
			http__conn_close(c);
			return;
		}
		c->c_reading = 1;
	} else if (!want_read && c->c_reading) {
		uv_read_stop((uv_stream_t *)&c->c_tcp);
		c->c_reading = 0;
	}
}

/* Over every server of the process, for GET /metrics (loop thread). */
static int tcp_conns_open, tls_sessions_held;

void http_conn_counts(int *conns, int *tls_sessions)
{
	*conns = tcp_conns_open;
	*tls_sessions = tls_sessions_held;
}

static void conn_destroy(http_conn *c)
{
	if (c->c_tls != NULL)
		tls_sessions_held--;
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

/* c into, and out of, its server's list (newest first). */
static void conn_link(http_conn *c)
{
	http_server *srv = c->c_srv;

	c->c_next = srv->srv_conns;
	if (srv->srv_conns)
		srv->srv_conns->c_prev = c;
	srv->srv_conns = c;
}

static void conn_unlink(http_conn *c)
{
	if (c->c_prev)
		c->c_prev->c_next = c->c_next;
	else
		c->c_srv->srv_conns = c->c_next;
	if (c->c_next)
		c->c_next->c_prev = c->c_prev;
}

static void on_conn_closed(uv_handle_t *h)
{
	http_conn *c = h->data;
	http_server *srv = c->c_srv;

	if (--c->c_handles > 0)
		return;
	conn_unlink(c);
	srv->srv_nconns--;
	tcp_conns_open--;
	conn_destroy(c);
	server_maybe_closed(srv);
}

void http__conn_close(http_conn *c)
{
	if (c->c_state == C_CLOSING)
		return;
	c->c_state = C_CLOSING;
	if (c->c_rx) {
		if (c->c_rx->rx_pub.conn)
			c->c_rx->rx_pub.conn =
			    NULL; /* the handler's reply call frees it */
		else
			http__req_free(c->c_rx);
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
		http__conn_close(c);
}

/* The last answer is out and the connection ends: shut our side and read
 * what the peer still sends (lingering close), so a client that is still
 * uploading reads our answer instead of a reset.  The bounds are
 * http__conn_discard()'s: a peer that goes on sending cannot hold the
 * connection for longer than HTTP__LINGER_TOTAL_MS. */
void http__conn_end(http_conn *c)
{
	if (c->c_handles == 0 || c->c_eof) {
		http__conn_close(c);
		return;
	}
	c->c_state = C_LINGER;
	c->c_linger_t0 = uv_now(c->c_srv->srv_loop);
	buf_reset(&c->c_in);
	c->c_in_off = 0;
	if (c->c_tls != NULL && tls_flush_close(c) != 0)
		return;
	c->c_shut.data = c;
	if (uv_shutdown(&c->c_shut, (uv_stream_t *)&c->c_tcp, on_shutdown) != 0) {
		http__conn_close(c);
		return;
	}
	http__conn_update(c);
}

void http__conn_discard(http_conn *c, size_t n)
{
	size_t max = c->c_linger_max ? c->c_linger_max : HTTP__LINGER_MAX;
	uint64_t now, end;
	unsigned ms;

	c->c_lingered += n;
	if (c->c_lingered > max) {
		log_info("closing connection from %s: %zu bytes after its answer",
			 c->c_peer, c->c_lingered);
		http__conn_close(c);
		return;
	}
	/* A refused body's sender may take its time to send it, as long as it
	 * keeps sending: silent for linger_idle_ms(), or lingering for the
	 * total, it is closed.  Any other lingering has linger_idle_ms() in
	 * all (http__conn_update). */
	if (c->c_linger_max == 0)
		return;
	now = uv_now(c->c_srv->srv_loop);
	end = c->c_linger_t0 + HTTP__LINGER_TOTAL_MS;
	if (now >= end) {
		log_info("closing connection from %s: still sending after %d ms",
			 c->c_peer, HTTP__LINGER_TOTAL_MS);
		http__conn_close(c);
		return;
	}
	ms = linger_idle_ms(c->c_srv);
	if (end - now < ms)
		ms = (unsigned)(end - now);
	uv_timer_start(&c->c_timer, on_timer, ms, 0);
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
		http__conn_close(c);
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
	http__conn_close(c);
	return rc;
}

static void plain_input(http_conn *c, const char *p, size_t n) { http__conn_input(c, p, n); }

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

/* TLS: ciphertext in, plaintext to http__conn_input(); replies are encrypted and
 * written as they come, the final block carrying the reply's end. */
static void tls_plain(void *arg, const char *p, size_t n) { http__conn_input(arg, p, n); }

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

/*
 * The TLS session of c, made when its first bytes come: a connection that
 * sends nothing (an idle flood) holds no TLS buffers (two records' worth,
 * about 33 KiB).  The server's certificate is the newest, a renewed one
 * from this connection on.  -1 (c closed) out of memory.
 */
static int tls_start(http_conn *c)
{
	http_server *srv = c->c_srv;
	tls_config *now;

	if (c->c_tls != NULL)
		return 0;
	now = srv->srv_tls_source ? srv->srv_tls_source(srv->srv_tls_source_ctx) : NULL;
	if (now != NULL)
		srv->srv_tls = now;
	if ((c->c_tls = tls_session_new(srv->srv_tls)) == NULL) {
		log_warnx("closing connection from %s: out of memory for its TLS session",
			  c->c_peer);
		http__conn_close(c);
		return -1;
	}
	tls_sessions_held++;
	return 0;
}

static void tls_input(http_conn *c, const char *p, size_t n)
{
	int rc;

	if (c->c_state == C_LINGER) {
		http__conn_input(c, p, n); /* only counted: nothing to decrypt */
		return;
	}
	if (tls_start(c) != 0)
		return;
	rc = tls_session_input(c->c_tls, p, n, tls_plain, c);

	if (c->c_state == C_CLOSING)
		return;
	if (rc < 0) {
		char why[224];

		log_info("closing connection from %s: TLS error %s", c->c_peer,
			 tls_session_error(c->c_tls, why, sizeof why));
		tls_flush(c, 0); /* a fatal alert, if any */
		http__conn_close(c);
		return;
	}
	if (tls_flush(c, 0) != 0)
		return;
	if (rc == 1 && c->c_state != C_CLOSING)
		http__conn_eof(c);
}

static int tls_send(http_conn *c, char *data, size_t n, int final)
{
	/* (a reply follows a request: its session is there) */
	int rc = c->c_tls ? tls_session_write(c->c_tls, data, n) : -1;

	free(data);
	if (rc != 0) {
		http__conn_close(c);
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

	b->base = c->c_srv->srv_rbuf;
	b->len = sizeof c->c_srv->srv_rbuf;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	http_conn *c = s->data;

	if (nread > 0)
		c->c_tp->tp_input(c, b->base, (size_t)nread);
	else if (nread == UV_EOF)
		http__conn_eof(c);
	else if (nread < 0)
		http__conn_close(c);
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

void http__peer_group(const struct sockaddr *sa, char *out, size_t n)
{
	snprintf(out, n, "?");
	if (sa->sa_family == AF_INET) {
		uv_ip4_name((const struct sockaddr_in *)sa, out, n);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 s6 = *(const struct sockaddr_in6 *)sa;
		size_t len;

		if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
			struct sockaddr_in s4 = {.sin_family = AF_INET};
			memcpy(&s4.sin_addr, s6.sin6_addr.s6_addr + 12, 4);
			uv_ip4_name(&s4, out, n);
			return;
		}
		memset(s6.sin6_addr.s6_addr + 8, 0, 8);
		s6.sin6_scope_id = 0;
		if (uv_ip6_name(&s6, out, n) != 0 || (len = strlen(out)) + 4 > n)
			snprintf(out, n, "?");
		else
			memcpy(out + len, "/64", 4);
	}
}

static void peer_name(http_conn *c)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;

	snprintf(c->c_peer, sizeof c->c_peer, "?");
	snprintf(c->c_group, sizeof c->c_group, "?");
	if (uv_tcp_getpeername(&c->c_tcp, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&ss, c->c_peer, sizeof c->c_peer);
	else if (ss.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&ss, c->c_peer, sizeof c->c_peer);
	http__peer_group((struct sockaddr *)&ss, c->c_group, sizeof c->c_group);
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
		if (strcmp(x->c_group, c->c_group) == 0) {
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
				  mine, c->c_group, open);
		}
		if (x == NULL)
			return -1;
		http__conn_close(x);
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
	c->c_is_tls = srv->srv_tls != NULL; /* its session comes with its first bytes */
	uv_tcp_init(srv->srv_loop, &c->c_tcp);
	uv_timer_init(srv->srv_loop, &c->c_timer);
	c->c_tcp.data = c->c_timer.data = c;
	c->c_handles = 2;
	conn_link(c);
	srv->srv_nconns++;
	tcp_conns_open++;
	if (uv_accept(ls, (uv_stream_t *)&c->c_tcp) != 0) {
		http__conn_close(c);
		return;
	}
	peer_name(c);
	if (srv->srv_closing || conn_admit(srv, c) != 0) {
		http__conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->c_tcp, 1);
	http__conn_update(c);
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
	srv->srv_body_stall_ms = HTTP_BODY_STALL_MS;
	srv->srv_body_grace_ms = HTTP_BODY_GRACE_MS;
	srv->srv_body_min_rate = HTTP_BODY_MIN_RATE;
	srv->srv_body_max_ms = HTTP_BODY_MAX_MS;
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

void http_server_set_tls_source(http_server *srv, http_tls_source fn, void *ctx)
{
	srv->srv_tls_source = fn;
	srv->srv_tls_source_ctx = ctx;
}

void http_server_set_timeouts(http_server *srv, unsigned req_ms, unsigned idle_ms)
{
	if (req_ms)
		srv->srv_req_ms = req_ms;
	if (idle_ms)
		srv->srv_idle_ms = idle_ms;
}

void http_server_set_body_timeouts(http_server *srv, unsigned stall_ms, unsigned grace_ms,
				   unsigned min_rate, unsigned max_ms)
{
	if (stall_ms)
		srv->srv_body_stall_ms = stall_ms;
	if (grace_ms)
		srv->srv_body_grace_ms = grace_ms;
	if (min_rate)
		srv->srv_body_min_rate = min_rate;
	if (max_ms)
		srv->srv_body_max_ms = max_ms;
}

/* "host:port", "[v6]:port", ":port" or "*:port" into ss, the port within
 * min_port..65535 and all digits.  0, or a negative uv error. */
static int listen_addr(const char *hostport, int min_port, struct sockaddr_storage *ss)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	char *end;
	long port;
	size_t hl;

	if (colon == NULL || colon[1] < '0' || colon[1] > '9')
		return UV_EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || port < min_port || port > 65535)
		return UV_EINVAL;
	hl = (size_t)(colon - hostport);
	if (hl >= 2 && hostport[0] == '[' && hostport[hl - 1] == ']') {
		hostport++;
		hl -= 2;
	}
	if (hl >= sizeof host)
		return UV_EINVAL;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	if (host[0] == '\0' || strcmp(host, "*") == 0)
		snprintf(host, sizeof host, "0.0.0.0");
	memset(ss, 0, sizeof *ss);
	if (strchr(host, ':'))
		return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss);
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss);
}

int http_listen_check(const char *name, const char *hostport, char *err, size_t n)
{
	struct sockaddr_storage ss;

	if (listen_addr(hostport, 1, &ss) == 0)
		return 0;
	snprintf(err, n,
		 "%s: '%s' is not a listening address (HOST:PORT, an IPv4 or [IPv6] "
		 "address and a port 1-65535)",
		 name, hostport);
	return -1;
}

int http_server_listen(http_server *srv, const char *hostport)
{
	struct sockaddr_storage ss;
	int len = sizeof ss, rc;

	if (srv->srv_listening)
		return UV_EINVAL;
	if ((rc = listen_addr(hostport, 0, &ss)) != 0)
		return rc;
	rc = uv_tcp_init(srv->srv_loop, &srv->srv_tcp);
	if (rc != 0)
		return rc;
	srv->srv_tcp.data = srv;
	srv->srv_listening = 1; /* initialised: http_server_close closes it */
	rc = uv_tcp_bind(&srv->srv_tcp, (struct sockaddr *)&ss, 0);
	/* (a backlog for a hub's offices reconnecting at once, bench_hub) */
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->srv_tcp, 1024, on_connection);
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
		http__conn_close(c); /* unlinked later, in the close callbacks */
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
	snprintf(c->c_group, sizeof c->c_group, "memory");
	/* in the server's list as a TCP one is (the per-address shares walk
	 * it), though not counted against its caps */
	conn_link(c);
	return c;
}

int http__conn_feed(http_conn *c, const void *data, size_t len)
{
	const char *p = data;
	size_t n;

	if (len == 0 && c->c_state != C_CLOSING)
		http__conn_eof(c);
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
	http__conn_close(c);
	conn_unlink(c);
	conn_destroy(c);
}
