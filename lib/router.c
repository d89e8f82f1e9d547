/*
 * router.c - what sits between the HTTP server and the handlers: the router
 * (method + path pattern -> handler, with ":name" captures and "*" prefixes),
 * embedded asset serving with ETags, and the request helpers (headers, query
 * strings, cookies, percent-decoding).  Everything here uses http.h's public
 * API only, and http.c knows nothing about routes; but http.c does call two
 * of the request helpers filed here (http_pct_decode for the path,
 * http_status_text for the status line), so the two files depend on each
 * other through http.h.
 */
#include "lib/crypto.h"
#include "lib/http.h"
#include "lib/json.h"
#include "lib/log.h"

#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ROUTER_KEY_MAX 256 /* longest query key compared */

struct route {
	http_method rt_method;
	char *rt_pattern;
	http_handler rt_handler;
	void *rt_ctx;
	size_t rt_max_body; /* 0 = the server's max_body */
};

struct router {
	struct route *r_routes;
	int r_n;
	int r_cap;
};

/* ---- helpers ---- */

const char *http_status_text(int status)
{
	const char *s;

	if (status < 100 || status > 599)
		return "Unknown";
	s = http_status_str((enum http_status)status);
	return (s == NULL || s[0] == '<') ? "Unknown" : s;
}

int http_pct_decode(const char *src, size_t len, char *dst, size_t n, int form)
{
	size_t i, o = 0;
	int hi, lo, ret = -1;

	if (n == 0)
		goto out;
	for (i = 0; i < len; i++) {
		char ch = src[i];
		if (ch == '%') {
			if (len - i < 3)
				goto out;
			hi = crypto_hexval((unsigned char)src[i + 1]);
			lo = crypto_hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto out; /* malformed, or a NUL no C string can hold */
			ch = (char)(hi * 16 + lo);
			i += 2;
		} else if (ch == '+' && form) {
			ch = ' ';
		} else if (ch == '\0') {
			goto out;
		}
		if (o + 1 >= n)
			goto out;
		dst[o++] = ch;
	}
	ret = 0;
out:
	if (n > 0)
		dst[ret == 0 ? o : 0] = '\0';
	return ret;
}

const char *http_req_header(const http_req *req, const char *name)
{
	int i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

const char *http_req_param(const http_req *req, const char *name)
{
	int i;

	for (i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i][0], name) == 0)
			return req->params[i][1];
	return NULL;
}

int http_req_has_body(const http_req *req)
{
	const char *cl = http_req_header(req, "content-length");

	if (http_req_header(req, "transfer-encoding") != NULL)
		return 1;
	return cl != NULL && strtoull(cl, NULL, 10) > 0;
}

int http_pct_encode_keep(const char *src, char *dst, size_t n, const char *keep)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t o = 0;

	if (n == 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || strchr(keep, *p) != NULL;
		if (o + (plain ? 1 : 3) >= n) {
			dst[0] = '\0';
			return -1;
		}
		if (plain) {
			dst[o++] = (char)*p;
		} else {
			dst[o++] = '%';
			dst[o++] = hx[*p >> 4];
			dst[o++] = hx[*p & 15];
		}
	}
	dst[o] = '\0';
	return 0;
}

int http_pct_encode(const char *src, char *dst, size_t n)
{
	return http_pct_encode_keep(src, dst, n, "-._~");
}

int http_req_query_get(http_req *req, const char *name, char *out, size_t n)
{
	const char *p = req->query, *amp, *eq;
	char key[ROUTER_KEY_MAX];
	size_t plen, klen;

	if (n == 0)
		return -1;
	if (p == NULL)
		return 0;
	while (*p) {
		amp = strchr(p, '&');
		plen = amp ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', plen);
		klen = eq ? (size_t)(eq - p) : plen;
		if (http_pct_decode(p, klen, key, sizeof key, 1) == 0 &&
		    strcmp(key, name) == 0) {
			if (eq == NULL) {
				out[0] = '\0';
				return 1;
			}
			if (http_pct_decode(eq + 1, plen - klen - 1, out, n, 1) == 0 &&
			    json_utf8_valid(out, strlen(out)))
				return 1;
			out[0] = '\0';
			if (req->query_long[0] == '\0')
				snprintf(req->query_long, sizeof req->query_long, "%s", name);
			return -1; /* undecodable, not UTF-8 text, or too long */
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	return 0;
}

int http_req_query_text(const http_req *req, char *bad, size_t n)
{
	const char *p = req->query;
	size_t cap = p ? strlen(p) + 1 : 0;
	char small[256], *tmp = small;
	int ok = 1;

	if (bad && n)
		bad[0] = '\0';
	if (p == NULL || *p == '\0')
		return 1;
	/* (a decoded part is never longer than the query: most fit here) */
	if (cap > sizeof small && (tmp = malloc(cap)) == NULL)
		return 1; /* (each read of a parameter still checks it) */
	while (ok && *p) {
		const char *amp = strchr(p, '&'), *eq;
		size_t plen = amp ? (size_t)(amp - p) : strlen(p), klen;

		eq = memchr(p, '=', plen);
		klen = eq ? (size_t)(eq - p) : plen;
		if (http_pct_decode(p, klen, tmp, cap, 1) != 0 || !json_utf8_valid(tmp, strlen(tmp))) {
			if (bad && n)
				bad[0] = '\0';
			ok = 0;
		} else {
			if (bad && n)
				snprintf(bad, n, "%s", tmp);
			if (eq && (http_pct_decode(eq + 1, plen - klen - 1, tmp, cap, 1) != 0 ||
				   !json_utf8_valid(tmp, strlen(tmp))))
				ok = 0;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	if (tmp != small)
		free(tmp);
	if (ok && bad && n)
		bad[0] = '\0';
	return ok;
}

const char *http_req_query(http_req *req, const char *name, char *out, size_t n)
{
	return http_req_query_get(req, name, out, n) == 1 ? out : NULL;
}

const char *http_req_cookie(const http_req *req, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name), vl;
	const char *p, *end, *v;
	int i;

	if (n == 0)
		return NULL;
	for (i = 0; i < req->nheaders; i++) {
		if (strcmp(req->headers[i].name, "cookie") != 0)
			continue;
		for (p = req->headers[i].value; *p; p = *end ? end + 1 : end) {
			while (*p == ' ' || *p == '\t')
				p++;
			end = strchr(p, ';');
			if (end == NULL)
				end = p + strlen(p);
			if ((size_t)(end - p) <= nl || strncmp(p, name, nl) != 0 ||
			    p[nl] != '=')
				continue;
			v = p + nl + 1;
			vl = (size_t)(end - v);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			if (vl >= n)
				return NULL;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return out;
		}
	}
	return NULL;
}

/* ---- router ---- */

router *router_new(void) { return calloc(1, sizeof(router)); }

void router_free(router *r)
{
	int i;

	if (r == NULL)
		return;
	for (i = 0; i < r->r_n; i++)
		free(r->r_routes[i].rt_pattern);
	free(r->r_routes);
	free(r);
}

int router_add(router *r, http_method m, const char *pattern, http_handler h, void *ctx)
{
	return router_add_body(r, m, pattern, h, ctx, 0);
}

int router_add_body(router *r, http_method m, const char *pattern, http_handler h, void *ctx,
		    size_t max_body)
{
	struct route *nr;
	const char *s;
	int ncap = 0, ret = -1;

	if (pattern == NULL || pattern[0] != '/' || h == NULL || m == HTTP_M_OTHER)
		goto out;
	for (s = pattern; *s; s++) {
		if (*s == '*' && s[1] != '\0')
			goto out; /* '*' only ends a pattern */
		if (*s == ':' && s > pattern && s[-1] == '/')
			ncap++;
	}
	if (ncap > HTTP_MAX_PARAMS)
		goto out;
	if (r->r_n == r->r_cap) {
		int cap = r->r_cap ? r->r_cap * 2 : 16;
		nr = realloc(r->r_routes, (size_t)cap * sizeof *nr);
		if (nr == NULL)
			goto out;
		r->r_routes = nr;
		r->r_cap = cap;
	}
	nr = &r->r_routes[r->r_n];
	nr->rt_pattern = strdup(pattern);
	if (nr->rt_pattern == NULL)
		goto out;
	nr->rt_method = m;
	nr->rt_handler = h;
	nr->rt_ctx = ctx;
	nr->rt_max_body = max_body;
	r->r_n++;
	ret = 0;
out:
	return ret;
}

/* Match the raw (still encoded) path against pat; with req set, store the
 * ":name" captures, percent-decoded, in req->params.  1 on match. */
static int route_match(const char *pat, const char *path, size_t plen, http_req *req)
{
	const char *seg = pat;
	size_t i = 0, vs, nl;

	while (*pat) {
		if (pat[0] == '*' && pat[1] == '\0')
			return 1;
		if (pat[0] == ':' && pat > seg && pat[-1] == '/') {
			nl = strcspn(pat + 1, "/");
			for (vs = i; i < plen && path[i] != '/'; i++)
				;
			if (i == vs)
				return 0;
			if (req && req->nparams < HTTP_MAX_PARAMS) {
				char *name = http__req_alloc(req, nl + 1 + (i - vs) + 1);
				char *val;
				if (name == NULL)
					return 0;
				memcpy(name, pat + 1, nl);
				name[nl] = '\0';
				val = name + nl + 1;
				if (http_pct_decode(path + vs, i - vs, val, i - vs + 1,
						    0) != 0)
					return 0;
				req->params[req->nparams][0] = name;
				req->params[req->nparams][1] = val;
				req->nparams++;
			}
			pat += 1 + nl;
			continue;
		}
		if (i >= plen || path[i] != *pat)
			return 0;
		i++;
		pat++;
	}
	return i == plen;
}

static const char *method_name(http_method m)
{
	static const char *const names[] = {"?",   "GET",   "HEAD",   "POST",
					    "PUT", "PATCH", "DELETE", "OPTIONS"};

	return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

void router_dispatch(http_req *req, void *router_ctx)
{
	router *r = router_ctx;
	const char *path = req->target;
	size_t plen = strcspn(req->target, "?");
	struct route *hit = NULL;
	unsigned allow = 0;
	char allowed[128] = "";
	int i;

	for (i = 0; i < r->r_n; i++) {
		struct route *rt = &r->r_routes[i];
		if (!route_match(rt->rt_pattern, path, plen, NULL))
			continue;
		allow |= 1u << rt->rt_method;
		/* HEAD is GET without the body (http_reply drops it): the first
		 * route either way, so a catch-all HEAD route for the static
		 * files never hides an API route's GET. */
		if (hit == NULL && (rt->rt_method == req->method ||
				    (req->method == HTTP_M_HEAD && rt->rt_method == HTTP_M_GET)))
			hit = rt;
	}
	if (hit) {
		req->nparams = 0;
		if (!route_match(hit->rt_pattern, path, plen, req)) {
			http_reply_error(req, 400, NULL,
					 "bad percent-encoding in the path");
			return;
		}
		hit->rt_handler(req, hit->rt_ctx);
		return;
	}
	if (allow == 0) {
		http_reply_error(req, 404, NULL, "no such resource");
		return;
	}
	if (allow & (1u << HTTP_M_GET))
		allow |= 1u << HTTP_M_HEAD;
	for (i = HTTP_M_GET; i <= HTTP_M_OPTIONS; i++) {
		if (!(allow & (1u << i)))
			continue;
		if (allowed[0])
			strcat(allowed, ", ");
		strcat(allowed, method_name((http_method)i));
	}
	http_add_header(req, "Allow", allowed);
	http_reply_error(req, 405, NULL, "method %s not allowed here", req->method_str);
}

int router_add_rows(router *r, const router_row *rows, size_t n, void *ctx)
{
	for (size_t i = 0; i < n; i++)
		if (router_add(r, rows[i].rr_method, rows[i].rr_path, rows[i].rr_fn, ctx) != 0)
			return -1;
	return 0;
}

size_t router_body_limit(const http_req *req, void *router_ctx)
{
	const router *r = router_ctx;
	size_t plen = strcspn(req->target, "?");

	/* The route router_dispatch() will choose: the first match. */
	for (int i = 0; r && i < r->r_n; i++) {
		const struct route *rt = &r->r_routes[i];
		if (rt->rt_method == req->method && route_match(rt->rt_pattern, req->target, plen, NULL))
			return rt->rt_max_body;
	}
	return 0;
}

/* ---- embedded assets ---- */

const asset *asset_find(const asset *table, const char *path)
{
	if (table == NULL || path == NULL)
		return NULL;
	for (; table->path; table++)
		if (strcmp(table->path, path) == 0)
			return table;
	return NULL;
}

/* If-None-Match uses the weak comparison: W/ prefixes do not matter. */
static int etag_matches(const char *list, const char *etag)
{
	const char *p = list, *end;
	size_t el;

	if (strncmp(etag, "W/", 2) == 0)
		etag += 2;
	el = strlen(etag);
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"')
			return 0; /* malformed list: no match, send the full answer */
		end = strchr(p + 1, '"');
		if (end == NULL)
			return 0;
		if ((size_t)(end + 1 - p) == el && strncmp(p, etag, el) == 0)
			return 1;
		p = end + 1;
	}
	return 0;
}

int http_req_etag_matches(const http_req *req, const char *etag)
{
	const char *inm = http_req_header(req, "if-none-match");

	return inm != NULL && etag_matches(inm, etag);
}

int http_serve_asset(http_req *req, const asset *table, const char *path)
{
	const asset *a = asset_find(table, path);
	const char *inm;

	if (a == NULL)
		return -1;
	http_add_header(req, "ETag", a->etag);
	/* always revalidate: a new build must reach the kiosk at once */
	http_add_header(req, "Cache-Control", "no-cache");
	inm = http_req_header(req, "if-none-match");
	if (inm && etag_matches(inm, a->etag))
		http_reply(req, 304, a->content_type, NULL, 0);
	else
		http_reply(req, 200, a->content_type, a->data, a->len);
	return 0;
}
