/*
 * curl_load.h - libcurl, loaded on first use.  The office node links no
 * libcurl: it loads libcurl.so.4 (and with it OpenSSL, GnuTLS, Kerberos and
 * the rest of libcurl's dependencies) the first time it syncs, so a node
 * that is not enrolled, or a process that never talks to the hub, never maps
 * them.  That is most of a stand-alone node's idle memory.
 *
 * Include this after <curl/curl.h> in the one file that calls libcurl
 * (sync/client.c): it turns the libcurl calls used there into calls through
 * the table below.  sync__curl_load() must have succeeded first (it is
 * called by sync_client_global_init()).
 */
#ifndef OUTPOST_CURL_LOAD_H
#define OUTPOST_CURL_LOAD_H

#include <curl/curl.h>

struct sync__curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *h);
	void (*easy_reset)(CURL *h);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

extern struct sync__curl_api sync__curl;

/* Load libcurl.so.4 and resolve the table (once; thread-safe).  0, or -1 with
 * a one-line reason in *why (static text). */
int sync__curl_load(const char **why);

#ifndef SYNC__CURL_LOAD_IMPL
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (*sync__curl.global_init)
#define curl_easy_init (*sync__curl.easy_init)
#define curl_easy_cleanup (*sync__curl.easy_cleanup)
#define curl_easy_reset (*sync__curl.easy_reset)
#define curl_easy_setopt (*sync__curl.easy_setopt)
#define curl_easy_perform (*sync__curl.easy_perform)
#define curl_easy_getinfo (*sync__curl.easy_getinfo)
#define curl_easy_strerror (*sync__curl.easy_strerror)
#define curl_slist_append (*sync__curl.slist_append)
#define curl_slist_free_all (*sync__curl.slist_free_all)
#endif

#endif
