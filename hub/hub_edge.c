/*
 * hub_edge.c - the hub's gate before any request body is read (lib/http.h,
 * http_server_set_pre_body): a body is read only from a caller that names
 * itself.  A declared route (hub_api.h) that needs a privilege is checked
 * from the headers by its table (route_head_check): a node's signed request
 * by its signature over the body hash it states (hub_sync_auth.c), before
 * any of its (up to 8 MiB) body is read; an administrator's by the bearer
 * token or a live console session.  Anyone else (enrollment, sign-in) may
 * send HUB_ANON_BODY_MAX bytes at most, charged to the anonymous body budget
 * (http_req_cap_body), so such bodies never take memory a node's push needs.
 */
#include "hub/hub_api.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "sync/sync.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int hub_edge_caller_known(hub *h, http_req *req)
{
	const char *a = http_req_header(req, "authorization");

	if (a && strncasecmp(a, "Bearer ", 7) == 0) {
		a += 7;
		a += strspn(a, " ");
		if (strlen(a) == 64 && crypto_ct_cmp(a, h->hb_admin_token, 64) == 0)
			return 1;
	}
	return acct_session_live(h, req);
}

int hub_edge_gate(http_req *req, void *ctx, const char **why)
{
	hub *h = ctx;
	int st, declared;

	if (!http_req_has_body(req))
		return 0;
	st = hub_api_head_check(h, req, &declared, why);
	if (st != 0) {
		log_info("refused %s %s from %s before its body: %s", req->method_str, req->path,
			 req->peer, *why);
		return st;
	}
	if (declared || hub_edge_caller_known(h, req))
		return 0;
	if (http_req_cap_body(req, HUB_ANON_BODY_MAX)) {
		*why = "sign in (or sign the request) before sending a body this large";
		return 401;
	}
	return 0;
}
