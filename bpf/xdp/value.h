/* SPDX-License-Identifier: GPL-2.0 */
/*
 * value.h - one key of the request: find its entry in its hot-cache slot
 * and append the entry's built VALUE block to the reply.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_VALUE_H
#define XKV_XDP_VALUE_H

#include "xkv_dec.h"

/* decimal digits of the CAS in s->cas, 1..20 (xkv_dec.h) */
static __always_inline __u32 xkv_ndigits(struct xkv_scratch *s)
{
	return xkv_dec_len(READ_ONCE(s->cas), 20, &s->nd);
}

/*
 * Write @v in @nd decimal digits at body offset @p, and return their
 * checksum (body-aligned, not folded). The loop ends when the value runs
 * out of digits; nothing computed in it but the sum is used afterwards.
 */
static __always_inline __u32 xkv_put_cas(__u8 *b, __u32 p, __u64 v, __u32 nd)
{
	__u32 q = p + nd - 1, k, sum = 0;
	__u8 c;

	b[q & XKV_BODY_MASK] = '0';
	if (!v)
		sum = xkv_csum_byte('0', q);
	for (k = 0; k < 20; k++) {
		if (!v)
			break;
		c = xkv_dec_next(&v);
		b[(q - k) & XKV_BODY_MASK] = c;
		sum += xkv_csum_byte(c, q - k);
	}
	return sum;
}

/* bytes of an entry copied inline, without a helper */
#define XKV_VAL_INLINE 64
/* the entry's header: windows [0, WIN) and [BASE2, BASE2 + WIN), aligned */
#define XKV_ENT_WIN 1024
#define XKV_ENT_BASE2 (XKV_HOT_SLOT_SIZE - XKV_HOT_ENT_MIN - XKV_ENT_WIN + \
		       XKV_HOT_ENT_ALIGN)
_Static_assert(XKV_ENT_BASE2 <= XKV_ENT_WIN &&
	       XKV_ENT_BASE2 % XKV_HOT_ENT_ALIGN == 0,
	       "the two windows must cover every entry, aligned");

/* xkv_copy_ent()'s windows: [0, WIN) and [BASE2, BASE2 + WIN) */
#define XKV_COPY_WIN 1024
#define XKV_COPY_BASE2 (XKV_HOT_SLOT_SIZE - XKV_VAL_INLINE - XKV_COPY_WIN + 1)
_Static_assert(XKV_COPY_BASE2 <= XKV_COPY_WIN,
	       "the two windows must cover every inline copy");

/* copy 8 * @n bytes, @n a constant: word loads and stores, no helper */
#define XKV_COPY_WORDS(dst, src, n)                                     \
	do {                                                            \
		__u32 __j;                                              \
		_Pragma("unroll") for (__j = 0; __j < (n); __j++)       \
			((__u64 *)(dst))[__j] =                         \
				((const __u64 *)(src))[__j];            \
	} while (0)

static __always_inline long xkv_key_fail(struct xkv_scratch *s, __u32 why)
{
	s->fail = why;
	return 1;
}

/*
 * Copy @n bytes at offset @src of @slot to body offset @dst. Short runs
 * are copied in words (up to XKV_VAL_INLINE bytes are written: what lies
 * past @n is overwritten by what follows, or lies past the reply); longer
 * ones through @d, a dynptr over the slot made here (each call site has
 * its own: 6.1 refuses to set one twice).
 * Return: 0, or -1 when @n is out of bounds.
 */
static __always_inline int xkv_copy_ent(struct xkv_scratch *s,
					struct xkv_slot *slot,
					struct bpf_dynptr *d, __u32 dst,
					__u32 src, __u32 n)
{
	__u8 *b = s->out + XKV_OUT_BODY + (dst & XKV_BODY_MASK);
	__u32 base;

	if (n <= XKV_VAL_INLINE &&
	    src <= XKV_HOT_SLOT_SIZE - XKV_VAL_INLINE) {
		/*
		 * The offset as the verifier sees it: a window base and a
		 * masked rest, so 6.1's verifier, which may see the check
		 * above on another copy of @src (clang spills it), still
		 * finds the 64 bytes inside the slot. Exact for every @src
		 * up to XKV_HOT_SLOT_SIZE - XKV_VAL_INLINE.
		 */
		base = src < XKV_COPY_WIN ? 0 : XKV_COPY_BASE2;
		XKV_COPY_WORDS(b, (const __u8 *)slot + base +
				       xkv_bound(src - base, XKV_COPY_WIN - 1),
			       XKV_VAL_INLINE / 8);
		return 0;
	}
	if (!n || n > XKV_COPY_MAX)
		return -1;
	n = xkv_bound(n - 1, XKV_COPY_MAX - 1) + 1;
	bpf_dynptr_from_mem(slot, sizeof(*slot), 0, d);
	return bpf_dynptr_read(b, n, d, src, 0) ? -1 : 0;
}

/*
 * The entry of a key in @slot: walk the entries, each bounded by what is
 * left of @used (XKV_HOT_ENT_MIN..left, a multiple of XKV_HOT_ENT_ALIGN),
 * at most XKV_HOT_ENTS_MAX of them, and match @hash, then @key_len (the
 * key's bytes are compared by the caller, on its copy). A slot that does
 * not parse is a miss. Read without the seqlock's end: what is served is
 * checked against it.
 * Return: the entry's offset in @slot, its header included, with its
 * size in *@size; or 0 when the key is not there.
 */
static __always_inline __u32 xkv_find_ent(const struct xkv_slot *slot,
					  __u32 used, __u32 hash, __u32 klen,
					  __u32 *size)
{
	const struct xkv_hot_ent *e;
	__u32 off = 0, n, sz;

	for (n = 0; n < XKV_HOT_ENTS_MAX; n++) {
		if (off > XKV_HOT_SLOT_ROOM - XKV_HOT_ENT_MIN ||
		    off + XKV_HOT_ENT_MIN > used)
			return 0;
		e = (const void *)(slot->data + off);
		sz = READ_ONCE(e->size);
		if (sz < XKV_HOT_ENT_MIN || (sz & (XKV_HOT_ENT_ALIGN - 1)) ||
		    sz > used - off)
			return 0;
		if (READ_ONCE(e->hash) == hash &&
		    READ_ONCE(e->key_len) == klen) {
			*size = sz;
			return XKV_HOT_SLOT_HDR + off;
		}
		off += sz;
	}
	return 0;
}

/*
 * A sampled hit: add 1 to the served entry's @hits, inside the slot's
 * lock. Entries move when the store removes one before them, so an add
 * outside it could land in whatever lies there now. One try: the count
 * must still be @seq, the one the entry was served under, so the entry
 * is where it was; else the sample is skipped.
 */
static __always_inline void xkv_count_hit(struct xkv_slot *slot,
					  const struct xkv_hot_ent *e,
					  __u32 seq)
{
	__u32 q;

	if (!xkv_slot_trylock(slot, &q))
		return;
	if (q == seq)
		__sync_fetch_and_add((__u32 *)&e->hits, 1);
	xkv_slot_unlock(slot, q);
}

/*
 * Copy the decimal digits at body offset @p of @b to @dst, at most @max
 * (a constant, up to 10) and @n of them, up to the first other byte.
 * How many is stored in *@cnt.
 */
static __always_inline void xkv_meta_digits(const __u8 *b, __u32 p,
					    __u8 *dst, __u32 max, __u32 n,
					    __u32 *cnt)
{
	__u32 j;
	__u8 c;

	for (j = 0; j < 10; j++) {
		if (j >= max || j >= n)
			break;
		c = b[(p + j) & XKV_BODY_MASK];
		if (c < '0' || c > '9')
			break;
		dst[j] = c;
	}
	/*
	 * Kept in the scratch map, which the verifier does not track: the
	 * code after the loop is walked once, not once per count.
	 */
	WRITE_ONCE(*cnt, j);
}

/*
 * An "mg" hit (s->meta): the entry at @at (its body) in @slot, read under
 * @seq. The line "VALUE <key> <f> <n>" is copied to the body and checked
 * (the key, then the digits of <f> and <n>, kept for the header), the
 * data and its "\r\n" are copied after the room the header takes, which
 * xkv_meta_head() writes once the lookup is done.
 * Return: 0, or 1 with s->fail set.
 */
static __always_inline long xkv_meta_value(struct xkv_scratch *s,
					   struct xkv_slot *slot,
					   struct bpf_dynptr *d1,
					   struct bpf_dynptr *d2,
					   __u32 at, __u32 llen, __u32 blen,
					   const struct xkv_key_ref *k)
{
	__u8 *b = s->out + XKV_OUT_BODY, *rk;
	__u32 klen = k->len, p, fl, nl, hl, dl, nd = 0;

	if (!klen || klen > XKV_HOT_KEY_MAX || llen < 6 + klen + 4 ||
	    llen + 4 > blen)
		return xkv_key_fail(s, XKV_STAT_errors);
	if (s->m_nc)
		nd = xkv_ndigits(s);
	s->nd = nd;
	if (xkv_copy_ent(s, slot, d1, 0, at, llen))
		return xkv_key_fail(s, XKV_STAT_errors);
	rk = s->req + (k->off & XKV_REQ_MASK);
	if (!xkv_key_eq(b + 6, rk, klen))
		return xkv_key_fail(s, XKV_STAT_misses);
	/* " <f> <n>" after the key: 1..10 digits, one space, 1..10 digits */
	p = 6 + klen;
	if (b[p & XKV_BODY_MASK] != ' ')
		return xkv_key_fail(s, XKV_STAT_misses);
	p++;
	if (p + 2 >= llen)
		return xkv_key_fail(s, XKV_STAT_misses);
	xkv_meta_digits(b, p, s->m_f, 10, llen - p - 2, &s->m_flen);
	fl = READ_ONCE(s->m_flen);
	if (!fl || fl > 10 || b[(p + fl) & XKV_BODY_MASK] != ' ')
		return xkv_key_fail(s, XKV_STAT_misses);
	p += fl + 1;
	nl = llen - p;
	if (!nl || nl > 10)
		return xkv_key_fail(s, XKV_STAT_misses);
	xkv_meta_digits(b, p, s->m_n, 10, nl, &s->m_nlen);
	if (READ_ONCE(s->m_nlen) != nl)
		return xkv_key_fail(s, XKV_STAT_misses);

	/* " k" and the key, or its base64 and " b" (xkv_meta_key_put()) */
	/* no branch: each would have the verifier walk the rest twice */
	WRITE_ONCE(s->m_klen, klen + (READ_ONCE(s->m_kb64) & 1) *
				       ((klen + 2) / 3 * 4 + 2 - klen));
	/* "VA <n>", the flags, "\r\n"; then "<data>\r\n" */
	hl = 3 + nl + s->m_nf * (2 + fl) + s->m_ns * (2 + nl) +
	     s->m_nc * (2 + nd) + s->m_nk * (2 + s->m_klen) +
	     s->m_nt * (2 + (s->m_tlen & 15)) + s->m_obytes + 2;
	dl = blen - llen - 2;
	if (hl > XKV_UDP_PAYLOAD_CAP || hl + dl > s->body_max)
		return xkv_key_fail(s, XKV_STAT_pass_too_big);
	if (xkv_copy_ent(s, slot, d2, hl, at + llen + 2, dl))
		return xkv_key_fail(s, XKV_STAT_errors);
	s->m_hlen = hl;
	s->body = hl + dl;
	return 0;
}

/* binary.h: a binary request, and one key's reply to it */
static __always_inline int xkv_bin_req(const struct xkv_scratch *s);
static __always_inline long xkv_bin_key(struct xkv_scratch *s, __u32 i,
					struct xkv_slot *slot,
					const struct xkv_hot_ent *e, __u32 at,
					__u32 seq, __u32 llen, __u32 blen,
					struct bpf_dynptr *d1,
					struct bpf_dynptr *d2);

static long xkv_key_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u8 *b = s->out + XKV_OUT_BODY, *rk;
	struct bpf_dynptr d1, d2;
	struct xkv_key_ref *k;
	const struct xkv_hot_ent *e;
	struct xkv_slot *slot;
	__u32 seq, klen, idx, used, at, size = 0, blen, llen, nd = 0, pos;
	__u32 sb, sl, rest, csum_cas = 0;
	__u64 exp;
	__u8 xf;

	k = &s->keys[i & (XKV_MAX_KEYS - 1)];
	klen = k->len;
	if (!klen || klen > XKV_HOT_KEY_MAX)
		return xkv_key_fail(s, XKV_STAT_errors);
	idx = xkv_hot_index(k->hash, xkv_cfg.nslots);
	slot = bpf_map_lookup_elem(&xkv_hot, &idx);
	if (!slot)
		return xkv_key_fail(s, XKV_STAT_misses);

	if (!xkv_slot_read_begin(slot, &seq))
		return xkv_key_fail(s, XKV_STAT_pass_busy);
	/*
	 * Decisions taken on a torn read only ever pass the request, which
	 * is always safe; what is served is checked against the sequence.
	 */
	used = READ_ONCE(slot->used);
	if (used > XKV_HOT_SLOT_ROOM)
		return xkv_key_fail(s, XKV_STAT_misses);
	at = xkv_find_ent(slot, used, k->hash, klen, &size);
	if (!at || at > XKV_HOT_SLOT_SIZE - XKV_HOT_ENT_MIN)
		return xkv_key_fail(s, XKV_STAT_misses);
	/*
	 * The verifier must see the entry's header inside the slot and
	 * aligned (for the atomic add): a window base and a masked rest,
	 * which hold whatever register clang keeps the check in (6.1 does
	 * not carry a bound across a spill). Exact for every aligned @at up
	 * to XKV_HOT_SLOT_SIZE - XKV_HOT_ENT_MIN.
	 */
	idx = at < XKV_ENT_WIN ? 0 : XKV_ENT_BASE2;
	at = idx + xkv_bound(at - idx, XKV_ENT_WIN - XKV_HOT_ENT_ALIGN);
	e = (const void *)((const __u8 *)slot + at);
	blen = READ_ONCE(e->body_len);
	llen = READ_ONCE(e->line_len);
	/* "VALUE <key> <f> <n>" ... "\r\n" <data> "\r\n", inside the entry */
	if (blen + XKV_HOT_ENT_HDR > size || llen + 4 > blen ||
	    llen < 6 + klen + 4)
		return xkv_key_fail(s, XKV_STAT_misses);
	exp = READ_ONCE(e->expire_ns);
	if (exp && xkv_past(s, exp))
		return xkv_key_fail(s, XKV_STAT_pass_expired);
	if (s->meta) {
		/* xkv_meta_fill() copies it, on its own: see there */
		xf = READ_ONCE(e->xflags);
		/*
		 * mg: only the store knows an item is not stale, how it was
		 * keyed (a binary GET's reply depends on neither)
		 */
		if (!(xf & XKV_SLOT_F_META) && !xkv_bin_req(s))
			return xkv_key_fail(s, XKV_STAT_misses);
		/* nor what TTL it has left: "t" is the store program's */
		if (s->m_nt)
			return xkv_key_fail(s, XKV_STAT_misses);
		s->m_kb64 = !!(xf & XKV_SLOT_F_KEY_B64);
		if (s->m_nc) {
			if (xf & XKV_SLOT_F_NO_CAS)
				return xkv_key_fail(s, XKV_STAT_misses);
			s->cas = READ_ONCE(e->cas);
		}
		s->m_idx = xkv_hot_index(k->hash, xkv_cfg.nslots);
		s->m_seq = seq;
		s->m_at = at;
		s->m_llen = llen;
		s->m_blen = blen;
		/* a binary get's reply is appended key by key */
		if (xkv_bin_req(s))
			return xkv_bin_key(s, i, slot, e, at, seq, llen,
					   blen, &d1, &d2);
		return 0;
	}
	xf = READ_ONCE(e->xflags);
	/* learning mode may not know the CAS: then only "get" is served */
	if (s->gets) {
		if (xf & XKV_SLOT_F_NO_CAS)
			return xkv_key_fail(s, XKV_STAT_misses);
		s->cas = READ_ONCE(e->cas);
		nd = 1 + xkv_ndigits(s);
	}
	pos = s->body;
	if (pos + blen + nd > s->body_max)
		return xkv_key_fail(s, XKV_STAT_pass_too_big);

	at += XKV_HOT_ENT_HDR;
	if (!nd) {
		if (xkv_copy_ent(s, slot, &d1, pos, at, blen))
			return xkv_key_fail(s, XKV_STAT_errors);
	} else {
		/* the line, " <cas>", then "\r\n<data>\r\n" */
		if (xkv_copy_ent(s, slot, &d1, pos, at, llen))
			return xkv_key_fail(s, XKV_STAT_errors);
		b[(pos + llen) & XKV_BODY_MASK] = ' ';
		csum_cas = xkv_csum_byte(' ', pos + llen) +
			   xkv_put_cas(b, pos + llen + 1, READ_ONCE(s->cas),
				       nd - 1);
		if (xkv_copy_ent(s, slot, &d2, pos + llen + nd, at + llen,
				 blen - llen))
			return xkv_key_fail(s, XKV_STAT_errors);
	}
	sl = READ_ONCE(e->sum_line);
	sb = READ_ONCE(e->sum_body);

	/* is it our key? compared on the copy, inside the seqlock */
	rk = s->req + (k->off & XKV_REQ_MASK);
	if (!xkv_key_eq(b + ((pos + 6) & XKV_BODY_MASK), rk, klen))
		return xkv_key_fail(s, XKV_STAT_misses);
	if (xkv_slot_read_retry(slot, seq))
		return xkv_key_fail(s, XKV_STAT_pass_busy);

	/* the reply's checksum from the entry's sums (RFC 1071) */
	if (!nd) {
		s->psum += xkv_csum_at(sb, pos);
	} else {
		rest = sb + (~sl & 0xffff);
		rest = (rest & 0xffff) + (rest >> 16);
		s->psum += xkv_csum_at(sl, pos) + csum_cas +
			   xkv_csum_at(rest, pos + nd);
	}
	if (xkv_hit_sampled(s))
		xkv_count_hit(slot, e, seq);
	s->body = pos + blen + nd;
	return 0;
}

/*
 * Copy an "mg" hit found by xkv_key_cb() (s->m_idx, m_at, m_llen, m_blen,
 * read under m_seq): its own global function, so that the verifier walks
 * it once and not once per path through the lookup.
 * Return: 0, or the outcome.
 */
__attribute__((noinline)) int xkv_meta_fill(struct xkv_scratch *s)
{
	const struct xkv_hot_ent *e;
	struct bpf_dynptr d1, d2;
	struct xkv_slot *slot;
	__u32 idx, at, base;

	if (!s)
		return XKV_STAT_errors;
	idx = s->m_idx;
	slot = bpf_map_lookup_elem(&xkv_hot, &idx);
	if (!slot)
		return XKV_STAT_errors;
	at = s->m_at;
	if (at > XKV_HOT_SLOT_SIZE - XKV_HOT_ENT_MIN ||
	    (at & (XKV_HOT_ENT_ALIGN - 1)))
		return XKV_STAT_errors;
	/* as in xkv_key_cb(): a window base and a masked rest */
	base = at < XKV_ENT_WIN ? 0 : XKV_ENT_BASE2;
	at = base + xkv_bound(at - base, XKV_ENT_WIN - XKV_HOT_ENT_ALIGN);
	e = (const void *)((const __u8 *)slot + at);
	if (xkv_meta_value(s, slot, &d1, &d2, at + XKV_HOT_ENT_HDR,
			   s->m_llen, s->m_blen, &s->keys[0]))
		return s->fail;
	if (xkv_slot_read_retry(slot, s->m_seq))
		return XKV_STAT_pass_busy;
	/* the header is written later: the send path sums the body */
	s->psum_ok = 0;
	if (xkv_hit_sampled(s))
		xkv_count_hit(slot, e, s->m_seq);
	return 0;
}

#endif /* XKV_XDP_VALUE_H */
