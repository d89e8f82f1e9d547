/*
 * buf.c - growable byte buffers with a hard maximum; see buf.h.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->err = 0;
}

void buf_release(buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data)
		b->data[0] = '\0';
}

int buf_failed(const buf *b)
{
	return b->err != 0;
}

int buf_grow(buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > b->max || b->len > b->max - extra) {
		b->err = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (p == NULL) {
		b->err = 1;
		return -1;
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int buf_append(buf *b, const void *p, size_t n)
{
	if (buf_grow(b, n) != 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_putc(buf *b, int c)
{
	char ch = (char)c;
	return buf_append(b, &ch, 1);
}

int buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = 1;
		return -1;
	}
	if (buf_grow(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_put_u8(buf *b, uint8_t v, int *rc)
{
	if (*rc == 0 && buf_append(b, &v, 1) != 0)
		*rc = -1;
}

void buf_put_u32(buf *b, uint32_t v, int *rc)
{
	unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 8), (unsigned char)v};
	if (*rc == 0 && buf_append(b, x, 4) != 0)
		*rc = -1;
}

void buf_put_u64(buf *b, uint64_t v, int *rc)
{
	buf_put_u32(b, (uint32_t)(v >> 32), rc);
	buf_put_u32(b, (uint32_t)v, rc);
}

void buf_put_bytes(buf *b, const void *p, size_t n, int *rc)
{
	if (*rc == 0 && buf_append(b, p, n) != 0)
		*rc = -1;
}

char *buf_detach(buf *b, size_t *len)
{
	char *p = b->data;

	if (p == NULL) {
		p = calloc(1, 1);
		if (len)
			*len = 0;
		return p;
	}
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int buf_put_html(buf *b, const char *s)
{
	for (; *s; s++) {
		const char *e = NULL;
		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		}
		if (e ? buf_puts(b, e) : buf_putc(b, *s))
			return -1;
	}
	return 0;
}

int buf_put_json_str(buf *b, const void *s, size_t n)
{
	const unsigned char *p = s;
	int rc = buf_putc(b, '"');

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (p[i] == '"' || p[i] == '\\')
			rc = buf_printf(b, "\\%c", p[i]);
		else if (p[i] < 0x20)
			rc = buf_printf(b, "\\u%04x", p[i]);
		else
			rc = buf_putc(b, p[i]);
	}
	return rc ? rc : buf_putc(b, '"');
}

int buf_put_hex(buf *b, const void *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *u = p;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		char two[2] = {hx[u[i] >> 4], hx[u[i] & 15]};
		rc = buf_append(b, two, 2);
	}
	return rc;
}
