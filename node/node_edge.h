/*
 * node_edge.h - the office node at the network edge (DESIGN.md, "The
 * network edge"): what is refused before a request's body is read.
 *
 * node_edge_gate is the HTTP server's pre-body gate (lib/http.h): a Host
 * the node does not answer to gets 421 (400 without Host), so a web page on
 * a rebound DNS name cannot reach the node from a browser on the LAN; a
 * declared route (node_api.h) refuses a caller without its privilege from
 * the headers (route_head_check); and a request with a body and no live
 * session may send NODE_ANON_BODY_MAX bytes at most (401 at once beyond,
 * before any body byte or 100 Continue), so uploads wait for a sign-in.
 *
 * The node answers to: localhost, 127.x.y.z, ::1, the address named in its
 * `listen` setting, and the names of its `hosts` setting.
 */
#ifndef OUTPOST_NODE_EDGE_H
#define OUTPOST_NODE_EDGE_H

#include "node/node.h"

#define NODE_ANON_BODY_MAX (32 * 1024)
/* Visitor lookups by phone without a session, per client address. */
#define NODE_LOOKUP_BURST 10
#define NODE_LOOKUP_PER_MIN 10

/* An http_pre_body with ctx = the node. */
int node_edge_gate(http_req *req, void *ctx, const char **why);
/* 1 when the node answers to the Host header value host (NULL: no). */
int node_edge_host_ok(node *n, const char *host);
/*
 * HTTPS on the LAN (setting https_listen): serve the same routes with TLS
 * on that address with DATA/node.crt and DATA/node.key (the certificate the
 * hub signed at enrollment, `outpost-sync enroll --name ...`), and answer to
 * the names of DATA/node.names.  The plain listener then serves only
 * loopback clients and redirects everyone else to HTTPS (308).  A renewed
 * pair (`outpost-sync renew-cert` replaces both files) is served from the
 * next connection on, no restart.  0, or -1 with *err (static text).  A
 * no-op when https_listen is empty.
 */
int node_edge_https_start(node *n, const char **err);
/* The redirect and HSTS part, first thing of the node's dispatch: 1 when
 * it answered req (a redirect). */
int node_edge_https_only(node *n, http_req *req);
/*
 * Whether a staff sign-in in req may go on: over HTTPS, from the machine
 * itself, or with the setting lan_http = yes.  Plain HTTP from the office
 * network (no https_listen) would carry the password, and then the session
 * and the records it opens, in the clear.  1 may, 0 may not.
 */
int node_edge_signin_ok(node *n, http_req *req);

/* One visitor lookup without a session from address peer: 0 when it may go
 * on (a token is taken), else the milliseconds until it may. */
uint64_t node_edge_lookup_wait(const char *peer);
/* The same for one check-in at the kiosk (no front-desk session) from the
 * address peer: at most per_min a minute, as many at once, and ten times
 * that from its group (an IPv6 /64; per_min 0: no bound). */
uint64_t node_edge_checkin_wait(const char *peer, const char *group, int per_min);

#endif
