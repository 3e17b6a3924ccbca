// SPDX-License-Identifier: GPL-2.0
/*
 * flush_all. These wipe the whole server, so they run after every other
 * group. The delayed flush is cancelled by an immediate one at its end,
 * so nothing is left pending for whoever uses the server next.
 */
#include <string.h>

#include "prototest.h"

#define FLUSH_DELAY	3	/* memcached fires a delayed flush up to 2 s
				 * early (its deadline is delay - 1, in
				 * whole seconds), so 3 is the least that
				 * leaves items readable right after it. */
#define FLUSH_WAIT_MS	6000

static void t_flush_all(struct conn *c)
{
	const char *a = pt_key("a"), *b = pt_key("b");

	pt_set(c, a, 0, "1");
	pt_set(c, b, 0, "2");
	pt_cmd(c, "flush_all\r\n", "OK\r\n");
	pt_cmd(c, pt_str("get %s %s\r\n", a, b), "END\r\n");
	/* Storing right after a flush works (same second included). */
	pt_set(c, a, 0, "3");
	pt_get_is(c, a, 0, "3");
	pt_cmd(c, pt_str("add %s 0 0 1\r\n4\r\n", b), "STORED\r\n");
}

static void t_flush_all_zero(struct conn *c)
{
	const char *a = pt_key("a");

	pt_set(c, a, 0, "1");
	pt_cmd(c, "flush_all 0\r\n", "OK\r\n");
	pt_get_miss(c, a);
	/* A negative delay flushes at once too. */
	pt_set(c, a, 0, "2");
	pt_cmd(c, "flush_all -1\r\n", "OK\r\n");
	pt_get_miss(c, a);
}

static void t_flush_all_noreply(struct conn *c)
{
	const char *a = pt_key("a");

	pt_set(c, a, 0, "1");
	pt_cmd(c, pt_str("flush_all noreply\r\nget %s\r\n", a), "END\r\n");
	pt_set(c, a, 0, "2");
	pt_cmd(c, pt_str("flush_all 0 noreply\r\nget %s\r\n", a), "END\r\n");
}

static void t_flush_all_errors(struct conn *c)
{
	const char *a = pt_key("a");

	pt_set(c, a, 0, "1");
	pt_cmd(c, "flush_all abc\r\n",
	       "CLIENT_ERROR invalid exptime argument\r\n");
	pt_cmd(c, "flush_all 1 2 3\r\n", "ERROR\r\n");
	/* Neither did flush. */
	pt_get_is(c, a, 0, "1");
}

/* One "get": true on a miss, false on a hit; a bad reply fails the test. */
static bool is_gone(struct conn *c, const char *k)
{
	const char *hit = pt_str("VALUE %s 0 1\r\n", k);
	struct sbuf line;
	bool gone = false;

	if (!pt_sends(c, pt_str("get %s\r\n", k)))
		return false;
	sbuf_init(&line);
	conn_read_line(c, &line);
	if (line.data && !strcmp(line.data, "END\r\n"))
		gone = true;
	else if (line.data && !strcmp(line.data, hit))
		pt_cmd(c, NULL, "1\r\nEND\r\n");
	else
		tap_fail("bad reply to get: \"%.60s\"",
			 line.data ? line.data : "");
	sbuf_free(&line);
	return gone;
}

/* Poll (with --sleep) or jump time (with --debugtime) until @k is gone. */
static void wait_flushed(struct conn *c, const char *k)
{
	uint64_t deadline = pt_now_ms() + FLUSH_WAIT_MS;

	if (pt_opts.debugtime) {
		pt_advance(c, FLUSH_DELAY + 1);
		pt_get_miss(c, k);
		return;
	}
	while (!tap_failed() && pt_now_ms() < deadline) {
		if (is_gone(c, k))
			return;
		pt_msleep(250);
	}
	if (!tap_failed())
		tap_fail("still present %d ms after flush_all %d",
			 FLUSH_WAIT_MS, FLUSH_DELAY);
}

static void t_flush_all_delayed(struct conn *c)
{
	const char *a = pt_key("a"), *b = pt_key("b"), *late = pt_key("late");

	pt_set(c, a, 0, "1");
	pt_cmd(c, pt_str("flush_all %d\r\n", FLUSH_DELAY), "OK\r\n");
	/* Nothing is flushed before the delay ... */
	pt_get_is(c, a, 0, "1");
	pt_set(c, late, 0, "1");
	pt_get_is(c, late, 0, "1");
	if (pt_opts.debugtime || pt_opts.sleep) {
		wait_flushed(c, a);
		/* ... then items stored before the deadline go too. */
		pt_get_miss(c, late);
	}
	/* Cancel whatever is pending: a flush now replaces the delayed one. */
	pt_cmd(c, "flush_all\r\n", "OK\r\n");
	pt_set(c, b, 0, "2");
	pt_get_is(c, b, 0, "2");
}

static const struct pt_test tests[] = {
	{ "flush_all", t_flush_all, 0 },
	{ "flush_all_zero", t_flush_all_zero, 0 },
	{ "flush_all_noreply", t_flush_all_noreply, 0 },
	{ "flush_all_errors", t_flush_all_errors, 0 },
	{ "flush_all_delayed", t_flush_all_delayed, 0 },
};

const struct pt_group pt_group_flush = PT_GROUP("flush", tests);
