/*
 * hlc.c - hybrid logical clock; see hlc.h.
 */
#include "hlc.h"
#include "clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HLC_MS_MAX ((uint64_t)0xffffffffffff)

uint64_t hlc_wall_ms(void)
{
	return clock_ms(); /* the test build's clock offset applies */
}

void hlc_init(hlc *h, const char *node_id, hlc_clock_fn clock, void *arg)
{
	memset(h, 0, sizeof *h);
	h->hlc_clock = clock;
	h->hlc_clock_arg = arg;
	hlc_set_node(h, node_id);
}

void hlc_set_node(hlc *h, const char *node_id)
{
	snprintf(h->hlc_node, sizeof h->hlc_node, "%s", node_id ? node_id : "");
}

static uint64_t wall(hlc *h)
{
	uint64_t w = h->hlc_clock ? h->hlc_clock(h->hlc_clock_arg) : hlc_wall_ms();
	int64_t v = (int64_t)w + h->hlc_offset_ms;
	return v < 0 ? 0 : (uint64_t)v;
}

void hlc_now(hlc *h, char out[HLC_STRLEN])
{
	uint64_t w = wall(h);

	if (w > h->hlc_ms) {
		h->hlc_ms = w;
		h->hlc_count = 0;
	} else if (++h->hlc_count > 0xffff) {
		if (h->hlc_ms < HLC_MS_MAX) {
			h->hlc_ms++;
			h->hlc_count = 0;
		} else {
			h->hlc_count = 0xffff; /* full: never wrap round to 0 */
		}
	}
	snprintf(out, HLC_STRLEN, "%012" PRIx64 ".%04" PRIx32 ".%s", h->hlc_ms & HLC_MS_MAX,
		 h->hlc_count, h->hlc_node);
}

int hlc_parse(const char *s, uint64_t *ms, uint32_t *count, const char **node)
{
	char *end;
	uint64_t m;
	unsigned long c;

	if (s == NULL || strlen(s) < 18 || s[12] != '.' || s[17] != '.')
		return -1;
	for (int i = 0; i < 17; i++)
		if (i != 12 && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	m = strtoull(s, &end, 16);
	if (end != s + 12)
		return -1;
	c = strtoul(s + 13, &end, 16);
	if (end != s + 17)
		return -1;
	if (strlen(s + 18) > HLC_NODE_MAX)
		return -1;
	if (ms)
		*ms = m;
	if (count)
		*count = (uint32_t)c;
	if (node)
		*node = s + 18;
	return 0;
}

static void merge(hlc *h, uint64_t rm, uint32_t rc)
{
	uint64_t w = wall(h);

	if (w > h->hlc_ms && w > rm) {
		h->hlc_ms = w;
		h->hlc_count = 0;
	} else if (rm > h->hlc_ms) {
		h->hlc_ms = rm;
		h->hlc_count = rc;
	} else if (rm == h->hlc_ms && rc > h->hlc_count) {
		h->hlc_count = rc;
	}
	/* The next hlc_now() increments past what we saw. */
}

int hlc_plausible(const char *stamp, uint64_t wall_ms)
{
	uint64_t ms;

	return hlc_parse(stamp, &ms, NULL, NULL) == 0 && ms <= wall_ms + HLC_MAX_AHEAD_MS;
}

int hlc_time_plausible(double ms)
{
	return ms >= (double)HLC_FIRST_MS && ms <= (double)hlc_wall_ms() + (double)HLC_MAX_AHEAD_MS;
}

int hlc_observe(hlc *h, const char *remote)
{
	uint64_t rm;
	uint32_t rc;

	if (hlc_parse(remote, &rm, &rc, NULL) != 0)
		return -1;
	if (rm > wall(h) + HLC_MAX_AHEAD_MS)
		return 1;
	merge(h, rm, rc);
	return 0;
}

int hlc_resume(hlc *h, const char *own)
{
	uint64_t rm;
	uint32_t rc;

	if (hlc_parse(own, &rm, &rc, NULL) != 0)
		return -1;
	merge(h, rm, rc);
	return 0;
}
