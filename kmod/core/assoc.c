// SPDX-License-Identifier: GPL-2.0
/*
 * assoc.c - the hash table.
 */
#include "assoc.h"
#include "util.h"

static u32 bucket_of(const struct xkv_stripe *sp, u64 hv)
{
	return (u32)(hv >> XKV_STRIPE_BITS) & sp->mask;
}

int xkv_assoc_init(struct xkv_store *st)
{
	u32 per = 4, i;
	u32 power = st->set.hash_power;

	if (power > XKV_STRIPE_BITS + 2 && power < 32)
		per = 1u << (power - XKV_STRIPE_BITS);
	st->stripes = os_zalloc(sizeof(*st->stripes) * XKV_STRIPES);
	if (!st->stripes)
		return -ENOMEM;
	for (i = 0; i < XKV_STRIPES; i++) {
		struct xkv_stripe *sp = &st->stripes[i];

		sp->buckets = os_zalloc(sizeof(*sp->buckets) * per);
		if (!sp->buckets)
			goto free_buckets;
		sp->mask = per - 1;
		os_spin_init(&sp->lock);
	}
	os_atomic64_set(&st->hash_bytes,
			(s64)sizeof(void *) * per * XKV_STRIPES);
	return 0;

free_buckets:
	while (i--) {
		os_spin_destroy(&st->stripes[i].lock);
		os_free(st->stripes[i].buckets);
	}
	os_free(st->stripes);
	st->stripes = NULL;
	return -ENOMEM;
}

void xkv_assoc_destroy(struct xkv_store *st)
{
	u32 i;

	if (!st->stripes)
		return;
	for (i = 0; i < XKV_STRIPES; i++) {
		os_spin_destroy(&st->stripes[i].lock);
		os_free(st->stripes[i].buckets);
	}
	os_free(st->stripes);
	st->stripes = NULL;
}

struct xkv_item *do_assoc_find(struct xkv_store *st, struct xkv_stripe *sp,
			       u64 hv, const char *key, size_t nkey)
{
	struct xkv_item *it = sp->buckets[bucket_of(sp, hv)];

	(void)st;
	for (; it; it = it->h_next) {
		if (it->nkey == nkey &&
		    !os_memcmp(xkv_item_key(it), key, nkey))
			return it;
	}
	return NULL;
}

/* more than 1.5 items per bucket (read without the lock as a hint) */
static bool wants_growth(u32 count, u32 mask)
{
	return count > (mask + 1) + (mask + 1) / 2 && mask < (1u << 29);
}

/*
 * Double the stripe's buckets. Items are re-hashed from their keys: the
 * header has no room for the hash, and a stripe holds few items. The new
 * array is allocated before the stripe lock is taken and the old one
 * freed after (the lock is a spinlock that softirq readers try); when
 * memory is short the stripe simply keeps its longer chains.
 */
void xkv_assoc_maybe_grow(struct xkv_store *st, struct xkv_stripe *sp)
{
	u32 mask = OS_READ_ONCE(sp->mask), n = (mask + 1) * 2, i;
	struct xkv_item **nb, **old;

	if (!wants_growth(OS_READ_ONCE(sp->count), mask))
		return;
	nb = os_zalloc(sizeof(*nb) * n);
	if (!nb)
		return;
	os_spin_lock(&sp->lock);
	if (sp->mask != mask) {
		/* another writer grew it first */
		os_spin_unlock(&sp->lock);
		os_free(nb);
		return;
	}
	for (i = 0; i <= mask; i++) {
		struct xkv_item *it = sp->buckets[i], *next;

		for (; it; it = next) {
			u64 hv = xkv_hash(xkv_item_key(it), it->nkey);
			u32 b = (u32)(hv >> XKV_STRIPE_BITS) & (n - 1);

			next = it->h_next;
			it->h_next = nb[b];
			nb[b] = it;
		}
	}
	old = sp->buckets;
	sp->buckets = nb;
	OS_WRITE_ONCE(sp->mask, n - 1);
	os_spin_unlock(&sp->lock);
	os_atomic64_add((s64)sizeof(void *) * (n - mask - 1), &st->hash_bytes);
	os_free(old);
}

void do_assoc_insert(struct xkv_store *st, struct xkv_stripe *sp, u64 hv,
		     struct xkv_item *it)
{
	u32 b = bucket_of(sp, hv);

	(void)st;
	it->h_next = sp->buckets[b];
	sp->buckets[b] = it;
	OS_WRITE_ONCE(sp->count, sp->count + 1);
}

void do_assoc_remove(struct xkv_store *st, struct xkv_stripe *sp, u64 hv,
		     struct xkv_item *it)
{
	struct xkv_item **pp = &sp->buckets[bucket_of(sp, hv)];

	(void)st;
	for (; *pp; pp = &(*pp)->h_next) {
		if (*pp == it) {
			*pp = it->h_next;
			it->h_next = NULL;
			OS_WRITE_ONCE(sp->count, sp->count - 1);
			return;
		}
	}
}

u64 xkv_assoc_buckets(struct xkv_store *st)
{
	return (u64)os_atomic64_read(&st->hash_bytes) / sizeof(void *);
}
