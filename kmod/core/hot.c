// SPDX-License-Identifier: GPL-2.0
/*
 * hot.c - writing the XDP hot cache: set locks, slot seqlock, admission.
 *
 * Locking, on top of store_int.h's: every write to a slot holds the lock
 * of the slot's set (h->locks, order: stripe -> set), then the slot's
 * seqlock (abi/xkv_slot.h). The set locks live in the store's own memory,
 * so a slot the store finds odd is never held by one of its own threads:
 * the seqlock then only waits, a bounded time, for emptiers outside the
 * store, and the store takes over a slot they leave stuck (xkv_slot.h's
 * DOC says why that is safe). Everything read back from the slots, which
 * any process with the map may write, is bounded before use.
 *
 * The set locks also order installs against flush_all and the debug
 * clock: they change the flush watermark or the clock first, then empty
 * each set under its lock, so an install that holds a set lock either
 * comes before the emptying of its set or sees the new watermark and
 * clock (slot_fill() checks both).
 */
#include "hot.h"
#include "util.h"

#define XKV_SLOT_RELAX() os_cpu_relax()
#include "xkv_slot.h"

#define SKETCH_ROWS 4
#define SKETCH_MIN 4096
/* halve every counter after this many increments per counter */
#define SKETCH_AGE_FACTOR 8
/* most set locks; sets beyond share them */
#define HOT_LOCKS_MAX 1024

/**
 * struct xkv_hot - the hot tier as the store sees it.
 * @slots:     the mmap'ed (or kernel-mapped) xkv_hot array
 * @nslots:    number of slots, a power of two, at least XKV_HOT_WAYS
 * @locks:     set locks: set i takes locks[i & (nlocks - 1)]
 * @nlocks:    a power of two
 * @flush_cap: a delayed flush_all's time in store seconds, 0 = none
 * @sketch:    SKETCH_ROWS rows of @width saturating 8-bit counters
 * @width:     counters per row, a power of two
 * @adds:      increments since the last aging
 * @aging:     1 while one thread halves the counters
 * @installs:  slots written with a new key
 * @rejects:   admissions refused in favour of the incumbent
 * @stolen:    stuck slots taken over
 * @skipped:   writes skipped on a slot that could not be taken
 */
struct xkv_hot {
	struct xkv_slot *slots;
	u32 nslots;
	os_spin_t *locks;
	u32 nlocks;
	os_atomic64_t flush_cap;
	u8 *sketch;
	u32 width;
	os_atomic64_t adds;
	u32 aging;
	os_atomic64_t installs;
	os_atomic64_t rejects;
	os_atomic64_t stolen;
	os_atomic64_t skipped;
};

/* ---- sets and slots ---- */

/* the first slot of the set of keys hashing to @hash */
static u32 set_base(const struct xkv_hot *h, u32 hash)
{
	return xkv_hot_way(hash, h->nslots, 0) & ~(u32)(XKV_HOT_WAYS - 1);
}

static os_spin_t *set_lock(struct xkv_hot *h, u32 base)
{
	return &h->locks[(base / XKV_HOT_WAYS) & (h->nlocks - 1)];
}

/*
 * The slot holding the key, or NULL. Only a holder of the key's stripe
 * lock can put the key into a slot, and other writers only empty slots,
 * so for such a caller a look without any lock that finds nothing is
 * final; what it finds is checked again under the slot's seqlock.
 */
static struct xkv_slot *slot_find(struct xkv_hot *h, u32 hash,
				  const char *key, u32 nkey)
{
	u32 w;

	for (w = 0; w < XKV_HOT_WAYS; w++) {
		struct xkv_slot *sl =
			&h->slots[xkv_hot_way(hash, h->nslots, w)];

		if (xkv_slot_has_key(sl, key, nkey))
			return sl;
	}
	return NULL;
}

/* enter @sl (set locked): lock it, or take it over if it is stuck */
static bool slot_take(struct xkv_hot *h, struct xkv_slot *sl, u32 *seq)
{
	if (xkv_slot_lock(sl, seq))
		return true;
	if (xkv_slot_steal(sl, seq)) {
		os_atomic64_add(1, &h->stolen);
		return true;
	}
	os_atomic64_add(1, &h->skipped);
	return false;
}

/*
 * Store time @t -> the CLOCK_MONOTONIC ns at which the store's clock
 * reaches it (xkv_store_mono_ns()); 0 when it already has.
 */
static u64 to_mono(struct xkv_store *st, u64 t)
{
	if (t <= xkv_store_now(st))
		return 0;
	return xkv_store_mono_ns(st, t);
}

/*
 * Fill @sl from @it (set locked, slot held). Returns false, leaving the
 * slot empty, when the item cannot be served from a slot: too big, older
 * than a flush_all, or dead by the store's clock.
 */
static bool slot_fill(struct xkv_store *st, struct xkv_hot *h,
		      struct xkv_slot *sl, struct xkv_item *it)
{
	u64 cap = (u64)os_atomic64_read(&h->flush_cap);
	u64 t = it->exptime, exp = 0;

	if (it->nbytes > XKV_HOT_VAL_MAX ||
	    it->cas < (u64)os_atomic64_read(&st->flush_cas)) {
		xkv_slot_empty(sl);
		return false;
	}
	if (cap && (!t || cap < t))
		t = cap;
	if (t) {
		exp = to_mono(st, t);
		if (!exp) {
			xkv_slot_empty(sl);
			return false;
		}
	}
	xkv_slot_put(sl, xkv_item_key(it), it->nkey, xkv_item_value(it),
		     it->nbytes, it->flags, it->cas, exp);
	return true;
}

/* rewrite (@fill) or empty the slot holding @it's key, if one does */
static void hot_update(struct xkv_store *st, struct xkv_item *it, bool fill)
{
	struct xkv_hot *h = st->hot;
	const char *key = xkv_item_key(it);
	u32 hash = xkv_hot_hash(key, it->nkey), s;
	os_spin_t *lock = set_lock(h, set_base(h, hash));
	struct xkv_slot *sl;

	if (!slot_find(h, hash, key, it->nkey))
		return;
	os_spin_lock(lock);
	sl = slot_find(h, hash, key, it->nkey);
	if (sl && slot_take(h, sl, &s)) {
		/* an emptier may have been faster */
		if (xkv_slot_has_key(sl, key, it->nkey)) {
			if (fill)
				slot_fill(st, h, sl, it);
			else
				xkv_slot_empty(sl);
		}
		xkv_slot_unlock(sl, s);
	}
	os_spin_unlock(lock);
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

/* how strongly a slot's key deserves to stay (set locked) */
static u64 slot_score(const struct xkv_hot *h, const struct xkv_slot *sl)
{
	u32 n = xkv_slot_klen(sl);

	if (!n)
		return 0;
	/* XDP's sampled hits stand for reads the sketch never saw */
	return sketch_est(h, xkv_hash(sl->key, n)) +
	       (u64)OS_READ_ONCE(sl->hits) * XKV_HOT_HIT_SAMPLE;
}

void do_hot_read(struct xkv_store *st, u64 hv, struct xkv_item *it)
{
	struct xkv_hot *h = st->hot;
	const char *key = xkv_item_key(it);
	u64 est = sketch_add(h, hv), low = ~0ULL, sc;
	struct xkv_slot *sl, *victim = NULL;
	u32 w, hash, s;
	os_spin_t *lock;

	if (it->nbytes > XKV_HOT_VAL_MAX ||
	    (it->exptime && !to_mono(st, it->exptime)))
		return;
	hash = xkv_hot_hash(key, it->nkey);
	sl = slot_find(h, hash, key, it->nkey);
	if (sl && OS_READ_ONCE(sl->cas) == it->cas)
		return;
	lock = set_lock(h, set_base(h, hash));
	os_spin_lock(lock);
	/* the key's own slot, else the weakest, way 0 first among equals */
	for (w = 0; w < XKV_HOT_WAYS; w++) {
		sl = &h->slots[xkv_hot_way(hash, h->nslots, w)];
		if (xkv_slot_has_key(sl, key, it->nkey)) {
			victim = sl;
			low = 0;
			break;
		}
		sc = slot_score(h, sl);
		if (sc < low) {
			low = sc;
			victim = sl;
		}
	}
	if (xkv_slot_klen(victim) && !xkv_slot_has_key(victim, key, it->nkey) &&
	    est <= low) {
		os_atomic64_add(1, &h->rejects);
	} else if (slot_take(h, victim, &s)) {
		if (slot_fill(st, h, victim, it))
			os_atomic64_add(1, &h->installs);
		xkv_slot_unlock(victim, s);
	}
	os_spin_unlock(lock);
}

/* ---- whole-tier operations ---- */

/*
 * Visit every slot that holds anything, each under its set lock and its
 * seqlock: empty it, or with @mono cap its expiry there (0 = no cap).
 */
static void hot_sweep(struct xkv_hot *h, bool empty, u64 mono)
{
	u32 base, w, s;

	for (base = 0; base < h->nslots; base += XKV_HOT_WAYS) {
		os_spin_t *lock = set_lock(h, base);

		os_spin_lock(lock);
		for (w = 0; w < XKV_HOT_WAYS; w++) {
			struct xkv_slot *sl = &h->slots[base + w];

			/* any length, a bad one included, is cleaned */
			if (!OS_READ_ONCE(sl->key_len) ||
			    !slot_take(h, sl, &s))
				continue;
			if (empty)
				xkv_slot_empty(sl);
			else if (!sl->expire_ns || sl->expire_ns > mono)
				sl->expire_ns = mono;
			xkv_slot_unlock(sl, s);
		}
		os_spin_unlock(lock);
		os_cond_resched();
	}
}

void xkv_hot_flush(struct xkv_store *st, u64 at)
{
	struct xkv_hot *h = st->hot;
	u64 mono;

	if (!h)
		return;
	if (!at) {
		os_atomic64_set(&h->flush_cap, 0);
		hot_sweep(h, true, 0);
		return;
	}
	os_atomic64_set(&h->flush_cap, (s64)at);
	mono = to_mono(st, at);
	hot_sweep(h, !mono, mono);
}

void xkv_hot_clear(struct xkv_store *st)
{
	if (st->hot)
		hot_sweep(st->hot, true, 0);
}

static void hot_free(struct xkv_hot *h)
{
	u32 i;

	if (h->locks) {
		for (i = 0; i < h->nlocks; i++)
			os_spin_destroy(&h->locks[i]);
		os_free(h->locks);
	}
	if (h->sketch)
		os_big_free(h->sketch, (size_t)SKETCH_ROWS * h->width);
	os_free(h);
}

int xkv_store_attach_hot(struct xkv_store *st, void *slots, u32 nslots)
{
	struct xkv_hot *h;
	u32 w = SKETCH_MIN, i, s;

	if (!slots || nslots < XKV_HOT_WAYS || (nslots & (nslots - 1)))
		return -EINVAL;
	if (st->hot)
		return -EBUSY;
	while (w < 4 * nslots && w < (1u << 24))
		w *= 2;
	h = os_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->nlocks = nslots / XKV_HOT_WAYS;
	if (h->nlocks > HOT_LOCKS_MAX)
		h->nlocks = HOT_LOCKS_MAX;
	h->locks = os_zalloc(sizeof(*h->locks) * h->nlocks);
	if (!h->locks)
		goto free_hot;
	for (i = 0; i < h->nlocks; i++)
		os_spin_init(&h->locks[i]);
	h->sketch = os_big_alloc((size_t)SKETCH_ROWS * w);
	if (!h->sketch)
		goto free_hot;
	h->width = w;
	h->slots = slots;
	h->nslots = nslots;
	/*
	 * Own the map from now on: empty every slot, taking over any that a
	 * writer which died inside left odd (no thread of ours uses @h yet).
	 */
	for (i = 0; i < nslots; i++) {
		struct xkv_slot *sl = &h->slots[i];

		if (!slot_take(h, sl, &s))
			continue;
		xkv_slot_empty(sl);
		OS_WRITE_ONCE(sl->hits, 0);
		xkv_slot_unlock(sl, s);
	}
	OS_STORE_RELEASE(st->hot, h);
	return 0;

free_hot:
	hot_free(h);
	return -ENOMEM;
}

void xkv_store_detach_hot(struct xkv_store *st)
{
	struct xkv_hot *h = st->hot;

	if (!h)
		return;
	xkv_hot_clear(st);
	st->hot = NULL;
	hot_free(h);
}
void xkv_store_hot_stats(struct xkv_store *st, u64 *installs, u64 *rejects)
{
	struct xkv_hot *h = st->hot;

	*installs = h ? (u64)os_atomic64_read(&h->installs) : 0;
	*rejects = h ? (u64)os_atomic64_read(&h->rejects) : 0;
}
