/*
 * audit.c - insert audit events (see audit.h).
 */
#include "model/audit.h"
#include "lib/db.h"
#include "lib/uuid.h"

#include <string.h>

int audit_record(sqlite3 *db, const audit_event *ev, char *id_out)
{
	char id[UUID_STRLEN];

	if (ev->ae_office_id == NULL || ev->ae_action == NULL || ev->ae_at <= 0)
		return -1;
	if (uuid7_at(id, (uint64_t)ev->ae_at) != 0)
		return -1;
	if (db_run(db,
		   "INSERT INTO audit_events(id, at, office_id, local_area_id, node_id,"
		   " staff_id, action, subject_table, subject_id, detail)"
		   " VALUES(?,?,?,?,?,?,?,?,?,?)",
		   "tItttttttt", id, ev->ae_at, ev->ae_office_id, ev->ae_local_area_id,
		   ev->ae_node_id, ev->ae_staff_id, ev->ae_action, ev->ae_subject_table,
		   ev->ae_subject_id, ev->ae_detail) != 0)
		return -1;
	if (id_out)
		memcpy(id_out, id, UUID_STRLEN);
	return 0;
}
