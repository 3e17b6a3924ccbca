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

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/net.h>
#include <net/ipv6.h>

#include "admin.h"

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

/* memcached's "tcp:1.2.3.4:5" or "tcp6:[::1]:5"; a mapped IPv4 as IPv4 */
static void xkvm_addr_mc(char *buf, size_t len, const char *proto,
			 const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;
	const struct sockaddr_in *s4 = (const void *)ss;

	if (ss->ss_family == AF_INET6 &&
	    ipv6_addr_v4mapped(&s6->sin6_addr))
		snprintf(buf, len, "%s:%pI4:%u", proto,
			 &s6->sin6_addr.s6_addr32[3], ntohs(s6->sin6_port));
	else if (ss->ss_family == AF_INET6)
		snprintf(buf, len, "%s6:[%pI6c]:%u", proto, &s6->sin6_addr,
			 ntohs(s6->sin6_port));
	else if (ss->ss_family == AF_INET)
		snprintf(buf, len, "%s:%pI4:%u", proto, &s4->sin_addr,
			 ntohs(s4->sin_port));
	else
		snprintf(buf, len, "%s:?", proto);
}

/**
 * xkvm_conn_addrs() - give a new connection's session its addresses
 * ("stats conns").
 * @sock: the accepted socket
 * @sess: its session
 */
void xkvm_conn_addrs(struct socket *sock, struct xkv_sess *sess)
{
	char peer[XKV_ADDR_STR] = "", local[XKV_ADDR_STR] = "";
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (kernel_getpeername(sock, (struct sockaddr *)&ss) >= 0)
		xkvm_addr_mc(peer, sizeof(peer), "tcp", &ss);
	memset(&ss, 0, sizeof(ss));
	if (kernel_getsockname(sock, (struct sockaddr *)&ss) >= 0)
		xkvm_addr_mc(local, sizeof(local), "tcp", &ss);
	xkv_sess_set_addrs(sess, peer, local);
}

/**
 * xkvm_sock_register() - name the listening and UDP sockets in the
 * store's "stats conns".
 * @srv: server, its sockets open
 */
void xkvm_sock_register(struct xkvm_server *srv)
{
	char name[XKV_ADDR_STR];

	if (srv->listen.sock) {
		xkvm_addr_mc(name, sizeof(name), "tcp", &srv->tcp_addr);
		xkv_store_add_listener(srv->st, name, false);
	}
	if (srv->udp.sock) {
		xkvm_addr_mc(name, sizeof(name), "udp", &srv->udp_addr);
		xkv_store_add_listener(srv->st, name, true);
	}
}
