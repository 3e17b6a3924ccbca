/* SPDX-License-Identifier: GPL-2.0 */
/*
 * worker.h - client threads: what they share, what each owns, and the
 * transport-ops table between the thread loop and TCP or UDP.
 *
 * Each thread owns its sockets, its epoll instance, its random state and
 * its counters; nothing is written by two threads. The shared part is
 * read-only while threads run, except the run window, which the main
 * thread writes between two barriers (run.c).
 *
 * Counting rules: a reply counts as an operation (and its latency is
 * recorded) when it completes inside [t_start, t_end); wrong or malformed
 * replies, error lines and timeouts count whenever they happen, warm-up
 * included, so a wrong answer is never hidden by timing.
 */
#ifndef XKV_BENCH_WORKER_H
#define XKV_BENCH_WORKER_H

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"
#include "hist.h"
#include "keyval.h"
#include "mcproto.h"
#include "net.h"
#include "opts.h"
#include "zipf.h"

/* pipeline depth of the preload's one connection per thread */
#define PRELOAD_WINDOW 64

/**
 * struct bench_stats - one thread's counters (or their sum).
 * @hits:          GETs answered with a correct value
 * @misses:        GETs answered with END
 * @sets:          SETs answered with STORED
 * @bad_values:    GETs answered with a wrong key, flags, length or bytes
 * @proto_errors:  replies that are not valid memcached replies to the
 *                 request (a TCP connection is reopened after one)
 * @server_errors: error lines and unexpected SET statuses
 * @net_errors:    socket errors, lost connections
 * @timeouts:      requests with no reply within the timeout
 * @late:          UDP datagrams for requests already timed out (or never
 *                 sent): a reply slower than the timeout shows up here
 * @lat:           latency of the operations counted, nanoseconds
 */
struct bench_stats {
	u64 hits;
	u64 misses;
	u64 sets;
	u64 bad_values;
	u64 proto_errors;
	u64 server_errors;
	u64 net_errors;
	u64 timeouts;
	u64 late;
	struct hist lat;
};

enum bench_mode {
	BENCH_PRELOAD,
	BENCH_RUN,
};

/**
 * struct bench_op - one request to send.
 * @key: key id
 * @ver: value version (SET)
 * @op:  enum mc_op
 */
struct bench_op {
	u32 key;
	u32 ver;
	u8 op;
};

struct bench_worker;

/**
 * struct bench_transport - what the thread loop needs from TCP or UDP.
 * @name:        "tcp" or "udp"
 * @engine_size: bytes of the transport's state (the worker's @engine),
 *               which the thread loop allocates zeroed and frees
 * @setup:       open the sockets, watched through the worker's @epfd;
 *               0 or -errno
 * @loop:        send and receive until the worker is done
 * @teardown:    close and free everything @setup made (also after a
 *               failed @setup)
 */
struct bench_transport {
	const char *name;
	size_t engine_size;
	int (*setup)(struct bench_worker *w);
	void (*loop)(struct bench_worker *w);
	void (*teardown)(struct bench_worker *w);
};

extern const struct bench_transport bench_tcp;
extern const struct bench_transport bench_udp;

/**
 * struct bench_shared - read-only for the threads once they start.
 * @o:          settings
 * @fmt:        key and value shape
 * @zipf:       popularity sampler (when @o->zipf_s > 0)
 * @get_thresh: a 32-bit random number below this means GET
 * @dst:        server address for the measured protocol
 * @tcp_dst:    server address for the preload
 * @src:        source address when @o->bind is set
 * @has_src:    @src is set
 */
struct bench_shared {
	const struct bench_opts *o;
	struct kv_fmt fmt;
	struct zipf zipf;
	u64 get_thresh;
	struct net_addr dst;
	struct net_addr tcp_dst;
	struct net_addr src;
	bool has_src;
};

/**
 * struct bench_worker - one client thread.
 * @sh:       shared settings
 * @tr:       transport
 * @mode:     preload or measured run
 * @idx:      thread number
 * @conns:    connections or flows
 * @window:   requests in flight per connection or flow
 * @dst:      where to send
 * @rng:      random state
 * @ver_seq:  last version number used for a SET
 * @pre_next: preload: next key id to SET
 * @pre_end:  preload: one past the last
 * @t_start:  count operations completing from here ...
 * @t_end:    ... to here, and stop here
 * @failed:   the preload lost requests, or setup failed
 * @warned:   diagnostics printed so far (a few at most)
 * @epfd:     the thread's epoll instance
 * @engine:   the transport's private state
 * @st:       counters
 */
struct bench_worker {
	const struct bench_shared *sh;
	const struct bench_transport *tr;
	enum bench_mode mode;
	u32 idx;
	u32 conns;
	u32 window;
	const struct net_addr *dst;
	u64 rng;
	u32 ver_seq;
	u32 pre_next;
	u32 pre_end;
	u64 t_start;
	u64 t_end;
	bool failed;
	u32 warned;
	int epfd;
	void *engine;
	struct bench_stats st;
};

/**
 * bench_reserve() - make a transport's buffer hold at least @need bytes.
 * @buf:  the buffer (NULL while @cap is 0)
 * @cap:  its size; doubled (from 4096 when 0) until it is @need or more
 * @need: bytes wanted
 *
 * Return: 0, or -ENOMEM with @buf and @cap unchanged.
 */
static inline int bench_reserve(char **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*buf, ncap);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = ncap;
	return 0;
}

bool workload_next(struct bench_worker *w, struct bench_op *op);
void bench_record(struct bench_worker *w, enum mc_result r, u64 t_sent,
		  u64 now);
void bench_warn_reply(struct bench_worker *w, enum mc_result r,
		      const struct bench_op *op, const char *buf, size_t len);
void bench_stats_init(struct bench_stats *st);
void bench_stats_add(struct bench_stats *dst, const struct bench_stats *src);

#endif /* XKV_BENCH_WORKER_H */
