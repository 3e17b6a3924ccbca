// SPDX-License-Identifier: GPL-2.0
/*
 * udp_policy.c - xkvd's UDP policy: the core's (kmod/core/
 * udp_policy.h) filled from the settings, and the destination address of
 * each datagram from IP_PKTINFO / IPV6_PKTINFO.
 *
 * Without --udp-allow the allowlist is the subnet of every address of
 * every interface when xkvd starts (getifaddrs()), loopback included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "udp.h"
#include "xkvd.h"

static u32 mask_len(const u8 *mask, u32 n)
{
	u32 i, len = 0;

	for (i = 0; i < n; i++)
		len += (u32)__builtin_popcount(mask[i]);
	return len;
}

/* the subnets of this host's interfaces */
static int allow_local(struct xkv_udp_policy *pol)
{
	struct ifaddrs *ifa0, *ifa;
	struct xkv_net_prefix pfx;
	int err = 0;

	if (getifaddrs(&ifa0))
		return -errno;
	for (ifa = ifa0; ifa && !err; ifa = ifa->ifa_next) {
		const struct sockaddr *sa = ifa->ifa_addr;
		const struct sockaddr *nm = ifa->ifa_netmask;
		const void *addr, *mask;

		if (!sa || !nm || sa->sa_family != nm->sa_family)
			continue;
		memset(&pfx, 0, sizeof(pfx));
		if (sa->sa_family == AF_INET) {
			addr = &((const struct sockaddr_in *)sa)->sin_addr;
			mask = &((const struct sockaddr_in *)nm)->sin_addr;
			pfx.alen = 4;
		} else if (sa->sa_family == AF_INET6) {
			addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
			mask = &((const struct sockaddr_in6 *)nm)->sin6_addr;
			pfx.alen = 16;
		} else {
			continue;
		}
		memcpy(pfx.addr, addr, pfx.alen);
		pfx.len = (u8)mask_len(mask, pfx.alen);
		err = xkv_udp_allow_add(pol, &pfx);
	}
	freeifaddrs(ifa0);
	if (err)
		fprintf(stderr,
			"xkvd: UDP allowlist full: some local subnets left out (--udp-allow lists them)\n");
	return 0;
}

/**
 * xkvd_udp_policy_open() - build the UDP policy and ask the UDP socket
 * for each datagram's destination address.
 * @srv: server whose UDP socket is open
 *
 * Return: 0, or -errno after printing why.
 */
int xkvd_udp_policy_open(struct xkvd_server *srv)
{
	const struct xkv_settings *set = &srv->set;
	struct xkv_udp_policy *pol;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char list[256];
	int on = 1, err;

	pol = calloc(1, sizeof(*pol));
	if (!pol)
		return -ENOMEM;
	pol->amp_ratio = set->udp_amp_ratio;
	pol->port = set->udp_port;
	if (set->udp_allow && set->udp_allow[0])
		err = xkv_udp_allow_parse(pol, set->udp_allow);
	else
		err = allow_local(pol);
	if (err) {
		fprintf(stderr, "xkvd: cannot build the UDP allowlist: %s\n",
			strerror(-err));
		goto free_pol;
	}
	/* an IPv6 socket also takes IP_PKTINFO, for IPv4-mapped clients */
	if (getsockname(srv->udp_fd, (struct sockaddr *)&ss, &sslen) ||
	    setsockopt(srv->udp_fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(srv->udp_fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
			sizeof(on)))) {
		err = -errno;
		fprintf(stderr, "xkvd: UDP destination addresses: %s\n",
			strerror(errno));
		goto free_pol;
	}
	srv->udp_pol = pol;
	if (xkv_os_verbose >= 1) {
		xkv_udp_allow_format(pol, list, sizeof(list));
		fprintf(stderr,
			"xkvd: UDP answers %s, replies at most %u x the request%s\n",
			list, pol->amp_ratio,
			pol->amp_ratio ? "" : " (no budget)");
	}
	return 0;

free_pol:
	free(pol);
	return err;
}

/**
 * xkvd_udp_policy_close() - free the policy.
 * @srv: server
 */
void xkvd_udp_policy_close(struct xkvd_server *srv)
{
	free(srv->udp_pol);
	srv->udp_pol = NULL;
}

/*
 * The destination an IP_PKTINFO or IPV6_PKTINFO message gives (an IPv4
 * datagram to an IPv6 socket brings both); once broadcast, it stays so.
 */
static void take_pktinfo(const struct cmsghdr *c, struct xkv_udp_addr *dst)
{
	bool group = dst->group;
	struct in6_pktinfo pi6;
	struct in_pktinfo pi;

	if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
	    c->cmsg_len >= CMSG_LEN(sizeof(pi))) {
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		xkv_udp_addr_set(dst, (const u8 *)&pi.ipi_addr, 4, 0);
		/* the kernel's local address differs for broadcast */
		group |= pi.ipi_addr.s_addr != pi.ipi_spec_dst.s_addr;
	} else if (c->cmsg_level == IPPROTO_IPV6 &&
		   c->cmsg_type == IPV6_PKTINFO &&
		   c->cmsg_len >= CMSG_LEN(sizeof(pi6))) {
		memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
		xkv_udp_addr_set(dst, pi6.ipi6_addr.s6_addr, 16, 0);
	}
	dst->group = group;
}

/**
 * xkvd_udp_peer() - the two ends of a datagram received with its control
 * messages.
 * @m:   the received message (name and control filled)
 * @src: out: its source
 * @dst: out: its destination, alen 0 if no control message said it
 */
void xkvd_udp_peer(const struct msghdr *m, struct xkv_udp_addr *src,
		   struct xkv_udp_addr *dst)
{
	const struct sockaddr_storage *ss = m->msg_name;
	struct cmsghdr *c;

	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = m->msg_name;

		xkv_udp_addr_set(src, s6->sin6_addr.s6_addr, 16,
				 ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = m->msg_name;

		xkv_udp_addr_set(src, (const u8 *)&s4->sin_addr, 4,
				 ntohs(s4->sin_port));
	}
	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c))
		take_pktinfo(c, dst);
	/* a destination not known for sure is not answered */
	if (m->msg_flags & MSG_CTRUNC)
		dst->group = true;
}
