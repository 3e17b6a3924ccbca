// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - xkv-bench: a load generator for memcached text-protocol
 * servers over TCP or UDP that checks every value it reads back.
 *
 *   options -> addresses -> preload (SET every key over TCP) -> measured
 *   run -> report -> exit status (1 if any reply was wrong or malformed,
 *   or no operation completed)
 *
 * See --help for the options, and the file headers for the parts: opts.c
 * (command line), run.c (threads), tcp.c and udp.c (transports),
 * mcproto.c (protocol), keyval.c (self-checking values), zipf.c
 * (popularity), hist.c (latency), report.c (output).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "opts.h"
#include "report.h"
#include "run.h"

static int setup_shared(struct bench_shared *sh, const struct bench_opts *o)
{
	u64 total = (u64)o->get_weight + o->set_weight;

	sh->o = o;
	sh->fmt.key_size = o->key_size;
	sh->fmt.value_min = o->value_min;
	sh->fmt.value_max = o->value_max;
	sh->get_thresh = ((u64)o->get_weight << 32) / total;
	if (o->zipf_s > 0 && zipf_init(&sh->zipf, o->keys, o->zipf_s))
		return -1;
	if (net_resolve(o->server, o->port, &sh->dst) ||
	    net_resolve(o->server, o->tcp_port, &sh->tcp_dst))
		return -1;
	if (o->bind) {
		if (net_resolve(o->bind, 0, &sh->src))
			return -1;
		sh->has_src = true;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench_phase pre, run;
	struct bench_report rep = { .run = &run };
	struct bench_shared sh = { 0 };
	struct bench_opts o;
	char server[64];
	int err;

	err = opts_parse(&o, argc, argv);
	if (err)
		return err > 0 ? BENCH_EX_OK : BENCH_EX_USAGE;
	signal(SIGPIPE, SIG_IGN);
	if (setup_shared(&sh, &o))
		return BENCH_EX_USAGE;
	net_name(&sh.dst, server, sizeof(server));
	rep.sh = &sh;
	rep.server = server;

	if (o.preload) {
		if (bench_run(&sh, BENCH_PRELOAD, &pre))
			return BENCH_EX_USAGE;
		if (pre.failed || pre.st.sets != o.keys) {
			fprintf(stderr,
				"xkv-bench: preload failed (%llu of %u keys stored)\n",
				(unsigned long long)pre.st.sets, o.keys);
			return BENCH_EX_USAGE;
		}
		rep.pre = &pre;
	}
	if (bench_run(&sh, BENCH_RUN, &run))
		return BENCH_EX_USAGE;
	if (run.failed) {
		fprintf(stderr, "xkv-bench: could not start the run\n");
		return BENCH_EX_USAGE;
	}
	if (o.json)
		report_json(&rep);
	else
		report_text(&rep);

	if (run.st.bad_values || run.st.proto_errors) {
		fprintf(stderr,
			"xkv-bench: FAIL: %llu wrong values, %llu malformed replies\n",
			(unsigned long long)run.st.bad_values,
			(unsigned long long)run.st.proto_errors);
		return BENCH_EX_FAIL;
	}
	if (!(run.st.hits + run.st.misses + run.st.sets)) {
		fprintf(stderr, "xkv-bench: FAIL: no operation completed\n");
		return BENCH_EX_FAIL;
	}
	return BENCH_EX_OK;
}
