/*
 * node_case_util.c - what the case-work route files share and nothing
 * else: the audit event of an action on a subject.  Includes no sibling's
 * header but node_case.h, so the case files depend one way:
 * node_case_util.c <- node_case_compliance.c <- node_case.c, node_case_work.c.
 */
#include "node/node_case.h"
#include "model/audit.h"

int case__audit(node *n, const node_user *u, const char *action, const char *table,
		const char *id, const char *detail)
{
	audit_event ev = {(int64_t)node_now_ms(n), n->nd_office_id, n->nd_local_area_id,
			  n->nd_node_id, u ? u->id : NULL, action, table, id, detail};
	return audit_record(n->nd_db, &ev, NULL);
}
