/*
 * demo.h - the demo Local Area, office and greeter reasons that a new hub and
 * a stand-alone node start with.  Ids are fixed so that a node seeded alone
 * and a hub seeded alone agree on them.
 */
#ifndef OUTPOST_DEMO_H
#define OUTPOST_DEMO_H

#include "lib/db.h"

#define DEMO_LOCAL_AREA "demo-la"
#define DEMO_OFFICE "demo-office"
#define DEMO_OFFICE2 "demo-office-2"

/* Insert the demo reference rows where missing (idempotent). 0 or -1. */
int demo_seed_reference(sqlite3 *db, const char *hlc);

#endif
