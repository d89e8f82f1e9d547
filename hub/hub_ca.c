/*
 * hub_ca.c - the hub as the private certificate authority of its offices
 * (DESIGN.md, "The network edge"; lib/tls_ca.h): the office CA is made on
 * first start (DATA/ca.crt; DATA/ca.key, its key's DER wrapped under
 * DATA/master.key like the other secrets, hub_keys.c: a plain key an older
 * hub left is wrapped in place at start); a node's certificate request rides
 * on its enrollment (sync_enroll) or, to renew, on a signed
 * POST /api/v1/sync/cert {csr, names} (a row of the route table); the console offers the CA certificate
 * (GET /ca.crt, and the page /ca.html says how to install it).
 */
#include "hub/hub_api.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "lib/tls_ca.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_KEY_AAD "ca_key"
#define CA_KEY_MAX 256 /* DER of a P-256 key: about 121 bytes */

/* p (n bytes, NUL-terminated) without its trailing newlines and spaces. */
static void key_text_trim(char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
		p[--n] = '\0';
}

/* DATA/ca.key's text (NUL-terminated, trailing space cut), NULL when there
 * is none; -1 in *rc when it cannot be read. */
static char *key_file_read(const char *path, int *rc)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t n;

	*rc = 0;
	if (f == NULL) {
		*rc = errno == ENOENT ? 0 : -1;
		return NULL;
	}
	if ((p = calloc(1, 8193)) == NULL || (n = fread(p, 1, 8192, f)) == 0 || ferror(f)) {
		free(p);
		p = NULL;
		*rc = -1;
	} else {
		key_text_trim(p, n);
	}
	fclose(f);
	return p;
}

int hub_ca_pair_check(const void *crt, size_t crt_len, const void *key, size_t key_len,
		      const unsigned char *master, const char **err)
{
	unsigned char der[CA_KEY_MAX];
	char *text = malloc(key_len + 1);
	int len, pair = -1;

	*err = "out of memory";
	if (text == NULL)
		return 0;
	memcpy(text, key, key_len);
	text[key_len] = '\0';
	key_text_trim(text, key_len);
	/* (read as hub_ca_load reads it: wrapped, or plain PEM of an older hub) */
	if (crypto_is_wrapped(text)) {
		*err = "it does not unwrap under the master.key the restored hub would have";
		if (master == NULL ||
		    (len = hub_keys_unwrap_under(master, CA_KEY_AAD, text, der, sizeof der)) < 0)
			goto out;
		pair = tls_pair_check(crt, crt_len, der, (size_t)len);
	} else {
		pair = tls_pair_check(crt, crt_len, text, strlen(text));
	}
	*err = pair == 1   ? NULL
	       : pair == 0 ? "it is not the key of the " HUB_CA_CERT_FILE
			   : "it or the " HUB_CA_CERT_FILE " cannot be read as a key or a certificate";
out:
	crypto_wipe(der, sizeof der);
	crypto_wipe(text, key_len);
	free(text);
	return pair == 1;
}

/* Keep the CA's key in path wrapped under master.key (0600, atomically),
 * over a plain one whose bytes are first overwritten in place.  0 or -1. */
static int key_file_store(tls_ca *ca, const char *path, int plain_before)
{
	unsigned char der[CA_KEY_MAX];
	char out[CRYPTO_WRAP_LEN(CA_KEY_MAX) + 1];
	size_t n = 0;
	int rc = -1;

	if (tls_ca_key_der(ca, der, sizeof der, &n) != 0 ||
	    hub_keys_wrap(CA_KEY_AAD, der, n, out, sizeof out - 1) != 0)
		goto out;
	if (plain_before) {
		FILE *f = fopen(path, "r+b");
		struct stat st;
		if (f != NULL && fstat(fileno(f), &st) == 0) {
			for (off_t i = 0; i < st.st_size; i++)
				fputc(0, f);
			fflush(f);
			fsync(fileno(f));
		}
		if (f != NULL)
			fclose(f);
	}
	strcat(out, "\n");
	rc = tls_write_file(path, out, strlen(out), 0600);
out:
	crypto_wipe(der, sizeof der);
	return rc;
}

/* 1 when the listening host (hl bytes) is a wildcard: empty, "*" or the
 * all-zero address of either family (0.0.0.0, ::), as lib/http_conn.c
 * reads it. */
static int host_wildcard(const char *host, size_t hl)
{
	static const unsigned char zero[16];
	unsigned char a[16];
	char one[64];

	if (hl == 0 || (hl == 1 && host[0] == '*'))
		return 1;
	if (hl >= sizeof one)
		return 0;
	snprintf(one, sizeof one, "%.*s", (int)hl, host);
	return (inet_pton(AF_INET, one, a) == 1 && memcmp(a, zero, 4) == 0) ||
	       (inet_pton(AF_INET6, one, a) == 1 && memcmp(a, zero, 16) == 0);
}

/* Every address of the machine's interfaces, each followed by a comma,
 * appended to held (cap bytes).  0 or -1. */
static int held_interfaces(char *held, size_t cap)
{
	uv_interface_address_t *ifs = NULL;
	char ip[INET6_ADDRSTRLEN];
	size_t len = strlen(held);
	int n = 0, rc = -1, w;

	if (uv_interface_addresses(&ifs, &n) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if ((ifs[i].address.address4.sin_family == AF_INET
			 ? uv_ip4_name(&ifs[i].address.address4, ip, sizeof ip)
			 : uv_ip6_name(&ifs[i].address.address6, ip, sizeof ip)) != 0)
			goto out;
		w = snprintf(held + len, cap - len, "%s,", ip);
		if (w < 0 || (size_t)w >= cap - len)
			goto out;
		len += (size_t)w;
	}
	rc = 0;
out:
	uv_free_interface_addresses(ifs, n);
	return rc;
}

/*
 * The hub's own names into h->hb_ca_held: the host of the address it
 * listens on (when that is a wildcard, every address of the machine's
 * interfaces, since each reaches the hub) and the CN and SANs of its
 * certificate at hub_cert.  A node certificate for one of them would let a
 * node pose as the hub's console to every office PC that trusts the CA.
 * The interfaces are read once, here at start: an address the machine
 * gains later (a new DHCP lease, an interface brought up) is not the
 * hub's to the CA until the hub restarts.  0, or -1 with *err.
 */
static int held_load(hub *h, const char *hub_cert, const char **err)
{
	const char *listen = conf_str(&h->hb_conf, "listen");
	const char *colon = strrchr(listen, ':');
	size_t hl = colon ? (size_t)(colon - listen) : strlen(listen), cap = 64 * 1024;

	if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	free(h->hb_ca_held);
	*err = "out of memory";
	if ((h->hb_ca_held = malloc(cap)) == NULL || hl + 2 > cap)
		return -1;
	snprintf(h->hb_ca_held, cap, "%.*s,", (int)hl, listen);
	*err = "cannot list the addresses of the machine's interfaces (the hub listens on them all)";
	if (host_wildcard(listen, hl) && held_interfaces(h->hb_ca_held, cap) != 0)
		return -1;
	*err = "cannot read the names of the hub's certificate";
	return tls_cert_names(hub_cert, h->hb_ca_held, cap);
}

void hub_ca_free(hub *h)
{
	tls_ca_free(h->hb_ca);
	h->hb_ca = NULL;
	free(h->hb_ca_held);
	h->hb_ca_held = NULL;
}

int hub_ca_load(hub *h, const char *hub_cert)
{
	char crt[PATH_MAX + 32], key[PATH_MAX + 32];
	const char *err = "cannot read the office CA key";
	unsigned char der[CA_KEY_MAX];
	char *text;
	int rc, plain = 0, len = 0;

	snprintf(crt, sizeof crt, "%s/%s", h->hb_data, HUB_CA_CERT_FILE);
	snprintf(key, sizeof key, "%s/%s", h->hb_data, HUB_CA_KEY_FILE);
	text = key_file_read(key, &rc);
	if (rc != 0)
		goto fail;
	if (text != NULL && crypto_is_wrapped(text)) {
		err = "cannot unwrap the office CA key: is DATA/master.key the one it was "
		      "wrapped under?";
		if ((len = hub_keys_unwrap(CA_KEY_AAD, text, der, sizeof der)) < 0)
			goto fail;
		h->hb_ca = tls_ca_open(crt, der, (size_t)len, &err);
	} else {
		/* A plain PEM key of an older hub (wrapped below), or none yet. */
		plain = text != NULL;
		h->hb_ca = tls_ca_open(crt, (unsigned char *)text, text ? strlen(text) + 1 : 0, &err);
	}
	if (h->hb_ca == NULL)
		goto fail;
	if (held_load(h, hub_cert, &err) != 0)
		goto fail;
	if (text == NULL || plain) {
		err = "cannot write the office CA key";
		if (key_file_store(h->hb_ca, key, plain) != 0)
			goto fail;
		log_info("office CA key %s under master.key: '%s' (mode 0600)",
			 plain ? "wrapped in place" : "made, wrapped", key);
	}
	if (*conf_str(&h->hb_conf, "cert_domains"))
		log_info("office CA: node names also under cert_domains '%s'",
			 conf_str(&h->hb_conf, "cert_domains"));
	rc = 0;
	goto out;
fail:
	log_warnx("cannot set up the office CA with '%s': %s", crt, err);
	tls_ca_free(h->hb_ca);
	h->hb_ca = NULL;
	rc = -1;
out:
	if (text != NULL)
		crypto_wipe(text, strlen(text));
	free(text);
	crypto_wipe(der, sizeof der);
	return rc;
}

/* Refuse (400, into g->cg_why) a name outside the office LAN, or one of
 * the hub's own: the CA would otherwise vouch to every office PC for any
 * site a node names, or for a node as the hub's console. */
static int names_office(hub *h, const char *const *list, int n, hub_ca_grant *g)
{
	const char *domains = conf_str(&h->hb_conf, "cert_domains");

	for (int i = 0; i < n; i++) {
		/* A name of bad syntax is tls_ca_sign's to refuse (and not to be
		 * echoed into the log). */
		if (!tls_name_ok(list[i]))
			continue;
		if (tls_name_held(list[i], h->hb_ca_held)) {
			snprintf(g->cg_why, sizeof g->cg_why,
				 "name '%.64s' refused: it is the hub's own (its listening address "
				 "or a name of its certificate)",
				 list[i]);
			return 400;
		}
		if (tls_ca_name_office(list[i], domains))
			continue;
		/* The reply's error holds 199 characters (lib/json.h): the rule
		 * whole, a long name cut. */
		snprintf(g->cg_why, sizeof g->cg_why,
			 "name '%.40s' refused: a node may have private IPs, single-label hosts "
			 "but TLDs and localhost, names under .local .lan .internal .home.arpa or "
			 "the hub's cert_domains",
			 list[i]);
		return 400;
	}
	return 0;
}

/*
 * Refuse (409) a name under cert_domains that a live node of another office
 * holds: such a name means one machine wherever it is looked up, and a
 * certificate for it would let one office's node pose as another's on any
 * LAN.  Private addresses, single-label names and .local/.lan names are
 * every office's to reuse (192.168.1.20 is a PC in many offices), so they
 * are not bound unless under cert_domains (offices.agency.internal);
 * README says what that leaves.  -1 on a database error.
 */
static int names_free(hub *h, const char *node_id, const char *office, const char *const *list,
		      int n, hub_ca_grant *g)
{
	const char *domains = conf_str(&h->hb_conf, "cert_domains");
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (!*domains)
		return 0;
	if (db_prepare(h->hb_db, &st,
		       "SELECT c.office_id FROM node_cert_names c JOIN nodes d ON d.id=c.node_id"
		       " WHERE c.name=?1 AND d.revoked_at IS NULL AND c.office_id<>?2"
		       " AND c.node_id<>?3") != 0)
		return -1;
	for (int i = 0; i < n && rc == 0; i++) {
		/* A configured domain binds its names before the LAN suffixes
		 * free theirs: offices.agency.internal is the operator's. */
		if (!tls_ca_name_in_domains(list[i], domains))
			continue; /* a LAN's own name, or tls_ca_sign's to refuse */
		sqlite3_bind_text(st, 1, list[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, office, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, node_id ? node_id : "", -1, SQLITE_STATIC);
		switch (sqlite3_step(st)) {
		case SQLITE_ROW:
			snprintf(g->cg_why, sizeof g->cg_why,
				 "name '%.64s' is the certificate name of a node of office '%.64s': "
				 "revoke that node first",
				 list[i], (const char *)sqlite3_column_text(st, 0));
			rc = 409;
			break;
		case SQLITE_DONE:
			break;
		default:
			rc = -1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int hub_ca_names_record(hub *h, const char *node_id, const char *office, const hub_ca_grant *g)
{
	char name[256];
	const char *p = g->cg_names;
	int64_t now = (int64_t)hub_now_ms();

	if (g->cg_cert == NULL)
		return 0;
	if (db_run(h->hb_db, "DELETE FROM node_cert_names WHERE node_id=?", "t", node_id) != 0)
		return -1;
	while (*p) {
		size_t len = strcspn(p, ",");
		snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1),
			 p);
		if (db_run(h->hb_db,
			   "INSERT OR REPLACE INTO node_cert_names(name, node_id, office_id, at)"
			   " VALUES(?,?,?,?)",
			   "tttI", name, node_id, office, now) != 0)
			return -1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int hub_ca_sign_request(hub *h, const char *node_id, const char *office, const cJSON *body,
			hub_ca_grant *g)
{
	const cJSON *csr = cJSON_GetObjectItemCaseSensitive(body, "csr");
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(body, "names"), *it;
	const char *list[TLS_CA_NAMES_MAX], *why = NULL;
	size_t off = 0;
	int n = 0, st;

	g->cg_cert = NULL;
	g->cg_names[0] = g->cg_why[0] = '\0';
	if (csr == NULL || cJSON_IsNull(csr))
		return 0;
	snprintf(g->cg_why, sizeof g->cg_why, "%s",
		 "csr must be a PEM certificate request and names a list of 1 to 16 names");
	if (!cJSON_IsString(csr) || !cJSON_IsArray(names) ||
	    cJSON_GetArraySize(names) > TLS_CA_NAMES_MAX)
		return 400;
	cJSON_ArrayForEach(it, names)
	{
		if (!cJSON_IsString(it) || it->valuestring == NULL)
			return 400;
		list[n++] = it->valuestring;
	}
	if (h->hb_ca == NULL) {
		snprintf(g->cg_why, sizeof g->cg_why, "%s", "this hub has no office CA");
		return 503;
	}
	if ((st = names_office(h, list, n, g)) != 0)
		return st;
	if ((st = names_free(h, node_id, office, list, n, g)) != 0) {
		if (st < 0)
			snprintf(g->cg_why, sizeof g->cg_why, "%s",
				 "the hub could not check the names");
		return st < 0 ? 500 : st;
	}
	if (tls_ca_sign(h->hb_ca, csr->valuestring, list, n, TLS_CA_NODE_DAYS, &g->cg_cert,
			&why) != 0) {
		snprintf(g->cg_why, sizeof g->cg_why, "%s", why);
		return 400;
	}
	/* Signed names passed tls_name_ok: fit for a log line as they are. */
	for (int i = 0; i < n; i++)
		off += (size_t)snprintf(g->cg_names + off, sizeof g->cg_names - off, "%s%s",
					i ? "," : "", list[i]);
	g->cg_why[0] = '\0';
	return 0;
}

void hub_ca_log_signed(const char *node_id, const hub_ca_grant *g)
{
	log_info("node %s: certificate signed for %s (%d days)", node_id, g->cg_names,
		 TLS_CA_NODE_DAYS);
}

void hub_ca_reply(hub *h, cJSON *o, const char *cert)
{
	if (cert == NULL)
		return;
	cJSON_AddStringToObject(o, "cert", cert);
	cJSON_AddStringToObject(o, "ca_cert", tls_ca_pem(h->hb_ca));
}

/*
 * Milliseconds node_id must wait before the CA signs it another certificate
 * (0: now), or -1 on a database error: HUB_CA_SIGN_MAX in any
 * HUB_CA_SIGN_WINDOW_MS, counted from the audit rows every grant leaves
 * (so a restart forgets none, as an in-memory throttle would).  A node (or
 * whoever holds its secret) renewing in a loop would otherwise have the hub
 * sign, and keep a row, without bound; an honest one renews once in 397
 * days, or a few times while its names are set.
 */
static int64_t sign_wait_ms(hub *h, const char *node_id)
{
	int64_t now = (int64_t)hub_now_ms(), at;

	/* the grant HUB_CA_SIGN_MAX back within the window, 0 when fewer */
	at = db_int_bound(h->hb_db, -1,
			  "SELECT coalesce((SELECT at FROM hub_audit_events WHERE action=?1"
			  " AND subject=?2 AND at>?3 ORDER BY at DESC LIMIT 1 OFFSET ?4), 0)",
			  "ttIi", HUB_CA_AUDIT, node_id, now - HUB_CA_SIGN_WINDOW_MS,
			  HUB_CA_SIGN_MAX - 1);
	if (at <= 0)
		return at;
	return at + HUB_CA_SIGN_WINDOW_MS > now ? at + HUB_CA_SIGN_WINDOW_MS - now : 1;
}

/* POST /api/v1/sync/cert {csr, names}: a node renews its certificate (an
 * audited write: no certificate goes out without its row), at most
 * HUB_CA_SIGN_MAX in a window (sign_wait_ms; else 429). */
static route_rc sync_cert(route_call *a)
{
	hub *h = API_HUB(a);
	hub_ca_grant g;
	route_rc rc = ROUTE_DBERR;
	char ra[32];
	int64_t wait;
	cJSON *o;
	int st;

	hub_sync_add_time(a->rc_req);
	if ((wait = sign_wait_ms(h, API_NODE(a)->hn_id)) < 0)
		return ROUTE_DBERR;
	if (wait > 0) {
		/* Before the request is parsed: a node looping here costs a query. */
		log_warnx("node %s: certificate refused: %d signed in the last %d hours",
			  API_NODE(a)->hn_id, HUB_CA_SIGN_MAX,
			  (int)(HUB_CA_SIGN_WINDOW_MS / 3600000));
		snprintf(ra, sizeof ra, "%lld", (long long)(wait + 999) / 1000);
		http_add_header(a->rc_req, "Retry-After", ra);
		return route_fail(a, 429, NULL,
				  "this node has had %d certificates signed in the last %d hours, "
				  "the most the hub signs for one node: renew again in %lld min",
				  HUB_CA_SIGN_MAX, (int)(HUB_CA_SIGN_WINDOW_MS / 3600000),
				  (long long)(wait + 59999) / 60000);
	}
	st = hub_ca_sign_request(h, API_NODE(a)->hn_id, API_NODE(a)->hn_office, a->rc_body, &g);
	if (st == 500)
		return ROUTE_DBERR;
	if (st != 0) {
		/* A node asking for a name it should not have is worth a look. */
		log_warnx("node %s: certificate refused: %s", API_NODE(a)->hn_id, g.cg_why);
		return route_fail(a, st, "csr", "%s", g.cg_why);
	}
	if (hub_api_audit(a, HUB_CA_AUDIT, API_NODE(a)->hn_id, g.cg_names) == 0 &&
	    hub_ca_names_record(h, API_NODE(a)->hn_id, API_NODE(a)->hn_office, &g) == 0) {
		hub_ca_log_signed(API_NODE(a)->hn_id, &g);
		o = cJSON_CreateObject();
		hub_ca_reply(h, o, g.cg_cert);
		rc = route_ok(a, 200, o);
	}
	free(g.cg_cert);
	return rc;
}

static const route_key cert_keys[] = {
	{"csr", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{"names", ROUTE_T_ARRAY, ROUTE_K_REQUIRED},
	{NULL, 0, 0},
};

static const route_def ca_defs[] = {
	{HTTP_M_POST, "/api/v1/sync/cert", sync_cert, HUB_P_NODE, ROUTE_BODY | HUB_AUDITED,
	 cert_keys, 0},
};
const route_list hub_ca_route_list = ROUTE_LIST(ca_defs);

/* GET /ca.crt: the office CA certificate, for office PCs to trust. */
void hub_ca_get(http_req *req, void *ctx)
{
	hub *h = ctx;
	const char *pem = h->hb_ca ? tls_ca_pem(h->hb_ca) : NULL;

	if (pem == NULL) {
		http_reply_error(req, 404, NULL, "this hub has no office CA");
		return;
	}
	http_add_header(req, "Content-Disposition", "attachment; filename=\"outpost-office-ca.crt\"");
	http_reply(req, 200, "application/x-x509-ca-cert", pem, strlen(pem));
}

/* GET /api/v1/ca: the CA's pin and certificate, for the instruction page. */
void hub_ca_info(http_req *req, void *ctx)
{
	hub *h = ctx;
	char pin[128];
	cJSON *o;

	if (h->hb_ca == NULL || tls_ca_pin(h->hb_ca, pin, sizeof pin) != 0) {
		http_reply_error(req, 404, NULL, "this hub has no office CA");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "spki_sha256", pin + 8);
	cJSON_AddStringToObject(o, "pem", tls_ca_pem(h->hb_ca));
	http_reply_json(req, 200, o);
}
