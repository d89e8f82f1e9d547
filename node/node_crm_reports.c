/*
 * node_crm_reports.c - the CRM's JSON API, part 4: reports, as JSON (for the
 * page's tables and charts) and CSV.
 *
 *   /api/v1/crm/reports/work-items   work items linked to an employer (an
 *       unlinked item is left out of CRM reports) by owner, assignee,
 *       category, status, dates and account type
 *   /api/v1/crm/reports/services     Services Provided Employer: E-codes by
 *       employer, staff and period, rolled up by DOL category
 *   /api/v1/crm/reports/employers    employers by account type, office,
 *       owner and source
 *
 * Every filter is a bound parameter; an empty one means "any".
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "lib/clock.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct rfilter {
	char from[11], to[11];
	char owner[64], assignee[64], staff[64], category[64], status[16], type[16], code[16],
		office[64], date[16], format[8];
} rfilter;

/* The report's filters from the query, every error collected: 0 or -1. */
static int read_filter(route_call *a, rfilter *f)
{
	http_req *req = a->rc_req;
	const node_user *u = API_USER(a);
	int bad = 0;

	memset(f, 0, sizeof *f);
	bad |= route_qdate(a, "from", f->from);
	bad |= route_qdate(a, "to", f->to);
	if (!bad && f->from[0] && f->to[0] && strcmp(f->from, f->to) > 0)
		bad = route_err(a, "from", "from must not be after to");
	http_req_query(req, "owner", f->owner, sizeof f->owner);
	http_req_query(req, "assignee", f->assignee, sizeof f->assignee);
	http_req_query(req, "staff", f->staff, sizeof f->staff);
	http_req_query(req, "category_id", f->category, sizeof f->category);
	http_req_query(req, "status", f->status, sizeof f->status);
	http_req_query(req, "account_type", f->type, sizeof f->type);
	http_req_query(req, "code", f->code, sizeof f->code);
	http_req_query(req, "office_id", f->office, sizeof f->office);
	http_req_query(req, "date", f->date, sizeof f->date);
	http_req_query(req, "format", f->format, sizeof f->format);
	if (strcmp(f->owner, "me") == 0)
		snprintf(f->owner, sizeof f->owner, "%s", u->id);
	if (strcmp(f->assignee, "me") == 0)
		snprintf(f->assignee, sizeof f->assignee, "%s", u->id);
	if (strcmp(f->staff, "me") == 0)
		snprintf(f->staff, sizeof f->staff, "%s", u->id);
	if (strcmp(f->owner, "all") == 0)
		f->owner[0] = '\0';
	if (strcmp(f->type, "all") == 0)
		f->type[0] = '\0';
	if (f->type[0] && crm_valid_account_type(f->type) != 0)
		bad = route_err(a, "account_type", "account_type must be lead, recruiting or all");
	if (strcmp(f->status, "all") == 0)
		f->status[0] = '\0';
	if (f->status[0] && strcmp(f->status, "open") != 0 && crm_valid_wi_status(f->status) != 0)
		bad = route_err(a, "status", "status must be open, New, In Progress, Closed or all");
	if (f->date[0] == '\0')
		snprintf(f->date, sizeof f->date, "created");
	if (strcmp(f->date, "created") != 0 && strcmp(f->date, "due") != 0 &&
	    strcmp(f->date, "closed") != 0)
		bad = route_err(a, "date", "date must be created, due or closed");
	if (f->format[0] && strcmp(f->format, "csv") != 0 && strcmp(f->format, "json") != 0)
		bad = route_err(a, "format", "format must be json or csv");
	return bad;
}

/* The filters a report's SQL binds, as ?1, ?2, ... in this order. */
#define RF(m) offsetof(rfilter, m)
#define RF_END ((size_t)-1)

static void bind_filter(sqlite3_stmt *st, const size_t *binds, const rfilter *f)
{
	for (int i = 0; binds[i] != RF_END; i++)
		sqlite3_bind_text(st, i + 1, (const char *)f + binds[i], -1, SQLITE_STATIC);
}

/* One table of a report's JSON: its name and its query. */
typedef struct rgroup {
	const char *name, *sql;
} rgroup;

/* A report: its CSV (file name, head line, query of ncol columns), its JSON
 * tables (ended by {NULL}), the table whose counts make "total", and the
 * filters its queries bind. */
typedef struct report {
	const char *file, *head, *csv_sql;
	int ncol;
	rgroup groups[7];
	const char *total_of;
	size_t binds[9];
} report;

/* A report as CSV: head, then every row of the CSV query as ncol fields.
 * A failed step or a full buffer is an error, never a short file. */
static route_rc report_csv(route_call *a, const report *r, const rfilter *f)
{
	sqlite3_stmt *st;
	int rc;

	route_csv(a, r->file, CRM_CSV_MAX);
	route_put(a, r->head);
	if (db_prepare(API_NODE(a)->nd_db, &st, r->csv_sql) != 0)
		return ROUTE_DBERR;
	bind_filter(st, r->binds, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (int i = 0; i < r->ncol; i++)
			route_csv_col(a, st, i, i == r->ncol - 1);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ROUTE_OK : ROUTE_DBERR;
}

static cJSON *group_rows(node *n, const char *sql, const size_t *binds, const rfilter *f)
{
	sqlite3_stmt *st;
	cJSON *arr;

	if (db_prepare(n->nd_db, &st, sql) != 0)
		return NULL;
	bind_filter(st, binds, f);
	arr = db_rows_json(st);
	sqlite3_finalize(st);
	return arr;
}

/* A report's route: its CSV (format=csv), else its JSON tables and total. */
static route_rc run_report(route_call *a, const report *r)
{
	node *n = API_NODE(a);
	rfilter f;
	cJSON *o, *it;
	int total = 0;

	if (read_filter(a, &f) != 0)
		return ROUTE_BAD;
	if (strcmp(f.format, "csv") == 0)
		return report_csv(a, r, &f);
	o = cJSON_CreateObject();
	for (const rgroup *g = r->groups; g->name; g++) {
		cJSON *arr = group_rows(n, g->sql, r->binds, &f);
		if (arr == NULL) {
			cJSON_Delete(o);
			return ROUTE_DBERR;
		}
		cJSON_AddItemToObject(o, g->name, arr);
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(o, r->total_of))
		total += cJSON_GetObjectItem(it, "count")->valueint;
	cJSON_AddNumberToObject(o, "total", total);
	return route_ok(a, 200, o);
}

/* ---- work items ------------------------------------------------------------ */

#define WI_REPORT_FROM                                                                        \
	" FROM work_items w JOIN employers e ON e.id = w.employer_id"                           \
	" LEFT JOIN work_item_categories cat ON cat.id = w.category_id"                         \
	" LEFT JOIN work_item_priorities pri ON pri.id = w.priority_id"                         \
	" LEFT JOIN staff a ON a.id = w.assignee_id LEFT JOIN staff ow ON ow.id = e.lead_owner_id" \
	" WHERE w.deleted = 0"                                                                    \
	" AND (?1 = '' OR e.lead_owner_id = ?1) AND (?2 = '' OR w.assignee_id = ?2)"            \
	" AND (?3 = '' OR w.category_id = ?3)"                                                  \
	" AND (?4 = '' OR (?4 = 'open' AND w.status <> 'Closed') OR w.status = ?4)"             \
	" AND (?5 = '' OR e.account_type = ?5)"                                                 \
	" AND (?6 = '' OR (CASE ?8 WHEN 'due' THEN w.due_date WHEN 'closed' THEN"               \
	"   date(w.closed_at / 1000, 'unixepoch', 'localtime')"                                 \
	"   ELSE date(w.created_at / 1000, 'unixepoch', 'localtime') END) >= ?6)"              \
	" AND (?7 = '' OR (CASE ?8 WHEN 'due' THEN w.due_date WHEN 'closed' THEN"               \
	"   date(w.closed_at / 1000, 'unixepoch', 'localtime')"                                 \
	"   ELSE date(w.created_at / 1000, 'unixepoch', 'localtime') END) <= ?7)"

static const report wi_report = {
	"crm-work-items.csv",
	"work_item_id,employer,account_type,lead_owner,category,priority,status,"
	"due_date,assignee,created,closed,description\r\n",
	"SELECT w.id, e.company_name, e.account_type, ow.display_name, cat.name,"
	" pri.name, w.status, w.due_date, a.display_name,"
	" date(w.created_at / 1000, 'unixepoch', 'localtime'),"
	" date(w.closed_at / 1000, 'unixepoch', 'localtime'), w.description"
	WI_REPORT_FROM " ORDER BY w.created_at",
	12,
	{{"by_status", "SELECT w.status AS label, count(*) AS count" WI_REPORT_FROM
		       " GROUP BY w.status ORDER BY count DESC"},
	 {"by_category", "SELECT coalesce(cat.name, w.category_id) AS label, count(*) AS count"
			 WI_REPORT_FROM " GROUP BY 1 ORDER BY count DESC"},
	 {"by_assignee", "SELECT coalesce(a.display_name, w.assignee_id, '(unassigned)') AS label,"
			 " count(*) AS count, sum(w.status <> 'Closed') AS open" WI_REPORT_FROM
			 " GROUP BY 1 ORDER BY count DESC"},
	 {"by_owner", "SELECT coalesce(ow.display_name, e.lead_owner_id, '(none)') AS label,"
		      " count(*) AS count" WI_REPORT_FROM " GROUP BY 1 ORDER BY count DESC"},
	 {"by_account_type", "SELECT e.account_type AS label, count(*) AS count" WI_REPORT_FROM
			     " GROUP BY 1 ORDER BY count DESC"},
	 {"items", "SELECT w.id, upper(substr(w.id, -6)) AS ref, w.employer_id,"
		   " e.company_name AS employer_name, e.account_type, cat.name AS category,"
		   " pri.name AS priority, w.status, w.due_date, a.display_name AS assignee_name,"
		   " ow.display_name AS lead_owner_name, w.created_at, w.closed_at, w.description"
		   WI_REPORT_FROM " ORDER BY w.created_at DESC LIMIT 1000"},
	 {NULL, NULL}},
	"by_status",
	{RF(owner), RF(assignee), RF(category), RF(status), RF(type), RF(from), RF(to), RF(date),
	 RF_END},
};

static route_rc report_work_items(route_call *a)
{
	return run_report(a, &wi_report);
}

/* ---- services provided employer -------------------------------------------------- */

#define SVC_REPORT_FROM                                                                       \
	" FROM employer_services s JOIN employers e ON e.id = s.employer_id"                    \
	" LEFT JOIN employer_activity_codes c ON c.code = s.code"                               \
	" LEFT JOIN staff st ON st.id = s.staff_id"                                             \
	" WHERE" CRM_SERVICE_EFFECTIVE("s")                                                      \
	" AND (?1 = '' OR s.start_date >= ?1) AND (?2 = '' OR s.start_date <= ?2)"              \
	" AND (?3 = '' OR s.staff_id = ?3) AND (?4 = '' OR s.code = ?4)"                        \
	" AND (?5 = '' OR e.account_type = ?5) AND (?6 = '' OR s.office_id = ?6)"               \
	" AND (?7 = '' OR e.lead_owner_id = ?7)"

static const report svc_report = {
	"crm-services-provided-employer.csv",
	"service_id,employer,account_type,code,title,dol_category,"
	"dol_category_name,start_date,end_date,completion_code,staff,office\r\n",
	"SELECT s.id, e.company_name, e.account_type, s.code, c.title, c.dol_category,"
	" c.dol_category_name, s.start_date, s.end_date, s.completion_code,"
	" st.display_name, s.office_id" SVC_REPORT_FROM " ORDER BY s.start_date, e.company_name",
	12,
	{{"by_dol_category", "SELECT coalesce(c.dol_category, '(none)') AS dol_category,"
			     " coalesce(c.dol_category_name, 'No DOL category') AS label,"
			     " count(*) AS count, count(DISTINCT s.employer_id) AS employers"
			     SVC_REPORT_FROM " GROUP BY 1 ORDER BY count DESC"},
	 {"by_code", "SELECT s.code, coalesce(c.title, s.code) AS label,"
		     " c.dol_category, count(*) AS count, count(DISTINCT s.employer_id) AS employers"
		     SVC_REPORT_FROM " GROUP BY s.code ORDER BY count DESC, s.code"},
	 {"by_staff", "SELECT coalesce(st.display_name, s.staff_id) AS label, count(*) AS count"
		      SVC_REPORT_FROM " GROUP BY s.staff_id ORDER BY count DESC"},
	 {"by_employer", "SELECT s.employer_id, e.company_name AS label, e.account_type,"
			 " count(*) AS count, group_concat(DISTINCT s.code) AS codes"
			 SVC_REPORT_FROM " GROUP BY s.employer_id ORDER BY count DESC LIMIT 500"},
	 {NULL, NULL}},
	"by_dol_category",
	{RF(from), RF(to), RF(staff), RF(code), RF(type), RF(office), RF(owner), RF_END},
};

static route_rc report_services(route_call *a)
{
	return run_report(a, &svc_report);
}

/* ---- employers by account type ------------------------------------------------------ */

#define EMP_REPORT_FROM                                                                        \
	" FROM employers e LEFT JOIN staff ow ON ow.id = e.lead_owner_id"                        \
	" LEFT JOIN offices o ON o.id = e.office_id"                                             \
	" WHERE e.status = 'active' AND (?1 = '' OR e.account_type = ?1)"                        \
	" AND (?2 = '' OR date(e.created_at / 1000, 'unixepoch', 'localtime') >= ?2)"            \
	" AND (?3 = '' OR date(e.created_at / 1000, 'unixepoch', 'localtime') <= ?3)"            \
	" AND (?4 = '' OR e.lead_owner_id = ?4) AND (?5 = '' OR e.office_id = ?5)"

static const report emp_report = {
	"crm-employers.csv",
	"employer_id,company_name,account_type,username,zip,city,industry,"
	"lead_owner,office,source,vetting_status,created\r\n",
	"SELECT e.id, e.company_name, e.account_type, e.username, e.zip, e.city,"
	" e.industry, ow.display_name, o.name, e.source, e.vetting_status,"
	" date(e.created_at / 1000, 'unixepoch', 'localtime')" EMP_REPORT_FROM
	" ORDER BY e.account_type, e.company_name COLLATE NOCASE",
	12,
	{{"by_account_type", "SELECT e.account_type AS label, count(*) AS count,"
			     " sum(e.vetting_status = 'pending') AS vetting_pending" EMP_REPORT_FROM
			     " GROUP BY 1 ORDER BY 1"},
	 {"by_office", "SELECT coalesce(o.name, e.office_id) AS label,"
		       " sum(e.account_type = 'lead') AS leads,"
		       " sum(e.account_type = 'recruiting') AS recruiting, count(*) AS count"
		       EMP_REPORT_FROM " GROUP BY e.office_id ORDER BY count DESC"},
	 {"by_owner", "SELECT coalesce(ow.display_name, e.lead_owner_id) AS label,"
		      " sum(e.account_type = 'lead') AS leads,"
		      " sum(e.account_type = 'recruiting') AS recruiting, count(*) AS count"
		      EMP_REPORT_FROM " GROUP BY e.lead_owner_id ORDER BY count DESC LIMIT 200"},
	 {"by_source", "SELECT e.source AS label, count(*) AS count" EMP_REPORT_FROM
		       " GROUP BY 1 ORDER BY count DESC"},
	 {NULL, NULL}},
	"by_account_type",
	{RF(type), RF(from), RF(to), RF(owner), RF(office), RF_END},
};

static route_rc report_employers(route_call *a)
{
	return run_report(a, &emp_report);
}

static const route_def crm_reports_defs[] = {
	{HTTP_M_GET, "/api/v1/crm/reports/work-items", report_work_items, PRIV_REPORTS, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/reports/services", report_services, PRIV_REPORTS, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/reports/employers", report_employers, PRIV_REPORTS, 0, NULL, 0},
};

const route_list crm_reports_route_list = ROUTE_LIST(crm_reports_defs);
