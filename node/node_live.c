/*
 * node_live.c - the front desk's live waiting list: GET /api/v1/greeter/events
 * is a server-sent event stream (text/event-stream) for a signed-in user
 * with the front-desk privilege.  After every committed batch that changed
 * this office's check-ins, each listener gets
 *
 *     event: checkins
 *     data: {"office_id":"..."}
 *
 * and fetches the list again (the event carries no visitor's data).  A
 * comment line every NODE_LIVE_HEARTBEAT_MS keeps proxies from closing the
 * stream and finds listeners that went away; the stream ends when its
 * session ends (checked without counting as activity).  At most
 * NODE_LIVE_MAX listeners: the next one gets 503 and polls instead.
 */
#include "node/node.h"
#include "node/node_api.h"
#include "node/node_auth.h"
#include "lib/log.h"
#include "lib/testhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_LIVE_MAX 64
#define NODE_LIVE_HEARTBEAT_MS 15000

struct node_live {
	uv_timer_t nl_timer;
	int nl_timer_on;
	int nl_dirty;             /* the open batch changed check-ins */
	int nl_n;
	http_req *nl_req[NODE_LIVE_MAX];
	char nl_office[NODE_LIVE_MAX][64];
};

static struct node_live *live_of(node *n)
{
	if (n->nd_live == NULL)
		n->nd_live = calloc(1, sizeof *n->nd_live);
	return n->nd_live;
}

static void drop(struct node_live *l, int i)
{
	http_stream_end(l->nl_req[i]);
	l->nl_n--;
	l->nl_req[i] = l->nl_req[l->nl_n];
	memcpy(l->nl_office[i], l->nl_office[l->nl_n], sizeof l->nl_office[i]);
}

/* Forget listeners whose client has gone. */
static void reap(struct node_live *l)
{
	for (int i = l->nl_n - 1; i >= 0; i--)
		if (l->nl_req[i]->conn == NULL)
			drop(l, i);
}

static void heartbeat(uv_timer_t *t)
{
	node *n = t->data;
	struct node_live *l = n->nd_live;
	static const char hb[] = ": still here\n\n";

	for (int i = l->nl_n - 1; i >= 0; i--) {
		if (!node_auth_live(n, l->nl_req[i]) ||
		    http_stream_write(l->nl_req[i], hb, sizeof hb - 1) != 0)
			drop(l, i);
	}
}

static unsigned heartbeat_ms(void)
{
#if TEST_HOOKS_BUILT
	const char *v = getenv("OUTPOST_TEST_LIVE_HEARTBEAT_MS");
	if (v && atoi(v) > 0)
		return (unsigned)atoi(v);
#endif
	return NODE_LIVE_HEARTBEAT_MS;
}

static route_rc get_events(route_call *a)
{
	node *n = API_NODE(a);
	http_req *req = a->rc_req;
	struct node_live *l = live_of(n);
	const node_user *u = API_USER(a);
	static const char hello[] = "retry: 3000\nevent: hello\ndata: {}\n\n";

	if (l == NULL)
		return route_fail(a, 500, NULL, "out of memory");
	reap(l);
	if (l->nl_n >= NODE_LIVE_MAX) {
		http_add_header(req, "Retry-After", "30");
		return route_fail(a, 503, NULL, "too many live screens; the list is polled instead");
	}
	if (!l->nl_timer_on) {
		if (uv_timer_init(n->nd_loop, &l->nl_timer) != 0)
			return route_fail(a, 500, NULL, "cannot start the live list");
		l->nl_timer.data = n;
		l->nl_timer_on = 1;
		uv_timer_start(&l->nl_timer, heartbeat, heartbeat_ms(), heartbeat_ms());
	}
	if (http_stream_begin(req, 200, "text/event-stream; charset=utf-8") != 0) {
		if (req->conn != NULL) /* not begun: HTTP/1.0, or out of memory */
			return route_fail(a, 400, NULL, "the live list needs HTTP/1.1");
		http_stream_end(req); /* the client left */
		return ROUTE_TAKEN;
	}
	if (http_stream_write(req, hello, sizeof hello - 1) != 0) {
		http_stream_end(req);
		return ROUTE_TAKEN;
	}
	l->nl_req[l->nl_n] = req;
	snprintf(l->nl_office[l->nl_n], sizeof l->nl_office[0], "%s", u ? u->office_id : "");
	l->nl_n++;
	return ROUTE_TAKEN;
}

void node_live_notify(node *n)
{
	struct node_live *l = n->nd_live;

	if (l != NULL && l->nl_n > 0)
		l->nl_dirty = 1;
}

void node_live_committed(node *n, int ok)
{
	struct node_live *l = n->nd_live;
	char msg[160];
	int len;

	if (l == NULL || !l->nl_dirty)
		return;
	l->nl_dirty = 0;
	if (!ok)
		return;
	len = snprintf(msg, sizeof msg, "event: checkins\ndata: {\"office_id\":\"%s\"}\n\n",
		       n->nd_office_id);
	if (len <= 0 || (size_t)len >= sizeof msg)
		return;
	for (int i = l->nl_n - 1; i >= 0; i--) {
		/* Per office: a listener of another office (none today: a node
		 * serves one) hears nothing of this one. */
		if (l->nl_office[i][0] && strcmp(l->nl_office[i], n->nd_office_id) != 0)
			continue;
		if (http_stream_write(l->nl_req[i], msg, (size_t)len) != 0)
			drop(l, i);
	}
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

void node_live_stop(node *n)
{
	struct node_live *l = n->nd_live;

	if (l == NULL)
		return;
	while (l->nl_n > 0)
		drop(l, l->nl_n - 1);
	n->nd_live = NULL;
	if (l->nl_timer_on) {
		uv_timer_stop(&l->nl_timer);
		l->nl_timer.data = l;
		uv_close((uv_handle_t *)&l->nl_timer, timer_closed);
	} else {
		free(l);
	}
}

/* The stream is taken by get_events and answered for as long as it lives. */
static const route_def live_defs[] = {
	{HTTP_M_GET, "/api/v1/greeter/events", get_events, PRIV_GREETER_DESK, ROUTE_DEFER, NULL, 0},
};

const route_list live_route_list = ROUTE_LIST(live_defs);
