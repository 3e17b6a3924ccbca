// SPDX-License-Identifier: GPL-2.0
/*
 * test_bin.c - what the binary protocol added to the store (CAS on every
 * write, incr with an initial value, caller-formatted reads) and the
 * binary session's contract with its transport: bytes used, a packet cut
 * anywhere, the budget stall, a refused body skipped without memory.
 */
#include <stdlib.h>
#include <string.h>

#include "bin.h"
#include "items.h"
#include "session.h"
#include "tap.h"
#include "unit_util.h"

#define MB (1024ULL * 1024)

static struct xkv_item *item(struct xkv_store *st, const char *key,
			     const char *val)
{
	int err;
	struct xkv_item *it = xkv_item_alloc(st, key, strlen(key), 0, 0,
					     (u32)strlen(val), &err);

	if (it)
		memcpy(xkv_item_value(it), val, strlen(val));
	return it;
}

static void test_store_cas(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	u64 cas = 0, c1;
	char *v;

	tap_is_u64(xkv_item_store_cas(st, item(st, "k", "v1"), XKV_OP_SET, 0,
				      &cas), XKV_STORED, "set, no CAS");
	tap_is_u64(cas, uu_cas(st, "k"), "the new CAS is returned");
	c1 = cas;
	tap_is_u64(xkv_item_store_cas(st, item(st, "k", "v2"), XKV_OP_ADD,
				      c1 + 1, NULL), XKV_EXISTS,
		   "add with a wrong CAS: exists (it is a cas)");
	tap_is_u64(xkv_item_store_cas(st, item(st, "m", "v"), XKV_OP_REPLACE,
				      5, NULL), XKV_NOT_FOUND,
		   "replace with a CAS on a miss: not found");
	tap_is_u64(xkv_item_store_cas(st, item(st, "k", "+"),
				      XKV_OP_APPEND, c1 + 1, NULL),
		   XKV_EXISTS, "append with a wrong CAS: exists");
	tap_is_u64(xkv_item_store_cas(st, item(st, "k", "+"),
				      XKV_OP_APPEND, c1, &cas),
		   XKV_STORED, "append with the CAS");
	tap_ok(cas != c1 && cas == uu_cas(st, "k"), "append: a new CAS");
	v = uu_get_str(st, "k");
	tap_is_str(v ? v : "<miss>", "v1+", "appended");
	free(v);
	/* the text protocol's append ignores a CAS left from a cas command */
	tap_is_u64(xkv_item_store(st, item(st, "k", "!"), XKV_OP_APPEND, 1),
		   XKV_STORED, "xkv_item_store append: no CAS check");
	tap_is_u64(xkv_item_delete_cas(st, "k", 1, uu_cas(st, "k") + 1),
		   XKV_EXISTS, "delete with a wrong CAS: exists");
	tap_ok(uu_has(st, "k"), "still there");
	tap_is_u64(xkv_item_delete_cas(st, "k", 1, uu_cas(st, "k")),
		   XKV_DELETED, "delete with the CAS");
	tap_is_u64(xkv_item_delete_cas(st, "k", 1, 0), XKV_NOT_FOUND,
		   "delete a miss");
	xkv_store_destroy(st);
}

static void test_arith_ex(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_arith_req r = { .incr = true, .delta = 1 };
	struct xkv_item hdr;

	tap_is_u64(xkv_item_arith_ex(st, "n", 1, &r), XKV_NOT_FOUND,
		   "miss without create");
	r.create = true;
	r.initial = 42;
	tap_is_u64(xkv_item_arith_ex(st, "n", 1, &r), XKV_STORED,
		   "miss with create");
	tap_ok(r.created && r.value == 42 && r.cas == uu_cas(st, "n"),
	       "created 42 with its CAS");
	tap_is_u64(xkv_item_arith_ex(st, "n", 1, &r), XKV_STORED, "incr");
	tap_ok(!r.created && r.value == 43, "43");
	r.req_cas = r.cas + 1;
	tap_is_u64(xkv_item_arith_ex(st, "n", 1, &r), XKV_EXISTS,
		   "wrong CAS");
	r.req_cas = uu_cas(st, "n");
	r.incr = false;
	r.delta = 100;
	tap_is_u64(xkv_item_arith_ex(st, "n", 1, &r), XKV_STORED,
		   "decr with the CAS");
	tap_ok(r.value == 0 && !strcmp(r.res, "0"), "stops at 0");
	/* memcached's order: an empty value is non-numeric before the CAS */
	uu_set(st, "e", "");
	r.req_cas = uu_cas(st, "e") + 1;
	tap_is_u64(xkv_item_arith_ex(st, "e", 1, &r), XKV_NON_NUMERIC,
		   "empty value, wrong CAS: non-numeric");
	uu_set(st, "e", "x");
	r.req_cas = uu_cas(st, "e") + 1;
	tap_is_u64(xkv_item_arith_ex(st, "e", 1, &r), XKV_EXISTS,
		   "a value, wrong CAS: exists before the digits are read");
	/* a creation carries its expiry; growing keeps flags and expiry */
	r = (struct xkv_arith_req){ .incr = true, .delta = 1, .create = true,
				    .initial = 9,
				    .exptime = xkv_exptime(st, 1000) };
	tap_is_u64(xkv_item_arith_ex(st, "g", 1, &r), XKV_STORED,
		   "created 9");
	tap_is_u64(xkv_item_arith_ex(st, "g", 1, &r), XKV_STORED,
		   "9 + 1 needs a bigger item");
	tap_ok(!r.created && r.found && !strcmp(r.res, "10") &&
		       uu_peek(st, "g", &hdr) && hdr.exptime == r.exptime &&
		       hdr.nbytes == 2 && hdr.cas == r.cas,
	       "grown to 10 with the created item's expiry");
	xkv_store_destroy(st);
}

/* meta's ms I and md I through the same store and delete */
static void test_store_ex(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_store_req r = { .op = XKV_OP_CAS };
	struct xkv_delete_req d = { .check_cas = true };
	struct xkv_item hdr;
	u64 c1;

	uu_set(st, "k", "v1");
	c1 = uu_cas(st, "k");
	d.req_cas = 0;
	tap_is_u64(xkv_item_delete_ex(st, "k", 1, &d), XKV_EXISTS,
		   "delete with a checked CAS of 0: exists");
	d = (struct xkv_delete_req){ .invalidate = true, .new_ttl = true,
				     .exptime = xkv_exptime(st, 500) };
	tap_is_u64(xkv_item_delete_ex(st, "k", 1, &d), XKV_DELETED,
		   "invalidate");
	tap_ok(uu_peek(st, "k", &hdr) && (hdr.iflags & XKV_IT_STALE) &&
		       hdr.exptime == d.exptime && hdr.cas > c1,
	       "still linked, stale, new TTL and CAS");
	r.req_cas = c1;
	tap_is_u64(xkv_item_store_ex(st, item(st, "k", "v2"), &r), XKV_EXISTS,
		   "cas with the old CAS, no I: exists");
	r.stale = true;
	tap_is_u64(xkv_item_store_ex(st, item(st, "k", "v2"), &r), XKV_STORED,
		   "cas with the old CAS and I: stored");
	tap_ok(r.cas == uu_cas(st, "k") && uu_peek(st, "k", &hdr) &&
		       (hdr.iflags & XKV_IT_STALE) && hdr.exptime == d.exptime,
	       "... stale, keeping the TTL");
	r.req_cas = r.cas;
	tap_is_u64(xkv_item_store_ex(st, item(st, "k", "v3"), &r), XKV_STORED,
		   "cas with the current CAS: stored");
	tap_ok(uu_peek(st, "k", &hdr) && !(hdr.iflags & XKV_IT_STALE),
	       "... and no longer stale");
	xkv_store_destroy(st);
}

/* the statuses of the responses in @s's output, then drained */
static size_t statuses(struct xkv_sess *s, u16 *st, size_t max)
{
	struct xkv_buf *out = xkv_sess_out(s);
	const u8 *p = (const u8 *)out->data + out->off;
	size_t n = xkv_buf_pending(out), k = 0;

	while (n >= 24 && k < max) {
		u32 body = (u32)p[8] << 24 | (u32)p[9] << 16 |
			   (u32)p[10] << 8 | p[11];

		st[k++] = (u16)(p[6] << 8 | p[7]);
		p += 24 + body;
		n -= 24 + body;
	}
	xkv_buf_consume(out, xkv_buf_pending(out));
	return k;
}

static void test_session(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_thread_stats *ts = xkv_store_stats_slot(st, 0);
	struct xkv_sess *s = xkv_sess_new(st, ts, false);
	u8 w[4096], ext[8] = { 0 };
	size_t len = 0, used = 0, i;
	u16 sts[8];

	len += uu_bin_pkt(w + len, 0x01, "key", ext, 8, "value", 0);
	len += uu_bin_pkt(w + len, 0x0c, "key", NULL, 0, NULL, 0);
	len += uu_bin_pkt(w + len, 0x0a, "", NULL, 0, NULL, 0);
	/* one byte at a time: every byte used, replies once whole */
	for (i = 0; i < len; i++)
		used += xkv_sess_input(s, (const char *)w + i, 1);
	tap_is_u64(used, len, "a byte at a time: every byte used");
	tap_is_u64(statuses(s, sts, 8), 3, "three replies");
	tap_ok(!sts[0] && !sts[1] && !sts[2], "all succeed");
	tap_ok(xkv_sess_between(s), "between packets");
	/* a ~4 GB body: refused, skipped as it comes, no memory taken */
	len = uu_bin_pkt(w, 0x01, "big", ext, 8, "abc", 0xfffffff0);
	tap_is_u64(xkv_sess_input(s, (const char *)w, len), len,
		   "refused set: all used");
	tap_is_u64(statuses(s, sts, 8), 1, "one reply");
	tap_is_u64(sts[0], 0x03, "E2BIG");
	tap_ok(!xkv_sess_between(s), "inside the refused body");
	memset(w, 'x', sizeof(w));
	tap_is_u64(xkv_sess_input(s, (const char *)w, sizeof(w)), sizeof(w),
		   "body bytes swallowed");
	tap_is_u64(statuses(s, sts, 8), 0, "no reply for them");
	xkv_sess_free(s);
	/* a text first byte stays text */
	s = xkv_sess_new(st, ts, false);
	tap_is_u64(xkv_sess_input(s, "version\r\n", 9), 9, "text session");
	tap_ok(xkv_buf_pending(xkv_sess_out(s)) > 8 &&
		       !memcmp(xkv_sess_out(s)->data, "VERSION ", 8),
	       "answers in text");
	xkv_sess_free(s);
	xkv_store_destroy(st);
}

int main(void)
{
	test_store_cas();
	test_arith_ex();
	test_store_ex();
	test_session();
	return tap_done();
}
