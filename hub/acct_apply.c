/*
 * acct_apply.c - passwords set at office nodes, applied at the hub.
 *
 * A node never writes staff_credentials (hub-owned).  It inserts an
 * append-only credential_changes row; the hub's push apply calls
 * acct_validate_row() for it (inside the entry's savepoint, on the push work
 * thread's connection).  The change takes effect only when the staff member
 * exists, is active (neither suspended nor past a separation or suspension
 * date the hub set, whose sweep may not have run yet), belongs to the
 * node's Local Area (the row's
 * local_area_id, already checked against the node's scope by sync/apply.c)
 * and prev_hash_sha256 names the hash the hub holds now, so a reset at the
 * hub in between wins.  Then staff_credentials gets the new hash and
 * password_temp=0, and the change log carries it back to the nodes.
 * Otherwise the row is kept but refused: the hub's own credentials row is
 * re-sent (a new updated_hlc) so the node's local copy reverts, and the
 * outcome is recorded in credential_change_status and admin_audit.  Malformed
 * rows (bad hash form, unknown reason) quarantine the entry.
 *
 * The trust boundary (DESIGN.md): a node holds every hash of its Local Area,
 * so prev_hash_sha256 alone proves nothing.  A change applies only with a
 * valid proof: an HMAC of the row under the second verifier of the current
 * password (model/password.h), which only the hub keeps; the row also brings
 * the new password's verifier wrapped under the current one.  A change
 * without a valid proof, or for an administrative (hub-only) account, is
 * quarantined.  An applied change ends the account's hub sessions; the new
 * hash, pulled by every node, ends its sessions there (node_auth.c).
 *
 * Every row a node pushes is also checked against that node (trust_check):
 * a node_id must be the pushing node's; an audit event must be of the
 * node's office and name a staff member of its Local Area; no row a node
 * inserts, no column it updates, may name an administrative account, and it
 * deletes no row that names one; rows a node inserts as their author (the
 * append-only tables' staff_id, created_by, recorded_by, an attachment's
 * uploaded_by and withdrawn_by) name staff of its Local Area; a
 * participant's assigned_staff_id, when the row sets it, names staff of the
 * participant's Local Area; an employer's vetting result, when the row sets
 * it, names a vetter of the node's Local Area (vetted_by), and its
 * conversion a converter of that Local Area (converted_by).  So the
 * console's "reported by node X" is what X sent.
 */
#include "hub/acct.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/hlc.h"
#include "lib/log.h"
#include "model/schema.h"
#include "model/casework.h"
#include "model/crm.h"
#include "model/password.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hash_form_ok(const char *s)
{
	static const char pfx[] = "pbkdf2-sha256$";
	const char *p, *d;
	char *end;
	unsigned long long it;

	if (s == NULL || strncmp(s, pfx, sizeof pfx - 1) != 0 || strlen(s) >= PASSWORD_HASH_MAX)
		return 0;
	p = s + sizeof pfx - 1;
	it = strtoull(p, &end, 10);
	if (end == p || *end != '$' || it < PASSWORD_ITERS || it > 100000000ULL)
		return 0;
	d = strchr(end + 1, '$');
	if (d == NULL || d - (end + 1) != 32 || strlen(d + 1) != 64)
		return 0;
	for (p = end + 1; *p; p++)
		if (p != d && strchr("0123456789abcdef", *p) == NULL)
			return 0;
	return 1;
}

static void status_row(sqlite3 *db, const cJSON *row, const char *status, const char *why)
{
	const cJSON *ca = cJSON_GetObjectItem(row, "changed_at");

	db_run(db,
	       "INSERT OR REPLACE INTO credential_change_status(id, staff_id, node_id, reason,"
	       " changed_at, status, why, decided_at) VALUES(?,?,?,?,?,?,?,?)",
	       "ttttIttI", json_str(row, "id"), json_str(row, "staff_id"), json_str(row, "node_id"),
	       json_str(row, "reason"), ca && cJSON_IsNumber(ca) ? (int64_t)ca->valuedouble : (int64_t)0,
	       status, why, (int64_t)hub_now_ms());
}

/* A change decided (applied or refused) leaves the Local Area: its hash, a
 * password the account has had or was refused, has no use at any node (the
 * account's current one reaches them as its staff_credentials row), and
 * every node of the area would otherwise keep every hash it ever had. */
static void decided(sqlite3 *db, const cJSON *row)
{
	db_run(db, "UPDATE credential_changes SET local_area_id='" ACCT_HUB_LA "' WHERE id=?", "t",
	       json_str(row, "id"));
}

static void audit_outcome(sqlite3 *db, const cJSON *row, const char *la, const char *status,
			  const char *why)
{
	char action[64], detail[256];
	acct_principal node;

	memset(&node, 0, sizeof node);
	snprintf(node.ap_id, sizeof node.ap_id, "%s",
		 json_str(row, "node_id") ? json_str(row, "node_id") : "node");
	snprintf(node.ap_username, sizeof node.ap_username, "node");
	snprintf(action, sizeof action, "credential_change.%s", status);
	snprintf(detail, sizeof detail, "{\"reason\":\"%s\",\"why\":\"%s\"}",
		 strcmp(json_str(row, "reason"), "first_login") == 0 ? "first_login" : "change",
		 why ? why : "");
	acct_audit(db, &node, json_str(row, "node_id"), action, "staff", json_str(row, "staff_id"),
		   la, NULL, NULL, detail);
}

/* The row's proof of the current password (see above); next gets the new
 * password's verifier.  0, or -1 with the reason (quarantine), or
 * MODEL_CHECK_AGAIN. */
static int proof_check(sqlite3 *db, const cJSON *row, char next[PASSWORD_VERIFIER_HEX],
		       char *reason, size_t n)
{
	const char *id = json_str(row, "id"), *staff_id = json_str(row, "staff_id");
	const char *proof = json_str(row, "proof"), *nv = json_str(row, "next_verifier");
	const cJSON *ca = cJSON_GetObjectItem(row, "changed_at");
	char v[PASSWORD_VERIFIER_HEX], want[PASSWORD_VERIFIER_HEX];
	int ok = acct_verifier_get(db, staff_id, v);

	if (ok < 0)
		CANNOT_CHECK("credential_changes: cannot read the password's verifier");
	if (ok != 0)
		REFUSE("credential_changes: the hub holds no verifier of this account's password "
		       "(reset it at the hub)");
	ok = proof != NULL && strlen(proof) == PASSWORD_VERIFIER_HEX - 1 && nv != NULL &&
	     password_change_proof(v, id, staff_id, json_str(row, "password_hash"),
				   json_str(row, "prev_hash_sha256"), json_str(row, "reason"),
				   (int64_t)ca->valuedouble, nv, want) == 0 &&
	     crypto_ct_cmp(proof, want, PASSWORD_VERIFIER_HEX - 1) == 0 &&
	     password_verifier_wrap(v, id, nv, next) == 0;
	crypto_wipe(v, sizeof v);
	if (!ok)
		REFUSE("credential_changes: no valid proof of the current password");
	return 0;
}

static int apply_change(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	const char *staff_id = json_str(row, "staff_id"), *la = json_str(row, "local_area_id");
	const char *hash = json_str(row, "password_hash"), *prev = json_str(row, "prev_hash_sha256");
	const char *rsn = json_str(row, "reason"), *why = NULL;
	const cJSON *ca = cJSON_GetObjectItem(row, "changed_at");
	sqlite3_stmt *st = NULL;
	char cur_ref[65] = "", staff_la[64] = "", ts[HLC_STRLEN], next[PASSWORD_VERIFIER_HEX];
	char today[11], separates[11] = "", suspends[11] = "";
	int active = 0, suspended = 0, found = 0, has_cred = 0, rc;
	hlc clk;

	if (staff_id == NULL || la == NULL || rsn == NULL ||
	    (strcmp(rsn, "first_login") != 0 && strcmp(rsn, "change") != 0))
		REFUSE("credential_changes: reason must be first_login or change");
	if (!hash_form_ok(hash))
		REFUSE("credential_changes: password_hash is not a PBKDF2-SHA256 hash of at least "
		       "%u rounds",
		       PASSWORD_ITERS);
	if (ca == NULL || !cJSON_IsNumber(ca))
		REFUSE("credential_changes: changed_at is required");
	found = db_row(db, &st,
		       "SELECT s.active, coalesce(s.local_area_id,''), c.password_hash,"
		       " c.id IS NOT NULL, s.suspended, coalesce(s.deactivate_on,''),"
		       " coalesce(s.suspend_on,'') FROM staff s"
		       " LEFT JOIN staff_credentials c ON c.id=s.id WHERE s.id=?",
		       staff_id);
	if (found < 0)
		CANNOT_CHECK("credential_changes: cannot read the staff member");
	if (found) {
		const char *sla = db_col(st, 1), *sep = db_col(st, 5), *sus = db_col(st, 6);
		const char *cur = NULL;
		int oom = sla == NULL || sep == NULL || sus == NULL;

		active = sqlite3_column_int(st, 0);
		suspended = sqlite3_column_int(st, 4);
		if (!oom) {
			snprintf(staff_la, sizeof staff_la, "%s", sla);
			snprintf(separates, sizeof separates, "%s", sep);
			snprintf(suspends, sizeof suspends, "%s", sus);
		}
		if (sqlite3_column_type(st, 2) == SQLITE_TEXT &&
		    ((cur = db_col(st, 2)) == NULL || password_hash_ref(cur, cur_ref) != 0))
			oom = 1;
		has_cred = sqlite3_column_int(st, 3);
		sqlite3_finalize(st);
		if (oom) /* not "another Local Area" or "no password" */
			CANNOT_CHECK("credential_changes: cannot read the staff member");
	}

	/* A suspended or separated account gets no password from an office:
	 * an office that has not pulled the suspension yet (offline, say)
	 * would otherwise hand the person a working password for the day it
	 * is lifted.  Refused as a deactivated one's is: kept, in the
	 * console's refused changes and the audit trail, and the hub's own
	 * credentials sent back so the office's copy reverts.  The dates
	 * count as the offices count them (node_auth.c): from that day,
	 * whether or not the hub's sweep has recorded it yet. */
	clock_local_date(hub_now_ms(), today);
	if (!found)
		why = "unknown staff member";
	else if (!active)
		why = "the account is deactivated";
	else if (separates[0] && strcmp(separates, today) <= 0)
		why = "the account is past its separation date";
	else if (suspended || (suspends[0] && strcmp(suspends, today) <= 0))
		why = "the account is suspended";
	else if (strcmp(staff_la, la) != 0)
		why = "the staff member is not in the node's Local Area";
	else if (!has_cred || cur_ref[0] == '\0')
		why = "the account has no password at the hub";
	else if (prev == NULL || strlen(prev) != 64 || strcmp(prev, cur_ref) != 0)
		why = "the password was changed or reset at the hub since";

	if (found && (rc = acct_is_admin_account(db, staff_id)) != 0) {
		if (rc < 0)
			CANNOT_CHECK("credential_changes: cannot read the staff member");
		REFUSE("credential_changes: administrative accounts are hub-only");
	}
	if (why == NULL && (rc = proof_check(db, row, next, reason, n)) != 0)
		return rc;
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	/* after every office stamp the hub holds (sync_hub_stamp_note()) */
	sync_hub_stamp_observe(db, &clk);
	if (why == NULL) {
		hlc_now(&clk, ts);
		if (acct_password_set(db, staff_id, hash, (int64_t)ca->valuedouble, ts, next) != 0)
			CANNOT_CHECK("credential_changes: cannot store the password");
		acct_sessions_end(db, staff_id);
		status_row(db, row, "applied", NULL);
		audit_outcome(db, row, la, "applied", NULL);
		decided(db, row);
		log_info("password of staff %s set at node %s applied", staff_id,
			 json_str(row, "node_id") ? json_str(row, "node_id") : "?");
		return 0;
	}
	/* Refused: keep the record, re-send the hub's row so the node reverts. */
	if (found && has_cred) {
		char cur_hlc[HLC_STRLEN] = "";
		db_text(db, "SELECT updated_hlc FROM staff_credentials WHERE id=?", staff_id,
			cur_hlc, sizeof cur_hlc);
		if (cur_hlc[0])
			hlc_observe(&clk, cur_hlc);
		hlc_now(&clk, ts);
		db_run(db, "UPDATE staff_credentials SET updated_hlc=? WHERE id=?", "tt", ts, staff_id);
	}
	status_row(db, row, "refused", why);
	audit_outcome(db, row, la, "refused", why);
	decided(db, row);
	log_warnx("password of staff %s set at node %s refused: %s", staff_id,
		  json_str(row, "node_id") ? json_str(row, "node_id") : "?", why);
	return 0;
}

/* Does the cached statement sql, ?1 a and ?2 b, give a row?  1, 0 not, -1
 * unreadable. */
static int cached_exists(sqlite3 *db, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* staff_id is active staff of Local Area la (its credentials, its own Local
 * Area or its office's): 1, 0 not, -1 unreadable. */
static int staff_in_la(sqlite3 *db, const char *staff_id, const char *la)
{
	/* (every author column of a push: a cached statement) */
	return cached_exists(db,
			     "SELECT 1 FROM staff s LEFT JOIN staff_credentials c ON c.id=s.id"
			     " WHERE s.id=?1 AND (c.local_area_id=?2 OR s.local_area_id=?2 OR"
			     " s.office_id IN (SELECT id FROM offices WHERE local_area_id=?2))",
			     staff_id, la);
}

/* office is an office of Local Area la, open or closed since: 1, 0 not (or
 * unknown), -1 unreadable. */
static int office_in_la(sqlite3 *db, const char *office, const char *la)
{
	return cached_exists(db, "SELECT 1 FROM offices WHERE id=?1 AND local_area_id=?2", office,
			     la);
}

/* named[i]: the string value of the row's member cols[i] (the first one of
 * that name, as json_str() reads it), else NULL. */
static void staff_named(const cJSON *row, const char *const *cols, const char **named)
{
	unsigned by_first[256] = {0}, seen = 0;

	/* The columns each first letter may start (a row's other members then
	 * cost one look-up). */
	for (int i = 0; i < 32 && cols[i]; i++)
		by_first[(unsigned char)cols[i][0]] |= 1u << i;
	for (const cJSON *it = row ? row->child : NULL; it != NULL; it = it->next) {
		const char *k = it->string;
		unsigned m;

		if (k == NULL)
			continue;
		m = by_first[(unsigned char)k[0]] & ~seen;
		for (int i = 0; m != 0; i++, m >>= 1)
			if ((m & 1) && strcmp(k, cols[i]) == 0) {
				seen |= 1u << i;
				named[i] = cJSON_IsString(it) ? it->valuestring : NULL;
				break;
			}
	}
}

/* What the office's conversion route requires of the employer converted
 * (node_crm_review.c): still active, with an active primary contact (the
 * contacts reach the hub before the conversion that needs them: an earlier
 * entry), and the vetting clock of the 72-hour procedure, started at a time
 * a clock can give.  The converter is the staff member signed in at the
 * sending node (nd, NULL for none): staff of its Local Area, and never left
 * out, or the vetting's separation of duties (crm_vetter_check: the
 * converter does not vet) would have nobody to hold to. */
static int conversion_check(sqlite3 *db, const hub_node *nd, const cJSON *row, char *reason,
			    size_t n)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(row, "vetting_started_at");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(row, "vetting_due_at");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(row, "converted_at");
	const char *st = json_str(row, "status"), *by = json_str(row, "converted_by");
	int rc;

	if (st == NULL || strcmp(st, "active") != 0)
		REFUSE("employers: an inactive employer is not converted");
	if (by == NULL || by[0] == '\0')
		REFUSE("employers: a conversion names who converted the lead (converted_by)");
	if (nd != NULL && (rc = staff_in_la(db, by, nd->hn_la)) <= 0) {
		if (rc < 0)
			CANNOT_CHECK("employers.converted_by: cannot read the staff member");
		REFUSE("employers.converted_by is not staff of the sending node's Local Area");
	}
	if (!cJSON_IsNumber(s) || !cJSON_IsNumber(d) || !hlc_time_plausible(s->valuedouble) ||
	    d->valuedouble != (double)crm_vetting_due((int64_t)s->valuedouble) ||
	    !cJSON_IsNumber(c) || c->valuedouble != s->valuedouble)
		REFUSE("employers: a conversion starts the vetting clock: vetting_due_at is %d hours "
		       "after vetting_started_at, converted_at",
		       CRM_VETTING_HOURS);
	rc = db_exists(db, "SELECT 1 FROM employer_contacts WHERE employer_id=? AND kind='primary'"
			   " AND status='active'",
		       json_str(row, "id"));
	if (rc < 0)
		CANNOT_CHECK("employers: cannot read the employer's contacts");
	if (rc == 0)
		REFUSE("employers: a conversion needs an active primary contact");
	return 0;
}

/* 1 when a row of tbl whose column col is val and col2 val2 is here or
 * inserted by the entry under check (applied yet or not: an entry's rows
 * are checked in the schema's order, the grouped apply's after all of
 * them are in); 0 when not, -1 when that cannot be read.  tbl, col and
 * col2 are the caller's fixed names. */
static int row_recorded(sqlite3 *db, const char *tbl, const char *col, const char *val,
			const char *col2, const char *val2)
{
	sqlite3_stmt *st = NULL;
	char sql[160];
	int rc;

	if (val == NULL || val2 == NULL)
		return 0;
	snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE %s=?1 AND %s=?2", tbl, col, col2);
	if (db_prepare_bound(db, &st, sql, "tt", val, val2) != 0)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return -1;
	return sync_entry_inserts(tbl, col, val, col2, val2);
}

/* 1 when participant pid has an exit dated date, here or inserted by the
 * entry under check; 0 when not, -1 when that cannot be read. */
static int exit_recorded(sqlite3 *db, const char *pid, const char *date)
{
	return row_recorded(db, "participant_exits", "participant_id", pid, "exit_date", date);
}

/* SLO 34-19: "Case notes are required for every activity" - an office's
 * activity route writes the activity and its activity case note in one
 * write (node_case_work.c), so a new activity comes with its note in the
 * same entry (or, released from review, finds it here).  A correction's
 * note is optional (its original has one).  Only inserts are judged: a
 * row the hub holds already is not checked again when it is sent again.
 * 0, or refused. */
static int activity_note_check(sqlite3 *db, const char *tbl, int op, const cJSON *row,
			       char *reason, size_t n)
{
	int rc;

	if (row == NULL || strcmp(tbl, "participant_activities") != 0 || op != SQLITE_INSERT ||
	    json_str(row, "corrects_id") != NULL)
		return 0;
	if ((rc = row_recorded(db, "case_notes", "activity_id", json_str(row, "id"), "kind",
			       "activity")) < 0)
		CANNOT_CHECK("participant_activities: cannot read the case notes");
	if (rc == 0)
		REFUSE("participant_activities: an activity is entered with its activity case note"
		       " (a case_notes row of kind activity naming it, in the same write)");
	return 0;
}

/* An approver's decision an office sends: made at that office, and signed
 * by the approver's password (model/password.h, password_decision_proof:
 * the node derives the verifier at their sign-in; the hub holds it), in an
 * audit event of the same entry.  Without it a node could approve a
 * backdate or a change in the name of any approver of its Local Area
 * (their roles replicate to it), or as the hub's console.  0, or refused. */
static int decision_proof_check(sqlite3 *db, const hub_node *nd, const cJSON *row, char *reason,
				size_t n)
{
	const char *id = json_str(row, "id"), *staff = json_str(row, "staff_id");
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(row, "decided_at");
	char v[PASSWORD_VERIFIER_HEX], want[PASSWORD_VERIFIER_HEX], detail[256];
	const cJSON *p;
	cJSON *o;
	int rc, ok;

	if (json_str(row, "office_id") == NULL || strcmp(json_str(row, "office_id"), nd->hn_office) != 0)
		REFUSE("case_approval_decisions: office_id is not the sending node's office");
	if (id == NULL || staff == NULL || !cJSON_IsNumber(at))
		REFUSE("case_approval_decisions: id, staff_id and decided_at are required");
	if ((rc = acct_verifier_get(db, staff, v)) < 0)
		CANNOT_CHECK("case_approval_decisions: cannot read the approver's verifier");
	if (rc != 0) /* (none) */
		REFUSE("case_approval_decisions: the hub holds no verifier of the approver's password"
		       " (they sign in once at an office while it is connected, then decide again)");
	if ((rc = sync_entry_text("audit_events", "subject_id", id, "detail", detail, sizeof detail)) == -1) {
		crypto_wipe(v, sizeof v);
		CANNOT_CHECK("case_approval_decisions: cannot read the entry's audit event");
	}
	if (rc != 1 || (o = cJSON_Parse(detail)) == NULL) {
		crypto_wipe(v, sizeof v);
		REFUSE("case_approval_decisions: a decision made at an office carries its approver's"
		       " proof (an audit event of the same write)");
	}
	p = cJSON_GetObjectItemCaseSensitive(o, "proof");
	ok = cJSON_IsString(p) && strlen(p->valuestring) == PASSWORD_VERIFIER_HEX - 1 &&
	     password_decision_proof(v, id, json_str(row, "request_id"), staff, json_str(row, "role"),
				     json_str(row, "decision"), json_str(row, "decided_date"),
				     (int64_t)at->valuedouble, want) == 0 &&
	     crypto_ct_cmp(want, p->valuestring, PASSWORD_VERIFIER_HEX - 1) == 0;
	cJSON_Delete(o);
	crypto_wipe(v, sizeof v);
	if (!ok)
		REFUSE("case_approval_decisions: the approver's proof does not hold (not signed with"
		       " their password)");
	return 0;
}

/*
 * An approver's standing when the decision was made (decided_at: the
 * office's trusted clock, signed with the proof): an account deactivated
 * (separated) or suspended at the hub, by an administrator or operations
 * or by the recertification rule, has no authority from that moment, though
 * an office that has not yet pulled the change still lets it sign in.  A
 * decision made before is taken (offline work, pushed late), one made from
 * that moment is refused, and a later reinstatement does not make it good.
 * The moment is the one the hub recorded with each change, in its
 * transaction: staff.deactivated_at, and the administrators' audit trail's
 * staff.suspend and staff.reactivate rows (a scheduled separation and an
 * overdue recertification from the sweep's run on their day, when every
 * office refuses the account by itself already).  The approver's role is
 * judged at that time too, in the model's check (acct_decision_role_check
 * below).  0, or refused.
 */
#define STANDING_SQL                                                                              \
	"SELECT coalesce((SELECT CASE"                                                            \
	"  WHEN s.active = 0 AND coalesce(s.deactivated_at, 0) <= ?2 THEN 1"                      \
	"  ELSE (SELECT CASE WHEN e.action = 'staff.reactivate' THEN 0"                           \
	"   WHEN e.actor_id IS NULL AND e.client = 'recertification' THEN 3 ELSE 2 END"            \
	"   FROM admin_audit e WHERE e.subject_table = 'staff' AND e.subject_id = s.id"            \
	"   AND e.action IN ('staff.suspend', 'staff.reactivate') AND e.at <= ?2"                  \
	"   ORDER BY e.at DESC, e.rowid DESC LIMIT 1) END"                                         \
	" FROM staff s WHERE s.id = ?1), 0)"

static int decision_standing_check(sqlite3 *db, const cJSON *row, char *reason, size_t n)
{
	static const char *const cause[] = {
	    NULL, "deactivated (separated)", "suspended", "suspended (recertification overdue)"};
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(row, "decided_at");
	int64_t was;

	if (!cJSON_IsNumber(at)) /* (decision_proof_check requires it) */
		REFUSE("case_approval_decisions: decided_at is required");
	was = db_int_bound(db, -1, STANDING_SQL, "tI", json_str(row, "staff_id"),
			   (int64_t)at->valuedouble);
	if (was < 0 || was > 3)
		CANNOT_CHECK("case_approval_decisions: cannot read the approver's account state");
	if (was > 0)
		REFUSE("case_approval_decisions: the approver's account was %s at the hub before this"
		       " decision was made: no authority from that moment",
		       cause[was]);
	return 0;
}

/*
 * The roles account ?1 held at time ?4 by the administrators' audit trail
 * (case.approver_roles: the account's roles before and after each change,
 * its Local Area, the moment the hub made it, in its transaction): 0 when
 * it held role ?3 in Local Area ?2, 2 when it held it there earlier and no
 * longer, 1 when it did not (never, or granted later).  The state at ?4 is
 * the last change's at or before it; with none, the first later change's
 * before; with no change at all (a role from before the trail), the role as
 * held now.
 */
#define ROLES_OF(C) " json_each(CASE WHEN json_valid(e." C ") THEN e." C " ELSE '{}' END, '$.roles')"
#define ROLE_IN(C) " EXISTS (SELECT 1 FROM" ROLES_OF(C) " WHERE value = ?3)"
#define ROLE_TRAIL                                                                                \
	" FROM admin_audit e WHERE e.action = 'case.approver_roles'"                              \
	" AND e.subject_table = 'staff' AND e.subject_id = ?1"
#define ROLE_HELD_SQL                                                                             \
	"SELECT CASE WHEN coalesce("                                                              \
	" (SELECT e.local_area_id IS ?2 AND" ROLE_IN("after") ROLE_TRAIL " AND e.at <= ?4"        \
	"  ORDER BY e.at DESC, e.rowid DESC LIMIT 1),"                                            \
	" (SELECT e.local_area_id IS ?2 AND" ROLE_IN("before") ROLE_TRAIL " AND e.at > ?4"        \
	"  ORDER BY e.at, e.rowid LIMIT 1),"                                                      \
	" EXISTS (SELECT 1 FROM case_approver_roles r WHERE r.id = ?1 || ':' || ?3"               \
	"  AND r.active = 1 AND r.local_area_id = ?2)) THEN 0"                                    \
	" WHEN EXISTS (SELECT 1" ROLE_TRAIL " AND e.at <= ?4 AND e.local_area_id IS ?2"          \
	"  AND (" ROLE_IN("after") " OR" ROLE_IN("before") ")) THEN 2 ELSE 1 END"

/*
 * The hub's check of a decision's role (case_approvals_set_role_check, in
 * place of the model's "held now"): the approver held it in Local Area la
 * when the decision was made (decided_at, signed with the proof), by the
 * roles' history the hub recorded.  An office that has not yet pulled a
 * role's removal still lets its approver decide: a decision made before the
 * removal is taken (offline work, pushed late), one made from that moment
 * is refused, the reason naming the removal, and a role granted again
 * later does not make it good.  Offices check the role as they hold it.
 */
int acct_decision_role_check(sqlite3 *db, const cJSON *row, const char *la, char *reason, size_t n)
{
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(row, "decided_at");
	const char *role = json_str(row, "role");
	int64_t was;

	if (!cJSON_IsNumber(at))
		REFUSE("case_approval_decisions: decided_at is required");
	was = db_int_bound(db, -1, ROLE_HELD_SQL, "tttI", json_str(row, "staff_id"), la,
			   role ? role : "", (int64_t)at->valuedouble);
	if (was < 0 || was > 2)
		CANNOT_CHECK("case_approval_decisions: cannot read the approver roles");
	if (was == 2)
		REFUSE("case_approval_decisions: the approver's role %s in this Local Area was removed"
		       " at the hub before this decision was made: no authority from that moment",
		       role);
	if (was == 1)
		REFUSE("case_approval_decisions: the staff account did not hold that approver role"
		       " when the decision was made");
	return 0;
}

/* The row against the node that pushed it (see the top of the file). */
static int trust_check(sqlite3 *db, const hub_node *nd, const char *tbl, int op,
		       const cJSON *row, char *reason, size_t n)
{
	static const char *const staff_cols[] = {
	    "staff_id", "created_by", "recorded_by", "requested_by", "uploaded_by", "withdrawn_by",
	    "registered_by", "converted_by", "closed_by", "resolved_by", "assigned_staff_id",
	    "lead_owner_id", "owner_id", "assigned_to", "assignee_id", NULL};
	/* (an attachment's uploader and withdrawer are its authors too) */
	static const char *const author_cols[] = {"staff_id",    "created_by",   "recorded_by",
						  "requested_by", "uploaded_by", "withdrawn_by",
						  NULL};
	const table_def *td = schema_table(tbl);
	const char *v, *named[sizeof staff_cols / sizeof staff_cols[0]] = {NULL};
	int rc;

	/* The row's staff columns in one pass over its members (a lookup per
	 * name was a twentieth of a push's work, bench_sync). */
	staff_named(row, staff_cols, named);
	/* Inserts, the columns an update sets (an older row may name an account
	 * made administrative since: its other edits go on), and deletes of a
	 * row that names one (not a node's to remove). */
	for (int i = 0; staff_cols[i]; i++) {
		v = named[i];
		if (v == NULL || (rc = acct_is_admin_account(db, v)) == 0)
			continue;
		if (rc < 0)
			CANNOT_CHECK("%s.%s: cannot read the staff member", tbl, staff_cols[i]);
		if (op == SQLITE_DELETE)
			REFUSE("%s: a row naming an administrative account is not a node's to "
			       "delete",
			       tbl);
		if (op == SQLITE_INSERT || sync_change_sets(staff_cols[i]))
			REFUSE("%s.%s names an administrative account (hub-only)", tbl, staff_cols[i]);
	}
	/* A row moved to another employer names one the hub has (the CRM's
	 * validator checks the rows inserted; only here is it known which
	 * columns an update sets). */
	if (op == SQLITE_UPDATE && (v = json_str(row, "employer_id")) != NULL &&
	    sync_change_sets("employer_id")) {
		if ((rc = crm_employer_exists(db, v)) < 0)
			CANNOT_CHECK("%s.employer_id: cannot read employers", tbl);
		if (rc == 0)
			REFUSE("%s: no such employer", tbl);
	}
	/* A participant is assigned to staff of its own Local Area (its case
	 * worker's node holds it).  Only when the change sets the column: a
	 * staff member moved since does not hold the participant's other
	 * edits; nor does one deactivated since (offline, not the office's
	 * fault). */
	if (strcmp(tbl, "participants") == 0 && op != SQLITE_DELETE &&
	    (v = json_str(row, "assigned_staff_id")) != NULL && v[0] != '\0' &&
	    (op == SQLITE_INSERT || sync_change_sets("assigned_staff_id"))) {
		const char *la = json_str(row, "local_area_id");

		if (la == NULL)
			REFUSE("participants: local_area_id is required");
		if ((rc = staff_in_la(db, v, la)) < 0)
			CANNOT_CHECK("participants.assigned_staff_id: cannot read the staff member");
		if (rc == 0)
			REFUSE("participants.assigned_staff_id is not staff of the participant's Local "
			       "Area");
	}
	/* A visit is its office's (the scope check holds the office and its
	 * Local Area): what the visitor gave at check-in is never
	 * rewritten (an office's routes change only its status, times, note,
	 * link and server), the staff member who serves it is of its Local
	 * Area, and a participant it is linked to too.  Staff and link only
	 * when the change sets them, as for an assignment. */
	if (strcmp(tbl, "checkins") == 0 && op != SQLITE_DELETE) {
		static const char *const fixed[] = {"local_area_id", "visitor_name", "phone", "email",
						    "language", "appointment_with", "virtual",
						    "arrived_at", "visit_date", NULL};
		const char *la = json_str(row, "local_area_id");
		char ola[128] = "";

		if (la == NULL)
			REFUSE("checkins: local_area_id is required");
		for (int i = 0; op == SQLITE_UPDATE && fixed[i]; i++)
			if (sync_change_sets(fixed[i]))
				REFUSE("checkins: %s is the check-in's and never changes", fixed[i]);
		if ((v = json_str(row, "staff_id")) != NULL &&
		    (op == SQLITE_INSERT || sync_change_sets("staff_id"))) {
			if ((rc = staff_in_la(db, v, la)) < 0)
				CANNOT_CHECK("checkins.staff_id: cannot read the staff member");
			if (rc == 0)
				REFUSE("checkins.staff_id is not staff of the visit's Local Area");
		}
		if ((v = json_str(row, "participant_id")) != NULL &&
		    (op == SQLITE_INSERT || sync_change_sets("participant_id"))) {
			rc = db_text(db, "SELECT local_area_id FROM participants WHERE id=?", v, ola,
				     sizeof ola);
			if (rc < 0)
				CANNOT_CHECK("checkins.participant_id: cannot read participants");
			if (rc > 0 || strcmp(ola, la) != 0)
				REFUSE("checkins.participant_id is not a participant of the visit's Local "
				       "Area");
		}
	}
	/* An employer's conversion and vetting as the offices' routes make
	 * them: converted_by and a pending vetting come only with the
	 * conversion (lead to recruiting, never back); a vetting result is
	 * WSB staff's (crm__hub_check_vetting), so a "pending" that clears a
	 * lock, or a converted_by cleared so its converter may vet, is not an
	 * office's edit; and no edit gives a recruiting employer's user name
	 * the MKT prefix again. */
	if (strcmp(tbl, "employers") == 0 && op == SQLITE_UPDATE) {
		const char *type = json_str(row, "account_type"), *vs = json_str(row, "vetting_status");
		int converting = sync_change_sets("account_type") && type &&
				 strcmp(type, CRM_RECRUITING) == 0;

		if (sync_change_sets("created_as"))
			REFUSE("employers: created_as is the employer's first record and never changes");
		if (sync_change_sets("account_type") && !converting)
			REFUSE("employers: a recruiting employer never becomes a lead again");
		if (converting && (vs == NULL || strcmp(vs, "pending") != 0))
			REFUSE("employers: a conversion starts the vetting (vetting_status pending)");
		if (!converting && sync_change_sets("converted_by"))
			REFUSE("employers: converted_by is the conversion's");
		/* The 72-hour clock is set by the conversion alone (no office
		 * route writes it after): moved later, an overdue vetting would
		 * drop out of the hub's overdue list (hub_crm.c). */
		if (!converting && (sync_change_sets("vetting_started_at") ||
				    sync_change_sets("vetting_due_at") || sync_change_sets("converted_at")))
			REFUSE("employers: the vetting clock (vetting_started_at, vetting_due_at,"
			       " converted_at) is the conversion's and never changes");
		if (!converting && sync_change_sets("vetting_status") && vs && strcmp(vs, "pending") == 0)
			REFUSE("employers: a vetting result is approved or locked (WSB staff)");
		/* A result is recorded with its time (the vetting route writes
		 * both): an entry that only turns a lock into an approval, in the
		 * name of whoever locked it, is not a vetting. */
		if (!converting && sync_change_sets("vetting_status") && !sync_change_sets("vetted_at"))
			REFUSE("employers: a vetting result is recorded with who and when (vetted_by, "
			       "vetted_at)");
		/* The vetter signed in at the office that sends the result: WSB
		 * staff of another Local Area hold the privilege too, but the
		 * node holds no password of theirs (crm__hub_check_vetting
		 * weighs the privilege, not the Local Area). */
		if (nd != NULL && (v = json_str(row, "vetted_by")) != NULL &&
		    (sync_change_sets("vetting_status") || sync_change_sets("vetted_by") ||
		     sync_change_sets("vetted_at"))) {
			if ((rc = staff_in_la(db, v, nd->hn_la)) < 0)
				CANNOT_CHECK("employers.vetted_by: cannot read the staff member");
			if (rc == 0)
				REFUSE("employers.vetted_by is not staff of the sending node's Local Area");
		}
		if (converting && (rc = conversion_check(db, nd, row, reason, n)) != 0)
			return rc;
		if (type && strcmp(type, CRM_RECRUITING) == 0 && sync_change_sets("username") &&
		    crm_has_mkt_prefix(json_str(row, "username")))
			REFUSE("employers: a recruiting employer's user name has no MKT prefix");
	}
	/* A new employer is a lead (model/crm.c refuses one inserted
	 * recruiting): the clock comes with its conversion, not before it,
	 * where a conversion keeping it would start vetting at any time. */
	if (strcmp(tbl, "employers") == 0 && op == SQLITE_INSERT) {
		static const char *const clock[] = {"vetting_started_at", "vetting_due_at",
						    "converted_at", NULL};
		for (int i = 0; clock[i]; i++) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(row, clock[i]);
			if (x != NULL && !cJSON_IsNull(x))
				REFUSE("employers: %s is the conversion's (a new employer is a lead)",
				       clock[i]);
		}
	}
	/* The registration date is the day the record was made: every other
	 * date of the case is judged against it, so an entry never moves it. */
	if (strcmp(tbl, "participants") == 0 && op == SQLITE_UPDATE &&
	    sync_change_sets("registered_date"))
		REFUSE("participants: registered_date is the registration's and never changes");
	/* A participant's closure date is its closure form's (written with
	 * it): an entry never takes it away.  Only when the change sets the
	 * column: a row an older release let lose it takes other edits. */
	if (strcmp(tbl, "participants") == 0 && op == SQLITE_UPDATE &&
	    json_str(row, "closure_form_date") == NULL && sync_change_sets("closure_form_date")) {
		rc = db_exists(db, "SELECT 1 FROM case_forms WHERE participant_id=? AND kind='closure'",
			       json_str(row, "id"));
		if (rc < 0)
			CANNOT_CHECK("participants: cannot read the closure forms");
		if (rc > 0)
			REFUSE("participants: closure_form_date is the closure form's and cannot be"
			       " taken away");
	}
	/* A case exits by its soft exit, a participant_exits row (whose rules
	 * are that row's: model/casework.c), written with the participant's
	 * exit state and date: an edit of the participant alone would exit a
	 * case for good without them.  The exit is one already here or one
	 * the same entry inserts (checked after this row: the schema's order). */
	if (strcmp(tbl, "participants") == 0 && op != SQLITE_DELETE &&
	    (v = json_str(row, "exit_state")) != NULL && strcmp(v, "exited") == 0 &&
	    (op == SQLITE_INSERT || sync_change_sets("exit_state") || sync_change_sets("exit_date")) &&
	    (rc = exit_recorded(db, json_str(row, "id"), json_str(row, "exit_date"))) != 1) {
		if (rc < 0)
			CANNOT_CHECK("participants: cannot read the exits");
		REFUSE("participants: a case exits with its soft exit (a participant_exits row of that"
		       " exit_date), not by an edit of the participant");
	}
	/* The CRM's statewide rows an office makes and edits (employers, work
	 * items, job orders) are made by the staff member signed in at the
	 * sending node, and a work item is closed by one: staff of its Local
	 * Area (created_by gives rights over the row: crm_wi_may_work).  The
	 * maker never changes.  A work item or job order is of the node's
	 * office (its routes write the node's).  An employer's office is the
	 * one chosen in the lead form, which offers and takes only the open
	 * offices of the node's Local Area, as its maker is of that area
	 * (node_crm_employers.c): an insert names one of that area's offices
	 * (and the area), and an update that sets either names those too.  An
	 * office closed since is taken: a lead made offline before the office
	 * closed is honest work, not to be quarantined with its contacts and
	 * services.  The hub writes
	 * none of these rows, so every insert here is a node's. */
	if (nd != NULL && op != SQLITE_DELETE &&
	    (strcmp(tbl, "employers") == 0 || strcmp(tbl, "work_items") == 0 ||
	     strcmp(tbl, "job_orders") == 0)) {
		static const char *const made[] = {"created_by", "closed_by", NULL};

		if (op == SQLITE_UPDATE && sync_change_sets("created_by"))
			REFUSE("%s: created_by is who made the row and never changes", tbl);
		if (op == SQLITE_INSERT && json_str(row, "created_by") == NULL)
			REFUSE("%s: created_by is required", tbl);
		for (int i = 0; made[i]; i++) {
			if ((v = json_str(row, made[i])) == NULL ||
			    !(op == SQLITE_INSERT || sync_change_sets(made[i])))
				continue;
			if ((rc = staff_in_la(db, v, nd->hn_la)) < 0)
				CANNOT_CHECK("%s.%s: cannot read the staff member", tbl, made[i]);
			if (rc == 0)
				REFUSE("%s.%s is not staff of the sending node's Local Area", tbl, made[i]);
		}
		if (strcmp(tbl, "employers") != 0 && (v = json_str(row, "office_id")) != NULL &&
		    (op == SQLITE_INSERT || sync_change_sets("office_id")) &&
		    strcmp(v, nd->hn_office) != 0)
			REFUSE("%s: office_id is not the sending node's office", tbl);
		/* Where a lead was entered never moves: no office route updates
		 * either column, and an update setting one could hand another
		 * Local Area's lead to this one (both set) or put this node's
		 * office on it. */
		if (strcmp(tbl, "employers") == 0 && op == SQLITE_UPDATE &&
		    (sync_change_sets("office_id") || sync_change_sets("local_area_id")))
			REFUSE("employers: office_id and local_area_id are where the lead was"
			       " entered and never change");
		if (strcmp(tbl, "employers") == 0 && op == SQLITE_INSERT) {
			if ((v = json_str(row, "office_id")) == NULL)
				REFUSE("employers: office_id is required");
			if ((rc = office_in_la(db, v, nd->hn_la)) < 0)
				CANNOT_CHECK("employers: cannot read the office");
			if (rc == 0)
				REFUSE("employers: office_id is not an office of the"
				       " sending node's Local Area");
		}
		if (strcmp(tbl, "employers") == 0 && op == SQLITE_INSERT &&
		    ((v = json_str(row, "local_area_id")) == NULL ||
		     strcmp(v, nd->hn_la) != 0))
			REFUSE("employers: local_area_id is not the sending node's"
			       " Local Area");
	}
	if (nd == NULL || op != SQLITE_INSERT)
		return 0;
	v = json_str(row, "node_id");
	if (v && strcmp(v, nd->hn_id) != 0)
		REFUSE("%s.node_id names another node than the one that sent it", tbl);
	if (strcmp(tbl, "audit_events") == 0) {
		if (v == NULL)
			REFUSE("audit_events: node_id is required");
		if (json_str(row, "office_id") == NULL ||
		    strcmp(json_str(row, "office_id"), nd->hn_office) != 0)
			REFUSE("audit_events: office_id is not the sending node's office");
		if (json_str(row, "local_area_id") &&
		    strcmp(json_str(row, "local_area_id"), nd->hn_la) != 0)
			REFUSE("audit_events: local_area_id is not the sending node's");
	}
	if (strcmp(tbl, "credential_changes") == 0 && v == NULL)
		REFUSE("credential_changes: node_id is required");
	if (strcmp(tbl, "case_approval_decisions") == 0 &&
	    ((rc = decision_proof_check(db, nd, row, reason, n)) != 0 ||
	     (rc = decision_standing_check(db, row, reason, n)) != 0))
		return rc;
	/* Approvals recorded with typed-in names, before approvals were
	 * requests and decisions: no office writes them any more, and one
	 * would approve a backdate with nobody's decision. */
	if (strcmp(tbl, "backdate_approvals") == 0)
		REFUSE("backdate_approvals: a backdate is approved by its request's approvers'"
		       " decisions now, not by recorded names");
	/* credential_changes: apply_change() weighs the staff member's Local Area */
	if (td == NULL || td->td_kind != TK_APPEND_ONLY || strcmp(tbl, "credential_changes") == 0)
		return 0;
	for (int i = 0; author_cols[i]; i++) {
		v = named[i]; /* (author_cols is the head of staff_cols) */
		if (v && (rc = staff_in_la(db, v, nd->hn_la)) < 0)
			CANNOT_CHECK("%s.%s: cannot read the staff member", tbl, author_cols[i]);
		if (v && rc == 0)
			REFUSE("%s.%s is not staff of the sending node's Local Area", tbl,
			       author_cols[i]);
	}
	return 0;
}

/* An audit event's time is one a clock can have said, and its detail is a
 * JSON object of an event's size (an office's are a few ids). */
#define AUDIT_DETAIL_MAX (64 * 1024)

static int audit_detail_check(const cJSON *row, char *reason, size_t n)
{
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(row, "at");
	const cJSON *dv = cJSON_GetObjectItemCaseSensitive(row, "detail");
	const char *d = json_str(row, "detail");
	cJSON *o;
	int obj;

	if (!cJSON_IsNumber(at) || !hlc_time_plausible(at->valuedouble))
		REFUSE("audit_events: at is before 2020 or later than any clock can be");
	if (dv == NULL || cJSON_IsNull(dv))
		return 0;
	if (d == NULL || strlen(d) > AUDIT_DETAIL_MAX)
		REFUSE("audit_events: detail is a JSON object of at most %d bytes", AUDIT_DETAIL_MAX);
	o = cJSON_Parse(d);
	obj = cJSON_IsObject(o);
	cJSON_Delete(o);
	if (!obj)
		REFUSE("audit_events: detail is a JSON object of at most %d bytes", AUDIT_DETAIL_MAX);
	return 0;
}

int acct_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
		      size_t n)
{
	int rc;

	if (tbl != NULL && (rc = trust_check(db, hub_push_node(), tbl, op, row, reason, n)) != 0)
		return rc;
	if (tbl != NULL && strcmp(tbl, "credential_changes") == 0) {
		if (op != SQLITE_INSERT)
			REFUSE("credential_changes: rows are only inserted");
		return apply_change(db, row, reason, n);
	}
	if (tbl != NULL && strcmp(tbl, "audit_events") == 0) {
		if (op != SQLITE_INSERT)
			REFUSE("audit_events: rows are only inserted");
		if (json_str(row, "action") == NULL || json_str(row, "action")[0] == '\0' ||
		    !json_text_within(row, "action", 64) || !json_text_within(row, "subject_table", 64) ||
		    !json_text_within(row, "subject_id", 64))
			REFUSE("audit_events: action is required (action, subject_table and subject_id at"
			       " most 64 characters)");
		return audit_detail_check(row, reason, n);
	}
	/* The domain rules of every module: CRM, then case management; then
	 * what only the apply can tell (the rest of the entry). */
	if ((rc = model_hub_validate_row(db, tbl, op, row, reason, n)) != 0)
		return rc;
	return tbl != NULL ? activity_note_check(db, tbl, op, row, reason, n) : 0;
}
