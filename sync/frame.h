/*
 * frame.h - the push batch frame (protocol v1).  Byte by byte, all integers
 * big-endian:
 *
 *   offset  size  field
 *   0       4     magic "OPB1"
 *   4       4     schema_version (u32)
 *   8       4     count of entries (u32), at most SYNC_FRAME_MAX_ENTRIES
 *   12      ...   entries, each:
 *                   8  seq (u64, > 0, strictly increasing within the frame)
 *                   2  hlc length H (u16, 1..64)
 *                   H  hlc bytes (ASCII, see lib/hlc.h)
 *                   2  actor length A (u16, 0..64; 0 = none)
 *                   A  actor bytes
 *                   4  changeset length C (u32, 1..SYNC_MAX_CHANGESET)
 *                   C  changeset bytes (as sqlite3session_changeset made them)
 *   end     32    SHA-256 of every preceding byte (integrity of bundles and
 *                 truncation detection; requests are also HMAC-signed)
 *
 * The decoder never reads past the buffer, refuses trailing bytes, and points
 * entries into the caller's buffer (no copies).
 */
#ifndef OUTPOST_FRAME_H
#define OUTPOST_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "sync/sync.h"

#define SYNC_FRAME_MAGIC "OPB1"
#define SYNC_FRAME_MAX_ENTRIES 10000
/* The largest frame frame_open() reads: a bundle file's (sync/bundle.c).  A
 * push is bounded before that by the hub's body cap for its route
 * (hub.h HUB_MAX_PUSH_BODY, room for SYNC_MAX_PUSH_FRAME). */
#define SYNC_FRAME_MAX_BYTES (512u * 1024 * 1024)

typedef struct frame_writer {
	buf *fw_out;
	size_t fw_count_at;
	uint32_t fw_count;
	int fw_rc;
	int64_t fw_last_seq;   /* entries must come in increasing seq order */
} frame_writer;

/* Start a frame in out (which bounds its size). */
void frame_begin(frame_writer *w, buf *out, uint32_t schema_version);
/* Append one entry; -1 when it would not fit (the frame stays valid without it). */
int frame_add(frame_writer *w, const sync_entry *e);
/* 1 when the frame, finished, stays within target bytes with e added. */
int frame_fits(const frame_writer *w, const sync_entry *e, size_t target);
/* Write the count and checksum. 0 or -1. */
int frame_end(frame_writer *w);

typedef struct frame_reader {
	const unsigned char *fr_p, *fr_end;
	uint32_t fr_schema;
	uint32_t fr_count;
	uint32_t fr_read;
	char fr_hlc[65];
	char fr_actor[65];
	int64_t fr_last_seq;
} frame_reader;

/* Check magic, checksum and the structure of every entry (so a malformed
 * frame is refused before anything in it is used), and set up reading.
 * 0, or -1 with *err set. */
int frame_open(frame_reader *r, const void *p, size_t len, const char **err);
/* Next entry: 1 = got one, 0 = end, -1 = malformed (*err set).  e's strings
 * point into the reader, the changeset into the caller's buffer. */
int frame_next(frame_reader *r, sync_entry *e, const char **err);

#endif
