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
	__u32 plen, clen, off, n, k, tl, hl;
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
	clen = (plen + 3) & ~3U;
	for (k = 0; k < XKV_REQ_MAX / XKV_CSUM_CHUNK; k++) {
		off = k * XKV_CSUM_CHUNK;
		if (sum < 0 || off >= clen)
			break;
		n = clen - off;
		if (n > XKV_CSUM_CHUNK)
			n = XKV_CSUM_CHUNK;
		/* changes nothing, but bounds n for every verifier: 6.1's
		 * loses the bound when clang tests a copy of n */
		n = xkv_bound(n, 2 * XKV_CSUM_CHUNK - 1);
		sum = bpf_csum_diff(NULL, 0,
				    (__be32 *)(s->req + XKV_FRAME_HDR + off),
				    n, (__wsum)sum);
	}
	return sum >= 0 && !xkv_csum_fold(sum);
}

/*
 * Answer the request in @g if every key hits and the connection is
 * quiescent: build the reply, then (locked, checked again) move the
 * connection's translation past the request and the reply, and keep the
 * reply until the client acknowledges it.
 * Return: XKV_TCP_OUT_SEND, or the pass reason.
 */
__attribute__((noinline)) int xkv_tcp_try(struct xdp_md *ctx)
{
	struct xkv_scratch *s = xkv_scratch_map();
	struct xkv_tcp_ctl *ctl;
	struct xkv_tcp_ans *a;
	struct xkv_tcp_conn *c;
	struct xkv_tcp_seg *g;
	__u32 zero = 0, max, wnd, len, kpos, plen, ts, proto;
	__u64 done;
	int why;

	if (!s)
		return XKV_TCP_STAT_errors;
	g = &s->tcp;
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
	done = READ_ONCE(a->done);
	proto = READ_ONCE(a->proto);
	why = xkv_tcp_quiet(c, g, done);
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
	why = xkv_tcp_split(s, proto);
	if (!why)
		why = xkv_build_reply(s, max + XKV_FRAME_HDR, 0);
	if (why)
		return xkv_tcp_why(why);
	/* s->body is the VALUE blocks only; "END\r\n" follows them */
	len = s->ulen - sizeof(struct udphdr) - XKV_FRAME_HDR;
	if (!len || len > XKV_TCP_REPLY_MAX)
		return XKV_TCP_STAT_pass_too_big;
	if (!xkv_tcp_csum_ok(ctx, s))
		return XKV_TCP_STAT_pass_segment;
	/* the frame must grow to the reply before anything is promised */
	g->r_len = len;
	g->r_ts = ts;
	why = xkv_tcp_fit(ctx, s);
	if (why)
		return why;

	bpf_spin_lock(&c->lock);
	why = xkv_tcp_quiet(c, g, done);
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
		g->r_ts = ts;
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
	__sync_fetch_and_add(&a->hits, 1);
	return XKV_TCP_OUT_SEND;
}

#endif /* XKV_TCP_ANSWER_H */
