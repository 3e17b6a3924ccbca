/* SPDX-License-Identifier: GPL-2.0 */
/*
 * commit.h - XDP: the parts of answering a TCP GET that do not depend on
 * where the reply comes from. The fast path (answer.h, the hot cache) and
 * the store path (store.h, xkv.ko's store through its kfunc) both answer
 * through them, so both apply the same conditions (bpf/TCPFAST.md, "When
 * XDP answers") and the same bookkeeping, under the same lock:
 *
 *   xkv_tcp_try()    all of it: room, split, the object's builder
 *                    (xkv_tcp_build(): the hot cache's or the store's),
 *                    commit;
 *   xkv_tcp_room()   the connection quiescent, the reply's room, the
 *                    request loaded into scratch memory;
 *   xkv_tcp_commit() the request's checksum, the frame resized, then,
 *                    locked and checked again, the connection moved past
 *                    request and reply and the reply kept;
 *   xkv_tcp_emit()   the reply (or a kept one) written and sent, and the
 *                    outcome counted: the XDP action.
 *
 * Part of the XDP object (bpf/xkv.bpf.c) and of the store object
 * (bpf/xkv_store.bpf.c); each includes it after tcp/send.h.
 */
#ifndef XKV_TCP_COMMIT_H
#define XKV_TCP_COMMIT_H

/*
 * What xkv_tcp_try() returns besides those of maps.h: every key but a
 * missing one would do, so the store program may answer (xkv_xdp()
 * tail-calls it; bpf/xkv_store_maps.h).
 */
#define XKV_TCP_OUT_STORE (XKV_TCP_STAT_NR + 5)

/**
 * struct xkv_tcp_at - what xkv_tcp_room() found, for xkv_tcp_commit().
 * @c:     the connection's state
 * @a:     its backend's entry
 * @done:  the backend's published progress, read once
 * @proto: the connection's XKV_TCP_PROTO_*
 * @max:   the longest reply payload that may go out
 * @ts:    timestamps negotiated
 */
struct xkv_tcp_at {
	struct xkv_tcp_conn *c;
	struct xkv_tcp_ans *a;
	__u64 done;
	__u32 proto;
	__u32 max;
	__u32 ts;
};

/*
 * @len (checked already) at most XKV_TCP_REPLY_MAX, worked out in the
 * register a helper gets it in. clang may spill a checked length and
 * fill it again for the call; kernels before linked spilled scalars (6.1)
 * then see an unbounded size and refuse the program.
 */
static __always_inline __u32 xkv_tcp_len(__u32 len)
{
	len = xkv_opaque(len);
	return len > XKV_TCP_REPLY_MAX ? XKV_TCP_REPLY_MAX : len;
}

/* Where the UDP path's outcome falls among the TCP pass reasons. */
static __always_inline int xkv_tcp_why(int why)
{
	switch (why) {
	case XKV_STAT_misses:
		return XKV_TCP_STAT_pass_miss;
	case XKV_STAT_pass_busy:
	case XKV_STAT_pass_expired:
		return XKV_TCP_STAT_pass_busy;
	case XKV_STAT_pass_too_big:
		return XKV_TCP_STAT_pass_too_big;
	case XKV_STAT_pass_no_backend:
		return XKV_TCP_STAT_pass_no_backend;
	case XKV_STAT_pass_malformed:
	case XKV_STAT_pass_not_get:
		return XKV_TCP_STAT_pass_not_get;
	default:
		return XKV_TCP_STAT_errors;
	}
}

/*
 * Is @c quiescent for the segment @g, with the backend's @done? Called
 * locked, and once before that to leave early.
 * Return: 0 if so, else the pass reason.
 */
static __always_inline int xkv_tcp_quiet(const struct xkv_tcp_conn *c,
					 const struct xkv_tcp_seg *g,
					 __u64 done)
{
	__u32 f = c->x.flags;

	if ((f & (XKV_TC_SYN | XKV_TC_SYNACK)) !=
		    (XKV_TC_SYN | XKV_TC_SYNACK) ||
	    (f & (XKV_TC_GONE | XKV_TC_CLOSED)))
		return XKV_TCP_STAT_pass_untracked;
	if (c->x.rp_len)
		return XKV_TCP_STAT_pass_unacked;
	/* every request byte before this one answered by the backend */
	if (xkv_tcp_in_k(&c->x, g->seq) - (c->irs + 1) != (__u32)done)
		return XKV_TCP_STAT_pass_owed;
	/*
	 * and none of its bytes seen before, nor any segment since: a byte
	 * that went to the stack may wait there, unread (a request passed,
	 * then sent again), or out of order at a kernel seq that consuming
	 * this request would give to other bytes (a lost request sent again
	 * after the ones behind it)
	 */
	if (!g->gen || g->gen != c->in_seen)
		return XKV_TCP_STAT_pass_ahead;
	/* and every byte it wrote acknowledged by the client */
	if (g->ack != xkv_tcp_out_w(&c->x, c->iss + 1 + (__u32)(done >> 32)))
		return XKV_TCP_STAT_pass_unacked;
	return 0;
}

/*
 * The checksum of the request segment, as the stack would check it.
 * A global function of its own: its 100 bytes of stack would otherwise
 * add to xkv_tcp_try()'s, and the chain down to xkv_key_cb() would pass
 * the 512 bytes older verifiers (6.1) count over all the calls.
 */
__attribute__((noinline)) int xkv_tcp_csum_ok(struct xdp_md *ctx,
					      struct xkv_scratch *s)
{
	__u32 plen, tl, hl;
	struct xkv_tcp_seg *g;
	__u8 hdr[60];
	__u16 check;
	__s64 sum;

	if (!s)
		return 0;
	g = &s->tcp;
	plen = g->plen;
	tl = g->th_len + plen;
	hl = xkv_bound(g->th_len - 1, 63) + 1;
	if (!s->ipv6) {
		struct xkv_pseudo4 ph = {
			.saddr = s->saddr[0],
			.daddr = s->daddr[0],
			.proto = IPPROTO_TCP,
			.len = bpf_htons(tl),
		};

		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct xkv_pseudo6 ph = {
			.len = bpf_htonl(tl),
			.nexthdr = IPPROTO_TCP,
		};

		__builtin_memcpy(ph.saddr, s->saddr, 16);
		__builtin_memcpy(ph.daddr, s->daddr, 16);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	if (sum < 0 || g->th_len < 20 || g->th_len > 60)
		return 0;
	if (hl > sizeof(hdr) || bpf_xdp_load_bytes(ctx, g->th_off, hdr, hl))
		return 0;
	check = *(__u16 *)(hdr + 16);
	if ((xkv_cfg.flags & XKV_CFG_CSUM_PARTIAL) &&
	    (__u16)~xkv_csum_fold(sum) == check)
		return 1;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)hdr, hl & 0x3c, sum);
	/* the payload is at req[XKV_FRAME_HDR], padded to 4 bytes */
	s->req[(XKV_FRAME_HDR + plen) & XKV_REQ_MASK] = 0;
	s->req[(XKV_FRAME_HDR + plen + 1) & XKV_REQ_MASK] = 0;
	s->req[(XKV_FRAME_HDR + plen + 2) & XKV_REQ_MASK] = 0;
	sum = xkv_csum_chunks(s->req + XKV_FRAME_HDR, plen,
			      XKV_REQ_MAX / XKV_CSUM_CHUNK, sum);
	return sum >= 0 && !xkv_csum_fold(sum);
}

/*
 * Can a reply to the segment in s->tcp go out at all: the fast path on,
 * a plain ACK/PSH segment of a tracked, registered, quiescent connection?
 * If so, fill @at with how much room a reply has (the client's MSS and
 * window, what we keep) and load the payload at s->req[XKV_FRAME_HDR].
 * Return: 0, or the pass reason.
 */
static __always_inline int xkv_tcp_room(struct xdp_md *ctx,
					struct xkv_scratch *s,
					struct xkv_tcp_at *at)
{
	struct xkv_tcp_seg *g = &s->tcp;
	struct xkv_tcp_ctl *ctl;
	struct xkv_tcp_ans *a;
	struct xkv_tcp_conn *c;
	__u32 zero = 0, max, wnd, plen, ts;
	int why;

	ctl = bpf_map_lookup_elem(&xkv_tcp_ctl, &zero);
	if (!ctl || READ_ONCE(ctl->answer) != 1)
		return XKV_TCP_STAT_pass_off;
	if ((g->flags & ~XKV_TCPF_PSH) != XKV_TCPF_ACK || g->o.bad ||
	    g->o.sack_n)
		return XKV_TCP_STAT_pass_segment;
	c = bpf_map_lookup_elem(&xkv_tcp_conn, &g->key);
	if (!c)
		return XKV_TCP_STAT_pass_untracked;
	ts = !!(READ_ONCE(c->x.flags) & XKV_TC_TS);
	if (ts != g->o.ts)
		return XKV_TCP_STAT_pass_segment;
	if (!c->ans)
		c->ans = xkv_tcp_ans_find(&g->key);
	a = xkv_tcp_ans_get(&g->key, c->ans);
	if (!a) {
		c->ans = 0;
		return XKV_TCP_STAT_pass_unregistered;
	}
	at->done = READ_ONCE(a->done);
	at->proto = READ_ONCE(a->proto);
	why = xkv_tcp_quiet(c, g, at->done);
	if (why)
		return why;

	/* the reply fits the client's MSS, its window and what we keep;
	 * the MSS counts options too (RFC 6691): less the timestamps */
	max = c->mss;
	if (ts)
		max = max > XKV_TCP_HLEN_TS - sizeof(struct tcphdr) ?
			      max - (XKV_TCP_HLEN_TS - sizeof(struct tcphdr)) :
			      0;
	if (max > XKV_TCP_REPLY_MAX)
		max = XKV_TCP_REPLY_MAX;
	wnd = (__u32)bpf_ntohs(g->win) << (c->wscale & 15);
	if (wnd < max)
		max = wnd;
	plen = g->plen;
	if (plen > XKV_REQ_MAX - XKV_FRAME_HDR)
		return XKV_TCP_STAT_pass_too_big;
	if (plen < 6)
		return XKV_TCP_STAT_pass_not_get;
	if (bpf_xdp_load_bytes(ctx, g->th_off + g->th_len,
			       s->req + XKV_FRAME_HDR,
			       xkv_bound(plen - 1, XKV_REQ_MASK) + 1))
		return XKV_TCP_STAT_errors;
	s->plen = plen + XKV_FRAME_HDR;
	at->c = c;
	at->a = a;
	at->max = max;
	at->ts = ts;
	return 0;
}

/*
 * The reply built in s->out (s->ulen as the UDP path sets it) goes out:
 * check the request's checksum, make the frame the reply's length, then
 * (locked, checked again) move the connection's translation past the
 * request and the reply, and keep the reply until the client
 * acknowledges it.
 * Return: XKV_TCP_OUT_SEND, XKV_TCP_OUT_DROP (the frame was resized), or
 * the pass reason.
 */
static __always_inline int xkv_tcp_commit(struct xdp_md *ctx,
					  struct xkv_scratch *s,
					  const struct xkv_tcp_at *at)
{
	struct xkv_tcp_seg *g = &s->tcp;
	struct xkv_tcp_conn *c = at->c;
	__u32 len, kpos, plen = g->plen;
	int why;

	/* s->body is the VALUE blocks only; "END\r\n" follows them */
	len = s->ulen - sizeof(struct udphdr) - XKV_FRAME_HDR;
	if (!len || len > XKV_TCP_REPLY_MAX)
		return XKV_TCP_STAT_pass_too_big;
	if (!xkv_tcp_csum_ok(ctx, s))
		return XKV_TCP_STAT_pass_segment;
	/* the frame must grow to the reply before anything is promised */
	g->r_len = len;
	g->r_ts = at->ts;
	why = xkv_tcp_fit(ctx, s);
	if (why)
		return why;

	bpf_spin_lock(&c->lock);
	why = xkv_tcp_quiet(c, g, at->done);
	if (!why) {
		kpos = g->ack - c->x.out_after;
		if (!(c->x.flags & XKV_TC_MOVED) || kpos != c->x.out_kpos) {
			c->x.out_before = c->x.out_after;
			c->x.out_kpos = kpos;
		}
		c->x.out_after += len;
		c->x.in_before = c->x.in_after;
		c->x.in_s = g->seq;
		c->x.in_e = g->seq + plen;
		c->x.in_after += plen;
		c->x.flags |= XKV_TC_MOVED;
		c->x.rp_seq = g->ack;
		c->x.rp_len = len;
		c->rp_una = g->ack;
		c->rp_ready = 0;
		c->rp_ecr = g->o.tsval;
		c->rp_win = c->win;
		g->r_seq = g->ack;
		g->r_ack = g->seq + plen;
		g->r_win = c->win;
		g->r_tsval = c->ts_val;
		g->r_tsecr = g->o.tsval;
		g->r_ts = at->ts;
		g->r_len = len;
	}
	bpf_spin_unlock(&c->lock);
	if (why) {
		/* it changed since the first look, and the frame is resized:
		 * the client sends the request again */
		xkv_tcp_count(why);
		return XKV_TCP_OUT_DROP;
	}

	/* keep it: a retransmitted request gets these bytes again */
	if (bpf_probe_read_kernel(c->reply, xkv_tcp_len(len),
				  s->out + XKV_OUT_BODY))
		return XKV_TCP_OUT_DROP;
	WRITE_ONCE(c->rp_ready, 1);
	__sync_fetch_and_add(&at->a->hits, 1);
	return XKV_TCP_OUT_SEND;
}

/*
 * The reply body for the request split in @s, at most @max bytes with
 * the frame header, from wherever the object including this file serves
 * it: the hot cache in the XDP object (tcp/answer.h), the store in the
 * store object (tcp/store.h). A compile-time choice: each object defines
 * its own, and the verifier sees one direct call.
 * Return: 0 with s->ulen (and s->psum, s->psum_ok) set, or the outcome:
 * a TCP pass reason, or XKV_TCP_OUT_STORE.
 */
static __always_inline int xkv_tcp_build(struct xkv_scratch *s, __u32 max);

/*
 * Answer the request in s->tcp if the connection is quiescent and the
 * object's builder (xkv_tcp_build()) makes its whole reply; then commit
 * it (xkv_tcp_commit()).
 * Return: XKV_TCP_OUT_SEND, XKV_TCP_OUT_DROP, XKV_TCP_OUT_STORE, or a
 * TCP pass reason.
 */
__attribute__((noinline)) int xkv_tcp_try(struct xdp_md *ctx)
{
	struct xkv_scratch *s = xkv_scratch_map();
	struct xkv_tcp_at at;
	int why;

	if (!s)
		return XKV_TCP_STAT_errors;
	why = xkv_tcp_room(ctx, s, &at);
	if (why)
		return why;
	why = xkv_tcp_split(s, at.proto);
	if (why)
		return xkv_tcp_why(why);
	why = xkv_tcp_build(s, at.max + XKV_FRAME_HDR);
	if (why)
		return why;
	return xkv_tcp_commit(ctx, s, &at);
}

/*
 * Send what xkv_tcp_try() or the store program made of the segment
 * (@why: XKV_TCP_OUT_SEND, a kept reply's XKV_TCP_OUT_RESEND, a drop, a
 * quiet pass or a pass reason), and count it.
 * Return: the XDP action.
 */
static __always_inline int xkv_tcp_emit(struct xdp_md *ctx,
					struct xkv_scratch *s, int why)
{
	struct xkv_tcp_stats *st;
	__u32 zero = 0, len;

	if (why == XKV_TCP_OUT_SEND || why == XKV_TCP_OUT_RESEND) {
		len = s->tcp.r_len;
		/* a reply just built may bring its sum; a kept one is summed */
		s->psum_ok = why == XKV_TCP_OUT_SEND && s->psum_ok;
		if ((why == XKV_TCP_OUT_SEND || !xkv_tcp_fit_again(ctx, s)) &&
		    !xkv_tcp_send(ctx, s)) {
			st = bpf_map_lookup_elem(&xkv_tcp_stats, &zero);
			if (!st)
				return XDP_TX;
			if (why == XKV_TCP_OUT_RESEND) {
				st->resent++;
				return XDP_TX;
			}
			st->hits++;
			st->keys += s->nkeys;
			st->reply_bytes += len;
			return XDP_TX;
		}
		/* the reply is kept: a retransmitted request gets it */
		why = XKV_TCP_OUT_DROP;
	}
	if (why == XKV_TCP_OUT_DROP)
		return XDP_DROP;
	if (why != XKV_TCP_OUT_QUIET)
		xkv_tcp_count(why);
	return XDP_PASS;
}

#endif /* XKV_TCP_COMMIT_H */
