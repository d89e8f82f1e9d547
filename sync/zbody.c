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

/* Free bytes at out's end (keeping the byte its NUL takes), at most `lim`. */
static size_t spare(const buf *out, size_t lim)
{
	size_t room = out->cap > out->len ? out->cap - 1 - out->len : 0;

	if (room > out->max - out->len)
		room = out->max - out->len;
	return room < lim ? room : lim;
}

/*
 * Straight into out's memory (a buffer the caller keeps from body to body
 * is then written without a copy or a page fault), grown 64 KB at a time
 * (buf_grow() doubles) up to its max; there, one byte of scratch tells a
 * stream that ends from one that would go past the max.
 */
int zbody_inflate(const void *p, size_t n, buf *out)
{
	unsigned char scratch;
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
		size_t room, want = out->max - out->len < 65536 ? out->max - out->len : 65536;

		if (spare(out, want) < want && buf_grow(out, want) != 0) {
			ret = -2;
			goto out;
		}
		room = spare(out, UINT_MAX);
		z.next_out = room ? (Bytef *)out->data + out->len : &scratch;
		z.avail_out = room ? (uInt)room : 1;
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END)
			goto out;
		if (room == 0 && z.avail_out == 0) {
			ret = -2; /* a byte past out->max */
			goto out;
		}
		if (room)
			out->len += room - z.avail_out;
		/* No progress with input left: truncated stream. */
		if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)
			goto out;
	} while (rc != Z_STREAM_END);
	ret = z.avail_in == 0 ? 0 : -1; /* nothing may follow the stream */
out:
	if (out->data != NULL)
		out->data[out->len] = '\0';
	inflateEnd(&z);
	return ret;
}
