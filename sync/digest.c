/*
 * digest.c - per-table row counts and SHA-256 digests, so "in sync" between
 * a node and the hub is checked, not assumed (outpost-sync verify).
 *
 * Both sides hash the same canonical encoding, table by table, of the rows
 * the node may hold (at the hub: filtered to the node's scope exactly as the
 * change log filters pulls; on the node: every row), ordered by id:
 *
 *   for each column name:  name bytes, 0x00          (schema shape)
 *   for each row, for each column in PRAGMA table_info order:
 *     'N'                          NULL
 *     'I' + 8 bytes big-endian     INTEGER
 *     'R' + 8 bytes big-endian     REAL (IEEE 754 bits)
 *     'T' + u32 length + bytes     TEXT
 *     'B' + u32 length + bytes     BLOB
 *
 * The same rows give the same digest whatever order they were written in.
 */
#include "sync/sync.h"
#include "sync/changeset.h"
#include "model/schema.h"
#include "lib/crypto.h"
#include "lib/log.h"

#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct dctx {
	sqlite3 *dc_db;
	const sync_scope *dc_sc;
	cJSON *dc_tables;
} dctx;

static void be(unsigned char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static int hash_value(mbedtls_sha256_context *h, sqlite3_stmt *st, int i)
{
	unsigned char hd[9];
	uint64_t bits;
	double d;
	int n, rc = 0, type = sqlite3_column_type(st, i);

	switch (type) {
	case SQLITE_INTEGER:
		hd[0] = 'I';
		be(hd + 1, (uint64_t)sqlite3_column_int64(st, i), 8);
		rc = mbedtls_sha256_update_ret(h, hd, 9);
		break;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, i);
		memcpy(&bits, &d, sizeof bits);
		hd[0] = 'R';
		be(hd + 1, bits, 8);
		rc = mbedtls_sha256_update_ret(h, hd, 9);
		break;
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, i)
						    : sqlite3_column_blob(st, i);
		hd[0] = type == SQLITE_TEXT ? 'T' : 'B';
		n = sqlite3_column_bytes(st, i);
		if (p == NULL && (type == SQLITE_TEXT || n > 0))
			return -1; /* out of memory: never the digest of another value */
		be(hd + 1, (uint64_t)n, 4);
		rc = mbedtls_sha256_update_ret(h, hd, 5);
		if (rc == 0 && n > 0)
			rc = mbedtls_sha256_update_ret(h, p, (size_t)n);
		break;
	}
	default:
		hd[0] = 'N';
		rc = mbedtls_sha256_update_ret(h, hd, 1);
	}
	return rc == 0 ? 0 : -1;
}

static int digest_table(const table_def *td, void *arg)
{
	dctx *dc = arg;
	sync__tshape ts;
	sqlite3_stmt *st = NULL;
	sqlite3_value *stack[64], **v = stack;
	mbedtls_sha256_context h;
	unsigned char sum[32];
	char hex[65], *sql = NULL;
	int64_t count = 0;
	int rc, ret = -1;
	cJSON *o;

	if (td->td_scope == SCOPE_HUB_ONLY)
		return 0;
	if (sync__tshape_load(dc->dc_db, td, &ts) != 0)
		return -1;
	mbedtls_sha256_init(&h);
	if (ts.ts_ncol > 64 && (v = calloc((size_t)ts.ts_ncol, sizeof *v)) == NULL)
		goto out;
	if (mbedtls_sha256_starts_ret(&h, 0) != 0)
		goto out;
	for (int i = 0; i < ts.ts_ncol; i++)
		if (mbedtls_sha256_update_ret(&h, (const unsigned char *)ts.ts_cols[i],
					      strlen(ts.ts_cols[i]) + 1) != 0)
			goto out;
	sql = sqlite3_mprintf("SELECT %s FROM \"%w\" ORDER BY \"id\"", ts.ts_collist, td->td_name);
	if (sql == NULL || db_prepare(dc->dc_db, &st, sql) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (dc->dc_sc) {
			const char *office, *la;
			for (int i = 0; i < ts.ts_ncol; i++)
				v[i] = sqlite3_column_value(st, i);
			sync__row_scope(&ts, v, &office, &la);
			if (!sync__scope_holds(dc->dc_sc, office, la))
				continue;
		}
		count++;
		for (int i = 0; i < ts.ts_ncol; i++)
			if (hash_value(&h, st, i) != 0)
				goto out;
	}
	if (rc != SQLITE_DONE) {
		log_warnx("digest: cannot read '%s': %s", td->td_name, sqlite3_errmsg(dc->dc_db));
		goto out;
	}
	if (mbedtls_sha256_finish_ret(&h, sum) != 0)
		goto out;
	crypto_hex(sum, sizeof sum, hex);
	o = cJSON_AddObjectToObject(dc->dc_tables, td->td_name);
	if (o == NULL || cJSON_AddNumberToObject(o, "count", (double)count) == NULL ||
	    cJSON_AddStringToObject(o, "digest", hex) == NULL)
		goto out;
	ret = 0;
out:
	mbedtls_sha256_free(&h);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	if (v != stack)
		free(v);
	sync__tshape_release(&ts);
	return ret;
}

cJSON *sync_digest(sqlite3 *db, const sync_scope *sc)
{
	cJSON *root = cJSON_CreateObject();
	dctx dc = {db, sc, NULL};
	int mine = 0;

	if (root == NULL)
		return NULL;
	dc.dc_tables = cJSON_AddObjectToObject(root, "tables");
	if (dc.dc_tables == NULL)
		goto fail;
	/* One read transaction, so the tables are digested at one instant. */
	if (sqlite3_get_autocommit(db)) {
		if (db_exec(db, "BEGIN") != 0)
			goto fail;
		mine = 1;
	}
	if (schema_foreach(digest_table, &dc) != 0)
		goto fail;
	if (mine)
		db_exec(db, "COMMIT");
	return root;
fail:
	if (mine)
		db_exec(db, "ROLLBACK");
	cJSON_Delete(root);
	return NULL;
}
