/*
 * node_demo_logins.c - test logins on a stand-alone demo node (the `demo`
 * setting, never enrolled): the node's side of model/demo_logins.c.
 */
#include "node/node_auth.h"
#include "model/demo.h"

int node_seed_demo_logins(node *n, const char *ts) { return demo_seed_logins(n->nd_db, ts, 0); }

int node_demo_login_hash(const char *stored) { return demo_login_node_hash(stored); }
