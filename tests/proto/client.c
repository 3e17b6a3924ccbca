// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets to the server under test. IPv4 only, no name resolution (the
 * binary also runs statically linked inside a busybox VM). Every wait is
 * bounded: SO_RCVTIMEO/SO_SNDTIMEO on the socket and poll() deadlines on
 * top, so a wedged server fails a test instead of hanging the run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "prototest.h"

#define RECV_CHUNK	65536
#define LINE_MAX_BYTES	65536

static int set_timeouts(int fd)
{
	struct timeval tv = {
		.tv_sec = PT_TIMEOUT_MS / 1000,
		.tv_usec = (PT_TIMEOUT_MS % 1000) * 1000,
	};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static int server_addr(struct sockaddr_in *sa, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (inet_pton(AF_INET, pt_opts.host, &sa->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

/* Connect @fd (already carrying its timeouts) to @port on the server. */
static int connect_to(int fd, uint16_t port)
{
	struct sockaddr_in sa;
	int err;

	err = server_addr(&sa, port);
	if (err)
		return err;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/**
 * conn_open() - connect to the server's TCP port
 * @c: connection to fill in
 *
 * Sets receive/send timeouts (which also bound connect()) and
 * TCP_NODELAY, so each send() leaves as its own segment.
 *
 * Return: 0 or a negative errno; @c is usable with conn_close() either way.
 */
int conn_open(struct conn *c)
{
	int one = 1;
	int err;

	sbuf_init(&c->in);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	err = set_timeouts(c->fd);
	if (err)
		return err;
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	return connect_to(c->fd, pt_opts.tcp_port);
}

/**
 * conn_close() - close the socket and drop buffered input
 * @c: connection
 */
void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	sbuf_free(&c->in);
}

/**
 * conn_send() - send all of a buffer
 * @c: connection
 * @p: bytes
 * @n: how many
 *
 * Return: 0, or a negative errno (-EAGAIN when the send timeout expired).
 */
int conn_send(struct conn *c, const void *p, size_t n)
{
	const char *s = p;
	ssize_t r;

	if (pt_opts.verbose)
		tap_log(">", p, n);
	while (n) {
		r = send(c->fd, s, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

/* wait up to @timeout_ms for @fd to be readable: 0, -ETIMEDOUT or -errno */
static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	return 0;
}

/**
 * conn_fill() - receive what the server has sent into @c->in
 * @c: connection
 * @timeout_ms: how long to wait for the first byte; 0 only looks
 *
 * Return: bytes received (> 0), 0 when the server closed the connection,
 * -ETIMEDOUT when nothing came in time, or another negative errno.
 */
int conn_fill(struct conn *c, int timeout_ms)
{
	ssize_t r;
	int n;

	n = wait_readable(c->fd, timeout_ms);
	if (n < 0)
		return n;
	sbuf_reserve(&c->in, RECV_CHUNK);
	do {
		r = recv(c->fd, c->in.data + c->in.len, RECV_CHUNK, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (pt_opts.verbose)
		tap_log("<", c->in.data + c->in.len, (size_t)r);
	c->in.len += (size_t)r;
	c->in.data[c->in.len] = '\0';
	return (int)r;
}

static int remaining_ms(uint64_t deadline)
{
	uint64_t now = pt_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/*
 * Wait until @c->in holds @n bytes; 0, -EPIPE (closed) or -ETIMEDOUT.
 * The timeout runs from the last byte received, so a large reply from a
 * slow (emulated) machine is not cut off while it keeps coming.
 */
static int wait_bytes(struct conn *c, size_t n)
{
	int r;

	while (c->in.len < n) {
		r = conn_fill(c, PT_TIMEOUT_MS);
		if (r == 0)
			return -EPIPE;
		if (r < 0)
			return r;
	}
	return 0;
}

/**
 * conn_read_n() - read exactly @n bytes
 * @c: connection
 * @n: how many
 * @out: the bytes are appended here; on failure, whatever did arrive
 *
 * Return: 0, -EPIPE when the server closed first, -ETIMEDOUT, -errno.
 */
int conn_read_n(struct conn *c, size_t n, struct sbuf *out)
{
	int err = wait_bytes(c, n);
	size_t got = c->in.len < n ? c->in.len : n;

	sbuf_add(out, c->in.data, got);
	sbuf_consume(&c->in, got);
	return err;
}

/**
 * conn_read_line() - read one line, up to and including its '\n'
 * @c: connection
 * @out: the line is appended here; on failure, whatever did arrive
 *
 * Return: 0, -EPIPE, -ETIMEDOUT, -E2BIG (no '\n' in 64 KiB) or -errno.
 */
int conn_read_line(struct conn *c, struct sbuf *out)
{
	uint64_t deadline = pt_now_ms() + PT_TIMEOUT_MS;
	char *nl;
	int r;

	for (;;) {
		nl = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
		if (nl)
			break;
		if (c->in.len > LINE_MAX_BYTES)
			return -E2BIG;
		r = conn_fill(c, remaining_ms(deadline));
		if (r == 0)
			r = -EPIPE;
		if (r < 0) {
			sbuf_add(out, c->in.data, c->in.len);
			sbuf_consume(&c->in, c->in.len);
			return r;
		}
	}
	sbuf_add(out, c->in.data, (size_t)(nl - c->in.data) + 1);
	sbuf_consume(&c->in, (size_t)(nl - c->in.data) + 1);
	return 0;
}

/**
 * conn_wait_closed() - wait for the server to close the connection
 * @c: connection
 * @extra: bytes that arrived before the close are appended here
 *
 * A reset counts as closed too: a server that closes with unread input
 * in its socket makes the kernel send RST instead of FIN.
 *
 * Return: 0 when closed, -ETIMEDOUT when still open after the timeout.
 */
int conn_wait_closed(struct conn *c, struct sbuf *extra)
{
	uint64_t deadline = pt_now_ms() + PT_TIMEOUT_MS;
	int r;

	sbuf_add(extra, c->in.data, c->in.len);
	sbuf_consume(&c->in, c->in.len);
	for (;;) {
		r = conn_fill(c, remaining_ms(deadline));
		sbuf_add(extra, c->in.data, c->in.len);
		sbuf_consume(&c->in, c->in.len);
		if (r == 0 || r == -ECONNRESET || r == -EPIPE)
			return 0;
		if (r < 0)
			return r;
	}
}

/**
 * udp_open() - UDP socket connected to the server's UDP port
 *
 * Return: the socket, or a negative errno.
 */
int udp_open(void)
{
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = set_timeouts(fd);
	if (!err)
		err = connect_to(fd, pt_opts.udp_port);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static void put_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/**
 * udp_send() - send one request datagram with memcached's frame header
 * @fd: socket from udp_open()
 * @id: request id
 * @reserved: value of the header's reserved field
 * @p: request bytes
 * @n: how many
 *
 * The header is request id, sequence 0, datagram count 1 and reserved,
 * each 16-bit big-endian.
 *
 * Return: 0 or a negative errno.
 */
int udp_send(int fd, uint16_t id, uint16_t reserved, const void *p, size_t n)
{
	struct sbuf b;
	unsigned char hdr[8];
	ssize_t r;

	put_be16(hdr, id);
	put_be16(hdr + 2, 0);
	put_be16(hdr + 4, 1);
	put_be16(hdr + 6, reserved);
	sbuf_init(&b);
	sbuf_add(&b, hdr, sizeof(hdr));
	sbuf_add(&b, p, n);
	if (pt_opts.verbose)
		tap_log("U>", b.data, b.len);
	r = send(fd, b.data, b.len, 0);
	sbuf_free(&b);
	if (r < 0)
		return -errno;
	return (size_t)r == n + sizeof(hdr) ? 0 : -EMSGSIZE;
}

/**
 * udp_recv() - receive one datagram
 * @fd: socket from udp_open()
 * @buf: where to put it
 * @cap: size of @buf
 * @timeout_ms: how long to wait
 *
 * Return: its length, -ETIMEDOUT or another negative errno.
 */
int udp_recv(int fd, void *buf, size_t cap, int timeout_ms)
{
	ssize_t r;
	int n;

	n = wait_readable(fd, timeout_ms);
	if (n < 0)
		return n;
	r = recv(fd, buf, cap, 0);
	if (r < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (pt_opts.verbose)
		tap_log("U<", buf, (size_t)r);
	return (int)r;
}
