/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hist.h - a latency histogram with logarithmic buckets (HDR style).
 *
 * Values are nanoseconds. Values below HIST_SUB are counted exactly; above,
 * each power of two is split into HIST_SUB / 2 linear sub-buckets, so a
 * bucket is at most 1/128 (0.8%) of its value wide, whatever the range.
 * Every u64 has a bucket: nothing is clipped. Recording is a few
 * instructions and no allocation; one histogram is ~58 KiB, one per thread,
 * merged at the end. Quantiles report the middle of the bucket that holds
 * them (error below 0.4%), capped by the exact maximum.
 */
#ifndef XKV_BENCH_HIST_H
#define XKV_BENCH_HIST_H

#include "bench.h"

#define HIST_SUB_BITS 8
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_HALF (HIST_SUB / 2)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_HALF + HIST_HALF)

/**
 * struct hist - one histogram.
 * @count: values recorded
 * @min:   smallest value (UINT64_MAX when empty)
 * @max:   largest value
 * @sum:   sum of values, for the mean
 * @b:     bucket counts
 */
struct hist {
	u64 count;
	u64 min;
	u64 max;
	u64 sum;
	u64 b[HIST_BUCKETS];
};

static inline u32 hist_index(u64 v)
{
	u32 shift;

	if (v < HIST_SUB)
		return (u32)v;
	/* 63 - clz is the top bit, >= HIST_SUB_BITS here */
	shift = (u32)(63 - __builtin_clzll(v)) - (HIST_SUB_BITS - 1);
	return shift * HIST_HALF + (u32)(v >> shift);
}

static inline void hist_add(struct hist *h, u64 v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_init(struct hist *h);
void hist_merge(struct hist *dst, const struct hist *src);
u64 hist_quantile(const struct hist *h, double q);

#endif /* XKV_BENCH_HIST_H */
