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
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xkv_consts.h"
#include "xkv_learn.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load (the object's .rodata). */
const volatile struct xkv_learn_config xkv_lcfg = {
	.tcp_port = 11211,
	.udp_port = 11211,
	.nslots = XKV_HOT_SLOTS_DEFAULT,
	.nflows = XKV_LEARN_FLOWS_DEFAULT,
	.ttl_ms = XKV_LEARN_TTL_MS_DEFAULT,
	.quiet_ms = XKV_LEARN_QUIET_MS_DEFAULT,
	.flags = 0,
	.amp_ratio = 64,
};

/* the hot cache: created by the XDP object, shared with learning mode */
#include "xkv_hot_map.h"
#include "xkv_slot.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XKV_HOT_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xkv_learn_slot);
} xkv_lmeta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XKV_HOT_SLOTS_DEFAULT / 64);
	__type(key, __u32);
	__type(value, __u64);
} xkv_locc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_learn_glob);
} xkv_lglob SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_learn_stats);
} xkv_lstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XKV_LEARN_FLOWS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xkv_learn_flow);
} xkv_lflows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} xkv_lifs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_learn_owner);
} xkv_lowner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XKV_LEARN_REQS);
	__type(key, struct xkv_learn_req);
	__type(value, struct xkv_learn_reqv);
} xkv_lreq SEC(".maps");

/* the XDP object's allowlist and addresses (the fixtures: our own) */
#include "xkv_policy_maps.h"

/* the headers of the packet being looked at */
struct xkv_lhdr {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u32 poff;		/* payload offset in the packet */
	__u32 plen;		/* payload length */
	__u32 ulen;		/* UDP: the datagram's payload, from its header */
	__u32 seq;		/* TCP sequence number, host order */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 tflags;		/* TCP flags */
	__u8 v6;
	__u8 frag;		/* XKV_LFRAG_* */
};

#define XKV_LFRAG_FIRST 1	/* first fragment of a larger datagram */
#define XKV_LFRAG_LATER 2	/* a later fragment: no transport header */

/* a VALUE block that may be installed once the packet is parsed */
struct xkv_cand {
	__u32 key_off;
	__u32 data_off;
	__u32 hash;
	__u32 vlen;
	__u32 flags;
	__u16 klen;
	__u8 has_cas;
	__u8 ok;		/* its "\r\n" was checked */
	__u64 cas;
};

/*
 * Per-CPU working memory: entry 0 for ingress, 1 for egress, 2 for a
 * flush from ingress while entry 0 is busy. TC programs run with bottom
 * halves off, so one program at a time per CPU and entry (even on
 * PREEMPT_RT, where that is a per-CPU lock); @busy catches the exception
 * anyway, and ingress then flushes instead of sharing.
 */
struct xkv_lscratch {
	__u32 busy;
	__u32 need_flush;	/* empty every learned slot after the parse */
	__u32 nq;		/* slots in q[] */
	__u32 qovf;		/* q[] overflowed: flush instead */
	__u32 ncand;
	__u32 flush_unsure;	/* the flush is for lack of certainty */
	/*
	 * Loop state of the bpf_loop() callbacks. It lives here, not on the
	 * stack, so that the verifier sees unknown values and checks each
	 * callback once instead of following every iteration.
	 */
	__u32 pos;		/* parsers: packet offset of the next byte */
	__u32 sp;		/* stream position of pos */
	__u32 cbase;		/* the chunk in buf: [cbase, cbase + clen) */
	__u32 clen;
	__u32 err;
	__u32 li;		/* flush/queue: word or entry index */
	__u32 lcur;		/* flush: word the bits came from */
	__u32 ltries;		/* tries at the current slot */
	__u64 lbits;		/* flush: bits of lcur not done yet */
	struct xkv_lhdr h;
	union {
		struct xkv_lin in;
		struct xkv_lout out;
	} udp;			/* a UDP datagram's parser */
	__u32 q[XKV_LEARN_QUEUE];	/* slots to empty, busy at first try */
	struct xkv_cand cand[XKV_LEARN_MAX_CAND];
	__u8 hb[XKV_LHDR_BUF * 2];	/* headers, room for masked sizes */
	__u8 buf[XKV_LCHUNK * 2];	/* payload chunk, the same */
	__u8 kbuf[XKV_HOT_KEY_ROOM];	/* a key from a reply */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct xkv_lscratch);
} xkv_lscratch SEC(".maps");

/* TC verdict: let the packet go on, to the next filter if any */
#define XKV_TC_PASS TC_ACT_UNSPEC

#define XKV_NS_PER_MS 1000000ULL
#define XKV_NS_PER_S 1000000000ULL

#define XKV_TCP_FIN 0x01
#define XKV_TCP_SYN 0x02
#define XKV_TCP_RST 0x04
#define XKV_TCP_ACK 0x10

/* memcached's binary protocol magic bytes */
#define XKV_BIN_REQ 0x80
#define XKV_BIN_RES 0x81

/* --- small helpers -------------------------------------------------------- */

/*
 * @v & @mask, computed where the verifier sees it. The 6.1 verifier loses
 * a min()'s bound when clang copies the value to another register first,
 * and clang drops a mask it can prove changes nothing: the empty asm
 * hides the value from clang.
 */
static __always_inline __u32 xkv_bound(__u32 v, __u32 mask)
{
	asm volatile("" : "+r"(v));
	return v & mask;
}

static __always_inline void lstat_add(__u32 id, __u64 n)
{
	struct xkv_learn_stats *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&xkv_lstats, &zero);
	if (st && id < XKV_LSTAT_NR)
		((__u64 *)st)[id] += n;
}

#define LSTAT(name) lstat_add(XKV_LSTAT_##name, 1)

static __always_inline struct xkv_learn_glob *lglob(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xkv_lglob, &zero);
}

/*
 * The slot of a key: way 0 of its set. Learning installs nowhere else, so
 * a key is in this slot or in none, and this slot is all a write must
 * empty (XDP looks in every way of the set and finds it here).
 */
static __always_inline __u32 slot_of(__u32 hash)
{
	return xkv_hot_index(hash, xkv_lcfg.nslots);
}

static __always_inline void occ_set(__u32 idx)
{
	__u32 w = idx / 64;
	__u64 *p = bpf_map_lookup_elem(&xkv_locc, &w);

	if (p)
		__sync_fetch_and_or(p, 1ULL << (idx & 63));
}

static __always_inline void occ_clear(__u32 idx)
{
	__u32 w = idx / 64;
	__u64 *p = bpf_map_lookup_elem(&xkv_locc, &w);

	if (p)
		__sync_fetch_and_and(p, ~(1ULL << (idx & 63)));
}

/* with the slot locked: empty it */
static __always_inline void slot_empty_locked(struct xkv_slot *h, __u32 idx)
{
	if (READ_ONCE(h->key_len)) {
		xkv_slot_empty(h);
		LSTAT(slots_cleared);
	}
	occ_clear(idx);
}

/*
 * Empty slot @idx if it holds anything. Called after the slot's (or the
 * global) generation was bumped: an installer that takes the lock after
 * this looked at the slot sees the bump and backs off, so a slot found
 * empty and unlocked needs nothing.
 * Return: 0 when done, 1 when another CPU holds the slot (try again).
 */
static __always_inline int slot_clear_try(__u32 idx)
{
	struct xkv_slot *h = bpf_map_lookup_elem(&xkv_hot, &idx);
	__u32 v;

	if (!h)
		return 0;
	v = xkv_slot_seq_read(h);
	if (v & 1)
		return 1;
	if (!READ_ONCE(h->key_len) && xkv_slot_seq_read(h) == v)
		return 0;
	/* one try; the caller's loop bounds the retries (xkv_slot.h) */
	if (!xkv_slot_trylock(h, &v))
		return 1;
	slot_empty_locked(h, idx);
	xkv_slot_unlock(h, v);
	return 0;
}

/* --- what ingress does with a key ----------------------------------------- */

/*
 * Time an item written now with memcached exptime @e stops being served,
 * rounded up, in bpf_ktime_get_ns() time; 0 = never.
 */
static __always_inline __u64 exp_deadline(__s32 e, __u64 now)
{
	__u64 tai_s, at;

	if (e == 0)
		return 0;
	if (e < 0)
		return now + XKV_LEARN_EXP_SLACK_NS;
	if (e <= XKV_LEARN_REALTIME_MAXDELTA)
		return now + (__u64)e * XKV_NS_PER_S + XKV_LEARN_EXP_SLACK_NS;
	/*
	 * A unix time. CLOCK_TAI runs ahead of the real time by the leap
	 * seconds (0 when nobody told the kernel, 37 now): the real time
	 * is at least tai - 37, so the item expires at most this far ahead.
	 */
	tai_s = bpf_ktime_get_tai_ns() / XKV_NS_PER_S;
	at = (__u64)e + XKV_LEARN_TAI_OFFSET_MAX;
	if (at <= tai_s)
		return now + XKV_LEARN_EXP_SLACK_NS;
	return now + (at - tai_s) * XKV_NS_PER_S + XKV_LEARN_EXP_SLACK_NS;
}

/* raise *@p to @v (another CPU may raise it too) */
static __always_inline void max_u64(__u64 *p, __u64 v)
{
	__u64 old;
	int i;

	for (i = 0; i < 4; i++) {
		old = READ_ONCE(*p);
		if (old >= v)
			return;
		if (__sync_val_compare_and_swap(p, old, v) == old)
			return;
	}
}

/* a write to a key of slot @idx takes effect now */
static __always_inline void in_invalidate(struct xkv_lscratch *s, __u32 idx,
					  __u64 now)
{
	struct xkv_learn_slot *m = bpf_map_lookup_elem(&xkv_lmeta, &idx);
	__u32 n;

	if (!m)
		return;
	WRITE_ONCE(m->write_ns, now);
	__sync_fetch_and_add(&m->gen, 1);
	LSTAT(in_write_keys);
	if (!slot_clear_try(idx))
		return;
	n = s->nq;
	if (n < XKV_LEARN_QUEUE) {
		s->q[n & (XKV_LEARN_QUEUE - 1)] = idx;
		s->nq = n + 1;
	} else {
		s->qovf = 1;
	}
}

/* ... and it set an expiry: learn nothing for the slot before it passes */
static __always_inline void in_volatile(__u32 idx, __s32 e, __u64 now)
{
	struct xkv_learn_slot *m = bpf_map_lookup_elem(&xkv_lmeta, &idx);
	__u64 dl = exp_deadline(e, now);

	if (m && dl)
		max_u64(&m->vol_until_ns, dl);
}

/* a GET for a key of slot @idx: note the generations it found */
static __always_inline void in_record(__u32 idx)
{
	struct xkv_learn_slot *m = bpf_map_lookup_elem(&xkv_lmeta, &idx);
	struct xkv_learn_glob *g = lglob();
	__u64 gens;

	if (!m || !g)
		return;
	gens = (__u64)READ_ONCE(m->gen) << 32 | READ_ONCE(g->ggen);
	WRITE_ONCE(m->req_gens, gens);
	/* a full barrier: @seen is never set before @req_gens is */
	if (!READ_ONCE(m->seen))
		__sync_fetch_and_or(&m->seen, 1);
	LSTAT(in_get_keys);
}

/*
 * Every slot may be stale: bump the global generation now, empty the
 * learned slots once the packet is parsed (before it goes up the stack).
 */
static __always_inline void in_flush(struct xkv_lscratch *s, __u64 now,
				     int unsure)
{
	struct xkv_learn_glob *g = lglob();

	if (g) {
		WRITE_ONCE(g->gwrite_ns, now);
		__sync_fetch_and_add(&g->ggen, 1);
	}
	s->need_flush = 1;
	if (unsure)
		s->flush_unsure = 1;
}

/* --- emptying slots after the parse --------------------------------------- */

/* index of the lowest set bit of @b (b != 0) */
static __always_inline __u32 low_bit(__u64 b)
{
	__u32 n = 0;

	b &= -b;
	if (!(b & 0xffffffffULL)) {
		n += 32;
		b >>= 32;
	}
	if (!(b & 0xffff)) {
		n += 16;
		b >>= 16;
	}
	if (!(b & 0xff)) {
		n += 8;
		b >>= 8;
	}
	if (!(b & 0xf)) {
		n += 4;
		b >>= 4;
	}
	if (!(b & 0x3)) {
		n += 2;
		b >>= 2;
	}
	if (!(b & 0x1))
		n += 1;
	return n;
}

/*
 * One round of a flush: read the next occupancy word, or empty one slot it
 * names. A slot another CPU holds is tried again next round, up to
 * XKV_SLOT_TRIES times. State in @data, a struct xkv_lscratch.
 */
static long flush_cb(__u32 i, void *data)
{
	struct xkv_lscratch *s = *(struct xkv_lscratch **)data;
	__u32 idx, w = s->li;
	__u64 *p, bits = s->lbits;

	if (!bits) {
		if (w >= xkv_lcfg.nslots / 64)
			return 1;
		p = bpf_map_lookup_elem(&xkv_locc, &w);
		if (!p)
			return 1;
		s->lbits = __sync_fetch_and_or(p, 0);
		s->lcur = w;
		s->li = w + 1;
		return 0;
	}
	idx = s->lcur * 64 + low_bit(bits);
	if (slot_clear_try(idx) && ++s->ltries < XKV_SLOT_TRIES)
		return 0;
	if (s->ltries >= XKV_SLOT_TRIES)
		LSTAT(errors);
	s->ltries = 0;
	s->lbits = bits & (bits - 1);
	return 0;
}

static long queue_cb(__u32 i, void *data)
{
	struct xkv_lscratch *s = *(struct xkv_lscratch **)data;
	__u32 k = s->li;

	if (k >= s->nq || k >= XKV_LEARN_QUEUE)
		return 1;
	if (slot_clear_try(s->q[k & (XKV_LEARN_QUEUE - 1)]) &&
	    ++s->ltries < XKV_SLOT_TRIES)
		return 0;
	if (s->ltries >= XKV_SLOT_TRIES)
		LSTAT(errors);
	s->ltries = 0;
	s->li = k + 1;
	return 0;
}

/* empty every slot that may hold a learned key (loop state in @s) */
static __always_inline void flush_scan(struct xkv_lscratch *s)
{
	struct xkv_lscratch *ctx = s;

	s->li = 0;
	s->lcur = 0;
	s->lbits = 0;
	s->ltries = 0;
	bpf_loop(xkv_lcfg.nslots / 64 + xkv_lcfg.nslots + XKV_SLOT_TRIES,
		 flush_cb, &ctx, 0);
}

/* empty what the parse asked for; then nothing stale can be served */
__attribute__((noinline)) int xkv_lin_finish(__u64 now)
{
	struct xkv_lscratch *s = bpf_map_lookup_elem(&xkv_lscratch,
						     &(__u32){ 0 });

	if (!s)
		return 0;
	if (s->qovf && !s->need_flush)
		in_flush(s, now, 0);
	if (s->need_flush) {
		if (s->flush_unsure)
			LSTAT(in_flush_unsure);
		flush_scan(s);
	} else if (s->nq) {
		struct xkv_lscratch *ctx = s;

		s->li = 0;
		s->ltries = 0;
		bpf_loop(XKV_LEARN_QUEUE * XKV_SLOT_TRIES, queue_cb, &ctx, 0);
	}
	s->need_flush = 0;
	s->flush_unsure = 0;
	s->nq = 0;
	s->qovf = 0;
	return 0;
}

/* flush everything while ingress's scratch memory is busy */
__attribute__((noinline)) int xkv_lflush_all(__u64 now)
{
	struct xkv_learn_glob *g = lglob();
	struct xkv_lscratch *s;
	__u32 two = 2;

	if (g) {
		WRITE_ONCE(g->gwrite_ns, now);
		__sync_fetch_and_add(&g->ggen, 1);
	}
	s = bpf_map_lookup_elem(&xkv_lscratch, &two);
	if (s)
		flush_scan(s);
	return 0;
}

/* --- headers -------------------------------------------------------------- */

static __always_inline __u32 hb16(const __u8 *b, __u32 off)
{
	return (__u32)b[off & 0xff] << 8 | b[(off + 1) & 0xff];
}

static __always_inline __u32 hb32(const __u8 *b, __u32 off)
{
	return hb16(b, off) << 16 | hb16(b, off + 2);
}

/* xkv_parse_hdr() results */
enum {
	XKV_LH_OK,		/* TCP or UDP, ports and payload known */
	XKV_LH_IGNORE,		/* not TCP/UDP over IP, or nothing of ours */
	XKV_LH_UNSURE,		/* IP we could not parse to the transport
				 * header: it may carry a write */
};

/*
 * Parse Ethernet (up to two tags), IPv4 or IPv6 (extension headers
 * walked) and the TCP or UDP header of @skb into s->h, from a copy of its
 * first XKV_LHDR_BUF bytes.
 */
__attribute__((noinline)) int xkv_parse_hdr(struct __sk_buff *skb, __u32 which)
{
	struct xkv_lscratch *s = bpf_map_lookup_elem(&xkv_lscratch, &which);
	__u32 len = skb->len, n, off, proto, l3, tot, hl, nh, i, end;
	struct xkv_lhdr *h;
	__u8 *b;

	if (!s)
		return XKV_LH_IGNORE;
	h = &s->h;
	b = s->hb;

	n = len < XKV_LHDR_BUF ? len : XKV_LHDR_BUF;
	n = xkv_bound(n, XKV_LHDR_BUF * 2 - 1);
	if (n < ETH_HLEN + 20)
		return XKV_LH_IGNORE;
	if (bpf_skb_load_bytes(skb, 0, b, n))
		return XKV_LH_IGNORE;
	off = 12;
	proto = hb16(b, off);
	for (i = 0; i < XKV_MAX_VLANS; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		off += 4;
		proto = hb16(b, off);
	}
	off += 2;
	l3 = off;
	h->frag = 0;
	if (proto == ETH_P_IP) {
		__u32 fo;

		if (l3 + 20 > n || (b[l3 & 0xff] >> 4) != 4)
			return XKV_LH_IGNORE;
		hl = (b[l3 & 0xff] & 0xf) * 4;
		if (hl < 20)
			return XKV_LH_IGNORE;
		tot = hb16(b, l3 + 2);
		fo = hb16(b, l3 + 6);
		nh = b[(l3 + 9) & 0xff];
		if (fo & XKV_IP_OFFMASK)
			h->frag = XKV_LFRAG_LATER;
		else if (fo & XKV_IP_MF)
			h->frag = XKV_LFRAG_FIRST;
		h->v6 = 0;
		__builtin_memset(h->src, 0, sizeof(h->src));
		__builtin_memset(h->dst, 0, sizeof(h->dst));
		for (i = 0; i < 4; i++) {
			h->src[i] = b[(l3 + 12 + i) & 0xff];
			h->dst[i] = b[(l3 + 16 + i) & 0xff];
		}
		/* 0: GSO with a length too big for the field */
		end = tot ? l3 + tot : len;
		off = l3 + hl;
	} else if (proto == ETH_P_IPV6) {
		__u32 plen;

		if (l3 + 40 > n || (b[l3 & 0xff] >> 4) != 6)
			return XKV_LH_IGNORE;
		plen = hb16(b, l3 + 4);
		nh = b[(l3 + 6) & 0xff];
		h->v6 = 1;
		for (i = 0; i < 16; i++) {
			h->src[i] = b[(l3 + 8 + i) & 0xff];
			h->dst[i] = b[(l3 + 24 + i) & 0xff];
		}
		end = plen ? l3 + 40 + plen : len;
		off = l3 + 40;
		for (i = 0; i < XKV_LEARN_V6_EXT_MAX; i++) {
			if (nh != 0 && nh != 43 && nh != 60 && nh != 44 &&
			    nh != 51)
				break;
			if (off + 8 > n)
				return XKV_LH_UNSURE;
			if (nh == 44) {		/* fragment */
				if (hb16(b, off + 2) & 0xfff8)
					h->frag = XKV_LFRAG_LATER;
				else if (b[(off + 3) & 0xff] & 1)
					h->frag = XKV_LFRAG_FIRST;
				nh = b[off & 0xff];
				off += 8;
			} else if (nh == 51) {	/* AH */
				hl = (b[(off + 1) & 0xff] + 2) * 4;
				nh = b[off & 0xff];
				off += hl;
			} else {
				hl = (b[(off + 1) & 0xff] + 1) * 8;
				nh = b[off & 0xff];
				off += hl;
			}
		}
		if (nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51)
			return XKV_LH_UNSURE;
	} else {
		return XKV_LH_IGNORE;
	}
	if (nh != IPPROTO_TCP && nh != IPPROTO_UDP)
		return XKV_LH_IGNORE;
	h->proto = nh;
	if (h->frag == XKV_LFRAG_LATER) {
		h->sport = 0;
		h->dport = 0;
		h->plen = 0;
		return XKV_LH_OK;
	}
	if (end > len)
		end = len;
	if (nh == IPPROTO_UDP) {
		if (off + 8 > n)
			return XKV_LH_UNSURE;
		h->sport = bpf_htons(hb16(b, off));
		h->dport = bpf_htons(hb16(b, off + 2));
		h->ulen = hb16(b, off + 4);
		h->ulen = h->ulen > 8 ? h->ulen - 8 : 0;
		h->tflags = 0;
		h->seq = 0;
		hl = 8;
	} else {
		if (off + 20 > n)
			return XKV_LH_UNSURE;
		h->sport = bpf_htons(hb16(b, off));
		h->dport = bpf_htons(hb16(b, off + 2));
		h->seq = hb32(b, off + 4);
		h->tflags = b[(off + 13) & 0xff];
		hl = (b[(off + 12) & 0xff] >> 4) * 4;
		if (hl < 20)
			return XKV_LH_IGNORE;
	}
	h->poff = off + hl;
	h->plen = end > off + hl ? end - (off + hl) : 0;
	return XKV_LH_OK;
}

/* --- numbers, as memcached's safe_strto*() read them ---------------------- */

static __always_inline int is_space(__u8 c)
{
	/* isspace() in the C locale; ' ' and '\n' never reach a token */
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static __always_inline void num_reset(__u8 *nst, __u8 *nf, __u64 *mag)
{
	*nst = XKV_LN_LEAD;
	*nf = 0;
	*mag = 0;
}

/* one byte of a token read as strtol()/strtoul() read it, base 10 */
static __always_inline void num_step(__u8 *nst, __u8 *nf, __u64 *mag, __u8 c)
{
	__u64 d = c - '0', m = *mag;
	int digit = c >= '0' && c <= '9';

	if (c == '-')
		*nf |= XKV_LNF_DASH;
	switch (*nst) {
	case XKV_LN_LEAD:
		if (is_space(c))
			return;
		if (c == '+' || c == '-') {
			if (c == '-')
				*nf |= XKV_LNF_NEG;
			*nst = XKV_LN_SIGN;
			return;
		}
		/* fall through */
	case XKV_LN_SIGN:
		if (!digit) {
			*nst = XKV_LN_BAD;
			return;
		}
		*nst = XKV_LN_DIG;
		*mag = d;
		return;
	case XKV_LN_DIG:
		if (digit) {
			if (m > 1844674407370955161ULL ||
			    (m == 1844674407370955161ULL && d > 5))
				*nf |= XKV_LNF_OVF;
			else
				*mag = m * 10 + d;
		} else if (is_space(c)) {
			*nst = XKV_LN_TAIL;
		} else {
			*nst = XKV_LN_BAD;
		}
		return;
	}
}

/* safe_strtol(): accepted, and the int32_t memcached keeps in @out */
static __always_inline int num_strtol(__u8 nst, __u8 nf, __u64 mag,
				      __s32 *out)
{
	__u64 v;

	if (nst != XKV_LN_DIG && nst != XKV_LN_TAIL)
		return 0;
	if (nf & XKV_LNF_OVF)
		return 0;
	/* strtol's ERANGE: beyond a 64-bit long */
	if (!(nf & XKV_LNF_NEG) && mag > 0x7fffffffffffffffULL)
		return 0;
	if ((nf & XKV_LNF_NEG) && mag > 0x8000000000000000ULL)
		return 0;
	v = (nf & XKV_LNF_NEG) ? -mag : mag;
	*out = (__s32)(__u32)v;
	return 1;
}

/* safe_strtoul() (64-bit unsigned long) and safe_strtoull(): accepted? */
static __always_inline int num_strtoul(__u8 nst, __u8 nf, __u64 mag)
{
	__u64 v;

	if (nst != XKV_LN_DIG && nst != XKV_LN_TAIL)
		return 0;
	if (nf & XKV_LNF_OVF)
		return 0;
	v = (nf & XKV_LNF_NEG) ? -mag : mag;
	if ((__s64)v < 0 && (nf & XKV_LNF_DASH))
		return 0;
	return 1;
}

/* --- the request parser --------------------------------------------------- */

/* pack up to 8 characters the way a little-endian load of them reads */
#define XKV_W(a, b, c, d, e, f, g, h)                                        \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 |             \
	 (__u64)(h) << 56)

/* which command a first token of @len bytes, packed in @w0 @w1, names */
static __always_inline __u8 in_classify(__u64 w0, __u64 w1, __u32 len)
{
	if (w1 && len != 9)
		return XKV_LC_OTHER;
	switch (len) {
	case 2:
		if (w0 == XKV_W('m', 's', 0, 0, 0, 0, 0, 0))
			return XKV_LC_MS;
		if (w0 == XKV_W('m', 'd', 0, 0, 0, 0, 0, 0))
			return XKV_LC_MD;
		if (w0 == XKV_W('m', 'a', 0, 0, 0, 0, 0, 0))
			return XKV_LC_MA;
		if (w0 == XKV_W('m', 'g', 0, 0, 0, 0, 0, 0))
			return XKV_LC_MG;
		break;
	case 3:
		if (w0 == XKV_W('g', 'e', 't', 0, 0, 0, 0, 0))
			return XKV_LC_GET;
		if (w0 == XKV_W('s', 'e', 't', 0, 0, 0, 0, 0) ||
		    w0 == XKV_W('a', 'd', 'd', 0, 0, 0, 0, 0))
			return XKV_LC_STORE;
		if (w0 == XKV_W('c', 'a', 's', 0, 0, 0, 0, 0))
			return XKV_LC_CAS;
		if (w0 == XKV_W('g', 'a', 't', 0, 0, 0, 0, 0))
			return XKV_LC_GAT;
		break;
	case 4:
		if (w0 == XKV_W('g', 'e', 't', 's', 0, 0, 0, 0) ||
		    w0 == XKV_W('b', 'g', 'e', 't', 0, 0, 0, 0))
			return XKV_LC_GET;
		if (w0 == XKV_W('g', 'a', 't', 's', 0, 0, 0, 0))
			return XKV_LC_GAT;
		if (w0 == XKV_W('i', 'n', 'c', 'r', 0, 0, 0, 0) ||
		    w0 == XKV_W('d', 'e', 'c', 'r', 0, 0, 0, 0))
			return XKV_LC_KEY;
		break;
	case 5:
		if (w0 == XKV_W('t', 'o', 'u', 'c', 'h', 0, 0, 0))
			return XKV_LC_TOUCH;
		break;
	case 6:
		if (w0 == XKV_W('a', 'p', 'p', 'e', 'n', 'd', 0, 0))
			return XKV_LC_STORE;
		if (w0 == XKV_W('d', 'e', 'l', 'e', 't', 'e', 0, 0))
			return XKV_LC_KEY;
		break;
	case 7:
		if (w0 == XKV_W('r', 'e', 'p', 'l', 'a', 'c', 'e', 0) ||
		    w0 == XKV_W('p', 'r', 'e', 'p', 'e', 'n', 'd', 0))
			return XKV_LC_STORE;
		break;
	case 9:
		if (w0 == XKV_W('f', 'l', 'u', 's', 'h', '_', 'a', 'l') &&
		    w1 == 'l')
			return XKV_LC_FLUSH;
		break;
	}
	return XKV_LC_OTHER;
}

/* a new line starts: keep only what belongs to the stream */
static __always_inline void in_line_reset(struct xkv_lin *p)
{
	p->st = XKV_LIN_LINE;
	p->cls = XKV_LC_NONE;
	p->f &= XKV_LINF_UNSURE | XKV_LINF_HOPELESS | XKV_LINF_PREV_NL;
	p->mf = 0;
	p->ok = 0;
	p->tok = 0;
	p->tlen = 0;
	p->thash = XKV_HOT_FNV_BASIS;
	p->kidx = ~0U;
	p->exptime = 0;
	p->vlen = 0;
	p->skip = 0;
	p->w0 = 0;
	p->w1 = 0;
	p->ngk = 0;
	num_reset(&p->nst, &p->nf, &p->mag);
}

/* a whole parser reset: @unsure, and then whether the start is a line start */
static __always_inline void in_reset(struct xkv_lin *p, int unsure,
				     int at_line)
{
	p->f = unsure ? XKV_LINF_UNSURE : 0;
	p->npend = 0;
	p->pend[0] = 0;
	p->pend[1] = 0;
	p->pkidx[0] = ~0U;
	p->pkidx[1] = ~0U;
	in_line_reset(p);
	if (!at_line)
		p->st = XKV_LIN_SKIPLINE;
}

/* what the parser callback works with (its moving state is in @s) */
struct xkv_in_ctx {
	struct __sk_buff *skb;
	struct xkv_lscratch *s;
	struct xkv_lin *p;
	__u64 now;
	__u32 end;		/* packet offset past the payload */
};

/* unsure mode: memcached may resume parsing at @sp for slot @kidx's write */
static __always_inline void in_pend_add(struct xkv_in_ctx *c,
					struct xkv_lin *p, __u32 sp,
					__u32 kidx)
{
	if (p->npend == 0) {
		p->pend[0] = sp;
		p->pkidx[0] = kidx;
		p->npend = 1;
	} else if (p->npend == 1) {
		p->pend[1] = sp;
		p->pkidx[1] = kidx;
		p->npend = 2;
	} else {
		/* more than two data blocks in flight: give up on precision */
		p->f |= XKV_LINF_HOPELESS;
		in_flush(c->s, c->now, 1);
	}
}

/* a token of the current line is complete */
static __always_inline void in_tok_end(struct xkv_in_ctx *c,
				       struct xkv_lin *p)
{
	__u32 t = p->tok, len = p->tlen, idx;
	__u32 h = xkv_hot_hash_final(p->thash);
	__s32 v;

	idx = slot_of(h);
	if (t == 0) {
		p->cls = in_classify(p->w0, p->w1, len);
		goto next;
	}
	switch (p->cls) {
	case XKV_LC_GET:
		if (len <= XKV_HOT_KEY_MAX)
			in_record(idx);
		break;
	case XKV_LC_STORE:
	case XKV_LC_CAS:
		if (t == 1) {
			if (len <= XKV_HOT_KEY_MAX) {
				p->kidx = idx;
				p->f |= XKV_LINF_KEY_OK;
			}
		} else if (t == 2) {
			if (num_strtoul(p->nst, p->nf, p->mag))
				p->ok |= XKV_LOK_FLAGS;
		} else if (t == 3) {
			if (num_strtol(p->nst, p->nf, p->mag, &v)) {
				p->ok |= XKV_LOK_EXP;
				p->exptime = v;
			}
		} else if (t == 4) {
			if (num_strtol(p->nst, p->nf, p->mag, &v)) {
				p->ok |= XKV_LOK_VLEN;
				p->vlen = v;
			}
		} else if (t == 5) {
			if (num_strtoul(p->nst, p->nf, p->mag))
				p->ok |= XKV_LOK_CAS;
		}
		break;
	case XKV_LC_KEY:
	case XKV_LC_TOUCH:
		if (t == 1 && len <= XKV_HOT_KEY_MAX) {
			p->kidx = idx;
			p->f |= XKV_LINF_KEY_OK;
		} else if (t == 2 && p->cls == XKV_LC_TOUCH &&
			   num_strtol(p->nst, p->nf, p->mag, &v)) {
			p->ok |= XKV_LOK_EXP;
			p->exptime = v;
		}
		break;
	case XKV_LC_GAT:
		if (t == 1) {
			if (num_strtol(p->nst, p->nf, p->mag, &v)) {
				p->ok |= XKV_LOK_EXP;
				p->exptime = v;
			}
		} else if (len <= XKV_HOT_KEY_MAX) {
			/* gat takes effect at its line end: keep the slots */
			__u32 k = p->ngk;

			if (k < XKV_LIN_GAT_KEYS) {
				p->gk[k & (XKV_LIN_GAT_KEYS - 1)] = idx;
				p->ngk = k + 1;
			} else {
				p->f |= XKV_LINF_FLUSH_EOL;
			}
		}
		break;
	case XKV_LC_FLUSH:
		if (t == 1 && num_strtol(p->nst, p->nf, p->mag, &v)) {
			p->ok |= XKV_LOK_EXP;
			p->exptime = v;
		}
		break;
	case XKV_LC_MS:
	case XKV_LC_MD:
	case XKV_LC_MA:
	case XKV_LC_MG:
		if (t == 1) {
			if (len <= XKV_HOT_KEY_MAX) {
				p->kidx = idx;
				p->f |= XKV_LINF_KEY_OK;
			}
		} else if (t == 2 && p->cls == XKV_LC_MS) {
			if (num_strtol(p->nst, p->nf, p->mag, &v)) {
				p->ok |= XKV_LOK_VLEN;
				p->vlen = v;
			}
		} else if (p->mf & XKV_LMF_LETTER) {
			/* a T or N flag: an expiry for the key (marked now:
			 * that only holds learning back earlier) */
			p->mf &= ~XKV_LMF_LETTER;
			if (num_strtol(p->nst, p->nf, p->mag, &v) && v &&
			    (p->f & XKV_LINF_KEY_OK))
				in_volatile(p->kidx, v, c->now);
		}
		break;
	}
next:
	p->tok = t < 0xffff ? t + 1 : t;
	p->tlen = 0;
	p->thash = XKV_HOT_FNV_BASIS;
	num_reset(&p->nst, &p->nf, &p->mag);
}

/* one byte of a token, or a separator */
static __always_inline void in_char(struct xkv_in_ctx *c, struct xkv_lin *p,
				    __u8 ch)
{
	__u32 len = p->tlen;

	if (p->f & XKV_LINF_NUL)
		return;
	if (ch == 0) {
		/* memcached tokenizes with strlen(): the line ends here */
		if (len)
			in_tok_end(c, p);
		p->f |= XKV_LINF_NUL;
		return;
	}
	if (ch == ' ') {
		if (len)
			in_tok_end(c, p);
		return;
	}
	if (p->tok == 0) {
		if (len < 8)
			p->w0 |= (__u64)ch << (len * 8);
		else if (len < 16)
			p->w1 |= (__u64)ch << ((len - 8) * 8);
	} else if (len == 0 && p->tok >= 2 && p->cls >= XKV_LC_MS &&
		   !(p->cls == XKV_LC_MS && p->tok == 2)) {
		/* a meta flag token: a letter, maybe a number after it */
		if (ch == 'b')
			p->mf |= XKV_LMF_B;
		if (ch == 'T' || ch == 'N')
			p->mf |= XKV_LMF_TTL | XKV_LMF_LETTER;
		p->tlen = 1;
		return;
	}
	p->thash = xkv_hot_hash_step(p->thash, ch);
	p->tlen = len < 0xffff ? len + 1 : len;
	num_step(&p->nst, &p->nf, &p->mag, ch);
}

/* the line ended: do what memcached will do now */
static __always_inline void in_eol(struct xkv_in_ctx *c, struct xkv_lin *p)
{
	__u32 ntok, kok, acc, n, kidx, k;
	__u8 cls;

	if (p->tlen && !(p->f & XKV_LINF_NUL))
		in_tok_end(c, p);
	ntok = p->tok;
	cls = p->cls;
	kok = p->f & XKV_LINF_KEY_OK;
	LSTAT(in_lines);
	if (p->f & XKV_LINF_FLUSH_EOL)
		in_flush(c->s, c->now, 1);

	switch (cls) {
	case XKV_LC_STORE:
	case XKV_LC_CAS:
		/*
		 * The data block is consumed (stored, or swallowed after an
		 * error) exactly when memcached's process_update_command()
		 * gets past its checks: token count, key length, numbers.
		 */
		if (cls == XKV_LC_STORE)
			acc = ntok == 5 || ntok == 6;
		else
			acc = (ntok == 6 || ntok == 7) &&
			      (p->ok & XKV_LOK_CAS);
		acc = acc && kok &&
		      (p->ok & (XKV_LOK_FLAGS | XKV_LOK_EXP | XKV_LOK_VLEN)) ==
			      (XKV_LOK_FLAGS | XKV_LOK_EXP | XKV_LOK_VLEN) &&
		      p->vlen >= 0 && p->vlen <= 0x7ffffffd;
		/* a set whose item cannot be allocated unlinks the old one
		 * right away, before its data arrives */
		if (kok)
			in_invalidate(c->s, p->kidx, c->now);
		if (!acc)
			break;
		if (p->exptime)
			in_volatile(p->kidx, p->exptime, c->now);
		n = (__u32)p->vlen + 2;
		kidx = p->kidx;
		if (!(p->f & XKV_LINF_UNSURE)) {
			/* skip the block; the write takes effect at its end */
			in_line_reset(p);
			p->st = XKV_LIN_DATA;
			p->skip = n;
			p->kidx = kidx;
			return;
		}
		/* the block starts after this '\n' (at s->sp) */
		in_pend_add(c, p, c->s->sp + 1 + n, kidx);
		break;
	case XKV_LC_KEY:
	case XKV_LC_TOUCH:
		if (!kok)
			break;
		in_invalidate(c->s, p->kidx, c->now);
		if (cls == XKV_LC_TOUCH && (p->ok & XKV_LOK_EXP) && p->exptime)
			in_volatile(p->kidx, p->exptime, c->now);
		break;
	case XKV_LC_GAT:
		n = p->ngk;
		for (k = 0; k < XKV_LIN_GAT_KEYS; k++) {
			if (k >= n)
				break;
			kidx = p->gk[k];
			in_invalidate(c->s, kidx, c->now);
			if ((p->ok & XKV_LOK_EXP) && p->exptime)
				in_volatile(kidx, p->exptime, c->now);
		}
		/* more keys than kept: flushed, but their expiry is unknown:
		 * hold all learning until it passes */
		if ((p->f & XKV_LINF_FLUSH_EOL) && (p->ok & XKV_LOK_EXP) &&
		    p->exptime) {
			struct xkv_learn_glob *g = lglob();
			__u64 dl = exp_deadline(p->exptime, c->now);

			if (g && dl)
				max_u64(&g->no_learn_until_ns, dl);
		}
		break;
	case XKV_LC_FLUSH:
		LSTAT(in_flush_all);
		in_flush(c->s, c->now, 0);
		/* "flush_all <delay>": items go at the deadline; until then
		 * memcached still serves them, but nothing may be learned */
		if ((p->ok & XKV_LOK_EXP) && p->exptime > 0) {
			struct xkv_learn_glob *g = lglob();
			__u64 dl = exp_deadline(p->exptime, c->now);

			if (g && dl)
				max_u64(&g->no_learn_until_ns, dl);
		}
		break;
	case XKV_LC_MS:
	case XKV_LC_MD:
	case XKV_LC_MA:
	case XKV_LC_MG:
		/* mg writes only with T (touch) or N (create on miss) */
		if (cls == XKV_LC_MG && !(p->mf & XKV_LMF_TTL))
			break;
		if (p->mf & XKV_LMF_B)
			/* base64 key: which slot is unknown */
			in_flush(c->s, c->now, 1);
		else if (kok)
			in_invalidate(c->s, p->kidx, c->now);
		if (cls == XKV_LC_MS) {
			/* its data block is not mirrored: from here on parse
			 * every line start candidate */
			n = (p->ok & XKV_LOK_VLEN) && p->vlen >= 0 ?
				    (__u32)p->vlen + 2 : 0;
			p->f |= XKV_LINF_UNSURE;
			if (n)
				in_pend_add(c, p, c->s->sp + 1 + n,
					    kok && !(p->mf & XKV_LMF_B) ?
						    p->kidx : ~0U);
		}
		break;
	}
	in_line_reset(p);
}

/*
 * Unsure mode, at stream position s->sp: memcached resumes here if a
 * storage command seen earlier was real. Its write takes effect now; and
 * unless a line starts here anyway (after a '\n'), a command may start in
 * the middle of the line being parsed: flush when that line ends.
 */
static __always_inline void in_pend_check(struct xkv_in_ctx *c,
					  struct xkv_lin *p)
{
	__u32 sp = c->s->sp, n = p->npend, hit0, hit1;

	hit0 = n >= 1 && p->pend[0] == sp;
	hit1 = n >= 2 && p->pend[1] == sp;
	if (!hit0 && !hit1)
		return;
	if (hit0 && p->pkidx[0] != ~0U)
		in_invalidate(c->s, p->pkidx[0], c->now);
	if (hit1 && p->pkidx[1] != ~0U)
		in_invalidate(c->s, p->pkidx[1], c->now);
	if (hit0 && n == 2 && !hit1) {
		p->pend[0] = p->pend[1];
		p->pkidx[0] = p->pkidx[1];
		p->npend = 1;
	} else if (!hit0 || !hit1) {
		p->npend = n - 1;
	} else {
		p->npend = 0;
	}
	if (!(p->f & XKV_LINF_PREV_NL))
		p->f |= XKV_LINF_FLUSH_EOL;
}

/* one byte of the request stream */
static __always_inline void in_byte(struct xkv_in_ctx *c, struct xkv_lin *p,
				    __u8 ch)
{
	if ((p->f & XKV_LINF_UNSURE) && p->npend)
		in_pend_check(c, p);
	if (p->st == XKV_LIN_SKIPLINE) {
		if (ch == '\n') {
			if (p->f & XKV_LINF_FLUSH_EOL)
				in_flush(c->s, c->now, 1);
			in_line_reset(p);
		}
	} else {
		if (p->f & XKV_LINF_CR) {
			p->f &= ~XKV_LINF_CR;
			if (ch == '\n') {
				in_eol(c, p);
				goto out;
			}
			in_char(c, p, '\r');
		}
		if (ch == '\r')
			p->f |= XKV_LINF_CR;
		else if (ch == '\n')
			in_eol(c, p);
		else
			in_char(c, p, ch);
	}
out:
	if (ch == '\n')
		p->f |= XKV_LINF_PREV_NL;
	else
		p->f &= ~XKV_LINF_PREV_NL;
}

static long in_cb(__u32 i, void *data)
{
	struct xkv_in_ctx *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_lin *p = c->p;
	__u32 pos = s->pos, end = c->end, n;
	__u8 ch;

	if (pos >= end)
		return 1;
	if (p->st == XKV_LIN_DATA) {
		n = end - pos;
		if (n > p->skip)
			n = p->skip;
		s->pos = pos + n;
		s->sp += n;
		p->skip -= n;
		if (!p->skip) {
			/* the block is in: the store takes effect */
			if (p->kidx != ~0U)
				in_invalidate(s, p->kidx, c->now);
			in_line_reset(p);
		}
		return 0;
	}
	if (pos - s->cbase >= s->clen) {
		/* 1..XKV_LCHUNK bytes (pos < end), as the verifier sees it */
		n = end - pos;
		if (n > XKV_LCHUNK)
			n = XKV_LCHUNK;
		n = xkv_bound(n - 1, XKV_LCHUNK * 2 - 1) + 1;
		if (bpf_skb_load_bytes(c->skb, pos, s->buf, n)) {
			s->err = 1;
			return 1;
		}
		s->cbase = pos;
		s->clen = n;
	}
	ch = s->buf[(pos - s->cbase) & (XKV_LCHUNK - 1)];
	in_byte(c, p, ch);
	s->pos = pos + 1;
	s->sp++;
	return 0;
}

/*
 * Parse payload bytes [@off, @end) of @skb, which start at stream position
 * s->sp (set by the caller), with the parser of flow entry @fidx
 * (XKV_LPARSE_UDP: the UDP datagram parser in scratch memory). A global
 * function, so the verifier checks the parser once. The flow entry is
 * locked by the caller. Return: 0, or -1 when it could not finish.
 */
#define XKV_LPARSE_UDP (~0U)

__attribute__((noinline)) int xkv_lin_parse(struct __sk_buff *skb,
					    __u32 fidx, __u32 off, __u32 end,
					    __u64 now)
{
	struct xkv_lscratch *s = bpf_map_lookup_elem(&xkv_lscratch,
						     &(__u32){ 0 });
	struct xkv_in_ctx c = {
		.skb = skb,
		.now = now,
		.end = end,
	};
	struct xkv_learn_flow *f;
	struct xkv_lin *p;

	if (!s)
		return -1;
	if (fidx == XKV_LPARSE_UDP) {
		p = &s->udp.in;
	} else {
		f = bpf_map_lookup_elem(&xkv_lflows, &fidx);
		if (!f)
			return -1;
		p = &f->in;
	}
	c.s = s;
	c.p = p;
	if (off >= end)
		return 0;
	s->pos = off;
	s->cbase = 0;
	s->clen = 0;
	s->err = 0;
	bpf_loop(end - off + 2, in_cb, &c, 0);
	if (s->err || s->pos < end) {
		LSTAT(errors);
		return -1;
	}
	return 0;
}

/* --- TCP streams ---------------------------------------------------------- */

static __always_inline void tuple_of(struct xkv_lhdr *h, int dir,
				     struct xkv_learn_tuple *t)
{
	__builtin_memset(t, 0, sizeof(*t));
	if (!dir) {
		__builtin_memcpy(t->caddr, h->src, 16);
		__builtin_memcpy(t->saddr, h->dst, 16);
		t->cport = h->sport;
		t->sport = h->dport;
	} else {
		__builtin_memcpy(t->caddr, h->dst, 16);
		__builtin_memcpy(t->saddr, h->src, 16);
		t->cport = h->dport;
		t->sport = h->sport;
	}
	t->v6 = h->v6;
	t->dir = dir;
}

static __always_inline int tuple_eq(const struct xkv_learn_tuple *a,
				    const struct xkv_learn_tuple *b)
{
	const __u64 *x = (const void *)a, *y = (const void *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] &&
	       x[4] == y[4];
}

_Static_assert(sizeof(struct xkv_learn_tuple) == 40, "tuple_eq");

static __always_inline __u32 tuple_hash(const struct xkv_learn_tuple *t)
{
	const __u32 *w = (const void *)t;
	__u32 h = XKV_HOT_FNV_BASIS;
	int i;

	for (i = 0; i < 10; i++)
		h = (h ^ w[i]) * XKV_HOT_FNV_PRIME;
	return xkv_hot_hash_final(h);
}

enum {
	XKV_FLOW_NONE,		/* not followed (and not created) */
	XKV_FLOW_FOUND,		/* followed; locked */
	XKV_FLOW_NEW,		/* entry taken for it; locked, to be set up */
	XKV_FLOW_BUSY,		/* another CPU has it */
};

static __always_inline int flow_trylock(struct xkv_learn_flow *f)
{
	return __sync_val_compare_and_swap(&f->lock, 0, 1) == 0;
}

static __always_inline void flow_unlock(struct xkv_learn_flow *f)
{
	__sync_lock_test_and_set(&f->lock, 0);
}

/*
 * Find @t's entry (two-way: entries base and base + 1) and lock it. With
 * @create, take an empty or the least recently used entry instead when it
 * is not followed.
 */
static __always_inline int flow_get(const struct xkv_learn_tuple *t,
				    int create, __u64 now,
				    struct xkv_learn_flow **out, __u32 *idx)
{
	__u32 base = tuple_hash(t) & (xkv_lcfg.nflows - 1) & ~1U, b1 = base + 1;
	struct xkv_learn_flow *f0, *f1, *f;

	f0 = bpf_map_lookup_elem(&xkv_lflows, &base);
	f1 = bpf_map_lookup_elem(&xkv_lflows, &b1);
	if (!f0 || !f1)
		return XKV_FLOW_NONE;
	f = NULL;
	if (READ_ONCE(f0->used) && tuple_eq(&f0->t, t)) {
		f = f0;
		*idx = base;
	} else if (READ_ONCE(f1->used) && tuple_eq(&f1->t, t)) {
		f = f1;
		*idx = b1;
	}
	if (f) {
		if (!flow_trylock(f))
			return XKV_FLOW_BUSY;
		if (!f->used || !tuple_eq(&f->t, t)) {
			flow_unlock(f);
			return XKV_FLOW_BUSY;
		}
		*out = f;
		return XKV_FLOW_FOUND;
	}
	if (!create)
		return XKV_FLOW_NONE;
	if (!READ_ONCE(f0->used))
		f = f0;
	else if (!READ_ONCE(f1->used))
		f = f1;
	else
		f = READ_ONCE(f0->last_ns) <= READ_ONCE(f1->last_ns) ? f0 : f1;
	*idx = f == f0 ? base : b1;
	if (!flow_trylock(f))
		return XKV_FLOW_BUSY;
	__builtin_memcpy(&f->t, t, sizeof(*t));
	f->used = 1;
	f->last_ns = now;
	f->lost = 0;
	*out = f;
	return XKV_FLOW_NEW;
}

/* stop following (FIN or RST), then unlock */
static __always_inline void flow_end(struct xkv_learn_flow *f)
{
	f->used = 0;
	flow_unlock(f);
}

static __always_inline int seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

/* --- ingress -------------------------------------------------------------- */

static __always_inline struct xkv_lscratch *scratch_get(__u32 which)
{
	return bpf_map_lookup_elem(&xkv_lscratch, &which);
}

static __always_inline __u8 first_byte(struct __sk_buff *skb, __u32 off)
{
	__u8 b = 0;

	bpf_skb_load_bytes(skb, off, &b, 1);
	return b;
}

/*
 * The key of the UDP request or reply in @h (@dir as for tuple_of()):
 * both give the request's tuple, and the request id of the frame header.
 */
static __always_inline int req_key(struct __sk_buff *skb, struct xkv_lhdr *h,
				   int dir, struct xkv_learn_req *r)
{
	__builtin_memset(r, 0, sizeof(*r));
	tuple_of(h, dir, &r->t);
	r->t.dir = 0;
	return bpf_skb_load_bytes(skb, h->poff, &r->id, sizeof(r->id));
}

/*
 * A UDP request: its reply may be sent (within the budget), and learned
 * once unless @nolearn.
 */
static __always_inline void req_note(struct __sk_buff *skb,
				     struct xkv_lhdr *h, __u64 now,
				     __u32 nolearn)
{
	struct xkv_learn_reqv v = {
		.ns = now,
		.bytes = h->ulen,
		.learned = nolearn,
	};
	struct xkv_learn_req r;

	if (!req_key(skb, h, 0, &r))
		bpf_map_update_elem(&xkv_lreq, &r, &v, BPF_ANY);
}

/* IPv4: 0/8, 224/4 and 240/4 (255.255.255.255 too) */
static __always_inline int martian4(const __u8 *a)
{
	return a[0] == 0 || a[0] >= 224;
}

/* IPv6: ::, ff00::/8 */
static __always_inline int martian6(const __u8 *a)
{
	__u64 w0, w1;

	__builtin_memcpy(&w0, a, 8);
	__builtin_memcpy(&w1, a + 8, 8);
	return a[0] == 0xff || (!w0 && !w1);
}

/* IPv6: ::ffff:0:0/96, IPv4-mapped: never on the wire */
static __always_inline int mapped6(const __u8 *a)
{
	__u64 w0;

	__builtin_memcpy(&w0, a, 8);
	return !w0 && !a[8] && !a[9] && a[10] == 0xff && a[11] == 0xff;
}

/* bytes of a datagram's start scanned for the first non-space */
#define XKV_LPOL_SCAN 32

/*
 * The UDP policy at ingress (XKV_LCFG_UDP_POLICY), for the datagram in
 * scratch entry 0's headers: would xkvd's (kmod/core/udp_policy.c)
 * answer it? memcached answers anything, so what it refuses is dropped.
 * Return: 0 to let it through, else the counter of its drop.
 */
__attribute__((noinline)) int xkv_lin_policy(struct __sk_buff *skb)
{
	struct xkv_lscratch *s = scratch_get(0);
	struct xkv_lpm6 k6 = { .prefixlen = 128 };
	struct xkv_lpm4 k4 = { .prefixlen = 32 };
	struct xkv_lhdr *h;
	__u32 n, i;
	__u8 *b;

	if (!s)
		return XKV_LSTAT_udp_drop_source;
	h = &s->h;
	/* no reply to port 0, nor to memcached's own (a reply loop) */
	if (!h->sport || h->sport == h->dport)
		return XKV_LSTAT_udp_drop_source;
	if (skb->pkt_type == 1 || skb->pkt_type == 2)	/* broadcast, multicast */
		return XKV_LSTAT_udp_drop_source;
	if (!h->v6 ? martian4(h->src) || martian4(h->dst) :
		     martian6(h->src) || martian6(h->dst) || mapped6(h->src))
		return XKV_LSTAT_udp_drop_source;
	if ((xkv_addr_flags(h->src, h->v6) |
	     xkv_addr_flags(h->dst, h->v6)) & XKV_ADDR_BCAST)
		return XKV_LSTAT_udp_drop_source;
	if (!h->v6) {
		__builtin_memcpy(k4.addr, h->src, 4);
		if (!bpf_map_lookup_elem(&xkv_allow4, &k4))
			return XKV_LSTAT_udp_drop_source;
	} else {
		__builtin_memcpy(k6.addr, h->src, 16);
		if (!bpf_map_lookup_elem(&xkv_allow6, &k6))
			return XKV_LSTAT_udp_drop_source;
	}

	/* a request: one datagram, a frame header, a lower-case command */
	n = h->plen;
	if (n <= XKV_FRAME_HDR || h->ulen <= XKV_FRAME_HDR)
		return XKV_LSTAT_udp_drop_reply;
	n = n < XKV_FRAME_HDR + XKV_LPOL_SCAN ? n : XKV_FRAME_HDR + XKV_LPOL_SCAN;
	n = xkv_bound(n, XKV_LCHUNK - 1);
	b = s->buf;
	if (n <= XKV_FRAME_HDR || bpf_skb_load_bytes(skb, h->poff, b, n))
		return XKV_LSTAT_udp_drop_reply;
	if (b[4] != 0 || b[5] != 1)
		return XKV_LSTAT_udp_drop_reply;
	for (i = XKV_FRAME_HDR; i < XKV_FRAME_HDR + XKV_LPOL_SCAN; i++) {
		__u8 c;

		if (i >= n)
			break;
		c = b[i];
		if (c == ' ')
			continue;
		if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			return XKV_LSTAT_udp_drop_reply;
		return 0;
	}
	/* nothing but spaces as far as we look: no command of memcached's */
	return XKV_LSTAT_udp_drop_reply;
}

/*
 * The stages below are global functions: the verifier checks each once,
 * on its own, instead of once per path through the stages before it.
 */

__attribute__((noinline)) int xkv_lin_udp(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = scratch_get(0);
	struct xkv_lhdr *h;
	struct xkv_lin *p;

	if (!s)
		return 0;
	h = &s->h;
	p = &s->udp.in;
	if (h->plen <= XKV_FRAME_HDR)
		return 0;
	if (h->frag || skb->gso_segs > 1) {
		/* memcached's request may lie beyond this packet: its reply
		 * may be sent, not learned */
		req_note(skb, h, now, 1);
		in_flush(s, now, 1);
		return 0;
	}
	req_note(skb, h, now, 0);
	if (!(xkv_lcfg.flags & XKV_LCFG_TEXT_ONLY) &&
	    first_byte(skb, h->poff + XKV_FRAME_HDR) == XKV_BIN_REQ) {
		in_flush(s, now, 1);	/* binary protocol: not parsed */
		return 0;
	}
	/* each datagram is parsed from its start, after the frame header */
	in_reset(p, 0, 1);
	s->sp = 0;
	if (xkv_lin_parse(skb, XKV_LPARSE_UDP, h->poff + XKV_FRAME_HDR,
			  h->poff + h->plen, now))
		in_flush(s, now, 1);
	return 0;
}

__attribute__((noinline)) int xkv_lin_tcp(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = scratch_get(0);
	struct xkv_learn_flow *f = NULL;
	struct xkv_learn_tuple t;
	__u32 seq, len, off, fl, fidx = 0;
	struct xkv_lhdr *h;
	int r;

	if (!s)
		return 0;
	h = &s->h;
	seq = h->seq;
	len = h->plen;
	off = h->poff;
	fl = h->tflags;

	if (h->frag) {
		in_flush(s, now, 1);
		return 0;
	}
	tuple_of(h, 0, &t);
	if ((fl & XKV_TCP_SYN) && !(fl & XKV_TCP_ACK)) {
		/* a new connection: followed from its first byte */
		r = flow_get(&t, 1, now, &f, &fidx);
		if (r == XKV_FLOW_BUSY || !f) {
			if (len)
				in_flush(s, now, 1);
			return 0;
		}
		f->next_seq = seq + 1;
		f->base_seq = seq + 1;
		f->proto = XKV_LPROTO_UNDECIDED;
		in_reset(&f->in, 0, 1);
		if (!len) {
			f->last_ns = now;
			flow_unlock(f);
			return 0;
		}
		seq++;		/* data on the SYN (fast open) */
		r = XKV_FLOW_FOUND;
	} else if (fl & XKV_TCP_RST) {
		/* the receiver drops an RST's payload */
		if (flow_get(&t, 0, now, &f, &fidx) == XKV_FLOW_FOUND && f)
			flow_end(f);
		return 0;
	} else if (!len) {
		if ((fl & XKV_TCP_FIN) &&
		    flow_get(&t, 0, now, &f, &fidx) == XKV_FLOW_FOUND && f)
			flow_end(f);
		return 0;
	} else {
		r = flow_get(&t, 1, now, &f, &fidx);
	}
	if (r == XKV_FLOW_BUSY || !f) {
		/* another CPU is parsing this stream: this segment is not
		 * parsed, and the stream will look broken to whoever comes
		 * next, which flushes again */
		in_flush(s, now, 1);
		return 0;
	}
	if (r == XKV_FLOW_NEW) {
		/* first seen in its middle: where commands start is not
		 * known, and without -B ascii neither is the protocol */
		in_flush(s, now, 1);
		f->proto = (xkv_lcfg.flags & XKV_LCFG_TEXT_ONLY) ?
				   XKV_LPROTO_TEXT :
				   XKV_LPROTO_UNKNOWN;
		in_reset(&f->in, 1, 0);
		f->base_seq = seq;
		f->next_seq = seq;
	}
	if (f->proto == XKV_LPROTO_UNDECIDED) {
		if (seq == f->next_seq)
			f->proto = first_byte(skb, off) == XKV_BIN_REQ ?
					   XKV_LPROTO_BINARY :
					   XKV_LPROTO_TEXT;
		else
			f->proto = (xkv_lcfg.flags & XKV_LCFG_TEXT_ONLY) ?
					   XKV_LPROTO_TEXT :
					   XKV_LPROTO_UNKNOWN;
	}
	if (f->proto != XKV_LPROTO_TEXT || (f->in.f & XKV_LINF_HOPELESS)) {
		/* not parsed: any segment may carry a write */
		in_flush(s, now, 1);
		goto done;
	}
	if (seq != f->next_seq) {
		/*
		 * A gap, a reordering or a retransmission: bytes may take
		 * effect now that were never parsed in order. Even a resent
		 * copy of bytes parsed before: the first copy may have been
		 * corrupt and dropped by TCP after TC saw it, so what was
		 * parsed from it is not what memcached reads. Flush, and
		 * follow the stream from here without certainty.
		 */
		in_flush(s, now, 1);
		in_reset(&f->in, 1, 0);
		f->base_seq = seq;
	}
	if (f->in.f & XKV_LINF_UNSURE)
		LSTAT(in_unsure);
	s->sp = seq;
	if (xkv_lin_parse(skb, fidx, off, off + len, now)) {
		in_flush(s, now, 1);
		in_reset(&f->in, 1, 0);
		f->base_seq = seq + len;
	}
	f->next_seq = seq + len;
	if (f->in.f & XKV_LINF_HOPELESS)
		in_flush(s, now, 1);
done:
	f->last_ns = now;
	if (fl & XKV_TCP_FIN)
		flow_end(f);
	else
		flow_unlock(f);
	return 0;
}

SEC("tc")
int xkv_learn_in(struct __sk_buff *skb)
{
	struct xkv_lscratch *s = scratch_get(0);
	int r, why, verdict = XKV_TC_PASS;
	struct xkv_lhdr *h;
	__u64 now;

	if (!s)
		return XKV_TC_PASS;
	now = bpf_ktime_get_ns();
	if (s->busy) {
		/* nested on this CPU (preemptible kernel): cannot parse */
		xkv_lflush_all(now);
		LSTAT(in_flush_unsure);
		LSTAT(errors);
		return XKV_TC_PASS;
	}
	s->busy = 1;
	h = &s->h;
	r = xkv_parse_hdr(skb, 0);
	if (r == XKV_LH_UNSURE) {
		in_flush(s, now, 1);
	} else if (r == XKV_LH_OK && h->frag == XKV_LFRAG_LATER) {
		/* the first fragment (which has the ports) was handled */
	} else if (r == XKV_LH_OK && h->proto == IPPROTO_UDP &&
		   xkv_lcfg.udp_port &&
		   h->dport == bpf_htons(xkv_lcfg.udp_port)) {
		LSTAT(in_packets);
		why = 0;
		if (xkv_lcfg.flags & XKV_LCFG_UDP_POLICY)
			why = xkv_lin_policy(skb);
		if (why) {
			/* constant indexes: the verifier has no bound on why */
			if (why == XKV_LSTAT_udp_drop_source)
				LSTAT(udp_drop_source);
			else
				LSTAT(udp_drop_reply);
			verdict = TC_ACT_SHOT;
		} else {
			xkv_lin_udp(skb, now);
		}
	} else if (r == XKV_LH_OK && h->proto == IPPROTO_TCP &&
		   xkv_lcfg.tcp_port &&
		   h->dport == bpf_htons(xkv_lcfg.tcp_port)) {
		LSTAT(in_packets);
		xkv_lin_tcp(skb, now);
	}
	xkv_lin_finish(now);
	s->busy = 0;
	return verdict;
}

/* --- the reply parser ----------------------------------------------------- */

struct xkv_out_ctx {
	struct __sk_buff *skb;
	struct xkv_lscratch *s;
	struct xkv_lout *p;
	__u32 end;
};

static __always_inline void out_line_reset(struct xkv_lout *p, int here)
{
	p->st = XKV_LOUT_LINE;
	p->cls = XKV_LR_NONE;
	p->f = here ? XKV_LOUTF_HERE : 0;
	p->cand = 0;
	p->tok = 0;
	p->tlen = 0;
	p->thash = XKV_HOT_FNV_BASIS;
	p->khash = 0;
	p->key_off = 0;
	p->klen = 0;
	p->nbad = 0;
	p->w0 = 0;
	p->num = 0;
	p->flags = 0;
	p->bytes = 0;
	p->cas = 0;
	p->skip = 0;
}

static __always_inline void out_bad(struct xkv_lout *p)
{
	p->f |= XKV_LOUTF_BAD;
}

/* a token of a VALUE or VA line is complete */
static __always_inline void out_tok_end(struct xkv_lout *p)
{
	__u32 t = p->tok;

	if (t == 0) {
		if (p->tlen == 5 && p->w0 == XKV_W('V', 'A', 'L', 'U', 'E', 0,
						   0, 0))
			p->cls = XKV_LR_VALUE;
		else if (p->tlen == 2 &&
			 p->w0 == XKV_W('V', 'A', 0, 0, 0, 0, 0, 0))
			p->cls = XKV_LR_VA;
		else
			p->cls = XKV_LR_OTHER;
	} else if (p->cls == XKV_LR_VALUE) {
		if (t == 1) {
			p->klen = p->tlen;
			p->khash = xkv_hot_hash_final(p->thash);
		} else if (t == 2) {
			p->flags = p->num;
		} else if (t == 3) {
			p->bytes = p->num;
		} else if (t == 4) {
			p->cas = p->num;
		} else {
			p->nbad = 1;
		}
	} else if (p->cls == XKV_LR_VA && t == 1) {
		p->bytes = p->num;
	}
	p->tok = t < 0xffff ? t + 1 : t;
	p->tlen = 0;
	p->thash = XKV_HOT_FNV_BASIS;
	p->num = 0;
}

/* a number of a VALUE/VA line: digits only, as memcached prints them */
static __always_inline void out_digit(struct xkv_lout *p, __u8 ch)
{
	__u64 d = ch - '0';

	if (ch < '0' || ch > '9' || p->tlen >= 20) {
		p->nbad = 1;
		return;
	}
	if (p->num > 1844674407370955161ULL ||
	    (p->num == 1844674407370955161ULL && d > 5))
		p->nbad = 1;
	else
		p->num = p->num * 10 + d;
}

static __always_inline void out_char(struct xkv_out_ctx *c, struct xkv_lout *p,
				     __u8 ch)
{
	__u32 len = p->tlen;

	if (ch == ' ') {
		/* memcached separates with exactly one space */
		if (!len) {
			if (p->tok == 0)
				p->st = XKV_LOUT_SKIPLINE;	/* not ours */
			else
				p->nbad = 1;
			return;
		}
		out_tok_end(p);
		if (p->cls == XKV_LR_OTHER)
			p->st = XKV_LOUT_SKIPLINE;
		return;
	}
	if (p->tok == 0) {
		if (len < 8)
			p->w0 |= (__u64)ch << (len * 8);
		else
			p->cls = XKV_LR_OTHER;
	} else if (p->cls == XKV_LR_VALUE && p->tok == 1) {
		if (!len)
			p->key_off = c->s->pos;
		if (!ch)
			p->nbad = 1;
		p->thash = xkv_hot_hash_step(p->thash, ch);
	} else if (p->cls == XKV_LR_VALUE || p->tok == 1) {
		out_digit(p, ch);
	}
	p->tlen = len < 0xffff ? len + 1 : len;
}

/* a reply line ended: a VALUE/VA line announces a data block */
static __always_inline void out_eol(struct xkv_out_ctx *c, struct xkv_lout *p)
{
	struct xkv_lscratch *s = c->s;
	__u32 ntok, n, data;

	if (p->tlen)
		out_tok_end(p);
	ntok = p->tok;
	if (p->cls == XKV_LR_VALUE) {
		if ((ntok != 4 && ntok != 5) || p->nbad || !p->klen ||
		    p->flags > 0xffffffffULL ||
		    p->bytes > XKV_LEARN_SKIP_MAX - 2) {
			out_bad(p);
			return;
		}
		LSTAT(eg_values);
		data = s->pos + 1;	/* after this '\n' */
		n = (__u32)p->bytes;
		if (!(p->f & XKV_LOUTF_HERE) || n > c->end - data ||
		    n + 2 > c->end - data ||
		    s->ncand >= XKV_LEARN_MAX_CAND) {
			LSTAT(skip_split);
		} else if (p->klen > XKV_HOT_KEY_MAX || n > XKV_HOT_VAL_MAX) {
			LSTAT(skip_too_big);
		} else {
			__u32 k = s->ncand & (XKV_LEARN_MAX_CAND - 1);
			struct xkv_cand *cd = &s->cand[k];

			cd->key_off = p->key_off;
			cd->data_off = data;
			cd->hash = p->khash;
			cd->vlen = n;
			cd->flags = (__u32)p->flags;
			cd->klen = p->klen;
			cd->has_cas = ntok == 5;
			cd->cas = p->cas;
			cd->ok = 0;
			s->ncand = k + 1;
			p->cand = k + 1;
		}
	} else if (p->cls == XKV_LR_VA) {
		if (ntok < 2 || p->nbad || p->bytes > XKV_LEARN_SKIP_MAX - 2) {
			out_bad(p);
			return;
		}
		n = (__u32)p->bytes;
	} else {
		out_line_reset(p, 1);
		return;
	}
	/* the data block, then its "\r\n" */
	p->skip = n;
	p->st = n ? XKV_LOUT_DATA : XKV_LOUT_CR;
}

static long out_cb(__u32 i, void *data)
{
	struct xkv_out_ctx *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_lout *p = c->p;
	__u32 pos = s->pos, end = c->end, n;
	__u8 ch;

	if (pos >= end || (p->f & XKV_LOUTF_BAD))
		return 1;
	if (p->st == XKV_LOUT_DATA) {
		n = end - pos;
		if (n > p->skip)
			n = p->skip;
		s->pos = pos + n;
		p->skip -= n;
		if (!p->skip)
			p->st = XKV_LOUT_CR;
		return 0;
	}
	if (pos - s->cbase >= s->clen) {
		/* 1..XKV_LCHUNK bytes (pos < end), as the verifier sees it */
		n = end - pos;
		if (n > XKV_LCHUNK)
			n = XKV_LCHUNK;
		n = xkv_bound(n - 1, XKV_LCHUNK * 2 - 1) + 1;
		if (bpf_skb_load_bytes(c->skb, pos, s->buf, n)) {
			s->err = 1;
			return 1;
		}
		s->cbase = pos;
		s->clen = n;
	}
	ch = s->buf[(pos - s->cbase) & (XKV_LCHUNK - 1)];
	s->pos = pos + 1;

	switch (p->st) {
	case XKV_LOUT_CR:
		if (ch != '\r')
			out_bad(p);
		p->st = XKV_LOUT_LF;
		return 0;
	case XKV_LOUT_LF:
		if (ch != '\n') {
			out_bad(p);
			return 0;
		}
		if (p->cand) {
			__u32 k = (p->cand - 1) & (XKV_LEARN_MAX_CAND - 1);

			s->cand[k].ok = 1;
		}
		out_line_reset(p, 1);
		return 0;
	case XKV_LOUT_SKIPLINE:
		if (ch == '\n')
			out_line_reset(p, 1);
		return 0;
	}
	/* XKV_LOUT_LINE; the helpers want s->pos at the byte */
	s->pos = pos;
	if (p->f & XKV_LOUTF_CR) {
		p->f &= ~XKV_LOUTF_CR;
		if (ch == '\n') {
			out_eol(c, p);
			s->pos = pos + 1;
			return 0;
		}
		s->pos = pos - 1;	/* where the '\r' was */
		out_char(c, p, '\r');
		s->pos = pos;
	}
	if (ch == '\r')
		p->f |= XKV_LOUTF_CR;
	else if (ch == '\n')
		out_eol(c, p);
	else
		out_char(c, p, ch);
	s->pos = pos + 1;
	return 0;
}

/*
 * Parse reply bytes [@off, @end) of @skb with the parser of flow entry
 * @fidx (XKV_LPARSE_UDP: the datagram parser in scratch memory).
 * Return: 0, or -1 when the replies are not in memcached's format.
 */
__attribute__((noinline)) int xkv_leg_parse(struct __sk_buff *skb,
					    __u32 fidx, __u32 off, __u32 end)
{
	struct xkv_lscratch *s = bpf_map_lookup_elem(&xkv_lscratch,
						     &(__u32){ 1 });
	struct xkv_out_ctx c = {
		.skb = skb,
		.end = end,
	};
	struct xkv_learn_flow *f;
	struct xkv_lout *p;

	if (!s)
		return -1;
	if (fidx == XKV_LPARSE_UDP) {
		p = &s->udp.out;
	} else {
		f = bpf_map_lookup_elem(&xkv_lflows, &fidx);
		if (!f)
			return -1;
		p = &f->out;
	}
	c.s = s;
	c.p = p;
	if (off >= end)
		return 0;
	s->pos = off;
	s->cbase = 0;
	s->clen = 0;
	s->err = 0;
	bpf_loop(end - off + 2, out_cb, &c, 0);
	if (p->f & XKV_LOUTF_BAD) {
		LSTAT(skip_malformed);
		return -1;
	}
	if (s->err || s->pos < end) {
		LSTAT(errors);
		return -1;
	}
	return 0;
}

/* --- installing a learned value ------------------------------------------- */

struct xkv_inst_ctx {
	struct __sk_buff *skb;
	struct xkv_lscratch *s;
	__u64 now;
};

/* is the key in s->kbuf (@len bytes) the one slot @h holds? */
static __always_inline int same_key(struct xkv_slot *h, const __u8 *k,
				    __u32 len)
{
	__u32 i, rem;
	__u64 x, y, m;

	if (READ_ONCE(h->key_len) != len)
		return 0;
	for (i = 0; i < XKV_HOT_KEY_ROOM / 8; i++) {
		if (i * 8 >= len)
			break;
		x = *(const __u64 *)(k + i * 8);
		y = *(const __u64 *)(h->key + i * 8);
		rem = len - i * 8;
		m = rem >= 8 ? ~0ULL : (1ULL << (rem * 8)) - 1;
		if ((x ^ y) & m)
			return 0;
	}
	return 1;
}

/*
 * May a value for the slot whose GET noted @m be installed? Reads the
 * clock itself: a write stamped on another CPU a moment after a time
 * taken earlier here must count as "within the quarantine" (hence also
 * the signed difference). The generations are read with atomic
 * operations, which order the loads after them on any CPU.
 */
static __always_inline __u32 learn_check(struct xkv_learn_slot *m,
					 struct xkv_learn_glob *g)
{
	__s64 quiet = (__s64)xkv_lcfg.quiet_ms * XKV_NS_PER_MS;
	__u64 gens, now;

	if (!READ_ONCE(m->seen))
		return XKV_LSTAT_skip_no_get;
	gens = (__u64)__sync_fetch_and_add(&m->gen, 0) << 32 |
	       __sync_fetch_and_add(&g->ggen, 0);
	if (READ_ONCE(m->req_gens) != gens)
		return XKV_LSTAT_skip_raced;
	now = bpf_ktime_get_ns();
	if ((__s64)(now - READ_ONCE(m->write_ns)) <= quiet ||
	    (__s64)(now - READ_ONCE(g->gwrite_ns)) <= quiet)
		return XKV_LSTAT_skip_quiet;
	if (now < READ_ONCE(m->vol_until_ns) ||
	    now < READ_ONCE(g->no_learn_until_ns))
		return XKV_LSTAT_skip_volatile;
	return XKV_LSTAT_learned;
}

/*
 * Copy @len (1..XKV_HOT_VAL_MAX) bytes at @off of @skb into @h->val, in
 * pieces whose sizes the verifier can bound with a mask (the room,
 * 1760 bytes, is no power of two: 1024 + 512 + 128 + 64 + 32).
 */
_Static_assert(XKV_HOT_VAL_MAX == 1024 + 512 + 128 + 64 + 32,
	       "value pieces must add up to the room");

#define XKV_VAL_PIECE(p, at)                                                 \
	do {                                                                 \
		__u32 n = len - done;                                        \
		if (!n)                                                      \
			return 0;                                            \
		if (n > (p))                                                 \
			n = (p);                                             \
		n = xkv_bound(n - 1, (p) - 1) + 1;                           \
		if (bpf_skb_load_bytes(skb, off + (at), h->val + (at), n))   \
			return -1;                                           \
		done = (at) + n;                                             \
	} while (0)

static __always_inline int copy_val(struct __sk_buff *skb, __u32 off,
				    struct xkv_slot *h, __u32 len)
{
	__u32 done = 0;

	if (len > XKV_HOT_VAL_MAX)
		return -1;
	XKV_VAL_PIECE(1024, 0);
	if (done < 1024)
		return 0;
	XKV_VAL_PIECE(512, 1024);
	if (done < 1536)
		return 0;
	XKV_VAL_PIECE(128, 1536);
	if (done < 1664)
		return 0;
	XKV_VAL_PIECE(64, 1664);
	if (done < 1728)
		return 0;
	XKV_VAL_PIECE(32, 1728);
	return 0;
}

static long inst_cb(__u32 i, void *data)
{
	struct xkv_inst_ctx *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_cand *cd = &s->cand[i & (XKV_LEARN_MAX_CAND - 1)];
	__u32 idx, klen = cd->klen, vlen = cd->vlen, seq, why, same;
	struct xkv_learn_glob *g = lglob();
	struct xkv_learn_slot *m;
	struct xkv_slot *h;
	__u64 now = c->now;
	int err = 0;

	if (i >= s->ncand)
		return 1;
	if (!cd->ok) {
		LSTAT(skip_split);
		return 0;
	}
	if (!klen || klen > XKV_HOT_KEY_MAX || vlen > XKV_HOT_VAL_MAX) {
		LSTAT(skip_too_big);
		return 0;
	}
	/* 1..XKV_HOT_KEY_MAX, and so the verifier sees 1..256 */
	klen = xkv_bound(klen - 1, XKV_HOT_KEY_ROOM - 1) + 1;
	idx = slot_of(cd->hash);
	m = bpf_map_lookup_elem(&xkv_lmeta, &idx);
	h = bpf_map_lookup_elem(&xkv_hot, &idx);
	if (!m || !h || !g) {
		LSTAT(errors);
		return 0;
	}
	why = learn_check(m, g);
	if (why != XKV_LSTAT_learned) {
		lstat_add(why, 1);
		return 0;
	}
	if (bpf_skb_load_bytes(c->skb, cd->key_off, s->kbuf, klen)) {
		LSTAT(errors);
		return 0;
	}
	if (!xkv_slot_trylock(h, &seq)) {
		LSTAT(skip_busy);
		return 0;
	}
	/* a flush reading the bit after this sees the slot; one that read
	 * it before bumped the generation first, which is checked next */
	occ_set(idx);
	why = learn_check(m, g);
	if (why != XKV_LSTAT_learned) {
		xkv_slot_unlock(h, seq);
		lstat_add(why, 1);
		return 0;
	}
	same = same_key(h, s->kbuf, klen);
	if (!same)
		__sync_lock_test_and_set(&h->hits, 0);
	if (bpf_skb_load_bytes(c->skb, cd->key_off, h->key, klen))
		err = 1;
	if (vlen && copy_val(c->skb, cd->data_off, h, vlen))
		err = 1;
	h->flags = cd->flags;
	if (cd->has_cas) {
		h->cas = cd->cas;
		h->xflags = 0;
	} else if (!same || (h->xflags & XKV_SLOT_F_NO_CAS)) {
		/* a "get" reply: no CAS (one known for the same key, with
		 * no write since, is still right and is kept) */
		h->cas = 0;
		h->xflags = XKV_SLOT_F_NO_CAS;
	}
	h->expire_ns = now + (__u64)xkv_lcfg.ttl_ms * XKV_NS_PER_MS;
	h->val_len = vlen;
	h->key_len = err ? 0 : klen;
	/* a write that came in meanwhile wins */
	if (!err && learn_check(m, g) != XKV_LSTAT_learned) {
		h->key_len = 0;
		err = 2;
	}
	xkv_slot_unlock(h, seq);
	if (err == 1)
		LSTAT(errors);
	else if (err == 2)
		LSTAT(skip_raced);
	else
		LSTAT(learned);
	return 0;
}

/* --- egress --------------------------------------------------------------- */

/*
 * Was @skb sent by one of memcached's sockets (struct xkv_learn_owner)?
 * A UDP reply must come from one of its UDP sockets, a TCP segment from
 * a socket of its uid. A packet without a socket (forwarded, or a
 * kernel's reset) never is; bpf_get_socket_uid() answers the overflow
 * uid (nobody) for those, which must not pass for memcached's.
 */
static __always_inline int from_owner(struct __sk_buff *skb, int udp)
{
	struct xkv_learn_owner *o;
	__u64 cookie;
	__u32 i, n;

	o = bpf_map_lookup_elem(&xkv_lowner, &(__u32){ 0 });
	if (!o)
		return 0;
	cookie = bpf_get_socket_cookie(skb);
	if (!cookie)
		goto foreign;
	if (udp && !(xkv_lcfg.flags & XKV_LCFG_UDP_BY_UID)) {
		n = READ_ONCE(o->nsocks);
		for (i = 0; i < XKV_LEARN_SOCKS_MAX; i++) {
			if (i < n && READ_ONCE(o->udp_cookie[i]) == cookie)
				return 1;
		}
		goto foreign;
	}
	if ((READ_ONCE(o->flags) & XKV_LOWN_UID) &&
	    bpf_get_socket_uid(skb) == READ_ONCE(o->uid))
		return 1;
foreign:
	LSTAT(skip_foreign);
	return 0;
}

__attribute__((noinline)) int xkv_leg_udp(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = scratch_get(1);
	struct xkv_learn_reqv *v;
	struct xkv_learn_req r;
	struct xkv_lhdr *h;
	struct xkv_lout *p;
	__u8 fh[4] = {};

	if (!s)
		return 0;
	h = &s->h;
	p = &s->udp.out;
	if (h->frag || h->plen <= XKV_FRAME_HDR)
		return 0;
	/* only the first datagram of a reply starts at a line start */
	if (bpf_skb_load_bytes(skb, h->poff + 2, fh, 4) || fh[0] || fh[1])
		return 0;
	if (first_byte(skb, h->poff + XKV_FRAME_HDR) == XKV_BIN_RES)
		return 0;
	/* the reply to a request seen, not answered yet, of late */
	if (req_key(skb, h, 1, &r)) {
		LSTAT(errors);
		return 0;
	}
	v = bpf_map_lookup_elem(&xkv_lreq, &r);
	if (!v || now - v->ns > (__u64)xkv_lcfg.ttl_ms * XKV_NS_PER_MS ||
	    __sync_val_compare_and_swap(&v->learned, 0, 1)) {
		LSTAT(skip_no_req);
		return 0;
	}
	out_line_reset(p, 1);
	xkv_leg_parse(skb, XKV_LPARSE_UDP, h->poff + XKV_FRAME_HDR,
		      h->poff + h->plen);
	return 0;
}

/*
 * The UDP policy at egress (XKV_LCFG_UDP_POLICY), for the datagram in
 * scratch entry 1's headers, sent from memcached's UDP port: it goes out
 * only as part of the answer to a request ingress let through, and only
 * while that answer's datagrams (UDP payloads, frame headers included)
 * add up to at most amp_ratio x the request's. A datagram without a
 * local socket (forwarded) is not memcached's and not looked at.
 * Return: 0 to send it, else the counter of its drop.
 */
__attribute__((noinline)) int xkv_leg_budget(struct __sk_buff *skb)
{
	struct xkv_lscratch *s = scratch_get(1);
	struct xkv_learn_reqv *v;
	struct xkv_learn_req r;
	struct xkv_lhdr *h;
	__u64 sent, n;

	if (!s)
		return XKV_LSTAT_udp_drop_no_req;
	h = &s->h;
	if (!bpf_get_socket_cookie(skb))
		return 0;
	n = h->ulen;
	if (h->plen < XKV_FRAME_HDR || req_key(skb, h, 1, &r))
		return XKV_LSTAT_udp_drop_no_req;
	v = bpf_map_lookup_elem(&xkv_lreq, &r);
	if (!v)
		return XKV_LSTAT_udp_drop_no_req;
	sent = __sync_fetch_and_add(&v->sent, n);
	if (!xkv_lcfg.amp_ratio)
		return 0;
	if (sent + n > (__u64)xkv_lcfg.amp_ratio * v->bytes) {
		/* the rest of this reply would be of no use */
		if (sent < XKV_LREQ_OVER)
			__sync_fetch_and_add(&v->sent, XKV_LREQ_OVER);
		return XKV_LSTAT_udp_drop_budget;
	}
	return 0;
}

__attribute__((noinline)) int xkv_leg_tcp(struct __sk_buff *skb, __u64 now)
{
	struct xkv_lscratch *s = scratch_get(1);
	struct xkv_learn_flow *f = NULL;
	struct xkv_learn_tuple t;
	__u32 seq, len, off, fl, fidx = 0;
	struct xkv_lhdr *h;
	int r;

	if (!s)
		return 0;
	h = &s->h;
	seq = h->seq;
	len = h->plen;
	off = h->poff;
	fl = h->tflags;

	if (h->frag || (xkv_lcfg.flags & XKV_LCFG_NO_TCP_LEARN))
		return 0;
	tuple_of(h, 1, &t);
	if ((fl & XKV_TCP_SYN) && (fl & XKV_TCP_ACK)) {
		r = flow_get(&t, 1, now, &f, &fidx);
		if (r == XKV_FLOW_BUSY || !f)
			return 0;
		f->next_seq = seq + 1;
		f->base_seq = seq + 1;
		f->proto = XKV_LPROTO_UNDECIDED;
		f->lost = 0;
		out_line_reset(&f->out, 1);
		f->last_ns = now;
		flow_unlock(f);
		return 0;
	}
	if (fl & XKV_TCP_RST) {
		if (flow_get(&t, 0, now, &f, &fidx) == XKV_FLOW_FOUND && f)
			flow_end(f);
		return 0;
	}
	if (!len) {
		if ((fl & XKV_TCP_FIN) &&
		    flow_get(&t, 0, now, &f, &fidx) == XKV_FLOW_FOUND && f)
			flow_end(f);
		return 0;
	}
	r = flow_get(&t, 0, now, &f, &fidx);
	if (r != XKV_FLOW_FOUND || !f) {
		LSTAT(skip_unsure);
		return 0;
	}
	if (f->lost)
		goto unsure;
	if (seq != f->next_seq) {
		if (!seq_before(seq, f->base_seq) &&
		    !seq_before(f->next_seq, seq + len))
			goto done;	/* a retransmission: seen already */
		if (!seq_before(seq, f->base_seq) &&
		    seq_before(seq, f->next_seq)) {
			__u32 skipped = f->next_seq - seq;

			off += skipped;
			len -= skipped;
			seq = f->next_seq;
		} else {
			f->lost = XKV_LFLOW_LOST;
			goto unsure;
		}
	}
	if (f->proto == XKV_LPROTO_UNDECIDED)
		f->proto = first_byte(skb, off) == XKV_BIN_RES ?
				   XKV_LPROTO_BINARY :
				   XKV_LPROTO_TEXT;
	if (f->proto != XKV_LPROTO_TEXT) {
		f->lost = XKV_LFLOW_LOST;
		goto unsure;
	}
	/* a line carried over from the previous packet is not learnable */
	if (f->out.st == XKV_LOUT_LINE && !f->out.tok && !f->out.tlen &&
	    !(f->out.f & XKV_LOUTF_CR))
		f->out.f |= XKV_LOUTF_HERE;
	else
		f->out.f &= ~XKV_LOUTF_HERE;
	if (xkv_leg_parse(skb, fidx, off, off + len))
		f->lost = XKV_LFLOW_LOST;
	f->next_seq = seq + len;
	goto done;
unsure:
	LSTAT(skip_unsure);
done:
	f->last_ns = now;
	if (fl & XKV_TCP_FIN)
		flow_end(f);
	else
		flow_unlock(f);
	return 0;
}

/* install the VALUE blocks the parse found */
__attribute__((noinline)) int xkv_leg_install(struct __sk_buff *skb,
					      __u64 now)
{
	struct xkv_lscratch *s = scratch_get(1);
	struct xkv_inst_ctx ic = {
		.skb = skb,
		.now = now,
	};

	if (!s || !s->ncand)
		return 0;
	ic.s = s;
	bpf_loop(s->ncand, inst_cb, &ic, 0);
	return 0;
}

SEC("tc")
int xkv_learn_eg(struct __sk_buff *skb)
{
	struct xkv_lscratch *s = scratch_get(1);
	int r, why, verdict = XKV_TC_PASS;
	struct xkv_lhdr *h;
	__u64 now;

	if (!s || s->busy)
		return XKV_TC_PASS;
	s->busy = 1;
	s->ncand = 0;
	h = &s->h;
	now = bpf_ktime_get_ns();
	r = xkv_parse_hdr(skb, 1);
	if (r != XKV_LH_OK || h->frag == XKV_LFRAG_LATER) {
		/* nothing to learn */
	} else if (h->proto == IPPROTO_UDP && xkv_lcfg.udp_port &&
		   h->sport == bpf_htons(xkv_lcfg.udp_port)) {
		LSTAT(eg_packets);
		why = 0;
		if (xkv_lcfg.flags & XKV_LCFG_UDP_POLICY)
			why = xkv_leg_budget(skb);
		if (why) {
			if (why == XKV_LSTAT_udp_drop_budget)
				LSTAT(udp_drop_budget);
			else
				LSTAT(udp_drop_no_req);
			verdict = TC_ACT_SHOT;
		} else if (from_owner(skb, 1)) {
			xkv_leg_udp(skb, now);
		}
	} else if (h->proto == IPPROTO_TCP && xkv_lcfg.tcp_port &&
		   h->sport == bpf_htons(xkv_lcfg.tcp_port)) {
		LSTAT(eg_packets);
		/* a segment without data only moves the stream's state (a
		 * SYN-ACK under syncookies, a reset, a time-wait ACK have no
		 * full socket); data is learned only from memcached's */
		if (!h->plen || from_owner(skb, 0))
			xkv_leg_tcp(skb, now);
	}
	xkv_leg_install(skb, now);
	s->busy = 0;
	return verdict;
}
