/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcppkt.h - hand-built TCP segments for the TCP fast path's fixtures
 * (tests/bpf/test_tcp.c): a client's segments, the kernel's, and the
 * reply XDP must send, computed here independently of the BPF program.
 */
#ifndef XKV_TESTS_BPF_TCPPKT_H
#define XKV_TESTS_BPF_TCPPKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

/* TCP flag bits (RFC 9293) */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

#define TCPPKT_SACK_MAX 4

/**
 * struct tcpseg - one TCP segment to build (zero = the usual value).
 * @ipv6:     IPv6 instead of IPv4
 * @nvlans:   802.1Q/802.1ad tags, 0..2
 * @out:      from the server to the client (the kernel's segments, XDP's
 *            replies); else from the client to the server
 * @xdp:      the IP header XDP writes (id 0, tos 0); else a stack's (id
 *            0x1234)
 * @cport:    the client's port (0 = PKT_CLIENT_PORT)
 * @sport:    the server's port (0 = PKT_SERVER_PORT)
 * @seq:      sequence number
 * @ack:      acknowledgement number
 * @flags:    TCPF_* bits
 * @win:      window field
 * @mss:      MSS option value, 0 = none
 * @ws:       window scale option: shift + 1, 0 = none
 * @sack_ok:  SACK-permitted option
 * @ts:       timestamp option
 * @tsval:    its TSval
 * @tsecr:    its TSecr
 * @nsack:    SACK blocks, 0..TCPPKT_SACK_MAX (4 only without @ts)
 * @sack:     their edges, [left, right)
 * @xopt:     raw option bytes after those (malformed ones, say)
 * @xlen:     their length
 * @data:     payload
 * @len:      its length
 * @bad_csum: the TCP checksum off by one
 * @partial:  the TCP checksum field holds only the pseudo-header's sum,
 *            as checksum offload leaves it (veth, lo)
 */
struct tcpseg {
	bool ipv6;
	int nvlans;
	bool out;
	bool xdp;
	uint16_t cport;
	uint16_t sport;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint16_t win;
	uint16_t mss;
	uint8_t ws;
	bool sack_ok;
	bool ts;
	uint32_t tsval;
	uint32_t tsecr;
	int nsack;
	uint32_t sack[TCPPKT_SACK_MAX][2];
	const uint8_t *xopt;
	size_t xlen;
	const void *data;
	size_t len;
	bool bad_csum;
	bool partial;
};

/*
 * Build @s as a frame into @p, options laid out as Linux lays them out
 * (MSS, SACK-permitted + timestamps, window scale; on other segments NOP
 * NOP TS, then NOP NOP SACK). Bails out (tap) if they do not fit.
 */
void tcppkt_build(struct pkt *p, const struct tcpseg *s);

/**
 * struct tcpview - a TCP frame read back.
 * @l3:      offset of the IP header
 * @l4:      offset of the TCP header
 * @hlen:    TCP header length
 * @seq:     sequence number
 * @ack:     acknowledgement number
 * @flags:   flag byte
 * @win:     window field
 * @data:    offset of the payload
 * @len:     its length
 */
struct tcpview {
	size_t l3;
	size_t l4;
	size_t hlen;
	uint32_t seq;
	uint32_t ack;
	uint8_t flags;
	uint16_t win;
	size_t data;
	size_t len;
};

/*
 * Parse a frame built like tcppkt_build()'s and check its IPv4 header
 * checksum and TCP checksum by summing them again. Returns NULL when the
 * frame is well formed and both sums are right, else what is wrong.
 */
const char *tcppkt_check(const uint8_t *f, size_t len, struct tcpview *v);

#endif /* XKV_TESTS_BPF_TCPPKT_H */
