/* SPDX-License-Identifier: GPL-2.0 */
/*
 * num.h - numbers in a request, as memcached's safe_strto*() read them.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_NUM_H
#define XKV_LEARN_NUM_H

/* --- numbers, as memcached's safe_strto*() read them ---------------------- */

static __always_inline int xl_is_space(__u8 c)
{
	/* isspace() in the C locale; ' ' and '\n' never reach a token */
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static __always_inline void xl_num_reset(__u8 *nst, __u8 *nf, __u64 *mag)
{
	*nst = XKV_LN_LEAD;
	*nf = 0;
	*mag = 0;
}

/* one byte of a token read as strtol()/strtoul() read it, base 10 */
static __always_inline void xl_num_step(__u8 *nst, __u8 *nf, __u64 *mag, __u8 c)
{
	__u64 d = c - '0', m = *mag;
	int digit = c >= '0' && c <= '9';

	if (c == '-')
		*nf |= XKV_LNF_DASH;
	switch (*nst) {
	case XKV_LN_LEAD:
		if (xl_is_space(c))
			return;
		if (c == '+' || c == '-') {
			if (c == '-')
				*nf |= XKV_LNF_NEG;
			*nst = XKV_LN_SIGN;
			return;
		}
		/* fall through */
	case XKV_LN_SIGN:
		if (!digit) {
			*nst = XKV_LN_BAD;
			return;
		}
		*nst = XKV_LN_DIG;
		*mag = d;
		return;
	case XKV_LN_DIG:
		if (digit) {
			if (m > 1844674407370955161ULL ||
			    (m == 1844674407370955161ULL && d > 5))
				*nf |= XKV_LNF_OVF;
			else
				*mag = m * 10 + d;
		} else if (xl_is_space(c)) {
			*nst = XKV_LN_TAIL;
		} else {
			*nst = XKV_LN_BAD;
		}
		return;
	}
}

/* safe_strtol(): accepted, and the int32_t memcached keeps in @out */
static __always_inline int xl_strtol(__u8 nst, __u8 nf, __u64 mag, __s32 *out)
{
	__u64 v;

	if (nst != XKV_LN_DIG && nst != XKV_LN_TAIL)
		return 0;
	if (nf & XKV_LNF_OVF)
		return 0;
	/* strtol's ERANGE: beyond a 64-bit long */
	if (!(nf & XKV_LNF_NEG) && mag > 0x7fffffffffffffffULL)
		return 0;
	if ((nf & XKV_LNF_NEG) && mag > 0x8000000000000000ULL)
		return 0;
	v = (nf & XKV_LNF_NEG) ? -mag : mag;
	*out = (__s32)(__u32)v;
	return 1;
}

/* safe_strtoul() (64-bit unsigned long) and safe_strtoull(): accepted? */
static __always_inline int xl_strtoul(__u8 nst, __u8 nf, __u64 mag)
{
	__u64 v;

	if (nst != XKV_LN_DIG && nst != XKV_LN_TAIL)
		return 0;
	if (nf & XKV_LNF_OVF)
		return 0;
	v = (nf & XKV_LNF_NEG) ? -mag : mag;
	if ((__s64)v < 0 && (nf & XKV_LNF_DASH))
		return 0;
	return 1;
}

#endif /* XKV_LEARN_NUM_H */
