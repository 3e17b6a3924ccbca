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
 * abi/xkv_policy.h.
 */
#ifndef XKV_POLICY_MAPS_H
#define XKV_POLICY_MAPS_H

#include "xkv_policy.h"

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

/**
 * xkv_addr_flags() - what xkv_addrs says of an address.
 * @a:  the address, 16 bytes for IPv6, else IPv4 in the first 4
 * @v6: whether @a is IPv6
 *
 * Return: XKV_ADDR_* flags, 0 for an address that is none of ours.
 */
static __always_inline __u32 xkv_addr_flags(const void *a, int v6)
{
	struct xkv_addr k = { .addr = { 0 } };
	__u32 *v;

	if (v6) {
		__builtin_memcpy(k.addr, a, 16);
	} else {
		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		__builtin_memcpy(k.addr + 12, a, 4);
	}
	v = bpf_map_lookup_elem(&xkv_addrs, &k);
	return v ? *v : 0;
}

#endif /* XKV_POLICY_MAPS_H */
