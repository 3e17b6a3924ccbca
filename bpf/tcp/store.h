/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store.h - the XDP store path over TCP: a text get/gets, binary GET
 * batch or mg the TCP fast path would answer but for a key the hot cache
 * misses, answered from xkv.ko's store through its kfunc.
 *
 * The XDP program (xkv_xdp(), bpf/xkv.bpf.c) tail-calls xkv_store_tcp
 * (slot XKV_STORE_JMP_TCP of xkv_store_jmp) when xkv_tcp_try() found the
 * connection quiescent and the request a well-formed text get/gets, binary
 * GET batch or mg of which a key missed the hot cache, before it changed
 * anything: the frame is the request as it came. This program parses it
 * again, makes the same checks again (xkv_tcp_room(): the connection may
 * have moved since), asks the store for every key (as over UDP) and
 * answers through the fast path's own commit (bpf/tcp/commit.h): the
 * request's checksum, the frame resized, then, under the connection's
 * lock and checked again, the sequence translation moved past request
 * and reply and the reply kept for retransmission. So the TC translators
 * and the resend path treat the reply as any XDP reply, and the
 * conditions of bpf/TCPFAST.md ("When XDP answers") hold for it.
 *
 * Binary GET/GETQ/GETK/GETKQ batches and mg are answered as the UDP
 * store program answers them (bpf/xdp/store_bin.h: the store's block
 * staged, the hot path's builders), on a connection in their protocol
 * (xkv_tcp_split()). A request it cannot answer whole (a key missing,
 * expired or flushed, quiet or not; a stripe being written; a reply too
 * big; an mg of an item that is stale or whose recache token went out)
 * is passed untouched to the backend. Coherence is the UDP store path's
 * (bpf/xkv_store.bpf.c): the store copies each key's block under the
 * key's stripe lock.
 *
 * Part of the store object: bpf/xkv_store.bpf.c includes it last, after
 * xkv_store_build() and xdp/store_bin.h.
 */
#ifndef XKV_TCP_STORE_H
#define XKV_TCP_STORE_H

/*
 * xkv_tcp_try()'s builder in the store object: every key's block from
 * the store (xkv_store_build(); it sets the body's sum from the blocks'),
 * or a binary batch's or an mg's reply built from them by the hot path's
 * builders (xkv_store_proto(), bpf/xdp/store_bin.h; the send path sums
 * that body). No reply/request budget: that is UDP's.
 * Return: 0, or the pass reason.
 */
static __always_inline int xkv_tcp_build(struct xkv_scratch *s, __u32 max)
{
	int why;

	why = s->meta ? xkv_store_proto(s, max, 0) :
			xkv_store_build(s, max, 0);
	return why ? xkv_tcp_why(why) : 0;
}

SEC("xdp")
int xkv_store_tcp(struct xdp_md *ctx)
{
	struct xkv_scratch *s;
	struct xkv_sstats *ss;
	__u32 zero = 0;
	int why, act;

	ss = bpf_map_lookup_elem(&xkv_sstats, &zero);
	s = bpf_map_lookup_elem(&xkv_scratch, &zero);
	if (!ss || !s)
		return XDP_PASS;
	/* the segment was counted by the XDP program ("segments") */
	ss->tcp_requests++;
	why = xkv_tcp_parse(ctx, s);
	if (why) {
		/* it parsed in the XDP program: cannot happen */
		ss->tcp_other++;
		xkv_tcp_count(XKV_TCP_STAT_errors);
		return XDP_PASS;
	}
	why = xkv_tcp_try(ctx);
	act = xkv_tcp_emit(ctx, s, why);
	if (act == XDP_TX) {
		ss->tcp_replies++;
		ss->tcp_hits += s->nkeys;
	} else if (why == XKV_TCP_STAT_pass_miss) {
		ss->tcp_misses++;
	} else {
		ss->tcp_other++;
	}
	return act;
}

#endif /* XKV_TCP_STORE_H */
