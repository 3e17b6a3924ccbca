// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_xdp.c - the XDP program against the store, packet by packet.
 *
 * The store core (kmod/core) runs in this process and owns the XDP
 * program's hot cache through the map's mmap()ed memory, as xkvd does.
 * It holds keys made of every byte value it accepts, values of every size
 * up to past what one datagram takes, and keeps changing them. Requests
 * (text get/gets lines, or binary GET/GETQ/GETK/GETKQ packets, alone or
 * batched with a closing NOOP, now and then another opcode or extras)
 * built like the fixtures' (pkt.c: IPv4/IPv6, VLAN tags, IP options,
 * padding, complete, partial or missing checksums) are mutated at random
 * (the memcached payload byte by byte, then now and then the headers) and
 * run through BPF_PROG_TEST_RUN, one frame per run. For every frame:
 *
 *  - XDP_PASS: the frame must come back untouched;
 *  - XDP_TX: the reply must be the store's reply to the same request,
 *    byte for byte (its UDP payload against what xkv_udp_request() makes
 *    of the request's UDP payload), with the addresses and ports swapped
 *    and right checksums, and within the budget (at most --amp-ratio x the
 *    request's UDP payload, and one datagram of at most 1400 bytes);
 *  - anything else (XDP_DROP, XDP_ABORTED, a failed run) is an error.
 *
 *   fuzz_xdp [-n PACKETS] [-t SECONDS] [-s SEED] [-v]
 *
 * Stops after PACKETS frames (default 1000000) or SECONDS seconds,
 * whichever comes first; prints TAP (the counts, then one test per
 * property) and exits 0 when every property held. -v prints each wrong
 * reply. Needs root (BPF_PROG_TEST_RUN); otherwise "1..0 # SKIP".
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "xkv_hot.h"
#include "xkv_config.h"
#include "xkv_live.h"	/* before the skeleton: it names our types */
#include "xkv.skel.h"
#include "fixture.h"
#include "pkt.h"
#include "tap.h"

#include "session.h"
#include "store.h"
#include "udp.h"

/* the platform's log level (xkvd defines it) */
int xkv_os_verbose __attribute__((weak));

#define FZ_SLOTS 1024
#define FZ_KEYS 96
#define FZ_AMP 64		/* xkv up's default budget */
#define FZ_PORT PKT_SERVER_PORT
#define FZ_PAY_MAX 2200		/* request payloads built, frame included */

/* a request's addresses and ports, and where its UDP payload is */
struct fz_pkt {
	u32 alen;
	u8 saddr[16];
	u8 daddr[16];
	u16 sport;
	u16 dport;
	size_t l2_len;
	size_t pay_off;
	size_t pay_len;
};

struct fz {
	struct xkv *skel;
	struct xkv_slot *hot;
	size_t hot_len;
	int prog_fd;
	struct xkv_store *st;
	struct xkv_sess *tcp;
	struct xkv_sess *udp;
	u8 (*hdr)[XKV_UDP_HDR];
#ifdef XKV_CORE_UDP_POLICY_H
	struct xkv_udp_policy pol;
#endif
	u64 rng;
	bool verbose;
	u8 key[FZ_KEYS][XKV_HOT_KEY_MAX];
	u32 klen[FZ_KEYS];
	/* what happened */
	u64 packets;
	u64 tx;
	u64 pass;
	u64 hits;
	u64 bin_tx;		/* replies to binary requests */
	u64 wrong;		/* a reply that is not the store's */
	u64 budget;		/* a reply over the budget */
	u64 touched;		/* a passed frame that came back changed */
	u64 errors;		/* drop, abort, failed run */
	u64 store_writes;
};

static u64 rnd(struct fz *f)
{
	u64 x = f->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* 0 .. @n - 1 */
static u32 below(struct fz *f, u32 n)
{
	return n ? (u32)(rnd(f) % n) : 0;
}

static bool chance(struct fz *f, u32 percent)
{
	return below(f, 100) < percent;
}

/* --- the store ------------------------------------------------------------ */

/* run @len bytes of commands through the TCP session, drop the reply */
static void store_cmd(struct fz *f, const void *in, size_t len)
{
	struct xkv_buf *out = xkv_sess_out(f->tcp);
	size_t off = 0, used;

	while (off < len) {
		used = xkv_sess_input(f->tcp, (const char *)in + off,
				      len - off);
		xkv_buf_consume(out, xkv_buf_pending(out));
		if (!used)
			break;
		off += used;
	}
}

/* a key byte: any but space, "\n" and NUL, mostly printable */
static u8 key_byte(struct fz *f)
{
	u8 c;

	if (chance(f, 60))
		return (u8)('!' + below(f, 94));
	do
		c = (u8)below(f, 256);
	while (c == ' ' || c == '\n' || !c);
	return c;
}

/* give key @i a new value of a random size (0 .. past a datagram) */
static void store_set(struct fz *f, u32 i)
{
	static char buf[XKV_HOT_KEY_MAX + 64 + 4096];
	u32 vlen, flags, k;
	size_t n;

	switch (below(f, 4)) {
	case 0:
		vlen = below(f, 8);
		break;
	case 1:
		vlen = below(f, 100);
		break;
	case 2:
		vlen = below(f, 700);
		break;
	default:
		vlen = below(f, 2000);
	}
	flags = chance(f, 50) ? 0 : (u32)rnd(f);
	n = (size_t)snprintf(buf, sizeof(buf), "set ");
	memcpy(buf + n, f->key[i], f->klen[i]);
	n += f->klen[i];
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %u 0 %u\r\n", flags,
			      vlen);
	for (k = 0; k < vlen; k++)
		buf[n++] = (char)below(f, 256);
	buf[n++] = '\r';
	buf[n++] = '\n';
	store_cmd(f, buf, n);
	f->store_writes++;
}

/* read key @i through the store a few times: it then takes a slot */
static void store_warm(struct fz *f, u32 i)
{
	static char buf[XKV_HOT_KEY_MAX + 8];
	size_t n = 4;
	int r;

	memcpy(buf, "get ", 4);
	memcpy(buf + n, f->key[i], f->klen[i]);
	n += f->klen[i];
	buf[n++] = '\r';
	buf[n++] = '\n';
	for (r = 0; r < 3; r++)
		store_cmd(f, buf, n);
}

/* change the store now and then: what XDP serves must follow */
static void store_churn(struct fz *f)
{
	static const char del[] = "delete ";
	char buf[XKV_HOT_KEY_MAX + 16];
	u32 i = below(f, FZ_KEYS);
	size_t n;

	switch (below(f, 10)) {
	case 0:
		n = sizeof(del) - 1;
		memcpy(buf, del, n);
		memcpy(buf + n, f->key[i], f->klen[i]);
		n += f->klen[i];
		buf[n++] = '\r';
		buf[n++] = '\n';
		store_cmd(f, buf, n);
		f->store_writes++;
		break;
	case 1:
		if (chance(f, 2)) {
			store_cmd(f, "flush_all\r\n", 11);
			f->store_writes++;
		}
		break;
	default:
		store_set(f, i);
	}
	store_warm(f, below(f, FZ_KEYS));
}

/*
 * The store's reply to the request payload @q: the datagram xkv_udp_request()
 * makes of it, as one buffer in @out. Return: its length; 0 for no reply,
 * -1 for a reply of several datagrams.
 */
static long store_reply(struct fz *f, const struct fz_pkt *p, const u8 *q,
			u8 *out)
{
	struct xkv_udp_reply r = { .hdr = f->hdr };
	long len;
	u32 n;
#ifdef XKV_CORE_UDP_POLICY_H
	struct xkv_udp_addr src, dst;

	xkv_udp_addr_set(&src, p->saddr, p->alen, p->sport);
	xkv_udp_addr_set(&dst, p->daddr, p->alen, p->dport);
	n = xkv_udp_request(f->udp, &f->pol, &src, &dst, q, p->pay_len, &r);
#else
	n = xkv_udp_request(f->udp, q, p->pay_len, &r);
#endif
	if (n != 1) {
		xkv_udp_done(f->udp);
		return n ? -1 : 0;
	}
	memcpy(out, r.hdr[0], XKV_UDP_HDR);
	memcpy(out + XKV_UDP_HDR, r.data, r.len);
	len = (long)(XKV_UDP_HDR + r.len);
	xkv_udp_done(f->udp);
	return len;
}

/* --- frames --------------------------------------------------------------- */

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

/* Where the UDP payload of frame @b is; false if it is not IP/UDP. */
static bool fz_parse(const u8 *b, size_t len, struct fz_pkt *p)
{
	size_t off = 12, l4, ulen;
	u16 type;

	memset(p, 0, sizeof(*p));
	while (off + 2 <= len &&
	       (get16(b + off) == 0x8100 || get16(b + off) == 0x88a8))
		off += 4;
	if (off + 2 > len)
		return false;
	type = get16(b + off);
	off += 2;
	p->l2_len = off;
	if (type == 0x0800) {
		if (off + 20 > len)
			return false;
		l4 = off + (size_t)(b[off] & 0xf) * 4;
		p->alen = 4;
		memcpy(p->saddr, b + off + 12, 4);
		memcpy(p->daddr, b + off + 16, 4);
	} else if (type == 0x86dd) {
		l4 = off + 40;
		p->alen = 16;
		if (l4 > len)
			return false;
		memcpy(p->saddr, b + off + 8, 16);
		memcpy(p->daddr, b + off + 24, 16);
	} else {
		return false;
	}
	if (l4 + 8 > len)
		return false;
	ulen = get16(b + l4 + 4);
	if (ulen < 8 || l4 + ulen > len)
		return false;
	p->sport = get16(b + l4);
	p->dport = get16(b + l4 + 2);
	p->pay_off = l4 + 8;
	p->pay_len = ulen - 8;
	return true;
}

static void show(const char *what, const u8 *b, size_t len)
{
	size_t i;

	fprintf(stderr, "  %s (%zu):", what, len);
	for (i = 0; i < len && i < 160; i++)
		fprintf(stderr, isprint(b[i]) ? "%c" : "\\x%02x", b[i]);
	fprintf(stderr, "%s\n", len > 160 ? "..." : "");
}

/* --- requests ------------------------------------------------------------- */

static size_t put_key(struct fz *f, u8 *b, size_t n, u32 i)
{
	memcpy(b + n, f->key[i], f->klen[i]);
	return n + f->klen[i];
}

/*
 * A binary request after the frame header at @b + @n: mostly GET, GETQ,
 * GETK or GETKQ packets of stored keys, one or a client's batch (up to
 * 6, then often a NOOP); now and then another opcode or extras. Return:
 * the payload's length.
 */
static size_t seed_bin(struct fz *f, u8 *b, size_t n)
{
	static const u8 ops[] = { 0x00, 0x09, 0x0c, 0x0d, 0x00, 0x09, 0x0c,
				  0x0d, 0x0a, 0x1d, 0x01, 0x04 };
	u32 npk = chance(f, 60) ? 1 : 2 + below(f, 5), j, k, i, klen, ext;

	for (j = 0; j < npk; j++) {
		i = below(f, FZ_KEYS);
		klen = f->klen[i];
		ext = chance(f, 97) ? 0 : 4;
		memset(b + n, 0, 24);
		b[n] = 0x80;
		b[n + 1] = ops[below(f, chance(f, 95) ? 8 : sizeof(ops))];
		b[n + 2] = (u8)(klen >> 8);
		b[n + 3] = (u8)klen;
		b[n + 4] = (u8)ext;
		b[n + 10] = (u8)((klen + ext) >> 8);
		b[n + 11] = (u8)(klen + ext);
		for (k = 12; k < 16; k++)		/* the opaque */
			b[n + k] = (u8)below(f, 256);
		n += 24 + ext;
		n = put_key(f, b, n, i);
	}
	if (npk > 1 && chance(f, 70)) {			/* a NOOP closes it */
		memset(b + n, 0, 24);
		b[n] = 0x80;
		b[n + 1] = 0x0a;
		b[n + 12] = (u8)below(f, 256);
		n += 24;
	}
	return n;
}

/* a request payload like the fixtures': frame header, get/gets line */
static size_t seed(struct fz *f, u8 *b)
{
	u32 nkeys = chance(f, 60) ? 1 : 1 + below(f, chance(f, 90) ? 6 : 40);
	size_t n = 0;
	u32 k;

	b[n++] = (u8)below(f, 256);		/* request id */
	b[n++] = (u8)below(f, 256);
	b[n++] = chance(f, 90) ? 0 : (u8)below(f, 256);	/* sequence */
	b[n++] = chance(f, 90) ? 0 : (u8)below(f, 256);
	b[n++] = 0;				/* one datagram */
	b[n++] = 1;
	b[n++] = chance(f, 80) ? 0 : 1;		/* reserved: 01 00 too */
	b[n++] = 0;
	if (chance(f, 25))
		return seed_bin(f, b, n);
	memcpy(b + n, chance(f, 70) ? "get" : "gets", 4);
	n += b[n + 3] == 's' ? 4 : 3;
	for (k = 0; k < nkeys && n < FZ_PAY_MAX - 300; k++) {
		b[n++] = ' ';
		if (chance(f, 5))
			b[n++] = ' ';
		if (chance(f, 3)) {
			u32 j, len = 1 + below(f, 12);

			for (j = 0; j < len; j++)	/* a key not stored */
				b[n++] = key_byte(f);
		} else {
			n = put_key(f, b, n, below(f, FZ_KEYS));
		}
	}
	if (chance(f, 5))
		b[n++] = ' ';
	if (chance(f, 85))
		b[n++] = '\r';
	b[n++] = '\n';
	return n;
}

static const u8 special[] = { ' ', '\r', '\n', 0, 0x7f, 0x80, 0xff, 'g',
			      't', 's', '0', '1', 0x09 };

/* change the payload a little */
static size_t mutate(struct fz *f, u8 *b, size_t n)
{
	u32 rounds = 1 + below(f, 3), r, at, len, j;

	for (r = 0; r < rounds; r++) {
		at = below(f, (u32)n + 1);
		switch (below(f, 8)) {
		case 0:			/* flip a bit */
			if (at < n)
				b[at] ^= (u8)(1 << below(f, 8));
			break;
		case 1:			/* a byte the parsers care about */
			if (at < n)
				b[at] = special[below(f, sizeof(special))];
			break;
		case 2:			/* any byte */
			if (at < n)
				b[at] = (u8)below(f, 256);
			break;
		case 3:			/* insert bytes */
			len = 1 + below(f, 4);
			if (n + len > FZ_PAY_MAX)
				break;
			memmove(b + at + len, b + at, n - at);
			for (j = 0; j < len; j++)
				b[at + j] = chance(f, 50) ? key_byte(f) :
					special[below(f, sizeof(special))];
			n += len;
			break;
		case 4:			/* delete bytes */
			len = 1 + below(f, 6);
			if (at + len > n)
				len = (u32)n - at;
			memmove(b + at, b + at + len, n - at - len);
			n -= len;
			break;
		case 5:			/* cut */
			n = at;
			break;
		case 6:			/* repeat a piece */
			len = below(f, 40);
			if (at + len > n || n + len > FZ_PAY_MAX)
				break;
			memmove(b + at + len, b + at, n - at);
			n += len;
			break;
		default:		/* the frame header */
			b[below(f, 8) % (n ? n : 1)] = (u8)below(f, 3);
		}
	}
	return n;
}

/* addresses a client may send from, martians included */
static const u8 src4[][4] = { { 10, 0, 0, 2 }, { 192, 0, 2, 7 },
			      { 127, 0, 0, 1 }, { 0, 0, 0, 1 },
			      { 224, 0, 0, 9 }, { 255, 255, 255, 255 } };
static const u8 src6[][16] = { { 0xfd, [15] = 2 }, { 0x20, 0x01, 0x0d, 0xb8,
						     [15] = 9 },
			       { [15] = 1 }, { 0 }, { 0xff, 0x02, [15] = 1 } };

/* a request frame in @in */
static void build(struct fz *f, struct pkt *in)
{
	static u8 pay[FZ_PAY_MAX + 8];
	struct pkt_opts o = { .no_frame = true };
	size_t n = seed(f, pay);

	if (!chance(f, 35))
		n = mutate(f, pay, n);
	o.ipv6 = chance(f, 30);
	o.nvlans = chance(f, 80) ? 0 : (int)below(f, chance(f, 95) ? 3 : 4);
	if (!o.ipv6 && chance(f, 10))
		o.ihl = 5 + (int)below(f, 11);
	if (chance(f, 10))
		o.src = o.ipv6 ? src6[below(f, 5)] : src4[below(f, 6)];
	if (chance(f, 3))
		o.sport_zero = true;
	else if (chance(f, 3))
		o.sport = FZ_PORT;
	if (chance(f, 3))
		o.dport = (u16)(FZ_PORT + 1);
	o.csum = chance(f, 80) ? PKT_CSUM_FULL : (int)below(f, 4);
	if (chance(f, 10))
		o.pad_to = 60 + below(f, 200);
	pkt_request(in, &o, pay, n);
	/* now and then, the headers too (lengths, checksums, tags) */
	if (chance(f, 8) && in->len > 14) {
		u32 k, m = 1 + below(f, 3);

		for (k = 0; k < m; k++)
			in->b[below(f, in->len < 64 ? (u32)in->len : 64)] ^=
				(u8)(1 << below(f, 8));
	}
	if (chance(f, 2) && in->len > 14)
		in->len = 14 + below(f, (u32)in->len - 14);
}

/* --- one frame ------------------------------------------------------------ */

static void wrong(struct fz *f, const char *why, const struct pkt *in,
		  const u8 *got, size_t glen, const u8 *want, long wlen)
{
	f->wrong++;
	if (!f->verbose && f->wrong > 3)
		return;
	fprintf(stderr, "wrong reply: %s\n", why);
	show("request frame", in->b, in->len);
	show("XDP reply", got, glen);
	if (want && wlen > 0)
		show("store reply", want, (size_t)wlen);
}

static void check_reply(struct fz *f, const struct pkt *in, const u8 *out,
			size_t olen)
{
	static u8 want[XKV_UDP_PAYLOAD * 2];
	struct fz_pkt q, r;
	const char *sums;
	long wlen;

	if (!fz_parse(in->b, in->len, &q) || !fz_parse(out, olen, &r)) {
		wrong(f, "not IP/UDP", in, out, olen, NULL, 0);
		return;
	}
	sums = pkt_check_sums(out, olen);
	if (sums) {
		wrong(f, sums, in, out, olen, NULL, 0);
		return;
	}
	if (r.alen != q.alen || memcmp(r.saddr, q.daddr, q.alen) ||
	    memcmp(r.daddr, q.saddr, q.alen) || r.sport != q.dport ||
	    r.dport != q.sport || r.l2_len != q.l2_len ||
	    memcmp(out, in->b + 6, 6) || memcmp(out + 6, in->b, 6) ||
	    memcmp(out + 12, in->b + 12, q.l2_len - 12) ||
	    r.pay_off + r.pay_len != olen) {
		wrong(f, "headers not the request's, swapped", in, out, olen,
		      NULL, 0);
		return;
	}
	/* the budget: one datagram, at most FZ_AMP x the request */
	if (r.pay_len > XKV_UDP_PAYLOAD_DEFAULT ||
	    r.pay_len > (size_t)FZ_AMP * q.pay_len) {
		f->budget++;
		fprintf(stderr, "over budget: %zu reply bytes for %zu\n",
			r.pay_len, q.pay_len);
	}
	if (q.pay_len > 8 && in->b[q.pay_off + 8] == 0x80)
		f->bin_tx++;
	wlen = store_reply(f, &q, in->b + q.pay_off, want);
	if (wlen != (long)r.pay_len ||
	    memcmp(out + r.pay_off, want, r.pay_len))
		wrong(f, wlen < 0 ? "the store sends several datagrams" :
			 !wlen ? "the store sends nothing" :
				 "not the store's bytes",
		      in, out + r.pay_off, r.pay_len, want, wlen);
}

static void one(struct fz *f, struct pkt *in)
{
	static u8 out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b,
		    .data_size_in = (__u32)in->len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);

	f->packets++;
	if (in->len < 14 || bpf_prog_test_run_opts(f->prog_fd, &opts)) {
		if (in->len >= 14)
			f->errors++;
		return;
	}
	switch (opts.retval) {
	case XDP_PASS:
		f->pass++;
		if (opts.data_size_out != in->len ||
		    memcmp(out, in->b, in->len))
			f->touched++;
		break;
	case XDP_TX:
		f->tx++;
		check_reply(f, in, out, opts.data_size_out);
		break;
	default:
		f->errors++;
	}
}

/* --- setup ---------------------------------------------------------------- */

static int fz_open(struct fz *f)
{
	struct xkv_config cfg = {
		.port = FZ_PORT,
		.flags = XKV_CFG_ALLOW_ANY | XKV_CFG_CSUM_PARTIAL,
		.nslots = FZ_SLOTS,
		.max_reply = XKV_UDP_PAYLOAD_DEFAULT,
		.amp_ratio = FZ_AMP,
	};
	struct xkv_live forever = { .until_ns = ~0ULL };
	struct xkv_settings set;
	u32 zero = 0, i, j;
	int err;

	f->skel = xkv__open();
	if (!f->skel)
		return -errno;
	memcpy((void *)&f->skel->rodata->xkv_cfg, &cfg, sizeof(cfg));
	err = bpf_map__set_max_entries(f->skel->maps.xkv_hot, FZ_SLOTS);
	if (!err)
		err = xkv__load(f->skel);
	if (err)
		return err;
	f->prog_fd = bpf_program__fd(f->skel->progs.xkv_xdp);
	if (bpf_map_update_elem(bpf_map__fd(f->skel->maps.xkv_live), &zero,
				&forever, BPF_ANY))
		return -errno;
	f->hot_len = (size_t)FZ_SLOTS * sizeof(struct xkv_slot);
	f->hot = mmap(NULL, f->hot_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      bpf_map__fd(f->skel->maps.xkv_hot), 0);
	if (f->hot == MAP_FAILED) {
		f->hot = NULL;
		return -errno;
	}

	xkv_settings_default(&set, 1);
	set.maxbytes = 64ULL << 20;
	set.threads = 1;
	f->st = xkv_store_create(&set, 1);
	if (!f->st)
		return -ENOMEM;
	err = xkv_store_attach_hot(f->st, f->hot, FZ_SLOTS);
	if (err)
		return err;
	f->tcp = xkv_sess_new(f->st, xkv_store_stats_slot(f->st, 0), false);
	f->udp = xkv_sess_new(f->st, xkv_store_stats_slot(f->st, 0), true);
	f->hdr = calloc(XKV_UDP_MAX_DGRAMS, sizeof(*f->hdr));
	if (!f->tcp || !f->udp || !f->hdr)
		return -ENOMEM;
#ifdef XKV_CORE_UDP_POLICY_H
	/* as XDP: any source, the same budget */
	if (xkv_udp_allow_parse(&f->pol, "any"))
		return -EINVAL;
	f->pol.amp_ratio = FZ_AMP;
	f->pol.port = FZ_PORT;
#endif
	/* keys of every accepted byte value: the first ones hold them all */
	for (i = 0; i < FZ_KEYS; i++) {
		f->klen[i] = chance(f, 85) ? 1 + below(f, 40) :
					     1 + below(f, XKV_HOT_KEY_MAX);
		for (j = 0; j < f->klen[i]; j++)
			f->key[i][j] = key_byte(f);
	}
	for (i = 1, j = 0; i < 256; i++) {
		if (i == ' ' || i == '\n')
			continue;
		f->key[j / 200][j % 200] = (u8)i;
		j++;
	}
	f->klen[0] = 200;
	f->klen[1] = j - 200 + 1;
	f->key[1][j - 200] = 'k';	/* a "\r" last would end the line */
	for (i = 0; i < FZ_KEYS; i++) {
		store_set(f, i);
		store_warm(f, i);
	}
	return 0;
}

static void fz_close(struct fz *f)
{
	if (f->udp)
		xkv_sess_free(f->udp);
	if (f->tcp)
		xkv_sess_free(f->tcp);
	if (f->st)
		xkv_store_destroy(f->st);
	if (f->hot)
		munmap(f->hot, f->hot_len);
	xkv__destroy(f->skel);
	free(f->hdr);
}

static u32 slots_used(const struct fz *f)
{
	u32 i, n = 0;

	for (i = 0; i < FZ_SLOTS; i++)
		n += f->hot[i].used != 0;
	return n;
}

int main(int argc, char **argv)
{
	u64 max = 1000000, seed = 0x5eed, end, t0;
	bool verbose = false;
	double secs = 0;
	struct fz *f;
	struct pkt *in;
	int c, err;

	while ((c = getopt(argc, argv, "n:t:s:v")) != -1) {
		switch (c) {
		case 'n':
			max = strtoull(optarg, NULL, 0);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			verbose = true;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-n PACKETS] [-t SECONDS] [-s SEED] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (!fixture_start())
		return 0;
	f = calloc(1, sizeof(*f));
	in = malloc(sizeof(*in));
	if (!f || !in)
		tap_bail("out of memory");
	f->rng = seed | 1;
	f->verbose = verbose;
	err = fz_open(f);
	if (err) {
		printf("Bail out! setup: %s\n", strerror(-err));
		return 1;
	}
	tap_diag("seed %#llx, %u keys, %u of %u slots in use after warming",
		 (unsigned long long)seed, FZ_KEYS, slots_used(f), FZ_SLOTS);
	t0 = fixture_mono_ns();
	end = secs > 0 ? t0 + (u64)(secs * 1e9) : ~0ULL;
	while (f->packets < max &&
	       (f->packets & 1023 || fixture_mono_ns() < end)) {
		build(f, in);
		one(f, in);
		if (!(f->packets % 200))
			store_churn(f);
	}
	tap_diag("%llu packets in %.1f s: %llu replies (XDP_TX) compared "
		 "with the store, %llu passed, %llu store writes",
		 (unsigned long long)f->packets, (fixture_mono_ns() - t0) / 1e9,
		 (unsigned long long)f->tx, (unsigned long long)f->pass,
		 (unsigned long long)f->store_writes);
	tap_ok(f->tx > f->packets / 20, "XDP answered a fair share: %llu",
	       (unsigned long long)f->tx);
	tap_ok(f->bin_tx > 0, "XDP answered binary gets too: %llu",
	       (unsigned long long)f->bin_tx);
	tap_is_u64(f->wrong, 0,
		   "every XDP reply is the store's, byte for byte");
	tap_is_u64(f->budget, 0, "every XDP reply within the budget");
	tap_is_u64(f->touched, 0, "every passed frame untouched");
	tap_is_u64(f->errors, 0, "no drop, abort or failed run");
	fz_close(f);
	free(in);
	free(f);
	return tap_done();
}
