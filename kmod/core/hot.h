/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hot.h - the store's side of the XDP hot tier: it owns the slots.
 *
 * Every change to a key the hot tier may be serving goes through here
 * while the key's stripe lock is held and before the client is answered,
 * which is what keeps XDP coherent (see DOC in abi/xkv_slot.h). Which
 * keys get into their slot is decided on backend reads: a small count-min
 * sketch estimates each key's popularity; a key goes in when its entry
 * fits the slot's free room, or when evicting entries less popular than
 * it by more than one read (least popular first, no more than needed)
 * makes room (TinyLFU).
 */
#ifndef XKV_CORE_HOT_H
#define XKV_CORE_HOT_H

#include "store_int.h"

/**
 * do_hot_changed() - a linked item's value, CAS or expiry changed.
 * @st: store with a hot tier
 * @it: the item now linked for its key, stripe locked
 *
 * Rewrites the key's entry if its slot holds one (or removes it when the
 * new value cannot be served from the slot).
 */
void do_hot_changed(struct xkv_store *st, struct xkv_item *it);

/**
 * do_hot_removed() - a key was unlinked.
 * @st: store with a hot tier
 * @it: the item that was linked for the key, stripe locked
 */
void do_hot_removed(struct xkv_store *st, struct xkv_item *it);

/**
 * do_hot_read() - the backend served a read of @it: count it, maybe
 * admit it into its slot.
 * @st: store with a hot tier
 * @hv: the key's store hash; unused: the sketch counts by xkv_hot_hash(),
 *      which every entry carries, so weighing entries rehashes no key
 * @it: item, stripe locked
 */
void do_hot_read(struct xkv_store *st, u64 hv, struct xkv_item *it);

/**
 * do_hot_peeked() - the XDP store path served a read of @it
 * (xkv_store_peek()): count it and maybe admit it, as do_hot_read() does,
 * without waiting.
 * @st: store with a hot tier
 * @it: item, stripe locked (tried: the caller may be in softirq)
 *
 * The same sketch count and the same admission rule as a backend read.
 * Callable with bottom halves off and from softirq: the slot's set lock
 * and the slot itself are each tried once and never taken over (a stuck
 * slot is left to the backend's writers, which may wait for it); when
 * either is busy the install is skipped and counted in @skipped, and the
 * key's next read tries again. Nothing here sleeps or allocates.
 */
void do_hot_peeked(struct xkv_store *st, struct xkv_item *it);

/**
 * xkv_hot_flush() - flush_all for the hot tier.
 * @st: store
 * @at: 0 to empty every slot now, else the store time at which a delayed
 *      flush takes effect: no entry is served past it
 */
void xkv_hot_flush(struct xkv_store *st, u64 at);

/**
 * xkv_hot_clear() - empty every slot (the clock jumped, or attach).
 * @st: store
 */
void xkv_hot_clear(struct xkv_store *st);

#endif /* XKV_CORE_HOT_H */
