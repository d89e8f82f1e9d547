/*
 * csv.h - a small RFC 4180 reader (quoted fields, doubled quotes, CRLF or LF)
 * for the reference lists the hub seeds from the CSV files in seed/, and the
 * one field writer of the CSV exports (reports, visits, compliance).
 */
#ifndef OUTPOST_CSV_H
#define OUTPOST_CSV_H

#include <stddef.h>

#include "lib/buf.h"

#define CSV_MAX_FIELDS 64

/* Called once per record (the header included, as line 1); fields are
 * borrowed until the callback returns.  A non-zero return stops the read and
 * is returned by csv_read_*. */
typedef int (*csv_row_fn)(int line, int nfields, char **fields, void *arg);

/* -1 for a record of more than 1 MiB or a quote never closed (nothing of
 * that record reaches fn). */
int csv_read_buf(const char *data, size_t len, csv_row_fn fn, void *arg);
/* -1 when the file cannot be read. */
int csv_read_file(const char *path, csv_row_fn fn, void *arg);
/*
 * Find the folder of seed lists: $OUTPOST_SEED_DIR, else "seed" beside the
 * executable's parent (bin/../seed), else PREFIX/share/outpost/seed with the
 * PREFIX the build was made for (Makefile, OUTPOST_DATADIR), else
 * share/outpost/seed beside the executable's folder (an installed tree that
 * moved: bin/../share/outpost/seed).  0 when found (out holds the path), -1
 * otherwise.
 */
int csv_seed_dir(char *out, size_t n);

/*
 * Append s (NULL: empty) as one quoted RFC 4180 field, then "," or, when
 * last, CRLF.  A value starting like a formula (= + - @ tab CR) gets a
 * leading apostrophe, so a spreadsheet never runs a typed value.  0, or -1
 * when b is full (b's maximum, lib/buf.h); the failure also sticks in b
 * (buf_failed), so a writer of many fields may check once before replying:
 * never a short 200.  The one CSV field writer of the tree.
 */
int csv_put_field(buf *b, const char *s, int last);
/* The same for an integer. */
int csv_put_int(buf *b, long long v, int last);

#endif
