/*
 * password.h - staff passwords as the state requires them [WSD24-13; MIS
 * Admin notice] and as DESIGN.md stores them, shared by hub and node.
 *
 * The rule: 8 to 20 characters, at least one upper-case letter, one
 * lower-case letter, one digit and one special character from
 * ! @ # $ % ^ * . _ (no other characters), and not a common password
 * (a blocklist, as NIST SP 800-63B advises on top of the state's rule).
 *
 * Stored form: "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX" (16-byte random
 * salt, 32-byte derived key, PASSWORD_ITERS rounds).  password_hash() and
 * password_verify() take about 0.4 s of CPU: call them from the thread pool,
 * never on a loop thread.  Temporary passwords expire PASSWORD_TEMP_TTL_MS
 * after they are issued and never work offline.
 */
#ifndef OUTPOST_PASSWORD_H
#define OUTPOST_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

#define PASSWORD_MIN_LEN 8
#define PASSWORD_MAX_LEN 20
#define PASSWORD_SPECIALS "!@#$%^*._"
#define PASSWORD_ITERS 600000u
#define PASSWORD_HASH_MAX 160 /* stored form, with its NUL */
#define PASSWORD_TEMP_TTL_MS (24LL * 60 * 60 * 1000)

/*
 * 0 when pw meets the rule; otherwise -1 and *why (static text, suitable for
 * the user) names the first rule it breaks.  username, when not NULL, must not
 * appear in the password (case-insensitive).
 */
int password_rule_check(const char *pw, const char *username, const char **why);

/* Nonzero when pw is on the blocklist of common passwords (case-insensitive,
 * also after stripping trailing digits and specials: "Password1!" is common). */
int password_is_common(const char *pw);

/* Hash pw with a fresh salt into out (PASSWORD_HASH_MAX bytes).  iters 0
 * means PASSWORD_ITERS (tests may pass fewer).  0, or -1. */
int password_hash(const char *pw, uint32_t iters, char *out, size_t n);

/* 1 when pw matches the stored form, 0 when not, -1 when stored is malformed.
 * The comparison is constant-time. */
int password_verify(const char *pw, const char *stored);

/* A random temporary password of 12 characters that meets the rule, into out
 * (at least 13 bytes).  0, or -1. */
int password_temp_new(char *out, size_t n);

/* Nonzero when a temporary password issued at issued_ms has expired at now_ms
 * (expiry is exactly PASSWORD_TEMP_TTL_MS later: valid for 24 hours). */
int password_temp_expired(int64_t issued_ms, int64_t now_ms);

/* Hex SHA-256 of a stored hash (65 bytes), as credential_changes keeps it. */
int password_hash_ref(const char *stored, char out[65]);

/*
 * The second verifier of a password (DESIGN.md, "The trust boundary"): kept
 * only at the hub, never replicated, so a node cannot compute it from what it
 * stores.  V = PBKDF2-HMAC-SHA256(pw, vsalt, the stored form's rounds) where
 * vsalt = SHA-256("outpost-verifier" || the stored form's salt)[0..16).  The
 * verifier has its own salt, distinct from the hash's, and derivable from
 * the stored form, so an office can compute V offline from the password the
 * user types: the salt is not secret (a node holds the hash's salt anyway),
 * and knowing H = PBKDF2(pw, salt) gives nothing about V without pw.
 * Lower-case hex into out (65 bytes).  As slow as password_hash (thread
 * pool).  0, or -1 (malformed stored form).
 */
#define PASSWORD_VERIFIER_HEX 65
int password_verifier(const char *pw, const char *stored, char out[PASSWORD_VERIFIER_HEX]);

/*
 * A password change made at a node, as credential_changes carries it:
 * next_verifier = V(new) XOR HMAC(V(cur), "next" || id), so only the hub
 * (which holds V(cur)) learns V(new); proof = HMAC(V(cur), every field of the
 * row, next_verifier included).  Both hex (65 bytes).  The same call unwraps
 * (XOR).  0, or -1.
 */
int password_verifier_wrap(const char *cur_verifier, const char *id, const char *in_hex,
			   char out[PASSWORD_VERIFIER_HEX]);
int password_change_proof(const char *cur_verifier, const char *id, const char *staff_id,
			  const char *password_hash, const char *prev_ref, const char *reason,
			  int64_t changed_at, const char *next_verifier,
			  char out[PASSWORD_VERIFIER_HEX]);

/*
 * An approver's decision made at a node (case_approval_decisions; the node
 * writes it in an audit event of the same entry): HMAC(V, the decision's
 * fields) under the verifier of the approver's password, which the node
 * derives at their sign-in and the hub holds, so a node cannot decide in
 * the name of an approver who never signed in there.  Hex (65 bytes) into
 * out.  0, or -1.
 */
int password_decision_proof(const char *verifier, const char *id, const char *request_id,
			    const char *staff_id, const char *role, const char *decision,
			    const char *decided_date, int64_t decided_at,
			    char out[PASSWORD_VERIFIER_HEX]);

/*
 * Which verifier an office holds, as it asks the hub whether it holds the
 * same (hub/acct_verifier.c): HMAC(V, "outpost-verifier-check" || staff_id).
 * It says nothing of V to whoever lacks V, and a node that holds the
 * password's hash could test guesses against the hash as well.  Hex (65
 * bytes) into out.  0, or -1.
 */
int password_verifier_check(const char *verifier, const char *staff_id,
			    char out[PASSWORD_VERIFIER_HEX]);

#endif
