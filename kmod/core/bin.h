/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bin.h - memcached's binary protocol for a session (session.h).
 *
 * A connection whose first byte is XKV_BIN_REQ speaks binary for its whole
 * life (a UDP datagram: for that datagram). The session (proto.c) then
 * hands every byte to xkv_bin_input(), which keeps the session's contract:
 * values stream into their item, a packet starts only when the output is
 * under XKV_SESS_OUT_HIGH and the budget has room for its reply (else the
 * bytes are left unused, the session stalled), and nothing a client
 * declares (a body length) is allocated before the store accepts it.
 * A packet's header, extras and key are copied into the session when they
 * come in pieces, so every byte offered is either used or left for later
 * only at a packet's start.
 */
#ifndef XKV_CORE_BIN_H
#define XKV_CORE_BIN_H

#include "buf.h"
#include "store.h"
#include "xkv_bin.h"

struct xkv_bin;

/**
 * struct xkv_bin_io - what a binary session shares with its session.
 * @st:      store
 * @ts:      the serving worker's counters
 * @out:     the session's output
 * @udp:     a datagram session
 * @closing: out: close once the output is sent
 * @stalled: out: stopped for want of budget (xkv_sess_stalled())
 */
struct xkv_bin_io {
	struct xkv_store *st;
	struct xkv_thread_stats *ts;
	struct xkv_buf *out;
	bool udp;
	bool closing;
	bool stalled;
};

/**
 * xkv_bin_new() - state for a binary session.
 *
 * Return: the state, or NULL when memory is short.
 */
struct xkv_bin *xkv_bin_new(void);

/**
 * xkv_bin_reset() - drop a half-read packet (and its item).
 * @b:  state
 * @st: store
 */
void xkv_bin_reset(struct xkv_bin *b, struct xkv_store *st);

/**
 * xkv_bin_free() - free the state and anything it holds.
 * @b:  state, may be NULL
 * @st: store
 */
void xkv_bin_free(struct xkv_bin *b, struct xkv_store *st);

/**
 * xkv_bin_between() - is the next byte a packet's first?
 * @b: state
 *
 * Return: true between two packets.
 */
bool xkv_bin_between(const struct xkv_bin *b);

/**
 * xkv_bin_input() - run the binary packets in @in.
 * @b:   state
 * @io:  the session's store, counters and output; @closing and @stalled
 *       are set here
 * @in:  bytes received and not yet used
 * @len: how many
 *
 * Return: bytes of @in used; the rest starts a packet that must wait
 * (output over XKV_SESS_OUT_HIGH, or the budget short) and must be
 * offered again.
 */
size_t xkv_bin_input(struct xkv_bin *b, struct xkv_bin_io *io,
		     const char *in, size_t len);

#endif /* XKV_CORE_BIN_H */
