/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow.h - TCP streams followed across packets, and UDP requests waiting
 * for their replies.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_FLOW_H
#define XKV_LEARN_FLOW_H

/* --- TCP streams ---------------------------------------------------------- */

static __always_inline void xl_tuple_of(struct xkv_lhdr *h, int dir,
					struct xkv_learn_tuple *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	if (!dir) {
		__builtin_memcpy(t->caddr, h->src, 16);
		__builtin_memcpy(t->saddr, h->dst, 16);
		t->cport = h->sport;
		t->sport = h->dport;
	} else {
		__builtin_memcpy(t->caddr, h->dst, 16);
		__builtin_memcpy(t->saddr, h->src, 16);
		t->cport = h->dport;
		t->sport = h->sport;
	}
	t->v6 = h->v6;
	t->dir = dir;
}

static __always_inline int xl_tuple_eq(const struct xkv_learn_tuple *a,
				       const struct xkv_learn_tuple *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

_Static_assert(sizeof(struct xkv_learn_tuple) == 40, "xl_tuple_eq");

static __always_inline __u32 xl_tuple_hash(const struct xkv_learn_tuple *t)
{
	const __u64 *w = (const void *)t;
	__u64 h = XKV_HOT_HASH_SEED;
	int i;

	for (i = 0; i < 5; i++)
		h = xkv_hot_hash_mix(h, w[i]);
	return xkv_hot_hash_fin(h, sizeof(*t));
}

enum {
	XKV_FLOW_NONE,		/* not followed (and not created) */
	XKV_FLOW_FOUND,		/* followed; locked */
	XKV_FLOW_NEW,		/* entry taken for it; locked, to be set up */
	XKV_FLOW_BUSY,		/* another CPU has it */
};

static __always_inline int xl_flow_trylock(struct xkv_learn_flow *f)
{
	return __sync_val_compare_and_swap(&f->lock, 0, 1) == 0;
}

static __always_inline void xl_flow_unlock(struct xkv_learn_flow *f)
{
	__sync_lock_test_and_set(&f->lock, 0);
}

/*
 * Find @t's entry (two-way: entries base and base + 1) and lock it. With
 * @create, take an empty or the least recently used entry instead when it
 * is not followed.
 */
static __always_inline int xl_flow_get(const struct xkv_learn_tuple *t,
				       int create, __u64 now,
				       struct xkv_learn_flow **out, __u32 *idx)
{
	__u32 base = xl_tuple_hash(t) & (xkv_lcfg.nflows - 1) & ~1U,
	      b1 = base + 1;
	struct xkv_learn_flow *f0, *f1, *f;

	f0 = bpf_map_lookup_elem(&xkv_lflows, &base);
	f1 = bpf_map_lookup_elem(&xkv_lflows, &b1);
	if (!f0 || !f1)
		return XKV_FLOW_NONE;
	f = NULL;
	if (READ_ONCE(f0->used) && xl_tuple_eq(&f0->t, t)) {
		f = f0;
		*idx = base;
	} else if (READ_ONCE(f1->used) && xl_tuple_eq(&f1->t, t)) {
		f = f1;
		*idx = b1;
	}
	if (f) {
		if (!xl_flow_trylock(f))
			return XKV_FLOW_BUSY;
		if (!f->used || !xl_tuple_eq(&f->t, t)) {
			xl_flow_unlock(f);
			return XKV_FLOW_BUSY;
		}
		*out = f;
		return XKV_FLOW_FOUND;
	}
	if (!create)
		return XKV_FLOW_NONE;
	if (!READ_ONCE(f0->used))
		f = f0;
	else if (!READ_ONCE(f1->used))
		f = f1;
	else
		f = READ_ONCE(f0->last_ns) <= READ_ONCE(f1->last_ns) ? f0 : f1;
	*idx = f == f0 ? base : b1;
	if (!xl_flow_trylock(f))
		return XKV_FLOW_BUSY;
	__builtin_memcpy(&f->t, t, sizeof(*t));
	f->used = 1;
	f->last_ns = now;
	f->lost = 0;
	*out = f;
	return XKV_FLOW_NEW;
}

/* stop following (FIN or RST), then unlock */
static __always_inline void xl_flow_end(struct xkv_learn_flow *f)
{
	f->used = 0;
	xl_flow_unlock(f);
}

static __always_inline int xl_seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/* a TCP segment of a stream, as the headers in a scratch entry give it */
struct xl_seg {
	struct xkv_learn_tuple t;
	__u32 seq;		/* sequence number of the first payload byte */
	__u32 len;		/* payload bytes */
	__u32 off;		/* payload offset in the packet */
	__u32 fl;		/* TCP flags */
};

/* the segment in @h; @dir as for xl_tuple_of() */
static __always_inline void xl_seg_of(struct xkv_lhdr *h, int dir,
				      struct xl_seg *g)
{
	g->seq = h->seq;
	g->len = h->plen;
	g->off = h->poff;
	g->fl = h->tflags;
	xl_tuple_of(h, dir, &g->t);
}

/* the stream starts after the SYN at @seq: its first byte decides */
static __always_inline void xl_flow_start(struct xkv_learn_flow *f, __u32 seq)
{
	f->next_seq = seq + 1;
	f->base_seq = seq + 1;
	f->proto = XKV_LPROTO_UNDECIDED;
}

/*
 * A segment with nothing to parse: a reset (the receiver drops its
 * payload) or no payload. A reset, or a FIN, ends the stream if it is
 * followed. Return: 1 for such a segment (done with it), else 0.
 */
static __always_inline int xl_flow_bare(const struct xl_seg *g, __u64 now)
{
	struct xkv_learn_flow *f = NULL;
	__u32 fidx = 0;

	if (!(g->fl & XKV_TCP_RST) && g->len)
		return 0;
	if ((g->fl & (XKV_TCP_RST | XKV_TCP_FIN)) &&
	    xl_flow_get(&g->t, 0, now, &f, &fidx) == XKV_FLOW_FOUND && f)
		xl_flow_end(f);
	return 1;
}

/* done with a segment of locked entry @f: unlock, or stop on a FIN */
static __always_inline void xl_flow_done(struct xkv_learn_flow *f,
					 const struct xl_seg *g, __u64 now)
{
	f->last_ns = now;
	if (g->fl & XKV_TCP_FIN)
		xl_flow_end(f);
	else
		xl_flow_unlock(f);
}

static __always_inline __u8 xl_first_byte(struct __sk_buff *skb, __u32 off)
{
	__u8 b = 0;

	bpf_skb_load_bytes(skb, off, &b, 1);
	return b;
}

/*
 * The key of the UDP request or reply in @h (@dir as for xl_tuple_of()):
 * both give the request's tuple, and the request id of the frame header.
 */
static __always_inline int xl_req_key(struct __sk_buff *skb, struct xkv_lhdr *h,
				      int dir, struct xkv_learn_req *r)
{
	__builtin_memset(r, 0, sizeof(*r));
	xl_tuple_of(h, dir, &r->t);
	r->t.dir = 0;
	return bpf_skb_load_bytes(skb, h->poff, &r->id, sizeof(r->id));
}

/*
 * A UDP request: its reply may be sent (within the budget), and learned
 * once unless @nolearn.
 */
static __always_inline void
xl_req_note(struct __sk_buff *skb, struct xkv_lhdr *h, __u64 now, __u32 nolearn)
{
	struct xkv_learn_reqv v = {
		.ns = now,
		.bytes = h->ulen,
		.learned = nolearn,
	};
	struct xkv_learn_req r;

	if (!xl_req_key(skb, h, 0, &r))
		bpf_map_update_elem(&xkv_lreq, &r, &v, BPF_ANY);
}

#endif /* XKV_LEARN_FLOW_H */
