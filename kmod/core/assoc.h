/* SPDX-License-Identifier: GPL-2.0 */
/*
 * assoc.h - the hash table: lock stripes, each with its own bucket array.
 *
 * A key's hash picks a stripe by its low XKV_STRIPE_BITS bits and a bucket
 * inside the stripe by the bits above. A stripe doubles its buckets on its
 * own, under its own lock (the new array allocated before the lock is
 * taken), when it holds 1.5 items per bucket: growth never
 * stops more than one stripe (1/1024 of the keys) and only for as long as
 * it takes to move that stripe's items.
 */
#ifndef XKV_CORE_ASSOC_H
#define XKV_CORE_ASSOC_H

#include "store_int.h"

/**
 * xkv_assoc_init() - allocate the stripes and their first buckets.
 * @st: store, with settings filled in
 *
 * Return: 0 or -ENOMEM.
 */
int xkv_assoc_init(struct xkv_store *st);

/**
 * xkv_assoc_destroy() - free the table (not the items).
 * @st: store
 */
void xkv_assoc_destroy(struct xkv_store *st);

static inline struct xkv_stripe *xkv_stripe_of(struct xkv_store *st, u64 hv)
{
	return &st->stripes[hv & (XKV_STRIPES - 1)];
}

/**
 * do_assoc_find() - look a key up in its stripe.
 * @st:   store
 * @sp:   the key's stripe, locked by the caller
 * @hv:   the key's hash
 * @key:  key bytes
 * @nkey: key length
 *
 * Return: the linked item, dead or alive, or NULL.
 */
struct xkv_item *do_assoc_find(struct xkv_store *st, struct xkv_stripe *sp,
			       u64 hv, const char *key, size_t nkey);

/**
 * do_assoc_insert() - add an item (its key must not be present).
 * @st: store
 * @sp: stripe, locked
 * @hv: hash of the item's key
 * @it: item
 *
 * Never grows the stripe (that allocates): after unlocking, the caller
 * calls xkv_assoc_maybe_grow().
 */
void do_assoc_insert(struct xkv_store *st, struct xkv_stripe *sp, u64 hv,
		     struct xkv_item *it);

/**
 * xkv_assoc_maybe_grow() - double a stripe's buckets if it is crowded.
 * @st: store
 * @sp: stripe, NOT locked (this takes the lock; it may sleep to allocate)
 *
 * Call it after linking an item, once the stripe lock is released.
 */
void xkv_assoc_maybe_grow(struct xkv_store *st, struct xkv_stripe *sp);

/**
 * do_assoc_remove() - take an item out of its bucket.
 * @st: store
 * @sp: stripe, locked
 * @hv: hash of the item's key
 * @it: item, linked
 */
void do_assoc_remove(struct xkv_store *st, struct xkv_stripe *sp, u64 hv,
		     struct xkv_item *it);

/**
 * xkv_assoc_buckets() - buckets in the whole table.
 * @st: store
 *
 * Return: the sum over all stripes (read without locks).
 */
u64 xkv_assoc_buckets(struct xkv_store *st);

#endif /* XKV_CORE_ASSOC_H */
