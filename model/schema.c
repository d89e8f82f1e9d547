/*
 * schema.c - registry of replicated schema modules and the checks every
 * replicated table must pass; see schema.h.
 */
#include "model/schema.h"
#include "lib/db.h"
#include "lib/log.h"

#include <stdio.h>
#include <string.h>

const schema_module *const schema_modules[] = {
	&schema_core,
	&schema_accounts,
	&schema_crm,
	&schema_case,
	&schema_sync,
	NULL,
};

int schema_migrate(sqlite3 *db)
{
	for (const schema_module *const *m = schema_modules; *m; m++)
		if (db_migrate(db, (*m)->sm_name, (*m)->sm_migrations, (*m)->sm_nmigrations) < 0)
			return -1;
	return 0;
}

static int (*change_probe)(const char *col);

void model_set_change_probe(int (*sets)(const char *col))
{
	change_probe = sets;
}

int model_change_sets(const char *col)
{
	return change_probe == NULL || change_probe(col);
}

int model_change_may_set(const char *col)
{
	return !model_change_sets("updated_hlc") || model_change_sets(col);
}

static const char *(*was_probe)(const char *col);

void model_set_was_probe(const char *(*was)(const char *col))
{
	was_probe = was;
}

const char *model_change_was(const char *col)
{
	return was_probe ? was_probe(col) : NULL;
}

static model_conflict_fn conflict_recorder;

void model_set_conflict_recorder(model_conflict_fn fn)
{
	conflict_recorder = fn;
}

int model_record_conflict(const char *row_id, const char *column, const char *base,
			  const char *local, const char *remote, int remote_won,
			  const char *local_hlc, const char *remote_hlc, const char *reason)
{
	if (conflict_recorder == NULL)
		return 0;
	return conflict_recorder(row_id, column, base, local, remote, remote_won, local_hlc,
				 remote_hlc, reason);
}

int schema_version(void)
{
	int v = 0;

	/* Migrations are only ever appended, so the sum grows with every change. */
	for (const schema_module *const *m = schema_modules; *m; m++)
		v += (*m)->sm_nmigrations;
	return v;
}

int schema_db_version(sqlite3 *db)
{
	int v = 0;

	for (const schema_module *const *m = schema_modules; *m; m++)
		v += db_component_version(db, (*m)->sm_name);
	return v;
}

/* The module that owns table name, its definition in *td; or NULL. */
static const schema_module *table_find(const char *name, const table_def **td)
{
	if (name == NULL)
		return NULL;
	for (const schema_module *const *m = schema_modules; *m; m++)
		for (int i = 0; i < (*m)->sm_ntables; i++)
			if (strcmp((*m)->sm_tables[i].td_name, name) == 0) {
				*td = &(*m)->sm_tables[i];
				return *m;
			}
	return NULL;
}

const table_def *schema_table(const char *name)
{
	const table_def *td = NULL;

	return table_find(name, &td) ? td : NULL;
}

int schema_final(const table_def *td, const char *v)
{
	const char *f = td ? td->td_final_value : NULL;
	size_t n = v ? strlen(v) : 0;

	while (f && v) {
		const char *bar = strchr(f, '|');
		size_t k = bar ? (size_t)(bar - f) : strlen(f);

		if (k == n && memcmp(f, v, n) == 0)
			return 1;
		f = bar ? bar + 1 : NULL;
	}
	return 0;
}

/* The tables with fact columns (schema.h, schema_fact_col). */
static const struct {
	const char *ft_table;
	const char *ft_cols[8]; /* NULL-terminated */
} fact_tables[] = {
	{"checkin_events",
	 {"checkin_id", "office_id", "action", "from_status", "to_status", "note", "staff_id", NULL}},
};

int schema_fact_col(const table_def *td, const char *col, int *any)
{
	const char *const *f = NULL;

	for (size_t i = 0; td && td->td_kind == TK_APPEND_ONLY &&
			   i < sizeof fact_tables / sizeof fact_tables[0]; i++)
		if (strcmp(fact_tables[i].ft_table, td->td_name) == 0)
			f = fact_tables[i].ft_cols;
	if (any)
		*any = f != NULL;
	for (; f && *f && col; f++)
		if (strcmp(*f, col) == 0)
			return 1;
	return 0;
}

const char *schema_table_module(const char *name)
{
	const table_def *td;
	const schema_module *m = table_find(name, &td);

	return m ? m->sm_name : NULL;
}

int schema_soft_seen_expr(sqlite3 *db, const char *table, char *out, size_t n)
{
	const table_def *td = schema_table(table);
	sqlite3_stmt *st = NULL;
	char seen[64];
	size_t len;
	int rc, k = 0;

	if (td == NULL || td->td_soft_delete_col == NULL ||
	    db_prepare(db, &st, "SELECT name FROM pragma_table_info(?1) ORDER BY cid") != 0)
		return -1;
	snprintf(seen, sizeof seen, "%s_seen", td->td_soft_delete_col);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	len = (size_t)snprintf(out, n, "json_array(");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && len < n) {
		const char *c = (const char *)sqlite3_column_text(st, 0);

		if (c == NULL || strcmp(c, "id") == 0 || strcmp(c, "updated_hlc") == 0 ||
		    strcmp(c, td->td_soft_delete_col) == 0 || strcmp(c, seen) == 0)
			continue;
		len += (size_t)snprintf(out + len, n - len, "%s\"%s\"", k++ ? "," : "", c);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || k == 0 || len + 2 > n)
		return -1;
	snprintf(out + len, n - len, ")");
	return 0;
}

int schema_foreach(int (*fn)(const table_def *t, void *arg), void *arg)
{
	for (const schema_module *const *m = schema_modules; *m; m++)
		for (int i = 0; i < (*m)->sm_ntables; i++) {
			int rc = fn(&(*m)->sm_tables[i], arg);
			if (rc)
				return rc;
		}
	return 0;
}

static int check_one(const table_def *t, void *arg)
{
	sqlite3 *db = arg;
	sqlite3_stmt *st = NULL;
	int pk_ok = 0, has_hlc = 0, npk = 0, nfk, found = 0;
	char *sql;

	if (db_preparef(db, &st, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('%q')",
			t->td_name) != 0)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = db_col(st, 0);
		const char *type = db_col(st, 1);

		if (name == NULL || type == NULL) {
			sqlite3_finalize(st);
			return -1; /* out of memory */
		}
		found = 1;
		if (sqlite3_column_int(st, 3) > 0) {
			npk++;
			if (strcmp(name, "id") == 0 && strcmp(type, "TEXT") == 0 &&
			    sqlite3_column_int(st, 2))
				pk_ok = 1;
		}
		if (strcmp(name, "updated_hlc") == 0)
			has_hlc = 1;
	}
	sqlite3_finalize(st);
	if (!found) {
		log_warnx("schema check: table '%s' is missing", t->td_name);
		return -1;
	}
	if (!pk_ok || npk != 1) {
		log_warnx("schema check: table '%s' needs 'id TEXT PRIMARY KEY NOT NULL'",
			  t->td_name);
		return -1;
	}
	if (t->td_kind != TK_APPEND_ONLY && !has_hlc) {
		log_warnx("schema check: table '%s' needs an updated_hlc column", t->td_name);
		return -1;
	}
	sql = sqlite3_mprintf("SELECT count(*) FROM pragma_foreign_key_list('%q')", t->td_name);
	nfk = sql ? (int)db_int(db, sql, -1) : -1;
	sqlite3_free(sql);
	if (nfk != 0) {
		log_warnx("schema check: table '%s' has foreign keys; replicated tables may not",
			  t->td_name);
		return -1;
	}
	if ((t->td_scope == SCOPE_OFFICE || t->td_scope == SCOPE_LOCAL_AREA) &&
	    t->td_scope_col == NULL) {
		log_warnx("schema check: table '%s' is scoped but names no scope column", t->td_name);
		return -1;
	}
	return 0;
}

int schema_check(sqlite3 *db)
{
	return schema_foreach(check_one, db);
}

int schema_compare(sqlite3 *db, char *detail, size_t n)
{
	int ret = 0;
	size_t used = 0;

	if (n)
		detail[0] = '\0';
	for (const schema_module *const *m = schema_modules; *m; m++) {
		int v = db_component_version(db, (*m)->sm_name);
		int len;

		if (v < 0)
			return -2;
		if (v < (*m)->sm_nmigrations && ret == 0)
			ret = -1;
		if (v > (*m)->sm_nmigrations)
			ret = 1;
		len = snprintf(detail + used, n - used, "%s%s %d/%d", used ? ", " : "", (*m)->sm_name,
			       v, (*m)->sm_nmigrations);
		if (len > 0 && used + (size_t)len < n)
			used += (size_t)len;
	}
	return ret;
}
