// SPDX-License-Identifier: GPL-2.0
/*
 * net.c - addresses and client sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "net.h"

/* how long a TCP connect() may take */
#define NET_CONNECT_TIMEOUT_S 5
/* UDP socket buffers: room for a window of replies */
#define NET_UDP_BUF (1 << 20)

/**
 * net_resolve() - turn a name or literal and a port into an address.
 * @host: name, IPv4 or IPv6 literal
 * @port: port number (0 for a source address)
 * @out:  the first address found
 *
 * Return: 0, or -EHOSTUNREACH (reported on stderr).
 */
int net_resolve(const char *host, u16 port, struct net_addr *out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res;
	char svc[8];
	int err;

	snprintf(svc, sizeof(svc), "%u", port);
	hints.ai_flags = AI_NUMERICSERV;
	err = getaddrinfo(host, svc, &hints, &res);
	if (err) {
		fprintf(stderr, "xkv-bench: %s: %s\n", host, gai_strerror(err));
		return -EHOSTUNREACH;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/**
 * net_name() - print an address as "a.b.c.d:port" or "[v6]:port".
 * @a:   the address
 * @buf: where to print
 * @len: size of @buf
 */
void net_name(const struct net_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in6 *s6 = (const void *)&a->ss;
	const struct sockaddr_in *s4 = (const void *)&a->ss;

	if (a->ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	}
}

/**
 * net_connect() - open a nonblocking client socket, connected.
 * @dst:  server address
 * @src:  source address (any port), or NULL
 * @type: SOCK_STREAM or SOCK_DGRAM
 *
 * TCP sockets get TCP_NODELAY (requests are written whole and must not
 * wait for Nagle); UDP sockets get larger buffers and are connected too,
 * so the kernel drops datagrams from anyone but the server.
 *
 * Return: the socket, or -errno (reported on stderr).
 */
int net_connect(const struct net_addr *dst, const struct net_addr *src,
		int type)
{
	struct timeval tv = { .tv_sec = NET_CONNECT_TIMEOUT_S };
	int fd, on = 1, buf = NET_UDP_BUF, err;
	char name[INET6_ADDRSTRLEN + 16];

	fd = socket(dst->ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (src && bind(fd, (const struct sockaddr *)&src->ss, src->len))
		goto fail_close;
	if (type == SOCK_STREAM) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		/* on Linux, SO_SNDTIMEO bounds a blocking connect() */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	} else {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	}
	if (connect(fd, (const struct sockaddr *)&dst->ss, dst->len))
		goto fail_close;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		goto fail_close;
	return fd;

fail_close:
	err = errno;
	close(fd);
	errno = err;
fail:
	err = errno;
	net_name(dst, name, sizeof(name));
	fprintf(stderr, "xkv-bench: %s %s: %s\n",
		type == SOCK_STREAM ? "tcp" : "udp", name, strerror(err));
	return -err;
}
