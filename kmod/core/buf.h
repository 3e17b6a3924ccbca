/* SPDX-License-Identifier: GPL-2.0 */
/*
 * buf.h - a growable byte buffer for replies.
 */
#ifndef XKV_CORE_BUF_H
#define XKV_CORE_BUF_H

#include "budget.h"

/* first size of a buffer, and what one charged to a budget keeps free */
#define XKV_BUF_MIN 2048

/**
 * struct xkv_buf - bytes waiting to be sent.
 * @data: storage
 * @len:  bytes stored
 * @off:  bytes already sent; data[off..len) is pending
 * @cap:  size of @data
 * @limit: most bytes @len may reach, 0 for no limit; an append past it
 *        fails without allocating anything (see xkv_buf_set_limit())
 * @oom:  an append failed; the reply is incomplete
 * @over: an append failed because of @limit; unlike @oom this stays set
 *        until the buffer is reset, whatever the caller does with @oom
 * @budget: charged for @cap past XKV_BUF_MIN, NULL for none (a TCP
 *        connection's replies; see budget.h and xkv_buf_set_budget())
 * @strict: growth the budget refuses fails with -ENOBUFS (@oom stays
 *        clear); when false it is taken past the limit
 */
struct xkv_buf {
	char *data;
	size_t len;
	size_t off;
	size_t cap;
	size_t limit;
	bool oom;
	bool over;
	struct xkv_budget *budget;
	bool strict;
};

/**
 * xkv_buf_set_budget() - charge the buffer's growth to a budget.
 * @b:      empty buffer
 * @budget: budget, or NULL
 *
 * Storage past XKV_BUF_MIN is charged while held, and given back as soon
 * as everything is sent.
 */
static inline void xkv_buf_set_budget(struct xkv_buf *b,
				      struct xkv_budget *budget)
{
	b->budget = budget;
}

/**
 * xkv_buf_set_limit() - bound what the buffer may hold.
 * @b:     buffer
 * @limit: most bytes @len may reach from now on, 0 for no limit
 *
 * Storage never grows past @limit, so the memory a client can make the
 * buffer take is bounded before any reply is built. The limit survives
 * xkv_buf_reset() and xkv_buf_consume().
 */
static inline void xkv_buf_set_limit(struct xkv_buf *b, size_t limit)
{
	b->limit = limit;
}

/**
 * xkv_buf_reserve() - make room for @n more bytes.
 * @b: buffer
 * @n: bytes needed after @len
 *
 * Return: 0, or -ENOMEM (and @oom is set; @over too when the limit
 * refused it), or -ENOBUFS when @strict and the budget refused it.
 */
int xkv_buf_reserve(struct xkv_buf *b, size_t n);

/**
 * xkv_buf_room() - would xkv_buf_reserve(@b, @n) succeed without growing?
 * @b: buffer
 * @n: bytes needed after @len
 *
 * Return: true when @n more bytes fit the storage and the limit as they
 * are: the caller may then write them where nothing may sleep.
 */
static inline bool xkv_buf_room(const struct xkv_buf *b, size_t n)
{
	size_t need = b->len + n;

	return need >= b->len && need <= b->cap &&
	       (!b->limit || need <= b->limit);
}

/**
 * xkv_buf_compact() - move the pending bytes to the front.
 * @b: buffer
 *
 * Bytes already sent then take no room. Offsets into @data kept by the
 * caller are invalid afterwards.
 */
void xkv_buf_compact(struct xkv_buf *b);

/**
 * xkv_buf_add() - append bytes.
 * @b: buffer
 * @p: bytes
 * @n: how many
 *
 * Return: 0, or -ENOMEM.
 */
int xkv_buf_add(struct xkv_buf *b, const void *p, size_t n);

/**
 * xkv_buf_str() - append a NUL-terminated string.
 * @b: buffer
 * @s: string
 *
 * Return: 0, or -ENOMEM.
 */
int xkv_buf_str(struct xkv_buf *b, const char *s);

/**
 * xkv_buf_pending() - bytes not yet sent.
 * @b: buffer
 *
 * Return: @len - @off.
 */
static inline size_t xkv_buf_pending(const struct xkv_buf *b)
{
	return b->len - b->off;
}

/**
 * xkv_buf_consume() - mark @n pending bytes as sent.
 * @b: buffer
 * @n: bytes sent
 *
 * When everything is sent the buffer is rewound to empty, and storage over
 * 64 KiB is given back.
 */
void xkv_buf_consume(struct xkv_buf *b, size_t n);

/**
 * xkv_buf_reset() - drop all contents, keep small storage.
 * @b: buffer
 *
 * Clears @oom and @over; the limit stays.
 */
void xkv_buf_reset(struct xkv_buf *b);

/**
 * xkv_buf_release() - free the storage.
 * @b: buffer
 */
void xkv_buf_release(struct xkv_buf *b);

#endif /* XKV_CORE_BUF_H */
