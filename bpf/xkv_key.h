/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_key.h - comparing a key with a slot's, for the XDP and the learning
 * programs.
 */
#ifndef XKV_KEY_H
#define XKV_KEY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xkv_consts.h"

/*
 * Key comparison, 8 bytes per bpf_loop() round. A bounded loop would be
 * cheaper to run but costs the verifier one path per possible key length
 * (its exit), times whatever state leads into it.
 */
struct xkv_eq_ctx {
	const __u8 *a;		/* both readable up to a multiple of 8 */
	const __u8 *b;
	__u32 len;
	__u32 differ;
};

static long xkv_eq_cb(__u32 i, void *data)
{
	struct xkv_eq_ctx *c = data;
	__u32 off = (i & (XKV_KEY_ROOM / 8 - 1)) * 8, rem = c->len - off;
	__u64 x, y, m = ~0ULL;

	x = *(const __u64 *)(c->a + off);
	y = *(const __u64 *)(c->b + off);
	if (rem < 8) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		m = (1ULL << (rem * 8)) - 1;
#else
		m = ~0ULL << ((8 - rem) * 8);
#endif
	}
	if ((x ^ y) & m) {
		c->differ = 1;
		return 1;
	}
	return 0;
}

/* bytes of a key compared or copied inline, without bpf_loop() */
#define XKV_KEY_INLINE 32

/* the first @len (0..8) bytes of a word loaded from memory */
static __always_inline __u64 xkv_word_mask(__u32 len)
{
	if (len >= 8)
		return ~0ULL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (1ULL << (len * 8)) - 1;
#else
	return ~(~0ULL >> (len * 8));
#endif
}

/*
 * Do @len (1..XKV_HOT_KEY_MAX) bytes at @a and @b match? Both must be
 * readable up to a multiple of 8 and at least XKV_KEY_INLINE bytes. Keys
 * up to XKV_KEY_INLINE bytes are compared in four word loads each, with
 * no branch on the length (the verifier sees one path); longer keys
 * take a bpf_loop() round per 8 bytes.
 */
static __always_inline int xkv_key_eq(const __u8 *a, const __u8 *b, __u32 len)
{
	struct xkv_eq_ctx c = { .a = a, .b = b, .len = len, .differ = 0 };
	__u64 x;

	if (len > XKV_KEY_INLINE) {
		bpf_loop((len + 7) / 8, xkv_eq_cb, &c, 0);
		return !c.differ;
	}
	x = (*(const __u64 *)a ^ *(const __u64 *)b) & xkv_word_mask(len);
	x |= (*(const __u64 *)(a + 8) ^ *(const __u64 *)(b + 8)) &
	     xkv_word_mask(len < 8 ? 0 : len - 8);
	x |= (*(const __u64 *)(a + 16) ^ *(const __u64 *)(b + 16)) &
	     xkv_word_mask(len < 16 ? 0 : len - 16);
	x |= (*(const __u64 *)(a + 24) ^ *(const __u64 *)(b + 24)) &
	     xkv_word_mask(len < 24 ? 0 : len - 24);
	return !x;
}

#endif /* XKV_KEY_H */
