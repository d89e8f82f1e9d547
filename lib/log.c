/*
 * log.c - timestamped one-line log records on stderr; see log.h.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *log_prog = "outpost";
static int log_verbose;

void log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
}

static void vlog(const char *level, const char *fmt, va_list ap, const char *err)
{
	char line[2048], ts[32];
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0)
		line[0] = '\0';
	/* Keep each record on one line whatever the message holds. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (err)
		fprintf(stderr, "%s.%03ldZ %s %s: %s: %s\n", ts, (long)tv.tv_usec / 1000,
			log_prog, level, line, err);
	else
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts, (long)tv.tv_usec / 1000,
			log_prog, level, line);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog("warn", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warn", fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("debug", fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

void fmt_line(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (out == NULL || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}
