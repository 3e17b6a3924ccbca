// SPDX-License-Identifier: GPL-2.0
/*
 * admin.c - memcached's admin commands: shutdown, cache_memlimit, slabs,
 * lru_crawler (metadump), and the state of "stats sizes" and "stats
 * conns". Replies and argument errors are memcached 1.6's.
 *
 * What each one really does here (README says it to users):
 *  - shutdown [graceful]: with the setting shutdown_command (xkvd -A, the
 *    module parameter shutdown_command) the store records the request,
 *    the connection closes, and the platform stops the server; else
 *    "ERROR: shutdown not enabled".
 *  - cache_memlimit <MB>: the store's page limit changes at once. Below
 *    what is in use, as in memcached, nothing is freed: no class takes a
 *    new page until usage is under the limit, and items are evicted in
 *    the pages they have.
 *  - slabs reassign <src> <dst>: moves one page from class src to class
 *    dst only when src has more than one page and its newest page holds
 *    no item (every chunk free or never used); xkv does not evict to
 *    free a page, so anything else is NOSPARE. dst 0 (memcached's global
 *    pool) gives the page back to the memory limit. src -1 picks a class.
 *  - slabs automove <0|1|2>: accepted and stored ("stats settings"),
 *    inert: nothing moves pages by itself.
 *  - lru_crawler enable/disable: start/stop the background crawler that
 *    reclaims expired items (a delayed flush_all still happens on time);
 *    enabling it while it runs is an error, as in memcached;
 *    sleep and tocrawl are accepted and inert; crawl <classes> answers as
 *    memcached does and leaves the work to the background crawler, which
 *    visits every class continuously.
 *  - lru_crawler metadump <all|hash|ids>: streams one line per live item,
 *    with a cursor (class, chunk) so a paused dump resumes where it
 *    stopped; one dump at a time per store (BUSY), refused over UDP, when
 *    other replies are still unsent (pipelined), and with dumps disabled
 *    (xkvd -X).
 */
#include "admin.h"
#include "assoc.h"
#include "items.h"
#include "session.h"
#include "slab.h"
#include "util.h"

/* memcached refuses cache_memlimit below 8 MB and above 1e9 "MB" */
#define MEMLIMIT_MIN_MB 8
#define MEMLIMIT_INPUT_MAX 1000000000u
/* memcached's class ids for lru_crawler: 1 .. 63 */
#define CRAWL_CLASS_LIMIT 64
/* chunks a metadump looks at per class lock hold */
#define DUMP_SLICE 512
/* room one metadump line may take: a key of 250 bytes uri-encoded */
#define DUMP_LINE_MAX (XKV_KEY_MAX * 3 + 160)

static bool atok_is(const struct xkv_tok *t, const char *s)
{
	size_t n = os_strlen(s);

	return t->n == n && !os_memcmp(t->p, s, n);
}

struct actx {
	struct xkv_admin_req *r;
	bool noreply;
};

static void areply(struct actx *a, const char *str)
{
	if (a->noreply)
		return;
	/* over UDP a bare ERROR is not sent, as proto.c's reply() */
	if (a->r->udp && os_strlen(str) == 5 && !os_memcmp(str, "ERROR", 5))
		return;
	xkv_buf_str(a->r->out, str);
	xkv_buf_add(a->r->out, "\r\n", 2);
}

/* memcached's set_noreply_maybe(): the last token decides */
static void noreply_maybe(struct actx *a, const struct xkv_tok *t, u32 nt)
{
	a->noreply = nt > 1 && atok_is(&t[nt - 1], "noreply");
}

bool xkv_admin_is_cmd(const char *cmd, size_t n)
{
	const struct xkv_tok w = { cmd, n }, *t = &w;

	return atok_is(t, "shutdown") || atok_is(t, "cache_memlimit") ||
	       atok_is(t, "slabs") || atok_is(t, "lru_crawler");
}

/* ---- shutdown ---- */

static void cmd_shutdown(struct actx *a, const struct xkv_tok *t, u32 nt)
{
	struct xkv_store *st = a->r->st;
	u32 how;

	if (!st->set.shutdown_command) {
		areply(a, "ERROR: shutdown not enabled");
		return;
	}
	if (nt == 1) {
		how = XKV_SHUTDOWN_NOW;
	} else if (nt == 2 && atok_is(&t[1], "graceful")) {
		how = XKV_SHUTDOWN_GRACEFUL;
	} else {
		areply(a, "CLIENT_ERROR invalid shutdown mode");
		return;
	}
	OS_STORE_RELEASE(st->adm.shutdown, how);
	a->r->close = true;
}

u32 xkv_store_shutdown_requested(struct xkv_store *st)
{
	return OS_LOAD_ACQUIRE(st->adm.shutdown);
}

/* ---- cache_memlimit ---- */

static void cmd_memlimit(struct actx *a, const struct xkv_tok *t, u32 nt)
{
	struct xkv_store *st = a->r->st;
	u32 mb;

	/* memcached: WANT_TOKENS_OR(ntokens, 3, 4) */
	if (nt != 2 && nt != 3) {
		areply(a, "ERROR");
		return;
	}
	noreply_maybe(a, t, nt);
	if (!xkv_parse_u32(t[1].p, t[1].n, &mb)) {
		areply(a, "ERROR");
	} else if (mb < MEMLIMIT_MIN_MB) {
		areply(a, "MEMLIMIT_TOO_SMALL cannot set maxbytes to less "
			  "than 8m");
	} else if (mb > MEMLIMIT_INPUT_MAX) {
		areply(a, "MEMLIMIT_ADJUST_FAILED input value is megabytes "
			  "not bytes");
	} else if ((u64)mb * 1024 * 1024 > XKV_MEMORY_MAX) {
		areply(a, "MEMLIMIT_ADJUST_FAILED out of bounds or unable to "
			  "adjust");
	} else {
		/* slab.c reads the limit under mem_lock */
		os_mutex_lock(&st->mem_lock);
		OS_WRITE_ONCE(st->set.maxbytes, (u64)mb * 1024 * 1024);
		os_mutex_unlock(&st->mem_lock);
		os_log(1, "maxbytes adjusted to %um", mb);
		areply(a, "OK");
	}
}

/* ---- slabs ---- */

/*
 * Is the newest page of @c free of items (every carved chunk on the free
 * list)? A chunk handed to a writer and not yet linked is not on the
 * free list, so such a page is never called free. Class lock held.
 */
static bool do_page_is_spare(const struct xkv_class *c, u32 page_size)
{
	const char *page;
	u64 nfree = 0;
	void *p;

	if (c->npages < 2)
		return false;
	page = c->pages[c->npages - 1];
	for (p = c->freelist; p; p = *(void **)p)
		if ((char *)p >= page && (char *)p < page + page_size)
			nfree++;
	return nfree == c->carved;
}

/* take the newest page off @c, which do_page_is_spare() said is free */
static char *do_page_take(struct xkv_class *c, u32 page_size)
{
	char *page = c->pages[c->npages - 1];
	void **pp = &c->freelist;

	while (*pp) {
		char *p = *pp;

		if (p >= page && p < page + page_size) {
			*pp = *(void **)p;
			c->nfree--;
		} else {
			pp = (void **)p;
		}
	}
	c->npages--;
	/* the page before was full when this one was added */
	c->carved = c->perpage;
	if (c->hand >= do_slab_chunks(c))
		c->hand = 0;
	if (c->crawl >= do_slab_chunks(c))
		c->crawl = 0;
	return page;
}

/* room for one more page in @c->pages; false when memory is short */
static bool do_pages_room(struct xkv_class *c)
{
	u32 cap = c->pages_cap ? c->pages_cap * 2 : 8;
	char **np;

	if (c->npages < c->pages_cap)
		return true;
	np = os_realloc(c->pages, sizeof(*np) * c->pages_cap,
			sizeof(*np) * cap);
	if (!np)
		return false;
	c->pages = np;
	c->pages_cap = cap;
	return true;
}

/* give @page to @c as its newest page; do_pages_room() said it fits */
static void do_page_give(struct xkv_class *c, char *page)
{
	/* what the newest page has not handed out yet goes on the list */
	if (c->npages)
		while (c->carved < c->perpage)
			do_slab_chunk_put(c, c->pages[c->npages - 1] +
					  (u64)c->carved++ * c->size);
	c->pages[c->npages++] = page;
	c->carved = 0;
}

enum reassign_res {
	REASSIGN_OK,
	REASSIGN_BADCLASS,
	REASSIGN_NOSPARE,
	REASSIGN_SAME,
	REASSIGN_NOMEM,
};

/* @src, @dst: memcached's ids, 1-based; dst 0 frees the page */
static enum reassign_res slabs_reassign(struct xkv_store *st, s32 src,
					s32 dst)
{
	struct xkv_class *s, *d = NULL;
	enum reassign_res res = REASSIGN_OK;
	char *page;

	if (src == dst)
		return REASSIGN_SAME;
	if (src == -1) {
		u32 i;

		for (i = 0; i < st->nclasses; i++) {
			struct xkv_class *c = &st->cls[i];
			bool spare;

			if ((s32)i + 1 == dst)
				continue;
			os_mutex_lock(&c->lock);
			spare = do_page_is_spare(c, st->page_size);
			os_mutex_unlock(&c->lock);
			if (spare) {
				src = (s32)i + 1;
				break;
			}
		}
	}
	if (src < 0 || src > (s32)st->nclasses || dst < 0 ||
	    dst > (s32)st->nclasses)
		return REASSIGN_BADCLASS;
	/* memcached's class 0 is its global page pool: xkv has none */
	if (src == 0)
		return REASSIGN_NOSPARE;
	s = &st->cls[src - 1];
	if (dst)
		d = &st->cls[dst - 1];
	/* only a reassign holds two class locks: adm.lock orders them */
	os_mutex_lock(&st->adm.lock);
	os_mutex_lock(&s->lock);
	if (!do_page_is_spare(s, st->page_size)) {
		res = REASSIGN_NOSPARE;
		goto unlock_src;
	}
	if (!d) {
		page = do_page_take(s, st->page_size);
		os_big_free(page, st->page_size);
		os_mutex_lock(&st->mem_lock);
		st->malloced -= st->page_size;
		os_mutex_unlock(&st->mem_lock);
		goto unlock_src;
	}
	os_mutex_lock(&d->lock);
	/* make room first: taking the page must not fail half way */
	if (!do_pages_room(d)) {
		res = REASSIGN_NOMEM;
		goto unlock_dst;
	}
	page = do_page_take(s, st->page_size);
	do_page_give(d, page);
unlock_dst:
	os_mutex_unlock(&d->lock);
unlock_src:
	os_mutex_unlock(&s->lock);
	os_mutex_unlock(&st->adm.lock);
	return res;
}

static void cmd_slabs_reassign(struct actx *a, const struct xkv_tok *t)
{
	s32 src, dst;

	if (!xkv_parse_s32(t[2].p, t[2].n, &src) ||
	    !xkv_parse_s32(t[3].p, t[3].n, &dst)) {
		areply(a, "CLIENT_ERROR bad command line format");
		return;
	}
	switch (slabs_reassign(a->r->st, src, dst)) {
	case REASSIGN_OK:
		areply(a, "OK");
		break;
	case REASSIGN_BADCLASS:
		areply(a, "BADCLASS invalid src or dst class id");
		break;
	case REASSIGN_NOSPARE:
		areply(a, "NOSPARE source class has no spare pages");
		break;
	case REASSIGN_SAME:
		areply(a, "SAME src and dst class are identical");
		break;
	default:
		areply(a, "SERVER_ERROR out of memory");
		break;
	}
}

static void cmd_slabs_automove(struct actx *a, const struct xkv_tok *t, u32 nt)
{
	u32 level;

	noreply_maybe(a, t, nt);
	if (atok_is(&t[2], "ratio")) {
		/* memcached's slab_automove_ratio: xkv has no such policy */
		areply(a, "ERROR");
		return;
	}
	if (!xkv_parse_u32(t[2].p, t[2].n, &level)) {
		areply(a, "CLIENT_ERROR bad command line format");
		return;
	}
	if (level > 2) {
		areply(a, "ERROR");
		return;
	}
	OS_WRITE_ONCE(a->r->st->adm.automove, level);
	areply(a, "OK");
}

static void cmd_slabs(struct actx *a, const struct xkv_tok *t, u32 nt)
{
	if (nt == 4 && atok_is(&t[1], "reassign"))
		cmd_slabs_reassign(a, t);
	else if (nt >= 3 && atok_is(&t[1], "automove"))
		cmd_slabs_automove(a, t, nt);
	else
		areply(a, "ERROR");
}

/* ---- lru_crawler ---- */

/*
 * memcached's class list: "all", "hash", or ids 1..63 separated by
 * commas, into @cur's class mask. Return: false for a bad id (BADCLASS).
 */
static bool crawl_classes(const struct xkv_tok *arg,
			  struct xkv_admin_cursor *cur)
{
	const char *p = arg->p, *end = arg->p + arg->n;

	cur->all = atok_is(arg, "all") || atok_is(arg, "hash");
	cur->classes = 0;
	while (!cur->all && p <= end) {
		const char *q = p;
		u32 id;

		while (q < end && *q != ',')
			q++;
		if (!xkv_parse_u32(p, (size_t)(q - p), &id) || id < 1 ||
		    id >= CRAWL_CLASS_LIMIT)
			return false;
		cur->classes |= 1ULL << id;
		p = q + 1;
	}
	return true;
}

/* is class index @i (0-based, id i + 1) named by the list? */
static bool crawl_class_wanted(const struct xkv_admin_cursor *cur, u32 i)
{
	return cur->all ||
	       (i + 1 < CRAWL_CLASS_LIMIT && (cur->classes >> (i + 1)) & 1);
}

/* memcached's uriencode(): keep [A-Za-z0-9-._~], %XX the rest */
static size_t uri_encode(char *dst, const char *src, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t d = 0, i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			dst[d++] = (char)c;
		} else {
			dst[d++] = '%';
			dst[d++] = hex[c >> 4];
			dst[d++] = hex[c & 15];
		}
	}
	return d;
}

/*
 * memcached's la=: the item's last access, in Unix seconds. Store
 * seconds are Unix seconds (store.c's clock), and @atime is set when the
 * item is stored and on every read, text, binary, meta or the XDP store
 * path alike.
 */
static u64 item_la(const struct xkv_item *it, u64 now)
{
	(void)now;
	return it->atime;
}

/*
 * One item's line, written at @dst (DUMP_LINE_MAX bytes), stripe lock
 * held: formatting only.
 */
static size_t do_dump_line(const struct xkv_item *it, u32 cls, u64 now,
			   char *dst)
{
	u64 size = xkv_item_total(it->nkey, it->nbytes);
	s64 exp = it->exptime ? (s64)it->exptime : -1;
	size_t n;

	os_memcpy(dst, "key=", 4);
	n = 4;
	n += uri_encode(dst + n, it->data, it->nkey);
	n += (size_t)os_snprintf(dst + n, DUMP_LINE_MAX - n,
				 " exp=%lld la=%llu cas=%llu fetch=%s cls=%u"
				 " size=%llu\n",
				 (long long)exp,
				 (unsigned long long)item_la(it, now),
				 (unsigned long long)it->cas,
				 it->iflags & XKV_IT_FETCHED ? "yes" : "no",
				 cls + 1, (unsigned long long)size);
	return n;
}

/* is @it (linked, stripe lock held) dead? as items.c's item_dead() */
static bool do_dump_dead(struct xkv_store *st, const struct xkv_item *it,
			 u64 now)
{
	return it->cas < (u64)os_atomic64_read(&st->flush_cas) ||
	       (it->exptime && it->exptime <= now);
}

/*
 * Dump a slice of class @c from the cursor: at most DUMP_SLICE chunks,
 * and stop once the output holds XKV_SESS_OUT_HIGH bytes. Returns false
 * when the output could not grow.
 */
static bool dump_slice(struct xkv_store *st, struct xkv_admin_cursor *cur,
		       struct xkv_buf *out, u64 now, size_t high)
{
	struct xkv_class *c = &st->cls[cur->cls];
	u32 done = 0;
	u64 n;

	os_mutex_lock(&c->lock);
	n = do_slab_chunks(c);
	while (cur->chunk < n && done < DUMP_SLICE &&
	       xkv_buf_pending(out) < high) {
		struct xkv_item *it = do_slab_chunk_at(c, cur->chunk);
		struct xkv_stripe *sp;
		u64 hv;

		done++;
		/* with the class lock held a linked item's key is stable */
		if (!(OS_LOAD_ACQUIRE(it->iflags) & XKV_IT_LINKED)) {
			cur->chunk++;
			continue;
		}
		/* room first: nothing allocates under the stripe lock */
		if (xkv_buf_reserve(out, DUMP_LINE_MAX)) {
			os_mutex_unlock(&c->lock);
			return false;
		}
		hv = xkv_hash(xkv_item_key(it), it->nkey);
		sp = xkv_stripe_of(st, hv);
		os_spin_lock(&sp->lock);
		if ((it->iflags & XKV_IT_LINKED) && !do_dump_dead(st, it, now))
			out->len += do_dump_line(it, cur->cls, now,
						 out->data + out->len);
		os_spin_unlock(&sp->lock);
		cur->chunk++;
	}
	if (cur->chunk >= n) {
		cur->cls++;
		cur->chunk = 0;
	}
	os_mutex_unlock(&c->lock);
	return true;
}

static void dump_end(struct xkv_store *st, struct xkv_admin_cursor *cur)
{
	if (!cur->active)
		return;
	cur->active = false;
	OS_STORE_RELEASE(st->adm.dumping, 0);
}

void xkv_admin_cursor_end(struct xkv_store *st, struct xkv_admin_cursor *cur)
{
	dump_end(st, cur);
}

static void cmd_metadump(struct actx *a, const struct xkv_tok *t)
{
	struct xkv_admin_req *r = a->r;
	struct xkv_store *st = r->st;
	struct xkv_admin_cursor *cur = r->cur;
	u64 now = xkv_store_now(st);

	if (!(r->resumed && cur->active)) {
		if (OS_READ_ONCE(st->adm.crawler_off)) {
			areply(a, "CLIENT_ERROR lru crawler disabled");
			return;
		}
		if (st->set.dump_disabled) {
			areply(a, "ERROR metadump not allowed");
			return;
		}
		/* a reply sent back to any request: amplification */
		if (r->udp) {
			areply(a, "ERROR metadump not allowed over UDP");
			return;
		}
		if (xkv_buf_pending(r->out)) {
			areply(a, "ERROR cannot pipeline other commands "
				  "before metadump");
			return;
		}
		if (!crawl_classes(&t[2], cur)) {
			areply(a, "BADCLASS invalid class id");
			return;
		}
		if (!os_cmpxchg32(&st->adm.dumping, 0, 1)) {
			areply(a, "BUSY currently processing crawler request");
			return;
		}
		cur->active = true;
		cur->cls = 0;
		cur->chunk = 0;
	}
	while (cur->cls < st->nclasses) {
		if (xkv_buf_pending(r->out) >= XKV_SESS_OUT_HIGH) {
			r->pause = true;
			return;
		}
		if (!crawl_class_wanted(cur, cur->cls)) {
			cur->cls++;
			continue;
		}
		if (!dump_slice(st, cur, r->out, now, XKV_SESS_OUT_HIGH)) {
			/* memory is short: the reply is cut, the conn closes */
			r->out->oom = true;
			dump_end(st, cur);
			return;
		}
		os_cond_resched();
	}
	xkv_buf_add(r->out, "END\r\n", 5);
	dump_end(st, cur);
}

static void cmd_lru_crawler(struct actx *a, const struct xkv_tok *t, u32 nt)
{
	struct xkv_store *st = a->r->st;
	u32 v;

	if (nt == 3 && atok_is(&t[1], "crawl")) {
		struct xkv_admin_cursor cur;

		if (OS_READ_ONCE(st->adm.crawler_off))
			areply(a, "CLIENT_ERROR lru crawler disabled");
		else if (!crawl_classes(&t[2], &cur))
			areply(a, "BADCLASS invalid class id");
		else
			areply(a, "OK");
	} else if (nt == 3 && atok_is(&t[1], "metadump")) {
		cmd_metadump(a, t);
	} else if (nt == 3 && atok_is(&t[1], "tocrawl")) {
		if (!xkv_parse_u32(t[2].p, t[2].n, &v)) {
			areply(a, "CLIENT_ERROR bad command line format");
			return;
		}
		OS_WRITE_ONCE(st->adm.crawler_tocrawl, v);
		areply(a, "OK");
	} else if (nt == 3 && atok_is(&t[1], "sleep")) {
		if (!xkv_parse_u32(t[2].p, t[2].n, &v)) {
			areply(a, "CLIENT_ERROR bad command line format");
			return;
		}
		if (v > 1000000) {
			areply(a, "CLIENT_ERROR sleep must be one second or "
				  "less");
			return;
		}
		OS_WRITE_ONCE(st->adm.crawler_sleep, v);
		areply(a, "OK");
	} else if (nt == 2 && atok_is(&t[1], "enable")) {
		/* memcached cannot start the thread it already runs */
		if (os_cmpxchg32(&st->adm.crawler_off, 1, 0))
			areply(a, "OK");
		else
			areply(a, "ERROR failed to start lru crawler thread");
	} else if (nt == 2 && atok_is(&t[1], "disable")) {
		OS_WRITE_ONCE(st->adm.crawler_off, 1);
		areply(a, "OK");
	} else {
		areply(a, "ERROR");
	}
}

void xkv_admin_line(struct xkv_admin_req *r, const struct xkv_tok *t,
		    u32 nt)
{
	struct actx a = { .r = r };

	r->pause = false;
	r->close = false;
	if (!nt)
		return;
	if (atok_is(&t[0], "shutdown"))
		cmd_shutdown(&a, t, nt);
	else if (atok_is(&t[0], "cache_memlimit"))
		cmd_memlimit(&a, t, nt);
	else if (atok_is(&t[0], "slabs"))
		cmd_slabs(&a, t, nt);
	else if (atok_is(&t[0], "lru_crawler"))
		cmd_lru_crawler(&a, t, nt);
	else
		areply(&a, "ERROR");
}

/* ---- stats sizes ---- */

/*
 * Counting must agree between an item's link and its unlink: an item is
 * counted when its CAS is at least sizes_cas_min as read at the time.
 * (Re)enabling: stop counting (XKV_SIZES_OFF), wait for every link and
 * unlink under way (take and drop each stripe lock), zero the buckets,
 * then publish a bound K above every CAS given so far, checked after the
 * store: a writer whose CAS is >= K got it after K was published and so
 * reads K; a writer that read an older bound got a CAS below K. When a
 * writer took a CAS in between, try again with a wider gap (the items
 * in the gap, linked while the command ran, are not counted).
 */
/* a fully ordered store (an atomic add that returns is one) */
static void sizes_bound_set(struct xkv_admin *adm, u64 v)
{
	s64 cur = os_atomic64_read(&adm->sizes_cas_min);

	os_atomic64_add_return((s64)v - cur, &adm->sizes_cas_min);
}

static void sizes_quiesce(struct xkv_store *st)
{
	u32 i;

	for (i = 0; i < XKV_STRIPES; i++) {
		os_spin_lock(&st->stripes[i].lock);
		os_spin_unlock(&st->stripes[i].lock);
	}
}

int xkv_sizes_set(struct xkv_store *st, bool on)
{
	struct xkv_admin *adm = &st->adm;
	u64 k, gap = 1;
	u32 i;

	os_mutex_lock(&adm->lock);
	/* as memcached: enabling again keeps the counts */
	if (on && (u64)os_atomic64_read(&adm->sizes_cas_min) != XKV_SIZES_OFF)
		goto unlock;
	sizes_bound_set(adm, XKV_SIZES_OFF);
	if (!on)
		goto unlock;
	if (!adm->sizes) {
		u32 n = st->set.item_size_max / XKV_SIZES_BUCKET + 1;
		os_atomic64_t *h = os_big_alloc(sizeof(*h) * n);

		if (!h) {
			os_mutex_unlock(&adm->lock);
			return -ENOMEM;
		}
		adm->nsizes = n;
		OS_STORE_RELEASE(adm->sizes, h);
	}
	sizes_quiesce(st);
	for (i = 0; i < adm->nsizes; i++)
		os_atomic64_set(&adm->sizes[i], 0);
	for (;;) {
		k = (u64)os_atomic64_read(&st->cas_next) + gap;
		sizes_bound_set(adm, k);
		if ((u64)os_atomic64_read(&st->cas_next) < k)
			break;
		gap *= 2;
	}
unlock:
	os_mutex_unlock(&adm->lock);
	return 0;
}

void xkv_sizes_update(struct xkv_store *st, const struct xkv_item *it,
		      int delta)
{
	struct xkv_admin *adm = &st->adm;
	u64 total, b;

	/* do_item_link()'s CAS increment orders this read after it */
	if (it->cas < (u64)os_atomic64_read(&adm->sizes_cas_min))
		return;
	total = xkv_item_total(it->nkey, it->nbytes);
	b = (total + XKV_SIZES_BUCKET - 1) / XKV_SIZES_BUCKET;
	if (b < adm->nsizes)
		os_atomic64_add(delta, &OS_LOAD_ACQUIRE(adm->sizes)[b]);
}

/* ---- stats conns ---- */

void xkv_conn_register(struct xkv_store *st, struct xkv_conn_info *ci)
{
	struct xkv_admin *adm = &st->adm;

	os_mutex_lock(&adm->lock);
	ci->id = ++adm->conn_ids;
	ci->last_cmd = xkv_store_now(st);
	ci->next = adm->conns.next;
	ci->prev = &adm->conns;
	adm->conns.next->prev = ci;
	adm->conns.next = ci;
	adm->nconns++;
	os_mutex_unlock(&adm->lock);
}

void xkv_conn_set_addrs(struct xkv_store *st, struct xkv_conn_info *ci,
			const char *peer, const char *local)
{
	os_mutex_lock(&st->adm.lock);
	os_snprintf(ci->peer, sizeof(ci->peer), "%s", peer);
	os_snprintf(ci->local, sizeof(ci->local), "%s", local);
	os_mutex_unlock(&st->adm.lock);
}

void xkv_conn_unregister(struct xkv_store *st, struct xkv_conn_info *ci)
{
	struct xkv_admin *adm = &st->adm;

	if (!ci->next)
		return;
	os_mutex_lock(&adm->lock);
	ci->prev->next = ci->next;
	ci->next->prev = ci->prev;
	ci->next = NULL;
	ci->prev = NULL;
	adm->nconns--;
	os_mutex_unlock(&adm->lock);
}

void xkv_store_add_listener(struct xkv_store *st, const char *addr, bool udp)
{
	struct xkv_admin *adm = &st->adm;
	size_t n = os_strlen(addr);

	if (n >= XKV_ADDR_STR)
		n = XKV_ADDR_STR - 1;
	os_mutex_lock(&adm->lock);
	if (adm->nlisteners < XKV_LISTENERS_MAX) {
		os_memcpy(adm->listeners[adm->nlisteners].addr, addr, n);
		adm->listeners[adm->nlisteners].addr[n] = '\0';
		adm->listeners[adm->nlisteners].udp = udp;
		adm->nlisteners++;
	}
	adm->started = xkv_store_now(st);
	os_mutex_unlock(&adm->lock);
}

/* ---- life cycle ---- */

void xkv_admin_init(struct xkv_store *st)
{
	struct xkv_admin *adm = &st->adm;

	os_mutex_init(&adm->lock);
	os_atomic64_set(&adm->sizes_cas_min, (s64)XKV_SIZES_OFF);
	adm->conns.next = &adm->conns;
	adm->conns.prev = &adm->conns;
}

void xkv_admin_destroy(struct xkv_store *st)
{
	struct xkv_admin *adm = &st->adm;

	if (adm->sizes)
		os_big_free(adm->sizes, sizeof(*adm->sizes) * adm->nsizes);
	adm->sizes = NULL;
	os_mutex_destroy(&adm->lock);
}
