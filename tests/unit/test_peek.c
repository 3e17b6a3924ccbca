// SPDX-License-Identifier: GPL-2.0
/*
 * test_peek.c - xkv_store_peek(), the store's read side for XDP: the
 * reply block against the text get's, byte for byte; misses, expiry and
 * flush_all without unlinking; a value of 0 bytes; a buffer too small; a
 * stripe held by someone else; its counters in "stats"; and writers
 * (set, append, delete) racing peekers that must never see a torn value
 * or one older than a write already acknowledged.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "assoc.h"
#include "stats.h"
#include "tap.h"
#include "unit_util.h"
#include "util.h"

#define MB (1024ULL * 1024)

/* what the text protocol sends for one key of a get (or gets) */
static int text_get(struct xkv_store *st, const char *key, bool with_cas,
		    struct xkv_buf *b)
{
	struct xkv_get_req req = { .with_cas = with_cas };

	xkv_buf_reset(b);
	return xkv_item_get(st, key, strlen(key), &req, b);
}

static int peek(struct xkv_store *st, const char *key, bool with_cas,
		u8 *out, u32 cap)
{
	struct xkv_peek pk = {
		.flags = XKV_PEEK_ADMIT | (with_cas ? XKV_PEEK_CAS : 0),
	};

	return xkv_store_peek(st, key, (u32)strlen(key), &pk, out, cap);
}

static struct xkv_stripe *stripe_of_key(struct xkv_store *st,
					const char *key)
{
	return xkv_stripe_of(st, xkv_hash(key, strlen(key)));
}

static void test_hit(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_buf b = { 0 };
	u8 out[4096];
	char big[3000];
	int n, i;

	tap_is_u64(uu_store_op(st, XKV_OP_SET, "k1", "hello", 5, 42, 0, 0),
		   XKV_STORED, "set k1");
	n = peek(st, "k1", false, out, sizeof(out));
	tap_is_mem(out, n > 0 ? (size_t)n : 0, "VALUE k1 42 5\r\nhello\r\n",
		   22, "get block of k1");
	tap_is_i64(text_get(st, "k1", false, &b), 1, "text get hits");
	tap_is_mem(out, n > 0 ? (size_t)n : 0, b.data, b.len,
		   "peek is byte-identical to the text get");

	/* gets: the CAS the text gets sends */
	n = peek(st, "k1", true, out, sizeof(out));
	text_get(st, "k1", true, &b);
	tap_is_mem(out, n > 0 ? (size_t)n : 0, b.data, b.len,
		   "gets block is byte-identical, CAS included");
	{
		struct uu_val v;
		char want[64];
		int w;

		uu_get(st, "k1", &v);
		w = snprintf(want, sizeof(want),
			     "VALUE k1 42 5 %llu\r\nhello\r\n",
			     (unsigned long long)v.cas);
		tap_is_mem(out, n > 0 ? (size_t)n : 0, want, (size_t)w,
			   "gets carries the item's CAS");
		uu_val_free(&v);
	}

	/* a value of 0 bytes, the largest flags, a key with control bytes */
	uu_store_op(st, XKV_OP_SET, "empty", "", 0, 4294967295u, 0, 0);
	n = peek(st, "empty", false, out, sizeof(out));
	tap_is_mem(out, n > 0 ? (size_t)n : 0,
		   "VALUE empty 4294967295 0\r\n\r\n", 28,
		   "value of 0 bytes");
	uu_store_op(st, XKV_OP_SET, "c\001t\r", "x", 1, 0, 0, 0);
	n = peek(st, "c\001t\r", true, out, sizeof(out));
	text_get(st, "c\001t\r", true, &b);
	tap_is_mem(out, n > 0 ? (size_t)n : 0, b.data, b.len,
		   "key with control bytes");

	/* a longer value, and the exact room it needs */
	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	uu_store_op(st, XKV_OP_SET, "big", big, sizeof(big), 7, 0, 0);
	text_get(st, "big", true, &b);
	n = peek(st, "big", true, out, (u32)b.len);
	tap_is_i64(n, (s64)b.len, "a block fits a buffer of its length");
	tap_is_mem(out, n > 0 ? (size_t)n : 0, b.data, b.len,
		   "3000-byte value is byte-identical");
	memset(out, 0x5a, sizeof(out));
	n = peek(st, "big", true, out, (u32)b.len - 1);
	tap_is_i64(n, -ENOSPC, "one byte short: -ENOSPC");
	tap_ok(out[0] == 0x5a && out[b.len - 2] == 0x5a,
	       "-ENOSPC writes nothing");
	tap_is_i64(peek(st, "k1", false, out, 0), -ENOSPC, "cap 0: -ENOSPC");

	/* keys the store can never hold */
	tap_is_i64(peek(st, "", false, out, sizeof(out)), -EINVAL,
		   "empty key: -EINVAL");
	memset(big, 'k', 251);
	big[251] = 0;
	tap_is_i64(peek(st, big, false, out, sizeof(out)), -EINVAL,
		   "251-byte key: -EINVAL");

	xkv_buf_release(&b);
	xkv_store_destroy(st);
}

static void test_miss_expiry_flush(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_item hdr;
	u8 out[256];

	tap_is_i64(peek(st, "nope", false, out, sizeof(out)), -ENOENT,
		   "missing key: -ENOENT");

	/* expired: a miss, left linked (nothing that sleeps unlinks it) */
	uu_store_op(st, XKV_OP_SET, "e", "v", 1, 0, 10, 0);
	tap_ok(peek(st, "e", false, out, sizeof(out)) > 0,
	       "alive before its time");
	xkv_store_advance_clock(st, 11);
	tap_is_i64(peek(st, "e", false, out, sizeof(out)), -ENOENT,
		   "expired item: -ENOENT");
	tap_ok(uu_peek(st, "e", &hdr), "expired item is still linked");
	tap_is_u64(uu_stat(st, "get_expired"), 1, "get_expired counts it");
	tap_ok(!uu_has(st, "e"), "the text get misses it too");
	tap_ok(!uu_peek(st, "e", &hdr), "... and unlinks it");

	uu_store_op(st, XKV_OP_SET, "neg", "v", 1, 0, -1, 0);
	tap_is_i64(peek(st, "neg", false, out, sizeof(out)), -ENOENT,
		   "negative exptime: -ENOENT");

	/* flush_all now, then a delayed one that has come due */
	uu_store_op(st, XKV_OP_SET, "f", "v", 1, 0, 0, 0);
	xkv_flush_all(st, 0);
	tap_is_i64(peek(st, "f", false, out, sizeof(out)), -ENOENT,
		   "flushed item: -ENOENT");
	uu_store_op(st, XKV_OP_SET, "d", "v", 1, 0, 0, 0);
	xkv_flush_all(st, 100);
	tap_ok(peek(st, "d", false, out, sizeof(out)) > 0,
	       "alive before a delayed flush_all");
	xkv_store_advance_clock(st, 101);
	tap_is_i64(peek(st, "d", false, out, sizeof(out)), -ENOENT,
		   "a delayed flush_all that came due: -ENOENT");
	tap_ok(uu_peek(st, "d", &hdr),
	       "... without applying it (the flush lock may sleep)");
	tap_is_u64(uu_stat(st, "get_flushed"), 2, "get_flushed counts both");
	tap_ok(!uu_has(st, "d"), "the text get agrees");
	xkv_store_destroy(st);
}

static void test_busy_and_stats(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_stripe *sp;
	u8 out[256];
	int n;

	uu_store_op(st, XKV_OP_SET, "b", "12345", 5, 0, 0, 0);
	sp = stripe_of_key(st, "b");
	os_spin_lock(&sp->lock);
	tap_is_i64(peek(st, "b", false, out, sizeof(out)), -EBUSY,
		   "stripe held elsewhere: -EBUSY");
	tap_is_i64(peek(st, "b", true, out, sizeof(out)), -EBUSY,
		   "... for gets too");
	os_spin_unlock(&sp->lock);
	tap_is_u64(uu_stat(st, "cmd_get"), 0, "-EBUSY counts nothing");

	n = peek(st, "b", false, out, sizeof(out));
	tap_ok(n > 0, "free again: a hit");
	peek(st, "zz", false, out, sizeof(out));
	peek(st, "b", false, out, 3);
	tap_is_u64(uu_stat(st, "cmd_get"), 2, "cmd_get: hit and miss");
	tap_is_u64(uu_stat(st, "get_hits"), 1, "get_hits");
	tap_is_u64(uu_stat(st, "get_misses"), 1, "get_misses");
	tap_is_u64(uu_stat(st, "bytes_written"), (u64)n,
		   "bytes_written: the block");
	{
		struct xkv_item hdr;

		tap_ok(uu_peek(st, "b", &hdr) && hdr.ref &&
			       (hdr.iflags & XKV_IT_FETCHED),
		       "a hit sets the clock's reference bit and fetched");
	}
	xkv_stats_reset(st);
	tap_is_u64(uu_stat(st, "cmd_get"), 0, "stats reset zeroes them");
	xkv_store_destroy(st);
}

/* ---- writers against peekers ---- */

#define RACE_KEYS 8
#define RACE_WRITERS 2
#define RACE_PEEKERS 2
#define RACE_MS 1500

/*
 * Each key has one writer. Its value is a list of segments, each
 * "S<ver>:" (set) or "A<ver>:" (append) then <ver> % 97 bytes of
 * 'a' + <ver> % 26, versions rising: the value's version is its last
 * segment's. ack[k] is the last acknowledged version, with RACE_DEL set
 * when that write was a delete; started[k] the newest version begun.
 */
#define RACE_DEL (1ULL << 63)

static _Atomic u64 race_ack[RACE_KEYS];
static _Atomic u64 race_started[RACE_KEYS];
static _Atomic u64 race_del_started[RACE_KEYS];
static _Atomic bool race_stop;

struct race_arg {
	struct xkv_store *st;
	u32 id;
	u64 seed;
	u64 ops;
	u64 hits;
	u64 misses;
	u64 busy;
	u64 bad;
};

static void race_key(char *key, u32 k)
{
	snprintf(key, 16, "race:%u", k);
}

static size_t race_seg(char *p, char kind, u64 ver)
{
	size_t n = (size_t)sprintf(p, "%c%llu:", kind,
				   (unsigned long long)ver);
	size_t fill = ver % 97;

	memset(p + n, 'a' + (int)(ver % 26), fill);
	return n + fill;
}

static void *race_writer(void *p)
{
	struct race_arg *a = p;
	char key[16], val[256];
	u32 appends[RACE_KEYS] = { 0 };
	u64 ver = 0;

	while (!atomic_load(&race_stop)) {
		u32 k = a->id + RACE_WRITERS *
				(u32)(uu_rand(&a->seed) %
				      (RACE_KEYS / RACE_WRITERS));
		u32 what = (u32)(uu_rand(&a->seed) % 8);
		enum xkv_res r;
		size_t n;

		race_key(key, k);
		ver = atomic_load(&race_started[k]) + 1;
		if (what == 0) {
			atomic_store(&race_del_started[k], ver);
			atomic_store(&race_started[k], ver);
			r = xkv_item_delete(a->st, key, strlen(key));
			if (r == XKV_DELETED)
				atomic_store(&race_ack[k], ver | RACE_DEL);
		} else if (what < 4 && appends[k] < 20) {
			n = race_seg(val, 'A', ver);
			atomic_store(&race_started[k], ver);
			r = uu_store_op(a->st, XKV_OP_APPEND, key, val, n, 0,
					0, 0);
			if (r == XKV_STORED) {
				appends[k]++;
				atomic_store(&race_ack[k], ver);
			}
		} else {
			n = race_seg(val, 'S', ver);
			atomic_store(&race_started[k], ver);
			r = uu_store_op(a->st, XKV_OP_SET, key, val, n,
					(u32)(ver & 0xffff), 0, 0);
			if (r == XKV_STORED) {
				appends[k] = 0;
				atomic_store(&race_ack[k], ver);
			}
		}
		a->ops++;
	}
	return NULL;
}

/*
 * Parse a block "VALUE <key> <flags> <bytes>\r\n<data>\r\n": every
 * segment well formed and rising. Returns the value's version, 0 when
 * anything is off.
 */
static u64 race_check(const u8 *out, int n, const char *key)
{
	const char *p = (const char *)out, *end = p + n, *d, *de;
	unsigned long long flags, bytes, first = 0, last = 0, v;
	char hk[32];
	int used = 0;

	if (n < 0 || sscanf(p, "VALUE %31s %llu %llu\r\n%n", hk, &flags,
			    &bytes, &used) != 3 || !used ||
	    strcmp(hk, key))
		return 0;
	d = p + used;
	de = d + bytes;
	if (de + 2 != end || de[0] != '\r' || de[1] != '\n')
		return 0;
	while (d < de) {
		char kind = *d++, *q;
		size_t fill, i;

		if ((kind != 'S' && kind != 'A') || (kind == 'S' && first))
			return 0;
		v = strtoull(d, &q, 10);
		if (q >= de || *q != ':' || v <= last)
			return 0;
		d = q + 1;
		fill = v % 97;
		if ((size_t)(de - d) < fill)
			return 0;
		for (i = 0; i < fill; i++)
			if (d[i] != 'a' + (int)(v % 26))
				return 0;
		d += fill;
		if (!first)
			first = v;
		last = v;
	}
	/* a set's flags are its version's low bits, kept by appends */
	if (!first || flags != (first & 0xffff))
		return 0;
	return last;
}

static void *race_peeker(void *p)
{
	struct race_arg *a = p;
	char key[16];
	u8 out[8192];

	while (!atomic_load(&race_stop)) {
		u32 k = (u32)(uu_rand(&a->seed) % RACE_KEYS);
		u64 ack, ackv, dels, started, got;
		int n;

		race_key(key, k);
		ack = atomic_load(&race_ack[k]);
		ackv = ack & ~RACE_DEL;
		n = peek(a->st, key, false, out, sizeof(out));
		started = atomic_load(&race_started[k]);
		dels = atomic_load(&race_del_started[k]);
		a->ops++;
		if (n == -EBUSY) {
			a->busy++;
			continue;
		}
		if (n == -ENOENT) {
			a->misses++;
			/* before any write, after a delete, or racing one */
			if (ack && !(ack & RACE_DEL) && dels <= ackv)
				a->bad++;
			continue;
		}
		a->hits++;
		got = race_check(out, n, key);
		if (!got || got < ackv || ((ack & RACE_DEL) && got == ackv) ||
		    got > started) {
			if (a->bad++ < 5)
				tap_diag("key %s: version %llu, acked %llu%s, "
					 "started %llu, %d bytes",
					 key, (unsigned long long)got,
					 (unsigned long long)ackv,
					 ack & RACE_DEL ? " (delete)" : "",
					 (unsigned long long)started, n);
		}
	}
	return NULL;
}

static void test_race(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 10);
	struct race_arg args[RACE_WRITERS + RACE_PEEKERS];
	pthread_t th[RACE_WRITERS + RACE_PEEKERS];
	u64 wops = 0, pops = 0, hits = 0, misses = 0, busy = 0, bad = 0;
	u32 i;

	for (i = 0; i < RACE_WRITERS + RACE_PEEKERS; i++) {
		args[i] = (struct race_arg){ .st = st, .id = i,
					     .seed = 77 + i };
		if (pthread_create(&th[i], NULL,
				   i < RACE_WRITERS ? race_writer :
						      race_peeker,
				   &args[i]))
			tap_bail("pthread_create");
	}
	usleep(RACE_MS * 1000);
	atomic_store(&race_stop, true);
	for (i = 0; i < RACE_WRITERS + RACE_PEEKERS; i++) {
		pthread_join(th[i], NULL);
		if (i < RACE_WRITERS) {
			wops += args[i].ops;
			continue;
		}
		pops += args[i].ops;
		hits += args[i].hits;
		misses += args[i].misses;
		busy += args[i].busy;
		bad += args[i].bad;
	}
	tap_diag("race: %llu writes, %llu peeks (%llu hits, %llu misses, "
		 "%llu busy)",
		 (unsigned long long)wops, (unsigned long long)pops,
		 (unsigned long long)hits, (unsigned long long)misses,
		 (unsigned long long)busy);
	tap_ok(wops > 100 && hits > 100,
	       "writers and peekers both made progress");
	tap_is_u64(bad, 0, "no torn, stale or future value was peeked");
	tap_is_u64(uu_stat(st, "get_hits"), hits,
		   "get_hits counts every peek hit");
	xkv_store_destroy(st);
}

/*
 * Appends and incrs that must allocate a new item do it without the
 * stripe lock and retry when the value moved meanwhile: two threads on
 * one key each, no update may be lost, with a peeker on both keys.
 */
#define SAME_OPS 3000

struct same_arg {
	struct xkv_store *st;
	bool peeker;
	u64 bad;
};

static void *same_worker(void *p)
{
	struct same_arg *a = p;
	char res[24];
	size_t nres;
	u8 out[16384];
	u32 i;

	if (a->peeker) {
		while (!atomic_load(&race_stop)) {
			int n = peek(a->st, "cat", false, out, sizeof(out));
			u32 k, len;

			if (n == -EBUSY)
				continue;
			if (n < 0 || sscanf((char *)out, "VALUE cat 0 %u", &len)
					     != 1) {
				a->bad++;
				continue;
			}
			/* "VALUE cat 0 <len>\r\n": all 'x' then "\r\n" */
			for (k = 0; k < len; k++)
				if (out[n - 2 - len + k] != 'x')
					a->bad++;
		}
		return NULL;
	}
	for (i = 0; i < SAME_OPS; i++) {
		if (uu_store_op(a->st, XKV_OP_APPEND, "cat", "x", 1, 0, 0,
				0) != XKV_STORED)
			a->bad++;
		if (xkv_item_arith(a->st, "num", 3, true, 1, res, &nres) !=
		    XKV_STORED)
			a->bad++;
	}
	return NULL;
}

static void test_same_key(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct same_arg args[3];
	pthread_t th[3];
	u64 bad = 0;
	char *v;
	u32 i;

	uu_store_op(st, XKV_OP_SET, "cat", "x", 1, 0, 0, 0);
	/* "9": the first incr already needs a longer item */
	uu_store_op(st, XKV_OP_SET, "num", "9", 1, 0, 0, 0);
	atomic_store(&race_stop, false);
	for (i = 0; i < 3; i++) {
		args[i] = (struct same_arg){ .st = st, .peeker = i == 2 };
		if (pthread_create(&th[i], NULL, same_worker, &args[i]))
			tap_bail("pthread_create");
	}
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	atomic_store(&race_stop, true);
	pthread_join(th[2], NULL);
	for (i = 0; i < 3; i++)
		bad += args[i].bad;
	tap_is_u64(bad, 0, "every append and incr stored, peeks well formed");
	v = uu_get_str(st, "cat");
	tap_is_u64(v ? strlen(v) : 0, 1 + 2 * SAME_OPS,
		   "two appenders: no append lost");
	free(v);
	v = uu_get_str(st, "num");
	tap_is_u64(v ? strtoull(v, NULL, 10) : 0, 9 + 2 * SAME_OPS,
		   "two incrementers: no incr lost");
	free(v);
	xkv_store_destroy(st);
}

/*
 * Stripes double their buckets (allocated outside the lock) while
 * peekers look up keys already stored: every one must be found, with its
 * value, whatever growth is under way.
 */
#define GROW_KEYS 40000

static _Atomic u32 grow_acked[2];

struct grow_arg {
	struct xkv_store *st;
	u32 id;
	u64 seed;
	u64 peeks;
	u64 bad;
};

static void grow_key(char *key, u32 w, u32 i)
{
	snprintf(key, 24, "g%u:%u", w, i);
}

static void *grow_worker(void *p)
{
	struct grow_arg *a = p;
	char key[24], want[64];
	u8 out[256];
	u32 i;

	if (a->id < 2) {
		for (i = 0; i < GROW_KEYS; i++) {
			grow_key(key, a->id, i);
			if (uu_set(a->st, key, key) != XKV_STORED)
				a->bad++;
			atomic_store(&grow_acked[a->id], i + 1);
		}
		return NULL;
	}
	while (atomic_load(&grow_acked[0]) < GROW_KEYS ||
	       atomic_load(&grow_acked[1]) < GROW_KEYS) {
		u32 w = (u32)(uu_rand(&a->seed) & 1);
		u32 n = atomic_load(&grow_acked[w]);
		int got, wl;

		if (!n)
			continue;
		grow_key(key, w, (u32)(uu_rand(&a->seed) % n));
		wl = snprintf(want, sizeof(want), "VALUE %s 0 %zu\r\n%s\r\n",
			      key, strlen(key), key);
		do {
			got = peek(a->st, key, false, out, sizeof(out));
		} while (got == -EBUSY);
		a->peeks++;
		if (got != wl || memcmp(out, want, (size_t)wl))
			a->bad++;
	}
	return NULL;
}

static void test_grow(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 0);
	struct grow_arg args[4];
	pthread_t th[4];
	u64 bad = 0, peeks = 0, items, bytes;
	u32 i;

	for (i = 0; i < 4; i++) {
		args[i] = (struct grow_arg){ .st = st, .id = i,
					     .seed = 991 + i };
		if (pthread_create(&th[i], NULL, grow_worker, &args[i]))
			tap_bail("pthread_create");
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += args[i].bad;
		peeks += args[i].peeks;
	}
	tap_diag("grow: %llu peeks while %u keys went in",
		 (unsigned long long)peeks, 2 * GROW_KEYS);
	tap_ok(xkv_assoc_buckets(st) >= 2 * GROW_KEYS / 2,
	       "the table grew (%llu buckets)",
	       (unsigned long long)xkv_assoc_buckets(st));
	tap_is_u64(bad, 0, "every stored key peeked, with its value");
	tap_is_u64(uu_check_table(st, &items, &bytes), 0,
		   "hash table consistent after growing");
	tap_is_u64(items, 2 * GROW_KEYS, "every key linked once");
	xkv_store_destroy(st);
}

/*
 * What a binary or mg reply built from the block needs besides it (the
 * XDP store path, bpf/xdp/store_bin.h): the line's length, the CAS, the
 * base64 key state; and an mg of an item in a meta state (stale, token
 * out) refused before anything is counted or changed.
 */
static void test_meta_state(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_sess *s = xkv_sess_new(st, xkv_store_stats_slot(st, 0),
					  false);
	struct xkv_peek pk = { .flags = XKV_PEEK_META };
	struct xkv_buf b = { 0 };
	char line[64];
	u64 gets;
	u8 out[256];
	int n;

	if (!s)
		tap_bail("xkv_sess_new");
	tap_ok(uu_reply_is(s, "ms m 3 F5\r\nabc\r\n", "HD\r\n"), "ms m");
	n = xkv_store_peek(st, "m", 1, &pk, out, sizeof(out));
	tap_is_mem(out, n > 0 ? (size_t)n : 0, "VALUE m 5 3\r\nabc\r\n", 18,
		   "mg of a plain item: its block");
	tap_is_u64(pk.line, 11, "the line's length, without its CRLF");
	tap_is_u64(pk.state & XKV_PEEK_KEY_B64, 0,
		   "not stored with a base64 key");
	text_get(st, "m", true, &b);
	snprintf(line, sizeof(line), "VALUE m 5 3 %llu\r\n",
		 (unsigned long long)pk.cas);
	tap_ok(pk.cas && b.len > strlen(line) &&
		       !memcmp(b.data, line, strlen(line)),
	       "the CAS is the text gets' (%llu)", (unsigned long long)pk.cas);
	pk.flags = XKV_PEEK_CAS;
	n = xkv_store_peek(st, "m", 1, &pk, out, sizeof(out));
	tap_ok(n > 0 && pk.line == strlen(line) - 2 &&
		       !memcmp(out, line, strlen(line)),
	       "with XKV_PEEK_CAS the line carries it, and its length");

	tap_ok(uu_reply_is(s, "ms eA== 1 b\r\nx\r\n", "HD\r\n"),
	       "ms with a base64 key");
	pk.flags = XKV_PEEK_META;
	tap_is_i64(xkv_store_peek(st, "x", 1, &pk, out, sizeof(out)), 16,
		   "its block");
	tap_is_u64(pk.state & XKV_PEEK_KEY_B64, XKV_PEEK_KEY_B64,
		   "... and its key state");

	/* stale: meta.c answers X W, and hands the token out */
	tap_ok(uu_reply_is(s, "md m I\r\n", "HD\r\n"), "md m I: stale");
	gets = uu_stat(st, "cmd_get");
	tap_is_i64(xkv_store_peek(st, "m", 1, &pk, out, sizeof(out)),
		   -EAGAIN, "mg of a stale item: -EAGAIN");
	tap_is_u64(uu_stat(st, "cmd_get"), gets, "... counted nothing");
	tap_ok(uu_reply_is(s, "mg m v\r\n", "VA 3 X W\r\nabc\r\n"),
	       "... and meta.c still hands out the token");
	pk.flags = 0;
	tap_ok(xkv_store_peek(st, "m", 1, &pk, out, sizeof(out)) > 0,
	       "a get of it (not mg) is answered");

	/* a recache token out: Z */
	tap_ok(uu_reply_is(s, "ms r 1 T100\r\nr\r\n", "HD\r\n") &&
		       uu_reply_is(s, "mg r v R200\r\n", "VA 1 W\r\nr\r\n"),
	       "mg R hands out a recache token");
	pk.flags = XKV_PEEK_META;
	tap_is_i64(xkv_store_peek(st, "r", 1, &pk, out, sizeof(out)),
		   -EAGAIN, "mg of an item whose token went out: -EAGAIN");
	tap_ok(uu_reply_is(s, "mg r v\r\n", "VA 1 Z\r\nr\r\n"),
	       "... meta.c says Z");
	xkv_buf_release(&b);
	xkv_sess_free(s);
	xkv_store_destroy(st);
}

/*
 * mg "t" from the store (the XDP store path): the seconds an item has
 * left and "never", as meta.c prints them for the same item at the same
 * second of the store's clock.
 */
static void test_ttl(void)
{
	struct xkv_store *st = uu_store_new(64 * MB, 16);
	struct xkv_sess *s = xkv_sess_new(st, xkv_store_stats_slot(st, 0),
					  false);
	struct xkv_peek pk = { .flags = XKV_PEEK_META };
	bool ok = false, same = false;
	struct uu_run r;
	char want[64];
	u32 ttl = 0;
	u8 out[256];
	int i;

	if (!s)
		tap_bail("xkv_sess_new");
	tap_ok(uu_reply_is(s, "ms t1 1 T100\r\nx\r\n", "HD\r\n") &&
		       uu_reply_is(s, "ms t2 1\r\ny\r\n", "HD\r\n"),
	       "ms t1 T100, ms t2 (no expiry)");
	/* the clock may tick between peek and mg: again, then */
	for (i = 0; i < 3; i++) {
		ok = xkv_store_peek(st, "t1", 2, &pk, out, sizeof(out)) > 0 &&
		     !(pk.state & XKV_PEEK_TTL_NONE);
		ttl = pk.ttl;
		uu_drive(s, "mg t1 t\r\n", 9, UU_WHOLE, 0, &r);
		ok = ok && xkv_store_peek(st, "t1", 2, &pk, out,
					  sizeof(out)) > 0;
		snprintf(want, sizeof(want), "HD t%u\r\n", ttl);
		same = !strcmp(r.out, want);
		free(r.out);
		if (!ok || pk.ttl == ttl)
			break;
	}
	tap_ok(ok && ttl >= 98 && ttl <= 100, "t1: a hit with a TTL (%u)",
	       ttl);
	tap_ok(same, "... what meta.c's mg t1 t says");
	tap_ok(xkv_store_peek(st, "t2", 2, &pk, out, sizeof(out)) > 0 &&
		       (pk.state & XKV_PEEK_TTL_NONE),
	       "t2: a hit that never expires");
	tap_ok(uu_reply_is(s, "mg t2 t\r\n", "HD t-1\r\n"),
	       "... meta.c's t-1");
	xkv_sess_free(s);
	xkv_store_destroy(st);
}

int main(void)
{
	test_hit();
	test_miss_expiry_flush();
	test_busy_and_stats();
	test_race();
	test_same_key();
	test_grow();
	test_meta_state();
	test_ttl();
	return tap_done();
}
