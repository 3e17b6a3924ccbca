/* SPDX-License-Identifier: GPL-2.0 */
/*
 * maps.h - the XDP program's settings, its maps and its per-CPU working
 * memory.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_MAPS_H
#define XKV_XDP_MAPS_H

/*
 * The TCP port before the loader sets one: none (the TCP paths are off).
 * A test build may define it, so that the verifier walks those paths.
 */
#ifndef XKV_CFG_TCP_PORT_DEFAULT
#define XKV_CFG_TCP_PORT_DEFAULT 0
#endif

/* Set by the loader before load (the object's .rodata). */
const volatile struct xkv_config xkv_cfg = {
	.port = 11211,
	.flags = 0,
	.nslots = XKV_HOT_SLOTS_DEFAULT,
	.max_reply = XKV_UDP_PAYLOAD_DEFAULT,
	.amp_ratio = 0,
	.tcp_port = XKV_CFG_TCP_PORT_DEFAULT,
};

/* the hot cache: created by the XDP object, shared with learning mode */
#include "xkv_hot_map.h"
#include "xkv_slot.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_stats);
} xkv_stats SEC(".maps");

#include "xkv_policy_maps.h"

/* the policy's generation, bumped by its writers (abi/xkv_policy.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_policy_gen);
} xkv_policy_gen SEC(".maps");

/*
 * The last source this CPU found allowed (xkv_check_source()): the two
 * addresses, whether they were IPv6 and came in on lo, and the policy's
 * generation read before the check. @ok is 0 until there is one.
 */
struct xkv_src_memo {
	__u64 gen;
	__be32 saddr[4];
	__be32 daddr[4];
	__u32 ipv6;
	__u32 lo;
	__u32 ok;
};

/* the backend's lease: written by the backend, read here */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_live);
} xkv_live SEC(".maps");

/* one key of the request: where it is in req[] and its hash */
struct xkv_key_ref {
	__u16 off;
	__u16 len;
	__u32 hash;
};

/*
 * Per-CPU working memory. XDP runs with migration disabled and does not
 * nest on a CPU, so one copy per CPU is enough.
 */
struct xkv_scratch {
	/* the request's headers, as parsed */
	__u32 l2_len;		/* Ethernet header and VLAN tags */
	__u32 ipv6;		/* 0: IPv4 */
	__u32 group;		/* sent to a broadcast/multicast address */
	__u32 pay_off;		/* UDP payload offset in the frame */
	__u32 plen;		/* UDP payload length, frame header included */
	__be32 saddr[4];	/* client address (IPv4: saddr[0]) */
	__be32 daddr[4];	/* our address */
	__be16 sport;		/* client port */
	__be16 dport;		/* our port */
	__u16 ucheck;		/* the request's UDP checksum field, as is */
	struct xkv_tcp_seg tcp;	/* a TCP segment and its reply */
	struct xkv_src_memo memo;	/* the last allowed source */
	/* the key list parser */
	__u32 start;		/* req[] offset of the byte after "get " */
	__u32 gets;		/* 1 for "gets": print CAS */
	__u32 kstart;		/* req[] offset of the key being read */
	__u32 in_key;
	struct xkv_hot_hs hs;	/* its running hash */
	__u32 nkeys;
	__u32 done;		/* the line ended where the payload ends */
	__u32 fail;		/* enum xkv_stat_id of the outcome, 0 = none */
	/* the reply */
	__u32 body;		/* body bytes written at out[XKV_OUT_BODY] */
	__u32 body_max;		/* ... at most, "END\r\n" not counted */
	__u32 ulen;		/* UDP length of the reply */
	__u64 now;		/* the clock (xkv_past()) */
	__u64 slack;		/* how far it may lag: 0 once exact */
	/*
	 * the body's checksum: the 16-bit words of out[XKV_OUT_BODY...]
	 * summed (RFC 1071, not folded), from the entries' own sums
	 */
	__u64 psum;
	__u32 psum_ok;		/* out[] holds the body psum is of */
	__u64 rsum;		/* the request payload's sum (xkv_req_sum()) */
	__u32 rsum_ok;		/* ... taken along while reading it */
	__u64 cas;		/* the CAS of the key being written */
	__u64 rng;		/* xkv_hit_sampled()'s state, per CPU */
	__u32 nd;		/* ... its digit count, see xkv_ndigits() */
	/* a meta "mg <key> <flags>" (UDP): keys[0] the key, then flags */
	__u32 meta;		/* 1 for mg: reply "VA ..." and no "END" */
	__u32 mtok;		/* tokens in keys[]: the key and its flags */
	__u32 m_nf;		/* how many "f" flags */
	__u32 m_ns;		/* ... "s" */
	__u32 m_nc;		/* ... "c" */
	__u32 m_obytes;		/* bytes of the " O<opaque>" echoes */
	__u32 m_flen;		/* digits of the entry's client flags */
	__u32 m_nlen;		/* ... of its value's size */
	__u32 m_pos;		/* the header being written, body offset */
	__u32 m_hlen;		/* bytes of the header, its "\r\n" included */
	__u32 m_idx;		/* the hit's slot, */
	__u32 m_seq;		/* ... its sequence when read, */
	__u32 m_at;		/* ... the entry's offset in it, */
	__u32 m_llen;		/* ... its line_len */
	__u32 m_blen;		/* ... and body_len */
	/* a binary request (binary.h): keys[] its gets' keys, in order */
	__u32 b_pos;		/* the next packet's req[] offset */
	__u32 b_kend;		/* req[] offset after the key being hashed */
	__u32 b_noop;		/* req[] offset of its closing NOOP, 0: none */
	__u32 m_seen;		/* XKV_MF_* of the flags split so far */
	__u32 m_nk;		/* 1 for "k": echo the key */
	__u32 m_nt;		/* 1 for "t": the store's TTL, store_bin.h */
	__u32 m_tlen;		/* ... its bytes in m_t[] */
	__u32 m_b;		/* 1 for "b": the key came in base64 */
	__u32 m_kb64;		/* the hit was stored with a base64 key */
	__u32 m_klen;		/* bytes of the key's echo after " k" */
	__u32 m_kpos;		/* ... its body offset */
	__u32 m_bdst;		/* req[] offset of the decoded key */
	__u32 m_bpad;		/* "=" at the end of the base64 key */
	__u32 m_bbad;		/* the base64 key is not canonical */
	__u8 m_f[16];		/* the client flags' digits */
	__u8 m_t[16];		/* the TTL's digits, or "-1" */
	__u8 m_n[16];		/* the size's digits */
	struct xkv_key_ref keys[XKV_MAX_KEYS];
	__u8 req[XKV_REQ_BUF];
	__u8 out[XKV_OUT_BUF] __attribute__((aligned(8)));
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_scratch);
} xkv_scratch SEC(".maps");

/* what bpf_loop() callbacks get: the scratch memory */
struct xkv_cb_ctx {
	struct xkv_scratch *s;
};

/* an outcome beyond the counters: count an error and drop */
#define XKV_OUT_DROP XKV_STAT_NR

/*
 * The clock, for the backend's lease and the entries' expiry: at first
 * the coarse CLOCK_MONOTONIC, read without touching the clock source
 * (on this machine's paravirtual clock the exact read costs a hit about
 * a tenth of its time). It lags the exact one by at most a timer tick;
 * XKV_CLOCK_SLACK is far more than any tick. A deadline further than
 * that ahead has not passed; only one closer is decided on the exact
 * clock, read then, once per request: exactly bpf_ktime_get_ns() <
 * deadline, as abi/xkv_hot.h and abi/xkv_live.h say.
 */
#define XKV_CLOCK_SLACK (50ULL * 1000 * 1000)

static __always_inline void xkv_clock_start(struct xkv_scratch *s)
{
	s->now = bpf_ktime_get_coarse_ns();
	s->slack = XKV_CLOCK_SLACK;
}

/* has deadline @t (CLOCK_MONOTONIC ns) passed? */
static __always_inline int xkv_past(struct xkv_scratch *s, __u64 t)
{
	if (s->now + s->slack < t)
		return 0;
	if (s->slack) {
		s->now = bpf_ktime_get_ns();
		s->slack = 0;
	}
	return s->now >= t;
}

/*
 * Is this hit one of the XKV_HOT_HIT_SAMPLE sampled ones? A 64-bit LCG in
 * the CPU's scratch memory, its top bits taken: no helper call per hit
 * (bpf_get_prandom_u32() cost more than the rest of the sampling).
 */
static __always_inline int xkv_hit_sampled(struct xkv_scratch *s)
{
	__u64 r = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;

	s->rng = r;
	return !(r >> 60 & (XKV_HOT_HIT_SAMPLE - 1));
}

/*
 * The scratch memory as a map value. A function that uses a part of it as
 * a map key looks it up itself: 6.1's verifier takes a key from the stack,
 * the packet or a map value, not from memory handed in as an argument.
 * Only the TCP path (its connection table) needs this.
 */
static __always_inline struct xkv_scratch *xkv_scratch_map(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xkv_scratch, &zero);
}

/*
 * The scratch memory is looked up once per packet, by the program, and
 * handed to every stage: a global function taking a pointer to it sees
 * memory of its size (or NULL, which it checks).
 */

#endif /* XKV_XDP_MAPS_H */
