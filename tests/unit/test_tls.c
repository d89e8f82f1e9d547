/*
 * test_tls.c - unit tests for lib/crypto (published test vectors) and
 * lib/tls: the self-signed certificate made on first start, its key file's
 * mode, the public-key pin (stable across restarts), refusals of broken
 * files, and a whole TLS 1.2+ exchange between a tls_session and an mbedTLS
 * client over memory, including a reply larger than one TLS record; and
 * lib/tls_ca's rule of the names the office CA signs for a node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_csr.h>
#include <mbedtls/ssl.h>

#include "lib/crypto.h"
#include "lib/tls.h"
#include "lib/tls_ca.h"
#include "testutil.h"

static void hex_is(const unsigned char *p, size_t n, const char *want)
{
	char got[2 * 64 + 1];

	assert_true(n <= 64);
	crypto_hex(p, n, got);
	assert_string_equal(got, want);
}

static void test_crypto_vectors(void **state)
{
	unsigned char out[32], back[4];
	char hx[9];

	(void)state;
	/* FIPS 180-2 */
	assert_int_equal(crypto_sha256("abc", 3, out), 0);
	hex_is(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* RFC 4231 test case 2 */
	assert_int_equal(crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out),
			 0);
	hex_is(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* PBKDF2-HMAC-SHA256 (RFC 7914 section 11 style vectors) */
	assert_int_equal(crypto_pbkdf2_sha256("password", 8, "salt", 4, 1, out, 32), 0);
	hex_is(out, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
	assert_int_equal(crypto_pbkdf2_sha256("password", 8, "salt", 4, 4096, out, 32), 0);
	hex_is(out, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
	assert_int_equal(crypto_pbkdf2_sha256("password", 8, "salt", 4, 0, out, 32), -1);
	/* RFC 7914 section 11: more than one output block */
	{
		unsigned char dk[64];
		assert_int_equal(crypto_pbkdf2_sha256("passwd", 6, "salt", 4, 1, dk, 64), 0);
		hex_is(dk, 32, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
		hex_is(dk + 32, 32, "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
	}

	assert_int_equal(crypto_ct_cmp("abcd", "abcd", 4), 0);
	assert_int_not_equal(crypto_ct_cmp("abcd", "abce", 4), 0);
	crypto_hex("\x01\xab\xff\x00", 4, hx);
	assert_string_equal(hx, "01abff00");
	assert_int_equal(crypto_unhex("01ABff00", back, 4), 0);
	assert_memory_equal(back, "\x01\xab\xff\x00", 4);
	assert_int_equal(crypto_unhex("01abff0", back, 4), -1);
	assert_int_equal(crypto_unhex("01abfg00", back, 4), -1);

	/* random: two draws differ, and the call fills every byte */
	unsigned char a[32] = {0}, b[32] = {0};
	assert_int_equal(crypto_random(a, sizeof a), 0);
	assert_int_equal(crypto_random(b, sizeof b), 0);
	assert_memory_not_equal(a, b, sizeof a);
}

/* The pad-precomputing PBKDF2 against mbedTLS's own, over lengths that cross
 * the 64-byte key block (hashed keys), empty inputs and partial blocks. */
static void test_pbkdf2_matches_mbedtls(void **state)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	unsigned char pw[150], salt[80], a[100], b[100];
	static const size_t pwl[] = {0, 1, 8, 63, 64, 65, 150}, sl[] = {0, 4, 16, 80},
			    ol[] = {1, 31, 32, 33, 64, 100};
	mbedtls_md_context_t ctx;

	(void)state;
	assert_int_equal(crypto_random(pw, sizeof pw), 0);
	assert_int_equal(crypto_random(salt, sizeof salt), 0);
	mbedtls_md_init(&ctx);
	assert_int_equal(mbedtls_md_setup(&ctx, md, 1), 0);
	for (size_t i = 0; i < sizeof pwl / sizeof *pwl; i++)
		for (size_t j = 0; j < sizeof sl / sizeof *sl; j++)
			for (size_t k = 0; k < sizeof ol / sizeof *ol; k++) {
				uint32_t it = (uint32_t)(1 + (i + j + k) % 5);
				assert_int_equal(crypto_pbkdf2_sha256(pw, pwl[i], salt, sl[j], it, a, ol[k]), 0);
				assert_int_equal(mbedtls_pkcs5_pbkdf2_hmac(&ctx, pw, pwl[i], salt, sl[j], it,
									   (uint32_t)ol[k], b),
						 0);
				assert_memory_equal(a, b, ol[k]);
			}
	mbedtls_md_free(&ctx);
}

static void paths(const char *dir, char *crt, char *key)
{
	assert_true((size_t)snprintf(crt, 512, "%s/hub.crt", dir) < 512);
	assert_true((size_t)snprintf(key, 512, "%s/hub.key", dir) < 512);
}

static void test_tls_generate_and_pin(void **state)
{
	char *dir = tu_tmpdir("tls");
	char crt[512], key[512], pin1[128], pin2[128], other[512];
	const char *err = NULL;
	tls_config *cfg;
	struct stat st;

	(void)state;
	assert_non_null(dir);
	paths(dir, crt, key);
	/* missing files without generate: refused, saying which */
	assert_null(tls_config_new(crt, key, 0, &err));
	assert_non_null(err);

	cfg = tls_config_new(crt, key, 1, &err);
	assert_non_null(cfg);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(crt, &st), 0);
	assert_int_equal(tls_config_pin(cfg, pin1, sizeof pin1), 0);
	assert_int_equal(strncmp(pin1, "sha256//", 8), 0);
	assert_int_equal(strlen(pin1), 8 + 44); /* base64 of 32 bytes */
	assert_int_equal(tls_config_pin(cfg, pin2, 20), -1); /* does not fit */
	tls_config_free(cfg);

	/* a restart loads the same key: the nodes' pin still holds */
	cfg = tls_config_new(crt, key, 1, &err);
	assert_non_null(cfg);
	assert_int_equal(tls_config_pin(cfg, pin2, sizeof pin2), 0);
	assert_string_equal(pin1, pin2);
	tls_config_free(cfg);

	/* a key that belongs to another certificate is refused */
	snprintf(other, sizeof other, "%s/o", dir);
	mkdir(other, 0700);
	{
		char c2[512], k2[512];
		paths(other, c2, k2);
		cfg = tls_config_new(c2, k2, 1, &err);
		assert_non_null(cfg);
		tls_config_free(cfg);
		assert_null(tls_config_new(crt, k2, 1, &err));
		assert_string_equal(err, "the private key does not match the certificate");
	}
	/* only one of the two files present: refused, never overwritten */
	unlink(key);
	assert_null(tls_config_new(crt, key, 1, &err));
	assert_int_equal(stat(key, &st), -1);
	/* garbage certificate */
	{
		FILE *f = fopen(crt, "w");
		assert_non_null(f);
		fputs("not a certificate\n", f);
		fclose(f);
		char c2[512], k2[512];
		paths(other, c2, k2); /* k2: a valid key */
		assert_null(tls_config_new(crt, k2, 0, &err));
		assert_string_equal(err, "cannot read the certificate (PEM expected)");
	}
	assert_int_equal(tu_rmtree(dir), 0);
	free(dir);
}

/* ---- a client over memory ---- */

struct pipe {
	unsigned char b[256 * 1024];
	size_t len, off;
};

static struct pipe to_server, to_client;
static char server_got[64 * 1024];
static size_t server_got_len;

static int cli_send(void *ctx, const unsigned char *p, size_t n)
{
	(void)ctx;
	if (to_server.len + n > sizeof to_server.b)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	memcpy(to_server.b + to_server.len, p, n);
	to_server.len += n;
	return (int)n;
}

static int cli_recv(void *ctx, unsigned char *p, size_t n)
{
	size_t avail = to_client.len - to_client.off;

	(void)ctx;
	if (avail == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n > avail)
		n = avail;
	memcpy(p, to_client.b + to_client.off, n);
	to_client.off += n;
	return (int)n;
}

static void on_plain(void *arg, const char *p, size_t n)
{
	(void)arg;
	assert_true(server_got_len + n <= sizeof server_got);
	memcpy(server_got + server_got_len, p, n);
	server_got_len += n;
}

/* Move bytes: client -> server session, server output -> client. */
static int pump(tls_session *s)
{
	size_t n;
	char *out;
	int rc = 0;

	if (to_server.len > to_server.off) {
		rc = tls_session_input(s, to_server.b + to_server.off, to_server.len - to_server.off,
				       on_plain, NULL);
		to_server.off = to_server.len = 0;
	}
	out = tls_session_take_output(s, &n);
	if (out) {
		assert_true(to_client.len + n <= sizeof to_client.b);
		memcpy(to_client.b + to_client.len, out, n);
		to_client.len += n;
		free(out);
	}
	return rc;
}

/* An mbedTLS client talking to a server session through the pipes. */
struct client {
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_entropy_context ent;
};

static void client_start(struct client *c)
{
	mbedtls_ssl_init(&c->ssl);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_entropy_init(&c->ent);
	assert_int_equal(mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->ent, NULL, 0), 0);
	assert_int_equal(mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
						     MBEDTLS_SSL_TRANSPORT_STREAM,
						     MBEDTLS_SSL_PRESET_DEFAULT),
			 0);
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE); /* pinned elsewhere */
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	assert_int_equal(mbedtls_ssl_setup(&c->ssl, &c->conf), 0);
	mbedtls_ssl_set_bio(&c->ssl, NULL, cli_send, cli_recv, NULL);
	memset(&to_server, 0, sizeof to_server);
	memset(&to_client, 0, sizeof to_client);
	server_got_len = 0;
}

/* A server session on a key and certificate made in dir. */
static tls_session *server_new(const char *dir, tls_config **cfg)
{
	char crt[512], key[512];
	const char *err = NULL;
	tls_session *s;

	paths(dir, crt, key);
	*cfg = tls_config_new(crt, key, 1, &err);
	assert_non_null(*cfg);
	s = tls_session_new(*cfg);
	assert_non_null(s);
	return s;
}

static void client_end(struct client *c)
{
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->ent);
}

static void test_tls_exchange(void **state)
{
	char *dir = tu_tmpdir("tls");
	tls_config *cfg;
	tls_session *s;
	struct client c;
	mbedtls_ssl_context *cli = &c.ssl;
	static unsigned char big[40000], back[40000];
	size_t got = 0;
	int rc, i;

	(void)state;
	s = server_new(dir, &cfg);
	assert_false(tls_session_ready(s));
	assert_int_equal(tls_session_write(s, "x", 1), -1); /* not before the handshake */

	client_start(&c);

	for (i = 0; i < 20; i++) {
		rc = mbedtls_ssl_handshake(cli);
		if (rc == 0)
			break;
		assert_true(rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
		assert_int_equal(pump(s), 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(pump(s), 0); /* the client's Finished */
	assert_true(tls_session_ready(s));
	assert_string_equal(mbedtls_ssl_get_version(cli), "TLSv1.2");

	/* client -> server */
	assert_int_equal(mbedtls_ssl_write(cli, (const unsigned char *)"GET / HTTP/1.1\r\n\r\n", 18),
			 18);
	assert_int_equal(pump(s), 0);
	assert_int_equal(server_got_len, 18);
	assert_memory_equal(server_got, "GET / HTTP/1.1\r\n\r\n", 18);

	/* server -> client, more than one record */
	for (size_t k = 0; k < sizeof big; k++)
		big[k] = (unsigned char)(k * 7);
	assert_int_equal(tls_session_write(s, big, sizeof big), 0);
	assert_int_equal(pump(s), 0);
	while (got < sizeof big) {
		rc = mbedtls_ssl_read(cli, back + got, sizeof back - got);
		assert_true(rc > 0);
		got += (size_t)rc;
	}
	assert_memory_equal(back, big, sizeof big);

	/* garbage from the peer is an error, not a crash */
	{
		tls_session *s2 = tls_session_new(cfg);
		static const char junk[] = "\x16\x03\x01\x00\x05hello-not-tls";
		char why[224];
		assert_int_equal(tls_session_input(s2, junk, sizeof junk - 1, on_plain, NULL), -1);
		assert_non_null(strstr(tls_session_error(s2, why, sizeof why), "in the handshake: "));
		tls_session_free(s2);
	}
	/* close_notify from the client ends the session cleanly */
	assert_int_equal(mbedtls_ssl_close_notify(cli), 0);
	assert_int_equal(pump(s), 1);

	client_end(&c);
	tls_session_free(s);
	tls_config_free(cfg);
	tu_rmtree(dir);
	free(dir);
}

/* A client that refuses the certificate (as a browser that does not trust
 * it does) sends a fatal alert after the server's first flight: the error
 * says which alert and what it means, for the hub's log line. */
static void test_tls_peer_alert(void **state)
{
	char *dir = tu_tmpdir("tls");
	char why[224];
	tls_config *cfg;
	tls_session *s;
	struct client c;
	int rc;

	(void)state;
	s = server_new(dir, &cfg);
	client_start(&c);
	rc = mbedtls_ssl_handshake(&c.ssl); /* the ClientHello */
	assert_int_equal(rc, MBEDTLS_ERR_SSL_WANT_READ);
	assert_int_equal(pump(s), 0); /* the server's hello, certificate, key exchange */
	assert_true(to_client.len > 0);
	assert_int_equal(mbedtls_ssl_send_alert_message(&c.ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
							MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN),
			 0);
	assert_int_equal(pump(s), -1);
	assert_false(tls_session_ready(s));
	tls_session_error(s, why, sizeof why);
	assert_string_equal(why, "in the handshake: the client sent fatal alert 46 "
				 "(it does not trust this certificate)");
	client_end(&c);
	tls_session_free(s);
	tls_config_free(cfg);
	tu_rmtree(dir);
	free(dir);
}

/* Every office PC trusts the office CA: a name outside the office LAN in a
 * node's certificate would let that node pose as any site. */
static void test_ca_name_office(void **state)
{
	static const char *const yes[] = {
	    "office-pc", "pc.local", "PC.LOCAL", "a.b.lan", "pc.internal",
	    "pc.home.arpa", "10.0.0.5", "10.255.255.255", "172.16.0.1", "172.31.255.254",
	    "192.168.1.20", "169.254.3.4", "fc00::1", "fd12:3456::5",
	    "fe80::1", "febf::1", "pc.offices.example.gov", "offices.example.gov",
	    "PC7.Offices.Example.Gov", "x.other.example.org",
	    /* PC names: not a TLD (the newer generic ones aside) */
	    "frontdesk", "pc1", "p1", "a", "office", "comms", "lan-pc", "local-1",
	};
	static const char *const no[] = {
	    "www.google.com", "login.microsoftonline.com", "office-pc-of-demo-office-2.example",
	    "8.8.8.8", "11.0.0.1", "172.15.255.255", "172.32.0.1", "192.169.0.1", "169.253.0.1",
	    "2001:db8::1", "fec0::1", "::ffff:10.0.0.1", "::", "0.0.0.0", "224.0.0.1",
	    "134744072", "0x8080808", "home.arpa", "lan.com", "pc.local.evil.com", "evil-offices.example.gov",
	    "offices.example.gov.evil.com", "example.gov", "pc..local", "*.local", "pc.local.",
	    "",
	    /* every PC's own machine: localhost and loopback */
	    "localhost", "LocalHost", "pc.localhost", "pc.offices.example.gov.localhost",
	    "127.0.0.1", "127.1.2.3", "127.255.255.255", "::1", "0:0:0:0:0:0:0:1",
	    /* a top-level domain or a LAN suffix, bare */
	    "com", "COM", "net", "org", "gov", "edu", "mil", "int", "arpa", "info", "biz",
	    "us", "US", "uk", "io", "ai", "pc", "local", "Local", "localdomain", "lan", "internal",
	    "home", "corp", "mail", "intranet", "private", "test", "example", "invalid", "onion",
	    "alt", "home.arpa", "HOME.ARPA",
	};
	const char *domains = " offices.example.gov,, .other.example.org ";
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!tls_ca_name_office(yes[i], domains))
			fail_msg("refused '%s'", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (tls_ca_name_office(no[i], domains))
			fail_msg("allowed '%s'", no[i]);
	/* A single label is a host of the office's own network, but a suffix
	 * ("local", "lan") or a top-level domain is none. */
	assert_int_equal(tls_ca_name_office("frontdesk", domains), 1);
	assert_int_equal(tls_ca_name_office("local", domains), 0);
	assert_int_equal(tls_ca_name_office("com", NULL), 0);
	/* No domains: the built-in rule alone. */
	assert_int_equal(tls_ca_name_office("pc.offices.example.gov", NULL), 0);
	assert_int_equal(tls_ca_name_office("pc.offices.example.gov", ""), 0);
	assert_int_equal(tls_ca_name_office("pc.lan", NULL), 1);

	assert_int_equal(tls_ca_domains_check("", err, sizeof err), 0);
	assert_int_equal(tls_ca_domains_check(NULL, err, sizeof err), 0);
	assert_int_equal(tls_ca_domains_check(domains, err, sizeof err), 0);
	assert_int_equal(tls_ca_domains_check("offices.example.gov, gov", err, sizeof err), -1);
	assert_string_equal(err, "cert_domains: 'gov' is not a domain of two labels or more "
				 "(give e.g. offices.example.gov, comma-separated)");
	assert_int_equal(tls_ca_domains_check("10.0.0.0", err, sizeof err), -1);
	assert_int_equal(tls_ca_domains_check("bad_name.example", err, sizeof err), -1);
	assert_int_equal(tls_ca_domains_check("example.gov.", err, sizeof err), -1);
}

/* The hub's own names (its listening host, its certificate's CN and
 * subjectAltNames) are refused to a node: a wildcard of the hub's
 * certificate covers one left-most label by RFC 6125, case aside. */
static void test_name_held(void **state)
{
	static const char *const held = "10.9.8.7,hub-console,console.lan,*.hub.example,"
					"w*.cam.example,*z.dev.example,fd00::9,";
	static const char *const yes[] = {
	    "10.9.8.7", "hub-console", "Console.LAN", "fd00:0::9", "FD00:0:0:0:0:0:0:9",
	    "x.hub.example", "X.Hub.Example", "pc-1.HUB.example", "w.cam.example",
	    "web.cam.example", "WEB.cam.example", "z.dev.example", "biz.dev.example",
	};
	static const char *const no[] = {
	    "10.9.8.6", "hub-console2", "x.console.lan", "hub.example", "a.x.hub.example",
	    "xhub.example", "x.hub.example.lan", "x.hub.examples", "cam.example", "a.cam.example",
	    "a.w.cam.example", "za.dev.example", "dev.example", "fd00::8", "*",
	};

	(void)state;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!tls_name_held(yes[i], held))
			fail_msg("'%s' not seen as held", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (tls_name_held(no[i], held))
			fail_msg("'%s' seen as held", no[i]);
	assert_int_equal(tls_name_held("x.hub.example", NULL), 0);
	assert_int_equal(tls_name_held("x.hub.example", ""), 0);
	/* a '*' right of the left-most label stands for itself */
	assert_int_equal(tls_name_held("a.b.example", "a.*.example,"), 0);
	/* a node's name is never a wildcard: tls_name_ok refuses one */
	assert_int_equal(tls_name_ok("*.hub.example"), 0);
}

/* A PEM request for a new key of type t (RSA: bits; EC: the curve). */
static char *weak_csr(mbedtls_pk_type_t t, int bits, mbedtls_ecp_group_id curve)
{
	mbedtls_ctr_drbg_context d;
	mbedtls_entropy_context e;
	mbedtls_pk_context pk;
	mbedtls_x509write_csr w;
	unsigned char pem[4096];
	char *out = NULL;

	mbedtls_ctr_drbg_init(&d);
	mbedtls_entropy_init(&e);
	mbedtls_pk_init(&pk);
	mbedtls_x509write_csr_init(&w);
	memset(pem, 0, sizeof pem);
	if (mbedtls_ctr_drbg_seed(&d, mbedtls_entropy_func, &e, NULL, 0) == 0 &&
	    mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(t)) == 0 &&
	    (t == MBEDTLS_PK_RSA
		 ? mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk), mbedtls_ctr_drbg_random, &d,
				       (unsigned)bits, 65537)
		 : mbedtls_ecp_gen_key(curve, mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random, &d)) ==
		0) {
		mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
		mbedtls_x509write_csr_set_key(&w, &pk);
		if (mbedtls_x509write_csr_set_subject_name(&w, "CN=office-pc") == 0 &&
		    mbedtls_x509write_csr_pem(&w, pem, sizeof pem, mbedtls_ctr_drbg_random, &d) == 0)
			out = strdup((char *)pem);
	}
	mbedtls_x509write_csr_free(&w);
	mbedtls_pk_free(&pk);
	mbedtls_ctr_drbg_free(&d);
	mbedtls_entropy_free(&e);
	return out;
}

/* The office CA signs only a request whose key is strong enough to serve
 * for 397 days: EC on P-256 or P-384, or RSA of 2048 bits or more. */
static void test_ca_sign_key_strength(void **state)
{
	static const char *const names[] = {"office-pc"};
	char *dir = tu_tmpdir("tlsca"), crt[512], key[512], *csr = NULL, *out = NULL;
	const char *err = NULL;
	tls_ca *ca;

	(void)state;
	assert_non_null(dir);
	snprintf(crt, sizeof crt, "%s/ca.crt", dir);
	snprintf(key, sizeof key, "%s/node.key", dir);
	ca = tls_ca_open(crt, NULL, 0, &err);
	assert_non_null(ca);
	/* RSA-1024 and a 192-bit curve: refused, saying why */
	csr = weak_csr(MBEDTLS_PK_RSA, 1024, MBEDTLS_ECP_DP_NONE);
	assert_non_null(csr);
	assert_int_equal(tls_ca_sign(ca, csr, names, 1, 30, &out, &err), -1);
	assert_null(out);
	assert_string_equal(err, "the certificate request's key is too weak: give an EC key on "
				 "P-256 or P-384, or an RSA key of 2048 bits or more");
	free(csr);
	csr = weak_csr(MBEDTLS_PK_ECKEY, 0, MBEDTLS_ECP_DP_SECP192R1);
	assert_non_null(csr);
	assert_int_equal(tls_ca_sign(ca, csr, names, 1, 30, &out, &err), -1);
	assert_null(out);
	free(csr);
	/* P-384 and the node's own P-256: signed */
	csr = weak_csr(MBEDTLS_PK_ECKEY, 0, MBEDTLS_ECP_DP_SECP384R1);
	assert_non_null(csr);
	assert_int_equal(tls_ca_sign(ca, csr, names, 1, 30, &out, &err), 0);
	assert_non_null(out);
	free(out);
	free(csr);
	assert_int_equal(tls_make_key_csr(key, "office-pc", &csr, &err), 0);
	assert_int_equal(tls_ca_sign(ca, csr, names, 1, 30, &out, &err), 0);
	assert_non_null(out);
	free(out);
	free(csr);
	tls_ca_free(ca);
	assert_int_equal(tu_rmtree(dir), 0);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto_vectors),
		cmocka_unit_test(test_pbkdf2_matches_mbedtls),
		cmocka_unit_test(test_tls_generate_and_pin),
		cmocka_unit_test(test_tls_exchange),
		cmocka_unit_test(test_tls_peer_alert),
		cmocka_unit_test(test_ca_name_office),
		cmocka_unit_test(test_name_held),
		cmocka_unit_test(test_ca_sign_key_strength),
	};
	tu_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
