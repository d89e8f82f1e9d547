/*
 * node_seed.c - a stand-alone node (never enrolled) starts with the demo
 * Local Area, office and reasons so the kiosk works out of the box.  Reference
 * tables are hub-owned: they are written here without capture, and replaced
 * by the hub's snapshot when the node enrolls.
 */
#include "node/node.h"
#include "node/node_auth.h"
#include "model/demo.h"
#include "lib/log.h"

int node_seed_demo(node *n)
{
	char ts[HLC_STRLEN];
	int ret;

	if (db_int(n->nd_db, "SELECT count(*) FROM offices", 0) > 0)
		return 0;
	hlc_now(&n->nd_hlc, ts);
	if (db_exec(n->nd_db, "BEGIN IMMEDIATE") != 0)
		return -1;
	ret = demo_seed_reference(n->nd_db, ts);
	if (ret == 0)
		ret = node_seed_demo_logins(n, ts);
	if (ret == 0)
		ret = db_kv_set(n->nd_db, "node_meta", "office_id", DEMO_OFFICE);
	if (ret == 0)
		ret = db_kv_set(n->nd_db, "node_meta", "local_area_id", DEMO_LOCAL_AREA);
	if (ret == 0 && db_exec(n->nd_db, "COMMIT") == 0) {
		log_info("seeded demo office '%s'", DEMO_OFFICE);
		return 0;
	}
	db_exec(n->nd_db, "ROLLBACK");
	return -1;
}
