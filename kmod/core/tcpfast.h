/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpfast.h - the backend's side of the TCP fast path (bpf/TCPFAST.md):
 * one entry of the xkv_tcp_ans map (abi/xkv_tcp.h) per connection.
 *
 * A glue (xkvd, xkv.ko) that has the map claims an entry when it accepts a
 * connection, from the connection's addresses, and releases it before the
 * socket closes. In between the TCP pump (tcp.h) publishes there how far
 * it has answered, and reads how many GETs XDP answered for it.
 *
 * Who writes what: the backend writes every field but @hits, and only the
 * connection's owner (the thread serving it) writes its entry once it is
 * LIVE; XDP adds to @hits and reads the rest. Entries are claimed with a
 * compare-and-swap, so two backends' threads never take the same one.
 */
#ifndef XKV_CORE_TCPFAST_H
#define XKV_CORE_TCPFAST_H

#include "os.h"
#include "xkv_tcp.h"

/**
 * xkv_tcp_ans_key() - a connection's addresses, as the map stores them.
 * @key:    out: zeroed, then @family, ports and addresses filled in
 * @family: 4 or 6
 * @caddr:  the client's address: 4 bytes (IPv4) or 16 (IPv6), network order
 * @saddr:  our address, the same way
 * @cport:  the client's port, network order
 * @sport:  our port, network order
 */
void xkv_tcp_ans_key(struct xkv_tcp_ans *key, u32 family, const void *caddr,
		     const void *saddr, __be16 cport, __be16 sport);

/**
 * xkv_tcp_ans_claim() - take an entry for a new connection.
 * @tab: the mapped array, XKV_TCP_ANS_SLOTS entries
 * @key: the connection (xkv_tcp_ans_key())
 *
 * Looks at XKV_TCP_ANS_PROBES entries from xkv_tcp_ans_index(). A LIVE
 * entry with the same addresses can only be left over (TCP never has two
 * connections with the same addresses at once, and the backend releases
 * before it closes): it is taken over. Else the first FREE entry is taken
 * with a compare-and-swap FREE -> BUSY. The addresses are written, @done
 * and @hits zeroed, and LIVE is stored with release ordering: from then
 * on the entry says "nothing read, nothing written", which is true of a
 * connection the backend has not read from yet.
 *
 * Return: the entry, or NULL when none of the probed entries is free.
 */
struct xkv_tcp_ans *xkv_tcp_ans_claim(struct xkv_tcp_ans *tab,
				      const struct xkv_tcp_ans *key);

/**
 * xkv_tcp_ans_release() - give an entry back.
 * @e: an entry xkv_tcp_ans_claim() returned
 *
 * Stores BUSY, clears the entry, then stores FREE with release ordering.
 * Call it before the connection's socket is closed.
 */
void xkv_tcp_ans_release(struct xkv_tcp_ans *e);

/**
 * xkv_tcp_ans_publish() - say how far the connection is answered.
 * @e:    the connection's entry
 * @done: xkv_tcp_ans_pack(request bytes answered, reply bytes written)
 *
 * One 64-bit store with release ordering: XDP sees either the old value
 * or the new one, never half of each.
 */
static inline void xkv_tcp_ans_publish(struct xkv_tcp_ans *e, u64 done)
{
	OS_STORE_RELEASE(e->done, done);
}

/**
 * xkv_tcp_ans_reset() - free every entry of a map a backend takes over.
 * @tab: the mapped array, XKV_TCP_ANS_SLOTS entries
 *
 * One backend owns the map: entries a backend that died left LIVE would
 * take room, and could name a new connection with the same addresses.
 * Each entry that is not FREE goes BUSY, is cleared and goes FREE.
 *
 * Return: how many entries were not FREE.
 */
u32 xkv_tcp_ans_reset(struct xkv_tcp_ans *tab);

#endif /* XKV_CORE_TCPFAST_H */
