// SPDX-License-Identifier: GPL-2.0
/*
 * Retrieval: get, gets, gat, gats; hits, misses, multi-key, key lengths.
 */
#include <inttypes.h>
#include <string.h>

#include "prototest.h"

/* A key of exactly @len bytes, unique to this run and test. */
static const char *key_of_len(size_t len)
{
	const char *base = pt_key("");
	struct sbuf b;
	const char *k;

	sbuf_init(&b);
	sbuf_adds(&b, base);
	if (b.len < len)
		sbuf_fill(&b, 'k', len - b.len);
	b.len = len;
	b.data[len] = '\0';
	k = pt_str("%s", b.data);
	sbuf_free(&b);
	return k;
}

static void t_get_miss(struct conn *c)
{
	pt_get_miss(c, pt_key("absent"));
}

static void t_get_hit(struct conn *c)
{
	const char *k = pt_key("a");

	pt_cmd(c, pt_str("set %s 0 0 5\r\nhello\r\n", k), "STORED\r\n");
	pt_cmd(c, pt_str("get %s\r\n", k),
	       pt_str("VALUE %s 0 5\r\nhello\r\nEND\r\n", k));
}

static void t_get_no_key(struct conn *c)
{
	pt_cmd(c, "get\r\n", "ERROR\r\n");
	pt_cmd(c, "gets\r\n", "ERROR\r\n");
	/* A trailing space adds no key. */
	pt_cmd(c, "get \r\n", "ERROR\r\n");
}

static void t_get_multi_mixed(struct conn *c)
{
	const char *a = pt_key("a"), *b = pt_key("b");
	const char *x = pt_key("x"), *y = pt_key("y");

	pt_set(c, a, 1, "aa");
	pt_set(c, b, 2, "bbb");
	pt_cmd(c, pt_str("get %s %s %s %s\r\n", x, a, y, b),
	       pt_str("VALUE %s 1 2\r\naa\r\nVALUE %s 2 3\r\nbbb\r\nEND\r\n",
		      a, b));
}

static void t_get_multi_repeated_key(struct conn *c)
{
	const char *a = pt_key("a");

	/* memcached answers a key once per mention. */
	pt_set(c, a, 0, "v");
	pt_cmd(c, pt_str("get %s %s\r\n", a, a),
	       pt_str("VALUE %s 0 1\r\nv\r\nVALUE %s 0 1\r\nv\r\nEND\r\n",
		      a, a));
}

static void t_get_extra_spaces(struct conn *c)
{
	const char *a = pt_key("a");

	pt_set(c, a, 0, "v");
	pt_cmd(c, pt_str("get  %s   \r\n", a),
	       pt_str("VALUE %s 0 1\r\nv\r\nEND\r\n", a));
}

static void t_gets_cas(struct conn *c)
{
	const char *a = pt_key("a"), *b = pt_key("b");
	uint64_t cas1 = 0, cas2 = 0, cas3 = 0;

	pt_set(c, a, 0, "one");
	pt_gets(c, a, "one", &cas1);
	pt_check(cas1 != 0, "CAS value is 0");
	pt_gets(c, a, "one", &cas2);
	pt_check(cas1 == cas2, "CAS moved without a write: %" PRIu64
		 " then %" PRIu64, cas1, cas2);
	pt_set(c, a, 0, "two");
	pt_gets(c, a, "two", &cas3);
	pt_check(cas3 != cas1, "CAS unchanged by set: %" PRIu64, cas1);
	pt_set(c, b, 0, "b");
	pt_sends(c, pt_str("gets %s %s\r\n", pt_key("none"), b));
	pt_read_value(c, b, 0, "b", 1, &cas2);
}

static void t_gets_cas_unique_per_key(struct conn *c)
{
	const char *a = pt_key("a"), *b = pt_key("b");
	uint64_t ca = 0, cb = 0;

	pt_set(c, a, 0, "x");
	pt_set(c, b, 0, "x");
	pt_gets(c, a, "x", &ca);
	pt_gets(c, b, "x", &cb);
	pt_check(ca != cb, "two items share CAS %" PRIu64, ca);
}

static void t_key_250(struct conn *c)
{
	const char *k = key_of_len(PT_KEY_MAX);

	pt_check(strlen(k) == PT_KEY_MAX, "key helper broke");
	pt_set(c, k, 0, "long");
	pt_get_is(c, k, 0, "long");
}

static void t_key_251(struct conn *c)
{
	const char *k = key_of_len(PT_KEY_MAX + 1);

	pt_cmd(c, pt_str("get %s\r\n", k),
	       "CLIENT_ERROR bad command line format\r\n");
	/* The set is refused before its data: "x" is read as a command. */
	pt_cmd(c, pt_str("set %s 0 0 1\r\nx\r\n", k),
	       "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	pt_cmd(c, "get\r\n", "ERROR\r\n");
}

static void t_gat(struct conn *c)
{
	const char *a = pt_key("a"), *m = pt_key("missing");

	pt_set(c, a, 3, "hi");
	pt_cmd(c, pt_str("gat 100 %s %s\r\n", a, m),
	       pt_str("VALUE %s 3 2\r\nhi\r\nEND\r\n", a));
	pt_cmd(c, pt_str("gat 100 %s\r\n", m), "END\r\n");
}

static void t_gats(struct conn *c)
{
	const char *a = pt_key("a");
	uint64_t cas1 = 0, cas2 = 0;

	pt_set(c, a, 0, "hi");
	pt_gets(c, a, "hi", &cas1);
	pt_sends(c, pt_str("gats 100 %s\r\n", a));
	pt_read_value(c, a, 0, "hi", 2, &cas2);
	/* Touching changes the expiry, not the CAS. */
	pt_check(cas1 == cas2, "gats CAS %" PRIu64 " != gets CAS %" PRIu64,
		 cas2, cas1);
}

static void t_gat_errors(struct conn *c)
{
	pt_cmd(c, "gat\r\n", "ERROR\r\n");
	pt_cmd(c, "gats\r\n", "ERROR\r\n");
	pt_cmd(c, pt_str("gat abc %s\r\n", pt_key("a")),
	       "CLIENT_ERROR invalid exptime argument\r\n");
	/* memcached 1.6.18: an exptime and no key is an empty hit list. */
	pt_cmd(c, "gat 10\r\n", "END\r\n");
}

static const struct pt_test tests[] = {
	{ "get_miss", t_get_miss, 0 },
	{ "get_hit", t_get_hit, 0 },
	{ "get_no_key", t_get_no_key, 0 },
	{ "get_multi_mixed", t_get_multi_mixed, 0 },
	{ "get_multi_repeated_key", t_get_multi_repeated_key, 0 },
	{ "get_extra_spaces", t_get_extra_spaces, 0 },
	{ "gets_cas", t_gets_cas, 0 },
	{ "gets_cas_unique_per_key", t_gets_cas_unique_per_key, 0 },
	{ "key_250_bytes", t_key_250, 0 },
	{ "key_251_bytes", t_key_251, 0 },
	{ "gat", t_gat, 0 },
	{ "gats", t_gats, 0 },
	{ "gat_errors", t_gat_errors, 0 },
};

const struct pt_group pt_group_get = PT_GROUP("get", tests);
