// SPDX-License-Identifier: GPL-2.0
/*
 * test_hot.c - the XDP hot cache's slots, on plain memory standing in for
 * the mmap'ed map: the entry helpers of abi/xkv_slot.h at every size
 * boundary and against garbage written through the map, then the store's
 * ownership of the slots: what each command does to a key's entry, the
 * seqlock parity, expiry conversion, flush_all and admission (from
 * backend reads and from the XDP store path's peeks).
 */
#include <pthread.h>
#include <sched.h>

#include "tap.h"
#include "unit_util.h"
#include "xkv_slot.h"

#define NSLOTS 64

static struct xkv_slot *slots;

/* ---- the entry helpers alone ---- */

/*
 * The RFC 1071 sum written differently from xkv_hot_csum(): byte by byte,
 * even offsets the low byte of a little-endian word, odd ones the high.
 * (The unit tests run on little-endian hosts, where "native" is that.)
 */
static u16 ref_csum(const u8 *p, u32 len)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < len; i++)
		sum += (i & 1) ? (u64)p[i] << 8 : p[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)sum;
}

/*
 * The slot hash written out from its description: little-endian words,
 * the last zero-padded, each mixed with a multiply and a xorshift, the
 * length mixed last, then a multiply keeping the high half.
 */
static u32 ref_hash(const u8 *p, u32 len)
{
	u64 h = 0x9e3779b97f4a7c15ULL, w;
	u32 i, j;

	for (i = 0; i < len; i += 8) {
		w = 0;
		for (j = 0; j < 8 && i + j < len; j++)
			w += (u64)p[i + j] << (8 * j);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 32;
	}
	h = (h ^ len) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (u32)((h * 0x94d049bb133111ebULL) >> 32);
}

/* whole key, bytes, words at each phase, and the reference agree */
static void test_hash_forms(void)
{
	u8 buf[8 + XKV_HOT_KEY_MAX + 8];
	u32 len, a, i, k, bad = 0, seen = 0;
	u32 lows[64] = { 0 };
	struct xkv_hot_hs s;
	u64 w;
	u32 h;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 131 + 7);
	for (len = 1; len <= XKV_HOT_KEY_MAX; len++) {
		for (a = 0; a < 8; a++) {
			const u8 *p = buf + a;

			h = xkv_hot_hash(p, len);
			bad += h != ref_hash(p, len);
			xkv_hot_hash_init(&s);
			for (i = 0; i < len; i++)
				xkv_hot_hash_byte(&s, i, p[i]);
			bad += xkv_hot_hash_end(&s, len) != h;
			/* @a bytes one at a time, then words, then bytes */
			xkv_hot_hash_init(&s);
			for (i = 0; i < a && i < len; i++)
				xkv_hot_hash_byte(&s, i, p[i]);
			for (; i + 8 <= len; i += 8) {
				memcpy(&w, p + i, 8);
				xkv_hot_hash_word(&s, i, w);
			}
			for (; i < len; i++)
				xkv_hot_hash_byte(&s, i, p[i]);
			bad += xkv_hot_hash_end(&s, len) != h;
		}
	}
	tap_ok(!bad, "slot hash: word, byte and mixed forms and the "
	       "reference agree, lengths 1..250 at 8 alignments");
	/* a zero byte more is another key */
	tap_ok(xkv_hot_hash("a", 1) != xkv_hot_hash("a\0", 2) &&
	       xkv_hot_hash("\0", 1) != xkv_hot_hash("\0\0", 2) &&
	       xkv_hot_hash("abcdefgh", 8) != xkv_hot_hash("abcdefgh\0", 9),
	       "slot hash: trailing zero bytes change it");
	/* sequential keys spread over 64 slots */
	for (k = 0; k < 64 * 64; k++) {
		char key[32];
		int n = snprintf(key, sizeof(key), "key:%012u", k);

		lows[xkv_hot_index(xkv_hot_hash(key, (u32)n), 64)]++;
	}
	for (i = 0; i < 64; i++)
		seen += lows[i] >= 32 && lows[i] <= 96;
	tap_ok(seen == 64, "slot hash: 4,096 sequential keys, every one of "
	       "64 slots gets 32..96 of them");
}

/* the entry at @off is @key with @val and @flags, built memcached's way */
static bool ent_is(const struct xkv_slot *sl, int off, const void *key,
		   u32 klen, const void *val, u32 vlen, u32 flags)
{
	const struct xkv_hot_ent *e;
	char want[2 * XKV_HOT_SLOT_SIZE];
	int n;

	if (off < 0)
		return false;
	e = xkv_slot_ent(sl, (u32)off);
	n = snprintf(want, sizeof(want), "VALUE %.*s %u %u\r\n", (int)klen,
		     (const char *)key, flags, vlen);
	if ((u32)n + vlen + 2 > sizeof(want))
		return false;
	memcpy(want + n, val, vlen);
	memcpy(want + n + vlen, "\r\n", 2);
	return e->key_len == klen && e->line_len == (u32)n - 2 &&
	       e->body_len == (u32)n + vlen + 2 &&
	       e->size == xkv_hot_ent_size((u32)n - 2, vlen) &&
	       e->hash == xkv_hot_hash(key, klen) &&
	       !memcmp(e->body, want, e->body_len) &&
	       e->sum_line == ref_csum(e->body, e->line_len) &&
	       e->sum_body == ref_csum(e->body, e->body_len);
}

static int put(struct xkv_slot *sl, const char *key, const void *val,
	       u32 vlen, u32 flags)
{
	u32 klen = (u32)strlen(key);

	return xkv_slot_put(sl, xkv_hot_hash(key, klen), key, klen, val, vlen,
			    flags, 1, 0, 0);
}

static int find(const struct xkv_slot *sl, const char *key)
{
	u32 klen = (u32)strlen(key);

	return xkv_slot_find(sl, xkv_hot_hash(key, klen), key, klen);
}

/* the largest value an entry of @klen bytes of key and @flags can have */
static u32 val_max(u32 klen, u32 flags)
{
	u32 v = XKV_HOT_SLOT_ROOM;

	while (xkv_hot_ent_size(xkv_slot_line_len(klen, v, flags), v) >
	       XKV_HOT_SLOT_ROOM)
		v--;
	return v;
}

static void test_ent_bounds(void)
{
	static u8 val[XKV_HOT_SLOT_SIZE];
	char key[XKV_HOT_KEY_MAX + 1];
	struct xkv_slot *sl = calloc(1, sizeof(*sl));
	u32 i, v;

	if (!sl)
		tap_bail("out of memory");
	for (i = 0; i < sizeof(val); i++)
		val[i] = (u8)(i * 7 + 3);
	tap_ok(put(sl, "e", "", 0, 0) && ent_is(sl, find(sl, "e"), "e", 1,
						"", 0, 0),
	       "an empty value: \"VALUE e 0 0\\r\\n\\r\\n\", sums right");
	tap_is_u64(xkv_slot_ent(sl, 0)->size, XKV_HOT_ENT_MIN,
		   "... the smallest entry, XKV_HOT_ENT_MIN bytes");
	xkv_slot_empty(sl);

	/* the shortest key: a little more than XKV_HOT_VAL_MAX fits */
	v = val_max(1, 0);
	tap_ok(v > XKV_HOT_VAL_MAX, "a 1-byte key takes values to %u bytes",
	       v);
	tap_ok(put(sl, "k", val, v, 0) &&
		       ent_is(sl, find(sl, "k"), "k", 1, val, v, 0) &&
		       sl->used == XKV_HOT_SLOT_ROOM,
	       "the largest value of a 1-byte key fills the slot exactly");
	xkv_slot_empty(sl);
	tap_ok(!put(sl, "k", val, v + 1, 0) && sl->used == 0 &&
		       find(sl, "k") < 0,
	       "one byte more is not admitted, nothing written");

	/* the longest key and the longest flags: XKV_HOT_VAL_MAX exactly */
	memset(key, 'K', XKV_HOT_KEY_MAX);
	key[XKV_HOT_KEY_MAX] = 0;
	tap_is_u64(val_max(XKV_HOT_KEY_MAX, 0xffffffffU), XKV_HOT_VAL_MAX,
		   "a 250-byte key with 10-digit flags: XKV_HOT_VAL_MAX");
	tap_ok(put(sl, key, val, XKV_HOT_VAL_MAX, 0xffffffffU) &&
		       ent_is(sl, find(sl, key), key, XKV_HOT_KEY_MAX, val,
			      XKV_HOT_VAL_MAX, 0xffffffffU),
	       "XKV_HOT_VAL_MAX bytes under the longest key and flags fit");
	xkv_slot_empty(sl);
	tap_ok(!put(sl, key, val, XKV_HOT_VAL_MAX + 1, 0xffffffffU) &&
		       sl->used == 0,
	       "XKV_HOT_VAL_MAX + 1 does not");
	tap_ok(!xkv_slot_append(sl, 1, key, XKV_HOT_KEY_MAX + 1, val, 1, 0, 1,
				0, 0) &&
		       !xkv_slot_append(sl, 1, key, 0, val, 1, 0, 1, 0, 0) &&
		       sl->used == 0,
	       "keys of 0 or 251 bytes are refused");
	/* a datagram's worth: 1400 bytes under a 250-byte key */
	tap_ok(put(sl, key, val, 1400, 7) &&
		       ent_is(sl, find(sl, key), key, XKV_HOT_KEY_MAX, val,
			      1400, 7),
	       "1400 bytes (a datagram) under the longest key");
	free(sl);
}

static void test_ent_fill_remove(void)
{
	struct xkv_slot *sl = calloc(1, sizeof(*sl));
	char key[32], v32[32], want[64];
	u32 i, n = 0, size, before;
	int off;

	if (!sl)
		tap_bail("out of memory");
	memset(v32, 'v', sizeof(v32));
	/* 16-byte keys, 32-byte values: 104 bytes each, 19 to a slot */
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "key:%012u", i);
		if (!put(sl, key, v32, 32, 0))
			break;
		n++;
	}
	tap_is_u64(n, 19, "19 entries of a 16-byte key and 32-byte value");
	tap_is_u64(xkv_slot_ent(sl, 0)->size, 104, "... 104 bytes each");
	/* the 64 bytes left: exactly one entry of 64 bytes */
	tap_is_u64(XKV_HOT_SLOT_ROOM - sl->used, 64, "64 bytes left");
	tap_ok(!put(sl, "z", "1234567890", 10, 0) &&
		       put(sl, "z", "123456789", 9, 0) &&
		       sl->used == XKV_HOT_SLOT_ROOM,
	       "a 65-byte entry does not fit them, a 64-byte one fills the slot");
	tap_ok(!put(sl, "y", "", 0, 0),
	       "a full slot takes not even the smallest");

	/* remove from the middle */
	snprintf(key, sizeof(key), "key:%012u", 7);
	off = find(sl, key);
	size = off >= 0 ? xkv_slot_ent(sl, (u32)off)->size : 0;
	before = sl->used;
	tap_ok(off == 7 * 104, "the 8th key is at 7 * 104");
	if (off >= 0)
		xkv_slot_remove(sl, (u32)off);
	tap_ok(sl->used == before - size && find(sl, key) < 0,
	       "remove: gone, @used shrank by its size");
	n = 0;
	for (i = 0; i < 19; i++) {
		snprintf(key, sizeof(key), "key:%012u", i);
		n += i != 7 && ent_is(sl, find(sl, key), key, 16, v32, 32, 0);
	}
	tap_ok(n == 18 && ent_is(sl, find(sl, "z"), "z", 1, "123456789", 9, 0),
	       "the later entries moved down whole, the others untouched");

	/* put replacing a key with a longer and a shorter value */
	snprintf(key, sizeof(key), "key:%012u", 3);
	off = find(sl, key);
	if (off >= 0)
		xkv_slot_ent(sl, (u32)off)->hits = 9;
	memset(want, 'L', sizeof(want));
	tap_ok(put(sl, key, want, 49, 5) == 1,
	       "a longer value for a key replaces it");
	off = find(sl, key);
	tap_ok(ent_is(sl, off, key, 16, want, 49, 5) &&
		       xkv_slot_ent(sl, (u32)off)->hits == 9,
	       "... its entry is the new one, its hits kept");
	tap_ok(put(sl, key, "s", 1, 0) &&
		       ent_is(sl, find(sl, key), key, 16, "s", 1, 0),
	       "a shorter one too");
	n = 0;
	for (i = 0; i < 19; i++) {
		snprintf(key, sizeof(key), "key:%012u", i);
		n += i != 7 && i != 3 &&
		     ent_is(sl, find(sl, key), key, 16, v32, 32, 0);
	}
	tap_ok(n == 17 && ent_is(sl, find(sl, "z"), "z", 1, "123456789", 9, 0),
	       "the other keys are intact after both");
	/* a rewrite that no longer fits drops the key */
	{
		static char big[XKV_HOT_SLOT_ROOM];

		tap_ok(!put(sl, "z", big, 1500, 0) && find(sl, "z") < 0,
		       "a rewrite that does not fit removes the old entry");
	}
	free(sl);
}

/* sums at an odd packet offset: the kernel's way, byte-swapped */
static void test_ent_sums(void)
{
	struct xkv_slot *sl = calloc(1, sizeof(*sl));
	u8 pkt[XKV_HOT_SLOT_SIZE + 1];
	const struct xkv_hot_ent *e;
	u64 seed = 42;
	u8 val[777];
	u32 i;
	u16 s, sw;

	if (!sl)
		tap_bail("out of memory");
	for (i = 0; i < sizeof(val); i++)
		val[i] = (u8)uu_rand(&seed);
	tap_ok(put(sl, "odd-key", val, sizeof(val), 123456), "installed");
	e = xkv_slot_ent(sl, 0);
	tap_ok(ent_is(sl, 0, "odd-key", 7, val, sizeof(val), 123456),
	       "a 777-byte random value: line, body and both sums right");
	/* the body one byte into a packet: sum of the packet's bytes */
	pkt[0] = 0;
	memcpy(pkt + 1, e->body, e->body_len);
	s = ref_csum(pkt, e->body_len + 1);
	sw = (u16)((e->sum_body >> 8) | (e->sum_body << 8));
	tap_is_u64(s, sw, "at an odd offset the sum adds byte-swapped");
	free(sl);
}

/* a slot full of garbage written through the map: walks stay inside */
static void test_ent_garbage(void)
{
	u64 seed = 7, found = 0, puts = 0, i;
	char key[20];

	for (i = 0; i < 20000; i++) {
		/* its own allocation each time: ASan sees a read past it */
		struct xkv_slot *sl = malloc(sizeof(*sl));
		u32 j, mode = (u32)(i % 4);
		int off;

		if (!sl)
			tap_bail("out of memory");
		for (j = 0; j < sizeof(*sl); j++)
			((u8 *)sl)[j] = (u8)uu_rand(&seed);
		sl->seq = 0;
		if (mode == 1)
			sl->used = 0xffff;
		if (mode >= 2) {
			/* a plausible chain of entries with bad fields */
			u32 off2 = 0;

			while (off2 + XKV_HOT_ENT_MIN <= XKV_HOT_SLOT_ROOM) {
				struct xkv_hot_ent *e = xkv_slot_ent(sl, off2);
				u32 sz = XKV_HOT_ENT_MIN +
					 8 * (u32)(uu_rand(&seed) % 8);

				e->size = (u16)sz;
				e->key_len = mode == 3 ? 250 : 16;
				/* mode 2: lengths that pass, key bytes not */
				e->line_len = mode == 2 ? 6 + 16 + 4 :
							  (u16)uu_rand(&seed);
				e->body_len = mode == 2 ? 6 + 16 + 4 + 4 :
							  (u16)uu_rand(&seed);
				e->hash = xkv_hot_hash("key:000000000001",
						       16);
				off2 += sz;
			}
			sl->used = (u16)(mode == 2 ? XKV_HOT_SLOT_ROOM :
						     uu_rand(&seed));
		}
		snprintf(key, sizeof(key), "key:%012llu",
			 (unsigned long long)(i % 3));
		off = find(sl, key);
		found += off >= 0;
		if (off >= 0)
			xkv_slot_remove(sl, (u32)off);
		puts += put(sl, key, "value", 5, 1) &&
			ent_is(sl, find(sl, key), key, 16, "value", 5, 1);
		free(sl);
	}
	tap_diag("%llu finds hit garbage, %llu puts landed",
		 (unsigned long long)found, (unsigned long long)puts);
	tap_ok(puts > 0, "20000 slots of garbage: find, remove and put read "
			 "and write only inside the slot (ASan watches)");
}

/* ---- the store's side ---- */

static u32 idx_of(const char *key)
{
	return xkv_hot_index(xkv_hot_hash(key, (u32)strlen(key)), NSLOTS);
}

static struct xkv_slot *slot_for(const char *key)
{
	return &slots[idx_of(key)];
}

/* @key's entry in its slot, or NULL */
static struct xkv_hot_ent *ent_for(const char *key)
{
	int off = find(slot_for(key), key);

	return off < 0 ? NULL : xkv_slot_ent(slot_for(key), (u32)off);
}

/* the slot holds @key with value @val (flags @flags), and is stable */
static bool slot_is_f(const char *key, const char *val, u32 flags)
{
	struct xkv_slot *sl = slot_for(key);

	return !(sl->seq & 1) &&
	       ent_is(sl, find(sl, key), key, (u32)strlen(key), val,
		      (u32)strlen(val), flags);
}

static bool slot_is(const char *key, const char *val)
{
	return slot_is_f(key, val, 0);
}

static bool slot_empty_for(const char *key)
{
	return !(slot_for(key)->seq & 1) && !ent_for(key);
}

/* the @n-th key after @key's search that shares @key's slot */
static void same_slot_key(const char *key, u32 n, char *out, size_t len)
{
	u32 i;

	for (i = 0;; i++) {
		snprintf(out, len, "other%u", i);
		if (idx_of(out) == idx_of(key) && strcmp(out, key) &&
		    n-- == 0)
			return;
	}
}

static void test_attach(struct xkv_store *st)
{
	static struct xkv_slot odd[3];

	tap_is_i64(xkv_store_attach_hot(st, odd, 3), -EINVAL,
		   "attach: slot count must be a power of two");
	tap_is_i64(xkv_store_attach_hot(st, odd, 0), -EINVAL,
		   "attach: at least one slot");
	slots[5].seq = 7;
	slots[5].used = 3;
	slots[9].used = 0xffff;
	tap_is_i64(xkv_store_attach_hot(st, slots, NSLOTS), 0, "attach");
	tap_ok(!(slots[5].seq & 1) && slots[5].seq > 7 && slots[5].used == 0,
	       "attach takes over and empties a slot a dead writer left odd");
	tap_ok(!(slots[9].seq & 1) && slots[9].used == 0,
	       "attach empties a slot with a bad @used");
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
	       "a backend read installs the key, its reply block built");
	cas = ent_for("k")->cas;
	tap_ok(cas != 0 && ent_for("k")->expire_ns == 0 &&
		       ent_for("k")->xflags == XKV_SLOT_F_META,
	       "entry carries CAS, no expiry, only the META flag");
	seq = sl->seq;
	uu_store_op(st, XKV_OP_SET, "k", "v2", 2, 42, 0, 0);
	tap_ok(slot_is_f("k", "v2", 42) && ent_for("k")->cas != cas,
	       "set rewrites the entry before it returns");
	tap_ok(sl->seq == seq + 2, "a write moves the sequence by 2");
	uu_store_op(st, XKV_OP_APPEND, "k", "x", 1, 0, 0, 0);
	tap_ok(slot_is_f("k", "v2x", 42), "append rewrites the entry");
	uu_store_op(st, XKV_OP_PREPEND, "k", "y", 1, 0, 0, 0);
	tap_ok(slot_is_f("k", "yv2x", 42), "prepend rewrites the entry");
	cas = ent_for("k")->cas;
	uu_store_op(st, XKV_OP_CAS, "k", "c", 1, 0, 0, cas);
	tap_ok(slot_is("k", "c"), "cas rewrites the entry");
	uu_store_op(st, XKV_OP_REPLACE, "k", "10", 2, 0, 0, 0);
	tap_ok(slot_is("k", "10"), "replace rewrites the entry");
	xkv_item_arith(st, "k", 1, true, 5, res, &nres);
	tap_ok(slot_is("k", "15"), "incr in place rewrites the entry");
	xkv_item_arith(st, "k", 1, false, 10, res, &nres);
	tap_ok(slot_is("k", "5 "), "decr keeps memcached's padding");
	xkv_item_arith(st, "k", 1, true, 1000, res, &nres);
	tap_ok(slot_is("k", "1005"), "incr into a longer item rewrites");
	xkv_item_touch(st, "k", 1, xkv_exptime(st, 100));
	tap_ok(ent_for("k") &&
		       ent_for("k")->expire_ns >
			       uu_now_ns() + 90ULL * 1000000000 &&
		       ent_for("k")->expire_ns <=
			       uu_now_ns() + 100ULL * 1000000000,
	       "touch sets the expiry on the monotonic clock, rounded down");
	xkv_item_touch(st, "k", 1, 0);
	tap_ok(ent_for("k") && ent_for("k")->expire_ns == 0 &&
		       slot_is("k", "1005"),
	       "touch 0 clears the expiry");
	xkv_item_delete(st, "k", 1);
	tap_ok(slot_empty_for("k"), "delete removes the entry");
	uu_set(st, "k", "v3");
	tap_ok(slot_empty_for("k"), "a later set does not bring it back");
}

/*
 * Every meta write rewrites or clears the key's slot before its reply is
 * produced; an invalidated item leaves the slot and a read does not bring
 * it back while it is stale.
 */
static void test_meta_writes(struct xkv_store *st)
{
	struct xkv_sess *s = xkv_sess_new(st, xkv_store_stats_slot(st, 0),
					  false);

	if (!s)
		tap_bail("xkv_sess_new");
	uu_set(st, "m", "v1");
	tap_ok(uu_has(st, "m") && slot_is("m", "v1"), "meta: key installed");
	tap_ok(uu_reply_is(s, "ms m 2 F7\r\nv2\r\n", "HD\r\n") &&
		       slot_is_f("m", "v2", 7),
	       "ms rewrites the entry");
	tap_ok(uu_reply_is(s, "ms m 1 MA\r\nx\r\n", "HD\r\n") &&
		       slot_is_f("m", "v2x", 7),
	       "ms MA (append) rewrites the entry");
	tap_ok(uu_reply_is(s, "ms m 2\r\n10\r\n", "HD\r\n") &&
		       uu_reply_is(s, "ma m\r\n", "HD\r\n") &&
		       slot_is("m", "11"),
	       "ma rewrites the entry");
	tap_ok(uu_reply_is(s, "ma m D100\r\n", "HD\r\n") && slot_is("m", "111"),
	       "ma into a longer item rewrites the entry");
	tap_ok(uu_reply_is(s, "mg m T100\r\n", "HD\r\n") && ent_for("m") &&
		       ent_for("m")->expire_ns > uu_now_ns(),
	       "mg T (touch) sets the entry's expiry");
	tap_ok(uu_reply_is(s, "md m I\r\n", "HD\r\n") && slot_empty_for("m"),
	       "md I (invalidate) clears the entry");
	tap_ok(uu_reply_is(s, "mg m v\r\n", "VA 3 X W\r\n111\r\n") &&
		       uu_has(st, "m") && slot_empty_for("m"),
	       "reads of a stale item do not install it");
	tap_ok(uu_reply_is(s, "mg m T50\r\n", "HD Z X\r\n") &&
		       slot_empty_for("m"),
	       "a touch of a stale item leaves the slot empty");
	tap_ok(uu_reply_is(s, "ms m 1\r\nf\r\n", "HD\r\n") && uu_has(st, "m") &&
		       slot_is("m", "f"),
	       "a fresh store may be installed again");
	tap_ok(uu_reply_is(s, "ms m 1 I C1\r\ns\r\n", "HD\r\n") &&
		       slot_empty_for("m") && uu_has(st, "m") &&
		       slot_empty_for("m"),
	       "ms I with an older CAS stores a stale value: slot cleared");
	tap_ok(uu_reply_is(s, "ms m 1\r\ng\r\n", "HD\r\n") && uu_has(st, "m") &&
		       uu_reply_is(s, "md m q\r\nmn\r\n", "MN\r\n") &&
		       slot_empty_for("m"),
	       "md (quiet) removes the entry");
	xkv_sess_free(s);
}

/* one binary packet through @s: answered with status 0, or quietly */
static bool bin_ok(struct xkv_sess *s, u8 op, const char *key,
		   const void *ext, u8 next, const char *val)
{
	u8 p[256];
	size_t n = uu_bin_pkt(p, op, key, ext, next, val, 0), olen;
	char *out;
	bool ok;

	if (xkv_sess_input(s, (const char *)p, n) != n)
		return false;
	out = uu_take_out(s, &olen);
	ok = !olen || (olen >= 24 && (u8)out[0] == 0x81 && !out[6] &&
		       !out[7]);
	free(out);
	return ok;
}

/* big-endian extras: @n words of 32 bits from @w */
static const u8 *be_ext(u8 *e, const u32 *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		e[4 * i] = (u8)(w[i] >> 24);
		e[4 * i + 1] = (u8)(w[i] >> 16);
		e[4 * i + 2] = (u8)(w[i] >> 8);
		e[4 * i + 3] = (u8)w[i];
	}
	return e;
}

/* Every binary write rewrites or clears the key's slot before it answers. */
static void test_bin_writes(struct xkv_store *st)
{
	struct xkv_sess *s = xkv_sess_new(st, xkv_store_stats_slot(st, 0),
					  false);
	static const u32 set9[] = { 9, 0 }, set0[] = { 0, 0 };
	static const u32 incr5[] = { 0, 5, 0, 0, 0 };
	static const u32 decr10[] = { 0, 10, 0, 0, 0 };
	static const u32 exp100[] = { 100 }, exp0[] = { 0 };
	u8 e[20];

	if (!s)
		tap_bail("xkv_sess_new");
	uu_set(st, "b", "v1");
	tap_ok(uu_has(st, "b") && slot_is("b", "v1"), "binary: key installed");
	tap_ok(bin_ok(s, 0x01, "b", be_ext(e, set9, 2), 8, "v2") &&
		       slot_is_f("b", "v2", 9),
	       "binary set rewrites the entry");
	tap_ok(bin_ok(s, 0x0e, "b", NULL, 0, "x") && slot_is_f("b", "v2x", 9),
	       "binary append rewrites the entry");
	tap_ok(bin_ok(s, 0x0f, "b", NULL, 0, "y") &&
		       slot_is_f("b", "yv2x", 9),
	       "binary prepend rewrites the entry");
	tap_ok(bin_ok(s, 0x11, "b", be_ext(e, set0, 2), 8, "10") &&
		       slot_is("b", "10"),
	       "binary setq rewrites the entry");
	tap_ok(bin_ok(s, 0x05, "b", be_ext(e, incr5, 5), 20, NULL) &&
		       slot_is("b", "15"),
	       "binary incr rewrites the entry");
	tap_ok(bin_ok(s, 0x06, "b", be_ext(e, decr10, 5), 20, NULL) &&
		       slot_is("b", "5 "),
	       "binary decr rewrites the entry");
	tap_ok(bin_ok(s, 0x1c, "b", be_ext(e, exp100, 1), 4, NULL) &&
		       ent_for("b") && ent_for("b")->expire_ns > uu_now_ns(),
	       "binary touch sets the entry's expiry");
	tap_ok(bin_ok(s, 0x1d, "b", be_ext(e, exp0, 1), 4, NULL) &&
		       ent_for("b") && !ent_for("b")->expire_ns &&
		       slot_is("b", "5 "),
	       "binary gat 0 clears the entry's expiry");
	tap_ok(bin_ok(s, 0x04, "b", NULL, 0, NULL) && slot_empty_for("b"),
	       "binary delete removes the entry");
	uu_set(st, "b", "v3");
	tap_ok(uu_has(st, "b") && slot_is("b", "v3") &&
		       bin_ok(s, 0x08, "", NULL, 0, NULL) &&
		       slot_empty_for("b"),
	       "binary flush removes the entry");
	xkv_sess_free(s);
}

/*
 * An item whose recache token went out (mg answered W) is the store's to
 * serve: every later mg says Z, which the slot cannot. Its slot is cleared
 * before the W reply, and no read (text, meta, the XDP store path) puts it
 * back until a write replaces it.
 */
static int peek_a(struct xkv_store *st, const char *key, bool admit, u8 *out,
		  u32 cap);

static void test_meta_won(struct xkv_store *st)
{
	struct xkv_sess *s = xkv_sess_new(st, xkv_store_stats_slot(st, 0),
					  false);
	u8 out[XKV_HOT_SLOT_SIZE];

	if (!s)
		tap_bail("xkv_sess_new");
	tap_ok(uu_reply_is(s, "ms w 1 T100\r\nf\r\n", "HD\r\n") &&
		       uu_has(st, "w") && slot_is("w", "f"),
	       "won: a key with a TTL is installed");
	tap_ok(uu_reply_is(s, "mg w R200 v\r\n", "VA 1 W\r\nf\r\n") &&
		       slot_empty_for("w"),
	       "won: mg R hands out the token and clears the slot first");
	tap_ok(uu_reply_is(s, "mg w v\r\n", "VA 1 Z\r\nf\r\n") &&
		       uu_has(st, "w") && slot_empty_for("w"),
	       "won: mg and get of it do not install it again");
	tap_ok(peek_a(st, "w", true, out, sizeof(out)) > 0 &&
		       peek_a(st, "w", true, out, sizeof(out)) > 0 &&
		       slot_empty_for("w"),
	       "won: nor do reads through the XDP store path");
	tap_ok(uu_reply_is(s, "mg w T300\r\n", "HD Z\r\n") &&
		       slot_empty_for("w"),
	       "won: a touch leaves the slot empty");
	tap_ok(uu_reply_is(s, "ms w 1\r\ng\r\n", "HD\r\n") &&
		       uu_has(st, "w") && slot_is("w", "g"),
	       "won: a store replaces it; the new item may be installed");
	tap_ok(ent_for("w") && ent_for("w")->xflags == XKV_SLOT_F_META,
	       "xflags: an item the store installs is META");
	tap_ok(uu_reply_is(s, "ms dzY0 1 b\r\nb\r\n", "HD\r\n") &&
		       uu_has(st, "w64") && slot_is("w64", "b") &&
		       ent_for("w64")->xflags ==
			       (XKV_SLOT_F_META | XKV_SLOT_F_KEY_B64),
	       "xflags: one stored with a base64 key is KEY_B64 too");
	tap_ok(uu_reply_is(s, "ms w64 1\r\nc\r\n", "HD\r\n") &&
		       slot_is("w64", "c") &&
		       ent_for("w64")->xflags == XKV_SLOT_F_META,
	       "xflags: a plain store over it rewrites the entry without it");
	tap_ok(uu_reply_is(s, "mg wv N30 v\r\n", "VA 0 W\r\n\r\n") &&
		       uu_reply_is(s, "mg wv v\r\n", "VA 0 Z\r\n\r\n") &&
		       uu_has(st, "wv") && slot_empty_for("wv"),
	       "won: a vivified item stays out of the slot");
	xkv_sess_free(s);
}

/* one key's writes leave its slot-mates alone */
static void test_neighbours(struct xkv_store *st)
{
	char a[32], b[32], c[32];

	same_slot_key("nb", 0, a, sizeof(a));
	same_slot_key("nb", 1, b, sizeof(b));
	same_slot_key("nb", 2, c, sizeof(c));
	uu_set(st, a, "A");
	uu_set(st, b, "B");
	uu_set(st, c, "C");
	uu_has(st, a);
	uu_has(st, b);
	uu_has(st, c);
	tap_ok(slot_is(a, "A") && slot_is(b, "B") && slot_is(c, "C"),
	       "three keys of one slot share it");
	uu_set(st, b, "a longer value for b");
	tap_ok(slot_is(a, "A") && slot_is(b, "a longer value for b") &&
		       slot_is(c, "C"),
	       "rewriting the middle one moves the last, changes neither");
	xkv_item_delete(st, a, strlen(a));
	tap_ok(slot_empty_for(a) && slot_is(b, "a longer value for b") &&
		       slot_is(c, "C"),
	       "deleting the first keeps the others");
	xkv_item_delete(st, b, strlen(b));
	xkv_item_delete(st, c, strlen(c));
	tap_ok(slot_for(a)->used == 0, "deleting all leaves the slot empty");
}

static void test_expiry_and_size(struct xkv_store *st)
{
	static char big[XKV_HOT_SLOT_ROOM + 2];
	char bk[16];
	u32 i, vm;

	uu_wall_settle();
	uu_store_op(st, XKV_OP_SET, "soon", "s", 1, 0, 1, 0);
	uu_has(st, "soon");
	tap_ok(slot_is("soon", "s") && ent_for("soon")->expire_ns &&
		       ent_for("soon")->expire_ns <=
			       uu_now_ns() + 1000000000ULL,
	       "an item expiring within a second gets at most a second");
	uu_store_op(st, XKV_OP_SET, "later", "l", 1, 0, 50, 0);
	uu_has(st, "later");
	tap_ok(slot_is("later", "l") && ent_for("later")->expire_ns,
	       "an item with an expiry is installed with one");
	/* a key whose slot is empty */
	for (i = 0;; i++) {
		snprintf(bk, sizeof(bk), "big%u", i);
		if (!slot_for(bk)->used)
			break;
	}
	vm = val_max((u32)strlen(bk), 0);
	memset(big, 'b', sizeof(big) - 1);
	big[vm + 1] = 0;
	uu_set(st, bk, big);
	uu_has(st, bk);
	tap_ok(slot_empty_for(bk), "a value one byte over a slot is not "
				   "installed");
	big[vm] = 0;
	uu_set(st, bk, big);
	uu_has(st, bk);
	tap_ok(slot_is(bk, big) && slot_for(bk)->used == XKV_HOT_SLOT_ROOM,
	       "the largest that fits (%u bytes) is, filling its slot", vm);
	uu_set(st, bk, "small again");
	tap_ok(slot_is(bk, "small again"), "and shrinks on a rewrite");
	xkv_store_advance_clock(st, 10);
	tap_ok(slot_empty_for("later") && slot_empty_for(bk),
	       "moving the store clock empties the slots");
}

static void test_flush(struct xkv_store *st)
{
	u64 now = uu_now_ns();
	char f3[32];

	uu_set(st, "f1", "a");
	uu_has(st, "f1");
	same_slot_key("f1", 0, f3, sizeof(f3));
	uu_set(st, f3, "c");
	uu_has(st, f3);
	tap_ok(slot_is("f1", "a") && slot_is(f3, "c"),
	       "installed before flush");
	xkv_flush_all(st, 30);
	tap_ok(slot_is("f1", "a") && ent_for("f1")->expire_ns > now &&
		       ent_for("f1")->expire_ns < now + 31ULL * 1000000000 &&
		       ent_for(f3)->expire_ns > now &&
		       ent_for(f3)->expire_ns < now + 31ULL * 1000000000,
	       "a delayed flush caps every entry's expiry in the slot");
	uu_set(st, "f2", "b");
	uu_has(st, "f2");
	tap_ok(slot_is("f2", "b") && ent_for("f2")->expire_ns &&
		       ent_for("f2")->expire_ns < now + 31ULL * 1000000000,
	       "installs while a flush is pending are capped too");
	xkv_flush_all(st, 0);
	tap_ok(slot_empty_for("f1") && slot_empty_for("f2") &&
		       slot_empty_for(f3),
	       "flush_all empties every slot");
}

/* reads of @key, each a backend read (the test has no XDP) */
static void reads(struct xkv_store *st, const char *key, int n)
{
	while (n-- > 0)
		uu_has(st, key);
}

static void test_admission(struct xkv_store *st)
{
	static char v300[301];
	char inc[6][32], other[32], small[12][32];
	struct xkv_slot *sl = slot_for("adm");
	u64 ins, rej, rej0;
	u32 left;
	int i, n;
	bool all = true;

	memset(v300, 'I', 300);
	/* 300-byte values: 5 entries fill a slot, no room for a sixth */
	for (i = 0; i < 5; i++) {
		same_slot_key("adm", (u32)i + 1, inc[i], sizeof(inc[i]));
		uu_set(st, inc[i], v300);
		reads(st, inc[i], 20);
	}
	for (i = 0; i < 5; i++)
		all &= slot_is(inc[i], v300);
	left = XKV_HOT_SLOT_ROOM - sl->used;
	tap_ok(all, "5 keys with 300-byte values share a slot (%u bytes "
		    "left)", left);
	same_slot_key("adm", 0, other, sizeof(other));
	uu_set(st, other, v300);
	xkv_store_hot_stats(st, &ins, &rej0);
	uu_has(st, other);
	xkv_store_hot_stats(st, &ins, &rej);
	tap_ok(!ent_for(other) && rej == rej0 + 1,
	       "a rarely read key does not displace them (%s)", other);
	for (i = 0; i < 5; i++)
		ent_for(inc[i])->hits = i == 2 ? 5 : 10;
	reads(st, other, 40);
	tap_ok(!ent_for(other), "XDP's sampled hits count for the incumbents");
	reads(st, other, 120);
	all = true;
	for (i = 0; i < 5; i++)
		all &= i == 2 ? !ent_for(inc[i]) : slot_is(inc[i], v300);
	tap_ok(slot_is(other, v300) && all,
	       "a key read more often goes in, evicting the least popular "
	       "entry and only it");
	tap_ok(ent_for(other)->hits == 0, "its hits start at 0");

	/* one big newcomer against many small entries */
	xkv_flush_all(st, 0);
	for (i = 0; i < 12; i++) {
		same_slot_key("adm", (u32)i + 10, small[i], sizeof(small[i]));
		uu_set(st, small[i], "0123456789012345678901234567890123456789"
				     "01234567890123456789012345678901234567"
				     "89");
		reads(st, small[i], 3 + i);
	}
	n = 0;
	for (i = 0; i < 12; i++)
		n += ent_for(small[i]) != NULL;
	tap_ok(n == 12, "12 small entries (%u bytes of the slot)", sl->used);
	left = XKV_HOT_SLOT_ROOM - sl->used;
	/* an entry 8 bytes over what the two least popular free: 3 go */
	if (n == 12) {
		static char bigv[XKV_HOT_SLOT_ROOM];
		u32 t = left + ent_for(small[0])->size +
			ent_for(small[1])->size + 8, v = 0;

		while (xkv_hot_ent_size(xkv_slot_line_len((u32)strlen(other),
							  v, 0), v) < t)
			v++;
		memset(bigv, 'B', v);
		bigv[v] = 0;
		uu_set(st, other, bigv);
		reads(st, other, 60);
		n = 0;
		for (i = 0; i < 12; i++)
			n += ent_for(small[i]) != NULL;
		tap_ok(slot_is(other, bigv) && n == 9 && !ent_for(small[0]) &&
			       !ent_for(small[1]) && !ent_for(small[2]),
		       "a big newcomer evicts the 3 least popular small ones "
		       "and no more (%d of 12 kept)", n);
	}
	xkv_flush_all(st, 0);
}

/* xkv_store_peek() of @key (the XDP store path): its block's length */
static int peek_a(struct xkv_store *st, const char *key, bool admit, u8 *out,
		  u32 cap)
{
	struct xkv_peek pk = { .flags = admit ? XKV_PEEK_ADMIT : 0 };

	return xkv_store_peek(st, key, (u32)strlen(key), &pk, out, cap);
}

static int peek(struct xkv_store *st, const char *key, u8 *out, u32 cap)
{
	return peek_a(st, key, true, out, cap);
}

static int peeks(struct xkv_store *st, const char *key, int n)
{
	u8 out[XKV_HOT_SLOT_SIZE];
	int got = 0;

	while (n-- > 0)
		got += peek(st, key, out, sizeof(out)) > 0;
	return got;
}

/*
 * Reads through the XDP store path count toward admission as backend
 * reads do, without ever waiting for the slot, and what they install is
 * kept coherent by the writers as any entry is.
 */
static void test_peek_admission(struct xkv_store *st)
{
	static char v300[301];
	char inc[5][32], other[32];
	struct xkv_slot *sl;
	struct xkv_hot_ent *e;
	u8 out[XKV_HOT_SLOT_SIZE];
	u32 seq = 0;
	u64 ins0, ins, rej0, rej, t0, took;
	int n, i;
	bool all = true;

	xkv_flush_all(st, 0);
	uu_set(st, "pk", "peeked value");
	tap_ok(slot_empty_for("pk"), "peek: a set alone installs nothing");
	tap_ok(peek_a(st, "pk", false, out, sizeof(out)) > 0 &&
		       slot_empty_for("pk"),
	       "peek: without @admit a hit installs nothing");
	xkv_store_hot_stats(st, &ins0, &rej0);
	n = peek(st, "pk", out, sizeof(out));
	xkv_store_hot_stats(st, &ins, &rej);
	e = ent_for("pk");
	tap_ok(n > 0 && slot_is("pk", "peeked value") && ins == ins0 + 1,
	       "peek: a store-path read of a key with room in its slot "
	       "installs it");
	tap_ok(e && n > 0 && e->body_len == (u32)n &&
		       !memcmp(e->body, out, (size_t)n),
	       "peek: the entry's block is the bytes the store path sent");

	/* coherence: writes rewrite or clear what a peek installed */
	uu_set(st, "pk", "rewritten");
	tap_ok(slot_is("pk", "rewritten"),
	       "peek: a set rewrites the entry before it returns");
	tap_is_u64(xkv_item_delete(st, "pk", 2), XKV_DELETED,
		   "peek: delete pk");
	tap_ok(slot_empty_for("pk"), "peek: a delete clears it");
	tap_ok(peek(st, "pk", out, sizeof(out)) == -ENOENT &&
		       slot_empty_for("pk"),
	       "peek: a miss installs nothing");

	/* a slot held by someone else: no wait, no take-over, no install */
	uu_set(st, "pk", "busy");
	sl = slot_for("pk");
	tap_ok(xkv_slot_trylock(sl, &seq), "peek: an emptier holds pk's slot");
	t0 = uu_now_ns();
	n = peeks(st, "pk", 100);
	took = uu_now_ns() - t0;
	tap_ok(n == 100 && (sl->seq & 1) && sl->seq == seq + 1,
	       "peek: 100 reads while the slot is held are answered and leave "
	       "it held (%llu us)", (unsigned long long)(took / 1000));
	xkv_slot_empty(sl);
	tap_ok(xkv_slot_unlock(sl, seq) && slot_empty_for("pk"),
	       "peek: ... the emptier's unlock succeeds, nothing installed");
	tap_ok(peeks(st, "pk", 1) == 1 && slot_is("pk", "busy"),
	       "peek: the next read installs it");

	/* the same rule as backend reads against a full slot */
	xkv_flush_all(st, 0);
	memset(v300, 'P', 300);
	for (i = 0; i < 5; i++) {
		same_slot_key("padm", (u32)i + 1, inc[i], sizeof(inc[i]));
		uu_set(st, inc[i], v300);
		reads(st, inc[i], 20);
		all &= slot_is(inc[i], v300);
	}
	same_slot_key("padm", 0, other, sizeof(other));
	uu_set(st, other, v300);
	xkv_store_hot_stats(st, &ins0, &rej0);
	peeks(st, other, 1);
	xkv_store_hot_stats(st, &ins, &rej);
	tap_ok(all && !ent_for(other) && rej == rej0 + 1,
	       "peek: a key peeked once does not displace 5 read keys");
	peeks(st, other, 60);
	n = 0;
	for (i = 0; i < 5; i++)
		n += ent_for(inc[i]) != NULL;
	tap_ok(slot_is(other, v300) && n == 4,
	       "peek: peeked more often, it goes in and evicts one (%d of 5 "
	       "kept)", n);
	xkv_flush_all(st, 0);
}

/* a slot someone wrote garbage into, through the map */
static void test_bad_slots(struct xkv_store *st)
{
	struct xkv_slot *last = &slots[NSLOTS - 1];
	char key[32];
	u32 i;

	/* a key of the last slot, so that a read past the slot leaves the
	 * array (ASan reports it) */
	for (i = 0;; i++) {
		snprintf(key, sizeof(key), "last%u", i);
		if (idx_of(key) == NSLOTS - 1)
			break;
	}
	memset(last->data, 0xff, sizeof(last->data));
	last->used = 0xffff;
	uu_set(st, key, "L");
	reads(st, key, 10);
	tap_ok(slot_is(key, "L"),
	       "a slot of 0xff bytes: admission reads nothing past it, cuts "
	       "the garbage, installs");
	last->used = 0x7ff;
	xkv_flush_all(st, 0);
	tap_ok(last->used == 0 && !(last->seq & 1),
	       "flush_all empties a slot with a bad @used");
}

/* a slot left odd through the map: writers go on, nothing stale */
static void test_stuck(struct xkv_store *st)
{
	struct xkv_slot *sl = slot_for("stuck");
	u32 seq = 0;
	u64 t0, took;

	uu_set(st, "stuck", "old");
	uu_has(st, "stuck");
	tap_ok(slot_is("stuck", "old"), "installed before it sticks");
	sl->seq |= 1;
	t0 = uu_now_ns();
	uu_set(st, "stuck", "new");
	took = uu_now_ns() - t0;
	tap_ok(took < 1000000000ULL,
	       "a set of a key whose slot stays odd returns (%llu us)",
	       (unsigned long long)(took / 1000));
	tap_ok(!(sl->seq & 1) && (slot_is("stuck", "new") ||
				  slot_empty_for("stuck")),
	       "the store took the slot over: new value or none, never the old");
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
	struct xkv_hot_ent *e;
	u64 now, exp;

	uu_wall_settle();
	now = xkv_store_now(st);
	uu_store_op(st, XKV_OP_SET, "clk", "c", 1, 0, 100, 0);
	uu_has(st, "clk");
	e = ent_for("clk");
	tap_ok(e && e->expire_ns, "installed with an expiry");
	if (!e)
		return;
	exp = e->expire_ns;
	xkv_os_wall_step_ns = (s64)(2 * hour);
	tap_ok(xkv_store_now(st) - now <= 1,
	       "the wall clock steps 2 h forward: the store's clock does not");
	tap_ok(uu_has(st, "clk") && ent_for("clk") &&
		       ent_for("clk")->expire_ns == exp && slot_is("clk", "c"),
	       "... the item lives on in the store and in its slot alike");
	xkv_os_wall_step_ns = -(s64)(2 * hour);
	tap_ok(xkv_store_now(st) - now <= 1 && uu_has(st, "clk") &&
		       ent_for("clk") && ent_for("clk")->expire_ns == exp,
	       "a step 2 h back: the same");
	xkv_os_wall_step_ns = 0;

	/* time passes: the store and XDP (expire_ns) switch together */
	tap_ok(uu_peek(st, "clk", &hdr), "the item's header");
	xkv_os_mono_step_ns = (s64)(exp - uu_now_ns()) - 1000000;
	tap_ok(xkv_store_now(st) < hdr.exptime &&
		       uu_now_ns() + (u64)xkv_os_mono_step_ns < exp,
	       "1 ms before the entry's expiry the store holds it alive");
	xkv_os_mono_step_ns = (s64)(exp - uu_now_ns());
	tap_ok(xkv_store_now(st) >= hdr.exptime,
	       "at the entry's expiry the store has expired it too");
	tap_ok(!uu_has(st, "clk") && slot_empty_for("clk"),
	       "a read then misses and removes the entry");
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
			bad += slots[i].used != 0;
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

/*
 * Writers of keys sharing one slot against a reader that checks every
 * entry it finds in a stable slot: each must be a whole, current value
 * (the value names its key), never a torn one.
 */
#define MATE_KEYS 8

struct mates {
	struct xkv_store *st;
	char key[MATE_KEYS][32];
	int stop;
	u64 torn;
	u64 seen;
	u64 stale[2];
	u64 writes[2];
	int next;
};

/* a stable copy of @sl, as XDP would read it */
static void snap(const struct xkv_slot *sl, struct xkv_slot *copy)
{
	u32 s;

	for (;;) {
		s = __atomic_load_n(&sl->seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		memcpy(copy, sl, sizeof(*copy));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&sl->seq, __ATOMIC_RELAXED) == s)
			return;
	}
}

/*
 * Writer @w owns keys w * 4 .. w * 4 + 3: after each of its writes
 * returns, a stable read of the slot finds the new value or no entry.
 */
static void *mate_writer(void *arg)
{
	struct mates *m = arg;
	int w = __atomic_fetch_add(&m->next, 1, __ATOMIC_ACQ_REL);
	u64 seed = 99 + (u64)w;
	static struct xkv_slot copies[2];
	struct xkv_slot *copy = &copies[w];
	char val[80];
	bool del;
	u32 k;
	int n, off;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		k = (u32)w * 4 + (u32)(uu_rand(&seed) % 4);
		n = snprintf(val, sizeof(val), "%s=%0*u", m->key[k],
			     (int)(uu_rand(&seed) % 40), k);
		del = uu_rand(&seed) % 5 == 0;
		if (del)
			xkv_item_delete(m->st, m->key[k], strlen(m->key[k]));
		else
			uu_store_op(m->st, XKV_OP_SET, m->key[k], val,
				    (size_t)n, 0, 0, 0);
		snap(slot_for(m->key[k]), copy);
		off = find(copy, m->key[k]);
		if (off >= 0 && (del || !ent_is(copy, off, m->key[k],
						 (u32)strlen(m->key[k]), val,
						 (u32)n, 0)))
			m->stale[w]++;
		m->writes[w]++;
		uu_has(m->st, m->key[k]);
	}
	return NULL;
}

static void test_slot_mates(struct xkv_store *st)
{
	static struct mates m;
	struct xkv_slot *sl, copy;
	pthread_t th[2];
	u64 t0 = uu_now_ns();
	u32 i, s, used, off, e, sz;

	m.st = st;
	for (i = 0; i < MATE_KEYS; i++)
		same_slot_key("mates", i, m.key[i], sizeof(m.key[i]));
	sl = slot_for(m.key[0]);
	for (i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, mate_writer, &m))
			tap_bail("pthread_create");
	while (uu_now_ns() - t0 < 1000000000ULL) {
		/* an XDP-like read: copy, check the count, then look */
		s = __atomic_load_n(&sl->seq, __ATOMIC_ACQUIRE);
		if (s & 1)
			continue;
		memcpy(&copy, sl, sizeof(copy));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&sl->seq, __ATOMIC_RELAXED) != s)
			continue;
		used = xkv_slot_used(&copy);
		for (off = 0, e = 0; e < XKV_HOT_ENTS_MAX; e++, off += sz) {
			const struct xkv_hot_ent *en;
			char want[64];
			u32 k;
			int n;

			sz = xkv_slot_ent_size(&copy, off, used);
			if (!sz)
				break;
			en = xkv_slot_ent(&copy, off);
			m.seen++;
			for (k = 0; k < MATE_KEYS; k++)
				if (en->key_len == strlen(m.key[k]) &&
				    !memcmp(en->body + 6, m.key[k],
					    en->key_len))
					break;
			n = snprintf(want, sizeof(want), "VALUE %s 0 ",
				     k < MATE_KEYS ? m.key[k] : "?");
			if (k == MATE_KEYS ||
			    memcmp(en->body, want, (size_t)n) ||
			    memcmp(en->body + en->line_len + 2, m.key[k],
				   strlen(m.key[k])) ||
			    en->sum_body != ref_csum(en->body, en->body_len))
				m.torn++;
		}
		if (used != off)
			m.torn++;
	}
	__atomic_store_n(&m.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	tap_diag("%llu entries checked", (unsigned long long)m.seen);
	tap_ok(m.seen > 0 && m.torn == 0,
	       "keys of one slot written concurrently: every entry a stable "
	       "read finds is whole (%llu torn)",
	       (unsigned long long)m.torn);
	tap_ok(m.writes[0] && m.writes[1] && !m.stale[0] && !m.stale[1],
	       "after each of %llu writes returned, its key's entry was the "
	       "new value or none (%llu stale)",
	       (unsigned long long)(m.writes[0] + m.writes[1]),
	       (unsigned long long)(m.stale[0] + m.stale[1]));
	xkv_flush_all(st, 0);
}

static bool all_empty(void)
{
	u32 i;

	for (i = 0; i < NSLOTS; i++)
		if (slots[i].used || (slots[i].seq & 1))
			return false;
	return true;
}

int main(void)
{
	struct xkv_store *st = uu_store_new(16 << 20, 12);

	test_hash_forms();
	test_ent_bounds();
	test_ent_fill_remove();
	test_ent_sums();
	test_ent_garbage();
	slots = calloc(NSLOTS, sizeof(*slots));
	if (!slots)
		tap_bail("out of memory");
	test_attach(st);
	test_writes(st);
	test_meta_writes(st);
	test_bin_writes(st);
	test_meta_won(st);
	test_neighbours(st);
	test_expiry_and_size(st);
	test_flush(st);
	test_admission(st);
	test_peek_admission(st);
	test_bad_slots(st);
	test_stuck(st);
	test_clock(st);
	test_flush_race(st);
	test_slot_mates(st);
	xkv_store_destroy(st);
	tap_ok(all_empty(), "destroy leaves every slot empty and even");
	free(slots);
	return tap_done();
}
