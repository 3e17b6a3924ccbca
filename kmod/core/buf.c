// SPDX-License-Identifier: GPL-2.0
/*
 * buf.c - growable reply buffer.
 */
#include "buf.h"

#define XKV_BUF_MIN 2048
#define XKV_BUF_KEEP (64 * 1024)

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
	p = os_realloc(b->data, b->cap, cap);
	if (!p) {
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
	if (b->cap > XKV_BUF_KEEP) {
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

void xkv_buf_release(struct xkv_buf *b)
{
	os_free(b->data);
	b->data = NULL;
	b->len = 0;
	b->off = 0;
	b->cap = 0;
	b->oom = false;
	b->over = false;
}
