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

static __always_inline __u32 xl_hb16(const __u8 *b, __u32 off)
{
	return (__u32)b[off & 0xff] << 8 | b[(off + 1) & 0xff];
}

static __always_inline __u32 xl_hb32(const __u8 *b, __u32 off)
{
	return xl_hb16(b, off) << 16 | xl_hb16(b, off + 2);
}

/* xl_parse_hdr() results */
enum {
	XKV_LH_OK,		/* TCP or UDP, ports and payload known */
	XKV_LH_IGNORE,		/* not TCP/UDP over IP, or nothing of ours */
	XKV_LH_UNSURE,		/* IP we could not parse to the transport
				 * header: it may carry a write */
};

/*
 * Parse Ethernet (up to two tags), IPv4 or IPv6 (extension headers
 * walked) and the TCP or UDP header of @skb into s->h, from a copy of its
 * first XKV_LHDR_BUF bytes.
 */
__attribute__((noinline)) int xl_parse_hdr(struct __sk_buff *skb, __u32 which)
{
	struct xkv_lscratch *s = bpf_map_lookup_elem(&xkv_lscratch, &which);
	__u32 len = skb->len, n, off, proto, l3, tot, hl, nh, i, end;
	struct xkv_lhdr *h;
	__u8 *b;

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
	off = 12;
	proto = xl_hb16(b, off);
	for (i = 0; i < XKV_MAX_VLANS; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		off += 4;
		proto = xl_hb16(b, off);
	}
	off += 2;
	l3 = off;
	h->frag = 0;
	if (proto == ETH_P_IP) {
		__u32 fo;

		if (l3 + 20 > n || (b[l3 & 0xff] >> 4) != 4)
			return XKV_LH_IGNORE;
		hl = (b[l3 & 0xff] & 0xf) * 4;
		if (hl < 20)
			return XKV_LH_IGNORE;
		tot = xl_hb16(b, l3 + 2);
		fo = xl_hb16(b, l3 + 6);
		nh = b[(l3 + 9) & 0xff];
		if (fo & XKV_IP_OFFMASK)
			h->frag = XKV_LFRAG_LATER;
		else if (fo & XKV_IP_MF)
			h->frag = XKV_LFRAG_FIRST;
		h->v6 = 0;
		__builtin_memset(h->src, 0, sizeof(h->src));
		__builtin_memset(h->dst, 0, sizeof(h->dst));
		for (i = 0; i < 4; i++) {
			h->src[i] = b[(l3 + 12 + i) & 0xff];
			h->dst[i] = b[(l3 + 16 + i) & 0xff];
		}
		/* 0: GSO with a length too big for the field */
		end = tot ? l3 + tot : len;
		off = l3 + hl;
	} else if (proto == ETH_P_IPV6) {
		__u32 plen;

		if (l3 + 40 > n || (b[l3 & 0xff] >> 4) != 6)
			return XKV_LH_IGNORE;
		plen = xl_hb16(b, l3 + 4);
		nh = b[(l3 + 6) & 0xff];
		h->v6 = 1;
		for (i = 0; i < 16; i++) {
			h->src[i] = b[(l3 + 8 + i) & 0xff];
			h->dst[i] = b[(l3 + 24 + i) & 0xff];
		}
		end = plen ? l3 + 40 + plen : len;
		off = l3 + 40;
		for (i = 0; i < XKV_LEARN_V6_EXT_MAX; i++) {
			if (nh != 0 && nh != 43 && nh != 60 && nh != 44 &&
			    nh != 51)
				break;
			if (off + 8 > n)
				return XKV_LH_UNSURE;
			if (nh == 44) {		/* fragment */
				if (xl_hb16(b, off + 2) & 0xfff8)
					h->frag = XKV_LFRAG_LATER;
				else if (b[(off + 3) & 0xff] & 1)
					h->frag = XKV_LFRAG_FIRST;
				nh = b[off & 0xff];
				off += 8;
			} else if (nh == 51) {	/* AH */
				hl = (b[(off + 1) & 0xff] + 2) * 4;
				nh = b[off & 0xff];
				off += hl;
			} else {
				hl = (b[(off + 1) & 0xff] + 1) * 8;
				nh = b[off & 0xff];
				off += hl;
			}
		}
		if (nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51)
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
	if (nh == IPPROTO_UDP) {
		if (off + 8 > n)
			return XKV_LH_UNSURE;
		h->sport = bpf_htons(xl_hb16(b, off));
		h->dport = bpf_htons(xl_hb16(b, off + 2));
		h->ulen = xl_hb16(b, off + 4);
		h->ulen = h->ulen > 8 ? h->ulen - 8 : 0;
		h->tflags = 0;
		h->seq = 0;
		hl = 8;
	} else {
		if (off + 20 > n)
			return XKV_LH_UNSURE;
		h->sport = bpf_htons(xl_hb16(b, off));
		h->dport = bpf_htons(xl_hb16(b, off + 2));
		h->seq = xl_hb32(b, off + 4);
		h->tflags = b[(off + 13) & 0xff];
		hl = (b[(off + 12) & 0xff] >> 4) * 4;
		if (hl < 20)
			return XKV_LH_IGNORE;
	}
	h->poff = off + hl;
	h->plen = end > off + hl ? end - (off + hl) : 0;
	return XKV_LH_OK;
}

#endif /* XKV_LEARN_HDR_H */
