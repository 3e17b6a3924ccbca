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

#include "xkv_dec.h"

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

/* decimal digits of @v, 1..10 (xkv_dec.h) */
static __always_inline __u32 xl_ndigits(struct xkv_lscratch *s, __u32 v)
{
	return xkv_dec_len(v, 10, &s->nd);
}

/* write @v in @nd digits at ebuf offset @p (below 512) */
static __always_inline void xl_put_dec(__u8 *b, __u32 p, __u32 v, __u32 nd)
{
	__u32 q = p + nd - 1, k;
	__u64 w = v;

	b[q & 511] = '0';
	for (k = 0; k < 10; k++) {
		if (!w)
			break;
		b[(q - k) & 511] = xkv_dec_next(&w);
	}
}

/*
 * The sum xkv_hot_csum() gives of @n (at most XKV_HOT_SLOT_ROOM) bytes at
 * @b, 8-aligned, whose next 4 bytes are zero: bpf_csum_diff() over whole
 * 32-bit words, folded. Return: the sum, or -1.
 */
static __always_inline int xl_sum(__u8 *b, __u32 n)
{
	__u32 clen = (n + 3) & ~3U, off, k, len;
	__s64 sum = 0;

	for (k = 0; k < 4; k++) {
		off = k * 512;
		if (off >= clen)
			break;
		len = clen - off;
		if (len > 512)
			len = 512;
		len = xkv_bound(len, 1023);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(b + off), len,
				    (__wsum)sum);
		if (sum < 0)
			return -1;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (int)(sum & 0xffff);
}

/*
 * Build the entry of candidate @cd in s->ebuf: the header, then the block
 * memcached sends for the key in a "get" reply, "VALUE <key> <flags>
 * <bytes>\r\n<data>\r\n", its line printed from the numbers the reply
 * parser read (so no CAS) and its key and data copied from @skb, zeros up
 * to the entry's size, and both sums. @cas, @xflags and @hits are left
 * for the installer.
 * Return: the entry's size, or 0 when it does not fit a slot or cannot be
 * read.
 */
static __always_inline __u32 xl_build_ent(struct __sk_buff *skb,
					  struct xkv_lscratch *s,
					  struct xkv_cand *cd, __u32 klen,
					  __u64 exp_ns)
{
	struct xkv_hot_ent *ne = (void *)s->ebuf;
	__u8 *b = s->ebuf, *body = s->ebuf + XKV_HOT_ENT_HDR;
	__u32 vlen = cd->vlen, flags = cd->flags, nf, nv, line, blen, size;
	__u32 p, n;
	int sl, sb;

	nf = xl_ndigits(s, flags);
	nv = xl_ndigits(s, vlen);
	line = 6 + klen + 1 + nf + 1 + nv;
	size = xkv_hot_ent_size(line, vlen);
	if (vlen > XKV_HOT_VAL_MAX || size > XKV_HOT_SLOT_ROOM)
		return 0;
	blen = line + 2 + vlen + 2;

	body[0] = 'V';
	body[1] = 'A';
	body[2] = 'L';
	body[3] = 'U';
	body[4] = 'E';
	body[5] = ' ';
	if (bpf_skb_load_bytes(skb, cd->key_off, body + 6, klen))
		return 0;
	p = XKV_HOT_ENT_HDR + 6 + klen;
	b[p & 511] = ' ';
	xl_put_dec(b, p + 1, flags, nf);
	p += 1 + nf;
	b[p & 511] = ' ';
	xl_put_dec(b, p + 1, vlen, nv);
	p += 1 + nv;
	/* the line's sum, with zeros after it */
	*(__u32 *)(b + (p & 511)) = 0;
	sl = xl_sum(body, line);
	b[p & 511] = '\r';
	b[(p + 1) & 511] = '\n';
	p += 2;
	if (vlen) {
		n = xkv_bound(vlen - 1, XKV_LEBUF_PIECE - 1) + 1;
		if (bpf_skb_load_bytes(skb, cd->data_off, b + (p & 511), n))
			return 0;
	}
	p += vlen;
	b[p & 2047] = '\r';
	b[(p + 1) & 2047] = '\n';
	p += 2;
	/* zeros to the entry's end, and the 4 bytes the sum reads after it */
	*(__u64 *)(b + (p & 2047)) = 0;
	*(__u64 *)(b + (p & 2047) + 8) = 0;
	sb = xl_sum(body, blen);
	if (sl < 0 || sb < 0)
		return 0;

	ne->size = size;
	ne->key_len = klen;
	ne->xflags = 0;
	ne->line_len = line;
	ne->body_len = blen;
	ne->hash = cd->hash;
	ne->hits = 0;
	ne->cas = 0;
	ne->expire_ns = exp_ns;
	ne->sum_line = sl;
	ne->sum_body = sb;
	ne->rsvd = 0;
	return size;
}

/* --- the slot's entries, walked and moved under its lock ----------------- */

/* why the install loop stopped (xkv_lwalk.done) */
#define XL_W_FIT 1	/* the new entry fits after the slot's entries */
#define XL_W_KEPT 2	/* the entry to drop keeps its place: no install */
#define XL_W_ERR 3	/* the slot could not be read or moved */

/* what the install loop's callbacks see */
struct xkv_walk_ctx {
	struct xkv_lscratch *s;
	struct xkv_slot *h;
	__u64 now;
	__u32 hash;
	__u32 klen;		/* 1..XKV_HOT_KEY_MAX */
	__u32 size;		/* of the new entry, <= XKV_HOT_SLOT_ROOM */
};

/*
 * The entry at @off of slot @h, if its header lies inside the slot (the
 * caller has checked the rest against the slot's @used).
 */
static __always_inline struct xkv_hot_ent *xl_ent_at(struct xkv_slot *h,
						     __u32 off)
{
	if (off > XKV_HOT_SLOT_ROOM - XKV_HOT_ENT_MIN)
		return NULL;
	return (void *)(h->data + off);
}

/*
 * One entry of the walk (slot held), at s->w.end: checked as the XDP
 * reader checks it (xkv_find_ent(): at least XKV_HOT_ENT_MIN bytes, a
 * multiple of XKV_HOT_ENT_ALIGN, within @used), and its key inside it.
 * The key's own entry is noted in @same; of the others, the one with the
 * fewest sampled hits (an expired one counts none; the first of equals,
 * the oldest) in @vic. The walk stops at the first entry that does not
 * check: the slot ends there (s->w.end).
 */
static long xl_walk_cb(__u32 i, void *data)
{
	struct xkv_walk_ctx *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_lwalk *w = &s->w;
	__u32 off = w->end, used = w->used, sz, kl, score;
	struct xkv_eq_ctx eq;
	struct bpf_dynptr d;
	struct xkv_hot_ent *e;
	__u64 exp;

	e = xl_ent_at(c->h, off);
	if (!e || off + XKV_HOT_ENT_MIN > used)
		return 1;
	sz = READ_ONCE(e->size);
	kl = READ_ONCE(e->key_len);
	if (sz < XKV_HOT_ENT_MIN || (sz & (XKV_HOT_ENT_ALIGN - 1)) ||
	    sz > used - off || !kl || kl > XKV_HOT_KEY_MAX ||
	    sz < XKV_HOT_ENT_HDR + 6 + kl)
		return 1;
	w->end = off + sz;
	if (!w->same && READ_ONCE(e->hash) == c->hash && kl == c->klen) {
		kl = xkv_bound(kl - 1, XKV_KEY_ROOM - 1) + 1;
		bpf_dynptr_from_mem(c->h, sizeof(*c->h), 0, &d);
		eq.a = s->kbuf;
		eq.b = s->ebuf + XKV_HOT_ENT_HDR + 6;
		eq.len = kl;
		eq.differ = 0;
		/* xkv_key_eq()'s rounds alone: one path for the verifier */
		if (!bpf_dynptr_read(s->kbuf, kl, &d, XKV_HOT_SLOT_HDR + off +
				     XKV_HOT_ENT_HDR + 6, 0) &&
		    bpf_loop((kl + 7) / 8, xkv_eq_cb, &eq, 0) >= 0 &&
		    !eq.differ) {
			w->same = off + 1;
			w->same_sz = sz;
			return 0;
		}
	}
	exp = READ_ONCE(e->expire_ns);
	score = exp && c->now >= exp ? 0 : READ_ONCE(e->hits);
	if (!w->vic || score < w->vic_score) {
		w->vic = off + 1;
		w->vic_sz = sz;
		w->vic_score = score;
	}
	return 0;
}

/*
 * Remove the @n bytes of the entry at @off (slot held): the entries after
 * it, up to s->w.end, move down over it through s->mbuf. XDP readers
 * never see the steps: the slot is odd until the install is done.
 * Return: 0, or -1 when the bytes could not be moved (nothing written).
 */
static __always_inline int xl_cut(struct xkv_walk_ctx *c, __u32 off, __u32 n)
{
	struct xkv_lscratch *s = c->s;
	struct xkv_lwalk *w = &s->w;
	__u32 end = w->end, tail;
	struct bpf_dynptr d;

	if (end > XKV_HOT_SLOT_ROOM || off > end || n > end - off)
		return -1;
	tail = end - off - n;
	if (tail) {
		tail = xkv_bound(tail - 1, XKV_HOT_SLOT_SIZE - 1) + 1;
		bpf_dynptr_from_mem(c->h, sizeof(*c->h), 0, &d);
		if (bpf_dynptr_read(s->mbuf, tail, &d,
				    XKV_HOT_SLOT_HDR + off + n, 0) ||
		    bpf_dynptr_write(&d, XKV_HOT_SLOT_HDR + off, s->mbuf, tail,
				     0))
			return -1;
	}
	w->end = end - n;
	w->used = end - n;
	return 0;
}

/*
 * Does the entry to drop keep its place? The keys that hash to a slot
 * share its room, and a full slot makes room by dropping the entry of
 * fewest sampled hits (xl_walk_cb()). Without this, every miss of a
 * rarely read key would evict a popular one until that one's own next
 * miss. The entry's @hits, which XDP adds to for one hit in
 * XKV_HOT_HIT_SAMPLE, are spent by contested installs at the same rate:
 * it stays while it is read more often than the slot's other keys miss.
 * An expired entry or one XDP never hit gives way; a count above
 * XKV_LEARN_KEEP_MAX is cut to it, so a key that was once hot and is no
 * more gives way after that many of its spent hits.
 */
static __always_inline int xl_keep_old(struct xkv_hot_ent *oe, __u64 now)
{
	__u64 exp;
	__u32 hits;

	exp = READ_ONCE(oe->expire_ns);
	if (exp && now >= exp)
		return 0;
	hits = READ_ONCE(oe->hits);
	if (!hits)
		return 0;
	if (hits > XKV_LEARN_KEEP_MAX)
		hits = XKV_LEARN_KEEP_MAX;
	if (!(bpf_get_prandom_u32() & (XKV_HOT_HIT_SAMPLE - 1)))
		hits--;
	WRITE_ONCE(oe->hits, hits);
	return 1;
}

/*
 * One round of the install (slot held): walk the slot; remove the key's
 * own entry if there is one (its hits, flags and CAS noted), else stop if
 * the new entry fits after the others, else remove the entry of fewest
 * hits unless it keeps its place. Each round removes an entry or stops,
 * so XKV_HOT_ENTS_MAX + 2 rounds always end.
 */
static long xl_room_cb(__u32 i, void *data)
{
	struct xkv_walk_ctx *c = data;
	struct xkv_lwalk *w = &c->s->w;
	struct xkv_hot_ent *e;
	__u32 off, n;

	w->end = 0;
	w->vic = 0;
	w->vic_sz = 0;
	w->vic_score = 0;
	bpf_loop(XKV_HOT_ENTS_MAX, xl_walk_cb, c, 0);
	if (w->same && !w->replaced) {
		off = w->same - 1;
		n = w->same_sz;
		e = xl_ent_at(c->h, off);
		if (!e)
			goto err;
		w->old_hits = READ_ONCE(e->hits);
		w->old_xflags = READ_ONCE(e->xflags);
		w->old_cas = READ_ONCE(e->cas);
		w->replaced = 1;
	} else if (w->end <= XKV_HOT_SLOT_ROOM &&
		   c->size <= XKV_HOT_SLOT_ROOM - w->end) {
		w->done = XL_W_FIT;
		return 1;
	} else {
		off = w->vic - 1;
		n = w->vic_sz;
		e = w->vic ? xl_ent_at(c->h, off) : NULL;
		if (!e)
			goto err;
		if (xl_keep_old(e, c->now)) {
			w->done = XL_W_KEPT;
			return 1;
		}
		XL_STAT(evicted);
	}
	if (!xl_cut(c, off, n))
		return 0;
err:
	w->done = XL_W_ERR;
	return 1;
}

/*
 * Make room in slot @h (held) for the entry built in s->ebuf, of @size
 * bytes, and copy it in after the slot's other entries, setting its
 * @hits, @cas and @xflags; @used is stored last. Any step between is
 * fine: XDP serves nothing from the slot until it is even again.
 * Return: XL_W_FIT when it is in, XL_W_KEPT when the slot's entries keep
 * their places (the slot may have lost expired or never-hit ones), or
 * XL_W_ERR (the slot is emptied).
 */
static __always_inline __u32 xl_put(struct xkv_lscratch *s,
				    struct xkv_slot *h, struct xkv_cand *cd,
				    __u32 klen, __u32 size, __u64 now)
{
	struct xkv_walk_ctx wc = {
		.s = s, .h = h, .now = now, .hash = cd->hash, .klen = klen,
		.size = size,
	};
	struct xkv_hot_ent *ne = (void *)s->ebuf;
	struct xkv_lwalk *w = &s->w;
	struct bpf_dynptr d;
	__u32 used, end;

	used = READ_ONCE(h->used);
	w->used = used < XKV_HOT_SLOT_ROOM ? used : XKV_HOT_SLOT_ROOM;
	w->same = 0;
	w->done = XL_W_ERR;
	w->replaced = 0;
	bpf_loop(XKV_HOT_ENTS_MAX + 2, xl_room_cb, &wc, 0);
	end = w->end;
	if (w->done != XL_W_FIT || end > XKV_HOT_SLOT_ROOM) {
		if (w->done == XL_W_ERR || end > XKV_HOT_SLOT_ROOM)
			end = 0;
		/* the entries left, without those removed or cut off */
		if (end != used)
			WRITE_ONCE(h->used, end);
		return w->done == XL_W_KEPT ? XL_W_KEPT : XL_W_ERR;
	}
	ne->hits = w->replaced ? w->old_hits : 0;
	if (cd->has_cas) {
		ne->cas = cd->cas;
		ne->xflags = 0;
	} else if (!w->replaced || (w->old_xflags & XKV_SLOT_F_NO_CAS)) {
		/* a "get" reply: no CAS (one known for the same key, with
		 * no write since, is still right and is kept) */
		ne->cas = 0;
		ne->xflags = XKV_SLOT_F_NO_CAS;
	} else {
		ne->cas = w->old_cas;
		ne->xflags = 0;
	}
	/* the entry first, @used last */
	size = xkv_bound(size - 1, XKV_HOT_SLOT_SIZE - 1) + 1;
	bpf_dynptr_from_mem(h, sizeof(*h), 0, &d);
	if (bpf_dynptr_write(&d, XKV_HOT_SLOT_HDR + end, s->ebuf, size, 0)) {
		WRITE_ONCE(h->used, 0);
		return XL_W_ERR;
	}
	WRITE_ONCE(h->used, end + size);
	return XL_W_FIT;
}

static long xl_inst_cb(__u32 i, void *data)
{
	struct xkv_inst_ctx *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_cand *cd = &s->cand[i & (XKV_LEARN_MAX_CAND - 1)];
	__u32 idx, klen = cd->klen, vlen = cd->vlen, seq, why, size;
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
	klen = xkv_bound(klen - 1, XKV_KEY_ROOM - 1) + 1;
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
	size = xl_build_ent(c->skb, s, cd, klen,
			    now + (__u64)xkv_lcfg.ttl_ms * XKV_NS_PER_MS);
	if (!size) {
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
	why = xl_put(s, h, cd, klen, size, now);
	if (why == XL_W_KEPT)
		err = 3;
	else if (why != XL_W_FIT)
		err = 1;
	/* a write that came in meanwhile wins */
	if (err != 1 && xl_learn_check(m, g) != XKV_LSTAT_learned) {
		WRITE_ONCE(h->used, 0);
		err = 2;
	}
	xkv_slot_unlock(h, seq);
	if (err == 1)
		XL_STAT(errors);
	else if (err == 2)
		XL_STAT(skip_raced);
	else if (err == 3)
		XL_STAT(skip_kept);
	else
		XL_STAT(learned);
	return 0;
}

#endif /* XKV_LEARN_INSTALL_H */
