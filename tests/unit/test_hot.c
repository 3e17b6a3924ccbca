// SPDX-License-Identifier: GPL-2.0
/*
 * test_hot.c - the store's ownership of the XDP hot cache, on plain memory
 * standing in for the mmap'ed map: what each command does to a key's
 * slot, the seqlock parity, expiry conversion, flush_all and admission.
 */
#include "tap.h"
#include "unit_util.h"

#define NSLOTS 64

static struct xkv_slot *slots;

static struct xkv_slot *slot_holding(const char *key);

/* the slot holding @key, or way 0 of its set when none does */
static struct xkv_slot *slot_for(const char *key)
{
	struct xkv_slot *sl = slot_holding(key);
	u32 n = (u32)strlen(key);

	return sl ? sl : &slots[xkv_hot_way(xkv_hot_hash(key, n), NSLOTS, 0)];
}

/* the slot holds @key with value @val, and is stable */
static bool slot_is(const char *key, const char *val)
{
	struct xkv_slot *sl = slot_for(key);
	size_t n = strlen(key), v = strlen(val);

	return !(sl->seq & 1) && sl->key_len == n &&
	       !memcmp(sl->key, key, n) && sl->val_len == v &&
	       !memcmp(sl->val, val, v);
}

static bool slot_empty_for(const char *key)
{
	struct xkv_slot *sl = slot_for(key);
	size_t n = strlen(key);

	return !(sl->seq & 1) &&
	       !(sl->key_len == n && !memcmp(sl->key, key, n));
}

/* the first of a key's set (its XKV_HOT_WAYS slots) */
static u32 set_base(const char *key)
{
	return xkv_hot_way(xkv_hot_hash(key, (u32)strlen(key)), NSLOTS, 0) &
	       ~(u32)(XKV_HOT_WAYS - 1);
}

/* the @n-th key after @key's search that shares @key's set */
static void same_set_key(const char *key, u32 n, char *out, size_t len)
{
	u32 i;

	for (i = 0;; i++) {
		snprintf(out, len, "other%u", i);
		if (set_base(out) == set_base(key) && strcmp(out, key) &&
		    n-- == 0)
			return;
	}
}

/* the slot of @key's set that holds it, or NULL */
static struct xkv_slot *slot_holding(const char *key)
{
	u32 base = set_base(key), w, n = (u32)strlen(key);

	for (w = 0; w < XKV_HOT_WAYS; w++) {
		struct xkv_slot *sl = &slots[base + w];

		if (sl->key_len == n && !memcmp(sl->key, key, n))
			return sl;
	}
	return NULL;
}

static void test_attach(struct xkv_store *st)
{
	static struct xkv_slot odd[3];

	tap_is_i64(xkv_store_attach_hot(st, odd, 3), -EINVAL,
		   "attach: slot count must be a power of two");
	slots[5].seq = 7;
	slots[5].key_len = 3;
	tap_is_i64(xkv_store_attach_hot(st, slots, NSLOTS), 0, "attach");
	tap_ok(slots[5].seq == 0 && slots[5].key_len == 0,
	       "attach empties a slot a dead writer left odd");
	tap_is_i64(xkv_store_attach_hot(st, slots, NSLOTS), -EBUSY,
		   "second attach refused");
}

static void test_writes(struct xkv_store *st)
{
	struct xkv_slot *sl = slot_for("k");
	char res[24];
	size_t nres;
	u64 cas;
	u32 seq;

	uu_set(st, "k", "v1");
	tap_ok(slot_empty_for("k"), "a set alone does not install");
	tap_ok(uu_has(st, "k") && slot_is("k", "v1"),
	       "a backend read installs the key");
	cas = sl->cas;
	tap_ok(cas != 0 && sl->flags == 0 && sl->expire_ns == 0,
	       "slot carries CAS, flags, no expiry");
	seq = sl->seq;
	uu_store_op(st, XKV_OP_SET, "k", "v2", 2, 42, 0, 0);
	tap_ok(slot_is("k", "v2") && sl->flags == 42 && sl->cas != cas,
	       "set rewrites the slot before it returns");
	tap_ok(sl->seq == seq + 2, "a write moves the sequence by 2");
	uu_store_op(st, XKV_OP_APPEND, "k", "x", 1, 0, 0, 0);
	tap_ok(slot_is("k", "v2x"), "append rewrites the slot");
	uu_store_op(st, XKV_OP_PREPEND, "k", "y", 1, 0, 0, 0);
	tap_ok(slot_is("k", "yv2x"), "prepend rewrites the slot");
	cas = sl->cas;
	uu_store_op(st, XKV_OP_CAS, "k", "c", 1, 0, 0, cas);
	tap_ok(slot_is("k", "c"), "cas rewrites the slot");
	uu_store_op(st, XKV_OP_REPLACE, "k", "10", 2, 0, 0, 0);
	tap_ok(slot_is("k", "10"), "replace rewrites the slot");
	xkv_item_arith(st, "k", 1, true, 5, res, &nres);
	tap_ok(slot_is("k", "15"), "incr in place rewrites the slot");
	xkv_item_arith(st, "k", 1, false, 10, res, &nres);
	tap_ok(slot_is("k", "5 "), "decr keeps memcached's padding");
	xkv_item_arith(st, "k", 1, true, 1000, res, &nres);
	tap_ok(slot_is("k", "1005"), "incr into a longer item rewrites");
	xkv_item_touch(st, "k", 1, xkv_exptime(st, 100));
	tap_ok(sl->expire_ns > uu_now_ns() + 90ULL * 1000000000 &&
	       sl->expire_ns <= uu_now_ns() + 100ULL * 1000000000,
	       "touch sets the expiry on the monotonic clock, rounded down");
	xkv_item_touch(st, "k", 1, 0);
	tap_ok(sl->expire_ns == 0 && slot_is("k", "1005"),
	       "touch 0 clears the expiry");
	xkv_item_delete(st, "k", 1);
	tap_ok(slot_empty_for("k"), "delete empties the slot");
	uu_set(st, "k", "v3");
	tap_ok(slot_empty_for("k"), "a later set does not bring it back");
}

static void test_expiry_and_size(struct xkv_store *st)
{
	static char big[XKV_HOT_VAL_MAX + 2];

	uu_store_op(st, XKV_OP_SET, "soon", "s", 1, 0, 1, 0);
	uu_has(st, "soon");
	tap_ok(slot_empty_for("soon"),
	       "an item expiring within a second is not installed");
	uu_store_op(st, XKV_OP_SET, "later", "l", 1, 0, 50, 0);
	uu_has(st, "later");
	tap_ok(slot_is("later", "l") && slot_for("later")->expire_ns,
	       "an item with an expiry is installed with one");
	memset(big, 'b', sizeof(big) - 1);
	uu_set(st, "big", big);
	uu_has(st, "big");
	tap_ok(slot_empty_for("big"), "a value over a slot is not installed");
	xkv_store_advance_clock(st, 10);
	tap_ok(slot_empty_for("later"),
	       "moving the store clock empties the slots");
}

static void test_flush(struct xkv_store *st)
{
	u64 now = uu_now_ns();

	uu_set(st, "f1", "a");
	uu_has(st, "f1");
	tap_ok(slot_is("f1", "a"), "installed before flush");
	xkv_flush_all(st, 30);
	tap_ok(slot_is("f1", "a") && slot_for("f1")->expire_ns > now &&
	       slot_for("f1")->expire_ns < now + 31ULL * 1000000000,
	       "a delayed flush caps the slot's expiry");
	uu_set(st, "f2", "b");
	uu_has(st, "f2");
	tap_ok(slot_is("f2", "b") && slot_for("f2")->expire_ns &&
	       slot_for("f2")->expire_ns < now + 31ULL * 1000000000,
	       "installs while a flush is pending are capped too");
	xkv_flush_all(st, 0);
	tap_ok(slot_empty_for("f1") && slot_empty_for("f2"),
	       "flush_all empties every slot");
}

static void test_admission(struct xkv_store *st)
{
	char inc[XKV_HOT_WAYS][32], other[32];
	u64 ins, rej, rej0;
	bool all = true;
	int i, w;

	for (w = 0; w < XKV_HOT_WAYS; w++) {
		same_set_key("hot", (u32)w + 1, inc[w], sizeof(inc[w]));
		uu_set(st, inc[w], "I");
		for (i = 0; i < 20; i++)
			uu_has(st, inc[w]);
	}
	for (w = 0; w < XKV_HOT_WAYS; w++)
		all &= slot_is(inc[w], "I");
	tap_ok(all, "%d keys of one set share it, one way each",
	       XKV_HOT_WAYS);
	same_set_key("hot", 0, other, sizeof(other));
	uu_set(st, other, "O");
	xkv_store_hot_stats(st, &ins, &rej0);
	uu_has(st, other);
	xkv_store_hot_stats(st, &ins, &rej);
	tap_ok(!slot_holding(other) && rej == rej0 + 1,
	       "a rarely read key does not displace them (%s)", other);
	for (w = 0; w < XKV_HOT_WAYS; w++)
		slot_for(inc[w])->hits = 10;
	for (i = 0; i < 40; i++)
		uu_has(st, other);
	tap_ok(!slot_holding(other),
	       "XDP's sampled hits count for the incumbents");
	for (i = 0; i < 200; i++)
		uu_has(st, other);
	tap_ok(slot_is(other, "O") && slot_for(other)->hits == 0,
	       "a key read more often takes a way, its hits reset");
}

static bool all_empty(void)
{
	u32 i;

	for (i = 0; i < NSLOTS; i++)
		if (slots[i].key_len || (slots[i].seq & 1))
			return false;
	return true;
}

int main(void)
{
	struct xkv_store *st = uu_store_new(16 << 20, 12);

	slots = calloc(NSLOTS, sizeof(*slots));
	if (!slots)
		tap_bail("out of memory");
	test_attach(st);
	test_writes(st);
	test_expiry_and_size(st);
	test_flush(st);
	test_admission(st);
	xkv_store_destroy(st);
	tap_ok(all_empty(), "destroy leaves every slot empty and even");
	free(slots);
	return tap_done();
}
