/*
 * buf.h - one growable byte buffer with a mandatory maximum.
 *
 * Every buffer says how large it may grow (curl's dynbuf rule), so no request
 * body, changeset or response can grow without bound.  The data is always
 * NUL-terminated (one spare byte beyond len) so it can be used as a C string
 * when it holds text.  Functions return 0 on success, -1 when the maximum
 * would be exceeded or memory runs out; on failure the buffer is unchanged
 * and its sticky err is set, so a writer of many small appends (CSV, SQL)
 * may ignore each result and check buf_failed() once at the end.
 */
#ifndef OUTPOST_BUF_H
#define OUTPOST_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct buf {
	char *data;   /* NULL until the first append */
	size_t len;   /* bytes in use */
	size_t cap;   /* bytes allocated */
	size_t max;   /* hard upper bound on len */
	int err;      /* sticky: an append failed since buf_init/buf_reset */
} buf;

#define BUF_INIT(max_) {NULL, 0, 0, (max_), 0}

void buf_init(buf *b, size_t max);
void buf_release(buf *b);          /* frees data; b may be reused after buf_init */
void buf_reset(buf *b);            /* len = 0 and err = 0, keeps memory */
/* 1 when an append failed since buf_init/buf_reset (the text is incomplete). */
int buf_failed(const buf *b);
int buf_grow(buf *b, size_t extra);
int buf_append(buf *b, const void *p, size_t n);
int buf_puts(buf *b, const char *s);
int buf_putc(buf *b, int c);
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Big-endian integers; sticky: do nothing when *rc != 0, set *rc on failure. */
void buf_put_u8(buf *b, uint8_t v, int *rc);
void buf_put_u32(buf *b, uint32_t v, int *rc);
void buf_put_u64(buf *b, uint64_t v, int *rc);
void buf_put_bytes(buf *b, const void *p, size_t n, int *rc);
/* Hand the data to the caller (caller frees); the buffer is left empty. */
char *buf_detach(buf *b, size_t *len);
/* Like buf_puts but escaping for HTML text and attribute values. */
int buf_put_html(buf *b, const char *s);
/* The n bytes at s as one JSON string: quoted, '"' and '\\' escaped, control
 * characters as \u00XX, every other byte as it is.  0 or -1. */
int buf_put_json_str(buf *b, const void *s, size_t n);
/* The n bytes at p in lower-case hex.  0 or -1. */
int buf_put_hex(buf *b, const void *p, size_t n);

#endif
