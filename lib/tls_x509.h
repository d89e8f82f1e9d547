/*
 * tls_x509.h - the steps of making a certificate that the self-signed
 * server certificate (tls.c) and the office CA (tls_ca.c) share, over
 * mbedTLS 2.28.  Defined in tls_ca.c; for lib/ only.  Return convention:
 * 0 or -1.
 */
#ifndef OUTPOST_TLS_X509_H
#define OUTPOST_TLS_X509_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

/* A new P-256 key into key (initialised by the caller, who frees it) and,
 * when path is not NULL, as PEM written to path (0600, atomically).  0, -1
 * when no key could be made, -2 when it could not be written. */
int tls_x509_new_key(mbedtls_pk_context *key, mbedtls_ctr_drbg_context *d, const char *path);
/* A random positive 128-bit serial number on crt. */
int tls_x509_serial(mbedtls_x509write_cert *crt);
/* What every certificate made here has: version 3, SHA-256, the subject's
 * and issuer's keys and names, a random serial, valid from..to
 * ("YYYYMMDDhhmmss" UTC), basic constraints (a CA with path length 0, or
 * not a CA) and the subject key identifier. */
int tls_x509_base(mbedtls_x509write_cert *crt, mbedtls_pk_context *subject_key,
		  mbedtls_pk_context *issuer_key, const char *subject, const char *issuer,
		  const char *from, const char *to, int is_ca);
/* crt, signed with randomness from d, as PEM written to path (0644,
 * atomically: tls_write_file). */
int tls_x509_write_crt(mbedtls_x509write_cert *crt, mbedtls_ctr_drbg_context *d,
		       const char *path);

#endif
