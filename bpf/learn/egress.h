/* SPDX-License-Identifier: GPL-2.0 */
/*
 * egress.h - the stages of the egress program: whose packet it is, a UDP
 * reply and its budget, a TCP segment, the install.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_EGRESS_H
#define XKV_LEARN_EGRESS_H

/* --- egress --------------------------------------------------------------- */

/*
 * Was @skb sent by one of memcached's sockets (struct xkv_learn_owner)?
 * A UDP reply must come from one of its UDP sockets, a TCP segment from
 * a socket of its uid. A packet without a socket (forwarded, or a
 * kernel's reset) never is; bpf_get_socket_uid() answers the overflow
 * uid (nobody) for those, which must not pass for memcached's.
 */
static __always_inline int xl_from_owner(struct __sk_buff *skb, int udp)
{
	struct xkv_learn_owner *o;
	__u64 cookie;
	__u32 i, n;

	o = bpf_map_lookup_elem(&xkv_lowner, &(__u32){ 0 });
	if (!o)
		return 0;
	cookie = bpf_get_socket_cookie(skb);
	if (!cookie)
		goto foreign;
	if (udp && !(xkv_lcfg.flags & XKV_LCFG_UDP_BY_UID)) {
		n = READ_ONCE(o->nsocks);
		for (i = 0; i < XKV_LEARN_SOCKS_MAX; i++) {
			if (i < n && READ_ONCE(o->udp_cookie[i]) == cookie)
				return 1;
		}
		goto foreign;
	}
	if ((READ_ONCE(o->flags) & XKV_LOWN_UID) &&
	    bpf_get_socket_uid(skb) == READ_ONCE(o->uid))
		return 1;
foreign:
	XL_STAT(skip_foreign);
	return 0;
}

__attribute__((noinline)) int xl_eg_udp(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = xl_scratch(1);
	struct xkv_learn_reqv *v;
	struct xkv_learn_req r;
	struct xkv_lhdr *h;
	struct xkv_lout *p;
	__u8 fh[4] = {};

	if (!s)
		return 0;
	h = &s->h;
	p = &s->udp.out;
	if (h->frag || h->plen <= XKV_FRAME_HDR)
		return 0;
	/* only the first datagram of a reply starts at a line start */
	if (bpf_skb_load_bytes(skb, h->poff + 2, fh, 4) || fh[0] || fh[1])
		return 0;
	if (xl_first_byte(skb, h->poff + XKV_FRAME_HDR) == XKV_BIN_RES)
		return 0;
	/* the reply to a request seen, not answered yet, of late */
	if (xl_req_key(skb, h, 1, &r)) {
		XL_STAT(errors);
		return 0;
	}
	v = bpf_map_lookup_elem(&xkv_lreq, &r);
	if (!v || now - v->ns > (__u64)xkv_lcfg.ttl_ms * XKV_NS_PER_MS ||
	    __sync_val_compare_and_swap(&v->learned, 0, 1)) {
		XL_STAT(skip_no_req);
		return 0;
	}
	xl_out_line_reset(p, 1);
	xl_out_parse(skb, XKV_LPARSE_UDP, h->poff + XKV_FRAME_HDR,
		     h->poff + h->plen);
	return 0;
}

/*
 * The UDP policy at egress (XKV_LCFG_UDP_POLICY), for the datagram in
 * scratch entry 1's headers, sent from memcached's UDP port: it goes out
 * only as part of the answer to a request ingress let through, and only
 * while that answer's datagrams (UDP payloads, frame headers included)
 * add up to at most amp_ratio x the request's. A datagram without a
 * local socket (forwarded) is not memcached's and not looked at.
 * Return: 0 to send it, else the counter of its drop.
 */
__attribute__((noinline)) int xl_eg_budget(struct __sk_buff *skb)
{
	struct xkv_lscratch *s = xl_scratch(1);
	struct xkv_learn_reqv *v;
	struct xkv_learn_req r;
	struct xkv_lhdr *h;
	__u64 sent, n;

	if (!s)
		return XKV_LSTAT_udp_drop_no_req;
	h = &s->h;
	if (!bpf_get_socket_cookie(skb))
		return 0;
	n = h->ulen;
	if (h->plen < XKV_FRAME_HDR || xl_req_key(skb, h, 1, &r))
		return XKV_LSTAT_udp_drop_no_req;
	v = bpf_map_lookup_elem(&xkv_lreq, &r);
	if (!v)
		return XKV_LSTAT_udp_drop_no_req;
	sent = __sync_fetch_and_add(&v->sent, n);
	if (!xkv_lcfg.amp_ratio)
		return 0;
	if (sent + n > (__u64)xkv_lcfg.amp_ratio * v->bytes) {
		/* the rest of this reply would be of no use */
		if (sent < XKV_LREQ_OVER)
			__sync_fetch_and_add(&v->sent, XKV_LREQ_OVER);
		return XKV_LSTAT_udp_drop_budget;
	}
	return 0;
}

__attribute__((noinline)) int xl_eg_tcp(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = xl_scratch(1);
	struct xkv_learn_flow *f = NULL;
	__u32 fidx = 0, skipped;
	struct xl_seg g;
	int r;

	if (!s)
		return 0;
	if (s->h.frag || (xkv_lcfg.flags & XKV_LCFG_NO_TCP_LEARN))
		return 0;
	xl_seg_of(&s->h, 1, &g);
	if ((g.fl & XKV_TCP_SYN) && (g.fl & XKV_TCP_ACK)) {
		r = xl_flow_get(&g.t, 1, now, &f, &fidx);
		if (r == XKV_FLOW_BUSY || !f)
			return 0;
		xl_flow_start(f, g.seq);
		f->lost = 0;
		xl_out_line_reset(&f->out, 1);
		f->last_ns = now;
		xl_flow_unlock(f);
		return 0;
	}
	if (xl_flow_bare(&g, now))
		return 0;
	r = xl_flow_get(&g.t, 0, now, &f, &fidx);
	if (r != XKV_FLOW_FOUND || !f) {
		XL_STAT(skip_unsure);
		return 0;
	}
	if (f->lost)
		goto unsure;
	if (g.seq != f->next_seq) {
		if (!xl_seq_before(g.seq, f->base_seq) &&
		    !xl_seq_before(f->next_seq, g.seq + g.len))
			goto done;	/* a retransmission: seen already */
		if (!xl_seq_before(g.seq, f->base_seq) &&
		    xl_seq_before(g.seq, f->next_seq)) {
			skipped = f->next_seq - g.seq;
			g.off += skipped;
			g.len -= skipped;
			g.seq = f->next_seq;
		} else {
			f->lost = XKV_LFLOW_LOST;
			goto unsure;
		}
	}
	if (f->proto == XKV_LPROTO_UNDECIDED)
		f->proto = xl_first_byte(skb, g.off) == XKV_BIN_RES ?
				   XKV_LPROTO_BINARY :
				   XKV_LPROTO_TEXT;
	if (f->proto != XKV_LPROTO_TEXT) {
		f->lost = XKV_LFLOW_LOST;
		goto unsure;
	}
	/* a line carried over from the previous packet is not learnable */
	if (f->out.st == XKV_LOUT_LINE && !f->out.tok && !f->out.tlen &&
	    !(f->out.f & XKV_LOUTF_CR))
		f->out.f |= XKV_LOUTF_HERE;
	else
		f->out.f &= ~XKV_LOUTF_HERE;
	if (xl_out_parse(skb, fidx, g.off, g.off + g.len))
		f->lost = XKV_LFLOW_LOST;
	f->next_seq = g.seq + g.len;
	goto done;
unsure:
	XL_STAT(skip_unsure);
done:
	xl_flow_done(f, &g, now);
	return 0;
}

/* install the VALUE blocks the parse found */
__attribute__((noinline)) int xl_eg_install(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = xl_scratch(1);
	struct xkv_inst_ctx ic = {
		.skb = skb,
		.now = now,
	};

	if (!s || !s->ncand)
		return 0;
	ic.s = s;
	bpf_loop(s->ncand, xl_inst_cb, &ic, 0);
	return 0;
}

#endif /* XKV_LEARN_EGRESS_H */
