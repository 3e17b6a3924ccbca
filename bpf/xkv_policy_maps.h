/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_policy_maps.h - the UDP policy's maps as a BPF object declares
 * them: the source allowlist and the interface's own and broadcast
 * addresses.
 *
 * The XDP object creates them; the learning object, which enforces the
 * same policy for memcached's UDP port, is handed the XDP object's maps
 * before load (bpf_map__reuse_fd()), or keeps its own in the fixtures.
 * Both include this, so the definitions cannot drift. Layouts:
 * bpf/xkv_shared.h.
 */
#ifndef XKV_POLICY_MAPS_H
#define XKV_POLICY_MAPS_H

#include "xkv_shared.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XKV_ALLOW_MAX);
	__type(key, struct xkv_lpm4);
	__type(value, __u32);
} xkv_allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XKV_ALLOW_MAX);
	__type(key, struct xkv_lpm6);
	__type(value, __u32);
} xkv_allow6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XKV_ADDRS_MAX);
	__type(key, struct xkv_addr);
	__type(value, __u32);
} xkv_addrs SEC(".maps");

#endif /* XKV_POLICY_MAPS_H */
