/*
 * schema_accounts.c - staff, replicated from the hub (where accounts are
 * created, reset and deactivated) down to the offices.
 *
 *   staff              statewide directory: who exists, their Local Area and
 *                      office, group, whether they are in the CRM work group
 *                      and active.  Every office needs it (work items are
 *                      assigned statewide).
 *   staff_credentials  the password hash and its state, only for the staff of
 *                      the node's own Local Area (offline login).
 * Both are hub-owned: a node changes a password only through the hub's API,
 * or, offline, by a queued request the hub applies (see the accounts module).
 */
#include "model/schema.h"

static const db_migration accounts_migrations[] = {
	{"CREATE TABLE staff("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " username TEXT NOT NULL,"
	 " display_name TEXT NOT NULL,"
	 " email TEXT,"
	 " local_area_id TEXT,"
	 " field_division TEXT,"
	 " office_id TEXT,"
	 " privilege_group TEXT NOT NULL,"
	 " priv_add TEXT,"
	 " priv_remove TEXT,"
	 " roles TEXT,"                   /* comma list: mis_admin, spoc, operations */
	 " crm_work_group INTEGER NOT NULL DEFAULT 0,"
	 " active INTEGER NOT NULL DEFAULT 1,"
	 " deactivated_at INTEGER,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE UNIQUE INDEX staff_username ON staff(username);"
	 "CREATE TABLE staff_credentials("
	 " id TEXT PRIMARY KEY NOT NULL,"   /* = staff.id */
	 " local_area_id TEXT NOT NULL,"
	 " password_hash TEXT,"
	 " password_temp INTEGER NOT NULL DEFAULT 1,"
	 " password_expires_at INTEGER,"
	 " password_changed_at INTEGER,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"},
	/*
	 * credential_changes: a password a staff member set at an office node
	 * (first-login change or an ordinary change, online or offline).  The
	 * node inserts it into its outbox; the hub applies it to
	 * staff_credentials only when prev_hash_sha256 still names the hash the
	 * hub holds (a reset at the hub in between wins) and records the outcome.
	 *
	 * audit_events: who did what, where and when: logins (offline ones
	 * too), reads of participant PII, SSN reveals, administrative actions
	 * taken at a node.  Nodes insert; the hub keeps them all.
	 */
	{"CREATE TABLE credential_changes("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " staff_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " node_id TEXT,"
	 " password_hash TEXT NOT NULL,"   /* model/password.h format */
	 " prev_hash_sha256 TEXT,"         /* hex SHA-256 of the hash it replaces */
	 " reason TEXT NOT NULL,"          /* first_login | change */
	 " changed_at INTEGER NOT NULL);"
	 "CREATE INDEX credential_changes_staff ON credential_changes(staff_id, changed_at);"
	 "CREATE TABLE audit_events("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " at INTEGER NOT NULL,"           /* ms since the epoch, node's trusted clock */
	 " office_id TEXT NOT NULL,"
	 " local_area_id TEXT,"
	 " node_id TEXT,"
	 " staff_id TEXT,"
	 " action TEXT NOT NULL,"          /* e.g. login, login_offline, participant_read */
	 " subject_table TEXT,"
	 " subject_id TEXT,"
	 " detail TEXT);"                 /* JSON; never a secret, SSN or note text */
	 "CREATE INDEX audit_events_at ON audit_events(at);"
	 "CREATE INDEX audit_events_subject ON audit_events(subject_table, subject_id);"},
	/*
	 * The trust boundary: a password change from a node proves the current
	 * password to the hub (model/password.h, password_change_proof) and
	 * carries the new password's verifier wrapped under the current one.
	 * The hub refuses a change without a valid proof.
	 */
	{"ALTER TABLE credential_changes ADD COLUMN proof TEXT;"
	 "ALTER TABLE credential_changes ADD COLUMN next_verifier TEXT;"},
	/*
	 * Account states (WSD24-13, SLO policy 34-19): a suspension (extended
	 * leave) keeps the user name and is lifted by reactivation; a
	 * deactivation scheduled for the separation date (deactivate_on) and a
	 * suspension for overdue recertification (suspend_on, the due date plus
	 * the grace period) are dates that travel ahead of the day, so every
	 * node refuses the account from that day on its own (offline too), and
	 * the hub's sweep records the state on the day.
	 */
	{"ALTER TABLE staff ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE staff ADD COLUMN suspend_reason TEXT;"
	 "ALTER TABLE staff ADD COLUMN deactivate_on TEXT;"
	 "ALTER TABLE staff ADD COLUMN suspend_on TEXT;"},
};

static const table_def accounts_tables[] = {
	{"staff", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"staff_credentials", TK_HUB_OWNED, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"credential_changes", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"audit_events", TK_APPEND_ONLY, SCOPE_OFFICE, "office_id", NULL, NULL, NULL, 0},
};

const schema_module schema_accounts = SCHEMA_MODULE("accounts", accounts_migrations, accounts_tables);
