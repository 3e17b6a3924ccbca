// SPDX-License-Identifier: GPL-2.0
/*
 * zipf.c - Zipf ranks by rejection-inversion (see zipf.h).
 *
 * With h(x) = x^-s, the hat is its integral
 *	H(x) = (x^(1-s) - 1) / (1 - s)		(log x when s = 1)
 * and H's inverse is
 *	Hinv(y) = (1 + y (1 - s))^(1 / (1 - s))	(exp y when s = 1).
 * Both are written with log1p/expm1 so that s near 1 loses no precision.
 */
#include <errno.h>
#include <math.h>

#include "rng.h"
#include "zipf.h"

/* log(1 + x) / x, continuous at 0 */
static double log1p_over(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1 - x * (0.5 - x / 3);
}

/* (exp(x) - 1) / x, continuous at 0 */
static double expm1_over(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1 + x * (0.5 + x / 6);
}

static double hat(const struct zipf *z, double x)
{
	return exp(-z->s * log(x));
}

static double hat_integral(const struct zipf *z, double x)
{
	double lx = log(x);

	return expm1_over((1 - z->s) * lx) * lx;
}

static double hat_integral_inv(const struct zipf *z, double y)
{
	double t = y * (1 - z->s);

	if (t < -1) /* rounding: the true value is never below -1 */
		t = -1;
	return exp(log1p_over(t) * y);
}

/**
 * zipf_init() - set up a sampler.
 * @z: the sampler
 * @n: number of ranks, at least 1
 * @s: exponent, > 0
 *
 * Return: 0, or -EINVAL for an @n or @s out of range.
 */
int zipf_init(struct zipf *z, u64 n, double s)
{
	if (!n || !(s > 0) || !isfinite(s))
		return -EINVAL;
	z->s = s;
	z->n = (double)n;
	z->h_x1 = hat_integral(z, 1.5) - 1;
	z->h_n = hat_integral(z, z->n + 0.5);
	z->s_quick = 2 - hat_integral_inv(z, hat_integral(z, 2.5) - hat(z, 2));
	return 0;
}

/**
 * zipf_sample() - draw one rank.
 * @z:   the sampler
 * @rng: the caller's generator state
 *
 * Return: a rank in 1..n; rank 1 is the most likely.
 */
u64 zipf_sample(const struct zipf *z, u64 *rng)
{
	double u, x, kd;
	u64 k;

	for (;;) {
		u = z->h_n + rng_double(rng) * (z->h_x1 - z->h_n);
		x = hat_integral_inv(z, u);
		kd = floor(x + 0.5);
		if (kd < 1)
			kd = 1;
		else if (kd > z->n)
			kd = z->n;
		k = (u64)kd;
		if (kd - x <= z->s_quick ||
		    u >= hat_integral(z, kd + 0.5) - hat(z, kd))
			return k;
	}
}
