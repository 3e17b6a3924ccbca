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
 *               cache; its owner (the backend, or learning mode's
 *               programs) installs, others may only empty, each under
 *               the slot's seqlock (bpf/xkv_slot.h).
 *   xkv_stats   BPF_MAP_TYPE_PERCPU_ARRAY, one entry: struct xkv_stats.
 *               Sum the CPUs' copies to read it.
 *   xkv_allow4  BPF_MAP_TYPE_LPM_TRIE: struct xkv_lpm4 -> __u32 (1).
 *   xkv_allow6  BPF_MAP_TYPE_LPM_TRIE: struct xkv_lpm6 -> __u32 (1).
 *               Source prefixes XDP may answer. Empty = answer nobody
 *               (unless XKV_CFG_ALLOW_ANY).
 *   xkv_addrs   BPF_MAP_TYPE_HASH: struct xkv_addr -> __u32 XKV_ADDR_*:
 *               the interface's own addresses and subnet broadcast
 *               addresses, filled by the loader at attach time.
 *   xkv_live    BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, one entry: struct
 *               xkv_live, the backend's lease. XDP serves nothing once
 *               it has run out (see struct xkv_live).
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
XKV_STATIC_ASSERT(__builtin_offsetof(struct xkv_slot, xflags) ==
			  XKV_HOT_HDR_SIZE + XKV_HOT_KEY_ROOM - 1 &&
		  XKV_HOT_KEY_MAX < XKV_HOT_KEY_ROOM - 1,
		  "xflags must lie in the key's room, past the longest key");

/*
 * Writing and reading a slot: the seqlock, who may write what, and when a
 * writer gives up, are in bpf/xkv_slot.h, the one implementation of it.
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
XKV_HOT_INLINE __u32 xkv_hot_way(__u32 hash, __u32 nslots, __u32 w)
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
#define XKV_CFG_CSUM_PARTIAL 0x4	/* accept a UDP checksum field holding
				 * only the pseudo-header sum: what local
				 * senders with checksum offload put there
				 * (lo, veth); the loader sets it there */

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

/* --- backend liveness --------------------------------------------------- */

/* how long one beat keeps XDP serving: a dead backend's slots stop being
 * served at most this long after its last beat */
#define XKV_LIVE_LEASE_NS (500ULL * 1000 * 1000)
/* how often a live backend beats (well inside the lease) */
#define XKV_LIVE_BEAT_MS 100

/**
 * struct xkv_live - the backend's lease on the hot cache (map xkv_live).
 * @until_ns: CLOCK_MONOTONIC ns (bpf_ktime_get_ns()) up to which XDP may
 *            answer from the hot cache; 0 = no backend. The backend
 *            renews it with xkv_live_renew() every XKV_LIVE_BEAT_MS
 *            while it runs (xkvd and xkv.ko from their maintenance
 *            thread, the loader's watcher for a stock memcached while
 *            its process lives) and ends it with xkv_live_end() when it
 *            stops. A backend that dies stops beating: XDP passes
 *            every request from then on to the stack.
 * @pad:      zero
 */
struct xkv_live {
	__u64 until_ns;
	__u64 pad;
};

/**
 * xkv_live_renew() - one beat: XDP may serve for another lease.
 * @l:      the xkv_live map's value (mmap'ed, or the array's memory)
 * @now_ns: CLOCK_MONOTONIC now, in ns
 */
XKV_HOT_INLINE void xkv_live_renew(struct xkv_live *l, __u64 now_ns)
{
	*(volatile __u64 *)&l->until_ns = now_ns + XKV_LIVE_LEASE_NS;
}

/**
 * xkv_live_end() - the backend stops: XDP serves nothing from now on.
 * @l: the xkv_live map's value
 */
XKV_HOT_INLINE void xkv_live_end(struct xkv_live *l)
{
	*(volatile __u64 *)&l->until_ns = 0;
}

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
	X(pass_no_room, "passed: the frame could not grow")		\
	X(pass_martian, "passed: martian address or source port")	\
	X(pass_checksum, "passed: bad UDP checksum")			\
	X(pass_no_backend, "passed: the backend's lease ran out")

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

/*
 * xkv_addrs keys: an IPv6 address, or an IPv4 one mapped (::ffff:a.b.c.d).
 * What the stack drops, XDP passes: a request from one of the interface's
 * own addresses (anywhere but on lo), from a broadcast address, or sent to
 * a subnet broadcast address (the frame may carry a unicast MAC).
 */
struct xkv_addr {
	__u8 addr[16];
};

#define XKV_ADDR_LOCAL 0x1	/* an address of the interface */
#define XKV_ADDR_BCAST 0x2	/* the broadcast address of its subnet */
#define XKV_ADDRS_MAX 256	/* max_entries of xkv_addrs */

/* --- learning mode: a stock memcached backend --------------------------- */

/*
 * With a backend that has no xkv code in it, TC programs fill the hot cache
 * (bpf/xkv_learn.bpf.c; guarantees and limits in bpf/LEARNING.md): an
 * ingress program sees every request on its way to memcached, invalidates
 * the slot of every key a write names and notes the generation each GET
 * saw; an egress program learns values from memcached's GET replies and
 * installs one only if no write moved the slot's generation since the GET,
 * none was seen for a quarantine period, and the key was not written with
 * an expiry. The installer is then the owner of xkv_hot (bpf/xkv_slot.h:
 * the same seqlock, the same give-up policy). It installs a key in way 0
 * of its set only (xkv_hot_index()), so a key is never in two ways, and
 * invalidating that one slot is enough; XDP finds it there as in any way.
 *
 * Maps of the learning object (bpf/learn_attach.h loads and attaches it):
 *
 *   xkv_hot     the XDP object's hot cache, shared (its fd is reused).
 *   xkv_lmeta   BPF_MAP_TYPE_ARRAY: __u32 -> struct xkv_learn_slot,
 *               nslots entries, indexed like xkv_hot.
 *   xkv_locc    BPF_MAP_TYPE_ARRAY: __u32 -> __u64, nslots / 64 entries:
 *               bit (i % 64) of word (i / 64) is set while slot i may hold
 *               a learned key (so that a flush visits only those).
 *   xkv_lglob   BPF_MAP_TYPE_ARRAY, one entry: struct xkv_learn_glob.
 *   xkv_lstats  BPF_MAP_TYPE_PERCPU_ARRAY, one entry: struct
 *               xkv_learn_stats. Sum the CPUs' copies to read it.
 *   xkv_lflows  BPF_MAP_TYPE_ARRAY: the TCP streams being followed
 *               (struct xkv_learn_flow of bpf/xkv_learn.h), nflows entries.
 *   xkv_lifs    BPF_MAP_TYPE_HASH: __u32 ifindex -> __u32 XKV_LIF_*,
 *               written by learn_attach.c only: what attaching did, so that
 *               another process can undo exactly that.
 *   xkv_lowner  BPF_MAP_TYPE_ARRAY, one entry: struct xkv_learn_owner,
 *               written by user space (xkv_learn_own()) once memcached
 *               runs: egress learns only from packets of those sockets.
 *   xkv_lreq    BPF_MAP_TYPE_LRU_HASH: struct xkv_learn_req -> struct
 *               xkv_learn_reqv: a UDP request seen at ingress, its size
 *               and the reply bytes sent (one reply learned per request).
 *   xkv_allow4, xkv_allow6, xkv_addrs: the XDP object's maps of the same
 *               names, shared (their fds are reused; the fixtures get
 *               the object's own): the UDP policy's allowlist and the
 *               interface's broadcast addresses.
 */

/* default lifetime of a learned entry: bounds what a write this host's
 * ingress never saw, or an expiry it could not know of, leaves stale */
#define XKV_LEARN_TTL_MS_DEFAULT 10000
/* default write quarantine: a slot written (or the cache flushed) this
 * recently is not learned; must exceed memcached's request latency */
#define XKV_LEARN_QUIET_MS_DEFAULT 1000
/* default number of TCP streams followed (a power of two) */
#define XKV_LEARN_FLOWS_DEFAULT 16384
/* the fewest slots the learning object takes (one occupancy word) */
#define XKV_LEARN_SLOTS_MIN 64

/* xkv_learn_config.flags */
#define XKV_LCFG_TEXT_ONLY 0x1	/* memcached speaks only the text protocol
				 * (-B ascii): a TCP stream first seen in its
				 * middle is text, not possibly binary */
#define XKV_LCFG_NO_TCP_LEARN 0x2	/* learn from UDP replies only */
#define XKV_LCFG_UDP_BY_UID 0x4	/* fixtures only: UDP replies are checked
				 * by their socket's uid, as TCP replies
				 * are, not by socket cookie (each
				 * BPF_PROG_TEST_RUN has a new socket) */
#define XKV_LCFG_UDP_POLICY 0x8	/* enforce the UDP policy memcached
				 * cannot (LEARNING.md, "The UDP policy"):
				 * drop at ingress the datagrams to the UDP
				 * port that it refuses, and at egress what
				 * answers no request or exceeds @amp_ratio */

/**
 * struct xkv_learn_config - the learning programs' settings, fixed before
 * load (the object's read-only data, like struct xkv_config).
 * @tcp_port: memcached's TCP port, host byte order; 0 = no TCP.
 * @udp_port: memcached's UDP port, host byte order; 0 = no UDP.
 * @nslots:   slots of xkv_hot (a power of two, >= XKV_LEARN_SLOTS_MIN);
 *            xkv_lmeta has as many entries, xkv_locc nslots / 64.
 * @nflows:   entries of xkv_lflows, a power of two >= 2.
 * @ttl_ms:   lifetime of a learned entry in ms (its expire_ns), >= 1.
 * @quiet_ms: write quarantine in ms: nothing is learned for a slot within
 *            @quiet_ms of a write to it, nor anywhere within @quiet_ms of
 *            a flush. It must exceed the time memcached takes to apply a
 *            request after it passed this host's ingress plus the time to
 *            send a reply after reading the value (see LEARNING.md).
 * @flags:    XKV_LCFG_*.
 * @amp_ratio: with XKV_LCFG_UDP_POLICY, the datagrams answering a UDP
 *            request add up to at most @amp_ratio x its UDP payload
 *            (frame headers included on both sides); 0 = no budget.
 */
struct xkv_learn_config {
	__u16 tcp_port;
	__u16 udp_port;
	__u32 nslots;
	__u32 nflows;
	__u32 ttl_ms;
	__u32 quiet_ms;
	__u32 flags;
	__u32 amp_ratio;
};

/**
 * struct xkv_learn_slot - what ingress saw of the keys of one slot.
 * @gen:          writes seen for keys of this slot (wraps).
 * @seen:         1 once a GET for a key of this slot was seen.
 * @req_gens:     (@gen << 32 | xkv_learn_glob.ggen) as the latest GET for
 *                a key of this slot found them.
 * @write_ns:     bpf_ktime_get_ns() of the latest write seen.
 * @vol_until_ns: a key of this slot was written with an expiry: learn
 *                nothing for the slot before this time (the latest such
 *                item's expiry, rounded up).
 */
struct xkv_learn_slot {
	__u32 gen;
	__u32 seen;
	__u64 req_gens;
	__u64 write_ns;
	__u64 vol_until_ns;
};

/**
 * struct xkv_learn_glob - state for all slots.
 * @ggen:          flushes (flush_all, or ingress unsure of a write).
 * @pad:           zero.
 * @gwrite_ns:     time of the latest flush.
 * @no_learn_until_ns: a "flush_all <delay>" is pending: learn nothing
 *                 before this time.
 */
struct xkv_learn_glob {
	__u32 ggen;
	__u32 pad;
	__u64 gwrite_ns;
	__u64 no_learn_until_ns;
};

/* most UDP sockets of memcached that xkv_learn_owner lists */
#define XKV_LEARN_SOCKS_MAX 8
/* xkv_learn_owner.flags */
#define XKV_LOWN_UID 0x1	/* @uid is set: TCP replies may be learned */

/**
 * struct xkv_learn_owner - the sockets whose replies egress may learn
 * from: memcached's, found by user space in its file table. Until it is
 * written (all zero) nothing is learned. Another local process can bind
 * memcached's UDP port too (memcached sets SO_REUSEADDR) or serve TCP on
 * that port at another address: its packets carry another socket.
 * @flags:  XKV_LOWN_*.
 * @uid:    owner of memcached's sockets (bpf_get_socket_uid()); a TCP
 *          reply is learned only from a socket of this uid (an accepted
 *          connection has its own cookie, unknown in advance).
 * @nsocks: entries used in @udp_cookie.
 * @pad:    zero.
 * @udp_cookie: socket cookies (SO_COOKIE) of memcached's UDP sockets: a
 *          UDP reply is learned only from one of them.
 */
struct xkv_learn_owner {
	__u32 flags;
	__u32 uid;
	__u32 nsocks;
	__u32 pad;
	__u64 udp_cookie[XKV_LEARN_SOCKS_MAX];
};

/* UDP requests remembered at once (xkv_lreq entries; the oldest go) */
#define XKV_LEARN_REQS 8192

/**
 * struct xkv_learn_reqv - what ingress noted of a UDP request (the value
 * of xkv_lreq).
 * @ns:      bpf_ktime_get_ns() at ingress.
 * @sent:    reply bytes sent so far (UDP payloads, frame headers
 *           included); once a datagram would pass the budget,
 *           XKV_LREQ_OVER is added: the rest of that reply is dropped.
 * @bytes:   its UDP payload, frame header included (from the UDP length:
 *           the whole datagram's, even when it came in fragments).
 * @learned: 1 once a reply to it was parsed for learning (one only).
 */
struct xkv_learn_reqv {
	__u64 ns;
	__u64 sent;
	__u32 bytes;
	__u32 learned;
};

#define XKV_LREQ_OVER (1ULL << 62)

/* xkv_lifs values */
#define XKV_LIF_ATTACHED 0x1	/* our filters are on the interface */
#define XKV_LIF_OWN_QDISC 0x2	/* and attaching created its clsact qdisc */

/*
 * Per-CPU counters of the learning programs, one struct xkv_learn_stats
 * per CPU. X(name, description) as XKV_STATS.
 */
#define XKV_LEARN_STATS(X)						\
	X(in_packets, "ingress: packets to memcached's ports")		\
	X(in_lines, "ingress: command lines parsed")			\
	X(in_get_keys, "ingress: GET keys noted")			\
	X(in_write_keys, "ingress: keys of writes invalidated")		\
	X(in_flush_all, "ingress: flush_all commands")			\
	X(in_flush_unsure, "ingress: hot cache flushed, a write could " \
	  "not be ruled out")						\
	X(in_unsure, "ingress: TCP segments followed without sure "	\
	  "framing")							\
	X(eg_packets, "egress: replies from memcached's ports")		\
	X(eg_values, "egress: VALUE blocks parsed")			\
	X(learned, "values installed in the hot cache")			\
	X(skip_no_get, "not installed: no GET seen for the slot")	\
	X(skip_raced, "not installed: a write or flush since the GET")	\
	X(skip_quiet, "not installed: a write within the quarantine")	\
	X(skip_volatile, "not installed: written with an expiry, or a "	\
	  "delayed flush_all pending")					\
	X(skip_too_big, "not installed: value or key too big for a "	\
	  "slot")							\
	X(skip_busy, "not installed: slot being written")		\
	X(skip_split, "not installed: VALUE block not whole in one "	\
	  "packet")							\
	X(skip_unsure, "egress: TCP replies not parsed, framing "	\
	  "unknown")							\
	X(skip_malformed, "egress: replies not in memcached's format")	\
	X(skip_foreign, "egress: packets from a socket not memcached's")	\
	X(skip_no_req, "not installed: UDP reply to no request seen, "	\
	  "or answered already")					\
	X(udp_drop_source, "UDP policy: requests dropped at ingress: "	\
	  "source not allowed, port 0 or memcached's, martian or "	\
	  "broadcast/multicast")					\
	X(udp_drop_reply, "UDP policy: datagrams dropped at ingress: "	\
	  "reply-like, error line, several datagrams, no frame header")	\
	X(udp_drop_no_req, "UDP policy: memcached's datagrams dropped "	\
	  "at egress: answer no request seen")				\
	X(udp_drop_budget, "UDP policy: memcached's datagrams dropped "	\
	  "at egress: past amp_ratio x the request's bytes")		\
	X(slots_cleared, "hot-cache slots emptied")			\
	X(errors, "unexpected failures")

#define XKV_LSTAT_FIELD(name, desc) __u64 name;
/**
 * struct xkv_learn_stats - per-CPU counters; see XKV_LEARN_STATS.
 */
struct xkv_learn_stats {
	XKV_LEARN_STATS(XKV_LSTAT_FIELD)
};
#undef XKV_LSTAT_FIELD

#define XKV_LSTAT_ENUM(name, desc) XKV_LSTAT_##name,
/* index of each counter when struct xkv_learn_stats is read as __u64[] */
enum xkv_learn_stat_id {
	XKV_LEARN_STATS(XKV_LSTAT_ENUM)
	XKV_LSTAT_NR
};
#undef XKV_LSTAT_ENUM

#endif /* XKV_SHARED_H */
