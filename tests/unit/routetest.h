/*
 * routetest.h - for the route-table tests (test_routes.c, test_hub_api.c):
 * every route of a table in turn, and a declared route's method as text,
 * for failure messages.
 */
#ifndef OUTPOST_ROUTETEST_H
#define OUTPOST_ROUTETEST_H

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

#endif
