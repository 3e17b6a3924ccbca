/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_hot_map.h - the hot cache map as a BPF object declares it.
 *
 * Both the XDP object (which creates it) and the learning object (which
 * is handed the XDP object's map before load, bpf_map__reuse_fd()) include
 * this, so the two definitions cannot drift. Layout: abi/xkv_hot.h.
 */
#ifndef XKV_HOT_MAP_H
#define XKV_HOT_MAP_H

#include "xkv_hot.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XKV_HOT_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xkv_slot);
} xkv_hot SEC(".maps");

#endif /* XKV_HOT_MAP_H */
