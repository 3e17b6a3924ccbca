/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_live.h - the backend's lease on the hot cache.
 *
 * Map xkv_live: BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, one entry: struct
 * xkv_live. XDP serves nothing once it has run out.
 */
#ifndef XKV_ABI_LIVE_H
#define XKV_ABI_LIVE_H

#include "xkv_types.h"

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
XKV_ABI_INLINE void xkv_live_renew(struct xkv_live *l, __u64 now_ns)
{
	*(volatile __u64 *)&l->until_ns = now_ns + XKV_LIVE_LEASE_NS;
}

/**
 * xkv_live_end() - the backend stops: XDP serves nothing from now on.
 * @l: the xkv_live map's value
 */
XKV_ABI_INLINE void xkv_live_end(struct xkv_live *l)
{
	*(volatile __u64 *)&l->until_ns = 0;
}

#endif /* XKV_ABI_LIVE_H */
