/*
 * apply_int.h - internals shared by the files of the hub's apply (sync/apply.c
 * the merge of one entry, sync/apply_row.c rows and checks, sync/apply_batch.c
 * the grouped apply of a batch).  Not an interface: sync.h is.
 *
 * Conventions: functions returning A_* give A_OK, A_REFUSE (the entry is
 * refused: ax_reason says why, the caller quarantines it) or A_ERROR (our
 * failure: the caller rolls back, the node sends the entry again).  Values
 * (sqlite3_value) are borrowed unless a row says it owns them.
 */
#ifndef OUTPOST_APPLY_INT_H
#define OUTPOST_APPLY_INT_H

#include "sync/sync.h"
#include "sync/changeset.h"

#include <stddef.h>

/* The shape and prepared statements of one replicated table. */
typedef struct tcache {
	sync__tshape tc_ts;
	sqlite3_stmt *tc_sel, *tc_ins, *tc_upd, *tc_del;
} tcache;

/* One apply: the entry, its node, the statements (owned by the cache when
 * one is given, else freed by sync__actx_release). */
typedef struct actx {
	sqlite3 *ax_db;
	const sync_scope *ax_sc;
	const sync_entry *ax_e;
	sync_apply_result *ax_res;
	tcache *ax_tc;
	int ax_ntc;
	sqlite3_stmt *ax_conflict, *ax_tomb_get, *ax_tomb_put, *ax_tomb_del;
	sqlite3_stmt *ax_clk_get, *ax_clk_put;
	char ax_tbl[129];    /* table of the refused change, for quarantine */
	char ax_reason[256];
	const char *ax_why;  /* the reason of the conflicts being recorded, or NULL */
} actx;

enum { A_OK = 0, A_REFUSE = 1, A_ERROR = -1 };

/* One conflicts row of row id of table tbl, from a's entry (its node, staff
 * member and seq): column NULL = "*deleted*"; values as JSON text (NULL
 * pointers mean SQL NULL); office and la its scope, why its reason (NULL
 * for an ordinary one).  A_OK or A_ERROR. */
int sync__conflict_insert(actx *a, const char *tbl, const char *id, const char *column,
			  const char *base, const char *local, const char *remote, int remote_won,
			  const char *local_hlc, const char *remote_hlc, const char *office,
			  const char *la, const char *why);

/* A row's values, owned (sqlite3_value_dup). */
typedef struct arow {
	sqlite3_value **rw_v; /* ncol values, owned (sqlite3_value_dup) */
	int rw_n;
} arow;

/* Statements and table shapes kept between the entries of one batch: every
 * entry would otherwise parse a dozen statements and read the table info of
 * each table it touches (most of the hub's time per entry, bench_sync). */
#define SYNC_CACHE_NST 6
struct sync_apply_cache {
	sqlite3 *ac_db;
	tcache *ac_tc;
	int ac_ntc;
	sqlite3_stmt *ac_origin;
	/* the grouped apply's change log: LOG_ROWS_PER_STMT rows, one row */
	sqlite3_stmt *ac_log, *ac_log1;
	/* tables with triggers of their own (their rows take the merge), and
	 * tables with only the change log's (apply_batch.c, plain_table()) */
	const table_def *ac_trig[64], *ac_plain[64];
	int ac_ntrig, ac_nplain;
	/* what an actx borrows: conflict, tomb get/put/del, clock get/put */
	sqlite3_stmt *ac_st[SYNC_CACHE_NST];
};

/* Set when SQLite could not give a text value (out of memory). */
extern __thread int sync__apply_oom;
extern sync_row_validator sync__row_validator;

/* ---- values (apply_row.c) ---- */
int sync__val_type(sqlite3_value *v);
const char *sync__val_text(sqlite3_value *v);
int sync__val_eq(sqlite3_value *a, sqlite3_value *b);
/* Append a value / a whole row as typed JSON to b (sticky *rc). */
void sync__json_value(buf *b, sqlite3_value *v, int *rc);
void sync__json_row(buf *b, const sync__tshape *ts, sqlite3_value **row, int *rc);

/* ---- context (apply.c) ---- */
int sync__refuse(actx *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sync__refuse_rc(actx *a, int rc);
void sync__actx_release(actx *a);
/* Prepare *st on first use, else reset it and clear its bindings.  0 or -1. */
int sync__prep(actx *a, sqlite3_stmt **st, const char *sql);
/* The table's cached shape and statements (loaded on first use); NULL on error. */
tcache *sync__table_get(actx *a, const table_def *td);
/* Step a write: A_OK, A_REFUSE on a constraint (the node's fault), A_ERROR. */
int sync__step_write(actx *a, sqlite3_stmt *st, const char *what);
/* Pass 1 of an entry: our own bounds-checked walk of a->ax_e (A_*). */
int sync__prewalk(actx *a);
/* The same, calling each (when not NULL) on every change it accepts, with
 * the change's table; each's -1 ends the walk with A_ERROR.  The walk may
 * refuse a later change after each has seen earlier ones. */
int sync__prewalk_each(actx *a, int (*each)(void *arg, const cs_iter *it, tcache *tc), void *arg);
/* Set (node_id) or clear (NULL) the change log's origin; *st kept by the caller. */
int sync__set_origin(sqlite3 *db, sqlite3_stmt **st, const char *node_id);
/* Statements from the cache into a / back into the cache (each reset). */
void sync__cache_take(sync_apply_cache *c, actx *a);
void sync__cache_keep(sync_apply_cache *c, actx *a);

/* ---- rows (apply_row.c) ---- */
void sync__row_free(arow *r);
int sync__row_alloc(arow *r, int n);
/* The hub's row / its tombstone: 1 found (into r), 0 none, -1 error. */
int sync__row_load(actx *a, tcache *tc, const char *id, arow *r);
int sync__row_from_tombstone(actx *a, tcache *tc, const char *id, arow *r, char *del_hlc,
			     size_t hn);
int sync__tomb_put(actx *a, tcache *tc, const char *id, sqlite3_value **v);
int sync__tomb_del(actx *a, tcache *tc, const char *id);
int sync__write_row(actx *a, tcache *tc, sqlite3_stmt *st, sqlite3_value **v, const char *what);
/* The domain validator on the row with this id as stored now (A_*); nv the
 * change's new values (sync_change_sets()), NULL for a DELETE or, for an
 * INSERT, a whole row; was, for an UPDATE, the hub's row before the merge
 * (sync_change_was()), else NULL. */
int sync__validate(actx *a, tcache *tc, const char *id, int op, sqlite3_value **nv,
		   sqlite3_value **was);
/* The same on row j, the row as db_row_json() reads it from the database. */
int sync__validate_json(actx *a, tcache *tc, const cJSON *j, int op, sqlite3_value **nv);
/* The row an INSERT of ncol values v stores, as db_row_json() would read it
 * back: only when every column is there and SQLite stores each value as it
 * is (its type matches the column's affinity), else NULL (read the row; NULL
 * on running out of memory too).  The row and its members are made in *a, a
 * list of blocks the caller frees at once with sync__jarena_free() (no
 * cJSON_Delete: the row is for reading only, as validators take it). */
typedef struct sync__jarena sync__jarena;
cJSON *sync__insert_json(sync__jarena **a, const sync__tshape *ts, sqlite3_value **v, int ncol);
void sync__jarena_free(sync__jarena *a);
/* 1 when SQLite cannot give one of the row's text values (out of memory). */
int sync__row_oom(const sync__tshape *ts, sqlite3_value **v);
/* May this node write a row with these values? (A_*)  Every text value is
 * converted first (A_ERROR when SQLite cannot: out of memory). */
int sync__scope_ok(actx *a, tcache *tc, sqlite3_value **v);
/* The same converting only the values read here and by the log (the id and
 * the scope columns), for the grouped apply, which binds the others as
 * they are (sync__insert_json() reads their bytes). */
int sync__scope_ok_keys(actx *a, tcache *tc, sqlite3_value **v);

#endif
