/*
 * route.h - declared routes: the handler contract of both daemons.
 *
 * A daemon declares each of its routes as one row of a static table
 * (route_def): method, path pattern (router syntax, see http.h), the
 * privilege it needs, its flags, its body cap and the body keys it allows.
 * One dispatcher (route_dispatch, registered for every row by
 * route_register) owns the order every request goes through:
 *
 *   1. privilege: the daemon's ro_auth (PUBLIC routes: none).  Also offered
 *      before the body is read, from the headers alone: route_head_check().
 *   2. body (ROUTE_BODY): a JSON object; every member must be one of the
 *      declared keys, of its declared type; required keys present.  Every
 *      such error of the request is collected, then one 400 names them all.
 *   3. one transaction (ROUTE_WRITE): the daemon's ro_begin (the node: a
 *      captured savepoint inside the loop iteration's batch; the hub: BEGIN
 *      IMMEDIATE).
 *   4. the domain function (rd_fn), which only fills in its reply.
 *   5. ROUTE_AUDITED: the daemon's ro_audit writes the audit row the
 *      function described, in the same transaction; no row, no commit.
 *   6. the reply: for a write, handed to the daemon's ro_commit, which sends
 *      it only once the write is durable (the node's group commit and WAL
 *      sync, node_commit.c); else sent at once.  JSON or any other body
 *      (CSV) goes through the same path; a body whose building failed
 *      (buffer full, a failed step) is a 500, never a truncated 200.
 *   7. cleanup: the body, the reply, the call's buffers.
 *
 * Error JSON, one shape everywhere (http_reply_error and this dispatcher):
 *
 *   {"error": "<the first message, in plain words>",
 *    "field": "<the first error's field; omitted when it has none>",
 *    "errors": [{"field": "x", "error": "plain message"}, ...]}
 *
 * "errors" lists every field error of the request (a field-less error has
 * no "field" member in it either).
 *
 * Return convention: functions returning int give 0 on success and -1 on
 * failure, unless they return a route_rc (the domain functions and the
 * route_ok/route_fail/route_bad helpers that build their return value).
 */
#ifndef OUTPOST_ROUTE_H
#define OUTPOST_ROUTE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "lib/buf.h"
#include "lib/http.h"
#include "lib/json.h"

/* Route flags (rd_flags). */
enum {
	ROUTE_PUBLIC = 1u << 0,   /* no session needed (kiosk, healthz, login) */
	ROUTE_BODY = 1u << 1,     /* a JSON object body checked against rd_keys */
	ROUTE_WRITE = 1u << 2,    /* runs inside one transaction; reply once durable */
	ROUTE_CAPTURED = 1u << 3, /* node: the write is change-captured (replicated) */
	ROUTE_AUDITED = 1u << 4,  /* hub: an audit row in the same transaction */
	ROUTE_DEFER = 1u << 5,    /* the function may take the request (ROUTE_TAKEN) */
	ROUTE_RAW = 1u << 6,      /* a non-JSON body (uploads): the function reads req->body */
	ROUTE_ASSET = 1u << 7,    /* pages and static files: the function serves them */
	ROUTE_BODY_OPT = 1u << 8, /* with ROUTE_BODY: an empty body is allowed (rc_body NULL) */
	ROUTE_SESSION = 1u << 9,  /* any live session, also one the daemon otherwise holds
	                           * back (a temporary password still to change) */
	ROUTE_JSON_ONLY = 1u << 10, /* with ROUTE_BODY: any other content type than
	                             * application/json is a 415, so a cross-site
	                             * form cannot post it (a public sign-in) */
	ROUTE_KEYS_LATE = 1u << 11, /* with ROUTE_BODY | ROUTE_WRITE: the body's key
	                             * errors are collected, and the function still
	                             * runs to add its own (one 400 with every field
	                             * at fault); any collected error undoes the write */
};

/* What a domain function returns. */
typedef enum route_rc {
	ROUTE_OK = 0,     /* the reply is set (route_ok, route_ok_text, route_csv) */
	ROUTE_BAD = -1,   /* 400 with every field error collected (and a->rc_err) */
	ROUTE_DBERR = -2, /* 500 "database error", logged once with the route */
	ROUTE_FAIL = -3,  /* route_fail() chose the status and the message */
	ROUTE_TAKEN = 1,  /* ROUTE_DEFER only: the function replies itself, later */
} route_rc;

/* Body key types (rk_type); ROUTE_T_ANY checks nothing but the name. */
enum { ROUTE_T_ANY = 0, ROUTE_T_STR, ROUTE_T_NUM, ROUTE_T_BOOL, ROUTE_T_ARRAY, ROUTE_T_OBJECT };
/* Body key flags (rk_flags). */
enum { ROUTE_K_REQUIRED = 1u << 0, ROUTE_K_NULL = 1u << 1 /* null accepted */ };

typedef struct route_key {
	const char *rk_name;
	unsigned char rk_type;
	unsigned char rk_flags;
} route_key;

typedef struct route_call route_call;
typedef route_rc (*route_fn)(route_call *a);

typedef struct route_def {
	http_method rd_method;
	const char *rd_path;      /* router pattern: ":name" segments, trailing "*" */
	route_fn rd_fn;
	unsigned rd_privs;        /* privilege bits the caller must hold (0: any session) */
	unsigned rd_flags;        /* ROUTE_* */
	const route_key *rd_keys; /* allowed body members, ended by {NULL}; NULL: none */
	size_t rd_max_body;       /* 0 = the server's */
} route_def;

/* A module's rows. */
typedef struct route_list {
	const route_def *rl_defs;
	size_t rl_n;
} route_list;
#define ROUTE_LIST(defs) {(defs), sizeof(defs) / sizeof((defs)[0])}

#define ROUTE_ERRS_MAX 16
/* An error message is carried whole up to this many bytes (a refusal that
 * names many nodes); past it, it is cut with a visible "\u2026": the
 * bound of http_reply_error's too (lib/json.h). */
#define ROUTE_MSG_MAX JSON_MSG_MAX

/* One request on its way through the dispatcher; lives on its stack. */
struct route_call {
	void *rc_ctx;               /* the daemon (node *, hub *) */
	const struct route_table *rc_table;
	http_req *rc_req;
	const route_def *rc_route;
	const void *rc_user;        /* the daemon's signed-in user; NULL on PUBLIC routes
	                             * without a session */
	const char *rc_actor;       /* recorded as the writer (ro_commit); ro_auth sets it */
	cJSON *rc_body;             /* ROUTE_BODY: owned by the dispatcher (a TAKEN
	                             * function may take it and set NULL) */
	json_err rc_err;            /* scratch for json_get_*: added to the errors on ROUTE_BAD */
	json_err rc_errs[ROUTE_ERRS_MAX];
	char *rc_errs_long[ROUTE_ERRS_MAX]; /* error i's whole message (malloc'd) when
	                                     * longer than rc_errs[i].msg holds, else NULL */
	int rc_nerr;
	int rc_status;              /* set by route_ok*, route_fail */
	cJSON *rc_reply;            /* JSON reply (route_ok) */
	char *rc_text;              /* or a reply as bytes (route_ok_text): malloc'd */
	size_t rc_textlen;
	const char *rc_ctype;       /* content type of rc_text / rc_out; NULL = JSON */
	buf rc_out;                 /* or a reply built in place (route_csv); rc_out_err sticks */
	int rc_out_err;
	char rc_ctype_buf[128];     /* route_ok_copy's content type */
	void *rc_txn;               /* the daemon's transaction state (ro_begin) */
	const char *rc_audit_action; /* ROUTE_AUDITED: what the function did ... */
	cJSON *rc_audit;            /* ... and its details (owned); see ro_audit */
	void *rc_arg;               /* route_resume_write's argument for its function */
};

/* What a daemon plugs into the dispatcher.  Each gets the call. */
typedef struct route_ops {
	/* Privilege check of rc_req for rc_route: 0 (rc_user and rc_actor set),
	 * or -1 after replying 401/403 itself. */
	int (*ro_auth)(route_call *a);
	/*
	 * The same from the headers alone, before any of the body is read, and
	 * without replying: 0 to go on, or the status to refuse with (401,
	 * 403) and *msg (and *field, may stay NULL) for it.  May be NULL.
	 */
	int (*ro_head)(void *ctx, const route_def *d, http_req *req, const char **field,
		       const char **msg);
	/* Open the write: 0, or -1 (the dispatcher answers 500). */
	int (*ro_begin)(route_call *a);
	/* Close a successful write and queue its reply: status, content type
	 * (NULL JSON) and body (malloc'd, taken; NULL means the reply could not be
	 * built: 500).  The daemon sends it once durable, or a 500 itself. */
	void (*ro_commit)(route_call *a, int status, const char *ctype, char *body, size_t len);
	/* Undo the write. */
	void (*ro_abort)(route_call *a);
	/* ROUTE_AUDITED: write the audit row of rc_audit_action / rc_audit inside
	 * the write: 0 or -1 (then the write is undone, 500). */
	int (*ro_audit)(route_call *a);
	/* The database's message for the failure, for the one log line of a
	 * ROUTE_DBERR; NULL when the database reports no error now (the log
	 * line then names the storage error noted on this thread, if any). */
	const char *(*ro_errmsg)(route_call *a);
	/* Reply the daemon's 500 (NULL: {"error": "database error"}). */
	void (*ro_dberr)(route_call *a);
} route_ops;

/* A daemon's whole table: its modules' rows, its ops and its context. */
typedef struct route_table {
	const route_list *const *rt_lists; /* ended by NULL */
	const route_ops *rt_ops;
	void *rt_ctx;
	struct route_bound **rt_bound;     /* route_register's, freed by route_table_free */
	size_t rt_nbound;
} route_table;

/* Register every row of l (which must be one of t's lists, or at least
 * outlive it) with r, dispatching through t.  0 or -1. */
int route_register(router *r, route_table *t, const route_list *l);
/* Free what route_register allocated (after the server is closed). */
void route_table_free(route_table *t);
/* A daemon's table: its lists (ended by NULL), ops and context, every row
 * registered with r.  The table, or NULL (out of memory; a row the router
 * refused).  route_table_destroy() frees it (after the server is closed;
 * NULL: nothing). */
route_table *route_table_new(router *r, const route_list *const *lists, const route_ops *ops,
			     void *ctx);
void route_table_destroy(route_table *t);
/* The row of t for method and raw path (query excluded or not), or NULL. */
const route_def *route_find(const route_table *t, http_method m, const char *path);
/*
 * For the network edge's pre-body hook: the privilege check of the row
 * that will take req, from its headers alone, before the body is read.
 * 0 to go on (no row, a PUBLIC row, or allowed), else the status to refuse
 * with and its message (*field may stay NULL).
 */
int route_head_check(const route_table *t, http_req *req, const char **field, const char **msg);

/* ---- for the domain functions -------------------------------------------------- */

/* Reply JSON with status (takes reply; NULL, out of memory or a failed
 * query of db_rows_json*, is ROUTE_DBERR). */
route_rc route_ok(route_call *a, int status, cJSON *reply);
/* Reply bytes (takes the malloc'd text; NULL = ROUTE_DBERR); ctype NULL = JSON. */
route_rc route_ok_text(route_call *a, int status, const char *ctype, char *text, size_t len);
/* Reply a copy of len bytes of data with a copy of ctype (e.g. a stored
 * file); ROUTE_DBERR when out of memory. */
route_rc route_ok_copy(route_call *a, int status, const char *ctype, const void *data, size_t len);
/* Reply a copy of len bytes of JSON under etag (quoted), or 304 with no
 * body when the request's If-None-Match names it (the client's copy is
 * current).  Cache-Control: no-cache (the browser keeps it and asks), or
 * for personal data (a visitor's name, phone, email) private, no-store -
 * never on the disk of a shared office PC; a client that wants its 304s
 * keeps the ETag itself.  ROUTE_DBERR when out of memory. */
route_rc route_ok_etag(route_call *a, const char *etag, int personal, const void *data,
		       size_t len);
/* Start a CSV reply (200, text/csv, "attachment; filename=file") built in
 * a->rc_out, at most max bytes, that begins with a UTF-8 byte-order mark
 * (a spreadsheet then reads accented names right): append with route_put/route_csv_field, whose
 * failures stick (a full buffer is a 500, not a truncated 200).  Returns the
 * buffer. */
buf *route_csv(route_call *a, const char *file, size_t max);
void route_put(route_call *a, const char *s);
/* One CSV field, quoted, formula-like leading characters neutralised; ends
 * the record when last is set. */
void route_csv_field(route_call *a, const char *s, int last);
/* The same with column i of st's row (SQL NULL: an empty field); a value
 * SQLite could not make (out of memory) fails the reply, never a blank. */
struct sqlite3_stmt;
void route_csv_col(route_call *a, struct sqlite3_stmt *st, int i, int last);
/* Fail with status and one message (field may be NULL).  The messages of
 * these three are replied whole, up to ROUTE_MSG_MAX bytes. */
route_rc route_fail(route_call *a, int status, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* One field error, collected (the function goes on to find the others);
 * returns -1.  route_bad() also returns ROUTE_BAD. */
int route_err(route_call *a, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
route_rc route_bad(route_call *a, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Collect a json_err filled by a json_get_* validator; returns -1.
 * route_bad_json() returns ROUTE_BAD. */
int route_err_json(route_call *a, const json_err *e);
/* 1 when an error naming field was collected already, else 0. */
int route_has_err(const route_call *a, const char *field);
route_rc route_bad_json(route_call *a, const json_err *e);
/* Body validators that collect their error: 0 or -1 (see json.h). */
int route_str(route_call *a, const char *name, int flags, size_t minlen, size_t maxlen,
	      const char **out, char *tmp, size_t tmplen);
int route_int(route_call *a, const char *name, int flags, int64_t min, int64_t max, int64_t *out,
	      int *present);
int route_bool(route_call *a, const char *name, int flags, int def, int *out);
/* Query parameters: an integer in [min, max] (def when absent or empty), a
 * date YYYY-MM-DD ("" when absent).  0, or -1 with the error collected. */
int route_qint(route_call *a, const char *name, int def, int min, int max, int *out);
int route_qdate(route_call *a, const char *name, char out[11]);
/* A text query parameter of at most max characters into out (n bytes, at
 * least JSON_TEXT_BYTES(max)); "" when absent.  0, or -1 with the error
 * collected (too long, not UTF-8): never a longer search read as none. */
int route_qtext(route_call *a, const char *name, size_t max, char *out, size_t n);

/*
 * A ROUTE_DEFER function whose write must wait (a password hashed in the
 * thread pool) took the request (ROUTE_TAKEN); when the wait is over, it
 * finishes here: fn runs as the write of a new call for req on the same
 * row (a->rc_table and a->rc_route of the first call; the table must still
 * be registered) through steps 3 to 7: the daemon's transaction, the audit
 * row when the row is ROUTE_AUDITED, the reply once durable.  user and actor
 * as ro_auth set them (they must live until this returns); fn finds arg in
 * rc_arg.  Always answers req.
 */
void route_resume_write(const route_table *t, const route_def *d, http_req *req,
			const void *user, const char *actor, route_fn fn, void *arg);
/*
 * The same when what follows the wait may be no write at all (a refusal,
 * nothing to do): fn runs outside any transaction, as a read (steps 4, 6
 * and 7: its reply, route_ok or route_fail, sent at once), and may itself
 * go on to route_resume_write and return ROUTE_TAKEN.  Answers req unless
 * fn takes it.
 */
void route_resume_read(const route_table *t, const route_def *d, http_req *req,
		       const void *user, const char *actor, route_fn fn, void *arg);

/* ---- the dispatcher and the reply ----------------------------------------------- */

/* The handler route_register gives the router (ctx = a struct route_bound). */
void route_dispatch(http_req *req, void *ctx);
/* Reply the one error shape with n errors (n >= 1). */
void route_reply_errors(http_req *req, int status, const json_err *errs, int n);
/* Check body against keys (unknown, type, required), collecting each error
 * in a.  0 when clean. */
int route_check_body(route_call *a, const cJSON *body, const route_key *keys);

#endif
