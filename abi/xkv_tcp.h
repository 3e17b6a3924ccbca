/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_tcp.h - the TCP fast path's shared layouts (bpf/TCPFAST.md).
 *
 * Map xkv_tcp_ans: BPF_MAP_TYPE_ARRAY, BPF_F_MMAPABLE, XKV_TCP_ANS_SLOTS
 * entries of struct xkv_tcp_ans. The backend (xkvd, xkv.ko) claims one
 * entry per accepted connection, at xkv_tcp_ans_index() of the
 * connection's addresses (probing XKV_TCP_ANS_PROBES entries), and
 * publishes there how far it has answered. XDP answers a GET on that
 * connection only when the backend has answered every byte before it and
 * the client has acknowledged every byte the backend wrote.
 *
 * Map xkv_tcp_stats: BPF_MAP_TYPE_PERCPU_ARRAY, one struct xkv_tcp_stats.
 * Map xkv_tcp_ctl: BPF_MAP_TYPE_ARRAY, one struct xkv_tcp_ctl, written by
 * the loader to turn answering on and off while translation goes on.
 */
#ifndef XKV_ABI_TCP_H
#define XKV_ABI_TCP_H

#include "xkv_types.h"

/* entries of xkv_tcp_ans: connections the fast path can serve at once */
#define XKV_TCP_ANS_SLOTS 65536
/* entries looked at, from xkv_tcp_ans_index() on, to claim or find one */
#define XKV_TCP_ANS_PROBES 4

/* struct xkv_tcp_ans.owner */
#define XKV_TCP_ANS_FREE 0	/* nobody's */
#define XKV_TCP_ANS_BUSY 1	/* being claimed or released: not valid */
#define XKV_TCP_ANS_LIVE 2	/* a live connection's, fields valid */

/* struct xkv_tcp_ans.proto */
#define XKV_TCP_PROTO_NONE 0	/* nothing read: the first byte decides */
#define XKV_TCP_PROTO_TEXT 1	/* text (and meta) commands */
#define XKV_TCP_PROTO_BIN 2	/* binary packets */
#define XKV_TCP_PROTO_OFF 3	/* nothing: clients authenticate first */

/**
 * struct xkv_tcp_ans - what the backend has answered on one connection.
 * @owner:  XKV_TCP_ANS_*. The backend claims a free entry with a
 *          compare-and-swap FREE -> BUSY, writes the addresses and zeroes
 *          @done and @hits, then stores LIVE with release ordering. To
 *          release it stores BUSY, then FREE.
 * @family: 4 or 6
 * @cport:  the client's port, network order
 * @sport:  our (the listening) port, network order
 * @proto:  XKV_TCP_PROTO_*: what XDP may answer on the connection. The
 *          backend claims the entry with XKV_TCP_PROTO_NONE, or
 *          XKV_TCP_PROTO_OFF when its clients must authenticate first
 *          (-S, -Y), and stores TEXT or BIN once the connection's first
 *          byte decided it, before the @done that counts that byte.
 * @caddr:  the client's address (IPv4: caddr[0], the rest zero)
 * @saddr:  our address (IPv4: saddr[0], the rest zero)
 * @done:   low 32 bits: request bytes the backend has read, run and
 *          answered, counted from the connection's first byte (so the
 *          backend is between two commands there: no partial line, no
 *          value still coming); high 32 bits: reply bytes the backend has
 *          handed to its socket, from the first byte. Both wrap. Stored
 *          with one 64-bit release store by xkv_tcp_ans_publish(), only
 *          when the backend owes nothing: all its input is answered and
 *          all its output is in the socket.
 * @hits:   GETs XDP answered on the connection (added by XDP): the
 *          backend counts a change as activity for its idle timeout.
 */
struct xkv_tcp_ans {
	__u32 owner;
	__u32 family;
	__be16 cport;
	__be16 sport;
	__u32 proto;
	__be32 caddr[4];
	__be32 saddr[4];
	__u64 done;
	__u64 hits;
};
XKV_STATIC_ASSERT(sizeof(struct xkv_tcp_ans) == 64,
		  "struct xkv_tcp_ans is one cache line");

/**
 * xkv_tcp_ans_index() - the first entry of a connection's probe run.
 * @caddr: client address, 4 words (IPv4: word 0, the rest zero)
 * @saddr: our address, the same way
 * @cport: client port, network order
 * @sport: our port, network order
 *
 * Return: an index below XKV_TCP_ANS_SLOTS; entry k of the run is
 * (index + k) % XKV_TCP_ANS_SLOTS.
 */
XKV_ABI_INLINE __u32 xkv_tcp_ans_index(const __be32 *caddr,
				       const __be32 *saddr, __be16 cport,
				       __be16 sport)
{
	__u32 h = 2166136261U, i;

	for (i = 0; i < 4; i++)
		h = (h ^ (__u32)caddr[i]) * 16777619U;
	for (i = 0; i < 4; i++)
		h = (h ^ (__u32)saddr[i]) * 16777619U;
	h = (h ^ ((__u32)cport << 16 | (__u32)sport)) * 16777619U;
	h ^= h >> 15;
	return h & (XKV_TCP_ANS_SLOTS - 1);
}

/**
 * xkv_tcp_ans_pack() - the value of struct xkv_tcp_ans.done.
 * @in_done:  request bytes answered
 * @out_done: reply bytes written
 *
 * Return: the packed value.
 */
XKV_ABI_INLINE __u64 xkv_tcp_ans_pack(__u32 in_done, __u32 out_done)
{
	return (__u64)out_done << 32 | in_done;
}

/* the largest reply payload XDP sends on a TCP connection (and keeps) */
#define XKV_TCP_REPLY_MAX 1408

/**
 * struct xkv_tcp_key - a connection as the server sees it (the key of the
 * BPF programs' map xkv_tcp_conn, which the loader walks).
 * @caddr:  the client's address (IPv4: caddr[0], the rest zero)
 * @saddr:  ours, the same way
 * @cport:  the client's port, network order
 * @sport:  ours, network order
 * @family: 4 or 6
 */
struct xkv_tcp_key {
	__be32 caddr[4];
	__be32 saddr[4];
	__be16 cport;
	__be16 sport;
	__u32 family;
};

/*
 * The state bits of a tracked connection (x.flags of the map xkv_tcp_conn's
 * value, abi/xkv_tcp_conn.h). The loader keeps the TC filters while a
 * connection is XKV_TC_MOVED and neither reset nor closed both ways.
 */
#define XKV_TC_SYN 0x1		/* the client's SYN seen: irs, mss, wscale */
#define XKV_TC_SYNACK 0x2	/* our SYN-ACK seen: iss */
#define XKV_TC_TS_C 0x4		/* the client's SYN offered timestamps */
#define XKV_TC_TS 0x8		/* timestamps negotiated both ways */
#define XKV_TC_MOVED 0x10	/* XDP answered: wire and kernel differ */
#define XKV_TC_FIN_C 0x20	/* the client sent FIN */
#define XKV_TC_FIN_S 0x40	/* the kernel sent FIN */
#define XKV_TC_RST 0x80		/* a reset went either way */
#define XKV_TC_GONE 0x100	/* handed to the backend for good */
#define XKV_TC_CLOSED (XKV_TC_RST | XKV_TC_FIN_C | XKV_TC_FIN_S)

/* TCP fast path counters: X(name, description), like XKV_STATS */
#define XKV_TCP_STATS(X)						\
	X(segments, "TCP segments to our port seen")			\
	X(hits, "GETs answered by XDP")					\
	X(keys, "keys served by XDP")					\
	X(reply_bytes, "reply payload bytes sent by XDP")		\
	X(resent, "replies sent again (lost or retransmitted request)")	\
	X(resent_part, "of those, a piece only: the frame had no room")	\
	X(tracked, "connections tracked from their SYN")		\
	X(closed, "tracked connections closed")				\
	X(handed_back, "connections handed to the backend for good")	\
	X(pass_off, "passed: fast path turned off")			\
	X(pass_untracked, "passed: connection not tracked")		\
	X(pass_unregistered, "passed: backend has not published it")	\
	X(pass_owed, "passed: backend still owes replies")		\
	X(pass_ahead, "passed: its bytes or later ones went up before")	\
	X(pass_unacked, "passed: replies not yet acknowledged")		\
	X(pass_segment, "passed: flags, options or no payload")		\
	X(pass_not_get, "passed: not one whole get/gets line")		\
	X(pass_miss, "passed: a key not in the hot cache")		\
	X(pass_busy, "passed: a slot expired or being written")		\
	X(pass_too_big, "passed: reply over MSS, window or cache")	\
	X(pass_no_backend, "passed: the backend's lease ran out")	\
	X(table_full, "SYNs not tracked: connection table full")	\
	X(dropped, "segments dropped to keep a stream right")		\
	X(acks_held, "server ACKs held below an unacked XDP reply")	\
	X(errors, "unexpected failures")

#define XKV_TCP_STAT_FIELD(name, desc) __u64 name;
/**
 * struct xkv_tcp_stats - per-CPU counters; see XKV_TCP_STATS.
 */
struct xkv_tcp_stats {
	XKV_TCP_STATS(XKV_TCP_STAT_FIELD)
};
#undef XKV_TCP_STAT_FIELD

#define XKV_TCP_STAT_ENUM(name, desc) XKV_TCP_STAT_##name,
/* index of each counter when struct xkv_tcp_stats is read as __u64[] */
enum xkv_tcp_stat_id {
	XKV_TCP_STATS(XKV_TCP_STAT_ENUM)
	XKV_TCP_STAT_NR
};
#undef XKV_TCP_STAT_ENUM

/**
 * struct xkv_tcp_ctl - the fast path's switch (map xkv_tcp_ctl).
 * @answer: 1: XDP answers hits; 0: it only keeps translating the
 *          connections it answered on before, until they close.
 * @pad:    zero
 */
struct xkv_tcp_ctl {
	__u32 answer;
	__u32 pad;
};

#endif /* XKV_ABI_TCP_H */
