// SPDX-License-Identifier: GPL-2.0
/*
 * UDP (only with -U): memcached's 8-byte frame header (request id,
 * sequence number, datagram count, reserved; 16-bit big-endian each),
 * single- and multi-datagram replies, and storage over UDP; and the UDP
 * policy (kmod/core/udp_policy.h) with its default budget: every reply,
 * frame headers included, at most 64 x the request; a larger one is one
 * short SERVER_ERROR; no reply to what is not a command (a reply, an
 * error line, a piece of a multi-datagram message). A burst of requests
 * sent without waiting (which the server takes and answers in batches)
 * gets every reply right, whatever its size, and nothing for the silent
 * ones.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "prototest.h"

#define UDP_HDR		8
#define UDP_MAX_DGRAM	65536
#define UDP_MAX_PARTS	128
#define BIG_VALUE	5000
/* the server's default --udp-amp-ratio / udp_amp_ratio= */
#define AMP_RATIO	64

/**
 * struct udp_reply - a reassembled reply
 * @parts:	datagrams received, indexed by sequence number
 * @count:	datagram count announced in the headers
 * @payload:	payloads concatenated in sequence order
 */
struct udp_reply {
	int parts;
	int count;
	struct sbuf payload;
};

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Check one datagram's header; store its payload by sequence number. */
static bool take_dgram(const unsigned char *d, int len, uint16_t id,
		       struct sbuf *slots, struct udp_reply *r)
{
	uint16_t seq, cnt;

	if (len < UDP_HDR)
		return tap_fail("datagram of %d bytes: no frame header", len);
	seq = be16(d + 2);
	cnt = be16(d + 4);
	if (be16(d) != id)
		return tap_fail("request id %u in reply, sent %u", be16(d), id);
	if (!cnt || cnt > UDP_MAX_PARTS || (r->count && cnt != r->count))
		return tap_fail("datagram count %u (before: %d)", cnt,
				r->count);
	r->count = cnt;
	if (seq >= cnt || slots[seq].data)
		return tap_fail("sequence %u of %u repeated or out of range",
				seq, cnt);
	if (be16(d + 6))
		return tap_fail("reserved field 0x%04x in reply", be16(d + 6));
	sbuf_add(&slots[seq], d + UDP_HDR, (size_t)(len - UDP_HDR));
	r->parts++;
	return true;
}

/*
 * Send @req with id @id and collect every datagram of the reply (they may
 * arrive in any order), reassembled into @r->payload.
 */
static bool udp_roundtrip(int fd, uint16_t id, uint16_t reserved,
			  const char *req, size_t rlen, struct udp_reply *r)
{
	struct sbuf slots[UDP_MAX_PARTS];
	unsigned char *d = malloc(UDP_MAX_DGRAM);
	int i, len = 0;

	memset(slots, 0, sizeof(slots));
	memset(r, 0, sizeof(*r));
	if (!d || udp_send(fd, id, reserved, req, rlen))
		tap_fail("UDP send failed");
	while (!tap_failed() && (!r->count || r->parts < r->count)) {
		len = udp_recv(fd, d, UDP_MAX_DGRAM, PT_TIMEOUT_MS);
		if (len < 0) {
			tap_fail("no reply datagram (%d of %d received)",
				 r->parts, r->count);
			break;
		}
		take_dgram(d, len, id, slots, r);
	}
	for (i = 0; i < UDP_MAX_PARTS; i++) {
		if (slots[i].data)
			sbuf_add(&r->payload, slots[i].data, slots[i].len);
		sbuf_free(&slots[i]);
	}
	free(d);
	if (tap_failed())
		tap_diag_bytes("request", req, rlen);
	return !tap_failed();
}

/* Nothing more may arrive for a request already answered in full. */
static void udp_expect_quiet(int fd)
{
	unsigned char d[2048];
	int len;

	if (tap_failed())
		return;
	len = udp_recv(fd, d, sizeof(d), 50);
	if (len >= 0) {
		tap_fail("unexpected extra datagram");
		tap_diag_bytes("received", d, (size_t)len);
	}
}

static void udp_expect(int fd, uint16_t id, uint16_t reserved,
		       const char *req, const char *want, int count)
{
	struct udp_reply r = { 0 };

	if (tap_failed())
		return;
	udp_roundtrip(fd, id, reserved, req, strlen(req), &r);
	pt_check(r.count == count, "reply in %d datagrams, expected %d",
		 r.count, count);
	if (!tap_failed() && (r.payload.len != strlen(want) ||
			      memcmp(r.payload.data, want, r.payload.len))) {
		tap_fail("UDP reply differs");
		tap_diag_mismatch(want, strlen(want), r.payload.data,
				  r.payload.len);
	}
	sbuf_free(&r.payload);
	udp_expect_quiet(fd);
}

static int open_udp_or_fail(void)
{
	int fd = udp_open();

	if (fd < 0)
		tap_fail("UDP socket: %s", strerror(-fd));
	return fd;
}

static void t_udp_get(struct conn *c)
{
	const char *k = pt_key("k");
	int fd = open_udp_or_fail();

	pt_set(c, k, 5, "hello");
	/* memcaslap sends reserved = 0x0100: any value must be accepted. */
	udp_expect(fd, 0x1234, 0x0100, pt_str("get %s\r\n", k),
		   pt_str("VALUE %s 5 5\r\nhello\r\nEND\r\n", k), 1);
	udp_expect(fd, 0xfedc, 0, pt_str("get %s\r\n", pt_key("none")),
		   "END\r\n", 1);
	if (fd >= 0)
		close(fd);
}

static void t_udp_gets(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t cas = 0;
	int fd = open_udp_or_fail();

	pt_set(c, k, 0, "v");
	pt_gets(c, k, "v", &cas);
	udp_expect(fd, 7, 0, pt_str("gets %s\r\n", k),
		   pt_str("VALUE %s 0 1 %llu\r\nv\r\nEND\r\n", k,
			  (unsigned long long)cas), 1);
	if (fd >= 0)
		close(fd);
}

static void t_udp_multi_datagram(struct conn *c)
{
	const char *k = pt_key("k");
	/* trailing spaces: a request long enough for the reply's budget */
	const char *req = pt_str("get %s%120s\r\n", k, "");
	struct udp_reply r = { 0 };
	struct sbuf val, want;
	int fd = open_udp_or_fail();

	sbuf_init(&val);
	sbuf_init(&want);
	sbuf_fill(&val, 'u', BIG_VALUE);
	memcpy(val.data + 1000, "\r\n", 2);
	memcpy(val.data + 4000, "END\r\n", 5);
	pt_set(c, k, 0, val.data);
	sbuf_addf(&want, "VALUE %s 0 %d\r\n%s\r\nEND\r\n", k, BIG_VALUE,
		  val.data);
	if (!tap_failed())
		udp_roundtrip(fd, 0xabcd, 0x0100, req, strlen(req), &r);
	pt_check(r.count >= 2, "%zu-byte reply in %d datagram(s)",
		 want.len, r.count);
	if (!tap_failed() && (r.payload.len != want.len ||
			      memcmp(r.payload.data, want.data, want.len))) {
		tap_fail("reassembled UDP reply differs");
		tap_diag_mismatch(want.data, want.len, r.payload.data,
				  r.payload.len);
	}
	sbuf_free(&r.payload);
	sbuf_free(&val);
	sbuf_free(&want);
	if (fd >= 0)
		close(fd);
}

static void t_udp_set(struct conn *c)
{
	const char *k = pt_key("k");
	int fd = open_udp_or_fail();

	udp_expect(fd, 42, 0, pt_str("set %s 3 0 5\r\nudp!!\r\n", k),
		   "STORED\r\n", 1);
	pt_get_is(c, k, 3, "udp!!");
	udp_expect(fd, 43, 0x0100, pt_str("delete %s\r\n", k),
		   "DELETED\r\n", 1);
	pt_get_miss(c, k);
	if (fd >= 0)
		close(fd);
}

/* Send @req (frame header added) and expect no datagram back. */
static void udp_expect_none(int fd, uint16_t id, uint16_t count,
			    const char *req, size_t len)
{
	unsigned char hdr[UDP_HDR] = { id >> 8, id & 0xff, 0, 0,
				       count >> 8, count & 0xff, 0, 0 };
	struct sbuf d;

	if (tap_failed())
		return;
	sbuf_init(&d);
	sbuf_add(&d, hdr, sizeof(hdr));
	sbuf_add(&d, req, len);
	if (send(fd, d.data, d.len, 0) != (ssize_t)d.len)
		tap_fail("UDP send failed");
	sbuf_free(&d);
	if (!tap_failed())
		udp_expect_quiet(fd);
	if (tap_failed())
		tap_diag_bytes("request", req, len);
}

/* Over UDP only commands are answered: TCP's ERROR is silence here. */
static void t_udp_error(struct conn *c)
{
	int fd = open_udp_or_fail();

	(void)c;
	udp_expect_none(fd, 9, 1, "bogus\r\n", 7);
	udp_expect_none(fd, 10, 1, "\r\n", 2);
	udp_expect_none(fd, 11, 1, "stats nonsense\r\n", 16);
	if (fd >= 0)
		close(fd);
}

/* A reply or an error line sent to the server draws nothing (no loop). */
static void t_udp_reply_unanswered(struct conn *c)
{
	static const char *const replies[] = {
		"ERROR\r\n", "END\r\n", "STORED\r\n", "NOT_FOUND\r\n",
		"OK\r\n", "CLIENT_ERROR bad command line format\r\n",
		"SERVER_ERROR out of memory\r\n", "42\r\n",
		"VALUE k 0 9\r\nget k\r\n\r\nEND\r\n", "  STAT pid 1\r\n",
	};
	int fd = open_udp_or_fail();
	size_t i;

	(void)c;
	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++)
		udp_expect_none(fd, (uint16_t)(20 + i), 1, replies[i],
				strlen(replies[i]));
	if (fd >= 0)
		close(fd);
}

/* A datagram of a multi-datagram message is someone's reply: silence. */
static void t_udp_multi_packet(struct conn *c)
{
	int fd = open_udp_or_fail();

	(void)c;
	udp_expect_none(fd, 40, 2, "get a\r\n", 7);
	udp_expect_none(fd, 41, 0, "get a\r\n", 7);
	if (fd >= 0)
		close(fd);
}

/*
 * Send @req and check the reply against the budget: at most AMP_RATIO
 * times the request, frame headers included on both sides; when @over,
 * the reply is one short SERVER_ERROR (or nothing).
 */
static void udp_budget(int fd, uint16_t id, const char *req, bool over)
{
	struct udp_reply r = { 0 };
	unsigned char d[UDP_MAX_DGRAM];
	size_t reqlen = UDP_HDR + strlen(req), total = 0;
	int len;

	if (tap_failed())
		return;
	if (udp_send(fd, id, 0, req, strlen(req))) {
		tap_fail("UDP send failed");
		return;
	}
	while ((len = udp_recv(fd, d, sizeof(d), 300)) >= 0) {
		total += (size_t)len;
		r.parts++;
		if (len > UDP_HDR && !r.payload.data)
			sbuf_add(&r.payload, d + UDP_HDR,
				 (size_t)len - UDP_HDR);
	}
	pt_check(total <= AMP_RATIO * reqlen,
		 "%zu reply bytes in %d datagram(s) for a %zu-byte request: "
		 "over %d x", total, r.parts, reqlen, AMP_RATIO);
	if (over)
		pt_check(r.parts <= 1 &&
			 (!r.parts ||
			  (r.payload.len < 64 &&
			   !memcmp(r.payload.data, "SERVER_ERROR ", 13))),
			 "over the budget: %d datagram(s), not one short "
			 "SERVER_ERROR", r.parts);
	sbuf_free(&r.payload);
}

static void t_udp_budget(struct conn *c)
{
	const char *big = pt_key("big"), *one = pt_key("one");
	struct sbuf val, req;
	const char *want;
	int fd = open_udp_or_fail(), i;

	sbuf_init(&val);
	sbuf_init(&req);
	sbuf_fill(&val, 'b', 100000);
	pt_set(c, big, 0, val.data);
	sbuf_free(&val);
	sbuf_init(&val);
	sbuf_fill(&val, 'o', BIG_VALUE);
	pt_set(c, one, 0, val.data);
	udp_budget(fd, 50, pt_str("get %s\r\n", big), true);
	sbuf_addf(&req, "get");
	for (i = 0; i < 100; i++)
		sbuf_addf(&req, " %s", one);
	sbuf_addf(&req, "\r\n");
	udp_budget(fd, 51, req.data, true);
	/* within the budget the reply comes whole */
	want = pt_str("VALUE %s 0 %d\r\n%s\r\nEND\r\n", one, BIG_VALUE,
		      val.data);
	udp_expect(fd, 52, 0, pt_str("get %s%100s\r\n", one, ""), want,
		   (int)((strlen(want) + 1391) / 1392));
	sbuf_free(&val);
	sbuf_free(&req);
	if (fd >= 0)
		close(fd);
}

#define BURST		24
#define BURST_ID	0x4200

/*
 * @BURST requests back to back: a hit, a miss, a multi-datagram hit and
 * a reply-like line (silent) in turn. Replies may come in any order;
 * each is reassembled by its request id and compared.
 */
static void t_udp_burst(struct conn *c)
{
	const char *ks = pt_key("s"), *kb = pt_key("b"), *want[BURST];
	struct sbuf slots[BURST][UDP_MAX_PARTS], val, big;
	struct udp_reply r[BURST];
	unsigned char *d = malloc(UDP_MAX_DGRAM), hdr[BURST][UDP_HDR];
	struct iovec iov[BURST][2];
	struct mmsghdr m[BURST];
	int fd = open_udp_or_fail(), i, j, len, left = 0;
	const char *req;
	uint16_t id;

	memset(slots, 0, sizeof(slots));
	memset(r, 0, sizeof(r));
	sbuf_init(&val);
	sbuf_init(&big);
	sbuf_fill(&val, 'q', BIG_VALUE);
	pt_set(c, ks, 3, "hello");
	pt_set(c, kb, 0, val.data);
	sbuf_addf(&big, "VALUE %s 0 %d\r\n%s\r\nEND\r\n", kb, BIG_VALUE,
		  val.data);
	for (i = 0; i < BURST && !tap_failed() && d; i++) {
		switch (i % 4) {
		case 0:
			req = pt_str("get %s\r\n", ks);
			want[i] = pt_str("VALUE %s 3 5\r\nhello\r\nEND\r\n",
					 ks);
			break;
		case 1:
			req = pt_str("get %s\r\n", pt_key("none"));
			want[i] = "END\r\n";
			break;
		case 2:
			/* long enough for the reply's budget */
			req = pt_str("get %s%120s\r\n", kb, "");
			want[i] = big.data;
			break;
		default:
			req = "VALUE x 0 1\r\n";
			want[i] = NULL;
			break;
		}
		left += want[i] != NULL;
		id = (uint16_t)(BURST_ID + i);
		/* frame header: id, sequence 0, count 1, reserved 0 */
		memset(hdr[i], 0, UDP_HDR);
		hdr[i][0] = (unsigned char)(id >> 8);
		hdr[i][1] = (unsigned char)id;
		hdr[i][5] = 1;
		iov[i][0] = (struct iovec){ .iov_base = hdr[i],
					    .iov_len = UDP_HDR };
		iov[i][1] = (struct iovec){ .iov_base = (void *)req,
					    .iov_len = strlen(req) };
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = iov[i];
		m[i].msg_hdr.msg_iovlen = 2;
	}
	/* one call, so that the server finds several queued at once */
	for (j = 0; i == BURST && j < BURST && !tap_failed();) {
		len = sendmmsg(fd, m + j, (unsigned int)(BURST - j), 0);
		if (len <= 0)
			tap_fail("sendmmsg: %s", strerror(errno));
		else
			j += len;
	}
	while (!tap_failed() && left > 0) {
		len = udp_recv(fd, d, UDP_MAX_DGRAM, PT_TIMEOUT_MS);
		if (len < UDP_HDR) {
			tap_fail("%d replies missing", left);
			break;
		}
		id = be16(d);
		i = id - BURST_ID;
		if (i < 0 || i >= BURST || !want[i]) {
			tap_fail("reply with id 0x%04x: not expected", id);
			break;
		}
		if (take_dgram(d, len, id, slots[i], &r[i]) &&
		    r[i].parts == r[i].count)
			left--;
	}
	for (i = 0; i < BURST && d; i++) {
		for (j = 0; j < UDP_MAX_PARTS; j++) {
			if (slots[i][j].data)
				sbuf_add(&r[i].payload, slots[i][j].data,
					 slots[i][j].len);
			sbuf_free(&slots[i][j]);
		}
		if (!tap_failed() && want[i] &&
		    (r[i].payload.len != strlen(want[i]) ||
		     memcmp(r[i].payload.data, want[i], r[i].payload.len))) {
			tap_fail("reply to request %d of the burst differs", i);
			tap_diag_mismatch(want[i], strlen(want[i]),
					  r[i].payload.data, r[i].payload.len);
		}
		sbuf_free(&r[i].payload);
	}
	udp_expect_quiet(fd);
	sbuf_free(&val);
	sbuf_free(&big);
	free(d);
	if (fd >= 0)
		close(fd);
}

/*
 * "stats settings" over UDP: the TCP reply's bytes. The request is padded
 * with spaces (both servers skip them) so that the reply stays well
 * within xkv's reply budget, whatever address and ports it names.
 */
static void t_udp_stats_settings(struct conn *c)
{
	static const char req[] = "stats settings"
				  "                                      \r\n";
	struct udp_reply r = { 0 };
	int fd = open_udp_or_fail();
	struct sbuf tcp;

	sbuf_init(&tcp);
	if (fd >= 0 && pt_stats(c, "settings", &tcp) &&
	    udp_roundtrip(fd, 12, 0, req, sizeof(req) - 1, &r)) {
		sbuf_adds(&tcp, "END\r\n");
		if (r.payload.len != tcp.len ||
		    memcmp(r.payload.data, tcp.data, tcp.len)) {
			tap_fail("UDP stats settings differs from TCP's");
			tap_diag_mismatch(tcp.data, tcp.len, r.payload.data,
					  r.payload.len);
		}
	}
	sbuf_free(&r.payload);
	sbuf_free(&tcp);
	if (fd >= 0)
		close(fd);
}

static const struct pt_test tests[] = {
	{ "udp_get", t_udp_get, PT_NEED_UDP },
	{ "udp_gets", t_udp_gets, PT_NEED_UDP },
	{ "udp_multi_datagram", t_udp_multi_datagram, PT_NEED_UDP },
	{ "udp_set_delete", t_udp_set, PT_NEED_UDP },
	{ "udp_unknown_command_silent", t_udp_error, PT_NEED_UDP },
	{ "udp_reply_unanswered", t_udp_reply_unanswered, PT_NEED_UDP },
	{ "udp_multi_packet_silent", t_udp_multi_packet, PT_NEED_UDP },
	{ "udp_amp_budget", t_udp_budget, PT_NEED_UDP },
	{ "udp_burst", t_udp_burst, PT_NEED_UDP },
	{ "udp_stats_settings", t_udp_stats_settings, PT_NEED_UDP },
};

const struct pt_group pt_group_udp = PT_GROUP("udp", tests);
