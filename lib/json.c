/*
 * json.c - cJSON getters and validators for request bodies; see json.h.
 */
#include "json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The bytes of s not part of a valid UTF-8 character, each made '?' (a
 * client's text quoted in a message: the reply stays valid JSON text). */
static void utf8_scrub(char *s)
{
	size_t i = 0, n = strlen(s);

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
			 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;

		if (k && i + k <= n && json_utf8_valid(s + i, k)) {
			i += k;
			continue;
		}
		s[i++] = '?';
	}
}

void json_vformat(char *out, size_t n, const char *fmt, va_list ap)
{
	char tmp[2048];
	size_t len;

	if (n == 0)
		return;
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	utf8_scrub(tmp);
	len = json_utf8_cut(tmp, strlen(tmp), n - 1 < sizeof tmp - 1 ? n - 1 : sizeof tmp - 1);
	memcpy(out, tmp, len);
	out[len] = '\0';
}

char *json_vformat_alloc(size_t max, const char *fmt, va_list ap)
{
	static const char more[] = "\xE2\x80\xA6"; /* U+2026, "..." */
	va_list aq;
	char *s;
	int k;
	size_t len;

	va_copy(aq, ap);
	k = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (k < 0)
		k = 0;
	len = (size_t)k;
	if ((s = malloc(len + 1 + (len > max ? sizeof more : 0))) == NULL)
		return NULL;
	vsnprintf(s, len + 1, fmt, ap);
	utf8_scrub(s);
	if (len > max) {
		len = json_utf8_cut(s, len, max);
		memcpy(s + len, more, sizeof more);
	}
	return s;
}

void json_err_set(json_err *e, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	va_start(ap, fmt);
	json_vformat(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static int absent(const cJSON *it, int flags)
{
	return it == NULL || (cJSON_IsNull(it) && (flags & (JSON_NULLABLE | JSON_REQUIRED)) != JSON_REQUIRED);
}

/*
 * The first checks of every getter: 1 when the item is absent (is_absent,
 * as the getter counts null) and may be, -1 with e set when it is absent
 * but required or present but not of the type is() accepts ("must be
 * <must>"), 0 when it is there to read.
 */
static int item_check(const cJSON *it, int is_absent, const char *name, int flags,
		      cJSON_bool (*is)(const cJSON *), const char *must, json_err *e)
{
	if (is_absent) {
		if (flags & JSON_REQUIRED) {
			json_err_set(e, name, "%s is required", name);
			return -1;
		}
		return 1;
	}
	if (!is(it)) {
		json_err_set(e, name, "%s must be %s", name, must);
		return -1;
	}
	return 0;
}

/* The characters of the valid UTF-8 text s[0..n): its bytes other than
 * continuation bytes. */
static size_t utf8_chars_n(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

int json_get_str(const cJSON *obj, const char *name, int flags, size_t minlen,
		 size_t maxlen, const char **out, char *tmp, size_t tmplen, json_err *e)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	const char *s, *end;
	size_t n, chars;
	int rc;

	*out = NULL;
	rc = item_check(it, it == NULL || cJSON_IsNull(it), name, flags, cJSON_IsString,
			"a string", e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	s = it->valuestring;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n') {
			json_err_set(e, name, "%s contains a control character", name);
			return -1;
		}
	if (tmp) {
		while (*s && isspace((unsigned char)*s))
			s++;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char)end[-1]))
			end--;
		n = (size_t)(end - s);
	} else {
		n = strlen(s);
	}
	chars = utf8_chars_n(s, n);
	if (n == 0 && (flags & JSON_REQUIRED) && minlen > 0) {
		json_err_set(e, name, "%s is required", name);
		return -1;
	}
	if (chars < minlen) {
		json_err_set(e, name, "%s must be at least %zu characters", name, minlen);
		return -1;
	}
	if (chars > maxlen) {
		json_err_set(e, name, "%s must be at most %zu characters", name, maxlen);
		return -1;
	}
	if (tmp) {
		if (n + 1 > tmplen) {
			json_err_set(e, name, "%s is too long", name);
			return -1;
		}
		memcpy(tmp, s, n);
		tmp[n] = '\0';
		*out = (n == 0 && !(flags & JSON_REQUIRED)) ? NULL : tmp;
	} else {
		*out = s;
	}
	return 0;
}

int json_get_int(const cJSON *obj, const char *name, int flags, int64_t min, int64_t max,
		 int64_t *out, int *present, json_err *e)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	double d;
	int rc;

	if (present)
		*present = 0;
	rc = item_check(it, absent(it, flags) || (it && cJSON_IsNull(it) && !(flags & JSON_REQUIRED)),
			name, flags, cJSON_IsNumber, "a number", e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	d = it->valuedouble;
	if (d != (double)(int64_t)d) {
		json_err_set(e, name, "%s must be a whole number", name);
		return -1;
	}
	if (d < (double)min || d > (double)max) {
		json_err_set(e, name, "%s must be between %lld and %lld", name, (long long)min,
			     (long long)max);
		return -1;
	}
	*out = (int64_t)d;
	if (present)
		*present = 1;
	return 0;
}

int json_get_bool(const cJSON *obj, const char *name, int flags, int def, int *out,
		  json_err *e)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	int rc = item_check(it, it == NULL || cJSON_IsNull(it), name, flags, cJSON_IsBool,
			    "true or false", e);

	if (rc < 0)
		return -1;
	*out = rc > 0 ? def : cJSON_IsTrue(it);
	return 0;
}

int json_get_str_array(const cJSON *obj, const char *name, int flags, int minn, int maxn,
		       size_t maxlen, const cJSON **out, json_err *e)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name), *x;
	int n, rc;

	*out = NULL;
	rc = item_check(it, it == NULL || cJSON_IsNull(it), name, flags, cJSON_IsArray, "a list", e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	n = cJSON_GetArraySize(it);
	if (n < minn) {
		json_err_set(e, name, minn == 1 ? "choose at least one %s" : "%s needs more entries",
			     name);
		return -1;
	}
	if (n > maxn) {
		json_err_set(e, name, "%s has too many entries (at most %d)", name, maxn);
		return -1;
	}
	cJSON_ArrayForEach(x, it)
	{
		if (!cJSON_IsString(x) || x->valuestring[0] == '\0' ||
		    json_utf8_chars(x->valuestring) > maxlen) {
			json_err_set(e, name, "%s must hold non-empty strings", name);
			return -1;
		}
	}
	*out = it;
	return 0;
}

int json_only(const cJSON *obj, const char *const *allowed, json_err *e)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, obj)
	{
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (it->string && strcmp(it->string, *a) == 0)
				ok = 1;
		if (!ok) {
			json_err_set(e, it->string ? it->string : "", "unknown field '%.40s'",
				     it->string ? it->string : "");
			return -1;
		}
	}
	return 0;
}

void json_err_prefix(json_err *e, const char *prefix)
{
	char f[sizeof e->field];
	int n = snprintf(f, sizeof f, "%s%s", prefix, e->field);

	if (n > 0 && (size_t)n < sizeof f)
		memcpy(e->field, f, (size_t)n + 1);
}

cJSON *json_add_str_or_null(cJSON *obj, const char *name, const char *s)
{
	return s ? cJSON_AddStringToObject(obj, name, s) : cJSON_AddNullToObject(obj, name);
}

int json_valid_email(const char *s)
{
	const char *at = s ? strchr(s, '@') : NULL, *dot;

	if (at == NULL || at == s || strchr(at + 1, '@'))
		return -1;
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || *p == '<' || *p == '>' || *p == ',')
			return -1;
	dot = strrchr(at, '.');
	return dot && dot > at + 1 && dot[1] != '\0' ? 0 : -1;
}

int json_phone_digits(const char *s, const char *punct)
{
	int digits = 0;

	if (s == NULL)
		return -1;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (!strchr(punct, *s))
			return -1;
	}
	return digits;
}

int json_valid_date(const char *s)
{
	int y, m, d, leap;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return -1;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return -1;
	return 0;
}

/* ---- valid text (DESIGN.md, "Text is valid UTF-8 without NUL everywhere") ---- */

int json_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		unsigned c = *p;
		size_t k;
		unsigned cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if ((size_t)(end - p) <= k)
			return 0;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += k + 1;
	}
	return 1;
}

size_t json_utf8_chars(const char *s)
{
	return s ? utf8_chars_n(s, strlen(s)) : 0;
}

int json_text_invisible(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; p && *p; p++) {
		if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
			return 1; /* U+FEFF */
		if (p[0] != 0xe2 || p[1] == 0 || p[2] == 0)
			continue;
		if (p[1] == 0x80 && ((p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae)))
			return 1; /* U+200B..U+200F, U+202A..U+202E */
		if (p[1] == 0x81 && (p[2] == 0xa0 || (p[2] >= 0xa6 && p[2] <= 0xa9)))
			return 1; /* U+2060, U+2066..U+2069 */
	}
	return 0;
}

/* The code points that show nothing by themselves, in order: white space
 * of every width, controls, format and zero-width characters, combining
 * marks (drawn on the character before them: alone, on nothing), variation
 * selectors, fillers and tag characters.  The marks are those of the
 * general combining blocks and of the scripts whose marks a keyboard types
 * alone most easily (Cyrillic, Hebrew, Arabic); a label of other marks is
 * rare enough to stay a label. */
static const struct {
	unsigned lo, hi;
} text_blank[] = {
	{0x0000, 0x0020},   {0x007f, 0x00a0},   {0x00ad, 0x00ad},   {0x0300, 0x036f},
	{0x0483, 0x0489},   {0x0591, 0x05bd},   {0x05bf, 0x05bf},   {0x05c1, 0x05c2},
	{0x05c4, 0x05c5},   {0x05c7, 0x05c7},   {0x0610, 0x061a},   {0x061c, 0x061c},
	{0x064b, 0x065f},   {0x0670, 0x0670},   {0x06d6, 0x06dc},   {0x06df, 0x06e4},
	{0x06e7, 0x06e8},   {0x06ea, 0x06ed},   {0x115f, 0x1160},   {0x1680, 0x1680},
	{0x180b, 0x180f},   {0x1ab0, 0x1aff},   {0x1dc0, 0x1dff},   {0x2000, 0x200f},
	{0x2028, 0x202f},   {0x205f, 0x206f},   {0x20d0, 0x20ff},   {0x2800, 0x2800},
	{0x3000, 0x3000},   {0x3164, 0x3164},   {0xfe00, 0xfe0f},   {0xfe20, 0xfe2f},
	{0xfeff, 0xfeff},   {0xffa0, 0xffa0},   {0xfff9, 0xfffb},   {0x1d173, 0x1d17a},
	{0xe0000, 0xe007f}, {0xe0100, 0xe01ef},
};

static int text_blank_cp(unsigned cp)
{
	size_t lo = 0, hi = sizeof text_blank / sizeof text_blank[0];

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cp < text_blank[mid].lo)
			hi = mid;
		else if (cp > text_blank[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int json_text_blank(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		unsigned cp = *p;
		int k = cp < 0x80 ? 0 : cp < 0xe0 ? 1 : cp < 0xf0 ? 2 : 3;

		if (k)
			cp &= 0x3f >> k;
		for (p++; k > 0 && (*p & 0xc0) == 0x80; k--, p++)
			cp = (cp << 6) | (*p & 0x3f);
		if (!text_blank_cp(cp))
			return 0;
	}
	return 1;
}

void json_text_squeeze(char *s)
{
	char *o = s, *start = s;
	int blank = 0;

	for (; s && *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			blank = 1;
			continue;
		}
		if (blank && o != start)
			*o++ = ' ';
		blank = 0;
		*o++ = *s;
	}
	if (o)
		*o = '\0';
}

int json_text_within(const cJSON *obj, const char *k, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, k);

	return v == NULL || cJSON_IsNull(v) || (cJSON_IsString(v) && json_utf8_chars(v->valuestring) <= max);
}

size_t json_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

/* A copy of the JSON text where a NUL inside a string (the escape \u0000 or
 * a raw byte) becomes \uffff, which json_text_walk() then refuses with the
 * field's name: cJSON would otherwise cut the string short there. */
static char *mark_nuls(const char *p, size_t n, size_t *outn)
{
	char *o = malloc(n * 6 + 1);
	size_t j = 0;
	int in_str = 0;

	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (in_str && c == '\\' && i + 1 < n) {
			if (p[i + 1] == 'u' && i + 5 < n && strncmp(p + i + 2, "0000", 4) == 0) {
				memcpy(o + j, "\\uffff", 6);
				j += 6;
				i += 5;
			} else {
				o[j++] = c;
				o[j++] = p[++i];
			}
			continue;
		}
		if (c == '"')
			in_str = !in_str;
		if (in_str && c == '\0') {
			memcpy(o + j, "\\uffff", 6);
			j += 6;
			continue;
		}
		o[j++] = c;
	}
	o[j] = '\0';
	*outn = j;
	return o;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A member name twice in one object: the first would count here, and
 * another reader of the same bytes may take the last (a body that means
 * two things).  Sorted names, so a large object costs n log n.  1 with
 * *dup set, 0 none, -1 out of memory.
 */
static int dup_name(const cJSON *obj, const char **dup)
{
	const char *small[16], **names = small;
	size_t n = 0;

	*dup = NULL;
	for (const cJSON *c = obj->child; c; c = c->next)
		n++;
	if (n < 2)
		return 0;
	if (n > sizeof small / sizeof small[0] && (names = malloc(n * sizeof *names)) == NULL)
		return -1;
	n = 0;
	for (const cJSON *c = obj->child; c; c = c->next)
		names[n++] = c->string ? c->string : "";
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 1; *dup == NULL && i < n; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			*dup = names[i];
	if (names != small)
		free(names);
	return *dup != NULL;
}

static int text_walk(const cJSON *it, char *path, size_t cap, json_err *e)
{
	size_t base = strlen(path);
	const char *dup;
	int i = 0, rc;

	if (cJSON_IsObject(it) && (rc = dup_name(it, &dup)) != 0) {
		if (rc < 0)
			json_err_set(e, path, "out of memory reading the request body");
		else if (json_utf8_valid(dup, strlen(dup)) && strlen(dup) <= 64)
			json_err_set(e, path, "the member \"%s\" is given twice", dup);
		else
			json_err_set(e, path, "a member is given twice");
		return -1;
	}

	for (const cJSON *c = it->child; c; c = c->next, i++) {
		if (cJSON_IsArray(it))
			snprintf(path + base, cap - base, "[%d]", i);
		else
			snprintf(path + base, cap - base, "%s%s", base ? "." : "",
				 c->string ? c->string : "");
		if (c->string && (!json_utf8_valid(c->string, strlen(c->string)) ||
				  strstr(c->string, "\xef\xbf\xbf"))) {
			json_err_set(e, path, "a member name is not valid text");
			return -1;
		}
		if (cJSON_IsString(c) && c->valuestring) {
			if (!json_utf8_valid(c->valuestring, strlen(c->valuestring))) {
				json_err_set(e, path, "is not valid UTF-8 text");
				return -1;
			}
			if (strstr(c->valuestring, "\xef\xbf\xbf")) {
				json_err_set(e, path, "contains a NUL (or U+FFFF) character");
				return -1;
			}
		}
		if ((cJSON_IsArray(c) || cJSON_IsObject(c)) && text_walk(c, path, cap, e) != 0)
			return -1;
		path[base] = '\0';
	}
	return 0;
}

cJSON *json_parse_text(const char *p, size_t n, json_err *e)
{
	char path[64] = "";
	size_t m = 0;
	char *copy = mark_nuls(p, n, &m);
	const char *end = NULL;
	cJSON *o = copy ? cJSON_ParseWithLengthOpts(copy, m, &end, 0) : NULL;
	const char *why = NULL;

	/* One JSON value and nothing after it but white space: a body that
	 * goes on ("{...} {...}", "{...}\0...") means one thing to us and
	 * another to the next parser that reads it. */
	if (o != NULL) {
		while (end < copy + m && strchr(" \t\r\n", *end) != NULL && *end != '\0')
			end++;
		if (end != copy + m)
			why = "the request body goes on after its JSON value";
	} else if (copy != NULL) {
		why = "the request body is not valid JSON (or is nested too deeply)";
	} else {
		why = "the request body must be a JSON object"; /* out of memory */
	}
	free(copy);
	if (why != NULL) {
		cJSON_Delete(o);
		json_err_set(e, "", "%s", why);
		return NULL;
	}
	if (text_walk(o, path, sizeof path, e) != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void json_print_out(cJSON *o, int pretty)
{
	char *s = o ? (pretty ? cJSON_Print(o) : cJSON_PrintUnformatted(o)) : NULL;

	if (s)
		printf("%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
	fflush(stdout);
}
