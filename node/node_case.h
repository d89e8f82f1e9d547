/*
 * node_case.h - internals shared by the office node's case-work API files
 * (node_case_util.c: the audit helper and other shared checks;
 * node_case.c: participants, SSN; node_case_timeline.c: the timeline and
 * visit links; node_case_work.c:
 * activities, case notes, amendments, backdating approvals;
 * node_case_compliance.c: the exit sweep, each case's clock status and the
 * compliance views).  Not for other modules: the node's route table
 * (node_api.c) lists each file's routes.
 *
 * Privileges: reading needs PRIV_VIEW, registering and editing participants
 * PRIV_PARTICIPANT_EDIT (an SSN reveal, a visit link, a duplicate review
 * too), the program entries (activities and their amendments, the forms,
 * referrals) PRIV_PROGRAM_EDIT (model/privileges.c), case notes
 * PRIV_CASE_NOTES, the compliance CSV PRIV_REPORTS, as the route tables
 * declare (lib/route.h; the dispatcher checks them).  Every read of a
 * participant record or of case notes, and every SSN reveal, writes an
 * audit_events row in a captured transaction, so it reaches the hub.  No
 * log line names a participant, an SSN or note text: ids only.
 */
#ifndef OUTPOST_NODE_CASE_H
#define OUTPOST_NODE_CASE_H

#include "node/node.h"
#include "node/node_auth.h"
#include "model/capture.h"
#include "model/casework.h"
#include "model/case_approvals.h"
#include "lib/buf.h"
#include "lib/route.h"

/* Audit one action on a subject (inside the caller's capture).  0 or -1. */
int case__audit(node *n, const node_user *u, const char *action, const char *table,
		const char *id, const char *detail);
/* The per-record read audit (TEGL 39-11) of the rows a route returns: one
 * event naming the participant ids under key k1 (and k2, unless NULL) of
 * each row and how many rows there were, never their content.  0 or -1. */
int case__audit_ids(node *n, const node_user *u, const char *action, const cJSON *rows,
		    const char *k1, const char *k2);
/* 1 when the visitor's name (as checked in) holds every word of the
 * participant's first and last name, case and punctuation aside; else 0. */
int case__names_match(const char *visitor, const char *first, const char *last);
/* 1 when participant id is held here (in this node's Local Area), 0 when
 * not, -1 when id is NULL or on a database error. */
int case__participant_exists(node *n, const char *id);
/* The first step of a route on one participant: the participant its path
 * names (:id, into *id) is held here.  ROUTE_OK, the 404 (field "id"), or
 * ROUTE_DBERR. */
route_rc case__path_participant(route_call *a, const char **id);
/* The participant's row (no SSN columns) as JSON with ssn_masked, or NULL
 * when it is not held here (or not in this node's Local Area). */
cJSON *case__participant_json(node *n, const char *id);

/* Clock status of one case on `today`. */
typedef struct case_status {
	char last_service[11];   /* last clock-restarting service, or "" */
	char clock_from[11];     /* last_service or the registration date */
	case_exit ex;
	char last_note[11];      /* latest contact date of an original note, or "" */
	char note_due[11];
	int note_overdue, note_due_week;
	int activities_without_note;
	int late_activities, late_notes;
	int exited;              /* recorded exit */
	char exit_date[11];
	int fu_quarter;          /* current follow-up quarter (1..4), 0 none */
	char fu_start[11], fu_end[11];
	int fu_done;             /* current quarter has a follow-up */
	int fu_overdue;          /* past quarters without one */
	int closure_form_due;    /* nearing exit without a closure form */
	char fu_declined[11];    /* follow-up declined on (ends the clocks), or "" */
	int fu_form_done;        /* current quarter has its follow-up form */
	int fu_forms_missing;    /* past quarters without one */
} case_status;
int case__status(node *n, const char *pid, const char *today, case_status *s);
cJSON *case__status_json(const case_status *s);
/*
 * Record the soft exit of participant pid when its 90 days have run on
 * `today` and it is still active (inside the caller's capture): a
 * participant_exits row and exit_state = 'exited'.  *exited gets the state
 * after the sweep.  0 or -1.
 */
int case__sweep_exit(node *n, const node_user *u, const char *pid, const char *today,
		     int *exited);

/*
 * node_case_approvals.c: a request for one entry and one date (kind
 * "backdate" or "change"), inside the caller's capture, with the id the
 * caller made (the entry already names it).  change_id/summary only for a
 * change.  0 or -1.
 */
int case__request(node *n, const node_user *u, const char *pid, const char *kind,
		  const char *entry_table, const char *entry_id, const char *entry_date,
		  const char *change_id, const char *summary, const char *reason, const char *id);
/* 1 when the user is a supervisor or manager (may raise a Help Request). */
int case__is_supervisor(node *n, const node_user *u);

/*
 * node_case_timely.c: timely entry of every entry kind of the policy, in
 * business days with the state holidays, for the Local Area's entries
 * (only staff's / office's when not NULL or ""): {"business_days",
 * "by_kind", "by_staff", "by_office"}, each row {id, name, entries, late,
 * timely_pct}.  NULL on error.  And the same as CSV rows in a's reply.
 */
cJSON *case__timeliness(node *n, const char *staff, const char *office);
struct route_call;
void case__timeliness_csv(struct route_call *a, const cJSON *t);

/* The routes: each file's route_list (node_api.h). */
/* Effective activities: counted (a backdated one approved), not voided,
 * not replaced by a later correction that counts (a change waiting for
 * its Help Request's approval leaves the original standing). */
/* Not voided by a correction that counts (an approved void takes the
 * activity away: neither a service nor an entry of the timeliness report,
 * a pending one leaves it standing); a is the activity's alias. */
#define CASE_ACT_NOT_VOIDED(a)                                                               \
	" NOT EXISTS (SELECT 1 FROM participant_activities v WHERE v.corrects_id = " a ".id"   \
	" AND v.voided = 1 AND " CASE_ACT_COUNTS("v") ")"
#define CASE_ACT_EFFECTIVE                                                                   \
	" a.voided = 0 AND " CASE_ACT_COUNTS("a") " AND NOT EXISTS (SELECT 1 FROM"          \
	" participant_activities x WHERE x.corrects_id = a.id AND " CASE_ACT_COUNTS("x") ")"

#endif
