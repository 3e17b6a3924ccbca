// SPDX-License-Identifier: GPL-2.0
/*
 * iface.c - what the loader needs to know about an interface's frames.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xkv_policy.h"
#include "iface.h"

bool xkv_iface_csum_partial(const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	bool partial = false;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_LOOPBACK)) {
		partial = true;
		goto out;
	}
	ifr.ifr_data = (void *)&info;
	if (!ioctl(fd, SIOCETHTOOL, &ifr) && !strcmp(info.driver, "veth"))
		partial = true;
out:
	close(fd);
	return partial;
}

/* @sa as an xkv_addrs key: IPv6, or IPv4 mapped */
static bool addr_key(const struct sockaddr *sa, struct xkv_addr *k)
{
	memset(k, 0, sizeof(*k));
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		k->addr[10] = 0xff;
		k->addr[11] = 0xff;
		memcpy(k->addr + 12,
		       &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(k->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		       16);
		return true;
	}
	return false;
}

/* OR @flag into @k's entry */
static int addr_mark(int map_fd, const struct xkv_addr *k, __u32 flag)
{
	__u32 v = 0;

	bpf_map_lookup_elem(map_fd, k, &v);
	v |= flag;
	return bpf_map_update_elem(map_fd, k, &v, BPF_ANY) ? -errno : 0;
}

int xkv_iface_addrs(const char *ifname, int map_fd)
{
	struct ifaddrs *ifa0, *ifa;
	__u32 own, mask, bcast;
	struct xkv_addr k, m;
	int n = 0, err = 0;

	if (getifaddrs(&ifa0))
		return -errno;
	for (ifa = ifa0; ifa && !err; ifa = ifa->ifa_next) {
		if (strcmp(ifa->ifa_name, ifname) ||
		    !addr_key(ifa->ifa_addr, &k))
			continue;
		err = addr_mark(map_fd, &k, XKV_ADDR_LOCAL);
		n++;
		if (err || ifa->ifa_addr->sa_family != AF_INET ||
		    !addr_key(ifa->ifa_netmask, &m))
			continue;
		/*
		 * The kernel routes the subnet's last address as broadcast
		 * (below /31), whatever "brd" says; a "brd" set apart too.
		 */
		memcpy(&own, k.addr + 12, 4);
		memcpy(&mask, m.addr + 12, 4);
		if (ntohl(mask) < 0xfffffffe) {
			bcast = own | ~mask;
			memcpy(k.addr + 12, &bcast, 4);
			err = addr_mark(map_fd, &k, XKV_ADDR_BCAST);
			n++;
		}
		if (!err && (ifa->ifa_flags & IFF_BROADCAST) &&
		    addr_key(ifa->ifa_broadaddr, &k) &&
		    memcmp(k.addr + 12, &own, 4) &&
		    memcmp(k.addr + 12, &(__u32){ 0 }, 4)) {
			err = addr_mark(map_fd, &k, XKV_ADDR_BCAST);
			n++;
		}
	}
	freeifaddrs(ifa0);
	return err ? err : n;
}
