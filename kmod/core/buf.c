// SPDX-License-Identifier: GPL-2.0
/*
 * buf.c - growable reply buffer.
 */
#include "buf.h"

#define XKV_BUF_KEEP (64 * 1024)

/* what storage of @cap bytes takes from a budget */
static size_t charged(size_t cap)
{
	return cap > XKV_BUF_MIN ? cap - XKV_BUF_MIN : 0;
}

/* take what growing from @b->cap to @cap needs from the budget */
static int charge(struct xkv_buf *b, size_t cap)
{
	size_t more = charged(cap) - charged(b->cap);

	if (!b->budget)
		return 0;
	if (!b->strict)
		xkv_budget_force(b->budget, more);
	else if (!xkv_budget_take(b->budget, more, false))
		return -ENOBUFS;
	return 0;
}

static void uncharge(struct xkv_buf *b, size_t from, size_t to)
{
	if (b->budget)
		xkv_budget_give(b->budget, charged(from) - charged(to), false);
}

int xkv_buf_reserve(struct xkv_buf *b, size_t n)
{
	size_t need = b->len + n;
	size_t cap;
	char *p;

	if (unlikely(need < b->len || (b->limit && need > b->limit))) {
		b->over = true;
		b->oom = true;
		return -ENOMEM;
	}
	if (likely(need <= b->cap))
		return 0;
	cap = b->cap ? b->cap : XKV_BUF_MIN;
	while (cap < need)
		cap *= 2;
	if (b->limit && cap > b->limit)
		cap = b->limit;
	if (charge(b, cap))
		return -ENOBUFS;
	p = os_realloc(b->data, b->cap, cap);
	if (!p) {
		uncharge(b, cap, b->cap);
		b->oom = true;
		return -ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int xkv_buf_add(struct xkv_buf *b, const void *p, size_t n)
{
	if (xkv_buf_reserve(b, n))
		return -ENOMEM;
	os_memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int xkv_buf_str(struct xkv_buf *b, const char *s)
{
	return xkv_buf_add(b, s, os_strlen(s));
}

void xkv_buf_reset(struct xkv_buf *b)
{
	b->len = 0;
	b->off = 0;
	b->oom = false;
	b->over = false;
	/* a budget's storage goes back at once: idle clients keep none */
	if (b->cap > (b->budget ? XKV_BUF_MIN : XKV_BUF_KEEP)) {
		uncharge(b, b->cap, 0);
		os_free(b->data);
		b->data = NULL;
		b->cap = 0;
	}
}

void xkv_buf_consume(struct xkv_buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		xkv_buf_reset(b);
}

void xkv_buf_compact(struct xkv_buf *b)
{
	if (!b->off)
		return;
	b->len -= b->off;
	os_memmove(b->data, b->data + b->off, b->len);
	b->off = 0;
}

void xkv_buf_release(struct xkv_buf *b)
{
	uncharge(b, b->cap, 0);
	os_free(b->data);
	b->data = NULL;
	b->len = 0;
	b->off = 0;
	b->cap = 0;
	b->oom = false;
	b->over = false;
}
