/*
 * node_crm_contacts.c - an employer's contacts and locations, and the
 * Contacts List.
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

/* ---- contacts and locations ------------------------------------------------------- */

/* A contact as the API shows it. */
static const route_key contact_keys_rk[] = {
	{"kind", ROUTE_T_ANY, 0}, {"name", ROUTE_T_ANY, 0}, {"title", ROUTE_T_ANY, 0},
	{"phone", ROUTE_T_ANY, 0}, {"email", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

#define CONTACT_SQL                                                                        \
	"SELECT id, employer_id, kind, name, title, phone, email, status, created_at"      \
	" FROM employer_contacts WHERE id=?"

static route_rc post_contact(route_call *a)
{
	node *n = API_NODE(a);
	const char *emp = http_req_param(a->rc_req, "id"), *v[CRM_NCF];
	route_rc rr;
	arena ar;
	int present[CRM_NCF], bad;
	char cid[UUID_STRLEN];

	ar.a_used = 0;
	bad = crm__read_fields(a->rc_body, crm_contact_fields, CRM_NCF - 1, v, present, &ar, NULL, NULL, a);
	if (v[1] == NULL && !route_has_err(a, "name"))
		bad = route_err(a, "name", "contact name is required");
	if (bad)
		return ROUTE_BAD;
	if ((rr = crm__writable_employer(a, emp)) != ROUTE_OK)
		return rr;
	if (crm__insert_contact(n, emp, v, API_USER(a)->id, cid) != 0)
		return ROUTE_DBERR;
	return route_ok(a, 201, db_row_json_by(n->nd_db, CONTACT_SQL, cid));
}

static const route_key contact_patch_keys[] = {
	{"kind", ROUTE_T_ANY, 0}, {"name", ROUTE_T_ANY, 0}, {"title", ROUTE_T_ANY, 0},
	{"phone", ROUTE_T_ANY, 0}, {"email", ROUTE_T_ANY, 0}, {"status", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* A contact's or a location's edit: the fields sent (those in required,
 * a bit per field, may not be cleared), then the reply json(id).  what
 * names the row in the 404; named: the required error names the field. */
typedef struct child_kind {
	const char *table, *what;
	const crm_field *spec;
	int nf;
	unsigned required;
	int named;
	cJSON *(*json)(node *n, const char *id);
} child_kind;

static route_rc patch_child(route_call *a, const child_kind *k)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id");
	json_err e = {{0}, {0}};
	route_rc rr;
	arena ar_s, *ar = &ar_s;
	const char *v[CRM_NCF > CRM_NLF ? CRM_NCF : CRM_NLF];
	int present[CRM_NCF > CRM_NLF ? CRM_NCF : CRM_NLF];
	char emp[CRM_ID_MAX];

	ar_s.a_used = 0;
	if (crm__read_fields(a->rc_body, k->spec, k->nf, v, present, ar, NULL, &e, a))
		return route_bad_json(a, &e);
	for (int i = 0; i < k->nf; i++) {
		const char *name = k->spec[i].name;
		if (!present[i] || v[i] != NULL || !(k->required & (1u << i)))
			continue;
		if (k->named)
			json_err_set(&e, name, "%s is required", name);
		else
			json_err_set(&e, name, "this field is required");
		return route_bad_json(a, &e);
	}
	if ((rr = crm__writable_row(a, k->table, k->what, id, emp)) != ROUTE_OK)
		return rr;
	if (crm__update_changed(n, k->table, id, k->spec, k->nf, v, present, NULL, NULL, 0) < 0)
		return ROUTE_DBERR;
	return route_ok(a, 200, k->json(n, id));
}

static cJSON *contact_json(node *n, const char *id)
{
	return db_row_json_by(n->nd_db, CONTACT_SQL, id);
}

static route_rc patch_contact(route_call *a)
{
	static const child_kind k = {"employer_contacts", "contact", crm_contact_fields, CRM_NCF,
				     1u << 0 | 1u << 1 | 1u << 5, 1, contact_json};
	return patch_child(a, &k);
}

static cJSON *location_json(node *n, const char *id)
{
	return db_row_json_by(n->nd_db,
			      "SELECT id, employer_id, name, street, city, state, zip, phone, status,"
			      " created_at FROM employer_locations WHERE id=?",
			      id);
}

static const route_key location_keys[] = {
	{"name", ROUTE_T_ANY, 0}, {"street", ROUTE_T_ANY, 0}, {"city", ROUTE_T_ANY, 0},
	{"state", ROUTE_T_ANY, 0}, {"zip", ROUTE_T_ANY, 0}, {"phone", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

static route_rc post_location(route_call *a)
{
	node *n = API_NODE(a);
	const char *emp = http_req_param(a->rc_req, "id"), *v[CRM_NLF];
	route_rc rr;
	arena ar;
	int present[CRM_NLF];
	char lid[UUID_STRLEN], ts[HLC_STRLEN];
	uint64_t now;

	ar.a_used = 0;
	if (crm__read_fields(a->rc_body, crm_location_fields, CRM_NLF - 1, v, present, &ar, NULL, NULL, a))
		return ROUTE_BAD;
	if (v[4] == NULL)
		return route_bad(a, "zip", "ZIP code is required");
	if ((rr = crm__writable_employer(a, emp)) != ROUTE_OK)
		return rr;
	now = crm__new_row(n, lid, ts);
	if (db_run(n->nd_db,
		   "INSERT INTO employer_locations(id, employer_id, name, street, city, state, zip,"
		   " phone, status, created_at, updated_hlc) VALUES(?,?,?,?,?,?,?,?,'active',?,?)",
		   "ttttttttIt", lid, emp, v[0], v[1], v[2], v[3] ? v[3] : "CA", v[4], v[5],
		   (int64_t)now, ts) != 0)
		return ROUTE_DBERR;
	return route_ok(a, 201, location_json(n, lid));
}

static const route_key location_patch_keys[] = {
	{"name", ROUTE_T_ANY, 0}, {"street", ROUTE_T_ANY, 0}, {"city", ROUTE_T_ANY, 0},
	{"state", ROUTE_T_ANY, 0}, {"zip", ROUTE_T_ANY, 0}, {"phone", ROUTE_T_ANY, 0},
	{"status", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

static route_rc patch_location(route_call *a)
{
	static const child_kind k = {"employer_locations", "location", crm_location_fields, CRM_NLF,
				     1u << 4 | 1u << 6, 0, location_json};
	return patch_child(a, &k);
}

/*
 * Contacts List: the primary and secondary contacts of employers created as
 * marketing leads (including those since converted), with the companies
 * that have no contact yet; Lead Owner = me by default, "all" for everyone's.
 */
static route_rc list_contacts(route_call *a)
{
	node *n = API_NODE(a);
	char npat[CRM_PAT_MAX], cpat[CRM_PAT_MAX] = "";
	const char *q;
	int nkind, cfts = 0, newest = 0;
	crm_list l;

	if (crm__employer_filters(a, "me", &l) | crm__list_args(a, &l))
		return ROUTE_BAD;
	q = l.q;
	/*
	 * Company names through crm__name_search(); contact names (each indexed
	 * with its company's name) through crm_contacts_fts, word prefixes, or
	 * when q has no word from the start (employer_contacts_name).
	 * A common word is answered newest contact first from the index; the
	 * rest sorted by company.
	 */
	nkind = crm__name_search(q, npat, sizeof npat);
	if (q[0]) {
		cfts = crm__fts_query(q, cpat, sizeof cpat) == 0;
		if (!cfts) {
			db_like_pattern(q, 0, cpat, sizeof cpat);
		} else {
			int c = crm__fts_count(n, "crm_contacts_fts", cpat, CRM_SEARCH_SORT_MAX);
			int d = nkind == NAME_FTS
					? crm__fts_count(n, "crm_employers_fts", npat, CRM_SEARCH_SORT_MAX)
					: 0;
			if (c < 0 || d < 0)
				return ROUTE_DBERR;
			newest = c + d > CRM_SEARCH_SORT_MAX;
		}
	}
	{
		buf sql = BUF_INIT(CRM_SQL_MAX);
		buf_puts(&sql,
			"SELECT e.id AS employer_id, e.company_name, e.account_type, e.username, e.zip,"
			" e.city, e.lead_owner_id, ow.display_name AS lead_owner_name, e.status,"
			" c.id AS contact_id, c.kind, c.name AS contact_name, c.title, c.phone, c.email");
		if (newest) {
			buf_puts(&sql,
				" FROM crm_contacts_fts x CROSS JOIN employer_contacts c ON c.rowid = x.rowid"
				" CROSS JOIN employers e ON e.id = c.employer_id"
				" LEFT JOIN staff ow ON ow.id = e.lead_owner_id"
				" WHERE x.crm_contacts_fts MATCH ?3 AND c.status = 'active'"
				" AND e.created_as = 'lead' AND e.status = 'active'");
		} else {
			/* A search drives the query from the matching employers. */
			buf_puts(&sql, " FROM ");
			if (nkind != NAME_NONE) {
				buf_puts(&sql, "(");
				crm__name_search_sql(&sql, nkind, 4);
				buf_printf(&sql,
					 " UNION SELECT e2.rowid FROM employer_contacts c2 CROSS JOIN employers e2"
					 " ON e2.id = c2.employer_id WHERE %s) m CROSS JOIN employers e"
					 " ON e.rowid = m.r",
					 cfts ? "c2.rowid IN (SELECT rowid FROM crm_contacts_fts WHERE"
						" crm_contacts_fts MATCH ?3)"
					      : "c2.name LIKE ?3 ESCAPE '\\'");
			} else {
				buf_puts(&sql, "employers e");
			}
			buf_puts(&sql,
				" LEFT JOIN employer_contacts c ON c.employer_id = e.id"
				"  AND c.status = 'active'"
				" LEFT JOIN staff ow ON ow.id = e.lead_owner_id"
				" WHERE e.created_as = 'lead' AND e.status = 'active'");
		}
		if (l.owner)
			buf_puts(&sql, " AND e.lead_owner_id = ?1");
		if (l.type)
			buf_puts(&sql, " AND e.account_type = ?2");
		buf_printf(&sql, "%s LIMIT ?5 OFFSET ?6",
			   newest ? " ORDER BY x.rowid DESC"
				  : " ORDER BY e.company_name COLLATE NOCASE, e.id, c.kind, c.name");
		return crm__page_query(a, &l, &sql, newest, "ttttii", l.owner, l.type, cpat, npat,
				       l.limit + 1, l.offset);
	}
}

static const route_def crm_contacts_defs[] = {
	{HTTP_M_POST, "/api/v1/crm/employers/:id/contacts", post_contact, PRIV_CRM, ROUTE_BODY | NODE_WRITE, contact_keys_rk, 0},
	{HTTP_M_POST, "/api/v1/crm/employers/:id/locations", post_location, PRIV_CRM, ROUTE_BODY | NODE_WRITE, location_keys, 0},
	{HTTP_M_PATCH, "/api/v1/crm/contacts/:id", patch_contact, PRIV_CRM, ROUTE_BODY | NODE_WRITE, contact_patch_keys, 0},
	{HTTP_M_PATCH, "/api/v1/crm/locations/:id", patch_location, PRIV_CRM, ROUTE_BODY | NODE_WRITE, location_patch_keys, 0},
	{HTTP_M_GET, "/api/v1/crm/contacts", list_contacts, PRIV_VIEW, 0, NULL, 0},
};

const route_list crm_contacts_route_list = ROUTE_LIST(crm_contacts_defs);
