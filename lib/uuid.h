/*
 * uuid.h - UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version, 12 bits of a
 * per-process monotonic sequence, variant, 62 random bits.  Keys generated in
 * one process sort in creation order even within one millisecond.
 */
#ifndef OUTPOST_UUID_H
#define OUTPOST_UUID_H

#include <stdint.h>

#define UUID_STRLEN 37 /* 36 characters + NUL */

/* Writes a lower-case canonical UUIDv7 into out. 0 or -1 (no randomness). */
int uuid7(char out[UUID_STRLEN]);
/* Same with an explicit millisecond time (for tests and the clock hook). */
int uuid7_at(char out[UUID_STRLEN], uint64_t unix_ms);
/* 0 when s is a canonical lower- or upper-case UUID of any version. */
int uuid_valid(const char *s);

#endif
