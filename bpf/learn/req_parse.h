/* SPDX-License-Identifier: GPL-2.0 */
/*
 * req_parse.h - the request parser (ingress): a byte stream parsed as
 * memcached will parse it, and what each command does to the cache.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_REQ_PARSE_H
#define XKV_LEARN_REQ_PARSE_H

/* --- the request parser --------------------------------------------------- */

/* pack up to 8 characters the way a little-endian load of them reads */
#define XKV_W(a, b, c, d, e, f, g, h)                                        \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 |             \
	 (__u64)(h) << 56)

/* which command a first token of @len bytes, packed in @w0 @w1, names */
static __always_inline __u8 xl_in_classify(__u64 w0, __u64 w1, __u32 len)
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
static __always_inline void xl_in_line_reset(struct xkv_lin *p)
{
	p->st = XKV_LIN_LINE;
	p->cls = XKV_LC_NONE;
	p->f &= XKV_LINF_UNSURE | XKV_LINF_HOPELESS | XKV_LINF_PREV_NL;
	p->mf = 0;
	p->ok = 0;
	p->tok = 0;
	p->tlen = 0;
	xkv_hot_hash_init(&p->ths);
	p->kidx = ~0U;
	p->exptime = 0;
	p->vlen = 0;
	p->skip = 0;
	p->w0 = 0;
	p->w1 = 0;
	p->ngk = 0;
	xl_num_reset(&p->nst, &p->nf, &p->mag);
}

/* a whole parser reset: @unsure, and then whether the start is a line start */
static __always_inline void xl_in_reset(struct xkv_lin *p, int unsure,
					int at_line)
{
	p->f = unsure ? XKV_LINF_UNSURE : 0;
	p->npend = 0;
	p->pend[0] = 0;
	p->pend[1] = 0;
	p->pkidx[0] = ~0U;
	p->pkidx[1] = ~0U;
	xl_in_line_reset(p);
	if (!at_line)
		p->st = XKV_LIN_SKIPLINE;
}

/* unsure mode: memcached may resume parsing at @sp for slot @kidx's write */
static __always_inline void
xl_in_pend_add(struct xl_stream *c, struct xkv_lin *p, __u32 sp, __u32 kidx)
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
		xl_flush(c->s, c->now, 1);
	}
}

/* a token of the current line is complete */
static __always_inline void xl_in_tok_end(struct xl_stream *c,
					  struct xkv_lin *p)
{
	__u32 t = p->tok, len = p->tlen, idx;
	__u32 h = xkv_hot_hash_end(&p->ths, p->tlen);
	__s32 v;

	idx = xl_slot_of(h);
	if (t == 0) {
		p->cls = xl_in_classify(p->w0, p->w1, len);
		goto next;
	}
	switch (p->cls) {
	case XKV_LC_GET:
		if (len <= XKV_HOT_KEY_MAX)
			xl_record(idx);
		break;
	case XKV_LC_STORE:
	case XKV_LC_CAS:
		if (t == 1) {
			if (len <= XKV_HOT_KEY_MAX) {
				p->kidx = idx;
				p->f |= XKV_LINF_KEY_OK;
			}
		} else if (t == 2) {
			if (xl_strtoul(p->nst, p->nf, p->mag))
				p->ok |= XKV_LOK_FLAGS;
		} else if (t == 3) {
			if (xl_strtol(p->nst, p->nf, p->mag, &v)) {
				p->ok |= XKV_LOK_EXP;
				p->exptime = v;
			}
		} else if (t == 4) {
			if (xl_strtol(p->nst, p->nf, p->mag, &v)) {
				p->ok |= XKV_LOK_VLEN;
				p->vlen = v;
			}
		} else if (t == 5) {
			if (xl_strtoul(p->nst, p->nf, p->mag))
				p->ok |= XKV_LOK_CAS;
		}
		break;
	case XKV_LC_KEY:
	case XKV_LC_TOUCH:
		if (t == 1 && len <= XKV_HOT_KEY_MAX) {
			p->kidx = idx;
			p->f |= XKV_LINF_KEY_OK;
		} else if (t == 2 && p->cls == XKV_LC_TOUCH &&
			   xl_strtol(p->nst, p->nf, p->mag, &v)) {
			p->ok |= XKV_LOK_EXP;
			p->exptime = v;
		}
		break;
	case XKV_LC_GAT:
		if (t == 1) {
			if (xl_strtol(p->nst, p->nf, p->mag, &v)) {
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
		if (t == 1 && xl_strtol(p->nst, p->nf, p->mag, &v)) {
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
			if (xl_strtol(p->nst, p->nf, p->mag, &v)) {
				p->ok |= XKV_LOK_VLEN;
				p->vlen = v;
			}
		} else if (p->mf & XKV_LMF_LETTER) {
			/* a T or N flag: an expiry for the key (marked now:
			 * that only holds learning back earlier) */
			p->mf &= ~XKV_LMF_LETTER;
			if (xl_strtol(p->nst, p->nf, p->mag, &v) && v &&
			    (p->f & XKV_LINF_KEY_OK))
				xl_volatile(p->kidx, v, c->now);
		}
		break;
	}
next:
	p->tok = t < 0xffff ? t + 1 : t;
	p->tlen = 0;
	xkv_hot_hash_init(&p->ths);
	xl_num_reset(&p->nst, &p->nf, &p->mag);
}

/* one byte of a token, or a separator */
static __always_inline void xl_in_char(struct xl_stream *c, struct xkv_lin *p,
				       __u8 ch)
{
	__u32 len = p->tlen;

	if (p->f & XKV_LINF_NUL)
		return;
	if (ch == 0) {
		/* memcached tokenizes with strlen(): the line ends here */
		if (len)
			xl_in_tok_end(c, p);
		p->f |= XKV_LINF_NUL;
		return;
	}
	if (ch == ' ') {
		if (len)
			xl_in_tok_end(c, p);
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
	xkv_hot_hash_byte(&p->ths, len, ch);
	p->tlen = len < 0xffff ? len + 1 : len;
	xl_num_step(&p->nst, &p->nf, &p->mag, ch);
}

/* the line ended: do what memcached will do now */
static __always_inline void xl_in_eol(struct xl_stream *c, struct xkv_lin *p)
{
	__u32 ntok, kok, acc, n, kidx, k;
	__u8 cls;

	if (p->tlen && !(p->f & XKV_LINF_NUL))
		xl_in_tok_end(c, p);
	ntok = p->tok;
	cls = p->cls;
	kok = p->f & XKV_LINF_KEY_OK;
	XL_STAT(in_lines);
	if (p->f & XKV_LINF_FLUSH_EOL)
		xl_flush(c->s, c->now, 1);

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
			xl_invalidate(c->s, p->kidx, c->now);
		if (!acc)
			break;
		if (p->exptime)
			xl_volatile(p->kidx, p->exptime, c->now);
		n = (__u32)p->vlen + 2;
		kidx = p->kidx;
		if (!(p->f & XKV_LINF_UNSURE)) {
			/* skip the block; the write takes effect at its end */
			xl_in_line_reset(p);
			p->st = XKV_LIN_DATA;
			p->skip = n;
			p->kidx = kidx;
			return;
		}
		/* the block starts after this '\n' (at s->sp) */
		xl_in_pend_add(c, p, c->s->sp + 1 + n, kidx);
		break;
	case XKV_LC_KEY:
	case XKV_LC_TOUCH:
		if (!kok)
			break;
		xl_invalidate(c->s, p->kidx, c->now);
		if (cls == XKV_LC_TOUCH && (p->ok & XKV_LOK_EXP) && p->exptime)
			xl_volatile(p->kidx, p->exptime, c->now);
		break;
	case XKV_LC_GAT:
		n = p->ngk;
		for (k = 0; k < XKV_LIN_GAT_KEYS; k++) {
			if (k >= n)
				break;
			kidx = p->gk[k];
			xl_invalidate(c->s, kidx, c->now);
			if ((p->ok & XKV_LOK_EXP) && p->exptime)
				xl_volatile(kidx, p->exptime, c->now);
		}
		/* more keys than kept: flushed, but their expiry is unknown:
		 * hold all learning until it passes */
		if ((p->f & XKV_LINF_FLUSH_EOL) && (p->ok & XKV_LOK_EXP) &&
		    p->exptime) {
			struct xkv_learn_glob *g = xl_glob();
			__u64 dl = xl_exp_deadline(p->exptime, c->now);

			if (g && dl)
				xl_max_u64(&g->no_learn_until_ns, dl);
		}
		break;
	case XKV_LC_FLUSH:
		XL_STAT(in_flush_all);
		xl_flush(c->s, c->now, 0);
		/* "flush_all <delay>": items go at the deadline; until then
		 * memcached still serves them, but nothing may be learned */
		if ((p->ok & XKV_LOK_EXP) && p->exptime > 0) {
			struct xkv_learn_glob *g = xl_glob();
			__u64 dl = xl_exp_deadline(p->exptime, c->now);

			if (g && dl)
				xl_max_u64(&g->no_learn_until_ns, dl);
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
			xl_flush(c->s, c->now, 1);
		else if (kok)
			xl_invalidate(c->s, p->kidx, c->now);
		if (cls == XKV_LC_MS) {
			/* its data block is not mirrored: from here on parse
			 * every line start candidate */
			n = (p->ok & XKV_LOK_VLEN) && p->vlen >= 0 ?
				    (__u32)p->vlen + 2 : 0;
			p->f |= XKV_LINF_UNSURE;
			if (n)
				xl_in_pend_add(c, p, c->s->sp + 1 + n,
					       kok && !(p->mf & XKV_LMF_B) ?
						       p->kidx :
						       ~0U);
		}
		break;
	}
	xl_in_line_reset(p);
}

/*
 * Unsure mode, at stream position s->sp: memcached resumes here if a
 * storage command seen earlier was real. Its write takes effect now; and
 * unless a line starts here anyway (after a '\n'), a command may start in
 * the middle of the line being parsed: flush when that line ends.
 */
static __always_inline void xl_in_pend_check(struct xl_stream *c,
					     struct xkv_lin *p)
{
	__u32 sp = c->s->sp, n = p->npend, hit0, hit1;

	hit0 = n >= 1 && p->pend[0] == sp;
	hit1 = n >= 2 && p->pend[1] == sp;
	if (!hit0 && !hit1)
		return;
	if (hit0 && p->pkidx[0] != ~0U)
		xl_invalidate(c->s, p->pkidx[0], c->now);
	if (hit1 && p->pkidx[1] != ~0U)
		xl_invalidate(c->s, p->pkidx[1], c->now);
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
static __always_inline void xl_in_byte(struct xl_stream *c, struct xkv_lin *p,
				       __u8 ch)
{
	if ((p->f & XKV_LINF_UNSURE) && p->npend)
		xl_in_pend_check(c, p);
	if (p->st == XKV_LIN_SKIPLINE) {
		if (ch == '\n') {
			if (p->f & XKV_LINF_FLUSH_EOL)
				xl_flush(c->s, c->now, 1);
			xl_in_line_reset(p);
		}
	} else {
		if (p->f & XKV_LINF_CR) {
			p->f &= ~XKV_LINF_CR;
			if (ch == '\n') {
				xl_in_eol(c, p);
				goto out;
			}
			xl_in_char(c, p, '\r');
		}
		if (ch == '\r')
			p->f |= XKV_LINF_CR;
		else if (ch == '\n')
			xl_in_eol(c, p);
		else
			xl_in_char(c, p, ch);
	}
out:
	if (ch == '\n')
		p->f |= XKV_LINF_PREV_NL;
	else
		p->f &= ~XKV_LINF_PREV_NL;
}

static long xl_in_cb(__u32 i, void *data)
{
	struct xl_stream *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_lin *p = c->p;
	__u32 pos = s->pos;
	__u8 ch;

	if (pos >= c->end)
		return 1;
	if (p->st == XKV_LIN_DATA) {
		s->sp += xl_stream_skip(c, pos, &p->skip);
		if (!p->skip) {
			/* the block is in: the store takes effect */
			if (p->kidx != ~0U)
				xl_invalidate(s, p->kidx, c->now);
			xl_in_line_reset(p);
		}
		return 0;
	}
	if (xl_stream_byte(c, pos, &ch))
		return 1;
	xl_in_byte(c, p, ch);
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
__attribute__((noinline)) int xl_in_parse(struct __sk_buff *skb, __u32 fidx,
					  __u32 off, __u32 end, __u64 now)
{
	struct xl_stream c;
	int r;

	r = xl_stream_run(&c, skb, 0, fidx, off, end, now, xl_in_cb);
	if (r <= 0)
		return r;
	return xl_stream_done(&c, end);
}

#endif /* XKV_LEARN_REQ_PARSE_H */
