/*
 * client_int.h - private to the node's side of the protocol (sync/client*.c),
 * split by concern, each file depending only on those listed before it:
 *
 *   client_util.c      result names, the one-line error text, id alphabet
 *   client_identity.c  DIR/sync.json (the node's identity and secret)
 *   client_state.c     node.db bookkeeping: nodesync tables, adoption, status
 *   client_http.c      signed and pinned requests over libcurl
 *   client_enroll.c    enrollment (trust on first use, then pinned)
 *   client_push.c      the outbox, pushed in bounded frames
 *   client_pull.c      pull pages and the snapshot
 *   client.c           the cycle that strings push and pull together
 *
 * Trust: the hub's certificate is self-signed, so ordinary chain and host
 * name checks are off and the pinned public key (CURLOPT_PINNEDPUBLICKEY,
 * "sha256//base64" of the hub's SubjectPublicKeyInfo) is the trust anchor:
 * the TLS handshake fails before any request byte is sent when the key
 * differs.  Every request after enrollment is also HMAC-signed (auth.c).
 *
 * Returns: SYNC_OK / SYNC_E_* for what client.h exports; 0 / -1 for the
 * helpers below unless they say otherwise.
 */
#ifndef OUTPOST_SYNC_CLIENT_INT_H
#define OUTPOST_SYNC_CLIENT_INT_H

#include "sync/client.h"
#include "lib/log.h"

#include <curl/curl.h>
#include "sync/curl_load.h" /* after curl.h: libcurl is loaded on first use */

/* ---- client_util.c ---- */
#define CERR(c, ...) fmt_line((c)->sc_error, sizeof (c)->sc_error, __VA_ARGS__)
/* Ids travel in HTTP headers and file names: 1 when s is 1..max-1 characters
 * of a conservative alphabet, else 0. */
int sync__id_ok(const char *s, size_t max);
/* Scrub the string member name of o (a secret, a code) and free o; NULL is
 * fine.  sync__text_wipe_free: the same for a NUL-terminated text. */
void sync__json_wipe_free(cJSON *o, const char *name);
void sync__text_wipe_free(char *text);
/* A JSON member as an integer, def when absent or not a number. */
int64_t sync__json_i64(const cJSON *o, const char *name, int64_t def);

/* ---- client_identity.c ---- */
/* Copy the string member name of o into out (size n).  0, or -1 when it is
 * missing, not a string or too long. */
int sync__copy_member(const cJSON *o, const char *name, char *out, size_t n);
/* 0 when every field of id is well formed, else -1 with *what naming one. */
int sync__identity_check(const sync_identity *id, const char **what);

/* ---- client_http.c ---- */
/* One transfer's state, shared by curl's callbacks. */
typedef struct xfer {
	sync_client *x_client;
	buf *x_resp;
	int x_overflow;
	int64_t x_next, x_head, x_time;
	int x_more;
	const char *x_what;     /* progress label, NULL = none */
	int x_snapshot;         /* progress counts resp bytes after sc_progress_base */
} xfer;
/* Options every request shares; pin NULL only for the first enrollment call. */
void sync__curl_common(CURL *h, const char *url, const char *pin, long connect_ms,
		       long total_ms, char *errbuf, xfer *x);
/* A curl failure as SYNC_E_*, with err filled for people. */
int sync__map_curl(CURLcode cc, const char *url, const char *errbuf, char *err, size_t n);
/* base (its trailing '/' dropped) followed by path, into out. */
void sync__url_join(const char *base, const char *path, char *out, size_t n);
/* The hub's {"error"} message, or the status text, into c->sc_error. */
void sync__hub_error(sync_client *c, long status, const buf *resp, const char *doing);
/* SYNC_E_AUTH for 401, SYNC_E_SCHEMA for 426, else SYNC_E_OTHER. */
int sync__status_rc(long status);
/* Add a later push's counts into `into` (a cycle's several pushes). */
void sync__push_stats_add(sync_push_stats *into, const sync_push_stats *from);

#endif
