/* SPDX-License-Identifier: GPL-2.0 */
/*
 * meta.h - the base64 key of a meta "mg": decoded for the lookup ("b"),
 * and the key echoed in the reply ("k"), byte for byte as
 * kmod/core/meta.c (and memcached 1.6.18) send it.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_META_H
#define XKV_XDP_META_H

/*
 * Base64 in tables (.rodata), one load per digit: the branches of a
 * computed mapping would each give the verifier a state of its own, four
 * digits at a time.
 */
#define XKV_B64_PAD 64	/* '=' */
#define XKV_B64_BAD 65	/* a byte outside the alphabet */
#define XKV_B64_V(c, v) [c] = (v) + 1
/* a byte's digit value + 1; 0 (then XKV_B64_BAD) for anything else */
static const __u8 xkv_b64_val_tab[256] = {
	XKV_B64_V('A', 0), XKV_B64_V('B', 1), XKV_B64_V('C', 2),
	XKV_B64_V('D', 3), XKV_B64_V('E', 4), XKV_B64_V('F', 5),
	XKV_B64_V('G', 6), XKV_B64_V('H', 7), XKV_B64_V('I', 8),
	XKV_B64_V('J', 9), XKV_B64_V('K', 10), XKV_B64_V('L', 11),
	XKV_B64_V('M', 12), XKV_B64_V('N', 13), XKV_B64_V('O', 14),
	XKV_B64_V('P', 15), XKV_B64_V('Q', 16), XKV_B64_V('R', 17),
	XKV_B64_V('S', 18), XKV_B64_V('T', 19), XKV_B64_V('U', 20),
	XKV_B64_V('V', 21), XKV_B64_V('W', 22), XKV_B64_V('X', 23),
	XKV_B64_V('Y', 24), XKV_B64_V('Z', 25), XKV_B64_V('a', 26),
	XKV_B64_V('b', 27), XKV_B64_V('c', 28), XKV_B64_V('d', 29),
	XKV_B64_V('e', 30), XKV_B64_V('f', 31), XKV_B64_V('g', 32),
	XKV_B64_V('h', 33), XKV_B64_V('i', 34), XKV_B64_V('j', 35),
	XKV_B64_V('k', 36), XKV_B64_V('l', 37), XKV_B64_V('m', 38),
	XKV_B64_V('n', 39), XKV_B64_V('o', 40), XKV_B64_V('p', 41),
	XKV_B64_V('q', 42), XKV_B64_V('r', 43), XKV_B64_V('s', 44),
	XKV_B64_V('t', 45), XKV_B64_V('u', 46), XKV_B64_V('v', 47),
	XKV_B64_V('w', 48), XKV_B64_V('x', 49), XKV_B64_V('y', 50),
	XKV_B64_V('z', 51), XKV_B64_V('0', 52), XKV_B64_V('1', 53),
	XKV_B64_V('2', 54), XKV_B64_V('3', 55), XKV_B64_V('4', 56),
	XKV_B64_V('5', 57), XKV_B64_V('6', 58), XKV_B64_V('7', 59),
	XKV_B64_V('8', 60), XKV_B64_V('9', 61), XKV_B64_V('+', 62),
	XKV_B64_V('/', 63), XKV_B64_V('=', XKV_B64_PAD),
};
static const __u8 xkv_b64_digits[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* a base64 digit's value, XKV_B64_PAD for '=', XKV_B64_BAD otherwise */
static __always_inline __u32 xkv_b64_val(__u8 c)
{
	/* bounded where 6.1's verifier sees it, too */
	__u32 v = xkv_b64_val_tab[xkv_bound(c, 255)];

	return v ? v - 1 : XKV_B64_BAD;
}

/* the base64 digit of a 6-bit value */
static __always_inline __u8 xkv_b64_digit(__u32 v)
{
	return xkv_b64_digits[xkv_bound(v, 63)];
}

/*
 * Group @i of the key token keys[0] (4 digits) decoded: its bytes go to
 * s->m_bdst + 3 * @i, past the request (whose bytes the checksum is of).
 * Padding only at the end of the last group, and its unused bits zero:
 * the one spelling the store's encoder gives the key back in.
 */
static long xkv_b64_dec_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u32 off = s->keys[0].off, n = s->keys[0].len / 4, v[4], j, w;
	__u32 pad = 0, d = s->m_bdst + 3 * i;
	__u8 *r = s->req;

#pragma unroll
	for (j = 0; j < 4; j++)
		v[j] = xkv_b64_val(r[(off + 4 * i + j) & XKV_REQ_MASK]);
	if (v[0] > 63 || v[1] > 63 || v[2] > XKV_B64_PAD ||
	    v[3] > XKV_B64_PAD ||
	    (v[2] == XKV_B64_PAD && v[3] != XKV_B64_PAD))
		goto bad;
	if (v[3] == XKV_B64_PAD) {
		pad = v[2] == XKV_B64_PAD ? 2 : 1;
		if (i + 1 != n || (pad == 2 ? v[1] & 15 : v[2] & 3))
			goto bad;
	}
	w = v[0] << 18 | v[1] << 12 | (v[2] & 63) << 6 | (v[3] & 63);
	r[d & XKV_REQ_MASK] = w >> 16;
	xkv_hot_hash_byte(&s->hs, 3 * i, w >> 16);
	if (pad < 2) {
		r[(d + 1) & XKV_REQ_MASK] = w >> 8;
		xkv_hot_hash_byte(&s->hs, 3 * i + 1, w >> 8);
	}
	if (!pad) {
		r[(d + 2) & XKV_REQ_MASK] = w;
		xkv_hot_hash_byte(&s->hs, 3 * i + 2, w);
	}
	s->m_bpad = pad;
	return 0;
bad:
	s->m_bbad = 1;
	return 1;
}

/*
 * An "mg" with "b": decode its key (keys[0]) after the request, where
 * keys[0] then points, and take its hash.
 * Only a canonical token is decoded, one the store would read the same
 * way and re-encode to the same bytes (whole groups, padding only at the
 * end, no stray bits); anything else, which the store reads its own way
 * (it skips bytes outside the alphabet) or refuses, is passed to it.
 * Return: 0, or the outcome (a pass reason).
 */
__attribute__((noinline)) int xkv_meta_b64(struct xkv_scratch *s)
{
	struct xkv_cb_ctx cb;
	__u32 len;

	if (!s)
		return XKV_STAT_errors;
	len = s->keys[0].len;
	if (!len || len % 4 || len > XKV_HOT_KEY_MAX)
		return XKV_STAT_pass_not_get;
	/* past the word xkv_req_sum() zeroes after the request */
	s->m_bdst = (s->plen + 15) & ~7U;
	if (s->m_bdst > XKV_REQ_MAX - XKV_KEY_ROOM)
		return XKV_STAT_pass_too_big;
	cb.s = s;
	xkv_hot_hash_init(&s->hs);
	s->m_bpad = 0;
	s->m_bbad = 0;
	bpf_loop(len / 4, xkv_b64_dec_cb, &cb, 0);
	if (s->m_bbad)
		return XKV_STAT_pass_not_get;
	len = len / 4 * 3 - s->m_bpad;
	if (!len)
		return XKV_STAT_pass_not_get;
	s->keys[0].off = s->m_bdst;
	s->keys[0].len = len;
	s->keys[0].hash = xkv_hot_hash_end(&s->hs, len);
	return 0;
}

/* the body of an "mg" reply being written, at s->out */
#define XKV_META_BODY(s) ((s)->out + XKV_OUT_BODY)

/* group @i of the key (3 bytes, fewer at its end) as 4 base64 digits */
static long xkv_b64_enc_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u32 off = s->keys[0].off + 3 * i, left = s->keys[0].len - 3 * i;
	__u32 p = s->m_kpos + 4 * i, w;
	__u8 *b = XKV_META_BODY(s), *r = s->req;

	if (left > XKV_HOT_KEY_MAX)
		return 1;
	w = (__u32)r[off & XKV_REQ_MASK] << 16;
	if (left > 1)
		w |= (__u32)r[(off + 1) & XKV_REQ_MASK] << 8;
	if (left > 2)
		w |= r[(off + 2) & XKV_REQ_MASK];
	b[p & XKV_BODY_MASK] = xkv_b64_digit(w >> 18);
	b[(p + 1) & XKV_BODY_MASK] = xkv_b64_digit(w >> 12);
	b[(p + 2) & XKV_BODY_MASK] = left > 1 ? xkv_b64_digit(w >> 6) : '=';
	b[(p + 3) & XKV_BODY_MASK] = left > 2 ? xkv_b64_digit(w) : '=';
	return 0;
}

/* eight bytes of the key, as they are, from byte 8 * @i */
static long xkv_key_copy_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u32 off = s->keys[0].off + 8 * i, p = s->m_kpos + 8 * i;
	__u32 n = s->keys[0].len, j;
	__u8 *b = XKV_META_BODY(s), *r = s->req;

#pragma unroll
	for (j = 0; j < 8; j++) {
		if (8 * i + j >= n)
			return 1;
		b[(p + j) & XKV_BODY_MASK] = r[(off + j) & XKV_REQ_MASK];
	}
	return 0;
}

/*
 * The echo of "k" in an "mg" hit's header, at s->m_kpos (after " k"),
 * s->m_klen bytes: the key as it is, or, for an item stored with a base64
 * key, its base64 and " b" (meta.c's put_key()). The key is keys[0],
 * decoded already when it came in base64; the entry holds the same bytes.
 * Return: 0, or XKV_STAT_errors.
 */
__attribute__((noinline)) int xkv_meta_key_put(struct xkv_scratch *s)
{
	struct xkv_cb_ctx cb;
	__u32 n, p;
	__u8 *b;

	if (!s)
		return XKV_STAT_errors;
	n = s->keys[0].len;
	if (!n || n > XKV_HOT_KEY_MAX || s->m_kpos > XKV_UDP_PAYLOAD_CAP)
		return XKV_STAT_errors;
	cb.s = s;
	if (!s->m_kb64) {
		if (s->m_klen != n)
			return XKV_STAT_errors;
		bpf_loop((n + 7) / 8, xkv_key_copy_cb, &cb, 0);
		return 0;
	}
	if (s->m_klen != (n + 2) / 3 * 4 + 2)
		return XKV_STAT_errors;
	bpf_loop((n + 2) / 3, xkv_b64_enc_cb, &cb, 0);
	b = XKV_META_BODY(s);
	p = s->m_kpos + s->m_klen - 2;
	b[p & XKV_BODY_MASK] = ' ';
	b[(p + 1) & XKV_BODY_MASK] = 'b';
	return 0;
}

#endif /* XKV_XDP_META_H */
