/*
 * bundle.c - the offline transport: `outpost-sync export` writes the pending
 * outbox to a file that travels on a USB stick to `outpost-hub import`,
 * which verifies it and feeds the frame to the same ingest as a push.
 * This file is the format's one codec: the hub's import decodes with
 * sync_bundle_decode() (sync.h).  Byte by byte, integers big-endian:
 *
 *   offset  size  field
 *   0       4     magic "OPX3"
 *   4       2     node id length N (u16, 1..63)
 *   6       N     node id (ASCII, no NUL)
 *   6+N     12    nonce (random)
 *   18+N    32    SHA-256 of every byte after it (what is sealed, and the tag)
 *   50+N    8     the office's pull cursor when it wrote the bundle (i64:
 *                 node_meta sync_cursor, -1 none yet), then
 *   58+N    ...   the push frame of sync/frame.h ("OPB1" ... SHA-256),
 *                 both sealed: AES-256-GCM under the bundle key, with bytes
 *                 0..18+N (magic, id, nonce) as associated data
 *   end-16  16    the GCM tag
 *
 * The bundle key is HMAC-SHA256(node secret, BUNDLE_KEY_LABEL): only the
 * node and the hub can make or read a bundle, so a stick lost on the way
 * gives away no participant's or visitor's data, and the tag authenticates
 * the node.  The SHA-256 of the sealed bytes, checked first, tells a copy
 * cut short or damaged (SYNC_BUNDLE_DAMAGED) from one altered or not the
 * node's (the tag fails).  Entry seqs inside are wire seqs (local seq minus
 * sync_state.seq_base), exactly as a push sends them, so the hub's replay
 * rule makes a bundle and a later push of the same entries harmless:
 * whichever arrives second is skipped.  The pull cursor tells the hub what
 * the office has of its changes (it records it, and `outpost-hub
 * export-office` starts there when the bundle is newer than the office's
 * last pull): sealed with the frame, no one else can make the hub send an
 * office less than it lacks.  An office with an empty outbox writes a
 * bundle all the same, of its cursor alone (a frame of no entries, at its
 * database's schema version): the hub records the cursor and applies
 * nothing, so its export-office starts where the office is.  When the
 * outbox does not fit one frame (SYNC_FRAME_MAX_ENTRIES entries,
 * SYNC_BUNDLE_MAX bytes for the whole file, one schema version per frame)
 * the entries continue in FILE.2, FILE.3, ..., to be imported in that
 * order.
 *
 * The return trip, `outpost-hub export-office NODE_ID --out FILE` to
 * `outpost-sync import FILE` at the office, is the same layout under magic
 * "OPH1" (SYNC_HUB_BUNDLE_MAGIC) and a key of its own,
 * HMAC-SHA256(node secret, HUB_BUNDLE_KEY_LABEL): what is sealed is the
 * hub's clock when it was made (8 bytes, ms since the epoch), the hub's
 * acknowledgement of the node's outbox (4 length A, A bytes: a JSON object
 * as a push's reply has it, acked_seq and quarantined, and acked_hlc, the
 * HLC of the entry at acked_seq; A is 0 when the hub took nothing from it),
 * then the pull pages that node would get by pulling, each as
 *
 *   8 after (the cursor it was built from), 8 next (the cursor once it is
 *   applied), 8 head (the hub's log head then), 4 length L, L patchset
 *   bytes (a pull page of sync/pull.c)
 *
 * one after the other.  The magic is in the associated data and the keys
 * differ, so neither kind opens as the other, and each reader refuses the
 * other's magic by name (an office's bundle given to the office, a hub's
 * to the hub).
 *
 * The earlier formats are still imported, an office's bundle written before
 * it upgraded: "OPX2", the same without the pull cursor (the sealed bytes
 * are the frame alone), and "OPX1", which signed the frame (HMAC-SHA256
 * with the node secret, 32 bytes after the node id) but did not seal it.
 */
#include "sync/client_int.h"
#include "sync/frame.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "model/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUNDLE_V1 "OPX1"
#define BUNDLE_V2 "OPX2" /* sealed, no pull cursor */
#define BUNDLE_KEY_LABEL "outpost bundle key v1"
#define HUB_BUNDLE_KEY_LABEL "outpost hub bundle key v1" /* hub to office */
#define BUNDLE_HEAD_MIN (4 + 2 + 1 + 32) /* the shorter header, OPX1's */
/* What an office's bundle (OPX3) adds to its frame, at most: magic, id
 * length, the longest node id, nonce, sum, pull cursor, tag.  A frame of
 * SYNC_BUNDLE_MAX less this makes a file the importers still read. */
#define BUNDLE_OVERHEAD (4 + 2 + 63 + CRYPTO_GCM_NONCE + CRYPTO_SHA256_LEN + 8 + CRYPTO_GCM_TAG)

/* 1 when id[0..n) is a node id as the hub issues them: printable ASCII,
 * no space (the id is said on the operator's terminal and in the log
 * before the bundle's signature is checked). */
static int id_printable(const unsigned char *id, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (id[i] <= 0x20 || id[i] >= 0x7f)
			return 0;
	return 1;
}

/* The key of a bundle of kind hub (0: an office's, 1: the hub's). */
static int bundle_key(const unsigned char secret[SYNC_SECRET_LEN], int hub,
		      unsigned char key[32])
{
	const char *label = hub ? HUB_BUNDLE_KEY_LABEL : BUNDLE_KEY_LABEL;

	return crypto_hmac_sha256(secret, SYNC_SECRET_LEN, label, strlen(label), key);
}

/* Seal pre[0..prelen) then frame[0..len) into out as a bundle of kind hub
 * (magic and key). */
static int bundle_seal(buf *out, int hub, const char *node_id,
		       const unsigned char secret[SYNC_SECRET_LEN], const void *pre,
		       size_t prelen, const void *frame, size_t len)
{
	unsigned char key[32], nonce[CRYPTO_GCM_NONCE], tag[CRYPTO_GCM_TAG], *b;
	static const unsigned char zero[CRYPTO_SHA256_LEN];
	size_t idlen = strlen(node_id), at = out->len, aad, body;
	int rc = 0;

	if (idlen < 1 || idlen > 63 || !id_printable((const unsigned char *)node_id, idlen) ||
	    frame == NULL || len == 0)
		return -1;
	if (bundle_key(secret, hub, key) != 0 ||
	    crypto_random(nonce, sizeof nonce) != 0) {
		crypto_wipe(key, sizeof key);
		return -1;
	}
	buf_put_bytes(out, hub ? SYNC_HUB_BUNDLE_MAGIC : SYNC_BUNDLE_MAGIC, 4, &rc);
	buf_put_u8(out, (uint8_t)(idlen >> 8), &rc);
	buf_put_u8(out, (uint8_t)idlen, &rc);
	buf_put_bytes(out, node_id, idlen, &rc);
	buf_put_bytes(out, nonce, sizeof nonce, &rc);
	aad = out->len - at;
	buf_put_bytes(out, zero, sizeof zero, &rc); /* the sum, once the tag is made */
	body = out->len;
	buf_put_bytes(out, pre, prelen, &rc);
	buf_put_bytes(out, frame, len, &rc);
	len += prelen;
	if (rc != 0) {
		crypto_wipe(key, sizeof key);
		return -1;
	}
	b = (unsigned char *)out->data;
	rc = crypto_seal(key, nonce, b + at, aad, b + body, len, tag);
	crypto_wipe(key, sizeof key);
	if (rc != 0)
		return -1;
	buf_put_bytes(out, tag, sizeof tag, &rc);
	b = (unsigned char *)out->data; /* (the put may have moved it) */
	if (rc != 0 || crypto_sha256(b + body, len + sizeof tag, b + body - CRYPTO_SHA256_LEN) != 0)
		return -1;
	return 0;
}

int sync_bundle_encode(buf *out, const char *node_id,
		       const unsigned char secret[SYNC_SECRET_LEN], int64_t pull_cursor,
		       const void *frame, size_t len)
{
	unsigned char pre[8];
	uint64_t v = (uint64_t)(pull_cursor < 0 ? -1 : pull_cursor);

	for (int i = 7; i >= 0; i--, v >>= 8)
		pre[i] = (unsigned char)v;
	return bundle_seal(out, 0, node_id, secret, pre, sizeof pre, frame, len);
}

int sync_hub_bundle_encode(buf *out, const char *node_id,
			   const unsigned char secret[SYNC_SECRET_LEN], const void *pages,
			   size_t len)
{
	return bundle_seal(out, 1, node_id, secret, NULL, 0, pages, len);
}

int sync_hub_bundle_begin(buf *pages, int64_t made_ms, const char *ack)
{
	size_t n = ack != NULL ? strlen(ack) : 0;
	int rc = 0;

	if (n > UINT32_MAX)
		return -1;
	buf_put_u64(pages, (uint64_t)made_ms, &rc);
	buf_put_u32(pages, (uint32_t)n, &rc);
	buf_put_bytes(pages, ack, n, &rc);
	return rc;
}

int sync_hub_bundle_add_page(buf *pages, int64_t after, int64_t next, int64_t head,
			     const void *patchset, size_t len)
{
	int rc = 0;

	if (len > UINT32_MAX)
		return -1;
	buf_put_u64(pages, (uint64_t)after, &rc);
	buf_put_u64(pages, (uint64_t)next, &rc);
	buf_put_u64(pages, (uint64_t)head, &rc);
	buf_put_u32(pages, (uint32_t)len, &rc);
	buf_put_bytes(pages, patchset, len, &rc);
	return rc;
}

static int64_t get_i64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

int sync_hub_bundle_page(const unsigned char *pages, size_t len, size_t *off,
			 sync_hub_page *pg)
{
	const unsigned char *p;
	size_t left, n;

	if (*off >= len)
		return 0;
	p = pages + *off;
	left = len - *off;
	if (left < 28)
		return -1;
	pg->hp_after = get_i64(p);
	pg->hp_next = get_i64(p + 8);
	pg->hp_head = get_i64(p + 16);
	n = (size_t)p[24] << 24 | (size_t)p[25] << 16 | (size_t)p[26] << 8 | p[27];
	if (n > left - 28 || pg->hp_after < 0 || pg->hp_next < pg->hp_after ||
	    pg->hp_head < pg->hp_next)
		return -1;
	pg->hp_data = p + 28;
	pg->hp_len = n;
	*off += 28 + n;
	return 1;
}

#define TRUNCATED "truncated or damaged (copy the file again)"
#define HUB_KIND_AT_HUB                                                                  \
	"this is a bundle from the hub for an office (OPH1): import it at that office "  \
	"with "                                                                          \
	"'outpost-sync import FILE'"
#define OFFICE_KIND_AT_OFFICE(magic)                                                     \
	"this is an office's bundle for the hub (" magic "): import it at the hub with " \
	"'outpost-hub import FILE'"

/* The header (magic, node id length and bytes) of a bundle of kind hub (0:
 * an office's, 1: the hub's); 0 and the offset of what follows the node id
 * in *off, *v1 set for the older format, or with *err set -1 (not a bundle,
 * malformed), SYNC_BUNDLE_WRONG_KIND (the other kind's magic) or
 * SYNC_BUNDLE_DAMAGED (cut short). */
static int bundle_head(const unsigned char *b, size_t len, int hub, char node_id[64],
		       size_t *off, int *v1, const char **err)
{
	size_t idlen, after;
	int office = len >= 4 && (memcmp(b, SYNC_BUNDLE_MAGIC, 4) == 0 ||
				  memcmp(b, BUNDLE_V2, 4) == 0 || memcmp(b, BUNDLE_V1, 4) == 0);
	int from_hub = len >= 4 && memcmp(b, SYNC_HUB_BUNDLE_MAGIC, 4) == 0;

	node_id[0] = '\0';
	if (hub ? office : from_hub) {
		/* the other direction's: said by name, before anything else */
		*err = !hub			       ? HUB_KIND_AT_HUB
		       : memcmp(b, BUNDLE_V1, 4) == 0 ? OFFICE_KIND_AT_OFFICE(BUNDLE_V1)
		       : memcmp(b, BUNDLE_V2, 4) == 0 ? OFFICE_KIND_AT_OFFICE(BUNDLE_V2)
						      : OFFICE_KIND_AT_OFFICE(SYNC_BUNDLE_MAGIC);
		return SYNC_BUNDLE_WRONG_KIND;
	}
	if (!(hub ? from_hub : office)) {
		*err = hub ? "not an Outpost bundle (no OPH1 header)"
			   : "not an Outpost bundle (no OPX3, OPX2 or OPX1 header)";
		return -1;
	}
	*v1 = !hub && memcmp(b, BUNDLE_V1, 4) == 0;
	after = *v1 ? 32 : CRYPTO_GCM_NONCE + CRYPTO_SHA256_LEN + CRYPTO_GCM_TAG;
	if (len < BUNDLE_HEAD_MIN) {
		*err = "bundle header cut short: " TRUNCATED;
		return SYNC_BUNDLE_DAMAGED;
	}
	idlen = (size_t)b[4] << 8 | b[5];
	if (idlen < 1 || idlen > 63) {
		*err = "malformed bundle header";
		return -1;
	}
	if (len < 6 + idlen + after + 1) {
		*err = "nothing after the bundle's header: " TRUNCATED;
		return SYNC_BUNDLE_DAMAGED;
	}
	if (!id_printable(b + 6, idlen)) {
		*err = "malformed node id";
		return -1;
	}
	memcpy(node_id, b + 6, idlen);
	node_id[idlen] = '\0';
	*off = 6 + idlen;
	return 0;
}

int sync_bundle_sender(const void *p, size_t len, char node_id[64], const char **err)
{
	size_t off;
	int v1;

	return bundle_head(p, len, 0, node_id, &off, &v1, err);
}

/* An OPX1 bundle: the frame's checksum, then the node's MAC of it. */
static int decode_v1(const unsigned char *b, size_t len, size_t off,
		     const unsigned char secret[SYNC_SECRET_LEN], const unsigned char **frame,
		     size_t *flen, const char **err)
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	frame_reader r;
	const char *why;

	off += sizeof mac;
	/* The frame's own checksum first: a copy cut short is said to be one,
	 * not taken for a forgery (its MAC fails too).  frame_open() checks
	 * every length before it reads (fuzz_frame). */
	if (frame_open(&r, b + off, len - off, &why) != 0) {
		*err = TRUNCATED;
		return SYNC_BUNDLE_DAMAGED;
	}
	if (crypto_hmac_sha256(secret, SYNC_SECRET_LEN, b + off, len - off, mac) != 0 ||
	    crypto_ct_cmp(mac, b + off - sizeof mac, sizeof mac) != 0) {
		*err = "bad bundle signature";
		return -1;
	}
	*frame = b + off;
	*flen = len - off;
	return 0;
}

/* Open a sealed bundle of kind hub whose header ends at off: 0 with the
 * sealed bytes opened in place (*frame, *flen), or -1 / SYNC_BUNDLE_DAMAGED
 * with *err set. */
static int bundle_unseal(unsigned char *b, size_t len, size_t off, int hub,
			 const unsigned char secret[SYNC_SECRET_LEN],
			 const unsigned char **frame, size_t *flen, const char **err)
{
	unsigned char sum[CRYPTO_SHA256_LEN], key[32];
	size_t body, n;

	body = off + CRYPTO_GCM_NONCE + CRYPTO_SHA256_LEN;
	n = len - body - CRYPTO_GCM_TAG;
	/* Whole as written?  A copy cut short or damaged is said to be one,
	 * not taken for a forgery (its tag fails too). */
	if (crypto_sha256(b + body, len - body, sum) != 0 ||
	    crypto_ct_cmp(sum, b + body - CRYPTO_SHA256_LEN, sizeof sum) != 0) {
		*err = TRUNCATED;
		return SYNC_BUNDLE_DAMAGED;
	}
	if (bundle_key(secret, hub, key) != 0 ||
	    crypto_open(key, b + off, b, off + CRYPTO_GCM_NONCE, b + body, n,
			b + body + n) != 0) {
		crypto_wipe(key, sizeof key);
		*err = "bad bundle signature";
		return -1;
	}
	crypto_wipe(key, sizeof key);
	*frame = b + body;
	*flen = n;
	return 0;
}

int sync_bundle_decode(void *p, size_t len, const unsigned char secret[SYNC_SECRET_LEN],
		       char node_id[64], int64_t *pull_cursor, const unsigned char **frame,
		       size_t *flen, const char **err)
{
	unsigned char *b = p;
	size_t off;
	frame_reader r;
	const char *why;
	int rc, v1;

	*frame = NULL;
	*flen = 0;
	*pull_cursor = -1;
	if ((rc = bundle_head(b, len, 0, node_id, &off, &v1, err)) != 0)
		return rc;
	if (v1)
		return decode_v1(b, len, off, secret, frame, flen, err);
	if ((rc = bundle_unseal(b, len, off, 0, secret, frame, flen, err)) != 0)
		return rc;
	/* OPX3: the office's pull cursor, sealed before the frame */
	if (memcmp(b, SYNC_BUNDLE_MAGIC, 4) == 0) {
		if (*flen < 8) {
			*frame = NULL;
			*flen = 0;
			*err = "malformed bundle: no pull cursor before its frame (made by an"
			       " incompatible version of outpost-sync?)";
			return SYNC_BUNDLE_MALFORMED;
		}
		*pull_cursor = get_i64(*frame);
		if (*pull_cursor < 0)
			*pull_cursor = -1;
		*frame += 8;
		*flen -= 8;
	}
	/* Sealed by the node, whole: a frame that does not read was made so
	 * (frame_open checks every length before it reads: fuzz_frame). */
	if (frame_open(&r, *frame, *flen, &why) != 0) {
		*frame = NULL;
		*flen = 0;
		*err = "malformed bundle: its frame does not read (made by an incompatible"
		       " version of outpost-sync?)";
		return SYNC_BUNDLE_MALFORMED;
	}
	return 0;
}

int sync_hub_bundle_head(const void *p, size_t len, char node_id[64], const char **err)
{
	size_t off;
	int v1;

	return bundle_head(p, len, 1, node_id, &off, &v1, err);
}

int sync_hub_bundle_decode(void *p, size_t len,
			   const unsigned char secret[SYNC_SECRET_LEN], char node_id[64],
			   int64_t *made_ms, const char **ack, size_t *acklen,
			   const unsigned char **pages, size_t *plen, const char **err)
{
	sync_hub_page pg;
	size_t off, at = 0, n = 0;
	int rc, v1;

	*pages = NULL;
	*plen = 0;
	*ack = NULL;
	*acklen = 0;
	if ((rc = bundle_head(p, len, 1, node_id, &off, &v1, err)) != 0)
		return rc;
	if ((rc = bundle_unseal(p, len, off, 1, secret, pages, plen, err)) != 0)
		return rc;
	rc = *plen < 12 ? -1 : 0;
	if (rc == 0) {
		const unsigned char *q = *pages + 8;

		*made_ms = get_i64(*pages);
		n = (size_t)q[0] << 24 | (size_t)q[1] << 16 | (size_t)q[2] << 8 | q[3];
		rc = n > *plen - 12 ? -1 : 0;
	}
	if (rc == 0) {
		*ack = (const char *)*pages + 12;
		*acklen = n;
		*pages += 12 + n;
		*plen -= 12 + n;
	}
	while (rc == 0 && (rc = sync_hub_bundle_page(*pages, *plen, &at, &pg)) == 1)
		rc = 0;
	if (rc != 0) {
		*pages = NULL;
		*plen = 0;
		*ack = NULL;
		*acklen = 0;
		*err = "malformed bundle: its pages do not read (made by an incompatible"
		       " version of outpost-hub?)";
		return SYNC_BUNDLE_MALFORMED;
	}
	return 0;
}

/* fsync the directory holding path, so that a rename or an unlink in it
 * is on the disk: 0, or -1 with errno.  A file system that cannot sync a
 * directory (EINVAL) syncs its entries with the files. */
static int sync_dir_of(const char *path)
{
	char dir[4200];
	const char *slash = strrchr(path, '/');
	int fd, rc, e;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path) >=
		 (int)sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	if (rc != 0 && e == EINVAL)
		return 0;
	errno = e;
	return rc;
}

int sync_bundle_write(const char *path, const void *p, size_t len, char *err,
		      size_t errlen)
{
	char tmp[4200];
	struct stat sb;
	int fd;

	/* A bundle replaces a bundle, never a device, a link or a directory
	 * (--out /dev/stdout would rename a file over the link). */
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		fmt_line(err, errlen, "'%s' exists and is not a regular file: give a new file name",
			 path);
		return -1;
	}
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
		fmt_line(err, errlen, "path too long: '%s'", path);
		return -1;
	}
	/* A name no one else can have made first (O_EXCL, mode 0600): in a
	 * shared directory a file planted under a predictable name would be
	 * written and renamed into place still its planter's. */
	fd = mkstemp(tmp);
	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fd < 0) {
		fmt_line(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
		return -1;
	}
	/* Changesets hold participant data: owner-only, like node.db. */
	if (fchmod(fd, 0600) != 0)
		goto fail;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	/* The name too: only a part durably there lets an earlier one go. */
	if (sync_dir_of(path) != 0) {
		fmt_line(err, errlen, "cannot write '%s': syncing its directory: %s", path,
			 strerror(errno));
		return -1;
	}
	return 0;
fail:
	fmt_line(err, errlen, "cannot write '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

/* A sealed bundle's nonce in hex: what names a --resend export's file. */
#define NONCE_HEX (2 * CRYPTO_GCM_NONCE + 1)
/* sync_state: the nonces of the files --resend exports wrote, newest last,
 * space-separated, the latest RESEND_KEPT. */
#define RESEND_KEY "resend_bundles"
#define RESEND_KEPT 32
#define RESEND_LIST (RESEND_KEPT * NONCE_HEX + 1)

/* The nonce of the sealed bundle (OPX3, OPX2) of node_id at b[0..n) into
 * hex, or "" (an OPX1 bundle, or too short). */
static void bundle_nonce(const unsigned char *b, size_t n, const char *node_id,
			 char hex[NONCE_HEX])
{
	size_t at = 6 + strlen(node_id);

	hex[0] = '\0';
	if (n < at + CRYPTO_GCM_NONCE || memcmp(b, BUNDLE_V1, 4) == 0)
		return;
	for (size_t i = 0; i < CRYPTO_GCM_NONCE; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[at + i]);
}

/* 1 when path is a regular file (not a link) that starts with the header
 * of an Outpost bundle of node_id (OPX3, OPX2 or OPX1, that node id), else 0:
 * what an export may remove as an earlier export's part, never another
 * file, nor another office PC's bundle (a stick carried between offices
 * may hold one under the same name, not yet imported). */
/* 1 when path is a regular file holding a bundle of node_id: an office's
 * from it (hub 0), or the hub's for it (hub 1); else 0.  nonce (may be
 * NULL) gets an office's sealed bundle's nonce (bundle_nonce). */
static int is_bundle_of(const char *path, const char *node_id, int hub, char nonce[NONCE_HEX])
{
	unsigned char head[256];
	char sender[64];
	const char *why;
	struct stat sb;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return 0;
	}
	do
		n = read(fd, head, sizeof head);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0 ||
	    (hub ? sync_hub_bundle_head(head, (size_t)n, sender, &why)
		 : sync_bundle_sender(head, (size_t)n, sender, &why)) != 0 ||
	    strcmp(sender, node_id) != 0)
		return 0;
	if (nonce != NULL)
		bundle_nonce(head, (size_t)n, node_id, nonce);
	return 1;
}

static int is_own_bundle(const char *path, const char *node_id)
{
	return is_bundle_of(path, node_id, 0, NULL);
}

int sync_bundle_may_write(const char *path, const char *node_id, int hub)
{
	struct stat sb;

	return (lstat(path, &sb) != 0 && errno == ENOENT) ||
	       is_bundle_of(path, node_id, hub, NULL);
}

/* 1 when path is a file a --resend export of this office PC wrote (its
 * nonce noted in sync_state, note_resend), else 0.  It holds changes the
 * office counts as the hub's already (the sent log), which the hub,
 * restored from a backup, may lack and a plain export does not carry: a
 * plain export neither writes over it nor removes it. */
static int is_resend_bundle(sqlite3 *db, const char *path, const char *node_id)
{
	char nonce[NONCE_HEX], list[RESEND_LIST];

	if (!is_bundle_of(path, node_id, 0, nonce) || nonce[0] == '\0' ||
	    db_kv_get(db, "sync_state", RESEND_KEY, list, sizeof list) != DB_FOUND)
		return 0;
	/* (hex of one length, space-separated: a match is a whole one) */
	return strstr(list, nonce) != NULL;
}

/* The nonce of a --resend export's part, sealed in b, into the list
 * is_resend_bundle reads (the newest RESEND_KEPT), before the file is
 * written.  0 or -1. */
static int note_resend(sqlite3 *db, const unsigned char *b, size_t n, const char *node_id)
{
	char nonce[NONCE_HEX], list[RESEND_LIST], *p = list;
	int kept = 0;

	bundle_nonce(b, n, node_id, nonce);
	if (nonce[0] == '\0' || db_kv_get(db, "sync_state", RESEND_KEY, list, sizeof list) < 0)
		return -1;
	for (const char *q = list; *q; q++)
		kept += *q == ' ';
	kept += list[0] != '\0';
	/* the oldest go: RESEND_KEPT - 1 stay beside the new one */
	for (; kept >= RESEND_KEPT && (p = strchr(p, ' ')) != NULL; kept--)
		p++;
	memmove(list, p != NULL ? p : "", p != NULL ? strlen(p) + 1 : 1);
	snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? " " : "",
		 nonce);
	return db_kv_set(db, "sync_state", RESEND_KEY, list);
}

/* The parts of an earlier export past what this one wrote (path itself
 * when it wrote none): removed while they are Outpost bundles, so that
 * no stale part is carried to the hub beside this export's (README,
 * "Moving a bundle by hand").  Runs only after every part written is
 * synced, file and directory (sync_bundle_write). */
static void remove_stale_parts(sqlite3 *db, const char *path, const char *node_id,
			       int with_sent, sync_bundle_stats *st)
{
	char name[4200];
	struct stat sb;
	int removed = 0;

	for (int k = st->bs_files + 1; k < INT_MAX; k++) {
		if (k == 1)
			snprintf(name, sizeof name, "%s", path);
		else
			snprintf(name, sizeof name, "%s.%d", path, k);
		if (lstat(name, &sb) != 0) {
			if (k == 1)
				continue; /* FILE gone, its FILE.2 ... perhaps not */
			break;
		}
		if (!with_sent && is_resend_bundle(db, name, node_id)) {
			st->bs_left = k; /* a --resend export's: never a plain one's to remove */
			st->bs_left_resend = 1;
			break;
		}
		if (!is_own_bundle(name, node_id) || unlink(name) != 0) {
			st->bs_left = k;
			break;
		}
		if (st->bs_stale_from == 0)
			st->bs_stale_from = k;
		st->bs_stale_to = k;
		removed = 1;
	}
	if (removed)
		(void)sync_dir_of(path); /* (a removal lost to a crash is harmless) */
}

/* 1 when an export may write a part at path, else 0: nothing is there, or
 * this office PC's own earlier bundle (what remove_stale_parts would
 * remove), which holds nothing this export lacks (its entries are still in
 * the outbox, so in this export, or the hub took them); never over another
 * file, nor another office PC's bundle not yet imported (a stick carried
 * between offices), nor, for a plain export, over a --resend export's
 * file (is_resend_bundle: it holds what the hub acknowledged before, for
 * a hub restored from a backup, which a plain export lacks).  One rule for every part, the
 * cursor alone's too. */
static int may_write_part(sqlite3 *db, const char *path, const char *node_id, int with_sent)
{
	return sync_bundle_may_write(path, node_id, 0) &&
	       (with_sent || !is_resend_bundle(db, path, node_id));
}

int sync_bundle_export(sqlite3 *db, const sync_identity *id, const char *path, int with_sent,
		       sync_bundle_stats *st, char *err, size_t errlen)
{
	return sync__bundle_export(db, id, path, with_sent, SYNC_BUNDLE_MAX, st, err, errlen);
}

int sync__bundle_export(sqlite3 *db, const sync_identity *id, const char *path, int with_sent,
			size_t max, sync_bundle_stats *st, char *err, size_t errlen)
{
	sync_bundle_stats local;
	/* each file whole (frame, header, tag) within max: what the
	 * importers read (SYNC_BUNDLE_MAX) */
	buf frame = BUF_INIT(max > BUNDLE_OVERHEAD ? max - BUNDLE_OVERHEAD : 0);
	buf out = BUF_INIT(max);
	frame_writer w;
	int64_t base = 0, after, first, last, count, cursor = -1;
	char name[4200];
	struct stat sb;
	int rc, ret = SYNC_E_OTHER;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	/* what the office has of the hub's changes (none before its first
	 * snapshot is done): each part tells the hub */
	if (db_kv_get_i64(db, "sync_state", "seq_base", &base) < 0 ||
	    db_kv_get_i64(db, "node_meta", "sync_cursor", &cursor) < 0) {
		fmt_line(err, errlen, "cannot read the sync state of the office database");
		return SYNC_E_OTHER;
	}
	st->bs_cursor = cursor < 0 ? -1 : cursor;
	after = base;
	for (;;) {
		buf_reset(&frame);
		buf_reset(&out);
		rc = with_sent ? sync__outbox_frame_sent(db, after, base, &frame, 0, &first, &last, &count)
			       : sync__outbox_frame(db, after, base, &frame, 0, &first, &last, &count);
		if (rc < 0) {
			fmt_line(err, errlen, "cannot read the outbox");
			goto out;
		}
		if (rc == 1) {
			fmt_line(err, errlen, "outbox entry %" PRId64 " cannot be framed", first);
			goto out;
		}
		if (count == 0 && (st->bs_files > 0 || cursor < 0))
			break;
		if (st->bs_files == 0)
			snprintf(name, sizeof name, "%s", path);
		else
			snprintf(name, sizeof name, "%s.%d", path, st->bs_files + 1);
		if (!may_write_part(db, name, id->id_node_id, with_sent)) {
			/* the cursor alone: nothing to carry but where the
			 * office is; the file is left and named as when
			 * nothing is written (remove_stale_parts) */
			if (count == 0)
				break;
			/* changes to carry: refused, the file kept */
			if (!with_sent && is_resend_bundle(db, name, id->id_node_id))
				fmt_line(err, errlen,
					 "'%s' is this office PC's --resend export: it holds changes the"
					 " hub acknowledged before (for a hub restored from a backup),"
					 " which a plain export does not carry: left as it is, nothing"
					 " written to it; import it at the hub and then remove it, export"
					 " with --resend again, or export to another file name",
					 name);
			else
				fmt_line(err, errlen,
					 "'%s' is there and is not an Outpost bundle of this office PC"
					 " (%s): left as it is, nothing written to it; export to another"
					 " file name",
					 name,
					 lstat(name, &sb) == 0 && !S_ISREG(sb.st_mode)
						 ? "not a regular file"
						 : "another office PC's bundle not yet imported at the hub,"
						   " or a file of another kind");
			goto out;
		}
		if (count == 0) {
			/* an empty outbox: the cursor alone (a frame of no
			 * entries), so the hub learns where the office is */
			frame_begin(&w, &frame, (uint32_t)schema_db_version(db));
			if (frame_end(&w) != 0) {
				fmt_line(err, errlen, "cannot build the bundle (out of memory?)");
				goto out;
			}
		} else if (first <= base) {
			fmt_line(err, errlen, "outbox entry %" PRId64 " precedes this enrollment", first);
			goto out;
		}
		if (sync_bundle_encode(&out, id->id_node_id, id->id_secret, cursor, frame.data,
				       frame.len) != 0) {
			fmt_line(err, errlen, "cannot build the bundle (out of memory?)");
			goto out;
		}
		/* noted before it is there: a plain export leaves it */
		if (with_sent && count > 0 &&
		    note_resend(db, (const unsigned char *)out.data, out.len, id->id_node_id) != 0) {
			fmt_line(err, errlen, "cannot note the --resend export in the office database");
			goto out;
		}
		if (sync_bundle_write(name, out.data, out.len, err, errlen) != 0)
			goto out;
		if (st->bs_files == 0)
			st->bs_first_seq = first;
		st->bs_last_seq = last;
		st->bs_files++;
		st->bs_entries += count;
		st->bs_bytes += out.len;
		if (count == 0)
			break;
		after = last;
	}
	/* FILE.N an earlier, longer export left past the last written now
	 * (FILE too when nothing was written): gone, so that "FILE, then
	 * FILE.2, ..." names only this export's. */
	remove_stale_parts(db, path, id->id_node_id, with_sent, st);
	ret = 0;
out:
	if (ret != 0 && st->bs_files > 0)
		/* what was written is a whole, signed prefix (its import is
		 * harmless): say so */
		fmt_line(err + strlen(err), errlen - strlen(err),
			 "; %d file%s written before it (%s...) hold%s entries %" PRId64 "..%" PRId64
			 " only", st->bs_files, st->bs_files == 1 ? "" : "s", path,
			 st->bs_files == 1 ? "s" : "", st->bs_first_seq - base, st->bs_last_seq - base);
	buf_release(&frame);
	buf_release(&out);
	return ret;
}
