/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.h - the TCP fast path's maps and its per-connection state.
 *
 * Part of the XDP object, compiled as one unit by bpf/xkv.bpf.c. See
 * bpf/TCPFAST.md for the design this state serves.
 */
#ifndef XKV_TCP_MAPS_H
#define XKV_TCP_MAPS_H

#include "xkv_tcp.h"

/* most connections tracked at once (the map preallocates nothing) */
#ifndef XKV_TCP_CONNS
#define XKV_TCP_CONNS 16384
#endif
/* a closed connection's state is dropped this long after its close */
#define XKV_TCP_CLOSED_NS (120ULL * 1000 * 1000 * 1000)


/**
 * struct xkv_tcp_xlat - how a connection's sequence numbers differ
 * between the wire and the kernel, and the reply in flight: what the TC
 * programs copy out under the lock.
 * @flags:      XKV_TC_*
 * @in_s:       wire range [@in_s, @in_e) of the last request XDP consumed
 * @in_e:       ...
 * @in_before:  client bytes XDP consumed before @in_s: kernel seq = wire
 *              seq - @in_before below @in_s
 * @in_after:   ... and from @in_e on (@in_before + @in_e - @in_s)
 * @out_kpos:   kernel seq at which the last XDP reply went in
 * @out_before: reply bytes XDP sent before @out_kpos: wire seq = kernel
 *              seq + @out_before below it
 * @out_after:  ... and from it on
 * @rp_seq:     wire seq of the reply not yet acknowledged
 * @rp_len:     its length; 0 = every reply is acknowledged
 */
struct xkv_tcp_xlat {
	__u32 flags;
	__u32 in_s;
	__u32 in_e;
	__u32 in_before;
	__u32 in_after;
	__u32 out_kpos;
	__u32 out_before;
	__u32 out_after;
	__u32 rp_seq;
	__u32 rp_len;
};

/**
 * struct xkv_tcp_conn - one tracked connection (map xkv_tcp_conn).
 * @lock:      guards everything but @reply; held only for plain loads and
 *             stores
 * @x:         the translation
 * @irs:       the client's initial sequence number
 * @iss:       ours (the kernel's), from the SYN-ACK
 * @mss:       the client's MSS (536 when it gave none)
 * @wscale:    the client's window scale shift (0 when none)
 * @ws_s:      our window scale shift, from the SYN-ACK
 * @ans:       index + 1 of the backend's xkv_tcp_ans entry, 0 unknown
 * @rp_ready:  @reply holds the reply in flight (written after the copy)
 * @rp_una:    wire seq up to which the client acknowledged that reply
 *             (x.rp_seq until it acknowledges a piece of it)
 * @rp_ecr:    the TSecr it carries
 * @ts_val:    the last TSval the kernel sent (what XDP's replies carry)
 * @in_hi:     wire seq just past the furthest client byte XDP has seen:
 *             the stack may hold any byte before it
 * @in_seen:   data segments XDP has seen (it wraps): one that starts at
 *             or past @in_hi takes the count; XDP answers it only while
 *             the count stays its own (xkv_tcp_quiet())
 * @win:       the last window field the kernel sent, as is
 * @rp_win:    the window field of the reply in flight
 * @closed_ns: when a FIN or reset was first seen, 0 before
 * @reply:     the reply's payload, kept until acknowledged
 */
struct xkv_tcp_conn {
	struct bpf_spin_lock lock;
	struct xkv_tcp_xlat x;
	__u32 irs;
	__u32 iss;
	__u32 mss;
	__u32 wscale;
	__u32 ws_s;
	__u32 ans;
	__u32 rp_ready;
	__u32 rp_una;
	__u32 rp_ecr;
	__u32 ts_val;
	__u32 in_hi;
	__u32 in_seen;
	__u16 win;
	__u16 rp_win;
	__u64 closed_ns;
	__u8 reply[XKV_TCP_REPLY_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XKV_TCP_CONNS);
	__type(key, struct xkv_tcp_key);
	__type(value, struct xkv_tcp_conn);
} xkv_tcp_conn SEC(".maps");

/* what the backend has answered, per connection (abi/xkv_tcp.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XKV_TCP_ANS_SLOTS);
	__type(key, __u32);
	__type(value, struct xkv_tcp_ans);
} xkv_tcp_ans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_tcp_stats);
} xkv_tcp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_tcp_ctl);
} xkv_tcp_ctl SEC(".maps");

/*
 * A zeroed struct xkv_tcp_conn that new entries are copied from (too big
 * for the stack); nothing writes it. Bytes, not the struct: the verifier
 * refuses a map value holding a bpf_spin_lock as a helper's memory
 * argument (bpf_map_update_elem()'s value).
 */
struct xkv_tcp_blank {
	__u8 b[sizeof(struct xkv_tcp_conn)];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_tcp_blank);
} xkv_tcp_new SEC(".maps");

/* what the stages return besides 0 (go on) and a TCP stat id (pass) */
#define XKV_TCP_OUT_SEND (XKV_TCP_STAT_NR + 1)	/* XDP_TX the reply */
#define XKV_TCP_OUT_DROP (XKV_TCP_STAT_NR + 2)	/* XDP_DROP */
#define XKV_TCP_OUT_QUIET (XKV_TCP_STAT_NR + 3)	/* pass, count nothing */
/* XDP_TX a kept reply */
#define XKV_TCP_OUT_RESEND (XKV_TCP_STAT_NR + 4)

static __always_inline void xkv_tcp_count(__u32 id)
{
	struct xkv_tcp_stats *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&xkv_tcp_stats, &zero);
	/* tested in the register it indexes with: clang may otherwise keep
	 * @id across the call on the stack and test one fill of it while
	 * indexing with another (the store object, 6.18) */
	id = xkv_opaque(id);
	if (st && id < XKV_TCP_STAT_NR)
		((__u64 *)st)[id]++;
}

/* sequence-space comparisons, as TCP does them (RFC 793, wrapping) */
static __always_inline int xkv_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/*
 * A client sequence number in the kernel's space. Bytes inside the
 * consumed range map to its start.
 */
static __always_inline __u32 xkv_tcp_in_k(const struct xkv_tcp_xlat *c,
					  __u32 w)
{
	if (!(c->flags & XKV_TC_MOVED))
		return w;
	if (xkv_before(w, c->in_s))
		return w - c->in_before;
	if (xkv_before(w, c->in_e))
		return c->in_s - c->in_before;
	return w - c->in_after;
}

/* A client sequence number of the kernel's on the wire. */
static __always_inline __u32 xkv_tcp_in_w(const struct xkv_tcp_xlat *c,
					  __u32 k)
{
	if (!(c->flags & XKV_TC_MOVED))
		return k;
	if (xkv_before(k, c->in_s - c->in_before))
		return k + c->in_before;
	return k + c->in_after;
}

/* One of our sequence numbers, kernel to wire. */
static __always_inline __u32 xkv_tcp_out_w(const struct xkv_tcp_xlat *c,
					   __u32 k)
{
	if (!(c->flags & XKV_TC_MOVED))
		return k;
	if (xkv_before(k, c->out_kpos))
		return k + c->out_before;
	return k + c->out_after;
}

/*
 * One of our sequence numbers, wire to kernel (the client's ACKs and
 * SACK blocks). A number inside the last XDP reply maps to where the
 * reply went in: the kernel never sent those bytes.
 */
static __always_inline __u32 xkv_tcp_out_k(const struct xkv_tcp_xlat *c,
					   __u32 w)
{
	__u32 start;

	if (!(c->flags & XKV_TC_MOVED))
		return w;
	start = c->out_kpos + c->out_before;
	if (xkv_before(w, start))
		return w - c->out_before;
	if (xkv_before(w, c->out_kpos + c->out_after))
		return c->out_kpos;
	return w - c->out_after;
}

/* Is @a's connection @k's? */
static __always_inline int xkv_tcp_ans_is(const struct xkv_tcp_ans *a,
					  const struct xkv_tcp_key *k)
{
	__u32 d, i;

	/* volatile loads: clang turns plain compares into memcmp() */
	d = (READ_ONCE(a->cport) ^ k->cport) | (READ_ONCE(a->sport) ^ k->sport);
#pragma unroll
	for (i = 0; i < 4; i++) {
		d |= READ_ONCE(a->caddr[i]) ^ k->caddr[i];
		d |= READ_ONCE(a->saddr[i]) ^ k->saddr[i];
	}
	return !d;
}

/*
 * The backend's entry for @k, found from its probe run and checked: the
 * index + 1 of a LIVE entry for these addresses, or 0.
 */
static __always_inline __u32 xkv_tcp_ans_find(const struct xkv_tcp_key *k)
{
	struct xkv_tcp_ans *a;
	__u32 base, idx, i;

	base = xkv_tcp_ans_index(k->caddr, k->saddr, k->cport, k->sport);
#pragma unroll
	for (i = 0; i < XKV_TCP_ANS_PROBES; i++) {
		idx = (base + i) & (XKV_TCP_ANS_SLOTS - 1);
		a = bpf_map_lookup_elem(&xkv_tcp_ans, &idx);
		if (!a)
			return 0;
		if (READ_ONCE(a->owner) == XKV_TCP_ANS_LIVE &&
		    a->family == k->family && xkv_tcp_ans_is(a, k))
			return idx + 1;
	}
	return 0;
}

/* The backend's entry at index + 1 @ans, if it is still @k's. */
static __always_inline struct xkv_tcp_ans *
xkv_tcp_ans_get(const struct xkv_tcp_key *k, __u32 ans)
{
	struct xkv_tcp_ans *a;
	__u32 idx = ans - 1;

	if (!ans)
		return NULL;
	a = bpf_map_lookup_elem(&xkv_tcp_ans, &idx);
	if (!a || READ_ONCE(a->owner) != XKV_TCP_ANS_LIVE ||
	    !xkv_tcp_ans_is(a, k))
		return NULL;
	return a;
}

#endif /* XKV_TCP_MAPS_H */
