/*
 * fuzz_frame.c - libFuzzer target for the push batch frame reader
 * (sync/frame.c): bytes from a node go through frame_open and frame_next
 * exactly as the hub's push handler takes them.
 *
 * A random input almost never carries a correct SHA-256 trailer, so the
 * first byte picks the mode: odd = the rest of the input is the frame body
 * and the correct checksum is appended here, letting the fuzzer reach the
 * entry parser; even = the rest is taken as is (checksum path).  Every frame
 * the reader accepts must re-encode, through the writer, to the same bytes.
 * Build and run (from the top of the tree), or `make fuzz`:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/fuzz_frame.c \
 *     sync/frame.c lib/buf.c lib/log.c -o build/fuzz_frame -lmbedcrypto
 *   build/fuzz_frame -max_total_time=60 fuzz/corpus/frame
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "sync/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	frame_reader r;
	frame_writer w;
	sync_entry e;
	const char *err = NULL;
	unsigned char *p;
	size_t n;
	buf again = BUF_INIT(SYNC_MAX_BATCH_BYTES + 64);
	int rc;

	if (size < 1 || size > SYNC_MAX_BATCH_BYTES)
		return 0;
	n = size - 1;
	/* an exact-size copy, so ASan sees any read past the end */
	p = malloc(n + 32);
	if (p == NULL)
		return 0;
	memcpy(p, data + 1, n);
	if (data[0] & 1) {
		mbedtls_sha256_ret(p, n, p + n, 0);
		n += 32;
		{
			unsigned char *q = realloc(p, n);
			if (q == NULL) {
				free(p);
				return 0;
			}
			p = q;
		}
	} else {
		unsigned char *q = realloc(p, n ? n : 1);
		if (q == NULL) {
			free(p);
			return 0;
		}
		p = q;
	}
	if (frame_open(&r, p, n, &err) == 0) {
		frame_begin(&w, &again, r.fr_schema);
		while ((rc = frame_next(&r, &e, &err)) == 1) {
			if (e.len < 1 || (const unsigned char *)e.changeset < p ||
			    (const unsigned char *)e.changeset + e.len > p + n)
				abort();
			if (frame_add(&w, &e) != 0)
				abort(); /* the writer refuses what the reader accepted */
		}
		if (rc != 0)
			abort(); /* frame_open walked it: no error may appear later */
		if (frame_end(&w) != 0 || again.len != n || memcmp(again.data, p, n) != 0)
			abort();
	}
	buf_release(&again);
	free(p);
	return 0;
}
