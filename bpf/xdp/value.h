/* SPDX-License-Identifier: GPL-2.0 */
/*
 * value.h - one key of the request: look it up in the hot cache and
 * append its VALUE block to the reply.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_VALUE_H
#define XKV_XDP_VALUE_H

/*
 * Decimal digits of number @n of the key (s->num[@n]), 1..20.
 *
 * Verifier cost: the loop's exit gives the count a constant on each path
 * and narrows the tested value's range differently on each. If either
 * were live afterwards, everything after would be verified once per digit
 * count (and per combination across the three numbers). So the value is
 * a fresh load that dies here and the count goes through memory the
 * verifier does not track: the caller sees "some value in 1..20" and the
 * paths merge.
 */
static __always_inline __u32 xkv_ndigits(struct xkv_scratch *s, __u32 n)
{
	__u64 v = READ_ONCE(s->num[n]), t = 10;
	__u32 d = 1, k;

	for (k = 1; k < 20; k++) {
		if (v < t)
			break;
		d++;
		t *= 10;
	}
	WRITE_ONCE(s->nd[n], d);
	d = READ_ONCE(s->nd[n]);
	return d > 20 ? 20 : d ? d : 1;
}

/*
 * Write @v in @nd decimal digits at body offset @p. The loop ends when the
 * value runs out of digits; nothing computed in it is used afterwards, so
 * the verifier merges its exits. Below 2^32 a multiply and shift divides
 * by ten (exact for every u32), far cheaper than a 64-bit division; only
 * a @wide value (the CAS) may need the division, and only then is there a
 * branch for it.
 */
static __always_inline void xkv_put_num(__u8 *b, __u32 p, __u64 v, __u32 nd,
					const int wide)
{
	__u32 q = p + nd - 1, k;
	__u64 d;

	b[q & XKV_BODY_MASK] = '0';
	for (k = 0; k < 20; k++) {
		if (!v)
			break;
		if (wide && v >> 32)
			d = v / 10;
		else
			d = (v * 0xcccccccdULL) >> 35;
		b[(q - k) & XKV_BODY_MASK] = '0' + (__u8)(v - d * 10);
		v = d;
	}
}

/* bytes of a value copied inline, without a helper */
#define XKV_VAL_INLINE 64

static __always_inline long xkv_key_fail(struct xkv_scratch *s, __u32 why)
{
	s->fail = why;
	return 1;
}

/*
 * The slot of @k's set that seems to hold the key: read without the
 * seqlock, so only a hint; the copy made under it is compared again.
 */
static __always_inline struct xkv_slot *
xkv_find_slot(struct xkv_scratch *s, const struct xkv_key_ref *k, __u32 klen)
{
	struct xkv_slot *slot;
	__u32 w, idx;

#pragma unroll
	for (w = 0; w < XKV_HOT_WAYS; w++) {
		idx = xkv_hot_way(k->hash, xkv_cfg.nslots, w);
		slot = bpf_map_lookup_elem(&xkv_hot, &idx);
		if (!slot)
			return NULL;
		if (xkv_slot_key_is(slot, s->req + (k->off & XKV_REQ_MASK),
				    klen))
			return slot;
	}
	return NULL;
}

/* copy 8 * @n bytes, @n a constant: word loads and stores, no helper */
#define XKV_COPY_WORDS(dst, src, n)                                     \
	do {                                                            \
		__u32 __j;                                              \
		_Pragma("unroll") for (__j = 0; __j < (n); __j++)       \
			((__u64 *)(dst))[__j] =                         \
				((const __u64 *)(src))[__j];            \
	} while (0)

static long xkv_key_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u8 *b = s->out + XKV_OUT_BODY, *rk;
	struct xkv_key_ref *k;
	struct xkv_slot *slot;
	struct bpf_dynptr dk, dv;	/* two: 6.1 refuses to set one twice */
	__u32 seq, klen, vlen, nd_f, nd_v, nd_c = 0, pos, p, need, n;
	__u64 exp;

	k = &s->keys[i & (XKV_MAX_KEYS - 1)];
	klen = k->len;
	if (!klen || klen > XKV_HOT_KEY_MAX)
		return xkv_key_fail(s, XKV_STAT_errors);
	slot = xkv_find_slot(s, k, klen);
	if (!slot)
		return xkv_key_fail(s, XKV_STAT_misses);

	if (!xkv_slot_read_begin(slot, &seq))
		return xkv_key_fail(s, XKV_STAT_pass_busy);
	/*
	 * Decisions taken on a torn read only ever pass the request, which
	 * is always safe; what is served is checked against the sequence.
	 */
	if (READ_ONCE(slot->key_len) != klen)
		return xkv_key_fail(s, XKV_STAT_misses);
	vlen = READ_ONCE(slot->val_len);
	if (vlen > XKV_HOT_VAL_MAX)
		return xkv_key_fail(s, XKV_STAT_misses);
	exp = READ_ONCE(slot->expire_ns);
	/* the clock is read once per request, with the backend's lease */
	if (exp && s->now >= exp)
		return xkv_key_fail(s, XKV_STAT_pass_expired);
	/* learning mode may not know the CAS: then only "get" is served */
	if (s->gets && (READ_ONCE(slot->xflags) & XKV_SLOT_F_NO_CAS))
		return xkv_key_fail(s, XKV_STAT_misses);
	s->num[0] = READ_ONCE(slot->flags);
	s->num[1] = vlen;
	s->num[2] = READ_ONCE(slot->cas);

	nd_f = xkv_ndigits(s, 0);
	nd_v = xkv_ndigits(s, 1);
	if (s->gets)
		nd_c = 1 + xkv_ndigits(s, 2);
	/* VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n */
	need = 6 + klen + 1 + nd_f + 1 + nd_v + nd_c + 2 + vlen + 2;
	pos = s->body;
	if (pos + need > s->body_max)
		return xkv_key_fail(s, XKV_STAT_pass_too_big);

	/*
	 * The key is the request's: copy it from there (it is compared with
	 * the slot's under the seqlock below). Writes run front to back, so
	 * what a whole-word copy writes past the end is overwritten next.
	 */
	rk = s->req + (k->off & XKV_REQ_MASK);
	p = pos;
	b[p++ & XKV_BODY_MASK] = 'V';
	b[p++ & XKV_BODY_MASK] = 'A';
	b[p++ & XKV_BODY_MASK] = 'L';
	b[p++ & XKV_BODY_MASK] = 'U';
	b[p++ & XKV_BODY_MASK] = 'E';
	b[p++ & XKV_BODY_MASK] = ' ';
	if (klen <= XKV_KEY_INLINE) {
		XKV_COPY_WORDS(b + (p & XKV_BODY_MASK), rk,
			       XKV_KEY_INLINE / 8);
	} else {
		n = xkv_opaque(klen);
		if (!n || n > XKV_HOT_KEY_MAX)
			return xkv_key_fail(s, XKV_STAT_errors);
		bpf_dynptr_from_mem(rk, XKV_HOT_KEY_ROOM, 0, &dk);
		if (bpf_dynptr_read(b + (p & XKV_BODY_MASK), n, &dk, 0, 0))
			return xkv_key_fail(s, XKV_STAT_errors);
	}
	p += klen;
	b[p++ & XKV_BODY_MASK] = ' ';
	xkv_put_num(b, p, READ_ONCE(s->num[0]), nd_f, 0);
	p += nd_f;
	b[p++ & XKV_BODY_MASK] = ' ';
	xkv_put_num(b, p, READ_ONCE(s->num[1]), nd_v, 0);
	p += nd_v;
	if (s->gets) {
		b[p++ & XKV_BODY_MASK] = ' ';
		xkv_put_num(b, p, READ_ONCE(s->num[2]), nd_c - 1, 1);
		p += nd_c - 1;
	}
	b[p++ & XKV_BODY_MASK] = '\r';
	b[p++ & XKV_BODY_MASK] = '\n';
	if (vlen <= XKV_VAL_INLINE) {
		XKV_COPY_WORDS(b + (p & XKV_BODY_MASK), slot->val,
			       XKV_VAL_INLINE / 8);
	} else {
		n = xkv_opaque(vlen);
		if (!n || n > XKV_HOT_VAL_MAX)
			return xkv_key_fail(s, XKV_STAT_errors);
		bpf_dynptr_from_mem(slot, sizeof(*slot), 0, &dv);
		if (bpf_dynptr_read(b + (p & XKV_BODY_MASK), n, &dv,
				    __builtin_offsetof(struct xkv_slot, val),
				    0))
			return xkv_key_fail(s, XKV_STAT_errors);
	}
	p += vlen;
	b[p++ & XKV_BODY_MASK] = '\r';
	b[p & XKV_BODY_MASK] = '\n';

	/* is it our key? read inside the seqlock, like the value */
	if (!xkv_key_eq(slot->key, rk, klen))
		return xkv_key_fail(s, XKV_STAT_misses);
	if (xkv_slot_read_retry(slot, seq))
		return xkv_key_fail(s, XKV_STAT_pass_busy);

	if (!(bpf_get_prandom_u32() & (XKV_HOT_HIT_SAMPLE - 1)))
		__sync_fetch_and_add(&slot->hits, 1);
	s->body = pos + need;
	return 0;
}

#endif /* XKV_XDP_VALUE_H */
