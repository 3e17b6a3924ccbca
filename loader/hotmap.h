/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hotmap.h - the loader's view of the hot cache (the pinned xkv_hot
 * array, mmap()ed): count the slots in use, or empty them all.
 *
 * The backend owns the slots. The loader only ever empties them, as one
 * more writer following the seqlock protocol of abi/xkv_slot.h: the slot's
 * sequence counter is the writers' lock too, so this is safe while the
 * backend runs, and the backend installs keys again from its own store
 * as they are read.
 */
#ifndef XKV_LOADER_HOTMAP_H
#define XKV_LOADER_HOTMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "xkv_hot.h"

/**
 * struct xkv_hotmap - a mapping of the hot cache.
 * @slots:  the slots
 * @nslots: how many (the map's max_entries)
 * @len:    bytes mapped
 */
struct xkv_hotmap {
	struct xkv_slot *slots;
	__u32 nslots;
	size_t len;
};

/**
 * xkv_hotmap_open() - map an interface's pinned hot cache.
 * @pin_dir:  the interface's pin directory
 * @writable: map it for writing (flush) or read only (status)
 * @hm:       out
 *
 * Return: 0, or -errno after printing why.
 */
int xkv_hotmap_open(const char *pin_dir, bool writable,
		    struct xkv_hotmap *hm);

/**
 * xkv_hotmap_close() - unmap.
 * @hm: the mapping
 */
void xkv_hotmap_close(struct xkv_hotmap *hm);

/**
 * xkv_hotmap_used() - slots that hold a key now, and keys (racy counts).
 * @hm:   the mapping
 * @keys: out: entries in those slots (each walk bounded as XDP's is)
 *
 * Return: the slots holding at least one entry.
 */
__u32 xkv_hotmap_used(const struct xkv_hotmap *hm, __u32 *keys);

/**
 * xkv_hotmap_flush() - empty every slot, each under its seqlock.
 * @hm:      the mapping, writable
 * @emptied: out: slots that held a key (or garbage)
 * @stuck:   out: slots left alone because a writer stayed inside for
 *           longer than a second (a backend that died mid-write)
 *
 * Return: 0.
 */
int xkv_hotmap_flush(const struct xkv_hotmap *hm, __u32 *emptied,
		     __u32 *stuck);

#endif /* XKV_LOADER_HOTMAP_H */
