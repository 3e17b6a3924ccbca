// SPDX-License-Identifier: GPL-2.0
/*
 * xkv_store.bpf.c - the XDP store path: GETs the hot cache missed,
 * answered from xkv.ko's store through the kfunc the module registers
 * (kmod/linux/kfunc.c, abi/xkv_kfunc.h).
 *
 * The XDP program (bpf/xkv.bpf.c) tail-calls this one (map xkv_store_jmp)
 * when a key of a UDP get/gets, a binary GET/GETQ/GETK/GETKQ batch or an
 * "mg" missed the hot cache, after it found the request well formed, one
 * it answers from a slot, and its source allowed. This program is a separate
 * object because libbpf 1.1 cannot load an object whose module kfunc is
 * not there: the XDP object must load without the module, this one only
 * loads when the module's BTF has the kfunc. The loader hands it the XDP
 * object's maps (bpf_map__reuse_fd(): settings and scratch memory, the
 * allowlist, the addresses, the counters) and its settings (.rodata), so
 * it applies the same rules.
 *
 * It parses the frame again with the XDP program's own stages (the frame
 * is untouched: the XDP program passes it as it came), asks the store for
 * every key, appends "END" (text), applies the same reply size limit and
 * reply/request budget, checks the request's UDP checksum and sends the
 * reply with the XDP program's sender (headers, checksums, resize).
 * Binary and mg replies are built from the store's blocks by the hot
 * path's builders (bpf/xdp/store_bin.h), byte for byte what the hot path
 * sends for the same item, and what it answers (bpf/HOTCACHE.md). A
 * request it cannot answer whole - a key missing, expired or flushed, a
 * stripe being written, a reply too big, an mg of an item that is stale
 * or whose recache token went out - is passed, untouched, and the backend
 * answers it.
 *
 * Coherence: the store copies a key's block while it holds the key's
 * stripe lock, the lock every write to that key holds while it changes
 * the item, and a write is acknowledged (STORED, DELETED, ...) only
 * after it released that lock. So the copy is one whole version of the
 * item (never torn), and a GET sent after the client saw a write's
 * acknowledgement finds that write or a later one: the block is as
 * coherent as the backend's own answer, without the hot cache's
 * seqlock. Nor does it need the backend's lease (xkv_live): a program
 * calling a module's kfunc holds a reference to the module, and the
 * kfunc refuses once the store is gone, so the store answering is
 * alive.
 */
#include <linux/errno.h>
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
#include "xkv_store_maps.h"
#include "tcp/maps.h"
#include "tcp/headers.h"
#include "tcp/send.h"
#include "tcp/commit.h"

/* abi/xkv_kfunc.h: xkv.ko's kfunc, resolved in the module's BTF at load */
extern int xkv_xdp_store_get(const __u8 *key, __u32 key__sz, __u8 *out,
			     __u32 out__sz, struct xkv_kf_get *arg) __ksym;

/* what the kfunc's error means for the request */
static __always_inline __u32 xkv_store_why(int err)
{
	switch (err) {
	case -ENOENT:
		return XKV_STAT_misses;
	case -EBUSY:
		return XKV_STAT_pass_busy;
	case -ENOSPC:
		return XKV_STAT_pass_too_big;
	case -EAGAIN:
		/* an mg of an item in a meta state: meta.c's */
		return XKV_STAT_pass_not_get;
	default:
		return XKV_STAT_errors;
	}
}

/* one key: its block from the store, appended to the body */
static long xkv_store_key_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	struct xkv_kf_get arg = { 0 };
	__u32 klen, pos, max;
	struct xkv_key_ref *k;
	int n;

	k = &s->keys[i & (XKV_MAX_KEYS - 1)];
	klen = k->len;
	pos = s->body;
	max = s->body_max;
	if (!klen || klen > XKV_HOT_KEY_MAX || max > XKV_BODY_MASK ||
	    pos > max)
		return xkv_key_fail(s, XKV_STAT_errors);
	arg.at = pos;
	arg.flags = s->gets ? XKV_KF_CAS : 0;
	n = xkv_xdp_store_get(s->req + (k->off & XKV_REQ_MASK), klen,
			      s->out + XKV_OUT_BODY, max, &arg);
	if (n < 0)
		return xkv_key_fail(s, xkv_store_why(n));
	if ((__u32)n > max - pos)
		return xkv_key_fail(s, XKV_STAT_errors);
	/* the reply's checksum from the blocks' sums (csum.h) */
	s->psum += xkv_csum_at(arg.sum & 0xffff, pos);
	s->body = pos + n;
	return 0;
}

/*
 * Every key's block from the store, then "END": the rules of
 * xkv_build_reply() (stages.h), at most @max bytes with the frame header,
 * within the reply/request budget if @udp (not over TCP).
 * Return: 0 with s->ulen set to the reply's UDP length and s->psum to the
 * body's checksum sum (from the blocks' sums), or the outcome.
 */
__attribute__((noinline)) int xkv_store_build(struct xkv_scratch *s,
					       __u32 max, __u32 udp)
{
	struct xkv_cb_ctx cb;
	int why;

	if (!s)
		return XKV_STAT_errors;
	/* the body's sum from the blocks' (the kfunc's @sum) */
	why = xkv_begin_keys(s, &cb, max);
	if (why)
		return why;
	bpf_loop(s->nkeys, xkv_store_key_cb, &cb, 0);
	if (s->fail)
		return s->fail;

	return xkv_end_body(s, udp);
}

#include "xdp/store_bin.h"

/* the store program's own counter of an outcome */
static __always_inline __u32 xkv_sstat_of(__u32 why)
{
	switch (why) {
	case XKV_STAT_replies:
		return XKV_SSTAT_replies;
	case XKV_STAT_misses:
		return XKV_SSTAT_misses;
	case XKV_STAT_pass_busy:
		return XKV_SSTAT_busy;
	case XKV_STAT_pass_too_big:
		return XKV_SSTAT_too_big;
	case XKV_STAT_pass_budget:
		return XKV_SSTAT_budget;
	case XKV_STAT_pass_not_get:
		return XKV_SSTAT_state;
	default:
		return XKV_SSTAT_other;
	}
}

SEC("xdp")
int xkv_store_xdp(struct xdp_md *ctx)
{
	struct xkv_scratch *s;
	struct xkv_sstats *ss;
	struct xkv_stats *st;
	__u32 zero = 0, why, id;

	st = bpf_map_lookup_elem(&xkv_stats, &zero);
	ss = bpf_map_lookup_elem(&xkv_sstats, &zero);
	s = bpf_map_lookup_elem(&xkv_scratch, &zero);
	if (!st || !ss || !s)
		return XDP_PASS;
	/* "packets" and "requests" were counted by the XDP program */
	ss->requests++;

	why = xkv_read_headers(ctx, s);
	if (!why)
		why = xkv_read_request(ctx, s);
	/* binary and mg: store_bin.h */
	if (!why)
		why = s->meta ? xkv_store_proto(s, xkv_cfg.max_reply, 1) :
				xkv_store_build(s, xkv_cfg.max_reply, 1);
	if (!why)
		why = xkv_check_sum(s);
	if (!why)
		why = xkv_send_reply(ctx, s);

	/* XKV_OUT_DROP is counted as "other" here */
	id = xkv_sstat_of(why);
	if (id < XKV_SSTAT_NR)
		((__u64 *)ss)[id]++;
	if (why == XKV_STAT_replies)
		ss->hits += s->nkeys;
	return xkv_udp_verdict(st, s, why);
}

/* the same over TCP: xkv_store_tcp */
#include "tcp/store.h"
