// SPDX-License-Identifier: GPL-2.0
/*
 * Storage commands: set add replace append prepend cas, flags, odd values
 * and every way memcached rejects a storage command line or its data.
 */
#include <inttypes.h>
#include <string.h>

#include "prototest.h"

#define TOO_LARGE	2000000	/* beyond memcached's default 1 MB -I */

static void t_set_overwrite(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 1, "first");
	pt_set(c, k, 2, "2nd");
	pt_get_is(c, k, 2, "2nd");
}

static void t_add(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("add %s 4 0 3\r\nnew\r\n", k), "STORED\r\n");
	pt_cmd(c, pt_str("add %s 5 0 5\r\nagain\r\n", k), "NOT_STORED\r\n");
	pt_get_is(c, k, 4, "new");
}

static void t_replace(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("replace %s 0 0 1\r\nx\r\n", k), "NOT_STORED\r\n");
	pt_get_miss(c, k);
	pt_set(c, k, 0, "old");
	pt_cmd(c, pt_str("replace %s 7 0 3\r\nnew\r\n", k), "STORED\r\n");
	pt_get_is(c, k, 7, "new");
}

static void t_append_prepend(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 5, "mid");
	/* The flags and exptime given to append/prepend are ignored. */
	pt_cmd(c, pt_str("append %s 9 0 4\r\n-end\r\n", k), "STORED\r\n");
	pt_cmd(c, pt_str("prepend %s 7 0 6\r\nstart-\r\n", k), "STORED\r\n");
	pt_get_is(c, k, 5, "start-mid-end");
}

static void t_append_prepend_absent(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("append %s 0 0 1\r\nx\r\n", k), "NOT_STORED\r\n");
	pt_cmd(c, pt_str("prepend %s 0 0 1\r\nx\r\n", k), "NOT_STORED\r\n");
	pt_get_miss(c, k);
}

static void t_append_changes_cas(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t cas1 = 0, cas2 = 0;

	pt_set(c, k, 0, "a");
	pt_gets(c, k, "a", &cas1);
	pt_cmd(c, pt_str("append %s 0 0 1\r\nb\r\n", k), "STORED\r\n");
	pt_gets(c, k, "ab", &cas2);
	pt_check(cas1 != cas2, "append kept CAS %" PRIu64, cas1);
}

static void t_cas(struct conn *c)
{
	const char *k = pt_key("k");
	uint64_t cas = 0, cas2 = 0;

	pt_set(c, k, 0, "v1");
	pt_gets(c, k, "v1", &cas);
	pt_cmd(c, pt_str("cas %s 3 0 2 %" PRIu64 "\r\nv2\r\n", k, cas),
	       "STORED\r\n");
	pt_get_is(c, k, 3, "v2");
	/* The same CAS value is stale now. */
	pt_cmd(c, pt_str("cas %s 0 0 2 %" PRIu64 "\r\nv3\r\n", k, cas),
	       "EXISTS\r\n");
	pt_sends(c, pt_str("gets %s\r\n", k));
	pt_read_value(c, k, 3, "v2", 2, &cas2);
	pt_check(cas2 != cas, "cas did not change the CAS value");
	pt_cmd(c, pt_str("cas %s 0 0 2 %" PRIu64 "\r\nv4\r\n", k, cas2),
	       "STORED\r\n");
	pt_get_is(c, k, 0, "v4");
}

static void t_cas_not_found(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("cas %s 0 0 1 1\r\nx\r\n", k), "NOT_FOUND\r\n");
	pt_get_miss(c, k);
}

static void t_cas_bad_value(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "keep");
	/* Rejected before the data: the data line becomes a command. */
	pt_cmd(c, pt_str("cas %s 0 0 1 abc\r\nx\r\n", k),
	       "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	pt_cmd(c, pt_str("cas %s 0 0 1 -1\r\nx\r\n", k),
	       "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	/* No CAS token at all is a wrong token count. */
	pt_cmd(c, pt_str("cas %s 0 0 1\r\nx\r\n", k), "ERROR\r\nERROR\r\n");
	pt_get_is(c, k, 0, "keep");
}

static void t_flags_32bit(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("set %s 4294967295 0 1\r\nf\r\n", k), "STORED\r\n");
	pt_get_is(c, k, 4294967295U, "f");
	pt_cmd(c, pt_str("set %s 2147483648 0 1\r\nf\r\n", k), "STORED\r\n");
	pt_get_is(c, k, 2147483648U, "f");
}

static void t_zero_length_value(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("set %s 0 0 0\r\n\r\n", k), "STORED\r\n");
	pt_cmd(c, pt_str("get %s\r\n", k),
	       pt_str("VALUE %s 0 0\r\n\r\nEND\r\n", k));
}

static void t_value_with_crlf(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("set %s 0 0 12\r\nEND\r\nVALUE\r\n\r\n", k),
	       "STORED\r\n");
	pt_get_is(c, k, 0, "END\r\nVALUE\r\n");
}

static void t_binary_value(struct conn *c)
{
	const char *k = pt_key("k");
	const char *hdr = pt_str("set %s 0 0 256\r\n", k);
	struct sbuf req, want;
	int i;

	sbuf_init(&req);
	sbuf_init(&want);
	sbuf_adds(&req, hdr);
	sbuf_adds(&want, pt_str("VALUE %s 0 256\r\n", k));
	for (i = 0; i < 256; i++) {
		unsigned char ch = (unsigned char)(255 - i);

		sbuf_add(&req, &ch, 1);
		sbuf_add(&want, &ch, 1);
	}
	sbuf_adds(&req, "\r\n");
	sbuf_adds(&want, "\r\nEND\r\n");
	pt_expect(c, req.data, req.len, "STORED\r\n", 8);
	pt_expect(c, pt_str("get %s\r\n", k), strlen(k) + 6,
		  want.data, want.len);
	sbuf_free(&req);
	sbuf_free(&want);
}

static void t_bad_data_chunk(struct conn *c)
{
	const char *k = pt_key("k");

	pt_set(c, k, 0, "old");
	/*
	 * memcached reads <bytes>+2 = "abcde", finds no "\r\n" at its end,
	 * answers CLIENT_ERROR and parses what follows ("\r\n", an empty
	 * line) as a command. The old value stays.
	 */
	pt_cmd(c, pt_str("set %s 0 0 3\r\nabcde\r\n", k),
	       "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	pt_get_is(c, k, 0, "old");
	pt_cmd(c, pt_str("set %s 0 0 3\r\nabcdefgh\r\n", k),
	       "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	pt_get_is(c, k, 0, "old");
}

static void t_bad_command_line(struct conn *c)
{
	const char *k = pt_key("k");
	const char *bad = "CLIENT_ERROR bad command line format\r\n";

	pt_set(c, k, 0, "keep");
	/* A bad length: nothing more is read as data. */
	pt_cmd(c, pt_str("set %s 0 0 -1\r\n", k), bad);
	pt_cmd(c, pt_str("set %s 0 0 abc\r\n", k), bad);
	/* A bad flags/exptime: the data line is then read as a command. */
	pt_cmd(c, pt_str("set %s abc 0 1\r\nx\r\n", k),
	       pt_str("%sERROR\r\n", bad));
	pt_cmd(c, pt_str("set %s -1 0 1\r\nx\r\n", k),
	       pt_str("%sERROR\r\n", bad));
	pt_cmd(c, pt_str("set %s 0 abc 1\r\nx\r\n", k),
	       pt_str("%sERROR\r\n", bad));
	pt_cmd(c, pt_str("add %s 0 0 x\r\n", k), bad);
	pt_get_is(c, k, 0, "keep");
}

static void t_wrong_token_count(struct conn *c)
{
	const char *k = pt_key("k");

	pt_cmd(c, pt_str("set %s 0 0\r\n", k), "ERROR\r\n");
	pt_cmd(c, pt_str("set %s 0\r\n", k), "ERROR\r\n");
	pt_cmd(c, "set\r\n", "ERROR\r\n");
	pt_cmd(c, pt_str("set %s 0 0 1 noreply extra\r\n", k), "ERROR\r\n");
	pt_cmd(c, pt_str("append %s 0 0\r\n", k), "ERROR\r\n");
	pt_get_miss(c, k);
}

static void t_too_large(struct conn *c)
{
	const char *k = pt_key("k");
	struct sbuf req;

	pt_set(c, k, 0, "old");
	sbuf_init(&req);
	sbuf_addf(&req, "set %s 0 0 %d\r\n", k, TOO_LARGE);
	sbuf_fill(&req, 'z', TOO_LARGE);
	sbuf_adds(&req, "\r\n");
	/* The data is swallowed, then the error is sent. */
	pt_expect(c, req.data, req.len,
		  "SERVER_ERROR object too large for cache\r\n", 41);
	sbuf_free(&req);
	/* memcached unlinks the old item when a set fails. */
	pt_get_miss(c, k);
	pt_set(c, k, 0, "after");
	pt_get_is(c, k, 0, "after");
}

static const struct pt_test tests[] = {
	{ "set_overwrite", t_set_overwrite, 0 },
	{ "add", t_add, 0 },
	{ "replace", t_replace, 0 },
	{ "append_prepend_keep_flags", t_append_prepend, 0 },
	{ "append_prepend_absent", t_append_prepend_absent, 0 },
	{ "append_changes_cas", t_append_changes_cas, 0 },
	{ "cas", t_cas, 0 },
	{ "cas_not_found", t_cas_not_found, 0 },
	{ "cas_bad_value", t_cas_bad_value, 0 },
	{ "flags_32bit", t_flags_32bit, 0 },
	{ "zero_length_value", t_zero_length_value, 0 },
	{ "value_with_crlf", t_value_with_crlf, 0 },
	{ "binary_value", t_binary_value, 0 },
	{ "bad_data_chunk", t_bad_data_chunk, 0 },
	{ "bad_command_line", t_bad_command_line, 0 },
	{ "wrong_token_count", t_wrong_token_count, 0 },
	{ "too_large", t_too_large, 0 },
};

const struct pt_group pt_group_store = PT_GROUP("store", tests);
