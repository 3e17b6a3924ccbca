// SPDX-License-Identifier: GPL-2.0
/*
 * udp_policy.c - xkv.ko's UDP policy: the core's (kmod/core/
 * udp_policy.h) filled from the module parameters, and the destination
 * address of each datagram from IP_PKTINFO / IPV6_PKTINFO, as xkvd does
 * it (kmod/user/udp_policy.c).
 *
 * Without udp_allow= the allowlist is the subnet of every address of
 * every interface of the initial network namespace when the module
 * loads, loopback included.
 */
#include "xkvm.h"

#include <linux/inetdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <net/ipv6.h>

static void xkvm_allow_one(struct xkv_udp_policy *pol, const void *addr,
			   u32 alen, u32 len, bool *full)
{
	struct xkv_net_prefix pfx = { .alen = alen, .len = len };

	memcpy(pfx.addr, addr, alen);
	if (xkv_udp_allow_add(pol, &pfx))
		*full = true;
}

/* the subnets of this host's interfaces */
static void xkvm_allow_local(struct xkv_udp_policy *pol)
{
	struct net_device *dev;
	bool full = false;

	rtnl_lock();
	for_each_netdev(&init_net, dev) {
		struct in_device *in_dev = __in_dev_get_rtnl(dev);
		const struct in_ifaddr *ifa;
#if IS_ENABLED(CONFIG_IPV6)
		struct inet6_dev *idev = __in6_dev_get(dev);
		struct inet6_ifaddr *ifp;
#endif

		if (in_dev) {
			in_dev_for_each_ifa_rtnl(ifa, in_dev)
				xkvm_allow_one(pol, &ifa->ifa_local, 4,
					       ifa->ifa_prefixlen, &full);
		}
#if IS_ENABLED(CONFIG_IPV6)
		if (idev) {
			read_lock_bh(&idev->lock);
			list_for_each_entry(ifp, &idev->addr_list, if_list)
				xkvm_allow_one(pol, &ifp->addr, 16,
					       ifp->prefix_len, &full);
			read_unlock_bh(&idev->lock);
		}
#endif
	}
	rtnl_unlock();
	if (full)
		pr_warn("UDP allowlist full: some local subnets left out (udp_allow= lists them)\n");
}

/**
 * xkvm_udp_policy_open() - build the UDP policy and ask the UDP socket
 * for each datagram's destination address.
 * @srv: server whose UDP socket is open
 *
 * Return: 0 or -ENOMEM.
 */
int xkvm_udp_policy_open(struct xkvm_server *srv)
{
	const struct xkv_settings *set = &srv->set;
	struct sock *sk = srv->udp.sock->sk;
	struct xkv_udp_policy *pol;
	char *list;

	pol = kzalloc(sizeof(*pol), GFP_KERNEL);
	if (!pol)
		return -ENOMEM;
	pol->amp_ratio = set->udp_amp_ratio;
	pol->port = set->udp_port;
	/* checked by xkv_settings_check() */
	if (set->udp_allow && set->udp_allow[0])
		xkv_udp_allow_parse(pol, set->udp_allow);
	else
		xkvm_allow_local(pol);
	/* an IPv6 socket also takes IP_PKTINFO, for IPv4-mapped clients */
	ip_sock_set_pktinfo(sk);
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		ip6_sock_set_recvpktinfo(sk);
#endif
	srv->udp_pol = pol;
	list = kmalloc(256, GFP_KERNEL);
	if (list) {
		xkv_udp_allow_format(pol, list, 256);
		pr_info("UDP answers %s, replies at most %u x the request%s\n",
			list, pol->amp_ratio,
			pol->amp_ratio ? "" : " (no budget)");
		kfree(list);
	}
	return 0;
}

/**
 * xkvm_udp_policy_close() - free the policy.
 * @srv: server
 */
void xkvm_udp_policy_close(struct xkvm_server *srv)
{
	kfree(srv->udp_pol);
	srv->udp_pol = NULL;
}
