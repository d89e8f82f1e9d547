/*
 * tls_ca.h - the hub as the private certificate authority of its offices
 * (DESIGN.md, "The network edge"), over mbedTLS 2.28: the CA itself (a P-256
 * key and a self-signed CA certificate, made on first use), signing an
 * office node's certificate request for the names and addresses it serves,
 * and the node's side (its key and request, the names of a certificate).
 *
 * Every PEM handed out is malloc'd (caller frees); every *err is static
 * text.  Return convention: 0 or -1.
 */
#ifndef OUTPOST_TLS_CA_H
#define OUTPOST_TLS_CA_H

#include <stddef.h>
#include <stdint.h>

#define TLS_CA_NAMES_MAX 16
#define TLS_CA_NODE_DAYS 397 /* what browsers accept for a server certificate */

typedef struct tls_ca tls_ca;

/*
 * The CA of the certificate at crt_path and its key (key_len bytes of PEM,
 * counting its NUL, or DER), which the caller keeps as it likes (the hub:
 * wrapped under its master key).  When key is NULL and crt_path does not
 * exist, make both: the certificate (valid 20 years) is written to
 * crt_path (0644) and the new key is only in memory (tls_ca_key_der gives
 * it to the caller to keep).  NULL with *err.
 */
tls_ca *tls_ca_open(const char *crt_path, const unsigned char *key, size_t key_len,
		    const char **err);
/* The CA key as DER into out (cap bytes; about 121 for P-256), its length
 * in *len (the caller wipes it). */
int tls_ca_key_der(const tls_ca *ca, unsigned char *out, size_t cap, size_t *len);
void tls_ca_free(tls_ca *ca);
/* The CA certificate as PEM (borrowed from ca). */
const char *tls_ca_pem(const tls_ca *ca);
/* "sha256//BASE64" of the CA's public key (Chromium's
 * --ignore-certificate-errors-spki-list takes the BASE64 part). */
int tls_ca_pin(const tls_ca *ca, char *out, size_t n);
/*
 * Sign the PEM certificate request csr for names (DNS names, or IPv4/IPv6
 * addresses; 1..TLS_CA_NAMES_MAX, each checked; the request signed by its
 * own key, an EC key on P-256 or P-384 or RSA of 2048 bits or more) for
 * `days` days from now:
 * *out gets the certificate followed by the CA's (the chain a node serves).
 */
int tls_ca_sign(tls_ca *ca, const char *csr, const char *const *names, int nnames, int days,
		char **out, const char **err);

/* A new P-256 key written to key_path (0600, replacing it atomically) and
 * a PEM certificate request for it (CN = cn) in *csr. */
int tls_make_key_csr(const char *key_path, const char *cn, char **csr, const char **err);
/* The expiry (Unix seconds) of the first certificate in the PEM file at
 * path into *not_after. */
int tls_cert_expiry(const char *path, int64_t *not_after);
/* A name fit for a certificate: a DNS name (letters, digits, '-', '.', at
 * most 253) or an IP address.  1 or 0. */
int tls_name_ok(const char *name);
/*
 * A name an office LAN uses for its node, the only names the office CA
 * signs (every office PC trusts it for every name it signs): a private or
 * link-local address (IPv4 10/8, 172.16/12, 192.168/16, 169.254/16; IPv6
 * fc00::/7, fe80::/10; not loopback), a single-label host name other than
 * localhost, a top-level domain or a LAN suffix (every two-letter label,
 * the generic TLDs up to 2012 such as "com", the special-use and LAN
 * labels such as "local", "lan", "internal", "home", "corp"; not the newer
 * generic TLDs), a name under .local, .lan, .internal or .home.arpa (none
 * under .localhost), or a name in one of
 * domains (comma-separated, NULL for none: the domain itself and the names
 * under it).  1 or 0.
 */
int tls_ca_name_office(const char *name, const char *domains);
/* A DNS name (no address) that is one of domains (as tls_ca_name_office
 * takes them) or under one, whatever its suffix: such a name is one
 * machine's, bound to one office, even under .internal or .lan.  1 or 0. */
int tls_ca_name_in_domains(const char *name, const char *domains);
/*
 * The names the first certificate in the PEM file at path is for: its
 * subject's CN and its subjectAltName DNS names and IP addresses (as text),
 * each followed by a comma, appended to out (cap bytes, NUL-terminated).  0,
 * or -1 when the file cannot be read or the names do not fit.
 */
int tls_cert_names(const char *path, char *out, size_t cap);
/* 1 when name is one of held (comma-separated): addresses compared as
 * addresses (::1 is 0:0:0:0:0:0:0:1), DNS names case aside, and a held
 * wildcard ("*.hub.example") covering name by RFC 6125 (exactly one
 * left-most label: x.hub.example, not hub.example nor a.x.hub.example);
 * else 0. */
int tls_name_held(const char *name, const char *held);
/* domains fit for tls_ca_name_office: each a DNS name of two labels or more
 * (a top-level domain would open every site under it).  0, or -1 with err. */
int tls_ca_domains_check(const char *domains, char *err, size_t errlen);

#endif
