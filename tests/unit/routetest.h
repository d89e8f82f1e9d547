/*
 * routetest.h - for the route-table tests (test_routes.c, test_hub_api.c):
 * a declared route's method as text, for failure messages.
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

#endif
