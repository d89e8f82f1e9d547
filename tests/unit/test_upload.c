/*
 * test_upload.c - lib/upload.c: what uploaded bytes are (PDF, PNG, JPEG,
 * DOCX and XLSX by their ZIP directory, UTF-8 text) and what they are not
 * (HTML, SVG, XML, a ZIP that is no Office document or carries macros, a
 * truncated or lying ZIP, UTF-16, bytes that are not UTF-8); the declared
 * type check; safe file names (paths, controls, reordering characters,
 * dots, the type's extension, cutting on a character boundary, a result
 * left as it is); the Content-Disposition of a download.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/upload.h"
#include "testutil.h"

/* ---- a small ZIP writer: stored entries, empty contents --------------------- */

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, unsigned long v)
{
	put16(p, (unsigned)(v & 0xffff));
	put16(p + 2, (unsigned)(v >> 16));
}

/* A ZIP holding the named (empty) files; returns its length in out. */
static size_t zip_of(const char *const *names, unsigned char *out, size_t cap)
{
	size_t off = 0, cd, offs[16];
	int n = 0;

	for (; names[n]; n++) {
		size_t nl = strlen(names[n]);
		assert_true(off + 30 + nl < cap);
		offs[n] = off;
		memset(out + off, 0, 30);
		memcpy(out + off, "PK\x03\x04", 4);
		put16(out + off + 4, 20);
		put16(out + off + 26, (unsigned)nl);
		memcpy(out + off + 30, names[n], nl);
		off += 30 + nl;
	}
	cd = off;
	for (int i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);
		assert_true(off + 46 + nl < cap);
		memset(out + off, 0, 46);
		memcpy(out + off, "PK\x01\x02", 4);
		put16(out + off + 4, 20);
		put16(out + off + 6, 20);
		put16(out + off + 28, (unsigned)nl);
		put32(out + off + 42, (unsigned long)offs[i]);
		memcpy(out + off + 46, names[i], nl);
		off += 46 + nl;
	}
	assert_true(off + 22 <= cap);
	memset(out + off, 0, 22);
	memcpy(out + off, "PK\x05\x06", 4);
	put16(out + off + 8, (unsigned)n);
	put16(out + off + 10, (unsigned)n);
	put32(out + off + 12, (unsigned long)(off - cd));
	put32(out + off + 16, (unsigned long)cd);
	return off + 22;
}

static upload_type sniffs(const char *s) { return upload_sniff(s, strlen(s)); }

static void test_sniff(void **state)
{
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
	static const unsigned char jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F'};
	static const unsigned char utf16[] = {0xff, 0xfe, 'h', 0, 'i', 0};
	const char *docx[] = {"[Content_Types].xml", "_rels/.rels", "word/document.xml", NULL};
	const char *xlsx[] = {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", NULL};
	const char *docm[] = {"[Content_Types].xml", "word/document.xml", "word/vbaProject.bin", NULL};
	const char *plain_zip[] = {"readme.txt", "index.html", NULL};
	const char *both[] = {"[Content_Types].xml", "word/document.xml", "xl/workbook.xml", NULL};
	unsigned char z[4096];
	size_t n;

	(void)state;
	assert_int_equal(sniffs("%PDF-1.7\n..."), UPLOAD_PDF);
	assert_int_equal(upload_sniff(png, sizeof png), UPLOAD_PNG);
	assert_int_equal(upload_sniff(jpeg, sizeof jpeg), UPLOAD_JPEG);
	n = zip_of(docx, z, sizeof z);
	assert_int_equal(upload_sniff(z, n), UPLOAD_DOCX);
	/* a ZIP cut short, or with its directory pointing past itself, is nothing */
	assert_int_equal(upload_sniff(z, n - 1), UPLOAD_UNKNOWN);
	z[n - 3] = 0x7f; /* central directory offset, high byte */
	assert_int_equal(upload_sniff(z, n), UPLOAD_UNKNOWN);
	n = zip_of(xlsx, z, sizeof z);
	assert_int_equal(upload_sniff(z, n), UPLOAD_XLSX);
	n = zip_of(docm, z, sizeof z);
	assert_int_equal(upload_sniff(z, n), UPLOAD_UNKNOWN); /* macros */
	n = zip_of(plain_zip, z, sizeof z);
	assert_int_equal(upload_sniff(z, n), UPLOAD_UNKNOWN);
	n = zip_of(both, z, sizeof z);
	assert_int_equal(upload_sniff(z, n), UPLOAD_UNKNOWN);
	/* text */
	assert_int_equal(sniffs("Hours: 9-5\r\nAsk for Dana\tat the desk\n"), UPLOAD_TEXT);
	assert_int_equal(sniffs("\xef\xbb\xbfname,zip\nAcme,95814\n"), UPLOAD_TEXT);
	assert_int_equal(sniffs("Caf\xc3\xa9 Ni\xc3\xb1o, 5 < 6\n"), UPLOAD_TEXT);
	/* markup is never text, however it is dressed */
	assert_int_equal(sniffs("<!doctype html><script>alert(1)</script>"), UPLOAD_UNKNOWN);
	assert_int_equal(sniffs("  \n<svg xmlns='http://www.w3.org/2000/svg' onload='x()'/>"),
			 UPLOAD_UNKNOWN);
	assert_int_equal(sniffs("\xef\xbb\xbf<?xml version='1.0'?><a/>"), UPLOAD_UNKNOWN);
	/* not UTF-8, controls, NUL, UTF-16, empty */
	assert_int_equal(sniffs("caf\xe9\n"), UPLOAD_UNKNOWN);
	assert_int_equal(sniffs("over\xc0\xaflong"), UPLOAD_UNKNOWN);
	assert_int_equal(sniffs("surrogate \xed\xa0\x80"), UPLOAD_UNKNOWN);
	assert_int_equal(sniffs("bell\x07"), UPLOAD_UNKNOWN);
	assert_int_equal(upload_sniff("a\0b", 3), UPLOAD_UNKNOWN);
	assert_int_equal(upload_sniff(utf16, sizeof utf16), UPLOAD_UNKNOWN);
	assert_int_equal(upload_sniff("", 0), UPLOAD_UNKNOWN);
	assert_int_equal(upload_sniff(NULL, 5), UPLOAD_UNKNOWN);
	assert_int_equal(sniffs("   \n\t"), UPLOAD_UNKNOWN);
	assert_int_equal(sniffs("MZ\x90"), UPLOAD_UNKNOWN);
	assert_int_equal(sniffs("%PDF"), UPLOAD_TEXT); /* too short for the magic: just text */
}

static void test_check_and_mime(void **state)
{
	const unsigned allowed = UPLOAD_PDF | UPLOAD_PNG | UPLOAD_JPEG;
	static const char pdf[] = "%PDF-1.4 x";
	static const char html[] = "<html><body>hi</body></html>";
	upload_type t;
	char d[120];

	(void)state;
	assert_int_equal(upload_check("application/pdf", pdf, sizeof pdf - 1, allowed, &t), 0);
	assert_int_equal(t, UPLOAD_PDF);
	assert_int_equal(upload_check("Application/PDF; name=x", pdf, sizeof pdf - 1, allowed, &t), 0);
	/* HTML sent as a PDF: the bytes decide */
	assert_int_equal(upload_check("application/pdf", html, sizeof html - 1, allowed, &t),
			 UPLOAD_E_CONTENT);
	assert_int_equal(t, UPLOAD_UNKNOWN);
	/* a PDF sent as a PNG is refused too */
	assert_int_equal(upload_check("image/png", pdf, sizeof pdf - 1, allowed, &t), UPLOAD_E_CONTENT);
	assert_int_equal(upload_check("text/html", html, sizeof html - 1, allowed, &t), UPLOAD_E_TYPE);
	assert_int_equal(upload_check("text/plain", "hi", 2, allowed, &t), UPLOAD_E_TYPE);
	assert_int_equal(upload_check(NULL, pdf, sizeof pdf - 1, allowed, &t), UPLOAD_E_TYPE);
	assert_int_equal(upload_check("", pdf, sizeof pdf - 1, allowed, NULL), UPLOAD_E_TYPE);
	assert_int_equal(upload_type_of_mime("text/csv; charset=utf-8"), UPLOAD_TEXT);
	assert_int_equal(upload_type_of_mime("image/svg+xml"), UPLOAD_UNKNOWN);
	assert_int_equal(upload_type_of_mime("application/pdfx"), UPLOAD_UNKNOWN);
	assert_string_equal(upload_mime(UPLOAD_JPEG), "image/jpeg");
	assert_string_equal(upload_mime(UPLOAD_TEXT), "text/plain");
	assert_null(upload_mime(UPLOAD_UNKNOWN));
	upload_describe(allowed, d, sizeof d);
	assert_string_equal(d, "PDF, PNG or JPEG");
	upload_describe(UPLOAD_PDF, d, sizeof d);
	assert_string_equal(d, "PDF");
}

static const char *fname(const char *in, upload_type t)
{
	static char out[UPLOAD_NAME_MAX + 1];

	if (upload_filename(in, t, out, sizeof out) != 0)
		return NULL;
	assert_true(upload_filename_ok(out, t)); /* a result is left as it is */
	return out;
}

static void test_filenames(void **state)
{
	char longname[400], out[UPLOAD_NAME_MAX + 1];
	const char *r;

	(void)state;
	assert_string_equal(fname("Signed agreement.pdf", UPLOAD_PDF), "Signed agreement.pdf");
	assert_string_equal(fname("Signed agreement", UPLOAD_PDF), "Signed agreement.pdf");
	assert_string_equal(fname("SCAN.JPEG", UPLOAD_JPEG), "SCAN.JPEG");
	assert_string_equal(fname("list.csv", UPLOAD_TEXT), "list.csv");
	/* another kind of file's extension never stays last */
	assert_string_equal(fname("invoice.html", UPLOAD_PDF), "invoice.html.pdf");
	assert_string_equal(fname("run.exe", UPLOAD_TEXT), "run.exe.txt");
	/* paths, controls, quotes and the characters Windows refuses */
	assert_string_equal(fname("../../etc/passwd.txt", UPLOAD_TEXT), "passwd.txt");
	assert_string_equal(fname("C:\\Users\\dana\\form.pdf", UPLOAD_PDF), "form.pdf");
	assert_string_equal(fname("a\"b;c<d>e|f*g?h:i.pdf", UPLOAD_PDF), "a_b_c_d_e_f_g_h_i.pdf");
	assert_string_equal(fname("tab\there\r\n.pdf", UPLOAD_PDF), "tab_here__.pdf");
	/* U+202E (right-to-left override) would show "invoice\u202Efdp.exe" as
	 * "invoiceexe.pdf" */
	assert_string_equal(fname("invoice\xe2\x80\xae" "fdp.exe", UPLOAD_UNKNOWN), "invoice_fdp.exe");
	assert_string_equal(fname("caf\xe9.pdf", UPLOAD_PDF), "caf_.pdf"); /* not UTF-8 */
	assert_string_equal(fname("Caf\xc3\xa9 menu.pdf", UPLOAD_PDF), "Caf\xc3\xa9 menu.pdf");
	/* hidden files, trailing dots and blanks */
	assert_string_equal(fname("..hidden.pdf", UPLOAD_PDF), "hidden.pdf");
	assert_string_equal(fname(" report.pdf. . ", UPLOAD_PDF), "report.pdf");
	assert_string_equal(fname(".pdf", UPLOAD_PDF), "pdf.pdf");
	assert_null(fname("...", UPLOAD_PDF));
	assert_null(fname("dir/", UPLOAD_PDF));
	assert_null(fname("", UPLOAD_PDF));
	/* long names: cut to the limit, the extension kept, never half a character */
	memset(longname, 'a', 300);
	strcpy(longname + 300, ".docx");
	r = fname(longname, UPLOAD_DOCX);
	assert_int_equal(strlen(r), UPLOAD_NAME_MAX);
	assert_string_equal(r + UPLOAD_NAME_MAX - 5, ".docx");
	for (int i = 0; i < 100; i++)
		memcpy(longname + 3 * i, "\xe2\x82\xac", 3); /* euro signs */
	strcpy(longname + 300, " end");
	r = fname(longname, UPLOAD_TEXT);
	assert_true(strlen(r) <= UPLOAD_NAME_MAX);
	assert_string_equal(r + strlen(r) - 4, ".txt");
	assert_int_equal((strlen(r) - 4) % 3, 0); /* whole euro signs only */
	memset(longname, 'b', 300);
	longname[UPLOAD_NAME_MAX - 1] = ' ';
	longname[300] = '\0';
	r = fname(longname, UPLOAD_UNKNOWN); /* no extension: the cut leaves no blank */
	assert_int_equal(strlen(r), UPLOAD_NAME_MAX - 1);
	/* too small an output buffer */
	assert_int_equal(upload_filename("a.pdf", UPLOAD_PDF, out, 10), -1);
	/* the check the hub makes of a replicated name */
	assert_true(upload_filename_ok("Signed agreement.pdf", UPLOAD_PDF));
	assert_false(upload_filename_ok("Signed agreement.html", UPLOAD_PDF));
	assert_false(upload_filename_ok("../x.pdf", UPLOAD_PDF));
	assert_false(upload_filename_ok("x\".pdf", UPLOAD_PDF));
	assert_false(upload_filename_ok(NULL, UPLOAD_PDF));
}

static void test_disposition(void **state)
{
	char d[640];

	(void)state;
	assert_int_equal(upload_disposition("Signed agreement.pdf", d, sizeof d), 0);
	assert_string_equal(d, "attachment; filename=\"Signed agreement.pdf\"; "
			       "filename*=UTF-8''Signed%20agreement.pdf");
	assert_int_equal(upload_disposition("Caf\xc3\xa9 (1).pdf", d, sizeof d), 0);
	assert_string_equal(d, "attachment; filename=\"Caf__ (1).pdf\"; "
			       "filename*=UTF-8''Caf%C3%A9%20%281%29.pdf");
	assert_int_equal(upload_disposition("x.pdf", d, 20), -1);
}

TU_MAIN(cmocka_unit_test(test_sniff),
	cmocka_unit_test(test_check_and_mime),
	cmocka_unit_test(test_filenames),
	cmocka_unit_test(test_disposition))
