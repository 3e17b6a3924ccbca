// SPDX-License-Identifier: GPL-2.0
/*
 * tcp.c - the TCP transport: nonblocking connections in one epoll
 * instance per thread, each with up to a window of pipelined requests.
 *
 * Replies come back in request order, so each connection keeps its
 * requests in flight in a ring and checks every reply against the oldest.
 * After a reply, the window is refilled and the new requests go out in
 * one send(). A malformed reply puts the byte stream out of step, and a
 * request older than the timeout means the server stalled: either way the
 * connection is closed and opened again, its requests in flight counted
 * as lost (the preload stops instead: its keys must all be stored).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "worker.h"

#define TCP_RBUF_INIT (64 * 1024)
#define TCP_EVENTS 64
/* the longest epoll_wait(), so timeouts are seen */
#define TCP_TICK_MS 10

/**
 * struct tcp_req - a request in flight.
 * @t_sent: when it was written
 * @op:     what it was
 */
struct tcp_req {
	u64 t_sent;
	struct bench_op op;
};

/**
 * struct tcp_conn - one connection.
 * @fd:     the socket, -1 when closed for good
 * @events: epoll interest registered
 * @ring:   requests in flight, oldest at @head
 * @head:   index of the oldest
 * @n:      how many
 * @rbuf:   bytes received; replies start at @rpos
 * @rpos:   first byte not yet used
 * @rlen:   bytes in @rbuf
 * @rcap:   size of @rbuf
 * @wbuf:   requests not yet sent, from @wpos to @wlen
 * @wpos:   first byte not yet sent
 * @wlen:   bytes in @wbuf
 * @wcap:   size of @wbuf
 */
struct tcp_conn {
	int fd;
	u32 events;
	struct tcp_req *ring;
	u32 head;
	u32 n;
	char *rbuf;
	size_t rpos;
	size_t rlen;
	size_t rcap;
	char *wbuf;
	size_t wpos;
	size_t wlen;
	size_t wcap;
};

/**
 * struct tcp_engine - one thread's connections.
 * @conns:   the connections
 * @req_max: the longest request
 */
struct tcp_engine {
	struct tcp_conn *conns;
	size_t req_max;
};

static int tcp_watch(struct bench_worker *w, struct tcp_conn *c, u32 events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	int op = c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (c->events == events)
		return 0;
	if (epoll_ctl(w->epfd, op, c->fd, &ev))
		return -errno;
	c->events = events;
	return 0;
}

static int tcp_open(struct bench_worker *w, struct tcp_conn *c)
{
	const struct bench_shared *sh = w->sh;
	int fd;

	fd = net_connect(w->dst, sh->has_src ? &sh->src : NULL, SOCK_STREAM);
	if (fd < 0)
		return fd;
	c->fd = fd;
	c->events = 0;
	c->head = 0;
	c->n = 0;
	c->rpos = 0;
	c->rlen = 0;
	c->wpos = 0;
	c->wlen = 0;
	return tcp_watch(w, c, EPOLLIN);
}

static void tcp_close(struct tcp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->n = 0;
}

/*
 * The connection is out of step or stalled: its requests in flight are
 * lost. Open it again (a measured run only).
 */
static void tcp_reset(struct bench_worker *w, struct tcp_conn *c)
{
	tcp_close(c);
	if (w->mode == BENCH_PRELOAD) {
		w->failed = true;
		return;
	}
	if (tcp_open(w, c) < 0) {
		w->st.net_errors++;
		tcp_close(c);
	}
}

static int tcp_flush(struct bench_worker *w, struct tcp_conn *c)
{
	ssize_t n;

	while (c->wpos < c->wlen) {
		n = send(c->fd, c->wbuf + c->wpos, c->wlen - c->wpos,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return tcp_watch(w, c, EPOLLIN | EPOLLOUT);
			return -errno;
		}
		c->wpos += (size_t)n;
	}
	c->wpos = 0;
	c->wlen = 0;
	return tcp_watch(w, c, EPOLLIN);
}

/* queue requests until the window is full; then send them */
static int tcp_fill(struct bench_worker *w, struct tcp_conn *c, u64 now)
{
	struct tcp_engine *e = w->engine;
	struct tcp_req *req;
	struct bench_op op;

	while (c->n < w->window) {
		if (bench_reserve(&c->wbuf, &c->wcap, c->wlen + e->req_max))
			return -ENOMEM;
		if (!workload_next(w, &op))
			break;
		c->wlen += mc_build(&w->sh->fmt, op.op, op.key, op.ver,
				    c->wbuf + c->wlen);
		req = &c->ring[(c->head + c->n) % w->window];
		req->t_sent = now;
		req->op = op;
		c->n++;
	}
	return tcp_flush(w, c);
}

/* make room for @need bytes of one reply from rpos on */
static int tcp_room(struct tcp_conn *c, size_t need)
{
	if (c->rpos && (c->rpos == c->rlen || c->rcap - c->rpos < need ||
			c->rpos > c->rcap / 2)) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	return bench_reserve(&c->rbuf, &c->rcap, need);
}

/* use every complete reply in rbuf; -EPROTO when out of step */
static int tcp_replies(struct bench_worker *w, struct tcp_conn *c, u64 now)
{
	const struct bench_shared *sh = w->sh;
	struct tcp_req *req;
	enum mc_result r;
	size_t used;

	while (c->n) {
		req = &c->ring[c->head];
		r = mc_parse(&sh->fmt, sh->o->verify, req->op.op, req->op.key,
			     c->rbuf + c->rpos, c->rlen - c->rpos, &used);
		if (r == MC_MORE)
			return tcp_room(c, used);
		if (r == MC_PROTO_ERR)
			used = c->rlen - c->rpos; /* show it all */
		if (r != MC_HIT && r != MC_MISS && r != MC_STORED)
			bench_warn_reply(w, r, &req->op, c->rbuf + c->rpos,
					 used);
		bench_record(w, r, req->t_sent, now);
		if (r == MC_PROTO_ERR)
			return -EPROTO;
		c->rpos += used;
		c->head = (c->head + 1) % w->window;
		c->n--;
	}
	if (c->rpos < c->rlen) { /* bytes nobody asked for */
		bench_warn_reply(w, MC_PROTO_ERR, NULL, c->rbuf + c->rpos,
				 c->rlen - c->rpos);
		w->st.proto_errors++;
		return -EPROTO;
	}
	return tcp_room(c, 0);
}

static int tcp_read(struct bench_worker *w, struct tcp_conn *c, u64 now)
{
	ssize_t n;

	/* tcp_room() leaves space; never ask recv() for 0 bytes (EOF) */
	if (bench_reserve(&c->rbuf, &c->rcap, c->rlen + 1))
		return -ENOMEM;
	n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	c->rlen += (size_t)n;
	return tcp_replies(w, c, now);
}

static void tcp_event(struct bench_worker *w, struct tcp_conn *c, u32 ev,
		      u64 now)
{
	int err = 0;

	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
		err = tcp_read(w, c, now);
	if (!err && (ev & EPOLLOUT))
		err = tcp_flush(w, c);
	if (!err)
		err = tcp_fill(w, c, now);
	if (!err)
		return;
	if (err != -EPROTO) {
		w->st.net_errors++;
		if (w->warned++ < 3)
			fprintf(stderr, "xkv-bench: thread %u: tcp: %s\n",
				w->idx, strerror(-err));
	}
	tcp_reset(w, c);
	if (c->fd >= 0 && tcp_fill(w, c, now))
		tcp_reset(w, c);
}

/* reopen connections whose oldest request is older than the timeout */
static void tcp_timeouts(struct bench_worker *w, u64 now)
{
	struct tcp_engine *e = w->engine;
	u64 limit = (u64)w->sh->o->timeout_ms * NSEC_PER_MSEC;
	struct tcp_conn *c;
	u32 i;

	for (i = 0; i < w->conns; i++) {
		c = &e->conns[i];
		if (c->fd < 0 || !c->n || now - c->ring[c->head].t_sent < limit)
			continue;
		w->st.timeouts += c->n;
		tcp_reset(w, c);
		if (c->fd >= 0 && tcp_fill(w, c, now))
			tcp_reset(w, c);
	}
}

/* nothing left to do: the preload is done, or every connection is gone */
static bool tcp_idle(struct bench_worker *w)
{
	struct tcp_engine *e = w->engine;
	u32 i;

	if (w->failed)
		return true;
	for (i = 0; i < w->conns; i++) {
		if (e->conns[i].fd < 0)
			continue;
		if (w->mode == BENCH_RUN || e->conns[i].n)
			return false;
	}
	return true;
}

static void tcp_loop(struct bench_worker *w)
{
	struct tcp_engine *e = w->engine;
	struct epoll_event evs[TCP_EVENTS];
	u64 now = now_ns(), next_check = now;
	int i, n, wait_ms;

	for (i = 0; i < (int)w->conns; i++)
		if (tcp_fill(w, &e->conns[i], now))
			tcp_reset(w, &e->conns[i]);
	while (!tcp_idle(w)) {
		now = now_ns();
		if (now >= w->t_end)
			break;
		if (now >= next_check) {
			tcp_timeouts(w, now);
			next_check = now + TCP_TICK_MS * NSEC_PER_MSEC;
		}
		wait_ms = TCP_TICK_MS;
		if (w->t_end - now < (u64)wait_ms * NSEC_PER_MSEC)
			wait_ms = (int)((w->t_end - now) / NSEC_PER_MSEC) + 1;
		n = epoll_wait(w->epfd, evs, TCP_EVENTS, wait_ms);
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct tcp_conn *c = evs[i].data.ptr;

			if (c->fd >= 0)
				tcp_event(w, c, evs[i].events, now);
		}
	}
}

static void tcp_teardown(struct bench_worker *w)
{
	struct tcp_engine *e = w->engine;
	u32 i;

	for (i = 0; e->conns && i < w->conns; i++) {
		tcp_close(&e->conns[i]);
		free(e->conns[i].ring);
		free(e->conns[i].rbuf);
		free(e->conns[i].wbuf);
	}
	free(e->conns);
}

static int tcp_setup(struct bench_worker *w)
{
	const struct bench_opts *o = w->sh->o;
	struct tcp_engine *e = w->engine;
	struct tcp_conn *c;
	u32 i;
	int err;

	e->req_max = mc_request_max(&w->sh->fmt);
	if (w->mode == BENCH_RUN && !o->set_weight)
		e->req_max = 6 + o->key_size; /* "get <key>\r\n" */
	e->conns = calloc(w->conns, sizeof(*e->conns));
	if (!e->conns)
		return -ENOMEM;
	for (i = 0; i < w->conns; i++)
		e->conns[i].fd = -1;
	for (i = 0; i < w->conns; i++) {
		c = &e->conns[i];
		c->rcap = TCP_RBUF_INIT;
		c->wcap = TCP_RBUF_INIT;
		c->ring = calloc(w->window, sizeof(*c->ring));
		c->rbuf = malloc(c->rcap);
		c->wbuf = malloc(c->wcap);
		if (!c->ring || !c->rbuf || !c->wbuf)
			return -ENOMEM;
		err = tcp_open(w, c);
		if (err)
			return err;
	}
	return 0;
}

const struct bench_transport bench_tcp = {
	.name = "tcp",
	.engine_size = sizeof(struct tcp_engine),
	.setup = tcp_setup,
	.loop = tcp_loop,
	.teardown = tcp_teardown,
};
