/*
 * audit.h - audit events (table audit_events, model/schema_accounts.c):
 * logins (offline ones too), every read of participant PII and every SSN
 * reveal, administrative actions at a node.  Append-only and replicated to
 * the hub, so an office's record of who looked at what survives the office.
 *
 * audit_record() only inserts: on a node, call it inside the write's captured
 * transaction (model/capture.h) so the event reaches the outbox with it.
 * detail is JSON text or NULL and must never hold a password, token, SSN,
 * case-note text or a participant's name.
 */
#ifndef OUTPOST_AUDIT_H
#define OUTPOST_AUDIT_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct audit_event {
	int64_t ae_at;             /* ms since the epoch (trusted clock) */
	const char *ae_office_id;  /* required */
	const char *ae_local_area_id;
	const char *ae_node_id;
	const char *ae_staff_id;   /* who acted; NULL for the system */
	const char *ae_action;     /* required: login, login_offline, ... */
	const char *ae_subject_table;
	const char *ae_subject_id;
	const char *ae_detail;     /* JSON text or NULL */
} audit_event;

/* Insert one event with a new UUIDv7 id (into id_out when not NULL, 37
 * bytes).  0, or -1 (bad arguments, SQLite error). */
int audit_record(sqlite3 *db, const audit_event *ev, char *id_out);

#endif
