/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_tcp_conn.h - the value of the TCP fast path's map xkv_tcp_conn
 * (bpf/tcp/maps.h, bpf/TCPFAST.md): one tracked connection's state.
 *
 * The BPF programs own it; the tests read it back with
 * bpf_map_lookup_elem() (tests/bpf/test_tcp.c). Its lock is the BPF
 * object's struct bpf_spin_lock, so this header is for BPF and user
 * space only, not for the kernel module.
 */
#ifndef XKV_ABI_TCP_CONN_H
#define XKV_ABI_TCP_CONN_H

#include "xkv_tcp.h"

#ifndef __VMLINUX_H__
#include <linux/bpf.h>
#endif

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

#endif /* XKV_ABI_TCP_CONN_H */
