// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - worker threads: one epoll instance each, and its event loop.
 *
 * A worker's epoll instance holds the stop eventfd, the TCP listen socket
 * and the UDP socket (both shared with the other workers, with
 * EPOLLEXCLUSIVE so one wakeup does not wake them all), the pipe other
 * workers hand it accepted sockets through, and the TCP connections it
 * owns. Events are level-triggered: a handler
 * may stop early to be fair to others and is called again.
 *
 * Busy polling (--busy-poll): behind XDP most GETs are answered at the
 * driver and the few datagrams that reach xkvd come one at a time, so
 * each would cost a sleep and a wakeup (measured here: a miss cost about
 * twice what the same GET costs xkvd without XDP). With busy polling set
 * on a worker's epoll instance (EPIOCSPARAMS, Linux 6.9+), epoll_wait()
 * with nothing ready first polls the device queue its sockets' packets
 * came from (their NAPI id) for up to that long, running the driver's
 * receive path, XDP included, in the worker, and sleeps only after
 * that. It takes effect only for queues with a NAPI id (a NIC's, a veth
 * with XDP attached); elsewhere epoll sleeps at once, as without it.
 *
 * It pays only while events come closer together than the poll lasts.
 * When XDP answers nearly every GET, the misses that reach xkvd are far
 * apart, and each would start a poll that finds nothing and spins on a
 * CPU the clients and the driver need (measured with bench/compare, 99%
 * hot-tier hits: GET/s 242,861 with a 20 us poll against 295,448 without,
 * and a spread of -24% to +25% between rounds against 1%). So a worker
 * keeps a moving average of the time between the returns of its
 * epoll_wait() and polls only while that is below the poll's length,
 * until it grows past four times that (busy.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "xkvd.h"

#define EVENTS_MAX 64

/*
 * Linux 6.9's epoll busy-poll parameters (linux/eventpoll.h), defined
 * here for older headers; a kernel without them refuses the ioctl.
 */
struct xkvd_epoll_params {
	u32 busy_poll_usecs;
	u16 busy_poll_budget;
	u8 prefer_busy_poll;
	u8 pad;
};

#define XKVD_EPIOCSPARAMS _IOW(0x8A, 0x01, struct xkvd_epoll_params)
/* packets per poll: one recvmmsg() batch */
#define BUSY_POLL_BUDGET XKV_UDP_BATCH

/**
 * xkvd_fatal() - stop the daemon after an unrecoverable error.
 * @srv: server
 *
 * Wakes the main thread as SIGTERM would, and makes it exit non-zero.
 */
void xkvd_fatal(struct xkvd_server *srv)
{
	__atomic_store_n(&srv->fatal, 1, __ATOMIC_SEQ_CST);
	kill(getpid(), SIGTERM);
}

static void worker_event(struct xkvd_worker *w, struct epoll_event *ev,
			 bool *stop)
{
	struct xkvd_ev *tag = ev->data.ptr;

	switch (tag->kind) {
	case XKVD_EV_STOP:
		*stop = true;
		break;
	case XKVD_EV_LISTEN:
		if (!*stop)
			xkvd_tcp_accept(w);
		break;
	case XKVD_EV_UDP:
		if (!*stop)
			xkvd_udp_read(w);
		break;
	case XKVD_EV_HANDOFF:
		xkvd_tcp_handoff_read(w);
		break;
	case XKVD_EV_CONN:
		xkvd_conn_event(xkvd_container_of(tag, struct xkvd_conn, ev),
				ev->events);
		break;
	}
}

/* set @w's epoll busy polling to @usecs (0: off); 0 or -1 with errno */
static int busy_set(struct xkvd_worker *w, u32 usecs)
{
	struct xkvd_epoll_params p = {
		.busy_poll_usecs = usecs,
		.busy_poll_budget = BUSY_POLL_BUDGET,
	};

	return ioctl(w->epfd, XKVD_EPIOCSPARAMS, &p);
}

/*
 * epoll_wait() returned events: let xkvd_busy_next() (busy.h) decide and
 * apply what it says. If the kernel refuses a change, the worker keeps
 * what it had.
 */
static void busy_adapt(struct xkvd_worker *w)
{
	u32 usecs = w->srv->busy_poll_us;
	bool on;

	if (!w->busy_ok)
		return;
	on = xkvd_busy_next(&w->busy, os_mono_ns(), (u64)usecs * 1000);
	if (on != w->busy.on && !busy_set(w, on ? usecs : 0))
		w->busy.on = on;
}

static void *worker_main(void *arg)
{
	struct xkvd_worker *w = arg;
	struct epoll_event evs[EVENTS_MAX];
	bool stop = false;
	int i, n, timeout, tick;
	u64 now;

	while (!stop) {
		now = xkvd_now_ms();
		timeout = xkvd_tcp_resume(w, now);
		if (!timeout)
			timeout = -1;
		tick = xkvd_conns_tick(w, now);
		if (tick >= 0 && (timeout < 0 || tick < timeout))
			timeout = tick;
		n = epoll_wait(w->epfd, evs, EVENTS_MAX, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "xkvd: worker %u: epoll_wait: %s\n",
				w->index, strerror(errno));
			xkvd_fatal(w->srv);
			break;
		}
		if (n > 0)
			busy_adapt(w);
		for (i = 0; i < n; i++)
			worker_event(w, &evs[i], &stop);
	}
	while (w->conns)
		xkvd_conn_close(w->conns);
	return NULL;
}

/*
 * Busy-poll on @w's epoll instance (see the top of this file). A kernel
 * without it is no error: the worker sleeps at once, as it would without.
 */
static void worker_busy_poll(struct xkvd_worker *w)
{
	struct xkvd_server *srv = w->srv;

	if (!srv->busy_poll_us)
		return;
	if (!busy_set(w, srv->busy_poll_us)) {
		w->busy_ok = true;
		w->busy.on = true;
		return;
	}
	if (w->index == 0 && (srv->busy_poll_asked || xkv_os_verbose >= 1))
		fprintf(stderr,
			"xkvd: --busy-poll: this kernel refuses epoll busy "
			"polling (%s; Linux 6.9+): workers sleep at once\n",
			strerror(errno));
}

/* Everything a worker needs before its thread runs; undone by worker_exit. */
static int worker_init(struct xkvd_worker *w)
{
	struct xkvd_server *srv = w->srv;
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.ptr = &srv->ev_stop,
	};
	int err;

	w->stats = xkv_store_stats_slot(srv->st, w->index);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	worker_busy_poll(w);
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->stop_fd, &ev)) {
		err = -errno;
		goto close_epoll;
	}
	if (srv->tcp_fd >= 0) {
		err = xkvd_tcp_handoff_init(w);
		if (err)
			goto close_epoll;
		err = xkvd_tcp_watch(w);
		if (err)
			goto close_handoff;
	}
	if (srv->udp_fd >= 0) {
		err = xkvd_udp_init(w);
		if (err)
			goto close_handoff;
	}
	return 0;

close_handoff:
	xkvd_tcp_handoff_exit(w);
close_epoll:
	close(w->epfd);
	w->epfd = -1;
	return err;
}

static void worker_exit(struct xkvd_worker *w)
{
	while (w->conns)
		xkvd_conn_close(w->conns);
	xkvd_tcp_handoff_exit(w);
	xkvd_udp_exit(w);
	if (w->epfd >= 0)
		close(w->epfd);
	w->epfd = -1;
}

/**
 * xkvd_workers_start() - create and start srv->set.threads workers.
 * @srv: server, with its store and sockets open
 *
 * On failure some workers may exist or run: xkvd_workers_stop() after the
 * stop eventfd was written cleans up either way.
 *
 * Return: 0 or -errno.
 */
int xkvd_workers_start(struct xkvd_server *srv)
{
	struct xkvd_worker *w;
	u32 i;
	int err;

	srv->workers = calloc(srv->set.threads, sizeof(*srv->workers));
	if (!srv->workers)
		return -ENOMEM;
	srv->nworkers = srv->set.threads;
	/* -1: no descriptor yet, which xkvd_workers_stop() leaves alone */
	for (i = 0; i < srv->nworkers; i++)
		srv->workers[i] = (struct xkvd_worker){
			.srv = srv,
			.index = i,
			.epfd = -1,
			.handoff_rd = -1,
			.handoff_wr = -1,
		};
	for (i = 0; i < srv->nworkers; i++) {
		err = worker_init(&srv->workers[i]);
		if (err) {
			fprintf(stderr, "xkvd: cannot set up worker %u: %s\n",
				i, strerror(-err));
			return err;
		}
	}
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			fprintf(stderr, "xkvd: cannot start worker %u: %s\n", i,
				strerror(err));
			return -err;
		}
		w->started = true;
	}
	return 0;
}

/**
 * xkvd_workers_stop() - join the workers and free what they own.
 * @srv: server; its stop eventfd must have been written
 */
void xkvd_workers_stop(struct xkvd_server *srv)
{
	struct xkvd_worker *w;
	u32 i;

	/* all first: a running worker may still hand a socket to another */
	for (i = 0; i < srv->nworkers; i++) {
		w = &srv->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
	}
	for (i = 0; i < srv->nworkers; i++)
		worker_exit(&srv->workers[i]);
	free(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
}
