/*
 * frame.c - the push batch frame: writer and a reader that never trusts its
 * input.  The byte layout is specified in frame.h; every field the reader
 * takes is checked against the bytes that remain before it is read, and
 * the SHA-256 trailer is verified before any entry is looked at.
 */
#include "sync/frame.h"
#include "lib/crypto.h"

#include <string.h>

#define FRAME_HEAD 12
#define FRAME_SUM 32
#define FRAME_HLC_MAX 64
#define FRAME_ACTOR_MAX 64
/* seq + hlc len + 1 hlc byte + actor len + changeset len + 1 changeset byte */
#define FRAME_MIN_ENTRY (8 + 2 + 1 + 2 + 4 + 1)

static void put_u16(buf *b, uint16_t v, int *rc)
{
	buf_put_u8(b, (uint8_t)(v >> 8), rc);
	buf_put_u8(b, (uint8_t)v, rc);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int sha256(const void *p, size_t n, unsigned char out[32])
{
	return crypto_sha256(p, n, out);
}

void frame_begin(frame_writer *w, buf *out, uint32_t schema_version)
{
	memset(w, 0, sizeof *w);
	w->fw_out = out;
	/* Room for the checksum is reserved from the start, so frame_end can
	 * only fail on a broken writer. */
	if (out->len > out->max || out->max - out->len < FRAME_HEAD + FRAME_SUM) {
		w->fw_rc = -1;
		return;
	}
	buf_put_bytes(out, SYNC_FRAME_MAGIC, 4, &w->fw_rc);
	buf_put_u32(out, schema_version, &w->fw_rc);
	w->fw_count_at = out->len;
	buf_put_u32(out, 0, &w->fw_rc);
}

static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int frame_fits(const frame_writer *w, const sync_entry *e, size_t target)
{
	size_t need = 8 + 2 + (e->hlc ? strlen(e->hlc) : 0) + 2 + (e->actor ? strlen(e->actor) : 0) +
		      4 + e->len + FRAME_SUM;

	return w->fw_out->len <= target && target - w->fw_out->len >= need;
}

int frame_add(frame_writer *w, const sync_entry *e)
{
	buf *out = w->fw_out;
	size_t hl, al, need, mark;
	int rc = 0;

	if (w->fw_rc != 0 || e == NULL || e->hlc == NULL)
		return -1;
	hl = strlen(e->hlc);
	al = e->actor ? strlen(e->actor) : 0;
	if (e->seq <= 0 || e->seq <= w->fw_last_seq || hl < 1 || hl > FRAME_HLC_MAX ||
	    al > FRAME_ACTOR_MAX || !printable(e->hlc, hl) || !printable(e->actor ? e->actor : "", al) ||
	    e->len < 1 || e->len > SYNC_MAX_CHANGESET || e->changeset == NULL ||
	    w->fw_count >= SYNC_FRAME_MAX_ENTRIES)
		return -1;
	need = 8 + 2 + hl + 2 + al + 4 + e->len;
	if (out->len > out->max || out->max - out->len < need + FRAME_SUM)
		return -1;
	mark = out->len;
	buf_put_u64(out, (uint64_t)e->seq, &rc);
	put_u16(out, (uint16_t)hl, &rc);
	buf_put_bytes(out, e->hlc, hl, &rc);
	put_u16(out, (uint16_t)al, &rc);
	if (al)
		buf_put_bytes(out, e->actor, al, &rc);
	buf_put_u32(out, (uint32_t)e->len, &rc);
	buf_put_bytes(out, e->changeset, e->len, &rc);
	if (rc != 0) {
		out->len = mark; /* out of memory: drop the partial entry */
		if (out->data)
			out->data[out->len] = '\0';
		return -1;
	}
	w->fw_count++;
	w->fw_last_seq = e->seq;
	return 0;
}

int frame_end(frame_writer *w)
{
	buf *out = w->fw_out;
	unsigned char sum[FRAME_SUM];
	size_t start;
	int rc = 0;

	if (w->fw_rc != 0 || out->len < w->fw_count_at + 4)
		return -1;
	start = w->fw_count_at - 8;
	out->data[w->fw_count_at] = (char)(w->fw_count >> 24);
	out->data[w->fw_count_at + 1] = (char)(w->fw_count >> 16);
	out->data[w->fw_count_at + 2] = (char)(w->fw_count >> 8);
	out->data[w->fw_count_at + 3] = (char)w->fw_count;
	if (sha256(out->data + start, out->len - start, sum) != 0)
		return -1;
	buf_put_bytes(out, sum, sizeof sum, &rc);
	if (rc != 0)
		w->fw_rc = -1;
	return rc;
}

int frame_open(frame_reader *r, const void *p, size_t len, const char **err)
{
	const unsigned char *b = p;
	unsigned char sum[FRAME_SUM];
	const char *dummy;
	unsigned char diff = 0;

	if (err == NULL)
		err = &dummy;
	memset(r, 0, sizeof *r);
	if (p == NULL || len < FRAME_HEAD + FRAME_SUM) {
		*err = "frame too short";
		return -1;
	}
	if (len > SYNC_FRAME_MAX_BYTES) {
		*err = "frame too large";
		return -1;
	}
	if (memcmp(b, SYNC_FRAME_MAGIC, 4) != 0) {
		*err = "bad frame magic";
		return -1;
	}
	if (sha256(b, len - FRAME_SUM, sum) != 0) {
		*err = "cannot checksum frame";
		return -1;
	}
	for (int i = 0; i < FRAME_SUM; i++)
		diff |= (unsigned char)(sum[i] ^ b[len - FRAME_SUM + (size_t)i]);
	if (diff != 0) {
		*err = "frame checksum mismatch (truncated or corrupted)";
		return -1;
	}
	r->fr_schema = get_u32(b + 4);
	r->fr_count = get_u32(b + 8);
	if (r->fr_count > SYNC_FRAME_MAX_ENTRIES) {
		*err = "too many entries in frame";
		return -1;
	}
	r->fr_p = b + FRAME_HEAD;
	r->fr_end = b + len - FRAME_SUM;
	if ((size_t)(r->fr_end - r->fr_p) < (size_t)r->fr_count * FRAME_MIN_ENTRY) {
		*err = "frame shorter than its entry count";
		return -1;
	}
	/* Walk every entry once now: a frame is accepted or refused whole. */
	{
		frame_reader probe = *r;
		sync_entry e;
		int rc;

		while ((rc = frame_next(&probe, &e, err)) == 1)
			;
		if (rc != 0) {
			memset(r, 0, sizeof *r);
			return -1;
		}
	}
	return 0;
}

/* Read a u16-length-prefixed printable string into out (size > max). */
static int read_str(frame_reader *r, char *out, size_t min, size_t max, const char **err,
		    const char *what)
{
	size_t n;

	if (r->fr_end - r->fr_p < 2) {
		*err = "entry truncated";
		return -1;
	}
	n = (size_t)r->fr_p[0] << 8 | r->fr_p[1];
	r->fr_p += 2;
	if (n < min || n > max) {
		*err = what;
		return -1;
	}
	if ((size_t)(r->fr_end - r->fr_p) < n) {
		*err = "entry truncated";
		return -1;
	}
	memcpy(out, r->fr_p, n);
	out[n] = '\0';
	r->fr_p += n;
	if (!printable(out, n)) {
		*err = what;
		return -1;
	}
	return 0;
}

int frame_next(frame_reader *r, sync_entry *e, const char **err)
{
	const char *dummy;
	uint64_t seq;
	uint32_t cl;

	if (err == NULL)
		err = &dummy;
	memset(e, 0, sizeof *e);
	if (r->fr_p == NULL) {
		*err = "frame not open";
		return -1;
	}
	if (r->fr_read >= r->fr_count) {
		if (r->fr_p != r->fr_end) {
			*err = "trailing bytes after the last entry";
			return -1;
		}
		return 0;
	}
	if (r->fr_end - r->fr_p < 8) {
		*err = "entry truncated";
		return -1;
	}
	seq = (uint64_t)get_u32(r->fr_p) << 32 | get_u32(r->fr_p + 4);
	r->fr_p += 8;
	if (seq == 0 || seq > (uint64_t)INT64_MAX || (int64_t)seq <= r->fr_last_seq) {
		*err = "entry seq not increasing";
		return -1;
	}
	if (read_str(r, r->fr_hlc, 1, FRAME_HLC_MAX, err, "bad hlc in entry") != 0)
		return -1;
	if (read_str(r, r->fr_actor, 0, FRAME_ACTOR_MAX, err, "bad actor in entry") != 0)
		return -1;
	if (r->fr_end - r->fr_p < 4) {
		*err = "entry truncated";
		return -1;
	}
	cl = get_u32(r->fr_p);
	r->fr_p += 4;
	if (cl < 1 || cl > SYNC_MAX_CHANGESET) {
		*err = "changeset length out of range";
		return -1;
	}
	if ((size_t)(r->fr_end - r->fr_p) < cl) {
		*err = "entry truncated";
		return -1;
	}
	e->seq = (int64_t)seq;
	e->hlc = r->fr_hlc;
	e->actor = r->fr_actor[0] ? r->fr_actor : NULL;
	e->changeset = r->fr_p;
	e->len = cl;
	r->fr_p += cl;
	r->fr_last_seq = (int64_t)seq;
	r->fr_read++;
	if (r->fr_read == r->fr_count && r->fr_p != r->fr_end) {
		*err = "trailing bytes after the last entry";
		return -1;
	}
	return 1;
}
