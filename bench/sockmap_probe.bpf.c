// SPDX-License-Identifier: GPL-2.0
/*
 * sockmap_probe.bpf.c - the socket-level route of issue 10, reduced to
 * what decides whether it can work: an sk_skb verdict program on a
 * server's accepted socket answers "get <key>\r\n" by turning the request
 * skb into a reply and redirecting it to the same socket's egress, and
 * passes everything else to the server.
 *
 * With @rewrite 0 the reply is the request itself (same length); with
 * @rewrite 1 it is a memcached VALUE reply (longer than the request).
 * bench/sockmap_probe.c drives both and reports whether the connection
 * still delivers passed bytes after a redirected reply.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* the one accepted socket, at index 0 */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} probe_socks SEC(".maps");

#define PROBE_REQ_MAX 255
#define PROBE_OUT_MAX 512
#define PROBE_VAL_LEN 32

struct probe_scratch {
	char out[PROBE_OUT_MAX];
	char in[PROBE_REQ_MAX + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_scratch);
} probe_scratch SEC(".maps");

const volatile __u32 rewrite = 1;

__u64 redirected, passed;

/* "VALUE <key> 0 32\r\n<32 x 'v'>\r\nEND\r\n" for the key in @s->in */
static __u32 probe_build(struct probe_scratch *s, __u32 klen)
{
	volatile char *in = s->in;	/* no memmove within one struct */
	__u32 n, i;

	__builtin_memcpy(s->out, "VALUE ", 6);
	for (i = 0; i < PROBE_REQ_MAX && i < klen; i++)
		s->out[(6 + i) & (PROBE_OUT_MAX - 1)] =
			in[(4 + i) & PROBE_REQ_MAX];
	n = 6 + klen;
	__builtin_memcpy(s->out + (n & PROBE_REQ_MAX), " 0 32\r\n", 7);
	n += 7;
	for (i = 0; i < PROBE_VAL_LEN; i++)
		s->out[(n + i) & (PROBE_OUT_MAX - 1)] = 'v';
	n += PROBE_VAL_LEN;
	__builtin_memcpy(s->out + (n & PROBE_REQ_MAX), "\r\nEND\r\n", 7);
	return n + 7;
}

SEC("sk_skb")
int probe_verdict(struct __sk_buff *skb)
{
	__u32 len = skb->len, zero = 0, n;
	struct probe_scratch *s;

	if (len < 7 || len > PROBE_REQ_MAX)
		goto pass;
	s = bpf_map_lookup_elem(&probe_scratch, &zero);
	if (!s || bpf_skb_load_bytes(skb, 0, s->in, len))
		goto pass;
	if (s->in[0] != 'g' || s->in[1] != 'e' || s->in[2] != 't' ||
	    s->in[3] != ' ')
		goto pass;
	if (rewrite) {
		n = probe_build(s, len - 6);
		if (n > PROBE_OUT_MAX || bpf_skb_change_tail(skb, n, 0) ||
		    bpf_skb_store_bytes(skb, 0, s->out, n, 0))
			goto pass;
	}
	__sync_fetch_and_add(&redirected, 1);
	return bpf_sk_redirect_map(skb, &probe_socks, 0, 0);
pass:
	__sync_fetch_and_add(&passed, 1);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
