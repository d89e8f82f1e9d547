/*
 * pull_pending.c - may a pull page be applied while the outbox holds office
 * writes the hub has not merged yet?  Yes, when no row of the page is a row
 * one of those writes touched (pull_pending.h).
 *
 * A page is the hub's state of the rows it names, and the node takes it
 * over whatever it holds ("the hub's state wins", pull_node.c).  Over a row
 * with a local write still in the outbox that would show the office the
 * hub's older state until the merged one came back: so such a page waits
 * for the push.  Any other row of the page is one the office has not
 * touched since its last push: applying it beside the pending writes is
 * what pushing them first and then applying it would have left, since the
 * hub merges row by row.  (The rule used to be "only while the outbox is
 * empty", and at a busy front desk a check-in landed between nearly every
 * page's fetch and its apply: a pull of many pages went one page a cycle.)
 *
 * A row is named by its table and the values of its key columns, as the
 * session extension writes them: the old record's key of an UPDATE or a
 * DELETE, the new record's of an INSERT.
 */
#include "sync/pull_pending.h"
#include "sync/changeset.h"
#include "lib/buf.h"
#include "lib/log.h"

#include <stdlib.h>
#include <string.h>

/* Past these the outbox is not read key by key: the page waits, as before. */
#define PENDING_MAX_ENTRIES 1000
#define PENDING_MAX_BYTES (8 * 1024 * 1024)

/* The key of it's current change into out: the table name and its NUL, then
 * each key column's value in the changeset encoding (changeset_put_csvalue,
 * which says how long each value is). */
static void key_put(const cs_iter *it, buf *out, int *rc)
{
	buf_put_bytes(out, it->ci_table, strlen(it->ci_table) + 1, rc);
	for (int i = 0; i < it->ci_ncol; i++)
		if (it->ci_pk[i])
			changeset_put_csvalue(out,
					      it->ci_old[i].cv_type != CSV_UNDEFINED ? &it->ci_old[i]
										: &it->ci_new[i],
					      rc);
}

/* The pending writes' keys: each a length (u32) and its bytes in ks_keys at
 * the offsets ks_at while they are read, then ks_key, sorted. */
typedef struct pkey {
	const unsigned char *pk_p;
	size_t pk_n;
} pkey;

typedef struct keyset {
	buf ks_keys;
	size_t *ks_at;
	size_t ks_n, ks_cap;
	pkey *ks_key;
} keyset;

static int key_cmp_raw(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c != 0 ? c : an < bn ? -1 : an > bn;
}

static int key_cmp(const void *a, const void *b)
{
	const pkey *x = a, *y = b;

	return key_cmp_raw(x->pk_p, x->pk_n, y->pk_p, y->pk_n);
}

/* Add every change of one pending changeset.  0 or -1 (malformed, memory). */
static int set_add(keyset *ks, const void *cs, size_t len, buf *scratch)
{
	cs_iter it;
	const char *err = NULL;
	int rc, put = 0;

	changeset_iter_init(&it, cs, len);
	while ((rc = changeset_next(&it, &err)) == 1) {
		uint32_t n;

		buf_reset(scratch);
		key_put(&it, scratch, &put);
		if (put != 0)
			break;
		if (ks->ks_n == ks->ks_cap) {
			size_t cap = ks->ks_cap ? 2 * ks->ks_cap : 64;
			size_t *at = realloc(ks->ks_at, cap * sizeof *at);
			if (at == NULL) {
				put = -1;
				break;
			}
			ks->ks_at = at;
			ks->ks_cap = cap;
		}
		ks->ks_at[ks->ks_n++] = ks->ks_keys.len;
		n = (uint32_t)scratch->len;
		if (buf_append(&ks->ks_keys, &n, sizeof n) != 0 ||
		    buf_append(&ks->ks_keys, scratch->data, scratch->len) != 0) {
			put = -1;
			break;
		}
	}
	changeset_iter_release(&it);
	if (rc < 0)
		log_warnx("pull: an outbox entry cannot be read: %s", err ? err : "?");
	return rc == 0 && put == 0 ? 0 : -1;
}

static int set_has(const keyset *ks, const unsigned char *k, size_t n)
{
	size_t lo = 0, hi = ks->ks_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp_raw(k, n, ks->ks_key[mid].pk_p, ks->ks_key[mid].pk_n);

		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* How many entries wait in the outbox and their bytes (length() of a blob
 * reads its size, not its bytes): 0, or -1 on error. */
static int pending_size(sqlite3 *db, int64_t *entries, int64_t *bytes)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, &st, "SELECT count(*), coalesce(sum(length(changeset)), 0) FROM outbox"))
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*entries = sqlite3_column_int64(st, 0);
		*bytes = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Read the keys of the pending entries.  0, -2 (too much to read), -1 on
 * error. */
static int set_load(sqlite3 *db, int64_t entries, int64_t bytes, keyset *ks, buf *scratch)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (entries > PENDING_MAX_ENTRIES || bytes > PENDING_MAX_BYTES)
		return -2;
	if (db_prepare(db, &st, "SELECT changeset FROM outbox") != 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int type = sqlite3_column_type(st, 0);
		const void *cs = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0);

		if (cs == NULL && type != SQLITE_NULL && (type != SQLITE_BLOB || len > 0)) {
			rc = SQLITE_NOMEM; /* never a pending change left out */
			break;
		}
		if (len > 0 && set_add(ks, cs, (size_t)len, scratch) != 0) {
			sqlite3_finalize(st);
			return -2; /* unreadable here: let the push judge it; wait */
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (ks->ks_n == 0)
		return 0;
	if ((ks->ks_key = calloc(ks->ks_n, sizeof *ks->ks_key)) == NULL)
		return -1;
	for (size_t i = 0; i < ks->ks_n; i++) {
		const unsigned char *p = (const unsigned char *)ks->ks_keys.data + ks->ks_at[i];
		uint32_t klen;

		memcpy(&klen, p, sizeof klen);
		ks->ks_key[i].pk_p = p + sizeof klen;
		ks->ks_key[i].pk_n = klen;
	}
	qsort(ks->ks_key, ks->ks_n, sizeof *ks->ks_key, key_cmp);
	return 0;
}

int sync__pull_pending_clear(sqlite3 *db, const void *page, size_t len)
{
	keyset ks = {.ks_keys = BUF_INIT(PENDING_MAX_BYTES * 2)};
	buf scratch = BUF_INIT(CHANGESET_MAX_VALUE + 4096);
	int64_t entries, bytes;
	int ret;

	if (pending_size(db, &entries, &bytes) != 0)
		return -1;
	if (entries == 0)
		return 0;
	ret = set_load(db, entries, bytes, &ks, &scratch);
	if (ret == 0) {
		cs_iter it;
		const char *err = NULL;
		int rc, put = 0;

		changeset_iter_init(&it, page, len);
		while ((rc = changeset_next(&it, &err)) == 1) {
			buf_reset(&scratch);
			key_put(&it, &scratch, &put);
			if (put != 0 ||
			    set_has(&ks, (const unsigned char *)scratch.data, scratch.len)) {
				ret = -2;
				break;
			}
		}
		changeset_iter_release(&it);
		if (ret == 0 && rc != 0)
			ret = -1; /* walked once already (page_take): not expected */
	}
	buf_release(&scratch);
	buf_release(&ks.ks_keys);
	free(ks.ks_at);
	free(ks.ks_key);
	return ret;
}
