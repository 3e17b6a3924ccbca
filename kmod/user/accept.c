// SPDX-License-Identifier: GPL-2.0
/*
 * accept.c - accepting TCP connections and handing them out.
 *
 * The one listen socket sits in every worker's epoll instance
 * with EPOLLEXCLUSIVE, so a new connection wakes one idle worker, not all
 * of them, and no thread exists only to accept. The kernel always offers
 * the wakeup to the same first idle worker, though, so left alone a burst
 * of connects would all stay there; clients keep their connections for
 * long, so the woken worker hands each new socket to the worker with the
 * fewest connections (counting those on their way) through that worker's
 * handoff pipe: one 4-byte write of the descriptor, atomic on a pipe. If
 * that pipe is full the socket stays with the acceptor. We do not use one
 * SO_REUSEPORT socket per worker instead: it spreads by address hash only,
 * and a second server started on the same port would share the port
 * instead of failing to bind.
 *
 * At the connection limit a client gets memcached's "ERROR Too many open
 * connections" and is closed. Out of descriptors (EMFILE and friends), a
 * worker takes the listen socket out of its epoll instance for a while
 * instead of spinning on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admin.h"
#include "xkvd.h"

/* connections accepted per wakeup, so existing clients are not starved */
#define ACCEPT_BUDGET 16
/* how long to stop accepting after EMFILE and similar errors */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_WARN_MS 10000

static const char too_many[] = "ERROR Too many open connections\r\n";

/* An accepted socket that could not become a connection. */
static void conn_drop(struct xkvd_worker *w, int fd)
{
	close(fd);
	xkv_store_conn_closed(w->srv->st);
	__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);
}

/*
 * The worker with the fewest connections. The search starts one further
 * each time so that ties, and the racy reads of other workers' counts,
 * spread over all of them.
 */
static struct xkvd_worker *pick_worker(struct xkvd_server *srv)
{
	u32 n = srv->nworkers, start, i, load, best_load;
	struct xkvd_worker *best, *w;

	start = __atomic_fetch_add(&srv->next_pick, 1, __ATOMIC_RELAXED) % n;
	best = &srv->workers[start];
	best_load = __atomic_load_n(&best->load, __ATOMIC_RELAXED);
	for (i = 1; i < n; i++) {
		w = &srv->workers[(start + i) % n];
		load = __atomic_load_n(&w->load, __ATOMIC_RELAXED);
		if (load < best_load) {
			best = w;
			best_load = load;
		}
	}
	return best;
}

/* Give an accepted socket to the least loaded worker, maybe ourselves. */
static void conn_dispatch(struct xkvd_worker *w, int fd)
{
	struct xkvd_worker *to = pick_worker(w->srv);

	__atomic_add_fetch(&to->load, 1, __ATOMIC_RELAXED);
	if (to != w) {
		if (write(to->handoff_wr, &fd, sizeof(fd)) == sizeof(fd))
			return;
		/* its pipe is full: keep the connection */
		__atomic_sub_fetch(&to->load, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->load, 1, __ATOMIC_RELAXED);
	}
	if (xkvd_conn_new(w, fd))
		conn_drop(w, fd);
}

/**
 * xkvd_tcp_handoff_init() - create the pipe other workers hand sockets in.
 * @w: worker, with its epoll instance
 *
 * Return: 0 or -errno.
 */
int xkvd_tcp_handoff_init(struct xkvd_worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fds[2], err;

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	w->ev_handoff.kind = XKVD_EV_HANDOFF;
	ev.data.ptr = &w->ev_handoff;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fds[0], &ev)) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	w->handoff_rd = fds[0];
	w->handoff_wr = fds[1];
	return 0;
}

/**
 * xkvd_tcp_handoff_read() - take over the sockets other workers accepted.
 * @w: worker
 */
void xkvd_tcp_handoff_read(struct xkvd_worker *w)
{
	int fds[64];
	ssize_t n;
	size_t i;

	n = read(w->handoff_rd, fds, sizeof(fds));
	if (n <= 0)
		return;
	/* 4-byte writes to a pipe are atomic, so only whole ones come */
	for (i = 0; i < (size_t)n / sizeof(fds[0]); i++) {
		if (xkvd_conn_new(w, fds[i]))
			conn_drop(w, fds[i]);
	}
}

/**
 * xkvd_tcp_handoff_exit() - close sockets still in the pipe, and the pipe.
 * @w: worker; no other worker may hand it sockets any more
 */
void xkvd_tcp_handoff_exit(struct xkvd_worker *w)
{
	int fds[64];
	ssize_t n;
	size_t i;

	if (w->handoff_rd < 0)
		return;
	while ((n = read(w->handoff_rd, fds, sizeof(fds))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(fds[0]); i++)
			conn_drop(w, fds[i]);
	}
	close(w->handoff_rd);
	close(w->handoff_wr);
	w->handoff_rd = -1;
	w->handoff_wr = -1;
}

/* Over the connection limit: say so as memcached does, and hang up. */
static void conn_refuse(struct xkvd_worker *w, int fd)
{
	ssize_t n;

	n = send(fd, too_many, sizeof(too_many) - 1,
		 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		w->stats->bytes_written += (u64)n;
	close(fd);
	xkv_store_conn_rejected(w->srv->st);
	if (xkv_os_verbose >= 2)
		fprintf(stderr, "xkvd: worker %u: connection refused: limit\n",
			w->index);
}

/**
 * xkvd_tcp_watch() - put the listen socket in the worker's epoll instance.
 * @w: worker
 *
 * Return: 0 or -errno.
 */
int xkvd_tcp_watch(struct xkvd_worker *w)
{
	struct xkvd_server *srv = w->srv;
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLEXCLUSIVE,
		.data.ptr = &srv->ev_listen,
	};

	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->tcp_fd, &ev))
		return -errno;
	w->accept_off = false;
	return 0;
}

/*
 * Out of file descriptors or memory: the listen socket would stay readable
 * and spin us, so take it out of our epoll for a while.
 */
static void accept_pause(struct xkvd_worker *w, int err)
{
	u64 now = xkvd_now_ms();

	if (!epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->tcp_fd, NULL)) {
		w->accept_off = true;
		w->accept_at_ms = now + ACCEPT_PAUSE_MS;
	}
	if (!w->warned_ms || now - w->warned_ms >= ACCEPT_WARN_MS) {
		w->warned_ms = now;
		fprintf(stderr, "xkvd: worker %u: accept: %s; pausing\n",
			w->index, strerror(err));
	}
}

/**
 * xkvd_tcp_resume() - accept again after a pause, once it is time.
 * @w:      worker
 * @now_ms: xkvd_now_ms()
 *
 * Return: milliseconds until the pause ends, 0 if accepting, -1 if there
 * is no pause.
 */
int xkvd_tcp_resume(struct xkvd_worker *w, u64 now_ms)
{
	if (!w->accept_off)
		return -1;
	if (now_ms < w->accept_at_ms)
		return (int)(w->accept_at_ms - now_ms);
	if (xkvd_tcp_watch(w)) {
		w->accept_at_ms = now_ms + ACCEPT_PAUSE_MS;
		return ACCEPT_PAUSE_MS;
	}
	return 0;
}

/**
 * xkvd_tcp_accept() - accept new connections from the listen socket.
 * @w: the worker woken for them, which hands them out
 */
void xkvd_tcp_accept(struct xkvd_worker *w)
{
	struct xkvd_server *srv = w->srv;
	int i, fd;

	for (i = 0; i < ACCEPT_BUDGET; i++) {
		fd = accept4(srv->tcp_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPERM:
			case EPROTO:
			case ENOPROTOOPT:
			case ENETDOWN:
			case ENETUNREACH:
			case EHOSTDOWN:
			case EHOSTUNREACH:
			case EOPNOTSUPP:
			case ETIMEDOUT:
				/* only that connection failed; try the next */
				continue;
			default:
				/* EMFILE, ENFILE, ENOBUFS, ENOMEM, ... */
				accept_pause(w, errno);
				return;
			}
		}
		if (!xkv_store_conn_opened(srv->st)) {
			conn_refuse(w, fd);
			continue;
		}
		conn_dispatch(w, fd);
	}
}

/* memcached's "tcp:1.2.3.4:5" or "tcp6:[::1]:5"; a mapped IPv4 as IPv4 */
static void addr_string(const struct sockaddr_storage *ss, const char *proto,
			char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;
	const struct sockaddr_in *s4 = (const void *)ss;
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], host,
			  sizeof(host));
		snprintf(buf, len, "%s:%s:%u", proto, host,
			 ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "%s6:[%s]:%u", proto, host,
			 ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%s:%u", proto, host,
			 ntohs(s4->sin_port));
	} else {
		snprintf(buf, len, "%s:?", proto);
	}
}

/**
 * xkvd_conn_addrs() - give a new connection's session its addresses
 * ("stats conns").
 * @fd:   the connection's socket
 * @sess: its session
 */
void xkvd_conn_addrs(int fd, struct xkv_sess *sess)
{
	char peer[XKV_ADDR_STR] = "", local[XKV_ADDR_STR] = "";
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!getpeername(fd, (struct sockaddr *)&ss, &len))
		addr_string(&ss, "tcp", peer, sizeof(peer));
	len = sizeof(ss);
	if (!getsockname(fd, (struct sockaddr *)&ss, &len))
		addr_string(&ss, "tcp", local, sizeof(local));
	xkv_sess_set_addrs(sess, peer, local);
}

/**
 * xkvd_sock_register() - name the listening and UDP sockets in the
 * store's "stats conns".
 * @srv: server, its sockets open and its store created
 */
void xkvd_sock_register(struct xkvd_server *srv)
{
	struct sockaddr_storage ss;
	char name[XKV_ADDR_STR];
	socklen_t len = sizeof(ss);

	if (srv->tcp_fd >= 0 &&
	    !getsockname(srv->tcp_fd, (struct sockaddr *)&ss, &len)) {
		addr_string(&ss, "tcp", name, sizeof(name));
		xkv_store_add_listener(srv->st, name, false);
	}
	len = sizeof(ss);
	if (srv->udp_fd >= 0 &&
	    !getsockname(srv->udp_fd, (struct sockaddr *)&ss, &len)) {
		addr_string(&ss, "udp", name, sizeof(name));
		xkv_store_add_listener(srv->st, name, true);
	}
}
