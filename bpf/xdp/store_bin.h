/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store_bin.h - the XDP store path's binary GET/GETQ/GETK/GETKQ and meta
 * "mg" replies: built from the store's text block by the hot path's own
 * builders (binary.h's xkv_bin_key(), value.h's xkv_meta_value() and
 * stages.h's xkv_meta_head()), so the bytes are the hot tier's, which are
 * the store's (kmod/core/bin.c, kmod/core/meta.c).
 *
 * The kfunc (abi/xkv_kfunc.h) writes a key's block, "VALUE <key> <flags>
 * <bytes>\r\n<data>\r\n", into xkv_store_stage, a per-CPU slot laid out
 * as a hot-cache slot holding one entry (xkv_store_maps.h): the block is
 * that entry's body. It also gives what the block does not carry: the
 * line's length (an entry's @line_len), the CAS (@cas), the key's
 * base64 state (XKV_SLOT_F_KEY_B64's) and, for mg "t", the seconds the
 * item has left, computed by the store as meta.c computes them (the hot
 * cache cannot say, so it misses an mg with "t" and the store answers).
 * The builders then read the stage as they read a slot; nobody else
 * writes it, so its seqlock never moves while they do (a sampled hit
 * count goes to the stage's entry and is lost: the kfunc already counted
 * the read for admission).
 *
 * What is answered is what the hot path answers (bpf/HOTCACHE.md): the
 * split (binary.h's xkv_bin_split(), stages.h's xkv_split_meta()) is the
 * XDP program's, done again on the untouched frame. What the hot path
 * cannot know and the store can is checked by the kfunc: an mg of an item
 * that is stale or whose recache token went out (meta.c appends X, Z or
 * W and may hand a token out) is refused (-EAGAIN) and passed. A miss,
 * quiet or not, passes the whole request, as for text: the module sends
 * "Not found" (or nothing for a quiet one), "EN" (or nothing with "q").
 *
 * Part of the store program, compiled as one unit by bpf/xkv_store.bpf.c,
 * after the hot path's parts, the kfunc's declaration, xkv_store_why()
 * and xkv_store_build(); the UDP program and the TCP one (bpf/tcp/store.h)
 * call it.
 */
#ifndef XKV_XDP_STORE_BIN_H
#define XKV_XDP_STORE_BIN_H

/* the stage's one entry, its body (the block), and the body's room */
#define XKV_SBLK_ENT XKV_HOT_SLOT_HDR
#define XKV_SBLK_AT (XKV_SBLK_ENT + XKV_HOT_ENT_HDR)
#define XKV_SBLK_ROOM (XKV_HOT_SLOT_SIZE - XKV_SBLK_AT)

/*
 * mg "t": the item's TTL as the kfunc gives it (the store's clock and
 * formula, meta.c's), in decimal into s->m_t, or "-1" for none.
 */
static __always_inline void xkv_store_ttl(struct xkv_scratch *s, __u32 ttl,
					  __u32 none)
{
	__u64 v = ttl;
	__u32 n, k;

	if (none) {
		s->m_t[0] = '-';
		s->m_t[1] = '1';
		s->m_tlen = 2;
		return;
	}
	n = xkv_dec_len(v, 10, &s->m_tlen);
	for (k = 0; k < 10; k++) {
		if (k >= n)
			break;
		s->m_t[(n - 1 - k) & 15] = xkv_dec_next(&v);
	}
}

/*
 * Key @k's block from the store into the stage, asked with @flags
 * (XKV_KF_*); its line's length in *@line, its CAS in s->cas.
 * Return: the block's length, or the outcome as a negative XKV_STAT_*.
 */
static __always_inline int xkv_stage_get(struct xkv_scratch *s,
					 struct xkv_slot *stage,
					 const struct xkv_key_ref *k,
					 __u32 flags, __u32 *line,
					 __u32 *state)
{
	struct xkv_kf_get arg = { .flags = flags };
	__u32 klen = k->len;
	int n;

	if (!klen || klen > XKV_HOT_KEY_MAX)
		return -XKV_STAT_errors;
	n = xkv_xdp_store_get(s->req + (k->off & XKV_REQ_MASK), klen,
			      (__u8 *)stage + XKV_SBLK_AT, XKV_SBLK_ROOM,
			      &arg);
	if (n < 0)
		return -(int)xkv_store_why(n);
	if ((__u32)n > XKV_SBLK_ROOM)
		return -XKV_STAT_errors;
	*line = arg.line;
	*state = arg.state;
	s->cas = arg.cas;
	if (s->m_nt)
		xkv_store_ttl(s, arg.ttl, arg.state & XKV_KF_TTL_NONE);
	return n;
}

/* key @i of a binary request: its get's reply, appended to the body */
static long xkv_sbin_key_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	struct bpf_dynptr d1, d2;
	struct xkv_slot *stage;
	__u32 zero = 0, line = 0, state = 0;
	int n;

	stage = bpf_map_lookup_elem(&xkv_store_stage, &zero);
	if (!stage)
		return xkv_key_fail(s, XKV_STAT_errors);
	n = xkv_stage_get(s, stage, &s->keys[i & (XKV_MAX_KEYS - 1)], 0,
			  &line, &state);
	if (n < 0)
		return xkv_key_fail(s, -n);
	return xkv_bin_key(s, i, stage,
			   (const void *)((__u8 *)stage + XKV_SBLK_ENT),
			   XKV_SBLK_ENT, xkv_slot_seq_read(stage), line, n,
			   &d1, &d2);
}

/**
 * xkv_store_bin() - the body of a binary request's reply, from the store.
 * @s: scratch memory: the keys split by xkv_bin_split(), the body begun
 *
 * Every get's reply in order (xkv_bin_key()), then the NOOP's
 * (xkv_bin_fill()); the send path sums the body.
 * Return: 0, or the outcome.
 */
__attribute__((noinline)) int xkv_store_bin(struct xkv_scratch *s)
{
	struct xkv_cb_ctx cb;

	if (!s)
		return XKV_STAT_errors;
	cb.s = s;
	bpf_loop(s->nkeys, xkv_sbin_key_cb, &cb, 0);
	if (s->fail)
		return s->fail;
	return xkv_bin_fill(s);
}

/**
 * xkv_store_meta() - the body of an "mg" reply, from the store.
 * @s: scratch memory: the key and flags split by xkv_split_meta(), the
 *     body begun
 *
 * "VA <bytes>", the flags echoed, "\r\n", the data and "\r\n", as the
 * hot path builds it from an entry (xkv_meta_value(), xkv_meta_head()).
 * Return: 0, or the outcome (XKV_STAT_pass_not_get for an item in a meta
 * state).
 */
__attribute__((noinline)) int xkv_store_meta(struct xkv_scratch *s)
{
	struct bpf_dynptr d1, d2;
	struct xkv_slot *stage;
	__u32 zero = 0, line = 0, state = 0;
	int n;

	if (!s)
		return XKV_STAT_errors;
	stage = bpf_map_lookup_elem(&xkv_store_stage, &zero);
	if (!stage)
		return XKV_STAT_errors;
	n = xkv_stage_get(s, stage, &s->keys[0], XKV_KF_META, &line, &state);
	if (n < 0)
		return -n;
	s->m_kb64 = !!(state & XKV_KF_KEY_B64);
	if (xkv_meta_value(s, stage, &d1, &d2, XKV_SBLK_AT, line, n,
			   &s->keys[0]))
		return s->fail;
	/* the header is written after the data: the send path sums it */
	s->psum_ok = 0;
	return xkv_meta_head(s);
}

/**
 * xkv_store_proto() - a binary request's or an mg's whole reply body.
 * @s:   scratch memory: the request split (s->meta set)
 * @max: at most this many bytes with the frame header
 * @udp: apply the reply/request budget (not over TCP)
 *
 * The rules of xkv_store_build() (bpf/xkv_store.bpf.c): the size limit,
 * the reply/request budget; no "END".
 * Return: 0 with s->ulen set to the reply's UDP length, or the outcome.
 */
__attribute__((noinline)) int xkv_store_proto(struct xkv_scratch *s,
					       __u32 max, __u32 udp)
{
	int why;

	if (!s)
		return XKV_STAT_errors;
	why = xkv_begin_body(s, max);
	if (why)
		return why;
	why = xkv_bin_req(s) ? xkv_store_bin(s) : xkv_store_meta(s);
	if (why)
		return why;
	return xkv_end_body(s, udp);
}

#endif /* XKV_XDP_STORE_BIN_H */
