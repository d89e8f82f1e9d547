/*
 * corrections.h - two offices' corrections of one append-only record, made
 * while offline (an office corrects only a record not corrected yet): both
 * reach the hub, each valid, and the hub records a conflict naming them so
 * the one no longer the newest is never lost unseen.  Employer services
 * (model/crm.c) and participant activities (model/casework.c) are corrected
 * so: a new row naming the corrected one in corrects_id.
 *
 * Which correction the conflict sits on does not depend on the order they
 * reach the hub: corrections are ordered by (time column, id) - for
 * services CRM_CORRECTION_LATER's - and every correction of a record but
 * the earliest carries one conflict, naming the one before it (the earlier
 * as the hub's value, itself as the office's, the later the winner).  When
 * a correction arrives earlier than those the hub holds, the conflict goes
 * on the one it now precedes.
 */
#ifndef OUTPOST_MODEL_CORRECTIONS_H
#define OUTPOST_MODEL_CORRECTIONS_H

#include <sqlite3.h>
#include <stddef.h>

/* Room for one correction in words (model_correction_kind.mc_words). */
#define MODEL_CORRECTION_WORDS 200

typedef struct model_correction_kind {
	const char *mc_table;   /* "employer_services" */
	const char *mc_time;    /* the column that orders them, then id: "created_at" */
	const char *mc_noun;    /* "service": "Two corrections of one service ..." */
	/* Row id (the original or a correction) in words: who at which office,
	 * and what it recorded.  0, or -1 when it cannot be read. */
	int (*mc_words)(sqlite3 *db, const char *id, char who[MODEL_CORRECTION_WORDS],
			char what[MODEL_CORRECTION_WORDS]);
	/* After "The later one, by WHO, ": what that means and how to settle
	 * it, e.g. "counts; the other is kept but not counted.  ..." */
	const char *mc_outcome;
} model_correction_kind;

/*
 * Inside the hub's check of row id of k->mc_table, a correction of orig:
 * when another correction of orig is at the hub, record the conflict
 * (model_record_conflict) as above, once.  0 (also when there is nothing
 * to record), or MODEL_CHECK_AGAIN with reason (n bytes) set.
 */
int model_crossed_correction(sqlite3 *db, const model_correction_kind *k, const char *id,
			     const char *orig, char *reason, size_t n);

#endif
