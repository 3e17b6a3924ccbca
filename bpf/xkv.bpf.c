// SPDX-License-Identifier: GPL-2.0
/*
 * xkv.bpf.c - the hot tier: memcached UDP get/gets answered at the driver.
 *
 * For each frame: parse Ethernet (up to two VLAN tags), IPv4 or IPv6, UDP
 * to the configured port, the 8-byte memcached frame header and a
 * "get"/"gets" line with one or more keys. Look every key up in the hot
 * cache (xkv_hot, written by the backend under a per-slot seqlock, see
 * xkv_slot.h). Only when every key hits, the reply fits one datagram and
 * the reply/request budget, and the source is allowed, turn the frame
 * into the reply and XDP_TX it. Anything else - misses, malformed or
 * truncated requests, other commands, ports and protocols, fragments - is
 * passed up the stack untouched, so the backend answers it (including
 * with the error a malformed request deserves).
 *
 * Verifier cost is kept low by working on copies in per-CPU scratch
 * memory, looked up once per packet and handed to every stage: the
 * request payload is loaded there with bpf_xdp_load_bytes(), parsed eight
 * bytes per bpf_loop() iteration, and every length and offset the loops
 * use is read back from the scratch map, so the verifier sees it as an
 * unknown bounded value instead of walking each path with a constant.
 * The reply is built in the same scratch buffer by copying each key's
 * entry, its VALUE block built by the backend (abi/xkv_hot.h), and
 * written over the frame with one bpf_xdp_store_bytes() after the frame
 * was resized. Its UDP checksum is put together from the entries' own
 * sums, so the payload is never summed.
 *
 * Every packet is counted once in struct xkv_stats by its outcome.
 *
 * This file holds the program; its parts are the headers of bpf/xdp/,
 * compiled here as one unit, in this order: maps.h (settings, maps,
 * scratch memory), csum.h (checksums), headers.h (headers and source
 * checks), request.h (the key list), value.h (a key's VALUE block),
 * meta.h (an mg's base64 key and its echo), send.h (the reply frame),
 * stages.h (the global functions run below), fast.h (a one-key request
 * read straight from the frame).
 * Shared with the learning programs: xkv_parse.h (headers), xkv_key.h
 * (key compare), xkv_bound.h (bounds for the verifier), xkv_hot_map.h and
 * xkv_policy_maps.h (maps), abi/xkv_slot.h (seqlock).
 */
#include <linux/pkt_cls.h>

#include "xkv_parse.h"
#include "xkv_bound.h"
#include "xkv_live.h"
#include "xkv_stats.h"

char LICENSE[] SEC("license") = "GPL";

#include "tcp/seg.h"
#include "xdp/maps.h"
#include "xkv_key.h"
#include "xdp/csum.h"
#include "xdp/headers.h"
#include "xdp/request.h"
#include "xdp/value.h"
#include "xdp/meta.h"
#include "xdp/send.h"
#include "xdp/binary.h"
#include "xdp/stages.h"
#include "xdp/fast.h"
#include "xkv_store_maps.h"
#include "tcp/maps.h"
#include "tcp/headers.h"
#include "tcp/send.h"
#include "tcp/commit.h"
#include "tcp/answer.h"
#include "tcp/tc.h"

/* xkv_tcp_xdp()'s answer: tail-call the store program (store.h) */
#define XKV_TCP_ACT_STORE (-2)

/*
 * A TCP segment to the backend's port: track, answer or pass it.
 * Return: an XDP action, XKV_TCP_ACT_STORE, or -1 when the frame is not
 * TCP.
 */
__attribute__((noinline)) int xkv_tcp_xdp(struct xdp_md *ctx,
					  struct xkv_scratch *s)
{
	int why;

	if (!s)
		return XDP_PASS;
	why = xkv_tcp_parse(ctx, s);
	if (why == XKV_TCP_NOT_TCP)
		return -1;
	if (why)
		return XDP_PASS;
	xkv_tcp_count(XKV_TCP_STAT_segments);
	why = xkv_tcp_track();
	if (!why)
		why = xkv_tcp_try(ctx);
	if (why == XKV_TCP_OUT_STORE)
		return XKV_TCP_ACT_STORE;
	return xkv_tcp_emit(ctx, s, why);
}

SEC("xdp")
int xkv_xdp(struct xdp_md *ctx)
{
	struct xkv_scratch *s;
	struct xkv_stats *st;
	__u32 zero = 0, why;
	int act;

	st = bpf_map_lookup_elem(&xkv_stats, &zero);
	s = bpf_map_lookup_elem(&xkv_scratch, &zero);
	if (!st || !s)
		return XDP_PASS;
	st->packets++;

	/* with no TCP port configured, xkv_tcp_xdp() would pass TCP as
	 * not ours, counted as the UDP path counts it: skip its parse */
	act = xkv_cfg.tcp_port ? xkv_tcp_xdp(ctx, s) : -1;
	if (act == XKV_TCP_ACT_STORE) {
		/* a hot-cache miss on a GET XDP could answer otherwise: the
		 * store program, if any; else it is passed */
		st->pass_not_udp++;
		xkv_store_tail_tcp(ctx);
		xkv_tcp_count(XKV_TCP_STAT_pass_miss);
		return XDP_PASS;
	}
	if (act >= 0) {
		/* TCP: counted here as not UDP, in xkv_tcp_stats as TCP */
		st->pass_not_udp++;
		return act;
	}
	why = xkv_read_headers(ctx, s);
	if (!why) {
		/* one plain key: read without helpers (fast.h) */
		act = xkv_fast_request(ctx, s);
		why = act == XKV_FAST_NO ? xkv_read_request(ctx, s) : act;
	}
	if (!why) {
		st->requests++;
		why = xkv_build_reply(s, xkv_cfg.max_reply, 1);
	}
	/* a hot-cache miss: the store program, if any (xkv_store_maps.h) */
	if (why == XKV_STAT_misses)
		xkv_store_tail(ctx);
	if (!why)
		why = xkv_check_sum(s);
	if (!why)
		why = xkv_send_reply(ctx, s);

	return xkv_udp_verdict(st, s, why);
}
