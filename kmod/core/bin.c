// SPDX-License-Identifier: GPL-2.0
/*
 * bin.c - memcached's binary protocol: parse, run, reply.
 *
 * What a client sees is memcached 1.6.18's: which length checks answer
 * "Invalid arguments" and hang up, the statuses and their messages, the
 * CAS in every reply, quiet commands (a quiet command answers only an
 * error; a quiet get's miss says nothing), the opaque echoed. A few
 * With -S (settings.sasl) a client must first authenticate with SASL
 * PLAIN against the "user:password" lines of memcached's
 * MEMCACHED_SASL_PWDB file; until then only the SASL opcodes and version
 * are served, anything else gets "Auth failure." and a hang-up. A few
 * deliberate differences, none a client that follows the protocol meets:
 * an unknown opcode's body is skipped exactly (memcached skips its extras
 * and key twice), a header whose lengths are refused is answered as soon
 * as the header is in (memcached waits for the extras and key first), and
 * verbosity (0x1b), which 1.6 no longer implements, stays unknown as there.
 *
 * Every write goes through the store's write commands (write.c, the same
 * ones the text and meta protocols run), which rewrite or clear the key's
 * hot slot before they return, so before the reply.
 */
#include "bin.h"
#include "items.h"
#include "session.h"
#include "stats.h"
#include "util.h"

/* a header, the largest extras and the largest key we accept */
#define BIN_HEAD_MAX (XKV_BIN_HDR_LEN + 255 + XKV_KEY_MAX)
/* room a packet's reply needs before it runs (budget.h); stats more */
#define BIN_REPLY_ROOM 1024
#define BIN_STATS_ROOM (64 * 1024)
/* SASL: memcached's longest mechanism name; the most auth data we take */
#define BIN_SASL_MECH_MAX 32
#define BIN_SASL_DATA_MAX 1024
/*
 * memcached runs the packet that woke it and then up to its
 * reqs_per_event (20) more before it sends the replies it has; a bad
 * magic loses the replies it has not sent (bin_bad_magic())
 */
#define BIN_REQS_PER_EVENT 20

enum bin_state {
	BIN_HEAD,
	BIN_NREAD,
	BIN_SWALLOW,
	BIN_SASL,
};

/* a request's header, in host order */
struct bin_req {
	u8 opcode;
	u8 cmd;		/* the opcode without its quiet form */
	bool quiet;
	u8 extlen;
	u16 keylen;
	u32 bodylen;
	u32 opaque;	/* wire order, echoed */
	u64 cas;
	const u8 *ext;
	const char *key;
};

struct xkv_bin {
	u8 state;
	u32 hlen;
	u8 head[BIN_HEAD_MAX];
	/* this input's packets run; its output from @sent on is unsent */
	u32 ran;
	size_t sent;
	/* the storage command whose value is being read */
	struct bin_req req;
	char key[XKV_KEY_MAX];
	enum xkv_store_op op;
	struct xkv_item *it;
	u32 got;
	u64 swallow;
	/* SASL (-S): authenticated yet; the auth data being read */
	bool authed;
	u32 sasl_len;
	char sasl[BIN_SASL_DATA_MAX];
};

static u16 get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 get_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static u64 get_be64(const u8 *p)
{
	return (u64)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static void put_be32(u8 *p, u32 v)
{
	put_be16(p, (u16)(v >> 16));
	put_be16(p + 2, (u16)v);
}

static void put_be64(u8 *p, u64 v)
{
	put_be32(p, (u32)(v >> 32));
	put_be32(p + 4, (u32)v);
}

struct xkv_bin *xkv_bin_new(void)
{
	return os_zalloc(sizeof(struct xkv_bin));
}

void xkv_bin_reset(struct xkv_bin *b, struct xkv_store *st)
{
	if (b->it) {
		xkv_item_free(st, b->it);
		b->it = NULL;
	}
	b->state = BIN_HEAD;
	b->hlen = 0;
	b->swallow = 0;
}

void xkv_bin_free(struct xkv_bin *b, struct xkv_store *st)
{
	if (!b)
		return;
	xkv_bin_reset(b, st);
	os_free(b);
}

bool xkv_bin_between(const struct xkv_bin *b)
{
	return b->state == BIN_HEAD && !b->hlen;
}

/* ---- replies ---- */

/* a response header at @p */
static void put_hdr(u8 *p, const struct bin_req *r, u16 status, u8 extlen,
		    u16 keylen, u32 bodylen, u64 cas)
{
	p[0] = XKV_BIN_RES;
	p[1] = r->opcode;
	put_be16(p + 2, keylen);
	p[4] = extlen;
	p[5] = 0;
	put_be16(p + 6, status);
	put_be32(p + 8, bodylen);
	os_memcpy(p + 12, &r->opaque, 4);
	put_be64(p + 16, cas);
}

/* a whole response with a body of @n bytes at @body (no extras, no key) */
static void respond(struct xkv_bin_io *io, const struct bin_req *r,
		    u16 status, const void *body, size_t n, u64 cas)
{
	u8 hdr[XKV_BIN_HDR_LEN];

	put_hdr(hdr, r, status, 0, 0, (u32)n, cas);
	xkv_buf_add(io->out, hdr, sizeof(hdr));
	if (n)
		xkv_buf_add(io->out, body, n);
}

/* success: quiet commands say nothing */
static void reply_ok(struct xkv_bin_io *io, const struct bin_req *r,
		     const void *body, size_t n, u64 cas)
{
	if (!r->quiet)
		respond(io, r, XKV_BIN_OK, body, n, cas);
}

/* an error, quiet or not, with memcached's message for it */
static void reply_err(struct xkv_bin_io *io, const struct bin_req *r,
		      u16 status, const char *msg)
{
	if (!msg) {
		switch (status) {
		case XKV_BIN_ENOMEM:
			msg = "Out of memory";
			break;
		case XKV_BIN_UNKNOWN_COMMAND:
			msg = "Unknown command";
			break;
		case XKV_BIN_KEY_ENOENT:
			msg = "Not found";
			break;
		case XKV_BIN_EINVAL:
			msg = "Invalid arguments";
			break;
		case XKV_BIN_KEY_EEXISTS:
			msg = "Data exists for key.";
			break;
		case XKV_BIN_E2BIG:
			msg = "Too large.";
			break;
		case XKV_BIN_DELTA_BADVAL:
			msg = "Non-numeric server-side value for incr or decr";
			break;
		case XKV_BIN_NOT_STORED:
			msg = "Not stored.";
			break;
		default:
			msg = "Auth failure.";
			break;
		}
	}
	respond(io, r, status, msg, os_strlen(msg), 0);
}

/* the status of a store result that is an error */
static u16 res_status(enum xkv_res res)
{
	switch (res) {
	case XKV_EXISTS:
		return XKV_BIN_KEY_EEXISTS;
	case XKV_NOT_FOUND:
		return XKV_BIN_KEY_ENOENT;
	case XKV_NON_NUMERIC:
		return XKV_BIN_DELTA_BADVAL;
	case XKV_NOT_STORED:
		return XKV_BIN_NOT_STORED;
	case XKV_TOO_LARGE:
		return XKV_BIN_E2BIG;
	default:
		return XKV_BIN_ENOMEM;
	}
}

/* memcached answers a malformed packet and hangs up */
static void protocol_error(struct xkv_bin_io *io, const struct bin_req *r)
{
	reply_err(io, r, XKV_BIN_EINVAL, NULL);
	io->closing = true;
}

/* ---- get, getk, gat, gatk, touch and their quiet forms ---- */

struct get_put {
	const struct bin_req *r;
	bool with_key;
	bool with_value;
};

/* header, flags, key?, value?: the whole hit reply */
static size_t get_put(const struct xkv_item *it, char *dst, void *arg)
{
	const struct get_put *gp = arg;
	u16 nkey = gp->with_key ? it->nkey : 0;
	u32 nval = gp->with_value ? it->nbytes : 0;
	u8 *p = (u8 *)dst;

	if (!dst)
		return XKV_BIN_HDR_LEN + 4 + (size_t)nkey + nval;
	put_hdr(p, gp->r, XKV_BIN_OK, 4, nkey, 4 + (u32)nkey + nval, it->cas);
	put_be32(p + XKV_BIN_HDR_LEN, it->flags);
	p += XKV_BIN_HDR_LEN + 4;
	os_memcpy(p, it->data, nkey);
	os_memcpy(p + nkey, it->data + it->nkey, nval);
	return XKV_BIN_HDR_LEN + 4 + (size_t)nkey + nval;
}

static void count_get(struct xkv_thread_stats *ts, bool touch, int hit,
		      const struct xkv_get_req *req)
{
	if (touch) {
		ts->cmd_touch++;
		if (hit)
			ts->touch_hits++;
		else
			ts->touch_misses++;
	} else {
		ts->cmd_get++;
		if (hit)
			ts->get_hits++;
		else
			ts->get_misses++;
	}
	ts->get_expired += req->expired;
	ts->get_flushed += req->flushed;
}

/* Return: false when the budget is short and @can_pause (nothing done) */
static bool run_get(struct xkv_bin_io *io, const struct bin_req *r,
		    bool can_pause)
{
	bool touch = r->cmd != XKV_BIN_GET && r->cmd != XKV_BIN_GETK;
	struct get_put gp = {
		.r = r,
		.with_key = r->cmd == XKV_BIN_GETK || r->cmd == XKV_BIN_GATK,
		.with_value = r->cmd != XKV_BIN_TOUCH,
	};
	struct xkv_get_req req = { .touch = touch };
	size_t start = io->out->len;
	int hit;

	if (touch)
		req.exptime = xkv_exptime(io->st, get_be32(r->ext));
	io->out->strict = can_pause && !io->udp;
	hit = xkv_item_read(io->st, r->key, r->keylen, &req, get_put, &gp,
			    io->out);
	io->out->strict = false;
	if (hit < 0 && !io->out->oom) {
		io->stalled = true;
		return false;
	}
	if (hit < 0) {
		io->out->len = start;
		io->out->oom = false;
		reply_err(io, r, XKV_BIN_ENOMEM,
			  "Out of memory writing get response");
		return true;
	}
	count_get(io->ts, touch, hit, &req);
	if (hit || r->quiet)
		return true;
	if (gp.with_key) {
		/* a getk miss: the key as the body, no message */
		u8 hdr[XKV_BIN_HDR_LEN];

		put_hdr(hdr, r, XKV_BIN_KEY_ENOENT, 0, r->keylen, r->keylen,
			0);
		xkv_buf_add(io->out, hdr, sizeof(hdr));
		xkv_buf_add(io->out, r->key, r->keylen);
	} else {
		reply_err(io, r, XKV_BIN_KEY_ENOENT, NULL);
	}
	return true;
}

/* ---- set, add, replace, append, prepend ---- */

static void complete_update(struct xkv_bin *b, struct xkv_bin_io *io)
{
	const struct bin_req *r = &b->req;
	struct xkv_item *it = b->it;
	enum xkv_res res;
	u64 cas = 0;

	b->it = NULL;
	b->state = BIN_HEAD;
	res = xkv_item_store_cas(io->st, it, b->op, r->cas, &cas);
	if (r->cas && b->op != XKV_OP_APPEND && b->op != XKV_OP_PREPEND)
		xkv_count_cas(io->ts, res);
	if (res == XKV_STORED)
		reply_ok(io, r, NULL, 0, cas);
	else if (res == XKV_EXISTS || res == XKV_NOT_FOUND)
		reply_err(io, r, res_status(res), NULL);
	else if (b->op == XKV_OP_ADD)
		reply_err(io, r, XKV_BIN_KEY_EEXISTS, NULL);
	else if (b->op == XKV_OP_REPLACE)
		reply_err(io, r, XKV_BIN_KEY_ENOENT, NULL);
	else
		reply_err(io, r, XKV_BIN_NOT_STORED, NULL);
}

static void start_update(struct xkv_bin *b, struct xkv_bin_io *io,
			 const struct bin_req *r)
{
	u32 vlen = r->bodylen - r->keylen - r->extlen;
	bool concat = r->cmd == XKV_BIN_APPEND || r->cmd == XKV_BIN_PREPEND;
	u32 flags = concat ? 0 : get_be32(r->ext);
	u32 exptime = concat ? 0 : xkv_exptime(io->st, get_be32(r->ext + 4));
	struct xkv_item *it;
	int err;

	switch (r->cmd) {
	case XKV_BIN_ADD:
		b->op = XKV_OP_ADD;
		break;
	case XKV_BIN_REPLACE:
		b->op = XKV_OP_REPLACE;
		break;
	case XKV_BIN_APPEND:
		b->op = XKV_OP_APPEND;
		break;
	case XKV_BIN_PREPEND:
		b->op = XKV_OP_PREPEND;
		break;
	default:
		b->op = XKV_OP_SET;
		break;
	}
	it = xkv_item_alloc(io->st, r->key, r->keylen, flags, exptime, vlen,
			    &err);
	if (!it) {
		if (xkv_item_alloc_failed(io->st, io->ts, r->key, r->keylen,
					  err, b->op == XKV_OP_SET))
			reply_err(io, r, XKV_BIN_E2BIG, NULL);
		else
			reply_err(io, r, XKV_BIN_ENOMEM,
				  "Out of memory allocating item");
		b->swallow = vlen;
		b->state = BIN_SWALLOW;
		return;
	}
	io->ts->cmd_set++;
	b->req = *r;
	b->req.ext = NULL;
	os_memcpy(b->key, r->key, r->keylen);
	b->req.key = b->key;
	b->it = it;
	b->got = 0;
	b->state = BIN_NREAD;
	if (!vlen)
		complete_update(b, io);
}

/* copy value bytes into the pending item */
static size_t bin_nread(struct xkv_bin *b, struct xkv_bin_io *io,
			const char *in, size_t len)
{
	struct xkv_item *it = b->it;
	size_t n = it->nbytes - b->got;

	if (n > len)
		n = len;
	os_memcpy(xkv_item_value(it) + b->got, in, n);
	b->got += (u32)n;
	if (b->got == it->nbytes)
		complete_update(b, io);
	return n;
}

/* ---- the other commands ---- */

static void run_delete(struct xkv_bin_io *io, const struct bin_req *r)
{
	switch (xkv_item_delete_cas(io->st, r->key, r->keylen, r->cas)) {
	case XKV_DELETED:
		io->ts->delete_hits++;
		reply_ok(io, r, NULL, 0, 0);
		break;
	case XKV_EXISTS:
		reply_err(io, r, XKV_BIN_KEY_EEXISTS, NULL);
		break;
	default:
		io->ts->delete_misses++;
		reply_err(io, r, XKV_BIN_KEY_ENOENT, NULL);
		break;
	}
}

static void run_arith(struct xkv_bin_io *io, const struct bin_req *r)
{
	u32 exp = get_be32(r->ext + 16);
	struct xkv_arith_req a = {
		.incr = r->cmd == XKV_BIN_INCR,
		.delta = get_be64(r->ext),
		.initial = get_be64(r->ext + 8),
		.req_cas = r->cas,
		.create = exp != XKV_BIN_ARITH_NO_CREATE,
	};
	enum xkv_res res;
	u8 val[8];

	if (a.create)
		a.exptime = xkv_exptime(io->st, exp);
	res = xkv_item_arith_ex(io->st, r->key, r->keylen, &a);
	xkv_count_arith(io->ts, a.incr, res, a.created);
	if (res == XKV_STORED) {
		put_be64(val, a.value);
		reply_ok(io, r, val, sizeof(val), a.cas);
		return;
	}
	if (res == XKV_NO_MEMORY || res == XKV_TOO_LARGE)
		reply_err(io, r, XKV_BIN_ENOMEM,
			  a.create ? "Out of memory allocating new item" :
				     "Out of memory incrementing value");
	else
		reply_err(io, r, res_status(res), NULL);
}

/* one "STAT <name> <value>\r\n" line as a stat packet */
static void stat_line(struct xkv_bin_io *io, const struct bin_req *r,
		      const char *p, size_t n)
{
	const char *name, *sp;
	u8 hdr[XKV_BIN_HDR_LEN];
	size_t nname;

	if (n < 5 || os_memcmp(p, "STAT ", 5))
		return;
	name = p + 5;
	sp = os_memchr(name, ' ', n - 5);
	nname = sp ? (size_t)(sp - name) : n - 5;
	if (nname > 0xffff)
		return;
	p = sp ? sp + 1 : name + nname;
	n -= (size_t)(p - (name - 5));
	put_hdr(hdr, r, XKV_BIN_OK, 0, (u16)nname, (u32)(nname + n), 0);
	xkv_buf_add(io->out, hdr, sizeof(hdr));
	xkv_buf_add(io->out, name, nname);
	xkv_buf_add(io->out, p, n);
}

static bool key_is(const struct bin_req *r, const char *s, bool prefix)
{
	size_t n = os_strlen(s);

	return (prefix ? r->keylen >= n : r->keylen == n) &&
	       !os_memcmp(r->key, s, n);
}

/*
 * The text reports, one packet per STAT line, then an empty packet where
 * the text says END (memcached ends sizes_enable and sizes_disable with
 * neither) and after a reset.
 */
static void run_stat(struct xkv_bin_io *io, const struct bin_req *r)
{
	struct xkv_buf text = { 0 };
	u8 hdr[XKV_BIN_HDR_LEN];
	bool end = false;
	size_t pos = 0;

	if (!r->keylen) {
		xkv_stats_general(io->st, &text);
	} else if (key_is(r, "reset", true)) {
		xkv_stats_reset(io->st);
		end = true;
	} else if (key_is(r, "settings", true)) {
		xkv_stats_settings(io->st, &text);
	} else if (key_is(r, "items", false)) {
		xkv_stats_items(io->st, &text);
	} else if (key_is(r, "slabs", false)) {
		xkv_stats_slabs(io->st, &text);
	} else if (!key_is(r, "conns", false) &&
		   xkv_stats_admin(io->st, r->key, r->keylen, &text)) {
		/* sizes, sizes_enable, sizes_disable; conns is text-only */
	} else {
		reply_err(io, r, XKV_BIN_KEY_ENOENT, NULL);
		return;
	}
	if (text.oom) {
		xkv_buf_release(&text);
		reply_err(io, r, XKV_BIN_ENOMEM,
			  "Out of memory generating stats");
		return;
	}
	while (pos < text.len) {
		const char *line = text.data + pos;
		const char *nl = os_memchr(line, '\n', text.len - pos);
		size_t n = nl ? (size_t)(nl - line) + 1 : text.len - pos;

		pos += n;
		if (n >= 2 && line[n - 2] == '\r')
			n -= 2;
		if (n == 3 && !os_memcmp(line, "END", 3))
			end = true;
		stat_line(io, r, line, n);
	}
	xkv_buf_release(&text);
	if (!end)
		return;
	put_hdr(hdr, r, XKV_BIN_OK, 0, 0, 0, 0);
	xkv_buf_add(io->out, hdr, sizeof(hdr));
}

static void run_flush(struct xkv_bin_io *io, const struct bin_req *r)
{
	u32 delay = r->extlen == 4 ? get_be32(r->ext) : 0;

	io->ts->cmd_flush++;
	xkv_flush_all(io->st, (s64)delay);
	reply_ok(io, r, NULL, 0, 0);
}

/* ---- SASL PLAIN (-S), binary over TCP only, as memcached ---- */

/* what a client may send before it has authenticated */
static bool sasl_free_op(u8 op)
{
	return op == XKV_BIN_SASL_LIST_MECHS || op == XKV_BIN_SASL_AUTH ||
	       op == XKV_BIN_SASL_STEP || op == XKV_BIN_VERSION;
}

/* PLAIN: [authzid] NUL authcid NUL password, authzid empty or authcid */
static bool sasl_plain_ok(struct xkv_store *st, const char *d,
			  size_t n)
{
	const char *z1 = os_memchr(d, '\0', n), *user, *z2;
	size_t nzid, nuser;

	if (!z1)
		return false;
	nzid = (size_t)(z1 - d);
	user = z1 + 1;
	z2 = os_memchr(user, '\0', n - nzid - 1);
	if (!z2)
		return false;
	nuser = (size_t)(z2 - user);
	if (!nuser || (nzid && (nzid != nuser || os_memcmp(d, user, nuser))))
		return false;
	return xkv_store_pwdb_ok(st, user, nuser, z2 + 1,
			    n - nzid - nuser - 2);
}

static void complete_sasl(struct xkv_bin *b, struct xkv_bin_io *io)
{
	const struct bin_req *r = &b->req;
	bool plain = r->keylen == 5 && !os_memcmp(r->key, "PLAIN", 5);

	b->state = BIN_HEAD;
	/* PLAIN is done in one step: a step has nothing to continue */
	if (r->cmd == XKV_BIN_SASL_AUTH && plain &&
	    sasl_plain_ok(io->st, b->sasl, b->sasl_len)) {
		b->authed = true;
		io->ts->auth_cmds++;
		respond(io, r, XKV_BIN_OK, "Authenticated", 13, 0);
	} else {
		io->ts->auth_cmds++;
		io->ts->auth_errors++;
		reply_err(io, r, XKV_BIN_AUTH_ERROR, NULL);
	}
}

static void start_sasl(struct xkv_bin *b, struct xkv_bin_io *io,
		       const struct bin_req *r)
{
	u32 vlen = r->bodylen - r->keylen;

	if (r->keylen > BIN_SASL_MECH_MAX || vlen > BIN_SASL_DATA_MAX) {
		reply_err(io, r, r->keylen > BIN_SASL_MECH_MAX ?
				 XKV_BIN_EINVAL : XKV_BIN_AUTH_ERROR, NULL);
		b->swallow = vlen;
		b->state = vlen ? BIN_SWALLOW : BIN_HEAD;
		return;
	}
	b->req = *r;
	b->req.ext = NULL;
	os_memcpy(b->key, r->key, r->keylen);
	b->req.key = b->key;
	b->sasl_len = 0;
	b->got = vlen;
	b->state = BIN_SASL;
	if (!vlen)
		complete_sasl(b, io);
}

/* copy auth data; Return: bytes used */
static size_t bin_sasl_read(struct xkv_bin *b, struct xkv_bin_io *io,
			    const char *in, size_t len)
{
	size_t n = b->got - b->sasl_len;

	if (n > len)
		n = len;
	os_memcpy(b->sasl + b->sasl_len, in, n);
	b->sasl_len += (u32)n;
	if (b->sasl_len == b->got)
		complete_sasl(b, io);
	return n;
}

/* an opcode we do not serve: say so, skip its body */
static void unknown_op(struct xkv_bin *b, struct xkv_bin_io *io,
		       const struct bin_req *r)
{
	reply_err(io, r, XKV_BIN_UNKNOWN_COMMAND, NULL);
	b->swallow = r->bodylen - r->keylen - r->extlen;
	if (b->swallow)
		b->state = BIN_SWALLOW;
}

/* the base command of a quiet opcode, or the opcode itself */
static u8 bin_cmd(u8 op, bool *quiet)
{
	static const u8 loud[][2] = {
		{ XKV_BIN_GETQ, XKV_BIN_GET },
		{ XKV_BIN_GETKQ, XKV_BIN_GETK },
		{ XKV_BIN_SETQ, XKV_BIN_SET },
		{ XKV_BIN_ADDQ, XKV_BIN_ADD },
		{ XKV_BIN_REPLACEQ, XKV_BIN_REPLACE },
		{ XKV_BIN_DELETEQ, XKV_BIN_DELETE },
		{ XKV_BIN_INCRQ, XKV_BIN_INCR },
		{ XKV_BIN_DECRQ, XKV_BIN_DECR },
		{ XKV_BIN_QUITQ, XKV_BIN_QUIT },
		{ XKV_BIN_FLUSHQ, XKV_BIN_FLUSH },
		{ XKV_BIN_APPENDQ, XKV_BIN_APPEND },
		{ XKV_BIN_PREPENDQ, XKV_BIN_PREPEND },
		{ XKV_BIN_GATQ, XKV_BIN_GAT },
		{ XKV_BIN_GATKQ, XKV_BIN_GATK },
	};
	size_t i;

	for (i = 0; i < sizeof(loud) / sizeof(loud[0]); i++) {
		if (loud[i][0] == op) {
			*quiet = true;
			return loud[i][1];
		}
	}
	*quiet = false;
	return op;
}

static void parse_hdr(const u8 *h, struct bin_req *r)
{
	r->opcode = h[1];
	r->cmd = bin_cmd(r->opcode, &r->quiet);
	r->keylen = get_be16(h + 2);
	r->extlen = h[4];
	r->bodylen = get_be32(h + 8);
	os_memcpy(&r->opaque, h + 12, 4);
	r->cas = get_be64(h + 16);
	r->ext = h + XKV_BIN_HDR_LEN;
	r->key = (const char *)r->ext + r->extlen;
}

/* lengths memcached refuses from the header alone: it hangs up */
static bool hdr_refused(const struct bin_req *r)
{
	return r->keylen > r->bodylen ||
	       (u32)r->keylen + r->extlen > r->bodylen ||
	       r->keylen > XKV_KEY_MAX;
}

/* bytes of the packet's head (header, extras, key) at @h, 24 known */
static u32 head_len(const u8 *h)
{
	struct bin_req r;

	parse_hdr(h, &r);
	if (hdr_refused(&r))
		return XKV_BIN_HDR_LEN;
	return XKV_BIN_HDR_LEN + r.extlen + r.keylen;
}

/*
 * Run the packet whose head is at @h. Return false when it must wait
 * for budget (only if @can_pause; nothing was done).
 */
static bool run_packet(struct xkv_bin *b, struct xkv_bin_io *io,
		       const u8 *h, bool can_pause)
{
	struct bin_req r;
	u32 ext, key, body;
	bool ok = false;

	parse_hdr(h, &r);
	ext = r.extlen;
	key = r.keylen;
	body = r.bodylen;
	if (key > body || key + ext > body) {
		reply_err(io, &r, XKV_BIN_UNKNOWN_COMMAND, NULL);
		io->closing = true;
		return true;
	}
	if (io->st->set.sasl && !b->authed && !sasl_free_op(r.opcode)) {
		reply_err(io, &r, XKV_BIN_AUTH_ERROR, NULL);
		io->closing = true;
		return true;
	}
	if (key > XKV_KEY_MAX) {
		protocol_error(io, &r);
		return true;
	}
	switch (r.cmd) {
	case XKV_BIN_VERSION:
		ok = !ext && !key && !body;
		if (ok)
			reply_ok(io, &r, XKV_VERSION, os_strlen(XKV_VERSION),
				 0);
		break;
	case XKV_BIN_NOOP:
		ok = !ext && !key && !body;
		if (ok)
			reply_ok(io, &r, NULL, 0, 0);
		break;
	case XKV_BIN_QUIT:
		ok = !ext && !key && !body;
		if (ok) {
			reply_ok(io, &r, NULL, 0, 0);
			io->closing = true;
		}
		break;
	case XKV_BIN_FLUSH:
		ok = !key && body == ext && (!ext || ext == 4);
		if (ok)
			run_flush(io, &r);
		break;
	case XKV_BIN_SET:
	case XKV_BIN_ADD:
	case XKV_BIN_REPLACE:
		ok = ext == XKV_BIN_EXT_STORE && key && body >= key + ext;
		if (ok)
			start_update(b, io, &r);
		break;
	case XKV_BIN_APPEND:
	case XKV_BIN_PREPEND:
		ok = key && !ext;
		if (ok)
			start_update(b, io, &r);
		break;
	case XKV_BIN_GET:
	case XKV_BIN_GETK:
		ok = !ext && body == key && key;
		if (ok)
			return run_get(io, &r, can_pause);
		break;
	case XKV_BIN_TOUCH:
	case XKV_BIN_GAT:
	case XKV_BIN_GATK:
		ok = ext == XKV_BIN_EXT_TOUCH && key;
		if (ok)
			return run_get(io, &r, can_pause);
		break;
	case XKV_BIN_DELETE:
		ok = key && !ext && body == key;
		if (ok)
			run_delete(io, &r);
		break;
	case XKV_BIN_INCR:
	case XKV_BIN_DECR:
		ok = key && ext == XKV_BIN_EXT_ARITH && body == key + ext;
		if (ok)
			run_arith(io, &r);
		break;
	case XKV_BIN_STAT:
		ok = !ext;
		if (ok)
			run_stat(io, &r);
		break;
	case XKV_BIN_SASL_LIST_MECHS:
		/* without -S memcached does not know the SASL opcodes */
		if (!io->st->set.sasl) {
			unknown_op(b, io, &r);
			return true;
		}
		ok = !ext && !key && !body;
		if (ok)
			respond(io, &r, XKV_BIN_OK, "PLAIN", 5, 0);
		break;
	case XKV_BIN_SASL_AUTH:
	case XKV_BIN_SASL_STEP:
		if (!io->st->set.sasl) {
			unknown_op(b, io, &r);
			return true;
		}
		ok = !ext && key;
		if (ok)
			start_sasl(b, io, &r);
		break;
	default:
		unknown_op(b, io, &r);
		return true;
	}
	if (!ok)
		protocol_error(io, &r);
	return true;
}

/*
 * TCP: a packet starts only while the output is under XKV_SESS_OUT_HIGH
 * and the budget has room for its reply.
 */
static bool may_start(struct xkv_bin_io *io, const char *in, size_t len)
{
	size_t room = BIN_REPLY_ROOM;
	int err;

	if (io->udp)
		return true;
	if (xkv_buf_pending(io->out) > XKV_SESS_OUT_HIGH)
		return false;
	if (!io->out->budget)
		return true;
	if (len > 1 && (u8)in[1] == XKV_BIN_STAT)
		room = BIN_STATS_ROOM;
	io->out->strict = true;
	err = xkv_buf_reserve(io->out, room);
	io->out->strict = false;
	if (err == -ENOBUFS) {
		io->stalled = true;
		return false;
	}
	return true;
}

/*
 * A full header whose magic is not a request's: memcached hangs up
 * without a word, and the replies it has not sent yet (those of the
 * packets that came in with this one, up to its reqs_per_event) are
 * lost with the connection. Return: @len, every byte used.
 */
static size_t bin_bad_magic(struct xkv_bin *b, struct xkv_bin_io *io,
			    size_t len)
{
	b->hlen = 0;
	if (io->out->len > b->sent)
		io->out->len = b->sent;
	io->closing = true;
	return len;
}

/*
 * A packet's head, from its first byte. When all of it is in @in it runs
 * from there and may wait (the bytes stay unused); in pieces it is copied
 * and runs once whole. As memcached, a header is judged once its 24
 * bytes are in: fewer, whatever they are, wait for the rest.
 */
static size_t bin_head(struct xkv_bin *b, struct xkv_bin_io *io,
		       const char *in, size_t len, bool *wait)
{
	size_t n, used = 0;
	u32 need;

	if (!b->hlen) {
		if (!may_start(io, in, len)) {
			*wait = true;
			return 0;
		}
		if (len >= XKV_BIN_HDR_LEN) {
			if ((u8)in[0] != XKV_BIN_REQ)
				return bin_bad_magic(b, io, len);
			need = head_len((const u8 *)in);
			if (len >= need) {
				if (!run_packet(b, io, (const u8 *)in, true)) {
					*wait = true;
					return 0;
				}
				b->ran++;
				return need;
			}
		}
	}
	for (;;) {
		if (b->hlen >= XKV_BIN_HDR_LEN && b->head[0] != XKV_BIN_REQ)
			return bin_bad_magic(b, io, len);
		need = b->hlen < XKV_BIN_HDR_LEN ? XKV_BIN_HDR_LEN :
						   head_len(b->head);
		if (b->hlen == need)
			break;
		n = need - b->hlen;
		if (n > len - used)
			n = len - used;
		if (!n)
			return used;
		os_memcpy(b->head + b->hlen, in + used, n);
		b->hlen += (u32)n;
		used += n;
	}
	b->hlen = 0;
	run_packet(b, io, b->head, false);
	b->ran++;
	return used;
}

/*
 * memcached sends what it has after the packet that woke it and
 * BIN_REQS_PER_EVENT more (then after every BIN_REQS_PER_EVENT): mark
 * those replies sent, for bin_bad_magic().
 */
static void bin_event_flush(struct xkv_bin *b, struct xkv_bin_io *io)
{
	if (b->ran <= BIN_REQS_PER_EVENT || !xkv_bin_between(b))
		return;
	b->sent = io->out->len;
	b->ran = 1;
}

size_t xkv_bin_input(struct xkv_bin *b, struct xkv_bin_io *io,
		     const char *in, size_t len)
{
	size_t pos = 0, n;
	bool wait = false;

	io->stalled = false;
	/* what came before this input has been sent (tcp.c, udp.c) */
	b->ran = 0;
	b->sent = io->out->len;
	while (pos < len && !io->closing) {
		switch (b->state) {
		case BIN_NREAD:
			pos += bin_nread(b, io, in + pos, len - pos);
			break;
		case BIN_SASL:
			pos += bin_sasl_read(b, io, in + pos, len - pos);
			break;
		case BIN_SWALLOW:
			n = len - pos;
			if (n > b->swallow)
				n = (size_t)b->swallow;
			pos += n;
			b->swallow -= n;
			if (!b->swallow)
				b->state = BIN_HEAD;
			break;
		default:
			pos += bin_head(b, io, in + pos, len - pos, &wait);
			if (wait)
				return pos;
			break;
		}
		/* a reply that could not be written in full is lost */
		if (io->out->oom)
			io->closing = true;
		bin_event_flush(b, io);
	}
	return io->closing ? len : pos;
}
