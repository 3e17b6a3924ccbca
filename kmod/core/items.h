/* SPDX-License-Identifier: GPL-2.0 */
/*
 * items.h - items: allocation with eviction, linking, expiry, and the
 * operations behind every command. Each function here takes the locks it
 * needs (see store_int.h); none returns an item pointer that outlives them,
 * except xkv_item_alloc(), whose item belongs to the caller until it is
 * handed to xkv_item_store() or xkv_item_free(), and the locked access
 * below. The write commands (store, delete, incr/decr) are write.c's, one
 * implementation for the text, binary and meta protocols, built on that
 * locked access.
 */
#ifndef XKV_CORE_ITEMS_H
#define XKV_CORE_ITEMS_H

#include "buf.h"
#include "store_int.h"

/* memcached: relative expiry times above 30 days are absolute times */
#define XKV_REALTIME_MAXDELTA (60 * 60 * 24 * 30)

enum xkv_res {
	XKV_STORED,
	XKV_NOT_STORED,
	XKV_EXISTS,
	XKV_NOT_FOUND,
	XKV_DELETED,
	XKV_TOUCHED,
	XKV_NON_NUMERIC,
	XKV_TOO_LARGE,
	XKV_NO_MEMORY,
};

enum xkv_store_op {
	XKV_OP_SET,
	XKV_OP_ADD,
	XKV_OP_REPLACE,
	XKV_OP_APPEND,
	XKV_OP_PREPEND,
	XKV_OP_CAS,
};

/**
 * xkv_exptime() - turn a client's exptime into an absolute store time.
 * @st:      store
 * @exptime: 0 = never; negative = already expired; up to 30 days relative;
 *           above that an absolute Unix time
 *
 * Return: 0 for never, else the time at which the item is dead.
 */
u32 xkv_exptime(struct xkv_store *st, s64 exptime);

/**
 * xkv_item_alloc() - a new, unlinked item with room for its value.
 * @st:      store
 * @key:     key bytes (copied)
 * @nkey:    key length, at most XKV_KEY_MAX
 * @flags:   client flags
 * @exptime: from xkv_exptime()
 * @nbytes:  value length; the caller fills xkv_item_value()
 * @err:     -E2BIG when the item can never fit, -ENOMEM when nothing could
 *           be evicted
 *
 * Return: the item or NULL.
 */
struct xkv_item *xkv_item_alloc(struct xkv_store *st, const char *key,
				size_t nkey, u32 flags, u32 exptime,
				u32 nbytes, int *err);

/**
 * xkv_item_free() - give back an item that was never linked.
 * @st: store
 * @it: item from xkv_item_alloc()
 */
void xkv_item_free(struct xkv_store *st, struct xkv_item *it);

/**
 * xkv_item_store() - run a storage command with a filled item.
 * @st:      store
 * @it:      item from xkv_item_alloc(), consumed in every case
 * @op:      which command
 * @req_cas: the client's CAS value for XKV_OP_CAS
 *
 * Return: XKV_STORED, XKV_NOT_STORED, XKV_EXISTS, XKV_NOT_FOUND,
 * XKV_TOO_LARGE or XKV_NO_MEMORY (append/prepend).
 */
enum xkv_res xkv_item_store(struct xkv_store *st, struct xkv_item *it,
			    enum xkv_store_op op, u64 req_cas);

/**
 * xkv_item_store_cas() - xkv_item_store() with a CAS check on every op.
 * @st:      store
 * @it:      item from xkv_item_alloc(), consumed in every case
 * @op:      which command
 * @req_cas: 0, or the CAS value the key must have: as in memcached's
 *           binary protocol it turns set/add/replace into XKV_OP_CAS and
 *           makes append/prepend fail with XKV_EXISTS on a mismatch
 * @cas_out: out, may be NULL: the stored item's CAS on XKV_STORED
 *
 * Return: as xkv_item_store().
 */
enum xkv_res xkv_item_store_cas(struct xkv_store *st, struct xkv_item *it,
				enum xkv_store_op op, u64 req_cas,
				u64 *cas_out);

/**
 * struct xkv_store_req - a storage command, as every protocol asks it.
 * @op:      which command
 * @req_cas: XKV_OP_CAS: the CAS value the key must have (0 matches no
 *           item); append/prepend: 0 for any, else the CAS value the key
 *           must have (else XKV_EXISTS); ignored by set, add and replace
 * @stale:   XKV_OP_CAS (meta "I"): a nonzero @req_cas older than the
 *           item's stores too, as a stale value that keeps the item's TTL
 * @cas:     out: the stored item's CAS on XKV_STORED, else 0
 */
struct xkv_store_req {
	enum xkv_store_op op;
	u64 req_cas;
	bool stale;
	u64 cas;
};

/**
 * xkv_item_store_ex() - run a storage command: the one implementation
 * behind xkv_item_store(), xkv_item_store_cas() and meta's ms.
 * @st: store
 * @it: item from xkv_item_alloc(), consumed in every case
 * @r:  the command and its result
 *
 * Return: XKV_STORED, XKV_NOT_STORED, XKV_EXISTS, XKV_NOT_FOUND (cas on a
 * miss), XKV_TOO_LARGE or XKV_NO_MEMORY (append/prepend).
 */
enum xkv_res xkv_item_store_ex(struct xkv_store *st, struct xkv_item *it,
			       struct xkv_store_req *r);

/**
 * xkv_item_alloc_failed() - what every protocol does when a storage
 * command's item could not be allocated, before it answers.
 * @st:   store
 * @ts:   the worker's counters: store_too_large or store_no_memory
 * @key:  the command's key
 * @nkey: its length
 * @err:  xkv_item_alloc()'s error
 * @drop: delete the key, so its old value does not outlive the failed
 *        store (memcached: a text or binary set, and every ms)
 *
 * Return: true when the item can never fit (-E2BIG), false when it was
 * out of memory.
 */
bool xkv_item_alloc_failed(struct xkv_store *st, struct xkv_thread_stats *ts,
			   const char *key, size_t nkey, int err, bool drop);

/**
 * xkv_item_ttl() - the seconds an item has left, as mg's "t" says them.
 * @it:  the item (its stripe locked)
 * @now: the store's clock (xkv_store_now())
 * @ttl: out: memcached's 32-bit subtraction, exptime - now
 *
 * The one formula of meta.c's "t" and the XDP store path's
 * (xkv_store_peek()), so the two replies are the same bytes.
 * Return: false when the item never expires ("t-1").
 */
static inline bool xkv_item_ttl(const struct xkv_item *it, u64 now, u32 *ttl)
{
	if (!it->exptime)
		return false;
	*ttl = (u32)(it->exptime - (u32)now);
	return true;
}

/**
 * xkv_count_cas() - count a CAS-checked store's result in "stats".
 * @ts:  the worker's counters
 * @res: what xkv_item_store_cas() returned
 */
static inline void xkv_count_cas(struct xkv_thread_stats *ts,
				 enum xkv_res res)
{
	if (res == XKV_STORED)
		ts->cas_hits++;
	else if (res == XKV_EXISTS)
		ts->cas_badval++;
	else if (res == XKV_NOT_FOUND)
		ts->cas_misses++;
}

/**
 * struct xkv_get_req - how xkv_item_get() reads and what it reports.
 * @with_cas: append the CAS value to the VALUE line (gets, gats)
 * @touch:    set a new expiry time (gat, gats)
 * @exptime:  the new expiry, from xkv_exptime()
 * @expired:  out: the key was there but had expired
 * @flushed:  out: the key was there but a flush_all had removed it
 * @now:      out: the store time the lookup used
 */
struct xkv_get_req {
	bool with_cas;
	bool touch;
	u32 exptime;
	bool expired;
	bool flushed;
	u64 now;
};

/**
 * xkv_item_get() - append "VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n".
 * @st:   store
 * @key:  key bytes
 * @nkey: key length
 * @req:  options and results
 * @out:  reply buffer
 *
 * Return: 1 on a hit, 0 on a miss, -ENOMEM when @out could not grow.
 */
int xkv_item_get(struct xkv_store *st, const char *key, size_t nkey,
		 struct xkv_get_req *req, struct xkv_buf *out);

/**
 * typedef xkv_item_put_fn - format a hit for xkv_item_read().
 * @it:  the live item; its stripe lock is held: do not sleep
 * @dst: NULL to ask for the size, else where to write that many bytes
 * @arg: the caller's
 *
 * Return: bytes needed (@dst NULL) or written; the same for one item.
 */
typedef size_t (*xkv_item_put_fn)(const struct xkv_item *it, char *dst,
				  void *arg);

/**
 * xkv_item_read() - xkv_item_get() with the caller's reply format.
 * @st:   store
 * @key:  key bytes
 * @nkey: key length
 * @req:  options and results (@with_cas is the formatter's business)
 * @put:  formats a hit into @out; called twice or more under the lock
 * @arg:  for @put
 * @out:  reply buffer
 *
 * Touches (@req->touch), marks the item read and counts it in the hot
 * tier exactly as xkv_item_get() does.
 *
 * Return: 1 on a hit, 0 on a miss, -ENOMEM when @out could not grow.
 */
int xkv_item_read(struct xkv_store *st, const char *key, size_t nkey,
		  struct xkv_get_req *req, xkv_item_put_fn put, void *arg,
		  struct xkv_buf *out);

/**
 * xkv_item_delete_cas() - delete a key if its CAS matches.
 * @st:      store
 * @key:     key bytes
 * @nkey:    key length
 * @req_cas: 0 for any, else the CAS value the key must have
 *
 * Return: XKV_DELETED, XKV_NOT_FOUND or XKV_EXISTS (CAS mismatch).
 */
enum xkv_res xkv_item_delete_cas(struct xkv_store *st, const char *key,
				 size_t nkey, u64 req_cas);

/**
 * struct xkv_delete_req - a delete's conditions and kind.
 * @check_cas:  the key must have @req_cas (else XKV_EXISTS), even 0
 * @req_cas:    see @check_cas
 * @invalidate: mark the item stale instead (meta "md ... I"), see
 *              do_xkv_item_invalidate()
 * @new_ttl:    with @invalidate, set the expiry to @exptime too
 * @exptime:    from xkv_exptime()
 */
struct xkv_delete_req {
	bool check_cas;
	u64 req_cas;
	bool invalidate;
	bool new_ttl;
	u32 exptime;
};

/**
 * xkv_item_delete_ex() - delete a key: the one implementation behind
 * xkv_item_delete(), xkv_item_delete_cas() and meta's md.
 * @st:   store
 * @key:  key bytes
 * @nkey: key length
 * @r:    conditions and kind
 *
 * Return: XKV_DELETED (invalidated too), XKV_NOT_FOUND or XKV_EXISTS.
 */
enum xkv_res xkv_item_delete_ex(struct xkv_store *st, const char *key,
				size_t nkey, const struct xkv_delete_req *r);

/**
 * xkv_item_delete() - delete a key.
 * @st:   store
 * @key:  key bytes
 * @nkey: key length
 *
 * Return: XKV_DELETED or XKV_NOT_FOUND.
 */
enum xkv_res xkv_item_delete(struct xkv_store *st, const char *key,
			     size_t nkey);

/**
 * xkv_item_arith() - incr or decr a decimal value.
 * @st:    store
 * @key:   key bytes
 * @nkey:  key length
 * @incr:  true for incr (wraps at 2^64), false for decr (stops at 0)
 * @delta: amount
 * @res:   out: the new value in decimal, at least 21 bytes
 * @nres:  out: its length
 *
 * Return: XKV_STORED, XKV_NOT_FOUND, XKV_NON_NUMERIC or XKV_NO_MEMORY.
 */
enum xkv_res xkv_item_arith(struct xkv_store *st, const char *key,
			    size_t nkey, bool incr, u64 delta, char *res,
			    size_t *nres);

/**
 * struct xkv_arith_req - xkv_item_arith_ex()'s options and results.
 * @incr:    incr (wraps at 2^64) or decr (stops at 0)
 * @delta:   amount
 * @req_cas: 0, or the CAS value the key must have (else XKV_EXISTS)
 * @create:  on a miss, add @initial with @exptime and flags 0
 * @initial: the value to create
 * @exptime: for the created item, from xkv_exptime()
 * @value:   out: the new (or created) value
 * @cas:     out: its CAS
 * @created: out: the miss created the item
 * @found:   out: the key had a live item (at the last look)
 * @res:     out: @value in decimal, NUL-terminated
 * @nres:    out: its length
 */
struct xkv_arith_req {
	bool incr;
	u64 delta;
	u64 req_cas;
	bool create;
	u64 initial;
	u32 exptime;
	u64 value;
	u64 cas;
	bool created;
	bool found;
	char res[24];
	size_t nres;
};

/**
 * xkv_item_arith_ex() - incr or decr with CAS, initial value and expiry.
 * @st:   store
 * @key:  key bytes
 * @nkey: key length
 * @r:    options and results
 *
 * As memcached: an empty value is XKV_NON_NUMERIC before the CAS is
 * compared, a value that is not all digits after. A miss with @create
 * links the new item under the same lock as the look that missed.
 *
 * Return: XKV_STORED, XKV_NOT_FOUND, XKV_EXISTS, XKV_NON_NUMERIC or
 * XKV_NO_MEMORY.
 */
enum xkv_res xkv_item_arith_ex(struct xkv_store *st, const char *key,
			       size_t nkey, struct xkv_arith_req *r);

/**
 * xkv_count_arith() - count an incr/decr result in "stats".
 * @ts:   the worker's counters
 * @incr: incr or decr
 * @res:  what xkv_item_arith_ex() returned
 * @created: it created the item (neither a hit nor a miss)
 */
static inline void xkv_count_arith(struct xkv_thread_stats *ts, bool incr,
				   enum xkv_res res, bool created)
{
	if (res == XKV_STORED && !created) {
		if (incr)
			ts->incr_hits++;
		else
			ts->decr_hits++;
	} else if (res == XKV_NOT_FOUND) {
		if (incr)
			ts->incr_misses++;
		else
			ts->decr_misses++;
	}
}

/**
 * xkv_item_touch() - set a key's expiry time.
 * @st:      store
 * @key:     key bytes
 * @nkey:    key length
 * @exptime: from xkv_exptime()
 *
 * Return: XKV_TOUCHED or XKV_NOT_FOUND.
 */
enum xkv_res xkv_item_touch(struct xkv_store *st, const char *key,
			    size_t nkey, u32 exptime);

/**
 * xkv_flush_all() - kill every item, now or after a delay.
 * @st:    store
 * @delay: seconds (or an absolute time above 30 days); <= 0 means now
 */
void xkv_flush_all(struct xkv_store *st, s64 delay);

/**
 * xkv_flush_poll() - apply a delayed flush_all whose time has come.
 * @st:  store
 * @now: xkv_store_now()
 */
void xkv_flush_poll(struct xkv_store *st, u64 now);

/**
 * xkv_items_crawl() - reclaim a slice of dead items of one class.
 * @st: store
 *
 * Return: true when the slice found work (more may be pending).
 */
bool xkv_items_crawl(struct xkv_store *st);

/*
 * Locked access, for commands whose every step must happen under the
 * key's stripe lock (the meta protocol, meta.c, and every write,
 * write.c): xkv_item_lock() finds
 * the key and returns holding the lock, the do_xkv_*() calls change what
 * it found, xkv_item_unlock() releases it and frees what was unlinked.
 * Nothing between may sleep: allocate items before xkv_item_lock().
 * Every change goes through here so the hot slot follows it before the
 * client is answered.
 */

/**
 * struct xkv_locked - one held stripe lock and what it found.
 * @sp:      the key's stripe, locked
 * @hv:      the key's hash
 * @now:     xkv_store_now() when the lock was taken
 * @reap:    items unlinked under the lock, freed by xkv_item_unlock()
 * @linked:  a new key was linked (the stripe may need to grow)
 * @expired: the key was there but had expired (now unlinked)
 * @flushed: the key was there but a flush_all had killed it
 */
struct xkv_locked {
	struct xkv_stripe *sp;
	u64 hv;
	u64 now;
	struct xkv_item *reap;
	bool linked;
	bool expired;
	bool flushed;
};

/**
 * xkv_item_lock() - lock a key's stripe and find its live item.
 * @st:   store
 * @key:  key bytes
 * @nkey: key length
 * @lk:   filled in; pass to xkv_item_unlock() in every case
 *
 * Return: the item (valid until xkv_item_unlock()), or NULL.
 */
struct xkv_item *xkv_item_lock(struct xkv_store *st, const char *key,
			       size_t nkey, struct xkv_locked *lk);

/**
 * xkv_item_unlock() - release the lock xkv_item_lock() took.
 * @st: store
 * @lk: its state
 */
void xkv_item_unlock(struct xkv_store *st, struct xkv_locked *lk);

/**
 * do_xkv_item_link() - link a new item for the locked key.
 * @st:  store
 * @lk:  the lock
 * @old: the key's live item, which @it replaces, or NULL
 * @it:  item from xkv_item_alloc(), now the store's
 *
 * Gives @it a new CAS; the key's hot slot serves @it from now on, or
 * nothing when @it is stale.
 */
void do_xkv_item_link(struct xkv_store *st, struct xkv_locked *lk,
		      struct xkv_item *old, struct xkv_item *it);

/**
 * do_xkv_item_unlink() - delete the locked key's item.
 * @st: store
 * @lk: the lock
 * @it: the key's live item
 */
void do_xkv_item_unlink(struct xkv_store *st, struct xkv_locked *lk,
			struct xkv_item *it);

/**
 * do_xkv_item_changed() - a linked item's value, CAS or expiry changed.
 * @st: store
 * @it: the item, stripe locked
 */
void do_xkv_item_changed(struct xkv_store *st, struct xkv_item *it);

/**
 * do_xkv_item_discard() - free an item that was never linked once the
 * lock is released (a spare the command did not use).
 * @lk: the lock
 * @it: item from xkv_item_alloc()
 */
void do_xkv_item_discard(struct xkv_locked *lk, struct xkv_item *it);

/**
 * do_xkv_item_touch() - set a linked item's expiry; its hot slot follows.
 * @st:      store
 * @it:      the item, stripe locked
 * @exptime: from xkv_exptime()
 */
void do_xkv_item_touch(struct xkv_store *st, struct xkv_item *it,
		       u32 exptime);

/**
 * do_xkv_item_set_flags() - change an item's XKV_IT_* state bits.
 * @it:    item, stripe locked (or not yet linked)
 * @set:   bits to set
 * @clear: bits to clear
 */
void do_xkv_item_set_flags(struct xkv_item *it, u8 set, u8 clear);

/**
 * do_xkv_item_won() - a recache token (meta "W") goes out for @it.
 * @st: store
 * @it: the item, stripe locked
 *
 * Marks it XKV_IT_WON and clears the key's hot slot before the reply:
 * every later mg must say Z, which only the store does, so the item stays
 * out of the hot tier until it is replaced.
 */
void do_xkv_item_won(struct xkv_store *st, struct xkv_item *it);

/**
 * do_xkv_item_invalidate() - mark a linked item stale (meta "md ... I").
 * @st: store
 * @it: the item, stripe locked
 *
 * It stays linked and readable by the store, gets a new CAS, forgets
 * that a recache token was sent, and leaves the hot tier.
 */
void do_xkv_item_invalidate(struct xkv_store *st, struct xkv_item *it);

/**
 * do_xkv_item_bump() - a client read @it: fetched bit, clock bit, access
 * time, and the hot tier's admission (never for a stale or won item).
 * @st: store
 * @lk: the lock
 * @it: the item
 */
void do_xkv_item_bump(struct xkv_store *st, struct xkv_locked *lk,
		      struct xkv_item *it);

/**
 * do_xkv_item_new_cas() - give a linked item a new CAS value.
 * @st: store
 * @it: the item, stripe locked; the caller calls do_xkv_item_changed()
 *      once done changing it
 *
 * Return: the new CAS.
 */
u64 do_xkv_item_new_cas(struct xkv_store *st, struct xkv_item *it);

/**
 * xkv_item_arith_lock() - xkv_item_arith_ex(), returning with the key's
 * stripe lock held so the caller can read and change the item (meta's ma).
 * @st:   store
 * @key:  key bytes
 * @nkey: key length
 * @r:    options and results
 * @lk:   filled in; pass to xkv_item_unlock() in every case
 * @res:  out: as xkv_item_arith_ex() returns
 *
 * Return: the item holding the new value when *@res is XKV_STORED (valid
 * until xkv_item_unlock()), else NULL.
 */
struct xkv_item *xkv_item_arith_lock(struct xkv_store *st, const char *key,
				     size_t nkey, struct xkv_arith_req *r,
				     struct xkv_locked *lk, enum xkv_res *res);

#endif /* XKV_CORE_ITEMS_H */
