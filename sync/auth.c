/*
 * auth.c - the signature every sync request carries (sync.h, "HTTP API"):
 * hex HMAC-SHA256 under the node secret over
 *
 *   METHOD "\n" PATH_WITH_QUERY "\n" TIME "\n" NONCE "\n" hex(SHA-256(body))
 *
 * The hub recomputes it with sync_sign() over the request as it arrived and
 * compares in constant time; the node (sync/client.c) signs with it.  The
 * body enters only through its hash, so a large push is hashed once and the
 * MAC input stays small.  A request with a body also states that hash in
 * X-Outpost-Content-SHA256: the hub checks the signature over the stated
 * hash from the headers alone, before it reads a byte of the body
 * (sync_sign_hash), and the body against the stated hash once it is in.
 * The hashing, the HMAC and the hex are lib/crypto's.
 */
#include "sync/sync.h"
#include "lib/buf.h"
#include "lib/crypto.h"

#include <mbedtls/base64.h>
#include <ctype.h>
#include <string.h>

void sync_body_hash(const void *body, size_t len, char out[65])
{
	unsigned char bh[CRYPTO_SHA256_LEN];

	out[0] = '\0';
	if (crypto_sha256(body, len, bh) == 0)
		crypto_hex(bh, sizeof bh, out);
}

void sync_sign_hash(const unsigned char secret[SYNC_SECRET_LEN], const char *method,
		    const char *path_query, const char *time_ms, const char *nonce,
		    const char *body_hash, char out[65])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	buf m = BUF_INIT(16384);

	/* A failure below leaves an empty string, which never matches a
	 * 64-character signature: the request is refused, never forged. */
	out[0] = '\0';
	if (body_hash == NULL || strlen(body_hash) != 2 * CRYPTO_SHA256_LEN)
		goto out;
	if (buf_printf(&m, "%s\n%s\n%s\n%s\n%s", method, path_query, time_ms, nonce,
		       body_hash) != 0 ||
	    crypto_hmac_sha256(secret, SYNC_SECRET_LEN, m.data, m.len, mac) != 0)
		goto out;
	crypto_hex(mac, sizeof mac, out);
out:
	crypto_wipe(mac, sizeof mac);
	buf_release(&m);
}

void sync_sign(const unsigned char secret[SYNC_SECRET_LEN], const char *method,
	       const char *path_query, const char *time_ms, const char *nonce,
	       const void *body, size_t len, char out[65])
{
	char bhex[2 * CRYPTO_SHA256_LEN + 1];

	sync_body_hash(body, len, bhex);
	sync_sign_hash(secret, method, path_query, time_ms, nonce, bhex, out);
}

int sync_enroll_check(const char *pin, const char *code, char out[SYNC_ENROLL_CHECK_LEN + 1])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char h[48], mac[CRYPTO_SHA256_LEN];
	char key[SYNC_ENROLL_RANDOM_LEN];
	size_t n = 0, k = 0;
	int ret = -1;

	for (const char *p = code; p != NULL && *p && k < sizeof key; p++)
		if (*p != '-' && *p != ' ')
			key[k++] = (char)toupper((unsigned char)*p);
	if (k != sizeof key || pin == NULL || strncmp(pin, "sha256//", 8) != 0 ||
	    mbedtls_base64_decode(h, sizeof h, &n, (const unsigned char *)pin + 8,
				  strlen(pin + 8)) != 0 ||
	    n != CRYPTO_SHA256_LEN ||
	    crypto_hmac_sha256(key, sizeof key, h, CRYPTO_SHA256_LEN, mac) != 0)
		goto out;
	for (int i = 0; i < SYNC_ENROLL_CHECK_LEN; i++) {
		int bit = i * 5, v = 0;
		for (int b = 0; b < 5; b++, bit++)
			v = (v << 1) | ((mac[bit / 8] >> (7 - bit % 8)) & 1);
		out[i] = b32[v];
	}
	out[SYNC_ENROLL_CHECK_LEN] = '\0';
	ret = 0;
out:
	crypto_wipe(key, sizeof key); /* the code's secret part */
	crypto_wipe(mac, sizeof mac);
	return ret;
}
