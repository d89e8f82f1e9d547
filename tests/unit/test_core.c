/*
 * test_core.c - unit tests for lib/: buffers, UUIDv7, the hybrid logical
 * clock (including a wall clock that goes backwards), JSON validators, civil
 * date arithmetic and the configuration table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/crypto.h"
#include "lib/csv.h"
#include "lib/hlc.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include <mbedtls/sha256.h>
#include "testutil.h"

static void test_buf_max(void **state)
{
	buf b;
	int rc = 0;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345678"), 0);
	assert_int_equal(buf_putc(&b, '9'), -1); /* over the maximum */
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
	buf_reset(&b);
	buf_put_u32(&b, 0x01020304, &rc);
	buf_put_u32(&b, 0x05060708, &rc);
	assert_int_equal(rc, 0);
	buf_put_u8(&b, 9, &rc); /* sticky error from here on */
	assert_int_equal(rc, -1);
	buf_put_u8(&b, 9, &rc);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	buf_release(&b);
	buf_init(&b, 100);
	assert_int_equal(buf_put_html(&b, "<a href=\"x\">&'"), 0);
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
	buf_release(&b);
}

static void test_uuid7_order(void **state)
{
	char prev[UUID_STRLEN] = "", cur[UUID_STRLEN];

	(void)state;
	/* Many ids in the same millisecond, then an earlier millisecond: still ordered. */
	for (int i = 0; i < 5000; i++) {
		uint64_t ms = i < 4000 ? 1700000000000ULL : 1600000000000ULL;
		assert_int_equal(uuid7_at(cur, ms), 0);
		assert_int_equal(uuid_valid(cur), 0);
		assert_int_equal(cur[14], '7');                    /* version */
		assert_non_null(strchr("89ab", cur[19]));          /* variant */
		if (prev[0])
			assert_true(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof cur);
	}
	assert_int_equal(uuid7(cur), 0);
	assert_true(strcmp(prev, cur) < 0);
	assert_int_equal(uuid_valid("not-a-uuid"), -1);
	assert_int_equal(uuid_valid("0190a000-0000-7000-8000-00000000000g"), -1);
}

static uint64_t fake_now;
static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static void test_hlc_backwards_clock(void **state)
{
	hlc h;
	char a[HLC_STRLEN], b[HLC_STRLEN];
	uint64_t ms;
	uint32_t count;
	const char *node;

	(void)state;
	hlc_init(&h, "node-a", fake_clock, NULL);
	fake_now = 1000000;
	hlc_now(&h, a);
	for (int i = 0; i < 1000; i++) {
		/* The wall clock jumps back and forth; the HLC only moves forward. */
		fake_now = (i % 3 == 0) ? 1000000 - (uint64_t)i * 100 : 1000000 + (uint64_t)i;
		hlc_now(&h, b);
		assert_true(strcmp(a, b) < 0);
		memcpy(a, b, sizeof a);
	}
	assert_int_equal(hlc_parse(a, &ms, &count, &node), 0);
	assert_string_equal(node, "node-a");
	assert_true(ms >= 1000000);

	/* Observing a remote time ahead (an hour: 0x36ee80 ms) moves us past it. */
	snprintf(a, sizeof a, "%012llx.0003.node-b", (unsigned long long)(fake_now + 0x36ee80));
	assert_int_equal(hlc_observe(&h, a), 0);
	hlc_now(&h, b);
	assert_true(strcmp(a, b) < 0);
	/* More than a year ahead: left out (a hostile or broken clock's), and
	 * never wraps round; the owner's own stamp is taken however far. */
	memcpy(a, b, sizeof a);
	assert_int_equal(hlc_observe(&h, "0007ffffffff.0003.node-b"), 1);
	assert_int_equal(hlc_observe(&h, "ffffffffffff.ffff.node-b"), 1);
	hlc_now(&h, b);
	assert_true(strcmp(a, b) < 0);
	assert_true(strcmp(b, "0007ffffffff.0003.node-b") < 0);
	assert_int_equal(hlc_plausible(a, fake_now), 1);
	assert_int_equal(hlc_plausible("0007ffffffff.0003.node-b", fake_now), 0);
	assert_int_equal(hlc_plausible("garbage", fake_now), 0);
	/* a PC that ran a month ahead offline: its stamps are taken */
	snprintf(a, sizeof a, "%012llx.0000.node-c", (unsigned long long)(fake_now + 30ull * 86400000));
	assert_int_equal(hlc_plausible(a, fake_now), 1);
	assert_int_equal(hlc_resume(&h, "00000fffffff.0003.node-a"), 0);
	hlc_now(&h, b);
	assert_true(strcmp("00000fffffff.0003.node-a", b) < 0);
	assert_int_equal(hlc_resume(&h, "ffffffffffff.fffe.node-a"), 0);
	for (int i = 0; i < 3; i++) { /* full: stays at the top, never "000000000000" */
		hlc_now(&h, b);
		assert_string_equal(b, "ffffffffffff.ffff.node-a");
	}
	assert_int_equal(hlc_observe(&h, "garbage"), -1);
	assert_int_equal(hlc_parse("00000fffffff-0003.node-b", NULL, NULL, NULL), -1);

	/* Same physical and logical parts: the node id breaks the tie. */
	assert_true(strcmp("000000000001.0000.node-a", "000000000001.0000.node-b") < 0);
}

static void test_hlc_counter_overflow(void **state)
{
	hlc h;
	char a[HLC_STRLEN], b[HLC_STRLEN];

	(void)state;
	hlc_init(&h, "n", fake_clock, NULL);
	fake_now = 5000;
	hlc_now(&h, a);
	for (int i = 0; i < 70000; i++) { /* more than 16 bits of counter in one ms */
		hlc_now(&h, b);
		assert_true(strcmp(a, b) < 0);
		memcpy(a, b, sizeof a);
	}
}

static void test_json_text(void **state)
{
	static const char nul_esc[] = "{\"a\":\"x\\u0000y\"}";
	static const char nul_raw[] = "{\"visitor_name\":\"x\0y\"}";
	static const char lit[] = "{\"a\":\"x\\\\u0000y\"}"; /* backslash, then u0000 */
	json_err e;
	cJSON *o;

	(void)state;
	assert_int_equal(json_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14), 1);
	assert_int_equal(json_utf8_valid("\xc3", 1), 0);              /* truncated */
	assert_int_equal(json_utf8_valid("\xc0\xaf", 2), 0);          /* overlong */
	assert_int_equal(json_utf8_valid("\xed\xa0\x80", 3), 0);      /* surrogate */
	assert_int_equal(json_utf8_valid("\xf4\x90\x80\x80", 4), 0);  /* > U+10FFFF */
	assert_int_equal(json_utf8_valid("\xff", 1), 0);
	assert_int_equal(json_utf8_valid("a\0b", 3), 0);
	o = json_parse_text("{\"n\":{\"list\":[\"ok\",\"\xff\"]}}", 25, &e);
	assert_null(o);
	assert_string_equal(e.field, "n.list[1]");
	o = json_parse_text(nul_esc, sizeof nul_esc - 1, &e);
	assert_null(o);
	assert_string_equal(e.field, "a");
	o = json_parse_text(nul_raw, sizeof nul_raw - 1, &e);
	assert_null(o);
	assert_string_equal(e.field, "visitor_name");
	o = json_parse_text(lit, sizeof lit - 1, &e);
	assert_non_null(o);
	assert_string_equal(json_str(o, "a"), "x\\u0000y");
	cJSON_Delete(o);
	o = json_parse_text("{\"a\":\"caf\xc3\xa9\"}", 13, &e);
	assert_non_null(o);
	cJSON_Delete(o);
}

/* A member twice in one object is refused (at any depth, small or large). */
static void test_json_duplicate_members(void **state)
{
	static const char top[] = "{\"participant_id\":\"a\",\"n\":1,\"participant_id\":\"b\"}";
	static const char deep[] = "{\"x\":[{\"k\":1},{\"k\":1,\"k\":2}]}";
	static const char same_elsewhere[] = "{\"k\":1,\"o\":{\"k\":2},\"p\":[{\"k\":3}]}";
	char big[4096];
	size_t n = 0;
	json_err e;
	cJSON *o;

	(void)state;
	o = json_parse_text(top, sizeof top - 1, &e);
	assert_null(o);
	assert_string_equal(e.field, "");
	assert_non_null(strstr(e.msg, "participant_id"));
	o = json_parse_text(deep, sizeof deep - 1, &e);
	assert_null(o);
	assert_string_equal(e.field, "x[1]");
	o = json_parse_text(same_elsewhere, sizeof same_elsewhere - 1, &e);
	assert_non_null(o);
	cJSON_Delete(o);
	/* 200 members, the last repeating the first: past the small array. */
	n += (size_t)snprintf(big + n, sizeof big - n, "{");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "\"m%d\":%d,", i, i);
	n += (size_t)snprintf(big + n, sizeof big - n, "\"m0\":0}");
	o = json_parse_text(big, n, &e);
	assert_null(o);
	assert_non_null(strstr(e.msg, "\"m0\""));
	n = 0;
	n += (size_t)snprintf(big + n, sizeof big - n, "{");
	for (int i = 0; i < 201; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%s\"m%d\":%d", i ? "," : "", i, i);
	n += (size_t)snprintf(big + n, sizeof big - n, "}");
	o = json_parse_text(big, n, &e);
	assert_non_null(o);
	cJSON_Delete(o);
}

static void test_json_validators(void **state)
{
	cJSON *o = cJSON_Parse("{\"name\":\"  Ana  \",\"n\":5,\"f\":1.5,\"b\":true,"
			       "\"arr\":[\"x\",\"y\"],\"bad\":[1],\"ctl\":\"a\\u0001b\",\"nul\":null}");
	json_err e;
	const char *s;
	char tmp[16];
	int64_t v;
	int present, bv;
	const cJSON *arr;

	(void)state;
	assert_non_null(o);
	assert_int_equal(json_get_str(o, "name", JSON_REQUIRED, 1, 10, &s, tmp, sizeof tmp, &e), 0);
	assert_string_equal(s, "Ana");
	assert_int_equal(json_get_str(o, "name", JSON_REQUIRED, 1, 2, &s, tmp, sizeof tmp, &e), -1);
	assert_string_equal(e.field, "name");
	assert_int_equal(json_get_str(o, "missing", JSON_REQUIRED, 1, 2, &s, NULL, 0, &e), -1);
	assert_string_equal(e.field, "missing");
	assert_int_equal(json_get_str(o, "missing", JSON_OPTIONAL, 1, 2, &s, NULL, 0, &e), 0);
	assert_null(s);
	assert_int_equal(json_get_str(o, "n", JSON_REQUIRED, 1, 2, &s, NULL, 0, &e), -1);
	assert_int_equal(json_get_str(o, "ctl", JSON_REQUIRED, 1, 20, &s, NULL, 0, &e), -1);
	assert_int_equal(json_get_str(o, "nul", JSON_NULLABLE, 1, 20, &s, NULL, 0, &e), 0);
	assert_null(s);
	assert_int_equal(json_get_int(o, "n", JSON_REQUIRED, 0, 10, &v, &present, &e), 0);
	assert_int_equal(v, 5);
	assert_int_equal(present, 1);
	assert_int_equal(json_get_int(o, "n", JSON_REQUIRED, 6, 10, &v, &present, &e), -1);
	assert_int_equal(json_get_int(o, "f", JSON_REQUIRED, 0, 10, &v, &present, &e), -1);
	assert_int_equal(json_get_bool(o, "b", JSON_REQUIRED, 0, &bv, &e), 0);
	assert_int_equal(bv, 1);
	assert_int_equal(json_get_bool(o, "n", JSON_REQUIRED, 0, &bv, &e), -1);
	assert_int_equal(json_get_str_array(o, "arr", JSON_REQUIRED, 1, 5, 10, &arr, &e), 0);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_int_equal(json_get_str_array(o, "arr", JSON_REQUIRED, 3, 5, 10, &arr, &e), -1);
	assert_int_equal(json_get_str_array(o, "bad", JSON_REQUIRED, 1, 5, 10, &arr, &e), -1);
	static const char *const allowed[] = {"name", NULL};
	assert_int_equal(json_only(o, allowed, &e), -1);
	assert_string_equal(e.field, "n");
	cJSON_Delete(o);
}

/* Limits count characters, as the person typing does: "José" is 4, not 5. */
static void test_json_limits_count_characters(void **state)
{
	/* 120 characters of two bytes each ("é"), 121, and one of four bytes */
	char name[2 * 121 + 1], body[600], tmp[JSON_TEXT_BYTES(120)], cut[8];
	const char *s;
	const cJSON *arr;
	json_err e;
	cJSON *o;

	(void)state;
	for (int i = 0; i < 121; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[2 * 120] = '\0';
	snprintf(body, sizeof body, "{\"n\":\"%s\",\"arr\":[\"Jos\xc3\xa9\"],\"emoji\":\"\xf0\x9f\x98\x80\"}",
		 name);
	assert_non_null(o = cJSON_Parse(body));
	assert_int_equal(json_utf8_chars(name), 120);
	assert_int_equal(json_utf8_chars("\xf0\x9f\x98\x80"), 1);
	assert_int_equal(json_utf8_chars(NULL), 0);
	/* 240 bytes, 120 characters: within a limit of 120, into a buffer of
	 * JSON_TEXT_BYTES(120), and borrowed */
	assert_int_equal(json_get_str(o, "n", JSON_REQUIRED, 1, 120, &s, tmp, sizeof tmp, &e), 0);
	assert_string_equal(s, name);
	assert_int_equal(json_get_str(o, "n", JSON_REQUIRED, 1, 120, &s, NULL, 0, &e), 0);
	assert_int_equal(json_get_str(o, "n", JSON_REQUIRED, 1, 119, &s, NULL, 0, &e), -1);
	assert_string_equal(e.msg, "n must be at most 119 characters");
	assert_int_equal(json_get_str(o, "emoji", JSON_REQUIRED, 1, 1, &s, NULL, 0, &e), 0);
	assert_int_equal(json_get_str(o, "emoji", JSON_REQUIRED, 2, 9, &s, NULL, 0, &e), -1);
	assert_int_equal(json_get_str_array(o, "arr", JSON_REQUIRED, 1, 1, 4, &arr, &e), 0);
	assert_int_equal(json_get_str_array(o, "arr", JSON_REQUIRED, 1, 1, 3, &arr, &e), -1);
	cJSON_Delete(o);
	/* 121 characters are refused, with the characters named */
	memcpy(name + 2 * 120, "\xc3\xa9", 3);
	snprintf(body, sizeof body, "{\"n\":\"%s\"}", name);
	assert_non_null(o = cJSON_Parse(body));
	assert_int_equal(json_get_str(o, "n", JSON_REQUIRED, 1, 120, &s, tmp, sizeof tmp, &e), -1);
	assert_string_equal(e.msg, "n must be at most 120 characters");
	cJSON_Delete(o);
	/* a cut never splits a character */
	assert_int_equal(json_utf8_cut("ab\xc3\xa9", 4, 3), 2);
	assert_int_equal(json_utf8_cut("ab\xc3\xa9", 4, 4), 4);
	assert_int_equal(json_utf8_cut("\xf0\x9f\x98\x80x", 5, 3), 0);
	/* characters that show nothing or turn the text around */
	assert_int_equal(json_text_invisible("Job search"), 0);
	assert_int_equal(json_text_invisible("Caf\xc3\xa9 \xe2\x80\x94 ok"), 0); /* an em dash: seen */
	assert_int_equal(json_text_invisible("Job\xe2\x80\x8bsearch"), 1);      /* U+200B */
	assert_int_equal(json_text_invisible("\xe2\x80\xaeplehS"), 1);          /* U+202E */
	assert_int_equal(json_text_invisible("a\xe2\x81\xa6" "b"), 1);             /* U+2066 */
	assert_int_equal(json_text_invisible("\xef\xbb\xbfJob"), 1);            /* U+FEFF */
	assert_int_equal(json_text_invisible("\xe2"), 0);
	assert_int_equal(json_text_invisible(NULL), 0);
	/* text that shows nothing at all: Unicode spaces, lone marks, tags */
	assert_int_equal(json_text_blank("Job"), 0);
	assert_int_equal(json_text_blank("\xc2\xa0" "A"), 0);                 /* U+00A0 A */
	assert_int_equal(json_text_blank("e\xcc\x81"), 0);                    /* e U+0301 */
	assert_int_equal(json_text_blank("\xe4\xb8\xad"), 0);                /* U+4E2D */
	assert_int_equal(json_text_blank("\xe2\x80\x94"), 0);                /* U+2014, a dash */
	assert_int_equal(json_text_blank("\xf0\x9f\x98\x80"), 0);           /* U+1F600 */
	assert_int_equal(json_text_blank(""), 1);
	assert_int_equal(json_text_blank(NULL), 1);
	assert_int_equal(json_text_blank(" \t"), 1);
	assert_int_equal(json_text_blank("\xc2\xa0\xc2\xa0"), 1);            /* U+00A0 */
	assert_int_equal(json_text_blank("\xe3\x80\x80"), 1);                /* U+3000 */
	assert_int_equal(json_text_blank("\xe2\x80\x80\xe2\x80\x8a\xe2\x80\x8b"), 1); /* U+2000, 200A, 200B */
	assert_int_equal(json_text_blank("\xe2\x80\xaf\xe2\x81\x9f\xef\xbb\xbf"), 1); /* U+202F, 205F, FEFF */
	assert_int_equal(json_text_blank("\xcc\x81\xcc\x88"), 1);            /* U+0301 U+0308 */
	assert_int_equal(json_text_blank("\xc2\xa0\xcc\x81"), 1);            /* U+00A0 U+0301 */
	assert_int_equal(json_text_blank("\xf3\xa0\x80\x81\xf3\xa0\x81\xbf"), 1); /* U+E0001, U+E007F */
	assert_int_equal(json_text_blank("\xc2\x85\xc2\xad"), 1);            /* U+0085, U+00AD */
	{
		char t[] = "Job  search\t\thelp", u[] = "one";

		json_text_squeeze(t);
		json_text_squeeze(u);
		assert_string_equal(t, "Job search help");
		assert_string_equal(u, "one");
	}
	snprintf(cut, sizeof cut, "%.*s", (int)json_utf8_cut("abcd\xe2\x82\xac", 7, 6), "abcd\xe2\x82\xac");
	assert_string_equal(cut, "abcd");
	/* an error message quoting a client's text, cut to fit: whole characters */
	{
		json_err je;
		char many[400] = "";

		for (int i = 0; i < 100; i++)
			strcat(many, "\xc3\xa9");
		json_err_set(&je, "id", "unknown Local Area '%s'", many);
		assert_true(strlen(je.msg) < sizeof je.msg);
		assert_int_equal(json_utf8_valid(je.msg, strlen(je.msg)), 1);
		/* ... and quoting bytes that are no UTF-8 at all (a path's %ff%fe):
		 * each made '?', the valid characters kept */
		json_err_set(&je, "id", "no code list '%s'", "\xff\xfe\xc3\xa9\xed\xa0\x80\xc0\xafok\xe2\x82");
		assert_string_equal(je.msg, "no code list '?" "?\xc3\xa9?" "?" "?" "?" "?ok?" "?" "'");
	}
}

static void test_dates(void **state)
{
	char out[11];

	(void)state;
	assert_int_equal(json_valid_date("2024-02-29"), 0);
	assert_int_equal(json_valid_date("2023-02-29"), -1);
	assert_int_equal(json_valid_date("2023-13-01"), -1);
	assert_int_equal(json_valid_date("2023-1-01"), -1);
	assert_int_equal(clock_days_between("2024-02-28", "2024-03-01"), 2);
	assert_int_equal(clock_days_between("2024-03-01", "2024-02-28"), -2);
	assert_int_equal(clock_days_between("2023-12-31", "2024-12-31"), 366);
	assert_int_equal(clock_date_add("2024-12-30", 3, out), 0);
	assert_string_equal(out, "2025-01-02");
	assert_int_equal(clock_date_add("2024-03-10", -10, out), 0);
	assert_string_equal(out, "2024-02-29");
	assert_int_equal(clock_weekday("2026-11-22"), 0); /* a Sunday */
	assert_int_equal(clock_weekday("1970-01-01"), 4);
	assert_int_equal(clock_weekday("bad"), -1);
	assert_int_equal(clock_set_tz("America/Los_Angeles"), 0);
	clock_local_date(0, out); /* 1970-01-01T00:00Z is Dec 31 in California */
	assert_string_equal(out, "1969-12-31");
	assert_int_equal(clock_set_tz("Not/AZone"), -1);
	assert_int_equal(clock_set_tz("../../etc/passwd"), -1);
}

static const conf_entry tab[] = {
	{"listen", CONF_STR, "127.0.0.1:1", 0, 0, "x"},
	{"max_body", CONF_INT, "10", 1, 100, "y"},
	{"demo", CONF_BOOL, "yes", 0, 0, "z"},
};

static void test_conf(void **state)
{
	conf c;
	char err[200];
	char a0[] = "prog", a1[] = "--max-body", a2[] = "50", a3[] = "--other", a4[] = "--demo=no",
	     a5[] = "x";
	char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
	int argc = 6;
	char path[] = "/tmp/outpost-test-conf-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_int_equal(conf_init(&c, tab, 3), 0);
	assert_int_equal(conf_int(&c, "max_body"), 10);
	assert_int_equal(conf_load_args(&c, &argc, argv, err, sizeof err), 0);
	assert_int_equal(conf_int(&c, "max_body"), 50);
	assert_int_equal(conf_bool(&c, "demo"), 0);
	assert_int_equal(argc, 3); /* prog --other x */
	assert_string_equal(argv[1], "--other");
	assert_int_equal(conf_set(&c, "max_body", "1000", err, sizeof err), -1);
	assert_non_null(strstr(err, "outside"));
	assert_int_equal(conf_set(&c, "max_body", "abc", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "nope", "1", err, sizeof err), -1);
	f = fdopen(fd, "w");
	fprintf(f, "# comment\nlisten = 0.0.0.0:9\n\nmax_body=77\n");
	fclose(f);
	assert_int_equal(conf_load_file(&c, path, 1, err, sizeof err), 0);
	assert_string_equal(conf_str(&c, "listen"), "0.0.0.0:9");
	assert_int_equal(conf_int(&c, "max_body"), 77);
	f = fopen(path, "w");
	fprintf(f, "bogus line\n");
	fclose(f);
	assert_int_equal(conf_load_file(&c, path, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, ":1:"));
	unlink(path);
	assert_int_equal(conf_load_file(&c, path, 0, err, sizeof err), 0);
	assert_int_equal(conf_load_file(&c, path, 1, err, sizeof err), -1);
	setenv("TESTP_MAX_BODY", "33", 1);
	assert_int_equal(conf_load_env(&c, "TESTP", err, sizeof err), 0);
	assert_int_equal(conf_int(&c, "max_body"), 33);
	/* A bad value from the environment names the variable it came from. */
	setenv("TESTP_MAX_BODY", "x", 1);
	assert_int_equal(conf_load_env(&c, "TESTP", err, sizeof err), -1);
	assert_string_equal(err, "TESTP_MAX_BODY: 'x' is not a whole number");
	unsetenv("TESTP_MAX_BODY");
	/* A flag without its value is a usage error, told apart (-2). */
	{
		char b0[] = "prog", b1[] = "--listen";
		char *bv[] = {b0, b1, NULL};
		int bc = 2;
		assert_int_equal(conf_load_args(&c, &bc, bv, err, sizeof err), -2);
		assert_string_equal(err, "--listen needs a value");
	}
	conf_release(&c);
}

static int csv_rows;
static char csv_seen[4][64];
static int csv_cb(int line, int nf, char **f, void *arg)
{
	(void)arg;
	if (csv_rows < 4)
		snprintf(csv_seen[csv_rows], sizeof csv_seen[0], "%d:%d:%s|%s", line, nf, f[0],
			 nf > 1 ? f[1] : "");
	csv_rows++;
	return 0;
}

static void test_csv(void **state)
{
	const char *d = "code,title\r\nE01,\"Labor, \"\"cert\"\"\"\nE02,plain\n\n";
	char dir[512];

	(void)state;
	assert_int_equal(csv_read_buf(d, strlen(d), csv_cb, NULL), 0);
	assert_int_equal(csv_rows, 3);
	assert_string_equal(csv_seen[0], "1:2:code|title");
	assert_string_equal(csv_seen[1], "2:2:E01|Labor, \"cert\"");
	assert_string_equal(csv_seen[2], "3:2:E02|plain");
	setenv("OUTPOST_SEED_DIR", "/tmp", 1);
	assert_int_equal(csv_seed_dir(dir, sizeof dir), 0);
	assert_string_equal(dir, "/tmp");
	unsetenv("OUTPOST_SEED_DIR");
}

/* The one CSV field writer: quoting, formula neutralising, and a full
 * buffer that sticks (a report is never a silently short 200). */
static void test_csv_write(void **state)
{
	buf b = BUF_INIT(64);

	(void)state;
	csv_put_field(&b, "a \"quoted\" one", 0);
	csv_put_field(&b, "=HYPERLINK(1)", 0);
	csv_put_field(&b, NULL, 0);
	csv_put_int(&b, 42, 1);
	assert_string_equal(b.data, "\"a \"\"quoted\"\" one\",\"'=HYPERLINK(1)\",\"\",\"42\"\r\n");
	/* a negative number stays a number; anything more after a '-' does not */
	buf_reset(&b);
	csv_put_int(&b, -5, 0);
	csv_put_field(&b, "-0.25", 0);
	csv_put_field(&b, "-1+2", 0);
	csv_put_field(&b, "-", 0);
	csv_put_field(&b, "-3.", 1);
	assert_string_equal(b.data, "\"-5\",\"-0.25\",\"'-1+2\",\"'-\",\"'-3.\"\r\n");
	assert_false(buf_failed(&b));
	for (int i = 0; i < 10; i++)
		csv_put_field(&b, "0123456789", 0);
	assert_true(buf_failed(&b));
	assert_true(b.len <= 64);
	assert_int_equal(buf_puts(&b, "x"), -1); /* stays failed, unchanged */
	assert_true(buf_failed(&b));
	buf_reset(&b);
	assert_false(buf_failed(&b));
	buf_release(&b);
}

/* The one hex codec of the tree. */
static void test_hex(void **state)
{
	unsigned char in[4] = {0x00, 0x9f, 0xa0, 0xff}, out[4];
	char hx[9];

	(void)state;
	crypto_hex(in, sizeof in, hx);
	assert_string_equal(hx, "009fa0ff");
	assert_int_equal(crypto_unhex("009FA0ff", out, sizeof out), 0);
	assert_memory_equal(in, out, sizeof in);
	assert_int_equal(crypto_unhex("009fa0f", out, sizeof out), -1);
	assert_int_equal(crypto_unhex("009fa0fg", out, sizeof out), -1);
	assert_true(crypto_is_hex("0a9F", 4));
	assert_false(crypto_is_hex("0a9F", 3));
	assert_false(crypto_is_hex("0a9G", 4));
	assert_int_equal(crypto_hexval('F'), 15);
	assert_int_equal(crypto_hexval('g'), -1);
	assert_int_equal(crypto_ct_cmp("abc", "abc", 3), 0);
	assert_int_not_equal(crypto_ct_cmp("abc", "abd", 3), 0);
}

/* crypto_sha256 (the SHA extensions where the CPU has them) gives mbedTLS's
 * digest for every length around the block and padding edges, for long
 * inputs and unaligned ones, and the known digest of "abc". */
static void test_sha256(void **state)
{
	static unsigned char data[70000];
	unsigned char a[32], b[32];
	char hx[65];

	(void)state;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 131 + (i >> 7));
	assert_int_equal(crypto_sha256("abc", 3, a), 0);
	crypto_hex(a, sizeof a, hx);
	assert_string_equal(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	for (size_t n = 0; n < 300; n++) {
		assert_int_equal(crypto_sha256(data + (n & 7), n, a), 0);
		assert_int_equal(mbedtls_sha256_ret(data + (n & 7), n, b, 0), 0);
		assert_memory_equal(a, b, sizeof a);
	}
	for (size_t n = 60000; n < sizeof data - 8; n += 997) {
		assert_int_equal(crypto_sha256(data + 3, n, a), 0);
		assert_int_equal(mbedtls_sha256_ret(data + 3, n, b, 0), 0);
		assert_memory_equal(a, b, sizeof a);
	}
}

/* A log record and an error line stay one line, and say no control byte
 * to the terminal (a bundle's node id, a file name, a request's path). */
static void test_log_one_line(void **state)
{
	char path[] = "/tmp/outpost-test-log-XXXXXX", got[512], line[64];
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	size_t n;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	log_info("id %s end", "a\x1b[32mgreen\r\nfake\tline\x7f\xc3\xa9");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(got, 1, sizeof got - 1, f);
	fclose(f);
	close(fd);
	unlink(path);
	got[n] = '\0';
	assert_non_null(strstr(got, "id a?[32mgreen  fake line?\xc3\xa9 end\n"));
	assert_ptr_equal(strchr(got, '\n'), got + n - 1); /* one line */
	fmt_line(line, sizeof line, "x\x1b\ty\nz");
	assert_string_equal(line, "x? y z");
}

TU_MAIN(cmocka_unit_test(test_buf_max),
	cmocka_unit_test(test_log_one_line),
	cmocka_unit_test(test_sha256),
	cmocka_unit_test(test_uuid7_order),
	cmocka_unit_test(test_hlc_backwards_clock),
	cmocka_unit_test(test_hlc_counter_overflow),
	cmocka_unit_test(test_json_validators),
	cmocka_unit_test(test_json_limits_count_characters),
	cmocka_unit_test(test_json_text),
	cmocka_unit_test(test_json_duplicate_members),
	cmocka_unit_test(test_dates),
	cmocka_unit_test(test_conf),
	cmocka_unit_test(test_csv),
	cmocka_unit_test(test_csv_write),
	cmocka_unit_test(test_hex))
