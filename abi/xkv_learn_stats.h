/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_learn_stats.h - the learning programs' counters.
 *
 * Map xkv_lstats: BPF_MAP_TYPE_PERCPU_ARRAY, one entry: struct
 * xkv_learn_stats. Sum the CPUs' copies to read it.
 */
#ifndef XKV_ABI_LEARN_STATS_H
#define XKV_ABI_LEARN_STATS_H

#include "xkv_types.h"

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
	X(skip_kept, "not installed: the slot's keys are read more "	\
	  "often")							\
	X(evicted, "entries dropped from a full slot to make room")	\
	X(skip_split, "not installed: VALUE block not whole in one "	\
	  "packet")							\
	X(skip_unsure, "egress: TCP replies not parsed, framing "	\
	  "unknown")							\
	X(skip_malformed, "egress: replies not in memcached's format")	\
	X(skip_foreign,							\
	  "egress: packets from a socket not memcached's")		\
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

#endif /* XKV_ABI_LEARN_STATS_H */
