/*
 * memtrim.h - freed heap handed back to the system by a long-running daemon.
 *
 * glibc keeps what its per-thread arenas freed, so a soak's hub once held
 * 21 MB free beside 5 MB in use.  mallopt's own answer to that, giving
 * memory back at each free (a low mmap threshold, so every big buffer is
 * mapped and unmapped, and a low trim threshold, so an arena's top is cut
 * back whenever it frees), made every push and pull fault its pages in
 * again: a quarter of the hub's CPU for a 50,000-change push went to page
 * faults, unmapping and TLB flushes, not to the push.  So the give-back is
 * done on a clock instead: mem_setup() sets both thresholds high
 * (MEM_MMAP_BYTES, MEM_TRIM_BYTES: the push frames, pulled pages and
 * deflate state of one request are reused by the next from the arena) and
 * caps the arenas at MEM_ARENAS (the loop and a few pool threads share
 * them); mem_tick(), from a timer every second, trims every arena every
 * MEM_TRIM_TICKS calls.  Both do nothing without glibc.  Measured with
 * bench/bench_sync.py, old and new hub in turn: the push's hub CPU
 * 1.11 -> 0.80 s, the pull's 0.56 -> 0.36 s, peak RSS 25 -> 29 MB.
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

#define MEM_MMAP_BYTES (32 * 1024 * 1024) /* glibc's largest (64-bit) */
#define MEM_TRIM_BYTES (64 * 1024 * 1024)
#define MEM_TRIM_TICKS 5
#define MEM_ARENAS 2

/* Once, at start, before any thread.  No return value: best effort. */
void mem_setup(void);
/* One thread's timer (the loop's); not thread-safe. */
void mem_tick(void);

#endif
