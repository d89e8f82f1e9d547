/*
 * crm.h - the CRM's domain rules (marketing leads, recruiting employers,
 * contacts, employer services, work items), shared by the office node, which
 * enforces them on every API write, and the hub, which checks every
 * replicated CRM row with crm_hub_validate_row().
 *
 * Sources: SPEC.md "CRM", "Employer services", "Work items" (CRM training
 * module, WSIN15-21).  Pure functions unless they take a database handle.
 */
#ifndef OUTPOST_CRM_H
#define OUTPOST_CRM_H

#include <stddef.h>
#include "lib/db.h"
#include "lib/upload.h"

#define CRM_NAME_MAX 160        /* company name */
#define CRM_NORM_MAX (5 * CRM_NAME_MAX + 1) /* normalized name: '&' becomes " and " */
#define CRM_USERNAME_MAX 40
#define CRM_STREET_MAX 160
#define CRM_CITY_MAX 80
#define CRM_PHONE_MAX 25
#define CRM_EMAIL_MAX 254
#define CRM_URL_MAX 200
#define CRM_TITLE_MAX 120
#define CRM_NOTE_MAX 4000
#define CRM_DESC_MAX 4000
#define CRM_MAX_SERVICES 20     /* services added at once */
#define CRM_VETTING_HOURS 72
#define CRM_USERNAME_PREFIX "MKT"

/*
 * Attachments on an employer (lead summary).  CRM_ATTACH_MAX bounds one
 * file: it travels in one outbox entry (its changeset is the file plus a few
 * hundred bytes), which fits one push batch (sync.h SYNC_MAX_BATCH_BYTES,
 * 4 MiB; a frame holding a single entry may even be larger), one changeset
 * value (sync/changeset.h CHANGESET_MAX_VALUE) and one pull page
 * (SYNC_PULL_PAGE_MAX_BYTES in sync/sync.h, 16 MiB, which shrinks to one row when it
 * must) - sync/ checks these at compile time.  The upload route reads bodies
 * up to CRM_ATTACH_BODY_MAX, so a file somewhat over the cap gets a JSON 413
 * naming the field; a larger body is refused by the HTTP server itself.
 */
#define CRM_ATTACH_MAX (2 * 1024 * 1024)
#define CRM_ATTACH_BODY_MAX (2 * CRM_ATTACH_MAX)
#define CRM_ATTACH_TYPES (UPLOAD_PDF | UPLOAD_PNG | UPLOAD_JPEG | UPLOAD_DOCX | UPLOAD_XLSX | UPLOAD_TEXT)
#define CRM_ATTACH_REASON_MAX 500

/* Account types: an employer holds exactly one. */
#define CRM_LEAD "lead"
#define CRM_RECRUITING "recruiting"

/* Work item statuses, as stored and shown. */
#define CRM_WI_NEW "New"
#define CRM_WI_IN_PROGRESS "In Progress"
#define CRM_WI_CLOSED "Closed"

/*
 * Company name normalized for duplicate detection: lower case, "&" read as
 * "and", periods and apostrophes dropped ("L.L.C." = "llc", "Joe's" =
 * "joes"), other punctuation as spaces, white space collapsed, a leading
 * "the" and trailing legal suffixes (inc, incorporated, llc, llp, lp, corp,
 * corporation, co, company, ltd, limited, pc, plc) removed - but never down
 * to nothing ("The Company" stays "company").  Returns 0, or -1 when out is
 * too small or the name has no letter or digit.
 */
int crm_normalize_name(const char *name, char *out, size_t n);

/* ZIP: "12345" or "12345-6789".  0 when valid; zip5 (6 bytes) gets the first
 * five digits when not NULL. */
int crm_valid_zip(const char *zip, char zip5[6]);
/* Two-letter state code (upper case). 0 when valid. */
int crm_valid_state(const char *s);
/*
 * EDD employer account number: 7 or 8 digits (EDD writes 8 as 999-9999-9),
 * with optional spaces or dashes between digits.  0 when valid; digits (9
 * bytes) gets the digits alone when not NULL.
 */
int crm_valid_edd_account(const char *s, char digits[9]);
/* NAICS industry code: 2 to 6 digits. 0 when valid. */
int crm_valid_naics(const char *s);
/* Web address: http(s)://host... or a bare host with a dot, no spaces. */
int crm_valid_url(const char *s);
int crm_valid_phone(const char *s);
int crm_valid_email(const char *s);

int crm_valid_account_type(const char *s);

/*
 * Lead user name: "MKT" + up to 12 upper-case letters and digits of the
 * normalized name + the 4-digit `suffix` (0..9999): "MKTACMETOOLS0042".
 * Returns 0, or -1 when out is too small.
 */
int crm_make_username(const char *normalized, unsigned suffix, char *out, size_t n);
/* 1 when username carries the MKT prefix (and something after it). */
int crm_has_mkt_prefix(const char *username);
/* The user name without the MKT prefix (what conversion offers). 0 or -1. */
int crm_drop_mkt_prefix(const char *username, char *out, size_t n);
/* Staff-chosen user name: 4..40 of [A-Za-z0-9._-]. 0 when valid. */
int crm_valid_username(const char *s);

/*
 * What converting a lead to a Recruiting Employer requires.  Fields point to
 * the values the employer will have after the conversion (NULL = absent).
 * Returns NULL when everything is there, or the name of the first missing or
 * invalid field (an API field name) with a message in msg.
 */
typedef struct crm_conversion {
	const char *account_type;    /* current: must be "lead" */
	const char *status;          /* must be "active" */
	const char *company_name;
	const char *edd_account_number;
	const char *street, *city, *state, *zip;
	const char *phone;
	const char *industry;        /* NAICS */
	int primary_contacts;        /* active primary contacts with a name */
} crm_conversion;
const char *crm_conversion_check(const crm_conversion *c, char *msg, size_t n);
/*
 * What a recruiting employer keeps of what its conversion required, while it
 * is one: the company name, EDD Account Number, ZIP, street, city, state,
 * phone and industry, each present and valid (c's account_type, status and
 * primary_contacts are not looked at).  Each field at fault goes into out
 * (API field name and message, static strings), in that order; returns how
 * many (0: none).  crm_conversion_check() refuses the first; the node
 * refuses an edit of a recruiting employer that would clear one, and the
 * hub a recruiting employer's row without one.
 */
#define CRM_KEPT_FIELDS 8
typedef struct crm_fault {
	const char *field;
	const char *msg;
} crm_fault;
int crm_recruiting_kept_check(const crm_conversion *c, crm_fault out[CRM_KEPT_FIELDS]);
/* Vetting deadline: start + 72 hours (ms). */
int64_t crm_vetting_due(int64_t started_ms);
/*
 * Recording the vetting result of a converted employer: result is
 * "approved" or "locked" (the information did not match: the account is
 * locked).  Only a recruiting employer: pending -> approved or locked,
 * locked -> approved (WSB unlocks it), approved -> locked (a mismatch
 * found later).  Returns NULL when allowed, else the API field at fault
 * ("result", "account_type", "vetting_status") with msg; *conflict is set
 * when the refusal is a state conflict (409) rather than bad input (400).
 */
const char *crm_vetting_check(const char *account_type, const char *vetting_status,
			      const char *result, int *conflict, char *msg, size_t n);
/*
 * Who may record it: a holder of the vetting privilege (the EDD WSB groups)
 * who did not convert the lead (WSIN15-21: "verified by the WSB staff").
 * Returns NULL when allowed, else why not (msg filled).
 */
const char *crm_vetter_check(const char *actor, const char *converted_by, int has_vetting_priv,
			     char *msg, size_t n);
/* 1 when an employer with this vetting_status is locked (no services,
 * referrals, job orders or edits until WSB unlocks it). */
int crm_is_locked(const char *vetting_status);

/* ---- crm_jobs.c: recruiting-only rules, job orders, referrals ------------------ */

#define CRM_JOB_TITLE_MAX 120
#define CRM_JOB_LOCATION_MAX 160
#define CRM_JOB_OPENINGS_MAX 9999
#define CRM_JOB_WAGE_MAX 10000000.0

/*
 * Employer activity codes that only a Recruiting Employer may receive
 * (WSIN15-21: "Job referrals are created for Preferred/Recruiting employers
 * only - not for Marketing Leads.  Marketing Lead employers do not have
 * access to post job orders or search for candidates"): referrals of job
 * seekers (E24 Job Referrals, E35 Resume Referral, E51 Suppressed Job
 * Listing Referral, E59 Follow-Up on Referred Candidate), candidate
 * searches (E55 Candidate Pre-Screen) and job listings (E16, E23).  Each
 * presupposes the CalJOBS access a recruiting employer is given once WSB
 * staff have vetted it, so each waits for the vetting too
 * (crm_job_order_vetting_check, CRM_VETTED_SERVICE).  1 when code is one
 * of them.
 */
int crm_recruiting_only_code(const char *code);
/* The name of the work item category that is a job order ("Job Order"). */
#define CRM_JOB_ORDER_CATEGORY "Job Order"
/* 1 when a work item category name is a job order's (case-insensitive). */
int crm_is_job_order_category(const char *name);
/*
 * The MKT prefix of a lead's user name: a lead keeps it until its
 * conversion, which may drop it; a recruiting employer that kept it may
 * drop it by an edit later (staff are advised to remove it), and no edit
 * ever adds it; a recruiting employer's new name never has it.
 * account_type is the employer's after the change (CRM_LEAD or
 * CRM_RECRUITING: a conversion asks with CRM_RECRUITING).  NULL when the
 * change is allowed, else the message.
 */
const char *crm_username_edit_check(const char *account_type, const char *old_name,
				    const char *new_name);
/* Wage units of a job order. 0 when valid ("hour", "week", "month", "year"). */
int crm_valid_wage_unit(const char *s);
/*
 * What a recruiting employer gets only once WSB staff have vetted it: WSB
 * staff verify a converted employer's information "before the employer is
 * provided CalJOBS access" (WSIN15-21), and that access is what a Marketing
 * Lead lacks, posting job orders and the candidates sent to them (the same
 * notice: Marketing Leads "do not have access to post job orders or search
 * for candidates"; job referrals are for recruiting employers only).
 */
typedef enum crm_vetted {
	CRM_VETTED_JOB_ORDER, /* posting a job order */
	CRM_VETTED_SERVICE,   /* a recruiting-only service (crm_recruiting_only_code) */
	CRM_VETTED_WORK_ITEM, /* a "Job Order" work item linked to the employer */
	CRM_VETTED_REFERRAL,  /* a participant referred to one of its job orders */
} crm_vetted;
/*
 * Whether a recruiting employer whose vetting stands at vetting_status may
 * get what (a new one): NULL when it may, else why not.  Not while its
 * vetting is pending.  The one rule of both sides: the node refuses it
 * (409), the hub quarantines a new row pushed for an employer it holds
 * pending (an edit of one made before the rule goes through).  (A locked
 * employer is refused by the node's lock check; the hub takes what was
 * made offline before a lock arrived, as it takes services.)
 */
const char *crm_job_order_vetting_check(const char *vetting_status, crm_vetted what);
/* A job order is open on `today` (YYYY-MM-DD) when opened on or before it
 * and not closed before it.  1 or 0. */
int crm_job_order_open(const char *open_date, const char *close_date, const char *today);
/* Check rows of job_orders and job_referrals at the hub (crm_hub_validate_row
 * calls it): 0, or -1 with reason.  Other tables: 1 (not mine). */
struct cJSON;
int crm_jobs_hub_validate_row(sqlite3 *db, const char *tbl, int op, const struct cJSON *row,
			      char *reason, size_t n);
/* For crm.c's hub checks (0, or -1 with reason): a vetting result's vetter
 * and reason; a recruiting-only code on a lead, or (new, not a correction
 * keeping its code) on an employer pending vetting; a Job Order work item on
 * a lead or on an employer pending vetting, a new one (op SQLITE_INSERT) or
 * one an edit makes so (it sets category_id or employer_id: model_change_sets;
 * the other edits of one made before the rules go through). */
int crm__hub_check_vetting(sqlite3 *db, const struct cJSON *row, char *reason, size_t n);
int crm__hub_check_recruiting_service(sqlite3 *db, const struct cJSON *row, char *reason, size_t n);
int crm__hub_check_job_order_item(sqlite3 *db, int op, const struct cJSON *row, char *reason,
				  size_t n);

/*
 * Employer activity codes.  Staff may choose a code only when it is not
 * system-generated (E90, E92) and not retired.  Returns NULL when selectable,
 * else why not.
 */
const char *crm_code_selectable(int system_generated, const char *status);

/* Completion codes of an employer service. */
int crm_valid_completion_code(const char *s);
/*
 * Dates of one service ("YYYY-MM-DD"; end and completion may be NULL):
 * start required and not after today; end (actual end date) not before
 * start and not after today; a completion code needs an actual end date.
 * Returns NULL when valid, else the offending field ("start_date",
 * "end_date", "completion_code") with a message in msg.
 */
const char *crm_service_check(const char *start, const char *end, const char *completion,
			      const char *today, char *msg, size_t n);

/*
 * An attachment's bytes: 1..CRM_ATTACH_MAX bytes of one of CRM_ATTACH_TYPES,
 * judged by the bytes; when declared is not NULL (an upload) the declared
 * Content-Type must name an allowed type that the bytes agree with.
 * Returns NULL with *type set when acceptable; else the API field at fault
 * ("file" or "content_type"), *status (413 too large or empty, 415 wrong
 * type) and a message in msg.
 */
const char *crm_attach_check(const char *declared, const void *data, size_t len,
			     upload_type *type, int *status, char *msg, size_t n);

/* Work items. */
int crm_valid_wi_status(const char *s);
/* May a work item move from `from` to `to`?  New <-> In Progress, either ->
 * Closed; Closed is final (SPEC: closed items leave the queue; an older edit
 * never reopens one).  Same status is allowed (no change). 0 when allowed. */
int crm_wi_transition(const char *from, const char *to);
/*
 * A closed work item is a record of work done: 1 when an edit of one may
 * still set column col (the soft delete, its witness, the stamp), else 0.
 * The one rule of the hub's validator (an office's edit of an item the hub
 * holds closed is quarantined) and of the console's resolution of a
 * conflict (a value kept is refused, 409).
 */
int crm_wi_closed_may_set(const char *col);
/*
 * Assignment: only to active members of the CRM work group.  exists = the
 * staff row was found.  0 when allowed, else -1 with msg.
 */
int crm_can_assign(int exists, int active, int crm_work_group, char *msg, size_t n);
/* Status changes and notes are for the item's assignee or its creator. */
int crm_wi_may_work(const char *user_id, const char *assignee_id, const char *created_by);

/*
 * One column's rule: name, longest length in characters, validator and its
 * message, stored upper-cased when upper is set.  The node's routes read an
 * employer's, a contact's and a location's fields by these tables, and the
 * hub checks the same columns of a row a node pushes by them
 * (crm_fields_check), so the two never hold different rules.
 */
typedef struct crm_field {
	const char *name;
	size_t max;
	int (*valid)(const char *);
	const char *msg;
	int upper;
} crm_field;

/* The columns of employers, contacts and locations, in the order of the
 * node's EF_ indexes (node/node_crm.h). */
#define CRM_NEF 18
#define CRM_NCF 6
#define CRM_NLF 7
extern const crm_field crm_employer_fields[CRM_NEF];
extern const crm_field crm_contact_fields[CRM_NCF];
extern const crm_field crm_location_fields[CRM_NLF];

struct cJSON;
/*
 * The first of spec's nf columns that row (a stored row as JSON) holds
 * against its rule - not text, a control character, longer than the rule
 * allows, or refused by its validator - or NULL when every column present
 * keeps it (a NULL column is not checked: which are required is the
 * caller's).
 */
const crm_field *crm_fields_check(const struct cJSON *row, const crm_field *spec, int nf);

/*
 * Hub-side check of one replicated CRM row, in the shape of sync.h's
 * sync_row_validator (the hub registers it: sync_set_validator).  Tables
 * that are not the CRM's are accepted.  For a new or changed employer it
 * also records possible duplicates (same normalized name and ZIP, or the
 * same user name, held by another employer) in crm_duplicate_flags - a
 * hub-owned table - so two offices that created the same employer offline
 * are flagged for review, never merged.  For a correction of a service
 * that another office corrected too, it records a conflict (below).  0 to
 * accept; -1 with reason.
 */
int crm_hub_validate_row(sqlite3 *db, const char *tbl, int op, const struct cJSON *row,
			 char *reason, size_t n);
/*
 * Two offices, each offline, may correct one employer service (a new row
 * naming it in corrects_id): both corrections reach the hub and every
 * office, and the later one stands, as the later write of a field does.
 * The one definition of "later": SQL condition, the correction aliased A
 * is later than the one aliased B, by (created_at, id).  The offices count
 * services by it (node_crm.h CRM_SERVICE_EFFECTIVE); the hub, taking the
 * second correction, records a conflict naming both (model/corrections.h:
 * on the later one whichever arrived first, column "corrects_id", base the
 * service corrected, hub and office values the earlier and the later
 * correction as rows, winner the later one), so the one no longer counted
 * is never lost unseen.  Services are append-only: the conflict is resolved by
 * acknowledging it, or by a further correction entered at an office.
 */
#define CRM_CORRECTION_LATER(A, B) " (" A ".created_at, " A ".id) > (" B ".created_at, " B ".id)"
#define CRM_CORRECTIONS_COLUMN "corrects_id"

/* Is there an employer with this id at the hub?  1, 0, -1 (a read failed).
 * The validator checks that a row inserted names one; the hub's trust check
 * that an update moving a row to another employer does. */
int crm_employer_exists(sqlite3 *db, const char *id);
/* Flag possible duplicates of one employer (used by the validator; callable
 * by a hub scan): with earlier_only (a new employer), only against those
 * stored before it.  Returns the number of new flags, or -1. */
int crm_flag_duplicates(sqlite3 *db, const char *employer_id, const char *hlc,
			int64_t now_ms, int earlier_only);

/* crm_seed.c: the hub-owned CRM lists (activity codes from the seed CSV,
 * work item categories and priorities) and a deterministic demo set of
 * external employers and business directory entries.  Idempotent (INSERT OR
 * IGNORE with fixed ids).  0 or -1. */
/* Only the reference lists a production hub needs (employer activity codes
 * from the seed folder, work item categories and priorities), without the
 * demo's external employers and directory.  0 or -1. */
int crm_seed_lists(sqlite3 *db, const char *hlc);
int crm_seed_reference(sqlite3 *db, const char *hlc);
/* Demo set sizes. */
#define CRM_DEMO_EXTERNAL 200
#define CRM_DEMO_DIRECTORY 240

#endif
