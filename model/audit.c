/*
 * audit.c - insert audit events (see audit.h).
 */
#include "model/audit.h"
#include "lib/db.h"
#include "lib/uuid.h"

#include <string.h>

int audit_record(sqlite3 *db, const audit_event *ev, char *id_out)
{
	sqlite3_stmt *st = NULL;
	char id[UUID_STRLEN];
	int rc = -1;

	if (ev->ae_office_id == NULL || ev->ae_action == NULL || ev->ae_at <= 0)
		return -1;
	if (uuid7_at(id, (uint64_t)ev->ae_at) != 0)
		return -1;
	if (db_prepare(db, &st,
		       "INSERT INTO audit_events(id, at, office_id, local_area_id, node_id,"
		       " staff_id, action, subject_table, subject_id, detail)"
		       " VALUES(?,?,?,?,?,?,?,?,?,?)") != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ev->ae_at);
	db_bind_text(st, 3, ev->ae_office_id);
	db_bind_text(st, 4, ev->ae_local_area_id);
	db_bind_text(st, 5, ev->ae_node_id);
	db_bind_text(st, 6, ev->ae_staff_id);
	db_bind_text(st, 7, ev->ae_action);
	db_bind_text(st, 8, ev->ae_subject_table);
	db_bind_text(st, 9, ev->ae_subject_id);
	db_bind_text(st, 10, ev->ae_detail);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	if (id_out)
		memcpy(id_out, id, UUID_STRLEN);
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}
