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
 * or "missing"), so the password travels only when it is needed.
 *
 *   200 {"verifier": "set" | "exists" | "missing"}
 *   403 {"field": "password"}  the password is not the hub's current one
 *   404 / 409                  not an account this node may speak for
 */
#include "hub/acct.h"
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
	char staff_id[64];
	char pw[ACCT_PW_INPUT_MAX + 1];
	char stored[PASSWORD_HASH_MAX];
	char v[PASSWORD_VERIFIER_HEX];
	int match; /* [work] 1, 0, -1 */
} vjob;

static int vjobs;

static void vjob_free(vjob *j)
{
	crypto_wipe(j, sizeof *j);
	free(j);
}

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
		log_info("password verifier of staff %s established through a node", j->staff_id);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "verifier", "set");
		http_reply_json(j->req, 200, o);
	}
	crypto_wipe(cur, sizeof cur);
	vjob_free(j);
}

/* The account as this node may speak for it; 0, or -1 with the reply sent.
 * stored gets its hash. */
static int account_ok(hub *h, http_req *req, const hub_node *nd, const char *sid, char *stored,
		      size_t n)
{
	sqlite3_stmt *st = NULL;
	int rc, active = 0, in_la = 0;

	if (db_prepare(h->hb_db, &st,
		       "SELECT s.active, c.local_area_id=?2, c.password_hash FROM staff s"
		       " JOIN staff_credentials c ON c.id=s.id WHERE s.id=?1") != 0) {
		http_reply_error(req, 500, NULL, "the hub database could not complete the request");
		return -1;
	}
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nd->hn_la, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		active = sqlite3_column_int(st, 0);
		in_la = sqlite3_column_int(st, 1);
		snprintf(stored, n, "%s",
			 sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2) : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW || !in_la || stored[0] == '\0') {
		http_reply_error(req, 404, "staff_id", "no account of the node's Local Area");
		return -1;
	}
	if (!active || acct_is_admin_account(h->hb_db, sid) != 0) {
		http_reply_error(req, 409, "staff_id", "the account is not one a node speaks for");
		return -1;
	}
	return 0;
}

static void post_verifier(http_req *req, void *ctx)
{
	static const char *const allowed[] = {"staff_id", "password", NULL};
	hub *h = ctx;
	hub_node nd;
	cJSON *body = NULL, *o;
	json_err je;
	const char *sid = NULL, *pw = NULL;
	char have[PASSWORD_VERIFIER_HEX];
	vjob *j = NULL;

	if (hub_sync_auth(h, req, &nd) != 0)
		return;
	body = http_req_json(req, 1);
	if (body == NULL)
		goto out;
	if (json_only(body, allowed, &je) != 0 ||
	    json_get_str(body, "staff_id", JSON_REQUIRED, 1, 63, &sid, NULL, 0, &je) != 0 ||
	    json_get_str(body, "password", JSON_NULLABLE, 1, ACCT_PW_INPUT_MAX, &pw, NULL, 0, &je) !=
		    0) {
		http_reply_error(req, 400, je.field, "%s", je.msg);
		goto out;
	}
	if ((j = calloc(1, sizeof *j)) == NULL) {
		http_reply_error(req, 503, NULL, "the hub is busy; try again");
		goto out;
	}
	if (account_ok(h, req, &nd, sid, j->stored, sizeof j->stored) != 0)
		goto out;
	if (acct_verifier_get(h->hb_db, sid, have) == 0 || pw == NULL) {
		/* Without a password: only whether one is needed. */
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "verifier", acct_verifier_get(h->hb_db, sid, have) == 0
								 ? "exists"
								 : "missing");
		crypto_wipe(have, sizeof have);
		http_reply_json(req, 200, o);
		goto out;
	}
	if (vjobs >= VERIFIER_JOBS_MAX) {
		http_reply_error(req, 503, NULL, "the hub is busy; try again");
		goto out;
	}
	j->w.data = j;
	j->h = h;
	j->req = req;
	snprintf(j->staff_id, sizeof j->staff_id, "%s", sid);
	snprintf(j->pw, sizeof j->pw, "%s", pw);
	if (uv_queue_work(h->hb_loop, &j->w, vjob_run, vjob_done) != 0) {
		http_reply_error(req, 503, NULL, "the hub is busy; try again");
		goto out;
	}
	vjobs++;
	j = NULL;
out:
	if (j)
		vjob_free(j);
	if (req->body.data)
		crypto_wipe(req->body.data, req->body.len);
	if (body && cJSON_GetObjectItem(body, "password") &&
	    cJSON_IsString(cJSON_GetObjectItem(body, "password")))
		crypto_wipe(cJSON_GetObjectItem(body, "password")->valuestring,
			    strlen(cJSON_GetObjectItem(body, "password")->valuestring));
	cJSON_Delete(body);
}

int acct_verifier_routes(hub *h, router *r)
{
	return router_add(r, HTTP_M_POST, "/api/v1/sync/verifier", post_verifier, h) != 0 ? -1 : 0;
}
