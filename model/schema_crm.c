/*
 * schema_crm.c - the CRM's replicated tables.  CRM data is statewide by rule
 * (every CRM user sees every active lead and every work item), so every
 * table here is SCOPE_STATEWIDE but job_referrals, which names a
 * participant and so stays in the participant's Local Area.
 *
 *   employers            mutable  marketing leads and recruiting employers
 *                                 (one account_type column: never both)
 *   employer_contacts    mutable  primary / secondary contacts
 *   employer_locations   mutable  further sites of an employer
 *   employer_services    append   the service plan (E-codes); a correction is
 *                                 a new row naming the row it corrects
 *   employer_notes       append   case notes on an employer
 *   employer_attachments append   files on an employer (the lead summary's
 *                                 Attachments): name, type, size, SHA-256
 *                                 and the bytes, at most CRM_ATTACH_MAX
 *   employer_attachment_withdrawals
 *                        append   an attachment taken off the summary: a
 *                                 new row naming it (who, when, why); the
 *                                 attachment row and its bytes stay
 *   work_items           mutable  tasks; status Closed is final (an older
 *                                 edit never reopens a closed item)
 *   work_item_notes      append
 *   employer_activity_codes, work_item_categories, work_item_priorities,
 *   external_employers, business_directory         hub-owned lists
 *   job_orders           mutable  a recruiting employer's openings (title,
 *                                 openings, location, wage, open/close dates)
 *   job_referrals        append   a participant referred to a job order; scoped
 *                                 to the participant's Local Area
 *   crm_duplicate_flags  hub-owned possible duplicates found at the hub
 *                                 (same normalized name + ZIP, or user
 *                                 name), for review, never merged
 *
 * Free-text search goes through FTS5 word indexes (migration 3), local
 * to each database and kept by triggers; they are not replicated tables.
 *
 * Deletes are replaced by status columns (status inactive, deleted = 1), so
 * an edit in one office never races a delete in another.  normalized_name
 * and zip5 are derived (model/crm.c) and indexed for the duplicate check.
 */
#include "model/schema.h"

static const db_migration crm_migrations[] = {
	{"CREATE TABLE employers("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " account_type TEXT NOT NULL DEFAULT 'lead',"  /* lead | recruiting */
	 " created_as TEXT NOT NULL DEFAULT 'lead',"
	 " company_name TEXT NOT NULL,"
	 " normalized_name TEXT NOT NULL,"
	 " username TEXT NOT NULL,"
	 " edd_account_number TEXT,"
	 " zip TEXT NOT NULL,"
	 " zip5 TEXT NOT NULL,"
	 " street TEXT,"
	 " city TEXT,"
	 " state TEXT,"
	 " mailing_street TEXT,"
	 " mailing_city TEXT,"
	 " mailing_state TEXT,"
	 " mailing_zip TEXT,"
	 " phone TEXT,"
	 " email TEXT,"
	 " website TEXT,"
	 " industry TEXT,"                 /* NAICS code */
	 " pe_organization TEXT,"          /* professional employer organization */
	 " lead_owner_id TEXT,"
	 " office_id TEXT,"                /* creating staff's office */
	 " local_area_id TEXT,"
	 " created_by TEXT,"
	 " created_at INTEGER NOT NULL,"
	 " source TEXT NOT NULL DEFAULT 'manual',"  /* manual | external | local_search */
	 " external_employer_id TEXT,"
	 " directory_id TEXT,"
	 " vetting_status TEXT,"           /* pending | approved | locked */
	 " vetting_started_at INTEGER,"
	 " vetting_due_at INTEGER,"
	 " converted_at INTEGER,"
	 " converted_by TEXT,"
	 " status TEXT NOT NULL DEFAULT 'active',"
	 " duplicate_of TEXT,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX employers_dup ON employers(normalized_name, zip5);"
	 "CREATE INDEX employers_name ON employers(company_name COLLATE NOCASE);"
	 "CREATE INDEX employers_owner ON employers(lead_owner_id, company_name COLLATE NOCASE);"
	 "CREATE INDEX employers_type ON employers(account_type, company_name COLLATE NOCASE);"
	 "CREATE INDEX employers_zip ON employers(zip5);"
	 "CREATE INDEX employers_username ON employers(username);"
	 "CREATE INDEX employers_external ON employers(external_employer_id);"
	 "CREATE TABLE employer_contacts("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " employer_id TEXT NOT NULL,"
	 " kind TEXT NOT NULL DEFAULT 'primary',"       /* primary | secondary */
	 " name TEXT NOT NULL,"
	 " title TEXT,"
	 " phone TEXT,"
	 " email TEXT,"
	 " status TEXT NOT NULL DEFAULT 'active',"
	 " created_by TEXT,"
	 " created_at INTEGER NOT NULL,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX employer_contacts_employer ON employer_contacts(employer_id);"
	 "CREATE INDEX employer_contacts_name ON employer_contacts(name COLLATE NOCASE);"
	 "CREATE TABLE employer_locations("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " employer_id TEXT NOT NULL,"
	 " name TEXT,"
	 " street TEXT,"
	 " city TEXT,"
	 " state TEXT,"
	 " zip TEXT NOT NULL,"
	 " phone TEXT,"
	 " status TEXT NOT NULL DEFAULT 'active',"
	 " created_at INTEGER NOT NULL,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX employer_locations_employer ON employer_locations(employer_id);"
	 "CREATE TABLE employer_services("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " employer_id TEXT NOT NULL,"
	 " code TEXT NOT NULL,"
	 " start_date TEXT NOT NULL,"
	 " projected_end_date TEXT,"
	 " end_date TEXT,"                 /* actual end date */
	 " completion_code TEXT,"
	 " staff_id TEXT,"
	 " office_id TEXT,"
	 " notes TEXT,"
	 " corrects_id TEXT,"              /* the row this one replaces */
	 " voided INTEGER NOT NULL DEFAULT 0," /* a correction that removes it */
	 " created_at INTEGER NOT NULL);"
	 "CREATE INDEX employer_services_employer ON employer_services(employer_id, start_date);"
	 "CREATE INDEX employer_services_date ON employer_services(start_date);"
	 "CREATE INDEX employer_services_corrects ON employer_services(corrects_id);"
	 "CREATE TABLE work_items("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " employer_id TEXT,"
	 " category_id TEXT NOT NULL,"
	 " priority_id TEXT NOT NULL,"
	 " status TEXT NOT NULL DEFAULT 'New',"
	 " due_date TEXT,"
	 " description TEXT NOT NULL,"
	 " assignee_id TEXT,"
	 " created_by TEXT,"
	 " office_id TEXT,"
	 " created_at INTEGER NOT NULL,"
	 " closed_at INTEGER,"
	 " closed_by TEXT,"
	 " deleted INTEGER NOT NULL DEFAULT 0,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX work_items_assignee ON work_items(assignee_id, status, due_date);"
	 "CREATE INDEX work_items_open ON work_items(status, due_date);"
	 "CREATE INDEX work_items_employer ON work_items(employer_id);"
	 "CREATE INDEX work_items_created ON work_items(created_at);"
	 "CREATE TABLE work_item_notes("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " work_item_id TEXT NOT NULL,"
	 " staff_id TEXT,"
	 " body TEXT NOT NULL,"
	 " created_at INTEGER NOT NULL);"
	 "CREATE INDEX work_item_notes_item ON work_item_notes(work_item_id);"
	 "CREATE TABLE employer_activity_codes("
	 " id TEXT PRIMARY KEY NOT NULL,"  /* = code */
	 " code TEXT NOT NULL,"
	 " title TEXT NOT NULL,"
	 " dol_category TEXT,"
	 " dol_category_name TEXT,"
	 " system_generated INTEGER NOT NULL DEFAULT 0,"
	 " status TEXT NOT NULL DEFAULT 'active',"     /* active | retired */
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX employer_activity_codes_code ON employer_activity_codes(code);"
	 "CREATE TABLE work_item_categories("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " name TEXT NOT NULL,"
	 " sort INTEGER NOT NULL DEFAULT 0,"
	 " active INTEGER NOT NULL DEFAULT 1,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE TABLE work_item_priorities("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " name TEXT NOT NULL,"
	 " rank INTEGER NOT NULL DEFAULT 0,"           /* 1 = most urgent */
	 " is_default INTEGER NOT NULL DEFAULT 0,"
	 " active INTEGER NOT NULL DEFAULT 1,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE TABLE external_employers("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " company_name TEXT NOT NULL,"
	 " industry_code TEXT,"
	 " industry_title TEXT,"
	 " street TEXT,"
	 " city TEXT,"
	 " state TEXT,"
	 " zip TEXT,"
	 " phone TEXT,"
	 " website TEXT,"
	 " active_job_orders INTEGER NOT NULL DEFAULT 0,"
	 " last_posted TEXT,"
	 " active INTEGER NOT NULL DEFAULT 1,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX external_employers_name ON external_employers(company_name COLLATE NOCASE);"
	 "CREATE INDEX external_employers_jobs ON external_employers(active_job_orders);"
	 "CREATE TABLE business_directory("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " name TEXT NOT NULL,"
	 " street TEXT,"
	 " city TEXT,"
	 " county TEXT,"
	 " state TEXT,"
	 " zip TEXT,"
	 " phone TEXT,"
	 " website TEXT,"
	 " industry_code TEXT,"
	 " industry_title TEXT,"
	 " keywords TEXT,"
	 " employees TEXT,"                /* size band, e.g. "50-99" */
	 " has_openings INTEGER NOT NULL DEFAULT 0,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX business_directory_name ON business_directory(name COLLATE NOCASE);"
	 "CREATE INDEX business_directory_zip ON business_directory(zip);"
	 "CREATE TABLE crm_duplicate_flags("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " employer_id TEXT NOT NULL,"     /* the later arrival */
	 " other_employer_id TEXT NOT NULL,"
	 " reason TEXT NOT NULL,"          /* name_zip | username */
	 " normalized_name TEXT,"
	 " zip5 TEXT,"
	 " detected_at INTEGER NOT NULL,"
	 " status TEXT NOT NULL DEFAULT 'open',"       /* open | dismissed | resolved */
	 " resolved_by TEXT,"
	 " resolved_at INTEGER,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX crm_duplicate_flags_employer ON crm_duplicate_flags(employer_id);"
	 "CREATE INDEX crm_duplicate_flags_other ON crm_duplicate_flags(other_employer_id);"},
	/* 2: indexes for the queues and the directory link (bench_crm). */
	{"CREATE INDEX employers_directory ON employers(directory_id);"
	 "CREATE INDEX employers_edd ON employers(edd_account_number);"
	 "CREATE INDEX employers_owner_type ON employers(lead_owner_id, account_type,"
	 " company_name COLLATE NOCASE);"
	 "CREATE INDEX work_items_open_due ON work_items(coalesce(due_date, '9999-12-31'), created_at)"
	 " WHERE status <> 'Closed' AND deleted = 0;"
	 "CREATE INDEX work_items_mine_due ON work_items(assignee_id, coalesce(due_date, '9999-12-31'),"
	 " created_at) WHERE status <> 'Closed' AND deleted = 0;"},
	/*
	 * 3: free-text search indexes (FTS5 word indexes, case and accents
	 * folded, with prefix indexes: every word typed matches the start of
	 * a word).  Local to each database, never replicated: triggers keep
	 * them in step with every write, local or applied by sync, in any
	 * order (a contact may arrive before its employer).  The FTS rowid is
	 * the base row's rowid; writes use INSERT OR REPLACE, so an entry left
	 * behind by a REPLACE that skipped the delete trigger (changeset apply)
	 * is overwritten when its rowid is used again, and until then names no
	 * row.
	 *   crm_employers_fts   normalized company name
	 *   crm_contacts_fts    contact name | the employer's normalized name
	 *   crm_work_items_fts  short reference (last 6 of the id), description
	 *                       | the linked employer's normalized name
	 */
	{"CREATE VIRTUAL TABLE crm_employers_fts USING fts5(name, tokenize='unicode61 remove_diacritics 2', prefix='2 3');"
	 "CREATE VIRTUAL TABLE crm_contacts_fts USING fts5(name, tokenize='unicode61 remove_diacritics 2', prefix='2 3');"
	 "CREATE VIRTUAL TABLE crm_work_items_fts USING fts5(body, tokenize='unicode61 remove_diacritics 2', prefix='2 3');"
#define CRM_FTS_EMPLOYER_REFRESH                                                                 \
	" INSERT OR REPLACE INTO crm_employers_fts(rowid, name) VALUES(new.rowid, new.normalized_name);" \
	" INSERT OR REPLACE INTO crm_contacts_fts(rowid, name) SELECT c.rowid,"                     \
	"  c.name || ' | ' || new.normalized_name FROM employer_contacts c WHERE c.employer_id = new.id;" \
	" INSERT OR REPLACE INTO crm_work_items_fts(rowid, body) SELECT w.rowid,"                   \
	"  upper(substr(w.id, -6)) || ' ' || w.description || ' | ' || new.normalized_name"          \
	"  FROM work_items w WHERE w.employer_id = new.id;"
#define CRM_FTS_CONTACT                                                                          \
	" INSERT OR REPLACE INTO crm_contacts_fts(rowid, name) VALUES(new.rowid, new.name || ' | ' ||" \
	"  coalesce((SELECT normalized_name FROM employers WHERE id = new.employer_id), ''));"
#define CRM_FTS_WORK_ITEM                                                                        \
	" INSERT OR REPLACE INTO crm_work_items_fts(rowid, body) VALUES(new.rowid,"                 \
	"  upper(substr(new.id, -6)) || ' ' || new.description || ' | ' ||"                         \
	"  coalesce((SELECT normalized_name FROM employers WHERE id = new.employer_id), ''));"
	 "CREATE TRIGGER crm_employers_fts_ai AFTER INSERT ON employers BEGIN"
	 CRM_FTS_EMPLOYER_REFRESH " END;"
	 "CREATE TRIGGER crm_employers_fts_au AFTER UPDATE OF normalized_name ON employers BEGIN"
	 CRM_FTS_EMPLOYER_REFRESH " END;"
	 "CREATE TRIGGER crm_employers_fts_ad AFTER DELETE ON employers BEGIN"
	 " DELETE FROM crm_employers_fts WHERE rowid = old.rowid;"
	 " END;"
	 "CREATE TRIGGER crm_contacts_fts_ai AFTER INSERT ON employer_contacts BEGIN"
	 CRM_FTS_CONTACT " END;"
	 "CREATE TRIGGER crm_contacts_fts_au AFTER UPDATE OF name, employer_id ON employer_contacts BEGIN"
	 CRM_FTS_CONTACT " END;"
	 "CREATE TRIGGER crm_contacts_fts_ad AFTER DELETE ON employer_contacts BEGIN"
	 " DELETE FROM crm_contacts_fts WHERE rowid = old.rowid;"
	 " END;"
	 "CREATE TRIGGER crm_work_items_fts_ai AFTER INSERT ON work_items BEGIN"
	 CRM_FTS_WORK_ITEM " END;"
	 "CREATE TRIGGER crm_work_items_fts_au AFTER UPDATE OF description, employer_id ON work_items BEGIN"
	 CRM_FTS_WORK_ITEM " END;"
	 "CREATE TRIGGER crm_work_items_fts_ad AFTER DELETE ON work_items BEGIN"
	 " DELETE FROM crm_work_items_fts WHERE rowid = old.rowid;"
	 " END;"
	 "INSERT INTO crm_employers_fts(rowid, name) SELECT rowid, normalized_name FROM employers;"
	 "INSERT INTO crm_contacts_fts(rowid, name) SELECT c.rowid, c.name || ' | ' ||"
	 " coalesce((SELECT normalized_name FROM employers e WHERE e.id = c.employer_id), '')"
	 " FROM employer_contacts c;"
	 "INSERT INTO crm_work_items_fts(rowid, body) SELECT w.rowid, upper(substr(w.id, -6)) || ' ' ||"
	 " w.description || ' | ' ||"
	 " coalesce((SELECT normalized_name FROM employers e WHERE e.id = w.employer_id), '')"
	 " FROM work_items w;"},
	/* 4: case notes on an employer (the lead summary's Case Notes). */
	{"CREATE TABLE employer_notes("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " employer_id TEXT NOT NULL,"
	 " staff_id TEXT,"
	 " office_id TEXT,"
	 " subject TEXT,"
	 " body TEXT NOT NULL,"
	 " created_at INTEGER NOT NULL);"
	 "CREATE INDEX employer_notes_employer ON employer_notes(employer_id, created_at);"},
	/*
	 * 5: attachments on an employer.  Append-only: a row is never updated
	 * or deleted by a node, so its bytes travel once; withdrawing one is a
	 * row of its own (two offices withdrawing the same file offline both
	 * keep their row: nothing to merge).  The bytes are the last column,
	 * so reading the list never reads them (SQLite leaves the overflow
	 * pages of a later column alone).  sha256 is the lower-case hex
	 * SHA-256 of data, size its length, content_type the type the bytes
	 * are (lib/upload.h), all checked again at the hub.
	 */
	{"CREATE TABLE employer_attachments("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " employer_id TEXT NOT NULL,"
	 " filename TEXT NOT NULL,"
	 " content_type TEXT NOT NULL,"
	 " size INTEGER NOT NULL,"
	 " sha256 TEXT NOT NULL,"
	 " uploaded_by TEXT,"
	 " office_id TEXT,"
	 " uploaded_at INTEGER NOT NULL,"
	 " data BLOB NOT NULL);"
	 "CREATE INDEX employer_attachments_employer ON employer_attachments(employer_id, uploaded_at);"
	 "CREATE TABLE employer_attachment_withdrawals("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " attachment_id TEXT NOT NULL,"
	 " employer_id TEXT NOT NULL,"
	 " reason TEXT,"
	 " withdrawn_by TEXT,"
	 " office_id TEXT,"
	 " withdrawn_at INTEGER NOT NULL);"
	 "CREATE INDEX employer_attachment_withdrawals_att ON"
	 " employer_attachment_withdrawals(attachment_id);"},
	/*
	 * 6: vetting by WSB staff (who, when, and the reason a failed
	 * vetting locked the employer), job orders of recruiting employers,
	 * and referrals of participants to them.  A referral names a
	 * participant, so it is participant data: SCOPE_LOCAL_AREA on the
	 * participant's Local Area (the employer's summary in another Local
	 * Area never sees who was referred).  Job orders are closed by their
	 * close_date, never deleted.
	 */
	{"ALTER TABLE employers ADD COLUMN vetting_reason TEXT;"
	 "ALTER TABLE employers ADD COLUMN vetted_by TEXT;"
	 "ALTER TABLE employers ADD COLUMN vetted_at INTEGER;"
	 "CREATE INDEX employers_vetting ON employers(vetting_status, vetting_due_at);"
	 "CREATE TABLE job_orders("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " employer_id TEXT NOT NULL,"
	 " title TEXT NOT NULL,"
	 " openings INTEGER NOT NULL,"
	 " location TEXT NOT NULL,"
	 " wage REAL NOT NULL,"
	 " wage_unit TEXT NOT NULL DEFAULT 'hour',"     /* hour | week | month | year */
	 " open_date TEXT NOT NULL,"
	 " close_date TEXT,"
	 " description TEXT,"
	 " created_by TEXT,"
	 " office_id TEXT,"
	 " created_at INTEGER NOT NULL,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX job_orders_employer ON job_orders(employer_id, open_date);"
	 "CREATE INDEX job_orders_open ON job_orders(close_date, open_date);"
	 "CREATE TABLE job_referrals("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " job_order_id TEXT NOT NULL,"
	 " employer_id TEXT NOT NULL,"
	 " participant_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT,"
	 " staff_id TEXT,"
	 " referral_date TEXT NOT NULL,"
	 " notes TEXT,"
	 " created_at INTEGER NOT NULL);"
	 "CREATE INDEX job_referrals_participant ON job_referrals(participant_id, referral_date);"
	 "CREATE INDEX job_referrals_job ON job_referrals(job_order_id);"
	 "CREATE INDEX job_referrals_employer ON job_referrals(employer_id, referral_date);"},
	/* 7: a work item's soft delete keeps the row as the deleting office
	 * saw it (schema_soft_seen_expr()), for the hub to tell an edit it
	 * had not seen (sync/apply.c). */
	{"ALTER TABLE work_items ADD COLUMN deleted_seen TEXT;"},
#undef CRM_FTS_EMPLOYER_REFRESH
#undef CRM_FTS_CONTACT
#undef CRM_FTS_WORK_ITEM
};

static const table_def crm_tables[] = {
	{"employer_activity_codes", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"work_item_categories", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"work_item_priorities", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"external_employers", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"business_directory", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"employers", TK_MUTABLE, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"employer_contacts", TK_MUTABLE, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"employer_locations", TK_MUTABLE, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"employer_services", TK_APPEND_ONLY, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"employer_notes", TK_APPEND_ONLY, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"employer_attachments", TK_APPEND_ONLY, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"employer_attachment_withdrawals", TK_APPEND_ONLY, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"work_items", TK_MUTABLE, SCOPE_STATEWIDE, NULL, "status", "Closed", "deleted", TD_FINAL_RECORD},
	{"work_item_notes", TK_APPEND_ONLY, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"crm_duplicate_flags", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"job_orders", TK_MUTABLE, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"job_referrals", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
};

const schema_module schema_crm = SCHEMA_MODULE("crm", crm_migrations, crm_tables);
