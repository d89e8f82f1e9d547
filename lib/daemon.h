/*
 * daemon.h - the life of a daemon process (outpost-node, outpost-hub): its
 * start, and its orderly stop on SIGINT or SIGTERM (libuv).
 *
 * The first of either signal logs one line and runs the daemon's stop
 * function once; any later one is ignored (the stop is under way).  Loop
 * thread only.
 */
#ifndef OUTPOST_DAEMON_H
#define OUTPOST_DAEMON_H

#include <uv.h>

#include "lib/conf.h"

/* First thing in main(), before any thread: SIGPIPE ignored (a closed
 * peer is an error return), the log named name, the heap's set-up
 * (memtrim.h), for the storage-fault tests only the fault VFS their
 * environment asks for, and c set to the defaults of the daemon's
 * settings tab (n rows, conf.h).  Fatal when any of it fails. */
void daemon_start(const char *name, conf *c, const conf_entry *tab, int n);

typedef struct stopsig {
	uv_signal_t ss_sig[2];      /* SIGINT, SIGTERM */
	void (*ss_stop)(void *arg); /* run once, on the first */
	void *ss_arg;
	int ss_fired;
} stopsig;

/* Watch both signals on loop for stop(arg).  0, or -1 (a libuv error). */
int stopsig_start(uv_loop_t *loop, stopsig *s, void (*stop)(void *arg), void *arg);
/* Close both handles (as the daemon closes its others, before the loop's
 * last run). */
void stopsig_close(stopsig *s);

#endif
