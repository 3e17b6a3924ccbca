// SPDX-License-Identifier: GPL-2.0
/*
 * test_admin.c - admin.c: the "stats sizes" histogram (exact counts, and
 * link/unlink agreeing while it is switched on and off under writers),
 * the metadump cursor (a paused dump resumes with every item once, one
 * dump per store, refusals), metadump's la= (moved by reads only), slabs
 * reassign moving a free page, cache_memlimit below what is in use, and
 * "stats settings" following the settings and flush_all.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "slab.h"
#include "stats.h"
#include "tap.h"
#include "unit_util.h"

/* ---- stats sizes ---- */

static u64 bucket_of(u32 nkey, u32 nbytes)
{
	u64 t = xkv_item_total(nkey, nbytes);

	return (t + XKV_SIZES_BUCKET - 1) / XKV_SIZES_BUCKET;
}

static s64 sizes_at(struct xkv_store *st, u64 b)
{
	return os_atomic64_read(&st->adm.sizes[b]);
}

/* what the histogram must hold: linked items with CAS >= the bound */
static u64 sizes_mismatch(struct xkv_store *st, s64 *neg)
{
	u64 bound = (u64)os_atomic64_read(&st->adm.sizes_cas_min), bad = 0;
	s64 *want = calloc(st->adm.nsizes, sizeof(*want));
	u32 i, b;
	u64 k;

	if (!want)
		tap_bail("out of memory");
	for (i = 0; i < st->nclasses; i++) {
		struct xkv_class *c = &st->cls[i];

		os_mutex_lock(&c->lock);
		for (k = 0; k < do_slab_chunks(c); k++) {
			struct xkv_item *it = do_slab_chunk_at(c, k);

			if ((it->iflags & XKV_IT_LINKED) && it->cas >= bound)
				want[bucket_of(it->nkey, it->nbytes)]++;
		}
		os_mutex_unlock(&c->lock);
	}
	*neg = 0;
	for (b = 0; b < st->adm.nsizes; b++) {
		s64 got = sizes_at(st, b);

		if (got < 0)
			(*neg)++;
		if (got != want[b])
			bad++;
	}
	free(want);
	return bad;
}

static void test_sizes_exact(void)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, 16);
	u64 b1 = bucket_of(2, 10), b2 = bucket_of(2, 300);
	static char big[300];
	s64 neg;

	memset(big, 'b', sizeof(big));
	uu_set(st, "k0", "before....");
	tap_is_u64(xkv_sizes_set(st, true), 0, "sizes_enable");
	tap_ok(st->adm.sizes && st->adm.nsizes ==
	       st->set.item_size_max / 32 + 1,
	       "one bucket per 32 bytes up to item_size_max (%u, %zu bytes)",
	       st->adm.nsizes, st->adm.nsizes * sizeof(os_atomic64_t));
	uu_set(st, "k1", "0123456789");
	uu_set(st, "k2", "0123456789");
	tap_is_i64(sizes_at(st, b1), 2, "two items of one size counted");
	/* k0 predates enabling: its unlink must not be counted */
	uu_store_op(st, XKV_OP_SET, "k0", big, 300, 0, 0, 0);
	tap_is_i64(sizes_at(st, b1), 2, "replacing an older item: not taken");
	tap_is_i64(sizes_at(st, b2), 1, "its new item counted");
	xkv_item_delete(st, "k1", 2);
	tap_is_i64(sizes_at(st, b1), 1, "delete: one less");
	tap_is_u64(sizes_mismatch(st, &neg), 0, "histogram matches the store");
	/* enabling again keeps the counts (memcached) */
	xkv_sizes_set(st, true);
	tap_is_i64(sizes_at(st, b2), 1, "enable again: counts kept");
	xkv_sizes_set(st, false);
	uu_set(st, "k3", "0123456789");
	tap_is_i64(sizes_at(st, b1), 1, "off: nothing counted");
	xkv_sizes_set(st, true);
	tap_is_i64(sizes_at(st, b1), 0, "on again: counting from zero");
	xkv_item_delete(st, "k2", 2);
	xkv_item_delete(st, "k3", 2);
	tap_is_i64(sizes_at(st, b1), 0, "older items' deletes not taken");
	tap_is_u64(sizes_mismatch(st, &neg), 0, "histogram matches the store");
	xkv_store_destroy(st);
}

struct churn {
	struct xkv_store *st;
	volatile bool stop;
	u64 seed;
};

static void *churn_main(void *arg)
{
	struct churn *ch = arg;
	u64 rng = ch->seed;
	char key[16], val[400];

	memset(val, 'v', sizeof(val));
	while (!ch->stop) {
		u64 r = uu_rand(&rng);

		snprintf(key, sizeof(key), "c%u", (unsigned int)(r % 512));
		if (r & 0x10000)
			xkv_item_delete(ch->st, key, strlen(key));
		else
			uu_store_op(ch->st, XKV_OP_SET, key, val,
				    (r >> 20) % sizeof(val), 0, 0, 0);
	}
	return NULL;
}

/* writers while the histogram is switched on and off: link and unlink
 * must always agree (no bucket below zero, exact counts at the end) */
static void test_sizes_race(void)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, 16);
	struct churn ch[2] = { { .st = st, .seed = 7 },
			       { .st = st, .seed = 11 } };
	pthread_t t[2];
	s64 neg = 0, negs = 0;
	int i, j;

	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, churn_main, &ch[i]))
			tap_bail("pthread_create");
	for (i = 0; i < 200; i++) {
		struct timespec ts = { 0, 300000 };

		xkv_sizes_set(st, i % 3 != 2);
		nanosleep(&ts, NULL);
		if (st->adm.sizes)
			for (j = 0; j < (int)st->adm.nsizes; j++)
				negs += sizes_at(st, j) < 0;
	}
	xkv_sizes_set(st, false);
	xkv_sizes_set(st, true);
	{
		struct timespec ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
	}
	for (i = 0; i < 2; i++)
		ch[i].stop = true;
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	tap_is_i64(negs, 0, "no bucket went below zero while toggling");
	tap_is_u64(sizes_mismatch(st, &neg), 0,
		   "after the churn the histogram matches the store");
	tap_is_i64(neg, 0, "no negative bucket");
	xkv_store_destroy(st);
}

/* ---- metadump ---- */

struct dump {
	char *out;
	size_t len, cap;
	u32 calls;
	size_t max_pending;
	bool done;
};

static void dump_take(struct xkv_sess *s, struct dump *d)
{
	struct xkv_buf *b = xkv_sess_out(s);
	size_t n = xkv_buf_pending(b);

	if (n > d->max_pending)
		d->max_pending = n;
	if (d->len + n + 1 > d->cap) {
		d->cap = (d->len + n + 1) * 2;
		d->out = realloc(d->out, d->cap);
		if (!d->out)
			tap_bail("out of memory");
	}
	memcpy(d->out + d->len, b->data + b->off, n);
	d->len += n;
	d->out[d->len] = '\0';
	xkv_buf_consume(b, n);
}

/* offer @line once; true when it was used up (the dump ended) */
static bool dump_step(struct xkv_sess *s, const char *line, struct dump *d)
{
	size_t n = strlen(line), used = xkv_sess_input(s, line, n);

	d->calls++;
	dump_take(s, d);
	d->done = used == n;
	return d->done;
}

static const char dump_all[] = "lru_crawler metadump all\r\n";

static u32 count_key(const char *out, const char *key)
{
	char pat[700];
	const char *p = out;
	u32 n = 0;

	snprintf(pat, sizeof(pat), "key=%s ", key);
	while ((p = strstr(p, pat))) {
		if (p == out || p[-1] == '\n')
			n++;
		p++;
	}
	return n;
}

static void test_metadump(void)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, 16);
	struct xkv_thread_stats *ts = xkv_store_stats_slot(st, 0);
	struct xkv_sess *s = xkv_sess_new(st, ts, false);
	struct xkv_sess *s2 = xkv_sess_new(st, ts, false);
	struct xkv_sess *u = xkv_sess_new(st, ts, true);
	struct dump d = { 0 }, d2 = { 0 };
	char key[256], *out;
	u32 i, once = 0, gone = 0, late = 0, total;
	size_t n;

	/* 3000 keys of 200 bytes, most "%2F": about 1.9 MB of lines */
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "k%05u", i);
		memset(key + 6, '/', 194);
		key[200] = '\0';
		uu_set(st, key, "v");
	}
	tap_ok(!dump_step(s, dump_all, &d), "a large dump pauses");
	tap_ok(d.max_pending < XKV_SESS_OUT_HIGH + 1024,
	       "paused with %zu bytes pending (bound %u + one line)",
	       d.max_pending, XKV_SESS_OUT_HIGH);
	/* the store's one dump is taken */
	dump_step(s2, dump_all, &d2);
	tap_is_str(d2.out, "BUSY currently processing crawler request\r\n",
		   "a second dump meanwhile: BUSY");
	/* a key deleted while the dump is paused */
	xkv_item_delete(st, "k00000", 6);
	for (i = 0; i < 1000 && !dump_step(s, dump_all, &d); i++)
		;
	tap_ok(d.done, "the dump ended after %u offers", d.calls);
	tap_ok(d.len > 5 && !strcmp(d.out + d.len - 5, "END\r\n"),
	       "it ends with END");
	for (i = 0; i < 3000; i++) {
		u32 c;

		char enc[6 + 194 * 3 + 1];

		snprintf(enc, sizeof(enc), "k%05u", i);
		for (n = 6; n < 6 + 194 * 3; n += 3)
			memcpy(enc + n, "%2F", 3);
		enc[n] = '\0';
		c = count_key(d.out, enc);
		once += c == 1;
		gone += c == 0;
		late += c > 1;
	}
	/* k00000 may have been listed before its delete */
	tap_ok(once >= 2999 && !late, "every key listed once (%u once, "
	       "%u missing, %u twice)", once, gone, late);
	for (total = 0, out = d.out; (out = strchr(out, '\n')); out++)
		total++;
	tap_ok(total >= 3000, "%u lines", total);
	/* the dump is over: another may start, and refusals */
	d2.len = 0;
	dump_step(s2, "lru_crawler metadump 1\r\n", &d2);
	tap_ok(d2.done && d2.len >= 5 &&
	       !strcmp(d2.out + d2.len - 5, "END\r\n"),
	       "after END another session may dump");
	xkv_sess_reset(u);
	n = xkv_sess_input(u, dump_all, strlen(dump_all));
	d2.len = 0;
	dump_take(u, &d2);
	tap_is_str(d2.out, "ERROR metadump not allowed over UDP\r\n",
		   "UDP: refused");
	/* a session freed in the middle of a dump lets the next one run */
	d.len = 0;
	tap_ok(!dump_step(s, dump_all, &d), "a dump paused again");
	xkv_sess_free(s);
	d2.len = 0;
	for (i = 0; i < 1000 && !dump_step(s2, dump_all, &d2); i++)
		;
	tap_ok(d2.done && strncmp(d2.out, "BUSY", 4),
	       "a freed session's dump is given up");
	/* dumps disabled (-X) */
	st->set.dump_disabled = true;
	d2.len = 0;
	dump_step(s2, dump_all, &d2);
	tap_is_str(d2.out, "ERROR metadump not allowed\r\n", "-X: refused");
	xkv_sess_free(s2);
	xkv_sess_free(u);
	free(d.out);
	free(d2.out);
	xkv_store_destroy(st);
}

/* la= of the one key in a dump of one item */
static long long dump_la(struct xkv_sess *s)
{
	struct dump d = { 0 };
	const char *p;
	long long la = -1;

	dump_step(s, dump_all, &d);
	p = d.out ? strstr(d.out, " la=") : NULL;
	if (p)
		la = strtoll(p + 4, NULL, 10);
	free(d.out);
	return la;
}

static void test_metadump_la(void)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, 16);
	struct xkv_thread_stats *ts = xkv_store_stats_slot(st, 0);
	struct xkv_sess *s = xkv_sess_new(st, ts, false);
	long long t0 = (long long)xkv_store_now(st), la;
	struct uu_val v;

	uu_set(st, "lakey", "v");
	la = dump_la(s);
	tap_ok(la >= t0 && la <= t0 + 1, "la= after a set is its time "
	       "(%lld, store time %lld)", la, t0);
	xkv_store_advance_clock(st, 100);
	tap_ok(dump_la(s) == la, "la= does not move without a read");
	tap_ok(uu_get(st, "lakey", &v) == 1, "a text get hits");
	uu_val_free(&v);
	tap_ok(dump_la(s) >= la + 100, "la= moves to the read's time");
	xkv_sess_free(s);
	xkv_store_destroy(st);
}

/* ---- slabs reassign ---- */

static char *run(struct xkv_sess *s, const char *cmd)
{
	struct dump d = { 0 };

	dump_step(s, cmd, &d);
	return d.out ? d.out : strdup("");
}

static void test_reassign(void)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, 16);
	struct xkv_sess *s = xkv_sess_new(st, xkv_store_stats_slot(st, 0),
					  false);
	struct xkv_class *c = &st->cls[0], *d = &st->cls[2];
	u64 malloced;
	char key[32], val[64], *r;
	u32 i, n;

	n = c->perpage + 10;
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "r%u", i);
		uu_set(st, key, "v");
	}
	tap_is_u64(c->npages, 2, "class 1 has two pages");
	r = run(s, "slabs reassign 1 3\r\n");
	tap_is_str(r, "NOSPARE source class has no spare pages\r\n",
		   "a page with items is not spare");
	free(r);
	/* free the items of the newest page: the last ones stored */
	for (i = c->perpage; i < n; i++) {
		snprintf(key, sizeof(key), "r%u", i);
		xkv_item_delete(st, key, strlen(key));
	}
	r = run(s, "slabs reassign 1 3\r\n");
	tap_is_str(r, "OK\r\n", "a free page moves");
	free(r);
	tap_ok(c->npages == 1 && d->npages == 1,
	       "class 1 has %u page, class 3 %u", c->npages, d->npages);
	/* everything left is still there, and class 3 uses its page */
	for (i = 0; i < c->perpage; i++) {
		snprintf(key, sizeof(key), "r%u", i);
		if (!uu_has(st, key))
			break;
	}
	tap_is_u64(i, c->perpage, "class 1's items all still readable");
	r = run(s, "slabs reassign 1 3\r\n");
	tap_is_str(r, "NOSPARE source class has no spare pages\r\n",
		   "a class keeps its last page");
	free(r);
	/* dst 0: the page goes back to the memory limit (class 2 here) */
	c = &st->cls[1];
	n = c->perpage + 5;
	/* 51 bytes: even "q0" .. "q9" land in class 2 (36-byte header) */
	memset(val, 'v', 51);
	val[51] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "q%u", i);
		uu_set(st, key, val);
	}
	tap_is_u64(c->npages, 2, "class 2 has two pages");
	for (i = c->perpage; i < n; i++) {
		snprintf(key, sizeof(key), "q%u", i);
		xkv_item_delete(st, key, strlen(key));
	}
	malloced = st->malloced;
	r = run(s, "slabs reassign -1 0\r\n");
	tap_is_str(r, "OK\r\n", "-1 0: some class gives a page back");
	free(r);
	tap_is_u64(st->malloced, malloced - st->page_size,
		   "the page left the limit");
	tap_is_u64(c->npages, 1, "class 2 gave it");
	xkv_sess_free(s);
	xkv_store_destroy(st);
}

/* lowering the limit below what is in use frees nothing, takes no page */
static void test_memlimit_lower(void)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, 16);
	struct xkv_sess *s = xkv_sess_new(st, xkv_store_stats_slot(st, 0),
					  false);
	char key[32], val[200], *r;
	u64 malloced, evicted, spare;
	struct xkv_class *c;
	u32 i;

	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	for (i = 0; i < 60000; i++) {
		snprintf(key, sizeof(key), "m%u", i);
		uu_set(st, key, val);
	}
	malloced = st->malloced;
	tap_ok(malloced > 8 << 20, "%llu bytes of pages in use",
	       (unsigned long long)malloced);
	r = run(s, "cache_memlimit 8\r\n");
	tap_is_str(r, "OK\r\n", "cache_memlimit 8 below what is in use");
	free(r);
	tap_is_u64(st->set.maxbytes, 8 << 20, "the limit is 8 MB");
	evicted = UU_CLASS_SUM(st, evicted);
	/* chunks still unused in the pages held need no eviction */
	c = &st->cls[xkv_slab_class_for(st, xkv_item_total(6, 199))];
	spare = c->nfree + (c->perpage - c->carved);
	for (i = 60000; i < 70000; i++) {
		snprintf(key, sizeof(key), "m%u", i);
		uu_set(st, key, val);
	}
	tap_is_u64(st->malloced, malloced, "no page taken, none freed");
	tap_is_u64(UU_CLASS_SUM(st, evicted), evicted + 10000 - spare,
		   "new items evicted old ones (%llu chunks were free)",
		   (unsigned long long)spare);
	xkv_sess_free(s);
	xkv_store_destroy(st);
}

/* ---- stats settings ---- */

/* memcached 1.6.18 without extstore and TLS: 54 lines; xkv's own 2 */
#define SETTINGS_LINES 56
/* memcached's clock starts 62 s before the process (stats_settings.c) */
#define MC_CLOCK_EARLY 62

static char *settings_text(struct xkv_store *st)
{
	struct xkv_buf b = { 0 };
	char *t;

	xkv_stats_settings(st, &b);
	/* not strndup(): it may read a byte past b.len, which b lacks */
	t = malloc(b.len + 1);
	if (!t)
		tap_bail("out of memory");
	if (b.len)
		memcpy(t, b.data, b.len);
	t[b.len] = '\0';
	xkv_buf_release(&b);
	return t;
}

static bool has_line(const char *t, const char *name, const char *val)
{
	char line[128];

	snprintf(line, sizeof(line), "STAT %s %s\r\n", name, val);
	return strstr(t, line) != NULL;
}

static u64 oldest(struct xkv_store *st)
{
	char *t = settings_text(st), *p = strstr(t, "STAT oldest ");
	u64 v = p ? strtoull(p + 12, NULL, 10) : ~0ULL;

	free(t);
	return v;
}

static void test_settings_values(void)
{
	static const char *const want[][2] = {
		{ "maxconns", "77" }, { "tcpport", "1234" },
		{ "udpport", "1235" }, { "inter", "127.0.0.1" },
		{ "oldest", "0" }, { "shutdown_command", "yes" },
		{ "growth_factor", "1.50" }, { "chunk_size", "96" },
		{ "num_threads", "3" }, { "num_threads_per_udp", "3" },
		{ "tcp_backlog", "1024" }, { "item_size_max", "2097152" },
		{ "slab_chunk_max", "2097152" }, { "dump_enabled", "no" },
		{ "idle_timeout", "30" }, { "read_buf_mem_limit", "5242880" },
		{ "hash_algorithm", "xkv64" }, { "lru_segmented", "no" },
	};
	struct xkv_settings set;
	struct xkv_store *st;
	char *t, *p;
	u32 i, n = 0;

	xkv_settings_default(&set, 1);
	set.maxconns = 77;
	set.tcp_port = 1234;
	set.udp_port = 1235;
	snprintf(set.listen, sizeof(set.listen), "127.0.0.1");
	set.shutdown_command = true;
	set.growth_x100 = 150;
	set.chunk_min = 96;
	set.threads = 3;
	set.item_size_max = 2 << 20;
	set.dump_disabled = true;
	set.idle_timeout = 30;
	set.read_buf_mem_limit = 5 << 20;
	st = xkv_store_create(&set, 4);
	if (!st)
		tap_bail("xkv_store_create failed");
	t = settings_text(st);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		tap_ok(has_line(t, want[i][0], want[i][1]), "settings: %s %s",
		       want[i][0], want[i][1]);
	for (p = t; (p = strstr(p, "STAT ")); p++)
		n++;
	tap_is_u64(n, SETTINGS_LINES, "settings: 54 of memcached's, 2 own");
	tap_ok(!strncmp(t, "STAT maxbytes ", 14) &&
	       strstr(t, "STAT memory_file (null)\r\nSTAT slab_page_size ") &&
	       strstr(t, "STAT lru_policy clock\r\nEND\r\n"),
	       "settings: memcached's first and last, then xkv's");
	free(t);
	xkv_store_destroy(st);
}

/* oldest: memcached's oldest_live, a second before the flush point */
static void test_settings_oldest(void)
{
	struct xkv_store *st = uu_store_new(64ULL << 20, 16);
	u64 base = st->started - MC_CLOCK_EARLY, before, v;

	tap_is_u64(oldest(st), 0, "oldest 0 before any flush_all");
	before = xkv_store_now(st);
	xkv_flush_all(st, 0);
	v = oldest(st);
	tap_ok(v >= before - 1 - base && v <= xkv_store_now(st) - 1 - base,
	       "flush_all: oldest %llu, now - 1 on memcached's clock",
	       (unsigned long long)v);
	before = xkv_store_now(st);
	xkv_flush_all(st, 100);
	v = oldest(st);
	tap_ok(v >= before + 99 - base && v <= xkv_store_now(st) + 99 - base,
	       "flush_all 100: oldest %llu, 99 s ahead",
	       (unsigned long long)v);
	/* an absolute time before memcached's clock began: 0 */
	xkv_flush_all(st, (s64)base - 100);
	tap_is_u64(oldest(st), 0, "flush_all at a time before the start");
	xkv_flush_all(st, 0);
	xkv_store_destroy(st);
}

int main(void)
{
	test_sizes_exact();
	test_sizes_race();
	test_metadump();
	test_metadump_la();
	test_reassign();
	test_memlimit_lower();
	test_settings_values();
	test_settings_oldest();
	return tap_done();
}
