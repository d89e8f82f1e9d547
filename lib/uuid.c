/*
 * uuid.c - UUIDv7 generation and validation; see uuid.h.
 */
#include "uuid.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid_last_ms;
static uint32_t uuid_seq;

int uuid_random(void *buf, unsigned n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (unsigned)r;
	}
	return 0;
}

int uuid7_at(char out[UUID_STRLEN], uint64_t ms)
{
	unsigned char b[16];
	uint32_t seq;

	if (uuid_random(b, sizeof b) != 0)
		return -1;
	/* Monotonic within the process: same or earlier ms -> bump the sequence. */
	pthread_mutex_lock(&uuid_lock);
	if (ms > uuid_last_ms) {
		uuid_last_ms = ms;
		uuid_seq = (uint32_t)(b[6] & 0x03) << 8 | b[7]; /* random start, room to grow */
	} else {
		ms = uuid_last_ms;
		if (++uuid_seq > 0xfff) {
			uuid_last_ms = ++ms;
			uuid_seq = 0;
		}
	}
	seq = uuid_seq;
	pthread_mutex_unlock(&uuid_lock);

	b[0] = (unsigned char)(ms >> 40);
	b[1] = (unsigned char)(ms >> 32);
	b[2] = (unsigned char)(ms >> 24);
	b[3] = (unsigned char)(ms >> 16);
	b[4] = (unsigned char)(ms >> 8);
	b[5] = (unsigned char)ms;
	b[6] = (unsigned char)(0x70 | (seq >> 8));
	b[7] = (unsigned char)seq;
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	snprintf(out, UUID_STRLEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

int uuid7(char out[UUID_STRLEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return uuid7_at(out, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

int uuid_valid(const char *s)
{
	if (s == NULL || strlen(s) != 36)
		return -1;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
		} else if (!isxdigit((unsigned char)s[i])) {
			return -1;
		}
	}
	return 0;
}
