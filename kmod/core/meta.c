// SPDX-License-Identifier: GPL-2.0
/*
 * meta.c - memcached's meta protocol: mg ms md ma mn me.
 *
 * Behaviour follows memcached 1.6.18 (its doc/protocol.txt, and its
 * proto_text.c where the two differ), reply for reply:
 *
 *  - Every flag is one token whose first byte names it. Each command
 *    accepts every flag any meta command knows (and ignores the ones
 *    that mean nothing to it); a repeated flag, or a token starting with
 *    a byte >= 127, is "CLIENT_ERROR duplicate flag", an unknown one
 *    "CLIENT_ERROR invalid flag". md and ma report any flag error as
 *    "CLIENT_ERROR invalid or duplicate flag".
 *  - Return flags come back in the order they were asked for.
 *  - Quiet mode (q) drops mg's EN, and the HD of ms, md and ma (ma's
 *    whole VA reply too, but not when it created the item); every other
 *    reply and every error is sent. "mn" answers MN.
 *  - Errors seen before an ms value is read swallow the value.
 *
 * Every step of a command runs under the key's stripe lock (the locked
 * access of items.h), and every change goes through the do_xkv_*()
 * calls, which keep the key's hot slot coherent before the reply is
 * written. An invalidated (stale) item leaves the hot tier and does not
 * come back while it is stale.
 *
 * Known difference: "l" and me's la= count from the store or the last
 * meta read; text gets do not move it (memcached moves its time on some
 * fetches only, so neither is a precise last access).
 */
#include "meta.h"
#include "util.h"

/*
 * A reply line's bytes besides its flags: "VA " and a 10-digit length,
 * " Z X W", "\r\n", and ma's value line (20 digits and "\r\n").
 */
#define META_HDR_BASE 43
/* one returned number: " x" and 20 digits */
#define META_NUM_MAX 22
/* memcached: more than 19 tokens (command and key included) */
#define META_TOKENS_MAX 19

/* what the flags of one command line asked for */
struct mflags {
	bool vivify;
	bool value;
	bool stale;
	bool quiet;
	bool has_cas;
	bool new_ttl;
	bool b64;
	bool no_update;
	char mode;
	u32 exptime;
	u32 autoviv;
	u32 recache;
	u32 cflags;
	u64 req_cas;
	u64 delta;
	u64 initial;
	const char *key;
	size_t nkey;
	char kbuf[XKV_KEY_MAX];
};

/* ---- base64 (RFC 4648, with padding), as memcached reads it ---- */

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(u8 c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '=')
		return 0;
	return -1;
}

/*
 * memcached skips bytes outside the alphabet, wants a whole number of
 * 4-byte groups, and stops after the first group with padding (one or
 * two '='; more is an error). Return the decoded length, 0 on error.
 */
static size_t b64_decode(const char *src, size_t n, char *dst)
{
	size_t i, cnt = 0, out = 0;
	u8 grp[4];
	int pad = 0;

	for (i = 0; i < n; i++)
		cnt += b64_val((u8)src[i]) >= 0;
	if (!cnt || cnt % 4)
		return 0;
	cnt = 0;
	for (i = 0; i < n; i++) {
		int v = b64_val((u8)src[i]);

		if (v < 0)
			continue;
		pad += src[i] == '=';
		grp[cnt++] = (u8)v;
		if (cnt < 4)
			continue;
		dst[out++] = (char)(grp[0] << 2 | grp[1] >> 4);
		dst[out++] = (char)(grp[1] << 4 | grp[2] >> 2);
		dst[out++] = (char)(grp[2] << 6 | grp[3]);
		cnt = 0;
		if (pad) {
			if (pad > 2)
				return 0;
			out -= (size_t)pad;
			break;
		}
	}
	return out;
}

static char *b64_encode(char *p, const u8 *src, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		*p++ = b64_alpha[src[i] >> 2];
		*p++ = b64_alpha[(src[i] & 3) << 4 | src[i + 1] >> 4];
		*p++ = b64_alpha[(src[i + 1] & 15) << 2 | src[i + 2] >> 6];
		*p++ = b64_alpha[src[i + 2] & 63];
	}
	if (i < n) {
		*p++ = b64_alpha[src[i] >> 2];
		if (i + 1 == n) {
			*p++ = b64_alpha[(src[i] & 3) << 4];
			*p++ = '=';
		} else {
			*p++ = b64_alpha[(src[i] & 3) << 4 | src[i + 1] >> 4];
			*p++ = b64_alpha[(src[i + 1] & 15) << 2];
		}
		*p++ = '=';
	}
	return p;
}

/* ---- reply building: @p points into the output buffer's free room ---- */

static char *put(char *p, const char *s, size_t n)
{
	os_memcpy(p, s, n);
	return p + n;
}

static char *put_flag(char *p, char c)
{
	*p++ = ' ';
	*p++ = c;
	return p;
}

static char *put_u64(char *p, u64 v)
{
	return p + xkv_fmt_u64(p, v);
}

/* " k<key>", or " k<base64 key> b" for a key that came in base64 */
static char *put_key(char *p, const char *key, size_t nkey, bool b64)
{
	p = put_flag(p, 'k');
	if (!b64)
		return put(p, key, nkey);
	p = b64_encode(p, (const u8 *)key, nkey);
	return put(p, " b", 2);
}

/* " t<seconds left>", -1 for never, as memcached's 32-bit subtraction */
static char *put_ttl(char *p, const struct xkv_item *it, u64 now)
{
	u32 ttl;

	p = put_flag(p, 't');
	if (!xkv_item_ttl(it, now, &ttl))
		return put(p, "-1", 2);
	return put_u64(p, ttl);
}

static void out_str(struct xkv_meta_io *io, const char *s)
{
	xkv_buf_str(io->out, s);
	xkv_buf_add(io->out, "\r\n", 2);
}

static bool opaque_ok(const struct xkv_tok *t)
{
	return t->n <= XKV_META_OPAQUE_MAX;
}

/* " O<opaque>", or nothing and *@bad when it is too long */
static char *put_opaque(char *p, const struct xkv_tok *t, bool *bad)
{
	if (!opaque_ok(t)) {
		*bad = true;
		return p;
	}
	return put(put(p, " ", 1), t->p, t->n);
}

/* ---- parsing ---- */

static bool flag_s32(struct xkv_store *st, const struct xkv_tok *t, u32 *out)
{
	s32 v;

	if (!xkv_parse_s32(t->p + 1, t->n - 1, &v))
		return false;
	*out = xkv_exptime(st, v);
	return true;
}

/*
 * memcached's flag pre-parse: every flag of t[start..nt). Errors other
 * than a duplicate or unknown flag let the scan go on (the last message
 * wins). Return 0, or -1 with *@err set.
 */
static int parse_flags(struct xkv_store *st, const struct xkv_tok *t, u32 start,
		       u32 nt, struct mflags *f, const char **err)
{
	u8 seen[128] = { 0 };
	bool bad = false;
	u32 i;

	f->key = t[1].p;
	f->nkey = t[1].n;
	for (i = start; i < nt; i++) {
		const struct xkv_tok *k = &t[i];
		u8 o = (u8)k->p[0];

		if (o >= 127 || seen[o]) {
			*err = "CLIENT_ERROR duplicate flag";
			return -1;
		}
		seen[o] = 1;
		switch (o) {
		case 'b':
			f->nkey = b64_decode(t[1].p, t[1].n, f->kbuf);
			f->key = f->kbuf;
			f->b64 = true;
			if (!f->nkey) {
				*err = "CLIENT_ERROR error decoding key";
				bad = true;
			}
			break;
		case 'N':
			f->vivify = true;
			if (!flag_s32(st, k, &f->autoviv)) {
				*err = "CLIENT_ERROR bad token in command line "
				       "format";
				bad = true;
			}
			break;
		case 'T':
			if (!flag_s32(st, k, &f->exptime)) {
				*err = "CLIENT_ERROR bad token in command line "
				       "format";
				bad = true;
			} else {
				f->new_ttl = true;
			}
			break;
		case 'R':
			if (!flag_s32(st, k, &f->recache)) {
				*err = "CLIENT_ERROR bad token in command line "
				       "format";
				bad = true;
			}
			break;
		case 'v':
			f->value = true;
			break;
		case 'u':
			f->no_update = true;
			break;
		case 'q':
			f->quiet = true;
			break;
		case 'I':
			f->stale = true;
			break;
		case 'F':
			if (!xkv_parse_u32(k->p + 1, k->n - 1, &f->cflags))
				bad = true;
			break;
		case 'C':
			if (!xkv_parse_u64(k->p + 1, k->n - 1, &f->req_cas)) {
				*err = "CLIENT_ERROR bad token in command line "
				       "format";
				bad = true;
			} else {
				f->has_cas = true;
			}
			break;
		case 'M':
			if (k->n != 2) {
				*err = "CLIENT_ERROR incorrect length for M "
				       "token";
				bad = true;
			} else {
				f->mode = k->p[1];
			}
			break;
		case 'J':
			if (!xkv_parse_u64(k->p + 1, k->n - 1, &f->initial)) {
				*err = "CLIENT_ERROR invalid numeric initial "
				       "value";
				bad = true;
			}
			break;
		case 'D':
			if (!xkv_parse_u64(k->p + 1, k->n - 1, &f->delta)) {
				*err = "CLIENT_ERROR invalid numeric delta "
				       "value";
				bad = true;
			}
			break;
		case 'l': case 'h': case 'O': case 'P': case 'L':
		case 'k': case 's': case 't': case 'c': case 'f':
			break;
		default:
			*err = "CLIENT_ERROR invalid flag";
			return -1;
		}
	}
	return bad ? -1 : 0;
}

/* " k" and a key of @nkey bytes, base64 and " b" included */
static size_t key_max(size_t nkey)
{
	return 2 + (nkey + 2) / 3 * 4 + 2;
}

/*
 * The most a reply line (and ma's value) to the flags t[from..nt) can
 * take: reserved before a lock is taken, and no more, since a UDP reply's
 * room is its request's budget.
 */
static size_t hdr_max(const struct xkv_tok *t, u32 nt, u32 from, size_t nkey)
{
	size_t n = META_HDR_BASE;
	u32 i;

	for (i = from; i < nt; i++) {
		if (t[i].p[0] == 'O')
			n += 1 + t[i].n;
		else if (t[i].p[0] == 'k')
			n += key_max(nkey);
		else
			n += META_NUM_MAX;
	}
	return n;
}

/* make room for @n bytes of reply before taking a lock */
static bool hdr_room(struct xkv_meta_io *io, size_t n)
{
	return !xkv_buf_reserve(io->out, n);
}

static char *out_tail(struct xkv_meta_io *io)
{
	return io->out->data + io->out->len;
}

static void out_end(struct xkv_meta_io *io, char *p)
{
	io->out->len = (size_t)(p - io->out->data);
}

/*
 * What mg, md and ma check first: the token count, then the flags.
 * Return false when that answered the command (with @too_long, or with
 * @flag_err, NULL for the flag parser's own message).
 */
static bool meta_begin(struct xkv_meta_io *io, const struct xkv_tok *t,
		       u32 nt, struct mflags *f, const char *too_long,
		       const char *flag_err)
{
	const char *err = "CLIENT_ERROR bad command line format";

	if (nt > META_TOKENS_MAX) {
		out_str(io, too_long);
		return false;
	}
	if (parse_flags(io->st, t, 2, nt, f, &err)) {
		out_str(io, flag_err ? flag_err : err);
		return false;
	}
	return true;
}

/* ---- mg ---- */

/* the " O..." and " k..." flags of a reply without an item */
static char *put_nohit_flags(char *p, const struct xkv_tok *t, u32 nt,
			     const struct mflags *f, bool *bad)
{
	u32 i;

	for (i = 2; i < nt; i++) {
		if (t[i].p[0] == 'O') {
			p = put_opaque(p, &t[i], bad);
			if (*bad)
				return p;
		} else if (t[i].p[0] == 'k') {
			p = put_key(p, f->key, f->nkey, f->b64);
		}
	}
	return p;
}

static enum xkv_meta_res meta_get(struct xkv_meta_io *io,
				  const struct xkv_tok *t, u32 nt)
{
	struct xkv_store *st = io->st;
	struct mflags f = { 0 };
	struct xkv_item *it, *viv = NULL;
	bool created = false, won = false, ttl_set = false, bad = false;
	bool viv_failed = false;
	struct xkv_locked lk;
	size_t hdr;
	char *p;
	u32 i;
	int rc;

	if (!meta_begin(io, t, nt, &f, "CLIENT_ERROR options flags are too "
			"long", NULL))
		return XKV_META_DONE;
	hdr = hdr_max(t, nt, 2, f.nkey);
	if (!hdr_room(io, hdr))
		return XKV_META_DONE;
	for (;;) {
		size_t need;

		it = xkv_item_lock(st, f.key, f.nkey, &lk);
		if (!it && f.vivify && !viv && !viv_failed) {
			int e;

			/* allocate unlocked (it may sleep), then look again */
			xkv_item_unlock(st, &lk);
			viv = xkv_item_alloc(st, f.key, f.nkey, 0, 0, 0, &e);
			/* no room: a plain miss, as memcached */
			viv_failed = !viv;
			continue;
		}
		if (!it || !f.value)
			break;
		need = hdr + (size_t)it->nbytes + 2;
		if (xkv_buf_room(io->out, need))
			break;
		/* a value: its room is taken under the budget, unlocked */
		xkv_item_unlock(st, &lk);
		io->out->strict = true;
		rc = xkv_buf_reserve(io->out, need);
		io->out->strict = false;
		if (rc == -ENOBUFS) {
			if (viv)
				xkv_item_free(st, viv);
			return XKV_META_AGAIN;
		}
		if (rc) {
			io->out->oom = false;
			if (viv)
				xkv_item_free(st, viv);
			out_str(io, "SERVER_ERROR out of memory writing get "
				    "response");
			return XKV_META_DONE;
		}
	}
	/* memcached does not mark a vivified item's key as base64 */
	if (!it && viv) {
		do_xkv_item_link(st, &lk, NULL, viv);
		it = viv;
		viv = NULL;
		created = true;
	}
	io->ts->get_expired += lk.expired;
	io->ts->get_flushed += lk.flushed;
	p = out_tail(io);
	if (!it) {
		io->ts->cmd_get++;
		io->ts->get_misses++;
		p = put(p, "EN", 2);
		p = put_nohit_flags(p, t, nt, &f, &bad);
		xkv_item_unlock(st, &lk);
		if (bad) {
			out_str(io, "CLIENT_ERROR opaque token too long");
		} else if (!f.quiet) {
			out_end(io, put(p, "\r\n", 2));
		}
		goto out;
	}
	if (f.value) {
		p = put_u64(put(p, "VA ", 3), it->nbytes);
	} else {
		p = put(p, "HD", 2);
	}
	for (i = 2; i < nt && !bad; i++) {
		switch (t[i].p[0]) {
		case 'T':
			ttl_set = true;
			OS_WRITE_ONCE(it->exptime, f.exptime);
			do_xkv_item_changed(st, it);
			break;
		case 'N':
			if (created) {
				OS_WRITE_ONCE(it->exptime, f.autoviv);
				do_xkv_item_changed(st, it);
				won = true;
			}
			break;
		case 'R':
			if (!(it->iflags & XKV_IT_WON) && !created &&
			    it->exptime && it->exptime < f.recache)
				won = true;
			break;
		case 's':
			p = put_u64(put_flag(p, 's'), it->nbytes);
			break;
		case 't':
			p = put_ttl(p, it, lk.now);
			break;
		case 'c':
			p = put_u64(put_flag(p, 'c'), it->cas);
			break;
		case 'f':
			p = put_u64(put_flag(p, 'f'), it->flags);
			break;
		case 'l':
			p = put_u64(put_flag(p, 'l'),
				    (u32)((u32)lk.now - it->atime));
			break;
		case 'h':
			p = put(put_flag(p, 'h'),
				it->iflags & XKV_IT_FETCHED ? "1" : "0", 1);
			break;
		case 'O':
			p = put_opaque(p, &t[i], &bad);
			break;
		case 'k':
			p = put_key(p, xkv_item_key(it), it->nkey,
				    it->iflags & XKV_IT_KEY_B64);
			break;
		}
	}
	if (bad) {
		xkv_item_unlock(st, &lk);
		out_str(io, "CLIENT_ERROR opaque token too long");
		goto out;
	}
	/* Z: a token went out already; X: stale, and the first asker wins */
	if (it->iflags & XKV_IT_WON)
		p = put_flag(p, 'Z');
	if (it->iflags & XKV_IT_STALE) {
		p = put_flag(p, 'X');
		if (!(it->iflags & XKV_IT_WON))
			won = true;
	}
	if (won) {
		p = put_flag(p, 'W');
		do_xkv_item_won(st, it);
	}
	p = put(p, "\r\n", 2);
	if (f.value) {
		p = put(p, xkv_item_value(it), it->nbytes);
		p = put(p, "\r\n", 2);
	}
	out_end(io, p);
	if (ttl_set) {
		io->ts->cmd_touch++;
		io->ts->touch_hits++;
	} else {
		io->ts->cmd_get++;
		io->ts->get_hits++;
	}
	if (!f.no_update)
		do_xkv_item_bump(st, &lk, it);
	xkv_item_unlock(st, &lk);
out:
	if (viv)
		xkv_item_free(st, viv);
	return XKV_META_DONE;
}

/* ---- ms ---- */

static enum xkv_meta_res meta_set(struct xkv_meta_io *io,
				  const struct xkv_tok *t, u32 nt,
				  struct xkv_meta_set *ms,
				  struct xkv_item **itp, u64 *swallow)
{
	struct xkv_store *st = io->st;
	const char *err = "CLIENT_ERROR bad command line format";
	struct mflags f = { 0 };
	enum xkv_store_op op = XKV_OP_SET;
	struct xkv_item *it;
	bool bad = false;
	s32 vlen;
	u32 i;
	int e;

	if (nt == 2) {
		out_str(io, err);
		return XKV_META_DONE;
	}
	if (nt > META_TOKENS_MAX) {
		out_str(io, "CLIENT_ERROR options flags too long");
		return XKV_META_DONE;
	}
	if (!xkv_parse_s32(t[2].p, t[2].n, &vlen) || vlen < 0 ||
	    vlen > 0x7fffffff - 2) {
		out_str(io, err);
		return XKV_META_DONE;
	}
	/* from here on an error swallows the value */
	*swallow = (u64)vlen + 2;
	if (parse_flags(st, t, 3, nt, &f, &err))
		goto refuse;
	os_memset(ms, 0, sizeof(*ms));
	for (i = 3; i < nt; i++) {
		char c = t[i].p[0];

		if (c == 'O') {
			if (!opaque_ok(&t[i])) {
				err = "CLIENT_ERROR opaque token too long";
				bad = true;
				continue;
			}
			os_memcpy(ms->opaque, t[i].p, t[i].n);
			ms->nopaque = (u8)t[i].n;
		}
		if (c == 'O' || c == 'k' || c == 'c')
			ms->ret[ms->nret++] = c;
	}
	switch (f.mode) {
	case 0:
	case 'S':
		break;
	case 'E':
		op = XKV_OP_ADD;
		break;
	case 'A':
		op = XKV_OP_APPEND;
		break;
	case 'P':
		op = XKV_OP_PREPEND;
		break;
	case 'R':
		op = XKV_OP_REPLACE;
		break;
	default:
		err = "CLIENT_ERROR invalid mode for ms M token";
		goto refuse;
	}
	/* a CAS value turns set and replace into cas */
	if (f.has_cas && (op == XKV_OP_SET || op == XKV_OP_REPLACE))
		op = XKV_OP_CAS;
	if (bad)
		goto refuse;
	it = xkv_item_alloc(st, f.key, f.nkey, f.cflags, f.exptime,
			    (u32)vlen, &e);
	if (!it) {
		if (xkv_item_alloc_failed(st, io->ts, f.key, f.nkey, e, true))
			err = "SERVER_ERROR object too large for cache";
		else
			err = "SERVER_ERROR out of memory storing object";
		goto refuse;
	}
	if (f.b64)
		do_xkv_item_set_flags(it, XKV_IT_KEY_B64, 0);
	ms->op = (u8)op;
	ms->quiet = f.quiet;
	ms->stale = f.stale && op == XKV_OP_CAS;
	ms->b64 = f.b64;
	ms->req_cas = f.has_cas ? f.req_cas : 0;
	io->ts->cmd_set++;
	*itp = it;
	return XKV_META_NREAD;
refuse:
	out_str(io, err);
	return XKV_META_SWALLOW;
}

/* run the store itself (write.c); *@cas is the stored item's CAS */
static enum xkv_res set_store(struct xkv_meta_io *io,
			      const struct xkv_meta_set *ms,
			      struct xkv_item *it, u64 *cas)
{
	struct xkv_store_req r = {
		.op = ms->op, .req_cas = ms->req_cas, .stale = ms->stale,
	};
	enum xkv_res res = xkv_item_store_ex(io->st, it, &r);

	if (r.op == XKV_OP_CAS)
		xkv_count_cas(io->ts, res);
	*cas = r.cas;
	return res;
}

void xkv_meta_set_done(struct xkv_meta_io *io, const struct xkv_meta_set *ms,
		       struct xkv_item *it, bool chunk_ok)
{
	bool b64 = ms->b64;
	char key[XKV_KEY_MAX];
	size_t nkey = it->nkey;
	enum xkv_res res;
	const char *code;
	u64 cas = 0;
	char *p;
	u32 i;

	if (!chunk_ok) {
		xkv_item_free(io->st, it);
		out_str(io, "CLIENT_ERROR bad data chunk");
		return;
	}
	os_memcpy(key, xkv_item_key(it), nkey);
	if (!hdr_room(io, 2 + 1 + ms->nopaque + key_max(nkey) +
			  META_NUM_MAX + 2)) {
		xkv_item_free(io->st, it);
		return;
	}
	res = set_store(io, ms, it, &cas);
	switch (res) {
	case XKV_STORED:
		if (ms->quiet)
			return;
		code = "HD";
		break;
	case XKV_EXISTS:
		code = "EX";
		break;
	case XKV_NOT_FOUND:
		code = "NF";
		break;
	default:
		code = "NS";
		break;
	}
	p = put(out_tail(io), code, 2);
	for (i = 0; i < ms->nret; i++) {
		if (ms->ret[i] == 'O')
			p = put(put(p, " ", 1), ms->opaque, ms->nopaque);
		else if (ms->ret[i] == 'k')
			p = put_key(p, key, nkey, b64);
		else
			p = put_u64(put_flag(p, 'c'), cas);
	}
	out_end(io, put(p, "\r\n", 2));
}

/* ---- md ---- */

static enum xkv_meta_res meta_delete(struct xkv_meta_io *io,
				     const struct xkv_tok *t, u32 nt)
{
	struct mflags f = { 0 };
	const char *code = "HD";
	struct xkv_delete_req d;
	bool bad = false;
	char *p;

	if (!meta_begin(io, t, nt, &f, "CLIENT_ERROR options flags too long",
			"CLIENT_ERROR invalid or duplicate flag"))
		return XKV_META_DONE;
	if (!hdr_room(io, hdr_max(t, nt, 2, f.nkey)))
		return XKV_META_DONE;
	/* the code goes in front once known */
	p = put_nohit_flags(out_tail(io) + 2, t, nt, &f, &bad);
	if (bad) {
		out_str(io, "CLIENT_ERROR opaque token too long");
		return XKV_META_DONE;
	}
	d = (struct xkv_delete_req){
		.check_cas = f.has_cas, .req_cas = f.req_cas,
		.invalidate = f.stale, .new_ttl = f.new_ttl,
		.exptime = f.exptime,
	};
	switch (xkv_item_delete_ex(io->st, f.key, f.nkey, &d)) {
	case XKV_NOT_FOUND:
		io->ts->delete_misses++;
		code = "NF";
		break;
	case XKV_EXISTS:
		io->ts->delete_misses++;
		code = "EX";
		break;
	default:
		/* an invalidation is not counted as a delete */
		io->ts->delete_hits += !f.stale;
		if (f.quiet)
			return XKV_META_DONE;
		break;
	}
	os_memcpy(out_tail(io), code, 2);
	out_end(io, put(p, "\r\n", 2));
	return XKV_META_DONE;
}

/* ---- ma ---- */

static enum xkv_meta_res meta_arith(struct xkv_meta_io *io,
				    const struct xkv_tok *t, u32 nt)
{
	struct xkv_store *st = io->st;
	struct mflags f = { .delta = 1 };
	struct xkv_arith_req a = { .incr = true };
	struct xkv_locked lk;
	struct xkv_item *it;
	enum xkv_res res;
	bool bad = false;
	char *p;
	u32 i;

	if (!meta_begin(io, t, nt, &f, "CLIENT_ERROR options flags too long",
			"CLIENT_ERROR invalid or duplicate flag"))
		return XKV_META_DONE;
	switch (f.mode) {
	case 0:
	case 'I':
	case '+':
		break;
	case 'D':
	case '-':
		a.incr = false;
		break;
	default:
		out_str(io, "CLIENT_ERROR invalid mode for ma M token");
		return XKV_META_DONE;
	}
	if (!hdr_room(io, hdr_max(t, nt, 2, f.nkey)))
		return XKV_META_DONE;
	/* a created item gets N's TTL from the flag loop, as memcached */
	a.delta = f.delta;
	a.req_cas = f.req_cas;
	a.create = f.vivify;
	a.initial = f.initial;
	it = xkv_item_arith_lock(st, f.key, f.nkey, &a, &lk, &res);
	if (res == XKV_NON_NUMERIC || res == XKV_NO_MEMORY) {
		xkv_item_unlock(st, &lk);
		if (res == XKV_NON_NUMERIC)
			out_str(io, "CLIENT_ERROR cannot increment or "
				    "decrement non-numeric value");
		else
			out_str(io, a.found ? "SERVER_ERROR out of memory" :
				"SERVER_ERROR Out of memory allocating new "
				"item");
		return XKV_META_DONE;
	}
	xkv_count_arith(io->ts, a.incr, res, a.created);
	p = out_tail(io);
	if (!it) {
		xkv_item_unlock(st, &lk);
		p = put(p, res == XKV_EXISTS ? "EX" : "NF", 2);
		p = put_nohit_flags(p, t, nt, &f, &bad);
		if (bad)
			out_str(io, "CLIENT_ERROR opaque token too long");
		else
			out_end(io, put(p, "\r\n", 2));
		return XKV_META_DONE;
	}
	if (f.value)
		p = put_u64(put(p, "VA ", 3), a.nres);
	else
		p = put(p, "HD", 2);
	for (i = 2; i < nt && !bad; i++) {
		switch (t[i].p[0]) {
		case 'c':
			p = put_u64(put_flag(p, 'c'), it->cas);
			break;
		case 't':
			p = put_ttl(p, it, lk.now);
			break;
		case 'T':
			do_xkv_item_touch(st, it, f.exptime);
			break;
		case 'N':
			if (a.created)
				do_xkv_item_touch(st, it, f.autoviv);
			break;
		case 'O':
			p = put_opaque(p, &t[i], &bad);
			break;
		case 'k':
			p = put_key(p, f.key, f.nkey, f.b64);
			break;
		}
	}
	xkv_item_unlock(st, &lk);
	if (bad) {
		out_str(io, "CLIENT_ERROR opaque token too long");
		return XKV_META_DONE;
	}
	if (f.value)
		p = put(put(p, "\r\n", 2), a.res, a.nres);
	/* quiet: a plain success says nothing, a creation still answers */
	if (f.quiet && !a.created)
		return XKV_META_DONE;
	out_end(io, put(p, "\r\n", 2));
	return XKV_META_DONE;
}

/* ---- me ---- */

static enum xkv_meta_res meta_debug(struct xkv_meta_io *io,
				    const struct xkv_tok *t, u32 nt)
{
	struct xkv_store *st = io->st;
	char kbuf[XKV_KEY_MAX];
	const char *key = t[1].p;
	size_t nkey = t[1].n;
	struct xkv_locked lk;
	struct xkv_item *it;
	char *p;

	if (nt >= 3 && t[2].n == 1 && t[2].p[0] == 'b') {
		nkey = b64_decode(t[1].p, t[1].n, kbuf);
		key = kbuf;
		if (!nkey) {
			out_str(io, "CLIENT_ERROR bad command line format");
			return XKV_META_DONE;
		}
	}
	/* "ME ", the key, and its numbers: at most 130 bytes */
	if (!hdr_room(io, key_max(nkey) + 130))
		return XKV_META_DONE;
	it = xkv_item_lock(st, key, nkey, &lk);
	if (!it) {
		xkv_item_unlock(st, &lk);
		out_str(io, "EN");
		return XKV_META_DONE;
	}
	p = put(out_tail(io), "ME ", 3);
	if (it->iflags & XKV_IT_KEY_B64)
		p = b64_encode(p, (const u8 *)xkv_item_key(it), it->nkey);
	else
		p = put(p, xkv_item_key(it), it->nkey);
	/* exp= is now - exptime: negative while the item lives */
	p = put(p, " exp=", 5);
	if (!it->exptime) {
		p = put(p, "-1", 2);
	} else if (it->exptime > lk.now) {
		p = put_u64(put(p, "-", 1), it->exptime - lk.now);
	} else {
		p = put_u64(p, lk.now - it->exptime);
	}
	p = put_u64(put(p, " la=", 4), (u32)((u32)lk.now - it->atime));
	p = put_u64(put(p, " cas=", 5), it->cas);
	p = put(p, " fetch=", 7);
	p = it->iflags & XKV_IT_FETCHED ? put(p, "yes", 3) : put(p, "no", 2);
	/* memcached numbers its classes from 1 */
	p = put_u64(put(p, " cls=", 5), (u64)it->clsid + 1);
	p = put_u64(put(p, " size=", 6), xkv_item_total(it->nkey, it->nbytes));
	xkv_item_unlock(st, &lk);
	out_end(io, put(p, "\r\n", 2));
	return XKV_META_DONE;
}

/* ---- dispatch ---- */

enum xkv_meta_res xkv_meta_line(struct xkv_meta_io *io,
				const struct xkv_tok *t, u32 nt,
				struct xkv_meta_set *ms, struct xkv_item **it,
				u64 *swallow)
{
	char c = t[0].p[1];

	if (c == 'n') {
		out_str(io, "MN");
		return XKV_META_DONE;
	}
	if (c != 'g' && c != 's' && c != 'd' && c != 'a' && c != 'e')
		return XKV_META_ERROR;
	if (c == 'e') {
		if (nt < 2 || t[1].n > XKV_KEY_MAX) {
			out_str(io, "CLIENT_ERROR bad command line format");
			return XKV_META_DONE;
		}
		return meta_debug(io, t, nt);
	}
	if (nt < 2)
		return XKV_META_ERROR;
	if (t[1].n > XKV_KEY_MAX) {
		out_str(io, "CLIENT_ERROR bad command line format");
		return XKV_META_DONE;
	}
	switch (c) {
	case 'g':
		return meta_get(io, t, nt);
	case 's':
		return meta_set(io, t, nt, ms, it, swallow);
	case 'd':
		return meta_delete(io, t, nt);
	default:
		return meta_arith(io, t, nt);
	}
}
