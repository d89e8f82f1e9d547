/*
 * client.h - the node's side of the replication protocol (sync.h): its sync
 * identity (DIR/sync.json), signed HTTPS requests to the hub with the hub's
 * public key pinned, enrollment, push, pull, the full cycle, the local lag
 * figures, and offline bundles (sync/bundle.c).
 *
 * Everything here blocks (libcurl easy interface): call it from the
 * outpost-sync command or from a uv work thread, never from a loop thread.
 * A sync_client and the sqlite3 connection passed with it belong to one
 * thread at a time.
 *
 * Node-local tables (component "nodesync", created by sync_client_db_open()
 * or sync_client_migrate()):
 *   sync_state(key, value)             acked_seq, head_seq, seq_base,
 *                                      enrolled_node_id, last_error
 *   sync_quarantine(seq, reason, at)   entries the hub refused (kept there)
 * and in node_meta (owned by the node): node_id, office_id, local_area_id,
 * clock_offset_ms, last_contact_ms; sync_cursor and last_pull_ms are
 * written by sync_node_apply_pull().
 *
 * Outbox seqs and wire seqs: the hub expects a node's seqs to start at 1.  A
 * node that wrote (or synced under another identity) before this enrollment
 * keeps its local AUTOINCREMENT seqs, so the wire seq is local seq minus
 * sync_state.seq_base, fixed when the identity is adopted.
 *
 * Return codes: 0, or one of the SYNC_E_* values below; a one-line message
 * for people is left in the client's sc_error (or the caller's err buffer).
 * No function here ever logs or returns the node secret or a signature.
 */
#ifndef OUTPOST_SYNC_CLIENT_H
#define OUTPOST_SYNC_CLIENT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/db.h"
#include "sync/sync.h"

#define SYNC_IDENTITY_FILE "sync.json"
#define SYNC_NODE_DB_FILE "node.db"
#define SYNC_CONNECT_TIMEOUT_MS 5000           /* TCP + TLS handshake */
#define SYNC_REQUEST_TIMEOUT_MS (120 * 1000)   /* one small request, whole */
/* a push batch, pull page, snapshot: the hub lets a body take 15 minutes
 * while it keeps coming (HTTP_BODY_MAX_MS, lib/http.h), so a full batch on a
 * slow uplink gets as long here, and the hub's time to apply it */
#define SYNC_TRANSFER_TIMEOUT_MS (20 * 60 * 1000)
#define SYNC_STALL_TIMEOUT_S 30                /* no byte for this long: give up */
#define SYNC_SKEW_WARN_MS (2 * 60 * 1000)      /* clock_skew_warning beyond this */

enum {
	SYNC_OK = 0,
	SYNC_E_CONFIG = -2,      /* not enrolled, unreadable sync.json, no node.db */
	SYNC_E_UNREACHABLE = -3, /* no TCP/TLS connection, timeout */
	SYNC_E_AUTH = -4,        /* 401: node revoked or unknown, bad signature */
	SYNC_E_PIN = -5,         /* the hub's key is not the pinned one */
	SYNC_E_SCHEMA = -6,      /* 426: schema version refused */
	SYNC_E_MISMATCH = -7,    /* verify: digests differ */
	SYNC_E_OTHER = -8,       /* hub error, protocol error, local database */
	SYNC_E_PENDING = -9,     /* pull refused: local changes not pushed yet */
	SYNC_E_BUNDLE = -10,     /* import: a bundle damaged, foreign or of the wrong kind */
};

/* Short name of a SYNC_E_* code ("unreachable", "pin", ...) for JSON. */
const char *sync_strerror(int rc);

/* ---- identity: DIR/sync.json, mode 0600 ------------------------------------ */

typedef struct sync_identity {
	char id_hub_url[512];
	char id_node_id[64];
	unsigned char id_secret[SYNC_SECRET_LEN];
	char id_pin[128];          /* "sha256//base64" for CURLOPT_PINNEDPUBLICKEY */
	char id_office_id[64];
	char id_local_area_id[64];
	/* The wrapping key of the Local Area's SSN key (hub/hub_keys.c): fetched
	 * from the hub (GET /api/v1/sync/la-key) and kept here, outside node.db. */
	unsigned char id_la_key[32];
	int id_has_la_key;
} sync_identity;

/* Read DIR/sync.json.  0; SYNC_E_CONFIG when missing (err says "not
 * enrolled"), malformed, or readable by group/others. */
int sync_identity_load(const char *data_dir, sync_identity *id, char *err, size_t errlen);
/* Write DIR/sync.json atomically (temporary file, fsync, rename) with mode
 * 0600.  0 or SYNC_E_CONFIG. */
int sync_identity_save(const char *data_dir, const sync_identity *id, char *err, size_t errlen);
/*
 * The same, only while DIR/sync.json is still the file `loaded` describes
 * (stat(2) of it when id was read): else nothing is written and 1 returned
 * (err says why), as a newer enrollment wins and the caller reloads.  The
 * check and the write hold a lock on DIR that sync_identity_save() also
 * takes.  *now (may be NULL): the new file's stat(2).
 */
struct stat;
int sync_identity_update(const char *data_dir, const sync_identity *id, const struct stat *loaded,
			 struct stat *now, char *err, size_t errlen);
/* 1 when a and b (stat(2) results) are the same version of a file. */
int sync_identity_same_file(const struct stat *a, const struct stat *b);
/* Overwrite the secret in memory. */
void sync_identity_wipe(sync_identity *id);

/* ---- node.db ------------------------------------------------------------------- */

/* Create the nodesync tables (idempotent, safe against a concurrent node). */
int sync_client_migrate(sqlite3 *db);
/*
 * Make id the node's identity in db, once per enrollment: node_meta node_id,
 * office_id, local_area_id; sync_state seq_base (pending entries will be
 * pushed as 1, 2, ...) and enrolled_node_id; the pull cursor is dropped so a
 * new identity starts from a snapshot.  Does nothing when db already has
 * this identity.  *changed (may be NULL) = 1 when something was written.
 * 0 or SYNC_E_OTHER.
 */
int sync_client_adopt(sqlite3 *db, const sync_identity *id, int *changed);
/* Open DIR/node.db (which the node creates on its first start), run
 * sync_client_migrate().  0, SYNC_E_CONFIG (no node.db / not a node
 * database / its schema is not this program's, schema_compare) or
 * SYNC_E_OTHER; err filled. */
int sync_client_db_open(const char *data_dir, sqlite3 **db, char *err, size_t errlen);

/*
 * The node's replication figures, read from db (no network): {"pending",
 * "pending_bytes", "oldest_pending_ms", "oldest_pending_age_ms", "acked_seq",
 * "head_seq", "cursor", "snapshot_table" (where a snapshot under way has
 * got to, else null), "last_contact_ms", "last_pull_ms",
 * "clock_offset_ms", "clock_skew_warning", "quarantined":[{"seq","reason",
 * "at"}], "last_error"}; absent figures are null.  now_ms is the local wall
 * clock.  Caller frees; NULL on error.
 */
struct cJSON *sync_client_status_json(sqlite3 *db, uint64_t now_ms);

/* ---- the client ----------------------------------------------------------------- */

/* Progress of a long transfer: what ("push", "pull", "snapshot"), done of
 * total units (entries for push, bytes otherwise; total 0 = unknown). */
typedef void (*sync_progress_fn)(void *arg, const char *what, uint64_t done, uint64_t total);

typedef struct sync_client {
	sync_identity sc_id;
	char sc_data[PATH_MAX];
	void *sc_curl;               /* CURL *, reused between requests */
	sync_progress_fn sc_progress;
	void *sc_progress_arg;
	const volatile int *sc_cancel; /* when set and non-zero, transfers abort */
	long sc_connect_timeout_ms;
	char sc_error[512];          /* one line, for people */
	int sc_have_time;            /* a reply carried X-Outpost-Time */
	int sc_hub_forgot;           /* the hub answered "unknown node" (restored from a
				      * backup older than the enrollment?): recorded,
				      * and enrolling again for the office sends the
				      * sent log again (sync_client_adopt) */
	int64_t sc_offset_ms;        /* hub clock minus local clock */
	uint64_t sc_last_contact_ms; /* local time of the last hub reply */
	const char *sc_body_encoding; /* Content-Encoding of the next POST body, or NULL */
	/* The last reply's X-Outpost-After-Table and X-Outpost-After-Id as sent
	 * (the id percent-encoded); "" when absent or too long. */
	char sc_after_table[64];
	char sc_after_id[3 * SYNC_SNAPSHOT_ID_MAX + 1];
	uint64_t sc_progress_base;   /* snapshot: bytes of the pages before this one */
	int64_t sc_hub_acked;        /* the last reply's X-Outpost-Acked, or -1 */
	/* The last reply's 426 (SYNC_E_SCHEMA): the hub's schema version and
	 * the one it refused (this node's, or its batch's), or -1. */
	int64_t sc_hub_schema, sc_refused_schema;
	int64_t sc_acked_before;     /* pull: the local acked_seq at its start, or -1 */
	sync_pull_told_fn sc_told;   /* pull pages: every row applied (sync.h), or NULL */
	void *sc_told_arg;
	/* Set by sync_client_cycle() for its pulls: what waits in the outbox
	 * when the pull begins is pushed (counted here) instead of ending the
	 * pull with SYNC_E_PENDING, as outpost-sync pull does (NULL). */
	struct sync_push_stats *sc_push_between;
} sync_client;

/* Call once per process before any thread uses the client (curl_global_init). */
int sync_client_global_init(void);
/* Load DIR/sync.json into a new client.  0 or SYNC_E_CONFIG (err filled);
 * *out NULL on failure.  Free with sync_client_free(). */
int sync_client_new(const char *data_dir, sync_client **out, char *err, size_t errlen);
void sync_client_free(sync_client *c);
/* Start signing with the clock offset known from an earlier contact, so a
 * node whose clock is off still signs a time the hub accepts. */
void sync_client_set_offset(sync_client *c, int64_t offset_ms);

/*
 * Enroll, verified (not trust on first use): read the key the hub presents
 * (GET /healthz, nothing secret sent) and check it against pin ("sha256//...",
 * when given) or else the key check that ends the code (sync_enroll_check; a
 * code without one needs a pin): a mismatch is SYNC_E_PIN before the code is
 * sent.  Then POST /api/v1/sync/enroll {code, hostname} pinned to that key,
 * check that the reply's hub_pin names it, and one more pinned request; then
 * write DIR/sync.json (0600) and, when DIR/node.db exists, adopt the identity
 * there.  hub_url must be https://.  out (may be NULL) gets the identity.
 * 0 or SYNC_E_*, with err filled.
 */
typedef struct sync_enroll_tls {
	const char *et_csr;            /* PEM certificate request of the node's key */
	const char *const *et_names;   /* names and addresses it serves */
	int et_nnames;
	char *et_cert;                 /* out: the signed chain (malloc'd), or NULL */
	char *et_ca_cert;              /* out: the office CA (malloc'd), or NULL */
} sync_enroll_tls;
/* tls (may be NULL): a certificate request sent with the enrollment, for
 * the hub (the office CA) to sign; the caller frees et_cert, et_ca_cert. */
int sync_client_enroll(const char *hub_url, const char *code, const char *pin,
		       sync_enroll_tls *tls, const char *data_dir, sync_identity *out, char *err,
		       size_t errlen);

/*
 * One signed request.  path_query starts with "/api/v1/" (at most 1500
 * bytes); body may be NULL.  *status gets the HTTP status, resp the body
 * (bounded by resp->max); hdr values of X-Outpost-Next/-Head/-More are
 * returned through next/head/more (each may be NULL; -1 when absent), those
 * of X-Outpost-After-Table/-Id in sc_after_table/sc_after_id.  Returns 0
 * whenever the hub answered (any status), or SYNC_E_UNREACHABLE /
 * SYNC_E_PIN / SYNC_E_OTHER.
 */
int sync_client_request(sync_client *c, const char *method, const char *path_query,
			const void *body, size_t len, long *status, buf *resp, int64_t *next,
			int64_t *head, int *more);
/* GET a JSON reply; 200 -> *out (caller frees).  Non-200 statuses map to
 * SYNC_E_AUTH (401), SYNC_E_SCHEMA (426) or SYNC_E_OTHER with sc_error set
 * from the hub's {"error"}. */
int sync_client_get_json(sync_client *c, const char *path_query, struct cJSON **out);

typedef struct sync_push_stats {
	int64_t ps_pending;      /* entries pending at the start */
	int64_t ps_sent;         /* entries sent (including retries) */
	int64_t ps_acked;        /* entries dropped from the outbox as acked */
	int ps_batches;
	int ps_applied, ps_skipped, ps_quarantined, ps_conflicts;
	int64_t ps_acked_seq;    /* local seq acked last (0 none) */
	int64_t ps_head_seq;     /* hub head after the last batch (-1 unknown) */
} sync_push_stats;

/*
 * Push the outbox in seq order, in frames of at most SYNC_MAX_BATCH_BYTES
 * (an entry larger than that alone in its frame), until it is empty.  After each 200 the acked entries are deleted and the
 * quarantined ones recorded in one transaction; on 409 the entries the hub
 * already has are dropped and the push goes on.  Resumable after any
 * failure.  st may be NULL.  0 or SYNC_E_*.
 */
int sync_client_push(sync_client *c, sqlite3 *db, sync_push_stats *st);
/*
 * The hub's acknowledgement carried by its bundle for this node (`outpost-
 * sync import`): ack[0..len) is a push reply's JSON (acked_seq, its
 * quarantined list) with acked_hlc, the HLC of the entry the hub took
 * under acked_seq.  Applied as a push's reply is (client_push.c: the
 * entries up to it move to the sent log, the quarantine notices are
 * kept, in one transaction) after that reply's checks: 0 with *dropped
 * the entries that left the outbox (0 when there is no acknowledgement or
 * the office has it already); 1 when it is not this outbox's (past every
 * seq it wrote, or another HLC at that seq: restored from a backup, or
 * another PC), nothing deleted, err saying so; -1 on a database error.
 */
int sync_client_bundle_ack(sqlite3 *db, const char *ack, size_t len, int64_t *dropped,
			   char *err, size_t n);

typedef struct sync_pull_stats {
	int pl_snapshot;         /* a snapshot was completed */
	int pl_snapshot_pages;   /* snapshot pages applied (a resumed one counts from here) */
	int pl_pages;
	uint64_t pl_bytes;
	int64_t pl_cursor;       /* cursor reached */
	int64_t pl_head;         /* hub head seq (-1 unknown) */
} sync_pull_stats;

/*
 * Pull: a snapshot first when the node has no cursor (or the hub answers
 * 410) - page by page, each applied with sync_node_apply_snapshot(), and
 * resumed from the recorded position when an earlier one was interrupted -
 * then pull pages until X-Outpost-More is 0, each applied with
 * sync_node_apply_pull().  SYNC_E_PENDING when local changes are waiting
 * (push first; a snapshot half-way stays recorded and resumes), unless
 * c->sc_push_between is set: then it pushes them itself and goes on (see
 * client_pull.c).  A page (pull or snapshot) asked for before a push that
 * has committed since (another process's: sync_node_push_gen()) is asked
 * for again.  Progress (sc_progress) is reported as "snapshot" with the
 * bytes of every page so far (total 0) and "pull" per page.  st may be
 * NULL.
 */
int sync_client_pull(sync_client *c, sqlite3 *db, sync_pull_stats *st);

/* Push, then pull (what waits when it begins pushed first, sc_push_between;
 * a page naming a row of a write that landed meanwhile ends it, and it is
 * begun again after a push, a few times), and push what is left.  Every
 * push's counts go to ps.  Stats may be NULL. */
int sync_client_cycle(sync_client *c, sqlite3 *db, sync_push_stats *ps, sync_pull_stats *pl);

/* Store what the last contact taught (node_meta clock_offset_ms,
 * last_contact_ms; sync_state last_error = err or cleared).  0 or -1. */
int sync_client_record(sync_client *c, sqlite3 *db, const char *err);

/* ---- offline bundles (sync/bundle.c) -------------------------------------------- */

typedef struct sync_bundle_stats {
	int bs_files;
	int64_t bs_entries;
	int64_t bs_first_seq, bs_last_seq;  /* local seqs */
	uint64_t bs_bytes;
	/* An earlier export's parts removed (part numbers: 1 is path itself,
	 * k the path.k), 0 and 0 when none; bs_left: the part number of a
	 * file named as the next part that is no Outpost bundle, left alone
	 * (0: none); bs_left_resend: that file is this node's own --resend
	 * export, which a plain export leaves (1) rather than removes. */
	int bs_stale_from, bs_stale_to, bs_left, bs_left_resend;
	int64_t bs_cursor; /* the office's pull cursor, what each file carries (-1: none yet) */
} sync_bundle_stats;

/*
 * Write the pending outbox of db as bundle files for `outpost-hub import`:
 * path, then path.2, path.3, ... when one frame cannot hold every entry (at
 * most SYNC_FRAME_MAX_ENTRIES entries or SYNC_BUNDLE_MAX bytes each); import
 * them in that order.  Each file is written atomically with mode 0600.  The
 * outbox is left alone (a later push is skipped as a replay by the hub).
 * 0 or SYNC_E_*, err filled.  Each file carries the office's pull cursor;
 * when the outbox is empty, path is one bundle of the cursor alone (an
 * empty frame: bs_files 1, bs_entries 0), written where nothing is or over
 * this node's own earlier bundle only (another file there is left, bs_left
 * 1, and nothing written); nothing either before the office has a cursor
 * (its first snapshot).  Pending changes are written by the same rule:
 * each part only where nothing is or over this node's own earlier bundle;
 * another file under a part's name is left and the export fails there
 * (SYNC_E_OTHER, err naming it; the parts before it are written, a whole
 * prefix).  Each part is written to a temporary name and renamed into
 * place (sync_bundle_write).  Once every part is written and synced (the file
 * and its directory), the parts of an earlier export that this one does
 * not replace are removed:
 * path.k after the last written (path too when nothing is written), each
 * only if it is an Outpost bundle of this node (its header read), up to the
 * first name that is missing or not such a bundle; so the folder holds this
 * export's parts alone.  Nothing is removed when the export fails.
 * with_sent: the sent log (what the hub acknowledged in the last
 * resend_days) first, for a hub restored from an older backup that cannot
 * be reached but by bundles (`outpost-sync export --resend`; the hub skips
 * what it has).  Such a file holds changes the office counts as the hub's
 * already, which a plain export does not carry: each part's nonce is noted
 * in sync_state (resend_bundles) as it is written, and a plain export
 * (with_sent 0) neither writes over nor removes a noted file: it fails
 * there (SYNC_E_OTHER, err naming it) when it has changes to write, and
 * leaves it (bs_left, bs_left_resend) when it has none.
 */
int sync_bundle_export(sqlite3 *db, const sync_identity *id, const char *path, int with_sent,
		       sync_bundle_stats *st, char *err, size_t errlen);
/* The same with files of at most max bytes each, not SYNC_BUNDLE_MAX
 * (test_frame's boundary). */
int sync__bundle_export(sqlite3 *db, const sync_identity *id, const char *path, int with_sent,
			size_t max, sync_bundle_stats *st, char *err, size_t errlen);
/* The codec itself (sync_bundle_encode/decode) is in sync.h: the hub reads bundles. */

/* ---- library internals (auth.c, client.c, bundle.c) ---------------------------- */
/* Build a frame of pending outbox entries after local seq `after` (wire seqs
 * = local - base), bounded by SYNC_FRAME_MAX_ENTRIES, all of one schema
 * version: entries are added while the frame stays within `target` bytes
 * (0 = out->max), and the first entry whenever it fits out->max at all - a
 * batch always carries at least one entry.  *first and *last get local seqs
 * (0 when none); *count the entries.  0; 1 when the first entry alone does
 * not fit in out->max; -1 on a database error. */
int sync__outbox_frame(sqlite3 *db, int64_t after, int64_t base, buf *out, size_t target,
		       int64_t *first, int64_t *last, int64_t *count);
/* The same over the sent log and the outbox, in seq order (export --resend). */
int sync__outbox_frame_sent(sqlite3 *db, int64_t after, int64_t base, buf *out, size_t target,
			    int64_t *first, int64_t *last, int64_t *count);
/* sync_state / node_meta: lib/db.h db_kv_get/db_kv_set. */

/* ---- restamp.c: entries written under the identity enrollment replaced ---- */
typedef struct sync__restamp_tab {
	char *rt_name;          /* table (owned) */
	unsigned char *rt_roles; /* its columns' roles (owned), rt_ncol of them */
	int rt_ncol;
} sync__restamp_tab;
typedef struct sync__restamp_map {
	int rm_active;          /* something to replace */
	char rm_from[3][64];    /* node id, office, Local Area replaced ("" = none) */
	char rm_to[3][64];      /* the current ones (node_meta) */
	sync__restamp_tab rm_tab[32]; /* column roles read so far, by table */
	int rm_ntab;
} sync__restamp_map;
/* The map from sync_state (prev_*, set by sync_client_adopt) and node_meta.
 * 0 or -1; release it with sync__restamp_release either way. */
int sync__restamp_load(sqlite3 *db, sync__restamp_map *m);
void sync__restamp_release(sync__restamp_map *m);
/* cs (a changeset) into out with the replaced identity's values in node_id,
 * office_id / scope_office and local_area_id / scope_la swapped for the
 * current ones; *changed = 1 when any was (0, out untouched, when cs holds
 * none of the replaced values' bytes).  0, or -1 (out unusable: send cs as
 * it is).  m keeps the column roles it reads. */
int sync__restamp(sqlite3 *db, sync__restamp_map *m, const void *cs, size_t len, buf *out,
		  int *changed);
/* An entry's own stamp hlc with the replaced node id as its node part,
 * into out (HLC_STRLEN bytes) with the current one: 1; else 0 (send hlc
 * as it is). */
int sync__restamp_hlc(const sync__restamp_map *m, const char *hlc, char *out);

/* ---- sent.c: acknowledged entries kept to send again to a restored hub ---- */
#define SYNC_RESEND_DAYS 14 /* default of sync_state 'resend_days' */
/* Create outbox_sent (idempotent).  0 or -1. */
int sync__sent_migrate(sqlite3 *db);
/* Inside the caller's transaction: copy outbox entries seq <= upto (local)
 * into the sent log, acked at now (ms), and drop those older than
 * resend_days.  0 or -1. */
int sync__sent_keep(sqlite3 *db, int64_t upto, int64_t now);
/* In its own transaction: the hub holds wire seqs <= hub_acked only; put the
 * sent entries after it back into the outbox and lower acked_seq.  *count
 * gets how many.  0 (count 0 when nothing was missing), or -1 with err
 * (the sent log does not reach back that far, or a database error); 1 with
 * err when it does not, but what it still holds was put back in the outbox
 * (acked_seq lowered to just before it): offered, it tells the hub where
 * this office's entries begin. */
int sync__sent_resend(sqlite3 *db, int64_t base, int64_t hub_acked, int64_t *count, char *err,
		      size_t errlen);
/* After a pull or snapshot reply: hub_acked is its X-Outpost-Acked (-1
 * absent), acked_before the node's local acked seq read before the request.
 * 0 the hub is not behind; 1 it is and the entries are back in the outbox
 * (err says so: push first); -1 error (err). */
int sync__hub_behind(sqlite3 *db, int64_t hub_acked, int64_t acked_before, char *err,
		     size_t errlen);

#endif
