// SPDX-License-Identifier: GPL-2.0
/*
 * test_items.c - the item operations: storage commands and their results,
 * CAS, incr/decr, touch, delete, expiry, flush_all, the crawler, eviction
 * under a small memory limit, the item header, and a multi-threaded smoke
 * test checked against the counters.
 */
#include <pthread.h>
#include <stddef.h>

#include "assoc.h"
#include "slab.h"
#include "tap.h"
#include "unit_util.h"
#include "util.h"

#define MB (1024ULL * 1024)

static enum xkv_res put(struct xkv_store *st, enum xkv_store_op op,
			const char *key, const char *val, u32 flags,
			s64 exptime, u64 cas)
{
	return uu_store_op(st, op, key, val, strlen(val), flags, exptime,
			   cas);
}

/* the value of @key as a string ("<miss>" when absent) */
static char vbuf[4096];

static const char *val(struct xkv_store *st, const char *key)
{
	char *v = uu_get_str(st, key);

	if (!v)
		return "<miss>";
	snprintf(vbuf, sizeof(vbuf), "%s", v);
	free(v);
	return vbuf;
}

static u32 flags_of(struct xkv_store *st, const char *key)
{
	struct uu_val v;
	u32 flags = ~0u;

	if (uu_get(st, key, &v) == 1)
		flags = v.flags;
	uu_val_free(&v);
	return flags;
}

static u64 size_of(const char *key, const char *v)
{
	return xkv_item_total((u32)strlen(key), (u32)strlen(v));
}

/* ---- the header ---- */

static void test_header(void)
{
	struct xkv_store *st = uu_store_new(256 * MB, 16);
	const u32 n = 100000;
	u64 items, hb, chunk_bytes = 0, payload = 0;
	char key[32], v[101];
	u32 i, id;

	tap_is_u64(sizeof(struct xkv_item), 40,
		   "sizeof(struct xkv_item) == 40 (36 and padding)");
	tap_is_u64(offsetof(struct xkv_item, data), 36,
		   "key bytes start right after the 36-byte header");
	memset(v, 'v', 100);
	v[100] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key:%06u", i);
		put(st, XKV_OP_SET, key, v, 0, 0, 0);
	}
	items = uu_stat(st, "curr_items");
	hb = uu_stat(st, "hash_bytes");
	id = xkv_slab_class_for(st, xkv_item_total(10, 100));
	chunk_bytes = (u64)st->cls[id].size * items;
	payload = (10 + 100) * items;
	tap_is_u64(items, n, "%u items stored", n);
	tap_is_u64(uu_stat(st, "bytes"), (36 + 10 + 100) * (u64)n,
		   "bytes stat counts 36 + key + value per item");
	tap_diag("item header: %zu bytes per item (memcached: 48 + 8 CAS)",
		 XKV_ITEM_HDR);
	tap_diag("100k items, 10-byte keys, 100-byte values: chunk %u bytes, "
		 "%.1f bytes/item of slab rounding, %.1f bytes/item of hash "
		 "table", st->cls[id].size,
		 (double)(chunk_bytes - (32 + 110) * items) / items,
		 (double)hb / items);
	tap_diag("total overhead %.1f bytes/item over %llu payload bytes",
		 (double)(chunk_bytes + hb - payload) / items,
		 (unsigned long long)(payload / items));
	xkv_store_destroy(st);
}

/* ---- storage commands ---- */

static void test_store_ops(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_item hdr, *it;
	char big[2048];
	u64 c1, c2;
	int err = 0;

	tap_is_u64(put(st, XKV_OP_SET, "a", "one", 7, 0, 0), XKV_STORED,
		   "set new key: STORED");
	tap_is_str(val(st, "a"), "one", "get a == one");
	tap_is_u64(flags_of(st, "a"), 7, "flags 7 kept");
	tap_is_u64(put(st, XKV_OP_SET, "a", "two", 8, 0, 0), XKV_STORED,
		   "set existing key: STORED");
	tap_is_str(val(st, "a"), "two", "set overwrote the value");
	tap_is_u64(flags_of(st, "a"), 8, "... and the flags");
	tap_is_u64(put(st, XKV_OP_SET, "e", "", 0, 0, 0), XKV_STORED,
		   "set empty value: STORED");
	tap_is_str(val(st, "e"), "", "get e == empty");

	tap_is_u64(put(st, XKV_OP_ADD, "a", "x", 0, 0, 0), XKV_NOT_STORED,
		   "add existing key: NOT_STORED");
	tap_is_str(val(st, "a"), "two", "failed add left the value");
	tap_is_u64(put(st, XKV_OP_ADD, "b", "bee", 3, 0, 0), XKV_STORED,
		   "add new key: STORED");
	tap_is_str(val(st, "b"), "bee", "added value readable");

	tap_is_u64(put(st, XKV_OP_REPLACE, "nope", "x", 0, 0, 0),
		   XKV_NOT_STORED, "replace missing key: NOT_STORED");
	tap_ok(!uu_has(st, "nope"), "failed replace created nothing");
	tap_is_u64(put(st, XKV_OP_REPLACE, "b", "BEE", 4, 0, 0), XKV_STORED,
		   "replace existing key: STORED");
	tap_is_str(val(st, "b"), "BEE", "replaced value readable");
	tap_is_u64(flags_of(st, "b"), 4, "replace sets the flags");

	tap_is_u64(put(st, XKV_OP_APPEND, "nope", "x", 0, 0, 0),
		   XKV_NOT_STORED, "append to missing key: NOT_STORED");
	tap_is_u64(put(st, XKV_OP_PREPEND, "nope", "x", 0, 0, 0),
		   XKV_NOT_STORED, "prepend to missing key: NOT_STORED");
	tap_ok(!uu_has(st, "nope"), "failed append/prepend created nothing");
	put(st, XKV_OP_SET, "c", "mid", 5, 1000, 0);
	tap_ok(uu_peek(st, "c", &hdr), "c linked");
	tap_is_u64(put(st, XKV_OP_APPEND, "c", "END", 99, 0, 0), XKV_STORED,
		   "append: STORED");
	tap_is_str(val(st, "c"), "midEND", "append added at the end");
	tap_is_u64(put(st, XKV_OP_PREPEND, "c", "top", 98, 0, 0), XKV_STORED,
		   "prepend: STORED");
	tap_is_str(val(st, "c"), "topmidEND", "prepend added at the start");
	tap_is_u64(flags_of(st, "c"), 5, "append/prepend keep the flags");
	{
		struct xkv_item h2;

		tap_ok(uu_peek(st, "c", &h2) && h2.exptime == hdr.exptime,
		       "append/prepend keep the expiry time");
	}
	tap_is_u64(put(st, XKV_OP_APPEND, "e", "", 0, 0, 0), XKV_STORED,
		   "append of nothing to nothing: STORED");
	tap_is_str(val(st, "e"), "", "still empty");

	/* CAS */
	c1 = uu_cas(st, "a");
	tap_ok(c1 != 0, "a has a CAS");
	tap_is_u64(put(st, XKV_OP_CAS, "a", "x", 0, 0, c1 + 1), XKV_EXISTS,
		   "cas with a wrong value: EXISTS");
	tap_is_str(val(st, "a"), "two", "EXISTS left the value");
	tap_is_u64(put(st, XKV_OP_CAS, "a", "three", 0, 0, 0), XKV_EXISTS,
		   "cas with 0: EXISTS");
	tap_is_u64(put(st, XKV_OP_CAS, "a", "three", 0, 0, c1), XKV_STORED,
		   "cas with the current value: STORED");
	tap_is_str(val(st, "a"), "three", "cas stored the value");
	c2 = uu_cas(st, "a");
	tap_ok(c2 > c1, "cas changed the CAS (%llu -> %llu)",
	       (unsigned long long)c1, (unsigned long long)c2);
	tap_is_u64(put(st, XKV_OP_CAS, "a", "four", 0, 0, c1), XKV_EXISTS,
		   "the old CAS no longer works: EXISTS");
	tap_is_u64(put(st, XKV_OP_CAS, "nope", "x", 0, 0, c1), XKV_NOT_FOUND,
		   "cas on a missing key: NOT_FOUND");
	tap_ok(!uu_has(st, "nope"), "NOT_FOUND cas created nothing");

	/* sizes */
	memset(big, 'k', sizeof(big));
	big[XKV_KEY_MAX] = '\0';
	tap_is_u64(put(st, XKV_OP_SET, big, "v", 0, 0, 0), XKV_STORED,
		   "a 250-byte key: STORED");
	tap_is_str(val(st, big), "v", "250-byte key readable");
	big[XKV_KEY_MAX] = 'k';
	big[XKV_KEY_MAX + 1] = '\0';
	tap_ok(!xkv_item_alloc(st, big, XKV_KEY_MAX + 1, 0, 0, 1, &err) &&
		       err == -E2BIG,
	       "a 251-byte key: -E2BIG");
	err = 0;
	tap_ok(!xkv_item_alloc(st, "k", 1, 0, 0, 1024 * 1024, &err) &&
		       err == -E2BIG,
	       "a 1 MB value (over item_size_max with its header): -E2BIG");
	it = xkv_item_alloc(st, "k", 1, 0, 0, 1024 * 1024 - 37, &err);
	tap_ok(it, "1 MB - 37 bytes of value + 1 of key + header fit");
	if (it)
		xkv_item_free(st, it);
	it = xkv_item_alloc(st, "k", 1, 0, 0, 1024 * 1024 - 40, &err);
	if (tap_ok(it, "a value of 1 MB - 40 bytes")) {
		memset(xkv_item_value(it), 'z', it->nbytes);
		tap_is_u64(xkv_item_store(st, it, XKV_OP_SET, 0), XKV_STORED,
			   "... is STORED");
	}
	it = xkv_item_alloc(st, "k", 1, 0, 0, 100, &err);
	if (tap_ok(it, "a 100-byte item to append")) {
		memset(xkv_item_value(it), 'y', 100);
		tap_is_u64(xkv_item_store(st, it, XKV_OP_APPEND, 0),
			   XKV_TOO_LARGE,
			   "append past item_size_max: TOO_LARGE");
	}
	{
		struct uu_val v;

		tap_ok(uu_get(st, "k", &v) == 1 &&
			       v.len == 1024 * 1024 - 40 && v.data[0] == 'z' &&
			       v.data[v.len - 1] == 'z',
		       "the failed append left the value as it was");
		uu_val_free(&v);
	}
	xkv_store_destroy(st);
}

/* the largest value that fits, byte for byte */
static void test_big_value(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	size_t n = 1024 * 1024 - 36 - 3;
	char *v = malloc(n), *got;
	size_t i;

	if (!v)
		tap_bail("out of memory");
	for (i = 0; i < n; i++)
		v[i] = (char)('a' + i % 23);
	tap_is_u64(uu_store_op(st, XKV_OP_SET, "big", v, n, 0, 0, 0),
		   XKV_STORED, "largest value that fits (1 MB - 39): STORED");
	got = uu_get_str(st, "big");
	tap_ok(got && strlen(got) == n && !memcmp(got, v, n),
	       "it reads back byte for byte");
	free(got);
	tap_is_u64(uu_store_op(st, XKV_OP_SET, "big", v, n + 1, 0, 0, 0),
		   XKV_TOO_LARGE, "one byte more: too large");
	free(v);
	xkv_store_destroy(st);
}

/* the CAS unique changes on every write, and only on writes */
static void test_cas_unique(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	char res[32];
	size_t nres;
	u64 c[10];
	int i, up = 1;

	put(st, XKV_OP_SET, "k", "1", 0, 0, 0);
	c[0] = uu_cas(st, "k");
	put(st, XKV_OP_SET, "k", "2", 0, 0, 0);
	c[1] = uu_cas(st, "k");
	put(st, XKV_OP_REPLACE, "k", "3", 0, 0, 0);
	c[2] = uu_cas(st, "k");
	put(st, XKV_OP_APPEND, "k", "0", 0, 0, 0);
	c[3] = uu_cas(st, "k");
	put(st, XKV_OP_PREPEND, "k", "1", 0, 0, 0);
	c[4] = uu_cas(st, "k");
	put(st, XKV_OP_CAS, "k", "5", 0, 0, c[4]);
	c[5] = uu_cas(st, "k");
	xkv_item_arith(st, "k", 1, true, 1, res, &nres);
	c[6] = uu_cas(st, "k");	/* in place: "6" */
	xkv_item_arith(st, "k", 1, true, 10, res, &nres);
	c[7] = uu_cas(st, "k");	/* grows: "16" */
	xkv_item_arith(st, "k", 1, false, 10, res, &nres);
	c[8] = uu_cas(st, "k");	/* shrinks in place: "6 " */
	for (i = 1; i < 9; i++)
		up &= c[i] > c[i - 1];
	tap_ok(up, "set, set, replace, append, prepend, cas, incr, incr "
		   "(grow), decr: the CAS rises every time");
	tap_is_str(val(st, "k"), "6 ", "value after those writes");
	c[9] = uu_cas(st, "k");
	tap_is_u64(c[9], c[8], "a read does not change the CAS");
	xkv_item_touch(st, "k", 1, xkv_exptime(st, 100));
	tap_is_u64(uu_cas(st, "k"), c[8], "touch does not change the CAS");
	put(st, XKV_OP_ADD, "k", "x", 0, 0, 0);
	tap_is_u64(uu_cas(st, "k"), c[8], "a failed add does not change it");
	put(st, XKV_OP_CAS, "k", "x", 0, 0, c[0]);
	tap_is_u64(uu_cas(st, "k"), c[8], "a failed cas does not change it");
	put(st, XKV_OP_SET, "other", "x", 0, 0, 0);
	tap_ok(uu_cas(st, "other") > c[8], "CAS values are store-wide");
	xkv_store_destroy(st);
}

/* ---- incr / decr ---- */

static enum xkv_res arith(struct xkv_store *st, const char *key, bool incr,
			  u64 delta, char *res)
{
	size_t nres = 99;
	enum xkv_res r;

	memset(res, '#', 32);
	r = xkv_item_arith(st, key, strlen(key), incr, delta, res, &nres);
	if (r == XKV_STORED && (nres > 20 || res[nres] != '\0' ||
				strlen(res) != nres))
		return (enum xkv_res)-1;	/* fails every check below */
	return r;
}

static void test_arith(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_item hdr;
	char res[32];
	u64 bytes;

	tap_is_u64(arith(st, "n", true, 1, res), XKV_NOT_FOUND,
		   "incr missing key: NOT_FOUND");
	tap_is_u64(arith(st, "n", false, 1, res), XKV_NOT_FOUND,
		   "decr missing key: NOT_FOUND");
	tap_ok(!uu_has(st, "n"), "and it is not created");

	put(st, XKV_OP_SET, "n", "10", 3, 0, 0);
	tap_is_u64(arith(st, "n", true, 5, res), XKV_STORED, "incr 10 by 5");
	tap_is_str(res, "15", "... gives 15");
	tap_is_str(val(st, "n"), "15", "stored value 15");
	tap_is_u64(arith(st, "n", true, 0, res), XKV_STORED, "incr by 0");
	tap_is_str(res, "15", "... gives 15");
	tap_is_u64(arith(st, "n", false, 100, res), XKV_STORED,
		   "decr 15 by 100");
	tap_is_str(res, "0", "... stops at 0");
	tap_is_str(val(st, "n"), "0 ", "stored in place, padded: \"0 \"");
	tap_is_u64(flags_of(st, "n"), 3, "flags kept");
	tap_is_u64(arith(st, "n", false, 1, res), XKV_STORED, "decr 0 by 1");
	tap_is_str(res, "0", "... stays 0");

	/* in-place shrink */
	put(st, XKV_OP_SET, "d", "100", 0, 0, 0);
	bytes = uu_stat(st, "bytes");
	tap_is_u64(arith(st, "d", false, 1, res), XKV_STORED, "decr 100 by 1");
	tap_is_str(res, "99", "... gives 99");
	tap_is_str(val(st, "d"), "99 ", "stored as \"99 \" (memcached pads)");
	tap_is_u64(uu_stat(st, "bytes"), bytes, "bytes unchanged in place");
	tap_is_u64(arith(st, "d", false, 90, res), XKV_STORED, "decr 99 by 90");
	tap_is_str(val(st, "d"), "9  ", "stored as \"9  \"");
	tap_is_u64(arith(st, "d", true, 1, res), XKV_STORED,
		   "incr a padded value");
	tap_is_str(res, "10", "\"9  \" + 1 == 10");

	/* growth to a longer item */
	put(st, XKV_OP_SET, "g", "99", 42, 500, 0);
	tap_ok(uu_peek(st, "g", &hdr), "g linked");
	bytes = uu_stat(st, "bytes");
	tap_is_u64(arith(st, "g", true, 1, res), XKV_STORED, "incr 99 by 1");
	tap_is_str(res, "100", "... gives 100");
	tap_is_str(val(st, "g"), "100", "stored as a 3-byte value");
	tap_is_u64(uu_stat(st, "bytes"), bytes + 1, "bytes grew by one");
	tap_is_u64(uu_stat(st, "curr_items"), 3, "still 3 items");
	tap_is_u64(flags_of(st, "g"), 42, "growth kept the flags");
	{
		struct xkv_item h2;

		tap_ok(uu_peek(st, "g", &h2) && h2.exptime == hdr.exptime,
		       "growth kept the expiry time");
	}
	put(st, XKV_OP_SET, "g", "1", 0, 0, 0);
	tap_is_u64(arith(st, "g", true, 18446744073709551614ULL, res),
		   XKV_STORED, "incr 1 by 2^64 - 2");
	tap_is_str(res, "18446744073709551615", "... gives 2^64 - 1");
	tap_is_str(val(st, "g"), "18446744073709551615", "stored, 20 bytes");

	/* wrap */
	tap_is_u64(arith(st, "g", true, 1, res), XKV_STORED,
		   "incr 2^64 - 1 by 1");
	tap_is_str(res, "0", "... wraps to 0");
	tap_is_str(val(st, "g"), "0                   ",
		   "stored in place: 0 and 19 spaces");
	put(st, XKV_OP_SET, "w", "10", 0, 0, 0);
	tap_is_u64(arith(st, "w", true, 18446744073709551615ULL, res),
		   XKV_STORED, "incr 10 by 2^64 - 1");
	tap_is_str(res, "9", "... wraps to 9");

	/* what is not a number */
	put(st, XKV_OP_SET, "s", "abc", 0, 0, 0);
	tap_is_u64(arith(st, "s", true, 1, res), XKV_NON_NUMERIC,
		   "incr \"abc\": NON_NUMERIC");
	tap_is_str(val(st, "s"), "abc", "value untouched");
	put(st, XKV_OP_SET, "s", "12a", 0, 0, 0);
	tap_is_u64(arith(st, "s", true, 1, res), XKV_NON_NUMERIC,
		   "incr \"12a\": NON_NUMERIC");
	put(st, XKV_OP_SET, "s", "", 0, 0, 0);
	tap_is_u64(arith(st, "s", false, 1, res), XKV_NON_NUMERIC,
		   "decr of an empty value: NON_NUMERIC");
	put(st, XKV_OP_SET, "s", "-5", 0, 0, 0);
	tap_is_u64(arith(st, "s", true, 1, res), XKV_NON_NUMERIC,
		   "incr \"-5\": NON_NUMERIC");
	put(st, XKV_OP_SET, "s", "18446744073709551616", 0, 0, 0);
	tap_is_u64(arith(st, "s", true, 1, res), XKV_NON_NUMERIC,
		   "incr of 2^64: NON_NUMERIC");
	put(st, XKV_OP_SET, "s", "7 ", 0, 0, 0);
	tap_is_u64(arith(st, "s", true, 1, res), XKV_STORED,
		   "incr \"7 \" (trailing blank) works");
	tap_is_str(res, "8", "... gives 8");
	xkv_store_destroy(st);
}

/* ---- touch and delete ---- */

static void test_touch_delete(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_item hdr;
	u64 now;

	put(st, XKV_OP_SET, "t", "v", 0, 0, 0);
	uu_wall_settle();
	now = xkv_store_now(st);
	tap_is_u64(xkv_item_touch(st, "t", 1, xkv_exptime(st, 5)),
		   XKV_TOUCHED, "touch: TOUCHED");
	tap_ok(uu_peek(st, "t", &hdr) && hdr.exptime == now + 5,
	       "touch set exptime to now + 5");
	tap_is_u64(xkv_item_touch(st, "x", 1, xkv_exptime(st, 5)),
		   XKV_NOT_FOUND, "touch missing key: NOT_FOUND");
	xkv_store_advance_clock(st, 4);
	tap_ok(uu_has(st, "t"), "alive 1 s before the new expiry");
	xkv_store_advance_clock(st, 1);
	tap_ok(!uu_has(st, "t"), "dead at the new expiry");
	tap_is_u64(xkv_item_touch(st, "t", 1, 0), XKV_NOT_FOUND,
		   "touch of an expired key: NOT_FOUND");

	uu_wall_settle();
	put(st, XKV_OP_SET, "t", "v", 0, 1, 0);
	tap_is_u64(xkv_item_touch(st, "t", 1, 0), XKV_TOUCHED,
		   "touch to 0 (never)");
	xkv_store_advance_clock(st, 1000000);
	tap_ok(uu_has(st, "t"), "never expires after touch 0");

	/* gat: a read that touches */
	{
		struct xkv_get_req req = { .touch = true };
		struct xkv_buf b = { 0 };

		uu_wall_settle();
		now = xkv_store_now(st);
		req.exptime = xkv_exptime(st, 30);
		tap_is_i64(xkv_item_get(st, "t", 1, &req, &b), 1, "gat hit");
		tap_is_mem(b.data, b.len, "VALUE t 0 1\r\nv\r\n", 16,
			   "gat reply");
		tap_ok(uu_peek(st, "t", &hdr) && hdr.exptime == now + 30,
		       "gat set the expiry");
		xkv_buf_release(&b);
	}

	/* delete */
	put(st, XKV_OP_SET, "d1", "x", 0, 0, 0);
	put(st, XKV_OP_SET, "d2", "yy", 0, 0, 0);
	tap_is_u64(uu_stat(st, "curr_items"), 3, "3 items");
	tap_is_u64(xkv_item_delete(st, "d1", 2), XKV_DELETED,
		   "delete: DELETED");
	tap_ok(!uu_has(st, "d1"), "deleted key is gone");
	tap_ok(uu_has(st, "d2"), "the other key is not");
	tap_is_u64(xkv_item_delete(st, "d1", 2), XKV_NOT_FOUND,
		   "delete again: NOT_FOUND");
	tap_is_u64(xkv_item_delete(st, "d", 1), XKV_NOT_FOUND,
		   "delete of a prefix: NOT_FOUND");
	tap_is_u64(uu_stat(st, "curr_items"), 2, "2 items");
	tap_is_u64(uu_stat(st, "bytes"),
		   size_of("t", "v") + size_of("d2", "yy"),
		   "bytes == the two items left");
	put(st, XKV_OP_SET, "x", "v", 0, -1, 0);
	tap_is_u64(xkv_item_delete(st, "x", 1), XKV_NOT_FOUND,
		   "delete of an expired key: NOT_FOUND");
	tap_is_u64(uu_stat(st, "curr_items"), 2,
		   "... and the dead item is gone");
	xkv_store_destroy(st);
}

/* ---- expiry ---- */

static void test_expiry(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_item hdr;
	struct uu_val v;
	u64 now;

	tap_is_u64(xkv_exptime(st, 0), 0, "exptime 0: never");
	tap_is_u64(xkv_exptime(st, -1), 1, "exptime -1: already expired");
	tap_is_u64(xkv_exptime(st, 2592001), 2592001,
		   "exptime > 30 days is an absolute time");
	tap_is_u64(xkv_exptime(st, 4294967296LL), 4294967295U,
		   "an absolute time past 2106 is clamped");

	/* relative */
	uu_wall_settle();
	now = xkv_store_now(st);
	put(st, XKV_OP_SET, "r", "v", 0, 10, 0);
	tap_ok(uu_peek(st, "r", &hdr), "r linked");
	tap_is_u64(hdr.exptime, now + 10, "relative 10: exptime == now + 10");
	xkv_store_advance_clock(st, 9);
	tap_ok(uu_has(st, "r"), "alive at now + 9");
	xkv_store_advance_clock(st, 1);
	tap_is_i64(uu_get(st, "r", &v), 0, "dead exactly at now + 10");
	tap_ok(v.expired && !v.flushed, "the read reports it expired");
	uu_val_free(&v);
	tap_ok(!uu_peek(st, "r", &hdr), "the read unlinked it");
	tap_is_u64(uu_stat(st, "curr_items"), 0, "curr_items 0");

	/* exactly 30 days is still relative */
	uu_wall_settle();
	now = xkv_store_now(st);
	put(st, XKV_OP_SET, "m", "v", 0, XKV_REALTIME_MAXDELTA, 0);
	tap_ok(uu_peek(st, "m", &hdr) &&
		       hdr.exptime == now + XKV_REALTIME_MAXDELTA,
	       "exptime 2592000 (30 days) is relative");
	xkv_store_advance_clock(st, XKV_REALTIME_MAXDELTA - 1);
	tap_ok(uu_has(st, "m"), "alive 1 s before 30 days");
	xkv_store_advance_clock(st, 1);
	tap_ok(!uu_has(st, "m"), "dead at 30 days");

	/* absolute */
	uu_wall_settle();
	now = xkv_store_now(st);
	put(st, XKV_OP_SET, "a", "v", 0, (s64)now + 100, 0);
	tap_ok(uu_peek(st, "a", &hdr) && hdr.exptime == now + 100,
	       "absolute now + 100 kept as is");
	xkv_store_advance_clock(st, 99);
	tap_ok(uu_has(st, "a"), "alive at now + 99");
	xkv_store_advance_clock(st, 1);
	tap_ok(!uu_has(st, "a"), "dead at now + 100");

	tap_is_u64(put(st, XKV_OP_SET, "p", "v", 0, 2592001, 0), XKV_STORED,
		   "an absolute time in the past: STORED");
	tap_ok(!uu_has(st, "p"), "... and already expired");

	/* negative */
	tap_is_u64(put(st, XKV_OP_SET, "n", "v", 0, -1, 0), XKV_STORED,
		   "exptime -1: STORED");
	tap_is_i64(uu_get(st, "n", &v), 0, "... and immediately gone");
	tap_ok(v.expired, "... reported as expired");
	uu_val_free(&v);
	put(st, XKV_OP_SET, "n", "v", 0, -2147483647LL - 1, 0);
	tap_ok(!uu_has(st, "n"), "exptime INT32_MIN: gone");
	tap_is_u64(put(st, XKV_OP_ADD, "n", "w", 0, 0, 0), XKV_STORED,
		   "add over an expired key: STORED");
	tap_is_str(val(st, "n"), "w", "the new value is there");

	/* never */
	put(st, XKV_OP_SET, "z", "v", 0, 0, 0);
	xkv_store_advance_clock(st, 10LL * 365 * 86400);
	tap_ok(uu_has(st, "z"), "exptime 0 survives 10 years");

	/* replace/append/cas/incr do not see an expired item */
	uu_wall_settle();
	put(st, XKV_OP_SET, "e", "5", 0, 1, 0);
	xkv_store_advance_clock(st, 1);
	tap_is_u64(put(st, XKV_OP_REPLACE, "e", "x", 0, 0, 0),
		   XKV_NOT_STORED, "replace of an expired key: NOT_STORED");
	put(st, XKV_OP_SET, "e", "5", 0, 1, 0);
	xkv_store_advance_clock(st, 1);
	tap_is_u64(put(st, XKV_OP_APPEND, "e", "x", 0, 0, 0),
		   XKV_NOT_STORED, "append to an expired key: NOT_STORED");
	put(st, XKV_OP_SET, "e", "5", 0, 1, 0);
	xkv_store_advance_clock(st, 1);
	{
		char res[32];
		size_t nres;

		tap_is_u64(xkv_item_arith(st, "e", 1, true, 1, res, &nres),
			   XKV_NOT_FOUND, "incr of an expired key: NOT_FOUND");
	}
	xkv_store_destroy(st);
}

/* ---- flush_all ---- */

static void test_flush(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct uu_val v;
	u64 now;

	put(st, XKV_OP_SET, "a", "1", 0, 0, 0);
	put(st, XKV_OP_SET, "b", "2", 0, 0, 0);
	xkv_flush_all(st, 0);
	tap_is_i64(uu_get(st, "a", &v), 0, "flush_all: a is gone");
	tap_ok(v.flushed && !v.expired, "... reported as flushed");
	uu_val_free(&v);
	tap_is_u64(put(st, XKV_OP_SET, "c", "3", 0, 0, 0), XKV_STORED,
		   "set after flush_all");
	tap_ok(uu_has(st, "c"), "an item stored after flush_all lives");
	tap_ok(!uu_has(st, "b"), "b is gone");
	tap_is_u64(uu_stat(st, "curr_items"), 1, "curr_items 1");
	tap_is_u64(put(st, XKV_OP_ADD, "a", "x", 0, 0, 0), XKV_STORED,
		   "add of a flushed key: STORED");
	xkv_flush_all(st, -5);
	tap_ok(!uu_has(st, "a") && !uu_has(st, "c"),
	       "flush_all with a negative delay flushes now");

	/*
	 * With a delay. Like memcached (oldest_live = realtime(t) - 1), a
	 * delayed flush takes effect one second before the time it names:
	 * "flush_all 10" kills at now + 9.
	 */
	uu_wall_settle();
	now = xkv_store_now(st);
	put(st, XKV_OP_SET, "old", "1", 0, 0, 0);
	xkv_flush_all(st, 10);
	put(st, XKV_OP_SET, "mid", "2", 0, 0, 0);
	tap_ok(uu_has(st, "old") && uu_has(st, "mid"),
	       "delayed flush: nothing dies at once");
	xkv_store_advance_clock(st, 8);
	tap_ok(uu_has(st, "old") && uu_has(st, "mid"),
	       "nothing dies before the delay ends");
	put(st, XKV_OP_SET, "late", "3", 0, 0, 0);
	xkv_store_advance_clock(st, 1);
	tap_is_u64(xkv_store_now(st), now + 9, "clock at the flush time");
	tap_ok(!uu_has(st, "old"), "stored before flush_all: dead");
	tap_ok(!uu_has(st, "mid"), "stored after flush_all: dead");
	tap_ok(!uu_has(st, "late"), "stored 1 s before the delay ended: dead");
	put(st, XKV_OP_SET, "after", "4", 0, 0, 0);
	tap_ok(uu_has(st, "after"), "stored once the delay ended: alive");
	xkv_store_advance_clock(st, 100);
	tap_ok(uu_has(st, "after"), "... and stays alive");

	/* an absolute flush time, also one second early */
	uu_wall_settle();
	now = xkv_store_now(st);
	xkv_flush_all(st, (s64)now + 5);
	xkv_store_advance_clock(st, 3);
	tap_ok(uu_has(st, "after"), "absolute flush time: alive before");
	xkv_store_advance_clock(st, 1);
	tap_ok(!uu_has(st, "after"), "absolute flush time: dead at it - 1");

	/* "flush_all 1" is at once */
	put(st, XKV_OP_SET, "one", "1", 0, 0, 0);
	xkv_flush_all(st, 1);
	tap_ok(!uu_has(st, "one"), "flush_all with delay 1 acts at once");

	/* an immediate flush cancels a pending delayed one */
	put(st, XKV_OP_SET, "x", "1", 0, 0, 0);
	xkv_flush_all(st, 100);
	xkv_flush_all(st, 0);
	tap_ok(!uu_has(st, "x"), "immediate flush after a delayed one");
	put(st, XKV_OP_SET, "y", "1", 0, 0, 0);
	xkv_store_advance_clock(st, 200);
	tap_ok(uu_has(st, "y"), "... and the delayed one no longer fires");
	xkv_store_destroy(st);
}

/* ---- the crawler ---- */

static void test_crawler(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	u64 keep_bytes = 0, nfree0, calls = 0, items, bytes;
	char key[32], *v = malloc(1100);
	bool more;
	u32 i;

	if (!v)
		tap_bail("out of memory");
	memset(v, 'v', 1100);
	uu_wall_settle();
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "exp:%u", i);
		uu_store_op(st, XKV_OP_SET, key, v, (i % 50) * 21 + 1, 0, 5,
			    0);
	}
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "keep:%u", i);
		uu_store_op(st, XKV_OP_SET, key, v, 100 + i * 97, 0, 0, 0);
		keep_bytes += xkv_item_total((u32)strlen(key), 100 + i * 97);
	}
	tap_is_u64(uu_stat(st, "curr_items"), 3010, "3010 items");
	nfree0 = UU_CLASS_SUM(st, nfree);
	tap_is_u64(xkv_store_maintain(st), false,
		   "maintain before expiry finds no work");
	tap_is_u64(uu_stat(st, "curr_items"), 3010, "... and reclaims nothing");
	xkv_store_advance_clock(st, 5);
	do {
		more = xkv_store_maintain(st);
		calls++;
	} while (more && calls < 1000);
	tap_diag("crawler: %llu maintain calls", (unsigned long long)calls);
	tap_is_u64(uu_stat(st, "curr_items"), 10,
		   "crawler reclaimed the 3000 expired items without a get");
	tap_is_u64(uu_stat(st, "bytes"), keep_bytes,
		   "bytes == the 10 live items");
	tap_is_u64(uu_stat(st, "crawler_reclaimed"), 3000,
		   "crawler_reclaimed 3000");
	tap_is_u64(UU_CLASS_SUM(st, crawler_reclaimed), 3000,
		   "per-class crawler_reclaimed sums to 3000");
	tap_is_u64(uu_stat(st, "expired_unfetched"), 3000,
		   "expired_unfetched 3000");
	tap_is_u64(UU_CLASS_SUM(st, nfree) - nfree0, 3000,
		   "their 3000 chunks are free again");
	tap_is_u64(uu_check_table(st, &items, &bytes), 0, "table consistent");
	tap_is_u64(items, 10, "10 items in the chains");
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "keep:%u", i);
		if (!uu_has(st, key))
			break;
	}
	tap_is_u64(i, 10, "all live items survive the crawler");

	/* many items in one class: the crawler needs several slices */
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "one:%05u", i);
		uu_store_op(st, XKV_OP_SET, key, v, 20, 0, -1, 0);
	}
	calls = 0;
	do {
		more = xkv_store_maintain(st);
		calls++;
	} while (more && calls < 1000);
	tap_ok(calls > 2, "20000 dead items of one class take %llu calls",
	       (unsigned long long)calls);
	tap_is_u64(uu_stat(st, "curr_items"), 10, "... and all go");

	/* flushed items too */
	xkv_flush_all(st, 0);
	calls = 0;
	do {
		more = xkv_store_maintain(st);
		calls++;
	} while (more && calls < 1000);
	tap_is_u64(uu_stat(st, "curr_items"), 0,
		   "crawler reclaims flushed items");
	tap_is_u64(uu_stat(st, "bytes"), 0, "bytes 0");
	free(v);
	xkv_store_destroy(st);
}

/* ---- eviction ---- */

static void test_eviction(void)
{
	struct xkv_store *st = uu_store_new(2 * MB, 16);
	const u32 n = 150000, vlen = 90;
	u64 not_stored = 0, hot_miss = 0, present = 0, ev, items;
	u32 i, cls, perpage, newest_missing = 0;
	struct xkv_item hdr;
	char key[32], v[128];

	memset(v, 'e', sizeof(v));
	cls = xkv_slab_class_for(st, xkv_item_total(8, vlen));
	perpage = st->cls[cls].perpage;
	uu_store_op(st, XKV_OP_SET, "hot:0000", v, vlen, 0, 0, 0);
	uu_store_op(st, XKV_OP_SET, "cold:000", v, vlen, 0, 0, 0);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "f%07u", i);
		if (uu_store_op(st, XKV_OP_SET, key, v, vlen, 0, 0, 0) !=
		    XKV_STORED)
			not_stored++;
		if (i % 64 == 0 && !uu_has(st, "hot:0000"))
			hot_miss++;
	}
	items = uu_stat(st, "curr_items");
	ev = uu_stat(st, "evictions");
	tap_diag("2 MB limit, %u sets of %u-byte items (class %u, %u per "
		 "page): %llu items kept, %llu evictions", n,
		 st->cls[cls].size, cls + 1, perpage,
		 (unsigned long long)items, (unsigned long long)ev);
	tap_is_u64(not_stored, 0, "every set STORED under a 2 MB limit");
	tap_is_u64(UU_CLASS_SUM(st, outofmemory), 0, "no allocation failed");
	tap_ok(ev > 0 && ev != ~0ULL, "evictions > 0");
	tap_is_u64(st->cls[cls].npages, 2, "the class holds 2 pages (2 MB)");
	tap_is_u64(st->malloced, 2 * MB, "malloced == the 2 MB limit");
	tap_is_u64(items, 2 * (u64)perpage,
		   "every chunk of the class holds a live item");
	tap_is_u64(ev, n + 2 - items, "evictions == items stored - kept");
	tap_is_u64(uu_stat(st, "evicted_unfetched"), ev,
		   "every evicted item was unfetched");
	tap_is_u64(hot_miss, 0, "the hot key, read every 64 sets, was never "
				"missing");
	tap_ok(uu_has(st, "hot:0000"), "the hot key survived (second chance)");
	tap_ok(!uu_has(st, "cold:000"), "the cold key stored with it did not");
	for (i = n; i-- > n - (u32)items + 1;) {
		snprintf(key, sizeof(key), "f%07u", i);
		if (uu_peek(st, key, &hdr))
			present++;
		else if (!newest_missing)
			newest_missing = n - i;
	}
	tap_is_u64(newest_missing, 0,
		   "the newest %llu items are all present",
		   (unsigned long long)items - 1);
	tap_is_u64(present, items - 1, "they are all the items but the hot");
	snprintf(key, sizeof(key), "f%07u", n - (u32)items);
	tap_ok(!uu_peek(st, key, &hdr),
	       "the next older one was evicted");
	xkv_store_destroy(st);
}

/* nothing to evict: every chunk is held by an unlinked item */
static void test_no_memory(void)
{
	struct xkv_store *st = uu_store_new(2 * MB, 16);
	const u32 vlen = 1024 * 1024 - 40;
	struct xkv_item *a, *b, *c, hdr;
	int err = 0;

	a = xkv_item_alloc(st, "a", 1, 0, 0, vlen, &err);
	b = xkv_item_alloc(st, "b", 1, 0, 0, vlen, &err);
	tap_ok(a && b, "two 1 MB items under a 2 MB limit");
	c = xkv_item_alloc(st, "c", 1, 0, 0, vlen, &err);
	tap_ok(!c && err == -ENOMEM, "a third: -ENOMEM (nothing to evict)");
	tap_is_u64(UU_CLASS_SUM(st, outofmemory), 1, "outofmemory 1");
	if (a)
		tap_is_u64(xkv_item_store(st, a, XKV_OP_SET, 0), XKV_STORED,
			   "store a");
	c = xkv_item_alloc(st, "c", 1, 0, 0, vlen, &err);
	tap_ok(c, "with a linked, c evicts it");
	tap_ok(!uu_peek(st, "a", &hdr), "a was evicted");
	tap_is_u64(uu_stat(st, "evictions"), 1, "evictions 1");
	if (b)
		xkv_item_free(st, b);
	if (c)
		xkv_item_free(st, c);
	xkv_store_destroy(st);
}

/* ---- threads ---- */

#define MT_KEYS 64
#define MT_THREADS 4

struct mt_arg {
	struct xkv_store *st;
	u64 seed;
	u64 ns;
	u32 vmin;
	u32 vmax;
	bool maintainer;
	u64 ops;
	u64 corrupt;
	u64 alloc_fail;
};

static volatile int mt_stop;

/* pattern values: 'v', then bytes that depend on the key and length */
static void mt_fill(char *p, u32 key, u32 len)
{
	u32 i;

	p[0] = 'v';
	for (i = 1; i < len; i++)
		p[i] = (char)('a' + (key + len + i) % 26);
}

static bool mt_valid(const char *p, size_t len, u32 key)
{
	u64 num;
	size_t i;

	if (len && p[0] == 'v') {
		for (i = 1; i < len; i++)
			if (p[i] != (char)('a' + (key + len + i) % 26))
				return false;
		return true;
	}
	return len && xkv_parse_u64(p, len, &num);
}

static void *mt_worker(void *arg)
{
	struct mt_arg *a = arg;
	u64 rng = a->seed, t0 = uu_now_ns();
	char *v = malloc(a->vmax + 1), key[16], res[32];
	struct uu_val got;
	size_t nres;

	if (!v)
		return NULL;
	while (!mt_stop) {
		u32 k = (u32)(uu_rand(&rng) % MT_KEYS), len;
		u32 op = (u32)(uu_rand(&rng) % 16);
		enum xkv_res r;

		if ((a->ops & 255) == 0 && uu_now_ns() - t0 > a->ns)
			break;
		a->ops++;
		snprintf(key, sizeof(key), "mt:%02u", k);
		if (a->maintainer && op < 2) {
			xkv_store_maintain(a->st);
			continue;
		}
		switch (op) {
		case 0: case 1: case 2: case 3: case 4:
			len = a->vmin + (u32)(uu_rand(&rng) %
					      (a->vmax - a->vmin + 1));
			mt_fill(v, k, len);
			r = uu_store_op(a->st, op == 4 ? XKV_OP_ADD :
					XKV_OP_SET, key, v, len, k,
					op == 3 ? -1 : 0, 0);
			if (r == XKV_NO_MEMORY || r == XKV_TOO_LARGE)
				a->alloc_fail++;
			break;
		case 5: case 6: case 7: case 8:
			if (uu_get(a->st, key, &got) == 1 &&
			    (!mt_valid(got.data, got.len, k) || got.flags != k))
				a->corrupt++;
			uu_val_free(&got);
			break;
		case 9:
			xkv_item_delete(a->st, key, strlen(key));
			break;
		case 10: case 11:
			xkv_item_arith(a->st, key, strlen(key), op == 10,
				       uu_rand(&rng) % 1000, res, &nres);
			break;
		case 12:
			len = (u32)snprintf(v, a->vmax, "%llu",
					    (unsigned long long)(uu_rand(&rng) %
								 100000));
			uu_store_op(a->st, XKV_OP_SET, key, v, len, k, 0, 0);
			break;
		case 13:
			xkv_item_touch(a->st, key, strlen(key), 0);
			break;
		default:
			if (uu_get(a->st, key, &got) == 1)
				uu_store_op(a->st, XKV_OP_CAS, key, got.data,
					    got.len, k, 0, got.cas);
			uu_val_free(&got);
			break;
		}
	}
	free(v);
	return NULL;
}

static void mt_run(u64 maxbytes, u32 vmin, u32 vmax, u64 ms,
		   const char *what)
{
	struct xkv_store *st = uu_store_new(maxbytes, 0);
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS];
	u64 ops = 0, corrupt = 0, fails = 0, present = 0, sum = 0;
	u64 items, bytes;
	char key[16];
	u32 i;

	mt_stop = 0;
	for (i = 0; i < MT_THREADS; i++) {
		args[i] = (struct mt_arg){ .st = st, .seed = 1000 + i,
					   .ns = ms * 1000000, .vmin = vmin,
					   .vmax = vmax,
					   .maintainer = i == 0 };
		if (pthread_create(&th[i], NULL, mt_worker, &args[i]))
			tap_bail("pthread_create");
	}
	for (i = 0; i < MT_THREADS; i++) {
		pthread_join(th[i], NULL);
		ops += args[i].ops;
		corrupt += args[i].corrupt;
		fails += args[i].alloc_fail;
	}
	/* reads unlink what is dead; then count what is there */
	for (i = 0; i < MT_KEYS; i++) {
		struct uu_val v;

		snprintf(key, sizeof(key), "mt:%02u", i);
		if (uu_get(st, key, &v) == 1) {
			present++;
			sum += xkv_item_total((u32)strlen(key), (u32)v.len);
			if (!mt_valid(v.data, v.len, i) || v.flags != i)
				corrupt++;
		}
		uu_val_free(&v);
	}
	tap_diag("%s: %llu ops by %u threads, %llu keys present, "
		 "%llu evictions, %llu failed allocations", what,
		 (unsigned long long)ops, MT_THREADS,
		 (unsigned long long)present,
		 (unsigned long long)uu_stat(st, "evictions"),
		 (unsigned long long)fails);
	tap_ok(ops > 100, "%s: threads made progress", what);
	tap_is_u64(corrupt, 0, "%s: no value read back corrupt", what);
	tap_is_u64(uu_stat(st, "curr_items"), present,
		   "%s: curr_items == keys present", what);
	tap_is_u64(uu_stat(st, "bytes"), sum,
		   "%s: bytes == sum of the present items' sizes", what);
	tap_is_u64(uu_check_table(st, &items, &bytes), 0,
		   "%s: hash table consistent", what);
	tap_is_u64(items, present, "%s: chains hold the present items",
		   what);
	xkv_store_destroy(st);
}

static void test_threads(void)
{
	mt_run(64 * MB, 1, 3000, 600, "64 MB");
	/* values of 150..300 KB: 3 to 6 per page, far more keys than room */
	mt_run(2 * MB, 150000, 300000, 600, "2 MB, evicting");
}

int main(void)
{
	test_header();
	test_store_ops();
	test_big_value();
	test_cas_unique();
	test_arith();
	test_touch_delete();
	test_expiry();
	test_flush();
	test_crawler();
	test_eviction();
	test_no_memory();
	test_threads();
	return tap_done();
}
