/*
 * mem.h - the process's memory as the system sees it.
 *
 * glibc keeps what a thread frees in that thread's arena, and gives back to
 * the system only what lies at the top of it.  A daemon whose work moves
 * between the threads of libuv's pool (the node's sync cycle: pull pages,
 * push frames, a connection's page cache) so holds several arenas, each
 * grown to the largest cycle it ran and mostly free: a soak measured 6 MB
 * in use and 30 MB held.  mem_release_free() hands every whole free page of
 * every arena back (malloc_trim); it costs about a millisecond and takes
 * each arena's lock in turn, so call it off the loop thread, after a burst
 * of work.  Elsewhere than glibc it does nothing.  Safe from any thread.
 */
#ifndef OUTPOST_MEM_H
#define OUTPOST_MEM_H

void mem_release_free(void);

#endif
