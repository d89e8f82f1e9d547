/*
 * curl_load.c - resolve the libcurl calls Outpost uses from libcurl.so.4 at
 * run time (see curl_load.h for why).
 */
#define SYNC__CURL_LOAD_IMPL
#include "sync/curl_load.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

struct sync__curl_api sync__curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_why;

#define RESOLVE(field, name)                                                             \
	do {                                                                             \
		*(void **)(&sync__curl.field) = dlsym(h, name);                          \
		if (sync__curl.field == NULL) {                                          \
			load_why = "libcurl.so.4 lacks " name;                           \
			return;                                                          \
		}                                                                        \
	} while (0)

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		load_why = "cannot load libcurl.so.4 (install Debian's libcurl4 package)";
		return;
	}
	RESOLVE(global_init, "curl_global_init");
	RESOLVE(easy_init, "curl_easy_init");
	RESOLVE(easy_cleanup, "curl_easy_cleanup");
	RESOLVE(easy_reset, "curl_easy_reset");
	RESOLVE(easy_setopt, "curl_easy_setopt");
	RESOLVE(easy_perform, "curl_easy_perform");
	RESOLVE(easy_getinfo, "curl_easy_getinfo");
	RESOLVE(easy_strerror, "curl_easy_strerror");
	RESOLVE(slist_append, "curl_slist_append");
	RESOLVE(slist_free_all, "curl_slist_free_all");
	/* the handle stays open for the life of the process */
}

int sync__curl_load(const char **why)
{
	pthread_once(&load_once, load);
	if (load_why != NULL) {
		if (why)
			*why = load_why;
		return -1;
	}
	return 0;
}
