// SPDX-License-Identifier: GPL-2.0
/*
 * test_udp_policy.c - the UDP policy (kmod/core/udp_policy.h) and the one
 * settings check (xkv_settings_check()) that xkvd and xkv.ko share.
 */
#include "store.h"
#include "tap.h"
#include "udp.h"

static void addr4(struct xkv_udp_addr *a, u8 a0, u8 a1, u8 a2, u8 a3,
		  u16 port)
{
	const u8 b[4] = { a0, a1, a2, a3 };

	xkv_udp_addr_set(a, b, 4, port);
}

static void test_parse(void)
{
	struct xkv_udp_policy p = { 0 };
	char buf[256];

	tap_ok(!xkv_udp_allow_parse(&p, "10.1.2.3/8,::1,fe80::/10"),
	       "allowlist of three prefixes parses");
	tap_is_u64(p.nallow, 3, "three prefixes");
	xkv_udp_allow_format(&p, buf, sizeof(buf));
	tap_is_str(buf, "10.0.0.0/8,::1/128,fe80::/10",
		   "host bits cleared, printed back");
	xkv_udp_allow_parse(&p, "2001:db8:0:0:1:0:0:1,::,1:0:2::3:0:0/128");
	xkv_udp_allow_format(&p, buf, sizeof(buf));
	tap_is_str(buf, "2001:db8::1:0:0:1/128,::/128,1:0:2::3:0:0/128",
		   "IPv6 printed with the longest zero run as ::");
	tap_ok(!xkv_udp_allow_parse(&p, "none") && !p.nallow, "none: empty");
	tap_ok(!xkv_udp_allow_parse(&p, "any") && p.nallow == 2, "any: two");
	tap_ok(xkv_udp_allow_parse(NULL, "10.0.0.0/33"), "IPv4 /33 refused");
	tap_ok(xkv_udp_allow_parse(NULL, "::/129"), "IPv6 /129 refused");
	tap_ok(xkv_udp_allow_parse(NULL, "10.0.0.1,"), "trailing comma");
	tap_ok(xkv_udp_allow_parse(NULL, ""), "empty list refused");
	tap_ok(xkv_udp_allow_parse(NULL, "10.0.0/8"), "short address");
	tap_ok(xkv_udp_allow_parse(NULL, "10.0.0.0/"), "slash, no length");
	tap_ok(xkv_udp_allow_parse(NULL, "host.example"), "a name refused");
}

static void test_refused(void)
{
	struct xkv_udp_policy p = { .port = 11211 };
	struct xkv_udp_addr src, dst;
	const u8 mapped[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 7 };
	const u8 mcast6[16] = { 0xff, 2, [15] = 1 };

	xkv_udp_allow_parse(&p, "10.0.0.0/8,fd00::/8");
	addr4(&dst, 10, 0, 0, 1, 11211);
	addr4(&src, 10, 0, 0, 7, 40000);
	tap_ok(!xkv_udp_refused(&p, &src, &dst), "allowed client answered");
	addr4(&src, 10, 0, 0, 7, 0);
	tap_ok(xkv_udp_refused(&p, &src, &dst) != NULL, "source port 0");
	addr4(&src, 10, 0, 0, 7, 11211);
	tap_ok(xkv_udp_refused(&p, &src, &dst) != NULL, "our own port");
	addr4(&src, 11, 0, 0, 7, 40000);
	tap_ok(xkv_udp_refused(&p, &src, &dst) != NULL, "outside the list");
	addr4(&src, 255, 255, 255, 255, 40000);
	tap_ok(xkv_udp_refused(&p, &src, &dst) != NULL, "broadcast source");
	addr4(&src, 10, 0, 0, 7, 40000);
	addr4(&dst, 224, 0, 0, 1, 11211);
	tap_ok(xkv_udp_refused(&p, &src, &dst) != NULL, "multicast dest");
	addr4(&dst, 10, 255, 255, 255, 11211);
	dst.group = true;
	tap_ok(xkv_udp_refused(&p, &src, &dst) != NULL,
	       "destination the transport saw as broadcast");
	memset(&dst, 0, sizeof(dst));
	xkv_udp_addr_set(&src, mapped, 16, 40000);
	tap_ok(src.alen == 4 && !xkv_udp_refused(&p, &src, &dst),
	       "IPv4-mapped source matches the IPv4 prefix");
	xkv_udp_addr_set(&src, mcast6, 16, 40000);
	tap_ok(xkv_udp_refused(&p, &src, &dst) != NULL, "ff02::1 source");
	xkv_udp_allow_parse(&p, "none");
	addr4(&src, 10, 0, 0, 7, 40000);
	tap_ok(xkv_udp_refused(&p, &src, &dst) != NULL, "none answers nobody");
}

static void test_budget(void)
{
	struct xkv_udp_policy p = { .amp_ratio = 64 };

	/* 19 x 64 = 1216 bytes: one datagram of 1208 reply bytes */
	tap_is_u64(xkv_udp_budget(&p, 19), 1208, "19-byte request, ratio 64");
	/* 100 x 64 = 6400: 4 full datagrams (5600) + 800 - 8 */
	tap_is_u64(xkv_udp_budget(&p, 100), 4 * 1392 + 792,
		   "100-byte request, ratio 64");
	p.amp_ratio = 1;
	tap_is_u64(xkv_udp_budget(&p, 8), 0, "ratio 1: a bare header, none");
	p.amp_ratio = 0;
	tap_is_u64(xkv_udp_budget(&p, 19), (u64)XKV_UDP_MAX_DGRAMS * 1392,
		   "no ratio: the datagram cap");
	p.amp_ratio = 1000000;
	tap_is_u64(xkv_udp_budget(&p, 65535), (u64)XKV_UDP_MAX_DGRAMS * 1392,
		   "a huge ratio stops at the cap");
}

static void check_bad(struct xkv_settings *s, const char *name)
{
	const char *why = NULL;

	tap_ok(xkv_settings_check(s, &why) == -EINVAL && why &&
	       strstr(why, name), "refused, naming %s: %s", name,
	       why ? why : "(none)");
	xkv_settings_default(s, 2);
}

static void test_settings(void)
{
	struct xkv_settings s;
	const char *why = "x";

	xkv_settings_default(&s, 2);
	tap_ok(!xkv_settings_check(&s, &why) && !why, "defaults pass");
	tap_is_u64(s.udp_port, 0, "UDP is off by default");
	tap_is_u64(s.udp_amp_ratio, 64, "default ratio 64");
	/* issue 8 finding 12: between half and all of max_item_size */
	s.chunk_min = s.item_size_max / 2 + 1;
	check_bad(&s, "slab_min_size");
	s.item_size_max = (u32)(s.maxbytes / 2) + 1;
	check_bad(&s, "max_item_size");
	s.tcp_port = 0;
	check_bad(&s, "nothing to serve");
	s.udp_allow = "10.0.0.0/40";
	check_bad(&s, "udp_allow");
	s.udp_amp_ratio = 1000001;
	check_bad(&s, "udp_amp_ratio");
	s.threads = 0;
	check_bad(&s, "threads");
	s.growth_x100 = 100;
	check_bad(&s, "slab_growth_factor");
	s.chunk_min = s.item_size_max / 2;
	tap_ok(!xkv_settings_check(&s, NULL), "exactly half passes");
	s.chunk_min = s.item_size_max / 2 + 1;
	tap_ok(!xkv_store_create(&s, 1), "the store refuses what it refuses");
}

int main(void)
{
	test_parse();
	test_refused();
	test_budget();
	test_settings();
	return tap_done();
}
