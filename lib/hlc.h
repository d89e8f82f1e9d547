/*
 * hlc.h - hybrid logical clock (Kulkarni et al.): physical milliseconds plus a
 * logical counter plus the node id, so edits order correctly even when an
 * office PC's clock is wrong or goes backwards.
 *
 * Text form, fixed width so that strcmp() orders timestamps and ties break
 * on node id:  "%012llx.%04x.%s"  (48-bit ms, 16-bit counter, node id).
 */
#ifndef OUTPOST_HLC_H
#define OUTPOST_HLC_H

#include <stdint.h>

#define HLC_NODE_MAX 40
/* How far ahead of this computer's (corrected) clock a time received from
 * elsewhere may be.  A node's clock follows the hub's within minutes, but
 * an office PC whose clock ran ahead while it was offline keeps stamping
 * from that time until the world catches up (a clock never goes back), so
 * honest stamps can be days or weeks ahead.  One more than a year ahead is
 * no clock's: a hostile node's ("ffffffffffff...", which carried every clock
 * that saw it to the end of the 48-bit field, where it wrapped round to 0,
 * and won every merge for ever).  hlc_observe() leaves such a time out; the
 * hub quarantines an entry that carries one (sync/apply.c). */
#define HLC_MAX_AHEAD_MS (366 * 24 * 60 * 60 * 1000LL)
#define HLC_STRLEN (12 + 1 + 4 + 1 + HLC_NODE_MAX + 1)

typedef uint64_t (*hlc_clock_fn)(void *arg);

typedef struct hlc {
	uint64_t hlc_ms;       /* last issued physical part */
	uint32_t hlc_count;    /* last issued logical part */
	char hlc_node[HLC_NODE_MAX + 1];
	hlc_clock_fn hlc_clock; /* wall clock in ms; NULL = CLOCK_REALTIME */
	void *hlc_clock_arg;
	int64_t hlc_offset_ms; /* added to the wall clock (trusted-time correction) */
} hlc;

void hlc_init(hlc *h, const char *node_id, hlc_clock_fn clock, void *arg);
void hlc_set_node(hlc *h, const char *node_id);
/* Issue a timestamp for a local event; strictly greater than any issued or
 * observed (until the 48-bit millisecond field is full, where it stays). */
void hlc_now(hlc *h, char out[HLC_STRLEN]);
/* Merge a timestamp received from elsewhere: 0; 1 when it is more than
 * HLC_MAX_AHEAD_MS ahead of the wall clock (left out); -1 when it does not
 * parse. */
int hlc_observe(hlc *h, const char *remote);
/* Merge a timestamp this clock's owner issued itself (its outbox after a
 * restart), however far ahead: 0, or -1 when it does not parse. */
int hlc_resume(hlc *h, const char *own);
/* 1 when stamp parses and is at most HLC_MAX_AHEAD_MS ahead of wall_ms. */
int hlc_plausible(const char *stamp, uint64_t wall_ms);
/* No Outpost office recorded anything before 2020-01-01: an earlier time is
 * a clock that lost its setting (1970, a dead CMOS battery) or a forgery. */
#define HLC_FIRST_MS 1577836800000LL
/* 1 when ms, a time an office recorded as data (a visit's arrival, an
 * audit event's), is one a clock can have given: from HLC_FIRST_MS to
 * HLC_MAX_AHEAD_MS past this computer's clock. */
int hlc_time_plausible(double ms);
/* Parse "ms.count.node"; node points into s.  0 or -1. */
int hlc_parse(const char *s, uint64_t *ms, uint32_t *count, const char **node);
uint64_t hlc_wall_ms(void);

#endif
