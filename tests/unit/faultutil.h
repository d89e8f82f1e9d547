/*
 * faultutil.h - what test_powerloss.c and test_pullfault.c share: a hub
 * template database with one enrolled node, push frames of check-ins
 * captured the real way on a node, copying a template over a database (its
 * WAL and shm gone), and applying one frame at the hub.  Test code only;
 * linked into those two binaries (see the Makefile).  Failures are cmocka
 * assertions, so call these from a test or a group setup only.
 */
#ifndef OUTPOST_FAULTUTIL_H
#define OUTPOST_FAULTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hub/hub.h"
#include "lib/buf.h"
#include "lib/db.h"

#define FT_HUB_ENTRIES 40
#define FT_NODE_ID "node-pl"

typedef struct ft_frames {
	buf b[FT_HUB_ENTRIES];
	int n;
} ft_frames;

/* Filled by ft_hub_setup: the demo office and its Local Area, the shared
 * directory (removed by ft_hub_teardown), the hub template in it and the
 * frames of FT_HUB_ENTRIES check-ins ('pl-00000'...) from FT_NODE_ID. */
extern char ft_office[64], ft_la[64];
extern char *ft_shared_dir;
extern char ft_hub_tmpl[600];
extern ft_frames ft_hub_frames;
/* The JSON of the quarantined entries of the last ft_ingest(). */
extern char ft_quarantined[512];
/* Names of enum faultvfs_kind values, for messages. */
extern const char *ft_kind_name[];

/* The k-th check-in from FT_NODE_ID ('pl-%05d', visitor "WHO k") as an
 * INSERT (sqlite3_free it; NULL when out of memory), its HLC in stamp. */
char *ft_checkin_sql(int k, const char *who, char *stamp, size_t n);
/* An empty node database, migrated and checkpointed, at dir/template.db
 * (its path in tmpl); path is set to dir/node.db.  Both hold 600 bytes. */
void ft_node_template(const char *dir, char *tmpl, char *path);
/* Copy the file `from` over `to` (mode 0600). */
void ft_copy_file(const char *from, const char *to);
/* Remove path's -wal and -shm, then copy tmpl over path. */
void ft_fresh(const char *tmpl, const char *path);
/* cmocka group setup/teardown: see the variables above.  0 or -1. */
int ft_hub_setup(void **state);
int ft_hub_teardown(void **state);
/* Apply ft_hub_frames.b[frame] at the hub as from hn; the HTTP status. */
int ft_ingest(sqlite3 *db, const hub_node *hn, int frame);
/* db_int(sql) with no fault armed (a check after a failure). */
int64_t ft_count_of(sqlite3 *db, const char *sql);
/* The end of a fault loop: say how many failed operations were tried in
 * what, and fail unless that is more than least (a loop that stopped early
 * tested nothing). */
void ft_tried(const char *what, int tried, int least);

#endif
