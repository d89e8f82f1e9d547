/*
 * mem.c - hand the allocator's free memory back to the system; see mem.h.
 */
#include "mem.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

void mem_release_free(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}
