/* SPDX-License-Identifier: GPL-2.0 */
/*
 * headers.h - a frame's headers up to the UDP payload, and whether its
 * source is one to answer.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_HEADERS_H
#define XKV_XDP_HEADERS_H

/* the longest IPv4 header in 32-bit words (IHL 15) */
#define XKV_IPV4_WORDS_MAX 15

/* the loopback device has this ifindex in every network namespace */
#define XKV_LOOPBACK_IFINDEX 1

/*
 * IPv4 addresses the stack drops as martians (RFC 1122 3.2.1.3, RFC
 * 5735), or that a reply must never go to: source 0/8, 224/4, 240/4 and
 * 255.255.255.255; destination 0/8 and 240/4 (but the broadcast, a group
 * address passed as such); 127/8 either way anywhere but on lo.
 */
static __always_inline int xkv_martian4(__be32 saddr, __be32 daddr, int lo)
{
	__u32 s = bpf_ntohl(saddr) >> 24, d = bpf_ntohl(daddr) >> 24;

	if (!s || s >= 224 || (s == 127 && !lo))
		return 1;
	if (!d || (d >= 240 && daddr != 0xffffffff) || (d == 127 && !lo))
		return 1;
	return 0;
}

/*
 * IPv6 as the stack sees it (RFC 4291): no reply to the unspecified
 * address, a multicast or an IPv4-mapped source; ::1 either way anywhere
 * but on lo; nothing sent to the unspecified address.
 */
static __always_inline int xkv_martian6(const __be32 *sa, const __be32 *da,
					int lo)
{
	if (*(const __u8 *)sa == 0xff)
		return 1;
	if (!sa[0] && !sa[1]) {
		if (sa[2] == bpf_htonl(0xffff))
			return 1;
		if (!sa[2] && (!sa[3] || (sa[3] == bpf_htonl(1) && !lo)))
			return 1;
	}
	if (!da[0] && !da[1] && !da[2] &&
	    (!da[3] || (da[3] == bpf_htonl(1) && !lo)))
		return 1;
	return 0;
}

/*
 * Parse up to the UDP payload and note what the reply needs in @s.
 * Return: 0 when this is UDP to our port, else the pass reason.
 */
static __always_inline __u32 xkv_parse_headers(struct xdp_md *ctx,
					       struct xkv_scratch *s)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xkv_cursor c = { .pos = data, .end = data_end };
	struct udphdr *udp;
	struct ethhdr *eth;
	__u32 nvlans, l4_len, ulen;
	__be16 proto;

	eth = xkv_parse_eth(&c, &proto, &nvlans);
	if (!eth)
		return XKV_STAT_pass_malformed;
	/* the group bit: a broadcast or multicast destination MAC */
	s->group = eth->h_dest[0] & 1;
	s->l2_len = sizeof(struct ethhdr) + nvlans * XKV_VLAN_HLEN;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = xkv_parse_ipv4(&c);
		__u64 sum = 0;
		__u32 hlen, tot, k;

		if (!iph)
			return XKV_STAT_pass_malformed;
		if (iph->protocol != IPPROTO_UDP)
			return XKV_STAT_pass_not_udp;
		if (iph->frag_off & bpf_htons(XKV_IP_MF | XKV_IP_OFFMASK))
			return XKV_STAT_pass_fragment;
		hlen = iph->ihl * 4;
		tot = xkv_be16(iph->tot_len);
		if (tot < hlen || (void *)iph + tot > data_end)
			return XKV_STAT_pass_malformed;
		/* the stack drops a bad header checksum: do as it does */
		for (k = 0; k < XKV_IPV4_WORDS_MAX; k++) {
			__u32 *w = (__u32 *)iph + k;

			if (k >= iph->ihl)
				break;
			if ((void *)(w + 1) > data_end)
				return XKV_STAT_pass_malformed;
			sum += *w;
		}
		if (xkv_csum_fold(sum))
			return XKV_STAT_pass_malformed;
		l4_len = tot - hlen;
		/* 224.0.0.0/4 multicast and 255.255.255.255 */
		if ((iph->daddr & bpf_htonl(0xf0000000)) ==
			    bpf_htonl(0xe0000000) ||
		    iph->daddr == 0xffffffff)
			s->group = 1;
		s->ipv6 = 0;
		s->saddr[0] = iph->saddr;
		s->daddr[0] = iph->daddr;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = xkv_parse_ipv6(&c);

		if (!ip6)
			return XKV_STAT_pass_malformed;
		if (ip6->nexthdr == IPPROTO_FRAGMENT)
			return XKV_STAT_pass_fragment;
		if (ip6->nexthdr != IPPROTO_UDP)
			return XKV_STAT_pass_not_udp;
		l4_len = xkv_be16(ip6->payload_len);
		if ((void *)(ip6 + 1) + l4_len > data_end)
			return XKV_STAT_pass_malformed;
		if (ip6->daddr.s6_addr[0] == 0xff)	/* multicast */
			s->group = 1;
		s->ipv6 = 1;
		__builtin_memcpy(s->saddr, &ip6->saddr, 16);
		__builtin_memcpy(s->daddr, &ip6->daddr, 16);
	} else {
		return XKV_STAT_pass_not_udp;
	}

	udp = xkv_parse_udp(&c);
	if (!udp)
		return XKV_STAT_pass_malformed;
	if (udp->dest != bpf_htons(xkv_cfg.port))
		return XKV_STAT_pass_other_port;
	/*
	 * A reply would come from a group address: let the stack decide.
	 * (Kept in scratch memory, not a register, so the verifier does not
	 * carry two copies of every later path.)
	 */
	if (READ_ONCE(s->group))
		return XKV_STAT_pass_group;
	ulen = xkv_be16(udp->len);
	if (ulen < sizeof(*udp) || ulen > l4_len)
		return XKV_STAT_pass_malformed;
	/* no reply to port 0, nor to our own port (no reply loops) */
	if (!udp->source || udp->source == udp->dest)
		return XKV_STAT_pass_martian;
	s->pay_off = (__u32)((void *)(udp + 1) - data);
	s->plen = ulen - sizeof(*udp);
	s->sport = udp->source;
	s->dport = udp->dest;
	s->ucheck = udp->check;
	return 0;
}

static __always_inline int xkv_allowed(struct xkv_scratch *s)
{
	if (xkv_cfg.flags & XKV_CFG_ALLOW_ANY)
		return 1;
	if (!s->ipv6) {
		struct xkv_lpm4 k4 = { .prefixlen = 32 };

		__builtin_memcpy(k4.addr, &s->saddr[0], 4);
		return bpf_map_lookup_elem(&xkv_allow4, &k4) != NULL;
	} else {
		struct xkv_lpm6 k6 = { .prefixlen = 128 };

		__builtin_memcpy(k6.addr, s->saddr, 16);
		return bpf_map_lookup_elem(&xkv_allow6, &k6) != NULL;
	}
}

/*
 * The policy's generation as the source checks read it: on x86 (TSO) a
 * plain load, kept before the map lookups that follow it by the
 * compiler barriers; elsewhere an atomic read, a full barrier in BPF. A
 * check that read generation g saw every change its writer made before
 * bumping to g (abi/xkv_policy.h).
 */
static __always_inline __u64 xkv_policy_gen_read(struct xkv_policy_gen *pg)
{
#ifdef __TARGET_ARCH_x86
	__u64 v;

	asm volatile("" ::: "memory");
	v = pg->gen;
	asm volatile("" ::: "memory");
	return v;
#else
	return __sync_fetch_and_add(&pg->gen, 0);
#endif
}

/* is the request between the addresses this CPU last allowed under @gen? */
static __always_inline int xkv_memo_match(const struct xkv_scratch *s,
					  __u64 gen, int lo)
{
	const struct xkv_src_memo *m = &s->memo;

	if (!m->ok || m->gen != gen || m->lo != (__u32)lo ||
	    m->ipv6 != s->ipv6 || m->saddr[0] != s->saddr[0] ||
	    m->daddr[0] != s->daddr[0])
		return 0;
	if (!s->ipv6)
		return 1;
	return m->saddr[1] == s->saddr[1] && m->saddr[2] == s->saddr[2] &&
	       m->saddr[3] == s->saddr[3] && m->daddr[1] == s->daddr[1] &&
	       m->daddr[2] == s->daddr[2] && m->daddr[3] == s->daddr[3];
}

/* remember the request's addresses as allowed under @gen */
static __always_inline void xkv_memo_set(struct xkv_scratch *s, __u64 gen,
					 int lo)
{
	struct xkv_src_memo *m = &s->memo;

	m->gen = gen;
	m->lo = lo;
	m->ipv6 = s->ipv6;
	__builtin_memcpy(m->saddr, s->saddr, sizeof(m->saddr));
	__builtin_memcpy(m->daddr, s->daddr, sizeof(m->daddr));
	m->ok = 1;
}

#endif /* XKV_XDP_HEADERS_H */
