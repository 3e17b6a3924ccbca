// SPDX-License-Identifier: GPL-2.0
/*
 * noreply: the command takes effect and sends nothing, not even an error.
 * Each test pipelines the noreply command with a "get" of the same key in
 * one write; the only bytes allowed back are the get's, which also prove
 * the command's effect. (flush_all noreply lives with the flush tests.)
 */
#include <inttypes.h>
#include <string.h>

#include "prototest.h"

/**
 * struct nr_case - one noreply check
 * @before:	value stored first, or NULL to start with no item
 * @cmd:	the noreply command; "%s" is replaced by the key
 * @after:	value "get" must show afterwards, or NULL for a miss
 */
struct nr_case {
	const char *before;
	const char *cmd;
	const char *after;
};

static void run_case(struct conn *c, const struct nr_case *nc)
{
	const char *k = pt_key("k");
	const char *want = "END\r\n";

	if (nc->before)
		pt_set(c, k, 0, nc->before);
	if (nc->after)
		want = pt_str("VALUE %s 0 %zu\r\n%s\r\nEND\r\n", k,
			      strlen(nc->after), nc->after);
	pt_cmd(c, pt_str("%s%s%s\r\n", pt_str(nc->cmd, k), "get ", k), want);
}

#define NR_TEST(fn, b, cmdfmt, a)					\
static void fn(struct conn *c)						\
{									\
	static const struct nr_case nc = { b, cmdfmt, a };		\
									\
	run_case(c, &nc);						\
}

NR_TEST(t_set, NULL, "set %s 0 0 3 noreply\r\nnew\r\n", "new")
NR_TEST(t_add, NULL, "add %s 0 0 3 noreply\r\nnew\r\n", "new")
NR_TEST(t_add_exists, "old", "add %s 0 0 3 noreply\r\nnew\r\n", "old")
NR_TEST(t_replace, "old", "replace %s 0 0 3 noreply\r\nnew\r\n", "new")
NR_TEST(t_replace_absent, NULL, "replace %s 0 0 1 noreply\r\nx\r\n", NULL)
NR_TEST(t_append, "ab", "append %s 0 0 2 noreply\r\ncd\r\n", "abcd")
NR_TEST(t_prepend, "cd", "prepend %s 0 0 2 noreply\r\nab\r\n", "abcd")
NR_TEST(t_delete, "old", "delete %s noreply\r\n", NULL)
NR_TEST(t_delete_absent, NULL, "delete %s noreply\r\n", NULL)
NR_TEST(t_delete_zero, "old", "delete %s 0 noreply\r\n", NULL)
NR_TEST(t_incr, "41", "incr %s 1 noreply\r\n", "42")
NR_TEST(t_decr, "43", "decr %s 1 noreply\r\n", "42")
NR_TEST(t_incr_absent, NULL, "incr %s 1 noreply\r\n", NULL)
NR_TEST(t_incr_non_numeric, "x", "incr %s 1 noreply\r\n", "x")
NR_TEST(t_touch, "old", "touch %s 100 noreply\r\n", "old")
NR_TEST(t_touch_absent, NULL, "touch %s 100 noreply\r\n", NULL)

static void t_cas(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t cas = 0;

	pt_set(c, k, 0, "v1");
	pt_gets(c, k, "v1", &cas);
	pt_cmd(c, pt_str("cas %s 0 0 2 %" PRIu64 " noreply\r\nv2\r\n"
			 "get %s\r\n", k, cas, k),
	       pt_str("VALUE %s 0 2\r\nv2\r\nEND\r\n", k));
	/* EXISTS is suppressed too. */
	pt_cmd(c, pt_str("cas %s 0 0 2 %" PRIu64 " noreply\r\nv3\r\n"
			 "get %s\r\n", k, cas, k),
	       pt_str("VALUE %s 0 2\r\nv2\r\nEND\r\n", k));
	/* And NOT_FOUND. */
	pt_cmd(c, pt_str("cas %s 0 0 1 1 noreply\r\nx\r\nget %s\r\n",
			 pt_key("none"), k),
	       pt_str("VALUE %s 0 2\r\nv2\r\nEND\r\n", k));
}

static void t_verbosity(struct conn *c)
{
	pt_cmd(c, "verbosity 0 noreply\r\nget\r\n", "ERROR\r\n");
}

static void t_many_in_one_write(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("set %s 0 0 1 noreply\r\n5\r\n"
			 "incr %s 10 noreply\r\n"
			 "append %s 0 0 1 noreply\r\n0\r\n"
			 "decr %s 1 noreply\r\n"
			 "get %s\r\n", k, k, k, k, k),
	       pt_str("VALUE %s 0 3\r\n149\r\nEND\r\n", k));
}

static const struct pt_test tests[] = {
	{ "noreply_set", t_set, 0 },
	{ "noreply_add", t_add, 0 },
	{ "noreply_add_exists", t_add_exists, 0 },
	{ "noreply_replace", t_replace, 0 },
	{ "noreply_replace_absent", t_replace_absent, 0 },
	{ "noreply_append", t_append, 0 },
	{ "noreply_prepend", t_prepend, 0 },
	{ "noreply_cas", t_cas, 0 },
	{ "noreply_delete", t_delete, 0 },
	{ "noreply_delete_absent", t_delete_absent, 0 },
	{ "noreply_delete_zero", t_delete_zero, 0 },
	{ "noreply_incr", t_incr, 0 },
	{ "noreply_decr", t_decr, 0 },
	{ "noreply_incr_absent", t_incr_absent, 0 },
	{ "noreply_incr_non_numeric", t_incr_non_numeric, 0 },
	{ "noreply_touch", t_touch, 0 },
	{ "noreply_touch_absent", t_touch_absent, 0 },
	{ "noreply_verbosity", t_verbosity, 0 },
	{ "noreply_many_in_one_write", t_many_in_one_write, 0 },
};

const struct pt_group pt_group_noreply = PT_GROUP("noreply", tests);
