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

/*
 * Copy the @plen payload bytes at @pay_off of the frame to s->req: whole
 * words while they fit, then the last eight bytes of the payload (it is
 * longer than a word), which overlap what came before.
 * Return: 0, or -1 when the frame is shorter than the verifier can see.
 */
static __always_inline int xkv_fast_copy(struct xdp_md *ctx,
					 struct xkv_scratch *s, __u32 pay_off,
					 __u32 plen)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const __u8 *p;
	__u32 k, off;

	for (k = 0; k < XKV_FAST_WORDS; k++) {
		off = k * 8;
		if (off + 8 > plen)
			break;
		p = data + pay_off + off;
		if ((void *)(p + 8) > data_end)
			return -1;
		*(__u64 *)(s->req + off) = *(const __u64 *)p;
	}
	off = xkv_bound(plen - 8, 511);
	p = data + pay_off + off;
	if ((void *)(p + 8) > data_end)
		return -1;
	*(__u64 *)(s->req + off) = *(const __u64 *)p;
	return 0;
}

/*
 * The key between @start and @end of s->req: every byte above 0x20 (the
 * SWAR test of xkv_parse_cb(), on words whose bytes past @end are set to
 * 0xff), hashed as xkv_parse_byte() hashes it.
 * Return: its running hash in *@hash and 0, or -1 for a byte the general
 * path must see (a space, a control byte).
 */
static __always_inline int xkv_fast_key(struct xkv_scratch *s, __u32 start,
					__u32 end, __u32 *hash)
{
	__u32 h = XKV_HOT_FNV_BASIS, k, j, pos, n;
	__u64 w;

	for (k = 0; k < XKV_FAST_KEY_WORDS; k++) {
		pos = start + k * 8;
		if (pos >= end)
			break;
		w = *(const __u64 *)(s->req + (pos & XKV_REQ_MASK));
		n = end - pos;
		if (n < 8) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			w |= ~0ULL << (n * 8);
#else
			w |= ~0ULL >> (n * 8);
#endif
		}
		if ((w - 0x21 * XKV_ONES) & ~w & XKV_HIGHS)
			return -1;
		if (n >= 8) {
#pragma unroll
			for (j = 0; j < 8; j++)
				h = xkv_hot_hash_step(h, XKV_WBYTE(w, j));
			continue;
		}
#pragma unroll
		for (j = 0; j < 7; j++)
			if (j < n)
				h = xkv_hot_hash_step(h, XKV_WBYTE(w, j));
		break;
	}
	*hash = h;
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
	__u32 plen, start, end, hash;
	__u8 *r;

	if (!s)
		return XKV_STAT_errors;
	plen = s->plen;
	if (plen < XKV_REQ_MIN || plen > XKV_FAST_REQ_MAX)
		return XKV_FAST_NO;
	if (xkv_fast_copy(ctx, s, xkv_bound(s->pay_off, 255), plen))
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
	if (xkv_fast_key(s, start, end, &hash))
		return XKV_FAST_NO;
	s->gets = start == XKV_FRAME_HDR + 5;
	s->start = start;
	s->meta = 0;
	s->keys[0].off = start;
	s->keys[0].len = end - start;
	s->keys[0].hash = xkv_hot_hash_final(hash);
	s->nkeys = 1;
	s->in_key = 0;
	s->done = 1;
	s->fail = 0;
	return 0;
}

#endif /* XKV_XDP_FAST_H */
