/*
 * acct_session.c - console sign-in at the hub (see acct.h and
 * docs/hub-admin-api.md section 1): PBKDF2 verification and hashing in the
 * libuv thread pool, sessions with random 256-bit tokens (only their SHA-256
 * is stored) that are new at every sign-in, idle and absolute timeouts, the
 * CSRF token on state-changing requests, the forced change of a temporary
 * password, and the throttling of failed sign-ins.
 *
 * Throttling never locks an account: per account and client the wait grows
 * exponentially after 3 failures (at most 15 min), and per client a bucket
 * of 10 failures refills one every 6 s, except for a user who has signed
 * in from that client before; no wait holds an account over all clients
 * (thr_check() says why).  A client is an address; an IPv6 /64 (every PC
 * of an office) counts as one too, only after 60 failures and for a minute
 * at most.  A throttled attempt is answered 429
 * without running PBKDF2, so a flood costs the hub almost nothing; successes
 * never drain the client's bucket, so an office behind one address signs in
 * again as soon as an attack stops.  The state lives in memory, bounded.
 */
#include "hub/acct.h"
#include "hub/acct_api.h"
#include "lib/crypto.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "lib/throttle.h"
#include "lib/uuid.h"
#include "model/password.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define THR_SLOTS 4096
#define THR_PAIR_FREE 3
#define THR_PAIR_MAX_S 900
#define THR_NET_FREE 60 /* failures from an IPv6 /64 before it waits */
#define THR_NET_MAX_S 60
#define THR_BUCKET 10.0
#define THR_REFILL_MS 6000
#define THR_FORGET_MS (60ULL * 60 * 1000)
#define THR_KNOWN_MS (30ULL * 24 * 60 * 60 * 1000) /* a recognised user+client */
#define PW_JOBS_MAX 8          /* PBKDF2 jobs in flight, whole hub */
#define PW_JOBS_PER_CLIENT 2

struct acct_hub {
	hub *h;
	uint32_t iters;
	throttle *thr;   /* failures (p:, u:), client buckets and jobs (c:) */
	throttle *known; /* "k:user|client": signed in from there before */
	int jobs;
};

acct_hub *acct_new(hub *h, uint32_t iters)
{
	acct_hub *a = calloc(1, sizeof *a);

	if (a == NULL)
		return NULL;
	a->h = h;
	a->iters = iters ? iters : PASSWORD_ITERS;
	a->thr = throttle_new(THR_SLOTS);
	a->known = throttle_new(THR_SLOTS);
	if (a->thr == NULL || a->known == NULL || acct_scope_sql_init(h->hb_db) != 0) {
		acct_free(a);
		return NULL;
	}
	throttle_set_forget(a->thr, THR_FORGET_MS);
	throttle_set_forget(a->known, THR_KNOWN_MS);
	return a;
}

void acct_free(acct_hub *a)
{
	if (a == NULL)
		return;
	throttle_free(a->thr);
	throttle_free(a->known);
	free(a);
}

uint32_t acct_iters(const acct_hub *a)
{
	return a->iters;
}

/* ---- throttle (lib/throttle.h) ------------------------------------------------------ */

/* The keys of user at req's client: its address (p:, c:, k:) and, on
 * IPv6, its /64 (n:, "" on IPv4), every PC of an office sharing one. */
static void thr_keys(const char *user, const http_req *req, char pair[160], char u[160],
		     char c[160], char k[160], char net[160])
{
	char lu[72];
	size_t i;

	for (i = 0; i < sizeof lu - 1 && user[i]; i++)
		lu[i] = (char)tolower((unsigned char)user[i]);
	lu[i] = '\0';
	snprintf(pair, 160, "p:%s|%s", lu, req->peer);
	snprintf(u, 160, "u:%s", lu);
	snprintf(c, 160, "c:%s", req->peer);
	snprintf(k, 160, "k:%s|%s", lu, req->peer);
	net[0] = '\0';
	if (strcmp(req->peer_group, req->peer) != 0)
		snprintf(net, 160, "n:%s", req->peer_group);
}

/* Seconds to wait before this attempt may run; 0 = go. */
static int thr_check(acct_hub *a, const char *user, const http_req *req)
{
	char pk[160], uk[160], ck[160], kk[160], nk[160];
	uint64_t now = hub_now_ms(), wait, t;

	thr_keys(user, req, pk, uk, ck, kk, nk);
	/*
	 * Keyed on (account, address), plus a budget per address below; no
	 * account-wide hold.  An account-wide backoff is what a dozen addresses
	 * failing a few times each could keep armed, holding the account at 429
	 * for its owner too.  Without it, each address guessing at one account
	 * gets THR_PAIR_FREE tries and then doubling waits (up to 15 min), and
	 * at most THR_BUCKET tries at once across all accounts then one per
	 * THR_REFILL_MS: A addresses get about A * (3 + log2(seconds)) guesses at
	 * one account, while the owner from any other address (or from one where
	 * they signed in before) is never made to wait.  An IPv6 /64 counts
	 * too, as one client, only after THR_NET_FREE failures and for a minute
	 * at most: one PC guessing never holds its whole office for long, and
	 * a guesser hopping addresses within its /64 gains little.
	 */
	wait = throttle_wait(a->thr, pk, now);
	if (nk[0] && (t = throttle_wait(a->thr, nk, now)) > wait)
		wait = t;
	/* The client's bucket (against password spraying from one address)
	 * does not hold back a user who has signed in from it before, so an
	 * attack from an office's address never shuts its staff out. */
	if (!throttle_seen(a->known, kk, now)) {
		if ((t = throttle_bucket_wait(a->thr, ck, now, THR_BUCKET, THR_REFILL_MS)) > wait)
			wait = t;
		if (throttle_inflight(a->thr, ck, 0) >= PW_JOBS_PER_CLIENT && wait < 1000)
			wait = 1000;
	}
	if (a->jobs >= PW_JOBS_MAX && wait < 1000)
		wait = 1000;
	return (int)((wait + 999) / 1000);
}

static void thr_fail(acct_hub *a, const char *user, const http_req *req)
{
	char pk[160], uk[160], ck[160], kk[160], nk[160];
	uint64_t now = hub_now_ms();

	thr_keys(user, req, pk, uk, ck, kk, nk);
	/* A wait from the free_n-th failure on: 1 s, 2 s, 4 s ... */
	throttle_fail(a->thr, pk, now, THR_PAIR_FREE - 1, THR_PAIR_MAX_S * 1000ULL);
	/* no account-wide count (uk): see thr_check() */
	throttle_bucket_take(a->thr, ck, now, THR_BUCKET, THR_REFILL_MS);
	if (nk[0])
		throttle_fail(a->thr, nk, now, THR_NET_FREE, THR_NET_MAX_S * 1000ULL);
}

static void thr_success(acct_hub *a, const char *user, const http_req *req)
{
	char pk[160], uk[160], ck[160], kk[160], nk[160];

	thr_keys(user, req, pk, uk, ck, kk, nk);
	throttle_clear(a->thr, pk);
	throttle_clear(a->thr, uk);
	throttle_note(a->known, kk, hub_now_ms());
}

static void thr_inflight(acct_hub *a, const char *client, int d)
{
	char ck[160];

	snprintf(ck, sizeof ck, "c:%s", client);
	throttle_inflight(a->thr, ck, d);
	a->jobs += d;
	if (a->jobs < 0)
		a->jobs = 0;
}

/* ---- PBKDF2 in the thread pool ------------------------------------------------------ */

typedef struct pw_job {
	uv_work_t w;
	hub *h;
	http_req *req;
	acct_pw_done done;
	void *arg;
	char pw[ACCT_PW_INPUT_MAX + 1];
	char stored[PASSWORD_HASH_MAX];
	char verifier[PASSWORD_VERIFIER_HEX];
	int verify;
	int result;
	uint32_t iters;
	char client[64];
} pw_job;

static void pw_run(uv_work_t *w)
{
	pw_job *j = w->data;
	int64_t delay = fault_hash_delay_ms();

	if (delay > 0)
		usleep((useconds_t)delay * 1000);
	if (j->verify)
		j->result = password_verify(j->pw, j->stored);
	else if ((j->result = password_hash(j->pw, j->iters, j->stored, sizeof j->stored)) == 0)
		j->result = password_verifier(j->pw, j->stored, j->verifier);
	crypto_wipe(j->pw, sizeof j->pw);
}

static void pw_after(uv_work_t *w, int status)
{
	pw_job *j = w->data;
	hub *h = j->h;

	thr_inflight(h->hb_acct, j->client, -1);
	h->hb_jobs--;
	if (status != 0)
		j->result = -1;
	j->done(h, j->req, j->arg, j->result, j->verify ? NULL : j->stored,
		j->verify ? NULL : j->verifier);
	crypto_wipe(j->stored, sizeof j->stored);
	crypto_wipe(j->verifier, sizeof j->verifier);
	free(j);
}

int acct_pw_job(hub *h, http_req *req, const char *pw, const char *stored,
		acct_pw_done done, void *arg)
{
	pw_job *j;

	if (strlen(pw) > ACCT_PW_INPUT_MAX || (stored && strlen(stored) >= PASSWORD_HASH_MAX))
		return -1;
	j = calloc(1, sizeof *j);
	if (j == NULL)
		return -1;
	j->w.data = j;
	j->h = h;
	j->req = req;
	j->done = done;
	j->arg = arg;
	j->iters = h->hb_acct->iters;
	snprintf(j->pw, sizeof j->pw, "%s", pw);
	if (stored) {
		j->verify = 1;
		snprintf(j->stored, sizeof j->stored, "%s", stored);
	}
	snprintf(j->client, sizeof j->client, "%s", req->peer);
	if (uv_queue_work(h->hb_loop, &j->w, pw_run, pw_after) != 0) {
		crypto_free(j, sizeof *j);
		return -1;
	}
	thr_inflight(h->hb_acct, j->client, 1);
	h->hb_jobs++;
	return 0;
}

void acct_resume_init(acct_resume *r, size_t size, route_call *a, route_fn write,
		      const char *fail)
{
	r->ar_p = *API_ADMIN(a);
	r->ar_table = a->rc_table;
	r->ar_route = a->rc_route;
	r->ar_write = write;
	r->ar_fail = fail;
	r->ar_size = size;
}

static int principal_load(sqlite3 *db, const char *staff_id, acct_principal *p);

/*
 * (acct.h) A check made before the hash may no longer hold after it (half
 * a second and more): a reset, a deactivation, a change of its roles and a
 * sign-out end the session; the staff row read again is for the write's
 * own checks, which run again on the target as it is now.
 */
int acct_resume_caller(hub *h, http_req *req, acct_principal *p)
{
	acct_principal now = *p;
	int rc;

	if (p->ap_token)
		return 0;
	rc = db_exists(h->hb_db, "SELECT 1 FROM admin_sessions WHERE token_hash=?", p->ap_session);
	if (rc == 1 && (rc = principal_load(h->hb_db, p->ap_id, &now)) == 0) {
		*p = now;
		return 0;
	}
	/* db_exists: 0 no session; principal_load: 1 no longer active, nor an
	 * administrator or approver (a suspension, an approver's roles taken
	 * away: they leave the session, which refuses at its next request). */
	if (rc >= 0)
		http_reply_error(req, 401, NULL, "your session ended meanwhile; nothing was changed:"
						 " sign in again");
	else
		http_reply_error(req, 500, NULL, "the hub database could not complete the request");
	return -1;
}

static void resume_hashed(hub *h, http_req *req, void *arg, int result, const char *stored,
			  const char *verifier)
{
	acct_resume *r = arg;

	if (result != 0 || stored == NULL) {
		http_reply_error(req, 500, NULL, "%s", r->ar_fail);
	} else if (acct_resume_caller(h, req, &r->ar_p) == 0) {
		r->ar_stored = stored;
		r->ar_verifier = verifier;
		route_resume_write(r->ar_table, r->ar_route, req, &r->ar_p, r->ar_p.ap_username,
				   r->ar_write, r);
	}
	crypto_free(r, r->ar_size);
}

int acct_resume_hash(hub *h, http_req *req, const char *pw, acct_resume *r)
{
	return acct_pw_job(h, req, pw, NULL, resume_hashed, r);
}

/* ---- sessions -------------------------------------------------------------------------- */

static void token_hash(const char *tok, char out[65])
{
	unsigned char d[32];

	crypto_sha256(tok, strlen(tok), d);
	crypto_hex(d, sizeof d, out);
}

void acct_sessions_end(sqlite3 *db, const char *staff_id)
{
	db_run(db, "DELETE FROM admin_sessions WHERE staff_id=?", "t", staff_id);
}

static void set_cookie(http_req *req, const char *tok)
{
	char c[256];

	if (tok)
		snprintf(c, sizeof c,
			 ACCT_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=%d",
			 tok, (int)(ACCT_ABS_MS / 1000));
	else
		snprintf(c, sizeof c,
			 ACCT_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0");
	http_add_header(req, "Set-Cookie", c);
	http_add_header(req, "Cache-Control", "no-store");
}

static int is_state_changing(const http_req *req)
{
	return req->method != HTTP_M_GET && req->method != HTTP_M_HEAD &&
	       req->method != HTTP_M_OPTIONS;
}

/* A page's background refresh or poll (X-Outpost-Background: 1, as the
 * office node takes it, node_auth.c) uses the session without extending
 * it (DESIGN.md: idle timeouts count people, not pages): a console left
 * open on the overview would otherwise never time out. */
static int background(const http_req *req)
{
	const char *v = http_req_header(req, "x-outpost-background");

	return v != NULL && strcmp(v, "1") == 0;
}

/* Origin, when sent, must name the host the request was sent to. */
static int origin_ok(const http_req *req)
{
	const char *o = http_req_header(req, "origin"), *host = http_req_header(req, "host");
	const char *p;

	if (o == NULL || strcmp(o, "null") == 0)
		return o == NULL;
	if (host == NULL)
		return 0;
	p = strstr(o, "://");
	if (p == NULL)
		return 0;
	return strcasecmp(p + 3, host) == 0;
}

/* Fill p from a staff row; 0, 1 unknown/inactive, -1 error. */
static int principal_load(sqlite3 *db, const char *staff_id, acct_principal *p)
{
	sqlite3_stmt *st = NULL;
	const char *c[4]; /* user name, Local Area, division, roles */
	int ret;

	ret = db_row(db, &st,
		     "SELECT s.username, coalesce(s.local_area_id,''), coalesce(s.field_division,''),"
		     " s.roles, s.active AND NOT s.suspended, coalesce(c.password_temp, 1)"
		     " FROM staff s LEFT JOIN staff_credentials c ON c.id=s.id WHERE s.id=?",
		     staff_id);
	if (ret != 1)
		return ret < 0 ? -1 : 1;
	if (db_cols(st, c, 4) != 0) {
		sqlite3_finalize(st); /* out of memory: not "no roles" */
		return -1;
	}
	snprintf(p->ap_id, sizeof p->ap_id, "%s", staff_id);
	snprintf(p->ap_username, sizeof p->ap_username, "%s", c[0]);
	snprintf(p->ap_la, sizeof p->ap_la, "%s", c[1]);
	snprintf(p->ap_div, sizeof p->ap_div, "%s", c[2]);
	p->ap_roles = acct_roles_parse(c[3]);
	p->ap_must_change = sqlite3_column_int(st, 5);
	/* an approver without an administrator role: hub_api.c limits it */
	ret = sqlite3_column_int(st, 4) && (p->ap_roles || hub_case_is_approver(db, staff_id) > 0)
		      ? 0
		      : 1;
	sqlite3_finalize(st);
	return ret;
}

int acct_session_live(hub *h, http_req *req)
{
	char tok[128], th[65];
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (http_req_cookie(req, ACCT_COOKIE, tok, sizeof tok) == NULL || strlen(tok) != 64)
		return 0;
	token_hash(tok, th);
	crypto_wipe(tok, sizeof tok);
	if (db_prepare_bound(h->hb_db, &st, "SELECT 1 FROM admin_sessions WHERE token_hash=?", "t", th) !=
	    0)
		return 0;
	rc = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc;
}

int acct_auth(hub *h, http_req *req, acct_principal *p, unsigned how)
{
	const char *a = http_req_header(req, "authorization");
	char tok[128], th[65], sid[64] = "";
	sqlite3_stmt *st = NULL;
	int64_t now = (int64_t)hub_now_ms(), created = 0, seen = 0;
	int rc;

	memset(p, 0, sizeof *p);
	if (a != NULL) {
		if (strncasecmp(a, "Bearer ", 7) == 0) {
			a += 7;
			while (*a == ' ')
				a++;
			if (strlen(a) == 64 && crypto_ct_cmp(a, h->hb_admin_token, 64) == 0) {
				snprintf(p->ap_id, sizeof p->ap_id, "admin-token");
				snprintf(p->ap_username, sizeof p->ap_username, "admin-token");
				p->ap_roles = ROLE_OPERATIONS;
				p->ap_token = 1;
				return 0;
			}
		}
		log_info("refused %s %s from %s: bad admin token", req->method_str, req->path,
			 req->peer);
		http_add_header(req, "WWW-Authenticate", "Bearer realm=\"outpost-hub\"");
		http_reply_error(req, 401, NULL, "admin token or sign-in required");
		return -1;
	}
	if (http_req_cookie(req, ACCT_COOKIE, tok, sizeof tok) == NULL || strlen(tok) != 64) {
		http_reply_error(req, 401, NULL, "sign in required");
		return -1;
	}
	token_hash(tok, th);
	crypto_wipe(tok, sizeof tok);
	if (db_prepare_bound(h->hb_db, &st,
			     "SELECT staff_id, csrf, created_at, last_seen_at FROM admin_sessions"
			     " WHERE token_hash=?", "t", th) != 0) {
		http_reply_error(req, 500, NULL, "the hub database could not complete the request");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *c[2]; /* session, CSRF token */

		if (db_cols(st, c, 2) != 0) {
			rc = SQLITE_NOMEM;
		} else {
			snprintf(sid, sizeof sid, "%s", c[0]);
			snprintf(p->ap_csrf, sizeof p->ap_csrf, "%s", c[1]);
		}
		created = sqlite3_column_int64(st, 2);
		seen = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		http_reply_error(req, 500, NULL, "the hub database could not complete the request");
		return -1;
	}
	if (sid[0] == '\0' || now - seen > ACCT_IDLE_MS || now - created > ACCT_ABS_MS) {
		if (sid[0])
			db_run(h->hb_db, "DELETE FROM admin_sessions WHERE token_hash=?", "t", th);
		set_cookie(req, NULL);
		http_reply_error(req, 401, NULL, sid[0] ? "session expired; sign in again"
							: "sign in required");
		return -1;
	}
	rc = principal_load(h->hb_db, sid, p);
	if (rc < 0) { /* the session stays: a failed read is no sign-out */
		http_reply_error(req, 500, NULL, "the hub database could not complete the request");
		return -1;
	}
	if (rc != 0) {
		acct_sessions_end(h->hb_db, sid);
		set_cookie(req, NULL);
		http_reply_error(req, 401, NULL, "sign in required");
		return -1;
	}
	snprintf(p->ap_session, sizeof p->ap_session, "%s", th);
	if (is_state_changing(req)) {
		const char *c = http_req_header(req, "x-csrf-token");
		if (c == NULL || strlen(c) != 64 || crypto_ct_cmp(c, p->ap_csrf, 64) != 0) {
			log_info("refused %s %s from %s: missing or wrong CSRF token",
				 req->method_str, req->path, req->peer);
			http_reply_error(req, 403, "csrf",
					 "missing or wrong X-CSRF-Token header");
			return -1;
		}
		if (!origin_ok(req)) {
			http_reply_error(req, 403, "origin", "cross-site request refused");
			return -1;
		}
	}
	if (!background(req))
		db_run(h->hb_db, "UPDATE admin_sessions SET last_seen_at=? WHERE token_hash=?", "It",
		       now, th);
	if (p->ap_must_change && !(how & ACCT_AUTH_TEMP)) {
		http_reply_error(req, 403, "password_change_required",
				 "change your temporary password first");
		return -1;
	}
	/* An approver (no administrator role) sees only its approvals. */
	if (p->ap_roles == 0 && !(how & (ACCT_AUTH_APPROVER | ACCT_AUTH_TEMP))) {
		http_reply_error(req, 403, NULL,
				 "an approver's session shows only the approval requests addressed to it");
		return -1;
	}
	if ((how & ACCT_AUTH_OPS) && !(p->ap_roles & ROLE_OPERATIONS)) {
		http_reply_error(req, 403, NULL, "only the CalJOBS Operations Unit may do this");
		return -1;
	}
	return 0;
}

/* ---- sign-in -------------------------------------------------------------------------- */

typedef struct login_ctx {
	acct_principal p;            /* the signed-in administrator, for login_write */
	const route_table *table;    /* the row to resume (route_resume_write) */
	const route_def *route;
	char username[72];
	char staff_id[64];   /* "" unknown user */
	int active, temp, admin; /* active: 0 deactivated, 1 active, 3 suspended */
	int64_t expires;
	char old_session[65]; /* hash of a token presented at sign-in */
	char verified[PASSWORD_HASH_MAX]; /* the stored hash the password was checked against */
} login_ctx;

/* A verification for an unknown user costs the same as for a real one. */
static void dummy_hash(const acct_hub *a, char *out, size_t n)
{
	snprintf(out, n,
		 "pbkdf2-sha256$%u$00000000000000000000000000000000$"
		 "0000000000000000000000000000000000000000000000000000000000000000",
		 (unsigned)a->iters);
}

static cJSON *session_json(hub *h, const char *staff_id, const char *csrf, int64_t created,
			   int64_t seen, int must_change)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "csrf_token", csrf);
	cJSON_AddItemToObject(o, "staff", acct_staff_json(h->hb_db, staff_id));
	cJSON_AddBoolToObject(o, "must_change_password", must_change);
	cJSON_AddNumberToObject(o, "idle_expires_at", (double)(seen + ACCT_IDLE_MS));
	cJSON_AddNumberToObject(o, "expires_at", (double)(created + ACCT_ABS_MS));
	return o;
}

/* A new session row for lc with token hash th and csrf.  0 or -1. */
static int session_insert(sqlite3 *db, const login_ctx *lc, const char *th, const char *csrf,
			  const char *client, int64_t now)
{
	if (db_run(db,
		   "INSERT INTO admin_sessions(token_hash, staff_id, csrf, created_at,"
		   " last_seen_at, client) VALUES(?1,?2,?3,?4,?4,?5)",
		   "tttIt", th, lc->staff_id, csrf, now, client) != 0)
		return -1;
	return db_run(db, "UPDATE staff_records SET last_login_at=? WHERE id=?", "It", now,
		      lc->staff_id);
}

/* The signed-in administrator's session (route_resume_write): stale
 * sessions dropped, the new one and its audit row in one transaction. */
static route_rc login_write(route_call *a)
{
	login_ctx *lc = a->rc_arg;
	sqlite3 *db = API_HUB(a)->hb_db;
	http_req *req = a->rc_req;
	unsigned char rnd[64];
	char tok[65], th[65], csrf[65];
	int64_t now = (int64_t)hub_now_ms(), same;
	route_rc rc = ROUTE_DBERR;

	/* The account as it was checked: its password not reset or changed,
	 * the account not deactivated or suspended meanwhile (a session made
	 * after them would outlive the sessions they ended). */
	same = db_int_bound(db, -1, "SELECT count(*) FROM staff s JOIN staff_credentials c"
				    " ON c.id=s.id WHERE s.id=?1 AND s.active AND NOT s.suspended"
				    " AND c.password_hash=?2", "tt", lc->staff_id, lc->verified);
	if (same < 0)
		return ROUTE_DBERR;
	if (same == 0)
		return route_fail(a, 401, NULL, "the account changed meanwhile; sign in again");
	/* Sessions past their idle or absolute limit go (they refuse anyway). */
	if (db_run(db, "DELETE FROM admin_sessions WHERE last_seen_at < ? OR created_at < ?", "II",
		   (int64_t)(now - ACCT_IDLE_MS), (int64_t)(now - ACCT_ABS_MS)) != 0)
		return ROUTE_DBERR;
	/* New token at every sign-in; a token presented with it is dropped. */
	if (lc->old_session[0] &&
	    db_run(db, "DELETE FROM admin_sessions WHERE token_hash=?", "t", lc->old_session) != 0)
		return ROUTE_DBERR;
	if (crypto_random(rnd, sizeof rnd) != 0)
		return route_fail(a, 500, NULL, "no randomness available");
	crypto_hex(rnd, 32, tok);
	crypto_hex(rnd + 32, 32, csrf);
	crypto_wipe(rnd, sizeof rnd);
	token_hash(tok, th);
	if (session_insert(db, lc, th, csrf, req->peer, now) == 0 &&
	    hub_api_admin_audit(a, "login", "staff", lc->staff_id, NULL, NULL, NULL,
				lc->temp ? "{\"temporary_password\":true}"
					 : "{\"temporary_password\":false}") == 0) {
		log_info("admin %s signed in from %s", lc->username, req->peer);
		set_cookie(req, tok);
		rc = route_ok(a, 200, session_json(API_HUB(a), lc->staff_id, csrf, now, now, lc->temp));
	}
	crypto_wipe(tok, sizeof tok);
	return rc;
}

static void login_done(hub *h, http_req *req, void *arg, int result, const char *stored,
		       const char *verifier)
{
	login_ctx *lc = arg;
	int64_t now = (int64_t)hub_now_ms();

	(void)stored;
	(void)verifier;
	if (result != 1 || lc->staff_id[0] == '\0' || lc->active != 1 || !lc->admin) {
		/* One reply (and one throttle count) for all four: a correct password
		 * of a field or deactivated account must not be told apart from a
		 * wrong one (no password oracle).  Only the audit trail says why. */
		const char *why = lc->staff_id[0] == '\0' ? "{\"why\":\"unknown user\"}"
				  : result != 1	   ? "{\"why\":\"wrong password\"}"
				  : lc->active == 3 ? "{\"why\":\"suspended\"}"
				  : !lc->active	   ? "{\"why\":\"deactivated\"}"
						   : "{\"why\":\"not an administrator\"}";
		thr_fail(h->hb_acct, lc->username, req);
		acct_audit_anon(h->hb_db, req->peer, "login_failed",
				lc->staff_id[0] ? lc->staff_id : NULL, why);
		log_info("admin sign-in refused from %s", req->peer);
		http_reply_error(req, 401, NULL, "wrong user name or password");
		goto out;
	}
	thr_success(h->hb_acct, lc->username, req);
	if (lc->temp && password_temp_expired(lc->expires - PASSWORD_TEMP_TTL_MS, now)) {
		acct_audit_anon(h->hb_db, req->peer, "login_failed", lc->staff_id,
				"{\"why\":\"temporary password expired\"}");
		http_reply_error(req, 401, "password",
				 "temporary password has expired; ask your administrator for a reset");
		goto out;
	}
	snprintf(lc->p.ap_id, sizeof lc->p.ap_id, "%s", lc->staff_id);
	if (snprintf(lc->p.ap_username, sizeof lc->p.ap_username, "%s", lc->username) >=
	    (int)sizeof lc->p.ap_username)
		lc->p.ap_username[0] = '\0'; /* longer than any account name: never cut one */
	route_resume_write(lc->table, lc->route, req, &lc->p, lc->p.ap_username, login_write, lc);
out:
	crypto_free(lc, sizeof *lc);
}

/* The account's stored hash and state into lc and stored ("" unknown).
 * 0 or -1. */
static int login_lookup(sqlite3 *db, const char *user, login_ctx *lc, char *stored, size_t n)
{
	sqlite3_stmt *st = NULL;

	if (db_prepare_bound(db, &st,
			     "SELECT s.id, s.active + 2 * (s.active AND s.suspended), s.roles, c.password_hash,"
			     " c.password_temp, coalesce(c.password_expires_at, 0)"
			     " FROM staff s JOIN staff_credentials c ON c.id=s.id"
			     " WHERE s.username=? AND c.password_hash IS NOT NULL", "t", user) != 0)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_col(st, 0), *roles = db_col(st, 2), *hash = db_col(st, 3);

		if (id == NULL || roles == NULL || hash == NULL) {
			sqlite3_finalize(st); /* not a wrong password */
			return -1;
		}
		snprintf(lc->staff_id, sizeof lc->staff_id, "%s", id);
		lc->active = sqlite3_column_int(st, 1);
		lc->admin = acct_roles_parse(roles) != 0 ||
			    hub_case_is_approver(db, lc->staff_id) > 0; /* the approver's view */
		snprintf(stored, n, "%s", hash);
		lc->temp = sqlite3_column_int(st, 4);
		lc->expires = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	return 0;
}

/* 429 with Retry-After and the wait in the body. */
static route_rc too_many(route_call *a, int wait)
{
	char ra[16], msg[96];
	cJSON *o = cJSON_CreateObject();

	snprintf(ra, sizeof ra, "%d", wait);
	snprintf(msg, sizeof msg, "too many attempts; try again in %d s", wait);
	http_add_header(a->rc_req, "Retry-After", ra);
	cJSON_AddStringToObject(o, "error", msg);
	cJSON_AddNumberToObject(o, "retry_after", wait);
	return route_ok(a, 429, o);
}

static const route_key login_keys[] = {
	{"username", ROUTE_T_ANY, 0},
	{"password", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

/* Sign-in: the password checked in the thread pool (login_done), then the
 * session written (login_write). */
static route_rc login(route_call *a)
{
	hub *h = API_HUB(a);
	http_req *req = a->rc_req;
	const char *user = NULL, *pw = json_str(a->rc_body, "password");
	char stored[PASSWORD_HASH_MAX] = "", tok[128];
	route_rc rc = ROUTE_TAKEN;
	login_ctx *lc;
	int wait, bad;

	bad = route_str(a, "username", JSON_REQUIRED, 1, 64, &user, NULL, 0);
	if (pw == NULL || *pw == '\0' || strlen(pw) > ACCT_PW_INPUT_MAX)
		bad = route_err(a, "password", "enter your password");
	if (bad)
		return ROUTE_BAD;
	if ((wait = thr_check(h->hb_acct, user, req)) > 0)
		return too_many(a, wait);
	if ((lc = calloc(1, sizeof *lc)) == NULL)
		return ROUTE_DBERR;
	lc->table = a->rc_table;
	lc->route = a->rc_route;
	snprintf(lc->username, sizeof lc->username, "%s", user);
	if (http_req_cookie(req, ACCT_COOKIE, tok, sizeof tok) != NULL && strlen(tok) == 64)
		token_hash(tok, lc->old_session);
	crypto_wipe(tok, sizeof tok);
	if (login_lookup(h->hb_db, user, lc, stored, sizeof stored) != 0) {
		crypto_free(lc, sizeof *lc);
		return ROUTE_DBERR;
	}
	if (stored[0] == '\0')
		dummy_hash(h->hb_acct, stored, sizeof stored);
	snprintf(lc->verified, sizeof lc->verified, "%s", stored);
	if (acct_pw_job(h, req, pw, stored, login_done, lc) != 0) {
		crypto_free(lc, sizeof *lc);
		rc = route_fail(a, 503, NULL, "the hub is busy; try again");
	}
	crypto_wipe(stored, sizeof stored);
	return rc;
}

static route_rc session_get(route_call *a)
{
	const acct_principal *p = API_ADMIN(a);
	sqlite3_stmt *st = NULL;
	int64_t created = 0, seen = 0;
	cJSON *o;

	if (p->ap_token) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "actor", "admin-token");
		cJSON_AddBoolToObject(o, "must_change_password", 0);
		return route_ok(a, 200, o);
	}
	if (db_prepare_bound(API_HUB(a)->hb_db, &st,
			     "SELECT created_at, last_seen_at FROM admin_sessions WHERE token_hash=?", "t",
			     p->ap_session) != 0)
		return ROUTE_DBERR;
	if (sqlite3_step(st) == SQLITE_ROW) {
		created = sqlite3_column_int64(st, 0);
		seen = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	http_add_header(a->rc_req, "Cache-Control", "no-store");
	return route_ok(a, 200, session_json(API_HUB(a), p->ap_id, p->ap_csrf, created, seen,
					     p->ap_must_change));
}

static route_rc logout(route_call *a)
{
	const acct_principal *p = API_ADMIN(a);
	cJSON *o;

	if (!p->ap_token && db_run(API_HUB(a)->hb_db, "DELETE FROM admin_sessions WHERE token_hash=?",
				   "t", p->ap_session) != 0)
		return ROUTE_DBERR;
	if (hub_api_admin_audit(a, "logout", "staff", p->ap_id, NULL, NULL, NULL, NULL) != 0 ||
	    (o = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	set_cookie(a->rc_req, NULL);
	cJSON_AddBoolToObject(o, "ok", 1);
	return route_ok(a, 200, o);
}

/* ---- own password change ---------------------------------------------------------------- */

typedef struct chpw_ctx {
	acct_resume r; /* first: the hash, then chpw_write */
	char newpw[ACCT_PW_INPUT_MAX + 1];
	char verified[PASSWORD_HASH_MAX]; /* the stored hash the current password matched */
	int was_temp;
} chpw_ctx;

/* The new password, stored (route_resume_write): the credentials, the end
 * of the user's other sessions and the audit row in one transaction. */
static route_rc chpw_write(route_call *a)
{
	chpw_ctx *c = a->rc_arg;
	const acct_principal *p = &c->r.ar_p;
	sqlite3 *db = API_HUB(a)->hb_db;
	char ts[HLC_STRLEN];
	int64_t same;
	cJSON *o;

	/* The password checked is still the account's: not reset, cleared by
	 * a deactivation or changed elsewhere while the new one was hashed. */
	same = db_int_bound(db, -1, "SELECT count(*) FROM staff_credentials WHERE id=?1 AND"
				    " password_hash=?2", "tt", p->ap_id, c->verified);
	if (same < 0)
		return ROUTE_DBERR;
	if (same == 0)
		return route_fail(a, 409, "current_password", "the password was reset or changed"
							     " meanwhile; nothing was changed");
	hlc_now(hub_clock(API_HUB(a)), ts);
	/* Other sessions of this user end; this one stays. */
	if (acct_password_set(db, p->ap_id, c->r.ar_stored, (int64_t)hub_now_ms(), ts,
			      c->r.ar_verifier) != 0 ||
	    db_run(db, "DELETE FROM admin_sessions WHERE staff_id=?1 AND token_hash<>?2", "tt",
		   p->ap_id, p->ap_session) != 0 ||
	    hub_api_admin_audit(a, "password_change", "staff", p->ap_id, p->ap_la, p->ap_div,
				c->was_temp ? "{\"password_temp\":true}" : NULL,
				"{\"password_temp\":false}") != 0 ||
	    (o = cJSON_CreateObject()) == NULL)
		return route_fail(a, 500, NULL, "the password could not be stored");
	log_info("admin %s changed their password", p->ap_username);
	cJSON_AddBoolToObject(o, "ok", 1);
	return route_ok(a, 200, o);
}

static void chpw_verified(hub *h, http_req *req, void *arg, int result, const char *stored,
			  const char *verifier)
{
	chpw_ctx *c = arg;

	(void)stored;
	(void)verifier;
	if (result != 1) {
		thr_fail(h->hb_acct, c->r.ar_p.ap_username, req);
		acct_audit(h->hb_db, &c->r.ar_p, req->peer, "password_change_failed", "staff", c->r.ar_p.ap_id,
			   NULL, NULL, NULL, "{\"why\":\"wrong current password\"}");
		http_reply_error(req, 401, "current_password", "the current password is wrong");
		crypto_free(c, sizeof *c);
		return;
	}
	if (acct_resume_hash(h, req, c->newpw, &c->r) != 0) {
		http_reply_error(req, 503, NULL, "the hub is busy; try again");
		crypto_free(c, sizeof *c);
	}
}

static const route_key password_keys[] = {
	{"current_password", ROUTE_T_ANY, 0},
	{"new_password", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

/* The two passwords' errors, both.  0 or -1. */
static int chpw_read(route_call *a, const char **cur, const char **nw)
{
	const char *why = NULL;
	int bad = 0;

	*cur = json_str(a->rc_body, "current_password");
	*nw = json_str(a->rc_body, "new_password");
	if (*cur == NULL || **cur == '\0' || strlen(*cur) > ACCT_PW_INPUT_MAX)
		bad = route_err(a, "current_password", "enter your current password");
	if (*nw == NULL || password_rule_check(*nw, API_ADMIN(a)->ap_username, &why) != 0)
		bad = route_err(a, "new_password", "the new password %s", why ? why : "is required");
	else if (*cur && strcmp(*cur, *nw) == 0)
		bad = route_err(a, "new_password", "the new password must differ from the current one");
	return bad;
}

/* The current password checked in the thread pool (chpw_verified), the
 * new one hashed (chpw_hashed), then stored (chpw_write). */
static route_rc password_change(route_call *a)
{
	const acct_principal *p = API_ADMIN(a);
	hub *h = API_HUB(a);
	const char *cur, *nw;
	char stored[PASSWORD_HASH_MAX] = "";
	route_rc rc = ROUTE_TAKEN;
	chpw_ctx *c;
	int wait;

	if (p->ap_token)
		return route_bad(a, NULL, "the admin token has no password");
	if (chpw_read(a, &cur, &nw) != 0)
		return ROUTE_BAD;
	if ((wait = thr_check(h->hb_acct, p->ap_username, a->rc_req)) > 0) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", wait);
		http_add_header(a->rc_req, "Retry-After", ra);
		return route_fail(a, 429, NULL, "too many attempts; try again in %d s", wait);
	}
	if (db_text(h->hb_db, "SELECT password_hash FROM staff_credentials WHERE id=?", p->ap_id,
		    stored, sizeof stored) != 0)
		return route_fail(a, 409, NULL, "this account has no password to change");
	if ((c = calloc(1, sizeof *c)) == NULL) {
		rc = ROUTE_DBERR;
		goto out;
	}
	acct_resume_init(&c->r, sizeof *c, a, chpw_write, "the password could not be stored");
	c->was_temp = p->ap_must_change;
	snprintf(c->newpw, sizeof c->newpw, "%s", nw);
	snprintf(c->verified, sizeof c->verified, "%s", stored);
	if (acct_pw_job(h, a->rc_req, cur, stored, chpw_verified, c) != 0) {
		crypto_free(c, sizeof *c);
		rc = route_fail(a, 503, NULL, "the hub is busy; try again");
	}
out:
	crypto_wipe(stored, sizeof stored);
	return rc;
}

/* Sign-in is public: a JSON body only (ROUTE_JSON_ONLY), so a cross-site
 * form cannot post it. */
static const route_def session_defs[] = {
	{HTTP_M_POST, "/api/v1/admin/session", login, 0,
	 ROUTE_PUBLIC | ROUTE_BODY | ROUTE_JSON_ONLY | ROUTE_DEFER | ROUTE_AUDITED, login_keys, 0},
	{HTTP_M_GET, "/api/v1/admin/session", session_get, HUB_P_TEMP, 0, NULL, 0},
	{HTTP_M_DELETE, "/api/v1/admin/session", logout, HUB_P_TEMP, HUB_AUDITED, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/session/logout", logout, HUB_P_TEMP, HUB_AUDITED, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/session/password", password_change, HUB_P_TEMP,
	 ROUTE_BODY | ROUTE_DEFER | ROUTE_AUDITED, password_keys, 0},
};
const route_list acct_session_route_list = ROUTE_LIST(session_defs);
