// SPDX-License-Identifier: GPL-2.0
/*
 * tcp.c - a TCP connection's pump (see tcp.h).
 */
#include "tcp.h"

int xkv_tcp_init(struct xkv_tcp *t, const struct xkv_tcp_ops *ops,
		 struct xkv_store *st, struct xkv_thread_stats *stats)
{
	t->ops = ops;
	if (xkv_inbuf_init(&t->in, xkv_store_budget(st)))
		return -ENOMEM;
	t->sess = xkv_sess_new(st, stats, false);
	if (!t->sess) {
		xkv_inbuf_release(&t->in);
		return -ENOMEM;
	}
	return 0;
}

void xkv_tcp_release(struct xkv_tcp *t)
{
	xkv_tcp_fast_release(t);
	xkv_sess_free(t->sess);
	t->sess = NULL;
	xkv_inbuf_release(&t->in);
}

bool xkv_tcp_closing(const struct xkv_tcp *t)
{
	return xkv_sess_closing(t->sess) || xkv_sess_out(t->sess)->oom;
}

bool xkv_tcp_want_read(const struct xkv_tcp *t)
{
	return !t->eof && !xkv_tcp_closing(t) && !t->stalled &&
	       xkv_tcp_out_pending(t) <= XKV_SESS_OUT_HIGH;
}

/* Send what the session has for the client, as much as the socket takes. */
static int xkv_tcp_flush(struct xkv_tcp *t, struct xkv_buf *out,
			 struct xkv_thread_stats *stats)
{
	long n;

	while (xkv_buf_pending(out)) {
		n = t->ops->send(t, out->data + out->off, xkv_buf_pending(out));
		if (n == -EAGAIN || !n)
			return 0;
		if (n < 0)
			return (int)n;
		stats->bytes_written += (u64)n;
		t->out_sent += (u32)n;
		t->moved = true;
		xkv_buf_consume(out, (size_t)n);
	}
	return 0;
}

bool xkv_tcp_fast_owes_nothing(const struct xkv_tcp *t)
{
	return !xkv_tcp_out_pending(t) && !t->in.len && !t->in.backlog &&
	       xkv_sess_between(t->sess) && !t->stalled && !t->eof &&
	       !xkv_tcp_closing(t);
}

/*
 * The protocol the connection's first byte chose, in its entry before
 * the count that includes that byte (xkv_tcp_ans_publish() releases it):
 * XDP answers only that one. An entry claimed XKV_TCP_PROTO_OFF stays so.
 */
static void xkv_tcp_fast_proto(struct xkv_tcp *t)
{
	u32 was = OS_READ_ONCE(t->ans->proto), p;

	switch (xkv_sess_binary(t->sess)) {
	case 1:
		p = XKV_TCP_PROTO_TEXT;
		break;
	case 2:
		p = XKV_TCP_PROTO_BIN;
		break;
	default:
		return;
	}
	if (was != p && was != XKV_TCP_PROTO_OFF)
		OS_WRITE_ONCE(t->ans->proto, p);
}

/*
 * After the sends returned: tell XDP how far we have answered, if we owe
 * nothing and it changed (tcp.h).
 */
static void xkv_tcp_fast_publish(struct xkv_tcp *t)
{
	u64 done;

	if (!t->ans || !xkv_tcp_fast_owes_nothing(t))
		return;
	done = xkv_tcp_ans_pack(t->in_read, t->out_sent);
	if (done == t->done)
		return;
	xkv_tcp_fast_proto(t);
	xkv_tcp_ans_publish(t->ans, done);
	t->done = done;
}

bool xkv_tcp_fast_claim(struct xkv_tcp *t, struct xkv_store *st,
			struct xkv_tcp_ans *tab, const struct xkv_tcp_ans *key)
{
	const struct xkv_settings *set = xkv_store_settings(st);
	struct xkv_tcp_ans k = *key;

	/* XDP cannot know who authenticated: it answers nobody then */
	k.proto = set->sasl || set->auth_file ? XKV_TCP_PROTO_OFF :
						XKV_TCP_PROTO_NONE;
	t->ans = xkv_tcp_ans_claim(tab, &k);
	if (!t->ans) {
		xkv_store_tcp_fast_unclaimed(st);
		return false;
	}
	/* the entry says 0, 0: true until the first byte is read */
	t->done = 0;
	t->hits = 0;
	xkv_tcp_fast_publish(t);
	return true;
}

void xkv_tcp_fast_release(struct xkv_tcp *t)
{
	if (!t->ans)
		return;
	xkv_tcp_ans_release(t->ans);
	t->ans = NULL;
}

bool xkv_tcp_fast_active(struct xkv_tcp *t)
{
	u64 hits;

	if (!t->ans)
		return false;
	hits = OS_READ_ONCE(t->ans->hits);
	if (hits == t->hits)
		return false;
	t->hits = hits;
	return true;
}

/* Offer buffered input to the session (inbuf.h). */
static void xkv_tcp_feed(struct xkv_tcp *t)
{
	xkv_inbuf_feed(&t->in, t->sess);
	OS_WRITE_ONCE(t->stalled, xkv_sess_stalled(t->sess));
}

int xkv_tcp_pump(struct xkv_tcp *t, struct xkv_thread_stats *stats,
		 bool readable)
{
	struct xkv_buf *out = xkv_sess_out(t->sess);
	int err, reads = 0;
	long n;

	t->more = false;
	t->moved = false;
	for (;;) {
		err = xkv_tcp_flush(t, out, stats);
		if (err)
			return err;
		if (xkv_buf_pending(out) > XKV_SESS_OUT_HIGH)
			break;
		if (t->in.backlog) {
			if (t->stalled)
				break;
			xkv_tcp_feed(t);
			continue;
		}
		if (xkv_tcp_closing(t) || t->eof || t->stalled || !readable)
			break;
		if (reads >= XKV_TCP_READ_BUDGET) {
			/* more may be waiting: come back after the others */
			t->more = true;
			break;
		}
		err = xkv_inbuf_room(&t->in);
		if (err == -ENOBUFS) {
			OS_WRITE_ONCE(t->stalled, true);
			break;
		}
		if (err)
			return err;

		n = t->ops->recv(t, xkv_inbuf_tail(&t->in),
				 xkv_inbuf_space(&t->in));
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		reads++;
		if (!n) {
			t->eof = true;
			continue;
		}
		stats->bytes_read += (u64)n;
		t->in_read += (u32)n;
		t->moved = true;
		xkv_inbuf_added(&t->in, (size_t)n);
		xkv_tcp_feed(t);
	}

	if (!xkv_buf_pending(out)) {
		if (xkv_tcp_closing(t))
			return XKV_TCP_DONE_CLOSING;
		if (t->eof && !t->in.backlog)
			return XKV_TCP_DONE_EOF;
	}
	xkv_tcp_fast_publish(t);
	return XKV_TCP_OPEN;
}

void xkv_tcp_linger(struct xkv_tcp *t)
{
	size_t total = 0;
	char sink[256];
	long n;

	t->ops->shut(t);
	while (total < XKV_TCP_LINGER_DRAIN) {
		n = t->ops->recv(t, sink, sizeof(sink));
		if (n <= 0)
			break;
		total += (size_t)n;
	}
}
