/*
 * zbody.h - zlib ("Content-Encoding: deflate", RFC 9110: a zlib stream)
 * bodies for the replication protocol.  The node compresses a push frame
 * when that makes it smaller; the signature covers the bytes sent, so the hub
 * checks it before inflating anything, and inflates into a bounded buffer (a
 * small body that inflates past the cap - a zip bomb - is refused, not
 * followed).  Bundle files are not compressed.
 *
 * Owns nothing: results go into the caller's buf.
 */
#ifndef OUTPOST_ZBODY_H
#define OUTPOST_ZBODY_H

#include <stddef.h>

#include "lib/buf.h"

#define ZBODY_ENCODING "deflate"

/* Compress p into out (reset first).  0, or -1 (out of memory, or out->max
 * too small). */
int zbody_deflate(const void *p, size_t n, buf *out);
/* Inflate a whole zlib stream p into out (reset first), at most out->max
 * bytes.  0; -1 not a valid, complete zlib stream (or bytes after its end);
 * -2 it inflates past out->max. */
int zbody_inflate(const void *p, size_t n, buf *out);

#endif
