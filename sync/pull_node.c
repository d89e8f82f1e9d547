/*
 * pull_node.c - the office node's side of pull.c: a pull page applied with
 * its cursor in one transaction (only while none of its rows has an office
 * write still in the outbox, pull_pending.c, and no push has committed
 * since it was asked for, sync_node_push_gen(); changes the node cannot
 * take are set aside and recorded), and snapshot pages applied (with an
 * empty outbox and, as a pull page, no push committed since they were asked
 * for) range by range until the last one sets the snapshot's seq as the
 * cursor.
 * The page formats and their guarantees are described atop pull.c.
 */
#include "sync/sync.h"
#include "sync/changeset.h"
#include "sync/pull_local.h"
#include "sync/pull_pending.h"
#include "model/schema.h"
#include "lib/fault.h"
#include "lib/hlc.h"
#include "lib/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- node side ------------------------------------------------------------------ */

/* The columns of table td in db that a page's rows are read by (-1 each
 * when it has none or they cannot be read): its time stamp ("updated_hlc",
 * or "hlc" in a table of events), and those that place a row in an office
 * and a Local Area, as the hub reads them when it scopes a node's pages
 * (sync__row_scope(); a statewide table has none); pc_ncol: how many
 * columns the table has in db (0: no such table; -1: not read). */
typedef struct page_cols {
	int pc_stamp, pc_office, pc_la, pc_ncol;
} page_cols;

static void page_cols_read(sqlite3 *db, const table_def *td, page_cols *pc)
{
	sqlite3_stmt *st = NULL;
	const char *sc = td->td_scope_col;
	int i = 0;

	pc->pc_stamp = pc->pc_office = pc->pc_la = pc->pc_ncol = -1;
	if (db == NULL || db_prepare_bound(db, &st, "SELECT name FROM pragma_table_info(?1)", "t",
					   td->td_name) != 0)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (name == NULL) {
			i++;
			continue;
		}
		if (strcmp(name, "updated_hlc") == 0 || (pc->pc_stamp < 0 && strcmp(name, "hlc") == 0))
			pc->pc_stamp = i;
		if ((td->td_scope == SCOPE_OFFICE && sc && strcmp(name, sc) == 0) ||
		    (td->td_scope == SCOPE_ROW && strcmp(name, "scope_office") == 0))
			pc->pc_office = i;
		if ((td->td_scope == SCOPE_OFFICE && strcmp(name, "local_area_id") == 0) ||
		    (td->td_scope == SCOPE_LOCAL_AREA && sc && strcmp(name, sc) == 0) ||
		    (td->td_scope == SCOPE_ROW && strcmp(name, "scope_la") == 0))
			pc->pc_la = i;
		i++;
	}
	sqlite3_finalize(st);
	pc->pc_ncol = i;
}

/* Does value col of the change (NULL: none) leave it in want's scope? */
static int col_holds(const cs_iter *it, int col, const char *want)
{
	const cs_value *v = col >= 0 && col < it->ci_ncol ? &it->ci_new[col] : NULL;

	if (v == NULL || v->cv_type == CSV_NULL || v->cv_type == CSV_UNDEFINED)
		return 1;
	return v->cv_type == CSV_TEXT && v->cv_n == strlen(want) && memcmp(v->cv_p, want, v->cv_n) == 0;
}

/* Is the row the change writes one the hub would send this node (sc: its
 * office and Local Area; NULL, not enrolled: any)?  From the row's own
 * columns, as the hub's sync__scope_holds() reads them; a delete names only
 * the key, and is always taken. */
static int change_held(const cs_iter *it, const page_cols *pc, const sync_scope *sc)
{
	if (sc == NULL || it->ci_op == SQLITE_DELETE)
		return 1;
	return col_holds(it, pc->pc_office, sc->office_id) &&
	       col_holds(it, pc->pc_la, sc->local_area_id);
}

/* The change's time stamp (column col) into max (HLC_STRLEN) when it is
 * newer: the node's clock must pass every stamp it has seen, or its next
 * edit of a row pulled from an office whose clock runs ahead would lose to
 * the edit it follows (see seen_hlc_note()).  Only the stamp column counts:
 * text of that shape elsewhere (a note's body) is no clock's. */
static void hlc_max_of(const cs_iter *it, int col, char *max)
{
	const cs_value *v = col >= 0 && col < it->ci_ncol ? &it->ci_new[col] : NULL;
	char s[HLC_STRLEN];

	if (v == NULL || v->cv_type != CSV_TEXT || v->cv_n < 18 || v->cv_n >= sizeof s)
		return;
	memcpy(s, v->cv_p, v->cv_n);
	s[v->cv_n] = '\0';
	if (hlc_parse(s, NULL, NULL, NULL) == 0 && strcmp(s, max) > 0)
		memcpy(max, s, v->cv_n + 1);
}

/* Keep the newest stamp a page brought (node_meta seen_hlc), in the page's
 * transaction; the node's clock observes it (node_sync.c).  0 or -1. */
static int seen_hlc_note(sqlite3 *db, const char *stamp)
{
	sqlite3_stmt *st = NULL;
	int ok;

	if (stamp[0] == '\0')
		return 0;
	if (db_prepare(db, &st, "INSERT INTO node_meta(key, value) VALUES('seen_hlc', ?1) "
				"ON CONFLICT(key) DO UPDATE SET value=max(value, excluded.value)") != 0)
		return -1;
	sqlite3_bind_text(st, 1, stamp, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

/* Walk a page from the network before SQLite's reader does; max gets the
 * newest hybrid timestamp in it ("" when none; the stamp columns looked up
 * in db), *t its tables (NULL: not needed; names borrowed from the page).
 * 0, -1 (malformed), -2 when it names a table no office holds or one
 * with more columns than db's (sqlite3changeset_apply_v2 skips a table it
 * cannot take whole, said only to SQLite's log, and the cursor would move
 * past rows never applied: a database not migrated to the hub's schema),
 * or -3 when a row is not of sc's scope (change_held). */
static int page_walk(sqlite3 *db, const void *patchset, size_t len, char *max, pull_tables *t,
		     const sync_scope *sc)
{
	cs_iter it;
	const char *err = NULL;
	struct stamp_seen {
		const char *name; /* borrowed from the page */
		page_cols cols;
	} seen[16];
	page_cols cols = {-1, -1, -1, -1};
	int rc, nseen = 0, foreign = 0;

	max[0] = '\0';
	if (t != NULL)
		memset(t, 0, sizeof *t);
	changeset_iter_init(&it, patchset, len);
	while ((rc = changeset_next(&it, &err)) == 1) {
		if (it.ci_new_table) { /* a page's tables take turns: look each up once */
			int k = 0;
			while (k < nseen && strcmp(seen[k].name, it.ci_table) != 0)
				k++;
			if (k < nseen) {
				cols = seen[k].cols;
			} else {
				const table_def *td = schema_table(it.ci_table);

				/* Only the replicated tables a node holds: never its
				 * outbox, its own state, a hub-only table. */
				if (td == NULL || td->td_scope == SCOPE_HUB_ONLY) {
					log_warnx("pull: refusing a page that names table '%.64s',"
						  " which no office holds", it.ci_table);
					rc = -2;
					break;
				}
				page_cols_read(db, td, &cols);
				if (db != NULL && cols.pc_ncol >= 0 && cols.pc_ncol < it.ci_ncol) {
					log_warnx("pull: refusing a page of %d columns of table '%.64s',"
						  " which has %d here: this database's schema is older"
						  " than the hub's (start outpost-node once to migrate"
						  " it)", it.ci_ncol, it.ci_table, cols.pc_ncol);
					rc = -2;
					break;
				}
				if (nseen < (int)(sizeof seen / sizeof seen[0]))
					seen[nseen++] = (struct stamp_seen){it.ci_table, cols};
			}
		}
		if (!change_held(&it, &cols, sc))
			foreign = 1;
		hlc_max_of(&it, cols.pc_stamp, max);
		if (t != NULL)
			sync__pull_tables_add(t, it.ci_table);
	}
	changeset_iter_release(&it);
	if (rc == -2)
		return -2;
	if (rc < 0) {
		log_warnx("pull: refusing a malformed page: %s", err ? err : "?");
		return -1;
	}
	return foreign ? -3 : 0;
}

/*
 * A row this node cannot take (text that is not valid UTF-8, or a NUL: the
 * hub refuses such text now, but an older hub may hold some; a row of
 * another office or Local Area than the node's, which the hub never sends
 * it: change_held; or a row this database refuses by a constraint when the
 * page is applied, on_conflict) must not stall
 * the office: the page is applied without those changes, each kept in the
 * node-local pull_set_aside (table, the raw change, why, when), shown by the
 * sync status and the log, and the pull goes on, however many there are (a
 * page holds up to thousands of rows: a bound here would refuse the page
 * whole, every cycle, and stop the office's pull for good).  *out gets the
 * page without them, al the ones left out (pointing into the page).  0, or
 * -1 when the page is malformed in any other way (refused whole, as before).
 */
typedef struct aside_ent {
	char table[130];
	const unsigned char *p;
	size_t n;
	int why; /* ASIDE_* */
} aside_ent;

enum { ASIDE_TEXT, ASIDE_FOREIGN, ASIDE_REFUSED };

/* Why a change is set aside: in pull_set_aside, and in the log. */
static const char *const aside_why[3] = {
	"text value is not valid UTF-8 (or holds a NUL)",
	"row of another office or Local Area than this node's",
	"row this database refuses (a constraint: a unique value a local row already holds)",
};

/* The changes set aside of one page: as many as the page holds. */
typedef struct aside_list {
	aside_ent *al_e;
	int al_n, al_cap;
} aside_list;

static void aside_free(aside_list *al)
{
	free(al->al_e);
	memset(al, 0, sizeof *al);
}

/* One more entry of al, zeroed: NULL out of memory. */
static aside_ent *aside_add(aside_list *al)
{
	aside_ent *e;

	if (al->al_n == al->al_cap) {
		int cap = al->al_cap ? 2 * al->al_cap : 64;

		if ((e = realloc(al->al_e, (size_t)cap * sizeof *e)) == NULL)
			return NULL;
		al->al_e = e;
		al->al_cap = cap;
	}
	e = &al->al_e[al->al_n++];
	memset(e, 0, sizeof *e);
	return e;
}

static int page_filter(sqlite3 *db, const void *page, size_t len, buf *out, aside_list *al,
		       const sync_scope *sc)
{
	cs_iter it;
	const char *err = NULL, *cur = NULL;
	page_cols cols = {-1, -1, -1, -1};
	int rc, put = 0;

	al->al_n = 0;
	changeset_iter_init(&it, page, len);
	it.ci_lenient = 1;
	while ((rc = changeset_next(&it, &err)) == 1) {
		const table_def *td;
		int held;

		if (it.ci_new_table && (td = schema_table(it.ci_table)) != NULL)
			page_cols_read(db, td, &cols);
		held = change_held(&it, &cols, sc);
		if (it.ci_bad_text || !held) {
			aside_ent *e = aside_add(al);

			if (e == NULL) {
				rc = -1;
				break;
			}
			snprintf(e->table, sizeof e->table, "%s", it.ci_table);
			e->p = it.ci_change;
			e->n = (size_t)(it.ci_p - it.ci_change);
			e->why = it.ci_bad_text ? ASIDE_TEXT : ASIDE_FOREIGN;
			continue;
		}
		if (cur != it.ci_table)
			changeset_put_table(out, it.ci_patchset, it.ci_table, it.ci_ncol, it.ci_pk, &put);
		cur = it.ci_table;
		if (put == 0 && buf_append(out, it.ci_change, (size_t)(it.ci_p - it.ci_change)) != 0)
			put = -1;
	}
	changeset_iter_release(&it);
	return rc == 0 && put == 0 ? 0 : -1;
}

#define ASIDE_LOGGED 10 /* lines of the log per page; then one for the rest */

static int aside_record(sqlite3 *db, const aside_list *al)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (db_exec(db, "CREATE TABLE IF NOT EXISTS pull_set_aside(id INTEGER PRIMARY KEY,"
			" tbl TEXT NOT NULL, change BLOB NOT NULL, why TEXT NOT NULL,"
			" at INTEGER NOT NULL)") != 0 ||
	    db_prepare(db, &st, "INSERT INTO pull_set_aside(tbl, change, why, at)"
				" VALUES(?,?,?,?)") != 0)
		return -1;
	for (int i = 0; i < al->al_n; i++) {
		const aside_ent *e = &al->al_e[i];

		sqlite3_bind_text(st, 1, e->table, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, e->p, (int)e->n, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, aside_why[e->why], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)hlc_wall_ms());
		if (sqlite3_step(st) != SQLITE_DONE)
			goto out;
		sqlite3_reset(st);
		/* (the table only: never a value of the row) */
		if (i < ASIDE_LOGGED)
			log_warnx("pull: a change of '%s' set aside: a %s; the rest of the page is"
				  " applied", e->table, aside_why[e->why]);
	}
	if (al->al_n > ASIDE_LOGGED)
		log_warnx("pull: %d more changes of the page set aside (pull_set_aside)",
			  al->al_n - ASIDE_LOGGED);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* A page (pull or snapshot) walked; one with rows the node cannot take is
 * replaced by *kept without them (al as page_filter).  0 or -1 (refused
 * whole); *kept and al are the caller's to release either way. */
static int page_take(sqlite3 *db, const void **page, size_t *len, buf *kept, aside_list *al,
		     char *seen, pull_tables *t)
{
	char office[128], la[128];
	sync_scope node = {NULL, office, la};
	const sync_scope *sc = NULL;
	int rc;

	al->al_n = 0;
	/* The node's scope: the hub sends it no other rows (sync__row_scope);
	 * one that did anyway, pinned and authenticated as it is, would fill
	 * the office's lists with another's. */
	if (db_kv_get(db, "node_meta", "office_id", office, sizeof office) == DB_FOUND &&
	    db_kv_get(db, "node_meta", "local_area_id", la, sizeof la) == DB_FOUND && office[0] &&
	    la[0])
		sc = &node;
	/* The hub is authenticated, but a page is still bytes from a network. */
	if ((rc = page_walk(db, *page, *len, seen, t, sc)) == 0)
		return 0;
	if (rc == -2)
		return -1;
	buf_init(kept, *len + 4096);
	if (page_filter(db, *page, *len, kept, al, sc) != 0 || al->al_n == 0 ||
	    page_walk(db, kept->data, kept->len, seen, t, sc) != 0)
		return -1;
	*page = kept->data;
	*len = kept->len;
	return 0;
}

/* In a snapshot page's transaction: 0 when the outbox is empty, -2 when it
 * holds rows, -1 on error.  A snapshot page replaces every row of its range,
 * those it does not name included, so it waits for the push of any local
 * write (a pull page asks less: pull_pending.c). */
static int outbox_empty(sqlite3 *db)
{
	int64_t pending = db_int(db, "SELECT count(*) FROM outbox", -1);

	return pending == 0 ? 0 : pending > 0 ? -2 : -1;
}

/* The changes of a page this database refused while it was applied: each
 * re-encoded from SQLite's iterator (changeset_put_op/_value: the op, then
 * the old and the new record as a changeset has them, a value the page does
 * not carry undefined), one after another in rf_bytes, and listed in rf_al
 * (whose p are set once every change is in: rf_bytes may move). */
typedef struct refused {
	buf rf_bytes;
	aside_list rf_al;
	int rf_err;
} refused;

static int refused_add(refused *rf, sqlite3_changeset_iter *it)
{
	const char *tbl = "?";
	int ncol = 0, op = 0, indirect = 0, put = 0;
	size_t start = rf->rf_bytes.len;
	aside_ent *e;

	if (sqlite3changeset_op(it, &tbl, &ncol, &op, &indirect) != SQLITE_OK ||
	    (e = aside_add(&rf->rf_al)) == NULL)
		return -1;
	snprintf(e->table, sizeof e->table, "%s", tbl);
	e->why = ASIDE_REFUSED;
	changeset_put_op(&rf->rf_bytes, op, indirect, &put);
	for (int i = 0; op != SQLITE_INSERT && i < ncol; i++) {
		sqlite3_value *v = NULL;

		if (sqlite3changeset_old(it, i, &v) != SQLITE_OK)
			v = NULL;
		changeset_put_value(&rf->rf_bytes, v, &put);
	}
	for (int i = 0; op != SQLITE_DELETE && i < ncol; i++) {
		sqlite3_value *v = NULL;

		if (sqlite3changeset_new(it, i, &v) != SQLITE_OK)
			v = NULL;
		changeset_put_value(&rf->rf_bytes, v, &put);
	}
	e->n = rf->rf_bytes.len - start;
	return put;
}

/* Point the entries of rf at their bytes: 0, or -1 when one was lost. */
static int refused_done(refused *rf)
{
	size_t at = 0;

	if (rf->rf_err)
		return -1;
	for (int i = 0; i < rf->rf_al.al_n; i++) {
		rf->rf_al.al_e[i].p = (const unsigned char *)rf->rf_bytes.data + at;
		at += rf->rf_al.al_e[i].n;
	}
	return 0;
}

static void refused_release(refused *rf)
{
	buf_release(&rf->rf_bytes);
	aside_free(&rf->rf_al);
}

static int on_conflict(void *ctx, int kind, sqlite3_changeset_iter *it)
{
	refused *rf = ctx;

	switch (kind) {
	case SQLITE_CHANGESET_DATA:
	case SQLITE_CHANGESET_CONFLICT:
		return SQLITE_CHANGESET_REPLACE; /* the hub's state wins */
	case SQLITE_CHANGESET_NOTFOUND:
		return SQLITE_CHANGESET_OMIT;    /* deleting what is already gone */
	case SQLITE_CHANGESET_CONSTRAINT:
		/* A row this database refuses (a unique value a local row
		 * holds; SQLite tried it again after the page's other rows):
		 * left out of the page, set aside with the page's transaction.
		 * Out of memory, the page is refused whole and pulled again. */
		if (refused_add(rf, it) != 0) {
			rf->rf_err = 1;
			return SQLITE_CHANGESET_ABORT;
		}
		return SQLITE_CHANGESET_OMIT;
	default: {
		/* Foreign keys, of the whole page and no row of it (the
		 * replicated tables declare none): as before, taken. */
		int n = 0;

		sqlite3changeset_fk_conflicts(it, &n);
		log_warnx("pull: a page leaves %d foreign key(s) unresolved; applied", n);
		return SQLITE_CHANGESET_OMIT;
	}
	}
}

/* Apply a page (what names it in the log line), the changes this database
 * refuses set aside and recorded (aside_record) in its transaction: 0 or
 * -1. */
static int page_apply(sqlite3 *db, const void *patchset, size_t len, const char *what)
{
	refused rf = {.rf_bytes = BUF_INIT(0)};
	int rc, ret = -1;

	if (len == 0)
		return 0;
	/* re-encoded, a change grows by a byte a column at most */
	buf_init(&rf.rf_bytes, 2 * len + 4096);
	rc = sqlite3changeset_apply_v2(db, (int)len, (void *)patchset, NULL, on_conflict, &rf, NULL,
				       NULL, SQLITE_CHANGESETAPPLY_NOSAVEPOINT);
	if (rc != SQLITE_OK)
		log_warnx("%s: cannot apply page: %s", what, sqlite3_errstr(rc));
	else if (refused_done(&rf) == 0 && (rf.rf_al.al_n == 0 || aside_record(db, &rf.rf_al) == 0))
		ret = 0;
	refused_release(&rf);
	return ret;
}

/* Apply a pull page of tables t with the triggers off where they can be
 * (pull_local.c): 0 or -1. */
static int page_apply_local(sqlite3 *db, const void *patchset, size_t len, const pull_tables *t)
{
	pull_local pl;
	int rc;

	if (len == 0)
		return 0;
	if (sync__pull_local_begin(db, t, &pl) != 0)
		return -1;
	rc = page_apply(db, patchset, len, "pull");
	return sync__pull_local_end(db, &pl, rc == 0) == 0 ? rc : -1;
}

/* The end of a page's transaction (kept and al released): COMMIT when ok,
 * then 0; else, or when the commit fails, ROLLBACK and ret. */
static int page_end(sqlite3 *db, buf *kept, aside_list *al, int ok, int ret)
{
	aside_free(al);
	if (ok) {
		FAULT_POINT("pull.apply");
		if (db_exec(db, "COMMIT") == 0) {
			buf_release(kept);
			return 0;
		}
	}
	db_exec(db, "ROLLBACK");
	buf_release(kept);
	return ret;
}

/* Tell told of every row of a committed page (sync_node_apply_pull_told). */
static void page_tell(const void *page, size_t len, sync_pull_told_fn told, void *arg)
{
	cs_iter it;
	const char *err = NULL;

	changeset_iter_init(&it, page, len);
	while (changeset_next(&it, &err) == 1) {
		const cs_value *v = NULL;
		for (int i = 0; i < it.ci_ncol && v == NULL; i++)
			if (it.ci_pk[i] == 1)
				v = it.ci_new[i].cv_type != CSV_UNDEFINED ? &it.ci_new[i] : &it.ci_old[i];
		if (v && v->cv_type == CSV_TEXT)
			told(arg, it.ci_table, (const char *)v->cv_p, v->cv_n);
		else
			told(arg, it.ci_table, NULL, 0);
	}
	changeset_iter_release(&it);
}

int sync_node_apply_pull(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor)
{
	return sync_node_apply_pull_told(db, patchset, len, next_cursor, NULL, NULL);
}

int sync_node_apply_pull_told(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor,
			      sync_pull_told_fn told, void *arg)
{
	return sync_node_apply_pull_gen(db, patchset, len, next_cursor, -1, told, arg);
}

int64_t sync_node_push_gen(sqlite3 *db)
{
	int64_t v = 0;

	return db_kv_get_i64(db, "sync_state", "push_gen", &v) < 0 ? -1 : v;
}

int sync_node_push_gen_bump(sqlite3 *db)
{
	return db_exec(db, "INSERT INTO sync_state(key, value) VALUES('push_gen', 1)"
			   " ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER) + 1");
}

int sync_node_apply_pull_gen(sqlite3 *db, const void *patchset, size_t len, int64_t next_cursor,
			     int64_t push_gen, sync_pull_told_fn told, void *arg)
{
	int64_t snap, cur, gen;
	int rc, ret = -1;
	buf kept = BUF_INIT(0), none = BUF_INIT(0);
	aside_list al = {0};
	char seen[HLC_STRLEN];
	pull_tables tables;

	if (len > 0 && patchset == NULL)
		return -1;
	if (len > (size_t)INT32_MAX)
		return -1;
	if (page_take(db, &patchset, &len, &kept, &al, seen, &tables) != 0 ||
	    db_exec(db, "BEGIN IMMEDIATE") != 0) {
		aside_free(&al);
		buf_release(&kept);
		return -1;
	}
	/* Never behind the cursor: another process (outpost-sync run beside the
	 * node's own cycle) may have applied past this page while it was on
	 * the way, and its rows are newer than this page's.  Nothing to do. */
	if ((rc = db_kv_get_i64(db, "node_meta", "sync_cursor", &cur)) < 0)
		goto out;
	if (rc == DB_FOUND && cur >= next_cursor) {
		/* Equal is a caught-up node's every cycle (the hub's page ends
		 * where it stands): a line per sync_interval only when asked. */
		if (cur > next_cursor)
			log_info("pull: a page up to %" PRId64 " is already applied (the cursor is "
				 "at %" PRId64 "); left out", next_cursor, cur);
		else
			log_debug("pull: a page up to %" PRId64 " is already applied; left out",
				  next_cursor);
		ret = 0;
		goto out;
	}
	/* Asked for before a push that committed since: the push's rows are
	 * no longer in the outbox to hold the page's older state of them back
	 * (see sync_node_push_gen()).  Asked again, it holds the hub's merge. */
	if (push_gen >= 0 && (gen = sync_node_push_gen(db)) != push_gen) {
		ret = gen < 0 ? -1 : -4;
		goto out;
	}
	/* Beside pending office writes only when it touches none of their rows. */
	if ((rc = sync__pull_pending_clear(db, patchset, len)) != 0) {
		ret = rc;
		goto out;
	}
	/* Half a snapshot is not a base to pull onto (sync.h, OVERVIEW). */
	snap = db_int(db, "SELECT count(*) FROM node_meta WHERE key='snapshot_seq'", -1);
	if (snap != 0) {
		ret = snap > 0 ? -3 : -1;
		goto out;
	}
	if (page_apply_local(db, patchset, len, &tables) != 0)
		goto out;
	if ((al.al_n > 0 && aside_record(db, &al) != 0) ||
	    db_kv_set_i64(db, "node_meta", "sync_cursor", next_cursor) != 0 ||
	    db_kv_set_i64(db, "node_meta", "last_pull_ms", (int64_t)hlc_wall_ms()) != 0 ||
	    seen_hlc_note(db, seen) != 0)
		goto out;
	/* kept (the page told of) is released only after the telling. */
	if ((ret = page_end(db, &none, &al, 1, ret)) == 0 && told != NULL)
		page_tell(patchset, len, told, arg);
	buf_release(&kept);
	return ret;
out:
	return page_end(db, &kept, &al, 0, ret);
}

/* ---- node side: snapshot pages ---------------------------------------------------- */

#define SNAP_MAX_TABLES 128

typedef struct snap_tables {
	const table_def *tl_td[SNAP_MAX_TABLES];
	int tl_n;
} snap_tables;

static int snap_table_add(const table_def *td, void *arg)
{
	snap_tables *tl = arg;

	if (td->td_scope == SCOPE_HUB_ONLY)
		return 0;
	if (tl->tl_n >= SNAP_MAX_TABLES)
		return -1;
	tl->tl_td[tl->tl_n++] = td;
	return 0;
}

static int snap_table_index(const snap_tables *tl, const char *name)
{
	for (int i = 0; i < tl->tl_n; i++)
		if (strcmp(tl->tl_td[i]->td_name, name) == 0)
			return i;
	return -1;
}

/* Order of two positions of the walk: tables, then ids in BINARY order. */
static int pos_cmp(int ta, const void *ia, size_t la, int tb, const void *ib, size_t lb)
{
	int c;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	c = memcmp(ia, ib, la < lb ? la : lb);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return la < lb ? -1 : la > lb;
}

/* Every change of the page an INSERT of a table nodes hold, at a position
 * inside (from, end] and after the one before it.  0 or -1. */
static int snap_page_check(const snap_tables *tl, const void *patchset, size_t len, int tf,
			   const sync_snap_pos *from, int te, const sync_snap_pos *end)
{
	cs_iter it;
	const char *err = NULL, *why = NULL;
	const unsigned char *prev = NULL;
	size_t prev_len = 0;
	int rc, prev_t = -1;

	changeset_iter_init(&it, patchset, len);
	while ((rc = changeset_next(&it, &err)) == 1) {
		const cs_value *key = NULL;
		int t = snap_table_index(tl, it.ci_table);

		if (t < 0) {
			why = "a table nodes do not hold";
			break;
		}
		if (it.ci_op != SQLITE_INSERT || !it.ci_patchset) {
			why = "not a patchset INSERT";
			break;
		}
		for (int i = 0; i < it.ci_ncol && key == NULL; i++)
			if (it.ci_pk[i])
				key = &it.ci_new[i];
		if (key == NULL || key->cv_type != CSV_TEXT || key->cv_n == 0) {
			why = "a row without a text id";
			break;
		}
		if ((from && pos_cmp(t, key->cv_p, key->cv_n, tf, from->sp_id,
				     strlen(from->sp_id)) <= 0) ||
		    (end && pos_cmp(t, key->cv_p, key->cv_n, te, end->sp_id,
				    strlen(end->sp_id)) > 0) ||
		    (prev_t >= 0 && pos_cmp(t, key->cv_p, key->cv_n, prev_t, prev, prev_len) <= 0)) {
			why = "a row outside the page's range or out of order";
			break;
		}
		prev_t = t;
		prev = key->cv_p;
		prev_len = key->cv_n;
	}
	changeset_iter_release(&it);
	if (why == NULL && rc < 0)
		why = err ? err : "malformed";
	if (why != NULL) {
		log_warnx("snapshot: refusing a page: %s", why);
		return -1;
	}
	return 0;
}

/* Delete the rows held in the range (from, end] of the walk. 0 or -1. */
static int snap_delete_range(sqlite3 *db, const snap_tables *tl, int tf, const sync_snap_pos *from,
			     int te, const sync_snap_pos *end)
{
	int t0 = from ? tf : 0, t1 = end ? te : tl->tl_n - 1;

	for (int t = t0; t <= t1; t++) {
		const char *lo = from && t == tf ? from->sp_id : NULL;
		const char *hi = end && t == te ? end->sp_id : NULL;
		sqlite3_stmt *st = NULL;
		char *sql = sqlite3_mprintf("DELETE FROM \"%w\" WHERE 1%s%s", tl->tl_td[t]->td_name,
					    lo ? " AND \"id\" > ?1" : "", hi ? " AND \"id\" <= ?2" : "");
		int prc = sql ? db_prepare(db, &st, sql) : -1, ok;

		sqlite3_free(sql);
		if (prc != 0)
			return -1;
		if (lo)
			sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
		if (hi)
			sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
		if (!ok)
			log_warnx("snapshot: cannot clear '%s': %s", tl->tl_td[t]->td_name,
				  sqlite3_errmsg(db));
		sqlite3_finalize(st);
		if (!ok)
			return -1;
	}
	return 0;
}

int sync_node_snapshot_state(sqlite3 *db, int64_t *seq, sync_snap_pos *pos)
{
	char num[32], tbl[sizeof pos->sp_table + 1], id[SYNC_SNAPSHOT_ID_MAX + 2], *endp;
	long long v;
	int rc;

	*seq = -1;
	memset(pos, 0, sizeof *pos);
	rc = db_kv_get(db, "node_meta", "snapshot_seq", num, sizeof num);
	if (rc != DB_FOUND)
		return rc < 0 ? -1 : 0;
	if (db_kv_get(db, "node_meta", "snapshot_table", tbl, sizeof tbl) < 0 ||
	    db_kv_get(db, "node_meta", "snapshot_after", id, sizeof id) < 0)
		return -1;
	v = strtoll(num, &endp, 10);
	if (num[0] == '\0' || *endp != '\0' || v < 0 || sync_snap_pos_set(pos, tbl, id) != 0) {
		log_warnx("snapshot: the recorded snapshot position is damaged; starting afresh");
		memset(pos, 0, sizeof *pos);
		return 0;
	}
	*seq = v;
	return 1;
}

int sync_node_apply_snapshot(sqlite3 *db, const void *patchset, size_t len, int64_t seq,
			     const sync_snap_pos *from, const sync_snap_pos *end)
{
	return sync_node_apply_snapshot_gen(db, patchset, len, seq, from, end, -1);
}

int sync_node_apply_snapshot_gen(sqlite3 *db, const void *patchset, size_t len, int64_t seq,
				 const sync_snap_pos *from, const sync_snap_pos *end,
				 int64_t push_gen)
{
	snap_tables tl = {{0}, 0};
	sync_snap_pos cur;
	int64_t cur_seq, gen;
	int tf = -1, te = -1, rc, ret = -1;
	buf kept = BUF_INIT(0);
	aside_list al = {0};
	char seen[HLC_STRLEN];

	if ((len > 0 && patchset == NULL) || len > (size_t)INT32_MAX || seq < 0)
		return -1;
	if (schema_foreach(snap_table_add, &tl) != 0 || tl.tl_n == 0)
		return -1;
	if ((from && (tf = snap_table_index(&tl, from->sp_table)) < 0) ||
	    (end && (te = snap_table_index(&tl, end->sp_table)) < 0)) {
		log_warnx("snapshot: refusing a page: its range names a table nodes do not hold");
		return -1;
	}
	if (from && end &&
	    pos_cmp(te, end->sp_id, strlen(end->sp_id), tf, from->sp_id, strlen(from->sp_id)) <= 0) {
		log_warnx("snapshot: refusing a page that does not move forward");
		return -1;
	}
	/* A row the node cannot take is set aside as in a pull page: one bad
	 * row never stops a first snapshot. */
	if (page_take(db, &patchset, &len, &kept, &al, seen, NULL) != 0 ||
	    snap_page_check(&tl, patchset, len, tf, from, te, end) != 0 ||
	    db_exec(db, "BEGIN IMMEDIATE") != 0) {
		aside_free(&al);
		buf_release(&kept);
		return -1;
	}
	/* Asked for before a push that committed since, as a pull page
	 * (sync_node_apply_pull_gen): the outbox that push emptied no longer
	 * says the page may hold its rows' older state. */
	if (push_gen >= 0 && (gen = sync_node_push_gen(db)) != push_gen) {
		ret = gen < 0 ? -1 : -4;
		goto out;
	}
	if ((rc = outbox_empty(db)) != 0) {
		ret = rc;
		goto out;
	}
	if (from != NULL) {
		rc = sync_node_snapshot_state(db, &cur_seq, &cur);
		if (rc < 0)
			goto out;
		if (rc == 0 || cur_seq != seq || strcmp(cur.sp_table, from->sp_table) != 0 ||
		    strcmp(cur.sp_id, from->sp_id) != 0) {
			ret = -3;
			goto out;
		}
	}
	if (snap_delete_range(db, &tl, tf, from, te, end) != 0 || seen_hlc_note(db, seen) != 0 ||
	    (al.al_n > 0 && aside_record(db, &al) != 0))
		goto out;
	if (page_apply(db, patchset, len, "snapshot") != 0)
		goto out;
	if (end != NULL) {
		if (db_kv_set_i64(db, "node_meta", "snapshot_seq", seq) != 0 ||
		    db_kv_set(db, "node_meta", "snapshot_table", end->sp_table) != 0 ||
		    db_kv_set(db, "node_meta", "snapshot_after", end->sp_id) != 0 ||
		    db_kv_set(db, "node_meta", "sync_cursor", NULL) != 0)
			goto out;
	} else {
		if (db_kv_set(db, "node_meta", "snapshot_seq", NULL) != 0 ||
		    db_kv_set(db, "node_meta", "snapshot_table", NULL) != 0 ||
		    db_kv_set(db, "node_meta", "snapshot_after", NULL) != 0 ||
		    db_kv_set_i64(db, "node_meta", "sync_cursor", seq) != 0 ||
		    db_kv_set_i64(db, "node_meta", "last_pull_ms", (int64_t)hlc_wall_ms()) != 0)
			goto out;
	}
	return page_end(db, &kept, &al, 1, ret);
out:
	return page_end(db, &kept, &al, 0, ret);
}
