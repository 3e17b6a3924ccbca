/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_policy.h - the UDP policy's maps: allowlist and own addresses.
 *
 * Maps:
 *   xkv_allow4  BPF_MAP_TYPE_LPM_TRIE: struct xkv_lpm4 -> __u32 (1).
 *   xkv_allow6  BPF_MAP_TYPE_LPM_TRIE: struct xkv_lpm6 -> __u32 (1).
 *               Source prefixes XDP may answer. Empty = answer nobody
 *               (unless XKV_CFG_ALLOW_ANY).
 *   xkv_addrs   BPF_MAP_TYPE_HASH: struct xkv_addr -> __u32 XKV_ADDR_*:
 *               the interface's own addresses and subnet broadcast
 *               addresses, filled by the loader at attach time.
 *   xkv_policy_gen  BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, one struct
 *               xkv_policy_gen: the policy's generation (below).
 */
#ifndef XKV_ABI_POLICY_H
#define XKV_ABI_POLICY_H

#include "xkv_types.h"

/* LPM keys: prefix length in bits, then the address in network order */
struct xkv_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct xkv_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

#define XKV_ALLOW_MAX 1024	/* max_entries of each allowlist trie */

/*
 * xkv_addrs keys: an IPv6 address, or an IPv4 one mapped (::ffff:a.b.c.d).
 * What the stack drops, XDP passes: a request from one of the interface's
 * own addresses (anywhere but on lo), from a broadcast address, or sent to
 * a subnet broadcast address (the frame may carry a unicast MAC).
 */
struct xkv_addr {
	__u8 addr[16];
};

#define XKV_ADDR_LOCAL 0x1	/* an address of the interface */
#define XKV_ADDR_BCAST 0x2	/* the broadcast address of its subnet */
#define XKV_ADDRS_MAX 256	/* max_entries of xkv_addrs */

/**
 * struct xkv_policy_gen - the generation of the UDP policy's maps.
 * @gen: bumped (atomically, through the map's mmap) by every writer of
 *       xkv_allow4, xkv_allow6 or xkv_addrs after each change
 *
 * XDP remembers, per CPU, the last source and destination it found
 * allowed and the generation it read before checking them; it answers
 * the next datagram between the same two addresses without looking the
 * maps up again while @gen is unchanged. So a writer changes a map
 * first and bumps @gen after (the loader's xkv_allow_add/del do):
 * a datagram that XDP takes after the bump is checked against the
 * maps as changed. Before the bump, the change counts for datagrams
 * that miss the memo and not yet for those that hit it. A writer that
 * changes the maps without bumping @gen (bpftool) leaves remembered
 * verdicts in force until the next bump.
 */
struct xkv_policy_gen {
	__u64 gen;
};

#endif /* XKV_ABI_POLICY_H */
