// SPDX-License-Identifier: GPL-2.0
/*
 * items.c - item life cycle and the operations behind the commands.
 *
 * Eviction is per slab class and approximates LRU with a clock: reads set
 * item->ref, the hand clears it and gives a second chance, and the first
 * linked item it meets without it is evicted. That costs one byte per item
 * instead of two list pointers, and a read never takes a class lock.
 */
#include "assoc.h"
#include "hot.h"
#include "items.h"
#include "slab.h"
#include "util.h"

#define XKV_CRAWL_SLICE 4096

u32 xkv_exptime(struct xkv_store *st, s64 exptime)
{
	u64 t;

	if (exptime == 0)
		return 0;
	if (exptime < 0)
		return 1;
	if (exptime > XKV_REALTIME_MAXDELTA)
		t = (u64)exptime;
	else
		t = xkv_store_now(st) + (u64)exptime;
	return t > 0xffffffffULL ? 0xffffffffU : (u32)t;
}

static bool item_dead(struct xkv_store *st, const struct xkv_item *it,
		      u64 now, bool *flushed)
{
	if (it->cas < (u64)os_atomic64_read(&st->flush_cas)) {
		if (flushed)
			*flushed = true;
		return true;
	}
	return it->exptime && it->exptime <= now;
}

static void do_item_link(struct xkv_store *st, struct xkv_stripe *sp,
			 u64 hv, struct xkv_item *it)
{
	it->cas = (u64)os_atomic64_inc_return(&st->cas_next);
	do_assoc_insert(st, sp, hv, it);
	/* keeps XKV_IT_KEY_B64 and XKV_IT_STALE set before linking */
	OS_STORE_RELEASE(it->iflags, it->iflags | XKV_IT_LINKED);
	os_atomic64_add(1, &st->cls[it->clsid].nlinked);
	os_atomic64_add(1, &st->curr_items);
	os_atomic64_add(1, &st->total_items);
	os_atomic64_add((s64)xkv_item_total(it->nkey, it->nbytes), &st->bytes);
	xkv_sizes_update(st, it, 1);
}

/* take @it out of the table, leaving its hot slot alone */
static void __do_item_unlink(struct xkv_store *st, struct xkv_stripe *sp,
			     u64 hv, struct xkv_item *it)
{
	do_assoc_remove(st, sp, hv, it);
	OS_WRITE_ONCE(it->iflags, it->iflags & ~XKV_IT_LINKED);
	os_atomic64_add(-1, &st->cls[it->clsid].nlinked);
	os_atomic64_add(-1, &st->curr_items);
	os_atomic64_add(-(s64)xkv_item_total(it->nkey, it->nbytes),
			&st->bytes);
	xkv_sizes_update(st, it, -1);
}

static void do_item_unlink(struct xkv_store *st, struct xkv_stripe *sp,
			   u64 hv, struct xkv_item *it)
{
	__do_item_unlink(st, sp, hv, it);
	if (st->hot)
		do_hot_removed(st, it);
}

void xkv_item_free(struct xkv_store *st, struct xkv_item *it)
{
	struct xkv_class *c = &st->cls[it->clsid];

	os_mutex_lock(&c->lock);
	do_slab_chunk_put(c, it);
	os_mutex_unlock(&c->lock);
}

/*
 * Items unlinked under a stripe lock wait on a "reap" list, chained
 * through ->h_next (free once unlinked), and are freed after the lock is
 * released: freeing takes a class lock, which may sleep.
 */
static void do_item_reap(struct xkv_item **reap, struct xkv_item *it)
{
	it->h_next = *reap;
	*reap = it;
}

static void item_reap_free(struct xkv_store *st, struct xkv_item *reap)
{
	while (reap) {
		struct xkv_item *next = reap->h_next;

		xkv_item_free(st, reap);
		reap = next;
	}
}

/* release @sp, then free what was unlinked under it */
static void stripe_unlock_reap(struct xkv_store *st, struct xkv_stripe *sp,
			       struct xkv_item **reap)
{
	os_spin_unlock(&sp->lock);
	item_reap_free(st, *reap);
	*reap = NULL;
}

/*
 * Find a key's live item. A dead one met on the way (expired, or older
 * than a flush_all) is unlinked and put on @reap, as memcached does on
 * reads.
 */
static struct xkv_item *do_item_find(struct xkv_store *st,
				     struct xkv_stripe *sp, u64 hv,
				     const char *key, size_t nkey, u64 now,
				     struct xkv_get_req *req,
				     struct xkv_item **reap)
{
	struct xkv_item *it = do_assoc_find(st, sp, hv, key, nkey);
	bool flushed = false;

	if (!it || !item_dead(st, it, now, &flushed))
		return it;
	if (req) {
		req->flushed = flushed;
		req->expired = !flushed;
	}
	do_item_unlink(st, sp, hv, it);
	do_item_reap(reap, it);
	return NULL;
}

/* link @it in @old's place; @old goes on @reap */
static void do_item_replace(struct xkv_store *st, struct xkv_stripe *sp,
			    u64 hv, struct xkv_item *old,
			    struct xkv_item *it, struct xkv_item **reap)
{
	__do_item_unlink(st, sp, hv, old);
	do_item_link(st, sp, hv, it);
	/* the key's slot, if it has one, now serves the new item */
	if (st->hot)
		do_hot_changed(st, it);
	do_item_reap(reap, old);
}

enum reclaim_res {
	RECLAIM_NONE,
	RECLAIM_DEAD,
	RECLAIM_EVICTED,
};

/* a guess made without the stripe lock, confirmed under it */
static bool item_dead_hint(struct xkv_store *st, struct xkv_item *it,
			   u64 now)
{
	u32 exp = OS_READ_ONCE(it->exptime);

	return OS_READ_ONCE(it->cas) < (u64)os_atomic64_read(&st->flush_cas) ||
	       (exp && exp <= now);
}

/*
 * With the class lock held, try to take a linked item out of the table
 * so its chunk can be reused. @live allows evicting items still alive;
 * without it only dead items go (the crawler). The stripe lock is only
 * tried: its holders may be waiting for this class lock.
 */
static enum reclaim_res do_item_reclaim(struct xkv_store *st,
					struct xkv_class *c,
					struct xkv_item *it, u64 now,
					bool live)
{
	enum reclaim_res res = RECLAIM_NONE;
	struct xkv_stripe *sp;
	u64 hv;

	hv = xkv_hash(xkv_item_key(it), it->nkey);
	sp = xkv_stripe_of(st, hv);
	if (!os_spin_trylock(&sp->lock))
		return RECLAIM_NONE;
	if (!(it->iflags & XKV_IT_LINKED))
		goto unlock;
	if (item_dead(st, it, now, NULL)) {
		res = RECLAIM_DEAD;
		if (!(it->iflags & XKV_IT_FETCHED))
			c->expired_unfetched++;
	} else if (live) {
		res = RECLAIM_EVICTED;
		c->evicted++;
		if (!(it->iflags & XKV_IT_FETCHED))
			c->evicted_unfetched++;
	} else {
		goto unlock;
	}
	do_item_unlink(st, sp, hv, it);
unlock:
	os_spin_unlock(&sp->lock);
	return res;
}

/* the clock: at most two turns, the second one without second chances */
static struct xkv_item *do_item_evict(struct xkv_store *st,
				      struct xkv_class *c)
{
	u64 n = do_slab_chunks(c), i;
	u64 now = xkv_store_now(st);

	for (i = 0; i < 2 * n; i++) {
		struct xkv_item *it;

		if (c->hand >= n)
			c->hand = 0;
		it = do_slab_chunk_at(c, c->hand++);
		if (!(OS_LOAD_ACQUIRE(it->iflags) & XKV_IT_LINKED))
			continue;
		if (i < n && OS_READ_ONCE(it->ref) &&
		    !item_dead_hint(st, it, now)) {
			OS_WRITE_ONCE(it->ref, 0);
			continue;
		}
		switch (do_item_reclaim(st, c, it, now, true)) {
		case RECLAIM_DEAD:
			c->reclaimed++;
			return it;
		case RECLAIM_EVICTED:
			return it;
		case RECLAIM_NONE:
			break;
		}
	}
	return NULL;
}

struct xkv_item *xkv_item_alloc(struct xkv_store *st, const char *key,
				size_t nkey, u32 flags, u32 exptime,
				u32 nbytes, int *err)
{
	size_t total = xkv_item_total((u32)nkey, nbytes);
	struct xkv_class *c;
	struct xkv_item *it;
	u32 id;

	if (nkey > XKV_KEY_MAX || total > st->set.item_size_max) {
		*err = -E2BIG;
		return NULL;
	}
	id = xkv_slab_class_for(st, total);
	if (id >= st->nclasses) {
		*err = -E2BIG;
		return NULL;
	}
	c = &st->cls[id];
	os_mutex_lock(&c->lock);
	it = do_slab_chunk_get(st, c);
	if (!it)
		it = do_item_evict(st, c);
	if (it)
		OS_WRITE_ONCE(it->iflags, 0);
	else
		c->outofmemory++;
	os_mutex_unlock(&c->lock);
	if (!it) {
		*err = -ENOMEM;
		return NULL;
	}
	it->h_next = NULL;
	it->cas = 0;
	it->exptime = exptime;
	it->flags = flags;
	it->nbytes = nbytes;
	it->nkey = (u8)nkey;
	it->clsid = (u8)id;
	it->ref = 0;
	it->atime = (u32)xkv_store_now(st);
	os_memcpy(xkv_item_key(it), key, nkey);
	return it;
}

/*
 * Lock stripe @sp (the caller unlocks it, then frees @reap) and find the
 * live item of @key there, after applying a pending flush_all: the item
 * or NULL.
 */
static struct xkv_item *item_find_locked(struct xkv_store *st,
					 struct xkv_stripe *sp, u64 hv,
					 const char *key, size_t nkey,
					 struct xkv_get_req *req,
					 struct xkv_item **reap)
{
	u64 now = xkv_store_now(st);

	if (req)
		req->now = now;
	xkv_flush_poll(st, now);
	os_spin_lock(&sp->lock);
	return do_item_find(st, sp, hv, key, nkey, now, req, reap);
}

static char *put_str(char *p, const char *s, size_t n)
{
	os_memcpy(p, s, n);
	return p + n;
}

/* the numbers of one "VALUE" line, printed once, sized, then copied */
struct value_line {
	char num[3][20];
	size_t nf, nb, nc;
};

/*
 * Print @it's flags, bytes and (@with_cas) CAS into @vl. Return the bytes
 * of the whole block: "VALUE " key " " flags " " bytes [" " cas] "\r\n"
 * data "\r\n", to the byte (a UDP reply budget is met exactly, as XDP
 * meets it).
 */
static size_t value_line_fmt(struct value_line *vl, const struct xkv_item *it,
			     size_t nkey, bool with_cas)
{
	vl->nf = xkv_fmt_u64(vl->num[0], it->flags);
	vl->nb = xkv_fmt_u64(vl->num[1], it->nbytes);
	vl->nc = with_cas ? xkv_fmt_u64(vl->num[2], it->cas) : 0;
	return 6 + nkey + 1 + vl->nf + 1 + vl->nb +
	       (vl->nc ? 1 + vl->nc : 0) + 2 + it->nbytes + 2;
}

/*
 * Mark @it read: the clock's reference bit is the LRU bump (a byte each,
 * no class lock).
 */
static void item_mark_read(struct xkv_item *it, u64 now)
{
	/* last access, memcached's la= / meta's l: written when it moves */
	if (it->atime != (u32)now)
		OS_WRITE_ONCE(it->atime, (u32)now);
	if (!(it->iflags & XKV_IT_FETCHED))
		OS_WRITE_ONCE(it->iflags, it->iflags | XKV_IT_FETCHED);
	if (!OS_READ_ONCE(it->ref))
		OS_WRITE_ONCE(it->ref, 1);
}

/* write @it's block at @p (item_mark_read() first); return the end */
static char *value_block_put(char *p, const struct value_line *vl,
			     const char *key, size_t nkey,
			     const struct xkv_item *it)
{
	p = put_str(p, "VALUE ", 6);
	p = put_str(p, key, nkey);
	*p++ = ' ';
	p = put_str(p, vl->num[0], vl->nf);
	*p++ = ' ';
	p = put_str(p, vl->num[1], vl->nb);
	if (vl->nc) {
		*p++ = ' ';
		p = put_str(p, vl->num[2], vl->nc);
	}
	p = put_str(p, "\r\n", 2);
	p = put_str(p, it->data + it->nkey, it->nbytes);
	return put_str(p, "\r\n", 2);
}

int xkv_item_read(struct xkv_store *st, const char *key, size_t nkey,
		  struct xkv_get_req *req, xkv_item_put_fn put, void *arg,
		  struct xkv_buf *out)
{
	u64 hv = xkv_hash(key, nkey);
	struct xkv_stripe *sp = xkv_stripe_of(st, hv);
	struct xkv_item *it, *reap = NULL;
	int ret = 1;
	size_t need;

	for (;;) {
		it = item_find_locked(st, sp, hv, key, nkey, req, &reap);
		if (!it) {
			ret = 0;
			goto unlock;
		}
		need = put(it, NULL, arg);
		if (xkv_buf_room(out, need))
			break;
		/* grow the buffer unlocked (it may sleep), look again */
		stripe_unlock_reap(st, sp, &reap);
		if (xkv_buf_reserve(out, need))
			return -ENOMEM;
	}
	if (req->touch)
		do_xkv_item_touch(st, it, req->exptime);
	/* a stale or won item is the store's to serve, never the hot tier's */
	if (st->hot && !(it->iflags & XKV_IT_NOT_HOT))
		do_hot_read(st, hv, it);
	item_mark_read(it, req->now);
	out->len += put(it, out->data + out->len, arg);
unlock:
	stripe_unlock_reap(st, sp, &reap);
	return ret;
}

struct value_put {
	struct value_line vl;
	const char *key;
	size_t nkey;
	bool with_cas;
};

static size_t value_put(const struct xkv_item *it, char *dst, void *arg)
{
	struct value_put *vp = arg;

	if (!dst)
		return value_line_fmt(&vp->vl, it, vp->nkey, vp->with_cas);
	return (size_t)(value_block_put(dst, &vp->vl, vp->key, vp->nkey, it) -
			dst);
}

int xkv_item_get(struct xkv_store *st, const char *key, size_t nkey,
		 struct xkv_get_req *req, struct xkv_buf *out)
{
	struct value_put vp = {
		.key = key, .nkey = nkey, .with_cas = req->with_cas,
	};

	return xkv_item_read(st, key, nkey, req, value_put, &vp, out);
}

enum xkv_res xkv_item_touch(struct xkv_store *st, const char *key,
			    size_t nkey, u32 exptime)
{
	u64 hv = xkv_hash(key, nkey);
	struct xkv_stripe *sp = xkv_stripe_of(st, hv);
	struct xkv_item *it, *reap = NULL;

	it = item_find_locked(st, sp, hv, key, nkey, NULL, &reap);
	if (it)
		do_xkv_item_touch(st, it, exptime);
	stripe_unlock_reap(st, sp, &reap);
	return it ? XKV_TOUCHED : XKV_NOT_FOUND;
}

static void flush_now(struct xkv_store *st)
{
	os_atomic64_set(&st->flush_cas, os_atomic64_read(&st->cas_next) + 1);
}

void xkv_flush_all(struct xkv_store *st, s64 delay)
{
	os_mutex_lock(&st->flush_lock);
	if (delay <= 0) {
		os_atomic64_set(&st->flush_at, 0);
		os_atomic64_set(&st->oldest, (s64)xkv_store_now(st) - 1);
		flush_now(st);
		xkv_hot_flush(st, 0);
	} else {
		/* like memcached, a delayed flush fires a second early */
		u64 at = xkv_exptime(st, delay) - 1;

		os_atomic64_set(&st->flush_at, (s64)at);
		os_atomic64_set(&st->oldest, (s64)at);
		xkv_hot_flush(st, at);
	}
	os_mutex_unlock(&st->flush_lock);
}

void xkv_flush_poll(struct xkv_store *st, u64 now)
{
	s64 at = os_atomic64_read(&st->flush_at);

	if (likely(!at || now < (u64)at))
		return;
	os_mutex_lock(&st->flush_lock);
	at = os_atomic64_read(&st->flush_at);
	if (at && now >= (u64)at) {
		flush_now(st);
		os_atomic64_set(&st->flush_at, 0);
		xkv_hot_flush(st, 0);
	}
	os_mutex_unlock(&st->flush_lock);
}

bool xkv_items_crawl(struct xkv_store *st)
{
	u64 now = xkv_store_now(st);
	struct xkv_class *c;
	bool found = false;
	u64 n, i;

	xkv_flush_poll(st, now);
	if (++st->crawl_class >= st->nclasses)
		st->crawl_class = 0;
	c = &st->cls[st->crawl_class];
	os_mutex_lock(&c->lock);
	n = do_slab_chunks(c);
	for (i = 0; i < n && i < XKV_CRAWL_SLICE; i++) {
		struct xkv_item *it;

		if (c->crawl >= n)
			c->crawl = 0;
		it = do_slab_chunk_at(c, c->crawl++);
		if (!(OS_LOAD_ACQUIRE(it->iflags) & XKV_IT_LINKED) ||
		    !item_dead_hint(st, it, now))
			continue;
		if (do_item_reclaim(st, c, it, now, false) != RECLAIM_DEAD)
			continue;
		c->crawler_reclaimed++;
		do_slab_chunk_put(c, it);
		found = true;
	}
	os_mutex_unlock(&c->lock);
	return found;
}

/* count one peek that answered (a length or -ENOENT), stripe locked */
static void do_peek_count(struct xkv_stripe *sp, bool hit, bool expired,
			  bool flushed, u64 bytes)
{
	struct xkv_peek_stats *ps = &sp->peek;

	if (hit)
		OS_WRITE_ONCE(ps->hits, ps->hits + 1);
	else
		OS_WRITE_ONCE(ps->misses, ps->misses + 1);
	if (expired)
		OS_WRITE_ONCE(ps->expired, ps->expired + 1);
	if (flushed)
		OS_WRITE_ONCE(ps->flushed, ps->flushed + 1);
	if (bytes)
		OS_WRITE_ONCE(ps->bytes, ps->bytes + bytes);
}

/*
 * Nothing here may sleep: no flush_lock (a delayed flush that is due is
 * treated as applied, which kills every item linked now), no class lock
 * (a dead item stays linked), and the stripe lock is only tried.
 */
int xkv_store_peek(struct xkv_store *st, const char *key, u32 nkey,
		   struct xkv_peek *pk, u8 *out, u32 cap)
{
	u64 now = xkv_store_now(st), hv;
	s64 at = os_atomic64_read(&st->flush_at);
	struct value_line vl;
	struct xkv_stripe *sp;
	struct xkv_item *it;
	bool flushed = false;
	size_t total;

	if (!nkey || nkey > XKV_KEY_MAX)
		return -EINVAL;
	/* the XDP store path knows no session: nothing with -S or -Y */
	if (xkv_store_auth(st))
		return -ENODEV;
	hv = xkv_hash(key, nkey);
	sp = xkv_stripe_of(st, hv);
	if (!os_spin_trylock(&sp->lock))
		return -EBUSY;
	it = do_assoc_find(st, sp, hv, key, nkey);
	if (it && ((at && now >= (u64)at) ||
		   item_dead(st, it, now, &flushed))) {
		flushed = flushed || (at && now >= (u64)at);
		do_peek_count(sp, false, !flushed, flushed, 0);
		it = NULL;
		goto miss;
	}
	if (!it) {
		do_peek_count(sp, false, false, false, 0);
		goto miss;
	}
	/* an mg of a stale item, or one whose token went out: meta.c's */
	if ((pk->flags & XKV_PEEK_META) && (it->iflags & XKV_IT_NOT_HOT)) {
		os_spin_unlock(&sp->lock);
		return -EAGAIN;
	}
	total = value_line_fmt(&vl, it, nkey, pk->flags & XKV_PEEK_CAS);
	if (total > cap) {
		os_spin_unlock(&sp->lock);
		return -ENOSPC;
	}
	item_mark_read(it, now);
	value_block_put((char *)out, &vl, key, nkey, it);
	pk->line = (u32)(total - it->nbytes - 4);
	pk->cas = it->cas;
	pk->state = it->iflags & XKV_IT_KEY_B64 ? XKV_PEEK_KEY_B64 : 0;
	if (!xkv_item_ttl(it, now, &pk->ttl))
		pk->state |= XKV_PEEK_TTL_NONE;
	/* a stale or won (meta) item never enters the hot tier while so */
	if ((pk->flags & XKV_PEEK_ADMIT) && st->hot &&
	    !(it->iflags & XKV_IT_NOT_HOT))
		do_hot_peeked(st, it);
	do_peek_count(sp, true, false, false, total);
	os_spin_unlock(&sp->lock);
	return (int)total;

miss:
	os_spin_unlock(&sp->lock);
	return -ENOENT;
}

/* ---- locked access: the meta protocol (meta.c), the writes (write.c) ---- */

struct xkv_item *xkv_item_lock(struct xkv_store *st, const char *key,
			       size_t nkey, struct xkv_locked *lk)
{
	struct xkv_get_req req = { 0 };
	struct xkv_item *it;

	lk->hv = xkv_hash(key, nkey);
	lk->sp = xkv_stripe_of(st, lk->hv);
	lk->reap = NULL;
	lk->linked = false;
	lk->now = xkv_store_now(st);
	it = item_find_locked(st, lk->sp, lk->hv, key, nkey, &req, &lk->reap);
	lk->expired = req.expired;
	lk->flushed = req.flushed;
	return it;
}

void xkv_item_unlock(struct xkv_store *st, struct xkv_locked *lk)
{
	stripe_unlock_reap(st, lk->sp, &lk->reap);
	if (lk->linked)
		xkv_assoc_maybe_grow(st, lk->sp);
}

void do_xkv_item_link(struct xkv_store *st, struct xkv_locked *lk,
		      struct xkv_item *old, struct xkv_item *it)
{
	if (old) {
		do_item_replace(st, lk->sp, lk->hv, old, it, &lk->reap);
	} else {
		do_item_link(st, lk->sp, lk->hv, it);
		lk->linked = true;
	}
	/* a stale value is the store's to serve, not the hot tier's */
	if (st->hot && (it->iflags & XKV_IT_NOT_HOT))
		do_hot_removed(st, it);
}

void do_xkv_item_unlink(struct xkv_store *st, struct xkv_locked *lk,
			struct xkv_item *it)
{
	do_item_unlink(st, lk->sp, lk->hv, it);
	do_item_reap(&lk->reap, it);
}

void do_xkv_item_changed(struct xkv_store *st, struct xkv_item *it)
{
	if (!st->hot)
		return;
	if (it->iflags & XKV_IT_NOT_HOT)
		do_hot_removed(st, it);
	else
		do_hot_changed(st, it);
}

void do_xkv_item_discard(struct xkv_locked *lk, struct xkv_item *it)
{
	do_item_reap(&lk->reap, it);
}

void do_xkv_item_touch(struct xkv_store *st, struct xkv_item *it,
		       u32 exptime)
{
	OS_WRITE_ONCE(it->exptime, exptime);
	do_xkv_item_changed(st, it);
}

void do_xkv_item_set_flags(struct xkv_item *it, u8 set, u8 clear)
{
	OS_WRITE_ONCE(it->iflags, (it->iflags | set) & ~clear);
}

void do_xkv_item_won(struct xkv_store *st, struct xkv_item *it)
{
	do_xkv_item_set_flags(it, XKV_IT_WON, 0);
	if (st->hot)
		do_hot_removed(st, it);
}

void do_xkv_item_invalidate(struct xkv_store *st, struct xkv_item *it)
{
	do_xkv_item_set_flags(it, XKV_IT_STALE, XKV_IT_WON);
	OS_WRITE_ONCE(it->cas, (u64)os_atomic64_inc_return(&st->cas_next));
	if (st->hot)
		do_hot_removed(st, it);
}

void do_xkv_item_bump(struct xkv_store *st, struct xkv_locked *lk,
		      struct xkv_item *it)
{
	do_xkv_item_set_flags(it, XKV_IT_FETCHED, 0);
	if (!OS_READ_ONCE(it->ref))
		OS_WRITE_ONCE(it->ref, 1);
	it->atime = (u32)lk->now;
	if (st->hot && !(it->iflags & XKV_IT_NOT_HOT))
		do_hot_read(st, lk->hv, it);
}

u64 do_xkv_item_new_cas(struct xkv_store *st, struct xkv_item *it)
{
	u64 cas = (u64)os_atomic64_inc_return(&st->cas_next);

	OS_WRITE_ONCE(it->cas, cas);
	return cas;
}
