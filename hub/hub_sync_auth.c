/*
 * hub_sync_auth.c - who signed a sync request (sync.h, "HTTP API"): a known,
 * unrevoked node, with a fresh time, an unused nonce and the HMAC of its
 * secret.
 *
 * Checked twice, because the signature covers the body through its hash:
 *
 *   before the body (hub_sync_head_check, the network edge's gate through
 *   the route table's ro_head): every header, the node, the signature over
 *   the hash the request states in X-Outpost-Content-SHA256 (a request with
 *   a body must state it) and that the nonce is unused.  Whoever does not
 *   hold the node's secret is refused here, none of the body read.
 *
 *   after it (hub_sync_auth, the dispatcher's ro_auth): the same over the
 *   body as it arrived, so a body that is not the stated one is refused
 *   (401) before the route's function runs: nothing applied.  Only here is
 *   the nonce spent and the node's last contact noted.
 *
 * The loop thread's connection (hb_db) serves both.
 */
#include "hub/hub.h"
#include "lib/crypto.h"
#include "lib/log.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The headers of a signed request, checked as far as they go alone. */
typedef struct signed_head {
	const char *sh_node, *sh_time, *sh_nonce, *sh_schema;
	char sh_sig[65];  /* lower case */
	char sh_hash[65]; /* X-Outpost-Content-SHA256, lower case; "" when absent */
	long long sh_t;
} signed_head;

void hub_sync_add_time(http_req *req)
{
	char t[32];

	snprintf(t, sizeof t, "%" PRIu64, hub_now_ms());
	http_add_header(req, "X-Outpost-Time", t);
}

static void refuse(http_req *req, int status, const char *node_id, const char *why)
{
	log_info("refused %s %s from %s (node %s): %s", req->method_str, req->path,
		 req->peer, node_id ? node_id : "-", why);
	hub_sync_add_time(req);
	http_reply_error(req, status, NULL, "%s", why);
}

static void lower_copy(char *out, const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[n] = '\0';
}

/*
 * What the headers say alone: all four present, a node id that fits, a
 * fresh time, a 32-hex nonce, a 64-hex signature and, when present, a
 * 64-hex body hash.  0, or 401 with why (n bytes) saying what is wrong.
 */
static int head_parse(http_req *req, signed_head *s, char *why, size_t n)
{
	const char *sig = http_req_header(req, "x-outpost-signature");
	const char *hash = http_req_header(req, "x-outpost-content-sha256");
	long long now = (long long)hub_now_ms();
	char *end;

	memset(s, 0, sizeof *s);
	s->sh_node = http_req_header(req, "x-outpost-node");
	s->sh_time = http_req_header(req, "x-outpost-time");
	s->sh_nonce = http_req_header(req, "x-outpost-nonce");
	s->sh_schema = http_req_header(req, "x-outpost-schema");
	snprintf(why, n, "%s", "unknown node");
	if (!s->sh_node || !s->sh_time || !s->sh_nonce || !sig) {
		snprintf(why, n, "%s", "request is not signed (X-Outpost-Node, -Time, -Nonce "
				       "and -Signature are required)");
		return 401;
	}
	if (strlen(s->sh_node) == 0 || strlen(s->sh_node) >= sizeof((hub_node *)0)->hn_id)
		return 401;
	s->sh_t = strtoll(s->sh_time, &end, 10);
	if (*s->sh_time == '\0' || *end != '\0' || s->sh_t <= 0) {
		snprintf(why, n, "%s", "malformed X-Outpost-Time");
		return 401;
	}
	if (llabs(s->sh_t - now) > SYNC_CLOCK_SKEW_MS) {
		snprintf(why, n,
			 "request time is %lld s away from the hub clock (at most %d s allowed)",
			 (s->sh_t - now) / 1000, SYNC_CLOCK_SKEW_MS / 1000);
		return 401;
	}
	if (!crypto_is_hex(s->sh_nonce, 32)) {
		snprintf(why, n, "%s", "malformed X-Outpost-Nonce (32 hex characters)");
		return 401;
	}
	if (!crypto_is_hex(sig, 64)) {
		snprintf(why, n, "%s", "bad signature");
		return 401;
	}
	lower_copy(s->sh_sig, sig, 64);
	if (hash != NULL) {
		if (!crypto_is_hex(hash, 64)) {
			snprintf(why, n, "%s",
				 "malformed " SYNC_CONTENT_HASH_HEADER " (64 hex characters)");
			return 401;
		}
		lower_copy(s->sh_hash, hash, 64);
	}
	return 0;
}

/* The node the request names: 0 (*nd filled), 401 unknown or revoked, 503 a
 * database error; why says which. */
static int head_node(hub *h, const signed_head *s, hub_node *nd, const char **why)
{
	int rc = hub_node_get(h->hb_db, s->sh_node, nd);

	if (rc < 0) {
		*why = "the hub database could not complete the request";
		return 503;
	}
	*why = rc == DB_ABSENT ? "unknown node" : "node revoked";
	return rc == DB_ABSENT || nd->hn_revoked ? 401 : 0;
}

/* Has the node used this nonce already (written, or noted and waiting:
 * hub_contact_note)?  1 yes, 0 no, -1 error. */
static int nonce_seen(hub *h, const char *node_id, const char *nonce)
{
	sqlite3 *db = h->hb_db;
	sqlite3_stmt *st = NULL;
	int rc;

	if (hub_contact_seen(h, node_id, nonce))
		return 1;
	if (db_prepare(db, &st, "SELECT 1 FROM nonces WHERE node_id=? AND nonce=?") != 0)
		return -1;
	sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nonce, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int hub_sync_head_check(hub *h, http_req *req, int has_body, const char **why)
{
	static char msg[192]; /* the loop thread's: the gate copies it at once */
	signed_head s;
	hub_node nd;
	char want[65], empty[65];
	int st, rc;

	memset(&nd, 0, sizeof nd);
	*why = msg;
	if ((st = head_parse(req, &s, msg, sizeof msg)) != 0)
		goto out;
	if ((st = head_node(h, &s, &nd, why)) != 0)
		goto out;
	st = 401;
	if (has_body && s.sh_hash[0] == '\0') {
		*why = "a signed request with a body states its hash (" SYNC_CONTENT_HASH_HEADER
		       ") before it: upgrade outpost on the node";
		goto out;
	}
	if (!has_body && s.sh_hash[0] == '\0') {
		sync_body_hash("", 0, empty);
		memcpy(s.sh_hash, empty, sizeof empty);
	}
	sync_sign_hash(nd.hn_secret, req->method_str, req->target, s.sh_time, s.sh_nonce,
		       s.sh_hash, want);
	st = 401;
	*why = "bad signature";
	if (crypto_ct_cmp(want, s.sh_sig, 64) != 0)
		goto out;
	rc = nonce_seen(h, s.sh_node, s.sh_nonce);
	st = rc < 0 ? 503 : rc == 1 ? 409 : 0;
	*why = rc < 0 ? "the hub database could not complete the request"
		      : "nonce already used (replayed request)";
out:
	crypto_wipe(nd.hn_secret, sizeof nd.hn_secret);
	crypto_wipe(want, sizeof want);
	return st;
}

/* The schema version the request states, or -1. */
static int64_t stated_schema(const signed_head *s)
{
	const char *v = s->sh_schema;

	if (v && *v && strspn(v, "0123456789") == strlen(v) && strlen(v) < 10)
		return atoll(v);
	return -1;
}

/* The release the request's User-Agent names ("outpost-sync/RELEASE", as
 * sync/client_http.c sends it), or NULL: shown by the console beside the
 * schema version (not signed, as X-Outpost-Schema is not: a label). */
static const char *stated_release(http_req *req)
{
	static const char pre[] = "outpost-sync/";
	const char *ua = http_req_header(req, "user-agent"), *r;
	size_t len;

	if (ua == NULL || strncmp(ua, pre, sizeof pre - 1) != 0)
		return NULL;
	r = ua + sizeof pre - 1;
	len = strspn(r, "0123456789.+-~_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
	return len > 0 && r[len] == '\0' && len < HUB_RELEASE_MAX ? r : NULL;
}

/* Note the node's contact (and the schema version and release it states)
 * at once. */
static void note_seen(hub *h, http_req *req, const signed_head *s, uint64_t now)
{
	sqlite3_stmt *st = NULL;
	int64_t v = stated_schema(s);
	const char *rel = stated_release(req);

	if (db_prepare(h->hb_db, &st,
		       "UPDATE nodes SET last_seen_ms=?1, "
		       "schema_version=coalesce(?2, schema_version), "
		       "release=coalesce(?4, release) WHERE id=?3") == 0) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
		if (v >= 0)
			sqlite3_bind_int64(st, 2, v);
		else
			sqlite3_bind_null(st, 2);
		sqlite3_bind_text(st, 3, s->sh_node, -1, SQLITE_STATIC);
		if (rel)
			sqlite3_bind_text(st, 4, rel, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

/* The nonce spent and the contact noted in one commit of their own: 0, 1
 * the nonce was used, -1 error. */
static int spend_now(hub *h, http_req *req, const signed_head *s, uint64_t now)
{
	int rc;

	if (db_exec(h->hb_db, "BEGIN IMMEDIATE") != 0)
		return -1;
	rc = hub_nonce_use(h->hb_db, s->sh_node, s->sh_nonce, now);
	if (rc == 0)
		note_seen(h, req, s, now);
	if (rc == 0 && db_exec(h->hb_db, "COMMIT") != 0)
		rc = -1;
	if (rc != 0)
		db_exec(h->hb_db, "ROLLBACK");
	return rc;
}

int hub_sync_auth(hub *h, http_req *req, hub_node *n, int later)
{
	signed_head s;
	char why[192], have[65], want[65];
	const char *w = why;
	uint64_t now = hub_now_ms();
	int st, rc;

	memset(n, 0, sizeof *n);
	if ((st = head_parse(req, &s, why, sizeof why)) != 0 ||
	    (st = head_node(h, &s, n, &w)) != 0)
		goto refused;
	/* The body as it arrived, against the hash the headers stated (which
	 * the signature may have been checked over before the body came). */
	sync_body_hash(req->body.data, req->body.len, have);
	st = 401;
	w = "the body is not the one its " SYNC_CONTENT_HASH_HEADER " states";
	if (s.sh_hash[0] && strcmp(s.sh_hash, have) != 0)
		goto refused;
	sync_sign_hash(n->hn_secret, req->method_str, req->target, s.sh_time, s.sh_nonce, have,
		       want);
	w = "bad signature";
	if (crypto_ct_cmp(want, s.sh_sig, 64) != 0)
		goto refused;
	/* A job's: spent in memory, committed by the work threads before the
	 * job replies (hub_work.c, hub_sync.c); any other route's, and a job's
	 * when that list is full: at once. */
	rc = nonce_seen(h, s.sh_node, s.sh_nonce);
	if (rc == 0 && (!later || hub_contact_note(h, s.sh_node, s.sh_nonce, now,
						   stated_schema(&s), stated_release(req),
						   &n->hn_contact) != 0)) {
		n->hn_contact = 0;
		rc = spend_now(h, req, &s, now);
	}
	st = rc < 0 ? 500 : 409;
	w = rc < 0 ? "the hub database could not complete the request"
		   : "nonce already used (replayed request)";
	if (rc != 0)
		goto refused;
	return 0;
refused:
	crypto_wipe(n->hn_secret, sizeof n->hn_secret);
	if (st >= 500) {
		hub_sync_add_time(req);
		http_reply_error(req, 500, NULL, "%s", w);
	} else {
		refuse(req, st, s.sh_node, w);
	}
	return -1;
}
