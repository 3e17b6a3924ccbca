// SPDX-License-Identifier: GPL-2.0
/*
 * tcp.c - TCP connections: driving their sessions.
 *
 * Bytes read are appended to the connection's read buffer and offered to
 * the session, which runs the complete commands and takes a storage
 * command's value bytes as they come. Once more than XKV_SESS_OUT_HIGH
 * bytes of output wait, the session stops between two commands and we
 * stop reading (EPOLLIN off, EPOLLOUT on) until the client takes its
 * replies, so a pipeline of "get"s for big items cannot make the output
 * grow without bound. Unused bytes (a partial line, or the commands held
 * back) are moved to the front of the buffer, which grows for long
 * multi-key "get" lines up to XKV_INBUF_MAX and shrinks back afterwards.
 *
 * Every buffer's growth comes from the server's budget (kmod/core/budget.h).
 * When the budget refuses, the connection is "stalled": it neither reads
 * nor feeds its session until the worker's tick (xkvd_conns_tick(), every
 * XKV_BUDGET_RETRY_MS) tries again, while it keeps sending what it has.
 *
 * A connection closes after its output is flushed when the session says so
 * (quit, an overlong line, a fatal error) or the client closed its side; at
 * once on a socket error; and with -o idle_timeout=N once no byte came or
 * went for N seconds.
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

/* reads per event and connection; level-triggered epoll brings us back */
#define READ_BUDGET 8
/* what we read and drop before closing, so the close is not a reset */
#define LINGER_DRAIN (64 * 1024)

enum conn_state {
	CONN_OPEN,
	CONN_DONE_EOF,
	CONN_DONE_CLOSING,
};

static bool conn_closing(struct xkvd_conn *c)
{
	/* an incomplete reply would desynchronise the client: close too */
	return xkv_sess_closing(c->sess) || xkv_sess_out(c->sess)->oom;
}

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

	close(c->fd);
	xkv_sess_free(c->sess);
	xkv_inbuf_release(&c->in);
	xkv_store_conn_closed(w->srv->st);
	free(c);
}

static void conn_log_close(struct xkvd_conn *c, const char *why)
{
	if (xkv_os_verbose >= 2)
		fprintf(stderr, "xkvd: worker %u: %s fd %d closed: %s\n",
			c->w->index, c->peer, c->fd, why);
}

/*
 * Closing right after a command like "quit" with more input unread would
 * make the kernel send a reset, which can destroy the reply still in
 * flight. Say we are done and drop what is already queued first.
 */
static void conn_linger(struct xkvd_conn *c)
{
	char sink[4096];
	size_t total = 0;
	ssize_t n;

	shutdown(c->fd, SHUT_WR);
	while (total < LINGER_DRAIN) {
		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
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

/* Send what the session has for the client, as much as the socket takes. */
static int conn_flush(struct xkvd_conn *c)
{
	struct xkv_buf *out = xkv_sess_out(c->sess);
	ssize_t n;

	while (xkv_buf_pending(out)) {
		n = send(c->fd, out->data + out->off, xkv_buf_pending(out),
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->w->stats->bytes_written += (u64)n;
		c->active_ms = xkvd_now_ms();
		xkv_buf_consume(out, (size_t)n);
	}
	return 0;
}

/*
 * Move bytes both ways until the socket or the back-pressure limit stops
 * us. Return: CONN_OPEN, CONN_DONE_* when the connection should close
 * normally, or -errno.
 */
static int conn_pump(struct xkvd_conn *c, bool readable)
{
	struct xkv_buf *out = xkv_sess_out(c->sess);
	int err, reads = 0;
	u32 want = 0;
	ssize_t n;

	for (;;) {
		err = conn_flush(c);
		if (err)
			return err;
		if (xkv_buf_pending(out) > XKV_SESS_OUT_HIGH)
			break;
		if (c->in.backlog) {
			if (c->stalled)
				break;
			xkv_inbuf_feed(&c->in, c->sess);
			c->stalled = xkv_sess_stalled(c->sess);
			continue;
		}
		if (conn_closing(c) || c->eof || !readable ||
		    reads >= READ_BUDGET || c->stalled)
			break;
		err = xkv_inbuf_room(&c->in);
		if (err == -ENOBUFS) {
			c->stalled = true;
			break;
		}
		if (err)
			return err;
		n = read(c->fd, xkv_inbuf_tail(&c->in),
			 xkv_inbuf_space(&c->in));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		reads++;
		if (!n) {
			c->eof = true;
			continue;
		}
		c->w->stats->bytes_read += (u64)n;
		c->active_ms = xkvd_now_ms();
		xkv_inbuf_added(&c->in, (size_t)n);
		xkv_inbuf_feed(&c->in, c->sess);
		c->stalled = xkv_sess_stalled(c->sess);
	}

	if (!xkv_buf_pending(out)) {
		if (conn_closing(c))
			return CONN_DONE_CLOSING;
		if (c->eof && !c->in.backlog)
			return CONN_DONE_EOF;
	}
	if (!c->eof && !conn_closing(c) && !c->stalled &&
	    xkv_buf_pending(out) <= XKV_SESS_OUT_HIGH)
		want |= EPOLLIN;
	if (xkv_buf_pending(out))
		want |= EPOLLOUT;
	if (!want && !c->stalled)
		return CONN_DONE_EOF;
	if (c->stalled && !c->w->nstalled++)
		c->w->stall_at_ms = xkvd_now_ms() + XKV_BUDGET_RETRY_MS;
	return conn_set_events(c, want);
}

/* Pump and close the connection if that says so; it may be freed. */
static void conn_run(struct xkvd_conn *c, bool readable)
{
	int ret = conn_pump(c, readable);

	switch (ret) {
	case CONN_OPEN:
		return;
	case CONN_DONE_EOF:
		conn_log_close(c, "end of input");
		break;
	case CONN_DONE_CLOSING:
		conn_linger(c);
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
			if (idle && now_ms - c->active_ms >= idle_ms) {
				conn_log_close(c, "idle timeout");
				xkvd_conn_close(c);
				continue;
			}
			if (!c->stalled)
				continue;
			/* conn_run() counts it again if it stays stalled */
			c->stalled = false;
			conn_run(c, true);
		}
		if (w->nstalled)
			w->stall_at_ms = now_ms + XKV_BUDGET_RETRY_MS;
		if (idle)
			w->idle_at_ms = now_ms + (idle_ms < 1000 ? idle_ms : 1000);
	}
	if (w->nstalled)
		wait = ms_until(w->stall_at_ms, now_ms);
	if (idle_ms && (wait < 0 || ms_until(w->idle_at_ms, now_ms) < wait))
		wait = ms_until(w->idle_at_ms, now_ms);
	return wait;
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
	if (xkv_inbuf_init(&c->in, xkv_store_budget(w->srv->st)))
		goto free_conn;
	c->sess = xkv_sess_new(w->srv->st, w->stats, false);
	if (!c->sess)
		goto free_inbuf;

	/* replies are written whole; do not hold their tails back */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));

	c->events = ev.events;
	ev.data.ptr = c;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		err = -errno;
		goto free_sess;
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

free_sess:
	xkv_sess_free(c->sess);
free_inbuf:
	xkv_inbuf_release(&c->in);
free_conn:
	free(c);
	return err;
}
