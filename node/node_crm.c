/*
 * node_crm.c - the CRM's JSON API on the office node: the external
 * employers list and the business directory (with the prefill of a new lead
 * from either), the lists the CRM pages need, and the interim seeding of a
 * stand-alone node.  The other CRM routes live in the files node_crm.h
 * lists, one concern each.  Free-text searches go through the FTS5 indexes
 * of schema_crm.c (crm__fts_query).
 *
 * CRM data is statewide: the node holds every office's leads, so the
 * duplicate check sees them all.  Every write is a declared NODE_WRITE route
 * (one captured transaction, answered once durable) and only changed
 * columns are written, so the hub's column-wise merge keeps concurrent edits
 * of other columns.  Logs name ids only, never company or contact details.
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- external employers and the business directory -------------------------------- */

/* The search lists' ZIP and NAICS industry prefixes (?zip=, ?industry=;
 * unchanged when absent).  0, or -1 with each error collected. */
static int place_filters(route_call *a, char zip[16], char ind[16])
{
	int bad = 0;

	http_req_query(a->rc_req, "zip", zip, 16);
	http_req_query(a->rc_req, "industry", ind, 16);
	if (zip[0] && (strlen(zip) > 5 || strspn(zip, "0123456789") != strlen(zip)))
		bad = route_err(a, "zip", "zip must be up to 5 digits");
	if (ind[0] && strspn(ind, "0123456789") != strlen(ind))
		bad = route_err(a, "industry", "industry must be a NAICS code (digits)");
	return bad;
}

static route_rc list_external(route_call *a)
{
	char ind[16] = "", zip[16] = "", sort[16] = "name", like[CRM_PAT_MAX];
	sqlite3_stmt *st;
	crm_list l;

	if (crm__list_args(a, &l) != 0)
		return ROUTE_BAD;
	http_req_query(a->rc_req, "sort", sort, sizeof sort);
	if (strcmp(sort, "name") != 0 && strcmp(sort, "jobs") != 0)
		route_err(a, "sort", "sort must be name or jobs");
	if (place_filters(a, zip, ind) != 0 || a->rc_nerr)
		return ROUTE_BAD;
	db_like_pattern(l.q, 1, like, sizeof like);
	if (db_prepare_bound(API_NODE(a)->nd_db, &st,
		       "SELECT x.id, x.company_name, x.industry_code, x.industry_title, x.street, x.city,"
		       " x.state, x.zip, x.phone, x.website, x.active_job_orders, x.last_posted,"
		       " (SELECT e.id FROM employers e INDEXED BY employers_external WHERE e.external_employer_id = x.id LIMIT 1) AS lead_id"
		       " FROM external_employers x WHERE x.active = 1"
		       " AND (?1 = '' OR x.company_name LIKE ?1 ESCAPE '\\' OR x.industry_title LIKE ?1 ESCAPE '\\'"
		       "      OR x.city LIKE ?1 ESCAPE '\\')"
		       " AND (?2 = '' OR x.industry_code LIKE ?2 || '%') AND (?3 = '' OR x.zip LIKE ?3 || '%')"
		       " ORDER BY CASE WHEN ?4 = 'jobs' THEN -x.active_job_orders ELSE 0 END,"
		       " x.company_name COLLATE NOCASE, x.id LIMIT ?5 OFFSET ?6",
		       "ttttii", like, ind, zip, sort, l.limit + 1, l.offset) != 0)
		return ROUTE_DBERR;
	return crm__page(a, st, l.limit, l.offset, 0);
}

/* The lead form's values, prefilled from a hub-owned list row. */
static route_rc prefill(route_call *a, const char *sql, const char *source, const char *key)
{
	node *n = API_NODE(a);
	cJSON *o;
	const char *id = http_req_param(a->rc_req, "id");

	o = db_row_json_by(n->nd_db, sql, id);
	if (o == NULL)
		return route_fail(a, 404, "id", "no such entry");
	cJSON_AddStringToObject(o, "source", source);
	cJSON_AddStringToObject(o, key, id);
	{
		char norm[CRM_NORM_MAX], z5[6] = "";
		const char *zip = json_str(o, "zip");
		cJSON *d = NULL;
		if (zip)
			crm_valid_zip(zip, z5);
		if (json_str(o, "company_name") &&
		    crm_normalize_name(json_str(o, "company_name"), norm, sizeof norm) == 0)
			d = crm__find_duplicates(n, norm, z5, NULL, NULL);
		cJSON_AddItemToObject(o, "duplicates", d ? d : cJSON_CreateArray());
	}
	return route_ok(a, 200, o);
}

static route_rc prefill_external(route_call *a)
{
	return prefill(a,
		"SELECT company_name, industry_code AS industry, street, city, state, zip, phone,"
		" website, active_job_orders FROM external_employers WHERE id=?",
		"external", "external_employer_id");
}

static route_rc prefill_directory(route_call *a)
{
	return prefill(a,
		"SELECT name AS company_name, industry_code AS industry, street, city, state, zip,"
		" phone, website FROM business_directory WHERE id=?",
		"local_search", "directory_id");
}

/* Local employer sites: the business directory by area, industry, keyword,
 * with or without openings. */
static route_rc list_directory(route_call *a)
{
	char area[96] = "", zip[16] = "", ind[16] = "", open[8] = "any", like[CRM_PAT_MAX], alike[200];
	sqlite3_stmt *st;
	crm_list l;

	if (crm__list_args(a, &l) != 0)
		return ROUTE_BAD;
	http_req_query(a->rc_req, "area", area, sizeof area);
	http_req_query(a->rc_req, "openings", open, sizeof open);
	if (strcmp(open, "any") != 0 && strcmp(open, "yes") != 0 && strcmp(open, "no") != 0)
		route_err(a, "openings", "openings must be any, yes or no");
	if (place_filters(a, zip, ind) != 0 || a->rc_nerr)
		return ROUTE_BAD;
	db_like_pattern(l.q, 1, like, sizeof like);
	db_like_pattern(area, 1, alike, sizeof alike);
	if (db_prepare_bound(API_NODE(a)->nd_db, &st,
		       "SELECT d.id, d.name, d.street, d.city, d.county, d.state, d.zip, d.phone, d.website,"
		       " d.industry_code, d.industry_title, d.employees, d.has_openings,"
		       " (SELECT e.id FROM employers e INDEXED BY employers_directory WHERE e.directory_id = d.id LIMIT 1) AS lead_id"
		       " FROM business_directory d"
		       " WHERE (?1 = '' OR d.name LIKE ?1 ESCAPE '\\' OR d.keywords LIKE ?1 ESCAPE '\\'"
		       "        OR d.industry_title LIKE ?1 ESCAPE '\\')"
		       " AND (?2 = '' OR d.city LIKE ?2 ESCAPE '\\' OR d.county LIKE ?2 ESCAPE '\\')"
		       " AND (?3 = '' OR d.zip LIKE ?3 || '%') AND (?4 = '' OR d.industry_code LIKE ?4 || '%')"
		       " AND (?5 = 'any' OR d.has_openings = (?5 = 'yes'))"
		       " ORDER BY d.name COLLATE NOCASE, d.id LIMIT ?6 OFFSET ?7",
		       "tttttii", like, alike, zip, ind, open, l.limit + 1, l.offset) != 0)
		return ROUTE_DBERR;
	return crm__page(a, st, l.limit, l.offset, 0);
}

/* ---- the lists the pages need -------------------------------------------------------- */

/* The lists of the meta reply: by_area, ?1 is the node's Local Area.  The
 * offices are those a lead may name: the open ones of the node's Local Area
 * (node_crm_employers.c). */
static const struct {
	const char *name, *sql;
	int by_area;
} meta_lists[] = {
	{"categories", "SELECT id, name FROM work_item_categories WHERE active=1"
		       " ORDER BY sort, name", 0},
	{"priorities", "SELECT id, name, is_default FROM work_item_priorities WHERE active=1"
		       " ORDER BY rank", 0},
	{"work_group", "SELECT id, display_name, office_id FROM staff WHERE active=1 AND"
		       " crm_work_group=1 ORDER BY display_name", 0},
	{"staff", "SELECT id, display_name, office_id FROM staff WHERE active=1"
		  " ORDER BY display_name", 0},
	{"offices", "SELECT id, name, local_area_id FROM offices WHERE active=1 AND"
		    " local_area_id=?1 ORDER BY name", 1},
};

static route_rc get_meta(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	cJSON *o, *me, *cc_arr;
	char today[11];

	node_today(n, today);
	o = cJSON_CreateObject();
	me = cJSON_AddObjectToObject(o, "me");
	cJSON_AddStringToObject(me, "id", u->id);
	cJSON_AddStringToObject(me, "display_name", u->display_name);
	cJSON_AddStringToObject(me, "office_id", u->office_id);
	cJSON_AddBoolToObject(me, "crm_work_group", u->crm_work_group);
	cJSON_AddBoolToObject(me, "can_edit", (u->privs & PRIV_CRM) != 0);
	cJSON_AddBoolToObject(me, "can_vet", (u->privs & PRIV_VETTING) != 0);
	cJSON_AddBoolToObject(me, "can_report", (u->privs & PRIV_REPORTS) != 0);
	cJSON_AddStringToObject(o, "today", today);
	cJSON_AddStringToObject(o, "office_id", n->nd_office_id);
	for (size_t i = 0; i < sizeof meta_lists / sizeof meta_lists[0]; i++)
		if (db_add_rows_json(o, meta_lists[i].name, n->nd_db, meta_lists[i].sql,
				     meta_lists[i].by_area ? n->nd_local_area_id
							   : NULL) != 0) {
			cJSON_Delete(o);
			return ROUTE_DBERR; /* a list that could not be read is not an empty one */
		}
	cc_arr = cJSON_AddArrayToObject(o, "completion_codes");
	static const char *const cc[][2] = {{"successful", "Successful completion"},
					    {"unsuccessful", "Unsuccessful completion"},
					    {"cancelled", "Cancelled"}};
	for (int i = 0; i < 3; i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "id", cc[i][0]);
		cJSON_AddStringToObject(c, "label", cc[i][1]);
		cJSON_AddItemToArray(cc_arr, c);
	}
	return route_ok(a, 200, o);
}

/* ---- routes and interim seeding ------------------------------------------------------- */

/*
 * Interim until node_seed_demo() and the hub's seeding call
 * crm_seed_reference(): a stand-alone (never enrolled) node whose CRM lists
 * are empty seeds them itself, without capture (they are hub-owned).
 */
static void seed_if_standalone(node *n);

int crm_setup(node *n)
{
	seed_if_standalone(n);
	return 0;
}

static void seed_if_standalone(node *n)
{
	char ts[HLC_STRLEN];

	/* Enrolled: the hub's lists come with the snapshot. */
	if (!node_standalone(n))
		return;
	if (db_int(n->nd_db, "SELECT count(*) FROM work_item_categories", 0) > 0)
		return;
	hlc_now(&n->nd_hlc, ts);
	if (db_exec(n->nd_db, "BEGIN IMMEDIATE") != 0)
		return;
	if (crm_seed_reference(n->nd_db, ts) == 0 && db_exec(n->nd_db, "COMMIT") == 0) {
		log_info("crm: seeded the demo CRM lists on a stand-alone node");
		return;
	}
	db_exec(n->nd_db, "ROLLBACK");
	log_warnx("crm: cannot seed the demo CRM lists");
}

static const route_def crm_defs[] = {
	{HTTP_M_GET, "/api/v1/crm/meta", get_meta, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/external-employers", list_external, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/external-employers/:id/prefill", prefill_external, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/directory", list_directory, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/directory/:id/prefill", prefill_directory, PRIV_VIEW, 0, NULL, 0},
};

const route_list crm_route_list = ROUTE_LIST(crm_defs);
