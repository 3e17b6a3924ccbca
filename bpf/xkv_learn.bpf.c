// SPDX-License-Identifier: GPL-2.0
/*
 * xkv_learn.bpf.c - learning mode: the hot cache filled from a stock
 * memcached's GET replies, kept coherent with the writes that pass this
 * host's ingress. Guarantees and limits: bpf/LEARNING.md.
 *
 * Two TC programs share the XDP object's hot cache (xkv_hot):
 *
 * xkv_learn_in (ingress) parses every request to memcached's ports, TCP
 * and UDP, as memcached will: lines split on spaces, a NUL ends a line's
 * tokens, a storage command's data block is skipped by its byte count
 * exactly when memcached would consume it. When a write can take effect
 * (its line end, or the end of its data block), it bumps the generation of
 * the key's slot, stamps the write's time and empties the slot; flush_all
 * bumps a global generation and empties every slot that may hold a learned
 * key. A GET notes, for each key's slot, the generations it found. A TCP
 * stream is followed byte by byte across segments; whenever ingress cannot
 * be sure where the commands are (a stream first seen in its middle, a gap,
 * a retransmission, a binary-protocol client, another CPU on the same
 * stream) it flushes the whole cache rather than risk a write it missed.
 *
 * xkv_learn_eg (egress) parses memcached's replies (VALUE blocks of get,
 * gets, gat, gats; VA blocks only to skip them) and installs a value into
 * its key's slot only if: a GET for the slot was seen and neither the
 * slot's nor the global generation moved since; no write to the slot and
 * no flush happened within the quarantine (xkv_learn_config.quiet_ms); the
 * slot was not written with an expiry that may not have passed, and no
 * delayed flush_all is pending; key and value fit a slot. The entry lives
 * xkv_learn_config.ttl_ms. A "get" reply carries no CAS: such an entry is
 * marked XKV_SLOT_F_NO_CAS so that XDP serves "get" but passes "gets".
 *
 * Both only look: they return TC_ACT_UNSPEC (pass on to the next filter,
 * then the stack) and never change a packet; with XKV_LCFG_UDP_POLICY
 * they also drop (TC_ACT_SHOT) what memcached's UDP port must not see or
 * send (LEARNING.md, "The UDP policy"). Packet bytes are copied to
 * per-CPU scratch memory with bpf_skb_load_bytes() a chunk at a time and
 * parsed one byte per bpf_loop() round, so the verifier checks each parser
 * once whatever the packet.
 *
 * This file holds the two programs; their parts are the headers of
 * bpf/learn/, compiled here as one unit, in this order: maps.h (settings,
 * maps), scratch.h (per-CPU memory, counters), slots.h (what a write or a
 * GET does to a slot), flush.h (emptying slots after a parse), hdr.h
 * (headers, with xkv_parse.h), num.h (memcached's number rules),
 * stream.h (the one parse driver), req_parse.h (requests), flow.h (TCP
 * streams, UDP requests), ingress.h (the ingress stages), reply_parse.h
 * (replies), install.h (installing a value), egress.h (the egress
 * stages). Shared with the XDP program: xkv_parse.h (headers),
 * xkv_key.h (key compare), xkv_bound.h (bounds for the verifier),
 * xkv_hot_map.h and xkv_policy_maps.h (maps), abi/xkv_slot.h (seqlock).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xkv_parse.h"
#include "xkv_bound.h"
#include "xkv_key.h"
#include "xkv_learn.h"

char LICENSE[] SEC("license") = "GPL";

#include "learn/maps.h"
#include "learn/scratch.h"
#include "learn/slots.h"
#include "learn/flush.h"
#include "learn/hdr.h"
#include "learn/num.h"
#include "learn/stream.h"
#include "learn/req_parse.h"
#include "learn/flow.h"
#include "learn/ingress.h"
#include "learn/reply_parse.h"
#include "learn/install.h"
#include "learn/egress.h"

SEC("tc")
int xkv_learn_in(struct __sk_buff *skb)
{
	struct xkv_lscratch *s = xl_scratch(0);
	int r, why, verdict = XKV_TC_PASS;
	struct xkv_lhdr *h;
	__u64 now;

	if (!s)
		return XKV_TC_PASS;
	now = bpf_ktime_get_ns();
	if (s->busy) {
		/* nested on this CPU (preemptible kernel): cannot parse */
		xl_flush_all(now);
		XL_STAT(in_flush_unsure);
		XL_STAT(errors);
		return XKV_TC_PASS;
	}
	s->busy = 1;
	h = &s->h;
	r = xl_parse_hdr(skb, 0);
	if (r == XKV_LH_UNSURE) {
		xl_flush(s, now, 1);
	} else if (r == XKV_LH_OK && h->frag == XKV_LFRAG_LATER) {
		/* the first fragment (which has the ports) was handled */
	} else if (r == XKV_LH_OK && h->proto == IPPROTO_UDP &&
		   xkv_lcfg.udp_port &&
		   h->dport == bpf_htons(xkv_lcfg.udp_port)) {
		XL_STAT(in_packets);
		why = 0;
		if (xkv_lcfg.flags & XKV_LCFG_UDP_POLICY)
			why = xl_in_policy(skb);
		if (why) {
			/* constant indexes: the verifier has no bound on why */
			if (why == XKV_LSTAT_udp_drop_source)
				XL_STAT(udp_drop_source);
			else
				XL_STAT(udp_drop_reply);
			verdict = TC_ACT_SHOT;
		} else {
			xl_in_udp(skb, now);
		}
	} else if (r == XKV_LH_OK && h->proto == IPPROTO_TCP &&
		   xkv_lcfg.tcp_port &&
		   h->dport == bpf_htons(xkv_lcfg.tcp_port)) {
		XL_STAT(in_packets);
		xl_in_tcp(skb, now);
	}
	xl_in_finish(now);
	s->busy = 0;
	return verdict;
}

SEC("tc")
int xkv_learn_eg(struct __sk_buff *skb)
{
	struct xkv_lscratch *s = xl_scratch(1);
	int r, why, verdict = XKV_TC_PASS;
	struct xkv_lhdr *h;
	__u64 now;

	if (!s || s->busy)
		return XKV_TC_PASS;
	s->busy = 1;
	s->ncand = 0;
	h = &s->h;
	now = bpf_ktime_get_ns();
	r = xl_parse_hdr(skb, 1);
	if (r != XKV_LH_OK || h->frag == XKV_LFRAG_LATER) {
		/* nothing to learn */
	} else if (h->proto == IPPROTO_UDP && xkv_lcfg.udp_port &&
		   h->sport == bpf_htons(xkv_lcfg.udp_port)) {
		XL_STAT(eg_packets);
		why = 0;
		if (xkv_lcfg.flags & XKV_LCFG_UDP_POLICY)
			why = xl_eg_budget(skb);
		if (why) {
			if (why == XKV_LSTAT_udp_drop_budget)
				XL_STAT(udp_drop_budget);
			else
				XL_STAT(udp_drop_no_req);
			verdict = TC_ACT_SHOT;
		} else if (xl_from_owner(skb, 1)) {
			xl_eg_udp(skb, now);
		}
	} else if (h->proto == IPPROTO_TCP && xkv_lcfg.tcp_port &&
		   h->sport == bpf_htons(xkv_lcfg.tcp_port)) {
		XL_STAT(eg_packets);
		/* a segment without data only moves the stream's state (a
		 * SYN-ACK under syncookies, a reset, a time-wait ACK have no
		 * full socket); data is learned only from memcached's */
		if (!h->plen || xl_from_owner(skb, 0))
			xl_eg_tcp(skb, now);
	}
	xl_eg_install(skb, now);
	s->busy = 0;
	return verdict;
}
