/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inbuf.h - a stream transport's read buffer and when to feed it.
 *
 * Every TCP connection (xkvd's and xkv.ko's, through the pump of tcp.h)
 * keeps the bytes a session has not used yet, grows the buffer only while
 * one line is longer than it, shrinks it back afterwards, and offers a
 * declined partial line again only when that can change the session's
 * answer. The pump reads into xkv_inbuf_tail(), calls xkv_inbuf_added()
 * and xkv_inbuf_feed(); while @backlog is set it feeds again once its
 * output has drained, even without new bytes (see session.h).
 */
#ifndef XKV_CORE_INBUF_H
#define XKV_CORE_INBUF_H

#include "session.h"

/* first size of a connection's read buffer */
#define XKV_INBUF_INIT (16 * 1024)
/* the longest line a session may need to see, plus room to see it end */
#define XKV_INBUF_MAX (XKV_MULTIGET_LINE_MAX + XKV_LINE_MAX)

/**
 * struct xkv_inbuf - bytes received and not yet used by a session.
 * @data:    storage
 * @len:     bytes held
 * @cap:     size of @data
 * @stall:   @len when the session last declined a partial line; 0 if not
 * @backlog: @data may hold complete commands not yet offered
 * @budget:  charged for @cap past XKV_INBUF_INIT, NULL for none
 */
struct xkv_inbuf {
	char *data;
	size_t len;
	size_t cap;
	size_t stall;
	bool backlog;
	struct xkv_budget *budget;
};

/**
 * xkv_inbuf_init() - allocate an empty buffer of XKV_INBUF_INIT bytes.
 * @ib:     buffer
 * @budget: what growth past XKV_INBUF_INIT is taken from, or NULL
 *
 * Return: 0 or -ENOMEM.
 */
int xkv_inbuf_init(struct xkv_inbuf *ib, struct xkv_budget *budget);

/**
 * xkv_inbuf_release() - free the storage.
 * @ib: buffer
 */
void xkv_inbuf_release(struct xkv_inbuf *ib);

/**
 * xkv_inbuf_room() - make room to read into.
 * @ib: buffer
 *
 * Grows (doubling, up to XKV_INBUF_MAX) only when the buffer is full.
 *
 * Return: 0, -EMSGSIZE when a line would need more than XKV_INBUF_MAX,
 * -ENOBUFS when the budget refused the growth (stop reading and try again
 * later), or -ENOMEM.
 */
int xkv_inbuf_room(struct xkv_inbuf *ib);

/* where to read to, and how much fits there */
static inline char *xkv_inbuf_tail(struct xkv_inbuf *ib)
{
	return ib->data + ib->len;
}

static inline size_t xkv_inbuf_space(const struct xkv_inbuf *ib)
{
	return ib->cap - ib->len;
}

/* @n bytes were read into xkv_inbuf_tail() */
static inline void xkv_inbuf_added(struct xkv_inbuf *ib, size_t n)
{
	ib->len += n;
}

/**
 * xkv_inbuf_feed() - offer the buffered bytes to the session.
 * @ib: buffer
 * @s:  the connection's session
 *
 * Drops what the session used. What it left is a backlog (@backlog) when
 * it stopped for its output or its budget (xkv_sess_stalled(): offer it
 * again after a while, not at once), else a partial line that is offered
 * again only once it may be complete, has doubled, fills the buffer, or
 * has crossed a length where the session judges a line too long: a long
 * get line arriving in small segments is scanned a few times, not once per
 * segment.
 */
void xkv_inbuf_feed(struct xkv_inbuf *ib, struct xkv_sess *s);

#endif /* XKV_CORE_INBUF_H */
