// SPDX-License-Identifier: GPL-2.0
/*
 * udp_policy.c - the UDP allowlist, address checks and reply budget.
 */
#include "udp.h"

static const u8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void clear_host_bits(struct xkv_net_prefix *pfx)
{
	u32 i;

	for (i = 0; i < pfx->alen; i++) {
		if (pfx->len >= (i + 1) * 8)
			continue;
		if (pfx->len <= i * 8)
			pfx->addr[i] = 0;
		else
			pfx->addr[i] &= (u8)(0xff00 >> (pfx->len - i * 8));
	}
}

/* "ADDR" or "ADDR/LEN" in the @n bytes at @s */
static int prefix_parse(const char *s, size_t n, struct xkv_net_prefix *pfx)
{
	const char *slash = os_memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	u32 len = 0, i;

	os_memset(pfx, 0, sizeof(*pfx));
	pfx->alen = (u8)os_inet_pton(s, alen, pfx->addr);
	if (!pfx->alen)
		return -EINVAL;
	if (!slash) {
		pfx->len = pfx->alen * 8;
		return 0;
	}
	if (alen + 1 == n || n - alen - 1 > 3)
		return -EINVAL;
	for (i = (u32)alen + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		len = len * 10 + (u32)(s[i] - '0');
	}
	if (len > pfx->alen * 8u)
		return -EINVAL;
	pfx->len = (u8)len;
	clear_host_bits(pfx);
	return 0;
}

int xkv_udp_allow_add(struct xkv_udp_policy *p,
		      const struct xkv_net_prefix *pfx)
{
	struct xkv_net_prefix c = *pfx;
	u32 i;

	clear_host_bits(&c);
	for (i = 0; i < p->nallow; i++) {
		if (p->allow[i].alen == c.alen && p->allow[i].len == c.len &&
		    !os_memcmp(p->allow[i].addr, c.addr, c.alen))
			return 0;
	}
	if (p->nallow == XKV_UDP_ALLOW_MAX)
		return -E2BIG;
	p->allow[p->nallow++] = c;
	return 0;
}

int xkv_udp_allow_parse(struct xkv_udp_policy *p, const char *list)
{
	struct xkv_net_prefix pfx;
	size_t n = os_strlen(list), at = 0, k;
	u32 count = 0;

	if (p)
		p->nallow = 0;
	if (n == 4 && !os_memcmp(list, "none", 4))
		return 0;
	if (n == 3 && !os_memcmp(list, "any", 3)) {
		if (p) {
			prefix_parse("0.0.0.0/0", 9, &p->allow[0]);
			prefix_parse("::/0", 4, &p->allow[1]);
			p->nallow = 2;
		}
		return 0;
	}
	while (at <= n) {
		const char *comma = os_memchr(list + at, ',', n - at);

		k = comma ? (size_t)(comma - list) - at : n - at;
		if (prefix_parse(list + at, k, &pfx) ||
		    ++count > XKV_UDP_ALLOW_MAX)
			return -EINVAL;
		if (p)
			xkv_udp_allow_add(p, &pfx);
		at += k + 1;
	}
	return 0;
}

/* an IPv6 address, its longest run of zero groups as "::" */
static size_t addr6_format(const u8 *a, char *buf, size_t len)
{
	u32 g[8], i, run = 0, best = 0, at = 8;
	size_t n = 0;
	int k;

	for (i = 0; i < 8; i++) {
		g[i] = (u32)a[2 * i] << 8 | a[2 * i + 1];
		run = g[i] ? 0 : run + 1;
		if (run > best && run > 1) {
			best = run;
			at = i + 1 - run;
		}
	}
	for (i = 0; i < 8 && n < len; i++) {
		if (i == at) {
			k = os_snprintf(buf + n, len - n, "::");
			i += best - 1;
		} else {
			k = os_snprintf(buf + n, len - n, "%s%x",
					i && i != at + best ? ":" : "", g[i]);
		}
		n += k < 0 ? 0 : (size_t)k;
	}
	return n;
}

static size_t addr_format(const struct xkv_net_prefix *pfx, char *buf,
			  size_t len)
{
	const u8 *a = pfx->addr;
	size_t n;
	int k;

	if (pfx->alen == 4) {
		k = os_snprintf(buf, len, "%u.%u.%u.%u/%u", a[0], a[1], a[2],
				a[3], pfx->len);
		return k < 0 ? 0 : (size_t)k;
	}
	n = addr6_format(a, buf, len);
	if (n >= len)
		return n;
	k = os_snprintf(buf + n, len - n, "/%u", pfx->len);
	return n + (k < 0 ? 0 : (size_t)k);
}

void xkv_udp_allow_format(const struct xkv_udp_policy *p, char *buf,
			  size_t len)
{
	size_t at = 0;
	u32 i;

	if (!len)
		return;
	buf[0] = '\0';
	if (!p->nallow) {
		os_snprintf(buf, len, "none");
		return;
	}
	for (i = 0; i < p->nallow && at + 1 < len; i++) {
		if (i)
			buf[at++] = ',';
		buf[at] = '\0';
		at += addr_format(&p->allow[i], buf + at, len - at);
	}
	if (at >= len)
		buf[len - 1] = '\0';
}

void xkv_udp_addr_set(struct xkv_udp_addr *a, const u8 *addr, u32 alen,
		      u16 port)
{
	os_memset(a, 0, sizeof(*a));
	a->port = port;
	if (alen == 16 && !os_memcmp(addr, v4_mapped, sizeof(v4_mapped))) {
		addr += sizeof(v4_mapped);
		alen = 4;
	}
	a->alen = (u8)alen;
	os_memcpy(a->addr, addr, alen);
}

/* multicast, broadcast, unspecified, or reserved: never a client */
static bool addr_is_group(const struct xkv_udp_addr *a)
{
	static const u8 zero[16];

	if (a->group)
		return true;
	if (a->alen == 4)
		return a->addr[0] >= 224 || !os_memcmp(a->addr, zero, 4);
	return a->addr[0] == 0xff || !os_memcmp(a->addr, zero, 16);
}

static bool prefix_match(const struct xkv_net_prefix *pfx,
			 const struct xkv_udp_addr *a)
{
	u32 whole = pfx->len / 8, bits = pfx->len % 8;

	if (pfx->alen != a->alen || os_memcmp(pfx->addr, a->addr, whole))
		return false;
	return !bits ||
	       !((pfx->addr[whole] ^ a->addr[whole]) & (u8)(0xff00 >> bits));
}

const char *xkv_udp_refused(const struct xkv_udp_policy *p,
			    const struct xkv_udp_addr *src,
			    const struct xkv_udp_addr *dst)
{
	u32 i;

	if (!src->port)
		return "source port 0";
	if (src->port == p->port)
		return "source port is the server's own";
	if (src->alen != 4 && src->alen != 16)
		return "unknown source";
	if (addr_is_group(src))
		return "source is not a unicast address";
	if (dst && dst->alen && addr_is_group(dst))
		return "sent to a broadcast or multicast address";
	for (i = 0; i < p->nallow; i++) {
		if (prefix_match(&p->allow[i], src))
			return NULL;
	}
	return "source not in the allowlist";
}

size_t xkv_udp_budget(const struct xkv_udp_policy *p, size_t req_len)
{
	size_t total = (size_t)XKV_UDP_MAX_DGRAMS * XKV_UDP_PAYLOAD;
	size_t whole, rest;

	if (p->amp_ratio && req_len <= total / p->amp_ratio)
		total = req_len * p->amp_ratio;
	whole = total / XKV_UDP_PAYLOAD;
	rest = total % XKV_UDP_PAYLOAD;
	return whole * XKV_UDP_CHUNK + (rest > XKV_UDP_HDR ?
					rest - XKV_UDP_HDR : 0);
}
