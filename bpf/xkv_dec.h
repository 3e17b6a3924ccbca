/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_dec.h - decimal numbers printed in BPF: the digit count and the
 * digits, for the XDP program (a gets reply's CAS) and the learning
 * programs (the VALUE line's flags and length).
 */
#ifndef XKV_DEC_H
#define XKV_DEC_H

#include <linux/types.h>

#include "xkv_consts.h"	/* READ_ONCE, WRITE_ONCE */

/**
 * xkv_dec_len() - decimal digits of @v, 1..@max.
 * @v:   the value
 * @max: the most digits it can have (a constant: 10 or 20)
 * @mem: a word of per-CPU memory
 *
 * Verifier cost: the loop's exit gives the count a constant on each
 * path. If it were live afterwards, everything after would be verified
 * once per digit count. So the count goes through @mem, memory the
 * verifier does not track: the caller sees "some value in 1..@max" and
 * the paths merge.
 *
 * Return: the count.
 */
static __always_inline __u32 xkv_dec_len(__u64 v, __u32 max, __u32 *mem)
{
	__u64 t = 10;
	__u32 d = 1, k;

	for (k = 1; k < max; k++) {
		if (v < t)
			break;
		d++;
		t *= 10;
	}
	WRITE_ONCE(*mem, d);
	d = READ_ONCE(*mem);
	return d > max ? max : d ? d : 1;
}

/**
 * xkv_dec_next() - the lowest decimal digit of *@v, which loses it.
 * @v: the value
 *
 * Division by 10 as a multiplication while the value fits 32 bits.
 *
 * Return: the digit's character.
 */
static __always_inline __u8 xkv_dec_next(__u64 *v)
{
	__u64 d;
	__u8 c;

	if (*v >> 32)
		d = *v / 10;
	else
		d = (*v * 0xcccccccdULL) >> 35;
	c = '0' + (__u8)(*v - d * 10);
	*v = d;
	return c;
}

#endif /* XKV_DEC_H */
