/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slab.h - slab classes: chunks of growing sizes carved from pages taken
 * against the memory limit.
 */
#ifndef XKV_CORE_SLAB_H
#define XKV_CORE_SLAB_H

#include "store_int.h"

/**
 * xkv_slab_init() - compute the classes from the settings.
 * @st: store, with settings filled in
 *
 * Return: 0, or -EINVAL when the settings give no usable class.
 */
int xkv_slab_init(struct xkv_store *st);

/**
 * xkv_slab_destroy() - give every page back.
 * @st: store
 */
void xkv_slab_destroy(struct xkv_store *st);

/**
 * xkv_slab_class_for() - the smallest class whose chunks hold @total bytes.
 * @st:    store
 * @total: item size, header included
 *
 * Return: class index, or st->nclasses when nothing is large enough.
 */
u32 xkv_slab_class_for(const struct xkv_store *st, size_t total);

/**
 * do_slab_chunk_get() - a free chunk of class @c, without evicting.
 * @st: store
 * @c:  class, locked by the caller
 *
 * Takes from the free list, then from the newest page, then a new page
 * while the limit allows (a class's first page is always allowed, as in
 * memcached, so every size can be stored).
 *
 * Return: the chunk, or NULL.
 */
void *do_slab_chunk_get(struct xkv_store *st, struct xkv_class *c);

/**
 * do_slab_chunk_put() - return a chunk to class @c's free list.
 * @c:     class, locked by the caller
 * @chunk: chunk, no longer linked anywhere
 */
void do_slab_chunk_put(struct xkv_class *c, void *chunk);

/**
 * do_slab_chunk_at() - the chunk with number @idx in class @c.
 * @c:   class, locked
 * @idx: 0 <= idx < do_slab_chunks(c)
 *
 * Return: the chunk's address.
 */
static inline struct xkv_item *do_slab_chunk_at(struct xkv_class *c, u64 idx)
{
	return (struct xkv_item *)(c->pages[idx / c->perpage] +
				   (idx % c->perpage) * c->size);
}

/**
 * do_slab_chunks() - chunks carved so far in class @c.
 * @c: class, locked
 *
 * Return: the count; chunk numbers below it are valid.
 */
static inline u64 do_slab_chunks(const struct xkv_class *c)
{
	if (!c->npages)
		return 0;
	return (u64)(c->npages - 1) * c->perpage + c->carved;
}

#endif /* XKV_CORE_SLAB_H */
