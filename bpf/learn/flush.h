/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flush.h - emptying slots after a request packet was parsed: the slots
 * its writes named, or every learned slot.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_FLUSH_H
#define XKV_LEARN_FLUSH_H

/* --- emptying slots after the parse --------------------------------------- */

/* index of the lowest set bit of @b (b != 0) */
static __always_inline __u32 xl_low_bit(__u64 b)
{
	__u32 n = 0;

	b &= -b;
	if (!(b & 0xffffffffULL)) {
		n += 32;
		b >>= 32;
	}
	if (!(b & 0xffff)) {
		n += 16;
		b >>= 16;
	}
	if (!(b & 0xff)) {
		n += 8;
		b >>= 8;
	}
	if (!(b & 0xf)) {
		n += 4;
		b >>= 4;
	}
	if (!(b & 0x3)) {
		n += 2;
		b >>= 2;
	}
	if (!(b & 0x1))
		n += 1;
	return n;
}

/*
 * One round of a flush: read the next occupancy word, or empty one slot it
 * names. A slot another CPU holds is tried again next round, up to
 * XKV_SLOT_TRIES times. State in @data, a struct xkv_lscratch.
 */
static long xl_flush_cb(__u32 i, void *data)
{
	struct xkv_lscratch *s = *(struct xkv_lscratch **)data;
	__u32 idx, w = s->li;
	__u64 *p, bits = s->lbits;

	if (!bits) {
		if (w >= xkv_lcfg.nslots / 64)
			return 1;
		p = bpf_map_lookup_elem(&xkv_locc, &w);
		if (!p)
			return 1;
		s->lbits = __sync_fetch_and_or(p, 0);
		s->lcur = w;
		s->li = w + 1;
		return 0;
	}
	idx = s->lcur * 64 + xl_low_bit(bits);
	if (xl_slot_clear_try(idx) && ++s->ltries < XKV_SLOT_TRIES)
		return 0;
	if (s->ltries >= XKV_SLOT_TRIES)
		XL_STAT(errors);
	s->ltries = 0;
	s->lbits = bits & (bits - 1);
	return 0;
}

static long xl_queue_cb(__u32 i, void *data)
{
	struct xkv_lscratch *s = *(struct xkv_lscratch **)data;
	__u32 k = s->li;

	if (k >= s->nq || k >= XKV_LEARN_QUEUE)
		return 1;
	if (xl_slot_clear_try(s->q[k & (XKV_LEARN_QUEUE - 1)]) &&
	    ++s->ltries < XKV_SLOT_TRIES)
		return 0;
	if (s->ltries >= XKV_SLOT_TRIES)
		XL_STAT(errors);
	s->ltries = 0;
	s->li = k + 1;
	return 0;
}

/* empty every slot that may hold a learned key (loop state in @s) */
static __always_inline void xl_flush_scan(struct xkv_lscratch *s)
{
	struct xkv_lscratch *ctx = s;

	s->li = 0;
	s->lcur = 0;
	s->lbits = 0;
	s->ltries = 0;
	bpf_loop(xkv_lcfg.nslots / 64 + xkv_lcfg.nslots + XKV_SLOT_TRIES,
		 xl_flush_cb, &ctx, 0);
}

/* empty what the parse asked for; then nothing stale can be served */
__attribute__((noinline)) int xl_in_finish(__u64 now)
{
	struct xkv_lscratch *s = bpf_map_lookup_elem(&xkv_lscratch,
						     &(__u32){ 0 });

	if (!s)
		return 0;
	if (s->qovf && !s->need_flush)
		xl_flush(s, now, 0);
	if (s->need_flush) {
		if (s->flush_unsure)
			XL_STAT(in_flush_unsure);
		xl_flush_scan(s);
	} else if (s->nq) {
		struct xkv_lscratch *ctx = s;

		s->li = 0;
		s->ltries = 0;
		bpf_loop(XKV_LEARN_QUEUE * XKV_SLOT_TRIES, xl_queue_cb, &ctx,
			 0);
	}
	s->need_flush = 0;
	s->flush_unsure = 0;
	s->nq = 0;
	s->qovf = 0;
	return 0;
}

/* flush everything while ingress's scratch memory is busy */
__attribute__((noinline)) int xl_flush_all(__u64 now)
{
	struct xkv_learn_glob *g = xl_glob();
	struct xkv_lscratch *s;
	__u32 two = 2;

	if (g) {
		WRITE_ONCE(g->gwrite_ns, now);
		__sync_fetch_and_add(&g->ggen, 1);
	}
	s = bpf_map_lookup_elem(&xkv_lscratch, &two);
	if (s)
		xl_flush_scan(s);
	return 0;
}

#endif /* XKV_LEARN_FLUSH_H */
