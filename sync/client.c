/*
 * client.c - the node's side of the replication protocol over libcurl's easy
 * interface: the sync identity in DIR/sync.json, signed and pinned requests,
 * enrollment (trust on first use, then pinned), push, pull and the cycle
 * that strings them together, and the node-local bookkeeping (nodesync
 * tables, lag figures).  Blocking by design: outpost-sync calls it directly
 * and the node runs it in a uv work thread with its own SQLite connection.
 *
 * Trust: the hub's certificate is self-signed, so ordinary chain and host
 * name checks are off and the pinned public key (CURLOPT_PINNEDPUBLICKEY,
 * "sha256//base64" of the hub's SubjectPublicKeyInfo) is the trust anchor:
 * the TLS handshake fails before any request byte is sent when the key
 * differs.  Every request after enrollment is also HMAC-signed (auth.c).
 */
#include "sync/client.h"
#include "sync/frame.h"
#include "sync/zbody.h"
#include "model/schema.h"
#include "lib/fault.h"
#include "lib/http.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <curl/curl.h>
#include "sync/curl_load.h" /* after curl.h: libcurl is loaded on first use */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PULL_MAX_SNAPSHOTS 2   /* 410 after a fresh snapshot: give up */
#define CYCLE_MAX_ROUNDS 3     /* push/pull rounds while local writes keep coming */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *sync_strerror(int rc)
{
	switch (rc) {
	case SYNC_OK:
		return "ok";
	case SYNC_E_CONFIG:
		return "config";
	case SYNC_E_UNREACHABLE:
		return "unreachable";
	case SYNC_E_AUTH:
		return "refused";
	case SYNC_E_PIN:
		return "pin_mismatch";
	case SYNC_E_SCHEMA:
		return "schema_refused";
	case SYNC_E_MISMATCH:
		return "mismatch";
	case SYNC_E_PENDING:
		return "local_changes_pending";
	default:
		return "error";
	}
}

static void seterr(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	for (char *p = err; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

#define CERR(c, ...) seterr((c)->sc_error, sizeof (c)->sc_error, __VA_ARGS__)

static void hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int hex_decode(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Ids travel in HTTP headers and file names: a conservative alphabet. */
static int id_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.:", s[i]))
			return 0;
	return 1;
}

/* ---- identity ------------------------------------------------------------------ */

void sync_identity_wipe(sync_identity *id)
{
	volatile unsigned char *p = id->id_secret, *k = id->id_la_key;

	for (size_t i = 0; i < sizeof id->id_secret; i++)
		p[i] = 0;
	for (size_t i = 0; i < sizeof id->id_la_key; i++)
		k[i] = 0;
	id->id_has_la_key = 0;
}

static int copy_member(const cJSON *o, const char *name, char *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsString(v) || v->valuestring == NULL || strlen(v->valuestring) >= n)
		return -1;
	snprintf(out, n, "%s", v->valuestring);
	return 0;
}

static int identity_check(const sync_identity *id, const char **what)
{
	if (strncmp(id->id_hub_url, "https://", 8) != 0 || strlen(id->id_hub_url) < 9 ||
	    strpbrk(id->id_hub_url, " \t\r\n") != NULL)
		*what = "hub_url (an https:// URL)";
	else if (!id_ok(id->id_node_id, sizeof id->id_node_id))
		*what = "node_id";
	else if (strncmp(id->id_pin, "sha256//", 8) != 0 || strlen(id->id_pin) < 16 ||
		 strpbrk(id->id_pin, " \t\r\n;") != NULL)
		*what = "hub_pin (sha256//...)";
	else if (!id_ok(id->id_office_id, sizeof id->id_office_id))
		*what = "office_id";
	else if (!id_ok(id->id_local_area_id, sizeof id->id_local_area_id))
		*what = "local_area_id";
	else
		return 0;
	return -1;
}

int sync_identity_load(const char *data_dir, sync_identity *id, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], *text = NULL;
	struct stat sb;
	cJSON *o = NULL;
	const cJSON *sec;
	const char *what = NULL;
	int fd = -1, ret = SYNC_E_CONFIG;
	ssize_t got;

	memset(id, 0, sizeof *id);
	snprintf(path, sizeof path, "%s/%s", data_dir, SYNC_IDENTITY_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			seterr(err, errlen,
			       "this node is not enrolled (no %s): run outpost-sync enroll --hub URL "
			       "--code CODE",
			       path);
		else
			seterr(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > 64 * 1024) {
		seterr(err, errlen, "'%s' is not a sync identity file", path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		/* It holds the node secret: refuse it as ssh refuses a loose key. */
		seterr(err, errlen, "'%s' is readable by other users (mode %03o): chmod 600 it",
		       path, (unsigned)(sb.st_mode & 0777));
		goto out;
	}
	text = calloc(1, (size_t)sb.st_size + 1);
	if (text == NULL) {
		seterr(err, errlen, "out of memory reading '%s'", path);
		goto out;
	}
	got = read(fd, text, (size_t)sb.st_size);
	if (got != (ssize_t)sb.st_size) {
		seterr(err, errlen, "cannot read '%s'", path);
		goto out;
	}
	o = cJSON_Parse(text);
	if (!cJSON_IsObject(o)) {
		seterr(err, errlen, "'%s' is not valid JSON", path);
		goto out;
	}
	sec = cJSON_GetObjectItemCaseSensitive(o, "node_secret");
	if (copy_member(o, "hub_url", id->id_hub_url, sizeof id->id_hub_url) != 0 ||
	    copy_member(o, "node_id", id->id_node_id, sizeof id->id_node_id) != 0 ||
	    copy_member(o, "hub_pin", id->id_pin, sizeof id->id_pin) != 0 ||
	    copy_member(o, "office_id", id->id_office_id, sizeof id->id_office_id) != 0 ||
	    copy_member(o, "local_area_id", id->id_local_area_id, sizeof id->id_local_area_id) != 0) {
		seterr(err, errlen, "'%s' lacks a member (hub_url, node_id, hub_pin, office_id, "
				    "local_area_id): enroll again",
		       path);
		goto out;
	}
	if (!cJSON_IsString(sec) || sec->valuestring == NULL ||
	    hex_decode(sec->valuestring, id->id_secret, sizeof id->id_secret) != 0) {
		seterr(err, errlen, "'%s' has no valid node_secret (64 hex digits): enroll again",
		       path);
		goto out;
	}
	if (identity_check(id, &what) != 0) {
		seterr(err, errlen, "'%s' has an invalid %s: enroll again", path, what);
		goto out;
	}
	sec = cJSON_GetObjectItemCaseSensitive(o, "la_key"); /* optional */
	id->id_has_la_key = cJSON_IsString(sec) && sec->valuestring &&
			    hex_decode(sec->valuestring, id->id_la_key, sizeof id->id_la_key) == 0;
	ret = 0;
out:
	if (o) {
		/* Scrub the secrets' text before the parser's memory goes back. */
		cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "node_secret");
		if (cJSON_IsString(s) && s->valuestring)
			memset(s->valuestring, 0, strlen(s->valuestring));
		s = cJSON_GetObjectItemCaseSensitive(o, "la_key");
		if (cJSON_IsString(s) && s->valuestring)
			memset(s->valuestring, 0, strlen(s->valuestring));
		cJSON_Delete(o);
	}
	if (text) {
		memset(text, 0, (size_t)sb.st_size);
		free(text);
	}
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		sync_identity_wipe(id);
	return ret;
}

int sync_identity_save(const char *data_dir, const sync_identity *id, char *err, size_t errlen)
{
	char path[PATH_MAX + 32], tmp[PATH_MAX + 64], sec[2 * SYNC_SECRET_LEN + 1], lak[65];
	cJSON *o = NULL;
	char *text = NULL;
	const char *what = NULL;
	size_t len;
	int fd = -1, ret = SYNC_E_CONFIG;

	if (identity_check(id, &what) != 0) {
		seterr(err, errlen, "refusing to save an identity with an invalid %s", what);
		return SYNC_E_CONFIG;
	}
	snprintf(path, sizeof path, "%s/%s", data_dir, SYNC_IDENTITY_FILE);
	snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", data_dir, SYNC_IDENTITY_FILE, (long)getpid());
	hex_encode(id->id_secret, sizeof id->id_secret, sec);
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddStringToObject(o, "hub_url", id->id_hub_url) ||
	    !cJSON_AddStringToObject(o, "node_id", id->id_node_id) ||
	    !cJSON_AddStringToObject(o, "node_secret", sec) ||
	    !cJSON_AddStringToObject(o, "hub_pin", id->id_pin) ||
	    !cJSON_AddStringToObject(o, "office_id", id->id_office_id) ||
	    !cJSON_AddStringToObject(o, "local_area_id", id->id_local_area_id) ||
	    (id->id_has_la_key &&
	     (hex_encode(id->id_la_key, sizeof id->id_la_key, lak),
	      !cJSON_AddStringToObject(o, "la_key", lak))) ||
	    (text = cJSON_Print(o)) == NULL) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	len = strlen(text);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		seterr(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		seterr(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		seterr(err, errlen, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		seterr(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
	/* The rename itself must survive a power cut. */
	fd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
		fd = -1;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret != 0)
		unlink(tmp);
	if (o) {
		cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "node_secret");
		if (cJSON_IsString(s) && s->valuestring)
			memset(s->valuestring, 0, strlen(s->valuestring));
		s = cJSON_GetObjectItemCaseSensitive(o, "la_key");
		if (cJSON_IsString(s) && s->valuestring)
			memset(s->valuestring, 0, strlen(s->valuestring));
		cJSON_Delete(o);
	}
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
	memset(sec, 0, sizeof sec);
	memset(lak, 0, sizeof lak);
	return ret;
}

/* ---- node.db bookkeeping -------------------------------------------------------- */

static const db_migration nodesync_migrations[] = {
	/* IF NOT EXISTS: the node and the command may migrate at the same time. */
	{"CREATE TABLE IF NOT EXISTS sync_state(key TEXT PRIMARY KEY NOT NULL, value TEXT);"
	 "CREATE TABLE IF NOT EXISTS sync_quarantine("
	 " seq INTEGER PRIMARY KEY NOT NULL,"
	 " reason TEXT NOT NULL,"
	 " at INTEGER NOT NULL);"},
	/* changes a pull set aside because the node cannot take them (sync/pull.c) */
	{"CREATE TABLE IF NOT EXISTS pull_set_aside(id INTEGER PRIMARY KEY,"
	 " tbl TEXT NOT NULL, change BLOB NOT NULL, why TEXT NOT NULL, at INTEGER NOT NULL);"},
};

int sync_client_migrate(sqlite3 *db)
{
	return db_migrate(db, "nodesync", nodesync_migrations,
			  (int)(sizeof nodesync_migrations / sizeof nodesync_migrations[0])) < 0 ||
			       sync__sent_migrate(db) != 0
		       ? -1
		       : 0;
}

static int kv_set(sqlite3 *db, const char *table, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	char sql[160];
	int rc;

	if (value == NULL)
		snprintf(sql, sizeof sql, "DELETE FROM %s WHERE key=?1", table);
	else
		snprintf(sql, sizeof sql,
			 "INSERT INTO %s(key, value) VALUES(?1, ?2) "
			 "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
			 table);
	if (db_prepare(db, &st, sql) != 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (value)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int kv_set_i64(sqlite3 *db, const char *table, const char *key, int64_t v)
{
	char num[32];

	snprintf(num, sizeof num, "%" PRId64, v);
	return kv_set(db, table, key, num);
}

/* 0 found, 1 absent, -1 error. */
static int kv_get(sqlite3 *db, const char *table, const char *key, char *out, size_t n)
{
	sqlite3_stmt *st = NULL;
	char sql[96];
	int rc, ret = 1;

	out[0] = '\0';
	snprintf(sql, sizeof sql, "SELECT value FROM %s WHERE key=?1", table);
	if (db_prepare(db, &st, sql) != 0)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
		ret = 0;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}

static int kv_get_i64(sqlite3 *db, const char *table, const char *key, int64_t *v)
{
	char s[64], *end;
	int rc = kv_get(db, table, key, s, sizeof s);
	long long x;

	if (rc != 0)
		return rc;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		return 1;
	*v = x;
	return 0;
}

int sync__state_get(sqlite3 *db, const char *key, int64_t *v)
{
	return kv_get_i64(db, "sync_state", key, v);
}

int sync__state_set(sqlite3 *db, const char *key, const char *value)
{
	return kv_set(db, "sync_state", key, value);
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st = NULL;
	int found = 0;

	if (db_prepare(db, &st, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1") != 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int sync_client_adopt(sqlite3 *db, const sync_identity *id, int *changed)
{
	char cur[80], v[80];
	int64_t base = 0, minseq;
	int rc;

	if (changed)
		*changed = 0;
	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return SYNC_E_OTHER;
	rc = kv_get(db, "sync_state", "enrolled_node_id", cur, sizeof cur);
	if (rc < 0)
		goto fail;
	if (rc == 0 && strcmp(cur, id->id_node_id) == 0) {
		/* Known identity; only repair node_meta if someone changed it. */
		const char *keys[] = {"node_id", "office_id", "local_area_id"};
		const char *vals[] = {id->id_node_id, id->id_office_id, id->id_local_area_id};
		for (int i = 0; i < 3; i++) {
			if (kv_get(db, "node_meta", keys[i], v, sizeof v) < 0)
				goto fail;
			if (strcmp(v, vals[i]) != 0) {
				if (kv_set(db, "node_meta", keys[i], vals[i]) != 0)
					goto fail;
				if (changed)
					*changed = 1;
			}
		}
		if (db_exec(db, "COMMIT") != 0)
			goto fail;
		return 0;
	}
	/* A new identity: pending entries become wire seqs 1, 2, ... */
	minseq = db_int(db, "SELECT coalesce(min(seq), 0) FROM outbox", -1);
	if (minseq < 0)
		goto fail;
	if (minseq > 0) {
		base = minseq - 1;
	} else {
		rc = table_exists(db, "sqlite_sequence");
		if (rc < 0)
			goto fail;
		if (rc)
			base = db_int(db,
				      "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE "
				      "name='outbox'), 0)",
				      -1);
		if (base < 0)
			goto fail;
	}
	if (kv_set_i64(db, "sync_state", "seq_base", base) != 0 ||
	    kv_set(db, "sync_state", "enrolled_node_id", id->id_node_id) != 0 ||
	    kv_set(db, "sync_state", "acked_seq", NULL) != 0 ||
	    kv_set(db, "sync_state", "head_seq", NULL) != 0 ||
	    kv_set(db, "sync_state", "last_error", NULL) != 0 ||
	    kv_set(db, "node_meta", "node_id", id->id_node_id) != 0 ||
	    kv_set(db, "node_meta", "office_id", id->id_office_id) != 0 ||
	    kv_set(db, "node_meta", "local_area_id", id->id_local_area_id) != 0 ||
	    kv_set(db, "node_meta", "sync_cursor", NULL) != 0 ||
	    kv_set(db, "node_meta", "snapshot_seq", NULL) != 0 ||
	    kv_set(db, "node_meta", "snapshot_table", NULL) != 0 ||
	    kv_set(db, "node_meta", "snapshot_after", NULL) != 0)
		goto fail;
	if (db_exec(db, "COMMIT") != 0)
		goto fail;
	if (changed)
		*changed = 1;
	log_info("sync identity: node %s of office '%s'; outbox entries after %" PRId64
		 " will be pushed",
		 id->id_node_id, id->id_office_id, base);
	return 0;
fail:
	db_exec(db, "ROLLBACK");
	return SYNC_E_OTHER;
}

int sync_client_db_open(const char *data_dir, sqlite3 **out, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	struct stat sb;
	sqlite3 *db = NULL;
	int t1, t2;

	*out = NULL;
	snprintf(path, sizeof path, "%s/%s", data_dir, SYNC_NODE_DB_FILE);
	if (stat(path, &sb) != 0) {
		seterr(err, errlen,
		       "no office database at '%s': start outpost-node with --data %s once first",
		       path, data_dir);
		return SYNC_E_CONFIG;
	}
	if (db_open(path, &db) != 0) {
		seterr(err, errlen, "cannot open the office database '%s'", path);
		return SYNC_E_OTHER;
	}
	t1 = table_exists(db, "node_meta");
	t2 = table_exists(db, "outbox");
	if (t1 <= 0 || t2 <= 0) {
		seterr(err, errlen, "'%s' is not an office node database (no outbox)", path);
		db_close(db);
		return SYNC_E_CONFIG;
	}
	if (sync_client_migrate(db) != 0) {
		seterr(err, errlen, "cannot prepare the sync tables in '%s'", path);
		db_close(db);
		return SYNC_E_OTHER;
	}
	*out = db;
	return 0;
}

static void add_i64_or_null(cJSON *o, const char *name, int have, int64_t v)
{
	if (have)
		cJSON_AddNumberToObject(o, name, (double)v);
	else
		cJSON_AddNullToObject(o, name);
}

cJSON *sync_client_status_json(sqlite3 *db, uint64_t now)
{
	cJSON *o = cJSON_CreateObject(), *q;
	sqlite3_stmt *st = NULL;
	int64_t v = 0, pending = -1, bytes = 0, oldest = 0, base = 0;
	char s[512];
	int have_oldest = 0, have;

	if (o == NULL)
		return NULL;
	if (db_prepare(db, &st, "SELECT count(*), coalesce(sum(nbytes), 0), min(created_at) "
				"FROM outbox") != 0)
		goto fail;
	if (sqlite3_step(st) == SQLITE_ROW) {
		pending = sqlite3_column_int64(st, 0);
		bytes = sqlite3_column_int64(st, 1);
		have_oldest = sqlite3_column_type(st, 2) != SQLITE_NULL;
		oldest = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (pending < 0)
		goto fail;
	cJSON_AddNumberToObject(o, "pending", (double)pending);
	cJSON_AddNumberToObject(o, "pending_bytes", (double)bytes);
	add_i64_or_null(o, "oldest_pending_ms", have_oldest, oldest);
	add_i64_or_null(o, "oldest_pending_age_ms", have_oldest,
			(int64_t)now > oldest ? (int64_t)now - oldest : 0);
	if (kv_get_i64(db, "sync_state", "seq_base", &base) != 0)
		base = 0;
	/* One read per statement: an argument list does not order its reads. */
	have = kv_get_i64(db, "sync_state", "acked_seq", &v) == 0;
	add_i64_or_null(o, "acked_seq", have, v);
	cJSON_AddNumberToObject(o, "seq_base", (double)base);
	have = kv_get_i64(db, "sync_state", "head_seq", &v) == 0;
	add_i64_or_null(o, "head_seq", have, v);
	have = kv_get_i64(db, "node_meta", "sync_cursor", &v) == 0;
	add_i64_or_null(o, "cursor", have, v);
	if (kv_get(db, "node_meta", "snapshot_table", s, sizeof s) == 0)
		cJSON_AddStringToObject(o, "snapshot_table", s);
	else
		cJSON_AddNullToObject(o, "snapshot_table");
	have = kv_get_i64(db, "node_meta", "last_contact_ms", &v) == 0;
	add_i64_or_null(o, "last_contact_ms", have, v);
	add_i64_or_null(o, "last_contact_age_ms", have, (int64_t)now > v ? (int64_t)now - v : 0);
	have = kv_get_i64(db, "node_meta", "last_pull_ms", &v) == 0;
	add_i64_or_null(o, "last_pull_ms", have, v);
	add_i64_or_null(o, "last_pull_age_ms", have, (int64_t)now > v ? (int64_t)now - v : 0);
	if (kv_get_i64(db, "node_meta", "clock_offset_ms", &v) == 0) {
		cJSON_AddNumberToObject(o, "clock_offset_ms", (double)v);
		cJSON_AddBoolToObject(o, "clock_skew_warning", llabs((long long)v) > SYNC_SKEW_WARN_MS);
	} else {
		cJSON_AddNullToObject(o, "clock_offset_ms");
		cJSON_AddBoolToObject(o, "clock_skew_warning", 0);
	}
	if (db_prepare(db, &st, "SELECT seq, reason, at FROM sync_quarantine "
				"ORDER BY seq DESC LIMIT 100") != 0)
		goto fail;
	q = db_rows_json(st);
	sqlite3_finalize(st);
	st = NULL;
	if (q == NULL)
		goto fail;
	cJSON_AddItemToObject(o, "quarantined", q);
	cJSON_AddNumberToObject(o, "quarantined_count",
				(double)db_int(db, "SELECT count(*) FROM sync_quarantine", 0));
	/* Rows a pull set aside (sync/pull.c): 0 when the table was never made. */
	cJSON_AddNumberToObject(o, "pull_set_aside",
				(double)db_int(db, "SELECT count(*) FROM pull_set_aside", 0));
	if (kv_get(db, "sync_state", "last_error", s, sizeof s) == 0)
		cJSON_AddStringToObject(o, "last_error", s);
	else
		cJSON_AddNullToObject(o, "last_error");
	return o;
fail:
	sqlite3_finalize(st);
	cJSON_Delete(o);
	return NULL;
}

/* ---- HTTP ----------------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;

static void curl_init_once(void)
{
	const char *why = NULL;

	if (sync__curl_load(&why) != 0) {
		log_warnx("%s", why);
		curl_init_rc = -1;
		return;
	}
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int sync_client_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_init_rc;
}

int sync_client_new(const char *data_dir, sync_client **out, char *err, size_t errlen)
{
	sync_client *c;
	int rc;

	*out = NULL;
	if (sync_client_global_init() != 0) {
		seterr(err, errlen, "cannot initialise libcurl");
		return SYNC_E_OTHER;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		seterr(err, errlen, "out of memory");
		return SYNC_E_OTHER;
	}
	rc = sync_identity_load(data_dir, &c->sc_id, err, errlen);
	if (rc != 0) {
		free(c);
		return rc;
	}
	snprintf(c->sc_data, sizeof c->sc_data, "%s", data_dir);
	c->sc_connect_timeout_ms = SYNC_CONNECT_TIMEOUT_MS;
	c->sc_hub_acked = c->sc_acked_before = -1;
	c->sc_curl = curl_easy_init();
	if (c->sc_curl == NULL) {
		sync_client_free(c);
		seterr(err, errlen, "cannot initialise libcurl");
		return SYNC_E_OTHER;
	}
	*out = c;
	return 0;
}

void sync_client_free(sync_client *c)
{
	if (c == NULL)
		return;
	if (c->sc_curl)
		curl_easy_cleanup(c->sc_curl);
	sync_identity_wipe(&c->sc_id);
	free(c);
}

void sync_client_set_offset(sync_client *c, int64_t offset_ms)
{
	c->sc_offset_ms = offset_ms;
}

typedef struct xfer {
	sync_client *x_client;
	buf *x_resp;
	int x_overflow;
	int64_t x_next, x_head, x_time;
	int x_more;
	const char *x_what;     /* progress label, NULL = none */
	int x_snapshot;         /* progress counts resp bytes after sc_progress_base */
} xfer;

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	xfer *x = arg;

	if (buf_append(x->x_resp, p, size * n) != 0) {
		x->x_overflow = 1;
		return 0;
	}
	return size * n;
}

static int header_i64(const char *v, size_t n, int64_t *out)
{
	char tmp[32], *end;
	long long x;

	while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n > 0 && *v == ' ') {
		v++;
		n--;
	}
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	errno = 0;
	x = strtoll(tmp, &end, 10);
	if (*end != '\0' || errno != 0)
		return -1;
	*out = x;
	return 0;
}

/* A header value, trimmed, into out (size n); "" when it does not fit. */
static void header_str(const char *v, size_t len, char *out, size_t n)
{
	while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	while (len > 0 && *v == ' ') {
		v++;
		len--;
	}
	if (len >= n)
		len = 0;
	memcpy(out, v, len);
	out[len] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	xfer *x = arg;
	size_t len = size * n;
	const char *colon;
	int64_t v;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new response head (after 1xx): forget what came before. */
		x->x_next = x->x_head = x->x_time = -1;
		x->x_more = -1;
		x->x_client->sc_after_table[0] = x->x_client->sc_after_id[0] = '\0';
		return len;
	}
	colon = memchr(p, ':', len);
	if (colon == NULL)
		return len;
#define IS(name) ((size_t)(colon - p) == sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0)
	if (IS("X-Outpost-After-Table")) {
		header_str(colon + 1, len - (size_t)(colon + 1 - p), x->x_client->sc_after_table,
			   sizeof x->x_client->sc_after_table);
		return len;
	}
	if (IS("X-Outpost-After-Id")) {
		header_str(colon + 1, len - (size_t)(colon + 1 - p), x->x_client->sc_after_id,
			   sizeof x->x_client->sc_after_id);
		return len;
	}
	if (header_i64(colon + 1, len - (size_t)(colon + 1 - p), &v) != 0)
		return len;
	if (IS("X-Outpost-Time"))
		x->x_time = v;
	else if (IS("X-Outpost-Next"))
		x->x_next = v;
	else if (IS("X-Outpost-Head"))
		x->x_head = v;
	else if (IS("X-Outpost-More"))
		x->x_more = v != 0;
	else if (IS("X-Outpost-Acked"))
		x->x_client->sc_hub_acked = v;
#undef IS
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	xfer *x = arg;
	sync_client *c = x->x_client;

	if (c->sc_cancel && *c->sc_cancel)
		return 1; /* aborts the transfer */
	if (x->x_what && c->sc_progress && x->x_snapshot && x->x_resp->len > 0)
		/* The pages of a snapshot count up together; their sum is not known. */
		c->sc_progress(c->sc_progress_arg, x->x_what,
			       c->sc_progress_base + (uint64_t)x->x_resp->len, 0);
	else if (x->x_what && c->sc_progress && dlnow > 0)
		c->sc_progress(c->sc_progress_arg, x->x_what, (uint64_t)dlnow,
			       dltotal > 0 ? (uint64_t)dltotal : 0);
	return 0;
}

/* The part of the hub URL after the authority, without a trailing '/'; the
 * hub signs over the request target it receives, so a prefix counts. */
static void url_prefix(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	const char *slash = p ? strchr(p + 3, '/') : NULL;
	size_t len;

	out[0] = '\0';
	if (slash == NULL)
		return;
	len = strlen(slash);
	while (len > 0 && slash[len - 1] == '/')
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(out, slash, len);
	out[len] = '\0';
}

static void url_join(const char *base, const char *path, char *out, size_t n)
{
	size_t len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	snprintf(out, n, "%.*s%s", (int)len, base, path);
}

static int map_curl(CURLcode cc, const char *url, const char *errbuf, char *err, size_t n)
{
	const char *why = errbuf && *errbuf ? errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		seterr(err, n,
		       "the hub at %s presented a key that is not the one pinned at enrollment "
		       "(wrong hub, interception, or a new hub key): nothing was sent",
		       url);
		return SYNC_E_PIN;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PARTIAL_FILE:
		seterr(err, n, "cannot reach the hub at %s: %s", url, why);
		return SYNC_E_UNREACHABLE;
	case CURLE_ABORTED_BY_CALLBACK:
		seterr(err, n, "transfer to the hub cancelled");
		return SYNC_E_OTHER;
	case CURLE_WRITE_ERROR:
		seterr(err, n, "the hub's reply is larger than this node accepts");
		return SYNC_E_OTHER;
	default:
		seterr(err, n, "request to the hub at %s failed: %s", url, why);
		return SYNC_E_OTHER;
	}
}

/* Options every request shares; pin NULL only for the first enrollment call. */
static void curl_common(CURL *h, const char *url, const char *pin, long connect_ms,
			long total_ms, char *errbuf, xfer *x)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* Self-signed hub: the pinned key is the trust anchor, not a CA. */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	if (pin)
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)SYNC_STALL_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "outpost-sync/" OUTPOST_VERSION);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
}

static void learn_time(sync_client *c, int64_t hub_ms, uint64_t t0, uint64_t t1)
{
	if (hub_ms <= 0)
		return;
	/* The hub stamped its reply somewhere between t0 and t1. */
	c->sc_offset_ms = hub_ms - (int64_t)((t0 + t1) / 2);
	c->sc_have_time = 1;
	c->sc_last_contact_ms = t1;
}

int sync_client_request(sync_client *c, const char *method, const char *path_query,
			const void *body, size_t len, long *status, buf *resp, int64_t *next,
			int64_t *head, int *more)
{
	CURL *h = c->sc_curl;
	char url[2048], target[2048], prefix[512], tstr[32], nonce[33], sig[65];
	char hdr[5][160], errbuf[CURL_ERROR_SIZE];
	unsigned char rnd[16];
	struct curl_slist *hl = NULL;
	xfer x;
	int is_post = strcmp(method, "POST") == 0, ret = SYNC_E_OTHER;
	int big = is_post || strncmp(path_query, "/api/v1/sync/pull", 17) == 0 ||
		  strncmp(path_query, "/api/v1/sync/snapshot", 21) == 0;
	CURLcode cc;

	*status = 0;
	c->sc_after_table[0] = c->sc_after_id[0] = '\0';
	c->sc_hub_acked = -1;
	if (strlen(path_query) > 1500) {
		CERR(c, "request path too long");
		return SYNC_E_OTHER;
	}
	url_join(c->sc_id.id_hub_url, path_query, url, sizeof url);
	url_prefix(c->sc_id.id_hub_url, prefix, sizeof prefix);
	snprintf(target, sizeof target, "%s%s", prefix, path_query);
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t t0 = now_ms(), t1;
		int64_t signed_ms = (int64_t)t0 + c->sc_offset_ms;

		if (uuid_random(rnd, sizeof rnd) != 0) {
			CERR(c, "no randomness for a request nonce");
			return SYNC_E_OTHER;
		}
		hex_encode(rnd, sizeof rnd, nonce);
		snprintf(tstr, sizeof tstr, "%" PRId64, signed_ms);
		sync_sign(c->sc_id.id_secret, method, target, tstr, nonce, body, len, sig);
		snprintf(hdr[0], sizeof hdr[0], "X-Outpost-Node: %s", c->sc_id.id_node_id);
		snprintf(hdr[1], sizeof hdr[1], "X-Outpost-Time: %s", tstr);
		snprintf(hdr[2], sizeof hdr[2], "X-Outpost-Nonce: %s", nonce);
		snprintf(hdr[3], sizeof hdr[3], "X-Outpost-Signature: %s", sig);
		snprintf(hdr[4], sizeof hdr[4], "X-Outpost-Schema: %d", schema_version());
		hl = NULL;
		for (int i = 0; i < 5; i++) {
			struct curl_slist *t = curl_slist_append(hl, hdr[i]);
			if (t == NULL)
				goto oom;
			hl = t;
		}
		{
			struct curl_slist *t = curl_slist_append(hl, "Expect:");
			if (t == NULL)
				goto oom;
			hl = t;
			if (is_post) {
				t = curl_slist_append(hl, "Content-Type: application/octet-stream");
				if (t == NULL)
					goto oom;
				hl = t;
			}
			if (is_post && c->sc_body_encoding) {
				char ce[64];
				snprintf(ce, sizeof ce, "Content-Encoding: %s", c->sc_body_encoding);
				t = curl_slist_append(hl, ce);
				if (t == NULL)
					goto oom;
				hl = t;
			}
		}
		memset(&x, 0, sizeof x);
		x.x_client = c;
		x.x_resp = resp;
		x.x_next = x.x_head = x.x_time = -1;
		x.x_more = -1;
		if (strncmp(path_query, "/api/v1/sync/snapshot", 21) == 0) {
			x.x_what = "snapshot";
			x.x_snapshot = 1;
		} else if (strncmp(path_query, "/api/v1/sync/pull", 17) == 0)
			x.x_what = "pull";
		buf_reset(resp);
		errbuf[0] = '\0';
		curl_easy_reset(h);
		curl_common(h, url, c->sc_id.id_pin, c->sc_connect_timeout_ms,
			    big ? SYNC_TRANSFER_TIMEOUT_MS : SYNC_REQUEST_TIMEOUT_MS, errbuf, &x);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		/* Pull pages and snapshots may come deflated (sync/zbody.h); curl
		 * inflates them, and on_write bounds what they inflate to. */
		if (big && !is_post)
			curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ZBODY_ENCODING);
		if (is_post) {
			static const char empty[1];
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, len ? body : empty);
		} else {
			curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		}
		cc = curl_easy_perform(h);
		t1 = now_ms();
		curl_slist_free_all(hl);
		hl = NULL;
		memset(sig, 0, sizeof sig);
		if (cc == CURLE_WRITE_ERROR && x.x_overflow)
			cc = CURLE_WRITE_ERROR;
		if (cc != CURLE_OK)
			return map_curl(cc, c->sc_id.id_hub_url, errbuf, c->sc_error,
					sizeof c->sc_error);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		learn_time(c, x.x_time, t0, t1);
		/* A node clock far off is refused (401) with the hub's time in the
		 * reply: sign again once with the offset just learnt. */
		if (*status == 401 && attempt == 0 && x.x_time > 0 &&
		    llabs((long long)(x.x_time - signed_ms)) > SYNC_CLOCK_SKEW_MS / 2)
			continue;
		break;
	}
	if (next)
		*next = x.x_next;
	if (head)
		*head = x.x_head;
	if (more)
		*more = x.x_more;
	return 0;
oom:
	curl_slist_free_all(hl);
	CERR(c, "out of memory");
	return ret;
}

/* The hub's {"error"} message, or the status text. */
static void hub_error(sync_client *c, long status, const buf *resp, const char *doing)
{
	cJSON *o = resp->len ? cJSON_ParseWithLength(resp->data, resp->len) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	const char *msg = cJSON_IsString(e) && e->valuestring ? e->valuestring : NULL;

	switch (status) {
	case 401:
		CERR(c, "the hub refused this node (%s): %s", msg ? msg : "unauthorized",
		     msg && strstr(msg, "revoked")
			     ? "ask the hub administrator, then enroll again with a new code"
		     : msg && strstr(msg, "time")
			     ? "set this computer's clock"
			     : "the node may be revoked or unknown; enroll again with a new code");
		break;
	case 426:
		CERR(c, "unknown schema version, refused by the hub: %s",
		     msg ? msg : "upgrade outpost so node and hub share a schema version");
		break;
	default:
		CERR(c, "%s failed: hub answered %ld%s%s", doing, status, msg ? ": " : "",
		     msg ? msg : "");
		break;
	}
	cJSON_Delete(o);
}

static int status_rc(long status)
{
	if (status == 401)
		return SYNC_E_AUTH;
	if (status == 426)
		return SYNC_E_SCHEMA;
	return SYNC_E_OTHER;
}

int sync_client_get_json(sync_client *c, const char *path_query, cJSON **out)
{
	buf resp = BUF_INIT(SYNC_MAX_REPLY);
	long status;
	int rc;

	*out = NULL;
	rc = sync_client_request(c, "GET", path_query, NULL, 0, &status, &resp, NULL, NULL, NULL);
	if (rc != 0)
		goto out;
	if (status != 200) {
		hub_error(c, status, &resp, path_query);
		rc = status_rc(status);
		goto out;
	}
	*out = cJSON_ParseWithLength(resp.data ? resp.data : "", resp.len);
	if (*out == NULL) {
		CERR(c, "the hub's reply to %s is not JSON", path_query);
		rc = SYNC_E_OTHER;
	}
out:
	buf_release(&resp);
	return rc;
}

/* ---- enrollment ----------------------------------------------------------------- */

static int enroll_post(const char *hub_url, const char *code, buf *resp, long *status,
		       int64_t *hub_time, char *err, size_t errlen)
{
	CURL *h = curl_easy_init();
	char url[1024], host[256] = "", errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = NULL, *t;
	cJSON *o = cJSON_CreateObject();
	char *body = NULL;
	sync_client dummy;
	xfer x;
	CURLcode cc;
	int ret = SYNC_E_OTHER;

	memset(&dummy, 0, sizeof dummy);
	memset(&x, 0, sizeof x);
	x.x_client = &dummy;
	x.x_resp = resp;
	x.x_next = x.x_head = x.x_time = -1;
	gethostname(host, sizeof host - 1);
	if (h == NULL || o == NULL || !cJSON_AddStringToObject(o, "code", code) ||
	    (host[0] && !cJSON_AddStringToObject(o, "hostname", host)) ||
	    (body = cJSON_PrintUnformatted(o)) == NULL ||
	    (t = curl_slist_append(NULL, "Content-Type: application/json")) == NULL) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	hl = t;
	if ((t = curl_slist_append(hl, "Expect:")) == NULL) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	hl = t;
	url_join(hub_url, "/api/v1/sync/enroll", url, sizeof url);
	/* Trust on first use: no pin yet; the reply names the key to pin. */
	curl_common(h, url, NULL, SYNC_CONNECT_TIMEOUT_MS, SYNC_REQUEST_TIMEOUT_MS, errbuf, &x);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		ret = map_curl(cc, hub_url, errbuf, err, errlen);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	*hub_time = x.x_time;
	ret = 0;
out:
	if (body) {
		memset(body, 0, strlen(body)); /* holds the code */
		free(body);
	}
	if (o) {
		cJSON *cv = cJSON_GetObjectItemCaseSensitive(o, "code");
		if (cJSON_IsString(cv) && cv->valuestring)
			memset(cv->valuestring, 0, strlen(cv->valuestring));
		cJSON_Delete(o);
	}
	curl_slist_free_all(hl);
	if (h)
		curl_easy_cleanup(h);
	return ret;
}

/* A fresh connection pinned to pin: does the hub present that key? */
static int enroll_check_pin(const char *hub_url, const char *pin, char *err, size_t errlen)
{
	CURL *h = curl_easy_init();
	char url[1024], errbuf[CURL_ERROR_SIZE] = "";
	buf resp = BUF_INIT(64 * 1024);
	sync_client dummy;
	xfer x;
	CURLcode cc;
	int ret = SYNC_E_OTHER;

	if (h == NULL) {
		seterr(err, errlen, "cannot initialise libcurl");
		return SYNC_E_OTHER;
	}
	memset(&dummy, 0, sizeof dummy);
	memset(&x, 0, sizeof x);
	x.x_client = &dummy;
	x.x_resp = &resp;
	url_join(hub_url, "/healthz", url, sizeof url);
	curl_common(h, url, pin, SYNC_CONNECT_TIMEOUT_MS, SYNC_REQUEST_TIMEOUT_MS, errbuf, &x);
	/* No connection reuse: the key must be seen in a new handshake. */
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	cc = curl_easy_perform(h);
	if (cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
		seterr(err, errlen,
		       "the hub at %s presents a key other than the one its enrollment reply "
		       "named (interception?): enrollment not saved",
		       hub_url);
		ret = SYNC_E_PIN;
	} else if (cc != CURLE_OK) {
		ret = map_curl(cc, hub_url, errbuf, err, errlen);
	} else {
		ret = 0;
	}
	buf_release(&resp);
	curl_easy_cleanup(h);
	return ret;
}

int sync_client_enroll(const char *hub_url, const char *code, const char *data_dir,
		       sync_identity *out, char *err, size_t errlen)
{
	sync_identity id;
	buf resp = BUF_INIT(64 * 1024);
	cJSON *o = NULL;
	const cJSON *sec;
	const char *what = NULL;
	char path[PATH_MAX + 32];
	long status = 0;
	int64_t hub_time = -1;
	uint64_t t0;
	sqlite3 *db = NULL;
	int rc;

	memset(&id, 0, sizeof id);
	if (sync_client_global_init() != 0) {
		seterr(err, errlen, "cannot initialise libcurl");
		return SYNC_E_OTHER;
	}
	if (strncmp(hub_url, "https://", 8) != 0 || strlen(hub_url) >= sizeof id.id_hub_url ||
	    strpbrk(hub_url, " \t\r\n") != NULL) {
		seterr(err, errlen, "the hub URL must start with https:// (got '%s')", hub_url);
		return SYNC_E_CONFIG;
	}
	if (code == NULL || *code == '\0' || strlen(code) > 64) {
		seterr(err, errlen, "an enrollment code is required");
		return SYNC_E_CONFIG;
	}
	t0 = now_ms();
	rc = enroll_post(hub_url, code, &resp, &status, &hub_time, err, errlen);
	if (rc != 0)
		goto out;
	o = resp.len ? cJSON_ParseWithLength(resp.data, resp.len) : NULL;
	if (status != 200) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
		seterr(err, errlen, "the hub refused the enrollment (%ld): %s", status,
		       cJSON_IsString(e) && e->valuestring ? e->valuestring : "no reason given");
		rc = (status == 401 || status == 410 || status == 403) ? SYNC_E_AUTH
		     : status == 426				       ? SYNC_E_SCHEMA
								       : SYNC_E_OTHER;
		goto out;
	}
	sec = cJSON_GetObjectItemCaseSensitive(o, "node_secret");
	snprintf(id.id_hub_url, sizeof id.id_hub_url, "%s", hub_url);
	if (!cJSON_IsObject(o) || copy_member(o, "node_id", id.id_node_id, sizeof id.id_node_id) ||
	    copy_member(o, "hub_pin", id.id_pin, sizeof id.id_pin) ||
	    copy_member(o, "office_id", id.id_office_id, sizeof id.id_office_id) ||
	    copy_member(o, "local_area_id", id.id_local_area_id, sizeof id.id_local_area_id) ||
	    !cJSON_IsString(sec) || sec->valuestring == NULL ||
	    hex_decode(sec->valuestring, id.id_secret, sizeof id.id_secret) != 0 ||
	    identity_check(&id, &what) != 0) {
		seterr(err, errlen, "the hub's enrollment reply is incomplete or malformed%s%s",
		       what ? ": " : "", what ? what : "");
		rc = SYNC_E_OTHER;
		goto out;
	}
	rc = enroll_check_pin(hub_url, id.id_pin, err, errlen);
	if (rc != 0)
		goto out;
	rc = sync_identity_save(data_dir, &id, err, errlen);
	if (rc != 0)
		goto out;
	/* The node takes the identity at its next cycle anyway; adopting now
	 * makes `status` right at once when the database exists. */
	snprintf(path, sizeof path, "%s/%s", data_dir, SYNC_NODE_DB_FILE);
	if (access(path, F_OK) == 0 && sync_client_db_open(data_dir, &db, NULL, 0) == 0) {
		if (sync_client_adopt(db, &id, NULL) != 0)
			log_warnx("enrolled, but cannot record the identity in '%s' yet; the node "
				  "will at its next cycle",
				  path);
		if (hub_time > 0) {
			uint64_t t1 = now_ms();
			kv_set_i64(db, "node_meta", "clock_offset_ms",
				   hub_time - (int64_t)((t0 + t1) / 2));
			kv_set_i64(db, "node_meta", "last_contact_ms", (int64_t)t1);
		}
		db_close(db);
	}
	if (out)
		*out = id;
	rc = 0;
out:
	if (o) {
		cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "node_secret");
		if (cJSON_IsString(s) && s->valuestring)
			memset(s->valuestring, 0, strlen(s->valuestring));
		cJSON_Delete(o);
	}
	if (resp.data)
		memset(resp.data, 0, resp.len);
	buf_release(&resp);
	sync_identity_wipe(&id);
	return rc;
}

/* ---- push ----------------------------------------------------------------------- */

int sync__outbox_frame(sqlite3 *db, int64_t after, int64_t base, buf *out, size_t target,
		       int64_t *first, int64_t *last, int64_t *count)
{
	sqlite3_stmt *st = NULL;
	frame_writer w;
	int rc, began = 0, ret = -1;
	int64_t schema = -1;

	*first = *last = *count = 0;
	if (db_prepare(db, &st, "SELECT seq, hlc, actor, schema_version, changeset FROM outbox "
				"WHERE seq > ?1 ORDER BY seq LIMIT ?2") != 0)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, SYNC_FRAME_MAX_ENTRIES);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sync_entry e;
		int64_t seq = sqlite3_column_int64(st, 0);
		int64_t sv = sqlite3_column_int64(st, 3);

		if (!began) {
			frame_begin(&w, out, (uint32_t)sv);
			schema = sv;
			began = 1;
		} else if (sv != schema) {
			break; /* one schema version per frame */
		}
		memset(&e, 0, sizeof e);
		e.seq = seq - base;
		e.hlc = (const char *)sqlite3_column_text(st, 1);
		e.actor = (const char *)sqlite3_column_text(st, 2);
		e.changeset = sqlite3_column_blob(st, 4);
		e.len = (size_t)sqlite3_column_bytes(st, 4);
		if (*count > 0 && target > 0 && !frame_fits(&w, &e, target))
			break; /* the batch is full; the entry starts the next one */
		if (frame_add(&w, &e) != 0) {
			if (*count == 0) {
				*first = seq;
				ret = 1;
				goto out;
			}
			break;
		}
		if (*count == 0)
			*first = seq;
		*last = seq;
		(*count)++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_warnx("cannot read the outbox: %s", sqlite3_errmsg(db));
		goto out;
	}
	if (began && *count > 0 && frame_end(&w) != 0)
		goto out;
	if (*count == 0)
		buf_reset(out);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Drop acked entries and keep the hub's quarantine notices, in one go. */
static int push_commit(sqlite3 *db, int64_t base, int64_t wire_acked, const cJSON *quar,
		       int64_t head)
{
	sqlite3_stmt *st = NULL;
	const cJSON *q;
	int64_t local = wire_acked + base;

	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (sync__sent_keep(db, local, (int64_t)now_ms()) != 0 ||
	    db_prepare(db, &st, "DELETE FROM outbox WHERE seq <= ?1") != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, local);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (cJSON_IsArray(quar) && cJSON_GetArraySize(quar) > 0) {
		if (db_prepare(db, &st, "INSERT OR REPLACE INTO sync_quarantine(seq, reason, at) "
					"VALUES(?1, ?2, ?3)") != 0)
			goto fail;
		cJSON_ArrayForEach(q, quar)
		{
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(q, "seq");
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(q, "reason");
			if (!cJSON_IsNumber(s))
				continue;
			sqlite3_bind_int64(st, 1, (int64_t)s->valuedouble + base);
			sqlite3_bind_text(st, 2,
					  cJSON_IsString(r) && r->valuestring ? r->valuestring
									      : "refused by the hub",
					  -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 3, (int64_t)now_ms());
			if (sqlite3_step(st) != SQLITE_DONE)
				goto fail;
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (kv_set_i64(db, "sync_state", "acked_seq", local) != 0 ||
	    (head >= 0 && kv_set_i64(db, "sync_state", "head_seq", head) != 0))
		goto fail;
	if (db_exec(db, "COMMIT") != 0)
		goto fail;
	return 0;
fail:
	sqlite3_finalize(st);
	db_exec(db, "ROLLBACK");
	return -1;
}

static int64_t json_i64(const cJSON *o, const char *name, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

int sync_client_push(sync_client *c, sqlite3 *db, sync_push_stats *st)
{
	sync_push_stats local;
	buf frame = BUF_INIT(SYNC_MAX_PUSH_FRAME);
	buf z = BUF_INIT(SYNC_MAX_PUSH_FRAME + SYNC_MAX_PUSH_FRAME / 8);
	buf resp = BUF_INIT(SYNC_MAX_REPLY);
	int64_t base = 0, after, first, last, count, total;
	cJSON *o = NULL;
	long status;
	int rc = 0;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	st->ps_head_seq = -1;
	if (sync__state_get(db, "seq_base", &base) < 0) {
		CERR(c, "cannot read the sync state of the office database");
		return SYNC_E_OTHER;
	}
	total = db_int(db, "SELECT count(*) FROM outbox", -1);
	if (total < 0) {
		CERR(c, "cannot read the outbox");
		return SYNC_E_OTHER;
	}
	st->ps_pending = total;
	after = base;
	if (c->sc_progress && total > 0)
		c->sc_progress(c->sc_progress_arg, "push", 0, (uint64_t)total);
	for (;;) {
		int64_t wire_acked;

		if (c->sc_cancel && *c->sc_cancel) {
			CERR(c, "push cancelled");
			rc = SYNC_E_OTHER;
			break;
		}
		buf_reset(&frame);
		rc = sync__outbox_frame(db, after, base, &frame, SYNC_MAX_BATCH_BYTES, &first, &last,
					&count);
		if (rc < 0) {
			CERR(c, "cannot read the outbox");
			rc = SYNC_E_OTHER;
			break;
		}
		if (rc == 1) {
			CERR(c, "outbox entry %" PRId64 " cannot be sent: larger than %d bytes "
				"or malformed",
			     first, SYNC_MAX_CHANGESET);
			rc = SYNC_E_OTHER;
			break;
		}
		if (count == 0)
			break;
		if (first <= base) {
			CERR(c, "outbox entry %" PRId64 " precedes this enrollment (base %" PRId64
				"): cannot be pushed",
			     first, base);
			rc = SYNC_E_OTHER;
			break;
		}
		FAULT_POINT("push.before_send");
		/* Compressed when that saves bytes on the wire (sync/zbody.h). */
		if (zbody_deflate(frame.data, frame.len, &z) == 0 && z.len < frame.len) {
			c->sc_body_encoding = ZBODY_ENCODING;
			rc = sync_client_request(c, "POST", "/api/v1/sync/push", z.data, z.len,
						 &status, &resp, NULL, NULL, NULL);
		} else {
			rc = sync_client_request(c, "POST", "/api/v1/sync/push", frame.data,
						 frame.len, &status, &resp, NULL, NULL, NULL);
		}
		c->sc_body_encoding = NULL;
		if (rc != 0)
			break;
		st->ps_batches++;
		st->ps_sent += count;
		cJSON_Delete(o);
		o = resp.len ? cJSON_ParseWithLength(resp.data, resp.len) : NULL;
		if (status == 409 && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "expected_seq"))) {
			int64_t expected = json_i64(o, "expected_seq", 0);
			/* The hub holds every wire seq below `expected`. */
			if (expected - 1 + base < first) {
				/* A hub restored from a backup: the sent log has them. */
				int64_t again = 0;
				if (sync__sent_resend(db, base, expected - 1, &again, c->sc_error,
						      sizeof c->sc_error) != 0 ||
				    again == 0) {
					if (again == 0)
						CERR(c, "the hub expects entry %" PRId64 " from this "
							"node, but the outbox starts at %" PRId64,
						     expected, first - base);
					rc = SYNC_E_OTHER;
					break;
				}
				st->ps_pending += again;
				after = expected - 1 + base;
				continue;
			}
			wire_acked = expected - 1;
			if (push_commit(db, base, wire_acked, NULL, -1) != 0) {
				CERR(c, "cannot update the outbox");
				rc = SYNC_E_OTHER;
				break;
			}
			/* Local seqs are contiguous (AUTOINCREMENT, deleted from the low end).
			 * The hub had these already (another push of this node got there
			 * first, e.g. the node's own background sync): they count as
			 * "already at the hub", so applied + skipped + quarantined adds up. */
			if (wire_acked + base > after)
				st->ps_skipped += (int)(wire_acked + base - after);
			st->ps_acked += wire_acked + base - after;
			after = wire_acked + base;
			st->ps_acked_seq = after;
			continue;
		}
		if (status != 200) {
			hub_error(c, status, &resp, "push");
			rc = status_rc(status);
			break;
		}
		wire_acked = json_i64(o, "acked_seq", -1);
		if (wire_acked < 0 || wire_acked + base < first) {
			CERR(c, "push made no progress: the hub acknowledged %" PRId64
				" after receiving entries %" PRId64 "..%" PRId64,
			     wire_acked, first - base, last - base);
			rc = SYNC_E_OTHER;
			break;
		}
		st->ps_head_seq = json_i64(o, "head_seq", -1);
		FAULT_POINT("push.after_reply");
		if (push_commit(db, base, wire_acked,
				cJSON_GetObjectItemCaseSensitive(o, "quarantined"),
				st->ps_head_seq) != 0) {
			CERR(c, "cannot update the outbox after the hub's acknowledgement");
			rc = SYNC_E_OTHER;
			break;
		}
		{
			int64_t applied = json_i64(o, "applied", 0), skipped = json_i64(o, "skipped", 0);
			int64_t nq = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "quarantined"));
			int64_t dropped = wire_acked + base - after;

			/* Entries acked beyond those this frame carried were pushed by
			 * another push of this node (its background sync) between our
			 * reading the outbox and the hub's answer: already at the hub. */
			if (dropped > applied + skipped + nq)
				skipped += dropped - (applied + skipped + nq);
			st->ps_applied += (int)applied;
			st->ps_skipped += (int)skipped;
			st->ps_quarantined += (int)nq;
		}
		st->ps_conflicts += (int)json_i64(o, "conflicts", 0);
		st->ps_acked += wire_acked + base - after;
		after = wire_acked + base;
		st->ps_acked_seq = after;
		if (c->sc_progress)
			c->sc_progress(c->sc_progress_arg, "push",
				       (uint64_t)(st->ps_acked < total ? st->ps_acked : total),
				       (uint64_t)total);
	}
	cJSON_Delete(o);
	buf_release(&frame);
	buf_release(&z);
	buf_release(&resp);
	return rc;
}

/* ---- pull ----------------------------------------------------------------------- */

/* Before applying what a pull or snapshot reply brought: a hub that holds
 * fewer of this node's entries than it acknowledged gets them again first
 * (sync/sent.c).  0, SYNC_E_PENDING (push first) or SYNC_E_OTHER. */
static int hub_behind(sync_client *c, sqlite3 *db)
{
	int rc = sync__hub_behind(db, c->sc_hub_acked, c->sc_acked_before, c->sc_error,
				  sizeof c->sc_error);

	return rc == 0 ? 0 : rc > 0 ? SYNC_E_PENDING : SYNC_E_OTHER;
}

/* 0; 1 when a snapshot is under way (take it first); SYNC_E_*. */
static int apply_page(sync_client *c, sqlite3 *db, const buf *page, int64_t next)
{
	int rc = sync_node_apply_pull(db, page->data, page->len, next);

	if (rc == -2) {
		CERR(c, "local changes pending, push first");
		return SYNC_E_PENDING;
	}
	if (rc == -3)
		return 1;
	if (rc != 0) {
		CERR(c, "cannot apply the hub's changes to the office database");
		return SYNC_E_OTHER;
	}
	return 0;
}

/* The path of the snapshot page after pos (NULL: the first page). 0 or -1. */
static int snapshot_path(char *out, size_t n, int64_t seq, const sync_snap_pos *pos)
{
	char id[3 * SYNC_SNAPSHOT_ID_MAX + 1];
	int len;

	if (pos == NULL) {
		snprintf(out, n, "/api/v1/sync/snapshot");
		return 0;
	}
	/* Table names are plain identifiers; the id is any text. */
	if (http_pct_encode(pos->sp_id, id, sizeof id) != 0)
		return -1;
	len = snprintf(out, n, "/api/v1/sync/snapshot?seq=%" PRId64 "&after_table=%s&after_id=%s",
		       seq, pos->sp_table, id);
	return len > 0 && (size_t)len < n ? 0 : -1;
}

/* The position a snapshot page's reply names (X-Outpost-After-*). 0 or -1. */
static int reply_position(sync_client *c, sync_snap_pos *pos)
{
	char id[SYNC_SNAPSHOT_ID_MAX + 1];

	if (c->sc_after_table[0] == '\0' || c->sc_after_id[0] == '\0' ||
	    http_pct_decode(c->sc_after_id, strlen(c->sc_after_id), id, sizeof id, 0) != 0 ||
	    sync_snap_pos_set(pos, c->sc_after_table, id) != 0)
		return -1;
	return 0;
}

/*
 * The snapshot, page by page (sync.h, OVERVIEW): from the position recorded
 * in node.db when an earlier snapshot was interrupted, else from the start.
 * A recorded position the hub refuses (400: e.g. a hub restored from a
 * backup, whose log is behind the recorded seq) starts it afresh, once.
 * *cursor = the snapshot's seq when the last page is applied.
 */
static int pull_snapshot(sync_client *c, sqlite3 *db, sync_pull_stats *st, int64_t *cursor)
{
	buf resp = BUF_INIT(SYNC_MAX_REPLY);
	sync_snap_pos pos, end;
	char path[1600];
	int64_t seq = -1, next = -1, head = -1;
	long status;
	int more = -1, rc, have, restarts = 0, moved = 0;

	have = sync_node_snapshot_state(db, &seq, &pos);
	if (have < 0) {
		CERR(c, "cannot read the snapshot's progress in the office database");
		rc = SYNC_E_OTHER;
		goto out;
	}
	if (have)
		log_info("snapshot: resuming after '%s' (seq %" PRId64 ")", pos.sp_table, seq);
	c->sc_progress_base = 0;
	for (;;) {
		if (c->sc_cancel && *c->sc_cancel) {
			CERR(c, "snapshot cancelled");
			rc = SYNC_E_OTHER;
			goto out;
		}
		if (snapshot_path(path, sizeof path, seq, have ? &pos : NULL) != 0) {
			CERR(c, "the snapshot position is too long for a request");
			rc = SYNC_E_OTHER;
			goto out;
		}
		rc = sync_client_request(c, "GET", path, NULL, 0, &status, &resp, &next, &head, &more);
		if (rc != 0 || (rc = hub_behind(c, db)) != 0)
			goto out;
		if (status == 400 && have && restarts == 0) {
			log_warnx("snapshot: the hub refused the recorded position; starting afresh");
			have = 0;
			restarts++;
			continue;
		}
		if (status != 200) {
			hub_error(c, status, &resp, "snapshot");
			rc = status_rc(status);
			goto out;
		}
		if (next < 0 || (have && next != seq) || more < 0 ||
		    (more == 1 && reply_position(c, &end) != 0)) {
			CERR(c, "the hub's snapshot page has no valid X-Outpost-Next, -More or "
				"-After-Table/-Id");
			rc = SYNC_E_OTHER;
			goto out;
		}
		FAULT_POINT("pull.after_reply");
		rc = sync_node_apply_snapshot(db, resp.data, resp.len, next, have ? &pos : NULL,
					      more == 1 ? &end : NULL);
		if (rc == -3) {
			/* Another process (the node's own sync, outpost-sync) moved
			 * the snapshot on: go on from where it got to. */
			int64_t v;
			if (moved++ >= 3) {
				CERR(c, "another sync keeps moving the snapshot on; try again");
				rc = SYNC_E_OTHER;
				goto out;
			}
			if (kv_get_i64(db, "node_meta", "sync_cursor", &v) == 0) {
				*cursor = v; /* it even finished it */
				rc = 0;
				goto out;
			}
			have = sync_node_snapshot_state(db, &seq, &pos);
			if (have < 0) {
				CERR(c, "cannot read the snapshot's progress in the office database");
				rc = SYNC_E_OTHER;
				goto out;
			}
			continue;
		}
		if (rc == -2) {
			CERR(c, "local changes pending, push first");
			rc = SYNC_E_PENDING;
			goto out;
		}
		if (rc != 0) {
			CERR(c, "cannot apply the hub's snapshot page to the office database");
			rc = SYNC_E_OTHER;
			goto out;
		}
		st->pl_snapshot_pages++;
		st->pl_bytes += resp.len;
		c->sc_progress_base += resp.len;
		if (head >= 0)
			st->pl_head = head;
		if (more != 1)
			break;
		seq = next;
		pos = end;
		have = 1;
		FAULT_POINT("snapshot.next");
	}
	st->pl_snapshot = 1;
	*cursor = next;
	log_debug("snapshot applied: %d pages, %" PRIu64 " bytes, cursor %" PRId64,
		  st->pl_snapshot_pages, st->pl_bytes, next);
	rc = 0;
out:
	c->sc_progress_base = 0;
	buf_release(&resp);
	return rc;
}

/* Take a snapshot again mid-pull, at most PULL_MAX_SNAPSHOTS in one pull
 * (why: the error once that is spent).  0 or a SYNC_E_ code. */
static int snapshot_again(sync_client *c, sqlite3 *db, sync_pull_stats *st, int64_t *cursor,
			  int *snapshots, const char *why)
{
	if (*snapshots >= PULL_MAX_SNAPSHOTS) {
		CERR(c, "%s", why);
		return SYNC_E_OTHER;
	}
	(*snapshots)++;
	return pull_snapshot(c, db, st, cursor);
}

int sync_client_pull(sync_client *c, sqlite3 *db, sync_pull_stats *st)
{
	sync_pull_stats local;
	buf resp = BUF_INIT(SYNC_MAX_REPLY);
	char path[128];
	int64_t cursor = -1, next, head, pending;
	int more, rc = 0, snapshots = 0;
	long status;

	if (st == NULL)
		st = &local;
	memset(st, 0, sizeof *st);
	st->pl_head = -1;
	pending = db_int(db, "SELECT count(*) FROM outbox", -1);
	if (pending != 0) {
		CERR(c, pending > 0 ? "local changes pending, push first" : "cannot read the outbox");
		return pending > 0 ? SYNC_E_PENDING : SYNC_E_OTHER;
	}
	if (sync__state_get(db, "acked_seq", &c->sc_acked_before) != 0)
		c->sc_acked_before = -1;
	if (kv_get_i64(db, "node_meta", "sync_cursor", &cursor) < 0) {
		CERR(c, "cannot read the pull cursor");
		return SYNC_E_OTHER;
	}
	if (cursor < 0) {
		rc = pull_snapshot(c, db, st, &cursor);
		snapshots++;
		if (rc != 0)
			goto out;
	}
	for (;;) {
		if (c->sc_cancel && *c->sc_cancel) {
			CERR(c, "pull cancelled");
			rc = SYNC_E_OTHER;
			break;
		}
		snprintf(path, sizeof path, "/api/v1/sync/pull?after=%" PRId64 "&max=%d", cursor,
			 SYNC_MAX_PULL_ROWS);
		rc = sync_client_request(c, "GET", path, NULL, 0, &status, &resp, &next, &head, &more);
		if (rc != 0 || (rc = hub_behind(c, db)) != 0)
			break;
		if (status == 410) {
			rc = snapshot_again(c, db, st, &cursor, &snapshots,
					    "the hub keeps refusing the cursor after a snapshot (410)");
			if (rc != 0)
				break;
			continue;
		}
		if (status != 200) {
			hub_error(c, status, &resp, "pull");
			rc = status_rc(status);
			break;
		}
		if (next < 0) {
			CERR(c, "the hub's pull page has no X-Outpost-Next");
			rc = SYNC_E_OTHER;
			break;
		}
		if (more == 1 && next <= cursor) {
			CERR(c, "pull made no progress at cursor %" PRId64, cursor);
			rc = SYNC_E_OTHER;
			break;
		}
		FAULT_POINT("pull.after_reply");
		rc = apply_page(c, db, &resp, next);
		if (rc == 1) {
			/* Another process began a snapshot meanwhile: finish it. */
			rc = snapshot_again(c, db, st, &cursor, &snapshots,
					    "a snapshot keeps being started under this pull");
			if (rc != 0)
				break;
			continue;
		}
		if (rc != 0)
			break;
		st->pl_pages++;
		st->pl_bytes += resp.len;
		cursor = next;
		if (head >= 0)
			st->pl_head = head;
		if (more != 1)
			break;
	}
out:
	st->pl_cursor = cursor;
	if (st->pl_head >= 0)
		kv_set_i64(db, "sync_state", "head_seq", st->pl_head);
	buf_release(&resp);
	return rc;
}

int sync_client_cycle(sync_client *c, sqlite3 *db, sync_push_stats *ps, sync_pull_stats *pl)
{
	sync_push_stats ps2;
	int rc;

	rc = sync_client_push(c, db, ps);
	if (rc != 0)
		return rc;
	for (int round = 0; round < CYCLE_MAX_ROUNDS; round++) {
		rc = sync_client_pull(c, db, pl);
		if (rc != SYNC_E_PENDING)
			break;
		/* A local write arrived between push and pull: push it first. */
		rc = sync_client_push(c, db, &ps2);
		if (rc != 0)
			return rc;
		if (ps) {
			ps->ps_sent += ps2.ps_sent;
			ps->ps_acked += ps2.ps_acked;
			ps->ps_batches += ps2.ps_batches;
			ps->ps_quarantined += ps2.ps_quarantined;
			ps->ps_acked_seq = ps2.ps_acked_seq ? ps2.ps_acked_seq : ps->ps_acked_seq;
		}
		rc = SYNC_E_PENDING;
	}
	if (rc != 0)
		return rc;
	if (db_int(db, "SELECT count(*) FROM outbox", 0) > 0)
		rc = sync_client_push(c, db, &ps2);
	return rc;
}

int sync_client_record(sync_client *c, sqlite3 *db, const char *err)
{
	int rc = 0;

	if (c->sc_have_time) {
		rc |= kv_set_i64(db, "node_meta", "clock_offset_ms", c->sc_offset_ms);
		rc |= kv_set_i64(db, "node_meta", "last_contact_ms", (int64_t)c->sc_last_contact_ms);
	}
	rc |= kv_set(db, "sync_state", "last_error", err && *err ? err : NULL);
	return rc ? -1 : 0;
}
