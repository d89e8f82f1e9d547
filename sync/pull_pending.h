/*
 * pull_pending.h - whether a pull page may be applied beside the office
 * writes still in the outbox (see pull_pending.c).  Internal to sync/
 * (pull_node.c); not an interface.
 */
#ifndef OUTPOST_PULL_PENDING_H
#define OUTPOST_PULL_PENDING_H

#include <stddef.h>
#include "lib/db.h"

/* In the page's transaction (the outbox cannot change meanwhile), of a page
 * already walked whole: 0 when the outbox is empty or no row of the page is
 * a row a pending entry touches; -2 when one is, or when more is pending
 * than is read entry by entry (the page waits for the push); -1 on error. */
int sync__pull_pending_clear(sqlite3 *db, const void *page, size_t len);

#endif
