/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seg.h - one TCP segment as the fast path reads it: header fields and
 * the options it cares about.
 *
 * Part of the XDP object, compiled as one unit by bpf/xkv.bpf.c.
 */
#ifndef XKV_TCP_SEG_H
#define XKV_TCP_SEG_H

#include "xkv_tcp.h"

/* TCP flags, in the header's flag byte */
#define XKV_TCPF_FIN 0x01
#define XKV_TCPF_SYN 0x02
#define XKV_TCPF_RST 0x04
#define XKV_TCPF_PSH 0x08
#define XKV_TCPF_ACK 0x10
#define XKV_TCPF_URG 0x20

/* option kinds (RFC 9293, 7323, 2018) */
#define XKV_TCPOPT_EOL 0
#define XKV_TCPOPT_NOP 1
#define XKV_TCPOPT_MSS 2
#define XKV_TCPOPT_WS 3
#define XKV_TCPOPT_SACK_OK 4
#define XKV_TCPOPT_SACK 5
#define XKV_TCPOPT_TS 8

/* the longest options, and a buffer they are read into (a power of 2) */
#define XKV_TCP_OPT_MAX 40
#define XKV_TCP_OPT_BUF 64

/* the default MSS when the SYN carries none (RFC 9293 3.7.1) */
#define XKV_TCP_MSS_DEFAULT 536

/**
 * struct xkv_tcp_opts - the options of one segment.
 * @buf:      the raw options (@len bytes)
 * @len:      their length
 * @bad:      they do not parse
 * @mss:      MSS option value, 0 = none
 * @ws:       window scale shift + 1, 0 = none
 * @sack_ok:  SACK permitted
 * @ts:       a timestamp option is present
 * @ts_off:   its offset in @buf
 * @tsval:    its TSval (host order)
 * @tsecr:    its TSecr (host order)
 * @sack_off: offset of the first SACK block in @buf, 0 = none
 * @sack_n:   number of SACK blocks
 * @pos:      scratch: the parser's position
 */
struct xkv_tcp_opts {
	__u8 buf[XKV_TCP_OPT_BUF + 8];
	__u32 len;
	__u32 bad;
	__u32 mss;
	__u32 ws;
	__u32 sack_ok;
	__u32 ts;
	__u32 ts_off;
	__u32 tsval;
	__u32 tsecr;
	__u32 sack_off;
	__u32 sack_n;
	__u32 pos;
};

static __always_inline __u32 xkv_get_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 |
	       p[3];
}

/*
 * Parse the options in @o->buf (@o->len bytes, loaded by the caller).
 * Every option must lie inside them; anything else marks them bad.
 */
static __always_inline void xkv_tcp_opts_parse(struct xkv_tcp_opts *o)
{
	__u32 i = 0, k, len, kind, n = o->len;
	const __u8 *b = o->buf;

	o->bad = 0;
	o->mss = 0;
	o->ws = 0;
	o->sack_ok = 0;
	o->ts = 0;
	o->sack_off = 0;
	o->sack_n = 0;
	if (n > XKV_TCP_OPT_MAX) {
		o->bad = 1;
		return;
	}
	for (k = 0; k < XKV_TCP_OPT_MAX; k++) {
		/* the position goes through memory the verifier does not
		 * track (the mask changes nothing: it is at most @n, 40):
		 * as a register its exact value splits the states of every
		 * round, which cost the verifier about 500,000 instructions
		 * in each program that parses options */
		WRITE_ONCE(o->pos, i);
		i = READ_ONCE(o->pos) & 63;
		if (i >= n)
			break;
		kind = b[i & (XKV_TCP_OPT_BUF - 1)];
		if (kind == XKV_TCPOPT_EOL)
			break;
		if (kind == XKV_TCPOPT_NOP) {
			i++;
			continue;
		}
		len = b[(i + 1) & (XKV_TCP_OPT_BUF - 1)];
		if (i + 1 >= n || len < 2 || i + len > n) {
			o->bad = 1;
			break;
		}
		if (kind == XKV_TCPOPT_MSS && len == 4) {
			o->mss = (__u32)b[(i + 2) & 63] << 8 |
				 b[(i + 3) & 63];
		} else if (kind == XKV_TCPOPT_WS && len == 3) {
			o->ws = b[(i + 2) & 63] + 1;
		} else if (kind == XKV_TCPOPT_SACK_OK && len == 2) {
			o->sack_ok = 1;
		} else if (kind == XKV_TCPOPT_TS && len == 10) {
			o->ts = 1;
			o->ts_off = i;
			o->tsval = xkv_get_be32(b + ((i + 2) & 63));
			o->tsecr = xkv_get_be32(b + ((i + 6) & 63));
		} else if (kind == XKV_TCPOPT_SACK && len >= 10 &&
			   (len - 2) % 8 == 0) {
			o->sack_off = i + 2;
			o->sack_n = (len - 2) / 8;
		}
		i += len;
	}
}

/**
 * struct xkv_tcp_seg - the segment XDP is looking at, and the reply.
 * @key:     its connection
 * @th_off:  frame offset of the TCP header
 * @th_len:  TCP header length, options included
 * @seq:     sequence number (host order)
 * @ack:     acknowledgement number (host order)
 * @win:     window field, as is
 * @flags:   the flag byte
 * @plen:    payload length
 * @o:       options
 * @r_seq:   reply: sequence number
 * @r_ack:   reply: acknowledgement number
 * @r_ack_part: ... when a kept reply goes out in pieces, every piece but
 *           the last (the request's start: it stays unacknowledged)
 * @r_win:   reply: window field, as is
 * @r_tsval: reply: TSval
 * @r_tsecr: reply: TSecr
 * @r_len:   reply: payload length (at out[XKV_OUT_BODY])
 * @r_ts:    reply: carries a timestamp option
 * @gen:     the connection's in_seen for this segment when none of its
 *           bytes had been seen before (xkv_tcp_track()), else 0
 */
struct xkv_tcp_seg {
	struct xkv_tcp_key key;
	__u32 th_off;
	__u32 th_len;
	__u32 seq;
	__u32 ack;
	__be16 win;
	__u8 flags;
	__u8 pad;
	__u32 plen;
	struct xkv_tcp_opts o;
	__u32 r_seq;
	__u32 r_ack;
	__u32 r_ack_part;
	__u32 r_tsval;
	__u32 r_tsecr;
	__u32 r_len;
	__be16 r_win;
	__u16 r_ts;
	__u32 gen;
};

#endif /* XKV_TCP_SEG_H */
