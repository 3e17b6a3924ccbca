/* SPDX-License-Identifier: GPL-2.0 */
/*
 * net.h - addresses and client sockets.
 */
#ifndef XKV_BENCH_NET_H
#define XKV_BENCH_NET_H

#include <sys/socket.h>

#include "bench.h"

/**
 * struct net_addr - a resolved socket address.
 * @ss:  the address
 * @len: its length
 */
struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

int net_resolve(const char *host, u16 port, struct net_addr *out);
int net_connect(const struct net_addr *dst, const struct net_addr *src,
		int type);
void net_name(const struct net_addr *a, char *buf, size_t len);

#endif /* XKV_BENCH_NET_H */
