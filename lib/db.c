/*
 * db.c - SQLite opening, migrations and row conversion; see db.h.
 */
#include "db.h"
#include "clock.h"
#include "log.h"
#include "uuid.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Per-connection state: the statement cache and client data.  For each open
 * connection a small open-addressed table keyed by the address of the SQL
 * text, and a few keyed data pointers (what SQLite 3.44 calls client data;
 * Debian's 3.40 lacks it).  Connections are few (one on the node, a handful
 * at the hub), so they sit in a short list under one mutex; a lookup is a
 * pointer hash, no string compare.
 */
#define DB_CACHE_SLOTS 128 /* power of two; statements beyond 3/4 are not cached */
#define DB_DATA_SLOTS 4

typedef struct db_cache_ent {
	const char *sql;
	sqlite3_stmt *st;
	int busy;
} db_cache_ent;

typedef struct db_conn {
	struct db_conn *next;
	sqlite3 *db;
	int used;
	db_cache_ent ent[DB_CACHE_SLOTS];
	struct {
		const char *key;
		void *data;
		void (*destroy)(void *);
	} dat[DB_DATA_SLOTS];
} db_conn;

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static db_conn *conns;

static db_conn *conn_of(sqlite3 *db, int create)
{
	db_conn *c;

	for (c = conns; c; c = c->next)
		if (c->db == db)
			return c;
	if (!create || (c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->db = db;
	c->next = conns;
	conns = c;
	return c;
}

static unsigned cache_slot(const char *sql)
{
	uintptr_t h = (uintptr_t)sql;

	h ^= h >> 17;
	h *= 0x9E3779B97F4A7C15u;
	return (unsigned)(h >> 40) & (DB_CACHE_SLOTS - 1);
}

/* The slot holding sql, or the empty slot where it goes; NULL when full. */
static db_cache_ent *cache_find(db_conn *c, const char *sql)
{
	unsigned i = cache_slot(sql);

	for (int k = 0; k < DB_CACHE_SLOTS; k++, i = (i + 1) & (DB_CACHE_SLOTS - 1))
		if (c->ent[i].sql == sql || c->ent[i].sql == NULL)
			return &c->ent[i];
	return NULL;
}

sqlite3_stmt *db_stmt(sqlite3 *db, const char *sql)
{
	db_conn *c;
	db_cache_ent *e = NULL;
	sqlite3_stmt *st = NULL;

	pthread_mutex_lock(&conn_lock);
	c = conn_of(db, 1);
	if (c && (e = cache_find(c, sql)) != NULL && e->sql == sql && !e->busy) {
		e->busy = 1;
		st = e->st;
	}
	pthread_mutex_unlock(&conn_lock);
	if (st)
		return st;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		db_note_error(db, SQLITE_OK);
		log_warnx("sql prepare failed: %s (%.80s)", sqlite3_errmsg(db), sql);
		sqlite3_finalize(st);
		return NULL;
	}
	/* Keep it when its slot is free (a busy twin stays uncached). */
	pthread_mutex_lock(&conn_lock);
	c = conn_of(db, 0);
	if (c && c->used < DB_CACHE_SLOTS * 3 / 4 && (e = cache_find(c, sql)) != NULL &&
	    e->sql == NULL) {
		e->sql = sql;
		e->st = st;
		e->busy = 1;
		c->used++;
	}
	pthread_mutex_unlock(&conn_lock);
	return st;
}

void db_stmt_done(sqlite3_stmt *st)
{
	db_conn *c;
	db_cache_ent *e = NULL;

	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	pthread_mutex_lock(&conn_lock);
	c = conn_of(sqlite3_db_handle(st), 0);
	if (c)
		for (int i = 0; i < DB_CACHE_SLOTS && e == NULL; i++)
			if (c->ent[i].st == st)
				e = &c->ent[i];
	if (e)
		e->busy = 0;
	pthread_mutex_unlock(&conn_lock);
	if (e == NULL)
		sqlite3_finalize(st);
}

int db_exec_cached(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		db_note_error(db, rc);
		log_warnx("sql failed: %s (%.80s)", sqlite3_errmsg(db), sql);
	}
	db_stmt_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int db_set_data(sqlite3 *db, const char *key, void *data, void (*destroy)(void *))
{
	db_conn *c;
	int ret = -1;

	pthread_mutex_lock(&conn_lock);
	c = conn_of(db, 1);
	for (int i = 0; c && i < DB_DATA_SLOTS; i++)
		if (c->dat[i].key == NULL || c->dat[i].key == key) {
			if (c->dat[i].key == key && c->dat[i].destroy && c->dat[i].data != data)
				c->dat[i].destroy(c->dat[i].data);
			c->dat[i].key = key;
			c->dat[i].data = data;
			c->dat[i].destroy = destroy;
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&conn_lock);
	return ret;
}

void *db_get_data(sqlite3 *db, const char *key)
{
	db_conn *c;
	void *data = NULL;

	pthread_mutex_lock(&conn_lock);
	c = conn_of(db, 0);
	for (int i = 0; c && i < DB_DATA_SLOTS; i++)
		if (c->dat[i].key == key)
			data = c->dat[i].data;
	pthread_mutex_unlock(&conn_lock);
	return data;
}

/* Release a connection's client data and cached statements. */
static void conn_drop(sqlite3 *db)
{
	db_conn **pp, *c;

	pthread_mutex_lock(&conn_lock);
	for (pp = &conns; (c = *pp) != NULL; pp = &c->next)
		if (c->db == db) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&conn_lock);
	if (c == NULL)
		return;
	for (int i = 0; i < DB_DATA_SLOTS; i++)
		if (c->dat[i].key && c->dat[i].destroy)
			c->dat[i].destroy(c->dat[i].data);
	for (int i = 0; i < DB_CACHE_SLOTS; i++)
		sqlite3_finalize(c->ent[i].st);
	free(c);
}

/* Before SQLite's first use: no allocation statistics (they take a global
 * mutex on every malloc, and Outpost never reads them). */
static void db_init_once(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_LOG, db_log_callback, NULL);
	sqlite3_initialize();
}

/* db_busy_wait's handler: arg holds the limit in ms; count is 0 at the
 * first retry of each wait (a thread waits for one lock at a time). */
static int busy_poll(void *arg, int count)
{
	static __thread uint64_t since;
	uint64_t now = clock_mono_ms();

	if (count == 0)
		since = now;
	if (now - since >= (uint64_t)(intptr_t)arg)
		return 0;
	usleep(DB_BUSY_POLL_US);
	return 1;
}

void db_busy_wait(sqlite3 *db, int ms)
{
	if (ms > 0)
		sqlite3_busy_handler(db, busy_poll, (void *)(intptr_t)ms);
	else
		sqlite3_busy_handler(db, NULL, NULL);
}

int db_open(const char *path, sqlite3 **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	sqlite3 *db = NULL;
	char limit[64];
	int rc;

	pthread_once(&once, db_init_once);
	*out = NULL;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		log_warnx("cannot open '%s': %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -1;
	}
	/* More lookaside than the default 40 slots: a captured write allocates
	 * many small objects, and lookaside is SQLite's per-connection free list. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 1200, 400);
	db_busy_wait(db, DB_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	/* WAL with synchronous=FULL: an acknowledged commit survives power loss. */
	if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			"PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;") != 0) {
		sqlite3_close(db);
		return -1;
	}
	/* The bounded WAL (dbguard.c): its hook replaces the automatic checkpoint. */
	snprintf(limit, sizeof limit, "PRAGMA journal_size_limit=%lld",
		 (long long)(db_wal_limit() / 2));
	db_exec(db, limit);
	snprintf(limit, sizeof limit, "PRAGMA cache_size=-%d", DB_CACHE_KIB);
	db_exec(db, limit);
	db_guard_page_size((int)db_int(db, "PRAGMA page_size", 4096));
	sqlite3_wal_hook(db, db_wal_hook, NULL);
	*out = db;
	return 0;
}

void db_close(sqlite3 *db)
{
	if (db == NULL)
		return;
	conn_drop(db);
	if (sqlite3_close(db) != SQLITE_OK) {
		log_warnx("closing database: %s", sqlite3_errmsg(db));
		sqlite3_close_v2(db);
	}
}

int db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		db_note_error(db, SQLITE_OK);
		log_warnx("sql failed: %s (%.80s)", err ? err : "?", sql);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int db_end(sqlite3 *db, int rc)
{
	if (rc == 0 && db_exec(db, "COMMIT") == 0)
		return 0;
	db_exec(db, "ROLLBACK");
	return -1;
}

int db_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		db_note_error(db, SQLITE_OK);
		log_warnx("sql prepare failed: %s (%.80s)", sqlite3_errmsg(db), sql);
		*st = NULL;
		return -1;
	}
	return 0;
}

int64_t db_int(sqlite3 *db, const char *sql, int64_t def)
{
	sqlite3_stmt *st;
	int64_t v = def;

	if (db_prepare(db, &st, sql) != 0)
		return def;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int db_cols(sqlite3_stmt *st, const char **out, int n)
{
	for (int i = 0; i < n; i++)
		if ((out[i] = db_col(st, i)) == NULL)
			return -1;
	return 0;
}

char *db_col_dup(sqlite3_stmt *st, int i, size_t *len)
{
	const unsigned char *s = sqlite3_column_text(st, i); /* first: then the length */
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *out;

	if (s == NULL || (out = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(out, s, n + 1);
	if (len)
		*len = n;
	return out;
}

int db_text(sqlite3 *db, const char *sql, const char *arg, char *out, size_t n)
{
	sqlite3_stmt *st;
	int ret = 1;

	if (n)
		out[0] = '\0';
	if (db_prepare(db, &st, sql) != 0)
		return -1;
	if (arg && sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(st); /* out of memory: not "no row" */
		return -1;
	}
	switch (sqlite3_step(st)) {
	case SQLITE_ROW: {
		const char *t = db_col(st, 0);

		if (t == NULL) {
			log_warnx("sql failed: out of memory (%.80s)", sql);
			ret = -1;
			break;
		}
		snprintf(out, n, "%s", t);
		ret = 0;
		break;
	}
	case SQLITE_DONE:
		break;
	default:
		db_note_error(db, SQLITE_OK);
		log_warnx("sql failed: %s (%.80s)", sqlite3_errmsg(db), sql);
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

int db_row(sqlite3 *db, sqlite3_stmt **st, const char *sql, const char *arg)
{
	int rc;

	if (db_prepare(db, st, sql) != 0)
		return -1;
	if (arg && sqlite3_bind_text(*st, 1, arg, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		sqlite3_finalize(*st); /* out of memory: not "no row" */
		*st = NULL;
		return -1;
	}
	if ((rc = sqlite3_step(*st)) == SQLITE_ROW)
		return 1;
	sqlite3_finalize(*st);
	*st = NULL;
	if (rc == SQLITE_DONE)
		return 0;
	db_note_error(db, SQLITE_OK);
	return -1;
}

/* Bind the arguments of a db_run() call: 0, or -1 for a bad type letter. */
static int bind_args(sqlite3_stmt *st, const char *types, va_list ap)
{
	for (int i = 1; *types; types++, i++) {
		const void *b;
		int rc;
		switch (*types) {
		case 't':
			rc = db_bind_static(st, i, va_arg(ap, const char *));
			break;
		case 'i':
			rc = sqlite3_bind_int(st, i, va_arg(ap, int));
			break;
		case 'I':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		case 'b':
			b = va_arg(ap, const void *);
			rc = sqlite3_bind_blob64(st, i, b, va_arg(ap, size_t), SQLITE_STATIC);
			break;
		default:
			return -1;
		}
		if (rc != SQLITE_OK)
			return -1;
	}
	return 0;
}

/* Prepare sql and bind types/ap (see db_run()): 0, or -1 (*st NULL). */
static int prepare_bound(sqlite3 *db, sqlite3_stmt **st, const char *sql, const char *types,
			 va_list ap)
{
	if (db_prepare(db, st, sql) != 0)
		return -1;
	/* One letter a parameter: a wrong count is the caller's bug, never run. */
	if ((int)strlen(types) != sqlite3_bind_parameter_count(*st)) {
		log_warnx("sql: %zu types for %d parameters (%.80s)", strlen(types),
			  sqlite3_bind_parameter_count(*st), sql);
	} else if (bind_args(*st, types, ap) == 0) {
		return 0;
	}
	sqlite3_finalize(*st);
	*st = NULL;
	return -1;
}

int db_prepare_bound(sqlite3 *db, sqlite3_stmt **st, const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = prepare_bound(db, st, sql, types, ap);
	va_end(ap);
	return rc;
}

int64_t db_int_bound(sqlite3 *db, int64_t def, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	int64_t v = def;
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = prepare_bound(db, &st, sql, types, ap);
	va_end(ap);
	if (rc != 0)
		return def;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int db_insert_each(sqlite3 *db, const char *select, const char *insert, const char *types, ...)
{
	sqlite3_stmt *st = NULL, *ins = NULL;
	va_list ap;
	int added = 0, ret = -1, rc;

	va_start(ap, types);
	rc = prepare_bound(db, &st, select, types, ap);
	va_end(ap);
	if (rc != 0 || db_prepare(db, &ins, insert) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char id[UUID_STRLEN];

		if (uuid7(id) != 0)
			goto out;
		sqlite3_reset(ins);
		sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
		/* A copy that runs out of memory fails the bind. */
		for (int i = 0; i < sqlite3_column_count(st); i++)
			if (sqlite3_bind_value(ins, 2 + i, sqlite3_column_value(st, i)) != SQLITE_OK)
				goto out;
		if (sqlite3_step(ins) != SQLITE_DONE) {
			log_warnx("cannot insert: %s", sqlite3_errmsg(db));
			goto out;
		}
		added++;
	}
	if (rc == SQLITE_DONE)
		ret = added;
	else
		log_warnx("cannot read: %s", sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	return ret;
}

int db_run(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = prepare_bound(db, &st, sql, types, ap);
	va_end(ap);
	if (rc != 0)
		return -1;
	rc = sqlite3_step(st);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
	/* finalize leaves a failed step's message on db for the caller's log */
	sqlite3_finalize(st);
	if (rc != 0)
		db_note_error(db, SQLITE_OK);
	return rc;
}

int db_run_cached(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	va_list ap;
	int rc;

	if (st == NULL)
		return -1;
	va_start(ap, types);
	rc = bind_args(st, types, ap);
	va_end(ap);
	if (rc == 0) {
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
	}
	if (rc != 0)
		db_note_error(db, SQLITE_OK);
	db_stmt_done(st);
	return rc;
}

int db_component_version(sqlite3 *db, const char *component)
{
	sqlite3_stmt *st = NULL;
	int v = 0;

	if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version WHERE component=?", -1, &st,
			       NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The components db_migrate() was given in this process, each with the
 * number of migrations this program has for it: the ones it knows. */
#define DB_KNOWN_MAX 32
static struct {
	const char *name;
	int n;
} known[DB_KNOWN_MAX];
static int nknown;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

static void known_note(const char *component, int n)
{
	int i;

	pthread_mutex_lock(&known_lock);
	for (i = 0; i < nknown && strcmp(known[i].name, component) != 0; i++)
		;
	if (i < nknown || nknown < DB_KNOWN_MAX) {
		known[i].name = component;
		known[i].n = n;
		nknown += i == nknown;
	}
	pthread_mutex_unlock(&known_lock);
}

/* The number of migrations this program has for component, or -1. */
static int known_n(const char *component)
{
	int n = -1;

	pthread_mutex_lock(&known_lock);
	for (int i = 0; i < nknown; i++)
		if (strcmp(known[i].name, component) == 0)
			n = known[i].n;
	pthread_mutex_unlock(&known_lock);
	return n;
}

int db_schema_compare(sqlite3 *db, char *detail, size_t n)
{
	char seen[DB_KNOWN_MAX] = {0};
	sqlite3_stmt *st = NULL;
	size_t used = 0;
	int ret = 0, len, rc;

	if (n)
		detail[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT component, version FROM schema_version ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -2;
	}
	pthread_mutex_lock(&known_lock);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);
		int v = sqlite3_column_int(st, 1), i;

		if (c == NULL)
			continue;
		for (i = 0; i < nknown && strcmp(known[i].name, c) != 0; i++)
			;
		if (i == nknown || v > known[i].n)
			ret = 1;
		else if (v < known[i].n && ret == 0)
			ret = -1;
		if (i < nknown)
			seen[i] = 1;
		if (i < nknown)
			len = snprintf(detail + used, n - used, "%s%s %d/%d", used ? ", " : "", c, v,
				       known[i].n);
		else
			len = snprintf(detail + used, n - used, "%s%s %d/unknown", used ? ", " : "",
				       c, v);
		if (len > 0 && used + (size_t)len < n)
			used += (size_t)len;
	}
	/* a component this program makes that the database has not yet */
	for (int i = 0; rc == SQLITE_DONE && i < nknown; i++) {
		if (seen[i])
			continue;
		if (ret == 0)
			ret = -1;
		len = snprintf(detail + used, n - used, "%s%s 0/%d", used ? ", " : "", known[i].name,
			       known[i].n);
		if (len > 0 && used + (size_t)len < n)
			used += (size_t)len;
	}
	pthread_mutex_unlock(&known_lock);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ret : -2;
}

int db_schema_unknown(sqlite3 *db, char *what, size_t n)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE, ret = 0;

	if (n)
		what[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT component, version FROM schema_version ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 0);

		if (c != NULL && known_n(c) < 0) {
			snprintf(what, n, "'%s' (version %d)", c, sqlite3_column_int(st, 1));
			ret = 1;
		}
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = -1;
	sqlite3_finalize(st);
	return ret;
}

int db_migrate(sqlite3 *db, const char *component, const db_migration *m, int n)
{
	sqlite3_stmt *st = NULL;
	int v, ret = -1;

	known_note(component, n);
	if (db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version("
			"component TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL)") != 0)
		return -1;
	v = db_component_version(db, component);
	while (v < n) {
		if (db_exec(db, "BEGIN IMMEDIATE") != 0)
			return -1;
		/* Read again under the write lock: another process migrating the
		 * same file (a hub subcommand beside `serve`) may have applied
		 * steps since, and a step applied twice fails or, worse, records
		 * the version back down. */
		v = db_component_version(db, component);
		if (v >= n) {
			db_exec(db, "ROLLBACK");
			break;
		}
		if (db_exec(db, m[v].sql) != 0)
			goto fail;
		if (db_prepare(db, &st, "INSERT INTO schema_version(component, version) VALUES(?, ?) "
					"ON CONFLICT(component) DO UPDATE SET "
					"version=max(version, excluded.version)") != 0)
			goto fail;
		sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, v + 1);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(st);
		st = NULL;
		if (db_exec(db, "COMMIT") != 0)
			goto fail;
		/* (not a database in memory: `check`'s list of what it knows) */
		if (sqlite3_db_filename(db, "main") && *sqlite3_db_filename(db, "main"))
			log_info("schema '%s' migrated to version %d", component, v + 1);
		v++;
	}
	if (v > n) {
		log_warnx("database schema '%s' is version %d, newer than this program (%d)",
			  component, v, n);
		return -1;
	}
	ret = v;
	return ret;
fail:
	sqlite3_finalize(st);
	db_exec(db, "ROLLBACK");
	log_warnx("migration %d of '%s' failed", v + 1, component);
	return -1;
}

/* Column i of st's row as a JSON item (its string borrowed from st when
 * borrow), or NULL: a BLOB (omitted), or out of memory (*oom set). */
static cJSON *column_json(sqlite3_stmt *st, int i, int borrow, int *oom)
{
	const char *s;
	cJSON *v;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		v = cJSON_CreateNumber((double)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		v = cJSON_CreateNumber(sqlite3_column_double(st, i));
		break;
	case SQLITE_TEXT:
		s = (const char *)sqlite3_column_text(st, i);
		v = s == NULL ? NULL : borrow ? cJSON_CreateStringReference(s) : cJSON_CreateString(s);
		break;
	case SQLITE_NULL:
		v = cJSON_CreateNull();
		break;
	default:
		return NULL;
	}
	*oom = v == NULL;
	return v;
}

/* db_row_json (a member it cannot make is left out) or, with borrow,
 * db_row_json_borrowed (NULL then). */
static cJSON *row_json(sqlite3_stmt *st, int borrow)
{
	cJSON *o = cJSON_CreateObject();
	int n = sqlite3_column_count(st);

	for (int i = 0; o != NULL && i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		int oom = 0;
		cJSON *v = column_json(st, i, borrow, &oom);

		if (v != NULL && (name == NULL || !(borrow ? cJSON_AddItemToObjectCS(o, name, v)
							   : cJSON_AddItemToObject(o, name, v)))) {
			cJSON_Delete(v);
			oom = 1;
		}
		if (oom && borrow) {
			cJSON_Delete(o);
			o = NULL;
		}
	}
	return o;
}

cJSON *db_row_json(sqlite3_stmt *st)
{
	return row_json(st, 0);
}

cJSON *db_row_json_borrowed(sqlite3_stmt *st)
{
	return row_json(st, 1);
}

cJSON *db_row_json_by(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	cJSON *o = NULL;

	if (db_prepare(db, &st, sql) != 0)
		return NULL;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = db_row_json(st);
	sqlite3_finalize(st);
	return o;
}

cJSON *db_rows_json(sqlite3_stmt *st)
{
	cJSON *a = cJSON_CreateArray();
	int rc;

	if (a == NULL)
		return NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = db_row_json(st);
		if (o == NULL) {
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, o);
	}
	if (rc != SQLITE_DONE) {
		db_note_error(sqlite3_db_handle(st), rc);
		log_warnx("query failed: %s", sqlite3_errmsg(sqlite3_db_handle(st)));
		cJSON_Delete(a);
		a = NULL;
	}
	sqlite3_reset(st);
	return a;
}

int db_preparef(sqlite3 *db, sqlite3_stmt **st, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	int rc;

	*st = NULL;
	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	if (sql == NULL) {
		log_warnx("out of memory building a statement");
		return -1;
	}
	rc = db_prepare(db, st, sql);
	sqlite3_free(sql);
	return rc;
}

cJSON *db_rows_json_args(sqlite3 *db, const char *sql, int n, const char *const *args)
{
	sqlite3_stmt *st;
	cJSON *a;

	if (db_prepare(db, &st, sql) != 0)
		return NULL;
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_STATIC);
	a = db_rows_json(st);
	sqlite3_finalize(st);
	return a;
}

cJSON *db_rows_json_by(sqlite3 *db, const char *sql, const char *arg)
{
	return db_rows_json_args(db, sql, arg ? 1 : 0, &arg);
}

void db_like_pattern(const char *s, int anywhere, char *out, size_t n)
{
	size_t j = 0;

	if (n < 3 || s == NULL || s[0] == '\0') {
		if (n)
			out[0] = '\0';
		return;
	}
	if (anywhere)
		out[j++] = '%';
	for (; *s && j + 3 < n; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			out[j++] = '\\';
		out[j++] = *s;
	}
	out[j++] = '%';
	out[j] = '\0';
}

int db_add_rows_json(cJSON *obj, const char *name, sqlite3 *db, const char *sql,
		     const char *arg)
{
	cJSON *rows = db_rows_json_by(db, sql, arg);

	if (rows == NULL)
		return -1;
	if (!cJSON_AddItemToObject(obj, name, rows)) {
		cJSON_Delete(rows);
		return -1;
	}
	return 0;
}

int db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int db_kv_get(sqlite3 *db, const char *table, const char *key, char *out, size_t n)
{
	sqlite3_stmt *st = NULL;
	char *sql = sqlite3_mprintf("SELECT value FROM \"%w\" WHERE key=?1", table);
	int rc, ret = -1;

	if (n)
		out[0] = '\0';
	if (sql == NULL || db_prepare(db, &st, sql) != 0)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		const char *t = db_col(st, 0);

		if (t == NULL)
			goto out; /* out of memory */
		if (n)
			snprintf(out, n, "%s", t);
		ret = DB_FOUND;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		ret = DB_ABSENT;
	}
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return ret;
}

int db_kv_get_i64(sqlite3 *db, const char *table, const char *key, int64_t *v)
{
	char s[64], *end;
	int rc = db_kv_get(db, table, key, s, sizeof s);
	long long x;

	if (rc != DB_FOUND)
		return rc;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		return DB_ABSENT;
	*v = x;
	return DB_FOUND;
}

int db_kv_set(sqlite3 *db, const char *table, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	char *sql;
	int rc = SQLITE_ERROR;

	if (value == NULL)
		sql = sqlite3_mprintf("DELETE FROM \"%w\" WHERE key=?1", table);
	else
		sql = sqlite3_mprintf("INSERT INTO \"%w\"(key, value) VALUES(?1, ?2) "
				      "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
				      table);
	if (sql == NULL || db_prepare(db, &st, sql) != 0)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		log_warnx("cannot store '%s' in %s: %s", key, table, sqlite3_errmsg(db));
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return rc == SQLITE_DONE ? 0 : -1;
}

int db_kv_set_i64(sqlite3 *db, const char *table, const char *key, int64_t v)
{
	char num[32];

	snprintf(num, sizeof num, "%lld", (long long)v);
	return db_kv_set(db, table, key, num);
}

int db_exists(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, &st, sql) != 0)
		return -1;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int db_table_exists(sqlite3 *db, const char *name)
{
	return db_exists(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1", name);
}

int db_triggers(sqlite3 *db, int on)
{
	int now = -1;

	if (sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, on, &now) != SQLITE_OK ||
	    now != on) {
		log_warnx("cannot turn triggers %s", on ? "on" : "off");
		return -1;
	}
	return 0;
}

int db_version_get(sqlite3 *db, db_version *v)
{
	sqlite3_stmt *st;
	int rc;

	if (!sqlite3_get_autocommit(db) || (st = db_stmt(db, "PRAGMA data_version")) == NULL)
		return -1;
	rc = sqlite3_step(st);
	v->dv_data = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	db_stmt_done(st);
	v->dv_changes = (int64_t)sqlite3_total_changes64(db);
	return rc == SQLITE_ROW ? 0 : -1;
}

int db_version_same(const db_version *a, const db_version *b)
{
	return a->dv_changes == b->dv_changes && a->dv_data == b->dv_data;
}
