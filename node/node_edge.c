/*
 * node_edge.c - the office node's gate before any request body is read
 * (lib/http.h, http_server_set_pre_body): the Host allow-list against DNS
 * rebinding, and who may send a body of what size.  See node_edge.h.
 */
#include "node/node_edge.h"
#include "node/node_api.h"
#include "node/node_auth.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/tls.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The host part of a Host header value (no port, no IPv6 brackets) into
 * out.  -1 when it does not fit or is malformed. */
static int host_name(const char *v, char *out, size_t n)
{
	const char *end;
	size_t len;

	if (v[0] == '[') {
		end = strchr(v, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return -1;
		v++;
	} else {
		end = strchr(v, ':');
		if (end == NULL)
			end = v + strlen(v);
	}
	len = (size_t)(end - v);
	if (len == 0 || len >= n)
		return -1;
	memcpy(out, v, len);
	out[len] = '\0';
	while (len > 0 && out[len - 1] == '.') /* "example." is "example" */
		out[--len] = '\0';
	return len > 0 ? 0 : -1;
}

/* name is one of the comma- or space-separated names of list. */
static int in_list(const char *list, const char *name)
{
	size_t nl = strlen(name);

	while (list && *list) {
		size_t l;
		list += strspn(list, ", \t");
		l = strcspn(list, ", \t");
		if (l == nl && l > 0 && strncasecmp(list, name, l) == 0)
			return 1;
		list += l;
	}
	return 0;
}

int node_edge_host_ok(node *n, const char *host)
{
	char name[256], listen[256];
	const char *colon;
	struct in_addr v4;

	if (host == NULL || host_name(host, name, sizeof name) != 0)
		return 0;
	if (strcasecmp(name, "localhost") == 0 || strcmp(name, "::1") == 0 ||
	    (inet_pton(AF_INET, name, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127))
		return 1;
	if (in_list(conf_str(&n->nd_conf, "hosts"), name))
		return 1;
	/* the address the node listens on, when it names one */
	snprintf(listen, sizeof listen, "%s", conf_str(&n->nd_conf, "listen"));
	colon = strrchr(listen, ':');
	if (colon)
		listen[colon - listen] = '\0';
	if (listen[0] == '[') {
		size_t l = strlen(listen);
		if (l >= 2 && listen[l - 1] == ']') {
			memmove(listen, listen + 1, l - 2);
			listen[l - 2] = '\0';
		}
	}
	if (strcmp(listen, "0.0.0.0") != 0 && strcmp(listen, "::") != 0 &&
	    strcasecmp(listen, name) == 0)
		return 1;
	return in_list(n->nd_tls_names, name);
}

int node_edge_gate(http_req *req, void *ctx, const char **why)
{
	node *n = ctx;
	const char *field = NULL;
	int st;

	if (!node_edge_host_ok(n, http_req_header(req, "host"))) {
		log_info("refused %s %s from %s: Host not served here", req->method_str,
			 req->path, req->peer);
		*why = "this office node does not answer to that host name";
		return http_req_header(req, "host") ? 421 : 400;
	}
	/* Nothing to read: the route's own check (router dispatch) answers as
	 * this one would, and a session is looked up once per request. */
	if (!http_req_has_body(req))
		return 0;
	/* A declared route's privilege, from the headers (lib/route.h). */
	node_ver_scope(n, 1);
	st = n->nd_api != NULL ? node_api_head_check(n, req, &field, why) : 0;
	node_ver_scope(n, 0);
	if (st != 0)
		return st;
	if (node_auth_session_live(n, req))
		return 0;
	/* No session: a small body or none (sign-in, the visitor kiosk). */
	if (http_req_cap_body(req, NODE_ANON_BODY_MAX)) {
		*why = "please sign in";
		return 401;
	}
	return 0;
}

/*
 * Per client address without a session, a bucket of tokens refilled at a
 * rate: visitor lookups (NODE_LOOKUP_BURST, NODE_LOOKUP_PER_MIN) and kiosk
 * check-ins (kiosk_checkins_per_minute, as many at once).  A bounded table
 * each; when full, the entry seen longest ago gives way (so a flood of
 * addresses only forgets buckets, it never blocks anyone for long).
 */
#define BUCKET_SLOTS 256
typedef struct bucket_slot {
	char bs_peer[64];
	double bs_tokens;
	uint64_t bs_ms;
} bucket_slot;
static bucket_slot lookup_slots[BUCKET_SLOTS], checkin_slots[BUCKET_SLOTS];
static bucket_slot checkin_group_slots[BUCKET_SLOTS];

/* Milliseconds peer must wait for a token of its bucket in slots (0: one
 * taken now). */
static uint64_t bucket_wait(bucket_slot *slots, const char *peer, double burst, double per_min)
{
	uint64_t now = clock_ms();
	bucket_slot *s = NULL, *oldest = &slots[0];
	double per_ms = per_min / 60000.0;

	for (int i = 0; i < BUCKET_SLOTS; i++) {
		bucket_slot *x = &slots[i];
		if (x->bs_peer[0] && strcmp(x->bs_peer, peer) == 0) {
			s = x;
			break;
		}
		if (x->bs_ms < oldest->bs_ms)
			oldest = x;
	}
	if (s == NULL) {
		s = oldest;
		snprintf(s->bs_peer, sizeof s->bs_peer, "%s", peer);
		s->bs_tokens = burst;
		s->bs_ms = now;
	}
	s->bs_tokens += (double)(now - s->bs_ms) * per_ms;
	if (s->bs_tokens > burst)
		s->bs_tokens = burst;
	s->bs_ms = now;
	if (s->bs_tokens < 1.0)
		return (uint64_t)((1.0 - s->bs_tokens) / per_ms) + 1;
	s->bs_tokens -= 1.0;
	return 0;
}

uint64_t node_edge_lookup_wait(const char *peer)
{
	return bucket_wait(lookup_slots, peer, NODE_LOOKUP_BURST, NODE_LOOKUP_PER_MIN);
}

uint64_t node_edge_checkin_wait(const char *peer, const char *group, int per_min)
{
	uint64_t w;

	if (per_min <= 0)
		return 0;
	/* Each kiosk by its own address (an office's IPv6 network is one /64:
	 * its kiosks share the group), and a group ten times that (one device
	 * taking many addresses of its /64). */
	if ((w = bucket_wait(checkin_slots, peer, per_min, per_min)) != 0)
		return w;
	return strcmp(peer, group) == 0 ? 0
					: bucket_wait(checkin_group_slots, group, 10.0 * per_min,
						      10.0 * per_min);
}

/* ---- HTTPS on the LAN ---------------------------------------------------------- */

/* A client on the node machine itself: 127.0.0.1 or ::1 (the tests use
 * 127.0.0.2 and up as other office PCs). */
static int loopback_peer(const char *peer)
{
	return strcmp(peer, "127.0.0.1") == 0 || strcmp(peer, "::1") == 0 ||
	       strcmp(peer, "::ffff:127.0.0.1") == 0 || strcmp(peer, "memory") == 0;
}

int node_edge_signin_ok(node *n, http_req *req)
{
	return req->is_tls || loopback_peer(req->peer) || conf_bool(&n->nd_conf, "lan_http");
}

int node_edge_https_only(node *n, http_req *req)
{
	char host[256], loc[2048];
	const char *h = http_req_header(req, "host");
	const char *port;

	if (req->is_tls) {
		http_add_header(req, "Strict-Transport-Security", "max-age=31536000");
		return 0;
	}
	if (n->nd_https == NULL || loopback_peer(req->peer))
		return 0;
	if (h == NULL || host_name(h, host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	port = strrchr(conf_str(&n->nd_conf, "https_listen"), ':');
	snprintf(loc, sizeof loc, "https://%s%s%s%s", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", port ? port : "");
	if (strlen(loc) + strlen(req->target) < sizeof loc)
		strcat(loc, req->target);
	http_add_header(req, "Location", loc);
	http_reply_error(req, 308, NULL, "this office node is served over HTTPS");
	return 1;
}

static void read_names(node *n)
{
	char path[PATH_MAX + 32];
	FILE *f;
	size_t len;

	snprintf(path, sizeof path, "%s/node.names", n->nd_data);
	n->nd_tls_names[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return;
	len = fread(n->nd_tls_names, 1, sizeof n->nd_tls_names - 1, f);
	n->nd_tls_names[len] = '\0';
	fclose(f);
}

/* What the certificate was loaded from: node.crt's and node.key's inode,
 * size and modification time (renew-cert replaces both by rename). */
static char tls_stamp[256], tls_failed[256];

static void files_stamp(const char *crt, const char *key, char *out, size_t len)
{
	struct stat a, b;

	if (stat(crt, &a) != 0 || stat(key, &b) != 0) {
		snprintf(out, len, "-");
		return;
	}
	snprintf(out, len, "%ju.%jd.%jd.%ld/%ju.%jd.%jd.%ld", (uintmax_t)a.st_ino,
		 (intmax_t)a.st_size, (intmax_t)a.st_mtim.tv_sec, a.st_mtim.tv_nsec,
		 (uintmax_t)b.st_ino, (intmax_t)b.st_size, (intmax_t)b.st_mtim.tv_sec,
		 b.st_mtim.tv_nsec);
}

/*
 * The HTTPS server's http_tls_source: when node.crt or node.key changed
 * since they were loaded (a renew-cert), load them again and serve the new
 * pair from this connection on (open connections keep the old one, which
 * goes with the last of them: tls.h), with the names it was made for.  A
 * pair that does not load (renew-cert moves the certificate, then the key:
 * between the two they do not match) keeps the one in use, and is tried
 * again at the next connection.
 */
static tls_config *https_config(void *ctx)
{
	node *n = ctx;
	char crt[PATH_MAX + 32], key[PATH_MAX + 32], stamp[sizeof tls_stamp];
	const char *err = NULL;
	tls_config *cfg;

	snprintf(crt, sizeof crt, "%s/node.crt", n->nd_data);
	snprintf(key, sizeof key, "%s/node.key", n->nd_data);
	files_stamp(crt, key, stamp, sizeof stamp);
	if (strcmp(stamp, tls_stamp) == 0 || strcmp(stamp, "-") == 0)
		return NULL;
	if ((cfg = tls_config_new(crt, key, 0, &err)) == NULL) {
		if (strcmp(stamp, tls_failed) != 0)
			log_warnx("cannot load the renewed certificate '%s': %s (the one in use "
				  "stays)", crt, err ? err : "unknown error");
		snprintf(tls_failed, sizeof tls_failed, "%s", stamp);
		return NULL;
	}
	tls_config_free(n->nd_tls);
	n->nd_tls = cfg;
	snprintf(tls_stamp, sizeof tls_stamp, "%s", stamp);
	read_names(n);
	log_info("serving the renewed certificate '%s' for %s from now on", crt,
		 n->nd_tls_names[0] ? n->nd_tls_names : "(no names)");
	return cfg;
}

int node_edge_https_start(node *n, const char **err)
{
	char crt[PATH_MAX + 32], key[PATH_MAX + 32];
	const char *at = conf_str(&n->nd_conf, "https_listen");
	int rc;

	if (at == NULL || *at == '\0')
		return 0;
	snprintf(crt, sizeof crt, "%s/node.crt", n->nd_data);
	snprintf(key, sizeof key, "%s/node.key", n->nd_data);
	files_stamp(crt, key, tls_stamp, sizeof tls_stamp);
	n->nd_tls = tls_config_new(crt, key, 0, err);
	if (n->nd_tls == NULL)
		return -1;
	read_names(n);
	*err = "out of memory";
	n->nd_https = http_server_new(n->nd_loop, node_auth_dispatch, n);
	if (n->nd_https == NULL)
		return -1;
	http_server_set_max_body(n->nd_https, (size_t)conf_int(&n->nd_conf, "max_body"));
	http_server_set_body_limit(n->nd_https, router_body_limit, n->nd_router);
	http_server_set_pre_body(n->nd_https, node_edge_gate, n);
	http_server_set_tls(n->nd_https, n->nd_tls);
	http_server_set_tls_source(n->nd_https, https_config, n);
	rc = http_server_listen(n->nd_https, at);
	if (rc != 0) {
		*err = uv_strerror(rc);
		return -1;
	}
	log_info("office node serving HTTPS on %s for %s", at,
		 n->nd_tls_names[0] ? n->nd_tls_names : "(no names)");
	return 0;
}
