/* SPDX-License-Identifier: GPL-2.0 */
/*
 * headers.h - XDP: a TCP segment to the backend's port, parsed into
 * s->tcp.
 *
 * Part of the XDP object, compiled as one unit by bpf/xkv.bpf.c.
 */
#ifndef XKV_TCP_HEADERS_H
#define XKV_TCP_HEADERS_H

/* what xkv_tcp_headers() says besides 0 (a segment to our port) */
#define XKV_TCP_NOT_TCP 1	/* not TCP at all: the UDP path decides */
#define XKV_TCP_NOT_OURS 2	/* TCP, but not ours or malformed: pass */

/*
 * Parse a frame up to its TCP options. Fills s->l2_len, s->ipv6,
 * s->saddr, s->daddr and s->tcp.
 * Return: 0, XKV_TCP_NOT_TCP or XKV_TCP_NOT_OURS.
 */
static __always_inline int xkv_tcp_parse(struct xdp_md *ctx,
					 struct xkv_scratch *s)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xkv_cursor c = { .pos = data, .end = data_end };
	struct xkv_tcp_seg *g = &s->tcp;
	__u32 nvlans, l4_len, thl;
	struct tcphdr *th;
	struct ethhdr *eth;
	__be16 proto;

	eth = xkv_parse_eth(&c, &proto, &nvlans);
	if (!eth)
		return XKV_TCP_NOT_TCP;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = xkv_parse_ipv4(&c);

		if (!iph || iph->protocol != IPPROTO_TCP)
			return XKV_TCP_NOT_TCP;
		if (iph->frag_off & bpf_htons(XKV_IP_MF | XKV_IP_OFFMASK))
			return XKV_TCP_NOT_OURS;
		l4_len = xkv_be16(iph->tot_len);
		if (l4_len < iph->ihl * 4U || (void *)iph + l4_len > data_end)
			return XKV_TCP_NOT_OURS;
		l4_len -= iph->ihl * 4U;
		s->ipv6 = 0;
		__builtin_memset(s->saddr, 0, 16);
		__builtin_memset(s->daddr, 0, 16);
		s->saddr[0] = iph->saddr;
		s->daddr[0] = iph->daddr;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = xkv_parse_ipv6(&c);

		if (!ip6 || ip6->nexthdr != IPPROTO_TCP)
			return XKV_TCP_NOT_TCP;
		l4_len = xkv_be16(ip6->payload_len);
		if ((void *)(ip6 + 1) + l4_len > data_end)
			return XKV_TCP_NOT_OURS;
		s->ipv6 = 1;
		__builtin_memcpy(s->saddr, &ip6->saddr, 16);
		__builtin_memcpy(s->daddr, &ip6->daddr, 16);
	} else {
		return XKV_TCP_NOT_TCP;
	}
	th = xkv_parse_tcp(&c);
	if (!th)
		return XKV_TCP_NOT_OURS;
	if (!xkv_cfg.tcp_port || th->dest != bpf_htons(xkv_cfg.tcp_port))
		return XKV_TCP_NOT_OURS;
	thl = th->doff * 4U;
	if (thl < sizeof(*th) || thl > l4_len)
		return XKV_TCP_NOT_OURS;
	s->l2_len = sizeof(struct ethhdr) + nvlans * XKV_VLAN_HLEN;
	__builtin_memcpy(g->key.caddr, s->saddr, 16);
	__builtin_memcpy(g->key.saddr, s->daddr, 16);
	g->key.cport = th->source;
	g->key.sport = th->dest;
	g->key.family = s->ipv6 ? 6 : 4;
	g->th_off = (__u32)((void *)th - data);
	g->th_len = thl;
	g->seq = bpf_ntohl(th->seq);
	g->ack = bpf_ntohl(th->ack_seq);
	g->win = th->window;
	g->flags = ((__u8 *)th)[XKV_TCP_FLAGS_OFF];
	g->plen = l4_len - thl;
	g->o.len = thl - sizeof(*th);
	if (g->o.len &&
	    bpf_xdp_load_bytes(ctx, g->th_off + sizeof(*th), g->o.buf,
			       xkv_bound(g->o.len - 1,
					 XKV_TCP_OPT_BUF - 1) + 1))
		return XKV_TCP_NOT_OURS;
	xkv_tcp_opts_parse(&g->o);
	return 0;
}

#endif /* XKV_TCP_HEADERS_H */
