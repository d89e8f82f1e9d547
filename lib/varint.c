/*
 * varint.c - SQLite's varints; see varint.h.
 */
#include "lib/varint.h"

int varint_put(unsigned char *out, uint64_t v)
{
	unsigned char tmp[10];
	int n = 0;

	if (v & ((uint64_t)0xff000000 << 32)) {
		out[8] = (unsigned char)v;
		v >>= 8;
		for (int i = 7; i >= 0; i--) {
			out[i] = (unsigned char)((v & 0x7f) | 0x80);
			v >>= 7;
		}
		return 9;
	}
	do {
		tmp[n++] = (unsigned char)((v & 0x7f) | 0x80);
		v >>= 7;
	} while (v != 0);
	tmp[0] &= 0x7f;
	for (int i = 0, j = n - 1; j >= 0; j--, i++)
		out[i] = tmp[j];
	return n;
}

int varint_get(const unsigned char *p, const unsigned char *end, uint64_t *v)
{
	uint64_t x = 0;

	for (int i = 0; i < 9; i++) {
		if (p + i >= end)
			return 0;
		if (i == 8) {
			*v = (x << 8) | p[i];
			return 9;
		}
		x = (x << 7) | (p[i] & 0x7f);
		if ((p[i] & 0x80) == 0) {
			*v = x;
			return i + 1;
		}
	}
	return 0; /* not reached */
}
