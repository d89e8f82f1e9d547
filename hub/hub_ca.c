/*
 * hub_ca.c - the hub as the private certificate authority of its offices
 * (DESIGN.md, "The network edge"; lib/tls_ca.h): the office CA is made on
 * first start (DATA/ca.crt, DATA/ca.key); a node's certificate request rides
 * on its enrollment (sync_enroll) or, to renew, on a signed
 * POST /api/v1/sync/cert {csr, names} (a row of the route table); the console offers the CA certificate
 * (GET /ca.crt, and the page /ca.html says how to install it).
 */
#include "hub/hub_api.h"
#include "lib/log.h"
#include "lib/tls_ca.h"

#include <stdlib.h>
#include <string.h>

int hub_ca_load(hub *h)
{
	char crt[PATH_MAX + 32], key[PATH_MAX + 32];
	const char *err = NULL;

	snprintf(crt, sizeof crt, "%s/%s", h->hb_data, HUB_CA_CERT_FILE);
	snprintf(key, sizeof key, "%s/%s", h->hb_data, HUB_CA_KEY_FILE);
	h->hb_ca = tls_ca_open(crt, key, &err);
	if (h->hb_ca == NULL) {
		log_warnx("cannot set up the office CA with '%s': %s", crt, err);
		return -1;
	}
	return 0;
}

int hub_ca_sign_request(hub *h, const cJSON *body, char **cert, const char **why)
{
	const cJSON *csr = cJSON_GetObjectItemCaseSensitive(body, "csr");
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(body, "names"), *it;
	const char *list[TLS_CA_NAMES_MAX];
	int n = 0;

	*cert = NULL;
	if (csr == NULL || cJSON_IsNull(csr))
		return 0;
	*why = "csr must be a PEM certificate request and names a list of 1 to 16 names";
	if (!cJSON_IsString(csr) || !cJSON_IsArray(names) ||
	    cJSON_GetArraySize(names) > TLS_CA_NAMES_MAX)
		return 400;
	cJSON_ArrayForEach(it, names)
	{
		if (!cJSON_IsString(it) || it->valuestring == NULL)
			return 400;
		list[n++] = it->valuestring;
	}
	if (h->hb_ca == NULL) {
		*why = "this hub has no office CA";
		return 503;
	}
	if (tls_ca_sign(h->hb_ca, csr->valuestring, list, n, TLS_CA_NODE_DAYS, cert, why) != 0)
		return 400;
	return 0;
}

void hub_ca_reply(hub *h, cJSON *o, const char *cert)
{
	if (cert == NULL)
		return;
	cJSON_AddStringToObject(o, "cert", cert);
	cJSON_AddStringToObject(o, "ca_cert", tls_ca_pem(h->hb_ca));
}

/* POST /api/v1/sync/cert {csr, names}: a node renews its certificate. */
static route_rc sync_cert(route_call *a)
{
	hub *h = API_HUB(a);
	char *cert = NULL;
	const char *why = NULL;
	cJSON *o;
	int st;

	hub_sync_add_time(a->rc_req);
	st = hub_ca_sign_request(h, a->rc_body, &cert, &why);
	if (st != 0)
		return route_fail(a, st, "csr", "%s", why);
	log_info("node %s: certificate signed", API_NODE(a)->hn_id);
	o = cJSON_CreateObject();
	hub_ca_reply(h, o, cert);
	free(cert);
	return route_ok(a, 200, o);
}

static const route_key cert_keys[] = {
	{"csr", ROUTE_T_STR, ROUTE_K_REQUIRED},
	{"names", ROUTE_T_ARRAY, ROUTE_K_REQUIRED},
	{NULL, 0, 0},
};

static const route_def ca_defs[] = {
	{HTTP_M_POST, "/api/v1/sync/cert", sync_cert, HUB_P_NODE, ROUTE_BODY, cert_keys, 0},
};
const route_list hub_ca_route_list = ROUTE_LIST(ca_defs);

/* GET /ca.crt: the office CA certificate, for office PCs to trust. */
static void get_ca(http_req *req, void *ctx)
{
	hub *h = ctx;
	const char *pem = h->hb_ca ? tls_ca_pem(h->hb_ca) : NULL;

	if (pem == NULL) {
		http_reply_error(req, 404, NULL, "this hub has no office CA");
		return;
	}
	http_add_header(req, "Content-Disposition", "attachment; filename=\"outpost-office-ca.crt\"");
	http_reply(req, 200, "application/x-x509-ca-cert", pem, strlen(pem));
}

/* GET /api/v1/ca: the CA's pin and certificate, for the instruction page. */
static void get_ca_info(http_req *req, void *ctx)
{
	hub *h = ctx;
	char pin[128];
	cJSON *o;

	if (h->hb_ca == NULL || tls_ca_pin(h->hb_ca, pin, sizeof pin) != 0) {
		http_reply_error(req, 404, NULL, "this hub has no office CA");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "spki_sha256", pin + 8);
	cJSON_AddStringToObject(o, "pem", tls_ca_pem(h->hb_ca));
	http_reply_json(req, 200, o);
}

int hub_ca_routes(hub *h, router *r)
{
	int rc = 0;

	rc |= router_add(r, HTTP_M_GET, "/ca.crt", get_ca, h);
	rc |= router_add(r, HTTP_M_GET, "/api/v1/ca", get_ca_info, h);
	return rc ? -1 : 0;
}
