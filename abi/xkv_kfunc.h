/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_kfunc.h - the XDP store path: the kfunc xkv.ko registers for XDP
 * programs (kmod/linux/kfunc.c), how its arguments are packed, and the
 * module's counters of it (XKV_IOC_STORE_INFO, abi/xkv_ioctl.h).
 *
 * Shared by the module, the store program (bpf/xkv_store.bpf.c) and the
 * loader; only <linux/types.h> types, so it compiles in all three.
 *
 * The kfunc, as the BPF program declares it:
 *
 *   extern int xkv_xdp_store_get(const __u8 *key, __u32 key__sz,
 *                                __u8 *out, __u32 out__sz,
 *                                struct xkv_kf_get *arg) __ksym;
 *
 * @key, @key__sz: the key, 1..250 bytes (the verifier checks that the
 *   program may read and write that much at @key).
 * @out, @out__sz: the reply body; the block is written at @out plus
 *   @arg->at, in the room left before @out + @out__sz.
 * @arg: struct xkv_kf_get, in and out.
 * Returns the block's length ("VALUE <key> <flags> <bytes>[ <cas>]\r\n
 * <data>\r\n"), or -ENOENT (missing, expired or flushed), -ENOSPC (does
 * not fit), -EBUSY (the key's stripe is being written: pass the request),
 * -EAGAIN (XKV_KF_META: the item is stale or its recache token went out,
 * which meta.c's reply says and may change: pass the request), -EINVAL
 * (bad arguments), -ENODEV (the module is not serving).
 *
 * A hit also gives what a binary or mg reply built from the block needs
 * and the block does not carry (bpf/xdp/store_bin.h): the line's length,
 * the CAS, whether the item was stored with a base64 key, and the
 * seconds it has left (mg "t").
 */
#ifndef XKV_ABI_KFUNC_H
#define XKV_ABI_KFUNC_H

#include "xkv_types.h"

#define XKV_KF_STORE_GET "xkv_xdp_store_get"

/* xkv_kf_get.flags (in) */
#define XKV_KF_CAS 0x1	/* gets: the block carries the CAS */
#define XKV_KF_META 0x2	/* mg: refuse an item in a meta state (-EAGAIN) */
/* xkv_kf_get.state (out) */
#define XKV_KF_KEY_B64 0x1 /* stored with a base64 key: mg "k" echoes it so */
#define XKV_KF_TTL_NONE 0x2 /* never expires: mg "t" says -1 */

/**
 * struct xkv_kf_get - xkv_xdp_store_get()'s other arguments and results.
 * @at:    in: where in @out the block goes
 * @flags: in: XKV_KF_*
 * @sum:   out: the block's Internet checksum sum (RFC 1071): its 16-bit
 *         words as loaded from memory, counted from the block's first
 *         byte, folded to 16 bits, not complemented; the caller shifts it
 *         by the block's offset (an odd offset swaps its bytes), so a
 *         reply's checksum needs no pass over its body
 * @line:  out: the length of the block's line ("VALUE ..." up to its
 *         "\r\n", which is not counted)
 * @state: out: XKV_KF_KEY_B64, XKV_KF_TTL_NONE
 * @ttl:   out: unless XKV_KF_TTL_NONE, the seconds the item has left on
 *         the store's clock, what meta.c's mg "t" prints (an unsigned
 *         32-bit number), computed by the store as meta.c computes it
 * @cas:   out: the item's CAS (whether the block carries it or not)
 */
struct xkv_kf_get {
	__u32 at;
	__u32 flags;
	__u32 sum;
	__u32 line;
	__u32 state;
	__u32 ttl;
	__u64 cas;
};

/*
 * The module's counters of the kfunc, summed over CPUs. Every call is
 * counted in "calls" and in exactly one of the others.
 * X(name, description): the loader prints the names and descriptions.
 */
#define XKV_KF_STATS(X)							\
	X(calls, "keys XDP asked the store for")			\
	X(hits, "keys found: their block written for XDP")		\
	X(misses, "keys missing, expired or flushed")			\
	X(busy, "keys whose stripe was being written (passed)")		\
	X(too_big, "blocks that did not fit the reply (passed)")	\
	X(state, "mg of a stale item or one whose token went out (passed)") \
	X(errors, "bad arguments, or no store")

#define XKV_KF_STAT_ENUM(name, desc) XKV_KF_STAT_##name,
enum xkv_kf_stat_id {
	XKV_KF_STATS(XKV_KF_STAT_ENUM)
	XKV_KF_STAT_NR
};
#undef XKV_KF_STAT_ENUM

/*
 * Map xkv_store_jmp: BPF_MAP_TYPE_PROG_ARRAY of XKV_STORE_JMP_SLOTS; the
 * XDP program tail-calls slot XKV_STORE_JMP_GET on a hot-cache miss of a
 * UDP request, slot XKV_STORE_JMP_TCP on one of a TCP GET the fast path
 * would answer otherwise. The loader puts the store programs there when
 * the module's kfuncs can be called, and takes them out before the
 * module is unloaded.
 */
#define XKV_STORE_JMP_SLOTS 2
#define XKV_STORE_JMP_GET 0	/* xkv_store_xdp: UDP */
#define XKV_STORE_JMP_TCP 1	/* xkv_store_tcp: TCP (bpf/tcp/store.h) */

/*
 * Map xkv_sstats: BPF_MAP_TYPE_PERCPU_ARRAY, one struct xkv_sstats: the
 * store programs' counters. Every UDP request the UDP program gets (a
 * tail call) is counted in "requests" and in exactly one of the others
 * up to "other"; it is also counted once by outcome in xkv_stats, as the
 * XDP program would (replies and hits, or misses or a pass_* reason).
 * Every TCP GET the TCP program gets is counted in "tcp_requests" and in
 * exactly one of "tcp_replies", "tcp_misses" and "tcp_other"; it is also
 * counted once by outcome in the TCP fast path's xkv_tcp_stats (hits, or
 * a pass reason), as the XDP program would.
 */
#define XKV_SSTATS(X)							\
	X(requests, "requests the hot cache missed, asked of the store") \
	X(replies, "replies sent from the store (XDP_TX)")		\
	X(hits, "keys served from the store")				\
	X(misses, "passed: a key not in the store")			\
	X(busy, "passed: a key's stripe being written")			\
	X(too_big, "passed: reply too big for XDP")			\
	X(budget, "passed: reply over the reply/request budget")	\
	X(state, "passed: an mg of a stale item or one whose token went out") \
	X(other, "passed: anything else (see xkv_stats)")		\
	X(tcp_requests, "TCP GETs the hot cache missed, asked of it")	\
	X(tcp_replies, "TCP replies sent from the store (XDP_TX)")	\
	X(tcp_hits, "keys served over TCP from the store")		\
	X(tcp_misses, "TCP passed: a key not in the store")		\
	X(tcp_other, "TCP passed or dropped: anything else")

#define XKV_SSTAT_FIELD(name, desc) __u64 name;
/**
 * struct xkv_sstats - per-CPU counters; see XKV_SSTATS for the fields.
 */
struct xkv_sstats {
	XKV_SSTATS(XKV_SSTAT_FIELD)
};
#undef XKV_SSTAT_FIELD

#define XKV_SSTAT_ENUM(name, desc) XKV_SSTAT_##name,
enum xkv_sstat_id {
	XKV_SSTATS(XKV_SSTAT_ENUM)
	XKV_SSTAT_NR
};
#undef XKV_SSTAT_ENUM

#endif /* XKV_ABI_KFUNC_H */
