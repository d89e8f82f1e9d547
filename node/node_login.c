/*
 * node_login.c - staff sign-in at the office node: the session routes, the
 * offline rules, throttling, and the first-login password change.
 *
 *   POST   /api/v1/session                  {username, password}: sign in
 *   GET    /api/v1/session                  who am I (or, signed out, whether
 *                                           and why sign-in works right now)
 *   DELETE /api/v1/session                  sign out
 *   POST   /api/v1/session/password         {current_password, new_password}
 *   POST   /api/v1/session/password-check   {password}: the rule, live
 *
 * Passwords are checked against the Local Area's hashes replicated from the
 * hub (staff_credentials), with PBKDF2 in the libuv thread pool, never on
 * the loop thread.  An unknown user name costs the same PBKDF2 against a
 * dummy hash, so timing does not tell which names exist.
 *
 * Offline rules (DESIGN.md, Accounts and security).  "Connected" means the
 * node's background sync completed a cycle with the hub (push and pull)
 * within the last NODE_AUTH_CONNECTED_MS (one minute; a cycle runs every
 * few seconds while the hub answers) and no cycle has failed since.  An
 * enrolled node refuses every sign-in once its last successful pull is older
 * than offline_login_max_age (default 72 hours), connected or not, so a
 * deactivation at the hub reaches every office within that bound.  A
 * temporary password works only while connected (a stand-alone node, never
 * enrolled, has no hub and so never accepts one).  Both are explained by GET
 * /api/v1/session for the login page.
 *
 * Throttling: failures count per account and client address ("ac:"), per
 * client address ("c:"), per account ("a:") and, on IPv6, per network
 * ("n:", the /64).  The first two make a guessing client wait up to 15
 * minutes; the account-wide count only slows an account to one attempt per
 * 30 s at worst, and the network's (every PC of an office on IPv6 shares
 * one /64) only after 60 failures, a minute at worst; an attempt refused
 * for waiting is not a failure, so nobody can lock a colleague - let alone
 * the office - out for long.  At most 2 verifications per client, 2 per
 * account (successful ones too: one person signing in in a loop from many
 * addresses holds two) and 16 in all are in flight.
 *
 * A password changed here is written in one captured transaction: a
 * credential_changes row (pushed to the hub, which applies it when
 * prev_hash_sha256 still names its current hash) and, outside the capture
 * (staff_credentials is hub-owned), the node's own copy, so the new password
 * works at once, offline too.  Logins, failed logins of known accounts and
 * password changes are audit_events rows that reach the hub with the next
 * push.  No log line here names a password, hash, token or user name; staff
 * ids only.
 */
#include "node/node_auth_int.h"
#include "node/node_api.h"
#include "node/node_edge.h"
#include "model/audit.h"
#include "model/capture.h"
#include "model/password.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/testhook.h"
#include "lib/uuid.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOGIN_PW_INPUT_MAX 128       /* longer input is refused unhashed */
/* Failures before a key waits, and its longest wait.  A client is one
 * address; its network (an IPv6 /64: one office's LAN, every PC of it, or
 * one machine with many addresses) counts too, only much later and never
 * for long, so one person's guesses never lock a whole office out. */
#define LOGIN_FREE_ACCT_CLIENT 5
#define LOGIN_FREE_CLIENT 20
#define LOGIN_FREE_NET 60
#define LOGIN_FREE_ACCT 10
#define LOGIN_CAP_CLIENT_MS (15 * 60 * 1000ull)
#define LOGIN_CAP_NET_MS (60 * 1000ull)
#define LOGIN_CAP_ACCT_MS (30 * 1000ull)
/* Password checks in flight: per address, per account (one person signing
 * in again and again from many addresses holds two of the node's), all. */
#define LOGIN_INFLIGHT_CLIENT 2
#define LOGIN_INFLIGHT_ACCT 2
#define LOGIN_INFLIGHT_ALL 16

/* A well-formed hash that no password matches: unknown names cost the same. */
static const char dummy_hash[] =
	"pbkdf2-sha256$600000$5d0b1e4c7a9f2e31c8d6b0a4f3e2d1c0$"
	"9f2c7b1e0d4a6c3b8e5f1a2d7c9b0e4f6a3d8c1b5e7f2a9d0c4b6e8f1a3d5c7b";

/* ---- the node's connection state -------------------------------------------- */

typedef struct login_state {
	const char *ls_mode;         /* standalone | connected | offline */
	int ls_allowed;              /* anyone may sign in now */
	int ls_temp_allowed;         /* a temporary password works now */
	int64_t ls_last_pull_ms;     /* -1 never */
	int64_t ls_max_age_s;
	char ls_reason[32];          /* why not allowed: offline_too_long, schema_refused,
				      * not_enrolled */
	char ls_message[400];
} login_state;

static void login_state_get(node *n, login_state *ls)
{
	char v[32];
	uint64_t now = clock_ms();
	int64_t left_s;
	int enrolled, connected, refused;

	memset(ls, 0, sizeof *ls);
	ls->ls_max_age_s = conf_int(&n->nd_conf, "offline_login_max_age");
	ls->ls_last_pull_ms = -1;
	if (db_kv_get(n->nd_db, "node_meta", "last_pull_ms", v, sizeof v) == DB_FOUND && v[0])
		ls->ls_last_pull_ms = strtoll(v, NULL, 10);
	enrolled = node_enrolled(n);
	connected = enrolled && node_sync_connected(n, NODE_AUTH_CONNECTED_MS);
	if (!enrolled && !conf_bool(&n->nd_conf, "demo")) {
		/* Its only accounts are the demo ones, with the published
		 * password: with demo off, that password opens nothing (as at
		 * a hub without demo). */
		ls->ls_mode = "standalone";
		snprintf(ls->ls_reason, sizeof ls->ls_reason, "not_enrolled");
		snprintf(ls->ls_message, sizeof ls->ls_message,
			 "Sign-in is not possible: this office node is not enrolled with a hub "
			 "and demo mode is off. Please tell your IT contact (outpost-sync enroll).");
		return;
	}
	if (!enrolled) {
		ls->ls_mode = "standalone";
		ls->ls_allowed = 1;
		snprintf(ls->ls_message, sizeof ls->ls_message,
			 "This office node works on its own (it is not enrolled with a hub). "
			 "Only accounts stored on this node can sign in, and temporary "
			 "passwords do not work here.");
		return;
	}
	ls->ls_mode = connected ? "connected" : "offline";
	/* The hub answers but refuses this node's release: no pull lands
	 * until both run the same, however connected the office is.  The
	 * older side is the one to upgrade: this PC, or the hub when this PC
	 * was upgraded first (NODE_UPGRADE_HUB, from the hub's reply). */
	refused = connected ? 0 : node_sync_schema_refused(n);
	if (ls->ls_last_pull_ms < 0 ||
	    (int64_t)now - ls->ls_last_pull_ms > ls->ls_max_age_s * 1000) {
		double h = ls->ls_max_age_s / 3600.0;
		snprintf(ls->ls_reason, sizeof ls->ls_reason,
			 refused ? "schema_refused" : "offline_too_long");
		if (refused == NODE_UPGRADE_HUB)
			snprintf(ls->ls_message, sizeof ls->ls_message,
				 "Sign-in is closed: the hub runs an older version of Outpost than "
				 "this office PC and refuses its updates, so the staff accounts here "
				 "are more than %.*f hours old. The hub must be upgraded to this "
				 "office PC's version (or this PC put back to the hub's) before staff "
				 "can sign in. Please tell your IT contact (outpost-sync: "
				 "schema_refused).",
				 h == (int64_t)h ? 0 : 1, h);
		else if (refused)
			snprintf(ls->ls_message, sizeof ls->ls_message,
				 "Sign-in is closed: the hub runs another version of Outpost and "
				 "refuses this office PC's updates, so the staff accounts here are "
				 "more than %.*f hours old. This office PC must be upgraded to the "
				 "hub's version before staff can sign in. Please tell your IT "
				 "contact (outpost-sync: schema_refused).",
				 h == (int64_t)h ? 0 : 1, h);
		else if (ls->ls_last_pull_ms < 0)
			snprintf(ls->ls_message, sizeof ls->ls_message,
				 "Sign-in is not possible yet: this office has not received "
				 "the staff accounts from the hub. Connect the office to the "
				 "network and wait for the first update.");
		else
			snprintf(ls->ls_message, sizeof ls->ls_message,
				 "Sign-in is closed: this office has not received updates "
				 "from the hub for more than %.*f hours. So that a closed "
				 "account cannot be used here, nobody can sign in until the "
				 "office is connected again. Please tell your IT contact.",
				 h == (int64_t)h ? 0 : 1, h);
		return;
	}
	ls->ls_allowed = 1;
	ls->ls_temp_allowed = connected;
	/* until sign-in closes, if no pull lands */
	left_s = (ls->ls_last_pull_ms + ls->ls_max_age_s * 1000 - (int64_t)now) / 1000;
	if (refused) {
		snprintf(ls->ls_message, sizeof ls->ls_message,
			 "%s Until then you can sign in with your own password (not a "
			 "temporary one), and sign-in closes in about %" PRId64 " hours %" PRId64
			 " minutes.",
			 refused == NODE_UPGRADE_HUB
				 ? "The hub runs an older version of Outpost than this office PC "
				   "and refuses its updates: upgrade the hub to this office PC's "
				   "version (or put this PC back to the hub's)."
				 : "The hub runs another version of Outpost and refuses this office "
				   "PC's updates: upgrade this office PC to the hub's version.",
			 left_s / 3600, (left_s % 3600) / 60);
	} else if (!connected) {
		snprintf(ls->ls_message, sizeof ls->ls_message,
			 "This office is offline. You can sign in with your own password, "
			 "but a temporary password works only while the office is connected "
			 "to the hub. If the office stays offline, sign-in closes in about "
			 "%" PRId64 " hours %" PRId64 " minutes.",
			 left_s / 3600, (left_s % 3600) / 60);
	}
}

static cJSON *login_state_json(const login_state *ls)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "mode", ls->ls_mode);
	cJSON_AddBoolToObject(o, "logins_allowed", ls->ls_allowed);
	cJSON_AddBoolToObject(o, "temporary_passwords_allowed", ls->ls_temp_allowed);
	if (ls->ls_last_pull_ms >= 0)
		cJSON_AddNumberToObject(o, "last_pull_ms", (double)ls->ls_last_pull_ms);
	else
		cJSON_AddNullToObject(o, "last_pull_ms");
	cJSON_AddNumberToObject(o, "offline_login_max_age_s", (double)ls->ls_max_age_s);
	json_add_str_or_null(o, "reason", ls->ls_reason[0] ? ls->ls_reason : NULL);
	json_add_str_or_null(o, "message", ls->ls_message[0] ? ls->ls_message : NULL);
	return o;
}

/* ---- replies ------------------------------------------------------------------- */

static cJSON *error_json(const char *field, const char *reason, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", msg);
	if (field && field[0]) /* the one error shape: no field, no member */
		cJSON_AddStringToObject(o, "field", field);
	json_add_str_or_null(o, "reason", reason);
	return o;
}

static void reply_retry(http_req *req, uint64_t wait_ms, const char *msg)
{
	char v[32];
	uint64_t s = (wait_ms + 999) / 1000;
	cJSON *o;

	if (s == 0)
		s = 1;
	snprintf(v, sizeof v, "%" PRIu64, s);
	http_add_header(req, "Retry-After", v);
	o = error_json(NULL, "throttled", msg);
	cJSON_AddNumberToObject(o, "retry_after_s", (double)s);
	http_reply_json(req, 429, o);
}

/*
 * An end of access ahead (issue 16), said at sign-in: a deactivation
 * scheduled for the separation date, or a recertification coming due (the
 * account is suspended 30 days after the due date; warned from 30 days
 * before it).  Adds "access_warning" {"kind", "on", "message"} to o.
 */
static void access_warning(node *n, const char *staff_id, cJSON *o)
{
	cJSON *r = db_row_json_by(n->nd_db, "SELECT deactivate_on, suspend_on FROM staff WHERE id=?",
				  staff_id), *w;
	const char *dea = json_str(r, "deactivate_on"), *sus = json_str(r, "suspend_on");
	char today[11], lim[11], due[11] = "";

	node_today(n, today);
	if (r == NULL || clock_date_add(today, 60, lim) != 0) {
		cJSON_Delete(r);
		return;
	}
	if (sus)
		clock_date_add(sus, -30, due);
	if (dea && strcmp(dea, lim) <= 0) {
		w = cJSON_AddObjectToObject(o, "access_warning");
		cJSON_AddStringToObject(w, "kind", "deactivation");
		cJSON_AddStringToObject(w, "on", dea);
		cJSON_AddStringToObject(w, "message", "Your account will be deactivated on your separation date.");
	} else if (due[0] && strcmp(due, lim) <= 0 && clock_days_between(today, due) <= 30) {
		w = cJSON_AddObjectToObject(o, "access_warning");
		cJSON_AddStringToObject(w, "kind", "recertification");
		cJSON_AddStringToObject(w, "on", sus);
		cJSON_AddStringToObject(w, "message", "Your annual recertification is due: ask your supervisor"
				       " to submit it, or the account is suspended on the date shown.");
	}
	cJSON_Delete(r);
}

static cJSON *session_json(node *n, const node_session *s)
{
	cJSON *o = cJSON_CreateObject(), *u, *p;
	login_state ls;
	char today[11];

	cJSON_AddBoolToObject(o, "signed_in", s != NULL);
	if (s) {
		cJSON_AddBoolToObject(o, "must_change_password", s->ss_must_change);
		cJSON_AddBoolToObject(o, "signed_in_offline", s->ss_offline);
		cJSON_AddStringToObject(o, "csrf_token", s->ss_csrf);
		u = cJSON_AddObjectToObject(o, "user");
		cJSON_AddStringToObject(u, "id", s->ss_user.id);
		cJSON_AddStringToObject(u, "username", s->ss_user.username);
		cJSON_AddStringToObject(u, "display_name", s->ss_user.display_name);
		cJSON_AddStringToObject(u, "office_id", s->ss_user.office_id);
		cJSON_AddStringToObject(u, "local_area_id", s->ss_user.local_area_id);
		cJSON_AddStringToObject(u, "privilege_group", s->ss_group);
		cJSON_AddBoolToObject(u, "crm_work_group", s->ss_user.crm_work_group);
		p = cJSON_AddArrayToObject(o, "privileges");
		for (unsigned b = 1; b & PRIV_ALL; b <<= 1)
			if (s->ss_user.privs & b)
				cJSON_AddItemToArray(p, cJSON_CreateString(priv_name(b)));
		/* The due-today hint at login: work items assigned to me. */
		if ((s->ss_user.privs & PRIV_VIEW) && !s->ss_must_change) {
			sqlite3_stmt *st;
			node_today(n, today);
			if (db_prepare(n->nd_db, &st,
				       "SELECT count(*) FROM work_items WHERE assignee_id=? AND"
				       " status <> 'Closed' AND deleted = 0 AND due_date = ?") == 0) {
				sqlite3_bind_text(st, 1, s->ss_user.id, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, today, -1, SQLITE_STATIC);
				if (sqlite3_step(st) == SQLITE_ROW)
					cJSON_AddNumberToObject(o, "due_today",
								sqlite3_column_int(st, 0));
				sqlite3_finalize(st);
			}
		}
		access_warning(n, s->ss_user.id, o);
		{
			struct node_auth *a = n->nd_auth;
			uint64_t now = clock_mono_ms(), end = s->ss_seen_ms + a->na_idle_ms;
			cJSON_AddNumberToObject(o, "idle_timeout_s", (double)(a->na_idle_ms / 1000));
			if (s->ss_created_ms + a->na_abs_ms < end)
				end = s->ss_created_ms + a->na_abs_ms;
			/* seconds until the idle sign-out, so a page can warn first */
			cJSON_AddNumberToObject(o, "idle_remaining_s",
						(double)(end > now ? (end - now) / 1000 : 0));
			/* Sessions run on the monotonic clock: the wall-clock instant. */
			cJSON_AddNumberToObject(o, "expires_at_ms",
						(double)(clock_ms() + s->ss_created_ms + a->na_abs_ms -
							 clock_mono_ms()));
		}
	}
	login_state_get(n, &ls);
	cJSON_AddItemToObject(o, "login", login_state_json(&ls));
	return o;
}

/* ---- audit --------------------------------------------------------------------- */

/* Inside an open capture: one audit event.  No office yet: nothing. */
static int audit_login(node *n, http_req *req, const char *staff_id, const char *action,
		       int connected)
{
	audit_event ev;
	char detail[160];

	if (n->nd_office_id[0] == '\0')
		return 0;
	memset(&ev, 0, sizeof ev);
	snprintf(detail, sizeof detail, "{\"client\":\"%s\",\"connected\":%s}",
		 strspn(req->peer, "0123456789abcdefABCDEF.:") == strlen(req->peer) ? req->peer : "",
		 connected ? "true" : "false");
	ev.ae_at = (int64_t)node_now_ms(n);
	ev.ae_office_id = n->nd_office_id;
	ev.ae_local_area_id = n->nd_local_area_id[0] ? n->nd_local_area_id : NULL;
	ev.ae_node_id = n->nd_node_id;
	ev.ae_staff_id = staff_id;
	ev.ae_action = action;
	ev.ae_subject_table = staff_id ? "staff" : NULL;
	ev.ae_subject_id = staff_id;
	ev.ae_detail = detail;
	return audit_record(n->nd_db, &ev, NULL);
}

/* ---- the thread-pool job --------------------------------------------------------- */

enum { JOB_LOGIN, JOB_CHANGE };

typedef struct login_job {
	uv_work_t lj_work;
	node *lj_node;
	http_req *lj_req;
	int lj_kind;
	char lj_pw[LOGIN_PW_INPUT_MAX + 1];
	char lj_new[LOGIN_PW_INPUT_MAX + 1];
	char lj_stored[PASSWORD_HASH_MAX];
	char lj_new_hash[PASSWORD_HASH_MAX];
	char lj_cur_v[PASSWORD_VERIFIER_HEX], lj_new_v[PASSWORD_VERIFIER_HEX];
	char lj_staff_id[64];
	char lj_local_area[64];
	char lj_k_ac[THROTTLE_KEY_MAX], lj_k_c[THROTTLE_KEY_MAX], lj_k_a[THROTTLE_KEY_MAX];
	char lj_k_n[THROTTLE_KEY_MAX]; /* the client's network, "" when it is the address */
	int lj_known;
	int lj_temp;
	int64_t lj_expires_ms;   /* temporary password's expiry, 0 none */
	int lj_ask_hub;          /* connected: the hub gets the verifier if it lacks it */
	int lj_approver;         /* holds an approver role: a sign-in derives lj_v */
	char lj_v[PASSWORD_VERIFIER_HEX]; /* [work] the verifier a sign-in derived */
	int lj_hub;              /* [work] node_sync_verifier's answer */
	int lj_match;            /* [work] 1 match, 0 no, -1 error */
	int lj_hash_rc;          /* [work] password_hash of lj_new */
} login_job;

/* Test build: OUTPOST_TEST_HOOKS_LOGIN_DELAY_FILE names a file holding a
 * number of ms each sign-in's password check in the pool then takes
 * longer, so a test can change a password while a check of the old one
 * runs. */
static void test_login_delay(const login_job *j)
{
#if TEST_HOOKS_BUILT
	const char *path = getenv("OUTPOST_TEST_HOOKS_LOGIN_DELAY_FILE");
	FILE *f;
	int ms = 0;

	if (j->lj_kind != JOB_LOGIN || path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	if (fscanf(f, "%d", &ms) == 1 && ms > 0)
		usleep((useconds_t)ms * 1000);
	fclose(f);
#else
	(void)j;
#endif
}

static void job_work(uv_work_t *w)
{
	login_job *j = w->data;

	test_login_delay(j);
	j->lj_match = password_verify(j->lj_pw, j->lj_stored);
	/* An approver's decisions are signed with their password's verifier
	 * (model/password.h), kept with the session (the hub, which checks
	 * them, is asked whether it holds it after the sign-in: confirm()). */
	if (j->lj_kind == JOB_LOGIN && j->lj_match == 1 && j->lj_approver &&
	    password_verifier(j->lj_pw, j->lj_stored, j->lj_v) != 0)
		j->lj_v[0] = '\0';
	if (j->lj_kind != JOB_CHANGE || j->lj_match != 1)
		return;
	/* A change derives both second verifiers (model/password.h): the
	 * current one signs the change for the hub, the new one goes to it
	 * wrapped.  Neither is stored here. */
	j->lj_hash_rc = password_hash(j->lj_new, 0, j->lj_new_hash, sizeof j->lj_new_hash) != 0 ||
				password_verifier(j->lj_pw, j->lj_stored, j->lj_cur_v) != 0 ||
				password_verifier(j->lj_new, j->lj_new_hash, j->lj_new_v) != 0
			    ? -1
			    : 0;
	/* The hub must hold the current one, or it would refuse the change:
	 * an account whose password predates the hub's verifiers gives it from
	 * the password typed here (hub/acct_verifier.c), and one whose
	 * password was changed or reset elsewhere is told so now. */
	if (j->lj_hash_rc == 0 && j->lj_ask_hub)
		j->lj_hub =
		    node_sync_verifier(j->lj_node, j->lj_staff_id, j->lj_pw, j->lj_cur_v, NULL);
}

static void throttle_keys(login_job *j, http_req *req, const char *username)
{
	char lower[64];
	size_t i;

	for (i = 0; username[i] && i + 1 < sizeof lower; i++)
		lower[i] = (char)tolower((unsigned char)username[i]);
	lower[i] = '\0';
	snprintf(j->lj_k_ac, sizeof j->lj_k_ac, "ac:%s|%s", req->peer, lower);
	snprintf(j->lj_k_c, sizeof j->lj_k_c, "c:%s", req->peer);
	snprintf(j->lj_k_a, sizeof j->lj_k_a, "a:%s", lower);
	j->lj_k_n[0] = '\0';
	if (strcmp(req->peer_group, req->peer) != 0)
		snprintf(j->lj_k_n, sizeof j->lj_k_n, "n:%s", req->peer_group);
}

/* 0, or replied 429. */
static int throttle_check(struct node_auth *a, login_job *j, http_req *req)
{
	uint64_t now = clock_ms(), w = 0, x;

	x = throttle_wait(a->na_thr, j->lj_k_ac, now);
	w = x > w ? x : w;
	x = throttle_wait(a->na_thr, j->lj_k_c, now);
	w = x > w ? x : w;
	x = throttle_wait(a->na_thr, j->lj_k_a, now);
	w = x > w ? x : w;
	x = j->lj_k_n[0] ? throttle_wait(a->na_thr, j->lj_k_n, now) : 0;
	w = x > w ? x : w;
	if (w > 0) {
		reply_retry(req, w, "Too many failed sign-ins. Please wait before trying again.");
		return -1;
	}
	if (a->na_inflight >= LOGIN_INFLIGHT_ALL ||
	    throttle_inflight(a->na_thr, j->lj_k_c, 0) >= LOGIN_INFLIGHT_CLIENT ||
	    throttle_inflight(a->na_thr, j->lj_k_a, 0) >= LOGIN_INFLIGHT_ACCT) {
		reply_retry(req, 1000, "Too many sign-ins at once. Please try again in a moment.");
		return -1;
	}
	return 0;
}

static void record_failure(struct node_auth *a, login_job *j)
{
	uint64_t now = clock_ms();

	throttle_fail(a->na_thr, j->lj_k_ac, now, LOGIN_FREE_ACCT_CLIENT, LOGIN_CAP_CLIENT_MS);
	throttle_fail(a->na_thr, j->lj_k_c, now, LOGIN_FREE_CLIENT, LOGIN_CAP_CLIENT_MS);
	throttle_fail(a->na_thr, j->lj_k_a, now, LOGIN_FREE_ACCT, LOGIN_CAP_ACCT_MS);
	if (j->lj_k_n[0])
		throttle_fail(a->na_thr, j->lj_k_n, now, LOGIN_FREE_NET, LOGIN_CAP_NET_MS);
}

static int job_queue(struct node_auth *a, login_job *j, uv_after_work_cb after)
{
	j->lj_work.data = j;
	if (uv_queue_work(j->lj_node->nd_loop, &j->lj_work, job_work, after) != 0)
		return -1;
	a->na_inflight++;
	throttle_inflight(a->na_thr, j->lj_k_c, +1);
	throttle_inflight(a->na_thr, j->lj_k_a, +1);
	return 0;
}

/* Back on the loop: the bookkeeping both jobs share.  NULL when the node is
 * shutting down (then the request got its answer here). */
static struct node_auth *job_done(login_job *j)
{
	struct node_auth *a = j->lj_node->nd_auth;

	if (a == NULL) {
		http_reply_error(j->lj_req, 503, NULL, "the office node is shutting down");
		return NULL;
	}
	a->na_inflight--;
	throttle_inflight(a->na_thr, j->lj_k_c, -1);
	throttle_inflight(a->na_thr, j->lj_k_a, -1);
	return a;
}

/* ---- POST /api/v1/session ------------------------------------------------------------ */

/* An approver's sign-in at an enrolled office: whether the hub holds the
 * verifier of that password (it takes it from the password when it has
 * none, node_sync_verifier), asked in the pool after the sign-in has
 * answered, so a slow hub never holds a sign-in.  The answer is kept at
 * the node (sync_state "verifier_ok:STAFF", the password hash's
 * reference): a decision is made only with a verifier the hub can check
 * (node_auth_verifier), never one it would refuse while the office keeps
 * it.  When the hub cannot be asked (the office offline at the sign-in),
 * the session is marked (ss_vstate SS_V_DUE) and asked for again after
 * the next sync cycle that reaches the hub, with the session's verifier
 * alone: the password is not kept (node_auth_confirm_due).  A hub that
 * holds another password's verifier (changed or reset elsewhere), or none
 * (only a sign-in's password gives it), or that refuses to answer for the
 * account (404/409: moved to another Local Area, deactivated or unknown
 * there, not yet heard here), is not asked again: the approver signs in
 * again. */
typedef struct confirm_job {
	uv_work_t cj_work;
	node *cj_node;
	unsigned char cj_sess[32]; /* the session's ss_key */
	unsigned cj_ask;           /* its ss_vask when asked */
	char cj_staff[64];
	char cj_pw[LOGIN_PW_INPUT_MAX + 1]; /* "": the verifier alone */
	char cj_v[PASSWORD_VERIFIER_HEX], cj_v_next[PASSWORD_VERIFIER_HEX];
	char cj_ref[65];
	int cj_rc; /* [work] node_sync_verifier's answer */
} confirm_job;

static void confirm_work(uv_work_t *w)
{
	confirm_job *cj = w->data;

	cj->cj_rc = node_sync_verifier(cj->cj_node, cj->cj_staff, cj->cj_pw[0] ? cj->cj_pw : NULL,
				       cj->cj_v, cj->cj_v_next);
	crypto_wipe(cj->cj_pw, sizeof cj->cj_pw);
	crypto_wipe(cj->cj_v, sizeof cj->cj_v);
	crypto_wipe(cj->cj_v_next, sizeof cj->cj_v_next);
}

/* The session asks again after the next sync cycle (none: the approver
 * signs in again, node_auth_verifier). */
static void confirm_later(node *n, node_session *s)
{
	s->ss_vstate = SS_V_DUE;
	s->ss_vcycle = node_sync_next_cycle(n);
}

static void confirm_done(uv_work_t *w, int status)
{
	confirm_job *cj = w->data;
	node *n = cj->cj_node;
	node_session *s;
	char key[96];
	int rc = status == 0 ? cj->cj_rc : -1;

	if (n->nd_auth == NULL)
		goto out; /* shutting down */
	if (rc == 1) {
		snprintf(key, sizeof key, "verifier_ok:%s", cj->cj_staff);
		if (db_kv_set(n->nd_db, "sync_state", key, cj->cj_ref) != 0)
			log_warnx("login: cannot note the hub's verifier of staff %s", cj->cj_staff);
	}
	/* The session, unless it ended or asked again since (a password
	 * changed in it: the answer is of the old one). */
	s = auth__session_by_key(n, cj->cj_sess);
	if (s == NULL || s->ss_vask != cj->cj_ask || s->ss_vstate != SS_V_ASKING)
		goto out;
	if (rc == -1) {
		log_info("login: the hub could not be asked whether it holds the verifier of"
			 " staff %s: asked again after the next sync with it",
			 cj->cj_staff);
		confirm_later(n, s);
	} else
		s->ss_vstate = rc == 1 ? SS_V_NONE : SS_V_REFUSED;
out:
	crypto_free(cj, sizeof *cj);
}

/* Ask whether the hub holds the verifier v (of pw, whose stored form is
 * stored) or, after a change made here that may not have reached it yet,
 * v_next (of the stored form stored, the new one): the hub takes the
 * change, signed with v, and with it v_next.  pw NULL: v alone (a question
 * asked again, node_auth_confirm_due).  The answer goes to session s. */
static void confirm(node *n, node_session *s, const char *pw, const char *v,
		    const char *v_next, const char *stored)
{
	confirm_job *cj = calloc(1, sizeof *cj);

	s->ss_vask++;
	if (cj == NULL || password_hash_ref(stored, cj->cj_ref) != 0) {
		free(cj);
		confirm_later(n, s);
		return;
	}
	cj->cj_node = n;
	cj->cj_work.data = cj;
	memcpy(cj->cj_sess, s->ss_key, sizeof cj->cj_sess);
	cj->cj_ask = s->ss_vask;
	snprintf(cj->cj_staff, sizeof cj->cj_staff, "%s", s->ss_user.id);
	snprintf(cj->cj_pw, sizeof cj->cj_pw, "%s", pw ? pw : "");
	snprintf(cj->cj_v, sizeof cj->cj_v, "%s", v);
	snprintf(cj->cj_v_next, sizeof cj->cj_v_next, "%s", v_next ? v_next : "");
	if (uv_queue_work(n->nd_loop, &cj->cj_work, confirm_work, confirm_done) != 0) {
		crypto_free(cj, sizeof *cj);
		confirm_later(n, s);
		return;
	}
	s->ss_vstate = SS_V_ASKING;
}

void node_auth_confirm_due(node *n, uint64_t cycle)
{
	struct node_auth *a = n->nd_auth;
	char stored[PASSWORD_HASH_MAX];
	int ok;

	if (a == NULL || !node_enrolled(n))
		return;
	for (size_t i = 0; i < a->na_top; i++) {
		node_session *s = &a->na_sess[i];

		if (!s->ss_used || s->ss_must_change || s->ss_verifier[0] == '\0' ||
		    s->ss_vstate != SS_V_DUE || s->ss_vcycle > cycle)
			continue;
		/* (another session of the account may have had the answer) */
		if ((ok = auth__verifier_confirmed(n, s->ss_user.id)) != 0) {
			if (ok == 1)
				s->ss_vstate = SS_V_NONE;
			continue;
		}
		/* The session began with the password stored now (the sweep,
		 * just run, ended those whose password was set since). */
		if (db_text(n->nd_db, "SELECT password_hash FROM staff_credentials WHERE id=?",
			    s->ss_user.id, stored, sizeof stored) != 0 ||
		    stored[0] == '\0')
			continue;
		confirm(n, s, NULL, s->ss_verifier, NULL, stored);
	}
}

static void after_login(uv_work_t *w, int status)
{
	login_job *j = w->data;
	node *n = j->lj_node;
	http_req *req = j->lj_req;
	struct node_auth *a = job_done(j);
	login_state ls;
	node_session *s;
	capture c;
	int connected, still;

	if (a == NULL)
		goto out;
	login_state_get(n, &ls);
	connected = strcmp(ls.ls_mode, "connected") == 0;
	if (status != 0 || j->lj_match < 0) {
		if (j->lj_match < 0 && j->lj_known)
			log_warnx("login: stored password of staff %s is malformed", j->lj_staff_id);
		http_reply_error(req, 500, NULL, "sign-in failed; please try again");
		goto out;
	}
	if (j->lj_match != 1 || !j->lj_known) {
		record_failure(a, j);
		if (j->lj_known) {
			if (node_write_begin(n, &c) != 0) {
				node_reply_db_error(req);
				goto out;
			}
			if (audit_login(n, req, j->lj_staff_id, "login_failed", connected) != 0) {
				capture_abort(&c);
				node_reply_db_error(req);
				goto out;
			}
			node_write_finish(n, &c, j->lj_staff_id, req, 401,
					  error_json("password", "bad_credentials",
						     "The user name or password is not correct."));
		} else {
			http_reply_json(req, 401, error_json("password", "bad_credentials",
							     "The user name or password is not correct."));
		}
		goto out;
	}
	/* The password is right: what remains are the account's own states. */
	throttle_clear(a->na_thr, j->lj_k_ac);
	throttle_clear(a->na_thr, j->lj_k_a);
	if (!ls.ls_allowed) {
		http_reply_json(req, 403, error_json(NULL, ls.ls_reason, ls.ls_message));
		goto out;
	}
	if (j->lj_temp) {
		if (!ls.ls_temp_allowed) {
			http_reply_json(req, 403, error_json("password", "temporary_offline",
				"A temporary password works only while this office is connected "
				"to the hub, and it is not connected now. Try again once the "
				"office is back online, or ask your administrator."));
			goto out;
		}
		if (j->lj_expires_ms > 0 &&
		    password_temp_expired(j->lj_expires_ms - PASSWORD_TEMP_TTL_MS,
					  (int64_t)node_now_ms(n))) {
			http_reply_json(req, 403, error_json("password", "temporary_expired",
				"This temporary password has expired (they are valid for 24 hours). "
				"Ask your administrator for a new one."));
			goto out;
		}
	}
	/* The password checked may have been changed or reset while PBKDF2
	 * ran (here, or by a pull): it no longer opens the account. */
	if ((still = auth__pw_still(n, j->lj_staff_id, j->lj_stored)) != 1) {
		if (still < 0)
			node_reply_db_error(req);
		else
			http_reply_json(req, 401, error_json("password", "bad_credentials",
							     "The user name or password is not correct."));
		goto out;
	}
	/* Whatever session this browser held ends: the new one gets a new token
	 * (a token planted before the login is never promoted). */
	s = auth__session(n, req);
	if (s)
		auth__session_end(n, s, NULL);
	s = auth__session_new(n, req, j->lj_staff_id, j->lj_temp,
			      strcmp(ls.ls_mode, "offline") == 0, j->lj_stored);
	if (s == NULL) {
		http_reply_json(req, 403, error_json(NULL, "inactive",
						     "This account is not active. Ask your administrator."));
		goto out;
	}
	memcpy(s->ss_verifier, j->lj_v, sizeof s->ss_verifier);
	if (node_write_begin(n, &c) != 0) {
		auth__session_end(n, s, req);
		node_reply_db_error(req);
		goto out;
	}
	if (audit_login(n, req, j->lj_staff_id,
			strcmp(ls.ls_mode, "offline") == 0 ? "login_offline" : "login",
			connected) != 0) {
		capture_abort(&c);
		auth__session_end(n, s, req);
		node_reply_db_error(req);
		goto out;
	}
	log_info("login: staff %s signed in%s", j->lj_staff_id,
		 strcmp(ls.ls_mode, "offline") == 0 ? " (offline)" : "");
	if (node_write_finish(n, &c, j->lj_staff_id, req, 200, session_json(n, s)) != 0)
		auth__session_end(n, s, NULL);
	else if (j->lj_v[0] && j->lj_ask_hub)
		confirm(n, s, j->lj_pw, j->lj_v, NULL, j->lj_stored);
out:
	crypto_free(j, sizeof *j);
}

/* 1 when staff_id holds an approver role of case work (case_decide.h), 0
 * when not, -1 error. */
static int is_approver(node *n, const char *staff_id)
{
	return db_exists(n->nd_db, "SELECT 1 FROM case_approver_roles WHERE staff_id=? AND active=1",
			 staff_id);
}

/* The account behind a user name: staff and credentials (the node's Local
 * Area only).  Fills j; lj_known = 0 when there is none. */
static int load_account(node *n, login_job *j, const char *username)
{
	sqlite3_stmt *st;
	const char *id, *stored, *la;
	int rc;

	rc = db_row(n->nd_db, &st,
		    "SELECT s.id, c.password_hash, c.password_temp,"
		    " coalesce(c.password_expires_at, 0), c.local_area_id"
		    " FROM staff s JOIN staff_credentials c ON c.id = s.id"
		    " WHERE s.username = ? COLLATE NOCASE AND c.password_hash IS NOT NULL",
		    username);
	if (rc != 1)
		return rc;
	id = db_col(st, 0);
	stored = db_col(st, 1);
	la = db_col(st, 4);
	if (id == NULL || stored == NULL || la == NULL) { /* out of memory */
		sqlite3_finalize(st);
		return -1;
	}
	j->lj_known = 1;
	snprintf(j->lj_staff_id, sizeof j->lj_staff_id, "%s", id);
	snprintf(j->lj_stored, sizeof j->lj_stored, "%s", stored);
	j->lj_temp = sqlite3_column_int(st, 2) != 0;
	j->lj_expires_ms = sqlite3_column_int64(st, 3);
	snprintf(j->lj_local_area, sizeof j->lj_local_area, "%s", la);
	sqlite3_finalize(st);
	j->lj_approver = is_approver(n, j->lj_staff_id) == 1;
	return 0;
}

static const route_key session_keys[] = {
	{"username", ROUTE_T_ANY, 0}, {"password", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* POST /api/v1/session: checked here, then PBKDF2 in the pool; after_login
 * answers (ROUTE_TAKEN). */
static route_rc post_session(route_call *call)
{
	node *n = API_NODE(call);
	http_req *req = call->rc_req;
	struct node_auth *a = n->nd_auth;
	const char *user = json_str(call->rc_body, "username");
	const char *pw = json_str(call->rc_body, "password");
	login_state ls;
	login_job *j = NULL;

	if (!node_edge_signin_ok(n, req))
		return route_fail(call, 403, NULL,
				  "staff sign in over HTTPS on the office network: passwords and records "
				  "do not cross it in the clear (set https_listen, README \"HTTPS at the "
				  "node\"; or lan_http = yes on a network you trust)");
	if (user == NULL || user[0] == '\0')
		route_err(call, "username", "enter your user name");
	else if (strlen(user) > 63)
		route_err(call, "username", "the user name is too long (at most 63 characters)");
	if (pw == NULL || pw[0] == '\0')
		route_err(call, "password", "enter your password");
	else if (strlen(pw) > LOGIN_PW_INPUT_MAX)
		route_err(call, "password", "the password is too long");
	if (call->rc_nerr)
		return ROUTE_BAD;
	login_state_get(n, &ls);
	/* Nobody can sign in: say why, and spend no PBKDF2 on it. */
	if (!ls.ls_allowed)
		return route_ok(call, 403, error_json(NULL, ls.ls_reason, ls.ls_message));
	if ((j = calloc(1, sizeof *j)) == NULL)
		return ROUTE_DBERR;
	j->lj_node = n;
	j->lj_req = req;
	j->lj_kind = JOB_LOGIN;
	throttle_keys(j, req, user);
	if (throttle_check(a, j, req) != 0) {
		crypto_free(j, sizeof *j);
		return ROUTE_TAKEN; /* 429 sent */
	}
	if (load_account(n, j, user) != 0) {
		crypto_free(j, sizeof *j);
		return ROUTE_DBERR;
	}
	if (j->lj_known && strcmp(ls.ls_mode, "standalone") != 0 &&
	    node_demo_login_hash(j->lj_stored))
		j->lj_known = 0; /* the public demo password never opens an enrolled node */
	if (!j->lj_known)
		snprintf(j->lj_stored, sizeof j->lj_stored, "%s", dummy_hash);
	snprintf(j->lj_pw, sizeof j->lj_pw, "%s", pw);
	/* (asked whenever enrolled: off the sign-in's path, a hub out of
	 * reach costs nothing, and "connected" may lag a hub back in reach) */
	j->lj_ask_hub = j->lj_known && j->lj_approver && !j->lj_temp && node_enrolled(n);
	if (job_queue(a, j, after_login) != 0) {
		crypto_free(j, sizeof *j);
		return route_fail(call, 503, NULL, "sign-in is busy; please try again");
	}
	return ROUTE_TAKEN;
}

/* ---- GET / DELETE /api/v1/session --------------------------------------------------- */

static route_rc get_session(route_call *a)
{
	node *n = API_NODE(a);

	http_add_header(a->rc_req, "Cache-Control", "no-store");
	return route_ok(a, 200, session_json(n, auth__session(n, a->rc_req)));
}

/* DELETE /api/v1/session: public, as a browser's stale cookies are cleared
 * even without a session. */
static route_rc delete_session(route_call *a)
{
	node *n = API_NODE(a);
	http_req *req = a->rc_req;
	node_session *s = auth__session(n, req);
	cJSON *o;

	if (s == NULL) {
		auth__session_end(n, NULL, req);
		return route_fail(a, 401, NULL, "you are not signed in");
	}
	if (auth__csrf_ok(s, req) != 0)
		return route_fail(a, 403, "csrf_token",
				  "this request lacks the page's security token; reload the page");
	log_info("login: staff %s signed out", s->ss_user.id);
	auth__session_end(n, s, req);
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "signed_in", 0);
	return route_ok(a, 200, o);
}

/* ---- password change ------------------------------------------------------------------ */

/* The rule and the blocklist; 0, or -1 with *why for the user. */
static int new_password_ok(const char *pw, const char *username, const char **why)
{
	if (password_rule_check(pw, username, why) != 0)
		return -1;
	if (password_is_common(pw)) {
		*why = "this password is too common; choose one that is harder to guess";
		return -1;
	}
	return 0;
}

static const route_key check_keys[] = {{"password", ROUTE_T_ANY, 0}, {NULL, 0, 0}};

/* POST /api/v1/session/password-check: the rule, live (session checked by
 * the dispatcher: ROUTE_SESSION). */
static route_rc post_password_check(route_call *a)
{
	node_session *s = auth__session(API_NODE(a), a->rc_req);
	const char *pw = json_str(a->rc_body, "password"), *why = NULL;
	cJSON *o;

	if (s == NULL)
		return route_fail(a, 401, NULL, "please sign in");
	if (pw == NULL || strlen(pw) > LOGIN_PW_INPUT_MAX)
		return route_bad(a, "password", "enter a password");
	o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "ok", new_password_ok(pw, s->ss_user.username, &why) == 0);
	json_add_str_or_null(o, "why", why);
	return route_ok(a, 200, o);
}

static void after_change(uv_work_t *w, int status)
{
	login_job *j = w->data;
	node *n = j->lj_node;
	http_req *req = j->lj_req;
	struct node_auth *a = job_done(j);
	node_session *s;
	char prev_ref[65], id[UUID_STRLEN], wrapped[PASSWORD_VERIFIER_HEX],
	    proof[PASSWORD_VERIFIER_HEX];
	int64_t now;
	capture c;
	int connected, still, ok = 0;

	if (a == NULL)
		goto out;
	if (status != 0 || j->lj_match < 0 || (j->lj_match == 1 && j->lj_hash_rc != 0)) {
		http_reply_error(req, 500, NULL, "the password could not be changed; try again");
		goto out;
	}
	if (j->lj_match != 1) {
		record_failure(a, j);
		http_reply_error(req, 403, "current_password", "the current password is not correct");
		goto out;
	}
	if (j->lj_hub == 0) {
		http_reply_error(req, 409, "current_password",
				 "your password was changed or reset at the hub and this office has "
				 "not received it yet: sign in again in a minute with that password, "
				 "or ask your administrator");
		goto out;
	}
	/* The session may have ended while PBKDF2 ran. */
	s = auth__session(n, req);
	if (s == NULL || strcmp(s->ss_user.id, j->lj_staff_id) != 0) {
		http_reply_error(req, 401, NULL, "please sign in");
		goto out;
	}
	connected = node_sync_connected(n, NODE_AUTH_CONNECTED_MS);
	now = (int64_t)node_now_ms(n);
	if (password_hash_ref(j->lj_stored, prev_ref) != 0 || uuid7(id) != 0 ||
	    password_verifier_wrap(j->lj_cur_v, id, j->lj_new_v, wrapped) != 0 ||
	    password_change_proof(j->lj_cur_v, id, j->lj_staff_id, j->lj_new_hash, prev_ref,
				  j->lj_temp ? "first_login" : "change", now, wrapped, proof) != 0) {
		node_reply_db_error(req);
		goto out;
	}
	if (node_write_begin(n, &c) != 0) {
		node_reply_db_error(req);
		goto out;
	}
	/* The password checked is still the account's (another change, from
	 * this session or a pull, may have come while PBKDF2 ran: the hub
	 * would take only the first, and this office keep the second). */
	if ((still = auth__pw_still(n, j->lj_staff_id, j->lj_stored)) != 1) {
		capture_abort(&c);
		if (still < 0)
			node_reply_db_error(req);
		else
			http_reply_error(req, 409, "current_password",
					 "your password was changed a moment ago: sign in again with "
					 "the new one");
		goto out;
	}
	if (db_run(n->nd_db,
		   "INSERT INTO credential_changes(id, staff_id, local_area_id, node_id,"
		   " password_hash, prev_hash_sha256, reason, changed_at, proof, next_verifier)"
		   " VALUES(?,?,?,?,?,?,?,?,?,?)",
		   "tttttttItt", id, j->lj_staff_id, j->lj_local_area, n->nd_node_id, j->lj_new_hash,
		   prev_ref, j->lj_temp ? "first_login" : "change", now, proof, wrapped) != 0)
		goto fail;
	/* The node's copy of the hub-owned row: not captured (the hub would refuse
	 * a node's change to it), but in the same transaction, so the new password
	 * works here at once and offline.  The hub's answer comes with a pull. */
	capture_pause(&c);
	ok = db_run(n->nd_db,
		    "UPDATE staff_credentials SET password_hash=?, password_temp=0,"
		    " password_expires_at=NULL, password_changed_at=? WHERE id=?",
		    "tIt", j->lj_new_hash, now, j->lj_staff_id) == 0 &&
	     sqlite3_changes(n->nd_db) == 1;
	capture_resume(&c);
	if (!ok || audit_login(n, req, j->lj_staff_id, "password_change", connected) != 0)
		goto fail;
	s->ss_must_change = 0;
	auth__pw_mark(n, s);
	if (is_approver(n, j->lj_staff_id) == 1) {
		memcpy(s->ss_verifier, j->lj_new_v, sizeof s->ss_verifier);
		/* (the change, pushed now, gives the hub the new verifier, if it
		 * holds the current one) */
		if (node_enrolled(n))
			confirm(n, s, j->lj_pw, j->lj_cur_v, j->lj_new_v, j->lj_new_hash);
	}
	log_info("login: staff %s changed their password%s", j->lj_staff_id,
		 connected ? "" : " (offline; the hub gets it with the next push)");
	node_write_finish(n, &c, j->lj_staff_id, req, 200, session_json(n, s));
	node_sync_nudge(n);
	goto out;
fail:
	log_warnx("login: password change of staff %s not saved: %s", j->lj_staff_id,
		  sqlite3_errmsg(n->nd_db));
	capture_abort(&c);
	node_reply_db_error(req);
out:
	crypto_free(j, sizeof *j);
}

static const route_key password_keys[] = {
	{"current_password", ROUTE_T_ANY, 0}, {"new_password", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* The new password's rules, every error collected: 0 or -1. */
static int password_input(route_call *call, const node_session *s, const char *cur,
			  const char *nw)
{
	const char *why = NULL;

	if (cur == NULL || cur[0] == '\0' || strlen(cur) > LOGIN_PW_INPUT_MAX)
		route_err(call, "current_password", "enter your current password");
	if (nw == NULL || new_password_ok(nw, s->ss_user.username, &why) != 0)
		route_err(call, "new_password", "%s", why ? why : "enter a new password");
	else if (cur && strcmp(cur, nw) == 0)
		route_err(call, "new_password", "the new password must differ from the current one");
	return call->rc_nerr ? -1 : 0;
}

/* POST /api/v1/session/password: checked here, then PBKDF2 in the pool;
 * after_change writes and answers (ROUTE_TAKEN). */
static route_rc post_password(route_call *call)
{
	node *n = API_NODE(call);
	http_req *req = call->rc_req;
	struct node_auth *a = n->nd_auth;
	node_session *s = auth__session(n, req);
	const char *cur = json_str(call->rc_body, "current_password");
	const char *nw = json_str(call->rc_body, "new_password");
	login_job *j;

	if (s == NULL)
		return route_fail(call, 401, NULL, "please sign in");
	if (password_input(call, s, cur, nw) != 0)
		return ROUTE_BAD;
	if ((j = calloc(1, sizeof *j)) == NULL)
		return ROUTE_DBERR;
	j->lj_node = n;
	j->lj_req = req;
	j->lj_kind = JOB_CHANGE;
	throttle_keys(j, req, s->ss_user.username);
	if (throttle_check(a, j, req) != 0) {
		crypto_free(j, sizeof *j);
		return ROUTE_TAKEN; /* 429 sent */
	}
	if (load_account(n, j, s->ss_user.username) != 0) {
		crypto_free(j, sizeof *j);
		return ROUTE_DBERR;
	}
	if (!j->lj_known || strcmp(j->lj_staff_id, s->ss_user.id) != 0) {
		crypto_free(j, sizeof *j);
		return route_fail(call, 409, NULL,
				  "this office holds no password for your account; change it at "
				  "an office of your Local Area");
	}
	snprintf(j->lj_pw, sizeof j->lj_pw, "%s", cur);
	snprintf(j->lj_new, sizeof j->lj_new, "%s", nw);
	j->lj_ask_hub = !j->lj_temp && node_sync_connected(n, NODE_AUTH_CONNECTED_MS);
	j->lj_hub = -1;
	if (job_queue(a, j, after_change) != 0) {
		crypto_free(j, sizeof *j);
		return route_fail(call, 503, NULL, "the office node is busy; please try again");
	}
	return ROUTE_TAKEN;
}

/*
 * The session routes.  Signing in and out are public (signing out clears a
 * browser's stale cookies without a session); the password routes take any
 * live session, also one that must still change its temporary password
 * (ROUTE_SESSION).  Nothing here is a dispatcher write: a password change
 * writes its own capture once PBKDF2 has run (after_change).
 */
static const route_def login_defs[] = {
	/* JSON only, as the hub's: a cross-site text/plain form cannot sign
	 * a browser in as someone else (the Origin check refuses it too). */
	{HTTP_M_POST, "/api/v1/session", post_session, 0,
	 ROUTE_PUBLIC | ROUTE_BODY | ROUTE_JSON_ONLY | ROUTE_DEFER, session_keys, 0},
	{HTTP_M_GET, "/api/v1/session", get_session, 0, ROUTE_PUBLIC, NULL, 0},
	{HTTP_M_DELETE, "/api/v1/session", delete_session, 0, ROUTE_PUBLIC, NULL, 0},
	{HTTP_M_POST, "/api/v1/session/password", post_password, 0,
	 ROUTE_SESSION | ROUTE_BODY | ROUTE_DEFER, password_keys, 0},
	{HTTP_M_POST, "/api/v1/session/password-check", post_password_check, 0,
	 ROUTE_SESSION | ROUTE_BODY, check_keys, 0},
};

const route_list login_route_list = ROUTE_LIST(login_defs);
