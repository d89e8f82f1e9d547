/*
 * acct.h - staff accounts at the hub (issue 4): the hub-local account tables,
 * the administrators' roles and scope, console sessions with CSRF and login
 * throttling, the account lifecycle API under /api/v1/admin/ (contract in
 * docs/hub-admin-api.md), and the application of passwords set at office
 * nodes (credential_changes rows).
 *
 *   acct_store.c    hub-local tables, privilege groups, roles and scope,
 *                   staff JSON, the admin audit trail, the operations account
 *   acct_session.c  sign-in, sessions, CSRF, throttling, the PBKDF2 jobs
 *   acct_api*.c     access requests, files, the account lifecycle, reviews,
 *                   recertification, the audit trail query (acct_api.h)
 *   acct_apply.c    credential_changes from nodes (a sync row validator)
 *
 * Ownership: a hub owns one acct_hub (hb_acct), created by acct_init() on the
 * loop thread and freed by acct_free().  Everything here runs on the loop
 * thread except acct_validate_row() (push work threads, their own db handle)
 * and the PBKDF2 work in the thread pool.
 */
#ifndef OUTPOST_HUB_ACCT_H
#define OUTPOST_HUB_ACCT_H

#include "hub/hub.h"
#include "lib/json.h"
#include "lib/upload.h"

#define ACCT_COOKIE "outpost_admin"
#define ACCT_IDLE_MS (30LL * 60 * 1000)        /* session idle timeout */
#define ACCT_ABS_MS (12LL * 60 * 60 * 1000)    /* session absolute lifetime */
#define ACCT_MAX_MIS_ADMINS 3                  /* per Local Area [WSD24-13] */
#define ACCT_MAX_SPOCS 5                       /* per field division [WSD24-13] */
#define ACCT_FILE_MAX (2 * 1024 * 1024)        /* one uploaded form */
#define ACCT_FILE_TYPES (UPLOAD_PDF | UPLOAD_PNG | UPLOAD_JPEG) /* lib/upload.h */
#define ACCT_FILES_PER_REQUEST 10
#define ACCT_PW_INPUT_MAX 128                  /* longest password we hash */
#define ACCT_OPERATIONS "operations"           /* the hub superuser's user name */
#define ACCT_HUB_LA "*hub*" /* credentials scope of hub-only accounts: no node */
/*
 * SQL: staff row s is exempt from the annual recertification (WSD24-13's
 * System Access Request made every year by the staff member's manager):
 * the operations account, the hub's built-in superuser, made at first start
 * with no request, no requestor and no manager.  Its suspension would lock
 * the state out of its own hub, and the quarterly review's sample leaves it
 * out too.  Neither due nor overdue, never suspended for it.
 */
#define ACCT_RECERT_EXEMPT_SQL(s) \
	"((','||coalesce(" s ".roles,'')||',') LIKE '%,operations,%')"

enum {
	ROLE_OPERATIONS = 1u << 0,
	ROLE_MIS_ADMIN = 1u << 1,
	ROLE_SPOC = 1u << 2,
};

/* A field division's name: at most 120 characters (hub_setup.c). */
#define ACCT_DIV_BYTES JSON_TEXT_BYTES(120)

/* Who is calling an admin route. */
typedef struct acct_principal {
	char ap_id[64];        /* staff id; "admin-token" for the bearer token */
	char ap_username[64];
	char ap_la[64];        /* the administrator's Local Area ("" none) */
	char ap_div[ACCT_DIV_BYTES]; /* the administrator's field division ("" none) */
	unsigned ap_roles;
	int ap_token;          /* authenticated by the bearer token */
	int ap_must_change;    /* signed in with a temporary password */
	char ap_session[65];   /* SHA-256 hex of the session token */
	char ap_csrf[65];
} acct_principal;

typedef struct acct_hub acct_hub;

/* ---- acct_store.c ----------------------------------------------------------- */

/* Hub-local account tables (component "acct_hub").  0 or -1. */
int acct_migrate(sqlite3 *db);
/*
 * At start: field divisions named by Local Areas, and on a new hub the
 * operations account with a one-time temporary password, shown once: on
 * stderr when that is a terminal (someone is watching the first start),
 * else written to pw_file (mode 0600, never through the log: a daemon's
 * stderr is its log file) and only the file's name is logged.  iters: PBKDF2
 * rounds.  Every start also applies the trust boundary to older data: roles
 * held by field accounts move to new hub-only accounts, demo accounts get
 * their verifiers, and with demo off the published demo password stops
 * working.  0 or -1.
 */
int acct_bootstrap(sqlite3 *db, hlc *clk, uint32_t iters, const char *pw_file, int demo);
/* `outpost-hub reset-operations`: new temporary password for operations
 * into pw (13 bytes).  0 or -1. */
int acct_reset_operations(sqlite3 *db, hlc *clk, uint32_t iters, char pw[13]);

unsigned acct_roles_parse(const char *s);
/* 1 when s is an id an administrator may choose: 1 to 63 letters, digits,
 * '.', '_' or '-'; else 0. */
int acct_id_ok(const char *s);
/* Assigned by "MIS Administrator" (1), "WSB CalJOBS SPOC" (2), unknown 0. */
int acct_group_assigner(const char *group);
/* Which groups p may assign: 1 when group is assignable by p. */
int acct_group_assignable(const acct_principal *p, const char *group);
/*
 * May p act on an account or request in Local Area la / division div with
 * this privilege group (NULL: not checked)?  0 yes; -1 after replying 403.
 */
int acct_scope_check(http_req *req, const acct_principal *p, const char *la,
		     const char *div, const char *group);
/* The same without replying: 0 yes, or 403 with the field and message. */
int acct_scope_why(const acct_principal *p, const char *la, const char *div, const char *group,
		   const char **field, char *msg, size_t n);
/* Declare acct_in_scope(ops, mis_la, spoc_div, la, div, group) on db, the
 * SQL form of acct_scope_why() for the lists (acct_bind_scope() binds the
 * first three): 1 when the account is the caller's to open, else 0.  Only
 * on the loop thread's connection (the groups' assigners are read there).
 * 0 or -1. */
int acct_scope_sql_init(sqlite3 *db);
/* Staff member as the API shows it (never a hash), or NULL when unknown. */
cJSON *acct_staff_json(sqlite3 *db, const char *id);
/* Record an admin action in admin_audit.  before/after are JSON text or
 * NULL and must never hold a secret.  0 or -1. */
int acct_audit(sqlite3 *db, const acct_principal *p, const char *client,
	       const char *action, const char *subject_table, const char *subject_id,
	       const char *la, const char *div, const char *before, const char *after);
/* The same for events without a principal (refused sign-ins). */
int acct_audit_anon(sqlite3 *db, const char *client, const char *action,
		    const char *subject_id, const char *detail);

/*
 * The trust boundary (DESIGN.md).  The second verifier of staff_id's
 * password (model/password.h), hub-local: set (v NULL: forget it), get (0
 * and out filled, 1 none).  An administrative account is one holding a role
 * or whose credentials are hub-only (ACCT_HUB_LA): 1 yes, 0 no, -1 error.
 * acct_make_hub_only() moves staff_id's credentials to ACCT_HUB_LA (nodes
 * that held them get a DELETE) and records it as an administrative account
 * (field_id: the field account it was split from, or NULL).  0 or -1.
 */
int acct_verifier_set(sqlite3 *db, const char *staff_id, const char *v);
/* A password staff_id chose (at the console, or at a node and pushed): its
 * stored hash, no longer temporary, changed at changed_at (ms), and its
 * verifier.  0, or -1 (also when staff_id has no credentials row). */
int acct_password_set(sqlite3 *db, const char *staff_id, const char *hash, int64_t changed_at,
		      const char *ts, const char *verifier);
/* A temporary password (stored: its hash) for staff_id, expiring
 * PASSWORD_TEMP_TTL_MS after now; a new credentials row goes to Local Area
 * la (NULL: the staff member's).  0, or -1 (also when staff_id is unknown). */
int acct_temp_password_set(sqlite3 *db, const char *staff_id, const char *la, const char *stored,
			   int64_t now, const char *ts);
/* The verifier of staff_id's password into out: 0, 1 none, -1 unreadable. */
int acct_verifier_get(sqlite3 *db, const char *staff_id, char out[65]);
/* 1 when staff_id is an administrative (hub-only) account, 0 not (or no
 * such staff), -1 when it could not be read. */
int acct_is_admin_account(sqlite3 *db, const char *staff_id);
int acct_make_hub_only(sqlite3 *db, hlc *clk, const char *staff_id, const char *field_id);

/* ---- acct_session.c --------------------------------------------------------- */

acct_hub *acct_new(hub *h, uint32_t iters);
void acct_free(acct_hub *a);
uint32_t acct_iters(const acct_hub *a);
/* What acct_auth() lets through besides an administrator's session. */
enum {
	ACCT_AUTH_OPS = 1u << 0,      /* only operations (or the bearer token) */
	ACCT_AUTH_TEMP = 1u << 1,     /* a session still on its temporary password */
	ACCT_AUTH_APPROVER = 1u << 2, /* a session with no administrator role (an
				       * approver's: issue 15) */
};
/*
 * Authenticate an admin route: the bearer token or a session cookie (with
 * the CSRF header on state-changing methods), as how (ACCT_AUTH_*) allows.
 * 0 and *p filled, or -1 after replying 401/403.
 */
int acct_auth(hub *h, http_req *req, acct_principal *p, unsigned how);
/* 1 when req's cookie names a console session that exists (not checked
 * further, nothing updated): the check before a body is read (hub_edge.c). */
int acct_session_live(hub *h, http_req *req);
/* End every hub session of a staff member. */
void acct_sessions_end(sqlite3 *db, const char *staff_id);

typedef void (*acct_pw_done)(hub *h, http_req *req, void *arg, int result,
			     const char *stored, const char *verifier);
/*
 * PBKDF2 in the thread pool.  Hash: result 0, stored = the new stored form
 * and verifier = its second verifier (model/password.h; NULL in verify
 * mode).  Verify (stored given): result 1 match, 0 not, -1 malformed.  The
 * password is copied and wiped.  done runs on the loop thread.  0, or -1
 * (nothing queued).
 */
int acct_pw_job(hub *h, http_req *req, const char *pw, const char *stored,
		acct_pw_done done, void *arg);
/* The caller of a write that waited in the thread pool (a hash, a pass), as
 * the hub has it now: a check made before the wait may no longer hold, so
 * its session must still be there, and its staff row is read again into p
 * (roles, Local Area, division).  0, or -1 with the reply sent (401, 500). */
int acct_resume_caller(hub *h, http_req *req, acct_principal *p);


/* ---- acct_api*.c: the routes are rows of the hub's table (hub/acct_api.h) --- */

/* ---- acct_apply.c ----------------------------------------------------------- */
/* The hub's sync row validator: credential_changes are applied here, every
 * other table goes on to the CRM rules.  See sync_set_validator(). */
int acct_validate_row(sqlite3 *db, const char *tbl, int op, const struct cJSON *row,
		      char *reason, size_t n);
/* The role of a decision, judged when it was made by the roles' history
 * (admin_audit's case.approver_roles): the hub's case_role_check
 * (model/case_approvals.h), set with the validator. */
int acct_decision_role_check(sqlite3 *db, const struct cJSON *row, const char *la,
			     char *reason, size_t n);

/* acct_state.c: staff id deactivated (active 0 since now, stamped ts): no
 * password left to replicate, every session ended.  The one deactivation,
 * by hand (acct_staff.c) and on the separation date (the sweep).  0 or -1. */
int acct_deactivate_db(sqlite3 *db, const char *id, int64_t now, const char *ts);
/* acct_staff.c: staff_id lost its authority (an administrator role
 * removed, the account deactivated or suspended): each access request it
 * approved that no one carried out yet goes back to 'submitted', audited
 * request.reopen as p from client (acct_audit) with why (the cause, for
 * people) in its after.  In the caller's transaction.  0 or -1. */
int acct_approvals_withdraw(sqlite3 *db, const acct_principal *p, const char *client,
			    const char *staff_id, const char *why);
/* Deactivate every account whose separation date (staff.deactivate_on) has
 * come, inside the caller's transaction: the number deactivated, or -1.
 * acct_state_sweep() runs it in its own transaction (the hub's prune
 * timer). */
int acct_state_sweep_db(sqlite3 *db, hlc *clk, uint64_t now_ms);
void acct_state_sweep(hub *h);

#endif
