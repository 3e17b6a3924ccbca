/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - small things every file of xkv-bench uses: fixed-width types,
 * branch hints and the clock.
 *
 * All times inside the tool are CLOCK_MONOTONIC nanoseconds (u64).
 */
#ifndef XKV_BENCH_H
#define XKV_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

/* exit statuses */
#define BENCH_EX_OK 0
#define BENCH_EX_FAIL 1 /* a wrong answer was seen, or no op done */
#define BENCH_EX_USAGE 2 /* bad command line, or could not start */

static inline u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

#endif /* XKV_BENCH_H */
