/* SPDX-License-Identifier: GPL-2.0 */
/*
 * csum.h - Internet checksums: folding a sum, and the request's UDP
 * checksum as the stack would check it.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_CSUM_H
#define XKV_XDP_CSUM_H

static __always_inline __u16 xkv_csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* pseudo-headers for the UDP checksum */
struct xkv_pseudo4 {
	__be32 saddr;
	__be32 daddr;
	__u8 zero;
	__u8 proto;
	__be16 len;
};

struct xkv_pseudo6 {
	__be32 saddr[4];
	__be32 daddr[4];
	__be32 len;
	__u8 zero[3];
	__u8 nexthdr;
};

#define XKV_CSUM_CHUNK 512	/* bpf_csum_diff()'s limit per call */

/*
 * Would the stack accept the request's UDP checksum? The payload is in
 * s->req. A sender's sum over the pseudo-header, the UDP header and the
 * payload folds to 0xffff. IPv4 may leave it out (0); IPv6 may not. A
 * local sender with checksum offload (lo, veth: XKV_CFG_CSUM_PARTIAL)
 * leaves only the pseudo-header sum in the field, as the stack trusts
 * such frames without checking.
 */
static __always_inline int xkv_csum_ok(struct xkv_scratch *s)
{
	__u32 plen = s->plen, clen, off, n, k;
	__u16 check = s->ucheck;
	__be16 uh[4];
	__s64 sum;

	if (!check)
		return !s->ipv6;
	if (plen > XKV_REQ_MAX)
		return 0;
	if (!s->ipv6) {
		struct xkv_pseudo4 ph = {
			.saddr = s->saddr[0],
			.daddr = s->daddr[0],
			.proto = IPPROTO_UDP,
			.len = bpf_htons(plen + sizeof(struct udphdr)),
		};

		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct xkv_pseudo6 ph = {
			.len = bpf_htonl(plen + sizeof(struct udphdr)),
			.nexthdr = IPPROTO_UDP,
		};

		__builtin_memcpy(ph.saddr, s->saddr, 16);
		__builtin_memcpy(ph.daddr, s->daddr, 16);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	if (sum < 0)
		return 0;
	if ((xkv_cfg.flags & XKV_CFG_CSUM_PARTIAL) &&
	    (__u16)~xkv_csum_fold(sum) == check)
		return 1;
	uh[0] = s->sport;
	uh[1] = s->dport;
	uh[2] = bpf_htons(plen + sizeof(struct udphdr));
	uh[3] = check;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)uh, sizeof(uh), sum);
	/* pad the payload to 4 bytes with zeros, which add nothing */
	s->req[plen & XKV_REQ_MASK] = 0;
	s->req[(plen + 1) & XKV_REQ_MASK] = 0;
	s->req[(plen + 2) & XKV_REQ_MASK] = 0;
	clen = (plen + 3) & ~3U;
	for (k = 0; k < XKV_REQ_MAX / XKV_CSUM_CHUNK; k++) {
		off = k * XKV_CSUM_CHUNK;
		if (sum < 0 || off >= clen)
			break;
		n = clen - off;
		if (n > XKV_CSUM_CHUNK)
			n = XKV_CSUM_CHUNK;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(s->req + off), n,
				    (__wsum)sum);
	}
	return sum >= 0 && !xkv_csum_fold(sum);
}

#endif /* XKV_XDP_CSUM_H */
