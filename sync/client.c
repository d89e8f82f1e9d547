/*
 * client.c - the node's side of the replication protocol (sync/client.h):
 * the cycle that strings push and pull together.  The rest is in
 * client_*.c, one concern each (see client_int.h).
 */
#include "sync/client_int.h"

#define CYCLE_MAX_ROUNDS 3     /* push/pull rounds while local writes keep coming */

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
