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
 *     "outpost-la-key\n" LA).  The Local Area's SSN key (case_keys.key_hex,
 *     replicated to its nodes) is kept wrapped under it (associated data
 *     "case_key:LA"); a node gets its Local Area's wrapping key by a signed
 *     GET /api/v1/sync/la-key and keeps it in its sync.json, outside node.db.
 * So a copied hub.db or node.db alone reveals no SSN and forges no push.
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
#include "lib/crypto.h"
#include "lib/log.h"
#include "model/casework.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MASTER_FILE "master.key"

static unsigned char master[32];
static int master_ok;

int hub_la_key(const char *la, unsigned char out[32])
{
	char msg[160];

	if (!master_ok || la == NULL ||
	    (size_t)snprintf(msg, sizeof msg, "outpost-la-key\n%s", la) >= sizeof msg)
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
	size_t hex = crypto_is_wrapped(in) ? strlen(in) - (sizeof CRYPTO_WRAP_PREFIX - 1) : 0;
	size_t n = hex / 2 > 28 ? hex / 2 - 28 : 0; /* nonce 12, tag 16 (lib/crypto.h) */

	if (!master_ok || n == 0 || n > cap || crypto_unwrap(master, aad, in, pt, n) != 0)
		return -1;
	return (int)n;
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
	if (got >= 64 && (got == 64 || hex[64] == '\n'))
		hex[64] = '\0';
	if (got < 64 || crypto_unhex(hex, master, sizeof master) != 0) {
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

static int case_source(const char *la, unsigned char key[32])
{
	return hub_la_key(la, key);
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

/* A Local Area's plain case key (local_area_id, key_hex, updated_hlc)
 * wrapped in place (the new value replicates). */
static int wrap_case_key(sqlite3 *db, sqlite3_stmt *st, hlc *clk)
{
	const char *la = db_col(st, 0), *plain = db_col(st, 1), *at = NULL;
	unsigned char k[CASE_KEY_LEN], t[32];
	char w[CRYPTO_WRAP_LEN(CASE_KEY_LEN)], aad[128], ts[HLC_STRLEN];
	int ok;

	if (la == NULL || plain == NULL ||
	    (sqlite3_column_type(st, 2) == SQLITE_TEXT && (at = db_col(st, 2)) == NULL))
		return -1; /* out of memory: not a key to leave plain */
	aad_of(aad, sizeof aad, "case_key", la);
	ok = plain && strlen(plain) == 2 * CASE_KEY_LEN && crypto_unhex(plain, k, sizeof k) == 0 &&
	     hub_la_key(la, t) == 0 && crypto_wrap(t, aad, k, sizeof k, w, sizeof w) == 0;
	crypto_wipe(k, sizeof k);
	crypto_wipe(t, sizeof t);
	if (!ok)
		return 0;
	if (at != NULL)
		hlc_observe(clk, at);
	hlc_now(clk, ts);
	return db_run(db, "UPDATE case_keys SET key_hex=?, updated_hlc=? WHERE local_area_id=?"
			  " AND key_hex=?", "tttt", w, ts, la, plain) != 0 ? -1 : 1;
}

/* Wrap every plain node secret / case key in place: how many, or -1. */
static int wrap_secrets(sqlite3 *db)
{
	return wrap_rows(db, "SELECT id, secret_hex FROM nodes WHERE secret_hex NOT LIKE"
			     " '" CRYPTO_WRAP_PREFIX "%'", wrap_secret);
}

static int wrap_case_keys(sqlite3 *db)
{
	return wrap_rows(db, "SELECT local_area_id, key_hex, updated_hlc FROM case_keys"
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
