// SPDX-License-Identifier: GPL-2.0
/*
 * pkt.c - build request and reply frames for the XDP fixtures.
 *
 * Written from the RFCs (791, 768, 8200, 1071) and memcached's protocol
 * notes, without looking at the BPF program's code, so that a reply the
 * program builds is compared with one computed another way.
 */
#include <string.h>

#include "bytes.h"
#include "pkt.h"

const uint8_t pkt_client4[4] = { 10, 0, 0, 2 };
const uint8_t pkt_server4[4] = { 10, 0, 0, 1 };
const uint8_t pkt_client6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0,
				   0, 0, 0, 0, 0, 0, 0, 2 };
const uint8_t pkt_server6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0,
				   0, 0, 0, 0, 0, 0, 0, 1 };
const uint8_t pkt_client_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
const uint8_t pkt_server_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static const uint16_t vlan_tpid[3] = { 0x88a8, 0x8100, 0x8100 };

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t pkt_csum_add(uint32_t sum, const void *data, size_t len)
{
	return fold(sum16(sum, data, len));
}

/*
 * UDP checksum over pseudo-header + UDP header + payload, 0 -> 0xffff;
 * @mode PKT_CSUM_*: what a sender puts in the field.
 */
static uint16_t udp_csum_mode(const uint8_t *saddr, const uint8_t *daddr,
			      size_t alen, const uint8_t *udp, size_t ulen,
			      int mode)
{
	uint32_t sum = 0;
	uint16_t c;

	sum = sum16(sum, saddr, alen);
	sum = sum16(sum, daddr, alen);
	sum += 17;			/* protocol, zero-padded */
	sum += (uint32_t)ulen;		/* UDP length (32 bits on IPv6) */
	if (mode == PKT_CSUM_NONE)
		return 0;
	if (mode == PKT_CSUM_PARTIAL)	/* what checksum offload leaves */
		return fold(sum);
	sum = sum16(sum, udp, ulen);
	c = (uint16_t)~fold(sum);
	if (mode == PKT_CSUM_BAD)
		c = c == 1 ? 2 : c - 1;
	return c ? c : 0xffff;
}

static uint16_t udp_csum(const uint8_t *saddr, const uint8_t *daddr,
			 size_t alen, const uint8_t *udp, size_t ulen)
{
	return udp_csum_mode(saddr, daddr, alen, udp, ulen, PKT_CSUM_FULL);
}

/* Ethernet + tags; returns the offset of the L3 header */
static size_t put_l2(uint8_t *f, int nvlans, uint16_t type, bool reply)
{
	size_t off = 12;
	int i;

	memcpy(f, reply ? pkt_client_mac : pkt_server_mac, 6);
	memcpy(f + 6, reply ? pkt_server_mac : pkt_client_mac, 6);
	for (i = 0; i < nvlans; i++) {
		put16(f + off, vlan_tpid[i]);
		put16(f + off + 2, (uint16_t)(100 + i));	/* VID */
		off += 4;
	}
	put16(f + off, type);
	return off + 2;
}

void pkt_request(struct pkt *p, const struct pkt_opts *o, const void *text,
		 size_t len)
{
	uint8_t *f = p->b, *udp, *pay;
	const uint8_t *src = o->src;
	uint8_t proto = o->proto ? o->proto : 17;
	size_t l3, l4, hlen, ulen;
	int i;

	memset(p, 0, sizeof(*p));
	l3 = put_l2(f, o->nvlans, o->ipv6 ? 0x86dd : 0x0800, false);
	if (!o->ipv6) {
		int ihl = o->ihl ? o->ihl : 5;

		hlen = (size_t)ihl * 4;
		if (!src)
			src = pkt_client4;
		f[l3] = (uint8_t)(0x40 | (ihl & 0xf));
		f[l3 + 1] = 0;
		put16(f + l3 + 4, 0x1234);		/* id */
		put16(f + l3 + 6, o->frag);
		f[l3 + 8] = 64;
		f[l3 + 9] = proto;
		memcpy(f + l3 + 12, src, 4);
		memcpy(f + l3 + 16, o->dst ? o->dst : pkt_server4, 4);
		for (i = 20; i < (int)hlen; i++)
			f[l3 + i] = 1;			/* NOP options */
	} else {
		hlen = 40;
		if (!src)
			src = pkt_client6;
		put32(f + l3, 0x60000000);
		f[l3 + 6] = o->v6frag ? 44 : proto;
		f[l3 + 7] = 64;
		memcpy(f + l3 + 8, src, 16);
		memcpy(f + l3 + 24, o->dst ? o->dst : pkt_server6, 16);
		if (o->v6frag) {
			f[l3 + 40] = proto;		/* fragment header */
			put16(f + l3 + 42, 0x0001);	/* offset 0, M */
			put32(f + l3 + 44, 0xabcd);
			hlen += 8;
		}
	}
	l4 = l3 + hlen;
	udp = f + l4;
	pay = udp + 8;
	if (!o->no_frame) {
		put16(pay, o->id);
		put16(pay + 2, o->seq);
		put16(pay + 4, o->count_zero ? 0 : o->count ? o->count : 1);
		put16(pay + 6, o->reserved);
		pay += 8;
	}
	memcpy(pay, text, len);
	ulen = (size_t)(pay + len - udp);
	put16(udp, o->sport_zero ? 0 : o->sport ? o->sport : PKT_CLIENT_PORT);
	put16(udp + 2, o->dport ? o->dport : PKT_SERVER_PORT);
	put16(udp + 4, (uint16_t)ulen);
	if (!o->ipv6) {
		put16(f + l3 + 2, (uint16_t)(hlen + ulen));
		put16(f + l3 + 10, (uint16_t)~pkt_csum_add(0, f + l3, hlen));
		put16(udp + 6, udp_csum_mode(f + l3 + 12, f + l3 + 16, 4, udp,
					     ulen, o->csum));
	} else {
		put16(f + l3 + 4, (uint16_t)(hlen - 40 + ulen));
		put16(udp + 6, udp_csum_mode(f + l3 + 8, f + l3 + 24, 16, udp,
					     ulen, o->csum));
	}
	p->len = l4 + ulen;
	if (p->len < o->pad_to)
		p->len = o->pad_to;
}

void pkt_reply(struct pkt *p, const struct pkt_opts *o, const void *text,
	       size_t len)
{
	uint8_t *f = p->b, *udp, *pay;
	const uint8_t *client = o->src;
	size_t l3, l4, ulen;

	memset(p, 0, sizeof(*p));
	l3 = put_l2(f, o->nvlans, o->ipv6 ? 0x86dd : 0x0800, true);
	l4 = l3 + (o->ipv6 ? 40 : 20);
	udp = f + l4;
	pay = udp + 8;
	put16(pay, o->id);		/* the request's id */
	put16(pay + 2, 0);		/* sequence 0 */
	put16(pay + 4, 1);		/* one datagram */
	put16(pay + 6, 0);		/* reserved */
	memcpy(pay + 8, text, len);
	ulen = 8 + 8 + len;
	put16(udp, o->dport ? o->dport : PKT_SERVER_PORT);
	put16(udp + 2, o->sport ? o->sport : PKT_CLIENT_PORT);
	put16(udp + 4, (uint16_t)ulen);
	if (!o->ipv6) {
		if (!client)
			client = pkt_client4;
		f[l3] = 0x45;
		put16(f + l3 + 2, (uint16_t)(20 + ulen));
		put16(f + l3 + 6, 0x4000);		/* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = 17;
		memcpy(f + l3 + 12, o->dst ? o->dst : pkt_server4, 4);
		memcpy(f + l3 + 16, client, 4);
		put16(f + l3 + 10, (uint16_t)~pkt_csum_add(0, f + l3, 20));
		put16(udp + 6, udp_csum(f + l3 + 12, f + l3 + 16, 4, udp,
					ulen));
	} else {
		if (!client)
			client = pkt_client6;
		put32(f + l3, 0x60000000);
		put16(f + l3 + 4, (uint16_t)ulen);
		f[l3 + 6] = 17;
		f[l3 + 7] = 64;
		memcpy(f + l3 + 8, o->dst ? o->dst : pkt_server6, 16);
		memcpy(f + l3 + 24, client, 16);
		put16(udp + 6, udp_csum(f + l3 + 8, f + l3 + 24, 16, udp,
					ulen));
	}
	p->len = l4 + ulen;
}

int pkt_ethertype(const uint8_t *f, size_t len, size_t *off)
{
	size_t o = 12;

	while (o + 2 <= len &&
	       (get16(f + o) == 0x8100 || get16(f + o) == 0x88a8))
		o += 4;
	if (o + 2 > len)
		return -1;
	*off = o + 2;
	return get16(f + o);
}

const char *pkt_check_sums(const uint8_t *f, size_t len)
{
	size_t off, ulen;
	int type;
	uint32_t sum;

	type = pkt_ethertype(f, len, &off);
	if (type < 0)
		return "truncated L2";
	if (type == 0x0800) {
		size_t hlen = (size_t)(f[off] & 0xf) * 4;

		if (off + hlen + 8 > len)
			return "truncated IPv4";
		if (pkt_csum_add(0, f + off, hlen) != 0xffff)
			return "bad IPv4 header checksum";
		ulen = get16(f + off + hlen + 4);
		if (off + hlen + ulen > len)
			return "UDP length beyond the frame";
		sum = sum16(0, f + off + 12, 8);
		sum += 17 + (uint32_t)ulen;
		if (get16(f + off + hlen + 6) == 0)
			return NULL;		/* no checksum: allowed */
		if (pkt_csum_add(sum, f + off + hlen, ulen) != 0xffff)
			return "bad UDP checksum";
		return NULL;
	}
	if (type == 0x86dd) {
		if (off + 48 > len)
			return "truncated IPv6";
		ulen = get16(f + off + 44);
		if (off + 40 + ulen > len)
			return "UDP length beyond the frame";
		if (get16(f + off + 46) == 0)
			return "IPv6 UDP checksum missing";
		sum = sum16(0, f + off + 8, 32);
		sum += 17 + (uint32_t)ulen;
		if (pkt_csum_add(sum, f + off + 40, ulen) != 0xffff)
			return "bad UDP checksum";
		return NULL;
	}
	return "not IP";
}

