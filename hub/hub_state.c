/*
 * hub_state.c - the hub's own tables (component "hub" in schema_version):
 * enrolled nodes with their secrets and replication progress, one-time
 * enrollment codes (only their SHA-256 is kept), the nonces of signed requests
 * (kept 30 minutes, twice the accepted clock skew, so a replay inside the
 * freshness window is always caught), and the audit trail of admin actions.
 * None of these tables is replicated.
 */
#include "hub/acct.h"
#include "hub/hub.h"
#include "lib/clock.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "model/casework.h"
#include "model/crm.h"
#include "model/demo.h"
#include "model/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const db_migration hub_migrations[] = {
    {"CREATE TABLE nodes("
     " id TEXT PRIMARY KEY NOT NULL,"
     " office_id TEXT NOT NULL,"
     " local_area_id TEXT NOT NULL,"
     " name TEXT,"
     " secret_hex TEXT NOT NULL,"
     " enrolled_at INTEGER NOT NULL,"
     " revoked_at INTEGER,"
     " last_seen_ms INTEGER,"
     " acked_seq INTEGER NOT NULL DEFAULT 0,"
     " pull_cursor INTEGER NOT NULL DEFAULT 0,"
     " last_pull_ms INTEGER,"
     " schema_version INTEGER,"
     " last_error TEXT);"
     "CREATE INDEX nodes_office ON nodes(office_id);"
     "CREATE TABLE enroll_codes("
     " code_hash TEXT PRIMARY KEY NOT NULL,"
     " office_id TEXT NOT NULL,"
     " created_at INTEGER NOT NULL,"
     " expires_at INTEGER NOT NULL,"
     " used_at INTEGER,"
     " used_by_node TEXT,"
     " created_by TEXT);"
     "CREATE TABLE nonces("
     " node_id TEXT NOT NULL,"
     " nonce TEXT NOT NULL,"
     " at INTEGER NOT NULL,"
     " PRIMARY KEY(node_id, nonce)) WITHOUT ROWID;"
     "CREATE INDEX nonces_at ON nonces(at);"
     /* hub_audit_events: admin actions at the hub.  (Named apart from the
      * replicated audit_events of model/schema_accounts.c, which the
      * accounts module creates before this runs.) */
     "CREATE TABLE hub_audit_events("
     " id TEXT PRIMARY KEY NOT NULL,"
     " at INTEGER NOT NULL,"
     " actor TEXT NOT NULL,"
     " action TEXT NOT NULL,"
     " subject TEXT,"
     " detail TEXT);"
     "CREATE INDEX hub_audit_events_at ON hub_audit_events(at);"},
    /* 2: the greeter's search by visitor name is the node's (the front
     * desk's); no query of the hub reads check-ins by name, and the index
     * cost every pushed check-in a NOCASE B-tree insert: a sixth of the
     * apply's instructions, 5.6% of a push's (bench_sync ingest).  A later
     * migration that names it must say IF EXISTS. */
    {HUB_TRIM_INDEXES},
    /* 3: the names each node's certificate carries (hub_ca.c): a name under
     * cert_domains means one machine everywhere and belongs to one live
     * node's office.  Filled from the certificates signed so far: each
     * node's latest grant (its audit row), as a renewal replaces the
     * node's names; a name in two nodes' latest, the later grant's. */
    {"CREATE TABLE node_cert_names("
     " name TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,"
     " node_id TEXT NOT NULL,"
     " office_id TEXT NOT NULL,"
     " at INTEGER NOT NULL);"
     "CREATE INDEX node_cert_names_node ON node_cert_names(node_id);"
     "WITH RECURSIVE split(node_id, at, rest, name) AS ("
     " SELECT e.subject, e.at, e.detail || ',', '' FROM hub_audit_events e"
     "  WHERE e.action='" HUB_CA_AUDIT "' AND e.subject IS NOT NULL AND e.detail IS NOT NULL"
     "  AND e.rowid = (SELECT x.rowid FROM hub_audit_events x WHERE x.action=e.action"
     "   AND x.subject=e.subject ORDER BY x.at DESC, x.rowid DESC LIMIT 1)"
     " UNION ALL"
     " SELECT node_id, at, substr(rest, instr(rest, ',') + 1),"
     "  substr(rest, 1, instr(rest, ',') - 1) FROM split WHERE rest <> '')"
     "INSERT OR REPLACE INTO node_cert_names(name, node_id, office_id, at)"
     " SELECT s.name, s.node_id, d.office_id, s.at FROM split s JOIN nodes d ON d.id=s.node_id"
     " WHERE s.name <> '' ORDER BY s.at;"},
    /* The first entry a node offered past a sequence gap (hub_note_gap):
     * what operations gives up as lost stops before it. */
    {"ALTER TABLE nodes ADD COLUMN gap_seq INTEGER;"},
    /* 5: enrollment codes operations lists and cancels (hub_admin.c): an
     * opaque id that is neither the code nor its hash (codes made before
     * get a random one), and when and by whom a code was cancelled. */
    {"ALTER TABLE enroll_codes ADD COLUMN id TEXT;"
     "ALTER TABLE enroll_codes ADD COLUMN cancelled_at INTEGER;"
     "ALTER TABLE enroll_codes ADD COLUMN cancelled_by TEXT;"
     "UPDATE enroll_codes SET id=lower(hex(randomblob(16)));"
     "CREATE UNIQUE INDEX enroll_codes_id ON enroll_codes(id);"},
    /* 6: the entries not yet handled alone, covering the counts of them
     * that every /metrics scrape makes on the event loop (hub_metrics.c),
     * the console's node list (per node) and a node's status (its scope's
     * conflicts): without them each count read every row, a quarantined
     * entry's stored changeset before its resolved_at.  IF NOT EXISTS: a
     * test sets the version of 'hub' back to replay migrations 3 to 7
     * (test_edge), which leaves these in place. */
    {"CREATE INDEX IF NOT EXISTS quarantine_open ON quarantine(node_id, resolved_at)"
     " WHERE resolved_at IS NULL;"
     "CREATE INDEX IF NOT EXISTS conflicts_open ON conflicts(scope_office, scope_la, resolved_at)"
     " WHERE resolved_at IS NULL;"},
    /* 7: the last entry taken from each node, its seq and HLC (hub_sync.c
     * ingest_entry): an entry sent again under that seq with another HLC
     * comes from an office database that went back or was copied, and is
     * refused rather than skipped as a replay. */
    {"ALTER TABLE nodes ADD COLUMN taken_seq INTEGER;"
     "ALTER TABLE nodes ADD COLUMN taken_hlc TEXT;"},
    /* 8: the release each node last stated (its User-Agent, hub_sync_auth.c)
     * beside its schema version (nodes.schema_version): the console's
     * Version column says which release an office runs, and which side
     * to upgrade when the hub refuses it. */
    {"ALTER TABLE nodes ADD COLUMN release TEXT;"},
    /* 9: per Local Area, the SSN key epoch its stored SSNs are all under
     * (hub_keys.c hub_keys_reencrypt: a pass that found none left to write
     * again; 0 none known), and how many times it was reopened (by a
     * rotation, or a participant pushed under an older key): while epoch is
     * the newest, the minute pass reads no participant of it.  IF NOT
     * EXISTS: test_edge replays the migrations after 2 (as 6). */
    {"CREATE TABLE IF NOT EXISTS ssn_reencrypted("
     " local_area_id TEXT PRIMARY KEY NOT NULL,"
     " epoch INTEGER NOT NULL DEFAULT 0,"
     " reopened INTEGER NOT NULL DEFAULT 0);"},
    /* 10: per node, the pull cursor its latest bundle imported here
     * reported (an OPX3 bundle, sync/bundle.c) and when it was imported
     * (hub_import.c): `outpost-hub export-office` starts there when it is
     * newer than the node's last pull.  IF NOT EXISTS, as 9. */
    {"CREATE TABLE IF NOT EXISTS bundle_cursors("
     " node_id TEXT PRIMARY KEY NOT NULL,"
     " cursor INTEGER NOT NULL,"
     " imported_ms INTEGER NOT NULL) WITHOUT ROWID;"},
    /* 11: the participants of a Local Area by the SSN key epoch their
     * ssn_enc is under (HUB_SSN_EPOCH_SQL), hub only: the re-encryption
     * pass after a rotation (hub_keys.c reencrypt_batch) reads the older
     * ones of the Local Areas to do and nothing else; it read every
     * participant of every Local Area, in id order, to find them.  IF NOT
     * EXISTS, as 9. */
    {"CREATE INDEX IF NOT EXISTS participants_ssn_epoch ON participants(local_area_id, "
     HUB_SSN_EPOCH_SQL ", id) WHERE ssn_enc IS NOT NULL;"},
};

uint64_t hub_now_ms(void) { return clock_ms(); }

hlc *hub_clock(hub *h)
{
	sync_hub_stamp_observe(h->hb_db, &h->hb_hlc);
	return &h->hb_hlc;
}

/* The model's "could not check" is the apply's "send it again". */
_Static_assert(MODEL_CHECK_AGAIN == SYNC_CHECK_AGAIN, "validator codes differ");

int hub_schema_migrate(sqlite3 *db)
{
	if (schema_migrate(db) != 0 || sync_hub_migrate(db) != 0 ||
	    DB_MIGRATE_ALL(db, "hub", hub_migrations) != 0 || acct_migrate(db) != 0)
		return -1;
	return hub_codes_migrate(db);
}

int hub_migrate(sqlite3 *db, int demo)
{
	/* Domain rules for rows arriving from nodes (before any apply runs). */
	sync_set_validator(model_hub_validate_row);
	model_set_change_probe(sync_change_sets);
	model_set_was_probe(sync_change_was);
	model_set_conflict_recorder(sync_record_conflict);
	if (schema_migrate(db) != 0 || sync_hub_migrate(db) != 0)
		return -1;
	if (DB_MIGRATE_ALL(db, "hub", hub_migrations) != 0)
		return -1;
	if (schema_check(db) != 0)
		return -1;
	if (demo) {
		int need_ref = db_int(db, "SELECT count(*) FROM offices", -1) == 0;
		int need_crm =
		    db_int(db, "SELECT count(*) FROM work_item_categories", -1) == 0;
		hlc h;
		char ts[HLC_STRLEN];
		int rc = 0;

		if (!need_ref && !need_crm)
			return case_hub_prepare(db, HUB_NODE_ID);
		/* Seeds go through the change-log triggers like any hub write, so
		 * nodes receive them by pull and snapshot. */
		hlc_init(&h, HUB_NODE_ID, NULL, NULL);
		hlc_now(&h, ts);
		if (db_exec(db, "BEGIN IMMEDIATE") != 0)
			return -1;
		if (need_ref)
			rc = demo_seed_reference(db, ts);
		/* the demo staff with the documented test password (README, "Test
		 * login"), in the hub's own hash set: see model/demo_logins.c */
		if (rc == 0 && need_ref)
			rc = demo_seed_logins(db, ts, 1);
		if (rc == 0 && need_crm)
			rc = crm_seed_reference(db, ts);
		if (rc != 0 || db_exec(db, "COMMIT") != 0) {
			db_exec(db, "ROLLBACK");
			log_warnx("cannot seed the demo office and reference lists");
			return -1;
		}
		log_info("new hub: seeded %s%s%s",
			 need_ref ? "the demo office '" DEMO_OFFICE "'" : "",
			 need_ref && need_crm ? " and " : "",
			 need_crm ? "the CRM lists" : "");
	}
	/* Without demo data too: the code lists from the seed folder (issue 14). */
	if (db_int(db, "SELECT count(*) FROM employer_activity_codes", -1) == 0) {
		hlc h;
		char ts[HLC_STRLEN];
		hlc_init(&h, HUB_NODE_ID, NULL, NULL);
		hlc_now(&h, ts);
		if (db_exec(db, "BEGIN IMMEDIATE") != 0)
			return -1;
		if (crm_seed_lists(db, ts) != 0 || db_exec(db, "COMMIT") != 0) {
			db_exec(db, "ROLLBACK");
			log_warnx("cannot load the code lists from the seed folder");
			return -1;
		}
	}
	return case_hub_prepare(db, HUB_NODE_ID);
}

int hub_audit(sqlite3 *db, const char *actor, const char *action, const char *subject,
	      const char *detail)
{
	char id[UUID_STRLEN];

	if (uuid7(id) != 0)
		return -1;
	if (db_run(db, "INSERT INTO hub_audit_events(id, at, actor, action, subject, detail)"
		       " VALUES(?, ?, ?, ?, ?, ?)",
		   "tItttt", id, (int64_t)hub_now_ms(), actor, action, subject, detail) != 0) {
		log_warnx("cannot record audit event '%s': %s", action, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* ---- enrollment codes ------------------------------------------------------ */

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int hub_enroll_code_norm(const char *in, char out[17])
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		char c = *p;
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (strchr(b32, c) == NULL || c == '\0' ||
		    n >= SYNC_ENROLL_RANDOM_LEN + SYNC_ENROLL_CHECK_LEN)
			return -1;
		if (n < 16)
			out[n] = c;
		n++; /* the key check after the 16 is the client's to verify */
	}
	out[n < 16 ? n : 16] = '\0';
	return n == 16 || n == SYNC_ENROLL_RANDOM_LEN + SYNC_ENROLL_CHECK_LEN ? 0 : -1;
}

int hub_enroll_code_show(const char code[20], const char *pin, char out[HUB_ENROLL_CODE_SHOWN])
{
	char chk[SYNC_ENROLL_CHECK_LEN + 1];

	if (sync_enroll_check(pin, code, chk) != 0) {
		/* no key to check (a hub without TLS, in tests): the code alone,
		 * which outpost-sync enroll takes only with --pin */
		snprintf(out, HUB_ENROLL_CODE_SHOWN, "%s", code);
		return 0;
	}
	snprintf(out, HUB_ENROLL_CODE_SHOWN, "%s-%.4s-%.4s-%.4s", code, chk, chk + 4, chk + 8);
	return 0;
}

static void code_hash(const char norm[17], char out[65])
{
	unsigned char h[32];

	crypto_sha256(norm, strlen(norm), h);
	crypto_hex(h, sizeof h, out);
}

int hub_enroll_code_new(sqlite3 *db, const char *office_id, int64_t ttl_s,
			const char *created_by, char code[20], char id[UUID_STRLEN],
			int64_t *expires_at)
{
	unsigned char rnd[10];
	char norm[17], hash[65], tmp[8];
	int64_t now = (int64_t)hub_now_ms();
	int rc;

	rc = db_text(db, "SELECT active FROM offices WHERE id=?", office_id, tmp, sizeof tmp);
	if (rc == 1)
		return -2;
	if (rc != 0)
		return -1;
	if (strcmp(tmp, "0") == 0)
		return -3; /* a closed office takes no new node */
	/* 80 random bits as 16 base32 characters. */
	if (crypto_random(rnd, sizeof rnd) != 0 || uuid7(id) != 0)
		return -1;
	for (int i = 0; i < 16; i++) {
		int bit = i * 5, v = 0;
		for (int k = 0; k < 5; k++, bit++)
			v = (v << 1) | ((rnd[bit / 8] >> (7 - bit % 8)) & 1);
		norm[i] = b32[v];
	}
	norm[16] = '\0';
	snprintf(code, 20, "%.4s-%.4s-%.4s-%.4s", norm, norm + 4, norm + 8, norm + 12);
	code_hash(norm, hash);
	*expires_at = now + ttl_s * 1000;
	if (db_run(db, "INSERT INTO enroll_codes(code_hash, id, office_id, created_at, expires_at,"
		       " created_by) VALUES(?, ?, ?, ?, ?, ?)",
		   "tttIIt", hash, id, office_id, now, *expires_at, created_by) != 0) {
		log_warnx("cannot store an enrollment code: %s", sqlite3_errmsg(db));
		return -1;
	}
	log_info("enrollment code %s created for office '%s' by %s (valid %lld s)", id,
		 office_id, created_by ? created_by : "?", (long long)ttl_s);
	return 0;
}

/* A code's state, as the list shows it and as a cancel checks it. */
#define ENROLL_CODE_STATE                                                                  \
	"CASE WHEN used_at IS NOT NULL THEN 'used' WHEN cancelled_at IS NOT NULL THEN"     \
	" 'cancelled' WHEN expires_at <= ?1 THEN 'expired' ELSE 'pending' END"

cJSON *hub_enroll_codes_json(sqlite3 *db)
{
	char now[24];

	snprintf(now, sizeof now, "%" PRIu64, hub_now_ms());
	/* Pending ones whatever their age (--ttl-seconds reaches 30 days), the
	 * others of the last 7 days. */
	return db_rows_json_args(db,
				 "SELECT id, office_id, created_at, expires_at, created_by,"
				 " " ENROLL_CODE_STATE " AS state, used_at, used_by_node,"
				 " cancelled_at, cancelled_by FROM enroll_codes"
				 " WHERE (used_at IS NULL AND cancelled_at IS NULL AND"
				 "  expires_at > ?1) OR created_at > ?1 - 7 * 86400000"
				 " ORDER BY created_at DESC LIMIT 1000",
				 1, (const char *const[]){now});
}

void hub_enroll_code_detail(const char *id, char out[HUB_ENROLL_DETAIL])
{
	snprintf(out, HUB_ENROLL_DETAIL, "{\"id\":\"%.40s\"}", id);
}

int hub_enroll_code_cancel_in(sqlite3 *db, const char *id, const char *by, char office[64],
			      const char **why)
{
	sqlite3_stmt *st = NULL;
	int64_t now = (int64_t)hub_now_ms();
	const char *o, *state;
	int rc;

	*why = NULL;
	if (db_prepare_bound(db, &st, "SELECT office_id, " ENROLL_CODE_STATE
				      " FROM enroll_codes WHERE id=?2", "It", now, id) != 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? DB_ABSENT : -1;
	}
	o = db_col(st, 0);
	state = db_col(st, 1);
	if (o == NULL || state == NULL) {
		sqlite3_finalize(st); /* out of memory */
		return -1;
	}
	snprintf(office, 64, "%s", o);
	if (strcmp(state, "used") == 0)
		*why = "this enrollment code has already been used: revoke the node it"
		       " enrolled instead";
	else if (strcmp(state, "cancelled") == 0)
		*why = "this enrollment code is already cancelled";
	else if (strcmp(state, "expired") == 0)
		*why = "this enrollment code has expired already: it enrolls nothing";
	sqlite3_finalize(st);
	if (*why != NULL)
		return -2;
	if (db_run(db, "UPDATE enroll_codes SET cancelled_at=?1, cancelled_by=?2 WHERE id=?3",
		   "Itt", now, by, id) != 0)
		return -1;
	log_info("enrollment code %s of office '%s' cancelled by %s", id, office,
		 by ? by : "?");
	return DB_FOUND;
}

/* ---- nodes ------------------------------------------------------------------ */

int hub_node_get(sqlite3 *db, const char *id, hub_node *out)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	memset(out, 0, sizeof *out);
	if (db_prepare_bound(db, &st,
			     "SELECT id, office_id, local_area_id, secret_hex, revoked_at IS NOT NULL,"
			     " acked_seq FROM nodes WHERE id=?", "t", id) != 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = DB_ABSENT;
	} else if (rc == SQLITE_ROW) {
		const char *c[4]; /* id, office, Local Area, wrapped secret */

		if (db_cols(st, c, 4) != 0) {
			log_warnx("cannot read node '%s': out of memory", id);
			goto out;
		}
		snprintf(out->hn_id, sizeof out->hn_id, "%s", c[0]);
		snprintf(out->hn_office, sizeof out->hn_office, "%s", c[1]);
		snprintf(out->hn_la, sizeof out->hn_la, "%s", c[2]);
		if (hub_secret_unwrap(out->hn_id, c[3], out->hn_secret) != 0) {
			log_warnx("node '%s' has a malformed secret in hub.db",
				  out->hn_id);
			goto out;
		}
		out->hn_revoked = sqlite3_column_int(st, 4);
		out->hn_acked_seq = sqlite3_column_int64(st, 5);
		ret = DB_FOUND;
	} else {
		log_warnx("cannot read node '%s': %s", id, sqlite3_errmsg(db));
	}
out:
	sqlite3_finalize(st);
	return ret;
}

int hub_node_current(sqlite3 *db, const hub_node *n)
{
	return (int)db_int_bound(db, -1,
				 "SELECT count(*) FROM nodes d JOIN offices o ON o.id=d.office_id"
				 " WHERE d.id=?1 AND d.revoked_at IS NULL AND d.office_id=?2"
				 " AND d.local_area_id=?3 AND o.local_area_id=?3",
				 "ttt", n->hn_id, n->hn_office, n->hn_la);
}

int hub_node_revoke_in(sqlite3 *db, const char *id)
{
	char la[64] = "";
	int live = db_text(db, "SELECT local_area_id FROM nodes WHERE id=? AND revoked_at IS NULL",
			   id, la, sizeof la);

	if (live < 0 || db_run(db, "UPDATE nodes SET revoked_at=coalesce(revoked_at, ?) WHERE id=?",
			       "It", (int64_t)hub_now_ms(), id) != 0)
		return -1;
	if (sqlite3_changes(db) == 0)
		return DB_ABSENT;
	/* Its Local Area gets a new SSN key, whose wrapping key the revoked
	 * node can no longer fetch: what it kept reads nothing written from now
	 * on.  A failure (logged) leaves the keys as they were, not the node
	 * unrevoked: `outpost-hub ssn-key-rotate` can do it later. */
	if (live == 0)
		hub_keys_rotate(db, la, NULL);
	return DB_FOUND;
}

int hub_node_revoke(sqlite3 *db, const char *id, const char *actor)
{
	int ret;

	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	ret = hub_node_revoke_in(db, id);
	if (ret == DB_FOUND && (hub_audit(db, actor, "node.revoke", id, NULL) != 0 ||
				db_exec(db, "COMMIT") != 0))
		ret = -1;
	if (ret != DB_FOUND)
		db_exec(db, "ROLLBACK");
	else
		log_info("node %s revoked by %s", id, actor);
	return ret;
}

/* ---- nonces ----------------------------------------------------------------- */

int hub_nonce_use(sqlite3 *db, const char *node_id, const char *nonce, uint64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, &st,
		       "INSERT INTO nonces(node_id, nonce, at) VALUES(?, ?, ?)") != 0)
		return -1;
	sqlite3_bind_text(st, 1, node_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nonce, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || (rc & 0xff) == SQLITE_CONSTRAINT)
		return 1;
	log_warnx("cannot record a nonce: %s", sqlite3_errstr(rc));
	return -1;
}

int hub_nonce_prune(sqlite3 *db, uint64_t now_ms)
{
	return db_run(db, "DELETE FROM nonces WHERE at < ?", "I",
		      (int64_t)((sqlite3_int64)now_ms - HUB_NONCE_KEEP_MS));
}

int64_t hub_head_seq(sqlite3 *db)
{
	return db_int(db, "SELECT coalesce(max(seq), 0) FROM change_log", 0);
}

/* ---- admin token ------------------------------------------------------------ */

int hub_admin_token_load(const char *dir, char out[65])
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
	unsigned char rnd[32];
	FILE *fp;
	int fd, ret = -1;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, HUB_ADMIN_TOKEN_FILE) >=
	    sizeof path)
		return -1;
	fp = fopen(path, "r");
	if (fp != NULL) {
		char line[128] = "";
		if (fgets(line, sizeof line, fp) != NULL) {
			line[strcspn(line, "\r\n \t")] = '\0';
			if (strlen(line) == 64) {
				memcpy(out, line, 65);
				ret = 0;
			}
		}
		fclose(fp);
		if (ret != 0)
			log_warnx("'%s' does not hold a 64-character token", path);
		return ret;
	}
	if (errno != ENOENT) {
		log_warn("cannot read '%s'", path);
		return -1;
	}
	if (crypto_random(rnd, sizeof rnd) != 0)
		return -1;
	crypto_hex(rnd, sizeof rnd, out);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		log_warn("cannot create '%s'", tmp);
		return -1;
	}
	if (write(fd, out, 64) != 64 || write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		log_warn("cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		log_warn("cannot create '%s'", path);
		unlink(tmp);
		return -1;
	}
	log_info("created the admin API token in '%s' (mode 0600)", path);
	return 0;
}
