/*
 * json.h - typed getters and field validation over cJSON for API bodies.
 *
 * The validators fill a json_err with the offending field and a message meant
 * for the person who typed it, so an API can answer
 * {"error": "...", "field": "..."} with no further work.
 */
#ifndef OUTPOST_JSON_H
#define OUTPOST_JSON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* An error message a reply carries is whole up to this many bytes (a
 * refusal that names many nodes); past it, it is cut on a character
 * boundary with a visible "\u2026" (json_vformat_alloc).  A json_err's own
 * msg is short: it lives on the stack of every request (route_call holds
 * seventeen), and a route keeps a longer one whole beside it. */
#define JSON_MSG_MAX 8192

typedef struct json_err {
	char field[64];
	char msg[200];
} json_err;

enum {
	JSON_OPTIONAL = 0,
	JSON_REQUIRED = 1,
	JSON_NULLABLE = 2, /* an explicit null is accepted as "absent" */
};

/* Borrowed string member or NULL (absent, null or not a string). */
const char *json_str(const cJSON *obj, const char *name);

/*
 * String field: absent/null -> *out = NULL (error when JSON_REQUIRED).
 * Leading/trailing white space is trimmed into the caller's buffer `tmp`
 * (size tmplen, at least JSON_TEXT_BYTES(maxlen) so that every value within
 * the limit fits) when tmp != NULL; otherwise *out borrows from obj.
 * minlen and maxlen count characters (code points: "José" is 4), after
 * trimming, as the person typing counts them and as SQLite's length() does;
 * control characters other than tab/newline are refused.  Returns 0 or -1
 * with *e filled.
 */
int json_get_str(const cJSON *obj, const char *name, int flags, size_t minlen,
		 size_t maxlen, const char **out, char *tmp, size_t tmplen, json_err *e);
/* Integer field within [min, max]; absent -> *present = 0 (error if required). */
int json_get_int(const cJSON *obj, const char *name, int flags, int64_t min, int64_t max,
		 int64_t *out, int *present, json_err *e);
/* Boolean field; absent -> def. */
int json_get_bool(const cJSON *obj, const char *name, int flags, int def, int *out,
		  json_err *e);
/* Array of strings (each 1..maxlen characters), count in [minn, maxn]. *out borrowed. */
int json_get_str_array(const cJSON *obj, const char *name, int flags, int minn, int maxn,
		       size_t maxlen, const cJSON **out, json_err *e);
/* Refuse members not listed in allowed (NULL-terminated).  -1 with *e filled. */
int json_only(const cJSON *obj, const char *const *allowed, json_err *e);

void json_err_set(json_err *e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Name a nested member's error from its parent: field becomes prefix field
 * ("approval." + "wdb_director"); left as it is when that would not fit. */
void json_err_prefix(json_err *e, const char *prefix);

/* Add s as a string member of obj, or null when s is NULL.  The added item,
 * or NULL when out of memory (callers answer 500; nothing aborts). */
cJSON *json_add_str_or_null(cJSON *obj, const char *name, const char *s);
/* o as JSON text and a newline on stdout (pretty: indented, else one line),
 * flushed; o is freed (NULL prints nothing).  For the command lines. */
void json_print_out(cJSON *o, int pretty);

/* 1 when s[0..n) is valid UTF-8 (shortest forms, no surrogates, at most
 * U+10FFFF) without NUL; 0 otherwise. */
int json_utf8_valid(const char *s, size_t n);
/* The characters (code points) of the valid UTF-8 text s: its bytes other
 * than continuation bytes.  0 for NULL. */
size_t json_utf8_chars(const char *s);
/* 1 when the valid UTF-8 text s holds a character that shows nothing or
 * turns the text around: zero-width spaces and joiners (U+200B..U+200F,
 * U+2060), the byte-order mark (U+FEFF), bidirectional controls
 * (U+202A..U+202E, U+2066..U+2069).  A label with one looks like another
 * label, or like none.  0 otherwise (and for NULL). */
int json_text_invisible(const char *s);
/* 1 when the valid UTF-8 text s shows nothing: it is empty, or every
 * character is white space (a non-breaking, ideographic or other Unicode
 * space too), a control, a zero-width or format character, a combining
 * mark with nothing to sit on, or a tag character.  A label needs one
 * character that shows.  1 for NULL. */
int json_text_blank(const char *s);
/* Every run of white space in s made one space, in place (s trimmed
 * already): "Job  Search\tHelp" is "Job Search Help". */
void json_text_squeeze(char *s);
/* 1 when member k of obj is absent or null, or text of at most max
 * characters (a row's length rule at the hub); else 0. */
int json_text_within(const cJSON *obj, const char *k, size_t max);
/* The byte length of s[0..len) cut to at most max bytes on a character
 * boundary (s valid UTF-8): a shortened name is never broken text. */
size_t json_utf8_cut(const char *s, size_t len, size_t max);
/* vsnprintf into out (size n), any byte of invalid UTF-8 made '?', cut on
 * a character boundary: a message that quotes a client's text, cut to fit,
 * is never broken UTF-8 (a JSON reply would carry it). */
void json_vformat(char *out, size_t n, const char *fmt, va_list ap);
/* The same into a buffer of its own (malloc'd, the caller frees), as long
 * as the message is: one past max bytes is cut on a character boundary and
 * ends with a visible "\u2026" (never more than max + 4 bytes).  NULL when
 * out of memory (ap is then still unread). */
char *json_vformat_alloc(size_t max, const char *fmt, va_list ap);
/* Bytes that hold any text of at most n characters and its NUL (UTF-8
 * takes at most 4 bytes a character). */
#define JSON_TEXT_BYTES(n) (4 * (size_t)(n) + 1)
/*
 * Parse a request body: NULL when it is not JSON, or when any string in it
 * (member names too) is not valid UTF-8 or holds a NUL (escaped or raw; also
 * U+FFFF), with *e naming the field ("services[0].name") and why.  The
 * caller owns the result.
 */
cJSON *json_parse_text(const char *p, size_t n, json_err *e);

/* Date "YYYY-MM-DD": 0 when well-formed and a real calendar date. */
int json_valid_date(const char *s);
/* An email address: one '@' with text before it, a dot with text on both
 * sides after it, no white space, '<', '>' or ','.  0, or -1 (NULL too). */
int json_valid_email(const char *s);
/* The number of digits in the phone number s when each other character is
 * one of punct, else -1 (NULL too). */
int json_phone_digits(const char *s, const char *punct);

#endif
