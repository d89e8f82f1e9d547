/*
 * privileges.c - privilege groups to privilege bits; see privileges.h.
 *
 * The mapping follows the group descriptions in WSD24-13: "View Access"
 * groups never edit; "LWIA Intake Staff" has limited participant access and
 * no reports; supervisors and EDD staff get the full field set; staff
 * administration is never part of a group (it comes with the MIS
 * Administrator / SPOC role, granted separately at the hub).  Vetting a
 * converted employer is the EDD WSB groups' (WSIN15-21: "verified by the WSB
 * staff"; CRM training: "per standard 72-hour vetting procedure").
 *
 * Participant writes are two privileges, so that "LWIA Intake Staff" (WSD24-13:
 * "limited CalJOBS access to assist with basic participant needs, view access
 * only to program applications") registers a visitor but enrolls no one:
 *  - participant_edit: the registration - create the participant, edit the
 *    basic contact and demographic record, reveal its SSN, link a greeter
 *    visit, review a possible duplicate.  Basic needs of a person at the
 *    front desk; the record every program application is made on.
 *  - program_edit: what applies or enrolls the person in a program - the
 *    activity codes ("also known as activity enrollment", SLO 34-19: "used to
 *    document participant activity in a program") and their amendments, the
 *    program's forms listed with "applications" among the program data to
 *    enter within 5 days (SLO 34-19: measurable skill gains, closure and
 *    follow-up forms), and job referrals (a staff-assisted service, codes
 *    114/121/122).  Every group that held participant_edit holds it, except
 *    LWIA Intake Staff, which reads them only and to whom no adjustment adds
 *    it.  Case notes stay their own privilege (intake keeps stand-alone notes).
 * The hub checks program_edit again on every replicated program row
 * (case_hub_check_program_actor()): a node of an older release still grants it
 * with participant_edit.
 */
#include "model/privileges.h"

#include <stdio.h>
#include <string.h>

#define FIELD (PRIV_VIEW | PRIV_PARTICIPANT_EDIT | PRIV_PROGRAM_EDIT | PRIV_CASE_NOTES | PRIV_CRM | \
	       PRIV_REPORTS | PRIV_GREETER_DESK)

static const struct {
	const char *group;
	unsigned bits;
} groups[] = {
	{"LWIA/CBO Staff", FIELD},
	{"LWIA Intake Staff", PRIV_VIEW | PRIV_PARTICIPANT_EDIT | PRIV_CASE_NOTES | PRIV_GREETER_DESK},
	{"LWIA Partner Staff", FIELD},
	{"LWIA Partner Supervisor", FIELD | PRIV_GREETER_SETUP},
	{"ETPL Coordinators", PRIV_VIEW | PRIV_REPORTS},
	{"WARN", PRIV_VIEW | PRIV_CRM | PRIV_REPORTS},
	{"View Access", PRIV_VIEW},
	{"View Access with Reports", PRIV_VIEW | PRIV_REPORTS},
	{"DVOP", FIELD},
	{"EDD El Centro Helpdesk", PRIV_VIEW},
	{"EDD WSB Staff", FIELD | PRIV_VETTING},
	{"EDD WSB Supervisor", FIELD | PRIV_GREETER_SETUP | PRIV_VETTING},
	{"LVER", FIELD},
	{"TAA Coordinators/Specialist", FIELD},
};

/* What no per-person adjustment may add to a group (SPEC: "'View Access'
 * groups never edit; 'LWIA Intake Staff' has no reports"; WSD24-13:
 * "no editing", "no access to reports", "view access only to program
 * applications"). */
#define EDITS (PRIV_PARTICIPANT_EDIT | PRIV_PROGRAM_EDIT | PRIV_CASE_NOTES | PRIV_CRM | \
	       PRIV_GREETER_DESK | PRIV_GREETER_SETUP | PRIV_VETTING)

static const struct {
	const char *group;
	unsigned bits;
} never[] = {
	{"View Access", EDITS},
	{"View Access with Reports", EDITS},
	{"LWIA Intake Staff", PRIV_REPORTS | PRIV_PROGRAM_EDIT},
};

static const char *const names[] = {
	"view", "participant_edit", "case_notes", "crm", "reports", "greeter_desk",
	"greeter_setup", "staff_admin", "vetting", "program_edit",
};

unsigned priv_group_bits(const char *group)
{
	for (size_t i = 0; group && i < sizeof groups / sizeof groups[0]; i++)
		if (strcmp(groups[i].group, group) == 0)
			return groups[i].bits;
	return 0;
}

unsigned priv_group_never(const char *group)
{
	/* Vetting is the EDD WSB groups' (WSIN15-21), assigned with the
	 * group by a SPOC: no adjustment gives it to anyone else. */
	unsigned bits = priv_group_bits(group) & PRIV_VETTING ? 0 : PRIV_VETTING;

	for (size_t i = 0; group && i < sizeof never / sizeof never[0]; i++)
		if (strcmp(never[i].group, group) == 0)
			return bits | never[i].bits;
	return bits;
}

const char *priv_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		if (bit == 1u << i)
			return names[i];
	return NULL;
}

unsigned priv_from_name(const char *name)
{
	for (unsigned i = 0; name && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(names[i], name) == 0)
			return 1u << i;
	return 0;
}

unsigned priv_list_bits(const char *list)
{
	char tmp[512], *save = NULL;
	unsigned bits = 0;

	if (list == NULL)
		return 0;
	snprintf(tmp, sizeof tmp, "%s", list);
	for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		bits |= priv_from_name(t);
	return bits;
}

unsigned priv_effective(const char *group, const char *add, const char *remove)
{
	/* What the group never holds is masked here too, not only refused
	 * when an adjustment is requested: a group changed under an old
	 * adjustment, or a row written before the rule, stays within it. */
	unsigned bits = ((priv_group_bits(group) | (priv_list_bits(add) & ~priv_group_never(group))) &
			 ~priv_list_bits(remove)) &
			PRIV_ALL;

	/* Program entries are made on a record one may edit: an account
	 * whose participant_edit was removed (before program_edit existed,
	 * that removed activities too) holds neither. */
	return bits & PRIV_PARTICIPANT_EDIT ? bits : bits & ~PRIV_PROGRAM_EDIT;
}

int priv_of_staff(sqlite3 *db, const char *id, unsigned *bits)
{
	sqlite3_stmt *st;
	const char *c[3];
	int rc, ret = 0;

	*bits = 0;
	if (db_prepare(db, &st, "SELECT privilege_group, priv_add, priv_remove FROM staff WHERE id=?") != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = db_cols(st, c, 3) == 0 ? (*bits = priv_effective(c[0], c[1], c[2]), 0) : -1;
	else if (rc != SQLITE_DONE)
		ret = -1;
	sqlite3_finalize(st);
	return ret;
}
