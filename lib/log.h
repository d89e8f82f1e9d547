/*
 * log.h - one line per event on stderr (OpenBSD log.c style).
 *
 *   log_warn   adds strerror(errno)      log_warnx  message only
 *   log_info   normal events             log_debug  only with log_verbose >= 1
 *   fatal/fatalx  log and exit(1)
 *
 * Never pass a password, token, node secret, SSN or participant PII to these.
 */
#ifndef OUTPOST_LOG_H
#define OUTPOST_LOG_H

#include <stddef.h>

void log_init(const char *progname, int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A one-line message for people into out (size n; out may be NULL when n is
 * 0): cut to fit, newlines turned into spaces.  For error texts handed back
 * to a caller (sync's err buffers), not for the log. */
void fmt_line(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
