/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_stats.h - the XDP program's counters.
 *
 * Map xkv_stats: BPF_MAP_TYPE_PERCPU_ARRAY, one entry: struct xkv_stats.
 * Sum the CPUs' copies to read it.
 */
#ifndef XKV_ABI_STATS_H
#define XKV_ABI_STATS_H

#include "xkv_types.h"

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

#endif /* XKV_ABI_STATS_H */
