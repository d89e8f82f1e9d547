/*
 * node_auth.c - request identity on the office node (interim: a built-in demo
 * staff member until staff logins land; see node_auth.h).
 */
#include "node/node_auth.h"

#include <stdio.h>
#include <string.h>

static node_user demo_user;

const node_user *node_auth_user(node *n, http_req *req)
{
	(void)req;
	if (demo_user.id[0] == '\0') {
		snprintf(demo_user.id, sizeof demo_user.id, "demo-staff");
		snprintf(demo_user.username, sizeof demo_user.username, "demo");
		snprintf(demo_user.display_name, sizeof demo_user.display_name, "Demo Staff");
		snprintf(demo_user.local_area_id, sizeof demo_user.local_area_id, "%s",
			 n->nd_local_area_id);
		snprintf(demo_user.office_id, sizeof demo_user.office_id, "%s", n->nd_office_id);
		demo_user.privs = PRIV_ALL & ~PRIV_STAFF_ADMIN;
		demo_user.crm_work_group = 1;
	}
	return &demo_user;
}

int node_auth_require(node *n, http_req *req, unsigned privs)
{
	const node_user *u = node_auth_user(n, req);

	if (u == NULL) {
		http_reply_error(req, 401, NULL, "please sign in");
		return -1;
	}
	if ((u->privs & privs) != privs) {
		http_reply_error(req, 403, NULL, "your account does not have this privilege");
		return -1;
	}
	return 0;
}

int node_auth_routes(node *n, router *r)
{
	(void)n;
	(void)r;
	return 0;
}
