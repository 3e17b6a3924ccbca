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
 * that takes it takes up to XKV_UDP_BATCH datagrams off the socket's
 * queue (their skbs, as sunrpc does: no recvmsg(), no copy of the
 * payload, the ends read from the headers) and gives the transport back
 * at once (queued again if more may wait), so the next datagrams are
 * taken by another worker while this one runs the requests. The batch
 * keeps the one transport that carries every UDP client from getting only
 * one datagram's worth of service per turn of the ready list, against a
 * turn of up to XKV_TCP_READ_BUDGET reads for every TCP connection. Each
 * worker keeps one session for all its datagrams and resets it before
 * each: a partial command at the end of a datagram is dropped.
 *
 * UDP is off unless udp_port= is given. Every datagram goes through the
 * core's policy (kmod/core/udp_policy.h, built by udp_policy.c), as in
 * xkvd: a source allowlist, no reply to port 0, to our own port, to or
 * from broadcast and multicast addresses or to what looks like a reply,
 * and a reply budget enforced before the reply is built.
 */
#include "xkvm.h"

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/kthread.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/udp.h>

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
	struct xkv_udp_reply r = { .hdr = u->io.hdr };

	w->stats->bytes_read += u->len[slot];
	if (xkv_udp_request(u->io.sess, w->srv->udp_pol, &u->src[slot],
			    &u->dst[slot], u->data[slot], u->len[slot], &r))
		xkvm_udp_send(w, slot, &r);
	xkv_udp_done(u->io.sess);
}

/*
 * Is the IPv4 datagram @skb addressed to a group (broadcast or multicast)?
 * As IP_PKTINFO tells it: UDP's receive path (ipv4_pktinfo_prepare(),
 * for a socket that asked for IP_PKTINFO, as xkvm_udp_policy_open() does)
 * left a struct in_pktinfo at the start of skb->cb whose ipi_spec_dst,
 * the local address a reply would come from, differs from the
 * destination for those.
 */
static bool xkvm_udp_v4_group(const struct sk_buff *skb)
{
	const struct in_pktinfo *pi = (const struct in_pktinfo *)skb->cb;

	BUILD_BUG_ON(sizeof(*pi) > sizeof(skb->cb));
	return pi->ipi_spec_dst.s_addr != ip_hdr(skb)->daddr;
}

/*
 * Name the two ends of datagram @slot, whose skb is in u->skb[slot], as
 * recvmsg() and its IP_PKTINFO / IPV6_PKTINFO would on @sk: the sender as
 * the reply's destination (IPv4-mapped on an IPv6 socket), and both ends
 * for the policy.
 */
static void xkvm_udp_ends(struct xkvm_udp_state *u, const struct sock *sk,
			  int slot)
{
	const struct sk_buff *skb = u->skb[slot];
	const struct udphdr *uh = udp_hdr(skb);
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&u->peer[slot];
	struct sockaddr_in *sin = (struct sockaddr_in *)&u->peer[slot];
	struct xkv_udp_addr *src = &u->src[slot], *dst = &u->dst[slot];

	if (skb->protocol == htons(ETH_P_IP)) {
		const struct iphdr *iph = ip_hdr(skb);

		xkv_udp_addr_set(src, (const u8 *)&iph->saddr, 4,
				 ntohs(uh->source));
		xkv_udp_addr_set(dst, (const u8 *)&iph->daddr, 4, 0);
		dst->group = xkvm_udp_v4_group(skb);
		if (sk->sk_family == AF_INET6) {
			memset(sin6, 0, sizeof(*sin6));
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = uh->source;
			ipv6_addr_set_v4mapped(iph->saddr, &sin6->sin6_addr);
			u->peerlen[slot] = sizeof(*sin6);
		} else {
			memset(sin, 0, sizeof(*sin));
			sin->sin_family = AF_INET;
			sin->sin_port = uh->source;
			sin->sin_addr.s_addr = iph->saddr;
			u->peerlen[slot] = sizeof(*sin);
		}
		return;
	}
#if IS_ENABLED(CONFIG_IPV6)
	{
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		xkv_udp_addr_set(src, ip6h->saddr.s6_addr, 16,
				 ntohs(uh->source));
		xkv_udp_addr_set(dst, ip6h->daddr.s6_addr, 16, 0);
		memset(sin6, 0, sizeof(*sin6));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = uh->source;
		sin6->sin6_addr = ip6h->saddr;
		sin6->sin6_scope_id =
			ipv6_iface_scope_id(&ip6h->saddr, inet6_iif(skb));
		u->peerlen[slot] = sizeof(*sin6);
	}
#endif
}

/*
 * Take the next datagram off @sk into @slot: its skb, payload, length and
 * ends. Datagrams with a bad checksum are dropped on the way, as
 * recvmsg() drops them. Return: 0, or -EAGAIN when none waits.
 */
static int xkvm_udp_take(struct xkvm_udp_state *u, struct sock *sk, int slot)
{
	struct sk_buff *skb;
	int err;

	for (;;) {
		skb = skb_recv_udp(sk, MSG_DONTWAIT, &err);
		if (!skb)
			return -EAGAIN;
		if (!udp_lib_checksum_complete(skb))
			break;
		kfree_skb(skb);
	}
	u->skb[slot] = skb;
	u->len[slot] = skb->len;
	if (skb_is_nonlinear(skb)) {
		/* a UDP payload always fits the receive buffer */
		BUILD_BUG_ON(XKV_UDP_RX_SIZE < 65535);
		skb_copy_bits(skb, 0, xkv_udp_rx(&u->io, slot), skb->len);
		u->data[slot] = (const u8 *)xkv_udp_rx(&u->io, slot);
	} else {
		u->data[slot] = skb->data;
	}
	xkvm_udp_ends(u, sk, slot);
	return 0;
}

/*
 * Take up to XKV_UDP_BATCH datagrams straight off the socket's queue (no
 * recvmsg(): no copy of a linear payload, no control messages built and
 * parsed again), give the transport back, then serve them and free them.
 */
static void xkvm_udp_process(struct xkvm_worker *w, struct xkvm_xprt *x)
{
	struct xkvm_udp_state *u = w->udp;
	int i, n = 0;

	xkvm_xprt_clear(x, XKVM_XF_DATA);
	if (u && x->sock) {
		for (n = 0; n < XKV_UDP_BATCH; n++) {
			if (xkvm_udp_take(u, x->sock->sk, n))
				break;
		}
	}
	/* a full batch: more may wait, and the next worker may take them */
	if (n == XKV_UDP_BATCH)
		set_bit(XKVM_XF_DATA, &x->flags);
	xkvm_xprt_received(x);

	for (i = 0; i < n; i++) {
		xkvm_udp_serve(w, i);
		consume_skb(u->skb[i]);
		u->skb[i] = NULL;
	}
}

const struct xkvm_xprt_ops xkvm_udp_ops = {
	.name = "udp",
	.process = xkvm_udp_process,
};
