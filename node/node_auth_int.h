/*
 * node_auth_int.h - what node_auth.c (sessions, CSRF, the sweep) shares with
 * node_login.c (the session routes, the offline rules, password changes).
 * Private to those two files.
 */
#ifndef OUTPOST_NODE_AUTH_INT_H
#define OUTPOST_NODE_AUTH_INT_H

#include "node/node_auth.h"
#include "lib/throttle.h"
#include "model/password.h"

typedef struct node_session {
	unsigned char ss_key[32];  /* SHA-256 of the token; the token itself is not kept */
	char ss_csrf[2 * NODE_AUTH_TOKEN_LEN + 1];
	node_user ss_user;
	char ss_group[96];
	uint64_t ss_created_ms, ss_seen_ms;
	int ss_used;
	int ss_must_change;        /* signed in with a temporary password */
	int ss_offline;            /* signed in while the hub was not reachable */
	unsigned char ss_pw[32];   /* SHA-256 of the password hash it began with */
	/* An approver's: the second verifier of the password they signed in
	 * with (model/password.h), which signs their decisions; "" else. */
	char ss_verifier[PASSWORD_VERIFIER_HEX];
	/* Whether the hub is to be asked that it holds ss_verifier
	 * (node_login.c, confirm()): SS_V_*; the question's number, so an
	 * answer to an earlier one (before a password change) is ignored; and
	 * for SS_V_DUE the sync cycle after which it is asked. */
	int ss_vstate;
	unsigned ss_vask;
	uint64_t ss_vcycle;
	/* node.db and the day when the staff row and password were last
	 * checked (auth__session): unchanged, the check would say the same. */
	db_version ss_ver;
	char ss_day[11];
} node_session;

enum {
	SS_V_NONE,    /* nothing to ask: confirmed, or nothing to confirm */
	SS_V_ASKING,  /* a question is on its way to the hub */
	SS_V_DUE,     /* the hub could not be asked: again after sync cycle ss_vcycle */
	SS_V_REFUSED, /* the hub holds another password's verifier or none, or
		       * refuses to answer for the account */
};

struct node_auth {
	node *na_node;
	node_session *na_sess;
	size_t na_nsess;
	size_t na_top;             /* no session was ever used at na_sess[na_top] or past it */
	throttle *na_thr;
	int na_inflight;           /* password verifications queued or running */
	uint64_t na_idle_ms, na_abs_ms;
	uv_timer_t na_timer;
	int na_timer_on;
};

/* The live session of req (also one that must still change its password),
 * with its staff row reloaded; NULL when there is none or it just ended. */
node_session *auth__session(node *n, http_req *req);
/* A new session for staff_id, marked with checked (the password hash the
 * sign-in verified); *token gets the cookie value (hex).  Sets both
 * cookies on req.  NULL when the staff row is missing or inactive, or the
 * table is full of live sessions. */
node_session *auth__session_new(node *n, http_req *req, const char *staff_id, int must_change,
				int offline, const char *checked);
/* 1 when staff_id's password hash here is still stored (the one a sign-in
 * or a change checked in the pool), 0 when it was set since, -1 error. */
int auth__pw_still(node *n, const char *staff_id, const char *stored);
/* End s and clear the cookies on req (req may be NULL). */
void auth__session_end(node *n, node_session *s, http_req *req);
/* Reload u (and group) from the staff row.  1 active, 0 inactive or
 * missing, -1 database error. */
int auth__load_user(node *n, const char *staff_id, node_user *u, char *group, size_t glen);
/* Note the account's current password hash in s: a password set anywhere
 * else later (a new hash pulled from the hub) ends s.  Call after the session
 * itself changed the password. */
void auth__pw_mark(node *n, node_session *s);
/* 0 when req carries s's CSRF token. */
int auth__csrf_ok(const node_session *s, http_req *req);
/* The live session whose token hashes to key (ss_key), or NULL: it ended. */
node_session *auth__session_by_key(node *n, const unsigned char key[32]);
/* 1 when the hub said it holds the verifier of staff_id's password stored
 * here now (sync_state "verifier_ok:STAFF", node_login.c), 0 when not, -1
 * error. */
int auth__verifier_confirmed(node *n, const char *staff_id);

#endif
