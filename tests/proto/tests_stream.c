// SPDX-License-Identifier: GPL-2.0
/*
 * Byte-stream handling: pipelining, requests split across TCP segments,
 * large values, over-long lines and long multi-gets.
 */
#include <string.h>

#include "prototest.h"

#define PIPE_N		100
#define SPLIT_LEN	(100 * 1024)
#define SPLIT_PIECE	997		/* odd, so pieces straddle everything */
#define SPLIT_LIMIT_MS	10000
#define LARGE_LEN	(500 * 1024)
#define LONG_LINE	3000		/* memcached closes at > 2048 */
#define MGET_KEYS	200
#define MGET_KEYLEN	200

/* Deterministic value bytes of any kind, including '\r', '\n' and NUL. */
static void fill_pattern(struct sbuf *b, size_t n, unsigned int seed)
{
	size_t i;

	sbuf_reserve(b, n);
	for (i = 0; i < n; i++) {
		seed = seed * 1103515245U + 12345U;
		b->data[b->len + i] = (char)(seed >> 16);
	}
	b->len += n;
	b->data[b->len] = '\0';
}

static void t_pipeline(struct conn *c)
{
	struct sbuf req, want;
	const char *k;
	int i;

	sbuf_init(&req);
	sbuf_init(&want);
	for (i = 0; i < PIPE_N; i++) {
		k = pt_key(pt_str("%d", i));
		sbuf_addf(&req, "set %s %d 0 %d\r\nv%d\r\n", k, i,
			  i < 10 ? 2 : (i < 100 ? 3 : 4), i);
		sbuf_adds(&want, "STORED\r\n");
	}
	for (i = PIPE_N - 1; i >= 0; i--) {
		k = pt_key(pt_str("%d", i));
		sbuf_addf(&req, "get %s\r\n", k);
		sbuf_addf(&want, "VALUE %s %d %d\r\nv%d\r\nEND\r\n", k, i,
			  i < 10 ? 2 : (i < 100 ? 3 : 4), i);
	}
	sbuf_adds(&req, "bogus\r\n");
	sbuf_adds(&want, "ERROR\r\n");
	for (i = 0; i < PIPE_N; i++) {
		sbuf_addf(&req, "delete %s\r\n", pt_key(pt_str("%d", i)));
		sbuf_adds(&want, "DELETED\r\n");
	}
	pt_expect(c, req.data, req.len, want.data, want.len);
	sbuf_free(&req);
	sbuf_free(&want);
}

static void t_split_value(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t start = pt_now_ms();
	struct sbuf val;
	size_t off, n;

	sbuf_init(&val);
	fill_pattern(&val, SPLIT_LEN, 7);
	pt_sends(c, pt_str("set %s 0 0 %d\r\n", k, SPLIT_LEN));
	for (off = 0; off < val.len && !tap_failed(); off += n) {
		n = val.len - off < SPLIT_PIECE ? val.len - off : SPLIT_PIECE;
		pt_send(c, val.data + off, n);
		if ((off / SPLIT_PIECE) % 4 == 0)
			pt_msleep(1);
	}
	pt_send(c, "\r", 1);
	pt_msleep(5);
	pt_expect(c, "\n", 1, "STORED\r\n", 8);
	pt_check(pt_now_ms() - start < SPLIT_LIMIT_MS, "took %u ms",
		 (unsigned int)(pt_now_ms() - start));
	pt_sends(c, pt_str("get %s\r\n", k));
	pt_read_value(c, k, 0, val.data, val.len, NULL);
	sbuf_free(&val);
}

static void t_large_value(struct conn *c)
{
	const char *k = pt_key("k");
	struct sbuf req;
	size_t hdr;

	sbuf_init(&req);
	sbuf_addf(&req, "set %s 9 0 %d\r\n", k, LARGE_LEN);
	hdr = req.len;
	fill_pattern(&req, LARGE_LEN, 11);
	sbuf_adds(&req, "\r\n");
	pt_expect(c, req.data, req.len, "STORED\r\n", 8);
	pt_sends(c, pt_str("get %s\r\n", k));
	pt_read_value(c, k, 9, req.data + hdr, LARGE_LEN, NULL);
	sbuf_free(&req);
}

static void t_split_command_line(struct conn *c)
{
	static const char *const set_parts[] = {
		"se", "t ", "%s", " 0", " 0 2", "\r", "\nh", "i\r", "\n",
	};
	static const char *const get_parts[] = { "ge", "t %s", "\r", "\n" };
	const char *k = pt_key("k");
	size_t i;

	for (i = 0; i < sizeof(set_parts) / sizeof(set_parts[0]); i++) {
		pt_sends(c, pt_str(set_parts[i], k));
		pt_msleep(10);
	}
	pt_cmd(c, NULL, "STORED\r\n");
	for (i = 0; i < sizeof(get_parts) / sizeof(get_parts[0]); i++) {
		pt_sends(c, pt_str(get_parts[i], k));
		pt_msleep(10);
	}
	pt_cmd(c, NULL, pt_str("VALUE %s 0 2\r\nhi\r\nEND\r\n", k));
}

static void t_long_line_closes(struct conn *c)
{
	struct sbuf req;
	struct conn c2;
	int err;

	sbuf_init(&req);
	sbuf_fill(&req, 'x', LONG_LINE);
	/* Not a get/gets and no newline after 2048 bytes: dropped. */
	pt_send(c, req.data, req.len);
	pt_closed(c);
	sbuf_free(&req);
	err = conn_open(&c2);
	pt_check(!err, "reconnect failed: %s", strerror(-err));
	pt_cmd(&c2, "get\r\n", "ERROR\r\n");
	conn_close(&c2);
}

static const char *mget_key(int i)
{
	const char *base = pt_key(pt_str("%03d.", i));
	struct sbuf b;
	const char *k;

	sbuf_init(&b);
	sbuf_adds(&b, base);
	sbuf_fill(&b, 'm', MGET_KEYLEN - b.len);
	k = pt_str("%s", b.data);
	sbuf_free(&b);
	return k;
}

static void t_long_multiget(struct conn *c)
{
	struct sbuf req, want;
	int i;

	sbuf_init(&req);
	sbuf_init(&want);
	for (i = 0; i < MGET_KEYS; i += 4)
		pt_set(c, mget_key(i), (uint32_t)i, pt_str("val%d", i));
	sbuf_adds(&req, "get");
	for (i = 0; i < MGET_KEYS; i++) {
		sbuf_addf(&req, " %s", mget_key(i));
		if (i % 4 == 0)
			sbuf_addf(&want, "VALUE %s %d %zu\r\nval%d\r\n",
				  mget_key(i), i, strlen(pt_str("val%d", i)),
				  i);
	}
	sbuf_adds(&req, "\r\n");
	sbuf_adds(&want, "END\r\n");
	pt_expect(c, req.data, req.len, want.data, want.len);
	sbuf_free(&req);
	sbuf_free(&want);
}

static const struct pt_test tests[] = {
	{ "pipeline_300_commands", t_pipeline, 0 },
	{ "split_value_100k", t_split_value, 0 },
	{ "large_value_500k", t_large_value, 0 },
	{ "split_command_line", t_split_command_line, 0 },
	{ "long_line_closes", t_long_line_closes, 0 },
	{ "long_multiget", t_long_multiget, 0 },
};

const struct pt_group pt_group_stream = PT_GROUP("stream", tests);
