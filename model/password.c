/*
 * password.c - the state's password rule, a blocklist of common passwords,
 * and PBKDF2-HMAC-SHA256 hashing and verification (see password.h).
 */
#include "model/password.h"
#include "lib/crypto.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SALT_LEN 16
#define KEY_LEN 32

/* Common passwords and the base words people dress up to meet a rule like
 * this one ("Summer2024!"), lower case.  Kept short on purpose: the rule
 * already demands four classes; this catches the obvious rest. */
static const char *const common[] = {
    "password", "passw0rd", "p@ssword", "p@ssw0rd", "welcome", "welc0me", "letmein",
    "qwerty", "qwertyuiop", "asdfgh", "zxcvbn", "abc123", "abcd1234", "iloveyou",
    "admin", "administrator", "changeme", "change.me", "default", "secret", "login",
    "master", "monkey", "dragon", "sunshine", "princess", "football", "baseball",
    "starwars", "trustno1", "superman", "batman", "shadow", "michael", "jennifer",
    "summer", "winter", "spring", "autumn", "fall", "january", "february", "march",
    "april", "june", "july", "august", "september", "october", "november",
    "december", "monday", "friday", "california", "sacramento", "losangeles",
    "caljobs", "outpost", "workforce", "employment", "jobcenter", "edd", "wioa",
    "temp", "temporary", "newuser", "user", "guest", "test", "testing", "hello",
    "goodbye", "computer", "internet", "company", "office", "county", "state",
    "1234", "12345", "123456", "1234567", "12345678", "123456789", "1234567890",
    "111111", "000000", "654321", "987654321", "aa123456", "qwe123", "1q2w3e4r",
    "1qaz2wsx", "zaq12wsx", "q1w2e3r4", "abcdef", "abcdefg", "abcdefgh",
};

int password_is_common(const char *pw)
{
	char low[PASSWORD_MAX_LEN * 4 + 1];
	size_t n = strlen(pw), i;

	if (n >= sizeof low)
		return 0;
	for (i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)pw[i]);
	low[n] = '\0';
	for (size_t k = 0; k < sizeof common / sizeof common[0]; k++)
		if (strcmp(low, common[k]) == 0)
			return 1;
	/* strip what people append to satisfy a rule: digits and specials,
	 * then the same at the front */
	while (n > 0 && (isdigit((unsigned char)low[n - 1]) ||
			 strchr(PASSWORD_SPECIALS, low[n - 1]) != NULL))
		low[--n] = '\0';
	i = 0;
	while (low[i] && (isdigit((unsigned char)low[i]) ||
			  strchr(PASSWORD_SPECIALS, low[i]) != NULL))
		i++;
	if (low[i] == '\0')
		return 1; /* nothing but digits and specials */
	for (size_t k = 0; k < sizeof common / sizeof common[0]; k++)
		if (strcmp(low + i, common[k]) == 0)
			return 1;
	return 0;
}

int password_rule_check(const char *pw, const char *username, const char **why)
{
	size_t n = strlen(pw);
	int up = 0, lo = 0, dig = 0, sp = 0;

	*why = NULL;
	if (n < PASSWORD_MIN_LEN || n > PASSWORD_MAX_LEN) {
		*why = "must be 8 to 20 characters long";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)pw[i];
		if (ch >= 'A' && ch <= 'Z')
			up = 1;
		else if (ch >= 'a' && ch <= 'z')
			lo = 1;
		else if (ch >= '0' && ch <= '9')
			dig = 1;
		else if (ch != '\0' && strchr(PASSWORD_SPECIALS, ch) != NULL)
			sp = 1;
		else {
			*why = "may only contain letters, digits and the special "
			       "characters ! @ # $ % ^ * . _";
			return -1;
		}
	}
	if (!up)
		*why = "needs at least one upper-case letter";
	else if (!lo)
		*why = "needs at least one lower-case letter";
	else if (!dig)
		*why = "needs at least one digit";
	else if (!sp)
		*why = "needs at least one of the special characters ! @ # $ % ^ * . _";
	else if (password_is_common(pw))
		*why = "is too common; choose a password that is harder to guess";
	else if (username != NULL && strlen(username) >= 3) {
		size_t ul = strlen(username);
		for (size_t i = 0; i + ul <= n; i++)
			if (strncasecmp(pw + i, username, ul) == 0) {
				*why = "must not contain your user name";
				break;
			}
	}
	return *why ? -1 : 0;
}

int password_hash(const char *pw, uint32_t iters, char *out, size_t n)
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char shex[2 * SALT_LEN + 1], khex[2 * KEY_LEN + 1];
	int rc = -1;

	if (iters == 0)
		iters = PASSWORD_ITERS;
	if (crypto_random(salt, sizeof salt) != 0 ||
	    crypto_pbkdf2_sha256(pw, strlen(pw), salt, sizeof salt, iters, key, sizeof key) != 0)
		goto out;
	crypto_hex(salt, sizeof salt, shex);
	crypto_hex(key, sizeof key, khex);
	if ((size_t)snprintf(out, n, "pbkdf2-sha256$%" PRIu32 "$%s$%s", iters, shex, khex) >= n)
		goto out;
	rc = 0;
out:
	crypto_wipe(key, sizeof key);
	crypto_wipe(khex, sizeof khex);
	return rc;
}

/* Split a stored form into rounds, salt and key.  0, or -1 when malformed. */
static int parse_stored(const char *stored, unsigned long long *iters,
			unsigned char salt[SALT_LEN], unsigned char key[KEY_LEN])
{
	static const char pfx[] = "pbkdf2-sha256$";
	char shex[2 * SALT_LEN + 1], khex[2 * KEY_LEN + 1];
	const char *p, *d1, *d2;
	char *end;
	int rc = -1;

	if (stored == NULL || strncmp(stored, pfx, sizeof pfx - 1) != 0)
		return -1;
	p = stored + sizeof pfx - 1;
	*iters = strtoull(p, &end, 10);
	if (end == p || *end != '$' || *iters == 0 || *iters > 100000000ULL)
		return -1;
	d1 = end + 1;
	d2 = strchr(d1, '$');
	if (d2 == NULL || (size_t)(d2 - d1) != 2 * SALT_LEN || strlen(d2 + 1) != 2 * KEY_LEN)
		return -1;
	memcpy(shex, d1, 2 * SALT_LEN);
	shex[2 * SALT_LEN] = '\0';
	memcpy(khex, d2 + 1, 2 * KEY_LEN + 1);
	if (crypto_unhex(shex, salt, SALT_LEN) == 0 && crypto_unhex(khex, key, KEY_LEN) == 0)
		rc = 0;
	crypto_wipe(khex, sizeof khex);
	return rc;
}

int password_verify(const char *pw, const char *stored)
{
	unsigned char salt[SALT_LEN], want[KEY_LEN], got[KEY_LEN];
	unsigned long long iters;
	int rc = -1;

	if (parse_stored(stored, &iters, salt, want) != 0)
		return -1;
	if (crypto_pbkdf2_sha256(pw, strlen(pw), salt, sizeof salt, (uint32_t)iters, got,
				 sizeof got) != 0)
		goto out;
	rc = crypto_ct_cmp(got, want, sizeof got) == 0 ? 1 : 0;
out:
	crypto_wipe(got, sizeof got);
	crypto_wipe(want, sizeof want);
	return rc;
}

int password_temp_new(char *out, size_t n)
{
	/* no look-alikes (0/O, 1/l/I) in a password read aloud or copied by hand */
	static const char up[] = "ABCDEFGHJKLMNPQRSTUVWXYZ", lo[] = "abcdefghijkmnopqrstuvwxyz",
			  dg[] = "23456789", sp[] = "!@#$%*._";
	static const char *const sets[] = {up, lo, dg, sp};
	unsigned char r[24];
	const char *why;

	if (n < 13)
		return -1;
	for (int tries = 0; tries < 16; tries++) {
		if (crypto_random(r, sizeof r) != 0)
			return -1;
		for (int i = 0; i < 12; i++) {
			/* positions 0..3 take one of each class, the rest letters
			 * and digits; then the classes' places are shuffled */
			const char *set = i < 4 ? sets[i] : sets[r[i] % 3];
			out[i] = set[r[12 + i % 12] % strlen(set)];
		}
		for (int i = 11; i > 0; i--) {
			int j = r[i] % (i + 1);
			char t = out[i];
			out[i] = out[j];
			out[j] = t;
		}
		out[12] = '\0';
		if (password_rule_check(out, NULL, &why) == 0)
			return 0;
	}
	return -1;
}

int password_temp_expired(int64_t issued_ms, int64_t now_ms)
{
	return now_ms - issued_ms >= PASSWORD_TEMP_TTL_MS;
}

int password_hash_ref(const char *stored, char out[65])
{
	unsigned char h[32];

	if (crypto_sha256(stored, strlen(stored), h) != 0)
		return -1;
	crypto_hex(h, sizeof h, out);
	return 0;
}

int password_verifier(const char *pw, const char *stored, char out[PASSWORD_VERIFIER_HEX])
{
	static const char label[] = "outpost-verifier";
	unsigned char salt[SALT_LEN], key[KEY_LEN], in[sizeof label - 1 + SALT_LEN], vs[32];
	unsigned long long iters;
	int rc = -1;

	if (pw == NULL || parse_stored(stored, &iters, salt, key) != 0)
		return -1;
	memcpy(in, label, sizeof label - 1);
	memcpy(in + sizeof label - 1, salt, SALT_LEN);
	if (crypto_sha256(in, sizeof in, vs) != 0 ||
	    crypto_pbkdf2_sha256(pw, strlen(pw), vs, SALT_LEN, (uint32_t)iters, key,
				 sizeof key) != 0)
		goto out;
	crypto_hex(key, sizeof key, out);
	rc = 0;
out:
	crypto_wipe(key, sizeof key);
	return rc;
}

/* HMAC-SHA256 under the verifier (hex) of the text msg. */
static int verifier_mac(const char *verifier, const char *msg, unsigned char mac[32])
{
	unsigned char k[KEY_LEN];
	int rc = -1;

	if (verifier == NULL || strlen(verifier) != 2 * KEY_LEN ||
	    crypto_unhex(verifier, k, sizeof k) != 0)
		return -1;
	rc = crypto_hmac_sha256(k, sizeof k, msg, strlen(msg), mac);
	crypto_wipe(k, sizeof k);
	return rc;
}

int password_verifier_wrap(const char *cur_verifier, const char *id, const char *in_hex,
			   char out[PASSWORD_VERIFIER_HEX])
{
	unsigned char pad[32], v[KEY_LEN];
	char msg[160];
	int rc = -1;

	if (id == NULL || in_hex == NULL || strlen(in_hex) != 2 * KEY_LEN ||
	    (size_t)snprintf(msg, sizeof msg, "outpost-next-verifier\n%s", id) >= sizeof msg ||
	    verifier_mac(cur_verifier, msg, pad) != 0 || crypto_unhex(in_hex, v, sizeof v) != 0)
		goto out;
	for (size_t i = 0; i < sizeof v; i++)
		v[i] ^= pad[i];
	crypto_hex(v, sizeof v, out);
	rc = 0;
out:
	crypto_wipe(pad, sizeof pad);
	crypto_wipe(v, sizeof v);
	return rc;
}

int password_change_proof(const char *cur_verifier, const char *id, const char *staff_id,
			  const char *password_hash, const char *prev_ref, const char *reason,
			  int64_t changed_at, const char *next_verifier,
			  char out[PASSWORD_VERIFIER_HEX])
{
	char msg[640];
	unsigned char mac[32];
	int n;

	n = snprintf(msg, sizeof msg, "outpost-credential-change\n%s\n%s\n%s\n%s\n%s\n%" PRId64 "\n%s",
		     id ? id : "", staff_id ? staff_id : "", password_hash ? password_hash : "",
		     prev_ref ? prev_ref : "", reason ? reason : "", changed_at,
		     next_verifier ? next_verifier : "");
	if (n < 0 || (size_t)n >= sizeof msg || verifier_mac(cur_verifier, msg, mac) != 0)
		return -1;
	crypto_hex(mac, sizeof mac, out);
	return 0;
}

int password_decision_proof(const char *verifier, const char *id, const char *request_id,
			    const char *staff_id, const char *role, const char *decision,
			    const char *decided_date, int64_t decided_at,
			    char out[PASSWORD_VERIFIER_HEX])
{
	char msg[512];
	unsigned char mac[32];
	int n;

	n = snprintf(msg, sizeof msg, "outpost-case-decision\n%s\n%s\n%s\n%s\n%s\n%s\n%" PRId64,
		     id ? id : "", request_id ? request_id : "", staff_id ? staff_id : "",
		     role ? role : "", decision ? decision : "", decided_date ? decided_date : "",
		     decided_at);
	if (n < 0 || (size_t)n >= sizeof msg || verifier_mac(verifier, msg, mac) != 0)
		return -1;
	crypto_hex(mac, sizeof mac, out);
	return 0;
}


int password_verifier_check(const char *verifier, const char *staff_id,
			    char out[PASSWORD_VERIFIER_HEX])
{
	char msg[128];
	unsigned char mac[32];
	int n;

	n = snprintf(msg, sizeof msg, "outpost-verifier-check\n%s", staff_id ? staff_id : "");
	if (n < 0 || (size_t)n >= sizeof msg || verifier_mac(verifier, msg, mac) != 0)
		return -1;
	crypto_hex(mac, sizeof mac, out);
	return 0;
}
