/*
 * tool_xfer.c - `outpost-sync push` and `outpost-sync pull`: one direction
 * of the cycle each, run by hand (the node also runs them by itself).  Both
 * record the contact (clock offset, last contact, last error) in node.db as
 * the node's own cycle does, so `status` tells the same story.
 */
#include "sync/tool.h"

#include <inttypes.h>
#include <stdio.h>

static void finish(sync_client *c, sqlite3 *db, int rc)
{
	sync_client_record(c, db, rc == 0 ? NULL : c->sc_error);
}

/* tool_open(), one direction go() (its exit code), then all closed. */
static int xfer(tool *t, int (*go)(tool *t, sync_client *c, sqlite3 *db))
{
	sync_client *c;
	sqlite3 *db;
	int ex = tool_open(t, &c, &db);

	if (ex != 0)
		return ex;
	ex = go(t, c, db);
	db_close(db);
	sync_client_free(c);
	return ex;
}

static int push(tool *t, sync_client *c, sqlite3 *db)
{
	sync_push_stats ps;
	int rc = sync_client_push(c, db, &ps);

	finish(c, db, rc);
	tool_progress_end(t);
	if (rc != 0)
		return tool_fail(t, rc, c->sc_error);
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddNumberToObject(o, "pending_before", (double)ps.ps_pending);
		cJSON_AddNumberToObject(o, "sent", (double)ps.ps_sent);
		cJSON_AddNumberToObject(o, "acked", (double)ps.ps_acked);
		cJSON_AddNumberToObject(o, "batches", ps.ps_batches);
		cJSON_AddNumberToObject(o, "applied", ps.ps_applied);
		cJSON_AddNumberToObject(o, "skipped", ps.ps_skipped);
		cJSON_AddNumberToObject(o, "quarantined", ps.ps_quarantined);
		cJSON_AddNumberToObject(o, "conflicts", ps.ps_conflicts);
		cJSON_AddNumberToObject(o, "acked_seq", (double)ps.ps_acked_seq);
		if (ps.ps_head_seq >= 0)
			cJSON_AddNumberToObject(o, "head_seq", (double)ps.ps_head_seq);
		cJSON_AddNumberToObject(o, "pending",
					(double)db_int(db, "SELECT count(*) FROM outbox", 0));
		tool_print_json(o);
	} else if (ps.ps_pending == 0) {
		printf("nothing to push: no pending changes\n");
	} else {
		printf("pushed %" PRId64 " change%s in %d batch%s: %d applied, %d already at the hub, "
		       "%d quarantined, %d conflict%s\n",
		       ps.ps_acked, ps.ps_acked == 1 ? "" : "s", ps.ps_batches,
		       ps.ps_batches == 1 ? "" : "es", ps.ps_applied, ps.ps_skipped, ps.ps_quarantined,
		       ps.ps_conflicts, ps.ps_conflicts == 1 ? "" : "s");
		if (ps.ps_quarantined)
			printf("quarantined entries are kept at the hub; see outpost-sync status\n");
	}
	return EXIT_TOOL_OK;
}

int cmd_push(tool *t)
{
	return xfer(t, push);
}

static int pull(tool *t, sync_client *c, sqlite3 *db)
{
	sync_pull_stats pl;
	int rc = sync_client_pull(c, db, &pl);

	/* "push first" is advice, not a failed contact. */
	finish(c, db, rc == SYNC_E_PENDING ? 0 : rc);
	tool_progress_end(t);
	if (rc != 0)
		return tool_fail(t, rc, rc == SYNC_E_PENDING
					       ? "local changes pending, push first (outpost-sync push)"
					       : c->sc_error);
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddBoolToObject(o, "snapshot", pl.pl_snapshot);
		cJSON_AddNumberToObject(o, "snapshot_pages", pl.pl_snapshot_pages);
		cJSON_AddNumberToObject(o, "pages", pl.pl_pages);
		cJSON_AddNumberToObject(o, "bytes", (double)pl.pl_bytes);
		cJSON_AddNumberToObject(o, "cursor", (double)pl.pl_cursor);
		if (pl.pl_head >= 0)
			cJSON_AddNumberToObject(o, "head_seq", (double)pl.pl_head);
		tool_print_json(o);
	} else {
		char snap[64] = "";
		if (pl.pl_snapshot)
			snprintf(snap, sizeof snap, " a snapshot (%d page%s) and", pl.pl_snapshot_pages,
				 pl.pl_snapshot_pages == 1 ? "" : "s");
		printf("pulled%s %d page%s (%llu bytes); cursor %" PRId64 " of hub head %" PRId64 "\n",
		       snap, pl.pl_pages, pl.pl_pages == 1 ? "" : "s",
		       (unsigned long long)pl.pl_bytes, pl.pl_cursor, pl.pl_head);
	}
	return EXIT_TOOL_OK;
}

int cmd_pull(tool *t)
{
	return xfer(t, pull);
}
