/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.h - the learning programs' settings and maps (layouts in
 * abi/xkv_learn_maps.h), shared with XDP where noted.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_MAPS_H
#define XKV_LEARN_MAPS_H

/* Set by the loader before load (the object's .rodata). */
const volatile struct xkv_learn_config xkv_lcfg = {
	.tcp_port = 11211,
	.udp_port = 11211,
	.nslots = XKV_HOT_SLOTS_DEFAULT,
	.nflows = XKV_LEARN_FLOWS_DEFAULT,
	.ttl_ms = XKV_LEARN_TTL_MS_DEFAULT,
	.quiet_ms = XKV_LEARN_QUIET_MS_DEFAULT,
	.flags = 0,
	.amp_ratio = 64,
};

/* the hot cache: created by the XDP object, shared with learning mode */
#include "xkv_hot_map.h"
#include "xkv_slot.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XKV_HOT_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xkv_learn_slot);
} xkv_lmeta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XKV_HOT_SLOTS_DEFAULT / 64);
	__type(key, __u32);
	__type(value, __u64);
} xkv_locc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_learn_glob);
} xkv_lglob SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_learn_stats);
} xkv_lstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XKV_LEARN_FLOWS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xkv_learn_flow);
} xkv_lflows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} xkv_lifs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_learn_owner);
} xkv_lowner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XKV_LEARN_REQS);
	__type(key, struct xkv_learn_req);
	__type(value, struct xkv_learn_reqv);
} xkv_lreq SEC(".maps");

/* the XDP object's allowlist and addresses (the fixtures: our own) */
#include "xkv_policy_maps.h"

#endif /* XKV_LEARN_MAPS_H */
