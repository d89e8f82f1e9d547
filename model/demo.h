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

/* demo_logins.c: the documented test password of the demo staff (README,
 * "Test login"), and their staff and staff_credentials rows, inserted where
 * missing: the stand-alone node's hash set, or (for_hub) the demo hub's.
 * Call inside the caller's transaction.  0 or -1. */
#define DEMO_PASSWORD "Outpost.Demo24"
int demo_seed_logins(sqlite3 *db, const char *ts, int for_hub);
/* Nonzero when stored is a stand-alone demo node's hash of the demo password:
 * an enrolled node never accepts those. */
int demo_login_node_hash(const char *stored);
/* The hub's second verifier (model/password.h) of a demo hub hash, or NULL
 * when stored is not one. */
const char *demo_login_hub_verifier(const char *stored);

#endif
