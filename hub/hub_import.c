/*
 * hub_import.c - `outpost-hub import FILE`: ingest a bundle written by
 * `outpost-sync export` (the offline transport: a week of outbox on a USB
 * stick).  The format and its one codec are sync/bundle.c's
 * (sync_bundle_sender, sync_bundle_decode in sync/sync.h).
 *
 * The HMAC is checked with the node's secret before anything else; a
 * revoked or unknown node is refused.  The frame then goes through
 * hub_ingest(), the very code a network push runs, so replay, gaps, schema
 * versions, validation and quarantine behave the same.
 *
 * `outpost-hub export-office NODE_ID --out FILE` is the return trip: the
 * pull pages that node would get (sync_hub_pull, with the pull route's
 * checks), sealed for it alone for `outpost-sync import` at its office.
 * It starts from what the office has: the pull cursor its bundle reported
 * (recorded here at its import, bundle_cursors) when that is newer than its
 * last pull.
 */
#include "hub/hub.h"
#include "lib/crypto.h"
#include "lib/fault.h"
#include "lib/log.h"
#include "model/schema.h"
#include "sync/frame.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_file(const char *path, unsigned char **out, size_t *len)
{
	/* O_NONBLOCK: a FIFO given by mistake is refused below, not waited on */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	FILE *fp = fd < 0 ? NULL : fdopen(fd, "rb");
	struct stat sb;
	unsigned char *p = NULL;
	int ret = -1;

	*out = NULL;
	*len = 0;
	if (fp == NULL && fd >= 0)
		close(fd);
	if (fp == NULL) {
		fprintf(stderr, "outpost-hub: cannot open '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "outpost-hub: '%s' is not a regular file\n", path);
		goto out;
	}
	if (sb.st_size > SYNC_BUNDLE_MAX) {
		fprintf(stderr, "outpost-hub: '%s' is larger than %d bytes\n", path,
			SYNC_BUNDLE_MAX);
		goto out;
	}
	p = malloc((size_t)sb.st_size + 1);
	if (p == NULL) {
		fprintf(stderr, "outpost-hub: out of memory reading '%s'\n", path);
		goto out;
	}
	if (fread(p, 1, (size_t)sb.st_size, fp) != (size_t)sb.st_size) {
		fprintf(stderr, "outpost-hub: cannot read '%s'\n", path);
		goto out;
	}
	*out = p;
	*len = (size_t)sb.st_size;
	p = NULL;
	ret = 0;
out:
	free(p);
	fclose(fp);
	return ret;
}

/* The bundle's frame, checked against its sender's secret; 0, or -1 after
 * telling why on stderr (unknown or revoked node, malformed, bad MAC). */
static int import_open(sqlite3 *db, const char *file, unsigned char *data, size_t len,
		       hub_node *n, const unsigned char **frame, size_t *flen, char node_id[64],
		       int64_t *pull_cursor, const char **result)
{
	const char *why = NULL;
	int rc;

	node_id[0] = '\0';
	*result = "not a bundle";
	if (sync_bundle_sender(data, len, node_id, &why) != 0) {
		node_id[0] = '\0';
		fprintf(stderr, "outpost-hub: '%s': %s\n", file, why);
		return -1;
	}
	*result = "error";
	rc = hub_node_get(db, node_id, n);
	if (rc < 0)
		return -1;
	*result = rc == DB_ABSENT ? "unknown node" : "revoked node";
	if (rc == DB_ABSENT || n->hn_revoked) {
		fprintf(stderr, "outpost-hub: bundle '%s' comes from %s node '%s'\n",
			file, rc == DB_ABSENT ? "an unknown" : "a revoked", node_id);
		log_info("import of '%s' refused: node %s %s", file, node_id,
			 rc == DB_ABSENT ? "unknown" : "revoked");
		return -1;
	}
	rc = sync_bundle_decode(data, len, n->hn_secret, node_id, pull_cursor, frame, flen, &why);
	*result = rc == SYNC_BUNDLE_DAMAGED	? "damaged"
		  : rc == SYNC_BUNDLE_MALFORMED ? "malformed"
						: "bad signature";
	if (rc == SYNC_BUNDLE_MALFORMED) {
		fprintf(stderr, "outpost-hub: bundle '%s' from node '%s': %s\n", file, node_id, why);
		log_info("import of '%s' refused: malformed (node %s)", file, node_id);
		return -1;
	}
	if (rc == SYNC_BUNDLE_DAMAGED) {
		fprintf(stderr, "outpost-hub: bundle '%s' from node '%s' is %s\n", file, node_id,
			why);
		log_info("import of '%s' refused: truncated or damaged (node %s)", file, node_id);
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr,
			"outpost-hub: bundle '%s' has a bad signature for node '%s' "
			"(altered, or not from that node): %s\n",
			file, node_id, why);
		log_info("import of '%s' refused: bad signature (node %s)", file, node_id);
		return -1;
	}
	*result = "imported";
	return 0;
}

/* What this import quarantined itself: the entries of res's quarantined
 * list but those the hub held before it (hi_held, from an earlier import or
 * push, which the list reports again as a push's reply does), a new array;
 * NULL out of memory. */
static cJSON *import_quarantined_now(const hub_ingest_result *res)
{
	cJSON *now = cJSON_CreateArray(), *q, *h;

	cJSON_ArrayForEach(q, res->hi_quarantined) {
		int64_t seq = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(q, "seq"));
		int held = 0;

		cJSON_ArrayForEach(h, res->hi_held)
			held |= (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(h, "seq")) == seq;
		if (now != NULL && !held && !cJSON_AddItemToArray(now, cJSON_Duplicate(q, 1))) {
			cJSON_Delete(now);
			now = NULL;
		}
	}
	return now;
}

/*
 * An import, taken or refused, in the hub's audit trail (hub_audit_events,
 * actor "cli"): the node it came from, the file, what became of it and its
 * counts - a forged or foreign bundle is a security event as much as a
 * refused push is ("quarantined": by this import; "still_quarantined": held
 * before it, reported again).  A failure to record is logged, the import
 * stands.
 */
static void import_audit(sqlite3 *db, const char *file, const char *node_id, const char *result,
			 const hub_ingest_result *res, int64_t pull_cursor)
{
	cJSON *o = cJSON_CreateObject();
	char *detail = NULL;
	int held = res ? cJSON_GetArraySize(res->hi_held) : 0;

	if (o && cJSON_AddStringToObject(o, "file", file) && cJSON_AddStringToObject(o, "result", result) &&
	    (res == NULL ||
	     (cJSON_AddNumberToObject(o, "applied", res->hi_applied) &&
	      cJSON_AddNumberToObject(o, "skipped", res->hi_skipped) &&
	      cJSON_AddNumberToObject(o, "quarantined",
				      cJSON_GetArraySize(res->hi_quarantined) - held) &&
	      (held == 0 || cJSON_AddNumberToObject(o, "still_quarantined", held)) &&
	      cJSON_AddNumberToObject(o, "acked_seq", (double)res->hi_acked_seq) &&
	      (pull_cursor < 0 || cJSON_AddNumberToObject(o, "pull_cursor", (double)pull_cursor)))))
		detail = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (detail == NULL || hub_audit(db, "cli", "bundle.import", node_id[0] ? node_id : NULL, detail) != 0)
		log_warnx("cannot record the import of '%s' in the audit trail", file);
	cJSON_free(detail);
}

/* What the office had of the hub's changes when it wrote a bundle the hub
 * took (its pull cursor, sealed in it), and when it was imported: the
 * cursor export-office starts from while no pull is newer.  The latest
 * import's, even when lower (a PC put back from a backup has less; an
 * older bundle imported again makes an export start earlier, which is
 * harmless).  A failure is logged; the import stands. */
static void import_note_cursor(sqlite3 *db, const char *node_id, int64_t pull_cursor)
{
	if (pull_cursor < 0)
		return;
	if (db_run(db,
		   "INSERT OR REPLACE INTO bundle_cursors(node_id, cursor, imported_ms)"
		   " VALUES(?, ?, ?)",
		   "tII", node_id, pull_cursor, (int64_t)hub_now_ms()) != 0)
		log_warnx("cannot record node %s's pull cursor %" PRId64 " from its bundle",
			  node_id, pull_cursor);
}

int hub_import_file(sqlite3 *db, const char *file, int json_out)
{
	unsigned char *data = NULL;
	const unsigned char *frame;
	size_t len = 0, flen;
	const char *node_id, *result = NULL, *why;
	char sender[64];
	int64_t cursor = -1;
	hub_node n;
	hub_ingest_result res;
	frame_reader fr;
	int ret = 1, held;

	memset(&res, 0, sizeof res);
	if (read_file(file, &data, &len) != 0) {
		result = "unreadable";
		goto out;
	}
	if (import_open(db, file, data, len, &n, &frame, &flen, sender, &cursor, &result) != 0) {
		import_audit(db, file, sender, result, NULL, -1);
		goto out;
	}
	node_id = n.hn_id;
	hub_ingest(db, &n, frame, flen, &res);
	hub_note_gap(db, node_id, &res);
	if (res.hi_status == 200)
		import_note_cursor(db, node_id, cursor);
	result = res.hi_status == 200 ? "imported" : res.hi_status == 409 ? "out of order" : "error";
	import_audit(db, file, node_id, result, &res, cursor);
	if (res.hi_status == 200) {
		/* what this import did: the entries the hub held in
		 * quarantine before it are said apart, not as quarantined now */
		held = cJSON_GetArraySize(res.hi_held);
		if (json_out) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddBoolToObject(o, "ok", 1);
			cJSON_AddStringToObject(o, "node_id", node_id);
			cJSON_AddNumberToObject(o, "acked_seq", (double)res.hi_acked_seq);
			cJSON_AddNumberToObject(o, "applied", res.hi_applied);
			cJSON_AddNumberToObject(o, "skipped", res.hi_skipped);
			cJSON_AddItemToObject(o, "quarantined", import_quarantined_now(&res));
			cJSON_AddItemToObject(o, "still_quarantined", res.hi_held);
			res.hi_held = NULL;
			cJSON_AddNumberToObject(o, "conflicts", res.hi_conflicts);
			if (cursor >= 0)
				cJSON_AddNumberToObject(o, "pull_cursor", (double)cursor);
			json_print_out(o, 0);
		} else if (frame_open(&fr, frame, flen, &why) == 0 && fr.fr_count == 0) {
			/* an office's bundle of its pull cursor alone (its
			 * outbox was empty) */
			printf("imported '%s' from node %s: no changes in it (the office's outbox "
			       "was empty), applied 0; acked seq %" PRId64,
			       file, node_id, res.hi_acked_seq);
			if (cursor >= 0)
				printf("; its pull cursor %" PRId64 " recorded for export-office",
				       cursor);
			printf("\n");
		} else {
			printf("imported '%s' from node %s: applied %d, skipped %d, "
			       "quarantined %d, "
			       "conflicts %d; acked seq %" PRId64 "\n",
			       file, node_id, res.hi_applied, res.hi_skipped,
			       cJSON_GetArraySize(res.hi_quarantined) - held, res.hi_conflicts,
			       res.hi_acked_seq);
		}
		if (!json_out && held > 0)
			printf("%d entr%s from earlier imports or pushes of node %s %s still in "
			       "quarantine at the hub (not held by this import)\n",
			       held, held == 1 ? "y" : "ies", node_id, held == 1 ? "is" : "are");
		ret = 0;
	} else if (res.hi_status == 409 && res.hi_expected_seq > 0) {
		fprintf(stderr,
			"outpost-hub: cannot import '%s': %s; the hub has node %s up to "
			"seq %" PRId64 ": import the bundle files in their order (FILE, FILE.2, ...);"
			" if the hub was restored from a backup, export again at the office with"
			" 'outpost-sync export --resend --out FILE' (it adds what this hub acknowledged"
			" before) and import that\n",
			file, res.hi_error, node_id, res.hi_expected_seq - 1);
	} else {
		fprintf(stderr, "outpost-hub: cannot import '%s': %s\n", file,
			res.hi_error);
	}
out:
	if (ret != 0 && json_out) {
		/* --json answers with one object, a failure too (its reason is
		 * on stderr, as without --json) */
		cJSON *o = cJSON_CreateObject();

		cJSON_AddBoolToObject(o, "ok", 0);
		cJSON_AddStringToObject(o, "file", file);
		cJSON_AddStringToObject(o, "result", result ? result : "error");
		if (res.hi_status == 409 && res.hi_expected_seq > 0)
			cJSON_AddNumberToObject(o, "expected_seq", (double)res.hi_expected_seq);
		json_print_out(o, 0);
	}
	hub_ingest_release(&res);
	free(data);
	return ret;
}

/* ---- the return trip: `outpost-hub export-office NODE_ID --out FILE` ---------- */

/* One pages' worth of a file of the export (FILE, FILE.2, ...): the pages
 * it holds stay well under SYNC_BUNDLE_MAX, which the office reads whole.
 * A test asks for less (lib/fault.h), so a few pages take several files. */
#define EXPORT_FILE_PAGES_MAX (SYNC_BUNDLE_MAX / 2)

static size_t export_file_limit(void)
{
	int64_t n = fault_bundle_bytes();

	return n > 0 && n < EXPORT_FILE_PAGES_MAX ? (size_t)n : EXPORT_FILE_PAGES_MAX;
}

/* Rows in a page: as many as a pull asks for (fewer in a test, lib/fault.h). */
static int export_page_rows(void)
{
	int64_t n = fault_pull_rows();

	return n > 0 && n < SYNC_MAX_PULL_ROWS ? (int)n : SYNC_MAX_PULL_ROWS;
}

/*
 * The cursor to export from: *after as given (>= 0, *from "after"), else
 * what the office has: the pull cursor its latest bundle reported
 * (bundle_cursors, *from "bundle") when the hub imported that bundle after
 * the node's last pull (an office that has moved only bundles for weeks,
 * or one put back from a backup since), else the cursor it last pulled
 * from (nodes.pull_cursor, *from "pull").  Starting before what the office
 * has is harmless (its import skips a page it has; applying one again
 * changes nothing); starting after it would leave a gap its import
 * refuses.  0, or -1 after telling why (*result names the refusal).
 */
static int export_cursor(sqlite3 *db, const char *node_id, int64_t *after, const char **from,
			 const char **result)
{
	sqlite3_stmt *st = NULL;
	int64_t schema = -1, pulled = 0;
	char msg[256];

	*result = "error";
	if (db_prepare_bound(
		db, &st,
		"SELECT n.pull_cursor, n.last_pull_ms, n.schema_version, b.cursor, b.imported_ms"
		" FROM nodes n LEFT JOIN bundle_cursors b ON b.node_id=n.id WHERE n.id=?",
		"t", node_id) != 0 ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		fprintf(stderr, "outpost-hub: cannot read node %s\n", node_id);
		return -1;
	}
	pulled = sqlite3_column_type(st, 1) != SQLITE_NULL;
	*from = "after";
	if (*after < 0 && sqlite3_column_type(st, 3) != SQLITE_NULL &&
	    (!pulled || sqlite3_column_int64(st, 4) >= sqlite3_column_int64(st, 1))) {
		*after = sqlite3_column_int64(st, 3);
		*from = "bundle";
	} else if (*after < 0) {
		*after = sqlite3_column_int64(st, 0);
		*from = "pull";
	}
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		schema = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	/* As the pull route's schema gate: pages of another schema version
	 * would not apply there. */
	if (schema >= 0 && schema != schema_version()) {
		hub_schema_refusal(msg, sizeof msg, "pull", schema);
		fprintf(stderr, "outpost-hub: node %s: %s\n", node_id, msg);
		*result = "schema version";
		return -1;
	}
	if (!pulled && *after == 0) {
		fprintf(stderr,
			"outpost-hub: node %s has never pulled (its first sync takes a "
			"snapshot): it must reach the hub over the network once\n",
			node_id);
		*result = "never pulled";
		return -1;
	}
	return 0;
}

/* The pages after `after` for n into pages (up to limit bytes, at least
 * one page), in one read snapshot with the pull route's checks (the node
 * still enrolled as read, the cursor inside the retained log): 0 (*next,
 * *more), or -1 after telling why (*result names the refusal). */
static int export_pages(sqlite3 *db, const hub_node *n, int64_t after, buf *pages,
			size_t limit, int64_t *next, int *more, int *npages, const char **result)
{
	sync_scope sc = {n->hn_id, n->hn_office, n->hn_la};
	buf page = BUF_INIT(SYNC_PULL_PAGE_MAX_BYTES);
	int64_t head = -1;
	int ret = -1, cur;

	*more = 0;
	*next = after;
	*result = "error";
	if (db_exec(db, "BEGIN") != 0) {
		fprintf(stderr, "outpost-hub: cannot read the hub database\n");
		buf_release(&page);
		return -1;
	}
	cur = hub_node_current(db, n);
	if (cur != 1) {
		if (cur == 0)
			*result = "revoked node";
		fprintf(stderr,
			cur == 0 ? "outpost-hub: node %s is revoked\n"
				 : "outpost-hub: cannot read node %s\n",
			n->hn_id);
		goto out;
	}
	do {
		buf_reset(&page);
		if (hub_log_in_gap(db, after)) {
			fprintf(stderr,
				"outpost-hub: the change log no longer reaches back to "
				"node %s's cursor %" PRId64 ": the office needs a "
				"snapshot, over the network\n",
				n->hn_id, after);
			*result = "cursor in a gap";
			goto out;
		}
		if (sync_hub_pull(db, &sc, after, export_page_rows(), &page, next, &head,
				  more) != 0) {
			fprintf(stderr,
				"outpost-hub: cannot build the pages for node %s\n",
				n->hn_id);
			goto out;
		}
		if (after > head) {
			fprintf(stderr,
				"outpost-hub: node %s's cursor %" PRId64 " is past the "
				"head of the hub's change log (%" PRId64 "; a hub "
				"replaced or restored?): the office needs a snapshot, "
				"over the network\n",
				n->hn_id, after, head);
			*result = "cursor past head";
			goto out;
		}
		if (sync_hub_bundle_add_page(pages, after, *next, head, page.data,
					     page.len) != 0) {
			fprintf(stderr,
				"outpost-hub: out of memory building the bundle\n");
			goto out;
		}
		(*npages)++;
		after = *next;
	} while (*more && pages->len < limit);
	ret = 0;
out:
	db_exec(db, "COMMIT");
	buf_release(&page);
	return ret;
}

/*
 * An export, written or refused, in the hub's audit trail (actor "cli",
 * bundle.export, as an import's bundle.import): the file, what became of
 * it ("exported", or the refusal: "unknown node", "revoked node", "schema
 * version", "never pulled", "cursor in a gap", "cursor past head",
 * "error"), the cursor it started from and why ("after", "bundle",
 * "pull"), and once a file is written the pages and files.  No secret:
 * cursors and counts.  A failure to record is logged, the export stands.
 */
static void export_audit(sqlite3 *db, const char *node_id, const char *file, const char *result,
			 const char *cursor_from, int64_t after, int64_t next, int npages,
			 int files, int64_t acked)
{
	cJSON *o = cJSON_CreateObject();
	char *detail = NULL;
	int ok = o && cJSON_AddStringToObject(o, "file", file) &&
		 cJSON_AddStringToObject(o, "result", result);

	if (ok && cursor_from != NULL)
		ok = cJSON_AddNumberToObject(o, "after", (double)after) &&
		     cJSON_AddStringToObject(o, "cursor_from", cursor_from);
	if (ok && files > 0)
		ok = cJSON_AddNumberToObject(o, "next", (double)next) &&
		     cJSON_AddNumberToObject(o, "pages", npages) &&
		     cJSON_AddNumberToObject(o, "files", files) &&
		     cJSON_AddNumberToObject(o, "acked_seq", (double)acked);
	if (ok)
		detail = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (detail == NULL || hub_audit(db, "cli", "bundle.export", node_id, detail) != 0)
		log_warnx("cannot record the export for node %s in the audit trail", node_id);
	cJSON_free(detail);
}

int hub_export_office(sqlite3 *db, const char *node_id, const char *file, int64_t after,
		      int json_out)
{
	buf pages = BUF_INIT(SYNC_BUNDLE_MAX), out = BUF_INIT(SYNC_BUNDLE_MAX);
	char name[4200], err[512], *ack = NULL;
	const char *result = "error", *cursor_from = NULL;
	int64_t from = after, next = -1, acked = 0;
	int more = 1, files = 0, npages = 0, ret = 1, rc;
	hub_node n;

	memset(&n, 0, sizeof n);
	rc = hub_node_get(db, node_id, &n);
	if (rc != DB_FOUND || n.hn_revoked) {
		fprintf(stderr, "outpost-hub: %s node '%s': nothing exported\n",
			rc < 0		  ? "cannot read"
			: rc == DB_ABSENT ? "unknown"
					  : "revoked",
			node_id);
		result = rc < 0 ? "error" : rc == DB_ABSENT ? "unknown node" : "revoked node";
		goto out;
	}
	rc = export_cursor(db, node_id, &after, &cursor_from, &result);
	from = after;
	if (rc != 0)
		goto out;
	result = "error";
	hub_keys_wrap_new(db); /* no node ever pulls a plain SSN key */
	/* What the hub took from the node's outbox (an `outpost-hub import`
	 * of its bundle, or its pushes), read before the pages: they hold
	 * at least what those entries did.  The office drops those entries
	 * from its outbox first, as a push's reply makes it, and pages over
	 * the rows they touched no longer wait for its push. */
	ack = hub_node_taken_ack(db, n.hn_id, &acked);
	if (ack == NULL && acked != 0) {
		fprintf(stderr,
			"outpost-hub: cannot read what the hub took from node %s\n",
			n.hn_id);
		goto out;
	}
	while (more) {
		buf_reset(&pages);
		buf_reset(&out);
		if (sync_hub_bundle_begin(&pages, (int64_t)hub_now_ms(), ack) != 0)
			goto out;
		if (export_pages(db, &n, after, &pages, export_file_limit(), &next,
				 &more, &npages, &result) != 0)
			goto out;
		if (sync_hub_bundle_encode(&out, n.hn_id, n.hn_secret, pages.data,
					   pages.len) != 0) {
			fprintf(stderr, "outpost-hub: cannot build the bundle (out of "
					"memory?)\n");
			goto out;
		}
		if (files == 0)
			snprintf(name, sizeof name, "%s", file);
		else
			snprintf(name, sizeof name, "%s.%d", file, files + 1);
		/* (an earlier bundle for this node is superseded: this one
		 * starts where the office is, or before) */
		if (!sync_bundle_may_write(name, n.hn_id, 1)) {
			fprintf(stderr, "outpost-hub: '%s' is there and is not a bundle of the hub for"
					" node %s (another office's, or a file of another kind): left as"
					" it is, nothing written to it; export to another file name%s\n",
				name, n.hn_id, files ? " (the parts before it are written)" : "");
			result = "file in the way";
			goto out;
		}
		if (sync_bundle_write(name, out.data, out.len, err, sizeof err) != 0) {
			fprintf(stderr, "outpost-hub: %s\n", err);
			goto out;
		}
		files++;
		after = next;
	}
	result = "exported";
	log_info("exported changes %" PRId64 "..%" PRId64
		 " for node %s (%d page%s, %d file%s)",
		 from, next, n.hn_id, npages, npages == 1 ? "" : "s", files,
		 files == 1 ? "" : "s");
	if (json_out) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddStringToObject(o, "node_id", n.hn_id);
		cJSON_AddNumberToObject(o, "after", (double)from);
		cJSON_AddStringToObject(o, "cursor_from", cursor_from);
		cJSON_AddNumberToObject(o, "next", (double)next);
		cJSON_AddNumberToObject(o, "pages", npages);
		cJSON_AddNumberToObject(o, "files", files);
		cJSON_AddNumberToObject(o, "acked_seq", (double)acked);
		json_print_out(o, 0);
	} else {
		printf("exported the hub's changes %" PRId64 "..%" PRId64
		       " for node %s to %s%s\n",
		       from, next, n.hn_id, file,
		       files > 1
			   ? " and its numbered continuations (import them in order)"
			   : "");
		if (strcmp(cursor_from, "bundle") == 0)
			printf("from the cursor the office's latest bundle reported (imported "
			       "here after its last pull)\n");
		if (acked > 0)
			printf("it acknowledges the office's changes up to %" PRId64
			       ": they leave its outbox when it is imported\n",
			       acked);
		printf("at the office: outpost-sync import FILE --data DIR\n");
	}
	ret = 0;
out:
	export_audit(db, node_id, file, result, cursor_from, from, next, npages, files, acked);
	cJSON_free(ack);
	crypto_wipe(n.hn_secret, sizeof n.hn_secret);
	buf_release(&pages);
	buf_release(&out);
	return ret;
}
