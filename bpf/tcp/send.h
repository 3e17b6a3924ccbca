/* SPDX-License-Identifier: GPL-2.0 */
/*
 * send.h - XDP: turn the frame into a TCP reply segment whose payload is
 * at out[XKV_OUT_BODY] and whose header fields are in s->tcp.r_*.
 *
 * Part of the XDP object, compiled as one unit by bpf/xkv.bpf.c.
 */
#ifndef XKV_TCP_SEND_H
#define XKV_TCP_SEND_H

/* TCP header with the timestamp option, as the kernel lays it out */
#define XKV_TCP_HLEN_TS 32

/* where the reply frame starts in out[], and its headers' lengths */
static __always_inline __u32 xkv_tcp_layout(const struct xkv_scratch *s,
					    __u32 *th, __u32 *l3)
{
	*th = s->tcp.r_ts ? XKV_TCP_HLEN_TS : sizeof(struct tcphdr);
	*l3 = s->ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	return (XKV_OUT_BODY - *th - *l3 - s->l2_len) & (XKV_OUT_L4 - 1);
}

/*
 * Before anything is committed: copy the request's L2 header (addresses
 * swapped) in front of where the reply goes, and make the frame exactly
 * as long as the reply. A driver may not have the room (veth has 256
 * bytes of headroom and no tailroom): then the request is passed,
 * untouched, and nothing was promised.
 * Return: 0, or a TCP stat id to pass.
 */
__attribute__((noinline)) int xkv_tcp_fit(struct xdp_md *ctx,
					  struct xkv_scratch *s)
{
	__u32 l2, l3, th, start, flen;
	__u8 mac[ETH_ALEN];
	__u8 *o;
	__u64 old;
	int delta;

	if (!s)
		return XKV_TCP_STAT_errors;
	o = s->out;
	l2 = s->l2_len;
	if (l2 < sizeof(struct ethhdr) ||
	    l2 > sizeof(struct ethhdr) + XKV_MAX_VLANS * XKV_VLAN_HLEN ||
	    s->tcp.r_len > XKV_TCP_REPLY_MAX)
		return XKV_TCP_STAT_errors;
	start = xkv_tcp_layout(s, &th, &l3);

	/* L2: the request's, addresses swapped, tags and type kept */
	if (bpf_xdp_load_bytes(ctx, 0, o + start, l2))
		return XKV_TCP_STAT_errors;
	__builtin_memcpy(mac, o + start, ETH_ALEN);
	__builtin_memcpy(o + start, o + start + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(o + start + ETH_ALEN, mac, ETH_ALEN);

	flen = l2 + l3 + th + s->tcp.r_len;
	old = bpf_xdp_get_buff_len(ctx);
	delta = (int)flen - (int)old;
	if (delta && (xkv_cfg.flags & XKV_CFG_HEAD_ONLY)) {
		if (bpf_xdp_adjust_head(ctx, -delta))
			return XKV_TCP_STAT_pass_too_big;
	} else if (delta > 0 && (xkv_cfg.flags & XKV_CFG_HEAD_FIRST)) {
		if (bpf_xdp_adjust_head(ctx, -delta) &&
		    bpf_xdp_adjust_tail(ctx, delta))
			return XKV_TCP_STAT_pass_too_big;
	} else if (delta && bpf_xdp_adjust_tail(ctx, delta)) {
		if (delta < 0 || bpf_xdp_adjust_head(ctx, -delta))
			return XKV_TCP_STAT_pass_too_big;
	}
	return 0;
}

/* halvings xkv_tcp_fit_again() tries: 1408 bytes down to 11 */
#define XKV_TCP_PIECE_TRIES 8

/*
 * Make the frame hold as much of a kept reply as it can: all of it, or
 * the longest of its halves, quarters ... that fits. A retransmitted
 * request may come in a smaller buffer than the one its reply was first
 * sent in (veth's buffers differ from frame to frame), and a duplicate
 * ACK is smaller still: if the kept reply did not go out whole, nothing
 * would ever send it. A piece carries the request's start as its ACK
 * (s->tcp.r_ack_part), so the client keeps the request unacknowledged:
 * its ACK of the piece, or its next retransmission, gets the rest.
 * Return: 0, or a TCP stat id (nothing fits: the caller drops the
 * frame).
 */
__attribute__((noinline)) int xkv_tcp_fit_again(struct xdp_md *ctx,
						struct xkv_scratch *s)
{
	__u32 whole, k;

	if (!s)
		return XKV_TCP_STAT_errors;
	whole = s->tcp.r_len;
	for (k = 0; k < XKV_TCP_PIECE_TRIES; k++) {
		s->tcp.r_len = (whole + (1U << k) - 1) >> k;
		if (xkv_tcp_fit(ctx, s))
			continue;
		if (k) {
			s->tcp.r_ack = s->tcp.r_ack_part;
			xkv_tcp_count(XKV_TCP_STAT_resent_part);
		}
		return 0;
	}
	xkv_tcp_count(XKV_TCP_STAT_errors);
	return XKV_TCP_STAT_errors;
}

/*
 * Build the IP and TCP headers in front of the payload, between the L2
 * header and the payload xkv_tcp_fit() placed, the TCP checksum over all
 * of it, and write the frame (already of the reply's length).
 * Return: 0 when the frame is the reply, else a TCP stat id (the frame
 * was resized: the caller drops it).
 */
__attribute__((noinline)) int xkv_tcp_send(struct xdp_md *ctx,
					   struct xkv_scratch *s)
{
	__u32 l2, l3, th, start, len, flen;
	struct xkv_tcp_seg *g;
	struct tcphdr *tcp;
	__u8 *o;
	__s64 sum;

	if (!s)
		return XKV_TCP_STAT_errors;
	g = &s->tcp;
	o = s->out;
	l2 = s->l2_len;
	len = g->r_len;
	if (l2 < sizeof(struct ethhdr) ||
	    l2 > sizeof(struct ethhdr) + XKV_MAX_VLANS * XKV_VLAN_HLEN ||
	    len > XKV_TCP_REPLY_MAX)
		return XKV_TCP_STAT_errors;
	/* changes nothing, but a bound in the register itself: 6.1's
	 * verifier does not carry the test above to a copy clang spilled */
	len = xkv_bound(len, XKV_BODY_MASK);
	start = xkv_tcp_layout(s, &th, &l3);
	tcp = (void *)(o + ((XKV_OUT_BODY - th) & (XKV_OUT_L4 - 1)));

	/* TCP: ACK|PSH, and the timestamps when they were negotiated */
	tcp->source = g->key.sport;
	tcp->dest = g->key.cport;
	tcp->seq = bpf_htonl(g->r_seq);
	tcp->ack_seq = bpf_htonl(g->r_ack);
	((__u8 *)tcp)[12] = (__u8)(th / 4) << 4;
	((__u8 *)tcp)[XKV_TCP_FLAGS_OFF] = XKV_TCPF_ACK | XKV_TCPF_PSH;
	tcp->window = g->r_win;
	tcp->check = 0;
	tcp->urg_ptr = 0;
	if (g->r_ts) {
		__u8 *opt = (__u8 *)(tcp + 1);

		opt[0] = XKV_TCPOPT_NOP;
		opt[1] = XKV_TCPOPT_NOP;
		opt[2] = XKV_TCPOPT_TS;
		opt[3] = 10;
		*(__be32 *)(opt + 4) = bpf_htonl(g->r_tsval);
		*(__be32 *)(opt + 8) = bpf_htonl(g->r_tsecr);
	}

	if (!s->ipv6) {
		struct iphdr *ip = (void *)(o + start + l2);
		struct xkv_pseudo4 ph = {
			.saddr = s->daddr[0],
			.daddr = s->saddr[0],
			.proto = IPPROTO_TCP,
			.len = bpf_htons(th + len),
		};

		if ((void *)ip + sizeof(*ip) > (void *)tcp)
			return XKV_TCP_STAT_errors;
		xkv_put_ip4(ip, s, IPPROTO_TCP, th + len);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)ip, sizeof(*ip), 0);
		if (sum < 0)
			return XKV_TCP_STAT_errors;
		ip->check = xkv_csum_fold(sum);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct ipv6hdr *ip6 = (void *)(o + start + l2);
		struct xkv_pseudo6 ph = {
			.len = bpf_htonl(th + len),
			.nexthdr = IPPROTO_TCP,
		};

		if ((void *)ip6 + sizeof(*ip6) > (void *)tcp)
			return XKV_TCP_STAT_errors;
		__builtin_memcpy(ph.saddr, s->daddr, 16);
		__builtin_memcpy(ph.daddr, s->saddr, 16);
		xkv_put_ip6(ip6, s, IPPROTO_TCP, th + len);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	if (sum < 0)
		return XKV_TCP_STAT_errors;

	sum = bpf_csum_diff(NULL, 0, (__be32 *)tcp, th & 0x3c, sum);
	/*
	 * The payload: a reply just built brings its sum (s->psum, from the
	 * entries' sums; the TCP header is an even number of bytes, so the
	 * body's offsets keep their parity). A kept reply sent again is
	 * summed, padded to 4 bytes with zeros.
	 */
	if (s->psum_ok && sum >= 0) {
		tcp->check = xkv_csum_fold((__u64)sum + s->psum);
		goto write;
	}
	*(__u32 *)(o + XKV_OUT_BODY + (len & XKV_BODY_MASK)) = 0;
	sum = xkv_csum_chunks(o + XKV_OUT_BODY, len,
			      XKV_TCP_REPLY_MAX / XKV_CSUM_CHUNK + 1, sum);
	if (sum < 0)
		return XKV_TCP_STAT_errors;
	tcp->check = xkv_csum_fold(sum);
write:

	flen = l2 + l3 + th + len;
	if (bpf_xdp_store_bytes(ctx, 0, o + start, flen))
		return XKV_TCP_STAT_errors;
	return 0;
}

#endif /* XKV_TCP_SEND_H */
