// SPDX-License-Identifier: GPL-2.0
/*
 * slab.c - slab classes and their pages.
 */
#include "slab.h"

#define XKV_ALIGN 8

static u32 align_up(u64 v)
{
	return (u32)((v + XKV_ALIGN - 1) & ~(u64)(XKV_ALIGN - 1));
}

int xkv_slab_init(struct xkv_store *st)
{
	const struct xkv_settings *s = &st->set;
	u64 size = align_up(XKV_ITEM_HDR + s->chunk_min);
	u32 n = 0, i;

	if (s->growth_x100 <= 100 || s->item_size_max < size)
		return -EINVAL;
	st->page_size = align_up(s->item_size_max) > XKV_PAGE_SIZE ?
			align_up(s->item_size_max) : XKV_PAGE_SIZE;

	/* grow by the factor while the next size still fits below the max */
	while (n < XKV_CLASS_MAX - 1 &&
	       size * s->growth_x100 / 100 < s->item_size_max) {
		st->cls[n++].size = (u32)size;
		size = align_up(size * s->growth_x100 / 100);
		if (size <= st->cls[n - 1].size)
			size = st->cls[n - 1].size + XKV_ALIGN;
	}
	/* the largest class holds item_size_max, rounded up for alignment */
	st->cls[n++].size = align_up(s->item_size_max);
	st->nclasses = n;

	for (i = 0; i < n; i++) {
		struct xkv_class *c = &st->cls[i];

		c->perpage = st->page_size / c->size;
		os_mutex_init(&c->lock);
	}
	return 0;
}

void xkv_slab_destroy(struct xkv_store *st)
{
	u32 i, p;

	for (i = 0; i < st->nclasses; i++) {
		struct xkv_class *c = &st->cls[i];

		for (p = 0; p < c->npages; p++)
			os_big_free(c->pages[p], st->page_size);
		os_free(c->pages);
		c->pages = NULL;
		c->npages = 0;
		os_mutex_destroy(&c->lock);
	}
	st->malloced = 0;
}

u32 xkv_slab_class_for(const struct xkv_store *st, size_t total)
{
	u32 lo = 0, hi = st->nclasses;

	/* first class with size >= total */
	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (st->cls[mid].size >= total)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* take one page from the limit; the class's first page always comes */
static bool reserve_page(struct xkv_store *st, struct xkv_class *c)
{
	bool ok;

	os_mutex_lock(&st->mem_lock);
	ok = c->npages == 0 ||
	     st->malloced + st->page_size <= st->set.maxbytes;
	if (ok)
		st->malloced += st->page_size;
	os_mutex_unlock(&st->mem_lock);
	return ok;
}

static void unreserve_page(struct xkv_store *st)
{
	os_mutex_lock(&st->mem_lock);
	st->malloced -= st->page_size;
	os_mutex_unlock(&st->mem_lock);
}

static bool do_slab_new_page(struct xkv_store *st, struct xkv_class *c)
{
	char *page;

	if (c->npages == c->pages_cap) {
		u32 cap = c->pages_cap ? c->pages_cap * 2 : 8;
		char **np = os_realloc(c->pages, sizeof(*np) * c->pages_cap,
				       sizeof(*np) * cap);

		if (!np)
			return false;
		c->pages = np;
		c->pages_cap = cap;
	}
	if (!reserve_page(st, c))
		return false;
	page = os_big_alloc(st->page_size);
	if (!page) {
		unreserve_page(st);
		return false;
	}
	c->pages[c->npages++] = page;
	c->carved = 0;
	return true;
}

void *do_slab_chunk_get(struct xkv_store *st, struct xkv_class *c)
{
	void *chunk = c->freelist;

	if (chunk) {
		c->freelist = *(void **)chunk;
		c->nfree--;
		return chunk;
	}
	if (!c->npages || c->carved == c->perpage) {
		if (!do_slab_new_page(st, c))
			return NULL;
	}
	return c->pages[c->npages - 1] + (u64)c->carved++ * c->size;
}

void do_slab_chunk_put(struct xkv_class *c, void *chunk)
{
	struct xkv_item *it = chunk;

	OS_WRITE_ONCE(it->iflags, 0);
	*(void **)chunk = c->freelist;
	c->freelist = chunk;
	c->nfree++;
}
