/*
 * hub_import.c - `outpost-hub import FILE`: ingest a bundle written by
 * `outpost-sync export` (the offline transport: a week of outbox on a USB
 * stick).  Byte by byte, integers big-endian:
 *
 *   offset  size  field
 *   0       4     magic "OPX1"
 *   4       2     node id length N (u16, 1..63)
 *   6       N     node id (ASCII)
 *   6+N     32    HMAC-SHA256(node secret, frame bytes)
 *   38+N    ...   the push frame of sync/frame.h, to the end of the file
 *
 * The HMAC is checked with the node's secret before anything else; a
 * revoked or unknown node is refused.  The frame then goes through
 * hub_ingest(), the very code a network push runs, so replay, gaps, schema
 * versions, validation and quarantine behave the same.
 */
#include "hub/hub.h"
#include "lib/crypto.h"
#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int read_file(const char *path, unsigned char **out, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct stat sb;
	unsigned char *p = NULL;
	int ret = -1;

	*out = NULL;
	*len = 0;
	if (fp == NULL) {
		fprintf(stderr, "outpost-hub: cannot open '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "outpost-hub: '%s' is not a regular file\n", path);
		goto out;
	}
	if (sb.st_size > HUB_MAX_IMPORT) {
		fprintf(stderr, "outpost-hub: '%s' is larger than %d bytes\n", path,
			HUB_MAX_IMPORT);
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

int hub_import_file(sqlite3 *db, const char *file, int json_out)
{
	unsigned char *data = NULL, mac[32];
	size_t len = 0, idlen;
	char node_id[64];
	hub_node n;
	hub_ingest_result res;
	int ret = 1, rc;

	memset(&res, 0, sizeof res);
	if (read_file(file, &data, &len) != 0)
		return 1;
	if (len < 4 + 2 || memcmp(data, HUB_BUNDLE_MAGIC, 4) != 0) {
		fprintf(stderr,
			"outpost-hub: '%s' is not an Outpost bundle (no OPX1 header)\n",
			file);
		goto out;
	}
	idlen = ((size_t)data[4] << 8) | data[5];
	if (idlen == 0 || idlen >= sizeof node_id || len < 6 + idlen + 32) {
		fprintf(stderr, "outpost-hub: '%s' has a malformed bundle header\n",
			file);
		goto out;
	}
	memcpy(node_id, data + 6, idlen);
	node_id[idlen] = '\0';
	if (strlen(node_id) != idlen) {
		fprintf(stderr, "outpost-hub: '%s' has a malformed node id\n", file);
		goto out;
	}
	rc = hub_node_get(db, node_id, &n);
	if (rc < 0)
		goto out;
	if (rc == 1 || n.hn_revoked) {
		fprintf(stderr, "outpost-hub: bundle '%s' comes from %s node '%s'\n",
			file, rc == 1 ? "an unknown" : "a revoked", node_id);
		log_info("import of '%s' refused: node %s %s", file, node_id,
			 rc == 1 ? "unknown" : "revoked");
		goto out;
	}
	{
		const unsigned char *frame = data + 6 + idlen + 32;
		size_t flen = len - 6 - idlen - 32;

		crypto_hmac_sha256(n.hn_secret, sizeof n.hn_secret, frame, flen, mac);
		if (hub_ct_cmp(mac, data + 6 + idlen, 32) != 0) {
			fprintf(
			    stderr,
			    "outpost-hub: bundle '%s' has a bad signature for node '%s' "
			    "(altered, or not from that node)\n",
			    file, node_id);
			log_info("import of '%s' refused: bad signature (node %s)", file,
				 node_id);
			goto out;
		}
		hub_ingest(db, &n, frame, flen, &res);
	}
	if (res.hi_status == 200) {
		if (json_out) {
			cJSON *o = cJSON_CreateObject();
			char *s;
			cJSON_AddStringToObject(o, "node_id", node_id);
			cJSON_AddNumberToObject(o, "acked_seq", (double)res.hi_acked_seq);
			cJSON_AddNumberToObject(o, "applied", res.hi_applied);
			cJSON_AddNumberToObject(o, "skipped", res.hi_skipped);
			cJSON_AddItemToObject(o, "quarantined", res.hi_quarantined);
			res.hi_quarantined = NULL;
			cJSON_AddNumberToObject(o, "conflicts", res.hi_conflicts);
			s = cJSON_PrintUnformatted(o);
			if (s)
				printf("%s\n", s);
			free(s);
			cJSON_Delete(o);
		} else {
			printf("imported '%s' from node %s: applied %d, skipped %d, "
			       "quarantined %d, "
			       "conflicts %d; acked seq %" PRId64 "\n",
			       file, node_id, res.hi_applied, res.hi_skipped,
			       cJSON_GetArraySize(res.hi_quarantined), res.hi_conflicts,
			       res.hi_acked_seq);
		}
		ret = 0;
	} else if (res.hi_status == 409) {
		fprintf(stderr,
			"outpost-hub: cannot import '%s': %s; the hub has node %s up to "
			"seq %" PRId64 ": export again from seq %" PRId64 "\n",
			file, res.hi_error, node_id, res.hi_expected_seq - 1,
			res.hi_expected_seq);
	} else {
		fprintf(stderr, "outpost-hub: cannot import '%s': %s\n", file,
			res.hi_error);
	}
out:
	hub_ingest_release(&res);
	free(data);
	return ret;
}
