/* SPDX-License-Identifier: GPL-2.0 */
/*
 * busy.h - when an xkvd worker busy-polls: the decision alone.
 *
 * A worker polls its device queue while its events come closer together
 * than the poll lasts and stops once they come four times further apart
 * (kmod/user/worker.c says why). The decision is kept apart from the
 * ioctl that applies it so that tests/unit/test_busy.c can drive it with
 * made-up clocks.
 */
#ifndef XKV_USER_BUSY_H
#define XKV_USER_BUSY_H

#include "os.h"

/* the average gap between events that turns the poll off: this x its length */
#define XKVD_BUSY_OFF_FACTOR 4
/* the moving average's weight of the newest gap: 1 / 2^this */
#define XKVD_BUSY_GAP_SHIFT 3
/* gaps above this count as this: one idle minute must not take minutes */
#define XKVD_BUSY_GAP_MAX_NS (1000ULL * 1000 * 1000)

/**
 * struct xkvd_busy - one worker's busy-poll state.
 * @ev_ns:  when epoll_wait() last returned events (CLOCK_MONOTONIC), 0
 *          before the first time
 * @gap_ns: a moving average of the time between those returns
 * @on:     busy polling is on now
 */
struct xkvd_busy {
	u64 ev_ns;
	u64 gap_ns;
	bool on;
};

/**
 * xkvd_busy_next() - fold one return of epoll_wait() into @b.
 * @b:       the worker's state (@b->on is not changed here)
 * @now_ns:  CLOCK_MONOTONIC now
 * @poll_ns: how long one poll lasts (--busy-poll), in ns
 *
 * The first call only starts the clock; a clock that went back counts as
 * no gap, and a gap over %XKVD_BUSY_GAP_MAX_NS as that much. Between the
 * poll's length and %XKVD_BUSY_OFF_FACTOR times it the state stays as it
 * was, so an event rate near the line does not flip it on every event.
 *
 * Return: whether the worker should poll from now on.
 */
static inline bool xkvd_busy_next(struct xkvd_busy *b, u64 now_ns,
				  u64 poll_ns)
{
	u64 gap = b->ev_ns && now_ns > b->ev_ns ? now_ns - b->ev_ns : 0;

	if (gap > XKVD_BUSY_GAP_MAX_NS)
		gap = XKVD_BUSY_GAP_MAX_NS;
	b->ev_ns = now_ns;
	b->gap_ns = b->gap_ns - (b->gap_ns >> XKVD_BUSY_GAP_SHIFT) +
		    (gap >> XKVD_BUSY_GAP_SHIFT);
	if (b->gap_ns < poll_ns)
		return true;
	if (b->gap_ns > XKVD_BUSY_OFF_FACTOR * poll_ns)
		return false;
	return b->on;
}

#endif /* XKV_USER_BUSY_H */
