// SPDX-License-Identifier: GPL-2.0
/*
 * accept.c - accepting TCP connections, as xkvd does (kmod/user/accept.c).
 *
 * The listener is a transport like any other: its data_ready queues it,
 * and the worker that takes it accepts up to a budget of connections, so
 * that a burst of new clients does not starve the existing ones. Each
 * accepted socket becomes a connection (tcp.c). At the connection limit a
 * client gets memcached's "ERROR Too many open connections" and is
 * closed; out of memory, accepting pauses and the maintenance thread
 * (maint.c) tries again.
 */
#include "xkvm.h"

#include <linux/net.h>

/* connections accepted per turn */
#define XKVM_ACCEPT_BUDGET 16
/* how long to stop accepting after running out of memory */
#define XKVM_ACCEPT_PAUSE_MS 100

static const char xkvm_too_many[] = "ERROR Too many open connections\r\n";

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
