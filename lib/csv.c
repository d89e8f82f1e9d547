/*
 * csv.c - RFC 4180 reading; see csv.h.
 */
#include "csv.h"
#include "buf.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int csv_read_buf(const char *data, size_t len, csv_row_fn fn, void *arg)
{
	char *fields[CSV_MAX_FIELDS];
	buf rec;
	size_t offs[CSV_MAX_FIELDS];
	int nf = 0, line = 1, rc = 0, inq = 0;
	size_t i = 0;

	buf_init(&rec, 1 << 20);
	offs[0] = 0;
	while (i <= len) {
		int c = i < len ? (unsigned char)data[i] : -1;
		i++;
		if (inq) {
			if (c == -1)
				break;
			if (c == '"') {
				if (i < len && data[i] == '"') {
					buf_putc(&rec, '"');
					i++;
				} else {
					inq = 0;
				}
			} else {
				buf_putc(&rec, c);
			}
			continue;
		}
		if (c == '"') {
			inq = 1;
		} else if (c == ',') {
			buf_putc(&rec, '\0');
			if (nf + 1 < CSV_MAX_FIELDS)
				offs[++nf] = rec.len;
		} else if (c == '\r') {
			continue;
		} else if (c == '\n' || c == -1) {
			if (c == -1 && rec.len == 0 && nf == 0)
				break;
			buf_putc(&rec, '\0');
			/* A record past the buffer's bound is refused, never cut
			 * (its later fields would come back empty). */
			if (buf_failed(&rec)) {
				rc = -1;
				break;
			}
			for (int k = 0; k <= nf; k++)
				fields[k] = rec.data + offs[k];
			if (!(nf == 0 && fields[0][0] == '\0'))
				rc = fn(line, nf + 1, fields, arg);
			line++;
			buf_reset(&rec);
			nf = 0;
			offs[0] = 0;
			if (rc)
				break;
		} else {
			buf_putc(&rec, c);
		}
	}
	buf_release(&rec);
	/* A quote never closed: the last record is not whole. */
	return rc == 0 && inq ? -1 : rc;
}

int csv_read_file(const char *path, csv_row_fn fn, void *arg)
{
	FILE *f = fopen(path, "rb");
	buf b;
	char tmp[8192];
	size_t n;
	int rc;

	if (f == NULL)
		return -1;
	buf_init(&b, 64 << 20);
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		if (buf_append(&b, tmp, n) != 0) {
			fclose(f);
			buf_release(&b);
			return -1;
		}
	fclose(f);
	rc = csv_read_buf(b.data ? b.data : "", b.len, fn, arg);
	buf_release(&b);
	return rc;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where `make install` put the lists (PREFIX/share/outpost, from the
 * Makefile); a build without it keeps the historical default. */
#ifndef OUTPOST_DATADIR
#define OUTPOST_DATADIR "/usr/local/share/outpost"
#endif

int csv_seed_dir(char *out, size_t n)
{
	char exe[PATH_MAX];
	const char *env = getenv("OUTPOST_SEED_DIR");
	ssize_t len;

	if (env && is_dir(env)) {
		snprintf(out, n, "%s", env);
		return 0;
	}
	len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		exe[len] = '\0';
		/* bin/outpost-x -> ../seed ; build/san/bin/outpost-x -> ../../../seed */
		for (int up = 0; up < 4; up++) {
			char *slash = strrchr(exe, '/');
			if (slash == NULL)
				break;
			*slash = '\0';
			snprintf(out, n, "%s/seed", exe);
			if (is_dir(out))
				return 0;
		}
	}
	snprintf(out, n, "%s/seed", OUTPOST_DATADIR);
	if (is_dir(out))
		return 0;
	/* An installed tree moved as a whole (a package built from binaries
	 * compiled for another PREFIX, a DESTDIR staging root):
	 * PREFIX/bin/outpost-x -> PREFIX/share/outpost/seed. */
	len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		char *slash;
		exe[len] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			if ((slash = strrchr(exe, '/')) != NULL) {
				*slash = '\0';
				snprintf(out, n, "%s/share/outpost/seed", exe);
				if (is_dir(out))
					return 0;
			}
		}
	}
	return -1;
}

/* 1 when s is a plain number ("-5", "-0.25"): no formula, and a
 * spreadsheet must read it as the number it is. */
static int plain_number(const char *s)
{
	int digits = 0, dot = 0;

	if (*s == '-')
		s++;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (*s == '.' && !dot && digits)
			dot = 1;
		else
			return 0;
	}
	return digits > 0 && s[-1] != '.';
}

int csv_put_field(buf *b, const char *s, int last)
{
	int rc = buf_putc(b, '"');

	if (s && s[0] && strchr("=+-@\t\r", s[0]) && !plain_number(s))
		rc |= buf_putc(b, '\'');
	for (; s && *s; s++) {
		if (*s == '"')
			rc |= buf_putc(b, '"');
		rc |= buf_putc(b, *s);
	}
	rc |= buf_putc(b, '"');
	rc |= buf_puts(b, last ? "\r\n" : ",");
	return rc ? -1 : 0;
}

int csv_put_int(buf *b, long long v, int last)
{
	char t[24];

	snprintf(t, sizeof t, "%lld", v);
	return csv_put_field(b, t, last);
}
