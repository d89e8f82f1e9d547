/*
 * schema_case.c - case work's replicated tables: participants, their
 * activities and case notes (SLO policy 34-19, SPEC "Participants,
 * activities and case notes").  Participant data is the most sensitive data
 * Outpost holds, so every participant table is SCOPE_LOCAL_AREA on
 * local_area_id: a node outside the Local Area never receives a row, and the
 * hub quarantines a row written by a node of another Local Area.
 *
 *   participants            mutable  minimal registration; exit_state
 *                                    'exited' is final (td_final_col), and the
 *                                    hub refuses an 'active' row once an exit
 *                                    is recorded (participant_exits)
 *   participant_activities  append   activity codes with dates and completion;
 *                                    an amendment is a new row naming the row
 *                                    it corrects (corrects_id), or voiding it
 *   case_notes              append   stand-alone and activity notes, immutable
 *                                    once saved; an amendment is a new row with
 *                                    amends_id = the original, both shown
 *   backdate_approvals      append   the approval (DSS Program Manager, WDB
 *                                    Director and EDD) an entry 31-90 days in
 *                                    the past needs
 *   case_approver_roles     hub-owned  approver roles held by staff accounts
 *   case_approval_requests  append   a request for one entry and one date
 *   case_approval_decisions append   one approver's approval or refusal
 *   case_forms              append   closure and follow-up forms, follow-up declined
 *   participant_exits       append   the soft exit, recorded once detected:
 *                                    irreversible
 *   participant_activity_codes, followup_codes   hub-owned code lists, seeded
 *                                    at the hub from the seed CSV files, statewide
 *   case_keys               hub-owned, one per Local Area: the key that
 *                                    protects SSNs (below)
 *   participant_duplicate_flags  mutable  two active participants of a Local
 *                                    Area with the same real SSN (registered in
 *                                    two offices while offline: each node's own
 *                                    duplicate check saw only its own rows),
 *                                    flagged at the hub for review, never
 *                                    merged; an office only records the review
 *                                    (status, resolved_by, resolved_at)
 *
 * SSN protection.  The policy keeps the SSN "for data validation only", and
 * the issue asks for a masked display and an audited reveal, so the full
 * value must be recoverable: a keyed hash alone could not be revealed.  The
 * SSN is therefore stored as AES-256-GCM ciphertext (ssn_enc: hex of a
 * 12-byte random nonce, ciphertext, 16-byte tag, with the participant id as
 * associated data so a ciphertext cannot be moved to another person), plus
 * ssn_hmac (HMAC-SHA256 of the nine digits under the same Local Area key,
 * for an exact-match search and the duplicate check without decrypting) and
 * ssn_last4 for the masked display.  The key is per Local Area, generated at
 * the hub and replicated only to that Local Area's nodes (case_keys is
 * SCOPE_LOCAL_AREA), so the ciphertext that travels in changesets, pull
 * pages, conflict records, quarantine and exports is useless elsewhere, and
 * nothing readable is ever in a log or a digest.  (A stand-alone demo node
 * makes its own key; SSNs it stored stay unreadable after it enrolls, as the
 * hub's key replaces it.)  The key has epochs (casework.h): the hub
 * replaces it when a node of the Local Area is revoked, and ssn_enc says
 * under which epoch it was written ("eN:" in front from epoch 2).  A copy of
 * node.db with its key is not protected by this (full-disk encryption of office PCs is the
 * answer to that); an SQL console, CSV export or a stray log line are.
 */
#include "model/schema.h"

static const db_migration case_migrations[] = {
	{"CREATE TABLE participants("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " first_name TEXT NOT NULL,"
	 " last_name TEXT NOT NULL,"
	 " birth_date TEXT NOT NULL,"        /* YYYY-MM-DD */
	 " phone TEXT,"
	 " email TEXT,"
	 " address TEXT,"
	 " assigned_staff_id TEXT,"
	 " ssn_kind TEXT NOT NULL DEFAULT 'none'," /* none | real | pseudo */
	 " ssn_enc TEXT,"
	 " ssn_hmac TEXT,"
	 " ssn_last4 TEXT,"
	 " registered_date TEXT NOT NULL,"   /* trusted date of registration */
	 " registered_at INTEGER NOT NULL,"
	 " registered_by TEXT,"
	 " exit_state TEXT NOT NULL DEFAULT 'active'," /* active | exited */
	 " exit_date TEXT,"
	 " closure_form_date TEXT,"         /* closure form completed */
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX participants_name ON participants(last_name COLLATE NOCASE,"
	 " first_name COLLATE NOCASE);"
	 "CREATE INDEX participants_staff ON participants(assigned_staff_id);"
	 "CREATE INDEX participants_office ON participants(office_id);"
	 "CREATE INDEX participants_ssn ON participants(ssn_hmac);"
	 "CREATE TABLE participant_activities("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " participant_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " code TEXT NOT NULL,"
	 " code_list TEXT NOT NULL DEFAULT 'activity'," /* activity | followup */
	 " start_date TEXT NOT NULL,"
	 " end_date TEXT,"
	 " completion TEXT,"                /* successful | unsuccessful */
	 " staff_id TEXT,"
	 " entered_date TEXT NOT NULL,"     /* trusted date it was entered */
	 " entered_at INTEGER NOT NULL,"    /* trusted ms */
	 " backdate_days INTEGER NOT NULL DEFAULT 0,"
	 " approval_id TEXT,"               /* backdate_approvals.id when 31-90 */
	 " clock_skew_ms INTEGER NOT NULL DEFAULT 0," /* node clock vs hub at entry */
	 " corrects_id TEXT,"
	 " voided INTEGER NOT NULL DEFAULT 0);"
	 "CREATE INDEX participant_activities_p ON participant_activities(participant_id, start_date);"
	 "CREATE INDEX participant_activities_corrects ON participant_activities(corrects_id);"
	 "CREATE TABLE case_notes("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " participant_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " kind TEXT NOT NULL,"             /* standalone | activity */
	 " activity_id TEXT,"
	 " subject TEXT NOT NULL,"
	 " contact_date TEXT NOT NULL,"
	 " body TEXT NOT NULL,"
	 " staff_id TEXT,"
	 " amends_id TEXT,"                 /* the note this one amends */
	 " entered_date TEXT NOT NULL,"
	 " entered_at INTEGER NOT NULL,"
	 " clock_skew_ms INTEGER NOT NULL DEFAULT 0);"
	 "CREATE INDEX case_notes_p ON case_notes(participant_id, contact_date);"
	 "CREATE INDEX case_notes_activity ON case_notes(activity_id);"
	 "CREATE INDEX case_notes_amends ON case_notes(amends_id);"
	 "CREATE TABLE backdate_approvals("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " participant_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " service_date TEXT NOT NULL,"
	 " program_manager TEXT NOT NULL,"  /* DSS Program Manager */
	 " wdb_director TEXT NOT NULL,"
	 " edd_approver TEXT NOT NULL,"
	 " approved_date TEXT NOT NULL,"
	 " reference TEXT,"
	 " recorded_by TEXT,"
	 " recorded_at INTEGER NOT NULL);"
	 "CREATE INDEX backdate_approvals_p ON backdate_approvals(participant_id);"
	 "CREATE TABLE participant_exits("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " participant_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " exit_date TEXT NOT NULL,"
	 " kind TEXT NOT NULL DEFAULT 'soft_exit',"
	 " last_service_date TEXT,"
	 " recorded_at INTEGER NOT NULL,"
	 " recorded_by TEXT);"
	 "CREATE INDEX participant_exits_p ON participant_exits(participant_id);"
	 "CREATE TABLE participant_activity_codes("
	 " id TEXT PRIMARY KEY NOT NULL,"   /* = code */
	 " code TEXT NOT NULL,"
	 " title TEXT NOT NULL,"
	 " reporting_category TEXT,"
	 " restarts_exit_clock INTEGER NOT NULL DEFAULT 0,"
	 " status TEXT NOT NULL DEFAULT 'active',"   /* active | retired */
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE TABLE followup_codes("
	 " id TEXT PRIMARY KEY NOT NULL,"   /* = code */
	 " code TEXT NOT NULL,"
	 " title TEXT NOT NULL,"
	 " restarts_exit_clock INTEGER NOT NULL DEFAULT 0,"
	 " status TEXT NOT NULL DEFAULT 'active',"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE TABLE case_keys("
	 " id TEXT PRIMARY KEY NOT NULL,"   /* = local_area_id */
	 " local_area_id TEXT NOT NULL,"
	 " key_hex TEXT NOT NULL,"          /* 32 bytes */
	 " created_at INTEGER NOT NULL,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"},
	/*
	 * Approvals as records of real accounts (issue 15).  An approver role
	 * (DSS Program Manager, WDB Director, EDD, DSS WIOA staff) is held by a
	 * staff account, granted at the hub.  A request names one entry and one
	 * date: a backdated entry (31-90 days, kind 'backdate': the first three
	 * roles) or a change to entered data (kind 'change', a Help Request
	 * raised by a supervisor: DSS WIOA staff).  Each approver decides in
	 * their own session, at any office or the hub; a decision names its
	 * request, so an approval is used once.  The entry waits as pending and
	 * counts only once every role has approved (model/case_approvals.h).
	 */
	{"CREATE TABLE case_approver_roles("
	 " id TEXT PRIMARY KEY NOT NULL,"   /* = staff_id ':' role */
	 " staff_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " role TEXT NOT NULL,"
	 " active INTEGER NOT NULL DEFAULT 1,"
	 " granted_by TEXT,"
	 " granted_at INTEGER NOT NULL,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX case_approver_roles_staff ON case_approver_roles(staff_id);"
	 "CREATE TABLE case_approval_requests("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " participant_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " kind TEXT NOT NULL,"             /* backdate | change */
	 " entry_table TEXT NOT NULL,"      /* participant_activities | case_notes */
	 " entry_id TEXT NOT NULL,"         /* the backdated entry, or the one changed */
	 " entry_date TEXT NOT NULL,"       /* the one date the request is for */
	 " change_id TEXT,"                 /* change: the pending new row */
	 " change_summary TEXT,"            /* change: what it does, for the approver */
	 " reason TEXT,"
	 " requested_by TEXT NOT NULL,"
	 " requested_at INTEGER NOT NULL);"
	 "CREATE INDEX case_approval_requests_p ON case_approval_requests(participant_id);"
	 "CREATE INDEX case_approval_requests_entry ON case_approval_requests(entry_id);"
	 "CREATE TABLE case_approval_decisions("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " request_id TEXT NOT NULL,"
	 " participant_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"        /* where it was decided ('hub' at the console) */
	 " role TEXT NOT NULL,"
	 " staff_id TEXT NOT NULL,"
	 " decision TEXT NOT NULL,"         /* approved | refused */
	 " comment TEXT,"
	 " decided_date TEXT NOT NULL,"
	 " decided_at INTEGER NOT NULL);"
	 "CREATE INDEX case_approval_decisions_r ON case_approval_decisions(request_id);"
	 /* The closure and follow-up forms (model/case_forms.h). */
	 "CREATE TABLE case_forms("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " participant_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " kind TEXT NOT NULL,"             /* closure | followup | followup_declined */
	 " quarter INTEGER,"                /* followup: 1..4 */
	 " form_date TEXT NOT NULL,"        /* of the closure review, contact or decline */
	 " fields TEXT NOT NULL,"           /* JSON: every field of the kind, N/A allowed */
	 " staff_id TEXT,"
	 " entered_date TEXT NOT NULL,"
	 " entered_at INTEGER NOT NULL,"
	 " clock_skew_ms INTEGER NOT NULL DEFAULT 0);"
	 "CREATE INDEX case_forms_p ON case_forms(participant_id, kind);"
	 "ALTER TABLE participant_activities ADD COLUMN change_request_id TEXT;"
	 "ALTER TABLE case_notes ADD COLUMN approval_id TEXT;"},
	/* Possible duplicates found at the hub (model/casework.c,
	 * case_flag_duplicates()): the SSN compared by its keyed hash only. */
	{"CREATE TABLE participant_duplicate_flags("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " participant_id TEXT NOT NULL,"      /* the later arrival */
	 " other_participant_id TEXT NOT NULL,"
	 " reason TEXT NOT NULL,"              /* ssn */
	 " detected_at INTEGER NOT NULL,"
	 " status TEXT NOT NULL DEFAULT 'open'," /* open | same_person | different_people */
	 " resolved_by TEXT,"
	 " resolved_at INTEGER,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX participant_duplicate_flags_p ON participant_duplicate_flags(participant_id);"
	 "CREATE INDEX participant_duplicate_flags_o ON"
	 " participant_duplicate_flags(other_participant_id);"},
};

static const table_def case_tables[] = {
	{"participant_activity_codes", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"followup_codes", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"case_keys", TK_HUB_OWNED, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	/* Dependency order (a changeset lists its tables in this order, and the
	 * hub checks each row against those applied before it): a participant,
	 * its exit, approvals, activities, then the notes on them. */
	{"participants", TK_MUTABLE, SCOPE_LOCAL_AREA, "local_area_id", "exit_state", "exited", NULL, 0},
	{"participant_exits", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"backdate_approvals", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"case_approver_roles", TK_HUB_OWNED, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"case_approval_requests", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"case_approval_decisions", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"participant_activities", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"case_notes", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"case_forms", TK_APPEND_ONLY, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"participant_duplicate_flags", TK_MUTABLE, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL,
	 NULL, 0},
};

const schema_module schema_case = SCHEMA_MODULE("casework", case_migrations, case_tables);
