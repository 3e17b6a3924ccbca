// SPDX-License-Identifier: GPL-2.0
/*
 * udp.c - memcached over UDP, framed exactly as xkvd does it
 * (kmod/user/udp.c).
 *
 * Every datagram starts with an 8-byte frame header, four 16-bit
 * big-endian fields: request id, sequence number, datagram count and a
 * reserved field (any value accepted). A request must fit one datagram.
 * The reply echoes the request id and is cut into datagrams of at most
 * XKV_UDP_PAYLOAD bytes, header included, numbered 0..n-1, each carrying
 * the count n.
 *
 * All workers share the one UDP socket through one transport. The worker
 * that takes it receives up to XKV_UDP_BATCH datagrams into its own
 * buffers and gives the transport back at once (queued again if more may
 * wait), so the next datagrams are taken by another worker while this one
 * runs the requests - the way sunrpc serves UDP. The batch keeps the one
 * transport that carries every UDP client from getting only one
 * datagram's worth of service per turn of the ready list, against a turn
 * of up to XKV_TCP_READ_BUDGET reads for every TCP connection. Each worker
 * keeps one session for all its datagrams and resets it before each: a
 * partial command at the end of a datagram is dropped.
 *
 * UDP is off unless udp_port= is given. Every datagram goes through the
 * core's policy (kmod/core/udp_policy.h, built by udp_policy.c), as in
 * xkvd: a source allowlist, no reply to port 0, to our own port, to or
 * from broadcast and multicast addresses or to what looks like a reply,
 * and a reply budget enforced before the reply is built.
 */
#include "xkvm.h"

#include <linux/kthread.h>

/* when the socket's send buffer is full: wait this long, this often */
#define XKVM_UDP_WAIT_MS 5
#define XKVM_UDP_WAITS 4

/**
 * xkvm_udp_worker_init() - give a worker its UDP session and buffers.
 * @w: worker with its statistics slot
 *
 * Return: 0 or -ENOMEM.
 */
int xkvm_udp_worker_init(struct xkvm_worker *w)
{
	struct xkvm_udp_state *u;

	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	if (xkv_udp_io_init(&u->io, w->srv->st, w->stats)) {
		kfree(u);
		return -ENOMEM;
	}
	w->udp = u;
	return 0;
}

/**
 * xkvm_udp_worker_exit() - free a worker's UDP state.
 * @w: worker whose thread is stopped
 */
void xkvm_udp_worker_exit(struct xkvm_worker *w)
{
	struct xkvm_udp_state *u = w->udp;

	if (!u)
		return;
	xkv_udp_io_release(&u->io);
	kfree(u);
	w->udp = NULL;
}

/*
 * Send the datagrams of @r to the sender of datagram @slot. A full send
 * buffer is waited out briefly; after that the rest of the reply is
 * dropped, as the network could have dropped it.
 */
static void xkvm_udp_send(struct xkvm_worker *w, int slot,
			  const struct xkv_udp_reply *r)
{
	struct xkvm_udp_state *u = w->udp;
	struct socket *sock = w->srv->udp.sock;
	long wait = msecs_to_jiffies(XKVM_UDP_WAIT_MS);
	u32 k = 0, waits = 0;
	int n;

	while (k < r->ndg) {
		size_t at = (size_t)k * XKV_UDP_CHUNK;
		struct kvec iov[2] = {
			{ .iov_base = r->hdr[k], .iov_len = XKV_UDP_HDR },
			{ .iov_base = (void *)(r->data + at),
			  .iov_len = xkv_udp_chunk_len(r, k) },
		};
		struct msghdr msg = {
			.msg_name = &u->peer[slot],
			.msg_namelen = u->peerlen[slot],
			.msg_flags = MSG_DONTWAIT,
		};

		n = kernel_sendmsg(sock, &msg, iov, 2,
				   iov[0].iov_len + iov[1].iov_len);
		if (n == -EAGAIN || n == -ENOBUFS) {
			if (waits++ >= XKVM_UDP_WAITS || kthread_should_stop())
				return;
			schedule_timeout_interruptible(wait);
			continue;
		}
		if (n < 0)
			return;
		w->stats->bytes_written += n;
		k++;
	}
}

/* Run the request in datagram @slot and answer it. */
static void xkvm_udp_serve(struct xkvm_worker *w, int slot)
{
	struct xkvm_udp_state *u = w->udp;
	const u8 *d = (const u8 *)xkv_udp_rx(&u->io, slot);
	struct xkv_udp_reply r = { .hdr = u->io.hdr };
	struct xkv_udp_addr src, dst;

	w->stats->bytes_read += u->len[slot];
	xkvm_udp_peer(&u->peer[slot], u->cmsg[slot], u->clen[slot], &src, &dst);
	if (xkv_udp_request(u->io.sess, w->srv->udp_pol, &src, &dst, d,
			    u->len[slot], &r))
		xkvm_udp_send(w, slot, &r);
	xkv_udp_done(u->io.sess);
}

/* Receive one datagram into @slot; its length, or -errno. */
static int xkvm_udp_recv(struct xkvm_udp_state *u, struct socket *sock,
			 int slot)
{
	struct kvec iov = {
		.iov_base = xkv_udp_rx(&u->io, slot),
		.iov_len = XKV_UDP_RX_SIZE,
	};
	struct msghdr msg;
	int n;

	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &u->peer[slot];
		msg.msg_namelen = sizeof(u->peer[slot]);
		msg.msg_control = u->cmsg[slot];
		msg.msg_controllen = sizeof(u->cmsg[slot]);
		n = kernel_recvmsg(sock, &msg, &iov, 1, iov.iov_len,
				   MSG_DONTWAIT);
		/* a request must fit one datagram: drop a truncated one */
		if (n < 0 || !(msg.msg_flags & MSG_TRUNC))
			break;
	}
	if (n >= 0) {
		u->len[slot] = n;
		u->peerlen[slot] = msg.msg_namelen;
		/* put_cmsg() moved msg_control past what it wrote */
		u->clen[slot] = sizeof(u->cmsg[slot]) - msg.msg_controllen;
	}
	return n;
}

static void xkvm_udp_process(struct xkvm_worker *w, struct xkvm_xprt *x)
{
	struct xkvm_udp_state *u = w->udp;
	int i, n = 0;

	xkvm_xprt_clear(x, XKVM_XF_DATA);
	if (u && x->sock) {
		for (n = 0; n < XKV_UDP_BATCH; n++) {
			if (xkvm_udp_recv(u, x->sock, n) < 0)
				break;
		}
	}
	/* a full batch: more may wait, and the next worker may take them */
	if (n == XKV_UDP_BATCH)
		set_bit(XKVM_XF_DATA, &x->flags);
	xkvm_xprt_received(x);

	for (i = 0; i < n; i++)
		xkvm_udp_serve(w, i);
}

const struct xkvm_xprt_ops xkvm_udp_ops = {
	.name = "udp",
	.process = xkvm_udp_process,
};
