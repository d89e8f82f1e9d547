/*
 * case_forms.c - the closure and follow-up forms' fields and their check;
 * see case_forms.h.
 */
#include "model/case_forms.h"
#include "lib/json.h"

#include <stdio.h>
#include <string.h>

static const case_form_field closure_fields[] = {
	{"exit_reason", "Reason for closure"},
	{"employment_status", "Employment status at closure"},
	{"employer_name", "Employer"},
	{"job_title", "Job title"},
	{"hourly_wage", "Hourly wage"},
	{"credential_attained", "Credential attained"},
	{"outcomes_reviewed", "Activities, outcomes and documentation reviewed"},
	{"followup_plan", "Follow-up plan"},
	{"comments", "Comments"},
	{NULL, NULL},
};

static const case_form_field followup_fields[] = {
	{"contact_method", "How the participant was contacted"},
	{"employment_status", "Employment status"},
	{"employer_name", "Employer"},
	{"job_title", "Job title"},
	{"hourly_wage", "Hourly wage"},
	{"services_provided", "Follow-up services provided"},
	{"barriers", "Barriers"},
	{"next_steps", "Next steps"},
	{NULL, NULL},
};

static const case_form_field declined_fields[] = {
	{"how_declined", "How the participant declined follow-up services"},
	{NULL, NULL},
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
	return NULL;
}

static int known(const case_form_field *f, const char *name)
{
	for (; f->name; f++)
		if (strcmp(f->name, name) == 0)
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
		size_t len = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
		const char *p = cJSON_IsString(v) ? v->valuestring : "";
		while (*p == ' ' || *p == '\t')
			p++;
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
