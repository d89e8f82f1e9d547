/*
 * client_util.c - small helpers of the node's side of the protocol (see
 * client_int.h): result names, error text, the id alphabet, JSON numbers.
 */
#include "sync/client_int.h"
#include "lib/crypto.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sync_strerror(int rc)
{
	switch (rc) {
	case SYNC_OK:
		return "ok";
	case SYNC_E_CONFIG:
		return "config";
	case SYNC_E_UNREACHABLE:
		return "unreachable";
	case SYNC_E_AUTH:
		return "refused";
	case SYNC_E_PIN:
		return "pin_mismatch";
	case SYNC_E_SCHEMA:
		return "schema_refused";
	case SYNC_E_MISMATCH:
		return "mismatch";
	case SYNC_E_PENDING:
		return "local_changes_pending";
	case SYNC_E_BUNDLE:
		return "bad_bundle";
	default:
		return "error";
	}
}

int sync__id_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.:", s[i]))
			return 0;
	return 1;
}

int64_t sync__json_i64(const cJSON *o, const char *name, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

void sync__json_wipe_free(cJSON *o, const char *name)
{
	cJSON *s = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsString(s) && s->valuestring)
		crypto_wipe(s->valuestring, strlen(s->valuestring));
	cJSON_Delete(o);
}

void sync__text_wipe_free(char *text)
{
	if (text == NULL)
		return;
	crypto_wipe(text, strlen(text));
	free(text);
}
