/*
 * loadgen.h - a small closed-loop HTTP/1.1 load generator for benchmarks:
 * N threads, one keep-alive connection each, fixed request bytes, latency of
 * every request recorded.
 */
#ifndef OUTPOST_LOADGEN_H
#define OUTPOST_LOADGEN_H

#include <stddef.h>

typedef struct loadgen_result {
	long requests;
	long errors;
	double seconds;
	double rps;
	double p50_ms, p90_ms, p99_ms, p999_ms, max_ms;
} loadgen_result;

/* Build the request for the i-th call into out (size n); returns its length. */
typedef size_t (*loadgen_build)(int thread, long i, char *out, size_t n, const void *arg);

int loadgen_run(int port, int conns, double seconds, loadgen_build build, const void *arg,
		int expect_status, loadgen_result *res);
/* The same over TLS (mbedTLS, no certificate check: a benchmark on
 * loopback), one handshake per connection, then keep-alive; each worker's
 * window starts after its handshake (64 ECDHE handshakes at once take
 * seconds on a loaded machine), and rps counts over `seconds`. */
int loadgen_run_tls(int port, int conns, double seconds, loadgen_build build, const void *arg,
		    int expect_status, loadgen_result *res);

/*
 * One keep-alive connection (TLS when tls) for a caller that builds its own
 * requests.  loadgen_conn_open: from local address src (IPv4, host order;
 * 0 any: a loopback 127.x.y.z gives each simulated client an address of its
 * own), NULL when it cannot connect.
 * loadgen_conn_request: send n bytes of request, read the response; its
 * status, or -1 (the connection is then unusable: close it).  resp (cap
 * bytes) gets the head, NUL-terminated, and what of the body came with it.
 */
/* Seconds on the monotonic clock (nanosecond resolution): for intervals. */
double loadgen_now_s(void);

typedef struct lconn lconn;
lconn *loadgen_conn_open(int port, int tls, unsigned src);
int loadgen_conn_request(lconn *c, const void *req, size_t n, char *resp, size_t cap);
void loadgen_conn_close(lconn *c);

#endif
