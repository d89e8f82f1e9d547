/*
 * http_int.h - the insides of the HTTP server shared by lib/http.c (request
 * parsing, the connection's step function, replies) and lib/http_conn.c
 * (connection lifecycle, transports, the listening server).  Nothing outside
 * those two files includes it.
 */
#ifndef OUTPOST_HTTP_INT_H
#define OUTPOST_HTTP_INT_H

#include "lib/http.h"
#include "lib/tls.h"

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP__RBUF (16 * 1024)	 /* one socket read */
#define HTTP__IN_MAX (64 * 1024) /* buffered, unparsed input */
#define HTTP__IN_KEEP 4096	 /* kept between requests */
#define HTTP__RESP_HEADERS_MAX (16 * 1024)
#define HTTP__MEM_OUT_MAX (1024 * 1024)
/* Lingering close (http__conn_end): after a final answer the input is
 * discarded until the peer ends, for HTTP__LINGER_MS at most and
 * HTTP__LINGER_MAX bytes.  After a body refused from its Content-Length
 * (whose sender may be writing all of it before it reads), as nginx's
 * lingering_timeout and lingering_time: until the peer is silent for
 * HTTP__LINGER_MS, or has lingered HTTP__LINGER_TOTAL_MS in all, or sent
 * more than that length (at most HTTP__LINGER_BODY_MAX) and
 * HTTP__LINGER_MAX more. */
#define HTTP__LINGER_MS 2000
#define HTTP__LINGER_TOTAL_MS 30000
#define HTTP__LINGER_MAX (1024 * 1024)
#define HTTP__LINGER_BODY_MAX (64 * 1024 * 1024)

#define container_of(p, type, member)                                                    \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

enum conn_state { C_IDLE, C_READING, C_HANDLING, C_WRITING, C_LINGER, C_CLOSING };

/* What the connection's timer was armed for (c_timer_for): a state, or a
 * request's body, which READING times by its progress, not by one clock. */
#define HTTP__T_BODY (C_CLOSING + 1)
#define HTTP__BODY_TICK_MS 1000 /* the body's progress is checked this often */

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
	int rx_anon;	    /* capped by http_req_cap_body: the anonymous budget */
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
	size_t c_sc_end; /* where the head ended in the slice that ended it */
	/* strict chunked framing (chunk_scan): a chunked body, the scanner's
	 * state, what is left of the chunk size or data, in a trailer's name */
	int c_chunked, c_ck_state, c_ck_name;
	uint64_t c_ck_left;
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
	size_t c_linger_max;  /* discarded at most after a refused body (0: none) */
	uint64_t c_linger_t0; /* uv_now() when the lingering began */
	int c_timer_for; /* state the timer was armed for, HTTP__T_BODY, or -1 */
	/* the body being read: uv_now() at its head's end and at its last
	 * bytes, and its bytes so far (the progress rules, HTTP_BODY_*) */
	uint64_t c_body_t0, c_body_last;
	uint64_t c_body_bytes;
	int c_nreq;	 /* requests answered on this connection */
	char c_peer[64];
	char c_group[64]; /* its client group (http__peer_group): the shares' key */
	char c_owner[72]; /* whose reply it writes (http_req_set_owner), or "" */
	int c_is_tls;
	tls_session *c_tls; /* TLS transport only */
	buf c_mout; /* memory transport: the answers */
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
	unsigned srv_body_stall_ms; /* the body's progress rules */
	unsigned srv_body_grace_ms;
	unsigned srv_body_min_rate;
	unsigned srv_body_max_ms;
	tls_config *srv_tls;
	http_tls_source srv_tls_source; /* the configuration of a new connection */
	void *srv_tls_source_ctx;
	http_conn *srv_conns;
	int srv_nconns;
	int srv_closing;
	void (*srv_close_cb)(void *arg);
	void *srv_close_arg;
	/* one socket read, for every connection: a read is consumed (copied
	 * into the connection's c_in, or into its TLS session) before on_read
	 * returns, so an idle connection holds no read buffer */
	char srv_rbuf[HTTP__RBUF];
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

/* ---- http.c -------------------------------------------------------------------- */

/* Plaintext from a transport: buffer it and move the connection on. */
void http__conn_input(http_conn *c, const char *p, size_t n);
/* The step function: parse what is buffered, dispatch, answer. */
void http__conn_drain(http_conn *c);
/* The peer will send nothing more. */
void http__conn_eof(http_conn *c);
/* Answer status with msg and end the connection (a refusal or an error). */
void http__conn_fail(http_conn *c, int status, const char *msg);
/* Free a request and everything it holds (its body budget too). */
void http__req_free(reqx *rx);

/* ---- http_conn.c --------------------------------------------------------------- */

/* Close the connection's handles now (memory goes in the last callback). */
void http__conn_close(http_conn *c);
/*
 * The client group of a peer address, the key of the per-address shares
 * (connection caps, anonymous bodies), into out (n >= 64): an IPv4 address
 * itself, an IPv6 one by its /64 ("2001:db8:1:2::/64": one host is given a
 * whole /64 and may take any address in it, so per-address shares would not
 * bind it), an IPv4-mapped one as the IPv4 address.  "?" when unknown.
 */
struct sockaddr;
void http__peer_group(const struct sockaddr *sa, char *out, size_t n);
/* End after a final answer: shut the write side and linger. */
void http__conn_end(http_conn *c);
/* n more bytes came while lingering: discarded; the connection is closed
 * once over its bound of bytes or time, else its silence timer re-armed. */
void http__conn_discard(http_conn *c, size_t n);
/* Re-arm the timer and reading for the connection's state. */
void http__conn_update(http_conn *c);

#endif
