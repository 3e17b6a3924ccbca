// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_bin.c - libFuzzer target for the binary protocol (kmod/core/bin.c).
 *
 * The input is a script: each record (see next_packet()) becomes one
 * binary packet on the wire, with an opcode (quiet forms and unknown ones
 * included), a key from a small set (so packets meet each other's items),
 * extras, a value, a CAS, and now and then a lie in a length field (a key
 * over 250 bytes, extras that do not fit, a body length near 4 GB). The
 * packets go to a TCP-style session in chunks cut where the input says,
 * and, one per datagram, to a UDP-style session. Every reply must be a
 * well-formed binary response (magic, lengths that add up), the session
 * must never claim more bytes than it was given, and a quiet packet that
 * succeeds must answer nothing. Inputs whose first byte has its top bit
 * set run against a store with SASL (-S) on.
 *
 * Run: build/fuzz/fuzz_bin tests/fuzz/corpus_bin
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "store.h"
#include "xkv_bin.h"

/* The platform's log level (kmod/user defines it for xkvd). */
int xkv_os_verbose __attribute__((weak));

#define STORE_BYTES (4ULL << 20)
#define MAX_WIRE (64 * 1024)

/* two stores: plain, and with SASL (-S) on, picked by the input */
static struct xkv_store *stores[2];
static struct xkv_store *store;
static struct xkv_thread_stats *stats;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a reader over the script; past the end it reads zeros */
struct script {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct script *s)
{
	uint8_t v = 0;

	if (s->n) {
		v = *s->p++;
		s->n--;
	}
	return v;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static const uint8_t ops[] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x20, 0x21, 0x23, 0x24,
	0x07, 0x17, 0x55,
};

/* the extras each opcode wants (unknown ones: none) */
static int ext_len(uint8_t op)
{
	switch (op) {
	case 0x01: case 0x02: case 0x03: case 0x11: case 0x12: case 0x13:
		return 8;
	case 0x05: case 0x06: case 0x15: case 0x16:
		return 20;
	case 0x1c: case 0x1d: case 0x1e: case 0x23: case 0x24:
		return 4;
	default:
		return 0;
	}
}

static bool quiet_op(uint8_t op)
{
	return (op >= 0x11 && op <= 0x1a) || op == 0x09 || op == 0x0d ||
	       op == 0x1e || op == 0x24;
}

/*
 * Record: opcode, mode, key, value length, two bytes of extras seed, then
 * the value bytes. Mode bits: 1 quiet-op CAS, 2 wrong extras length,
 * 4 long key, 8 bogus body length, 16 flush with a delay.
 * Return: the packet's length at @w (0 when the script is done).
 */
static size_t next_packet(struct script *s, uint8_t *w, size_t room)
{
	static const char *const keys[] = { "a", "b", "num", "PLAIN", "" };
	uint8_t op, mode, kidx, vlen, e0, e1;
	size_t nkey, next, len, i;
	char key[260];

	if (!s->n)
		return 0;
	op = ops[take(s) % sizeof(ops)];
	mode = take(s);
	kidx = take(s);
	vlen = take(s) % 64;
	e0 = take(s);
	e1 = take(s);
	if (mode & 4) {
		nkey = 251;
		memset(key, 'L', nkey);
	} else {
		const char *k = keys[kidx % 5];

		nkey = strlen(k);
		memcpy(key, k, nkey);
	}
	next = ext_len(op);
	if (op == 0x08 || op == 0x18)
		next = (mode & 16) ? 4 : 0;
	if (mode & 2)
		next = (e0 % 24);
	len = XKV_BIN_HDR_LEN + next + nkey + vlen;
	if (len > room)
		return 0;
	memset(w, 0, len);
	w[0] = XKV_BIN_REQ;
	w[1] = op;
	put_be(w + 2, nkey, 2);
	w[4] = (uint8_t)next;
	put_be(w + 8, (mode & 8) ? 0xfffffff0u - e1 : next + nkey + vlen, 4);
	put_be(w + 12, kidx, 4);
	put_be(w + 16, (mode & 1) ? e1 : 0, 8);
	for (i = 0; i < next; i++)
		w[XKV_BIN_HDR_LEN + i] = (uint8_t)(e0 * (i + 1));
	/* sensible expiries mostly: 0, or "do not create" for incr */
	if (next == 20 && !(e1 & 1))
		put_be(w + XKV_BIN_HDR_LEN + 16, (e1 & 2) ? 0xffffffffu : 0, 4);
	if ((next == 8 || next == 4) && !(e1 & 1))
		put_be(w + XKV_BIN_HDR_LEN + next - 4, 0, 4);
	memcpy(w + XKV_BIN_HDR_LEN + next, key, nkey);
	for (i = 0; i < vlen; i++)
		w[XKV_BIN_HDR_LEN + next + nkey + i] = take(s);
	return len;
}

/* every reply is whole and well formed; return how many */
static size_t check_replies(struct xkv_sess *s)
{
	struct xkv_buf *out = xkv_sess_out(s);
	size_t n = xkv_buf_pending(out), count = 0;
	const uint8_t *p;

	if (!n)
		return 0;
	p = (const uint8_t *)out->data + out->off;
	if (out->oom) {
		xkv_buf_consume(out, n);
		return 0;
	}
	while (n) {
		uint64_t body;

		if (n < XKV_BIN_HDR_LEN || p[0] != XKV_BIN_RES)
			abort();
		body = get_be(p + 8, 4);
		if (get_be(p + 2, 2) + p[4] > body ||
		    XKV_BIN_HDR_LEN + body > n)
			abort();
		p += XKV_BIN_HDR_LEN + body;
		n -= XKV_BIN_HDR_LEN + body;
		count++;
	}
	xkv_buf_consume(out, xkv_buf_pending(out));
	return count;
}

/* feed @wire in chunks ending at @cuts, as a TCP transport would */
static void feed_tcp(const uint8_t *wire, size_t len, struct script *s)
{
	struct xkv_sess *ss = xkv_sess_new(store, stats, false);
	uint8_t *pend = malloc(len + 1);
	size_t plen = 0, pos = 0;

	if (!ss || !pend)
		goto out;
	while (pos < len) {
		size_t step = 1 + (size_t)take(s) * 4;

		if (step > len - pos)
			step = len - pos;
		memcpy(pend + plen, wire + pos, step);
		plen += step;
		pos += step;
		while (plen) {
			size_t used = xkv_sess_input(ss, (char *)pend, plen);

			check_replies(ss);
			if (used > plen)
				abort();
			if (xkv_sess_closing(ss))
				goto out;
			if (!used)
				break;
			memmove(pend, pend + used, plen - used);
			plen -= used;
		}
	}
out:
	xkv_sess_free(ss);
	free(pend);
}

/* does the server take all @plen bytes at @p as one packet? */
static bool one_packet(const uint8_t *p, size_t plen)
{
	uint64_t body = get_be(p + 8, 4);
	bool storage = (p[1] >= 0x11 && p[1] <= 0x13) || p[1] == 0x19 ||
		       p[1] == 0x1a;

	return XKV_BIN_HDR_LEN + body == plen &&
	       (storage || body == get_be(p + 2, 2) + p[4]);
}

/*
 * Each packet alone in a datagram (@ends: where each one ends). A quiet
 * packet that is one packet to the server answers at most once (an error
 * or a get hit); bytes a command does not take (a body length that lies,
 * a value after a get's key) are read as the next packet, as memcached
 * does, and anything well formed goes.
 */
static void feed_udp(const uint8_t *wire, const size_t *ends, size_t count)
{
	struct xkv_sess *ss = xkv_sess_new(store, stats, true);
	size_t pos = 0, i;

	if (!ss)
		return;
	for (i = 0; i < count; i++) {
		const uint8_t *p = wire + pos;
		size_t plen = ends[i] - pos;
		size_t replies;

		xkv_sess_reset(ss);
		xkv_sess_input(ss, (const char *)p, plen);
		replies = check_replies(ss);
		if (quiet_op(p[1]) && replies > 1 && one_packet(p, plen))
			abort();
		pos = ends[i];
	}
	xkv_sess_free(ss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t ends[MAX_WIRE / XKV_BIN_HDR_LEN];
	static uint8_t wire[MAX_WIRE];
	struct script s = { data, size };
	size_t len = 0, count = 0, n;

	if (!stores[0]) {
		struct xkv_settings set;
		int i;

		for (i = 0; i < 2; i++) {
			xkv_settings_default(&set, 1);
			set.maxbytes = STORE_BYTES;
			set.threads = 1;
			set.sasl = i;
			set.pwdb = "u:p\nuser:\n:pw\r\nab:c";
			stores[i] = xkv_store_create(&set, 1);
			if (!stores[i])
				abort();
		}
	}
	store = stores[size && (data[0] & 0x80)];
	stats = xkv_store_stats_slot(store, 0);
	while ((n = next_packet(&s, wire + len, sizeof(wire) - len))) {
		len += n;
		ends[count++] = len;
	}
	s.p = data;
	s.n = size;
	feed_tcp(wire, len, &s);
	feed_udp(wire, ends, count);
	xkv_store_maintain(store);
	return 0;
}
