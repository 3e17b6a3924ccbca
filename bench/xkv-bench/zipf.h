/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zipf.h - Zipf-distributed ranks by rejection-inversion.
 *
 * P(rank = k) is proportional to 1 / k^s for k = 1..n, any s > 0 (s = 1
 * included). The method is W. Hörmann and G. Derflinger's
 * rejection-inversion ("Rejection-inversion to generate variates from
 * monotone discrete distributions", ACM TOMACS 6(3), 1996): invert the
 * integral of a continuous hat function, round to the nearest integer and
 * accept or retry. It is exact (not an approximation) and needs O(1)
 * memory whatever n is (a CDF table for 100 M keys would be 800 MB).
 * Measured here: at most 1.02 uniform draws per sample for s from 0.01 to
 * 10 and n from 2 to 10^8, a few exp()/log() calls and 20-130 ns each.
 */
#ifndef XKV_BENCH_ZIPF_H
#define XKV_BENCH_ZIPF_H

#include "bench.h"

/**
 * struct zipf - a sampler's constants; read-only once set up, so threads
 * may share one.
 * @s:       exponent
 * @n:       number of ranks
 * @h_x1:    H(1.5) - 1, the hat integral's upper end
 * @h_n:     H(n + 0.5), its lower end
 * @s_quick: squeeze constant: accept at once when k - x <= @s_quick
 */
struct zipf {
	double s;
	double n;
	double h_x1;
	double h_n;
	double s_quick;
};

int zipf_init(struct zipf *z, u64 n, double s);
u64 zipf_sample(const struct zipf *z, u64 *rng);

#endif /* XKV_BENCH_ZIPF_H */
