/*
 * node_web.c - health check and the embedded web UI of the office node.
 */
#include "node/node.h"
#include "node/node_auth.h"
#include "node/node_api.h"
#include "model/schema.h"
#include "lib/clock.h"

#include <ctype.h>
#include <string.h>

static route_rc healthz(route_call *a)
{
	node *n = API_NODE(a);
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddStringToObject(o, "role", "node");
	cJSON_AddStringToObject(o, "version", OUTPOST_VERSION);
	cJSON_AddStringToObject(o, "node_id", n->nd_node_id);
	cJSON_AddStringToObject(o, "office_id", n->nd_office_id);
	cJSON_AddStringToObject(o, "local_area_id", n->nd_local_area_id);
	{
		/* The office's name and zone, for the pages' header and times. */
		char name[JSON_TEXT_BYTES(120)]; /* hub_setup.c: at most 120 characters */
		if (db_text(n->nd_db, "SELECT name FROM offices WHERE id=?", n->nd_office_id, name,
			    sizeof name) == 0)
			cJSON_AddStringToObject(o, "office_name", name);
		cJSON_AddStringToObject(o, "timezone", n->nd_tz); /* the one in force */
	}
	cJSON_AddNumberToObject(o, "schema_version", schema_version());
	cJSON_AddNumberToObject(o, "time_ms", (double)node_now_ms(n));
	{
		char today[11];
		node_today(n, today); /* the office's date, not the browser's */
		cJSON_AddStringToObject(o, "today", today);
	}
	cJSON_AddNumberToObject(o, "uptime_s", (double)((clock_ms() - n->nd_started_ms) / 1000));
	db_health_json(o); /* disk_full, storage_error */
	return route_ok(a, 200, o);
}

/* Pages anyone may open: the login page and the visitor kiosk.  Every other
 * page sends a visitor who is not signed in to the login page (scripts,
 * styles and images hold no data and stay public). */
static int public_page(const char *path)
{
	size_t len = strlen(path);

	if (len < 5 || strcmp(path + len - 5, ".html") != 0)
		return 1;
	return strcmp(path, "/login.html") == 0 || strcmp(path, "/kiosk.html") == 0;
}

/* An unknown path: a page a person can read when a browser asked for one
 * (404.html, with the status 404), else the JSON error. */
static void not_found(http_req *req)
{
	const char *accept = http_req_header(req, "accept");
	const asset *a = asset_find(assets_node, "/404.html");

	if (a && accept && strstr(accept, "text/html") && strncmp(req->path, "/api/", 5) != 0) {
		http_add_header(req, "Cache-Control", "no-store");
		http_reply(req, 404, a->content_type, a->data, a->len);
		return;
	}
	http_reply_error(req, 404, NULL, "no such page");
}

static route_rc static_file(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const char *path = req->path;

	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if (!public_page(path) && asset_find(assets_node, path) != NULL &&
	    node_auth_user(n, req) == NULL) {
		char loc[600], next[400];
		size_t j = 0;
		/* next= keeps the page (percent-encoded), never a foreign URL. */
		for (const char *p = req->target; *p && j + 4 < sizeof next; p++) {
			unsigned char ch = (unsigned char)*p;
			if (isalnum(ch) || strchr("/-_.~", ch))
				next[j++] = (char)ch;
			else
				j += (size_t)snprintf(next + j, sizeof next - j, "%%%02X", ch);
		}
		next[j] = '\0';
		snprintf(loc, sizeof loc, "/login.html?next=%s", next);
		http_add_header(req, "Location", loc);
		http_add_header(req, "Cache-Control", "no-store");
		http_reply(req, 302, "text/plain; charset=utf-8", "sign in first\n", 14);
		return ROUTE_TAKEN;
	}
	/* ETags and 304s are the asset server's */
	if (http_serve_asset(req, assets_node, path) != 0)
		not_found(req);
	return ROUTE_TAKEN;
}

static const route_def web_defs[] = {
	{HTTP_M_GET, "/healthz", healthz, 0, ROUTE_PUBLIC, NULL, 0},
	/* pages: public; a page with data redirects a visitor who is not signed in
	 * (HEAD too: a GET row answers HEAD, lib/router.c) */
	{HTTP_M_GET, "/*", static_file, 0, ROUTE_PUBLIC | ROUTE_ASSET | ROUTE_DEFER, NULL, 0},
};

/* Last in the node's table: its catch-all takes whatever no other route does. */
const route_list web_route_list = ROUTE_LIST(web_defs);
