/*
 * synctest.h - what the replication unit tests (test_apply, test_apply_cache,
 * test_capture, test_case, test_crm, test_pull) share: an in-memory node or
 * hub database, a captured write at a node, and pushing a node's outbox to
 * a hub the way the hub applies a push.  Test code only, linked into those
 * binaries (see the Makefile); failures are cmocka assertions.
 */
#ifndef OUTPOST_SYNCTEST_H
#define OUTPOST_SYNCTEST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/db.h"
#include "sync/sync.h"

/* A migrated and checked in-memory database: a hub's (hub != 0, with the
 * change log) or a node's (with the outbox).  The caller closes it. */
sqlite3 *st_open_db(int hub);

/* One captured write at node: sql (sqlite3_mprintf-style: %Q, %q) in one transaction by
 * actor, stamped hlc.  Returns the outbox seq it got (0: none). */
int64_t st_node_write(sqlite3 *node, const char *actor, const char *hlc, const char *fmt, ...);

typedef struct st_pushed {
	int applied, quarantined, conflicts;
	char reason[256]; /* of the last quarantined entry */
} st_pushed;

/* Push every outbox entry of node to hub as sc (one transaction each) and
 * drop them from the outbox, as the node does after the ack. */
st_pushed st_push(sqlite3 *hub, sqlite3 *node, const sync_scope *sc);

/* st_push() of one write the hub must refuse: exactly one entry is
 * quarantined, and its reason contains why (a mismatch fails naming both). */
void st_push_refused(sqlite3 *hub, sqlite3 *node, const sync_scope *sc, const char *why);

/* How one sync_hub_apply_batch() went: the tries of its group (SAVEPOINT
 * sync_batch) and the entries it merged one by one (SAVEPOINT sync_apply). */
typedef struct st_batch_count {
	int tries, merged;
} st_batch_count;

/* sync_hub_apply_batch(hub, c, sc, es, n, r) in one transaction, as a push
 * is, counted from the statements the hub runs. */
st_batch_count st_apply_batch(sqlite3 *hub, sync_apply_cache *c, const sync_scope *sc,
			      const sync_entry *es, int n, sync_apply_result *r);

/* A conflict handler for sqlite3changeset_apply that stops at the first
 * conflict: a replica copied in a test must apply cleanly. */
int st_conflict_abort(void *ctx, int kind, sqlite3_changeset_iter *it);

/* The rule of the tests' domain validators (sync_set_validator; db, tbl,
 * op, row, reason and n as there): a checkins row whose visitor_name is name
 * is refused, why copied to reason: -1; anything else 0.  A delete is judged
 * too when deletes is non-zero. */
int st_refuse_visitor(sqlite3 *db, const char *tbl, int op, const struct cJSON *row, char *reason,
		      size_t n, const char *name, int deletes, const char *why);

/* One query whose single integer result a test expects. */
typedef struct st_expect {
	const char *sql;
	int64_t want;
} st_expect;

/* Run each query of e[0..n) on db and compare its value with want; a
 * mismatch fails naming the query and both values. */
void st_expect_ints(sqlite3 *db, const st_expect *e, size_t n);
#define ST_EXPECT(db, ...)                                                                   \
	do {                                                                                 \
		static const st_expect st_e_[] = {__VA_ARGS__};                              \
		st_expect_ints((db), st_e_, sizeof st_e_ / sizeof st_e_[0]);                 \
	} while (0)

/* Each table of names (NULL-ended) is one model/schema.h declares, of
 * kind (table_kind: st_expect_kind) or scope (scope_kind: st_expect_scope);
 * a mismatch fails naming the table and both values.  ST_KIND(TK_MUTABLE,
 * "a", "b") and ST_SCOPE(...) take the names as arguments. */
void st_expect_kind(int kind, const char *const *names);
void st_expect_scope(int scope, const char *const *names);
#define ST_KIND(kind, ...) st_expect_kind((kind), (const char *const[]){__VA_ARGS__, NULL})
#define ST_SCOPE(scope, ...) st_expect_scope((scope), (const char *const[]){__VA_ARGS__, NULL})

#endif
