/*
 * tool_status.c - `outpost-sync status`: how far behind this node is, read
 * from its own database (works with the hub down): pending outbox entries
 * and the age of the oldest, acked seq against the hub's head, the pull
 * cursor, last contact, the clock offset to the hub, quarantined entries.
 */
#include "sync/tool.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int64_t num(const cJSON *o, const char *name, int *have)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	*have = cJSON_IsNumber(v);
	return *have ? (int64_t)v->valuedouble : 0;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void when(const cJSON *o, const char *name, uint64_t now, char *out, size_t n)
{
	int have;
	int64_t v = num(o, name, &have);
	char age[32];

	if (!have || v <= 0) {
		snprintf(out, n, "never");
		return;
	}
	tool_age((int64_t)now - v, age, sizeof age);
	{
		time_t s = (time_t)(v / 1000);
		struct tm tm;
		char ts[32];
		localtime_r(&s, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(out, n, "%s (%s)", ts, age);
	}
}

/* ierr: why the identity was not loaded (enrolled 0); present: sync.json
 * exists, so it is not "not enrolled" but a file the node cannot use (its
 * mode, its content), said as it is. */
static void human(const sync_identity *id, int enrolled, int present, const char *ierr,
		  const cJSON *o, uint64_t now)
{
	char a[160], b[96];
	int h1, h2, h3;
	int64_t pending = num(o, "pending", &h1), bytes = num(o, "pending_bytes", &h2);
	int64_t v, head, cursor;
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "quarantined");
	const cJSON *le = cJSON_GetObjectItemCaseSensitive(o, "last_error");

	if (enrolled)
		printf("node          %s (office %s, Local Area %s)\nhub           %s\n",
		       id->id_node_id, id->id_office_id, id->id_local_area_id, id->id_hub_url);
	else if (present)
		printf("node          enrollment unusable: %s\n", ierr);
	else
		printf("node          not enrolled (run outpost-sync enroll --hub URL --code CODE)\n");
	if (pending > 0) {
		v = num(o, "oldest_pending_age_ms", &h3);
		tool_age(v, a, sizeof a);
		printf("pending       %" PRId64 " change%s (%" PRId64 " bytes), oldest %s\n", pending,
		       pending == 1 ? "" : "s", bytes, a);
	} else {
		printf("pending       none\n");
	}
	v = num(o, "acked_seq", &h1);
	head = num(o, "head_seq", &h2);
	cursor = num(o, "cursor", &h3);
	if (h1)
		printf("acked         %" PRId64 " (last local change the hub confirmed)\n", v);
	else
		printf("acked         none yet (nothing pushed since enrollment)\n");
	{
		const cJSON *snap = cJSON_GetObjectItemCaseSensitive(o, "snapshot_table");
		if (h3)
			snprintf(a, sizeof a, "%" PRId64, cursor);
		else if (cJSON_IsString(snap) && snap->valuestring)
			snprintf(a, sizeof a, "none (a snapshot is under way, at table '%.64s')",
				 snap->valuestring);
		else
			snprintf(a, sizeof a, "none (a snapshot comes first)");
	}
	snprintf(b, sizeof b, h2 ? "%" PRId64 : "unknown", head);
	printf("pulled to     %s of hub head %s%s\n", a, b,
	       h2 && h3 && cursor >= head ? " (caught up)" : "");
	when(o, "last_contact_ms", now, a, sizeof a);
	printf("last contact  %s\n", a);
	when(o, "last_pull_ms", now, a, sizeof a);
	printf("last pull     %s\n", a);
	v = num(o, "clock_offset_ms", &h1);
	if (h1)
		printf("clock         hub is %.1f s %s this computer%s\n", llabs((long long)v) / 1000.0,
		       v >= 0 ? "ahead of" : "behind",
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "clock_skew_warning"))
			       ? "  WARNING: set this computer's clock"
			       : "");
	else
		printf("clock         offset unknown (no contact yet)\n");
	printf("quarantined   %d\n", (int)cJSON_GetNumberValue(
					     cJSON_GetObjectItemCaseSensitive(o, "quarantined_count")));
	for (int i = 0; i < cJSON_GetArraySize(q) && i < 10; i++) {
		const cJSON *e = cJSON_GetArrayItem(q, i);
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(e, "reason");
		printf("  seq %-8lld %s\n",
		       (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "seq")),
		       cJSON_IsString(r) ? r->valuestring : "");
	}
	if (cJSON_IsString(le))
		printf("last error    %s\n", le->valuestring);
}

int cmd_status(tool *t)
{
	sync_identity id;
	sqlite3 *db = NULL;
	cJSON *o = NULL;
	char err[512], ierr[512];
	uint64_t now = wall_ms();
	char path[PATH_MAX + 32];
	struct stat sb;
	int enrolled, present, rc;

	enrolled = sync_identity_load(t->t_data, &id, ierr, sizeof ierr) == 0;
	snprintf(path, sizeof path, "%s/%s", t->t_data, SYNC_IDENTITY_FILE);
	present = lstat(path, &sb) == 0;
	rc = sync_client_db_open(t->t_data, &db, err, sizeof err);
	if (rc != 0) {
		if (!enrolled)
			return tool_fail(t, SYNC_E_CONFIG, ierr);
		sync_identity_wipe(&id);
		return tool_fail(t, rc, err);
	}
	if (enrolled && sync_client_adopt(db, &id, NULL) != 0) {
		db_close(db);
		sync_identity_wipe(&id);
		return tool_fail(t, SYNC_E_OTHER, "cannot record the sync identity in node.db");
	}
	o = sync_client_status_json(db, now);
	db_close(db);
	if (o == NULL) {
		sync_identity_wipe(&id);
		return tool_fail(t, SYNC_E_OTHER, "cannot read the replication state from node.db");
	}
	if (t->t_json) {
		cJSON_AddBoolToObject(o, "ok", enrolled);
		cJSON_AddBoolToObject(o, "enrolled", enrolled);
		if (!enrolled) {
			/* The reason, as the tool's errors give it (tool_fail). */
			cJSON_AddStringToObject(o, "error", sync_strerror(SYNC_E_CONFIG));
			cJSON_AddStringToObject(o, "message", ierr);
			cJSON_AddNumberToObject(o, "exit_code", EXIT_TOOL_CONFIG);
		}
		if (enrolled) {
			cJSON_AddStringToObject(o, "hub_url", id.id_hub_url);
			cJSON_AddStringToObject(o, "node_id", id.id_node_id);
			cJSON_AddStringToObject(o, "office_id", id.id_office_id);
			cJSON_AddStringToObject(o, "local_area_id", id.id_local_area_id);
		}
		cJSON_AddNumberToObject(o, "now_ms", (double)now);
		tool_print_json(o);
		o = NULL;
	} else {
		human(&id, enrolled, present, ierr, o, now);
	}
	cJSON_Delete(o);
	sync_identity_wipe(&id);
	if (!enrolled) {
		fprintf(stderr, "outpost-sync: %s\n", ierr);
		return EXIT_TOOL_CONFIG;
	}
	return EXIT_TOOL_OK;
}
