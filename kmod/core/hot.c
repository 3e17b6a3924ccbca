// SPDX-License-Identifier: GPL-2.0
/*
 * hot.c - writing the XDP hot cache: slot locks, slot seqlock, admission.
 *
 * A slot is a bucket of entries, one per key, each the key's built reply
 * block (abi/xkv_hot.h); a key may live only in the slot xkv_hot_index()
 * names. Locking, on top of store_int.h's: every write to a slot holds
 * the slot's lock (h->locks, still called the set lock: a set is one slot
 * now; an os_spin_t, under which nothing sleeps or allocates; order:
 * stripe -> set), then the slot's seqlock (abi/xkv_slot.h).
 * The set locks live in the store's own memory, so a slot the store finds
 * odd is never held by one of its own threads: the seqlock then only
 * waits, a bounded time, for emptiers outside the store, and the store
 * takes over a slot they leave stuck (xkv_slot.h's DOC says why that is
 * safe). Under its set lock the store is the only writer that moves
 * entries, so what it finds there stays put (emptiers only drop them all).
 * Everything read back from the slots, which any process with the map may
 * write, is bounded before use (xkv_slot_find() and friends).
 *
 * The set locks also order installs against flush_all and the debug
 * clock: they change the flush watermark or the clock first, then empty
 * each slot under its lock, so an install that holds a set lock either
 * comes before the emptying of its slot or sees the new watermark and
 * clock (slot_fill() checks both).
 */
#include "hot.h"
#include "util.h"

#define XKV_SLOT_RELAX() os_cpu_relax()
#include "xkv_slot.h"

#define SKETCH_ROWS 4
#define SKETCH_MIN 4096
/*
 * Counters per row for each slot, and at most: a slot holds up to ~20
 * small keys, and the sketch must tell apart the keys at the edge of what
 * fits, which are read rarely. bench/hotsim, Zipf 0.99 over 100,000 keys,
 * 512 slots of mixed sizes: 4 per slot keeps 94.7% of the ideal hit
 * ratio, 16 95.9%, 64 97.3%.
 */
#define SKETCH_PER_SLOT 64
#define SKETCH_MAX (1u << 22)
/* halve every counter after this many increments per counter */
#define SKETCH_AGE_FACTOR 8
/* most set locks; slots beyond share them */
#define HOT_LOCKS_MAX 1024

/**
 * struct xkv_hot - the hot tier as the store sees it.
 * @slots:     the mmap'ed (or kernel-mapped) xkv_hot array
 * @nslots:    number of slots, a power of two
 * @locks:     set locks: slot i takes locks[i & (nlocks - 1)]
 * @nlocks:    a power of two
 * @flush_cap: a delayed flush_all's time in store seconds, 0 = none
 * @sketch:    SKETCH_ROWS rows of @width saturating 8-bit counters,
 *             indexed by the keys' xkv_hot_hash(), which entries carry
 * @width:     counters per row, a power of two
 * @adds:      increments since the last aging
 * @aging:     1 while one thread halves the counters
 * @installs:  keys put into a slot by admission
 * @rejects:   admissions refused in favour of the slot's entries
 * @evicted:   entries removed to make room for a more popular key
 * @stolen:    stuck slots taken over
 * @skipped:   writes skipped on a slot that could not be taken, and
 *             store-path installs skipped on a busy set lock or slot
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
	os_atomic64_t evicted;
	os_atomic64_t stolen;
	os_atomic64_t skipped;
};

/* ---- slots ---- */

static os_spin_t *set_lock(struct xkv_hot *h, u32 idx)
{
	return &h->locks[idx & (h->nlocks - 1)];
}

/*
 * May @sl hold the key? Only a holder of the key's stripe lock puts the
 * key into a slot, and this caller is one; other writers move or drop
 * entries. So a walk that finds nothing while the slot's count stayed
 * even and unchanged is final; anything else says "maybe", to be settled
 * under the set lock.
 */
static bool slot_may_hold(const struct xkv_slot *sl, u32 hash,
			  const char *key, u32 nkey)
{
	u32 s = OS_LOAD_ACQUIRE(sl->seq);

	if ((s & 1) || xkv_slot_find(sl, hash, key, nkey) >= 0)
		return true;
	os_smp_rmb();
	return OS_READ_ONCE(sl->seq) != s;
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

/* bytes @it's entry takes in a slot; more than a slot holds if too big */
static u32 item_ent_size(const struct xkv_item *it)
{
	if (it->nbytes > XKV_HOT_SLOT_ROOM)
		return XKV_HOT_SLOT_ROOM + 1;
	return xkv_hot_ent_size(xkv_slot_line_len(it->nkey, it->nbytes,
						  it->flags),
				it->nbytes);
}

/*
 * Put @it's entry into @sl (set locked, slot held), replacing the key's
 * old one. Returns false, leaving the key out of the slot, when the item
 * cannot be served from a slot: too big for the room left, older than a
 * flush_all, or dead by the store's clock.
 */
static bool slot_fill(struct xkv_store *st, struct xkv_hot *h,
		      struct xkv_slot *sl, u32 hash, struct xkv_item *it)
{
	u64 cap = (u64)os_atomic64_read(&h->flush_cap);
	u64 t = it->exptime, exp = 0;
	const char *key = xkv_item_key(it);
	int off;
	u8 xf;

	if (item_ent_size(it) > XKV_HOT_SLOT_ROOM ||
	    it->cas < (u64)os_atomic64_read(&st->flush_cas))
		goto drop;
	if (cap && (!t || cap < t))
		t = cap;
	if (t) {
		exp = to_mono(st, t);
		if (!exp)
			goto drop;
	}
	xf = XKV_SLOT_F_META;
	if (it->iflags & XKV_IT_KEY_B64)
		xf |= XKV_SLOT_F_KEY_B64;
	return xkv_slot_put(sl, hash, key, it->nkey, xkv_item_value(it),
			    it->nbytes, it->flags, it->cas, exp, xf);
drop:
	off = xkv_slot_find(sl, hash, key, it->nkey);
	if (off >= 0)
		xkv_slot_remove(sl, (u32)off);
	return false;
}

/* rewrite (@fill) or remove @it's key's entry, if its slot has one */
static void hot_update(struct xkv_store *st, struct xkv_item *it, bool fill)
{
	struct xkv_hot *h = st->hot;
	const char *key = xkv_item_key(it);
	u32 hash = xkv_hot_hash(key, it->nkey), s, idx;
	struct xkv_slot *sl;
	os_spin_t *lock;
	int off;

	idx = xkv_hot_index(hash, h->nslots);
	sl = &h->slots[idx];
	if (!slot_may_hold(sl, hash, key, it->nkey))
		return;
	lock = set_lock(h, idx);
	os_spin_lock(lock);
	if (xkv_slot_find(sl, hash, key, it->nkey) >= 0 &&
	    slot_take(h, sl, &s)) {
		/* an emptier may have been faster */
		off = xkv_slot_find(sl, hash, key, it->nkey);
		if (off >= 0) {
			if (fill)
				slot_fill(st, h, sl, hash, it);
			else
				xkv_slot_remove(sl, (u32)off);
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

static u32 sketch_pos(const struct xkv_hot *h, u32 hash, u32 row)
{
	u64 x = (((u64)hash << 32) | hash) *
		(0x9e3779b97f4a7c15ULL + 2 * row);

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
static u32 sketch_add(struct xkv_hot *h, u32 hash)
{
	u32 r, est = 255;

	for (r = 0; r < SKETCH_ROWS; r++) {
		u8 *c = &h->sketch[sketch_pos(h, hash, r)];
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

static u32 sketch_est(const struct xkv_hot *h, u32 hash)
{
	u32 r, est = 255;

	for (r = 0; r < SKETCH_ROWS; r++) {
		u8 v = OS_READ_ONCE(h->sketch[sketch_pos(h, hash, r)]);

		if (v < est)
			est = v;
	}
	return est;
}

/* an entry that admission may evict: where it is, its size, its worth */
struct hot_cand {
	u16 off;
	u16 size;
	u32 score;
};

/*
 * How strongly the entry at @off deserves to stay (set locked): the
 * sketch's estimate for its hash, plus XDP's sampled hits, which stand
 * for reads the sketch never saw. Both are hints read from the map.
 */
static u32 ent_score(const struct xkv_hot *h, const struct xkv_slot *sl,
		     u32 off)
{
	const struct xkv_hot_ent *e = xkv_slot_ent(sl, off);
	u64 sc = sketch_est(h, OS_READ_ONCE(e->hash)) +
		 (u64)OS_READ_ONCE(e->hits) * XKV_HOT_HIT_SAMPLE;

	return sc < 0xffffffffULL ? (u32)sc : 0xffffffffU;
}

/*
 * Choose what to evict from @sl (set locked) so that @need bytes fit:
 * entries scoring below @est - 1, least popular first, and no more than it
 * takes; when it takes more than one, their scores together must be below
 * @est too (a big newcomer must be worth the reads of all it displaces).
 * Fills @c (sorted by offset, highest first, the order to remove them in)
 * and returns how many, or -1 when @need cannot be freed so.
 */
static int pick_victims(const struct xkv_hot *h, const struct xkv_slot *sl,
			u32 need, u32 est, struct hot_cand *c)
{
	u32 used = xkv_slot_used(sl), off = 0, n = 0, i, j, k, sz, got;
	struct hot_cand t;
	u64 lost;

	/* it fits the room left after the good entries: nothing to weigh */
	if (XKV_HOT_SLOT_ROOM - xkv_slot_end(sl, used) >= need)
		return 0;
	for (i = 0; i < XKV_HOT_ENTS_MAX; i++) {
		sz = xkv_slot_ent_size(sl, off, used);
		if (!sz)
			break;
		t.off = (u16)off;
		t.size = (u16)sz;
		t.score = ent_score(h, sl, off);
		off += sz;
		/* by more than one read: ties only churn the slot */
		if (t.score + 1 >= est)
			continue;
		/* insertion sort by score, least popular first */
		for (j = n; j > 0 && c[j - 1].score > t.score; j--)
			c[j] = c[j - 1];
		c[j] = t;
		n++;
	}
	got = XKV_HOT_SLOT_ROOM - off;
	lost = 0;
	for (k = 0; k < n && got < need; k++) {
		got += c[k].size;
		lost += c[k].score;
	}
	if (got < need || (k > 1 && lost >= est))
		return -1;
	/* the chosen ones, by offset from the top: removals then hold */
	for (i = 1; i < k; i++) {
		t = c[i];
		for (j = i; j > 0 && c[j - 1].off < t.off; j--)
			c[j] = c[j - 1];
		c[j] = t;
	}
	return (int)k;
}

/*
 * Count a read of @it (stripe locked) and admit it into its slot if it
 * earns a place. With @nowait (the XDP store path, in softirq) the set
 * lock and the slot are each tried once and never taken over: on
 * contention the install is dropped, the count stays, and a later read
 * tries again.
 */
static void hot_read(struct xkv_store *st, struct xkv_item *it, bool nowait)
{
	struct xkv_hot_ent *e;
	struct xkv_hot *h = st->hot;
	struct hot_cand c[XKV_HOT_ENTS_MAX];
	const char *key = xkv_item_key(it);
	u32 hash = xkv_hot_hash(key, it->nkey), idx, need, s;
	struct xkv_slot *sl;
	os_spin_t *lock;
	u32 est;
	int off, n, i;

	/* XDP asks no client who it is: with -S or -Y it gets nothing */
	if (xkv_store_auth(st))
		return;
	est = sketch_add(h, hash);
	need = item_ent_size(it);
	if (need > XKV_HOT_SLOT_ROOM ||
	    (it->exptime && !to_mono(st, it->exptime)))
		return;
	idx = xkv_hot_index(hash, h->nslots);
	sl = &h->slots[idx];
	off = xkv_slot_find(sl, hash, key, it->nkey);
	if (off >= 0) {
		e = xkv_slot_ent(sl, (u32)off);
		if (OS_READ_ONCE(e->cas) == it->cas)
			return;
	}
	lock = set_lock(h, idx);
	if (!nowait) {
		os_spin_lock(lock);
	} else if (!os_spin_trylock(lock)) {
		os_atomic64_add(1, &h->skipped);
		return;
	}
	off = xkv_slot_find(sl, hash, key, it->nkey);
	if (off >= 0) {
		/* another reader was faster */
		e = xkv_slot_ent(sl, (u32)off);
		if (OS_READ_ONCE(e->cas) == it->cas)
			goto unlock;
		/* there, but not this version: a rewrite was skipped */
		n = 0;
	} else {
		n = pick_victims(h, sl, need, est, c);
		if (n < 0) {
			os_atomic64_add(1, &h->rejects);
			goto unlock;
		}
	}
	if (nowait ? !xkv_slot_trylock(sl, &s) : !slot_take(h, sl, &s)) {
		if (nowait)
			os_atomic64_add(1, &h->skipped);
		goto unlock;
	}
	for (i = 0; i < n; i++)
		xkv_slot_remove(sl, c[i].off);
	if (slot_fill(st, h, sl, hash, it))
		os_atomic64_add(1, &h->installs);
	xkv_slot_unlock(sl, s);
	os_atomic64_add(n, &h->evicted);
unlock:
	os_spin_unlock(lock);
}

void do_hot_read(struct xkv_store *st, u64 hv, struct xkv_item *it)
{
	(void)hv;
	hot_read(st, it, false);
}

void do_hot_peeked(struct xkv_store *st, struct xkv_item *it)
{
	hot_read(st, it, true);
}

/* ---- whole-tier operations ---- */

/*
 * Visit every slot that holds anything, each under its set lock and its
 * seqlock: empty it, or with @mono cap the expiry of its entries there
 * (0 = no cap).
 */
static void hot_sweep(struct xkv_hot *h, bool empty, u64 mono)
{
	u32 idx, s, used, off, i, sz;

	for (idx = 0; idx < h->nslots; idx++) {
		struct xkv_slot *sl = &h->slots[idx];
		os_spin_t *lock = set_lock(h, idx);

		/*
		 * Under the set lock: an install in progress has checked the
		 * flush watermark and clock before they changed, and must be
		 * seen here. Any @used, a bad one included, is cleaned.
		 */
		os_spin_lock(lock);
		if (!OS_READ_ONCE(sl->used) || !slot_take(h, sl, &s))
			goto unlock;
		if (empty) {
			xkv_slot_empty(sl);
		} else {
			used = xkv_slot_used(sl);
			off = 0;
			for (i = 0; i < XKV_HOT_ENTS_MAX; i++) {
				struct xkv_hot_ent *e;

				sz = xkv_slot_ent_size(sl, off, used);
				if (!sz)
					break;
				e = xkv_slot_ent(sl, off);
				if (!e->expire_ns || e->expire_ns > mono)
					e->expire_ns = mono;
				off += sz;
			}
			/* cut what does not chain: nobody can cap it */
			if (off != OS_READ_ONCE(sl->used))
				OS_WRITE_ONCE(sl->used, (u16)off);
		}
		xkv_slot_unlock(sl, s);
unlock:
		os_spin_unlock(lock);
		if (!(idx & 63))
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

	if (!slots || !nslots || (nslots & (nslots - 1)))
		return -EINVAL;
	if (st->hot)
		return -EBUSY;
	while (w < SKETCH_PER_SLOT * nslots && w < SKETCH_MAX)
		w *= 2;
	h = os_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->nlocks = nslots;
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
