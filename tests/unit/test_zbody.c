/*
 * test_zbody.c - zlib push bodies (sync/zbody.c): round trips of empty,
 * small, incompressible and large inputs; truncated streams, bytes after
 * the stream, garbage, and a zip bomb refused by the output cap; a body
 * of exactly the cap taken and one byte more refused; one buffer reused
 * from body to body (as the hub's push runner keeps one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sync/zbody.h"
#include "testutil.h"

static void roundtrip(const unsigned char *p, size_t n)
{
	buf z = BUF_INIT(n + n / 8 + 1024), back = BUF_INIT(n);

	assert_int_equal(zbody_deflate(p, n, &z), 0);
	assert_int_equal(zbody_inflate(z.data, z.len, &back), 0);
	assert_int_equal(back.len, n);
	if (n)
		assert_memory_equal(back.data, p, n);
	buf_release(&z);
	buf_release(&back);
}

static void test_roundtrip(void **state)
{
	size_t n = 3 * 1024 * 1024;
	unsigned char *p = malloc(n);
	uint32_t x = 12345;

	(void)state;
	assert_non_null(p);
	roundtrip((const unsigned char *)"", 0);
	roundtrip((const unsigned char *)"changeset", 9);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 24);
	}
	roundtrip(p, 100000);       /* incompressible */
	memset(p, 'a', n / 2);
	roundtrip(p, n);            /* half repetitive, past one inflate chunk */
	free(p);
}

static void test_refusals(void **state)
{
	static const char text[] = "T\x13\x01\x00checkins\0 a changeset that repeats repeats repeats";
	buf z = BUF_INIT(4096), out = BUF_INIT(4096), big = BUF_INIT(2 << 20);
	unsigned char *zeros = calloc(1, 1 << 20);
	unsigned char tail[4096];

	(void)state;
	assert_non_null(zeros);
	assert_int_equal(zbody_deflate(text, sizeof text, &z), 0);
	for (size_t cut = 0; cut < z.len; cut++)
		assert_int_equal(zbody_inflate(z.data, cut, &out), -1);
	memcpy(tail, z.data, z.len);
	tail[z.len] = 0;
	assert_int_equal(zbody_inflate(tail, z.len + 1, &out), -1);   /* trailing byte */
	assert_int_equal(zbody_inflate(text, sizeof text, &out), -1); /* not zlib */
	tail[z.len / 2] ^= 0x55;
	assert_true(zbody_inflate(tail, z.len, &out) < 0);             /* corrupted */
	/* 1 MiB of zeros inflating into a 4 KiB cap: refused, not followed. */
	assert_int_equal(zbody_deflate(zeros, 1 << 20, &big), 0);
	assert_true(big.len < 16384); /* over 64:1 at the fast level */
	assert_int_equal(zbody_inflate(big.data, big.len, &out), -2);
	assert_true(out.len <= out.max);
	/* Output cap too small for deflate itself. */
	{
		buf tiny = BUF_INIT(4);
		assert_int_equal(zbody_deflate(text, sizeof text, &tiny), -1);
		buf_release(&tiny);
	}
	free(zeros);
	buf_release(&z);
	buf_release(&out);
	buf_release(&big);
}

/* The cap to the byte, and one output buffer for bodies large and small. */
static void test_cap_and_reuse(void **state)
{
	size_t n = 200000;
	unsigned char *p = malloc(n + 1);
	buf z = BUF_INIT(2 * n), out = BUF_INIT(n);
	uint32_t x = 99;

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i <= n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)('a' + (x >> 28)); /* compressible, not trivially */
	}
	assert_int_equal(zbody_deflate(p, n, &z), 0);
	assert_int_equal(zbody_inflate(z.data, z.len, &out), 0); /* exactly out.max */
	assert_int_equal(out.len, n);
	assert_memory_equal(out.data, p, n);
	assert_int_equal(out.data[out.len], '\0');
	assert_int_equal(zbody_deflate(p, n + 1, &z), 0);
	assert_int_equal(zbody_inflate(z.data, z.len, &out), -2); /* one byte past it */
	assert_true(out.len <= out.max);
	/* The same buffer, now large, for a small body and a large one again. */
	assert_int_equal(zbody_deflate(p + 7, 1000, &z), 0);
	assert_int_equal(zbody_inflate(z.data, z.len, &out), 0);
	assert_int_equal(out.len, 1000);
	assert_memory_equal(out.data, p + 7, 1000);
	assert_int_equal(out.data[out.len], '\0');
	assert_int_equal(zbody_deflate(p, n - 3, &z), 0);
	assert_int_equal(zbody_inflate(z.data, z.len, &out), 0);
	assert_int_equal(out.len, n - 3);
	assert_memory_equal(out.data, p, n - 3);
	free(p);
	buf_release(&z);
	buf_release(&out);
}

TU_MAIN(cmocka_unit_test(test_roundtrip),
	cmocka_unit_test(test_refusals),
	cmocka_unit_test(test_cap_and_reuse))
