/*
 * daemon.c - a daemon process's start and orderly stop; see daemon.h.
 */
#include "lib/daemon.h"
#include "lib/faultvfs.h"
#include "lib/log.h"
#include "lib/memtrim.h"

#include <signal.h>
#include <sys/resource.h>

void daemon_start(const char *name, conf *c, const conf_entry *tab, int n)
{
	struct rlimit core = {0, 0};

	signal(SIGPIPE, SIG_IGN);
	/* No core file: it would hold the master key, node secrets, Local
	 * Areas' SSN keys and the participants in memory (the soft limit;
	 * whoever debugs raises it back, the hard limit is left as it was). */
	if (getrlimit(RLIMIT_CORE, &core) == 0) {
		core.rlim_cur = 0;
		(void)setrlimit(RLIMIT_CORE, &core);
	}
	log_init(name, 0);
	mem_setup();
	if (faultvfs_from_env() != 0)
		fatalx("cannot install the fault VFS");
	if (conf_init(c, tab, n) != 0)
		fatalx("out of memory");
}

static void on_signal(uv_signal_t *h, int signum)
{
	stopsig *s = h->data;

	if (s->ss_fired)
		return;
	s->ss_fired = 1;
	log_info("signal %d: shutting down", signum);
	s->ss_stop(s->ss_arg);
}

int stopsig_start(uv_loop_t *loop, stopsig *s, void (*stop)(void *arg), void *arg)
{
	static const int signums[2] = {SIGINT, SIGTERM};

	s->ss_stop = stop;
	s->ss_arg = arg;
	s->ss_fired = 0;
	for (int i = 0; i < 2; i++) {
		if (uv_signal_init(loop, &s->ss_sig[i]) != 0)
			return -1;
		s->ss_sig[i].data = s;
		if (uv_signal_start(&s->ss_sig[i], on_signal, signums[i]) != 0)
			return -1;
	}
	return 0;
}

void stopsig_close(stopsig *s)
{
	for (int i = 0; i < 2; i++)
		uv_close((uv_handle_t *)&s->ss_sig[i], NULL);
}
