// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_udp.c - libFuzzer target for the UDP path: a datagram in,
 * xkv_udp_request() out, every reply checked against the policy.
 *
 * One store lives for the whole run, preloaded with a 200 KB value ("big"),
 * a 5000-byte one ("mid") and small ones ("a".."h"), so that a short get
 * can ask for far more than its budget; what an input stores stays for the
 * next ones. The first input byte picks the reply ratio and the second the
 * source (port 0, the server's own port, a broadcast address, outside the
 * allowlist, or a normal client); the rest is the datagram, frame header
 * included. abort() on any violation:
 *
 *  - a reply whose datagrams, frame headers included, add up to more than
 *    ratio x the datagram (or more than XKV_UDP_MAX_DGRAMS datagrams), or
 *    whose headers do not echo the request id and number the datagrams;
 *  - any reply to a refused source, to a datagram that claims to be part
 *    of a multi-datagram message, or to one that starts like a reply;
 *  - an output buffer that grew past the budget (it may keep up to 64 KiB
 *    from before): the memory bound of issue 8, finding 1.
 *
 * Run: build/fuzz/fuzz_udp -dict=tests/fuzz/proto.dict CORPUS_DIR...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "store.h"
#include "udp.h"

/* The platform's log level (kmod/user defines it for xkvd). */
int xkv_os_verbose __attribute__((weak));

#define FUZZ_MAXBYTES (16ULL << 20)
#define FUZZ_PORT 11211
/* xkv_buf keeps up to this much storage across requests (buf.c) */
#define FUZZ_BUF_KEEP (64 * 1024)

static const u32 ratios[] = { 64, 0, 1, 10, 1000 };

static struct xkv_store *fuzz_store;
static struct xkv_sess *fuzz_sess;
static struct xkv_udp_policy fuzz_pol;
static u8 (*fuzz_hdr)[XKV_UDP_HDR];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void preload(const char *key, size_t n)
{
	struct xkv_sess *s = fuzz_sess;
	char line[64];
	char *v = malloc(n + 2);
	int len;

	if (!v)
		abort();
	memset(v, 'v', n);
	memcpy(v + n, "\r\n", 2);
	len = snprintf(line, sizeof(line), "set %s 0 0 %zu\r\n", key, n);
	xkv_sess_reset(s);
	xkv_sess_input(s, line, (size_t)len);
	xkv_sess_input(s, v, n + 2);
	free(v);
}

static void fuzz_init(void)
{
	struct xkv_settings set;
	const char *k;

	xkv_settings_default(&set, 1);
	set.maxbytes = FUZZ_MAXBYTES;
	set.threads = 1;
	set.debug_clock = true;
	fuzz_store = xkv_store_create(&set, 1);
	fuzz_sess = fuzz_store ?
		xkv_sess_new(fuzz_store, xkv_store_stats_slot(fuzz_store, 0),
			     true) : NULL;
	fuzz_hdr = calloc(XKV_UDP_MAX_DGRAMS, sizeof(*fuzz_hdr));
	if (!fuzz_sess || !fuzz_hdr ||
	    xkv_udp_allow_parse(&fuzz_pol, "127.0.0.0/8,10.0.0.0/8,::1"))
		abort();
	fuzz_pol.port = FUZZ_PORT;
	preload("big", 200000);
	preload("mid", 5000);
	for (k = "abcdefgh"; *k; k++) {
		char key[2] = { *k, 0 };

		preload(key, 100);
	}
}

static bool starts_like_reply(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] == ' ')
		i++;
	return i < n && ((p[i] >= 'A' && p[i] <= 'Z') ||
			 (p[i] >= '0' && p[i] <= '9'));
}

/* the source of this input, and whether the policy must refuse it */
static bool pick_source(uint8_t sel, struct xkv_udp_addr *src,
			struct xkv_udp_addr *dst)
{
	static const u8 client[4] = { 10, 1, 2, 3 };
	static const u8 outside[4] = { 192, 0, 2, 1 };
	static const u8 server[4] = { 10, 0, 0, 1 };
	static const u8 bcast[4] = { 10, 255, 255, 255 };
	static const u8 mcast6[16] = { 0xff, 2, [15] = 1 };

	xkv_udp_addr_set(dst, server, 4, FUZZ_PORT);
	switch (sel % 8) {
	case 0:
		xkv_udp_addr_set(src, client, 4, 0);
		return true;
	case 1:
		xkv_udp_addr_set(src, client, 4, FUZZ_PORT);
		return true;
	case 2:
		xkv_udp_addr_set(src, client, 4, 40000);
		xkv_udp_addr_set(dst, bcast, 4, FUZZ_PORT);
		dst->group = true;
		return true;
	case 3:
		xkv_udp_addr_set(src, outside, 4, 40000);
		return true;
	case 4:
		xkv_udp_addr_set(src, mcast6, 16, 40000);
		return true;
	default:
		xkv_udp_addr_set(src, client, 4, (u16)(1024 + sel));
		return false;
	}
}

static void check_reply(const struct xkv_udp_reply *r, const uint8_t *d,
			size_t len, u32 ratio)
{
	u32 id = (u32)d[0] << 8 | d[1], k;
	size_t total = 0;

	if (r->ndg > XKV_UDP_MAX_DGRAMS)
		abort();
	for (k = 0; k < r->ndg; k++) {
		const u8 *h = r->hdr[k];

		if (((u32)h[0] << 8 | h[1]) != id ||
		    ((u32)h[2] << 8 | h[3]) != k ||
		    ((u32)h[4] << 8 | h[5]) != r->ndg || h[6] || h[7])
			abort();
		total += XKV_UDP_HDR + xkv_udp_chunk_len(r, k);
	}
	if (r->ndg && (size_t)(r->ndg - 1) * XKV_UDP_CHUNK >= r->len)
		abort();
	if (ratio && total > (size_t)ratio * len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xkv_udp_reply r = { .hdr = fuzz_hdr };
	struct xkv_udp_addr src, dst;
	const struct xkv_buf *out;
	size_t len, budget;
	const uint8_t *d;
	bool refused;
	u32 n;

	if (!fuzz_store)
		fuzz_init();
	if (size < 2)
		return 0;
	fuzz_pol.amp_ratio = ratios[data[0] % (sizeof(ratios) /
					       sizeof(ratios[0]))];
	refused = pick_source(data[1], &src, &dst);
	d = data + 2;
	len = size - 2;
	n = xkv_udp_request(fuzz_sess, &fuzz_pol, &src, &dst, d, len, &r);
	if (n != r.ndg)
		abort();
	if (n) {
		if (refused || len < XKV_UDP_HDR || d[4] || d[5] != 1 ||
		    starts_like_reply(d + XKV_UDP_HDR, len - XKV_UDP_HDR))
			abort();
		check_reply(&r, d, len, fuzz_pol.amp_ratio);
	}
	out = xkv_sess_out(fuzz_sess);
	budget = len >= XKV_UDP_HDR ? xkv_udp_budget(&fuzz_pol, len) : 0;
	if (out->cap > FUZZ_BUF_KEEP && out->cap > budget)
		abort();
	xkv_udp_done(fuzz_sess);
	return 0;
}
