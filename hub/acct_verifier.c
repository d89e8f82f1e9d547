/*
 * acct_verifier.c - POST /api/v1/sync/verifier {staff_id, password}: the
 * second verifier of an account whose password was set before the hub kept
 * one (issue 11).
 *
 * A password change made at a node applies only with a proof made with the
 * verifier of the current password (acct_apply.c), which the hub keeps and
 * no node does.  An account whose password predates the trust boundary has
 * no verifier, so its changes were quarantined until a reset.  Nothing the
 * hub stores yields the verifier without the password, and anything that
 * could be checked against the stored hash alone a node could compute too
 * (it holds the hash).  So the node the user types the password into sends
 * it, once, before the change: over the pinned TLS connection, in a request
 * signed with the node's secret.  The hub checks it against its own hash
 * (PBKDF2 in the thread pool) and on a match keeps V(password)
 * (model/password.h).  A node that holds only hashes cannot pass; one that
 * has the password could already make a valid proof from it, so no node
 * gains anything.  An account that has a verifier is answered "exists"
 * without a PBKDF2 run; the account must be active, staff of the node's
 * Local Area and not administrative.  The password is never stored or
 * logged; nothing is written unless it matches.
 *
 * The node asks first without the password (the answer is then "exists"
 * or "missing"), so the password travels only when it is needed.  It may
 * say which verifier it holds ("check": an array of one or two
 * password_verifier_check() values, the second for a change of password
 * at the node that may or may not have reached the hub yet): a verifier
 * held for none of them is answered "differs" (it is of another password:
 * a change or reset this office has not received), so an office never
 * signs with a verifier the hub would refuse.
 *
 *   200 {"verifier": "set" | "exists" | "differs" | "missing"}
 *   403 {"field": "password"}  the password is not the hub's current one
 *   404 / 409                  not an account this node may speak for
 */
#include "hub/hub_api.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "model/password.h"

#include <stdlib.h>
#include <string.h>

#define VERIFIER_JOBS_MAX 2 /* PBKDF2 runs in flight for this route */

typedef struct vjob {
	uv_work_t w;
	hub *h;
	http_req *req;
	char staff_id[64], node_id[64], la[64];
	char pw[ACCT_PW_INPUT_MAX + 1];
	char stored[PASSWORD_HASH_MAX];
	char v[PASSWORD_VERIFIER_HEX];
	int match; /* [work] 1, 0, -1 */
} vjob;

static int vjobs;

static void vjob_run(uv_work_t *w)
{
	vjob *j = w->data;

	j->match = password_verify(j->pw, j->stored);
	if (j->match == 1 && password_verifier(j->pw, j->stored, j->v) != 0)
		j->match = -1;
	crypto_wipe(j->pw, sizeof j->pw);
}

static void vjob_done(uv_work_t *w, int status)
{
	vjob *j = w->data;
	char cur[PASSWORD_HASH_MAX] = "";
	cJSON *o;

	vjobs--;
	/* The hash may have changed while PBKDF2 ran (a reset): then the
	 * verifier would be of an old password. */
	db_text(j->h->hb_db, "SELECT password_hash FROM staff_credentials WHERE id=?", j->staff_id,
		cur, sizeof cur);
	if (status != 0 || j->match < 0) {
		http_reply_error(j->req, 500, NULL, "the hub could not check the password");
	} else if (j->match == 0 || strcmp(cur, j->stored) != 0) {
		http_reply_error(j->req, 403, "password",
				 "the password is not the account's current one at the hub");
	} else if (acct_verifier_set(j->h->hb_db, j->staff_id, j->v) != 0) {
		http_reply_error(j->req, 500, NULL, "the hub could not store the verifier");
	} else {
		acct_principal p;
		memset(&p, 0, sizeof p);
		snprintf(p.ap_id, sizeof p.ap_id, "%s", j->node_id);
		snprintf(p.ap_username, sizeof p.ap_username, "node");
		acct_audit(j->h->hb_db, &p, j->node_id, "verifier.established", "staff", j->staff_id,
			   j->la, NULL, NULL, NULL);
		log_info("password verifier of staff %s established through node %s", j->staff_id,
			 j->node_id);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "verifier", "set");
		http_reply_json(j->req, 200, o);
	}
	crypto_wipe(cur, sizeof cur);
	crypto_free(j, sizeof *j);
}

/* The account as this node may speak for it: 0 (stored gets its hash), or
 * the status to refuse with and *why. */
static int account_ok(hub *h, const hub_node *nd, const char *sid, char *stored, size_t n,
		      const char **why)
{
	sqlite3_stmt *st = NULL;
	int rc, active = 0, in_la = 0;

	if (db_prepare(h->hb_db, &st,
		       "SELECT s.active, c.local_area_id=?2, c.password_hash FROM staff s"
		       " JOIN staff_credentials c ON c.id=s.id WHERE s.id=?1") != 0) {
		*why = "the hub database could not complete the request";
		return 500;
	}
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nd->hn_la, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *hash = db_col(st, 2);

		active = sqlite3_column_int(st, 0);
		in_la = sqlite3_column_int(st, 1);
		if (hash == NULL)
			rc = SQLITE_NOMEM; /* not "no password" */
		else
			snprintf(stored, n, "%s", hash);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		*why = "the hub database could not complete the request";
		return 500;
	}
	if (rc != SQLITE_ROW || !in_la || stored[0] == '\0') {
		*why = "no account of the node's Local Area";
		return 404;
	}
	if (!active || acct_is_admin_account(h->hb_db, sid) != 0) {
		*why = "the account is not one a node speaks for";
		return 409;
	}
	return 0;
}

/* 1 when one of the node's checks (an array of one or two) is of the
 * verifier v, 0 when none is, -1 when they are malformed. */
static int check_matches(const cJSON *checks, const char *sid, const char *v)
{
	char mine[PASSWORD_VERIFIER_HEX];
	const cJSON *c;
	int n = 0, match = 0;

	if (password_verifier_check(v, sid, mine) != 0)
		return -1;
	cJSON_ArrayForEach(c, checks)
	{
		if (++n > 2 || !cJSON_IsString(c) ||
		    strlen(c->valuestring) != PASSWORD_VERIFIER_HEX - 1) {
			match = -1;
			break;
		}
		if (crypto_ct_cmp(c->valuestring, mine, PASSWORD_VERIFIER_HEX - 1) == 0)
			match = 1;
	}
	crypto_wipe(mine, sizeof mine);
	return n == 0 ? -1 : match;
}

/* A row of the route table (HUB_P_NODE: the node's signature is checked by
 * the dispatcher, from the headers before the body too). */
static route_rc post_verifier(route_call *a)
{
	hub *h = API_HUB(a);
	const hub_node *nd = API_NODE(a);
	http_req *req = a->rc_req;
	const char *sid = json_str(a->rc_body, "staff_id"), *pw = json_str(a->rc_body, "password");
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(a->rc_body, "check");
	char have[PASSWORD_VERIFIER_HEX];
	const char *why = NULL, *answer;
	int exists, st, match = 1;
	vjob *j;
	cJSON *o;

	hub_sync_add_time(req);
	if (nd == NULL)
		return route_fail(a, 401, NULL, "a node's signed request");
	if (sid == NULL || sid[0] == '\0' || strlen(sid) > 63)
		return route_bad(a, "staff_id", "staff_id is required");
	if (pw != NULL && (pw[0] == '\0' || strlen(pw) > ACCT_PW_INPUT_MAX))
		return route_bad(a, "password", "password must be 1 to %d characters",
				 ACCT_PW_INPUT_MAX);
	if ((j = calloc(1, sizeof *j)) == NULL)
		return ROUTE_DBERR;
	if ((st = account_ok(h, nd, sid, j->stored, sizeof j->stored, &why)) != 0) {
		crypto_free(j, sizeof *j);
		return route_fail(a, st, "staff_id", "%s", why);
	}
	exists = acct_verifier_get(h->hb_db, sid, have) == 0;
	if (exists && checks != NULL && (match = check_matches(checks, sid, have)) < 0) {
		crypto_wipe(have, sizeof have);
		crypto_free(j, sizeof *j);
		return route_bad(a, "check", "check must be one or two hex values of 64 digits");
	}
	crypto_wipe(have, sizeof have);
	if (exists || pw == NULL) {
		/* Without a password: only whether one is needed. */
		crypto_free(j, sizeof *j);
		answer = !exists ? "missing" : match ? "exists" : "differs";
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "verifier", answer);
		return route_ok(a, 200, o);
	}
	if (vjobs >= VERIFIER_JOBS_MAX) {
		crypto_free(j, sizeof *j);
		return route_fail(a, 503, NULL, "the hub is busy; try again");
	}
	j->w.data = j;
	j->h = h;
	j->req = req;
	snprintf(j->staff_id, sizeof j->staff_id, "%s", sid);
	snprintf(j->node_id, sizeof j->node_id, "%s", nd->hn_id);
	snprintf(j->la, sizeof j->la, "%s", nd->hn_la);
	snprintf(j->pw, sizeof j->pw, "%s", pw);
	if (uv_queue_work(h->hb_loop, &j->w, vjob_run, vjob_done) != 0) {
		crypto_free(j, sizeof *j);
		return route_fail(a, 503, NULL, "the hub is busy; try again");
	}
	vjobs++;
	/* The password leaves the request's buffers now. */
	crypto_wipe((char *)pw, strlen(pw));
	if (req->body.data)
		crypto_wipe(req->body.data, req->body.len);
	return ROUTE_TAKEN;
}

static const route_key verifier_keys[] = {
	{"staff_id", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{"password", ROUTE_T_STR, 0},
	{"check", ROUTE_T_ARRAY, 0},
	{NULL, 0, 0},
};

static const route_def verifier_defs[] = {
	{HTTP_M_POST, "/api/v1/sync/verifier", post_verifier, HUB_P_NODE, ROUTE_BODY | ROUTE_DEFER,
	 verifier_keys, 4096},
};
const route_list hub_verifier_route_list = ROUTE_LIST(verifier_defs);
