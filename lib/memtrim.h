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
 *
 * Every 5 s, not 30: between two trims the loop and the pool threads touch
 * again the pages a trim gave back, so the hub's RSS at any moment was its
 * heap in use plus up to 30 s of that (a 30-minute soak's samples swung
 * 18-24 MB with the heap in use flat at 13-14 MB); at 5 s the largest
 * change between a 4-minute soak's samples 20 s apart fell from 3.6 to
 * 1.2 MB.  A trim of a 20 MB heap with thousands of free blocks takes
 * about a millisecond here (each arena's lock meanwhile).
 */
#ifndef OUTPOST_MEMTRIM_H
#define OUTPOST_MEMTRIM_H

#define MEM_MMAP_BYTES (128 * 1024)
#define MEM_TRIM_TICKS 5
#define MEM_ARENAS 2

/* Once, at start, before any thread.  No return value: best effort. */
void mem_setup(void);
/* One thread's timer (the loop's); not thread-safe. */
void mem_tick(void);

#endif
