/*
 * tool_export.c - `outpost-sync export --out FILE`: the pending outbox as a
 * signed bundle (layout in sync/bundle.c) for `outpost-hub import FILE`,
 * when the network is down for longer than anyone wants to wait.  Needs no
 * hub; the outbox is left as it is, and the next push after the import is
 * skipped by the hub as a replay and then dropped here.  With an empty
 * outbox the bundle carries the office's pull cursor alone, for the hub's
 * export-office to start there.  The parts of an
 * earlier export to the same name that this one does not replace are
 * removed by sync_bundle_export and named here, so that no stale part is
 * carried to the hub.  `outpost-sync import FILE` takes the return trip:
 * the hub's acknowledgement of this node's outbox `outpost-hub
 * export-office` sealed with it, applied as a push's reply is, then the
 * pull pages, applied as a pull applies them.
 */
#include "lib/hlc.h"
#include "sync/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The name of part k of the export to path: path itself, then path.2, ... */
static void part_name(const char *path, int k, char *out, size_t n)
{
	if (k <= 1)
		snprintf(out, n, "%s", path);
	else
		snprintf(out, n, "%s.%d", path, k);
}

/* What became of an earlier export's parts (sync_bundle_export removes
 * them once this one's are on the disk), in words. */
static void print_stale(const char *path, const sync_bundle_stats *bs)
{
	char a[4200], b[4200];

	if (bs->bs_stale_from > 0) {
		part_name(path, bs->bs_stale_from, a, sizeof a);
		part_name(path, bs->bs_stale_to, b, sizeof b);
		if (bs->bs_stale_to == bs->bs_stale_from)
			printf("removed %s, left by an earlier export", a);
		else
			printf("removed %s %s %s, left by an earlier export", a,
			       bs->bs_stale_to == bs->bs_stale_from + 1 ? "and" : "...", b);
		printf(bs->bs_files ? "\n" : ": there is nothing to carry to the hub\n");
	}
	if (bs->bs_left > 0) {
		part_name(path, bs->bs_left, a, sizeof a);
		if (bs->bs_left_resend)
			printf("left %s as it is: this office PC's --resend export, not one a plain "
			       "export replaces (import it at the hub, then remove it)%s\n",
			       a, bs->bs_files ? "; not a part of this export" : "");
		else
			printf("left %s as it is: not an Outpost bundle of this office PC%s\n", a,
			       bs->bs_files ? " (not a part of this export: do not import it)" : "");
	}
}

int cmd_export(tool *t)
{
	sync_identity id;
	sqlite3 *db = NULL;
	sync_bundle_stats bs;
	char err[512];
	int rc, ex;

	if (t->t_out == NULL)
		return tool_usage(t, "export needs --out FILE");
	rc = sync_identity_load(t->t_data, &id, err, sizeof err);
	if (rc != 0)
		return tool_fail(t, rc, err);
	rc = sync_client_db_open(t->t_data, &db, err, sizeof err);
	if (rc == 0 && sync_client_adopt(db, &id, NULL) != 0) {
		snprintf(err, sizeof err, "cannot record the sync identity in node.db");
		rc = SYNC_E_OTHER;
	}
	if (rc == 0)
		rc = sync_bundle_export(db, &id, t->t_out, t->t_resend, &bs, err, sizeof err);
	if (rc != 0) {
		ex = tool_fail(t, rc, err);
		goto out;
	}
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject(), *files = cJSON_CreateArray();
		char name[4200];
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddNumberToObject(o, "entries", (double)bs.bs_entries);
		cJSON_AddNumberToObject(o, "bytes", (double)bs.bs_bytes);
		if (bs.bs_files > 0 && bs.bs_cursor >= 0)
			cJSON_AddNumberToObject(o, "pull_cursor", (double)bs.bs_cursor);
		if (bs.bs_entries) {
			cJSON_AddNumberToObject(o, "first_seq", (double)bs.bs_first_seq);
			cJSON_AddNumberToObject(o, "last_seq", (double)bs.bs_last_seq);
		}
		for (int i = 0; i < bs.bs_files; i++) {
			part_name(t->t_out, i + 1, name, sizeof name);
			cJSON_AddItemToArray(files, cJSON_CreateString(name));
		}
		cJSON_AddItemToObject(o, "files", files);
		files = cJSON_AddArrayToObject(o, "removed");
		for (int k = bs.bs_stale_from; k > 0 && k <= bs.bs_stale_to; k++) {
			part_name(t->t_out, k, name, sizeof name);
			cJSON_AddItemToArray(files, cJSON_CreateString(name));
		}
		if (bs.bs_left > 0) {
			part_name(t->t_out, bs.bs_left, name, sizeof name);
			cJSON_AddStringToObject(o, bs.bs_left_resend ? "left_resend_bundle"
								     : "left_not_a_bundle",
						name);
		}
		tool_print_json(o);
	} else if (bs.bs_entries == 0 && bs.bs_files == 0) {
		printf("nothing to export: no pending changes (no file written)\n");
		print_stale(t->t_out, &bs);
		if (bs.bs_left == 1 && bs.bs_cursor >= 0)
			printf("to tell the hub this office's pull cursor, export to another "
			       "file name\n");
	} else if (bs.bs_entries == 0) {
		printf("no pending changes: wrote %s with this office's pull cursor (%" PRId64
		       ") alone, %llu bytes, for the hub's export-office to start there\n",
		       t->t_out, bs.bs_cursor, (unsigned long long)bs.bs_bytes);
		print_stale(t->t_out, &bs);
		printf("at the hub: outpost-hub import FILE --data HUBDIR\n");
	} else {
		printf("exported %" PRId64 " change%s (outbox %" PRId64 "..%" PRId64 ", %llu bytes) "
		       "to %s%s\n",
		       bs.bs_entries, bs.bs_entries == 1 ? "" : "s", bs.bs_first_seq, bs.bs_last_seq,
		       (unsigned long long)bs.bs_bytes, t->t_out,
		       bs.bs_files > 1 ? " and its numbered continuations" : "");
		if (bs.bs_files == 2)
			printf("import %s, then %s.2, in that order\n", t->t_out, t->t_out);
		else if (bs.bs_files > 2)
			printf("import %s, then %s.2 ... %s.%d in that order\n", t->t_out, t->t_out,
			       t->t_out, bs.bs_files);
		print_stale(t->t_out, &bs);
		printf("at the hub: outpost-hub import FILE --data HUBDIR\n");
	}
	ex = EXIT_TOOL_OK;
out:
	db_close(db);
	sync_identity_wipe(&id);
	return ex;
}

/* ---- `outpost-sync import FILE`: the hub's bundle for this office ------------ */

#define IMPORT_MAX_REFETCH                                                               \
	8 /* a push landing under a page: applied again, then give up */

/* The whole of a regular file (not a FIFO, at most SYNC_BUNDLE_MAX bytes)
 * into *out (malloc'd).  0, or SYNC_E_OTHER with err filled. */
static int read_bundle(const char *path, unsigned char **out, size_t *len, char *err,
		       size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat sb;
	unsigned char *p = NULL;
	size_t got = 0;

	*out = NULL;
	if (fd < 0) {
		snprintf(err, n, "cannot open '%s': %s", path, strerror(errno));
		return SYNC_E_OTHER;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > SYNC_BUNDLE_MAX) {
		snprintf(err, n, "'%s' is not a regular file of at most %d bytes", path,
			 SYNC_BUNDLE_MAX);
		close(fd);
		return SYNC_E_OTHER;
	}
	p = malloc((size_t)sb.st_size + 1);
	while (p != NULL && got < (size_t)sb.st_size) {
		ssize_t r = read(fd, p + got, (size_t)sb.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (p == NULL || got != (size_t)sb.st_size) {
		snprintf(err, n, "cannot read '%s'", path);
		free(p);
		return SYNC_E_OTHER;
	}
	*out = p;
	*len = got;
	return 0;
}

/* The bundle's pages for this node, checked: 0, or SYNC_E_BUNDLE with err
 * saying why (not the hub's, not this office PC's, damaged, altered). */
static int open_bundle(const sync_identity *id, const char *path, unsigned char *data,
		       size_t len, int64_t *made_ms, const char **ack, size_t *acklen,
		       const unsigned char **pages, size_t *plen, char *err, size_t n)
{
	char for_node[64];
	const char *why = NULL;
	int rc;

	if ((rc = sync_hub_bundle_head(data, len, for_node, &why)) != 0) {
		snprintf(err, n, "'%s': %s", path, why);
		return SYNC_E_BUNDLE;
	}
	if (strcmp(for_node, id->id_node_id) != 0) {
		snprintf(err, n,
			 "'%s' is the hub's bundle for node %s, not for this office PC "
			 "(node %s)",
			 path, for_node, id->id_node_id);
		return SYNC_E_BUNDLE;
	}
	rc = sync_hub_bundle_decode(data, len, id->id_secret, for_node, made_ms, ack,
				    acklen, pages, plen, &why);
	if (rc == SYNC_BUNDLE_DAMAGED)
		snprintf(err, n, "'%s' is %s", path, why);
	else if (rc != 0 && rc != SYNC_BUNDLE_MALFORMED)
		snprintf(
		    err, n,
		    "'%s' has a bad signature for this office PC (altered, or not made"
		    " by the hub for it): %s",
		    path, why);
	else if (rc != 0)
		snprintf(err, n, "'%s': %s", path, why);
	return rc == 0 ? 0 : SYNC_E_BUNDLE;
}

/* The refusals of a bundle this office cannot take yet, in words. */
static int no_cursor_yet(char *err, size_t n)
{
	snprintf(err, n,
		 "this office has no pull cursor yet (its first snapshot is "
		 "not finished): it must reach the hub over the network once");
	return SYNC_E_OTHER;
}

static int gap_before(const char *node_id, int64_t after, int64_t cursor, char *err, size_t n)
{
	snprintf(err, n,
		 "the bundle starts at the hub's change %" PRId64 " and this "
		 "office has them up to %" PRId64 " only: import the files in "
		 "their order, or at the hub: outpost-hub export-office %s "
		 "--after %" PRId64 " --out FILE",
		 after, cursor, node_id, cursor);
	return SYNC_E_OTHER;
}

/*
 * Whether the bundle's pages reach this office's cursor: the first page it
 * lacks must start at or before it.  A part of FILE, FILE.2, ... missed or
 * taken out of its order starts past it.  Checked before anything is
 * applied, the acknowledgement too, so that such a part is refused and
 * changes nothing (import_pages checks again, page by page).  0, or
 * SYNC_E_OTHER with err filled.
 */
static int pages_reach(sqlite3 *db, const char *node_id, const unsigned char *pages,
		       size_t plen, char *err, size_t n)
{
	sync_hub_page pg;
	size_t off = 0;
	int64_t cursor;
	int rc = db_kv_get_i64(db, "node_meta", "sync_cursor", &cursor);

	if (rc < 0) {
		snprintf(err, n, "cannot read the sync state of the office database");
		return SYNC_E_OTHER;
	}
	if (rc == DB_ABSENT)
		return no_cursor_yet(err, n);
	while (sync_hub_bundle_page(pages, plen, &off, &pg) == 1) {
		if (pg.hp_next <= cursor)
			continue;
		return pg.hp_after > cursor ? gap_before(node_id, pg.hp_after, cursor, err, n) : 0;
	}
	return 0;
}

typedef struct import_stats {
	int is_applied, is_skipped;
	int64_t is_cursor, is_head, is_made_ms;
	int64_t is_acked; /* outbox entries the bundle's acknowledgement took out */
} import_stats;

/*
 * Each page as sync_client_pull applies one (sync_node_apply_pull_gen: the
 * same merge, set-aside and cursor in one transaction, beside the node's
 * own cycle): a page this office already has (its next cursor at or
 * before the office's) is skipped, so an import again changes nothing; a
 * page after a gap (it starts past the office's cursor) stops the import,
 * the cursor where the last applied page left it.  The office's last pull
 * (which bounds its offline sign-ins, node_login.c) is then when the hub
 * made the bundle, not when it was carried in: a bundle a week on the way
 * holds the accounts as they were a week ago.  0 or SYNC_E_*.
 */
static int import_pages(sqlite3 *db, const char *node_id, const unsigned char *pages,
			size_t plen, import_stats *st, char *err, size_t n)
{
	sync_hub_page pg;
	size_t off = 0;
	int64_t cursor, gen, last_pull = -1, when = (int64_t)hlc_wall_ms();
	int rc, refetched = 0;

	st->is_head = -1;
	if (db_kv_get_i64(db, "node_meta", "last_pull_ms", &last_pull) < 0) {
		snprintf(err, n, "cannot read the sync state of the office database");
		return SYNC_E_OTHER;
	}
	/* the office's last pull once a page is applied: when the hub made
	 * the bundle (not in the future), never earlier than it was */
	if (st->is_made_ms < when)
		when = st->is_made_ms;
	if (when < last_pull)
		when = last_pull;
	while ((rc = sync_hub_bundle_page(pages, plen, &off, &pg)) == 1) {
	again:
		rc = db_kv_get_i64(db, "node_meta", "sync_cursor", &cursor);
		if (rc < 0 || (gen = sync_node_push_gen(db)) < 0) {
			snprintf(err, n,
				 "cannot read the sync state of the office database");
			return SYNC_E_OTHER;
		}
		if (rc == DB_ABSENT)
			return no_cursor_yet(err, n);
		st->is_cursor = cursor;
		if (pg.hp_next <= cursor) {
			st->is_skipped++;
			continue;
		}
		if (pg.hp_after > cursor)
			return gap_before(node_id, pg.hp_after, cursor, err, n);
		rc = sync_node_apply_pull_gen(db, pg.hp_data, pg.hp_len, pg.hp_next, gen,
					      NULL, NULL);
		if (rc == -4 && ++refetched <= IMPORT_MAX_REFETCH)
			goto again; /* a push committed meanwhile: the page again */
		if (rc == 0 && db_kv_set_i64(db, "node_meta", "last_pull_ms", when) != 0)
			rc = -1;
		if (rc == -2) {
			snprintf(
			    err, n,
			    "the bundle changes a record this office also changed, "
			    "which the hub has not acknowledged yet: it applies after "
			    "the office's push (outpost-sync push, once the network "
			    "returns), or from a bundle the hub writes once it has "
			    "imported this office's export (outpost-sync export)");
			return SYNC_E_PENDING;
		}
		if (rc == -3) {
			snprintf(err, n,
				 "a snapshot is under way in this office: let it finish "
				 "over the network first");
			return SYNC_E_OTHER;
		}
		if (rc != 0) {
			snprintf(err, n,
				 "cannot apply the hub's changes to the office database");
			return SYNC_E_OTHER;
		}
		st->is_applied++;
		st->is_cursor = pg.hp_next;
		st->is_head = pg.hp_head;
	}
	if (rc != 0) {
		snprintf(err, n, "malformed bundle");
		return SYNC_E_BUNDLE;
	}
	if (st->is_head >= 0)
		db_kv_set_i64(db, "sync_state", "head_seq", st->is_head);
	return 0;
}

int cmd_import(tool *t)
{
	sync_identity id;
	sqlite3 *db = NULL;
	unsigned char *data = NULL;
	const unsigned char *pages = NULL;
	const char *ack = NULL;
	size_t len = 0, plen = 0, acklen = 0;
	import_stats st;
	char err[768], ackerr[768] = "";
	int rc, ex;

	memset(&st, 0, sizeof st);
	if (t->t_file == NULL)
		return tool_usage(
		    t, "import needs a FILE (a bundle from 'outpost-hub export-office')");
	rc = sync_identity_load(t->t_data, &id, err, sizeof err);
	if (rc != 0)
		return tool_fail(t, rc, err);
	/* The file is checked before node.db is opened: a refused one changes
	 * nothing there. */
	rc = read_bundle(t->t_file, &data, &len, err, sizeof err);
	if (rc == 0)
		rc = open_bundle(&id, t->t_file, data, len, &st.is_made_ms, &ack, &acklen,
				 &pages, &plen, err, sizeof err);
	if (rc == 0)
		rc = sync_client_db_open(t->t_data, &db, err, sizeof err);
	if (rc == 0 && sync_client_adopt(db, &id, NULL) != 0) {
		snprintf(err, sizeof err, "cannot record the sync identity in node.db");
		rc = SYNC_E_OTHER;
	}
	/* A part missed or out of its order: refused before anything,
	 * the outbox as it was. */
	if (rc == 0)
		rc = pages_reach(db, id.id_node_id, pages, plen, err, sizeof err);
	/* First what the hub took from this office's outbox (its bundle
	 * imported there, or its pushes), as a push's reply: those entries
	 * leave the outbox, and the pages over the rows they touched no
	 * longer wait for a push.  One not of this outbox is said and
	 * ignored; the pages still apply where the outbox allows. */
	if (rc == 0) {
		rc = sync_client_bundle_ack(db, ack, acklen, &st.is_acked, ackerr,
					    sizeof ackerr);
		if (rc == 1)
			fprintf(stderr, "outpost-sync: %s\n", ackerr);
		if (rc < 0) {
			snprintf(err, sizeof err, "%s", ackerr);
			rc = SYNC_E_OTHER;
		} else {
			rc = 0;
		}
	}
	if (rc == 0)
		rc = import_pages(db, id.id_node_id, pages, plen, &st, err, sizeof err);
	if (rc != 0) {
		if (st.is_applied > 0)
			snprintf(
			    err + strlen(err), sizeof err - strlen(err),
			    " (%d page%s applied before it: the cursor is %" PRId64 ")",
			    st.is_applied, st.is_applied == 1 ? "" : "s", st.is_cursor);
		ex = tool_fail(t, rc, err);
		goto out;
	}
	if (t->t_json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddNumberToObject(o, "applied", st.is_applied);
		cJSON_AddNumberToObject(o, "skipped", st.is_skipped);
		cJSON_AddNumberToObject(o, "cursor", (double)st.is_cursor);
		cJSON_AddNumberToObject(o, "acked", (double)st.is_acked);
		if (ackerr[0])
			cJSON_AddStringToObject(o, "ack_ignored", ackerr);
		tool_print_json(o);
		goto done;
	}
	if (st.is_acked > 0)
		printf("the hub acknowledges %" PRId64
		       " of this office's changes: they left "
		       "the outbox (kept in the sent log)\n",
		       st.is_acked);
	if (st.is_applied == 0) {
		printf("nothing new in %s: this office already has its changes (cursor "
		       "%" PRId64 ")\n",
		       t->t_file, st.is_cursor);
	} else {
		printf("imported %d page%s of the hub's changes from %s; cursor %" PRId64
		       "%s\n",
		       st.is_applied, st.is_applied == 1 ? "" : "s", t->t_file,
		       st.is_cursor,
		       st.is_skipped ? " (pages this office already had skipped)" : "");
	}
done:
	ex = EXIT_TOOL_OK;
out:
	free(data);
	db_close(db);
	sync_identity_wipe(&id);
	return ex;
}
