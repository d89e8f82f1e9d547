/*
 * crypto.c - random bytes from getrandom(2), hashes and key derivation over
 * mbedTLS (see crypto.h).  getrandom rather than a shared CTR-DRBG keeps
 * every call thread-safe without a lock.
 */
#include "lib/crypto.h"

#include <errno.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int crypto_random(void *out, size_t n)
{
	unsigned char *p = out;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

int crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	static const unsigned char empty[1];

	return mbedtls_sha256_ret(n ? p : empty, n, out, 0) == 0 ? 0 : -1;
}

int crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
		       unsigned char out[CRYPTO_SHA256_LEN])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	static const unsigned char empty[1];

	if (md == NULL)
		return -1;
	return mbedtls_md_hmac(md, keylen ? key : empty, keylen, n ? p : empty, n, out) == 0
		   ? 0
		   : -1;
}

/*
 * PBKDF2-HMAC-SHA256 (RFC 8018) with the HMAC key's inner and outer padded
 * blocks hashed once: each round then clones those two states and costs two
 * SHA-256 compressions, where mbedtls_pkcs5_pbkdf2_hmac() re-hashes the pads
 * every round and costs four.  Same output (tests compare the two); half the
 * CPU for every password check.
 */
int crypto_pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
			 uint32_t iters, unsigned char *out, size_t outlen)
{
	mbedtls_sha256_context ci, co, t;
	unsigned char key[64], pad[64], u[32], acc[32], ctr[4];
	size_t done = 0;
	int rc = -1;

	if (iters == 0 || outlen == 0 || outlen > (size_t)UINT32_MAX * 32)
		return -1;
	memset(key, 0, sizeof key);
	if (pwlen > sizeof key) {
		if (mbedtls_sha256_ret(pw, pwlen, key, 0) != 0)
			return -1;
	} else if (pwlen) {
		memcpy(key, pw, pwlen);
	}
	mbedtls_sha256_init(&ci);
	mbedtls_sha256_init(&co);
	mbedtls_sha256_init(&t);
	for (int i = 0; i < 64; i++)
		pad[i] = key[i] ^ 0x36;
	if (mbedtls_sha256_starts_ret(&ci, 0) != 0 || mbedtls_sha256_update_ret(&ci, pad, 64) != 0)
		goto out;
	for (int i = 0; i < 64; i++)
		pad[i] = key[i] ^ 0x5c;
	if (mbedtls_sha256_starts_ret(&co, 0) != 0 || mbedtls_sha256_update_ret(&co, pad, 64) != 0)
		goto out;
	for (uint32_t block = 1; done < outlen; block++) {
		size_t take = outlen - done < 32 ? outlen - done : 32;

		ctr[0] = (unsigned char)(block >> 24);
		ctr[1] = (unsigned char)(block >> 16);
		ctr[2] = (unsigned char)(block >> 8);
		ctr[3] = (unsigned char)block;
		mbedtls_sha256_clone(&t, &ci);
		if ((saltlen && mbedtls_sha256_update_ret(&t, salt, saltlen) != 0) ||
		    mbedtls_sha256_update_ret(&t, ctr, 4) != 0 || mbedtls_sha256_finish_ret(&t, u) != 0)
			goto out;
		mbedtls_sha256_clone(&t, &co);
		if (mbedtls_sha256_update_ret(&t, u, 32) != 0 || mbedtls_sha256_finish_ret(&t, u) != 0)
			goto out;
		memcpy(acc, u, 32);
		for (uint32_t r = 1; r < iters; r++) {
			mbedtls_sha256_clone(&t, &ci);
			if (mbedtls_sha256_update_ret(&t, u, 32) != 0 ||
			    mbedtls_sha256_finish_ret(&t, u) != 0)
				goto out;
			mbedtls_sha256_clone(&t, &co);
			if (mbedtls_sha256_update_ret(&t, u, 32) != 0 ||
			    mbedtls_sha256_finish_ret(&t, u) != 0)
				goto out;
			for (int k = 0; k < 32; k++)
				acc[k] ^= u[k];
		}
		memcpy(out + done, acc, take);
		done += take;
	}
	rc = 0;
out:
	mbedtls_sha256_free(&ci);
	mbedtls_sha256_free(&co);
	mbedtls_sha256_free(&t);
	crypto_wipe(key, sizeof key);
	crypto_wipe(pad, sizeof pad);
	crypto_wipe(u, sizeof u);
	crypto_wipe(acc, sizeof acc);
	return rc;
}

int crypto_ct_cmp(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}

void crypto_hex(const void *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[s[i] >> 4];
		out[2 * i + 1] = hx[s[i] & 15];
	}
	out[2 * n] = '\0';
}

int crypto_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int crypto_unhex(const char *hex, unsigned char *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = crypto_hexval((unsigned char)hex[2 * i]);
		int lo = crypto_hexval((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int crypto_is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (crypto_hexval((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

void crypto_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

void crypto_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	crypto_wipe(p, n);
	free(p);
}

/* ---- key wrapping (AES-256-GCM) ------------------------------------------------- */

#define WRAP_NONCE 12
#define WRAP_TAG 16
#define WRAP_MAX 256

int crypto_is_wrapped(const char *s)
{
	return s != NULL && strncmp(s, CRYPTO_WRAP_PREFIX, sizeof CRYPTO_WRAP_PREFIX - 1) == 0;
}

int crypto_wrap(const unsigned char key[32], const char *aad, const void *pt, size_t n,
		char *out, size_t outn)
{
	unsigned char buf[WRAP_NONCE + WRAP_MAX + WRAP_TAG];
	mbedtls_gcm_context g;
	int rc;

	if (n == 0 || n > WRAP_MAX || outn < CRYPTO_WRAP_LEN(n) || crypto_random(buf, WRAP_NONCE))
		return -1;
	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (rc == 0)
		rc = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, n, buf, WRAP_NONCE,
					       (const unsigned char *)aad, strlen(aad), pt,
					       buf + WRAP_NONCE, WRAP_TAG, buf + WRAP_NONCE + n);
	mbedtls_gcm_free(&g);
	if (rc == 0) {
		memcpy(out, CRYPTO_WRAP_PREFIX, sizeof CRYPTO_WRAP_PREFIX - 1);
		crypto_hex(buf, WRAP_NONCE + n + WRAP_TAG, out + sizeof CRYPTO_WRAP_PREFIX - 1);
	}
	crypto_wipe(buf, sizeof buf);
	return rc == 0 ? 0 : -1;
}

int crypto_unwrap(const unsigned char key[32], const char *aad, const char *in, void *pt,
		  size_t n)
{
	unsigned char buf[WRAP_NONCE + WRAP_MAX + WRAP_TAG];
	mbedtls_gcm_context g;
	int rc;

	if (n == 0 || n > WRAP_MAX || !crypto_is_wrapped(in))
		return -1;
	in += sizeof CRYPTO_WRAP_PREFIX - 1;
	if (strlen(in) != 2 * (WRAP_NONCE + n + WRAP_TAG) ||
	    crypto_unhex(in, buf, WRAP_NONCE + n + WRAP_TAG) != 0)
		return -1;
	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (rc == 0)
		rc = mbedtls_gcm_auth_decrypt(&g, n, buf, WRAP_NONCE, (const unsigned char *)aad,
					      strlen(aad), buf + WRAP_NONCE + n, WRAP_TAG,
					      buf + WRAP_NONCE, pt);
	mbedtls_gcm_free(&g);
	crypto_wipe(buf, sizeof buf);
	if (rc != 0) {
		crypto_wipe(pt, n);
		return -1;
	}
	return 0;
}
