// SPDX-License-Identifier: GPL-2.0
/*
 * tcp.c - TCP connections: their sockets under the core's pump.
 *
 * A connection (made by accept.c) behaves as in xkvd (kmod/user/tcp.c):
 * the core's pump (kmod/core/tcp.h) moves its bytes through the socket
 * calls given here. Once more than XKV_SESS_OUT_HIGH bytes of output
 * wait, the worker stops reading (THROTTLED) until the socket has room
 * again (WSPACE) and the client has taken its replies; after
 * XKV_TCP_READ_BUDGET reads it queues the connection again (DATA) behind
 * the others.
 *
 * A connection the budget stopped ("stalled") neither reads nor feeds its
 * session; the maintenance thread queues it again every
 * XKV_BUDGET_RETRY_MS (xkvm_conns_tick()).
 *
 * A connection closes after its output is flushed when the session says
 * so (quit, an overlong line, a fatal error) or the client closed its
 * side; at once on a socket error; and with idle_timeout=N once no byte
 * came or went for N seconds and XDP answered no GET on it.
 *
 * With the TCP fast path's table attached (hotmap.c) a connection claims
 * an entry from its socket's addresses when it is accepted and releases
 * it when it closes, before its socket is released; the pump publishes
 * there how far it has answered (kmod/core/tcp.h). Claims and releases
 * run on a worker, under the read side of srv->hot_rwsem, so detaching
 * the table (its write side) sees none half done.
 */
#include "xkvm.h"

#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp.h>

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

static struct xkvm_conn *xkvm_conn_of_tcp(struct xkv_tcp *t)
{
	return container_of(t, struct xkvm_conn, tcp);
}

/* Read what the socket has; a new data_ready queues us again. */
static long xkvm_conn_recv(struct xkv_tcp *t, void *buf, size_t len)
{
	struct xkvm_xprt *x = &xkvm_conn_of_tcp(t)->xprt;
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };

	xkvm_xprt_clear(x, XKVM_XF_DATA);
	return kernel_recvmsg(x->sock, &msg, &iov, 1, len, MSG_DONTWAIT);
}

static long xkvm_conn_send(struct xkv_tcp *t, const void *buf, size_t len)
{
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };

	return kernel_sendmsg(xkvm_conn_of_tcp(t)->xprt.sock, &msg, &iov, 1,
			      len);
}

static void xkvm_conn_shut(struct xkv_tcp *t)
{
	kernel_sock_shutdown(xkvm_conn_of_tcp(t)->xprt.sock, SHUT_WR);
}

static const struct xkv_tcp_ops xkvm_conn_tcp_ops = {
	.recv = xkvm_conn_recv,
	.send = xkvm_conn_send,
	.shut = xkvm_conn_shut,
};

static void xkvm_conn_free(struct xkvm_xprt *x)
{
	struct xkvm_conn *c = xkvm_conn_of(x);
	struct xkvm_server *srv = x->srv;

	WARN_ON_ONCE(x->sock || c->listed);
	xkv_tcp_release(&c->tcp);
	xkv_store_conn_closed(srv->st);
	kmem_cache_free(srv->conn_cache, c);
	if (atomic_dec_and_test(&srv->nconns))
		wake_up(&srv->conns_wq);
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
	/* before the socket goes: a new connection may take its addresses */
	xkv_tcp_fast_release(&c->tcp);
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

/*
 * Pump (kmod/core/tcp.h), then say what the connection waits for: room
 * to send (OUTPEND), and whether it may read meanwhile (THROTTLED when
 * not). Return: XKV_TCP_OPEN, XKV_TCP_DONE_* when the connection should
 * close normally, or -errno.
 */
static int xkvm_conn_pump(struct xkvm_conn *c, struct xkvm_worker *w)
{
	struct xkvm_xprt *x = &c->xprt;
	struct xkv_tcp *t = &c->tcp;
	int ret;

	/* a stats slot has one writer: the worker serving us right now */
	xkv_sess_set_stats(t->sess, w->stats);
	ret = xkv_tcp_pump(t, w->stats, true);
	if (t->moved)
		c->active = jiffies;
	if (t->more)
		set_bit(XKVM_XF_DATA, &x->flags);
	if (ret != XKV_TCP_OPEN)
		return ret;
	if (t->stalled)
		atomic_inc(&x->srv->nstalled);
	assign_bit(XKVM_XF_OUTPEND, &x->flags, xkv_tcp_out_pending(t) > 0);
	assign_bit(XKVM_XF_THROTTLED, &x->flags, !xkv_tcp_want_read(t));
	return XKV_TCP_OPEN;
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
	WRITE_ONCE(c->tcp.stalled, false);
	/* GETs XDP answered are activity too */
	if (xkv_tcp_fast_active(&c->tcp))
		WRITE_ONCE(c->active, jiffies);

	ret = xkvm_conn_pump(c, w);
	if (ret == XKV_TCP_OPEN && xkvm_conn_idle(c))
		ret = -ETIMEDOUT;
	switch (ret) {
	case XKV_TCP_OPEN:
		break;
	case XKV_TCP_DONE_EOF:
		xkvm_conn_close(c, "end of input", 0);
		break;
	case XKV_TCP_DONE_CLOSING:
		xkv_tcp_linger(&c->tcp);
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
 * Register a new connection with the TCP fast path, if its table is
 * attached: from here on XDP may answer its GETs while it owes nothing.
 * IPv4 clients of an IPv6 socket (IPv4-mapped) are IPv4 to XDP.
 */
static void xkvm_conn_fast_claim(struct xkvm_conn *c, struct socket *sock)
{
	struct xkvm_server *srv = c->xprt.srv;
	struct sock *sk = sock->sk;
	const struct inet_sock *inet = inet_sk(sk);
	struct xkv_tcp_ans key;

	if (!srv->tcp_ans)
		return;
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr))
		xkv_tcp_ans_key(&key, 6, &sk->sk_v6_daddr,
				&sk->sk_v6_rcv_saddr, inet->inet_dport,
				inet->inet_sport);
	else
#endif
		xkv_tcp_ans_key(&key, 4, &inet->inet_daddr,
				&inet->inet_rcv_saddr, inet->inet_dport,
				inet->inet_sport);
	if (!xkv_tcp_fast_claim(&c->tcp, srv->st, srv->tcp_ans, &key) &&
	    xkvm_verbose(srv) >= 2)
		pr_info_ratelimited("%pISpc: TCP fast path table full here\n",
				    &c->peer);
}

/**
 * xkvm_conns_fast_release() - release every connection's fast path entry.
 * @srv: server, with the write side of @srv->hot_rwsem held (no worker
 *       is serving, so no claim, release or publication is under way)
 *
 * Before the table is detached or replaced: the connections are served on
 * without the fast path.
 */
void xkvm_conns_fast_release(struct xkvm_server *srv)
{
	struct xkvm_conn *c;

	spin_lock(&srv->conns_lock);
	list_for_each_entry(c, &srv->conns, node)
		xkv_tcp_fast_release(&c->tcp);
	spin_unlock(&srv->conns_lock);
}

/**
 * xkvm_conn_new() - make a connection of an accepted socket.
 * @srv:  server
 * @sock: the socket; on failure the caller still owns it
 *
 * Puts the connection on the server's list and queues it: bytes may have
 * arrived before its callbacks were attached.
 *
 * Return: 0 or -errno.
 */
int xkvm_conn_new(struct xkvm_server *srv, struct socket *sock)
{
	struct xkvm_conn *c;
	int err = -ENOMEM;

	c = kmem_cache_zalloc(srv->conn_cache, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	xkvm_xprt_init(&c->xprt, srv, &xkvm_conn_ops, sock);
	INIT_LIST_HEAD(&c->node);
	c->active = jiffies;
	/* xkvm_conn_pump() points the session at the serving worker's slot */
	if (xkv_tcp_init(&c->tcp, &xkvm_conn_tcp_ops, srv->st,
			 xkv_store_stats_slot(srv->st, 0)))
		goto free_conn;
	kernel_getpeername(sock, (struct sockaddr *)&c->peer);
	xkvm_conn_addrs(sock, c->tcp.sess);

	/* replies are written whole; do not hold their tails back */
	tcp_sock_set_nodelay(sock->sk);
	xkvm_conn_fast_claim(c, sock);

	spin_lock(&srv->conns_lock);
	if (srv->stopping) {
		spin_unlock(&srv->conns_lock);
		err = -ESHUTDOWN;
		goto release_tcp;
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

release_tcp:
	xkv_tcp_release(&c->tcp);
free_conn:
	kmem_cache_free(srv->conn_cache, c);
	return err;
}

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
		if (READ_ONCE(c->tcp.stalled) || (idle && xkvm_conn_idle(c)))
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
