/*
 * acct_store.c - the hub-local side of staff accounts (see acct.h): the
 * tables only the hub keeps (field divisions, the documents and dates of each
 * account, access requests and their uploaded forms, console sessions, the
 * admin audit trail, the outcome of passwords set at nodes, quarterly
 * reviews), the privilege groups of data/privilege_groups.csv with who may
 * assign them, the administrators' scope, the staff member as the API shows
 * it, and the operations account created at first start.
 *
 * The replicated account tables (staff, staff_credentials) are written here
 * with plain SQL on the hub's connection: the change-log triggers of
 * sync/apply.c record every such write, so the nodes pull it.
 */
#include "hub/acct.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "model/demo.h"
#include "model/password.h"
#include "model/privileges.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <strings.h>

static const db_migration acct_migrations[] = {
    {"CREATE TABLE field_divisions("
     " id TEXT PRIMARY KEY NOT NULL,"
     " name TEXT NOT NULL,"
     " created_at INTEGER NOT NULL);"
     /* per account: the documents' dates, certification, separation */
     "CREATE TABLE staff_records("
     " id TEXT PRIMARY KEY NOT NULL,"         /* = staff.id */
     " created_at INTEGER,"
     " created_by TEXT,"
     " ispa_date TEXT,"
     " conf_type TEXT,"                       /* 'DE 7410' | 'E-1' */
     " conf_date TEXT,"
     " certified_at INTEGER,"
     " separation_date TEXT,"
     " deactivated_by TEXT,"
     " last_login_at INTEGER);"
     "CREATE TABLE access_requests("
     " id TEXT PRIMARY KEY NOT NULL,"
     " kind TEXT NOT NULL,"                   /* new reset change recertify deactivate */
     " staff_id TEXT,"
     " status TEXT NOT NULL DEFAULT 'submitted',"
     " username TEXT, display_name TEXT, email TEXT,"
     " local_area_id TEXT, field_division TEXT, office_id TEXT,"
     " privilege_group TEXT, priv_add TEXT, priv_remove TEXT, crm_work_group INTEGER,"
     " requestor_name TEXT NOT NULL, requestor_email TEXT,"
     " ispa_date TEXT, conf_type TEXT, conf_date TEXT,"
     " business_need TEXT, separation_date TEXT,"
     " created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
     " decided_by TEXT, decided_at INTEGER, decision_note TEXT,"
     " fulfilled_at INTEGER);"
     "CREATE INDEX access_requests_staff ON access_requests(staff_id);"
     "CREATE TABLE request_files("
     " id TEXT PRIMARY KEY NOT NULL,"
     " request_id TEXT NOT NULL,"
     " staff_id TEXT,"
     " kind TEXT NOT NULL,"
     " filename TEXT NOT NULL,"
     " content_type TEXT NOT NULL,"
     " size INTEGER NOT NULL,"
     " sha256 TEXT NOT NULL,"
     " uploaded_by TEXT NOT NULL,"
     " uploaded_at INTEGER NOT NULL);"
     "CREATE INDEX request_files_request ON request_files(request_id);"
     "CREATE TABLE admin_sessions("
     " token_hash TEXT PRIMARY KEY NOT NULL,"  /* SHA-256 hex; never the token */
     " staff_id TEXT NOT NULL,"
     " csrf TEXT NOT NULL,"
     " created_at INTEGER NOT NULL,"
     " last_seen_at INTEGER NOT NULL,"
     " client TEXT);"
     "CREATE INDEX admin_sessions_staff ON admin_sessions(staff_id);"
     "CREATE TABLE admin_audit("
     " id TEXT PRIMARY KEY NOT NULL,"
     " at INTEGER NOT NULL,"
     " actor_id TEXT,"
     " actor TEXT,"
     " action TEXT NOT NULL,"
     " subject_table TEXT,"
     " subject_id TEXT,"
     " local_area_id TEXT,"
     " field_division TEXT,"
     " before TEXT,"
     " after TEXT,"
     " client TEXT);"
     "CREATE INDEX admin_audit_at ON admin_audit(at);"
     "CREATE INDEX admin_audit_subject ON admin_audit(subject_id);"
     "CREATE TABLE credential_change_status("
     " id TEXT PRIMARY KEY NOT NULL,"         /* = credential_changes.id */
     " staff_id TEXT, node_id TEXT, reason TEXT, changed_at INTEGER,"
     " status TEXT NOT NULL,"                 /* applied | refused */
     " why TEXT,"
     " decided_at INTEGER NOT NULL);"
     "CREATE TABLE reviews("
     " id TEXT PRIMARY KEY NOT NULL,"
     " quarter TEXT NOT NULL,"
     " local_area_id TEXT, field_division TEXT,"
     " sample_size INTEGER NOT NULL,"
     " status TEXT NOT NULL DEFAULT 'open',"
     " created_by TEXT NOT NULL, created_at INTEGER NOT NULL,"
     " completed_at INTEGER, reported_to TEXT, summary TEXT);"
     "CREATE TABLE review_items("
     " id TEXT PRIMARY KEY NOT NULL,"
     " review_id TEXT NOT NULL,"
     " staff_id TEXT NOT NULL,"
     " docs_complete INTEGER, docs_current INTEGER, deactivation_timely INTEGER,"
     " result TEXT, note TEXT, checked_by TEXT, checked_at INTEGER);"
     "CREATE INDEX review_items_review ON review_items(review_id);"},
    /*
     * The trust boundary (DESIGN.md).  staff_verifiers: the second verifier
     * of each password (model/password.h), kept only here, never replicated:
     * a node proves a password change with it.  admin_accounts: the
     * administrative accounts (hub-only: their credentials are in the scope
     * ACCT_HUB_LA, which no node holds); field_staff_id names the field
     * account a role was moved off (NULL for an account made for the role).
     */
    {"CREATE TABLE staff_verifiers("
     " id TEXT PRIMARY KEY NOT NULL,"         /* = staff.id */
     " verifier TEXT NOT NULL,"
     " set_at INTEGER NOT NULL);"
     "CREATE TABLE admin_accounts("
     " id TEXT PRIMARY KEY NOT NULL,"         /* = staff.id */
     " field_staff_id TEXT,"
     " created_at INTEGER NOT NULL);"},
    /*
     * Designation of an MIS Administrator or SPOC (WSD24-13): the signed
     * Attachment 1 (a request_files row of the account itself, request_id
     * '') and the date of the administrator training, both required before
     * a role is granted.
     */
    {"ALTER TABLE staff_records ADD COLUMN admin_form_id TEXT;"
     "ALTER TABLE staff_records ADD COLUMN admin_training_date TEXT;"
     "ALTER TABLE staff_records ADD COLUMN admin_designated_at INTEGER;"},
    /* A suspension by the CalJOBS Operations Unit (a security matter, say):
     * only operations lifts it (acct_state.c). */
    {"ALTER TABLE staff_records ADD COLUMN suspended_by_ops INTEGER NOT NULL DEFAULT 0;"},
};

int acct_migrate(sqlite3 *db)
{
	return DB_MIGRATE_ALL(db, "acct_hub", acct_migrations);
}

/* ---- the trust boundary: verifiers and administrative accounts --------------- */

int acct_verifier_set(sqlite3 *db, const char *staff_id, const char *v)
{
	if (v == NULL || strlen(v) != PASSWORD_VERIFIER_HEX - 1)
		return db_run(db, "DELETE FROM staff_verifiers WHERE id=?", "t", staff_id);
	return db_run(db, "INSERT OR REPLACE INTO staff_verifiers(id, verifier, set_at) VALUES(?,?,?)",
		      "ttI", staff_id, v, (int64_t)hub_now_ms());
}

int acct_password_set(sqlite3 *db, const char *staff_id, const char *hash, int64_t changed_at,
		      const char *ts, const char *verifier)
{
	if (db_run(db,
		   "UPDATE staff_credentials SET password_hash=?, password_temp=0,"
		   " password_expires_at=NULL, password_changed_at=?, updated_hlc=? WHERE id=?",
		   "tItt", hash, changed_at, ts, staff_id) != 0 ||
	    sqlite3_changes(db) != 1)
		return -1;
	return acct_verifier_set(db, staff_id, verifier);
}

int acct_temp_password_set(sqlite3 *db, const char *staff_id, const char *la, const char *stored,
			   int64_t now, const char *ts)
{
	if (db_run(db,
		   "INSERT INTO staff_credentials(id, local_area_id, password_hash, password_temp,"
		   " password_expires_at, password_changed_at, updated_hlc)"
		   " SELECT ?1, coalesce(?2, local_area_id), ?3, 1, ?4, ?5, ?6 FROM staff WHERE id=?1"
		   " ON CONFLICT(id) DO UPDATE SET password_hash=?3, password_temp=1,"
		   " password_expires_at=?4, password_changed_at=?5, updated_hlc=?6",
		   "tttIIt", staff_id, la, stored, (int64_t)(now + PASSWORD_TEMP_TTL_MS), now, ts) != 0)
		return -1;
	return sqlite3_changes(db) == 1 ? 0 : -1;
}

int acct_verifier_get(sqlite3 *db, const char *staff_id, char out[PASSWORD_VERIFIER_HEX])
{
	int rc;

	out[0] = '\0';
	rc = db_text(db, "SELECT verifier FROM staff_verifiers WHERE id=?", staff_id, out,
		     PASSWORD_VERIFIER_HEX);
	if (rc != 0)
		return rc;
	return strlen(out) == PASSWORD_VERIFIER_HEX - 1 ? 0 : 1;
}

int acct_is_admin_account(sqlite3 *db, const char *staff_id)
{
	/* Asked for every staff column of every row a node pushes: the
	 * statement cache keeps it prepared. */
	static const char sql[] = "SELECT coalesce(s.roles,'')<>''"
				  " OR EXISTS(SELECT 1 FROM staff_credentials c WHERE c.id=s.id"
				  "           AND c.local_area_id='" ACCT_HUB_LA "')"
				  " OR EXISTS(SELECT 1 FROM admin_accounts a WHERE a.id=s.id)"
				  " FROM staff s WHERE s.id=?1";
	sqlite3_stmt *st;
	int rc, ret = -1;

	if (staff_id == NULL)
		return 0;
	if ((st = db_stmt(db, sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, staff_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret = sqlite3_column_int(st, 0) ? 1 : 0;
	else if (rc == SQLITE_DONE)
		ret = 0;
	db_stmt_done(st);
	return ret;
}

int acct_make_hub_only(sqlite3 *db, hlc *clk, const char *staff_id, const char *field_id)
{
	char ts[HLC_STRLEN];

	hlc_now(clk, ts);
	/* Moving the credentials out of every Local Area: the change log sends
	 * the nodes that held them a DELETE (sync/apply.c, scope moves). */
	if (db_run(db,
		   "INSERT INTO staff_credentials(id, local_area_id, password_hash, password_temp,"
		   " updated_hlc) VALUES(?1, '" ACCT_HUB_LA "', NULL, 1, ?2)"
		   " ON CONFLICT(id) DO UPDATE SET local_area_id='" ACCT_HUB_LA "', updated_hlc=?2"
		   " WHERE local_area_id IS NOT '" ACCT_HUB_LA "'", "tt", staff_id, ts) != 0)
		return -1;
	/* And the passwords it set at an office (each a hash, the last one
	 * its hash now): out of the Local Area too, for the same DELETE. */
	if (db_run(db, "UPDATE credential_changes SET local_area_id='" ACCT_HUB_LA "'"
		       " WHERE staff_id=?1 AND local_area_id IS NOT '" ACCT_HUB_LA "'",
		   "t", staff_id) != 0)
		return -1;
	return db_run(db, "INSERT OR IGNORE INTO admin_accounts(id, field_staff_id, created_at)"
			  " VALUES(?,?,?)", "ttI", staff_id, field_id, (int64_t)hub_now_ms());
}

/* Move the roles of one field account to a new administrative account
 * USERNAME.admin (no password yet: operations issues one with a reset).
 * The field account holds no authority after it: the requests it approved
 * and no one carried out go back to 'submitted', as a demoted
 * administrator's do (acct_approvals_withdraw), to be decided again (by
 * the new account too, once it has a password). */
static int move_roles(sqlite3 *db, hlc *clk, const char *field_id)
{
	char id[UUID_STRLEN], ts[HLC_STRLEN];

	if (uuid7(id) != 0)
		return -1;
	hlc_now(clk, ts);
	if (db_run(db,
		   "INSERT INTO staff(id, username, display_name, email, local_area_id,"
		   " field_division, office_id, privilege_group, roles, crm_work_group, active,"
		   " updated_hlc) SELECT ?1, username||'.admin', display_name||' (administrator)',"
		   " email, local_area_id, field_division, NULL, 'View Access with Reports', roles,"
		   " 0, 1, ?2 FROM staff WHERE id=?3", "ttt", id, ts, field_id) != 0 ||
	    db_run(db, "INSERT INTO staff_records(id, created_at, created_by)"
		       " VALUES(?, ?, 'trust boundary migration')", "tI", id,
		   (int64_t)hub_now_ms()) != 0 ||
	    acct_make_hub_only(db, clk, id, field_id) != 0)
		return -1;
	hlc_now(clk, ts);
	if (db_run(db, "UPDATE staff SET roles=NULL, updated_hlc=? WHERE id=?", "tt", ts,
		   field_id) != 0 ||
	    acct_audit(db, NULL, "hub", "staff.roles_moved", "staff", id, NULL, NULL, NULL,
		       "{\"why\":\"administrative privileges live on a hub-only account\"}") != 0 ||
	    acct_approvals_withdraw(db, NULL, "hub", field_id,
				    "its approver's roles moved to a hub-only administrative account") != 0)
		return -1;
	acct_sessions_end(db, field_id);
	log_info("trust boundary: the roles of staff %s moved to the new administrative account "
		 "%s (hub only; give it a password with a reset)",
		 field_id, id);
	return 0;
}

/* A hub started without demo keeps no account with the published demo
 * password: those credentials lose their hash (nodes pull that). */
static int demo_logins_close(sqlite3 *db, hlc *clk)
{
	sqlite3_stmt *st = NULL;
	char ts[HLC_STRLEN];
	int n = 0, ret = -1;

	if (db_prepare(db, &st, "SELECT id, password_hash FROM staff_credentials"
				" WHERE password_hash IS NOT NULL") != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_col(st, 0), *hash = db_col(st, 1);
		if (id == NULL || hash == NULL)
			goto out; /* not "no demo password" */
		if (demo_login_hub_verifier(hash) == NULL && !demo_login_node_hash(hash))
			continue;
		hlc_now(clk, ts);
		if (db_run(db, "UPDATE staff_credentials SET password_hash=NULL, updated_hlc=?"
			       " WHERE id=?", "tt", ts, id) != 0)
			goto out;
		n++;
	}
	if (n)
		log_info("demo is off: %d account%s with the published demo password can no longer "
			 "sign in",
			 n, n == 1 ? "" : "s");
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* At every start: no field account (one whose credentials a node holds)
 * keeps a role, no hub-only account's hash stays in a Local Area; demo
 * accounts get their precomputed verifiers, or with demo off lose the
 * published password. */
static int trust_migrate(sqlite3 *db, hlc *clk, int demo)
{
	sqlite3_stmt *st = NULL;
	char ids[64][64];
	int n = 0, ret = -1;

	if (db_prepare(db, &st,
		       "SELECT s.id FROM staff s LEFT JOIN staff_credentials c ON c.id=s.id"
		       " WHERE coalesce(s.roles,'')<>'' AND c.local_area_id IS NOT '" ACCT_HUB_LA "'"
		       " AND NOT EXISTS(SELECT 1 FROM admin_accounts a WHERE a.id=s.id) LIMIT 64") != 0)
		return -1;
	while (n < 64 && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_col(st, 0);

		if (id == NULL) {
			sqlite3_finalize(st);
			return -1;
		}
		snprintf(ids[n++], sizeof ids[0], "%s", id);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (move_roles(db, clk, ids[i]) != 0)
			goto out;
	/* A hub-only account's office password changes (designated before
	 * acct_make_hub_only() moved them too), and every change decided
	 * before the hub moved them as it decides (acct_apply.c): out of every
	 * Local Area. */
	if (db_exec(db, "UPDATE credential_changes SET local_area_id='" ACCT_HUB_LA "'"
			" WHERE local_area_id IS NOT '" ACCT_HUB_LA "' AND (staff_id IN"
			" (SELECT id FROM staff_credentials WHERE local_area_id='" ACCT_HUB_LA "')"
			" OR id IN (SELECT id FROM credential_change_status))") != 0)
		goto out;
	if (!demo && demo_logins_close(db, clk) != 0)
		goto out;
	if (db_prepare(db, &st, "SELECT c.id, c.password_hash FROM staff_credentials c"
				" WHERE c.password_hash IS NOT NULL AND NOT EXISTS"
				" (SELECT 1 FROM staff_verifiers v WHERE v.id=c.id)") != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_col(st, 0), *hash = db_col(st, 1), *v;
		if (id == NULL || hash == NULL)
			goto out;
		v = demo_login_hub_verifier(hash);
		if (v && acct_verifier_set(db, id, v) != 0)
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return db_end(db, ret);
}

/* ---- privilege groups (data/privilege_groups.csv) ------------------------------ */

static const struct {
	const char *name;
	int assigner; /* 1 MIS Administrator, 2 WSB CalJOBS SPOC */
} groups[] = {
    {"LWIA/CBO Staff", 1},
    {"LWIA Intake Staff", 1},
    {"LWIA Partner Staff", 1},
    {"LWIA Partner Supervisor", 1},
    {"ETPL Coordinators", 1},
    {"WARN", 1},
    {"View Access", 1},
    {"View Access with Reports", 1},
    {"DVOP", 2},
    {"EDD El Centro Helpdesk", 2},
    {"EDD WSB Staff", 2},
    {"EDD WSB Supervisor", 2},
    {"LVER", 2},
    {"TAA Coordinators/Specialist", 2},
};

int acct_group_assigner(const char *group)
{
	int loaded = hub_codes_group_assigner(group); /* seed/privilege_groups.csv, versioned */

	if (loaded >= 0)
		return loaded;
	for (size_t i = 0; group && i < sizeof groups / sizeof groups[0]; i++)
		if (strcmp(groups[i].name, group) == 0)
			return groups[i].assigner;
	return 0;
}

int acct_group_assignable(const acct_principal *p, const char *group)
{
	int a = acct_group_assigner(group);

	if (a == 0 || hub_codes_group_retired(group))
		return 0;
	if (p->ap_roles & ROLE_OPERATIONS)
		return 1;
	return (a == 1 && (p->ap_roles & ROLE_MIS_ADMIN)) ||
	       (a == 2 && (p->ap_roles & ROLE_SPOC));
}

unsigned acct_roles_parse(const char *s)
{
	char tmp[256], *save = NULL;
	unsigned r = 0;

	if (s == NULL)
		return 0;
	snprintf(tmp, sizeof tmp, "%s", s);
	for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (strcmp(t, "operations") == 0)
			r |= ROLE_OPERATIONS;
		else if (strcmp(t, "mis_admin") == 0)
			r |= ROLE_MIS_ADMIN;
		else if (strcmp(t, "spoc") == 0)
			r |= ROLE_SPOC;
	}
	return r;
}

int acct_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

int acct_scope_why(const acct_principal *p, const char *la, const char *div, const char *group,
		   const char **field, char *msg, size_t n)
{
	int in_la, in_div, a;

	if (p->ap_roles & ROLE_OPERATIONS)
		return 0;
	in_la = (p->ap_roles & ROLE_MIS_ADMIN) && p->ap_la[0] && la && strcmp(la, p->ap_la) == 0;
	in_div = (p->ap_roles & ROLE_SPOC) && p->ap_div[0] && div && strcmp(div, p->ap_div) == 0;
	if (!in_la && !in_div) {
		int mis = (p->ap_roles & ROLE_MIS_ADMIN) != 0;
		*field = mis ? "local_area_id" : "field_division";
		snprintf(msg, n, "%s", mis ? "outside your Local Area" : "outside your field division");
		return 403;
	}
	if (group == NULL)
		return 0;
	a = acct_group_assigner(group);
	if ((a == 1 && !in_la) || (a == 2 && !in_div) || a == 0) {
		*field = "privilege_group";
		snprintf(msg, n, "you may not assign the group '%s'", group);
		return 403;
	}
	return 0;
}

/*
 * acct_in_scope(ops, mis_la, spoc_div, la, div, grp) in SQL: 1 when the
 * caller whose scope acct_bind_scope() bound as the first three (operations
 * 1/0, the MIS Local Area and the SPOC division, "" for none) may open the
 * account of Local Area la / division div in group grp (NULL: not checked),
 * as acct_scope_why() decides for the account itself; else 0.  A list that
 * asked only for the Local Area or division showed an MIS Administrator its
 * Local Area's EDD WSB accounts, and a SPOC the LWIA accounts naming its
 * division, each then refused opening them: one rule for both.
 */
static void scope_sql(sqlite3_context *ctx, int argc, sqlite3_value **v)
{
	const unsigned char *t[5];
	const char *field = NULL;
	acct_principal p;
	char msg[200];

	(void)argc;
	memset(&p, 0, sizeof p);
	for (int i = 0; i < 5; i++)
		t[i] = sqlite3_value_text(v[i + 1]);
	if (sqlite3_value_int(v[0]))
		p.ap_roles |= ROLE_OPERATIONS;
	if (t[0] && t[0][0]) {
		p.ap_roles |= ROLE_MIS_ADMIN;
		snprintf(p.ap_la, sizeof p.ap_la, "%s", (const char *)t[0]);
	}
	if (t[1] && t[1][0]) {
		p.ap_roles |= ROLE_SPOC;
		snprintf(p.ap_div, sizeof p.ap_div, "%s", (const char *)t[1]);
	}
	sqlite3_result_int(ctx, acct_scope_why(&p, (const char *)t[2], (const char *)t[3],
					       (const char *)t[4], &field, msg, sizeof msg) == 0);
}

int acct_scope_sql_init(sqlite3 *db)
{
	/* Not SQLITE_DETERMINISTIC: a group's assigner is the loaded list's,
	 * which a new version changes. */
	int rc = sqlite3_create_function(db, "acct_in_scope", 6, SQLITE_UTF8, NULL, scope_sql,
					 NULL, NULL);

	if (rc != SQLITE_OK) {
		log_warnx("cannot declare acct_in_scope(): %s", sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

int acct_scope_check(http_req *req, const acct_principal *p, const char *la,
		     const char *div, const char *group)
{
	const char *field = NULL;
	char msg[200];

	if (acct_scope_why(p, la, div, group, &field, msg, sizeof msg) == 0)
		return 0;
	http_reply_error(req, 403, field, "%s", msg);
	return -1;
}

/* ---- staff as JSON ----------------------------------------------------------------- */

static cJSON *csv_array(const char *s)
{
	cJSON *a = cJSON_CreateArray();
	char tmp[512], *save = NULL;

	if (s == NULL || a == NULL)
		return a;
	snprintf(tmp, sizeof tmp, "%s", s);
	for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		cJSON_AddItemToArray(a, cJSON_CreateString(t));
	return a;
}

/* The column of j named k, moved out as a boolean. */
static void to_bool(cJSON *j, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(j, k);

	if (v && cJSON_IsNumber(v))
		cJSON_ReplaceItemInObject(j, k, cJSON_CreateBool(v->valuedouble != 0));
}

static void to_list(cJSON *j, const char *k)
{
	const char *s = json_str(j, k);

	cJSON_ReplaceItemInObject(j, k, csv_array(s));
}

cJSON *acct_staff_json(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st = NULL;
	cJSON *j = NULL, *privs;
	unsigned bits;

	if (db_prepare_bound(db, &st,
			     "SELECT s.id, s.username, s.display_name, s.email, s.local_area_id,"
			     " s.field_division, s.office_id, s.privilege_group, s.priv_add,"
			     " s.priv_remove, s.roles, s.crm_work_group, s.active, s.deactivated_at,"
			     " s.suspended, s.suspend_reason, s.deactivate_on, s.suspend_on,"
			     " r.separation_date, r.created_at, r.ispa_date,"
			     " r.conf_type AS confidentiality_type, r.conf_date AS confidentiality_date,"
			     " CASE WHEN r.ispa_date IS NULL OR r.conf_date IS NULL OR "
			     ACCT_RECERT_EXEMPT_SQL("s") " THEN NULL ELSE"
			     "  date(min(r.ispa_date, r.conf_date), '+1 year') END"
			     "  AS recertification_due_on,"
			     " " ACCT_RECERT_EXEMPT_SQL("s") " AS recertification_exempt,"
			     " c.password_temp, c.password_expires_at, c.password_changed_at,"
			     " r.last_login_at, r.admin_form_id, r.admin_training_date, r.admin_designated_at,"
			     " (SELECT a.field_staff_id FROM admin_accounts a WHERE a.id=s.id)"
			     "  AS field_staff_id"
			     " FROM staff s LEFT JOIN staff_records r ON r.id=s.id"
			     " LEFT JOIN staff_credentials c ON c.id=s.id WHERE s.id=?", "t", id) != 0)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW)
		j = db_row_json(st);
	sqlite3_finalize(st);
	if (j == NULL)
		return NULL;
	bits = priv_effective(json_str(j, "privilege_group"), json_str(j, "priv_add"),
			      json_str(j, "priv_remove"));
	if (acct_roles_parse(json_str(j, "roles")) & (ROLE_MIS_ADMIN | ROLE_SPOC | ROLE_OPERATIONS))
		bits |= PRIV_STAFF_ADMIN;
	privs = cJSON_CreateArray();
	for (unsigned b = 1; b <= PRIV_ALL; b <<= 1)
		if (bits & b)
			cJSON_AddItemToArray(privs, cJSON_CreateString(priv_name(b)));
	cJSON_AddItemToObject(j, "privileges", privs);
	to_list(j, "priv_add");
	to_list(j, "priv_remove");
	to_list(j, "roles");
	to_bool(j, "crm_work_group");
	to_bool(j, "active");
	to_bool(j, "password_temp");
	to_bool(j, "recertification_exempt");
	return j;
}

/* ---- audit ---------------------------------------------------------------------------- */

int acct_audit(sqlite3 *db, const acct_principal *p, const char *client,
	       const char *action, const char *subject_table, const char *subject_id,
	       const char *la, const char *div, const char *before, const char *after)
{
	char id[UUID_STRLEN];

	if (uuid7(id) != 0)
		return -1;
	if (db_run(db,
		   "INSERT INTO admin_audit(id, at, actor_id, actor, action, subject_table,"
		   " subject_id, local_area_id, field_division, before, after, client)"
		   " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
		   "tItttttttttt", id, (int64_t)hub_now_ms(), p ? p->ap_id : NULL,
		   p ? p->ap_username : NULL, action, subject_table, subject_id,
		   la && *la ? la : NULL, div && *div ? div : NULL, before, after, client) != 0) {
		log_warnx("cannot record admin audit event '%s': %s", action, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int acct_audit_anon(sqlite3 *db, const char *client, const char *action,
		    const char *subject_id, const char *detail)
{
	return acct_audit(db, NULL, client, action, subject_id ? "staff" : NULL, subject_id,
			  NULL, NULL, NULL, detail);
}

/* ---- the operations account ------------------------------------------------------------- */

/* Set a fresh temporary password on staff id (credentials row created when
 * missing).  The hash runs here, synchronously: only for the command line
 * and the first start, never on a serving loop. */
static int set_temp(sqlite3 *db, hlc *clk, const char *id, const char *la, uint32_t iters,
		    char pw[13])
{
	char stored[PASSWORD_HASH_MAX], ts[HLC_STRLEN];
	int rc;

	if (password_temp_new(pw, 13) != 0 || password_hash(pw, iters, stored, sizeof stored) != 0)
		return -1;
	hlc_now(clk, ts);
	rc = acct_temp_password_set(db, id, la, stored, (int64_t)hub_now_ms(), ts);
	crypto_wipe(stored, sizeof stored);
	return rc;
}

/* pw and a newline into path, created with mode 0600 (replacing any old one). */
static int write_secret_file(const char *path, const char *pw)
{
	char line[32];
	int fd, n, rc = -1;

	n = snprintf(line, sizeof line, "%s\n", pw);
	if (n < 0 || (size_t)n >= sizeof line)
		return -1;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (write(fd, line, (size_t)n) == n && fsync(fd) == 0)
		rc = 0;
	close(fd);
out:
	crypto_wipe(line, sizeof line);
	return rc;
}

int acct_bootstrap(sqlite3 *db, hlc *clk, uint32_t iters, const char *pw_file, int demo)
{
	char id[UUID_STRLEN], pw[13], ts[HLC_STRLEN];
	int ret = -1;

	if (db_exec(db, "INSERT OR IGNORE INTO field_divisions(id, name, created_at)"
			" SELECT DISTINCT field_division, field_division, 0 FROM local_areas"
			" WHERE field_division IS NOT NULL AND field_division <> ''") != 0)
		return -1;
	if (trust_migrate(db, clk, demo) != 0) {
		log_warnx("cannot move administrative roles to hub-only accounts");
		return -1;
	}
	if (db_int(db, "SELECT count(*) FROM staff WHERE username='" ACCT_OPERATIONS "'", -1) != 0)
		return 0;
	if (uuid7(id) != 0 || db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	hlc_now(clk, ts);
	/* Hub-only: its credentials name no Local Area any node holds, and its
	 * group gives no edit rights (it administers; it never holds every
	 * privilege). */
	if (db_run(db,
		   "INSERT INTO staff(id, username, display_name, privilege_group, roles,"
		   " crm_work_group, active, updated_hlc) VALUES(?, '" ACCT_OPERATIONS
		   "', 'CalJOBS Operations Unit', 'View Access with Reports', 'operations', 0, 1, ?)",
		   "tt", id, ts) == 0 &&
	    db_run(db, "INSERT INTO staff_records(id, created_at, created_by)"
		       " VALUES(?, ?, 'first start')", "tI", id, (int64_t)hub_now_ms()) == 0 &&
	    set_temp(db, clk, id, ACCT_HUB_LA, iters, pw) == 0 &&
	    acct_audit(db, NULL, "hub", "staff.create", "staff", id, NULL, NULL, NULL,
		       "{\"username\":\"" ACCT_OPERATIONS "\",\"roles\":[\"operations\"]}") == 0)
		ret = 0;
	if (db_end(db, ret) != 0) {
		crypto_wipe(pw, sizeof pw);
		return -1;
	}
	if (isatty(STDERR_FILENO) || pw_file == NULL) {
		log_info("new hub: created the '" ACCT_OPERATIONS "' account; its one-time "
			 "password follows (this once only)");
		/* Deliberately not through log_*: shown once, never logged. */
		fprintf(stderr,
			"\n  one-time password of '" ACCT_OPERATIONS "': %s\n"
			"  (valid 24 hours; sign in to the console and choose a new one)\n\n",
			pw);
		fflush(stderr);
	} else if (write_secret_file(pw_file, pw) == 0) {
		log_info("new hub: created the '" ACCT_OPERATIONS "' account; its one-time "
			 "password (valid 24 hours) is in '%s' (mode 0600): sign in to the "
			 "console, choose a new one, then delete the file",
			 pw_file);
	} else {
		log_warnx("cannot write '%s': run 'outpost-hub reset-operations' for a "
			  "one-time password of '" ACCT_OPERATIONS "'",
			  pw_file);
	}
	crypto_wipe(pw, sizeof pw);
	return 0;
}

int acct_reset_operations(sqlite3 *db, hlc *clk, uint32_t iters, char pw[13])
{
	char id[64];
	int ret = -1;

	if (db_text(db, "SELECT id FROM staff WHERE username=?", ACCT_OPERATIONS, id,
		    sizeof id) != 0)
		return -1;
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	/* The way back in: whatever state the account was left in (deactivated,
	 * suspended, or due to be), it signs in with the new password. */
	if (db_exec(db, "UPDATE staff SET active=1, deactivated_at=NULL, deactivate_on=NULL,"
			" suspended=0, suspend_reason=NULL, suspend_on=NULL"
			" WHERE username='" ACCT_OPERATIONS "'") == 0 &&
	    set_temp(db, clk, id, ACCT_HUB_LA, iters, pw) == 0 &&
	    acct_audit(db, NULL, "cli", "staff.reset", "staff", id, NULL, NULL, NULL, NULL) == 0)
		ret = 0;
	if (db_end(db, ret) != 0)
		return -1;
	acct_sessions_end(db, id);
	return 0;
}
