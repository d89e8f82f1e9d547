/*
 * case_forms.h - the closure form and the follow-up form of SLO policy
 * 34-19 (issue 15, point 3): "Closure and follow-up forms must be fully
 * completed ... All data fields should be filled in, including using 'N/A'
 * when the field is not applicable to the participant."  And follow-up
 * "unless the participant declines to receive follow-up services": a
 * decline, recorded with its date, ends the follow-up clocks.
 *
 * A measurable skill gain (kind skill_gain) is the same kind of entry: the
 * policy lists "measurable skills gains" among the entries due within five
 * business days, and WIOA (TEGL 10-16) defines five types of gain, one of
 * which is chosen (gain_type); the others name what was achieved and its
 * documentation.  Its date is the gain's, during participation (never after
 * the exit: "once a case has exited, only follow-up activity codes can be
 * entered").
 *
 * One append-only table, case_forms (kind closure | followup |
 * followup_declined | skill_gain), its fields as a JSON object whose members are the
 * kind's fields, every one a non-empty text ("N/A" allowed).  The same
 * check runs at the office (every missing field named at once) and at the
 * hub on every replicated row.  Pure functions; nothing logs.
 */
#ifndef OUTPOST_CASE_FORMS_H
#define OUTPOST_CASE_FORMS_H

#include <stddef.h>

#define CASE_FORM_FIELD_MAX 500

typedef struct case_form_field {
	const char *name;   /* JSON member */
	const char *label;  /* for people */
	const char *const *choices; /* NULL: free text; else the only values (NULL-ended) */
} case_form_field;

/* The fields of a kind (ended by {NULL}), or NULL for an unknown kind. */
const case_form_field *case_form_fields(const char *kind);

/* Called once per bad field of a form: field is "fields.<name>" (or the
 * member itself when fields is not an object). */
typedef void (*case_form_err_fn)(void *arg, const char *field, const char *msg);

struct cJSON;
/* Check the fields object of a form of kind: every field present, a text
 * of 1..CASE_FORM_FIELD_MAX characters (one of its choices when it has
 * some), no other member.  Reports each bad
 * field through err (may be NULL).  Returns the number of bad fields, or -1
 * for an unknown kind. */
int case_form_check(const char *kind, const struct cJSON *fields, case_form_err_fn err, void *arg);

#endif
