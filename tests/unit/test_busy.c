// SPDX-License-Identifier: GPL-2.0
/*
 * test_busy.c - when an xkvd worker busy-polls (kmod/user/busy.h), driven
 * with made-up clocks: on while its events come closer together than the
 * poll lasts, off once they come four times further apart, no flipping in
 * between, and an idle minute that weighs no more than an idle second.
 */
#include "busy.h"
#include "tap.h"

#define US 1000ULL
#define MS (1000 * US)
#define S (1000 * MS)
/* xkvd's default poll behind XDP (XKVD_BUSY_POLL_HOT_US) */
#define POLL (20 * US)

/*
 * @n returns of epoll_wait() @gap apart from @b's last one, each result
 * applied as worker.c applies it (the kernel always takes it here).
 * Returns how many of them found polling on.
 */
static unsigned int run(struct xkvd_busy *b, u64 *now, u64 gap,
			unsigned int n)
{
	unsigned int i, on = 0;

	for (i = 0; i < n; i++) {
		*now += gap;
		b->on = xkvd_busy_next(b, *now, POLL);
		on += b->on;
	}
	return on;
}

/* events until polling is @want, at most @max of them @gap apart */
static unsigned int until(struct xkvd_busy *b, u64 *now, u64 gap, bool want,
			  unsigned int max)
{
	unsigned int i;

	for (i = 1; i <= max; i++) {
		*now += gap;
		b->on = xkvd_busy_next(b, *now, POLL);
		if (b->on == want)
			return i;
	}
	return max + 1;
}

static void test_dense_and_sparse(void)
{
	struct xkvd_busy b = { .on = true };
	u64 now = 5 * S;
	unsigned int n;

	tap_ok(xkvd_busy_next(&b, now, POLL), "first event: no gap yet, on");
	tap_is_u64(b.gap_ns, 0, "the first event only starts the clock");
	tap_is_u64(run(&b, &now, 2 * US, 10000), 10000,
		   "events 2 us apart: on for all of 10,000");
	tap_ok(b.gap_ns <= 2 * US, "their average gap is 2 us or less");

	/* behind XDP with 99% hits: a miss a millisecond */
	tap_is_u64(until(&b, &now, MS, false, 100), 1,
		   "misses 1 ms apart turn it off at the first");
	tap_is_u64(run(&b, &now, MS, 1000), 0,
		   "and it stays off for 1,000 more");

	/* dense again: from a 1 ms average, 2 us gaps; 7/8 per event */
	n = until(&b, &now, 2 * US, true, 100);
	tap_ok(n > 20 && n <= 40,
	       "events 2 us apart again: on after 21 to 40 (%u)", n);
	tap_is_u64(run(&b, &now, 2 * US, 1000), 1000, "and it stays on");
}

static void test_between(void)
{
	struct xkvd_busy b = { .on = true };
	u64 now = S;

	b.on = xkvd_busy_next(&b, now, POLL);
	tap_is_u64(run(&b, &now, 40 * US, 2000), 2000,
		   "gaps of 40 us (2x the poll): on stays on");
	tap_ok(b.gap_ns > POLL && b.gap_ns < 4 * POLL,
	       "their average is between the poll and 4x it");
	b.on = false;
	tap_is_u64(run(&b, &now, 40 * US, 2000), 0,
		   "gaps of 40 us: off stays off");
	tap_is_u64(until(&b, &now, 100 * US, true, 100), 100 + 1,
		   "gaps of 100 us while off: never on");
	b.on = true;
	tap_ok(until(&b, &now, 100 * US, false, 100) <= 100,
	       "gaps of 100 us while on: off");
	tap_ok(b.gap_ns > 4 * POLL, "once the average passed 4x the poll");
}

static void test_idle_and_clock(void)
{
	struct xkvd_busy b = { .on = true };
	u64 now = S, before;

	b.on = xkvd_busy_next(&b, now, POLL);
	run(&b, &now, 2 * US, 100);
	tap_ok(b.on, "busy before the idle minute");
	now += 60 * S;
	b.on = xkvd_busy_next(&b, now, POLL);
	tap_ok(!b.on, "the first event after an idle minute turns it off");
	tap_ok(b.gap_ns <=
	       (XKVD_BUSY_GAP_MAX_NS >> XKVD_BUSY_GAP_SHIFT) + 2 * US,
	       "the minute counted as one second");
	tap_ok(until(&b, &now, 2 * US, true, 70) <= 70,
	       "on again within 70 events 2 us apart (an unclamped minute "
	       "takes 96)");

	before = b.gap_ns;
	b.on = xkvd_busy_next(&b, now - 5 * MS, POLL);
	tap_ok(b.on, "a clock that went back: no gap, still on");
	tap_ok(b.gap_ns <= before, "and the average did not grow");
	tap_is_u64(b.ev_ns, now - 5 * MS, "the clock restarts from there");
}

int main(void)
{
	test_dense_and_sparse();
	test_between();
	test_idle_and_clock();
	return tap_done();
}
