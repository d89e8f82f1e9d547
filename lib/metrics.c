/*
 * metrics.c - request counters and latency histograms by route class, and
 * the Prometheus text format helpers; see metrics.h.
 */
#include "lib/metrics.h"
#include "lib/crypto.h"

#include <stdio.h>
#include <string.h>

static const char *const classes[] = {
    "sync", "crm", "case", "greeter", "session", "admin", "api", "health", "metrics", "page",
};
#define NCLASS ((int)(sizeof classes / sizeof classes[0]))
/* Upper bounds of the histogram's buckets, in seconds (+Inf implied). */
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
				0.25,  0.5,    1,     2.5,  5,     10};
#define NBOUND ((int)(sizeof bounds / sizeof bounds[0]))
/* Status families counted: 2xx .. 5xx, and "other". */
#define NCODE 5

static struct {
	unsigned long long m_count[NCLASS][NCODE];
	unsigned long long m_bucket[NCLASS][NBOUND + 1];
	double m_sum[NCLASS];
	unsigned long long m_n[NCLASS];
} mx;

static int prefix(const char *path, const char *p)
{
	size_t n = strlen(p);

	return strncmp(path, p, n) == 0 && (path[n] == '\0' || path[n] == '/' || path[n] == '?' ||
					     p[n - 1] == '/');
}

const char *metrics_route_class(const char *path)
{
	if (path == NULL)
		return "page";
	if (strcmp(path, "/healthz") == 0)
		return "health";
	if (strcmp(path, "/metrics") == 0)
		return "metrics";
	if (strncmp(path, "/api/", 5) != 0)
		return "page";
	if (prefix(path, "/api/v1/sync") || prefix(path, "/api/v1/enroll") ||
	    prefix(path, "/api/v1/nodes"))
		return "sync";
	if (prefix(path, "/api/v1/crm"))
		return "crm";
	if (prefix(path, "/api/v1/case"))
		return "case";
	if (prefix(path, "/api/v1/checkins") || prefix(path, "/api/v1/greeter") ||
	    prefix(path, "/api/v1/visitors"))
		return "greeter";
	if (prefix(path, "/api/v1/session") || prefix(path, "/api/v1/admin/session"))
		return "session";
	if (prefix(path, "/api/v1/admin") || prefix(path, "/api/v1/console") ||
	    prefix(path, "/api/v1/accounts"))
		return "admin";
	return "api";
}

static int class_index(const char *c)
{
	for (int i = 0; i < NCLASS; i++)
		if (strcmp(classes[i], c) == 0)
			return i;
	return NCLASS - 1;
}

void metrics_http_observe(const char *path, int status, double seconds)
{
	int c = class_index(metrics_route_class(path)), k = 0;
	int code = status >= 200 && status < 600 ? status / 100 - 2 : NCODE - 1;

	if (seconds < 0)
		seconds = 0;
	mx.m_count[c][code]++;
	while (k < NBOUND && seconds > bounds[k])
		k++;
	mx.m_bucket[c][k]++;
	mx.m_sum[c] += seconds;
	mx.m_n[c]++;
}

int metrics_head(buf *out, const char *name, const char *type, const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) < 0 ? -1 : 0;
}

int metrics_val(buf *out, const char *name, const char *labels, double v)
{
	int rc;

	if (labels && *labels)
		rc = buf_printf(out, "%s{%s} %.15g\n", name, labels, v);
	else
		rc = buf_printf(out, "%s %.15g\n", name, v);
	return rc < 0 ? -1 : 0;
}

char *metrics_label(const char *s, char *out, size_t n)
{
	size_t j = 0;

	for (; s && *s && j + 3 < n; s++) {
		if (*s == '\\' || *s == '"') {
			out[j++] = '\\';
			out[j++] = *s;
		} else if (*s == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = *s;
		}
	}
	if (n)
		out[j < n ? j : n - 1] = '\0';
	return out;
}

int metrics_render_http(buf *out)
{
	static const char *const codes[NCODE] = {"2xx", "3xx", "4xx", "5xx", "other"};
	char l[96];
	int rc = 0, conns, sessions;

	http_conn_counts(&conns, &sessions);
	rc |= metrics_gauge(out, "outpost_http_connections", "TCP connections open", conns);
	rc |= metrics_gauge(out, "outpost_http_tls_sessions",
			    "TLS sessions held (a connection's, from its first bytes)", sessions);
	rc |= metrics_head(out, "outpost_http_requests_total", "counter",
			   "HTTP requests answered, by route class and status family");
	for (int c = 0; c < NCLASS; c++)
		for (int k = 0; k < NCODE; k++) {
			if (mx.m_count[c][k] == 0)
				continue;
			snprintf(l, sizeof l, "class=\"%s\",code=\"%s\"", classes[c], codes[k]);
			rc |= metrics_val(out, "outpost_http_requests_total", l,
					  (double)mx.m_count[c][k]);
		}
	rc |= metrics_head(out, "outpost_http_request_duration_seconds", "histogram",
			   "time from a complete request to its reply, by route class");
	for (int c = 0; c < NCLASS; c++) {
		unsigned long long cum = 0;
		if (mx.m_n[c] == 0)
			continue;
		for (int k = 0; k <= NBOUND; k++) {
			cum += mx.m_bucket[c][k];
			if (k < NBOUND)
				snprintf(l, sizeof l, "class=\"%s\",le=\"%g\"", classes[c], bounds[k]);
			else
				snprintf(l, sizeof l, "class=\"%s\",le=\"+Inf\"", classes[c]);
			rc |= metrics_val(out, "outpost_http_request_duration_seconds_bucket", l,
					  (double)cum);
		}
		snprintf(l, sizeof l, "class=\"%s\"", classes[c]);
		rc |= metrics_val(out, "outpost_http_request_duration_seconds_sum", l, mx.m_sum[c]);
		rc |= metrics_val(out, "outpost_http_request_duration_seconds_count", l,
				  (double)mx.m_n[c]);
	}
	return rc ? -1 : 0;
}

int metrics_from_loopback(const http_req *req)
{
	const char *p = req->peer;

	if (strncmp(p, "::ffff:", 7) == 0)
		p += 7;
	return strncmp(p, "127.", 4) == 0 || strcmp(p, "::1") == 0;
}

int metrics_bearer_ok(const http_req *req, const char *token)
{
	const char *h = http_req_header(req, "authorization");
	size_t n;

	if (token == NULL || *token == '\0' || h == NULL || strncmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	n = strlen(token);
	return strlen(h) == n && crypto_ct_cmp(h, token, n) == 0;
}

int metrics_gauge(buf *out, const char *name, const char *help, double v)
{
	return metrics_head(out, name, "gauge", help) | metrics_val(out, name, NULL, v);
}

int metrics_counter(buf *out, const char *name, const char *help, double v)
{
	return metrics_head(out, name, "counter", help) | metrics_val(out, name, NULL, v);
}

void metrics_reply(http_req *req, buf *b, int failed)
{
	if (failed || metrics_render_http(b) != 0 || b->err || b->len == 0) {
		http_reply_error(req, 500, NULL, "cannot gather the metrics");
	} else {
		http_add_header(req, "Cache-Control", "no-store");
		http_reply(req, 200, METRICS_CONTENT_TYPE, b->data, b->len);
	}
	buf_release(b);
}
