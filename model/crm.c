/*
 * crm.c - CRM domain rules: company name normalization, lead user names,
 * conversion requirements, code selection, the service date rules, work
 * item transitions and assignment, and the hub's row checks; see crm.h.
 */
#include "model/crm.h"
#include "model/corrections.h"
#include "model/schema.h"
#include "lib/crypto.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- names ------------------------------------------------------------------ */

static const char *const legal_suffixes[] = {
	"inc", "incorporated", "llc", "llp", "lp", "corp", "corporation", "co",
	"company", "ltd", "limited", "pc", "plc", "pllc", NULL,
};

static int is_suffix(const char *w, size_t len)
{
	for (int i = 0; legal_suffixes[i]; i++)
		if (strlen(legal_suffixes[i]) == len && memcmp(legal_suffixes[i], w, len) == 0)
			return 1;
	return 0;
}

int crm_normalize_name(const char *name, char *out, size_t n)
{
	char tmp[CRM_NORM_MAX];
	size_t j = 0;
	int alnum = 0;

	if (name == NULL || n == 0)
		return -1;
	/* Pass 1: lower case, '&' -> and, drop . and ', punctuation -> space. */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		const char *add = NULL;
		char one[2] = {0, 0};

		if (*p == '.' || *p == '\'')
			continue;
		if (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0x99) { /* U+2019 apostrophe */
			p += 2;
			continue;
		}
		if (*p == '&')
			add = " and ";
		else if (isalnum(*p) || *p >= 0x80) {
			one[0] = (char)tolower(*p);
			add = one;
			if (isalnum(*p))
				alnum = 1;
		} else
			add = " ";
		for (; *add; add++) {
			if (*add == ' ' && (j == 0 || tmp[j - 1] == ' '))
				continue;
			if (j + 1 >= sizeof tmp)
				return -1;
			tmp[j++] = *add;
		}
	}
	while (j > 0 && tmp[j - 1] == ' ')
		j--;
	tmp[j] = '\0';
	if (!alnum)
		return -1;
	/* Pass 2: drop a leading "the " and trailing legal suffixes, never all. */
	char *s = tmp;
	if (strncmp(s, "the ", 4) == 0)
		s += 4;
	size_t len = strlen(s);
	for (;;) {
		char *sp = s + len;
		while (sp > s && *sp != ' ')
			sp--;
		if (*sp != ' ')
			break;
		if (!is_suffix(sp + 1, len - (size_t)(sp + 1 - s)))
			break;
		len = (size_t)(sp - s);
		s[len] = '\0';
	}
	if (len + 1 > n)
		return -1;
	memcpy(out, s, len + 1);
	return 0;
}

int crm_valid_zip(const char *zip, char zip5[6])
{
	size_t len = zip ? strlen(zip) : 0;

	if (len != 5 && len != 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (i == 5) {
			if (zip[i] != '-')
				return -1;
		} else if (!isdigit((unsigned char)zip[i]))
			return -1;
	}
	if (zip5) {
		memcpy(zip5, zip, 5);
		zip5[5] = '\0';
	}
	return 0;
}

int crm_valid_state(const char *s)
{
	return s && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) && s[2] == '\0'
		       ? 0
		       : -1;
}

int crm_valid_edd_account(const char *s, char digits[9])
{
	char d[9];
	int nd = 0, prev_sep = 1;

	if (s == NULL)
		return -1;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			if (nd == 8)
				return -1;
			d[nd++] = *s;
			prev_sep = 0;
		} else if (*s == '-' || *s == ' ') {
			if (prev_sep)
				return -1; /* leading or doubled separator */
			prev_sep = 1;
		} else {
			return -1;
		}
	}
	if (prev_sep || nd < 7)
		return -1;
	d[nd] = '\0';
	if (digits)
		memcpy(digits, d, (size_t)nd + 1);
	return 0;
}

int crm_valid_naics(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len < 2 || len > 6)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	return 0;
}

int crm_valid_url(const char *s)
{
	const char *host = s;

	if (s == NULL || *s == '\0')
		return -1;
	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strstr(s, "://"))
		return -1;
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || *p == '<' || *p == '>' || *p == '"')
			return -1;
	const char *dot = strchr(host, '.');
	const char *slash = strchr(host, '/');
	return dot && dot != host && (slash == NULL || dot < slash) ? 0 : -1;
}

int crm_valid_phone(const char *s)
{
	int digits = json_phone_digits(s, " +-().x");

	return digits >= 10 && digits <= 15 ? 0 : -1;
}

int crm_valid_email(const char *s)
{
	return json_valid_email(s);
}

int crm_valid_account_type(const char *s)
{
	return s && (strcmp(s, CRM_LEAD) == 0 || strcmp(s, CRM_RECRUITING) == 0) ? 0 : -1;
}

/* ---- user names ------------------------------------------------------------ */

int crm_make_username(const char *normalized, unsigned suffix, char *out, size_t n)
{
	char base[13];
	size_t j = 0;

	for (const char *p = normalized ? normalized : ""; *p && j < 12; p++)
		if (isalnum((unsigned char)*p))
			base[j++] = (char)toupper((unsigned char)*p);
	base[j] = '\0';
	if (j == 0)
		snprintf(base, sizeof base, "EMPLOYER");
	int w = snprintf(out, n, "%s%s%04u", CRM_USERNAME_PREFIX, base, suffix % 10000);
	return w > 0 && (size_t)w < n ? 0 : -1;
}

int crm_has_mkt_prefix(const char *username)
{
	return username && strncmp(username, CRM_USERNAME_PREFIX, 3) == 0 && username[3] != '\0';
}

int crm_drop_mkt_prefix(const char *username, char *out, size_t n)
{
	const char *rest = crm_has_mkt_prefix(username) ? username + 3 : username;
	int w;

	if (rest == NULL)
		return -1;
	w = snprintf(out, n, "%s", rest);
	return w >= 0 && (size_t)w < n ? 0 : -1;
}

int crm_valid_username(const char *s)
{
	size_t len = s ? strlen(s) : 0;

	if (len < 4 || len > CRM_USERNAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return -1;
	return 0;
}

/* ---- field rules for employers, contacts and locations -------------------- */

static int v_zip(const char *s) { return crm_valid_zip(s, NULL); }
static int v_edd(const char *s) { return crm_valid_edd_account(s, NULL); }
static int v_status(const char *s) { return strcmp(s, "active") == 0 || strcmp(s, "inactive") == 0 ? 0 : -1; }
static int v_kind(const char *s) { return strcmp(s, "primary") == 0 || strcmp(s, "secondary") == 0 ? 0 : -1; }

const crm_field crm_employer_fields[] = {
	{"company_name", CRM_NAME_MAX, NULL, NULL, 0},
	{"edd_account_number", 20, v_edd, "EDD Account Number must be 7 or 8 digits (e.g. 123-4567-8)", 0},
	{"zip", 10, v_zip, "ZIP code must be 5 digits or ZIP+4 (12345-6789)", 0},
	{"street", CRM_STREET_MAX, NULL, NULL, 0},
	{"city", CRM_CITY_MAX, NULL, NULL, 0},
	{"state", 2, crm_valid_state, "state must be two letters (e.g. CA)", 1},
	{"mailing_street", CRM_STREET_MAX, NULL, NULL, 0},
	{"mailing_city", CRM_CITY_MAX, NULL, NULL, 0},
	{"mailing_state", 2, crm_valid_state, "mailing state must be two letters (e.g. CA)", 1},
	{"mailing_zip", 10, v_zip, "mailing ZIP code must be 5 digits or ZIP+4", 0},
	{"phone", CRM_PHONE_MAX, crm_valid_phone, "phone number must have 10 to 15 digits", 0},
	{"email", CRM_EMAIL_MAX, crm_valid_email, "email address is not valid", 0},
	{"website", CRM_URL_MAX, crm_valid_url, "web address is not valid (e.g. www.example.com)", 0},
	{"industry", 6, crm_valid_naics, "industry must be a NAICS code of 2 to 6 digits", 0},
	{"pe_organization", CRM_NAME_MAX, NULL, NULL, 0},
	{"lead_owner_id", 64, NULL, NULL, 0},
	{"status", 8, v_status, "status must be active or inactive", 0},
	{"username", CRM_USERNAME_MAX, crm_valid_username,
	 "user name must be 4 to 40 letters, digits, '.', '_' or '-'", 0},
};

const crm_field crm_contact_fields[] = {
	{"kind", 10, v_kind, "kind must be primary or secondary", 0},
	{"name", 120, NULL, NULL, 0},
	{"title", CRM_TITLE_MAX, NULL, NULL, 0},
	{"phone", CRM_PHONE_MAX, crm_valid_phone, "phone number must have 10 to 15 digits", 0},
	{"email", CRM_EMAIL_MAX, crm_valid_email, "email address is not valid", 0},
	{"status", 8, v_status, "status must be active or inactive", 0},
};

const crm_field crm_location_fields[] = {
	{"name", CRM_NAME_MAX, NULL, NULL, 0},
	{"street", CRM_STREET_MAX, NULL, NULL, 0},
	{"city", CRM_CITY_MAX, NULL, NULL, 0},
	{"state", 2, crm_valid_state, "state must be two letters (e.g. CA)", 1},
	{"zip", 10, v_zip, "ZIP code must be 5 digits or ZIP+4 (12345-6789)", 0},
	{"phone", CRM_PHONE_MAX, crm_valid_phone, "phone number must have 10 to 15 digits", 0},
	{"status", 8, v_status, "status must be active or inactive", 0},
};

const crm_field *crm_fields_check(const cJSON *row, const crm_field *spec, int nf)
{
	for (int i = 0; i < nf; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, spec[i].name);

		if (v == NULL || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsString(v) || !json_text_within(row, spec[i].name, spec[i].max))
			return &spec[i];
		for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++)
			if (*p < 0x20 && *p != '\t' && *p != '\n')
				return &spec[i];
		if (spec[i].valid && spec[i].valid(v->valuestring) != 0)
			return &spec[i];
	}
	return NULL;
}

/* ---- conversion --------------------------------------------------------------- */

static int blank(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

int crm_recruiting_kept_check(const crm_conversion *c, crm_fault out[CRM_KEPT_FIELDS])
{
	int k = 0;

#define FAULT(f, m)                       \
	do {                              \
		out[k].field = (f);       \
		out[k++].msg = (m);       \
	} while (0)
	if (blank(c->company_name))
		FAULT("company_name", "company name is required");
	if (blank(c->edd_account_number))
		FAULT("edd_account_number", "the EDD Account Number is required");
	else if (crm_valid_edd_account(c->edd_account_number, NULL) != 0)
		FAULT("edd_account_number", "EDD Account Number must be 7 or 8 digits (e.g. 123-4567-8)");
	if (blank(c->zip) || crm_valid_zip(c->zip, NULL) != 0)
		FAULT("zip", "a valid ZIP code is required");
	if (blank(c->street))
		FAULT("street", "street address is required");
	if (blank(c->city))
		FAULT("city", "city is required");
	if (crm_valid_state(c->state) != 0)
		FAULT("state", "state is required (two letters, e.g. CA)");
	if (blank(c->phone) || crm_valid_phone(c->phone) != 0)
		FAULT("phone", "a valid company phone number is required");
	if (blank(c->industry) || crm_valid_naics(c->industry) != 0)
		FAULT("industry", "an industry (NAICS) code is required");
#undef FAULT
	return k;
}

const char *crm_conversion_check(const crm_conversion *c, char *msg, size_t n)
{
	crm_fault f[CRM_KEPT_FIELDS];

#define FAIL(f, ...)                              \
	do {                                      \
		snprintf(msg, n, __VA_ARGS__);    \
		return f;                         \
	} while (0)
	if (c->account_type == NULL || strcmp(c->account_type, CRM_LEAD) != 0)
		FAIL("account_type", "only a marketing lead can be converted to a recruiting employer");
	if (c->status && strcmp(c->status, "active") != 0)
		FAIL("status", "an inactive employer cannot be converted");
	/* What the recruiting employer will keep, then its primary contact. */
	if (crm_recruiting_kept_check(c, f) > 0)
		FAIL(f[0].field, "%s", f[0].msg);
	if (c->primary_contacts < 1)
		FAIL("contacts", "a primary contact is required");
#undef FAIL
	return NULL;
}

int64_t crm_vetting_due(int64_t started_ms)
{
	return started_ms + (int64_t)CRM_VETTING_HOURS * 3600 * 1000;
}

const char *crm_vetting_check(const char *account_type, const char *vetting_status,
			      const char *result, int *conflict, char *msg, size_t n)
{
	*conflict = 0;
	if (result == NULL || (strcmp(result, "approved") != 0 && strcmp(result, "locked") != 0)) {
		snprintf(msg, n, "result must be approved or locked");
		return "result";
	}
	*conflict = 1;
	if (account_type == NULL || strcmp(account_type, CRM_RECRUITING) != 0) {
		snprintf(msg, n, "only a recruiting employer is vetted (convert the lead first)");
		return "account_type";
	}
	if (vetting_status == NULL) {
		snprintf(msg, n, "vetting has not started");
		return "vetting_status";
	}
	if (strcmp(vetting_status, result) == 0) {
		snprintf(msg, n, "the employer is already %s", result);
		return "vetting_status";
	}
	if (strcmp(vetting_status, "pending") != 0 && strcmp(vetting_status, "approved") != 0 &&
	    strcmp(vetting_status, "locked") != 0) {
		snprintf(msg, n, "vetting is in an unknown state");
		return "vetting_status";
	}
	*conflict = 0;
	return NULL;
}

const char *crm_vetter_check(const char *actor, const char *converted_by, int has_vetting_priv,
			     char *msg, size_t n)
{
	if (!has_vetting_priv) {
		snprintf(msg, n, "only WSB staff with the vetting privilege record a vetting result");
		return msg;
	}
	if (actor && converted_by && strcmp(actor, converted_by) == 0) {
		snprintf(msg, n, "the staff member who converted the lead cannot vet it");
		return msg;
	}
	return NULL;
}

int crm_is_locked(const char *vetting_status)
{
	return vetting_status != NULL && strcmp(vetting_status, "locked") == 0;
}

/* ---- services ------------------------------------------------------------------ */

const char *crm_code_selectable(int system_generated, const char *status)
{
	if (system_generated)
		return "is entered by the system and cannot be chosen";
	if (status == NULL || strcmp(status, "active") != 0)
		return "is retired and cannot be chosen for a new service";
	return NULL;
}

static const char *const completion_codes[] = {"successful", "unsuccessful", "cancelled", NULL};

int crm_valid_completion_code(const char *s)
{
	for (int i = 0; s && completion_codes[i]; i++)
		if (strcmp(s, completion_codes[i]) == 0)
			return 0;
	return -1;
}

const char *crm_service_check(const char *start, const char *end, const char *completion,
			      const char *today, char *msg, size_t n)
{
	if (start == NULL || json_valid_date(start) != 0) {
		snprintf(msg, n, "start date is required (YYYY-MM-DD)");
		return "start_date";
	}
	if (today && strcmp(start, today) > 0) {
		snprintf(msg, n, "start date cannot be in the future");
		return "start_date";
	}
	if (end) {
		if (json_valid_date(end) != 0) {
			snprintf(msg, n, "actual end date must be a date (YYYY-MM-DD)");
			return "end_date";
		}
		if (strcmp(end, start) < 0) {
			snprintf(msg, n, "actual end date cannot be before the start date");
			return "end_date";
		}
		if (today && strcmp(end, today) > 0) {
			snprintf(msg, n, "actual end date cannot be in the future");
			return "end_date";
		}
	}
	if (completion) {
		if (crm_valid_completion_code(completion) != 0) {
			snprintf(msg, n, "completion code must be successful, unsuccessful or cancelled");
			return "completion_code";
		}
		if (end == NULL) {
			snprintf(msg, n, "a completion code needs an actual end date");
			return "end_date";
		}
	}
	return NULL;
}

/* ---- attachments ------------------------------------------------------------------ */

const char *crm_attach_check(const char *declared, const void *data, size_t len,
			     upload_type *type, int *status, char *msg, size_t n)
{
	char kinds[160];
	upload_type t;

	*type = UPLOAD_UNKNOWN;
	upload_describe(CRM_ATTACH_TYPES, kinds, sizeof kinds);
	if (declared && !(CRM_ATTACH_TYPES & (unsigned)upload_type_of_mime(declared))) {
		*status = 415;
		snprintf(msg, n, "this kind of file cannot be attached: attach a %s file", kinds);
		return "content_type";
	}
	if (len == 0 || data == NULL) {
		*status = 400;
		snprintf(msg, n, "the file is empty");
		return "file";
	}
	if (len > CRM_ATTACH_MAX) {
		*status = 413;
		snprintf(msg, n, "the file is larger than %d MiB", CRM_ATTACH_MAX / (1024 * 1024));
		return "file";
	}
	t = upload_sniff(data, len);
	if (t == UPLOAD_UNKNOWN || !(CRM_ATTACH_TYPES & (unsigned)t) ||
	    (declared && upload_type_of_mime(declared) != t)) {
		*status = 415;
		if (declared && t != UPLOAD_UNKNOWN && (CRM_ATTACH_TYPES & (unsigned)t))
			snprintf(msg, n, "the file's content does not match its type %s",
				 upload_mime(upload_type_of_mime(declared)));
		else
			snprintf(msg, n, "the file's content is not a %s file", kinds);
		return "file";
	}
	*type = t;
	return NULL;
}

/* ---- work items ------------------------------------------------------------------ */

int crm_valid_wi_status(const char *s)
{
	return s && (strcmp(s, CRM_WI_NEW) == 0 || strcmp(s, CRM_WI_IN_PROGRESS) == 0 ||
		     strcmp(s, CRM_WI_CLOSED) == 0)
		       ? 0
		       : -1;
}

int crm_wi_transition(const char *from, const char *to)
{
	if (crm_valid_wi_status(from) != 0 || crm_valid_wi_status(to) != 0)
		return -1;
	if (strcmp(from, to) == 0)
		return 0;
	if (strcmp(from, CRM_WI_CLOSED) == 0)
		return -1;
	return 0;
}

int crm_can_assign(int exists, int active, int crm_work_group, char *msg, size_t n)
{
	if (!exists) {
		snprintf(msg, n, "no such staff member");
		return -1;
	}
	if (!active) {
		snprintf(msg, n, "this staff member's account is not active");
		return -1;
	}
	if (!crm_work_group) {
		snprintf(msg, n, "work items can be assigned only to members of the CRM work group");
		return -1;
	}
	return 0;
}

int crm_wi_may_work(const char *user_id, const char *assignee_id, const char *created_by)
{
	if (user_id == NULL)
		return 0;
	return (assignee_id && strcmp(user_id, assignee_id) == 0) ||
	       (created_by && strcmp(user_id, created_by) == 0);
}

/* ---- hub checks -------------------------------------------------------------------- */

static const char *jstr(const cJSON *row, const char *k)
{
	return json_str(row, k);
}

int crm_flag_duplicates(sqlite3 *db, const char *employer_id, const char *hlc, int64_t now_ms,
			int earlier_only)
{
	/* Same normalized name and ZIP, the same user name, or the same EDD
	 * Account Number (the employer's tax account: a conversion sets it),
	 * other employer, not already flagged for this pair (in either
	 * direction); with earlier_only, an employer stored before this one (a
	 * smaller rowid: employers are never deleted).  One by one, every
	 * other employer is stored before a new one is checked; the hub's
	 * grouped apply stores the leads of a push before it checks the first
	 * (sync/apply_batch.c), and the flag must still name the later one as
	 * employer_id. */
	int added = db_insert_each(
		db,
		"SELECT e.id, o.id, CASE WHEN o.username = e.username THEN 'username'"
		"  WHEN o.edd_account_number = e.edd_account_number THEN 'edd_account' ELSE 'name_zip' END,"
		" e.normalized_name, e.zip5, ?2, ?3"
		" FROM employers e JOIN employers o ON o.id <> e.id AND o.status = 'active'"
		"  AND ((o.normalized_name = e.normalized_name AND o.zip5 = e.zip5)"
		"   OR o.username = e.username OR o.edd_account_number = e.edd_account_number)"
		" WHERE e.id = ?1 AND e.status = 'active' AND e.duplicate_of IS NULL"
		"  AND o.duplicate_of IS NULL AND (?4 = 0 OR o.rowid < e.rowid)"
		"  AND NOT EXISTS (SELECT 1 FROM crm_duplicate_flags f"
		"  WHERE (f.employer_id = e.id AND f.other_employer_id = o.id)"
		"     OR (f.employer_id = o.id AND f.other_employer_id = e.id))",
		"INSERT INTO crm_duplicate_flags(id, employer_id, other_employer_id, reason,"
		" normalized_name, zip5, detected_at, status, updated_hlc)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8)",
		"tIti", employer_id, now_ms, hlc ? hlc : "", earlier_only);

	if (added > 0)
		log_info("possible duplicate employer %s: %d pair(s) flagged for review", employer_id,
			 added);
	return added;
}

/* 0 when every column of row that spec rules keeps its rule
 * (crm_fields_check); -1 with the first that does not named in reason. */
static int fields_refused(const cJSON *row, const char *tbl, const crm_field *spec, int nf,
			  char *reason, size_t n)
{
	const crm_field *f = crm_fields_check(row, spec, nf);

	if (f == NULL)
		return 0;
	if (f->valid && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(row, f->name)) &&
	    json_text_within(row, f->name, f->max))
		REFUSE("%s: %s: %s", tbl, f->name, f->msg);
	REFUSE("%s: %s must be text of at most %zu characters, without control characters", tbl,
	       f->name, f->max);
}

static int check_employer(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	const char *type = jstr(row, "account_type"), *name = jstr(row, "company_name");
	const char *norm = jstr(row, "normalized_name"), *zip = jstr(row, "zip");
	const char *edd = jstr(row, "edd_account_number"), *id = jstr(row, "id");
	char want[CRM_NORM_MAX], z5[6];
	int rc;

	if (crm_valid_account_type(type) != 0)
		REFUSE("employers: account_type must be lead or recruiting");
	if ((rc = fields_refused(row, "employers", crm_employer_fields, CRM_NEF, reason, n)) != 0)
		return rc;
	/* Every employer is made a marketing lead; a recruiting employer is a
	 * converted one (an update, which the hub's trust check weighs). */
	if (op == SQLITE_INSERT &&
	    (strcmp(type, CRM_LEAD) != 0 || jstr(row, "created_as") == NULL ||
	     strcmp(jstr(row, "created_as"), CRM_LEAD) != 0 || jstr(row, "converted_by") != NULL ||
	     jstr(row, "vetting_status") != NULL))
		REFUSE("employers: an employer is made a marketing lead (a recruiting employer is a"
		       " converted lead)");
	if (jstr(row, "lead_owner_id")) {
		int e = db_exists(db, "SELECT 1 FROM staff WHERE id=?", jstr(row, "lead_owner_id"));

		if (e < 0)
			CANNOT_CHECK("employers: cannot read staff");
		if (e == 0)
			REFUSE("employers: lead_owner_id: no such staff member");
	}
	if (name == NULL || crm_normalize_name(name, want, sizeof want) != 0)
		REFUSE("employers: company_name is missing or has no letters");
	if (norm == NULL || strcmp(norm, want) != 0)
		REFUSE("employers: normalized_name does not match company_name");
	if (zip == NULL || crm_valid_zip(zip, z5) != 0)
		REFUSE("employers: zip is not a valid ZIP code");
	if (jstr(row, "zip5") == NULL || strcmp(jstr(row, "zip5"), z5) != 0)
		REFUSE("employers: zip5 does not match zip");
	if (edd && crm_valid_edd_account(edd, NULL) != 0)
		REFUSE("employers: edd_account_number is not 7 or 8 digits");
	if (strcmp(type, CRM_RECRUITING) == 0 && edd == NULL)
		REFUSE("employers: a recruiting employer needs an EDD Account Number");
	if (jstr(row, "status") == NULL ||
	    (strcmp(jstr(row, "status"), "active") != 0 && strcmp(jstr(row, "status"), "inactive") != 0))
		REFUSE("employers: status must be active or inactive");
	if (jstr(row, "username") == NULL || jstr(row, "username")[0] == '\0')
		REFUSE("employers: username is required");
	if (jstr(row, "vetting_status") && strcmp(jstr(row, "vetting_status"), "pending") != 0 &&
	    strcmp(jstr(row, "vetting_status"), "approved") != 0 &&
	    strcmp(jstr(row, "vetting_status"), "locked") != 0)
		REFUSE("employers: vetting_status must be pending, approved or locked");
	/* Vetting is a recruiting employer's (a lead is converted first). */
	if (strcmp(type, CRM_LEAD) == 0 && jstr(row, "vetting_status") &&
	    strcmp(jstr(row, "vetting_status"), "pending") != 0)
		REFUSE("employers: a marketing lead is not vetted (convert it first)");
	/* Who recorded a vetting result, when it is recorded: a vetter who left
	 * the vetting group since does not hold up the employer's other edits. */
	if ((op == SQLITE_INSERT || model_change_sets("vetting_status") ||
	     model_change_sets("vetted_by") || model_change_sets("vetting_reason")) &&
	    (rc = crm__hub_check_vetting(db, row, reason, n)) != 0)
		return rc;
	if (strcmp(type, CRM_LEAD) == 0 && !crm_has_mkt_prefix(jstr(row, "username")))
		REFUSE("employers: a marketing lead's user name keeps the MKT prefix until conversion");
	if (strcmp(type, CRM_RECRUITING) == 0) {
		crm_conversion kept = {type, jstr(row, "status"), name, edd, jstr(row, "street"),
				       jstr(row, "city"), jstr(row, "state"), zip, jstr(row, "phone"),
				       jstr(row, "industry"), 0};
		crm_fault f[CRM_KEPT_FIELDS];
		char list[160] = "";
		int nf = crm_recruiting_kept_check(&kept, f);
		for (int i = 0; i < nf; i++)
			snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
				 f[i].field);
		if (nf > 0)
			REFUSE("employers: a recruiting employer keeps what its conversion required"
			       " (missing or not valid: %s)", list);
	}
	if (jstr(row, "duplicate_of") && id) {
		/* Two offices, offline, each marking the pair's other employer
		 * as the one to keep: both would end inactive.  The later mark
		 * is held for review instead. */
		const char *other = jstr(row, "duplicate_of");
		char back[64] = "";

		if (strcmp(other, id) == 0)
			REFUSE("employers: an employer cannot be a duplicate of itself");
		rc = db_text(db, "SELECT coalesce(duplicate_of, '') FROM employers WHERE id=?", other,
			     back, sizeof back);
		if (rc < 0)
			CANNOT_CHECK("employers: cannot read the employer it duplicates");
		if (rc > 0)
			REFUSE("employers: duplicate_of: no such employer");
		if (strcmp(back, id) == 0)
			REFUSE("employers: marked as a duplicate of %.40s, which is already marked as a"
			       " duplicate of this one (one of the two must stay)", other);
	}
	if (op != SQLITE_DELETE && id) {
		char hlc[64];
		const char *h = jstr(row, "updated_hlc");
		snprintf(hlc, sizeof hlc, "%s", h ? h : "");
		if (crm_flag_duplicates(db, id, hlc, (int64_t)time(NULL) * 1000, op == SQLITE_INSERT) < 0)
			CANNOT_CHECK("employers: duplicate check failed");
	}
	return 0;
}

int crm_employer_exists(sqlite3 *db, const char *id)
{
	return db_exists(db, "SELECT 1 FROM employers WHERE id=?", id);
}

/* A row of tbl inserted names an employer the hub has (a node pushes in
 * outbox order and the employers table comes first in a changeset, so a
 * lead created in the same write is there already).  Only inserts: the
 * columns an update sets are not known here, and an update of another
 * field of an older row, from before the hub checked this, must go on; an
 * update that moves a row to another employer is checked by the hub's
 * trust check (hub/acct_apply.c), which knows them.  0, -1 refused,
 * MODEL_CHECK_AGAIN. */
static int need_employer(sqlite3 *db, const char *tbl, int op, const char *emp, char *reason,
			 size_t n)
{
	int e;

	if (op != SQLITE_INSERT)
		return 0;
	if (emp == NULL || emp[0] == '\0')
		REFUSE("%s: employer_id is required", tbl);
	if ((e = crm_employer_exists(db, emp)) < 0)
		CANNOT_CHECK("%s: cannot read employers", tbl);
	if (e != 1)
		REFUSE("%s: no such employer", tbl);
	return 0;
}

/* One service or correction in words, for a conflict's reason: who at
 * which office into who, and when and what it recorded into what ("on DAY
 * voided it", "on DAY made it E10 from ...").  0, or -1 when it cannot be
 * read. */
#define WORDS_MAX MODEL_CORRECTION_WORDS
static int service_words(sqlite3 *db, const char *id, char who[WORDS_MAX], char what[WORDS_MAX])
{
	sqlite3_stmt *st = NULL;
	char day[11] = "", comp[64] = "", end[32] = "";
	int rc;

	if (db_prepare_bound(db, &st,
			     "SELECT coalesce(t.display_name, s.staff_id, 'staff unknown'),"
			     " coalesce(o.name, s.office_id, 'an office'), s.voided, s.code,"
			     " s.start_date, s.end_date, s.completion_code, s.created_at"
			     " FROM employer_services s LEFT JOIN staff t ON t.id = s.staff_id"
			     " LEFT JOIN offices o ON o.id = s.office_id WHERE s.id = ?1",
			     "t", id) != 0)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		clock_local_date((uint64_t)sqlite3_column_int64(st, 7), day);
		if (sqlite3_column_text(st, 5))
			snprintf(end, sizeof end, " to %s", (const char *)sqlite3_column_text(st, 5));
		if (sqlite3_column_text(st, 6))
			snprintf(comp, sizeof comp, ", completion %s",
				 (const char *)sqlite3_column_text(st, 6));
		snprintf(who, WORDS_MAX, "%s at %s", db_col(st, 0), db_col(st, 1));
		if (sqlite3_column_int(st, 2))
			snprintf(what, WORDS_MAX, "on %s voided it", day);
		else
			snprintf(what, WORDS_MAX, "on %s made it %s from %s%s%s", day, db_col(st, 3),
				 db_col(st, 4), end, comp);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Two offices' corrections of one service (model/crm.h, corrections.h):
 * ordered as CRM_CORRECTION_LATER orders them, by (created_at, id). */
static const model_correction_kind service_corrections = {
	"employer_services", "created_at", "service", service_words,
	"counts; the other is kept but not counted.  Acknowledge this, or enter a further"
	" correction at an office."};

static int check_service(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *code = jstr(row, "code"), *field;
	char msg[160];
	sqlite3_stmt *st;
	int found = 0, sysgen = 0, rc;

	if (code == NULL)
		REFUSE("employer_services: code is required");
	if (db_prepare(db, &st, "SELECT system_generated FROM employer_activity_codes WHERE code=?") != 0)
		CANNOT_CHECK("employer_services: cannot read the code list");
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		found = 1;
		sysgen = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		CANNOT_CHECK("employer_services: cannot read the code list");
	if (!found)
		REFUSE("employer_services: unknown activity code");
	/* Nodes never write system-generated codes; retired codes are checked
	 * on the node against the date it was entered (the list may have
	 * changed since), so only the structural rules are repeated here. */
	if (sysgen)
		REFUSE("employer_services: code is system-generated");
	{
		/* Not dated after the day it was entered (a day's slack for the
		 * office's zone), as the office's route refuses a future start. */
		const cJSON *at = cJSON_GetObjectItem(row, "created_at");
		char day[11] = "";

		if (!cJSON_IsNumber(at) || at->valuedouble <= 0)
			REFUSE("employer_services: created_at is required");
		clock_local_date((uint64_t)at->valuedouble + 24 * 3600 * 1000ULL, day);
		field = crm_service_check(jstr(row, "start_date"), jstr(row, "end_date"),
					  jstr(row, "completion_code"), day, msg, sizeof msg);
	}
	if (field)
		REFUSE("employer_services: %s: %s", field, msg);
	if (jstr(row, "projected_end_date") &&
	    (json_valid_date(jstr(row, "projected_end_date")) != 0 ||
	     strcmp(jstr(row, "projected_end_date"), jstr(row, "start_date")) < 0))
		REFUSE("employer_services: projected_end_date is a date on or after start_date");
	if (!json_text_within(row, "notes", CRM_NOTE_MAX))
		REFUSE("employer_services: notes are at most %d characters", CRM_NOTE_MAX);
	/* A correction replaces a service of the same employer. */
	if (jstr(row, "corrects_id")) {
		char emp[64] = "";

		if ((rc = db_text(db, "SELECT employer_id FROM employer_services WHERE id=?",
				  jstr(row, "corrects_id"), emp, sizeof emp)) < 0)
			CANNOT_CHECK("employer_services: cannot read services");
		if (rc > 0 || jstr(row, "employer_id") == NULL || strcmp(emp, jstr(row, "employer_id")) != 0)
			REFUSE("employer_services: the corrected service is not this employer's");
	}
	rc = need_employer(db, "employer_services", SQLITE_INSERT, jstr(row, "employer_id"), reason, n);
	if (rc == 0)
		rc = crm__hub_check_recruiting_service(db, row, reason, n);
	/* (last: a correction refused is not a conflict) */
	if (rc == 0 && jstr(row, "corrects_id"))
		rc = model_crossed_correction(db, &service_corrections, jstr(row, "id"),
					      jstr(row, "corrects_id"), reason, n);
	return rc;
}

/* The columns of a closed work item an edit may still set: the soft
 * delete, its witness and the stamp.  Every other column (a column added
 * later too) it keeps as it is: closed, it is a record of work done.  Its
 * notes are rows of their own (work_item_notes). */
static const char *const wi_closed_may[] = {"deleted", "deleted_seen", "updated_hlc"};

int crm_wi_closed_may_set(const char *col)
{
	for (size_t i = 0; i < sizeof wi_closed_may / sizeof wi_closed_may[0]; i++)
		if (strcmp(col, wi_closed_may[i]) == 0)
			return 1;
	return 0;
}

static int check_work_item(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	const char *assignee = jstr(row, "assignee_id"), *was;
	char msg[120];

	if (crm_valid_wi_status(jstr(row, "status")) != 0)
		REFUSE("work_items: status must be New, In Progress or Closed");
	/* An edit of an item the hub holds closed, made on the row as the hub
	 * holds it (the office's route refuses one; an edit that crossed the
	 * close offline never gets here: the apply holds it whole, each value
	 * a conflict, TD_FINAL_RECORD).  The edit that closes it may change
	 * other fields with it: the row was open then. */
	if (op == SQLITE_UPDATE && (was = model_change_was("status")) != NULL &&
	    strcmp(was, CRM_WI_CLOSED) == 0) {
		const cJSON *c;

		cJSON_ArrayForEach(c, row)
			if (!crm_wi_closed_may_set(c->string) && model_change_sets(c->string))
				REFUSE("work_items: a closed work item is a record of work done: its %s"
				       " is not changed", c->string);
	}
	/* (the office's routes make it New or In Progress; closing is an edit,
	 * with who and when) */
	if (op == SQLITE_INSERT && strcmp(jstr(row, "status"), "Closed") == 0)
		REFUSE("work_items: a work item is made New or In Progress, then closed");
	if (jstr(row, "description") == NULL || !json_text_within(row, "description", CRM_DESC_MAX))
		REFUSE("work_items: description is required (at most %d characters)", CRM_DESC_MAX);
	/* A category and a priority the lists hold.  The office's routes pick
	 * active ones (node_crm_work.c), but one retired at the hub
	 * (operations' console) while an office was offline is still in the
	 * office's list: its items are honest work, not to be quarantined, as
	 * an employer naming an office closed meanwhile is not. */
	{
		static const char *const refs[][2] = {{"category_id", "work_item_categories"},
						      {"priority_id", "work_item_priorities"}};
		for (int i = 0; i < 2; i++) {
			char sql[80];
			int e;

			snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE id=?", refs[i][1]);
			if ((e = db_exists(db, sql, jstr(row, refs[i][0]))) < 0)
				CANNOT_CHECK("work_items: cannot read %s", refs[i][1]);
			if (e == 0)
				REFUSE("work_items: no such %s", refs[i][0]);
		}
	}
	if (jstr(row, "due_date") && json_valid_date(jstr(row, "due_date")) != 0)
		REFUSE("work_items: due_date is not a date");
	if (jstr(row, "employer_id")) {
		int rc = need_employer(db, "work_items", op, jstr(row, "employer_id"), reason, n);
		if (rc != 0)
			return rc;
	}
	/* (an assignment, when made: an assignee who left the work group since
	 * does not hold up the item's close or its other edits) */
	if (assignee && (op == SQLITE_INSERT || model_change_sets("assignee_id"))) {
		sqlite3_stmt *st;
		int exists = 0, active = 0, wg = 0, rc;
		if (db_prepare(db, &st, "SELECT active, crm_work_group FROM staff WHERE id=?") != 0)
			CANNOT_CHECK("work_items: cannot read staff");
		sqlite3_bind_text(st, 1, assignee, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			exists = 1;
			active = sqlite3_column_int(st, 0);
			wg = sqlite3_column_int(st, 1);
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			CANNOT_CHECK("work_items: cannot read staff");
		/* A deactivation that crossed an offline assignment is not the
		 * office's fault: only refuse staff the hub has never heard of or
		 * who are outside the work group. */
		(void)active;
		if (crm_can_assign(exists, 1, wg, msg, sizeof msg) != 0)
			REFUSE("work_items: assignee: %s", msg);
	}
	return crm__hub_check_job_order_item(db, op, row, reason, n);
}

/*
 * An attachment as the hub stored it a moment ago (the row JSON has no BLOB
 * columns, so the bytes are read back): the bytes pass the same check as an
 * upload, and the name, type, size and SHA-256 the node wrote are those of
 * the bytes.  The employer must be at the hub already: a node pushes in
 * outbox order, so a lead created in the same batch was applied first.
 */
static int check_attachment(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	const char *emp = jstr(row, "employer_id"), *fname = jstr(row, "filename");
	const char *ct = jstr(row, "content_type"), *sha = jstr(row, "sha256"), *field;
	const char *dtype, *stype; /* typeof(data), typeof(size) */
	sqlite3_stmt *st = NULL;
	unsigned char dg[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1], msg[200];
	const void *data;
	upload_type t;
	int len, status, ret = -1, e;

	if (op != SQLITE_INSERT) {
		snprintf(reason, n, "employer_attachments: rows are only inserted (append-only)");
		return -1;
	}
	if (jstr(row, "id") == NULL)
		REFUSE("employer_attachments: id is required");
	if ((e = need_employer(db, "employer_attachments", SQLITE_INSERT, emp, reason, n)) != 0)
		return e;
	if (db_prepare(db, &st, "SELECT typeof(data), data, typeof(size), size, uploaded_at"
				" FROM employer_attachments WHERE id=?") != 0)
		CANNOT_CHECK("employer_attachments: cannot read the row");
	sqlite3_bind_text(st, 1, jstr(row, "id"), -1, SQLITE_STATIC);
	/* the row was just stored: not finding it is a failure of ours */
	if (sqlite3_step(st) != SQLITE_ROW || (dtype = db_col(st, 0)) == NULL ||
	    (stype = db_col(st, 2)) == NULL) {
		snprintf(reason, n, "employer_attachments: cannot read the row");
		ret = MODEL_CHECK_AGAIN;
		goto out;
	}
	if (strcmp(dtype, "blob") != 0) {
		snprintf(reason, n, "employer_attachments: data must be the file's bytes (a BLOB)");
		goto out;
	}
	data = sqlite3_column_blob(st, 1);
	len = sqlite3_column_bytes(st, 1);
	if (data == NULL && len > 0) {
		snprintf(reason, n, "employer_attachments: cannot read the row");
		ret = MODEL_CHECK_AGAIN;
		goto out;
	}
	field = crm_attach_check(NULL, data, (size_t)len, &t, &status, msg, sizeof msg);
	if (field) {
		snprintf(reason, n, "employer_attachments: %s", msg);
		goto out;
	}
	if (strcmp(stype, "integer") != 0 ||
	    sqlite3_column_int64(st, 3) != len) {
		snprintf(reason, n, "employer_attachments: size does not match the bytes");
		goto out;
	}
	if (ct == NULL || strcmp(ct, upload_mime(t)) != 0) {
		snprintf(reason, n, "employer_attachments: content_type does not match the bytes"
				    " (they are %s)", upload_mime(t));
		goto out;
	}
	if (crypto_sha256(data, (size_t)len, dg) != 0) {
		snprintf(reason, n, "employer_attachments: cannot hash the bytes");
		ret = MODEL_CHECK_AGAIN;
		goto out;
	}
	crypto_hex(dg, sizeof dg, hex);
	if (sha == NULL || strcmp(sha, hex) != 0) {
		snprintf(reason, n, "employer_attachments: sha256 does not match the bytes");
		goto out;
	}
	if (fname == NULL || !upload_filename_ok(fname, t)) {
		snprintf(reason, n, "employer_attachments: filename is not a safe file name of its type");
		goto out;
	}
	if (sqlite3_column_int64(st, 4) <= 0) {
		snprintf(reason, n, "employer_attachments: uploaded_at is required");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* A withdrawal names an attachment of the same employer. */
static int check_withdrawal(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	const char *att = jstr(row, "attachment_id"), *emp = jstr(row, "employer_id");
	const char *why = jstr(row, "reason");
	char of[128] = "";
	int rc;

	if (op != SQLITE_INSERT)
		REFUSE("employer_attachment_withdrawals: rows are only inserted (append-only)");
	if (att == NULL || emp == NULL)
		REFUSE("employer_attachment_withdrawals: attachment_id and employer_id are required");
	if (why && json_utf8_chars(why) > CRM_ATTACH_REASON_MAX)
		REFUSE("employer_attachment_withdrawals: reason is longer than %d characters",
		       CRM_ATTACH_REASON_MAX);
	if (jstr(row, "withdrawn_by") == NULL)
		REFUSE("employer_attachment_withdrawals: withdrawn_by is required");
	rc = db_text(db, "SELECT employer_id FROM employer_attachments WHERE id=?", att, of,
		     sizeof of);
	if (rc < 0)
		CANNOT_CHECK("employer_attachment_withdrawals: cannot read attachments");
	if (rc > 0)
		REFUSE("employer_attachment_withdrawals: no such attachment");
	if (strcmp(of, emp) != 0)
		REFUSE("employer_attachment_withdrawals: the attachment belongs to another employer");
	return 0;
}

int crm_hub_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			 size_t n)
{
	int rc;

	if (tbl == NULL || row == NULL)
		return 0;
	if ((rc = crm_jobs_hub_validate_row(db, tbl, op, row, reason, n)) <= 0)
		return rc;
	if (strcmp(tbl, "employers") == 0) {
		if (op == SQLITE_DELETE)
			REFUSE("employers: rows are never deleted (set status inactive)");
		return check_employer(db, op, row, reason, n);
	}
	if (op == SQLITE_DELETE && (strcmp(tbl, "work_items") == 0 ||
				    strcmp(tbl, "employer_contacts") == 0 ||
				    strcmp(tbl, "employer_locations") == 0))
		REFUSE("%s: rows are never deleted (use the status column)", tbl);
	if (strcmp(tbl, "employer_contacts") == 0) {
		const char *k = jstr(row, "kind");
		if (k == NULL || (strcmp(k, "primary") != 0 && strcmp(k, "secondary") != 0))
			REFUSE("employer_contacts: kind must be primary or secondary");
		if (jstr(row, "name") == NULL || jstr(row, "name")[0] == '\0' ||
		    !json_text_within(row, "name", CRM_TITLE_MAX) || !json_text_within(row, "title", CRM_TITLE_MAX))
			REFUSE("employer_contacts: name is required (name and title at most %d characters)",
			       CRM_TITLE_MAX);
		if ((rc = fields_refused(row, tbl, crm_contact_fields, CRM_NCF, reason, n)) != 0)
			return rc;
		return need_employer(db, tbl, op, jstr(row, "employer_id"), reason, n);
	}
	if (strcmp(tbl, "employer_locations") == 0) {
		if (jstr(row, "zip") == NULL || crm_valid_zip(jstr(row, "zip"), NULL) != 0)
			REFUSE("employer_locations: zip is not a valid ZIP code");
		if ((rc = fields_refused(row, tbl, crm_location_fields, CRM_NLF, reason, n)) != 0)
			return rc;
		return need_employer(db, tbl, op, jstr(row, "employer_id"), reason, n);
	}
	if (strcmp(tbl, "employer_services") == 0)
		return check_service(db, row, reason, n);
	if (strcmp(tbl, "work_items") == 0)
		return check_work_item(db, op, row, reason, n);
	if (strcmp(tbl, "employer_notes") == 0) {
		const char *b = jstr(row, "body");
		if (b == NULL || b[0] == '\0' || json_utf8_chars(b) > CRM_NOTE_MAX ||
		    !json_text_within(row, "subject", CRM_TITLE_MAX))
			REFUSE("employer_notes: body is required (at most %d characters; a subject at"
			       " most %d)", CRM_NOTE_MAX, CRM_TITLE_MAX);
		return need_employer(db, tbl, op, jstr(row, "employer_id"), reason, n);
	}
	if (strcmp(tbl, "work_item_notes") == 0) {
		int e;

		if (jstr(row, "body") == NULL || jstr(row, "body")[0] == '\0' ||
		    !json_text_within(row, "body", CRM_NOTE_MAX))
			REFUSE("work_item_notes: body is required (at most %d characters)", CRM_NOTE_MAX);
		if ((e = db_exists(db, "SELECT 1 FROM work_items WHERE id=?", jstr(row, "work_item_id"))) < 0)
			CANNOT_CHECK("work_item_notes: cannot read work items");
		if (e == 0)
			REFUSE("work_item_notes: no such work item");
		return 0;
	}
	if (strcmp(tbl, "employer_attachments") == 0)
		return check_attachment(db, op, row, reason, n);
	if (strcmp(tbl, "employer_attachment_withdrawals") == 0)
		return check_withdrawal(db, op, row, reason, n);
	return 0;
}
