// SPDX-License-Identifier: GPL-2.0
/*
 * hot.c - writing the XDP hot cache: slot seqlock, admission sketch.
 */
#include "hot.h"
#include "util.h"

#define NS_PER_SEC 1000000000ULL
#define SKETCH_ROWS 4
#define SKETCH_MIN 4096
/* halve every counter after this many increments per counter */
#define SKETCH_AGE_FACTOR 8

/**
 * struct xkv_hot - the hot tier as the store sees it.
 * @slots:     the mmap'ed (or kernel-mapped) xkv_hot array
 * @nslots:    number of slots, a power of two
 * @flush_cap: a delayed flush_all's time in store seconds, 0 = none
 * @sketch:    SKETCH_ROWS rows of @width saturating 8-bit counters
 * @width:     counters per row, a power of two
 * @adds:      increments since the last aging
 * @aging:     1 while one thread halves the counters
 * @installs:  slots written with a new key
 * @rejects:   admissions refused in favour of the incumbent
 */
struct xkv_hot {
	struct xkv_slot *slots;
	u32 nslots;
	os_atomic64_t flush_cap;
	u8 *sketch;
	u32 width;
	os_atomic64_t adds;
	u32 aging;
	os_atomic64_t installs;
	os_atomic64_t rejects;
};

/* ---- the slot seqlock (protocol in bpf/xkv_shared.h) ---- */

static u32 slot_lock(struct xkv_slot *sl)
{
	u32 spins = 0;

	for (;;) {
		u32 s = OS_READ_ONCE(sl->seq);

		if (!(s & 1) && os_cmpxchg32(&sl->seq, s, s + 1)) {
			os_smp_wmb();
			return s;
		}
		/* the holder may have been preempted inside: let it run */
		if (++spins % 1024 == 0)
			os_cond_resched();
		else
			os_cpu_relax();
	}
}

/* @changed: whether anything was written; if not, readers may keep going */
static void slot_unlock(struct xkv_slot *sl, u32 s, bool changed)
{
	OS_STORE_RELEASE(sl->seq, changed ? s + 2 : s);
}

static bool slot_has_key(const struct xkv_slot *sl, const char *key,
			 u32 nkey)
{
	return OS_READ_ONCE(sl->key_len) == nkey &&
	       !os_memcmp(sl->key, key, nkey);
}

/*
 * The slot holding the key, or NULL. Only a holder of the key's stripe
 * lock can put the key into a slot, so for such a caller a look without
 * the slot locks that finds nothing is final.
 */
static struct xkv_slot *slot_find(struct xkv_hot *h, const char *key,
				  u32 nkey)
{
	u32 hash = xkv_hot_hash(key, nkey), w;

	for (w = 0; w < XKV_HOT_WAYS; w++) {
		struct xkv_slot *sl =
			&h->slots[xkv_hot_way(hash, h->nslots, w)];

		if (slot_has_key(sl, key, nkey))
			return sl;
	}
	return NULL;
}

/* store seconds -> CLOCK_MONOTONIC ns, a second early to round down */
static u64 to_mono(struct xkv_store *st, u64 t)
{
	u64 now = xkv_store_now(st);

	if (t <= now + 1)
		return 0;
	return os_mono_ns() + (t - now - 1) * NS_PER_SEC;
}

/*
 * Fill @sl from @it (slot locked). Returns false, leaving the slot empty,
 * when the item cannot be served from a slot: too big, or about to die.
 */
static bool slot_fill(struct xkv_store *st, struct xkv_hot *h,
		      struct xkv_slot *sl, struct xkv_item *it)
{
	u64 cap = (u64)os_atomic64_read(&h->flush_cap);
	u64 exp = 0;

	sl->key_len = 0;
	if (it->nbytes > XKV_HOT_VAL_MAX)
		return false;
	if (it->exptime || cap) {
		u64 t = it->exptime;

		if (cap && (!t || cap < t))
			t = cap;
		exp = to_mono(st, t);
		if (!exp)
			return false;
	}
	sl->cas = it->cas;
	sl->expire_ns = exp;
	sl->flags = it->flags;
	sl->val_len = (u16)it->nbytes;
	os_memcpy(sl->val, xkv_item_value(it), it->nbytes);
	os_memcpy(sl->key, xkv_item_key(it), it->nkey);
	sl->key_len = it->nkey;
	return true;
}

/* rewrite (@fill) or empty the slot holding @it's key, if one does */
static void hot_update(struct xkv_store *st, struct xkv_item *it, bool fill)
{
	struct xkv_hot *h = st->hot;
	struct xkv_slot *sl = slot_find(h, xkv_item_key(it), it->nkey);
	u32 s;

	if (!sl)
		return;
	s = slot_lock(sl);
	if (slot_has_key(sl, xkv_item_key(it), it->nkey)) {
		if (fill)
			slot_fill(st, h, sl, it);
		else
			sl->key_len = 0;
	}
	slot_unlock(sl, s, true);
}

void do_hot_changed(struct xkv_store *st, struct xkv_item *it)
{
	hot_update(st, it, true);
}

void do_hot_removed(struct xkv_store *st, struct xkv_item *it)
{
	hot_update(st, it, false);
}

/* ---- admission: a count-min sketch with periodic halving ---- */

static u32 sketch_pos(const struct xkv_hot *h, u64 hv, u32 row)
{
	u64 x = hv * (0x9e3779b97f4a7c15ULL + 2 * row);

	return row * h->width + (u32)(x >> 40) % h->width;
}

static void sketch_age(struct xkv_hot *h)
{
	u32 i, n = SKETCH_ROWS * h->width;

	if (!os_cmpxchg32(&h->aging, 0, 1))
		return;
	for (i = 0; i < n; i++)
		OS_WRITE_ONCE(h->sketch[i], OS_READ_ONCE(h->sketch[i]) / 2);
	os_atomic64_set(&h->adds, 0);
	OS_STORE_RELEASE(h->aging, 0);
}

/* the racy increments may lose counts now and then: it is an estimate */
static u32 sketch_add(struct xkv_hot *h, u64 hv)
{
	u32 r, est = 255;

	for (r = 0; r < SKETCH_ROWS; r++) {
		u8 *c = &h->sketch[sketch_pos(h, hv, r)];
		u8 v = OS_READ_ONCE(*c);

		if (v < 255)
			OS_WRITE_ONCE(*c, ++v);
		if (v < est)
			est = v;
	}
	if (os_atomic64_inc_return(&h->adds) >
	    (s64)h->width * SKETCH_AGE_FACTOR)
		sketch_age(h);
	return est;
}

static u32 sketch_est(const struct xkv_hot *h, u64 hv)
{
	u32 r, est = 255;

	for (r = 0; r < SKETCH_ROWS; r++) {
		u8 v = OS_READ_ONCE(h->sketch[sketch_pos(h, hv, r)]);

		if (v < est)
			est = v;
	}
	return est;
}

/* how strongly a slot's key deserves to stay (slot locked) */
static u32 slot_score(const struct xkv_hot *h, const struct xkv_slot *sl)
{
	if (!sl->key_len)
		return 0;
	/* XDP's sampled hits stand for reads the sketch never saw */
	return sketch_est(h, xkv_hash(sl->key, sl->key_len)) +
	       OS_READ_ONCE(sl->hits) * XKV_HOT_HIT_SAMPLE;
}

void do_hot_read(struct xkv_store *st, u64 hv, struct xkv_item *it)
{
	struct xkv_hot *h = st->hot;
	const char *key = xkv_item_key(it);
	u32 est = sketch_add(h, hv), seq[XKV_HOT_WAYS], w, low = ~0u, hash;
	struct xkv_slot *set, *sl, *victim = NULL;

	if (it->nbytes > XKV_HOT_VAL_MAX ||
	    (it->exptime && !to_mono(st, it->exptime)))
		return;
	sl = slot_find(h, key, it->nkey);
	if (sl && OS_READ_ONCE(sl->cas) == it->cas)
		return;
	/* writers take the slots of a set in ascending order */
	hash = xkv_hot_hash(key, it->nkey);
	set = &h->slots[xkv_hot_way(hash, h->nslots, 0) &
			~(u32)(XKV_HOT_WAYS - 1)];
	for (w = 0; w < XKV_HOT_WAYS; w++)
		seq[w] = slot_lock(&set[w]);
	/* the key's own slot, else the weakest, way 0 first among equals */
	for (w = 0; w < XKV_HOT_WAYS; w++) {
		sl = &h->slots[xkv_hot_way(hash, h->nslots, w)];
		if (slot_has_key(sl, key, it->nkey)) {
			victim = sl;
			low = 0;
			break;
		}
		if (slot_score(h, sl) < low) {
			low = slot_score(h, sl);
			victim = sl;
		}
	}
	if (victim->key_len && !slot_has_key(victim, key, it->nkey) &&
	    est <= low) {
		os_atomic64_add(1, &h->rejects);
		victim = NULL;
	} else {
		if (!slot_has_key(victim, key, it->nkey))
			OS_WRITE_ONCE(victim->hits, 0);
		if (slot_fill(st, h, victim, it))
			os_atomic64_add(1, &h->installs);
	}
	for (w = XKV_HOT_WAYS; w-- > 0;)
		slot_unlock(&set[w], seq[w], &set[w] == victim);
}

/* ---- whole-tier operations ---- */

void xkv_hot_flush(struct xkv_store *st, u64 at)
{
	struct xkv_hot *h = st->hot;
	u64 mono;
	u32 i, s;

	if (!h)
		return;
	if (!at) {
		os_atomic64_set(&h->flush_cap, 0);
		xkv_hot_clear(st);
		return;
	}
	os_atomic64_set(&h->flush_cap, (s64)at);
	mono = to_mono(st, at);
	for (i = 0; i < h->nslots; i++) {
		struct xkv_slot *sl = &h->slots[i];

		if (!OS_READ_ONCE(sl->key_len))
			continue;
		s = slot_lock(sl);
		if (!mono)
			sl->key_len = 0;
		else if (!sl->expire_ns || sl->expire_ns > mono)
			sl->expire_ns = mono;
		slot_unlock(sl, s, true);
	}
}

void xkv_hot_clear(struct xkv_store *st)
{
	struct xkv_hot *h = st->hot;
	u32 i, s;

	if (!h)
		return;
	for (i = 0; i < h->nslots; i++) {
		struct xkv_slot *sl = &h->slots[i];

		if (!OS_READ_ONCE(sl->key_len))
			continue;
		s = slot_lock(sl);
		sl->key_len = 0;
		slot_unlock(sl, s, true);
	}
}

int xkv_store_attach_hot(struct xkv_store *st, void *slots, u32 nslots)
{
	struct xkv_hot *h;
	u32 w = SKETCH_MIN;

	if (!slots || !nslots || (nslots & (nslots - 1)))
		return -EINVAL;
	if (st->hot)
		return -EBUSY;
	while (w < 4 * nslots && w < (1u << 24))
		w *= 2;
	h = os_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->sketch = os_big_alloc((size_t)SKETCH_ROWS * w);
	if (!h->sketch)
		goto free_hot;
	h->width = w;
	h->slots = slots;
	h->nslots = nslots;
	/* a writer that died inside would leave a slot odd: start clean */
	os_memset(slots, 0, (size_t)nslots * sizeof(struct xkv_slot));
	OS_STORE_RELEASE(st->hot, h);
	return 0;

free_hot:
	os_free(h);
	return -ENOMEM;
}

void xkv_store_detach_hot(struct xkv_store *st)
{
	struct xkv_hot *h = st->hot;

	if (!h)
		return;
	xkv_hot_clear(st);
	st->hot = NULL;
	os_big_free(h->sketch, (size_t)SKETCH_ROWS * h->width);
	os_free(h);
}

void xkv_store_hot_stats(struct xkv_store *st, u64 *installs, u64 *rejects)
{
	struct xkv_hot *h = st->hot;

	*installs = h ? (u64)os_atomic64_read(&h->installs) : 0;
	*rejects = h ? (u64)os_atomic64_read(&h->rejects) : 0;
}
