// SPDX-License-Identifier: GPL-2.0
/*
 * xdpspread.c - "xdpcost spread": what a hot-cache hit costs when its keys
 * are spread as a real workload spreads them, not one key in a warm cache.
 *
 *   xdpcost spread [-K KEYS] [-s SLOTS] [-z S] [-n GETS] [-r ROUNDS] [-j]
 *
 * Loads the hot tier as "xkv up" does with SLOTS slots (default 16384:
 * xkv up's 32 MiB), installs KEYS keys (default 100000; 16-byte keys,
 * 32-byte values: bench/compare's workload) most requested first, as the
 * store's admission leaves them, then times GETS GETs per round through
 * BPF_PROG_TEST_RUN, one run per call (xdpcost's "per call": the kernel's
 * duration of each run, its timer reads included):
 *
 *   spread  each GET's key drawn from Zipf S over the KEYS keys (S = 0:
 *           uniform; default 0.99), so most GETs meet a slot cold in the
 *           caches and the TLB, as under bench/compare's load
 *   one     as many GETs of the most requested key alone: a warm slot,
 *           what "xdpcost cost" times as "hit"
 *
 * The two alternate in each round; medians over ROUNDS rounds (default
 * 5), after one untimed GET of every key. spread - one is what the
 * spread adds to a hit. The system call around each run evicts some of
 * what the run touched, for both alike. Every run must end in XDP_TX
 * with a reply carrying its key, and the hot tier's reply counter must
 * grow by one per run; a key whose entry does not fit its slot is left
 * out of the draw and counted.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "pkt.h"
#include "xdpcost.h"
#include "rng.h"
#include "zipf.h"

#define SPREAD_KLEN 16
#define SPREAD_VLEN 32

struct spread_opts {
	long keys;
	long slots;
	double zipf;
	long gets;
	long rounds;
	bool json;
};

enum { S_SPREAD, S_ONE, S_NR };

static const char *const spread_name[S_NR] = { "spread", "one" };

static const char spread_usage[] =
	"usage: xdpcost spread [-K KEYS] [-s SLOTS] [-z S] [-n GETS] "
	"[-r ROUNDS] [-j]\n"
	"  -K KEYS    keys installed, 16-byte keys and 32-byte values "
	"(100000)\n"
	"  -s SLOTS   hot cache slots, a power of two (16384: 32 MiB)\n"
	"  -z S       Zipf exponent of the keys drawn, 0 = uniform (0.99)\n"
	"  -n GETS    GETs per round, each way (20000)\n"
	"  -r ROUNDS  rounds, the median reported (5)\n"
	"  -j         one JSON line\n";

/* the value of key @id: its digits, padded to SPREAD_VLEN */
static void make_val(char *val, unsigned int id)
{
	int n = snprintf(val, SPREAD_VLEN + 1, "v%u:", id);

	memset(val + n, 'v', (size_t)(SPREAD_VLEN - n));
	val[SPREAD_VLEN] = 0;
}

/*
 * One GET of key @id through the hot tier, as "xdpcost cost" times a hit
 * (time_per_call()): XDP_TX with the key's value in the reply. Adds the
 * kernel's duration of the run to *@ns.
 */
static int get_once(const struct hot *h, unsigned int id, double *ns)
{
	static struct pkt f;
	char key[SPREAD_KLEN + 1], val[SPREAD_VLEN + 1], req[64];
	struct target t = { .fd = h->prog_fd, .wrap_fd = -1, .in = &f,
			    .want = XDP_TX, .want_text = val };
	double one;
	int err;

	make_key(key, SPREAD_KLEN, id);
	make_val(val, id);
	snprintf(req, sizeof(req), "get %s\r\n", key);
	frame_get(&f, req);
	err = time_per_call(&t, 1, &one);
	if (err == -EPROTO)
		fprintf(stderr, "xdpcost: spread: the GET of %s\n", key);
	if (!err)
		*ns += one;
	return err;
}

/* a key drawn as @so says (Zipf or uniform) among those in @in */
static unsigned int draw(const struct spread_opts *so, const struct zipf *z,
			 const bool *in, u64 *rng)
{
	unsigned int id;

	do
		id = so->zipf > 0 ? (unsigned int)(zipf_sample(z, rng) - 1) :
		     rng_below(rng, (u32)so->keys);
	while (!in[id]);
	return id;
}

/*
 * @so->gets GETs, of keys drawn from @z (NULL: key 0 each time) among
 * those in @in; their mean duration in *@ns, checked against the reply
 * counter.
 */
static int time_gets(struct hot *h, const struct spread_opts *so,
		     const struct zipf *z, const bool *in, u64 *rng,
		     double *ns)
{
	__u64 before, after;
	double total = 0;
	long i, n = so->gets;
	int err;

	err = hot_stat(h, XKV_STAT_replies, &before);
	for (i = 0; !err && i < n; i++)
		err = get_once(h, z ? draw(so, z, in, rng) : 0, &total);
	if (!err)
		err = hot_stat(h, XKV_STAT_replies, &after);
	if (err)
		return err;
	if (after - before != (__u64)n) {
		fprintf(stderr, "xdpcost: spread: %llu replies in %ld runs\n",
			(unsigned long long)(after - before), n);
		return -EPROTO;
	}
	*ns = total / (double)n;
	return 0;
}

static void print_spread(const struct spread_opts *so, long left_out,
			 double res[S_NR][ROUNDS_MAX])
{
	double med[S_NR], lo[S_NR], hi[S_NR];
	int k;

	for (k = 0; k < S_NR; k++)
		med[k] = median(res[k], (int)so->rounds, &lo[k], &hi[k]);
	if (so->json) {
		printf("{\"tool\":\"xdpspread\",\"keys\":%ld,\"slots\":%ld,"
		       "\"zipf\":%.2f,\"gets\":%ld,\"rounds\":%ld,"
		       "\"key_len\":%d,\"value_len\":%d,\"left_out\":%ld",
		       so->keys, so->slots, so->zipf, so->gets, so->rounds,
		       SPREAD_KLEN, SPREAD_VLEN, left_out);
		for (k = 0; k < S_NR; k++)
			printf(",\"%s\":{\"ns\":%.1f,\"min\":%.1f,"
			       "\"max\":%.1f}", spread_name[k], med[k], lo[k],
			       hi[k]);
		printf(",\"added_ns\":%.1f}\n", med[S_SPREAD] - med[S_ONE]);
		return;
	}
	printf("XDP hit cost under a key spread, ns per GET, per call "
	       "(median of %ld rounds of %ld GETs; %ld keys of %d bytes, "
	       "%d-byte values, %ld slots, Zipf %.2f; %ld keys did not "
	       "fit their slot)\n", so->rounds, so->gets, so->keys,
	       SPREAD_KLEN, SPREAD_VLEN, so->slots, so->zipf, left_out);
	for (k = 0; k < S_NR; k++)
		printf("%-8s %8.1f [%5.0f-%5.0f]\n", spread_name[k], med[k],
		       lo[k], hi[k]);
	printf("spread - one: %.1f\n", med[S_SPREAD] - med[S_ONE]);
}

static int spread_run(const struct spread_opts *so)
{
	static double res[S_NR][ROUNDS_MAX];
	char key[SPREAD_KLEN + 1], val[SPREAD_VLEN + 1];
	struct zipf z;
	long i, left_out = 0;
	double total = 0;
	bool *in = NULL;
	struct hot h;
	u64 rng;
	int err, r;

	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "xdpcost: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return 1;
	}
	/* zipf_init() takes s > 0; 0 is drawn uniformly instead */
	if (so->zipf > 0 && zipf_init(&z, (u64)so->keys, so->zipf)) {
		fprintf(stderr, "xdpcost: spread: bad Zipf exponent\n");
		return 2;
	}
	in = calloc((size_t)so->keys, sizeof(*in));
	if (!in)
		return 1;
	err = hot_open(&h, (__u32)so->slots);
	if (err)
		goto close_hot;
	for (i = 0; i < so->keys; i++) {
		make_key(key, SPREAD_KLEN, (unsigned int)i);
		make_val(val, (unsigned int)i);
		err = hot_install(&h, key, val);
		if (err == -ENOSPC)
			left_out++;
		else if (err)
			goto close_hot;
		in[i] = !err;
	}
	/*
	 * Warm-up, not timed: one GET of every key, which each must answer.
	 * The first kernel read of a page costs microseconds here (this
	 * machine is a guest), which a hot cache read for a while never pays.
	 */
	err = 0;
	if (!in[0]) {
		fprintf(stderr, "xdpcost: spread: the most requested key "
			"does not fit its slot: fewer keys (-K) or more "
			"slots (-s)\n");
		err = -EPROTO;
	}
	for (i = 0; !err && i < so->keys; i++)
		if (in[i])
			err = get_once(&h, (unsigned int)i, &total);
	for (r = 0; !err && r < so->rounds; r++) {
		rng = mix64((u64)r + 1);
		err = time_gets(&h, so, &z, in, &rng, &res[S_SPREAD][r]);
		if (!err)
			err = time_gets(&h, so, NULL, in, &rng,
					&res[S_ONE][r]);
	}
	if (!err)
		print_spread(so, left_out, res);
close_hot:
	if (err && err != -EPROTO)
		fprintf(stderr, "xdpcost: spread: %s\n", strerror(-err));
	hot_close(&h);
	free(in);
	return err ? 1 : 0;
}

/**
 * cmd_spread() - "xdpcost spread": parse its options and run it.
 * @argc: arguments after "xdpcost", "spread" first
 * @argv: them
 *
 * Return: the exit status (0 ok, 1 a measurement failed, 2 bad usage).
 */
int cmd_spread(int argc, char **argv)
{
	struct spread_opts so = { .keys = 100000, .slots = 16384,
				  .zipf = 0.99, .gets = 20000, .rounds = 5 };
	char *end;
	long v;
	int c;

	while ((c = getopt(argc, argv, "K:s:z:n:r:jh")) != -1) {
		switch (c) {
		case 'K':
			if (num('K', optarg, 1, 10000000, &so.keys))
				return 2;
			break;
		case 's':
			if (num('s', optarg, 1, 1L << 22, &v))
				return 2;
			if (v & (v - 1)) {
				fprintf(stderr, "xdpcost: -s %ld: slots must "
					"be a power of two\n", v);
				return 2;
			}
			so.slots = v;
			break;
		case 'z':
			errno = 0;
			so.zipf = strtod(optarg, &end);
			if (errno || *end || end == optarg || so.zipf < 0 ||
			    so.zipf > 5) {
				fprintf(stderr, "xdpcost: bad Zipf exponent "
					"\"%s\" (0..5)\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (num('n', optarg, 1, 100000000, &so.gets))
				return 2;
			break;
		case 'r':
			if (num('r', optarg, 1, ROUNDS_MAX, &so.rounds))
				return 2;
			break;
		case 'j':
			so.json = true;
			break;
		case 'h':
			printf("%s", spread_usage);
			return 0;
		default:
			fprintf(stderr, "%s", spread_usage);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xdpcost: spread: unexpected \"%s\"\n%s",
			argv[optind], spread_usage);
		return 2;
	}
	return spread_run(&so);
}
