// SPDX-License-Identifier: GPL-2.0
/*
 * sock.c - opening the listen sockets, and printing socket addresses.
 *
 * With no -l address xkvd binds one IPv6 socket to "::" with IPV6_V6ONLY
 * off, which serves IPv4 clients too (as ::ffff:a.b.c.d); on a host
 * without IPv6 it falls back to 0.0.0.0. Neither socket uses SO_REUSEPORT:
 * a second server on the same port must fail to start, not share the port.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xkvd.h"

#define UDP_RCVBUF (4 * 1024 * 1024)

/**
 * xkvd_sock_name() - print an address as "a.b.c.d:port" or "[v6]:port".
 * @sa:      the address
 * @len:     its length
 * @buf:     where to print
 * @buf_len: size of @buf
 */
void xkvd_sock_name(const struct sockaddr *sa, socklen_t len, char *buf,
		    size_t buf_len)
{
	char host[INET6_ADDRSTRLEN + 8], port[8];

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, buf_len, "?");
		return;
	}
	if (sa->sa_family == AF_INET6)
		snprintf(buf, buf_len, "[%s]:%s", host, port);
	else
		snprintf(buf, buf_len, "%s:%s", host, port);
}

/**
 * xkvd_now_ms() - a monotonic clock in milliseconds.
 *
 * Return: milliseconds since some fixed point in the past.
 */
u64 xkvd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

/* The wildcard address: "::" when this host has IPv6, else 0.0.0.0. */
static int sock_any(int type, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	int fd;

	memset(ss, 0, sizeof(*ss));
	fd = socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		*len = sizeof(*sin6);
		return fd;
	}
	if (errno != EAFNOSUPPORT)
		return -errno;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_ANY);
	*len = sizeof(*sin);
	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

/* The address given with -l, already checked by the option parser. */
static int sock_literal(const char *addr, int type, struct sockaddr_storage *ss,
			socklen_t *len)
{
	struct addrinfo hints = { 0 }, *ai;
	int fd;

	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = type;
	if (getaddrinfo(addr, NULL, &hints, &ai))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);

	fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

static void sock_set_port(struct sockaddr_storage *ss, u32 port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((u16)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((u16)port);
}

/**
 * xkvd_sock_open() - open, bind and (TCP) listen.
 * @addr:     address literal from -l, or "" for any
 * @port:     port number
 * @type:     SOCK_STREAM or SOCK_DGRAM
 * @name:     filled with the printable address and port
 * @name_len: size of @name
 *
 * Prints why it failed, naming the address and port.
 *
 * Return: a nonblocking socket, or -errno.
 */
int xkvd_sock_open(const char *addr, u32 port, int type, char *name,
		   size_t name_len)
{
	const char *proto = type == SOCK_STREAM ? "TCP" : "UDP";
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int fd, err, on = 1, off = 0, rcvbuf = UDP_RCVBUF;

	if (addr[0])
		fd = sock_literal(addr, type, &ss, &len);
	else
		fd = sock_any(type, &ss, &len);
	if (fd < 0) {
		fprintf(stderr, "xkvd: cannot open a %s socket: %s\n", proto,
			strerror(-fd));
		return fd;
	}
	sock_set_port(&ss, port);
	xkvd_sock_name((struct sockaddr *)&ss, len, name, name_len);

	if (ss.ss_family == AF_INET6 && !addr[0] &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
		goto fail;
	if (type == SOCK_STREAM &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)))
		goto fail;
	/* best effort: the kernel caps it at net.core.rmem_max */
	if (type == SOCK_DGRAM)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&ss, len))
		goto fail;
	if (type == SOCK_STREAM && listen(fd, XKV_LISTEN_BACKLOG))
		goto fail;
	return fd;

fail:
	err = -errno;
	fprintf(stderr, "xkvd: cannot listen on %s %s: %s\n", proto, name,
		strerror(-err));
	close(fd);
	return err;
}
