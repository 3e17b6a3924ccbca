/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store_int.h - the store's insides, shared by the files of kmod/core/.
 *
 * Locking (the one place that says it):
 *
 *  - stripe->lock   (os_spin_t) guards a slice of the hash table (keys
 *                   whose hash has the stripe's low bits), every item
 *                   linked there, and every field of those items but
 *                   ->ref. Readers copy what they need while holding it;
 *                   no item pointer outlives it. xkv_store_peek() reads
 *                   under it from softirq (XDP), with a trylock.
 *  - hot set locks  (os_spin_t, hot.c) guard the writes to one set of
 *                   hot-cache slots.
 *  - cls->lock      (os_mutex_t) guards one slab class: its pages, free
 *                   list, clock hands and per-class counters.
 *  - st->mem_lock   guards st->malloced (pages taken from the limit).
 *  - st->flush_lock serialises applying a delayed flush_all.
 *
 *  Order: class -> stripe -> hot set, and class -> mem. Nothing that may
 *  sleep happens under a stripe or set lock: no class lock, no
 *  allocation. So writers allocate an item before they take the stripe
 *  lock (and look again once they hold it: append, prepend, incr and
 *  decr retry when the size they allocated for no longer fits), items
 *  they unlink are freed after they unlock it (a "reap" list through
 *  ->h_next, items.c), buckets grow outside it (assoc.c), and a get
 *  grows its reply buffer outside it. A class lock holder only *tries*
 *  a stripe lock (eviction, crawler), which also keeps the clock hand
 *  from waiting on a busy stripe.
 *  Functions named do_*() expect the caller to hold the stripe lock.
 *
 *  item->iflags changes only under the stripe lock; the clock and the
 *  crawler read it without that lock to pick candidates, then re-check it
 *  after taking the stripe lock. item->ref is a hint written by anyone.
 */
#ifndef XKV_CORE_STORE_INT_H
#define XKV_CORE_STORE_INT_H

#include "admin.h"
#include "budget.h"
#include "store.h"
/* the one header the store shares with the XDP program and the loader */
#include "xkv_hot.h"
#include "xkv_live.h"

#define XKV_IT_LINKED 0x01	/* in the hash table */
#define XKV_IT_FETCHED 0x02	/* read at least once */
/* meta protocol (meta.c): */
#define XKV_IT_STALE 0x04	/* invalidated: "md <key> I", "ms ... I" */
#define XKV_IT_WON 0x08		/* a client was sent the token (W) */
#define XKV_IT_KEY_B64 0x10	/* stored with a base64 key ("k" encodes) */
/*
 * The store's alone to serve, never the hot tier's: a stale item's mg
 * says X (and W or Z), one whose token went out says Z, which the slots
 * cannot. Such an item leaves its slot when it turns so and is never
 * admitted while it stays so.
 */
#define XKV_IT_NOT_HOT (XKV_IT_STALE | XKV_IT_WON)

/**
 * struct xkv_item - one key and its value, in a slab chunk.
 * @h_next:  next item in the same hash bucket
 * @cas:     CAS unique, also its age against flush_all
 * @exptime: absolute expiry in store seconds, 0 = never
 * @flags:   client flags
 * @nbytes:  value length (without the "\r\n" memcached sends after it)
 * @atime:   last access in store seconds: the store or the last meta read
 *           (meta "l" and "me"'s la=)
 * @nkey:    key length
 * @clsid:   slab class
 * @iflags:  XKV_IT_*
 * @ref:     set by reads, cleared by the clock hand (second chance)
 * @data:    key bytes, then value bytes
 *
 * 36 bytes of header (the key starts at offsetof(data), not at the
 * padded sizeof) against memcached's 56 (48 + CAS); @atime is 4 of them.
 */
struct xkv_item {
	struct xkv_item *h_next;
	u64 cas;
	u32 exptime;
	u32 flags;
	u32 nbytes;
	u32 atime;
	u8 nkey;
	u8 clsid;
	u8 iflags;
	u8 ref;
	char data[];
};

static inline char *xkv_item_key(struct xkv_item *it)
{
	return it->data;
}

static inline char *xkv_item_value(struct xkv_item *it)
{
	return it->data + it->nkey;
}

/* the header's bytes: the key starts here, before sizeof()'s padding */
#define XKV_ITEM_HDR __builtin_offsetof(struct xkv_item, data)

static inline size_t xkv_item_total(u32 nkey, u32 nbytes)
{
	return XKV_ITEM_HDR + nkey + nbytes;
}

#define XKV_CLASS_MAX 64
#define XKV_PAGE_SIZE (1024 * 1024)

/**
 * struct xkv_class - a slab class: chunks of one size.
 * @lock:        see above
 * @size:        chunk size in bytes
 * @perpage:     chunks per page
 * @npages:      pages owned
 * @pages_cap:   room in @pages
 * @pages:       page addresses
 * @carved:      chunks handed out of the newest page so far
 * @freelist:    freed chunks, linked through their first word
 * @nfree:       chunks on @freelist
 * @hand:        clock hand (chunk number across all pages) for eviction
 * @crawl:       crawler position (chunk number)
 * @nlinked:     items of this class in the hash table
 * @evicted:     live items evicted to make room
 * @evicted_unfetched: ... that had never been read
 * @reclaimed:   expired or flushed items whose chunk was reused
 * @expired_unfetched: ... that had never been read
 * @outofmemory: allocations that found nothing to evict
 * @crawler_reclaimed: items reclaimed by the background crawler
 */
struct xkv_class {
	os_mutex_t lock;
	u32 size;
	u32 perpage;
	u32 npages;
	u32 pages_cap;
	char **pages;
	u32 carved;
	void *freelist;
	u64 nfree;
	u64 hand;
	u64 crawl;
	os_atomic64_t nlinked;
	u64 evicted;
	u64 evicted_unfetched;
	u64 reclaimed;
	u64 expired_unfetched;
	u64 outofmemory;
	u64 crawler_reclaimed;
};

#define XKV_STRIPE_BITS 10
#define XKV_STRIPES (1u << XKV_STRIPE_BITS)

/**
 * struct xkv_stripe - one lock and the part of the hash table it guards.
 * @lock:    see above
 * @mask:    number of buckets - 1 (a power of two minus one)
 * @count:   items linked here
 * @buckets: bucket heads; grows by doubling, one stripe at a time
 * @peek:    xkv_store_peek()'s counters, written under @lock (it has no
 *           xkv_thread_stats slot of its own), summed by "stats"
 */
struct xkv_stripe {
	os_spin_t lock;
	u32 mask;
	u32 count;
	struct xkv_item **buckets;
	struct xkv_peek_stats {
		u64 hits;
		u64 misses;
		u64 expired;
		u64 flushed;
		u64 bytes;
	} peek;
};

struct xkv_store {
	struct xkv_settings set;
	u32 page_size;
	u32 nclasses;
	struct xkv_class cls[XKV_CLASS_MAX];
	struct xkv_stripe *stripes;

	os_mutex_t mem_lock;
	u64 malloced;
	os_mutex_t flush_lock;

	os_atomic64_t cas_next;
	/* flush_all: items with cas below flush_cas are dead */
	os_atomic64_t flush_cas;
	/* a delayed flush_all takes effect at this time (0 = none) */
	os_atomic64_t flush_at;
	/*
	 * memcached's oldest_live ("stats settings" oldest): the time the
	 * last flush_all took or takes effect at, less one second (0 = no
	 * flush_all yet); set under flush_lock
	 */
	os_atomic64_t oldest;

	/*
	 * The clock (store.c): the wall clock as it read at creation, moved
	 * on by CLOCK_MONOTONIC since, plus the debug offset (seconds).
	 * @clock_base_ns is wall ns - monotonic ns at creation.
	 */
	os_atomic64_t clock_offset;
	u64 clock_base_ns;
	u64 started;

	os_atomic64_t curr_items;
	os_atomic64_t total_items;
	os_atomic64_t bytes;
	os_atomic64_t curr_conns;
	os_atomic64_t total_conns;
	os_atomic64_t rejected_conns;
	/* connections the TCP fast path's table had no entry for */
	os_atomic64_t tcp_fast_unclaimed;
	os_atomic64_t hash_bytes;

	/* every TCP connection's buffers (budget.h) */
	struct xkv_budget budget;

	/* the XDP hot tier, NULL when there is none (hot.c) */
	struct xkv_hot *hot;
	/* the backend's lease XDP checks, NULL when none (live.c) */
	struct xkv_live *live;

	/* the password file's copy (-S, -Y), replaced whole on reload */
	os_mutex_t pwdb_lock;
	char *pwdb;

	/* admin commands: sizes, conns, dump, shutdown (admin.h) */
	struct xkv_admin adm;

	u32 crawl_class;
	u32 nslots;
	struct xkv_thread_stats *slots;
};

#define XKV_NS_PER_SEC 1000000000ULL

/**
 * xkv_store_mono_ns() - when the store's clock reaches a time.
 * @st: store
 * @t:  store time in seconds, later than xkv_store_now()
 *
 * Exact: xkv_store_now() >= @t from CLOCK_MONOTONIC (os_mono_ns(), the
 * clock XDP reads with bpf_ktime_get_ns()) this value on, whatever the
 * wall clock does, until the debug offset changes.
 *
 * Return: CLOCK_MONOTONIC time in ns.
 */
u64 xkv_store_mono_ns(const struct xkv_store *st, u64 t);

#endif /* XKV_CORE_STORE_INT_H */
