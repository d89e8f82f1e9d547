/*
 * tls.h - TLS for the HTTP server, over mbedTLS 2.28: a server configuration
 * (certificate and key, generated self-signed on first start when asked) and
 * one session per connection that works on memory, never on a socket, so the
 * libuv transport in http.c feeds it ciphertext and sends what it produces.
 *
 * TLS 1.2 is the minimum, with ECDHE + AEAD suites only (AES-GCM,
 * ChaCha20-Poly1305).  A tls_config is read-only once made and may serve
 * any number of sessions on one loop thread.  Each session holds its
 * configuration: a configuration freed while sessions made from it live (a
 * certificate replaced under running connections) goes with the last of
 * them, so a server can swap configurations at any time.
 */
#ifndef OUTPOST_TLS_H
#define OUTPOST_TLS_H

#include <stddef.h>

typedef struct tls_config tls_config;
typedef struct tls_session tls_session;

/*
 * Load the PEM certificate and private key.  When both files are missing and
 * generate is set, make a P-256 key and a self-signed certificate valid for
 * 20 years, and write them (key mode 0600).  Returns the config, or NULL with
 * *err (static text) saying why.
 */
tls_config *tls_config_new(const char *cert_path, const char *key_path, int generate,
			   const char **err);
/* Free cfg now, or with the last session made from it (NULL: nothing). */
void tls_config_free(tls_config *cfg);

/* "sha256//BASE64" of the certificate's public key (as libcurl's
 * CURLOPT_PINNEDPUBLICKEY takes it) into out.  0, or -1 when it does not fit. */
int tls_config_pin(const tls_config *cfg, char *out, size_t n);

/* The same pin for a PEM (or DER) certificate of len bytes (PEM: len
 * counts its terminating NUL, as mbedtls_x509_crt_parse wants).  0 or -1. */
int tls_cert_pin(const void *cert, size_t len, char *out, size_t n);

/* Is the PEM (or DER) private key (key_len bytes, no NUL needed) the PEM
 * certificate's?  1 yes, 0 no, -1 when either cannot be read. */
int tls_pair_check(const void *cert, size_t cert_len, const void *key, size_t key_len);

/* Write n bytes to path atomically (a temporary file, fsync, rename) with
 * the given mode.  0 or -1. */
int tls_write_file(const char *path, const void *data, size_t n, unsigned mode);

/* A server session, or NULL (out of memory). */
tls_session *tls_session_new(tls_config *cfg);
void tls_session_free(tls_session *s);

/*
 * Ciphertext from the peer.  Advances the handshake, then decrypts: each run
 * of plaintext goes to on_plain(arg, p, n) (which may call
 * tls_session_write()).  Returns 0; 1 when the peer sent close_notify; -1 on
 * a TLS error (the connection should close).
 */
int tls_session_input(tls_session *s, const void *p, size_t n,
		      void (*on_plain)(void *arg, const char *p, size_t n), void *arg);

/* Encrypt plaintext for the peer (the output gathers until taken).  0, or -1. */
int tls_session_write(tls_session *s, const void *p, size_t n);

/* Queue a close_notify alert.  0, or -1. */
int tls_session_close_notify(tls_session *s);

/* Take the ciphertext gathered so far: a malloc'd block the caller frees, and
 * its length in *n; NULL with *n = 0 when there is none. */
char *tls_session_take_output(tls_session *s, size_t *n);

/* Nonzero once the handshake has finished. */
int tls_session_ready(const tls_session *s);

/* What the last -1 of tls_session_input() was, for a log line (no secret:
 * mbedTLS's text and code, and whether the handshake had finished). */
const char *tls_session_error(const tls_session *s, char *buf, size_t n);

#endif
