/*
 * log.c - timestamped one-line log records on stderr; see log.h.  Under
 * systemd with stderr going to the journal (JOURNAL_STREAM names stderr's
 * device and inode), a record is "<N>prog level: message" instead: the
 * journal keeps its own time stamp and reads N as the syslog priority.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

static const char *log_prog = "outpost";
static int log_verbose;
static int log_journal;

/* 1 when stderr is the journal stream systemd set up for this service. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
	log_journal = stderr_is_journal();
}

/* sd-daemon(3) priority prefixes: err, warning, info, debug. */
static int journal_prio(const char *level)
{
	switch (level[0]) {
	case 'f':
		return 3;
	case 'w':
		return 4;
	case 'd':
		return 7;
	default:
		return 6;
	}
}

/* Keep a record on one line and the terminal's state as it was, whatever
 * the message holds (a name from a file or a request): line breaks and tabs
 * become spaces, other control bytes (an escape sequence's ESC) '?'. */
static void one_line(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
		else if (*p < 0x20 || *p == 0x7f)
			*p = '?';
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
	one_line(line);
	if (log_journal)
		fprintf(stderr, "<%d>%s %s: %s%s%s\n", journal_prio(level), log_prog, level, line,
			err ? ": " : "", err ? err : "");
	else if (err)
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
	one_line(out);
}
