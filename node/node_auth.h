/*
 * node_auth.h - who is making a request to the office node, and whether
 * they may.  Every route that is not public calls node_auth_require() first.
 *
 * Until staff logins land (accounts issue), node_auth.c answers with a
 * built-in demo staff member holding every field privilege, so the modules
 * can be built and tested against this seam; the login work replaces only
 * node_auth.c.
 */
#ifndef OUTPOST_NODE_AUTH_H
#define OUTPOST_NODE_AUTH_H

#include "node/node.h"
#include "model/privileges.h"

typedef struct node_user {
	char id[64];            /* staff.id */
	char username[64];
	char display_name[128];
	char local_area_id[64];
	char office_id[64];
	unsigned privs;         /* PRIV_* bits */
	int crm_work_group;
} node_user;

/* The signed-in user of req, or NULL.  Borrowed until the reply. */
const node_user *node_auth_user(node *n, http_req *req);
/*
 * 0 when req's user holds every bit of `privs`.  Otherwise replies 401 (no
 * valid session) or 403 (missing privilege) as a JSON error and returns -1;
 * the handler must then return without replying.
 */
int node_auth_require(node *n, http_req *req, unsigned privs);
int node_auth_routes(node *n, router *r);

#endif
