/* SPDX-License-Identifier: GPL-2.0 */
/*
 * binary.h - memcached's binary GET, GETQ, GETK and GETKQ answered from
 * the hot cache, byte for byte what the store (kmod/core/bin.c) sends for
 * a hit: the 24-byte response header (magic 0x81, the request's opcode,
 * the key length for GETK(Q) else 0, 4 bytes of extras, status 0, the
 * body length, the request's opaque, the item's CAS), the client flags in
 * 4 bytes big-endian, the key for GETK(Q), then the data.
 *
 * Only a request that is one whole packet (the datagram after its frame
 * header, or the TCP segment) is taken: no extras, a body that is the
 * key, 1..XKV_HOT_KEY_MAX bytes. A miss (quiet or not), an entry that
 * does not know its CAS (XKV_SLOT_F_NO_CAS: learning mode), another
 * opcode, a batch (getkq ... noop), or a header whose lengths disagree
 * go to the store as they came: it answers misses and errors, and sends
 * nothing for a quiet miss.
 *
 * The lookup (slot, seqlock, expiry, lease) is the get path's, in
 * xkv_key_cb() with s->meta and s->m_nc set, which records where the
 * entry is and its CAS; xkv_bin_fill() then copies it on its own.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_BINARY_H
#define XKV_XDP_BINARY_H

#include "xkv_bin.h"

/* where the request's packet starts in req[]: after the frame header */
#define XKV_BIN_AT XKV_FRAME_HDR
/* where the key starts in req[] */
#define XKV_BIN_KEY_AT (XKV_BIN_AT + XKV_BIN_HDR_LEN)
/* the reply's header and its 4 bytes of extras (the client flags) */
#define XKV_BIN_RES_HEAD (XKV_BIN_HDR_LEN + 4)
/*
 * Where the entry's line "VALUE <key> <f> <n>" is copied in the body to
 * be checked: its key then lands where a GETK reply carries it.
 */
#define XKV_BIN_LINE_AT (XKV_BIN_RES_HEAD - 6)

/**
 * xkv_bin_req() - is the request in s->req binary?
 * @s: scratch memory, the request loaded at req[XKV_FRAME_HDR]
 *
 * Return: 1 when its first byte is the binary request magic.
 */
static __always_inline int xkv_bin_req(const struct xkv_scratch *s)
{
	return s->req[XKV_BIN_AT] == XKV_BIN_REQ;
}

/* is @op one of the gets answered here? */
static __always_inline int xkv_bin_get_op(__u8 op)
{
	return op == XKV_BIN_GET || op == XKV_BIN_GETQ ||
	       op == XKV_BIN_GETK || op == XKV_BIN_GETKQ;
}

/* does @op echo the key? */
static __always_inline int xkv_bin_with_key(__u8 op)
{
	return op == XKV_BIN_GETK || op == XKV_BIN_GETKQ;
}

/*
 * eight key bytes per bpf_loop() round, a word: req[s->start, s->b_kend);
 * a last short word is left in s->hs.w for xkv_hot_hash_end()
 */
static long xkv_bin_hash_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u32 pos = s->start + i * 8, end = s->b_kend, j;
	__u64 w;

	if (pos >= end)
		return 1;
	if (pos + 8 <= end) {
		w = *(const __u64 *)(s->req + (pos & XKV_REQ_MASK));
		s->hs.h = xkv_hot_hash_mix(s->hs.h, XKV_LE64(w));
	} else {
		w = 0;
#pragma unroll
		for (j = 0; j < 7; j++) {
			if (pos + j >= end)
				break;
			w |= (__u64)s->req[(pos + j) & XKV_REQ_MASK] << (j * 8);
		}
		s->hs.w = w;
	}
	return 0;
}

static __always_inline long xkv_bin_stop(struct xkv_scratch *s, __u32 why)
{
	s->fail = why;
	return 1;
}

/*
 * One packet of the request, at req[s->b_pos]: a get's key goes to
 * s->keys with its hash; a NOOP may close the request.
 * Return: 0 for the next packet, 1 to stop (s->done or s->fail set).
 */
static long xkv_bin_pkt_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u32 pos = s->b_pos, plen = s->plen, klen, body, n;
	struct xkv_cb_ctx cb;
	__u8 *r, op;

	if (pos == plen) {
		s->done = 1;
		return 1;
	}
	if (pos > XKV_REQ_MAX || pos + XKV_BIN_HDR_LEN > plen)
		return xkv_bin_stop(s, XKV_STAT_pass_malformed);
	r = s->req + (pos & XKV_REQ_MASK);
	if (r[0] != XKV_BIN_REQ)
		return xkv_bin_stop(s, XKV_STAT_pass_not_get);
	op = r[1];
	klen = (__u32)r[2] << 8 | r[3];
	body = (__u32)r[8] << 24 | (__u32)r[9] << 16 | (__u32)r[10] << 8 |
	       r[11];
	n = s->nkeys;
	if (op == XKV_BIN_NOOP) {
		/* the last packet, after at least one get */
		if (klen || r[4] || body)
			return xkv_bin_stop(s, XKV_STAT_pass_malformed);
		if (!n || pos + XKV_BIN_HDR_LEN != plen)
			return xkv_bin_stop(s, XKV_STAT_pass_not_get);
		s->b_noop = pos;
		s->done = 1;
		return 1;
	}
	if (!xkv_bin_get_op(op))
		return xkv_bin_stop(s, XKV_STAT_pass_not_get);
	if (r[4] || body != klen || !klen || klen > XKV_HOT_KEY_MAX ||
	    pos + XKV_BIN_HDR_LEN + klen > plen)
		return xkv_bin_stop(s, XKV_STAT_pass_malformed);
	if (n >= XKV_MAX_KEYS)
		return xkv_bin_stop(s, XKV_STAT_pass_too_big);

	cb.s = s;
	s->start = pos + XKV_BIN_HDR_LEN;
	s->b_kend = s->start + klen;
	xkv_hot_hash_init(&s->hs);
	bpf_loop((klen + 7) / 8, xkv_bin_hash_cb, &cb, 0);
	s->keys[n].off = pos + XKV_BIN_HDR_LEN;
	s->keys[n].len = klen;
	s->keys[n].hash = xkv_hot_hash_end(&s->hs, klen);
	s->nkeys = n + 1;
	s->b_pos = pos + XKV_BIN_HDR_LEN + klen;
	return 0;
}

/**
 * xkv_bin_split() - take a binary request in s->req as keys to look up.
 * @s: scratch memory, s->plen bytes loaded (frame header included)
 *
 * The request must be GET, GETQ, GETK or GETKQ packets only, at most
 * XKV_MAX_KEYS of them, maybe closed by one NOOP (a client's batch,
 * "getkq ... noop"), and end where the payload ends; each get without
 * extras, its body all key, the key 1..XKV_HOT_KEY_MAX bytes. The keys go
 * to s->keys with their hashes, in order; s->b_noop says where the NOOP
 * is. s->meta and s->m_nc make xkv_key_cb() record each key's entry and
 * CAS for xkv_bin_fill().
 *
 * Return: 0, or the pass reason: XKV_STAT_pass_not_get for another
 * opcode (or a NOOP alone or not last), XKV_STAT_pass_malformed for
 * lengths that disagree or a packet cut short (the store answers or
 * hangs up as memcached does), XKV_STAT_pass_too_big for more packets.
 */
__attribute__((noinline)) int xkv_bin_split(struct xkv_scratch *s)
{
	struct xkv_cb_ctx cb;

	if (!s)
		return XKV_STAT_errors;
	cb.s = s;
	s->nkeys = 0;
	s->done = 0;
	s->fail = 0;
	s->b_pos = XKV_BIN_AT;
	s->b_noop = 0;
	bpf_loop(XKV_MAX_KEYS + 1, xkv_bin_pkt_cb, &cb, 0);
	if (s->fail)
		return s->fail;
	if (!s->done)
		return XKV_STAT_pass_too_big;
	if (!s->nkeys)
		return XKV_STAT_pass_not_get;
	s->gets = 0;
	s->meta = 1;
	s->mtok = 1;
	s->m_nf = 0;
	s->m_ns = 0;
	s->m_nc = 1;
	s->m_obytes = 0;
	return 0;
}

/*
 * One digit of the client flags in the line copied to the body, from
 * body offset s->m_pos: the value so far in s->cas (free once the CAS is
 * read), the digits in s->nd. A bpf_loop() callback: the verifier walks
 * one round, where an unrolled loop made it walk what follows once per
 * digit count (7,400 instructions).
 */
static long xkv_bin_digit_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u8 c = s->out[XKV_OUT_BODY + ((s->m_pos + i) & XKV_BODY_MASK)];

	if (c < '0' || c > '9')
		return 1;
	s->cas = s->cas * 10 + (c - '0');
	s->nd = i + 1;
	return 0;
}

/* @v big-endian at body offset @p of @b, @n bytes (2, 4 or 8) */
static __always_inline void xkv_bin_put(__u8 *b, __u32 p, __u64 v, __u32 n)
{
	__u32 j;

#pragma unroll
	for (j = 0; j < 8; j++) {
		if (j >= n)
			break;
		b[(p + j) & XKV_BODY_MASK] = (__u8)(v >> ((n - 1 - j) * 8));
	}
}

/*
 * The 24-byte response header at body offset @p: magic 0x81, opcode @op,
 * key length @klen, extras @ext, status 0, body length @blen, the opaque
 * of the request packet at req[@req], CAS @cas.
 */
static __always_inline void xkv_bin_head(struct xkv_scratch *s, __u32 p,
					 __u8 op, __u32 klen, __u8 ext,
					 __u32 blen, __u32 req, __u64 cas)
{
	__u8 *b = s->out + XKV_OUT_BODY, *q;
	__u32 j;

	b[p & XKV_BODY_MASK] = XKV_BIN_RES;
	b[(p + 1) & XKV_BODY_MASK] = op;
	xkv_bin_put(b, p + 2, klen, 2);
	b[(p + 4) & XKV_BODY_MASK] = ext;
	b[(p + 5) & XKV_BODY_MASK] = 0;
	b[(p + 6) & XKV_BODY_MASK] = 0;
	b[(p + 7) & XKV_BODY_MASK] = 0;
	xkv_bin_put(b, p + 8, blen, 4);
	/* the opaque, as it came */
	q = s->req + ((req + 12) & XKV_REQ_MASK);
#pragma unroll
	for (j = 0; j < 4; j++)
		b[(p + 12 + j) & XKV_BODY_MASK] = q[j];
	xkv_bin_put(b, p + 16, cas, 8);
}

/*
 * The reply to key @i of a binary request, appended at body offset
 * s->body; called by xkv_key_cb() with what it found and its two
 * dynptrs: the entry @e at offset @at of @slot, read under @seq, its line
 * and body @llen and @blen bytes (checked there), its CAS in s->cas. The
 * entry's line is copied so that its key lands where a GETK reply
 * carries it, the key compared and the client flags read there, the data
 * copied after the header, the seqlock checked, then the header written.
 * Return: 0, or 1 with s->fail set to the outcome (XKV_STAT_misses for
 * an entry that does not parse, XKV_STAT_pass_too_big, pass_busy,
 * errors).
 */
static __always_inline long xkv_bin_key(struct xkv_scratch *s, __u32 i,
					struct xkv_slot *slot,
					const struct xkv_hot_ent *e, __u32 at,
					__u32 seq, __u32 llen, __u32 blen,
					struct bpf_dynptr *d1,
					struct bpf_dynptr *d2)
{
	__u8 *b = s->out + XKV_OUT_BODY, *rk, op;
	struct xkv_key_ref *k;
	struct xkv_cb_ctx cb;
	__u32 klen, vlen, kout, p, fl, pos, req;
	__u64 cas, flags;

	k = &s->keys[i & (XKV_MAX_KEYS - 1)];
	klen = k->len;
	req = k->off - XKV_BIN_HDR_LEN;
	pos = s->body;
	at += XKV_HOT_ENT_HDR;
	if (!klen || klen > XKV_HOT_KEY_MAX || llen < 6 + klen + 4 ||
	    llen + 4 > blen || llen > XKV_HOT_LINE_MAX ||
	    pos > XKV_UDP_PAYLOAD_CAP)
		return xkv_key_fail(s, XKV_STAT_errors);
	op = s->req[(req + 1) & XKV_REQ_MASK];
	kout = xkv_bin_with_key(op) ? klen : 0;
	vlen = blen - llen - 4;
	if (pos + XKV_BIN_RES_HEAD + kout + vlen > s->body_max)
		return xkv_key_fail(s, XKV_STAT_pass_too_big);
	cas = READ_ONCE(s->cas);

	/* the line, its key where a GETK reply has it; checked on the copy */
	if (xkv_copy_ent(s, slot, d1, pos + XKV_BIN_LINE_AT, at, llen))
		return xkv_key_fail(s, XKV_STAT_errors);
	rk = s->req + (k->off & XKV_REQ_MASK);
	if (!xkv_key_eq(b + ((pos + XKV_BIN_RES_HEAD) & XKV_BODY_MASK), rk,
			klen))
		return xkv_key_fail(s, XKV_STAT_misses);
	p = pos + XKV_BIN_RES_HEAD + klen;
	if (b[p & XKV_BODY_MASK] != ' ')
		return xkv_key_fail(s, XKV_STAT_misses);
	cb.s = s;
	s->m_pos = p + 1;
	s->cas = 0;
	s->nd = 0;
	bpf_loop(11, xkv_bin_digit_cb, &cb, 0);
	fl = READ_ONCE(s->nd);
	flags = READ_ONCE(s->cas);
	if (!fl || fl > 10 || flags > 0xffffffffULL ||
	    b[(p + 1 + fl) & XKV_BODY_MASK] != ' ')
		return xkv_key_fail(s, XKV_STAT_misses);
	/* the data, after the header (and the key, already in place) */
	if (vlen && xkv_copy_ent(s, slot, d2, pos + XKV_BIN_RES_HEAD + kout,
				 at + llen + 2, vlen))
		return xkv_key_fail(s, XKV_STAT_errors);
	if (xkv_slot_read_retry(slot, seq))
		return xkv_key_fail(s, XKV_STAT_pass_busy);

	xkv_bin_head(s, pos, op, kout, 4, 4 + kout + vlen, req, cas);
	xkv_bin_put(b, pos + XKV_BIN_HDR_LEN, flags, 4);
	s->body = pos + XKV_BIN_RES_HEAD + kout + vlen;
	if (xkv_hit_sampled(s))
		xkv_count_hit(slot, e, seq);
	return 0;
}

/**
 * xkv_bin_fill() - end the reply to a binary request whose keys all hit.
 * @s: scratch memory: each get's reply appended in order by
 *     xkv_key_cb(), as the store sends it for a hit (a quiet one's too:
 *     quiet only silences a miss)
 *
 * Appends the NOOP's reply, if the request ends with one. The send path
 * (UDP or TCP) sums the body.
 *
 * Return: 0 with s->body set, or XKV_STAT_pass_too_big.
 */
__attribute__((noinline)) int xkv_bin_fill(struct xkv_scratch *s)
{
	__u32 pos, noop;

	if (!s)
		return XKV_STAT_errors;
	noop = s->b_noop;
	if (noop) {
		pos = s->body;
		if (pos + XKV_BIN_HDR_LEN > s->body_max ||
		    pos > XKV_UDP_PAYLOAD_CAP)
			return XKV_STAT_pass_too_big;
		xkv_bin_head(s, pos, XKV_BIN_NOOP, 0, 0, 0, noop, 0);
		s->body = pos + XKV_BIN_HDR_LEN;
	}
	/* the headers are written here: the send path sums the body */
	s->psum_ok = 0;
	return 0;
}

/* stages.h */
__attribute__((noinline)) int xkv_split_text(struct xkv_scratch *s);

/**
 * xkv_tcp_split() - a TCP segment's request, in its connection's protocol.
 * @s:     scratch memory, the payload loaded at req[XKV_FRAME_HDR]
 * @proto: the connection's XKV_TCP_PROTO_* as its backend published it
 *
 * memcached decides text or binary once, from a connection's first byte:
 * a segment in the other one is the store's to refuse (it hangs up on a
 * binary connection, answers ERROR on a text one). Nothing is answered
 * on a connection whose clients authenticate first.
 *
 * Return: 0 with the keys split, or the pass reason.
 */
static __always_inline int xkv_tcp_split(struct xkv_scratch *s, __u32 proto)
{
	int bin = xkv_bin_req(s);

	if (proto == XKV_TCP_PROTO_OFF ||
	    (proto == XKV_TCP_PROTO_TEXT && bin) ||
	    (proto == XKV_TCP_PROTO_BIN && !bin))
		return XKV_STAT_pass_not_get;
	return bin ? xkv_bin_split(s) : xkv_split_text(s);
}

#endif /* XKV_XDP_BINARY_H */
