/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_bound.h - values the verifier can bound, for the XDP and the
 * learning programs.
 *
 * Older verifiers (6.1) lose a bound clang proved when clang copies the
 * value to another register first, or after a byte swap; and clang drops
 * a check or a mask it can prove changes nothing. An empty asm hides the
 * value from clang, so the check or mask after it is done where the
 * verifier sees it.
 */
#ifndef XKV_BOUND_H
#define XKV_BOUND_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>

/**
 * xkv_opaque() - a value clang knows nothing about.
 * @v: the value
 *
 * For a length checked again right before a helper takes it.
 *
 * Return: @v.
 */
static __always_inline __u32 xkv_opaque(__u32 v)
{
	asm volatile("" : "+r"(v));
	return v;
}

/**
 * xkv_bound() - @v & @mask, computed where the verifier sees it.
 * @v:    the value
 * @mask: a power of two minus one
 *
 * Return: @v & @mask.
 */
static __always_inline __u32 xkv_bound(__u32 v, __u32 mask)
{
	return xkv_opaque(v) & mask;
}

/**
 * xkv_be16() - a 16-bit network-order field as a number below 2^16.
 * @v: the field
 *
 * Return: the field in host order, bounded for the verifier.
 */
static __always_inline __u32 xkv_be16(__be16 v)
{
	return xkv_bound(bpf_ntohs(v), 0xffff);
}

#endif /* XKV_BOUND_H */
