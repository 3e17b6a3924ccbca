// SPDX-License-Identifier: GPL-2.0
/*
 * xkv-load - keep a memcached server busy while it is being taken down.
 *
 *   xkv-load [-h HOST] [-p PORT] [-U UDPPORT] [-c CONNS] [-s SECONDS]
 *   xkv-load --check [-h HOST] [-p PORT]
 *   xkv-load --udp-check [-h HOST] -U UDPPORT
 *   xkv-load --limit N [-h HOST] [-p PORT]
 *   xkv-load --bigget [-h HOST] [-p PORT]
 *   xkv-load --idle N [-h HOST] [-p PORT]
 *
 * Opens CONNS TCP connections of four kinds (none with -c 0) and, with
 * -U, a UDP socket:
 *
 *   active   pipelines sets (values up to 64 KiB), gets, multi-gets,
 *            incr, append and deletes, and reads whatever comes back
 *   idle     connects and says nothing
 *   partial  leaves half a command line and half a value in the server
 *   stuck    asks for a large value over and over and never reads, so
 *            the server holds back output for it (back-pressure)
 *
 * It runs for SECONDS (default 10) or until the server has closed every
 * connection, whichever comes first; the server going away is expected
 * and not an error. Every wait is bounded. The first reply to an active
 * client prints "xkv-load: replies are coming", so that a test can wait
 * for traffic to flow before it pulls the server away.
 *
 * Exit status: 0 when the server took connections and replied to the
 * active ones, 1 otherwise, 2 on bad usage. --check sends "version" once
 * and exits 0 when the reply starts with "VERSION "; --udp-check does the
 * same over UDP, frame header included. --limit N checks a
 * server started with a limit of N connections: N are served, one more
 * gets "ERROR Too many open connections" and is closed.
 *
 * --bigget stores BIGGET_VALUES values of 1,000,000 bytes and asks for
 * them in one get of BIGGET_KEYS keys (a 100 MB reply): it must come back
 * whole and byte-exact. --idle N checks a server started with a limit of
 * N connections and idle_timeout=1: N connections holding half a line
 * fill it, and within a few seconds they are closed and a new client is
 * served.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	256
#define OUT_CAP		(256 * 1024)
#define BIG_VALUE	(512 * 1024)
#define UDP_BURST	4
#define BIGGET_VALUE	1000000
#define BIGGET_VALUES	20
#define BIGGET_KEYS	100

enum kind { ACTIVE, IDLE, PARTIAL, STUCK };

struct lconn {
	int fd;
	enum kind kind;
	char *out;
	size_t olen, ooff;
	unsigned long seq;
	int done;
};

static struct sockaddr_in srv_tcp, srv_udp;
static unsigned long long sent_cmds, recv_bytes, udp_sent, udp_recv;
static unsigned int closed_by_server, errors, connected;
static uint64_t start_ms, first_reply_ms, connected_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int addr_of(struct sockaddr_in *sa, const char *host, int port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* A connected, non-blocking TCP socket, or -1. */
static int tcp_connect(void)
{
	struct timeval tv = { .tv_sec = 3 };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&srv_tcp, sizeof(srv_tcp))) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static void out_add(struct lconn *c, const void *p, size_t n)
{
	if (c->olen + n > OUT_CAP)
		return;
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
}

static void out_printf(struct lconn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct lconn *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line))
		out_add(c, line, (size_t)n);
}

static void out_value(struct lconn *c, size_t n)
{
	static char fill[64 * 1024];

	if (!fill[0])
		memset(fill, 'v', sizeof(fill));
	out_add(c, fill, n);
	out_add(c, "\r\n", 2);
}

/* One batch of commands for an active connection. */
static void batch(struct lconn *c, int id)
{
	unsigned long s = c->seq++;
	size_t vlen = (size_t)(s * 7919 % (64 * 1024));
	int k = (int)(s % 64);

	out_printf(c, "set load:%d:%d 0 0 %zu\r\n", id, k, vlen);
	out_value(c, vlen);
	out_printf(c, "get load:%d:%d\r\n", id, k);
	out_printf(c, "gets load:%d:%d load:%d:%d load:big\r\n", id, k, id,
		   (k + 1) % 64);
	out_printf(c, "set load:n:%d 0 0 1 noreply\r\n1\r\n", id);
	out_printf(c, "incr load:n:%d 5\r\n", id);
	out_printf(c, "append load:%d:%d 0 0 3\r\nabc\r\n", id, k);
	if (s % 5 == 0)
		out_printf(c, "delete load:%d:%d\r\n", id, (k + 7) % 64);
	if (s % 50 == 0)
		out_printf(c, "stats\r\n");
	sent_cmds += 7;
}

static void conn_init(struct lconn *c, enum kind kind, int id)
{
	int i;

	c->kind = kind;
	c->out = malloc(OUT_CAP);
	c->fd = c->out ? tcp_connect() : -1;
	if (c->fd < 0) {
		c->done = 1;
		errors++;
		return;
	}
	connected++;
	switch (kind) {
	case ACTIVE:
		batch(c, id);
		break;
	case PARTIAL:
		out_printf(c, "set load:partial:%d 0 0 100\r\nhalf a value",
			   id);
		break;
	case STUCK:
		for (i = 0; i < 64; i++)
			out_printf(c, "get load:big\r\n");
		break;
	case IDLE:
		break;
	}
}

static void conn_gone(struct lconn *c, int err)
{
	if (err)
		errors += err != ECONNRESET && err != EPIPE;
	closed_by_server++;
	close(c->fd);
	c->fd = -1;
	c->done = 1;
}

static void conn_io(struct lconn *c, short rev, int id)
{
	char buf[65536];
	ssize_t n;

	if (rev & (POLLIN | POLLHUP | POLLERR)) {
		/* a stuck reader never reads; it only notices a close */
		if (c->kind == STUCK && !(rev & (POLLHUP | POLLERR)))
			goto write;
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0) {
			conn_gone(c, 0);
			return;
		}
		if (n < 0 && errno != EAGAIN) {
			conn_gone(c, errno);
			return;
		}
		if (n > 0 && c->kind == ACTIVE) {
			if (!recv_bytes) {
				first_reply_ms = now_ms() - start_ms;
				/* tests wait for this line */
				printf("xkv-load: replies are coming\n");
				fflush(stdout);
			}
			recv_bytes += (unsigned long long)n;
		}
	}
write:
	if (c->ooff == c->olen) {
		c->ooff = 0;
		c->olen = 0;
		if (c->kind == ACTIVE)
			batch(c, id);
		else if (c->kind == STUCK)
			out_printf(c, "get load:big\r\n");
	}
	if (c->olen > c->ooff && (rev & POLLOUT)) {
		n = send(c->fd, c->out + c->ooff, c->olen - c->ooff,
			 MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			conn_gone(c, errno);
			return;
		}
		if (n > 0)
			c->ooff += (size_t)n;
	}
}

/* A big value for the stuck readers and the multi-gets to ask for. */
static int store_big(void)
{
	static char req[BIG_VALUE + 128];
	char reply[64];
	int fd, n, off = 0, len;
	struct timeval tv = { .tv_sec = 3 };

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&srv_tcp, sizeof(srv_tcp)))
		goto fail;
	len = snprintf(req, sizeof(req), "set load:big 0 0 %d\r\n", BIG_VALUE);
	memset(req + len, 'B', BIG_VALUE);
	len += BIG_VALUE;
	memcpy(req + len, "\r\n", 2);
	len += 2;
	while (off < len) {
		n = (int)send(fd, req + off, (size_t)(len - off), MSG_NOSIGNAL);
		if (n <= 0)
			goto fail;
		off += n;
	}
	n = (int)recv(fd, reply, sizeof(reply) - 1, 0);
	close(fd);
	return n > 0 && !strncmp(reply, "STORED", 6) ? 0 : -1;
fail:
	close(fd);
	return -1;
}

static void udp_burst(int fd, unsigned int *id)
{
	char pkt[128];
	int i, n;

	for (i = 0; i < UDP_BURST; i++) {
		uint16_t rid = (uint16_t)(*id)++;

		pkt[0] = (char)(rid >> 8);
		pkt[1] = (char)rid;
		memcpy(pkt + 2, "\0\0\0\1\0\0", 6);
		/*
		 * Odd connections are active: their values exist, up to
		 * 64 KiB, so one reply in four takes dozens of datagrams;
		 * the others are a counter and a miss.
		 */
		if (rid % 4)
			n = snprintf(pkt + 8, sizeof(pkt) - 8,
				     "get load:n:%u load:none:%u\r\n",
				     1 + 2 * (rid % 8), rid);
		else
			n = snprintf(pkt + 8, sizeof(pkt) - 8,
				     "get load:%u:%u\r\n", 1 + 2 * (rid % 8),
				     rid % 64);
		if (sendto(fd, pkt, (size_t)n + 8, MSG_DONTWAIT,
			   (struct sockaddr *)&srv_udp, sizeof(srv_udp)) > 0)
			udp_sent++;
	}
}

static int check(void)
{
	struct timeval tv = { .tv_sec = 3 };
	char reply[128];
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&srv_tcp, sizeof(srv_tcp)) ||
	    send(fd, "version\r\n", 9, MSG_NOSIGNAL) != 9) {
		close(fd);
		return 1;
	}
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	close(fd);
	if (n < 8 || strncmp(reply, "VERSION ", 8))
		return 1;
	reply[n] = '\0';
	printf("xkv-load: server says %s", reply);
	return 0;
}

/* A blocking connection with timeouts, or -1. */
static int tcp_connect_blocking(void)
{
	struct timeval tv = { .tv_sec = 3 };
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&srv_tcp, sizeof(srv_tcp))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send "version" on @fd; return the first bytes of the reply in @buf. */
static ssize_t ask_version(int fd, char *buf, size_t len)
{
	ssize_t n;

	if (send(fd, "version\r\n", 9, MSG_NOSIGNAL) != 9)
		return -1;
	n = recv(fd, buf, len - 1, 0);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/*
 * With the server's connection limit at @limit: @limit connections are
 * served (retrying while connections closed a moment ago still count),
 * and one more is told "ERROR Too many open connections" and closed.
 */
static int limit_check(int limit)
{
	static const char refused[] = "ERROR Too many open connections\r\n";
	int fds[MAX_CONNS], i, tries, fd, ok = 0;
	char buf[256];
	ssize_t n;

	for (i = 0; i < limit; i++) {
		for (tries = 0; tries < 30; tries++) {
			fds[i] = tcp_connect_blocking();
			if (fds[i] < 0)
				break;
			n = ask_version(fds[i], buf, sizeof(buf));
			if (n > 8 && !strncmp(buf, "VERSION ", 8))
				break;
			close(fds[i]);
			fds[i] = -1;
			usleep(100 * 1000);
		}
		if (fds[i] < 0) {
			fprintf(stderr, "xkv-load: connection %d of %d not "
				"served\n", i + 1, limit);
			goto out;
		}
	}
	fd = tcp_connect_blocking();
	if (fd < 0) {
		fprintf(stderr, "xkv-load: connection over the limit: "
			"connect failed\n");
		goto out;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	ok = n == (ssize_t)sizeof(refused) - 1 && !strcmp(buf, refused) &&
	     recv(fd, buf, sizeof(buf), 0) == 0;
	close(fd);
	if (!ok)
		fprintf(stderr, "xkv-load: connection over the limit got "
			"'%s'\n", buf);
	else
		printf("xkv-load: %d connections served, one more refused\n",
		       limit);
out:
	while (i-- > 0)
		close(fds[i]);
	return !ok;
}

/* The byte at @i of value @k of --bigget. */
static char bigget_byte(int k, size_t i)
{
	return (char)('a' + (i + (size_t)k) % 26);
}

/* Exactly @n bytes from @fd, or -1. */
static int recv_all(int fd, char *p, size_t n)
{
	ssize_t got;

	while (n) {
		got = recv(fd, p, n, 0);
		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
	ssize_t put;

	while (n) {
		put = send(fd, p, n, MSG_NOSIGNAL);
		if (put <= 0)
			return -1;
		p += put;
		n -= (size_t)put;
	}
	return 0;
}

/* A reply line of @fd up to "\r\n" into @buf (NUL-terminated), or -1. */
static int recv_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		if (recv_all(fd, buf + n, 1))
			return -1;
		if (n && buf[n - 1] == '\r' && buf[n] == '\n') {
			buf[n - 1] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

/*
 * A get of BIGGET_KEYS keys naming BIGGET_VALUES values of BIGGET_VALUE
 * bytes: every value comes back, in order and exact, then END.
 */
static int bigget_check(void)
{
	static char val[BIGGET_VALUE + 2];
	char line[BIGGET_KEYS * 12 + 16], want[64], *p = line;
	int fd, k, i, bad = 1;
	size_t j;

	fd = tcp_connect_blocking();
	if (fd < 0)
		return 1;
	for (k = 0; k < BIGGET_VALUES; k++) {
		for (j = 0; j < BIGGET_VALUE; j++)
			val[j] = bigget_byte(k, j);
		memcpy(val + BIGGET_VALUE, "\r\n", 2);
		snprintf(want, sizeof(want), "set big%d 0 0 %d\r\n", k,
			 BIGGET_VALUE);
		if (send_all(fd, want, strlen(want)) ||
		    send_all(fd, val, sizeof(val)) ||
		    recv_line(fd, want, sizeof(want)) ||
		    strcmp(want, "STORED")) {
			fprintf(stderr, "xkv-load: set big%d failed\n", k);
			goto out;
		}
	}
	p += sprintf(p, "get");
	for (i = 0; i < BIGGET_KEYS; i++)
		p += sprintf(p, " big%d", i % BIGGET_VALUES);
	p += sprintf(p, "\r\n");
	if (send_all(fd, line, (size_t)(p - line)))
		goto out;
	for (i = 0; i < BIGGET_KEYS; i++) {
		k = i % BIGGET_VALUES;
		snprintf(want, sizeof(want), "VALUE big%d 0 %d", k,
			 BIGGET_VALUE);
		if (recv_line(fd, line, sizeof(line)) || strcmp(line, want)) {
			fprintf(stderr, "xkv-load: key %d of the get: '%.60s'"
				"\n", i, line);
			goto out;
		}
		if (recv_all(fd, val, sizeof(val)))
			goto out;
		for (j = 0; j < BIGGET_VALUE; j++) {
			if (val[j] != bigget_byte(k, j))
				break;
		}
		if (j < BIGGET_VALUE || memcmp(val + j, "\r\n", 2)) {
			fprintf(stderr, "xkv-load: value %d differs at %zu\n",
				i, j);
			goto out;
		}
	}
	bad = recv_line(fd, line, sizeof(line)) || strcmp(line, "END");
	if (!bad)
		printf("xkv-load: a %d-key get of %d-byte values came back "
		       "whole\n", BIGGET_KEYS, BIGGET_VALUE);
out:
	close(fd);
	return bad;
}

/*
 * With the server's connection limit at @limit and idle_timeout=1:
 * @limit connections holding half a line fill it; they are closed within
 * a few seconds, and a new client is served.
 */
static int idle_check(int limit)
{
	int fds[MAX_CONNS], i, closed = 0, ok = 0;
	char buf[256];
	ssize_t n;

	/* a connection closed a moment ago may still hold its slot */
	usleep(500 * 1000);
	for (i = 0; i < limit; i++) {
		fds[i] = tcp_connect_blocking();
		if (fds[i] < 0 ||
		    send(fds[i], "get half", 8, MSG_NOSIGNAL) != 8) {
			fprintf(stderr, "xkv-load: connection %d failed\n", i);
			goto out;
		}
	}
	/* the receive timeout is 3 s: a close comes first, or nothing */
	for (closed = 0; closed < limit; closed++) {
		n = recv(fds[closed], buf, sizeof(buf), 0);
		if (n) {
			fprintf(stderr, "xkv-load: half-line connection %d "
				"not closed (%zd)\n", closed, n);
			goto out;
		}
	}
	ok = !check();
	if (ok)
		printf("xkv-load: %d idle connections closed, a new one "
		       "served\n", limit);
out:
	while (i-- > 0)
		close(fds[i]);
	return !ok;
}

/* "version" over UDP: one datagram out, the framed reply back. */
static int udp_check(void)
{
	static const char req[] = "\0\1\0\0\0\1\0\0version\r\n";
	struct timeval tv = { .tv_sec = 2 };
	char reply[256];
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, req, sizeof(req) - 1, 0, (struct sockaddr *)&srv_udp,
		   sizeof(srv_udp)) < 0) {
		close(fd);
		return 1;
	}
	n = recv(fd, reply, sizeof(reply) - 1, 0);
	close(fd);
	/* id 1, sequence 0, one datagram */
	if (n < 16 || memcmp(reply, "\0\1\0\0\0\1", 6) ||
	    strncmp(reply + 8, "VERSION ", 8))
		return 1;
	reply[n] = '\0';
	printf("xkv-load: server says over UDP %s", reply + 8);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xkv-load [-h HOST] [-p PORT] [-U UDPPORT] [-c CONNS] "
		"[-s SECONDS]\n"
		"       xkv-load --check [-h HOST] [-p PORT]\n"
		"       xkv-load --udp-check [-h HOST] -U UDPPORT\n"
		"       xkv-load --limit N [-h HOST] [-p PORT]\n"
		"       xkv-load --bigget [-h HOST] [-p PORT]\n"
		"       xkv-load --idle N [-h HOST] [-p PORT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "limit", required_argument, NULL, 'L' },
		{ "udp-check", no_argument, NULL, 'D' },
		{ "bigget", no_argument, NULL, 'B' },
		{ "idle", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	static struct lconn conns[MAX_CONNS];
	struct pollfd pfd[MAX_CONNS + 1];
	const char *host = "127.0.0.1";
	int port = 11211, uport = 0, nconns = 16, secs = 10, opt;
	int i, alive, udp_fd = -1, do_check = 0, do_udp_check = 0, limit = 0;
	int do_bigget = 0, idle = 0;
	unsigned int udp_id = 0;
	uint64_t end, udp_next = 0;
	char buf[2048];

	while ((opt = getopt_long(argc, argv, "h:p:U:c:s:", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'U':
			uport = atoi(optarg);
			break;
		case 'c':
			nconns = atoi(optarg);
			break;
		case 's':
			secs = atoi(optarg);
			break;
		case 'C':
			do_check = 1;
			break;
		case 'D':
			do_udp_check = 1;
			break;
		case 'L':
			limit = atoi(optarg);
			if (limit < 1 || limit >= MAX_CONNS)
				usage();
			break;
		case 'B':
			do_bigget = 1;
			break;
		case 'I':
			idle = atoi(optarg);
			if (idle < 1 || idle >= MAX_CONNS)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (nconns && nconns < 4) || nconns > MAX_CONNS ||
	    secs < 1 || (!nconns && !uport) ||
	    addr_of(&srv_tcp, host, port) || addr_of(&srv_udp, host, uport))
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (do_check)
		return check();
	if (do_udp_check)
		return udp_check();
	if (limit)
		return limit_check(limit);
	if (do_bigget)
		return bigget_check();
	if (idle)
		return idle_check(idle);

	start_ms = now_ms();
	if (store_big())
		fprintf(stderr, "xkv-load: cannot store load:big\n");
	for (i = 0; i < nconns; i++) {
		/* half active, the rest spread over the other kinds */
		enum kind k = i % 2 ? ACTIVE : (enum kind)(1 + (i / 2) % 3);

		conn_init(&conns[i], k, i);
	}
	connected_ms = now_ms() - start_ms;
	if (uport)
		udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	end = now_ms() + (uint64_t)secs * 1000;
	while (now_ms() < end) {
		int n = 0;

		for (i = 0, alive = 0; i < nconns; i++) {
			struct lconn *c = &conns[i];

			pfd[i].fd = c->done ? -1 : c->fd;
			pfd[i].events = POLLIN;
			if (c->olen > c->ooff || c->kind == ACTIVE)
				pfd[i].events |= POLLOUT;
			pfd[i].revents = 0;
			alive += !c->done;
		}
		if (!alive && nconns)
			break;
		pfd[nconns].fd = udp_fd;
		pfd[nconns].events = POLLIN | POLLOUT;
		pfd[nconns].revents = 0;
		n = poll(pfd, (nfds_t)nconns + 1, 100);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < nconns; i++) {
			if (pfd[i].revents && !conns[i].done)
				conn_io(&conns[i], pfd[i].revents, i);
		}
		if (udp_fd >= 0) {
			while (recv(udp_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				udp_recv++;
			/* a burst every 10 ms: more would only be dropped */
			if ((pfd[nconns].revents & POLLOUT) &&
			    now_ms() >= udp_next) {
				udp_burst(udp_fd, &udp_id);
				udp_next = now_ms() + 10;
			}
		}
	}
	printf("xkv-load: %u connected in %llu ms, first reply at %llu ms, "
	       "%llu commands, %llu bytes back, %u closed by the server, "
	       "%u errors, udp %llu/%llu\n",
	       connected, (unsigned long long)connected_ms,
	       (unsigned long long)first_reply_ms, sent_cmds, recv_bytes,
	       closed_by_server, errors, udp_recv, udp_sent);
	if (!nconns)
		return udp_recv ? 0 : 1;
	return connected && recv_bytes ? 0 : 1;
}
