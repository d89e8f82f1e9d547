/*
 * hub_backup.c - `outpost-hub backup` and `outpost-hub restore`, and the
 * change-log gap a restore leaves (README "Disaster recovery").
 *
 * A backup is two SQLite files, mode 0600, to be kept apart.  FILE: a
 * consistent copy of hub.db made with SQLite's online backup in a single
 * read transaction (the hub keeps serving pushes meanwhile: WAL readers never
 * block its writers), plus two tables of its own, outpost_backup_info(k, v)
 * and outpost_backup_files(name, mode, content) holding the certificates
 * (hub.crt, and the office CA's ca.crt).  KEYFILE (FILE.key unless
 * --key-file says otherwise): the same two tables with the secrets of the
 * data directory (hub.key, admin.token, master.key and the office CA's
 * ca.key, when present).  hub.db keeps node secrets and SSN keys wrapped under
 * master.key (hub_keys.c), so the database file alone reveals no SSN and
 * forges no push, and the key file alone holds no data.  Both record a
 * check of master.key (an HMAC under it), so restore knows the key that
 * belongs to the database.
 *
 * Restore puts the database and the key files back (it takes both files:
 * without the key file only when the data directory still holds the
 * matching master.key; and only files the restored hub can start on:
 * hub.key the key of hub.crt, ca.key unwrapping under the master.key it
 * will have and the key of ca.crt) and opens a gap in the
 * change log: the next seq is the backup's head plus HUB_LOG_GAP and a random
 * spread (past the replaced database's own head, if later), and the
 * gap is recorded in sync_ctx 'log_gaps' ("from-to,..."), so a node whose
 * pull cursor lies in it (it pulled entries the restored hub no longer has,
 * and the seqs after `from` will name other entries) gets 410 and takes a
 * snapshot.  Nodes notice the lost pushes themselves (X-Outpost-Acked below
 * what they were acknowledged: sync/sent.c) and send them again.
 *
 * The serving hub holds an exclusive lock on DIR/hub.lock; restore takes it
 * too, so it refuses to run under a live hub.  Every other command holds a
 * shared lock on DIR itself while it works (an import, say, which may run
 * beside the serving hub), and restore an exclusive one: a restore never
 * moves a database aside under a command still writing to it (whose
 * commits would go to the file set aside while it said "imported").
 */
#include "hub/hub.h"
#include "hub/acct.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "lib/uuid.h"
#include "model/schema.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HUB_LOG_GAP INT64_C(1000000000)
/* Each restore's gap ends a random distance (below this) further on, so two
 * restores that know nothing of each other (the same backup restored on two
 * fresh machines, one after the other) do not hand out the same seqs: 2^44
 * keeps a century of restores below 2^53, the seqs JSON carries exactly. */
#define HUB_LOG_GAP_SPREAD (INT64_C(1) << 44)
#define HUB_LOCK_FILE "hub.lock"
#define KEYFILE_MAX (1024 * 1024)
/* The change log's high-water mark (an AUTOINCREMENT seq never goes back). */
#define LOG_HEAD_SQL                                                                   \
	"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name='change_log'), 0),"  \
	" coalesce((SELECT max(seq) FROM change_log), 0))"

#define MASTER_FILE "master.key"
#define MASTER_CHECK_MSG "outpost-hub backup: master.key check"

/* Files of the data directory a backup carries: the certificate with the
 * database, every secret in the key file.  (Older backups hold all of them
 * in the one file; restore still takes those.) */
static const char *const db_files[] = {HUB_CERT_FILE, HUB_CA_CERT_FILE, HUB_CONF_FILE, NULL};
static const char *const secret_files[] = {HUB_KEY_FILE, HUB_ADMIN_TOKEN_FILE, MASTER_FILE,
					   HUB_CA_KEY_FILE, NULL};

static int known_file(const char *name)
{
	for (int i = 0; name && db_files[i]; i++)
		if (strcmp(name, db_files[i]) == 0)
			return 1;
	for (int i = 0; name && secret_files[i]; i++)
		if (strcmp(name, secret_files[i]) == 0)
			return 1;
	return 0;
}

/* flock(how | LOCK_NB) on DIR/name, made 0600, or on DIR itself when name
 * is NULL: the fd (held until the process exits), -2 when another process
 * holds it, -1 error. */
static int lock_file(const char *dir, const char *name, int how)
{
	char path[PATH_MAX + 16];
	int fd;

	if (name == NULL) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		snprintf(path, sizeof path, "%s/%s", dir, name);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return -1;
	if (flock(fd, how | LOCK_NB) != 0) {
		close(fd);
		return -2;
	}
	return fd;
}

int hub_serve_lock(const char *dir) { return lock_file(dir, HUB_LOCK_FILE, LOCK_EX); }

/* On the directory itself: a command run as root makes no file the
 * service user's hub could not open after it. */
int hub_use_lock(const char *dir, int exclusive)
{
	return lock_file(dir, NULL, exclusive ? LOCK_EX : LOCK_SH);
}

/* ---- the gap ------------------------------------------------------------------ */

/* The next gap of a log_gaps text ("from-to,...") at *p into *from, *to,
 * *p moved past it: 1, or 0 at its end. */
static int gap_next(const char **p, long long *from, long long *to)
{
	int used = 0;

	if (**p == '\0' || sscanf(*p, "%lld-%lld%n", from, to, &used) != 2)
		return 0;
	*p += used;
	if (**p == ',')
		(*p)++;
	return 1;
}

int hub_log_in_gap(sqlite3 *db, int64_t cursor)
{
	char gaps[1024];
	const char *p = gaps;
	long long from, to;

	if (cursor <= 0 || db_text(db, "SELECT v FROM sync_ctx WHERE k=?1", "log_gaps", gaps,
				   sizeof gaps) != 0)
		return 0;
	/* Seqs from+1 .. to-1 were handed out before the restore and never
	 * again; to itself is the restored head the log goes on from
	 * (sqlite_sequence), which a snapshot of the restored hub names
	 * before anything new is written: not in the gap (it was, and every
	 * pull after such a snapshot was refused until a write came). */
	while (gap_next(&p, &from, &to))
		if (cursor > from && cursor < to)
			return 1;
	return 0;
}

/* The highest change-log seq the database at path (the one a restore
 * replaces) ever handed out or skipped: its log's head or the end of its
 * last gap.  0 when there is none or it cannot be read. */
static int64_t replaced_head(const char *path)
{
	char gaps[1024] = "";
	const char *p = gaps;
	long long from, to;
	sqlite3 *db = NULL;
	int64_t top = 0;

	/* Read-write: a read-only connection cannot read a WAL it has no
	 * -shm for (the hub is stopped: nothing else has it open). */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	top = db_int(db, LOG_HEAD_SQL, 0);
	if (db_text(db, "SELECT v FROM sync_ctx WHERE k=?1", "log_gaps", gaps, sizeof gaps) != 0)
		gaps[0] = '\0';
	while (gap_next(&p, &from, &to))
		if (to > top)
			top = to;
	sqlite3_close(db);
	return top < 0 ? 0 : top;
}

/* In db (the restored copy): the next change-log seq jumps HUB_LOG_GAP past
 * the head, or past every seq the replaced database (its head: above)
 * handed out, whichever is later, and the gap is recorded: a second restore
 * of the same backup must not hand out again the seqs the first one's hub
 * did (a node pulled past them would skip the new entries).  *from gets the
 * head, *to the seq the log goes on after.  0 or -1. */
static int open_gap(sqlite3 *db, int64_t above, int64_t *from, int64_t *to)
{
	char old[1024] = "", val[1100];
	int64_t head = db_int(db, LOG_HEAD_SQL, -1);

	uint64_t r = 0;

	*from = head;
	/* A restore that replaces a database goes on past every seq it handed
	 * out (above).  One on a fresh machine cannot know what an earlier
	 * restore of the same backup handed out: the random spread makes it
	 * go on elsewhere, and a node's cursor from the earlier one then lies
	 * in this gap or past this head, and takes a snapshot (hub_sync.c),
	 * instead of naming this hub's new entries as pulled. */
	if (crypto_random(&r, sizeof r) != 0)
		return -1;
	*to = (above > head ? above : head) + HUB_LOG_GAP + (int64_t)(r % HUB_LOG_GAP_SPREAD);
	if (head < 0 ||
	    db_text(db, "SELECT v FROM sync_ctx WHERE k=?1", "log_gaps", old, sizeof old) < 0)
		return -1;
	/* Dozens of restores in: the oldest gaps, which no live cursor can
	 * still be in, make room (the latest are kept: a node may still be
	 * pulling from before the last restore). */
	while (strlen(old) > sizeof old - 64) {
		char *next = strchr(old, ',');
		if (next == NULL) {
			old[0] = '\0';
			break;
		}
		memmove(old, next + 1, strlen(next + 1) + 1);
	}
	snprintf(val, sizeof val, "%s%s%" PRId64 "-%" PRId64, old, old[0] ? "," : "", head, *to);
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (db_exec(db, "DELETE FROM sqlite_sequence WHERE name='change_log'") != 0 ||
	    db_run(db, "INSERT INTO sqlite_sequence(name, seq) VALUES('change_log', ?1)", "I",
		   *to) != 0 ||
	    db_run(db, "INSERT OR REPLACE INTO sync_ctx(k, v) VALUES('log_gaps', ?1)", "t", val) != 0)
		return db_end(db, -1);
	return db_end(db, 0);
}

/* ---- files --------------------------------------------------------------------- */

/* Whole file into a malloc'd buffer (at most max bytes).  0, 1 absent, -1. */
static int slurp_max(const char *path, size_t max, unsigned char **out, size_t *len, mode_t *mode)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	unsigned char *p = NULL;
	int ret = -1;

	*out = NULL;
	if (f == NULL)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max)
		goto out;
	p = malloc((size_t)sb.st_size + 1);
	if (p == NULL || fread(p, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size)
		goto out;
	*out = p;
	p = NULL;
	*len = (size_t)sb.st_size;
	*mode = sb.st_mode & 0777;
	ret = 0;
out:
	free(p);
	fclose(f);
	return ret;
}

static int slurp(const char *path, unsigned char **out, size_t *len, mode_t *mode)
{
	return slurp_max(path, KEYFILE_MAX, out, len, mode);
}

/* Write len bytes to path atomically with mode (group and others never get
 * more than read).  0 or -1. */
static int spit(const char *path, const void *data, size_t len, mode_t mode)
{
	/* the umask may have narrowed the new file's mode: the recorded one */
	if (tls_write_file(path, data, len, mode & 0644) != 0)
		return -1;
	return chmod(path, mode & 0644) == 0 ? 0 : -1;
}

/* ---- backup ---------------------------------------------------------------------- */

static int copy_db(sqlite3 *src, sqlite3 *dst)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (b == NULL)
		return -1;
	/* All pages in one step: one read transaction, so one consistent state. */
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	return sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE ? 0 : -1;
}

/* The files of key_files that dir holds into dst (a table of their own);
 * their count in *nfiles and, when names is not NULL, their names
 * ("hub.key, admin.token") in names (n bytes).  0 or -1. */
static int add_files(sqlite3 *dst, const char *dir, const char *const *key_files, int *nfiles,
		     char *names, size_t n)
{
	sqlite3_stmt *st = NULL;
	char path[PATH_MAX + 32];
	int ret = -1;

	*nfiles = 0;
	if (names)
		names[0] = '\0';
	if (db_exec(dst, "CREATE TABLE outpost_backup_files(name TEXT PRIMARY KEY NOT NULL,"
			 " mode INTEGER NOT NULL, content BLOB NOT NULL)") != 0 ||
	    db_prepare(dst, &st, "INSERT INTO outpost_backup_files VALUES(?1, ?2, ?3)") != 0)
		return -1;
	for (int i = 0; key_files[i]; i++) {
		unsigned char *data;
		size_t len;
		mode_t mode;
		int rc;

		snprintf(path, sizeof path, "%s/%s", dir, key_files[i]);
		rc = slurp(path, &data, &len, &mode);
		if (rc == 1)
			continue;
		if (rc != 0) {
			log_warn("cannot read '%s'", path);
			goto out;
		}
		sqlite3_bind_text(st, 1, key_files[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)mode);
		sqlite3_bind_blob(st, 3, data, (int)len, free);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto out;
		if (names) {
			size_t used = strlen(names);
			snprintf(names + used, n - used, "%s%s", *nfiles ? ", " : "", key_files[i]);
		}
		(*nfiles)++;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* The name of an uploaded form in DIR/files: the id request_files gives
 * it (uuid7: 36 of [0-9a-f-]), nothing that could name another place. */
static int upload_id_ok(const char *id)
{
	return id && strlen(id) == UUID_STRLEN - 1 && strspn(id, "0123456789abcdef-") == UUID_STRLEN - 1;
}

/* The forms uploaded to access requests (DIR/files/ID, each named with its
 * SHA-256 in request_files) into dst's outpost_backup_uploads: hub.db holds
 * only their names and digests, and they are the accounts' record (the
 * signed forms, ISPA certificates, ...).  One missing, unreadable or not
 * the file uploaded is said, counted in *bad and left out: the backup is
 * still the best there is.  *n: the forms in it.  0 or -1. */
static int add_uploads(sqlite3 *dst, const char *dir, int *n, int *bad)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	char path[PATH_MAX + 64], hex[65];
	int rc = SQLITE_DONE, ret = -1;

	*n = *bad = 0;
	if (db_exec(dst, "CREATE TABLE outpost_backup_uploads(id TEXT PRIMARY KEY NOT NULL,"
			 " content BLOB NOT NULL)") != 0 ||
	    db_prepare(dst, &ins, "INSERT INTO outpost_backup_uploads VALUES(?1, ?2)") != 0)
		goto out;
	if (db_int(dst, "SELECT count(*) FROM sqlite_master WHERE name='request_files'", 0) == 0) {
		ret = 0; /* (no account store: nothing uploaded) */
		goto out;
	}
	if (db_prepare(dst, &sel, "SELECT id, sha256 FROM request_files ORDER BY id") != 0)
		goto out;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const char *id = db_col(sel, 0), *want = db_col(sel, 1);
		unsigned char *data = NULL, dg[32];
		size_t len = 0;
		mode_t mode;
		int got;

		if (id == NULL || want == NULL)
			goto out; /* out of memory */
		if (!upload_id_ok(id)) {
			fprintf(stderr, "outpost-hub: an uploaded form has a name no upload gets: not in"
					" the backup\n");
			(*bad)++;
			continue;
		}
		snprintf(path, sizeof path, "%s/files/%s", dir, id);
		got = slurp_max(path, ACCT_FILE_MAX, &data, &len, &mode);
		if (got == 0) {
			crypto_sha256(data, len, dg);
			crypto_hex(dg, sizeof dg, hex);
		}
		if (got != 0 || strcmp(hex, want) != 0) {
			fprintf(stderr, "outpost-hub: the uploaded form '%s' is %s: not in the backup\n",
				path, got == 1 ? "missing" : got < 0 ? "unreadable"
				: "not the file uploaded (its SHA-256 is another)");
			free(data);
			(*bad)++;
			continue;
		}
		sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(ins, 2, data, (int)len, free);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE)
			goto out;
		(*n)++;
	}
	ret = rc == SQLITE_DONE ? 0 : -1;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	return ret;
}

/* kind: "database" or "keys"; check: master.key's check, "" when none. */
static int add_info(sqlite3 *dst, int64_t head, const char *kind, const char *check)
{
	char sql[768];

	snprintf(sql, sizeof sql,
		 "CREATE TABLE outpost_backup_info(k TEXT PRIMARY KEY NOT NULL, v TEXT);"
		 "INSERT INTO outpost_backup_info VALUES('version', '%s'), ('schema_version', '%d'),"
		 " ('log_head', '%" PRId64 "'), ('made_at_ms', '%" PRIu64 "'), ('kind', '%s'),"
		 " ('master_check', '%s');",
		 OUTPOST_VERSION, schema_version(), head, hub_now_ms(), kind, check);
	return db_exec(dst, sql);
}

/* The check of a master.key's content into out (hex, 65 bytes): an HMAC
 * under it, which tells nothing of the key.  0 or -1. */
static int master_check(const void *key, size_t n, char out[65])
{
	unsigned char mac[32];

	if (crypto_hmac_sha256(key, n, MASTER_CHECK_MSG, strlen(MASTER_CHECK_MSG), mac) != 0)
		return -1;
	crypto_hex(mac, sizeof mac, out);
	return 0;
}

/* The check of DIR/master.key into out ("" when there is none).  0 or -1. */
static int dir_master_check(const char *dir, char out[65])
{
	char path[PATH_MAX + 32];
	unsigned char *data = NULL;
	size_t len = 0;
	mode_t mode;
	int rc;

	out[0] = '\0';
	snprintf(path, sizeof path, "%s/%s", dir, MASTER_FILE);
	rc = slurp(path, &data, &len, &mode);
	if (rc == 0)
		rc = master_check(data, len, out);
	else if (rc == 1)
		rc = 0;
	if (data)
		crypto_wipe(data, len);
	free(data);
	return rc;
}

/* A file of the backup is written under a name of its own beside path
 * (PATH.partial-XXXXXX, mode 0600) into tmp, and published at path only
 * once the whole backup is written (publish()): a backup cut short (killed,
 * the machine down) leaves nothing at path that looks like a backup, and
 * never stands in the way of the next.  0, or -1 (said). */
static int stage_new(const char *path, char *tmp, size_t n)
{
	struct stat sb;
	int fd;

	tmp[0] = '\0';
	if (lstat(path, &sb) == 0) {
		fprintf(stderr, "outpost-hub: '%s' exists: a backup never replaces a file\n", path);
		return -1;
	}
	if ((size_t)snprintf(tmp, n, "%s.partial-XXXXXX", path) >= n) {
		tmp[0] = '\0';
		fprintf(stderr, "outpost-hub: '%s': name too long\n", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "outpost-hub: cannot create '%s': %s\n", tmp, strerror(errno));
		tmp[0] = '\0';
		return -1;
	}
	close(fd); /* (mkstemp: mode 0600) */
	return 0;
}

/* The staged file tmp at path, where nothing may be (a link, then the
 * staged name removed and tmp emptied), the directory synced.  0, or -1
 * (said). */
static int publish(char *tmp, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (link(tmp, path) != 0) {
		fprintf(stderr, "outpost-hub: cannot write '%s': %s\n", path, strerror(errno));
		return -1;
	}
	unlink(tmp);
	tmp[0] = '\0';
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* The key file: the data directory's secrets and the master key's check. */
static int write_keys(const char *dir, const char *path, int64_t head, const char *check,
		      int *nfiles, char *names, size_t n)
{
	sqlite3 *db = NULL;
	int ret = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    db_exec(db, "PRAGMA journal_mode=DELETE") == 0 && add_info(db, head, "keys", check) == 0 &&
	    add_files(db, dir, secret_files, nfiles, names, n) == 0)
		ret = 0;
	sqlite3_close(db);
	return ret;
}

int hub_backup(const char *dir, const char *out_path, const char *key_path)
{
	char src_path[PATH_MAX + 32], kp[PATH_MAX + 8], check[65], keys[256] = "", err[300] = "";
	char out_tmp[PATH_MAX + 32] = "", key_tmp[PATH_MAX + 32] = "";
	sqlite3 *src = NULL, *dst = NULL;
	int nfiles = 0, nkeys = 0, nup = 0, nbad = 0, ret = 1, key_published = 0;
	int64_t head;
	struct stat sb;

	if (out_path == NULL || *out_path == '\0') {
		fprintf(stderr, "outpost-hub: backup needs --out FILE\n");
		return 2;
	}
	if (key_path == NULL) {
		if ((size_t)snprintf(kp, sizeof kp, "%s.key", out_path) >= sizeof kp)
			return 2;
		key_path = kp;
	}
	snprintf(src_path, sizeof src_path, "%s/%s", dir, HUB_DB_FILE);
	if (stat(src_path, &sb) != 0) {
		fprintf(stderr, "outpost-hub: no hub database at '%s'\n", src_path);
		return 1;
	}
	if (dir_master_check(dir, check) != 0) {
		fprintf(stderr, "outpost-hub: cannot read '%s/%s'\n", dir, MASTER_FILE);
		return 1;
	}
	/* Both created here with 0600, staged, and never replace a file. */
	if (stage_new(out_path, out_tmp, sizeof out_tmp) != 0 ||
	    stage_new(key_path, key_tmp, sizeof key_tmp) != 0)
		goto out;
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open_v2(out_tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "outpost-hub: cannot open the databases\n");
		goto out;
	}
	sqlite3_busy_timeout(src, DB_BUSY_TIMEOUT_MS);
	if (copy_db(src, dst) != 0) {
		fprintf(stderr, "outpost-hub: cannot copy '%s': %s\n", src_path, sqlite3_errmsg(dst));
		goto out;
	}
	head = db_int(dst, LOG_HEAD_SQL, 0);
	if (db_exec(dst, "PRAGMA journal_mode=DELETE") != 0) {
		fprintf(stderr, "outpost-hub: cannot complete the backup in '%s'\n", out_path);
		goto out;
	}
	/* A Local Area's SSN key still plain (made by a path that does not
	 * wrap it in its transaction, as the console's does, and not yet
	 * wrapped by the serving hub's timer): the copy has it wrapped under
	 * the master key, never plain (DESIGN: hub.db alone reveals no SSN;
	 * secure_delete leaves nothing of the plain value behind). */
	if (db_int(dst, "SELECT count(*) FROM case_keys WHERE key_hex NOT LIKE '" CRYPTO_WRAP_PREFIX
			"%'", 0) != 0 &&
	    (check[0] == '\0' || hub_keys_open(dst, dir, err, sizeof err) != 0 ||
	     hub_keys_wrap_new(dst) != 0)) {
		fprintf(stderr, "outpost-hub: cannot wrap a Local Area's new SSN key in the backup: %s\n",
			check[0] ? err : "no master key");
		goto out;
	}
	if (add_info(dst, head, "database", check) != 0 ||
	    add_files(dst, dir, db_files, &nfiles, NULL, 0) != 0 ||
	    add_uploads(dst, dir, &nup, &nbad) != 0 ||
	    db_int(dst, "SELECT count(*) FROM pragma_quick_check WHERE quick_check <> 'ok'", 1) != 0 ||
	    write_keys(dir, key_tmp, head, check, &nkeys, keys, sizeof keys) != 0) {
		fprintf(stderr, "outpost-hub: cannot complete the backup in '%s'\n", out_path);
		goto out;
	}
	sqlite3_close(dst);
	dst = NULL;
	/* The key file first: a database published without it is no backup. */
	if (publish(key_tmp, key_path) != 0)
		goto out;
	key_published = 1;
	if (publish(out_tmp, out_path) != 0)
		goto out;
	printf("backup of %s (change log at seq %" PRId64 ") and %d uploaded form%s written to %s;"
	       " its %d secret file%s (%s) to %s\n",
	       src_path, head, nup, nup == 1 ? "" : "s", out_path, nkeys, nkeys == 1 ? "" : "s", keys,
	       key_path);
	if (nbad)
		fprintf(stderr, "%d uploaded form%s could not be copied (said above): the backup is"
				" whole without %s\n",
			nbad, nbad == 1 ? "" : "s", nbad == 1 ? "it" : "them");
	fprintf(stderr, "keep %s apart from %s (mode 0600 both): the database alone reveals no "
			"SSN, the keys alone hold no data\n",
		key_path, out_path);
	ret = 0;
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	if (ret != 0) {
		if (out_tmp[0])
			unlink(out_tmp);
		if (key_tmp[0])
			unlink(key_tmp);
		if (key_published) /* (its database not) */
			unlink(key_path);
	}
	return ret;
}

/* ---- restore --------------------------------------------------------------------- */

/* The database at db_path, when there is one, kept as
 * db_path.before-restore.STAMP: checkpointed whole into its main file, which
 * gets that second name (a hard link), its empty -wal and -shm gone; the
 * caller then renames the restored copy over db_path, so that hub.db is at
 * every moment one whole database, the old or the new.  0, or -1 (said). */
static int set_aside(const char *db_path, int force, const char *stamp)
{
	char aside[PATH_MAX + 96], side[PATH_MAX + 16];
	sqlite3 *db = NULL;
	struct stat sb;

	if (stat(db_path, &sb) != 0)
		return 0;
	if (!force) {
		fprintf(stderr, "outpost-hub: '%s' exists: restore --force replaces it (it is kept "
				"as %s.before-restore.TIME)\n",
			db_path, db_path);
		return -1;
	}
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)") != 0) {
		sqlite3_close(db);
		fprintf(stderr, "outpost-hub: cannot checkpoint '%s'\n", db_path);
		return -1;
	}
	sqlite3_close(db);
	if ((size_t)snprintf(aside, sizeof aside, "%s.before-restore.%s", db_path, stamp) >=
		sizeof aside ||
	    link(db_path, aside) != 0) {
		fprintf(stderr, "outpost-hub: cannot keep '%s' as '%s': %s\n", db_path, aside,
			strerror(errno));
		return -1;
	}
	if (snprintf(side, sizeof side, "%s-wal", db_path) < (int)sizeof side)
		unlink(side);
	if (snprintf(side, sizeof side, "%s-shm", db_path) < (int)sizeof side)
		unlink(side);
	fprintf(stderr, "the database that was there is kept as %s\n", aside);
	return 0;
}

/* 1 when the file at path holds exactly data. */
static int same_content(const char *path, const void *data, size_t len)
{
	unsigned char *have = NULL;
	size_t n = 0;
	mode_t mode;
	int same = slurp_max(path, len + 1, &have, &n, &mode) == 0 && n == len &&
		   memcmp(have, data, len) == 0;

	free(have);
	return same;
}

/* A key file about to be replaced by another content, kept beside as
 * NAME.before-restore.STAMP (a hard link: the new content is written to a
 * new file and renamed over NAME): without it, the database kept aside
 * could never be opened again.  0, or -1 (said). */
static int keep_file(const char *path, const void *data, size_t len, const char *stamp)
{
	char aside[PATH_MAX + 96];
	struct stat sb;

	if (stat(path, &sb) != 0 || same_content(path, data, len))
		return 0;
	if ((size_t)snprintf(aside, sizeof aside, "%s.before-restore.%s", path, stamp) >=
		sizeof aside ||
	    (link(path, aside) != 0 && errno != EEXIST)) {
		fprintf(stderr, "outpost-hub: cannot keep '%s' as '%s': %s\n", path, aside,
			strerror(errno));
		return -1;
	}
	fprintf(stderr, "the %s that was there is kept as %s\n", strrchr(path, '/') + 1, aside);
	return 0;
}

/* A file a restore run as root wrote into a data directory another user
 * owns (the service's, README "Production set-up") is given to that user,
 * as everything else there: root's would stop the hub, started as the
 * service user, from opening its own database. */
static void own_like_dir(const char *dir, const char *path)
{
	struct stat d;

	if (geteuid() == 0 && stat(dir, &d) == 0 && d.st_uid != 0 &&
	    chown(path, d.st_uid, d.st_gid) != 0)
		fprintf(stderr, "outpost-hub: cannot give '%s' to the data directory's owner: %s\n",
			path, strerror(errno));
}

/* The files a restore puts back, each first written beside its place as
 * NAME.restoring (stage_file), all of them before hub.db is touched, and
 * renamed into place once the restored database is (commit_file): a
 * restore that cannot write them (a full disk) leaves the hub as it was,
 * never its new database beside its old keys. */
typedef struct {
	const char *rs_dir, *rs_stamp;
	int rs_files, rs_uploads; /* put in place by commit_file() */
} restore_ctx;

typedef int (*file_fn)(restore_ctx *rc, const char *name, const void *data, size_t len,
		       mode_t mode);

#define STAGED ".restoring"
#define CONF_FROM_BACKUP HUB_CONF_FILE ".from-backup"

/* Each file bk carries, by its name in the data directory, through fn:
 * the names this program writes (the certificates, the secrets, hub.conf)
 * and the uploaded forms (files/ID).  0, or -1 (said, or fn's). */
static int each_file(sqlite3 *bk, restore_ctx *rc, file_fn fn)
{
	static const char *const sql[] = {
		"SELECT name, mode, content FROM outpost_backup_files",
		"SELECT 'files/' || id, 384, content FROM outpost_backup_uploads", /* (0600) */
	};

	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st = NULL;
		int step;

		if (i == 1 && db_int(bk, "SELECT count(*) FROM sqlite_master WHERE"
					 " name='outpost_backup_uploads'", 0) == 0)
			continue; /* (a backup made before uploads were in it) */
		if (db_prepare(bk, &st, sql[i]) != 0)
			return -1;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			const char *name = db_col(st, 0);
			const void *data = sqlite3_column_blob(st, 2);
			int len = sqlite3_column_bytes(st, 2);

			if (name == NULL || (data == NULL && len > 0)) {
				fprintf(stderr, "outpost-hub: cannot read the backup's files: out of"
						" memory\n");
				sqlite3_finalize(st);
				return -1;
			}
			if (i == 0 ? !known_file(name) : !upload_id_ok(name + 6))
				continue; /* only names this program wrote */
			if (fn(rc, name, data, (size_t)len, (mode_t)sqlite3_column_int(st, 1)) != 0) {
				sqlite3_finalize(st);
				return -1;
			}
		}
		sqlite3_finalize(st);
		if (step != SQLITE_DONE) {
			fprintf(stderr, "outpost-hub: cannot read the backup's files\n");
			return -1;
		}
	}
	return 0;
}

static int stage_file(restore_ctx *rc, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX + 64];

	if (strncmp(name, "files/", 6) == 0) {
		snprintf(path, sizeof path, "%s/files", rc->rs_dir);
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			fprintf(stderr, "outpost-hub: cannot make '%s': %s\n", path, strerror(errno));
			return -1;
		}
		own_like_dir(rc->rs_dir, path);
	}
	snprintf(path, sizeof path, "%s/%s" STAGED, rc->rs_dir, name);
	if (spit(path, data, len, mode) != 0) {
		fprintf(stderr, "outpost-hub: cannot write '%s': %s\n", path, strerror(errno));
		unlink(path);
		return -1;
	}
	own_like_dir(rc->rs_dir, path);
	return 0;
}

static int drop_file(restore_ctx *rc, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[PATH_MAX + 64];

	(void)data, (void)len, (void)mode;
	snprintf(path, sizeof path, "%s/%s" STAGED, rc->rs_dir, name);
	unlink(path);
	return 0;
}

static int commit_file(restore_ctx *rc, const char *name, const void *data, size_t len,
		       mode_t mode)
{
	char path[PATH_MAX + 64], staged[PATH_MAX + 80];
	struct stat sb;

	(void)mode;
	snprintf(path, sizeof path, "%s/%s", rc->rs_dir, name);
	snprintf(staged, sizeof staged, "%s" STAGED, path);
	if (lstat(staged, &sb) != 0)
		return 0; /* (named twice: put in place already) */
	/* The settings of the machine restored onto stay (its addresses,
	 * paths): the backup's go beside them, to compare. */
	if (strcmp(name, HUB_CONF_FILE) == 0 && lstat(path, &sb) == 0 &&
	    !same_content(path, data, len)) {
		snprintf(path, sizeof path, "%s/" CONF_FROM_BACKUP, rc->rs_dir);
		fprintf(stderr, "%s/%s is kept as it is; the backup's settings are in %s\n",
			rc->rs_dir, HUB_CONF_FILE, path);
	} else if (keep_file(path, data, len, rc->rs_stamp) != 0) {
		return -1;
	}
	if (rename(staged, path) != 0) {
		fprintf(stderr, "outpost-hub: cannot put '%s' in place: %s\n", path, strerror(errno));
		return -1;
	}
	if (strncmp(name, "files/", 6) == 0)
		rc->rs_uploads++;
	else
		rc->rs_files++;
	return 0;
}

/* The backup into DIR/hub.db.restore, without the backup's own tables, with
 * the gap; renamed over hub.db by the caller.  0 or -1. */
static int restore_db(sqlite3 *bk, const char *tmp_path, int64_t above, int64_t *from, int64_t *to)
{
	sqlite3 *db = NULL;
	int ret = -1;

	unlink(tmp_path);
	if (sqlite3_open_v2(tmp_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
		SQLITE_OK ||
	    copy_db(bk, db) != 0)
		goto out;
	/* A code unused in the backup may have been used since, and spent
	 * codes are not to come back: every unused one ends now (operations
	 * makes new ones). */
	if (db_exec(db, "DROP TABLE outpost_backup_files; DROP TABLE outpost_backup_info;"
			"DROP TABLE IF EXISTS outpost_backup_uploads;"
			"PRAGMA journal_mode=WAL") != 0 ||
	    db_run(db, "UPDATE enroll_codes SET expires_at=?1 WHERE used_at IS NULL AND expires_at > ?1",
		   "I", (int64_t)hub_now_ms()) != 0 ||
	    open_gap(db, above, from, to) != 0)
		goto out;
	ret = 0;
out:
	sqlite3_close(db);
	return ret;
}

/* File name's content from the first of dbs (a backup, its key file) that
 * holds it, into *out (malloc'd, *len bytes): 1, 0 when none holds it, -1
 * on an error of the read. */
static int backup_file(sqlite3 *const *dbs, int ndb, const char *name, unsigned char **out,
		       size_t *len)
{
	*out = NULL;
	*len = 0;
	for (int i = 0; i < ndb; i++) {
		sqlite3_stmt *st = NULL;
		const void *blob;
		int rc;

		if (dbs[i] == NULL)
			continue;
		if (db_prepare(dbs[i], &st, "SELECT content FROM outpost_backup_files WHERE name=?1") != 0)
			return -1;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && (blob = sqlite3_column_blob(st, 0)) != NULL) {
			*len = (size_t)sqlite3_column_bytes(st, 0);
			if ((*out = malloc(*len)) != NULL)
				memcpy(*out, blob, *len);
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			return *out != NULL ? 1 : -1;
		if (rc != SQLITE_DONE)
			return -1;
	}
	return 0;
}

/* File name as the restored hub will have it: the content of the first of
 * dbs (the key file, the backup) that holds it, else the one DIR keeps, as
 * backup_file() says it. */
static int restored_file(sqlite3 *const *dbs, int ndb, const char *dir, const char *name,
			 unsigned char **out, size_t *len)
{
	char path[PATH_MAX + 32];
	mode_t mode;
	int rc = backup_file(dbs, ndb, name, out, len);

	if (rc != 0)
		return rc;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	rc = slurp(path, out, len, &mode);
	return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}

/* The hub's TLS key (the key file's, the backup's when it holds all, or
 * the one DIR keeps when neither has it) is the backup's certificate's: a
 * restored hub whose key is not would not start.  1, or 0 (said; also when
 * either cannot be read). */
static int tls_pair_restored(sqlite3 *bk, sqlite3 *keys, const char *dir, const char *file)
{
	sqlite3 *dbs[2] = {keys, bk};
	unsigned char *crt = NULL, *key = NULL;
	size_t crt_len, key_len = 0;
	int have_crt = backup_file(dbs + 1, 1, HUB_CERT_FILE, &crt, &crt_len);
	int have_key = restored_file(dbs, 2, dir, HUB_KEY_FILE, &key, &key_len);
	int ok;

	ok = have_crt == 0 || have_key == 0; /* (nothing to pair) */
	if (have_crt == 1 && have_key == 1)
		ok = tls_pair_check(crt, crt_len, key, key_len) == 1;
	if (have_crt < 0 || have_key < 0)
		ok = 0;
	if (key != NULL)
		crypto_wipe(key, key_len);
	free(key);
	free(crt);
	if (!ok)
		fprintf(stderr, "outpost-hub: the %s to be restored is not the key of the %s in "
				"'%s' (a key file of another backup?): nothing restored\n",
			HUB_KEY_FILE, HUB_CERT_FILE, file);
	return ok;
}

/* The office CA the restored hub will have (ca.crt and ca.key, each the
 * key file's, the backup's, or the one DIR keeps, as they are put back) is
 * one hub_ca_load takes: both or neither (a new CA is made at start), and
 * the ca.key unwraps under the master.key it will have and is the key of
 * the ca.crt.  Otherwise the restored hub would not start.  1, or 0 (said;
 * also when any cannot be read). */
static int ca_pair_restored(sqlite3 *bk, sqlite3 *keys, const char *dir, const char *file)
{
	sqlite3 *dbs[2] = {keys, bk};
	unsigned char *crt = NULL, *key = NULL, *mk = NULL, master[32];
	size_t crt_len = 0, key_len = 0, mk_len = 0;
	int have_crt = restored_file(dbs, 2, dir, HUB_CA_CERT_FILE, &crt, &crt_len);
	int have_key = restored_file(dbs, 2, dir, HUB_CA_KEY_FILE, &key, &key_len);
	int have_mk = restored_file(dbs, 2, dir, MASTER_FILE, &mk, &mk_len);
	const char *why = "it, the " HUB_CA_CERT_FILE " or the master.key cannot be read";
	int ok = 0;

	if (have_crt < 0 || have_key < 0 || have_mk < 0)
		goto out;
	if (have_crt == 0 && have_key == 0)
		ok = 1;
	else if (have_crt == 0 || have_key == 0)
		why = have_key ? "there is no " HUB_CA_CERT_FILE " for it"
			       : "there is none for the " HUB_CA_CERT_FILE;
	else if (have_mk == 1 && hub_keys_master_read(mk, mk_len, master) != 0)
		why = "the master.key to be restored is not a master key";
	else
		ok = hub_ca_pair_check(crt, crt_len, key, key_len, have_mk == 1 ? master : NULL,
				       &why);
out:
	crypto_wipe(master, sizeof master);
	if (key != NULL)
		crypto_wipe(key, key_len);
	if (mk != NULL)
		crypto_wipe(mk, mk_len);
	free(key);
	free(mk);
	free(crt);
	if (!ok)
		fprintf(stderr, "outpost-hub: the office CA's %s to be restored with '%s' is not one the "
				"restored hub could use (%s): nothing restored\n",
			HUB_CA_KEY_FILE, file, why);
	return ok;
}

/* The key file for bk: path (or FILE.key when it exists) opened into *keys,
 * checked against the backup's master key check; without one, the data
 * directory's own master.key must match.  0, or -1 (said). */
static int open_keys(sqlite3 *bk, const char *dir, const char *file, const char *path,
		     sqlite3 **keys)
{
	char def[PATH_MAX + 8], want[65] = "", have[65] = "", kind[16] = "";
	const void *blob;
	struct stat sb;

	*keys = NULL;
	if (db_text(bk, "SELECT v FROM outpost_backup_info WHERE k=?1", "master_check", want,
		    sizeof want) < 0)
		return -1;
	if (path == NULL && (size_t)snprintf(def, sizeof def, "%s.key", file) < sizeof def &&
	    stat(def, &sb) == 0)
		path = def;
	if (path == NULL) {
		if (want[0] == '\0')
			return 0; /* an older backup, or a hub without a master key */
		if (dir_master_check(dir, have) == 0 && strcmp(have, want) == 0)
			return 0; /* the key that belongs to it is still here */
		fprintf(stderr, "outpost-hub: '%s' needs its key file: restore %s --key-file KEYFILE "
				"(written as %s.key by 'outpost-hub backup')\n",
			file, file, file);
		return -1;
	}
	if (sqlite3_open_v2(path, keys, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    db_text(*keys, "SELECT v FROM outpost_backup_info WHERE k=?1", "kind", kind,
		    sizeof kind) != 0 ||
	    strcmp(kind, "keys") != 0) {
		fprintf(stderr, "outpost-hub: '%s' is not a key file made by 'outpost-hub backup'\n",
			path);
		return -1;
	}
	if (want[0]) {
		sqlite3_stmt *st = NULL;
		int ok = db_prepare(*keys, &st, "SELECT content FROM outpost_backup_files"
						" WHERE name='" MASTER_FILE "'") == 0 &&
			 sqlite3_step(st) == SQLITE_ROW &&
			 (blob = sqlite3_column_blob(st, 0)) != NULL &&
			 master_check(blob, (size_t)sqlite3_column_bytes(st, 0), have) == 0 &&
			 strcmp(have, want) == 0;
		sqlite3_finalize(st);
		if (!ok) {
			fprintf(stderr, "outpost-hub: '%s' does not hold the master key of '%s'\n",
				path, file);
			return -1;
		}
	}
	return 0;
}

/* 1 when bk's schema is newer than this program's: a component past the
 * version this program migrates a new hub to (which would refuse to start
 * on it), named in what.  A component this program does not make is not
 * counted. */
static int backup_newer(sqlite3 *bk, char *what, size_t n)
{
	sqlite3 *mem = NULL;
	sqlite3_stmt *st = NULL;
	int newer = 0;

	what[0] = '\0';
	if (sqlite3_open(":memory:", &mem) != SQLITE_OK || hub_migrate(mem, 0) != 0 ||
	    acct_migrate(mem) != 0 ||
	    db_prepare(bk, &st, "SELECT component, version FROM schema_version") != 0) {
		sqlite3_finalize(st);
		sqlite3_close(mem);
		return 0; /* (not known: the start will say) */
	}
	while (!newer && sqlite3_step(st) == SQLITE_ROW) {
		const char *c = db_col(st, 0);
		int have = c ? db_component_version(mem, c) : 0;

		if (have > 0 && sqlite3_column_int(st, 1) > have) {
			snprintf(what, n, "%s %d, this program's %d", c, sqlite3_column_int(st, 1), have);
			newer = 1;
		}
	}
	sqlite3_finalize(st);
	sqlite3_close(mem);
	return newer;
}

int hub_restore(const char *dir, const char *file, const char *key_path, int force)
{
	char db_path[PATH_MAX + 32], tmp[PATH_MAX + 48], ver[64] = "?", stamp[24], newer[200];
	sqlite3 *bk = NULL, *keys = NULL;
	int64_t from = 0, to = 0, above;
	restore_ctx rs = {0};
	int lock, use, ret = 1;

	if (file == NULL) {
		fprintf(stderr, "outpost-hub: restore needs a FILE (made by 'outpost-hub backup')\n");
		return 2;
	}
	lock = hub_serve_lock(dir);
	if (lock == -2) {
		fprintf(stderr, "outpost-hub: the hub is running on '%s': stop it first\n", dir);
		return 1;
	}
	if (lock < 0) {
		fprintf(stderr, "outpost-hub: cannot lock '%s': %s\n", dir, strerror(errno));
		return 1;
	}
	use = hub_use_lock(dir, 1);
	if (use < 0) {
		if (use == -2)
			fprintf(stderr, "outpost-hub: another outpost-hub command (an import, a "
					"backup, ...) is working on '%s': let it end first\n", dir);
		else
			fprintf(stderr, "outpost-hub: cannot lock '%s': %s\n", dir, strerror(errno));
		close(lock);
		return 1;
	}
	if (sqlite3_open_v2(file, &bk, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    db_text(bk, "SELECT v FROM outpost_backup_info WHERE k=?1", "version", ver,
		    sizeof ver) != 0 ||
	    db_int(bk, "SELECT count(*) FROM pragma_quick_check WHERE quick_check <> 'ok'", 1) != 0) {
		fprintf(stderr, "outpost-hub: '%s' is not a whole backup made by 'outpost-hub backup'\n",
			file);
		goto out;
	}
	if (backup_newer(bk, newer, sizeof newer)) {
		fprintf(stderr, "outpost-hub: '%s' was made by a newer outpost-hub (%s; schema %s):"
				" restore it with that release, or a later one\n",
			file, ver, newer);
		goto out;
	}
	if (open_keys(bk, dir, file, key_path, &keys) != 0 || !tls_pair_restored(bk, keys, dir, file) ||
	    !ca_pair_restored(bk, keys, dir, file))
		goto out;
	snprintf(db_path, sizeof db_path, "%s/%s", dir, HUB_DB_FILE);
	snprintf(tmp, sizeof tmp, "%s.restore", db_path);
	snprintf(stamp, sizeof stamp, "%lld", (long long)time(NULL));
	above = replaced_head(db_path);
	/* The copy first, whole: a restore that fails (a full disk) leaves
	 * hub.db as it was, never no database (which the next start would
	 * take for a new, empty hub). */
	if (restore_db(bk, tmp, above, &from, &to) != 0) {
		fprintf(stderr, "outpost-hub: cannot write the restored database '%s'; '%s' is as it"
				" was\n", tmp, db_path);
		unlink(tmp);
		goto out;
	}
	rs.rs_dir = dir;
	rs.rs_stamp = stamp;
	if (each_file(bk, &rs, stage_file) != 0 || (keys && each_file(keys, &rs, stage_file) != 0)) {
		fprintf(stderr, "outpost-hub: cannot write the backup's files into '%s'; '%s' is as"
				" it was\n", dir, db_path);
		goto drop;
	}
	if (set_aside(db_path, force, stamp) != 0)
		goto drop;
	own_like_dir(dir, tmp);
	if (rename(tmp, db_path) != 0) {
		fprintf(stderr, "outpost-hub: cannot put the restored database in place: %s; '%s'"
				" is as it was\n", strerror(errno), db_path);
		goto drop;
	}
	/* (the certificates, then the key file's secrets: the later wins,
	 * as the key file's copy of a secret an older backup also holds) */
	if (each_file(keys ? keys : bk, &rs, commit_file) != 0 ||
	    (keys && each_file(bk, &rs, commit_file) != 0)) {
		fprintf(stderr, "outpost-hub: %s is the restored database, but not every file is in "
				"place: those left as NAME" STAGED " in %s are the backup's (rename each "
				"over NAME, or run this restore again with --force) before starting the hub\n",
			db_path, dir);
		goto out;
	}
	{
		char lk[PATH_MAX + 32];

		if ((size_t)snprintf(lk, sizeof lk, "%s/%s", dir, HUB_LOCK_FILE) < sizeof lk)
			own_like_dir(dir, lk);
	}
	printf("restored %s, %d file%s of keys, certificates and settings and %d uploaded form%s"
	       " from %s (made by outpost-hub %s); the change log goes on at seq %" PRId64 "\n",
	       db_path, rs.rs_files, rs.rs_files == 1 ? "" : "s", rs.rs_uploads, rs.rs_uploads == 1 ? "" : "s",
	       file, ver, to + 1);
	fprintf(stderr, "start the hub: every node sends again what it pushed after the backup "
			"and takes a new snapshot (README, Disaster recovery)\n");
	ret = 0;
	goto out;
drop:
	each_file(bk, &rs, drop_file);
	if (keys)
		each_file(keys, &rs, drop_file);
	unlink(tmp);
out:
	sqlite3_close(keys);
	sqlite3_close(bk);
	close(use);
	close(lock);
	return ret;
}
