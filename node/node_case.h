/*
 * node_case.h - internals shared by the office node's case-work API files
 * (node_case_util.c: the audit helper; node_case.c: participants, SSN,
 * timeline, visits; node_case_work.c:
 * activities, case notes, amendments, backdating approvals;
 * node_case_compliance.c: the exit sweep, each case's clock status and the
 * compliance views).  Not for other modules: the node's route table
 * (node_api.c) lists each file's routes.
 *
 * Privileges: reading needs PRIV_VIEW, registering and editing participants
 * and activities PRIV_PARTICIPANT_EDIT (an SSN reveal too), case notes
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
#include "lib/buf.h"

/* Audit one action on a subject (inside the caller's capture).  0 or -1. */
int case__audit(node *n, const node_user *u, const char *action, const char *table,
		const char *id, const char *detail);
/* 1 when the visitor's name (as checked in) holds every word of the
 * participant's first and last name, case and punctuation aside; else 0. */
int case__names_match(const char *visitor, const char *first, const char *last);
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

/* The routes: each file's route_list (node_api.h). */
/* Effective activities: not voided, not replaced by a later correction. */
#define CASE_ACT_EFFECTIVE                                                                   \
	" a.voided = 0 AND NOT EXISTS (SELECT 1 FROM participant_activities x"              \
	" WHERE x.corrects_id = a.id)"

#endif
