/*
 * bench_crm.c - CRM list and search latency over a statewide data set
 * (make bench, via bench/bench_crm.sh).
 *
 *   bench_crm gen DIR            write DIR/node.db: 50,000 employers (leads
 *                                and recruiting employers of 300 staff in
 *                                every office), 200,000 contacts, 100,000
 *                                work items, 100,000 services
 *   bench_crm run PORT [seconds] GET the CRM lists and searches of a node
 *                                serving that database, 4 connections each,
 *                                and print p50/p99 against the 50 ms target
 *                                and against a static asset (reference)
 *
 * Sizes can be scaled with BENCH_CRM_SCALE (1 = the sizes above).
 */
#include "bench/loadgen.h"
#include "lib/db.h"
#include "model/crm.h"
#include "model/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TARGET_MS 50.0

static const char *const w1[] = {"Golden", "Pacific", "Sierra", "Valley", "Bay", "Summit", "Redwood",
				 "Coastal", "Central", "Delta", "Harbor", "Mission", "Sunrise", "Western",
				 "Capitol", "Evergreen", "Granite", "Orchard", "Pioneer", "Vista"};
static const char *const w2[] = {"Foods", "Builders", "Logistics", "Health", "Staffing", "Software",
				 "Hotel", "Farms", "Auto Repair", "Insurance", "Manufacturing",
				 "Janitorial", "Kitchen", "Supply", "Engineering", "Care Center"};
static const char *const sfx[] = {"Inc.", "LLC", "Corp.", "", "Co.", "Group"};
static const char *const first[] = {"Ana", "Ben", "Carla", "David", "Elena", "Frank", "Grace",
				    "Hector", "Irene", "Jose", "Kim", "Luis", "Maria", "Nam", "Olga",
				    "Pedro", "Quinn", "Rosa", "Sam", "Tran"};
static const char *const last[] = {"Garcia", "Nguyen", "Smith", "Lopez", "Kim", "Patel", "Chen",
				   "Hernandez", "Johnson", "Martinez", "Lee", "Brown", "Singh", "Wong"};

static unsigned rnd(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#define PICK(a, s) (a[rnd(s) % (sizeof a / sizeof a[0])])

/* The staff id of owner number i (0: the demo user) into out. */
static void staff_of(unsigned i, char *out, size_t n)
{
	if (i == 0)
		snprintf(out, n, "demo-staff");
	else
		snprintf(out, n, "bench-staff-%03u", i);
}

/* 300 CRM staff of the demo office, bench-staff-000 .. -299. */
static void gen_staff(sqlite3 *db, unsigned *seed)
{
	sqlite3_stmt *st;

	db_prepare(db, &st, "INSERT INTO staff(id, username, display_name, local_area_id, office_id,"
			    " privilege_group, crm_work_group, active, updated_hlc)"
			    " VALUES(?,?,?,'demo-la','demo-office','LWIA Partner Staff',1,1,'h')");
	for (int i = 0; i < 300; i++) {
		char staff[32], un[32], dn[64];
		snprintf(staff, sizeof staff, "bench-staff-%03d", i);
		snprintf(un, sizeof un, "bench%03d", i);
		snprintf(dn, sizeof dn, "%s %s %d", PICK(first, seed), PICK(last, seed), i);
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, staff, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, un, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, dn, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
	}
	sqlite3_finalize(st);
}

/* Employer i's four contacts and two services (c, sv prepared). */
static void gen_contacts_services(sqlite3_stmt *c, sqlite3_stmt *sv, int i, const char *id,
				  const char *staff, unsigned *seed)
{
	for (int k = 0; k < 4; k++) {
		char cid[64], cn[64];
		snprintf(cid, sizeof cid, "bench-ct-%07d-%d", i, k);
		snprintf(cn, sizeof cn, "%s %s", PICK(first, seed), PICK(last, seed));
		sqlite3_reset(c);
		sqlite3_bind_text(c, 1, cid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c, 3, k == 0 ? "primary" : "secondary", -1, SQLITE_STATIC);
		sqlite3_bind_text(c, 4, cn, -1, SQLITE_TRANSIENT);
		sqlite3_step(c);
	}
	for (int k = 0; k < 2; k++) {
		char sid[64], code[8], d[16];
		snprintf(sid, sizeof sid, "bench-sv-%07d-%d", i, k);
		snprintf(code, sizeof code, "E%02u", 20 + rnd(seed) % 40);
		snprintf(d, sizeof d, "2025-%02u-%02u", 1 + rnd(seed) % 12, 1 + rnd(seed) % 28);
		sqlite3_reset(sv);
		sqlite3_bind_text(sv, 1, sid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sv, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sv, 3, code, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sv, 4, d, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(sv, 5, staff, -1, SQLITE_TRANSIENT);
		sqlite3_step(sv);
	}
}

/* nemp employers (every fifth recruiting), with their contacts and
 * services.  0, or 1 when a row cannot be written. */
static int gen_employers(sqlite3 *db, unsigned *seed, int nemp)
{
	char id[64], name[160], norm[CRM_NORM_MAX], user[64], zip[8], staff[32];
	sqlite3_stmt *e, *c, *sv;
	int rc = 0;

	db_prepare(db, &e, "INSERT INTO employers(id, account_type, created_as, company_name,"
			   " normalized_name, username, edd_account_number, zip, zip5, street, city, state,"
			   " phone, industry, lead_owner_id, office_id, local_area_id, created_by, created_at,"
			   " source, status, updated_hlc) VALUES(?1,?2,'lead',?3,?4,?5,?6,?7,?7,'1 Main St',"
			   "'Sacramento','CA','(916) 555-0100','541511',?8,'demo-office','demo-la',?8,?9,"
			   "'manual','active','h')");
	db_prepare(db, &c, "INSERT INTO employer_contacts(id, employer_id, kind, name, title, phone,"
			   " email, status, created_at, updated_hlc) VALUES(?,?,?,?,'HR','(916) 555-0101',"
			   "'hr@example.com','active',1,'h')");
	db_prepare(db, &sv, "INSERT INTO employer_services(id, employer_id, code, start_date, staff_id,"
			    " office_id, created_at) VALUES(?,?,?,?,?,'demo-office',1)");
	for (int i = 0; i < nemp && rc == 0; i++) {
		unsigned owner = rnd(seed) % 300;
		snprintf(id, sizeof id, "bench-emp-%07d", i);
		snprintf(name, sizeof name, "%s %s %s %d %s", PICK(w1, seed), PICK(w2, seed),
			 PICK(last, seed), i % 997, PICK(sfx, seed));
		crm_normalize_name(name, norm, sizeof norm);
		crm_make_username(norm, (unsigned)i, user, sizeof user);
		snprintf(user + strlen(user), sizeof user - strlen(user), "%d", i);
		snprintf(zip, sizeof zip, "%05u", 90001 + rnd(seed) % 6000);
		staff_of(owner, staff, sizeof staff);
		sqlite3_reset(e);
		sqlite3_bind_text(e, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(e, 2, i % 5 == 0 ? "recruiting" : "lead", -1, SQLITE_STATIC);
		sqlite3_bind_text(e, 3, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(e, 4, norm, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(e, 5, user, -1, SQLITE_TRANSIENT);
		if (i % 5 == 0)
			sqlite3_bind_text(e, 6, "12345678", -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(e, 6);
		sqlite3_bind_text(e, 7, zip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(e, 8, staff, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(e, 9, 1700000000000LL + (long long)i * 60000);
		if (sqlite3_step(e) != SQLITE_DONE)
			rc = 1;
		else
			gen_contacts_services(c, sv, i, id, staff, seed);
	}
	sqlite3_finalize(e);
	sqlite3_finalize(c);
	sqlite3_finalize(sv);
	return rc;
}

/* nwi work items on random employers (of nemp), six in ten closed.  0, or
 * 1 when a row cannot be written. */
static int gen_work_items(sqlite3 *db, unsigned *seed, int nemp, int nwi)
{
	char id[64], emp[64], staff[32], d[16];
	sqlite3_stmt *w;
	int rc = 0;

	db_prepare(db, &w, "INSERT INTO work_items(id, employer_id, category_id, priority_id, status,"
			   " due_date, description, assignee_id, created_by, office_id, created_at, deleted,"
			   " updated_hlc) VALUES(?,?,'crm-cat-outreach','crm-pri-normal',?,?,'Follow up',?,?,"
			   "'demo-office',?,0,'h')");
	for (int i = 0; i < nwi && rc == 0; i++) {
		unsigned a = rnd(seed) % 300, r = rnd(seed) % 10;
		snprintf(id, sizeof id, "bench-wi-%07d", i);
		snprintf(emp, sizeof emp, "bench-emp-%07u", rnd(seed) % (unsigned)nemp);
		staff_of(a, staff, sizeof staff);
		snprintf(d, sizeof d, "2026-%02u-%02u", 1 + rnd(seed) % 12, 1 + rnd(seed) % 28);
		sqlite3_reset(w);
		sqlite3_bind_text(w, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(w, 2, emp, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(w, 3, r < 6 ? "Closed" : r < 8 ? "New" : "In Progress", -1, SQLITE_STATIC);
		sqlite3_bind_text(w, 4, d, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(w, 5, staff, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(w, 6, staff, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(w, 7, 1700000000000LL + (long long)i * 30000);
		if (sqlite3_step(w) != SQLITE_DONE)
			rc = 1;
	}
	sqlite3_finalize(w);
	return rc;
}

/* The CRM data set in DIR/node.db (BENCH_CRM_SCALE times 50,000 employers
 * and 100,000 work items).  0 or 1. */
static int gen(const char *dir)
{
	char path[1024], ts[40];
	sqlite3 *db;
	unsigned seed = 12345;
	int scale = getenv("BENCH_CRM_SCALE") ? atoi(getenv("BENCH_CRM_SCALE")) : 1;
	int nemp = 50000 * scale, nwi = 100000 * scale;
	double t0 = (double)clock();

	snprintf(path, sizeof path, "mkdir -p '%s'", dir);
	if (system(path) != 0)
		return 1;
	snprintf(path, sizeof path, "%s/node.db", dir);
	if (db_open(path, &db) != 0 || schema_migrate(db) != 0)
		return 1;
	db_exec(db, "PRAGMA synchronous=OFF");
	db_exec(db, "BEGIN");
	gen_staff(db, &seed);
	if (gen_employers(db, &seed, nemp) != 0 || gen_work_items(db, &seed, nemp, nwi) != 0)
		return 1;
	db_exec(db, "COMMIT");

	snprintf(ts, sizeof ts, "%.1f", ((double)clock() - t0) / CLOCKS_PER_SEC);
	printf("  CRM data set: %lld employers, %lld contacts, %lld work items, %lld services (%s s CPU)\n",
	       (long long)db_int(db, "SELECT count(*) FROM employers", 0),
	       (long long)db_int(db, "SELECT count(*) FROM employer_contacts", 0),
	       (long long)db_int(db, "SELECT count(*) FROM work_items", 0),
	       (long long)db_int(db, "SELECT count(*) FROM employer_services", 0), ts);
	db_close(db);
	return 0;
}

/* Requests rotate through search terms so caching one answer never helps. */
static const char *const terms[] = {"golden", "pacific%20foods", "sierra", "harbor%20hotel",
				    "kim", "valley%20farms", "mission", "vista%20supply",
				    "zzznomatch", "bay"};

typedef struct target {
	const char *label, *fmt; /* fmt has one %s for a term */
} target;

static size_t build(int th, long i, char *out, size_t n, const void *arg)
{
	const target *t = arg;
	const char *term = terms[(unsigned long)(i + th) % (sizeof terms / sizeof terms[0])];
	const char *at = strstr(t->fmt, "%s");

	/* The staff session bench_crm.sh signed in with (node logins). */
	const char *cookie = getenv("OUTPOST_BENCH_COOKIE");

	return (size_t)snprintf(out, n, "GET %.*s%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s\r\n",
				(int)(at - t->fmt), t->fmt, term, at + 2, cookie ? "Cookie: " : "",
				cookie ? cookie : "", cookie ? "\r\n" : "");
}

static int run(int port, double secs)
{
	static const target ts[] = {
		{"static asset (reference)", "/app.css?%s"},
		{"Marketing Leads, owner=me", "/api/v1/crm/employers?account_type=lead&owner=me&x=%s"},
		{"employers, all, page 1", "/api/v1/crm/employers?owner=all&account_type=all&x=%s"},
		{"employer search by name", "/api/v1/crm/employers?owner=all&account_type=all&q=%s"},
		{"employer search + ZIP", "/api/v1/crm/employers?owner=all&q=%s&zip=9"},
		{"duplicate check (typing)", "/api/v1/crm/employers/duplicates?name=%s&zip=95814"},
		{"Contacts List, me", "/api/v1/crm/contacts?x=%s"},
		{"Contacts List, all, search", "/api/v1/crm/contacts?owner=all&account_type=all&q=%s"},
		{"My Queue", "/api/v1/crm/work-items?queue=mine&x=%s"},
		{"Group Queue", "/api/v1/crm/work-items?queue=group&x=%s"},
		{"work item search", "/api/v1/crm/work-items?queue=group&status=all&q=%s"},
		{"due today", "/api/v1/crm/work-items/due-today?x=%s"},
		{"external employers by jobs", "/api/v1/crm/external-employers?sort=jobs&q=%s"},
	};
	int worst_fail = 0;
	double worst = 0;

	printf("  %-30s %9s %9s %9s  %s\n", "CRM list/search (4 conns)", "req/s", "p50 ms", "p99 ms", "target p99 < 50 ms");
	for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
		loadgen_result r;
		if (loadgen_run(port, 4, secs, build, &ts[k], 200, &r) != 0) {
			printf("  %-30s failed\n", ts[k].label);
			worst_fail = 1;
			continue;
		}
		printf("  %-30s %9.0f %9.2f %9.2f  %s%s\n", ts[k].label, r.rps, r.p50_ms, r.p99_ms,
		       k == 0 ? "reference" : r.p99_ms < TARGET_MS ? "ok" : "OVER",
		       r.errors ? " (errors)" : "");
		if (k > 0 && r.p99_ms > worst)
			worst = r.p99_ms;
		if (r.errors)
			worst_fail = 1;
	}
	printf("  CRM worst p99 %.2f ms: %.2f of the 50 ms target\n", worst, worst / TARGET_MS);
	return worst_fail;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "gen") == 0)
		return gen(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return run(atoi(argv[2]), argc > 3 ? atof(argv[3]) : 2.0);
	fprintf(stderr, "usage: bench_crm gen DIR | run PORT [seconds]\n");
	return 2;
}
