// SPDX-License-Identifier: GPL-2.0
/*
 * proto.c - memcached's text protocol: parse, run, reply.
 *
 * Replies and errors are byte for byte memcached 1.6's, including its
 * token-count rules (a wrong count is "ERROR"), noreply (which silences
 * every reply of that command, errors included), and what it does with
 * the bytes that follow a refused storage command.
 */
#include "admin.h"
#include "bin.h"
#include "items.h"
#include "meta.h"
#include "session.h"
#include "stats.h"
#include "util.h"

#define XKV_MAX_TOKENS 24
/* a get whose reply would pass this fails with SERVER_ERROR */
#define XKV_GET_OUT_MAX (64 * 1024 * 1024)
/* room a TCP command needs before it runs (budget.h); "stats" more */
#define XKV_REPLY_ROOM 1024
#define XKV_STATS_ROOM (64 * 1024)

enum sess_state {
	SESS_CMD,
	SESS_NREAD,
	SESS_SWALLOW,
	SESS_AUTH,
};

/* -Y: the most of a "set auth" token kept; a longer one cannot match */
#define XKV_AUTH_DATA_MAX 1024

struct xkv_sess {
	struct xkv_store *st;
	struct xkv_thread_stats *ts;
	struct xkv_buf out;
	bool udp;
	bool closing;
	bool noreply;
	u8 state;
	u8 op;
	u8 ntail;
	char tail[2];
	u64 req_cas;
	struct xkv_item *it;
	u32 got;
	u64 swallow;
	bool stalled;
	u32 get_resume;
	u32 get_exptime;
	/* admin.c: a paused metadump, and this session in "stats conns" */
	struct xkv_admin_cursor dump;
	struct xkv_conn_info ci;
	/* binary (bin.h), decided by the first byte; NULL before or text */
	struct xkv_bin *bin;
	bool negotiated;
	/* the value being read belongs to "ms" (meta.c) */
	bool meta;
	struct xkv_meta_set mset;
	/* -Y: token given; the token being read (auth_need left of it) */
	bool authed;
	u32 auth_len;
	u64 auth_need;
	char auth_tail[2];
	char *auth_buf;
};

static bool tok_is(const struct xkv_tok *t, const char *s)
{
	size_t n = os_strlen(s);

	return t->n == n && !os_memcmp(t->p, s, n);
}

struct xkv_sess *xkv_sess_new(struct xkv_store *st,
			      struct xkv_thread_stats *stats, bool udp)
{
	struct xkv_sess *s = os_zalloc(sizeof(*s));

	if (!s)
		return NULL;
	s->st = st;
	s->ts = stats;
	s->udp = udp;
	if (!udp) {
		xkv_buf_set_budget(&s->out, xkv_store_budget(st));
		xkv_conn_register(st, &s->ci);
	}
	return s;
}

void xkv_sess_set_stats(struct xkv_sess *s, struct xkv_thread_stats *stats)
{
	s->ts = stats;
}

static void sess_drop_item(struct xkv_sess *s)
{
	if (s->it) {
		xkv_item_free(s->st, s->it);
		s->it = NULL;
	}
}

void xkv_sess_free(struct xkv_sess *s)
{
	if (!s)
		return;
	sess_drop_item(s);
	xkv_admin_cursor_end(s->st, &s->dump);
	xkv_conn_unregister(s->st, &s->ci);
	xkv_bin_free(s->bin, s->st);
	xkv_buf_release(&s->out);
	os_free(s->auth_buf);
	os_free(s);
}

struct xkv_buf *xkv_sess_out(struct xkv_sess *s)
{
	return &s->out;
}

bool xkv_sess_closing(const struct xkv_sess *s)
{
	return s->closing;
}

bool xkv_sess_stalled(const struct xkv_sess *s)
{
	return s->stalled;
}

int xkv_sess_binary(const struct xkv_sess *s)
{
	if (!s->negotiated)
		return 0;
	return s->bin ? 2 : 1;
}

bool xkv_sess_between(const struct xkv_sess *s)
{
	if (s->bin && s->negotiated)
		return xkv_bin_between(s->bin) && !s->closing;
	return s->state == SESS_CMD && !s->get_resume && !s->closing;
}

void xkv_sess_set_addrs(struct xkv_sess *s, const char *peer,
			const char *local)
{
	xkv_conn_set_addrs(s->st, &s->ci, peer, local);
}

void xkv_sess_reset(struct xkv_sess *s)
{
	sess_drop_item(s);
	xkv_admin_cursor_end(s->st, &s->dump);
	xkv_buf_reset(&s->out);
	s->state = SESS_CMD;
	s->closing = false;
	s->noreply = false;
	s->swallow = 0;
	s->stalled = false;
	s->get_resume = 0;
	/* a datagram picks its protocol by its first byte, as memcached */
	if (s->bin)
		xkv_bin_reset(s->bin, s->st);
	s->negotiated = false;
	s->meta = false;
}

/* a reply line; "\r\n" is added */
static void reply(struct xkv_sess *s, const char *str)
{
	if (s->noreply)
		return;
	/* over UDP what is not a command (a reply, noise) gets no answer */
	if (s->udp && str[0] == 'E' && !os_memcmp(str, "ERROR", 6))
		return;
	xkv_buf_str(&s->out, str);
	xkv_buf_add(&s->out, "\r\n", 2);
}

/* memcached's set_noreply_maybe(): the last token decides */
static bool want_noreply(const struct xkv_tok *t, u32 nt)
{
	return nt > 1 && tok_is(&t[nt - 1], "noreply");
}

/* ---- retrieval ---- */

/* memcached refuses the whole line if one key is too long */
static bool keys_fit(const char *p, const char *end)
{
	const char *key;

	for (;;) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			return true;
		key = p;
		while (p < end && *p != ' ')
			p++;
		if (p - key > XKV_KEY_MAX)
			return false;
	}
}

/*
 * TCP: stop before the key at @p; the transport offers the line again
 * once the client has read (or the budget has room) and we go on there.
 */
static void get_pause(struct xkv_sess *s, const char *line, const char *p,
		      u32 exptime)
{
	s->get_resume = (u32)(p - line);
	s->get_exptime = exptime;
}

/*
 * Over TCP a get streams: it stops between two keys while more than
 * XKV_SESS_OUT_HIGH bytes wait for the client, or before a key whose
 * reply the budget has no room for, and resumes there (get_pause()), so
 * a connection holds at most XKV_SESS_OUT_HIGH plus one item's reply.
 */
static void process_get(struct xkv_sess *s, const char *line, size_t len,
			const struct xkv_tok *t, bool with_cas, bool touch,
			u32 resume)
{
	struct xkv_get_req req = { .with_cas = with_cas, .touch = touch };
	size_t start = s->out.len;
	const char *p, *end = line + len;
	bool resumed = resume && resume <= len;
	s32 exptime;

	if (resumed) {
		/* the same line again: go on where we stopped */
		p = line + resume;
		req.exptime = s->get_exptime;
	} else if (touch) {
		if (!xkv_parse_s32(t[1].p, t[1].n, &exptime)) {
			reply(s, "CLIENT_ERROR invalid exptime argument");
			return;
		}
		req.exptime = xkv_exptime(s->st, exptime);
		p = t[1].p + t[1].n;
	} else {
		p = t[0].p + t[0].n;
	}
	if (!resumed && !keys_fit(p, end)) {
		reply(s, "CLIENT_ERROR bad command line format");
		return;
	}
	for (;;) {
		const char *key;
		size_t nkey;
		int hit;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		if (!s->udp && xkv_buf_pending(&s->out) > XKV_SESS_OUT_HIGH) {
			get_pause(s, line, p, req.exptime);
			return;
		}
		key = p;
		while (p < end && *p != ' ')
			p++;
		nkey = (size_t)(p - key);
		req.expired = false;
		req.flushed = false;
		s->out.strict = true;
		hit = xkv_item_get(s->st, key, nkey, &req, &s->out);
		s->out.strict = false;
		if (hit < 0 && !s->out.oom) {
			/* the budget is short: this key again, later */
			s->stalled = true;
			get_pause(s, line, key, req.exptime);
			return;
		}
		/* part of a resumed reply is sent: only closing is left */
		if (hit < 0 && resumed)
			return;
		if (hit < 0 || s->out.len - start > XKV_GET_OUT_MAX) {
			s->out.len = start;
			s->out.oom = false;
			reply(s,
			      "SERVER_ERROR out of memory writing get response");
			return;
		}
		/* memcached counts gat/gats as touches, not gets */
		if (!touch)
			s->ts->cmd_get++;
		if (touch) {
			s->ts->cmd_touch++;
			if (hit)
				s->ts->touch_hits++;
			else
				s->ts->touch_misses++;
		} else if (hit) {
			s->ts->get_hits++;
		} else {
			s->ts->get_misses++;
		}
		s->ts->get_expired += req.expired;
		s->ts->get_flushed += req.flushed;
	}
	xkv_buf_add(&s->out, "END\r\n", 5);
}

/* noreply, then the key's length: false when that answered the command */
static bool key_cmd_begin(struct xkv_sess *s, const struct xkv_tok *t, u32 nt)
{
	s->noreply = want_noreply(t, nt);
	if (t[1].n <= XKV_KEY_MAX)
		return true;
	reply(s, "CLIENT_ERROR bad command line format");
	return false;
}

/* ---- storage ---- */

static void process_update(struct xkv_sess *s, const struct xkv_tok *t, u32 nt,
			   enum xkv_store_op op)
{
	bool is_cas = op == XKV_OP_CAS;
	u32 flags, exptime;
	s32 exp, vlen;
	struct xkv_item *it;
	int err;

	if (!key_cmd_begin(s, t, nt))
		return;
	if (!xkv_parse_u32(t[2].p, t[2].n, &flags) ||
	    !xkv_parse_s32(t[3].p, t[3].n, &exp) ||
	    !xkv_parse_s32(t[4].p, t[4].n, &vlen) ||
	    (is_cas && !xkv_parse_u64(t[5].p, t[5].n, &s->req_cas))) {
		reply(s, "CLIENT_ERROR bad command line format");
		return;
	}
	if (vlen < 0 || vlen > 0x7fffffff - 2) {
		reply(s, "CLIENT_ERROR bad command line format");
		return;
	}
	exptime = xkv_exptime(s->st, exp);
	it = xkv_item_alloc(s->st, t[1].p, t[1].n, flags, exptime,
			    (u32)vlen, &err);
	if (!it) {
		if (xkv_item_alloc_failed(s->st, s->ts, t[1].p, t[1].n, err,
					  op == XKV_OP_SET))
			reply(s, "SERVER_ERROR object too large for cache");
		else
			reply(s, "SERVER_ERROR out of memory storing object");
		s->swallow = (u64)vlen + 2;
		s->state = SESS_SWALLOW;
		return;
	}
	s->ts->cmd_set++;
	s->it = it;
	s->op = (u8)op;
	s->got = 0;
	s->ntail = 0;
	s->state = SESS_NREAD;
}

static void complete_update(struct xkv_sess *s)
{
	struct xkv_item *it = s->it;
	enum xkv_store_op op = s->op;
	enum xkv_res res;

	s->it = NULL;
	s->state = SESS_CMD;
	if (s->meta) {
		struct xkv_meta_io io = { s->st, s->ts, &s->out };

		s->meta = false;
		xkv_meta_set_done(&io, &s->mset, it, s->tail[0] == '\r' &&
				  s->tail[1] == '\n');
		return;
	}
	if (s->tail[0] != '\r' || s->tail[1] != '\n') {
		xkv_item_free(s->st, it);
		reply(s, "CLIENT_ERROR bad data chunk");
		s->noreply = false;
		return;
	}
	res = xkv_item_store(s->st, it, op, s->req_cas);
	if (op == XKV_OP_CAS)
		xkv_count_cas(s->ts, res);
	switch (res) {
	case XKV_STORED:
		reply(s, "STORED");
		break;
	case XKV_EXISTS:
		reply(s, "EXISTS");
		break;
	case XKV_NOT_FOUND:
		reply(s, "NOT_FOUND");
		break;
	case XKV_TOO_LARGE:
		reply(s, "SERVER_ERROR object too large for cache");
		break;
	case XKV_NO_MEMORY:
		reply(s, "SERVER_ERROR out of memory storing object");
		break;
	default:
		reply(s, "NOT_STORED");
		break;
	}
	s->noreply = false;
}

/* copy value bytes into the pending item, then its "\r\n" */
static size_t sess_nread(struct xkv_sess *s, const char *in, size_t len)
{
	struct xkv_item *it = s->it;
	size_t used = 0, n;

	if (s->got < it->nbytes) {
		n = it->nbytes - s->got;
		if (n > len)
			n = len;
		os_memcpy(xkv_item_value(it) + s->got, in, n);
		s->got += (u32)n;
		used = n;
	}
	while (used < len && s->ntail < 2)
		s->tail[s->ntail++] = in[used++];
	if (s->ntail == 2)
		complete_update(s);
	return used;
}

/* ---- the other commands ---- */

static void process_delete(struct xkv_sess *s, const struct xkv_tok *t, u32 nt)
{
	if (nt > 2) {
		bool hold_is_zero = tok_is(&t[2], "0");
		bool noreply = want_noreply(t, nt);
		bool valid = (nt == 3 && (hold_is_zero || noreply)) ||
			     (nt == 4 && hold_is_zero && noreply);

		s->noreply = noreply;
		if (!valid) {
			reply(s, "CLIENT_ERROR bad command line format.  "
				 "Usage: delete <key> [noreply]");
			return;
		}
	}
	if (t[1].n > XKV_KEY_MAX) {
		reply(s, "CLIENT_ERROR bad command line format");
		return;
	}
	if (xkv_item_delete(s->st, t[1].p, t[1].n) == XKV_DELETED) {
		s->ts->delete_hits++;
		reply(s, "DELETED");
	} else {
		s->ts->delete_misses++;
		reply(s, "NOT_FOUND");
	}
}

static void process_arith(struct xkv_sess *s, const struct xkv_tok *t, u32 nt,
			  bool incr)
{
	enum xkv_res ret;
	char res[24];
	size_t nres;
	u64 delta;

	if (!key_cmd_begin(s, t, nt))
		return;
	if (!xkv_parse_u64(t[2].p, t[2].n, &delta)) {
		reply(s, "CLIENT_ERROR invalid numeric delta argument");
		return;
	}
	ret = xkv_item_arith(s->st, t[1].p, t[1].n, incr, delta, res, &nres);
	xkv_count_arith(s->ts, incr, ret, false);
	switch (ret) {
	case XKV_STORED:
		reply(s, res);
		break;
	case XKV_NOT_FOUND:
		reply(s, "NOT_FOUND");
		break;
	case XKV_NON_NUMERIC:
		reply(s, "CLIENT_ERROR cannot increment or decrement "
			 "non-numeric value");
		break;
	default:
		reply(s, "SERVER_ERROR out of memory");
		break;
	}
}

static void process_touch(struct xkv_sess *s, const struct xkv_tok *t, u32 nt)
{
	s32 exp;

	if (!key_cmd_begin(s, t, nt))
		return;
	if (!xkv_parse_s32(t[2].p, t[2].n, &exp)) {
		reply(s, "CLIENT_ERROR invalid exptime argument");
		return;
	}
	s->ts->cmd_touch++;
	if (xkv_item_touch(s->st, t[1].p, t[1].n,
			   xkv_exptime(s->st, exp)) == XKV_TOUCHED) {
		s->ts->touch_hits++;
		reply(s, "TOUCHED");
	} else {
		s->ts->touch_misses++;
		reply(s, "NOT_FOUND");
	}
}

static void process_flush(struct xkv_sess *s, const struct xkv_tok *t, u32 nt)
{
	s32 delay = 0;

	s->noreply = want_noreply(t, nt);
	if (nt != (s->noreply ? 2u : 1u) &&
	    !xkv_parse_s32(t[1].p, t[1].n, &delay)) {
		reply(s, "CLIENT_ERROR invalid exptime argument");
		return;
	}
	s->ts->cmd_flush++;
	xkv_flush_all(s->st, delay);
	reply(s, "OK");
}

static void process_stats(struct xkv_sess *s, const struct xkv_tok *t, u32 nt)
{
	if (nt == 1)
		xkv_stats_general(s->st, &s->out);
	else if (tok_is(&t[1], "settings"))
		xkv_stats_settings(s->st, &s->out);
	else if (tok_is(&t[1], "items"))
		xkv_stats_items(s->st, &s->out);
	else if (tok_is(&t[1], "slabs"))
		xkv_stats_slabs(s->st, &s->out);
	else if (tok_is(&t[1], "reset")) {
		xkv_stats_reset(s->st);
		reply(s, "RESET");
	} else if (!xkv_stats_admin(s->st, t[1].p, t[1].n, &s->out)) {
		reply(s, "ERROR");
	}
}

static void process_verbosity(struct xkv_sess *s, const struct xkv_tok *t,
			      u32 nt)
{
	u64 level;

	s->noreply = want_noreply(t, nt);
	/* memcached 1.6 (64-bit): safe_strtoul() or a client error */
	if (!xkv_parse_u64(t[1].p, t[1].n, &level)) {
		reply(s, "CLIENT_ERROR bad command line format");
		return;
	}
	OS_WRITE_ONCE(s->st->set.verbose, level > 2 ? 2 : (int)level);
	reply(s, "OK");
}

static void process_debugtime(struct xkv_sess *s, const struct xkv_tok *t)
{
	s32 delta;

	if (xkv_parse_s32(t[1].p, t[1].n, &delta)) {
		xkv_store_advance_clock(s->st, delta);
		reply(s, "OK");
	} else {
		reply(s, "CLIENT_ERROR bad command line format");
	}
}

/* admin.c's commands; a metadump streams like a get (its line again) */
static void process_admin(struct xkv_sess *s, const struct xkv_tok *t,
			  u32 nt, u32 resume)
{
	struct xkv_admin_req r = {
		.st = s->st, .out = &s->out, .cur = &s->dump, .udp = s->udp,
		.resumed = resume != 0,
	};

	xkv_admin_line(&r, t, nt);
	if (r.pause)
		s->get_resume = 1;
	if (r.close)
		s->closing = true;
}

static bool storage_op(const struct xkv_tok *c, enum xkv_store_op *op)
{
	if (tok_is(c, "set"))
		*op = XKV_OP_SET;
	else if (tok_is(c, "add"))
		*op = XKV_OP_ADD;
	else if (tok_is(c, "replace"))
		*op = XKV_OP_REPLACE;
	else if (tok_is(c, "append"))
		*op = XKV_OP_APPEND;
	else if (tok_is(c, "prepend"))
		*op = XKV_OP_PREPEND;
	else if (tok_is(c, "cas"))
		*op = XKV_OP_CAS;
	else
		return false;
	return true;
}

/*
 * A meta command (meta.c). A "mg" whose value has no room in the
 * connections' budget leaves its line unused, as a paused get does, and
 * runs afresh when it is offered again.
 */
static void process_meta(struct xkv_sess *s, const struct xkv_tok *t,
			 u32 nt)
{
	struct xkv_meta_io io = { s->st, s->ts, &s->out };
	struct xkv_item *it = NULL;
	u64 swallow = 0;

	switch (xkv_meta_line(&io, t, nt, &s->mset, &it, &swallow)) {
	case XKV_META_ERROR:
		reply(s, "ERROR");
		break;
	case XKV_META_NREAD:
		s->it = it;
		s->meta = true;
		s->got = 0;
		s->ntail = 0;
		s->state = SESS_NREAD;
		break;
	case XKV_META_SWALLOW:
		s->swallow = swallow;
		s->state = SESS_SWALLOW;
		break;
	case XKV_META_AGAIN:
		s->stalled = true;
		s->get_resume = 1;
		break;
	default:
		break;
	}
}

/*
 * -Y, before the token: only "set <any> <any> <any> <bytes>" is taken,
 * its value being "<user> <password>"; every other line is refused.
 */
static void process_auth_line(struct xkv_sess *s, const char *line,
			      size_t len)
{
	struct xkv_tok t[XKV_MAX_TOKENS];
	const char *nul = os_memchr(line, '\0', len);
	u32 nt, bytes;

	if (nul)
		len = (size_t)(nul - line);
	nt = xkv_tokenize(line, len, t, XKV_MAX_TOKENS);
	s->noreply = false;
	if (nt < 5 || !tok_is(&t[0], "set") ||
	    !xkv_parse_u32(t[4].p, t[4].n, &bytes)) {
		reply(s, "CLIENT_ERROR unauthenticated");
		return;
	}
	if (!s->auth_buf)
		s->auth_buf = os_zalloc(XKV_AUTH_DATA_MAX);
	if (!s->auth_buf) {
		s->closing = true;
		return;
	}
	s->auth_len = 0;
	s->auth_need = (u64)bytes + 2;
	s->state = SESS_AUTH;
}

/* the token is in: check it against the -Y file */
static void auth_complete(struct xkv_sess *s)
{
	struct xkv_tok t[XKV_MAX_TOKENS];
	const char *nul;
	size_t n = s->auth_len;
	u32 nt;

	s->state = SESS_CMD;
	if (s->auth_tail[0] != '\r' || s->auth_tail[1] != '\n') {
		reply(s, "CLIENT_ERROR bad command line termination");
		return;
	}
	/* the stored bytes end in "\r\n" unless the token was cut short */
	if (n >= 2 && s->auth_buf[n - 2] == '\r' && s->auth_buf[n - 1] == '\n')
		n -= 2;
	nul = os_memchr(s->auth_buf, '\0', n);
	if (nul)
		n = (size_t)(nul - s->auth_buf);
	nt = xkv_tokenize(s->auth_buf, n, t, XKV_MAX_TOKENS);
	if (nt < 2) {
		reply(s, "CLIENT_ERROR bad authentication token format");
		return;
	}
	s->ts->auth_cmds++;
	if (s->auth_len < XKV_AUTH_DATA_MAX &&
	    xkv_store_pwdb_ok(s->st, t[0].p, t[0].n, t[1].p, t[1].n)) {
		s->authed = true;
		os_free(s->auth_buf);
		s->auth_buf = NULL;
		reply(s, "STORED");
	} else {
		s->ts->auth_errors++;
		reply(s, "CLIENT_ERROR authentication failure");
	}
}

/* take the token's bytes; Return: bytes used */
static size_t sess_auth_read(struct xkv_sess *s, const char *in, size_t len)
{
	size_t n = len, i;

	if (n > s->auth_need)
		n = (size_t)s->auth_need;
	for (i = 0; i < n; i++) {
		if (s->auth_len < XKV_AUTH_DATA_MAX)
			s->auth_buf[s->auth_len++] = in[i];
		s->auth_tail[0] = s->auth_tail[1];
		s->auth_tail[1] = in[i];
	}
	s->auth_need -= n;
	if (!s->auth_need)
		auth_complete(s);
	return n;
}

/* nt counts real tokens; memcached's "ntokens" is nt + 1 */
static void process_line(struct xkv_sess *s, const char *line, size_t len)
{
	struct xkv_tok t[XKV_MAX_TOKENS];
	const struct xkv_tok *c = &t[0];
	enum xkv_store_op op;
	const char *nul = os_memchr(line, '\0', len);
	u32 nt, resume = s->get_resume;

	/* only a get offered again resumes; anything else starts afresh */
	s->get_resume = 0;
	/* memcached parses C strings: a NUL ends the command line */
	if (nul)
		len = (size_t)(nul - line);
	nt = xkv_tokenize(line, len, t, XKV_MAX_TOKENS);

	s->noreply = false;
	if (nt == 0 || c->n < 2) {
		reply(s, "ERROR");
		return;
	}
	if (c->n == 2 && c->p[0] == 'm') {
		process_meta(s, t, nt);
	} else if (tok_is(c, "get") || tok_is(c, "gets") || tok_is(c, "gat") ||
	    tok_is(c, "gats")) {
		if (nt < 2) {
			reply(s, "ERROR");
			return;
		}
		/* gets and gats return CAS; gat and gats touch */
		process_get(s, line, len, t, c->n == 4, c->p[1] == 'a',
			    resume);
	} else if (storage_op(c, &op)) {
		u32 want = op == XKV_OP_CAS ? 6 : 5;

		if (nt != want && nt != want + 1)
			reply(s, "ERROR");
		else
			process_update(s, t, nt, op);
	} else if (tok_is(c, "delete")) {
		if (nt < 2 || nt > 4)
			reply(s, "ERROR");
		else
			process_delete(s, t, nt);
	} else if (tok_is(c, "incr") || tok_is(c, "decr")) {
		if (nt != 3 && nt != 4)
			reply(s, "ERROR");
		else
			process_arith(s, t, nt, c->p[0] == 'i');
	} else if (tok_is(c, "touch")) {
		if (nt != 3 && nt != 4)
			reply(s, "ERROR");
		else
			process_touch(s, t, nt);
	} else if (tok_is(c, "stats")) {
		process_stats(s, t, nt);
	} else if (tok_is(c, "flush_all")) {
		if (nt > 3)
			reply(s, "ERROR");
		else
			process_flush(s, t, nt);
	} else if (tok_is(c, "version")) {
		reply(s, "VERSION " XKV_VERSION);
	} else if (tok_is(c, "quit")) {
		s->closing = true;
	} else if (tok_is(c, "verbosity")) {
		if (nt != 2 && nt != 3)
			reply(s, "ERROR");
		else
			process_verbosity(s, t, nt);
	} else if (xkv_admin_is_cmd(c->p, c->n)) {
		process_admin(s, t, nt, resume);
	} else if (tok_is(c, "debugtime") && s->st->set.debug_clock &&
		   nt >= 2) {
		process_debugtime(s, t);
	} else if (t[nt - 1].n >= 5 && !os_memcmp(t[nt - 1].p, "HTTP/", 5)) {
		/* memcached hangs up on HTTP requests */
		s->closing = true;
	} else {
		reply(s, "ERROR");
	}
	/* a storage command keeps noreply until its value is in */
	if (s->state == SESS_CMD)
		s->noreply = false;
}

/*
 * No '\n' in the @len bytes that start a line: memcached gives up after
 * 2048 bytes unless the line is a get/gets (a long multiget), which we
 * still bound.
 */
static void check_long_line(struct xkv_sess *s, const char *in, size_t len)
{
	size_t i = 0;

	if (len <= XKV_LINE_MAX)
		return;
	while (i < len && in[i] == ' ')
		i++;
	if (i > 100 || len > XKV_MULTIGET_LINE_MAX ||
	    (!(len - i >= 4 && !os_memcmp(in + i, "get ", 4)) &&
	     !(len - i >= 5 && !os_memcmp(in + i, "gets ", 5))))
		s->closing = true;
}

/*
 * TCP: a command runs only once its reply has room in the budget. Only a
 * get's values may need more; they are taken key by key.
 */
static bool reply_room(struct xkv_sess *s, const char *line, size_t n)
{
	size_t room = XKV_REPLY_ROOM;
	int err;

	if (!s->out.budget || s->get_resume)
		return true;
	while (n && *line == ' ') {
		line++;
		n--;
	}
	if (n >= 5 && !os_memcmp(line, "stats", 5))
		room = XKV_STATS_ROOM;
	s->out.strict = true;
	err = xkv_buf_reserve(&s->out, room);
	s->out.strict = false;
	if (err == -ENOBUFS) {
		s->stalled = true;
		return false;
	}
	return true;
}

/* what "stats conns" shows of this session (admin.h) */
static void sess_publish(struct xkv_sess *s)
{
	u32 st = XKV_CONN_READ;

	if (s->closing)
		st = XKV_CONN_CLOSING;
	else if (s->get_resume)
		st = XKV_CONN_MWRITE;
	else if (s->state == SESS_NREAD)
		st = XKV_CONN_NREAD;
	else if (s->state == SESS_SWALLOW)
		st = XKV_CONN_SWALLOW;
	OS_WRITE_ONCE(s->ci.state, st);
}

static size_t sess_input(struct xkv_sess *s, const char *in, size_t len);

/*
 * The first byte decides: XKV_BIN_REQ is binary for the connection. With
 * SASL (-S) memcached binds every connection to binary, with -Y to text,
 * whatever comes: a text line is then a binary header with a bad magic
 * once 24 bytes are in (bin.c), a binary packet a text line (unknown, or
 * unauthenticated) once a newline is.
 */
static bool sess_binary(struct xkv_sess *s, const char *in, size_t len)
{
	if (!s->negotiated && len) {
		s->negotiated = true;
		if (s->st->set.auth_file ||
		    ((u8)in[0] != XKV_BIN_REQ && !s->st->set.sasl))
			return false;
		if (!s->bin)
			s->bin = xkv_bin_new();
		if (!s->bin)
			s->closing = true;
		return true;
	}
	return s->negotiated && s->bin;
}

size_t xkv_sess_input(struct xkv_sess *s, const char *in, size_t len)
{
	size_t used;

	if (s->udp)
		return sess_input(s, in, len);
	OS_WRITE_ONCE(s->ci.last_cmd, xkv_store_now(s->st));
	OS_WRITE_ONCE(s->ci.state, XKV_CONN_PARSE_CMD);
	used = sess_input(s, in, len);
	sess_publish(s);
	return used;
}

static size_t sess_input(struct xkv_sess *s, const char *in, size_t len)
{
	size_t pos = 0;

	if (sess_binary(s, in, len)) {
		struct xkv_bin_io io = {
			.st = s->st, .ts = s->ts, .out = &s->out,
			.udp = s->udp, .closing = s->closing,
		};

		if (!s->udp)
			xkv_buf_compact(&s->out);
		pos = s->closing ? len : xkv_bin_input(s->bin, &io, in, len);
		s->closing = io.closing;
		s->stalled = io.stalled;
		return pos;
	}
	s->stalled = false;
	/* bytes sent take no room: a reply grows only by what is pending */
	if (!s->udp)
		xkv_buf_compact(&s->out);
	while (pos < len && !s->closing) {
		const char *nl;
		size_t n;

		switch (s->state) {
		case SESS_NREAD:
			pos += sess_nread(s, in + pos, len - pos);
			break;
		case SESS_AUTH:
			pos += sess_auth_read(s, in + pos, len - pos);
			break;
		case SESS_SWALLOW:
			n = len - pos;
			if (n > s->swallow)
				n = (size_t)s->swallow;
			pos += n;
			s->swallow -= n;
			if (!s->swallow) {
				s->state = SESS_CMD;
				s->noreply = false;
			}
			break;
		default:
			nl = os_memchr(in + pos, '\n', len - pos);
			if (!nl) {
				/* -Y: no token line is this long */
				if (s->st->set.auth_file && !s->authed &&
				    len - pos > XKV_LINE_MAX)
					s->closing = true;
				check_long_line(s, in + pos, len - pos);
				return s->closing ? len : pos;
			}
			n = (size_t)(nl - (in + pos));
			if (!reply_room(s, in + pos, n))
				return pos;
			if (s->st->set.auth_file && !s->authed)
				process_auth_line(s, in + pos,
						  n && in[pos + n - 1] == '\r' ?
						  n - 1 : n);
			else
				process_line(s, in + pos,
					     n && in[pos + n - 1] == '\r' ?
					     n - 1 : n);
			/* a get that stopped early: its line comes again */
			if (s->get_resume)
				return pos;
			pos += n + 1;
			/* a reply that could not be written in full is lost */
			if (s->out.oom)
				s->closing = true;
			/* TCP: let the transport drain a large reply first */
			if (!s->udp && s->state == SESS_CMD &&
			    xkv_buf_pending(&s->out) > XKV_SESS_OUT_HIGH)
				return pos;
			break;
		}
	}
	return s->closing ? len : pos;
}
