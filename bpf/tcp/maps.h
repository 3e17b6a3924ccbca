/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.h - the TCP fast path's maps; the per-connection state they hold
 * is abi/xkv_tcp_conn.h.
 *
 * Part of the XDP object, compiled as one unit by bpf/xkv.bpf.c. See
 * bpf/TCPFAST.md for the design this state serves.
 */
#ifndef XKV_TCP_MAPS_H
#define XKV_TCP_MAPS_H

#include "xkv_tcp.h"
#include "xkv_tcp_conn.h"

/* most connections tracked at once (the map preallocates nothing) */
#ifndef XKV_TCP_CONNS
#define XKV_TCP_CONNS 16384
#endif
/* a closed connection's state is dropped this long after its close */
#define XKV_TCP_CLOSED_NS (120ULL * 1000 * 1000 * 1000)

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
