/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ingress.h - the stages of the ingress program: the UDP policy, a UDP
 * request, a TCP segment.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_INGRESS_H
#define XKV_LEARN_INGRESS_H

/* IPv4: 0/8, 224/4 and 240/4 (255.255.255.255 too) */
static __always_inline int xl_martian4(const __u8 *a)
{
	return a[0] == 0 || a[0] >= 224;
}

/* IPv6: ::, ff00::/8 */
static __always_inline int xl_martian6(const __u8 *a)
{
	__u64 w0, w1;

	__builtin_memcpy(&w0, a, 8);
	__builtin_memcpy(&w1, a + 8, 8);
	return a[0] == 0xff || (!w0 && !w1);
}

/* IPv6: ::ffff:0:0/96, IPv4-mapped: never on the wire */
static __always_inline int xl_mapped6(const __u8 *a)
{
	__u64 w0;

	__builtin_memcpy(&w0, a, 8);
	return !w0 && !a[8] && !a[9] && a[10] == 0xff && a[11] == 0xff;
}

/* bytes of a datagram's start scanned for the first non-space */
#define XKV_LPOL_SCAN 32

/*
 * The UDP policy at ingress (XKV_LCFG_UDP_POLICY), for the datagram in
 * scratch entry 0's headers: would xkvd's (kmod/core/udp_policy.c)
 * answer it? memcached answers anything, so what it refuses is dropped.
 * Return: 0 to let it through, else the counter of its drop.
 */
__attribute__((noinline)) int xl_in_policy(struct __sk_buff *skb)
{
	struct xkv_lscratch *s = xl_scratch(0);
	struct xkv_lpm6 k6 = { .prefixlen = 128 };
	struct xkv_lpm4 k4 = { .prefixlen = 32 };
	struct xkv_lhdr *h;
	__u32 n, i;
	__u8 *b;

	if (!s)
		return XKV_LSTAT_udp_drop_source;
	h = &s->h;
	/* no reply to port 0, nor to memcached's own (a reply loop) */
	if (!h->sport || h->sport == h->dport)
		return XKV_LSTAT_udp_drop_source;
	/* broadcast, multicast */
	if (skb->pkt_type == 1 || skb->pkt_type == 2)
		return XKV_LSTAT_udp_drop_source;
	if (!h->v6 ? xl_martian4(h->src) || xl_martian4(h->dst) :
		     xl_martian6(h->src) || xl_martian6(h->dst) ||
		     xl_mapped6(h->src))
		return XKV_LSTAT_udp_drop_source;
	if ((xkv_addr_flags(h->src, h->v6) |
	     xkv_addr_flags(h->dst, h->v6)) & XKV_ADDR_BCAST)
		return XKV_LSTAT_udp_drop_source;
	if (!h->v6) {
		__builtin_memcpy(k4.addr, h->src, 4);
		if (!bpf_map_lookup_elem(&xkv_allow4, &k4))
			return XKV_LSTAT_udp_drop_source;
	} else {
		__builtin_memcpy(k6.addr, h->src, 16);
		if (!bpf_map_lookup_elem(&xkv_allow6, &k6))
			return XKV_LSTAT_udp_drop_source;
	}

	/* a request: one datagram, a frame header, a lower-case command */
	n = h->plen;
	if (n <= XKV_FRAME_HDR || h->ulen <= XKV_FRAME_HDR)
		return XKV_LSTAT_udp_drop_reply;
	n = n < XKV_FRAME_HDR + XKV_LPOL_SCAN ? n :
		XKV_FRAME_HDR + XKV_LPOL_SCAN;
	n = xkv_bound(n, XKV_LCHUNK - 1);
	b = s->buf;
	if (n <= XKV_FRAME_HDR || bpf_skb_load_bytes(skb, h->poff, b, n))
		return XKV_LSTAT_udp_drop_reply;
	if (b[4] != 0 || b[5] != 1)
		return XKV_LSTAT_udp_drop_reply;
	for (i = XKV_FRAME_HDR; i < XKV_FRAME_HDR + XKV_LPOL_SCAN; i++) {
		__u8 c;

		if (i >= n)
			break;
		c = b[i];
		if (c == ' ')
			continue;
		if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			return XKV_LSTAT_udp_drop_reply;
		return 0;
	}
	/* nothing but spaces as far as we look: no command of memcached's */
	return XKV_LSTAT_udp_drop_reply;
}

/*
 * The stages below are global functions: the verifier checks each once,
 * on its own, instead of once per path through the stages before it.
 */

__attribute__((noinline)) int xl_in_udp(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = xl_scratch(0);
	struct xkv_lhdr *h;
	struct xkv_lin *p;

	if (!s)
		return 0;
	h = &s->h;
	p = &s->udp.in;
	if (h->plen <= XKV_FRAME_HDR)
		return 0;
	if (h->frag || skb->gso_segs > 1) {
		/* memcached's request may lie beyond this packet: its reply
		 * may be sent, not learned */
		xl_req_note(skb, h, now, 1);
		xl_flush(s, now, 1);
		return 0;
	}
	xl_req_note(skb, h, now, 0);
	if (!(xkv_lcfg.flags & XKV_LCFG_TEXT_ONLY) &&
	    xl_first_byte(skb, h->poff + XKV_FRAME_HDR) == XKV_BIN_REQ) {
		xl_flush(s, now, 1);	/* binary protocol: not parsed */
		return 0;
	}
	/* each datagram is parsed from its start, after the frame header */
	xl_in_reset(p, 0, 1);
	s->sp = 0;
	if (xl_in_parse(skb, XKV_LPARSE_UDP, h->poff + XKV_FRAME_HDR,
			h->poff + h->plen, now))
		xl_flush(s, now, 1);
	return 0;
}

__attribute__((noinline)) int xl_in_tcp(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = xl_scratch(0);
	struct xkv_learn_flow *f = NULL;
	__u32 fidx = 0;
	struct xl_seg g;
	int r;

	if (!s)
		return 0;
	if (s->h.frag) {
		xl_flush(s, now, 1);
		return 0;
	}
	xl_seg_of(&s->h, 0, &g);
	if ((g.fl & XKV_TCP_SYN) && !(g.fl & XKV_TCP_ACK)) {
		/* a new connection: followed from its first byte */
		r = xl_flow_get(&g.t, 1, now, &f, &fidx);
		if (r == XKV_FLOW_BUSY || !f) {
			if (g.len)
				xl_flush(s, now, 1);
			return 0;
		}
		xl_flow_start(f, g.seq);
		xl_in_reset(&f->in, 0, 1);
		if (!g.len) {
			f->last_ns = now;
			xl_flow_unlock(f);
			return 0;
		}
		g.seq++;	/* data on the SYN (fast open) */
		r = XKV_FLOW_FOUND;
	} else if (xl_flow_bare(&g, now)) {
		return 0;
	} else {
		r = xl_flow_get(&g.t, 1, now, &f, &fidx);
	}
	if (r == XKV_FLOW_BUSY || !f) {
		/* another CPU is parsing this stream: this segment is not
		 * parsed, and the stream will look broken to whoever comes
		 * next, which flushes again */
		xl_flush(s, now, 1);
		return 0;
	}
	if (r == XKV_FLOW_NEW) {
		/* first seen in its middle: where commands start is not
		 * known, and without -B ascii neither is the protocol */
		xl_flush(s, now, 1);
		f->proto = (xkv_lcfg.flags & XKV_LCFG_TEXT_ONLY) ?
				   XKV_LPROTO_TEXT :
				   XKV_LPROTO_UNKNOWN;
		xl_in_reset(&f->in, 1, 0);
		f->base_seq = g.seq;
		f->next_seq = g.seq;
	}
	if (f->proto == XKV_LPROTO_UNDECIDED) {
		if (g.seq == f->next_seq)
			f->proto = xl_first_byte(skb, g.off) == XKV_BIN_REQ ?
					   XKV_LPROTO_BINARY :
					   XKV_LPROTO_TEXT;
		else
			f->proto = (xkv_lcfg.flags & XKV_LCFG_TEXT_ONLY) ?
					   XKV_LPROTO_TEXT :
					   XKV_LPROTO_UNKNOWN;
	}
	if (f->proto != XKV_LPROTO_TEXT || (f->in.f & XKV_LINF_HOPELESS)) {
		/* not parsed: any segment may carry a write */
		xl_flush(s, now, 1);
		goto done;
	}
	if (g.seq != f->next_seq) {
		/*
		 * A gap, a reordering or a retransmission: bytes may take
		 * effect now that were never parsed in order. Even a resent
		 * copy of bytes parsed before: the first copy may have been
		 * corrupt and dropped by TCP after TC saw it, so what was
		 * parsed from it is not what memcached reads. Flush, and
		 * follow the stream from here without certainty.
		 */
		xl_flush(s, now, 1);
		xl_in_reset(&f->in, 1, 0);
		f->base_seq = g.seq;
	}
	if (f->in.f & XKV_LINF_UNSURE)
		XL_STAT(in_unsure);
	s->sp = g.seq;
	if (xl_in_parse(skb, fidx, g.off, g.off + g.len, now)) {
		xl_flush(s, now, 1);
		xl_in_reset(&f->in, 1, 0);
		f->base_seq = g.seq + g.len;
	}
	f->next_seq = g.seq + g.len;
	if (f->in.f & XKV_LINF_HOPELESS)
		xl_flush(s, now, 1);
done:
	xl_flow_done(f, &g, now);
	return 0;
}

#endif /* XKV_LEARN_INGRESS_H */
