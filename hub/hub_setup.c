/*
 * hub_setup.c - setting up the places and the greeter from an empty hub, by
 * the roles WSD24-13 names (issue 14):
 *
 *   POST  /api/v1/admin/local-areas        operations: id, name, field_division,
 *   PATCH /api/v1/admin/local-areas/:id    pseudo_ssn_prefix (the Local Area's own
 *                                          assigned identifier, 9xx, unique)
 *   POST  /api/v1/admin/offices            operations: id, name, local_area_id,
 *   PATCH /api/v1/admin/offices/:id        address, timezone, has_title1_partner,
 *                                          active (PATCH)
 *   GET   /api/v1/admin/greeter-reasons    the reasons the caller may see, each
 *   POST  /api/v1/admin/greeter-reasons    with "editable" and its "visits";
 *   PATCH /api/v1/admin/greeter-reasons/:id labels (en/es), order, active or
 *                                          retired, narrowed to one office
 *
 * Who sets up greeter reasons: the Local Area's MIS Administrator for the
 * whole Local Area and for its offices with a Title I partner; the field
 * division's WSB CalJOBS SPOC for offices without one; operations for any.
 * The final word is acct_scope_check() (hub/acct.h), so whichever account
 * holds the role passes.  A reason is never deleted: retired (active = 0), it
 * stays on past visits and leaves the kiosk.
 *
 * All three tables are hub-owned and replicated down: plain SQL here, the
 * change-log triggers send each row to the offices of its scope with their
 * next pull.  Every write has its admin_audit row (before/after).
 */
#include "hub/acct.h"
#include "hub/hub.h"
#include "lib/log.h"
#include "lib/route.h"
#include "lib/uuid.h"
#include "model/casework.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SETUP_LABEL_MAX 80
#define SETUP_SORT_MAX 100000
#define DBFAIL(req) http_reply_error((req), 500, NULL, "the hub database could not complete the request")

/* ---- every field at fault, at once ------------------------------------------------ */

typedef struct ferrs {
	json_err fe_errs[ROUTE_ERRS_MAX];
	int fe_n;
} ferrs;

static void fe_add(ferrs *f, const char *field, const char *msg)
{
	if (f->fe_n < ROUTE_ERRS_MAX)
		json_err_set(&f->fe_errs[f->fe_n++], field, "%s", msg);
}

static void fe_je(ferrs *f, const json_err *je) { fe_add(f, je->field, je->msg); }

/* When errors were collected: reply 400 in the one error shape (lib/route.h)
 * and -1. */
static int fe_reply(http_req *req, ferrs *f)
{
	if (f->fe_n == 0)
		return 0;
	route_reply_errors(req, 400, f->fe_errs, f->fe_n);
	return -1;
}

/* ---- small checks ------------------------------------------------------------------ */

static int id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* An IANA zone name the system knows ("America/Los_Angeles"). */
static int tz_ok(const char *tz)
{
	char path[160];
	struct stat sb;

	if (tz == NULL || strlen(tz) > 64 || strstr(tz, "..") || tz[0] == '/')
		return 0;
	for (const char *c = tz; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c))
			return 0;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int exists(sqlite3 *db, const char *sql, const char *arg)
{
	char tmp[8];

	return db_text(db, sql, arg, tmp, sizeof tmp) == 0;
}

static char *row_text(sqlite3 *db, const char *sql, const char *id)
{
	cJSON *o = db_row_json_by(db, sql, id);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return s;
}

/* ---- Local Areas ------------------------------------------------------------------- */

static const char la_sql[] = "SELECT id, name, field_division, pseudo_ssn_prefix FROM local_areas"
			     " WHERE id=?";

/* The prefix is free (no other Local Area uses it). */
static int prefix_free(sqlite3 *db, const char *prefix, const char *la)
{
	sqlite3_stmt *st = NULL;
	int used = 1;

	if (db_prepare(db, &st, "SELECT count(*) FROM local_areas WHERE pseudo_ssn_prefix=?"
				" AND id<>coalesce(?, '')") != 0)
		return 0;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	db_bind_text(st, 2, la);
	if (sqlite3_step(st) == SQLITE_ROW)
		used = sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return !used;
}

/* Read and check a Local Area body (create: creating).  Fields are NULL when
 * absent.  0, or -1 after replying 400. */
typedef struct la_in {
	const char *id, *name, *div, *prefix;
} la_in;

static int la_read(http_req *req, hub *h, const cJSON *body, const char *self, la_in *in)
{
	static const char *const fields[] = {"id", "name", "field_division", "pseudo_ssn_prefix", NULL};
	ferrs fe = {.fe_n = 0};
	json_err je;

	memset(in, 0, sizeof *in);
	if (json_only(body, self ? fields + 1 : fields, &je) != 0)
		fe_je(&fe, &je);
	if (!self && json_get_str(body, "id", JSON_NULLABLE, 1, 63, &in->id, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	else if (in->id && !id_ok(in->id))
		fe_add(&fe, "id", "use letters, digits, '.', '_' or '-'");
	if (json_get_str(body, "name", self ? JSON_NULLABLE : JSON_REQUIRED, 1, 120, &in->name, NULL,
			 0, &je) != 0)
		fe_je(&fe, &je);
	if (json_get_str(body, "field_division", JSON_NULLABLE, 1, 120, &in->div, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	else if (in->div && !exists(h->hb_db, "SELECT 1 FROM field_divisions WHERE id=?", in->div))
		fe_add(&fe, "field_division", "unknown field division: create it first");
	if (json_get_str(body, "pseudo_ssn_prefix", JSON_NULLABLE, 3, 3, &in->prefix, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	else if (in->prefix && !case_pseudo_ssn_prefix_ok(in->prefix))
		fe_add(&fe, "pseudo_ssn_prefix",
		       "the pseudo-SSN identifier is three digits from 900 to 999 (975 is San Luis Obispo's)");
	else if (in->prefix && !prefix_free(h->hb_db, in->prefix, self))
		fe_add(&fe, "pseudo_ssn_prefix", "another Local Area already has this identifier");
	return fe_reply(req, &fe);
}

static void la_create(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *body = NULL;
	la_in in;
	char gen[UUID_STRLEN], ts[HLC_STRLEN], *after = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	if (acct_auth(h, req, &p, 1, 0) != 0 || (body = http_req_json(req, 1)) == NULL)
		goto out;
	if (la_read(req, h, body, NULL, &in) != 0)
		goto out;
	if (in.id == NULL && uuid7(gen) == 0)
		in.id = gen;
	hlc_now(&h->hb_hlc, ts);
	if (db_prepare(h->hb_db, &st, "INSERT INTO local_areas(id, name, field_division,"
				      " pseudo_ssn_prefix, updated_hlc) VALUES(?,?,?,?,?)") != 0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, in.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in.name, -1, SQLITE_STATIC);
	db_bind_text(st, 3, in.div);
	db_bind_text(st, 4, in.prefix);
	sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		http_reply_error(req, 409, "id", "the Local Area '%s' already exists", in.id);
		goto out;
	}
	after = row_text(h->hb_db, la_sql, in.id);
	acct_audit(h->hb_db, &p, req->peer, "local_area.create", "local_areas", in.id, in.id, in.div,
		   NULL, after);
	log_info("setup: Local Area %s created", in.id);
	http_reply_json(req, 201, db_row_json_by(h->hb_db, la_sql, in.id));
out:
	sqlite3_finalize(st);
	free(after);
	cJSON_Delete(body);
}

static void la_patch(http_req *req, void *ctx)
{
	hub *h = ctx;
	const char *id = http_req_param(req, "id");
	acct_principal p;
	cJSON *body = NULL;
	la_in in;
	char ts[HLC_STRLEN], *before = NULL, *after = NULL;
	sqlite3_stmt *st = NULL;

	if (acct_auth(h, req, &p, 1, 0) != 0)
		return;
	if ((before = row_text(h->hb_db, la_sql, id)) == NULL) {
		http_reply_error(req, 404, NULL, "no Local Area '%s'", id);
		goto out;
	}
	if ((body = http_req_json(req, 1)) == NULL || la_read(req, h, body, id, &in) != 0)
		goto out;
	hlc_now(&h->hb_hlc, ts);
	if (db_prepare(h->hb_db, &st, "UPDATE local_areas SET name=coalesce(?2, name),"
				      " field_division=coalesce(?3, field_division),"
				      " pseudo_ssn_prefix=coalesce(?4, pseudo_ssn_prefix), updated_hlc=?5"
				      " WHERE id=?1") != 0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	db_bind_text(st, 2, in.name);
	db_bind_text(st, 3, in.div);
	db_bind_text(st, 4, in.prefix);
	sqlite3_bind_text(st, 5, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		DBFAIL(req);
		goto out;
	}
	after = row_text(h->hb_db, la_sql, id);
	acct_audit(h->hb_db, &p, req->peer, "local_area.change", "local_areas", id, id, in.div, before,
		   after);
	http_reply_json(req, 200, db_row_json_by(h->hb_db, la_sql, id));
out:
	sqlite3_finalize(st);
	free(before);
	free(after);
	cJSON_Delete(body);
}

/* ---- offices ----------------------------------------------------------------------- */

static const char office_sql[] = "SELECT id, name, local_area_id, address, timezone,"
				 " has_title1_partner, active FROM offices WHERE id=?";

typedef struct office_in {
	const char *id, *name, *la, *addr, *tz;
	int title1, active; /* -1 absent */
} office_in;

static int office_read(http_req *req, hub *h, const cJSON *body, const char *self, office_in *in)
{
	static const char *const fields[] = {"id", "local_area_id", "name", "address", "timezone",
					     "has_title1_partner", "active", NULL};
	ferrs fe = {.fe_n = 0};
	json_err je;

	memset(in, 0, sizeof *in);
	in->title1 = in->active = -1;
	if (json_only(body, self ? fields + 2 : fields, &je) != 0)
		fe_je(&fe, &je);
	if (!self && json_get_str(body, "id", JSON_NULLABLE, 1, 63, &in->id, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	else if (in->id && !id_ok(in->id))
		fe_add(&fe, "id", "use letters, digits, '.', '_' or '-'");
	if (json_get_str(body, "name", self ? JSON_NULLABLE : JSON_REQUIRED, 1, 120, &in->name, NULL,
			 0, &je) != 0)
		fe_je(&fe, &je);
	if (!self) {
		if (json_get_str(body, "local_area_id", JSON_REQUIRED, 1, 63, &in->la, NULL, 0, &je) != 0)
			fe_je(&fe, &je);
		else if (!exists(h->hb_db, "SELECT 1 FROM local_areas WHERE id=?", in->la))
			fe_add(&fe, "local_area_id", "unknown Local Area: create it first");
	}
	if (json_get_str(body, "address", JSON_NULLABLE, 1, 200, &in->addr, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	if (json_get_str(body, "timezone", JSON_NULLABLE, 1, 64, &in->tz, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	else if (in->tz && !tz_ok(in->tz))
		fe_add(&fe, "timezone", "unknown time zone (use a name such as America/Los_Angeles)");
	if (cJSON_GetObjectItem(body, "has_title1_partner") &&
	    json_get_bool(body, "has_title1_partner", JSON_NULLABLE, 1, &in->title1, &je) != 0)
		fe_je(&fe, &je);
	if (self && cJSON_GetObjectItem(body, "active") &&
	    json_get_bool(body, "active", JSON_NULLABLE, 1, &in->active, &je) != 0)
		fe_je(&fe, &je);
	return fe_reply(req, &fe);
}

static void office_create(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *body = NULL;
	office_in in;
	char gen[UUID_STRLEN], ts[HLC_STRLEN], *after = NULL;
	sqlite3_stmt *st = NULL;

	if (acct_auth(h, req, &p, 1, 0) != 0 || (body = http_req_json(req, 1)) == NULL)
		goto out;
	if (office_read(req, h, body, NULL, &in) != 0)
		goto out;
	if (in.id == NULL && uuid7(gen) == 0)
		in.id = gen;
	hlc_now(&h->hb_hlc, ts);
	if (db_prepare(h->hb_db, &st, "INSERT INTO offices(id, name, local_area_id, address, timezone,"
				      " has_title1_partner, updated_hlc) VALUES(?,?,?,?,?,?,?)") != 0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, in.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in.name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in.la, -1, SQLITE_STATIC);
	db_bind_text(st, 4, in.addr);
	sqlite3_bind_text(st, 5, in.tz ? in.tz : HUB_DEFAULT_TZ, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, in.title1 != 0);
	sqlite3_bind_text(st, 7, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		http_reply_error(req, 409, "id", "the office '%s' already exists", in.id);
		goto out;
	}
	after = row_text(h->hb_db, office_sql, in.id);
	acct_audit(h->hb_db, &p, req->peer, "office.create", "offices", in.id, in.la, NULL, NULL,
		   after);
	log_info("setup: office %s created in Local Area %s", in.id, in.la);
	http_reply_json(req, 201, db_row_json_by(h->hb_db, office_sql, in.id));
out:
	sqlite3_finalize(st);
	free(after);
	cJSON_Delete(body);
}

static void office_patch(http_req *req, void *ctx)
{
	hub *h = ctx;
	const char *id = http_req_param(req, "id");
	acct_principal p;
	cJSON *body = NULL;
	office_in in;
	char ts[HLC_STRLEN], la[64] = "", *before = NULL, *after = NULL;
	sqlite3_stmt *st = NULL;

	if (acct_auth(h, req, &p, 1, 0) != 0)
		return;
	if ((before = row_text(h->hb_db, office_sql, id)) == NULL) {
		http_reply_error(req, 404, NULL, "no office '%s'", id);
		goto out;
	}
	if ((body = http_req_json(req, 1)) == NULL || office_read(req, h, body, id, &in) != 0)
		goto out;
	hlc_now(&h->hb_hlc, ts);
	if (db_prepare(h->hb_db, &st, "UPDATE offices SET name=coalesce(?2, name),"
				      " address=coalesce(?3, address), timezone=coalesce(?4, timezone),"
				      " has_title1_partner=CASE WHEN ?5 < 0 THEN has_title1_partner ELSE ?5 END,"
				      " active=CASE WHEN ?6 < 0 THEN active ELSE ?6 END, updated_hlc=?7"
				      " WHERE id=?1") != 0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	db_bind_text(st, 2, in.name);
	db_bind_text(st, 3, in.addr);
	db_bind_text(st, 4, in.tz);
	sqlite3_bind_int(st, 5, in.title1);
	sqlite3_bind_int(st, 6, in.active);
	sqlite3_bind_text(st, 7, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		DBFAIL(req);
		goto out;
	}
	db_text(h->hb_db, "SELECT local_area_id FROM offices WHERE id=?", id, la, sizeof la);
	after = row_text(h->hb_db, office_sql, id);
	acct_audit(h->hb_db, &p, req->peer, "office.change", "offices", id, la, NULL, before, after);
	http_reply_json(req, 200, db_row_json_by(h->hb_db, office_sql, id));
out:
	sqlite3_finalize(st);
	free(before);
	free(after);
	cJSON_Delete(body);
}

/* ---- greeter reasons: who may --------------------------------------------------- */

/* Where a reason lives: its Local Area and field division, and the office it
 * is narrowed to (office "" = the whole Local Area) with its Title I partner. */
typedef struct rscope {
	char rs_la[64], rs_div[128], rs_office[64];
	int rs_title1;
} rscope;

/* Fill s for Local Area la and office (NULL: all).  0; 1 when the office is
 * not one of la's; -1 on a database error. */
static int rscope_get(sqlite3 *db, const char *la, const char *office, rscope *s)
{
	sqlite3_stmt *st = NULL;
	int rc = 1;

	memset(s, 0, sizeof *s);
	snprintf(s->rs_la, sizeof s->rs_la, "%s", la);
	s->rs_title1 = 1;
	db_text(db, "SELECT coalesce(field_division, '') FROM local_areas WHERE id=?", la, s->rs_div,
		sizeof s->rs_div);
	if (office == NULL || office[0] == '\0')
		return 0;
	if (db_prepare(db, &st, "SELECT has_title1_partner FROM offices WHERE id=? AND local_area_id=?")
	    != 0)
		return -1;
	sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, la, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		s->rs_title1 = sqlite3_column_int(st, 0);
		snprintf(s->rs_office, sizeof s->rs_office, "%s", office);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Which role sets up reasons at s: an office without a Title I partner is
 * the SPOC's (field division), everything else the MIS Administrator's. */
static int rscope_is_spoc(const rscope *s) { return s->rs_office[0] && !s->rs_title1; }

/* The same decision as setup_allowed() without replying (for "editable"). */
static int rscope_may(const acct_principal *p, const rscope *s)
{
	if (p->ap_roles & ROLE_OPERATIONS)
		return 1;
	if (rscope_is_spoc(s))
		return (p->ap_roles & ROLE_SPOC) && p->ap_div[0] && strcmp(p->ap_div, s->rs_div) == 0;
	return (p->ap_roles & ROLE_MIS_ADMIN) && p->ap_la[0] && strcmp(p->ap_la, s->rs_la) == 0;
}

/* May p set up reasons at s?  0, or -1 after replying 403. */
static int setup_allowed(http_req *req, const acct_principal *p, const rscope *s)
{
	if (!rscope_may(p, s)) {
		if (rscope_is_spoc(s))
			http_reply_error(req, 403, "office_id",
					 "office '%s' has no Title I partner: its greeter is set up by "
					 "the WSB CalJOBS SPOC of its field division",
					 s->rs_office);
		else
			http_reply_error(req, 403, "local_area_id",
					 "the greeter reasons of Local Area '%s' are set up by its MIS "
					 "Administrators",
					 s->rs_la);
		return -1;
	}
	/* The hub's own scope rule has the last word (hub/acct.h). */
	return acct_scope_check(req, p, rscope_is_spoc(s) ? NULL : s->rs_la,
				rscope_is_spoc(s) ? s->rs_div : NULL, NULL);
}

/* ---- greeter reasons: routes ----------------------------------------------------- */

static const char reason_sql[] =
    "SELECT r.id, r.local_area_id, r.office_id, o.name AS office_name, r.label, r.label_es,"
    " r.sort, r.active, (SELECT count(*) FROM checkin_reasons cr WHERE cr.reason_id=r.id) AS visits"
    " FROM greeter_reasons r LEFT JOIN offices o ON o.id=r.office_id WHERE r.id=?";

static cJSON *reason_json(sqlite3 *db, const char *id)
{
	cJSON *o = db_row_json_by(db, reason_sql, id), *a;

	if (o && (a = cJSON_GetObjectItem(o, "active")) != NULL)
		cJSON_ReplaceItemInObject(o, "active", cJSON_CreateBool(a->valueint));
	return o;
}

static void reasons_list(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	char la[64] = "", office[64] = "";
	sqlite3_stmt *st = NULL;
	cJSON *arr = NULL, *it;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	http_req_query(req, "local_area_id", la, sizeof la);
	http_req_query(req, "office_id", office, sizeof office);
	/* Operations sees every Local Area; an MIS Administrator its own; a SPOC
	 * the Local Areas of its field division. */
	if (db_prepare(h->hb_db, &st,
		       "SELECT r.id FROM greeter_reasons r JOIN local_areas l ON l.id=r.local_area_id"
		       " WHERE (?1='' OR r.local_area_id=?1)"
		       " AND (?2='' OR r.office_id IS NULL OR r.office_id=?2)"
		       " AND (?3 OR l.id=?4 OR (?5 AND l.field_division=?6))"
		       " ORDER BY l.name, r.active DESC, r.sort, r.label LIMIT 2000") != 0) {
		DBFAIL(req);
		return;
	}
	sqlite3_bind_text(st, 1, la, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, office, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (p.ap_roles & ROLE_OPERATIONS) != 0);
	sqlite3_bind_text(st, 4, p.ap_la, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, (p.ap_roles & ROLE_SPOC) != 0 && p.ap_div[0]);
	sqlite3_bind_text(st, 6, p.ap_div, -1, SQLITE_STATIC);
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = reason_json(h->hb_db, (const char *)sqlite3_column_text(st, 0));
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	cJSON_ArrayForEach(it, arr)
	{
		rscope s;
		rscope_get(h->hb_db, json_str(it, "local_area_id"), json_str(it, "office_id"), &s);
		cJSON_AddBoolToObject(it, "editable", rscope_may(&p, &s));
	}
	http_reply_json(req, 200, arr);
}

typedef struct reason_in {
	const char *la, *office, *label, *label_es;
	int64_t sort;
	int has_sort, active, office_given;
} reason_in;

static int reason_read(http_req *req, const cJSON *body, int create, reason_in *in)
{
	static const char *const fields[] = {"local_area_id", "office_id", "label", "label_es",
					     "sort", "active", NULL};
	ferrs fe = {.fe_n = 0};
	json_err je;
	int req_flag = create ? JSON_REQUIRED : JSON_NULLABLE;

	memset(in, 0, sizeof *in);
	in->active = -1;
	if (json_only(body, create ? fields : fields + 1, &je) != 0)
		fe_je(&fe, &je);
	if (create &&
	    json_get_str(body, "local_area_id", JSON_REQUIRED, 1, 63, &in->la, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	in->office_given = cJSON_GetObjectItem(body, "office_id") != NULL;
	if (json_get_str(body, "office_id", JSON_NULLABLE, 0, 63, &in->office, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	if (json_get_str(body, "label", req_flag, 1, SETUP_LABEL_MAX, &in->label, NULL, 0, &je) != 0)
		fe_je(&fe, &je);
	if (json_get_str(body, "label_es", req_flag, 1, SETUP_LABEL_MAX, &in->label_es, NULL, 0,
			 &je) != 0)
		fe_je(&fe, &je);
	if (json_get_int(body, "sort", JSON_NULLABLE, 0, SETUP_SORT_MAX, &in->sort, &in->has_sort,
			 &je) != 0)
		fe_je(&fe, &je);
	if (cJSON_GetObjectItem(body, "active") &&
	    json_get_bool(body, "active", JSON_NULLABLE, 1, &in->active, &je) != 0)
		fe_je(&fe, &je);
	if (in->office && in->office[0] == '\0')
		in->office = NULL;
	return fe_reply(req, &fe);
}

/* Another active reason of the Local Area with this label (case-insensitive)
 * at the same place: 1. */
static int label_taken(sqlite3 *db, const char *la, const char *office, const char *label,
		       const char *self)
{
	sqlite3_stmt *st = NULL;
	int n = 0;

	if (db_prepare(db, &st, "SELECT count(*) FROM greeter_reasons WHERE local_area_id=?1"
				" AND coalesce(office_id,'')=coalesce(?2,'') AND active=1"
				" AND label=?3 COLLATE NOCASE AND id<>coalesce(?4,'')") != 0)
		return 0;
	sqlite3_bind_text(st, 1, la, -1, SQLITE_STATIC);
	db_bind_text(st, 2, office);
	sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
	db_bind_text(st, 4, self);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n > 0;
}

/* The scope of the Local Area / office of a reason body; -1 after replying. */
static int reason_scope(http_req *req, hub *h, const char *la, const char *office, rscope *s)
{
	int rc;

	if (!exists(h->hb_db, "SELECT 1 FROM local_areas WHERE id=?", la)) {
		http_reply_error(req, 400, "local_area_id", "unknown Local Area '%s'", la);
		return -1;
	}
	rc = rscope_get(h->hb_db, la, office, s);
	if (rc < 0) {
		DBFAIL(req);
		return -1;
	}
	if (rc == 1) {
		http_reply_error(req, 400, "office_id", "'%s' is not an office of Local Area '%s'",
				 office, la);
		return -1;
	}
	return 0;
}

static void reason_create(http_req *req, void *ctx)
{
	hub *h = ctx;
	acct_principal p;
	cJSON *body = NULL, *after_j = NULL;
	reason_in in;
	rscope s;
	char id[UUID_STRLEN], ts[HLC_STRLEN], *after = NULL;
	sqlite3_stmt *st = NULL;

	if (acct_auth(h, req, &p, 0, 0) != 0 || (body = http_req_json(req, 1)) == NULL)
		goto out;
	if (reason_read(req, body, 1, &in) != 0 || reason_scope(req, h, in.la, in.office, &s) != 0 ||
	    setup_allowed(req, &p, &s) != 0)
		goto out;
	if (label_taken(h->hb_db, in.la, in.office, in.label, NULL)) {
		http_reply_error(req, 409, "label", "an active reason '%s' already exists here", in.label);
		goto out;
	}
	uuid7(id);
	hlc_now(&h->hb_hlc, ts);
	if (db_prepare(h->hb_db, &st,
		       "INSERT INTO greeter_reasons(id, local_area_id, office_id, label, label_es, sort,"
		       " active, updated_hlc) VALUES(?1,?2,?3,?4,?5, CASE WHEN ?6 < 0 THEN"
		       " (SELECT coalesce(max(sort), 0) + 10 FROM greeter_reasons WHERE local_area_id=?2)"
		       " ELSE ?6 END, ?7, ?8)") != 0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in.la, -1, SQLITE_STATIC);
	db_bind_text(st, 3, in.office);
	sqlite3_bind_text(st, 4, in.label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, in.label_es, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, in.has_sort ? in.sort : -1);
	sqlite3_bind_int(st, 7, in.active != 0);
	sqlite3_bind_text(st, 8, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		DBFAIL(req);
		goto out;
	}
	after = row_text(h->hb_db, reason_sql, id);
	acct_audit(h->hb_db, &p, req->peer, "greeter_reason.create", "greeter_reasons", id, in.la,
		   s.rs_div, NULL, after);
	after_j = reason_json(h->hb_db, id);
	if (after_j)
		cJSON_AddBoolToObject(after_j, "editable", 1);
	http_reply_json(req, 201, after_j);
out:
	sqlite3_finalize(st);
	free(after);
	cJSON_Delete(body);
}

static void reason_patch(http_req *req, void *ctx)
{
	hub *h = ctx;
	const char *id = http_req_param(req, "id");
	acct_principal p;
	cJSON *body = NULL, *cur = NULL, *out_j;
	reason_in in;
	rscope s, s2;
	char ts[HLC_STRLEN], la[64], office[64], *before = NULL, *after = NULL;
	sqlite3_stmt *st = NULL;

	if (acct_auth(h, req, &p, 0, 0) != 0)
		return;
	if ((cur = reason_json(h->hb_db, id)) == NULL) {
		http_reply_error(req, 404, NULL, "no greeter reason '%s'", id);
		goto out;
	}
	snprintf(la, sizeof la, "%s", json_str(cur, "local_area_id"));
	snprintf(office, sizeof office, "%s", json_str(cur, "office_id") ? json_str(cur, "office_id") : "");
	/* Allowed where the reason is now, and where it would go. */
	if (reason_scope(req, h, la, office, &s) != 0 || setup_allowed(req, &p, &s) != 0 ||
	    (body = http_req_json(req, 1)) == NULL || reason_read(req, body, 0, &in) != 0)
		goto out;
	if (in.office_given &&
	    (reason_scope(req, h, la, in.office, &s2) != 0 || setup_allowed(req, &p, &s2) != 0))
		goto out;
	if (in.label && label_taken(h->hb_db, la, in.office_given ? in.office : office, in.label, id)) {
		http_reply_error(req, 409, "label", "an active reason '%s' already exists here", in.label);
		goto out;
	}
	before = row_text(h->hb_db, reason_sql, id);
	hlc_now(&h->hb_hlc, ts);
	if (db_prepare(h->hb_db, &st,
		       "UPDATE greeter_reasons SET label=coalesce(?2, label), label_es=coalesce(?3, label_es),"
		       " sort=CASE WHEN ?4 < 0 THEN sort ELSE ?4 END,"
		       " active=CASE WHEN ?5 < 0 THEN active ELSE ?5 END,"
		       " office_id=CASE WHEN ?6 THEN ?7 ELSE office_id END, updated_hlc=?8 WHERE id=?1") !=
	    0) {
		DBFAIL(req);
		goto out;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	db_bind_text(st, 2, in.label);
	db_bind_text(st, 3, in.label_es);
	sqlite3_bind_int64(st, 4, in.has_sort ? in.sort : -1);
	sqlite3_bind_int(st, 5, in.active);
	sqlite3_bind_int(st, 6, in.office_given);
	db_bind_text(st, 7, in.office);
	sqlite3_bind_text(st, 8, ts, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		DBFAIL(req);
		goto out;
	}
	after = row_text(h->hb_db, reason_sql, id);
	acct_audit(h->hb_db, &p, req->peer,
		   in.active == 0 ? "greeter_reason.retire" : "greeter_reason.change",
		   "greeter_reasons", id, la, s.rs_div, before, after);
	out_j = reason_json(h->hb_db, id);
	if (out_j)
		cJSON_AddBoolToObject(out_j, "editable", 1);
	http_reply_json(req, 200, out_j);
out:
	sqlite3_finalize(st);
	free(before);
	free(after);
	cJSON_Delete(cur);
	cJSON_Delete(body);
}

int hub_setup_routes(hub *h, router *r)
{
	int rc = 0;

	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/local-areas", la_create, h);
	rc |= router_add(r, HTTP_M_PATCH, "/api/v1/admin/local-areas/:id", la_patch, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/offices", office_create, h);
	rc |= router_add(r, HTTP_M_PATCH, "/api/v1/admin/offices/:id", office_patch, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/admin/greeter-reasons", reasons_list, h);
	rc |= router_add(r, HTTP_M_POST, "/api/v1/admin/greeter-reasons", reason_create, h);
	rc |= router_add(r, HTTP_M_PATCH, "/api/v1/admin/greeter-reasons/:id", reason_patch, h);
	return rc ? -1 : 0;
}
