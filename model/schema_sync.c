/*
 * schema_sync.c - replicated records of the replication itself: conflicts.
 *
 * A conflict row is written by the hub whenever a merge finds a column that
 * both sides changed to different values (or an edit against a deleted row).
 * It keeps base, local (hub) and remote (node) values as JSON text, who and
 * when, and which side won; it replicates to the offices holding the row, so
 * every replica shows the same conflicts.  Resolving one is an ordinary edit
 * of the row plus resolved_* columns here.  `reason` says why the office's
 * value was not taken when it was not for the later edit's sake.
 */
#include "model/schema.h"

static const db_migration sync_migrations[] = {
	{"CREATE TABLE conflicts("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " tbl TEXT NOT NULL,"
	 " row_id TEXT NOT NULL,"
	 " column_name TEXT NOT NULL,"
	 " base_value TEXT,"             /* JSON */
	 " local_value TEXT,"            /* JSON: hub value before the merge */
	 " remote_value TEXT,"           /* JSON: the node's value */
	 " winner TEXT NOT NULL,"        /* 'local' | 'remote' */
	 " local_hlc TEXT,"
	 " remote_hlc TEXT,"
	 " node_id TEXT NOT NULL,"
	 " actor TEXT,"
	 " origin_seq INTEGER,"
	 " created_at INTEGER NOT NULL,"
	 " scope_office TEXT,"
	 " scope_la TEXT,"
	 " resolved_at INTEGER,"
	 " resolved_by TEXT,"
	 " resolution TEXT,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX conflicts_row ON conflicts(tbl, row_id);"},
	/* 2: why the office's value was not taken when that was not the
	 * later edit's win: its edit of a record the hub had changed since
	 * would have broken a rule (sync/apply.c, keep_hub_row()).  NULL for
	 * an ordinary one. */
	{"ALTER TABLE conflicts ADD COLUMN reason TEXT;"},
};

static const table_def sync_tables[] = {
	{"conflicts", TK_HUB_OWNED, SCOPE_ROW, NULL, NULL, NULL, NULL, 0},
};

const schema_module schema_sync = SCHEMA_MODULE("sync", sync_migrations, sync_tables);
