/*
 * metrics.h - figures for GET /metrics in the Prometheus text format
 * (version 0.0.4), shared by node and hub.
 *
 * The HTTP server counts every reply here (metrics_http_observe, called
 * by http_reply on the loop thread): requests by route class and status,
 * and a latency histogram by route class.  A route class is a fixed word
 * derived from the path's first segments ("sync", "crm", "case",
 * "greeter", "session", "admin", "api", "health", "metrics", "page"), so
 * the label set is bounded and never holds an id, a name or any other
 * value a client sent.
 *
 * The daemons add their own gauges with metrics_head() + metrics_val()
 * into a buf they reply with (node/node_metrics.c, hub/hub_metrics.c).
 * Every function here runs on the loop thread only.
 */
#ifndef OUTPOST_METRICS_H
#define OUTPOST_METRICS_H

#include "lib/buf.h"
#include "lib/http.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One reply to a request for path, with status, seconds after the request
 * was complete.  path may be NULL (a request refused before it was read). */
void metrics_http_observe(const char *path, int status, double seconds);
/* The route class of a path (a static string). */
const char *metrics_route_class(const char *path);
/* The request counters and histograms, with their HELP and TYPE lines. */
int metrics_render_http(buf *out);
/* "# HELP name help\n# TYPE name type\n".  Sticky: 0 or -1 (buffer full). */
int metrics_head(buf *out, const char *name, const char *type, const char *help);
/* "name{labels} value\n"; labels without braces, NULL or "" for none.  A
 * label value must come from metrics_label() or be a fixed word. */
int metrics_val(buf *out, const char *name, const char *labels, double v);
/* One figure without labels: its head and its value.  Sticky: 0 or -1. */
int metrics_gauge(buf *out, const char *name, const char *help, double v);
int metrics_counter(buf *out, const char *name, const char *help, double v);
/*
 * Reply to GET /metrics with the daemon's figures in b, the HTTP figures
 * (metrics_render_http) added: 200, not cached; or a 500 when failed is
 * set, b is empty or an append did not fit.  Releases b.
 */
void metrics_reply(http_req *req, buf *b, int failed);
/* A label value escaped for the text format (\\, \", \n) into out (size n);
 * out is cut short rather than overflowing.  Returns out. */
char *metrics_label(const char *s, char *out, size_t n);
/* 1 when the request comes from the loopback address (127.0.0.0/8, ::1,
 * ::ffff:127.x), else 0. */
int metrics_from_loopback(const http_req *req);
/* 1 when the request carries "Authorization: Bearer <token>" with token
 * (compared in constant time), else 0.  token NULL or "": 0. */
int metrics_bearer_ok(const http_req *req, const char *token);

#endif
