/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xkv_config.h - the XDP program's settings.
 *
 * struct xkv_config is not a map the backend sees: the loader writes it into
 * the XDP object's read-only data before loading it.
 */
#ifndef XKV_ABI_CONFIG_H
#define XKV_ABI_CONFIG_H

#include "xkv_types.h"

/* memcached's UDP datagram size, the 8-byte frame header included */
#define XKV_UDP_PAYLOAD_DEFAULT 1400
/* the largest reply payload the program can build, whatever the config */
#define XKV_UDP_PAYLOAD_CAP 2048

/* xkv_config.flags */
#define XKV_CFG_ALLOW_ANY 0x1	/* skip the allowlist: answer any source */
#define XKV_CFG_HEAD_FIRST 0x2	/* grow replies at the head first (drivers
				 * with headroom but no tailroom; the tests
				 * use it to cover that path) */
#define XKV_CFG_CSUM_PARTIAL 0x4	/* accept a UDP checksum field holding
				 * only the pseudo-header sum: what local
				 * senders with checksum offload put there
				 * (lo, veth); the loader sets it there */
#define XKV_CFG_HEAD_ONLY 0x8	/* TCP: resize replies at the head only,
				 * as on a driver with no tailroom (the TCP
				 * fixtures use it to replay one); the
				 * loader sets it in generic mode, where a
				 * tail resize leaves the skb's end off by
				 * the L2 header (6.1 and 6.18) */

/**
 * struct xkv_config - the XDP program's settings, fixed before load.
 * @port:      UDP port of memcached requests, host byte order.
 * @flags:     XKV_CFG_*.
 * @nslots:    slots in xkv_hot, a power of two; must equal the map's
 *             max_entries.
 * @max_reply: largest reply UDP payload (frame header included) XDP sends,
 *             at most XKV_UDP_PAYLOAD_CAP; larger replies are passed to the
 *             backend. Default XKV_UDP_PAYLOAD_DEFAULT, as memcached.
 * @amp_ratio: reply/request budget: XDP answers only when the reply's UDP
 *             payload is at most @amp_ratio times the request's. 0 = no
 *             budget.
 * @tcp_port:  TCP port of the backend, host byte order, for the TCP fast
 *             path (abi/xkv_tcp.h); 0 = no TCP fast path.
 * @pad:       zero
 */
struct xkv_config {
	__u16 port;
	__u16 flags;
	__u32 nslots;
	__u32 max_reply;
	__u32 amp_ratio;
	__u16 tcp_port;
	__u16 pad;
};

#endif /* XKV_ABI_CONFIG_H */
