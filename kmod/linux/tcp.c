// SPDX-License-Identifier: GPL-2.0
/*
 * tcp.c - TCP: accepting connections and driving their sessions.
 *
 * The listener is a transport like any other: its data_ready queues it,
 * and the worker that takes it accepts up to a budget of connections, so
 * that a burst of new clients does not starve the existing ones.
 *
 * A connection behaves as in xkvd (kmod/user/tcp.c). Bytes read are
 * appended to the read buffer and offered to the session, which runs the
 * complete commands and takes a storage command's value bytes as they
 * come. Once more than XKV_SESS_OUT_HIGH bytes of output wait, the session
 * stops between two commands and the worker stops reading (THROTTLED) until
 * the socket has room again (WSPACE) and the client has taken its replies.
 * What the session left is a backlog offered again once the output has
 * drained, or a partial line kept for more bytes. The read buffer grows
 * for long multi-key "get" lines up to XKV_INBUF_MAX and shrinks back.
 *
 * Buffers grow only with the server's budget (kmod/core/budget.h). A
 * connection the budget stopped ("stalled") neither reads nor feeds its
 * session; the maintenance thread queues it again every
 * XKV_BUDGET_RETRY_MS (xkvm_conns_tick()).
 *
 * A connection closes after its output is flushed when the session says
 * so (quit, an overlong line, a fatal error) or the client closed its
 * side; at once on a socket error; and with idle_timeout=N once no byte
 * came or went for N seconds.
 */
#include "xkvm.h"

#include <net/sock.h>
#include <net/tcp.h>

/* connections accepted per turn */
#define XKVM_ACCEPT_BUDGET 16
/* reads per turn of a connection; it is queued again after that */
#define XKVM_READ_BUDGET 8
/* how long to stop accepting after running out of memory */
#define XKVM_ACCEPT_PAUSE_MS 100
/* what is read and dropped before closing, so the close is not a reset */
#define XKVM_LINGER_DRAIN (64 * 1024)

enum xkvm_conn_state {
	XKVM_CONN_OPEN,
	XKVM_CONN_DONE_EOF,
	XKVM_CONN_DONE_CLOSING,
};

static const char xkvm_too_many[] = "ERROR Too many open connections\r\n";

static void xkvm_conn_process(struct xkvm_worker *w, struct xkvm_xprt *x);
static void xkvm_conn_free(struct xkvm_xprt *x);

static const struct xkvm_xprt_ops xkvm_conn_ops = {
	.name = "tcp",
	.process = xkvm_conn_process,
	.free = xkvm_conn_free,
};

static struct xkvm_conn *xkvm_conn_of(struct xkvm_xprt *x)
{
	return container_of(x, struct xkvm_conn, xprt);
}

static bool xkvm_conn_closing(struct xkvm_conn *c)
{
	/* an incomplete reply would desynchronise the client: close too */
	return xkv_sess_closing(c->sess) || xkv_sess_out(c->sess)->oom;
}

static void xkvm_conn_free(struct xkvm_xprt *x)
{
	struct xkvm_conn *c = xkvm_conn_of(x);
	struct xkvm_server *srv = x->srv;

	WARN_ON_ONCE(x->sock || c->listed);
	xkv_sess_free(c->sess);
	xkv_inbuf_release(&c->in);
	xkv_store_conn_closed(srv->st);
	kmem_cache_free(srv->conn_cache, c);
	if (atomic_dec_and_test(&srv->nconns))
		wake_up(&srv->conns_wq);
}

/*
 * Closing right after a command like "quit" with more input unread would
 * make the kernel send a reset, which can destroy the reply still in
 * flight. Say we are done and drop what is already queued first.
 */
static void xkvm_conn_linger(struct xkvm_conn *c)
{
	struct socket *sock = c->xprt.sock;
	size_t total = 0;
	char sink[256];
	int n;

	kernel_sock_shutdown(sock, SHUT_WR);
	while (total < XKVM_LINGER_DRAIN) {
		struct kvec iov = { .iov_base = sink, .iov_len = sizeof(sink) };
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

		n = kernel_recvmsg(sock, &msg, &iov, 1, sizeof(sink),
				   MSG_DONTWAIT);
		if (n <= 0)
			break;
		total += n;
	}
}

/*
 * Close a connection: no callback reaches it after this, its socket is
 * gone and the server forgets it. The caller still holds a reference;
 * the last one frees the connection.
 */
static void xkvm_conn_close(struct xkvm_conn *c, const char *why, int err)
{
	struct xkvm_server *srv = c->xprt.srv;
	bool listed;

	set_bit(XKVM_XF_DEAD, &c->xprt.flags);
	xkvm_sock_detach(&c->xprt);
	if (xkvm_verbose(srv) >= 2)
		pr_info_ratelimited("%pISpc closed: %s (%d)\n", &c->peer, why,
				    err);
	xkvm_sock_release(&c->xprt);

	spin_lock(&srv->conns_lock);
	listed = c->listed;
	if (listed) {
		list_del_init(&c->node);
		c->listed = false;
	}
	spin_unlock(&srv->conns_lock);
	/* the reference the server's list held */
	if (listed)
		xkvm_xprt_put(&c->xprt);
}

/* Send what the session has for the client, as much as the socket takes. */
static int xkvm_conn_flush(struct xkvm_conn *c, struct xkvm_worker *w)
{
	struct xkv_buf *out = xkv_sess_out(c->sess);
	int n;

	while (xkv_buf_pending(out)) {
		struct kvec iov = {
			.iov_base = out->data + out->off,
			.iov_len = xkv_buf_pending(out),
		};
		struct msghdr msg = {
			.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL,
		};

		n = kernel_sendmsg(c->xprt.sock, &msg, &iov, 1, iov.iov_len);
		if (n == -EAGAIN || !n)
			return 0;
		if (n < 0)
			return n;
		w->stats->bytes_written += n;
		c->active = jiffies;
		xkv_buf_consume(out, n);
	}
	return 0;
}

/* Offer buffered input to the session (kmod/core/inbuf.h). */
static void xkvm_conn_feed(struct xkvm_conn *c, struct xkvm_worker *w)
{
	/* a stats slot has one writer: the worker serving us right now */
	xkv_sess_set_stats(c->sess, w->stats);
	xkv_inbuf_feed(&c->in, c->sess);
	WRITE_ONCE(c->stalled, xkv_sess_stalled(c->sess));
}

/* Read what the socket has into the free end of the read buffer. */
static int xkvm_conn_read(struct xkvm_conn *c)
{
	struct kvec iov = {
		.iov_base = xkv_inbuf_tail(&c->in),
		.iov_len = xkv_inbuf_space(&c->in),
	};
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

	return kernel_recvmsg(c->xprt.sock, &msg, &iov, 1, iov.iov_len,
			      MSG_DONTWAIT);
}

/*
 * Move bytes both ways until the socket, the back-pressure limit or the
 * read budget stops us. Return: XKVM_CONN_OPEN, XKVM_CONN_DONE_* when the
 * connection should close normally, or -errno.
 */
static int xkvm_conn_pump(struct xkvm_conn *c, struct xkvm_worker *w)
{
	struct xkvm_xprt *x = &c->xprt;
	struct xkv_buf *out = xkv_sess_out(c->sess);
	int err, reads = 0, n;
	bool no_read;

	for (;;) {
		err = xkvm_conn_flush(c, w);
		if (err)
			return err;
		if (xkv_buf_pending(out) > XKV_SESS_OUT_HIGH)
			break;
		if (c->in.backlog) {
			if (c->stalled)
				break;
			xkvm_conn_feed(c, w);
			continue;
		}
		if (xkvm_conn_closing(c) || c->eof || c->stalled)
			break;
		if (reads >= XKVM_READ_BUDGET) {
			/* more may be waiting: come back after the others */
			set_bit(XKVM_XF_DATA, &x->flags);
			break;
		}
		err = xkv_inbuf_room(&c->in);
		if (err == -ENOBUFS) {
			WRITE_ONCE(c->stalled, true);
			break;
		}
		if (err)
			return err;

		xkvm_xprt_clear(x, XKVM_XF_DATA);
		n = xkvm_conn_read(c);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return n;
		reads++;
		if (!n) {
			c->eof = true;
			continue;
		}
		w->stats->bytes_read += n;
		c->active = jiffies;
		xkv_inbuf_added(&c->in, n);
		xkvm_conn_feed(c, w);
	}

	if (!xkv_buf_pending(out)) {
		if (xkvm_conn_closing(c))
			return XKVM_CONN_DONE_CLOSING;
		if (c->eof && !c->in.backlog)
			return XKVM_CONN_DONE_EOF;
	}
	/* wait for room to send; read meanwhile only below the limit */
	no_read = c->eof || xkvm_conn_closing(c) || c->stalled ||
		  xkv_buf_pending(out) > XKV_SESS_OUT_HIGH;
	if (c->stalled)
		atomic_inc(&x->srv->nstalled);
	assign_bit(XKVM_XF_OUTPEND, &x->flags, xkv_buf_pending(out) > 0);
	assign_bit(XKVM_XF_THROTTLED, &x->flags, no_read);
	return XKVM_CONN_OPEN;
}

/* Has no byte come or gone for idle_timeout seconds (if set)? */
static bool xkvm_conn_idle(struct xkvm_conn *c)
{
	u32 idle = c->xprt.srv->set.idle_timeout;

	return idle && time_after_eq(jiffies, READ_ONCE(c->active) +
						      (unsigned long)idle * HZ);
}

static void xkvm_conn_process(struct xkvm_worker *w, struct xkvm_xprt *x)
{
	struct xkvm_conn *c = xkvm_conn_of(x);
	int ret;

	if (test_bit(XKVM_XF_DEAD, &x->flags))
		goto out;
	xkvm_xprt_clear(x, XKVM_XF_WSPACE);
	xkvm_xprt_clear(x, XKVM_XF_CHANGE);
	/* whatever brought us here, try the budget again */
	WRITE_ONCE(c->stalled, false);

	ret = xkvm_conn_pump(c, w);
	if (ret == XKVM_CONN_OPEN && xkvm_conn_idle(c))
		ret = -ETIMEDOUT;
	switch (ret) {
	case XKVM_CONN_OPEN:
		break;
	case XKVM_CONN_DONE_EOF:
		xkvm_conn_close(c, "end of input", 0);
		break;
	case XKVM_CONN_DONE_CLOSING:
		xkvm_conn_linger(c);
		xkvm_conn_close(c, "closed by the session", 0);
		break;
	case -ETIMEDOUT:
		xkvm_conn_close(c, "idle timeout", 0);
		break;
	default:
		xkvm_conn_close(c, "socket error", ret);
		break;
	}
out:
	xkvm_xprt_received(x);
}

/*
 * Make a connection of an accepted socket, put it on the server's list and
 * queue it: bytes may have arrived before its callbacks were attached.
 */
static int xkvm_conn_new(struct xkvm_server *srv, struct socket *sock)
{
	struct xkvm_conn *c;
	int err = -ENOMEM;

	c = kmem_cache_zalloc(srv->conn_cache, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	xkvm_xprt_init(&c->xprt, srv, &xkvm_conn_ops, sock);
	INIT_LIST_HEAD(&c->node);
	c->active = jiffies;
	if (xkv_inbuf_init(&c->in, xkv_store_budget(srv->st)))
		goto free_conn;
	/* xkvm_conn_feed() points it at the serving worker's slot */
	c->sess = xkv_sess_new(srv->st, xkv_store_stats_slot(srv->st, 0),
			       false);
	if (!c->sess)
		goto free_inbuf;
	kernel_getpeername(sock, (struct sockaddr *)&c->peer);

	/* replies are written whole; do not hold their tails back */
	tcp_sock_set_nodelay(sock->sk);

	spin_lock(&srv->conns_lock);
	if (srv->stopping) {
		spin_unlock(&srv->conns_lock);
		err = -ESHUTDOWN;
		goto free_sess;
	}
	list_add(&c->node, &srv->conns);
	c->listed = true;
	atomic_inc(&srv->nconns);
	spin_unlock(&srv->conns_lock);

	if (xkvm_verbose(srv) >= 2)
		pr_info_ratelimited("%pISpc connected\n", &c->peer);
	xkvm_sock_attach(&c->xprt, true, srv->listen.old_data_ready);
	xkvm_xprt_kick(&c->xprt, XKVM_XF_DATA);
	return 0;

free_sess:
	xkv_sess_free(c->sess);
free_inbuf:
	xkv_inbuf_release(&c->in);
free_conn:
	kmem_cache_free(srv->conn_cache, c);
	return err;
}

/* Over the connection limit: say so as memcached does, and hang up. */
static void xkvm_conn_refuse(struct xkvm_worker *w, struct socket *sock)
{
	struct xkvm_server *srv = w->srv;
	struct kvec iov = {
		.iov_base = (void *)xkvm_too_many,
		.iov_len = sizeof(xkvm_too_many) - 1,
	};
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	int n;

	n = kernel_sendmsg(sock, &msg, &iov, 1, iov.iov_len);
	if (n > 0)
		w->stats->bytes_written += n;
	xkv_store_conn_rejected(srv->st);
	if (xkvm_verbose(srv) >= 2)
		pr_info_ratelimited("connection refused: limit\n");
}

static void xkvm_listen_process(struct xkvm_worker *w, struct xkvm_xprt *x)
{
	struct xkvm_server *srv = w->srv;
	struct socket *sock;
	unsigned long retry;
	int i, err;

	xkvm_xprt_clear(x, XKVM_XF_DATA);
	for (i = 0; i < XKVM_ACCEPT_BUDGET; i++) {
		if (READ_ONCE(srv->stopping) || !x->sock)
			break;
		err = kernel_accept(x->sock, &sock, O_NONBLOCK);
		if (err == -EAGAIN)
			break;
		if (err == -ENOMEM || err == -ENFILE || err == -ENOBUFS) {
			/* the backlog waits; the maintenance thread retries */
			pr_warn_ratelimited("accept: %d; pausing\n", err);
			/* | 1: zero means no retry pending */
			retry = jiffies +
				msecs_to_jiffies(XKVM_ACCEPT_PAUSE_MS);
			WRITE_ONCE(srv->accept_retry, retry | 1);
			break;
		}
		if (err)
			continue; /* only that connection failed */
		if (!xkv_store_conn_opened(srv->st)) {
			xkvm_conn_refuse(w, sock);
			xkvm_sock_restore_child(srv, sock);
			sock_release(sock);
			continue;
		}
		err = xkvm_conn_new(srv, sock);
		if (err) {
			xkvm_sock_restore_child(srv, sock);
			sock_release(sock);
			xkv_store_conn_closed(srv->st);
		}
	}
	if (i == XKVM_ACCEPT_BUDGET)
		set_bit(XKVM_XF_DATA, &x->flags);
	xkvm_xprt_received(x);
}

const struct xkvm_xprt_ops xkvm_listen_ops = {
	.name = "listen",
	.process = xkvm_listen_process,
};

/**
 * xkvm_conns_tick() - queue stalled connections, and idle ones.
 * @srv:  server
 * @idle: look for connections past idle_timeout too
 *
 * A queued connection tries the budget again, or closes if it is idle.
 * Context: the maintenance thread.
 */
void xkvm_conns_tick(struct xkvm_server *srv, bool idle)
{
	struct xkvm_conn *c;

	/* each one still stalled after its turn counts itself again */
	atomic_set(&srv->nstalled, 0);
	spin_lock(&srv->conns_lock);
	list_for_each_entry(c, &srv->conns, node) {
		if (READ_ONCE(c->stalled) || (idle && xkvm_conn_idle(c)))
			xkvm_xprt_kick(&c->xprt, XKVM_XF_CHANGE);
	}
	spin_unlock(&srv->conns_lock);
}

/**
 * xkvm_conns_close_all() - close every connection of a stopping server.
 * @srv: server whose workers are stopped and ready list drained
 */
void xkvm_conns_close_all(struct xkvm_server *srv)
{
	struct xkvm_conn *c;

	for (;;) {
		spin_lock(&srv->conns_lock);
		c = list_first_entry_or_null(&srv->conns, struct xkvm_conn,
					     node);
		if (c)
			xkvm_xprt_get(&c->xprt);
		spin_unlock(&srv->conns_lock);
		if (!c)
			break;
		xkvm_conn_close(c, "module unloading", 0);
		xkvm_xprt_put(&c->xprt);
	}
}
