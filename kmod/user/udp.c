// SPDX-License-Identifier: GPL-2.0
/*
 * udp.c - memcached over UDP.
 *
 * Every datagram starts with an 8-byte frame header, four 16-bit
 * big-endian fields: request id, sequence number, datagram count and a
 * reserved field (any value accepted; memcaslap sends 01 00). A request
 * must fit one datagram. The reply echoes the request id and is cut into
 * datagrams of at most XKV_UDP_PAYLOAD bytes, header included, numbered
 * 0..n-1, each carrying the count n.
 *
 * All workers share one UDP socket, in each worker's epoll instance with
 * EPOLLEXCLUSIVE, and take datagrams from it in batches with recvmmsg().
 * The replies of one batch that fit one datagram (nearly all: a GET of a
 * small value) are copied aside and leave together in one sendmmsg()
 * once the batch is answered; a longer reply first sends those, then its
 * own datagrams. Behind XDP, busy polling (worker.c) keeps the workers
 * from sleeping between the few datagrams XDP passes up.
 * One SO_REUSEPORT socket per worker would spread load by the client's
 * address and port hash only, so a single busy client would still land on
 * one worker, and it would let a second server share the port.
 *
 * Each worker keeps one session for all its datagrams and resets it before
 * each one: a partial command at the end of a datagram is dropped.
 *
 * UDP is off unless -U is given. Every datagram goes through the core's
 * policy (kmod/core/udp_policy.h, built by udp_policy.c): a source
 * allowlist, no reply to port 0, to our own port, to or from broadcast
 * and multicast addresses or to what looks like a reply, and a reply
 * budget enforced before the reply is built. There is no per-source rate
 * limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "udp.h"
#include "xkvd.h"

/* recvmmsg() calls per wakeup, so TCP clients of this worker get a turn */
#define UDP_ROUNDS 4
/* when the socket's send buffer is full: wait this long, this often */
#define UDP_WAIT_MS 5
#define UDP_WAITS 4


/**
 * xkvd_udp_init() - give a worker its UDP session and buffers.
 * @w: worker; its epoll instance must exist
 *
 * Return: 0 or -errno.
 */
int xkvd_udp_init(struct xkvd_worker *w)
{
	struct xkvd_server *srv = w->srv;
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLEXCLUSIVE,
		.data.ptr = &srv->ev_udp,
	};
	struct xkvd_udp *u;
	int err = -ENOMEM;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	if (xkv_udp_io_init(&u->io, srv->st, w->stats))
		goto free_udp;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->udp_fd, &ev)) {
		err = -errno;
		goto release_io;
	}
	w->udp = u;
	return 0;

release_io:
	xkv_udp_io_release(&u->io);
free_udp:
	free(u);
	return err;
}

/**
 * xkvd_udp_exit() - free a worker's UDP state.
 * @w: worker
 */
void xkvd_udp_exit(struct xkvd_worker *w)
{
	struct xkvd_udp *u = w->udp;

	if (!u)
		return;
	xkv_udp_io_release(&u->io);
	free(u);
	w->udp = NULL;
}

/*
 * sendmmsg() the @count datagrams described in u->smsg. A full send
 * buffer is waited out briefly; after that the rest is dropped, as the
 * network could have dropped it.
 *
 * Return: false when some were dropped.
 */
static bool udp_sendmmsg(struct xkvd_worker *w, u32 count)
{
	struct xkvd_udp *u = w->udp;
	struct pollfd pfd = { .fd = w->srv->udp_fd, .events = POLLOUT };
	u32 sent = 0, k, waits = 0;
	int n;

	while (sent < count) {
		n = sendmmsg(w->srv->udp_fd, u->smsg + sent, count - sent,
			     MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == ENOBUFS) &&
			    waits++ < UDP_WAITS) {
				poll(&pfd, 1, UDP_WAIT_MS);
				continue;
			}
			return false;
		}
		for (k = sent; k < sent + (u32)n; k++)
			w->stats->bytes_written += u->smsg[k].msg_len;
		sent += (u32)n;
	}
	return true;
}

/* Address u->smsg[k], the first @n iovecs of u->siov[k], to @slot's sender. */
static void udp_msg(struct xkvd_udp *u, u32 k, int slot, u32 n)
{
	struct msghdr *m = &u->smsg[k].msg_hdr;
	const struct msghdr *req = &u->rmsg[slot].msg_hdr;

	memset(m, 0, sizeof(*m));
	m->msg_name = req->msg_name;
	m->msg_namelen = req->msg_namelen;
	m->msg_iov = u->siov[k];
	m->msg_iovlen = n;
}

/* Send the one-datagram replies waiting in u->pend. */
static void udp_flush(struct xkvd_worker *w)
{
	struct xkvd_udp *u = w->udp;

	if (u->npend)
		udp_sendmmsg(w, u->npend);
	u->npend = 0;
}

/*
 * Answer datagram @slot with @r: a one-datagram reply is copied aside
 * for udp_flush(); a longer one is sent now, after what waits.
 */
static void udp_send(struct xkvd_worker *w, int slot,
		     const struct xkv_udp_reply *r)
{
	struct xkvd_udp *u = w->udp;
	u32 sent = 0, batch, k;
	size_t len;

	if (r->ndg == 1 && u->npend < XKV_UDP_BATCH) {
		k = u->npend++;
		len = xkv_udp_chunk_len(r, 0);
		memcpy(u->pend[k], u->io.hdr[0], XKV_UDP_HDR);
		memcpy(u->pend[k] + XKV_UDP_HDR, r->data, len);
		u->siov[k][0].iov_base = u->pend[k];
		u->siov[k][0].iov_len = XKV_UDP_HDR + len;
		udp_msg(u, k, slot, 1);
		return;
	}
	udp_flush(w);
	while (sent < r->ndg) {
		batch = r->ndg - sent;
		if (batch > XKVD_UDP_SEND_BATCH)
			batch = XKVD_UDP_SEND_BATCH;
		for (k = 0; k < batch; k++) {
			size_t at = (size_t)(sent + k) * XKV_UDP_CHUNK;

			u->siov[k][0].iov_base = u->io.hdr[sent + k];
			u->siov[k][0].iov_len = XKV_UDP_HDR;
			u->siov[k][1].iov_base = (void *)(r->data + at);
			u->siov[k][1].iov_len = xkv_udp_chunk_len(r, sent + k);
			udp_msg(u, k, slot, 2);
		}
		/* the rest of a reply the network lost part of is no use */
		if (!udp_sendmmsg(w, batch))
			return;
		sent += batch;
	}
}

/* Run the request in datagram @slot and answer it. */
static void udp_request(struct xkvd_worker *w, int slot)
{
	struct xkvd_udp *u = w->udp;
	const u8 *d = (const u8 *)xkv_udp_rx(&u->io, slot);
	size_t len = u->rmsg[slot].msg_len;
	struct xkv_udp_reply r = { .hdr = u->io.hdr };
	struct xkv_udp_addr src, dst;

	if (u->rmsg[slot].msg_hdr.msg_flags & MSG_TRUNC)
		return;
	w->stats->bytes_read += len;
	xkvd_udp_peer(&u->rmsg[slot].msg_hdr, &src, &dst);
	if (xkv_udp_request(u->io.sess, w->srv->udp_pol, &src, &dst, d, len,
			    &r))
		udp_send(w, slot, &r);
	xkv_udp_done(u->io.sess);
}

/**
 * xkvd_udp_read() - take datagrams from the UDP socket and answer them.
 * @w: the worker woken for them
 */
void xkvd_udp_read(struct xkvd_worker *w)
{
	struct xkvd_udp *u = w->udp;
	int round, i, n;

	for (round = 0; round < UDP_ROUNDS; round++) {
		for (i = 0; i < XKV_UDP_BATCH; i++) {
			struct msghdr *m = &u->rmsg[i].msg_hdr;

			u->riov[i].iov_base = xkv_udp_rx(&u->io, i);
			u->riov[i].iov_len = XKV_UDP_RX_SIZE;
			memset(m, 0, sizeof(*m));
			m->msg_name = &u->peer[i];
			m->msg_namelen = sizeof(u->peer[i]);
			m->msg_iov = &u->riov[i];
			m->msg_iovlen = 1;
			m->msg_control = u->cmsg[i];
			m->msg_controllen = sizeof(u->cmsg[i]);
		}
		n = recvmmsg(w->srv->udp_fd, u->rmsg, XKV_UDP_BATCH,
			     MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < n; i++)
			udp_request(w, i);
		/* before the next recvmmsg() reuses the peer addresses */
		udp_flush(w);
		if (n < XKV_UDP_BATCH)
			return;
	}
}
