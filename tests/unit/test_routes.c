/*
 * test_routes.c - the handler contract (lib/route.h): the node's declared
 * route table read as data (every write route has a privilege, or is one of
 * the few public writes named here, and is captured; every route with a body
 * declares its keys; every state-changing method writes or is named here as
 * one that does not), and the dispatcher's order driven through the
 * in-memory HTTP connection with test ops: privilege before the body, every
 * body error at once, one transaction, the reply only through the commit,
 * a failed CSV build a 500 and never a truncated 200, and a failed write's
 * log line naming the database's error (taken before the rollback clears it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "lib/db.h"
#include "lib/route.h"
#include "node/node_api.h"
#include "routetest.h"
#include "testutil.h"

/* ---- the node's table ------------------------------------------------------------ */

/* Public writes, each a decision: the kiosk's check-in and signing in. */
static const char *const public_writes[] = {
	"POST /api/v1/checkins",
	NULL,
};
/* State-changing methods that write nothing to the replicated database. */
static const char *const non_writes[] = {
	"POST /api/v1/session",                /* sessions live in memory; audit rows via its own capture */
	"DELETE /api/v1/session",
	"POST /api/v1/session/password",       /* PBKDF2 in the pool, then its own capture */
	"POST /api/v1/session/password-check", /* the rule, live: reads nothing */
	"POST /api/v1/sync/now",               /* starts a sync cycle at once: no row */
	NULL,
};

static int listed(const char *const *list, const route_def *d)
{
	char key[256];

	snprintf(key, sizeof key, "%s %s", method_name(d->rd_method), d->rd_path);
	for (; *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

static void test_node_table(void **state)
{
	size_t n = 0, writes = 0;

	(void)state;
	FOR_EACH_ROUTE(node_route_lists, l, d) {
		int changing = d->rd_method == HTTP_M_POST || d->rd_method == HTTP_M_PUT ||
			       d->rd_method == HTTP_M_PATCH || d->rd_method == HTTP_M_DELETE;
		n++;
		assert_non_null(d->rd_fn);
		assert_non_null(d->rd_path);
		if (d->rd_flags & ROUTE_WRITE) {
			writes++;
			if (!(d->rd_flags & ROUTE_CAPTURED))
				fail_msg("%s %s writes uncaptured", method_name(d->rd_method),
					 d->rd_path);
			if (d->rd_privs == 0 && !listed(public_writes, d))
				fail_msg("%s %s writes without a privilege",
					 method_name(d->rd_method), d->rd_path);
			if ((d->rd_flags & ROUTE_PUBLIC) && !listed(public_writes, d))
				fail_msg("%s %s: an unlisted public write",
					 method_name(d->rd_method), d->rd_path);
		} else if (changing && !listed(non_writes, d)) {
			fail_msg("%s %s changes state outside a write", method_name(d->rd_method),
				 d->rd_path);
		}
		if ((d->rd_flags & ROUTE_BODY) && (d->rd_keys == NULL || d->rd_keys[0].rk_name == NULL))
			fail_msg("%s %s takes a body without declared keys",
				 method_name(d->rd_method), d->rd_path);
		if (d->rd_keys && !(d->rd_flags & ROUTE_BODY))
			fail_msg("%s %s declares keys but takes no body", method_name(d->rd_method),
				 d->rd_path);
		if (d->rd_flags & ROUTE_AUDITED)
			fail_msg("%s %s: the node has no audited routes (the hub does)",
				 method_name(d->rd_method), d->rd_path);
	}
	assert_true(n >= 8);
	assert_true(writes >= 2);
}

/* No two rows of the node's table take the same request, and route_find
 * gives each its own row (":id" captures, queries ignored). */
static void test_node_find(void **state)
{
	route_table t = {.rt_lists = node_route_lists};

	(void)state;
	FOR_EACH_ROUTE(node_route_lists, l, d) {
		char path[512], *p = path;
		const char *s;
		for (s = d->rd_path; *s && p < path + sizeof path - 40; s++) {
			if (*s == ':' && s[-1] == '/') {
				p += sprintf(p, "0190ffff-0000-7000-8000-00000000abcd");
				while (s[1] && s[1] != '/')
					s++;
			} else if (*s == '*') {
				p += sprintf(p, "x.html");
			} else {
				*p++ = *s;
			}
		}
		strcpy(p, "?q=1");
		if (route_find(&t, d->rd_method, path) != d)
			fail_msg("%s %s: another row takes it", method_name(d->rd_method),
				 d->rd_path);
	}
	assert_null(route_find(&t, HTTP_M_DELETE, "/api/v1/greeter/reasons"));
	assert_null(route_find(&t, HTTP_M_POST, "/api/v1/checkins/a/b/c"));
	/* pages: whatever no other row takes; HEAD by the GET row, an API
	 * route's included (the pages' catch-all does not hide it) */
	assert_ptr_equal(route_find(&t, HTTP_M_GET, "/api/v1/nope")->rd_flags & ROUTE_ASSET,
			 ROUTE_ASSET);
	assert_int_equal(route_find(&t, HTTP_M_HEAD, "/index.html")->rd_flags & ROUTE_ASSET,
			 ROUTE_ASSET);
	assert_ptr_equal(route_find(&t, HTTP_M_HEAD, "/api/v1/greeter/reasons"),
			 route_find(&t, HTTP_M_GET, "/api/v1/greeter/reasons"));
	assert_int_equal(route_find(&t, HTTP_M_HEAD, "/api/v1/greeter/reasons")->rd_flags &
			     ROUTE_ASSET, 0);
}

/* ---- the dispatcher, with test ops ----------------------------------------------------- */

static struct {
	int auth_ok, begins, commits, aborts, fn_calls;
	int commit_status;
	char commit_body[512];
	const char *commit_ctype;
	uint64_t csv_rows;
	http_req *taken;                /* fn_defer's request, to resume */
	const route_table *taken_table;
	const route_def *taken_route;
	sqlite3 *db; /* when set, begin/commit/abort are real, as the daemons' */
	const char *long_msg; /* fn_echo's message for the names "long" and "longbad" */
} t;

static int t_auth(route_call *a)
{
	if (a->rc_route->rd_flags & ROUTE_PUBLIC)
		return 0;
	if (!t.auth_ok) {
		http_reply_error(a->rc_req, 403, NULL, "your account does not have this privilege");
		return -1;
	}
	a->rc_actor = "staff-1";
	return 0;
}

static int t_begin(route_call *a)
{
	(void)a;
	t.begins++;
	return t.db ? db_exec(t.db, "BEGIN") : 0;
}

static void t_commit(route_call *a, int status, const char *ctype, char *body, size_t len)
{
	t.commits++;
	t.commit_status = status;
	t.commit_ctype = ctype;
	snprintf(t.commit_body, sizeof t.commit_body, "%.*s", (int)len, body ? body : "");
	if (t.db)
		assert_int_equal(db_exec(t.db, "COMMIT"), 0);
	if (body)
		http_reply(a->rc_req, status, ctype ? ctype : "application/json", body, len);
	else
		http_reply_error(a->rc_req, 500, NULL, "database error");
	free(body);
}

static void t_abort(route_call *a)
{
	(void)a;
	t.aborts++;
	if (t.db)
		assert_int_equal(db_exec(t.db, "ROLLBACK"), 0);
}

/* As the node's and the hub's: the message while the database reports one. */
static const char *t_errmsg(route_call *a)
{
	(void)a;
	return t.db && sqlite3_errcode(t.db) != SQLITE_OK ? sqlite3_errmsg(t.db) : NULL;
}

static int t_head(void *ctx, const route_def *d, http_req *req, const char **field,
		  const char **msg)
{
	(void)ctx;
	(void)req;
	*field = NULL;
	*msg = "no";
	return d->rd_privs ? 403 : 0;
}

static const route_ops t_ops = {
	.ro_auth = t_auth, .ro_head = t_head, .ro_begin = t_begin, .ro_commit = t_commit,
	.ro_abort = t_abort, .ro_errmsg = t_errmsg,
};

static route_rc fn_echo(route_call *a)
{
	const char *name = NULL;
	int64_t age = 0;
	int bad = 0;

	t.fn_calls++;
	bad |= route_str(a, "name", JSON_REQUIRED, 1, 10, &name, NULL, 0);
	bad |= route_int(a, "age", JSON_REQUIRED, 0, 150, &age, NULL);
	if (bad)
		return ROUTE_BAD;
	if (strcmp(name, "gone") == 0)
		return route_fail(a, 404, "name", "no such %s", name);
	if (strcmp(name, "long") == 0)
		return route_fail(a, 409, "name", "not done: %s", t.long_msg);
	if (strcmp(name, "longbad") == 0) {
		route_err(a, "age", "%s", t.long_msg);
		return route_bad(a, "name", "bad: %s", t.long_msg);
	}
	if (strcmp(name, "db") == 0)
		return ROUTE_DBERR;
	return route_ok(a, 201, cJSON_CreateString(name));
}

/* A write the database refuses (t.db's u already holds 'x'). */
static route_rc fn_dbfail(route_call *a)
{
	t.fn_calls++;
	if (db_run(t.db, "INSERT INTO u(id) VALUES('x')", "") != 0)
		return ROUTE_DBERR;
	return route_ok(a, 201, cJSON_CreateString("written"));
}

static route_rc fn_csv(route_call *a)
{
	t.fn_calls++;
	route_csv(a, "x.csv", 64);
	route_put(a, "a,b\r\n");
	for (uint64_t i = 0; i < t.csv_rows; i++) {
		route_csv_field(a, "=cmd", 0);
		route_csv_field(a, "say \"hi\"", 1);
	}
	return ROUTE_OK;
}

/* Takes the request, as a function waiting on the thread pool would. */
static route_rc fn_defer(route_call *a)
{
	t.fn_calls++;
	t.taken = a->rc_req;
	t.taken_table = a->rc_table;
	t.taken_route = a->rc_route;
	return ROUTE_TAKEN;
}

/* The deferred write (route_resume_write): its argument says how it ends. */
static route_rc fn_resumed(route_call *a)
{
	const char *how = a->rc_arg;

	t.fn_calls++;
	if (strcmp(how, "conflict") == 0)
		return route_fail(a, 409, "id", "taken meanwhile");
	return route_ok(a, 201, cJSON_CreateString(how));
}

/* route_resume_read's function: a refusal, a reply, or the write after all. */
static route_rc fn_resumed_read(route_call *a)
{
	const char *how = a->rc_arg;

	t.fn_calls++;
	if (strcmp(how, "refuse") == 0)
		return route_fail(a, 409, "id", "refused after the wait");
	if (strcmp(how, "write") == 0) {
		route_resume_write(a->rc_table, a->rc_route, a->rc_req, a->rc_user, a->rc_actor,
				   fn_resumed, (void *)"written");
		return ROUTE_TAKEN;
	}
	return route_ok(a, 200, cJSON_CreateString(how));
}

static const route_key defer_keys[] = {
	{"name", ROUTE_T_STR, 0},
	{NULL, 0, 0},
};

static const route_key echo_keys[] = {
	{"name", ROUTE_T_STR, 0}, {"age", ROUTE_T_NUM, 0}, {"tags", ROUTE_T_ARRAY, ROUTE_K_REQUIRED},
	{NULL, 0, 0},
};

static const route_def t_defs[] = {
	{HTTP_M_POST, "/w/:id", fn_echo, 1, ROUTE_BODY | ROUTE_WRITE | ROUTE_CAPTURED, echo_keys, 0},
	{HTTP_M_GET, "/csv", fn_csv, 1, 0, NULL, 0},
	{HTTP_M_POST, "/dbfail", fn_dbfail, 1, ROUTE_WRITE | ROUTE_CAPTURED, NULL, 0},
	{HTTP_M_POST, "/csvw", fn_csv, 1, ROUTE_WRITE | ROUTE_CAPTURED, NULL, 0},
	{HTTP_M_POST, "/late/:id", fn_echo, 1,
	 ROUTE_BODY | ROUTE_KEYS_LATE | ROUTE_WRITE | ROUTE_CAPTURED, echo_keys, 0},
	{HTTP_M_POST, "/defer", fn_defer, 0,
	 ROUTE_PUBLIC | ROUTE_BODY | ROUTE_JSON_ONLY | ROUTE_DEFER | ROUTE_CAPTURED, defer_keys, 0},
};
static const route_list t_list = ROUTE_LIST(t_defs);
static const route_list *const t_lists[] = {&t_list, NULL};

static char out[65536];

/* One request through a fresh memory connection; the answer into out.
 * When a function took it (fn_defer), it is resumed with fn_resumed and
 * resume_arg before the answer is read. */
static void run_as(const char *method, const char *path, const char *ctype, const char *body,
		   const char *resume_arg)
{
	uv_loop_t loop;
	route_table tab = {.rt_lists = t_lists, .rt_ops = &t_ops};
	router *r = router_new();
	http_server *srv;
	http_conn *c;
	char req[2048];
	int len;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(route_register(r, &tab, &t_list), 0);
	srv = http_server_new(&loop, router_dispatch, r);
	c = http__conn_new_mem(srv);
	len = snprintf(req, sizeof req,
		       "%s %s HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\n"
		       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		       method, path, ctype, strlen(body), body);
	http__conn_feed(c, req, (size_t)len);
	if (t.taken && resume_arg && strncmp(resume_arg, "read:", 5) == 0)
		route_resume_read(t.taken_table, t.taken_route, t.taken, NULL, "staff-1",
				  fn_resumed_read, (void *)(resume_arg + 5));
	else if (t.taken && resume_arg)
		route_resume_write(t.taken_table, t.taken_route, t.taken, NULL, "staff-1", fn_resumed,
				   (void *)resume_arg);
	rt_finish(c, srv, r, out, sizeof out);
	route_table_free(&tab);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void run(const char *method, const char *path, const char *body)
{
	run_as(method, path, "application/json", body, NULL);
}

static void reset(int auth_ok)
{
	memset(&t, 0, sizeof t);
	t.auth_ok = auth_ok;
}

static void test_privilege_first(void **state)
{
	(void)state;
	reset(0);
	run("POST", "/w/1", "{not json");
	assert_non_null(strstr(out, "HTTP/1.1 403"));
	assert_int_equal(t.fn_calls + t.begins + t.commits, 0);
}

static void test_every_body_error_at_once(void **state)
{
	(void)state;
	reset(1);
	run("POST", "/w/1", "{\"zz\":1,\"name\":5,\"age\":\"x\",\"yy\":2}");
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	assert_non_null(strstr(out, "\"error\":\"unknown field 'zz'\",\"field\":\"zz\""));
	assert_non_null(strstr(out, "{\"field\":\"yy\",\"error\":\"unknown field 'yy'\"}"));
	assert_non_null(strstr(out, "{\"field\":\"tags\",\"error\":\"tags is required\"}"));
	assert_non_null(strstr(out, "{\"field\":\"name\",\"error\":\"name must be a string\"}"));
	assert_non_null(strstr(out, "{\"field\":\"age\",\"error\":\"age must be a number\"}"));
	assert_int_equal(t.fn_calls + t.begins, 0);

	/* the function's own validators collect too, inside the write, undone */
	reset(1);
	run("POST", "/w/1", "{\"tags\":[],\"name\":\"much too long\",\"age\":200}");
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	assert_non_null(strstr(out, "\"field\":\"name\""));
	assert_non_null(strstr(out, "{\"field\":\"age\",\"error\":\"age must be between 0 and 150\"}"));
	assert_int_equal(t.begins, 1);
	assert_int_equal(t.aborts, 1);
	assert_int_equal(t.commits, 0);
}

static void test_write_replies_through_commit(void **state)
{
	(void)state;
	reset(1);
	run("POST", "/w/1", "{\"tags\":[],\"name\":\"ann\",\"age\":3}");
	assert_non_null(strstr(out, "HTTP/1.1 201"));
	assert_int_equal(t.begins, 1);
	assert_int_equal(t.commits, 1);
	assert_int_equal(t.aborts, 0);
	assert_string_equal(t.commit_body, "\"ann\"");

	reset(1);
	run("POST", "/w/1", "{\"tags\":[],\"name\":\"gone\",\"age\":3}");
	assert_non_null(strstr(out, "HTTP/1.1 404"));
	assert_non_null(strstr(out, "{\"error\":\"no such gone\",\"field\":\"name\",\"errors\":"));
	assert_int_equal(t.aborts, 1);
	assert_int_equal(t.commits, 0);

	reset(1);
	run("POST", "/w/1", "{\"tags\":[],\"name\":\"db\",\"age\":3}");
	assert_non_null(strstr(out, "HTTP/1.1 500"));
	assert_int_equal(t.aborts, 1);
	assert_int_equal(t.commits, 0);
}

/* The privilege from the headers alone, for a refusal before the body. */
static void test_head_check(void **state)
{
	route_table tab = {.rt_lists = t_lists, .rt_ops = &t_ops};
	http_req req;
	const char *field, *msg;

	(void)state;
	memset(&req, 0, sizeof req);
	req.method = HTTP_M_POST;
	req.target = (char *)"/w/abc?x=1";
	assert_int_equal(route_head_check(&tab, &req, &field, &msg), 403);
	assert_string_equal(msg, "no");
	req.target = (char *)"/nowhere";
	assert_int_equal(route_head_check(&tab, &req, &field, &msg), 0); /* the router's 404 */
	req.method = HTTP_M_GET;
	req.target = (char *)"/csv";
	assert_int_equal(route_head_check(&tab, &req, &field, &msg), 403);
}

static void test_csv_full_is_500(void **state)
{
	(void)state;
	reset(1);
	t.csv_rows = 1;
	run("GET", "/csv", "");
	assert_non_null(strstr(out, "HTTP/1.1 200"));
	assert_non_null(strstr(out, "text/csv"));
	assert_non_null(strstr(out, "attachment; filename=\"x.csv\""));
	assert_non_null(strstr(out, "a,b\r\n\"'=cmd\",\"say \"\"hi\"\"\"\r\n"));
	/* the body starts with a UTF-8 byte-order mark */
	assert_non_null(strstr(out, "\r\n\r\n\xEF\xBB\xBF" "a,b\r\n"));

	reset(1);
	t.csv_rows = 10; /* past the 64-byte cap */
	run("GET", "/csv", "");
	assert_non_null(strstr(out, "HTTP/1.1 500"));
	assert_null(strstr(out, "a,b"));

	/* a write's CSV goes through the commit; a full one never reaches it */
	reset(1);
	t.csv_rows = 1;
	run("POST", "/csvw", "");
	assert_int_equal(t.commits, 1);
	assert_string_equal(t.commit_ctype, "text/csv; charset=utf-8");
	reset(1);
	t.csv_rows = 10;
	run("POST", "/csvw", "");
	assert_int_equal(t.commits, 0);
	assert_int_equal(t.aborts, 1);
	assert_non_null(strstr(out, "HTTP/1.1 500"));
}

/* ROUTE_KEYS_LATE: an unknown member and the function's own field errors in
 * one answer; a body whose only fault is an unknown member is still refused,
 * its write undone. */
static void test_keys_late(void **state)
{
	(void)state;
	reset(1);
	run("POST", "/late/1", "{\"zz\":1,\"tags\":[],\"name\":\"much too long\",\"age\":200}");
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	assert_non_null(strstr(out, "{\"field\":\"zz\",\"error\":\"unknown field 'zz'\"}"));
	assert_non_null(strstr(out, "{\"field\":\"name\""));
	assert_non_null(strstr(out, "{\"field\":\"age\",\"error\":\"age must be between 0 and 150\"}"));
	assert_int_equal(t.aborts, 1);

	reset(1);
	run("POST", "/late/1", "{\"zz\":1,\"tags\":[],\"name\":\"ann\",\"age\":3}");
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	assert_int_equal(t.fn_calls, 1);
	assert_int_equal(t.aborts, 1);
	assert_int_equal(t.commits, 0);
}

/* A deferred function's write, resumed: the same transaction and reply
 * rules as a declared write; a JSON-only row refuses a form's body. */
static void test_resume_write_and_json_only(void **state)
{
	(void)state;
	reset(1);
	run_as("POST", "/defer", "application/x-www-form-urlencoded", "name=x", "ok");
	assert_non_null(strstr(out, "HTTP/1.1 415"));
	assert_int_equal(t.fn_calls + t.begins, 0);

	reset(1);
	run_as("POST", "/defer", "application/json", "{\"name\":\"x\"}", "done");
	assert_non_null(strstr(out, "HTTP/1.1 201"));
	assert_int_equal(t.fn_calls, 2);
	assert_int_equal(t.begins, 1);
	assert_int_equal(t.commits, 1);
	assert_string_equal(t.commit_body, "\"done\"");

	reset(1);
	run_as("POST", "/defer", "application/json", "{}", "conflict");
	assert_non_null(strstr(out, "HTTP/1.1 409"));
	assert_non_null(strstr(out, "taken meanwhile"));
	assert_int_equal(t.begins, 1);
	assert_int_equal(t.aborts, 1);
	assert_int_equal(t.commits, 0);
}

/* A deferred function resumed as a read: its refusal or reply sent at
 * once, no transaction; or it goes on to the write after all. */
static void test_resume_read(void **state)
{
	(void)state;
	reset(1);
	run_as("POST", "/defer", "application/json", "{}", "read:refuse");
	assert_non_null(strstr(out, "HTTP/1.1 409"));
	assert_non_null(strstr(out, "{\"error\":\"refused after the wait\",\"field\":\"id\""));
	assert_int_equal(t.begins + t.aborts + t.commits, 0);

	reset(1);
	run_as("POST", "/defer", "application/json", "{}", "read:answered");
	assert_non_null(strstr(out, "HTTP/1.1 200"));
	assert_non_null(strstr(out, "\"answered\""));
	assert_int_equal(t.begins, 0);

	reset(1);
	run_as("POST", "/defer", "application/json", "{}", "read:write");
	assert_non_null(strstr(out, "HTTP/1.1 201"));
	assert_int_equal(t.fn_calls, 3);
	assert_int_equal(t.begins, 1);
	assert_int_equal(t.commits, 1);
	assert_string_equal(t.commit_body, "\"written\"");
}

/*
 * A write the database refuses: 500, rolled back, and the one log line
 * names the database's own error.  The rollback leaves SQLite saying "not
 * an error", which is what the line said when it was taken after it.
 */
static void test_failed_write_logs_its_error(void **state)
{
	char path[] = "/tmp/test_routes_log_XXXXXX", logged[4096] = "";
	int fd, saved;
	ssize_t got;

	(void)state;
	reset(1);
	assert_int_equal(sqlite3_open(":memory:", &t.db), SQLITE_OK);
	assert_int_equal(db_exec(t.db, "CREATE TABLE u(id TEXT PRIMARY KEY); INSERT INTO u VALUES('x')"), 0);
	assert_true((fd = mkstemp(path)) >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0 && dup2(fd, 2) == 2);
	run("POST", "/dbfail", "");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	got = pread(fd, logged, sizeof logged - 1, 0);
	close(fd);
	unlink(path);
	logged[got > 0 ? got : 0] = '\0';
	assert_non_null(strstr(out, "HTTP/1.1 500"));
	assert_int_equal(t.fn_calls, 1);
	assert_int_equal(t.aborts, 1);
	assert_int_equal(t.commits, 0);
	if (strstr(logged, "POST /dbfail: UNIQUE constraint failed: u.id") == NULL)
		fail_msg("the log line does not name the error: %s", logged);
	assert_null(strstr(logged, "not an error"));
	/* what the line would say if it were taken after the rollback */
	assert_int_equal(sqlite3_errcode(t.db), SQLITE_OK);
	assert_int_equal(db_int(t.db, "SELECT count(*) FROM u", -1), 1);
	sqlite3_close(t.db);
	t.db = NULL;
}

/*
 * A message longer than a field error's 200 bytes (a refusal naming every
 * node it is about) is replied whole, by route_fail, route_err and
 * route_bad alike; past ROUTE_MSG_MAX bytes it is cut, on a character
 * boundary, with a visible "\u2026".
 */
static void test_long_message_whole(void **state)
{
	static char msg[ROUTE_MSG_MAX + 64], want[ROUTE_MSG_MAX + 256];
	size_t i;

	(void)state;
	/* 1,000 characters, ending in a name the reply must still carry */
	for (i = 0; i < 990; i++)
		msg[i] = (char)('a' + i % 26);
	snprintf(msg + 990, sizeof msg - 990, "node-last");
	assert_int_equal(strlen(msg), 999);
	reset(1);
	t.long_msg = msg;
	run("POST", "/w/1", "{\"tags\":[],\"name\":\"long\",\"age\":3}");
	assert_non_null(strstr(out, "HTTP/1.1 409"));
	snprintf(want, sizeof want, "{\"error\":\"not done: %s\",\"field\":\"name\",", msg);
	if (strstr(out, want) == NULL)
		fail_msg("the message is not whole: %.400s", out);
	snprintf(want, sizeof want, "{\"field\":\"name\",\"error\":\"not done: %s\"}", msg);
	assert_non_null(strstr(out, want));
	assert_int_equal(t.aborts, 1);

	reset(1);
	t.long_msg = msg;
	run("POST", "/w/1", "{\"tags\":[],\"name\":\"longbad\",\"age\":3}");
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	snprintf(want, sizeof want, "{\"field\":\"age\",\"error\":\"%s\"}", msg);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof want, "{\"field\":\"name\",\"error\":\"bad: %s\"}", msg);
	assert_non_null(strstr(out, want));

	/* past the bound: cut, and says so; a character is never split */
	memset(msg, 'x', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	memcpy(msg + ROUTE_MSG_MAX - 11, "\xC3\xA9", 2); /* "not done: " is 10 bytes */
	reset(1);
	t.long_msg = msg;
	run("POST", "/w/1", "{\"tags\":[],\"name\":\"long\",\"age\":3}");
	assert_non_null(strstr(out, "HTTP/1.1 409"));
	snprintf(want, sizeof want, "\"error\":\"not done: %.*s\xE2\x80\xA6\"", ROUTE_MSG_MAX - 11,
		 msg);
	if (strstr(out, want) == NULL)
		fail_msg("not cut at %d bytes with an ellipsis: %.200s", ROUTE_MSG_MAX, out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_node_table),
	    cmocka_unit_test(test_node_find),
	    cmocka_unit_test(test_privilege_first),
	    cmocka_unit_test(test_every_body_error_at_once),
	    cmocka_unit_test(test_write_replies_through_commit),
	    cmocka_unit_test(test_csv_full_is_500),
	    cmocka_unit_test(test_head_check),
	    cmocka_unit_test(test_resume_write_and_json_only),
	    cmocka_unit_test(test_resume_read),
	    cmocka_unit_test(test_keys_late),
	    cmocka_unit_test(test_failed_write_logs_its_error),
	    cmocka_unit_test(test_long_message_whole),
	};

	tu_watchdog(60);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
