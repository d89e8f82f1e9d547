/*
 * hub_keys.c - secrets apart from data at the hub (DESIGN.md, "Secrets are
 * not stored beside what they protect"; issue 11).
 *
 * DATA/master.key (32 random bytes in hex, mode 0600, made at first start)
 * never enters hub.db.  Under it:
 *   - every node's HMAC secret: nodes.secret_hex holds it wrapped
 *     (lib/crypto.h, AES-256-GCM, associated data "node_secret:NODE_ID");
 *   - the office CA's private key: DATA/ca.key holds its DER wrapped
 *     (associated data "ca_key", hub_ca.c);
 *   - every Local Area's wrapping key, derived: HMAC-SHA256(master,
 *     "outpost-la-key\n" LA) for key epoch 1, "outpost-la-key\n" LA "\n" N
 *     for epoch N >= 2.  The Local Area's SSN keys (case_keys.key_hex, one
 *     row per epoch, replicated to its nodes; model/casework.h) are kept
 *     wrapped under the wrapping key of its newest epoch (associated data
 *     "case_key:" + the row's id); a node gets that wrapping key by a signed
 *     GET /api/v1/sync/la-key and keeps it in its sync.json, outside node.db,
 *     and asks again when it can no longer unwrap its case keys.
 * So a copied hub.db or node.db alone reveals no SSN and forges no push.
 *
 * Key rotation (hub_keys_rotate): revoking a node, `outpost-hub
 * ssn-key-rotate` or POST /api/v1/local-areas/:id/ssn-key/rotate gives the
 * Local Area a new SSN key of the next epoch, and wraps all its keys again
 * under the new epoch's wrapping key, which a revoked node cannot fetch.
 * New SSNs are written under the new key; hub_keys_reencrypt() then writes
 * the stored ones again under it (and their keyed hash), a bounded batch at
 * a time, as ordinary hub writes that replicate; a pass that finds nothing
 * left marks the Local Area done up to its newest epoch (the hub's own
 * table ssn_reencrypted), and the passes after it read no participant of
 * it until a rotation, or a participant an office pushes under an older key
 * (hub_keys_note_row), reopens it.  Such a participant the push itself
 * writes again under the newest key before it ends
 * (hub_keys_reencrypt_pushed), as the pass would; the reopened pass is the
 * safety net.  What a revoked office PC
 * kept (its sync.json's wrapping key, the case keys it had pulled) reads
 * what it already held, and nothing written after the rotation.
 *
 * Retirement (hub_keys_retire, `outpost-hub ssn-key-retire`): a rotation
 * keeps every older key, so that what is still under it stays readable.
 * Once the Local Area's stored SSNs are all under the newest epoch and
 * every active node of it has pulled past the rotation, the older keys'
 * case_keys rows are deleted; the deletes replicate, so its nodes drop
 * them too, and neither side reads or writes under them again (the pass,
 * the duplicate check and the search use the epochs left).  An office PC
 * offline across the rotation may still push an SSN written under a
 * retired key (only --force retires past it, or one written in the
 * moments before its pull): that participant is quarantined with the
 * reason (hub_keys_note_row), never stored unreadable.
 *
 * Older data migrates at start (hub_keys_migrate): plain secrets and keys are
 * wrapped in place, with secure_delete on so the plain values do not stay in
 * free pages, and the case_keys rows' new values replicate to the nodes.
 * A new Local Area's key (made by a trigger in SQL, model/case_seed.c) is
 * wrapped before any node can pull it: hub_keys_wrap_new() runs before every
 * pull and snapshot page is built, and on the hub's timer.
 *
 * The master key is set once, before any thread runs, and then only read.
 */
#include "hub/hub.h"
#include "lib/buf.h"
#include "lib/crypto.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "model/casework.h"
#include "model/schema.h"
#include "sync/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MASTER_FILE "master.key"

static unsigned char master[32];
static int master_ok;

int hub_la_key(const char *la, int epoch, unsigned char out[32])
{
	char msg[160];
	int k;

	if (!master_ok || la == NULL)
		return -1;
	/* Epoch 1 keeps the derivation from before epochs: what nodes hold. */
	k = epoch <= 1 ? snprintf(msg, sizeof msg, "outpost-la-key\n%s", la)
		       : snprintf(msg, sizeof msg, "outpost-la-key\n%s\n%d", la, epoch);
	if (k < 0 || (size_t)k >= sizeof msg)
		return -1;
	return crypto_hmac_sha256(master, sizeof master, msg, strlen(msg), out);
}

static void aad_of(char *aad, size_t n, const char *what, const char *id)
{
	snprintf(aad, n, "%s:%s", what, id);
}

int hub_secret_wrap(const char *node_id, const unsigned char secret[SYNC_SECRET_LEN], char *out,
		    size_t n)
{
	char aad[128];

	if (!master_ok)
		return -1;
	aad_of(aad, sizeof aad, "node_secret", node_id);
	return crypto_wrap(master, aad, secret, SYNC_SECRET_LEN, out, n);
}

int hub_secret_unwrap(const char *node_id, const char *stored,
		      unsigned char secret[SYNC_SECRET_LEN])
{
	char aad[128];

	if (stored == NULL)
		return -1;
	if (!crypto_is_wrapped(stored)) /* not migrated yet (hub_keys_migrate) */
		return strlen(stored) == 2 * SYNC_SECRET_LEN
			       ? crypto_unhex(stored, secret, SYNC_SECRET_LEN)
			       : -1;
	if (!master_ok)
		return -1;
	aad_of(aad, sizeof aad, "node_secret", node_id);
	return crypto_unwrap(master, aad, stored, secret, SYNC_SECRET_LEN);
}

int hub_keys_wrap(const char *aad, const void *pt, size_t n, char *out, size_t outn)
{
	return master_ok ? crypto_wrap(master, aad, pt, n, out, outn) : -1;
}

int hub_keys_unwrap(const char *aad, const char *in, void *pt, size_t cap)
{
	return master_ok ? hub_keys_unwrap_under(master, aad, in, pt, cap) : -1;
}

int hub_keys_unwrap_under(const unsigned char key[32], const char *aad, const char *in, void *pt,
			  size_t cap)
{
	size_t hex = crypto_is_wrapped(in) ? strlen(in) - (sizeof CRYPTO_WRAP_PREFIX - 1) : 0;
	size_t n = hex / 2 > 28 ? hex / 2 - 28 : 0; /* nonce 12, tag 16 (lib/crypto.h) */

	if (n == 0 || n > cap || crypto_unwrap(key, aad, in, pt, n) != 0)
		return -1;
	return (int)n;
}

int hub_keys_master_read(const void *text, size_t len, unsigned char out[32])
{
	char hex[65];
	int rc;

	if (len < 64 || (len > 64 && ((const char *)text)[64] != '\n'))
		return -1;
	memcpy(hex, text, 64);
	hex[64] = '\0';
	rc = crypto_unhex(hex, out, 32);
	crypto_wipe(hex, sizeof hex);
	return rc;
}

/* 1 when db already keeps something wrapped (so its master.key is lost). */
static int has_wrapped(sqlite3 *db)
{
	if (db_int(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND"
		       " name IN ('nodes', 'case_keys')", 0) < 2)
		return 0;
	return db_int(db, "SELECT (SELECT count(*) FROM nodes WHERE secret_hex LIKE '"
			  CRYPTO_WRAP_PREFIX "%') + (SELECT count(*) FROM case_keys WHERE key_hex"
			  " LIKE '" CRYPTO_WRAP_PREFIX "%')", 1) > 0;
}

/* master.key: read it, or make it (0600, exclusive) on a new hub. */
static int master_load(sqlite3 *db, const char *data_dir, char *err, size_t n)
{
	char path[4096], hex[80] = "";
	int fd, rc = -1, missing;
	ssize_t got;

	snprintf(path, sizeof path, "%s/%s", data_dir, MASTER_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	missing = fd < 0 && errno == ENOENT;
	if (missing && has_wrapped(db)) {
		snprintf(err, n, "'%s' is missing but hub.db keeps secrets wrapped under it: restore "
				 "it from the backup kept apart from hub.db",
			 path);
		goto out;
	}
	if (missing) {
		if (crypto_random(master, sizeof master) != 0)
			goto out;
		crypto_hex(master, sizeof master, hex);
		hex[64] = '\n';
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || write(fd, hex, 65) != 65 || fsync(fd) != 0) {
			snprintf(err, n, "cannot create '%s': %s", path, strerror(errno));
			goto out;
		}
		log_info("new master key in '%s' (mode 0600): keep it with hub.db's backups, "
			 "apart from them",
			 path);
		rc = 0;
		goto out;
	}
	if (fd < 0) {
		snprintf(err, n, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	got = read(fd, hex, sizeof hex - 1);
	if (got < 0 || hub_keys_master_read(hex, (size_t)got, master) != 0) {
		snprintf(err, n, "'%s' is not a master key (64 hex digits); restore it from the "
				 "backup kept with hub.db",
			 path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	crypto_wipe(hex, sizeof hex);
	return rc;
}

static int case_source(const char *la, int epoch, unsigned char key[32])
{
	return hub_la_key(la, epoch, key);
}

int hub_keys_open(sqlite3 *db, const char *data_dir, char *err, size_t n)
{
	if (!master_ok) {
		if (master_load(db, data_dir, err, n) != 0)
			return -1;
		master_ok = 1;
		case_key_set_wrap_source(case_source);
	}
	return 0;
}

/* Run wrap on every row of sql (its plain values): how many it wrapped
 * (wrap: 1 wrapped, 0 left as it is, -1 error), or -1. */
static int wrap_rows(sqlite3 *db, const char *sql, int (*wrap)(sqlite3 *, sqlite3_stmt *, hlc *))
{
	sqlite3_stmt *st = NULL;
	hlc clk;
	int n = 0, rc = 0;

	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	if (db_prepare(db, &st, sql) != 0)
		return -1;
	while (rc >= 0 && sqlite3_step(st) == SQLITE_ROW)
		if ((rc = wrap(db, st, &clk)) > 0)
			n++;
	sqlite3_finalize(st);
	return rc < 0 ? -1 : n;
}

/* A node's plain secret (id, secret_hex) wrapped in place. */
static int wrap_secret(sqlite3 *db, sqlite3_stmt *st, hlc *clk)
{
	const char *id = db_col(st, 0), *hex = db_col(st, 1);
	unsigned char s[SYNC_SECRET_LEN];
	char w[CRYPTO_WRAP_LEN(SYNC_SECRET_LEN)];
	int ok;

	(void)clk;
	if (id == NULL || hex == NULL)
		return -1; /* out of memory: not a secret to leave plain */
	ok = hub_secret_unwrap(id, hex, s) == 0 && hub_secret_wrap(id, s, w, sizeof w) == 0;
	crypto_wipe(s, sizeof s);
	if (!ok)
		return 0; /* malformed: hub_node_get() refuses it as before */
	return db_run(db, "UPDATE nodes SET secret_hex=? WHERE id=?", "tt", w, id) != 0 ? -1 : 1;
}

/* A Local Area's plain case key (local_area_id, key_hex, updated_hlc, id)
 * wrapped in place, under its newest epoch's key (the new value replicates). */
static int wrap_case_key(sqlite3 *db, sqlite3_stmt *st, hlc *clk)
{
	const char *la = db_col(st, 0), *plain = db_col(st, 1), *at = NULL, *id = db_col(st, 3);
	unsigned char k[CASE_KEY_LEN], t[32];
	char w[CRYPTO_WRAP_LEN(CASE_KEY_LEN)], aad[160], ts[HLC_STRLEN];
	int ok;

	if (la == NULL || plain == NULL || id == NULL ||
	    (sqlite3_column_type(st, 2) == SQLITE_TEXT && (at = db_col(st, 2)) == NULL))
		return -1; /* out of memory: not a key to leave plain */
	aad_of(aad, sizeof aad, "case_key", id);
	ok = plain && strlen(plain) == 2 * CASE_KEY_LEN && crypto_unhex(plain, k, sizeof k) == 0 &&
	     hub_la_key(la, case_key_epoch(db, la), t) == 0 &&
	     crypto_wrap(t, aad, k, sizeof k, w, sizeof w) == 0;
	crypto_wipe(k, sizeof k);
	crypto_wipe(t, sizeof t);
	if (!ok)
		return 0;
	if (at != NULL)
		hlc_observe(clk, at);
	hlc_now(clk, ts);
	return db_run(db, "UPDATE case_keys SET key_hex=?, updated_hlc=? WHERE id=?"
			  " AND key_hex=?", "tttt", w, ts, id, plain) != 0 ? -1 : 1;
}

/* Wrap every plain node secret / case key in place: how many, or -1. */
static int wrap_secrets(sqlite3 *db)
{
	return wrap_rows(db, "SELECT id, secret_hex FROM nodes WHERE secret_hex NOT LIKE"
			     " '" CRYPTO_WRAP_PREFIX "%'", wrap_secret);
}

static int wrap_case_keys(sqlite3 *db)
{
	return wrap_rows(db, "SELECT local_area_id, key_hex, updated_hlc, id FROM case_keys"
			     " WHERE key_hex NOT LIKE '" CRYPTO_WRAP_PREFIX "%'", wrap_case_key);
}

int hub_keys_wrap_txn(sqlite3 *db)
{
	return master_ok && wrap_case_keys(db) < 0 ? -1 : 0;
}

int hub_keys_wrap_new(sqlite3 *db)
{
	if (db_int(db, "SELECT count(*) FROM case_keys WHERE key_hex NOT LIKE '" CRYPTO_WRAP_PREFIX
		       "%'", 0) == 0)
		return 0;
	if (db_exec(db, "PRAGMA secure_delete=ON") != 0 || db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (wrap_case_keys(db) < 0 || db_exec(db, "COMMIT") != 0) {
		db_exec(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

int hub_keys_migrate(sqlite3 *db)
{
	int a, b;

	/* Plain values must not stay behind in free pages. */
	if (db_exec(db, "PRAGMA secure_delete=ON") != 0 || db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if ((a = wrap_secrets(db)) < 0 || (b = wrap_case_keys(db)) < 0 ||
	    db_exec(db, "COMMIT") != 0) {
		db_exec(db, "ROLLBACK");
		return -1;
	}
	/* ... nor in the WAL: when something was wrapped (a new hub, or older
	 * data), copy it all back and empty the WAL, before anyone else opens
	 * the database. */
	if (a + b > 0)
		db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	return 0;
}

/* ---- key epochs: rotation and re-encryption ----------------------------------- */

/* Where a re-encryption pass is: its position (the Local Area, "" at its
 * start, then the epoch and participants.id of the last row read, in the
 * order of index participants_ssn_epoch) and the sum of
 * ssn_reencrypted.reopened when it began. */
typedef struct reenc_pass {
	char rp_la[64], rp_after[64];
	int64_t rp_epoch, rp_gen;
} reenc_pass;

/* A rotation the serving hub made since its last full re-encryption pass
 * (and at start), and that pass (hub_keys_reencrypt's, batch by batch).
 * Loop thread; hub_keys_reencrypt_all's pass is its caller's own. */
static int reencrypt_due = 1;
static reenc_pass loop_pass;

/* Each Local Area's newest key epoch k(la, e) (case_keys: LA, LA:eN), and
 * todo(la, e): those of a second key or more not marked done up to it. */
#define REENCRYPT_TODO                                                                         \
	"k(la, e) AS (SELECT local_area_id, max(CASE WHEN id = local_area_id"                  \
	"  THEN 1 ELSE CAST(substr(id, length(local_area_id) + 3) AS INTEGER) END)"            \
	"  FROM case_keys GROUP BY local_area_id),"                                            \
	" todo(la, e) AS (SELECT k.la, k.e FROM k LEFT JOIN ssn_reencrypted m"                 \
	"  ON m.local_area_id = k.la WHERE k.e >= 2 AND m.epoch IS NOT k.e)"

/* Something new for the pass in Local Area la: its mark undone, and a pass
 * under way (which may have gone past that row) does not mark at its end. */
static int reopen(sqlite3 *db, const char *la)
{
	return db_run(db, "INSERT INTO ssn_reencrypted(local_area_id, epoch, reopened)"
			  " VALUES(?1, 0, 1) ON CONFLICT(local_area_id) DO UPDATE SET epoch = 0,"
			  " reopened = reopened + 1", "t", la);
}

/* hub_keys_rotate's work, within the savepoint. */
static int rotate(sqlite3 *db, const char *la, int cur, const char *ts)
{
	unsigned char k[CASE_KEY_LEN], t[32];
	char w[CRYPTO_WRAP_LEN(CASE_KEY_LEN)], aad[160], id[128];
	int ret = -1, rc;

	if (hub_la_key(la, cur + 1, t) != 0)
		goto out;
	/* Every key the Local Area had, wrapped again under the new epoch's
	 * wrapping key: its nodes keep reading their older SSNs with the one
	 * key they hold, a revoked one no longer gets the rows. */
	for (int e = 1; e <= cur; e++) {
		if ((rc = case_key_load_at(db, la, e, k)) == 1)
			continue; /* retired */
		if (rc != 0 || case_key_id(la, e, id, sizeof id) != 0)
			goto out;
		aad_of(aad, sizeof aad, "case_key", id);
		if (crypto_wrap(t, aad, k, sizeof k, w, sizeof w) != 0 ||
		    db_run(db, "UPDATE case_keys SET key_hex=?, updated_hlc=? WHERE id=?", "ttt", w, ts,
			   id) != 0)
			goto out;
	}
	if (crypto_random(k, sizeof k) != 0 || case_key_id(la, cur + 1, id, sizeof id) != 0 ||
	    reopen(db, la) != 0)
		goto out;
	aad_of(aad, sizeof aad, "case_key", id);
	if (crypto_wrap(t, aad, k, sizeof k, w, sizeof w) != 0 ||
	    db_run(db, "INSERT INTO case_keys(id, local_area_id, key_hex, created_at, updated_hlc)"
		       " VALUES(?, ?, ?, ?, ?)", "tttIt", id, la, w, (int64_t)hub_now_ms(), ts) != 0)
		goto out;
	ret = 0;
out:
	crypto_wipe(k, sizeof k);
	crypto_wipe(t, sizeof t);
	return ret;
}

int hub_keys_rotate(sqlite3 *db, const char *la, int *epoch)
{
	char at[HLC_STRLEN] = "", ts[HLC_STRLEN];
	hlc clk;
	int cur;

	if (!master_ok || la == NULL)
		return -1;
	if ((cur = case_key_epoch(db, la)) <= 0)
		return cur < 0 ? -1 : 1;
	if (cur >= CASE_KEY_EPOCH_MAX) {
		log_warnx("cannot rotate the SSN key of Local Area %s: it has had %d keys", la, cur);
		return -1;
	}
	/* Later than the rows' own stamps, as wrap_case_key's. */
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	if (db_text(db, "SELECT max(updated_hlc) FROM case_keys WHERE local_area_id=?", la, at,
		    sizeof at) == 0 && at[0])
		hlc_observe(&clk, at);
	hlc_now(&clk, ts);
	if (db_exec(db, "SAVEPOINT ssn_key_rotate") != 0)
		return -1;
	if (rotate(db, la, cur, ts) != 0) {
		db_exec(db, "ROLLBACK TO ssn_key_rotate");
		db_exec(db, "RELEASE ssn_key_rotate");
		log_warnx("cannot rotate the SSN key of Local Area %s", la);
		return -1;
	}
	if (db_exec(db, "RELEASE ssn_key_rotate") != 0)
		return -1;
	reencrypt_due = 1;
	loop_pass.rp_la[0] = '\0';
	if (epoch)
		*epoch = cur + 1;
	log_info("Local Area %s: new SSN key (epoch %d); stored SSNs are written again under it",
		 la, cur + 1);
	return 0;
}

/* One participant's SSN under its Local Area's newest key, in place: 1 done,
 * 0 left (unreadable here, or changed since it was read), -1. */
static int reencrypt_one(sqlite3 *db, hlc *clk, const char *id, const char *la, const char *old,
			 const char *at, const char *kind)
{
	char digits[10], enc[CASE_SSN_ENC_MAX + 1], mac[65], ts[HLC_STRLEN];
	int ok, rc = -1;

	if (case_ssn_reveal_db(db, la, id, old, digits) != 0)
		return 0; /* e.g. stored by a stand-alone node under its own key */
	ok = case_ssn_protect_db(db, la, id, digits, enc, mac) == 0;
	crypto_wipe(digits, sizeof digits);
	if (!ok)
		goto out;
	if (at)
		hlc_observe(clk, at);
	hlc_now(clk, ts);
	/* The hub's write on the columns' clocks (an office's older edit of
	 * them, still on its way, is a conflict, not an undo), then one UPDATE
	 * through the change log: the row replicates as any other. */
	if (sync_hub_clock_stamp(db, "participants", "ssn_enc", "id=?1", id, ts) != 0 ||
	    sync_hub_clock_stamp(db, "participants", "ssn_hmac", "id=?1", id, ts) != 0 ||
	    db_run(db, "UPDATE participants SET ssn_enc=?2, ssn_hmac=?3, updated_hlc=?4"
		       " WHERE id=?1 AND ssn_enc=?5", "ttttt", id, enc, mac, ts, old) != 0)
		goto out;
	rc = sqlite3_changes(db) > 0;
	/* The same person registered before and after the rotation: their
	 * hashes match from now on. */
	if (rc > 0 && kind && strcmp(kind, "real") == 0 &&
	    case_flag_duplicates(db, id, ts, hub_now_ms()) < 0)
		rc = -1;
out:
	crypto_wipe(enc, sizeof enc);
	crypto_wipe(mac, sizeof mac);
	return rc;
}

/* 1 when Local Area la's key of epoch e, older than its newest, was
 * retired (hub_keys_retire: its case_keys row is gone), 0 not, -1. */
static int epoch_retired(sqlite3 *db, const char *la, int e, int newest)
{
	char id[128];
	int64_t n;

	if (e < 1 || e >= newest)
		return 0;
	if (case_key_id(la, e, id, sizeof id) != 0)
		return -1;
	n = db_int_bound(db, -1, "SELECT count(*) FROM case_keys WHERE id=?1", "t", id);
	return n < 0 ? -1 : n == 0;
}

/* The participants the push on this thread stored under an older key than
 * their Local Area's newest (hub_keys_note_row), each id and its NUL, for
 * hub_keys_reencrypt_pushed.  Each came in the push's frame, so they fit
 * its bound; past it, the reopened pass writes them. */
static _Thread_local buf pushed = BUF_INIT(SYNC_MAX_PUSH_FRAME);

static void note_pushed(const char *id)
{
	size_t k = id ? strlen(id) + 1 : 0;

	/* (one row in entry after entry: noted once) */
	if (k == 0 || (pushed.len >= k && memcmp(pushed.data + pushed.len - k, id, k) == 0 &&
		       (pushed.len == k || pushed.data[pushed.len - k - 1] == '\0')))
		return;
	buf_append(&pushed, id, k);
}

void hub_keys_pushed_forget(void)
{
	buf_release(&pushed);
	buf_init(&pushed, SYNC_MAX_PUSH_FRAME);
}

int hub_keys_note_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
		      size_t n)
{
	const char *la = json_str(row, "local_area_id"), *enc = json_str(row, "ssn_enc");
	int e, at, gone = 0;

	/* (outside a push, the console's resolution of a conflict, both count
	 * as set: model_change_may_set) */
	if (tbl == NULL || strcmp(tbl, "participants") != 0 || op == SQLITE_DELETE || la == NULL ||
	    enc == NULL || (!model_change_may_set("ssn_enc") && !model_change_may_set("local_area_id")))
		return 0;
	/* Written by an office that did not have the newest key yet. */
	at = case_ssn_epoch(enc);
	if ((e = case_key_epoch(db, la)) < 0 || (gone = epoch_retired(db, la, at, e)) < 0 ||
	    (at < e && !gone && reopen(db, la) != 0))
		CANNOT_CHECK("participants: cannot read the Local Area's SSN key");
	/* ... which the push writes again before it ends. */
	if (at < e && !gone && hub_push_node() != NULL)
		note_pushed(json_str(row, "id"));
	/* ... nor even the key it wrote under: stored, the SSN would be lost. */
	if (gone)
		REFUSE("participants: the SSN is under the Local Area's SSN key of epoch %d, which the"
		       " hub has retired (the newest is epoch %d): no one can read it; record the SSN"
		       " again at the office", at, e);
	return 0;
}

void hub_keys_retire_detail(char *out, size_t n, int retired, int epoch, const char *msg)
{
	snprintf(out, n, "%d older key(s), epoch %d kept%s%s", retired, epoch,
		 msg && msg[0] ? "; " : "", msg ? msg : "");
}

/* hub_keys_retire's checks, nothing written: 0 to go on (msg naming the
 * nodes force goes past, if any), or its answer; id (n bytes) gets the
 * newest key's case_keys.id. */
static int retire_check(sqlite3 *db, const char *la, int force, int *epoch, char *id, size_t idn,
			char *msg, size_t mn)
{
	sqlite3_stmt *st = NULL;
	sqlite3_str *names = NULL;
	int cur, ret = -1;
	int64_t older, done, seq;

	msg[0] = '\0';
	if (!master_ok || la == NULL)
		return -1;
	if ((cur = case_key_epoch(db, la)) <= 0)
		return cur < 0 ? -1 : HUB_RETIRE_NO_LA;
	*epoch = cur;
	if (case_key_id(la, cur, id, idn) != 0 ||
	    (older = db_int_bound(db, -1, "SELECT count(*) FROM case_keys WHERE local_area_id=?1"
					  " AND id<>?2", "tt", la, id)) < 0)
		return -1;
	if (older == 0)
		return HUB_RETIRE_NONE;
	/* (a) What the hub stores: an SSN still under an older key would be
	 * lost.  No --force past this. */
	if ((done = db_int_bound(db, -1, "SELECT coalesce((SELECT epoch FROM ssn_reencrypted"
					 " WHERE local_area_id=?1), 0)", "t", la)) < 0)
		return -1;
	if (done != cur) {
		snprintf(msg, mn, "the stored SSNs of Local Area %s are not all written again under"
				  " its newest key (epoch %d) yet: the serving hub does it every minute,"
				  " and again for an SSN an office pushes under an older key; try again"
				  " later", la, cur);
		return HUB_RETIRE_REFUSED;
	}
	/* (b) What the offices may still hold: an active node that has not
	 * pulled past the newest key's row (the rotation) writes under an
	 * older key and may push that later. */
	if ((seq = db_int_bound(db, -1, "SELECT coalesce(max(seq), 0) FROM change_log WHERE"
					" scope_office IS NULL AND scope_la=?1 AND tbl='case_keys'"
					" AND row_id=?2", "tt", la, id)) < 0 ||
	    db_prepare_bound(db, &st, "SELECT id, office_id FROM nodes WHERE local_area_id=?1"
				      " AND revoked_at IS NULL AND pull_cursor < ?2 ORDER BY id",
			     "tI", la, seq) != 0)
		return -1;
	names = sqlite3_str_new(db);
	while (sqlite3_step(st) == SQLITE_ROW)
		sqlite3_str_appendf(names, "%s%s (office %s)", sqlite3_str_length(names) ? ", " : "",
				    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
	if (sqlite3_finalize(st) != SQLITE_OK || sqlite3_str_errcode(names) != SQLITE_OK)
		goto out;
	if (sqlite3_str_length(names) > 0) {
		/* (the way past, when refused, is the caller's to word: the
		 * command's --force, the route's "force") */
		snprintf(msg, mn, "%s of Local Area %s not pulled since its SSN key of epoch %d was"
				  " made, and may still hold and push SSNs under an older key: %s",
			 force ? "forced past nodes" : "nodes", la, cur, sqlite3_str_value(names));
		if (!force) {
			ret = HUB_RETIRE_NODES;
			goto out;
		}
	}
	ret = 0;
out:
	sqlite3_free(sqlite3_str_finish(names));
	return ret;
}

int hub_keys_retire_check(sqlite3 *db, const char *la, int force, int *epoch, char *msg,
			  size_t mn)
{
	char id[128];

	return retire_check(db, la, force, epoch, id, sizeof id, msg, mn);
}

int hub_keys_retire(sqlite3 *db, const char *la, int force, int *epoch, int *retired, char *msg,
		    size_t mn)
{
	char id[128];
	int rc;

	if ((rc = retire_check(db, la, force, epoch, id, sizeof id, msg, mn)) != 0)
		return rc;
	/* The older keys' rows go, their bytes too (free pages); the deletes
	 * replicate to the Local Area's nodes. */
	if (db_exec(db, "PRAGMA secure_delete=ON") != 0 ||
	    db_run(db, "DELETE FROM case_keys WHERE local_area_id=?1 AND id<>?2", "tt", la, id) != 0)
		return -1;
	*retired = sqlite3_changes(db);
	log_info("Local Area %s: %d older SSN key(s) retired; epoch %d's is the only one left", la,
		 *retired, *epoch);
	return 0;
}

struct reenc_row {
	char id[64], la[64], enc[CASE_SSN_ENC_MAX + 1], at[HLC_STRLEN], kind[8];
	int64_t epoch;
};

/* Rows of st (id, local_area_id, ssn_enc, updated_hlc, ssn_kind, epoch)
 * into r[*n], up to HUB_REENCRYPT_BATCH: 0, or -1. */
static int reenc_rows(sqlite3_stmt *st, struct reenc_row *r, int *n)
{
	int rc = SQLITE_DONE;

	while (*n < HUB_REENCRYPT_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reenc_row *w = &r[*n];
		const char *c[5];
		if (db_cols(st, c, 5) != 0)
			return -1;
		snprintf(w->id, sizeof w->id, "%s", c[0]);
		snprintf(w->la, sizeof w->la, "%s", c[1]);
		snprintf(w->enc, sizeof w->enc, "%s", c[2]);
		snprintf(w->at, sizeof w->at, "%s", c[3]);
		snprintf(w->kind, sizeof w->kind, "%s", c[4]);
		w->epoch = sqlite3_column_int64(st, 5);
		++*n;
	}
	return *n == HUB_REENCRYPT_BATCH || rc == SQLITE_DONE ? 0 : -1;
}

#define REENC_COLS "SELECT id, local_area_id, ssn_enc, updated_hlc, ssn_kind, " HUB_SSN_EPOCH_SQL

/* The SSNs of Local Area la under an epoch older than e, its newest, past
 * pass p's position when p is in la, in the index's order (epoch, id),
 * into r[*n] up to a batch: the index participants_ssn_epoch (hub_state.c)
 * gives them, no other participant is read.  0, or -1. */
static int reenc_older(sqlite3 *db, const reenc_pass *p, const char *la, int64_t e,
		       struct reenc_row *r, int *n)
{
	sqlite3_stmt *st = NULL;
	int64_t from = INT64_MIN;
	int rc = 0;

	/* The rest of the position's epoch ... */
	if (strcmp(la, p->rp_la) == 0) {
		from = p->rp_epoch;
		if (db_prepare_bound(db, &st, REENC_COLS " FROM participants WHERE local_area_id=?1"
						      " AND ssn_enc IS NOT NULL AND " HUB_SSN_EPOCH_SQL
						      " = ?2 AND ?2 < ?3 AND id > ?4 ORDER BY id LIMIT ?5",
				     "tIIti", la, from, e, p->rp_after, HUB_REENCRYPT_BATCH) != 0)
			return -1;
		rc = reenc_rows(st, r, n);
		sqlite3_finalize(st);
		st = NULL;
	}
	/* ... then the epochs after it, older than the newest. */
	if (rc == 0 && *n < HUB_REENCRYPT_BATCH) {
		if (db_prepare_bound(db, &st, REENC_COLS " FROM participants WHERE local_area_id=?1"
						      " AND ssn_enc IS NOT NULL AND " HUB_SSN_EPOCH_SQL
						      " > ?2 AND " HUB_SSN_EPOCH_SQL " < ?3 ORDER BY "
						      HUB_SSN_EPOCH_SQL ", id LIMIT ?4",
				     "tIIi", la, from, e, HUB_REENCRYPT_BATCH) != 0)
			return -1;
		rc = reenc_rows(st, r, n);
		sqlite3_finalize(st);
	}
	return rc;
}

/* The next batch of pass p: how many SSNs it wrote, or -1.  *end is set
 * when it was the pass's last (p then starts again), *again when the pass
 * was reopened meanwhile (it did not mark: a row may lie behind it). */
static int reencrypt_batch(sqlite3 *db, hlc *clk, reenc_pass *p, int *end, int *again)
{
	struct reenc_row *r = NULL;
	sqlite3_stmt *st = NULL;
	int n = 0, done = 0, ret = -1, step = SQLITE_DONE;
	int64_t todo, reopened = -1;

	*end = *again = 0;
	/* Every Local Area of a second key done up to its newest: nothing to
	 * scan for (case_keys and the marks are read, no participant). */
	if ((todo = db_int(db, "WITH " REENCRYPT_TODO " SELECT count(*) FROM todo", -1)) <= 0) {
		if (todo == 0) {
			*end = 1;
			p->rp_la[0] = '\0';
		}
		return todo == 0 ? 0 : -1;
	}
	if (p->rp_la[0] == '\0' &&
	    (p->rp_gen = db_int(db, "SELECT total(reopened) FROM ssn_reencrypted", -1)) < 0)
		return -1;
	if ((r = calloc(HUB_REENCRYPT_BATCH, sizeof *r)) == NULL)
		return -1;
	/* SSNs not under their Local Area's newest epoch, in those not done,
	 * one Local Area after another from the pass's position. */
	if (db_prepare_bound(db, &st, "WITH " REENCRYPT_TODO " SELECT la, e FROM todo"
				      " WHERE la >= ?1 ORDER BY la", "t", p->rp_la) != 0)
		goto out;
	while (n < HUB_REENCRYPT_BATCH && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *la = db_col(st, 0);
		if (la == NULL || reenc_older(db, p, la, sqlite3_column_int64(st, 1), r, &n) != 0)
			goto out;
	}
	if (n < HUB_REENCRYPT_BATCH && step != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		goto out;
	for (int i = 0; i < n; i++) {
		int rc = reencrypt_one(db, clk, r[i].id, r[i].la, r[i].enc, r[i].at, r[i].kind);
		if (rc < 0) {
			db_exec(db, "ROLLBACK");
			goto out;
		}
		done += rc;
	}
	/* The end of the pass: the Local Areas it went through are done up to
	 * their newest epoch, unless one was reopened since it began (a row
	 * it may have gone past: it starts again). */
	if (n < HUB_REENCRYPT_BATCH &&
	    (reopened = db_int(db, "SELECT total(reopened) FROM ssn_reencrypted", -1)) ==
		    p->rp_gen &&
	    db_exec(db, "WITH " REENCRYPT_TODO " INSERT INTO ssn_reencrypted(local_area_id, epoch)"
			" SELECT la, e FROM todo WHERE 1 ON CONFLICT(local_area_id) DO UPDATE"
			" SET epoch = excluded.epoch") != 0) {
		db_exec(db, "ROLLBACK");
		goto out;
	}
	if (db_exec(db, "COMMIT") != 0) {
		db_exec(db, "ROLLBACK");
		goto out;
	}
	/* Past rows this hub cannot read, so they do not stop the pass. */
	if (n == HUB_REENCRYPT_BATCH) {
		snprintf(p->rp_la, sizeof p->rp_la, "%s", r[n - 1].la);
		snprintf(p->rp_after, sizeof p->rp_after, "%s", r[n - 1].id);
		p->rp_epoch = r[n - 1].epoch;
	} else {
		p->rp_la[0] = '\0';
		*end = 1;
		*again = reopened != p->rp_gen;
	}
	if (done > 0)
		log_info("%d stored SSN(s) written again under their Local Area's newest key", done);
	ret = done;
out:
	sqlite3_finalize(st);
	if (r) {
		crypto_wipe(r, HUB_REENCRYPT_BATCH * sizeof *r);
		free(r);
	}
	return ret;
}

int hub_keys_reencrypt(sqlite3 *db, hlc *clk, int always)
{
	int n, end, again;

	if (!master_ok || (!reencrypt_due && !always))
		return 0;
	if ((n = reencrypt_batch(db, clk, &loop_pass, &end, &again)) >= 0 && end)
		reencrypt_due = again;
	return n;
}

int hub_keys_reencrypt_all(sqlite3 *db, hlc *clk)
{
	reenc_pass p = {.rp_la = ""};
	int n, end, again, total = 0, passes = 0;
	int64_t delay = fault_reencrypt_delay_ms();

	if (!master_ok)
		return 0;
	if (delay > 0)
		usleep((useconds_t)delay * 1000);
	/* To the pass's end, past batches that wrote nothing (rows this hub
	 * cannot read); once more when it was reopened meanwhile. */
	do {
		if ((n = reencrypt_batch(db, clk, &p, &end, &again)) < 0)
			return -1;
		total += n;
	} while (!end || (again && ++passes < 2));
	return total;
}

int hub_keys_reencrypt_pushed(sqlite3 *db)
{
	struct reenc_row r;
	sqlite3_stmt *st = NULL;
	hlc clk;
	int rc = 0, got, e;

	if (!master_ok || pushed.len == 0)
		goto out;
	/* Past every office stamp the hub holds, this push's too: as the
	 * pass's, the hub's write follows the office's it replaces. */
	hlc_init(&clk, HUB_NODE_ID, NULL, NULL);
	sync_hub_stamp_observe(db, &clk);
	for (size_t at = 0; rc == 0 && at < pushed.len; at += strlen(pushed.data + at) + 1) {
		got = 0;
		if (db_prepare_bound(db, &st, REENC_COLS " FROM participants WHERE id=?1 AND ssn_enc"
						      " IS NOT NULL", "t", pushed.data + at) != 0 ||
		    reenc_rows(st, &r, &got) != 0) {
			rc = -1;
			break;
		}
		sqlite3_finalize(st);
		st = NULL;
		/* (gone, or its SSN too, since: nothing to write) */
		if (got == 0)
			continue;
		if ((e = case_key_epoch(db, r.la)) < 0) {
			rc = -1;
			break;
		}
		/* (a later entry, or a newer write the merge kept, put it
		 * under the newest already) */
		if (r.epoch >= e)
			continue;
		/* One row at a time: a failure leaves no column clock moved
		 * without its write. */
		if (db_exec(db, "SAVEPOINT ssn_pushed") != 0) {
			rc = -1;
			break;
		}
		if (reencrypt_one(db, &clk, r.id, r.la, r.enc, r.at, r.kind) < 0) {
			db_exec(db, "ROLLBACK TO ssn_pushed");
			rc = -1;
		}
		db_exec(db, "RELEASE ssn_pushed");
	}
out:
	sqlite3_finalize(st);
	crypto_wipe(&r, sizeof r);
	hub_keys_pushed_forget();
	return rc;
}
