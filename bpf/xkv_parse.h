/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_parse.h - bounded packet-header parsing, the one L2-L4 parser of the
 * XDP and the learning programs.
 *
 * Each helper takes a cursor, checks that the whole header it returns lies
 * before the cursor's end, advances the cursor past it and returns the
 * header (or NULL when the packet is too short). XDP runs the cursor over
 * the packet (data to data_end): the verifier sees one bounds check per
 * header, at a constant offset from the cursor. The learning programs run
 * it over a copy of the packet's first bytes in a map value (end: where the
 * copy ends), whose bounds the verifier knows from the value's size.
 */
#ifndef XKV_PARSE_H
#define XKV_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xkv_consts.h"

/**
 * struct xkv_cursor - where parsing has got to.
 * @pos: first byte not parsed yet
 * @end: the packet's data_end
 */
struct xkv_cursor {
	void *pos;
	void *end;
};

/* an 802.1Q / 802.1ad tag after the MAC addresses */
struct xkv_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/*
 * Take @len bytes at the cursor. A macro rather than a function so that
 * the bounds check and the use share one register the verifier tracks.
 */
#define xkv_take(c, len)                                                \
	({                                                              \
		void *__p = (c)->pos;                                   \
		void *__r = NULL;                                       \
		if (__p + (len) <= (c)->end) {                          \
			(c)->pos = __p + (len);                         \
			__r = __p;                                      \
		}                                                       \
		__r;                                                    \
	})

static __always_inline int xkv_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) ||
	       proto == bpf_htons(ETH_P_8021AD);
}

/**
 * xkv_parse_eth() - Ethernet header and up to XKV_MAX_VLANS tags.
 * @c:      cursor at the frame's start; left at the L3 header
 * @proto:  set to the inner EtherType (network order)
 * @nvlans: set to the number of tags
 *
 * Return: the Ethernet header, or NULL when truncated. A frame with more
 * tags than XKV_MAX_VLANS returns its third tag's EtherType in @proto
 * (which is a VLAN type, so the caller passes it).
 */
static __always_inline struct ethhdr *
xkv_parse_eth(struct xkv_cursor *c, __be16 *proto, __u32 *nvlans)
{
	struct xkv_vlan_hdr *vh;
	struct ethhdr *eth;
	__be16 p;
	__u32 n = 0;
	int i;

	eth = xkv_take(c, sizeof(*eth));
	if (!eth)
		return NULL;
	p = eth->h_proto;
#pragma unroll
	for (i = 0; i < XKV_MAX_VLANS; i++) {
		if (!xkv_is_vlan(p))
			break;
		vh = xkv_take(c, sizeof(*vh));
		if (!vh)
			return NULL;
		p = vh->proto;
		n++;
	}
	*proto = p;
	*nvlans = n;
	return eth;
}

/**
 * xkv_parse_ipv4_fixed() - IPv4 header without its options.
 * @c: cursor at the header; left at its options
 *
 * Return: the header, or NULL when truncated or not a valid IPv4 header
 * (version, IHL below 5).
 */
static __always_inline struct iphdr *xkv_parse_ipv4_fixed(struct xkv_cursor *c)
{
	struct iphdr *iph = xkv_take(c, sizeof(*iph));

	if (iph && (iph->version != 4 || iph->ihl < 5))
		return NULL;
	return iph;
}

/**
 * xkv_parse_ipv4() - IPv4 header, options included.
 * @c: cursor at the header; left after its options
 *
 * Return: the header, or NULL when truncated or not a valid IPv4 header
 * (version, IHL below 5).
 *
 * The checks of xkv_parse_ipv4_fixed() are written out here: built on it,
 * clang allocates registers differently, and the XDP program then costs
 * the verifier 155 instructions more.
 */
static __always_inline struct iphdr *xkv_parse_ipv4(struct xkv_cursor *c)
{
	struct iphdr *iph;
	__u32 hlen;

	iph = xkv_take(c, sizeof(*iph));
	if (!iph)
		return NULL;
	if (iph->version != 4 || iph->ihl < 5)
		return NULL;
	hlen = iph->ihl * 4;
	/* options: variable length, so check the new position itself */
	c->pos = (void *)iph + hlen;
	if (c->pos > c->end)
		return NULL;
	return iph;
}

/**
 * xkv_parse_ipv6() - fixed IPv6 header (extension headers are left to
 * the caller: XDP passes anything whose next header is not UDP, learning
 * walks them).
 * @c: cursor at the header; left after it
 *
 * Return: the header, or NULL when truncated or not version 6.
 */
static __always_inline struct ipv6hdr *xkv_parse_ipv6(struct xkv_cursor *c)
{
	struct ipv6hdr *ip6;

	ip6 = xkv_take(c, sizeof(*ip6));
	if (!ip6 || ip6->version != 6)
		return NULL;
	return ip6;
}

/**
 * xkv_parse_udp() - UDP header.
 * @c: cursor at the header; left at the payload
 *
 * Return: the header, or NULL when truncated.
 */
static __always_inline struct udphdr *xkv_parse_udp(struct xkv_cursor *c)
{
	return xkv_take(c, sizeof(struct udphdr));
}

/**
 * xkv_parse_tcp() - TCP header without its options.
 * @c: cursor at the header; left at its options
 *
 * Return: the header, or NULL when truncated. The caller checks @doff.
 */
static __always_inline struct tcphdr *xkv_parse_tcp(struct xkv_cursor *c)
{
	return xkv_take(c, sizeof(struct tcphdr));
}

/* the byte of a TCP header that holds the flags FIN ... CWR */
#define XKV_TCP_FLAGS_OFF 13

#endif /* XKV_PARSE_H */
