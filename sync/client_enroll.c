/*
 * client_enroll.c - enrollment, verified (not trust on first use): the key
 * the hub presents is checked against the code's key check (or --pin)
 * before the code is sent, the code goes only to that key, one more request
 * pinned to it, then the identity saved and adopted.
 */
#include "sync/client_int.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/tls.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The pin of the key the hub presented on h (libcurl's certificate info,
 * CURLOPT_CERTINFO set before the transfer).  0 or SYNC_E_OTHER. */
static int enroll_read_pin(CURL *h, const char *hub_url, char *pin, size_t pinlen, char *err,
			   size_t errlen)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *sl;

	fmt_line(err, errlen, "cannot read the certificate of the hub at %s", hub_url);
	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return SYNC_E_OTHER;
	for (sl = ci->certinfo[0]; sl; sl = sl->next)
		if (strncmp(sl->data, "Cert:", 5) == 0 &&
		    tls_cert_pin(sl->data + 5, strlen(sl->data + 5) + 1, pin, pinlen) == 0)
			return 0;
	return SYNC_E_OTHER;
}

/*
 * One GET /healthz of the hub at hub_url (nothing secret is sent), in one of
 * two ways:
 *  * seen != NULL: unpinned, and seen gets the pin of the key the hub
 *    presents;
 *  * pin != NULL: a fresh connection pinned to pin (no reuse: the key must be
 *    seen in a new handshake), SYNC_E_PIN when the hub presents another key.
 * 0 or SYNC_E_*, err filled.
 */
static int enroll_healthz(const char *hub_url, const char *pin, char *seen, size_t seenlen,
			  char *err, size_t errlen)
{
	CURL *h = curl_easy_init();
	char url[1024], errbuf[CURL_ERROR_SIZE] = "";
	buf resp = BUF_INIT(64 * 1024);
	sync_client dummy;
	xfer x;
	CURLcode cc;
	int ret;

	if (h == NULL) {
		fmt_line(err, errlen, "cannot initialise libcurl");
		return SYNC_E_OTHER;
	}
	memset(&dummy, 0, sizeof dummy);
	memset(&x, 0, sizeof x);
	x.x_client = &dummy;
	x.x_resp = &resp;
	x.x_next = x.x_head = x.x_time = -1;
	sync__url_join(hub_url, "/healthz", url, sizeof url);
	sync__curl_common(h, url, pin, SYNC_CONNECT_TIMEOUT_MS, SYNC_REQUEST_TIMEOUT_MS, errbuf, &x);
	if (seen != NULL) {
		curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	}
	cc = curl_easy_perform(h);
	if (pin != NULL && cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
		fmt_line(err, errlen,
		       "the hub at %s presents a key other than the one its enrollment reply "
		       "named (interception?): enrollment not saved",
		       hub_url);
		ret = SYNC_E_PIN;
	} else if (cc != CURLE_OK) {
		ret = sync__map_curl(cc, hub_url, errbuf, err, errlen);
	} else {
		ret = seen != NULL ? enroll_read_pin(h, hub_url, seen, seenlen, err, errlen) : 0;
	}
	buf_release(&resp);
	curl_easy_cleanup(h);
	return ret;
}

/* The key the hub presents against what the user gave: an explicit pin, or
 * the check at the end of the code (sync_enroll_check).  0, or SYNC_E_PIN /
 * SYNC_E_CONFIG with err filled; nothing has been sent to the hub then. */
static int enroll_verify_key(const char *hub_url, const char *code, const char *want_pin,
			     const char *seen, char *err, size_t errlen)
{
	char norm[64], chk[SYNC_ENROLL_CHECK_LEN + 1];
	size_t n = 0;

	for (const char *p = code; *p && n + 1 < sizeof norm; p++)
		if (*p != '-' && *p != ' ')
			norm[n++] = (char)toupper((unsigned char)*p);
	norm[n] = '\0';
	if (want_pin != NULL) {
		if (strcmp(want_pin, seen) == 0)
			return 0;
		fmt_line(err, errlen,
			 "the hub at %s presents the key %s, not the pinned %s (wrong hub or "
			 "interception): nothing was sent",
			 hub_url, seen, want_pin);
		return SYNC_E_PIN;
	}
	if (n != SYNC_ENROLL_RANDOM_LEN + SYNC_ENROLL_CHECK_LEN) {
		fmt_line(err, errlen,
			 "this enrollment code carries no check of the hub's key: use a code the "
			 "hub printed (16 + 12 characters) or give --pin sha256//... as the hub "
			 "shows it");
		return SYNC_E_CONFIG;
	}
	if (sync_enroll_check(seen, norm, chk) == 0 &&
	    strcmp(chk, norm + SYNC_ENROLL_RANDOM_LEN) == 0)
		return 0;
	fmt_line(err, errlen,
		 "the hub at %s presents a key (%s) that does not match the enrollment code "
		 "(wrong hub, interception or a mistyped code; or a code made before the "
		 "hub's upgrade, when the check was not bound to the code: ask for a new "
		 "code): nothing was sent",
		 hub_url, seen);
	return SYNC_E_PIN;
}

/* The certificate request's members of the enrollment body. */
static int enroll_tls_body(cJSON *o, const sync_enroll_tls *tls)
{
	cJSON *names;

	if (tls == NULL || tls->et_csr == NULL)
		return 0;
	if (!cJSON_AddStringToObject(o, "csr", tls->et_csr) ||
	    (names = cJSON_AddArrayToObject(o, "names")) == NULL)
		return -1;
	for (int i = 0; i < tls->et_nnames; i++)
		if (!cJSON_AddItemToArray(names, cJSON_CreateString(tls->et_names[i])))
			return -1;
	return 0;
}

static int enroll_post(const char *hub_url, const char *code, const char *pin,
		       const sync_enroll_tls *tls, buf *resp, long *status, int64_t *hub_time,
		       char *err, size_t errlen)
{
	CURL *h = curl_easy_init();
	char url[1024], host[256] = "", errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = NULL, *t;
	cJSON *o = cJSON_CreateObject();
	char *body = NULL;
	sync_client dummy;
	xfer x;
	CURLcode cc;
	int ret = SYNC_E_OTHER;

	memset(&dummy, 0, sizeof dummy);
	memset(&x, 0, sizeof x);
	x.x_client = &dummy;
	x.x_resp = resp;
	x.x_next = x.x_head = x.x_time = -1;
	gethostname(host, sizeof host - 1);
	if (h == NULL || o == NULL || !cJSON_AddStringToObject(o, "code", code) ||
	    (host[0] && !cJSON_AddStringToObject(o, "hostname", host)) ||
	    enroll_tls_body(o, tls) != 0 ||
	    (body = cJSON_PrintUnformatted(o)) == NULL ||
	    (t = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
		fmt_line(err, errlen, "out of memory");
		goto out;
	}
	hl = t;
	if ((t = curl_slist_append(hl, "Expect:")) == NULL) {
		fmt_line(err, errlen, "out of memory");
		goto out;
	}
	hl = t;
	sync__url_join(hub_url, "/api/v1/sync/enroll", url, sizeof url);
	/* Only to the key checked against the code (or --pin): an interceptor
	 * that takes over between the check and this request gets nothing. */
	sync__curl_common(h, url, pin, SYNC_CONNECT_TIMEOUT_MS, SYNC_REQUEST_TIMEOUT_MS, errbuf, &x);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		ret = sync__map_curl(cc, hub_url, errbuf, err, errlen);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	*hub_time = x.x_time;
	ret = 0;
out:
	sync__text_wipe_free(body); /* holds the code */
	sync__json_wipe_free(o, "code"); /* a secret: scrubbed first */
	curl_slist_free_all(hl);
	if (h)
		curl_easy_cleanup(h);
	return ret;
}

int sync_client_enroll(const char *hub_url, const char *code, const char *pin,
		       sync_enroll_tls *tls, const char *data_dir, sync_identity *out, char *err,
		       size_t errlen)
{
	char seen[128];
	sync_identity id;
	buf resp = BUF_INIT(64 * 1024);
	cJSON *o = NULL;
	const cJSON *sec;
	const char *what = NULL;
	char path[PATH_MAX + 32];
	long status = 0;
	int64_t hub_time = -1;
	uint64_t t0;
	sqlite3 *db = NULL;
	int rc;

	memset(&id, 0, sizeof id);
	if (sync_client_global_init() != 0) {
		fmt_line(err, errlen, "cannot initialise libcurl");
		return SYNC_E_OTHER;
	}
	if (strncmp(hub_url, "https://", 8) != 0 || strlen(hub_url) >= sizeof id.id_hub_url ||
	    strpbrk(hub_url, " \t\r\n") != NULL) {
		fmt_line(err, errlen, "the hub URL must start with https:// (got '%s')", hub_url);
		return SYNC_E_CONFIG;
	}
	if (code == NULL || *code == '\0' || strlen(code) > 64) {
		fmt_line(err, errlen, "an enrollment code is required");
		return SYNC_E_CONFIG;
	}
	if (pin != NULL && (strncmp(pin, "sha256//", 8) != 0 || strlen(pin) != 52)) {
		fmt_line(err, errlen, "--pin must be sha256// and 44 base64 characters");
		return SYNC_E_CONFIG;
	}
	rc = enroll_healthz(hub_url, NULL, seen, sizeof seen, err, errlen);
	if (rc == 0)
		rc = enroll_verify_key(hub_url, code, pin, seen, err, errlen);
	if (rc != 0)
		goto out;
	t0 = clock_ms();
	rc = enroll_post(hub_url, code, seen, tls, &resp, &status, &hub_time, err, errlen);
	if (rc != 0)
		goto out;
	o = resp.len ? cJSON_ParseWithLength(resp.data, resp.len) : NULL;
	if (status != 200) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
		fmt_line(err, errlen, "the hub refused the enrollment (%ld): %s", status,
		       cJSON_IsString(e) && e->valuestring ? e->valuestring : "no reason given");
		rc = (status == 401 || status == 410 || status == 403) ? SYNC_E_AUTH
		     : status == 426				       ? SYNC_E_SCHEMA
								       : SYNC_E_OTHER;
		goto out;
	}
	sec = cJSON_GetObjectItemCaseSensitive(o, "node_secret");
	snprintf(id.id_hub_url, sizeof id.id_hub_url, "%s", hub_url);
	if (!cJSON_IsObject(o) || sync__copy_member(o, "node_id", id.id_node_id, sizeof id.id_node_id) ||
	    sync__copy_member(o, "hub_pin", id.id_pin, sizeof id.id_pin) ||
	    sync__copy_member(o, "office_id", id.id_office_id, sizeof id.id_office_id) ||
	    sync__copy_member(o, "local_area_id", id.id_local_area_id, sizeof id.id_local_area_id) ||
	    !cJSON_IsString(sec) || sec->valuestring == NULL ||
	    crypto_unhex(sec->valuestring, id.id_secret, sizeof id.id_secret) != 0 ||
	    sync__identity_check(&id, &what) != 0) {
		fmt_line(err, errlen, "the hub's enrollment reply is incomplete or malformed%s%s",
		       what ? ": " : "", what ? what : "");
		rc = SYNC_E_OTHER;
		goto out;
	}
	if (strcmp(id.id_pin, seen) != 0) {
		fmt_line(err, errlen, "the hub's enrollment reply names a key other than the one "
				      "it presents: enrollment not saved");
		rc = SYNC_E_PIN;
		goto out;
	}
	rc = enroll_healthz(hub_url, id.id_pin, NULL, 0, err, errlen);
	if (rc != 0)
		goto out;
	if (tls != NULL) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "cert");
		const cJSON *ca = cJSON_GetObjectItemCaseSensitive(o, "ca_cert");
		if (cJSON_IsString(c) && cJSON_IsString(ca)) {
			tls->et_cert = strdup(c->valuestring);
			tls->et_ca_cert = strdup(ca->valuestring);
		}
	}
	rc = sync_identity_save(data_dir, &id, err, errlen);
	if (rc != 0)
		goto out;
	/* The node takes the identity at its next cycle anyway; adopting now
	 * makes `status` right at once when the database exists. */
	snprintf(path, sizeof path, "%s/%s", data_dir, SYNC_NODE_DB_FILE);
	if (access(path, F_OK) == 0 && sync_client_db_open(data_dir, &db, NULL, 0) == 0) {
		if (sync_client_adopt(db, &id, NULL) != 0)
			log_warnx("enrolled, but cannot record the identity in '%s' yet; the node "
				  "will at its next cycle",
				  path);
		if (hub_time > 0) {
			uint64_t t1 = clock_ms();
			db_kv_set_i64(db, "node_meta", "clock_offset_ms",
				   hub_time - (int64_t)((t0 + t1) / 2));
			db_kv_set_i64(db, "node_meta", "last_contact_ms", (int64_t)t1);
		}
		db_close(db);
	}
	if (out)
		*out = id;
	rc = 0;
out:
	sync__json_wipe_free(o, "node_secret"); /* a secret: scrubbed first */
	if (resp.data)
		memset(resp.data, 0, resp.len);
	buf_release(&resp);
	sync_identity_wipe(&id);
	return rc;
}
