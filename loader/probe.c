// SPDX-License-Identifier: GPL-2.0
/*
 * probe.c - ask a memcached server for its version; test a port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

#define XKV_PROBE_MS 250
#define XKV_PROBE_ADDRS 16

static int wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&pfd, 1, ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/* connect, send @req, expect a reply starting with @expect, each step
 * within XKV_PROBE_MS */
static int probe_one(const struct sockaddr *sa, socklen_t len,
		     const char *req, size_t rlen, const char *expect,
		     size_t elen_want)
{
	char buf[64];
	socklen_t elen = sizeof(int);
	int fd, err, soerr = 0;
	size_t got = 0;
	ssize_t n;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len) && errno != EINPROGRESS) {
		err = -errno;
		goto close_fd;
	}
	err = wait_fd(fd, POLLOUT, XKV_PROBE_MS);
	if (err)
		goto close_fd;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) || soerr) {
		err = soerr ? -soerr : -errno;
		goto close_fd;
	}
	if (send(fd, req, rlen, MSG_NOSIGNAL) != (ssize_t)rlen) {
		err = -EIO;
		goto close_fd;
	}
	while (got < elen_want) {
		err = wait_fd(fd, POLLIN, XKV_PROBE_MS);
		if (err)
			goto close_fd;
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n <= 0) {
			err = n ? -errno : -ECONNRESET;
			goto close_fd;
		}
		got += (size_t)n;
	}
	err = memcmp(buf, expect, elen_want) ? -EPROTO : 0;
close_fd:
	close(fd);
	return err;
}

/* fill @ss with @host:@port, numeric IPv4 or IPv6 */
static bool make_addr(const char *host, unsigned int port,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		*len = sizeof(*s4);
		return true;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*s6);
		return true;
	}
	return false;
}

/* probe_one() at @listen, or loopback, or @ifname's addresses */
static int probe_any(const char *listen, const char *ifname,
		     unsigned int port, const char *req, size_t rlen,
		     const char *expect, size_t elen)
{
	struct sockaddr_storage ss;
	struct ifaddrs *ifa0, *ifa;
	int err = -ECONNREFUSED;
	socklen_t len;

	if (listen) {
		if (!make_addr(listen, port, &ss, &len))
			return -EINVAL;
		return probe_one((struct sockaddr *)&ss, len, req, rlen,
				 expect, elen);
	}
	if (make_addr("127.0.0.1", port, &ss, &len) &&
	    !probe_one((struct sockaddr *)&ss, len, req, rlen, expect,
		       elen))
		return 0;
	if (make_addr("::1", port, &ss, &len) &&
	    !probe_one((struct sockaddr *)&ss, len, req, rlen, expect,
		       elen))
		return 0;
	/* loopback may be down (a fresh network namespace) */
	if (getifaddrs(&ifa0))
		return -errno;
	for (ifa = ifa0; ifa; ifa = ifa->ifa_next) {
		const struct sockaddr *sa = ifa->ifa_addr;

		if (!sa || strcmp(ifa->ifa_name, ifname))
			continue;
		if (sa->sa_family == AF_INET) {
			memcpy(&ss, sa, sizeof(struct sockaddr_in));
			((struct sockaddr_in *)&ss)->sin_port =
				htons((unsigned short)port);
			len = sizeof(struct sockaddr_in);
		} else if (sa->sa_family == AF_INET6) {
			memcpy(&ss, sa, sizeof(struct sockaddr_in6));
			((struct sockaddr_in6 *)&ss)->sin6_port =
				htons((unsigned short)port);
			len = sizeof(struct sockaddr_in6);
		} else {
			continue;
		}
		err = probe_one((struct sockaddr *)&ss, len, req, rlen,
				expect, elen);
		if (!err)
			break;
	}
	freeifaddrs(ifa0);
	return err;
}

int xkv_probe_command(const char *listen, const char *ifname,
		      unsigned int port, const char *req, const char *expect)
{
	return probe_any(listen, ifname, port, req, strlen(req), expect,
			 strlen(expect));
}

int xkv_probe_version(const char *listen, const char *ifname,
		      unsigned int port)
{
	return xkv_probe_command(listen, ifname, port, "version\r\n",
				 "VERSION ");
}

int xkv_probe_ready(const char *listen, const char *ifname,
		    unsigned int port, unsigned int auth)
{
	/* binary VERSION: magic 0x80, opcode 0x0b, the rest of the header 0 */
	static const char bin_version[24] = { '\x80', '\x0b' };

	if (auth == XKV_AUTH_SASL)
		return probe_any(listen, ifname, port, bin_version,
				 sizeof(bin_version), "\x81\x0b", 2);
	if (auth == XKV_AUTH_ASCII)
		return xkv_probe_command(listen, ifname, port, "version\r\n",
					 "CLIENT_ERROR unauthenticated");
	return xkv_probe_version(listen, ifname, port);
}

int xkv_probe_port_free(unsigned int port, int type)
{
	struct sockaddr_in6 s6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons((unsigned short)port),
		.sin6_addr = IN6ADDR_ANY_INIT,
	};
	struct sockaddr_in s4 = {
		.sin_family = AF_INET,
		.sin_port = htons((unsigned short)port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int fd, off = 0, on = 1, err = 0;

	/* "::" with V6ONLY off collides with IPv4 and IPv6 binds alike */
	fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		/* a listener still collides; TIME_WAIT leftovers do not */
		if (type == SOCK_STREAM)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
				   sizeof(on));
		if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)))
			err = -errno;
		close(fd);
		return err;
	}
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&s4, sizeof(s4)))
		err = -errno;
	close(fd);
	return err;
}
