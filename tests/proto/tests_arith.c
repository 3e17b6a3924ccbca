// SPDX-License-Identifier: GPL-2.0
/*
 * delete, incr/decr and touch: replies, edge values and error strings.
 */
#include <inttypes.h>

#include "prototest.h"

static void t_delete(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "v");
	pt_cmd(c, pt_str("delete %s\r\n", k), "DELETED\r\n");
	pt_get_miss(c, k);
	pt_cmd(c, pt_str("delete %s\r\n", k), "NOT_FOUND\r\n");
}

static void t_delete_zero_time(struct conn *c)
{
	const char *k = pt_key("k");

	/* A time of 0 is accepted for compatibility with old clients. */
	pt_set(c, k, 0, "v");
	pt_cmd(c, pt_str("delete %s 0\r\n", k), "DELETED\r\n");
	pt_cmd(c, pt_str("delete %s 0\r\n", k), "NOT_FOUND\r\n");
}

static void t_delete_errors(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "v");
	pt_cmd(c, pt_str("delete %s 5\r\n", k),
	       "CLIENT_ERROR bad command line format.  "
	       "Usage: delete <key> [noreply]\r\n");
	pt_cmd(c, "delete\r\n", "ERROR\r\n");
	pt_cmd(c, pt_str("delete %s 0 noreply extra\r\n", k), "ERROR\r\n");
	pt_get_is(c, k, 0, "v");
}

static void t_incr_decr(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 3, "10");
	pt_cmd(c, pt_str("incr %s 5\r\n", k), "15\r\n");
	pt_cmd(c, pt_str("decr %s 3\r\n", k), "12\r\n");
	pt_cmd(c, pt_str("incr %s 0\r\n", k), "12\r\n");
	pt_get_is(c, k, 3, "12");
}

static void t_incr_not_found(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("incr %s 1\r\n", k), "NOT_FOUND\r\n");
	pt_cmd(c, pt_str("decr %s 1\r\n", k), "NOT_FOUND\r\n");
	pt_get_miss(c, k);
}

static void t_incr_wraps(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "18446744073709551615");
	pt_cmd(c, pt_str("incr %s 1\r\n", k), "0\r\n");
	/* The shorter result is written in place, padded with spaces. */
	pt_get_is(c, k, 0, "0                   ");
	pt_set(c, k, 0, "1");
	pt_cmd(c, pt_str("incr %s 18446744073709551615\r\n", k), "0\r\n");
	pt_set(c, k, 0, "18446744073709551614");
	pt_cmd(c, pt_str("incr %s 3\r\n", k), "1\r\n");
}

static void t_decr_stops_at_zero(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "5");
	pt_cmd(c, pt_str("decr %s 6\r\n", k), "0\r\n");
	pt_cmd(c, pt_str("decr %s 1\r\n", k), "0\r\n");
	pt_get_is(c, k, 0, "0");
}

static void t_decr_shrinks_in_place(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "100");
	pt_cmd(c, pt_str("decr %s 1\r\n", k), "99\r\n");
	pt_get_is(c, k, 0, "99 ");
	pt_cmd(c, pt_str("decr %s 95\r\n", k), "4\r\n");
	pt_get_is(c, k, 0, "4  ");
	/* Trailing spaces still parse as a number. */
	pt_cmd(c, pt_str("incr %s 96\r\n", k), "100\r\n");
	pt_get_is(c, k, 0, "100");
}

static void t_incr_grows(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "99");
	pt_cmd(c, pt_str("incr %s 1\r\n", k), "100\r\n");
	pt_get_is(c, k, 0, "100");
}

static void t_incr_changes_cas(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t cas1 = 0, cas2 = 0;

	pt_set(c, k, 0, "1");
	pt_gets(c, k, "1", &cas1);
	pt_cmd(c, pt_str("incr %s 1\r\n", k), "2\r\n");
	pt_gets(c, k, "2", &cas2);
	pt_check(cas1 != cas2, "incr kept CAS %" PRIu64, cas1);
}

static void t_incr_non_numeric(struct conn *c)
{
	const char *k = pt_key("k");
	const char *err = "CLIENT_ERROR cannot increment or decrement "
			  "non-numeric value\r\n";

	pt_set(c, k, 0, "abc");
	pt_cmd(c, pt_str("incr %s 1\r\n", k), err);
	pt_cmd(c, pt_str("decr %s 1\r\n", k), err);
	pt_set(c, k, 0, "-1");
	pt_cmd(c, pt_str("incr %s 1\r\n", k), err);
	pt_get_is(c, k, 0, "-1");
}

static void t_incr_bad_delta(struct conn *c)
{
	const char *k = pt_key("k");
	const char *err = "CLIENT_ERROR invalid numeric delta argument\r\n";

	pt_set(c, k, 0, "7");
	pt_cmd(c, pt_str("incr %s abc\r\n", k), err);
	pt_cmd(c, pt_str("incr %s -1\r\n", k), err);
	pt_cmd(c, pt_str("decr %s 18446744073709551616\r\n", k), err);
	pt_get_is(c, k, 0, "7");
}

static void t_incr_token_count(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("incr %s\r\n", k), "ERROR\r\n");
	pt_cmd(c, "decr\r\n", "ERROR\r\n");
	pt_cmd(c, pt_str("incr %s 1 noreply x\r\n", k), "ERROR\r\n");
}

static void t_touch(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "v");
	pt_cmd(c, pt_str("touch %s 100\r\n", k), "TOUCHED\r\n");
	pt_cmd(c, pt_str("touch %s 100\r\n", pt_key("none")),
	       "NOT_FOUND\r\n");
	pt_get_is(c, k, 0, "v");
}

static void t_touch_errors(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "v");
	pt_cmd(c, pt_str("touch %s abc\r\n", k),
	       "CLIENT_ERROR invalid exptime argument\r\n");
	pt_cmd(c, pt_str("touch %s\r\n", k), "ERROR\r\n");
	pt_cmd(c, pt_str("touch %s 1 2 3\r\n", k), "ERROR\r\n");
	pt_get_is(c, k, 0, "v");
}

static const struct pt_test tests[] = {
	{ "delete", t_delete, 0 },
	{ "delete_zero_time", t_delete_zero_time, 0 },
	{ "delete_errors", t_delete_errors, 0 },
	{ "incr_decr", t_incr_decr, 0 },
	{ "incr_decr_not_found", t_incr_not_found, 0 },
	{ "incr_wraps_at_2_64", t_incr_wraps, 0 },
	{ "decr_stops_at_zero", t_decr_stops_at_zero, 0 },
	{ "decr_shrinks_in_place", t_decr_shrinks_in_place, 0 },
	{ "incr_grows", t_incr_grows, 0 },
	{ "incr_changes_cas", t_incr_changes_cas, 0 },
	{ "incr_non_numeric", t_incr_non_numeric, 0 },
	{ "incr_bad_delta", t_incr_bad_delta, 0 },
	{ "incr_token_count", t_incr_token_count, 0 },
	{ "touch", t_touch, 0 },
	{ "touch_errors", t_touch_errors, 0 },
};

const struct pt_group pt_group_arith = PT_GROUP("arith", tests);
