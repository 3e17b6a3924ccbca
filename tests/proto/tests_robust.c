// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input: binary garbage, NUL bytes, control characters in keys.
 * After each, the server must still serve (on the same connection or, when
 * it has dropped that one, a new one) and a key stored before must still
 * hold its value.
 */
#include <string.h>

#include "prototest.h"

#define GARBAGE_LINE	600
#define GARBAGE_FLOOD	4000

/*
 * Pseudo-random bytes with no '\n' (so the length of the "line" is ours)
 * and a first byte that is neither 0x80 (memcached's binary protocol
 * magic) nor a letter (so it cannot spell a command).
 */
static void fill_garbage(struct sbuf *b, size_t n, unsigned int seed)
{
	size_t i;
	char ch;

	for (i = 0; i < n; i++) {
		seed = seed * 1664525U + 1013904223U;
		ch = (char)(seed >> 24);
		if (ch == '\n')
			ch = '~';
		if (i == 0)
			ch = (char)0xfe;
		sbuf_add(b, &ch, 1);
	}
}

static void store_sentinel(struct conn *c)
{
	pt_set(c, pt_key("sentinel"), 17, "still-here");
}

static void check_sentinel(struct conn *c)
{
	pt_get_is(c, pt_key("sentinel"), 17, "still-here");
}

/* Check the sentinel on a brand-new connection. */
static void check_sentinel_fresh(void)
{
	struct conn c2;
	int err;

	err = conn_open(&c2);
	pt_check(!err, "new connection failed: %s", strerror(-err));
	check_sentinel(&c2);
	conn_close(&c2);
}

static void t_garbage_line(struct conn *c)
{
	struct sbuf req;
	int seed;

	store_sentinel(c);
	for (seed = 1; seed <= 3 && !tap_failed(); seed++) {
		sbuf_init(&req);
		fill_garbage(&req, GARBAGE_LINE, (unsigned int)seed);
		sbuf_adds(&req, "\r\n");
		pt_expect(c, req.data, req.len, "ERROR\r\n", 7);
		sbuf_free(&req);
	}
	check_sentinel(c);
}

static void t_garbage_flood_closes(struct conn *c)
{
	struct sbuf req;

	store_sentinel(c);
	sbuf_init(&req);
	fill_garbage(&req, GARBAGE_FLOOD, 99);
	/* More than 2048 bytes without a newline and not a get: dropped. */
	pt_send(c, req.data, req.len);
	pt_closed(c);
	sbuf_free(&req);
	check_sentinel_fresh();
}

static void t_nul_in_command(struct conn *c)
{
	const char *k = pt_key("sentinel");
	const char *hit = pt_str("VALUE %s 17 10\r\nstill-here\r\nEND\r\n", k);
	const char *req;

	store_sentinel(c);
	/* memcached reads a command line as a C string: a NUL ends it. */
	req = pt_str("get %s", k);
	pt_expect(c, pt_str("%s%c junk\r\n", req, '\0'), strlen(req) + 8,
		  hit, strlen(hit));
	pt_expect(c, "ver\0sion\r\n", 10, "ERROR\r\n", 7);
	pt_expect(c, "\0\r\n", 3, "ERROR\r\n", 7);
	pt_expect(c, "\0\0\0\0get x\r\n", 11, "ERROR\r\n", 7);
	check_sentinel(c);
}

static void t_control_chars_in_key(struct conn *c)
{
	const char *k1 = pt_key("\x01\x02\x1b[0m\x7f");
	const char *k2 = pt_key("a\tb");
	const char *k3 = pt_key("caf\xc3\xa9\xff");

	store_sentinel(c);
	/* Only space and newline delimit keys in memcached's text protocol. */
	pt_set(c, k1, 1, "one");
	pt_set(c, k2, 2, "two");
	pt_set(c, k3, 3, "three");
	pt_get_is(c, k1, 1, "one");
	pt_get_is(c, k2, 2, "two");
	pt_get_is(c, k3, 3, "three");
	pt_get_miss(c, pt_key("a"));
	check_sentinel(c);
	check_sentinel_fresh();
}

static void t_error_storm(struct conn *c)
{
	struct sbuf req, want;
	int i;

	store_sentinel(c);
	sbuf_init(&req);
	sbuf_init(&want);
	for (i = 0; i < 200; i++) {
		sbuf_adds(&req, i % 2 ? "bogus\r\n" : "incr\r\n");
		sbuf_adds(&want, "ERROR\r\n");
	}
	pt_expect(c, req.data, req.len, want.data, want.len);
	sbuf_free(&req);
	sbuf_free(&want);
	check_sentinel(c);
}

static const struct pt_test tests[] = {
	{ "garbage_line", t_garbage_line, 0 },
	{ "garbage_flood_closes", t_garbage_flood_closes, 0 },
	{ "nul_in_command", t_nul_in_command, 0 },
	{ "control_chars_in_key", t_control_chars_in_key, 0 },
	{ "error_storm", t_error_storm, 0 },
};

const struct pt_group pt_group_robust = PT_GROUP("robust", tests);
