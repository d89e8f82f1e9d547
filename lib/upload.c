/*
 * upload.c - upload type sniffing, the declared-type check, safe file names
 * and the Content-Disposition of a download; see upload.h.  Every read of
 * the input is checked against its length first: the bytes come from a
 * browser, or from a node through the hub.
 */
#include "lib/upload.h"
#include "lib/http.h"
#include "lib/json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
	upload_type ut_type;
	const char *ut_mime;
	const char *ut_label;
	const char *ut_exts[3]; /* the first is the one appended */
} types[] = {
	{UPLOAD_PDF, "application/pdf", "PDF", {".pdf", NULL, NULL}},
	{UPLOAD_PNG, "image/png", "PNG", {".png", NULL, NULL}},
	{UPLOAD_JPEG, "image/jpeg", "JPEG", {".jpg", ".jpeg", NULL}},
	{UPLOAD_DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	 "Word (.docx)", {".docx", NULL, NULL}},
	{UPLOAD_XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	 "Excel (.xlsx)", {".xlsx", NULL, NULL}},
	{UPLOAD_TEXT, "text/plain", "plain text", {".txt", ".csv", NULL}},
};
#define NTYPES (sizeof types / sizeof types[0])

/* ---- UTF-8 -------------------------------------------------------------------- */

/* Length (1..4) of the well-formed UTF-8 sequence at p, its code point in
 * *cp; 0 when malformed (overlong, surrogate, past U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return len;
}

/* ---- sniffing ------------------------------------------------------------------ */

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int name_is(const unsigned char *p, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

static int name_ends_nocase(const unsigned char *p, size_t n, const char *tail)
{
	size_t t = strlen(tail);

	return n >= t && strncasecmp((const char *)p + n - t, tail, t) == 0;
}

#define ZIP_MAX_ENTRIES 10000

/* An Office Open XML document: its central directory read entry by entry. */
static upload_type sniff_ooxml(const unsigned char *d, size_t n)
{
	size_t eocd = 0, off, end, lo;
	uint32_t count, cd_size, cd_off, i;
	int found = 0, types_xml = 0, word = 0, xl = 0;

	if (n < 30 + 22 || memcmp(d, "PK\x03\x04", 4) != 0)
		return UPLOAD_UNKNOWN;
	/* End of central directory: 22 bytes plus a comment of at most 64 KiB. */
	lo = n - 22 > 65535 ? n - 22 - 65535 : 0;
	for (off = n - 22 + 1; off-- > lo;)
		if (memcmp(d + off, "PK\x05\x06", 4) == 0 && off + 22 + le16(d + off + 20) == n) {
			eocd = off;
			found = 1;
			break;
		}
	if (!found)
		return UPLOAD_UNKNOWN;
	count = le16(d + eocd + 10);
	cd_size = le32(d + eocd + 12);
	cd_off = le32(d + eocd + 16);
	if (count == 0 || count > ZIP_MAX_ENTRIES || cd_off > eocd || cd_size > eocd - cd_off)
		return UPLOAD_UNKNOWN;
	off = cd_off;
	end = (size_t)cd_off + cd_size;
	for (i = 0; i < count; i++) {
		size_t nl, el, cl;
		if (end - off < 46 || memcmp(d + off, "PK\x01\x02", 4) != 0)
			return UPLOAD_UNKNOWN;
		nl = le16(d + off + 28);
		el = le16(d + off + 30);
		cl = le16(d + off + 32);
		if (end - off - 46 < nl + el + cl)
			return UPLOAD_UNKNOWN;
		{
			const unsigned char *name = d + off + 46;
			if (name_is(name, nl, "[Content_Types].xml"))
				types_xml = 1;
			else if (name_is(name, nl, "word/document.xml"))
				word = 1;
			else if (name_is(name, nl, "xl/workbook.xml"))
				xl = 1;
			else if (name_ends_nocase(name, nl, "vbaProject.bin"))
				return UPLOAD_UNKNOWN; /* macros */
		}
		off += 46 + nl + el + cl;
	}
	if (!types_xml || word == xl)
		return UPLOAD_UNKNOWN;
	return word ? UPLOAD_DOCX : UPLOAD_XLSX;
}

static int sniff_text(const unsigned char *d, size_t n)
{
	size_t i = 0, k;
	int seen = 0;
	uint32_t cp;

	if (n >= 3 && d[0] == 0xef && d[1] == 0xbb && d[2] == 0xbf)
		i = 3; /* byte order mark */
	for (; i < n; i += k) {
		k = utf8_next(d + i, n - i, &cp);
		if (k == 0)
			return 0;
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' && cp != '\f') || cp == 0x7f)
			return 0;
		if (!seen && cp != ' ' && cp != '\t' && cp != '\n' && cp != '\r' && cp != '\f' &&
		    cp != 0xfeff) {
			if (cp == '<')
				return 0; /* markup: HTML, SVG, XML */
			seen = 1;
		}
	}
	return seen;
}

upload_type upload_sniff(const void *data, size_t n)
{
	const unsigned char *d = data;

	if (d == NULL || n == 0)
		return UPLOAD_UNKNOWN;
	if (n >= 5 && memcmp(d, "%PDF-", 5) == 0)
		return UPLOAD_PDF;
	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		return UPLOAD_PNG;
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return UPLOAD_JPEG;
	if (n >= 4 && memcmp(d, "PK\x03\x04", 4) == 0)
		return sniff_ooxml(d, n);
	return sniff_text(d, n) ? UPLOAD_TEXT : UPLOAD_UNKNOWN;
}

const char *upload_mime(upload_type t)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (types[i].ut_type == t)
			return types[i].ut_mime;
	return NULL;
}

upload_type upload_type_of_mime(const char *ct)
{
	char v[128];
	size_t i = 0, j = 0;

	if (ct == NULL)
		return UPLOAD_UNKNOWN;
	while (ct[i] == ' ' || ct[i] == '\t')
		i++;
	for (; ct[i] && ct[i] != ';' && ct[i] != ' ' && ct[i] != '\t'; i++) {
		if (j + 1 >= sizeof v)
			return UPLOAD_UNKNOWN;
		v[j++] = ct[i];
	}
	v[j] = '\0';
	if (strcasecmp(v, "text/csv") == 0)
		return UPLOAD_TEXT;
	for (size_t k = 0; k < NTYPES; k++)
		if (strcasecmp(v, types[k].ut_mime) == 0)
			return types[k].ut_type;
	return UPLOAD_UNKNOWN;
}

void upload_describe(unsigned allowed, char *out, size_t n)
{
	const char *names[NTYPES];
	size_t k = 0, w = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < NTYPES; i++)
		if (allowed & (unsigned)types[i].ut_type)
			names[k++] = types[i].ut_label;
	for (size_t i = 0; i < k && w < n; i++) {
		int r = snprintf(out + w, n - w, "%s%s", i == 0 ? "" : i + 1 == k ? " or " : ", ",
				 names[i]);
		if (r < 0)
			break;
		w += (size_t)r;
	}
}

int upload_check(const char *declared, const void *data, size_t n, unsigned allowed,
		 upload_type *type)
{
	upload_type want = upload_type_of_mime(declared);

	if (type)
		*type = UPLOAD_UNKNOWN;
	if (want == UPLOAD_UNKNOWN || !(allowed & (unsigned)want))
		return UPLOAD_E_TYPE;
	if (upload_sniff(data, n) != want)
		return UPLOAD_E_CONTENT;
	if (type)
		*type = want;
	return 0;
}

/* ---- file names ------------------------------------------------------------------ */

static int ext_of(const char *name, upload_type t)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < NTYPES; i++)
		if (types[i].ut_type == t)
			for (int k = 0; k < 3 && types[i].ut_exts[k]; k++)
				if (strcasecmp(dot, types[i].ut_exts[k]) == 0)
					return 1;
	return 0;
}

static const char *ext_for(upload_type t)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (types[i].ut_type == t)
			return types[i].ut_exts[0];
	return NULL;
}

static int is_blank_or_dot(char c) { return c == ' ' || c == '.' || c == '\t'; }

int upload_filename(const char *in, upload_type t, char *out, size_t n)
{
	char tmp[4 * UPLOAD_NAME_MAX + 8];
	const char *base, *ext = NULL, *add = NULL;
	size_t j = 0, len, i, k, stem, elen = 0;
	uint32_t cp;

	if (in == NULL || n < UPLOAD_NAME_MAX + 1)
		return -1;
	base = in;
	for (const char *p = in; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	len = strlen(base);
	/* Clean characters, into tmp (bounded: the rest is cut anyway). */
	for (i = 0; i < len && j + 4 < sizeof tmp; i += k) {
		k = utf8_next((const unsigned char *)base + i, len - i, &cp);
		if (k == 0) {
			tmp[j++] = '_';
			k = 1;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) || (cp < 0x80 && strchr("\"\\/:*?<>|;", (int)cp))) {
			tmp[j++] = '_';
			continue;
		}
		memcpy(tmp + j, base + i, k);
		j += k;
	}
	tmp[j] = '\0';
	/* Leading dots and blanks, trailing dots and blanks. */
	{
		size_t s = 0;
		while (s < j && is_blank_or_dot(tmp[s]))
			s++;
		while (j > s && is_blank_or_dot(tmp[j - 1]))
			j--;
		memmove(tmp, tmp + s, j - s);
		j -= s;
		tmp[j] = '\0';
	}
	if (j == 0)
		return -1;
	if (t != UPLOAD_UNKNOWN && !ext_of(tmp, t))
		add = ext_for(t);
	/* The extension kept when cutting: the appended one, or the name's own
	 * when short (a dot that is not the first character). */
	if (add) {
		ext = add;
		stem = j;
	} else {
		const char *dot = strrchr(tmp, '.');
		if (dot && dot != tmp && strlen(dot) <= 10) {
			ext = dot;
			stem = (size_t)(dot - tmp);
		} else {
			stem = j;
		}
	}
	elen = ext ? strlen(ext) : 0;
	if (add == NULL && stem + elen <= UPLOAD_NAME_MAX) {
		memcpy(out, tmp, j + 1);
		return 0;
	}
	stem = json_utf8_cut(tmp, stem, UPLOAD_NAME_MAX - elen);
	while (ext == NULL && stem > 0 && is_blank_or_dot(tmp[stem - 1]))
		stem--; /* the cut must not leave what a second pass would trim */
	if (stem == 0)
		return -1;
	memcpy(out, tmp, stem);
	if (ext)
		memmove(out + stem, ext, elen);
	out[stem + elen] = '\0';
	return 0;
}

int upload_filename_ok(const char *name, upload_type t)
{
	char again[UPLOAD_NAME_MAX + 1];

	if (name == NULL || strlen(name) > UPLOAD_NAME_MAX)
		return 0;
	return upload_filename(name, t, again, sizeof again) == 0 && strcmp(again, name) == 0;
}

int upload_download_headers(http_req *req, const char *name)
{
	char disp[UPLOAD_NAME_MAX * 4 + 96];

	if (name == NULL || upload_disposition(name, disp, sizeof disp) != 0)
		return -1;
	if (http_add_header(req, "Content-Disposition", disp) != 0 ||
	    http_add_header(req, "Content-Security-Policy", "default-src 'none'; sandbox") != 0 ||
	    http_add_header(req, "Cache-Control", "private, no-store") != 0)
		return -1;
	return 0;
}

int upload_disposition(const char *name, char *out, size_t n)
{
	size_t w = 0;
	int r;

	r = snprintf(out, n, "attachment; filename=\"");
	if (r < 0 || (size_t)r >= n)
		return -1;
	w = (size_t)r;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (w + 2 >= n)
			return -1;
		/* a name from upload_filename has no quote, backslash or control */
		out[w++] = *p < 0x80 && *p >= 0x20 && *p != '"' && *p != '\\' ? (char)*p : '_';
	}
	r = snprintf(out + w, n - w, "\"; filename*=UTF-8''");
	if (r < 0 || (size_t)r >= n - w)
		return -1;
	w += (size_t)r;
	return http_pct_encode_keep(name, out + w, n - w, "!#$&+-.^_`|~");
}
