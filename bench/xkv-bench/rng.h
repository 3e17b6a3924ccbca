/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rng.h - splitmix64: a fast 64-bit generator for per-thread streams, and
 * its finalizer used as a hash.
 *
 * splitmix64 (Steele, Lea, Flood; "Fast splittable pseudorandom number
 * generators", OOPSLA 2014) passes BigCrush, needs one add and a few
 * multiplies per number, and its state is one word, so each thread keeps
 * its own and nothing is shared.
 */
#ifndef XKV_BENCH_RNG_H
#define XKV_BENCH_RNG_H

#include "bench.h"

#define RNG_GOLDEN 0x9e3779b97f4a7c15ULL

/* mix64() - a bijective 64-bit hash (splitmix64's output function) */
static inline u64 mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline u64 rng_next(u64 *state)
{
	*state += RNG_GOLDEN;
	return mix64(*state);
}

/* a double uniform in [0, 1) with 53 random bits */
static inline double rng_double(u64 *state)
{
	return (double)(rng_next(state) >> 11) * 0x1.0p-53;
}

/* a number uniform in [0, n), n > 0, by Lemire's multiply-shift */
static inline u32 rng_below(u64 *state, u32 n)
{
	return (u32)(((rng_next(state) >> 32) * (u64)n) >> 32);
}

#endif /* XKV_BENCH_RNG_H */
