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

#endif /* XKV_LOADER_IFACE_H */
