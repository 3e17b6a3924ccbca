/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters.h - reading the per-CPU counter maps, summed over CPUs: the
 * XDP program's xkv_stats (one struct xkv_stats per CPU) and, in learning
 * mode, the TC learning programs' xkv_lstats (struct xkv_learn_stats).
 * Names and descriptions come from the XKV_STATS and XKV_LEARN_STATS
 * X-macros of abi/xkv_stats.h and abi/xkv_learn_stats.h, so a counter
 * added there shows up here.
 */
#ifndef XKV_LOADER_COUNTERS_H
#define XKV_LOADER_COUNTERS_H

#include "xkv_learn_stats.h"
#include "xkv_stats.h"
#include "xkv_tcp.h"

/**
 * struct xkv_counter_info - one counter's name and description.
 * @name: field name ("hits")
 * @desc: what it counts
 */
struct xkv_counter_info {
	const char *name;
	const char *desc;
};

/* the XDP counters in field order, XKV_STAT_NR of them */
extern const struct xkv_counter_info xkv_counters[XKV_STAT_NR];
/* the learning counters in field order, XKV_LSTAT_NR of them */
extern const struct xkv_counter_info xkv_learn_counters[XKV_LSTAT_NR];
/* the TCP fast path's counters in field order, XKV_TCP_STAT_NR of them */
extern const struct xkv_counter_info xkv_tcp_counters[XKV_TCP_STAT_NR];

/**
 * xkv_counters_read() - sum the per-CPU copies of a counter map: a
 * per-CPU array whose one entry is @n __u64 counters.
 * @fd:  the map (xkv_stats, xkv_tcp_stats, xkv_lstats; the object's or
 *       its pin)
 * @sum: out: the @n counters
 * @n:   XKV_STAT_NR, XKV_TCP_STAT_NR or XKV_LSTAT_NR
 *
 * Return: 0, or -errno (prints nothing).
 */
int xkv_counters_read(int fd, __u64 *sum, unsigned int n);

/**
 * xkv_counters_open() - open one of an interface's pinned counter maps.
 * @pin_dir: the interface's pin directory
 * @pin:     XKV_PIN_STATS, XKV_PIN_TCP_STATS, or XKV_PIN_LSTATS
 *           (learning mode only)
 *
 * Return: the map's fd, or -errno (-ENOENT: not pinned); prints nothing.
 */
int xkv_counters_open(const char *pin_dir, const char *pin);

#endif /* XKV_LOADER_COUNTERS_H */
