/*
 * corrections.c - the conflict of two offices' corrections of one
 * append-only record; see corrections.h.
 */
#include "model/corrections.h"
#include "model/schema.h"
#include "lib/db.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* Column name of the conflict (the column both corrections set). */
#define CORRECTS_COLUMN "corrects_id"

/* A row of the table as JSON text (caller frees with cJSON_free), or NULL. */
static char *row_json(sqlite3 *db, const model_correction_kind *k, const char *id)
{
	char *sql = sqlite3_mprintf("SELECT * FROM \"%w\" WHERE id=?", k->mc_table);
	cJSON *o = sql ? db_row_json_by(db, sql, id) : NULL;
	char *t = o ? cJSON_PrintUnformatted(o) : NULL;

	sqlite3_free(sql);
	cJSON_Delete(o);
	return t;
}

/* The correction of the same record next to id in the order (before it
 * when before, else after it) into out: 0, 1 when there is none, -1. */
static int neighbour(sqlite3 *db, const model_correction_kind *k, const char *id, int before,
		     char *out, size_t n)
{
	char *sql = sqlite3_mprintf(
	    "SELECT y.id FROM \"%w\" s JOIN \"%w\" y ON y.corrects_id = s.corrects_id"
	    " AND y.id <> s.id WHERE s.id = ?1 AND (y.\"%w\", y.id) %s (s.\"%w\", s.id)"
	    " ORDER BY y.\"%w\" %s, y.id %s LIMIT 1",
	    k->mc_table, k->mc_table, k->mc_time, before ? "<" : ">", k->mc_time, k->mc_time,
	    before ? "DESC" : "ASC", before ? "DESC" : "ASC");
	int rc = sql ? db_text(db, sql, id, out, n) : -1;

	sqlite3_free(sql);
	return rc;
}

int model_crossed_correction(sqlite3 *db, const model_correction_kind *k, const char *id,
			     const char *orig, char *reason, size_t n)
{
	char earlier[64] = "", later[64] = "", why[7 * MODEL_CORRECTION_WORDS + 400];
	char o_who[MODEL_CORRECTION_WORDS], o_what[MODEL_CORRECTION_WORDS];
	char e_who[MODEL_CORRECTION_WORDS], e_what[MODEL_CORRECTION_WORDS];
	char l_who[MODEL_CORRECTION_WORDS], l_what[MODEL_CORRECTION_WORDS];
	char *base = NULL, *local = NULL, *remote = NULL, *sql = NULL;
	int rc, ret = MODEL_CHECK_AGAIN;

	if (id == NULL || orig == NULL)
		return 0;
	/* The conflict sits on the later of id and the correction next to it:
	 * on id, naming the one before it; id the earliest, on the one after
	 * it (which, the earliest until now, carries none). */
	if ((rc = neighbour(db, k, id, 1, earlier, sizeof earlier)) == 0) {
		snprintf(later, sizeof later, "%s", id);
	} else if (rc == 1 && (rc = neighbour(db, k, id, 0, later, sizeof later)) == 0) {
		snprintf(earlier, sizeof earlier, "%s", id);
	} else {
		if (rc == 1)
			return 0; /* the first correction of it */
		goto out;
	}
	/* once per correction (a replay, an entry checked again) */
	if ((sql = sqlite3_mprintf("SELECT 1 FROM conflicts WHERE tbl = '%q' AND row_id = ?1"
				   " AND column_name = '" CORRECTS_COLUMN "'",
				   k->mc_table)) == NULL ||
	    (rc = db_exists(db, sql, later)) < 0)
		goto out;
	if (rc > 0) {
		ret = 0;
		goto out;
	}
	if (k->mc_words(db, orig, o_who, o_what) != 0 ||
	    k->mc_words(db, earlier, e_who, e_what) != 0 ||
	    k->mc_words(db, later, l_who, l_what) != 0 || (base = row_json(db, k, orig)) == NULL ||
	    (local = row_json(db, k, earlier)) == NULL || (remote = row_json(db, k, later)) == NULL)
		goto out;
	snprintf(why, sizeof why,
		 "Two corrections of one %s (entered by %s %s) were made while offline:"
		 " %s %s; %s %s.  The later one, by %s, %s",
		 k->mc_noun, o_who, o_what, e_who, e_what, l_who, l_what, l_who, k->mc_outcome);
	if (model_record_conflict(later, CORRECTS_COLUMN, base, local, remote, 1, NULL, NULL,
				  why) != 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		snprintf(reason, n, "%s: cannot record the conflict of two corrections", k->mc_table);
	sqlite3_free(sql);
	cJSON_free(base);
	cJSON_free(local);
	cJSON_free(remote);
	return ret;
}
