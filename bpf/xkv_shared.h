/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_shared.h - the layout of every map the XDP hot tier shares.
 *
 * One header for all sides: the BPF programs (bpf/), the backends that
 * write the hot cache (kmod/core through xkvd's mmap or xkv.ko's
 * bpf_map_get()), and the loader (loader/). Plain fixed-width types only
 * (__u8 ... __u64 from <linux/types.h>), no libc, no kernel-only calls, so
 * it compiles unchanged as BPF, as user-space C and in the kernel.
 *
 * Maps (names as the BPF object and the pins under /sys/fs/bpf/xkv/<if>/
 * spell them):
 *
 *   xkv_hot     BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE: __u32 -> struct xkv_slot,
 *               max_entries = xkv_config.nslots (a power of two). The hot
 *               cache; written only by the backend, under a per-slot
 *               seqlock (see xkv_slot_write_begin() below).
 *   xkv_stats   BPF_MAP_TYPE_PERCPU_ARRAY, one entry: struct xkv_stats.
 *               Sum the CPUs' copies to read it.
 *   xkv_allow4  BPF_MAP_TYPE_LPM_TRIE: struct xkv_lpm4 -> __u32 (1).
 *   xkv_allow6  BPF_MAP_TYPE_LPM_TRIE: struct xkv_lpm6 -> __u32 (1).
 *               Source prefixes XDP may answer. Empty = answer nobody
 *               (unless XKV_CFG_ALLOW_ANY).
 *
 * The program's settings, struct xkv_config, are not a map the backend
 * sees: the loader writes them into the object's read-only data before
 * loading it.
 */
#ifndef XKV_SHARED_H
#define XKV_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* --- the hot cache ------------------------------------------------------ */

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
 *             bpf_ktime_get_ns() < @expire_ns. The backend converts its
 *             expiry to this clock rounding down (never later than the
 *             backend's own notion of expiry).
 * @flags:     the item's client flags, printed in decimal.
 * @key_len:   key length, 1..XKV_HOT_KEY_MAX; 0 = empty slot.
 * @val_len:   value length in bytes, 0..XKV_HOT_VAL_MAX (the data alone).
 * @key:       the key's bytes; bytes past @key_len are ignored.
 * @val:       the value's bytes; bytes past @val_len are ignored.
 *
 * A key lives in slot xkv_hot_index(xkv_hot_hash(key, len), nslots) or
 * nowhere: one slot per key, the newest install wins.
 */
struct xkv_slot {
	__u32 seq;
	__u32 hits;
	__u64 cas;
	__u64 expire_ns;
	__u32 flags;
	__u16 key_len;
	__u16 val_len;
	__u8 key[XKV_HOT_KEY_ROOM];
	__u8 val[XKV_HOT_VAL_MAX];
};

#ifdef __cplusplus
#define XKV_STATIC_ASSERT(c, msg) static_assert(c, msg)
#else
#define XKV_STATIC_ASSERT(c, msg) _Static_assert(c, msg)
#endif
XKV_STATIC_ASSERT(sizeof(struct xkv_slot) == XKV_HOT_SLOT_SIZE,
		  "struct xkv_slot must be XKV_HOT_SLOT_SIZE bytes");
XKV_STATIC_ASSERT(__builtin_offsetof(struct xkv_slot, key) ==
			  XKV_HOT_HDR_SIZE,
		  "the slot header must be XKV_HOT_HDR_SIZE bytes");

/**
 * DOC: writing a slot (the seqlock protocol)
 *
 * Only the backend writes slots; XDP only reads them (and bumps @hits).
 * Several backend threads may write, so the sequence counter is both the
 * readers' seqlock and the writers' spinlock. To install, replace or
 * invalidate the key in slot i, while holding the item's lock in the store
 * and before acknowledging the client's write:
 *
 *  1. Begin: s = READ_ONCE(slot->seq). If s is odd, another writer is
 *     inside: cpu_relax() and read again. Else compare-and-swap seq from s
 *     to s + 1; on failure start over. The CAS must be a full barrier
 *     (atomic_try_cmpxchg() in the kernel, __atomic_compare_exchange_n()
 *     with __ATOMIC_SEQ_CST in user space), followed by smp_wmb() (user
 *     space: __atomic_thread_fence(__ATOMIC_RELEASE)) so that no store of
 *     step 2 becomes visible before the odd count.
 *  2. Write: any fields but @seq, in any order, with plain stores or
 *     memcpy. To install: @key_len, @key, @val_len, @val, @flags, @cas,
 *     @expire_ns, and @hits = 0 (atomic store) if the key changes. To
 *     invalidate: @key_len = 0 is enough.
 *  3. End: smp_store_release(&slot->seq, s + 2) (user space:
 *     __atomic_store_n(&slot->seq, s + 2, __ATOMIC_RELEASE)).
 *
 * Keep the window short: XDP passes a request to the backend whenever it
 * finds a slot odd or sees @seq move while it copies, so a writer that
 * stalls inside only costs hits, never correctness. A writer that dies
 * inside leaves the slot odd: unserved, and every later writer spins on
 * it, so a backend that starts on a map it did not create zeroes the whole
 * map (all slots empty and even) before it serves anything.
 *
 * Readers (XDP; a backend that wants to look, e.g. for admission): s0 =
 * load-acquire of @seq; if odd, give up; copy what is needed; then with a
 * read barrier (smp_rmb(); on arm64 XDP uses an atomic read, which is a
 * full barrier) load @seq again and use the copy only if it still equals
 * s0.
 *
 * Coherence: because the write is complete (step 3) before the backend
 * acknowledges, any GET that XDP starts after the client has seen the
 * acknowledgement either sees the new contents or sees the slot busy and
 * passes. A GET already in flight may return the old value, as it could
 * from memcached itself.
 */

/*
 * The slot hash: 32-bit FNV-1a over the key bytes, then a xorshift-multiply
 * finaliser so that the low bits (the slot index) depend on every byte.
 */
#define XKV_HOT_FNV_BASIS 2166136261U
#define XKV_HOT_FNV_PRIME 16777619U

#ifdef __always_inline
#define XKV_HOT_INLINE static __always_inline
#else
#define XKV_HOT_INLINE static inline __attribute__((__always_inline__))
#endif

/**
 * xkv_hot_hash_step() - fold one key byte into a running hash.
 * @h: hash so far (XKV_HOT_FNV_BASIS before the first byte)
 * @c: next byte of the key
 *
 * Return: the new running hash.
 */
XKV_HOT_INLINE __u32 xkv_hot_hash_step(__u32 h, __u8 c)
{
	return (h ^ c) * XKV_HOT_FNV_PRIME;
}

/**
 * xkv_hot_hash_final() - finish a running hash.
 * @h: hash after the key's last byte
 *
 * Return: the key's hash.
 */
XKV_HOT_INLINE __u32 xkv_hot_hash_final(__u32 h)
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

/**
 * xkv_hot_index() - slot number of a hash.
 * @hash:   xkv_hot_hash() of the key
 * @nslots: slot count, a power of two (the map's max_entries)
 *
 * Return: the slot index, below @nslots.
 */
XKV_HOT_INLINE __u32 xkv_hot_index(__u32 hash, __u32 nslots)
{
	return hash & (nslots - 1);
}

/* --- settings ----------------------------------------------------------- */

/* memcached's UDP datagram size, the 8-byte frame header included */
#define XKV_UDP_PAYLOAD_DEFAULT 1400
/* the largest reply payload the program can build, whatever the config */
#define XKV_UDP_PAYLOAD_CAP 2048

/* xkv_config.flags */
#define XKV_CFG_ALLOW_ANY 0x1	/* skip the allowlist: answer any source */
#define XKV_CFG_HEAD_FIRST 0x2	/* grow replies at the head first (drivers
				 * with headroom but no tailroom; the tests
				 * use it to cover that path) */

/**
 * struct xkv_config - the XDP program's settings, fixed before load.
 * @port:      UDP port of memcached requests, host byte order.
 * @flags:     XKV_CFG_*.
 * @nslots:    slots in xkv_hot, a power of two; must equal the map's
 *             max_entries.
 * @max_reply: largest reply UDP payload (frame header included) XDP sends,
 *             at most XKV_UDP_PAYLOAD_CAP; larger replies are passed to the
 *             backend. Default XKV_UDP_PAYLOAD_DEFAULT, as memcached.
 * @amp_ratio: reply/request budget: XDP answers only when the reply's UDP
 *             payload is at most @amp_ratio times the request's. 0 = no
 *             budget.
 */
struct xkv_config {
	__u16 port;
	__u16 flags;
	__u32 nslots;
	__u32 max_reply;
	__u32 amp_ratio;
};

/* --- statistics --------------------------------------------------------- */

/*
 * Per-CPU counters, one struct xkv_stats per CPU. Every packet the program
 * sees is counted in "packets" and in exactly one of: replies, misses,
 * errors, or one pass_* reason, so
 *   packets == replies + misses + errors + sum(pass_*).
 * X(name, description): the loader prints the names and descriptions.
 */
#define XKV_STATS(X)							\
	X(packets, "packets seen")					\
	X(requests, "get/gets requests parsed")				\
	X(hits, "keys served by XDP")					\
	X(replies, "replies sent (XDP_TX)")				\
	X(reply_bytes, "UDP payload bytes of replies")			\
	X(misses, "passed: a key not in the hot cache")			\
	X(errors, "unexpected failures (passed or dropped)")		\
	X(pass_not_udp, "passed: not IPv4/IPv6 UDP")			\
	X(pass_other_port, "passed: UDP to another port")		\
	X(pass_fragment, "passed: IP fragment")				\
	X(pass_malformed, "passed: truncated or malformed request")	\
	X(pass_not_get, "passed: not a get/gets command")		\
	X(pass_not_allowed, "passed: source not in the allowlist")	\
	X(pass_group, "passed: to a broadcast or multicast address")	\
	X(pass_expired, "passed: a key's slot expired")			\
	X(pass_busy, "passed: a slot being written")			\
	X(pass_too_big, "passed: request or reply too big for XDP")	\
	X(pass_budget, "passed: reply over the reply/request budget")	\
	X(pass_no_room, "passed: the frame could not grow")

#define XKV_STAT_FIELD(name, desc) __u64 name;
/**
 * struct xkv_stats - per-CPU counters; see XKV_STATS for the fields.
 */
struct xkv_stats {
	XKV_STATS(XKV_STAT_FIELD)
};
#undef XKV_STAT_FIELD

#define XKV_STAT_ENUM(name, desc) XKV_STAT_##name,
/* index of each counter when struct xkv_stats is read as __u64[] */
enum xkv_stat_id {
	XKV_STATS(XKV_STAT_ENUM)
	XKV_STAT_NR
};
#undef XKV_STAT_ENUM

/* --- the allowlist ------------------------------------------------------ */

/* LPM keys: prefix length in bits, then the address in network order */
struct xkv_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct xkv_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

#define XKV_ALLOW_MAX 1024	/* max_entries of each allowlist trie */

#endif /* XKV_SHARED_H */
