// SPDX-License-Identifier: GPL-2.0
/*
 * xkv-prototest: memcached text protocol conformance suite, TAP output.
 *
 *   xkv-prototest [-h HOST] [-p TCPPORT] [-U UDPPORT] [--debugtime]
 *                 [--evict] [--sleep] [--sasl USER:PASSWORD]
 *                 [--ascii-auth USER:PASSWORD] [--refused USER:PASSWORD]
 *                 [-v]
 *
 * Each test runs on a fresh connection with keys of its own, so tests do
 * not depend on each other; the flush tests wipe the server and run last.
 * Exit status: 0 when every test passed, 1 when one failed, 2 on usage.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prototest.h"

struct pt_opts pt_opts = {
	.host = "127.0.0.1",
	.tcp_port = 11211,
};

/* Run order. Flush wipes everything: only the settings and binary groups
 * (which flush too) and what needs no items come after it. */
static const struct pt_group *const groups[] = {
	&pt_group_get,
	&pt_group_store,
	&pt_group_arith,
	&pt_group_admin,
	&pt_group_admincmd,
	&pt_group_noreply,
	&pt_group_stream,
	&pt_group_robust,
	&pt_group_udp,
	&pt_group_expiry,
	&pt_group_evict,
	&pt_group_flush,
	&pt_group_settings,
	&pt_group_bin,
	&pt_group_binframe,
	&pt_group_meta,
	&pt_group_auth,
};

static void usage(FILE *f)
{
	fputs("usage: xkv-prototest [-h HOST] [-p TCPPORT] [-U UDPPORT]\n"
	      "                     [--debugtime] [--evict] [--sleep]\n"
	      "                     [--sasl USER:PASSWORD]\n"
	      "                     [--ascii-auth USER:PASSWORD]\n"
	      "                     [--refused USER:PASSWORD] [-v]\n"
	      "  -h HOST      server IPv4 address (default 127.0.0.1)\n"
	      "  -p TCPPORT   server TCP port (default 11211)\n"
	      "  -U UDPPORT   server UDP port; UDP tests run only with it\n"
	      "  --debugtime  server supports \"debugtime <s>\": expiry tests\n"
	      "               jump its clock\n"
	      "  --sleep      expiry tests really sleep (stock memcached)\n"
	      "  --evict      server runs with a tiny -m: eviction tests\n"
	      "  --sasl U:P   server runs with -S (binary SASL only): run\n"
	      "               only the SASL tests, as user U, password P\n"
	      "  --ascii-auth U:P  server runs with -Y (ASCII tokens): run\n"
	      "               only the auth tests, as user U, password P\n"
	      "  --refused U:P  with --sasl or --ascii-auth: the server must\n"
	      "               refuse U:P (a user a reload took away)\n"
	      "  -v           show all traffic as TAP comments\n", f);
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

static int parse_host(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	pt_opts.host = s;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "debugtime", no_argument, NULL, 'D' },
		{ "evict", no_argument, NULL, 'E' },
		{ "sleep", no_argument, NULL, 'S' },
		{ "sasl", required_argument, NULL, 'A' },
		{ "ascii-auth", required_argument, NULL, 'Y' },
		{ "refused", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	for (;;) {
		ch = getopt_long(argc, argv, "h:p:U:v", longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'h':
			if (parse_host(optarg))
				return -1;
			break;
		case 'p':
			if (parse_port(optarg, &pt_opts.tcp_port))
				return -1;
			break;
		case 'U':
			if (parse_port(optarg, &pt_opts.udp_port))
				return -1;
			break;
		case 'v':
			pt_opts.verbose = true;
			break;
		case 'D':
			pt_opts.debugtime = true;
			break;
		case 'E':
			pt_opts.evict = true;
			break;
		case 'S':
			pt_opts.sleep = true;
			break;
		case 'A':
			if (!strchr(optarg, ':'))
				return -1;
			pt_opts.sasl = optarg;
			break;
		case 'Y':
			if (!strchr(optarg, ':'))
				return -1;
			pt_opts.ascii_auth = optarg;
			break;
		case 'R':
			if (!strchr(optarg, ':'))
				return -1;
			pt_opts.refused = optarg;
			break;
		case 'H':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

/* Why a test cannot run with these options, or NULL when it can. */
static const char *missing_need(unsigned int needs)
{
	if ((needs & PT_NEED_UDP) && !pt_opts.udp_port)
		return "UDP tests need -U";
	if ((needs & PT_NEED_EVICT) && !pt_opts.evict)
		return "eviction tests need --evict";
	if ((needs & PT_NEED_TIME) && !pt_opts.debugtime && !pt_opts.sleep)
		return "time must pass: needs --debugtime or --sleep";
	if ((needs & PT_NEED_SASL) && !pt_opts.sasl)
		return "SASL tests need --sasl";
	if (!(needs & PT_NEED_SASL) && pt_opts.sasl)
		return "the server wants SASL (--sasl)";
	if ((needs & PT_NEED_ASCII) && !pt_opts.ascii_auth)
		return "ASCII authentication tests need --ascii-auth";
	if (!(needs & PT_NEED_ASCII) && pt_opts.ascii_auth)
		return "the server wants ASCII tokens (--ascii-auth)";
	if ((needs & PT_NEED_REFUSED) && !pt_opts.refused)
		return "needs --refused";
	return NULL;
}

/*
 * A server that has stopped answering would cost a timeout per test: after
 * DEAD_AFTER failed tests in a row that each ran into a timeout, the rest
 * fail at once.
 */
#define DEAD_AFTER	3

static unsigned int slow_failures;

static void run_test(const struct pt_test *t)
{
	const char *skip = missing_need(t->needs);
	uint64_t start = pt_now_ms();
	struct conn c;
	int err;

	if (skip) {
		tap_skip(t->name, skip);
		return;
	}
	tap_begin(t->name);
	if (slow_failures >= DEAD_AFTER) {
		tap_fail("not run: the server stopped answering");
		tap_end();
		return;
	}
	err = conn_open(&c);
	if (err)
		tap_fail("cannot connect to %s:%u: %s", pt_opts.host,
			 pt_opts.tcp_port, strerror(-err));
	else
		t->fn(&c);
	conn_close(&c);
	if (!tap_failed())
		slow_failures = 0;
	else if (pt_now_ms() - start >= PT_TIMEOUT_MS)
		slow_failures++;
	tap_end();
}

/**
 * main() - run every group in order and print TAP
 * @argc: argument count
 * @argv: arguments
 *
 * Return: 0 when all tests passed, 1 when one failed, 2 on bad usage.
 */
int main(int argc, char **argv)
{
	size_t g, i;

	if (parse_args(argc, argv)) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pt_set_run_id();
	printf("# xkv-prototest against %s tcp %u udp %u%s%s%s\n",
	       pt_opts.host, pt_opts.tcp_port, pt_opts.udp_port,
	       pt_opts.debugtime ? " debugtime" : "",
	       pt_opts.sleep ? " sleep" : "", pt_opts.evict ? " evict" : "");
	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		if (pt_opts.verbose)
			printf("# group %s\n", groups[g]->name);
		for (i = 0; i < groups[g]->count; i++)
			run_test(&groups[g]->tests[i]);
	}
	return tap_finish();
}
