/*
 * crypto.h - the few cryptographic primitives node and hub share, over
 * mbedTLS 2.28 and the kernel's random source: random bytes, SHA-256,
 * HMAC-SHA256, PBKDF2-HMAC-SHA256, constant-time comparison and hex.
 *
 * Every function is thread-safe (no shared state), so the thread pool may
 * call them; PBKDF2 is slow by design and belongs there, never on a loop
 * thread.  Nothing here logs.
 */
#ifndef OUTPOST_CRYPTO_H
#define OUTPOST_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

/* n bytes from the kernel's CSPRNG (getrandom).  0, or -1 when it fails. */
int crypto_random(void *out, size_t n);

/* SHA-256 of p[0..n) into out.  0, or -1. */
int crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);

/* HMAC-SHA256 under key of p[0..n) into out.  0, or -1. */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
		       unsigned char out[CRYPTO_SHA256_LEN]);

/* PBKDF2-HMAC-SHA256 of pw with salt, iters rounds, outlen bytes.  0, or -1. */
int crypto_pbkdf2_sha256(const void *pw, size_t pwlen, const void *salt, size_t saltlen,
			 uint32_t iters, unsigned char *out, size_t outlen);

/* 0 when a[0..n) equals b[0..n); the time taken depends only on n. */
int crypto_ct_cmp(const void *a, const void *b, size_t n);

/*
 * Hex: the one encoder and decoder of the tree (sync signatures, node
 * secrets, tokens, digests, UUIDs and percent-decoding all use these).
 */
/* Lower-case hex of p[0..n) into out (2n + 1 bytes, NUL-terminated). */
void crypto_hex(const void *p, size_t n, char *out);
/* Parse exactly 2n hex digits (either case) into out[0..n).  0, or -1. */
int crypto_unhex(const char *hex, unsigned char *out, size_t n);
/* The value of one hex digit (either case), or -1. */
int crypto_hexval(int ch);
/* 1 when s is exactly n hex digits (either case), else 0. */
int crypto_is_hex(const char *s, size_t n);

/*
 * Key wrapping (DESIGN.md, "Secrets are not stored beside what they
 * protect"): AES-256-GCM of pt[0..n) under key with aad as associated data
 * (binds the wrapped value to its place, e.g. "node_secret:ID"), written as
 * CRYPTO_WRAP_PREFIX + hex(12-byte random nonce || ciphertext || 16-byte
 * tag) into out (CRYPTO_WRAP_LEN(n) bytes).  crypto_unwrap() reverses it into
 * pt (exactly n bytes).  0, or -1 (wrong key, altered value, bad form).
 */
#define CRYPTO_WRAP_PREFIX "gcm1:"
#define CRYPTO_WRAP_LEN(n) (sizeof CRYPTO_WRAP_PREFIX + 2 * (12 + (n) + 16))
int crypto_wrap(const unsigned char key[32], const char *aad, const void *pt, size_t n,
		char *out, size_t outn);
int crypto_unwrap(const unsigned char key[32], const char *aad, const char *in, void *pt,
		  size_t n);
/* 1 when s has the wrapped form. */
int crypto_is_wrapped(const char *s);

/*
 * AES-256-GCM of p[0..n) in place under key, with a 12-byte nonce (never
 * used twice with one key) and aad[0..aadlen) as associated data:
 * crypto_seal() encrypts and writes the 16-byte tag; crypto_open() checks
 * the tag and decrypts.  0, or -1 (for crypto_open: wrong key, altered
 * data; p is then wiped).
 */
#define CRYPTO_GCM_NONCE 12
#define CRYPTO_GCM_TAG 16
int crypto_seal(const unsigned char key[32], const unsigned char nonce[CRYPTO_GCM_NONCE],
		const void *aad, size_t aadlen, void *p, size_t n, unsigned char tag[CRYPTO_GCM_TAG]);
int crypto_open(const unsigned char key[32], const unsigned char nonce[CRYPTO_GCM_NONCE],
		const void *aad, size_t aadlen, void *p, size_t n,
		const unsigned char tag[CRYPTO_GCM_TAG]);

/* Wipe a secret (not optimised away).  crypto_free() wipes the n bytes of
 * a malloc'd block that holds one, then frees it (NULL: nothing). */
void crypto_wipe(void *p, size_t n);
void crypto_free(void *p, size_t n);

#endif
