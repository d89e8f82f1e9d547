/*
 * auth.c - the signature every sync request carries (sync.h, "HTTP API"):
 * hex HMAC-SHA256 under the node secret over
 *
 *   METHOD "\n" PATH_WITH_QUERY "\n" TIME "\n" NONCE "\n" hex(SHA-256(body))
 *
 * The hub recomputes it with sync_sign() over the request as it arrived and
 * compares in constant time; the node (sync/client.c) signs with it.  The
 * body enters only through its hash, so a large push is hashed once and the
 * MAC input stays small.  mbedTLS is called directly, as frame.c and digest.c
 * do, so the replication library has no dependency beyond lib/.
 */
#include "sync/sync.h"
#include "sync/client.h"

#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <string.h>

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int sync__hmac_sha256(const unsigned char *key, size_t keylen, const void *data, size_t len,
		      unsigned char out[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	static const unsigned char empty[1];

	if (md == NULL)
		return -1;
	return mbedtls_md_hmac(md, key, keylen, len ? data : empty, len, out) == 0 ? 0 : -1;
}

void sync_sign(const unsigned char secret[SYNC_SECRET_LEN], const char *method,
	       const char *path_query, const char *time_ms, const char *nonce,
	       const void *body, size_t len, char out[65])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	static const unsigned char empty[1];
	mbedtls_md_context_t ctx;
	unsigned char bh[32], mac[32];
	char bhex[65];
	int rc;

	/* A failure below leaves an empty string, which never matches a
	 * 64-character signature: the request is refused, never forged. */
	out[0] = '\0';
	if (md == NULL ||
	    mbedtls_sha256_ret(len ? (const unsigned char *)body : empty, len, bh, 0) != 0)
		return;
	hex(bh, sizeof bh, bhex);
	mbedtls_md_init(&ctx);
	rc = mbedtls_md_setup(&ctx, md, 1);
	if (rc == 0)
		rc = mbedtls_md_hmac_starts(&ctx, secret, SYNC_SECRET_LEN);
#define PART(s)                                                                              \
	do {                                                                                 \
		if (rc == 0)                                                                 \
			rc = mbedtls_md_hmac_update(&ctx, (const unsigned char *)(s),        \
						    strlen(s));                              \
	} while (0)
	PART(method);
	PART("\n");
	PART(path_query);
	PART("\n");
	PART(time_ms);
	PART("\n");
	PART(nonce);
	PART("\n");
	PART(bhex);
#undef PART
	if (rc == 0)
		rc = mbedtls_md_hmac_finish(&ctx, mac);
	mbedtls_md_free(&ctx);
	if (rc == 0)
		hex(mac, sizeof mac, out);
	memset(mac, 0, sizeof mac);
}

int sync_enroll_check(const char *pin, char out[SYNC_ENROLL_CHECK_LEN + 1])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char h[48];
	size_t n = 0;

	if (pin == NULL || strncmp(pin, "sha256//", 8) != 0 ||
	    mbedtls_base64_decode(h, sizeof h, &n, (const unsigned char *)pin + 8,
				  strlen(pin + 8)) != 0 ||
	    n != 32)
		return -1;
	for (int i = 0; i < SYNC_ENROLL_CHECK_LEN; i++) {
		int bit = i * 5, v = 0;
		for (int k = 0; k < 5; k++, bit++)
			v = (v << 1) | ((h[bit / 8] >> (7 - bit % 8)) & 1);
		out[i] = b32[v];
	}
	out[SYNC_ENROLL_CHECK_LEN] = '\0';
	return 0;
}
