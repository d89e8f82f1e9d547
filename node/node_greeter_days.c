/*
 * node_greeter_days.c - the office's visits per business day (issue 14): the
 * greeter must be used every day [SLO policy 34-19], so the visits page and
 * the home page show each day of a range with its visits, whether it was a
 * business day (weekends and California state holidays are not,
 * model/holidays.h), and the business days before today with no check-in.
 *
 *   GET /api/v1/greeter/days?from=&to=   (the default range: greeter desk or
 *                                         reports; any other: reports, as
 *                                         the stats' ranges)
 *     {"from","to","first_day", "days": [{"date","business_day","holiday",
 *      "visits","spanish"}], "missing": ["YYYY-MM-DD", ...]}
 *
 * Defaults: the last 14 days to today; at most 92 days.  "first_day" is the
 * office's first check-in: days before it are not counted as missing (the
 * office was not yet in service); an office with no check-in at all has
 * first_day null, no missing day, and "no_checkins_yet": true.
 *
 * The end of a day.  A visit still open when the office's day is over - a
 * visitor who went home unseen, a desk that never marked the end - would
 * stay in that day's line for good: no desk can reach it (another day's
 * visit is a report), and that day's longest wait would grow for ever.  So
 * the node closes it (greeter_day_end): waiting or called -> left, serving
 * -> done, with the event "day_end" and no finish time, since nobody saw it
 * end (its wait, if it was never called, counts in no figure).  An office
 * may have several nodes, each holding every visit of the office, so:
 *   - a node closes the visits it checked in (its own stamp on the
 *     visit's "checkin" event), and any other a day later (its own node
 *     had a day to do it, or is gone): one closing, not one per node;
 *   - an enrolled node first syncs once after its date moved on (or after
 *     it started), so that it closes what it knows of the other desks,
 *     not a visit another node has served since; a node that cannot
 *     reach the hub closes anyway DAY_END_WAIT_MS later (the office is
 *     offline: its view is the only one);
 *   - the read is inside the write's transaction, and the UPDATE names the
 *     status it read: a pull committed meanwhile is never overwritten;
 *   - "today" is the node's clock only as far as it can be believed
 *     (day_end_now): a PC's clock jumping forward while the hub cannot
 *     be reached does not make today's visits a past day's;
 *   - two nodes that close one visit at once (neither seeing the other's
 *     closing) write one event: its id is made of the visit and the status
 *     it left (greeter_day_end_id), so both are one row, which the hub
 *     takes once.
 * At start, then at each tick once the office's date has moved on,
 * DAY_END_BATCH visits per write until none is left.
 */
#include "node/node_api.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "model/capture.h"
#include "model/greeter.h"
#include "model/holidays.h"
#include "model/privileges.h"

#include <stdlib.h>
#include <string.h>

#define DAYS_MAX 92

static route_rc get_days(route_call *a)
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	char from[11], to[11], today[11], first[11] = "", day[11];
	sqlite3_stmt *st = NULL;
	cJSON *o, *days, *missing;

	if (!(u->privs & (PRIV_REPORTS | PRIV_GREETER_DESK)))
		return route_fail(a, 403, NULL, "your account does not have this privilege");
	node_today(n, today);
	if (route_qdate(a, "from", from) != 0 || route_qdate(a, "to", to) != 0)
		return ROUTE_BAD;
	/* The desk sees the home page's last two weeks; any range it names
	 * (an empty one too) is a report, as GET /api/v1/greeter/stats says. */
	if ((http_req_query_get(a->rc_req, "from", day, sizeof day) != 0 ||
	     http_req_query_get(a->rc_req, "to", day, sizeof day) != 0) &&
	    !(u->privs & PRIV_REPORTS))
		return route_fail(a, 403, NULL,
				  "a range of days is a report: your account does not have the "
				  "reports privilege");
	if (!to[0])
		memcpy(to, today, 11);
	if (!from[0])
		clock_date_add(to, -13, from);
	if (strcmp(from, to) > 0)
		return route_bad(a, "from", "from must not be after to");
	if (clock_days_between(from, to) >= DAYS_MAX)
		return route_bad(a, "to", "a range may cover at most %d days", DAYS_MAX);
	if (db_text(n->nd_db, "SELECT min(visit_date) FROM checkins WHERE office_id=?",
		    n->nd_office_id, first, sizeof first) < 0)
		return ROUTE_DBERR;
	if (db_prepare(n->nd_db, &st, "SELECT count(*), coalesce(sum(language='es'), 0) FROM checkins"
				      " WHERE office_id=? AND visit_date=?") != 0)
		return ROUTE_DBERR;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	json_add_str_or_null(o, "first_day", first[0] ? first : NULL);
	cJSON_AddBoolToObject(o, "no_checkins_yet", !first[0]);
	days = cJSON_AddArrayToObject(o, "days");
	missing = cJSON_AddArrayToObject(o, "missing");
	memcpy(day, from, 11);
	for (int k = 0; k < DAYS_MAX && strcmp(day, to) <= 0; k++) {
		cJSON *d = cJSON_CreateObject();
		int business = is_business_day(day) == 1, visits = 0, es = 0;
		sqlite3_bind_text(st, 1, n->nd_office_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, day, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			visits = sqlite3_column_int(st, 0);
			es = sqlite3_column_int(st, 1);
		}
		sqlite3_reset(st);
		cJSON_AddStringToObject(d, "date", day);
		cJSON_AddBoolToObject(d, "business_day", business);
		json_add_str_or_null(d, "holiday", holiday_name(day));
		cJSON_AddNumberToObject(d, "visits", visits);
		cJSON_AddNumberToObject(d, "spanish", es);
		cJSON_AddItemToArray(days, d);
		if (business && visits == 0 && strcmp(day, today) < 0 && first[0] &&
		    strcmp(day, first) >= 0)
			cJSON_AddItemToArray(missing, cJSON_CreateString(day));
		if (clock_date_add(day, 1, day) != 0)
			break;
	}
	sqlite3_finalize(st);
	return route_ok(a, 200, o);
}

/* ---- the end of a day ----------------------------------------------------- */

#define DAY_END_BATCH 200
#define DAY_END_TICK_MS 60000 /* how often the office's date is looked at */
#define DAY_END_NEXT_MS 1000  /* the next batch of a long backlog */
#define DAY_END_WAIT_MS (2 * 3600 * 1000ull) /* for a sync, at most */
#define DAY_END_JUMP_MS (10 * 60 * 1000ull)  /* a step of the clock taken without the hub */

/* Test build: OUTPOST_TEST_HOOKS_DAY_END_MS looks that often instead, so a
 * test steps the clock past midnight without waiting a minute. */
static uint64_t day_end_tick_ms(void)
{
#ifdef OUTPOST_TEST_HOOKS
	const char *e = getenv("OUTPOST_TEST_HOOKS_DAY_END_MS");

	if (e && atoi(e) > 0)
		return (uint64_t)atoi(e);
#endif
	return DAY_END_TICK_MS;
}

/* Test build: OUTPOST_TEST_HOOKS_DAY_END_WAIT_MS waits that long for a sync
 * instead of two hours, so a test has two offline nodes close a day. */
static uint64_t day_end_wait_ms(void)
{
#ifdef OUTPOST_TEST_HOOKS
	const char *e = getenv("OUTPOST_TEST_HOOKS_DAY_END_WAIT_MS");

	if (e && atoi(e) > 0)
		return (uint64_t)atoi(e);
#endif
	return DAY_END_WAIT_MS;
}

struct node_day_end {
	uv_timer_t de_timer;
	node *de_node;
	char de_closed[11];           /* the last today with nothing left open before it */
	char de_seen[11];             /* the today de_since is of */
	uint64_t de_since;            /* clock_ms() when the tick first saw de_seen */
	uint64_t de_since_boot;       /* clock_boot_ms() then (the wait for a sync) */
	char de_first[UUID_STRLEN];   /* the first visit of the last batch */
	uint64_t de_good_ms;          /* the office's time last believed (day_end_now) */
	uint64_t de_good_boot;        /* clock_boot_ms() then, 0 before the first look */
	uint64_t de_good_sync;        /* the sync's last success then (nf_last_ok_ms) */
	int de_held;                  /* a step of the clock held back (said once) */
};

/*
 * The office's time as the day closing takes it.  Its clock is the node's
 * corrected by the hub's offset, measured at each contact; but an office
 * PC's clock can jump (a day forward, say) while the node cannot reach the
 * hub, and the old offset does not undo that: today's visits would look
 * like yesterday's and be closed, still waiting, two hours later.  So the
 * clock is believed only as far as time can truly have passed since it was
 * last believed: by the boot-time clock (it never jumps, and counts a
 * suspended PC's sleep, unlike CLOCK_MONOTONIC), plus DAY_END_JUMP_MS for
 * the small steps a time service makes.  A larger step forward is held
 * back, the day closing going on by the elapsed time, until a sync
 * succeeds: the offset then measured says what the time is, and it is
 * believed again.  A step back is believed (closing later is harmless).
 * (A node that never syncs holds a forward step until it restarts; a jump
 * before the node started cannot be seen.)
 */
static uint64_t day_end_now(struct node_day_end *d)
{
	node *n = d->de_node;
	node_sync_fig f;
	uint64_t now = node_now_ms(n), boot = clock_boot_ms(), bound;

	node_sync_figures(n, &f);
	bound = d->de_good_ms + (boot - d->de_good_boot);
	if (d->de_good_boot == 0 || f.nf_last_ok_ms != d->de_good_sync ||
	    now <= bound + DAY_END_JUMP_MS) {
		if (d->de_held)
			log_info("the clock is believed again for closing the visits of a past day");
		d->de_good_ms = now;
		d->de_good_boot = boot;
		d->de_good_sync = f.nf_last_ok_ms;
		d->de_held = 0;
		return now;
	}
	if (!d->de_held)
		log_warnx("this computer's clock moved %llu min further than the time since it was"
			  " last checked: the visits of a past day are closed by the time elapsed"
			  " until a sync with the hub confirms the clock",
			  (unsigned long long)((now - bound) / 60000));
	d->de_held = 1;
	return bound;
}

/* The visits to close (up to limit): of days before today, still open,
 * checked in here or of a day before yesterday.  The first step's code;
 * *st to db_stmt_done() either way (NULL when it could not be made). */
static int day_end_select(node *n, const char *today, const char *yesterday, int limit,
			  sqlite3_stmt **st)
{
	*st = db_stmt(n->nd_db, "SELECT c.id, c.status FROM checkins c WHERE c.office_id=?1"
				" AND c.visit_date<?2 AND c.status IN ('waiting','called','serving')"
				" AND (c.visit_date<?3 OR EXISTS (SELECT 1 FROM checkin_events e"
				"  WHERE e.checkin_id=c.id AND e.action='checkin'"
				"  AND e.hlc LIKE '%.' || ?4)) LIMIT ?5");
	if (*st == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_text(*st, 1, n->nd_office_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 2, today, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 3, yesterday, -1, SQLITE_STATIC);
	sqlite3_bind_text(*st, 4, n->nd_node_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(*st, 5, limit);
	return sqlite3_step(*st);
}

/* Close up to DAY_END_BATCH visits of days before today (those of
 * yesterday only when this node checked them in): how many were closed
 * (0: none was open), or -1.  first gets the first one's id. */
static int day_end_batch(node *n, uint64_t now, const char *today, char first[UUID_STRLEN])
{
	char ids[DAY_END_BATCH][UUID_STRLEN], from[DAY_END_BATCH][8];
	char eid[UUID_STRLEN], ts[HLC_STRLEN], yesterday[11];
	sqlite3_stmt *st;
	capture c;
	int k = 0, done = 0, rc;

	if (clock_date_add(today, -1, yesterday) != 0)
		return -1;
	/* None to close (most looks): no write at all.  Else the read again
	 * inside the write's transaction: what is read is what is changed. */
	if ((rc = day_end_select(n, today, yesterday, 1, &st)) != SQLITE_ROW) {
		db_stmt_done(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	db_stmt_done(st);
	if (node_write_begin(n, &c) != 0)
		return -1;
	rc = day_end_select(n, today, yesterday, DAY_END_BATCH, &st);
	while (rc == SQLITE_ROW && k < DAY_END_BATCH) {
		snprintf(ids[k], sizeof ids[k], "%s", db_col(st, 0) ? db_col(st, 0) : "");
		snprintf(from[k], sizeof from[k], "%s", db_col(st, 1) ? db_col(st, 1) : "");
		k++;
		rc = sqlite3_step(st);
	}
	db_stmt_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		capture_abort(&c);
		return -1;
	}
	if (k > 0)
		snprintf(first, UUID_STRLEN, "%s", ids[0]);
	hlc_now(&n->nd_hlc, ts);
	for (int i = 0; i < k; i++) {
		const char *to = greeter_day_end(from[i]);

		if (to == NULL ||
		    db_run_cached(n->nd_db, "UPDATE checkins SET status=?2, updated_hlc=?3"
				  " WHERE id=?1 AND status=?4", "tttt", ids[i], to, ts, from[i]) != 0)
			goto fail;
		if (sqlite3_changes(n->nd_db) == 0)
			continue;
		/* One event per closing, whichever node writes it (the
		 * header's "one closing"): its id is the visit's and the
		 * status it left, so a closing made at two nodes at once is
		 * one row, taken once at the hub. */
		if (greeter_day_end_id(ids[i], from[i], eid) != 0)
			goto fail;
		if (db_run_cached(n->nd_db, "INSERT INTO checkin_events(id, checkin_id, office_id, action,"
				  " from_status, to_status, note, at, hlc)"
				  " VALUES(?,?,?,'day_end',?,?,NULL,?,?)", "tttttIt", eid, ids[i],
				  n->nd_office_id, from[i], to, (int64_t)now, ts) != 0)
			goto fail;
		done++;
	}
	if (node_write_finish_quiet(n, &c, NULL) != 0)
		return -1;
	if (done > 0)
		log_info("closed %d visit%s left open before %s", done, done == 1 ? "" : "s", today);
	return k;
fail:
	capture_abort(&c);
	return -1;
}

static void day_end_tick(uv_timer_t *t)
{
	struct node_day_end *d = t->data;
	node *n = d->de_node;
	char today[11], first[UUID_STRLEN] = "", v[32];
	uint64_t now;
	int k, synced;

	if (n->nd_stopping || n->nd_office_id[0] == '\0')
		return;
	now = day_end_now(d);
	clock_local_date(now, today);
	if (strcmp(today, d->de_closed) == 0)
		return;
	if (strcmp(today, d->de_seen) != 0) {
		memcpy(d->de_seen, today, sizeof d->de_seen);
		d->de_since = clock_ms();
		d->de_since_boot = clock_boot_ms();
	}
	/* An enrolled node closes from a view as fresh as it can have, and
	 * never while a snapshot is under way (half its rows are there) or
	 * before its first one is done. */
	synced = node_sync_synced_since(n, d->de_since);
	if (synced > 0 && (db_kv_get(n->nd_db, "node_meta", "snapshot_seq", v, sizeof v) != DB_ABSENT ||
			   db_kv_get(n->nd_db, "node_meta", "sync_cursor", v, sizeof v) != DB_FOUND))
		synced = 0;
	/* (a wait: on the clock that never jumps) */
	if (synced == 0 && clock_boot_ms() - d->de_since_boot < day_end_wait_ms())
		return;
	k = day_end_batch(n, now, today, first);
	if (k == 0) {
		memcpy(d->de_closed, today, sizeof d->de_closed);
		return;
	}
	if (k < 0)
		log_warnx("cannot close the visits left open before %s; trying again in a minute", today);
	/* The rest of a backlog soon; the same first visit again means the
	 * last batch was not saved: then at the next tick. */
	else if (strcmp(first, d->de_first) != 0)
		uv_timer_start(&d->de_timer, day_end_tick, DAY_END_NEXT_MS, day_end_tick_ms());
	memcpy(d->de_first, first, sizeof d->de_first);
}

int node_day_end_start(node *n)
{
	struct node_day_end *d = calloc(1, sizeof *d);

	if (d == NULL || uv_timer_init(n->nd_loop, &d->de_timer) != 0) {
		free(d);
		return -1;
	}
	d->de_node = n;
	d->de_timer.data = d;
	n->nd_day_end = d;
	/* The first look right after start, inside the loop (the batch
	 * commits at the end of its iteration). */
	return uv_timer_start(&d->de_timer, day_end_tick, 0, day_end_tick_ms()) == 0 ? 0 : -1;
}

static void day_end_closed(uv_handle_t *h)
{
	free(h->data);
}

void node_day_end_stop(node *n)
{
	struct node_day_end *d = n->nd_day_end;

	if (d == NULL)
		return;
	n->nd_day_end = NULL;
	uv_timer_stop(&d->de_timer);
	uv_close((uv_handle_t *)&d->de_timer, day_end_closed);
}

static const route_def days_defs[] = {
	/* greeter desk or reports (get_days) */
	{HTTP_M_GET, "/api/v1/greeter/days", get_days, 0, 0, NULL, 0},
};

const route_list greeter_days_route_list = ROUTE_LIST(days_defs);
