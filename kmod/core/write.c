// SPDX-License-Identifier: GPL-2.0
/*
 * write.c - the write commands' semantics, once for every protocol.
 *
 * Store (set, add, replace, cas, append, prepend, meta's stale cas),
 * delete (with a CAS condition, or meta's invalidation) and incr/decr
 * (with a CAS condition, an initial value and its expiry) as memcached
 * 1.6 runs them. The text protocol (proto.c), the binary one (bin.c) and
 * the meta one (meta.c) all call these and differ only in how they ask
 * and how they answer.
 *
 * Everything here runs on the locked access of items.h: each change is a
 * do_xkv_*() call under the key's stripe lock, and those keep the key's
 * hot slot coherent, so a write has rewritten or cleared the slot before
 * any protocol acknowledges it.
 */
#include "items.h"
#include "util.h"

/*
 * The allocate-first retry of append/prepend and of incr/decr: the new
 * item's size is known only under the stripe lock, where nothing may be
 * allocated. Release @lk, swap the spare @*nit for one of @n value bytes
 * for @key, and let the caller lock and look again. Return 0, or
 * xkv_item_alloc()'s -errno with @*nit NULL and nothing locked.
 */
static int spare_swap(struct xkv_store *st, struct xkv_locked *lk,
		      struct xkv_item **nit, const char *key, size_t nkey,
		      u32 n)
{
	int err = 0;

	xkv_item_unlock(st, lk);
	if (*nit)
		xkv_item_free(st, *nit);
	*nit = xkv_item_alloc(st, key, nkey, 0, 0, n, &err);
	return *nit ? 0 : err;
}

/*
 * Append or prepend @it's value to @old's, in the spare @nit, which must
 * have the joined size. Return the result (enum xkv_res), or -EAGAIN with
 * *@need set to the size the spare must have first.
 */
static int do_concat(struct xkv_store *st, struct xkv_locked *lk,
			      struct xkv_item *old, struct xkv_item *it,
			      struct xkv_item *nit, struct xkv_store_req *r,
			      u32 *need)
{
	u64 n;
	char *v;

	if (!old)
		return XKV_NOT_STORED;
	if (r->req_cas && old->cas != r->req_cas)
		return XKV_EXISTS;
	n = (u64)old->nbytes + it->nbytes;
	if (n > st->set.item_size_max)
		return XKV_TOO_LARGE;
	if (!nit || nit->nbytes != n) {
		*need = (u32)n;
		return -EAGAIN;
	}
	nit->flags = old->flags;
	nit->exptime = old->exptime;
	v = xkv_item_value(nit);
	if (r->op == XKV_OP_APPEND) {
		os_memcpy(v, xkv_item_value(old), old->nbytes);
		os_memcpy(v + old->nbytes, xkv_item_value(it), it->nbytes);
	} else {
		os_memcpy(v, xkv_item_value(it), it->nbytes);
		os_memcpy(v + it->nbytes, xkv_item_value(old), old->nbytes);
	}
	do_xkv_item_link(st, lk, old, nit);
	r->cas = nit->cas;
	return XKV_STORED;
}

/* set, add, replace, cas: link @it or say why not */
static enum xkv_res do_store(struct xkv_store *st, struct xkv_locked *lk,
			     struct xkv_item *old, struct xkv_item *it,
			     struct xkv_store_req *r)
{
	switch (r->op) {
	case XKV_OP_ADD:
		if (old)
			return XKV_NOT_STORED;
		break;
	case XKV_OP_REPLACE:
		if (!old)
			return XKV_NOT_STORED;
		break;
	case XKV_OP_CAS:
		if (!old)
			return XKV_NOT_FOUND;
		if (old->cas == r->req_cas)
			break;
		if (!r->stale || !r->req_cas || r->req_cas > old->cas)
			return XKV_EXISTS;
		/* an older CAS stores a stale value that keeps the TTL */
		it->exptime = old->exptime;
		do_xkv_item_set_flags(it, XKV_IT_STALE |
				      (old->iflags & XKV_IT_WON), 0);
		break;
	default:
		break;
	}
	do_xkv_item_link(st, lk, old, it);
	r->cas = it->cas;
	return XKV_STORED;
}

enum xkv_res xkv_item_store_ex(struct xkv_store *st, struct xkv_item *it,
			       struct xkv_store_req *r)
{
	bool concat = r->op == XKV_OP_APPEND || r->op == XKV_OP_PREPEND;
	struct xkv_item *old, *nit = NULL;
	struct xkv_locked lk;
	int res, err;
	u32 need;

	r->cas = 0;
	for (;;) {
		old = xkv_item_lock(st, xkv_item_key(it), it->nkey, &lk);
		if (!concat) {
			res = do_store(st, &lk, old, it, r);
			break;
		}
		res = do_concat(st, &lk, old, it, nit, r, &need);
		if (res != -EAGAIN)
			break;
		err = spare_swap(st, &lk, &nit, xkv_item_key(it), it->nkey,
				 need);
		if (err) {
			xkv_item_free(st, it);
			return err == -E2BIG ? XKV_TOO_LARGE : XKV_NO_MEMORY;
		}
	}
	/* what was not linked is freed once the lock is released */
	if (concat || res != XKV_STORED)
		do_xkv_item_discard(&lk, it);
	if (nit && res != XKV_STORED)
		do_xkv_item_discard(&lk, nit);
	xkv_item_unlock(st, &lk);
	return (enum xkv_res)res;
}

enum xkv_res xkv_item_store_cas(struct xkv_store *st, struct xkv_item *it,
				enum xkv_store_op op, u64 req_cas,
				u64 *cas_out)
{
	struct xkv_store_req r = { .op = op, .req_cas = req_cas };
	enum xkv_res res;

	/* memcached: a CAS value turns set, add and replace into cas */
	if (req_cas && op != XKV_OP_APPEND && op != XKV_OP_PREPEND)
		r.op = XKV_OP_CAS;
	res = xkv_item_store_ex(st, it, &r);
	if (cas_out && res == XKV_STORED)
		*cas_out = r.cas;
	return res;
}

enum xkv_res xkv_item_store(struct xkv_store *st, struct xkv_item *it,
			    enum xkv_store_op op, u64 req_cas)
{
	return xkv_item_store_cas(st, it, op, op == XKV_OP_CAS ? req_cas : 0,
				  NULL);
}

bool xkv_item_alloc_failed(struct xkv_store *st, struct xkv_thread_stats *ts,
			   const char *key, size_t nkey, int err, bool drop)
{
	if (err == -E2BIG)
		ts->store_too_large++;
	else
		ts->store_no_memory++;
	/* a failed store must not leave the old value readable */
	if (drop)
		xkv_item_delete(st, key, nkey);
	return err == -E2BIG;
}

enum xkv_res xkv_item_delete_ex(struct xkv_store *st, const char *key,
				size_t nkey, const struct xkv_delete_req *r)
{
	struct xkv_locked lk;
	struct xkv_item *it = xkv_item_lock(st, key, nkey, &lk);
	enum xkv_res res = XKV_DELETED;

	if (!it) {
		res = XKV_NOT_FOUND;
	} else if (r->check_cas && it->cas != r->req_cas) {
		res = XKV_EXISTS;
	} else if (r->invalidate) {
		if (r->new_ttl)
			OS_WRITE_ONCE(it->exptime, r->exptime);
		do_xkv_item_invalidate(st, it);
	} else {
		do_xkv_item_unlink(st, &lk, it);
	}
	xkv_item_unlock(st, &lk);
	return res;
}

enum xkv_res xkv_item_delete_cas(struct xkv_store *st, const char *key,
				 size_t nkey, u64 req_cas)
{
	struct xkv_delete_req r = { .check_cas = !!req_cas,
				    .req_cas = req_cas };

	return xkv_item_delete_ex(st, key, nkey, &r);
}

enum xkv_res xkv_item_delete(struct xkv_store *st, const char *key,
			     size_t nkey)
{
	return xkv_item_delete_cas(st, key, nkey, 0);
}

/*
 * incr/decr on the locked key's item @it, or its creation when @it is
 * NULL, in place or in the spare @nit. Return the result (enum xkv_res;
 * *@itp is then the item that holds the new value), or -EAGAIN with
 * *@need set to the size the spare must have first.
 */
static int do_arith(struct xkv_store *st, struct xkv_locked *lk,
			     struct xkv_item **itp, struct xkv_item *nit,
			     struct xkv_arith_req *r, u32 *need)
{
	struct xkv_item *it = *itp;
	u64 v;

	if (!it && !r->create)
		return XKV_NOT_FOUND;
	if (it) {
		/* memcached's order: empty, then the CAS, then the digits */
		if (!it->nbytes)
			return XKV_NON_NUMERIC;
		if (r->req_cas && it->cas != r->req_cas)
			return XKV_EXISTS;
		if (!xkv_parse_u64(xkv_item_value(it), it->nbytes, &v))
			return XKV_NON_NUMERIC;
		if (r->incr)
			v += r->delta;
		else
			v = r->delta > v ? 0 : v - r->delta;
	} else {
		v = r->initial;
	}
	r->value = v;
	r->nres = xkv_fmt_u64(r->res, v);
	r->res[r->nres] = '\0';
	if (it && r->nres <= it->nbytes) {
		/* in place, padded with spaces like memcached */
		os_memcpy(xkv_item_value(it), r->res, r->nres);
		os_memset(xkv_item_value(it) + r->nres, ' ',
			  it->nbytes - r->nres);
		r->cas = do_xkv_item_new_cas(st, it);
		do_xkv_item_changed(st, it);
		return XKV_STORED;
	}
	if (!nit || nit->nbytes != r->nres) {
		*need = (u32)r->nres;
		return -EAGAIN;
	}
	os_memcpy(xkv_item_value(nit), r->res, r->nres);
	if (it) {
		nit->flags = it->flags;
		nit->exptime = it->exptime;
	} else {
		nit->exptime = r->exptime;
		r->created = true;
	}
	do_xkv_item_link(st, lk, it, nit);
	r->cas = nit->cas;
	*itp = nit;
	return XKV_STORED;
}

struct xkv_item *xkv_item_arith_lock(struct xkv_store *st, const char *key,
				     size_t nkey, struct xkv_arith_req *r,
				     struct xkv_locked *lk, enum xkv_res *res)
{
	struct xkv_item *it, *nit = NULL;
	u32 need;
	int ret;

	r->created = false;
	for (;;) {
		it = xkv_item_lock(st, key, nkey, lk);
		r->found = !!it;
		ret = do_arith(st, lk, &it, nit, r, &need);
		if (ret != -EAGAIN)
			break;
		if (spare_swap(st, lk, &nit, key, nkey, need)) {
			/* the contract: return holding the lock */
			xkv_item_lock(st, key, nkey, lk);
			*res = XKV_NO_MEMORY;
			return NULL;
		}
	}
	if (nit && it != nit)
		do_xkv_item_discard(lk, nit);
	*res = (enum xkv_res)ret;
	return *res == XKV_STORED ? it : NULL;
}

enum xkv_res xkv_item_arith_ex(struct xkv_store *st, const char *key,
			       size_t nkey, struct xkv_arith_req *r)
{
	struct xkv_locked lk;
	enum xkv_res res;

	xkv_item_arith_lock(st, key, nkey, r, &lk, &res);
	xkv_item_unlock(st, &lk);
	return res;
}

enum xkv_res xkv_item_arith(struct xkv_store *st, const char *key,
			    size_t nkey, bool incr, u64 delta, char *res,
			    size_t *nres)
{
	struct xkv_arith_req r = { .incr = incr, .delta = delta };
	enum xkv_res ret = xkv_item_arith_ex(st, key, nkey, &r);

	if (ret == XKV_STORED) {
		os_memcpy(res, r.res, r.nres + 1);
		*nres = r.nres;
	}
	return ret;
}
