/*
 * routetest.h - for the route-table tests (test_routes.c, test_hub_api.c):
 * every route of a table in turn, a declared route's method as text, for
 * failure messages, and the end of one request through a memory connection.
 */
#ifndef OUTPOST_ROUTETEST_H
#define OUTPOST_ROUTETEST_H

#include <stdio.h>

#include "lib/http.h"
#include "lib/route.h"

static inline const char *method_name(http_method m)
{
	static const char *const names[] = {"OTHER", "GET",   "HEAD",   "POST",
					    "PUT",   "PATCH", "DELETE", "OPTIONS"};
	return names[m];
}

/* The body once for every route of lists (a NULL-terminated array of
 * route lists): l points at its list, d (const route_def *) is the route.
 * No break in the body. */
#define FOR_EACH_ROUTE(lists, l, d)                                                         \
	for (const route_list *const *l = (lists); *l; l++)                                 \
		for (size_t d##_i = 0; d##_i < (*l)->rl_n; d##_i++)                            \
			for (const route_def *d = &(*l)->rl_defs[d##_i]; d; d = NULL)

/* The end of a request through memory connection c of srv (which serves
 * r): what c answered as text into out (size n), then c, srv and r freed. */
static inline void rt_finish(http_conn *c, http_server *srv, router *r, char *out, size_t n)
{
	const buf *o = http__conn_output(c);

	snprintf(out, n, "%.*s", (int)o->len, o->data ? o->data : "");
	http__conn_free(c);
	http_server_close(srv, NULL, NULL);
	http_server_free(srv);
	router_free(r);
}

#endif
