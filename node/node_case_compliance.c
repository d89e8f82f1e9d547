/*
 * node_case_compliance.c - case work's clocks on the office node: each
 * case's status on the trusted date (last clock-restarting service, the
 * 90-day soft exit with its warnings and the closure form prompt, the
 * 30-day case-note cadence, late entries against the 5-business-day and
 * 5-day rules, the four quarters of follow-up after exit), the sweep that
 * records a soft exit once its day has come (irreversibly), and the
 * compliance views per staff member and office: what is due this week,
 * what is overdue, which cases near their soft exit, case-note compliance;
 * as JSON and as CSV.  See node_case.h.
 */
#include "node/node_case.h"
#include "node/node_api.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <string.h>

/*
 * Prepared statements, kept for the length of one request: the compliance
 * view runs the same few queries for every case of the Local Area, and
 * compiling them once per case cost more than running them.  The loop
 * thread is the only user.  q_batch(1) keeps them across calls until
 * q_batch(0) finalizes them; outside a batch each call finalizes its own.
 */
enum { Q_PROW, Q_LAST, Q_NOTE, Q_ACTS, Q_NOTES, Q_FU, Q_EXIT, Q_SETEXIT, Q_DECL, Q_FUFORM,
       Q_PENDING, Q_N };
static struct {
	sqlite3_stmt *st[Q_N];
	int batch;
} qc;

static const char *const q_sql[Q_N] = {
	"SELECT registered_date, exit_state, coalesce(exit_date, ''),"
	" coalesce(closure_form_date, '') FROM participants WHERE id=?",
	"SELECT coalesce(max(a.start_date), '') FROM participant_activities a"
	" JOIN participant_activity_codes c ON c.code = a.code AND a.code_list = 'activity'"
	" WHERE a.participant_id = ?1 AND c.restarts_exit_clock = 1 AND" CASE_ACT_EFFECTIVE,
	"SELECT coalesce(max(contact_date), '') FROM case_notes WHERE participant_id=?"
	" AND amends_id IS NULL AND " CASE_BACKDATE_COUNTS("case_notes"),
	"SELECT a.start_date, a.entered_date, NOT EXISTS (SELECT 1 FROM case_notes nt"
	" WHERE nt.activity_id = a.id) FROM participant_activities a"
	" WHERE a.participant_id = ? AND a.corrects_id IS NULL AND" CASE_ACT_NOT_VOIDED("a"),
	"SELECT contact_date, entered_date FROM case_notes"
	" WHERE participant_id = ? AND " CASE_NOTE_IS_ENTRY("case_notes"),
	"SELECT (SELECT count(*) FROM participant_activities a WHERE a.participant_id=?1"
	"  AND a.code_list='followup' AND a.start_date BETWEEN ?2 AND ?3 AND" CASE_ACT_EFFECTIVE ")"
	" + (SELECT count(*) FROM case_notes WHERE participant_id=?1 AND"
	CASE_NOTE_IS_ENTRY("case_notes") " AND contact_date BETWEEN ?2 AND ?3)",
	"INSERT INTO participant_exits(id, participant_id, local_area_id, office_id,"
	" exit_date, kind, last_service_date, recorded_at, recorded_by)"
	" VALUES(?,?,?,?,?,'soft_exit',?,?,?)",
	"UPDATE participants SET exit_state='exited', exit_date=?, updated_hlc=? WHERE id=?",
	"SELECT min(form_date) FROM case_forms WHERE participant_id=? AND kind='followup_declined'",
	"SELECT count(*) FROM case_forms WHERE participant_id=?1 AND kind='followup'"
	" AND form_date BETWEEN ?2 AND ?3",
	/* the latest clock-restarting service still waiting for its backdate's
	 * approval */
	"SELECT coalesce(max(a.start_date), '') FROM participant_activities a"
	" JOIN participant_activity_codes c ON c.code = a.code AND a.code_list = 'activity'"
	" WHERE a.participant_id = ?1 AND c.restarts_exit_clock = 1 AND a.voided = 0"
	" AND a.corrects_id IS NULL AND EXISTS (SELECT 1 FROM case_approval_requests q"
	"  WHERE q.id = a.approval_id AND q.kind = 'backdate')"
	" AND " CASE_REQ_STATE("a.approval_id") " = 'pending'",
};

static sqlite3_stmt *q(node *n, int i)
{
	if (qc.st[i] == NULL) {
		if (db_prepare(n->nd_db, &qc.st[i], q_sql[i]) != 0)
			return NULL;
	} else {
		sqlite3_reset(qc.st[i]);
		sqlite3_clear_bindings(qc.st[i]);
	}
	return qc.st[i];
}

static void q_done(void)
{
	if (qc.batch)
		return;
	for (int i = 0; i < Q_N; i++) {
		sqlite3_finalize(qc.st[i]);
		qc.st[i] = NULL;
	}
}

static void q_batch(int on)
{
	qc.batch = on;
	q_done();
}

/* First column of the one row of statement i bound to pid: "" when NULL. */
static int q_text(node *n, int i, const char *pid, char *out, size_t len)
{
	sqlite3_stmt *st = q(n, i);
	int rc;

	out[0] = '\0';
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *t = db_col(st, 0);

		if (t == NULL)
			rc = SQLITE_NOMEM;
		else
			snprintf(out, len, "%s", t);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

typedef struct prow {
	char reg[11], state[16], exit_date[11], closure[11];
} prow;

static int read_prow(node *n, const char *pid, prow *p)
{
	sqlite3_stmt *st = q(n, Q_PROW);
	const char *c[4];
	int rc;

	memset(p, 0, sizeof *p);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && db_cols(st, c, 4) != 0)
		rc = SQLITE_NOMEM;
	if (rc == SQLITE_ROW) {
		snprintf(p->reg, sizeof p->reg, "%s", c[0]);
		snprintf(p->state, sizeof p->state, "%s", c[1]);
		snprintf(p->exit_date, sizeof p->exit_date, "%s", c[2]);
		snprintf(p->closure, sizeof p->closure, "%s", c[3]);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* 1 when a follow-up form is dated in [qs, qe], 0 not, -1 error. */
static int fu_form_in(node *n, const char *pid, const char *qs, const char *qe)
{
	sqlite3_stmt *st = q(n, Q_FUFORM);
	int c;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, qs, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, qe, -1, SQLITE_TRANSIENT);
	c = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_reset(st);
	return c < 0 ? -1 : c > 0;
}

static int status_of(node *n, const char *pid, const char *today, case_status *s)
{
	prow p;
	sqlite3_stmt *st;
	const char *c[2];
	char week[11];
	int rc;

	memset(s, 0, sizeof *s);
	if (read_prow(n, pid, &p) != 0 || q_text(n, Q_LAST, pid, s->last_service, sizeof s->last_service) != 0)
		return -1;
	snprintf(s->clock_from, sizeof s->clock_from, "%s", s->last_service[0] ? s->last_service : p.reg);
	if (case_soft_exit(s->clock_from, today, &s->ex) != 0)
		return -1;
	s->exited = strcmp(p.state, "exited") == 0;
	snprintf(s->exit_date, sizeof s->exit_date, "%s", p.exit_date);
	if (q_text(n, Q_NOTE, pid, s->last_note, sizeof s->last_note) != 0)
		return -1;
	case_note_next_due(s->last_note[0] ? s->last_note : p.reg, s->note_due);
	clock_date_add(today, 7, week);
	if (!s->exited) {
		s->note_overdue = strcmp(today, s->note_due) > 0;
		s->note_due_week = !s->note_overdue && strcmp(s->note_due, week) <= 0;
		s->closure_form_due = s->ex.closure_prompt && p.closure[0] == '\0';
	}
	/* Activities without their note, and entries made late. */
	if ((st = q(n, Q_ACTS)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (db_cols(st, c, 2) != 0)
			break;
		if (case_entry_timely(c[0], c[1]) == 0)
			s->late_activities++;
		if (sqlite3_column_int(st, 2))
			s->activities_without_note++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	if ((st = q(n, Q_NOTES)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (db_cols(st, c, 2) != 0)
			break;
		if (case_note_timely(c[0], c[1]) == 0)
			s->late_notes++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	/* Follow-up: four quarters after the exit, each needing a follow-up
	 * service or a documented contact (a case note) inside it. */
	if (s->exited && q_text(n, Q_DECL, pid, s->fu_declined, sizeof s->fu_declined) != 0)
		return -1;
	if (s->exited && s->exit_date[0]) {
		for (int k = 1; k <= CASE_FOLLOWUP_QUARTERS; k++) {
			char qs[11], qe[11];
			int done, form;
			if (case_followup_quarter(s->exit_date, k, qs, qe) != 0)
				break;
			if ((st = q(n, Q_FU)) == NULL)
				return -1;
			sqlite3_bind_text(st, 1, pid, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, qs, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, qe, -1, SQLITE_TRANSIENT);
			done = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
			sqlite3_reset(st);
			/* Declined: no quarter is due from the decline on. */
			if (s->fu_declined[0] && strcmp(qe, s->fu_declined) >= 0)
				break;
			if ((form = fu_form_in(n, pid, qs, qe)) < 0)
				return -1;
			if (strcmp(qe, today) < 0) {
				if (!done)
					s->fu_overdue++;
				if (!form)
					s->fu_forms_missing++;
			} else if (strcmp(qs, today) <= 0) {
				s->fu_quarter = k;
				memcpy(s->fu_start, qs, 11);
				memcpy(s->fu_end, qe, 11);
				s->fu_done = done;
				s->fu_form_done = form;
			}
		}
	}
	return 0;
}

int case__status(node *n, const char *pid, const char *today, case_status *s)
{
	int rc = status_of(n, pid, today, s);
	q_done();
	return rc;
}

cJSON *case__status_json(const case_status *s)
{
	cJSON *o = cJSON_CreateObject();

	json_add_str_or_null(o, "last_service_date", s->last_service[0] ? s->last_service : NULL);
	cJSON_AddStringToObject(o, "exit_clock_from", s->clock_from);
	cJSON_AddBoolToObject(o, "exited", s->exited);
	if (s->exited) {
		cJSON_AddStringToObject(o, "exit_date", s->exit_date);
	} else {
		cJSON_AddNumberToObject(o, "days_since_service", s->ex.days_since);
		cJSON_AddNumberToObject(o, "days_to_exit", s->ex.days_left);
		cJSON_AddStringToObject(o, "soft_exit_date", s->ex.exit_date);
		cJSON_AddNumberToObject(o, "exit_warning", s->ex.warn_level);
		cJSON_AddBoolToObject(o, "closure_form_due", s->closure_form_due);
	}
	json_add_str_or_null(o, "last_note_date", s->last_note[0] ? s->last_note : NULL);
	if (!s->exited) {
		cJSON_AddStringToObject(o, "note_due_date", s->note_due);
		cJSON_AddStringToObject(o, "note_status", s->note_overdue ? "overdue"
							   : s->note_due_week ? "due_this_week" : "ok");
	}
	cJSON_AddNumberToObject(o, "activities_without_note", s->activities_without_note);
	cJSON_AddNumberToObject(o, "late_activities", s->late_activities);
	cJSON_AddNumberToObject(o, "late_notes", s->late_notes);
	if (s->exited) {
		cJSON_AddNumberToObject(o, "followup_quarter", s->fu_quarter);
		json_add_str_or_null(o, "followup_due_date", s->fu_quarter ? s->fu_end : NULL);
		cJSON_AddBoolToObject(o, "followup_done", s->fu_done);
		cJSON_AddNumberToObject(o, "followup_overdue_quarters", s->fu_overdue);
		cJSON_AddBoolToObject(o, "followup_form_done", s->fu_form_done);
		cJSON_AddNumberToObject(o, "followup_forms_missing", s->fu_forms_missing);
		json_add_str_or_null(o, "followup_declined_date", s->fu_declined[0] ? s->fu_declined : NULL);
	}
	return o;
}

static int sweep_one(node *n, const node_user *u, const char *pid, const char *today, int *exited)
{
	prow p;
	char last[11], id[UUID_STRLEN], ts[HLC_STRLEN];
	case_exit ex;
	sqlite3_stmt *st;
	int rc;

	*exited = 0;
	if (read_prow(n, pid, &p) != 0 || q_text(n, Q_LAST, pid, last, sizeof last) != 0)
		return -1;
	if (strcmp(p.state, "exited") == 0) {
		*exited = 1;
		return 0;
	}
	if (case_soft_exit(last[0] ? last : p.reg, today, &ex) != 0)
		return -1;
	if (!ex.exited)
		return 0;
	/* A service entered backdated, waiting for its approval, that would
	 * keep the case open holds the exit, which is never undone: the
	 * approvers decide first (a refusal lets the next sweep exit it). */
	{
		char pending[11];
		case_exit held;

		if (q_text(n, Q_PENDING, pid, pending, sizeof pending) != 0)
			return -1;
		if (pending[0] && strcmp(pending, last) > 0 &&
		    case_soft_exit(pending, today, &held) == 0 && !held.exited)
			return 0;
	}
	if ((st = q(n, Q_EXIT)) == NULL)
		return -1;
	uuid7_at(id, node_now_ms(n));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, pid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->nd_local_area_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ex.exit_date, -1, SQLITE_STATIC);
	db_bind_text(st, 6, last[0] ? last : NULL);
	sqlite3_bind_int64(st, 7, (int64_t)node_now_ms(n));
	db_bind_text(st, 8, u ? u->id : NULL);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	hlc_now(&n->nd_hlc, ts);
	if ((st = q(n, Q_SETEXIT)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, ex.exit_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, pid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	log_info("case: participant %s soft-exited on %s (no clock-restarting service for 90 days)",
		 pid, ex.exit_date);
	*exited = 1;
	return 0;
}

int case__sweep_exit(node *n, const node_user *u, const char *pid, const char *today, int *exited)
{
	int rc;

	/* The sweep records an exit (in the name of u): only an account that
	 * may write case work runs it, as for the compliance view - a
	 * view-only one reads the participant as the last sweep left it. */
	if (u != NULL && !(u->privs & (PRIV_CASE_NOTES | PRIV_PARTICIPANT_EDIT))) {
		prow p;

		rc = read_prow(n, pid, &p) != 0 ? -1 : 0;
		*exited = rc == 0 && strcmp(p.state, "exited") == 0;
	} else {
		rc = sweep_one(n, u, pid, today, exited);
	}
	q_done();
	return rc;
}

/* ---- compliance views ------------------------------------------------------------ */

static void add_item(cJSON *arr, const cJSON *p, const char *kind, const char *due, const char *what)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "participant_id", json_str(p, "id"));
	cJSON_AddStringToObject(o, "first_name", json_str(p, "first_name"));
	cJSON_AddStringToObject(o, "last_name", json_str(p, "last_name"));
	json_add_str_or_null(o, "assigned_staff_id", json_str(p, "assigned_staff_id"));
	json_add_str_or_null(o, "assigned_staff_name", json_str(p, "staff_name"));
	cJSON_AddStringToObject(o, "office_id", json_str(p, "office_id"));
	json_add_str_or_null(o, "office_name", json_str(p, "office_name"));
	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddStringToObject(o, "due_date", due);
	cJSON_AddStringToObject(o, "what", what);
	cJSON_AddItemToArray(arr, o);
}

static void csv_int(route_call *a, int v, int last)
{
	char t[16];
	snprintf(t, sizeof t, "%d", v);
	route_csv_field(a, t, last);
}

/* Per-staff counters. */
static cJSON *staff_entry(cJSON *by, const cJSON *p)
{
	const char *sid = json_str(p, "assigned_staff_id");
	cJSON *it;

	cJSON_ArrayForEach(it, by)
	{
		const char *x = json_str(it, "staff_id");
		if ((x == NULL && sid == NULL) || (x && sid && strcmp(x, sid) == 0))
			return it;
	}
	it = cJSON_CreateObject();
	json_add_str_or_null(it, "staff_id", sid);
	json_add_str_or_null(it, "staff_name", json_str(p, "staff_name"));
	cJSON_AddNumberToObject(it, "participants", 0);
	cJSON_AddNumberToObject(it, "due_this_week", 0);
	cJSON_AddNumberToObject(it, "overdue", 0);
	cJSON_AddNumberToObject(it, "nearing_exit", 0);
	cJSON_AddNumberToObject(it, "notes_current", 0);
	cJSON_AddItemToArray(by, it);
	return it;
}

static void bump(cJSON *o, const char *k, int by)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	if (v)
		cJSON_SetNumberValue(v, v->valuedouble + by);
}

/* The view being built: its lists and its counters. */
typedef struct cview {
	char today[11], week[11];
	cJSON *o, *due, *over, *near, *by, *list, *sum;
	int np, ncur, nlate, nnonote, nclosure, nfu;
} cview;

/* Sweep exits first, so the view shows what is true today: only the active
 * cases whose clock started 90 days ago or more are candidates.  0 or -1. */
static int compliance_sweep(node *n, const node_user *u, const char *today)
{
	char limit[11];
	const char *args[2] = {n->nd_local_area_id, limit};
	cJSON *ids, *it;
	int ex, rc = 0;

	clock_date_add(today, -CASE_SOFT_EXIT_DAYS, limit);
	ids = db_rows_json_args(n->nd_db,
				"SELECT p.id FROM participants p WHERE p.local_area_id=?1"
				" AND p.exit_state='active' AND coalesce((SELECT max(a.start_date)"
				" FROM participant_activities a JOIN participant_activity_codes c"
				" ON c.code = a.code AND a.code_list = 'activity' WHERE a.participant_id = p.id"
				" AND c.restarts_exit_clock = 1 AND" CASE_ACT_EFFECTIVE "), p.registered_date) <= ?2",
				2, args);
	if (ids == NULL)
		return -1;
	cJSON_ArrayForEach(it, ids)
		if (rc == 0 && sweep_one(n, u, json_str(it, "id"), today, &ex) != 0)
			rc = -1;
	cJSON_Delete(ids);
	return rc;
}

/* The participants in view (filters staff and office, "" for all), or NULL. */
static cJSON *compliance_people(node *n, const char *staff, const char *office)
{
	const char *args[3] = {n->nd_local_area_id, staff, office};

	return db_rows_json_args(n->nd_db,
				 "SELECT p.id, p.first_name, p.last_name, p.office_id, o.name AS office_name,"
				 " p.assigned_staff_id, s.display_name AS staff_name, p.exit_state, p.exit_date,"
				 " p.registered_date FROM participants p LEFT JOIN offices o ON o.id = p.office_id"
				 " LEFT JOIN staff s ON s.id = p.assigned_staff_id WHERE p.local_area_id=?1"
				 " AND (?2 = '' OR p.assigned_staff_id = ?2) AND (?3 = '' OR p.office_id = ?3)"
				 " ORDER BY p.last_name COLLATE NOCASE, p.first_name COLLATE NOCASE, p.id",
				 3, args);
}

static void cview_init(cview *v, node *n)
{
	v->o = cJSON_CreateObject();
	cJSON_AddStringToObject(v->o, "today", v->today);
	cJSON_AddBoolToObject(v->o, "clock_skew_warning", case_skew_flag(n->nd_clock_offset_ms));
	cJSON_AddNumberToObject(v->o, "clock_offset_ms", (double)n->nd_clock_offset_ms);
	v->sum = cJSON_AddObjectToObject(v->o, "summary");
	v->due = cJSON_AddArrayToObject(v->o, "due_this_week");
	v->over = cJSON_AddArrayToObject(v->o, "overdue");
	v->near = cJSON_AddArrayToObject(v->o, "nearing_exit");
	v->by = cJSON_AddArrayToObject(v->o, "by_staff");
	v->list = cJSON_AddArrayToObject(v->o, "participants");
}

/* An active case's items; the number due this week and overdue in *ndue, *nover. */
static void tally_active(cview *v, const cJSON *p, const case_status *s, cJSON *se, int *ndue,
			 int *nover)
{
	if (s->note_overdue) {
		add_item(v->over, p, "case_note", s->note_due, "a case note is overdue (one every 30 days)");
		(*nover)++;
	} else {
		v->ncur++;
		bump(se, "notes_current", 1);
		if (s->note_due_week) {
			add_item(v->due, p, "case_note", s->note_due, "a case note is due (one every 30 days)");
			(*ndue)++;
		}
	}
	if (s->ex.warn_level > 0) {
		char what[120];
		snprintf(what, sizeof what, "soft exit in %d day%s: review the case%s", s->ex.days_left,
			 s->ex.days_left == 1 ? "" : "s",
			 s->closure_form_due ? " and complete the closure form" : "");
		add_item(v->near, p, "soft_exit", s->ex.exit_date, what);
		bump(se, "nearing_exit", 1);
		if (strcmp(s->ex.exit_date, v->week) <= 0) {
			add_item(v->due, p, "soft_exit", s->ex.exit_date, what);
			(*ndue)++;
		}
	}
	if (s->closure_form_due) {
		v->nclosure++;
		if (strcmp(s->ex.exit_date, v->week) <= 0) {
			add_item(v->due, p, "closure_form", s->ex.exit_date,
				 "complete the closure form before the soft exit");
			(*ndue)++;
		}
	}
}

static void tally_exited(cview *v, const cJSON *p, const case_status *s, int *ndue, int *nover)
{
	if (s->fu_quarter && !s->fu_done) {
		v->nfu++;
		if (strcmp(s->fu_end, v->week) <= 0) {
			add_item(v->due, p, "follow_up", s->fu_end, "quarterly follow-up is due");
			(*ndue)++;
		}
	}
	if (s->fu_quarter && !s->fu_form_done && strcmp(s->fu_end, v->week) <= 0) {
		add_item(v->due, p, "followup_form", s->fu_end, "complete this quarter's follow-up form");
		(*ndue)++;
	}
	if (s->fu_overdue > 0) {
		add_item(v->over, p, "follow_up", s->fu_start[0] ? s->fu_start : v->today,
			 "a quarter of follow-up was missed");
		(*nover)++;
	}
	if (s->fu_forms_missing > 0) {
		add_item(v->over, p, "followup_form", s->fu_start[0] ? s->fu_start : v->today,
			 "a quarter's follow-up form is missing");
		(*nover)++;
	}
}

/* One participant into the view: exited cases stay for their 12 months of
 * follow-up, and a quarter more while one is overdue (the fourth quarter
 * ends the day before the 12 months are out: it would never have shown
 * overdue).  1 when counted, 0 when out of view. */
static int tally(cview *v, const cJSON *p, const case_status *s)
{
	char fu_end_limit[11];
	int ndue = 0, nover = 0;
	int months = s->fu_overdue > 0 || s->fu_forms_missing > 0 ? 15 : 12;
	cJSON *se, *row;

	if (s->exited && (s->exit_date[0] == '\0' ||
			  case_add_months(s->exit_date, months, fu_end_limit) != 0 ||
			  strcmp(v->today, fu_end_limit) >= 0))
		return 0;
	v->np++;
	se = staff_entry(v->by, p);
	bump(se, "participants", 1);
	if (!s->exited)
		tally_active(v, p, s, se, &ndue, &nover);
	else
		tally_exited(v, p, s, &ndue, &nover);
	if (s->activities_without_note > 0) {
		v->nnonote += s->activities_without_note;
		add_item(v->over, p, "activity_note", v->today, "an activity has no case note");
		nover++;
	}
	v->nlate += s->late_activities + s->late_notes;
	bump(se, "due_this_week", ndue);
	bump(se, "overdue", nover);
	row = cJSON_Duplicate(p, 1);
	cJSON_AddItemToObject(row, "status", case__status_json(s));
	cJSON_AddItemToArray(v->list, row);
	return 1;
}

static const char csv_head[] =
	"participant_id,last_name,first_name,office,staff,exit_state,"
	"last_service_date,days_since_service,soft_exit_date,exit_warning,"
	"closure_form_due,last_note_date,note_due_date,note_status,"
	"followup_quarter,followup_due_date,followup_done,followup_overdue_quarters,"
	"late_activities,late_notes,activities_without_note\r\n";

static void csv_row(route_call *a, const cJSON *p, const case_status *s)
{
	route_csv_field(a, json_str(p, "id"), 0);
	route_csv_field(a, json_str(p, "last_name"), 0);
	route_csv_field(a, json_str(p, "first_name"), 0);
	route_csv_field(a, json_str(p, "office_name") ? json_str(p, "office_name") : json_str(p, "office_id"), 0);
	route_csv_field(a, json_str(p, "staff_name"), 0);
	route_csv_field(a, s->exited ? "exited" : "active", 0);
	route_csv_field(a, s->last_service, 0);
	csv_int(a, s->exited ? 0 : s->ex.days_since, 0);
	route_csv_field(a, s->exited ? s->exit_date : s->ex.exit_date, 0);
	csv_int(a, s->exited ? 0 : s->ex.warn_level, 0);
	route_csv_field(a, s->closure_form_due ? "yes" : "no", 0);
	route_csv_field(a, s->last_note, 0);
	route_csv_field(a, s->exited ? "" : s->note_due, 0);
	route_csv_field(a, s->exited ? "" : s->note_overdue ? "overdue" : s->note_due_week ? "due_this_week" : "ok", 0);
	csv_int(a, s->fu_quarter, 0);
	route_csv_field(a, s->fu_quarter ? s->fu_end : "", 0);
	route_csv_field(a, s->fu_done ? "yes" : "no", 0);
	csv_int(a, s->fu_overdue, 0);
	csv_int(a, s->late_activities, 0);
	csv_int(a, s->late_notes, 0);
	csv_int(a, s->activities_without_note, 1);
}

static void cview_summary(cview *v)
{
	int active = 0;
	cJSON *it;

	cJSON_AddNumberToObject(v->sum, "participants", v->np);
	cJSON_AddNumberToObject(v->sum, "due_this_week", cJSON_GetArraySize(v->due));
	cJSON_AddNumberToObject(v->sum, "overdue", cJSON_GetArraySize(v->over));
	cJSON_AddNumberToObject(v->sum, "nearing_exit", cJSON_GetArraySize(v->near));
	cJSON_AddNumberToObject(v->sum, "closure_forms_due", v->nclosure);
	cJSON_AddNumberToObject(v->sum, "followups_open", v->nfu);
	cJSON_AddNumberToObject(v->sum, "late_entries", v->nlate);
	cJSON_AddNumberToObject(v->sum, "activities_without_note", v->nnonote);
	cJSON_ArrayForEach(it, v->list)
		if (!cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "status"), "exited")))
			active++;
	cJSON_AddNumberToObject(v->sum, "active_cases", active);
	cJSON_AddNumberToObject(v->sum, "notes_current", v->ncur);
	if (active > 0)
		cJSON_AddNumberToObject(v->sum, "note_compliance_pct", (double)(100 * v->ncur / active));
	else
		cJSON_AddNullToObject(v->sum, "note_compliance_pct");
}

/*
 * GET /api/v1/case/compliance?staff_id=&office_id=&format=csv&report=timeliness
 * JSON: {"today", "clock_skew_warning", "summary": {...}, "due_this_week": [...],
 *        "overdue": [...], "nearing_exit": [...], "by_staff": [...],
 *        "participants": [{participant + "status"}], "timeliness": {...}
 *        (node_case_timely.c)}
 * CSV: one row per participant, or with report=timeliness one per entry
 * kind, staff member and office.
 * Every active case of the Local Area (and exited ones still in their 12
 * months of follow-up) on the trusted date; soft exits that have come are
 * recorded first (when the caller may write case work).  Without the
 * reports privilege, the caller's own caseload only.  Audited
 * (compliance_view; compliance_export for the CSV), with the ids of the
 * participants in view.  The reply, the CSV too, is sent by the dispatcher
 * once the audit row is durable; a CSV that cannot be built whole is a 500,
 * never a truncated 200.
 */
static route_rc get_compliance(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	char fmt[8] = "", staff[64] = "", office[64] = "", file[64], report[16] = "";
	cJSON *ps = NULL, *p, *timely = NULL;
	cview v;
	int csv;

	memset(&v, 0, sizeof v);
	http_req_query(req, "format", fmt, sizeof fmt);
	csv = strcmp(fmt, "csv") == 0;
	if (fmt[0] && !csv && strcmp(fmt, "json") != 0)
		return route_fail(a, 400, "format", "format must be json or csv");
	if (csv && !(u->privs & PRIV_REPORTS))
		return route_fail(a, 403, NULL, "your account does not have this privilege");
	http_req_query(req, "staff_id", staff, sizeof staff);
	/* Without the reports privilege it is the caller's own caseload (what
	 * is due of theirs), not the Local Area's report. */
	if (!(u->privs & PRIV_REPORTS)) {
		if (staff[0] && strcmp(staff, u->id) != 0)
			return route_fail(a, 403, "staff_id", "another staff member's cases are a report:"
							      " your account does not have the reports"
							      " privilege");
		snprintf(staff, sizeof staff, "%s", u->id);
	}
	http_req_query(req, "office_id", office, sizeof office);
	http_req_query(req, "report", report, sizeof report);
	if (report[0] && strcmp(report, "participants") != 0 && strcmp(report, "timeliness") != 0)
		return route_fail(a, 400, "report", "report must be participants or timeliness");
	node_today(n, v.today);
	clock_date_add(v.today, 7, v.week);
	q_batch(1);
	/* The sweep records exits: only an account that may write case work
	 * runs it (a view-only one sees the view of the last sweep). */
	if (((u->privs & (PRIV_CASE_NOTES | PRIV_PARTICIPANT_EDIT)) &&
	     compliance_sweep(n, u, v.today) != 0) ||
	    (ps = compliance_people(n, staff, office)) == NULL)
		goto dberr;
	cview_init(&v, n);
	if ((timely = case__timeliness(n, staff, office)) == NULL)
		goto dberr;
	if (csv && strcmp(report, "timeliness") == 0) {
		/* Timeliness per kind, staff member and office. */
		snprintf(file, sizeof file, "case-timeliness-%s.csv", v.today);
		route_csv(a, file, 16 * 1024 * 1024);
		case__timeliness_csv(a, timely);
		csv = 2;
	} else if (csv) {
		snprintf(file, sizeof file, "case-compliance-%s.csv", v.today);
		route_csv(a, file, 64 * 1024 * 1024);
		route_put(a, csv_head);
	}
	cJSON_ArrayForEach(p, ps)
	{
		case_status s;
		if (status_of(n, json_str(p, "id"), v.today, &s) != 0)
			goto dberr;
		if (tally(&v, p, &s) && csv == 1)
			csv_row(a, p, &s);
	}
	cview_summary(&v);
	cJSON_AddItemToObject(v.o, "timeliness", timely);
	timely = NULL;
	/* every participant the view names, as a search's results */
	if (case__audit_ids(n, u, csv ? "compliance_export" : "compliance_view", ps, "id", NULL) != 0)
		goto dberr;
	q_batch(0);
	cJSON_Delete(ps);
	if (csv) {
		cJSON_Delete(v.o);
		return ROUTE_OK; /* the CSV in a->rc_out, sent once durable */
	}
	return route_ok(a, 200, v.o);
dberr:
	q_batch(0);
	cJSON_Delete(ps);
	cJSON_Delete(timely);
	cJSON_Delete(v.o);
	return ROUTE_DBERR;
}

static const route_def case_compliance_defs[] = {
	/* audited (compliance_view or _export): a write; the CSV also needs reports */
	{HTTP_M_GET, "/api/v1/case/compliance", get_compliance, PRIV_VIEW, NODE_WRITE, NULL, 0},
};

const route_list case_compliance_route_list = ROUTE_LIST(case_compliance_defs);
