/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iface.h - what the loader needs to know about an interface's frames.
 */
#ifndef XKV_LOADER_IFACE_H
#define XKV_LOADER_IFACE_H

#include <stdbool.h>

/**
 * xkv_iface_csum_partial() - may frames on @ifname carry a partial UDP
 * checksum?
 * @ifname: interface name
 *
 * Local senders with checksum offload leave only the pseudo-header sum in
 * the UDP checksum field, and the stack trusts such frames without
 * checking. They reach XDP that way on lo and on a veth (from its peer);
 * frames from a wire always carry a complete sum. XDP accepts the partial
 * form only where this says so (XKV_CFG_CSUM_PARTIAL).
 *
 * Return: true for a loopback device or a veth.
 */
bool xkv_iface_csum_partial(const char *ifname);

/**
 * xkv_iface_addrs() - fill XDP's xkv_addrs map with an interface's own
 * addresses (XKV_ADDR_LOCAL) and the broadcast address of each IPv4
 * subnet of it (XKV_ADDR_BCAST), as they are now in this network
 * namespace.
 * @ifname: interface name
 * @map_fd: the xkv_addrs map
 *
 * Return: how many addresses went in, or -errno.
 */
int xkv_iface_addrs(const char *ifname, int map_fd);

#endif /* XKV_LOADER_IFACE_H */
