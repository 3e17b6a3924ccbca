// SPDX-License-Identifier: GPL-2.0
/*
 * settings.c - xkvd's command line, memcached's flags where they mean the
 * same thing, so that a memcached command line keeps working.
 *
 * Every value is checked before anything starts; a bad one is reported by
 * name on stderr and the caller exits with EX_USAGE (64).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udp_policy.h"
#include "util.h"
#include "xkvd.h"

#define OPT_DEBUG_CLOCK 0x100
#define OPT_HOT_MAP 0x101
#define OPT_BUSY_POLL 0x102
#define OPT_UDP_ALLOW 0x180
#define OPT_UDP_AMP 0x181

#define ITEM_SIZE_MIN 1024u
#define ITEM_SIZE_MAX (1024u * 1024 * 1024)
#define MEMORY_MB_MAX (1024u * 1024) /* 1 TiB */
#define THREADS_MAX 256u
#define CONNS_MAX (1024u * 1024)
#define CHUNK_MIN_MAX (1024u * 1024)
#define GROWTH_X100_MAX 10000u

static const char optstring[] = ":p:U:l:m:t:c:I:f:n:u:o:AXSY:vhV";

static const struct option longopts[] = {
	{ "port", required_argument, NULL, 'p' },
	{ "udp-port", required_argument, NULL, 'U' },
	{ "listen", required_argument, NULL, 'l' },
	{ "memory-limit", required_argument, NULL, 'm' },
	{ "threads", required_argument, NULL, 't' },
	{ "conn-limit", required_argument, NULL, 'c' },
	{ "max-item-size", required_argument, NULL, 'I' },
	{ "slab-growth-factor", required_argument, NULL, 'f' },
	{ "slab-min-size", required_argument, NULL, 'n' },
	{ "user", required_argument, NULL, 'u' },
	{ "extended", required_argument, NULL, 'o' },
	{ "enable-shutdown", no_argument, NULL, 'A' },
	{ "disable-dumping", no_argument, NULL, 'X' },
	{ "enable-sasl", no_argument, NULL, 'S' },
	{ "auth-file", required_argument, NULL, 'Y' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "debug-clock", no_argument, NULL, OPT_DEBUG_CLOCK },
	{ "hot-map", required_argument, NULL, OPT_HOT_MAP },
	{ "busy-poll", required_argument, NULL, OPT_BUSY_POLL },
	{ "udp-allow", required_argument, NULL, OPT_UDP_ALLOW },
	{ "udp-amp-ratio", required_argument, NULL, OPT_UDP_AMP },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
	"Usage: xkvd [OPTION]...\n"
	"A memcached-compatible cache server.\n"
	"\n"
	"  -p, --port=NUM           TCP port (default 11211; 0 = off)\n"
	"  -U, --udp-port=NUM       UDP port (default 0: off)\n"
	"      --udp-allow=LIST     UDP sources answered: PREFIX[,PREFIX...],\n"
	"                           any or none (default: the subnets of this\n"
	"                           host's interfaces, loopback included)\n"
	"      --udp-amp-ratio=N    UDP reply budget: reply bytes at most N x\n"
	"                           request bytes; 0 = no budget (default 64)\n"
	"  -l, --listen=ADDR        IPv4 or IPv6 address (default: any)\n"
	"  -m, --memory-limit=NUM   item memory in megabytes (default 64)\n"
	"  -t, --threads=NUM        worker threads (default: one per CPU)\n"
	"  -c, --conn-limit=NUM     most open connections (default 1024)\n"
	"  -I, --max-item-size=SIZE largest item: bytes, or with a k or m\n"
	"                           suffix; 1k..1024m (default 1m)\n"
	"  -f, --slab-growth-factor=NUM\n"
	"                           slab class growth factor (default 1.25)\n"
	"  -n, --slab-min-size=NUM  smallest chunk for key, value and flags\n"
	"                           (default 48)\n"
	"  -u, --user=USER          started as root: become USER once the\n"
	"                           sockets and --hot-map are open (without\n"
	"                           -u xkvd keeps root, with a warning)\n"
	"  -o, --extended=LIST      memcached's NAME=VALUE[,NAME=VALUE...]:\n"
	"                           idle_timeout=SECONDS  close a connection\n"
	"                             silent that long (default 0: never)\n"
	"                           read_buf_mem_limit=MB  what all TCP\n"
	"                             connections' buffers may take together\n"
	"                             (default 64, or 8 x -I if more; 0 = no\n"
	"                             limit)\n"
	"  -A, --enable-shutdown    accept the \"shutdown\" command, which\n"
	"                           stops xkvd as SIGTERM does\n"
	"  -X, --disable-dumping    refuse \"lru_crawler metadump\"\n"
	"  -S, --enable-sasl        binary protocol only, SASL PLAIN first;\n"
	"                           users from MEMCACHED_SASL_PWDB=FILE\n"
	"                           (user:password lines); no UDP\n"
	"  -Y, --auth-file=FILE     ASCII protocol only; a client first sends\n"
	"                           \"set auth 0 0 N\" with \"USER PASSWORD\",\n"
	"                           checked against FILE's user:password\n"
	"                           lines; no binary, no UDP, no -S\n"
	"                           (SIGHUP reads the -Y or -S file again)\n"
	"  -v, --verbose            -v: log startup; -vv: and connections\n"
	"      --debug-clock        accept \"debugtime <seconds>\" (tests)\n"
	"      --hot-map=PATH       own the XDP hot cache pinned at PATH, a\n"
	"                           power of two of at least 4 slots\n"
	"                           (xkv up passes it; see README); the\n"
	"                           lease and the TCP fast path's table\n"
	"                           pinned next to it are used too\n"
	"      --busy-poll=USECS    a worker with nothing to do polls the\n"
	"                           network device's queue this long before\n"
	"                           it sleeps (epoll busy polling, Linux\n"
	"                           6.9+; queues with a NAPI id only, e.g. a\n"
	"                           veth with XDP), while its events come\n"
	"                           closer together than that; 0 = off\n"
	"                           (default 20 with --hot-map, else 0)\n"
	"  -V, --version            print the version and exit\n"
	"  -h, --help               print this help and exit\n"
	"\n"
	"UDP is off unless -U is given, as in memcached 1.6. Over UDP xkvd never\n"
	"answers a source port 0 or its own port, a broadcast or multicast\n"
	"address, or a datagram that looks like a reply (see README, Security).\n";

/* Parse a whole decimal number, no sign, no spaces, no overflow. */
static int parse_u64(const char *s, u64 *out, const char **end)
{
	u64 v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (~0ULL - 9) / 10)
			return -ERANGE;
		v = v * 10 + (u64)(*s - '0');
	}
	*out = v;
	*end = s;
	return 0;
}

static int parse_range(const char *s, u64 min, u64 max, u64 *out)
{
	const char *end;
	u64 v;

	if (parse_u64(s, &v, &end) || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* memcached's -I: bytes, or a k/m suffix ("2m") */
static int parse_item_size(const char *s, u32 *out)
{
	const char *end;
	u64 v, mult = 1;

	if (parse_u64(s, &v, &end))
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		mult = 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		mult = 1024 * 1024;
		end++;
	}
	if (*end || v > ITEM_SIZE_MAX / mult)
		return -EINVAL;
	v *= mult;
	if (v < ITEM_SIZE_MIN || v > ITEM_SIZE_MAX)
		return -EINVAL;
	*out = (u32)v;
	return 0;
}

/* -m: megabytes, optionally written "64m" or "2g" */
static int parse_memory(const char *s, u64 *out)
{
	const char *end;
	u64 v;

	if (parse_u64(s, &v, &end))
		return -EINVAL;
	if (*end == 'm' || *end == 'M') {
		end++;
	} else if (*end == 'g' || *end == 'G') {
		if (v > MEMORY_MB_MAX / 1024)
			return -EINVAL;
		v *= 1024;
		end++;
	}
	if (*end || v < 1 || v > MEMORY_MB_MAX)
		return -EINVAL;
	*out = v << 20;
	return 0;
}

/*
 * -f: a decimal factor such as "1.25", kept as a whole number of
 * hundredths. The third decimal rounds; any further digits are ignored.
 */
static int parse_factor(const char *s, u32 *out)
{
	const char *end;
	u64 whole, milli = 0;
	int digits = 0;

	if (parse_u64(s, &whole, &end) || whole > GROWTH_X100_MAX / 100)
		return -EINVAL;
	if (*end == '.') {
		for (end++; *end >= '0' && *end <= '9'; end++, digits++) {
			if (digits < 3)
				milli = milli * 10 + (u64)(*end - '0');
		}
		if (!digits)
			return -EINVAL;
		for (; digits < 3; digits++)
			milli *= 10;
	}
	if (*end)
		return -EINVAL;
	whole = whole * 100 + (milli + 5) / 10;
	if (whole <= 100 || whole > GROWTH_X100_MAX)
		return -EINVAL;
	*out = (u32)whole;
	return 0;
}

/* -l: an IPv4 or IPv6 literal; "[::1]" is taken as "::1" */
static int parse_listen(const char *s, char *out, size_t out_len)
{
	struct addrinfo hints = { 0 }, *ai;
	char tmp[XKV_LISTEN_MAX];
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (!n || n >= sizeof(tmp) || n >= out_len)
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';

	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(tmp, NULL, &hints, &ai))
		return -EINVAL;
	freeaddrinfo(ai);
	memcpy(out, tmp, n + 1);
	return 0;
}

static int bad_value(int opt, int longindex, const char *arg, const char *why)
{
	if (longindex >= 0)
		fprintf(stderr, "xkvd: invalid value for --%s: '%s': %s\n",
			longopts[longindex].name, arg, why);
	else
		fprintf(stderr, "xkvd: invalid value for -%c: '%s': %s\n", opt,
			arg, why);
	return -EINVAL;
}

static int bad_usage(void)
{
	fprintf(stderr, "Try 'xkvd -h' for more information.\n");
	return -EINVAL;
}

/*
 * Print the option getopt_long() just refused, as the user wrote it. An
 * unknown long option leaves optopt at 0; a long option that lacks its
 * value sets optopt to its letter and is the last argument consumed.
 */
static void name_bad_option(const char *what, char **argv)
{
	const char *arg = argv[optind - 1];
	int len = (int)strcspn(arg, "=");
	const struct option *o;

	if (!optopt) {
		fprintf(stderr, "xkvd: %s: %.*s\n", what, len, arg);
		return;
	}
	if (!strncmp(arg, "--", 2)) {
		for (o = longopts; o->name; o++) {
			if (o->val == optopt &&
			    !strncmp(arg + 2, o->name, (size_t)len - 2)) {
				if (o->has_arg == no_argument && arg[len])
					what = "option takes no value";
				fprintf(stderr, "xkvd: %s: --%s\n", what,
					o->name);
				return;
			}
		}
	}
	fprintf(stderr, "xkvd: %s: -%c\n", what, optopt);
}

/*
 * The password file of -S (MEMCACHED_SASL_PWDB) or -Y, read whole, one
 * reader for both, at start and on SIGHUP. @what names it in errors. -Y,
 * as memcached, refuses a line without ':'. Return: the contents,
 * NUL-terminated, or NULL (said why on stderr).
 */
static char *read_pwdb(const char *path, const char *what, bool strict,
		       size_t *len)
{
	const char *why;
	char *buf;
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "xkvd: %s: %s: %s\n", what, path,
			strerror(errno));
		return NULL;
	}
	buf = calloc(1, XKV_PWDB_MAX + 2);
	n = buf ? fread(buf, 1, XKV_PWDB_MAX + 1, f) : 0;
	fclose(f);
	why = buf ? xkv_pwdb_check(buf, n, strict) : "out of memory";
	if (why) {
		fprintf(stderr, "xkvd: %s: %s %s\n", what, path, why);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int load_pwdb(struct xkv_settings *set, const char *path,
		     const char *what, bool strict)
{
	char *buf;
	size_t n;

	buf = read_pwdb(path, what, strict, &n);
	if (!buf)
		return -EINVAL;
	free((void *)set->pwdb);
	set->pwdb = buf;
	return 0;
}

/**
 * xkvd_reload_pwdb() - read the password file again (SIGHUP).
 * @set: the settings xkvd started with (-S or -Y)
 * @st:  the store, which takes a copy
 *
 * As memcached on SIGHUP: the -Y file again (with -S, the
 * MEMCACHED_SASL_PWDB file, which memcached reads at every
 * authentication). A file that cannot be read or is malformed leaves the
 * old one in force, said on stderr.
 *
 * Return: 0, -ENOENT without -S or -Y, or -EINVAL.
 */
int xkvd_reload_pwdb(const struct xkv_settings *set, struct xkv_store *st)
{
	const char *path = set->sasl ? getenv("MEMCACHED_SASL_PWDB") :
				       set->auth_file;
	const char *what = set->sasl ? "MEMCACHED_SASL_PWDB" : "-Y";
	char *buf;
	size_t n;
	int err;

	if (!path)
		return -ENOENT;
	buf = read_pwdb(path, what, !set->sasl, &n);
	if (!buf)
		return -EINVAL;
	err = xkv_store_set_pwdb(st, buf, n);
	explicit_bzero(buf, n);
	free(buf);
	return err;
}

static int parse_one(struct xkv_settings *set, int c, int longindex,
		     const char *arg)
{
	u64 v;

	switch (c) {
	case 'p':
		if (parse_range(arg, 0, 65535, &v))
			return bad_value(c, longindex, arg,
					 "not a port number (0..65535)");
		set->tcp_port = (u32)v;
		break;
	case 'U':
		if (parse_range(arg, 0, 65535, &v))
			return bad_value(c, longindex, arg,
					 "not a port number (0..65535)");
		set->udp_port = (u32)v;
		break;
	case 'l':
		if (parse_listen(arg, set->listen, sizeof(set->listen)))
			return bad_value(c, longindex, arg,
					 "not an IPv4 or IPv6 address");
		break;
	case 'm':
		if (parse_memory(arg, &set->maxbytes))
			return bad_value(c, longindex, arg,
					 "megabytes must be 1..1048576");
		break;
	case 't':
		if (parse_range(arg, 1, THREADS_MAX, &v))
			return bad_value(c, longindex, arg,
					 "threads must be 1..256");
		set->threads = (u32)v;
		break;
	case 'c':
		if (parse_range(arg, 1, CONNS_MAX, &v))
			return bad_value(c, longindex, arg,
					 "connections must be 1..1048576");
		set->maxconns = (u32)v;
		break;
	case 'I':
		if (parse_item_size(arg, &set->item_size_max))
			return bad_value(c, longindex, arg,
					 "item size must be 1k..1024m");
		break;
	case 'f':
		if (parse_factor(arg, &set->growth_x100))
			return bad_value(c, longindex, arg,
					 "factor must be over 1, at most 100");
		break;
	case 'n':
		if (parse_range(arg, 1, CHUNK_MIN_MAX, &v))
			return bad_value(c, longindex, arg,
					 "chunk size must be 1..1048576");
		set->chunk_min = (u32)v;
		break;
	case 'u':
		xkvd_user = arg;	/* privs.c */
		break;
	case 'o':
		return xkvd_parse_ext(set, arg);
	case 'A':
		set->shutdown_command = true;
		break;
	case 'X':
		set->dump_disabled = true;
		break;
	case 'v':
		set->verbose++;
		break;
	case 'S':
		set->sasl = true;
		/* without the variable the settings check refuses -S */
		if (!getenv("MEMCACHED_SASL_PWDB") || set->pwdb)
			return 0;
		return load_pwdb(set, getenv("MEMCACHED_SASL_PWDB"),
				 "MEMCACHED_SASL_PWDB", false);
	case 'Y':
		set->auth_file = arg;
		return set->sasl ? 0 : load_pwdb(set, arg, "-Y", true);
	case OPT_DEBUG_CLOCK:
		set->debug_clock = true;
		break;
	case OPT_UDP_ALLOW:
		if (xkv_udp_allow_parse(NULL, arg))
			return bad_value(c, longindex, arg,
					 "not any, none or PREFIX[,PREFIX...]");
		set->udp_allow = arg;
		break;
	case OPT_UDP_AMP:
		if (parse_range(arg, 0, XKV_UDP_AMP_MAX, &v))
			return bad_value(c, longindex, arg,
					 "ratio must be 0..1000000");
		set->udp_amp_ratio = (u32)v;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* The core's check of every setting (kmod/core/store.c). */
static int check_together(const struct xkv_settings *set)
{
	const char *why;

	if (!xkv_settings_check(set, &why))
		return 0;
	fprintf(stderr, "xkvd: %s\n", why);
	return -EINVAL;
}

/**
 * xkvd_parse_args() - turn the command line into settings.
 * @set:  settings, already filled with the defaults
 * @opts: out: xkvd's own options (struct xkvd_opts)
 * @argc: argument count
 * @argv: arguments
 *
 * Prints help or the version itself, and names any bad option or value on
 * stderr.
 *
 * Return: 0 to run the server, 1 to exit successfully now (help, version),
 * -EINVAL for a usage error.
 */
int xkvd_parse_args(struct xkv_settings *set, struct xkvd_opts *opts,
		    int argc, char **argv)
{
	int c, longindex;
	u64 v;

	opts->hot_map = NULL;
	opts->busy_poll_us = -1;
	opterr = 0;
	for (;;) {
		longindex = -1;
		c = getopt_long(argc, argv, optstring, longopts, &longindex);
		if (c == -1)
			break;
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			printf("xkvd %s\n", XKV_VERSION);
			return 1;
		case ':':
			name_bad_option("option needs a value", argv);
			return bad_usage();
		case '?':
			name_bad_option("unknown option", argv);
			return bad_usage();
		case OPT_HOT_MAP:
			opts->hot_map = optarg;
			continue;
		case OPT_BUSY_POLL:
			if (parse_range(optarg, 0, XKVD_BUSY_POLL_MAX_US, &v)) {
				bad_value(c, longindex, optarg,
					  "microseconds must be 0..1000000");
				return bad_usage();
			}
			opts->busy_poll_us = (int)v;
			continue;
		}
		if (parse_one(set, c, longindex, optarg))
			return bad_usage();
	}
	if (optind < argc) {
		fprintf(stderr, "xkvd: unexpected argument: '%s'\n",
			argv[optind]);
		return bad_usage();
	}
	if (check_together(set))
		return bad_usage();
	return 0;
}
