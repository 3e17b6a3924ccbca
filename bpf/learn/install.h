/* SPDX-License-Identifier: GPL-2.0 */
/*
 * install.h - installing a learned value into its slot, when that is
 * known to be safe.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_INSTALL_H
#define XKV_LEARN_INSTALL_H

/* --- installing a learned value ------------------------------------------- */

struct xkv_inst_ctx {
	struct __sk_buff *skb;
	struct xkv_lscratch *s;
	__u64 now;
};

/*
 * May a value for the slot whose GET noted @m be installed? Reads the
 * clock itself: a write stamped on another CPU a moment after a time
 * taken earlier here must count as "within the quarantine" (hence also
 * the signed difference). The generations are read with atomic
 * operations, which order the loads after them on any CPU.
 */
static __always_inline __u32 xl_learn_check(struct xkv_learn_slot *m,
					    struct xkv_learn_glob *g)
{
	__s64 quiet = (__s64)xkv_lcfg.quiet_ms * XKV_NS_PER_MS;
	__u64 gens, now;

	if (!READ_ONCE(m->seen))
		return XKV_LSTAT_skip_no_get;
	gens = (__u64)__sync_fetch_and_add(&m->gen, 0) << 32 |
	       __sync_fetch_and_add(&g->ggen, 0);
	if (READ_ONCE(m->req_gens) != gens)
		return XKV_LSTAT_skip_raced;
	now = bpf_ktime_get_ns();
	if ((__s64)(now - READ_ONCE(m->write_ns)) <= quiet ||
	    (__s64)(now - READ_ONCE(g->gwrite_ns)) <= quiet)
		return XKV_LSTAT_skip_quiet;
	if (now < READ_ONCE(m->vol_until_ns) ||
	    now < READ_ONCE(g->no_learn_until_ns))
		return XKV_LSTAT_skip_volatile;
	return XKV_LSTAT_learned;
}

/*
 * Copy @len (1..XKV_HOT_VAL_MAX) bytes at @off of @skb into @h->val, in
 * pieces whose sizes the verifier can bound with a mask (the room,
 * 1760 bytes, is no power of two: 1024 + 512 + 128 + 64 + 32).
 */
_Static_assert(XKV_HOT_VAL_MAX == 1024 + 512 + 128 + 64 + 32,
	       "value pieces must add up to the room");

#define XKV_VAL_PIECE(p, at)                                                 \
	do {                                                                 \
		__u32 n = len - done;                                        \
		if (!n)                                                      \
			return 0;                                            \
		if (n > (p))                                                 \
			n = (p);                                             \
		n = xkv_bound(n - 1, (p) - 1) + 1;                           \
		if (bpf_skb_load_bytes(skb, off + (at), h->val + (at), n))   \
			return -1;                                           \
		done = (at) + n;                                             \
	} while (0)

static __always_inline int xl_copy_val(struct __sk_buff *skb, __u32 off,
				       struct xkv_slot *h, __u32 len)
{
	__u32 done = 0;

	if (len > XKV_HOT_VAL_MAX)
		return -1;
	XKV_VAL_PIECE(1024, 0);
	if (done < 1024)
		return 0;
	XKV_VAL_PIECE(512, 1024);
	if (done < 1536)
		return 0;
	XKV_VAL_PIECE(128, 1536);
	if (done < 1664)
		return 0;
	XKV_VAL_PIECE(64, 1664);
	if (done < 1728)
		return 0;
	XKV_VAL_PIECE(32, 1728);
	return 0;
}

static long xl_inst_cb(__u32 i, void *data)
{
	struct xkv_inst_ctx *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_cand *cd = &s->cand[i & (XKV_LEARN_MAX_CAND - 1)];
	__u32 idx, klen = cd->klen, vlen = cd->vlen, seq, why, same;
	struct xkv_learn_glob *g = xl_glob();
	struct xkv_learn_slot *m;
	struct xkv_slot *h;
	__u64 now = c->now;
	int err = 0;

	if (i >= s->ncand)
		return 1;
	if (!cd->ok) {
		XL_STAT(skip_split);
		return 0;
	}
	if (!klen || klen > XKV_HOT_KEY_MAX || vlen > XKV_HOT_VAL_MAX) {
		XL_STAT(skip_too_big);
		return 0;
	}
	/* 1..XKV_HOT_KEY_MAX, and so the verifier sees 1..256 */
	klen = xkv_bound(klen - 1, XKV_HOT_KEY_ROOM - 1) + 1;
	idx = xl_slot_of(cd->hash);
	m = bpf_map_lookup_elem(&xkv_lmeta, &idx);
	h = bpf_map_lookup_elem(&xkv_hot, &idx);
	if (!m || !h || !g) {
		XL_STAT(errors);
		return 0;
	}
	why = xl_learn_check(m, g);
	if (why != XKV_LSTAT_learned) {
		xl_stat_add(why, 1);
		return 0;
	}
	if (bpf_skb_load_bytes(c->skb, cd->key_off, s->kbuf, klen)) {
		XL_STAT(errors);
		return 0;
	}
	if (!xkv_slot_trylock(h, &seq)) {
		XL_STAT(skip_busy);
		return 0;
	}
	/* a flush reading the bit after this sees the slot; one that read
	 * it before bumped the generation first, which is checked next */
	xl_occ_set(idx);
	why = xl_learn_check(m, g);
	if (why != XKV_LSTAT_learned) {
		xkv_slot_unlock(h, seq);
		xl_stat_add(why, 1);
		return 0;
	}
	same = xkv_slot_key_is(h, s->kbuf, klen);
	if (!same)
		__sync_lock_test_and_set(&h->hits, 0);
	if (bpf_skb_load_bytes(c->skb, cd->key_off, h->key, klen))
		err = 1;
	if (vlen && xl_copy_val(c->skb, cd->data_off, h, vlen))
		err = 1;
	h->flags = cd->flags;
	if (cd->has_cas) {
		h->cas = cd->cas;
		h->xflags = 0;
	} else if (!same || (h->xflags & XKV_SLOT_F_NO_CAS)) {
		/* a "get" reply: no CAS (one known for the same key, with
		 * no write since, is still right and is kept) */
		h->cas = 0;
		h->xflags = XKV_SLOT_F_NO_CAS;
	}
	h->expire_ns = now + (__u64)xkv_lcfg.ttl_ms * XKV_NS_PER_MS;
	h->val_len = vlen;
	h->key_len = err ? 0 : klen;
	/* a write that came in meanwhile wins */
	if (!err && xl_learn_check(m, g) != XKV_LSTAT_learned) {
		h->key_len = 0;
		err = 2;
	}
	xkv_slot_unlock(h, seq);
	if (err == 1)
		XL_STAT(errors);
	else if (err == 2)
		XL_STAT(skip_raced);
	else
		XL_STAT(learned);
	return 0;
}

#endif /* XKV_LEARN_INSTALL_H */
