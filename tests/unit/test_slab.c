// SPDX-License-Identifier: GPL-2.0
/*
 * test_slab.c - slab classes: sizes, class lookup, chunk reuse and the
 * memory limit.
 */
#include "slab.h"
#include "tap.h"
#include "unit_util.h"

static struct xkv_store *store_with(u64 maxbytes, u32 item_size_max,
				    u32 growth_x100, u32 chunk_min)
{
	struct xkv_settings set;

	xkv_settings_default(&set, 1);
	set.maxbytes = maxbytes;
	set.item_size_max = item_size_max;
	set.growth_x100 = growth_x100;
	set.chunk_min = chunk_min;
	return xkv_store_create(&set, 1);
}

/* the class table of one configuration */
static void check_classes(u32 item_size_max, u32 g, u32 chunk_min)
{
	struct xkv_store *st = store_with(64 << 20, item_size_max, g,
					  chunk_min);
	u32 n, i, page, first = (36 + chunk_min + 7) & ~7u;
	u64 bad_inc = 0, bad_align = 0, bad_ratio = 0, bad_perpage = 0;

	if (!tap_ok(st, "store with -I %u -f %u.%02u -n %u", item_size_max,
		    g / 100, g % 100, chunk_min))
		return;
	n = st->nclasses;
	page = item_size_max > XKV_PAGE_SIZE ? item_size_max : XKV_PAGE_SIZE;
	tap_diag("-I %u -f %u.%02u -n %u: %u classes, %u .. %u", item_size_max,
		 g / 100, g % 100, chunk_min, n, st->cls[0].size,
		 st->cls[n - 1].size);
	tap_ok(n >= 2 && n <= XKV_CLASS_MAX, "class count %u in 2..%u", n,
	       XKV_CLASS_MAX);
	tap_is_u64(st->page_size, page, "page size is max(1 MB, -I)");
	tap_is_u64(st->cls[0].size, first,
		   "first class holds header + -n, 8-aligned");
	tap_is_u64(st->cls[n - 1].size, item_size_max,
		   "last class == item_size_max");
	for (i = 0; i < n; i++) {
		u32 s = st->cls[i].size;

		if (i + 1 < n && st->cls[i + 1].size <= s)
			bad_inc++;
		if (i + 1 < n && s % 8)
			bad_align++;
		if (st->cls[i].perpage != page / s || !st->cls[i].perpage)
			bad_perpage++;
		/*
		 * Regular classes: next = align8(size * f). The class before
		 * the last is the last size whose growth stays below -I.
		 */
		if (i + 2 < n) {
			u64 want = (u64)s * g / 100;

			if (st->cls[i + 1].size < want ||
			    st->cls[i + 1].size > want + 8)
				bad_ratio++;
		}
	}
	tap_is_u64(bad_inc, 0, "class sizes strictly increase");
	tap_is_u64(bad_align, 0, "class sizes are 8-aligned");
	tap_is_u64(bad_perpage, 0, "perpage == page size / chunk size");
	if (g >= 110)
		tap_is_u64(bad_ratio, 0,
			   "each class is align8(previous * %u.%02u)", g / 100,
			   g % 100);
	if (n >= 2 && g >= 110) {
		u64 s = st->cls[n - 2].size;

		tap_ok(s * g / 100 < item_size_max,
		       "class before the last (%llu) grows below -I",
		       (unsigned long long)s);
		tap_ok((s * g / 100 + 8) * g / 100 >= item_size_max,
		       "no room for another class before -I (%llu)",
		       (unsigned long long)s);
	}
	xkv_store_destroy(st);
}

static void test_classes(void)
{
	struct xkv_store *st;

	check_classes(1024 * 1024, 125, 48);
	check_classes(1024 * 1024, 200, 48);
	check_classes(1024 * 1024, 107, 16);
	check_classes(4 * 1024 * 1024, 125, 48);
	check_classes(2048, 150, 100);
	/* a factor so small that only the 8-byte step makes progress */
	check_classes(1024 * 1024, 101, 48);

	st = store_with(64 << 20, 1024 * 1024, 100, 48);
	tap_ok(!st, "growth factor 1.00 is refused");
	xkv_store_destroy(st);
	st = store_with(64 << 20, 1024 * 1024, 125, 0);
	tap_ok(!st, "chunk_min 0 is refused");
	xkv_store_destroy(st);
	st = store_with(64 << 20, 512, 125, 48);
	tap_ok(!st, "item_size_max 512 is refused");
	xkv_store_destroy(st);
	st = store_with(0, 1024 * 1024, 125, 48);
	tap_ok(!st, "maxbytes 0 is refused");
	xkv_store_destroy(st);
}

/*
 * Every chunk must be 8-aligned: struct xkv_item holds u64 fields. With an
 * -I that is not a multiple of 8, a last class of exactly -I bytes puts
 * every chunk but the first of each page at an odd address.
 */
static void check_alignment(u32 item_size_max)
{
	struct xkv_store *st = store_with(64 << 20, item_size_max, 125, 48);
	u64 bad = 0, checked = 0;
	u32 i, k;

	if (!tap_ok(st, "store with -I %u", item_size_max))
		return;
	for (i = 0; i < st->nclasses; i++) {
		struct xkv_class *c = &st->cls[i];

		os_mutex_lock(&c->lock);
		for (k = 0; k < 3 && k < c->perpage; k++) {
			char *p = do_slab_chunk_get(st, c);

			checked++;
			if (!p || ((uintptr_t)p & 7))
				bad++;
		}
		os_mutex_unlock(&c->lock);
	}
	tap_is_u64(bad, 0, "-I %u: all of %llu chunks 8-aligned (last class "
			   "%u bytes, %u per page)", item_size_max,
		   (unsigned long long)checked,
		   st->cls[st->nclasses - 1].size,
		   st->cls[st->nclasses - 1].perpage);
	xkv_store_destroy(st);
}

static void test_alignment(void)
{
	check_alignment(1024 * 1024);
	check_alignment(1024);
	check_alignment(1025);
	check_alignment(100001);
	check_alignment(1000001);
}

static void test_class_for(void)
{
	struct xkv_store *st = store_with(64 << 20, 1024 * 1024, 125, 48);
	u64 bad_exact = 0, bad_above = 0, bad_mid = 0;
	u32 n, i;

	if (!st)
		tap_bail("store");
	n = st->nclasses;
	for (i = 0; i < n; i++) {
		u32 s = st->cls[i].size;

		if (xkv_slab_class_for(st, s) != i)
			bad_exact++;
		if (xkv_slab_class_for(st, (size_t)s + 1) != i + 1)
			bad_above++;
		if (i > 0 &&
		    xkv_slab_class_for(st, (st->cls[i - 1].size + s) / 2 + 1) !=
			    i)
			bad_mid++;
	}
	tap_is_u64(bad_exact, 0, "class_for(size of class i) == i");
	tap_is_u64(bad_above, 0, "class_for(size of class i + 1) == i + 1");
	tap_is_u64(bad_mid, 0, "class_for(between two classes) == the larger");
	tap_is_u64(xkv_slab_class_for(st, 1), 0, "class_for(1) == 0");
	tap_is_u64(xkv_slab_class_for(st, 0), 0, "class_for(0) == 0");
	tap_is_u64(xkv_slab_class_for(st, 37), 0, "class_for(37) == 0");
	tap_is_u64(xkv_slab_class_for(st, 88), 0, "class_for(88) == 0");
	tap_is_u64(xkv_slab_class_for(st, 89), 1, "class_for(89) == 1");
	tap_is_u64(xkv_slab_class_for(st, 1024 * 1024), n - 1,
		   "class_for(item_size_max) == last");
	tap_is_u64(xkv_slab_class_for(st, 1024 * 1024 + 1), n,
		   "class_for(item_size_max + 1) == nclasses (none)");
	tap_is_u64(xkv_slab_class_for(st, (size_t)1 << 40), n,
		   "class_for(1 TB) == nclasses");
	xkv_store_destroy(st);
}

static void test_chunks(void)
{
	struct xkv_store *st = store_with(64 << 20, 1024 * 1024, 125, 48);
	struct xkv_class *c;
	char *a, *b, *d, *e, *f;
	u64 i, bad = 0;

	if (!st)
		tap_bail("store");
	c = &st->cls[3];
	os_mutex_lock(&c->lock);
	tap_is_u64(do_slab_chunks(c), 0, "a new class has no chunks");
	a = do_slab_chunk_get(st, c);
	b = do_slab_chunk_get(st, c);
	d = do_slab_chunk_get(st, c);
	tap_ok(a && b && d, "three chunks");
	tap_is_u64(c->npages, 1, "they come from one page");
	tap_is_u64(st->malloced, st->page_size, "one page is charged");
	tap_ok(a == c->pages[0], "the first chunk starts the page");
	tap_is_u64((u64)(b - a), c->size, "chunks are carved size apart");
	tap_is_u64((u64)(d - b), c->size, "... one after the other");
	tap_is_u64(do_slab_chunks(c), 3, "chunks carved: 3");
	tap_ok((char *)do_slab_chunk_at(c, 1) == b, "chunk_at(1) is the 2nd");

	do_slab_chunk_put(c, b);
	tap_is_u64(c->nfree, 1, "put: one free chunk");
	e = do_slab_chunk_get(st, c);
	tap_ok(e == b, "get reuses the freed chunk");
	tap_is_u64(c->nfree, 0, "free list empty again");
	tap_is_u64(do_slab_chunks(c), 3, "reuse carves nothing new");
	do_slab_chunk_put(c, a);
	do_slab_chunk_put(c, d);
	e = do_slab_chunk_get(st, c);
	f = do_slab_chunk_get(st, c);
	tap_ok((e == a && f == d) || (e == d && f == a),
	       "both freed chunks come back");
	e = do_slab_chunk_get(st, c);
	tap_ok(e == d + c->size, "then carving resumes after the last");

	/* fill the page: every chunk inside it, the next one on page 2 */
	while (c->carved < c->perpage) {
		e = do_slab_chunk_get(st, c);
		if (!e || e < c->pages[0] ||
		    e + c->size > c->pages[0] + st->page_size)
			bad++;
	}
	tap_is_u64(bad, 0, "all %u chunks of page 1 lie inside it",
		   c->perpage);
	e = do_slab_chunk_get(st, c);
	tap_is_u64(c->npages, 2, "chunk perpage + 1 opens a second page");
	tap_ok(e == c->pages[1], "... and starts it");
	tap_is_u64(do_slab_chunks(c), (u64)c->perpage + 1,
		   "chunks == perpage + 1");
	for (i = 0; i < do_slab_chunks(c); i++) {
		char *p = (char *)do_slab_chunk_at(c, i);

		if (p != c->pages[i / c->perpage] + (i % c->perpage) * c->size)
			bad++;
	}
	tap_is_u64(bad, 0, "chunk_at() agrees with the carving order");
	os_mutex_unlock(&c->lock);
	xkv_store_destroy(st);
}

/* take chunks of class @ci until the allocator says no (or 64 pages) */
static u64 drain_class(struct xkv_store *st, u32 ci)
{
	struct xkv_class *c = &st->cls[ci];
	u64 n = 0;

	os_mutex_lock(&c->lock);
	while (n < 64ULL * c->perpage && do_slab_chunk_get(st, c))
		n++;
	os_mutex_unlock(&c->lock);
	return n;
}

static void test_limit(void)
{
	const u64 page = XKV_PAGE_SIZE;
	struct xkv_store *st = store_with(3 * page, 1024 * 1024, 125, 48);
	u64 n, per0, per5, rng = 7, bad = 0, over = 0, steps;
	struct xkv_class *c0;
	void *p;
	u32 i;

	if (!st)
		tap_bail("store");
	c0 = &st->cls[0];
	per0 = st->cls[0].perpage;
	per5 = st->cls[5].perpage;
	n = drain_class(st, 0);
	tap_is_u64(n, 3 * per0, "3-page limit: class 0 gets 3 pages of chunks");
	tap_is_u64(c0->npages, 3, "class 0 owns 3 pages");
	tap_is_u64(st->malloced, 3 * page, "malloced == limit");
	n = drain_class(st, 5);
	tap_is_u64(n, per5, "class 5 still gets its first page");
	tap_is_u64(st->cls[5].npages, 1, "... and only that one");
	tap_is_u64(st->malloced, 4 * page,
		   "malloced == limit + the first page of class 5");
	tap_is_u64(drain_class(st, 0), 0, "class 0 gets nothing more");

	/* the limit counts freed chunks as used: no new page for them */
	os_mutex_lock(&c0->lock);
	p = do_slab_chunk_at(c0, 17);
	do_slab_chunk_put(c0, p);
	tap_ok(do_slab_chunk_get(st, c0) == p, "a freed chunk is reused");
	tap_ok(!do_slab_chunk_get(st, c0), "then class 0 is empty again");
	os_mutex_unlock(&c0->lock);
	xkv_store_destroy(st);

	/* a limit below one page: one page per class, never two */
	st = store_with(1, 1024 * 1024, 125, 48);
	if (!st)
		tap_bail("store");
	tap_is_u64(drain_class(st, 2), st->cls[2].perpage,
		   "1-byte limit: a class still gets one page");
	tap_is_u64(drain_class(st, 7), st->cls[7].perpage,
		   "... every class does");
	tap_is_u64(st->cls[2].npages + st->cls[7].npages, 2,
		   "... but one page each");
	tap_is_u64(st->malloced, 2 * page, "malloced == two first pages");
	xkv_store_destroy(st);

	/* a limit of 2.5 pages is two pages */
	st = store_with(5 * page / 2, 1024 * 1024, 125, 48);
	if (!st)
		tap_bail("store");
	tap_is_u64(drain_class(st, 1), 2 * st->cls[1].perpage,
		   "2.5-page limit: class 1 gets two pages");
	xkv_store_destroy(st);

	/*
	 * Random gets and puts over 12 classes with a 20-page limit. After
	 * every step: malloced matches the pages owned, and a page beyond
	 * the limit is only ever a class's first.
	 */
	st = store_with(20 * page, 1024 * 1024, 125, 48);
	if (!st)
		tap_bail("store");
	for (steps = 0; steps < 200000; steps++) {
		u32 ci = st->nclasses - 1 - (u32)(uu_rand(&rng) % 12);
		struct xkv_class *c = &st->cls[ci];
		u32 before = c->npages;
		u64 pages = 0;

		os_mutex_lock(&c->lock);
		if (uu_rand(&rng) % 3 == 0 && do_slab_chunks(c)) {
			u64 k = uu_rand(&rng) % do_slab_chunks(c);
			struct xkv_item *it = do_slab_chunk_at(c, k);

			/* iflags 0xee marks "in use" for this test */
			if (it->iflags == 0xee)
				do_slab_chunk_put(c, it);
		} else {
			struct xkv_item *it = do_slab_chunk_get(st, c);

			if (it)
				it->iflags = 0xee;
		}
		os_mutex_unlock(&c->lock);
		if (c->npages > before && c->npages > 1 &&
		    st->malloced > st->set.maxbytes)
			bad++;
		for (i = 0; i < st->nclasses; i++)
			pages += st->cls[i].npages;
		if (st->malloced != pages * page)
			over++;
	}
	tap_is_u64(bad, 0, "random get/put: no class took a second page "
			   "beyond the limit");
	tap_is_u64(over, 0, "random get/put: malloced == pages owned");
	n = 0;
	for (i = 0; i < st->nclasses; i++)
		n += st->cls[i].npages > 1 ? st->cls[i].npages - 1 : 0;
	tap_diag("random get/put: %llu pages beyond first pages, malloced "
		 "%llu MB", (unsigned long long)n,
		 (unsigned long long)(st->malloced >> 20));
	tap_ok(n > 0, "random get/put: some class got more than one page");
	tap_ok(st->malloced <= st->set.maxbytes + 12 * page,
	       "malloced %llu <= limit + one page per class used",
	       (unsigned long long)st->malloced);
	xkv_store_destroy(st);
}

int main(void)
{
	test_classes();
	test_alignment();
	test_class_for();
	test_chunks();
	test_limit();
	return tap_done();
}
