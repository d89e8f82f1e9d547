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
 */
#include "hub/hub.h"
#include "lib/log.h"

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
		       const char **result)
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
	rc = sync_bundle_decode(data, len, n->hn_secret, node_id, frame, flen, &why);
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

/*
 * An import, taken or refused, in the hub's audit trail (hub_audit_events,
 * actor "cli"): the node it came from, the file, what became of it and its
 * counts - a forged or foreign bundle is a security event as much as a
 * refused push is.  A failure to record is logged, the import stands.
 */
static void import_audit(sqlite3 *db, const char *file, const char *node_id, const char *result,
			 const hub_ingest_result *res)
{
	cJSON *o = cJSON_CreateObject();
	char *detail = NULL;

	if (o && cJSON_AddStringToObject(o, "file", file) && cJSON_AddStringToObject(o, "result", result) &&
	    (res == NULL ||
	     (cJSON_AddNumberToObject(o, "applied", res->hi_applied) &&
	      cJSON_AddNumberToObject(o, "skipped", res->hi_skipped) &&
	      cJSON_AddNumberToObject(o, "quarantined", cJSON_GetArraySize(res->hi_quarantined)) &&
	      cJSON_AddNumberToObject(o, "acked_seq", (double)res->hi_acked_seq))))
		detail = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (detail == NULL || hub_audit(db, "cli", "bundle.import", node_id[0] ? node_id : NULL, detail) != 0)
		log_warnx("cannot record the import of '%s' in the audit trail", file);
	cJSON_free(detail);
}

int hub_import_file(sqlite3 *db, const char *file, int json_out)
{
	unsigned char *data = NULL;
	const unsigned char *frame;
	size_t len = 0, flen;
	const char *node_id, *result = NULL;
	char sender[64];
	hub_node n;
	hub_ingest_result res;
	int ret = 1;

	memset(&res, 0, sizeof res);
	if (read_file(file, &data, &len) != 0) {
		result = "unreadable";
		goto out;
	}
	if (import_open(db, file, data, len, &n, &frame, &flen, sender, &result) != 0) {
		import_audit(db, file, sender, result, NULL);
		goto out;
	}
	node_id = n.hn_id;
	hub_ingest(db, &n, frame, flen, &res);
	hub_note_gap(db, node_id, &res);
	result = res.hi_status == 200 ? "imported" : res.hi_status == 409 ? "out of order" : "error";
	import_audit(db, file, node_id, result, &res);
	if (res.hi_status == 200) {
		if (json_out) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddBoolToObject(o, "ok", 1);
			cJSON_AddStringToObject(o, "node_id", node_id);
			cJSON_AddNumberToObject(o, "acked_seq", (double)res.hi_acked_seq);
			cJSON_AddNumberToObject(o, "applied", res.hi_applied);
			cJSON_AddNumberToObject(o, "skipped", res.hi_skipped);
			cJSON_AddItemToObject(o, "quarantined", res.hi_quarantined);
			res.hi_quarantined = NULL;
			cJSON_AddNumberToObject(o, "conflicts", res.hi_conflicts);
			json_print_out(o, 0);
		} else {
			printf("imported '%s' from node %s: applied %d, skipped %d, "
			       "quarantined %d, "
			       "conflicts %d; acked seq %" PRId64 "\n",
			       file, node_id, res.hi_applied, res.hi_skipped,
			       cJSON_GetArraySize(res.hi_quarantined), res.hi_conflicts,
			       res.hi_acked_seq);
		}
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
