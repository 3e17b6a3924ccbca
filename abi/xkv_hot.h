/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_hot.h - the hot cache: the slot layout and where a key lives.
 *
 * Map xkv_hot (its name in the BPF object and in the pins under
 * /sys/fs/bpf/xkv/<if>/): BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, __u32 ->
 * struct xkv_slot, max_entries = xkv_config.nslots (a power of two). Its
 * owner (the backend, or learning mode's programs) installs, others may only
 * empty, each under the slot's seqlock (xkv_slot.h).
 */
#ifndef XKV_ABI_HOT_H
#define XKV_ABI_HOT_H

#include "xkv_types.h"

/* bytes of one slot; a power of two, two slots per 4 KiB page */
#define XKV_HOT_SLOT_SIZE 2048
/* longest key (memcached's KEY_MAX_LENGTH) */
#define XKV_HOT_KEY_MAX 250
/* room for the key in a slot (XKV_HOT_KEY_MAX rounded up to 8) */
#define XKV_HOT_KEY_ROOM 256
/* bytes before the key: the slot header */
#define XKV_HOT_HDR_SIZE 32
/* longest value a slot holds (the data only, without its "\r\n") */
#define XKV_HOT_VAL_MAX \
	(XKV_HOT_SLOT_SIZE - XKV_HOT_HDR_SIZE - XKV_HOT_KEY_ROOM)
/* default slot count (32 MiB); the loader may choose any power of two */
#define XKV_HOT_SLOTS_DEFAULT 16384
/* XDP bumps xkv_slot.hits once per this many hits, on average */
#define XKV_HOT_HIT_SAMPLE 16

/**
 * struct xkv_slot - one hot-cache entry, XKV_HOT_SLOT_SIZE bytes.
 * @seq:       sequence counter, the slot's seqlock. Even: stable. Odd: a
 *             writer is inside. Every write adds 2 in total.
 * @hits:      approximate XDP hits since the key was installed: XDP adds 1
 *             with probability 1/XKV_HOT_HIT_SAMPLE per key it serves, with
 *             an atomic add, outside the seqlock. The writer zeroes it
 *             (atomic store) when it installs a different key. A popularity
 *             hint for admission; never exact.
 * @cas:       the item's CAS unique, sent by "gets".
 * @expire_ns: CLOCK_MONOTONIC time in ns at which the item expires, 0 =
 *             never. XDP serves the slot only while
 *             bpf_ktime_get_ns() < @expire_ns. The store's clock runs on
 *             CLOCK_MONOTONIC too (a step of the wall clock moves
 *             neither), so the store and XDP expire an item together.
 * @flags:     the item's client flags, printed in decimal.
 * @key_len:   key length, 1..XKV_HOT_KEY_MAX; 0 = empty slot.
 * @val_len:   value length in bytes, 0..XKV_HOT_VAL_MAX (the data alone).
 * @key:       the key's bytes; bytes past @key_len are ignored.
 * @xflags:    XKV_SLOT_F_*, in the last byte of the key's room (a key is
 *             at most XKV_HOT_KEY_MAX bytes, so it never reaches it). A
 *             backend that knows everything about its items leaves it 0.
 * @val:       the value's bytes; bytes past @val_len are ignored.
 *
 * A key lives in one way of its set (xkv_hot_way(), XKV_HOT_WAYS slots)
 * or nowhere, never in two. Nothing read from a slot is trusted: anyone
 * with the map may write it, so readers bound @key_len and @val_len.
 */
struct xkv_slot {
	__u32 seq;
	__u32 hits;
	__u64 cas;
	__u64 expire_ns;
	__u32 flags;
	__u16 key_len;
	__u16 val_len;
	union {
		__u8 key[XKV_HOT_KEY_ROOM];
		struct {
			__u8 key_room_[XKV_HOT_KEY_ROOM - 1];
			__u8 xflags;
		};
	};
	__u8 val[XKV_HOT_VAL_MAX];
};

/*
 * xkv_slot.xflags: the CAS unique is not known (learning mode installed
 * the value from a "get" reply, which carries none): XDP serves "get" from
 * the slot but passes "gets" to the backend.
 */
#define XKV_SLOT_F_NO_CAS 0x01

XKV_STATIC_ASSERT(sizeof(struct xkv_slot) == XKV_HOT_SLOT_SIZE,
		  "struct xkv_slot must be XKV_HOT_SLOT_SIZE bytes");
XKV_STATIC_ASSERT(__builtin_offsetof(struct xkv_slot, key) ==
			  XKV_HOT_HDR_SIZE,
		  "the slot header must be XKV_HOT_HDR_SIZE bytes");
XKV_STATIC_ASSERT(__builtin_offsetof(struct xkv_slot, xflags) ==
			  XKV_HOT_HDR_SIZE + XKV_HOT_KEY_ROOM - 1 &&
		  XKV_HOT_KEY_MAX < XKV_HOT_KEY_ROOM - 1,
		  "xflags must lie in the key's room, past the longest key");

/*
 * Writing and reading a slot: the seqlock, who may write what, and when a
 * writer gives up, are in xkv_slot.h, the one implementation of it.
 */

/*
 * The slot hash: 32-bit FNV-1a over the key bytes, then a xorshift-multiply
 * finaliser so that the low bits (the slot index) depend on every byte.
 */
#define XKV_HOT_FNV_BASIS 2166136261U
#define XKV_HOT_FNV_PRIME 16777619U

/**
 * xkv_hot_hash_step() - fold one key byte into a running hash.
 * @h: hash so far (XKV_HOT_FNV_BASIS before the first byte)
 * @c: next byte of the key
 *
 * Return: the new running hash.
 */
XKV_ABI_INLINE __u32 xkv_hot_hash_step(__u32 h, __u8 c)
{
	return (h ^ c) * XKV_HOT_FNV_PRIME;
}

/**
 * xkv_hot_hash_final() - finish a running hash.
 * @h: hash after the key's last byte
 *
 * Return: the key's hash.
 */
XKV_ABI_INLINE __u32 xkv_hot_hash_final(__u32 h)
{
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	return h;
}

/**
 * xkv_hot_hash() - hash of a whole key, as XDP computes it.
 * @key: key bytes
 * @len: key length
 *
 * Return: the hash; xkv_hot_index() turns it into a slot number.
 */
static inline __u32 xkv_hot_hash(const void *key, __u32 len)
{
	const __u8 *p = (const __u8 *)key;
	__u32 h = XKV_HOT_FNV_BASIS;
	__u32 i;

	for (i = 0; i < len; i++)
		h = xkv_hot_hash_step(h, p[i]);
	return xkv_hot_hash_final(h);
}

/*
 * The hot cache is set-associative: a key may live in any of the
 * XKV_HOT_WAYS slots of its set, never in two of them. The set is the
 * aligned group of XKV_HOT_WAYS slots around xkv_hot_index(); way w of a
 * key is xkv_hot_way(hash, nslots, w), so way 0 is xkv_hot_index() itself
 * and writers prefer it. Measured with bench/hotsim (Zipf 0.99, slots a
 * few percent of the keys): 1 way keeps about 91% of the ideal hit ratio,
 * 2 ways 95%, 4 ways 97%.
 */
#define XKV_HOT_WAYS 4

/**
 * xkv_hot_way() - slot number of way @w of a hash's set.
 * @hash:   xkv_hot_hash() of the key
 * @nslots: slot count, a power of two, at least XKV_HOT_WAYS
 * @w:      way, below XKV_HOT_WAYS
 *
 * Return: the slot index, below @nslots.
 */
XKV_ABI_INLINE __u32 xkv_hot_way(__u32 hash, __u32 nslots, __u32 w)
{
	return (hash & (nslots - 1)) ^ w;
}

/**
 * xkv_hot_index() - slot number of a hash.
 * @hash:   xkv_hot_hash() of the key
 * @nslots: slot count, a power of two (the map's max_entries)
 *
 * Return: the slot index, below @nslots.
 */
XKV_ABI_INLINE __u32 xkv_hot_index(__u32 hash, __u32 nslots)
{
	return hash & (nslots - 1);
}

#endif /* XKV_ABI_HOT_H */
