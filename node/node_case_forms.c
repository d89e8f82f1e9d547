/*
 * node_case_forms.c - the closure form and the follow-up form (issue 15,
 * point 3).  See node_case.h.
 */
#include "node/node_case.h"
#include "node/node_api.h"

static const route_def case_forms_defs[] = {
	{HTTP_M_GET, "/api/v1/case/forms/fields", NULL, PRIV_VIEW, 0, NULL, 0},
};

const route_list case_forms_route_list = {case_forms_defs, 0};
