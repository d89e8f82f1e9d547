/*
 * capture.c - one transaction, one record of changes, one outbox entry; see
 * capture.h.
 *
 * Why not a session per write.  A session lives one write here (each write
 * is its own outbox entry), and sqlite3session re-reads each touched table's
 * layout with PRAGMA table_info when the table is first changed and again
 * when the changeset is made, then compiles a SELECT for it: nine statement
 * compilations for a check-in, about half of the office node's CPU per
 * write.  So capture records the same facts from the preupdate hook (the
 * hook the session extension itself runs on) with each table's layout read
 * once per connection and its SELECT kept in the statement cache, and writes
 * the same bytes.  tests/unit/test_capture.c checks them against a real
 * session on random writes; the hub still reads every changeset with
 * SQLite's own changeset iterator.
 *
 * The rules are the session extension's (sqlite3session.c):
 *   - The first change to a row (table + primary key) in a write records
 *     whether the row existed before it (an INSERT: it did not) and, if it
 *     did, its whole old row.  An UPDATE also counts as an INSERT of its new
 *     key, so a changed key reads as a DELETE plus an INSERT.  Later changes
 *     to a recorded row only make it direct again (changes made by triggers
 *     are "indirect").  Rows whose key holds a NULL are not recorded.
 *   - At commit each recorded row is read back by its key.  Did not exist
 *     and is there: INSERT of the current row.  Existed and is there: UPDATE
 *     of the columns whose value differs from the old row (none: nothing).
 *     Existed and is gone: DELETE of the old row.  Did not exist and is
 *     gone: nothing.  Reading back, rather than trusting the last hook call,
 *     makes a statement that failed and was rolled back record nothing.
 *
 * Changeset format (sqlite3session.c, "CHANGESET FORMAT"):
 *   per table, in schema order:
 *     'T', varint column count, one byte per column (its place in the
 *     primary key, 0 if none; PRAGMA table_info's pk), name, NUL
 *   per change: op (18 INSERT, 23 UPDATE, 9 DELETE), indirect flag (0/1),
 *     the old record (UPDATE, DELETE), the new record (INSERT, UPDATE)
 *   a record: one field per column, a type byte then its value:
 *     0 undefined, 1 integer (8 bytes big-endian), 2 real (8 bytes,
 *     big-endian IEEE 754), 3 text / 4 blob (varint length, bytes), 5 NULL.
 *     An UPDATE's old record holds the key and the changed columns, its new
 *     record the changed columns; the rest are undefined.
 *   varint: SQLite's (big-endian 7-bit groups, high bit = more, 9th byte
 *     whole).
 */
#include "model/capture.h"
#include "model/schema.h"
#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/varint.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CS_INSERT 18
#define CS_UPDATE 23
#define CS_DELETE 9

static const db_migration outbox_migrations[] = {
	{"CREATE TABLE outbox("
	 " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	 " hlc TEXT NOT NULL,"
	 " actor TEXT,"
	 " created_at INTEGER NOT NULL,"
	 " schema_version INTEGER NOT NULL,"
	 " nbytes INTEGER NOT NULL,"
	 " changeset BLOB NOT NULL);"},
};

int capture_migrate(sqlite3 *db)
{
	return DB_MIGRATE_ALL(db, "outbox", outbox_migrations);
}

/* ---- per-connection state: the replicated tables' layouts -------------------- */

typedef struct cap_table {
	const char *ct_name;  /* the table_def's */
	int ct_loaded;
	int ct_ncol;
	unsigned char *ct_pk; /* per column: place in the primary key, 0 if none */
	char *ct_select;      /* SELECT * ... WHERE key IS ?: a db_stmt() key */
	size_t *ct_off;       /* ncol + 1 offsets, scratch for the read-back */
	unsigned char *ct_chg; /* ncol flags, scratch: the column changed */
} cap_table;

typedef struct capture_conn {
	capture *cc_active;
	/* A write is open (from its BEGIN or SAVEPOINT to its own COMMIT or
	 * RELEASE): no statement of it may commit on its own (commit_guard). */
	int cc_open;
	int cc_ntab;
	int cc_last; /* the table the hook matched last */
	cap_table cc_tab[];
} capture_conn;

typedef struct capture_row {
	struct capture_row *next, *hnext;
	uint32_t hash;
	int tab;
	int existed;
	int indirect;
	size_t keylen, oldlen;
	unsigned char data[]; /* the key's fields, then the old row's (if it existed) */
} capture_row;

static const char conn_key[] = "outpost.capture";

static void conn_free(void *p)
{
	capture_conn *cc = p;

	for (int i = 0; i < cc->cc_ntab; i++) {
		free(cc->cc_tab[i].ct_pk);
		free(cc->cc_tab[i].ct_select);
		free(cc->cc_tab[i].ct_off);
		free(cc->cc_tab[i].ct_chg);
	}
	free(cc);
}

static int count_table(const table_def *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

typedef struct {
	capture_conn *cc;
	int i;
} name_ctx;

static int name_table(const table_def *t, void *arg)
{
	name_ctx *x = arg;

	x->cc->cc_tab[x->i++].ct_name = t->td_name;
	return 0;
}

static void hook(void *ctx, sqlite3 *db, int op, const char *zdb, const char *zname,
		 sqlite3_int64 k1, sqlite3_int64 k2);

/*
 * SQLite rolls a transaction back by itself on some errors (an I/O error,
 * a full disk, no memory) and the next statement then runs in autocommit
 * mode: a write whose batch went that way would save its later rows alone,
 * committed, without their outbox entry - rows the hub never gets.  While
 * a write is open, any commit is such a one, and is turned into a rollback
 * (its statement fails: the write is refused).
 */
static int commit_guard(void *ctx)
{
	const capture_conn *cc = ctx;

	if (cc->cc_open) {
		log_warnx("a write's transaction ended under it (an I/O or memory error): its"
			  " statement is not saved alone");
		return 1;
	}
	return 0;
}

static capture_conn *conn_get(sqlite3 *db)
{
	capture_conn *cc = db_get_data(db, conn_key);
	int n = 0;
	name_ctx x;

	if (cc)
		return cc;
	schema_foreach(count_table, &n);
	cc = calloc(1, sizeof *cc + (size_t)n * sizeof(cap_table));
	if (cc == NULL)
		return NULL;
	cc->cc_ntab = n;
	x.cc = cc;
	x.i = 0;
	schema_foreach(name_table, &x);
	if (db_set_data(db, conn_key, cc, conn_free) != 0) {
		conn_free(cc);
		return NULL;
	}
	sqlite3_preupdate_hook(db, hook, cc);
	sqlite3_commit_hook(db, commit_guard, cc);
	return cc;
}

void capture_hook_restore(sqlite3 *db)
{
	capture_conn *cc = db_get_data(db, conn_key);

	sqlite3_preupdate_hook(db, cc ? hook : NULL, cc);
}

static int table_index(capture_conn *cc, const char *name)
{
	if (sqlite3_stricmp(cc->cc_tab[cc->cc_last].ct_name, name) == 0)
		return cc->cc_last;
	for (int i = 0; i < cc->cc_ntab; i++)
		if (sqlite3_stricmp(cc->cc_tab[i].ct_name, name) == 0)
			return cc->cc_last = i;
	return -1;
}

/* Read a table's columns and key once per connection. */
static int table_load(sqlite3 *db, cap_table *ct)
{
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	buf sel = BUF_INIT(1 << 16);
	int n = 0, cap = 0, nkey = 0, rc = -1;
	unsigned char *pk = NULL;

	sql = sqlite3_mprintf("PRAGMA main.table_info(%Q)", ct->ct_name);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (buf_printf(&sel, "SELECT * FROM main.\"%s\" WHERE ", ct->ct_name) != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int key = sqlite3_column_int(st, 5);
		const char *col = db_col(st, 1);

		if (col == NULL)
			goto out; /* out of memory */
		if (n == cap) {
			unsigned char *p = realloc(pk, (size_t)(cap = cap ? cap * 2 : 32));
			if (p == NULL)
				goto out;
			pk = p;
		}
		pk[n++] = (unsigned char)(key > 255 ? 255 : key);
		if (key) {
			/* Column names of our own schema: no quote inside. */
			if (strchr(col, '"') != NULL ||
			    buf_printf(&sel, "%s\"%s\" IS ?", nkey ? " AND " : "", col) != 0)
				goto out;
			nkey++;
		}
	}
	if (n == 0 || nkey == 0) {
		log_warnx("cannot capture table '%s': no columns or no primary key", ct->ct_name);
		goto out;
	}
	if ((ct->ct_off = calloc((size_t)n + 1, sizeof(size_t))) == NULL ||
	    (ct->ct_chg = calloc((size_t)n, 1)) == NULL)
		goto out;
	ct->ct_ncol = n;
	ct->ct_pk = pk;
	pk = NULL;
	ct->ct_select = buf_detach(&sel, NULL);
	ct->ct_loaded = 1;
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	buf_release(&sel);
	free(pk);
	return rc;
}

/* ---- fields ------------------------------------------------------------------- */

/* Append one value as a changeset field. */
static void put_value(buf *b, sqlite3_value *v, int *rc)
{
	unsigned char hdr[10];
	int type = sqlite3_value_type(v);
	const void *p;
	int n;

	switch (type) {
	case SQLITE_INTEGER:
		buf_put_u8(b, 1, rc);
		buf_put_u64(b, (uint64_t)sqlite3_value_int64(v), rc);
		return;
	case SQLITE_FLOAT: {
		double d = sqlite3_value_double(v);
		uint64_t u;
		memcpy(&u, &d, sizeof u);
		buf_put_u8(b, 2, rc);
		buf_put_u64(b, u, rc);
		return;
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		p = type == SQLITE_TEXT ? (const void *)sqlite3_value_text(v) : sqlite3_value_blob(v);
		n = sqlite3_value_bytes(v);
		hdr[0] = type == SQLITE_TEXT ? 3 : 4;
		buf_put_bytes(b, hdr, 1 + (size_t)varint_put(hdr + 1, (uint64_t)n), rc);
		if (n > 0)
			buf_put_bytes(b, p, (size_t)n, rc);
		return;
	default:
		buf_put_u8(b, 5, rc);
	}
}

/* Length of the field at p, 0 when it is malformed or runs past end. */
static size_t field_len(const unsigned char *p, const unsigned char *end)
{
	uint64_t n;
	size_t k;

	if (p >= end)
		return 0;
	switch (p[0]) {
	case 0:
	case 5:
		return 1;
	case 1:
	case 2:
		return end - p >= 9 ? 9 : 0;
	case 3:
	case 4:
		k = (size_t)varint_get(p + 1, end, &n);
		if (k == 0 || n > (uint64_t)(end - p - 1 - (ptrdiff_t)k))
			return 0;
		return 1 + k + (size_t)n;
	default:
		return 0;
	}
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Bind the key fields (as stored) to the read-back statement. */
static int bind_key(sqlite3_stmt *st, const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	int i = 1;

	while (p < end) {
		size_t fl = field_len(p, end);
		uint64_t n = 0, u;
		size_t k;
		double d;

		if (fl == 0)
			return -1;
		switch (p[0]) {
		case 1:
			sqlite3_bind_int64(st, i, (sqlite3_int64)get_u64(p + 1));
			break;
		case 2:
			u = get_u64(p + 1);
			memcpy(&d, &u, sizeof d);
			sqlite3_bind_double(st, i, d);
			break;
		case 3:
		case 4:
			k = (size_t)varint_get(p + 1, end, &n);
			if (p[0] == 3)
				sqlite3_bind_text(st, i, (const char *)p + 1 + k, (int)n, SQLITE_STATIC);
			else
				sqlite3_bind_blob(st, i, p + 1 + k, (int)n, SQLITE_STATIC);
			break;
		default:
			return -1;
		}
		i++;
		p += fl;
	}
	return 0;
}

/* ---- recording ------------------------------------------------------------------ */

static uint32_t key_hash(int tab, const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)tab;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static capture_row *row_find(capture *c, int tab, uint32_t h, const unsigned char *key, size_t n)
{
	for (capture_row *r = c->cap_hash[h % CAPTURE_HASH]; r; r = r->hnext)
		if (r->hash == h && r->tab == tab && r->keylen == n && memcmp(r->data, key, n) == 0)
			return r;
	return NULL;
}

/* Record one side of a change (op INSERT: the new key; else the old row). */
static int record(capture *c, sqlite3 *db, int tab, cap_table *ct, int op, buf *key, buf *old)
{
	int (*get)(sqlite3 *, int, sqlite3_value **) =
		op == SQLITE_INSERT ? sqlite3_preupdate_new : sqlite3_preupdate_old;
	int depth = sqlite3_preupdate_depth(db), rc = 0;
	sqlite3_value *v;
	capture_row *r;
	uint32_t h;

	buf_reset(key);
	buf_reset(old);
	for (int i = 0; i < ct->ct_ncol; i++) {
		if (!ct->ct_pk[i])
			continue;
		if (get(db, i, &v) != SQLITE_OK)
			return SQLITE_ERROR;
		if (sqlite3_value_type(v) == SQLITE_NULL)
			return 0; /* a NULL key is not recorded (nor replicated) */
		put_value(key, v, &rc);
	}
	if (rc)
		return SQLITE_NOMEM;
	h = key_hash(tab, (const unsigned char *)key->data, key->len);
	r = row_find(c, tab, h, (const unsigned char *)key->data, key->len);
	if (r) {
		if (depth == 0)
			r->indirect = 0;
		return 0;
	}
	if (op != SQLITE_INSERT)
		for (int i = 0; i < ct->ct_ncol; i++) {
			if (sqlite3_preupdate_old(db, i, &v) != SQLITE_OK)
				return SQLITE_ERROR;
			put_value(old, v, &rc);
		}
	if (rc)
		return SQLITE_NOMEM;
	if (c->cap_bytes + key->len + old->len > CAPTURE_MAX_BYTES)
		return SQLITE_TOOBIG;
	r = malloc(sizeof *r + key->len + old->len);
	if (r == NULL)
		return SQLITE_NOMEM;
	r->next = NULL;
	r->hash = h;
	r->tab = tab;
	r->existed = op != SQLITE_INSERT;
	r->indirect = depth > 0;
	r->keylen = key->len;
	r->oldlen = old->len;
	memcpy(r->data, key->data, key->len);
	if (old->len)
		memcpy(r->data + key->len, old->data, old->len);
	r->hnext = c->cap_hash[h % CAPTURE_HASH];
	c->cap_hash[h % CAPTURE_HASH] = r;
	*c->cap_tail = r;
	c->cap_tail = &r->next;
	c->cap_bytes += key->len + old->len;
	return 0;
}

static void hook(void *ctx, sqlite3 *db, int op, const char *zdb, const char *zname,
		 sqlite3_int64 k1, sqlite3_int64 k2)
{
	capture_conn *cc = ctx;
	capture *c = cc->cc_active;
	buf key = BUF_INIT(CAPTURE_MAX_BYTES), old = BUF_INIT(CAPTURE_MAX_BYTES);
	cap_table *ct;
	int tab, rc;

	(void)k1;
	(void)k2;
	if (c == NULL || c->cap_paused || c->cap_err || sqlite3_stricmp(zdb, "main") != 0)
		return;
	if ((tab = table_index(cc, zname)) < 0)
		return; /* not replicated */
	ct = &cc->cc_tab[tab];
	if (!ct->ct_loaded && table_load(db, ct) != 0) {
		c->cap_err = SQLITE_ERROR;
		return;
	}
	if (sqlite3_preupdate_count(db) != ct->ct_ncol) {
		c->cap_err = SQLITE_SCHEMA;
		return;
	}
	rc = record(c, db, tab, ct, op, &key, &old);
	if (rc == 0 && op == SQLITE_UPDATE)
		rc = record(c, db, tab, ct, SQLITE_INSERT, &key, &old);
	if (rc)
		c->cap_err = rc;
	buf_release(&key);
	buf_release(&old);
}

/* ---- the changeset --------------------------------------------------------------- */

static void put_header(buf *out, const cap_table *ct, int *rc)
{
	unsigned char v[10];

	buf_put_u8(out, 'T', rc);
	buf_put_bytes(out, v, (size_t)varint_put(v, (uint64_t)ct->ct_ncol), rc);
	buf_put_bytes(out, ct->ct_pk, (size_t)ct->ct_ncol, rc);
	buf_put_bytes(out, ct->ct_name, strlen(ct->ct_name) + 1, rc);
}

static void put_op(buf *out, const cap_table *ct, int op, const capture_row *r, int *hdr,
		   int *rc)
{
	if (!*hdr)
		put_header(out, ct, rc);
	*hdr = 1;
	buf_put_u8(out, (uint8_t)op, rc);
	buf_put_u8(out, (uint8_t)r->indirect, rc);
}

/*
 * Append the change for one recorded row, if it left one; *hdr says whether
 * the table's header is out yet.  0 or an SQLite code.
 */
static int put_row(capture *c, cap_table *ct, const capture_row *r, buf *out, buf *cur,
		   int *hdr)
{
	sqlite3_stmt *st = db_stmt(c->cap_db, ct->ct_select);
	const unsigned char *old = r->data + r->keylen, *oend = old + r->oldlen, *p;
	unsigned char *chg = ct->ct_chg;
	int step, rc = 0, nchanged = 0;

	if (st == NULL)
		return SQLITE_ERROR;
	if (bind_key(st, r->data, r->keylen) != 0) {
		rc = SQLITE_CORRUPT;
		goto out;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_count(st) != ct->ct_ncol) {
		rc = SQLITE_SCHEMA;
	} else if (step == SQLITE_ROW && !r->existed) {
		put_op(out, ct, CS_INSERT, r, hdr, &rc);
		for (int i = 0; i < ct->ct_ncol; i++)
			put_value(out, sqlite3_column_value(st, i), &rc);
	} else if (step == SQLITE_ROW) {
		/* The current row's fields, and which differ from the old row's. */
		buf_reset(cur);
		p = old;
		for (int i = 0; i < ct->ct_ncol && rc == 0; i++) {
			size_t fl = field_len(p, oend), at = cur->len;

			put_value(cur, sqlite3_column_value(st, i), &rc);
			if (fl == 0) {
				rc = SQLITE_CORRUPT;
				break;
			}
			ct->ct_off[i] = at;
			chg[i] = fl != cur->len - at || memcmp(p, cur->data + at, fl) != 0;
			nchanged += chg[i];
			p += fl;
		}
		ct->ct_off[ct->ct_ncol] = cur->len;
		if (rc == 0 && nchanged > 0) {
			put_op(out, ct, CS_UPDATE, r, hdr, &rc);
			p = old;
			for (int i = 0; i < ct->ct_ncol; i++) {
				size_t fl = field_len(p, oend);
				if (chg[i] || ct->ct_pk[i])
					buf_put_bytes(out, p, fl, &rc);
				else
					buf_put_u8(out, 0, &rc);
				p += fl;
			}
			for (int i = 0; i < ct->ct_ncol; i++) {
				if (chg[i])
					buf_put_bytes(out, cur->data + ct->ct_off[i],
						      ct->ct_off[i + 1] - ct->ct_off[i], &rc);
				else
					buf_put_u8(out, 0, &rc);
			}
		}
	} else if (step == SQLITE_DONE) {
		if (r->existed) {
			put_op(out, ct, CS_DELETE, r, hdr, &rc);
			buf_put_bytes(out, old, r->oldlen, &rc);
		}
	} else {
		rc = step;
	}
	if (rc == -1)
		rc = SQLITE_TOOBIG;
out:
	db_stmt_done(st);
	return rc;
}

static int make_changeset(capture *c, buf *out)
{
	capture_conn *cc = c->cap_conn;
	buf cur = BUF_INIT(CAPTURE_MAX_BYTES);
	int rc = 0;

	for (int t = 0; t < cc->cc_ntab && rc == 0; t++) {
		int hdr = 0;
		for (const capture_row *r = c->cap_rows; r && rc == 0; r = r->next)
			if (r->tab == t)
				rc = put_row(c, &cc->cc_tab[t], r, out, &cur, &hdr);
	}
	buf_release(&cur);
	return rc;
}

/* ---- the transaction ------------------------------------------------------------ */

static void rows_free(capture *c)
{
	capture_row *r, *next;

	for (r = c->cap_rows; r; r = next) {
		next = r->next;
		free(r);
	}
	c->cap_rows = NULL;
	c->cap_tail = &c->cap_rows;
	memset(c->cap_hash, 0, sizeof c->cap_hash);
	c->cap_bytes = 0;
	if (c->cap_conn && c->cap_conn->cc_active == c)
		c->cap_conn->cc_active = NULL;
}

int capture_begin(capture *c, sqlite3 *db)
{
	capture_conn *cc;

	memset(c, 0, sizeof *c);
	c->cap_db = db;
	c->cap_tail = &c->cap_rows;
	if ((cc = conn_get(db)) == NULL) {
		log_warnx("cannot start change capture: out of memory");
		return -1;
	}
	if (cc->cc_active != NULL) {
		log_warnx("cannot start change capture: another write is being captured");
		return -1;
	}
	/* Inside a transaction someone else owns (the node's group commit), the
	 * write is a savepoint: it can fail alone, and commits with the batch. */
	c->cap_nested = !sqlite3_get_autocommit(db);
	if (db_exec_cached(db, c->cap_nested ? "SAVEPOINT capture" : "BEGIN IMMEDIATE") != 0)
		return -1;
	c->cap_open = 1;
	c->cap_conn = cc;
	cc->cc_active = c;
	cc->cc_open = 1;
	return 0;
}

int capture_commit(capture *c, const char *hlc, const char *actor, int64_t *seq)
{
	buf cs = BUF_INIT(CAPTURE_MAX_CHANGESET);
	int rc, ret = -1;
	sqlite3_stmt *st = NULL;

	if (seq)
		*seq = 0;
	if (!c->cap_open)
		return -1;
	/* Nothing the write does from here on is its own change. */
	c->cap_conn->cc_active = NULL;
	rc = c->cap_err ? c->cap_err : make_changeset(c, &cs);
	if (rc != SQLITE_OK) {
		log_warnx("cannot collect changeset: %s", sqlite3_errstr(rc));
		if (rc == SQLITE_TOOBIG)
			db_note_error(c->cap_db, rc); /* (the reply's 413) */
		goto out;
	}
	if (sqlite3_get_autocommit(c->cap_db)) {
		/* The transaction is gone (rolled back by SQLite): nothing of
		 * the write is saved, and its outbox entry must not be either. */
		log_warnx("cannot append to outbox: the write's transaction was rolled back");
		goto out;
	}
	if (cs.len > 0) {
		st = db_stmt(c->cap_db, "INSERT INTO outbox(hlc, actor, created_at, schema_version,"
					" nbytes, changeset) VALUES(?,?,?,?,?,?)");
		if (st == NULL)
			goto out;
		sqlite3_bind_text(st, 1, hlc, -1, SQLITE_STATIC);
		db_bind_text(st, 2, actor);
		sqlite3_bind_int64(st, 3, (int64_t)clock_ms()); /* the office's clock, as the status reads it */
		sqlite3_bind_int(st, 4, schema_version());
		sqlite3_bind_int(st, 5, (int)cs.len);
		sqlite3_bind_blob(st, 6, cs.data, (int)cs.len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_warnx("cannot append to outbox: %s", sqlite3_errmsg(c->cap_db));
			goto out;
		}
		if (seq)
			*seq = sqlite3_last_insert_rowid(c->cap_db);
	}
	rows_free(c);
	c->cap_conn->cc_open = 0; /* (its own COMMIT) */
	if (db_exec_cached(c->cap_db, c->cap_nested ? "RELEASE capture" : "COMMIT") != 0)
		goto out;
	c->cap_open = 0;
	ret = 0;
out:
	db_stmt_done(st);
	buf_release(&cs);
	if (ret != 0)
		capture_abort(c);
	return ret;
}

void capture_abort(capture *c)
{
	rows_free(c);
	if (c->cap_conn != NULL)
		c->cap_conn->cc_open = 0;
	if (c->cap_open) {
		if (c->cap_nested)
			db_exec(c->cap_db, "ROLLBACK TO capture; RELEASE capture");
		else if (!sqlite3_get_autocommit(c->cap_db))
			db_exec(c->cap_db, "ROLLBACK");
		c->cap_open = 0;
	}
}

void capture_pause(capture *c)
{
	c->cap_paused = 1;
}

void capture_resume(capture *c)
{
	c->cap_paused = 0;
}
