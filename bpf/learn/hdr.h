/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hdr.h - the headers of the packet a learning program looks at.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_HDR_H
#define XKV_LEARN_HDR_H

/* --- headers -------------------------------------------------------------- */

/* xl_parse_hdr() results */
enum {
	XKV_LH_OK,		/* TCP or UDP, ports and payload known */
	XKV_LH_IGNORE,		/* not TCP/UDP over IP, or nothing of ours */
	XKV_LH_UNSURE,		/* IP we could not parse to the transport
				 * header: it may carry a write */
};

/* an IPv6 extension header that xl_parse_hdr() walks */
static __always_inline int xl_v6_ext(__u32 nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51;
}

/*
 * Parse Ethernet (up to two tags), IPv4 or IPv6 (extension headers
 * walked) and the TCP or UDP header of @skb into s->h, with the parser of
 * xkv_parse.h run over a copy of its first XKV_LHDR_BUF bytes (in s->hb,
 * which has room for any offset below XKV_LHDR_BUF plus a header).
 */
__attribute__((noinline)) int xl_parse_hdr(struct __sk_buff *skb, __u32 which)
{
	struct xkv_lscratch *s = xl_scratch(which);
	__u32 len = skb->len, n, off, l3, tot, hl, nh, i, end, nvlans;
	struct xkv_cursor c;
	struct xkv_lhdr *h;
	__be16 proto;
	__u8 *b, *e;

	if (!s)
		return XKV_LH_IGNORE;
	h = &s->h;
	b = s->hb;

	n = len < XKV_LHDR_BUF ? len : XKV_LHDR_BUF;
	n = xkv_bound(n, XKV_LHDR_BUF * 2 - 1);
	if (n < ETH_HLEN + 20)
		return XKV_LH_IGNORE;
	if (bpf_skb_load_bytes(skb, 0, b, n))
		return XKV_LH_IGNORE;
	c.pos = b;
	c.end = b + n;
	if (!xkv_parse_eth(&c, &proto, &nvlans))
		return XKV_LH_IGNORE;
	/*
	 * Through memory, so that the verifier sees "some offset" rather
	 * than one constant per tag count, and checks what follows once.
	 */
	WRITE_ONCE(h->l3, ETH_HLEN + nvlans * XKV_VLAN_HLEN);
	l3 = xkv_bound(READ_ONCE(h->l3), 0x1f);
	c.pos = b + l3;
	h->frag = 0;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = xkv_parse_ipv4_fixed(&c);
		__u32 fo;

		if (!iph)
			return XKV_LH_IGNORE;
		hl = iph->ihl * 4;
		tot = bpf_ntohs(iph->tot_len);
		fo = bpf_ntohs(iph->frag_off);
		nh = iph->protocol;
		if (fo & XKV_IP_OFFMASK)
			h->frag = XKV_LFRAG_LATER;
		else if (fo & XKV_IP_MF)
			h->frag = XKV_LFRAG_FIRST;
		h->v6 = 0;
		__builtin_memset(h->src, 0, sizeof(h->src));
		__builtin_memset(h->dst, 0, sizeof(h->dst));
		__builtin_memcpy(h->src, &iph->saddr, 4);
		__builtin_memcpy(h->dst, &iph->daddr, 4);
		/* 0: GSO with a length too big for the field */
		end = tot ? l3 + tot : len;
		off = l3 + hl;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = xkv_parse_ipv6(&c);
		__u32 plen;

		if (!ip6)
			return XKV_LH_IGNORE;
		plen = bpf_ntohs(ip6->payload_len);
		nh = ip6->nexthdr;
		h->v6 = 1;
		__builtin_memcpy(h->src, &ip6->saddr, 16);
		__builtin_memcpy(h->dst, &ip6->daddr, 16);
		end = plen ? l3 + 40 + plen : len;
		off = l3 + 40;
		for (i = 0; i < XKV_LEARN_V6_EXT_MAX; i++) {
			if (!xl_v6_ext(nh))
				break;
			if (off + 8 > n)
				return XKV_LH_UNSURE;
			e = b + (off & 0xff);
			if (nh == 44) {		/* fragment */
				if (((__u32)e[2] << 8 | e[3]) & 0xfff8)
					h->frag = XKV_LFRAG_LATER;
				else if (e[3] & 1)
					h->frag = XKV_LFRAG_FIRST;
				hl = 8;
			} else if (nh == 51) {	/* AH */
				hl = (e[1] + 2) * 4;
			} else {
				hl = (e[1] + 1) * 8;
			}
			nh = e[0];
			off += hl;
		}
		if (xl_v6_ext(nh))
			return XKV_LH_UNSURE;
	} else {
		return XKV_LH_IGNORE;
	}
	if (nh != IPPROTO_TCP && nh != IPPROTO_UDP)
		return XKV_LH_IGNORE;
	h->proto = nh;
	if (h->frag == XKV_LFRAG_LATER) {
		h->sport = 0;
		h->dport = 0;
		h->plen = 0;
		return XKV_LH_OK;
	}
	if (end > len)
		end = len;
	/* the transport header, if the copy holds it */
	if (off > n)
		return XKV_LH_UNSURE;
	c.pos = b + xkv_bound(off, XKV_LHDR_BUF * 2 - 1);
	if (nh == IPPROTO_UDP) {
		struct udphdr *udp = xkv_parse_udp(&c);

		if (!udp)
			return XKV_LH_UNSURE;
		h->sport = udp->source;
		h->dport = udp->dest;
		h->ulen = bpf_ntohs(udp->len);
		h->ulen = h->ulen > 8 ? h->ulen - 8 : 0;
		h->tflags = 0;
		h->seq = 0;
		hl = 8;
	} else {
		struct tcphdr *tcp = xkv_parse_tcp(&c);

		if (!tcp)
			return XKV_LH_UNSURE;
		h->sport = tcp->source;
		h->dport = tcp->dest;
		h->seq = bpf_ntohl(tcp->seq);
		h->tflags = ((__u8 *)tcp)[XKV_TCP_FLAGS_OFF];
		hl = tcp->doff * 4;
		if (hl < 20)
			return XKV_LH_IGNORE;
	}
	h->poff = off + hl;
	h->plen = end > off + hl ? end - (off + hl) : 0;
	return XKV_LH_OK;
}

#endif /* XKV_LEARN_HDR_H */
