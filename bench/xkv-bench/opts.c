// SPDX-License-Identifier: GPL-2.0
/*
 * opts.c - xkv-bench's command line.
 *
 * Every value is checked before anything starts; a bad one is named on
 * stderr and the caller exits with BENCH_EX_USAGE.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyval.h"
#include "opts.h"

#define THREADS_MAX 256u
#define CONNS_MAX 4096u
#define WINDOW_MAX 4096u
#define DURATION_MAX 86400.0
#define TIMEOUT_MAX 600000u
#define TIMEOUT_UDP_MS 100u
#define TIMEOUT_TCP_MS 2000u

/* long options without a short one */
enum { OPT_CPU_CGROUP = 256 };

static const char optstring[] = "s:p:P:b:UTt:c:w:d:W:r:k:K:z:v:o:nNS:jh";

static const struct option longopts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "port", required_argument, NULL, 'p' },
	{ "tcp-port", required_argument, NULL, 'P' },
	{ "bind", required_argument, NULL, 'b' },
	{ "udp", no_argument, NULL, 'U' },
	{ "tcp", no_argument, NULL, 'T' },
	{ "threads", required_argument, NULL, 't' },
	{ "conns", required_argument, NULL, 'c' },
	{ "window", required_argument, NULL, 'w' },
	{ "duration", required_argument, NULL, 'd' },
	{ "warmup", required_argument, NULL, 'W' },
	{ "ratio", required_argument, NULL, 'r' },
	{ "keys", required_argument, NULL, 'k' },
	{ "key-size", required_argument, NULL, 'K' },
	{ "zipf", required_argument, NULL, 'z' },
	{ "value-size", required_argument, NULL, 'v' },
	{ "timeout", required_argument, NULL, 'o' },
	{ "no-preload", no_argument, NULL, 'n' },
	{ "no-verify", no_argument, NULL, 'N' },
	{ "seed", required_argument, NULL, 'S' },
	{ "json", no_argument, NULL, 'j' },
	{ "cpu-cgroup", required_argument, NULL, OPT_CPU_CGROUP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
	"Usage: xkv-bench [OPTION]...\n"
	"Load generator for memcached text-protocol servers, over TCP or UDP.\n"
	"Every value a GET returns is checked against the key it was asked\n"
	"for; a wrong one is an error and makes the exit status 1.\n"
	"\n"
	"  -s, --server=ADDR       server name or address (default 127.0.0.1)\n"
	"  -p, --port=PORT         server port (default 11211)\n"
	"  -P, --tcp-port=PORT     TCP port for the preload (default: -p)\n"
	"  -b, --bind=ADDR         source address of every socket\n"
	"  -T, --tcp               measure over TCP (default)\n"
	"  -U, --udp               measure over UDP (8-byte frame header)\n"
	"  -t, --threads=N         client threads (default 1)\n"
	"  -c, --conns=N           TCP connections or UDP flows (one socket\n"
	"                          each) per thread (default 4)\n"
	"  -w, --window=N          requests in flight per connection or flow:\n"
	"                          pipeline depth (TCP), datagrams waiting\n"
	"                          (UDP) (default 1)\n"
	"  -d, --duration=SEC      seconds measured, may be 0.5 (default 5)\n"
	"  -W, --warmup=SEC        run unmeasured first (default 0)\n"
	"  -r, --ratio=GET:SET     operation mix (default 9:1; 1:0: GET only)\n"
	"  -k, --keys=N            key space (default 100000)\n"
	"  -K, --key-size=N        key length in bytes (default 16, max 250)\n"
	"  -z, --zipf=S            Zipf popularity, exponent S (0 = uniform,\n"
	"                          the default); key 0 is the hottest\n"
	"  -v, --value-size=N|MIN-MAX\n"
	"                          value length, fixed or uniform in MIN..MAX\n"
	"                          (default 32; at least 16)\n"
	"  -o, --timeout=MS        per-request timeout (default 100 for UDP,\n"
	"                          2000 for TCP)\n"
	"  -n, --no-preload        do not SET every key (over TCP) first\n"
	"  -N, --no-verify         do not check the values read back\n"
	"  -S, --seed=N            random seed (default: from the clock)\n"
	"  -j, --json              print one JSON object on stdout (with\n"
	"                          the machine's CPU ticks in the run)\n"
	"      --cpu-cgroup=DIR    also report the CPU time of cgroup DIR\n"
	"                          and of the ksoftirqd threads in the run\n"
	"  -h, --help              print this help and exit\n"
	"\n"
	"Methods: Zipf ranks by rejection-inversion (exact, O(1) memory);\n"
	"latency in log buckets of at most 0.8% width (HDR style); values\n"
	"carry their key id and version, and all their bytes derive from\n"
	"them, so every GET hit is checked byte for byte.\n"
	"\n"
	"Exit status: 0 ok; 1 a wrong or malformed reply was seen, or no\n"
	"operation completed; 2 bad usage or setup failure.\n";

static int parse_u32(const char *s, u32 min, u32 max, u32 *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (u32)v;
	return 0;
}

static int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_seed(const char *s, u64 *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/* "GET:SET", two weights, not both zero */
static int parse_ratio(const char *s, struct bench_opts *o)
{
	char buf[64], *colon;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (parse_u32(buf, 0, 1000000, &o->get_weight) ||
	    parse_u32(colon + 1, 0, 1000000, &o->set_weight))
		return -EINVAL;
	return o->get_weight + o->set_weight ? 0 : -EINVAL;
}

/* "N" or "MIN-MAX" */
static int parse_value_size(const char *s, struct bench_opts *o)
{
	char buf[64], *dash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_u32(buf, OPTS_VALUE_MIN, OPTS_VALUE_MAX, &o->value_min))
		return -EINVAL;
	o->value_max = o->value_min;
	if (dash &&
	    parse_u32(dash + 1, o->value_min, OPTS_VALUE_MAX, &o->value_max))
		return -EINVAL;
	return 0;
}

static int bad(const char *name, const char *arg)
{
	fprintf(stderr, "xkv-bench: invalid %s: '%s' (see --help)\n", name,
		arg);
	return -EINVAL;
}

static void set_defaults(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->server = "127.0.0.1";
	o->port = 11211;
	o->threads = 1;
	o->conns = 4;
	o->window = 1;
	o->duration = 5;
	o->get_weight = 9;
	o->set_weight = 1;
	o->keys = 100000;
	o->key_size = 16;
	o->value_min = 32;
	o->value_max = 32;
	o->preload = true;
	o->verify = true;
	o->seed = (u64)now_ns();
}

/* checks that need several options at once */
static int check(struct bench_opts *o, bool tcp_port_set)
{
	u32 need = kv_key_min_size(o->keys);

	if (o->key_size < need) {
		fprintf(stderr,
			"xkv-bench: --key-size=%u: %u keys need at least %u\n",
			o->key_size, o->keys, need);
		return -EINVAL;
	}
	if (!tcp_port_set)
		o->tcp_port = o->port;
	if (!o->timeout_ms)
		o->timeout_ms = o->udp ? TIMEOUT_UDP_MS : TIMEOUT_TCP_MS;
	/* a UDP request must fit one datagram */
	if (o->udp && o->set_weight &&
	    kv_set_request_max(o->key_size, o->value_max) > OPTS_UDP_MAX) {
		fprintf(stderr,
			"xkv-bench: a %u-byte SET does not fit one datagram\n",
			o->value_max);
		return -EINVAL;
	}
	return 0;
}

/**
 * opts_parse() - read the command line.
 * @o:    filled with the settings
 * @argc: from main()
 * @argv: from main()
 *
 * Return: 0 to go on, 1 when --help was printed, -EINVAL on a bad option
 * (already reported on stderr).
 */
int opts_parse(struct bench_opts *o, int argc, char **argv)
{
	bool tcp_port_set = false;
	u32 v;
	int c;

	set_defaults(o);
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->server = optarg;
			break;
		case 'p':
			if (parse_u32(optarg, 1, 65535, &v))
				return bad("--port", optarg);
			o->port = (u16)v;
			break;
		case 'P':
			if (parse_u32(optarg, 1, 65535, &v))
				return bad("--tcp-port", optarg);
			o->tcp_port = (u16)v;
			tcp_port_set = true;
			break;
		case 'b':
			o->bind = optarg;
			break;
		case OPT_CPU_CGROUP:
			o->cpu_cgroup = optarg;
			break;
		case 'U':
			o->udp = true;
			break;
		case 'T':
			o->udp = false;
			break;
		case 't':
			if (parse_u32(optarg, 1, THREADS_MAX, &o->threads))
				return bad("--threads", optarg);
			break;
		case 'c':
			if (parse_u32(optarg, 1, CONNS_MAX, &o->conns))
				return bad("--conns", optarg);
			break;
		case 'w':
			if (parse_u32(optarg, 1, WINDOW_MAX, &o->window))
				return bad("--window", optarg);
			break;
		case 'd':
			if (parse_double(optarg, 0.001, DURATION_MAX,
					 &o->duration))
				return bad("--duration", optarg);
			break;
		case 'W':
			if (parse_double(optarg, 0, DURATION_MAX, &o->warmup))
				return bad("--warmup", optarg);
			break;
		case 'r':
			if (parse_ratio(optarg, o))
				return bad("--ratio", optarg);
			break;
		case 'k':
			if (parse_u32(optarg, 1, UINT32_MAX, &o->keys))
				return bad("--keys", optarg);
			break;
		case 'K':
			if (parse_u32(optarg, 1, OPTS_KEY_MAX, &o->key_size))
				return bad("--key-size", optarg);
			break;
		case 'z':
			if (parse_double(optarg, 0, 100, &o->zipf_s))
				return bad("--zipf", optarg);
			break;
		case 'v':
			if (parse_value_size(optarg, o))
				return bad("--value-size", optarg);
			break;
		case 'o':
			if (parse_u32(optarg, 1, TIMEOUT_MAX, &o->timeout_ms))
				return bad("--timeout", optarg);
			break;
		case 'n':
			o->preload = false;
			break;
		case 'N':
			o->verify = false;
			break;
		case 'S':
			if (parse_seed(optarg, &o->seed))
				return bad("--seed", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		default:
			fputs("Try 'xkv-bench --help'.\n", stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xkv-bench: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return check(o, tcp_port_set);
}
