/* SPDX-License-Identifier: GPL-2.0 */
/*
 * reply_parse.h - the reply parser (egress): VALUE blocks that may be
 * installed, VA blocks skipped.
 *
 * Part of the learning programs, compiled as one unit by
 * bpf/xkv_learn.bpf.c, which includes the parts in order.
 */
#ifndef XKV_LEARN_REPLY_PARSE_H
#define XKV_LEARN_REPLY_PARSE_H

/* --- the reply parser ----------------------------------------------------- */

static __always_inline void xl_out_line_reset(struct xkv_lout *p, int here)
{
	p->st = XKV_LOUT_LINE;
	p->cls = XKV_LR_NONE;
	p->f = here ? XKV_LOUTF_HERE : 0;
	p->cand = 0;
	p->tok = 0;
	p->tlen = 0;
	xkv_hot_hash_init(&p->ths);
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

static __always_inline void xl_out_bad(struct xkv_lout *p)
{
	p->f |= XKV_LOUTF_BAD;
}

/* a token of a VALUE or VA line is complete */
static __always_inline void xl_out_tok_end(struct xkv_lout *p)
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
			p->khash = xkv_hot_hash_end(&p->ths, p->tlen);
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
	xkv_hot_hash_init(&p->ths);
	p->num = 0;
}

/* a number of a VALUE/VA line: digits only, as memcached prints them */
static __always_inline void xl_out_digit(struct xkv_lout *p, __u8 ch)
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

static __always_inline void xl_out_char(struct xl_stream *c, struct xkv_lout *p,
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
		xl_out_tok_end(p);
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
		xkv_hot_hash_byte(&p->ths, len, ch);
	} else if (p->cls == XKV_LR_VALUE || p->tok == 1) {
		xl_out_digit(p, ch);
	}
	p->tlen = len < 0xffff ? len + 1 : len;
}

/* a reply line ended: a VALUE/VA line announces a data block */
static __always_inline void xl_out_eol(struct xl_stream *c, struct xkv_lout *p)
{
	struct xkv_lscratch *s = c->s;
	__u32 ntok, n, data;

	if (p->tlen)
		xl_out_tok_end(p);
	ntok = p->tok;
	if (p->cls == XKV_LR_VALUE) {
		if ((ntok != 4 && ntok != 5) || p->nbad || !p->klen ||
		    p->flags > 0xffffffffULL ||
		    p->bytes > XKV_LEARN_SKIP_MAX - 2) {
			xl_out_bad(p);
			return;
		}
		XL_STAT(eg_values);
		data = s->pos + 1;	/* after this '\n' */
		n = (__u32)p->bytes;
		if (!(p->f & XKV_LOUTF_HERE) || n > c->end - data ||
		    n + 2 > c->end - data ||
		    s->ncand >= XKV_LEARN_MAX_CAND) {
			XL_STAT(skip_split);
		} else if (p->klen > XKV_HOT_KEY_MAX || n > XKV_HOT_VAL_MAX) {
			XL_STAT(skip_too_big);
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
			xl_out_bad(p);
			return;
		}
		n = (__u32)p->bytes;
	} else {
		xl_out_line_reset(p, 1);
		return;
	}
	/* the data block, then its "\r\n" */
	p->skip = n;
	p->st = n ? XKV_LOUT_DATA : XKV_LOUT_CR;
}

static long xl_out_cb(__u32 i, void *data)
{
	struct xl_stream *c = data;
	struct xkv_lscratch *s = c->s;
	struct xkv_lout *p = c->p;
	__u32 pos = s->pos;
	__u8 ch;

	if (pos >= c->end || (p->f & XKV_LOUTF_BAD))
		return 1;
	if (p->st == XKV_LOUT_DATA) {
		xl_stream_skip(c, pos, &p->skip);
		if (!p->skip)
			p->st = XKV_LOUT_CR;
		return 0;
	}
	if (xl_stream_byte(c, pos, &ch))
		return 1;
	s->pos = pos + 1;

	switch (p->st) {
	case XKV_LOUT_CR:
		if (ch != '\r')
			xl_out_bad(p);
		p->st = XKV_LOUT_LF;
		return 0;
	case XKV_LOUT_LF:
		if (ch != '\n') {
			xl_out_bad(p);
			return 0;
		}
		if (p->cand) {
			__u32 k = (p->cand - 1) & (XKV_LEARN_MAX_CAND - 1);

			s->cand[k].ok = 1;
		}
		xl_out_line_reset(p, 1);
		return 0;
	case XKV_LOUT_SKIPLINE:
		if (ch == '\n')
			xl_out_line_reset(p, 1);
		return 0;
	}
	/* XKV_LOUT_LINE; the helpers want s->pos at the byte */
	s->pos = pos;
	if (p->f & XKV_LOUTF_CR) {
		p->f &= ~XKV_LOUTF_CR;
		if (ch == '\n') {
			xl_out_eol(c, p);
			s->pos = pos + 1;
			return 0;
		}
		s->pos = pos - 1;	/* where the '\r' was */
		xl_out_char(c, p, '\r');
		s->pos = pos;
	}
	if (ch == '\r')
		p->f |= XKV_LOUTF_CR;
	else if (ch == '\n')
		xl_out_eol(c, p);
	else
		xl_out_char(c, p, ch);
	s->pos = pos + 1;
	return 0;
}

/*
 * Parse reply bytes [@off, @end) of @skb with the parser of flow entry
 * @fidx (XKV_LPARSE_UDP: the datagram parser in scratch memory).
 * Return: 0, or -1 when the replies are not in memcached's format.
 */
__attribute__((noinline)) int xl_out_parse(struct __sk_buff *skb, __u32 fidx,
					   __u32 off, __u32 end)
{
	struct xl_stream c;
	struct xkv_lout *p;
	int r;

	r = xl_stream_run(&c, skb, 1, fidx, off, end, 0, xl_out_cb);
	if (r <= 0)
		return r;
	p = c.p;
	if (p->f & XKV_LOUTF_BAD) {
		XL_STAT(skip_malformed);
		return -1;
	}
	return xl_stream_done(&c, end);
}

#endif /* XKV_LEARN_REPLY_PARSE_H */
