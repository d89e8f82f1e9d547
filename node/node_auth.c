/*
 * node_auth.c - request identity on the office node: the session table,
 * the per-request check (session, expiry, the staff member still active,
 * privileges, CSRF token), the cross-site guard in front of the router and
 * the sweep that ends expired sessions and those of deactivated staff.  The
 * session routes themselves (login, logout, who am I, password change) are
 * in node_login.c.  See node_auth.h.
 *
 * Sessions live in memory only: a restart of the node signs everyone out,
 * which is the safe side.  The table holds the SHA-256 of each token, so
 * even a memory dump names no usable token; lookups compare in constant
 * time.  Nothing here logs a token, a CSRF token or a cookie.
 */
#include "node/node_auth_int.h"
#include "node/node_edge.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "model/demo.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static struct node_auth *auth_of(node *n)
{
	return n->nd_auth;
}

int auth__load_user(node *n, const char *staff_id, node_user *u, char *group, size_t glen)
{
	sqlite3_stmt *st = NULL;
	const char *col[7];
	char id[64], today[11];
	int rc;

	/* staff_id may point into *u. */
	snprintf(id, sizeof id, "%s", staff_id);
	staff_id = id;
	/* Active means not deactivated, not suspended, and not past a
	 * deactivation or suspension date the hub sent ahead (the node's
	 * trusted day: it holds offline too).  Every request of a session
	 * reads it: a cached statement. */
	node_today(n, today);
	if ((st = db_stmt(n->nd_db,
			  "SELECT username, display_name, coalesce(local_area_id, ''),"
			  " coalesce(office_id, ''), privilege_group, priv_add, priv_remove,"
			  " crm_work_group, active AND NOT suspended"
			  " AND (deactivate_on IS NULL OR deactivate_on > ?2)"
			  " AND (suspend_on IS NULL OR suspend_on > ?2) FROM staff WHERE id=?1")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(st, 1, staff_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, today, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		db_stmt_done(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		db_stmt_done(st);
		return -1;
	}
	if (db_cols(st, col, 7) != 0) { /* out of memory: never fewer privileges removed */
		db_stmt_done(st);
		return -1;
	}
	memset(u, 0, sizeof *u);
	snprintf(u->id, sizeof u->id, "%s", staff_id);
	snprintf(u->username, sizeof u->username, "%s", col[0]);
	/* shown only: a long one is shortened between characters */
	snprintf(u->display_name, sizeof u->display_name, "%.*s",
		 (int)json_utf8_cut(col[1], strlen(col[1]), sizeof u->display_name - 1), col[1]);
	snprintf(u->local_area_id, sizeof u->local_area_id, "%s", col[2]);
	snprintf(u->office_id, sizeof u->office_id, "%s", col[3]);
	if (u->office_id[0] == '\0')
		snprintf(u->office_id, sizeof u->office_id, "%s", n->nd_office_id);
	u->privs = priv_effective(col[4], col[5], col[6]);
	u->crm_work_group = sqlite3_column_int(st, 7);
	if (group)
		snprintf(group, glen, "%s", col[4]);
	rc = sqlite3_column_int(st, 8) ? 1 : 0;
	db_stmt_done(st);
	return rc;
}

static void set_cookie(http_req *req, const char *name, const char *value, int http_only,
		       int clear)
{
	char v[256];

	snprintf(v, sizeof v, "%s=%s; Path=/;%s SameSite=Strict%s%s", name, clear ? "" : value,
		 http_only ? " HttpOnly;" : "", req->is_tls ? "; Secure" : "",
		 clear ? "; Max-Age=0" : "");
	http_add_header(req, "Set-Cookie", v);
}

static void session_drop(node_session *s)
{
	crypto_wipe(s, sizeof *s);
}

void auth__session_end(node *n, node_session *s, http_req *req)
{
	(void)n;
	if (s)
		session_drop(s);
	if (req) {
		set_cookie(req, NODE_AUTH_COOKIE, "", 1, 1);
		set_cookie(req, NODE_AUTH_CSRF_COOKIE, "", 0, 1);
	}
}

/* SHA-256 of staff_id's password hash here ("" when none): 0, or -1. */
static int pw_ref(node *n, const char *staff_id, unsigned char out[32])
{
	char h[256] = "";
	sqlite3_stmt *st;
	int rc;

	/* Every request of a session reads it: a cached statement. */
	if ((st = db_stmt(n->nd_db, "SELECT coalesce(password_hash,'') FROM staff_credentials"
				    " WHERE id=?")) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, staff_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *t = db_col(st, 0);

		if (t == NULL)
			rc = SQLITE_NOMEM; /* not "no password": that would end the session */
		else
			snprintf(h, sizeof h, "%s", t);
	}
	db_stmt_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return crypto_sha256(h, strlen(h), out);
}

int auth__pw_still(node *n, const char *staff_id, const char *stored)
{
	unsigned char cur[32], want[32];

	if (pw_ref(n, staff_id, cur) != 0 || crypto_sha256(stored, strlen(stored), want) != 0)
		return -1;
	return crypto_ct_cmp(cur, want, sizeof cur) == 0;
}

void auth__pw_mark(node *n, node_session *s)
{
	if (pw_ref(n, s->ss_user.id, s->ss_pw) != 0)
		memset(s->ss_pw, 0, sizeof s->ss_pw);
}

/* 1 when the account's password was set since s began (trust boundary: a
 * password set anywhere ends the account's other sessions). */
static int pw_changed(node *n, const node_session *s)
{
	unsigned char cur[32];

	return pw_ref(n, s->ss_user.id, cur) == 0 && crypto_ct_cmp(cur, s->ss_pw, sizeof cur) != 0;
}

static int expired(struct node_auth *a, const node_session *s, uint64_t now)
{
	return now >= s->ss_seen_ms + a->na_idle_ms || now >= s->ss_created_ms + a->na_abs_ms;
}

node_session *auth__session_new(node *n, http_req *req, const char *staff_id, int must_change,
				int offline, const char *checked)
{
	struct node_auth *a = auth_of(n);
	unsigned char tok[NODE_AUTH_TOKEN_LEN], csrf[NODE_AUTH_TOKEN_LEN];
	char hex[2 * NODE_AUTH_TOKEN_LEN + 1];
	node_session *s = NULL, *oldest = NULL, *mine = NULL;
	uint64_t now = clock_mono_ms(); /* sessions: a clock set back or on changes nothing */
	int nmine = 0;

	for (size_t i = 0; i < a->na_top; i++) {
		node_session *x = &a->na_sess[i];
		if (x->ss_used && expired(a, x, now))
			session_drop(x);
		if (!x->ss_used) {
			if (s == NULL)
				s = x;
			continue;
		}
		if (oldest == NULL || x->ss_seen_ms < oldest->ss_seen_ms)
			oldest = x;
		if (strcmp(x->ss_user.id, staff_id) == 0 &&
		    (nmine++, mine == NULL || x->ss_seen_ms < mine->ss_seen_ms))
			mine = x;
	}
	/* One person's sign-ins give way among themselves past their share:
	 * signing in again and again never pushes colleagues out of the table. */
	if (nmine >= NODE_AUTH_USER_SESSIONS) {
		session_drop(mine);
		s = mine;
	}
	/* A slot never used comes before a live session gives way: the table
	 * grows into its bound as people sign in, and its untouched pages
	 * cost no memory. */
	if (s == NULL && a->na_top < a->na_nsess)
		s = &a->na_sess[a->na_top];
	if (s == NULL) {
		/* Full of live sessions: the least recently used one gives way. */
		if (oldest == NULL)
			return NULL;
		session_drop(oldest);
		s = oldest;
	}
	memset(s, 0, sizeof *s);
	if ((size_t)(s - a->na_sess) >= a->na_top)
		a->na_top = (size_t)(s - a->na_sess) + 1;
	if (auth__load_user(n, staff_id, &s->ss_user, s->ss_group, sizeof s->ss_group) != 1)
		goto fail;
	if (crypto_random(tok, sizeof tok) != 0 || crypto_random(csrf, sizeof csrf) != 0 ||
	    crypto_sha256(tok, sizeof tok, s->ss_key) != 0)
		goto fail;
	crypto_hex(csrf, sizeof csrf, s->ss_csrf);
	/* Marked with the password the sign-in checked, not the one stored
	 * now: a password set while the check ran ends this session at its
	 * first request, as every other session of the account. */
	if (crypto_sha256(checked, strlen(checked), s->ss_pw) != 0)
		goto fail;
	s->ss_created_ms = s->ss_seen_ms = now;
	s->ss_must_change = must_change;
	s->ss_offline = offline;
	s->ss_used = 1;
	crypto_hex(tok, sizeof tok, hex);
	set_cookie(req, NODE_AUTH_COOKIE, hex, 1, 0);
	set_cookie(req, NODE_AUTH_CSRF_COOKIE, s->ss_csrf, 0, 0);
	crypto_wipe(hex, sizeof hex);
	crypto_wipe(tok, sizeof tok);
	crypto_wipe(csrf, sizeof csrf);
	return s;
fail:
	crypto_wipe(tok, sizeof tok);
	crypto_wipe(csrf, sizeof csrf);
	session_drop(s);
	return NULL;
}

/* The session the cookie names, or NULL; expired ones are ended here. */
static node_session *lookup(node *n, http_req *req)
{
	struct node_auth *a = auth_of(n);
	char hex[2 * NODE_AUTH_TOKEN_LEN + 8];
	unsigned char tok[NODE_AUTH_TOKEN_LEN], key[32];
	node_session *found = NULL;

	if (a == NULL || http_req_cookie(req, NODE_AUTH_COOKIE, hex, sizeof hex) == NULL ||
	    strlen(hex) != 2 * NODE_AUTH_TOKEN_LEN || crypto_unhex(hex, tok, sizeof tok) != 0)
		return NULL;
	if (crypto_sha256(tok, sizeof tok, key) != 0)
		return NULL;
	/* Only the slots ever used: the table is large, and every request looks. */
	for (size_t i = 0; i < a->na_top; i++) {
		node_session *s = &a->na_sess[i];
		if (s->ss_used && crypto_ct_cmp(s->ss_key, key, sizeof key) == 0)
			found = s;
	}
	crypto_wipe(tok, sizeof tok);
	crypto_wipe(hex, sizeof hex);
	if (found && expired(a, found, clock_mono_ms())) {
		session_drop(found);
		return NULL;
	}
	return found;
}

int node_auth_session_live(node *n, http_req *req)
{
	return lookup(n, req) != NULL;
}

/* A page's background refresh or poll (X-Outpost-Background: 1) uses the
 * session without extending it: idleness counts people, not pages. */
static int background(const http_req *req)
{
	const char *v = http_req_header(req, NODE_AUTH_BACKGROUND_HEADER);

	return v != NULL && strcmp(v, "1") == 0;
}

/* s as the staff row and the password now say: s, its user's group and
 * privileges reloaded when node.db changed or the day turned; NULL when it
 * ended (deactivated, gone, the password set elsewhere) or when the check
 * could not be made (refused, the session kept). */
static node_session *session_checked(node *n, node_session *s)
{
	db_version v;
	char today[11];
	int rc, keep;

	/* Nothing written since the last check on the same day: it holds
	 * (every request of a session asks, several times). */
	node_today(n, today);
	keep = node_db_version(n, &v) == 0;
	if (keep && s->ss_day[0] && strcmp(s->ss_day, today) == 0 &&
	    db_version_same(&v, &s->ss_ver))
		return s;
	s->ss_day[0] = '\0';
	/* The staff row decides: deactivated (or gone) ends the session now;
	 * a new group applies now. */
	rc = auth__load_user(n, s->ss_user.id, &s->ss_user, s->ss_group, sizeof s->ss_group);
	if (rc == 0) {
		log_info("session of staff %s ended: account no longer active", s->ss_user.id);
		session_drop(s);
		return NULL;
	}
	if (rc < 0)
		return NULL; /* database trouble: refuse, keep the session */
	if (pw_changed(n, s)) {
		log_info("session of staff %s ended: the password was set elsewhere", s->ss_user.id);
		session_drop(s);
		return NULL;
	}
	if (keep) {
		s->ss_ver = v;
		memcpy(s->ss_day, today, sizeof s->ss_day);
	}
	return s;
}

int auth__verifier_confirmed(node *n, const char *staff_id)
{
	char key[96], have[80] = "", stored[PASSWORD_HASH_MAX] = "", ref[65];
	int rc;

	snprintf(key, sizeof key, "verifier_ok:%s", staff_id);
	rc = db_kv_get(n->nd_db, "sync_state", key, have, sizeof have);
	if (rc != DB_FOUND && rc != DB_ABSENT)
		return -1;
	if (db_text(n->nd_db, "SELECT password_hash FROM staff_credentials WHERE id=?", staff_id,
		    stored, sizeof stored) < 0)
		return -1;
	return rc == DB_FOUND && stored[0] != '\0' && password_hash_ref(stored, ref) == 0 &&
	       strcmp(ref, have) == 0;
}

int node_auth_verifier(node *n, http_req *req, char *out)
{
	node_session *s = auth__session(n, req);
	uint64_t next;
	int rc;

	if (s == NULL || s->ss_verifier[0] == '\0')
		return 0;
	/* Enrolled: only a verifier the hub said it holds (node_login.c,
	 * confirm()), for the password stored now.  Not yet said: asked
	 * again after the next sync cycle that reaches the hub, unless the
	 * hub answered that it holds another one (or none), or refused to
	 * answer for the account, or no cycle runs here. */
	if (node_enrolled(n)) {
		if ((rc = auth__verifier_confirmed(n, s->ss_user.id)) < 0)
			return -1;
		if (rc == 0) {
			if (s->ss_vstate == SS_V_ASKING)
				return -2;
			next = node_sync_next_cycle(n);
			if (s->ss_vstate == SS_V_REFUSED || next == 0)
				return -3;
			if (s->ss_vstate == SS_V_NONE) {
				s->ss_vstate = SS_V_DUE;
				s->ss_vcycle = next;
			}
			return -2;
		}
	}
	memcpy(out, s->ss_verifier, PASSWORD_VERIFIER_HEX);
	return 1;
}

node_session *auth__session_by_key(node *n, const unsigned char key[32])
{
	struct node_auth *a = auth_of(n);

	for (size_t i = 0; a != NULL && i < a->na_top; i++) {
		node_session *s = &a->na_sess[i];
		if (s->ss_used && crypto_ct_cmp(s->ss_key, key, sizeof s->ss_key) == 0)
			return s;
	}
	return NULL;
}

node_session *auth__session(node *n, http_req *req)
{
	node_session *s = lookup(n, req);

	if (s == NULL || (s = session_checked(n, s)) == NULL)
		return NULL;
	if (!background(req))
		s->ss_seen_ms = clock_mono_ms();
	return s;
}

const node_user *node_auth_user(node *n, http_req *req)
{
	node_session *s = auth__session(n, req);

	if (s == NULL || s->ss_must_change)
		return NULL;
	return &s->ss_user;
}

int node_auth_live(node *n, http_req *req, unsigned privs)
{
	node_session *s = lookup(n, req);

	/* the privileges as the staff row says now: a group changed while the
	 * stream is open takes the stream away at its next event */
	if (s != NULL)
		s = session_checked(n, s);
	return s != NULL && !s->ss_must_change && (s->ss_user.privs & privs) == privs;
}

static int state_changing(const http_req *req)
{
	return req->method != HTTP_M_GET && req->method != HTTP_M_HEAD &&
	       req->method != HTTP_M_OPTIONS;
}

int auth__csrf_ok(const node_session *s, http_req *req)
{
	const char *h = http_req_header(req, NODE_AUTH_CSRF_HEADER);

	if (h == NULL || strlen(h) != sizeof s->ss_csrf - 1)
		return -1;
	return crypto_ct_cmp(h, s->ss_csrf, sizeof s->ss_csrf - 1) == 0 ? 0 : -1;
}

/* The refusal of s (auth__session's) for req: 0 or an HTTP status. */
static int check_of(node_session *s, http_req *req, unsigned privs, int any, const char **field,
		    const char **msg)
{
	*field = NULL;
	if (s == NULL) {
		*msg = "please sign in";
		return 401;
	}
	if (state_changing(req) && auth__csrf_ok(s, req) != 0) {
		*field = "csrf_token";
		*msg = "this request lacks the page's security token; reload the page";
		return 403;
	}
	if (s->ss_must_change && !any) {
		*field = "password";
		*msg = "change your temporary password before you continue";
		return 403;
	}
	if ((s->ss_user.privs & privs) != privs) {
		/* Named, so a refusal says what the account lacks ("program_edit":
		 * an intake account reads program applications only).  The loop
		 * thread's buffer: the caller replies before the next check. */
		static char named[96];
		unsigned miss = privs & ~s->ss_user.privs;

		snprintf(named, sizeof named, "your account does not have this privilege (%s)",
			 priv_name(miss & (~miss + 1)));
		*msg = named;
		return 403;
	}
	return 0;
}

static int check(node *n, http_req *req, unsigned privs, int any, const char **field,
		 const char **msg)
{
	return check_of(auth__session(n, req), req, privs, any, field, msg);
}

int node_auth_require_user(node *n, http_req *req, unsigned privs, const node_user **u)
{
	node_session *s = auth__session(n, req);
	const char *field, *msg;
	int status = check_of(s, req, privs, 0, &field, &msg);

	*u = NULL;
	if (status != 0) {
		http_reply_error(req, status, field, "%s", msg);
		return -1;
	}
	if (!s->ss_must_change)
		*u = &s->ss_user;
	return 0;
}

int node_auth_check(node *n, http_req *req, unsigned privs, const char **field,
		    const char **msg)
{
	return check(n, req, privs, 0, field, msg);
}

int node_auth_check_session(node *n, http_req *req, const char **field, const char **msg)
{
	return check(n, req, 0, 1, field, msg);
}

int node_auth_require(node *n, http_req *req, unsigned privs)
{
	const char *field, *msg;
	int status = node_auth_check(n, req, privs, &field, &msg);

	if (status == 0)
		return 0;
	http_reply_error(req, status, field, "%s", msg);
	return -1;
}

void node_auth_sweep(node *n)
{
	struct node_auth *a = auth_of(n);
	uint64_t now = clock_mono_ms();
	node_user u;

	if (a == NULL)
		return;
	for (size_t i = 0; i < a->na_top; i++) {
		node_session *s = &a->na_sess[i];
		if (!s->ss_used)
			continue;
		if (expired(a, s, now)) {
			session_drop(s);
			continue;
		}
		if (auth__load_user(n, s->ss_user.id, &u, NULL, 0) == 0) {
			log_info("session of staff %s ended: account no longer active", s->ss_user.id);
			session_drop(s);
		} else if (pw_changed(n, s)) {
			log_info("session of staff %s ended: the password was set elsewhere",
				 s->ss_user.id);
			session_drop(s);
		}
	}
}

/* "host:port" of an origin URL equals the Host header (case-insensitive). */
static int same_origin(const char *origin, const char *host)
{
	const char *p = strstr(origin, "://");

	if (p == NULL || host == NULL)
		return 0;
	p += 3;
	return strcasecmp(p, host) == 0;
}

void node_auth_dispatch(http_req *req, void *ctx)
{
	node *n = ctx;

	if (node_edge_https_only(n, req))
		return; /* plain HTTP from the LAN: to HTTPS (node_edge.c) */

	if (state_changing(req)) {
		const char *site = http_req_header(req, "sec-fetch-site");
		const char *origin = http_req_header(req, "origin");
		if ((site && strcmp(site, "cross-site") == 0) ||
		    (origin && !same_origin(origin, http_req_header(req, "host")))) {
			http_reply_error(req, 403, NULL, "cross-site requests are refused");
			return;
		}
	}
	node_ver_scope(n, 1);
	node_sync_identity_check(n);
	node_zone_check(n);
	router_dispatch(req, n->nd_router);
	node_ver_scope(n, 0);
}

static void on_sweep(uv_timer_t *t)
{
	node_auth_sweep(((struct node_auth *)t->data)->na_node);
}

/* A stand-alone demo node made before logins existed gets its test logins
 * too (idempotent; never on an enrolled node). */
static void demo_logins(node *n)
{
	char ts[HLC_STRLEN];

	if (!conf_bool(&n->nd_conf, "demo") || strcmp(n->nd_office_id, DEMO_OFFICE) != 0 ||
	    node_enrolled(n))
		return;
	hlc_now(&n->nd_hlc, ts);
	if (db_exec(n->nd_db, "BEGIN IMMEDIATE") != 0)
		return;
	if (node_seed_demo_logins(n, ts) != 0 || db_exec(n->nd_db, "COMMIT") != 0) {
		db_exec(n->nd_db, "ROLLBACK");
		log_warnx("cannot add the demo logins");
	}
}

int node_auth_init(node *n)
{
	struct node_auth *a = calloc(1, sizeof *a);

	if (a == NULL)
		return -1;
	a->na_node = n;
	a->na_nsess = NODE_AUTH_SESSIONS_MAX;
	a->na_sess = calloc(a->na_nsess, sizeof *a->na_sess);
	a->na_thr = throttle_new(4096);
	if (a->na_sess == NULL || a->na_thr == NULL) {
		free(a->na_sess);
		throttle_free(a->na_thr);
		free(a);
		return -1;
	}
	a->na_idle_ms = (uint64_t)conf_int(&n->nd_conf, "session_idle") * 1000;
	a->na_abs_ms = (uint64_t)conf_int(&n->nd_conf, "session_max_age") * 1000;
	if (a->na_idle_ms == 0)
		a->na_idle_ms = NODE_AUTH_IDLE_S * 1000ull;
	if (a->na_abs_ms == 0)
		a->na_abs_ms = NODE_AUTH_ABSOLUTE_S * 1000ull;
	n->nd_auth = a;
	demo_logins(n);
	if (n->nd_loop && uv_timer_init(n->nd_loop, &a->na_timer) == 0) {
		a->na_timer.data = a;
		uv_timer_start(&a->na_timer, on_sweep, NODE_AUTH_SWEEP_MS, NODE_AUTH_SWEEP_MS);
		a->na_timer_on = 1;
	}
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	struct node_auth *a = h->data;

	crypto_wipe(a->na_sess, a->na_top * sizeof *a->na_sess); /* the rest never held one */
	free(a->na_sess);
	throttle_free(a->na_thr);
	free(a);
}

void node_auth_stop(node *n)
{
	struct node_auth *a = auth_of(n);

	if (a == NULL)
		return;
	n->nd_auth = NULL;
	if (a->na_timer_on) {
		uv_timer_stop(&a->na_timer);
		uv_close((uv_handle_t *)&a->na_timer, on_timer_closed);
	} else {
		a->na_timer.data = a;
		on_timer_closed((uv_handle_t *)&a->na_timer);
	}
}

int node_auth_session_count(node *n)
{
	struct node_auth *a = n->nd_auth;
	int k = 0;

	for (size_t i = 0; a && i < a->na_top; i++)
		k += a->na_sess[i].ss_used != 0;
	return k;
}
