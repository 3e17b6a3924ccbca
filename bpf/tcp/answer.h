/* SPDX-License-Identifier: GPL-2.0 */
/*
 * answer.h - XDP: track TCP connections from their SYN, answer a hot GET
 * on a quiescent one, and send a reply again when the client shows it
 * lost it. bpf/TCPFAST.md says when and why.
 *
 * Part of the XDP object, compiled as one unit by bpf/xkv.bpf.c.
 */
#ifndef XKV_TCP_ANSWER_H
#define XKV_TCP_ANSWER_H

struct xkv_tcp_gc_ctx {
	__u64 now;
	__u32 freed;
};

/*
 * Drop one closed connection's state once it is old enough. The walk goes
 * over the whole table: a count that stops it would differ on every
 * round the verifier follows, which it then cannot prove ends ("sequence
 * of jumps is too complex"); @freed is only a flag.
 */
static long xkv_tcp_gc_cb(void *map, struct xkv_tcp_key *key,
			  struct xkv_tcp_conn *c, struct xkv_tcp_gc_ctx *g)
{
	__u64 t = READ_ONCE(c->closed_ns);

	if (t && g->now - t > XKV_TCP_CLOSED_NS) {
		bpf_map_delete_elem(map, key);
		g->freed = 1;
	}
	return 0;
}

/* (Re)start tracking from the client's SYN in @c. Called locked. */
static __always_inline void xkv_tcp_conn_reset(struct xkv_tcp_conn *c,
					       const struct xkv_tcp_seg *g,
					       __u64 now)
{
	__u32 f = XKV_TC_SYN;

	if (g->o.ts)
		f |= XKV_TC_TS_C;
	c->x.flags = f;
	c->irs = g->seq;
	c->iss = 0;
	c->mss = g->o.mss ? g->o.mss : XKV_TCP_MSS_DEFAULT;
	c->wscale = g->o.ws ? g->o.ws - 1 : 0;
	if (c->wscale > 14)
		c->wscale = 14;
	c->ans = 0;
	c->x.in_s = 0;
	c->x.in_e = 0;
	c->x.in_before = 0;
	c->x.in_after = 0;
	c->x.out_kpos = 0;
	c->x.out_before = 0;
	c->x.out_after = 0;
	c->x.rp_len = 0;
	c->rp_ready = 0;
	c->rp_una = 0;
	c->in_hi = g->seq + 1;
	c->in_seen = 0;
	c->closed_ns = 0;
	(void)now;
}

/*
 * A client's SYN: track the connection, or start over on a tuple whose
 * old connection is closed or was never answered on.
 */
static __always_inline int xkv_tcp_syn(struct xkv_scratch *s)
{
	struct xkv_tcp_seg *g = &s->tcp;
	struct xkv_tcp_gc_ctx gc;
	struct xkv_tcp_conn *c;
	__u32 zero = 0;
	__u64 now = bpf_ktime_get_ns();

	c = bpf_map_lookup_elem(&xkv_tcp_conn, &g->key);
	if (c) {
		bpf_spin_lock(&c->lock);
		if (!(c->x.flags & XKV_TC_MOVED) ||
		    (c->x.flags & XKV_TC_RST) ||
		    (c->x.flags & (XKV_TC_FIN_C | XKV_TC_FIN_S)) ==
			    (XKV_TC_FIN_C | XKV_TC_FIN_S))
			xkv_tcp_conn_reset(c, g, now);
		bpf_spin_unlock(&c->lock);
		return XKV_TCP_OUT_QUIET;
	}
	c = bpf_map_lookup_elem(&xkv_tcp_new, &zero);
	if (!c)
		return XKV_TCP_STAT_errors;
	if (bpf_map_update_elem(&xkv_tcp_conn, &g->key, c, BPF_NOEXIST)) {
		gc.now = now;
		gc.freed = 0;
		bpf_for_each_map_elem(&xkv_tcp_conn, xkv_tcp_gc_cb, &gc, 0);
		if (!gc.freed || bpf_map_update_elem(&xkv_tcp_conn, &g->key,
						     c, BPF_NOEXIST)) {
			xkv_tcp_count(XKV_TCP_STAT_table_full);
			return XKV_TCP_OUT_QUIET;
		}
	}
	c = bpf_map_lookup_elem(&xkv_tcp_conn, &g->key);
	if (!c)
		return XKV_TCP_STAT_errors;
	bpf_spin_lock(&c->lock);
	xkv_tcp_conn_reset(c, g, now);
	bpf_spin_unlock(&c->lock);
	xkv_tcp_count(XKV_TCP_STAT_tracked);
	return XKV_TCP_OUT_QUIET;
}

/*
 * Copy the kept reply of @c from byte @off on (@len bytes, what the
 * client has not acknowledged) into out[XKV_OUT_BODY], to send it again
 * as answer to @g; the caller filled the other reply fields.
 */
static __always_inline int xkv_tcp_resend(struct xkv_scratch *s,
					  struct xkv_tcp_conn *c, __u32 off,
					  __u32 len)
{
	struct xkv_tcp_seg *g = &s->tcp;

	if (!len || len > XKV_TCP_REPLY_MAX || off >= XKV_TCP_REPLY_MAX)
		return XKV_TCP_STAT_errors;
	off = xkv_bound(off, 2047);
	if (bpf_probe_read_kernel(s->out + XKV_OUT_BODY, xkv_tcp_len(len),
				  c->reply + off))
		return XKV_TCP_STAT_errors;
	g->r_len = len;
	return XKV_TCP_OUT_RESEND;
}

/*
 * Everything but the answer itself: SYNs, closes, acknowledgements of a
 * reply, retransmitted requests, duplicate ACKs that show a reply lost.
 * Return: 0 when the segment is data to try to answer, else the outcome.
 */
__attribute__((noinline)) int xkv_tcp_track(void)
{
	struct xkv_scratch *s = xkv_scratch_map();
	struct xkv_tcp_seg *g;
	struct xkv_tcp_conn *c;
	__u32 f, cf, len = 0, off = 0, drop = 0, sack, end, adv = 0;

	if (!s)
		return XKV_TCP_STAT_errors;
	g = &s->tcp;
	g->gen = 0;
	f = g->flags;
	if ((f & (XKV_TCPF_SYN | XKV_TCPF_ACK)) == XKV_TCPF_SYN)
		return xkv_tcp_syn(s);
	c = bpf_map_lookup_elem(&xkv_tcp_conn, &g->key);
	if (!c)
		return g->plen ? XKV_TCP_STAT_pass_untracked :
				 XKV_TCP_OUT_QUIET;
	if (f & (XKV_TCPF_RST | XKV_TCPF_FIN | XKV_TCPF_SYN)) {
		__u64 now = bpf_ktime_get_ns();

		bpf_spin_lock(&c->lock);
		if (f & XKV_TCPF_RST)
			c->x.flags |= XKV_TC_RST;
		if (f & XKV_TCPF_FIN)
			c->x.flags |= XKV_TC_FIN_C;
		if (!c->closed_ns && (f & (XKV_TCPF_RST | XKV_TCPF_FIN)))
			c->closed_ns = now;
		bpf_spin_unlock(&c->lock);
		if (f & XKV_TCPF_FIN)
			xkv_tcp_count(XKV_TCP_STAT_closed);
		return g->plen ? XKV_TCP_STAT_pass_segment : XKV_TCP_OUT_QUIET;
	}
	if (!(f & XKV_TCPF_ACK))
		return g->plen ? XKV_TCP_STAT_pass_segment : XKV_TCP_OUT_QUIET;

	sack = g->o.sack_n ? xkv_get_be32(g->o.buf +
					  (g->o.sack_off & 63)) : 0;
	bpf_spin_lock(&c->lock);
	/* before anything may pass it to the stack (xkv_tcp_quiet()) */
	if (g->plen) {
		c->in_seen++;
		if (!xkv_before(g->seq, c->in_hi))
			g->gen = c->in_seen;
		if (xkv_before(c->in_hi, g->seq + g->plen))
			c->in_hi = g->seq + g->plen;
	}
	cf = c->x.flags;
	end = c->x.rp_seq + c->x.rp_len;
	if (c->x.rp_len && !xkv_before(g->ack, end)) {
		c->x.rp_len = 0;		/* the client has the reply */
	} else if (c->x.rp_len && xkv_before(c->rp_una, g->ack)) {
		c->rp_una = g->ack;		/* ... a piece of it */
		adv = 1;
	}
	if ((cf & XKV_TC_MOVED) && g->plen &&
	    xkv_before(g->seq, c->x.in_e) &&
	    xkv_before(c->x.in_s, g->seq + g->plen)) {
		/* the consumed request again, maybe with more after it */
		if (c->x.rp_len && c->rp_ready && g->seq == c->x.in_s) {
			len = 1;
		} else {
			/* merged or spurious: nothing more to answer here */
			drop = 1;
			if (!(cf & XKV_TC_GONE))
				c->x.flags |= XKV_TC_GONE;
			else
				drop = 2;
		}
	} else if (c->x.rp_len && c->rp_ready && !g->plen &&
		   (adv || (g->ack == c->rp_una && g->o.sack_n &&
			    !xkv_before(sack, end)))) {
		/* the client took a piece of the reply and wants the next
		 * one, or a duplicate ACK: later data arrived, the reply
		 * did not */
		len = 1;
	}
	if (len) {
		/* what the client lacks: from its ACK to the reply's end */
		off = c->rp_una - c->x.rp_seq;
		len = end - c->rp_una;
		g->r_seq = c->rp_una;
		g->r_ack = c->x.in_e;
		g->r_ack_part = c->x.in_s;
		g->r_win = c->rp_win;
		g->r_tsval = c->ts_val;
		g->r_tsecr = g->o.ts ? g->o.tsval : c->rp_ecr;
		g->r_ts = !!(cf & XKV_TC_TS);
	}
	bpf_spin_unlock(&c->lock);
	if (len)
		return xkv_tcp_resend(s, c, off, len);
	if (drop) {
		if (drop == 1)
			xkv_tcp_count(XKV_TCP_STAT_handed_back);
		xkv_tcp_count(XKV_TCP_STAT_dropped);
		return XKV_TCP_OUT_DROP;
	}
	if (!g->plen)
		return XKV_TCP_OUT_QUIET;
	return 0;
}

/*
 * xkv_tcp_try()'s builder in the XDP object: the hot cache's reply.
 * Return: 0; XKV_TCP_OUT_STORE when only a key missing from the hot
 * cache stands in the way (of a text get/gets, a binary GET batch or an
 * mg); else the pass reason.
 */
static __always_inline int xkv_tcp_build(struct xkv_scratch *s, __u32 max)
{
	int why = xkv_build_reply(s, max, 0);

	/* the store may have it (the store program, if loaded) */
	if (why == XKV_STAT_misses)
		return XKV_TCP_OUT_STORE;
	return why ? xkv_tcp_why(why) : 0;
}

#endif /* XKV_TCP_ANSWER_H */
