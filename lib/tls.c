/*
 * tls.c - server TLS over mbedTLS 2.28 on memory buffers (see tls.h).
 *
 * The session's BIO callbacks read from the ciphertext the transport fed in
 * and append to an output block the transport takes and writes to the
 * socket, so no TLS code ever touches a file descriptor and the loop thread
 * never blocks.  The self-signed certificate made on first start uses a
 * P-256 key (a handshake costs far less than with RSA-2048); nodes pin its
 * public key, so no certificate authority is involved.
 */
#include "lib/tls.h"
#include "lib/crypto.h"
#include "lib/tls_x509.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tls_config {
	int tc_sessions; /* sessions made from it and not freed yet */
	int tc_retired;  /* tls_config_free() was called: freed with the last one */
	mbedtls_ssl_config tc_conf;
	mbedtls_x509_crt tc_crt;
	mbedtls_pk_context tc_key;
	mbedtls_ctr_drbg_context tc_drbg;
	mbedtls_entropy_context tc_entropy;
};

struct tls_session {
	tls_config *ts_cfg; /* the configuration it was made from (held) */
	mbedtls_ssl_context ts_ssl;
	const unsigned char *ts_in; /* ciphertext being fed, not owned */
	size_t ts_in_len;
	char *ts_out; /* ciphertext to send */
	size_t ts_out_len, ts_out_cap;
	int ts_ready;
	int ts_err; /* mbedTLS's code for the last -1 of tls_session_input() */
};

/* ---- configuration ---------------------------------------------------------- */

/* Forward secret (ECDHE) and AEAD (AES-GCM, ChaCha20-Poly1305) only, TLS 1.2:
 * no static ECDH or RSA key exchange, no CBC, CCM or Camellia.  The RSA
 * lines serve an operator's own RSA certificate. */
static const int tls_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int tls_write_file(const char *path, const void *data, size_t n, unsigned mode)
{
	char tmp[4096];
	int fd, rc = -1;
	const char *p = data;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) != 0)
		goto out;
	rc = 0;
out:
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static int generate(tls_config *cfg, const char *cert_path, const char *key_path,
		    const char **err)
{
	mbedtls_pk_context key;
	mbedtls_x509write_cert crt;
	int rc = -1, made;

	mbedtls_pk_init(&key);
	mbedtls_x509write_crt_init(&crt);
	made = tls_x509_new_key(&key, &cfg->tc_drbg, key_path);
	if (made != 0) {
		*err = made == -2 ? "cannot write the generated key" : "cannot generate a key";
		goto out;
	}
	*err = "cannot make a self-signed certificate";
	if (tls_x509_base(&crt, &key, &key, "CN=outpost-hub,O=Outpost", "CN=outpost-hub,O=Outpost",
			  "20250101000000", "20451231235959", 0) != 0)
		goto out;
	*err = "cannot write the generated certificate";
	if (tls_x509_write_crt(&crt, &cfg->tc_drbg, cert_path) != 0)
		goto out;
	rc = 0;
out:
	mbedtls_x509write_crt_free(&crt);
	mbedtls_pk_free(&key);
	return rc;
}

tls_config *tls_config_new(const char *cert_path, const char *key_path, int gen,
			   const char **err)
{
	static const char pers[] = "outpost-tls";
	tls_config *cfg = calloc(1, sizeof *cfg);
	int have_cert, have_key;

	*err = "out of memory";
	if (cfg == NULL)
		return NULL;
	mbedtls_ssl_config_init(&cfg->tc_conf);
	mbedtls_x509_crt_init(&cfg->tc_crt);
	mbedtls_pk_init(&cfg->tc_key);
	mbedtls_ctr_drbg_init(&cfg->tc_drbg);
	mbedtls_entropy_init(&cfg->tc_entropy);
	*err = "cannot seed the random generator";
	if (mbedtls_ctr_drbg_seed(&cfg->tc_drbg, mbedtls_entropy_func, &cfg->tc_entropy,
				  (const unsigned char *)pers, sizeof pers - 1) != 0)
		goto fail;

	have_cert = file_exists(cert_path);
	have_key = file_exists(key_path);
	if (!have_cert && !have_key && gen) {
		if (generate(cfg, cert_path, key_path, err) != 0)
			goto fail;
	} else if (!have_cert || !have_key) {
		*err = have_cert ? "the private key file is missing"
				 : "the certificate file is missing";
		goto fail;
	}
	*err = "cannot read the certificate (PEM expected)";
	if (mbedtls_x509_crt_parse_file(&cfg->tc_crt, cert_path) != 0)
		goto fail;
	*err = "cannot read the private key (PEM, unencrypted, expected)";
	if (mbedtls_pk_parse_keyfile(&cfg->tc_key, key_path, NULL) != 0)
		goto fail;
	*err = "the private key does not match the certificate";
	if (mbedtls_pk_check_pair(&cfg->tc_crt.pk, &cfg->tc_key) != 0)
		goto fail;

	*err = "cannot set up TLS";
	if (mbedtls_ssl_config_defaults(&cfg->tc_conf, MBEDTLS_SSL_IS_SERVER,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		goto fail;
	mbedtls_ssl_conf_min_version(&cfg->tc_conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3); /* TLS 1.2 */
	mbedtls_ssl_conf_ciphersuites(&cfg->tc_conf, tls_suites);
	mbedtls_ssl_conf_rng(&cfg->tc_conf, mbedtls_ctr_drbg_random, &cfg->tc_drbg);
	mbedtls_ssl_conf_renegotiation(&cfg->tc_conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	if (mbedtls_ssl_conf_own_cert(&cfg->tc_conf, &cfg->tc_crt, &cfg->tc_key) != 0)
		goto fail;
	*err = NULL;
	return cfg;
fail:
	tls_config_free(cfg);
	return NULL;
}

void tls_config_free(tls_config *cfg)
{
	if (cfg == NULL)
		return;
	/* Sessions point into it (mbedtls_ssl_setup): the last one frees it. */
	cfg->tc_retired = 1;
	if (cfg->tc_sessions > 0)
		return;
	mbedtls_ssl_config_free(&cfg->tc_conf);
	mbedtls_x509_crt_free(&cfg->tc_crt);
	mbedtls_pk_free(&cfg->tc_key);
	mbedtls_ctr_drbg_free(&cfg->tc_drbg);
	mbedtls_entropy_free(&cfg->tc_entropy);
	free(cfg);
}

static int pk_pin(const mbedtls_pk_context *pk, char *out, size_t n)
{
	unsigned char der[1024], h[32], b64[64];
	size_t blen = 0;
	int len;

	/* writes at the end of der; casting away const: the call only reads */
	len = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)pk, der, sizeof der);
	if (len <= 0)
		return -1;
	if (mbedtls_sha256_ret(der + sizeof der - len, (size_t)len, h, 0) != 0)
		return -1;
	if (mbedtls_base64_encode(b64, sizeof b64, &blen, h, sizeof h) != 0)
		return -1;
	if ((size_t)snprintf(out, n, "sha256//%.*s", (int)blen, b64) >= n)
		return -1;
	return 0;
}

int tls_config_pin(const tls_config *cfg, char *out, size_t n)
{
	return pk_pin(&cfg->tc_crt.pk, out, n);
}

int tls_cert_pin(const void *cert, size_t len, char *out, size_t n)
{
	mbedtls_x509_crt crt;
	int rc = -1;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse(&crt, cert, len) == 0)
		rc = pk_pin(&crt.pk, out, n);
	mbedtls_x509_crt_free(&crt);
	return rc;
}

int tls_pair_check(const void *cert, size_t cert_len, const void *key, size_t key_len)
{
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	unsigned char *c = malloc(cert_len + 1), *k = malloc(key_len + 1);
	int rc = -1;

	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	if (c == NULL || k == NULL)
		goto out;
	/* (PEM is parsed from a NUL-terminated buffer, its length counting it) */
	memcpy(c, cert, cert_len);
	c[cert_len] = '\0';
	memcpy(k, key, key_len);
	k[key_len] = '\0';
	if (mbedtls_x509_crt_parse(&crt, c, cert_len + 1) != 0 ||
	    mbedtls_pk_parse_key(&pk, k, key_len + 1, NULL, 0) != 0)
		goto out;
	rc = mbedtls_pk_check_pair(&crt.pk, &pk) == 0;
out:
	mbedtls_pk_free(&pk);
	mbedtls_x509_crt_free(&crt);
	if (k != NULL)
		crypto_wipe(k, key_len + 1);
	free(c);
	free(k);
	return rc;
}

/* ---- sessions ---------------------------------------------------------------- */

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
	tls_session *s = ctx;

	if (n > INT32_MAX)
		n = INT32_MAX;
	if (s->ts_out_len + n > s->ts_out_cap) {
		size_t cap = s->ts_out_cap ? s->ts_out_cap : 4096;
		char *q;
		while (cap < s->ts_out_len + n)
			cap *= 2;
		q = realloc(s->ts_out, cap);
		if (q == NULL)
			return MBEDTLS_ERR_SSL_ALLOC_FAILED;
		s->ts_out = q;
		s->ts_out_cap = cap;
	}
	memcpy(s->ts_out + s->ts_out_len, p, n);
	s->ts_out_len += n;
	return (int)n;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
	tls_session *s = ctx;

	if (s->ts_in_len == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n > s->ts_in_len)
		n = s->ts_in_len;
	if (n > INT32_MAX)
		n = INT32_MAX;
	memcpy(p, s->ts_in, n);
	s->ts_in += n;
	s->ts_in_len -= n;
	return (int)n;
}

tls_session *tls_session_new(tls_config *cfg)
{
	tls_session *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	mbedtls_ssl_init(&s->ts_ssl);
	s->ts_cfg = cfg;
	cfg->tc_sessions++;
	if (mbedtls_ssl_setup(&s->ts_ssl, &cfg->tc_conf) != 0) {
		tls_session_free(s);
		return NULL;
	}
	mbedtls_ssl_set_bio(&s->ts_ssl, s, bio_send, bio_recv, NULL);
	return s;
}

void tls_session_free(tls_session *s)
{
	if (s == NULL)
		return;
	mbedtls_ssl_free(&s->ts_ssl);
	free(s->ts_out);
	if (s->ts_cfg != NULL && --s->ts_cfg->tc_sessions == 0 && s->ts_cfg->tc_retired)
		tls_config_free(s->ts_cfg);
	free(s);
}

int tls_session_input(tls_session *s, const void *p, size_t n,
		      void (*on_plain)(void *arg, const char *p, size_t n), void *arg)
{
	unsigned char plain[16384];
	int rc;

	s->ts_in = p;
	s->ts_in_len = n;
	if (!s->ts_ready) {
		rc = mbedtls_ssl_handshake(&s->ts_ssl);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			goto done;
		if (rc != 0) {
			s->ts_err = rc;
			return -1;
		}
		s->ts_ready = 1;
	}
	for (;;) {
		rc = mbedtls_ssl_read(&s->ts_ssl, plain, sizeof plain);
		if (rc > 0) {
			/* the input pointer stays with the session across the callback:
			 * on_plain may only write, which never reads */
			on_plain(arg, (const char *)plain, (size_t)rc);
			continue;
		}
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			break;
		if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == 0) {
			s->ts_in = NULL;
			s->ts_in_len = 0;
			return 1;
		}
		s->ts_err = rc;
		return -1;
	}
done:
	s->ts_in = NULL;
	s->ts_in_len = 0;
	return 0;
}

int tls_session_write(tls_session *s, const void *p, size_t n)
{
	const unsigned char *q = p;

	if (!s->ts_ready)
		return -1;
	while (n > 0) {
		int rc = mbedtls_ssl_write(&s->ts_ssl, q, n);
		if (rc < 0)
			return -1; /* the memory BIO never blocks */
		q += rc;
		n -= (size_t)rc;
	}
	return 0;
}

int tls_session_close_notify(tls_session *s)
{
	if (!s->ts_ready)
		return 0;
	return mbedtls_ssl_close_notify(&s->ts_ssl) == 0 ? 0 : -1;
}

char *tls_session_take_output(tls_session *s, size_t *n)
{
	char *p = s->ts_out;

	*n = s->ts_out_len;
	if (*n == 0)
		return NULL;
	s->ts_out = NULL;
	s->ts_out_len = s->ts_out_cap = 0;
	return p;
}

int tls_session_ready(const tls_session *s) { return s->ts_ready; }

const char *tls_session_error(const tls_session *s, char *buf, size_t n)
{
	const char *when = s->ts_ready ? "" : "in the handshake: ";
	char what[160] = "";

	if (s->ts_err == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && s->ts_ssl.in_msg != NULL) {
		/* The peer's alert (RFC 5246 7.2): 42 to 48 say it refused the certificate. */
		unsigned alert = s->ts_ssl.in_msg[1];

		snprintf(buf, n, "%sthe client sent fatal alert %u%s", when, alert,
			 alert >= 42 && alert <= 48 ? " (it does not trust this certificate)" : "");
		return buf;
	}
	mbedtls_strerror(s->ts_err, what, sizeof what);
	snprintf(buf, n, "%s%s (-0x%04x)", when, what[0] ? what : "unknown", (unsigned)-s->ts_err);
	return buf;
}
