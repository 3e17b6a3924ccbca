/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scratch.h - the per-CPU working memory of the learning programs, their
 * constants and the small helpers every part uses (counters, the global
 * generation).
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_SCRATCH_H
#define XKV_LEARN_SCRATCH_H

/* the headers of the packet being looked at */
struct xkv_lhdr {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u32 poff;		/* payload offset in the packet */
	__u32 plen;		/* payload length */
	__u32 ulen;		/* UDP: datagram payload, from its header */
	__u32 seq;		/* TCP sequence number, host order */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 tflags;		/* TCP flags */
	__u8 v6;
	__u8 frag;		/* XKV_LFRAG_* */
	__u32 l3;		/* offset of the IP header */
};

#define XKV_LFRAG_FIRST 1	/* first fragment of a larger datagram */
#define XKV_LFRAG_LATER 2	/* a later fragment: no transport header */

/*
 * The entry buffer: an entry (XKV_HOT_SLOT_ROOM at most) is built at its
 * start; a piece written at a masked offset below 512 may run
 * XKV_LEBUF_PIECE bytes, and the sums read up to 4 bytes past the end.
 */
#define XKV_LEBUF_PIECE 2048
#define XKV_LEBUF (512 + XKV_LEBUF_PIECE + 8)

/*
 * The installer's walk over a slot (install.h), under the slot lock. Kept
 * in the scratch map, like the loop state below: the verifier checks the
 * walk's callbacks once, with unknown values.
 */
struct xkv_lwalk {
	__u32 used;		/* the slot's bytes of entries, bounded */
	__u32 end;		/* where the good entries walked so far end */
	__u32 same;		/* 1 + offset of the key's own entry; 0: none */
	__u32 same_sz;
	__u32 vic;		/* 1 + offset of the entry to drop first */
	__u32 vic_sz;
	__u32 vic_score;	/* its hits, 0 when expired */
	__u32 done;		/* XL_W_*: why the install loop stopped */
	__u32 replaced;		/* the key's old entry was removed */
	__u32 old_hits;		/* of the key's old entry */
	__u32 old_xflags;
	__u64 old_cas;
};

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
	__u32 nd;		/* install: a digit count (xl_ndigits()) */
	__u32 pad_nd;
	struct xkv_lhdr h;
	union {
		struct xkv_lin in;
		struct xkv_lout out;
	} udp;			/* a UDP datagram's parser */
	__u32 q[XKV_LEARN_QUEUE];	/* slots to empty, busy at first try */
	struct xkv_cand cand[XKV_LEARN_MAX_CAND];
	__u8 hb[XKV_LHDR_BUF * 2];	/* headers, room for masked sizes */
	__u8 buf[XKV_LCHUNK * 2];	/* payload chunk, the same */
	/* an entry being built (install.h), room for masked offsets */
	__u8 ebuf[XKV_LEBUF] __attribute__((aligned(8)));
	struct xkv_lwalk w;	/* install.h: the walk over the slot */
	/* install.h: a key read from a slot, readable in whole words */
	__u8 kbuf[XKV_KEY_ROOM + 8] __attribute__((aligned(8)));
	/* install.h: the entries after one removed, on their way down */
	__u8 mbuf[XKV_HOT_SLOT_SIZE] __attribute__((aligned(8)));
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

static __always_inline void xl_stat_add(__u32 id, __u64 n)
{
	struct xkv_learn_stats *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&xkv_lstats, &zero);
	if (st && id < XKV_LSTAT_NR)
		((__u64 *)st)[id] += n;
}

#define XL_STAT(name) xl_stat_add(XKV_LSTAT_##name, 1)

static __always_inline struct xkv_learn_glob *xl_glob(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xkv_lglob, &zero);
}

static __always_inline struct xkv_lscratch *xl_scratch(__u32 which)
{
	return bpf_map_lookup_elem(&xkv_lscratch, &which);
}

#endif /* XKV_LEARN_SCRATCH_H */
