// SPDX-License-Identifier: GPL-2.0
/*
 * xkv.bpf.c - the hot tier: memcached UDP get/gets answered at the driver.
 *
 * For each frame: parse Ethernet (up to two VLAN tags), IPv4 or IPv6, UDP
 * to the configured port, the 8-byte memcached frame header and a
 * "get"/"gets" line with one or more keys. Look every key up in the hot
 * cache (xkv_hot, written by the backend under a per-slot seqlock, see
 * xkv_slot.h). Only when every key hits, the reply fits one datagram and
 * the reply/request budget, and the source is allowed, turn the frame
 * into the reply and XDP_TX it. Anything else - misses, malformed or
 * truncated requests, other commands, ports and protocols, fragments - is
 * passed up the stack untouched, so the backend answers it (including
 * with the error a malformed request deserves).
 *
 * Verifier cost is kept low by working on copies in per-CPU scratch
 * memory: the request payload is loaded there with bpf_xdp_load_bytes(),
 * parsed one byte per bpf_loop() iteration, and every length and offset
 * the loops use is read back from the scratch map, so the verifier sees it
 * as an unknown bounded value instead of walking each path with a
 * constant. The reply is built in the same scratch buffer and written over
 * the frame with one bpf_xdp_store_bytes() after the frame was resized.
 *
 * Every packet is counted once in struct xkv_stats by its outcome.
 */
#include "xkv_parse.h"
#include "xkv_live.h"
#include "xkv_stats.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load (the object's .rodata). */
const volatile struct xkv_config xkv_cfg = {
	.port = 11211,
	.flags = 0,
	.nslots = XKV_HOT_SLOTS_DEFAULT,
	.max_reply = XKV_UDP_PAYLOAD_DEFAULT,
	.amp_ratio = 0,
};

/* the hot cache: created by the XDP object, shared with learning mode */
#include "xkv_hot_map.h"
#include "xkv_slot.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_stats);
} xkv_stats SEC(".maps");

#include "xkv_policy_maps.h"

/* the backend's lease: written by the backend, read here */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_live);
} xkv_live SEC(".maps");

/* one key of the request: where it is in req[] and its hash */
struct xkv_key_ref {
	__u16 off;
	__u16 len;
	__u32 hash;
};

/*
 * Per-CPU working memory. XDP runs with migration disabled and does not
 * nest on a CPU, so one copy per CPU is enough.
 */
struct xkv_scratch {
	/* the request's headers, as parsed */
	__u32 l2_len;		/* Ethernet header and VLAN tags */
	__u32 ipv6;		/* 0: IPv4 */
	__u32 group;		/* sent to a broadcast/multicast address */
	__u32 pay_off;		/* UDP payload offset in the frame */
	__u32 plen;		/* UDP payload length, frame header included */
	__be32 saddr[4];	/* client address (IPv4: saddr[0]) */
	__be32 daddr[4];	/* our address */
	__be16 sport;		/* client port */
	__be16 dport;		/* our port */
	__u16 ucheck;		/* the request's UDP checksum field, as is */
	/* the key list parser */
	__u32 start;		/* req[] offset of the first byte after "get " */
	__u32 gets;		/* 1 for "gets": print CAS */
	__u32 kstart;		/* req[] offset of the key being read */
	__u32 hash;		/* its running hash */
	__u32 in_key;
	__u32 nkeys;
	__u32 done;		/* the line ended where the payload ends */
	__u32 fail;		/* enum xkv_stat_id of the outcome, 0 = none */
	/* the reply */
	__u32 body;		/* body bytes written at out[XKV_OUT_BODY] */
	__u32 body_max;		/* ... at most, "END\r\n" not counted */
	__u32 ulen;		/* UDP length of the reply */
	__u64 now;		/* bpf_ktime_get_ns() of this request */
	__u64 num[3];		/* the key's flags, value length and CAS */
	__u32 nd[3];		/* ... their digit counts, see xkv_ndigits() */
	struct xkv_key_ref keys[XKV_MAX_KEYS];
	__u8 req[XKV_REQ_BUF];
	__u8 out[XKV_OUT_BUF] __attribute__((aligned(8)));
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xkv_scratch);
} xkv_scratch SEC(".maps");

/* what bpf_loop() callbacks get: the scratch memory */
struct xkv_cb_ctx {
	struct xkv_scratch *s;
};

/* an outcome beyond the counters: count an error and drop */
#define XKV_OUT_DROP XKV_STAT_NR

/* --- small helpers -------------------------------------------------------- */

static __always_inline __u16 xkv_csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Decimal digits of number @n of the key (s->num[@n]), 1..20.
 *
 * Verifier cost: the loop's exit gives the count a constant on each path
 * and narrows the tested value's range differently on each. If either
 * were live afterwards, everything after would be verified once per digit
 * count (and per combination across the three numbers). So the value is
 * a fresh load that dies here and the count goes through memory the
 * verifier does not track: the caller sees "some value in 1..20" and the
 * paths merge.
 */
static __always_inline __u32 xkv_ndigits(struct xkv_scratch *s, __u32 n)
{
	__u64 v = READ_ONCE(s->num[n]), t = 10;
	__u32 d = 1, k;

	for (k = 1; k < 20; k++) {
		if (v < t)
			break;
		d++;
		t *= 10;
	}
	WRITE_ONCE(s->nd[n], d);
	d = READ_ONCE(s->nd[n]);
	return d > 20 ? 20 : d ? d : 1;
}

/*
 * Write @v in @nd decimal digits at body offset @p. The loop ends when the
 * value runs out of digits; nothing computed in it is used afterwards, so
 * the verifier merges its exits. Below 2^32 a multiply and shift divides
 * by ten (exact for every u32), far cheaper than a 64-bit division; only
 * a @wide value (the CAS) may need the division, and only then is there a
 * branch for it.
 */
static __always_inline void xkv_put_num(__u8 *b, __u32 p, __u64 v, __u32 nd,
					const int wide)
{
	__u32 q = p + nd - 1, k;
	__u64 d;

	b[q & XKV_BODY_MASK] = '0';
	for (k = 0; k < 20; k++) {
		if (!v)
			break;
		if (wide && v >> 32)
			d = v / 10;
		else
			d = (v * 0xcccccccdULL) >> 35;
		b[(q - k) & XKV_BODY_MASK] = '0' + (__u8)(v - d * 10);
		v = d;
	}
}

/*
 * Key comparison, 8 bytes per bpf_loop() round. A bounded loop would be
 * cheaper to run but costs the verifier one path per possible key length
 * (its exit), times whatever state leads into it.
 */
struct xkv_eq_ctx {
	const __u8 *a;		/* both readable up to a multiple of 8 */
	const __u8 *b;
	__u32 len;
	__u32 differ;
};

static long xkv_eq_cb(__u32 i, void *data)
{
	struct xkv_eq_ctx *c = data;
	__u32 off = (i & (XKV_HOT_KEY_ROOM / 8 - 1)) * 8, rem = c->len - off;
	__u64 x, y, m = ~0ULL;

	x = *(const __u64 *)(c->a + off);
	y = *(const __u64 *)(c->b + off);
	if (rem < 8) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		m = (1ULL << (rem * 8)) - 1;
#else
		m = ~0ULL << ((8 - rem) * 8);
#endif
	}
	if ((x ^ y) & m) {
		c->differ = 1;
		return 1;
	}
	return 0;
}

/* bytes of a key compared or copied inline, without bpf_loop() */
#define XKV_KEY_INLINE 32
/* bytes of a value copied inline, without a helper */
#define XKV_VAL_INLINE 64

/* the first @len (0..8) bytes of a word loaded from memory */
static __always_inline __u64 xkv_word_mask(__u32 len)
{
	if (len >= 8)
		return ~0ULL;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (1ULL << (len * 8)) - 1;
#else
	return ~(~0ULL >> (len * 8));
#endif
}

/*
 * Do @len (1..XKV_HOT_KEY_MAX) bytes at @a and @b match? Both must be
 * readable up to a multiple of 8 and at least XKV_KEY_INLINE bytes. Keys
 * up to XKV_KEY_INLINE bytes are compared in four word loads each, with
 * no branch on the length (the verifier sees one path); longer keys
 * take a bpf_loop() round per 8 bytes.
 */
static __always_inline int xkv_key_eq(const __u8 *a, const __u8 *b, __u32 len)
{
	struct xkv_eq_ctx c = { .a = a, .b = b, .len = len, .differ = 0 };
	__u64 x;

	if (len > XKV_KEY_INLINE) {
		bpf_loop((len + 7) / 8, xkv_eq_cb, &c, 0);
		return !c.differ;
	}
	x = (*(const __u64 *)a ^ *(const __u64 *)b) & xkv_word_mask(len);
	x |= (*(const __u64 *)(a + 8) ^ *(const __u64 *)(b + 8)) &
	     xkv_word_mask(len < 8 ? 0 : len - 8);
	x |= (*(const __u64 *)(a + 16) ^ *(const __u64 *)(b + 16)) &
	     xkv_word_mask(len < 16 ? 0 : len - 16);
	x |= (*(const __u64 *)(a + 24) ^ *(const __u64 *)(b + 24)) &
	     xkv_word_mask(len < 24 ? 0 : len - 24);
	return !x;
}

/* pseudo-headers for the UDP checksum */
struct xkv_pseudo4 {
	__be32 saddr;
	__be32 daddr;
	__u8 zero;
	__u8 proto;
	__be16 len;
};

struct xkv_pseudo6 {
	__be32 saddr[4];
	__be32 daddr[4];
	__be32 len;
	__u8 zero[3];
	__u8 nexthdr;
};

#define XKV_CSUM_CHUNK 512	/* bpf_csum_diff()'s limit per call */

/* --- headers -------------------------------------------------------------- */

/*
 * A 16-bit network-order field as a number the verifier knows is below
 * 2^16. Older verifiers (6.1) forget every bound after a byte swap, and
 * then refuse to add the result to a packet pointer; the barrier keeps
 * clang from dropping the check it could prove redundant.
 */
static __always_inline __u32 xkv_be16(__be16 v)
{
	__u32 x = bpf_ntohs(v);

	asm volatile("" : "+r"(x));
	return x & 0xffff;
}

/* the longest IPv4 header in 32-bit words (IHL 15) */
#define XKV_IPV4_WORDS_MAX 15

/* the loopback device has this ifindex in every network namespace */
#define XKV_LOOPBACK_IFINDEX 1

/*
 * IPv4 addresses the stack drops as martians (RFC 1122 3.2.1.3, RFC
 * 5735), or that a reply must never go to: source 0/8, 224/4, 240/4 and
 * 255.255.255.255; destination 0/8 and 240/4 (but the broadcast, a group
 * address passed as such); 127/8 either way anywhere but on lo.
 */
static __always_inline int xkv_martian4(__be32 saddr, __be32 daddr, int lo)
{
	__u32 s = bpf_ntohl(saddr) >> 24, d = bpf_ntohl(daddr) >> 24;

	if (!s || s >= 224 || (s == 127 && !lo))
		return 1;
	if (!d || (d >= 240 && daddr != 0xffffffff) || (d == 127 && !lo))
		return 1;
	return 0;
}

/*
 * IPv6 as the stack sees it (RFC 4291): no reply to the unspecified
 * address, a multicast or an IPv4-mapped source; ::1 either way anywhere
 * but on lo; nothing sent to the unspecified address.
 */
static __always_inline int xkv_martian6(const __be32 *sa, const __be32 *da,
					int lo)
{
	if (*(const __u8 *)sa == 0xff)
		return 1;
	if (!sa[0] && !sa[1]) {
		if (sa[2] == bpf_htonl(0xffff))
			return 1;
		if (!sa[2] && (!sa[3] || (sa[3] == bpf_htonl(1) && !lo)))
			return 1;
	}
	if (!da[0] && !da[1] && !da[2] &&
	    (!da[3] || (da[3] == bpf_htonl(1) && !lo)))
		return 1;
	return 0;
}

/*
 * Parse up to the UDP payload and note what the reply needs in @s.
 * Return: 0 when this is UDP to our port, else the pass reason.
 */
static __always_inline __u32 xkv_parse_headers(struct xdp_md *ctx,
					       struct xkv_scratch *s)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xkv_cursor c = { .pos = data, .end = data_end };
	struct udphdr *udp;
	struct ethhdr *eth;
	__u32 nvlans, l4_len, ulen;
	__be16 proto;

	eth = xkv_parse_eth(&c, &proto, &nvlans);
	if (!eth)
		return XKV_STAT_pass_malformed;
	/* the group bit: a broadcast or multicast destination MAC */
	s->group = eth->h_dest[0] & 1;
	s->l2_len = sizeof(struct ethhdr) + nvlans * XKV_VLAN_HLEN;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = xkv_parse_ipv4(&c);
		__u64 sum = 0;
		__u32 hlen, tot, k;

		if (!iph)
			return XKV_STAT_pass_malformed;
		if (iph->protocol != IPPROTO_UDP)
			return XKV_STAT_pass_not_udp;
		if (iph->frag_off & bpf_htons(XKV_IP_MF | XKV_IP_OFFMASK))
			return XKV_STAT_pass_fragment;
		hlen = iph->ihl * 4;
		tot = xkv_be16(iph->tot_len);
		if (tot < hlen || (void *)iph + tot > data_end)
			return XKV_STAT_pass_malformed;
		/* the stack drops a bad header checksum: do as it does */
		for (k = 0; k < XKV_IPV4_WORDS_MAX; k++) {
			__u32 *w = (__u32 *)iph + k;

			if (k >= iph->ihl)
				break;
			if ((void *)(w + 1) > data_end)
				return XKV_STAT_pass_malformed;
			sum += *w;
		}
		if (xkv_csum_fold(sum))
			return XKV_STAT_pass_malformed;
		l4_len = tot - hlen;
		/* 224.0.0.0/4 multicast and 255.255.255.255 */
		if ((iph->daddr & bpf_htonl(0xf0000000)) ==
			    bpf_htonl(0xe0000000) ||
		    iph->daddr == 0xffffffff)
			s->group = 1;
		s->ipv6 = 0;
		s->saddr[0] = iph->saddr;
		s->daddr[0] = iph->daddr;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = xkv_parse_ipv6(&c);

		if (!ip6)
			return XKV_STAT_pass_malformed;
		if (ip6->nexthdr == IPPROTO_FRAGMENT)
			return XKV_STAT_pass_fragment;
		if (ip6->nexthdr != IPPROTO_UDP)
			return XKV_STAT_pass_not_udp;
		l4_len = xkv_be16(ip6->payload_len);
		if ((void *)(ip6 + 1) + l4_len > data_end)
			return XKV_STAT_pass_malformed;
		if (ip6->daddr.s6_addr[0] == 0xff)	/* multicast */
			s->group = 1;
		s->ipv6 = 1;
		__builtin_memcpy(s->saddr, &ip6->saddr, 16);
		__builtin_memcpy(s->daddr, &ip6->daddr, 16);
	} else {
		return XKV_STAT_pass_not_udp;
	}

	udp = xkv_parse_udp(&c);
	if (!udp)
		return XKV_STAT_pass_malformed;
	if (udp->dest != bpf_htons(xkv_cfg.port))
		return XKV_STAT_pass_other_port;
	/*
	 * A reply would come from a group address: let the stack decide.
	 * (Kept in scratch memory, not a register, so the verifier does not
	 * carry two copies of every later path.)
	 */
	if (READ_ONCE(s->group))
		return XKV_STAT_pass_group;
	ulen = xkv_be16(udp->len);
	if (ulen < sizeof(*udp) || ulen > l4_len)
		return XKV_STAT_pass_malformed;
	/* no reply to port 0, nor to our own port (no reply loops) */
	if (!udp->source || udp->source == udp->dest)
		return XKV_STAT_pass_martian;
	s->pay_off = (__u32)((void *)(udp + 1) - data);
	s->plen = ulen - sizeof(*udp);
	s->sport = udp->source;
	s->dport = udp->dest;
	s->ucheck = udp->check;
	return 0;
}

static __always_inline int xkv_allowed(struct xkv_scratch *s)
{
	if (xkv_cfg.flags & XKV_CFG_ALLOW_ANY)
		return 1;
	if (!s->ipv6) {
		struct xkv_lpm4 k4 = { .prefixlen = 32 };

		__builtin_memcpy(k4.addr, &s->saddr[0], 4);
		return bpf_map_lookup_elem(&xkv_allow4, &k4) != NULL;
	} else {
		struct xkv_lpm6 k6 = { .prefixlen = 128 };

		__builtin_memcpy(k6.addr, s->saddr, 16);
		return bpf_map_lookup_elem(&xkv_allow6, &k6) != NULL;
	}
}

/*
 * Would the stack accept the request's UDP checksum? The payload is in
 * s->req. A sender's sum over the pseudo-header, the UDP header and the
 * payload folds to 0xffff. IPv4 may leave it out (0); IPv6 may not. A
 * local sender with checksum offload (lo, veth: XKV_CFG_CSUM_PARTIAL)
 * leaves only the pseudo-header sum in the field, as the stack trusts
 * such frames without checking.
 */
static __always_inline int xkv_csum_ok(struct xkv_scratch *s)
{
	__u32 plen = s->plen, clen, off, n, k;
	__u16 check = s->ucheck;
	__be16 uh[4];
	__s64 sum;

	if (!check)
		return !s->ipv6;
	if (plen > XKV_REQ_MAX)
		return 0;
	if (!s->ipv6) {
		struct xkv_pseudo4 ph = {
			.saddr = s->saddr[0],
			.daddr = s->daddr[0],
			.proto = IPPROTO_UDP,
			.len = bpf_htons(plen + sizeof(struct udphdr)),
		};

		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct xkv_pseudo6 ph = {
			.len = bpf_htonl(plen + sizeof(struct udphdr)),
			.nexthdr = IPPROTO_UDP,
		};

		__builtin_memcpy(ph.saddr, s->saddr, 16);
		__builtin_memcpy(ph.daddr, s->daddr, 16);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	if (sum < 0)
		return 0;
	if ((xkv_cfg.flags & XKV_CFG_CSUM_PARTIAL) &&
	    (__u16)~xkv_csum_fold(sum) == check)
		return 1;
	uh[0] = s->sport;
	uh[1] = s->dport;
	uh[2] = bpf_htons(plen + sizeof(struct udphdr));
	uh[3] = check;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)uh, sizeof(uh), sum);
	/* pad the payload to 4 bytes with zeros, which add nothing */
	s->req[plen & XKV_REQ_MASK] = 0;
	s->req[(plen + 1) & XKV_REQ_MASK] = 0;
	s->req[(plen + 2) & XKV_REQ_MASK] = 0;
	clen = (plen + 3) & ~3U;
	for (k = 0; k < XKV_REQ_MAX / XKV_CSUM_CHUNK; k++) {
		off = k * XKV_CSUM_CHUNK;
		if (sum < 0 || off >= clen)
			break;
		n = clen - off;
		if (n > XKV_CSUM_CHUNK)
			n = XKV_CSUM_CHUNK;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(s->req + off), n,
				    (__wsum)sum);
	}
	return sum >= 0 && !xkv_csum_fold(sum);
}

/* --- the request line ----------------------------------------------------- */

static __always_inline long xkv_end_key(struct xkv_scratch *s, __u32 pos)
{
	__u32 n = s->nkeys;

	if (n >= XKV_MAX_KEYS) {
		s->fail = XKV_STAT_pass_too_big;
		return 1;
	}
	s->keys[n].off = s->kstart;
	s->keys[n].len = pos - s->kstart;
	s->keys[n].hash = xkv_hot_hash_final(s->hash);
	s->nkeys = n + 1;
	s->in_key = 0;
	return 0;
}

/*
 * One byte of the key list, split as the store splits it (like memcached):
 * keys are separated by spaces, the line ends at "\n", and a "\r" right
 * before it is not part of the line; every other byte is a key byte,
 * control bytes and "\r" elsewhere included. The line must end exactly at
 * the end of the payload. A NUL (the store ends the line there), a key
 * over XKV_HOT_KEY_MAX bytes or anything after the line end fails the
 * request.
 * Return: 0 to go on, 1 to stop.
 */
static __always_inline long xkv_parse_byte(struct xkv_scratch *s, __u32 pos)
{
	__u32 end;
	__u8 c;

	if (pos >= s->plen)
		return 1;	/* no line end: not done, malformed */
	c = s->req[pos & XKV_REQ_MASK];
	if (c == ' ') {
		if (s->in_key)
			return xkv_end_key(s, pos);
		return 0;
	}
	if (c == '\r' || c == '\n') {
		/* "\n" or "\r\n", and then the payload ends */
		end = pos + 1;
		if (c == '\r') {
			if (s->req[end & XKV_REQ_MASK] != '\n')
				goto key;	/* a "\r" inside a key */
			end++;
		}
		if (end != s->plen)
			goto bad;
		if (s->in_key && xkv_end_key(s, pos))
			return 1;
		s->done = 1;
		return 1;
	}
	if (!c)
		goto bad;
key:
	if (!s->in_key) {
		s->in_key = 1;
		s->kstart = pos;
		s->hash = XKV_HOT_FNV_BASIS;
	} else if (pos - s->kstart >= XKV_HOT_KEY_MAX) {
		goto bad;
	}
	s->hash = xkv_hot_hash_step(s->hash, c);
	return 0;
bad:
	s->fail = XKV_STAT_pass_malformed;
	return 1;
}

#define XKV_ONES 0x0101010101010101ULL
#define XKV_HIGHS 0x8080808080808080ULL

/* byte @j of a word loaded from memory, in memory order */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define XKV_WBYTE(w, j) ((__u8)((w) >> ((j) * 8)))
#else
#define XKV_WBYTE(w, j) ((__u8)((w) >> (56 - (j) * 8)))
#endif

/*
 * Eight bytes of the key list per bpf_loop() round. A word with no byte
 * below 0x21 (so no space, "\r", "\n" or NUL: the usual SWAR test, exact
 * about whether such a byte exists) inside the payload is all key bytes
 * and is hashed at once; any other word goes byte by byte.
 */
static long xkv_parse_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u32 pos = s->start + i * 8, h, j;
	__u64 w;

	if (pos + 8 <= s->plen) {
		w = *(const __u64 *)(s->req + (pos & XKV_REQ_MASK));
		if (!((w - 0x21 * XKV_ONES) & ~w & XKV_HIGHS)) {
			if (!s->in_key) {
				s->in_key = 1;
				s->kstart = pos;
				h = XKV_HOT_FNV_BASIS;
			} else {
				h = s->hash;
			}
			if (pos + 7 - s->kstart >= XKV_HOT_KEY_MAX) {
				s->fail = XKV_STAT_pass_malformed;
				return 1;
			}
#pragma unroll
			for (j = 0; j < 8; j++)
				h = xkv_hot_hash_step(h, XKV_WBYTE(w, j));
			s->hash = h;
			return 0;
		}
	}
#pragma unroll
	for (j = 0; j < 8; j++)
		if (xkv_parse_byte(s, pos + j))
			return 1;
	return 0;
}

/* --- one key: look it up and append its VALUE block ----------------------- */

static __always_inline long xkv_key_fail(struct xkv_scratch *s, __u32 why)
{
	s->fail = why;
	return 1;
}

/*
 * The slot of @k's set that seems to hold the key: read without the
 * seqlock, so only a hint; the copy made under it is compared again.
 */
static __always_inline struct xkv_slot *
xkv_find_slot(struct xkv_scratch *s, const struct xkv_key_ref *k, __u32 klen)
{
	struct xkv_slot *slot;
	__u32 w, idx;

#pragma unroll
	for (w = 0; w < XKV_HOT_WAYS; w++) {
		idx = xkv_hot_way(k->hash, xkv_cfg.nslots, w);
		slot = bpf_map_lookup_elem(&xkv_hot, &idx);
		if (!slot)
			return NULL;
		if (READ_ONCE(slot->key_len) == klen &&
		    xkv_key_eq(slot->key, s->req + (k->off & XKV_REQ_MASK),
			       klen))
			return slot;
	}
	return NULL;
}

/*
 * A length checked again right before a helper takes it: older verifiers
 * (6.1) lose the bounds clang proved on another copy of the register.
 */
static __always_inline __u32 xkv_opaque(__u32 v)
{
	asm volatile("" : "+r"(v));
	return v;
}

/* copy 8 * @n bytes, @n a constant: word loads and stores, no helper */
#define XKV_COPY_WORDS(dst, src, n)                                     \
	do {                                                            \
		__u32 __j;                                              \
		_Pragma("unroll") for (__j = 0; __j < (n); __j++)       \
			((__u64 *)(dst))[__j] =                         \
				((const __u64 *)(src))[__j];            \
	} while (0)

static long xkv_key_cb(__u32 i, void *data)
{
	struct xkv_scratch *s = ((struct xkv_cb_ctx *)data)->s;
	__u8 *b = s->out + XKV_OUT_BODY, *rk;
	struct xkv_key_ref *k;
	struct xkv_slot *slot;
	struct bpf_dynptr dk, dv;	/* two: 6.1 refuses to set one twice */
	__u32 seq, klen, vlen, nd_f, nd_v, nd_c = 0, pos, p, need, n;
	__u64 exp;

	k = &s->keys[i & (XKV_MAX_KEYS - 1)];
	klen = k->len;
	if (!klen || klen > XKV_HOT_KEY_MAX)
		return xkv_key_fail(s, XKV_STAT_errors);
	slot = xkv_find_slot(s, k, klen);
	if (!slot)
		return xkv_key_fail(s, XKV_STAT_misses);

	seq = xkv_slot_seq_read(slot);
	if (seq & 1)
		return xkv_key_fail(s, XKV_STAT_pass_busy);
	/*
	 * Decisions taken on a torn read only ever pass the request, which
	 * is always safe; what is served is checked against the sequence.
	 */
	if (READ_ONCE(slot->key_len) != klen)
		return xkv_key_fail(s, XKV_STAT_misses);
	vlen = READ_ONCE(slot->val_len);
	if (vlen > XKV_HOT_VAL_MAX)
		return xkv_key_fail(s, XKV_STAT_misses);
	exp = READ_ONCE(slot->expire_ns);
	/* the clock is read once per request, with the backend's lease */
	if (exp && s->now >= exp)
		return xkv_key_fail(s, XKV_STAT_pass_expired);
	/* learning mode may not know the CAS: then only "get" is served */
	if (s->gets && (READ_ONCE(slot->xflags) & XKV_SLOT_F_NO_CAS))
		return xkv_key_fail(s, XKV_STAT_misses);
	s->num[0] = READ_ONCE(slot->flags);
	s->num[1] = vlen;
	s->num[2] = READ_ONCE(slot->cas);

	nd_f = xkv_ndigits(s, 0);
	nd_v = xkv_ndigits(s, 1);
	if (s->gets)
		nd_c = 1 + xkv_ndigits(s, 2);
	/* VALUE <key> <flags> <bytes>[ <cas>]\r\n<data>\r\n */
	need = 6 + klen + 1 + nd_f + 1 + nd_v + nd_c + 2 + vlen + 2;
	pos = s->body;
	if (pos + need > s->body_max)
		return xkv_key_fail(s, XKV_STAT_pass_too_big);

	/*
	 * The key is the request's: copy it from there (it is compared with
	 * the slot's under the seqlock below). Writes run front to back, so
	 * what a whole-word copy writes past the end is overwritten next.
	 */
	rk = s->req + (k->off & XKV_REQ_MASK);
	p = pos;
	b[p++ & XKV_BODY_MASK] = 'V';
	b[p++ & XKV_BODY_MASK] = 'A';
	b[p++ & XKV_BODY_MASK] = 'L';
	b[p++ & XKV_BODY_MASK] = 'U';
	b[p++ & XKV_BODY_MASK] = 'E';
	b[p++ & XKV_BODY_MASK] = ' ';
	if (klen <= XKV_KEY_INLINE) {
		XKV_COPY_WORDS(b + (p & XKV_BODY_MASK), rk,
			       XKV_KEY_INLINE / 8);
	} else {
		n = xkv_opaque(klen);
		if (!n || n > XKV_HOT_KEY_MAX)
			return xkv_key_fail(s, XKV_STAT_errors);
		bpf_dynptr_from_mem(rk, XKV_HOT_KEY_ROOM, 0, &dk);
		if (bpf_dynptr_read(b + (p & XKV_BODY_MASK), n, &dk, 0, 0))
			return xkv_key_fail(s, XKV_STAT_errors);
	}
	p += klen;
	b[p++ & XKV_BODY_MASK] = ' ';
	xkv_put_num(b, p, READ_ONCE(s->num[0]), nd_f, 0);
	p += nd_f;
	b[p++ & XKV_BODY_MASK] = ' ';
	xkv_put_num(b, p, READ_ONCE(s->num[1]), nd_v, 0);
	p += nd_v;
	if (s->gets) {
		b[p++ & XKV_BODY_MASK] = ' ';
		xkv_put_num(b, p, READ_ONCE(s->num[2]), nd_c - 1, 1);
		p += nd_c - 1;
	}
	b[p++ & XKV_BODY_MASK] = '\r';
	b[p++ & XKV_BODY_MASK] = '\n';
	if (vlen <= XKV_VAL_INLINE) {
		XKV_COPY_WORDS(b + (p & XKV_BODY_MASK), slot->val,
			       XKV_VAL_INLINE / 8);
	} else {
		n = xkv_opaque(vlen);
		if (!n || n > XKV_HOT_VAL_MAX)
			return xkv_key_fail(s, XKV_STAT_errors);
		bpf_dynptr_from_mem(slot, sizeof(*slot), 0, &dv);
		if (bpf_dynptr_read(b + (p & XKV_BODY_MASK), n, &dv,
				    __builtin_offsetof(struct xkv_slot, val),
				    0))
			return xkv_key_fail(s, XKV_STAT_errors);
	}
	p += vlen;
	b[p++ & XKV_BODY_MASK] = '\r';
	b[p & XKV_BODY_MASK] = '\n';

	/* is it our key? read inside the seqlock, like the value */
	if (!xkv_key_eq(slot->key, rk, klen))
		return xkv_key_fail(s, XKV_STAT_misses);
	if (xkv_slot_seq_read(slot) != seq)
		return xkv_key_fail(s, XKV_STAT_pass_busy);

	if (!(bpf_get_prandom_u32() & (XKV_HOT_HIT_SAMPLE - 1)))
		__sync_fetch_and_add(&slot->hits, 1);
	s->body = pos + need;
	return 0;
}

/* --- the reply ------------------------------------------------------------ */

/*
 * The body is complete in out[XKV_OUT_BODY]: put the frame, IP, UDP and
 * memcached headers before it, resize the frame and write it out.
 * Return: XKV_STAT_replies, a pass reason, or XKV_OUT_DROP.
 */
static __always_inline __u32 xkv_send(struct xdp_md *ctx,
				      struct xkv_scratch *s, __u32 ulen)
{
	__u8 *o = s->out;
	__u32 l2 = s->l2_len, l3, start, flen, clen, off, n, k;
	struct udphdr *udp = (void *)(o + XKV_OUT_L4);
	__u8 mac[ETH_ALEN];
	__s64 sum;
	__u64 old;
	int delta;

	if (l2 < sizeof(struct ethhdr) ||
	    l2 > sizeof(struct ethhdr) + XKV_MAX_VLANS * XKV_VLAN_HLEN ||
	    ulen > 8 + XKV_UDP_PAYLOAD_CAP)
		return XKV_STAT_errors;
	l3 = s->ipv6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	start = (XKV_OUT_L4 - l3 - l2) & (XKV_OUT_L4 - 1);

	/* L2: the request's, addresses swapped, tags and type kept */
	if (bpf_xdp_load_bytes(ctx, 0, o + start, l2))
		return XKV_STAT_errors;
	__builtin_memcpy(mac, o + start, ETH_ALEN);
	__builtin_memcpy(o + start, o + start + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(o + start + ETH_ALEN, mac, ETH_ALEN);

	/* UDP and memcached frame headers; the checksum comes last */
	udp->source = s->dport;
	udp->dest = s->sport;
	udp->len = bpf_htons(ulen);
	udp->check = 0;
	o[XKV_OUT_L4 + 8] = s->req[0];		/* request id */
	o[XKV_OUT_L4 + 9] = s->req[1];
	o[XKV_OUT_L4 + 10] = 0;			/* sequence 0 */
	o[XKV_OUT_L4 + 11] = 0;
	o[XKV_OUT_L4 + 12] = 0;			/* count 1 */
	o[XKV_OUT_L4 + 13] = 1;
	o[XKV_OUT_L4 + 14] = 0;			/* reserved 0 */
	o[XKV_OUT_L4 + 15] = 0;

	if (!s->ipv6) {
		struct iphdr *ip = (void *)(o + XKV_OUT_L4 - sizeof(*ip));
		struct xkv_pseudo4 ph = {
			.saddr = s->daddr[0],
			.daddr = s->saddr[0],
			.proto = IPPROTO_UDP,
			.len = bpf_htons(ulen),
		};

		*(__u8 *)ip = 0x45;		/* version 4, IHL 5 */
		ip->tos = 0;
		ip->tot_len = bpf_htons(sizeof(*ip) + ulen);
		ip->id = 0;
		ip->frag_off = bpf_htons(XKV_IP_DF);
		ip->ttl = XKV_REPLY_TTL;
		ip->protocol = IPPROTO_UDP;
		ip->check = 0;
		ip->saddr = s->daddr[0];
		ip->daddr = s->saddr[0];
		sum = bpf_csum_diff(NULL, 0, (__be32 *)ip, sizeof(*ip), 0);
		if (sum < 0)
			return XKV_STAT_errors;
		ip->check = xkv_csum_fold(sum);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct ipv6hdr *ip6 = (void *)(o + XKV_OUT_L4 - sizeof(*ip6));
		struct xkv_pseudo6 ph = {
			.len = bpf_htonl(ulen),
			.nexthdr = IPPROTO_UDP,
		};

		__builtin_memcpy(ph.saddr, s->daddr, 16);
		__builtin_memcpy(ph.daddr, s->saddr, 16);
		*(__be32 *)ip6 = bpf_htonl(0x60000000);	/* v6, tc 0, flow 0 */
		ip6->payload_len = bpf_htons(ulen);
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = XKV_REPLY_TTL;
		__builtin_memcpy(&ip6->saddr, s->daddr, 16);
		__builtin_memcpy(&ip6->daddr, s->saddr, 16);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	if (sum < 0)
		return XKV_STAT_errors;

	/* UDP checksum: pad to 4 bytes with zeros, which adds nothing */
	*(__u32 *)(o + XKV_OUT_L4 + ulen) = 0;
	clen = (ulen + 3) & ~3U;
	for (k = 0; k < (8 + XKV_UDP_PAYLOAD_CAP + 3) / XKV_CSUM_CHUNK + 1; k++) {
		off = k * XKV_CSUM_CHUNK;
		if (off >= clen)
			break;
		n = clen - off;
		if (n > XKV_CSUM_CHUNK)
			n = XKV_CSUM_CHUNK;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)(o + XKV_OUT_L4 + off),
				    n, (__wsum)sum);
		if (sum < 0)
			return XKV_STAT_errors;
	}
	udp->check = xkv_csum_fold(sum);
	if (!udp->check)
		udp->check = 0xffff;

	/* make the frame exactly as long as the reply, then write it */
	flen = l2 + l3 + ulen;
	old = bpf_xdp_get_buff_len(ctx);
	delta = (int)flen - (int)old;
	if (delta > 0 && (xkv_cfg.flags & XKV_CFG_HEAD_FIRST)) {
		if (bpf_xdp_adjust_head(ctx, -delta) &&
		    bpf_xdp_adjust_tail(ctx, delta))
			return XKV_STAT_pass_no_room;
	} else if (delta && bpf_xdp_adjust_tail(ctx, delta)) {
		/* no tailroom (veth): grow at the head instead */
		if (delta < 0 || bpf_xdp_adjust_head(ctx, -delta))
			return XKV_STAT_pass_no_room;
	}
	if (bpf_xdp_store_bytes(ctx, 0, o + start, flen))
		return XKV_OUT_DROP;	/* resized already: cannot pass */
	return XKV_STAT_replies;
}

/* --- the request ---------------------------------------------------------- */

/* --- the stages ----------------------------------------------------------- */

/*
 * The stages after header parsing are global functions: the verifier
 * checks each one once, on its own, instead of once per path the caller
 * took to reach it (IPv4 or IPv6, tags, get or gets ...), which would
 * multiply the cost of the loops inside.
 */

static __always_inline struct xkv_scratch *xkv_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xkv_scratch, &zero);
}

/*
 * Is the request's source one to answer? @lo: it came in on lo.
 * Return: 0 if so, else the pass reason.
 */
__attribute__((noinline)) int xkv_check_source(int lo)
{
	struct xkv_scratch *s = xkv_scratch_get();
	__u32 f;

	if (!s)
		return XKV_STAT_errors;
	if (!s->ipv6 ? xkv_martian4(s->saddr[0], s->daddr[0], lo) :
		       xkv_martian6(s->saddr, s->daddr, lo))
		return XKV_STAT_pass_martian;
	/* the interface's own addresses as the stack sees them */
	f = xkv_addr_flags(s->saddr, s->ipv6);
	if ((f & XKV_ADDR_BCAST) || ((f & XKV_ADDR_LOCAL) && !lo))
		return XKV_STAT_pass_martian;
	if (xkv_addr_flags(s->daddr, s->ipv6) & XKV_ADDR_BCAST)
		return XKV_STAT_pass_group;
	if (!xkv_allowed(s))
		return XKV_STAT_pass_not_allowed;
	return 0;
}

/*
 * Parse the headers and check the source: martians, the allowlist.
 * Return: 0 for a request to us from an allowed source, else the outcome.
 */
__attribute__((noinline)) int xkv_read_headers(struct xdp_md *ctx)
{
	struct xkv_scratch *s = xkv_scratch_get();
	__u32 why;

	if (!s)
		return XKV_STAT_errors;
	why = xkv_parse_headers(ctx, s);
	if (!why)
		why = xkv_check_source(ctx->ingress_ifindex ==
				       XKV_LOOPBACK_IFINDEX);
	return why;
}

/*
 * Load the request payload, check the frame header and the command, and
 * split the key list into s->keys.
 * Return: 0, or the outcome (a pass reason or XKV_STAT_errors).
 */
__attribute__((noinline)) int xkv_read_request(struct xdp_md *ctx)
{
	struct xkv_scratch *s = xkv_scratch_get();
	struct xkv_cb_ctx cb;
	__u32 plen;
	__u8 *r;

	if (!s)
		return XKV_STAT_errors;
	cb.s = s;
	r = s->req;
	plen = s->plen;
	if (plen < XKV_REQ_MIN)
		return XKV_STAT_pass_malformed;
	if (plen > XKV_REQ_MAX)
		return XKV_STAT_pass_too_big;
	if (bpf_xdp_load_bytes(ctx, s->pay_off, r, plen))
		return XKV_STAT_errors;

	/* frame header: one datagram; id, sequence and reserved are free */
	if (r[4] != 0 || r[5] != 1)
		return XKV_STAT_pass_malformed;
	if (r[8] != 'g' || r[9] != 'e' || r[10] != 't')
		return XKV_STAT_pass_not_get;
	if (r[11] == ' ') {
		s->gets = 0;
		s->start = XKV_FRAME_HDR + 4;
	} else if (r[11] == 's' && r[12] == ' ') {
		s->gets = 1;
		s->start = XKV_FRAME_HDR + 5;
	} else {
		return XKV_STAT_pass_not_get;
	}

	s->in_key = 0;
	s->nkeys = 0;
	s->done = 0;
	s->fail = 0;
	bpf_loop((s->plen - s->start + 7) / 8, xkv_parse_cb, &cb, 0);
	if (s->fail)
		return s->fail;
	if (!s->done || !s->nkeys)
		return XKV_STAT_pass_malformed;
	return 0;
}

/*
 * Would the stack take the request (its UDP checksum)? Asked only once
 * every key hit: a miss goes to the stack, which checks it anyway.
 * Return: 0 or XKV_STAT_pass_checksum.
 */
__attribute__((noinline)) int xkv_check_sum(void)
{
	struct xkv_scratch *s = xkv_scratch_get();

	if (!s)
		return XKV_STAT_errors;
	return xkv_csum_ok(s) ? 0 : XKV_STAT_pass_checksum;
}

/*
 * Look every key up and write the reply body: VALUE blocks and "END".
 * Return: 0 with s->ulen set to the reply's UDP length, or the outcome.
 */
__attribute__((noinline)) int xkv_build_reply(void)
{
	struct xkv_scratch *s = xkv_scratch_get();
	struct xkv_live *live;
	struct xkv_cb_ctx cb;
	__u32 max, body, zero = 0;
	__u64 now;

	if (!s)
		return XKV_STAT_errors;
	/* serve only while the backend's lease runs (it beats while alive) */
	live = bpf_map_lookup_elem(&xkv_live, &zero);
	now = bpf_ktime_get_ns();
	if (!live || now >= READ_ONCE(live->until_ns))
		return XKV_STAT_pass_no_backend;
	cb.s = s;
	max = xkv_cfg.max_reply;
	if (max > XKV_UDP_PAYLOAD_CAP)
		max = XKV_UDP_PAYLOAD_CAP;
	if (max < XKV_FRAME_HDR + XKV_END_LEN)
		return XKV_STAT_pass_too_big;
	s->body = 0;
	s->body_max = max - XKV_FRAME_HDR - XKV_END_LEN;
	s->now = now;
	s->fail = 0;
	bpf_loop(s->nkeys, xkv_key_cb, &cb, 0);
	if (s->fail)
		return s->fail;

	body = s->body;
	if (body > XKV_BODY_MASK - XKV_END_LEN)
		return XKV_STAT_errors;
	s->out[XKV_OUT_BODY + body] = 'E';
	s->out[XKV_OUT_BODY + body + 1] = 'N';
	s->out[XKV_OUT_BODY + body + 2] = 'D';
	s->out[XKV_OUT_BODY + body + 3] = '\r';
	s->out[XKV_OUT_BODY + body + 4] = '\n';
	body += XKV_END_LEN;

	if (xkv_cfg.amp_ratio &&
	    (__u64)XKV_FRAME_HDR + body > (__u64)xkv_cfg.amp_ratio * s->plen)
		return XKV_STAT_pass_budget;
	s->ulen = sizeof(struct udphdr) + XKV_FRAME_HDR + body;
	return 0;
}

/*
 * Turn the frame into the reply built in s->out.
 * Return: XKV_STAT_replies, a pass reason, XKV_STAT_errors or XKV_OUT_DROP.
 */
__attribute__((noinline)) int xkv_send_reply(struct xdp_md *ctx)
{
	struct xkv_scratch *s = xkv_scratch_get();

	if (!s)
		return XKV_STAT_errors;
	return xkv_send(ctx, s, s->ulen);
}

SEC("xdp")
int xkv_xdp(struct xdp_md *ctx)
{
	struct xkv_scratch *s;
	struct xkv_stats *st;
	__u32 zero = 0, why;

	st = bpf_map_lookup_elem(&xkv_stats, &zero);
	s = bpf_map_lookup_elem(&xkv_scratch, &zero);
	if (!st || !s)
		return XDP_PASS;
	st->packets++;

	why = xkv_read_headers(ctx);
	if (!why)
		why = xkv_read_request(ctx);
	if (!why) {
		st->requests++;
		why = xkv_build_reply();
	}
	if (!why)
		why = xkv_check_sum();
	if (!why)
		why = xkv_send_reply(ctx);

	if (why == XKV_OUT_DROP) {
		st->errors++;
		return XDP_DROP;
	}
	if (why == XKV_STAT_replies) {
		st->replies++;
		st->hits += s->nkeys;
		st->reply_bytes += s->ulen - sizeof(struct udphdr);
		return XDP_TX;
	}
	if (why == XKV_STAT_packets || why >= XKV_STAT_NR)
		why = XKV_STAT_errors;
	((__u64 *)st)[why]++;
	return XDP_PASS;
}
