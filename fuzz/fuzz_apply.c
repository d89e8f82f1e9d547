/*
 * fuzz_apply.c - libFuzzer target for changeset ingest at the hub: the
 * input bytes are one outbox entry's changeset from a hostile node, fed to
 * sync_hub_apply() on an in-memory hub that holds a few rows, a tombstone
 * and the full replicated schema, inside a transaction rolled back after
 * each run.  Checked beyond memory safety: hostile input never makes the
 * apply fail internally (that would stall an office: it must be applied or
 * quarantined), and a quarantined entry leaves every replicated table as it
 * was (same sync_digest).
 *
 * Build and run (from the top of the tree), or `make fuzz`:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/fuzz_apply.c \
 *     sync/apply.c sync/changeset.c sync/digest.c lib/[a-z]*.c model/[a-z]*.c \
 *     -o build/fuzz_apply $(pkg-config --libs sqlite3 libcjson libuv) \
 *     -lhttp_parser -lmbedtls -lmbedx509 -lmbedcrypto -lpthread -lm
 *   build/fuzz_apply -close_fd_mask=2 -max_total_time=60 fuzz/corpus/apply
 *
 * The seed corpora (fuzz/corpus/apply, and frames in fuzz/corpus/frame) are
 * real changesets made by change capture on a node database; rebuild them
 * with the same sources, without -fsanitize=fuzzer, plus -DFUZZ_GEN_SEEDS:
 *
 *   clang -DFUZZ_GEN_SEEDS -I. fuzz/fuzz_apply.c sync/frame.c (the sources and
 *     libraries above) -o /tmp/gen
 *   /tmp/gen fuzz/corpus/apply fuzz/corpus/frame
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"
#include "model/capture.h"
#include "model/schema.h"
#include "sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROW1 "0190a000-0000-7000-8000-000000000001"
#define ROW2 "0190a000-0000-7000-8000-000000000002"
#define ROW3 "0190a000-0000-7000-8000-000000000003"
#define HLC "000000000100.0000.nodeA"

static const sync_scope scope = {"nodeA", "office-1", "la-1"};
static sqlite3 *hub, *node;
static char *digest0;

/* Captured changesets, in the order they were made. */
static unsigned char *cs[32];
static size_t cs_len[32];
static int ncs;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_apply setup: %s\n", what);
	abort();
}

static void write_node(const char *sql)
{
	capture c;
	int64_t seq = 0;
	sqlite3_stmt *st;

	if (capture_begin(&c, node) != 0 || db_exec(node, sql) != 0 ||
	    capture_commit(&c, HLC, "staff-1", &seq) != 0 || seq <= 0)
		die(sql);
	if (db_prepare(node, &st, "SELECT changeset FROM outbox WHERE seq=?1") != 0)
		die("outbox");
	sqlite3_bind_int64(st, 1, seq);
	if (sqlite3_step(st) != SQLITE_ROW || ncs >= 32)
		die("outbox row");
	cs_len[ncs] = (size_t)sqlite3_column_bytes(st, 0);
	cs[ncs] = malloc(cs_len[ncs]);
	if (cs[ncs] == NULL)
		die("memory");
	memcpy(cs[ncs], sqlite3_column_blob(st, 0), cs_len[ncs]);
	ncs++;
	sqlite3_finalize(st);
}

static void push_last(void)
{
	sync_entry e = {ncs, HLC, "staff-1", cs[ncs - 1], cs_len[ncs - 1]};
	sync_apply_result res;

	if (db_exec(hub, "BEGIN") != 0 || sync_hub_apply(hub, &scope, &e, &res) != 0 ||
	    db_exec(hub, "COMMIT") != 0)
		die("push");
}

static char *digest(void)
{
	cJSON *d = sync_digest(hub, NULL);
	char *s;

	if (d == NULL)
		die("digest");
	s = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	return s;
}

#define INS(id, office, la)                                                                   \
	"INSERT INTO checkins(id, office_id, local_area_id, visitor_name, phone, arrived_at,"    \
	" visit_date, updated_hlc) VALUES('" id "', '" office "', '" la "', 'Ana', '555-0100',"  \
	" 1700000000000, '2026-01-05', '" HLC "');"

static void setup(void)
{
	if (sqlite3_open(":memory:", &hub) != SQLITE_OK || schema_migrate(hub) != 0 ||
	    sync_hub_migrate(hub) != 0)
		die("hub");
	if (sqlite3_open(":memory:", &node) != SQLITE_OK || schema_migrate(node) != 0 ||
	    capture_migrate(node) != 0)
		die("node");
	/* pushed: three checkins with reasons and events, then a delete */
	write_node(INS(ROW1, "office-1", "la-1") INS(ROW2, "office-1", "la-1") INS(ROW3, "office-1", "la-1")
		   "INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id) VALUES"
		   " ('r1', '" ROW1 "', 'g1', 'office-1');"
		   "INSERT INTO checkin_events(id, checkin_id, office_id, action, to_status, at, hlc)"
		   " VALUES('e1', '" ROW1 "', 'office-1', 'create', 'waiting', 1, '" HLC "');");
	push_last();
	write_node("DELETE FROM checkins WHERE id='" ROW2 "'");
	push_last();
	/* not pushed: seeds for the corpus */
	write_node("UPDATE checkins SET status='called', called_at=1700000001000, note='hi',"
		   " updated_hlc='000000000200.0000.nodeA' WHERE id='" ROW1 "'");
	write_node("DELETE FROM checkins WHERE id='" ROW3 "'");
	write_node("INSERT INTO checkins(id, office_id, local_area_id, visitor_name, arrived_at,"
		   " visit_date) VALUES('" ROW2 "', 'office-1', 'la-1', 'Back', 1, '2026-01-06');"
		   "UPDATE checkins SET email='a@b.example', virtual=1, updated_hlc='000000000300.0001.nodeA'"
		   " WHERE id='" ROW3 "'");
	write_node("UPDATE checkin_events SET to_status='done' WHERE id='e1'");
	write_node("INSERT INTO offices(id, local_area_id, name) VALUES('o9', 'la-1', 'X')");
	write_node(INS("0190a000-0000-7000-8000-000000000009", "office-2", "la-2"));
	write_node("INSERT INTO checkin_reasons(id, checkin_id, reason_id, office_id) VALUES"
		   " ('r2', '" ROW1 "', 'g2', 'office-1'), ('r3', '" ROW1 "', 'g3', 'office-1');"
		   "INSERT INTO checkin_events(id, checkin_id, office_id, action, from_status, to_status,"
		   " note, at, hlc) VALUES('e2', '" ROW1 "', 'office-1', 'call', 'waiting', 'called',"
		   " 'r\xc3\xa9sum\xc3\xa9', 2.5, '" HLC "');");
	digest0 = digest();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sync_apply_result res;
	unsigned char *p;
	sync_entry e = {7, HLC, "staff-1", NULL, size};

	if (hub == NULL)
		setup();
	if (size > SYNC_MAX_CHANGESET)
		return 0;
	p = malloc(size ? size : 1); /* exact size: ASan sees over-reads */
	if (p == NULL)
		return 0;
	memcpy(p, data, size);
	e.changeset = p;
	if (db_exec(hub, "BEGIN") != 0)
		abort();
	if (sync_hub_apply(hub, &scope, &e, &res) != 0)
		abort(); /* hostile input must be applied or quarantined */
	if (!res.applied) {
		char *d = digest();
		if (strcmp(d, digest0) != 0)
			abort(); /* a refused entry left something behind */
		free(d);
	}
	if (db_exec(hub, "ROLLBACK") != 0)
		abort();
	free(p);
	return 0;
}

#ifdef FUZZ_GEN_SEEDS
#include "sync/frame.h"

static void put(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		die(path);
}

int main(int argc, char **argv)
{
	char name[64];

	if (argc != 3) {
		fprintf(stderr, "usage: %s APPLY_CORPUS_DIR FRAME_CORPUS_DIR\n", argv[0]);
		return 2;
	}
	setup();
	for (int i = 0; i < ncs; i++) {
		snprintf(name, sizeof name, "seed-%02d", i);
		put(argv[1], name, cs[i], cs_len[i]);
	}
	/* frames of 1..3 entries: mode byte 1 = body (the target appends the
	 * checksum), 0 = the whole frame with its checksum */
	for (int k = 0; k + 2 < ncs; k++) {
		buf b = BUF_INIT(SYNC_MAX_BATCH_BYTES);
		frame_writer w;
		int rc = 0;

		buf_put_u8(&b, (uint8_t)(k % 3 == 0 ? 0 : 1), &rc);
		frame_begin(&w, &b, (uint32_t)schema_version());
		for (int j = 0; j <= k % 3; j++) {
			sync_entry e = {k + j + 1, HLC, j ? NULL : "staff-1", cs[k + j], cs_len[k + j]};
			if (frame_add(&w, &e) != 0)
				die("frame");
		}
		if (frame_end(&w) != 0 || rc != 0)
			die("frame end");
		snprintf(name, sizeof name, "seed-%02d", k);
		/* mode 1 seeds drop the trailer the target recomputes */
		put(argv[2], name, b.data, b.data[0] ? b.len - 32 : b.len);
		buf_release(&b);
	}
	return 0;
}
#endif
