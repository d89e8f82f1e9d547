/*
 * node_crm_attach.c - the CRM's JSON API on the office node, part 5: the
 * attachments of an employer (the lead summary's Attachments).
 *
 *   POST /api/v1/crm/employers/:id/attachments?filename=NAME   (PRIV_CRM)
 *        body: the file's bytes as they are, Content-Type: its type;
 *        201 with the attachment's metadata
 *   GET  /api/v1/crm/employers/:id/attachments[?include=withdrawn] (PRIV_VIEW)
 *        the metadata, newest first (never the bytes)
 *   GET  /api/v1/crm/attachments/:id                              (PRIV_VIEW)
 *        the bytes, as a download (Content-Disposition: attachment, the type
 *        the bytes were found to be, nosniff, a sandboxing CSP); 410 once
 *        withdrawn
 *   POST /api/v1/crm/attachments/:id/withdraw {"reason"?}          (PRIV_CRM)
 *        takes it off the summary; 200 with the metadata
 *
 * An upload is judged by its bytes (model/crm.h crm_attach_check, over
 * lib/upload.h, the same check the hub's account forms use): one of
 * CRM_ATTACH_TYPES, at most CRM_ATTACH_MAX; the file name is made safe and
 * given the extension of its type.  The route reads bodies up to
 * CRM_ATTACH_BODY_MAX (router_add_body), so a file somewhat over the cap is
 * answered with a JSON 413 naming the field while the rest of the node keeps
 * its max_body.  Attachments are append-only rows (schema_crm.c): withdrawing
 * one writes an employer_attachment_withdrawals row and the list hides it;
 * the file stays in every database.  Logs name ids and sizes, never a file
 * name or its content.
 */
#include "node/node_crm.h"
#include "node/node_api.h"
#include "lib/crypto.h"
#include "lib/log.h"
#include "lib/upload.h"
#include "lib/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The metadata columns of a.* with who uploaded and who withdrew (the
 * earliest withdrawal: two offices may both have withdrawn it offline). */
#define ATT_COLS                                                                                   \
	"a.id, a.employer_id, a.filename, a.content_type, a.size, a.sha256, a.uploaded_by,"        \
	" s.display_name AS uploaded_by_name, a.office_id, o.name AS office_name, a.uploaded_at,"  \
	" w.withdrawn_at, w.withdrawn_by, ws.display_name AS withdrawn_by_name,"                   \
	" w.reason AS withdrawn_reason"
#define ATT_FROM                                                                                   \
	" FROM employer_attachments a LEFT JOIN staff s ON s.id = a.uploaded_by"                   \
	" LEFT JOIN offices o ON o.id = a.office_id"                                               \
	" LEFT JOIN employer_attachment_withdrawals w ON w.id = (SELECT x.id FROM"                 \
	"  employer_attachment_withdrawals x WHERE x.attachment_id = a.id"                         \
	"  ORDER BY x.withdrawn_at, x.id LIMIT 1)"                                                 \
	" LEFT JOIN staff ws ON ws.id = w.withdrawn_by"

/* One attachment's row o (NULL passes through) with its download address
 * and whether it was withdrawn. */
static cJSON *att_json(cJSON *o)
{
	const char *id = o ? json_str(o, "id") : NULL;
	char url[128];

	if (o == NULL)
		return NULL;
	snprintf(url, sizeof url, "/api/v1/crm/attachments/%s", id ? id : "");
	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddBoolToObject(o, "withdrawn", cJSON_IsNumber(cJSON_GetObjectItem(o, "withdrawn_at")));
	return o;
}

cJSON *crm__attachments_of(node *n, const char *employer_id, int include_withdrawn)
{
	cJSON *arr = db_rows_json_by(n->nd_db,
				     include_withdrawn
					     ? "SELECT " ATT_COLS ATT_FROM " WHERE a.employer_id = ?1"
					       " ORDER BY a.uploaded_at DESC, a.id DESC"
					     : "SELECT " ATT_COLS ATT_FROM " WHERE a.employer_id = ?1"
					       " AND w.id IS NULL ORDER BY a.uploaded_at DESC, a.id DESC",
				     employer_id), *o;

	cJSON_ArrayForEach(o, arr)
		att_json(o);
	return arr;
}

/* One attachment's metadata, or NULL when there is none. */
static cJSON *att_one(node *n, const char *id)
{
	return id ? att_json(db_row_json_by(n->nd_db, "SELECT " ATT_COLS ATT_FROM " WHERE a.id = ?1", id))
		  : NULL;
}

/* The uploaded file, checked against its declared type and its content,
 * its usable name (from raw) into fname and its SHA-256 into hex.
 * ROUTE_OK, or the refusal. */
static route_rc attach_file(route_call *a, const char *raw, char fname[UPLOAD_NAME_MAX + 1],
			    upload_type *type, char hex[2 * CRYPTO_SHA256_LEN + 1])
{
	http_req *req = a->rc_req;
	const char *declared = http_req_header(req, "content-type"), *field;
	unsigned char dg[CRYPTO_SHA256_LEN];
	char msg[200];
	int status;

	field = crm_attach_check(declared ? declared : "", req->body.data, req->body.len, type,
				 &status, msg, sizeof msg);
	if (field)
		return route_fail(a, status, field, "%s", msg);
	if (upload_filename(raw, *type, fname, UPLOAD_NAME_MAX + 1) != 0)
		return route_fail(a, 400, "filename", "the file name has no usable characters");
	if (crypto_sha256(req->body.data, req->body.len, dg) != 0)
		return ROUTE_DBERR;
	crypto_hex(dg, sizeof dg, hex);
	return ROUTE_OK;
}

/* The attachment row of the request's file for employer emp, its id into
 * id.  0 or -1. */
static int attach_insert(route_call *a, const char *emp, const char *fname, upload_type type,
			 const char *hex, char id[UUID_STRLEN])
{
	node *n = API_NODE(a);
	const node_user *u = API_USER(a);
	const http_req *req = a->rc_req;
	uint64_t now = node_now_ms(n);

	uuid7_at(id, now);
	return db_run(n->nd_db,
		      "INSERT INTO employer_attachments(id, employer_id, filename, content_type, size,"
		      " sha256, uploaded_by, office_id, uploaded_at, data) VALUES(?,?,?,?,?,?,?,?,?,?)",
		      "ttttItttIb", id, emp, fname, upload_mime(type), (int64_t)req->body.len, hex,
		      u->id, crm__office(n, u), (int64_t)now, req->body.data, req->body.len);
}

/* POST /api/v1/crm/employers/:id/attachments?filename=NAME */
static route_rc post_attachment(route_call *a)
{
	const char *emp = http_req_param(a->rc_req, "id");
	char raw[1024], fname[UPLOAD_NAME_MAX + 1], id[UUID_STRLEN], hex[2 * CRYPTO_SHA256_LEN + 1];
	upload_type type;
	route_rc rr;

	if (http_req_query(a->rc_req, "filename", raw, sizeof raw) == NULL || raw[0] == '\0')
		return route_fail(a, 400, "filename", "name the file (?filename=..., at most %d bytes)",
				  (int)sizeof raw - 1);
	if (crm__exists(API_NODE(a), "employers", emp) != 1)
		return route_fail(a, 404, "id", "no such employer");
	if ((rr = attach_file(a, raw, fname, &type, hex)) != ROUTE_OK)
		return rr;
	if (attach_insert(a, emp, fname, type, hex, id) != 0)
		return ROUTE_DBERR;
	log_info("crm: attachment %s (%zu bytes) added to employer %s", id, a->rc_req->body.len, emp);
	return route_ok(a, 201, att_one(API_NODE(a), id));
}

/* GET /api/v1/crm/employers/:id/attachments[?include=withdrawn] */
static route_rc list_attachments(route_call *a)
{
	http_req *req = a->rc_req;
	node *n = API_NODE(a);
	const char *emp = http_req_param(req, "id");
	char inc[16] = "";
	cJSON *arr;

	if (http_req_query(req, "include", inc, sizeof inc) && inc[0] &&
	    strcmp(inc, "withdrawn") != 0)
		return route_fail(a, 400, "include", "include may only be withdrawn");
	if (crm__exists(n, "employers", emp) != 1)
		return route_fail(a, 404, "id", "no such employer");
	arr = crm__attachments_of(n, emp, inc[0] != '\0');
	return arr ? route_ok(a, 200, arr) : ROUTE_DBERR;
}

/* GET /api/v1/crm/attachments/:id: the bytes, as a download. */
static route_rc get_attachment(route_call *a)
{
	http_req *req = a->rc_req;
	route_rc rr = ROUTE_OK;
	node *n = API_NODE(a);
	const char *id = http_req_param(req, "id");
	sqlite3_stmt *st = NULL;
	char ctype[128];
	const char *name, *ct;
	const void *blob;

	if (db_prepare_bound(n->nd_db, &st,
			     "SELECT a.filename, a.content_type, a.data, EXISTS(SELECT 1 FROM"
			     " employer_attachment_withdrawals w WHERE w.attachment_id = a.id)"
			     " FROM employer_attachments a WHERE a.id = ?1", "t", id) != 0)
		return ROUTE_DBERR;
	if (sqlite3_step(st) != SQLITE_ROW) {
		rr = route_fail(a, 404, "id", "no such attachment");
		goto out;
	}
	if (sqlite3_column_int(st, 3)) {
		rr = route_fail(a, 410, "id", "this attachment was withdrawn");
		goto out;
	}
	name = (const char *)sqlite3_column_text(st, 0);
	ct = (const char *)sqlite3_column_text(st, 1);
	/* Only the types the upload check lets in are ever sent as such. */
	if (name == NULL || ct == NULL || upload_type_of_mime(ct) == UPLOAD_UNKNOWN ||
	    upload_download_headers(req, name) != 0) {
		rr = route_fail(a, 500, NULL, "the stored attachment is unreadable");
		goto out;
	}
	snprintf(ctype, sizeof ctype, "%s%s", upload_mime(upload_type_of_mime(ct)),
		 upload_type_of_mime(ct) == UPLOAD_TEXT ? "; charset=utf-8" : "");
	blob = sqlite3_column_blob(st, 2);
	if (blob == NULL && sqlite3_column_bytes(st, 2) > 0) {
		rr = ROUTE_DBERR; /* out of memory */
		goto out;
	}
	rr = route_ok_copy(a, 200, ctype, blob, (size_t)sqlite3_column_bytes(st, 2));
out:
	sqlite3_finalize(st);
	return rr;
}

static const route_key withdraw_keys_rk[] = {
	{"reason", ROUTE_T_ANY, 0}, {NULL, 0, 0},
};

/* POST /api/v1/crm/attachments/:id/withdraw {"reason"?} */
static route_rc post_withdraw(route_call *a)
{
	node *n = API_NODE(a);
	const char *id = http_req_param(a->rc_req, "id"), *reason = NULL;
	const node_user *u = API_USER(a);
	cJSON *att;
	char wid[UUID_STRLEN], reason_buf[JSON_TEXT_BYTES(CRM_ATTACH_REASON_MAX)];
	uint64_t now = node_now_ms(n);
	route_rc rr;

	if (route_str(a, "reason", JSON_NULLABLE, 0, CRM_ATTACH_REASON_MAX, &reason, reason_buf,
		      sizeof reason_buf) != 0)
		return ROUTE_BAD;
	if ((att = att_one(n, id)) == NULL)
		return route_fail(a, 404, "id", "no such attachment");
	uuid7_at(wid, now);
	if (cJSON_IsTrue(cJSON_GetObjectItem(att, "withdrawn"))) {
		rr = route_fail(a, 409, "id", "this attachment was withdrawn already");
	} else if (db_run(n->nd_db,
			  "INSERT INTO employer_attachment_withdrawals(id, attachment_id, employer_id,"
			  " reason, withdrawn_by, office_id, withdrawn_at) VALUES(?,?,?,?,?,?,?)",
			  "ttttttI", wid, id, json_str(att, "employer_id"), db_null_if_empty(reason),
			  u->id, crm__office(n, u), (int64_t)now) != 0) {
		rr = ROUTE_DBERR;
	} else {
		log_info("crm: attachment %s withdrawn (%s)", id, wid);
		rr = route_ok(a, 200, att_one(n, id));
	}
	cJSON_Delete(att);
	return rr;
}

static const route_def crm_attach_defs[] = {
	/* the file itself is the body, up to its own cap */
	{HTTP_M_POST, "/api/v1/crm/employers/:id/attachments", post_attachment, PRIV_CRM,
	 ROUTE_RAW | NODE_WRITE, NULL, CRM_ATTACH_BODY_MAX},
	{HTTP_M_GET, "/api/v1/crm/employers/:id/attachments", list_attachments, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_GET, "/api/v1/crm/attachments/:id", get_attachment, PRIV_VIEW, 0, NULL, 0},
	{HTTP_M_POST, "/api/v1/crm/attachments/:id/withdraw", post_withdraw, PRIV_CRM,
	 ROUTE_BODY | ROUTE_BODY_OPT | NODE_WRITE, withdraw_keys_rk, 0},
};

const route_list crm_attach_route_list = ROUTE_LIST(crm_attach_defs);
