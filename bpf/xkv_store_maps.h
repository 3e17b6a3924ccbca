/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_store_maps.h - the XDP store path's maps (abi/xkv_kfunc.h) and the
 * hook the XDP program calls on a hot-cache miss.
 *
 * Both objects include it: the XDP object (bpf/xkv.bpf.c) creates the
 * maps, and the store object (bpf/xkv_store.bpf.c) is handed them before
 * load (bpf_map__reuse_fd(), loader/storepath.c), so the definitions
 * cannot drift.
 */
#ifndef XKV_STORE_MAPS_H
#define XKV_STORE_MAPS_H

#include "xkv_kfunc.h"

/* the store program, when the loader put it there */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, XKV_STORE_JMP_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} xkv_store_jmp SEC(".maps");

/* the store program's counters */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_sstats);
} xkv_sstats SEC(".maps");

/*
 * The store program's stage: the store's block for one key of a binary
 * GET or an mg, laid out as a hot-cache slot of one entry, so the hot
 * path's builders read it as they read a slot (bpf/xdp/store_bin.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_slot);
} xkv_store_stage SEC(".maps");

/*
 * A UDP request the hot cache cannot answer: hand it to the store program,
 * which answers it from the module's store or passes it, untouched.
 * Returns only when there is no store program (the slot is empty): the
 * caller then passes the request as before.
 */
static __always_inline void xkv_store_tail(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &xkv_store_jmp, XKV_STORE_JMP_GET);
}

/*
 * The same for a TCP GET on a connection the fast path could answer on
 * (bpf/tcp/commit.h), but for a key the hot cache misses: the store
 * program for TCP (bpf/tcp/store.h) answers it through the fast path's
 * own commit, or passes it. Returns only when its slot is empty.
 */
static __always_inline void xkv_store_tail_tcp(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &xkv_store_jmp, XKV_STORE_JMP_TCP);
}

#endif /* XKV_STORE_MAPS_H */
