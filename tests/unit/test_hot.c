// SPDX-License-Identifier: GPL-2.0
/*
 * test_hot.c - the store's ownership of the XDP hot cache, on plain memory
 * standing in for the mmap'ed map: what each command does to a key's
 * slot, the seqlock parity, expiry conversion, flush_all and admission.
 */
#include <pthread.h>
#include <sched.h>

#include "tap.h"
#include "unit_util.h"
#include "xkv_slot.h"

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
	tap_is_i64(xkv_store_attach_hot(st, odd, 2), -EINVAL,
		   "attach: at least XKV_HOT_WAYS slots");
	slots[5].seq = 7;
	slots[5].key_len = 3;
	slots[9].key_len = 0xffff;
	tap_is_i64(xkv_store_attach_hot(st, slots, NSLOTS), 0, "attach");
	tap_ok(!(slots[5].seq & 1) && slots[5].seq > 7 &&
		       slots[5].key_len == 0,
	       "attach takes over and empties a slot a dead writer left odd");
	tap_ok(!(slots[9].seq & 1) && slots[9].key_len == 0,
	       "attach empties a slot with a bad key length");
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

	uu_wall_settle();
	uu_store_op(st, XKV_OP_SET, "soon", "s", 1, 0, 1, 0);
	uu_has(st, "soon");
	tap_ok(slot_is("soon", "s") && slot_for("soon")->expire_ns &&
		       slot_for("soon")->expire_ns <=
			       uu_now_ns() + 1000000000ULL,
	       "an item expiring within a second gets at most a second");
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

/* a slot someone wrote a bad key length into, through the map */
static void test_bad_slots(struct xkv_store *st)
{
	struct xkv_slot *last = &slots[NSLOTS - 1];
	char key[32];
	u32 w, i;

	/* a key of the last set, so that a length read past the slot
	 * leaves the array (ASan reports it) */
	for (i = 0;; i++) {
		snprintf(key, sizeof(key), "last%u", i);
		if (set_base(key) == NSLOTS - XKV_HOT_WAYS)
			break;
	}
	for (w = 0; w < XKV_HOT_WAYS; w++) {
		struct xkv_slot *sl = &slots[NSLOTS - XKV_HOT_WAYS + w];

		sl->key_len = 0xffff;
		memset(sl->key, 'x', sizeof(sl->key));
	}
	uu_set(st, key, "L");
	for (i = 0; i < 10; i++)
		uu_has(st, key);
	tap_ok(slot_is(key, "L"),
	       "a set whose slots say key_len 65535: admission reads no key past its slot, installs");
	last->key_len = XKV_HOT_KEY_MAX + 1;
	xkv_flush_all(st, 0);
	tap_ok(last->key_len == 0 && !(last->seq & 1),
	       "flush_all empties a slot with a bad key length");
}

/* a slot left odd through the map: writers go on, nothing stale */
static void test_stuck(struct xkv_store *st)
{
	struct xkv_slot *sl;
	u32 seq = 0;
	u64 t0, took;

	uu_set(st, "stuck", "old");
	uu_has(st, "stuck");
	sl = slot_holding("stuck");
	tap_ok(sl && slot_is("stuck", "old"), "installed before it sticks");
	if (!sl)
		return;
	sl->seq |= 1;
	t0 = uu_now_ns();
	uu_set(st, "stuck", "new");
	took = uu_now_ns() - t0;
	tap_ok(took < 1000000000ULL,
	       "a set of a key whose slot stays odd returns (%llu us)",
	       (unsigned long long)(took / 1000));
	tap_ok(!(sl->seq & 1) && (slot_is("stuck", "new") ||
				  slot_empty_for("stuck")),
	       "the store took the slot over: new value or empty, never the old");
	tap_ok(uu_has(st, "stuck") && slot_is("stuck", "new"),
	       "and installs the key there again");

	/* an emptier that finishes after the store took its slot over */
	tap_ok(xkv_slot_trylock(sl, &seq), "an emptier takes the slot");
	uu_set(st, "stuck", "newer");
	tap_ok(!(sl->seq & 1) && slot_is("stuck", "newer"),
	       "the store takes it over and writes the new value");
	xkv_slot_empty(sl);
	tap_ok(!xkv_slot_unlock(sl, seq) && !(sl->seq & 1),
	       "the late emptier's unlock fails: the count stays the store's");
	tap_ok(slot_empty_for("stuck"),
	       "and its late store only emptied the slot");
}

/* the store's clock against the slots' when the wall clock steps */
static void test_clock(struct xkv_store *st)
{
	const u64 hour = 3600ULL * XKV_NS_PER_SEC;
	struct xkv_item hdr;
	struct xkv_slot *sl;
	u64 now, exp;

	uu_wall_settle();
	now = xkv_store_now(st);
	uu_store_op(st, XKV_OP_SET, "clk", "c", 1, 0, 100, 0);
	uu_has(st, "clk");
	sl = slot_holding("clk");
	tap_ok(sl && sl->expire_ns, "installed with an expiry");
	if (!sl)
		return;
	exp = sl->expire_ns;
	xkv_os_wall_step_ns = (s64)(2 * hour);
	tap_ok(xkv_store_now(st) - now <= 1,
	       "the wall clock steps 2 h forward: the store's clock does not");
	tap_ok(uu_has(st, "clk") && sl->expire_ns == exp &&
		       slot_is("clk", "c"),
	       "... the item lives on in the store and in its slot alike");
	xkv_os_wall_step_ns = -(s64)(2 * hour);
	tap_ok(xkv_store_now(st) - now <= 1 && uu_has(st, "clk") &&
		       sl->expire_ns == exp,
	       "a step 2 h back: the same");
	xkv_os_wall_step_ns = 0;

	/* time passes: the store and XDP (expire_ns) switch together */
	tap_ok(uu_peek(st, "clk", &hdr), "the item's header");
	xkv_os_mono_step_ns = (s64)(exp - uu_now_ns()) - 1000000;
	tap_ok(xkv_store_now(st) < hdr.exptime &&
		       uu_now_ns() + (u64)xkv_os_mono_step_ns < exp,
	       "1 ms before the slot's expiry the store holds it alive");
	xkv_os_mono_step_ns = (s64)(exp - uu_now_ns());
	tap_ok(xkv_store_now(st) >= hdr.exptime,
	       "at the slot's expiry the store has expired it too");
	tap_ok(!uu_has(st, "clk") && slot_empty_for("clk"),
	       "a read then misses and empties the slot");
	xkv_os_mono_step_ns = 0;
}

/*
 * flush_all against concurrent reads that admit keys: once flush_all
 * returned, no slot may hold an item older than it.
 */
#define RACE_KEYS 16
#define RACE_THREADS 2

struct race {
	struct xkv_store *st;
	int stop;
	int pause;
	int parked;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	char key[16];
	u32 i = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&r->pause, __ATOMIC_ACQUIRE)) {
			__atomic_add_fetch(&r->parked, 1, __ATOMIC_ACQ_REL);
			while (__atomic_load_n(&r->pause, __ATOMIC_ACQUIRE))
				sched_yield();
			__atomic_sub_fetch(&r->parked, 1, __ATOMIC_ACQ_REL);
			continue;
		}
		snprintf(key, sizeof(key), "race%u", i++ % RACE_KEYS);
		uu_has(r->st, key);
	}
	return NULL;
}

static void test_flush_race(struct xkv_store *st)
{
	struct race r = { .st = st };
	pthread_t th[RACE_THREADS];
	u64 t0 = uu_now_ns(), rounds = 0, bad = 0, i;
	char key[16];

	for (i = 0; i < RACE_THREADS; i++)
		if (pthread_create(&th[i], NULL, race_reader, &r))
			tap_bail("pthread_create");
	while (uu_now_ns() - t0 < 1500000000ULL) {
		for (i = 0; i < RACE_KEYS; i++) {
			snprintf(key, sizeof(key), "race%u", (u32)i);
			uu_set(st, key, "before the flush");
		}
		xkv_flush_all(st, 0);
		/* let every read in flight finish, then look */
		__atomic_store_n(&r.pause, 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&r.parked, __ATOMIC_ACQUIRE) <
		       RACE_THREADS)
			sched_yield();
		for (i = 0; i < NSLOTS; i++)
			bad += slots[i].key_len != 0;
		__atomic_store_n(&r.pause, 0, __ATOMIC_RELEASE);
		rounds++;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	tap_diag("%llu rounds of set, concurrent gets, flush_all",
		 (unsigned long long)rounds);
	tap_is_u64(bad, 0,
		   "no slot holds an item older than a flush_all that returned");
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
	test_bad_slots(st);
	test_stuck(st);
	test_clock(st);
	test_flush_race(st);
	xkv_store_destroy(st);
	tap_ok(all_empty(), "destroy leaves every slot empty and even");
	free(slots);
	return tap_done();
}
