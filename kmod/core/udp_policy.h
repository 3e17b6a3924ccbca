/* SPDX-License-Identifier: GPL-2.0 */
/*
 * udp_policy.h - whom the store's UDP port answers, and how much.
 *
 * One policy for xkvd and xkv.ko, the same as the XDP program's
 * (bpf/xkv.bpf.c): a datagram gets a reply only when
 *
 *  - its source address is in the allowlist (IPv4 and IPv6 prefixes;
 *    an IPv4-mapped IPv6 address counts as the IPv4 address),
 *  - its source port is neither 0 nor the server's own UDP port (another
 *    memcached answering us would start a reply loop),
 *  - neither its source nor its destination is a broadcast or multicast
 *    address,
 *  - and it does not look like a reply itself (xkv_udp_request()).
 *
 * The reply budget: every datagram of a reply, frame header included,
 * adds up to at most amp_ratio times the request's UDP payload (frame
 * header included), as XDP's --amp-ratio counts it; amp_ratio 0 leaves
 * only the XKV_UDP_MAX_DGRAMS cap. The budget becomes the limit of the
 * session's output buffer before the request runs (xkv_buf_set_limit()),
 * so no reply larger than it is ever built.
 */
#ifndef XKV_CORE_UDP_POLICY_H
#define XKV_CORE_UDP_POLICY_H

#include "os.h"

/* most prefixes in an allowlist */
#define XKV_UDP_ALLOW_MAX 64
/* the default reply budget: reply bytes per request byte, as XDP's */
#define XKV_UDP_AMP_DEFAULT 64
/* the largest --udp-amp-ratio / udp_amp_ratio= */
#define XKV_UDP_AMP_MAX 1000000

/**
 * struct xkv_net_prefix - an IPv4 or IPv6 prefix.
 * @alen: address bytes, 4 (IPv4) or 16 (IPv6)
 * @len:  prefix length in bits
 * @addr: address, network order, host bits zero
 */
struct xkv_net_prefix {
	u8 alen;
	u8 len;
	u8 addr[16];
};

/**
 * struct xkv_udp_addr - one end of a datagram, as the transport saw it.
 * @alen:  4 or 16 (0: unknown); see xkv_udp_addr_set()
 * @group: the transport knows it is a broadcast or multicast address
 *         (xkvd and xkv.ko learn it from IP_PKTINFO for the destination)
 * @port:  port, host order
 * @addr:  address, network order
 */
struct xkv_udp_addr {
	u8 alen;
	bool group;
	u16 port;
	u8 addr[16];
};

/**
 * struct xkv_udp_policy - a UDP server's policy.
 * @amp_ratio: reply budget, see above; 0 for none
 * @port:      the server's own UDP port
 * @nallow:    prefixes in @allow
 * @allow:     the allowlist; empty answers nobody
 */
struct xkv_udp_policy {
	u32 amp_ratio;
	u32 port;
	u32 nallow;
	struct xkv_net_prefix allow[XKV_UDP_ALLOW_MAX];
};

/**
 * xkv_udp_allow_parse() - read an allowlist: "any", "none", or
 * PREFIX[,PREFIX...] with PREFIX an IPv4 or IPv6 address, optionally
 * followed by /LEN.
 * @p:    policy whose allowlist is replaced, or NULL only to check @list
 * @list: the text
 *
 * Return: 0, or -EINVAL (bad syntax, more than XKV_UDP_ALLOW_MAX).
 */
int xkv_udp_allow_parse(struct xkv_udp_policy *p, const char *list);

/**
 * xkv_udp_allow_add() - allow one more prefix (host bits are cleared).
 * @p:   policy
 * @pfx: prefix; one already in the list is not added twice
 *
 * Return: 0, or -E2BIG when the list is full.
 */
int xkv_udp_allow_add(struct xkv_udp_policy *p,
		      const struct xkv_net_prefix *pfx);

/**
 * xkv_udp_allow_format() - print the allowlist, "a/n,b/m" ("none" when
 * empty), truncated to fit.
 * @p:   policy
 * @buf: out
 * @len: size of @buf
 */
void xkv_udp_allow_format(const struct xkv_udp_policy *p, char *buf,
			  size_t len);

/**
 * xkv_udp_addr_set() - fill an address from raw bytes.
 * @a:    out
 * @addr: 4 or 16 bytes, network order; an IPv4-mapped IPv6 address is
 *        stored as IPv4
 * @alen: 4 or 16
 * @port: port, host order
 */
void xkv_udp_addr_set(struct xkv_udp_addr *a, const u8 *addr, u32 alen,
		      u16 port);

/**
 * xkv_udp_refused() - may a datagram from @src to @dst be answered?
 * @p:   policy
 * @src: its source
 * @dst: its destination; alen 0 when the transport does not know it
 *
 * Return: NULL when it may, else why not (for logs).
 */
const char *xkv_udp_refused(const struct xkv_udp_policy *p,
			    const struct xkv_udp_addr *src,
			    const struct xkv_udp_addr *dst);

/**
 * xkv_udp_budget() - the most reply bytes a request may draw.
 * @p:       policy
 * @req_len: the request's UDP payload, frame header included
 *
 * Return: bytes of reply payload (frame headers excluded) such that every
 * datagram of it, headers included, adds up to at most amp_ratio x
 * @req_len, and the reply takes at most XKV_UDP_MAX_DGRAMS datagrams.
 */
size_t xkv_udp_budget(const struct xkv_udp_policy *p, size_t req_len);

#endif /* XKV_CORE_UDP_POLICY_H */
