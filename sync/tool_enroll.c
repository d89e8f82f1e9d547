/*
 * tool_enroll.c - `outpost-sync enroll --hub URL --code CODE`: trade a
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

int cmd_enroll(tool *t)
{
	sync_identity id, old;
	sync_enroll_tls tls;
	char err[512], path[PATH_MAX + 32];
	struct stat sb;
	int rc;

	if (t->t_hub == NULL || t->t_code == NULL) {
		fprintf(stderr, "outpost-sync: enroll needs --hub URL and --code CODE\n");
		return EXIT_TOOL_USAGE;
	}
	if (stat(t->t_data, &sb) != 0) {
		if (errno != ENOENT || mkdir(t->t_data, 0700) != 0) {
			snprintf(err, sizeof err, "cannot use data directory '%s': %s", t->t_data,
				 strerror(errno));
			return tool_fail(t, SYNC_E_CONFIG, err);
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, sizeof err, "'%s' is not a directory", t->t_data);
		return tool_fail(t, SYNC_E_CONFIG, err);
	}
	snprintf(path, sizeof path, "%s/%s", t->t_data, SYNC_IDENTITY_FILE);
	if (!t->t_force && sync_identity_load(t->t_data, &old, NULL, 0) == 0) {
		fmt_line(err, sizeof err,
			 "this node is already enrolled as %s with %s: add --force to enroll it "
			 "again (its old identity is then abandoned)",
			 old.id_node_id, old.id_hub_url);
		sync_identity_wipe(&old);
		return tool_fail(t, SYNC_E_CONFIG, err);
	}
	memset(&tls, 0, sizeof tls);
	if (t->t_nnames > 0 && (rc = tool_cert_request(t, &tls)) != 0)
		return rc;
	rc = sync_client_enroll(t->t_hub, t->t_code, t->t_pin, t->t_nnames ? &tls : NULL,
				t->t_data, &id, err, sizeof err);
	free((char *)tls.et_csr);
	if (rc != 0)
		return tool_fail(t, rc, err);
	if (t->t_nnames > 0 && (rc = tool_cert_save(t, &tls)) != 0) {
		sync_identity_wipe(&id);
		return rc;
	}
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
	sync_identity_wipe(&id);
	return EXIT_TOOL_OK;
}
