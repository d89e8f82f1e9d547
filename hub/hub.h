/*
 * hub.h - the central hub daemon: defaults, shared state, and the prototypes
 * of its files.  The hub holds every office's data in DIR/hub.db, answers
 * the replication protocol of sync/sync.h over HTTPS, and offers a small JSON
 * admin API guarded by a bearer token (DIR/admin.token).
 */
#ifndef OUTPOST_HUB_H
#define OUTPOST_HUB_H

#include <limits.h>
#include <stdint.h>
#include <uv.h>

#include "lib/conf.h"
#include "lib/db.h"
#include "lib/hlc.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/uuid.h"
#include "lib/daemon.h"
#include "sync/sync.h"

#define HUB_DEFAULT_LISTEN "127.0.0.1:8443"
#define HUB_DEFAULT_DATA "./data/hub"
#define HUB_DEFAULT_TZ "America/Los_Angeles"
#define HUB_DB_FILE "hub.db"
#define HUB_CONF_FILE "hub.conf"
#define HUB_CERT_FILE "hub.crt"
#define HUB_KEY_FILE "hub.key"
#define HUB_ADMIN_TOKEN_FILE "admin.token"
#define HUB_OPS_PASSWORD_FILE "operations.password" /* first start, no terminal */
#define HUB_NODE_ID "hub" /* HLC node id of the hub's own writes */

#define HUB_ENROLL_TTL_S (24 * 60 * 60)	    /* enrollment codes expire after 24 h */
#define HUB_NONCE_KEEP_MS (30 * 60 * 1000)  /* nonces kept 30 min (> 2 x skew) */
#define HUB_PRUNE_EVERY_MS (60 * 1000)	    /* nonce pruning timer */
#define HUB_REENCRYPT_BATCH 100		    /* SSNs written again per transaction */
/* A participant's SSN key epoch in SQL, as case_ssn_epoch() reads its
 * ssn_enc ("eN:" in front, 1 without): a key of the hub's own index
 * participants_ssn_epoch (hub_state.c, migration 11), by which the
 * re-encryption pass (hub_keys.c) reads only a Local Area's older SSNs.
 * Its queries spell it so, else SQLite does not use the index. */
#define HUB_SSN_EPOCH_SQL                                                                      \
	"(CASE WHEN instr(ssn_enc, ':') > 0 THEN CAST(substr(ssn_enc, 2, instr(ssn_enc, ':') - 2)" \
	" AS INTEGER) ELSE 1 END)"
/* Indexes of the shared schema the hub drops (hub_state.c, migration 2):
 * no hub query uses them.  bench_sync's reference apply drops them too. */
#define HUB_TRIM_INDEXES "DROP INDEX IF EXISTS checkins_name;"
#define HUB_TXN_MAX_ENTRIES 500		    /* push: commit every ... entries */
#define HUB_TXN_MAX_BYTES (2 * 1024 * 1024) /* ... or every 2 MiB of changesets */
#define HUB_MAX_BODY (SYNC_MAX_BATCH_BYTES + 64 * 1024) /* default max_body */
/* The push route's body cap, whatever max_body says: a batch of one large
 * entry (sync.h SYNC_MAX_PUSH_FRAME), with room for deflate's worst case. */
#define HUB_MAX_PUSH_BODY (SYNC_MAX_PUSH_FRAME + SYNC_MAX_PUSH_FRAME / 64 + 64 * 1024)
#define HUB_LIST_LIMIT 1000 /* rows in one admin list */
#define HUB_READERS 8       /* read connections of the work threads */
#define HUB_MAX_CONNS 8192  /* open connections (offices keep one each) */
#define HUB_RELEASE_MAX 32  /* a node's release as its User-Agent names it */

typedef struct tls_config tls_config;

/* A node's share of the hub's reply work (hub_sync.c reads_admit): pulls,
 * snapshot pages and digests in flight, and reply bytes not yet taken by
 * the network; and every node's together. */
#define HUB_NODE_READS 8
#define HUB_NODE_QUEUED (2 * (size_t)SYNC_SNAPSHOT_PAGE_MAX)
#define HUB_REPLY_QUEUED ((size_t)512 * 1024 * 1024)

typedef struct hub {
	uv_loop_t *hb_loop;
	sqlite3 *hb_db;	 /* loop thread: auth, admin, small writes */
	sqlite3 *hb_wdb; /* work threads (under hb_wlock): pushes */
	uv_mutex_t hb_wlock;
	/* Under hb_wlock: a push body inflated, kept from push to push (its
	 * pages stay mapped: a fresh 4 MB buffer each time page-faulted) */
	buf hb_push_plain;
	/* Read connections of the work threads (pull pages, snapshots, digests
	 * beside a push), taken and given back under hb_rlock (hub_sync.c). */
	sqlite3 *hb_rdb[HUB_READERS];
	struct sync_pull_cache *hb_rpull[HUB_READERS]; /* each reader's, made on first use */
	int hb_rfree[HUB_READERS], hb_nrfree;
	uv_mutex_t hb_rlock;
	struct hub_progress *hb_prog; /* pull progress waiting for hb_wdb */
	conf hb_conf;
	hlc hb_hlc;
	http_server *hb_http;
	router *hb_router;
	tls_config *hb_tls;
	char hb_pin[128]; /* "sha256//base64" of the served key */
	char hb_data[PATH_MAX];
	char hb_admin_token[65]; /* hex */
	uint64_t hb_started_ms;
	uv_timer_t hb_prune;
	uv_timer_t hb_wal_idle; /* truncates the WAL once writes stop */
	stopsig hb_stop; /* SIGINT, SIGTERM */
	int hb_stopping;
	int hb_jobs; /* work requests in flight */
	/* Pulls, snapshot pages and digests in flight, from their start to
	 * their reply (hub_sync.c: a node's share of them is bounded). */
	struct sync_job *hb_reads;
	/* Pushes waiting for the push runner, and the group it runs (one
	 * transaction, one commit: hub_sync.c); loop thread only. */
	struct sync_job *hb_pushq, *hb_pushq_tail, *hb_push_run;
	uv_work_t hb_push_work;
	/* Replies waiting for their request's nonce to be on disk, and the
	 * runner asked to write it (a group without pushes); whether the
	 * runner runs, and its starts (hub_sync.c). */
	struct sync_job *hb_park;
	int hb_flush_want, hb_run_on;
	unsigned hb_runs;
	struct acct_hub *hb_acct; /* staff accounts, sessions (hub/acct.h) */
	struct tls_ca *hb_ca;	  /* the office CA (hub_ca.c), or NULL */
	/* The hub's own names, which the CA signs for no node: its listening
	 * host and its certificate's CN and SANs, comma-separated (malloc'd) */
	char *hb_ca_held;
} hub;

extern const asset assets_hub[];

/* ---- hub_state.c: hub-local tables, nodes, codes, nonces, audit ---------- */

/* Replicated schema, replication tables, hub tables, demo seed (when `demo`
 * and there is no office yet).  0 or -1. */
int hub_migrate(sqlite3 *db, int demo);
/* Every component of hub.db, migrated as hub/main.c migrates them but
 * without the rules, seeds and keys: on a database in memory, it tells
 * db_schema_compare() what this program knows (hub_check.c).  0 or -1. */
int hub_schema_migrate(sqlite3 *db);
uint64_t hub_now_ms(void);
/* The hub's clock (hb_hlc) for a write of its own, on the loop's thread:
 * first moved past the newest office stamp the database holds
 * (sync_hub_stamp_read(): pushes, and imports run beside this process). */
hlc *hub_clock(hub *h);
/* Record an admin action (actor e.g. "cli", "admin-api"); never pass secrets. */
int hub_audit(sqlite3 *db, const char *actor, const char *action, const char *subject,
	      const char *detail);
/*
 * Create a one-time enrollment code for office_id, valid ttl_s seconds.
 * code gets "XXXX-XXXX-XXXX-XXXX" (base32); only its SHA-256 is stored.
 * id gets the code's opaque id (a UUIDv7: the list and a cancel name the
 * code by it, never by the code or its hash).  *expires_at gets Unix ms.
 * 0; -2 when the office is unknown, -3 when it is closed (inactive); -1
 * error.  Writes in the caller's transaction, which also writes its audit
 * row ("enroll_code.create"; the admin route's dispatcher, or the CLI).
 */
int hub_enroll_code_new(sqlite3 *db, const char *office_id, int64_t ttl_s,
			const char *created_by, char code[20], char id[UUID_STRLEN],
			int64_t *expires_at);
/* The enrollment codes still pending (unused, not cancelled, unexpired),
 * and the others made in the last 7 days, newest first: {id, office_id,
 * created_at, expires_at, created_by, state ("pending", "used", "expired",
 * "cancelled"), used_at, used_by_node, cancelled_at, cancelled_by}; never
 * the code or its hash.  NULL on error.  Caller frees. */
cJSON *hub_enroll_codes_json(sqlite3 *db);
/*
 * Cancel the pending enrollment code of id (its id in the list), by `by`:
 * it then enrolls nothing (refused as an expired code is).  DB_FOUND, with
 * office (64 bytes) its office; DB_ABSENT when no code has that id; -2 when
 * it is no longer pending (used, cancelled or expired: *why says which,
 * nothing changed); -1 error.  Writes in the caller's transaction, which
 * also writes its audit row ("enroll_code.cancel").
 */
int hub_enroll_code_cancel_in(sqlite3 *db, const char *id, const char *by, char office[64],
			      const char **why);
/* The detail of a code's audit rows (enroll_code.create, .cancel; their
 * subject is the office): {"id": id}, id one hub_enroll_code_new gave or
 * one the list shows. */
#define HUB_ENROLL_DETAIL 64
void hub_enroll_code_detail(const char *id, char out[HUB_ENROLL_DETAIL]);
/* Canonical form of a typed code (upper case, no separators) into out: its
 * 16 random characters, with or without the key check that follows them.
 * 0 or -1. */
int hub_enroll_code_norm(const char *in, char out[17]);
/* The code as shown to people: code (from hub_enroll_code_new), then the
 * check of the hub's key named by pin, keyed by code (sync_enroll_check), in
 * groups of four:
 * "XXXX-XXXX-XXXX-XXXX-CCCC-CCCC-CCCC" (the code alone when pin is not a
 * pin: such a code enrolls only with --pin).  0 or -1. */
#define HUB_ENROLL_CODE_SHOWN 40
int hub_enroll_code_show(const char code[20], const char *pin, char out[HUB_ENROLL_CODE_SHOWN]);

typedef struct hub_node {
	char hn_id[64];
	char hn_office[64];
	char hn_la[64];
	unsigned char hn_secret[SYNC_SECRET_LEN];
	int hn_revoked;
	int64_t hn_acked_seq;
	/* A signed request's contact noted in memory (hub_contact_note): its
	 * reply waits until hub_contact_durable() says it is on disk; 0 when it
	 * was written before the route ran. */
	uint64_t hn_contact;
} hub_node;
/* hub_ca.c: the office CA (DATA/ca.crt, DATA/ca.key, made on first start;
 * the key wrapped under master.key, a plain one wrapped at start).
 * hub_ca_load (after hub_keys_open; hub_cert the hub's own certificate,
 * whose names, with its listening host's or, on a wildcard, its machine's
 * interface addresses at start, it signs for no node): 0 or -1
 * (logged); hub_ca_free releases what it loaded.  hub_ca_sign_request: when body has "csr"
 * (with "names"), sign it into g->cg_cert (malloc'd, the chain; the caller
 * frees) for names an office LAN uses (tls_ca_name_office, with the
 * setting cert_domains), g->cg_names the names signed; 0 (also when there is
 * no csr: cg_cert NULL) or the refusal's status with g->cg_why.  A name
 * under cert_domains is one machine's everywhere: one a live node of
 * another office holds is refused (409); node_id is NULL at enrollment.
 * Every certificate signed is on record: hub_ca_log_signed's log line
 * (the node, its names) and a hub_audit_events row HUB_CA_AUDIT (subject
 * the node, detail its names) in the route's write.  hub_ca_reply adds
 * "cert" and "ca_cert" to a reply when cert is set. */
#define HUB_CA_CERT_FILE "ca.crt"
#define HUB_CA_KEY_FILE "ca.key"
#define HUB_CA_AUDIT "node.cert"
/* A node has at most HUB_CA_SIGN_MAX certificates signed (its enrollment's
 * and its renewals', counted from their HUB_CA_AUDIT rows) in any
 * HUB_CA_SIGN_WINDOW_MS; POST /api/v1/sync/cert past it is 429 with
 * Retry-After.  A node renews near expiry (397 days). */
#define HUB_CA_SIGN_MAX 10
#define HUB_CA_SIGN_WINDOW_MS (24 * 3600 * 1000LL)
typedef struct hub_ca_grant {
	char *cg_cert;
	char cg_names[16 * 256]; /* TLS_CA_NAMES_MAX names, comma-separated */
	char cg_why[512];
} hub_ca_grant;
int hub_ca_load(hub *h, const char *hub_cert);
/* Would hub_ca_load take the content key of a ca.key (wrapped, unwrapped
 * under master, 32 bytes, or NULL when there is none; or plain) with the
 * PEM crt as ca.crt (restore's check, hub_backup.c)?  1, or 0 with *err
 * (static text). */
int hub_ca_pair_check(const void *crt, size_t crt_len, const void *key, size_t key_len,
		      const unsigned char *master, const char **err);
void hub_ca_free(hub *h);
int hub_ca_sign_request(hub *h, const char *node_id, const char *office, const cJSON *body,
			hub_ca_grant *g);
/* After the grant's audit row, in the same write: node_id's certificate
 * names are g's (node_cert_names).  0 or -1. */
int hub_ca_names_record(hub *h, const char *node_id, const char *office, const hub_ca_grant *g);
void hub_ca_log_signed(const char *node_id, const hub_ca_grant *g);
void hub_ca_reply(hub *h, cJSON *o, const char *cert);
/* GET /ca.crt and GET /api/v1/ca, public (ctx = the hub; registered in
 * main.c); POST /api/v1/sync/cert, signed, is a row of hub_ca_route_list
 * (hub_api.h). */
void hub_ca_get(http_req *req, void *ctx);
void hub_ca_info(http_req *req, void *ctx);

/* hub_edge.c: the HTTP server's pre-body gate (lib/http.h), ctx = the hub:
 * a declared route's privilege from its headers (route_head_check: a
 * node's signature, the bearer token or a console session), or else a body
 * of HUB_ANON_BODY_MAX bytes at most (401 before any body byte beyond).
 * hub_edge_caller_known: 1 when req carries the bearer token or names a
 * live console session. */
#define HUB_ANON_BODY_MAX (64 * 1024)
int hub_edge_gate(http_req *req, void *ctx, const char **why);
int hub_edge_caller_known(hub *h, http_req *req);

/* Look a node up: DB_FOUND, DB_ABSENT (unknown node), -1 error. */
int hub_node_get(sqlite3 *db, const char *id, hub_node *out);
/* Inside the caller's transaction (a push's write, a read job's snapshot):
 * is node n, as it was authenticated, still enrolled and unrevoked, for
 * the same office, and that office still in n's Local Area?  A request
 * checked (hub_sync_auth.c) just before a revocation waits for its job
 * meanwhile.  1 yes, 0 no, -1 a database error. */
int hub_node_current(sqlite3 *db, const hub_node *n);
/* Revoke (audited, one transaction): DB_FOUND (revoked, or revoked
 * before), DB_ABSENT (unknown node), -1 error. */
int hub_node_revoke(sqlite3 *db, const char *id, const char *actor);
/* The same inside the caller's transaction, which writes the audit row. */
int hub_node_revoke_in(sqlite3 *db, const char *id);
/* Remember a nonce: 0 new (remembered now), 1 already used (a replay:
 * refuse the request), -1 error. */
int hub_nonce_use(sqlite3 *db, const char *node_id, const char *nonce, uint64_t now_ms);
int hub_nonce_prune(sqlite3 *db, uint64_t now_ms);
/* Load DIR/admin.token, creating it (mode 0600) on first start. 0 or -1. */
int hub_admin_token_load(const char *dir, char out[65]);
/* Highest change-log seq (0 when the log is empty). */
int64_t hub_head_seq(sqlite3 *db);

/* ---- hub_sync.c: the sync API and the shared ingest path ------------------ */

typedef struct hub_ingest_result {
	int hi_status;	    /* HTTP status the outcome maps to */
	char hi_error[256]; /* message when hi_status != 200 */
	int64_t hi_acked_seq;
	int64_t hi_expected_seq; /* 409 only */
	int64_t hi_offered_seq;  /* 409 only: the first entry the node offered past the gap */
	int hi_applied, hi_skipped, hi_conflicts;
	uint32_t hi_schema;    /* schema version the frame claims */
	cJSON *hi_quarantined; /* array of {"seq","reason"}; caller frees */
	/* Of hi_quarantined, copies of the entries the hub held before this
	 * ingest (a replay of one, or one past the frame an earlier import
	 * took), reported again as when they first came: what `outpost-hub
	 * import` says apart from what it quarantined itself.  Freed with it. */
	cJSON *hi_held;
	char hi_max_hlc[65];   /* newest HLC seen, for the hub's clock */
} hub_ingest_result;

/* The words every refusal of a node's schema version carries
 * (hub_schema_refusal): a pull or snapshot page served to the node clears
 * such a Last error from its row (hub_work.c), as a push that commits
 * clears any. */
#define HUB_SCHEMA_REFUSED " refused: schema version "
/* Why `what` ("push", "pull", "snapshot") of a node at schema version v
 * (-1: it states none) is refused (426), into out (n bytes): the hub's
 * version and the side to upgrade (the hub when the node's is newer, else
 * the node).  The reply's "error" and the node's Last error at the hub. */
void hub_schema_refusal(char *out, size_t n, const char *what, int64_t v);
/* After a push or an import refused for a sequence gap (res 409): the first
 * entry the node offered past it (the lowest, while the gap stands), on its
 * row (nodes.gap_seq), which bounds
 * what operations may give up as lost (POST /api/v1/nodes/:id/accept-loss).
 * Nothing for any other result. */
void hub_note_gap(sqlite3 *db, const char *node_id, const hub_ingest_result *res);

/*
 * The core of a push, shared with `outpost-hub import`: decode and check the
 * frame (400 malformed, 426 unknown schema version), skip seq <= acked, 409
 * on a gap, then apply with sync_hub_apply() in bounded transactions, moving
 * nodes.acked_seq in the same transaction as the entries.  db is used by the
 * calling thread only.  Always fills res (res->hi_quarantined is an array the
 * caller frees); returns 0 when res->hi_status is 200, -1 otherwise.
 */
/* ---- hub_keys.c: secrets apart from data (DESIGN.md) --------------------------- */
/* Load DATA/master.key (made, 0600, on a new hub); call before hub_migrate.
 * 0, or -1 with a one-line err. */
int hub_keys_open(sqlite3 *db, const char *data_dir, char *err, size_t n);
/* Wrap what older versions kept plain (node secrets, case keys).  0 or -1. */
int hub_keys_migrate(sqlite3 *db);
/* Wrap case keys made since (a new Local Area); cheap when there are none. */
int hub_keys_wrap_new(sqlite3 *db);
/* The same within the caller's transaction (the write that made a Local
 * Area): 0, or -1.  Nothing to do before hub_keys_open(). */
int hub_keys_wrap_txn(sqlite3 *db);
/* A node secret wrapped for nodes.secret_hex / read back (plain accepted). */
int hub_secret_wrap(const char *node_id, const unsigned char secret[SYNC_SECRET_LEN], char *out,
		    size_t n);
int hub_secret_unwrap(const char *node_id, const char *stored,
		      unsigned char secret[SYNC_SECRET_LEN]);
/* The wrapping key of Local Area la's SSN keys at that key epoch (what its
 * nodes get for the newest epoch, case_key_epoch()): 0 or -1. */
int hub_la_key(const char *la, int epoch, unsigned char out[32]);
/* A new SSN key for Local Area la, of the next epoch, all its keys wrapped
 * again under that epoch's wrapping key, within the caller's transaction
 * (a savepoint: on failure nothing changed).  The new epoch into *epoch
 * (may be NULL).  0, 1 when la has no key (no such Local Area), -1. */
int hub_keys_rotate(sqlite3 *db, const char *la, int *epoch);
/* One bounded batch (HUB_REENCRYPT_BATCH, its own transaction) of the stored
 * SSNs not under their Local Area's newest key, written again under it with
 * their keyed hash, stamped by clk; duplicates flagged.  Does nothing unless
 * a rotation was made since the last full pass or always is set; reads no
 * participant of a Local Area marked done up to its newest epoch (the last
 * batch of a pass marks them, ssn_reencrypted), and of the others only
 * those under an older epoch (index participants_ssn_epoch, Local Area by
 * Local Area).  How many were written, or -1.  Loop thread (or a
 * command's only thread). */
int hub_keys_reencrypt(sqlite3 *db, hlc *clk, int always);
/* The whole pass now, batch after batch (each its own transaction, so
 * outside any), to its end (past batches of rows the hub cannot read;
 * once more when reopened meanwhile): what `outpost-hub ssn-key-retire`
 * and its admin route do first.  A pass of its own, apart from
 * hub_keys_reencrypt's: the serving hub runs it in a work thread on
 * hb_wdb under hb_wlock.  How many were written, or -1. */
int hub_keys_reencrypt_all(sqlite3 *db, hlc *clk);
/* Inside the hub's row validator, and the console's resolution of a
 * conflict (an office's value kept, outside a push: the row's SSN counts
 * as set): a participant an office writes with its
 * SSN under an older key than its Local Area's newest (a PC offline across
 * a rotation) reopens the Local Area's re-encryption pass, marked done
 * (ssn_reencrypted): that row is written again too (inside a push, by the
 * push itself: hub_keys_reencrypt_pushed); one under a retired
 * key (hub_keys_retire) is refused, as no one can read it.  0; -1 with
 * reason; MODEL_CHECK_AGAIN with reason (a database error). */
int hub_keys_note_row(sqlite3 *db, const char *tbl, int op, const struct cJSON *row, char *reason,
		      size_t n);
/* Inside a push (hub_ingest), after its last entry, in its transaction:
 * the participants it stored with their SSN under an older key than their
 * Local Area's newest (noted by hub_keys_note_row) written again under the
 * newest, as the pass writes them (stamped past every office stamp the hub
 * holds; outside the merge, so no entry of the push meets them as a
 * conflict), so that none is left under an older key when the push
 * returns.  The noted rows are forgotten either way.  0, or -1 (what was
 * not written stays for the pass, reopened).  Work thread of the push. */
int hub_keys_reencrypt_pushed(sqlite3 *db);
/* Forget what this thread's push noted (a push that ends without its
 * last commit, or starts). */
void hub_keys_pushed_forget(void);
/* Retire Local Area la's SSN keys older than its newest epoch, within the
 * caller's transaction (`outpost-hub ssn-key-retire`): their case_keys rows
 * are deleted (the deletes replicate, so its nodes drop them), and a
 * participant an office pushes with its SSN under one of them is
 * quarantined (hub_keys_note_row).  Refused while the Local Area's stored
 * SSNs are not all under the newest epoch (ssn_reencrypted), and, unless
 * force, while an active (not revoked) node of it has not pulled past the
 * newest key's row (it may still hold and push SSNs under an older key):
 * msg says why, naming those nodes (with force, the nodes it went past);
 * for HUB_RETIRE_NODES the caller says how force is asked for there (its
 * HUB_RETIRE_PAST).  *epoch gets the newest epoch, *retired how many keys
 * went. */
enum {
	HUB_RETIRE_NO_LA = 1,   /* no such Local Area (no key) */
	HUB_RETIRE_NONE = 2,    /* nothing older than the newest key */
	HUB_RETIRE_REFUSED = 3, /* see msg: SSNs not all written again yet */
	HUB_RETIRE_NODES = 4,   /* see msg: nodes not pulled since (force goes past) */
};
int hub_keys_retire(sqlite3 *db, const char *la, int force, int *epoch, int *retired, char *msg,
		    size_t mn);
/* Room for msg that names every node (about a hundred), as the command and
 * the admin route give it whole (lib/route.h ROUTE_MSG_MAX). */
#define HUB_RETIRE_MSG_MAX 8192
/* What follows a HUB_RETIRE_NODES refusal, after how force is named
 * (e.g. HUB_RETIRE_PAST("--force")). */
#define HUB_RETIRE_PAST(force)                                                                 \
	"let them sync (or revoke them), or retire with " force ": what they push under a"   \
	" retired key is then quarantined"
/* Its checks alone, nothing written (the admin route answers a refusal
 * with the whole msg before its write): 0 when it would retire, else the
 * same answers. */
int hub_keys_retire_check(sqlite3 *db, const char *la, int force, int *epoch, char *msg,
			  size_t mn);
/* The detail of a retirement's audit row (ssn_key.retire), the command's
 * and the admin route's: what went, what is kept, the nodes forced past
 * (msg of hub_keys_retire). */
void hub_keys_retire_detail(char *out, size_t n, int retired, int epoch, const char *msg);
/* n bytes (at most 256) wrapped under master.key, bound to aad, into out
 * (CRYPTO_WRAP_LEN(n) bytes): 0 or -1.  hub_keys_unwrap reverses it into
 * pt (cap bytes): the length, or -1 (altered, another key or place). */
int hub_keys_wrap(const char *aad, const void *pt, size_t n, char *out, size_t outn);
int hub_keys_unwrap(const char *aad, const char *in, void *pt, size_t cap);
/* The same under key (a master key the hub has not loaded: the one a
 * restore puts back). */
int hub_keys_unwrap_under(const unsigned char key[32], const char *aad, const char *in, void *pt,
			  size_t cap);
/* A master.key's content (len bytes: 64 hex digits, then a newline or
 * nothing) into out.  0 or -1. */
int hub_keys_master_read(const void *text, size_t len, unsigned char out[32]);

/* The node whose batch this thread is applying inside hub_ingest(), else
 * NULL: the row validator (acct_validate_row) checks rows against it. */
const hub_node *hub_push_node(void);
int hub_ingest(sqlite3 *db, const hub_node *n, const void *frame, size_t len,
	       hub_ingest_result *res);
void hub_ingest_release(hub_ingest_result *res);
/* The hub's acknowledgement of node_id's outbox for its bundle
 * (`outpost-hub export-office`): the JSON text of a push's reply,
 * {"acked_seq", "acked_hlc", "quarantined"}, for the last entry taken from
 * it (nodes.taken_seq, taken_hlc; malloc'd, cJSON_free it), *acked its
 * acked_seq.  NULL with *acked 0 when the hub took nothing from the node
 * since it began to keep them; NULL with *acked -1 on a database error or
 * out of memory. */
char *hub_node_taken_ack(sqlite3 *db, const char *node_id, int64_t *acked);
/* The work of a signed route, in the thread pool (hub_sync.c): kind, after
 * (pull: the cursor; snapshot: the seq named, -1 for the first page), max
 * (pull: rows), pos (snapshot: where the page starts, or NULL).  Replies to
 * req itself, later (or at once when the work cannot be queued); n is
 * copied. */
enum { HUB_JOB_PUSH, HUB_JOB_PULL, HUB_JOB_SNAPSHOT, HUB_JOB_DIGEST };
void hub_sync_job_start(hub *h, http_req *req, const hub_node *n, int kind, int64_t after,
			int max, const sync_snap_pos *pos);

/* ---- hub_work.c: the work threads' connections -------------------------------- */
/* Open hb_wdb and the read connections on the hub database at path, and
 * their locks.  0 or -1 (logged). */
int hub_work_open(hub *h, const char *path);
/* Write the pull progress still waiting, close every connection. */
void hub_work_close(hub *h);
/* A read connection for one job (NULL when all are taken: use hb_wdb under
 * hb_wlock); given back with hub_reader_give. */
sqlite3 *hub_reader_take(hub *h);
void hub_reader_give(hub *h, sqlite3 *db);
/* The pull cache of a taken read connection (made now on its first use;
 * NULL when it cannot be, or db is not a reader: pull without one). */
struct sync_pull_cache *hub_reader_pull_cache(hub *h, sqlite3 *db);
/* Record that node_id pulled from after now (nodes.pull_cursor,
 * last_pull_ms): written at once when hb_wlock is free, else by the next
 * holder of hb_wlock (hub_progress_flush), many nodes in one commit. */
void hub_progress_note(hub *h, const char *node_id, int64_t after);
/* Under hb_wlock: write the waiting pull progress and contacts in one
 * transaction. */
void hub_progress_flush(hub *h);
/* Under hb_wlock, inside db's open transaction (db is hb_wdb): write the
 * waiting pull progress and contacts.  The number of contacts written, to
 * give hub_progress_done once the transaction committed (until then they
 * stay used nonces in memory), or -1 (roll back, or commit without them:
 * they stay waiting). */
int hub_progress_write(hub *h, sqlite3 *db);
void hub_progress_done(hub *h, int ncontacts);
/* [loop thread] A signed request's contact, written with the progress: its
 * nonce spent, the node's last_seen_ms, the schema it states (-1 none) and
 * its release (NULL none; shorter than HUB_RELEASE_MAX, copied).  0 noted
 * (*seq: its number, for hub_contact_durable), -1 not (the list is full,
 * or no list: write it at once). */
int hub_contact_note(hub *h, const char *node_id, const char *nonce, uint64_t now_ms,
		     int64_t schema, const char *release, uint64_t *seq);
/* 1 when contact seq (0: none) and every one noted before it are committed. */
int hub_contact_durable(hub *h, uint64_t seq);
/* 1 when the nonce is one of the node's noted and not yet written. */
int hub_contact_seen(hub *h, const char *node_id, const char *nonce);

/* ---- hub_sync_auth.c: who signed a sync request ------------------------------ */
/* Add X-Outpost-Time (the hub clock) to req's reply. */
void hub_sync_add_time(http_req *req);
/*
 * Before the body (the network edge): the signature headers, the node
 * (known, not revoked), the signature over the body hash the request
 * states (X-Outpost-Content-SHA256, required when has_body) and that the
 * nonce is unused.  Spends nothing.  0, or the status to refuse with (401;
 * 409 a used nonce; 503 a database error) and *why (static until the next
 * call).
 */
int hub_sync_head_check(hub *h, http_req *req, int has_body, const char **why);
/* After it: the same over the body as it arrived (which must be the stated
 * one), then the nonce is spent: 0 (*n filled: the caller wipes
 * n->hn_secret), or -1 after replying 401/409/500.  The spent nonce is on
 * disk before any reply: written at once (a commit on the loop thread's
 * connection), or with later (a route replying through hub_sync.c's jobs,
 * HUB_P_SYNC_JOB) noted in memory (n->hn_contact) and committed by the
 * work threads before the job replies. */
int hub_sync_auth(hub *h, http_req *req, hub_node *n, int later);

/* ---- hub_admin.c (declared routes: hub_api.h) ------------------------------ */
/* GET /api/v1/sync/status without node headers (HUB_P_OR_ADMIN,
 * hub_sync_api.c): the hub-wide view as JSON (caller frees), or NULL when
 * out of memory. */
cJSON *hub_sync_status_json(hub *h);

/* ---- hub_console.c: conflict and quarantine detail and resolution -------- */
/* (declared routes: hub_api.h) */

/* ---- hub_backup.c: backup, restore, the change-log gap a restore leaves --- */
/* `outpost-hub backup --out FILE` / `restore FILE [--force]`: exit status. */
int hub_backup(const char *dir, const char *out_path, const char *key_path);
int hub_restore(const char *dir, const char *file, const char *key_path, int force);
/* Exclusive lock on DIR/hub.lock for the life of the process: the fd, -2
 * when another process (a serving hub, a restore) holds it, -1 error. */
int hub_serve_lock(const char *dir);
/* A lock on the directory DIR, shared by every command but restore,
 * exclusive for restore (hub_backup.c): the fd (kept until the process exits), -2 when
 * held otherwise by another, -1 on an error (errno). */
int hub_use_lock(const char *dir, int exclusive);
/* 1 when a pull cursor lies in a gap a restore left (the node pulled
 * entries this hub lost: it must take a snapshot), else 0. */
int hub_log_in_gap(sqlite3 *db, int64_t cursor);
/* ---- hub_setup.c: Local Areas, offices, greeter reasons (issue 14) and the
 * work item lists: rows of the hub's route table (hub_api.h,
 * hub_setup_route_list) --------------------------------------------------- */
/* ---- hub_codes.c: versioned code lists (issue 14) ------------------------ */
/* Hub-only tables, the "seed" versions, and versions now due.  0 or -1. */
int hub_codes_start(sqlite3 *db, hlc *clk);
/* The hub-only tables alone (every command migrates them, hub/main.c).  0 or -1. */
int hub_codes_migrate(sqlite3 *db);
/* Apply the versions whose effective date has come (the minute timer). */
int hub_codes_apply_due(sqlite3 *db, hlc *clk);
/* The hub's row validator: acct_validate_row() (the trust checks, then every
 * module's domain rules, model_hub_validate_row()), then a participant's SSN
 * under an older key noted (hub_keys_note_row), then no new row with a
 * code retired on or before the day it was entered.  See
 * sync_set_validator(). */
int hub_codes_validate_row(sqlite3 *db, const char *tbl, int op, const struct cJSON *row,
			   char *reason, size_t n);
/* GET /api/v1/admin/code-lists, GET and POST /api/v1/admin/code-lists/:list
 * (ctx = the hub; registered in main.c). */
void hub_codes_lists(http_req *req, void *ctx);
void hub_codes_list(http_req *req, void *ctx);
void hub_codes_version_post(http_req *req, void *ctx);
/* Who assigns a privilege group by the loaded list: 1 MIS Administrator, 2
 * SPOC (a retired group's too: its accounts are still managed), 0 not
 * listed, -1 no list loaded (the compiled one decides). */
int hub_codes_group_assigner(const char *group);
/* 1 when the loaded list has the group retired: given to no new account. */
int hub_codes_group_retired(const char *group);

/* ---- hub_reports.c: the statewide greeter reports (issue 14) ------------- */
/* GET /api/v1/admin/reports/greeter and .../greeter-missing (ctx = the hub;
 * registered in main.c). */
void hub_reports_greeter(http_req *req, void *ctx);
void hub_reports_missing(http_req *req, void *ctx);

/* ---- hub_check.c: `outpost-hub check` (exit codes in lib/check.h) ------- */
int hub_health_check(const char *dir, const char *cert, const char *key, int json);

/* ---- hub_metrics.c: GET /metrics (loopback, or the admin token) --------- */
void hub_metrics_get(http_req *req, void *ctx); /* ctx = the hub */

/* ---- hub_import.c ---------------------------------------------------------- */
/* `outpost-hub import FILE`: verify a bundle and ingest it.  Exit status. */
int hub_import_file(sqlite3 *db, const char *file, int json_out);
/* `outpost-hub export-office NODE_ID --out FILE [--after SEQ]`: what the
 * node would get by pulling from after (< 0: what the office has, the
 * cursor its latest imported bundle reported (bundle_cursors) when that is
 * newer than its last pull, else nodes.pull_cursor, the cursor it last
 * pulled from), sealed for it alone (sync_hub_bundle_encode) for
 * `outpost-sync import FILE` at the office.  Audited (bundle.export),
 * refused too.  Exit status. */
int hub_export_office(sqlite3 *db, const char *node_id, const char *file, int64_t after,
		      int json_out);

#endif
