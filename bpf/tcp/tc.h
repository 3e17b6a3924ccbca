/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tc.h - the TCP fast path's translation at TC: xkv_tc_in on the
 * interface's ingress moves the client's segments into the kernel's
 * sequence space, xkv_tc_out on its egress moves the kernel's segments
 * into the wire's, and holds the kernel's ACK below a request whose XDP
 * reply the client has not acknowledged. Both only touch connections XDP
 * answered on (XKV_TC_MOVED); they stay attached while any such
 * connection lives, XDP or not.
 *
 * Part of the XDP object, compiled as one unit by bpf/xkv.bpf.c.
 */
#ifndef XKV_TCP_TC_H
#define XKV_TCP_TC_H

/* bytes of a frame the TC programs look at: L2 with two tags, IPv6, TCP */
#define XKV_TC_HDR_BUF 128

/**
 * struct xkv_tc_seg - a segment as the TC programs read it.
 * @buf:    the frame's first bytes
 * @key:    its connection
 * @th_off: frame offset of the TCP header
 * @plen:   payload length (all of a GSO skb's)
 * @seq:    sequence number, host order
 * @ack:    acknowledgement number, host order
 * @win:    window field, host order
 * @flags:  flag byte
 * @o:      options
 */
struct xkv_tc_seg {
	__u8 buf[XKV_TC_HDR_BUF];
	struct xkv_tcp_key key;
	__u32 th_off;
	__u32 plen;
	__u32 seq;
	__u32 ack;
	__u32 win;
	__u32 flags;
	struct xkv_tcp_opts o;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_tc_seg);
} xkv_tc_scratch SEC(".maps");

/*
 * Read a frame's headers. @out: it leaves us (the client is the
 * destination), else it arrives (the client is the source).
 * Return: 0 for a TCP segment of our port (t->o.bad: its options do not
 * parse), else nonzero.
 */
static __always_inline int xkv_tc_parse(struct __sk_buff *skb,
					struct xkv_tc_seg *t, int out)
{
	__u32 n = skb->len, nvlans, l4_len, thl;
	struct xkv_cursor c;
	struct tcphdr *th;
	__be16 proto, port;

	if (!xkv_cfg.tcp_port)
		return 1;
	if (n > XKV_TC_HDR_BUF)
		n = XKV_TC_HDR_BUF;
	if (n < sizeof(struct ethhdr) + sizeof(struct iphdr) +
		    sizeof(struct tcphdr))
		return 1;
	if (bpf_skb_load_bytes(skb, 0, t->buf, n))
		return 1;
	c.pos = t->buf;
	c.end = t->buf + n;
	if (!xkv_parse_eth(&c, &proto, &nvlans))
		return 1;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = xkv_parse_ipv4(&c);

		if (!iph || iph->protocol != IPPROTO_TCP ||
		    (iph->frag_off & bpf_htons(XKV_IP_MF | XKV_IP_OFFMASK)))
			return 1;
		l4_len = xkv_be16(iph->tot_len);
		if (l4_len < iph->ihl * 4U)
			return 1;
		l4_len -= iph->ihl * 4U;
		__builtin_memset(&t->key, 0, sizeof(t->key));
		t->key.family = 4;
		if (out) {
			t->key.caddr[0] = iph->daddr;
			t->key.saddr[0] = iph->saddr;
		} else {
			t->key.caddr[0] = iph->saddr;
			t->key.saddr[0] = iph->daddr;
		}
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = xkv_parse_ipv6(&c);

		if (!ip6 || ip6->nexthdr != IPPROTO_TCP)
			return 1;
		l4_len = xkv_be16(ip6->payload_len);
		t->key.family = 6;
		if (out) {
			__builtin_memcpy(t->key.caddr, &ip6->daddr, 16);
			__builtin_memcpy(t->key.saddr, &ip6->saddr, 16);
		} else {
			__builtin_memcpy(t->key.caddr, &ip6->saddr, 16);
			__builtin_memcpy(t->key.saddr, &ip6->daddr, 16);
		}
	} else {
		return 1;
	}
	th = xkv_parse_tcp(&c);
	if (!th)
		return 1;
	port = out ? th->source : th->dest;
	if (port != bpf_htons(xkv_cfg.tcp_port))
		return 1;
	t->key.sport = port;
	t->key.cport = out ? th->dest : th->source;
	thl = th->doff * 4U;
	if (thl < sizeof(*th) || thl > l4_len)
		return 1;
	t->th_off = (__u32)((void *)th - (void *)t->buf);
	t->plen = l4_len - thl;
	t->seq = bpf_ntohl(th->seq);
	t->ack = bpf_ntohl(th->ack_seq);
	t->win = bpf_ntohs(th->window);
	t->flags = ((__u8 *)th)[XKV_TCP_FLAGS_OFF];
	t->o.len = thl - sizeof(*th);
	if (t->o.len &&
	    bpf_skb_load_bytes(skb, t->th_off + sizeof(*th), t->o.buf,
			       xkv_bound(t->o.len - 1, XKV_TCP_OPT_BUF - 1) +
				       1))
		return 1;
	xkv_tcp_opts_parse(&t->o);
	return 0;
}

/*
 * A segment whose options do not parse (so neither might its SACK
 * blocks) cannot be moved; on a moved connection it would reach the
 * other side in the wrong space, so it is dropped there.
 * Return: the TC action.
 */
static __always_inline int xkv_tc_bad_opts(struct xkv_tcp_conn *c)
{
	if (!(READ_ONCE(c->x.flags) & XKV_TC_MOVED))
		return TC_ACT_OK;
	xkv_tcp_count(XKV_TCP_STAT_dropped);
	return TC_ACT_SHOT;
}

/*
 * Read the segment in @skb into the scratch (@out as xkv_tc_parse()) and
 * find its tracked connection. A client's SYN is not looked up: only XDP
 * follows it. @tp: the scratch; @act: with NULL, the TC action to return
 * (TC_ACT_OK, or xkv_tc_bad_opts()'s when its options do not parse).
 * Return: the connection to translate the segment for, or NULL.
 */
static __always_inline struct xkv_tcp_conn *
xkv_tc_conn(struct __sk_buff *skb, int out, struct xkv_tc_seg **tp, int *act)
{
	struct xkv_tcp_conn *c;
	struct xkv_tc_seg *t;
	__u32 zero = 0;

	*act = TC_ACT_OK;
	t = bpf_map_lookup_elem(&xkv_tc_scratch, &zero);
	if (!t || xkv_tc_parse(skb, t, out))
		return NULL;
	if (!out && (t->flags & XKV_TCPF_SYN))
		return NULL;
	c = bpf_map_lookup_elem(&xkv_tcp_conn, &t->key);
	if (!c)
		return NULL;
	if (t->o.bad) {
		*act = xkv_tc_bad_opts(c);
		return NULL;
	}
	*tp = t;
	return c;
}

/* Rewrite the 32-bit field at TCP offset @off from @old to @new. */
static __always_inline int xkv_tc_put32(struct __sk_buff *skb,
					struct xkv_tc_seg *t, __u32 off,
					__u32 old, __u32 new)
{
	__be32 o = bpf_htonl(old), v = bpf_htonl(new);

	if (old == new)
		return 0;
	if (bpf_skb_store_bytes(skb, t->th_off + off, &v, 4, 0))
		return -1;
	return bpf_l4_csum_replace(skb, t->th_off + 16, o, v, 4) ? -1 : 0;
}

/* Rewrite the SACK blocks: @out, kernel to wire; else wire to kernel. */
static __always_inline int xkv_tc_sack(struct __sk_buff *skb,
				       struct xkv_tc_seg *t,
				       const struct xkv_tcp_xlat *c, int out)
{
	__u32 k, off, e, ne, n = t->o.sack_n;

	for (k = 0; k < 8; k++) {
		if (k >= n * 2)
			break;
		off = t->o.sack_off + k * 4;
		e = xkv_get_be32(t->o.buf + (off & 63));
		ne = out ? xkv_tcp_in_w(c, e) : xkv_tcp_out_k(c, e);
		if (xkv_tc_put32(skb, t, sizeof(struct tcphdr) + off, e, ne))
			return -1;
	}
	return 0;
}

/*
 * Write the segment's new @seq, its new @ack (if it carries one) and its
 * SACK blocks moved (@out: kernel to wire; else wire to kernel).
 * Return: the TC action: a segment half rewritten is dropped.
 */
static __always_inline int xkv_tc_rewrite(struct __sk_buff *skb,
					  struct xkv_tc_seg *t,
					  const struct xkv_tcp_xlat *x,
					  __u32 seq, __u32 ack, int out)
{
	if (xkv_tc_put32(skb, t, 4, t->seq, seq) ||
	    ((t->flags & XKV_TCPF_ACK) &&
	     xkv_tc_put32(skb, t, 8, t->ack, ack)) ||
	    (t->o.sack_n && xkv_tc_sack(skb, t, x, out))) {
		xkv_tcp_count(XKV_TCP_STAT_errors);
		return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

/*
 * Follow the kernel's segment @t: the SYN-ACK's ISN and options, the last
 * TSval and window, a FIN or reset. Copy the translation into @x.
 * Return: 1 to drop the connection's state (a reset, nothing moved).
 */
static __always_inline int xkv_tc_note_out(struct xkv_tcp_conn *c,
					   const struct xkv_tc_seg *t,
					   struct xkv_tcp_xlat *x, __u64 now)
{
	__u32 f = t->flags, gone = 0;

	bpf_spin_lock(&c->lock);
	if ((f & (XKV_TCPF_SYN | XKV_TCPF_ACK)) ==
		    (XKV_TCPF_SYN | XKV_TCPF_ACK)) {
		if ((c->x.flags & XKV_TC_SYN) && !(c->x.flags & XKV_TC_MOVED)) {
			c->iss = t->seq;
			c->x.flags |= XKV_TC_SYNACK;
			c->ws_s = t->o.ws ? (t->o.ws - 1) & 15 : 0;
			/* scaling is on only when both SYNs carry it */
			if (!t->o.ws)
				c->wscale = 0;
			if ((c->x.flags & XKV_TC_TS_C) && t->o.ts)
				c->x.flags |= XKV_TC_TS;
			/* a SYN-ACK's window is never scaled; c->win is
			 * the field as sent (network order), t->win host */
			c->win = bpf_htons((__u16)(t->win >> c->ws_s));
			if (t->o.ts)
				c->ts_val = t->o.tsval;
		}
	} else {
		if (t->o.ts)
			c->ts_val = t->o.tsval;
		c->win = bpf_htons((__u16)t->win);
		if (f & XKV_TCPF_RST) {
			c->x.flags |= XKV_TC_RST;
			gone = 1;
		}
		if (f & XKV_TCPF_FIN)
			c->x.flags |= XKV_TC_FIN_S;
		if ((f & (XKV_TCPF_RST | XKV_TCPF_FIN)) && !c->closed_ns)
			c->closed_ns = now;
	}
	*x = c->x;
	bpf_spin_unlock(&c->lock);
	return gone && !(x->flags & XKV_TC_MOVED);
}

/*
 * Egress: the kernel's segment to the wire. Shift seq by the XDP replies
 * before it, ack and SACK by the requests XDP consumed, and never let the
 * ack cover a request whose reply the client has not acknowledged.
 */
SEC("tc")
int xkv_tc_out(struct __sk_buff *skb)
{
	struct xkv_tcp_conn *c;
	struct xkv_tcp_xlat x;
	struct xkv_tc_seg *t;
	__u32 seq, ack, kend;
	int act;

	c = xkv_tc_conn(skb, 1, &t, &act);
	if (!c)
		return act;
	if (xkv_tc_note_out(c, t, &x, bpf_ktime_get_ns())) {
		bpf_map_delete_elem(&xkv_tcp_conn, &t->key);
		return TC_ACT_OK;
	}
	if (!(x.flags & XKV_TC_MOVED))
		return TC_ACT_OK;

	/* a segment across the point an XDP reply went in cannot be split:
	 * the kernel sends it again once the client's ACK reaches it */
	kend = t->seq + t->plen;
	if (t->plen && xkv_before(t->seq, x.out_kpos) &&
	    xkv_before(x.out_kpos, kend)) {
		xkv_tcp_count(XKV_TCP_STAT_dropped);
		return TC_ACT_SHOT;
	}
	seq = xkv_tcp_out_w(&x, t->seq);
	ack = xkv_tcp_in_w(&x, t->ack);
	if ((t->flags & XKV_TCPF_ACK) && x.rp_len && xkv_before(x.in_s, ack)) {
		ack = x.in_s;
		xkv_tcp_count(XKV_TCP_STAT_acks_held);
	}
	return xkv_tc_rewrite(skb, t, &x, seq, ack, 1);
}

/*
 * Ingress: the client's segment to the kernel (XDP passed it, or XDP is
 * gone). Shift seq by the requests XDP consumed, ack and SACK by the
 * replies it sent; a segment carrying consumed bytes never reaches the
 * kernel.
 */
SEC("tc")
int xkv_tc_in(struct __sk_buff *skb)
{
	struct xkv_tcp_conn *c;
	struct xkv_tcp_xlat x;
	struct xkv_tc_seg *t;
	__u32 seq, ack;
	int act;

	c = xkv_tc_conn(skb, 0, &t, &act);
	if (!c)
		return act;
	bpf_spin_lock(&c->lock);
	/* with XDP gone, the client's ACK of a reply is seen here */
	if (c->x.rp_len && (t->flags & XKV_TCPF_ACK) &&
	    !xkv_before(t->ack, c->x.rp_seq + c->x.rp_len))
		c->x.rp_len = 0;
	x = c->x;
	bpf_spin_unlock(&c->lock);
	if (!(x.flags & XKV_TC_MOVED))
		return TC_ACT_OK;

	if (t->plen && xkv_before(t->seq, x.in_e) &&
	    xkv_before(x.in_s, t->seq + t->plen)) {
		xkv_tcp_count(XKV_TCP_STAT_dropped);
		return TC_ACT_SHOT;
	}
	seq = xkv_tcp_in_k(&x, t->seq);
	/*
	 * A keepalive probe (no data, one before the client's snd_nxt) right
	 * after a consumed request: keep it one before the kernel's rcv_nxt,
	 * so the kernel answers it as the probe it is.
	 */
	if (!t->plen && !xkv_before(t->seq, x.in_s) &&
	    xkv_before(t->seq, x.in_e))
		seq = t->seq - x.in_after;
	ack = xkv_tcp_out_k(&x, t->ack);
	return xkv_tc_rewrite(skb, t, &x, seq, ack, 0);
}

#endif /* XKV_TCP_TC_H */
