/* SPDX-License-Identifier: GPL-2.0 */
/*
 * send.h - turning the frame into the reply built in scratch memory.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_SEND_H
#define XKV_XDP_SEND_H

/*
 * s->psum for a body nobody summed: the body of UDP length @ulen in
 * out[XKV_OUT_BODY], padded to 4 bytes with zeros.
 * Return: 0, or -1 on a helper's error.
 */
static __always_inline int xkv_body_sum(struct xkv_scratch *s, __u32 ulen)
{
	__u32 len = ulen - 8 - XKV_FRAME_HDR;
	__s64 sum = 0;

	if (ulen < 8 + XKV_FRAME_HDR || len > XKV_BODY_MASK)
		return -1;
	*(__u32 *)(s->out + XKV_OUT_BODY + (len & XKV_BODY_MASK)) = 0;
	sum = xkv_csum_chunks(s->out + XKV_OUT_BODY, len,
			      (XKV_BODY_MASK + 1) / XKV_CSUM_CHUNK + 1, 0);
	if (sum < 0)
		return -1;
	s->psum = (__u64)sum;
	s->psum_ok = 1;
	return 0;
}

/* frames up to this many bytes are written without a helper */
#define XKV_SEND_DIRECT 128

/*
 * Write the @flen (8..XKV_SEND_DIRECT) bytes at @src over the frame, which
 * is exactly that long, in word stores: whole words, then the eight
 * bytes that end the frame (overlapping the last whole word with the
 * same bytes). A helper call per reply cost more than the copy.
 * Return: 0, or -1 when the frame is shorter than the verifier can see.
 */
static __always_inline int xkv_put_frame(struct xdp_md *ctx,
					 const __u8 *src, __u32 flen)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 k, last;

#pragma unroll
	for (k = 0; k < XKV_SEND_DIRECT / 8; k++) {
		if ((k + 1) * 8 > flen)
			break;
		if (data + (k + 1) * 8 > data_end)
			return -1;
		*(__u64 *)(data + k * 8) = *(const __u64 *)(src + k * 8);
	}
	last = xkv_bound(flen - 8, XKV_SEND_DIRECT - 1);
	if (data + last + 8 > data_end)
		return -1;
	*(__u64 *)(data + last) = *(const __u64 *)(src + last);
	return 0;
}

/**
 * xkv_put_ip4() - write the IPv4 header of a reply to @s's request.
 * @ip:     where it goes
 * @s:      the request: its addresses, swapped
 * @proto:  IPPROTO_UDP or IPPROTO_TCP
 * @l4_len: the bytes after the header
 *
 * No options, DF, TTL XKV_REPLY_TTL; the checksum is left 0 for the
 * caller to fill.
 */
static __always_inline void xkv_put_ip4(struct iphdr *ip,
					const struct xkv_scratch *s,
					__u8 proto, __u32 l4_len)
{
	*(__u8 *)ip = 0x45;		/* version 4, IHL 5 */
	ip->tos = 0;
	ip->tot_len = bpf_htons(sizeof(*ip) + l4_len);
	ip->id = 0;
	ip->frag_off = bpf_htons(XKV_IP_DF);
	ip->ttl = XKV_REPLY_TTL;
	ip->protocol = proto;
	ip->check = 0;
	ip->saddr = s->daddr[0];
	ip->daddr = s->saddr[0];
}

/**
 * xkv_put_ip6() - write the IPv6 header of a reply to @s's request.
 * @ip6:    where it goes
 * @s:      the request: its addresses, swapped
 * @proto:  IPPROTO_UDP or IPPROTO_TCP
 * @l4_len: the bytes after the header
 *
 * Traffic class and flow label 0, hop limit XKV_REPLY_TTL.
 */
static __always_inline void xkv_put_ip6(struct ipv6hdr *ip6,
					const struct xkv_scratch *s,
					__u8 proto, __u32 l4_len)
{
	*(__be32 *)ip6 = bpf_htonl(0x60000000);	/* v6, tc 0, flow 0 */
	ip6->payload_len = bpf_htons(l4_len);
	ip6->nexthdr = proto;
	ip6->hop_limit = XKV_REPLY_TTL;
	__builtin_memcpy(&ip6->saddr, s->daddr, 16);
	__builtin_memcpy(&ip6->daddr, s->saddr, 16);
}

/*
 * The body is complete in out[XKV_OUT_BODY]: put the frame, IP, UDP and
 * memcached headers before it, resize the frame and write it out.
 * Return: XKV_STAT_replies, a pass reason, or XKV_OUT_DROP.
 */
static __always_inline __u32 xkv_send(struct xdp_md *ctx,
				      struct xkv_scratch *s, __u32 ulen)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *o = s->out;
	__u32 l2 = s->l2_len, l3, start, flen, k;
	struct udphdr *udp = (void *)(o + XKV_OUT_L4);
	__u8 mac[ETH_ALEN];
	__u64 sum, old;
	int delta;

	if (l2 < sizeof(struct ethhdr) ||
	    l2 > sizeof(struct ethhdr) + XKV_MAX_VLANS * XKV_VLAN_HLEN ||
	    ulen > 8 + XKV_UDP_PAYLOAD_CAP)
		return XKV_STAT_errors;
	l3 = s->ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	start = (XKV_OUT_L4 - l3 - l2) & (XKV_OUT_L4 - 1);

	/*
	 * L2: the request's, addresses swapped, tags and type kept. Read
	 * from the frame in three words (the L2 header is 14..22 bytes and
	 * any UDP frame is longer than 24): what lies past it is overwritten
	 * by the IP header below.
	 */
	if (data + 24 > data_end)
		return XKV_STAT_errors;
	XKV_COPY_WORDS(o + start, data, 3);
	__builtin_memcpy(mac, o + start, ETH_ALEN);
	__builtin_memcpy(o + start, o + start + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(o + start + ETH_ALEN, mac, ETH_ALEN);

	/* UDP and memcached frame headers; the checksum comes last */
	udp->source = s->dport;
	udp->dest = s->sport;
	udp->len = bpf_htons(ulen);
	udp->check = 0;
	o[XKV_OUT_L4 + 8] = s->req[0];		/* request id */
	o[XKV_OUT_L4 + 9] = s->req[1];
	o[XKV_OUT_L4 + 10] = 0;			/* sequence 0 */
	o[XKV_OUT_L4 + 11] = 0;
	o[XKV_OUT_L4 + 12] = 0;			/* count 1 */
	o[XKV_OUT_L4 + 13] = 1;
	o[XKV_OUT_L4 + 14] = 0;			/* reserved 0 */
	o[XKV_OUT_L4 + 15] = 0;

	/*
	 * UDP checksum, from sums (csum.h): the pseudo-header, the UDP and
	 * frame headers, and the body's, which the entries brought along
	 * (s->psum_ok; a body written otherwise is summed here). All of it
	 * lies at even offsets: the header is 16 bytes.
	 */
	if (!s->psum_ok && xkv_body_sum(s, ulen))
		return XKV_STAT_errors;
	sum = s->psum + udp->source + udp->dest + 2 * (__u32)udp->len +
	      *(__u16 *)(o + XKV_OUT_L4 + 8) + bpf_htons(1);
	if (!s->ipv6) {
		struct iphdr *ip = (void *)(o + XKV_OUT_L4 - sizeof(*ip));
		__u32 *w = (__u32 *)ip, hsum;

		xkv_put_ip4(ip, s, IPPROTO_UDP, ulen);
		hsum = xkv_csum32(w[0]) + xkv_csum32(w[1]) + xkv_csum32(w[2]) +
		       xkv_csum32(w[3]) + xkv_csum32(w[4]);
		ip->check = xkv_csum_fold(hsum);
		sum += xkv_csum32(s->saddr[0]) + xkv_csum32(s->daddr[0]) +
		       bpf_htons(IPPROTO_UDP);
	} else {
		struct ipv6hdr *ip6 = (void *)(o + XKV_OUT_L4 - sizeof(*ip6));

		xkv_put_ip6(ip6, s, IPPROTO_UDP, ulen);
		for (k = 0; k < 4; k++)
			sum += xkv_csum32(s->saddr[k]) +
			       xkv_csum32(s->daddr[k]);
		sum += bpf_htons(IPPROTO_UDP);
	}
	udp->check = xkv_csum_fold(sum);
	if (!udp->check)
		udp->check = 0xffff;

	/* make the frame exactly as long as the reply, then write it */
	flen = l2 + l3 + ulen;
	/* the program takes no multi-buffer frames: the frame is linear */
	old = (__u64)(data_end - data);
	delta = (int)flen - (int)old;
	if (delta > 0 && (xkv_cfg.flags & XKV_CFG_HEAD_FIRST)) {
		if (bpf_xdp_adjust_head(ctx, -delta) &&
		    bpf_xdp_adjust_tail(ctx, delta))
			return XKV_STAT_pass_no_room;
	} else if (delta && bpf_xdp_adjust_tail(ctx, delta)) {
		/* no tailroom (veth): grow at the head instead */
		if (delta < 0 || bpf_xdp_adjust_head(ctx, -delta))
			return XKV_STAT_pass_no_room;
	}
	if (flen <= XKV_SEND_DIRECT ? xkv_put_frame(ctx, o + start, flen) :
	    bpf_xdp_store_bytes(ctx, 0, o + start, flen))
		return XKV_OUT_DROP;	/* resized already: cannot pass */
	return XKV_STAT_replies;
}

#endif /* XKV_XDP_SEND_H */
