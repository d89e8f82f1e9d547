/*
 * schema.h - the replicated schema that node and hub share, as a registry of
 * modules.  Each module (core/greeter, accounts, crm, casework) owns its
 * migrations and describes each of its tables: its kind (who may write it and
 * how conflicts go) and its scope (which offices may hold its rows).
 *
 * Rules every replicated table follows (checked by schema_check()):
 *   - TEXT PRIMARY KEY NOT NULL named "id" (UUIDv7 born where the row is born;
 *     the session extension records nothing for tables without an explicit
 *     NOT NULL primary key);
 *   - mutable and hub-owned tables carry "updated_hlc TEXT";
 *   - no FOREIGN KEY constraints: references are checked by the domain rules,
 *     so changesets can be applied in any order during replication.
 */
#ifndef OUTPOST_SCHEMA_H
#define OUTPOST_SCHEMA_H

#include "lib/db.h"

typedef enum {
	TK_HUB_OWNED = 1,  /* written only at the hub, replicated down */
	TK_APPEND_ONLY,    /* nodes insert, never update or delete */
	TK_MUTABLE,        /* updated anywhere, merged column-wise at the hub */
} table_kind;

typedef enum {
	SCOPE_STATEWIDE = 1, /* every node holds every row */
	SCOPE_LOCAL_AREA,    /* rows whose scope column equals the node's Local Area */
	SCOPE_OFFICE,        /* rows whose scope column equals the node's office */
	SCOPE_HUB_ONLY,      /* never sent to nodes */
	SCOPE_ROW,           /* the row carries scope_office / scope_la columns
				(NULL = any), e.g. conflict records */
} scope_kind;

typedef struct table_def {
	const char *td_name;
	table_kind td_kind;
	scope_kind td_scope;
	const char *td_scope_col;  /* "local_area_id" / "office_id" / NULL */
	/* Column whose value, once set to td_final_value, is never undone by an
	 * office's edit (e.g. "status" = "Closed"); NULL for none.  Several
	 * final values are separated by '|' ("done|left"): schema_final(). */
	const char *td_final_col;
	const char *td_final_value;
	/* A 0/1 column that deletes the row in place (the row stays, = 1), or
	 * NULL: the hub merges it as it does a DELETE (an edit beats it).  Its
	 * witness, the column named like it with "_seen" after, holds the row
	 * as the deleting office saw it (schema_soft_seen_expr()), as a
	 * DELETE's old values do. */
	const char *td_soft_delete_col;
	/* 1: the final column moves with the row's other columns (a visit's
	 * status with its times and server): a change the final value refuses
	 * is held whole, every column it sets kept as a conflict, never a row
	 * "done" without who served it.  TD_FINAL_RECORD: a row in its final
	 * state is a record that no edit changes (a closed work item, a record
	 * of work done): an office's edit that crossed the final state (made
	 * on a version of the row other than the hub's) is held whole,
	 * whatever it sets, save a soft delete alone; an edit of the row as
	 * the hub holds it is the domain validator's to refuse (model/crm.c).
	 * 0: only the final column is held. */
	int td_final_holds;
} table_def;
#define TD_FINAL_RECORD 2

typedef struct schema_module {
	const char *sm_name;            /* component name in schema_version */
	const db_migration *sm_migrations;
	int sm_nmigrations;
	const table_def *sm_tables;
	int sm_ntables;
} schema_module;

/* The definition of a module named name from its static arrays of
 * migrations and tables. */
#define SCHEMA_MODULE(name, migrations, tables)                                                 \
	{(name), (migrations), SCHEMA_COUNT(migrations), (tables), SCHEMA_COUNT(tables)}
#define SCHEMA_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Inside a hub row validator (sync_row_validator: its reason and n in
 * scope): the refusal, printf-style, into reason, and return -1. */
#define REFUSE(...)                               \
	do {                                      \
		snprintf(reason, n, __VA_ARGS__); \
		return -1;                        \
	} while (0)

/* The same when the check itself failed (out of memory, an I/O error): not
 * the row's fault, so it is not held for review; the hub rolls the push back
 * and the node sends it again (sync_row_validator's SYNC_CHECK_AGAIN). */
#define MODEL_CHECK_AGAIN (-2)
#define CANNOT_CHECK(...)                         \
	do {                                      \
		snprintf(reason, n, __VA_ARGS__); \
		return MODEL_CHECK_AGAIN;         \
	} while (0)

/*
 * Inside a hub row validator: 1 when the change under check sets column col
 * (an INSERT sets every one), else 0.  Only the apply knows (the hub sets
 * sync_change_sets as the probe, hub_migrate), or the console's resolution
 * of a conflict (the columns whose value it changes: sync_validate_edit);
 * without a probe every column counts as set, so every rule runs.  A rule
 * about who may set a value (an assignment, a vetting result) asks, so that
 * an older value, true when it was set, does not hold up the row's other
 * edits.
 */
void model_set_change_probe(int (*sets)(const char *col));
int model_change_sets(const char *col);
/*
 * The same for a rule that must run whenever col may have changed: also 1
 * when the check is not of an office's change (an office's edit always sets
 * updated_hlc; a check that sees it unset is outside a push, e.g. the
 * console's resolution of a conflict, judged as a whole row).
 */
int model_change_may_set(const char *col);
/*
 * Inside a hub row validator on an UPDATE: column col of the row as the hub
 * held it before the change merged into it, as text (the row validated is
 * the merged one); NULL when that value is NULL or not known (no probe: the
 * hub sets sync_change_was, hub_migrate; an INSERT, a DELETE, a check
 * outside a push).  A rule about the stored row (a closed work item is not
 * edited) asks, and holds nothing up when it is not known.
 */
void model_set_was_probe(const char *(*was)(const char *col));
const char *model_change_was(const char *col);
/*
 * Inside a hub row validator: record a conflict a person reviews on row
 * row_id of the table under check, from the change's node and staff member
 * (sync_record_conflict(): its arguments).  The hub sets
 * sync_record_conflict as the recorder (hub_migrate); without one nothing
 * is recorded and 0 is returned.  0, or -1 on an error.
 */
typedef int (*model_conflict_fn)(const char *row_id, const char *column, const char *base,
				 const char *local, const char *remote, int remote_won,
				 const char *local_hlc, const char *remote_hlc, const char *reason);
void model_set_conflict_recorder(model_conflict_fn fn);
int model_record_conflict(const char *row_id, const char *column, const char *base,
			  const char *local, const char *remote, int remote_won,
			  const char *local_hlc, const char *remote_hlc, const char *reason);

/* All modules, NULL-terminated list of pointers. */
extern const schema_module *const schema_modules[];

/* Apply every module's migrations. 0 or -1. */
int schema_migrate(sqlite3 *db);
/* Version of the replicated schema: it travels with every sync batch. */
int schema_version(void);
/* The same sum for the migrations db has had (schema_version() once it is
 * migrated; less when a newer build opens it before the node migrated it). */
int schema_db_version(sqlite3 *db);
/* Table definition by name, or NULL when the table is not replicated. */
const table_def *schema_table(const char *name);
/* 1 when v is one of td's final values (td_final_value), else 0. */
int schema_final(const table_def *td, const char *v);
/*
 * An append-only table some of whose rows are born under the same id at two
 * nodes (an id made of what the row records: a visit's day_end event,
 * greeter_day_end_id()) has fact columns: two rows of one id that agree on
 * them are one fact, the other columns saying only who wrote it when.  The
 * hub skips an insert that agrees on them with the row it holds, as it
 * skips an identical one (the first written stands); any other difference
 * is refused.  1 when td has fact columns and col is one, else 0; *any
 * (may be NULL) 1 when td has fact columns at all.
 */
int schema_fact_col(const table_def *td, const char *col, int *any);
/* The name of the module that owns replicated table name ("core", "crm",
 * "casework", ...), or NULL. */
const char *schema_table_module(const char *name);
/*
 * The SQL expression of the witness of a soft delete on table (table_def
 * td_soft_delete_col): json_array() of every column of the row but its id,
 * updated_hlc, the delete column and the witness, in the table's order.
 * The office that deletes stores it, the hub compares it with its own row:
 * both build it here.  0, or -1 (not a soft-delete table, or an error).
 */
int schema_soft_seen_expr(sqlite3 *db, const char *table, char *out, size_t n);
/* Call fn for every replicated table, in dependency order. */
int schema_foreach(int (*fn)(const table_def *t, void *arg), void *arg);
/* The replicated schema of db against this program's (what a node tells
 * the hub it speaks; outpost-sync, which makes none of the node's own
 * components; `check` compares them all, db_schema_compare): 0 the same,
 * -1 older (the daemon migrates it at its next start), 1 newer (this
 * program cannot use it), -2 unreadable.  detail gets "component N/M, ...". */
int schema_compare(sqlite3 *db, char *detail, size_t n);
/* Check the invariants above against the live database; -1 and a log line
 * naming the table on the first violation. */
int schema_check(sqlite3 *db);

/* Modules (defined in schema_*.c). */
extern const schema_module schema_core;
extern const schema_module schema_sync;
extern const schema_module schema_accounts;
extern const schema_module schema_crm;
extern const schema_module schema_case;

#endif
