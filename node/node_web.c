/*
 * node_web.c - health check and the embedded web UI of the office node.
 */
#include "node/node.h"
#include "model/schema.h"
#include "lib/clock.h"

#include <string.h>

static void healthz(http_req *req, void *ctx)
{
	node *n = ctx;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddStringToObject(o, "role", "node");
	cJSON_AddStringToObject(o, "version", OUTPOST_VERSION);
	cJSON_AddStringToObject(o, "node_id", n->nd_node_id);
	cJSON_AddStringToObject(o, "office_id", n->nd_office_id);
	cJSON_AddStringToObject(o, "local_area_id", n->nd_local_area_id);
	cJSON_AddNumberToObject(o, "schema_version", schema_version());
	cJSON_AddNumberToObject(o, "time_ms", (double)node_now_ms(n));
	{
		char today[11];
		node_today(n, today); /* the office's date, not the browser's */
		cJSON_AddStringToObject(o, "today", today);
	}
	cJSON_AddNumberToObject(o, "uptime_s", (double)((clock_ms() - n->nd_started_ms) / 1000));
	http_reply_json(req, 200, o);
}

static void static_file(http_req *req, void *ctx)
{
	const char *path = req->path;

	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if (http_serve_asset(req, assets_node, path) != 0)
		http_reply_error(req, 404, NULL, "no such page");
}

int web_routes(node *n, router *r)
{
	int rc = 0;

	rc |= router_add(r, HTTP_M_GET, "/healthz", healthz, n);
	rc |= router_add(r, HTTP_M_GET, "/*", static_file, n);
	rc |= router_add(r, HTTP_M_HEAD, "/*", static_file, n);
	return rc ? -1 : 0;
}
