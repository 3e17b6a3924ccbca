// SPDX-License-Identifier: GPL-2.0
/*
 * tcp.c - TCP connections: their sockets under the core's pump.
 *
 * The pump (kmod/core/tcp.h) moves the bytes: it reads into the
 * connection's buffer, feeds the session and sends its replies. This file
 * gives it the socket calls and waits in epoll for what it needs next:
 * EPOLLIN while it may read, EPOLLOUT while output waits. Once more than
 * XKV_SESS_OUT_HIGH bytes of output wait we stop reading until the client
 * takes its replies.
 *
 * A connection the budget stopped ("stalled") neither reads nor feeds its
 * session until the worker's tick (xkvd_conns_tick(), every
 * XKV_BUDGET_RETRY_MS) tries again, while it keeps sending what it has.
 *
 * A connection closes after its output is flushed when the session says so
 * (quit, an overlong line, a fatal error) or the client closed its side; at
 * once on a socket error; and with -o idle_timeout=N once no byte came or
 * went for N seconds and XDP answered no GET on it (the TCP fast path).
 *
 * With the TCP fast path's table (xkvd --hot-map, hotmap.c) a connection
 * claims an entry when it is accepted and releases it before its socket
 * is closed; the pump publishes there how far it has answered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xkvd.h"

static struct xkvd_conn *conn_of(struct xkv_tcp *t)
{
	return xkvd_container_of(t, struct xkvd_conn, tcp);
}

static long conn_recv(struct xkv_tcp *t, void *buf, size_t len)
{
	ssize_t n;

	do {
		n = recv(conn_of(t)->fd, buf, len, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static long conn_send(struct xkv_tcp *t, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = send(conn_of(t)->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static void conn_shut(struct xkv_tcp *t)
{
	shutdown(conn_of(t)->fd, SHUT_WR);
}

static const struct xkv_tcp_ops conn_ops = {
	.recv = conn_recv,
	.send = conn_send,
	.shut = conn_shut,
};

/**
 * xkvd_conn_close() - close a connection and free everything it holds.
 * @c: connection, unlinked from its worker and freed
 */
void xkvd_conn_close(struct xkvd_conn *c)
{
	struct xkvd_worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);

	/* before close(2): a new connection may then take these addresses */
	xkv_tcp_fast_release(&c->tcp);
	close(c->fd);
	xkv_tcp_release(&c->tcp);
	xkv_store_conn_closed(w->srv->st);
	free(c);
}

static void conn_log_close(struct xkvd_conn *c, const char *why)
{
	if (xkv_os_verbose >= 2)
		fprintf(stderr, "xkvd: worker %u: %s fd %d closed: %s\n",
			c->w->index, c->peer, c->fd, why);
}

static int conn_set_events(struct xkvd_conn *c, u32 want)
{
	struct epoll_event ev = { .events = want, .data.ptr = c };

	if (want == c->events)
		return 0;
	if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		return -errno;
	c->events = want;
	return 0;
}

/*
 * Pump (kmod/core/tcp.h), then wait in epoll for what the connection
 * needs next. Return: XKV_TCP_OPEN, XKV_TCP_DONE_* when the connection
 * should close normally, or -errno.
 */
static int conn_pump(struct xkvd_conn *c, bool readable)
{
	struct xkv_tcp *t = &c->tcp;
	u32 want = 0;
	int ret;

	ret = xkv_tcp_pump(t, c->w->stats, readable);
	if (t->moved)
		c->active_ms = xkvd_now_ms();
	if (ret != XKV_TCP_OPEN)
		return ret;
	/* a read budget spent: level-triggered epoll brings us back */
	if (xkv_tcp_want_read(t))
		want |= EPOLLIN;
	if (xkv_tcp_out_pending(t))
		want |= EPOLLOUT;
	if (!want && !t->stalled)
		return XKV_TCP_DONE_EOF;
	if (t->stalled && !c->w->nstalled++)
		c->w->stall_at_ms = xkvd_now_ms() + XKV_BUDGET_RETRY_MS;
	return conn_set_events(c, want);
}

/* Pump and close the connection if that says so; it may be freed. */
static void conn_run(struct xkvd_conn *c, bool readable)
{
	int ret = conn_pump(c, readable);

	switch (ret) {
	case XKV_TCP_OPEN:
		return;
	case XKV_TCP_DONE_EOF:
		conn_log_close(c, "end of input");
		break;
	case XKV_TCP_DONE_CLOSING:
		xkv_tcp_linger(&c->tcp);
		conn_log_close(c, "closed by the session");
		break;
	default:
		conn_log_close(c, strerror(-ret));
		break;
	}
	xkvd_conn_close(c);
}

/**
 * xkvd_conn_event() - handle what epoll reported for a connection.
 * @c:      connection; may be closed and freed on return
 * @events: the epoll events
 */
void xkvd_conn_event(struct xkvd_conn *c, u32 events)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (events & EPOLLERR) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
		conn_log_close(c, strerror(soerr ? soerr : EIO));
		xkvd_conn_close(c);
		return;
	}
	conn_run(c, events & (EPOLLIN | EPOLLHUP));
}

/* ms until @at, for an epoll timeout (at least 1) */
static int ms_until(u64 at, u64 now)
{
	return at > now ? (int)(at - now) : 1;
}

/**
 * xkvd_conns_tick() - retry stalled connections, close idle ones.
 * @w:      worker
 * @now_ms: xkvd_now_ms()
 *
 * Does nothing before it is due; call it before every epoll_wait().
 *
 * Return: milliseconds until it is due again, -1 for never.
 */
int xkvd_conns_tick(struct xkvd_worker *w, u64 now_ms)
{
	u64 idle_ms = (u64)w->srv->set.idle_timeout * 1000;
	bool retry = w->nstalled && now_ms >= w->stall_at_ms;
	bool idle = idle_ms && now_ms >= w->idle_at_ms;
	struct xkvd_conn *c, *next;
	int wait = -1;

	if (retry || idle) {
		w->nstalled = 0;
		for (c = w->conns; c; c = next) {
			next = c->next;
			/* GETs XDP answered are activity too */
			if (idle && xkv_tcp_fast_active(&c->tcp))
				c->active_ms = now_ms;
			if (idle && now_ms - c->active_ms >= idle_ms) {
				conn_log_close(c, "idle timeout");
				xkvd_conn_close(c);
				continue;
			}
			if (!c->tcp.stalled)
				continue;
			/* conn_run() counts it again if it stays stalled */
			c->tcp.stalled = false;
			conn_run(c, true);
		}
		if (w->nstalled)
			w->stall_at_ms = now_ms + XKV_BUDGET_RETRY_MS;
		if (idle)
			w->idle_at_ms = now_ms +
				(idle_ms < 1000 ? idle_ms : 1000);
	}
	if (w->nstalled)
		wait = ms_until(w->stall_at_ms, now_ms);
	if (idle_ms && (wait < 0 || ms_until(w->idle_at_ms, now_ms) < wait))
		wait = ms_until(w->idle_at_ms, now_ms);
	return wait;
}

/*
 * The address and port of an IPv4 or IPv6 socket address, IPv4-mapped
 * IPv6 as IPv4. Return: 4, 6, or 0 when it is neither.
 */
static u32 sa_addr(const struct sockaddr_storage *ss, const void **addr,
		   __be16 *port)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET) {
		*addr = &s4->sin_addr;
		*port = s4->sin_port;
		return 4;
	}
	if (ss->ss_family != AF_INET6)
		return 0;
	*port = s6->sin6_port;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		*addr = &s6->sin6_addr.s6_addr[12];
		return 4;
	}
	*addr = &s6->sin6_addr;
	return 6;
}

/*
 * Register a new connection with the TCP fast path, if there is one:
 * from here on XDP may answer its GETs while it owes nothing (tcp.h).
 */
static void conn_fast_claim(struct xkvd_conn *c)
{
	struct xkvd_server *srv = c->w->srv;
	struct sockaddr_storage me, peer;
	socklen_t melen = sizeof(me), peerlen = sizeof(peer);
	const void *caddr, *saddr;
	__be16 cport, sport;
	struct xkv_tcp_ans key;
	u32 fam;

	if (!srv->tcp_ans)
		return;
	if (getsockname(c->fd, (struct sockaddr *)&me, &melen) ||
	    getpeername(c->fd, (struct sockaddr *)&peer, &peerlen))
		return;
	fam = sa_addr(&peer, &caddr, &cport);
	if (!fam || sa_addr(&me, &saddr, &sport) != fam)
		return;
	xkv_tcp_ans_key(&key, fam, caddr, saddr, cport, sport);
	if (!xkv_tcp_fast_claim(&c->tcp, srv->st, srv->tcp_ans, &key))
		os_log(2, "worker %u: fd %d: TCP fast path table full here",
		       c->w->index, c->fd);
}

/**
 * xkvd_conn_new() - make an accepted socket a connection of worker @w.
 * @w:  worker, whose @load already counts the socket
 * @fd: the socket; on failure the caller still owns it
 *
 * Return: 0 or -errno.
 */
int xkvd_conn_new(struct xkvd_worker *w, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct xkvd_conn *c;
	int on = 1, err = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ev.kind = XKVD_EV_CONN;
	c->fd = fd;
	c->w = w;
	c->active_ms = xkvd_now_ms();
	if (xkv_tcp_init(&c->tcp, &conn_ops, w->srv->st, w->stats))
		goto free_conn;
	xkvd_conn_addrs(fd, c->tcp.sess);

	/* replies are written whole; do not hold their tails back */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	conn_fast_claim(c);

	c->events = ev.events;
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		goto release_tcp;
	}

	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;

	if (xkv_os_verbose >= 2) {
		if (getpeername(fd, (struct sockaddr *)&ss, &sslen))
			sslen = 0;
		xkvd_sock_name((struct sockaddr *)&ss, sslen, c->peer,
			       sizeof(c->peer));
		fprintf(stderr, "xkvd: worker %u: %s fd %d connected\n",
			w->index, c->peer, fd);
	}
	return 0;

release_tcp:
	xkv_tcp_release(&c->tcp);
free_conn:
	free(c);
	return err;
}
