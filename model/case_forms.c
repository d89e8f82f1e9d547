/*
 * case_forms.c - the closure and follow-up forms' fields and their check;
 * see case_forms.h.
 */
#include "model/case_forms.h"
#include "lib/json.h"

#include <stdio.h>
#include <string.h>

static const case_form_field closure_fields[] = {
	{"exit_reason", "Reason for closure", NULL},
	{"employment_status", "Employment status at closure", NULL},
	{"employer_name", "Employer", NULL},
	{"job_title", "Job title", NULL},
	{"hourly_wage", "Hourly wage", NULL},
	{"credential_attained", "Credential attained", NULL},
	{"outcomes_reviewed", "Activities, outcomes and documentation reviewed", NULL},
	{"followup_plan", "Follow-up plan", NULL},
	{"comments", "Comments", NULL},
	{NULL, NULL, NULL},
};

static const case_form_field followup_fields[] = {
	{"contact_method", "How the participant was contacted", NULL},
	{"employment_status", "Employment status", NULL},
	{"employer_name", "Employer", NULL},
	{"job_title", "Job title", NULL},
	{"hourly_wage", "Hourly wage", NULL},
	{"services_provided", "Follow-up services provided", NULL},
	{"barriers", "Barriers", NULL},
	{"next_steps", "Next steps", NULL},
	{NULL, NULL, NULL},
};

static const case_form_field declined_fields[] = {
	{"how_declined", "How the participant declined follow-up services", NULL},
	{NULL, NULL, NULL},
};

/* WIOA's five types of measurable skill gain (TEGL 10-16, attachment). */
static const char *const gain_types[] = {
	"Educational functioning level gain",
	"Secondary school diploma or equivalent",
	"Secondary or postsecondary transcript or report card",
	"Training milestone",
	"Skills progression (exam or credential for an occupation)",
	NULL,
};

static const case_form_field skill_gain_fields[] = {
	{"gain_type", "Type of gain", gain_types},
	{"program", "Education or training program", NULL},
	{"achievement", "What was achieved (test and levels, milestone, exam)", NULL},
	{"documentation", "Documentation on file", NULL},
	{NULL, NULL, NULL},
};

const case_form_field *case_form_fields(const char *kind)
{
	if (kind == NULL)
		return NULL;
	if (strcmp(kind, "closure") == 0)
		return closure_fields;
	if (strcmp(kind, "followup") == 0)
		return followup_fields;
	if (strcmp(kind, "followup_declined") == 0)
		return declined_fields;
	if (strcmp(kind, "skill_gain") == 0)
		return skill_gain_fields;
	return NULL;
}

static int known(const case_form_field *f, const char *name)
{
	for (; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return 1;
	return 0;
}

static int chosen(const char *const *c, const char *v)
{
	for (; *c; c++)
		if (strcmp(*c, v) == 0)
			return 1;
	return 0;
}

int case_form_check(const char *kind, const cJSON *fields, case_form_err_fn err, void *arg)
{
	const case_form_field *f = case_form_fields(kind);
	const cJSON *it;
	char name[80];
	int bad = 0;

	if (f == NULL)
		return -1;
	if (!cJSON_IsObject(fields)) {
		if (err)
			err(arg, "fields", "fill in every field of the form (N/A where it does not apply)");
		return 1;
	}
	for (; f->name; f++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(fields, f->name);
		size_t len = cJSON_IsString(v) ? json_utf8_chars(v->valuestring) : 0;
		const char *p = cJSON_IsString(v) ? v->valuestring : "";
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && len <= CASE_FORM_FIELD_MAX && f->choices && !chosen(f->choices, p)) {
			bad++;
			snprintf(name, sizeof name, "fields.%s", f->name);
			if (err)
				err(arg, name, "choose one of the listed values");
			continue;
		}
		if (*p && len <= CASE_FORM_FIELD_MAX)
			continue;
		bad++;
		snprintf(name, sizeof name, "fields.%s", f->name);
		if (err)
			err(arg, name, len > CASE_FORM_FIELD_MAX ? "at most 500 characters"
								 : "required: fill it in, or write N/A");
	}
	cJSON_ArrayForEach(it, fields)
	{
		if (it->string && known(case_form_fields(kind), it->string))
			continue;
		bad++;
		snprintf(name, sizeof name, "fields.%.60s", it->string ? it->string : "?");
		if (err)
			err(arg, name, "not a field of this form");
	}
	return bad;
}
