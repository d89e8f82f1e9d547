/*
 * varint.h - SQLite's variable-length integers, as changesets and record
 * formats carry them: big-endian groups of 7 bits, the high bit set on every
 * byte but the last; a ninth byte, when there is one, holds 8 bits whole.
 * Shared by the node's change capture (model/capture.c) and the changeset
 * walker and encoders (sync/changeset.c).
 */
#ifndef OUTPOST_VARINT_H
#define OUTPOST_VARINT_H

#include <stdint.h>

/* Write v into out (room for 9 bytes); returns the bytes written, 1..9. */
int varint_put(unsigned char *out, uint64_t v);
/* Read one varint from p, never at or past end; returns the bytes read and
 * sets *v, or 0 when it runs past end. */
int varint_get(const unsigned char *p, const unsigned char *end, uint64_t *v);

#endif
