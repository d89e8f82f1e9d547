/*
 * tool_export.c - `outpost-sync export --out FILE`: the pending outbox as a
 * signed bundle (layout in sync/bundle.c) for `outpost-hub import FILE`,
 * when the network is down for longer than anyone wants to wait.  Needs no
 * hub; the outbox is left as it is, and the next push after the import is
 * skipped by the hub as a replay and then dropped here.  The parts of an
 * earlier export to the same name that this one does not replace are
 * removed by sync_bundle_export and named here, so that no stale part is
 * carried to the hub.
 */
#include "sync/tool.h"

#include <inttypes.h>
#include <stdio.h>

/* The name of part k of the export to path: path itself, then path.2, ... */
static void part_name(const char *path, int k, char *out, size_t n)
{
	if (k <= 1)
		snprintf(out, n, "%s", path);
	else
		snprintf(out, n, "%s.%d", path, k);
}

/* What became of an earlier export's parts (sync_bundle_export removes
 * them once this one's are on the disk), in words. */
static void print_stale(const char *path, const sync_bundle_stats *bs)
{
	char a[4200], b[4200];

	if (bs->bs_stale_from > 0) {
		part_name(path, bs->bs_stale_from, a, sizeof a);
		part_name(path, bs->bs_stale_to, b, sizeof b);
		if (bs->bs_stale_to == bs->bs_stale_from)
			printf("removed %s, left by an earlier export", a);
		else
			printf("removed %s %s %s, left by an earlier export", a,
			       bs->bs_stale_to == bs->bs_stale_from + 1 ? "and" : "...", b);
		printf(bs->bs_files ? "\n" : ": there is nothing to carry to the hub\n");
	}
	if (bs->bs_left > 0) {
		part_name(path, bs->bs_left, a, sizeof a);
		printf("left %s as it is: not an Outpost bundle of this office PC%s\n", a,
		       bs->bs_files ? " (not a part of this export: do not import it)" : "");
	}
}

int cmd_export(tool *t)
{
	sync_identity id;
	sqlite3 *db = NULL;
	sync_bundle_stats bs;
	char err[512];
	int rc, ex;

	if (t->t_out == NULL)
		return tool_usage(t, "export needs --out FILE");
	rc = sync_identity_load(t->t_data, &id, err, sizeof err);
	if (rc != 0)
		return tool_fail(t, rc, err);
	rc = sync_client_db_open(t->t_data, &db, err, sizeof err);
	if (rc == 0 && sync_client_adopt(db, &id, NULL) != 0) {
		snprintf(err, sizeof err, "cannot record the sync identity in node.db");
		rc = SYNC_E_OTHER;
	}
	if (rc == 0)
		rc = sync_bundle_export(db, &id, t->t_out, t->t_resend, &bs, err, sizeof err);
	if (rc != 0) {
		ex = tool_fail(t, rc, err);
		goto out;
	}
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject(), *files = cJSON_CreateArray();
		char name[4200];
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddNumberToObject(o, "entries", (double)bs.bs_entries);
		cJSON_AddNumberToObject(o, "bytes", (double)bs.bs_bytes);
		if (bs.bs_entries) {
			cJSON_AddNumberToObject(o, "first_seq", (double)bs.bs_first_seq);
			cJSON_AddNumberToObject(o, "last_seq", (double)bs.bs_last_seq);
		}
		for (int i = 0; i < bs.bs_files; i++) {
			part_name(t->t_out, i + 1, name, sizeof name);
			cJSON_AddItemToArray(files, cJSON_CreateString(name));
		}
		cJSON_AddItemToObject(o, "files", files);
		files = cJSON_AddArrayToObject(o, "removed");
		for (int k = bs.bs_stale_from; k > 0 && k <= bs.bs_stale_to; k++) {
			part_name(t->t_out, k, name, sizeof name);
			cJSON_AddItemToArray(files, cJSON_CreateString(name));
		}
		if (bs.bs_left > 0) {
			part_name(t->t_out, bs.bs_left, name, sizeof name);
			cJSON_AddStringToObject(o, "left_not_a_bundle", name);
		}
		tool_print_json(o);
	} else if (bs.bs_entries == 0) {
		printf("nothing to export: no pending changes (no file written)\n");
		print_stale(t->t_out, &bs);
	} else {
		printf("exported %" PRId64 " change%s (outbox %" PRId64 "..%" PRId64 ", %llu bytes) "
		       "to %s%s\n",
		       bs.bs_entries, bs.bs_entries == 1 ? "" : "s", bs.bs_first_seq, bs.bs_last_seq,
		       (unsigned long long)bs.bs_bytes, t->t_out,
		       bs.bs_files > 1 ? " and its numbered continuations" : "");
		if (bs.bs_files == 2)
			printf("import %s, then %s.2, in that order\n", t->t_out, t->t_out);
		else if (bs.bs_files > 2)
			printf("import %s, then %s.2 ... %s.%d in that order\n", t->t_out, t->t_out,
			       t->t_out, bs.bs_files);
		print_stale(t->t_out, &bs);
		printf("at the hub: outpost-hub import FILE --data HUBDIR\n");
	}
	ex = EXIT_TOOL_OK;
out:
	db_close(db);
	sync_identity_wipe(&id);
	return ex;
}
