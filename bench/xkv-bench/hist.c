// SPDX-License-Identifier: GPL-2.0
/*
 * hist.c - latency histogram: merge and quantiles (see hist.h).
 */
#include <string.h>

#include "hist.h"

/**
 * hist_init() - empty a histogram.
 * @h: the histogram
 */
void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/**
 * hist_merge() - add one histogram's counts to another's.
 * @dst: receives the sum
 * @src: left unchanged
 */
void hist_merge(struct hist *dst, const struct hist *src)
{
	u32 i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* the smallest and the largest value bucket @i holds */
static void bucket_range(u32 i, u64 *lo, u64 *hi)
{
	u32 shift;

	if (i < HIST_SUB) {
		*lo = i;
		*hi = i;
		return;
	}
	shift = i / HIST_HALF - 1;
	*lo = (u64)(i - shift * HIST_HALF) << shift;
	*hi = *lo + ((1ULL << shift) - 1);
}

/**
 * hist_quantile() - the value below which a fraction of the values lie.
 * @h: the histogram
 * @q: fraction, 0..1 (0.5 is the median, 0.999 the 99.9th percentile)
 *
 * Return: the middle of the bucket holding the ceil(q * count)-th smallest
 * value, never more than the maximum recorded; 0 when @h is empty.
 */
u64 hist_quantile(const struct hist *h, double q)
{
	u64 rank, seen = 0, lo, hi, mid;
	u32 i;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	rank = (u64)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank)
			break;
	}
	if (i == HIST_BUCKETS)
		return h->max;
	bucket_range(i, &lo, &hi);
	mid = lo + (hi - lo) / 2;
	if (mid > h->max)
		mid = h->max;
	if (mid < h->min)
		mid = h->min;
	return mid;
}
