/*
 * tool_enroll.c - `outpost-sync enroll --hub URL --code CODE|-`: trade a
 * one-time code from the hub console for this node's sync identity, pin the
 * hub's key and save both in DIR/sync.json (mode 0600).  A running node
 * notices the file within one sync interval and starts replicating.
 */
#include "sync/tool.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The code where other users cannot read it: `--code -` reads one line
 * from standard input (a pipe, or typed at a prompt), and without --code
 * $OUTPOST_ENROLL_CODE gives it; a code in argv is in /proc/PID/cmdline for
 * every local user while enrollment runs.  The code into out (n bytes):
 * 0, or -1 when there is none. */
static int enroll_code(tool *t, char *out, size_t n)
{
	const char *env = getenv("OUTPOST_ENROLL_CODE");
	size_t len;

	out[0] = '\0';
	if (t->t_code != NULL && strcmp(t->t_code, "-") == 0) {
		if (isatty(STDIN_FILENO)) {
			fputs("enrollment code: ", stderr);
			fflush(stderr);
		}
		if (fgets(out, (int)n, stdin) == NULL)
			out[0] = '\0';
	} else if (t->t_code != NULL) {
		snprintf(out, n, "%s", t->t_code);
	} else if (env != NULL) {
		snprintf(out, n, "%s", env);
	}
	len = strlen(out);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r' || out[len - 1] == ' ' ||
			   out[len - 1] == '\t'))
		out[--len] = '\0';
	return len > 0 ? 0 : -1;
}

int cmd_enroll(tool *t)
{
	sync_identity id, old;
	sync_enroll_tls tls;
	char err[512], path[PATH_MAX + 32], code[128];
	struct stat sb;
	int rc, ret, made = 0;

	memset(&tls, 0, sizeof tls);
	memset(&id, 0, sizeof id);
	if (t->t_hub == NULL)
		return tool_usage(t, "enroll needs --hub URL and --code CODE (or --code - to read "
				     "it from standard input)");
	if (enroll_code(t, code, sizeof code) != 0)
		return tool_usage(t, "enroll needs --code CODE, --code - (standard input) or "
				     "$OUTPOST_ENROLL_CODE");
	if (stat(t->t_data, &sb) != 0) {
		if (errno != ENOENT || (made = mkdir(t->t_data, 0700) == 0) == 0) {
			snprintf(err, sizeof err, "cannot use data directory '%s': %s", t->t_data,
				 strerror(errno));
			ret = tool_fail(t, SYNC_E_CONFIG, err);
			goto out;
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, sizeof err, "'%s' is not a directory", t->t_data);
		ret = tool_fail(t, SYNC_E_CONFIG, err);
		goto out;
	}
	snprintf(path, sizeof path, "%s/%s", t->t_data, SYNC_IDENTITY_FILE);
	if (!t->t_force && sync_identity_load(t->t_data, &old, NULL, 0) == 0) {
		fmt_line(err, sizeof err,
			 "this node is already enrolled as %s with %s: add --force to enroll it "
			 "again (its old identity is then abandoned)",
			 old.id_node_id, old.id_hub_url);
		sync_identity_wipe(&old);
		ret = tool_fail(t, SYNC_E_CONFIG, err);
		goto out;
	}
	if (t->t_nnames > 0 && (ret = tool_cert_request(t, &tls)) != 0)
		goto out;
	rc = sync_client_enroll(t->t_hub, code, t->t_pin, t->t_nnames ? &tls : NULL,
				t->t_data, &id, err, sizeof err);
	if (rc != 0) {
		ret = tool_fail(t, rc, err);
		goto out;
	}
	if (t->t_nnames > 0 && (ret = tool_cert_save(t, &tls)) != 0)
		goto out;
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddStringToObject(o, "node_id", id.id_node_id);
		cJSON_AddStringToObject(o, "office_id", id.id_office_id);
		cJSON_AddStringToObject(o, "local_area_id", id.id_local_area_id);
		cJSON_AddStringToObject(o, "hub_url", id.id_hub_url);
		cJSON_AddStringToObject(o, "hub_pin", id.id_pin);
		cJSON_AddStringToObject(o, "identity_file", path);
		tool_print_json(o);
	} else {
		printf("enrolled: node %s for office '%s' (Local Area '%s')\n"
		       "hub %s, key pinned as %s\n"
		       "identity saved in %s; a running node starts syncing within seconds\n",
		       id.id_node_id, id.id_office_id, id.id_local_area_id, id.id_hub_url, id.id_pin,
		       path);
	}
	ret = EXIT_TOOL_OK;
out:
	explicit_bzero(code, sizeof code);
	free((char *)tls.et_csr);
	free(tls.et_cert);
	free(tls.et_ca_cert);
	if (ret != EXIT_TOOL_OK && t->t_nnames > 0)
		tool_cert_discard(t); /* no node.key.new left behind */
	if (ret != EXIT_TOOL_OK && made)
		(void)rmdir(t->t_data); /* a failed enroll leaves no empty data directory */
	sync_identity_wipe(&id);
	return ret;
}
