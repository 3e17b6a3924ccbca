// SPDX-License-Identifier: GPL-2.0
/*
 * clock.c - milliseconds of the monotonic clock, and sleeping.
 */
#include <errno.h>
#include <time.h>

#include "clock.h"

unsigned long long xkv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	       (unsigned long long)ts.tv_nsec / 1000000;
}

void xkv_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
