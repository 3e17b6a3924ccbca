// SPDX-License-Identifier: GPL-2.0
/*
 * Binary framing, as memcached 1.6.18 does it: a packet's header is
 * judged only once its 24 bytes are in (fewer bytes, whatever they are,
 * wait for the rest); a full header whose magic is not a request's ends
 * the connection without a word, and the replies not yet sent for the
 * packets that came in with it are lost (memcached sends what it has
 * after the packet that woke it and 20 more, its reqs_per_event, then
 * after every 20). Each test sends a batch in one write, which the
 * server reads at once on loopback.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "binpkt.h"

/* how long a server that waits for more must stay quiet and open */
#define WAIT_MS 300

/* a header no request has: the magic of a response */
static const unsigned char bad_hdr[B_HDR] = { B_RES, OP_NOOP };

/* nothing arrives for WAIT_MS and the connection stays open */
static bool waits(struct conn *c)
{
	int r = conn_fill(c, WAIT_MS);

	if (r == -ETIMEDOUT)
		return true;
	if (r > 0)
		tap_diag_bytes("received", c->in.data, c->in.len);
	return pt_check(false, "server did not wait (%d)", r);
}

/* @n getks of @k, opaques 0 .. @n - 1 */
static void getks(struct sbuf *b, const char *k, int n)
{
	int i;

	for (i = 0; i < n; i++)
		breq(b, OP_GETK, NULL, 0, k, NULL, 0, (uint32_t)i, 0);
}

static void t_binframe_bad_magic(struct conn *c)
{
	const char *k = pt_key("k");
	struct conn c2;
	struct sbuf b;
	int i;

	bset(c, OP_SET, k, 1, "v", 0, NULL);
	/* a getk and a bad header in one write: hung up on, nothing sent */
	sbuf_init(&b);
	getks(&b, k, 1);
	sbuf_add(&b, bad_hdr, sizeof(bad_hdr));
	bsend(c, &b);
	pt_closed(c);
	/* 25 getks and a bad header: the first 21 replies, then nothing */
	if (tap_failed() || conn_open(&c2))
		return;
	getks(&b, k, 25);
	sbuf_add(&b, bad_hdr, sizeof(bad_hdr));
	bsend(&c2, &b);
	for (i = 0; i < 21 && !tap_failed(); i++)
		bexpect(&c2, OP_GETK, ST_OK, (uint32_t)i, k, "v", NULL);
	pt_closed(&c2);
	conn_close(&c2);
}

/* 7 bytes after a getk wait for the rest of their header */
static void t_binframe_short_header(struct conn *c)
{
	const char *k = pt_key("k");
	struct sbuf b, noop;
	struct conn c2;

	bset(c, OP_SET, k, 2, "w", 0, NULL);
	/* junk: the getk is answered, then the rest of a bad header ends it */
	sbuf_init(&b);
	getks(&b, k, 1);
	sbuf_add(&b, "ABCDEFG", 7);
	bsend(c, &b);
	bexpect(c, OP_GETK, ST_OK, 0, k, "w", NULL);
	if (waits(c)) {
		sbuf_fill(&b, 'x', B_HDR - 7);
		bsend(c, &b);
		pt_closed(c);
	}
	/* a noop's first 7 bytes: the rest makes it a noop like any other */
	if (tap_failed() || conn_open(&c2))
		return;
	sbuf_init(&noop);
	breq(&noop, OP_NOOP, NULL, 0, NULL, NULL, 0, 5, 0);
	getks(&b, k, 1);
	sbuf_add(&b, noop.data, 7);
	bsend(&c2, &b);
	bexpect(&c2, OP_GETK, ST_OK, 0, k, "w", NULL);
	if (waits(&c2) && pt_send(&c2, noop.data + 7, B_HDR - 7))
		bexpect(&c2, OP_NOOP, ST_OK, 5, NULL, NULL, NULL);
	bget_is(&c2, k, 2, "w", NULL);
	sbuf_free(&noop);
	conn_close(&c2);
}

/* the same in one datagram: it is all one read */
static void t_binframe_udp(struct conn *c)
{
	const char *k = pt_key("k");
	unsigned char buf[2048];
	struct sbuf b;
	int fd, n;

	bset(c, OP_SET, k, 3, "dg", 0, NULL);
	fd = udp_open();
	if (fd < 0) {
		tap_fail("udp socket");
		return;
	}
	sbuf_init(&b);
	getks(&b, k, 1);
	sbuf_add(&b, bad_hdr, sizeof(bad_hdr));
	udp_send(fd, 0x4321, 0, b.data, b.len);
	n = udp_recv(fd, buf, sizeof(buf), WAIT_MS);
	pt_check(n == -ETIMEDOUT,
		 "getk and a bad header over UDP: %d bytes came back", n);
	/* a short tail is left alone: the getk is answered */
	sbuf_free(&b);
	getks(&b, k, 1);
	sbuf_add(&b, "ABCDEFG", 7);
	udp_send(fd, 0x4322, 0, b.data, b.len);
	n = udp_recv(fd, buf, sizeof(buf), PT_TIMEOUT_MS);
	pt_check(n == 8 + B_HDR + 4 + (int)strlen(k) + 2 && buf[0] == 0x43 &&
			 buf[1] == 0x22 && buf[8] == B_RES &&
			 buf[9] == OP_GETK && !buf[15] &&
			 !memcmp(buf + 8 + B_HDR + 4 + strlen(k), "dg", 2),
		 "getk and 7 more bytes over UDP: %d bytes", n);
	sbuf_free(&b);
	close(fd);
	bget_is(c, k, 3, "dg", NULL);
}

static const struct pt_test tests[] = {
	{ "binframe_bad_magic", t_binframe_bad_magic, 0 },
	{ "binframe_short_header", t_binframe_short_header, 0 },
	{ "binframe_udp", t_binframe_udp, PT_NEED_UDP },
};

const struct pt_group pt_group_binframe = PT_GROUP("binframe", tests);
