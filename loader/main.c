// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - xkv, the loader CLI: pick the subcommand and run it.
 *
 *   xkv up [IFACE]          XDP hot tier + backend (default lo)
 *   xkv down [IFACE]        undo up
 *   xkv attach IFACE        XDP hot tier only
 *   xkv detach IFACE        undo attach
 *   xkv status [IFACE]      what runs where
 *   xkv stats [IFACE]       XDP counters (-w, -j)
 *   xkv flush [IFACE]       empty the hot cache
 *   xkv allow [IFACE] ...   source allowlist
 *   xkv tcp-fast [IFACE] on|off   the TCP fast path's answering
 *
 * Every subcommand takes -h for its own options.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "log.h"

#define XKV_LOADER_VERSION "0.1"

struct xkv_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct xkv_cmd cmds[] = {
	{ "up", xkv_cmd_up, "load and attach XDP, start the backend" },
	{ "down", xkv_cmd_down, "stop the backend, detach XDP, unpin" },
	{ "attach", xkv_cmd_attach, "load and attach XDP only" },
	{ "detach", xkv_cmd_detach, "detach XDP and unpin (no backend)" },
	{ "status", xkv_cmd_status, "show each interface xkv is up on" },
	{ "stats", xkv_cmd_stats, "print the XDP counters" },
	{ "flush", xkv_cmd_flush, "empty the hot cache" },
	{ "allow", xkv_cmd_allow, "show or change the source allowlist" },
	{ "tcp-fast", xkv_cmd_tcpfast, "turn the TCP fast path on or off" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	const struct xkv_cmd *c;

	fprintf(f,
		"Usage: xkv COMMAND [OPTION]... [ARG]...\n"
		"The memcached hot tier at the NIC driver (XDP) and its backend.\n"
		"\nCommands:\n");
	for (c = cmds; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f,
		"\n'xkv COMMAND --help' lists a command's options. Pins live in\n"
		"/sys/fs/bpf/xkv/IFACE/ (bpftool map dump pinned ... reads them),\n"
		"pid and log files in /run/xkv/.\n");
}

int main(int argc, char **argv)
{
	const struct xkv_cmd *c;

	xkv_log_set_level(XKV_LOG_INFO);
	if (argc < 2) {
		usage(stderr);
		return XKV_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return XKV_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("xkv %s\n", XKV_LOADER_VERSION);
		return XKV_EXIT_OK;
	}
	for (c = cmds; c->name; c++) {
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	}
	pr_warn("unknown command '%s'; see 'xkv --help'\n", argv[1]);
	return XKV_EXIT_USAGE;
}
