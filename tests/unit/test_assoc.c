// SPDX-License-Identifier: GPL-2.0
/*
 * test_assoc.c - the striped hash table: stripes grow one at a time, every
 * key stays findable during and after growth, deletes remove exactly the
 * keys asked for.
 */
#include "assoc.h"
#include "tap.h"
#include "unit_util.h"
#include "util.h"

#define NKEYS 200000

static int key_of(char *buf, u32 i)
{
	return snprintf(buf, 32, "k:%u", i);
}

/* the 4-byte value stored under key i */
static void val_of(char *buf, u32 i)
{
	buf[0] = (char)('a' + i % 26);
	buf[1] = (char)('a' + i / 26 % 26);
	buf[2] = (char)('0' + i % 10);
	buf[3] = (char)('A' + i / 10 % 26);
}

/* 1 when key i reads back with its own value, 0 on a miss, -1 wrong */
static int check_key(struct xkv_store *st, u32 i)
{
	char key[32], want[4];
	struct uu_val v;
	int hit;

	key_of(key, i);
	val_of(want, i);
	hit = uu_get(st, key, &v);
	if (hit == 1 && (v.len != 4 || memcmp(v.data, want, 4)))
		hit = -1;
	uu_val_free(&v);
	return hit;
}

static u64 stripe_buckets(struct xkv_store *st, u32 *lo, u32 *hi,
			  u64 *over)
{
	u64 sum = 0;
	u32 i;

	*lo = ~0u;
	*hi = 0;
	*over = 0;
	for (i = 0; i < XKV_STRIPES; i++) {
		struct xkv_stripe *sp = &st->stripes[i];
		u32 nb = sp->mask + 1;

		os_spin_lock(&sp->lock);
		if (nb < *lo)
			*lo = nb;
		if (nb > *hi)
			*hi = nb;
		if ((nb & (nb - 1)) || sp->count > nb + nb / 2)
			(*over)++;
		sum += nb;
		os_spin_unlock(&sp->lock);
	}
	return sum;
}

static void test_grow(u32 hash_power)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, hash_power);
	u64 hb0 = uu_stat(st, "hash_bytes"), hb, rng = 42, items, bytes;
	u64 miss_during = 0, bad_during = 0, not_stored = 0, sum_b, over;
	u64 miss = 0, bad = 0, wrong_del = 0, kept = 0, kept_bytes = 0;
	u32 i, lo, hi, per0;
	char key[32], val[4];

	per0 = hash_power > XKV_STRIPE_BITS + 2 ? 1u << (hash_power - 10) : 4;
	tap_diag("hash_power %u: %u buckets per stripe at start", hash_power,
		 per0);
	sum_b = stripe_buckets(st, &lo, &hi, &over);
	tap_is_u64(sum_b, (u64)per0 * XKV_STRIPES, "buckets at start");
	tap_is_u64(hb0, sum_b * sizeof(void *),
		   "hash_bytes at start == buckets * pointer size");

	for (i = 0; i < NKEYS; i++) {
		int j;

		key_of(key, i);
		val_of(val, i);
		if (uu_store_op(st, XKV_OP_SET, key, val, 4, 0, 0, 0) !=
		    XKV_STORED)
			not_stored++;
		/* while the stripes grow: the new key, and 20 older ones */
		if (i % 500 == 0 || i < 2000) {
			int r = check_key(st, i);

			miss_during += r == 0;
			bad_during += r < 0;
			for (j = 0; j < 20; j++) {
				u32 k = (u32)(uu_rand(&rng) % (i + 1));

				r = check_key(st, k);
				miss_during += r == 0;
				bad_during += r < 0;
			}
		}
	}
	tap_is_u64(not_stored, 0, "%u sets all STORED", NKEYS);
	tap_is_u64(miss_during, 0, "no key missing while the table grew");
	tap_is_u64(bad_during, 0, "no key with a wrong value while it grew");
	tap_is_u64(uu_stat(st, "curr_items"), NKEYS, "curr_items == %u",
		   NKEYS);

	sum_b = stripe_buckets(st, &lo, &hi, &over);
	hb = uu_stat(st, "hash_bytes");
	tap_diag("after %u keys: buckets per stripe %u..%u, %llu in all, "
		 "hash_bytes %llu -> %llu", NKEYS, lo, hi,
		 (unsigned long long)sum_b, (unsigned long long)hb0,
		 (unsigned long long)hb);
	tap_ok(hb > hb0, "hash_bytes grew");
	tap_is_u64(hb, sum_b * sizeof(void *),
		   "hash_bytes == buckets * pointer size");
	tap_ok(lo > per0, "every stripe grew (smallest now %u)", lo);
	tap_is_u64(over, 0,
		   "every stripe: power-of-two buckets, <= 1.5 items each");
	tap_is_u64(xkv_assoc_buckets(st), sum_b, "xkv_assoc_buckets()");
	tap_is_u64(uu_check_table(st, &items, &bytes), 0,
		   "every item sits in its stripe and bucket");
	tap_is_u64(items, NKEYS, "the chains hold %u items", NKEYS);
	tap_is_u64(bytes, uu_stat(st, "bytes"),
		   "bytes stat == sum of the items' sizes");

	for (i = 0; i < NKEYS; i++) {
		int r = check_key(st, i);

		miss += r == 0;
		bad += r < 0;
	}
	tap_is_u64(miss, 0, "after growth all %u keys are found", NKEYS);
	tap_is_u64(bad, 0, "... each with its own value");

	/* delete every third key, and a few that never existed */
	for (i = 0; i < NKEYS; i += 3) {
		key_of(key, i);
		if (xkv_item_delete(st, key, strlen(key)) != XKV_DELETED)
			wrong_del++;
	}
	for (i = NKEYS; i < NKEYS + 1000; i++) {
		key_of(key, i);
		if (xkv_item_delete(st, key, strlen(key)) != XKV_NOT_FOUND)
			wrong_del++;
	}
	tap_is_u64(wrong_del, 0,
		   "deletes: DELETED for present keys, NOT_FOUND otherwise");
	miss = 0;
	bad = 0;
	for (i = 0; i < NKEYS; i++) {
		int r = check_key(st, i);

		if (i % 3 == 0) {
			bad += r != 0;
		} else {
			miss += r == 0;
			bad += r < 0;
			kept++;
			kept_bytes += xkv_item_total((u32)key_of(key, i), 4);
		}
	}
	tap_is_u64(bad, 0, "deleted keys are gone, kept keys intact");
	tap_is_u64(miss, 0, "no kept key went missing");
	tap_is_u64(uu_stat(st, "curr_items"), kept, "curr_items == %llu",
		   (unsigned long long)kept);
	tap_is_u64(uu_check_table(st, &items, &bytes), 0,
		   "table consistent after deletes");
	tap_is_u64(items, kept, "chains hold the kept items only");
	tap_is_u64(bytes, kept_bytes, "chains hold the kept keys' bytes");
	tap_is_u64(uu_stat(st, "bytes"), kept_bytes,
		   "bytes stat == sum of the kept items' sizes");

	/* deleting again finds nothing; re-adding a deleted key works */
	key_of(key, 3);
	tap_is_u64(xkv_item_delete(st, key, strlen(key)), XKV_NOT_FOUND,
		   "second delete of k:3 is NOT_FOUND");
	val_of(val, 3);
	tap_is_u64(uu_store_op(st, XKV_OP_ADD, key, val, 4, 0, 0, 0),
		   XKV_STORED, "add of the deleted k:3 is STORED");
	tap_is_u64(check_key(st, 3), 1, "k:3 is back");
	tap_is_u64(check_key(st, 6), 0, "k:6 is still gone");
	xkv_store_destroy(st);
}

/* keys that differ in one byte, of many lengths, in one stripe's chain */
static void test_similar_keys(void)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, 0);
	char key[XKV_KEY_MAX + 1];
	u64 bad = 0, items, bytes;
	u32 len, c;

	for (len = 1; len <= XKV_KEY_MAX; len += 7) {
		for (c = 0; c < 4; c++) {
			memset(key, 'x', len);
			key[len - 1] = (char)('a' + c);
			key[len] = '\0';
			if (uu_store_op(st, XKV_OP_SET, key, key, len, c, 0,
					0) != XKV_STORED)
				bad++;
		}
	}
	for (len = 1; len <= XKV_KEY_MAX; len += 7) {
		for (c = 0; c < 4; c++) {
			struct uu_val v;

			memset(key, 'x', len);
			key[len - 1] = (char)('a' + c);
			key[len] = '\0';
			if (uu_get(st, key, &v) != 1 || v.len != len ||
			    memcmp(v.data, key, len) || v.flags != c)
				bad++;
			uu_val_free(&v);
		}
		/* a prefix or an extension of a stored key is not a hit */
		memset(key, 'x', len + 1);
		key[len + 1] = '\0';
		if (len + 1 <= XKV_KEY_MAX && uu_has(st, key))
			bad++;
	}
	tap_is_u64(bad, 0, "keys of 1..250 bytes differing in one byte");
	tap_is_u64(uu_check_table(st, &items, &bytes), 0,
		   "table consistent");
	tap_is_u64(items, 36 * 4, "144 items linked");
	xkv_store_destroy(st);
}

int main(void)
{
	test_grow(0);
	test_grow(16);
	test_similar_keys();
	return tap_done();
}
