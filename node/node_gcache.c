/*
 * node_gcache.c - cached JSON of the office's hot reads (node_api.h,
 * node_gcache_reply()): the front desk's screens poll the waiting list and
 * every kiosk the check-in reasons, and between two writes the answer is
 * the same bytes.
 *
 * A reply is kept with the state of the database it was read from
 * (lib/db.h db_version: the connection's own change count and its
 * data_version, which moves with every commit of any other connection or
 * process: a pull's apply, the sync tool).  Both are read before the query,
 * so a commit racing with it only costs the next request a fresh read.
 * Nothing is kept while the connection is inside a transaction (its rows
 * may yet roll back).  A timed reply (the list's wait_ms) is also kept only
 * within the wall-clock second it was computed for.  Every reply carries an
 * ETag - a hash of its bytes, so it is right across restarts - and an
 * If-None-Match naming it gets 304 without a body.
 *
 * The slots live with the connection (db_set_data), so a closed database
 * takes its replies with it.
 */
#include "node/node_api.h"
#include "lib/crypto.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GCACHE_SLOTS 8
#define GCACHE_KEY_MAX 160

typedef struct gslot {
	char gs_key[GCACHE_KEY_MAX];
	db_version gs_ver;
	uint64_t gs_sec;     /* the second of a timed reply, else 0 */
	char *gs_text;
	size_t gs_len;
	char gs_etag[40];
} gslot;

typedef struct gcache {
	gslot gc_slot[GCACHE_SLOTS];
	int gc_next;         /* the slot a new key takes (round robin) */
} gcache;

static const char gcache_key[] = "node_gcache";

static void gcache_free(void *p)
{
	gcache *c = p;

	for (int i = 0; c && i < GCACHE_SLOTS; i++)
		free(c->gc_slot[i].gs_text);
	free(c);
}

static gcache *gcache_of(sqlite3 *db)
{
	gcache *c = db_get_data(db, gcache_key);

	if (c != NULL)
		return c;
	c = calloc(1, sizeof *c);
	if (c != NULL && db_set_data(db, gcache_key, c, gcache_free) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

static void etag_of(const char *text, size_t len, char out[40])
{
	unsigned char h[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	crypto_sha256(text, len, h);
	crypto_hex(h, 12, hex);
	snprintf(out, 40, "\"%.24s\"", hex);
}

route_rc node_gcache_reply(route_call *a, const char *key, unsigned flags, node_gcache_fill fill,
			   const void *arg)
{
	int timed = (flags & GCACHE_TIMED) != 0, personal = (flags & GCACHE_PERSONAL) != 0;
	node *n = API_NODE(a);
	uint64_t now = node_now_ms(n), sec = timed ? now / 1000 : 0;
	db_version ver = {0, 0};
	gcache *c = NULL;
	gslot *g = NULL;
	char etag[40], *text;
	size_t len = 0;
	route_rc rc;

	if (strlen(key) < GCACHE_KEY_MAX && node_db_version(n, &ver) == 0)
		c = gcache_of(n->nd_db);
	for (int i = 0; c && i < GCACHE_SLOTS; i++)
		if (c->gc_slot[i].gs_text && strcmp(c->gc_slot[i].gs_key, key) == 0)
			g = &c->gc_slot[i];
	if (g && db_version_same(&g->gs_ver, &ver) && g->gs_sec == sec)
		return route_ok_etag(a, g->gs_etag, personal, g->gs_text, g->gs_len);
	/* A timed reply is computed for the start of its second, so every
	 * copy served within that second is the same bytes. */
	text = fill(n, arg, timed && c ? sec * 1000 : now, &len);
	if (text == NULL)
		return ROUTE_DBERR;
	etag_of(text, len, etag);
	rc = route_ok_etag(a, etag, personal, text, len);
	if (c == NULL) {
		free(text);
		return rc;
	}
	if (g == NULL) {
		g = &c->gc_slot[c->gc_next];
		c->gc_next = (c->gc_next + 1) % GCACHE_SLOTS;
	}
	free(g->gs_text);
	snprintf(g->gs_key, sizeof g->gs_key, "%s", key);
	g->gs_ver = ver;
	g->gs_sec = sec;
	g->gs_text = text;
	g->gs_len = len;
	memcpy(g->gs_etag, etag, sizeof etag);
	return rc;
}
