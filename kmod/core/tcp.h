/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcp.h - a TCP connection's pump, the same in xkvd and in xkv.ko.
 *
 * Bytes read are appended to the connection's read buffer (inbuf.h) and
 * offered to the session, which runs the complete commands and takes a
 * storage command's value bytes as they come. Once more than
 * XKV_SESS_OUT_HIGH bytes of output wait, the session stops between two
 * commands and the pump stops reading until the client has taken its
 * replies, so a pipeline of "get"s for big items cannot make the output
 * grow without bound. What the session left is a backlog offered again
 * once the output has drained, or a partial line kept for more bytes.
 *
 * Every buffer's growth comes from the server's budget (budget.h). When
 * the budget refuses, the connection is "stalled": it neither reads nor
 * feeds its session until the glue tries it again (every
 * XKV_BUDGET_RETRY_MS), while it keeps sending what it has.
 *
 * The TCP fast path (tcpfast.h, abi/xkv_tcp.h): XDP answers a GET on a
 * connection only once the backend has answered every byte before it.
 * So after each pump a connection with an entry that owes the client
 * nothing stores there, in one 64-bit release store and only when it
 * changed, how many request bytes it has read (all consumed and answered)
 * and how many reply bytes its socket has taken; that is after the sends
 * returned, never before.
 *
 * The glue owns the socket and says how to use it through struct
 * xkv_tcp_ops; it decides from what xkv_tcp_pump() leaves when to run it
 * again (epoll interest in xkvd, transport flags in xkv.ko), and closes
 * the connection when the pump says so or the socket failed.
 */
#ifndef XKV_CORE_TCP_H
#define XKV_CORE_TCP_H

#include "inbuf.h"
#include "session.h"
#include "tcpfast.h"

/* reads per pump; the glue runs the connection again after the others */
#define XKV_TCP_READ_BUDGET 8
/* what is read and dropped before closing, so the close is not a reset */
#define XKV_TCP_LINGER_DRAIN (64 * 1024)

struct xkv_tcp;

/**
 * struct xkv_tcp_ops - the socket calls of a glue; none may block.
 * @recv: read at most @len bytes into @buf: the count, 0 at the end of
 *        input, -EAGAIN when nothing waits, or -errno
 * @send: write at most @len bytes of @buf: the count, 0 or -EAGAIN when
 *        the socket has no room, or -errno
 * @shut: shut the sending side down
 */
struct xkv_tcp_ops {
	long (*recv)(struct xkv_tcp *t, void *buf, size_t len);
	long (*send)(struct xkv_tcp *t, const void *buf, size_t len);
	void (*shut)(struct xkv_tcp *t);
};

/**
 * struct xkv_tcp - one TCP client's protocol state, inside a glue's
 * connection.
 * @ops:     the glue's socket calls
 * @sess:    protocol session
 * @in:      bytes received and not yet used by the session
 * @eof:     the client closed its side; flush and close
 * @stalled: stopped for want of budget; written with OS_WRITE_ONCE() (a
 *           glue may look at it from another thread)
 * @more:    the last pump stopped at XKV_TCP_READ_BUDGET with input
 *           maybe waiting
 * @moved:   the last pump read or sent a byte (for the idle timeout)
 * @ans:     the connection's xkv_tcp_ans entry (tcpfast.h), NULL when
 *           the TCP fast path does not know it
 * @in_read: request bytes read from the socket, from the first (wraps)
 * @out_sent: reply bytes the socket took, from the first (wraps)
 * @done:    what @ans->done holds (xkv_tcp_ans_pack())
 * @hits:    @ans->hits when last looked at (xkv_tcp_fast_active())
 */
struct xkv_tcp {
	const struct xkv_tcp_ops *ops;
	struct xkv_sess *sess;
	struct xkv_inbuf in;
	bool eof;
	bool stalled;
	bool more;
	bool moved;
	struct xkv_tcp_ans *ans;
	u32 in_read;
	u32 out_sent;
	u64 done;
	u64 hits;
};

/* what xkv_tcp_pump() returns besides -errno */
enum xkv_tcp_state {
	XKV_TCP_OPEN,
	XKV_TCP_DONE_EOF,
	XKV_TCP_DONE_CLOSING,
};

/**
 * xkv_tcp_init() - an empty read buffer and a new session.
 * @t:     connection state, zeroed
 * @ops:   the glue's socket calls
 * @st:    store
 * @stats: the session's counters slot
 *
 * Return: 0 or -ENOMEM.
 */
int xkv_tcp_init(struct xkv_tcp *t, const struct xkv_tcp_ops *ops,
		 struct xkv_store *st, struct xkv_thread_stats *stats);

/**
 * xkv_tcp_release() - free the session and the read buffer.
 * @t: connection state
 *
 * Releases the fast path's entry too if it is still claimed, but a glue
 * must call xkv_tcp_fast_release() before it closes the socket.
 */
void xkv_tcp_release(struct xkv_tcp *t);

/**
 * xkv_tcp_pump() - move bytes both ways.
 * @t:        connection state
 * @stats:    counters of the calling worker (bytes read and written)
 * @readable: the socket may have input
 *
 * Sends, feeds and reads until the socket, the back-pressure limit, the
 * budget or XKV_TCP_READ_BUDGET stops it; sets @t->more and @t->moved.
 * Then, if the connection has a fast path entry and owes the client
 * nothing, publishes how far it has answered (xkv_tcp_fast_owes_nothing()).
 *
 * Return: XKV_TCP_OPEN, XKV_TCP_DONE_EOF or XKV_TCP_DONE_CLOSING when the
 * connection should close normally (after xkv_tcp_linger() for
 * XKV_TCP_DONE_CLOSING), or -errno when the socket failed.
 */
int xkv_tcp_pump(struct xkv_tcp *t, struct xkv_thread_stats *stats,
		 bool readable);

/**
 * xkv_tcp_closing() - the connection closes once its output is flushed.
 * @t: connection state
 *
 * Return: true when the session says so, or when a reply could not be
 * written whole (it would desynchronise the client).
 */
bool xkv_tcp_closing(const struct xkv_tcp *t);

/**
 * xkv_tcp_want_read() - may the next pump read?
 * @t: connection state, after xkv_tcp_pump()
 *
 * Return: false once the client closed its side, the connection is
 * closing or stalled, or too much output waits.
 */
bool xkv_tcp_want_read(const struct xkv_tcp *t);

/* bytes of output waiting for room in the socket */
static inline size_t xkv_tcp_out_pending(const struct xkv_tcp *t)
{
	return xkv_buf_pending(xkv_sess_out(t->sess));
}

/**
 * xkv_tcp_linger() - say we are done and drop the unread input.
 * @t: connection state
 *
 * Closing right after a command like "quit" with more input unread would
 * make the kernel send a reset, which can destroy the reply still in
 * flight: shut the sending side and drop up to XKV_TCP_LINGER_DRAIN bytes
 * already queued first.
 */
void xkv_tcp_linger(struct xkv_tcp *t);

/**
 * xkv_tcp_fast_claim() - register the connection with the TCP fast path.
 * @t:   connection state, nothing read or sent yet
 * @st:  store (counts a claim that found no free entry)
 * @tab: the mapped xkv_tcp_ans array
 * @key: the connection's addresses (xkv_tcp_ans_key())
 *
 * Return: true when an entry was claimed; false when none of the probed
 * entries was free: the connection is then served without the fast path.
 */
bool xkv_tcp_fast_claim(struct xkv_tcp *t, struct xkv_store *st,
			struct xkv_tcp_ans *tab, const struct xkv_tcp_ans *key);

/**
 * xkv_tcp_fast_release() - give the connection's entry back, if it has one.
 * @t: connection state
 *
 * Call it before the socket is closed: once closed, a new connection may
 * have the same addresses.
 */
void xkv_tcp_fast_release(struct xkv_tcp *t);

/**
 * xkv_tcp_fast_owes_nothing() - may @t publish now?
 * @t: connection state, after xkv_tcp_pump()
 *
 * True when every request byte read is consumed by the session (the read
 * buffer is empty: no partial line, no backlog), the session is between
 * two commands (not inside a storage command's value, nor a get it
 * paused), every reply byte is in the socket, the budget has not stalled
 * it, and it is neither closing nor at the end of its input. Then
 * @t->in_read request bytes are all answered, and their replies are the
 * @t->out_sent bytes written.
 *
 * Return: true if so.
 */
bool xkv_tcp_fast_owes_nothing(const struct xkv_tcp *t);

/**
 * xkv_tcp_fast_active() - did XDP answer on the connection since last asked?
 * @t: connection state
 *
 * Fast path hits are activity for the idle timeout.
 *
 * Return: true when the entry's hit count changed since the last call.
 */
bool xkv_tcp_fast_active(struct xkv_tcp *t);

#endif /* XKV_CORE_TCP_H */
