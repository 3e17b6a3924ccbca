// SPDX-License-Identifier: GPL-2.0
/*
 * udp.c - the UDP transport: memcached's 8-byte frame header (request id,
 * sequence number, datagram count, reserved; 16-bit big-endian each), one
 * request per datagram, replies matched by request id and reassembled when
 * they span several datagrams.
 *
 * A flow is one connected socket (its own source port). Each keeps up to a
 * window of requests outstanding in a table of slots indexed by the low
 * bits of the request id; the table has at least twice the window's
 * slots, so a free one is always found near the next id. New requests go
 * out in one sendmmsg() per flow, replies come in with recvmmsg(). A
 * request without its whole reply after the timeout is counted and its
 * slot freed; a reply that turns up later matches no slot (or a slot whose
 * id differs) and is counted as late, not as an answer.
 *
 * Request ids are 16 bits: a reply delayed by 65536 requests of its own
 * flow (over 0.3 s at 200 k requests/s, three timeouts at the default)
 * would meet a newer request in its slot. Its key then differs from the
 * one asked for, so it is reported as a wrong value, never accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rng.h"
#include "worker.h"

#define UDP_HDR 8
#define UDP_BATCH 32
/* the largest datagram taken whole; a longer one is an error */
#define UDP_RX_SIZE 9216
#define UDP_EVENTS 64
/* the longest epoll_wait(); a flow paused by a socket error waits this */
#define UDP_TICK_MS 10

/**
 * struct udp_part - where one datagram of a reply was put.
 * @off: offset in the slot's @rbuf
 * @len: payload bytes; UINT32_MAX while missing
 */
struct udp_part {
	u32 off;
	u32 len;
};

/**
 * struct udp_slot - one request outstanding (or a free slot).
 * @t_sent:   when it was sent
 * @op:       the request
 * @id:       its request id
 * @busy:     outstanding
 * @count:    datagrams the reply has (multi-datagram replies only)
 * @got:      datagrams received so far
 * @parts:    per sequence number, where its payload is
 * @parts_cap: entries in @parts
 * @rbuf:     payloads in arrival order
 * @rlen:     bytes in @rbuf
 * @rcap:     size of @rbuf
 * @req:      the datagram: frame header and request
 * @req_len:  its length
 */
struct udp_slot {
	u64 t_sent;
	struct bench_op op;
	u16 id;
	bool busy;
	u16 count;
	u16 got;
	struct udp_part *parts;
	u32 parts_cap;
	char *rbuf;
	size_t rlen;
	size_t rcap;
	char *req;
	size_t req_len;
};

/**
 * struct udp_flow - one socket.
 * @fd:       the socket, connected to the server
 * @next_id:  request id to try next
 * @inflight: slots busy
 * @paused:   send nothing before this time (after a socket error)
 * @slots:    the slot table
 */
struct udp_flow {
	int fd;
	u16 next_id;
	u32 inflight;
	u64 paused;
	struct udp_slot *slots;
};

/**
 * struct udp_engine - one thread's flows and batch buffers.
 * @flows:     the flows
 * @nslots:    slots per flow, a power of two
 * @req_max:   the longest request, frame header included
 * @rx:        UDP_BATCH receive buffers of UDP_RX_SIZE bytes
 * @rmsg:      recvmmsg() descriptors
 * @riov:      their iovecs
 * @smsg:      sendmmsg() descriptors
 * @siov:      their iovecs
 * @sslot:     the slot of each datagram in @smsg
 * @out:       a reassembled reply
 * @out_cap:   size of @out
 * @next_scan: when to look for timeouts next
 */
struct udp_engine {
	struct udp_flow *flows;
	u32 nslots;
	size_t req_max;
	char *rx;
	struct mmsghdr rmsg[UDP_BATCH];
	struct iovec riov[UDP_BATCH];
	struct mmsghdr smsg[UDP_BATCH];
	struct iovec siov[UDP_BATCH];
	struct udp_slot *sslot[UDP_BATCH];
	char *out;
	size_t out_cap;
	u64 next_scan;
};

static u16 get_be16(const char *p)
{
	return (u16)((u8)p[0] << 8 | (u8)p[1]);
}

static void put_be16(char *p, u16 v)
{
	p[0] = (char)(v >> 8);
	p[1] = (char)v;
}

static void slot_free(struct udp_flow *f, struct udp_slot *s)
{
	s->busy = false;
	f->inflight--;
}

/* a whole reply is in: check it, count it, free the slot */
static void udp_complete(struct bench_worker *w, struct udp_flow *f,
			 struct udp_slot *s, const char *buf, size_t len,
			 u64 now)
{
	const struct bench_shared *sh = w->sh;
	enum mc_result r;
	size_t used;

	r = mc_parse(&sh->fmt, sh->o->verify, s->op.op, s->op.key, buf, len,
		     &used);
	if (r == MC_MORE || used != len)
		r = MC_PROTO_ERR;
	if (r != MC_HIT && r != MC_MISS && r != MC_STORED)
		bench_warn_reply(w, r, &s->op, buf, len);
	bench_record(w, r, s->t_sent, now);
	slot_free(f, s);
}

static void udp_fail(struct bench_worker *w, struct udp_flow *f,
		     struct udp_slot *s, const char *buf, size_t len)
{
	bench_warn_reply(w, MC_PROTO_ERR, &s->op, buf, len);
	w->st.proto_errors++;
	slot_free(f, s);
}

/* one datagram of a reply that has @count of them */
static void udp_part(struct bench_worker *w, struct udp_flow *f,
		     struct udp_slot *s, const char *dgram, size_t len, u16 seq,
		     u16 count, u64 now)
{
	struct udp_engine *e = w->engine;
	const char *payload = dgram + UDP_HDR;
	size_t plen = len - UDP_HDR, at;
	u32 i;

	if (!s->got) {
		if (count > s->parts_cap) {
			struct udp_part *p;

			p = realloc(s->parts, count * sizeof(*p));
			if (!p)
				goto fail;
			s->parts = p;
			s->parts_cap = count;
		}
		for (i = 0; i < count; i++)
			s->parts[i].len = UINT32_MAX;
		s->count = count;
		s->rlen = 0;
	} else if (count != s->count) {
		goto fail;
	}
	if (s->parts[seq].len != UINT32_MAX)
		return; /* a duplicate: the network may do that */
	if (bench_reserve(&s->rbuf, &s->rcap, s->rlen + plen))
		goto fail;
	memcpy(s->rbuf + s->rlen, payload, plen);
	s->parts[seq].off = (u32)s->rlen;
	s->parts[seq].len = (u32)plen;
	s->rlen += plen;
	if (++s->got < s->count)
		return;
	if (bench_reserve(&e->out, &e->out_cap, s->rlen))
		goto fail;
	for (at = 0, i = 0; i < s->count; i++) {
		memcpy(e->out + at, s->rbuf + s->parts[i].off, s->parts[i].len);
		at += s->parts[i].len;
	}
	udp_complete(w, f, s, e->out, at, now);
	return;
fail:
	udp_fail(w, f, s, dgram, len);
}

static void udp_dgram(struct bench_worker *w, struct udp_flow *f,
		      const char *buf, size_t len, u64 now)
{
	struct udp_engine *e = w->engine;
	struct udp_slot *s;
	u16 id, seq, count;

	if (len < UDP_HDR) {
		w->st.proto_errors++;
		return;
	}
	id = get_be16(buf);
	seq = get_be16(buf + 2);
	count = get_be16(buf + 4);
	s = &f->slots[id & (e->nslots - 1)];
	if (!s->busy || s->id != id) {
		w->st.late++;
		return;
	}
	if (!count || seq >= count)
		udp_fail(w, f, s, buf, len);
	else if (count == 1)
		udp_complete(w, f, s, buf + UDP_HDR, len - UDP_HDR, now);
	else
		udp_part(w, f, s, buf, len, seq, count, now);
}

static void udp_socket_error(struct bench_worker *w, struct udp_flow *f,
			     int err, u64 now)
{
	w->st.net_errors++;
	f->paused = now + UDP_TICK_MS * NSEC_PER_MSEC;
	if (w->warned++ < 3)
		fprintf(stderr, "xkv-bench: thread %u: udp: %s\n", w->idx,
			strerror(err));
}

static void udp_read(struct bench_worker *w, struct udp_flow *f, u64 now)
{
	struct udp_engine *e = w->engine;
	int i, n;

	n = recvmmsg(f->fd, e->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			udp_socket_error(w, f, errno, now);
		return;
	}
	for (i = 0; i < n; i++) {
		if (e->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
			w->st.proto_errors++;
			continue;
		}
		udp_dgram(w, f, e->rx + (size_t)i * UDP_RX_SIZE,
			  e->rmsg[i].msg_len, now);
	}
}

/* a free slot for the next request id */
static struct udp_slot *udp_slot_get(struct udp_engine *e, struct udp_flow *f)
{
	struct udp_slot *s;

	for (;;) {
		u16 id = f->next_id++;

		s = &f->slots[id & (e->nslots - 1)];
		if (!s->busy) {
			s->id = id;
			return s;
		}
	}
}

/* fill the flow's window: build the requests, send them in one call */
static void udp_send(struct bench_worker *w, struct udp_flow *f, u64 now)
{
	struct udp_engine *e = w->engine;
	struct udp_slot *s;
	struct bench_op op;
	u32 k = 0, i;
	int n;

	if (now < f->paused)
		return;
	while (f->inflight + k < w->window && k < UDP_BATCH &&
	       workload_next(w, &op)) {
		s = udp_slot_get(e, f);
		s->op = op;
		s->busy = true;
		s->got = 0;
		put_be16(s->req, s->id);
		put_be16(s->req + 2, 0); /* sequence */
		put_be16(s->req + 4, 1); /* count */
		put_be16(s->req + 6, 0); /* reserved */
		s->req_len = UDP_HDR + mc_build(&w->sh->fmt, op.op, op.key,
						op.ver, s->req + UDP_HDR);
		e->siov[k].iov_base = s->req;
		e->siov[k].iov_len = s->req_len;
		e->sslot[k] = s;
		k++;
	}
	if (!k)
		return;
	n = sendmmsg(f->fd, e->smsg, k, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			udp_socket_error(w, f, errno, now);
		n = 0;
	}
	for (i = 0; i < k; i++) {
		s = e->sslot[i];
		if (i < (u32)n) {
			s->t_sent = now;
			f->inflight++;
		} else {
			s->busy = false; /* not sent: forget it */
		}
	}
}

/* count and free requests older than the timeout */
static void udp_timeouts(struct bench_worker *w, u64 now)
{
	struct udp_engine *e = w->engine;
	u64 limit = (u64)w->sh->o->timeout_ms * NSEC_PER_MSEC;
	struct udp_flow *f;
	u32 i, j;

	for (i = 0; i < w->conns; i++) {
		f = &e->flows[i];
		for (j = 0; f->inflight && j < e->nslots; j++) {
			if (f->slots[j].busy &&
			    now - f->slots[j].t_sent >= limit) {
				w->st.timeouts++;
				slot_free(f, &f->slots[j]);
			}
		}
	}
}

static void udp_loop(struct bench_worker *w)
{
	struct udp_engine *e = w->engine;
	struct epoll_event evs[UDP_EVENTS];
	u64 now = now_ns(), scan_ns, wait_ns;
	int i, n, wait_ms;
	u32 j;

	scan_ns = (u64)w->sh->o->timeout_ms * NSEC_PER_MSEC / 4;
	if (scan_ns > UDP_TICK_MS * NSEC_PER_MSEC)
		scan_ns = UDP_TICK_MS * NSEC_PER_MSEC;
	e->next_scan = now + scan_ns;
	for (j = 0; j < w->conns; j++)
		udp_send(w, &e->flows[j], now);
	for (;;) {
		now = now_ns();
		if (now >= w->t_end)
			break;
		if (now >= e->next_scan) {
			udp_timeouts(w, now);
			for (j = 0; j < w->conns; j++)
				udp_send(w, &e->flows[j], now);
			e->next_scan = now + scan_ns;
		}
		wait_ns = e->next_scan - now;
		if (w->t_end - now < wait_ns)
			wait_ns = w->t_end - now;
		wait_ms = (int)((wait_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
		n = epoll_wait(w->epfd, evs, UDP_EVENTS, wait_ms);
		now = now_ns();
		for (i = 0; i < n; i++)
			udp_read(w, evs[i].data.ptr, now);
		for (i = 0; i < n; i++)
			udp_send(w, evs[i].data.ptr, now);
	}
}

static void udp_teardown(struct bench_worker *w)
{
	struct udp_engine *e = w->engine;
	struct udp_flow *f;
	u32 i, j;

	for (i = 0; e->flows && i < w->conns; i++) {
		f = &e->flows[i];
		if (f->fd >= 0)
			close(f->fd);
		for (j = 0; f->slots && j < e->nslots; j++) {
			free(f->slots[j].parts);
			free(f->slots[j].rbuf);
			free(f->slots[j].req);
		}
		free(f->slots);
	}
	free(e->flows);
	free(e->rx);
	free(e->out);
}

static int udp_flow_open(struct bench_worker *w, struct udp_flow *f)
{
	struct udp_engine *e = w->engine;
	const struct bench_shared *sh = w->sh;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };
	u32 j;

	f->slots = calloc(e->nslots, sizeof(*f->slots));
	if (!f->slots)
		return -ENOMEM;
	for (j = 0; j < e->nslots; j++) {
		f->slots[j].req = malloc(e->req_max);
		if (!f->slots[j].req)
			return -ENOMEM;
	}
	f->next_id = (u16)rng_next(&w->rng);
	f->fd = net_connect(w->dst, sh->has_src ? &sh->src : NULL, SOCK_DGRAM);
	if (f->fd < 0)
		return f->fd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, f->fd, &ev))
		return -errno;
	return 0;
}

static int udp_setup(struct bench_worker *w)
{
	const struct bench_opts *o = w->sh->o;
	struct udp_engine *e = w->engine;
	u32 i;
	int err;

	e->nslots = 2;
	while (e->nslots < 2 * w->window)
		e->nslots *= 2;
	e->req_max = UDP_HDR + (o->set_weight ? mc_request_max(&w->sh->fmt) :
						6 + o->key_size);
	e->flows = calloc(w->conns, sizeof(*e->flows));
	e->rx = malloc((size_t)UDP_BATCH * UDP_RX_SIZE);
	if (!e->flows || !e->rx)
		return -ENOMEM;
	for (i = 0; i < UDP_BATCH; i++) {
		e->riov[i].iov_base = e->rx + (size_t)i * UDP_RX_SIZE;
		e->riov[i].iov_len = UDP_RX_SIZE;
		e->rmsg[i].msg_hdr.msg_iov = &e->riov[i];
		e->rmsg[i].msg_hdr.msg_iovlen = 1;
		e->smsg[i].msg_hdr.msg_iov = &e->siov[i];
		e->smsg[i].msg_hdr.msg_iovlen = 1;
	}
	for (i = 0; i < w->conns; i++)
		e->flows[i].fd = -1;
	for (i = 0; i < w->conns; i++) {
		err = udp_flow_open(w, &e->flows[i]);
		if (err)
			return err;
	}
	return 0;
}

const struct bench_transport bench_udp = {
	.name = "udp",
	.engine_size = sizeof(struct udp_engine),
	.setup = udp_setup,
	.loop = udp_loop,
	.teardown = udp_teardown,
};
