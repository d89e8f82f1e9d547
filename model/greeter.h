/*
 * greeter.h - the greeter's domain rules, shared by the node (which enforces
 * them on every API write) and the hub (which checks replicated rows).
 *
 * Visit states: waiting -> called -> serving -> done, with "left" (left
 * without service) from waiting or called, and "requeue" (back to queue) from
 * called or serving.  A visit still open when its day is over is closed by
 * the node (greeter_day_end), with no finish time: nobody saw it end.
 */
#ifndef OUTPOST_GREETER_H
#define OUTPOST_GREETER_H

#include "lib/json.h"

#include <sqlite3.h>

#define GREETER_NAME_MAX 120
#define GREETER_PHONE_MAX 25
#define GREETER_EMAIL_MAX 254
#define GREETER_NOTE_MAX 2000
#define GREETER_APPT_MAX 120
#define GREETER_MAX_REASONS 10

/*
 * The label a visit's reason had at its office when the visitor checked in,
 * in SQL: the labels the office's node recorded on the visit's reason
 * (checkin_reasons.label and label_es, the reason's labels there at the
 * check-in: what its kiosk offered, a rename at the hub reaching it only
 * with its next pull); for a visit recorded without them (before that
 * column, core schema migration 4), of the reason's former labels
 * (greeter_reason_labels, one written at each rename with the hub's time it
 * ended) the first that ended after the visit arrived, else the reason's
 * label now; NULL for an unknown reason.  What a report of past visits
 * shows (a renamed reason does not rewrite last month); the kiosk and the
 * desk show the label now.
 *
 * One join per visit's reason, whatever the columns read:
 * GREETER_REASON_LABEL_JOIN(h, cr, at) joins the former label as h for
 * the visit's reason cr (the alias of its checkin_reasons row) arrived at
 * at (the SQL of the visit's arrival, ms), when cr has no label of its own
 * (the one lookup goes by greeter_reason_labels_reason, then by id), and
 * GREETER_REASON_LABEL(col, cr, h, g) is column col (label or label_es) of
 * cr, else of h, else of g, the query's join of greeter_reasons on
 * cr.reason_id.
 */
#define GREETER_REASON_LABEL_JOIN(h, cr, at)                                                   \
	" LEFT JOIN greeter_reason_labels " h " ON " cr ".label IS NULL AND " h ".id = (SELECT"  \
	" x.id FROM greeter_reason_labels x WHERE x.reason_id=" cr ".reason_id AND x.ended_at > " \
	at " ORDER BY x.ended_at, x.id LIMIT 1)"
#define GREETER_REASON_LABEL(col, cr, h, g) \
	"coalesce(" cr "." col ", " h "." col ", " g "." col ")"

/* Next status for action from status, or NULL when the move is not allowed. */
const char *greeter_transition(const char *from, const char *action);
/* The status a visit still open at the end of its day is closed in (the
 * event's action "day_end", node_greeter_days.c): waiting or called ->
 * left, serving -> done; NULL for a visit that has ended. */
const char *greeter_day_end(const char *from);
/* The id of the "day_end" event of visit checkin_id closed from status from
 * (36 characters and a NUL into out): a UUIDv8 made of the SHA-256 of both,
 * the same at every node, so that two nodes of an office closing one visit
 * at once write one event, which the hub takes once (schema_fact_col).
 * 0, or -1 when it cannot be made. */
int greeter_day_end_id(const char *checkin_id, const char *from, char out[37]);
/* 0 when s is one of the five statuses. */
int greeter_valid_status(const char *s);
int greeter_valid_language(const char *s);
/* Phone: digits, spaces, + - ( ) . and 7 to 15 digits in all. */
int greeter_valid_phone(const char *s);
/* A plausible e-mail address (one @, a dot in the domain, no spaces). */
int greeter_valid_email(const char *s);

/*
 * The hub's check of a replicated greeter row (a sync_row_validator, chained
 * by model_hub_validate_row): a check-in is never deleted, and holds what
 * the node's API lets in (a status, a visit date, a name, a language, the
 * virtual flag, times as milliseconds, texts within their lengths); an
 * event names a status it moved to.  0, or -1 with the reason.
 */
int greeter_hub_validate_row(sqlite3 *db, const char *tbl, int op, const cJSON *row, char *reason,
			     size_t n);

#endif
