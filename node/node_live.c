/*
 * node_live.c - the front desk's live waiting list: GET /api/v1/greeter/events
 * is a server-sent event stream (text/event-stream) for a signed-in user
 * with the front-desk privilege (as the list's GET).  It opens with
 *
 *     event: hello
 *     data: {"seq":41,"today":"2026-12-03"}
 *
 * after which the desk reads its list once.  After every committed batch
 * that changed this office's check-ins, and after every sync cycle that
 * pulled visits of this office other nodes wrote (the pull apply names
 * them: node_sync.c), each listener gets one event per changed visit,
 * numbered one after the other:
 *
 *     event: checkins
 *     data: {"seq":42,"today":"...","op":"upsert","visit":{...}}
 *
 * with the visit exactly as GET /api/v1/checkins shows it (the desk puts it
 * in its list, or takes it out when its status is no longer shown), or
 * "op":"remove" with the "id" of a visit that is gone, or "op":"reload"
 * when the change cannot be told row by row (too many in one batch, a
 * database error): the desk reads its list again, as it does when a
 * number is missed (a gap in seq) or the stream reconnects.  The rows are
 * the list's (names, phone, note; never an SSN or a secret), so each
 * listener's session and privilege are checked before every event.  A
 * comment line every NODE_LIVE_HEARTBEAT_MS keeps proxies from closing the
 * stream and finds listeners that went away; the stream ends when its
 * session ends (checked without counting as activity).  At most
 * NODE_LIVE_MAX listeners: the next one gets 503 and polls instead.
 */
#include "node/node.h"
#include "node/node_api.h"
#include "node/node_auth.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/testhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_LIVE_MAX 64
#define NODE_LIVE_HEARTBEAT_MS 15000
#define ID_CHARS "0123456789abcdefABCDEF-" /* a check-in id said as it is */

struct node_live {
	uv_timer_t nl_timer;
	int nl_timer_on;
	int nl_dirty;             /* the open batch changed check-ins ... */
	node_visits nl_batch;     /* ... these */
	uint64_t nl_seq;          /* the last event's number */
	int nl_n;
	http_req *nl_req[NODE_LIVE_MAX];
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
		if (!node_auth_live(n, l->nl_req[i], PRIV_GREETER_DESK) ||
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
	char hello[128], today[11];
	int len;

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
	node_today(n, today);
	len = snprintf(hello, sizeof hello,
		       "retry: 3000\nevent: hello\ndata: {\"seq\":%llu,\"today\":\"%s\"}\n\n",
		       (unsigned long long)l->nl_seq, today);
	if (http_stream_write(req, hello, (size_t)len) != 0) {
		http_stream_end(req);
		return ROUTE_TAKEN;
	}
	l->nl_req[l->nl_n++] = req;
	return ROUTE_TAKEN;
}

void node_live_notify(node *n, const char *checkin_id)
{
	struct node_live *l = n->nd_live;

	if (l == NULL || l->nl_n == 0)
		return;
	l->nl_dirty = 1;
	node_visits_add(&l->nl_batch, checkin_id);
}

void node_visits_add(node_visits *s, const char *id)
{
	size_t len;

	if (s->vs_all)
		return;
	if (id == NULL || (len = strlen(id)) >= NODE_VISIT_ID_MAX) {
		s->vs_all = 1;
		return;
	}
	for (int i = 0; i < s->vs_n; i++)
		if (strcmp(s->vs_id[i], id) == 0)
			return;
	if (s->vs_n == NODE_VISITS_MAX)
		s->vs_all = 1;
	else
		memcpy(s->vs_id[s->vs_n++], id, len + 1);
}

/* Every listener that may still see the list gets msg.  The list is this
 * node's office's, whatever a listener's home office (staff of another
 * office of the Local Area read the same list, GET /greeter/waiting), and
 * the events carry only its visits (send_visit). */
static void send_all(node *n, struct node_live *l, const char *msg, size_t len)
{
	for (int i = l->nl_n - 1; i >= 0; i--) {
		if (!node_auth_live(n, l->nl_req[i], PRIV_GREETER_DESK) ||
		    http_stream_write(l->nl_req[i], msg, len) != 0)
			drop(l, i);
	}
}

/* One event: the visit id as the list shows it (or its removal), or a
 * reload when id is NULL or the row cannot be read; none when the visit is
 * another office's or another day's (node_greeter_visit: the desk's list is
 * today's, and another day's visit is a report). */
static void send_visit(node *n, struct node_live *l, const char *id, const char *today)
{
	char *row = NULL;
	size_t rlen = 0;
	int rc = id ? node_greeter_visit(n, id, &row, &rlen) : -1;
	buf b = BUF_INIT(rlen + 256);

	if (rc == 2) {
		buf_release(&b);
		free(row);
		return;
	}
	buf_printf(&b, "event: checkins\ndata: {\"seq\":%llu,\"today\":\"%s\",\"op\":",
		   (unsigned long long)++l->nl_seq, today);
	if (rc == 0) {
		buf_puts(&b, "\"upsert\",\"visit\":");
		buf_append(&b, row, rlen);
		buf_puts(&b, "}\n\n");
	} else if (rc == 1 && strspn(id, ID_CHARS) == strlen(id)) {
		buf_printf(&b, "\"remove\",\"id\":\"%s\"}\n\n", id);
	} else {
		buf_puts(&b, "\"reload\"}\n\n");
	}
	if (buf_failed(&b)) { /* out of memory: the same number, as a reload */
		char small[128];
		int len = snprintf(small, sizeof small, "event: checkins\ndata: {\"seq\":%llu,"
				   "\"today\":\"%s\",\"op\":\"reload\"}\n\n",
				   (unsigned long long)l->nl_seq, today);
		send_all(n, l, small, (size_t)len);
	} else {
		send_all(n, l, b.data, b.len);
	}
	buf_release(&b);
	free(row);
}

/* One event per visit of s, or one reload when s->vs_all. */
static void send_visits(node *n, struct node_live *l, const node_visits *s)
{
	char today[11];

	node_today(n, today);
	if (s->vs_all)
		send_visit(n, l, NULL, today);
	else
		for (int i = 0; i < s->vs_n; i++)
			send_visit(n, l, s->vs_id[i], today);
}

void node_live_committed(node *n, int ok)
{
	struct node_live *l = n->nd_live;

	if (l == NULL || !l->nl_dirty)
		return;
	l->nl_dirty = 0;
	if (ok && l->nl_n > 0)
		send_visits(n, l, &l->nl_batch);
	memset(&l->nl_batch, 0, sizeof l->nl_batch);
}

void node_live_pulled(node *n, const node_visits *p)
{
	struct node_live *l = n->nd_live;

	if (l == NULL || l->nl_n == 0 || (p->vs_n == 0 && !p->vs_all))
		return;
	send_visits(n, l, p);
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
