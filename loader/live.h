/* SPDX-License-Identifier: GPL-2.0 */
/*
 * live.h - the backend's lease on the hot cache, renewed on behalf of a
 * backend that cannot do it itself (a stock memcached).
 */
#ifndef XKV_LOADER_LIVE_H
#define XKV_LOADER_LIVE_H

#include <sys/types.h>

#include "paths.h"

/**
 * xkv_live_watch() - renew the interface's lease while @pid lives.
 * @p:   the interface's paths (the pinned xkv_live map)
 * @pid: the backend (a stock memcached)
 *
 * Starts a small detached process ("xkv-live", unprivileged once set up)
 * that renews struct xkv_live every XKV_LIVE_BEAT_MS while @pid runs, and
 * ends the lease and exits as soon as it exits (a pidfd says so at once).
 * XDP then stops serving within XKV_LIVE_LEASE_NS of the backend's death
 * even if the watcher itself is killed. xkvd and xkv.ko renew their own
 * lease (kmod/core/live.c).
 *
 * Return: 0, or -errno after printing why.
 */
int xkv_live_watch(const struct xkv_paths *p, pid_t pid);

/**
 * xkv_live_left_ms() - how long XDP may still serve the hot cache.
 * @p:    the interface's paths (the pinned xkv_live map)
 * @left: out: ms until the lease runs out, 0 when it has (or never began)
 *
 * Return: 0, or -errno when the lease cannot be read.
 */
int xkv_live_left_ms(const struct xkv_paths *p, unsigned long long *left);

#endif /* XKV_LOADER_LIVE_H */
