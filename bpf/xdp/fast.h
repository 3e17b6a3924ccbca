/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fast.h - the common request read without helpers: a text "get"/"gets"
 * of one key.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 *
 * Most requests are one key of plain bytes. xkv_read_request() loads the
 * payload with a helper and splits it eight bytes per bpf_loop() round,
 * a callback each; here a short payload is copied from the frame in
 * words, and a single key is found and hashed in one bounded loop. What
 * this path takes it splits exactly as the general one would (the same
 * s->req, s->keys[0], s->gets); anything else - more keys, spaces or
 * control bytes, a long or malformed request, "mg", binary - is left to
 * xkv_read_request(), which decides it as before.
 */
#ifndef XKV_XDP_FAST_H
#define XKV_XDP_FAST_H

/* longest payload taken here: the frame header, "gets ", a longest key */
#define XKV_FAST_REQ_MAX (XKV_FRAME_HDR + 5 + XKV_HOT_KEY_MAX + 2)
/* its 8-byte words, rounded up */
#define XKV_FAST_WORDS ((XKV_FAST_REQ_MAX + 7) / 8)
/* the words of a longest key */
#define XKV_FAST_KEY_WORDS ((XKV_HOT_KEY_MAX + 7) / 8)

/* "not taken": xkv_fast_request() leaves the request to the general path */
#define XKV_FAST_NO (-1)

/* a word's two 32-bit halves, summed as xkv_req_sum() sums them */
static __always_inline __u64 xkv_fast_sum(__u64 w)
{
	return (w & 0xffffffff) + (w >> 32);
}

/*
 * Copy the @plen payload bytes at @pay_off of the frame to s->req and sum
 * them: whole words while they fit, then the last eight bytes of the
 * payload (it is longer than a word), which overlap what came before;
 * only their new bytes are summed, as the zero-padded word xkv_req_sum()
 * would read there.
 * Return: the sum in *@sum and 0, or -1 when the frame is shorter than
 * the verifier can see.
 */
static __always_inline int xkv_fast_copy(struct xdp_md *ctx,
					 struct xkv_scratch *s, __u32 pay_off,
					 __u32 plen, __u64 *sum)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const __u8 *p;
	__u32 k, off, n;
	__u64 w, acc = 0;

	for (k = 0; k < XKV_FAST_WORDS; k++) {
		off = k * 8;
		if (off + 8 > plen)
			break;
		p = data + pay_off + off;
		if ((void *)(p + 8) > data_end)
			return -1;
		w = *(const __u64 *)p;
		*(__u64 *)(s->req + off) = w;
		acc += xkv_fast_sum(w);
	}
	n = plen & 7;
	if (n) {
		off = xkv_bound(plen - 8, 511);
		p = data + pay_off + off;
		if ((void *)(p + 8) > data_end)
			return -1;
		w = *(const __u64 *)p;
		*(__u64 *)(s->req + off) = w;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		acc += xkv_fast_sum(w >> ((8 - n) * 8));
#else
		acc += xkv_fast_sum(w << ((8 - n) * 8));
#endif
	}
	*sum = acc;
	return 0;
}

/*
 * The key at offset @koff of the frame at @data, @len bytes (1 to
 * XKV_HOT_KEY_MAX, with at least eight bytes of the frame before its
 * end): every byte above 0x20
 * (the SWAR test of xkv_parse_cb(); a last short word is read as the
 * eight bytes ending with the key, shifted, its other bytes set to 0xff),
 * hashed a word at a time (the same value as xkv_parse_byte()'s).
 * Return: its hash in *@hash and 0, or -1 for a byte the general
 * path must see (a space, a control byte) or a frame shorter than the
 * verifier can see.
 */
static __always_inline int xkv_fast_key(const __u8 *data, __u32 koff,
					__u32 len, void *data_end,
					__u32 *hash)
{
	__u64 h = XKV_HOT_HASH_SEED, w;
	__u32 k, pos, n;
	const __u8 *p;

	for (k = 0; k < XKV_FAST_KEY_WORDS; k++) {
		pos = k * 8;
		if (pos >= len)
			break;
		n = len - pos;
		if (n >= 8) {
			p = data + xkv_bound(koff + pos, 1023);
			if ((void *)(p + 8) > data_end)
				return -1;
			w = *(const __u64 *)p;
			if ((w - 0x21 * XKV_ONES) & ~w & XKV_HIGHS)
				return -1;
			h = xkv_hot_hash_mix(h, XKV_LE64(w));
			continue;
		}
		p = data + xkv_bound(koff + len - 8, 1023);
		if ((void *)(p + 8) > data_end)
			return -1;
		w = *(const __u64 *)p;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		w = (w >> ((8 - n) * 8)) | (~0ULL << (n * 8));
#else
		w = (w << ((8 - n) * 8)) | (~0ULL >> (n * 8));
#endif
		if ((w - 0x21 * XKV_ONES) & ~w & XKV_HIGHS)
			return -1;
		/* the key's last n bytes, zero-padded */
		w = XKV_LE64(w) & ~(~0ULL << (n * 8));
		h = xkv_hot_hash_mix(h, w);
		break;
	}
	*hash = xkv_hot_hash_fin(h, len);
	return 0;
}

/*
 * Take a text "get"/"gets" of one key from the frame (the headers were
 * read into @s): copy the payload to s->req and split it into s->keys as
 * xkv_read_request() would.
 * Return: 0 when taken, XKV_FAST_NO to leave the request to
 * xkv_read_request(), or XKV_STAT_errors.
 */
__attribute__((noinline)) int xkv_fast_request(struct xdp_md *ctx,
						struct xkv_scratch *s)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u32 plen, start, end, hash, pay_off;
	__u64 sum;
	__u8 *r;

	if (!s)
		return XKV_STAT_errors;
	plen = s->plen;
	if (plen < XKV_REQ_MIN || plen > XKV_FAST_REQ_MAX)
		return XKV_FAST_NO;
	pay_off = xkv_bound(s->pay_off, 255);
	if (xkv_fast_copy(ctx, s, pay_off, plen, &sum))
		return XKV_FAST_NO;
	r = s->req;
	/* one datagram, "get " or "gets " */
	if (r[4] != 0 || r[5] != 1 || r[8] != 'g' || r[9] != 'e' ||
	    r[10] != 't')
		return XKV_FAST_NO;
	if (r[11] == ' ')
		start = XKV_FRAME_HDR + 4;
	else if (r[11] == 's' && r[12] == ' ')
		start = XKV_FRAME_HDR + 5;
	else
		return XKV_FAST_NO;
	/* the line ends with the payload, in "\n" or "\r\n" */
	end = plen - 1;
	if (r[end & XKV_REQ_MASK] != '\n')
		return XKV_FAST_NO;
	if (r[(end - 1) & XKV_REQ_MASK] == '\r')
		end--;
	if (end <= start || end - start > XKV_HOT_KEY_MAX)
		return XKV_FAST_NO;
	if (xkv_fast_key((const __u8 *)(long)ctx->data, pay_off + start,
			 end - start, data_end, &hash))
		return XKV_FAST_NO;
	s->gets = start == XKV_FRAME_HDR + 5;
	s->start = start;
	s->meta = 0;
	s->keys[0].off = start;
	s->keys[0].len = end - start;
	s->keys[0].hash = hash;
	s->nkeys = 1;
	s->in_key = 0;
	s->done = 1;
	s->fail = 0;
	/* the payload's sum, for xkv_csum_ok() */
	s->rsum = sum;
	s->rsum_ok = 1;
	return 0;
}

#endif /* XKV_XDP_FAST_H */
