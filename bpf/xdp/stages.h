/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stages.h - the stages xkv_xdp() runs, each a global function.
 *
 * Part of the XDP program, compiled as one unit by bpf/xkv.bpf.c, which
 * includes the parts in order.
 */
#ifndef XKV_XDP_STAGES_H
#define XKV_XDP_STAGES_H

/*
 * The stages after header parsing are global functions: the verifier
 * checks each one once, on its own, instead of once per path the caller
 * took to reach it (IPv4 or IPv6, tags, get or gets ...), which would
 * multiply the cost of the loops inside. Each is handed the per-CPU
 * scratch memory the program looked up once (or NULL, checked).
 */

/*
 * Is the request's source one to answer? @lo: it came in on lo. The
 * verdict depends on the two addresses, @lo and the policy's maps only:
 * a request between the addresses this CPU last allowed, under the same
 * policy generation, is allowed without looking the maps up again
 * (abi/xkv_policy.h says when a change takes effect).
 * Return: 0 if so, else the pass reason.
 */
__attribute__((noinline)) int xkv_check_source(struct xkv_scratch *s, int lo)
{
	struct xkv_policy_gen *pg;
	__u32 f, zero = 0;
	__u64 gen;

	if (!s)
		return XKV_STAT_errors;
	pg = bpf_map_lookup_elem(&xkv_policy_gen, &zero);
	if (!pg)
		return XKV_STAT_errors;
	gen = xkv_policy_gen_read(pg);
	if (xkv_memo_match(s, gen, lo))
		return 0;
	if (!s->ipv6 ? xkv_martian4(s->saddr[0], s->daddr[0], lo) :
		       xkv_martian6(s->saddr, s->daddr, lo))
		return XKV_STAT_pass_martian;
	/* the interface's own addresses as the stack sees them */
	f = xkv_addr_flags(s->saddr, s->ipv6);
	if ((f & XKV_ADDR_BCAST) || ((f & XKV_ADDR_LOCAL) && !lo))
		return XKV_STAT_pass_martian;
	if (xkv_addr_flags(s->daddr, s->ipv6) & XKV_ADDR_BCAST)
		return XKV_STAT_pass_group;
	if (!xkv_allowed(s))
		return XKV_STAT_pass_not_allowed;
	xkv_memo_set(s, gen, lo);
	return 0;
}

/*
 * Parse the headers and check the source: martians, the allowlist.
 * Return: 0 for a request to us from an allowed source, else the outcome.
 */
__attribute__((noinline)) int xkv_read_headers(struct xdp_md *ctx,
						struct xkv_scratch *s)
{
	__u32 why;

	if (!s)
		return XKV_STAT_errors;
	/* no body summed yet: xkv_build_reply() brings one */
	s->psum_ok = 0;
	s->rsum_ok = 0;
	why = xkv_parse_headers(ctx, s);
	if (!why)
		why = xkv_check_source(s, ctx->ingress_ifindex ==
					  XKV_LOOPBACK_IFINDEX);
	return why;
}

/*
 * Split the tokens of the request line from s->start into s->keys.
 * Return: 0, or the outcome (a pass reason).
 */
static __always_inline int xkv_split_tokens(struct xkv_scratch *s)
{
	struct xkv_cb_ctx cb;

	cb.s = s;
	s->in_key = 0;
	s->nkeys = 0;
	s->done = 0;
	s->fail = 0;
	bpf_loop((s->plen - s->start + 7) / 8, xkv_parse_cb, &cb, 0);
	if (s->fail)
		return s->fail;
	if (!s->done || !s->nkeys)
		return XKV_STAT_pass_malformed;
	return 0;
}

/*
 * The command and the key list of the request in s->req (its first
 * XKV_FRAME_HDR bytes are the UDP frame header, or nothing over TCP):
 * "get"/"gets", split into s->keys.
 * Return: 0, or the outcome (a pass reason or XKV_STAT_errors).
 */
__attribute__((noinline)) int xkv_split_keys(struct xkv_scratch *s)
{
	__u8 *r;

	if (!s)
		return XKV_STAT_errors;
	r = s->req;
	if (r[8] != 'g' || r[9] != 'e' || r[10] != 't')
		return XKV_STAT_pass_not_get;
	if (r[11] == ' ') {
		s->gets = 0;
		s->start = XKV_FRAME_HDR + 4;
	} else if (r[11] == 's' && r[12] == ' ') {
		s->gets = 1;
		s->start = XKV_FRAME_HDR + 5;
	} else {
		return XKV_STAT_pass_not_get;
	}

	s->meta = 0;
	return xkv_split_tokens(s);
}

/*
 * The flags of an "mg" XDP answers without a value, each allowed once:
 * bit j of XKV_MF_* is XKV_MF_CHARS[j]; "O<opaque>" is XKV_MF_O.
 */
#define XKV_MF_CHARS "vfscqkbt"
#define XKV_MF_NCHARS 8
#define XKV_MF_v 0x01
#define XKV_MF_f 0x02
#define XKV_MF_s 0x04
#define XKV_MF_c 0x08
#define XKV_MF_q 0x10
#define XKV_MF_k 0x20
#define XKV_MF_b 0x40
#define XKV_MF_t 0x80
#define XKV_MF_O 0x100

/* most tokens of an "mg" XDP answers: the key and eight flags */
#define XKV_META_TOK_MAX 9
/*
 * longest opaque after the "O": 31, as the store's XKV_META_OPAQUE_MAX
 * (32, memcached's limit) counts the "O" too; a longer one is the
 * store's "CLIENT_ERROR opaque token too long"
 */
#define XKV_META_OPAQUE 31

/* flag token @i + 1 of an "mg": one XDP answers, and not given before */
static long xkv_meta_flag_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	struct xkv_key_ref *k = &s->keys[(i + 1) & (XKV_MAX_KEYS - 1)];
	__u32 len = k->len, bit = 0, j;
	__u8 c = s->req[k->off & XKV_REQ_MASK];

	if (c == 'O' && len <= 1 + XKV_META_OPAQUE) {
		s->m_obytes = 1 + len;
		bit = XKV_MF_O;
	} else if (len == 1) {
#pragma unroll
		for (j = 0; j < XKV_MF_NCHARS; j++)
			if (c == XKV_MF_CHARS[j])
				bit = 1U << j;
	}
	if (!bit || (s->m_seen & bit)) {
		s->fail = XKV_STAT_pass_not_get;
		return 1;
	}
	s->m_seen |= bit;
	return 0;
}

/*
 * The tokens of a meta "mg <key> <flags>" request in s->req, split as the
 * key list of a "get" into s->keys: the key, then its flags. Only flags
 * whose answer is the entry's bytes are taken, each a token of its own
 * and each once (the store refuses a flag given twice): "v" (required),
 * "f", "s", "c", "q", "k", "b" (the key is decoded: xkv_meta_b64()),
 * "t" (only the store knows the TTL: the hot cache misses it, the store
 * program answers it, bpf/xdp/store_bin.h) and "O<opaque>"; anything
 * else (other flags, a flag with a value where none is due) goes to the
 * store as it came.
 * Return: 0 with s->nkeys = 1, or the outcome (a pass reason).
 */
__attribute__((noinline)) int xkv_split_meta(struct xkv_scratch *s)
{
	struct xkv_cb_ctx cb;
	__u32 n, seen;

	if (!s)
		return XKV_STAT_errors;
	s->start = XKV_FRAME_HDR + 3;
	n = xkv_split_tokens(s);
	if (n)
		return n;
	n = s->nkeys;
	if (n < 2 || n > XKV_META_TOK_MAX)
		return XKV_STAT_pass_not_get;
	cb.s = s;
	s->m_obytes = 0;
	s->m_seen = 0;
	bpf_loop(n - 1, xkv_meta_flag_cb, &cb, 0);
	if (s->fail)
		return s->fail;
	seen = s->m_seen;
	if (!(seen & XKV_MF_v))
		return XKV_STAT_pass_not_get;
	s->m_nf = !!(seen & XKV_MF_f);
	s->m_ns = !!(seen & XKV_MF_s);
	s->m_nc = !!(seen & XKV_MF_c);
	s->m_nk = !!(seen & XKV_MF_k);
	s->m_nt = !!(seen & XKV_MF_t);
	s->m_tlen = 0;
	s->m_b = !!(seen & XKV_MF_b);
	s->mtok = n;
	s->nkeys = 1;
	s->meta = 1;
	return s->m_b ? xkv_meta_b64(s) : 0;
}

/*
 * A text request line in s->req (after XKV_FRAME_HDR bytes, over TCP
 * too): a meta "mg" (xkv_split_meta()), else "get"/"gets"
 * (xkv_split_keys()). The UDP path and the TCP fast path (xkv_tcp_split())
 * both split text through here.
 * Return: 0, or the outcome (a pass reason or XKV_STAT_errors).
 */
__attribute__((noinline)) int xkv_split_text(struct xkv_scratch *s)
{
	__u8 *r;

	if (!s)
		return XKV_STAT_errors;
	r = s->req;
	if (r[8] == 'm' && r[9] == 'g' && r[10] == ' ')
		return xkv_split_meta(s);
	return xkv_split_keys(s);
}

/*
 * Load the request payload, check the frame header, and split the key
 * list into s->keys.
 * Return: 0, or the outcome (a pass reason or XKV_STAT_errors).
 */
__attribute__((noinline)) int xkv_read_request(struct xdp_md *ctx,
						struct xkv_scratch *s)
{
	__u32 plen;
	__u8 *r;

	if (!s)
		return XKV_STAT_errors;
	r = s->req;
	plen = s->plen;
	if (plen < XKV_REQ_MIN)
		return XKV_STAT_pass_malformed;
	if (plen > XKV_REQ_MAX)
		return XKV_STAT_pass_too_big;
	if (bpf_xdp_load_bytes(ctx, s->pay_off, r, plen))
		return XKV_STAT_errors;

	/* frame header: one datagram; id, sequence and reserved are free */
	if (r[4] != 0 || r[5] != 1)
		return XKV_STAT_pass_malformed;
	if (xkv_bin_req(s))
		return xkv_bin_split(s);
	return xkv_split_text(s);
}

/*
 * Would the stack take the request (its UDP checksum)? Asked only once
 * every key hit: a miss goes to the stack, which checks it anyway.
 * Return: 0 or XKV_STAT_pass_checksum.
 */
__attribute__((noinline)) int xkv_check_sum(struct xkv_scratch *s)
{

	if (!s)
		return XKV_STAT_errors;
	return xkv_csum_ok(s) ? 0 : XKV_STAT_pass_checksum;
}

/*
 * Start an empty body of at most @max bytes with the frame header and
 * "END\r\n" (capped at what a datagram carries).
 * Return: 0, or XKV_STAT_pass_too_big when not even "END" fits.
 */
static __always_inline int xkv_begin_body(struct xkv_scratch *s, __u32 max)
{
	if (max > XKV_UDP_PAYLOAD_CAP)
		max = XKV_UDP_PAYLOAD_CAP;
	if (max < XKV_FRAME_HDR + XKV_END_LEN)
		return XKV_STAT_pass_too_big;
	s->body = 0;
	s->body_max = max - XKV_FRAME_HDR - XKV_END_LEN;
	s->psum = 0;
	s->fail = 0;
	return 0;
}

/*
 * Start the body of a get's reply, built key by key by a bpf_loop()
 * callback given @cb, each key's block bringing its sum:
 * xkv_begin_body() for at most @max bytes, and s->psum_ok set.
 * Return: 0, or the outcome.
 */
static __always_inline int xkv_begin_keys(struct xkv_scratch *s,
					  struct xkv_cb_ctx *cb, __u32 max)
{
	int why;

	cb->s = s;
	why = xkv_begin_body(s, max);
	if (why)
		return why;
	s->psum_ok = 1;
	return 0;
}

/*
 * End the body of s->body bytes built in s->out with "END\r\n" (its sum
 * added to s->psum); @udp: apply the reply/request budget.
 * Return: 0 with s->ulen set to the reply's UDP length, or the outcome.
 */
static __always_inline int xkv_end_body(struct xkv_scratch *s, __u32 udp)
{
	__u32 body = s->body;

	if (body > XKV_BODY_MASK - XKV_END_LEN)
		return XKV_STAT_errors;
	/* an "mg" reply is its one "VA" block */
	if (!s->meta) {
		s->out[XKV_OUT_BODY + body] = 'E';
		s->out[XKV_OUT_BODY + body + 1] = 'N';
		s->out[XKV_OUT_BODY + body + 2] = 'D';
		s->out[XKV_OUT_BODY + body + 3] = '\r';
		s->out[XKV_OUT_BODY + body + 4] = '\n';
		s->psum += xkv_csum_end(body);
		body += XKV_END_LEN;
	}

	if (udp && xkv_cfg.amp_ratio &&
	    (__u64)XKV_FRAME_HDR + body > (__u64)xkv_cfg.amp_ratio * s->plen)
		return XKV_STAT_pass_budget;
	s->ulen = sizeof(struct udphdr) + XKV_FRAME_HDR + body;
	return 0;
}

/* copy @n (at most @max) bytes from @src to body offset @p of @b */
static __always_inline void xkv_meta_put(__u8 *b, __u32 p, const __u8 *src,
					 __u32 n, __u32 max)
{
	__u32 j;

	for (j = 0; j < max; j++) {
		if (j >= n)
			break;
		b[(p + j) & XKV_BODY_MASK] = src[j];
	}
}

/* one flag of an "mg" hit: its echo in the reply's header, if any */
static long xkv_meta_tok_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u8 *b = s->out + XKV_OUT_BODY;
	struct xkv_key_ref *k;
	__u32 p = s->m_pos, n;
	__u8 c;

	if (p > XKV_UDP_PAYLOAD_CAP)
		return 1;
	k = &s->keys[(i + 1) & (XKV_MAX_KEYS - 1)];
	c = s->req[k->off & XKV_REQ_MASK];
	if (c == 'v' || c == 'q' || c == 'b')
		return 0;
	b[p & XKV_BODY_MASK] = ' ';
	if (c == 'O') {
		n = k->len;
		xkv_meta_put(b, p + 1, s->req + (k->off & XKV_REQ_MASK), n,
			     XKV_META_OPAQUE + 1);
		s->m_pos = p + 1 + n;
		return 0;
	}
	b[(p + 1) & XKV_BODY_MASK] = c;
	if (c == 'f') {
		n = s->m_flen;
		xkv_meta_put(b, p + 2, s->m_f, n, 10);
	} else if (c == 's') {
		n = s->m_nlen;
		xkv_meta_put(b, p + 2, s->m_n, n, 10);
	} else if (c == 'k') {
		/* written once the loop is done: xkv_meta_key_put() */
		n = s->m_klen;
		s->m_kpos = p + 2;
	} else if (c == 't') {
		n = s->m_tlen;
		xkv_meta_put(b, p + 2, s->m_t, n, 10);
	} else {
		n = s->nd;
		xkv_put_cas(b, p + 2, READ_ONCE(s->cas), n);
	}
	s->m_pos = p + 2 + n;
	return 0;
}

/*
 * The header of an "mg" hit, "VA <n>" and the flags' echoes in the order
 * asked, "\r\n", in the room xkv_meta_value() left before the data.
 * Return: 0, or XKV_STAT_errors when it does not fill that room exactly.
 */
static __always_inline int xkv_meta_head(struct xkv_scratch *s)
{
	__u8 *b = s->out + XKV_OUT_BODY;
	struct xkv_cb_ctx cb;
	__u32 p;

	cb.s = s;
	b[0] = 'V';
	b[1] = 'A';
	b[2] = ' ';
	xkv_meta_put(b, 3, s->m_n, s->m_nlen, 10);
	s->m_pos = 3 + s->m_nlen;
	bpf_loop(s->mtok - 1, xkv_meta_tok_cb, &cb, 0);
	p = s->m_pos;
	if (p + 2 != s->m_hlen)
		return XKV_STAT_errors;
	if (s->m_nk && xkv_meta_key_put(s))
		return XKV_STAT_errors;
	b[p & XKV_BODY_MASK] = '\r';
	b[(p + 1) & XKV_BODY_MASK] = '\n';
	return 0;
}

/*
 * Look every key up and write the reply body: VALUE blocks and "END",
 * at most @max bytes with the frame header (which a TCP reply does not
 * have, but counts here); @udp: apply the reply/request budget.
 * Return: 0 with s->ulen set to the reply's UDP length and s->psum to the
 * body's checksum, or the outcome.
 */
__attribute__((noinline)) int xkv_build_reply(struct xkv_scratch *s, __u32 max,
					       __u32 udp)
{
	struct xkv_live *live;
	struct xkv_cb_ctx cb;
	__u32 zero = 0;
	int why;

	if (!s)
		return XKV_STAT_errors;
	/* serve only while the backend's lease runs (it beats while alive) */
	live = bpf_map_lookup_elem(&xkv_live, &zero);
	if (!live)
		return XKV_STAT_pass_no_backend;
	xkv_clock_start(s);
	if (xkv_past(s, READ_ONCE(live->until_ns)))
		return XKV_STAT_pass_no_backend;
	why = xkv_begin_keys(s, &cb, max);
	if (why)
		return why;
	/* one key, the usual request: no callback round trip */
	if (s->nkeys == 1)
		xkv_key_cb(0, &cb);
	else
		bpf_loop(s->nkeys, xkv_key_cb, &cb, 0);
	if (s->fail)
		return s->fail;
	if (s->meta && xkv_bin_req(s)) {
		why = xkv_bin_fill(s);
		if (why)
			return why;
	} else if (s->meta) {
		why = xkv_meta_fill(s);
		if (!why)
			why = xkv_meta_head(s);
		if (why)
			return why;
	}

	return xkv_end_body(s, udp);
}

/*
 * Turn the frame into the reply built in s->out.
 * Return: XKV_STAT_replies, a pass reason, XKV_STAT_errors or XKV_OUT_DROP.
 */
__attribute__((noinline)) int xkv_send_reply(struct xdp_md *ctx,
					      struct xkv_scratch *s)
{

	if (!s)
		return XKV_STAT_errors;
	return xkv_send(ctx, s, s->ulen);
}

/*
 * Count a UDP request's outcome @why (XKV_STAT_replies, XKV_OUT_DROP, a
 * pass reason or XKV_STAT_errors) in @st, once.
 * Return: the XDP action.
 */
static __always_inline int xkv_udp_verdict(struct xkv_stats *st,
					   const struct xkv_scratch *s,
					   __u32 why)
{
	if (why == XKV_OUT_DROP) {
		st->errors++;
		return XDP_DROP;
	}
	if (why == XKV_STAT_replies) {
		st->replies++;
		st->hits += s->nkeys;
		st->reply_bytes += s->ulen - sizeof(struct udphdr);
		return XDP_TX;
	}
	if (why == XKV_STAT_packets || why >= XKV_STAT_NR)
		why = XKV_STAT_errors;
	((__u64 *)st)[why]++;
	return XDP_PASS;
}

#endif /* XKV_XDP_STAGES_H */
