/*
 * hub_codes.c - the hub's code lists, versioned (issue 14): employer activity
 * codes, participant activity codes, follow-up codes and WSD24-13's
 * privilege groups.  Each list is
 * loaded from its file in seed/ at hub start (model/crm_seed.c,
 * model/case_seed.c), recorded here as version "seed"; operations then loads
 * a new version of a list, as CSV with the same columns, with a version name
 * and an effective date:
 *
 *   GET  /api/v1/admin/code-lists            every list: current version, counts,
 *                                            versions waiting for their date
 *   GET  /api/v1/admin/code-lists/:list      its codes and its versions
 *   POST /api/v1/admin/code-lists/:list      operations: {"version","effective_date",
 *                                            "csv"}; list = employer | activity |
 *                                            followup | groups
 *   POST /api/v1/admin/code-lists/:list/versions/:version/withdraw
 *                                            operations: a version still waiting
 *                                            for its date is dropped (audited)
 *
 * A version is a whole list: one waiting for a later date would undo, on
 * that date, what a version loaded after it and dated before it changes.  So
 * such a load is refused (409, naming the waiting version): withdraw that
 * one first, or date this one on or after it.
 *
 * A version applies on its effective date (at once when it is today; later
 * ones by the hub's minute timer): each code of the file is added or updated,
 * and a code the file leaves out, or marks retired, is retired.  A retired
 * code is never deleted: it stays readable on every row that used it.  The
 * node refuses it for new rows (its list says retired); the hub refuses a
 * new row that names a code retired before the date the row was entered
 * (hub_codes_validate_row), and accepts one entered before, or on the
 * retirement's day, as an office that was offline (or had not pulled the
 * list yet) may have done, however late it reaches the hub.
 *
 * Hub-only tables: code_list_versions (what was loaded, by whom, the file
 * itself while it waits) and code_retirements (list, code, effective date).
 * The code tables are hub-owned and replicated: plain SQL here, the change
 * log sends each change to every office.
 */
#include "hub/acct.h"
#include "hub/hub.h"
#include "hub/hub_api.h"
#include "lib/clock.h"
#include "lib/csv.h"
#include "lib/log.h"
#include "lib/route.h"
#include "lib/uuid.h"
#include "model/privileges.h"
#include "model/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODES_CSV_MAX (2 * 1024 * 1024)
#define CODES_MAX_ROWS 5000
#define DBFAIL(req) http_reply_error((req), 500, NULL, "the hub database could not complete the request")

typedef struct code_list {
	const char *cl_name;   /* API name */
	const char *cl_table;  /* replicated table (groups: hub-only) */
	const char *cl_file;   /* in seed/ */
	const char *cl_header; /* the file's columns, before an optional ",status" */
	int cl_ncols;
	size_t cl_codemax;     /* longest code */
} code_list;

static const code_list lists[] = {
    {"employer", "employer_activity_codes", "employer_activity_codes.csv",
     "code,title,dol_category,dol_category_name,system_generated,status", 6, 8},
    {"activity", "participant_activity_codes", "participant_activity_codes.csv",
     "code,title,reporting_category,restarts_exit_clock", 4, 8},
    {"followup", "followup_codes", "followup_codes.csv", "code,title,restarts_exit_clock", 3, 8},
    /* WSD24-13's privilege groups: code = group, title = description.  A
     * group's privileges are the product's (model/privileges.c): a version
     * describes, assigns or retires the groups, it cannot invent one. */
    {"groups", "privilege_group_list", "privilege_groups.csv", "group,assigned_by,description", 3,
     64},
};
#define NLISTS ((int)(sizeof lists / sizeof lists[0]))
/* The lists' API names, for "no such list" replies (those of lists[]). */
#define LIST_NAMES "employer, activity, followup, groups"

static const code_list *list_by_name(const char *name)
{
	for (int i = 0; name && i < NLISTS; i++)
		if (strcmp(lists[i].cl_name, name) == 0)
			return &lists[i];
	return NULL;
}

static const db_migration codes_migrations[] = {
    {"CREATE TABLE code_list_versions("
     " id TEXT PRIMARY KEY NOT NULL,"
     " list TEXT NOT NULL,"
     " version TEXT NOT NULL,"
     " effective_date TEXT NOT NULL,"
     " loaded_at INTEGER NOT NULL,"
     " loaded_by TEXT,"
     " rows INTEGER NOT NULL DEFAULT 0,"
     " added INTEGER, changed INTEGER, retired INTEGER, reactivated INTEGER,"
     " applied_at INTEGER,"
     " csv TEXT,"                       /* kept until applied */
     " UNIQUE(list, version));"
     "CREATE TABLE code_retirements("
     " id TEXT PRIMARY KEY NOT NULL,"   /* list:code */
     " list TEXT NOT NULL,"
     " code TEXT NOT NULL,"
     " effective_date TEXT NOT NULL,"   /* '' = retired before any version */
     " version TEXT NOT NULL);"},
    {"CREATE TABLE privilege_group_list("
     " id TEXT PRIMARY KEY NOT NULL,"   /* = code, the group's name */
     " code TEXT NOT NULL,"
     " title TEXT NOT NULL,"            /* its description */
     " assigned_by TEXT NOT NULL,"      /* MIS Administrator | WSB CalJOBS SPOC */
     " status TEXT NOT NULL DEFAULT 'active');"},
};

static int groups_reload(sqlite3 *db);

/* ---- parsing a version ----------------------------------------------------------- */

/* One parsed row: the table's columns in the file's order. */
typedef struct prow {
	char *f[6];
	int retired;
} prow;

typedef struct parse {
	const code_list *p_list;
	prow *p_rows;
	int p_n, p_status_col; /* index of a trailing status column, or -1 */
	json_err p_err;
	int p_failed;
	int p_stored; /* a version taken earlier, applied now: the rules it was taken under */
} parse;

/* The column of list l that holds yes or no, or -1. */
static int flag_col(const code_list *l)
{
	if (strcmp(l->cl_name, "employer") == 0)
		return 4;
	if (strcmp(l->cl_name, "activity") == 0)
		return 3;
	if (strcmp(l->cl_name, "groups") == 0)
		return -1;
	return 2;
}

/* The name of column i of list l (from its header) into out. */
static void col_name(const code_list *l, int i, char *out, size_t n)
{
	const char *c = l->cl_header, *end;

	while (i-- > 0 && (c = strchr(c, ',')) != NULL)
		c++;
	if (c == NULL)
		c = "";
	end = strchr(c, ',');
	snprintf(out, n, "%.*s", (int)(end ? (size_t)(end - c) : strlen(c)), c);
}

static int parse_line(int line, int nf, char **f, void *arg)
{
	parse *p = arg;
	const code_list *l = p->p_list;
	prow *r;
	char hdr[200] = "";

	if (line == 1) {
		for (int i = 0; i < nf; i++)
			snprintf(hdr + strlen(hdr), sizeof hdr - strlen(hdr), "%s%s", i ? "," : "", f[i]);
		if (strcmp(hdr, l->cl_header) == 0)
			p->p_status_col = strcmp(l->cl_name, "employer") == 0 ? 5 : -1;
		else if (strncmp(hdr, l->cl_header, strlen(l->cl_header)) == 0 &&
			 strcmp(hdr + strlen(l->cl_header), ",status") == 0)
			p->p_status_col = l->cl_ncols;
		else {
			json_err_set(&p->p_err, "csv", "the first line must be the columns %s",
				     l->cl_header);
			return -1;
		}
		return 0;
	}
	if (nf == 1 && f[0][0] == '\0')
		return 0; /* a blank line */
	if (nf < l->cl_ncols || f[0][0] == '\0' || f[1][0] == '\0' || strlen(f[0]) > l->cl_codemax ||
	    strlen(f[1]) > 200 || (nf > 2 && strlen(f[2]) > 400)) {
		json_err_set(&p->p_err, "csv", "line %d: a code (at most %zu characters) and a title are needed",
			     line, l->cl_codemax);
		return -1;
	}
	/* A title is what staff pick by, as a greeter reason's label is: one
	 * of spaces, accents alone or invisible characters shows nothing (a
	 * group's second column is its assigner, checked below). */
	if (!p->p_stored && strcmp(l->cl_name, "groups") != 0 && json_text_blank(f[1])) {
		json_err_set(&p->p_err, "csv", "line %d: the title of code %s shows nothing (only"
					       " spaces, accents or invisible characters)", line, f[0]);
		return -1;
	}
	if (strcmp(l->cl_name, "groups") == 0 && priv_group_bits(f[0]) == 0) {
		json_err_set(&p->p_err, "csv", "line %d: '%s' is not a privilege group the product knows "
					       "(model/privileges.c)", line, f[0]);
		return -1;
	}
	if (strcmp(l->cl_name, "groups") == 0 && strcmp(f[1], "MIS Administrator") != 0 &&
	    strcmp(f[1], "WSB CalJOBS SPOC") != 0) {
		json_err_set(&p->p_err, "csv", "line %d: assigned_by is MIS Administrator or WSB CalJOBS SPOC",
			     line);
		return -1;
	}
	for (int i = 0; i < nf; i++) {
		if (strlen(f[i]) > 400) {
			json_err_set(&p->p_err, "csv", "line %d: field %d is longer than 400 characters",
				     line, i + 1);
			return -1;
		}
		for (const unsigned char *c = (const unsigned char *)f[i]; *c; c++)
			if (*c < 0x20 || *c == 0x7f) {
				json_err_set(&p->p_err, "csv", "line %d: a control character in a field", line);
				return -1;
			}
	}
	/* A code is what staff pick and reports count: letters, digits and
	 * . _ - (a group's is its name, checked above). */
	if (strcmp(l->cl_name, "groups") != 0 &&
	    strspn(f[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
		strlen(f[0])) {
		json_err_set(&p->p_err, "csv", "line %d: a code is letters, digits and . _ - only", line);
		return -1;
	}
	/* The yes/no column (system_generated, restarts_exit_clock): the hub's
	 * checks rely on it, so anything but yes or no is refused, not read as
	 * no - an empty cell too: the SPEC gives the column no default, and
	 * "no" made a code that restarts the soft-exit clock one that does not,
	 * or a system-generated code one staff may choose.  A version taken
	 * before these rules and applied now keeps its reading (empty: no),
	 * as a version refused at its date would hold up every later one. */
	if (flag_col(l) >= 0 && nf > flag_col(l) && strcmp(f[flag_col(l)], "yes") != 0 &&
	    strcmp(f[flag_col(l)], "no") != 0 && !(p->p_stored && f[flag_col(l)][0] == '\0')) {
		char col[40];

		col_name(l, flag_col(l), col, sizeof col);
		json_err_set(&p->p_err, "csv", "line %d, column %d (%s): %s; write yes or no", line,
			     flag_col(l) + 1, col, f[flag_col(l)][0] ? "not yes or no" : "empty");
		return -1;
	}
	if (p->p_n >= CODES_MAX_ROWS) {
		json_err_set(&p->p_err, "csv", "at most %d codes in one list", CODES_MAX_ROWS);
		return -1;
	}
	for (int i = 0; i < p->p_n; i++)
		if (strcmp(p->p_rows[i].f[0], f[0]) == 0) {
			json_err_set(&p->p_err, "csv", "line %d: code %s is listed twice", line, f[0]);
			return -1;
		}
	/* The status column: active or retired, in every list whose file has
	 * one (a column of the employer list's file, an optional trailing one
	 * of the others').  An empty cell - or none, on a line that stops
	 * before it - is refused, not read as active: a code meant to be
	 * retired (or never marked) stayed one staff may choose.  A version
	 * taken before this rule keeps its reading (empty: active), as for
	 * the yes/no column above. */
	if (p->p_status_col >= 0) {
		const char *s = nf > p->p_status_col ? f[p->p_status_col] : "";

		if (s[0] ? strcmp(s, "active") != 0 && strcmp(s, "retired") != 0 : !p->p_stored) {
			json_err_set(&p->p_err, "csv", "line %d, column %d (status): %s; write active or"
						       " retired", line, p->p_status_col + 1,
				     s[0] ? "not active or retired" : "empty");
			return -1;
		}
	}
	r = &p->p_rows[p->p_n++];
	for (int i = 0; i < l->cl_ncols && i < 6; i++)
		r->f[i] = strdup(f[i]);
	r->retired = p->p_status_col >= 0 && nf > p->p_status_col &&
		     strcmp(f[p->p_status_col], "retired") == 0;
	return 0;
}

static void parse_release(parse *p)
{
	for (int i = 0; p->p_rows && i < p->p_n; i++)
		for (int k = 0; k < 6; k++)
			free(p->p_rows[i].f[k]);
	free(p->p_rows);
	p->p_rows = NULL;
}

/* Parse csv for list l into p (caller releases); stored: a version taken
 * earlier (the checks added since it was taken are not made again).  0 or
 * -1 with p_err. */
static int parse_csv(const code_list *l, const char *csv, int stored, parse *p)
{
	memset(p, 0, sizeof *p);
	p->p_list = l;
	p->p_stored = stored;
	p->p_status_col = -1;
	p->p_rows = calloc(CODES_MAX_ROWS, sizeof *p->p_rows);
	if (p->p_rows == NULL) {
		json_err_set(&p->p_err, "csv", "out of memory");
		return -1;
	}
	if (csv_read_buf(csv, strlen(csv), parse_line, p) != 0) {
		if (!p->p_err.msg[0])
			json_err_set(&p->p_err, "csv", "the file could not be read as CSV");
		return -1;
	}
	if (p->p_n == 0) {
		json_err_set(&p->p_err, "csv", "the file lists no code");
		return -1;
	}
	return 0;
}

/* ---- applying a version ------------------------------------------------------------ */

typedef struct counts {
	int added, changed, retired, reactivated;
} counts;

static int retire_mark(sqlite3 *db, const code_list *l, const char *code, const char *eff,
		       const char *version, int retire)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, &st, retire ? "INSERT OR REPLACE INTO code_retirements(id, list, code,"
					 " effective_date, version) VALUES(?1||':'||?2, ?1, ?2, ?3, ?4)"
				       : "DELETE FROM code_retirements WHERE id=?1||':'||?2") != 0)
		return -1;
	sqlite3_bind_text(st, 1, l->cl_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	if (retire) {
		sqlite3_bind_text(st, 3, eff, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, version, -1, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The upsert of one code; ?1 code, ?2 title, ?3..?6 the list's columns,
 * ?7 status, ?8 hlc.  Unchanged rows are left alone (no change-log churn). */
static const char *upsert_sql(const code_list *l)
{
	if (strcmp(l->cl_name, "employer") == 0)
		return "INSERT INTO employer_activity_codes(id, code, title, dol_category,"
		       " dol_category_name, system_generated, status, updated_hlc)"
		       " VALUES(?1, ?1, ?2, nullif(?3,''), nullif(?4,''), ?5, ?7, ?8)"
		       " ON CONFLICT(id) DO UPDATE SET title=excluded.title,"
		       " dol_category=excluded.dol_category, dol_category_name=excluded.dol_category_name,"
		       " system_generated=excluded.system_generated, status=excluded.status,"
		       " updated_hlc=excluded.updated_hlc WHERE title IS NOT excluded.title OR"
		       " dol_category IS NOT excluded.dol_category OR dol_category_name IS NOT"
		       " excluded.dol_category_name OR system_generated IS NOT excluded.system_generated"
		       " OR status IS NOT excluded.status";
	if (strcmp(l->cl_name, "activity") == 0)
		return "INSERT INTO participant_activity_codes(id, code, title, reporting_category,"
		       " restarts_exit_clock, status, updated_hlc)"
		       " VALUES(?1, ?1, ?2, nullif(?3,''), ?5, ?7, ?8)"
		       " ON CONFLICT(id) DO UPDATE SET title=excluded.title,"
		       " reporting_category=excluded.reporting_category,"
		       " restarts_exit_clock=excluded.restarts_exit_clock, status=excluded.status,"
		       " updated_hlc=excluded.updated_hlc WHERE title IS NOT excluded.title OR"
		       " reporting_category IS NOT excluded.reporting_category OR restarts_exit_clock"
		       " IS NOT excluded.restarts_exit_clock OR status IS NOT excluded.status";
	if (strcmp(l->cl_name, "groups") == 0)
		return "INSERT INTO privilege_group_list(id, code, title, assigned_by, status)"
		       " VALUES(?1, ?1, ?3, ?2, ?7) ON CONFLICT(id) DO UPDATE SET title=excluded.title,"
		       " assigned_by=excluded.assigned_by, status=excluded.status"
		       " WHERE title IS NOT excluded.title OR assigned_by IS NOT excluded.assigned_by"
		       " OR status IS NOT excluded.status";
	return "INSERT INTO followup_codes(id, code, title, restarts_exit_clock, status, updated_hlc)"
	       " VALUES(?1, ?1, ?2, ?5, ?7, ?8)"
	       " ON CONFLICT(id) DO UPDATE SET title=excluded.title,"
	       " restarts_exit_clock=excluded.restarts_exit_clock, status=excluded.status,"
	       " updated_hlc=excluded.updated_hlc WHERE title IS NOT excluded.title OR"
	       " restarts_exit_clock IS NOT excluded.restarts_exit_clock OR status IS NOT excluded.status";
}

static int apply_row(sqlite3 *db, const code_list *l, const prow *r, const char *eff,
		     const char *version, const char *ts, counts *c)
{
	sqlite3_stmt *st = NULL;
	char sql[128], old[16] = "";
	int had, rc, flag;

	snprintf(sql, sizeof sql, "SELECT status FROM %s WHERE id=?", l->cl_table);
	had = db_text(db, sql, r->f[0], old, sizeof old) == 0;
	if (db_prepare(db, &st, upsert_sql(l)) != 0)
		return -1;
	sqlite3_bind_text(st, 1, r->f[0], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->f[1], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->f[2] ? r->f[2] : "", -1, SQLITE_STATIC);
	if (strcmp(l->cl_name, "employer") == 0)
		sqlite3_bind_text(st, 4, r->f[3] ? r->f[3] : "", -1, SQLITE_STATIC);
	flag = flag_col(l) >= 0 && r->f[flag_col(l)] && strcmp(r->f[flag_col(l)], "yes") == 0;
	sqlite3_bind_int(st, 5, flag);
	sqlite3_bind_text(st, 7, r->retired ? "retired" : "active", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, ts, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (!had)
		c->added++;
	else if (sqlite3_changes(db) > 0)
		c->changed++;
	if (r->retired && (!had || strcmp(old, "active") == 0)) {
		c->retired++;
		return retire_mark(db, l, r->f[0], eff, version, 1);
	}
	if (!r->retired && had && strcmp(old, "retired") == 0) {
		c->reactivated++;
		return retire_mark(db, l, r->f[0], NULL, NULL, 0);
	}
	return 0;
}

/* Retire every active code of l that p leaves out. */
static int retire_missing(sqlite3 *db, const code_list *l, const parse *p, const char *eff,
			  const char *version, const char *ts, counts *c)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	cJSON *ids = NULL, *it;
	char sql[160];
	int ret = -1;

	snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE status='active'", l->cl_table);
	if (db_prepare(db, &st, sql) != 0)
		return -1;
	ids = db_rows_json(st); /* all first: the table changes below */
	sqlite3_finalize(st);
	snprintf(sql, sizeof sql, "UPDATE %s SET status='retired'%s WHERE id=?2", l->cl_table,
		 strcmp(l->cl_name, "groups") == 0 ? "" : ", updated_hlc=?1");
	if (ids == NULL || db_prepare(db, &up, sql) != 0)
		goto out;
	cJSON_ArrayForEach(it, ids)
	{
		const char *id = json_str(it, "id");
		int found = 0;
		for (int i = 0; i < p->p_n && !found; i++)
			found = strcmp(p->p_rows[i].f[0], id) == 0;
		if (found)
			continue;
		sqlite3_bind_text(up, 1, ts, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 2, id, -1, SQLITE_STATIC);
		if (sqlite3_step(up) != SQLITE_DONE || retire_mark(db, l, id, eff, version, 1) != 0)
			goto out;
		sqlite3_reset(up);
		c->retired++;
	}
	ret = 0;
out:
	sqlite3_finalize(up);
	cJSON_Delete(ids);
	return ret;
}

/* Apply version vid (its csv) in one transaction.  0 or -1. */
/* Version vid applied in the caller's transaction: its rows written, the
 * codes it leaves out retired, the version marked applied.  *groups: 1 when
 * it was the privilege groups' list (read back once committed).  0 or -1. */
static int apply_version_db(sqlite3 *db, hlc *clk, const char *vid, int *groups)
{
	sqlite3_stmt *st = NULL;
	const code_list *l = NULL;
	char ts[HLC_STRLEN], eff[11] = "";
	char version[4 * 40 + 1] = ""; /* (40 characters, of UTF-8) */
	char *csv = NULL;
	parse p;
	counts c = {0, 0, 0, 0};
	int rc = -1;

	memset(&p, 0, sizeof p);
	*groups = 0;
	if (db_prepare(db, &st, "SELECT list, version, effective_date, csv FROM code_list_versions"
				" WHERE id=? AND applied_at IS NULL AND csv IS NOT NULL") != 0)
		return -1;
	sqlite3_bind_text(st, 1, vid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *col[4]; /* list, version, effective date, text */

		/* else out of memory: l stays NULL */
		if (db_cols(st, col, 4) == 0) {
			l = list_by_name(col[0]);
			snprintf(version, sizeof version, "%s", col[1]);
			snprintf(eff, sizeof eff, "%s", col[2]);
			csv = strdup(col[3]);
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (l == NULL || csv == NULL || parse_csv(l, csv, 1, &p) != 0)
		goto out;
	hlc_now(clk, ts);
	rc = 0;
	for (int i = 0; rc == 0 && i < p.p_n; i++)
		rc = apply_row(db, l, &p.p_rows[i], eff, version, ts, &c);
	if (rc == 0)
		rc = retire_missing(db, l, &p, eff, version, ts, &c);
	if (rc == 0 && db_prepare(db, &st, "UPDATE code_list_versions SET applied_at=?2, added=?3,"
					   " changed=?4, retired=?5, reactivated=?6, csv=NULL WHERE id=?1") == 0) {
		sqlite3_bind_text(st, 1, vid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)hub_now_ms());
		sqlite3_bind_int(st, 3, c.added);
		sqlite3_bind_int(st, 4, c.changed);
		sqlite3_bind_int(st, 5, c.retired);
		sqlite3_bind_int(st, 6, c.reactivated);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
	} else if (rc == 0) {
		rc = -1;
	}
	if (rc != 0) {
		log_warnx("cannot apply version '%s' of the %s code list", version, l->cl_name);
		goto out;
	}
	*groups = strcmp(l->cl_name, "groups") == 0;
	log_info("code list %s: version '%s' (effective %s) applied: %d added, %d changed, %d retired,"
		 " %d back in use", l->cl_name, version, eff, c.added, c.changed, c.retired, c.reactivated);
out:
	parse_release(&p);
	free(csv);
	return rc;
}

/* A privilege groups' list just committed, read back. */
static void groups_applied(sqlite3 *db)
{
	if (groups_reload(db) != 0)
		log_warnx("code list groups: applied but not read back (out of memory): no privilege"
			  " group is assignable until the hub restarts");
}

/* Version vid applied in a transaction of its own (a version that has
 * fallen due).  0 or -1. */
static int apply_version(sqlite3 *db, hlc *clk, const char *vid)
{
	int groups = 0;

	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (apply_version_db(db, clk, vid, &groups) != 0 || db_exec(db, "COMMIT") != 0) {
		db_exec(db, "ROLLBACK");
		return -1;
	}
	if (groups)
		groups_applied(db);
	return 0;
}

int hub_codes_apply_due(sqlite3 *db, hlc *clk)
{
	sqlite3_stmt *st = NULL;
	char today[11], ids[16][UUID_STRLEN];
	int n = 0, ret = 0;

	clock_local_date(hub_now_ms(), today);
	if (db_prepare(db, &st, "SELECT id FROM code_list_versions WHERE applied_at IS NULL AND"
				" effective_date <= ? ORDER BY effective_date, loaded_at LIMIT 16") != 0)
		return -1;
	sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
	while (n < 16 && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_col(st, 0);

		if (id == NULL) {
			ret = -1;
			break;
		}
		snprintf(ids[n++], UUID_STRLEN, "%s", id);
	}
	sqlite3_finalize(st);
	for (int i = 0; i < n; i++)
		ret |= apply_version(db, clk, ids[i]);
	return ret;
}

/* ---- privilege groups for the account code ---------------------------------- */

/* The groups list as the account code sees it (loop thread only): loaded at
 * start and after each version of the list is applied. */
static struct gcache_ent {
	char name[64];
	int assigner; /* 1 MIS Administrator, 2 SPOC */
	int retired;  /* given to no new account; its holders are still managed */
} gcache[64];
static int gcache_n = -1; /* -1: not loaded (unit tests): acct_store.c decides */

/* 0, or -1 when out of memory: then no group is assignable (not a wrong one). */
static int groups_reload(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	if (db_prepare(db, &st, "SELECT code, assigned_by, status FROM privilege_group_list"
				" ORDER BY code LIMIT 64") != 0)
		return 0;
	gcache_n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c[3]; /* code, assigned by, status */

		if (db_cols(st, c, 3) != 0) {
			sqlite3_finalize(st);
			gcache_n = 0;
			return -1;
		}
		snprintf(gcache[gcache_n].name, sizeof gcache[0].name, "%s", c[0]);
		/* A retired group keeps its assigner: the accounts still in it
		 * are their administrators' to manage (suspend, separate). */
		gcache[gcache_n].assigner = strcmp(c[1], "MIS Administrator") == 0 ? 1 : 2;
		gcache[gcache_n].retired = strcmp(c[2], "active") != 0;
		gcache_n++;
	}
	sqlite3_finalize(st);
	if (gcache_n == 0)
		gcache_n = -1;
	return 0;
}

/* The loaded group of that name, or NULL. */
static const struct gcache_ent *group_find(const char *group)
{
	for (int i = 0; group && i < gcache_n; i++)
		if (strcmp(gcache[i].name, group) == 0)
			return &gcache[i];
	return NULL;
}

int hub_codes_group_assigner(const char *group)
{
	const struct gcache_ent *g;

	if (gcache_n < 0 || group == NULL)
		return -1;
	return (g = group_find(group)) ? g->assigner : 0;
}

int hub_codes_group_retired(const char *group)
{
	const struct gcache_ent *g = group_find(group);

	return g ? g->retired : 0;
}

/* ---- start ----------------------------------------------------------------------- */

/* A list with no version yet whose table the seeding code does not fill (the
 * privilege groups): its file from seed/ becomes version "seed".  0 or -1. */
static int seed_from_file(sqlite3 *db, hlc *clk, const code_list *l, const char *today)
{
	char dir[4096], path[4200], id[UUID_STRLEN];
	FILE *fp;
	char *csv = NULL;
	size_t len;
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (csv_seed_dir(dir, sizeof dir) != 0)
		return 0; /* no seed folder: the compiled list stands */
	snprintf(path, sizeof path, "%s/%s", dir, l->cl_file);
	if ((fp = fopen(path, "rb")) == NULL)
		return 0;
	csv = malloc(CODES_CSV_MAX + 1);
	len = csv ? fread(csv, 1, CODES_CSV_MAX, fp) : 0;
	fclose(fp);
	if (csv == NULL)
		return -1;
	csv[len] = '\0';
	uuid7(id);
	if (db_prepare(db, &st, "INSERT INTO code_list_versions(id, list, version, effective_date,"
				" loaded_at, loaded_by, csv) VALUES(?, ?, 'seed', ?, ?, ?, ?)") != 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, l->cl_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, today, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)hub_now_ms());
	sqlite3_bind_text(st, 5, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, csv, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	ret = apply_version(db, clk, id);
	if (ret != 0)
		log_warnx("cannot load '%s': the compiled privilege groups stand", path);
	ret = 0;
out:
	sqlite3_finalize(st);
	free(csv);
	return ret;
}


int hub_codes_migrate(sqlite3 *db)
{
	return DB_MIGRATE_ALL(db, "hub_codes", codes_migrations);
}

int hub_codes_start(sqlite3 *db, hlc *clk)
{
	char today[11];

	if (hub_codes_migrate(db) != 0)
		return -1;
	clock_local_date(hub_now_ms(), today);
	/* The lists loaded from seed/ are version "seed"; codes retired in the
	 * file were retired before any record ('' effective date). */
	for (int i = 0; i < NLISTS; i++) {
		sqlite3_stmt *st = NULL;
		char sql[600], id[UUID_STRLEN];
		int rc;

		uuid7(id);
		snprintf(sql, sizeof sql,
			 "INSERT INTO code_list_versions(id, list, version, effective_date, loaded_at,"
			 " loaded_by, rows, applied_at) SELECT ?1, ?2, 'seed', ?3, ?4, 'seed/%s',"
			 " (SELECT count(*) FROM %s), ?4 WHERE NOT EXISTS (SELECT 1 FROM"
			 " code_list_versions WHERE list=?2) AND EXISTS (SELECT 1 FROM %s)",
			 lists[i].cl_file, lists[i].cl_table, lists[i].cl_table);
		if (db_prepare(db, &st, sql) != 0)
			return -1;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, lists[i].cl_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, today, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)hub_now_ms());
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
		if (sqlite3_changes(db) == 0) {
			if (strcmp(lists[i].cl_name, "groups") == 0 &&
			    db_int(db, "SELECT count(*) FROM code_list_versions WHERE list='groups'", 1) == 0 &&
			    seed_from_file(db, clk, &lists[i], today) != 0)
				return -1;
			continue;
		}
		snprintf(sql, sizeof sql,
			 "INSERT OR IGNORE INTO code_retirements(id, list, code, effective_date, version)"
			 " SELECT '%s:'||id, '%s', id, '', 'seed' FROM %s WHERE status='retired'",
			 lists[i].cl_name, lists[i].cl_name, lists[i].cl_table);
		if (db_exec(db, sql) != 0)
			return -1;
	}
	if (hub_codes_apply_due(db, clk) != 0)
		return -1;
	return groups_reload(db);
}

/* ---- the hub's check of rows from offices ---------------------------------------- */

int hub_codes_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			   size_t n)
{
	const char *list = NULL, *code, *entered = NULL;
	char day[11] = "", eff[16] = "";
	sqlite3_stmt *st = NULL;
	int found = 0, rc;

	if ((rc = acct_validate_row(db, tbl, op, row, reason, n)) != 0)
		return rc;
	if ((rc = hub_keys_note_row(db, tbl, op, row, reason, n)) != 0)
		return rc;
	if (op != SQLITE_INSERT || tbl == NULL || row == NULL)
		return 0;
	/* A correction keeping the code it corrects is no new use of it; one
	 * that brings another code is (an office's route refuses a retired
	 * one there too). */
	if (json_str(row, "corrects_id")) {
		char was[32] = "";
		const char *src = strcmp(tbl, "employer_services") == 0
					  ? "SELECT code FROM employer_services WHERE id=?"
					  : "SELECT code FROM participant_activities WHERE id=?";

		if (strcmp(tbl, "employer_services") != 0 && strcmp(tbl, "participant_activities") != 0)
			return 0;
		if (db_text(db, src, json_str(row, "corrects_id"), was, sizeof was) < 0)
			CANNOT_CHECK("%s: cannot read the corrected row", tbl);
		if (json_str(row, "code") && strcmp(was, json_str(row, "code")) == 0)
			return 0;
	}
	if (strcmp(tbl, "employer_services") == 0) {
		const cJSON *at = cJSON_GetObjectItem(row, "created_at");
		list = "employer";
		if (cJSON_IsNumber(at)) {
			clock_local_date((uint64_t)at->valuedouble, day);
			entered = day;
		}
	} else if (strcmp(tbl, "participant_activities") == 0) {
		list = json_str(row, "code_list");
		list = list && strcmp(list, "followup") == 0 ? "followup" : "activity";
		entered = json_str(row, "entered_date");
	}
	code = json_str(row, "code");
	if (list == NULL || code == NULL || entered == NULL)
		return 0;
	/* Retired before the day the row was entered: a version takes effect
	 * on its date (from today on), and an office that entered the code
	 * that same day had not pulled it yet, so its row is taken (its route
	 * refuses the code once it has the new list). */
	if (db_prepare(db, &st, "SELECT effective_date FROM code_retirements WHERE list=? AND code=?"
				" AND effective_date < ?") != 0)
		CANNOT_CHECK("%s: cannot read the code retirements", tbl);
	sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, entered, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *e = db_col(st, 0);

		found = e != NULL ? 1 : -1;
		if (e != NULL)
			snprintf(eff, sizeof eff, "%s", e);
	} else if (rc != SQLITE_DONE) {
		found = -1;
	}
	sqlite3_finalize(st);
	if (found < 0)
		CANNOT_CHECK("%s: cannot read the code retirements", tbl);
	if (found) {
		snprintf(reason, n, "%s: code %.8s was retired%s%s and cannot be chosen for a new row",
			 tbl, code, eff[0] ? " on " : "", eff);
		return -1;
	}
	return 0;
}

/* ---- routes ---------------------------------------------------------------------- */

void hub_codes_lists(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *arr;

	if (acct_auth(h, req, &p, 0) != 0)
		return;
	hub_codes_apply_due(h->hb_db, hub_clock(h));
	arr = cJSON_CreateArray();
	for (int i = 0; i < NLISTS; i++) {
		char sql[700];
		sqlite3_stmt *st = NULL;
		cJSON *o;
		snprintf(sql, sizeof sql,
			 "SELECT ?1 AS list, '%s' AS file,"
			 " (SELECT count(*) FROM %s WHERE status='active') AS active,"
			 " (SELECT count(*) FROM %s WHERE status<>'active') AS retired,"
			 " (SELECT version FROM code_list_versions WHERE list=?1 AND applied_at IS NOT NULL"
			 "  ORDER BY applied_at DESC LIMIT 1) AS version,"
			 " (SELECT effective_date FROM code_list_versions WHERE list=?1 AND applied_at IS"
			 "  NOT NULL ORDER BY applied_at DESC LIMIT 1) AS effective_date,"
			 " (SELECT json_group_array(json_object('version', version, 'effective_date',"
			 "  effective_date)) FROM code_list_versions WHERE list=?1 AND applied_at IS NULL)"
			 " AS pending",
			 lists[i].cl_file, lists[i].cl_table, lists[i].cl_table);
		if (db_prepare(h->hb_db, &st, sql) != 0) {
			cJSON_Delete(arr);
			DBFAIL(req);
			return;
		}
		sqlite3_bind_text(st, 1, lists[i].cl_name, -1, SQLITE_STATIC);
		o = sqlite3_step(st) == SQLITE_ROW ? db_row_json(st) : NULL;
		sqlite3_finalize(st);
		if (o) {
			cJSON *pend = cJSON_Parse(json_str(o, "pending") ? json_str(o, "pending") : "[]");
			cJSON_ReplaceItemInObject(o, "pending", pend ? pend : cJSON_CreateArray());
			cJSON_AddItemToArray(arr, o);
		}
	}
	http_reply_json(req, 200, arr);
}

/* The code list of the path, once the caller is signed in (need_ops:
 * operations only).  NULL after replying 401/403/404. */
static const code_list *path_list(hub *h, http_req *req, acct_principal *p, int need_ops)
{
	const code_list *l = list_by_name(http_req_param(req, "list"));

	if (acct_auth(h, req, p, need_ops ? ACCT_AUTH_OPS : 0) != 0)
		return NULL;
	if (l == NULL)
		http_reply_error(req, 404, NULL, "no code list '%s' (" LIST_NAMES ")",
				 http_req_param(req, "list"));
	return l;
}

void hub_codes_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	const code_list *l;
	acct_principal p;
	char sql[400];
	sqlite3_stmt *st = NULL;
	cJSON *o, *codes, *vers;

	if ((l = path_list(h, req, &p, 0)) == NULL)
		return;
	snprintf(sql, sizeof sql,
		 "SELECT c.code, c.title, c.status, r.effective_date AS retired_on, r.version AS"
		 " retired_in FROM %s c LEFT JOIN code_retirements r ON r.id=?1||':'||c.id"
		 " ORDER BY c.code",
		 l->cl_table);
	if (db_prepare_bound(h->hb_db, &st, sql, "t", l->cl_name) != 0) {
		DBFAIL(req);
		return;
	}
	codes = db_rows_json(st);
	sqlite3_finalize(st);
	if (db_prepare_bound(h->hb_db, &st, "SELECT version, effective_date, loaded_at, loaded_by, rows,"
					    " added, changed, retired, reactivated, applied_at"
					    " FROM code_list_versions WHERE list=? ORDER BY loaded_at",
			     "t", l->cl_name) != 0) {
		cJSON_Delete(codes);
		DBFAIL(req);
		return;
	}
	vers = db_rows_json(st);
	sqlite3_finalize(st);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "list", l->cl_name);
	cJSON_AddItemToObject(o, "codes", codes ? codes : cJSON_CreateArray());
	cJSON_AddItemToObject(o, "versions", vers ? vers : cJSON_CreateArray());
	http_reply_json(req, 200, o);
}

/* Is a version of l waiting for a date after eff?  It is a whole list made
 * without the one being loaded, and would undo it on that date: 409 naming
 * it (-1, the reply sent), or 0. */
static int later_waiting(hub *h, http_req *req, const code_list *l, const char *eff)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare_bound(h->hb_db, &st, "SELECT version, effective_date FROM code_list_versions"
					    " WHERE list=?1 AND applied_at IS NULL AND effective_date > ?2"
					    " ORDER BY effective_date LIMIT 1",
			     "tt", l->cl_name, eff) != 0) {
		DBFAIL(req);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		http_reply_error(req, 409, "effective_date",
				 "version '%s' of this list waits for %s, and it is a whole list"
				 " without this one's changes: on that day it would undo them."
				 " Withdraw it first (then load it again with these changes), or"
				 " date this version %s or later",
				 db_col(st, 0) ? db_col(st, 0) : "", db_col(st, 1) ? db_col(st, 1) : "",
				 db_col(st, 1) ? db_col(st, 1) : "");
	else if (rc != SQLITE_DONE)
		DBFAIL(req);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void hub_codes_version_post(http_req *req, void *ctx)
{
	static const char *const fields[] = {"version", "effective_date", "csv", NULL};
	hub *h = ctx;
	const code_list *l;
	acct_principal p;
	cJSON *body = NULL, *o = NULL;
	json_err errs[4], je;
	int ne = 0, applied, in_txn = 0, groups = 0;
	const char *version = NULL, *eff = NULL, *csv = NULL;
	char today[11], id[UUID_STRLEN], *after = NULL;
	cJSON *ad = NULL;
	parse ps;
	sqlite3_stmt *st = NULL;

	memset(&ps, 0, sizeof ps);
	if ((l = path_list(h, req, &p, 1)) == NULL)
		return;
	if ((body = http_req_json(req, 1)) == NULL)
		return;
	clock_local_date(hub_now_ms(), today);
	if (json_only(body, fields, &je) != 0)
		errs[ne++] = je;
	if (json_get_str(body, "version", JSON_REQUIRED, 1, 40, &version, NULL, 0, &je) != 0)
		errs[ne++] = je;
	if (json_get_str(body, "effective_date", JSON_REQUIRED, 10, 10, &eff, NULL, 0, &je) != 0)
		errs[ne++] = je;
	else if (json_valid_date(eff) != 0 || strcmp(eff, today) < 0) {
		json_err_set(&je, "effective_date", "use a date YYYY-MM-DD from today on (a past date "
						    "would refuse rows the offices already entered)");
		errs[ne++] = je;
	}
	/* Not json_get_str: a CSV's lines may end in CR LF. */
	csv = cJSON_IsString(cJSON_GetObjectItem(body, "csv")) ? json_str(body, "csv") : NULL;
	if (csv == NULL || csv[0] == '\0' || strlen(csv) > CODES_CSV_MAX) {
		json_err_set(&je, "csv", "csv is required: the list as CSV text, at most %d bytes",
			     CODES_CSV_MAX);
		errs[ne++] = je;
	} else if (parse_csv(l, csv, 0, &ps) != 0) {
		errs[ne++] = ps.p_err;
	}
	if (ne > 0) {
		route_reply_errors(req, 400, errs, ne);
		goto out;
	}
	uuid7(id);
	/* The version, its audit row and (due today) its codes: one transaction. */
	if (db_exec(h->hb_db, "BEGIN IMMEDIATE") != 0) {
		DBFAIL(req);
		goto out;
	}
	in_txn = 1;
	if (later_waiting(h, req, l, eff) != 0)
		goto out;
	if (db_prepare(h->hb_db, &st, "INSERT INTO code_list_versions(id, list, version, effective_date,"
				      " loaded_at, loaded_by, rows, csv) VALUES(?,?,?,?,?,?,?,?)") != 0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, l->cl_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, eff, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)hub_now_ms());
	sqlite3_bind_text(st, 6, p.ap_username, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, ps.p_n);
	sqlite3_bind_text(st, 8, csv, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		http_reply_error(req, 409, "version", "version '%s' of this list already exists", version);
		goto out;
	}
	if ((ad = cJSON_CreateObject()) == NULL || !cJSON_AddStringToObject(ad, "version", version) ||
	    !cJSON_AddStringToObject(ad, "effective_date", eff) ||
	    !cJSON_AddNumberToObject(ad, "rows", ps.p_n) || (after = cJSON_PrintUnformatted(ad)) == NULL ||
	    acct_audit(h->hb_db, &p, req->peer, "code_list.load", "code_list_versions", id, NULL, NULL,
		       NULL, after) != 0 ||
	    (strcmp(eff, today) <= 0 && apply_version_db(h->hb_db, hub_clock(h), id, &groups) != 0) ||
	    db_exec(h->hb_db, "COMMIT") != 0) {
		DBFAIL(req);
		goto out;
	}
	in_txn = 0;
	if (groups)
		groups_applied(h->hb_db);
	o = db_row_json_by(h->hb_db, "SELECT list, version, effective_date, rows, added, changed,"
				     " retired, reactivated, applied_at FROM code_list_versions WHERE id=?",
			   id);
	applied = o && !cJSON_IsNull(cJSON_GetObjectItem(o, "applied_at"));
	if (o)
		cJSON_AddBoolToObject(o, "applied", applied);
	http_reply_json(req, 201, o);
out:
	sqlite3_finalize(st);
	if (in_txn)
		db_exec(h->hb_db, "ROLLBACK");
	parse_release(&ps);
	cJSON_Delete(body);
	cJSON_Delete(ad);
	cJSON_free(after);
}

/* POST /api/v1/admin/code-lists/:list/versions/:version/withdraw: a
 * version still waiting for its date is dropped, its file with it; the
 * audit row (code_list.withdraw, beside code_list.load) keeps what it was.
 * 404 for no such list or version, 409 for one applied already (a later
 * version changes an applied list). */
static route_rc version_withdraw(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const code_list *l = list_by_name(http_req_param(a->rc_req, "list"));
	const char *version = http_req_param(a->rc_req, "version");
	char id[UUID_STRLEN] = "", eff[16] = "", detail[512];
	sqlite3_stmt *st = NULL;
	int applied = 0, rc;
	cJSON *o;

	if (l == NULL)
		return route_fail(a, 404, NULL, "no code list '%s' (" LIST_NAMES ")",
				  http_req_param(a->rc_req, "list"));
	if (db_prepare_bound(db, &st, "SELECT id, effective_date, applied_at IS NOT NULL FROM"
				      " code_list_versions WHERE list=?1 AND version=?2",
			     "tt", l->cl_name, version) != 0)
		return ROUTE_DBERR;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(id, sizeof id, "%s", db_col(st, 0) ? db_col(st, 0) : "");
		snprintf(eff, sizeof eff, "%s", db_col(st, 1) ? db_col(st, 1) : "");
		applied = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ROUTE_DBERR;
	if (id[0] == '\0')
		return route_fail(a, 404, "version", "no version '%s' of this list", version);
	if (applied)
		return route_fail(a, 409, "version", "version '%s' is applied already: load a new"
						     " version to change the list", version);
	if (db_run(db, "DELETE FROM code_list_versions WHERE id=?1", "t", id) != 0)
		return ROUTE_DBERR;
	o = cJSON_CreateObject();
	if (o == NULL || cJSON_AddStringToObject(o, "list", l->cl_name) == NULL ||
	    cJSON_AddStringToObject(o, "version", version) == NULL ||
	    cJSON_AddStringToObject(o, "effective_date", eff) == NULL ||
	    (cJSON_PrintPreallocated(o, detail, sizeof detail, 0) == 0) ||
	    hub_api_admin_audit(a, "code_list.withdraw", "code_list_versions", id, NULL, NULL, detail,
				NULL) != 0) {
		cJSON_Delete(o);
		return ROUTE_DBERR;
	}
	cJSON_AddBoolToObject(o, "withdrawn", 1);
	return route_ok(a, 200, o);
}

static const route_def codes_defs[] = {
	{HTTP_M_POST, "/api/v1/admin/code-lists/:list/versions/:version/withdraw", version_withdraw,
	 HUB_P_OPS, HUB_AUDITED, NULL, 0},
};
const route_list hub_codes_route_list = ROUTE_LIST(codes_defs);
