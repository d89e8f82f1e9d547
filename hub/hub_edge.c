/*
 * hub_edge.c - the hub's gate before any request body is read (lib/http.h,
 * http_server_set_pre_body): a body is read only from a caller that names
 * itself.  A signed sync request (X-Outpost-Node ...) must come from a known,
 * unrevoked node with a fresh time before its (up to 8 MiB) body is read; the
 * signature itself covers the body and is checked once it is in.  Admin
 * requests carry the bearer token or a live console session.  Anyone else
 * (enrollment, sign-in) may send HUB_ANON_BODY_MAX bytes at most.
 */
#include "hub/hub.h"
#include "hub/acct.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "sync/sync.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int has_body(const http_req *req)
{
	const char *cl = http_req_header(req, "content-length");

	if (http_req_header(req, "transfer-encoding") != NULL)
		return 1;
	return cl != NULL && strtoull(cl, NULL, 10) > 0;
}

/* The signature headers of a sync request, all but the signature itself
 * (which covers the body): 0, or the refusal's status with *why. */
static int signed_head_ok(hub *h, http_req *req, const char **why)
{
	const char *node_id = http_req_header(req, "x-outpost-node");
	const char *tstr = http_req_header(req, "x-outpost-time");
	const char *nonce = http_req_header(req, "x-outpost-nonce");
	const char *sig = http_req_header(req, "x-outpost-signature");
	long long t, now = (long long)hub_now_ms();
	char *end;
	hub_node n;
	int rc;

	*why = "request is not signed (X-Outpost-Node, -Time, -Nonce and -Signature are required)";
	if (!node_id || !tstr || !nonce || !sig)
		return 401;
	*why = "malformed X-Outpost-Time";
	t = strtoll(tstr, &end, 10);
	if (*tstr == '\0' || *end != '\0' || t <= 0)
		return 401;
	*why = "request time is too far from the hub clock";
	if (llabs(t - now) > SYNC_CLOCK_SKEW_MS)
		return 401;
	*why = "unknown node";
	if (strlen(node_id) == 0 || strlen(node_id) >= sizeof n.hn_id)
		return 401;
	rc = hub_node_get(h->hb_db, node_id, &n);
	explicit_bzero(n.hn_secret, sizeof n.hn_secret);
	if (rc < 0) {
		*why = "the hub database could not complete the request";
		return 503;
	}
	if (rc == DB_ABSENT)
		return 401;
	*why = "node revoked";
	return n.hn_revoked ? 401 : 0;
}

int hub_edge_gate(http_req *req, void *ctx, const char **why)
{
	hub *h = ctx;
	const char *a = http_req_header(req, "authorization");
	const char *cl;
	int st;

	if (!has_body(req))
		return 0;
	if (strncmp(req->path, "/api/v1/sync/", 13) == 0 &&
	    http_req_header(req, "x-outpost-node") != NULL) {
		st = signed_head_ok(h, req, why);
		if (st != 0)
			log_info("refused %s %s from %s before its body: %s", req->method_str,
				 req->path, req->peer, *why);
		return st;
	}
	if (a && strncasecmp(a, "Bearer ", 7) == 0) {
		a += 7;
		a += strspn(a, " ");
		if (strlen(a) == 64 && crypto_ct_cmp(a, h->hb_admin_token, 64) == 0)
			return 0;
	}
	if (acct_session_live(h, req))
		return 0;
	cl = http_req_header(req, "content-length");
	if (cl != NULL && strtoull(cl, NULL, 10) > HUB_ANON_BODY_MAX) {
		*why = "sign in (or sign the request) before sending a body this large";
		return 401;
	}
	if (req->body.max > HUB_ANON_BODY_MAX)
		req->body.max = HUB_ANON_BODY_MAX;
	return 0;
}
