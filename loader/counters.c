// SPDX-License-Identifier: GPL-2.0
/*
 * counters.c - the per-CPU counters of the XDP program, its TCP fast
 * path and the learning programs, summed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"

#define XKV_COUNTER_INFO(n, d) { .name = #n, .desc = d },
const struct xkv_counter_info xkv_counters[XKV_STAT_NR] = {
	XKV_STATS(XKV_COUNTER_INFO)
};
const struct xkv_counter_info xkv_learn_counters[XKV_LSTAT_NR] = {
	XKV_LEARN_STATS(XKV_COUNTER_INFO)
};
const struct xkv_counter_info xkv_tcp_counters[XKV_TCP_STAT_NR] = {
	XKV_TCP_STATS(XKV_COUNTER_INFO)
};
#undef XKV_COUNTER_INFO

_Static_assert(sizeof(struct xkv_stats) == XKV_STAT_NR * sizeof(__u64),
	       "struct xkv_stats must be XKV_STAT_NR __u64 counters");
_Static_assert(sizeof(struct xkv_learn_stats) == XKV_LSTAT_NR * sizeof(__u64),
	       "struct xkv_learn_stats must be XKV_LSTAT_NR __u64 counters");
_Static_assert(sizeof(struct xkv_tcp_stats) == XKV_TCP_STAT_NR * sizeof(__u64),
	       "struct xkv_tcp_stats must be XKV_TCP_STAT_NR __u64 counters");

int xkv_counters_read(int fd, __u64 *sum, unsigned int n)
{
	int ncpus = libbpf_num_possible_cpus(), cpu, err = 0;
	unsigned int i;
	__u32 zero = 0;
	__u64 *per;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	/* per-CPU values come 8-byte aligned: n __u64 already are */
	per = calloc((size_t)ncpus * n, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, per)) {
		err = -errno;
		goto free_per;
	}
	memset(sum, 0, n * sizeof(*sum));
	for (cpu = 0; cpu < ncpus; cpu++) {
		for (i = 0; i < n; i++)
			sum[i] += per[(size_t)cpu * n + i];
	}
free_per:
	free(per);
	return err;
}

int xkv_counters_open(const char *pin_dir, const char *pin)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_dir, pin);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}
