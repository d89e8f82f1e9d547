/*
 * upload.h - what node and hub check about a file that staff upload (the
 * attachments of a lead at the office node, the signed account forms at the
 * hub): what the bytes are, judged by their magic bytes and structure and
 * never by the declared type alone; whether the declared type agrees; and a
 * file name that is safe to store, to replicate and to send back in a
 * Content-Disposition header.
 *
 * Types recognised (upload_sniff):
 *   PDF   "%PDF-" at offset 0
 *   PNG   the 8-byte PNG signature
 *   JPEG  FF D8 FF
 *   DOCX  a ZIP whose central directory names [Content_Types].xml and
 *   XLSX  word/document.xml (DOCX) or xl/workbook.xml (XLSX), and no
 *         vbaProject.bin (macro-enabled documents are refused)
 *   TEXT  UTF-8 without NUL or control characters other than tab, line
 *         feed, carriage return and form feed, whose first non-blank
 *         character is not '<' (HTML, SVG and XML are never text here)
 * Anything else is UPLOAD_UNKNOWN: HTML, SVG, scripts, executables, other
 * archives, empty input.  Files are only ever served as attachments with
 * nosniff, but an upload that is not one of these types is refused anyway.
 *
 * Pure functions over memory; thread-safe; nothing here logs.
 */
#ifndef OUTPOST_UPLOAD_H
#define OUTPOST_UPLOAD_H

#include <stddef.h>

typedef enum upload_type {
	UPLOAD_UNKNOWN = 0,
	UPLOAD_PDF = 1 << 0,
	UPLOAD_PNG = 1 << 1,
	UPLOAD_JPEG = 1 << 2,
	UPLOAD_DOCX = 1 << 3,
	UPLOAD_XLSX = 1 << 4,
	UPLOAD_TEXT = 1 << 5,
} upload_type;

/* The longest file name kept, in bytes (UTF-8), extension included. */
#define UPLOAD_NAME_MAX 120

/* What the bytes are, or UPLOAD_UNKNOWN. */
upload_type upload_sniff(const void *data, size_t n);
/* The canonical MIME type of t ("application/pdf", ..., "text/plain"), or
 * NULL for UPLOAD_UNKNOWN.  Static string. */
const char *upload_mime(upload_type t);
/* The type a declared Content-Type names: parameters, white space and case
 * ignored; "text/csv" counts as text.  UPLOAD_UNKNOWN when none (NULL too). */
upload_type upload_type_of_mime(const char *content_type);
/* Names of the allowed types for a message: "PDF, PNG or JPEG". */
void upload_describe(unsigned allowed, char *out, size_t n);

/* upload_check() results. */
#define UPLOAD_E_TYPE (-1)    /* declared type missing or not one of allowed */
#define UPLOAD_E_CONTENT (-2) /* the bytes are not the declared type */

/*
 * The check an upload route makes: the declared Content-Type must name one of
 * the `allowed` types (a mask of upload_type bits) and the bytes must be of
 * that type.  Returns 0 with *type set (may be NULL), or UPLOAD_E_TYPE or
 * UPLOAD_E_CONTENT.
 */
int upload_check(const char *declared, const void *data, size_t n, unsigned allowed,
		 upload_type *type);

/*
 * A file name made safe, into out (n bytes, at least UPLOAD_NAME_MAX + 1):
 * only the last path component is kept; control characters, invalid UTF-8,
 * the characters " \ / : * ? < > | ; and the Unicode controls that reorder
 * text (U+202A..U+202E, U+2066..U+2069, which can disguise an extension)
 * become '_'; leading dots and blanks and trailing dots and blanks go; the
 * name is cut to UPLOAD_NAME_MAX bytes on a character boundary, keeping its
 * extension.  When t is not UPLOAD_UNKNOWN and the extension is not one of
 * t's (".pdf"; ".png"; ".jpg", ".jpeg"; ".docx"; ".xlsx"; ".txt", ".csv",
 * any case), t's own extension is appended, so a saved copy never opens as
 * another kind of file.  The result of a result is itself.  Returns 0, or -1
 * when nothing of the name is left or out is too small.
 */
int upload_filename(const char *in, upload_type t, char *out, size_t n);
/* 1 when name is already what upload_filename(name, t) makes of it. */
int upload_filename_ok(const char *name, upload_type t);
/*
 * A Content-Disposition value for downloading a file under name (a result of
 * upload_filename): attachment; filename="ASCII fallback";
 * filename*=UTF-8''percent-encoded.  0, or -1 when out is too small.
 */
int upload_disposition(const char *name, char *out, size_t n);
/*
 * The headers of a stored file sent back under name (an employer's
 * attachment, a signed account form): Content-Disposition attachment
 * (upload_disposition), a sandbox CSP (a file that passed for a PDF never
 * runs as a page of the origin) and Cache-Control: private, no-store
 * (never kept on the disk of a shared office PC).  0, or -1 when name
 * cannot be written so (nothing added: refuse the answer).
 */
struct http_req;
int upload_download_headers(struct http_req *req, const char *name);

#endif
