// SPDX-License-Identifier: GPL-2.0
/*
 * tcppkt.c - build and read back TCP segments for the TCP fast path's
 * fixtures.
 *
 * Written from the RFCs (791, 8200, 9293, 7323, 2018, 1071), without the
 * BPF program's code, so that what the program writes is compared with
 * frames computed another way.
 */
#include <string.h>

#include "bytes.h"
#include "tcppkt.h"
#include "tap.h"

static const uint16_t vlan_tpid[2] = { 0x88a8, 0x8100 };

/* the options of @s, Linux's layout; returns their length (padded) */
static size_t put_opts(uint8_t *o, const struct tcpseg *s)
{
	size_t n = 0;
	int i;

	if (s->mss) {
		o[n++] = 2;
		o[n++] = 4;
		put16(o + n, s->mss);
		n += 2;
	}
	if (s->sack_ok && s->ts) {
		o[n++] = 4;
		o[n++] = 2;
	} else if (s->ts || s->sack_ok) {
		o[n++] = 1;
		o[n++] = 1;
	}
	if (s->ts) {
		o[n++] = 8;
		o[n++] = 10;
		put32(o + n, s->tsval);
		put32(o + n + 4, s->tsecr);
		n += 8;
	} else if (s->sack_ok) {
		o[n++] = 4;
		o[n++] = 2;
	}
	if (s->ws) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = (uint8_t)(s->ws - 1);
	}
	if (s->nsack) {
		if (s->nsack < 0 || s->nsack > TCPPKT_SACK_MAX)
			tap_bail("tcppkt: too many SACK blocks");
		o[n++] = 1;
		o[n++] = 1;
		o[n++] = 5;
		o[n++] = (uint8_t)(2 + 8 * s->nsack);
		for (i = 0; i < s->nsack; i++) {
			put32(o + n, s->sack[i][0]);
			put32(o + n + 4, s->sack[i][1]);
			n += 8;
		}
	}
	if (s->xlen > 40)
		tap_bail("tcppkt: options over 40 bytes");
	memcpy(o + n, s->xopt, s->xlen);
	n += s->xlen;
	while (n & 3)
		o[n++] = 0;		/* EOL padding */
	if (n > 40)
		tap_bail("tcppkt: options over 40 bytes");
	return n;
}

/* the pseudo-header's sum (RFC 9293 3.1, RFC 8200 8.1), unfolded */
static uint32_t pseudo_sum(const uint8_t *ip, bool ipv6, size_t tlen)
{
	uint32_t sum;

	if (!ipv6)
		sum = sum16(0, ip + 12, 8);
	else
		sum = sum16(0, ip + 8, 32);
	return sum + 6 + (uint32_t)tlen;
}

/* TCP checksum: pseudo-header + segment, folded, not inverted */
static uint16_t tcp_sum(const uint8_t *ip, bool ipv6, const uint8_t *tcp,
			size_t tlen)
{
	return pkt_csum_add(pseudo_sum(ip, ipv6, tlen), tcp, tlen);
}

void tcppkt_build(struct pkt *p, const struct tcpseg *s)
{
	const uint8_t *caddr = s->ipv6 ? pkt_client6 : pkt_client4;
	const uint8_t *saddr = s->ipv6 ? pkt_server6 : pkt_server4;
	uint16_t cport = s->cport ? s->cport : PKT_CLIENT_PORT;
	uint16_t sport = s->sport ? s->sport : PKT_SERVER_PORT;
	size_t l3, l4, alen = s->ipv6 ? 16 : 4, olen, thl, tlen;
	uint8_t *f = p->b, *ip, *th;
	uint16_t c;
	int i;

	memset(p, 0, sizeof(*p));
	/* L2: to the server from the client, or back */
	memcpy(f, s->out ? pkt_client_mac : pkt_server_mac, 6);
	memcpy(f + 6, s->out ? pkt_server_mac : pkt_client_mac, 6);
	l3 = 12;
	for (i = 0; i < s->nvlans && i < 2; i++) {
		put16(f + l3, vlan_tpid[i]);
		put16(f + l3 + 2, (uint16_t)(100 + i));
		l3 += 4;
	}
	put16(f + l3, s->ipv6 ? 0x86dd : 0x0800);
	l3 += 2;
	ip = f + l3;
	l4 = l3 + (s->ipv6 ? 40 : 20);
	th = f + l4;

	olen = put_opts(th + 20, s);
	thl = 20 + olen;
	tlen = thl + s->len;
	if (l4 + tlen > PKT_MAX)
		tap_bail("tcppkt: payload too long for a frame");
	put16(th, s->out ? sport : cport);
	put16(th + 2, s->out ? cport : sport);
	put32(th + 4, s->seq);
	put32(th + 8, s->ack);
	th[12] = (uint8_t)(thl / 4) << 4;
	th[13] = s->flags;
	put16(th + 14, s->win);
	if (s->len)
		memcpy(th + thl, s->data, s->len);

	if (!s->ipv6) {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + tlen));
		put16(ip + 4, s->xdp ? 0 : 0x1234);
		put16(ip + 6, 0x4000);			/* DF */
		ip[8] = 64;
		ip[9] = 6;
	} else {
		put32(ip, 0x60000000);
		put16(ip + 4, (uint16_t)tlen);
		ip[6] = 6;
		ip[7] = 64;
	}
	memcpy(ip + (s->ipv6 ? 8 : 12), s->out ? saddr : caddr, alen);
	memcpy(ip + (s->ipv6 ? 8 : 12) + alen, s->out ? caddr : saddr, alen);
	if (!s->ipv6)
		put16(ip + 10, (uint16_t)~pkt_csum_add(0, ip, 20));
	c = (uint16_t)~tcp_sum(ip, s->ipv6, th, tlen);
	if (s->partial)
		c = pkt_csum_add(pseudo_sum(ip, s->ipv6, tlen), NULL, 0);
	if (s->bad_csum)
		c = c == 1 ? 2 : c - 1;
	put16(th + 16, c);
	p->len = l4 + tlen;
}

const char *tcppkt_check(const uint8_t *f, size_t len, struct tcpview *v)
{
	size_t off, l4, tlen;
	bool ipv6;
	int type;

	memset(v, 0, sizeof(*v));
	type = pkt_ethertype(f, len, &off);
	if (type < 0)
		return "truncated L2";
	v->l3 = off;
	if (type == 0x0800) {
		if (off + 20 > len || f[off] != 0x45)
			return "not a plain IPv4 header";
		if (pkt_csum_add(0, f + off, 20) != 0xffff)
			return "bad IPv4 header checksum";
		if (f[off + 9] != 6)
			return "not TCP";
		if (off + get16(f + off + 2) != len)
			return "IPv4 length is not the frame's";
		l4 = off + 20;
		tlen = get16(f + off + 2) - 20u;
		ipv6 = false;
	} else if (type == 0x86dd) {
		if (off + 40 > len)
			return "truncated IPv6";
		if (f[off + 6] != 6)
			return "not TCP";
		if (off + 40 + get16(f + off + 4) != len)
			return "IPv6 length is not the frame's";
		l4 = off + 40;
		tlen = get16(f + off + 4);
		ipv6 = true;
	} else {
		return "not IP";
	}
	if (tlen < 20)
		return "truncated TCP";
	v->l4 = l4;
	v->hlen = (size_t)(f[l4 + 12] >> 4) * 4;
	if (v->hlen < 20 || v->hlen > tlen)
		return "bad TCP data offset";
	v->seq = get32(f + l4 + 4);
	v->ack = get32(f + l4 + 8);
	v->flags = f[l4 + 13];
	v->win = get16(f + l4 + 14);
	v->data = l4 + v->hlen;
	v->len = tlen - v->hlen;
	if (tcp_sum(f + off, ipv6, f + l4, tlen) != 0xffff)
		return "bad TCP checksum";
	return NULL;
}
