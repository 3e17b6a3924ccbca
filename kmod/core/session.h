/* SPDX-License-Identifier: GPL-2.0 */
/*
 * session.h - one client's view of the text protocol.
 *
 * A transport (xkvd's epoll loop, the module's kthreads) owns the socket
 * and a read buffer. It hands the bytes it has to xkv_sess_input(), which
 * runs every complete command, appends the replies to the session's output
 * buffer and says how many input bytes it used. Unused bytes (a partial
 * command line) stay in the transport's buffer and come again, with more,
 * next time. Value bytes of a storage command are copied straight into the
 * new item, so a 1 MB value never sits in the read buffer.
 *
 * TCP: keep one session per connection. Stop reading while more than
 * XKV_SESS_OUT_HIGH bytes wait to be sent (back-pressure), and close the
 * connection once the output is flushed if xkv_sess_closing() says so.
 * xkv_sess_input() itself stops at a command boundary once more than
 * XKV_SESS_OUT_HIGH bytes of output are pending, and a multi-key get
 * stops between two keys (its line is left unused and resumes where it
 * stopped when offered again): when the output has drained, the
 * transport must offer the remaining bytes again even if no new bytes
 * arrived (they may hold complete commands). It also stops when the
 * connections' budget (budget.h) has no room for a reply, which
 * xkv_sess_stalled() reports. The read buffer
 * must be able to hold XKV_MULTIGET_LINE_MAX + 1 bytes of one line: the
 * session only calls a get line too long once it has seen more than that.
 * When the output buffer cannot grow (memory is short), the reply is
 * incomplete and the session marks itself closing.
 *
 * UDP: keep one session per worker; for every datagram call
 * xkv_sess_reset(), feed the payload after the 8-byte frame header in one
 * call (a UDP session never stops early), then split the output into
 * datagrams of at most XKV_UDP_PAYLOAD bytes each, frame header included.
 */
#ifndef XKV_CORE_SESSION_H
#define XKV_CORE_SESSION_H

#include "buf.h"
#include "store.h"

/* memcached closes a connection whose line has no '\n' after 2048 bytes */
#define XKV_LINE_MAX 2048
/* ... unless it is a get/gets, which may carry many keys, up to this */
#define XKV_MULTIGET_LINE_MAX (1024 * 1024)
/* stop reading from a client while this much output is pending */
#define XKV_SESS_OUT_HIGH (256 * 1024)
/* memcached's UDP datagram size, the 8-byte frame header included */
#define XKV_UDP_PAYLOAD 1400
#define XKV_UDP_HDR 8

struct xkv_sess;

/**
 * xkv_sess_new() - a session bound to a store.
 * @st:    store
 * @stats: the calling worker's counters slot
 * @udp:   true for a datagram session (no connection state kept)
 *
 * Return: the session, or NULL when memory is short.
 */
struct xkv_sess *xkv_sess_new(struct xkv_store *st,
			      struct xkv_thread_stats *stats, bool udp);

/**
 * xkv_sess_set_stats() - count into another worker's slot from now on.
 * @s:     session
 * @stats: the slot of the worker now serving the session
 *
 * For transports whose connections move between workers: a slot must
 * have a single writer, so point the session at the current worker's slot
 * before feeding it.
 */
void xkv_sess_set_stats(struct xkv_sess *s, struct xkv_thread_stats *stats);

/**
 * xkv_sess_free() - free a session and anything it holds.
 * @s: session, may be NULL
 */
void xkv_sess_free(struct xkv_sess *s);

/**
 * xkv_sess_input() - run the commands in @in.
 * @s:   session
 * @in:  bytes received and not yet consumed
 * @len: how many
 *
 * Return: how many bytes of @in were used. The rest is an incomplete
 * command line and must be offered again, followed by new bytes.
 */
size_t xkv_sess_input(struct xkv_sess *s, const char *in, size_t len);

/**
 * xkv_sess_out() - the session's output buffer.
 * @s: session
 *
 * Return: the buffer; the transport sends its pending bytes and marks them
 * with xkv_buf_consume().
 */
struct xkv_buf *xkv_sess_out(struct xkv_sess *s);

/**
 * xkv_sess_closing() - the connection must close once output is flushed.
 * @s: session
 *
 * Return: true after "quit", an overlong line, or a fatal error.
 */
bool xkv_sess_closing(const struct xkv_sess *s);

/**
 * xkv_sess_stalled() - the session stopped for want of budget.
 * @s: session
 *
 * Return: true when the last xkv_sess_input() stopped before a command or
 * a get's key because the connections' budget (budget.h) had no room for
 * its reply. Offer the rest again later, even if nothing new arrived and
 * nothing is pending: a stalled session's budget comes from others.
 */
bool xkv_sess_stalled(const struct xkv_sess *s);

/**
 * xkv_sess_binary() - what the session's first byte decided.
 * @s: session
 *
 * Return: 0 when it has read nothing yet, 1 for the text protocol, 2 for
 * binary (memcached negotiates once per connection).
 */
int xkv_sess_binary(const struct xkv_sess *s);

/**
 * xkv_sess_between() - is the session between two commands?
 * @s: session
 *
 * Return: true when the next byte it is given starts a command line: it is
 * not inside a storage command's value (nor swallowing a refused one's),
 * not part way through a get it paused, and not closing. With no input
 * left unconsumed, every command it was given has then run and has its
 * reply in the output buffer.
 */
bool xkv_sess_between(const struct xkv_sess *s);

/**
 * xkv_sess_set_addrs() - the connection's addresses, for "stats conns".
 * @s:     a TCP session
 * @peer:  the client's address, memcached's form ("tcp:1.2.3.4:5678",
 *         xkv_addr_str())
 * @local: the listener's address, same form
 */
void xkv_sess_set_addrs(struct xkv_sess *s, const char *peer,
			const char *local);

/**
 * xkv_sess_reset() - forget partial state (UDP: before each datagram).
 * @s: session
 *
 * Drops an unfinished value, clears the closing flag and the output.
 */
void xkv_sess_reset(struct xkv_sess *s);

#endif /* XKV_CORE_SESSION_H */
