// SPDX-License-Identifier: GPL-2.0
/*
 * floor.bpf.c - the XDP programs bench/compare measures the hot tier
 * against. None of them looks anything up.
 *
 *   xdp_floor    answers every memcached UDP "get"/"gets" to floor_port
 *                with an empty result ("END\r\n") and passes everything
 *                else: swap MACs, IPv4 addresses and ports, write the frame
 *                header (request id, sequence 0, one datagram), shrink the
 *                frame, recompute both checksums, XDP_TX. Nothing a
 *                driver-level cache does per GET can cost less, so its CPU
 *                per GET end to end is the floor of the comparison.
 *   xdp_reflect  the bare reflector: IPv4 UDP to floor_port goes back with
 *                MACs, addresses and ports swapped (checksums unchanged:
 *                swapping 16-bit words does not change a one's-complement
 *                sum). The ceiling for any reply written at the driver.
 *                UDP from floor_port is reflected too, so that a frame
 *                run through it again and again (BPF_PROG_TEST_RUN's
 *                repeat) always takes the same path.
 *   xdp_tx       returns XDP_TX: what running a program at all costs.
 *   xdp_restore  for BPF_PROG_TEST_RUN's live-frames mode, where the kernel
 *                recycles a frame's page without rewriting it: writes
 *                restore_frame (restore_len bytes, set from user space)
 *                over the frame, then tail-calls restore_next[0], so every
 *                run of a program that rewrites the request (a hit) sees
 *                the request again. Its own cost is the same for every
 *                program it wraps.
 *
 * IPv4 without options or VLAN tags only: that is all the benchmark
 * sends. Anything else is passed.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <stdbool.h>

char LICENSE[] SEC("license") = "GPL";

/* UDP port of the memcached requests, host order; set before load */
const volatile __u16 floor_port = 11211;

/* xdp_restore: the frame to write back, and the program to run then */
#define RESTORE_MAX 256
__u8 restore_frame[RESTORE_MAX];
__u32 restore_len;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} restore_next SEC(".maps");

/* the memcached UDP frame header */
struct mc_frame {
	__be16 id;
	__be16 seq;
	__be16 count;
	__be16 reserved;
};

#define FLOOR_BODY "END\r\n"
#define FLOOR_BODY_LEN 5
#define FLOOR_UDP_LEN (sizeof(struct udphdr) + sizeof(struct mc_frame) + \
		       FLOOR_BODY_LEN)

struct frame {
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	__u8 *payload;
};

/*
 * Parse Ethernet, IPv4 (no options, no fragment) and UDP to floor_port
 * (or from it, with @either), and make sure @need payload bytes follow.
 * Return 0 when it all fits.
 */
static __always_inline int parse(struct xdp_md *ctx, struct frame *f,
				 __u32 need, bool either)
{
	void *end = (void *)(long)ctx->data_end;
	void *p = (void *)(long)ctx->data;

	f->eth = p;
	f->ip = p + sizeof(struct ethhdr);
	f->udp = (void *)f->ip + sizeof(struct iphdr);
	f->payload = (void *)f->udp + sizeof(struct udphdr);
	if (f->payload + need > (__u8 *)end)
		return -1;
	if (f->eth->h_proto != bpf_htons(ETH_P_IP) || f->ip->ihl != 5 ||
	    f->ip->protocol != IPPROTO_UDP ||
	    (f->ip->frag_off & bpf_htons(0x3fff)))
		return -1;
	if (f->udp->dest != bpf_htons(floor_port) &&
	    (!either || f->udp->source != bpf_htons(floor_port)))
		return -1;
	return 0;
}

static __always_inline void swap_addrs(struct frame *f)
{
	__u8 mac[ETH_ALEN];
	__be32 a;
	__be16 port;

	__builtin_memcpy(mac, f->eth->h_source, ETH_ALEN);
	__builtin_memcpy(f->eth->h_source, f->eth->h_dest, ETH_ALEN);
	__builtin_memcpy(f->eth->h_dest, mac, ETH_ALEN);
	a = f->ip->saddr;
	f->ip->saddr = f->ip->daddr;
	f->ip->daddr = a;
	port = f->udp->source;
	f->udp->source = f->udp->dest;
	f->udp->dest = port;
}

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* one's-complement sum of the 16-bit words of an IPv4 header, no options */
static __always_inline __u32 sum_ip(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	return sum;
}

SEC("xdp")
int xdp_floor(struct xdp_md *ctx)
{
	/* "get " plus at least one key byte; "gets" is "get" + 's' */
	const __u32 need = sizeof(struct mc_frame) + 5;
	struct mc_frame *mf;
	struct frame f;
	__u32 old_len, sum;
	__u8 *cmd;
	int delta;

	if (parse(ctx, &f, need, false))
		return XDP_PASS;
	cmd = f.payload + sizeof(*mf);
	if (cmd[0] != 'g' || cmd[1] != 'e' || cmd[2] != 't' ||
	    (cmd[3] != ' ' && !(cmd[3] == 's' && cmd[4] == ' ')))
		return XDP_PASS;
	old_len = (__u32)(ctx->data_end - ctx->data);
	delta = (int)(sizeof(struct ethhdr) + sizeof(struct iphdr) +
		      FLOOR_UDP_LEN) - (int)old_len;
	if (delta > 0)
		return XDP_PASS;	/* cannot happen: need covers it */

	swap_addrs(&f);
	mf = (struct mc_frame *)f.payload;
	mf->seq = 0;
	mf->count = bpf_htons(1);
	mf->reserved = 0;
	__builtin_memcpy(f.payload + sizeof(*mf), FLOOR_BODY, FLOOR_BODY_LEN);

	f.ip->tot_len = bpf_htons(sizeof(struct iphdr) + FLOOR_UDP_LEN);
	f.ip->ttl = 64;
	f.ip->check = 0;
	f.ip->check = (__u16)~fold(sum_ip(f.ip));

	/* pseudo header, UDP header and payload, as 16-bit words */
	f.udp->len = bpf_htons(FLOOR_UDP_LEN);
	f.udp->check = 0;
	sum = (f.ip->saddr & 0xffff) + (f.ip->saddr >> 16) +
	      (f.ip->daddr & 0xffff) + (f.ip->daddr >> 16) +
	      bpf_htons(IPPROTO_UDP) + f.udp->len;
	sum += f.udp->source + f.udp->dest + f.udp->len;
	sum += mf->id + mf->count;
	/* "EN" "D\r" "\n" padded with a zero byte */
	sum += *(__u16 *)(f.payload + 8) + *(__u16 *)(f.payload + 10);
	sum += bpf_htons((__u16)(f.payload[12] << 8));
	sum = (__u16)~fold(sum);
	f.udp->check = sum ? (__u16)sum : 0xffff;

	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return XDP_ABORTED;
	return XDP_TX;
}

SEC("xdp")
int xdp_reflect(struct xdp_md *ctx)
{
	struct frame f;

	if (parse(ctx, &f, 0, true))
		return XDP_PASS;
	swap_addrs(&f);
	return XDP_TX;
}

SEC("xdp")
int xdp_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

SEC("xdp")
int xdp_restore(struct xdp_md *ctx)
{
	__u32 len = restore_len;
	int cur;

	if (len < sizeof(struct ethhdr) || len > RESTORE_MAX)
		return XDP_ABORTED;
	cur = (int)(ctx->data_end - ctx->data);
	if (cur != (int)len && bpf_xdp_adjust_tail(ctx, (int)len - cur))
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, restore_frame, len))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &restore_next, 0);
	return XDP_ABORTED;
}
