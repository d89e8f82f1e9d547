/*
 * route.c - the dispatcher of declared routes (see route.h for the order
 * it owns and the error shape), and the helpers domain functions build
 * their replies and field errors with.
 */
#include "lib/route.h"
#include "lib/csv.h"
#include "lib/db.h"
#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct route_bound {
	route_table *rb_table;
	const route_def *rb_def;
};

/* ---- registration and lookup ------------------------------------------------------ */

int route_register(router *r, route_table *t, const route_list *l)
{
	struct route_bound *nb, **all;
	size_t i;

	/* One allocation per list: the router keeps pointers into it. */
	if ((nb = calloc(l->rl_n ? l->rl_n : 1, sizeof *nb)) == NULL)
		return -1;
	if ((all = realloc(t->rt_bound, (t->rt_nbound + 1) * sizeof *all)) == NULL) {
		free(nb);
		return -1;
	}
	all[t->rt_nbound++] = nb;
	t->rt_bound = all;
	for (i = 0; i < l->rl_n; i++) {
		const route_def *d = &l->rl_defs[i];
		nb[i].rb_table = t;
		nb[i].rb_def = d;
		if (router_add_body(r, d->rd_method, d->rd_path, route_dispatch, &nb[i],
				    d->rd_max_body) != 0)
			return -1;
	}
	return 0;
}

void route_table_free(route_table *t)
{
	size_t i;

	for (i = 0; i < t->rt_nbound; i++)
		free(t->rt_bound[i]);
	free(t->rt_bound);
	t->rt_bound = NULL;
	t->rt_nbound = 0;
}

route_table *route_table_new(router *r, const route_list *const *lists, const route_ops *ops,
			     void *ctx)
{
	route_table *t = calloc(1, sizeof *t);
	const route_list *const *l;

	if (t == NULL)
		return NULL;
	t->rt_lists = lists;
	t->rt_ops = ops;
	t->rt_ctx = ctx;
	for (l = lists; *l; l++)
		if (route_register(r, t, *l) != 0) {
			route_table_destroy(t);
			return NULL;
		}
	return t;
}

void route_table_destroy(route_table *t)
{
	if (t == NULL)
		return;
	route_table_free(t);
	free(t);
}

/* Does the raw path (up to plen bytes) match the router pattern? */
static int path_match(const char *pat, const char *path, size_t plen)
{
	size_t i = 0;

	for (; *pat; pat++) {
		if (*pat == '*')
			return 1;
		if (*pat == ':' && pat[-1] == '/') {
			size_t start = i;
			while (i < plen && path[i] != '/')
				i++;
			if (i == start)
				return 0;
			while (pat[1] && pat[1] != '/')
				pat++;
			continue;
		}
		if (i >= plen || path[i] != *pat)
			return 0;
		i++;
	}
	return i == plen;
}

/* The first row for m and the raw path; for HEAD, the first HEAD or GET
 * row (as router_dispatch() chooses). */
const route_def *route_find(const route_table *t, http_method m, const char *path)
{
	size_t plen = strcspn(path, "?"), i;
	const route_list *const *l;

	for (l = t->rt_lists; l && *l; l++)
		for (i = 0; i < (*l)->rl_n; i++) {
			const route_def *d = &(*l)->rl_defs[i];
			if ((d->rd_method == m || (m == HTTP_M_HEAD && d->rd_method == HTTP_M_GET)) &&
			    path_match(d->rd_path, path, plen))
				return d;
		}
	return NULL;
}

int route_head_check(const route_table *t, http_req *req, const char **field, const char **msg)
{
	const route_def *d = route_find(t, req->method, req->target);

	*field = NULL;
	*msg = NULL;
	if (d == NULL || (d->rd_flags & ROUTE_PUBLIC) || t->rt_ops->ro_head == NULL)
		return 0;
	return t->rt_ops->ro_head(t->rt_ctx, d, req, field, msg);
}

/* ---- errors ---------------------------------------------------------------------- */

/* msg (valid UTF-8) as the next error: in its json_err as far as it
 * fits, and whole in rc_errs_long when longer. */
static void add_err(route_call *a, const char *field, const char *msg)
{
	size_t len = strlen(msg), cut;
	json_err *e;
	int i;

	if (a->rc_nerr >= ROUTE_ERRS_MAX)
		return;
	i = a->rc_nerr++;
	e = &a->rc_errs[i];
	snprintf(e->field, sizeof e->field, "%s", field ? field : "");
	cut = json_utf8_cut(msg, len, sizeof e->msg - 1);
	memcpy(e->msg, msg, cut);
	e->msg[cut] = '\0';
	/* (no memory for the whole: the part that fits is replied) */
	a->rc_errs_long[i] = cut < len ? strdup(msg) : NULL;
}

/* No error collected. */
static void errs_clear(route_call *a)
{
	for (int i = 0; i < a->rc_nerr; i++) {
		free(a->rc_errs_long[i]);
		a->rc_errs_long[i] = NULL;
	}
	a->rc_nerr = 0;
}

/* add_err with the message formatted from fmt and ap, whole up to
 * ROUTE_MSG_MAX bytes. */
static void add_errv(route_call *a, const char *field, const char *fmt, va_list ap)
{
	char *msg = json_vformat_alloc(ROUTE_MSG_MAX, fmt, ap);

	if (msg == NULL) { /* ap is still unread: the part that fits */
		char part[sizeof a->rc_err.msg];

		json_vformat(part, sizeof part, fmt, ap);
		add_err(a, field, part);
		return;
	}
	add_err(a, field, msg);
	free(msg);
}

int route_err(route_call *a, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_errv(a, field, fmt, ap);
	va_end(ap);
	return -1;
}

route_rc route_bad(route_call *a, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_errv(a, field, fmt, ap);
	va_end(ap);
	return ROUTE_BAD;
}

route_rc route_fail(route_call *a, int status, const char *field, const char *fmt, ...)
{
	va_list ap;

	errs_clear(a);
	va_start(ap, fmt);
	add_errv(a, field, fmt, ap);
	va_end(ap);
	a->rc_status = status;
	return ROUTE_FAIL;
}

int route_err_json(route_call *a, const json_err *e)
{
	if (e->msg[0])
		add_err(a, e->field, e->msg);
	return -1;
}

int route_has_err(const route_call *a, const char *field)
{
	for (int i = 0; i < a->rc_nerr; i++)
		if (strcmp(a->rc_errs[i].field, field) == 0)
			return 1;
	return 0;
}

route_rc route_bad_json(route_call *a, const json_err *e)
{
	route_err_json(a, e);
	return ROUTE_BAD;
}

/* route_reply_errors, error i's message whole[i] when whole and it are
 * not NULL. */
static void reply_errors(http_req *req, int status, const json_err *errs, char *const *whole,
			 int n)
{
	static const char fallback[] = "{\"error\":\"out of memory\"}";
	cJSON *o = cJSON_CreateObject(), *arr, *x;
	char *s = NULL;
	int i, ok = o != NULL;

#define MSG(i) (whole && whole[i] ? whole[i] : errs[i].msg)
	if (ok && !cJSON_AddStringToObject(o, "error", MSG(0)))
		ok = 0;
	if (ok && errs[0].field[0] && !cJSON_AddStringToObject(o, "field", errs[0].field))
		ok = 0;
	if (ok && (arr = cJSON_AddArrayToObject(o, "errors")) == NULL)
		ok = 0;
	for (i = 0; ok && i < n; i++) {
		if ((x = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, x) ||
		    (errs[i].field[0] && !cJSON_AddStringToObject(x, "field", errs[i].field)) ||
		    !cJSON_AddStringToObject(x, "error", MSG(i)))
			ok = 0;
	}
#undef MSG
	if (ok)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s)
		http_reply(req, status, "application/json", s, strlen(s));
	else
		http_reply(req, status, "application/json", fallback, sizeof fallback - 1);
	free(s);
}

void route_reply_errors(http_req *req, int status, const json_err *errs, int n)
{
	reply_errors(req, status, errs, NULL, n);
}

/* ---- body ------------------------------------------------------------------------ */

static const char *const type_msg[] = {
	[ROUTE_T_STR] = "must be a string",      [ROUTE_T_NUM] = "must be a number",
	[ROUTE_T_BOOL] = "must be true or false", [ROUTE_T_ARRAY] = "must be a list",
	[ROUTE_T_OBJECT] = "must be an object",
};

static int type_ok(const cJSON *v, unsigned type)
{
	switch (type) {
	case ROUTE_T_STR: return cJSON_IsString(v);
	case ROUTE_T_NUM: return cJSON_IsNumber(v);
	case ROUTE_T_BOOL: return cJSON_IsBool(v);
	case ROUTE_T_ARRAY: return cJSON_IsArray(v);
	case ROUTE_T_OBJECT: return cJSON_IsObject(v);
	default: return 1;
	}
}

int route_check_body(route_call *a, const cJSON *body, const route_key *keys)
{
	const cJSON *it;
	const route_key *k;
	int bad = 0;

	cJSON_ArrayForEach(it, body)
	{
		const char *name = it->string ? it->string : "";
		for (k = keys; k && k->rk_name; k++)
			if (strcmp(k->rk_name, name) == 0)
				break;
		if (k == NULL || k->rk_name == NULL)
			bad = route_err(a, name, "unknown field '%.40s'", name);
	}
	for (k = keys; k && k->rk_name; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, k->rk_name);
		if (v == NULL || (cJSON_IsNull(v) && (k->rk_flags & ROUTE_K_NULL))) {
			if (k->rk_flags & ROUTE_K_REQUIRED)
				bad = route_err(a, k->rk_name, "%s is required", k->rk_name);
			continue;
		}
		if (cJSON_IsNull(v) && !(k->rk_flags & ROUTE_K_NULL) &&
		    (k->rk_flags & ROUTE_K_REQUIRED)) {
			bad = route_err(a, k->rk_name, "%s is required", k->rk_name);
			continue;
		}
		if (!cJSON_IsNull(v) && k->rk_type != ROUTE_T_ANY && !type_ok(v, k->rk_type))
			bad = route_err(a, k->rk_name, "%s %s", k->rk_name, type_msg[k->rk_type]);
	}
	return bad;
}

int route_str(route_call *a, const char *name, int flags, size_t minlen, size_t maxlen,
	      const char **out, char *tmp, size_t tmplen)
{
	json_err e = {{0}, {0}};

	if (json_get_str(a->rc_body, name, flags, minlen, maxlen, out, tmp, tmplen, &e) == 0)
		return 0;
	return route_err_json(a, &e);
}

int route_int(route_call *a, const char *name, int flags, int64_t min, int64_t max, int64_t *out,
	      int *present)
{
	json_err e = {{0}, {0}};

	if (json_get_int(a->rc_body, name, flags, min, max, out, present, &e) == 0)
		return 0;
	return route_err_json(a, &e);
}

int route_bool(route_call *a, const char *name, int flags, int def, int *out)
{
	json_err e = {{0}, {0}};

	if (json_get_bool(a->rc_body, name, flags, def, out, &e) == 0)
		return 0;
	return route_err_json(a, &e);
}

int route_qint(route_call *a, const char *name, int def, int min, int max, int *out)
{
	char v[32], *end;
	long x;

	*out = def;
	if (!http_req_query(a->rc_req, name, v, sizeof v) || v[0] == '\0')
		return 0;
	x = strtol(v, &end, 10);
	if (*end != '\0' || x < min || x > max)
		return route_err(a, name, "%s must be a whole number from %d to %d", name, min, max);
	*out = (int)x;
	return 0;
}

int route_qdate(route_call *a, const char *name, char out[11])
{
	char v[32];

	out[0] = '\0';
	if (!http_req_query(a->rc_req, name, v, sizeof v) || v[0] == '\0')
		return 0;
	if (json_valid_date(v) != 0)
		return route_err(a, name, "%s must be a date (YYYY-MM-DD)", name);
	memcpy(out, v, 11);
	return 0;
}

int route_qtext(route_call *a, const char *name, size_t max, char *out, size_t n)
{
	int rc = http_req_query_get(a->rc_req, name, out, n);

	if (rc == 0)
		out[0] = '\0';
	if (rc < 0 || json_utf8_chars(out) > max) {
		out[0] = '\0';
		return route_err(a, name, "%s must be text of at most %zu characters", name, max);
	}
	return 0;
}

/* ---- replies --------------------------------------------------------------------- */

route_rc route_ok(route_call *a, int status, cJSON *reply)
{
	cJSON_Delete(a->rc_reply);
	a->rc_reply = reply;
	a->rc_status = status;
	return reply ? ROUTE_OK : ROUTE_DBERR;
}

route_rc route_ok_text(route_call *a, int status, const char *ctype, char *text, size_t len)
{
	free(a->rc_text);
	a->rc_text = text;
	a->rc_textlen = len;
	a->rc_ctype = ctype;
	a->rc_status = status;
	return text ? ROUTE_OK : ROUTE_DBERR;
}

route_rc route_ok_copy(route_call *a, int status, const char *ctype, const void *data, size_t len)
{
	char *text = malloc(len + 1);

	if (text == NULL)
		return ROUTE_DBERR;
	if (len)
		memcpy(text, data, len);
	text[len] = '\0';
	snprintf(a->rc_ctype_buf, sizeof a->rc_ctype_buf, "%s", ctype);
	return route_ok_text(a, status, a->rc_ctype_buf, text, len);
}

route_rc route_ok_etag(route_call *a, const char *etag, int personal, const void *data,
		       size_t len)
{
	if (http_add_header(a->rc_req, "ETag", etag) != 0 ||
	    http_add_header(a->rc_req, "Cache-Control", personal ? "private, no-store" : "no-cache") != 0)
		return ROUTE_DBERR;
	if (http_req_etag_matches(a->rc_req, etag))
		return route_ok_copy(a, 304, "application/json", "", 0);
	return route_ok_copy(a, 200, "application/json", data, len);
}

buf *route_csv(route_call *a, const char *file, size_t max)
{
	char disp[160];

	buf_release(&a->rc_out);
	buf_init(&a->rc_out, max);
	a->rc_out_err = 0;
	a->rc_ctype = "text/csv; charset=utf-8";
	a->rc_status = 200;
	snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", file);
	if (http_add_header(a->rc_req, "Content-Disposition", disp) != 0)
		a->rc_out_err = 1;
	/* A UTF-8 byte-order mark first, so a spreadsheet reads "María" as it is. */
	route_put(a, "\xEF\xBB\xBF");
	return &a->rc_out;
}

void route_put(route_call *a, const char *s)
{
	if (!a->rc_out_err && buf_puts(&a->rc_out, s) != 0)
		a->rc_out_err = 1;
}

void route_csv_field(route_call *a, const char *s, int last)
{
	if (csv_put_field(&a->rc_out, s, last) != 0)
		a->rc_out_err = 1;
}

void route_csv_col(route_call *a, sqlite3_stmt *st, int i, int last)
{
	const char *s = db_col(st, i);

	if (s == NULL)
		a->rc_out_err = 1;
	else
		route_csv_field(a, s, last);
}

/* ---- the dispatcher -------------------------------------------------------------- */

/* The reply's bytes (taken from the call): JSON, text, or the CSV buffer.
 * NULL when it could not be built. */
static char *reply_bytes(route_call *a, size_t *len, const char **ctype)
{
	char *s;

	*ctype = a->rc_ctype;
	if (a->rc_reply) {
		s = cJSON_PrintUnformatted(a->rc_reply);
		*len = s ? strlen(s) : 0;
		*ctype = NULL;
		return s;
	}
	if (a->rc_text) {
		s = a->rc_text;
		*len = a->rc_textlen;
		a->rc_text = NULL;
		return s;
	}
	if (a->rc_ctype && !a->rc_out_err) {
		if (a->rc_out.data == NULL)
			return strdup("");
		*len = a->rc_out.len;
		return buf_detach(&a->rc_out, len);
	}
	return NULL;
}

/*
 * What the log line of a failure names: the database's own message while it
 * still reports the error, else the storage error noted on this thread
 * (lib/dbguard.c; a rollback or a later statement clears the message), else
 * "failed" (the failure was not the database's: no memory, a full reply).
 */
static void failure_text(route_call *a, char *out, size_t n)
{
	const route_ops *ops = a->rc_table->rt_ops;
	const char *m = ops->ro_errmsg ? ops->ro_errmsg(a) : NULL;
	int err = db_peek_error();

	snprintf(out, n, "%s", m ? m : err ? sqlite3_errstr(err) : "failed");
}

/* why: the failure's text when taken before an abort, or NULL (now). */
static void reply_failure(route_call *a, route_rc rc, const char *why)
{
	const route_ops *ops = a->rc_table->rt_ops;
	char now[256];

	if (rc == ROUTE_BAD) {
		if (a->rc_err.msg[0] && a->rc_nerr < ROUTE_ERRS_MAX)
			add_err(a, a->rc_err.field, a->rc_err.msg);
		if (a->rc_nerr == 0)
			add_err(a, NULL, "the request is not valid");
		reply_errors(a->rc_req, 400, a->rc_errs, a->rc_errs_long, a->rc_nerr);
	} else if (rc == ROUTE_FAIL && a->rc_nerr > 0) {
		reply_errors(a->rc_req, a->rc_status, a->rc_errs, a->rc_errs_long, a->rc_nerr);
	} else {
		if (why == NULL) {
			failure_text(a, now, sizeof now);
			why = now;
		}
		log_warnx("%s %s: %s", a->rc_req->method_str, a->rc_route->rd_path, why);
		if (ops->ro_dberr) {
			ops->ro_dberr(a);
		} else {
			/* One mapping for every daemon (lib/dbguard.c): a full disk is 507. */
			int err = db_take_error();
			http_reply_error(a->rc_req, db_http_status(err), NULL, "%s", db_error_text(err));
		}
	}
}

/* rc, or ROUTE_BAD naming the query parameter the route read that was too
 * long for it: read as absent, it would have dropped a filter (a list
 * widened) or a choice; the write that followed is undone. */
static route_rc query_fit(route_call *a, route_rc rc)
{
	const char *name = a->rc_req->query_long;

	if (rc != ROUTE_OK || name[0] == '\0')
		return rc;
	route_err(a, name, "%s is too long", name);
	return ROUTE_BAD;
}

/* Steps 3 to 6 for a write: the function (fn) inside the daemon's transaction. */
static void run_write(route_call *a, const route_ops *ops, route_fn fn)
{
	route_rc rc;
	const char *ctype = NULL;
	size_t len = 0;
	char *body = NULL;

	if (ops->ro_begin(a) != 0) {
		reply_failure(a, ROUTE_DBERR, NULL);
		return;
	}
	rc = query_fit(a, fn(a));
	if (rc == ROUTE_TAKEN)
		rc = ROUTE_DBERR; /* a write is always answered through ro_commit */
	if (rc == ROUTE_OK && a->rc_nerr > 0)
		rc = ROUTE_BAD; /* ROUTE_KEYS_LATE: the body's key errors, found before */
	if (rc == ROUTE_OK && (a->rc_route->rd_flags & ROUTE_AUDITED) &&
	    (ops->ro_audit == NULL || a->rc_audit_action == NULL || ops->ro_audit(a) != 0))
		rc = ROUTE_DBERR; /* an audited action never commits without its row */
	/* A reply that could not be built (a full CSV buffer, no memory) undoes
	 * the write: the client is never told less than what was committed. */
	if (rc == ROUTE_OK && (body = reply_bytes(a, &len, &ctype)) == NULL)
		rc = ROUTE_DBERR;
	if (rc != ROUTE_OK) {
		char why[256];

		failure_text(a, why, sizeof why); /* before the abort clears it */
		ops->ro_abort(a);
		reply_failure(a, rc, why);
		return;
	}
	ops->ro_commit(a, a->rc_status, ctype, body, len);
}

/* Steps 4 and 6 for a read: fn's reply sent at once (none when it took
 * the request). */
static void run_read(route_call *a, route_fn fn)
{
	route_rc rc = query_fit(a, fn(a));
	const char *ctype;
	size_t len = 0;
	char *body;

	if (rc == ROUTE_TAKEN)
		return;
	if (rc != ROUTE_OK) {
		reply_failure(a, rc, NULL);
		return;
	}
	if ((body = reply_bytes(a, &len, &ctype)) == NULL) {
		reply_failure(a, ROUTE_DBERR, NULL);
		return;
	}
	http_reply(a->rc_req, a->rc_status, ctype ? ctype : "application/json", body, len);
	free(body);
}

/* Does req say its body is JSON? */
static int json_ctype(http_req *req)
{
	const char *ct = http_req_header(req, "content-type");

	return ct != NULL && strncasecmp(ct, "application/json", 16) == 0;
}

static void call_init(route_call *a, const route_table *t, const route_def *d, http_req *req)
{
	memset(a, 0, sizeof *a);
	a->rc_ctx = t->rt_ctx;
	a->rc_req = req;
	a->rc_route = d;
	a->rc_status = 200;
	buf_init(&a->rc_out, 0);
	a->rc_table = t;
}

static void call_free(route_call *a)
{
	errs_clear(a);
	free(a->rc_text);
	buf_release(&a->rc_out);
	cJSON_Delete(a->rc_reply);
	cJSON_Delete(a->rc_audit);
	cJSON_Delete(a->rc_body);
}

void route_dispatch(http_req *req, void *ctx)
{
	struct route_bound *b = ctx;
	const route_def *d = b->rb_def;
	const route_ops *ops = b->rb_table->rt_ops;
	route_call a;

	call_init(&a, b->rb_table, d, req);
	if (ops->ro_auth(&a) != 0)
		goto out; /* 401/403 sent */
	{
		/* A parameter that is not text is refused, never read as absent
		 * (a filter dropped would widen a list). */
		char bad[64];

		if (!http_req_query_text(req, bad, sizeof bad)) {
			http_reply_error(req, 400, bad[0] ? bad : NULL,
					 "a query parameter is not text (percent-encoded UTF-8)");
			goto out;
		}
	}
	if ((d->rd_flags & ROUTE_JSON_ONLY) && !json_ctype(req)) {
		http_reply_error(req, 415, NULL, "send it as application/json");
		goto out;
	}
	if ((d->rd_flags & ROUTE_BODY) && !((d->rd_flags & ROUTE_BODY_OPT) && req->body.len == 0)) {
		if ((a.rc_body = http_req_json(req, 1)) == NULL)
			goto out; /* 400 sent */
		if (route_check_body(&a, a.rc_body, d->rd_keys) != 0 &&
		    (d->rd_flags & (ROUTE_KEYS_LATE | ROUTE_WRITE)) !=
			(ROUTE_KEYS_LATE | ROUTE_WRITE)) {
			reply_failure(&a, ROUTE_BAD, NULL);
			goto out;
		}
	}
	if (d->rd_flags & ROUTE_WRITE)
		run_write(&a, ops, d->rd_fn);
	else
		run_read(&a, d->rd_fn);
out:
	call_free(&a);
}

/* A new call on row d for req, as the caller it resumes (user, actor,
 * arg): fn run as a write or as a read. */
static void resume(const route_table *t, const route_def *d, http_req *req, const void *user,
		   const char *actor, route_fn fn, void *arg, int write)
{
	route_call a;

	call_init(&a, t, d, req);
	a.rc_user = user;
	a.rc_actor = actor;
	a.rc_arg = arg;
	if (write)
		run_write(&a, t->rt_ops, fn);
	else
		run_read(&a, fn);
	call_free(&a);
}

void route_resume_write(const route_table *t, const route_def *d, http_req *req,
			const void *user, const char *actor, route_fn fn, void *arg)
{
	resume(t, d, req, user, actor, fn, arg, 1);
}

void route_resume_read(const route_table *t, const route_def *d, http_req *req,
		       const void *user, const char *actor, route_fn fn, void *arg)
{
	resume(t, d, req, user, actor, fn, arg, 0);
}
