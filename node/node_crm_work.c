/*
 * node_crm_work.c - the CRM's JSON API, part 3: work items.  A work item is a
 * task for a marketing lead: category and priority from the hub's managed
 * lists, status New / In Progress / Closed, due date, description, the link
 * to an employer, notes, and an assignee who must be in the CRM work group.
 * My Queue and Group Queue list the open items (closed and deleted ones
 * leave them); the due-today list feeds the notice at login and the
 * dashboard.  Delete is a soft delete (deleted = 1), never a row delete.
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "model/schema.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WI_COLS                                                                                \
	"w.id, upper(substr(w.id, -6)) AS ref, w.employer_id, e.company_name AS employer_name,"  \
	" e.account_type, w.category_id, cat.name AS category, w.priority_id, pri.name AS priority," \
	" pri.rank AS priority_rank, w.status, w.due_date, w.description, w.assignee_id,"        \
	" a.display_name AS assignee_name, w.created_by, cb.display_name AS created_by_name,"    \
	" w.office_id, w.created_at, w.closed_at, w.closed_by, w.deleted, w.updated_hlc,"        \
	" (w.status <> 'Closed' AND w.due_date IS NOT NULL AND w.due_date < ?9) AS overdue,"     \
	" (w.status <> 'Closed' AND w.due_date = ?9) AS due_today"
#define WI_FROM " FROM work_items w" WI_JOINS
#define WI_JOINS                                                                               \
	" LEFT JOIN employers e ON e.id = w.employer_id"                                         \
	" LEFT JOIN work_item_categories cat ON cat.id = w.category_id"                          \
	" LEFT JOIN work_item_priorities pri ON pri.id = w.priority_id"                          \
	" LEFT JOIN staff a ON a.id = w.assignee_id LEFT JOIN staff cb ON cb.id = w.created_by"

static cJSON *wi_json(node *n, const char *id)
{
	sqlite3_stmt *st;
	cJSON *o = crm__dated_row(n, "SELECT " WI_COLS WI_FROM " WHERE w.id=?1", id), *notes;

	if (o == NULL)
		return NULL;
	if (db_prepare(n->nd_db, &st,
		       "SELECT wn.id, wn.staff_id, s.display_name AS staff_name, wn.body, wn.created_at"
		       " FROM work_item_notes wn LEFT JOIN staff s ON s.id = wn.staff_id"
		       " WHERE wn.work_item_id=? ORDER BY wn.created_at, wn.id") == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		notes = db_rows_json(st);
		sqlite3_finalize(st);
		cJSON_AddItemToObject(o, "notes", notes ? notes : cJSON_CreateArray());
	}
	cJSON_AddItemToObject(o, "conflicts", crm__conflicts_of(n, "work_items", id, 0));
	return o;
}

cJSON *crm__work_items_of(node *n, const char *employer_id)
{
	return crm__dated_rows(n, "SELECT " WI_COLS WI_FROM " WHERE w.employer_id=?1 AND w.deleted=0"
				  " ORDER BY w.status = 'Closed', w.due_date IS NULL, w.due_date,"
				  " w.created_at", employer_id);
}

/*
 * GET /api/v1/crm/work-items?queue=mine|group&status=open|closed|all|New|...
 *     &due=today|overdue&employer_id=&category_id=&assignee_id=&q=&limit&offset
 */
static route_rc list_work_items(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	char queue[16] = "group", status[16] = "open", due[16] = "", emp[64] = "", cat[64] = "",
	     asg[64] = "", like[CRM_PAT_MAX] = "", npat[CRM_NORM_MAX + 8] = "", today[11];
	const char *q;
	int qfts = 0, newest = 0;
	crm_list l;

	if (crm__list_args(a, &l) != 0)
		return ROUTE_BAD;
	q = l.q;
	http_req_query(req, "queue", queue, sizeof queue);
	http_req_query(req, "status", status, sizeof status);
	http_req_query(req, "due", due, sizeof due);
	http_req_query(req, "employer_id", emp, sizeof emp);
	http_req_query(req, "category_id", cat, sizeof cat);
	http_req_query(req, "assignee_id", asg, sizeof asg);
	if (strcmp(queue, "mine") != 0 && strcmp(queue, "group") != 0)
		return route_fail(a, 400, "queue", "queue must be mine or group");
	if (strcmp(status, "open") != 0 && strcmp(status, "closed") != 0 &&
	    strcmp(status, "all") != 0 && crm_valid_wi_status(status) != 0)
		return route_fail(a, 400, "status",
				 "status must be open, closed, all, New, In Progress or Closed");
	if (due[0] && strcmp(due, "today") != 0 && strcmp(due, "overdue") != 0)
		return route_fail(a, 400, "due", "due must be today or overdue");
	if (strcmp(status, "closed") == 0)
		snprintf(status, sizeof status, "%s", CRM_WI_CLOSED);
	if (q[0]) {
		char norm[CRM_NORM_MAX];
		qfts = crm__fts_query(q, like, sizeof like) == 0;
		if (!qfts)
			db_like_pattern(q, 1, like, sizeof like);
		if (crm_normalize_name(q, norm, sizeof norm) != 0)
			snprintf(norm, sizeof norm, "%s", q);
		db_like_pattern(norm, 1, npat, sizeof npat);
		/* A common word: newest first straight from the index. */
		if (qfts) {
			int c = crm__fts_count(n, "crm_work_items_fts", like, CRM_SEARCH_SORT_MAX);
			if (c < 0)
				return ROUTE_DBERR;
			newest = c > CRM_SEARCH_SORT_MAX;
		}
	}
	node_today(n, today);
	{
		/* Only the filters in use are in the SQL, and open queues are read
		 * in due order from the partial indexes work_items_open_due /
		 * work_items_mine_due, so a queue never sorts the whole table. */
		buf sql = BUF_INIT(CRM_SQL_MAX);
		int open_q = strcmp(status, "open") == 0;
		int mine = strcmp(queue, "mine") == 0 || asg[0];
		/* A search drives the query from its matches (CROSS JOIN keeps the
		 * planner from walking a whole queue index): newest first straight
		 * from the index, or the matching rows, then sorted. */
		const char *order = newest   ? " ORDER BY w.rowid DESC"
				    : open_q ? " ORDER BY coalesce(w.due_date, '9999-12-31'), w.created_at"
					     : " ORDER BY w.created_at DESC";
		/* The page's rows are chosen first (the inner query); their names
		 * and lists are joined to those rows only. */
		buf_puts(&sql, "SELECT " WI_COLS " FROM (");
		if (newest)
			buf_puts(&sql, "SELECT w.rowid AS pr"
				" FROM crm_work_items_fts x CROSS JOIN work_items w ON w.rowid = x.rowid"
				" WHERE w.deleted = 0");
		else if (q[0])
			buf_printf(&sql, "SELECT w.rowid AS pr"
				" FROM (SELECT rowid AS r FROM work_items WHERE id = ?10 UNION %s) m"
				" CROSS JOIN work_items w ON w.rowid = m.r WHERE w.deleted = 0",
				qfts ? "SELECT rowid FROM crm_work_items_fts WHERE crm_work_items_fts MATCH ?6"
				     : "SELECT rowid FROM work_items WHERE description LIKE ?6 ESCAPE '\\'"
				       " OR upper(substr(id, -6)) = upper(?10) UNION SELECT w2.rowid FROM"
				       " employers e2 CROSS JOIN work_items w2 ON w2.employer_id = e2.id"
				       " WHERE e2.normalized_name LIKE ?11 ESCAPE '\\'");
		else
			buf_puts(&sql, "SELECT w.rowid AS pr FROM work_items w WHERE w.deleted = 0");
		if (newest)
			buf_puts(&sql, " AND x.crm_work_items_fts MATCH ?6");
		if (mine)
			buf_puts(&sql, " AND w.assignee_id = ?1");
		if (open_q)
			buf_puts(&sql, " AND w.status <> 'Closed'");
		else if (strcmp(status, "all") != 0)
			buf_puts(&sql, " AND w.status = ?2");
		if (strcmp(due, "today") == 0)
			buf_puts(&sql, " AND w.due_date = ?9 AND w.status <> 'Closed'");
		else if (strcmp(due, "overdue") == 0)
			buf_puts(&sql, " AND w.due_date < ?9 AND w.status <> 'Closed'");
		if (emp[0])
			buf_puts(&sql, " AND w.employer_id = ?4");
		if (cat[0])
			buf_puts(&sql, " AND w.category_id = ?5");
		buf_printf(&sql, "%s LIMIT ?7 OFFSET ?8", newest ? " ORDER BY x.rowid DESC" : order);
		buf_printf(&sql, ") p CROSS JOIN work_items w ON w.rowid = p.pr" WI_JOINS "%s", order);
		return crm__page_query(a, &l, &sql, newest, "ttttttiittt",
				       strcmp(queue, "mine") == 0 ? u->id : asg, status, due, emp, cat,
				       like, l.limit + 1, l.offset, today, q, npat);
	}
}

/* The notice at login and the dashboard widget: my open items due today,
 * and how many are overdue. */
static route_rc get_due_today(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	sqlite3_stmt *st;
	cJSON *o, *arr;
	char today[11];

	node_today(n, today);
	arr = crm__dated_rows(n, "SELECT " WI_COLS WI_FROM " WHERE w.assignee_id = ?1 AND w.deleted = 0"
				 " AND w.status <> 'Closed' AND w.due_date = ?9"
				 " ORDER BY pri.rank, w.created_at", u->id);
	if (arr == NULL)
		return ROUTE_DBERR;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "today", today);
	cJSON_AddNumberToObject(o, "count", cJSON_GetArraySize(arr));
	cJSON_AddItemToObject(o, "items", arr);
	if (db_prepare(n->nd_db, &st,
		       "SELECT (SELECT count(*) FROM work_items WHERE assignee_id=?1 AND deleted=0"
		       "  AND status <> 'Closed' AND due_date < ?2),"
		       " (SELECT count(*) FROM work_items WHERE assignee_id=?1 AND deleted=0"
		       "  AND status <> 'Closed')") == 0) {
		sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, today, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			cJSON_AddNumberToObject(o, "overdue", (double)sqlite3_column_int64(st, 0));
			cJSON_AddNumberToObject(o, "open", (double)sqlite3_column_int64(st, 1));
		}
		sqlite3_finalize(st);
	}
	return route_ok(a, 200, o);
}

static route_rc get_work_item(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const char *id = http_req_param(req, "id");
	cJSON *o;
	char full[64];

	o = wi_json(n, id);
	if (o == NULL && strlen(id) == 6) {
		/* Opened by its short reference (the last six characters). */
		sqlite3_stmt *st;
		int hits = 0;
		if (db_prepare(n->nd_db, &st,
			       "SELECT id FROM work_items WHERE upper(substr(id, -6)) = upper(?) LIMIT 2") == 0) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			while (sqlite3_step(st) == SQLITE_ROW) {
				snprintf(full, sizeof full, "%s", (const char *)sqlite3_column_text(st, 0));
				hits++;
			}
			sqlite3_finalize(st);
		}
		if (hits == 1)
			o = wi_json(n, full);
	}
	if (o == NULL)
		return route_fail(a, 404, "id", "no such work item");
	return route_ok(a, 200, o);
}

static int check_list_ref(node *n, const char *table, const char *id, const char *field,
			  json_err *e)
{
	char sql[128];
	sqlite3_stmt *st;
	int ok;

	snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE id=? AND active=1", table);
	if (db_prepare(n->nd_db, &st, sql) != 0) {
		json_err_set(e, field, "cannot read the list");
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!ok) {
		json_err_set(e, field, "unknown or inactive %s", field[0] == 'c' ? "category" : "priority");
		return -1;
	}
	return 0;
}

static int check_employer_link(node *n, const char *id, json_err *e)
{
	if (crm__exists(n, "employers", id) != 1) {
		json_err_set(e, "employer_id", "no such employer");
		return -1;
	}
	return 0;
}

/* A "Job Order" work item linked to a marketing lead (WSIN15-21: "Marketing
 * Lead employers do not have access to post job orders"), when an item
 * becomes one (wi_refs' callers say when): 0, or -1 with e set. */
static int check_job_order_link(node *n, const char *cat, const char *emp, json_err *e)
{
	char name[128] = "", type[16] = "";

	if (cat == NULL || emp == NULL)
		return 0;
	db_text(n->nd_db, "SELECT name FROM work_item_categories WHERE id=?", cat, name, sizeof name);
	db_text(n->nd_db, "SELECT account_type FROM employers WHERE id=?", emp, type, sizeof type);
	if (crm_is_job_order_category(name) && strcmp(type, CRM_LEAD) == 0) {
		json_err_set(e, "category_id", "a Job Order work item is for recruiting employers only:"
					       " marketing leads do not post job orders");
		return -1;
	}
	return 0;
}

/*
 * A "Job Order" work item linked to a recruiting employer whose vetting is
 * pending is job-order work before the employer is given access
 * (crm__refuse_unvetted): refused (409) when an item becomes one, by its
 * creation or an edit that re-categorises or re-links it; the other edits
 * of an item made before the rule go through.  ROUTE_OK, or the refusal.
 */
static route_rc job_order_item_vetted(route_call *a, const char *cat, const char *emp)
{
	char name[128] = "";

	if (cat == NULL || emp == NULL)
		return ROUTE_OK;
	if (db_text(API_NODE(a)->nd_db, "SELECT name FROM work_item_categories WHERE id=?", cat, name,
		    sizeof name) < 0)
		return ROUTE_DBERR;
	if (!crm_is_job_order_category(name))
		return ROUTE_OK;
	return crm__refuse_unvetted(a, emp, CRM_VETTED_WORK_ITEM, "category_id", NULL);
}

/* A work item's fields, in a create's body and a patch's (the same keys). */
typedef struct wi_in {
	const char *cat, *pri, *status, *due, *desc, *emp, *asg;
} wi_in;
static const struct {
	const char *name;
	size_t off, max;
	int needed;        /* on create: present and not empty */
	const char *label; /* in a message */
} wi_field[] = {
	{"category_id", offsetof(wi_in, cat), 64, 1, "category"},
	{"priority_id", offsetof(wi_in, pri), 64, 0, "priority"},
	{"status", offsetof(wi_in, status), 16, 0, "status"},
	{"due_date", offsetof(wi_in, due), 10, 0, "due date"},
	{"description", offsetof(wi_in, desc), CRM_DESC_MAX, 1, "description"},
	{"employer_id", offsetof(wi_in, emp), 64, 0, "employer link"},
	{"assignee_id", offsetof(wi_in, asg), 64, 0, "assignee"},
};

static const route_key wi_keys_rk[] = {
	{"category_id", ROUTE_T_ANY, 0}, {"priority_id", ROUTE_T_ANY, 0}, {"status", ROUTE_T_ANY, 0},
	{"due_date", ROUTE_T_ANY, 0}, {"description", ROUTE_T_ANY, 0},
	{"employer_id", ROUTE_T_ANY, 0}, {"assignee_id", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* The fields into w (NULL when absent or null), every error collected:
 * on create the needed ones are required.  0, or -1. */
static int wi_fields(route_call *a, int create, wi_in *w)
{
	int bad = 0;

	for (size_t i = 0; i < sizeof wi_field / sizeof wi_field[0]; i++) {
		int req = create && wi_field[i].needed;
		bad |= route_str(a, wi_field[i].name, req ? JSON_REQUIRED : JSON_NULLABLE, req ? 1 : 0,
				 wi_field[i].max, (const char **)((char *)w + wi_field[i].off), NULL, 0);
	}
	return bad;
}

/*
 * The references of a work item's fields (category, priority, employer,
 * assignee) and the job-order rule on cat and emp, the values the item
 * will have (cat NULL: an edit that does not make it one, not judged);
 * every error collected.  The rule is checked once category and
 * employer are sound, or (whole) only when nothing else is wrong.  0, or -1.
 */
static int wi_refs(route_call *a, const wi_in *w, const char *cat, const char *emp, int whole)
{
	node *n = API_NODE(a);
	json_err e = {{0}, {0}};
	int bad = 0;

	if (w->cat && check_list_ref(n, "work_item_categories", w->cat, "category_id", &e))
		bad = route_err_json(a, &e);
	if (w->pri && !route_has_err(a, "priority_id") &&
	    check_list_ref(n, "work_item_priorities", w->pri, "priority_id", &e))
		bad = route_err_json(a, &e);
	if (w->emp && check_employer_link(n, w->emp, &e))
		bad = route_err_json(a, &e);
	if ((whole ? a->rc_nerr == 0
		   : !route_has_err(a, "category_id") && !route_has_err(a, "employer_id")) &&
	    check_job_order_link(n, cat, emp, &e))
		bad = route_err_json(a, &e);
	if (w->asg && crm__check_assignee(n, w->asg, "assignee_id", &e))
		bad = route_err_json(a, &e);
	return bad;
}

static route_rc post_work_item(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	wi_in w;
	char id[UUID_STRLEN], ts[HLC_STRLEN], pdef[64] = "";
	uint64_t now;
	route_rc rr;
	int bad = 0;

	/* Every field's error at once (the form shows them all). */
	bad |= wi_fields(a, 1, &w);
	if (w.pri == NULL || w.pri[0] == '\0') {
		db_text(n->nd_db, "SELECT id FROM work_item_priorities WHERE is_default=1 AND active=1 AND ?1 IS NOT NULL",
			"x", pdef, sizeof pdef);
		w.pri = pdef;
	}
	if (w.status == NULL || w.status[0] == '\0')
		w.status = CRM_WI_NEW;
	if (!route_has_err(a, "status") &&
	    (crm_valid_wi_status(w.status) != 0 || strcmp(w.status, CRM_WI_CLOSED) == 0))
		bad = route_err(a, "status", "a new work item is New or In Progress");
	if (w.due && w.due[0] == '\0')
		w.due = NULL;
	if (w.due && json_valid_date(w.due) != 0)
		bad = route_err(a, "due_date", "due date must be a date (YYYY-MM-DD)");
	if (w.emp && w.emp[0] == '\0')
		w.emp = NULL;
	if (w.asg == NULL || w.asg[0] == '\0')
		w.asg = route_has_err(a, "assignee_id") ? NULL : u->id;
	if (wi_refs(a, &w, w.cat, w.emp, 0) | bad)
		return ROUTE_BAD;
	if ((rr = job_order_item_vetted(a, w.cat, w.emp)) != ROUTE_OK)
		return rr;
	now = crm__new_row(n, id, ts);
	if (db_run(n->nd_db,
		   "INSERT INTO work_items(id, employer_id, category_id, priority_id, status, due_date,"
		   " description, assignee_id, created_by, office_id, created_at, deleted, updated_hlc)"
		   " VALUES(?,?,?,?,?,?,?,?,?,?,?,0,?)",
		   "ttttttttttIt", id, w.emp, w.cat, w.pri, w.status, w.due, w.desc, w.asg, u->id, n->nd_office_id,
		   (int64_t)now, ts) != 0)
		return ROUTE_DBERR;
	log_info("crm: work item %s created", id);
	return route_ok(a, 201, wi_json(n, id));
}

/* One column update inside the caller's captured write; only when it changes. */
static int set_col(node *n, const char *id, const char *col, const char *val)
{
	char sql[160], ts[HLC_STRLEN];

	snprintf(sql, sizeof sql, "UPDATE work_items SET %s=?1, updated_hlc=?2 WHERE id=?3 AND %s IS NOT ?1",
		 col, col);
	hlc_now(&n->nd_hlc, ts);
	return db_run(n->nd_db, sql, "ttt", val, ts, id);
}

/* A work item's edit as sent: the fields, and whether the clearable ones
 * (due date, employer) were sent at all. */
typedef struct wi_edit {
	wi_in w;
	int has_due, has_emp;
} wi_edit;

/* The fields of an edit, every format error collected: 0, or -1. */
static int wi_edit_read(route_call *a, wi_edit *ed)
{
	wi_in *w = &ed->w;
	int ferr = wi_fields(a, 0, w);

	ed->has_due = cJSON_GetObjectItemCaseSensitive(a->rc_body, "due_date") != NULL;
	ed->has_emp = cJSON_GetObjectItemCaseSensitive(a->rc_body, "employer_id") != NULL;
	if (w->due && w->due[0] == '\0')
		w->due = NULL;
	if (w->emp && w->emp[0] == '\0')
		w->emp = NULL;
	if (w->status && crm_valid_wi_status(w->status) != 0)
		ferr = route_err(a, "status", "status must be New, In Progress or Closed");
	if (w->desc && w->desc[0] == '\0')
		ferr = route_err(a, "description", "description is required");
	if (w->due && json_valid_date(w->due) != 0)
		ferr = route_err(a, "due_date", "due date must be a date (YYYY-MM-DD)");
	return ferr;
}

/* May this user make this edit of the item cur?  ROUTE_OK, or the 409/403:
 * closed is final, a closed item is a record of work done (none of its
 * fields is sent; the edit that closes it may change them), and the status
 * is the assignee's or the creator's. */
static route_rc wi_edit_allowed(route_call *a, const wi_edit *ed, const cJSON *cur)
{
	const wi_in *w = &ed->w;
	const char *from = json_str(cur, "status");

	if (w->status) {
		if (crm_wi_transition(from, w->status) != 0)
			return route_fail(a, 409, "status", "a closed work item cannot be reopened");
		if (strcmp(from, w->status) != 0 &&
		    !crm_wi_may_work(API_USER(a)->id, json_str(cur, "assignee_id"),
				     json_str(cur, "created_by")))
			return route_fail(a, 403, "status",
					  "only the assignee or the creator changes the status of a work item");
	}
	if (strcmp(from, CRM_WI_CLOSED) == 0)
		for (size_t i = 0; i < sizeof wi_field / sizeof wi_field[0]; i++)
			if (wi_field[i].off != offsetof(wi_in, status) &&
			    cJSON_GetObjectItemCaseSensitive(a->rc_body, wi_field[i].name) != NULL)
				return route_fail(a, 409, wi_field[i].name,
						  "this work item is closed, a record of work done: its %s"
						  " is not changed (notes can still be added)",
						  wi_field[i].label);
	return ROUTE_OK;
}

/* The columns the edit changes, and the closing when it closes the item
 * (from: its status before).  0 or -1. */
static int wi_edit_store(route_call *a, const char *id, const wi_edit *ed, const char *from)
{
	node *n = API_NODE(a);
	const wi_in *w = &ed->w;

	if ((w->cat && set_col(n, id, "category_id", w->cat)) ||
	    (w->pri && set_col(n, id, "priority_id", w->pri)) ||
	    (ed->has_due && set_col(n, id, "due_date", w->due)) ||
	    (w->desc && set_col(n, id, "description", w->desc)) ||
	    (ed->has_emp && set_col(n, id, "employer_id", w->emp)) ||
	    (w->asg && set_col(n, id, "assignee_id", w->asg)) ||
	    (w->status && set_col(n, id, "status", w->status)))
		return -1;
	if (w->status && strcmp(w->status, CRM_WI_CLOSED) == 0 && strcmp(from, CRM_WI_CLOSED) != 0) {
		if (db_run(n->nd_db, "UPDATE work_items SET closed_at=?, closed_by=? WHERE id=?", "Itt",
			   (int64_t)node_now_ms(n), API_USER(a)->id, id) != 0)
			return -1;
		log_info("crm: work item %s closed", id);
	}
	return 0;
}

/*
 * PATCH /api/v1/crm/work-items/:id: any CRM staff may re-assign, re-date,
 * re-prioritise or re-link an open item; the status is changed by the
 * assignee or the creator ("on your own items").  Closed is final.
 */
static route_rc patch_work_item(route_call *a)
{
	const char *id = http_req_param(a->rc_req, "id");
	cJSON *cur = NULL;
	wi_edit ed;
	route_rc rr;

	/* Every field's error at once. */
	if (wi_edit_read(a, &ed) != 0)
		return ROUTE_BAD;
	cur = wi_json(API_NODE(a), id);
	if (cur == NULL || cJSON_GetObjectItem(cur, "deleted")->valueint)
		rr = route_fail(a, 404, "id", "no such work item");
	else
		rr = wi_edit_allowed(a, &ed, cur);
	if (rr == ROUTE_OK) {
		const char *cat = ed.w.cat ? ed.w.cat : json_str(cur, "category_id");
		const char *emp = ed.has_emp ? ed.w.emp : json_str(cur, "employer_id");
		const char *was = json_str(cur, "employer_id"), *was_cat = json_str(cur, "category_id");
		/* The job-order rules (a lead's, the vetting's) judge an edit
		 * that makes the item one: it sets the category or the employer
		 * link (resending the value it has is no change), as the hub
		 * holds (crm__hub_check_job_order_item).  The other edits of an
		 * item made before the rules go through. */
		int makes = (ed.w.cat && (was_cat == NULL || strcmp(ed.w.cat, was_cat) != 0)) ||
			    (ed.has_emp && emp && (was == NULL || strcmp(emp, was) != 0));

		if (wi_refs(a, &ed.w, makes ? cat : NULL, emp, 1) != 0)
			rr = ROUTE_BAD;
		else if (makes)
			rr = job_order_item_vetted(a, cat, emp);
	}
	if (rr == ROUTE_OK && wi_edit_store(a, id, &ed, json_str(cur, "status")) != 0)
		rr = ROUTE_DBERR;
	if (rr == ROUTE_OK)
		rr = route_ok(a, 200, wi_json(API_NODE(a), id));
	cJSON_Delete(cur);
	return rr;
}

/* ROUTE_OK when work item id is held, not deleted, and the user is its
 * assignee or creator; else the 404, or the 403 (field, msg) replied. */
static route_rc wi_workable(route_call *a, const char *id, const char *field, const char *msg)
{
	const node_user *u = API_USER(a);
	cJSON *cur = wi_json(API_NODE(a), id);
	int may;

	if (cur == NULL || cJSON_GetObjectItem(cur, "deleted")->valueint) {
		cJSON_Delete(cur);
		return route_fail(a, 404, "id", "no such work item");
	}
	may = crm_wi_may_work(u->id, json_str(cur, "assignee_id"), json_str(cur, "created_by"));
	cJSON_Delete(cur);
	return may ? ROUTE_OK : route_fail(a, 403, field, "%s", msg);
}

/* DELETE /api/v1/crm/work-items/:id: a soft delete (the row stays, deleted
 * = 1, so a concurrent edit elsewhere never meets a missing row). */
static route_rc delete_work_item(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const char *id = http_req_param(req, "id");
	char ts[HLC_STRLEN];
	route_rc rr;

	if ((rr = wi_workable(a, id, "id", "only the assignee or the creator deletes a work item")) !=
	    ROUTE_OK)
		return rr;
	hlc_now(&n->nd_hlc, ts);
	/* The row as this office saw it goes with the delete (deleted_seen, the
	 * values an UPDATE's old values leave out): the hub keeps the row when
	 * another office's edit reached it that this one had not seen. */
	{
		char expr[2048], sql[2200];

		if (schema_soft_seen_expr(n->nd_db, "work_items", expr, sizeof expr) != 0 ||
		    (size_t)snprintf(sql, sizeof sql,
				     "UPDATE work_items SET deleted=1, deleted_seen=%s, updated_hlc=?1"
				     " WHERE id=?2",
				     expr) >= sizeof sql ||
		    db_run(n->nd_db, sql, "tt", ts, id) != 0)
			return ROUTE_DBERR;
	}
	log_info("crm: work item %s deleted", id);
	return route_ok(a, 200, wi_json(n, id));
}

static const route_key note_keys_rk[] = {
	{"body", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

static route_rc post_note(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id"), *text;
	const node_user *u = API_USER(a);
	char nid[UUID_STRLEN], text_buf[JSON_TEXT_BYTES(CRM_NOTE_MAX)];
	uint64_t now = node_now_ms(n);
	route_rc rr;

	if (route_str(a, "body", JSON_REQUIRED, 1, CRM_NOTE_MAX, &text, text_buf, sizeof text_buf) != 0)
		return ROUTE_BAD;
	if ((rr = wi_workable(a, id, "body", "notes are added by the assignee or the creator")) !=
	    ROUTE_OK)
		return rr;
	uuid7_at(nid, now);
	if (db_run(n->nd_db,
		   "INSERT INTO work_item_notes(id, work_item_id, staff_id, body, created_at)"
		   " VALUES(?,?,?,?,?)", "ttttI", nid, id, u->id, text, (int64_t)now) != 0)
		return ROUTE_DBERR;
	return route_ok(a, 201, wi_json(n, id));
}

static const route_def crm_work_defs[] = {
	{HTTP_M_GET, "/api/v1/crm/work-items/due-today", get_due_today, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/work-items", list_work_items, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/crm/work-items", post_work_item, PRIV_CRM, ROUTE_BODY | NODE_WRITE, wi_keys_rk, 0},
	{HTTP_M_GET, "/api/v1/crm/work-items/:id", get_work_item, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_PATCH, "/api/v1/crm/work-items/:id", patch_work_item, PRIV_CRM, ROUTE_BODY | NODE_WRITE, wi_keys_rk, 0},
	{HTTP_M_DELETE, "/api/v1/crm/work-items/:id", delete_work_item, PRIV_CRM, NODE_WRITE, NULL, 0},
	{HTTP_M_POST, "/api/v1/crm/work-items/:id/notes", post_note, PRIV_CRM, ROUTE_BODY | NODE_WRITE, note_keys_rk, 0},
};

const route_list crm_work_route_list = ROUTE_LIST(crm_work_defs);
