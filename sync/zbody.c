/*
 * zbody.c - zlib request bodies for the replication protocol; see zbody.h.
 */
#include "sync/zbody.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

int zbody_deflate(const void *p, size_t n, buf *out)
{
	z_stream z;
	uLong bound;
	int rc;

	buf_reset(out);
	if (n > UINT_MAX)
		return -1;
	bound = compressBound((uLong)n);
	if (buf_grow(out, bound) != 0)
		return -1;
	memset(&z, 0, sizeof z);
	/* Level 1: frames are a few MB at most; changesets repeat column
	 * layouts, ids and HLC prefixes, so even the fastest level takes most
	 * of the bytes out, at a fraction of level 6's CPU (which was a tenth
	 * of a push's client CPU and of a pull page's hub CPU, bench_sync). */
	if (deflateInit(&z, 1) != Z_OK)
		return -1;
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	if (rc != Z_STREAM_END) {
		deflateEnd(&z);
		return -1;
	}
	out->len = z.total_out;
	deflateEnd(&z);
	return 0;
}

int zbody_inflate(const void *p, size_t n, buf *out)
{
	unsigned char chunk[16384];
	z_stream z;
	int rc, ret = -1;

	buf_reset(out);
	if (n > UINT_MAX)
		return -1;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof chunk;
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END)
			goto out;
		if (sizeof chunk - z.avail_out > 0 &&
		    buf_append(out, chunk, sizeof chunk - z.avail_out) != 0) {
			ret = -2;
			goto out;
		}
		/* No progress with input left: truncated stream. */
		if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)
			goto out;
	} while (rc != Z_STREAM_END);
	ret = z.avail_in == 0 ? 0 : -1; /* nothing may follow the stream */
out:
	inflateEnd(&z);
	return ret;
}
