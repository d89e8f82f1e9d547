/*
 * uuid.c - UUIDv7 generation and validation; see uuid.h.
 */
#include "uuid.h"
#include "crypto.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid_last_ms;
static uint32_t uuid_seq;

/*
 * Random tails come from a small pool refilled by getrandom(), not one
 * system call per id (a check-in makes three).  A forked child starts with
 * an empty pool, so parent and child never hand out the same bytes.
 */
static unsigned char uuid_pool[512];
static unsigned uuid_pool_left;

static void uuid_atfork_child(void)
{
	uuid_pool_left = 0;
}

static void uuid_init_once(void)
{
	pthread_atfork(NULL, NULL, uuid_atfork_child);
}

int uuid7_at(char out[UUID_STRLEN], uint64_t ms)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	unsigned char b[16];
	uint32_t seq;
	char *o = out;

	pthread_once(&once, uuid_init_once);
	pthread_mutex_lock(&uuid_lock);
	if (uuid_pool_left < sizeof b) {
		if (crypto_random(uuid_pool, sizeof uuid_pool) != 0) {
			pthread_mutex_unlock(&uuid_lock);
			return -1;
		}
		uuid_pool_left = sizeof uuid_pool;
	}
	uuid_pool_left -= sizeof b;
	memcpy(b, uuid_pool + uuid_pool_left, sizeof b);
	memset(uuid_pool + uuid_pool_left, 0, sizeof b);
	/* Monotonic within the process: same or earlier ms -> bump the sequence. */
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
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		crypto_hex(&b[i], 1, o);
		o += 2;
	}
	*o = '\0';
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
