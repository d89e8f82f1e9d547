/*
 * tls_ca.c - the hub's private CA and the node's key and request (see
 * tls_ca.h).  mbedTLS 2.28 cannot write a subjectAltName extension by
 * itself, so san_der() encodes GeneralNames (dNSName [2], iPAddress [7]).
 */
#include "lib/tls_ca.h"
#include "lib/crypto.h"
#include "lib/tls.h"
#include "lib/tls_x509.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define PEM_MAX 8192

struct tls_ca {
	mbedtls_x509_crt ca_crt;
	mbedtls_pk_context ca_key;
	mbedtls_ctr_drbg_context ca_drbg;
	mbedtls_entropy_context ca_entropy;
	char *ca_pem;
	char ca_subject[256];
};

static int drbg_seed(mbedtls_ctr_drbg_context *d, mbedtls_entropy_context *e)
{
	static const char pers[] = "outpost-ca";

	mbedtls_ctr_drbg_init(d);
	mbedtls_entropy_init(e);
	return mbedtls_ctr_drbg_seed(d, mbedtls_entropy_func, e, (const unsigned char *)pers,
				     sizeof pers - 1);
}

int tls_x509_new_key(mbedtls_pk_context *key, mbedtls_ctr_drbg_context *d, const char *path)
{
	unsigned char pem[PEM_MAX];
	int rc = -1;

	if (mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
	    mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
				mbedtls_ctr_drbg_random, d) != 0)
		return -1;
	if (path == NULL)
		return 0;
	if (mbedtls_pk_write_key_pem(key, pem, sizeof pem) == 0)
		rc = tls_write_file(path, pem, strlen((char *)pem), 0600) == 0 ? 0 : -2;
	crypto_wipe(pem, sizeof pem);
	return rc;
}

int tls_x509_serial(mbedtls_x509write_cert *crt)
{
	unsigned char sn[16];
	mbedtls_mpi serial;
	int rc = -1;

	mbedtls_mpi_init(&serial);
	if (crypto_random(sn, sizeof sn) == 0) {
		sn[0] &= 0x7f; /* positive */
		if (mbedtls_mpi_read_binary(&serial, sn, sizeof sn) == 0 &&
		    mbedtls_x509write_crt_set_serial(crt, &serial) == 0)
			rc = 0;
	}
	mbedtls_mpi_free(&serial);
	return rc;
}

int tls_x509_base(mbedtls_x509write_cert *crt, mbedtls_pk_context *subject_key,
		  mbedtls_pk_context *issuer_key, const char *subject, const char *issuer,
		  const char *from, const char *to, int is_ca)
{
	mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(crt, subject_key);
	mbedtls_x509write_crt_set_issuer_key(crt, issuer_key);
	if (mbedtls_x509write_crt_set_subject_name(crt, subject) != 0 ||
	    mbedtls_x509write_crt_set_issuer_name(crt, issuer) != 0 || tls_x509_serial(crt) != 0 ||
	    mbedtls_x509write_crt_set_validity(crt, from, to) != 0 ||
	    mbedtls_x509write_crt_set_basic_constraints(crt, is_ca, is_ca ? 0 : -1) != 0 ||
	    mbedtls_x509write_crt_set_subject_key_identifier(crt) != 0)
		return -1;
	return 0;
}

int tls_x509_write_crt(mbedtls_x509write_cert *crt, mbedtls_ctr_drbg_context *d,
		       const char *path)
{
	unsigned char pem[PEM_MAX];

	memset(pem, 0, sizeof pem);
	if (mbedtls_x509write_crt_pem(crt, pem, sizeof pem, mbedtls_ctr_drbg_random, d) != 0)
		return -1;
	return tls_write_file(path, pem, strlen((char *)pem), 0644);
}

/* "YYYYMMDDhhmmss" of t (UTC). */
static void x509_time(time_t t, char out[16])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* Make the CA key (into ca->ca_key) and the self-signed CA certificate
 * (written to crt_path). */
static int ca_make(tls_ca *ca, const char *crt_path, const char **err)
{
	mbedtls_pk_context *key = &ca->ca_key;
	mbedtls_x509write_cert crt;
	char from[16], to[16];
	time_t now = time(NULL);
	int rc = -1;

	mbedtls_x509write_crt_init(&crt);
	*err = "cannot make the office CA key";
	if (tls_x509_new_key(key, &ca->ca_drbg, NULL) != 0)
		goto out;
	*err = "cannot make the office CA certificate";
	x509_time(now - 3600, from);
	x509_time(now + 20 * 366 * 86400LL, to);
	if (tls_x509_base(&crt, key, key, "CN=Outpost office CA,O=Outpost",
			  "CN=Outpost office CA,O=Outpost", from, to, 1) != 0 ||
	    mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_KEY_CERT_SIGN |
							 MBEDTLS_X509_KU_CRL_SIGN) != 0)
		goto out;
	*err = "cannot write the office CA certificate";
	if (tls_x509_write_crt(&crt, &ca->ca_drbg, crt_path) != 0)
		goto out;
	rc = 0;
out:
	mbedtls_x509write_crt_free(&crt);
	return rc;
}

static char *read_text(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t n;

	if (f == NULL)
		return NULL;
	p = malloc(max + 1);
	if (p != NULL) {
		n = fread(p, 1, max, f);
		p[n] = '\0';
	}
	fclose(f);
	return p;
}

tls_ca *tls_ca_open(const char *crt_path, const unsigned char *key, size_t key_len,
		    const char **err)
{
	tls_ca *ca = calloc(1, sizeof *ca);
	struct stat st;
	int have_crt = stat(crt_path, &st) == 0;

	*err = "out of memory";
	if (ca == NULL)
		return NULL;
	mbedtls_x509_crt_init(&ca->ca_crt);
	mbedtls_pk_init(&ca->ca_key);
	*err = "cannot seed the random generator";
	if (drbg_seed(&ca->ca_drbg, &ca->ca_entropy) != 0)
		goto fail;
	if (!have_crt && key == NULL) {
		if (ca_make(ca, crt_path, err) != 0)
			goto fail;
	} else if (!have_crt || key == NULL) {
		*err = have_crt ? "the office CA key is missing" : "the office CA certificate is missing";
		goto fail;
	} else {
		*err = "cannot read the office CA key";
		if (mbedtls_pk_parse_key(&ca->ca_key, key, key_len, NULL, 0) != 0)
			goto fail;
	}
	*err = "cannot read the office CA certificate";
	if (mbedtls_x509_crt_parse_file(&ca->ca_crt, crt_path) != 0 ||
	    (ca->ca_pem = read_text(crt_path, PEM_MAX)) == NULL ||
	    mbedtls_x509_dn_gets(ca->ca_subject, sizeof ca->ca_subject, &ca->ca_crt.subject) < 0)
		goto fail;
	*err = "the office CA key is not the certificate's";
	if (mbedtls_pk_check_pair(&ca->ca_crt.pk, &ca->ca_key) != 0)
		goto fail;
	*err = NULL;
	return ca;
fail:
	tls_ca_free(ca);
	return NULL;
}

int tls_ca_key_der(const tls_ca *ca, unsigned char *out, size_t cap, size_t *len)
{
	unsigned char der[PEM_MAX];
	int n = mbedtls_pk_write_key_der((mbedtls_pk_context *)&ca->ca_key, der, sizeof der);

	/* mbedtls writes at the end of the buffer */
	if (n <= 0 || (size_t)n > cap) {
		crypto_wipe(der, sizeof der);
		return -1;
	}
	memcpy(out, der + sizeof der - n, (size_t)n);
	*len = (size_t)n;
	crypto_wipe(der, sizeof der);
	return 0;
}

void tls_ca_free(tls_ca *ca)
{
	if (ca == NULL)
		return;
	mbedtls_x509_crt_free(&ca->ca_crt);
	mbedtls_pk_free(&ca->ca_key);
	mbedtls_ctr_drbg_free(&ca->ca_drbg);
	mbedtls_entropy_free(&ca->ca_entropy);
	free(ca->ca_pem);
	free(ca);
}

const char *tls_ca_pem(const tls_ca *ca) { return ca->ca_pem; }

int tls_ca_pin(const tls_ca *ca, char *out, size_t n)
{
	return tls_cert_pin(ca->ca_pem, strlen(ca->ca_pem) + 1, out, n);
}

int tls_name_ok(const char *name)
{
	unsigned char a[16];
	size_t n = strlen(name);

	if (inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1)
		return 1;
	if (n == 0 || n > 253 || name[0] == '.' || name[0] == '-' || name[n - 1] == '.')
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return 0;
	return strstr(name, "..") == NULL;
}

/* 1 for an address only the office's own network reaches (IPv4 10/8,
 * 172.16/12, 192.168/16, 169.254/16; IPv6 fc00::/7, fe80::/10), 0 for any
 * other address (public, IPv4-mapped, multicast: someone else's machine;
 * loopback, 127/8 and ::1: every office PC's own services, which a node's
 * certificate must not speak for), -1 when name is no address. */
static int addr_private(const char *name)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, name, a) == 1)
		return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254);
	if (inet_pton(AF_INET6, name, a) == 1)
		return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
	return -1;
}

/* 1 when name is the suffix (len bytes, no leading dot) or ends in
 * "." suffix, case aside: how Name Constraints match a dNSName. */
static int name_under(const char *name, const char *suffix, size_t len)
{
	size_t n = strlen(name);

	if (len == 0 || n < len || strncasecmp(name + n - len, suffix, len) != 0)
		return 0;
	return n == len || name[n - len - 1] == '.';
}

/*
 * 1 for a single label that is a top-level domain or a suffix kept for
 * private networks: a certificate for it would speak for the bare suffix,
 * which a search domain or a dotless lookup can reach.  Every two-letter
 * label (ISO 3166 codes, all reserved to country-code TLDs, delegated or
 * not), the generic TLDs of 1985-2012, the special-use labels (RFC 6761,
 * 6762, 7686, 9476; ICANN's .internal; RFC 6762 appendix G's and ICANN's
 * name-collision list: lan, home, corp, mail, intranet, private) and
 * localdomain.  The ~1,200 generic TLDs since 2013 are not listed (that
 * list moves): a PC named "office" stays an office PC.
 */
static int label_reserved(const char *label)
{
	static const char *const tld[] = {
	    "com", "net", "org", "edu", "gov", "mil", "int", "arpa", "info", "biz",
	    "name", "pro", "aero", "coop", "museum", "mobi", "asia", "tel", "travel", "jobs",
	    "cat", "post", "xxx", "local", "localdomain", "lan", "internal", "home", "corp",
	    "mail", "intranet", "private", "test", "example", "invalid", "onion", "alt",
	};

	if (strlen(label) == 2 && isalpha((unsigned char)label[0]) &&
	    isalpha((unsigned char)label[1]))
		return 1;
	for (size_t i = 0; i < sizeof tld / sizeof tld[0]; i++)
		if (strcasecmp(label, tld[i]) == 0)
			return 1;
	return 0;
}

int tls_ca_name_office(const char *name, const char *domains)
{
	/* Names no one can register on the Internet (RFC 6762, RFC 8375, ICANN's
	 * .internal) and "lan", which office and home routers hand out. */
	static const char *const lan[] = {"local", "lan", "internal", "home.arpa"};
	struct in_addr a4;
	int ip;

	if (!tls_name_ok(name))
		return 0;
	if ((ip = addr_private(name)) >= 0)
		return ip;
	/* localhost is every PC's own machine (RFC 6761), as loopback is. */
	if (name_under(name, "localhost", 9))
		return 0;
	/* A single label resolves only through the office's own DNS, NetBIOS
	 * or hosts file, so no public site answers to it; but "134744072" or
	 * "0x8080808" is 8.8.8.8 to getaddrinfo(), not a name, and "com" or
	 * "lan" is a suffix, not a PC. */
	if (strchr(name, '.') == NULL)
		return inet_aton(name, &a4) == 0 && !label_reserved(name);
	for (size_t i = 0; i < sizeof lan / sizeof lan[0]; i++)
		if (strlen(name) > strlen(lan[i]) && name_under(name, lan[i], strlen(lan[i])))
			return 1;
	return tls_ca_name_in_domains(name, domains);
}

int tls_ca_name_in_domains(const char *name, const char *domains)
{
	const char *p = domains ? domains : "";

	if (!tls_name_ok(name) || addr_private(name) >= 0)
		return 0;
	while (*p) {
		size_t len;

		p += strspn(p, " ,.");
		len = strcspn(p, " ,");
		if (name_under(name, p, len))
			return 1;
		p += len;
	}
	return 0;
}

/* Append the n bytes at p and a comma to out (cap bytes, holding *len). */
static int names_append(char *out, size_t cap, size_t *len, const void *p, size_t n)
{
	if (*len + n + 2 > cap)
		return -1;
	memcpy(out + *len, p, n);
	*len += n;
	out[(*len)++] = ',';
	out[*len] = '\0';
	return 0;
}

int tls_cert_names(const char *path, char *out, size_t cap)
{
	mbedtls_x509_crt crt;
	size_t len = strlen(out);
	char ip[INET6_ADDRSTRLEN];
	int rc = -1;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse_file(&crt, path) != 0)
		goto out;
	for (const mbedtls_x509_name *n = &crt.subject; n != NULL; n = n->next)
		if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 &&
		    names_append(out, cap, &len, n->val.p, n->val.len) != 0)
			goto out;
	/* mbedTLS 2.28 keeps every subjectAltName entry raw, with its tag:
	 * [2] dNSName, [7] iPAddress (4 or 16 bytes); the others name no host. */
	for (const mbedtls_x509_sequence *s = &crt.subject_alt_names; s != NULL; s = s->next) {
		const mbedtls_x509_buf *b = &s->buf;
		int af = b->len == 4 ? AF_INET : AF_INET6;

		if (b->p == NULL)
			continue;
		if (b->tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) {
			if (names_append(out, cap, &len, b->p, b->len) != 0)
				goto out;
		} else if (b->tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) &&
			   (b->len == 4 || b->len == 16)) {
			if (inet_ntop(af, b->p, ip, sizeof ip) == NULL ||
			    names_append(out, cap, &len, ip, strlen(ip)) != 0)
				goto out;
		}
	}
	rc = 0;
out:
	mbedtls_x509_crt_free(&crt);
	return rc;
}

/* 1 when the certificate name pat covers the DNS name name, case aside:
 * the same name, or by RFC 6125 (6.4.3) a pattern whose left-most label
 * holds a '*' ("*.hub.example", "w*.hub.example") for exactly one label in
 * its place: x.hub.example, not hub.example nor a.x.hub.example.  A '*'
 * further right stands for itself, which no name holds. */
static int name_covered(const char *name, const char *pat)
{
	const char *pdot = strchr(pat, '.'), *ndot = strchr(name, '.'), *star;
	size_t pre, suf, label;

	if (strcasecmp(name, pat) == 0)
		return 1;
	if (pdot == NULL || ndot == NULL || strcasecmp(pdot, ndot) != 0 ||
	    (star = memchr(pat, '*', (size_t)(pdot - pat))) == NULL)
		return 0;
	pre = (size_t)(star - pat);
	suf = (size_t)(pdot - star - 1);
	label = (size_t)(ndot - name);
	return label > 0 && label >= pre + suf && strncasecmp(name, pat, pre) == 0 &&
	       strncasecmp(ndot - suf, star + 1, suf) == 0;
}

int tls_name_held(const char *name, const char *held)
{
	unsigned char a[16], b[16];
	char one[256];
	int af = inet_pton(AF_INET, name, a) == 1    ? AF_INET
		 : inet_pton(AF_INET6, name, a) == 1 ? AF_INET6
						     : 0;

	for (const char *p = held ? held : ""; *p;) {
		size_t len = strcspn(p, ",");

		snprintf(one, sizeof one, "%.*s", (int)(len < 255 ? len : 255), p);
		if (af != 0 ? inet_pton(af, one, b) == 1 && memcmp(a, b, af == AF_INET ? 4 : 16) == 0
			    : len > 0 && name_covered(name, one))
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int tls_ca_domains_check(const char *domains, char *err, size_t errlen)
{
	const char *p = domains ? domains : "";
	char one[256];

	while (*(p += strspn(p, " ,.")) != '\0') {
		size_t len = strcspn(p, " ,");

		snprintf(one, sizeof one, "%.*s", (int)(len < 255 ? len : 255), p);
		/* One label would be a top-level domain ("gov" lets a node be
		 * every site under it): the built-in ones are the whole list. */
		if (len > 253 || !tls_name_ok(one) || addr_private(one) >= 0 ||
		    strchr(one, '.') == NULL) {
			snprintf(err, errlen,
				 "cert_domains: '%.200s' is not a domain of two labels or more "
				 "(give e.g. offices.example.gov, comma-separated)",
				 one);
			return -1;
		}
		p += len;
	}
	return 0;
}

/* DER length of n at *p (advanced); returns the bytes written. */
static size_t der_len(unsigned char *p, size_t n)
{
	if (n < 128) {
		p[0] = (unsigned char)n;
		return 1;
	}
	p[0] = 0x82;
	p[1] = (unsigned char)(n >> 8);
	p[2] = (unsigned char)n;
	return 3;
}

/* GeneralNames for names into out (size cap): its length, or 0. */
static size_t san_der(const char *const *names, int nnames, unsigned char *out, size_t cap)
{
	unsigned char body[TLS_CA_NAMES_MAX * 260], a[16];
	size_t bl = 0, hl;

	for (int i = 0; i < nnames; i++) {
		size_t nl = strlen(names[i]);
		if (inet_pton(AF_INET, names[i], a) == 1) {
			body[bl++] = 0x87;
			body[bl++] = 4;
			memcpy(body + bl, a, 4);
			bl += 4;
		} else if (inet_pton(AF_INET6, names[i], a) == 1) {
			body[bl++] = 0x87;
			body[bl++] = 16;
			memcpy(body + bl, a, 16);
			bl += 16;
		} else {
			body[bl++] = 0x82;
			bl += der_len(body + bl, nl);
			memcpy(body + bl, names[i], nl);
			bl += nl;
		}
	}
	if (bl + 4 > cap)
		return 0;
	out[0] = 0x30; /* SEQUENCE */
	hl = 1 + der_len(out + 1, bl);
	memcpy(out + hl, body, bl);
	return hl + bl;
}

/* The certificate of csr for names, as PEM into pem. */
static int sign_one(tls_ca *ca, mbedtls_x509_csr *csr, const char *const *names, int nnames,
		    int days, unsigned char *pem, size_t pemlen)
{
	mbedtls_x509write_cert crt;
	unsigned char san[TLS_CA_NAMES_MAX * 260 + 8];
	char from[16], to[16], subject[300];
	time_t now = time(NULL);
	size_t sl = san_der(names, nnames, san, sizeof san);
	int rc = -1;

	mbedtls_x509write_crt_init(&crt);
	x509_time(now - 3600, from);
	x509_time(now + (time_t)days * 86400, to);
	snprintf(subject, sizeof subject, "CN=%s,O=Outpost office", names[0]);
	if (sl == 0 ||
	    tls_x509_base(&crt, &csr->pk, &ca->ca_key, subject, ca->ca_subject, from, to, 0) != 0 ||
	    mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
							 MBEDTLS_X509_KU_KEY_AGREEMENT) != 0 ||
	    mbedtls_x509write_crt_set_authority_key_identifier(&crt) != 0 ||
	    mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
						MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
						san, sl) != 0)
		goto out;
	if (mbedtls_x509write_crt_pem(&crt, pem, pemlen, mbedtls_ctr_drbg_random,
				      &ca->ca_drbg) != 0)
		goto out;
	rc = 0;
out:
	mbedtls_x509write_crt_free(&crt);
	return rc;
}

/* 0 when the request is signed by the key it names (proof that its sender
 * holds that key): mbedtls_x509_csr_parse() reads the signature but does
 * not check it, and a certificate for a key its holder never had would let
 * whoever has that key (another office's PC, say) speak for the names. */
static int csr_self_signed(mbedtls_x509_csr *csr)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(csr->sig_md);
	unsigned char hash[MBEDTLS_MD_MAX_SIZE];

	if (md == NULL || mbedtls_md(md, csr->cri.p, csr->cri.len, hash) != 0)
		return -1;
	return mbedtls_pk_verify_ext(csr->sig_pk, csr->sig_opts, &csr->pk, csr->sig_md, hash,
				     mbedtls_md_get_size(md), csr->sig.p, csr->sig.len) == 0
		   ? 0
		   : -1;
}

/* 0 for a key fit to serve the office for 397 days: EC on P-256 or P-384,
 * or RSA of 2048 bits or more (the CA/Browser Forum's floor); a weaker one
 * (RSA-1024, a small curve) could be broken within the certificate's life. */
static int csr_key_strong(const mbedtls_pk_context *pk)
{
	switch (mbedtls_pk_get_type(pk)) {
	case MBEDTLS_PK_ECKEY:
	case MBEDTLS_PK_ECKEY_DH:
	case MBEDTLS_PK_ECDSA: {
		mbedtls_ecp_group_id g = mbedtls_pk_ec(*pk)->grp.id;
		return g == MBEDTLS_ECP_DP_SECP256R1 || g == MBEDTLS_ECP_DP_SECP384R1 ? 0 : -1;
	}
	case MBEDTLS_PK_RSA:
		return mbedtls_pk_get_bitlen(pk) >= 2048 ? 0 : -1;
	default:
		return -1;
	}
}

int tls_ca_sign(tls_ca *ca, const char *csr_pem, const char *const *names, int nnames, int days,
		char **out, const char **err)
{
	mbedtls_x509_csr csr;
	unsigned char pem[PEM_MAX];
	size_t a, b;
	int rc = -1;

	*out = NULL;
	mbedtls_x509_csr_init(&csr);
	*err = "give 1 to 16 names, each a DNS name or an IP address";
	if (nnames < 1 || nnames > TLS_CA_NAMES_MAX)
		goto out;
	for (int i = 0; i < nnames; i++)
		if (!tls_name_ok(names[i]))
			goto out;
	*err = "the certificate request is not a PEM CSR for an EC or RSA key";
	if (csr_pem == NULL ||
	    mbedtls_x509_csr_parse(&csr, (const unsigned char *)csr_pem, strlen(csr_pem) + 1) != 0)
		goto out;
	*err = "the certificate request is not signed by its own key";
	if (csr_self_signed(&csr) != 0)
		goto out;
	*err = "the certificate request's key is too weak: give an EC key on P-256 or P-384, "
	       "or an RSA key of 2048 bits or more";
	if (csr_key_strong(&csr.pk) != 0)
		goto out;
	*err = "cannot sign the certificate";
	if (sign_one(ca, &csr, names, nnames, days, pem, sizeof pem) != 0)
		goto out;
	a = strlen((char *)pem);
	b = strlen(ca->ca_pem);
	*out = malloc(a + b + 1);
	if (*out == NULL)
		goto out;
	memcpy(*out, pem, a);
	memcpy(*out + a, ca->ca_pem, b + 1);
	*err = NULL;
	rc = 0;
out:
	mbedtls_x509_csr_free(&csr);
	return rc;
}

int tls_make_key_csr(const char *key_path, const char *cn, char **csr, const char **err)
{
	mbedtls_ctr_drbg_context d;
	mbedtls_entropy_context e;
	mbedtls_pk_context key;
	mbedtls_x509write_csr w;
	unsigned char pem[PEM_MAX];
	char subject[300];
	int rc = -1, made;

	*csr = NULL;
	mbedtls_pk_init(&key);
	mbedtls_x509write_csr_init(&w);
	*err = "cannot make a key";
	if (drbg_seed(&d, &e) != 0)
		goto out;
	made = tls_x509_new_key(&key, &d, key_path);
	if (made != 0) {
		*err = made == -2 ? "cannot write the key" : "cannot make a key";
		goto out;
	}
	*err = "cannot make the certificate request";
	snprintf(subject, sizeof subject, "CN=%s,O=Outpost office", cn);
	mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_csr_set_key(&w, &key);
	memset(pem, 0, sizeof pem);
	if (mbedtls_x509write_csr_set_subject_name(&w, subject) != 0 ||
	    mbedtls_x509write_csr_pem(&w, pem, sizeof pem, mbedtls_ctr_drbg_random, &d) != 0 ||
	    (*csr = strdup((char *)pem)) == NULL)
		goto out;
	*err = NULL;
	rc = 0;
out:
	crypto_wipe(pem, sizeof pem);
	mbedtls_x509write_csr_free(&w);
	mbedtls_pk_free(&key);
	mbedtls_ctr_drbg_free(&d);
	mbedtls_entropy_free(&e);
	return rc;
}

int tls_cert_expiry(const char *path, int64_t *not_after)
{
	mbedtls_x509_crt crt;
	struct tm tm;
	int rc = -1;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse_file(&crt, path) == 0) {
		memset(&tm, 0, sizeof tm);
		tm.tm_year = crt.valid_to.year - 1900;
		tm.tm_mon = crt.valid_to.mon - 1;
		tm.tm_mday = crt.valid_to.day;
		tm.tm_hour = crt.valid_to.hour;
		tm.tm_min = crt.valid_to.min;
		tm.tm_sec = crt.valid_to.sec;
		*not_after = (int64_t)timegm(&tm);
		rc = 0;
	}
	mbedtls_x509_crt_free(&crt);
	return rc;
}
