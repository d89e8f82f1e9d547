/*
 * memtrim.c - see memtrim.h.
 */
#include "memtrim.h"

#include <stdlib.h> /* (defines __GLIBC__: tested before it, both were no-ops) */

#ifdef __GLIBC__
#include <malloc.h>
#endif

void mem_setup(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, MEM_MMAP_BYTES); /* fixed: no longer follows frees */
	mallopt(M_TRIM_THRESHOLD, MEM_TRIM_BYTES);
	mallopt(M_ARENA_MAX, MEM_ARENAS);
#endif
}

void mem_tick(void)
{
	static unsigned ticks;

	if (++ticks < MEM_TRIM_TICKS)
		return;
	ticks = 0;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}
