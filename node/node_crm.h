/*
 * node_crm.h - internals shared by the office node's CRM API files
 * (node_crm.c: employers, leads, contacts, locations, external employers,
 * directory; node_crm_services.c: the service plan; node_crm_work.c: work
 * items; node_crm_reports.c: reports; node_crm_attach.c: attachments).  Not for other modules: they call
 * crm_routes() (node.h).
 *
 * Privileges: reading CRM data needs PRIV_VIEW, writing it PRIV_CRM, the
 * reports PRIV_REPORTS.  Every handler calls crm__user() first.
 */
#ifndef OUTPOST_NODE_CRM_H
#define OUTPOST_NODE_CRM_H

#include "node/node.h"
#include "node/node_auth.h"
#include "model/capture.h"
#include "model/crm.h"
#include "lib/buf.h"

#define CRM_PAGE_DEFAULT 50
#define CRM_PAGE_MAX 500
#define CRM_CSV_MAX (64 * 1024 * 1024)
/* A free-text search with more matches than this is answered newest first
 * straight from its FTS index (no sort of every match), with "order":
 * "newest" in the reply; fewer are sorted as the list normally is. */
#define CRM_SEARCH_SORT_MAX 300

/* The signed-in user when they hold privs, else NULL after replying 401/403. */
const node_user *crm__user(node *n, http_req *req, unsigned privs);
/* 400 with the json_err's field and message. */
void crm__bad(http_req *req, const json_err *e);
/* Integer query parameter in [min, max] (def when absent); -1 after a 400. */
int crm__qint(http_req *req, const char *name, int def, int min, int max, int *out);
/* Date query parameter (YYYY-MM-DD) into out or "" when absent; -1 after a 400. */
int crm__qdate(http_req *req, const char *name, char out[11]);
/* Every row of st as a JSON array reply (finalizes st). */
void crm__reply_rows(node *n, http_req *req, sqlite3_stmt *st);
/* A paged list reply {"items": [...], "limit", "offset", "more"} built from
 * st, which must select limit + 1 rows (finalizes st). */
void crm__reply_page(http_req *req, sqlite3_stmt *st, int limit, int offset);
/* The same with "order": "newest" when newest is set (see
 * CRM_SEARCH_SORT_MAX). */
void crm__reply_page_order(http_req *req, sqlite3_stmt *st, int limit, int offset, int newest);
/* Matches of an FTS5 phrase in one of the crm_*_fts tables, counted up to
 * cap + 1 (enough to choose a plan); -1 on error. */
int crm__fts_count(node *n, const char *fts_table, const char *phrase, int cap);
/* Staff row check for assignment (CRM work group); 0, or -1 with e set. */
int crm__check_assignee(node *n, const char *staff_id, const char *field, json_err *e);
/* An active staff member (lead owner); 0, or -1 with e set. */
int crm__check_staff(node *n, const char *staff_id, const char *field, json_err *e);
/* Does a row with this id exist in table (a fixed name)?  1, 0, or -1. */
int crm__exists(node *n, const char *table, const char *id);
/* One employer with contacts, locations, services, work items, flags. */
cJSON *crm__employer_json(node *n, const char *id);
/* Reply a CSV body (lib/csv.h csv_field) as an attachment named file; a
 * 500 instead when the rows' last step (step_rc) was not SQLITE_DONE or the
 * buffer overflowed (buf_failed): never a truncated 200. */
void crm__reply_csv(http_req *req, buf *b, int step_rc, const char *file);
/* LIKE pattern "%s%" with wildcards escaped (ESCAPE '\'). */
void crm__like(const char *s, char *out, size_t n);
/*
 * An FTS5 MATCH expression for the word indexes of schema_crm.c: every word
 * of s (letters and digits; other characters separate words) required, the
 * last one as a prefix (it is being typed): "pacific fo" -> "pacific" AND
 * "fo"*.  Returns 0, or -1
 * when s has no word or the expression does not fit (the caller falls back
 * to LIKE).
 */
int crm__fts_query(const char *s, char *out, size_t n);

/* Per-file route tables. */
int crm__routes_services(node *n, router *r);
int crm__routes_work(node *n, router *r);
int crm__routes_reports(node *n, router *r);
int crm__routes_attach(node *n, router *r);
/* The attachments of one employer (metadata, newest first; withdrawn ones
 * only when include_withdrawn), for the summary.  NULL on error. */
cJSON *crm__attachments_of(node *n, const char *employer_id, int include_withdrawn);
/* Work items of one employer, for the summary. */
cJSON *crm__work_items_of(node *n, const char *employer_id);
/* The effective service plan of one employer. */
cJSON *crm__services_of(node *n, const char *employer_id);
/*
 * Unresolved replication conflicts (the hub's `conflicts` rows, pulled like
 * any hub-owned row) on rows of table: row_id, or when of_employer is set
 * the rows whose employer_id is row_id.  Each: id, tbl, row_id,
 * column_name, kept_value and other_value (decoded from their JSON form),
 * base_value, created_at, node_id, actor, actor_name.  Never NULL.
 */
cJSON *crm__conflicts_of(node *n, const char *table, const char *row_id, int of_employer);

#endif
