/*
 * test_hub_api.c - the hub's declared routes (hub/hub_api.h): the table read
 * as data (every write route needs the operations privilege, enrollment
 * aside, and is audited; every route with a body declares its keys; every
 * POST writes, a node's signed rows aside; enrollment is the one public
 * row), and the
 * audit row of an admin action committed together with its write or not at
 * all, through the real dispatcher, the real hub routes and a real hub.db:
 * a trigger makes the audit insert fail, and the write must roll back.
 * Also the key check an enrollment code carries, one per code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hub/hub_api.h"
#include "lib/clock.h"
#include "routetest.h"
#include "testutil.h"

static void test_hub_table(void **state)
{
	size_t n = 0, writes = 0;

	(void)state;
	FOR_EACH_ROUTE(hub_route_lists, l, d) {
		const char *m = method_name(d->rd_method);
		n++;
		assert_non_null(d->rd_fn);
		/* Public: a node's enrollment (its code is its credential)
		 * and a person's sign-in (the password is). */
		int enroll = strcmp(d->rd_path, "/api/v1/sync/enroll") == 0;
		if ((d->rd_flags & ROUTE_PUBLIC) && !enroll &&
		    strcmp(d->rd_path, "/api/v1/admin/session") != 0)
			fail_msg("%s %s: no public hub admin route", m, d->rd_path);
		/* A write: declared as one, or deferred (a password hashed
		 * first) and then run by route_resume_write as the row's
		 * write, its audit included.  A node's signed rows write
		 * through the replication's own bounded transactions
		 * (hub_sync.c), or not at all. */
		int node = (d->rd_privs & HUB_P_NODE) != 0;
		int write = (d->rd_flags & ROUTE_WRITE) ||
			    (d->rd_method != HTTP_M_GET && (d->rd_flags & ROUTE_DEFER) && !node);
		if (d->rd_method != HTTP_M_GET && !write && !node)
			fail_msg("%s %s changes state outside a write", m, d->rd_path);
		if (write) {
			writes++;
			if (!(d->rd_flags & ROUTE_AUDITED))
				fail_msg("%s %s writes unaudited", m, d->rd_path);
			/* The node and console admin: operations only.  The
			 * account API's writes are scoped by the caller's role
			 * inside (acct_api_scope). */
			if ((*l == &hub_admin_route_list || *l == &hub_console_route_list) &&
			    !(d->rd_privs & HUB_P_OPS) && !enroll)
				fail_msg("%s %s writes without the operations role", m,
					 d->rd_path);
		}
		/* An approver's session reaches its approvals only
		 * (issue 15), its own session's rows (HUB_P_TEMP) aside. */
		if ((d->rd_privs & HUB_P_APPROVER) && *l != &hub_case_console_route_list)
			fail_msg("%s %s is open to an approver's session", m, d->rd_path);
		if ((d->rd_flags & ROUTE_BODY) && d->rd_keys == NULL)
			fail_msg("%s %s takes a body with no declared keys", m, d->rd_path);
	}
	assert_true(n >= 40);
	assert_true(writes >= 18);
}

/* ---- a real hub.db behind the real routes --------------------------------------- */

typedef struct fix {
	char *dir;
	hub h;
} fix;

static const char token[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static int setup(void **state)
{
	fix *f = calloc(1, sizeof *f);
	char path[512];

	assert_non_null(f);
	f->dir = tu_tmpdir("hubapi");
	assert_non_null(f->dir);
	snprintf(path, sizeof path, "%s/hub.db", f->dir);
	assert_int_equal(db_open(path, &f->h.hb_db), 0);
	assert_int_equal(hub_migrate(f->h.hb_db, 1), 0);
	assert_int_equal(acct_migrate(f->h.hb_db), 0);
	/* The lists' scope (acct_in_scope()), as acct_session.c declares it
	 * on the serving hub's connection. */
	assert_int_equal(acct_scope_sql_init(f->h.hb_db), 0);
	snprintf(f->h.hb_admin_token, sizeof f->h.hb_admin_token, "%s", token);
	assert_int_equal(db_exec(f->h.hb_db,
				 "INSERT INTO nodes(id, office_id, local_area_id, secret_hex, enrolled_at)"
				 " SELECT 'node-1', id, local_area_id, '00', 1 FROM offices LIMIT 1"),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fix *f = *state;

	db_close(f->h.hb_db);
	tu_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char out[16384];

/* One admin request (the bearer token) through the hub's table. */
static int run(fix *f, const char *method, const char *path, const char *body)
{
	uv_loop_t loop;
	router *r = router_new();
	http_server *srv;
	http_conn *c;
	char req[2048];
	int len, status = 0;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(hub_api_routes(&f->h, r), 0);
	srv = http_server_new(&loop, router_dispatch, r);
	c = http__conn_new_mem(srv);
	len = snprintf(req, sizeof req,
		       "%s %s HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		       "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s",
		       method, path, token, strlen(body), body);
	http__conn_feed(c, req, (size_t)len);
	rt_finish(c, srv, r, out, sizeof out);
	hub_api_free(&f->h);
	assert_int_equal(uv_loop_close(&loop), 0);
	sscanf(out, "HTTP/1.1 %d", &status);
	return status;
}

static int64_t count(fix *f, const char *sql)
{
	return db_int(f->h.hb_db, sql, -1);
}

/* POST path body while the hub refuses every row of its audit table audit
 * (hub_audit_events or admin_audit): 500, the reply left in out for the
 * caller, who then checks that nothing of it was written. */
static void post_audit_refused(fix *f, const char *audit, const char *path, const char *body)
{
	char *refuse = sqlite3_mprintf("CREATE TEMP TRIGGER refuse_audit BEFORE INSERT ON \"%w\""
				       " BEGIN SELECT RAISE(ABORT, 'audit refused'); END", audit);

	assert_non_null(refuse);
	assert_int_equal(db_exec(f->h.hb_db, refuse), 0);
	sqlite3_free(refuse);
	assert_int_equal(run(f, "POST", path, body), 500);
	assert_int_equal(db_exec(f->h.hb_db, "DROP TRIGGER temp.refuse_audit"), 0);
}

/* Revoking a node: the revocation and its audit row, both or neither. */
static void test_revoke_and_audit_commit_together(void **state)
{
	fix *f = *state;

	post_audit_refused(f, "hub_audit_events", "/api/v1/nodes/node-1/revoke", "");
	assert_int_equal(count(f, "SELECT count(*) FROM nodes WHERE id='node-1' AND "
				  "revoked_at IS NOT NULL"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM hub_audit_events"), 0);
	assert_int_equal(run(f, "POST", "/api/v1/nodes/node-1/revoke", ""), 200);
	assert_int_equal(count(f, "SELECT count(*) FROM nodes WHERE id='node-1' AND "
				  "revoked_at IS NOT NULL"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM hub_audit_events WHERE "
				  "action='node.revoke' AND subject='node-1'"), 1);
	/* An unknown node is a 404 that writes nothing. */
	assert_int_equal(run(f, "POST", "/api/v1/nodes/no-such/revoke", ""), 404);
	assert_int_equal(count(f, "SELECT count(*) FROM hub_audit_events"), 1);
}

/* An enrollment code: no code is left behind without its audit row. */
static void test_enroll_code_and_audit_commit_together(void **state)
{
	fix *f = *state;
	char body[160], office[64], bad[200];

	assert_int_equal(db_text(f->h.hb_db, "SELECT id FROM offices ORDER BY id LIMIT 1", NULL,
				 office, sizeof office), 0);
	snprintf(body, sizeof body, "{\"office_id\":\"%s\"}", office);
	snprintf(bad, sizeof bad, "{\"office_id\":\"%s\",\"x\":1}", office);
	post_audit_refused(f, "hub_audit_events", "/api/v1/enroll-codes", body);
	assert_null(strstr(out, "\"code\""));
	assert_int_equal(count(f, "SELECT count(*) FROM enroll_codes"), 0);
	assert_int_equal(run(f, "POST", "/api/v1/enroll-codes", body), 201);
	assert_non_null(strstr(out, "\"code\""));
	assert_int_equal(count(f, "SELECT count(*) FROM enroll_codes"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM hub_audit_events WHERE "
				  "action='enroll_code.create'"), 1);
	/* Body keys from the table: an unknown member is a 400 naming it. */
	assert_int_equal(run(f, "POST", "/api/v1/enroll-codes", bad), 400);
	assert_non_null(strstr(out, "\"field\":\"x\""));
	assert_int_equal(count(f, "SELECT count(*) FROM enroll_codes"), 1);
}

/* Cancelling a code: the cancel and its audit row, both or neither. */
static void test_enroll_code_cancel_and_audit_commit_together(void **state)
{
	fix *f = *state;
	char body[160], office[64], id[64], path[128];

	assert_int_equal(db_text(f->h.hb_db, "SELECT id FROM offices ORDER BY id LIMIT 1", NULL,
				 office, sizeof office), 0);
	snprintf(body, sizeof body, "{\"office_id\":\"%s\"}", office);
	assert_int_equal(run(f, "POST", "/api/v1/enroll-codes", body), 201);
	assert_int_equal(db_text(f->h.hb_db, "SELECT id FROM enroll_codes", NULL, id, sizeof id), 0);
	snprintf(path, sizeof path, "/api/v1/enroll-codes/%s/cancel", id);
	post_audit_refused(f, "hub_audit_events", path, "");
	assert_int_equal(count(f, "SELECT count(*) FROM enroll_codes WHERE cancelled_at IS NULL"), 1);
	assert_int_equal(run(f, "POST", path, ""), 200);
	assert_int_equal(count(f, "SELECT count(*) FROM enroll_codes WHERE cancelled_at IS NOT NULL"
				  " AND cancelled_by IS NOT NULL"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM hub_audit_events WHERE "
				  "action='enroll_code.cancel'"), 1);
	/* Cancelled already: 409; unknown: 404; neither writes. */
	assert_int_equal(run(f, "POST", path, ""), 409);
	assert_int_equal(run(f, "POST", "/api/v1/enroll-codes/no-such/cancel", ""), 404);
	assert_int_equal(count(f, "SELECT count(*) FROM hub_audit_events WHERE "
				  "action='enroll_code.cancel'"), 1);
	assert_int_equal(run(f, "GET", "/api/v1/enroll-codes", ""), 200);
	assert_non_null(strstr(out, "\"state\":\"cancelled\""));
	assert_null(strstr(out, "code_hash"));
}

/* The key check a code carries is bound to the code (sync_enroll_check):
 * one key gives each code its own check, so a key ground to collide with
 * one code's check is no use against another; the node computes the check
 * the hub showed from the code as typed; another key gives another check.
 * The vector is HMAC-SHA256(key = the 16 random characters, the SHA-256
 * the pin names), first 60 bits in base32, as README says. */
static void test_enroll_check_bound_to_code(void **state)
{
	const char *pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	const char *other = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
	char one[HUB_ENROLL_CODE_SHOWN], two[HUB_ENROLL_CODE_SHOWN];
	char chk[SYNC_ENROLL_CHECK_LEN + 1];

	(void)state;
	assert_int_equal(hub_enroll_code_show("ABCD-EFGH-IJKL-MNOP", pin, one), 0);
	assert_int_equal(hub_enroll_code_show("ABCD-EFGH-IJKL-MNOQ", pin, two), 0);
	assert_string_equal(one, "ABCD-EFGH-IJKL-MNOP-LJCK-7UNM-HCO6");
	assert_string_equal(two, "ABCD-EFGH-IJKL-MNOQ-W7OR-E3LN-NCOB");
	/* the node, from the code as typed (any case, any separators) */
	assert_int_equal(sync_enroll_check(pin, "abcd efgh-ijklmnop", chk), 0);
	assert_string_equal(chk, "LJCK7UNMHCO6");
	/* another key: another check, for the same code */
	assert_int_equal(sync_enroll_check(other, "ABCDEFGHIJKLMNOP", chk), 0);
	assert_string_equal(chk, "FAI2JUCB7WI7");
	/* no check without a whole code or a pin */
	assert_int_equal(sync_enroll_check(pin, "ABCD-EFGH-IJKL-MNO", chk), -1);
	assert_int_equal(sync_enroll_check("sha256//AAAA", "ABCDEFGHIJKLMNOP", chk), -1);
	assert_int_equal(sync_enroll_check(NULL, "ABCDEFGHIJKLMNOP", chk), -1);
}

/* Marking a quarantined entry handled, the same way. */
static void test_quarantine_resolve_and_audit_commit_together(void **state)
{
	fix *f = *state;
	const char *note = "{\"note\":\"asked the office to enter it again\"}";

	assert_int_equal(db_exec(f->h.hb_db,
				 "INSERT INTO quarantine(id, node_id, seq, tbl, reason, changeset, "
				 "created_at) VALUES('q-1', 'node-1', 7, 'checkins', 'refused', x'00', 1)"),
			 0);
	post_audit_refused(f, "hub_audit_events", "/api/v1/quarantine/q-1/resolve", note);
	assert_int_equal(count(f, "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL"), 1);
	assert_int_equal(run(f, "POST", "/api/v1/quarantine/q-1/resolve", note), 200);
	assert_int_equal(count(f, "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM hub_audit_events WHERE "
				  "action='quarantine_resolve' AND subject='q-1'"), 1);
	assert_int_equal(run(f, "POST", "/api/v1/quarantine/q-1/resolve", note), 409);
	assert_int_equal(count(f, "SELECT count(*) FROM hub_audit_events"), 1);
}

/* Account administration (hub/acct_api.h): a field division, with its
 * admin_audit row or not at all. */
static void test_division_and_audit_commit_together(void **state)
{
	fix *f = *state;
	const char *body = "{\"id\":\"fd-1\",\"name\":\"North\"}";

	post_audit_refused(f, "admin_audit", "/api/v1/admin/field-divisions", body);
	assert_int_equal(count(f, "SELECT count(*) FROM field_divisions WHERE id='fd-1'"), 0);
	assert_int_equal(run(f, "POST", "/api/v1/admin/field-divisions", body), 201);
	assert_int_equal(count(f, "SELECT count(*) FROM field_divisions WHERE id='fd-1'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM admin_audit WHERE"
				  " action='field_division.create' AND subject_id='fd-1'"), 1);
	assert_int_equal(run(f, "POST", "/api/v1/admin/field-divisions", body), 409);
	assert_int_equal(count(f, "SELECT count(*) FROM admin_audit"), 1);
}

/* A new-account request in the hub's first Local Area, dated today. */
static void new_request_body(fix *f, char *dst, size_t n, const char *extra)
{
	char la[64], today[11];

	assert_int_equal(db_text(f->h.hb_db, "SELECT id FROM local_areas ORDER BY id LIMIT 1", NULL,
				 la, sizeof la), 0);
	clock_local_date(hub_now_ms(), today);
	snprintf(dst, n,
		 "{\"kind\":\"new\",\"username\":\"newbie\",\"display_name\":\"New Bie\","
		 "\"local_area_id\":\"%s\",\"privilege_group\":\"LWIA/CBO Staff\","
		 "\"requestor_name\":\"Ann\",\"ispa_date\":\"%s\","
		 "\"confidentiality_type\":\"E-1\",\"confidentiality_date\":\"%s\","
		 "\"business_need\":\"intake\"%s}",
		 la, today, today, extra);
}

/* An access request and its rejection: each with its admin_audit row, or
 * neither written (these two used to audit in a separate autocommit). */
static void test_request_and_audit_commit_together(void **state)
{
	fix *f = *state;
	char body[1024], path[128], id[64];

	new_request_body(f, body, sizeof body, "");
	post_audit_refused(f, "admin_audit", "/api/v1/admin/access-requests", body);
	assert_int_equal(count(f, "SELECT count(*) FROM access_requests"), 0);
	assert_int_equal(run(f, "POST", "/api/v1/admin/access-requests", body), 201);
	assert_int_equal(count(f, "SELECT count(*) FROM admin_audit WHERE action='request.create'"),
			 1);
	assert_int_equal(db_text(f->h.hb_db, "SELECT id FROM access_requests", NULL, id, sizeof id),
			 0);
	snprintf(path, sizeof path, "/api/v1/admin/access-requests/%s/reject", id);
	post_audit_refused(f, "admin_audit", path, "{\"note\":\"no\"}");
	assert_int_equal(count(f, "SELECT count(*) FROM access_requests WHERE status='submitted'"),
			 1);
	assert_int_equal(run(f, "POST", path, ""), 200);
	assert_int_equal(count(f, "SELECT count(*) FROM access_requests WHERE status='rejected'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM admin_audit WHERE action='request.reject'"),
			 1);
	assert_int_equal(run(f, "POST", path, ""), 409);
}

/* A quarterly review: its sample, its items and its audit row together. */
static void test_review_and_audit_commit_together(void **state)
{
	fix *f = *state;
	const char *body = "{\"quarter\":\"2026-Q4\"}";

	post_audit_refused(f, "admin_audit", "/api/v1/admin/reviews", body);
	assert_int_equal(count(f, "SELECT count(*) FROM reviews"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM review_items"), 0);
	assert_int_equal(run(f, "POST", "/api/v1/admin/reviews", body), 201);
	assert_int_equal(count(f, "SELECT count(*) FROM reviews"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM admin_audit WHERE action='review.create'"),
			 1);
}

/* Every field error of a request at once, each naming its field. */
static void test_request_errors_all_at_once(void **state)
{
	fix *f = *state;
	char body[1200];

	new_request_body(f, body, sizeof body,
			 ",\"email\":\"x\",\"priv_add\":[\"nope\"],\"crm_work_group\":\"yes\"");
	assert_int_equal(run(f, "POST", "/api/v1/admin/access-requests", body), 400);
	assert_non_null(strstr(out, "\"field\":\"email\""));
	assert_non_null(strstr(out, "\"field\":\"priv_add\""));
	assert_non_null(strstr(out, "\"field\":\"crm_work_group\""));
	assert_int_equal(count(f, "SELECT count(*) FROM access_requests"), 0);
}

/* Designating an administrator (issue 16): refused without the signed
 * Attachment 1 and the training date (both named at once); granted, the
 * role, the form and the date are written with their audit row or not at
 * all. */
static void test_designation_and_audit_commit_together(void **state)
{
	fix *f = *state;
	char today[11], body[256];

	clock_local_date(hub_now_ms(), today);
	assert_int_equal(db_exec(f->h.hb_db,
				 "INSERT INTO staff(id, username, display_name, local_area_id, privilege_group,"
				 " active, updated_hlc) SELECT 's-1', 'ada', 'Ada', id, 'View Access', 1, ''"
				 " FROM local_areas ORDER BY id LIMIT 1;"
				 "INSERT INTO request_files(id, request_id, staff_id, kind, filename,"
				 " content_type, size, sha256, uploaded_by, uploaded_at) VALUES('f-1', '',"
				 " 's-1', 'attachment_1', 'a.pdf', 'application/pdf', 1, '00', 'admin-token', 1)"),
			 0);
	assert_int_equal(run(f, "POST", "/api/v1/admin/staff/s-1/roles", "{\"roles\":[\"mis_admin\"]}"),
			 400);
	assert_non_null(strstr(out, "\"field\":\"attachment_id\""));
	assert_non_null(strstr(out, "\"field\":\"admin_training_date\""));
	snprintf(body, sizeof body,
		 "{\"roles\":[\"mis_admin\"],\"attachment_id\":\"f-1\",\"admin_training_date\":\"%s\"}",
		 today);
	post_audit_refused(f, "admin_audit", "/api/v1/admin/staff/s-1/roles", body);
	assert_int_equal(count(f, "SELECT count(*) FROM staff WHERE id='s-1' AND roles IS NULL"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM staff_records WHERE admin_form_id IS NOT NULL"),
			 0);
	assert_int_equal(run(f, "POST", "/api/v1/admin/staff/s-1/roles", body), 200);
	assert_int_equal(count(f, "SELECT count(*) FROM staff WHERE id='s-1' AND roles='mis_admin'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM staff_records WHERE id='s-1' AND"
				  " admin_form_id='f-1' AND admin_training_date IS NOT NULL"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM admin_audit WHERE action='staff.roles' AND"
				  " after LIKE '%admin_training_date%'"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hub_table),
		cmocka_unit_test(test_enroll_check_bound_to_code),
		cmocka_unit_test_setup_teardown(test_revoke_and_audit_commit_together, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_enroll_code_and_audit_commit_together, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_enroll_code_cancel_and_audit_commit_together,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine_resolve_and_audit_commit_together,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_division_and_audit_commit_together, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_and_audit_commit_together, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_review_and_audit_commit_together, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_errors_all_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_designation_and_audit_commit_together, setup,
						teardown),
	};

	tu_watchdog(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
