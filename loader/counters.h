/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters.h - reading the per-CPU xkv_stats map: one struct xkv_stats
 * per CPU, summed; names and descriptions come from the XKV_STATS
 * X-macro of abi/xkv_stats.h, so a counter added there shows up here.
 */
#ifndef XKV_LOADER_COUNTERS_H
#define XKV_LOADER_COUNTERS_H

#include "xkv_stats.h"

/**
 * struct xkv_counter_info - one counter's name and description.
 * @name: field name ("hits")
 * @desc: what it counts
 */
struct xkv_counter_info {
	const char *name;
	const char *desc;
};

/* the counters in field order, XKV_STAT_NR of them */
extern const struct xkv_counter_info xkv_counters[XKV_STAT_NR];

/**
 * xkv_counters_read() - sum the per-CPU copies of the stats map.
 * @fd:  the xkv_stats map
 * @sum: out: counters as __u64[XKV_STAT_NR]
 *
 * Return: 0, or -errno.
 */
int xkv_counters_read(int fd, __u64 sum[XKV_STAT_NR]);

/**
 * xkv_counters_open() - open an interface's pinned stats map.
 * @pin_dir: the interface's pin directory
 *
 * Return: the map's fd, or -errno after printing why.
 */
int xkv_counters_open(const char *pin_dir);

#endif /* XKV_LOADER_COUNTERS_H */
