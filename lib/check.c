/*
 * check.c - the health report behind `outpost-node check` and
 * `outpost-hub check`; see check.h.
 */
#include "lib/check.h"
#include "lib/json.h"
#include "lib/tls_ca.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

static const char *const level_names[] = {"ok", "warn", "fail", "unreadable"};

int check_init(check_report *r)
{
	r->cr_worst = CHECK_OK;
	r->cr_items = cJSON_CreateArray();
	return r->cr_items ? 0 : -1;
}

void check_add(check_report *r, const char *name, int level, const char *fmt, ...)
{
	char detail[512];
	cJSON *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (level > r->cr_worst)
		r->cr_worst = level;
	o = cJSON_CreateObject();
	if (o == NULL)
		return;
	cJSON_AddStringToObject(o, "check", name);
	cJSON_AddStringToObject(o, "status", level_names[level]);
	cJSON_AddStringToObject(o, "detail", detail);
	cJSON_AddItemToArray(r->cr_items, o);
}

int check_finish(check_report *r, const char *prog, int json)
{
	int code = r->cr_worst;
	const cJSON *it;

	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", code == CHECK_OK);
		cJSON_AddStringToObject(o, "status", level_names[code]);
		cJSON_AddNumberToObject(o, "exit_code", code);
		cJSON_AddItemToObject(o, "checks", r->cr_items);
		r->cr_items = NULL;
		json_print_out(o, 1);
	} else {
		cJSON_ArrayForEach(it, r->cr_items)
		{
			const char *st = cJSON_GetObjectItem(it, "status")->valuestring;
			printf("%-10s %-14s %s\n", strcmp(st, "ok") == 0 ? "ok" : st,
			       cJSON_GetObjectItem(it, "check")->valuestring,
			       cJSON_GetObjectItem(it, "detail")->valuestring);
		}
		printf("%s check: %s (exit %d)\n", prog, level_names[code], code);
	}
	cJSON_Delete(r->cr_items);
	r->cr_items = NULL;
	fflush(stdout);
	return code;
}

int check_dir(check_report *r, const char *dir)
{
	struct stat sb;

	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		check_add(r, "data_dir", CHECK_UNREADABLE, "'%s' is not a readable directory", dir);
		return -1;
	}
	if (sb.st_mode & 077)
		check_add(r, "data_dir", CHECK_WARN, "'%s' has mode %04o: others may look in (0700)",
			  dir, (unsigned)(sb.st_mode & 07777));
	else
		check_add(r, "data_dir", CHECK_OK, "'%s' mode 0700", dir);
	return 0;
}

void check_secret(check_report *r, const char *name, const char *path, int required)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		if (required)
			check_add(r, name, CHECK_FAIL, "'%s' is missing", path);
		else
			check_add(r, name, CHECK_OK, "'%s' absent", path);
		return;
	}
	if (sb.st_mode & 077)
		check_add(r, name, CHECK_FAIL, "'%s' has mode %04o: others may read a secret (0600)",
			  path, (unsigned)(sb.st_mode & 07777));
	else
		check_add(r, name, CHECK_OK, "'%s' mode %04o", path, (unsigned)(sb.st_mode & 07777));
}

void check_db(check_report *r, const char *name, const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	char first[200] = "";
	int bad = 0, rc;

	*out = NULL;
	if (stat(path, &sb) != 0 ||
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		check_add(r, name, CHECK_UNREADABLE, "cannot open '%s'", path);
		sqlite3_close(db);
		return;
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(20)", -1, &st, NULL) != SQLITE_OK) {
		check_add(r, name, CHECK_UNREADABLE, "'%s' is not a database: %s", path,
			  sqlite3_errmsg(db));
		sqlite3_close(db);
		return;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t && strcmp(t, "ok") != 0 && bad++ == 0)
			snprintf(first, sizeof first, "%s", t);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		check_add(r, name, CHECK_FAIL, "quick_check of '%s' stopped: %s", path,
			  sqlite3_errmsg(db));
	else if (bad)
		check_add(r, name, CHECK_FAIL, "'%s' is damaged (%d problem%s, first: %s)", path, bad,
			  bad == 1 ? "" : "s", first);
	else if (sb.st_mode & 077)
		check_add(r, name, CHECK_WARN, "'%s' passes quick_check but has mode %04o (0600)",
			  path, (unsigned)(sb.st_mode & 07777));
	else
		check_add(r, name, CHECK_OK, "'%s' passes quick_check (%lld bytes)", path,
			  (long long)sb.st_size);
	*out = db;
}

void check_disk(check_report *r, const char *dir)
{
	struct statvfs vs;
	double free_b, total_b, pct;

	if (statvfs(dir, &vs) != 0) {
		check_add(r, "disk", CHECK_FAIL, "cannot read the free space of '%s'", dir);
		return;
	}
	free_b = (double)vs.f_bavail * (double)vs.f_frsize;
	total_b = (double)vs.f_blocks * (double)vs.f_frsize;
	pct = total_b > 0 ? 100.0 * free_b / total_b : 0;
	if (pct < 1 || free_b < 64.0 * 1024 * 1024)
		check_add(r, "disk", CHECK_FAIL, "%.0f MiB free (%.1f%%): writes will fail soon",
			  free_b / 1048576, pct);
	else if (pct < 10 || free_b < 1024.0 * 1024 * 1024)
		check_add(r, "disk", CHECK_WARN, "%.0f MiB free (%.1f%%)", free_b / 1048576, pct);
	else
		check_add(r, "disk", CHECK_OK, "%.0f MiB free (%.1f%%)", free_b / 1048576, pct);
}

void check_cert(check_report *r, const char *name, const char *path)
{
	int64_t until;
	double days;

	if (tls_cert_expiry(path, &until) != 0) {
		check_add(r, name, CHECK_FAIL, "cannot read the certificate '%s'", path);
		return;
	}
	days = difftime((time_t)until, time(NULL)) / 86400.0;
	if (days < 0)
		check_add(r, name, CHECK_FAIL, "'%s' expired %.0f days ago", path, -days);
	else if (days < 30)
		check_add(r, name, CHECK_WARN, "'%s' expires in %.0f days", path, days);
	else
		check_add(r, name, CHECK_OK, "'%s' valid for %.0f more days", path, days);
}
