// SPDX-License-Identifier: GPL-2.0
/*
 * Expiry times: negative means already expired, up to 30 days
 * (2592000 s) is relative, above that an absolute unix time. Tests that
 * need time to pass use pt_advance() and run only with --debugtime or
 * --sleep.
 */
#include <inttypes.h>

#include "prototest.h"

#define THIRTY_DAYS	2592000
#define SHORT_TTL	2
#define PASS_SECONDS	3

/* The server's idea of now, from "stats" (its clock may not be ours). */
static uint64_t server_time(struct conn *c)
{
	struct sbuf st;
	uint64_t t = 0;

	sbuf_init(&st);
	pt_stats(c, NULL, &st);
	pt_stat_u64(&st, "time", &t);
	sbuf_free(&st);
	return t;
}

static void set_exp(struct conn *c, const char *k, int64_t exptime)
{
	pt_cmd(c, pt_str("set %s 0 %" PRId64 " 1\r\nv\r\n", k, exptime),
	       "STORED\r\n");
}

static void t_negative(struct conn *c)
{
	const char *k = pt_key("k");

	set_exp(c, k, -1);
	pt_get_miss(c, k);
	/* The key is free again. */
	pt_cmd(c, pt_str("add %s 0 0 1\r\nw\r\n", k), "STORED\r\n");
	pt_get_is(c, k, 0, "w");
}

static void t_absolute_past(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t now = server_time(c);

	set_exp(c, k, (int64_t)now - 1000);
	pt_get_miss(c, k);
}

static void t_absolute_future(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t now = server_time(c);

	set_exp(c, k, (int64_t)now + 3600);
	pt_get_is(c, k, 0, "v");
}

static void t_thirty_days(struct conn *c)
{
	const char *rel = pt_key("rel"), *abs = pt_key("abs");

	/* Exactly 30 days is still relative ... */
	set_exp(c, rel, THIRTY_DAYS);
	pt_get_is(c, rel, 0, "v");
	/* ... one second more is a unix time in January 1970. */
	set_exp(c, abs, THIRTY_DAYS + 1);
	pt_get_miss(c, abs);
}

static void t_touch_gat_negative(struct conn *c)
{
	const char *a = pt_key("a"), *b = pt_key("b");

	pt_set(c, a, 0, "v");
	pt_cmd(c, pt_str("touch %s -1\r\n", a), "TOUCHED\r\n");
	pt_get_miss(c, a);
	/* gat returns the item, then it is gone. */
	pt_set(c, b, 0, "v");
	pt_cmd(c, pt_str("gat -1 %s\r\n", b),
	       pt_str("VALUE %s 0 1\r\nv\r\nEND\r\n", b));
	pt_get_miss(c, b);
}

static void t_relative_passes(struct conn *c)
{
	const char *plain = pt_key("plain"), *touched = pt_key("touched");
	const char *gat = pt_key("gat"), *forever = pt_key("forever");
	const char *abs = pt_key("abs");
	uint64_t now = server_time(c);

	set_exp(c, plain, SHORT_TTL);
	set_exp(c, touched, SHORT_TTL);
	set_exp(c, gat, SHORT_TTL);
	set_exp(c, forever, 0);
	set_exp(c, abs, (int64_t)now + SHORT_TTL);
	pt_cmd(c, pt_str("touch %s 100\r\n", touched), "TOUCHED\r\n");
	pt_cmd(c, pt_str("gat 100 %s\r\n", gat),
	       pt_str("VALUE %s 0 1\r\nv\r\nEND\r\n", gat));
	pt_get_is(c, plain, 0, "v");
	pt_get_is(c, abs, 0, "v");
	pt_advance(c, PASS_SECONDS);
	pt_get_miss(c, plain);
	pt_get_miss(c, abs);
	pt_get_is(c, touched, 0, "v");
	pt_get_is(c, gat, 0, "v");
	pt_get_is(c, forever, 0, "v");
	/* An expired key can be added again. */
	pt_cmd(c, pt_str("add %s 0 0 1\r\nn\r\n", plain), "STORED\r\n");
	pt_get_is(c, plain, 0, "n");
}

static const struct pt_test tests[] = {
	{ "exptime_negative", t_negative, 0 },
	{ "exptime_absolute_past", t_absolute_past, 0 },
	{ "exptime_absolute_future", t_absolute_future, 0 },
	{ "exptime_30_days_boundary", t_thirty_days, 0 },
	{ "touch_gat_negative", t_touch_gat_negative, 0 },
	{ "exptime_relative_passes", t_relative_passes, PT_NEED_TIME },
};

const struct pt_group pt_group_expiry = PT_GROUP("expiry", tests);
