/*
 * node_crm.h - the private module header of the office node's CRM API
 * files: node_crm_util.c (the helpers declared here; it includes no sibling
 * but this header), node_crm_summary.c (one employer for the pages),
 * node_crm_employers.c (list, duplicate check, create, read, edit),
 * node_crm_review.c (conversion, vetting, duplicate flags, notes),
 * node_crm_contacts.c (contacts, locations, the Contacts List),
 * node_crm_services.c (the service plan), node_crm_work.c (work items),
 * node_crm_reports.c (reports), node_crm_attach.c (attachments) and
 * node_crm.c (external employers, the directory, the lists the pages need,
 * seeding).  Not for other modules: each file's route_list is a row of the
 * node's route table (node_api.h).
 *
 * Privileges: reading CRM data needs PRIV_VIEW, writing it PRIV_CRM, the
 * reports PRIV_REPORTS, as each file's route table declares; the
 * dispatcher checks them before the body is read (lib/route.h).
 */
#ifndef OUTPOST_NODE_CRM_H
#define OUTPOST_NODE_CRM_H

#include "node/node.h"
#include "node/node_api.h"
#include "model/capture.h"
#include "model/crm.h"
#include "lib/buf.h"
#include "lib/uuid.h"

#define CRM_PAGE_DEFAULT 50
#define CRM_PAGE_MAX 500
#define CRM_CSV_MAX (64 * 1024 * 1024)
/* A free-text search with more matches than this is answered newest first
 * straight from its FTS index (no sort of every match), with "order":
 * "newest" in the reply; fewer are sorted as the list normally is. */
#define CRM_SEARCH_SORT_MAX 300

/* Every row of st as a JSON array reply (finalizes st). */
route_rc crm__rows(route_call *a, sqlite3_stmt *st);
/* A paged list reply {"items": [...], "limit", "offset", "more"} built from
 * st, which must select limit + 1 rows (finalizes st); with "order":
 * "newest" when newest is set (see CRM_SEARCH_SORT_MAX). */
route_rc crm__page(route_call *a, sqlite3_stmt *st, int limit, int offset, int newest);
/* What a CRM list asks for: the search ?q=, the page (?limit=, 1 to
 * CRM_PAGE_MAX, CRM_PAGE_DEFAULT when absent, and ?offset=) and, for the
 * employer lists, the lead owner and the account type (NULL: all). */
#define CRM_Q_MAX CRM_NAME_MAX       /* characters of a search: a whole company name */
#define CRM_PAT_MAX (8 * CRM_Q_MAX)  /* bytes of a pattern made of one */
typedef struct crm_list {
	char q[JSON_TEXT_BYTES(CRM_Q_MAX)];
	int limit, offset;
	const char *owner, *type;
	char owner_buf[64], type_buf[16];
} crm_list;
/* ?q= and the page into l: 0, or -1 with every error collected. */
int crm__list_args(route_call *a, crm_list *l);
/* ?owner=me|all|ID (def_owner when absent) and ?account_type=lead|
 * recruiting|all into l: 0, or -1 with the error collected. */
int crm__employer_filters(route_call *a, const char *def_owner, crm_list *l);
/*
 * The page of a list query built in sql (released here): ?1, ?2, ... bound
 * in order from the arguments, one type letter each ('t' a text that
 * outlives the call, NULL binds NULL; 'i' an int), those past the last
 * parameter the query uses left out (a filter not in use is not in the
 * SQL).  The query selects l->limit + 1 rows.  See crm__page.
 */
route_rc crm__page_query(route_call *a, const crm_list *l, buf *sql, int newest,
			 const char *types, ...);
/* Matches of an FTS5 phrase in one of the crm_*_fts tables, counted up to
 * cap + 1 (enough to choose a plan); -1 on error. */
int crm__fts_count(node *n, const char *fts_table, const char *phrase, int cap);
/* Staff row check for assignment (CRM work group); 0, or -1 with e set. */
int crm__check_assignee(node *n, const char *staff_id, const char *field, json_err *e);
/* An active staff member (lead owner); 0, or -1 with e set. */
int crm__check_staff(node *n, const char *staff_id, const char *field, json_err *e);
/* The rows of sql with ?1 = key and ?9 = the office's date today (the
 * work-item and job-order columns compute due/open from it): an array, or
 * only the first row (NULL when none); NULL on error. */
cJSON *crm__dated_rows(node *n, const char *sql, const char *key);
cJSON *crm__dated_row(node *n, const char *sql, const char *key);
/* The office a CRM row is recorded at: this node's, else the user's. */
const char *crm__office(const node *n, const node_user *u);
/* Does a row with this id exist in table (a fixed name)?  1, 0, or -1. */
int crm__exists(node *n, const char *table, const char *id);
/* One employer with contacts, locations, services, work items, flags: 1
 * with *out set (caller frees), 0 when there is no such employer, or -1
 * when it or one of its lists could not be read (never a list that only
 * looks empty). */
int crm__employer_load(node *n, const char *id, cJSON **out);
/* Reply that employer with status: ROUTE_OK, the 404 when there is none,
 * or ROUTE_DBERR (a 500) when it could not be read. */
route_rc crm__employer_reply(route_call *a, int status, const char *id);
/*
 * An FTS5 MATCH expression for the word indexes of schema_crm.c: every word
 * of s (letters and digits; other characters separate words) required, the
 * last one as a prefix (it is being typed): "pacific fo" -> "pacific" AND
 * "fo"*.  Returns 0, or -1
 * when s has no word or the expression does not fit (the caller falls back
 * to LIKE).
 */
int crm__fts_query(const char *s, char *out, size_t n);

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

/* ---- node_crm_util.c: what the route files share ------------------------- */

/* A request's bump allocator for trimmed body strings. */
typedef struct arena {
	char a_buf[16384];
	size_t a_used;
} arena;

/* The EF_ indexes of crm_employer_fields (model/crm.h). */
enum {
	EF_NAME, EF_EDD, EF_ZIP, EF_STREET, EF_CITY, EF_STATE, EF_PHONE = 10, EF_INDUSTRY = 13,
	EF_OWNER = 15, EF_STATUS, EF_USERNAME
};
/* The values employer cur (its row as JSON) will have once the fields sent
 * (vals, present: crm__read_fields) are written, sent ones winning, into
 * cv, which borrows from both; account type and status are cur's, contacts
 * are not counted.  For crm_conversion_check and crm_recruiting_kept_check. */
void crm__employer_values(crm_conversion *cv, const cJSON *cur, const char *const *vals,
			  const int *present);
/* What crm__name_search() made of a query. */
enum { NAME_NONE, NAME_FTS, NAME_PREFIX };

int crm__get_str(const cJSON *body, const char *name, int flags, size_t max, const char **out,
		   arena *ar, json_err *e);
int crm__read_fields(const cJSON *body, const crm_field *spec, int nf, const char **vals,
		       int *present, arena *ar, const char *prefix, json_err *e, route_call *a);
int crm__update_changed(node *n, const char *table, const char *id, const crm_field *spec, int nf,
			  const char **vals, const int *present, const char **xcols,
			  const char **xvals, int nx);
int crm__name_search(const char *q, char *pat, size_t n);
/* Dynamic SQL is built in a bounded buf (CRM_SQL_MAX, checked: a query that
 * does not fit fails, it is never cut short; crm__page_query runs it).
 * crm__name_search_sql appends the row ids matching a name search
 * (parameter ?param). */
#define CRM_SQL_MAX 16384
void crm__name_search_sql(buf *sql, int kind, int param);
/* A new contact of employer_id (cv: the contact fields' values), its id
 * into out_id.  0 or -1. */
int crm__insert_contact(node *n, const char *employer_id, const char **cv, const char *actor,
			char out_id[UUID_STRLEN]);
/* A new row's id (UUIDv7) and updated_hlc into id and ts, both of now;
 * returns now (ms), for its created_at. */
uint64_t crm__new_row(node *n, char id[UUID_STRLEN], char ts[HLC_STRLEN]);
int crm__username_taken(node *n, const char *username, const char *except);
cJSON *crm__find_duplicates(node *n, const char *norm, const char *zip5, const char *edd,
			    const char *exclude);
/*
 * SQL condition: the employer service aliased S is in effect - not a void,
 * not replaced by a correction of it, and not a correction that a later one
 * of the same service replaced (two offices correcting one service offline
 * both reach every office: the later one stands, model/crm.h
 * CRM_CORRECTION_LATER, and the hub records the conflict; a later void
 * takes the service away).
 */
#define CRM_SERVICE_EFFECTIVE(S)                                                             \
	" " S ".voided = 0 AND NOT EXISTS (SELECT 1 FROM employer_services x"                   \
	"  WHERE x.corrects_id = " S ".id)"                                                      \
	" AND (" S ".corrects_id IS NULL OR NOT EXISTS (SELECT 1 FROM employer_services y"       \
	"  WHERE y.corrects_id = " S ".corrects_id"                                              \
	"  AND" CRM_CORRECTION_LATER("y", S) "))"
/*
 * A failed vetting locks the employer: no services, referrals, job orders
 * or edits until WSB staff unlock it.  ROUTE_OK when employer_id is not
 * locked (or does not exist: the caller answers its own 404), else the 409
 * with the lock's reason (field "id"), already set on a.
 */
route_rc crm__refuse_locked(route_call *a, const char *employer_id);
/*
 * What waits for WSB staff's vetting of a converted employer (model/crm.h
 * crm_job_order_vetting_check): ROUTE_OK when employer_id's vetting is not
 * pending (or it does not exist: the caller answers its own 404), else the
 * 409 on field naming the vetting state, its message led by lead_in (a code)
 * when not NULL, already set on a; ROUTE_DBERR when it cannot be read.
 */
route_rc crm__refuse_unvetted(route_call *a, const char *employer_id, crm_vetted what,
			      const char *field, const char *lead_in);
/* The shared first step of a write to an employer or to one of its rows:
 * ROUTE_OK when employer_id exists and is not locked, else the 404 (field
 * "id"), the 409 of crm__refuse_locked or ROUTE_DBERR. */
route_rc crm__writable_employer(route_call *a, const char *employer_id);
/* The same for row id of table (a fixed name with an employer_id column),
 * "no such <what>" when it is missing; its employer's id into emp. */
#define CRM_ID_MAX 64
route_rc crm__writable_row(route_call *a, const char *table, const char *what, const char *id,
			   char emp[CRM_ID_MAX]);

/* ---- node_crm_jobs.c ------------------------------------------------------- */

/* The job orders of one employer with their referral counts, and the
 * referrals this node holds (its Local Area's participants, by reference
 * only: no names), for the summary.  NULL on error. */
cJSON *crm__job_orders_of(node *n, const char *employer_id);
cJSON *crm__referrals_of(node *n, const char *employer_id);

#endif
