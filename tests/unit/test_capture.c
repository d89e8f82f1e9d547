/*
 * test_capture.c - change capture: one captured write gives exactly one
 * outbox entry whose changeset, applied to an empty copy of the schema,
 * reproduces the rows; a rolled-back write leaves nothing; every replicated
 * table passes the primary-key check, and a table without a NOT NULL
 * primary key is caught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/db.h"
#include "lib/uuid.h"
#include "model/capture.h"
#include "model/demo.h"
#include "model/greeter.h"
#include "model/schema.h"
#include "synctest.h"
#include "testutil.h"

#define open_node() st_open_db(0)

static void insert_checkin(sqlite3 *db, const char *id, const char *name)
{
	char sql[512];

	snprintf(sql, sizeof sql,
		 "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
		 " visit_date, updated_hlc) VALUES('%s','o1','la1','%s',1700000000000,'2026-01-05',"
		 "'000000000001.0000.n')", id, name);
	assert_int_equal(db_exec(db, sql), 0);
	snprintf(sql, sizeof sql,
		 "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id) "
		 "VALUES('r-%s','%s','reason-1','o1')", id, id);
	assert_int_equal(db_exec(db, sql), 0);
}

/* insert_checkin as one captured transaction by actor stamped hlc: the
 * outbox seq it got. */
static int64_t captured_checkin(sqlite3 *db, const char *id, const char *name, const char *hlc,
				const char *actor)
{
	capture c;
	int64_t seq = -1;

	assert_int_equal(capture_begin(&c, db), 0);
	insert_checkin(db, id, name);
	assert_int_equal(capture_commit(&c, hlc, actor, &seq), 0);
	return seq;
}

static void test_one_write_one_entry(void **state)
{
	sqlite3 *db = open_node(), *copy;
	sqlite3_stmt *st;

	(void)state;
	assert_true(captured_checkin(db, "0190a000-0000-7000-8000-0000000000aa", "Ana Lopez",
				     "000000000001.0001.n", "staff-1") > 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 1);

	/* Apply the captured changeset to an empty copy of the schema. */
	assert_int_equal(sqlite3_open(":memory:", &copy), SQLITE_OK);
	assert_int_equal(schema_migrate(copy), 0);
	assert_int_equal(db_prepare(db, &st, "SELECT changeset, actor, hlc FROM outbox"), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "staff-1");
	assert_string_equal((const char *)sqlite3_column_text(st, 2), "000000000001.0001.n");
	assert_int_equal(sqlite3changeset_apply(copy, sqlite3_column_bytes(st, 0),
					       (void *)sqlite3_column_blob(st, 0), NULL,
					       st_conflict_abort, NULL),
			 SQLITE_OK);
	sqlite3_finalize(st);
	assert_int_equal(db_int(copy, "SELECT count(*) FROM checkins WHERE visitor_name='Ana Lopez' "
				      "AND office_id='o1' AND arrived_at=1700000000000", -1), 1);
	assert_int_equal(db_int(copy, "SELECT count(*) FROM checkin_reasons", -1), 1);
	/* The outbox itself is never captured. */
	assert_int_equal(db_int(copy, "SELECT count(*) FROM sqlite_master WHERE name='outbox'", -1), 0);
	db_close(copy);
	db_close(db);
}

static void test_update_and_noop(void **state)
{
	sqlite3 *db = open_node();

	(void)state;
	captured_checkin(db, "id-1", "Bo", "h1", NULL);
	/* A transaction that changes nothing adds no entry. */
	assert_int_equal(st_node_write(db, NULL, "h2",
				       "UPDATE checkins SET status='waiting' WHERE id='nope'"),
			 0);
	/* An update is one more entry. */
	assert_true(st_node_write(db, NULL, "h3",
				  "UPDATE checkins SET status='called' WHERE id='id-1'") > 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 2);
	db_close(db);
}

static void test_abort_leaves_nothing(void **state)
{
	sqlite3 *db = open_node();
	capture c;

	(void)state;
	assert_int_equal(capture_begin(&c, db), 0);
	insert_checkin(db, "id-2", "Cy");
	capture_abort(&c);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins", -1), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 0);
	capture_abort(&c); /* twice is harmless */
	db_close(db);
}

static void test_nested_group_commit(void **state)
{
	sqlite3 *db = open_node();
	capture c;
	int64_t seq;

	(void)state;
	/* Two writes in one enclosing transaction: each its own outbox entry; a
	 * failed one leaves nothing; nothing is visible to others before COMMIT. */
	assert_int_equal(db_exec(db, "BEGIN IMMEDIATE"), 0);
	assert_int_equal(capture_begin(&c, db), 0);
	assert_int_equal(c.cap_nested, 1);
	insert_checkin(db, "g-1", "One");
	assert_int_equal(capture_commit(&c, "h1", NULL, &seq), 0);
	assert_int_equal(capture_begin(&c, db), 0);
	insert_checkin(db, "g-2", "Two");
	capture_abort(&c);
	captured_checkin(db, "g-3", "Three", "h3", NULL);
	assert_int_equal(sqlite3_get_autocommit(db), 0); /* still inside the batch */
	assert_int_equal(db_exec(db, "COMMIT"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins", -1), 2);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins WHERE id='g-2'", -1), 0);
	db_close(db);
}

/* SQLite rolls a batch back by itself on an I/O or memory error, and the
 * next statement would then commit alone: a write whose batch ends under it
 * saves none of its later rows (each such commit is turned into a
 * rollback) and no outbox entry. */
static void test_batch_rolled_back_under_a_write(void **state)
{
	sqlite3 *db = open_node();
	capture c;
	int64_t seq = -1;
	char sql[256];

	(void)state;
	assert_int_equal(db_exec(db, "BEGIN IMMEDIATE"), 0);
	captured_checkin(db, "rb-1", "Before", "h1", NULL);
	assert_int_equal(capture_begin(&c, db), 0);
	/* (as SQLite's own rollback after a failed write of the batch) */
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_get_autocommit(db), 1);
	snprintf(sql, sizeof sql,
		 "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
		 " visit_date, updated_hlc) VALUES('rb-2','o1','la1','Alone',1700000000000,"
		 "'2026-01-05','000000000002.0000.n')");
	assert_int_not_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_COMMITHOOK);
	assert_int_not_equal(capture_commit(&c, "h2", NULL, &seq), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins", -1), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 0);
	/* and the connection works on, captured writes commit */
	captured_checkin(db, "rb-3", "After", "h3", NULL);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins", -1), 1);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 1);
	db_close(db);
}

/* k check-ins of a visitor name of `kib` KiB each, as one captured write:
 * capture_commit's result. */
static int big_write(sqlite3 *db, int k, int kib)
{
	capture c;
	char sql[512];
	int64_t seq = -1;

	assert_int_equal(capture_begin(&c, db), 0);
	for (int i = 0; i < k; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
			 " visit_date, updated_hlc) VALUES('big-%d-%d','o1','la1',"
			 "printf('%%.*c', %d, 'x'),1700000000000,'2026-01-05','000000000001.0000.n')",
			 k, i, kib * 1024);
		assert_int_equal(db_exec(db, sql), 0);
	}
	return capture_commit(&c, "h", NULL, &seq);
}

/* A write whose changeset a push could not send (CAPTURE_MAX_CHANGESET,
 * sync.h SYNC_MAX_CHANGESET) is refused up front, 413 and saying why, and
 * leaves nothing: kept, it would block the outbox behind it for ever. */
static void test_write_too_large_to_push_refused(void **state)
{
	sqlite3 *db = open_node();

	(void)state;
	db_take_error();
	assert_int_equal(big_write(db, 9, 1024), -1);
	assert_int_equal(db_take_error(), SQLITE_TOOBIG);
	assert_int_equal(db_http_status(SQLITE_TOOBIG), 413);
	assert_non_null(strstr(db_error_text(SQLITE_TOOBIG), "too large"));
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins", -1), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM outbox", -1), 0);
	/* one within the bound is kept whole */
	assert_int_equal(big_write(db, 7, 1024), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM checkins", -1), 7);
	assert_in_range(db_int(db, "SELECT max(nbytes) FROM outbox", -1), 7 * 1024 * 1024,
			CAPTURE_MAX_CHANGESET);
	db_close(db);
}

static void test_schema_check(void **state)
{
	sqlite3 *db = open_node();

	(void)state;
	assert_int_equal(schema_check(db), 0);
	assert_true(schema_version() >= 2);
	assert_non_null(schema_table("checkins"));
	assert_int_equal(schema_table("checkins")->td_kind, TK_MUTABLE);
	assert_null(schema_table("outbox"));
	/* Replace a replicated table by one whose key may be NULL: caught. */
	assert_int_equal(db_exec(db, "DROP TABLE checkin_events;"
				     "CREATE TABLE checkin_events(id TEXT PRIMARY KEY, x TEXT)"), 0);
	assert_int_equal(schema_check(db), -1);
	db_close(db);
}

static void test_demo_seed_idempotent(void **state)
{
	sqlite3 *db = open_node();

	(void)state;
	assert_int_equal(demo_seed_reference(db, "h"), 0);
	int64_t n = db_int(db, "SELECT count(*) FROM greeter_reasons", -1);
	assert_true(n >= 5);
	assert_int_equal(demo_seed_reference(db, "h"), 0);
	assert_int_equal(db_int(db, "SELECT count(*) FROM greeter_reasons", -1), n);
	assert_int_equal(db_int(db, "SELECT count(*) FROM offices WHERE id='" DEMO_OFFICE "'", -1), 1);
	db_close(db);
}

static void test_greeter_rules(void **state)
{
	(void)state;
	assert_string_equal(greeter_transition("waiting", "call"), "called");
	assert_string_equal(greeter_transition("called", "serve"), "serving");
	assert_string_equal(greeter_transition("serving", "done"), "done");
	assert_string_equal(greeter_transition("serving", "requeue"), "waiting");
	assert_string_equal(greeter_transition("waiting", "left"), "left");
	assert_null(greeter_transition("done", "call"));
	assert_null(greeter_transition("left", "serve"));
	assert_null(greeter_transition("waiting", "done"));
	assert_null(greeter_transition("waiting", "bogus"));
	/* a visit open at the end of its day: served ones count as done */
	assert_string_equal(greeter_day_end("waiting"), "left");
	assert_string_equal(greeter_day_end("called"), "left");
	assert_string_equal(greeter_day_end("serving"), "done");
	assert_null(greeter_day_end("done"));
	assert_null(greeter_day_end("left"));
	assert_null(greeter_day_end(NULL));
	assert_null(greeter_transition("waiting", "day_end")); /* never a desk's action */
	/* one closing's event id at every node: of the visit and the status it left */
	{
		char x[37], y[37], z[37], w[37];

		assert_int_equal(greeter_day_end_id("0190a000-0000-7000-8000-000000000001", "waiting", x), 0);
		assert_int_equal(greeter_day_end_id("0190a000-0000-7000-8000-000000000001", "waiting", y), 0);
		assert_int_equal(greeter_day_end_id("0190a000-0000-7000-8000-000000000001", "called", z), 0);
		assert_int_equal(greeter_day_end_id("0190a000-0000-7000-8000-000000000002", "waiting", w), 0);
		assert_string_equal(x, y);
		assert_string_not_equal(x, z);
		assert_string_not_equal(x, w);
		assert_int_equal(uuid_valid(x), 0);
		assert_int_equal(x[14], '8'); /* version 8 */
		assert_non_null(strchr("89ab", x[19]));
		assert_int_equal(greeter_day_end_id(NULL, "waiting", x), -1);
	}
	TU_CHECK_TEXT(greeter_valid_phone, {"(916) 555-0100", 0}, {"555", -1}, {"555-0100; DROP", -1});
	TU_CHECK_TEXT(greeter_valid_email, {"a.b@example.org", 0}, {"a@b", -1},
		      {"a b@example.org", -1}, {"@example.org", -1});
	TU_CHECK_TEXT(greeter_valid_language, {"es", 0}, {"fr", -1});
}

/* The label a report gives a visit's reason: the one its office's node
 * recorded at the check-in; for a visit recorded without (a node before
 * that), the one it had at the hub when the visit arrived (a rename at the
 * hub keeps the former one and when it ended). */
static void test_greeter_reason_label_at(void **state)
{
	sqlite3 *db = open_node();
	static const struct {
		const char *reason;
		int64_t at;
		const char *rec, *rec_es; /* recorded at the check-in */
		const char *label, *label_es;
	} want[] = {
	    {"r1", 500, NULL, NULL, "UI claims", "Reclamos"},            /* before both renames */
	    {"r1", 999, NULL, NULL, "UI claims", "Reclamos"},
	    {"r1", 1000, NULL, NULL, "Unemployment Insurance", "Seguro de desempleo"}, /* from the first */
	    {"r1", 1999, NULL, NULL, "Unemployment Insurance", "Seguro de desempleo"},
	    {"r1", 2000, NULL, NULL, "Job search help", "Ayuda para buscar empleo"},   /* now */
	    {"r1", 9000, NULL, NULL, "Job search help", "Ayuda para buscar empleo"},
	    {"r2", 500, NULL, NULL, "Workshops", "Talleres"},            /* never renamed */
	    /* arrived after both renames at an office that had pulled neither */
	    {"r1", 9000, "UI claims", "Reclamos", "UI claims", "Reclamos"},
	    {"r1", 500, "Job search help", "Ayuda para buscar empleo", "Job search help",
	     "Ayuda para buscar empleo"}, /* an office's clock far behind */
	};
	/* both labels in one query, as the reports read them */
	static const char sql[] =
	    "SELECT " GREETER_REASON_LABEL("label", "cr", "h", "g") ","
	    " " GREETER_REASON_LABEL("label_es", "cr", "h", "g") " FROM (SELECT ?1 AS reason_id,"
	    " ?2 AS at, ?3 AS label, ?4 AS label_es) cr LEFT JOIN greeter_reasons g ON g.id = cr.reason_id"
	    GREETER_REASON_LABEL_JOIN("h", "cr", "cr.at");

	(void)state;
	assert_int_equal(db_exec(db, "INSERT INTO greeter_reasons(id, local_area_id, label, label_es)"
				     " VALUES('r1', 'la', 'Job search help', 'Ayuda para buscar empleo'),"
				     " ('r2', 'la', 'Workshops', 'Talleres');"
				     "INSERT INTO greeter_reason_labels(id, reason_id, local_area_id, label,"
				     " label_es, ended_at) VALUES"
				     " ('h2', 'r1', 'la', 'Unemployment Insurance', 'Seguro de desempleo', 2000),"
				     " ('h1', 'r1', 'la', 'UI claims', 'Reclamos', 1000)"), 0);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		sqlite3_stmt *st = NULL;

		assert_int_equal(db_prepare_bound(db, &st, sql, "tItt", want[i].reason, want[i].at,
						  want[i].rec, want[i].rec_es), 0);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), want[i].label);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), want[i].label_es);
		sqlite3_finalize(st);
	}
	/* an unknown reason has none (the reports name it by its id) */
	assert_int_equal(db_int(db, "SELECT " GREETER_REASON_LABEL("label", "cr", "h", "g") " IS NULL"
				    " FROM (SELECT 'zz' AS reason_id, NULL AS label) cr LEFT JOIN"
				    " greeter_reasons g ON g.id = cr.reason_id"
				    GREETER_REASON_LABEL_JOIN("h", "cr", "5"), -1),
			 1);
	db_close(db);
}

/* The hub takes a visit's reason with the labels its office had (the
 * reason's now, or a pair a rename replaced), or with none (a node before
 * them), and refuses other labels, with why. */
static void test_greeter_reason_labels_checked(void **state)
{
	sqlite3 *db = open_node();
	static const struct {
		const char *labels; /* the row's label members, JSON */
		int rc;
	} rows[] = {
	    {"", 0},
	    {",\"label\":null,\"label_es\":null", 0},
	    {",\"label\":\"Job search help\",\"label_es\":\"Ayuda para buscar empleo\"", 0},
	    {",\"label\":\"UI claims\",\"label_es\":\"Reclamos\"", 0},
	    /* a pair the reason never had */
	    {",\"label\":\"Job search help\",\"label_es\":\"Reclamos\"", -1},
	    {",\"label\":\"Free money\",\"label_es\":\"Dinero gratis\"", -1},
	    {",\"label\":\"UI claims\",\"label_es\":null", -1}, /* one of two */
	    {",\"label\":7,\"label_es\":\"Reclamos\"", -1},
	};

	(void)state;
	insert_checkin(db, "c1", "Visitor");
	assert_int_equal(db_exec(db, "DELETE FROM checkin_reasons;"
				     "INSERT INTO greeter_reasons(id, local_area_id, label, label_es)"
				     " VALUES('reason-1', 'la1', 'Job search help', 'Ayuda para buscar empleo');"
				     "INSERT INTO greeter_reason_labels(id, reason_id, local_area_id, label,"
				     " label_es, ended_at) VALUES('h1', 'reason-1', 'la1', 'UI claims',"
				     " 'Reclamos', 1000)"), 0);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char text[512], why[200] = "";
		cJSON *row;

		snprintf(text, sizeof text, "{\"id\":\"x\",\"checkin_id\":\"c1\",\"reason_id\":"
			 "\"reason-1\",\"office_id\":\"o1\"%s}", rows[i].labels);
		assert_non_null(row = cJSON_Parse(text));
		if (greeter_hub_validate_row(db, "checkin_reasons", SQLITE_INSERT, row, why,
					     sizeof why) != rows[i].rc)
			fail_msg("%s: %s", text, why);
		if (rows[i].rc)
			assert_non_null(strstr(why, "label"));
		cJSON_Delete(row);
	}
	db_close(db);
}

/* The plan of sql, its details joined by ';' into plan (n bytes). */
static void query_plan(sqlite3 *db, const char *sql, char *plan, size_t n)
{
	char *eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *st = NULL;

	assert_non_null(eqp);
	plan[0] = '\0';
	assert_int_equal(db_prepare(db, &st, eqp), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		snprintf(plan + strlen(plan), n - strlen(plan), "%s;", d ? d : "");
	}
	sqlite3_finalize(st);
	sqlite3_free(eqp);
}

static int occurrences(const char *s, const char *what)
{
	int k = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		k++;
	return k;
}

/* A report reads both labels of each visit's reason with one lookup of its
 * former labels, by index (greeter_reason_labels_reason, then the row by
 * its id), and the reason by its id: no scan, no lookup per column. */
static void test_greeter_reason_label_plan(void **state)
{
	sqlite3 *db = open_node();
	char plan[2048];

	(void)state;
	query_plan(db, "SELECT cr.reason_id, " GREETER_REASON_LABEL("label", "cr", "h", "g") ","
		       " " GREETER_REASON_LABEL("label_es", "cr", "h", "g") " FROM checkins c"
		       " JOIN checkin_reasons cr ON cr.checkin_id = c.id"
		       " LEFT JOIN greeter_reasons g ON g.id = cr.reason_id"
		       GREETER_REASON_LABEL_JOIN("h", "cr", "c.arrived_at")
		       " WHERE c.office_id = 'o1' AND c.visit_date BETWEEN '2026-01-01' AND '2026-01-31'",
		       plan, sizeof plan);
	if (occurrences(plan, "USING INDEX greeter_reason_labels_reason") != 1 ||
	    occurrences(plan, "greeter_reason_labels") != 2 || occurrences(plan, "SCAN") != 0 ||
	    occurrences(plan, "SEARCH g USING INDEX sqlite_autoindex_greeter_reasons_1") != 1)
		fail_msg("plan '%s'", plan);
	db_close(db);
}

/* ---- differential check against the session extension ------------------------ */

/*
 * capture.c writes changesets itself instead of running a session per write.
 * Here the same random writes run on two identical databases, one under
 * capture and one under a real sqlite3session attached to every replicated
 * table in schema order, and the two changesets must say the same thing:
 * the same tables in the same order with the same headers, and the same
 * changes (op, indirect flag, every old and new field).  Only the order of
 * changes within a table may differ (a session emits them in hash order).
 * The writes mix inserts, updates (some changing nothing, some the key),
 * deletes, delete-then-insert, INSERT OR REPLACE, statements that fail half
 * way (rolled back), values of every type, NULL keys, and changes made by a
 * trigger (indirect).
 */
static int attach_session(const table_def *t, void *arg)
{
	return sqlite3session_attach(arg, t->td_name) == SQLITE_OK ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void describe_value(char *out, size_t n, sqlite3_value *v)
{
	if (v == NULL) {
		snprintf(out, n, "~");
		return;
	}
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		snprintf(out, n, "i%lld", (long long)sqlite3_value_int64(v));
		break;
	case SQLITE_FLOAT:
		snprintf(out, n, "r%.17g", sqlite3_value_double(v));
		break;
	case SQLITE_TEXT:
		snprintf(out, n, "t'%s'", (const char *)sqlite3_value_text(v));
		break;
	case SQLITE_BLOB: {
		const unsigned char *p = sqlite3_value_blob(v);
		int len = sqlite3_value_bytes(v);
		size_t k = (size_t)snprintf(out, n, "x");
		for (int i = 0; i < len && k + 3 < n; i++)
			k += (size_t)snprintf(out + k, n - k, "%02x", p[i]);
		break;
	}
	default:
		snprintf(out, n, "null");
	}
}

typedef int (*value_fn)(sqlite3_changeset_iter *, int, sqlite3_value **);

/* Append " value" for each of the ncol columns of the change at it, as get
 * (sqlite3changeset_old or _new) gives them; every one "null" when get is
 * NULL (an insert has no old row, a delete no new one).  line's new length. */
static size_t describe_row(char *line, size_t n, size_t k, sqlite3_changeset_iter *it, int ncol,
			   value_fn get)
{
	char v[1024];

	for (int i = 0; i < ncol; i++) {
		sqlite3_value *x = NULL;
		if (get)
			assert_int_equal(get(it, i, &x), SQLITE_OK);
		describe_value(v, sizeof v, x);
		k += (size_t)snprintf(line + k, n - k, " %s", v);
	}
	return k;
}

/* Append the first len bytes of s and a newline to the text *out of *outlen. */
static void append_line(char **out, size_t *outlen, const char *s, size_t len)
{
	*out = realloc(*out, *outlen + len + 2);
	assert_non_null(*out);
	memcpy(*out + *outlen, s, len);
	*outlen += len;
	(*out)[(*outlen)++] = '\n';
	(*out)[*outlen] = '\0';
}

/* The changeset as text: one line per table header, then its changes sorted. */
static char *describe(const void *cs, int n)
{
	sqlite3_changeset_iter *it;
	char *out = calloc(1, 1), *lines[512], cur_tab[128] = "";
	size_t outlen = 0;
	int nlines = 0;

	assert_int_equal(sqlite3changeset_start(&it, n, (void *)cs), SQLITE_OK);
	for (;;) {
		int rc = sqlite3changeset_next(it);
		const char *tab = "";
		int ncol = 0, op = 0, ind = 0;
		unsigned char *pk = NULL;
		int npk = 0;
		char line[8192];
		size_t k;

		if (rc == SQLITE_ROW) {
			assert_int_equal(sqlite3changeset_op(it, &tab, &ncol, &op, &ind), SQLITE_OK);
			assert_int_equal(sqlite3changeset_pk(it, &pk, &npk), SQLITE_OK);
		} else {
			assert_int_equal(rc, SQLITE_DONE);
		}
		if (rc != SQLITE_ROW || strcmp(tab, cur_tab) != 0) {
			/* Flush the previous table's changes, sorted. */
			qsort(lines, (size_t)nlines, sizeof lines[0], cmp_str);
			for (int i = 0; i < nlines; i++) {
				append_line(&out, &outlen, lines[i], strlen(lines[i]));
				free(lines[i]);
			}
			nlines = 0;
			if (rc != SQLITE_ROW)
				break;
			snprintf(cur_tab, sizeof cur_tab, "%s", tab);
			k = (size_t)snprintf(line, sizeof line, "T %s %d ", tab, ncol);
			for (int i = 0; i < npk; i++)
				k += (size_t)snprintf(line + k, sizeof line - k, "%d", pk[i]);
			append_line(&out, &outlen, line, k);
		}
		k = (size_t)snprintf(line, sizeof line, "  %d/%d old:", op, ind);
		k = describe_row(line, sizeof line, k, it, ncol,
				 op != SQLITE_INSERT ? sqlite3changeset_old : NULL);
		k += (size_t)snprintf(line + k, sizeof line - k, " new:");
		k = describe_row(line, sizeof line, k, it, ncol,
				 op != SQLITE_DELETE ? sqlite3changeset_new : NULL);
		assert_true(nlines < 512);
		lines[nlines++] = strdup(line);
	}
	sqlite3changeset_finalize(it);
	return out;
}

static unsigned rnd_state;
static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 16) % n;
}

/* One random statement's SQL (the same on both databases). */
static void random_statement(char *sql, size_t n)
{
	static const char *const values[] = {
		"'Ana'", "'Bo'", "NULL", "42", "4.5", "X'00ff10'", "''", "'Zoë'", "-7", "1e300",
	};
	static const char *const cols[] = {"visitor_name", "phone", "note", "status",
					   "arrived_at", "staff_id", "email"};
	int id = (int)rnd(6), id2 = (int)rnd(6);
	const char *v = values[rnd(sizeof values / sizeof values[0])];
	const char *col = cols[rnd(sizeof cols / sizeof cols[0])];

	switch (rnd(11)) {
	case 0:
	case 1:
	case 2:
		snprintf(sql, n, "INSERT INTO checkins(id, office_id, local_area_id, visitor_name,"
			 " arrived_at, visit_date, updated_hlc, note) VALUES('c%d','o1','la1',"
			 " 'V%d', %d, '2026-01-05', 'h', %s)", id, id, 1000 + id, v);
		break;
	case 3:
	case 4:
		snprintf(sql, n, "UPDATE checkins SET %s=%s WHERE id='c%d'",
			 strcmp(col, "visitor_name") == 0 && strcmp(v, "NULL") == 0 ? "note" : col,
			 v, id);
		break;
	case 5: /* same value again: nothing changes */
		snprintf(sql, n, "UPDATE checkins SET visitor_name=visitor_name, note=note WHERE id='c%d'",
			 id);
		break;
	case 6:
		snprintf(sql, n, "DELETE FROM checkins WHERE id='c%d'", id);
		break;
	case 7:
		snprintf(sql, n, "INSERT OR REPLACE INTO checkins(id, office_id, local_area_id,"
			 " visitor_name, arrived_at, visit_date, updated_hlc) VALUES('c%d','o1','la1',"
			 " 'R%d', 7, '2026-01-06', 'h2')", id, id);
		break;
	case 8: /* a new key; fails half way when two rows match */
		snprintf(sql, n, "UPDATE checkins SET id='c%d', note='moved' WHERE id IN ('c%d','c%d')",
			 id2, id, rnd(2) ? id : (id + 1) % 6);
		break;
	case 9: /* a NULL key is not recorded (allowed in a rowid table without NOT NULL) */
		snprintf(sql, n, "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id)"
			 " VALUES('r%d','c%d','reason-1','o1')", (int)rnd(4), id);
		break;
	default: /* every row at once, with a value of a new type */
		snprintf(sql, n, "UPDATE checkins SET arrived_at=arrived_at+%s WHERE office_id='o1'",
			 rnd(2) ? "1" : "0.5");
		break;
	}
}

static sqlite3 *open_twin(void)
{
	sqlite3 *db = open_node();

	/* A trigger's changes are "indirect" in a changeset. */
	assert_int_equal(db_exec(db, "CREATE TRIGGER t_ev AFTER INSERT ON checkins BEGIN"
				     " INSERT INTO checkin_events(id, checkin_id, office_id, action,"
				     " to_status, at, hlc) VALUES('e-' || new.id || '-' || new.visitor_name,"
				     " new.id, 'o1', 'checkin', 'waiting', 0, 'h'); END;"), 0);
	return db;
}

static void test_same_changesets_as_a_session(void **state)
{
	sqlite3 *a = open_twin(), *b = open_twin();
	int writes = 0, nonempty = 0;
	const char *seed_env = getenv("OUTPOST_SEED");
	unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 10) : 20261201u;

	(void)state;
	rnd_state = seed;
	for (int w = 0; w < 400; w++) {
		int nst = 1 + (int)rnd(5), abort_it = rnd(10) == 0;
		char sql[512];
		capture c;
		sqlite3_session *s;
		void *cs_b = NULL;
		int n_b = 0;
		int64_t seq = 0;

		assert_int_equal(capture_begin(&c, a), 0);
		assert_int_equal(db_exec(b, "BEGIN IMMEDIATE"), 0);
		assert_int_equal(sqlite3session_create(b, "main", &s), SQLITE_OK);
		assert_int_equal(schema_foreach(attach_session, s), 0);
		for (int k = 0; k < nst; k++) {
			random_statement(sql, sizeof sql);
			int ra = sqlite3_exec(a, sql, NULL, NULL, NULL);
			int rb = sqlite3_exec(b, sql, NULL, NULL, NULL);
			assert_int_equal(ra, rb);
		}
		if (abort_it) {
			capture_abort(&c);
			sqlite3session_delete(s);
			assert_int_equal(db_exec(b, "ROLLBACK"), 0);
			continue;
		}
		assert_int_equal(sqlite3session_changeset(s, &n_b, &cs_b), SQLITE_OK);
		sqlite3session_delete(s);
		assert_int_equal(db_exec(b, "COMMIT"), 0);
		assert_int_equal(capture_commit(&c, "h", NULL, &seq), 0);
		writes++;
		if (n_b == 0) {
			assert_int_equal(seq, 0);
		} else {
			sqlite3_stmt *st;
			assert_true(seq > 0);
			nonempty++;
			assert_int_equal(db_prepare(a, &st, "SELECT changeset FROM outbox WHERE seq=?"), 0);
			sqlite3_bind_int64(st, 1, seq);
			assert_int_equal(sqlite3_step(st), SQLITE_ROW);
			char *da = describe(sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0));
			char *db_ = describe(cs_b, n_b);
			if (strcmp(da, db_) != 0)
				fprintf(stderr, "seed %u write %d differs:\ncapture:\n%s\nsession:\n%s\n",
					seed, w, da, db_);
			assert_string_equal(da, db_);
			free(da);
			free(db_);
			sqlite3_finalize(st);
		}
		sqlite3_free(cs_b);
	}
	assert_true(writes > 300);
	assert_true(nonempty > 200);
	/* And both databases went the same way. */
	assert_int_equal(db_int(a, "SELECT count(*) FROM checkins", -1),
			 db_int(b, "SELECT count(*) FROM checkins", -2));
	db_close(a);
	db_close(b);
}

TU_MAIN(cmocka_unit_test(test_one_write_one_entry),
	cmocka_unit_test(test_update_and_noop),
	cmocka_unit_test(test_abort_leaves_nothing),
	cmocka_unit_test(test_nested_group_commit),
	cmocka_unit_test(test_batch_rolled_back_under_a_write),
	cmocka_unit_test(test_write_too_large_to_push_refused),
	cmocka_unit_test(test_same_changesets_as_a_session),
	cmocka_unit_test(test_schema_check),
	cmocka_unit_test(test_demo_seed_idempotent),
	cmocka_unit_test(test_greeter_rules),
	cmocka_unit_test(test_greeter_reason_label_at),
	cmocka_unit_test(test_greeter_reason_label_plan),
	cmocka_unit_test(test_greeter_reason_labels_checked))
