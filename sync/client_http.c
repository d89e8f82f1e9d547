/*
 * client_http.c - signed and pinned requests to the hub over libcurl's easy
 * interface (blocking by design: outpost-sync calls it directly and the node
 * runs it in a uv work thread), with the hub's clock learnt from each reply.
 */
#include "sync/client_int.h"
#include "sync/zbody.h"
#include "model/schema.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/fault.h"
#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void curl_init_once(void)
{
	const char *why = NULL;

	if (sync__curl_load(&why) != 0) {
		log_warnx("%s", why);
		curl_init_rc = -1;
		return;
	}
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int sync_client_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_init_rc;
}

int sync_client_new(const char *data_dir, sync_client **out, char *err, size_t errlen)
{
	sync_client *c;
	int rc;

	*out = NULL;
	if (sync_client_global_init() != 0) {
		fmt_line(err, errlen, "cannot initialise libcurl");
		return SYNC_E_OTHER;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		fmt_line(err, errlen, "out of memory");
		return SYNC_E_OTHER;
	}
	rc = sync_identity_load(data_dir, &c->sc_id, err, errlen);
	if (rc != 0) {
		free(c);
		return rc;
	}
	snprintf(c->sc_data, sizeof c->sc_data, "%s", data_dir);
	c->sc_connect_timeout_ms = SYNC_CONNECT_TIMEOUT_MS;
	c->sc_hub_acked = c->sc_acked_before = -1;
	c->sc_hub_schema = c->sc_refused_schema = -1;
	c->sc_curl = curl_easy_init();
	if (c->sc_curl == NULL) {
		sync_client_free(c);
		fmt_line(err, errlen, "cannot initialise libcurl");
		return SYNC_E_OTHER;
	}
	*out = c;
	return 0;
}

void sync_client_free(sync_client *c)
{
	if (c == NULL)
		return;
	if (c->sc_curl)
		curl_easy_cleanup(c->sc_curl);
	sync_identity_wipe(&c->sc_id);
	free(c);
}

void sync_client_set_offset(sync_client *c, int64_t offset_ms)
{
	c->sc_offset_ms = offset_ms;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	xfer *x = arg;

	if (buf_append(x->x_resp, p, size * n) != 0) {
		x->x_overflow = 1;
		return 0;
	}
	return size * n;
}

static int header_i64(const char *v, size_t n, int64_t *out)
{
	char tmp[32], *end;
	long long x;

	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	errno = 0;
	x = strtoll(tmp, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	*out = x;
	return 0;
}

/* A header value, trimmed, into out (size n); "" when it does not fit. */
static void header_str(const char *v, size_t len, char *out, size_t n)
{
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	while (len > 0 && *v == ' ') {
		v++;
		len--;
	}
	if (len >= n)
		len = 0;
	memcpy(out, v, len);
	out[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	xfer *x = arg;
	size_t len = size * n;
	const char *colon;
	int64_t v;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new response head (after 1xx): forget what came before. */
		x->x_next = x->x_head = x->x_time = -1;
		x->x_more = -1;
		x->x_client->sc_after_table[0] = x->x_client->sc_after_id[0] = '\0';
		return len;
	}
	colon = memchr(p, ':', len);
	if (colon == NULL)
		return len;
#define IS(name) ((size_t)(colon - p) == sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0)
	if (IS("X-Outpost-After-Table")) {
		header_str(colon + 1, len - (size_t)(colon + 1 - p), x->x_client->sc_after_table,
			   sizeof x->x_client->sc_after_table);
		return len;
	}
	if (IS("X-Outpost-After-Id")) {
		header_str(colon + 1, len - (size_t)(colon + 1 - p), x->x_client->sc_after_id,
			   sizeof x->x_client->sc_after_id);
		return len;
	}
	if (header_i64(colon + 1, len - (size_t)(colon + 1 - p), &v) != 0)
		return len;
	if (IS("X-Outpost-Time"))
		x->x_time = v;
	else if (IS("X-Outpost-Next"))
		x->x_next = v;
	else if (IS("X-Outpost-Head"))
		x->x_head = v;
	else if (IS("X-Outpost-More"))
		x->x_more = v != 0;
	else if (IS("X-Outpost-Acked"))
		x->x_client->sc_hub_acked = v;
#undef IS
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	xfer *x = arg;
	sync_client *c = x->x_client;

	if (c->sc_cancel && *c->sc_cancel)
		return 1; /* aborts the transfer */
	if (x->x_what && c->sc_progress && x->x_snapshot && x->x_resp->len > 0)
		/* The pages of a snapshot count up together; their sum is not known. */
		c->sc_progress(c->sc_progress_arg, x->x_what,
			       c->sc_progress_base + (uint64_t)x->x_resp->len, 0);
	else if (x->x_what && c->sc_progress && dlnow > 0)
		c->sc_progress(c->sc_progress_arg, x->x_what, (uint64_t)dlnow,
			       dltotal > 0 ? (uint64_t)dltotal : 0);
	return 0;
}

/* The part of the hub URL after the authority, without a trailing '/'; the
 * hub signs over the request target it receives, so a prefix counts. */
static void url_prefix(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	const char *slash = p ? strchr(p + 3, '/') : NULL;
	size_t len;

	out[0] = '\0';
	if (slash == NULL)
		return;
	len = strlen(slash);
	while (len > 0 && slash[len - 1] == '/')
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(out, slash, len);
	out[len] = '\0';
}

void sync__url_join(const char *base, const char *path, char *out, size_t n)
{
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	snprintf(out, n, "%.*s%s", (int)len, base, path);
}

int sync__map_curl(CURLcode cc, const char *url, const char *errbuf, char *err, size_t n)
{
	const char *why = errbuf && *errbuf ? errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		fmt_line(err, n,
		       "the hub at %s presented a key that is not the one pinned at enrollment "
		       "(wrong hub, interception, or a new hub key): nothing was sent",
		       url);
		return SYNC_E_PIN;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PARTIAL_FILE:
		fmt_line(err, n, "cannot reach the hub at %s: %s", url, why);
		return SYNC_E_UNREACHABLE;
	case CURLE_ABORTED_BY_CALLBACK:
		fmt_line(err, n, "transfer to the hub cancelled");
		return SYNC_E_OTHER;
	case CURLE_WRITE_ERROR:
		fmt_line(err, n, "the hub's reply is larger than this node accepts");
		return SYNC_E_OTHER;
	default:
		fmt_line(err, n, "request to the hub at %s failed: %s", url, why);
		return SYNC_E_OTHER;
	}
}

/* Options every request shares; pin NULL only for the first enrollment call. */
void sync__curl_common(CURL *h, const char *url, const char *pin, long connect_ms,
			long total_ms, char *errbuf, xfer *x)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* Self-signed hub: the pinned key is the trust anchor, not a CA. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	if (pin)
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)SYNC_STALL_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "outpost-sync/" OUTPOST_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

static void learn_time(sync_client *c, int64_t hub_ms, uint64_t t0, uint64_t t1)
{
	if (hub_ms <= 0)
		return;
	/* The hub stamped its reply somewhere between t0 and t1. */
	c->sc_offset_ms = hub_ms - (int64_t)((t0 + t1) / 2);
	c->sc_have_time = 1;
	c->sc_last_contact_ms = t1;
}

/* Append line to *hl; -1 (and *hl freed) when out of memory. */
static int add_header(struct curl_slist **hl, const char *line)
{
	struct curl_slist *t = curl_slist_append(*hl, line);

	if (t == NULL) {
		curl_slist_free_all(*hl);
		*hl = NULL;
		return -1;
	}
	*hl = t;
	return 0;
}

/* The signed request's headers (sync.h, "HTTP API") for target at signed_ms
 * into *hl.  0, or SYNC_E_OTHER with c->sc_error set. */
static int request_headers(sync_client *c, const char *method, const char *target,
			   const void *body, size_t len, int64_t signed_ms, struct curl_slist **hl)
{
	char tstr[32], nonce[33], sig[65], bhash[65], line[6][160], ce[64];
	unsigned char rnd[16];
	int is_post = strcmp(method, "POST") == 0, rc = 0;

	*hl = NULL;
	if (crypto_random(rnd, sizeof rnd) != 0) {
		CERR(c, "no randomness for a request nonce");
		return SYNC_E_OTHER;
	}
	crypto_hex(rnd, sizeof rnd, nonce);
	snprintf(tstr, sizeof tstr, "%" PRId64, signed_ms);
	sync_body_hash(body, len, bhash);
	sync_sign_hash(c->sc_id.id_secret, method, target, tstr, nonce, bhash, sig);
	snprintf(line[0], sizeof line[0], "X-Outpost-Node: %s", c->sc_id.id_node_id);
	snprintf(line[1], sizeof line[1], "X-Outpost-Time: %s", tstr);
	snprintf(line[2], sizeof line[2], "X-Outpost-Nonce: %s", nonce);
	snprintf(line[3], sizeof line[3], "X-Outpost-Signature: %s", sig);
	snprintf(line[4], sizeof line[4], "X-Outpost-Schema: %" PRId64,
		 (int64_t)schema_version() - fault_schema_behind());
	/* The body's hash before the body: the hub checks the signature from
	 * the headers alone (sync/auth.c). */
	snprintf(line[5], sizeof line[5], SYNC_CONTENT_HASH_HEADER ": %s", bhash);
	for (int i = 0; i < 5 + (len > 0) && rc == 0; i++)
		rc = add_header(hl, line[i]);
	if (rc == 0)
		rc = add_header(hl, "Expect:");
	if (rc == 0 && is_post)
		rc = add_header(hl, "Content-Type: application/octet-stream");
	if (rc == 0 && is_post && c->sc_body_encoding) {
		snprintf(ce, sizeof ce, "Content-Encoding: %s", c->sc_body_encoding);
		rc = add_header(hl, ce);
	}
	memset(sig, 0, sizeof sig);
	memset(line[3], 0, sizeof line[3]);
	if (rc != 0) {
		CERR(c, "out of memory");
		return SYNC_E_OTHER;
	}
	return 0;
}

/* One attempt: the transfer with headers hl.  0 (status set) or SYNC_E_*. */
static int request_once(sync_client *c, const char *url, const char *path_query, int is_post,
			const void *body, size_t len, struct curl_slist *hl, buf *resp,
			long *status, xfer *x)
{
	CURL *h = c->sc_curl;
	char errbuf[CURL_ERROR_SIZE];
	int big = is_post || strncmp(path_query, "/api/v1/sync/pull", 17) == 0 ||
		  strncmp(path_query, "/api/v1/sync/snapshot", 21) == 0;
	CURLcode cc;

	memset(x, 0, sizeof *x);
	x->x_client = c;
	x->x_resp = resp;
	x->x_next = x->x_head = x->x_time = -1;
	x->x_more = -1;
	if (strncmp(path_query, "/api/v1/sync/snapshot", 21) == 0) {
		x->x_what = "snapshot";
		x->x_snapshot = 1;
	} else if (strncmp(path_query, "/api/v1/sync/pull", 17) == 0) {
		x->x_what = "pull";
	}
	buf_reset(resp);
	errbuf[0] = '\0';
	curl_easy_reset(h);
	sync__curl_common(h, url, c->sc_id.id_pin, c->sc_connect_timeout_ms,
			  big ? SYNC_TRANSFER_TIMEOUT_MS : SYNC_REQUEST_TIMEOUT_MS, errbuf, x);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	/* Pull pages and snapshots may come deflated (sync/zbody.h); curl
	 * inflates them, and on_write bounds what they inflate to. */
	if (big && !is_post)
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ZBODY_ENCODING);
	if (is_post) {
		static const char empty[1];
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, len ? body : empty);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK)
		return sync__map_curl(cc, c->sc_id.id_hub_url, errbuf, c->sc_error,
				      sizeof c->sc_error);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

int sync_client_request(sync_client *c, const char *method, const char *path_query,
			const void *body, size_t len, long *status, buf *resp, int64_t *next,
			int64_t *head, int *more)
{
	char url[2048], target[2048], prefix[512];
	struct curl_slist *hl = NULL;
	xfer x;
	int is_post = strcmp(method, "POST") == 0, rc;

	*status = 0;
	c->sc_after_table[0] = c->sc_after_id[0] = '\0';
	c->sc_hub_acked = -1;
	c->sc_hub_schema = c->sc_refused_schema = -1;
	if (strlen(path_query) > 1500) {
		CERR(c, "request path too long");
		return SYNC_E_OTHER;
	}
	sync__url_join(c->sc_id.id_hub_url, path_query, url, sizeof url);
	url_prefix(c->sc_id.id_hub_url, prefix, sizeof prefix);
	snprintf(target, sizeof target, "%s%s", prefix, path_query);
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t t0 = clock_ms();
		int64_t signed_ms = (int64_t)t0 + c->sc_offset_ms;

		rc = request_headers(c, method, target, body, len, signed_ms, &hl);
		if (rc != 0)
			return rc;
		rc = request_once(c, url, path_query, is_post, body, len, hl, resp, status, &x);
		curl_slist_free_all(hl);
		hl = NULL;
		if (rc != 0)
			return rc;
		learn_time(c, x.x_time, t0, clock_ms());
		/* A node clock far off is refused (401) with the hub's time in the
		 * reply: sign again once with the offset just learnt. */
		if (*status == 401 && attempt == 0 && x.x_time > 0 &&
		    llabs((long long)(x.x_time - signed_ms)) > SYNC_CLOCK_SKEW_MS / 2)
			continue;
		break;
	}
	if (next)
		*next = x.x_next;
	if (head)
		*head = x.x_head;
	if (more)
		*more = x.x_more;
	return 0;
}

/* The hub's {"error"} message, or the status text. */
void sync__hub_error(sync_client *c, long status, const buf *resp, const char *doing)
{
	cJSON *o = resp->len ? cJSON_ParseWithLength(resp->data, resp->len) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	const char *msg = cJSON_IsString(e) && e->valuestring ? e->valuestring : NULL;
	const cJSON *hv = cJSON_GetObjectItemCaseSensitive(o, "hub_schema_version");
	const cJSON *nv = cJSON_GetObjectItemCaseSensitive(o, "schema_version");

	switch (status) {
	case 401:
		if (msg && strcmp(msg, "unknown node") == 0)
			c->sc_hub_forgot = 1;
		CERR(c, "the hub refused this node (%s): %s", msg ? msg : "unauthorized",
		     msg && strstr(msg, "revoked")
			     ? "ask the hub administrator, then enroll again with a new code"
		     : msg && strstr(msg, "time")
			     ? "set this computer's clock"
			     : "the node may be revoked or unknown; enroll again with a new code");
		break;
	case 426:
		/* The reply names both versions (hub_sync.c, hub_sync_api.c): the
		 * side to upgrade is the older one, which may be the hub (an
		 * office PC upgraded first). */
		c->sc_hub_schema = cJSON_IsNumber(hv) ? (int64_t)hv->valuedouble : -1;
		c->sc_refused_schema = cJSON_IsNumber(nv) ? (int64_t)nv->valuedouble
							  : schema_version();
		if (c->sc_hub_schema < 0)
			CERR(c, "unknown schema version, refused by the hub: %s",
			     msg ? msg : "upgrade outpost so node and hub share a schema version");
		else if (c->sc_hub_schema < c->sc_refused_schema)
			CERR(c, "the hub runs an older release of Outpost (schema version %" PRId64
			     ") than this office PC (%" PRId64 ") and refuses its sync: upgrade "
			     "the hub first (or run this office PC at the hub's release)",
			     c->sc_hub_schema, c->sc_refused_schema);
		else
			CERR(c, "the hub runs a newer release of Outpost (schema version %" PRId64
			     ") than this office PC (%" PRId64 ") and refuses its sync: upgrade "
			     "this office PC to the hub's release",
			     c->sc_hub_schema, c->sc_refused_schema);
		break;
	default:
		CERR(c, "%s failed: hub answered %ld%s%s", doing, status, msg ? ": " : "",
		     msg ? msg : "");
		break;
	}
	cJSON_Delete(o);
}

int sync__status_rc(long status)
{
	if (status == 401)
		return SYNC_E_AUTH;
	if (status == 426)
		return SYNC_E_SCHEMA;
	return SYNC_E_OTHER;
}

int sync_client_get_json(sync_client *c, const char *path_query, cJSON **out)
{
	buf resp = BUF_INIT(SYNC_MAX_REPLY);
	long status;
	int rc;

	*out = NULL;
	rc = sync_client_request(c, "GET", path_query, NULL, 0, &status, &resp, NULL, NULL, NULL);
	if (rc != 0)
		goto out;
	if (status != 200) {
		sync__hub_error(c, status, &resp, path_query);
		rc = sync__status_rc(status);
		goto out;
	}
	*out = cJSON_ParseWithLength(resp.data ? resp.data : "", resp.len);
	if (*out == NULL) {
		CERR(c, "the hub's reply to %s is not JSON", path_query);
		rc = SYNC_E_OTHER;
	}
out:
	buf_release(&resp);
	return rc;
}
