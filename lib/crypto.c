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

/*
 * SHA-256 with the x86 SHA extensions where the CPU has them: mbedTLS 2.28
 * hashes in software on x86, and the checksum of every sync frame (a push
 * of 4 MiB, every pull page) was a twentieth of the hub's push CPU
 * (bench_sync).  Same digest (tests/unit/test_core.c compares the two).
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define CRYPTO_SHA_NI 1

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

/* nblk 64-byte blocks of p into the state st (a..h). */
__attribute__((target("sha,sse4.1,ssse3"))) static void sha_ni_blocks(uint32_t st[8],
								       const unsigned char *p,
								       size_t nblk)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i s0, s1, t, m[4], abef, cdgh;

	t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xB1); /* CDAB */
	s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1B); /* EFGH */
	s0 = _mm_alignr_epi8(t, s1, 8);						/* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xF0);					/* CDGH */
	for (; nblk > 0; nblk--, p += 64) {
		abef = s0;
		cdgh = s1;
		for (int i = 0; i < 4; i++)
			m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
		/* Four rounds a step; m[i & 3] then becomes the words of step i + 4. */
		for (int i = 0; i < 16; i++) {
			t = _mm_add_epi32(m[i & 3], _mm_loadu_si128((const __m128i *)&sha_k[4 * i]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, t);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(t, 0x0E));
			if (i < 12) {
				t = _mm_sha256msg1_epu32(m[i & 3], m[(i + 1) & 3]);
				t = _mm_add_epi32(t, _mm_alignr_epi8(m[(i + 3) & 3], m[(i + 2) & 3], 4));
				m[i & 3] = _mm_sha256msg2_epu32(t, m[(i + 3) & 3]);
			}
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);   /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);  /* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xF0); /* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);    /* HGFE */
	_mm_storeu_si128((__m128i *)&st[0], s0);
	_mm_storeu_si128((__m128i *)&st[4], s1);
}

/* 1 when the CPU has the SHA extensions (and SSSE3, SSE4.1). */
static int sha_ni_have(void)
{
	static int have = -1; /* (read and set atomically: any thread) */
	unsigned a, b, c, d;
	int v = __atomic_load_n(&have, __ATOMIC_RELAXED);

	if (v >= 0)
		return v;
	v = __get_cpuid_max(0, NULL) >= 7 && __get_cpuid(1, &a, &b, &c, &d) &&
	    (c & (1u << 9)) && (c & (1u << 19)) && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
	    (b & (1u << 29));
	__atomic_store_n(&have, v, __ATOMIC_RELAXED);
	return v;
}

static void sha_ni(const unsigned char *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	uint32_t st[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	unsigned char tail[128] = {0};
	size_t full = n / 64, rest = n % 64, tl = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;

	sha_ni_blocks(st, p, full);
	memcpy(tail, p + full * 64, rest);
	tail[rest] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - (size_t)i] = (unsigned char)(bits >> (8 * i));
	sha_ni_blocks(st, tail, tl / 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(st[i] >> 24);
		out[4 * i + 1] = (unsigned char)(st[i] >> 16);
		out[4 * i + 2] = (unsigned char)(st[i] >> 8);
		out[4 * i + 3] = (unsigned char)st[i];
	}
}
#endif

int crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	static const unsigned char empty[1];

#ifdef CRYPTO_SHA_NI
	if (sha_ni_have()) {
		sha_ni(n ? p : empty, n, out);
		return 0;
	}
#endif
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

int crypto_seal(const unsigned char key[32], const unsigned char nonce[CRYPTO_GCM_NONCE],
		const void *aad, size_t aadlen, void *p, size_t n, unsigned char tag[CRYPTO_GCM_TAG])
{
	mbedtls_gcm_context g;
	int rc;

	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (rc == 0)
		rc = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, n, nonce, CRYPTO_GCM_NONCE,
					       aad, aadlen, p, p, CRYPTO_GCM_TAG, tag);
	mbedtls_gcm_free(&g);
	return rc == 0 ? 0 : -1;
}

int crypto_open(const unsigned char key[32], const unsigned char nonce[CRYPTO_GCM_NONCE],
		const void *aad, size_t aadlen, void *p, size_t n,
		const unsigned char tag[CRYPTO_GCM_TAG])
{
	mbedtls_gcm_context g;
	int rc;

	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (rc == 0)
		rc = mbedtls_gcm_auth_decrypt(&g, n, nonce, CRYPTO_GCM_NONCE, aad, aadlen, tag,
					      CRYPTO_GCM_TAG, p, p);
	mbedtls_gcm_free(&g);
	return rc == 0 ? 0 : -1;
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
