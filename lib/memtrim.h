/*
 * memtrim.h - freed heap handed back to the system by a long-running daemon.
 *
 * glibc keeps what its per-thread arenas freed, and its mmap threshold
 * rises to the largest block freed, so the pool threads' big buffers (push
 * frames, pulled pages, deflate state) are later carved from an arena and
 * kept: a soak's hub held 21 MB free beside 5 MB in use.  mem_setup() fixes
 * the threshold (blocks of MEM_MMAP_BYTES and more are mapped and unmapped
 * when freed) and caps the arenas at MEM_ARENAS (the loop and a few pool
 * threads share them); mem_tick(), from a timer every second, trims every
 * arena every MEM_TRIM_TICKS calls.  Both do nothing without glibc.
 */
#ifndef OUTPOST_MEMTRIM_H
#define OUTPOST_MEMTRIM_H

#define MEM_MMAP_BYTES (128 * 1024)
#define MEM_TRIM_TICKS 30
#define MEM_ARENAS 2

/* Once, at start, before any thread.  No return value: best effort. */
void mem_setup(void);
/* One thread's timer (the loop's); not thread-safe. */
void mem_tick(void);

#endif
