/*
 * casework.c - case-work rules (backdating, timeliness, note cadence, soft
 * exit, follow-up, activity notes, SSN protection and the pseudo-SSN) and
 * the hub's check of replicated case rows; see casework.h.
 */
#include "model/casework.h"
#include "model/schema.h"
#include "model/case_approvals.h"
#include "model/case_forms.h"
#include "model/corrections.h"
#include "model/crm.h"
#include "model/greeter.h"
#include "model/holidays.h"
#include "model/privileges.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/json.h"
#include "lib/log.h"

#include <ctype.h>
#include <mbedtls/gcm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- backdating ------------------------------------------------------------------ */

case_backdate case_backdate_check(const char *service_date, const char *today, int *days)
{
	int32_t d;

	if (days)
		*days = 0;
	if (json_valid_date(service_date) != 0 || json_valid_date(today) != 0)
		return CASE_BD_INVALID;
	d = clock_days_between(service_date, today);
	if (days)
		*days = d;
	if (d < 0)
		return CASE_BD_FUTURE;
	if (d <= CASE_BACKDATE_FREE_DAYS)
		return CASE_BD_OK;
	if (d <= CASE_BACKDATE_MAX_DAYS)
		return CASE_BD_NEEDS_APPROVAL;
	return CASE_BD_TOO_OLD;
}

const char *case_backdate_msg(case_backdate b)
{
	switch (b) {
	case CASE_BD_OK:
		return "within 30 days";
	case CASE_BD_NEEDS_APPROVAL:
		return "dates 31 to 90 days in the past need a recorded approval (DSS Program "
		       "Manager, WDB Director and EDD)";
	case CASE_BD_TOO_OLD:
		return "data cannot be backdated more than 90 days";
	case CASE_BD_FUTURE:
		return "the date is after today";
	default:
		return "not a date (YYYY-MM-DD)";
	}
}

/* ---- timeliness ------------------------------------------------------------------ */

int case_add_business_days(const char *date, int n, char out[11])
{
	/* The state holiday calendar (model/holidays.h): a holiday is not a
	 * business day, so Thanksgiving never shortens a deadline. */
	if (json_valid_date(date) != 0 || n < 0)
		return -1;
	return add_business_days(date, n, out);
}

int case_entry_deadline(const char *service_date, char out[11])
{
	return case_add_business_days(service_date, CASE_ENTRY_BUSINESS_DAYS, out);
}

int case_note_deadline(const char *contact_date, char out[11])
{
	if (json_valid_date(contact_date) != 0)
		return -1;
	return clock_date_add(contact_date, CASE_NOTE_ENTRY_DAYS, out);
}

int case_entry_timely(const char *service_date, const char *entered_date)
{
	char dl[11];

	if (case_entry_deadline(service_date, dl) != 0 || json_valid_date(entered_date) != 0)
		return -1;
	return strcmp(entered_date, dl) <= 0;
}

int case_note_timely(const char *contact_date, const char *entered_date)
{
	char dl[11];

	if (case_note_deadline(contact_date, dl) != 0 || json_valid_date(entered_date) != 0)
		return -1;
	return strcmp(entered_date, dl) <= 0;
}

int case_note_next_due(const char *last, char out[11])
{
	if (json_valid_date(last) != 0)
		return -1;
	return clock_date_add(last, CASE_NOTE_CADENCE_DAYS, out);
}

/* ---- soft exit -------------------------------------------------------------------- */

int case_soft_exit(const char *last, const char *today, case_exit *out)
{
	int32_t d;

	memset(out, 0, sizeof *out);
	if (json_valid_date(last) != 0 || json_valid_date(today) != 0)
		return -1;
	d = clock_days_between(last, today);
	if (d < 0)
		d = 0; /* a service dated after the trusted today: clock just restarted */
	out->days_since = d;
	clock_date_add(last, CASE_SOFT_EXIT_DAYS, out->exit_date);
	if (d >= CASE_SOFT_EXIT_DAYS) {
		out->exited = 1;
		return 0;
	}
	out->days_left = CASE_SOFT_EXIT_DAYS - d;
	out->warn_level = d >= 85 ? 85 : d >= 75 ? 75 : d >= 60 ? 60 : 0;
	out->closure_prompt = out->warn_level > 0;
	return 0;
}

const char *case_code_allowed(int exited, int is_followup)
{
	if (exited && !is_followup)
		return "the case has exited: only follow-up codes may be entered";
	if (!exited && is_followup)
		return "follow-up codes are for after the case has exited";
	return NULL;
}

/* ---- follow-up -------------------------------------------------------------------- */

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int case_add_months(const char *date, int n, char out[11])
{
	int y, m, d, dim;

	if (json_valid_date(date) != 0 || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1;
	m = m - 1 + n;
	y += m >= 0 ? m / 12 : -((11 - m) / 12);
	m = ((m % 12) + 12) % 12 + 1;
	dim = days_in_month(y, m);
	if (d > dim)
		d = dim;
	if (y < 1 || y > 9999)
		return -1;
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
	return 0;
}

int case_followup_quarter(const char *exit_date, int q, char start[11], char end[11])
{
	char next[11];

	if (q < 1 || q > CASE_FOLLOWUP_QUARTERS)
		return -1;
	if (case_add_months(exit_date, 3 * (q - 1), start) != 0 ||
	    case_add_months(exit_date, 3 * q, next) != 0)
		return -1;
	return clock_date_add(next, -1, end);
}

int case_followup_quarter_of(const char *exit_date, const char *date)
{
	for (int k = 1; k <= CASE_FOLLOWUP_QUARTERS; k++) {
		char qs[11], qe[11];

		if (case_followup_quarter(exit_date, k, qs, qe) != 0)
			return 0;
		if (strcmp(date, qs) >= 0 && strcmp(date, qe) <= 0)
			return k;
	}
	return 0;
}

/* ---- case notes --------------------------------------------------------------------- */

/* 1 when code point c shows nothing: Unicode's white space (Zs, Zl, Zp and
 * NEL) and the format characters that have no glyph. */
static int invisible_cp(uint32_t c)
{
	return c == 0x85 || c == 0xA0 || c == 0x1680 || c == 0x180E ||
	       (c >= 0x2000 && c <= 0x200F) || /* spaces, ZWSP, ZWNJ, ZWJ, LRM, RLM */
	       (c >= 0x2028 && c <= 0x202F) || /* separators, embeddings, NNBSP */
	       (c >= 0x205F && c <= 0x2064) || /* MMSP, word joiner, invisible operators */
	       (c >= 0x2066 && c <= 0x206F) || /* isolates and deprecated formats */
	       c == 0x3000 || c == 0x3164 || c == 0xFEFF;
}

int case_text_visible(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		uint32_t c;
		int len;
		if (*p < 0x80) {
			if (!isspace(*p))
				return 1;
			p++;
			continue;
		}
		/* UTF-8 (cJSON's strings are): a malformed sequence counts as
		 * visible, never as blank. */
		if ((*p & 0xE0) == 0xC0) {
			c = *p & 0x1Fu;
			len = 2;
		} else if ((*p & 0xF0) == 0xE0) {
			c = *p & 0x0Fu;
			len = 3;
		} else if ((*p & 0xF8) == 0xF0) {
			c = *p & 0x07u;
			len = 4;
		} else {
			return 1;
		}
		for (int i = 1; i < len; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 1;
			c = (c << 6) | (p[i] & 0x3Fu);
		}
		if (!invisible_cp(c))
			return 1;
		p += len;
	}
	return 0;
}

int case_activity_subject(const char *code, const char *title, char *out, size_t n)
{
	int k;

	if (code == NULL || title == NULL)
		return -1;
	k = snprintf(out, n, "%s %s", code, title);
	return k < 0 || (size_t)k >= n ? -1 : 0;
}

const char *case_activity_note_check(const char *subject, const char *contact_date,
				     const char *code, const char *title, const char *start_date)
{
	char want[JSON_TEXT_BYTES(CASE_SUBJECT_MAX) + 64];

	if (subject == NULL || case_activity_subject(code, title, want, sizeof want) != 0 ||
	    strcmp(subject, want) != 0)
		return "subject";
	if (contact_date == NULL || start_date == NULL || strcmp(contact_date, start_date) != 0)
		return "contact_date";
	return NULL;
}

/* ---- SSN ------------------------------------------------------------------------------ */

int case_pseudo_ssn_prefix_ok(const char *prefix)
{
	return prefix && strlen(prefix) == 3 && prefix[0] == '9' && isdigit((unsigned char)prefix[1]) &&
	       isdigit((unsigned char)prefix[2]);
}

int case_pseudo_ssn_la(const char *prefix, const char *birth_date, char out[12])
{
	int y, m, d;

	if (!case_pseudo_ssn_prefix_ok(prefix) || json_valid_date(birth_date) != 0 ||
	    sscanf(birth_date, "%4d-%2d-%2d", &y, &m, &d) != 3)
		return -1;
	return snprintf(out, 12, "%s-%02d-%02d%02d", prefix, d, m, y % 100) == 11 ? 0 : -1;
}

int case_pseudo_ssn(const char *birth_date, char out[12])
{
	return case_pseudo_ssn_la(CASE_PSEUDO_SSN_SLO, birth_date, out);
}

int case_ssn_digits(const char *in, char digits[10])
{
	size_t k = 0, seps = 0;

	if (in == NULL)
		return -1;
	for (const char *p = in; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (k == 9)
				return -1;
			digits[k++] = *p;
		} else if ((*p == '-' || *p == ' ') && (k == 3 || k == 5) && seps < 2) {
			seps++;
		} else {
			return -1;
		}
	}
	if (k != 9)
		return -1;
	digits[9] = '\0';
	if (strncmp(digits, "000", 3) == 0 || strncmp(digits, "666", 3) == 0 ||
	    strncmp(digits + 3, "00", 2) == 0 || strcmp(digits + 5, "0000") == 0)
		return -1;
	return 0;
}

const char *case_ssn_real_check(const char *digits)
{
	if (digits == NULL || digits[0] == '9')
		return "an SSN from 900 to 999 is not a real SSN: 9xx numbers are pseudo-SSNs "
		       "(ask for a pseudo-SSN, or check the number typed)";
	return NULL;
}

void case_ssn_mask(const char *last4, char out[12])
{
	snprintf(out, 12, "***-**-%.4s", last4 && strlen(last4) == 4 ? last4 : "****");
}

#define GCM_NONCE 12
#define GCM_TAG 16

int case_ssn_protect(const unsigned char key[CASE_KEY_LEN], int epoch, const char *participant_id,
		     const char *digits, char enc[CASE_SSN_ENC_MAX + 1], char hmac[65])
{
	unsigned char buf[GCM_NONCE + 9 + GCM_TAG];
	mbedtls_gcm_context g;
	int rc, k = 0;

	if (participant_id == NULL || digits == NULL || strlen(digits) != 9 || epoch < 1 ||
	    epoch > CASE_KEY_EPOCH_MAX)
		return -1;
	if (crypto_random(buf, GCM_NONCE) != 0)
		return -1;
	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, CASE_KEY_LEN * 8);
	if (rc == 0)
		rc = mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, 9, buf, GCM_NONCE,
					       (const unsigned char *)participant_id,
					       strlen(participant_id), (const unsigned char *)digits,
					       buf + GCM_NONCE, GCM_TAG, buf + GCM_NONCE + 9);
	mbedtls_gcm_free(&g);
	if (rc != 0)
		return -1;
	if (epoch > 1) /* epoch 1 unprefixed: as stored before epochs */
		k = snprintf(enc, CASE_SSN_ENC_MAX + 1, "e%d:", epoch);
	crypto_hex(buf, sizeof buf, enc + k);
	return case_ssn_hmac(key, digits, hmac);
}

/* The hex part of an ssn_enc (after its "eN:"), its epoch into *epoch. */
static const char *ssn_enc_hex(const char *enc, int *epoch)
{
	const char *p = enc;
	int e = 0;

	*epoch = -1;
	if (enc == NULL)
		return NULL;
	if (strchr(enc, ':') == NULL) { /* hex, which may well start with an 'e' */
		*epoch = 1;
		return enc;
	}
	if (*p != 'e')
		return NULL;
	for (p++; isdigit((unsigned char)*p) && e <= CASE_KEY_EPOCH_MAX; p++)
		e = e * 10 + (*p - '0');
	if (*p != ':' || p == enc + 1 || enc[1] == '0' || e < 2 || e > CASE_KEY_EPOCH_MAX)
		return NULL;
	*epoch = e;
	return p + 1;
}

int case_ssn_epoch(const char *enc)
{
	int e;
	const char *hex = ssn_enc_hex(enc, &e);

	return hex != NULL && strlen(hex) == 2 * (GCM_NONCE + 9 + GCM_TAG) ? e : -1;
}

int case_ssn_reveal(const unsigned char key[CASE_KEY_LEN], const char *participant_id,
		    const char *enc, char digits[10])
{
	unsigned char buf[GCM_NONCE + 9 + GCM_TAG];
	mbedtls_gcm_context g;
	int rc, e;

	enc = ssn_enc_hex(enc, &e);
	if (participant_id == NULL || enc == NULL || strlen(enc) != 2 * sizeof buf ||
	    crypto_unhex(enc, buf, sizeof buf) != 0)
		return -1;
	mbedtls_gcm_init(&g);
	rc = mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, CASE_KEY_LEN * 8);
	if (rc == 0)
		rc = mbedtls_gcm_auth_decrypt(&g, 9, buf, GCM_NONCE,
					      (const unsigned char *)participant_id,
					      strlen(participant_id), buf + GCM_NONCE + 9, GCM_TAG,
					      buf + GCM_NONCE, (unsigned char *)digits);
	mbedtls_gcm_free(&g);
	if (rc != 0) {
		crypto_wipe(digits, 10);
		return -1;
	}
	digits[9] = '\0';
	return 0;
}

int case_ssn_hmac(const unsigned char key[CASE_KEY_LEN], const char *digits, char hmac[65])
{
	unsigned char mac[CRYPTO_SHA256_LEN];

	if (crypto_hmac_sha256(key, CASE_KEY_LEN, digits, strlen(digits), mac) != 0)
		return -1;
	crypto_hex(mac, sizeof mac, hmac);
	return 0;
}

static case_wrap_source wrap_source;

void case_key_set_wrap_source(case_wrap_source fn)
{
	wrap_source = fn;
}

int case_key_id(const char *local_area_id, int epoch, char *out, size_t n)
{
	int k = epoch <= 1 ? snprintf(out, n, "%s", local_area_id)
			   : snprintf(out, n, "%s:e%d", local_area_id, epoch);

	return k < 0 || (size_t)k >= n ? -1 : 0;
}

int case_key_epoch(sqlite3 *db, const char *local_area_id)
{
	if (local_area_id == NULL || local_area_id[0] == '\0')
		return 0;
	/* Epoch 1's id is the Local Area's; epoch N's is "LA:eN". */
	return (int)db_int_bound(db, -1,
				 "SELECT coalesce(max(CASE WHEN id = local_area_id THEN 1 ELSE"
				 " CAST(substr(id, length(local_area_id) + 3) AS INTEGER) END), 0)"
				 " FROM case_keys WHERE local_area_id = ?1 AND (id = ?1 OR"
				 " substr(id, 1, length(?1) + 2) = ?1 || ':e')",
				 "t", local_area_id);
}

int case_key_load_at(sqlite3 *db, const char *local_area_id, int epoch,
		     unsigned char key[CASE_KEY_LEN])
{
	char hex[CRYPTO_WRAP_LEN(CASE_KEY_LEN) + 8], aad[160], id[128];
	unsigned char w[32];
	int rc, newest;

	if (local_area_id == NULL || local_area_id[0] == '\0')
		return 1;
	if ((newest = case_key_epoch(db, local_area_id)) <= 0)
		return newest < 0 ? -1 : 1;
	if (epoch < 1 || epoch > newest || case_key_id(local_area_id, epoch, id, sizeof id) != 0)
		return 1;
	rc = db_text(db, "SELECT key_hex FROM case_keys WHERE id=?", id, hex, sizeof hex);
	if (rc != 0)
		return rc;
	if (crypto_is_wrapped(hex)) {
		/* Every epoch's row is wrapped under the newest epoch's key. */
		snprintf(aad, sizeof aad, "case_key:%s", id);
		rc = wrap_source != NULL && wrap_source(local_area_id, newest, w) == 0 &&
				     crypto_unwrap(w, aad, hex, key, CASE_KEY_LEN) == 0
			     ? 0
			     : -1;
		crypto_wipe(w, sizeof w);
	} else {
		rc = crypto_unhex(hex, key, CASE_KEY_LEN) == 0 && strlen(hex) == 2 * CASE_KEY_LEN
			     ? 0
			     : -1;
	}
	crypto_wipe(hex, sizeof hex);
	return rc;
}

int case_key_load(sqlite3 *db, const char *local_area_id, unsigned char key[CASE_KEY_LEN])
{
	int e = case_key_epoch(db, local_area_id);

	return e <= 0 ? (e < 0 ? -1 : 1) : case_key_load_at(db, local_area_id, e, key);
}

int case_ssn_protect_db(sqlite3 *db, const char *local_area_id, const char *participant_id,
			const char *digits, char enc[CASE_SSN_ENC_MAX + 1], char hmac[65])
{
	unsigned char key[CASE_KEY_LEN];
	int e = case_key_epoch(db, local_area_id), rc;

	if (e <= 0)
		return e < 0 ? -1 : 1;
	if ((rc = case_key_load_at(db, local_area_id, e, key)) == 0)
		rc = case_ssn_protect(key, e, participant_id, digits, enc, hmac);
	crypto_wipe(key, sizeof key);
	return rc;
}

int case_ssn_reveal_db(sqlite3 *db, const char *local_area_id, const char *participant_id,
		       const char *enc, char digits[10])
{
	unsigned char key[CASE_KEY_LEN];
	int e = case_ssn_epoch(enc), rc = -1;

	if (e > 0 && case_key_load_at(db, local_area_id, e, key) == 0)
		rc = case_ssn_reveal(key, participant_id, enc, digits);
	crypto_wipe(key, sizeof key);
	return rc;
}

int case_ssn_hmac_each(sqlite3 *db, const char *local_area_id, const char *digits,
		       int (*fn)(void *arg, const char *hmac), void *arg)
{
	unsigned char key[CASE_KEY_LEN];
	char mac[65];
	int e = case_key_epoch(db, local_area_id), rc = e < 0 ? -1 : 0;

	/* Until the hub has written every SSN again under the newest key
	 * (hub_keys_reencrypt), older rows keep their own epoch's hash. */
	for (; e >= 1 && rc == 0; e--) {
		if (case_key_load_at(db, local_area_id, e, key) != 0)
			continue; /* an epoch this side cannot read: none of its rows either */
		rc = case_ssn_hmac(key, digits, mac) != 0 ? -1 : fn(arg, mac);
		crypto_wipe(mac, sizeof mac);
	}
	crypto_wipe(key, sizeof key);
	return rc;
}

struct ssn_find {
	sqlite3 *sf_db;
	const char *sf_sql;
	char *sf_out;
	size_t sf_n;
};

/* case_ssn_hmac_each's fn for case_ssn_find: 1 found, 0 not, -1. */
static int ssn_find_one(void *arg, const char *mac)
{
	struct ssn_find *f = arg;
	int rc = db_text(f->sf_db, f->sf_sql, mac, f->sf_out, f->sf_n);

	return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}

int case_ssn_find(sqlite3 *db, const char *local_area_id, const char *digits, const char *sql,
		  char *out, size_t n)
{
	struct ssn_find f = {db, sql, out, n};
	int rc = case_ssn_hmac_each(db, local_area_id, digits, ssn_find_one, &f);

	return rc < 0 ? -1 : rc == 1 ? 0 : 1;
}

int case_ensure_keys(sqlite3 *db, const char *hlc, int64_t now_ms)
{
	sqlite3_stmt *st = NULL, *ins = NULL;
	int made = 0, ret = -1;

	if (db_prepare(db, &st,
		       "SELECT id FROM local_areas la WHERE NOT EXISTS"
		       " (SELECT 1 FROM case_keys k WHERE k.local_area_id = la.id)") != 0 ||
	    db_prepare(db, &ins,
		       "INSERT OR IGNORE INTO case_keys(id, local_area_id, key_hex, created_at,"
		       " updated_hlc) VALUES(?1, ?1, ?2, ?3, ?4)") != 0)
		goto out;
	while (sqlite3_step(st) == SQLITE_ROW) {
		unsigned char key[CASE_KEY_LEN];
		char hex[2 * CASE_KEY_LEN + 1];
		if (crypto_random(key, sizeof key) != 0)
			goto out;
		crypto_hex(key, sizeof key, hex);
		sqlite3_reset(ins);
		if (sqlite3_bind_value(ins, 1, sqlite3_column_value(st, 0)) != SQLITE_OK) {
			crypto_wipe(key, sizeof key);
			crypto_wipe(hex, sizeof hex);
			goto out;
		}
		sqlite3_bind_text(ins, 2, hex, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 3, now_ms);
		sqlite3_bind_text(ins, 4, hlc, -1, SQLITE_STATIC);
		crypto_wipe(key, sizeof key);
		crypto_wipe(hex, sizeof hex);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto out;
		made++;
	}
	ret = made;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(ins);
	return ret;
}

int case_skew_flag(int64_t offset_ms)
{
	return offset_ms > CASE_SKEW_WARN_MS || offset_ms < -CASE_SKEW_WARN_MS;
}

/* ---- hub checks ------------------------------------------------------------------------ */

static const char *js(const cJSON *row, const char *k)
{
	return json_str(row, k);
}

static int64_t jint(const cJSON *row, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static int nonempty(const char *s)
{
	return s && s[0];
}

/* The participant's Local Area and exit state; 1 found, 0 not, -1 error. */
static int participant_of(sqlite3 *db, const char *id, char la[64], char state[16])
{
	sqlite3_stmt *st;
	int rc;

	if (id == NULL)
		return 0;
	rc = db_row(db, &st, "SELECT local_area_id, exit_state FROM participants WHERE id=?", id);
	if (rc == 1) {
		const char *c[2];

		if (db_cols(st, c, 2) != 0) {
			rc = -1; /* out of memory */
		} else {
			snprintf(la, 64, "%s", c[0]);
			snprintf(state, 16, "%s", c[1]);
		}
		sqlite3_finalize(st);
	}
	return rc;
}

/*
 * The trusted entry time must agree with the entry date the node claims
 * (within a day either way: the date is the office's, the time UTC) and
 * must not lie in the hub's future, so a node cannot dodge the backdating
 * limits by claiming an earlier entry date.
 */
static int entry_time_ok(const char *entered_date, int64_t entered_at)
{
	char d[11];
	time_t t = (time_t)(entered_at / 1000);
	struct tm tm;
	int32_t diff;

	if (entered_at <= 0 || gmtime_r(&t, &tm) == NULL)
		return 0;
	if (snprintf(d, sizeof d, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday) != 10)
		return 0;
	diff = clock_days_between(entered_date, d);
	if (diff == INT32_MIN || diff < -1 || diff > 1)
		return 0;
	return entered_at <= (int64_t)time(NULL) * 1000 + 24 * 3600 * 1000;
}

/* Rows naming a participant: it exists at the hub in the same Local Area
 * (one refusal for both, CASE_NOT_OURS). */
static int check_owner(sqlite3 *db, const char *tbl, const cJSON *row, char *reason, size_t n)
{
	char la[64] = "", state[16] = "";
	int rc = participant_of(db, js(row, "participant_id"), la, state);

	if (rc < 0)
		CANNOT_CHECK("%s: cannot read participants", tbl);
	if (rc == 0 || js(row, "local_area_id") == NULL || strcmp(la, js(row, "local_area_id")) != 0)
		REFUSE("%s: " CASE_NOT_OURS, tbl);
	if (!nonempty(js(row, "office_id")))
		REFUSE("%s: office_id is required", tbl);
	return 0;
}

/* 1 when date lies before the participant's registration date (no entry
 * may: SLO policy), else 0; -1 when it could not be read. */
static int before_registration(sqlite3 *db, const char *pid, const char *date)
{
	char reg[16] = "";
	int rc = db_text(db, "SELECT registered_date FROM participants WHERE id=?", pid, reg,
			 sizeof reg);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return strcmp(date, reg) < 0;
}

/* Inside a check: refuse an entry dated (what) before the registration. */
#define NOT_BEFORE_REGISTRATION(tbl, what, date)                                        \
	do {                                                                            \
		int br_ = before_registration(db, js(row, "participant_id"), (date));   \
		if (br_ < 0)                                                            \
			CANNOT_CHECK("%s: cannot read the participant", (tbl));         \
		if (br_)                                                                \
			REFUSE("%s: %s is before the participant's registration", (tbl), \
			       (what));                                                 \
	} while (0)

static int flag_duplicates(sqlite3 *db, const char *participant_id, const char *hlc,
			   int64_t now_ms, int every_key);

/* 1 when the change under check may set a column the duplicate check of
 * a participant reads (model_change_may_set: outside a push, every one). */
static int ssn_set(void)
{
	static const char *const cols[] = {"ssn_enc", "ssn_hmac", "ssn_kind", "exit_state",
					   "local_area_id"};

	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
		if (model_change_may_set(cols[i]))
			return 1;
	return 0;
}

static int check_participant(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	const char *kind = js(row, "ssn_kind"), *state = js(row, "exit_state");
	sqlite3_stmt *st;
	int exits = 0, rc;

	if (op == SQLITE_DELETE)
		REFUSE("participants: rows are never deleted");
	if (!nonempty(js(row, "first_name")) || !nonempty(js(row, "last_name")))
		REFUSE("participants: first and last name are required");
	if (json_valid_date(js(row, "birth_date")) != 0)
		REFUSE("participants: birth_date is not a date");
	if (json_valid_date(js(row, "registered_date")) != 0)
		REFUSE("participants: registered_date is not a date");
	if (kind == NULL || (strcmp(kind, "none") != 0 && strcmp(kind, "real") != 0 &&
			     strcmp(kind, "pseudo") != 0))
		REFUSE("participants: ssn_kind must be none, real or pseudo");
	if (strcmp(kind, "none") == 0) {
		if (js(row, "ssn_enc") || js(row, "ssn_hmac") || js(row, "ssn_last4"))
			REFUSE("participants: SSN columns without ssn_kind");
	} else {
		const char *l4 = js(row, "ssn_last4"), *enc = js(row, "ssn_enc");
		if (case_ssn_epoch(enc) < 0 || js(row, "ssn_hmac") == NULL ||
		    strlen(js(row, "ssn_hmac")) != 64 || l4 == NULL || strlen(l4) != 4)
			REFUSE("participants: the SSN must be stored protected (ssn_enc, ssn_hmac, ssn_last4)");
		for (const char *p = l4; *p; p++)
			if (!isdigit((unsigned char)*p))
				REFUSE("participants: ssn_last4 must be four digits");
	}
	if (state == NULL || (strcmp(state, "active") != 0 && strcmp(state, "exited") != 0))
		REFUSE("participants: exit_state must be active or exited");
	if (strcmp(state, "exited") == 0 && json_valid_date(js(row, "exit_date")) != 0)
		REFUSE("participants: an exited case needs its exit_date");
	if (js(row, "closure_form_date") && json_valid_date(js(row, "closure_form_date")) != 0)
		REFUSE("participants: closure_form_date is not a date");
	if (strcmp(state, "active") == 0) {
		if (db_prepare(db, &st, "SELECT count(*) FROM participant_exits WHERE participant_id=?") != 0)
			CANNOT_CHECK("participants: cannot read exits");
		sqlite3_bind_text(st, 1, js(row, "id"), -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			exits = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			CANNOT_CHECK("participants: cannot read exits");
		if (exits > 0)
			REFUSE("participants: the case has exited; an exit cannot be reversed");
	}
	if (strcmp(kind, "real") == 0 &&
	    flag_duplicates(db, js(row, "id"), js(row, "updated_hlc"), (int64_t)time(NULL) * 1000,
			    op == SQLITE_INSERT || ssn_set()) < 0)
		CANNOT_CHECK("participants: duplicate check failed");
	return 0;
}

/* case_ssn_hmac_each's fn: each hash into the JSON array being written. */
static int hash_append(void *arg, const char *mac)
{
	sqlite3_str_appendf(arg, ",\"%s\"", mac);
	return 0;
}

/* An active participant's real SSN's hashes as a JSON array (sqlite3_free):
 * its stored hash, and when every_key is set and its Local Area has had
 * more than one key, its hash under each key held here (the SSN read with
 * its own epoch's key).  NULL when it has none (*err 0) or on an error
 * (*err 1). */
static char *ssn_hashes(sqlite3 *db, const char *participant_id, int every_key, int *err)
{
	sqlite3_stmt *st = NULL;
	sqlite3_str *out;
	const char *la, *enc, *mac;
	char digits[10] = "";
	int rc;

	rc = db_row(db, &st, "SELECT local_area_id, ssn_enc, ssn_hmac FROM participants"
			     " WHERE id=? AND ssn_kind='real' AND exit_state='active'"
			     "  AND ssn_hmac IS NOT NULL",
		    participant_id);
	*err = rc < 0;
	if (rc != DB_FOUND)
		return NULL;
	la = db_col(st, 0);
	enc = db_col(st, 1);
	mac = db_col(st, 2);
	out = sqlite3_str_new(db);
	rc = la == NULL || mac == NULL ? -1 : 0; /* (out of memory) */
	sqlite3_str_appendf(out, "[\"%s\"", mac ? mac : "");
	if (rc == 0 && every_key && enc && case_key_epoch(db, la) >= 2 &&
	    case_ssn_reveal_db(db, la, participant_id, enc, digits) == 0)
		rc = case_ssn_hmac_each(db, la, digits, hash_append, out);
	sqlite3_str_appendall(out, "]");
	sqlite3_finalize(st);
	crypto_wipe(digits, sizeof digits);
	if (rc < 0 || sqlite3_str_errcode(out) != SQLITE_OK) {
		sqlite3_free(sqlite3_str_finish(out));
		*err = 1;
		return NULL;
	}
	return sqlite3_str_finish(out);
}

/* case_flag_duplicates; every_key 0 compares the stored hash alone: the
 * participant's SSN is as it was when it was compared under every key
 * (its insert, the update that set it, the hub's re-encryption of it),
 * and each participant stored since with the same SSN was compared with
 * it then, from its side, under every key (so no decrypt for an update of
 * a participant's other columns). */
static int flag_duplicates(sqlite3 *db, const char *participant_id, const char *hlc,
			   int64_t now_ms, int every_key)
{
	char *hashes;
	int added, err;

	/* Another active participant of the Local Area with the same real SSN
	 * (by its keyed hash; after a rotation, by its hash under each key the
	 * hub holds: a row not yet written again under the newest key keeps
	 * its own epoch's), the pair not flagged yet in either direction.  A
	 * pseudo-SSN is the birth date's, shared by design. */
	if (participant_id == NULL)
		return 0;
	if ((hashes = ssn_hashes(db, participant_id, every_key, &err)) == NULL)
		return err ? -1 : 0;
	added = db_insert_each(
		db,
		"SELECT p.local_area_id, p.id, o.id, ?2, ?3 FROM participants p JOIN participants o"
		" ON o.local_area_id = p.local_area_id AND o.id <> p.id"
		"  AND o.ssn_hmac IN (SELECT value FROM json_each(?4))"
		"  AND o.ssn_kind = 'real' AND o.exit_state = 'active'"
		" WHERE p.id = ?1 AND p.ssn_kind = 'real' AND p.exit_state = 'active'"
		"  AND NOT EXISTS (SELECT 1 FROM participant_duplicate_flags f"
		"   WHERE (f.participant_id = p.id AND f.other_participant_id = o.id)"
		"      OR (f.participant_id = o.id AND f.other_participant_id = p.id))",
		"INSERT INTO participant_duplicate_flags(id, local_area_id, participant_id,"
		" other_participant_id, reason, detected_at, updated_hlc)"
		" VALUES(?1, ?2, ?3, ?4, 'ssn', ?5, ?6)",
		"tItt", participant_id, now_ms, hlc ? hlc : "", hashes);
	sqlite3_free(hashes);
	if (added > 0)
		log_info("possible duplicate participant %s: %d pair(s) flagged for review (same SSN)",
			 participant_id, added);
	return added;
}

int case_flag_duplicates(sqlite3 *db, const char *participant_id, const char *hlc, int64_t now_ms)
{
	return flag_duplicates(db, participant_id, hlc, now_ms, 1);
}

/* Code row: 1 found (title, restarts), 0 unknown, -1 error. */
static int code_row(sqlite3 *db, const char *list, const char *code, char *title, size_t tn)
{
	sqlite3_stmt *st;
	int rc;

	if (code == NULL)
		return 0;
	rc = db_row(db, &st,
		    strcmp(list, "followup") == 0
			    ? "SELECT title FROM followup_codes WHERE code=?"
			    : "SELECT title FROM participant_activity_codes WHERE code=?",
		    code);
	if (rc == 1) {
		const char *t = db_col(st, 0);

		if (t == NULL)
			rc = -1; /* out of memory */
		else if (title)
			snprintf(title, tn, "%s", t);
		sqlite3_finalize(st);
	}
	return rc;
}

/* One activity or correction in words, for a conflict's reason: who at
 * which office into who, and what it recorded into what ("on DAY voided
 * it", "on DAY recorded C01 from ... to ..., successful"): no participant's
 * name, the conflict is listed before it is read.  0, or -1. */
static int activity_words(sqlite3 *db, const char *id, char who[MODEL_CORRECTION_WORDS],
			  char what[MODEL_CORRECTION_WORDS])
{
	sqlite3_stmt *st = NULL;
	char end[32] = "", comp[40] = "";
	int rc;

	if (db_prepare_bound(db, &st,
			     "SELECT coalesce(t.display_name, a.staff_id, 'staff unknown'),"
			     " coalesce(o.name, a.office_id, 'an office'), a.voided, a.code,"
			     " a.start_date, a.end_date, a.completion, a.entered_date"
			     " FROM participant_activities a LEFT JOIN staff t ON t.id = a.staff_id"
			     " LEFT JOIN offices o ON o.id = a.office_id WHERE a.id = ?1",
			     "t", id) != 0)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_text(st, 5))
			snprintf(end, sizeof end, " to %s", db_col(st, 5));
		if (sqlite3_column_text(st, 6))
			snprintf(comp, sizeof comp, ", %s", db_col(st, 6));
		snprintf(who, MODEL_CORRECTION_WORDS, "%s at %s", db_col(st, 0), db_col(st, 1));
		if (sqlite3_column_int(st, 2))
			snprintf(what, MODEL_CORRECTION_WORDS, "on %s voided it", db_col(st, 7));
		else
			snprintf(what, MODEL_CORRECTION_WORDS, "on %s recorded %s from %s%s%s",
				 db_col(st, 7), db_col(st, 3), db_col(st, 4), end, comp);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Two offices' corrections of one activity, each through its own Help
 * Request (corrections.h): both are kept, and each replaces the activity
 * in the participant's timeline, so a person settles which is right. */
static const model_correction_kind activity_corrections = {
	"participant_activities", "entered_at", "activity", activity_words,
	"is the newer; both are kept and shown.  Acknowledge this, or correct the activity"
	" again through a Help Request at an office."};

static int check_activity(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *list = js(row, "code_list"), *start = js(row, "start_date");
	const char *end = js(row, "end_date"), *comp = js(row, "completion");
	const char *entered = js(row, "entered_date"), *appr = js(row, "approval_id");
	case_backdate b;
	int days, rc;

	if ((rc = check_owner(db, "participant_activities", row, reason, n)) != 0)
		return rc;
	if (list == NULL || (strcmp(list, "activity") != 0 && strcmp(list, "followup") != 0))
		REFUSE("participant_activities: code_list must be activity or followup");
	rc = code_row(db, list, js(row, "code"), NULL, 0);
	if (rc < 0)
		CANNOT_CHECK("participant_activities: cannot read the code list");
	if (rc == 0)
		REFUSE("participant_activities: unknown %s code", list);
	if (json_valid_date(start) != 0 || json_valid_date(entered) != 0)
		REFUSE("participant_activities: start_date and entered_date must be dates");
	if (!entry_time_ok(entered, jint(row, "entered_at")))
		REFUSE("participant_activities: entered_at does not match entered_date or is in the future");
	if (end && (json_valid_date(end) != 0 || strcmp(end, start) < 0))
		REFUSE("participant_activities: end_date must be a date on or after start_date");
	if (comp && strcmp(comp, "successful") != 0 && strcmp(comp, "unsuccessful") != 0)
		REFUSE("participant_activities: completion must be successful or unsuccessful");
	if (comp && end == NULL)
		REFUSE("participant_activities: a completion needs an end date");
	/* Backdating, against the trusted date it was entered on, and the
	 * exit rule.  A correction keeps the original's code and dates and is
	 * not re-judged. */
	if (js(row, "corrects_id") == NULL) {
		char exit_date[16] = "";
		const char *why;
		if (db_text(db, "SELECT min(exit_date) FROM participant_exits WHERE participant_id=?",
			    js(row, "participant_id"), exit_date, sizeof exit_date) < 0)
			CANNOT_CHECK("participant_activities: cannot read exits");
		why = case_code_allowed(exit_date[0] && strcmp(entered, exit_date) >= 0,
					strcmp(list, "followup") == 0);
		if (why)
			REFUSE("participant_activities: %s", why);
		if (strcmp(list, "followup") == 0 && strcmp(start, exit_date) < 0)
			REFUSE("participant_activities: a follow-up code is dated before the exit date");
		b = case_backdate_check(start, entered, &days);
		if (b == CASE_BD_TOO_OLD || b == CASE_BD_FUTURE || b == CASE_BD_INVALID)
			REFUSE("participant_activities: start_date: %s", case_backdate_msg(b));
		if (b == CASE_BD_NEEDS_APPROVAL &&
		    (rc = case_approvals_check_backdate(db, "participant_activities", js(row, "id"),
							js(row, "participant_id"), start, appr, reason,
							n)) != 0)
			return rc;
		if (jint(row, "backdate_days") != days)
			REFUSE("participant_activities: backdate_days does not match the dates");
		NOT_BEFORE_REGISTRATION("participant_activities", "start_date", start);
	} else {
		char owner[64] = "";
		const char *cr = js(row, "change_request_id");
		if ((rc = db_text(db, "SELECT participant_id FROM participant_activities WHERE id=?",
				  js(row, "corrects_id"), owner, sizeof owner)) < 0)
			CANNOT_CHECK("participant_activities: cannot read activities");
		if (rc > 0 || strcmp(owner, js(row, "participant_id")) != 0)
			REFUSE("participant_activities: the corrected activity is not this participant's");
		/* What a correction changes is its end, completion or void:
		 * the code and the start date are the original's (else it
		 * would be a new activity, dated past the backdating rules,
		 * under a request that says otherwise). */
		{
			sqlite3_stmt *st = NULL;
			int same = 0;

			if (db_prepare_bound(db, &st, "SELECT code IS ?2 AND code_list IS ?3 AND start_date IS ?4"
						      " FROM participant_activities WHERE id=?1", "tttt",
					     js(row, "corrects_id"), js(row, "code"), list, start) != 0)
				CANNOT_CHECK("participant_activities: cannot read activities");
			if ((rc = sqlite3_step(st)) == SQLITE_ROW)
				same = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
			if (rc != SQLITE_ROW && rc != SQLITE_DONE)
				CANNOT_CHECK("participant_activities: cannot read activities");
			if (!same)
				REFUSE("participant_activities: a correction keeps the original's code and start"
				       " date");
		}
		/* SLO 34-19: entered data changes only through a Help Request. */
		if (cr == NULL)
			REFUSE("participant_activities: a correction comes with its Help Request"
			       " (change_request_id)");
		{
			char cid[64] = "", eid[64] = "";
			int r1 = db_text(db, "SELECT coalesce(change_id, '') FROM case_approval_requests"
					     " WHERE id=? AND kind='change'", cr, cid, sizeof cid);
			int r2 = r1 < 0 ? -1
					: db_text(db, "SELECT entry_id FROM case_approval_requests WHERE id=?",
						  cr, eid, sizeof eid);
			if (r1 < 0 || r2 < 0)
				CANNOT_CHECK("participant_activities: cannot read help requests");
			if (r1 > 0 || r2 > 0 || strcmp(cid, js(row, "id")) != 0 ||
			    strcmp(eid, js(row, "corrects_id")) != 0)
				REFUSE("participant_activities: the help request is for another change");
		}
		/* (last: a correction refused is not a conflict) */
		return model_crossed_correction(db, &activity_corrections, js(row, "id"),
						js(row, "corrects_id"), reason, n);
	}
	return 0;
}

static int check_note(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *kind = js(row, "kind"), *act = js(row, "activity_id");
	int rc;

	if ((rc = check_owner(db, "case_notes", row, reason, n)) != 0)
		return rc;
	if (!case_text_visible(js(row, "body")) || !case_text_visible(js(row, "subject")))
		REFUSE("case_notes: subject and body are required (white space alone is no text)");
	if (json_valid_date(js(row, "contact_date")) != 0 ||
	    json_valid_date(js(row, "entered_date")) != 0)
		REFUSE("case_notes: contact_date and entered_date must be dates");
	if (strcmp(js(row, "contact_date"), js(row, "entered_date")) > 0)
		REFUSE("case_notes: contact_date is after the date it was entered");
	if (!entry_time_ok(js(row, "entered_date"), jint(row, "entered_at")))
		REFUSE("case_notes: entered_at does not match entered_date or is in the future");
	if (js(row, "amends_id") == NULL) {
		int days;
		case_backdate b = case_backdate_check(js(row, "contact_date"), js(row, "entered_date"), &days);

		/* The note of a correction (a supervisor's, through a Help
		 * Request) is dated at the corrected activity's start, which may
		 * be any age: judged like an amendment, not as a late entry (its
		 * activity's correction is checked with the activity). */
		if ((b == CASE_BD_TOO_OLD || b == CASE_BD_NEEDS_APPROVAL) && kind && act &&
		    strcmp(kind, "activity") == 0) {
			rc = db_exists(db, "SELECT 1 FROM participant_activities WHERE id=?"
					   " AND corrects_id IS NOT NULL", act);
			if (rc < 0)
				CANNOT_CHECK("case_notes: cannot read activities");
			if (rc > 0)
				b = CASE_BD_OK;
		}
		if (b == CASE_BD_TOO_OLD)
			REFUSE("case_notes: contact_date: %s", case_backdate_msg(b));
		if (b == CASE_BD_FUTURE || b == CASE_BD_INVALID)
			REFUSE("case_notes: contact_date: %s", case_backdate_msg(b));
		/* 31-90 days back waits for its approval: a stand-alone note's
		 * own request, an activity note's activity's (checked with the
		 * activity; the note is dated as it is). */
		if (b == CASE_BD_NEEDS_APPROVAL && js(row, "approval_id") == NULL) {
			char appr[64] = "";

			if (kind == NULL || strcmp(kind, "activity") != 0 || act == NULL)
				REFUSE("case_notes: a note dated 31-90 days back needs its approval request"
				       " (approval_id)");
			if ((rc = db_text(db, "SELECT coalesce(approval_id, '') FROM participant_activities"
					      " WHERE id=?", act, appr, sizeof appr)) < 0)
				CANNOT_CHECK("case_notes: cannot read activities");
			if (rc > 0 || appr[0] == '\0')
				REFUSE("case_notes: a note dated 31-90 days back belongs to an activity"
				       " waiting for approval");
		}
		if (b == CASE_BD_NEEDS_APPROVAL && js(row, "approval_id") &&
		    (rc = case_approvals_check_backdate(db, "case_notes", js(row, "id"),
							js(row, "participant_id"), js(row, "contact_date"),
							js(row, "approval_id"), reason, n)) != 0)
			return rc;
		NOT_BEFORE_REGISTRATION("case_notes", "contact_date", js(row, "contact_date"));
	}
	if (kind == NULL || (strcmp(kind, "standalone") != 0 && strcmp(kind, "activity") != 0))
		REFUSE("case_notes: kind must be standalone or activity");
	if (strcmp(kind, "activity") == 0) {
		sqlite3_stmt *st;
		char code[16] = "", list[16] = "", start[16] = "", title[200] = "";
		const char *bad;
		int found = 0;
		if (act == NULL)
			REFUSE("case_notes: an activity note names its activity");
		if (db_prepare(db, &st, "SELECT code, code_list, start_date FROM participant_activities"
					" WHERE id=? AND participant_id=?") != 0)
			CANNOT_CHECK("case_notes: cannot read activities");
		sqlite3_bind_text(st, 1, act, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, js(row, "participant_id"), -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE) {
			sqlite3_finalize(st);
			CANNOT_CHECK("case_notes: cannot read activities");
		}
		if (rc == SQLITE_ROW) {
			const char *c[3];

			if (db_cols(st, c, 3) != 0) {
				sqlite3_finalize(st);
				CANNOT_CHECK("case_notes: cannot read activities");
			}
			found = 1;
			snprintf(code, sizeof code, "%s", c[0]);
			snprintf(list, sizeof list, "%s", c[1]);
			snprintf(start, sizeof start, "%s", c[2]);
		}
		sqlite3_finalize(st);
		if (!found)
			REFUSE("case_notes: no such activity of this participant");
		if ((rc = code_row(db, list, code, title, sizeof title)) < 0)
			CANNOT_CHECK("case_notes: cannot read the code list");
		if (rc == 0)
			REFUSE("case_notes: the activity's code is unknown");
		bad = case_activity_note_check(js(row, "subject"), js(row, "contact_date"), code,
					       title, start);
		/* An amendment keeps its original's subject: the code's title as
		 * it was then (a code list retitled since does not make it wrong). */
		if (bad && strcmp(bad, "subject") == 0 && js(row, "amends_id")) {
			char was[200] = "";

			if ((rc = db_text(db, "SELECT subject FROM case_notes WHERE id=?",
					  js(row, "amends_id"), was, sizeof was)) < 0)
				CANNOT_CHECK("case_notes: cannot read notes");
			if (rc == 0 && strcmp(was, js(row, "subject")) == 0)
				bad = strcmp(js(row, "contact_date"), start) == 0 ? NULL : "contact_date";
		}
		if (bad)
			REFUSE("case_notes: %s", strcmp(bad, "subject") == 0
							 ? "an activity note's subject is the code number and title"
							 : "an activity note's contact date is the activity's start date");
	} else if (act) {
		REFUSE("case_notes: a stand-alone note names no activity");
	}
	if (js(row, "amends_id")) {
		char la[64] = "";
		if ((rc = db_text(db, "SELECT participant_id FROM case_notes WHERE id=?",
				  js(row, "amends_id"), la, sizeof la)) < 0)
			CANNOT_CHECK("case_notes: cannot read notes");
		if (rc > 0 || strcmp(la, js(row, "participant_id")) != 0)
			REFUSE("case_notes: the amended note is not this participant's");
		/* Its Help Request (SLO 34-19: entered data changes only through
		 * one), for this note's original: in the same entry or before. */
		if ((rc = db_text(db, "SELECT entry_id FROM case_approval_requests WHERE change_id=?"
				      " AND kind='change'", js(row, "id"), la, sizeof la)) < 0)
			CANNOT_CHECK("case_notes: cannot read help requests");
		if (rc > 0)
			REFUSE("case_notes: an amendment comes with its Help Request");
		if (strcmp(la, js(row, "amends_id")) != 0)
			REFUSE("case_notes: the help request is for another note");
	}
	return 0;
}

/* A soft exit (SLO 34-19: 90 days without a clock-restarting service,
 * never undone): not dated after the day it was recorded, nor before 90
 * days after the registration (the earliest a case can have exited: an
 * office's own view of the last service may differ from the hub's while
 * entries travel, so that is not re-judged here). */
static int check_exit(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *date = js(row, "exit_date");
	char reg[16] = "", earliest[11], recorded[11];
	int64_t at = jint(row, "recorded_at");
	int rc;

	if (at <= 0 || at > (int64_t)time(NULL) * 1000 + 24 * 3600 * 1000)
		REFUSE("participant_exits: recorded_at is missing or in the future");
	clock_local_date((uint64_t)at, recorded);
	if (clock_days_between(recorded, date) > 1)
		REFUSE("participant_exits: exit_date is after the day it was recorded");
	if ((rc = db_text(db, "SELECT registered_date FROM participants WHERE id=?",
			  js(row, "participant_id"), reg, sizeof reg)) < 0)
		CANNOT_CHECK("participant_exits: cannot read the participant");
	if (rc == 0 && clock_date_add(reg, CASE_SOFT_EXIT_DAYS, earliest) == 0 &&
	    strcmp(date, earliest) < 0)
		REFUSE("participant_exits: a case exits 90 days after its last service at the earliest");
	return 0;
}

/* A closure or follow-up form (or a follow-up decline, or a measurable
 * skill gain): every field filled (model/case_forms.h), its date neither
 * before the registration nor after the day it was entered; follow-up only
 * after the exit, a skill gain not after it. */
static int check_form(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *kind = js(row, "kind"), *date = js(row, "form_date");
	cJSON *fields;
	char exit_date[16] = "";
	int bad, q;

	if ((bad = check_owner(db, "case_forms", row, reason, n)) != 0)
		return bad;
	if (case_form_fields(kind) == NULL)
		REFUSE("case_forms: kind must be closure, followup, followup_declined or skill_gain");
	if (json_valid_date(date) != 0 || json_valid_date(js(row, "entered_date")) != 0 ||
	    strcmp(date, js(row, "entered_date")) > 0)
		REFUSE("case_forms: form_date must be a date, not after the date it was entered");
	if (!entry_time_ok(js(row, "entered_date"), jint(row, "entered_at")))
		REFUSE("case_forms: entered_at does not match entered_date or is in the future");
	/* A form is entered within 30 days of its date (the office's rule,
	 * node_case_forms.c; SLO 34-19 never past 90). */
	{
		int days = 0;

		if (case_backdate_check(date, js(row, "entered_date"), &days) != CASE_BD_OK)
			REFUSE("case_forms: a form is entered within 30 days of its date (%d days back)",
			       days);
	}
	NOT_BEFORE_REGISTRATION("case_forms", "form_date", date);
	fields = js(row, "fields") ? cJSON_Parse(js(row, "fields")) : NULL;
	bad = case_form_check(kind, fields, NULL, NULL);
	cJSON_Delete(fields);
	if (bad != 0)
		REFUSE("case_forms: every field must be filled in (N/A where it does not apply)");
	if (db_text(db, "SELECT min(exit_date) FROM participant_exits WHERE participant_id=?",
		    js(row, "participant_id"), exit_date, sizeof exit_date) < 0)
		CANNOT_CHECK("case_forms: cannot read exits");
	/* A measurable skill gain is one of participation, and the closure
	 * form is completed before the soft exit: on or before the exit date. */
	if (strcmp(kind, "skill_gain") == 0 && exit_date[0] && strcmp(date, exit_date) > 0)
		REFUSE("case_forms: a skill gain is dated during participation, not after the exit");
	if (strcmp(kind, "closure") == 0 && exit_date[0] && strcmp(date, exit_date) > 0)
		REFUSE("case_forms: the closure form is completed before the soft exit, not after it");
	if (strcmp(kind, "closure") != 0 && strcmp(kind, "skill_gain") != 0) {
		if (exit_date[0] == '\0' || strcmp(date, exit_date) < 0)
			REFUSE("case_forms: follow-up comes after the exit");
		/* the quarter of follow-up its date falls in, as the office
		 * works it out */
		q = case_followup_quarter_of(exit_date, date);
		if (strcmp(kind, "followup") == 0 && q == 0)
			REFUSE("case_forms: the 12 months of follow-up after the exit have ended");
		if (strcmp(kind, "followup") == 0 && jint(row, "quarter") != q)
			REFUSE("case_forms: quarter is %d, the quarter of follow-up the form's date falls"
			       " in", q);
	}
	return 0;
}

/* Participants a and b of Local Area la with the same SSN though their
 * hashes differ: while a re-encryption pass is between its batches
 * (hub_keys_reencrypt), one row is under the newest key and the other not
 * yet, each hashed under its own epoch's key.  Rows of different epochs
 * only are read, each with its own epoch's key.  1 same, 0 not (or one
 * this side cannot read), -1. */
static int same_ssn_across_epochs(sqlite3 *db, const char *a, const char *b, const char *la)
{
	sqlite3_stmt *st = NULL;
	char da[10] = "", dbb[10] = "";
	int ret = -1, rc;

	if (db_prepare(db, &st,
		       "SELECT a.ssn_enc, b.ssn_enc FROM participants a JOIN participants b"
		       " ON a.id <> b.id AND a.local_area_id = b.local_area_id"
		       " WHERE a.id = ?1 AND b.id = ?2 AND a.local_area_id = ?3"
		       "  AND a.ssn_enc IS NOT NULL AND b.ssn_enc IS NOT NULL") != 0)
		return -1;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, la, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
	} else if (rc == SQLITE_ROW) {
		const char *ea = (const char *)sqlite3_column_text(st, 0);
		const char *eb = (const char *)sqlite3_column_text(st, 1);
		ret = case_ssn_epoch(ea) != case_ssn_epoch(eb) &&
		      case_ssn_reveal_db(db, la, a, ea, da) == 0 &&
		      case_ssn_reveal_db(db, la, b, eb, dbb) == 0 && strcmp(da, dbb) == 0;
	}
	crypto_wipe(da, sizeof da);
	crypto_wipe(dbb, sizeof dbb);
	sqlite3_finalize(st);
	return ret;
}

/* A possible duplicate as an office may leave it: made at the hub (never
 * inserted nor deleted by a node), still naming two participants of its
 * Local Area with the same SSN (a flag moved onto another true pair is
 * still one; the same SSN under two key epochs is the same SSN), its
 * review made by staff of that Local Area. */
static int check_duplicate_flag(sqlite3 *db, int op, const cJSON *row, char *reason, size_t n)
{
	const char *status = js(row, "status");
	int rc;

	if (op != SQLITE_UPDATE)
		REFUSE("participant_duplicate_flags: flags are made at the hub; an office only reviews"
		       " them");
	if (status == NULL || (strcmp(status, "open") != 0 && strcmp(status, "same_person") != 0 &&
			       strcmp(status, "different_people") != 0))
		REFUSE("participant_duplicate_flags: status must be open, same_person or"
		       " different_people");
	if (strcmp(status, "open") != 0 && (!nonempty(js(row, "resolved_by")) ||
					    jint(row, "resolved_at") <= 0))
		REFUSE("participant_duplicate_flags: a review names who made it and when");
	if (js(row, "reason") == NULL || strcmp(js(row, "reason"), "ssn") != 0)
		REFUSE("participant_duplicate_flags: reason must be ssn");
	if (strcmp(status, "open") != 0) {
		rc = (int)db_int_bound(db, -1,
				       "SELECT count(*) FROM staff WHERE id = ?1 AND local_area_id = ?2",
				       "tt", js(row, "resolved_by"), js(row, "local_area_id"));
		if (rc < 0)
			CANNOT_CHECK("participant_duplicate_flags: cannot read the staff");
		if (rc == 0)
			REFUSE("participant_duplicate_flags: the review names no staff member of its"
			       " Local Area");
	}
	rc = (int)db_int_bound(db, -1,
			       "SELECT count(*) FROM participants a JOIN participants b ON a.id <> b.id"
			       " AND a.ssn_hmac = b.ssn_hmac AND a.local_area_id = b.local_area_id"
			       " WHERE a.id = ?1 AND b.id = ?2 AND a.local_area_id = ?3",
			       "ttt", js(row, "participant_id"), js(row, "other_participant_id"),
			       js(row, "local_area_id"));
	if (rc == 0 && js(row, "participant_id") && js(row, "other_participant_id") &&
	    js(row, "local_area_id"))
		rc = same_ssn_across_epochs(db, js(row, "participant_id"),
					    js(row, "other_participant_id"), js(row, "local_area_id"));
	if (rc < 0)
		CANNOT_CHECK("participant_duplicate_flags: cannot read the participants");
	if (rc == 0)
		REFUSE("participant_duplicate_flags: the flag no longer names two participants of its"
		       " Local Area with the same SSN");
	return 0;
}

int case_hub_check_program_actor(sqlite3 *db, const char *tbl, const char *col, const cJSON *row,
				 char *reason, size_t n)
{
	const char *who = js(row, col);
	unsigned privs;

	if (who == NULL)
		REFUSE("%s: a program entry names who entered it (%s)", tbl, col);
	if (priv_of_staff(db, who, &privs) != 0)
		CANNOT_CHECK("%s: cannot read the privileges of %s", tbl, col);
	if (!(privs & PRIV_PROGRAM_EDIT))
		REFUSE("%s: %s does not hold program_edit (program applications are view-only"
		       " for that account)",
		       tbl, col);
	return 0;
}

int case_hub_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			  size_t n)
{
	int rc;

	if (tbl == NULL || row == NULL)
		return 0;
	if (strcmp(tbl, "participant_duplicate_flags") == 0)
		return check_duplicate_flag(db, op, row, reason, n);
	if (strcmp(tbl, "participants") == 0)
		return check_participant(db, op, row, reason, n);
	if (strcmp(tbl, "case_forms") == 0) {
		if (op != SQLITE_INSERT)
			REFUSE("%s: rows are only inserted", tbl);
		if ((rc = check_form(db, row, reason, n)) != 0)
			return rc;
		return case_hub_check_program_actor(db, tbl, "staff_id", row, reason, n);
	}
	if (strcmp(tbl, "case_approval_requests") == 0 || strcmp(tbl, "case_approval_decisions") == 0) {
		if (op != SQLITE_INSERT)
			REFUSE("%s: rows are only inserted", tbl);
		if ((rc = case_approvals_validate_row(db, tbl, row, reason, n)) != 0)
			return rc;
		/* A request for an activity (its backdating or its change) is
		 * a program entry; one for a note is the note writer's. */
		if (strcmp(tbl, "case_approval_requests") == 0 && js(row, "entry_table") &&
		    strcmp(js(row, "entry_table"), "participant_activities") == 0)
			return case_hub_check_program_actor(db, tbl, "requested_by", row, reason, n);
		return 0;
	}
	if (strcmp(tbl, "participant_activities") == 0 || strcmp(tbl, "case_notes") == 0 ||
	    strcmp(tbl, "backdate_approvals") == 0 || strcmp(tbl, "participant_exits") == 0) {
		/* Append-only: apply.c already refuses updates and deletes. */
		if (op != SQLITE_INSERT)
			REFUSE("%s: rows are only inserted", tbl);
		if (strcmp(tbl, "participant_activities") == 0) {
			if ((rc = check_activity(db, row, reason, n)) != 0)
				return rc;
			return case_hub_check_program_actor(db, tbl, "staff_id", row, reason, n);
		}
		if (strcmp(tbl, "case_notes") == 0)
			return check_note(db, row, reason, n);
		rc = check_owner(db, tbl, row, reason, n);
		if (rc != 0)
			return rc;
		if (strcmp(tbl, "backdate_approvals") == 0) {
			if (!nonempty(js(row, "program_manager")) || !nonempty(js(row, "wdb_director")) ||
			    !nonempty(js(row, "edd_approver")))
				REFUSE("backdate_approvals: the program manager, WDB director and EDD approvals are required");
			if (json_valid_date(js(row, "service_date")) != 0 ||
			    json_valid_date(js(row, "approved_date")) != 0)
				REFUSE("backdate_approvals: service_date and approved_date must be dates");
			return 0;
		}
		if (json_valid_date(js(row, "exit_date")) != 0)
			REFUSE("participant_exits: exit_date is not a date");
		return check_exit(db, row, reason, n);
	}
	return 0;
}

int model_hub_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			   size_t n)
{
	int rc = crm_hub_validate_row(db, tbl, op, row, reason, n);

	if (rc == 0)
		rc = greeter_hub_validate_row(db, tbl, op, row, reason, n);
	if (rc != 0)
		return rc;
	return case_hub_validate_row(db, tbl, op, row, reason, n);
}
