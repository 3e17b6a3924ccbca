/* SPDX-License-Identifier: GPL-2.0 */
/*
 * opts.h - xkv-bench's settings, as the command line gave them.
 */
#ifndef XKV_BENCH_OPTS_H
#define XKV_BENCH_OPTS_H

#include "bench.h"

#define OPTS_KEY_MAX 250 /* memcached's key length limit */
#define OPTS_VALUE_MIN 16 /* the value header (keyval.h) */
#define OPTS_VALUE_MAX (64u << 20)
/* the largest UDP payload: 65535 - 8 (UDP) - 20 (IPv4) */
#define OPTS_UDP_MAX 65507u

/**
 * struct bench_opts - everything the command line sets.
 * @server:      server address (name or literal)
 * @bind:        source address, or NULL
 * @port:        server port (TCP or UDP, as @udp says)
 * @tcp_port:    TCP port for the preload
 * @udp:         measure over UDP, not TCP
 * @threads:     client threads
 * @conns:       TCP connections or UDP flows (sockets) per thread
 * @window:      requests in flight per connection or flow
 * @duration:    measured time, seconds
 * @warmup:      unmeasured time before it, seconds
 * @get_weight:  GET part of the mix
 * @set_weight:  SET part of the mix
 * @keys:        key space: ids 0..@keys-1
 * @key_size:    key length, bytes
 * @zipf_s:      Zipf exponent; 0 means uniform popularity
 * @value_min:   smallest value, bytes
 * @value_max:   largest value (== @value_min for a fixed size)
 * @timeout_ms:  per-request timeout
 * @preload:     SET every key over TCP before measuring
 * @verify:      check every value a GET returns
 * @json:        print one JSON object instead of text
 * @seed:        random seed
 * @cpu_cgroup:  cgroup directory whose CPU time to report (cgroup v1
 *               cpuacct.usage or v2 cpu.stat), or NULL
 */
struct bench_opts {
	const char *server;
	const char *bind;
	u16 port;
	u16 tcp_port;
	bool udp;
	u32 threads;
	u32 conns;
	u32 window;
	double duration;
	double warmup;
	u32 get_weight;
	u32 set_weight;
	u32 keys;
	u32 key_size;
	double zipf_s;
	u32 value_min;
	u32 value_max;
	u32 timeout_ms;
	bool preload;
	bool verify;
	bool json;
	u64 seed;
	const char *cpu_cgroup;
};

int opts_parse(struct bench_opts *o, int argc, char **argv);

#endif /* XKV_BENCH_OPTS_H */
