/*
 * privileges.h - the privileges Outpost checks on every route, and the state's
 * privilege groups (WSD24-13, data/privilege_groups.csv) mapped onto them.
 * A staff member's effective privileges are the group's, plus per-person
 * additions, minus per-person removals.
 */
#ifndef OUTPOST_PRIVILEGES_H
#define OUTPOST_PRIVILEGES_H

#include "lib/db.h"

enum {
	PRIV_VIEW = 1u << 0,             /* view participant / employer records */
	PRIV_PARTICIPANT_EDIT = 1u << 1, /* register and edit a participant's record:
	                                  * the registration, its basic data, an SSN
	                                  * reveal, a visit link, a duplicate review */
	PRIV_CASE_NOTES = 1u << 2,       /* write case notes */
	PRIV_CRM = 1u << 3,              /* employers, leads, contacts, services, work items */
	PRIV_REPORTS = 1u << 4,          /* run reports */
	PRIV_GREETER_DESK = 1u << 5,     /* front desk: waiting list and actions */
	PRIV_GREETER_SETUP = 1u << 6,    /* manage check-in reasons */
	PRIV_STAFF_ADMIN = 1u << 7,      /* manage staff accounts (MIS Admin / SPOC) */
	PRIV_VETTING = 1u << 8,          /* record an employer's vetting result, unlock
	                                  * (the EDD WSB groups: WSIN15-21 "verified by
	                                  * the WSB staff") */
	PRIV_PROGRAM_EDIT = 1u << 9,     /* the program side of a case: activities
	                                  * (enrollments) and their amendments, the
	                                  * closure / follow-up / skill-gain forms, job
	                                  * referrals; held only with participant_edit.
	                                  * "LWIA Intake Staff" never (WSD24-13: "view
	                                  * access only to program applications") */
	PRIV_ALL = (1u << 10) - 1,
};

/* Privilege bits of a named group; 0 (nothing) for an unknown group. */
unsigned priv_group_bits(const char *group);
/* Privilege bits no adjustment may add to a named group ("View Access"
 * groups never edit, "LWIA Intake Staff" has no reports); 0 for the rest. */
unsigned priv_group_never(const char *group);
/* Bits of a comma-separated list of privilege names (unknown names: none). */
unsigned priv_list_bits(const char *list);
/* Name of one privilege bit ("crm"), or NULL. */
const char *priv_name(unsigned bit);
/* Bit for a name, or 0. */
unsigned priv_from_name(const char *name);
/* Effective privileges: group bits | (add & ~what the group never holds)
 * & ~remove, where add/remove are comma-separated privilege names; without
 * participant_edit, program_edit is not held either (a removal of
 * participant_edit made before program_edit existed keeps its meaning). */
unsigned priv_effective(const char *group, const char *add, const char *remove);
/* The effective privileges of staff member id, as the hub's staff table
 * has them, into *bits (none when the member is unknown): 0, or -1 when
 * they could not be read. */
int priv_of_staff(sqlite3 *db, const char *id, unsigned *bits);

#endif
