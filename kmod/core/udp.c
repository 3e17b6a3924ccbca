// SPDX-License-Identifier: GPL-2.0
/*
 * udp.c - running a UDP request and framing its reply.
 */
#include "udp.h"

static const char too_large[] = "SERVER_ERROR reply too large for UDP\r\n";
static const char out_of_memory[] = "SERVER_ERROR out of memory\r\n";

static void put_be16(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static u32 frame(struct xkv_udp_reply *r, u32 id, const char *data,
		 size_t len)
{
	size_t ndg = (len + XKV_UDP_CHUNK - 1) / XKV_UDP_CHUNK;
	u32 k;

	if (ndg > XKV_UDP_MAX_DGRAMS) {
		data = too_large;
		len = sizeof(too_large) - 1;
		ndg = 1;
	}
	for (k = 0; k < ndg; k++) {
		put_be16(r->hdr[k], id);
		put_be16(r->hdr[k] + 2, k);
		put_be16(r->hdr[k] + 4, (u32)ndg);
		put_be16(r->hdr[k] + 6, 0);
	}
	r->data = data;
	r->len = len;
	r->ndg = (u32)ndg;
	return r->ndg;
}

/*
 * Does the payload look like a reply (VALUE, END, STORED, ERROR, a number
 * from incr ...)? Every memcached command is lower case; answering such a
 * datagram could start a loop between two servers.
 */
static bool looks_like_reply(const u8 *p, size_t len)
{
	size_t i = 0;

	while (i < len && p[i] == ' ')
		i++;
	return i < len && ((p[i] >= 'A' && p[i] <= 'Z') ||
			   (p[i] >= '0' && p[i] <= '9'));
}

/* a fixed error line instead of the reply, if the budget has room */
static u32 frame_error(struct xkv_udp_reply *r, u32 id, const char *msg,
		       size_t len, size_t budget)
{
	return len <= budget ? frame(r, id, msg, len) : 0;
}

u32 xkv_udp_request(struct xkv_sess *s, const struct xkv_udp_policy *pol,
		    const struct xkv_udp_addr *src,
		    const struct xkv_udp_addr *dst, const u8 *d, size_t len,
		    struct xkv_udp_reply *r)
{
	struct xkv_buf *out = xkv_sess_out(s);
	size_t off, used, budget;
	u32 id;

	r->ndg = 0;
	r->len = 0;
	if (len < XKV_UDP_HDR || xkv_udp_refused(pol, src, dst))
		return 0;
	/*
	 * memcached answers a request spread over datagrams with an error;
	 * such a datagram is far more likely a piece of someone's reply.
	 */
	if (d[4] != 0 || d[5] != 1)
		return 0;
	if (looks_like_reply(d + XKV_UDP_HDR, len - XKV_UDP_HDR))
		return 0;
	budget = xkv_udp_budget(pol, len);
	if (!budget)
		return 0;
	id = (u32)d[0] << 8 | d[1];
	xkv_sess_reset(s);
	/* nothing the request asks for may grow the output past this */
	xkv_buf_set_limit(out, budget);
	for (off = XKV_UDP_HDR; off < len; off += used) {
		used = xkv_sess_input(s, (const char *)d + off, len - off);
		if (!used)
			break;
	}
	if (out->over)
		return frame_error(r, id, too_large, sizeof(too_large) - 1,
				   budget);
	if (out->oom)
		return frame_error(r, id, out_of_memory,
				   sizeof(out_of_memory) - 1, budget);
	if (!xkv_buf_pending(out))
		return 0;
	return frame(r, id, out->data + out->off, xkv_buf_pending(out));
}

void xkv_udp_done(struct xkv_sess *s)
{
	struct xkv_buf *out = xkv_sess_out(s);

	/* gives a big reply's storage back */
	xkv_buf_consume(out, xkv_buf_pending(out));
}

int xkv_udp_io_init(struct xkv_udp_io *io, struct xkv_store *st,
		    struct xkv_thread_stats *stats)
{
	io->rx = os_zalloc((size_t)XKV_UDP_BATCH * XKV_UDP_RX_SIZE);
	if (!io->rx)
		return -ENOMEM;
	io->hdr = os_zalloc(sizeof(*io->hdr) * XKV_UDP_MAX_DGRAMS);
	if (!io->hdr)
		goto free_rx;
	io->sess = xkv_sess_new(st, stats, true);
	if (!io->sess)
		goto free_hdr;
	return 0;

free_hdr:
	os_free(io->hdr);
	io->hdr = NULL;
free_rx:
	os_free(io->rx);
	io->rx = NULL;
	return -ENOMEM;
}

void xkv_udp_io_release(struct xkv_udp_io *io)
{
	xkv_sess_free(io->sess);
	os_free(io->hdr);
	os_free(io->rx);
	io->sess = NULL;
	io->hdr = NULL;
	io->rx = NULL;
}
