/*
 * casework.h - the case-work rules of SLO policy 34-19 (SPEC "Participants,
 * activities and case notes"), shared by the office node, which enforces
 * them on every API write and computes the compliance views from them, and
 * the hub, which checks every replicated case row with
 * case_hub_validate_row().
 *
 * Every date rule takes "today" (YYYY-MM-DD) from the caller: the injected
 * clock.  On a node that is the trusted date (local clock corrected by the
 * hub's offset at the last sync, node_now_ms()), never the PC's raw clock.
 * Dates are calendar dates in the office's time zone.  Pure functions unless
 * they take a database handle.  Nothing here logs a name, an SSN or a note.
 */
#ifndef OUTPOST_CASEWORK_H
#define OUTPOST_CASEWORK_H

#include <stddef.h>
#include <stdint.h>
#include "lib/db.h"

#define CASE_BACKDATE_FREE_DAYS 30   /* staff may backdate this far */
#define CASE_BACKDATE_MAX_DAYS 90    /* with an approval; never further */
#define CASE_ENTRY_BUSINESS_DAYS 5   /* activities, forms: 5 business days */
#define CASE_NOTE_ENTRY_DAYS 5       /* a case note: 5 days of its contact date */
#define CASE_NOTE_CADENCE_DAYS 30    /* one case note every 30 days */
#define CASE_SOFT_EXIT_DAYS 90       /* no clock-restarting service for 90 days */
#define CASE_FOLLOWUP_QUARTERS 4     /* 12 months of quarterly follow-up */
#define CASE_SKEW_WARN_MS (2 * 60 * 1000) /* = sync's SYNC_SKEW_WARN_MS */
#define CASE_NAME_MAX 80
#define CASE_SUBJECT_MAX 200
#define CASE_NOTE_MAX 8000
#define CASE_SSN_ENC_MAX 80          /* "eN:" + hex: 12 nonce + 9 text + 16 tag bytes */
#define CASE_KEY_LEN 32

/* ---- backdating ---------------------------------------------------------- */
typedef enum {
	CASE_BD_OK = 0,            /* 0..30 days in the past */
	CASE_BD_NEEDS_APPROVAL,    /* 31..90: only with a recorded approval */
	CASE_BD_TOO_OLD,           /* more than 90 days: never */
	CASE_BD_FUTURE,            /* after today */
	CASE_BD_INVALID,           /* not a date */
} case_backdate;
/* How far service_date lies before today; *days gets the count. */
case_backdate case_backdate_check(const char *service_date, const char *today, int *days);
/* A message for people, for each verdict (never NULL). */
const char *case_backdate_msg(case_backdate b);

/* ---- timeliness ----------------------------------------------------------- */
/* date + n business days (Monday to Friday that are not state holidays:
 * model/holidays.h).  0 or -1 when the date is invalid. */
int case_add_business_days(const char *date, int n, char out[11]);
/* Last date an activity or form for service_date may be entered on time
 * (5 business days after it). 0 or -1. */
int case_entry_deadline(const char *service_date, char out[11]);
/* Last date a case note for contact_date is on time (5 days after). */
int case_note_deadline(const char *contact_date, char out[11]);
/* 1 on time, 0 late, -1 invalid dates. */
int case_entry_timely(const char *service_date, const char *entered_date);
int case_note_timely(const char *contact_date, const char *entered_date);
/* When the next case note is due: 30 days after the last note's contact date
 * (or after registration when there is none). 0 or -1. */
int case_note_next_due(const char *last, char out[11]);

/* ---- soft exit ------------------------------------------------------------ */
typedef struct case_exit {
	int days_since;            /* days since the last clock-restarting service */
	int days_left;             /* until the exit (0 once exited) */
	char exit_date[11];        /* last + 90 days */
	int exited;                /* day 90 or later: the case has exited */
	int warn_level;            /* 0, 60, 75 or 85 (days since) before the exit */
	int closure_prompt;        /* nearing exit: complete the closure form */
} case_exit;
/*
 * The 90-day soft exit from `last` (the start date of the last service whose
 * code restarts the exit clock, or the registration date when there is
 * none).  Day 89 is still open; on day 90 the case has exited, and that can
 * never be undone (callers record it in participant_exits).  Warnings from
 * day 60, 75 and 85; the closure form prompt from day 60. 0 or -1.
 */
int case_soft_exit(const char *last, const char *today, case_exit *out);
/*
 * May a code from this list be entered?  After exit only follow-up codes;
 * follow-up codes only after exit.  NULL when allowed, else why not.
 */
const char *case_code_allowed(int exited, int is_followup);

/* ---- follow-up ------------------------------------------------------------ */
/* date + n months, the day clamped to the month's end. 0 or -1. */
int case_add_months(const char *date, int n, char out[11]);
/* Quarter q (1..4) of the 12 months of follow-up after exit_date:
 * [exit + 3(q-1) months, exit + 3q months - 1 day]. 0 or -1. */
int case_followup_quarter(const char *exit_date, int q, char start[11], char end[11]);
/* Which follow-up quarter (1..CASE_FOLLOWUP_QUARTERS) date falls in, after
 * an exit on exit_date; 0 none (before the exit or past the last). */
int case_followup_quarter_of(const char *exit_date, const char *date);

/* ---- case notes ----------------------------------------------------------- */
/* 1 when s has visible text: a character other than white space (ASCII,
 * and Unicode's: no-break and the other spaces, line and paragraph
 * separators) and the invisible format characters (zero-width space and
 * joiners, direction marks, word joiner, byte order mark); 0 when it is
 * NULL or has none.  A case note is part of the participant's legal file:
 * "   " or a lone no-break space is no note. */
int case_text_visible(const char *s);
/* The activity note's subject: "<code> <title>" ("102 Initial Assessment").
 * 0, or -1 when out is too small. */
int case_activity_subject(const char *code, const char *title, char *out, size_t n);
/* An activity note must have that subject and the activity's start date as
 * its contact date.  NULL when it does, else the offending field
 * ("subject" / "contact_date"). */
const char *case_activity_note_check(const char *subject, const char *contact_date,
				     const char *code, const char *title, const char *start_date);

/* ---- SSN ------------------------------------------------------------------ */
/* The county's pseudo-SSN from the birth date: 975-DD-MMYY (25 May 1977 ->
 * "975-25-0577"; the policy's prose says DDMMYY, its example MMYY, and only
 * MMYY fits nine digits).  out: 12 bytes.  0, or -1 on a bad date. */
int case_pseudo_ssn(const char *birth_date, char out[12]);
/* The same with the Local Area's own assigned identifier (local_areas.
 * pseudo_ssn_prefix) in place of 975, San Luis Obispo's, which the demo Local
 * Area keeps.  0, or -1 on a bad date or prefix. */
#define CASE_PSEUDO_SSN_SLO "975"
int case_pseudo_ssn_la(const char *prefix, const char *birth_date, char out[12]);
/* 1 when prefix is a Local Area identifier: three digits 900-999 (a real SSN
 * never starts with 9, so a pseudo-SSN can never be someone's real one). */
int case_pseudo_ssn_prefix_ok(const char *prefix);
/* An SSN as typed (999-99-9999, 999 99 9999 or nine digits) to its nine
 * digits.  Refuses area 000 or 666, group 00 and serial 0000.  0 or -1. */
int case_ssn_digits(const char *in, char digits[10]);
/* Whether the nine digits (case_ssn_digits) may be someone's real SSN: SSA
 * never issues area 900-999, the range of the Local Areas' pseudo-SSNs
 * (case_pseudo_ssn_prefix_ok), so such a number typed as a real SSN is a
 * pseudo-SSN or a typing error.  NULL when it may be, else the message. */
const char *case_ssn_real_check(const char *digits);
/* "***-**-1234" from the last four digits (12 bytes). */
void case_ssn_mask(const char *last4, char out[12]);
/*
 * Key epochs.  A Local Area's SSN key can be replaced (hub/hub_keys.c,
 * hub_keys_rotate): each key has an epoch, 1 for the first.  case_keys keeps
 * one row per epoch, id LA for epoch 1 (as before epochs) and "LA:eN" for
 * epoch N >= 2 (case_key_id), so the replicated schema is unchanged.  An
 * SSN is written under the newest epoch; its ssn_enc says which: plain hex
 * for epoch 1 (what was stored before epochs), "eN:" + hex for N >= 2.
 * ssn_hmac is keyed with the same epoch's key, so a node that only holds
 * older keys learns nothing, not even by hash, of an SSN written later.
 */
#define CASE_KEY_EPOCH_MAX 9999
/* AES-256-GCM under the Local Area's key of that epoch, the participant id
 * as associated data: enc gets ["eN:"] hex(nonce | ciphertext | tag)
 * (CASE_SSN_ENC_MAX + 1 bytes), hmac the hex HMAC-SHA256 of the digits.
 * 0 or -1. */
int case_ssn_protect(const unsigned char key[CASE_KEY_LEN], int epoch, const char *participant_id,
		     const char *digits, char enc[CASE_SSN_ENC_MAX + 1], char hmac[65]);
/* The epoch an ssn_enc was written under: 1 (no prefix), N, or -1 when it
 * is not one. */
int case_ssn_epoch(const char *enc);
/* The digits back (10 bytes), or -1 when the key, id or ciphertext do not
 * match (enc with or without its epoch prefix). */
int case_ssn_reveal(const unsigned char key[CASE_KEY_LEN], const char *participant_id,
		    const char *enc, char digits[10]);
int case_ssn_hmac(const unsigned char key[CASE_KEY_LEN], const char *digits, char hmac[65]);
/* case_keys.id of the Local Area's key of that epoch: 0, or -1 when it does
 * not fit n. */
int case_key_id(const char *local_area_id, int epoch, char *out, size_t n);
/* The Local Area's newest epoch: 1 or more, 0 when it has no key, -1. */
int case_key_epoch(sqlite3 *db, const char *local_area_id);
/* The Local Area's key of that epoch from case_keys: 0, 1 when there is
 * none, -1 (also when it cannot be unwrapped: see below). */
int case_key_load_at(sqlite3 *db, const char *local_area_id, int epoch,
		     unsigned char key[CASE_KEY_LEN]);
/* The same for the newest epoch (what new SSNs are written under). */
int case_key_load(sqlite3 *db, const char *local_area_id, unsigned char key[CASE_KEY_LEN]);
/* An SSN protected under the newest key (case_ssn_protect): 0, 1 when the
 * Local Area has no key this side can read, -1. */
int case_ssn_protect_db(sqlite3 *db, const char *local_area_id, const char *participant_id,
			const char *digits, char enc[CASE_SSN_ENC_MAX + 1], char hmac[65]);
/* An ssn_enc read back with the key of its own epoch: 0, or -1. */
int case_ssn_reveal_db(sqlite3 *db, const char *local_area_id, const char *participant_id,
		       const char *enc, char digits[10]);
/* The digits' hash (case_ssn_hmac) under each of the Local Area's keys
 * this side holds, newest epoch first: until a row's SSN has been written
 * again under the newest key (hub_keys_reencrypt) and has reached this
 * side, it keeps its own epoch's hash.  fn(arg, hmac) for each (hmac
 * borrowed for the call) until it answers other than 0.  That answer, 0
 * when every hash was given (none when no key is held), or -1. */
int case_ssn_hmac_each(sqlite3 *db, const char *local_area_id, const char *digits,
		       int (*fn)(void *arg, const char *hmac), void *arg);
/* Duplicate lookups across epochs: run sql (one parameter, an ssn_hmac;
 * its first column a text) with the digits' hash under each key held,
 * newest first (case_ssn_hmac_each), until a row comes back; its first
 * column into out.  0 found, 1 not, -1. */
int case_ssn_find(sqlite3 *db, const char *local_area_id, const char *digits, const char *sql,
		  char *out, size_t n);
/*
 * A case key is kept wrapped (lib/crypto.h, associated data "case_key:" +
 * its case_keys.id) under its Local Area's wrapping key of the newest epoch
 * (every epoch's row of the Local Area is wrapped again when a key is
 * added), which lives outside the database (hub: derived from
 * DATA/master.key; node: in sync.json).  case_key_load() asks fn for it,
 * giving the newest epoch; a plain key (a stand-alone demo node, data not
 * migrated yet) is used as it is.  fn returns 0 with key filled, or -1.  Set
 * once at start; fn must be thread-safe.
 */
typedef int (*case_wrap_source)(const char *local_area_id, int epoch, unsigned char key[32]);
void case_key_set_wrap_source(case_wrap_source fn);
/* Hub (and a stand-alone node): a fresh random key for every Local Area that
 * has none.  Returns the number created, or -1. */
int case_ensure_keys(sqlite3 *db, const char *hlc, int64_t now_ms);

/* ---- clock ---------------------------------------------------------------- */
/* 1 when the node's clock is off the hub's by more than CASE_SKEW_WARN_MS:
 * entries made then carry the offset and the UI warns. */
int case_skew_flag(int64_t offset_ms);

/* ---- code lists and hub checks ------------------------------------------- */
/* The hub-owned lists from seed/participant_activity_codes.csv and
 * seed/followup_codes.csv (INSERT OR IGNORE, id = code).  0 or -1. */
int case_seed_reference(sqlite3 *db, const char *hlc);
/* Hub start: seed the code lists when empty and create the missing Local
 * Area keys, in one transaction, HLCs issued as node_id; and a trigger
 * (hub.db only) that gives every Local Area created later its key.  0 or -1. */
int case_hub_prepare(sqlite3 *db, const char *node_id);

/*
 * Hub-side check of one replicated case row (shape of sync.h's
 * sync_row_validator).  Tables that are not case work's are accepted.
 * Checks the field rules, that activities, notes, approvals and exits name
 * a participant of the same Local Area, codes exist in their list, the
 * backdating limits against the trusted entry date (with an approval row
 * for 31-90 days), an activity note's subject and contact date, and that an
 * exited participant is never re-opened.  0 to accept; -1 with reason.
 * (That a new activity comes with its note needs the rest of the push:
 * the hub's validator checks it, hub/acct_apply.c.)
 */
/*
 * Flag, at the hub, every other active participant of the Local Area whose
 * real SSN is the same (by its keyed hash; after a rotation, its hash under
 * each key held, so a row not yet written again under the newest key
 * matches too) as participant_id's, in
 * participant_duplicate_flags (hub-owned, replicated to the Local Area):
 * two offices that registered one person while offline.  Called by the
 * validator (which, for an update that sets none of the SSN's columns,
 * ssn_kind, exit_state nor local_area_id, compares the stored hash alone:
 * no SSN decrypted) and the hub's re-encryption pass.  The number of new
 * flags, or -1.
 */
int case_flag_duplicates(sqlite3 *db, const char *participant_id, const char *hlc,
			 int64_t now_ms);

struct cJSON;
/* The hub's one refusal (after "TABLE: ") of a row whose participant_id is
 * no participant of the row's Local Area, whether it is another Local
 * Area's or none at all: the reason goes back to the pushing node, which
 * is not to learn which ids exist outside its Local Area. */
#define CASE_NOT_OURS "participant_id is not a participant of this Local Area"
int case_hub_validate_row(sqlite3 *db, const char *tbl, int op, const struct cJSON *row,
			  char *reason, size_t n);
/* The hub's check of a program entry (an activity, a form, an activity's
 * approval request, a job referral; model/privileges.c): the staff member
 * its column col names holds program_edit by the hub's staff table.  The
 * node checked it too, but a node of an older release grants it with
 * participant_edit, and a node's word is not the hub's.  0; -1 with reason
 * (none named, an unknown one, one without it); MODEL_CHECK_AGAIN. */
int case_hub_check_program_actor(sqlite3 *db, const char *tbl, const char *col,
				 const struct cJSON *row, char *reason, size_t n);
/* Every model validator in turn (CRM, then case work): what the hub
 * registers with sync_set_validator(). */
int model_hub_validate_row(sqlite3 *db, const char *tbl, int op, const struct cJSON *row,
			   char *reason, size_t n);

#endif
