/*
 * node_case.c - case work's JSON API on the office node, part 1:
 * participants (register, search, read, edit), the SSN (stored protected,
 * shown masked, revealed only through an audited request), the pseudo-SSN
 * helper, and the lists the pages need (codes, staff, offices, the trusted
 * date and clock skew).  The timeline and visit links are in
 * node_case_timeline.c.
 *
 * Reads of a participant record or of notes are captured writes too: each
 * one inserts an audit event, which replicates to the hub with the office's
 * other changes.  See node_case.h.
 */
#include "node/node_case.h"
#include "node/node_api.h"
#include "model/audit.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>



#define PARTICIPANT_COLS                                                                     \
	"p.id, p.local_area_id, p.office_id, o.name AS office_name, p.first_name, p.last_name,"  \
	" p.birth_date, p.phone, p.email, p.address, p.assigned_staff_id,"                      \
	" s.display_name AS assigned_staff_name, p.ssn_kind, p.ssn_last4, p.registered_date,"  \
	" p.registered_at, p.registered_by, p.exit_state, p.exit_date, p.closure_form_date"
#define PARTICIPANT_FROM                                                                     \
	" FROM participants p LEFT JOIN offices o ON o.id = p.office_id"                        \
	" LEFT JOIN staff s ON s.id = p.assigned_staff_id"

/* Replace ssn_last4 by ssn_masked in a participant object. */
static void mask_json(cJSON *o)
{
	const char *l4 = json_str(o, "ssn_last4");
	char m[12];

	if (l4) {
		case_ssn_mask(l4, m);
		cJSON_AddStringToObject(o, "ssn_masked", m);
	} else {
		cJSON_AddNullToObject(o, "ssn_masked");
	}
	cJSON_DeleteItemFromObject(o, "ssn_last4");
}

/* Open possible duplicates (participant_duplicate_flags, found at the hub):
 * both participants still active, the other's id, name and office; with
 * id NULL every pair of the node's Local Area. */
#define DUPLICATES_SQL                                                                           \
	"SELECT f.id, f.reason, f.detected_at, a.id AS participant_id,"                          \
	" a.first_name || ' ' || a.last_name AS participant_name, a.office_id AS participant_office," \
	" coalesce(oa.name, a.office_id) AS participant_office_name,"                            \
	" b.id AS other_participant_id, b.first_name || ' ' || b.last_name AS other_name,"       \
	" b.office_id AS other_office, coalesce(ob.name, b.office_id) AS other_office_name"     \
	" FROM participant_duplicate_flags f"                                                   \
	" JOIN participants a ON a.id = f.participant_id AND a.exit_state = 'active'"           \
	" JOIN participants b ON b.id = f.other_participant_id AND b.exit_state = 'active'"     \
	" LEFT JOIN offices oa ON oa.id = a.office_id"                                           \
	" LEFT JOIN offices ob ON ob.id = b.office_id WHERE f.status = 'open'"

/* The other participant of each open pair that names id. */
static cJSON *participant_duplicates(node *n, const char *id)
{
	return db_rows_json_by(n->nd_db,
			       "SELECT CASE WHEN d.participant_id = ?1 THEN d.other_participant_id"
			       "  ELSE d.participant_id END AS id,"
			       " CASE WHEN d.participant_id = ?1 THEN d.other_name"
			       "  ELSE d.participant_name END AS name,"
			       " CASE WHEN d.participant_id = ?1 THEN d.other_office"
			       "  ELSE d.participant_office END AS office_id,"
			       " CASE WHEN d.participant_id = ?1 THEN d.other_office_name"
			       "  ELSE d.participant_office_name END AS office_name,"
			       " d.reason, d.id AS flag_id"
			       " FROM (" DUPLICATES_SQL ") d"
			       " WHERE d.participant_id = ?1 OR d.other_participant_id = ?1",
			       id);
}

/* GET /api/v1/case/duplicates: the Local Area's open possible duplicates,
 * names and offices of both; audited as a search is (a read of each
 * participant listed), when it lists any. */
static route_rc list_duplicates(route_call *a)
{
	cJSON *rows = db_rows_json_by(API_NODE(a)->nd_db,
				      DUPLICATES_SQL " ORDER BY f.detected_at DESC LIMIT 500", NULL);

	if (rows == NULL)
		return ROUTE_DBERR;
	if (cJSON_GetArraySize(rows) > 0 &&
	    case__audit_ids(API_NODE(a), API_USER(a), "participant_duplicates_list", rows,
			    "participant_id", "other_participant_id") != 0) {
		cJSON_Delete(rows);
		return ROUTE_DBERR;
	}
	return route_ok(a, 200, rows);
}

static const route_key review_keys_rk[] = {
	{"outcome", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* POST /api/v1/case/duplicates/:id/review {"outcome": "same_person" or
 * "different_people"}: the review of a possible duplicate, recorded on the
 * flag (it replicates; the hub keeps the pair from being flagged again). */
static route_rc post_duplicate_review(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	const char *id = http_req_param(a->rc_req, "id"), *outcome = NULL;
	char status[24], ts[HLC_STRLEN];
	int rc;

	if (route_str(a, "outcome", JSON_REQUIRED, 1, 24, &outcome, NULL, 0) != 0)
		return ROUTE_BAD;
	if (strcmp(outcome, "same_person") != 0 && strcmp(outcome, "different_people") != 0)
		return route_fail(a, 400, "outcome", "outcome must be same_person or different_people");
	rc = db_text(n->nd_db, "SELECT status FROM participant_duplicate_flags WHERE id=?", id, status,
		     sizeof status);
	if (rc < 0)
		return ROUTE_DBERR;
	if (rc == 1)
		return route_fail(a, 404, "id", "no such possible duplicate");
	if (strcmp(status, "open") != 0)
		return route_fail(a, 409, "id", "this possible duplicate was already reviewed (%s)",
				  status);
	hlc_now(&n->nd_hlc, ts);
	if (db_run(n->nd_db,
		   "UPDATE participant_duplicate_flags SET status=?2, resolved_by=?3, resolved_at=?4,"
		   " updated_hlc=?5 WHERE id=?1",
		   "tttIt", id, outcome, u ? u->id : NULL, (int64_t)node_now_ms(n), ts) != 0)
		return ROUTE_DBERR;
	log_info("case: possible duplicate %s reviewed: %s", id, outcome);
	{
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddStringToObject(o, "status", outcome);
		return route_ok(a, 200, o);
	}
}

cJSON *case__participant_json(node *n, const char *id)
{
	sqlite3_stmt *st;
	cJSON *o = NULL;

	if (db_prepare(n->nd_db, &st, "SELECT " PARTICIPANT_COLS PARTICIPANT_FROM
				      " WHERE p.id=? AND p.local_area_id=?") != 0)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->nd_local_area_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		o = db_row_json(st);
		mask_json(o);
	}
	sqlite3_finalize(st);
	if (o != NULL) {
		/* Found at the hub: the same person registered twice. */
		cJSON *dups = participant_duplicates(n, id);

		if (dups == NULL) {
			cJSON_Delete(o);
			return NULL;
		}
		cJSON_AddItemToObject(o, "possible_duplicates", dups);
	}
	return o;
}

/* ---- lists --------------------------------------------------------------------- */

/* The lists of the meta reply: by_area, ?1 is the office's Local Area. */
static const struct {
	const char *name, *sql;
	int by_area;
} meta_lists[] = {
	{"activity_codes", "SELECT code, title, reporting_category, restarts_exit_clock FROM"
			   " participant_activity_codes WHERE status='active' ORDER BY code", 0},
	{"followup_codes", "SELECT code, title, restarts_exit_clock FROM followup_codes"
			   " WHERE status='active' ORDER BY code", 0},
	/* whom a participant may be assigned to (pfields_refs, the hub's trust check) */
	{"staff", "SELECT id, display_name, office_id FROM staff WHERE active=1 AND"
		  " (local_area_id=?1 OR office_id IN (SELECT id FROM offices WHERE local_area_id=?1))"
		  " ORDER BY display_name", 1},
	{"offices", "SELECT id, name FROM offices WHERE local_area_id=?1 AND active=1 ORDER BY name", 1},
};

/* GET /api/v1/case/meta: trusted date, clock, codes, staff, offices. */
static route_rc get_meta(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	cJSON *o;
	char today[11], contact[32] = "";

	node_today(n, today);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "today", today);
	cJSON_AddNumberToObject(o, "trusted_time_ms", (double)node_now_ms(n));
	cJSON_AddNumberToObject(o, "clock_offset_ms", (double)n->nd_clock_offset_ms);
	cJSON_AddBoolToObject(o, "clock_skew_warning", case_skew_flag(n->nd_clock_offset_ms));
	cJSON_AddBoolToObject(o, "clock_checked",
			      db_kv_get(n->nd_db, "node_meta", "last_contact_ms", contact, sizeof contact) == DB_FOUND);
	cJSON_AddStringToObject(o, "office_id", n->nd_office_id);
	cJSON_AddStringToObject(o, "local_area_id", n->nd_local_area_id);
	cJSON_AddStringToObject(o, "user_id", u->id);
	{
		unsigned char key[CASE_KEY_LEN];
		cJSON_AddBoolToObject(o, "ssn_key", case_key_load(n->nd_db, n->nd_local_area_id, key) == 0);
		crypto_wipe(key, sizeof key);
	}
	for (size_t i = 0; i < sizeof meta_lists / sizeof meta_lists[0]; i++)
		if (db_add_rows_json(o, meta_lists[i].name, n->nd_db, meta_lists[i].sql,
				     meta_lists[i].by_area ? n->nd_local_area_id : NULL) != 0) {
			cJSON_Delete(o);
			return ROUTE_DBERR; /* a list that could not be read is not an empty one */
		}
	return route_ok(a, 200, o);
}

/* The pseudo-SSN with this office's Local Area identifier (local_areas.
 * pseudo_ssn_prefix, set at the hub).  ROUTE_OK, or the 400/409 failure. */
static route_rc la_pseudo_ssn(route_call *a, const char *birth, char out[12])
{
	node *n = API_NODE(a);
	char prefix[8] = "";

	if (json_valid_date(birth) != 0)
		return route_fail(a, 400, "birth_date", "birth date must be a date (YYYY-MM-DD)");
	if (db_text(n->nd_db, "SELECT pseudo_ssn_prefix FROM local_areas WHERE id=?",
		    n->nd_local_area_id, prefix, sizeof prefix) != 0 ||
	    case_pseudo_ssn_la(prefix, birth, out) != 0)
		return route_fail(a, 409, "pseudo_ssn",
				  "this Local Area has no pseudo-SSN identifier yet: the hub's operations "
				  "staff set it on the Local Area, then this office syncs");
	return ROUTE_OK;
}

/* GET /api/v1/case/pseudo-ssn?birth_date=YYYY-MM-DD */
static route_rc get_pseudo_ssn(route_call *a)
{
	http_req *req = a->rc_req;
	char bd[32], p[12];
	cJSON *o;
	route_rc rc;

	if (!http_req_query(req, "birth_date", bd, sizeof bd))
		return route_fail(a, 400, "birth_date", "birth date must be a date (YYYY-MM-DD)");
	if ((rc = la_pseudo_ssn(a, bd, p)) != ROUTE_OK)
		return rc;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pseudo_ssn", p);
	return route_ok(a, 200, o);
}

/* ---- register ---------------------------------------------------------------- */

static const route_key reg_keys_rk[] = {
	{"first_name", ROUTE_T_ANY, 0}, {"last_name", ROUTE_T_ANY, 0}, {"birth_date", ROUTE_T_ANY, 0},
	{"phone", ROUTE_T_ANY, 0}, {"email", ROUTE_T_ANY, 0}, {"address", ROUTE_T_ANY, 0},
	{"office_id", ROUTE_T_ANY, 0}, {"assigned_staff_id", ROUTE_T_ANY, 0}, {"ssn", ROUTE_T_ANY, 0},
	{"pseudo_ssn", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

typedef struct pfields {
	const char *first, *last, *birth, *phone, *email, *address, *office, *staff;
	char tmp[6][JSON_TEXT_BYTES(254)]; /* the longest field: email */
} pfields;

/* The place and staff member named: known here.  Errors collected. */
static int pfields_refs(node *n, route_call *a, const pfields *f)
{
	int bad = 0;

	if (f->office && f->office[0]) {
		char la[64] = "";
		if (db_text(n->nd_db, "SELECT local_area_id FROM offices WHERE id=?", f->office, la,
			    sizeof la) != 0 ||
		    strcmp(la, n->nd_local_area_id) != 0)
			bad = route_err(a, "office_id", "no such office in this Local Area");
	}
	if (f->staff && f->staff[0]) {
		/* active staff of this Local Area (by their own or their office's;
		 * the hub checks the same) */
		sqlite3_stmt *st;
		int rc;

		rc = db_prepare(n->nd_db, &st,
				"SELECT 1 FROM staff WHERE id=?1 AND active=1 AND (local_area_id=?2 OR"
				" office_id IN (SELECT id FROM offices WHERE local_area_id=?2))");
		if (rc == 0) {
			sqlite3_bind_text(st, 1, f->staff, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, n->nd_local_area_id, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			sqlite3_finalize(st);
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) /* nothing is saved */
			bad = route_err(a, "assigned_staff_id",
					"the staff member could not be checked now; try again");
		else if (rc == SQLITE_DONE)
			bad = route_err(a, "assigned_staff_id",
					"no such active staff member in this Local Area");
	}
	return bad;
}

/* Fields shared by register and edit (the call's body); required ones only
 * when `create`.  Every field's error is collected in a: 0 or -1. */
static int read_pfields(node *n, route_call *a, int create, const char *today, pfields *f)
{
	const cJSON *b = a->rc_body;
	int req = create ? JSON_REQUIRED : 0, bad = 0;

	memset(f, 0, sizeof *f);
	bad |= route_str(a, "first_name", req | JSON_NULLABLE, create, CASE_NAME_MAX, &f->first,
			 f->tmp[0], sizeof f->tmp[0]);
	bad |= route_str(a, "last_name", req | JSON_NULLABLE, create, CASE_NAME_MAX, &f->last,
			 f->tmp[1], sizeof f->tmp[1]);
	bad |= route_str(a, "birth_date", req | JSON_NULLABLE, create, 10, &f->birth, NULL, 0);
	bad |= route_str(a, "phone", JSON_NULLABLE, 0, 25, &f->phone, f->tmp[2], sizeof f->tmp[2]);
	bad |= route_str(a, "email", JSON_NULLABLE, 0, 254, &f->email, f->tmp[3], sizeof f->tmp[3]);
	bad |= route_str(a, "address", JSON_NULLABLE, 0, 200, &f->address, f->tmp[4],
			 sizeof f->tmp[4]);
	bad |= route_str(a, "office_id", JSON_NULLABLE, 0, 64, &f->office, NULL, 0);
	bad |= route_str(a, "assigned_staff_id", JSON_NULLABLE, 0, 64, &f->staff, NULL, 0);
	if (!create && cJSON_GetObjectItemCaseSensitive(b, "first_name") && f->first == NULL &&
	    !route_has_err(a, "first_name"))
		bad = route_err(a, "first_name", "first name is required");
	if (!create && cJSON_GetObjectItemCaseSensitive(b, "last_name") && f->last == NULL &&
	    !route_has_err(a, "last_name"))
		bad = route_err(a, "last_name", "last name is required");
	if (f->first && f->first[0] == '\0')
		bad = route_err(a, "first_name", "name is required");
	if (f->last && f->last[0] == '\0')
		bad = route_err(a, "last_name", "name is required");
	if (f->birth && (json_valid_date(f->birth) != 0 || strcmp(f->birth, "1900-01-01") < 0 ||
			 strcmp(f->birth, today) > 0))
		bad = route_err(a, "birth_date",
				"birth date must be a real date in the past (YYYY-MM-DD)");
	if (f->phone && f->phone[0]) {
		int digits = json_phone_digits(f->phone, " ()-+.x");
		if (digits < 10 || digits > 15)
			bad = route_err(a, "phone", "phone number must have 10 to 15 digits");
	}
	if (f->email && f->email[0] && json_valid_email(f->email) != 0)
		bad = route_err(a, "email", "email address is not valid");
	return pfields_refs(n, a, f) | bad;
}

/*
 * POST /api/v1/case/participants
 *   {first_name, last_name, birth_date, phone?, email?, address?, office_id?,
 *    assigned_staff_id?, ssn? | pseudo_ssn: true}
 * -> 201 the participant (SSN masked).  409 {"field":"ssn"} when a real SSN
 * is already registered in the Local Area.
 */
static route_rc post_participant(route_call *a)
{
	route_rc rr = ROUTE_OK;
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	cJSON *out;
	json_err e = {{0}, {0}};
	pfields f;
	const char *ssn = NULL, *kind = "none";
	char today[11], digits[10] = "", enc[CASE_SSN_ENC_MAX + 1] = "", mac[65] = "", l4[5] = "",
			    id[UUID_STRLEN], ts[HLC_STRLEN], other[64];
	int pseudo = 0;
	uint64_t now;

	node_today(n, today);
	if (read_pfields(n, a, 1, today, &f) |
	    route_str(a, "ssn", JSON_NULLABLE, 0, 16, &ssn, NULL, 0) |
	    route_bool(a, "pseudo_ssn", JSON_NULLABLE, 0, &pseudo))
		goto bad;
	if (ssn && ssn[0] == '\0')
		ssn = NULL;
	if (ssn && pseudo) {
		json_err_set(&e, "ssn", "give an SSN or ask for a pseudo-SSN, not both");
		goto bad;
	}
	if (ssn && case_ssn_digits(ssn, digits) != 0) {
		json_err_set(&e, "ssn", "SSN must be nine digits (999-99-9999)");
		goto bad;
	}
	if (ssn && case_ssn_real_check(digits) != NULL) {
		json_err_set(&e, "ssn", "%s", case_ssn_real_check(digits));
		goto bad;
	}
	if (pseudo) {
		char p[12];
		if ((rr = la_pseudo_ssn(a, f.birth, p)) != ROUTE_OK)
			goto done;
		case_ssn_digits(p, digits);
	}
	now = node_now_ms(n);
	uuid7_at(id, now);
	if (digits[0]) {
		int rc = case_ssn_protect_db(n->nd_db, n->nd_local_area_id, id, digits, enc, mac);
		if (rc != 0) {
			rr = route_fail(a, 409, "ssn",
					 "this office has not yet received its Local Area's SSN key from "
					 "the hub: sync, then try again (or register without the SSN)");
			goto done;
		}
		memcpy(l4, digits + 5, 5);
		kind = pseudo ? "pseudo" : "real";
		/* Under any key this office holds: rows the hub has not yet
		 * written again under the newest one keep their own hash. */
		if (!pseudo && case_ssn_find(n->nd_db, n->nd_local_area_id, digits,
					     "SELECT id FROM participants WHERE ssn_hmac=?"
					     " AND ssn_kind='real'", other, sizeof other) == 0) {
			cJSON *o;
			/* Naming who holds an SSN is a read by SSN, audited as
			 * the search's is (the answer commits with its row). */
			if (case__audit(n, u, "participant_ssn_duplicate", "participants", other,
					NULL) != 0) {
				rr = ROUTE_DBERR;
				goto done;
			}
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "error", "a participant with this SSN is already registered");
			cJSON_AddStringToObject(o, "field", "ssn");
			cJSON_AddStringToObject(o, "participant_id", other);
			rr = route_ok(a, 409, o);
			goto done;
		}
	}
	hlc_now(&n->nd_hlc, ts);
	if (db_run(n->nd_db,
		   "INSERT INTO participants(id, local_area_id, office_id, first_name, last_name,"
		   " birth_date, phone, email, address, assigned_staff_id, ssn_kind, ssn_enc, ssn_hmac,"
		   " ssn_last4, registered_date, registered_at, registered_by, exit_state, updated_hlc)"
		   " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'active',?)",
		   "tttttttttttttttItt", id, n->nd_local_area_id,
		   f.office && f.office[0] ? f.office : n->nd_office_id, f.first, f.last, f.birth,
		   db_null_if_empty(f.phone), db_null_if_empty(f.email), db_null_if_empty(f.address),
		   f.staff && f.staff[0] ? f.staff : u->id, kind, db_null_if_empty(enc),
		   db_null_if_empty(mac), db_null_if_empty(l4), today, (int64_t)now, u->id, ts) != 0 ||
	    case__audit(n, u, "participant_create", "participants", id, NULL) != 0) {
		rr = ROUTE_DBERR;
		goto done;
	}
	out = case__participant_json(n, id);
	log_info("case: participant %s registered", id);
	rr = route_ok(a, 201, out);
	goto done;
bad:
	rr = route_bad_json(a, &e);
done:
	crypto_wipe(digits, sizeof digits);
	return rr;
}

/* ---- search -------------------------------------------------------------------- */

/*
 * The participant search, for both routes:
 *   GET  /api/v1/case/participants?q=&staff_id=&office_id=&state=active|exited&limit=
 *   POST /api/v1/case/participants/search {q, staff_id, office_id, state, limit}
 * q: part of a name ("Reyes", "Ana Reyes", "Reyes, Ana"), or a full SSN
 * (matched through its keyed hash, never stored in the clear), which only
 * the POST takes: an SSN never goes in a URL (browsers' history, proxies'
 * logs).  The search is audited per record (who searched, the ids
 * returned; never the query nor any content).
 */
#define PSEARCH_Q_MAX 127 /* characters */
typedef struct psearch {
	char q[JSON_TEXT_BYTES(PSEARCH_Q_MAX)], staff[64], office[64], state[16];
	int limit;
	int by_ssn; /* set by the search: q was a full SSN */
} psearch;

static route_rc search_participants(route_call *a, psearch *ps);

static route_rc list_participants(route_call *a)
{
	http_req *req = a->rc_req;
	psearch ps = {.limit = 100};
	char lim[16] = "", digits[10];

	if (http_req_query_get(req, "q", ps.q, sizeof ps.q) < 0 || json_utf8_chars(ps.q) > PSEARCH_Q_MAX)
		return route_fail(a, 400, "q", "q must be at most %d characters", PSEARCH_Q_MAX);
	http_req_query(req, "staff_id", ps.staff, sizeof ps.staff);
	http_req_query(req, "office_id", ps.office, sizeof ps.office);
	http_req_query(req, "state", ps.state, sizeof ps.state);
	if (http_req_query(req, "limit", lim, sizeof lim) && lim[0]) {
		ps.limit = atoi(lim);
		if (ps.limit < 1 || ps.limit > 500)
			return route_fail(a, 400, "limit", "limit must be a whole number from 1 to 500");
	}
	if (ps.q[0] && case_ssn_digits(ps.q, digits) == 0) {
		crypto_wipe(digits, sizeof digits);
		return route_fail(a, 400, "q",
				  "an SSN is searched with POST /api/v1/case/participants/search, "
				  "never in a URL");
	}
	return search_participants(a, &ps);
}

static const route_key search_keys_rk[] = {
	{"q", ROUTE_T_ANY, 0}, {"staff_id", ROUTE_T_ANY, 0}, {"office_id", ROUTE_T_ANY, 0},
	{"state", ROUTE_T_ANY, 0}, {"limit", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

static route_rc post_search(route_call *a)
{
	psearch ps = {.limit = 100};
	const char *q = NULL, *staff = NULL, *office = NULL, *state = NULL;
	int64_t limit = 100;
	route_rc rr;

	/* Each into its buffer: an identifier longer than it is refused, never cut. */
	if (route_str(a, "q", JSON_NULLABLE, 0, PSEARCH_Q_MAX, &q, NULL, 0) |
	    route_str(a, "staff_id", JSON_NULLABLE, 0, sizeof ps.staff - 1, &staff, ps.staff,
		      sizeof ps.staff) |
	    route_str(a, "office_id", JSON_NULLABLE, 0, sizeof ps.office - 1, &office, ps.office,
		      sizeof ps.office) |
	    route_str(a, "state", JSON_NULLABLE, 0, sizeof ps.state - 1, &state, ps.state,
		      sizeof ps.state) |
	    route_int(a, "limit", JSON_NULLABLE, 1, 500, &limit, NULL))
		return ROUTE_BAD;
	snprintf(ps.q, sizeof ps.q, "%s", q ? q : "");
	ps.limit = (int)limit;
	rr = search_participants(a, &ps);
	crypto_wipe(ps.q, sizeof ps.q);
	return rr;
}

/* case_ssn_hmac_each's fn for a search by SSN: one more hash in the JSON
 * array being built in arg (a buf). */
static int search_hmac_add(void *arg, const char *mac)
{
	buf *b = arg;

	return buf_printf(b, "%s\"%s\"", b->len > 1 ? "," : "", mac) == 0 ? 0 : -1;
}

/* A JSON array of the hashes of every epoch: 67 bytes each, and the brackets. */
#define SEARCH_HMACS_MAX ((size_t)CASE_KEY_EPOCH_MAX * 67 + 2)

static route_rc search_participants(route_call *a, psearch *ps)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	char *q = ps->q, *staff = ps->staff, *office = ps->office, *state = ps->state;
	char sql[1400], p1[300] = "", p2[300] = "", digits[10];
	int limit = ps->limit, k, rc;
	sqlite3_stmt *st = NULL;
	cJSON *arr = NULL, *it;
	buf macs = BUF_INIT(SEARCH_HMACS_MAX);

	if (state[0] && strcmp(state, "active") != 0 && strcmp(state, "exited") != 0)
		return route_fail(a, 400, "state", "state must be active or exited");
	k = snprintf(sql, sizeof sql, "SELECT " PARTICIPANT_COLS PARTICIPANT_FROM
				      " WHERE p.local_area_id=?1");
	if (q[0] && case_ssn_digits(q, digits) == 0) {
		/* A match by full SSN says the guess was right: with the last four
		 * shown masked, a guessing loop found a whole SSN in minutes.  So
		 * only those who may reveal an SSN search by one. */
		if (!(u->privs & PRIV_PARTICIPANT_EDIT)) {
			crypto_wipe(digits, sizeof digits);
			return route_fail(a, 403, "q",
					  "searching by SSN needs the participant edit privilege; "
					  "search by name");
		}
		ps->by_ssn = 1;
		/* Under every key this office holds, as the registration's
		 * duplicate check (case_ssn_find): a row the hub has not yet
		 * written again under the newest key, or whose new hash has
		 * not reached this office, keeps its own epoch's hash.  No key
		 * held: "[]", nothing found. */
		rc = buf_putc(&macs, '[') != 0 ||
		     case_ssn_hmac_each(n->nd_db, n->nd_local_area_id, digits, search_hmac_add,
					&macs) != 0 ||
		     buf_putc(&macs, ']') != 0;
		crypto_wipe(digits, sizeof digits);
		if (rc) {
			crypto_wipe(macs.data, macs.len);
			buf_release(&macs);
			return ROUTE_DBERR;
		}
		k += snprintf(sql + k, sizeof sql - (size_t)k,
			      " AND p.ssn_hmac IN (SELECT value FROM json_each(?2))");
	} else if (q[0]) {
		char *comma = strchr(q, ','), *sp = strrchr(q, ' ');
		if (comma) { /* "Last, First" */
			*comma = '\0';
			db_like_pattern(q, 1, p1, sizeof p1);
			const char *fst = comma + 1;
			while (*fst == ' ')
				fst++;
			db_like_pattern(fst, 1, p2, sizeof p2);
			k += snprintf(sql + k, sizeof sql - (size_t)k,
				      " AND p.last_name LIKE ?2 ESCAPE '\\' AND p.first_name LIKE ?3 ESCAPE '\\'");
		} else if (sp && sp != q && sp[1]) { /* "First Last" */
			*sp = '\0';
			db_like_pattern(q, 1, p2, sizeof p2);
			db_like_pattern(sp + 1, 1, p1, sizeof p1);
			k += snprintf(sql + k, sizeof sql - (size_t)k,
				      " AND p.last_name LIKE ?2 ESCAPE '\\' AND p.first_name LIKE ?3 ESCAPE '\\'");
		} else {
			db_like_pattern(q, 1, p1, sizeof p1);
			k += snprintf(sql + k, sizeof sql - (size_t)k,
				      " AND (p.last_name LIKE ?2 ESCAPE '\\' OR p.first_name LIKE ?2 ESCAPE '\\')");
		}
	}
	if (staff[0])
		k += snprintf(sql + k, sizeof sql - (size_t)k, " AND p.assigned_staff_id=?4");
	if (office[0])
		k += snprintf(sql + k, sizeof sql - (size_t)k, " AND p.office_id=?5");
	if (state[0])
		k += snprintf(sql + k, sizeof sql - (size_t)k, " AND p.exit_state=?6");
	snprintf(sql + k, sizeof sql - (size_t)k,
		 " ORDER BY p.last_name COLLATE NOCASE, p.first_name COLLATE NOCASE, p.id LIMIT ?7");
	if (db_prepare(n->nd_db, &st, sql) != 0) {
		crypto_wipe(macs.data, macs.len);
		buf_release(&macs);
		return ROUTE_DBERR;
	}
	sqlite3_bind_text(st, 1, n->nd_local_area_id, -1, SQLITE_STATIC);
	if (macs.len > 0)
		sqlite3_bind_text(st, 2, macs.data, (int)macs.len, SQLITE_STATIC);
	else if (q[0] && p1[0])
		sqlite3_bind_text(st, 2, p1, -1, SQLITE_STATIC);
	else if (q[0])
		sqlite3_bind_text(st, 2, "-", -1, SQLITE_STATIC); /* nothing to match: nothing */
	if (p2[0])
		sqlite3_bind_text(st, 3, p2, -1, SQLITE_STATIC);
	if (staff[0])
		sqlite3_bind_text(st, 4, staff, -1, SQLITE_STATIC);
	if (office[0])
		sqlite3_bind_text(st, 5, office, -1, SQLITE_STATIC);
	if (state[0])
		sqlite3_bind_text(st, 6, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, limit);
	arr = db_rows_json(st);
	sqlite3_finalize(st);
	crypto_wipe(macs.data, macs.len);
	buf_release(&macs);
	if (arr == NULL)
		return ROUTE_DBERR;
	cJSON_ArrayForEach(it, arr)
		mask_json(it);
	/* Per-record read audit (TEGL 39-11): the ids returned, never content
	 * nor the query. */
	if (case__audit_ids(n, u, ps->by_ssn ? "participant_ssn_search" : "participant_search", arr,
			    "id", NULL) != 0) {
		cJSON_Delete(arr);
		return ROUTE_DBERR;
	}
	return route_ok(a, 200, arr);
}

/* ---- read ---------------------------------------------------------------------- */

/* The other participants a record names as its possible duplicates (their
 * names and offices) read with it: audited as the list of them is. */
static int dups_audit(node *n, const node_user *u, const cJSON *o)
{
	const cJSON *d = cJSON_GetObjectItem(o, "possible_duplicates");

	return cJSON_GetArraySize(d) > 0
		       ? case__audit_ids(n, u, "participant_duplicates_list", d, "id", NULL)
		       : 0;
}

/* GET /api/v1/case/participants/:id -> the record with its clock status.
 * Audited (participant_read); records a soft exit that has arrived. */
static route_rc get_participant(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	const char *id;
	char today[11];
	case_status s;
	cJSON *o;
	int exited;
	route_rc rr;

	if ((rr = case__path_participant(a, &id)) != ROUTE_OK)
		return rr;
	node_today(n, today);
	if (case__sweep_exit(n, u, id, today, &exited) != 0 ||
	    case__audit(n, u, "participant_read", "participants", id, NULL) != 0 ||
	    case__status(n, id, today, &s) != 0 || (o = case__participant_json(n, id)) == NULL)
		return ROUTE_DBERR;
	if (dups_audit(n, u, o) != 0) {
		cJSON_Delete(o);
		return ROUTE_DBERR;
	}
	cJSON_AddItemToObject(o, "status", case__status_json(&s));
	cJSON_AddStringToObject(o, "today", today);
	cJSON_AddBoolToObject(o, "clock_skew_warning", case_skew_flag(n->nd_clock_offset_ms));
	return route_ok(a, 200, o);
}

static const route_key patch_keys_rk[] = {
	{"first_name", ROUTE_T_ANY, 0}, {"last_name", ROUTE_T_ANY, 0}, {"birth_date", ROUTE_T_ANY, 0},
	{"phone", ROUTE_T_ANY, 0}, {"email", ROUTE_T_ANY, 0}, {"address", ROUTE_T_ANY, 0},
	{"office_id", ROUTE_T_ANY, 0}, {"assigned_staff_id", ROUTE_T_ANY, 0},
	{"closure_form_date", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* The columns an edit may change, in the order of its values. */
static const char *const pedit_cols[] = {"first_name", "last_name", "birth_date", "phone",
					 "email", "address", "office_id", "assigned_staff_id"};
#define PEDIT_NCOLS (sizeof pedit_cols / sizeof pedit_cols[0])

/* The values of an edit by column (pointing into f), every rule checked:
 * 0, or -1 with the errors collected. */
static int pedit_read(route_call *a, const char *today, pfields *f,
		      const char *vals[PEDIT_NCOLS])
{
	int bad = read_pfields(API_NODE(a), a, 0, today, f);

	/* The closure form is a form, every field filled in (node_case_forms.c),
	 * never a date typed here, nor one taken away (null). */
	if (cJSON_GetObjectItemCaseSensitive(a->rc_body, "closure_form_date"))
		bad = route_err(a, "closure_form_date",
				"complete the closure form (every field, N/A where it does not apply);"
				" its date is recorded with it");
	if (bad)
		return -1;
	vals[0] = f->first, vals[1] = f->last, vals[2] = f->birth, vals[3] = f->phone;
	vals[4] = f->email, vals[5] = f->address, vals[6] = f->office, vals[7] = f->staff;
	/* Columns a record cannot be without: sent means a value. */
	for (int i = 0; i < 7; i++)
		if ((i <= 2 || i == 6) && cJSON_GetObjectItemCaseSensitive(a->rc_body, pedit_cols[i]) &&
		    (vals[i] == NULL || vals[i][0] == '\0'))
			return route_err(a, pedit_cols[i], "%s cannot be empty", pedit_cols[i]);
	return 0;
}

/* UPDATE participants SET the columns sent in body: 0 or -1. */
static int pedit_store(node *n, const cJSON *body, const char *id,
		       const char *const vals[PEDIT_NCOLS])
{
	buf sql = BUF_INIT(512);
	sqlite3_stmt *st = NULL;
	char ts[HLC_STRLEN];
	int rc = -1;

	buf_puts(&sql, "UPDATE participants SET ");
	for (size_t i = 0; i < PEDIT_NCOLS; i++)
		if (cJSON_GetObjectItemCaseSensitive(body, pedit_cols[i]))
			buf_printf(&sql, "%s=?%zu, ", pedit_cols[i], i + 1);
	buf_puts(&sql, "updated_hlc=?10 WHERE id=?11");
	if (buf_failed(&sql) || db_prepare(n->nd_db, &st, sql.data) != 0)
		goto out;
	for (size_t i = 0; i < PEDIT_NCOLS; i++)
		if (cJSON_GetObjectItemCaseSensitive(body, pedit_cols[i]))
			db_bind_text(st, (int)i + 1, db_null_if_empty(vals[i]));
	hlc_now(&n->nd_hlc, ts);
	sqlite3_bind_text(st, 10, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(st);
	buf_release(&sql);
	return rc;
}

/* A pseudo-SSN is the birth date's (975-DD-MMYY with the Local Area's
 * identifier): a record whose birth date changes gets the new date's, in
 * the same write.  ROUTE_OK, or the failure. */
static route_rc pseudo_follow(route_call *a, const char *id, const char *birth)
{
	node *n = API_NODE(a);
	char kind[16] = "", p[12], digits[10], enc[CASE_SSN_ENC_MAX + 1], mac[65];
	route_rc rr;
	int rc;

	if (birth == NULL ||
	    db_text(n->nd_db, "SELECT ssn_kind FROM participants WHERE id=?", id, kind, sizeof kind) < 0)
		return birth == NULL ? ROUTE_OK : ROUTE_DBERR;
	if (strcmp(kind, "pseudo") != 0)
		return ROUTE_OK;
	if ((rr = la_pseudo_ssn(a, birth, p)) != ROUTE_OK)
		return rr;
	case_ssn_digits(p, digits);
	if (case_ssn_protect_db(n->nd_db, n->nd_local_area_id, id, digits, enc, mac) != 0) {
		crypto_wipe(digits, sizeof digits);
		return route_fail(a, 409, "birth_date", "this office has not yet received its Local Area's"
							 " SSN key from the hub: sync, then try again");
	}
	rc = db_run(n->nd_db, "UPDATE participants SET ssn_enc=?2, ssn_hmac=?3, ssn_last4=?4"
			      " WHERE id=?1", "tttt", id, enc, mac, digits + 5);
	crypto_wipe(digits, sizeof digits);
	return rc == 0 ? ROUTE_OK : ROUTE_DBERR;
}

/* PATCH /api/v1/case/participants/:id: only the columns sent change. */
static route_rc patch_participant(route_call *a)
{
	node *n = API_NODE(a);
	const char *id, *vals[PEDIT_NCOLS];
	pfields f;
	char today[11];
	route_rc rr;
	cJSON *o;

	if ((rr = case__path_participant(a, &id)) != ROUTE_OK)
		return rr;
	node_today(n, today);
	if (pedit_read(a, today, &f, vals) != 0)
		return ROUTE_BAD;
	if ((rr = pseudo_follow(a, id, cJSON_GetObjectItemCaseSensitive(a->rc_body, "birth_date")
						   ? vals[2]
						   : NULL)) != ROUTE_OK)
		return rr;
	if (pedit_store(n, a->rc_body, id, vals) != 0 ||
	    case__audit(n, API_USER(a), "participant_edit", "participants", id, NULL) != 0 ||
	    (o = case__participant_json(n, id)) == NULL)
		return ROUTE_DBERR;
	if (dups_audit(n, API_USER(a), o) != 0) {
		cJSON_Delete(o);
		return ROUTE_DBERR;
	}
	return route_ok(a, 200, o);
}

/* POST /api/v1/case/participants/:id/ssn/reveal -> {"ssn": "123-45-6789"}.
 * Audited (ssn_reveal) before the answer is sent. */
static route_rc post_reveal(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	const char *id;
	char enc[CASE_SSN_ENC_MAX + 8] = "", digits[10], shown[12];
	cJSON *o;
	route_rc rr;

	if ((rr = case__path_participant(a, &id)) != ROUTE_OK)
		return rr;
	if (db_text(n->nd_db, "SELECT ssn_enc FROM participants WHERE id=? AND ssn_enc IS NOT NULL",
		    id, enc, sizeof enc) != 0)
		return route_fail(a, 404, "ssn", "no SSN is recorded for this participant");
	if (case_ssn_reveal_db(n->nd_db, n->nd_local_area_id, id, enc, digits) != 0) {
		int at = case_ssn_epoch(enc), newest = case_key_epoch(n->nd_db, n->nd_local_area_id);
		unsigned char k[CASE_KEY_LEN];

		log_warnx("case: the SSN of participant %s cannot be decrypted with this Local Area's key", id);
		/* An older key than the newest this office holds, and gone: the
		 * hub retired it (`outpost-hub ssn-key-retire`) before this row
		 * was written again under the newest. */
		if (at >= 1 && at < newest &&
		    case_key_load_at(n->nd_db, n->nd_local_area_id, at, k) == 1)
			return route_fail(a, 409, "ssn",
					  "the SSN cannot be shown: the Local Area's SSN key it was protected"
					  " with (epoch %d) has been retired at the hub; record the SSN again",
					  at);
		crypto_wipe(k, sizeof k);
		return route_fail(a, 409, "ssn", "the SSN cannot be shown: this office does not hold the key it was protected with");
	}
	snprintf(shown, sizeof shown, "%.3s-%.2s-%.4s", digits, digits + 3, digits + 5);
	crypto_wipe(digits, sizeof digits);
	if (case__audit(n, u, "ssn_reveal", "participants", id, NULL) != 0) {
		crypto_wipe(shown, sizeof shown);
		return ROUTE_DBERR;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ssn", shown);
	crypto_wipe(shown, sizeof shown);
	log_info("case: SSN of participant %s revealed to staff %s (audited)", id, u->id);
	return route_ok(a, 200, o);
}

/* ---- routes and stand-alone seeding --------------------------------------------- */

/*
 * A stand-alone (never enrolled) node seeds the hub-owned case lists and a
 * Local Area key itself, without capture (they are hub-owned); an enrolled
 * node receives them from the hub.
 */
static void seed_if_standalone(node *n)
{
	char ts[HLC_STRLEN];

	/* Enrolled: the hub's lists and key come with the snapshot (a key made
	 * here would be replaced by the hub's). */
	if (!node_standalone(n))
		return;
	if (db_int(n->nd_db, "SELECT count(*) FROM participant_activity_codes", 0) > 0 &&
	    db_int(n->nd_db, "SELECT count(*) FROM case_keys", 0) > 0)
		return;
	hlc_now(&n->nd_hlc, ts);
	if (db_exec(n->nd_db, "BEGIN IMMEDIATE") != 0)
		return;
	if (case_seed_reference(n->nd_db, ts) == 0 &&
	    case_ensure_keys(n->nd_db, ts, (int64_t)node_now_ms(n)) >= 0 &&
	    db_exec(n->nd_db, "COMMIT") == 0) {
		log_info("case: seeded the case-work lists on a stand-alone node");
		return;
	}
	db_exec(n->nd_db, "ROLLBACK");
	log_warnx("case: cannot seed the case-work lists");
}

int case_setup(node *n)
{
	seed_if_standalone(n);
	return 0;
}

static const route_def case_defs[] = {
	{HTTP_M_GET, "/api/v1/case/meta", get_meta, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/case/pseudo-ssn", get_pseudo_ssn, PRIV_VIEW, 0, NULL, 0},
	/* searches, reads and reveals of participant records are audited: writes */
	{HTTP_M_GET, "/api/v1/case/participants", list_participants, PRIV_VIEW, NODE_WRITE, NULL, 0},
	{HTTP_M_POST, "/api/v1/case/participants/search", post_search, PRIV_VIEW,
	 ROUTE_BODY | NODE_WRITE, search_keys_rk, 0},
	{HTTP_M_POST, "/api/v1/case/participants", post_participant, PRIV_PARTICIPANT_EDIT,
	 ROUTE_BODY | NODE_WRITE, reg_keys_rk, 0},
	{HTTP_M_GET, "/api/v1/case/participants/:id", get_participant, PRIV_VIEW, NODE_WRITE, NULL, 0},
	{HTTP_M_GET, "/api/v1/case/duplicates", list_duplicates, PRIV_VIEW, NODE_WRITE, NULL, 0},
	{HTTP_M_POST, "/api/v1/case/duplicates/:id/review", post_duplicate_review,
	 PRIV_PARTICIPANT_EDIT, ROUTE_BODY | NODE_WRITE, review_keys_rk, 0},
	{HTTP_M_PATCH, "/api/v1/case/participants/:id", patch_participant, PRIV_PARTICIPANT_EDIT,
	 ROUTE_BODY | NODE_WRITE, patch_keys_rk, 0},
	{HTTP_M_POST, "/api/v1/case/participants/:id/ssn/reveal", post_reveal, PRIV_PARTICIPANT_EDIT,
	 NODE_WRITE, NULL, 0},
};

const route_list case_route_list = ROUTE_LIST(case_defs);
