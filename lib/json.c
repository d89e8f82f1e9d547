/*
 * json.c - cJSON getters and validators for request bodies; see json.h.
 */
#include "json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void json_err_set(json_err *e, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return;
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
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

int json_get_str(const cJSON *obj, const char *name, int flags, size_t minlen,
		 size_t maxlen, const char **out, char *tmp, size_t tmplen, json_err *e)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	const char *s, *end;
	size_t n;

	*out = NULL;
	if (it == NULL || cJSON_IsNull(it)) {
		if (flags & JSON_REQUIRED) {
			json_err_set(e, name, "%s is required", name);
			return -1;
		}
		return 0;
	}
	if (!cJSON_IsString(it)) {
		json_err_set(e, name, "%s must be a string", name);
		return -1;
	}
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
	if (n == 0 && (flags & JSON_REQUIRED) && minlen > 0) {
		json_err_set(e, name, "%s is required", name);
		return -1;
	}
	if (n < minlen) {
		json_err_set(e, name, "%s must be at least %zu characters", name, minlen);
		return -1;
	}
	if (n > maxlen) {
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

	if (present)
		*present = 0;
	if (absent(it, flags) || (it && cJSON_IsNull(it) && !(flags & JSON_REQUIRED))) {
		if (flags & JSON_REQUIRED) {
			json_err_set(e, name, "%s is required", name);
			return -1;
		}
		return 0;
	}
	if (!cJSON_IsNumber(it)) {
		json_err_set(e, name, "%s must be a number", name);
		return -1;
	}
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

	if (it == NULL || cJSON_IsNull(it)) {
		if (flags & JSON_REQUIRED) {
			json_err_set(e, name, "%s is required", name);
			return -1;
		}
		*out = def;
		return 0;
	}
	if (!cJSON_IsBool(it)) {
		json_err_set(e, name, "%s must be true or false", name);
		return -1;
	}
	*out = cJSON_IsTrue(it);
	return 0;
}

int json_get_str_array(const cJSON *obj, const char *name, int flags, int minn, int maxn,
		       size_t maxlen, const cJSON **out, json_err *e)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name), *x;
	int n;

	*out = NULL;
	if (it == NULL || cJSON_IsNull(it)) {
		if (flags & JSON_REQUIRED) {
			json_err_set(e, name, "%s is required", name);
			return -1;
		}
		return 0;
	}
	if (!cJSON_IsArray(it)) {
		json_err_set(e, name, "%s must be a list", name);
		return -1;
	}
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
		    strlen(x->valuestring) > maxlen) {
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
