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

/*
 * Does slot @h (held) hold one entry of the same key as the one built in
 * s->ebuf? Its first entry is the only one learning ever writes.
 */
static __always_inline int xl_same_key(struct xkv_slot *h,
				       struct xkv_lscratch *s, __u32 klen)
{
	const struct xkv_hot_ent *ne = (const void *)s->ebuf;
	const struct xkv_hot_ent *oe = (const void *)h->data;

	if (READ_ONCE(h->used) < XKV_HOT_ENT_MIN ||
	    READ_ONCE(oe->size) < XKV_HOT_ENT_HDR + 6 + klen ||
	    READ_ONCE(oe->hash) != ne->hash || READ_ONCE(oe->key_len) != klen)
		return 0;
	return xkv_key_eq(oe->body + 6, ne->body + 6, klen);
}

/*
 * Does the slot's entry, a key other than the one being installed, keep
 * its place (slot held)? A slot holds one key, and the keys that hash to
 * it take turns: without this, every miss of a rarely read key evicts the
 * slot's popular one until its own next miss. The entry's @hits, which
 * XDP adds to for one hit in XKV_HOT_HIT_SAMPLE, are spent by contested
 * installs at the same rate: the entry stays while it is read more often
 * than the slot's other keys miss. An empty or expired slot is free; a
 * count above XKV_LEARN_KEEP_MAX is cut to it, so a key that was once
 * hot and is no more gives way after that many of its spent hits.
 */
static __always_inline int xl_keep_old(struct xkv_slot *h, __u64 now)
{
	struct xkv_hot_ent *oe = (void *)h->data;
	__u64 exp;
	__u32 hits;

	if (READ_ONCE(h->used) < XKV_HOT_ENT_MIN)
		return 0;
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

static long xl_inst_cb(__u32 i, void *data)
{
	struct xkv_inst_ctx *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_cand *cd = &s->cand[i & (XKV_LEARN_MAX_CAND - 1)];
	__u32 idx, klen = cd->klen, vlen = cd->vlen, seq, why, same, size;
	struct xkv_learn_glob *g = xl_glob();
	struct xkv_hot_ent *ne = (void *)s->ebuf, *oe;
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
	oe = (void *)h->data;
	same = xl_same_key(h, s, klen);
	if (!same && xl_keep_old(h, now)) {
		xkv_slot_unlock(h, seq);
		XL_STAT(skip_kept);
		return 0;
	}
	ne->hits = same ? READ_ONCE(oe->hits) : 0;
	if (cd->has_cas) {
		ne->cas = cd->cas;
		ne->xflags = 0;
	} else if (!same || (READ_ONCE(oe->xflags) & XKV_SLOT_F_NO_CAS)) {
		/* a "get" reply: no CAS (one known for the same key, with
		 * no write since, is still right and is kept) */
		ne->cas = 0;
		ne->xflags = XKV_SLOT_F_NO_CAS;
	} else {
		ne->cas = READ_ONCE(oe->cas);
		ne->xflags = 0;
	}
	/* the entry first, @used last: the slot holds it alone */
	size = xkv_opaque(size);
	if (size < XKV_HOT_ENT_MIN || size > XKV_HOT_SLOT_ROOM ||
	    bpf_probe_read_kernel(h->data, size, s->ebuf))
		err = 1;
	WRITE_ONCE(h->used, err ? 0 : size);
	/* a write that came in meanwhile wins */
	if (!err && xl_learn_check(m, g) != XKV_LSTAT_learned) {
		WRITE_ONCE(h->used, 0);
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
