/*
 * schema_core.c - the core replicated tables: Local Areas, offices and the
 * greeter (check-in reasons and their former labels, check-ins, their
 * reasons and their events).
 *
 * checkins is mutable (the visit moves waiting -> called -> serving -> done /
 * left, and back to the queue); every move is also recorded as an append-only
 * checkin_events row so the history survives any merge.
 */
#include "model/schema.h"

static const db_migration core_migrations[] = {
	{"CREATE TABLE local_areas("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " name TEXT NOT NULL,"
	 " field_division TEXT,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE TABLE offices("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " name TEXT NOT NULL,"
	 " address TEXT,"
	 " timezone TEXT NOT NULL DEFAULT 'America/Los_Angeles',"
	 " has_title1_partner INTEGER NOT NULL DEFAULT 1,"
	 " active INTEGER NOT NULL DEFAULT 1,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE TABLE greeter_reasons("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " office_id TEXT,"              /* NULL: every office of the Local Area */
	 " label TEXT NOT NULL,"
	 " label_es TEXT NOT NULL,"
	 " sort INTEGER NOT NULL DEFAULT 0,"
	 " active INTEGER NOT NULL DEFAULT 1,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE TABLE checkins("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " visitor_name TEXT NOT NULL,"
	 " phone TEXT,"
	 " email TEXT,"
	 " language TEXT NOT NULL DEFAULT 'en',"
	 " appointment_with TEXT,"
	 " virtual INTEGER NOT NULL DEFAULT 0,"
	 " participant_id TEXT,"
	 " status TEXT NOT NULL DEFAULT 'waiting',"
	 " arrived_at INTEGER NOT NULL,"
	 " called_at INTEGER,"
	 " serving_at INTEGER,"
	 " finished_at INTEGER,"
	 " visit_date TEXT NOT NULL,"
	 " note TEXT,"
	 " staff_id TEXT,"
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX checkins_day ON checkins(office_id, visit_date, status);"
	 "CREATE INDEX checkins_name ON checkins(visitor_name COLLATE NOCASE);"
	 "CREATE TABLE checkin_reasons("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " checkin_id TEXT NOT NULL,"
	 " reason_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL);"
	 "CREATE INDEX checkin_reasons_checkin ON checkin_reasons(checkin_id);"
	 "CREATE TABLE checkin_events("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " checkin_id TEXT NOT NULL,"
	 " office_id TEXT NOT NULL,"
	 " action TEXT NOT NULL,"
	 " from_status TEXT,"
	 " to_status TEXT NOT NULL,"
	 " note TEXT,"
	 " staff_id TEXT,"
	 " at INTEGER NOT NULL,"
	 " hlc TEXT NOT NULL);"
	 "CREATE INDEX checkin_events_checkin ON checkin_events(checkin_id);"},
	/* The Local Area's own assigned identifier of its pseudo-SSNs (975-DD-MMYY
	 * is San Luis Obispo's); NULL until operations sets it. */
	{"ALTER TABLE local_areas ADD COLUMN pseudo_ssn_prefix TEXT;"},
	/* A reason's former labels (the hub writes one at each rename: the
	 * labels it had, and when they ended), so a report of past visits
	 * shows each under the label it had (greeter.h,
	 * GREETER_REASON_LABEL); the kiosk and the desk show today's. */
	{"CREATE TABLE greeter_reason_labels("
	 " id TEXT PRIMARY KEY NOT NULL,"
	 " reason_id TEXT NOT NULL,"
	 " local_area_id TEXT NOT NULL,"
	 " label TEXT NOT NULL,"
	 " label_es TEXT NOT NULL,"
	 " ended_at INTEGER NOT NULL," /* ms, the hub's clock at the rename */
	 " updated_hlc TEXT NOT NULL DEFAULT '');"
	 "CREATE INDEX greeter_reason_labels_reason ON greeter_reason_labels(reason_id, ended_at);"},
	/* The labels a visit's reason had at its office when the visitor
	 * checked in (the node writes them with the row: what its kiosk
	 * offered), so a report names it by them (greeter.h,
	 * GREETER_REASON_LABEL): a rename at the hub reaches an office only
	 * with its next pull, and no time compared with the hub's can tell
	 * the visits made before it there.  NULL on the rows of a node
	 * before this version: the reports compare times for those. */
	{"ALTER TABLE checkin_reasons ADD COLUMN label TEXT;"
	 "ALTER TABLE checkin_reasons ADD COLUMN label_es TEXT;"},
};

static const table_def core_tables[] = {
	{"local_areas", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"offices", TK_HUB_OWNED, SCOPE_STATEWIDE, NULL, NULL, NULL, NULL, 0},
	{"greeter_reasons", TK_HUB_OWNED, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"greeter_reason_labels", TK_HUB_OWNED, SCOPE_LOCAL_AREA, "local_area_id", NULL, NULL, NULL, 0},
	{"checkins", TK_MUTABLE, SCOPE_OFFICE, "office_id", "status", "done|left", NULL, 1},
	{"checkin_reasons", TK_APPEND_ONLY, SCOPE_OFFICE, "office_id", NULL, NULL, NULL, 0},
	/* (a visit's day_end event is born at any node under one id: its fact
	 * columns are in schema.c, schema_fact_col) */
	{"checkin_events", TK_APPEND_ONLY, SCOPE_OFFICE, "office_id", NULL, NULL, NULL, 0},
};

const schema_module schema_core = SCHEMA_MODULE("core", core_migrations, core_tables);
