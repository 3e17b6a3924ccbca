/* SPDX-License-Identifier: GPL-2.0 */
/*
 * udp.h - memcached's UDP framing, shared by every transport.
 *
 * A request is one datagram: an 8-byte frame header (request id, sequence
 * number, datagram count, reserved; 16-bit big-endian each) and commands.
 * The reply is the session's output cut into datagrams of at most
 * XKV_UDP_PAYLOAD bytes, each behind a header that echoes the request id
 * and numbers the datagram among the reply's. The transport only moves
 * bytes: xkv_udp_request() runs the request and says what to send, the
 * transport sends datagram k as hdr[k] followed by xkv_udp_chunk(r, k),
 * then calls xkv_udp_done().
 */
#ifndef XKV_CORE_UDP_H
#define XKV_CORE_UDP_H

#include "session.h"
#include "udp_policy.h"

/* reply bytes in one datagram, after its frame header */
#define XKV_UDP_CHUNK (XKV_UDP_PAYLOAD - XKV_UDP_HDR)
/*
 * The most datagrams one reply may take: 1024 * (1400 - 8) bytes, a little
 * over 1.3 MiB, so a full default-sized (1 MiB) item still fits. The frame
 * header could count up to 65535, but a reply that large is an
 * amplification tool and would be lost on most paths anyway; a larger
 * reply is replaced by one SERVER_ERROR datagram.
 */
#define XKV_UDP_MAX_DGRAMS 1024

/* a request must fit one datagram; a receive buffer holds the largest */
#define XKV_UDP_RX_SIZE 65536
/* datagrams a worker takes per turn (recvmmsg() batch, kthread turn) */
#define XKV_UDP_BATCH 8

/**
 * struct xkv_udp_io - one worker's UDP session and buffers.
 * @sess: the worker's datagram session
 * @rx:   XKV_UDP_BATCH receive buffers of XKV_UDP_RX_SIZE bytes
 * @hdr:  XKV_UDP_MAX_DGRAMS frame headers of the reply being sent
 */
struct xkv_udp_io {
	struct xkv_sess *sess;
	char *rx;
	u8 (*hdr)[XKV_UDP_HDR];
};

/**
 * xkv_udp_io_init() - allocate a worker's UDP session and buffers.
 * @io:    zeroed
 * @st:    store
 * @stats: the worker's counters slot
 *
 * Return: 0 or -ENOMEM.
 */
int xkv_udp_io_init(struct xkv_udp_io *io, struct xkv_store *st,
		    struct xkv_thread_stats *stats);

/**
 * xkv_udp_io_release() - free what xkv_udp_io_init() allocated.
 * @io: initialised, or zeroed
 */
void xkv_udp_io_release(struct xkv_udp_io *io);

/* receive buffer @slot, below XKV_UDP_BATCH */
static inline char *xkv_udp_rx(const struct xkv_udp_io *io, int slot)
{
	return io->rx + (size_t)slot * XKV_UDP_RX_SIZE;
}

/**
 * struct xkv_udp_reply - what to send for one request.
 * @data: reply bytes (the session's output or a fixed error line)
 * @len:  their length
 * @ndg:  datagrams to send, 0 for none
 * @hdr:  the caller's XKV_UDP_MAX_DGRAMS frame headers; hdr[k] is filled
 *        for every k < @ndg
 */
struct xkv_udp_reply {
	const char *data;
	size_t len;
	u32 ndg;
	u8 (*hdr)[XKV_UDP_HDR];
};

/**
 * xkv_udp_request() - run one request datagram under a policy.
 * @s:   the worker's UDP session
 * @pol: the server's UDP policy (udp_policy.h)
 * @src: the datagram's source
 * @dst: its destination (alen 0 if unknown)
 * @d:   the datagram, frame header included
 * @len: its length
 * @r:   out: the reply; set @r->hdr before the call
 *
 * No reply, and nothing run, for a datagram shorter than a frame header,
 * one the policy refuses (xkv_udp_refused()), one that claims to be part
 * of a multi-datagram message, or one whose payload starts like a reply
 * (an upper-case letter or a digit: every command is lower case). The
 * session's output is limited to the reply budget before the commands
 * run (the session also stays silent where TCP would answer "ERROR"); a
 * reply that would pass it is replaced by one SERVER_ERROR line, or by
 * nothing when even that line is over the budget.
 *
 * Return: @r->ndg.
 */
u32 xkv_udp_request(struct xkv_sess *s, const struct xkv_udp_policy *pol,
		    const struct xkv_udp_addr *src,
		    const struct xkv_udp_addr *dst, const u8 *d, size_t len,
		    struct xkv_udp_reply *r);

/**
 * xkv_udp_chunk_len() - payload bytes of datagram @k after its header.
 * @r: reply
 * @k: datagram number, below @r->ndg
 *
 * Return: the length; the bytes start at @r->data + @k * XKV_UDP_CHUNK.
 */
static inline size_t xkv_udp_chunk_len(const struct xkv_udp_reply *r, u32 k)
{
	size_t at = (size_t)k * XKV_UDP_CHUNK;

	return r->len - at < XKV_UDP_CHUNK ? r->len - at : XKV_UDP_CHUNK;
}

/**
 * xkv_udp_done() - the reply was sent (or dropped): release its bytes.
 * @s: the session passed to xkv_udp_request()
 */
void xkv_udp_done(struct xkv_sess *s);

#endif /* XKV_CORE_UDP_H */
