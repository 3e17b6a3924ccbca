// SPDX-License-Identifier: GPL-2.0
/*
 * inbuf.c - a stream transport's read buffer (see inbuf.h).
 */
#include "inbuf.h"

int xkv_inbuf_init(struct xkv_inbuf *ib, struct xkv_budget *budget)
{
	os_memset(ib, 0, sizeof(*ib));
	ib->budget = budget;
	ib->data = os_zalloc(XKV_INBUF_INIT);
	if (!ib->data)
		return -ENOMEM;
	ib->cap = XKV_INBUF_INIT;
	return 0;
}

/* what storage of @cap bytes takes from the budget */
static size_t charged(size_t cap)
{
	return cap > XKV_INBUF_INIT ? cap - XKV_INBUF_INIT : 0;
}

void xkv_inbuf_release(struct xkv_inbuf *ib)
{
	if (ib->budget)
		xkv_budget_give(ib->budget, charged(ib->cap), true);
	os_free(ib->data);
	ib->data = NULL;
	ib->len = 0;
	ib->cap = 0;
}

/*
 * A fresh allocation, not os_realloc(): the kernel's kvrealloc() keeps the
 * old, larger block when asked to shrink, and shrinking is the point.
 */
static int resize(struct xkv_inbuf *ib, size_t cap)
{
	size_t more = charged(cap) > charged(ib->cap) ?
			      charged(cap) - charged(ib->cap) : 0;
	char *p;

	if (ib->budget && !xkv_budget_take(ib->budget, more, true))
		return -ENOBUFS;
	p = os_zalloc(cap);
	if (!p) {
		if (ib->budget)
			xkv_budget_give(ib->budget, more, true);
		return -ENOMEM;
	}
	if (ib->budget && !more)
		xkv_budget_give(ib->budget, charged(ib->cap) - charged(cap),
				true);
	os_memcpy(p, ib->data, ib->len);
	os_free(ib->data);
	ib->data = p;
	ib->cap = cap;
	return 0;
}

int xkv_inbuf_room(struct xkv_inbuf *ib)
{
	if (ib->len < ib->cap)
		return 0;
	if (ib->cap >= XKV_INBUF_MAX)
		return -EMSGSIZE;
	return resize(ib, ib->cap * 2 < XKV_INBUF_MAX ? ib->cap * 2 :
						       XKV_INBUF_MAX);
}

/* drop @used bytes from the front, and a big buffer once not needed */
static void compact(struct xkv_inbuf *ib, size_t used)
{
	if (used) {
		ib->len -= used;
		os_memmove(ib->data, ib->data + used, ib->len);
	}
	if (ib->cap > XKV_INBUF_INIT && ib->len <= XKV_INBUF_INIT / 2)
		resize(ib, XKV_INBUF_INIT);
}

static bool crossed(size_t before, size_t now, size_t limit)
{
	return before <= limit && now > limit;
}

static bool partial_due(const struct xkv_inbuf *ib)
{
	size_t seen = ib->stall;

	if (!seen)
		return true;
	if (os_memchr(ib->data + seen, '\n', ib->len - seen))
		return true;
	return ib->len >= 2 * seen || ib->len == ib->cap ||
	       crossed(seen, ib->len, XKV_LINE_MAX) ||
	       crossed(seen, ib->len, XKV_MULTIGET_LINE_MAX);
}

void xkv_inbuf_feed(struct xkv_inbuf *ib, struct xkv_sess *s)
{
	size_t used;

	ib->backlog = false;
	if (!ib->len || !partial_due(ib))
		return;
	ib->stall = 0;
	used = xkv_sess_input(s, ib->data, ib->len);
	if (used > ib->len)
		used = ib->len;
	/* an incomplete reply (out->oom) closes the connection too */
	if (used < ib->len && !xkv_sess_closing(s) && !xkv_sess_out(s)->oom) {
		if (xkv_sess_stalled(s) ||
		    xkv_buf_pending(xkv_sess_out(s)) > XKV_SESS_OUT_HIGH)
			ib->backlog = true;
		else
			ib->stall = ib->len - used;
	}
	compact(ib, used);
}
