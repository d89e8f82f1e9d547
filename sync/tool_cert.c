/*
 * tool_cert.c - the office node's HTTPS certificate (DESIGN.md, "The
 * network edge"): at enrollment (`enroll --name ...`) and with `renew-cert`
 * the node makes a new P-256 key and a certificate request; the hub, the
 * private CA of its offices, signs it for the names given.  Files in DATA:
 * node.key (0600), node.crt (the certificate, then the CA's), ca.crt,
 * node.names (the names, comma-separated: the node answers to them).
 * The key is written as node.key.new and moved into place only with the
 * signed certificate, so a failed request leaves the old pair working.
 */
#include "sync/tool.h"
#include "lib/tls.h"
#include "lib/tls_ca.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void path_of(tool *t, const char *file, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", t->t_data, file);
}

int tool_cert_request(tool *t, sync_enroll_tls *tls)
{
	char key[PATH_MAX + 32], msg[300];
	const char *err = NULL;
	char *csr = NULL;

	for (int i = 0; i < t->t_nnames; i++)
		if (!tls_name_ok(t->t_names[i])) {
			snprintf(msg, sizeof msg,
				 "--name '%.200s' is neither a DNS name nor an IP address",
				 t->t_names[i]);
			return tool_fail(t, SYNC_E_CONFIG, msg);
		}
	path_of(t, TOOL_NODE_KEY ".new", key, sizeof key);
	if (tls_make_key_csr(key, t->t_names[0], &csr, &err) != 0) {
		snprintf(msg, sizeof msg, "%.80s (%.200s)", err, key);
		return tool_fail(t, SYNC_E_CONFIG, msg);
	}
	tls->et_csr = csr;
	tls->et_names = t->t_names;
	tls->et_nnames = t->t_nnames;
	return 0;
}

void tool_cert_discard(tool *t)
{
	char key[PATH_MAX + 32];

	path_of(t, TOOL_NODE_KEY ".new", key, sizeof key);
	if (unlink(key) != 0 && errno != ENOENT)
		fprintf(stderr, "outpost-sync: cannot remove '%s': %s\n", key, strerror(errno));
}

int tool_cert_save(tool *t, sync_enroll_tls *tls)
{
	char key[PATH_MAX + 32], newkey[PATH_MAX + 32], path[PATH_MAX + 32];
	char names[TOOL_NAMES_MAX * 256] = "";
	size_t off = 0;
	int rc = 0;

	if (tls->et_cert == NULL || tls->et_ca_cert == NULL) {
		rc = tool_fail(t, SYNC_E_OTHER, "the hub did not sign the node's certificate");
		goto out;
	}
	for (int i = 0; i < t->t_nnames; i++)
		off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", i ? "," : "",
					t->t_names[i]);
	path_of(t, TOOL_NODE_KEY ".new", newkey, sizeof newkey);
	path_of(t, TOOL_NODE_KEY, key, sizeof key);
	path_of(t, TOOL_NODE_CRT, path, sizeof path);
	if (tls_write_file(path, tls->et_cert, strlen(tls->et_cert), 0644) != 0 ||
	    rename(newkey, key) != 0) {
		rc = tool_fail(t, SYNC_E_CONFIG, "cannot save the node's certificate and key");
		goto out;
	}
	path_of(t, TOOL_NODE_CA, path, sizeof path);
	if (tls_write_file(path, tls->et_ca_cert, strlen(tls->et_ca_cert), 0644) != 0) {
		rc = tool_fail(t, SYNC_E_CONFIG, "cannot save the office CA certificate");
		goto out;
	}
	path_of(t, TOOL_NODE_NAMES, path, sizeof path);
	if (tls_write_file(path, names, strlen(names), 0644) != 0)
		rc = tool_fail(t, SYNC_E_CONFIG, "cannot save the node's names");
out:
	free(tls->et_cert);
	free(tls->et_ca_cert);
	tls->et_cert = tls->et_ca_cert = NULL;
	return rc;
}

/* The names of the last certificate (DATA/node.names) when none are given. */
static int names_from_file(tool *t, char *text, size_t n)
{
	char path[PATH_MAX + 32];
	FILE *f;
	size_t len;
	char *p, *save = NULL;

	path_of(t, TOOL_NODE_NAMES, path, sizeof path);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	len = fread(text, 1, n - 1, f);
	fclose(f);
	text[len] = 0;
	for (p = strtok_r(text, ",\n", &save); p && t->t_nnames < TOOL_NAMES_MAX;
	     p = strtok_r(NULL, ",\n", &save))
		t->t_names[t->t_nnames++] = p;
	return t->t_nnames > 0 ? 0 : -1;
}

int cmd_renew_cert(tool *t)
{
	sync_enroll_tls tls;
	sync_client *c = NULL;
	sqlite3 *db = NULL;
	char names[TOOL_NAMES_MAX * 256], path[PATH_MAX + 32], msg[600];
	buf resp = BUF_INIT(64 * 1024);
	cJSON *req = NULL, *o = NULL, *arr;
	const cJSON *cert, *ca;
	char *body = NULL;
	long status = 0;
	int64_t exp;
	int rc;

	memset(&tls, 0, sizeof tls);
	if (t->t_nnames == 0 && names_from_file(t, names, sizeof names) != 0)
		return tool_fail(t, SYNC_E_CONFIG, "give the node's names with --name (no "
						   "earlier certificate names them)");
	if ((rc = tool_open(t, &c, &db)) != 0)
		return rc;
	if ((rc = tool_cert_request(t, &tls)) != 0)
		goto out;
	req = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(req, "names");
	for (int i = 0; i < t->t_nnames; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(t->t_names[i]));
	cJSON_AddStringToObject(req, "csr", tls.et_csr);
	body = cJSON_PrintUnformatted(req);
	rc = body ? sync_client_request(c, "POST", "/api/v1/sync/cert", body, strlen(body),
					&status, &resp, NULL, NULL, NULL)
		  : SYNC_E_OTHER;
	if (rc != 0) {
		/* the client's own account of it: unreachable, a pin that does
		 * not match, a certificate refused... */
		rc = tool_fail(t, rc, c->sc_error[0] ? c->sc_error : "cannot reach the hub");
		goto out;
	}
	o = resp.len ? cJSON_ParseWithLength(resp.data, resp.len) : NULL;
	cert = cJSON_GetObjectItemCaseSensitive(o, "cert");
	ca = cJSON_GetObjectItemCaseSensitive(o, "ca_cert");
	if (status != 200 || !cJSON_IsString(cert) || !cJSON_IsString(ca)) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
		snprintf(msg, sizeof msg, "the hub refused the certificate (%ld): %s", status,
			 cJSON_IsString(e) ? e->valuestring : "no reason given");
		rc = tool_fail(t, status == 401 ? SYNC_E_AUTH : SYNC_E_OTHER, msg);
		goto out;
	}
	tls.et_cert = strdup(cert->valuestring);
	tls.et_ca_cert = strdup(ca->valuestring);
	if ((rc = tool_cert_save(t, &tls)) != 0)
		goto out;
	path_of(t, TOOL_NODE_CRT, path, sizeof path);
	if (t->t_json) {
		/* every command answers --json with one object */
		cJSON *j = cJSON_CreateObject();

		cJSON_AddBoolToObject(j, "ok", 1);
		cJSON_AddStringToObject(j, "name", t->t_names[0]);
		cJSON_AddStringToObject(j, "cert", path);
		if (tls_cert_expiry(path, &exp) == 0)
			cJSON_AddNumberToObject(j, "not_after", (double)exp);
		tool_print_json(j);
	} else {
		if (tls_cert_expiry(path, &exp) == 0)
			printf("certificate for %s saved in %s, valid until %s", t->t_names[0], path,
			       ctime(&(time_t){(time_t)exp}));
		printf("the running node serves it from its next connection on\n");
	}
out:
	if (rc != 0 && tls.et_csr != NULL)
		tool_cert_discard(t); /* the refused request's key goes with it */
	free((char *)tls.et_csr);
	free(tls.et_cert);
	free(tls.et_ca_cert);
	free(body);
	cJSON_Delete(req);
	cJSON_Delete(o);
	buf_release(&resp);
	sync_client_free(c);
	db_close(db);
	return rc;
}
