/*
 * changeset.h - SQLite session changesets and patchsets, read with our own
 * bounds-checked walker and written with a small patchset encoder; plus the
 * live shape of a replicated table (columns, key, scope columns) that the
 * hub's apply, pull and digest code share.
 *
 * Why our own walker: a changeset from the network is hostile input and the
 * session extension's reader has had memory-safety bugs (CVE-2023-7104).  The
 * hub walks every entry with changeset_next() first - every length checked
 * against the bytes that remain, every type byte known, the column count
 * checked against the live table - and only then hands it to
 * sqlite3changeset_start_v2().
 *
 * The format (ext/session/sqlite3session.c), byte by byte:
 *
 *   table header:  'T' (changeset) or 'P' (patchset)
 *                  varint nCol
 *                  nCol bytes: primary-key flags (0, or the column's 1-based
 *                  position in the key)
 *                  table name, NUL-terminated
 *   change:        1 byte op: SQLITE_INSERT (18), SQLITE_UPDATE (23),
 *                  SQLITE_DELETE (9)
 *                  1 byte indirect flag (0 or 1)
 *                  records, each a value per column:
 *                    changeset INSERT  new record (nCol values)
 *                    changeset DELETE  old record (nCol values)
 *                    changeset UPDATE  old record, then new record; columns
 *                                      not changed are "undefined" (except
 *                                      the key, in the old record)
 *                    patchset INSERT   new record
 *                    patchset DELETE   key columns only
 *                    patchset UPDATE   one record (key + changed columns)
 *   value:         1 type byte, then
 *                    0 undefined       nothing
 *                    1 INTEGER         8 bytes, big-endian two's complement
 *                    2 FLOAT           8 bytes, big-endian IEEE 754 bits
 *                    3 TEXT            varint length, bytes (no NUL)
 *                    4 BLOB            varint length, bytes
 *                    5 NULL            nothing
 *   varint:        SQLite's: big-endian groups of 7 bits, high bit set on
 *                  every byte but the last; a 9th byte carries 8 bits.
 *
 * A table header may be followed by any number of changes; the next header
 * starts with 'T' / 'P'.  A stream mixing 'T' and 'P' headers is refused.
 */
#ifndef OUTPOST_CHANGESET_H
#define OUTPOST_CHANGESET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/db.h"
#include "lib/varint.h"
#include "model/schema.h"
#include "sync/sync.h"

#define CHANGESET_MAX_COLUMNS 1000    /* SQLite's own limit is 2000 */
/* One TEXT/BLOB value, bytes: room for an attachment's file (model/crm.h
 * CRM_ATTACH_MAX; changeset.c checks that it fits). */
#define CHANGESET_MAX_VALUE (4 << 20)
#define CHANGESET_MAX_CHANGES 100000  /* changes in one changeset */

/* Value type bytes (the same numbers as SQLITE_INTEGER ... SQLITE_NULL). */
enum {
	CSV_UNDEFINED = 0,
	CSV_INTEGER = 1,
	CSV_FLOAT = 2,
	CSV_TEXT = 3,
	CSV_BLOB = 4,
	CSV_NULL = 5,
};

typedef struct cs_value {
	int cv_type;               /* CSV_* */
	int64_t cv_int;
	double cv_real;
	const unsigned char *cv_p; /* TEXT/BLOB bytes, borrowed from the input */
	size_t cv_n;
} cs_value;

typedef struct cs_iter {
	const unsigned char *ci_p, *ci_end;
	int ci_patchset;           /* -1 until the first header */
	/* current table (valid after changeset_next() returned 1) */
	const char *ci_table;      /* borrowed from the input (NUL-terminated there) */
	int ci_ncol;
	const unsigned char *ci_pk; /* ci_ncol key flags, borrowed */
	int ci_new_table;          /* 1 when this change opened a new table header */
	/* current change */
	int ci_op;                 /* SQLITE_INSERT / SQLITE_UPDATE / SQLITE_DELETE */
	int ci_indirect;
	cs_value *ci_old, *ci_new; /* ci_ncol each; CSV_UNDEFINED where absent */
	int ci_cap;
	long ci_nchanges;
	const unsigned char *ci_change; /* the current change's first byte (its op) */
	/* Set by the caller: a TEXT value that is not valid UTF-8 (or holds a NUL)
	 * does not end the walk; ci_bad_text says the current change has one.
	 * Only for a node setting such a change aside (sync/pull.c). */
	int ci_lenient;
	int ci_bad_text;
} cs_iter;

/* Set up a walk over len bytes at p (borrowed for the iterator's life). */
void changeset_iter_init(cs_iter *it, const void *p, size_t len);
/* Read the next change.  1 = got one, 0 = clean end, -1 = malformed, with
 * *err a static description.  Never reads outside [p, p + len). */
int changeset_next(cs_iter *it, const char **err);
void changeset_iter_release(cs_iter *it);


/*
 * Encoder: sticky error codes (nothing happens once *rc != 0, *rc = -1 when
 * out would pass its maximum).
 *   changeset_put_table   header ('P' when patchset) with the key flags
 *   changeset_put_op      op byte and indirect byte
 *   changeset_put_value   one value from an sqlite3_value (NULL pointer =
 *                         undefined)
 */
void changeset_put_table(buf *out, int patchset, const char *name, int ncol,
			 const unsigned char *pk, int *rc);
void changeset_put_op(buf *out, int op, int indirect, int *rc);
void changeset_put_value(buf *out, sqlite3_value *v, int *rc);
/* The same for a value the reader gave (cs_value), as it was written:
 * its type byte, then 8 bytes for numbers, a varint length and the bytes
 * for text and blobs, nothing more for NULL and undefined. */
void changeset_put_csvalue(buf *out, const cs_value *v, int *rc);

/*
 * A changeset written before db's schema grew, in the shape its tables
 * have now.  The migrations only ever add tables and add columns at the
 * end of one (ALTER TABLE ADD COLUMN; never a drop, a rename or a new
 * order: model/schema_*.c), so an older change is a change of the table as
 * it is now with the added columns at their defaults - what ALTER TABLE
 * gave every row there was - in an INSERT's and a DELETE's record, and
 * undefined (not changed) in both of an UPDATE's.  The whole changeset
 * into out (reset first): 0; -1 with *err when it is malformed, names a
 * table db does not have, or has more columns than db's table.
 */
int changeset_upgrade(sqlite3 *db, const void *p, size_t len, buf *out, const char **err);

/* ---- the live shape of a replicated table (shared by apply/pull/digest) ---- */

typedef struct sync__tshape {
	const table_def *ts_td;
	int ts_ncol;
	char **ts_cols;            /* column names, PRAGMA table_info order */
	unsigned char *ts_pk;      /* key flags as the session extension writes them */
	char *ts_aff;              /* column affinities: SYNC_AFF_* (0 unknown) */
	int ts_id;                 /* index of "id" (-1 none) */
	int ts_hlc;                /* index of "updated_hlc" or -1 */
	int ts_scope;              /* index of td_scope_col or -1 */
	int ts_la;                 /* index of "local_area_id" or -1 */
	int ts_row_office;         /* "scope_office" (SCOPE_ROW) or -1 */
	int ts_row_la;             /* "scope_la" (SCOPE_ROW) or -1 */
	int ts_final;              /* index of td_final_col or -1 */
	int ts_soft_del;           /* index of td_soft_delete_col or -1 */
	int ts_soft_seen;          /* index of its witness ("<col>_seen") or -1 */
	char *ts_collist;          /* "\"id\",\"a\",..." for SQL */
} sync__tshape;

/* A column's affinity (which values SQLite converts on storing them), for a
 * declared type that is one of the plain names (TEXT, INTEGER, INT, REAL,
 * NUMERIC, BLOB or none); 0 for any other. */
#define SYNC_AFF_BLOB 'b'
#define SYNC_AFF_TEXT 't'
#define SYNC_AFF_NUMERIC 'n'
#define SYNC_AFF_INTEGER 'i'
#define SYNC_AFF_REAL 'r'
char sync__affinity(const char *decltype);

/* Read the table's columns from the live database.  0, or -1 (table missing,
 * no "id" column, out of memory).  Release with sync__tshape_release. */
int sync__tshape_load(sqlite3 *db, const table_def *td, sync__tshape *ts);
void sync__tshape_release(sync__tshape *ts);
/* Scope of a row (values per column, NULL pointers allowed): borrowed
 * strings or NULL, computed exactly as the hub's change-log triggers do. */
void sync__row_scope(const sync__tshape *ts, sqlite3_value **row, const char **office,
		     const char **la);
/* 1 when a row of scope (office, la) may be held by the node (sc NULL: yes). */
int sync__scope_holds(const sync_scope *sc, const char *office, const char *la);
/* Head of the change log (the last seq ever issued; 0 when none). */
int64_t sync__log_head(sqlite3 *db);

#endif
