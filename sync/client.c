/*
 * client.c - the node's side of the replication protocol (sync/client.h):
 * the cycle that strings push and pull together.  The rest is in
 * client_*.c, one concern each (see client_int.h).
 */
#include "sync/client_int.h"

#define CYCLE_MAX_ROUNDS 3     /* push/pull rounds while local writes keep coming */

int sync_client_cycle(sync_client *c, sqlite3 *db, sync_push_stats *ps, sync_pull_stats *pl)
{
	sync_push_stats local, ps2;
	int rc;

	if (ps == NULL)
		ps = &local;
	rc = sync_client_push(c, db, ps);
	if (rc != 0)
		return rc;
	/* Office writes that arrive during the pull are pushed by it (client_pull.c). */
	c->sc_push_between = ps;
	for (int round = 0; round < CYCLE_MAX_ROUNDS; round++) {
		rc = sync_client_pull(c, db, pl);
		if (rc != SYNC_E_PENDING)
			break;
		/* A page named a row of a write that landed meanwhile: push it,
		 * and pull again from the cursor (fresh pages, client_pull.c). */
		rc = sync_client_push(c, db, &ps2);
		if (rc != 0)
			break;
		sync__push_stats_add(ps, &ps2);
		rc = SYNC_E_PENDING;
	}
	c->sc_push_between = NULL;
	if (rc != 0)
		return rc;
	if (db_int(db, "SELECT count(*) FROM outbox", 0) > 0) {
		rc = sync_client_push(c, db, &ps2);
		sync__push_stats_add(ps, &ps2);
	}
	return rc;
}
