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

#endif
