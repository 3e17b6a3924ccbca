/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkt.h - hand-built frames for the XDP fixtures (and bench/xdpcost's
 * requests): memcached UDP requests and the replies the hot tier must
 * send, computed here independently of the BPF program (its headers are
 * only used for the map layouts).
 */
#ifndef XKV_TESTS_BPF_PKT_H
#define XKV_TESTS_BPF_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 4096

/**
 * struct pkt_opts - how to build a request (zero = the usual value).
 * @ipv6:     IPv6 instead of IPv4
 * @nvlans:   802.1Q/802.1ad tags, 0..3 (3 is more than XDP takes)
 * @proto:    IP protocol (0 = UDP)
 * @dport:    UDP destination port (0 = 11211)
 * @src:      client address (NULL = the default allowed one), 4 or 16
 *            bytes
 * @ihl:      IPv4 header length in words (0 = 5; more adds NOP options)
 * @frag:     IPv4 frag_off field, host order (DF, MF, offset)
 * @v6frag:   IPv6: put a fragment header before UDP
 * @id:       memcached request id
 * @seq:      memcached sequence number
 * @count:    memcached datagram count (0 = 1; use @count_zero for 0)
 * @count_zero: send a count of 0
 * @reserved: memcached reserved field
 * @pad_to:   pad the frame with zeros up to this length (Ethernet minimum)
 * @no_frame: leave out the 8-byte memcached frame header
 * @dst:      server address (NULL = the default one), 4 or 16 bytes
 * @sport:    UDP source port (0 = 40000; use @sport_zero for 0)
 * @sport_zero: send from port 0
 * @csum:     what the UDP checksum field holds (PKT_CSUM_*)
 */
struct pkt_opts {
	bool ipv6;
	int nvlans;
	uint8_t proto;
	uint16_t dport;
	const uint8_t *src;
	int ihl;
	uint16_t frag;
	bool v6frag;
	uint16_t id;
	uint16_t seq;
	uint16_t count;
	bool count_zero;
	uint16_t reserved;
	size_t pad_to;
	bool no_frame;
	const uint8_t *dst;
	uint16_t sport;
	bool sport_zero;
	int csum;
};

/* struct pkt_opts.csum */
enum {
	PKT_CSUM_FULL,		/* the complete sum, as from a wire */
	PKT_CSUM_PARTIAL,	/* the pseudo-header sum only (offload) */
	PKT_CSUM_NONE,		/* 0: none (allowed on IPv4 only) */
	PKT_CSUM_BAD,		/* the complete sum, off by one */
};

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
};

extern const uint8_t pkt_client4[4], pkt_server4[4];
extern const uint8_t pkt_client6[16], pkt_server6[16];
extern const uint8_t pkt_client_mac[6], pkt_server_mac[6];
#define PKT_CLIENT_PORT 40000
#define PKT_SERVER_PORT 11211

/* build a request carrying @text after the memcached frame header */
void pkt_request(struct pkt *p, const struct pkt_opts *o, const void *text,
		 size_t len);
/* build the reply XDP must send to such a request, with body @text */
void pkt_reply(struct pkt *p, const struct pkt_opts *o, const void *text,
	       size_t len);

/**
 * pkt_ethertype() - the EtherType of frame @f after its VLAN tags.
 * @f:   the frame
 * @len: its length
 * @off: out: where the L3 header starts
 *
 * Return: the EtherType, or -1 when the frame ends before it.
 */
int pkt_ethertype(const uint8_t *f, size_t len, size_t *off);

/*
 * Check a reply frame's IPv4 header checksum and UDP checksum by summing
 * them again; returns NULL when both are right, else what is wrong.
 */
const char *pkt_check_sums(const uint8_t *f, size_t len);

/* one's-complement sum of @len bytes, folded, not inverted */
uint16_t pkt_csum_add(uint32_t sum, const void *data, size_t len);

#endif /* XKV_TESTS_BPF_PKT_H */
