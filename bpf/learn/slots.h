/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slots.h - what ingress does to a key's slot: where a key lives, the
 * occupancy bits, emptying a slot, and the generations a write bumps and
 * a GET notes.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_SLOTS_H
#define XKV_LEARN_SLOTS_H

/*
 * The slot of a key: the one its hash names (a key lives in no other).
 * A write to any of a slot's keys empties the whole slot (@used = 0),
 * whatever other keys' entries it holds: they are learned again from
 * their next replies.
 */
static __always_inline __u32 xl_slot_of(__u32 hash)
{
	return xkv_hot_index(hash, xkv_lcfg.nslots);
}

static __always_inline void xl_occ_set(__u32 idx)
{
	__u32 w = idx / 64;
	__u64 *p = bpf_map_lookup_elem(&xkv_locc, &w);

	if (p)
		__sync_fetch_and_or(p, 1ULL << (idx & 63));
}

static __always_inline void xl_occ_clear(__u32 idx)
{
	__u32 w = idx / 64;
	__u64 *p = bpf_map_lookup_elem(&xkv_locc, &w);

	if (p)
		__sync_fetch_and_and(p, ~(1ULL << (idx & 63)));
}

/* with the slot locked: empty it */
static __always_inline void xl_slot_empty_locked(struct xkv_slot *h, __u32 idx)
{
	if (READ_ONCE(h->used)) {
		xkv_slot_empty(h);
		XL_STAT(slots_cleared);
	}
	xl_occ_clear(idx);
}

/*
 * Empty slot @idx if it holds anything. Called after the slot's (or the
 * global) generation was bumped: an installer that takes the lock after
 * this looked at the slot sees the bump and backs off, so a slot found
 * empty and unlocked needs nothing.
 * Return: 0 when done, 1 when another CPU holds the slot (try again).
 */
static __always_inline int xl_slot_clear_try(__u32 idx)
{
	struct xkv_slot *h = bpf_map_lookup_elem(&xkv_hot, &idx);
	__u32 v;

	if (!h)
		return 0;
	if (!xkv_slot_read_begin(h, &v))
		return 1;
	if (!READ_ONCE(h->used) && !xkv_slot_read_retry(h, v))
		return 0;
	/* one try; the caller's loop bounds the retries (xkv_slot.h) */
	if (!xkv_slot_trylock(h, &v))
		return 1;
	xl_slot_empty_locked(h, idx);
	xkv_slot_unlock(h, v);
	return 0;
}

/* --- what ingress does with a key ----------------------------------------- */

/*
 * Time an item written now with memcached exptime @e stops being served,
 * rounded up, in bpf_ktime_get_ns() time; 0 = never.
 */
static __always_inline __u64 xl_exp_deadline(__s32 e, __u64 now)
{
	__u64 tai_s, at;

	if (e == 0)
		return 0;
	if (e < 0)
		return now + XKV_LEARN_EXP_SLACK_NS;
	if (e <= XKV_LEARN_REALTIME_MAXDELTA)
		return now + (__u64)e * XKV_NS_PER_S + XKV_LEARN_EXP_SLACK_NS;
	/*
	 * A unix time. CLOCK_TAI runs ahead of the real time by the leap
	 * seconds (0 when nobody told the kernel, 37 now): the real time
	 * is at least tai - 37, so the item expires at most this far ahead.
	 */
	tai_s = bpf_ktime_get_tai_ns() / XKV_NS_PER_S;
	at = (__u64)e + XKV_LEARN_TAI_OFFSET_MAX;
	if (at <= tai_s)
		return now + XKV_LEARN_EXP_SLACK_NS;
	return now + (at - tai_s) * XKV_NS_PER_S + XKV_LEARN_EXP_SLACK_NS;
}

/* raise *@p to @v (another CPU may raise it too) */
static __always_inline void xl_max_u64(__u64 *p, __u64 v)
{
	__u64 old;
	int i;

	for (i = 0; i < 4; i++) {
		old = READ_ONCE(*p);
		if (old >= v)
			return;
		if (__sync_val_compare_and_swap(p, old, v) == old)
			return;
	}
}

/* a write to a key of slot @idx takes effect now */
static __always_inline void xl_invalidate(struct xkv_lscratch *s, __u32 idx,
					  __u64 now)
{
	struct xkv_learn_slot *m = bpf_map_lookup_elem(&xkv_lmeta, &idx);
	__u32 n;

	if (!m)
		return;
	WRITE_ONCE(m->write_ns, now);
	__sync_fetch_and_add(&m->gen, 1);
	XL_STAT(in_write_keys);
	if (!xl_slot_clear_try(idx))
		return;
	n = s->nq;
	if (n < XKV_LEARN_QUEUE) {
		s->q[n & (XKV_LEARN_QUEUE - 1)] = idx;
		s->nq = n + 1;
	} else {
		s->qovf = 1;
	}
}

/* ... and it set an expiry: learn nothing for the slot before it passes */
static __always_inline void xl_volatile(__u32 idx, __s32 e, __u64 now)
{
	struct xkv_learn_slot *m = bpf_map_lookup_elem(&xkv_lmeta, &idx);
	__u64 dl = xl_exp_deadline(e, now);

	if (m && dl)
		xl_max_u64(&m->vol_until_ns, dl);
}

/* a GET for a key of slot @idx: note the generations it found */
static __always_inline void xl_record(__u32 idx)
{
	struct xkv_learn_slot *m = bpf_map_lookup_elem(&xkv_lmeta, &idx);
	struct xkv_learn_glob *g = xl_glob();
	__u64 gens;

	if (!m || !g)
		return;
	gens = (__u64)READ_ONCE(m->gen) << 32 | READ_ONCE(g->ggen);
	WRITE_ONCE(m->req_gens, gens);
	/* a full barrier: @seen is never set before @req_gens is */
	if (!READ_ONCE(m->seen))
		__sync_fetch_and_or(&m->seen, 1);
	XL_STAT(in_get_keys);
}

/*
 * Every slot may be stale: bump the global generation now, empty the
 * learned slots once the packet is parsed (before it goes up the stack).
 */
static __always_inline void xl_flush(struct xkv_lscratch *s, __u64 now,
				     int unsure)
{
	struct xkv_learn_glob *g = xl_glob();

	if (g) {
		WRITE_ONCE(g->gwrite_ns, now);
		__sync_fetch_and_add(&g->ggen, 1);
	}
	s->need_flush = 1;
	if (unsure)
		s->flush_unsure = 1;
}

#endif /* XKV_LEARN_SLOTS_H */
