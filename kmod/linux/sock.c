// SPDX-License-Identifier: GPL-2.0
/*
 * sock.c - opening the module's sockets, and their callbacks.
 *
 * With no listen address the module binds one IPv6 socket to "::" with
 * IPV6_V6ONLY off, which serves IPv4 clients too, and falls back to
 * 0.0.0.0 on a kernel without IPv6 - as xkvd does. Neither socket uses
 * SO_REUSEPORT: a second server on the same port must fail to start.
 *
 * Callbacks. sk_user_data points at the transport, stored with
 * SK_USER_DATA_NOCOPY so that a connection cloned from the listener does
 * not inherit it: until the module attaches the accepted connection, its
 * inherited data_ready callback finds no transport and does nothing. The
 * callbacks read sk_user_data under sk_callback_lock, and detaching takes
 * that lock for writing, so once xkvm_sock_detach() returns no callback
 * can reach the transport any more.
 */
#include "xkvm.h"

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/inet.h>
#include <net/sock.h>
#include <net/tcp.h>

/* best effort; the kernel caps it at net.core.rmem_max, as for xkvd */
#define XKVM_UDP_RCVBUF (4 * 1024 * 1024)

static struct xkvm_xprt *xkvm_sk_xprt(struct sock *sk)
{
	return __locked_read_sk_user_data_with_flags(sk, 0);
}

static void xkvm_sk_data_ready(struct sock *sk)
{
	struct xkvm_xprt *x;

	read_lock_bh(&sk->sk_callback_lock);
	x = xkvm_sk_xprt(sk);
	if (x)
		xkvm_xprt_kick(x, XKVM_XF_DATA);
	read_unlock_bh(&sk->sk_callback_lock);
}

/* as sk_stream_write_space(): only once a useful amount of room is free */
static void xkvm_sk_write_space(struct sock *sk)
{
	struct xkvm_xprt *x;

	read_lock_bh(&sk->sk_callback_lock);
	x = xkvm_sk_xprt(sk);
	if (x && sk_stream_is_writeable(sk)) {
		if (sk->sk_socket)
			clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		xkvm_xprt_kick(x, XKVM_XF_WSPACE);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* a FIN or a reset: the worker's next read or send tells which */
static void xkvm_sk_state_change(struct sock *sk)
{
	struct xkvm_xprt *x;

	read_lock_bh(&sk->sk_callback_lock);
	x = xkvm_sk_xprt(sk);
	if (x)
		xkvm_xprt_kick(x, XKVM_XF_CHANGE);
	read_unlock_bh(&sk->sk_callback_lock);
}

/**
 * xkvm_sock_attach() - route a socket's callbacks to its transport.
 * @x:              transport whose ->sock is set
 * @conn:           a TCP connection: watch write space and state too
 * @old_data_ready: data_ready to restore on detach, or NULL for the
 *                  socket's current one (an accepted connection carries
 *                  the listener's, which is ours)
 *
 * Takes a reference for the attachment; xkvm_sock_detach() drops it.
 */
void xkvm_sock_attach(struct xkvm_xprt *x, bool conn,
		      void (*old_data_ready)(struct sock *sk))
{
	struct sock *sk = x->sock->sk;

	xkvm_xprt_get(x);
	write_lock_bh(&sk->sk_callback_lock);
	x->old_data_ready = old_data_ready ? old_data_ready : sk->sk_data_ready;
	x->old_write_space = sk->sk_write_space;
	x->old_state_change = sk->sk_state_change;
	__rcu_assign_sk_user_data_with_flags(sk, x, SK_USER_DATA_NOCOPY);
	sk->sk_data_ready = xkvm_sk_data_ready;
	if (conn) {
		sk->sk_write_space = xkvm_sk_write_space;
		sk->sk_state_change = xkvm_sk_state_change;
	}
	x->attached = true;
	write_unlock_bh(&sk->sk_callback_lock);
}

/**
 * xkvm_sock_detach() - give a socket its own callbacks back.
 * @x: transport; a no-op if not attached
 *
 * On return no callback of this socket can reach @x. Drops the reference
 * taken by xkvm_sock_attach(); the caller must hold another.
 */
void xkvm_sock_detach(struct xkvm_xprt *x)
{
	struct sock *sk;
	bool was;

	if (!x->sock)
		return;
	sk = x->sock->sk;
	write_lock_bh(&sk->sk_callback_lock);
	was = x->attached;
	if (was) {
		rcu_assign_sk_user_data(sk, NULL);
		sk->sk_data_ready = x->old_data_ready;
		sk->sk_write_space = x->old_write_space;
		sk->sk_state_change = x->old_state_change;
		x->attached = false;
	}
	write_unlock_bh(&sk->sk_callback_lock);
	if (was)
		xkvm_xprt_put(x);
}

/**
 * xkvm_sock_restore_child() - undo what an accepted socket inherited.
 * @srv:  server
 * @sock: a connection accepted but not attached (refused, or failed)
 *
 * Its data_ready is the listener's, ours; before the socket is released
 * (and may outlive the module in TIME_WAIT or FIN_WAIT) it gets the
 * listener's original one.
 */
void xkvm_sock_restore_child(struct xkvm_server *srv, struct socket *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_data_ready == xkvm_sk_data_ready)
		sk->sk_data_ready = srv->listen.old_data_ready;
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
}

/**
 * xkvm_sock_release() - shut down and release a transport's socket.
 * @x: transport, detached
 */
void xkvm_sock_release(struct xkvm_xprt *x)
{
	struct socket *sock = x->sock;

	if (!sock)
		return;
	WARN_ON_ONCE(x->attached);
	x->sock = NULL;
	kernel_sock_shutdown(sock, SHUT_RDWR);
	sock_release(sock);
}

/* "" -> the wildcard; else an IPv4 or IPv6 literal ("[::1]" too) */
static int xkvm_sock_addr(const char *addr, int family,
			  struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	size_t n = strlen(addr);

	memset(ss, 0, sizeof(*ss));
	if (!n) {
		ss->ss_family = family;
		if (family == AF_INET)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (in4_pton(addr, n, (u8 *)&sin->sin_addr, -1, NULL)) {
		ss->ss_family = AF_INET;
		return 0;
	}
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n && in6_pton(addr, n, (u8 *)&sin6->sin6_addr, -1, NULL)) {
		ss->ss_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/**
 * xkvm_sock_check_addr() - is @addr a listen address xkvm_sock_open() takes?
 * @addr: "" or an IPv4 or IPv6 literal
 *
 * Return: 0 or -EINVAL.
 */
int xkvm_sock_check_addr(const char *addr)
{
	struct sockaddr_storage ss;

	return xkvm_sock_addr(addr, AF_INET6, &ss);
}

static void xkvm_sock_set_port(struct sockaddr_storage *ss, u32 port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((u16)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((u16)port);
}

static int xkvm_sock_create(const char *addr, int type,
			    struct sockaddr_storage *ss, struct socket **res)
{
	int proto = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
	int err;

	err = xkvm_sock_addr(addr, AF_INET6, ss);
	if (err)
		return err;
	err = sock_create_kern(&init_net, ss->ss_family, type, proto, res);
	if (err == -EAFNOSUPPORT && !addr[0]) {
		xkvm_sock_addr(addr, AF_INET, ss);
		err = sock_create_kern(&init_net, AF_INET, type, proto, res);
	}
	return err;
}

/**
 * xkvm_sock_open() - open, bind and (TCP) listen.
 * @addr: listen address: "" for any, or an IPv4 or IPv6 literal
 * @port: port number
 * @type: SOCK_STREAM or SOCK_DGRAM
 * @res:  the socket
 * @ss:   the address it is bound to
 *
 * Logs why it failed, naming the address and port.
 *
 * Return: 0 or -errno.
 */
int xkvm_sock_open(const char *addr, u32 port, int type, struct socket **res,
		   struct sockaddr_storage *ss)
{
	const char *proto = type == SOCK_STREAM ? "TCP" : "UDP";
	struct socket *sock;
	int err, len, rcvbuf = XKVM_UDP_RCVBUF;

	err = xkvm_sock_create(addr, type, ss, &sock);
	if (err) {
		pr_err("cannot open a %s socket: %d\n", proto, err);
		return err;
	}
	xkvm_sock_set_port(ss, port);
	len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					  sizeof(struct sockaddr_in);

	if (ss->ss_family == AF_INET6 && !addr[0]) {
		lock_sock(sock->sk);
		sock->sk->sk_ipv6only = false;
		release_sock(sock->sk);
	}
	if (type == SOCK_STREAM)
		sock_set_reuseaddr(sock->sk);
	else
		sock_setsockopt(sock, SOL_SOCKET, SO_RCVBUF,
				KERNEL_SOCKPTR(&rcvbuf), sizeof(rcvbuf));

	err = kernel_bind(sock, (struct sockaddr *)ss, len);
	if (!err && type == SOCK_STREAM)
		err = kernel_listen(sock, XKV_LISTEN_BACKLOG);
	if (err) {
		pr_err("cannot listen on %s %pISpc: %d\n", proto, ss, err);
		sock_release(sock);
		return err;
	}
	*res = sock;
	return 0;
}
