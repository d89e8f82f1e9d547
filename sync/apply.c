/*
 * apply.c - the hub side of a push: the hub's replication tables and
 * change-log triggers, and the validation and column-wise three-way merge of
 * one node changeset (see sync.h for the protocol, DESIGN.md "Conflicts" and
 * "Validation at the hub" for the rules).
 *
 * An entry is handled in three passes inside one SAVEPOINT:
 *   1. our own bounds-checked walk (sync/changeset.c): structure, tables
 *      known, replicated and node-writable, column counts and key flags equal
 *      to the live table's, append-only tables only inserted, keys non-empty
 *      TEXT - before SQLite's changeset reader sees a byte;
 *   2. sqlite3changeset_start_v2 over the same bytes, each change validated
 *      against the hub's current row (scope) and merged by hand with
 *      prepared statements (never sqlite3changeset_apply: the hub decides);
 *   3. the optional domain validator on every resulting row.
 * A refusal anywhere rolls the savepoint back and writes the raw entry to
 * quarantine; an internal error rolls back and returns -1.
 *
 * Merge rules, per changed column (base = the changeset's old value, remote
 * = its new value, local = the hub's current value): local == base -> take
 * remote; local == remote -> nothing; otherwise a conflict, won by the later
 * write of the column (the remote row's updated_hlc against the column's
 * clock at the hub, below, or the hub row's updated_hlc when it has none;
 * the text form orders by time, then counter, then node id), recorded in
 * `conflicts`.  A final
 * value (table_def td_final_col) is never left by an office's edit; where
 * the row's other columns move with it (td_final_holds), such an edit is
 * held whole: nothing of it is taken, neither its stamp nor a column
 * clock.  Where the row is a record once final (TD_FINAL_RECORD: a closed
 * work item), any edit that crossed the final state is held whole so, each
 * of its values the hub does not hold a conflict naming that state (a
 * second office's close: "closed at two offices"), and a soft delete that
 * crossed it is not taken, its conflict naming the state too.  An edit
 * beats a delete in either order: a DELETE whose old values no longer match
 * keeps the row; an UPDATE of a deleted row resurrects it from its
 * tombstone.  Both record a conflict on column "*deleted*".  An edit of an
 * older version of a row that the hub has written since, which merged
 * breaks a rule, is not taken: each of its values is a conflict the hub
 * won, with the rule as its reason (keep_hub_row()); an edit of the row as
 * the hub has it that breaks one is the office's own, and quarantined.
 *
 * local == base does not always mean "the hub side left the column alone":
 * it may have been changed and changed back (A -> B -> A) by writes newer
 * than the remote one, and taking the remote value would then silently
 * undo the newest write.  So the hub keeps, per column, the HLC of the last
 * write that set it through a merge, or wrote the value it already had, or
 * wrote it at the hub itself (sync_hub_clock_stamp(): a conflict resolved in
 * the console, a hand-over) (col_clocks, hub-only); when local == base but that clock is newer than
 * the remote write, the column is a conflict like any other (the newer local
 * side wins, the remote value is kept in `conflicts`).  No clock = not
 * changed since the row was inserted.
 */
#include "sync/apply_int.h"
#include "model/schema.h"
#include "lib/hlc.h"
#include "lib/log.h"
#include "lib/testhook.h"
#include "lib/uuid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one apply: context and statement cache ----------------------------------- */


int sync__refuse(actx *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sync__refuse(actx *a, const char *fmt, ...)
{
	va_list ap;

	if (sync__apply_oom) {
		sync__apply_oom = 0;
		return A_ERROR; /* not refused: the node sends it again */
	}
	va_start(ap, fmt);
	vsnprintf(a->ax_reason, sizeof a->ax_reason, fmt, ap);
	va_end(ap);
	/* Reasons can quote a node's bytes (a table name): keep them printable
	 * ASCII for the log line, the console and the JSON reply (a byte past
	 * 0x7f may be half a character cut by the length limit, or no UTF-8). */
	for (char *p = a->ax_reason; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return A_REFUSE;
}

/* A changeset SQLite cannot read: refused, unless SQLite ran out of memory
 * reading it (then it is our failure, and the node sends it again). */
int sync__refuse_rc(actx *a, int rc)
{
	if ((rc & 0xff) == SQLITE_NOMEM)
		return A_ERROR;
	return sync__refuse(a, "corrupt changeset (%s)", sqlite3_errstr(rc));
}

void sync__actx_release(actx *a)
{
	for (int i = 0; i < a->ax_ntc; i++) {
		sqlite3_finalize(a->ax_tc[i].tc_sel);
		sqlite3_finalize(a->ax_tc[i].tc_ins);
		sqlite3_finalize(a->ax_tc[i].tc_upd);
		sqlite3_finalize(a->ax_tc[i].tc_del);
		sync__tshape_release(&a->ax_tc[i].tc_ts);
	}
	free(a->ax_tc);
	a->ax_tc = NULL;
	a->ax_ntc = 0;
	sqlite3_finalize(a->ax_conflict);
	sqlite3_finalize(a->ax_tomb_get);
	sqlite3_finalize(a->ax_tomb_put);
	sqlite3_finalize(a->ax_tomb_del);
	sqlite3_finalize(a->ax_clk_get);
	sqlite3_finalize(a->ax_clk_put);
	a->ax_conflict = a->ax_tomb_get = a->ax_tomb_put = a->ax_tomb_del = NULL;
	a->ax_clk_get = a->ax_clk_put = NULL;
}

int sync__prep(actx *a, sqlite3_stmt **st, const char *sql)
{
	if (*st) {
		sqlite3_reset(*st);
		sqlite3_clear_bindings(*st);
		return 0;
	}
	return db_prepare(a->ax_db, st, sql);
}

/* The cached shape and statements of a replicated table, loading it on first
 * use.  NULL on an internal error. */
tcache *sync__table_get(actx *a, const table_def *td)
{
	tcache *tc, *n;
	buf sql = BUF_INIT(64 * 1024);
	int ok = 0;

	for (int i = 0; i < a->ax_ntc; i++)
		if (a->ax_tc[i].tc_ts.ts_td == td)
			return &a->ax_tc[i];
	n = realloc(a->ax_tc, (size_t)(a->ax_ntc + 1) * sizeof *n);
	if (n == NULL)
		return NULL;
	a->ax_tc = n;
	tc = &a->ax_tc[a->ax_ntc];
	memset(tc, 0, sizeof *tc);
	if (sync__tshape_load(a->ax_db, td, &tc->tc_ts) != 0)
		return NULL;
	a->ax_ntc++;
	if (buf_printf(&sql, "SELECT %s FROM \"%s\" WHERE \"id\"=?1", tc->tc_ts.ts_collist,
		       td->td_name) != 0 ||
	    db_prepare(a->ax_db, &tc->tc_sel, sql.data) != 0)
		goto out;
	buf_reset(&sql);
	if (buf_printf(&sql, "INSERT INTO \"%s\"(%s) VALUES(", td->td_name, tc->tc_ts.ts_collist) != 0)
		goto out;
	for (int i = 0; i < tc->tc_ts.ts_ncol; i++)
		if (buf_printf(&sql, "%s?%d", i ? "," : "", i + 1) != 0)
			goto out;
	if (buf_puts(&sql, ")") != 0 || db_prepare(a->ax_db, &tc->tc_ins, sql.data) != 0)
		goto out;
	buf_reset(&sql);
	if (buf_printf(&sql, "UPDATE \"%s\" SET ", td->td_name) != 0)
		goto out;
	for (int i = 0, k = 0; i < tc->tc_ts.ts_ncol; i++)
		if (i != tc->tc_ts.ts_id &&
		    buf_printf(&sql, "%s\"%s\"=?%d", k++ ? "," : "", tc->tc_ts.ts_cols[i], i + 1) != 0)
			goto out;
	if (buf_printf(&sql, " WHERE \"id\"=?%d", tc->tc_ts.ts_id + 1) != 0 ||
	    db_prepare(a->ax_db, &tc->tc_upd, sql.data) != 0)
		goto out;
	buf_reset(&sql);
	if (buf_printf(&sql, "DELETE FROM \"%s\" WHERE \"id\"=?1", td->td_name) != 0 ||
	    db_prepare(a->ax_db, &tc->tc_del, sql.data) != 0)
		goto out;
	ok = 1;
out:
	buf_release(&sql);
	return ok ? tc : NULL;
}

/* Map a failed write: a constraint is the node's fault (sync__refuse), anything
 * else is ours. */
int sync__step_write(actx *a, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return A_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_MISMATCH ||
	    (rc & 0xff) == SQLITE_TOOBIG)
		return sync__refuse(a, "%s refused by the database: %s", what, sqlite3_errmsg(a->ax_db));
	log_warnx("cannot %s: %s", what, sqlite3_errmsg(a->ax_db));
	return A_ERROR;
}

int sync__conflict_insert(actx *a, const char *tbl, const char *id, const char *column,
			  const char *base, const char *local, const char *remote, int remote_won,
			  const char *local_hlc, const char *remote_hlc, const char *office,
			  const char *la, const char *why)
{
	char cid[UUID_STRLEN];
	const char *max_hlc;
	sqlite3_stmt *st;

	if (uuid7(cid) != 0)
		return A_ERROR;
	if (sync__prep(a, &a->ax_conflict,
		 "INSERT INTO conflicts(id, tbl, row_id, column_name, base_value, local_value, "
		 "remote_value, winner, local_hlc, remote_hlc, node_id, actor, origin_seq, created_at, "
		 "scope_office, scope_la, updated_hlc, reason) "
		 "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18)") != 0)
		return A_ERROR;
	st = a->ax_conflict;
	max_hlc = local_hlc && remote_hlc ? (strcmp(local_hlc, remote_hlc) > 0 ? local_hlc : remote_hlc)
				      : (remote_hlc ? remote_hlc : a->ax_e->hlc);
	sqlite3_bind_text(st, 1, cid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, tbl, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, column ? column : "*deleted*", -1, SQLITE_TRANSIENT);
	db_bind_text(st, 5, base);
	db_bind_text(st, 6, local);
	db_bind_text(st, 7, remote);
	sqlite3_bind_text(st, 8, remote_won ? "remote" : "local", -1, SQLITE_STATIC);
	db_bind_text(st, 9, local_hlc);
	db_bind_text(st, 10, remote_hlc);
	sqlite3_bind_text(st, 11, a->ax_sc->node_id, -1, SQLITE_TRANSIENT);
	db_bind_text(st, 12, a->ax_e->actor);
	sqlite3_bind_int64(st, 13, a->ax_e->seq);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)hlc_wall_ms());
	db_bind_text(st, 15, office);
	db_bind_text(st, 16, la);
	db_bind_text(st, 17, max_hlc ? max_hlc : "");
	db_bind_text(st, 18, why);
	if (sync__step_write(a, st, "record conflict") != A_OK)
		return A_ERROR;
	a->ax_res->conflicts++;
	return A_OK;
}

static int conflict(actx *a, tcache *tc, sqlite3_value **merged, const char *id, const char *column,
		    const char *base, const char *local, const char *remote, int remote_won,
		    const char *local_hlc, const char *remote_hlc)
{
	const char *office, *la;

	if (sync__row_oom(&tc->tc_ts, merged))
		return A_ERROR;
	sync__row_scope(&tc->tc_ts, merged, &office, &la);
	return sync__conflict_insert(a, tc->tc_ts.ts_td->td_name, id, column, base, local, remote,
				     remote_won, local_hlc, remote_hlc, office, la, a->ax_why);
}

/* Conflict on a column: the three values as JSON text. */
static int conflict_col(actx *a, tcache *tc, sqlite3_value **merged, const char *id, int col,
			sqlite3_value *base, sqlite3_value *local, sqlite3_value *remote, int remote_won,
			const char *local_hlc, const char *remote_hlc)
{
	buf b = BUF_INIT(CHANGESET_MAX_VALUE * 4), l = BUF_INIT(CHANGESET_MAX_VALUE * 4),
	    r = BUF_INIT(CHANGESET_MAX_VALUE * 4);
	int rc = 0, ret = A_ERROR;

	sync__json_value(&b, base, &rc);
	sync__json_value(&l, local, &rc);
	sync__json_value(&r, remote, &rc);
	if (rc == 0)
		ret = conflict(a, tc, merged, id, tc->tc_ts.ts_cols[col], b.data, l.data, r.data,
			       remote_won, local_hlc, remote_hlc);
	buf_release(&b);
	buf_release(&l);
	buf_release(&r);
	return ret;
}

/* Conflict of an edit with a delete: the surviving row as JSON on its side. */
static int conflict_deleted(actx *a, tcache *tc, sqlite3_value **kept, const char *id,
			    int remote_won, const char *local_hlc, const char *remote_hlc)
{
	buf j = BUF_INIT(SYNC_MAX_CHANGESET * 4);
	int rc = 0, ret = A_ERROR;

	sync__json_row(&j, &tc->tc_ts, kept, &rc);
	if (rc == 0)
		ret = conflict(a, tc, kept, id, NULL, NULL, remote_won ? NULL : j.data,
			       remote_won ? j.data : NULL, remote_won, local_hlc, remote_hlc);
	buf_release(&j);
	return ret;
}

/* ---- column clocks -------------------------------------------------------------- */

/* The clock of column col of row id into out (empty when none).  A_OK or
 * A_ERROR. */
static int clock_get(actx *a, tcache *tc, const char *id, int col, char *out, size_t n)
{
	int rc;

	out[0] = '\0';
	if (sync__prep(a, &a->ax_clk_get,
		 "SELECT hlc FROM col_clocks WHERE tbl=?1 AND row_id=?2 AND col=?3") != 0)
		return A_ERROR;
	sqlite3_bind_text(a->ax_clk_get, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_clk_get, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ax_clk_get, 3, tc->tc_ts.ts_cols[col], -1, SQLITE_STATIC);
	rc = sqlite3_step(a->ax_clk_get);
	if (rc == SQLITE_ROW) {
		const char *t = db_col(a->ax_clk_get, 0);

		if (t == NULL) /* out of memory: never "no clock", which loses to anything */
			rc = SQLITE_NOMEM;
		else
			snprintf(out, n, "%s", t);
	}
	sqlite3_reset(a->ax_clk_get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("cannot read a column clock: %s", sqlite3_errmsg(a->ax_db));
		return A_ERROR;
	}
	return A_OK;
}

static int clock_put(actx *a, tcache *tc, const char *id, int col, const char *when)
{
	if (sync__prep(a, &a->ax_clk_put,
		 "INSERT INTO col_clocks(tbl, row_id, col, hlc) VALUES(?1, ?2, ?3, ?4) "
		 "ON CONFLICT(tbl, row_id, col) DO UPDATE SET hlc=excluded.hlc "
		 "WHERE excluded.hlc > col_clocks.hlc") != 0)
		return A_ERROR;
	sqlite3_bind_text(a->ax_clk_put, 1, tc->tc_ts.ts_td->td_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_clk_put, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(a->ax_clk_put, 3, tc->tc_ts.ts_cols[col], -1, SQLITE_STATIC);
	sqlite3_bind_text(a->ax_clk_put, 4, when, -1, SQLITE_TRANSIENT);
	return sync__step_write(a, a->ax_clk_put, "record a column clock") == A_OK ? A_OK : A_ERROR;
}

/* ---- the three operations ---------------------------------------------------- */

/*
 * The first steps of an insert or a delete, on its values vals (the new or
 * the old ones): every column present (else refused with corrupt, the
 * message), the row in the node's scope, and the hub's row now loaded into
 * cur.  A_OK with *found 1 (cur loaded) or 0; else A_REFUSE or A_ERROR.
 */
static int op_start(actx *a, tcache *tc, sqlite3_value **vals, const char *id,
		    const char *corrupt, arow *cur, int *found)
{
	int rc;

	for (int i = 0; i < tc->tc_ts.ts_ncol; i++)
		if (vals[i] == NULL)
			return sync__refuse(a, "%s", corrupt);
	if ((rc = sync__scope_ok(a, tc, vals)) != A_OK)
		return rc;
	if ((rc = sync__row_load(a, tc, id, cur)) < 0)
		return A_ERROR;
	*found = rc;
	return A_OK;
}

static int op_insert(actx *a, tcache *tc, sqlite3_value **nv, const char *id)
{
	arow cur = {0};
	int rc, found;

	rc = op_start(a, tc, nv, id, "corrupt changeset (insert without a value)", &cur, &found);
	if (rc != A_OK)
		return rc;
	if (found) {
		const table_def *td = tc->tc_ts.ts_td;
		int same = 1, fact;

		/* an append-only row born at two nodes under one id (a visit's
		 * day_end): the same fact when it agrees on the fact columns */
		(void)schema_fact_col(td, NULL, &fact);
		for (int i = 0; i < tc->tc_ts.ts_ncol && same; i++)
			same = sync__val_eq(cur.rw_v[i], nv[i]) ||
			       (fact && !schema_fact_col(td, tc->tc_ts.ts_cols[i], NULL));
		sync__row_free(&cur);
		return same ? A_OK : sync__refuse(a, "duplicate key with different values in '%s'",
					    td->td_name);
	}
	if ((rc = sync__write_row(a, tc, tc->tc_ins, nv, "insert")) != A_OK ||
	    (rc = sync__tomb_del(a, tc, id)) != A_OK)
		return rc;
	return sync__validate(a, tc, id, SQLITE_INSERT, nv, NULL);
}

static int op_delete(actx *a, tcache *tc, sqlite3_value **ov, const char *id)
{
	arow cur = {0};
	int rc, found, same = 1;
	const char *lh;

	rc = op_start(a, tc, ov, id, "corrupt changeset (delete without old values)", &cur, &found);
	if (rc != A_OK || !found)
		return rc; /* A_OK: already gone */
	if ((rc = sync__scope_ok(a, tc, cur.rw_v)) != A_OK)
		goto out;
	for (int i = 0; i < tc->tc_ts.ts_ncol && same; i++)
		same = sync__val_eq(cur.rw_v[i], ov[i]);
	if (!same) {
		/* Edited at the hub since the node saw it: the edit wins. */
		lh = tc->tc_ts.ts_hlc >= 0 ? sync__val_text(cur.rw_v[tc->tc_ts.ts_hlc]) : NULL;
		rc = conflict_deleted(a, tc, cur.rw_v, id, 0, lh, a->ax_e->hlc);
		goto out;
	}
	if ((rc = sync__validate(a, tc, id, SQLITE_DELETE, NULL, NULL)) != A_OK ||
	    (rc = sync__tomb_put(a, tc, id, cur.rw_v)) != A_OK)
		goto out;
	sqlite3_reset(tc->tc_del);
	sqlite3_bind_text(tc->tc_del, 1, id, -1, SQLITE_TRANSIENT);
	rc = sync__step_write(a, tc->tc_del, "delete");
out:
	sync__row_free(&cur);
	return rc;
}

/*
 * One column of an update: base (the node's old value), remote (its new one)
 * against local (the hub's current value, merged[i] on entry), lh and rh the
 * row's local and remote HLCs.  The rules are those above; hold: the change
 * is held whole (td_final_holds), the column kept as the final one is.
 * merged[i] and *changed are updated when the remote value is taken, and a
 * conflict row records the losing side.  A_OK or an A_* error.
 */
static int merge_col(actx *a, tcache *tc, const char *id, int i, sqlite3_value *base,
		     sqlite3_value *remote, sqlite3_value **merged, const char *lh, const char *rh,
		     int hold, int *changed)
{
	const sync__tshape *ts = &tc->tc_ts;
	const table_def *td = ts->ts_td;
	sqlite3_value *local = merged[i];
	char ch[128];
	int final_block, remote_wins;

	if (base == NULL)
		return sync__refuse(a, "corrupt changeset (update without an old value)");
	if (sync__val_eq(local, remote))
		/* Nothing to change, but the value now stands for this newer
		 * write too: an older one must not undo it later.  Not for a
		 * change held whole: none of it was taken, and its clock would
		 * make the next edit of the column by the office that wrote the
		 * final state (older by its clock) a conflict it loses. */
		return hold || clock_put(a, tc, id, i, rh) == A_OK ? A_OK : A_ERROR;
	/* A final value (a work item Closed, a case exited, a visit done or
	 * left) is never left:
	 * the office's other value, older or newer, is kept as a conflict. */
	final_block = hold || (i == ts->ts_final && schema_final(td, sync__val_text(local)));
	if (sync__val_eq(local, base) && !final_block) {
		if (clock_get(a, tc, id, i, ch, sizeof ch) != A_OK)
			return A_ERROR;
		if (ch[0] == '\0' || strcmp(ch, rh) < 0) {
			merged[i] = remote;
			*changed = 1;
			return clock_put(a, tc, id, i, rh) != A_OK ? A_ERROR : A_OK;
		}
		/* Changed and changed back by newer writes: theirs stands. */
		return conflict_col(a, tc, merged, id, i, base, local, remote, 0,
				    strcmp(ch, lh) > 0 ? ch : lh, rh);
	}
	/* Both sides changed the column: the later write of it wins.  Its
	 * clock says when the hub side last wrote it, where the row's stamp
	 * may be newer for another column's sake (an older edit of this
	 * column then beat a newer one); no clock, the row's stamp. */
	if (clock_get(a, tc, id, i, ch, sizeof ch) != A_OK)
		return A_ERROR;
	if (ch[0])
		lh = ch;
	remote_wins = !final_block && strcmp(rh, lh) > 0;
	if (test_plant("wallclock"))
		remote_wins = !final_block; /* planted bug: the later arrival wins */
	if (remote_wins) {
		merged[i] = remote;
		*changed = 1;
		if (clock_put(a, tc, id, i, rh) != A_OK)
			return A_ERROR;
	}
	if (test_plant("noconflict"))
		return A_OK; /* planted bug: merged, never recorded */
	return conflict_col(a, tc, merged, id, i, base, local, remote, remote_wins, lh, rh);
}

/* Does the node that sent nv hold a value the merge did not take?  Its
 * pull cursor may already be past the hub's winning state (it pulled that,
 * then wrote with an older clock), so unless the row is logged again it
 * keeps its losing value for good (the conflict row alone does not change
 * the row). */
static int node_differs(const sync__tshape *ts, sqlite3_value **nv, sqlite3_value **merged)
{
	for (int i = 0; i < ts->ts_ncol; i++)
		if (nv[i] != NULL && i != ts->ts_hlc && !sync__val_eq(merged[i], nv[i]))
			return 1;
	return 0;
}

/* What a soft delete (table_def td_soft_delete_col) meets at the hub. */
enum { SOFT_NONE, SOFT_KEEP, SOFT_REVIVE };

/* SOFT_KEEP when the hub's row id is not the one the witness seen holds,
 * SOFT_NONE when it is; A_ERROR (negative). */
static int soft_seen_differs(actx *a, tcache *tc, const char *id, const char *seen)
{
	char expr[2048];
	sqlite3_stmt *st = NULL;
	int rc, ret = A_ERROR;

	if (seen == NULL)
		return SOFT_KEEP;
	if (schema_soft_seen_expr(a->ax_db, tc->tc_ts.ts_td->td_name, expr, sizeof expr) != 0 ||
	    db_preparef(a->ax_db, &st, "SELECT %s FROM \"%w\" WHERE id=?1", expr,
			tc->tc_ts.ts_td->td_name) != 0)
		return A_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *mine = (const char *)sqlite3_column_text(st, 0);

		if (mine != NULL)
			ret = strcmp(mine, seen) == 0 ? SOFT_NONE : SOFT_KEEP;
	} else if (rc == SQLITE_DONE) {
		ret = SOFT_KEEP;
	}
	sqlite3_finalize(st);
	return ret;
}

/*
 * A soft delete is merged as a DELETE is (an edit beats a delete, in either
 * order), though column by column it would look like an edit of an
 * unrelated column and both would be taken, the edit hidden for good with no
 * conflict.  SOFT_KEEP: the update deletes the row (0 -> 1) and the hub's
 * row is not the one the office saw: its witness (schema_soft_seen_expr(),
 * as a DELETE's old values) differs from the hub's row, or, from an office
 * that sent none, the row's stamp moved since its base (which misses an
 * older edit merged after it): the row stays.
 * SOFT_REVIVE: the update edits a row deleted at the hub after the node's
 * base (the delete's clock is newer than the base's stamp): the row comes
 * back.  SOFT_NONE otherwise, or A_ERROR (negative).
 */
static int soft_delete_meets(actx *a, tcache *tc, sqlite3_value **ov, sqlite3_value **nv,
			     sqlite3_value **cur, const char *id, const char *lh)
{
	const sync__tshape *ts = &tc->tc_ts;
	int d = ts->ts_soft_del;
	const char *base;
	char ch[128];

	if (d < 0 || ts->ts_hlc < 0 || ov[ts->ts_hlc] == NULL ||
	    (base = sync__val_text(ov[ts->ts_hlc])) == NULL)
		return SOFT_NONE;
	if (nv[d] != NULL) {
		int w = ts->ts_soft_seen;

		if (sqlite3_value_int(nv[d]) != 1 || ov[d] == NULL || sqlite3_value_int(ov[d]) != 0 ||
		    sqlite3_value_int(cur[d]) != 0)
			return SOFT_NONE;
		if (w >= 0 && nv[w] != NULL && sqlite3_value_type(nv[w]) == SQLITE_TEXT)
			return soft_seen_differs(a, tc, id, sync__val_text(nv[w]));
		return strcmp(lh, base) != 0 ? SOFT_KEEP : SOFT_NONE;
	}
	if (sqlite3_value_int(cur[d]) != 1)
		return SOFT_NONE;
	if (clock_get(a, tc, id, d, ch, sizeof ch) != A_OK)
		return A_ERROR;
	return ch[0] && strcmp(base, ch) < 0 ? SOFT_REVIVE : SOFT_NONE;
}

/* A value 0 (owned: sqlite3_value_free), or NULL out of memory. */
static sqlite3_value *value_zero(actx *a)
{
	sqlite3_stmt *st = NULL;
	sqlite3_value *v = NULL;

	if (db_prepare(a->ax_db, &st, "SELECT 0") == 0 && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_value_dup(sqlite3_column_value(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* 1 when the hub wrote a column of row id after base, the office's stamp
 * of the row it edited (read before the merge stamps the change's own
 * columns): the merge then combines two edits.  0, or A_ERROR. */
static int hub_changed_since(actx *a, tcache *tc, const char *id, const char *base)
{
	int64_t r = db_int_bound(a->ax_db, -1,
				 "SELECT EXISTS(SELECT 1 FROM col_clocks WHERE tbl=?1 AND row_id=?2"
				 " AND hlc > ?3)",
				 "ttt", tc->tc_ts.ts_td->td_name, id, base);

	return r < 0 ? A_ERROR : (int)r;
}

/*
 * The office edited an older version of the row (its base stamp is not the
 * hub's), the hub has written columns of it since (hub_changed_since)
 * and the two edits merged make a row that breaks a rule - a lead
 * converted to a recruiting employer at one office while another cleared
 * its phone.  Each edit was valid on the row its office saw, so the entry
 * is not quarantined whole for it: the row's merge is
 * undone (ROLLBACK TO sync_row, opened by op_update), the hub's row stays
 * as it was, and each value of the office's the row does not hold is
 * recorded as a conflict the hub won, the rule as its reason, for the
 * console to review (choosing the office's value there is checked against
 * the rules again).  The row is logged again, so the office gets the hub's
 * back.  A_OK or A_ERROR.
 */
static int keep_hub_row(actx *a, tcache *tc, sqlite3_value **ov, sqlite3_value **nv,
			sqlite3_value **cur, const char *id, const char *lh, const char *rh,
			int conflicts_before)
{
	const sync__tshape *ts = &tc->tc_ts;
	const char *rule = a->ax_reason;
	char why[sizeof a->ax_reason + 96];
	int rc = A_OK;

	if (strncmp(rule, "domain rule: ", 13) == 0)
		rule += 13;
	snprintf(why, sizeof why, "the office's edit of a record the hub had changed since would"
				  " break a rule: %s", rule);
	a->ax_reason[0] = '\0';
	if (db_exec(a->ax_db, "ROLLBACK TO sync_row") != 0)
		return A_ERROR;
	a->ax_res->conflicts = conflicts_before; /* those of the merge undone */
	a->ax_why = why;
	for (int i = 0; rc == A_OK && i < ts->ts_ncol; i++)
		if (nv[i] != NULL && i != ts->ts_hlc && !sync__val_eq(cur[i], nv[i]))
			rc = conflict_col(a, tc, cur, id, i, ov[i], cur[i], nv[i], 0, lh, rh);
	a->ax_why = NULL;
	if (rc == A_OK)
		rc = sync__write_row(a, tc, tc->tc_upd, cur, "update");
	return rc == A_REFUSE ? A_ERROR : rc; /* the hub's own row, as it was */
}

static int op_update(actx *a, tcache *tc, sqlite3_value **ov, sqlite3_value **nv, const char *id)
{
	const sync__tshape *ts = &tc->tc_ts;
	const table_def *td = ts->ts_td;
	arow cur = {0};
	sqlite3_value **merged = NULL, *zero = NULL;
	char tomb_hlc[128] = "";
	const char *lh, *rh, *base;
	int rc, resurrect = 0, changed = 0, soft = SOFT_NONE, sp = 0, hold, crossed_record = 0;
	int crossed_final;
	char why[160], delete_why[160] = "";
	int conflicts_before = a->ax_res->conflicts;

	rc = sync__row_load(a, tc, id, &cur);
	if (rc < 0)
		return A_ERROR;
	if (rc == 0) {
		rc = sync__row_from_tombstone(a, tc, id, &cur, tomb_hlc, sizeof tomb_hlc);
		if (rc < 0)
			return A_ERROR;
		if (rc == 0)
			return sync__refuse(a, "update of a missing row in '%s'", td->td_name);
		resurrect = 1;
	}
	if ((rc = sync__scope_ok(a, tc, cur.rw_v)) != A_OK)
		goto out;
	merged = calloc((size_t)ts->ts_ncol, sizeof *merged);
	if (merged == NULL) {
		rc = A_ERROR;
		goto out;
	}
	for (int i = 0; i < ts->ts_ncol; i++)
		merged[i] = cur.rw_v[i];
	lh = ts->ts_hlc >= 0 ? sync__val_text(cur.rw_v[ts->ts_hlc]) : NULL;
	if (lh == NULL)
		lh = "";
	rh = ts->ts_hlc >= 0 ? sync__val_text(nv[ts->ts_hlc]) : NULL;
	if (rh == NULL)
		rh = a->ax_e->hlc;
	if (!resurrect && (soft = soft_delete_meets(a, tc, ov, nv, cur.rw_v, id, lh)) < 0) {
		rc = A_ERROR;
		goto out;
	}
	/* An edit of an older version of the row that the hub has written
	 * since: the merge may make a row that breaks a rule, then undone by
	 * keep_hub_row().  An edit of the row as the hub has it that breaks
	 * one is the office's own, and quarantined whole. */
	base = ts->ts_hlc >= 0 && ov[ts->ts_hlc] ? sync__val_text(ov[ts->ts_hlc]) : NULL;
	if (!resurrect && base != NULL && strcmp(base, lh) != 0 &&
	    (sp = hub_changed_since(a, tc, id, base)) != 0) {
		if (sp < 0 || db_exec(a->ax_db, "SAVEPOINT sync_row") != 0) {
			sp = 0;
			rc = A_ERROR;
			goto out;
		}
	}
	/* A row whose final column moves with its others (td_final_holds 1):
	 * a change the final value refuses is held whole.  A row that is a
	 * record once final (TD_FINAL_RECORD): an edit that crossed its final
	 * state is held whole, the reason naming the state (an edit of the row
	 * as the hub has it is the validator's); values equal to the hub's
	 * are no conflict (merge_col), so of a second office's close of the
	 * item only what differs (who and when closed it, a field changed with
	 * it) is kept, the reason saying it was closed twice.  A soft delete
	 * alone is merged as every soft delete is (an edit beats a delete:
	 * the close is an edit the deleting office had not seen), its
	 * "*deleted*" conflict naming the state. */
	hold = td->td_final_holds == 1 && ts->ts_final >= 0 && nv[ts->ts_final] != NULL &&
	       schema_final(td, sync__val_text(cur.rw_v[ts->ts_final])) &&
	       !sync__val_eq(cur.rw_v[ts->ts_final], nv[ts->ts_final]);
	crossed_final = td->td_final_holds == TD_FINAL_RECORD && ts->ts_final >= 0 && !resurrect &&
			base != NULL && strcmp(base, lh) != 0 &&
			schema_final(td, sync__val_text(cur.rw_v[ts->ts_final]));
	if (crossed_final) {
		const char *state = sync__val_text(cur.rw_v[ts->ts_final]);

		for (int i = 0; !crossed_record && i < ts->ts_ncol; i++)
			crossed_record = nv[i] != NULL && i != ts->ts_hlc && i != ts->ts_soft_del &&
					 i != ts->ts_soft_seen;
		if (crossed_record && nv[ts->ts_final] != NULL &&
		    schema_final(td, sync__val_text(nv[ts->ts_final])))
			snprintf(why, sizeof why, "closed at two offices (%s %s): the close that reached"
						  " the hub first stands, this office's is kept here",
				 td->td_final_col, state);
		else if (crossed_record)
			snprintf(why, sizeof why, "the office's edit crossed the record's final state"
						  " (%s %s): a final record is not edited",
				 td->td_final_col, state);
		else
			snprintf(delete_why, sizeof delete_why,
				 "the office's delete crossed the record's final state (%s %s): the"
				 " record stays; delete it again if it should go",
				 td->td_final_col, state);
		if (crossed_record) {
			/* (nothing of it taken: not a delete, nor a revival) */
			soft = SOFT_NONE;
			a->ax_why = why;
			hold = 1;
		}
	}
	for (int i = 0; i < ts->ts_ncol; i++) {
		if (nv[i] == NULL || i == ts->ts_hlc ||
		    (soft == SOFT_KEEP && (i == ts->ts_soft_del || i == ts->ts_soft_seen)))
			continue;
		if ((rc = merge_col(a, tc, id, i, ov[i], nv[i], merged, lh, rh, hold, &changed)) != A_OK)
			goto out;
	}
	a->ax_why = NULL;
	if (soft == SOFT_REVIVE) {
		if ((zero = value_zero(a)) == NULL) {
			rc = A_ERROR;
			goto out;
		}
		merged[ts->ts_soft_del] = zero;
		changed = 1;
	}
	/* updated_hlc becomes max(local, remote); a change held whole leaves
	 * the row as it was, its stamp too: the row is still the final state
	 * its office wrote, and that office's next delete or edit, based on
	 * its own stamp, must not meet a row "changed since" (a false
	 * conflict).  The row is logged again (node_differs), so every replica
	 * ends with the hub's row and stamp. */
	if (!hold && ts->ts_hlc >= 0 && sync__val_text(nv[ts->ts_hlc]) &&
	    strcmp(sync__val_text(nv[ts->ts_hlc]), lh) > 0) {
		merged[ts->ts_hlc] = nv[ts->ts_hlc];
		changed = 1;
	}
	if ((rc = sync__scope_ok(a, tc, merged)) != A_OK)
		goto out;
	if (resurrect) {
		/* An edit beats a delete: the row comes back with the edit. */
		if ((rc = sync__write_row(a, tc, tc->tc_ins, merged, "restore row")) != A_OK ||
		    (rc = sync__tomb_del(a, tc, id)) != A_OK ||
		    (rc = conflict_deleted(a, tc, merged, id, 1, tomb_hlc[0] ? tomb_hlc : NULL, rh)) !=
			    A_OK)
			goto out;
	} else if (changed) {
		if ((rc = sync__write_row(a, tc, tc->tc_upd, merged, "update")) != A_OK)
			goto out;
	} else if (soft == SOFT_KEEP) {
		/* The delete alone, lost: logged again for the node to get the
		 * row back (node_differs would say so too). */
		if ((rc = sync__write_row(a, tc, tc->tc_upd, merged, "update")) != A_OK)
			goto out;
	} else {
		/* Nothing taken.  The same values written again log the row
		 * (the change-log trigger), so the node gets the hub's back. */
		if (node_differs(ts, nv, merged))
			rc = sync__write_row(a, tc, tc->tc_upd, merged, "update");
		goto out;
	}
	/* The soft delete's side of it, as a DELETE's would be recorded. */
	if (soft == SOFT_KEEP) {
		a->ax_why = delete_why[0] ? delete_why : NULL;
		if ((rc = conflict_deleted(a, tc, merged, id, 0, lh, rh)) != A_OK)
			goto out;
		a->ax_why = NULL;
	}
	if (soft == SOFT_REVIVE) {
		char ch[128];

		if (clock_get(a, tc, id, ts->ts_soft_del, ch, sizeof ch) != A_OK ||
		    conflict_deleted(a, tc, merged, id, 1, ch, rh) != A_OK) {
			rc = A_ERROR;
			goto out;
		}
	}
	rc = sync__validate(a, tc, id, SQLITE_UPDATE, nv, cur.rw_v);
	if (sp && rc == A_REFUSE)
		rc = keep_hub_row(a, tc, ov, nv, cur.rw_v, id, lh, rh, conflicts_before);
out:
	a->ax_why = NULL; /* (why, of the record held: not past this call) */
	/* Refused or failed, the caller rolls the entry back: it goes too. */
	if (sp && db_exec(a->ax_db, "RELEASE sync_row") != 0 && rc == A_OK)
		rc = A_ERROR;
	sqlite3_value_free(zero);
	free(merged);
	sync__row_free(&cur);
	return rc;
}

/* ---- the passes ---------------------------------------------------------------- */

static int cs_text_ok(const cs_value *v)
{
	return v->cv_type == CSV_TEXT && v->cv_n > 0;
}

/* The index of the column named "hlc" in a table of events (its stamp,
 * where there is no updated_hlc), or -1. */
static int events_stamp_col(const sync__tshape *ts)
{
	for (int i = 0; i < ts->ts_ncol; i++)
		if (strcmp(ts->ts_cols[i], "hlc") == 0)
			return i;
	return -1;
}

/* 1 when stamp (an HLC that parses) names node_id as its node: ties
 * between concurrent edits break on the node part, so a node that stamped
 * another's id (or a higher one) would win them. */
static int stamp_is_nodes(const char *stamp, const char *node_id)
{
	const char *node = NULL;

	return hlc_parse(stamp, NULL, NULL, &node) == 0 && strcmp(node, node_id) == 0;
}

/* The values a change writes, as the hub takes them: a blob only in a
 * column declared BLOB (a blob in a text column would pass every rule that
 * reads the column as text, and break the reads of every office that pulls
 * it), and a time stamp (column stamp, updated_hlc or an event's hlc) that
 * is one, is at most HLC_MAX_AHEAD_MS ahead of the hub's clock (a later
 * one would win every merge of the row until that time, and carry the
 * clock of every office that pulls it there) and is the sending node's
 * (what an office wrote before its enrollment is sent under the identity
 * it has now: sync/restamp.c).  A_OK or refused. */
static int values_check(actx *a, const cs_iter *it, const sync__tshape *ts, int stamp, uint64_t now)
{
	for (int i = 0; i < it->ci_ncol; i++) {
		const cs_value *v = &it->ci_new[i];
		char s[HLC_STRLEN];

		if (v->cv_type == CSV_BLOB && ts->ts_aff[i] != SYNC_AFF_BLOB)
			return sync__refuse(a, "column '%s' of '%s' holds a blob, not a %s", ts->ts_cols[i],
					    ts->ts_td->td_name,
					    ts->ts_aff[i] == SYNC_AFF_TEXT ? "text" : "number");
		if (i != stamp || v->cv_type == CSV_UNDEFINED || v->cv_type == CSV_NULL)
			continue;
		if (v->cv_type == CSV_TEXT && v->cv_n == 0)
			continue; /* not stamped yet (the column's default) */
		if (v->cv_type != CSV_TEXT || v->cv_n >= sizeof s)
			return sync__refuse(a, "column '%s' of '%s' is not a time stamp", ts->ts_cols[i],
					    ts->ts_td->td_name);
		memcpy(s, v->cv_p, v->cv_n);
		s[v->cv_n] = '\0';
		if (!hlc_plausible(s, now))
			return sync__refuse(a, "column '%s' of '%s' is not a time stamp, or is more than"
					    " a year ahead of the hub's clock", ts->ts_cols[i],
					    ts->ts_td->td_name);
		if (!stamp_is_nodes(s, a->ax_sc->node_id))
			return sync__refuse(a, "column '%s' of '%s' is a time stamp of another node, not"
					    " the sending node's", ts->ts_cols[i], ts->ts_td->td_name);
	}
	return A_OK;
}

/* Pass 1: our own walk; nothing of SQLite's reader runs before it passes. */
int sync__prewalk(actx *a)
{
	return sync__prewalk_each(a, NULL, NULL);
}

int sync__prewalk_each(actx *a, int (*each)(void *arg, const cs_iter *it, tcache *tc), void *arg)
{
	cs_iter it;
	const char *err = NULL;
	tcache *tc = NULL;
	uint64_t now = hlc_wall_ms();
	int rc, ret = A_OK, stamp = -1;

	/* The entry's own stamp orders it and moves the hub's clock. */
	if (!hlc_plausible(a->ax_e->hlc, now))
		return sync__refuse(a, "the entry's time stamp is not one, or is more than a year ahead"
				    " of the hub's clock");
	changeset_iter_init(&it, a->ax_e->changeset, a->ax_e->len);
	while ((rc = changeset_next(&it, &err)) == 1) {
		if (it.ci_new_table) {
			const table_def *td = schema_table(it.ci_table);
			snprintf(a->ax_tbl, sizeof a->ax_tbl, "%s", it.ci_table);
			if (it.ci_patchset) {
				ret = sync__refuse(a, "patchsets are not accepted (no old values to merge)");
				goto out;
			}
			if (td == NULL) {
				ret = sync__refuse(a, "unknown table '%.100s'", it.ci_table);
				goto out;
			}
			if (td->td_kind == TK_HUB_OWNED) {
				ret = sync__refuse(a, "table '%s' is hub-owned", td->td_name);
				goto out;
			}
			if (td->td_scope == SCOPE_HUB_ONLY) {
				ret = sync__refuse(a, "table '%s' is not writable by nodes", td->td_name);
				goto out;
			}
			tc = sync__table_get(a, td);
			if (tc == NULL) {
				ret = A_ERROR;
				goto out;
			}
			if (it.ci_ncol != tc->tc_ts.ts_ncol) {
				ret = sync__refuse(a, "table '%s' has %d columns, the changeset %d", td->td_name,
					     tc->tc_ts.ts_ncol, it.ci_ncol);
				goto out;
			}
			for (int i = 0; i < it.ci_ncol; i++)
				if ((it.ci_pk[i] != 0) != (tc->tc_ts.ts_pk[i] != 0)) {
					ret = sync__refuse(a, "primary key of '%s' does not match", td->td_name);
					goto out;
				}
			stamp = tc->tc_ts.ts_hlc >= 0 ? tc->tc_ts.ts_hlc : events_stamp_col(&tc->tc_ts);
		}
		if (tc->tc_ts.ts_td->td_kind == TK_APPEND_ONLY && it.ci_op != SQLITE_INSERT) {
			ret = sync__refuse(a, "append-only table '%s': rows are only inserted",
				     tc->tc_ts.ts_td->td_name);
			goto out;
		}
		if (!cs_text_ok(it.ci_op == SQLITE_INSERT ? &it.ci_new[tc->tc_ts.ts_id]
							  : &it.ci_old[tc->tc_ts.ts_id])) {
			ret = sync__refuse(a, "primary key id of '%s' is not a non-empty text",
				     tc->tc_ts.ts_td->td_name);
			goto out;
		}
		/* A snapshot position carries an id (sync.h): ids are UUIDs, and
		 * one too long for a position would stop every snapshot there. */
		if ((it.ci_op == SQLITE_INSERT ? &it.ci_new[tc->tc_ts.ts_id]
					       : &it.ci_old[tc->tc_ts.ts_id])->cv_n > SYNC_SNAPSHOT_ID_MAX) {
			ret = sync__refuse(a, "primary key id of '%s' is longer than %d bytes",
				     tc->tc_ts.ts_td->td_name, SYNC_SNAPSHOT_ID_MAX);
			goto out;
		}
		if (it.ci_op == SQLITE_UPDATE && it.ci_new[tc->tc_ts.ts_id].cv_type != CSV_UNDEFINED) {
			ret = sync__refuse(a, "update changes the primary key of '%s'", tc->tc_ts.ts_td->td_name);
			goto out;
		}
		if ((ret = values_check(a, &it, &tc->tc_ts, stamp, now)) != A_OK)
			goto out;
		if (each != NULL && each(arg, &it, tc) != 0) {
			ret = A_ERROR;
			goto out;
		}
	}
	if (rc < 0 && err && strcmp(err, "out of memory") == 0)
		ret = A_ERROR;
	else if (rc < 0)
		ret = sync__refuse(a, "corrupt changeset (%s)", err ? err : "unreadable");
	else if (it.ci_nchanges == 0)
		ret = sync__refuse(a, "empty changeset");
	else if (!stamp_is_nodes(a->ax_e->hlc, a->ax_sc->node_id))
		ret = sync__refuse(a, "the entry's time stamp is another node's, not the sending"
				   " node's");
out:
	changeset_iter_release(&it);
	return ret;
}

/* Pass 2: SQLite's iterator over the bytes pass 1 accepted; sync__validate and merge. */
static int apply_changes(actx *a)
{
	sqlite3_changeset_iter *it = NULL;
	sqlite3_value **ov = NULL, **nv = NULL;
	int rc, ret = A_OK, cap = 0;

	rc = sqlite3changeset_start_v2(&it, (int)a->ax_e->len, (void *)a->ax_e->changeset, 0);
	if (rc != SQLITE_OK)
		return sync__refuse_rc(a, rc);
	while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
		const char *tname = NULL;
		const table_def *td;
		tcache *tc;
		int ncol = 0, op = 0, indirect = 0;
		const char *id;

		if (sqlite3changeset_op(it, &tname, &ncol, &op, &indirect) != SQLITE_OK ||
		    (td = schema_table(tname)) == NULL) {
			ret = sync__refuse(a, "corrupt changeset (iterator disagrees with the walk)");
			goto out;
		}
		if ((tc = sync__table_get(a, td)) == NULL) {
			ret = A_ERROR; /* pass 1 found the table: a statement failed */
			goto out;
		}
		if (ncol != tc->tc_ts.ts_ncol) {
			ret = sync__refuse(a, "corrupt changeset (iterator disagrees with the walk)");
			goto out;
		}
		snprintf(a->ax_tbl, sizeof a->ax_tbl, "%s", td->td_name);
		if (ncol > cap) {
			sqlite3_value **o = realloc(ov, (size_t)ncol * sizeof *o);
			if (o == NULL) {
				ret = A_ERROR;
				goto out;
			}
			ov = o;
			o = realloc(nv, (size_t)ncol * sizeof *o);
			if (o == NULL) {
				ret = A_ERROR;
				goto out;
			}
			nv = o;
			cap = ncol;
		}
		for (int i = 0; i < ncol; i++) {
			ov[i] = nv[i] = NULL;
			if (op != SQLITE_INSERT && sqlite3changeset_old(it, i, &ov[i]) != SQLITE_OK)
				ov[i] = NULL;
			if (op != SQLITE_DELETE && sqlite3changeset_new(it, i, &nv[i]) != SQLITE_OK)
				nv[i] = NULL;
		}
		id = sync__val_text(op == SQLITE_INSERT ? nv[tc->tc_ts.ts_id] : ov[tc->tc_ts.ts_id]);
		if (id == NULL || id[0] == '\0') {
			ret = sync__refuse(a, "primary key id of '%s' is not a non-empty text", td->td_name);
			goto out;
		}
		switch (op) {
		case SQLITE_INSERT:
			ret = op_insert(a, tc, nv, id);
			break;
		case SQLITE_DELETE:
			ret = op_delete(a, tc, ov, id);
			break;
		case SQLITE_UPDATE:
			ret = op_update(a, tc, ov, nv, id);
			break;
		default:
			ret = sync__refuse(a, "corrupt changeset (unknown operation)");
		}
		if (ret != A_OK)
			goto out;
	}
	if (rc != SQLITE_DONE)
		ret = sync__refuse_rc(a, rc);
out:
	rc = sqlite3changeset_finalize(it);
	if (ret == A_OK && rc != SQLITE_OK)
		ret = sync__refuse_rc(a, rc);
	free(ov);
	free(nv);
	return ret;
}

/* *st: a statement kept by the caller between calls (prepared on first use). */
int sync__set_origin(sqlite3 *db, sqlite3_stmt **st, const char *node_id)
{
	int ok;

	if (*st == NULL && db_prepare(db, st, "INSERT INTO sync_ctx(k, v) VALUES('origin', ?1) "
					      "ON CONFLICT(k) DO UPDATE SET v=excluded.v") != 0)
		return -1;
	sqlite3_reset(*st);
	db_bind_text(*st, 1, node_id);
	ok = sqlite3_step(*st) == SQLITE_DONE;
	sqlite3_reset(*st);
	return ok ? 0 : -1;
}


sync_apply_cache *sync_apply_cache_new(sqlite3 *db)
{
	sync_apply_cache *c = calloc(1, sizeof *c);

	if (c != NULL)
		c->ac_db = db;
	return c;
}

void sync_apply_cache_free(sync_apply_cache *c)
{
	actx a;

	if (c == NULL)
		return;
	memset(&a, 0, sizeof a);
	sync__cache_take(c, &a);
	sync__actx_release(&a);
	sqlite3_finalize(c->ac_origin);
	sqlite3_finalize(c->ac_log);
	sqlite3_finalize(c->ac_log1);
	free(c);
}

/* The statements an apply context borrows from the cache, in ac_st order. */
static sqlite3_stmt **borrowed(actx *a, int i)
{
	sqlite3_stmt **const v[SYNC_CACHE_NST] = {&a->ax_conflict, &a->ax_tomb_get,
						  &a->ax_tomb_put, &a->ax_tomb_del,
						  &a->ax_clk_get, &a->ax_clk_put};
	return v[i];
}

void sync__cache_take(sync_apply_cache *c, actx *a)
{
	a->ax_tc = c->ac_tc;
	a->ax_ntc = c->ac_ntc;
	for (int i = 0; i < SYNC_CACHE_NST; i++)
		*borrowed(a, i) = c->ac_st[i];
}

/* Hand the statements back to the cache, each reset (no read left open). */
void sync__cache_keep(sync_apply_cache *c, actx *a)
{
	for (int i = 0; i < a->ax_ntc; i++) {
		sqlite3_reset(a->ax_tc[i].tc_sel);
		sqlite3_reset(a->ax_tc[i].tc_ins);
		sqlite3_reset(a->ax_tc[i].tc_upd);
		sqlite3_reset(a->ax_tc[i].tc_del);
	}
	c->ac_tc = a->ax_tc;
	c->ac_ntc = a->ax_ntc;
	for (int i = 0; i < SYNC_CACHE_NST; i++) {
		sqlite3_reset(*borrowed(a, i));
		c->ac_st[i] = *borrowed(a, i);
	}
}

static int quarantine(actx *a)
{
	sqlite3_stmt *st = NULL;
	char id[UUID_STRLEN];
	int ok;

	if (uuid7(id) != 0 ||
	    db_prepare(a->ax_db, &st,
		       "INSERT INTO quarantine(id, node_id, seq, tbl, reason, changeset, hlc, actor, "
		       "created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)") != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, a->ax_sc->node_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, a->ax_e->seq);
	db_bind_text(st, 4, a->ax_tbl[0] ? a->ax_tbl : NULL);
	sqlite3_bind_text(st, 5, a->ax_reason, -1, SQLITE_TRANSIENT);
	if (a->ax_e->changeset && a->ax_e->len <= SYNC_MAX_CHANGESET)
		sqlite3_bind_blob(st, 6, a->ax_e->changeset, (int)a->ax_e->len, SQLITE_STATIC);
	db_bind_text(st, 7, a->ax_e->hlc);
	db_bind_text(st, 8, a->ax_e->actor);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)hlc_wall_ms());
	ok = sqlite3_step(st) == SQLITE_DONE;
	if (!ok)
		log_warnx("cannot quarantine entry %lld of node %s: %s", (long long)a->ax_e->seq,
			  a->ax_sc->node_id, sqlite3_errmsg(a->ax_db));
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

int sync_hub_apply(sqlite3 *db, const sync_scope *sc, const sync_entry *e, sync_apply_result *res)
{
	return sync_hub_apply_cached(db, NULL, sc, e, res);
}

int sync_hub_apply_cached(sqlite3 *db, sync_apply_cache *cache, const sync_scope *sc,
			  const sync_entry *e, sync_apply_result *res)
{
	sqlite3_stmt *origin = NULL;
	actx a;
	int r, sp;

	memset(res, 0, sizeof *res);
	if (db == NULL || sc == NULL || sc->node_id == NULL || e == NULL || e->hlc == NULL)
		return -1;
	if (cache != NULL && cache->ac_db != db)
		return -1;
	memset(&a, 0, sizeof a);
	sync__apply_oom = 0;
	a.ax_db = db;
	a.ax_sc = sc;
	a.ax_e = e;
	a.ax_res = res;
	if (cache != NULL) {
		sync__cache_take(cache, &a);
		origin = cache->ac_origin;
	}
	sp = db_exec(db, "SAVEPOINT sync_apply") == 0;
	if (!sp)
		r = A_ERROR;
	else if (e->changeset == NULL || e->len < 1 || e->len > SYNC_MAX_CHANGESET)
		r = sync__refuse(&a, "changeset size out of range");
	else
		r = sync__prewalk(&a);
	if (r == A_OK)
		r = sync__set_origin(db, &origin, sc->node_id) == 0 ? apply_changes(&a) : A_ERROR;
	if (r == A_OK && sync__set_origin(db, &origin, NULL) != 0)
		r = A_ERROR;
	if (cache != NULL) {
		sync__cache_keep(cache, &a);
		cache->ac_origin = origin;
	} else {
		sync__actx_release(&a);
		sqlite3_finalize(origin);
	}
	if (!sp)
		return -1;
	if (r == A_OK) {
		res->applied = 1;
		return db_exec(db, "RELEASE sync_apply") == 0 ? 0 : -1;
	}
	/* Nothing of a refused or failed entry stays. */
	if (db_exec(db, "ROLLBACK TO sync_apply") != 0) {
		db_exec(db, "RELEASE sync_apply");
		return -1;
	}
	res->applied = 0;
	res->conflicts = 0;
	if (r == A_ERROR) {
		db_exec(db, "RELEASE sync_apply");
		return -1;
	}
	snprintf(res->reason, sizeof res->reason, "%s", a.ax_reason);
	log_warnx("quarantined entry %lld of node %s: %s", (long long)e->seq, sc->node_id,
		  a.ax_reason);
	if (quarantine(&a) != 0) {
		db_exec(db, "RELEASE sync_apply");
		return -1;
	}
	return db_exec(db, "RELEASE sync_apply") == 0 ? 0 : -1;
}

