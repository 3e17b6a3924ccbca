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

/*
 * The reply's checksum is put together from sums of its pieces: every sum
 * here is of 16-bit words as loaded from memory (native order, as
 * bpf_csum_diff() and abi/xkv_hot.h's xkv_hot_csum() sum them), counted
 * from the start of the piece. A piece that lands at an odd offset from
 * where the checksum's words start adds its sum byte-swapped (RFC 1071).
 */

/* a 16-bit sum of a piece that starts at offset @at */
static __always_inline __u32 xkv_csum_at(__u32 sum16, __u32 at)
{
	__u32 r = (at & 1) * 8;

	return ((sum16 << r) | (sum16 >> r)) & 0xffff;
}

/* what byte @c at offset @at adds */
static __always_inline __u32 xkv_csum_byte(__u8 c, __u32 at)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return xkv_csum_at(c, at);
#else
	return xkv_csum_at((__u32)c << 8, at);
#endif
}

/* the two 16-bit words of a 32-bit field as stored */
static __always_inline __u32 xkv_csum32(__u32 v)
{
	return (v & 0xffff) + (v >> 16);
}

/* what "END\r\n" adds at offset @at */
static __always_inline __u32 xkv_csum_end(__u32 at)
{
	return xkv_csum_at(xkv_csum_byte('E', 0) + xkv_csum_byte('N', 1) +
				   xkv_csum_byte('D', 2) +
				   xkv_csum_byte('\r', 3) +
				   xkv_csum_byte('\n', 4),
			   at);
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
 * xkv_csum_chunks() - @sum plus the RFC 1071 sum of @buf[0..@len), @len
 * rounded up to 4 bytes (the caller zeroed the padding), one
 * bpf_csum_diff() per XKV_CSUM_CHUNK bytes, at most @chunks of them
 * (a constant: the loop's bound for the verifier).
 * Return: the sum (unfolded), or a negative helper error.
 */
static __always_inline __s64 xkv_csum_chunks(const __u8 *buf, __u32 len,
					     __u32 chunks, __s64 sum)
{
	__u32 clen = (len + 3) & ~3U, off, n, k;

	for (k = 0; k < chunks; k++) {
		off = k * XKV_CSUM_CHUNK;
		if (sum < 0 || off >= clen)
			break;
		n = clen - off;
		if (n > XKV_CSUM_CHUNK)
			n = XKV_CSUM_CHUNK;
		/* changes nothing, but bounds n for every verifier: 6.1's
		 * loses the bound when clang tests a copy of n */
		n = xkv_bound(n, 2 * XKV_CSUM_CHUNK - 1);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(buf + off), n,
				    (__wsum)sum);
	}
	return sum;
}

/*
 * The request payload's sum: s->req[0..@plen) in 8-byte words, the last
 * one padded with zeros (which add nothing). Run bounds: @plen is at
 * most XKV_REQ_MAX and req[] has room for the padding.
 */
static __always_inline __u64 xkv_req_sum(struct xkv_scratch *s, __u32 plen)
{
	__u64 sum = 0, w;
	__u32 k;

	*(__u64 *)(s->req + (plen & XKV_REQ_MASK)) = 0;
	for (k = 0; k < XKV_REQ_MAX / 8; k++) {
		if (k * 8 >= plen)
			break;
		w = *(const __u64 *)(s->req + k * 8);
		sum += (w & 0xffffffff) + (w >> 32);
	}
	return sum;
}

/*
 * Would the stack accept the request's UDP checksum? The payload is in
 * s->req. A sender's sum over the pseudo-header, the UDP header and the
 * payload folds to 0xffff. IPv4 may leave it out (0); IPv6 may not. A
 * local sender with checksum offload (lo, veth: XKV_CFG_CSUM_PARTIAL)
 * leaves only the pseudo-header sum in the field, as the stack trusts
 * such frames without checking. Summed inline: a handful of words, where
 * a helper call costs more than the sum; or taken along by whoever read
 * the payload (s->rsum_ok).
 */
static __always_inline int xkv_csum_ok(struct xkv_scratch *s)
{
	__u32 plen = s->plen, ulen, k;
	__u16 check = s->ucheck;
	__u64 sum;

	if (!check)
		return !s->ipv6;
	if (plen > XKV_REQ_MAX)
		return 0;
	ulen = bpf_htons(plen + sizeof(struct udphdr));
	/* the pseudo-header: addresses, protocol, UDP length */
	sum = bpf_htons(IPPROTO_UDP) + ulen;
	if (!s->ipv6) {
		sum += xkv_csum32(s->saddr[0]) + xkv_csum32(s->daddr[0]);
	} else {
		for (k = 0; k < 4; k++)
			sum += xkv_csum32(s->saddr[k]) +
			       xkv_csum32(s->daddr[k]);
	}
	if ((xkv_cfg.flags & XKV_CFG_CSUM_PARTIAL) &&
	    (__u16)~xkv_csum_fold(sum) == check)
		return 1;
	/* the UDP header, its checksum field as sent, and the payload */
	sum += s->sport + s->dport + ulen + check +
	       (s->rsum_ok ? s->rsum : xkv_req_sum(s, plen));
	return !xkv_csum_fold(sum);
}

#endif /* XKV_XDP_CSUM_H */
