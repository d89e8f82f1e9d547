/*
 * hub_setup.c - setting up the places and the greeter from an empty hub, by
 * the roles WSD24-13 names (issue 14):
 *
 *   POST  /api/v1/admin/local-areas        operations: id, name, field_division,
 *   PATCH /api/v1/admin/local-areas/:id    pseudo_ssn_prefix (the Local Area's own
 *                                          assigned identifier, 9xx, unique)
 *   POST  /api/v1/admin/local-areas/:id/ssn-key/rotate   operations: a new SSN
 *                                          key for the Local Area (hub_keys.c)
 *   POST  /api/v1/admin/local-areas/:id/ssn-key/retire   operations: its older
 *                                          keys deleted ({"force"?}, hub_keys.c)
 *   POST  /api/v1/admin/offices            operations: id, name, local_area_id,
 *   PATCH /api/v1/admin/offices/:id        address, timezone, has_title1_partner,
 *                                          active (PATCH)
 *   GET   /api/v1/admin/greeter-reasons    the reasons the caller may see, each
 *   POST  /api/v1/admin/greeter-reasons    with "editable", its "visits" and its
 *                                          "former_labels" (renames);
 *   PATCH /api/v1/admin/greeter-reasons/:id labels (en/es), order, active or
 *                                          retired, narrowed to one office
 *   GET   /api/v1/admin/work-item-categories      operations: the statewide
 *   POST  /api/v1/admin/work-item-categories      managed lists of work items,
 *   PATCH /api/v1/admin/work-item-categories/:id  name, order (sort / rank),
 *   GET   /api/v1/admin/work-item-priorities      active or retired; one
 *   POST  /api/v1/admin/work-item-priorities      priority the default
 *   PATCH /api/v1/admin/work-item-priorities/:id  (is_default)
 *
 * Who sets up greeter reasons: the Local Area's MIS Administrator for the
 * whole Local Area and for its offices with a Title I partner; the field
 * division's WSB CalJOBS SPOC for offices without one; operations for any.
 * The final word is acct_scope_check() (hub/acct.h), so whichever account
 * holds the role passes.  A reason is never deleted: retired (active = 0), it
 * stays on past visits and leaves the kiosk.  A rename keeps the labels it
 * replaces (greeter_reason_labels, replicated with the reasons): the kiosks
 * show the new one, the reports of past visits the one each visit had.
 *
 * All these tables are hub-owned and replicated down: plain SQL here, the
 * change-log triggers send each row to the offices of its scope with their
 * next pull.  The routes are rows of the hub's table (hub_api.h): every
 * write has its admin_audit row (before/after) in its transaction, and
 * creating and changing a row share one path per table.
 */
#include "hub/hub_api.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "model/casework.h"
#include "model/crm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SETUP_LABEL_MAX 80
#define SETUP_SORT_MAX 100000

/* ---- small checks ------------------------------------------------------------------ */

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

/* A new row's id: the body's (checked), or a new one into gen.  0 or -1
 * with the error collected. */
static int new_id(route_call *a, const char **id, char gen[UUID_STRLEN])
{
	if (route_str(a, "id", JSON_NULLABLE, 1, 63, id, NULL, 0) != 0)
		return -1;
	if (*id && !acct_id_ok(*id))
		return route_err(a, "id", "use letters, digits, '.', '_' or '-'");
	if (*id == NULL) {
		uuid7(gen);
		*id = gen;
	}
	return 0;
}

/* An optional true/false member into *out (-1 when absent or null: null
 * changes nothing, it is not a yes).  0 or -1. */
static int opt_bool(route_call *a, const char *name, int *out)
{
	const cJSON *it = cJSON_GetObjectItem(a->rc_body, name);

	*out = -1;
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	return route_bool(a, name, JSON_NULLABLE, 1, out);
}

/* Step a prepared write (finalized): ROUTE_OK; a constraint (the id taken)
 * is a 409 naming it; else ROUTE_DBERR. */
static route_rc step_write(route_call *a, sqlite3_stmt *st, const char *what, const char *id)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return ROUTE_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return route_fail(a, 409, "id", "the %s '%s' already exists", what, id);
	return ROUTE_DBERR;
}

/*
 * The end of every setup write: the audit row of table's row id (action;
 * before: the row's JSON text before the change, NULL for a new one; after:
 * as sql reads it now) and the reply, the row as load gives it, with
 * status.
 */
static route_rc setup_done(route_call *a, int status, const char *action, const char *table,
			   const char *sql, cJSON *(*load)(sqlite3 *, const char *), const char *id,
			   const char *la, const char *div, const char *before)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char *after = row_text(db, sql, id);
	int rc = after ? hub_api_admin_audit(a, action, table, id, la, div, before, after) : -1;

	free(after);
	if (rc != 0)
		return ROUTE_DBERR;
	return route_ok(a, status, load(db, id));
}

/* ---- Local Areas ------------------------------------------------------------------- */

static const char la_sql[] = "SELECT id, name, field_division, pseudo_ssn_prefix FROM local_areas"
			     " WHERE id=?";

static cJSON *la_load(sqlite3 *db, const char *id) { return db_row_json_by(db, la_sql, id); }

/* The prefix is free (no other Local Area uses it). */
static int prefix_free(sqlite3 *db, const char *prefix, const char *la)
{
	sqlite3_stmt *st = NULL;
	int used = 1;

	if (db_prepare_bound(db, &st, "SELECT count(*) FROM local_areas WHERE pseudo_ssn_prefix=?"
				      " AND id<>coalesce(?, '')", "tt", prefix, la) != 0)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		used = sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return !used;
}

/* A Local Area's identifier is in the pseudo-SSNs of its participants:
 * once it has one, a new identifier would give the same birth date another
 * pseudo-SSN from then on, and a person registered again would not match
 * the first record.  A first identifier, or the same one again, changes
 * nothing given: no pseudo-SSN is given without one (node_case.c).  Any
 * participant counts, not only one with a pseudo-SSN: the hub cannot read
 * which kind of SSN an office gave before the row reaches it, nor promise
 * a row on its way is not one.  ROUTE_OK or the 409. */
static route_rc la_prefix_change(route_call *a, const char *la, const char *prefix)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char old[8] = "", one[8] = "";
	int rc;

	if (db_text(db, "SELECT coalesce(pseudo_ssn_prefix, '') FROM local_areas WHERE id=?", la, old,
		    sizeof old) < 0)
		return ROUTE_DBERR;
	if (old[0] == '\0' || strcmp(old, prefix) == 0)
		return ROUTE_OK;
	/* (no index on the Local Area: a scan, for a change this rare) */
	rc = db_text(db, "SELECT 1 FROM participants WHERE local_area_id=? LIMIT 1", la, one, sizeof one);
	if (rc < 0)
		return ROUTE_DBERR;
	if (rc == 0)
		return route_fail(a, 409, "pseudo_ssn_prefix",
				  "Local Area '%s' has participants: its pseudo-SSN identifier %s can no"
				  " longer change (a new one would not match the pseudo-SSNs given)", la,
				  old);
	return ROUTE_OK;
}

/* A Local Area's or an office's body (a place), every error collected
 * (self: the one changed, NULL for a new one).  Members are NULL (-1) when
 * absent or not the table's.  0 or -1. */
typedef struct place_in {
	const char *id, *name, *la, *div, *prefix, *addr, *tz;
	int title1, active; /* -1 absent */
	char gen[UUID_STRLEN];
} place_in;

static int la_read(route_call *a, const char *self, place_in *in)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	int bad = 0;

	if (!self)
		bad |= new_id(a, &in->id, in->gen);
	bad |= route_str(a, "name", self ? JSON_NULLABLE : JSON_REQUIRED, 1, 120, &in->name, NULL, 0);
	if (route_str(a, "field_division", JSON_NULLABLE, 1, 120, &in->div, NULL, 0) != 0)
		bad = -1;
	else if (in->div && !exists(db, "SELECT 1 FROM field_divisions WHERE id=?", in->div))
		bad = route_err(a, "field_division", "unknown field division: create it first");
	if (route_str(a, "pseudo_ssn_prefix", JSON_NULLABLE, 3, 3, &in->prefix, NULL, 0) != 0)
		bad = -1;
	else if (in->prefix && !case_pseudo_ssn_prefix_ok(in->prefix))
		bad = route_err(a, "pseudo_ssn_prefix",
				"the pseudo-SSN identifier is three digits from 900 to 999 (975 is San "
				"Luis Obispo's)");
	else if (in->prefix && !prefix_free(db, in->prefix, self))
		bad = route_err(a, "pseudo_ssn_prefix",
				"another Local Area already has this identifier");
	return bad;
}

/* ---- offices ----------------------------------------------------------------------- */

static const char office_sql[] = "SELECT id, name, local_area_id, address, timezone,"
				 " has_title1_partner, active FROM offices WHERE id=?";

static cJSON *office_load(sqlite3 *db, const char *id) { return db_row_json_by(db, office_sql, id); }

static int office_read(route_call *a, const char *self, place_in *in)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	int bad = 0;

	if (!self) {
		bad |= new_id(a, &in->id, in->gen);
		if (route_str(a, "local_area_id", JSON_REQUIRED, 1, 63, &in->la, NULL, 0) != 0)
			bad = -1;
		else if (!exists(db, "SELECT 1 FROM local_areas WHERE id=?", in->la))
			bad = route_err(a, "local_area_id", "unknown Local Area: create it first");
	}
	bad |= route_str(a, "name", self ? JSON_NULLABLE : JSON_REQUIRED, 1, 120, &in->name, NULL, 0);
	bad |= route_str(a, "address", JSON_NULLABLE, 1, 200, &in->addr, NULL, 0);
	if (route_str(a, "timezone", JSON_NULLABLE, 1, 64, &in->tz, NULL, 0) != 0)
		bad = -1;
	else if (in->tz && !tz_ok(in->tz))
		bad = route_err(a, "timezone",
				"unknown time zone (use a name such as America/Los_Angeles)");
	bad |= opt_bool(a, "has_title1_partner", &in->title1);
	bad |= opt_bool(a, "active", &in->active);
	return bad;
}

/* ---- Local Areas and offices: one path ------------------------------------------- */

/*
 * A place table: the two differ in data only.  Both statements take the
 * parameters of place_put: ?1 id, ?2 name, ?3 local_area_id, ?4
 * field_division, ?5 pseudo_ssn_prefix, ?6 address, ?7 timezone, ?8
 * has_title1_partner, ?9 active (-1 absent), ?10 the HLC.
 */
typedef struct place_kind {
	const char *pk_what, *pk_table, *pk_create, *pk_change; /* names; audit actions */
	const char *pk_sql;                                        /* the row by id */
	const char *pk_insert, *pk_update;
	const char *pk_la_sql; /* the row's Local Area by id */
	/* another row of the same name (?1) where names must differ, ?2 this
	 * row's id, ?3 the Local Area a new office is for */
	const char *pk_dup_sql;
	int (*pk_read)(route_call *, const char *, place_in *);
	cJSON *(*pk_load)(sqlite3 *, const char *);
} place_kind;

static const place_kind la_kind = {
	"Local Area", "local_areas", "local_area.create", "local_area.change", la_sql,
	"INSERT INTO local_areas(id, name, field_division, pseudo_ssn_prefix, updated_hlc)"
	" VALUES(?1,?2,?4,?5,?10)",
	"UPDATE local_areas SET name=coalesce(?2, name), field_division=coalesce(?4, field_division),"
	" pseudo_ssn_prefix=coalesce(?5, pseudo_ssn_prefix), updated_hlc=?10 WHERE id=?1",
	"SELECT id FROM local_areas WHERE id=?",
	"SELECT id FROM local_areas WHERE lower(name) = lower(?1) AND id <> ?2",
	la_read, la_load,
};

/* a change leaves an office's Local Area (?3, NULL) as it is */
static const place_kind office_kind = {
	"office", "offices", "office.create", "office.change", office_sql,
	"INSERT INTO offices(id, name, local_area_id, address, timezone, has_title1_partner, active,"
	" updated_hlc) VALUES(?1,?2,?3,?6, coalesce(?7, '" HUB_DEFAULT_TZ "'), ?8 <> 0, ?9 <> 0, ?10)",
	"UPDATE offices SET name=coalesce(?2, name), address=coalesce(?6, address),"
	" timezone=coalesce(?7, timezone),"
	" has_title1_partner=CASE WHEN ?8 < 0 THEN has_title1_partner ELSE ?8 END,"
	" active=CASE WHEN ?9 < 0 THEN active ELSE ?9 END, updated_hlc=?10 WHERE id=?1",
	"SELECT local_area_id FROM offices WHERE id=?",
	"SELECT id FROM offices WHERE lower(name) = lower(?1) AND id <> ?2 AND local_area_id ="
	" coalesce(?3, (SELECT local_area_id FROM offices WHERE id=?2))",
	office_read, office_load,
};

/* POST (self NULL) or PATCH a place of kind k. */
static route_rc place_put(route_call *a, const char *self, const place_kind *k)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char ts[HLC_STRLEN], la[64] = "", *before = NULL;
	sqlite3_stmt *st = NULL;
	route_rc rc;
	place_in in;

	if (self && (before = row_text(db, k->pk_sql, self)) == NULL)
		return route_fail(a, 404, NULL, "no %s '%s'", k->pk_what, self);
	memset(&in, 0, sizeof in);
	in.title1 = in.active = -1;
	rc = ROUTE_BAD;
	if (k->pk_read(a, self, &in) != 0)
		goto out;
	if (self && k == &la_kind && in.prefix && (rc = la_prefix_change(a, self, in.prefix)) != ROUTE_OK)
		goto out;
	rc = ROUTE_DBERR;
	if (self)
		in.id = self;
	/* One name once (a double click made two offices, which replicate to
	 * every node and are never deleted). */
	if (in.name != NULL) {
		char other[64] = "";
		int dup;
		const char *arg[3] = {in.name, in.id ? in.id : "", in.la};
		if (db_prepare(db, &st, k->pk_dup_sql) != 0)
			goto out;
		for (int i = 0; i < sqlite3_bind_parameter_count(st) && i < 3; i++)
			db_bind_text(st, i + 1, arg[i]);
		dup = sqlite3_step(st);
		if (dup == SQLITE_ROW)
			snprintf(other, sizeof other, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		st = NULL;
		if (dup != SQLITE_ROW && dup != SQLITE_DONE)
			goto out;
		if (dup == SQLITE_ROW) {
			rc = route_fail(a, 409, "name", "the %s '%s' already has that name%s", k->pk_what,
					other, k == &office_kind ? " in this Local Area" : "");
			goto out;
		}
	}
	hlc_now(hub_clock(API_HUB(a)), ts);
	/* A Local Area moved to another field division takes its accounts of
	 * the old one with it (a WSB account's division is its Local Area's):
	 * else the old division's SPOC kept managing them, and the new one's
	 * could not. */
	if (self && k == &la_kind && in.div != NULL) {
		char old[ACCT_DIV_BYTES] = "";

		if (db_text(db, "SELECT coalesce(field_division, '') FROM local_areas WHERE id=?", self,
			    old, sizeof old) < 0 ||
		    (old[0] && strcmp(old, in.div) != 0 &&
		     db_run(db, "UPDATE staff SET field_division=?2, updated_hlc=?4 WHERE local_area_id=?1"
				" AND field_division=?3", "tttt", self, in.div, old, ts) != 0))
			goto out;
	}
	if (db_prepare_bound(db, &st, self ? k->pk_update : k->pk_insert, "tttttttiit", in.id,
			     in.name, in.la, in.div, in.prefix, in.addr, in.tz, in.title1, in.active,
			     ts) != 0)
		goto out;
	if ((rc = step_write(a, st, k->pk_what, in.id)) != ROUTE_OK)
		goto out;
	/* A new Local Area's SSN key (made by a trigger) is wrapped in the
	 * same transaction: never plain in hub.db, nor in a copy of it. */
	if (!self && k == &la_kind && hub_keys_wrap_txn(db) != 0) {
		rc = ROUTE_DBERR;
		goto out;
	}
	db_text(db, k->pk_la_sql, in.id, la, sizeof la);
	if (!self)
		log_info("setup: %s %s created (Local Area %s)", k->pk_what, in.id, la);
	rc = setup_done(a, self ? 200 : 201, self ? k->pk_change : k->pk_create, k->pk_table,
			k->pk_sql, k->pk_load, in.id, la, in.div, before);
out:
	free(before);
	return rc;
}

static route_rc la_create(route_call *a) { return place_put(a, NULL, &la_kind); }
static route_rc la_patch(route_call *a)
{
	return place_put(a, http_req_param(a->rc_req, "id"), &la_kind);
}

/* POST /api/v1/admin/local-areas/:id/ssn-key/rotate -> {"id", "epoch"}: a new
 * SSN key of the next epoch (hub_keys_rotate; also made when a node is
 * revoked), audited (ssn_key.rotate).  The stored SSNs follow in batches. */
static route_rc la_key_rotate(route_call *a)
{
	const char *id = http_req_param(a->rc_req, "id");
	char detail[32];
	cJSON *o;
	int epoch = 0, rc = hub_keys_rotate(API_HUB(a)->hb_db, id, &epoch);

	if (rc < 0)
		return ROUTE_DBERR;
	if (rc > 0)
		return route_fail(a, 404, NULL, "no Local Area '%s' with an SSN key", id);
	snprintf(detail, sizeof detail, "epoch %d", epoch);
	if (hub_api_audit(a, "ssn_key.rotate", id, detail) != 0 || (o = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddNumberToObject(o, "epoch", epoch);
	log_info("Local Area %s: SSN key rotated by %s", id, a->rc_actor);
	return route_ok(a, 200, o);
}

/* A retirement under way: the caller and the row (to resume the call
 * with), "force", and the re-encryption pass's result. */
typedef struct retire_job {
	uv_work_t rj_w;
	hub *rj_h;
	http_req *rj_req;
	acct_principal rj_p;
	const route_table *rj_table;
	const route_def *rj_route;
	int rj_force;
	int rj_pass; /* stored SSNs written again, or -1 */
} retire_job;

/* A refusal of the retirement, worded for the console (HUB_RETIRE_PAST):
 * its whole text, every node it names (route_fail carries it whole). */
static route_rc retire_refused(route_call *a, int rc, const char *msg)
{
	if (rc == HUB_RETIRE_NODES) /* "force" would go past them */
		return route_fail(a, 409, "force",
				  "not retired: %s; " HUB_RETIRE_PAST(
					  "\"force\" (the console's \"Retire anyway\")"),
				  msg);
	return route_fail(a, 409, NULL, "not retired: %s", msg);
}

/* la_key_retire's write (route_resume_write; rc_arg: its retire_job): the
 * retirement and its audit row, as `outpost-hub ssn-key-retire` does. */
static route_rc la_key_retire_write(route_call *a)
{
	const retire_job *j = a->rc_arg;
	const char *id = http_req_param(a->rc_req, "id");
	char msg[HUB_RETIRE_MSG_MAX], detail[HUB_RETIRE_MSG_MAX + 64];
	cJSON *o;
	int epoch = 0, n = 0, rc;

	rc = hub_keys_retire(API_HUB(a)->hb_db, id, j->rj_force, &epoch, &n, msg, sizeof msg);
	if (rc == HUB_RETIRE_NO_LA)
		return route_fail(a, 404, NULL, "no Local Area '%s' with an SSN key", id);
	if (rc == HUB_RETIRE_REFUSED || rc == HUB_RETIRE_NODES)
		return retire_refused(a, rc, msg);
	if (rc != 0 && rc != HUB_RETIRE_NONE)
		return ROUTE_DBERR;
	/* Nothing older than the newest key: nothing changed, the call is
	 * still in the trail (an audited write commits only with its row). */
	if (rc == HUB_RETIRE_NONE)
		snprintf(detail, sizeof detail, "none older than epoch %d", epoch);
	else
		hub_keys_retire_detail(detail, sizeof detail, n, epoch, msg);
	if (hub_api_audit(a, "ssn_key.retire", id, detail) != 0 || (o = cJSON_CreateObject()) == NULL)
		return ROUTE_DBERR;
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddNumberToObject(o, "epoch", epoch);
	cJSON_AddNumberToObject(o, "retired", n);
	if (msg[0])
		cJSON_AddStringToObject(o, "warning", msg);
	if (rc == 0)
		log_info("Local Area %s: older SSN keys retired by %s", id, a->rc_actor);
	return route_ok(a, 200, o);
}

/* Once the pass is done (route_resume_read; rc_arg: the retire_job): a
 * refusal, or nothing to retire, is answered here, nothing written;
 * else the retirement runs as the row's write, which checks again. */
static route_rc la_key_retire_checked(route_call *a)
{
	retire_job *j = a->rc_arg;
	const char *id = http_req_param(a->rc_req, "id");
	char msg[HUB_RETIRE_MSG_MAX]; /* every node it names */
	cJSON *o;
	int epoch = 0, rc;

	rc = hub_keys_retire_check(API_HUB(a)->hb_db, id, j->rj_force, &epoch, msg, sizeof msg);
	if (rc < 0)
		return ROUTE_DBERR;
	if (rc == HUB_RETIRE_NO_LA)
		return route_fail(a, 404, NULL, "no Local Area '%s' with an SSN key", id);
	if (rc == HUB_RETIRE_REFUSED || rc == HUB_RETIRE_NODES)
		return retire_refused(a, rc, msg);
	if (rc == HUB_RETIRE_NONE) {
		if ((o = cJSON_CreateObject()) == NULL)
			return ROUTE_DBERR;
		cJSON_AddStringToObject(o, "id", id);
		cJSON_AddNumberToObject(o, "epoch", epoch);
		cJSON_AddNumberToObject(o, "retired", 0);
		return route_ok(a, 200, o);
	}
	route_resume_write(a->rc_table, a->rc_route, a->rc_req, a->rc_user, a->rc_actor,
			   la_key_retire_write, j);
	return ROUTE_TAKEN;
}

/* [work thread] The re-encryption pass to its end, on the work threads'
 * connection under hb_wlock as a push (it waits for one that holds it),
 * after the pull progress kept in memory (nodes.pull_cursor, which the
 * check reads) is written.  Its own clock, past every office stamp, as
 * the pushes' validators stamp the hub's writes. */
static void retire_pass(uv_work_t *w)
{
	retire_job *j = w->data;
	hub *h = j->rj_h;
	hlc clk;

	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	uv_mutex_lock(&h->hb_wlock);
	hub_progress_flush(h);
	sync_hub_stamp_observe(h->hb_wdb, &clk);
	j->rj_pass = hub_keys_reencrypt_all(h->hb_wdb, &clk);
	uv_mutex_unlock(&h->hb_wlock);
}

static void retire_passed(uv_work_t *w, int status)
{
	retire_job *j = w->data;
	hub *h = j->rj_h;

	h->hb_jobs--;
	if (status != 0 || j->rj_pass < 0)
		log_warnx("Local Area %s: cannot write the stored SSNs again under the newest key"
			  " before retiring the older ones", http_req_param(j->rj_req, "id"));
	/* (the check then reads the older state, and refuses) */
	if (acct_resume_caller(h, j->rj_req, &j->rj_p) == 0)
		route_resume_read(j->rj_table, j->rj_route, j->rj_req, &j->rj_p,
				  j->rj_p.ap_username, la_key_retire_checked, j);
	free(j);
}

/* POST /api/v1/admin/local-areas/:id/ssn-key/retire {"force"?} -> {"id",
 * "epoch", "retired"[, "warning"]}: the Local Area's SSN keys older than
 * its newest deleted (hub_keys_retire), audited (ssn_key.retire); "retired"
 * 0 when there is none; 409 saying why when refused (field "force" when
 * it names the nodes not pulled since the rotation: "force" goes past
 * them, "warning" then names them).  The stored SSNs are written again
 * first, as the command does: that pass (a scan of the participants of
 * the Local Areas not marked done) runs in the thread pool, the loop
 * serving other requests meanwhile, and commits batch by batch, outside
 * the route's write; so the row is ROUTE_DEFER, and the call resumes with
 * the check and then the retirement as its write. */
static route_rc la_key_retire(route_call *a)
{
	hub *h = API_HUB(a);
	retire_job *j;
	int force = 0;

	if (route_bool(a, "force", 0, 0, &force) != 0)
		return ROUTE_BAD;
	if ((j = calloc(1, sizeof *j)) == NULL)
		return ROUTE_DBERR;
	j->rj_w.data = j;
	j->rj_h = h;
	j->rj_req = a->rc_req;
	j->rj_p = *API_ADMIN(a);
	j->rj_table = a->rc_table;
	j->rj_route = a->rc_route;
	j->rj_force = force;
	if (uv_queue_work(h->hb_loop, &j->rj_w, retire_pass, retire_passed) != 0) {
		free(j);
		return ROUTE_DBERR;
	}
	h->hb_jobs++;
	return ROUTE_TAKEN;
}
static route_rc office_create(route_call *a) { return place_put(a, NULL, &office_kind); }
static route_rc office_patch(route_call *a)
{
	return place_put(a, http_req_param(a->rc_req, "id"), &office_kind);
}

/* ---- greeter reasons: who may --------------------------------------------------- */

/* Where a reason lives: its Local Area and field division, and the office it
 * is narrowed to (office "" = the whole Local Area) with its Title I partner. */
typedef struct rscope {
	char rs_la[64], rs_div[ACCT_DIV_BYTES], rs_office[64];
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

/* May p set up reasons at s (the 403 and the last word: setup_allowed). */
static int rscope_may(const acct_principal *p, const rscope *s)
{
	if (p->ap_roles & ROLE_OPERATIONS)
		return 1;
	if (rscope_is_spoc(s))
		return (p->ap_roles & ROLE_SPOC) && p->ap_div[0] && strcmp(p->ap_div, s->rs_div) == 0;
	return (p->ap_roles & ROLE_MIS_ADMIN) && p->ap_la[0] && strcmp(p->ap_la, s->rs_la) == 0;
}

/* May the caller set up reasons at s?  ROUTE_OK, or the 403. */
static route_rc setup_allowed(route_call *a, const rscope *s)
{
	const char *field = NULL;
	char msg[200];

	if (!rscope_may(API_ADMIN(a), s)) {
		if (rscope_is_spoc(s))
			return route_fail(a, 403, "office_id",
					  "office '%s' has no Title I partner: its greeter is set up "
					  "by the WSB CalJOBS SPOC of its field division",
					  s->rs_office);
		return route_fail(a, 403, "local_area_id",
				  "the greeter reasons of Local Area '%s' are set up by its MIS "
				  "Administrators",
				  s->rs_la);
	}
	/* The hub's own scope rule has the last word (hub/acct.h). */
	if (acct_scope_why(API_ADMIN(a), rscope_is_spoc(s) ? NULL : s->rs_la,
			   rscope_is_spoc(s) ? s->rs_div : NULL, NULL, &field, msg, sizeof msg) != 0)
		return route_fail(a, 403, field, "%s", msg);
	return ROUTE_OK;
}

/* ---- greeter reasons: routes ----------------------------------------------------- */

static const char reason_sql[] =
    "SELECT r.id, r.local_area_id, r.office_id, o.name AS office_name, r.label, r.label_es,"
    " r.sort, r.active, (SELECT count(*) FROM checkin_reasons cr WHERE cr.reason_id=r.id) AS visits"
    " FROM greeter_reasons r LEFT JOIN offices o ON o.id=r.office_id WHERE r.id=?";

/* A reason with its former labels, the latest first (what a rename keeps
 * for the reports of past visits: model/greeter.h). */
static cJSON *reason_json(sqlite3 *db, const char *id)
{
	cJSON *o = db_row_json_by(db, reason_sql, id), *a, *f;

	if (o && (a = cJSON_GetObjectItem(o, "active")) != NULL)
		cJSON_ReplaceItemInObject(o, "active", cJSON_CreateBool(a->valueint));
	if (o && (f = db_rows_json_args(db, "SELECT label, label_es, ended_at FROM"
					    " greeter_reason_labels WHERE reason_id=?"
					    " ORDER BY ended_at DESC, id DESC", 1, &id)) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	if (o)
		cJSON_AddItemToObject(o, "former_labels", f);
	return o;
}

/* The reason as its editor gets it back. */
static cJSON *reason_load(sqlite3 *db, const char *id)
{
	cJSON *o = reason_json(db, id);

	if (o)
		cJSON_AddBoolToObject(o, "editable", 1);
	return o;
}

static route_rc reasons_list(route_call *a)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	const acct_principal *p = API_ADMIN(a);
	char la[64] = "", office[64] = "";
	sqlite3_stmt *st = NULL;
	cJSON *arr, *it;

	http_req_query(a->rc_req, "local_area_id", la, sizeof la);
	http_req_query(a->rc_req, "office_id", office, sizeof office);
	/* Operations sees every Local Area; an MIS Administrator its own; a SPOC
	 * the Local Areas of its field division. */
	if (db_prepare_bound(db, &st,
		       "SELECT r.id FROM greeter_reasons r JOIN local_areas l ON l.id=r.local_area_id"
		       " WHERE (?1='' OR r.local_area_id=?1)"
		       " AND (?2='' OR r.office_id IS NULL OR r.office_id=?2)"
		       " AND (?3 OR (?7 AND l.id=?4) OR (?5 AND l.field_division=?6))"
		       " ORDER BY l.name, r.active DESC, r.sort, r.label LIMIT 2000",
		       "ttititi", la, office, (p->ap_roles & ROLE_OPERATIONS) != 0, p->ap_la,
		       (p->ap_roles & ROLE_SPOC) != 0 && p->ap_div[0], p->ap_div,
		       (p->ap_roles & ROLE_MIS_ADMIN) != 0 && p->ap_la[0]) != 0)
		return ROUTE_DBERR;
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_col(st, 0);
		cJSON *o;
		if (id == NULL) { /* out of memory: not a reason to leave out */
			sqlite3_finalize(st);
			cJSON_Delete(arr);
			return ROUTE_DBERR;
		}
		if ((o = reason_json(db, id)) != NULL)
			cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	cJSON_ArrayForEach(it, arr)
	{
		rscope s;
		rscope_get(db, json_str(it, "local_area_id"), json_str(it, "office_id"), &s);
		cJSON_AddBoolToObject(it, "editable", rscope_may(p, &s));
	}
	return route_ok(a, 200, arr);
}

typedef struct reason_in {
	const char *la, *office, *label, *label_es;
	int64_t sort;
	int has_sort, active, office_given;
	char label_b[JSON_TEXT_BYTES(SETUP_LABEL_MAX)], label_es_b[JSON_TEXT_BYTES(SETUP_LABEL_MAX)];
} reason_in;

/* A label as the kiosk shows it: trimmed (route_str), every run of white
 * space one space, and nothing invisible in it - a label of spaces, or
 * one with a zero-width space or a bidirectional control, looks like
 * another reason, or like none.  Trimming knows only ASCII white space, so
 * a label of non-breaking or ideographic spaces, lone accents or tag
 * characters would pass it: one character must show (json_text_blank).
 * The one check of every label, new or changed, and of the name of a work
 * item category or priority.  0 or -1 (the error collected). */
static int label_clean(route_call *a, const char *name, const char *s)
{
	const char *what = strcmp(name, "label_es") == 0 ? " (the Spanish label)"
			 : strcmp(name, "label") == 0    ? " (the English label)"
							 : "";

	if (s == NULL)
		return 0;
	json_text_squeeze((char *)s);
	if (json_text_blank(s))
		return route_err(a, name, "%s%s shows nothing: it needs at least one letter, digit"
					  " or sign, not only spaces, accents or invisible characters",
				 name, what);
	if (json_text_invisible(s))
		return route_err(a, name, "%s holds a character that shows nothing or turns the text"
					  " around (a zero-width space, a direction mark): type it"
					  " again", name);
	return 0;
}

static int reason_read(route_call *a, int create, reason_in *in)
{
	int req_flag = create ? JSON_REQUIRED : JSON_NULLABLE, bad = 0;

	memset(in, 0, sizeof *in);
	if (create)
		bad |= route_str(a, "local_area_id", JSON_REQUIRED, 1, 63, &in->la, NULL, 0);
	in->office_given = cJSON_GetObjectItem(a->rc_body, "office_id") != NULL;
	bad |= route_str(a, "office_id", JSON_NULLABLE, 0, 63, &in->office, NULL, 0);
	bad |= route_str(a, "label", req_flag, 1, SETUP_LABEL_MAX, &in->label, in->label_b,
			 sizeof in->label_b) || label_clean(a, "label", in->label);
	bad |= route_str(a, "label_es", req_flag, 1, SETUP_LABEL_MAX, &in->label_es, in->label_es_b,
			 sizeof in->label_es_b) || label_clean(a, "label_es", in->label_es);
	bad |= route_int(a, "sort", JSON_NULLABLE, 0, SETUP_SORT_MAX, &in->sort, &in->has_sort);
	bad |= opt_bool(a, "active", &in->active);
	if (in->office && in->office[0] == '\0')
		in->office = NULL;
	return bad;
}

/* Another active reason of the Local Area with this label (case-insensitive)
 * where a kiosk would show both: the same office, or either one for the
 * whole Local Area: 1. */
static int label_taken(sqlite3 *db, const char *la, const char *office, const char *col,
		       const char *label, const char *self)
{
	sqlite3_stmt *st = NULL;
	char sql[400];
	int n = 0;

	snprintf(sql, sizeof sql, "SELECT count(*) FROM greeter_reasons WHERE local_area_id=?1"
				  " AND (coalesce(office_id,'')=coalesce(?2,'') OR office_id IS NULL"
				  "  OR ?2 IS NULL) AND active=1"
				  " AND %s=?3 COLLATE NOCASE AND id<>coalesce(?4,'')", col);
	if (db_prepare_bound(db, &st, sql, "tttt", la, office, label, self) != 0)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n > 0;
}

/* The scope of the Local Area / office of a reason, and whether the caller
 * may set it up.  ROUTE_OK or the failure. */
static route_rc reason_scope(route_call *a, const char *la, const char *office, rscope *s)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	int rc;

	if (!exists(db, "SELECT 1 FROM local_areas WHERE id=?", la))
		return route_bad(a, "local_area_id", "unknown Local Area '%s'", la);
	rc = rscope_get(db, la, office, s);
	if (rc < 0)
		return ROUTE_DBERR;
	if (rc == 1)
		return route_bad(a, "office_id", "'%s' is not an office of Local Area '%s'", office,
				 la);
	return setup_allowed(a, s);
}

/* POST (self NULL) or PATCH a greeter reason: one path.  A change is
 * allowed where the reason is now and where it would go. */
static route_rc reason_put(route_call *a, const char *self)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char gen[UUID_STRLEN], ts[HLC_STRLEN], la[64] = "", office[64] = "", *before = NULL;
	char label[JSON_TEXT_BYTES(120)] = "", label_es[JSON_TEXT_BYTES(120)] = "";
	const char *id = self, *place;
	int was_active = 0, active;
	sqlite3_stmt *st = NULL;
	reason_in in;
	rscope s, s2;
	route_rc rc;

	if (self) {
		cJSON *cur = reason_json(db, self);
		if (cur == NULL)
			return route_fail(a, 404, NULL, "no greeter reason '%s'", self);
		snprintf(la, sizeof la, "%s", json_str(cur, "local_area_id"));
		snprintf(office, sizeof office, "%s",
			 json_str(cur, "office_id") ? json_str(cur, "office_id") : "");
		snprintf(label, sizeof label, "%s", json_str(cur, "label") ? json_str(cur, "label") : "");
		snprintf(label_es, sizeof label_es, "%s",
			 json_str(cur, "label_es") ? json_str(cur, "label_es") : "");
		was_active = cJSON_IsTrue(cJSON_GetObjectItem(cur, "active"));
		cJSON_Delete(cur);
		if ((rc = reason_scope(a, la, office, &s)) != ROUTE_OK)
			return rc;
	}
	if (reason_read(a, self == NULL, &in) != 0)
		return ROUTE_BAD;
	if (!self) {
		snprintf(la, sizeof la, "%s", in.la);
		if ((rc = reason_scope(a, la, in.office, &s)) != ROUTE_OK)
			return rc;
		uuid7(gen);
		id = gen;
	} else if (in.office_given && (rc = reason_scope(a, la, in.office, &s2)) != ROUTE_OK) {
		return rc;
	}
	place = !self || in.office_given ? in.office : office;
	/* One active reason of a label at a place, whatever the change makes
	 * active there: a new label, a retired reason back, a move.  The
	 * Spanish label the same way (the kiosk in Spanish shows it), with the
	 * reason's own when the change leaves it: a reason brought back or
	 * moved was checked on its English label only. */
	/* (a change of something else - its order - is not checked: two such
	 * reasons kept from before this rule can still be put in order) */
	active = in.active < 0 ? (self ? was_active : 1) : in.active;
	if (active && (!self || in.label || in.office_given || in.active > 0) &&
	    label_taken(db, la, place, "label", in.label ? in.label : label, self))
		return route_fail(a, 409, in.label ? "label" : in.active > 0 ? "active" : "office_id",
				  "an active reason '%s' already exists here", in.label ? in.label : label);
	if (active && (!self || in.label_es || in.office_given || in.active > 0) &&
	    label_taken(db, la, place, "label_es", in.label_es ? in.label_es : label_es, self))
		return route_fail(a, 409, in.label_es ? "label_es" : in.active > 0 ? "active" : "office_id",
				  "an active reason with the Spanish label '%s' already exists here",
				  in.label_es ? in.label_es : label_es);
	if (self && (before = row_text(db, reason_sql, self)) == NULL)
		return ROUTE_DBERR;
	hlc_now(hub_clock(API_HUB(a)), ts);
	rc = ROUTE_DBERR;
	/* a new reason has no ?9; a change leaves the Local Area (?2) as it is */
	if (db_prepare_bound(db, &st,
		       self ? "UPDATE greeter_reasons SET label=coalesce(?4, label),"
			      " label_es=coalesce(?5, label_es), sort=CASE WHEN ?6 < 0 THEN sort ELSE ?6 END,"
			      " active=CASE WHEN ?7 < 0 THEN active ELSE ?7 END,"
			      " office_id=CASE WHEN ?9 THEN ?3 ELSE office_id END, updated_hlc=?8 WHERE id=?1"
			    : "INSERT INTO greeter_reasons(id, local_area_id, office_id, label, label_es,"
			      " sort, active, updated_hlc) VALUES(?1,?2,?3,?4,?5, CASE WHEN ?6 < 0 THEN"
			      " (SELECT coalesce(max(sort), 0) + 10 FROM greeter_reasons WHERE"
			      " local_area_id=?2) ELSE ?6 END, ?7 <> 0, ?8)",
		       self ? "tttttIiti" : "tttttIit", id, la, in.office, in.label, in.label_es,
		       in.has_sort ? in.sort : (int64_t)-1, in.active, ts, in.office_given) != 0)
		goto out;
	if ((rc = step_write(a, st, "greeter reason", id)) != ROUTE_OK)
		goto out;
	/* A rename keeps the labels it replaces, with the time they ended:
	 * past visits stay in the reports under the label they had. */
	if (self && ((in.label && strcmp(in.label, label) != 0) ||
		     (in.label_es && strcmp(in.label_es, label_es) != 0))) {
		char hid[UUID_STRLEN];

		uuid7(hid);
		if (db_run(db, "INSERT INTO greeter_reason_labels(id, reason_id, local_area_id, label,"
			       " label_es, ended_at, updated_hlc) VALUES(?,?,?,?,?,?,?)",
			   "tttttIt", hid, id, la, label, label_es, (int64_t)hub_now_ms(), ts) != 0) {
			rc = ROUTE_DBERR;
			goto out;
		}
	}
	rc = setup_done(a, self ? 200 : 201,
			!self ? "greeter_reason.create"
			: in.active == 0 ? "greeter_reason.retire"
					 : "greeter_reason.change",
			"greeter_reasons", reason_sql, reason_load, id, la, s.rs_div, before);
out:
	free(before);
	return rc;
}

static route_rc reason_create(route_call *a) { return reason_put(a, NULL); }
static route_rc reason_patch(route_call *a) { return reason_put(a, http_req_param(a->rc_req, "id")); }

/* ---- work item categories and priorities ----------------------------------------- */

/*
 * The two statewide managed lists of work items (SPEC "Work items"): one
 * path for both, told apart by their kind.  A name as a reason's label
 * (label_clean), one active entry of a name per list; never deleted, so a
 * work item keeps its category or priority after it is retired.  The
 * priorities hold exactly one active default: making one the default
 * clears the others in the same transaction, and the default is neither
 * retired nor unmade but by making another the default.  The last active
 * entry of a list stays.
 */
typedef struct wlist_kind {
	const char *wk_table, *wk_what, *wk_order; /* the order column: sort or rank */
	const char *wk_sql;                       /* one row by id */
	const char *wk_create, *wk_change, *wk_retire, *wk_default; /* audit actions */
	int wk_has_default;
} wlist_kind;

static const wlist_kind wcat_kind = {
	.wk_table = "work_item_categories",
	.wk_what = "work item category",
	.wk_order = "sort",
	.wk_sql = "SELECT c.id, c.name, c.sort, c.active, (SELECT count(*) FROM work_items w"
		  " WHERE w.category_id=c.id) AS work_items FROM work_item_categories c WHERE c.id=?",
	.wk_create = "work_item_category.create",
	.wk_change = "work_item_category.change",
	.wk_retire = "work_item_category.retire",
};

static const wlist_kind wpri_kind = {
	.wk_table = "work_item_priorities",
	.wk_what = "work item priority",
	.wk_order = "rank",
	.wk_sql = "SELECT p.id, p.name, p.rank, p.is_default, p.active, (SELECT count(*) FROM"
		  " work_items w WHERE w.priority_id=p.id) AS work_items FROM work_item_priorities p"
		  " WHERE p.id=?",
	.wk_create = "work_item_priority.create",
	.wk_change = "work_item_priority.change",
	.wk_retire = "work_item_priority.retire",
	.wk_default = "work_item_priority.default",
	.wk_has_default = 1,
};

static cJSON *wlist_json(sqlite3 *db, const wlist_kind *k, const char *id)
{
	cJSON *o = db_row_json_by(db, k->wk_sql, id), *b;
	static const char *const flags[] = {"active", "is_default"};

	for (size_t i = 0; o && i < sizeof flags / sizeof flags[0]; i++)
		if ((b = cJSON_GetObjectItem(o, flags[i])) != NULL)
			cJSON_ReplaceItemInObject(o, flags[i], cJSON_CreateBool(b->valueint));
	return o;
}


/* GET: every entry, the active ones first in their order, then the
 * retired; each with the count of work items that name it. */
static route_rc wlist_list(route_call *a, const wlist_kind *k)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	sqlite3_stmt *st = NULL;
	char sql[200];
	cJSON *arr;

	snprintf(sql, sizeof sql, "SELECT id FROM %s ORDER BY active DESC, %s, name LIMIT 2000",
		 k->wk_table, k->wk_order);
	if (db_prepare_bound(db, &st, sql, "") != 0)
		return ROUTE_DBERR;
	arr = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = db_col(st, 0);
		cJSON *o;
		if (id == NULL) { /* out of memory: not an entry to leave out */
			sqlite3_finalize(st);
			cJSON_Delete(arr);
			return ROUTE_DBERR;
		}
		if ((o = wlist_json(db, k, id)) != NULL)
			cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(st);
	return route_ok(a, 200, arr);
}

static route_rc wcat_list(route_call *a) { return wlist_list(a, &wcat_kind); }
static route_rc wpri_list(route_call *a) { return wlist_list(a, &wpri_kind); }

/* Another active entry of the list with this name, compared as
 * label_taken() compares labels (COLLATE NOCASE): 1. */
static int wlist_name_taken(sqlite3 *db, const wlist_kind *k, const char *name, const char *self)
{
	char sql[200];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE active=1 AND name=?1 COLLATE NOCASE"
				  " AND id<>coalesce(?2,'')", k->wk_table);
	return db_int_bound(db, 0, sql, "tt", name, self) > 0;
}

typedef struct wlist_in {
	const char *name;
	int64_t order;
	int has_order, active, is_default;
	char name_b[JSON_TEXT_BYTES(SETUP_LABEL_MAX)];
} wlist_in;

static int wlist_read(route_call *a, const wlist_kind *k, int create, wlist_in *in)
{
	int bad = 0;

	memset(in, 0, sizeof *in);
	bad |= route_str(a, "name", create ? JSON_REQUIRED : JSON_NULLABLE, 1, SETUP_LABEL_MAX,
			 &in->name, in->name_b, sizeof in->name_b) || label_clean(a, "name", in->name);
	bad |= route_int(a, k->wk_order, JSON_NULLABLE, 0, SETUP_SORT_MAX, &in->order,
			 &in->has_order);
	bad |= opt_bool(a, "active", &in->active);
	in->is_default = -1;
	if (k->wk_has_default)
		bad |= opt_bool(a, "is_default", &in->is_default);
	return bad;
}

/* POST (self NULL) or PATCH an entry of list k: one path. */
static route_rc wlist_put(route_call *a, const wlist_kind *k, const char *self)
{
	sqlite3 *db = API_HUB(a)->hb_db;
	char gen[UUID_STRLEN], ts[HLC_STRLEN], name[JSON_TEXT_BYTES(SETUP_LABEL_MAX)] = "";
	char sql[400], *before = NULL, *after = NULL;
	const char *id = self, *action;
	int was_active = 0, was_default = 0, active, is_default, audit_rc;
	cJSON *row = NULL, *cleared = NULL;
	sqlite3_stmt *st = NULL;
	wlist_in in;
	route_rc rc;

	if (self) {
		cJSON *cur = wlist_json(db, k, self);
		if (cur == NULL)
			return route_fail(a, 404, NULL, "no %s '%s'", k->wk_what, self);
		snprintf(name, sizeof name, "%s", json_str(cur, "name") ? json_str(cur, "name") : "");
		was_active = cJSON_IsTrue(cJSON_GetObjectItem(cur, "active"));
		was_default = cJSON_IsTrue(cJSON_GetObjectItem(cur, "is_default"));
		cJSON_Delete(cur);
	}
	if (wlist_read(a, k, self == NULL, &in) != 0)
		return ROUTE_BAD;
	active = in.active < 0 ? (self ? was_active : 1) : in.active;
	is_default = in.is_default < 0 ? was_default : in.is_default;
	if (is_default && !active && in.is_default > 0)
		return route_fail(a, 409, "is_default", "a retired %s cannot be the default: restore"
							" it (active true) too", k->wk_what);
	if (is_default && !active)
		return route_fail(a, 409, "active", "the default %s cannot be retired: make another"
						    " one the default first", k->wk_what);
	if (self && was_default && in.is_default == 0)
		return route_fail(a, 409, "is_default", "there is always one default %s: make another"
							" one the default instead", k->wk_what);
	/* The job order rule (WSIN15-21: no job order on a marketing lead)
	 * knows its category by name, at every office and at the hub
	 * (crm_is_job_order_category): that category keeps its name and stays
	 * active, and no other takes the name (below, as any active name). */
	if (self && !k->wk_has_default && crm_is_job_order_category(name) &&
	    ((in.name && !crm_is_job_order_category(in.name)) || !active))
		return route_fail(a, 409, in.name ? "name" : "active",
				  "the %s category is fixed: the rule for job orders names it",
				  CRM_JOB_ORDER_CATEGORY);
	if (self && was_active && !active) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE active=1 AND id<>?1",
			 k->wk_table);
		if (db_int_bound(db, 0, sql, "t", self) == 0)
			return route_fail(a, 409, "active", "'%s' is the last active %s: add another"
							    " before retiring it", name, k->wk_what);
	}
	/* One active entry of a name, whatever the change makes active: a new
	 * name, or a retired entry back (a change of its order alone is not
	 * checked, as for reasons). */
	if (active && (!self || in.name || (in.active > 0 && !was_active)) &&
	    wlist_name_taken(db, k, in.name ? in.name : name, self))
		return route_fail(a, 409, in.name ? "name" : "active",
				  "an active %s '%s' already exists", k->wk_what,
				  in.name ? in.name : name);
	if (self && (before = row_text(db, k->wk_sql, self)) == NULL)
		return ROUTE_DBERR;
	if (!self) {
		uuid7(gen);
		id = gen;
	}
	hlc_now(hub_clock(API_HUB(a)), ts);
	rc = ROUTE_DBERR;
	/* Making one the default first clears the one before it (its row
	 * stamped too, so the offices take both changes with one pull). */
	if (k->wk_has_default && is_default && !was_default) {
		char prev[64] = "";
		if (db_text(db, "SELECT id FROM work_item_priorities WHERE is_default=1 LIMIT 1", NULL,
			    prev, sizeof prev) < 0)
			goto out;
		if (prev[0] && (cleared = cJSON_CreateString(prev)) == NULL)
			goto out;
		if (db_run(db, "UPDATE work_item_priorities SET is_default=0, updated_hlc=?1"
			       " WHERE is_default=1 AND id<>?2", "tt", ts, id) != 0)
			goto out;
	}
	/* ?3 < 0: the order kept (a change) or after the last (a new entry) */
	if (self)
		snprintf(sql, sizeof sql, "UPDATE %s SET name=coalesce(?2, name),"
					  " %s=CASE WHEN ?3 < 0 THEN %s ELSE ?3 END, active=?4,%s"
					  " updated_hlc=?6 WHERE id=?1", k->wk_table, k->wk_order,
			 k->wk_order, k->wk_has_default ? " is_default=?5," : "");
	else
		snprintf(sql, sizeof sql, "INSERT INTO %s(id, name, %s, active,%s updated_hlc)"
					  " VALUES(?1, ?2, CASE WHEN ?3 < 0 THEN (SELECT min(coalesce(max(%s),"
					  " 0) + %d, %d) FROM %s) ELSE ?3 END, ?4,%s ?6)", k->wk_table,
			 k->wk_order, k->wk_has_default ? " is_default," : "", k->wk_order,
			 k->wk_has_default ? 1 : 10, SETUP_SORT_MAX, k->wk_table,
			 k->wk_has_default ? " ?5," : "");
	if (db_prepare_bound(db, &st, sql, "ttIiit", id, in.name,
			     in.has_order ? in.order : (int64_t)-1, active, is_default, ts) != 0)
		goto out;
	if ((rc = step_write(a, st, k->wk_what, id)) != ROUTE_OK)
		goto out;
	rc = ROUTE_DBERR;
	/* The audit row: the entry before and after, and the default it took
	 * over from (whose row changed in the same transaction). */
	if ((row = db_row_json_by(db, k->wk_sql, id)) == NULL)
		goto out;
	if (cleared) {
		cJSON_AddItemToObject(row, "default_was", cleared);
		cleared = NULL;
	}
	if ((after = cJSON_PrintUnformatted(row)) == NULL)
		goto out;
	action = !self ? k->wk_create
	       : was_active && !active ? k->wk_retire
	       : is_default && !was_default ? k->wk_default
					    : k->wk_change;
	audit_rc = hub_api_admin_audit(a, action, k->wk_table, id, NULL, NULL, before, after);
	if (audit_rc == 0)
		rc = route_ok(a, self ? 200 : 201, wlist_json(db, k, id));
out:
	cJSON_Delete(cleared);
	cJSON_Delete(row);
	free(after);
	free(before);
	return rc;
}

static route_rc wcat_create(route_call *a) { return wlist_put(a, &wcat_kind, NULL); }
static route_rc wcat_patch(route_call *a)
{
	return wlist_put(a, &wcat_kind, http_req_param(a->rc_req, "id"));
}
static route_rc wpri_create(route_call *a) { return wlist_put(a, &wpri_kind, NULL); }
static route_rc wpri_patch(route_call *a)
{
	return wlist_put(a, &wpri_kind, http_req_param(a->rc_req, "id"));
}

static const route_key la_keys[] = {
	{"id", ROUTE_T_ANY, 0},
	{"name", ROUTE_T_ANY, 0},
	{"field_division", ROUTE_T_ANY, 0},
	{"pseudo_ssn_prefix", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

static const route_key la_retire_keys[] = {
	{"force", ROUTE_T_BOOL, 0},
	{NULL, 0, 0},
};

static const route_key office_keys[] = {
	{"id", ROUTE_T_ANY, 0},          {"local_area_id", ROUTE_T_ANY, 0},
	{"name", ROUTE_T_ANY, 0},        {"address", ROUTE_T_ANY, 0},
	{"timezone", ROUTE_T_ANY, 0},    {"has_title1_partner", ROUTE_T_ANY, 0},
	{"active", ROUTE_T_ANY, 0},      {NULL, 0, 0},
};

static const route_key reason_keys[] = {
	{"local_area_id", ROUTE_T_ANY, 0}, {"office_id", ROUTE_T_ANY, 0},
	{"label", ROUTE_T_ANY, 0},         {"label_es", ROUTE_T_ANY, 0},
	{"sort", ROUTE_T_ANY, 0},          {"active", ROUTE_T_ANY, 0},
	{NULL, 0, 0},
};

static const route_key wcat_keys[] = {
	{"name", ROUTE_T_ANY, 0}, {"sort", ROUTE_T_ANY, 0}, {"active", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

static const route_key wpri_keys[] = {
	{"name", ROUTE_T_ANY, 0},   {"rank", ROUTE_T_ANY, 0},       {"active", ROUTE_T_ANY, 0},
	{"is_default", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* A change takes the same keys but the new row's place: id (every table),
 * local_area_id (offices and reasons move only within their Local Area). */
static const route_def setup_defs[] = {
	{HTTP_M_POST, "/api/v1/admin/local-areas", la_create, HUB_P_OPS, ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED,
	 la_keys, 0},
	{HTTP_M_PATCH, "/api/v1/admin/local-areas/:id", la_patch, HUB_P_OPS,
	 ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED, la_keys + 1, 0},
	{HTTP_M_POST, "/api/v1/admin/local-areas/:id/ssn-key/rotate", la_key_rotate, HUB_P_OPS,
	 HUB_AUDITED, NULL, 0},
	/* ROUTE_DEFER: the re-encryption pass first (thread pool), then the
	 * write (declared here, audited) through route_resume_write */
	{HTTP_M_POST, "/api/v1/admin/local-areas/:id/ssn-key/retire", la_key_retire, HUB_P_OPS,
	 ROUTE_BODY | ROUTE_BODY_OPT | ROUTE_DEFER | ROUTE_AUDITED, la_retire_keys, 0},
	{HTTP_M_POST, "/api/v1/admin/offices", office_create, HUB_P_OPS, ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED,
	 office_keys, 0},
	{HTTP_M_PATCH, "/api/v1/admin/offices/:id", office_patch, HUB_P_OPS,
	 ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED, office_keys + 2, 0},
	{HTTP_M_GET, "/api/v1/admin/greeter-reasons", reasons_list, 0, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/greeter-reasons", reason_create, 0, ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED,
	 reason_keys, 0},
	{HTTP_M_PATCH, "/api/v1/admin/greeter-reasons/:id", reason_patch, 0,
	 ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED, reason_keys + 1, 0},
	/* the work item lists are statewide: operations only */
	{HTTP_M_GET, "/api/v1/admin/work-item-categories", wcat_list, HUB_P_OPS, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/work-item-categories", wcat_create, HUB_P_OPS,
	 ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED, wcat_keys, 0},
	{HTTP_M_PATCH, "/api/v1/admin/work-item-categories/:id", wcat_patch, HUB_P_OPS,
	 ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED, wcat_keys, 0},
	{HTTP_M_GET, "/api/v1/admin/work-item-priorities", wpri_list, HUB_P_OPS, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/admin/work-item-priorities", wpri_create, HUB_P_OPS,
	 ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED, wpri_keys, 0},
	{HTTP_M_PATCH, "/api/v1/admin/work-item-priorities/:id", wpri_patch, HUB_P_OPS,
	 ROUTE_BODY | ROUTE_KEYS_LATE | HUB_AUDITED, wpri_keys, 0},
};
const route_list hub_setup_route_list = ROUTE_LIST(setup_defs);
