/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stream.h - the one driver of the request and the reply parser: payload
 * bytes loaded a chunk at a time and fed to a parser one byte per
 * bpf_loop() round, data blocks skipped by their byte count.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_STREAM_H
#define XKV_LEARN_STREAM_H

/* what a parser callback works with (its moving state is in @s) */
struct xl_stream {
	struct __sk_buff *skb;
	struct xkv_lscratch *s;
	void *p;		/* struct xkv_lin or struct xkv_lout */
	__u64 now;
	__u32 end;		/* packet offset past the payload */
};

/* the parser of a UDP datagram, in scratch memory, not a flow entry's */
#define XKV_LPARSE_UDP (~0U)

/*
 * Skip data bytes at @pos, as many as are left in the block (*@skip) and
 * in the payload. Return: how many.
 */
static __always_inline __u32 xl_stream_skip(struct xl_stream *c, __u32 pos,
					    __u32 *skip)
{
	__u32 n = c->end - pos;

	if (n > *skip)
		n = *skip;
	c->s->pos = pos + n;
	*skip -= n;
	return n;
}

/*
 * The payload byte at @pos (below c->end), from the chunk in s->buf,
 * which is loaded anew when @pos is past it.
 * Return: 0, or -1 with s->err set when the load failed.
 */
static __always_inline int xl_stream_byte(struct xl_stream *c, __u32 pos,
					  __u8 *ch)
{
	struct xkv_lscratch *s = c->s;
	__u32 n;

	if (pos - s->cbase >= s->clen) {
		/* 1..XKV_LCHUNK bytes (pos < end), as the verifier sees it */
		n = c->end - pos;
		if (n > XKV_LCHUNK)
			n = XKV_LCHUNK;
		n = xkv_bound(n - 1, XKV_LCHUNK * 2 - 1) + 1;
		if (bpf_skb_load_bytes(c->skb, pos, s->buf, n)) {
			s->err = 1;
			return -1;
		}
		s->cbase = pos;
		s->clen = n;
	}
	*ch = s->buf[(pos - s->cbase) & (XKV_LCHUNK - 1)];
	return 0;
}

/*
 * Run parser callback @cb over payload bytes [@off, @end) of @skb, with
 * scratch entry @which and the parser state of flow entry @fidx
 * (XKV_LPARSE_UDP: the datagram parser in that scratch entry). A flow
 * entry holds the state of either direction in one union, as the scratch
 * entry does, so c->p points to the union. The flow entry is locked by
 * the caller.
 * Return: 1 after the parse (s->err and s->pos tell how far it got), 0
 * when there was nothing to parse, -1 when the state is not there.
 */
static __always_inline int xl_stream_run(struct xl_stream *c,
					 struct __sk_buff *skb, __u32 which,
					 __u32 fidx, __u32 off, __u32 end,
					 __u64 now,
					 long (*cb)(__u32 i, void *data))
{
	struct xkv_lscratch *s = xl_scratch(which);
	struct xkv_learn_flow *f;

	c->skb = skb;
	c->now = now;
	c->end = end;
	if (!s)
		return -1;
	if (fidx == XKV_LPARSE_UDP) {
		c->p = &s->udp;
	} else {
		f = bpf_map_lookup_elem(&xkv_lflows, &fidx);
		if (!f)
			return -1;
		c->p = &f->in;
	}
	c->s = s;
	if (off >= end)
		return 0;
	s->pos = off;
	s->cbase = 0;
	s->clen = 0;
	s->err = 0;
	bpf_loop(end - off + 2, cb, c, 0);
	return 1;
}

/*
 * After xl_stream_run() returned 1 for payload bytes up to @end: did the
 * parser take every byte without a failed load? The error is counted.
 * Return: 0, or -1 when it could not finish.
 */
static __always_inline int xl_stream_done(const struct xl_stream *c,
					  __u32 end)
{
	if (c->s->err || c->s->pos < end) {
		XL_STAT(errors);
		return -1;
	}
	return 0;
}

#endif /* XKV_LEARN_STREAM_H */
